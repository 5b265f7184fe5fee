"""The article-examples tab: every examples/*.toml as a card (title, the article it comes from by its title, the
article's stated value where it prints one, lossapp's value and the verdict; an example's checked claim that the
article implies but does not print is shown as such); one click loads it into the calculator (or the confusion tab)
and computes.

The examples are read when the app is built (small TOML files) and computed once per process, on first use:
the app's warm-up after launch or the first page load (`on_load`), never while the app is being built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lossapp import render, service
from lossapp.examples import source_title
from lossapp.i18n import Message, msg, tr
from lossapp.registry import lookup
from lossapp.ui import calculator as calc_mod
from lossapp.ui import confusion_tab
from lossapp.ui.common import LATEX, Translations, esc, gr, once
from lossapp.ui.strings import t

CARD_COLUMNS = 2


@dataclass
class Card:
    example: Any
    index: int = 0  # in the examples' order (_computed)
    markdown: Any = None
    button: Any = None

    def _outcome(self) -> tuple[Any, Any, str]:
        return _computed()[self.index]

    @property
    def result(self) -> Any:
        return self._outcome()[0]

    @property
    def verdict(self) -> Any:
        return self._outcome()[1]

    @property
    def error(self) -> str:
        return self._outcome()[2]


@dataclass
class ExamplesTab:
    cards: list[Card] = field(default_factory=list)

    @property
    def load_outputs(self) -> list[Any]:
        """What on_load() fills: each card's text and button."""
        return [c for card in self.cards for c in (card.markdown, card.button)]


@once
def _examples() -> tuple[tuple[Any, ...], str]:
    """(every example, "") or ((), the reason examples/ could not be read): read once per process."""
    load, _ = service.example_source()
    try:
        return tuple(load()), ""
    except Exception as exc:  # a broken examples/ folder must not take the app down
        return (), str(exc)


@once
def _computed() -> tuple[tuple[Any, Any, str], ...]:
    """(result, verdict, error) for every example, in _examples()' order: computed once per process."""
    _, run = service.example_source()
    out = []
    for ex in _examples()[0]:
        try:
            result, verdict = run(ex)
            out.append((result, verdict, ""))
        except Exception as exc:  # e.g. a loss whose module has not landed yet
            out.append((None, None, _reason(exc)))
    return tuple(out)


def _reason(exc: Exception) -> str:
    """Why an example failed: the exception's Message (rendered in the reader's language), or its first line."""
    if len(exc.args) == 1 and isinstance(exc.args[0], Message):
        return exc.args[0]
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def load_cards() -> list[Card]:
    return [Card(ex, i) for i, ex in enumerate(_examples()[0])]


def warm_up() -> None:
    """Compute every example now (the app calls it after launch, off the request path)."""
    _computed()


def _in_language(ex: Any, key: str, lang: str) -> str:
    """The example's `key` in `lang`: its field `<key>_<lang>` (e.g. title_zh) if it has one, else `key` rendered
    (a Message from the catalogs)."""
    translated = service.example_field(ex, f"{key}_{lang}") if lang != "en" else None
    return str(translated or tr(service.example_field(ex, key, "") or "", lang))


def card_markdown(card: Card, lang: str, computed: bool = True) -> str:
    """The card's text; with computed=False, before the example has been computed (its value shown as …)."""
    ex = card.example
    source = source_title(service.example_field(ex, "source", ""), lang)
    section = service.example_field(ex, "section", "")
    stated = service.example_field(ex, "stated")
    claimed = service.example_field(ex, "claimed")
    notes = _in_language(ex, "notes", lang)
    lines = [f"#### {_in_language(ex, 'title', lang)}", "",
             f"{t('source', lang)}: <cite>{esc(source)}</cite>" + (f" · <cite>{esc(section)}</cite>" if section else "") +
             f" · `{service.example_field(ex, 'loss', '')}`", ""]
    if computed and card.error:
        lines += [f"**{t('example_failed', lang)}**: {tr(card.error, lang)}"]
        return "\n".join(lines)
    value, verdict = "…", ""
    if computed:
        value = render.value_text(card.result.value, lang) if card.result is not None else "—"
    if computed and card.verdict is not None:
        data = card.verdict.to_dict() if hasattr(card.verdict, "to_dict") else dict(card.verdict)
        found = [item["id"] for item in (data.get("conventions") or []) + (data.get("mistakes") or [])]
        verdict = f"`{data.get('verdict')}`" + (f" (`{found[0]}`)" if found else "")  # what it detected
    lines += [f"| {t('stated', lang)} | {t('lossapp_value', lang)} | {t('verdict', lang)} |", "|---|---|---|",
              f"| {stated if stated is not None else '—'} | **{value}** | {verdict or '—'} |", ""]
    if claimed is not None:
        lines += [esc(msg("examples.claimed_line", claimed=claimed).render(lang)), ""]
    if notes:
        lines += [f"<small>{notes}</small>"]
    return "\n".join(lines)


