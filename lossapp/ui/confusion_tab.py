"""The confusion-matrix tab: TP/FP/FN/TN in (article 003's 20/5/10/65 pre-filled), or counted from a
prediction and a target mask with a threshold; the 2×2 matrix drawn; every metric as a step; the
Dice = F1 identity with the numbers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lossapp import render, service
from lossapp.i18n import tr
from lossapp.inputs import InputError
from lossapp.result import Result
from lossapp.trace import fmt
from lossapp.ui.common import LATEX, Translations, as_gradio_errors, empty_html, esc, gr
from lossapp.ui.strings import t

ARTICLE_COUNTS = {"tp": 20, "fp": 5, "fn": 10, "tn": 65}
ROUNDED_DIGITS = 4  # the metrics table's last column: each value to this many significant digits, as a student writes it
METRICS = ("dice", "f1", "dice_loss", "precision", "recall", "iou", "accuracy", "specificity", "mcc")


@dataclass
class ConfusionTab:
    tp: Any
    fp: Any
    fn: Any
    tn: Any
    metric: Any
    claimed: Any
    compute: Any
    pred: Any
    target: Any
    threshold: Any
    from_masks: Any
    headline: Any
    matrix: Any
    metrics_table: Any
    identity: Any
    steps: Any
    state: Any
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def outputs(self) -> list[Any]:
        return [self.headline, self.matrix, self.metrics_table, self.identity, self.steps]


def matrix_html(counts: dict[str, Any], lang: str) -> str:
    def cell(key: str) -> str:
        value = counts.get(key)
        shown = "—" if value is None else f"{int(value):,}"
        return f'<td class="cell {key}" id="la-cm-{key}">{esc(shown)}<small>{key.upper()}</small></td>'

    return (f'<table class="la-matrix"><caption>{esc(t("matrix", lang))}</caption>'
            f'<tr><th></th><th>{esc(t("predicted_pos", lang))}</th><th>{esc(t("predicted_neg", lang))}</th></tr>'
            f'<tr><th>{esc(t("actual_pos", lang))}</th>{cell("tp")}{cell("fn")}</tr>'
            f'<tr><th>{esc(t("actual_neg", lang))}</th>{cell("fp")}{cell("tn")}</tr></table>')


def metrics_frame(result: Result | None, lang: str) -> pd.DataFrame:
    """The metrics table (its column headings alone when there is no result)."""
    metrics = result.extra.get("metrics", {}) if result is not None else {}
    rows = []
    for name, value in metrics.items():
        rows.append([name, "—" if value is None else render.plain_number(value),
                     "—" if value is None else render.plain_number(value, ROUNDED_DIGITS)])
    columns = [t("col_metric", lang), t("col_value", lang), t("col_rounded", lang, digits=ROUNDED_DIGITS)]
    return pd.DataFrame(rows, columns=columns)


def identity_markdown(result: Result, lang: str) -> str:
    """Dice = F1 written out with the numbers (the F1 step of lossapp.confusion)."""
    try:
        step = result.step("F1")
    except KeyError:
        return ""
    subs = step.substituted() or []
    body = f"$${step.formula}$$"
    if subs:
        body += f"\n\n$$F_1 = {subs[0]}$$"
    note = f"\n\n*{tr(step.note, lang)}*" if step.note else ""
    return f"**{t('identity', lang)}**\n\n{body}{note}"


def headline(result: Result, lang: str, verdict: Any = None) -> str:
    metrics = result.extra.get("metrics", {})
    dice = metrics.get("dice")
    parts = [f'<div class="la-headline" id="la-dice-f1">Dice = F1 = {esc(fmt(dice) if dice is not None else "—")}</div>']
    metric = result.extra.get("metric", "dice")
    parts.append(f'<div class="la-caption">{esc(metric)} = <b>{esc(render.value_text(result.value, lang))}</b> · '
                 f'{esc(render.badge_text(result, lang))}</div>')
    if verdict is not None:
        data = verdict.to_dict() if hasattr(verdict, "to_dict") else dict(verdict)
        parts.append(f'<div class="la-verdict">{esc(data.get("claimed_text") or data.get("claimed"))} → '
                     f'<code>{esc(data.get("verdict"))}</code> {esc(render.verdict_explanation(verdict, lang))}</div>')
    return '<div class="la-result">' + "".join(parts) + "</div>"


def failed_headline(state: dict[str, Any], lang: str) -> str:
    """The result area after a failed computation: no result, and why (the input's message) when it is known."""
    error = state.get("error")
    why = f'<div class="la-result-error" role="alert">{esc(tr(error, lang))}</div>' if error else ""
    return empty_html(t("compute_failed", lang)) + why


def render_outputs(state: dict[str, Any] | None, lang: str) -> list[Any]:
    """[headline, matrix, metrics table, identity, steps] of the stored computation (also on language change)."""
    if not state or state.get("result") is None:
        head = failed_headline(state, lang) if state and state.get("failed") else empty_html(t("conf_intro", lang))
        return [head, matrix_html({}, lang), metrics_frame(None, lang), "", ""]
    result: Result = state["result"]
    verdict = state.get("verdict")
    counts = result.extra.get("counts", {})
    return [headline(result, lang, verdict), matrix_html(counts, lang), metrics_frame(result, lang),
            identity_markdown(result, lang), render.to_markdown(result, lang, verdict=verdict, title=False)]


def build(tr_ui: Translations) -> ConfusionTab:
    lang = "en"
    tr_ui.keys(gr.Markdown(t("conf_intro", lang)), value="conf_intro")
    try:  # article 003's counts, computed up front so the tab opens with the answer
        initial: dict[str, Any] | None = {"result": service.confusion(**ARTICLE_COUNTS), "verdict": None}
    except Exception:  # lossapp.confusion missing or broken: the tab still opens
        initial = None
    first = render_outputs(initial, lang)
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=340):
            with gr.Row():
                tp = tr_ui.keys(gr.Number(ARTICLE_COUNTS["tp"], label=t("tp", lang),
                                          elem_id="la-tp"), label="tp")
                fp = tr_ui.keys(gr.Number(ARTICLE_COUNTS["fp"], label=t("fp", lang),
                                          elem_id="la-fp"), label="fp")
            with gr.Row():
                fn = tr_ui.keys(gr.Number(ARTICLE_COUNTS["fn"], label=t("fn", lang),
                                          elem_id="la-fn"), label="fn")
                tn = tr_ui.keys(gr.Number(ARTICLE_COUNTS["tn"], label=t("tn", lang),
                                          elem_id="la-tn"), label="tn")
            metric = tr_ui.keys(gr.Dropdown(list(METRICS), value="dice", label=t("metric", lang), elem_id="la-conf-metric"),
                                label="metric")
            claimed = gr.Textbox(label=t("claimed", lang), lines=1, info=t("claimed_info", lang), elem_id="la-conf-claimed")
            tr_ui.add(claimed, lambda lg: gr.update(label=t("claimed", lg), info=t("claimed_info", lg)))
            compute = tr_ui.keys(gr.Button(t("conf_compute", lang), variant="primary", elem_id="la-conf-compute"),
                                 value="conf_compute")
            with gr.Accordion(t("from_masks", lang), open=False, elem_id="la-conf-masks") as masks_box:
                tr_ui.keys(masks_box, label="from_masks")
                pred = tr_ui.keys(gr.Textbox(label=t("pred_mask", lang), lines=2,
                                             placeholder="[0.9, 0.2, 0.7, 0.4, 0.6]", elem_id="la-conf-pred"),
                                    label="pred_mask")
                target = tr_ui.keys(gr.Textbox(label=t("target_mask", lang), lines=2, placeholder="[1, 0, 1, 1, 0]",
                                               elem_id="la-conf-target"),
                                    label="target_mask")
                threshold = tr_ui.keys(gr.Slider(0.0, 1.0, value=0.5, step=0.01, label=t("threshold", lang)),
                                       label="threshold")
                from_masks = tr_ui.keys(gr.Button(t("use_masks", lang), elem_id="la-conf-from-masks"), value="use_masks")
        with gr.Column(scale=3, min_width=420):
            head = gr.HTML(first[0], elem_id="la-conf-headline")
            matrix = gr.HTML(first[1], elem_id="la-conf-matrix")
            metrics_table = gr.Dataframe(value=first[2], interactive=False, elem_id="la-conf-metrics", max_height=480,
                                         wrap=True)
            identity = gr.Markdown(first[3], latex_delimiters=LATEX, elem_id="la-conf-identity")
            with gr.Accordion(t("metrics", lang), open=False) as steps_box:
                tr_ui.keys(steps_box, label="metrics")
                steps = gr.Markdown(first[4], latex_delimiters=LATEX, elem_id="la-conf-steps")
    state = gr.State(initial)
    return ConfusionTab(tp, fp, fn, tn, metric, claimed, compute, pred, target, threshold, from_masks, head, matrix,
                        metrics_table, identity, steps, state)


