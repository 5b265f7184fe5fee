"""The article-examples tab: every examples/*.toml as a card (title, source, the article's stated value,
lossapp's value and verdict); one click loads it into the calculator (or the confusion tab) and computes."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from lossapp import render
from lossapp.i18n import tr
from lossapp.registry import lookup
from lossapp.ui import calculator as calc_mod
from lossapp.ui import service
from lossapp.ui.common import LATEX, Translations, gr
from lossapp.ui.strings import t

CARD_COLUMNS = 2


@dataclass
class Card:
    example: Any
    result: Any = None
    verdict: Any = None
    error: str = ""
    markdown: Any = None
    button: Any = None


@dataclass
class ExamplesTab:
    cards: list[Card] = field(default_factory=list)


def _title(ex: Any, lang: str) -> str:
    title_zh = service.example_field(ex, "title_zh") or ""
    return title_zh if lang == "zh" and title_zh else str(service.example_field(ex, "title", ""))


def card_markdown(card: Card, lang: str) -> str:
    ex = card.example
    source = service.example_field(ex, "source", "")
    section = service.example_field(ex, "section", "")
    stated = service.example_field(ex, "stated")
    notes = service.example_field(ex, "notes_zh" if lang == "zh" else "notes", "") or \
        service.example_field(ex, "notes", "")
    lines = [f"#### {_title(ex, lang)}", "",
             f"{t('source', lang)}: `{source}`" + (f" · {section}" if section else "") +
             f" · `{service.example_field(ex, 'loss', '')}`", ""]
    if card.error:
        lines += [f"**{t('example_failed', lang)}**: {tr(card.error, lang)}"]
        return "\n".join(lines)
    value = render.value_text(card.result.value, lang) if card.result is not None else "—"
    verdict = ""
    if card.verdict is not None:
        data = card.verdict.to_dict() if hasattr(card.verdict, "to_dict") else dict(card.verdict)
        verdict = f"`{data.get('verdict')}`"
    lines += [f"| {t('stated', lang)} | {t('lossapp_value', lang)} | {t('verdict', lang)} |", "|---|---|---|",
              f"| {stated if stated is not None else '—'} | **{value}** | {verdict or '—'} |", ""]
    if notes:
        lines += [f"<small>{notes}</small>"]
    return "\n".join(lines)


@functools.cache
def _computed() -> tuple[tuple[Any, Any, Any, str], ...]:
    """(example, result, verdict, error) for every example, computed once per process."""
    load, run = service.example_source()
    try:
        examples = load()
    except Exception as exc:  # a broken examples/ folder must not take the app down
        return (({"title": "examples/", "source": "", "loss": ""}, None, None, str(exc)),)
    out = []
    for ex in examples:
        try:
            result, verdict = run(ex)
            out.append((ex, result, verdict, ""))
        except Exception as exc:  # e.g. a loss whose module has not landed yet
            out.append((ex, None, None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
    return tuple(out)


def load_cards() -> list[Card]:
    return [Card(ex, result, verdict, error) for ex, result, verdict, error in _computed()]


def build(tr_ui: Translations) -> ExamplesTab:
    lang = "en"
    tab = ExamplesTab(load_cards())
    tr_ui.keys(gr.Markdown(t("examples_intro", lang)), value="examples_intro")
    if not tab.cards:
        tr_ui.keys(gr.Markdown(t("examples_none", lang)), value="examples_none")
    for start in range(0, len(tab.cards), CARD_COLUMNS):
        with gr.Row(equal_height=False):
            for i, card in enumerate(tab.cards[start:start + CARD_COLUMNS]):
                name = service.example_field(card.example, "name", f"example-{start + i}")
                with gr.Column(variant="panel", elem_classes=["la-card"], min_width=360, elem_id=f"la-card-{name}"):
                    card.markdown = gr.Markdown(card_markdown(card, lang), latex_delimiters=LATEX)
                    tr_ui.add(card.markdown, _card_translation(card))
                    card.button = gr.Button(t("load", lang), size="sm", variant="primary",
                                            interactive=not card.error, elem_id=f"la-load-{name}")
                    tr_ui.keys(card.button, value="load")
    return tab


def _card_translation(card: Card) -> Any:
    return lambda lang: gr.update(value=card_markdown(card, lang))


def wire(tab: ExamplesTab, calc: calc_mod.Calculator, conf: Any, tabs: Any, lang_radio: Any) -> None:
    private = {"api_visibility": "private"}
    for card in tab.cards:
        if card.error or card.button is None:
            continue
        loss = service.example_field(card.example, "loss", "")
        if lookup(loss).name == "confusion":
            _wire_confusion(card, conf, tabs, lang_radio, private)
            continue
        load = _loader(card, calc)
        card.button.click(load, [lang_radio], [tabs, calc.family, calc.loss, calc.pred, calc.target, calc.reduction,
                                               calc.pred_file, calc.target_file, calc.claimed, calc.random_state,
                                               *calc.control_components], **private) \
            .then(calc.extra["on_compute"], calc.extra["compute_inputs"], calc.extra["compute_outputs"], **private) \
            .then(calc_mod.write_downloads, [calc.state, lang_radio], [calc.dl_md, calc.dl_json, calc.dl_csv],
                  **private)


def _loader(card: Card, calc: calc_mod.Calculator) -> Any:
    ex = card.example

    def load(lang: str) -> list[Any]:
        spec = lookup(service.example_field(ex, "loss"))
        pred, target = service.example_inputs(ex)
        params = service.example_field(ex, "params", {}) or {}
        reduction = service.example_field(ex, "reduction", spec.default_reduction) or spec.default_reduction
        stated = service.example_field(ex, "stated")
        random = None
        sources = service.example_sources(ex)
        if sources:
            random = {"pred_text": pred, "target_text": target, "sources": sources}
        controls = []
        for c in calc.controls:
            if c.spec == spec.name:
                controls.append(gr.update(value=calc_mod.control_value(c.param, params.get(c.param.name,
                                                                                         c.param.default))))
            else:
                controls.append(gr.update())
        return [gr.Tabs(selected="calculator"), gr.update(value=spec.family),
                gr.update(choices=calc_mod.loss_choices(spec.family, lang), value=spec.name),
                pred or "", target or "", gr.update(choices=list(spec.reductions), value=reduction), None, None,
                "" if stated is None else str(stated), random, *controls]

    return load


def _wire_confusion(card: Card, conf: Any, tabs: Any, lang_radio: Any, private: dict[str, Any]) -> None:
    params = dict(service.example_field(card.example, "params", {}) or {})

    def load(lang: str) -> list[Any]:
        return [gr.Tabs(selected="confusion"), params.get("tp"), params.get("fp"), params.get("fn"), params.get("tn"),
                params.get("metric", "dice")]

    card.button.click(load, [lang_radio], [tabs, conf.tp, conf.fp, conf.fn, conf.tn, conf.metric], **private) \
        .then(conf.extra["on_counts"], conf.extra["inputs"], conf.extra["outputs"], **private)