def build(tr_ui: Translations) -> ExamplesTab:
    """The cards with their titles and sources; their values arrive with on_load (nothing is computed here)."""
    lang = "en"
    tab = ExamplesTab(load_cards())
    tr_ui.keys(gr.Markdown(t("examples_intro", lang)), value="examples_intro")
    failure = _examples()[1]
    if not tab.cards:
        text = t("examples_none", lang) + (f" ({failure})" if failure else "")
        tr_ui.add(gr.Markdown(text), lambda lg: gr.update(value=t("examples_none", lg) + (f" ({failure})" if failure
                                                                                          else "")))
    for start in range(0, len(tab.cards), CARD_COLUMNS):
        with gr.Row(equal_height=False):
            for i, card in enumerate(tab.cards[start:start + CARD_COLUMNS]):
                name = service.example_field(card.example, "name", f"example-{start + i}")
                with gr.Column(variant="panel", elem_classes=["la-card"], min_width=360, elem_id=f"la-card-{name}"):
                    card.markdown = gr.Markdown(card_markdown(card, lang, computed=False), latex_delimiters=LATEX)
                    tr_ui.add(card.markdown, _card_translation(card))
                    card.button = gr.Button(t("load", lang), size="sm", variant="primary", elem_id=f"la-load-{name}")
                    tr_ui.keys(card.button, value="load")
    return tab


def on_load(tab: ExamplesTab, lang: str) -> list[Any]:
    """Each card's text with lossapp's value and verdict, and its button (off when the example failed)."""
    return [u for card in tab.cards for u in (card_markdown(card, lang), gr.update(interactive=not card.error))]


def _card_translation(card: Card) -> Any:
    return lambda lang: gr.update(value=card_markdown(card, lang))


def wire(tab: ExamplesTab, calc: calc_mod.Calculator, conf: Any, tabs: Any, lang_radio: Any) -> None:
    private = {"api_visibility": "private"}
    for card in tab.cards:
        loss = service.example_field(card.example, "loss", "")
        if lookup(loss).kind == "metric":
            _wire_confusion(card, conf, tabs, lang_radio, private)
            continue
        load = _loader(card, calc)
        loaded = card.button.click(load, [lang_radio], [tabs, calc.family, calc.loss, calc.pred, calc.target,
                                                        calc.reduction, calc.pred_file, calc.target_file, calc.claimed,
                                                        calc.random_state, *calc.control_components], **private)
        calc_mod.compute_chain(loaded.then, calc, lang_radio)


def _loader(card: Card, calc: calc_mod.Calculator) -> Any:
    ex = card.example

    def load(lang: str) -> list[Any]:
        spec = lookup(service.example_field(ex, "loss"))
        pred, target = service.example_inputs(ex)
        params = service.example_field(ex, "params", {}) or {}
        reduction = service.example_field(ex, "reduction", spec.default_reduction) or spec.default_reduction
        stated = service.example_field(ex, "stated")
        if stated is None:  # the example's claim (the article's formula's value) is what its verdict is on
            stated = service.example_field(ex, "claimed")
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

    loaded = card.button.click(load, [lang_radio], [tabs, conf.tp, conf.fp, conf.fn, conf.tn, conf.metric], **private)
    confusion_tab.compute_chain(loaded.then, conf)