def counts_state(tp: Any, fp: Any, fn: Any, tn: Any, metric: str, claimed: str) -> dict[str, Any]:
    """The metrics of the counts and the verdict on the claim: the tab's state."""
    result = service.confusion(tp, fp, fn, tn, metric)
    return {"result": result, "verdict": service.check(result, claimed)}


def masks_state(pred: str, target: str, threshold: float, metric: str) -> dict[str, Any]:
    """The counts and metrics of a prediction and a target mask: the tab's state."""
    return {"result": service.confusion_masks(pred, target, threshold, metric), "verdict": None}


def failed_state(compute: Callable[..., dict[str, Any]], *inputs: Any) -> dict[str, Any]:
    """The state after `compute(*inputs)` failed: no result (the previous one belonged to other inputs) and the
    input's message, found by running it again (the counts and masks compute in a moment)."""
    try:
        compute(*inputs)
    except InputError as error:
        return {"result": None, "failed": True, "error": error.message}
    except Exception:  # an internal error: its toast says so
        return {"result": None, "failed": True, "error": None}
    return {"result": None, "failed": True, "error": None}


def compute_chain(listener: Any, tab: ConfusionTab) -> Any:
    """Compute the counts from `listener` (the Compute button, a shared link, an article example); when that fails,
    the previous result is cleared and the result area says why."""
    private = {"api_visibility": "private"}
    event = listener(tab.extra["on_counts"], tab.extra["inputs"], tab.extra["outputs"], **private)
    event.failure(tab.extra["on_counts_failed"], tab.extra["inputs"], tab.extra["outputs"], **private, queue=False)
    return event


def wire(tab: ConfusionTab, lang_radio: Any) -> None:
    private = {"api_visibility": "private"}

    def on_counts(lang: str, tp: Any, fp: Any, fn: Any, tn: Any, metric: str, claimed: str) -> list[Any]:
        with as_gradio_errors(lang, "the confusion counts"):
            state = counts_state(tp, fp, fn, tn, metric, claimed)
        return [state, *render_outputs(state, lang)]

    def on_counts_failed(lang: str, *inputs: Any) -> list[Any]:
        state = failed_state(counts_state, *inputs)
        return [state, *render_outputs(state, lang)]

    tab.extra["on_counts"] = on_counts
    tab.extra["on_counts_failed"] = on_counts_failed
    tab.extra["inputs"] = [lang_radio, tab.tp, tab.fp, tab.fn, tab.tn, tab.metric, tab.claimed]
    tab.extra["outputs"] = [tab.state, *tab.outputs]
    compute_chain(tab.compute.click, tab)

    def on_masks(lang: str, pred: str, target: str, threshold: float, metric: str) -> list[Any]:
        with as_gradio_errors(lang, "the confusion masks"):
            state = masks_state(pred, target, threshold, metric)
        counts = state["result"].extra.get("counts", {})
        return [state, *render_outputs(state, lang), counts.get("tp"), counts.get("fp"), counts.get("fn"),
                counts.get("tn")]

    def on_masks_failed(lang: str, *inputs: Any) -> list[Any]:
        state = failed_state(masks_state, *inputs)
        return [state, *render_outputs(state, lang)]

    tab.extra["on_masks"] = on_masks
    masks_inputs = [lang_radio, tab.pred, tab.target, tab.threshold, tab.metric]
    tab.from_masks.click(on_masks, masks_inputs, [tab.state, *tab.outputs, tab.tp, tab.fp, tab.fn, tab.tn], **private) \
        .failure(on_masks_failed, masks_inputs, [tab.state, *tab.outputs], **private, queue=False)
