"""The "Check my answer" tab: a loss, pred / target, the reduction and a claimed answer in (article 002's
BCE case, claimed 0.9264, is filled in); out come a verdict card coloured by verdict (exact, rounding,
convention, mistake, incorrect) with the explanation, the claim's decimals, the interval the loss can take
with the inputs rounded as written and the known mistakes / conventions that reproduce the claim; the
value under each library's convention (no claim needed); and the worked solution.

Below it, batch grading: upload a class's answers CSV (id, loss, pred, target, params, claimed
[, reduction]) and get every row's verdict with a progress bar, the table, a summary chart and the
verdicts as a CSV download. A malformed row is an "error" verdict and never stops the batch.

Everything is computed by the library (`lossapp.check`, `lossapp.conventions`, `lossapp.grade`, which also
checks an uploaded CSV); this module wires components to it and fills the HTML templates of
lossapp/ui/templates/ (check_card.html, grade_summary.html and check_tab.css).
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lossapp import render, service
from lossapp.conventions import table_for_result
from lossapp.grade import grade_csv, read_upload, summary
from lossapp.i18n import tr
from lossapp.inputs import InputError
from lossapp.registry import LossSpec, lookup
from lossapp.result import Result
from lossapp.spreadsheet import write_csv
from lossapp.ui import calculator, started
from lossapp.ui.common import LATEX, Translations, as_gradio_errors, data_table_html, gr, once
from lossapp.ui.concurrency import compute_events, grade_events
from lossapp.ui.downloads import DOWNLOADS
from lossapp.ui.strings import has, t
from lossapp.ui.templates import css, render_template
from lossapp.verdicts import VERDICTS, Verdict, parse_claim, rounds_to

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CSV = ROOT / "examples" / "answers_sample.csv"
ARTICLE_CASE = {"loss": "bce", "pred": "[0.2947, 0.5898, 0.4863]", "target": "[1, 0, 0]", "claimed": "0.9264"}
PRESET = {"preset": "article-002"}  # the initial state: article_state()
MAX_UPLOAD_BYTES = 2_000_000  # an answers CSV uploaded in the app (the CLI grades larger files)
MAX_UPLOAD_ROWS = 2_000       # answer rows per upload: about a minute of grading on 2 cores
GRADE_COLUMNS = ("id", "loss", "verdict", "value", "claimed", "mistakes", "conventions", "explanation")

# (text colour, background, accent, mark) of each verdict; "none" is a result without a claim
VERDICT_STYLE: dict[str, tuple[str, str, str, str]] = {
    "exact": ("#14532d", "#dcfce7", "#16a34a", "✓"),
    "rounding": ("#134e4a", "#ccfbf1", "#0d9488", "≈"),
    "convention": ("#1e3a8a", "#dbeafe", "#2563eb", "⇄"),
    "mistake": ("#7c2d12", "#ffedd5", "#ea580c", "!"),
    "incorrect": ("#7f1d1d", "#fee2e2", "#dc2626", "✗"),
    "error": ("#1e293b", "#e2e8f0", "#64748b", "?"),
    "none": ("#1e293b", "#e2e8f0", "#64748b", "•"),
}
VERDICT_ORDER = (*VERDICTS, "error")

# the tab's texts are the ui.chk_*, ui.v_*, ui.g_*, ui.col_*, ui.grade_* and ui.gcol_* messages of the catalogs

CARD_CSS = css("check_tab.css")


# -- helpers --------------------------------------------------------------------------------------------


def verdict_word(verdict: str, lang: str) -> str:
    key = f"v_{verdict}"
    return t(key, lang) if has(key) else verdict


def _style_vars(verdict: str) -> str:
    fg, bg, accent, _ = VERDICT_STYLE.get(verdict, VERDICT_STYLE["none"])
    return f"--chk-fg: {fg}; --chk-bg: {bg}; --chk-accent: {accent};"


def _num(x: Any, digits: int = 10) -> str:
    if x is None:
        return "—"
    return render.plain_number(float(x), digits)


def _interval_digits(decimals: int) -> int:
    return max(6, decimals + 2)


def _verdict_data(verdict: Verdict | dict[str, Any]) -> dict[str, Any]:
    return verdict.to_dict() if hasattr(verdict, "to_dict") else dict(verdict)


def _localized(data: dict[str, Any], key: str, lang: str) -> str:
    """data[key] in `lang`: its `<key>_<lang>` field when there is one, else rendered (a Message from its catalog)."""
    if data.get(f"{key}_{lang}"):
        return str(data[f"{key}_{lang}"])
    value = data.get(key) or ""
    return tr(value if isinstance(value, str) else str(value), lang)


def _number_line(data: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """The interval, the claim's rounding band and the true value on one axis (a picture of the verdict), as
    positions in % of the axis; None when there is nothing to draw."""
    interval = data.get("interval")
    claimed, value, decimals = data.get("claimed"), data.get("value"), data.get("decimals") or 0
    if not interval or claimed is None or value is None:
        return None
    lo, hi = float(interval[0]), float(interval[1])
    half = 0.5 * 10.0 ** (-int(decimals))
    c_lo, c_hi = float(claimed) - half, float(claimed) + half
    points = [lo, hi, c_lo, c_hi, float(value)]
    if not all(math.isfinite(p) for p in points):
        return None
    left, right = min(points), max(points)
    span = right - left
    if span <= 0:
        return None
    left, right = left - 0.06 * span, right + 0.06 * span
    width = right - left

    def pos(x: float) -> float:
        return 100.0 * (x - left) / width

    return {"lo": _num(lo), "hi": _num(hi), "range_left": pos(lo), "range_width": pos(hi) - pos(lo),
            "band_left": pos(c_lo), "band_width": pos(c_hi) - pos(c_lo), "true": pos(float(value)),
            "legend_interval": t("chk_legend_interval", lang), "legend_claim": t("chk_legend_claim", lang),
            "legend_true": t("chk_legend_true", lang)}


def _matches(data: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """The conventions and mistakes that reproduce the claim, with their values (and their range over the inputs'
    rounding box where that is what reproduces it), then those listed only as possible explanations of a claim of
    too few digits; None when there are none."""
    rows = [("convention", c) for c in data.get("conventions") or []] + \
        [("mistake", m) for m in data.get("mistakes") or []] + [("possible", p) for p in data.get("possible") or []]
    if not rows:
        return None
    body = []
    for kind, item in rows:
        title = _localized(item, "title", lang)
        if kind == "convention" and item.get("library"):
            library = _localized(item, "library", lang)
            if not title.startswith(library):
                title = f"{library}: {title}"
        over_box = ""
        if item.get("interval"):
            lo, hi = item["interval"]
            over_box = t("chk_value_over_box", lang, lo=_num(lo, 6), hi=_num(hi, 6))
        body.append({"kind": t("chk_kind_" + kind, lang), "id": str(item.get("id")), "title": title,
                     "value": _num(item.get("value")), "over_box": over_box, "step": item.get("step") or "—"})
    heads = [t("chk_kind", lang), "id", t("chk_computation", lang), t("col_value", lang), t("chk_departs", lang)]
    return {"title": t("chk_matches", lang), "heads": heads, "rows": body}


def _decimals_text(key: str, lang: str, d: int, **fmt: Any) -> str:
    """'written to 4 decimals', '... 1 decimal', '... a whole number' (key chk_decimals or chk_rounded)."""
    return t(f"{key}_{d}", lang, **fmt) if d in (0, 1) else t(key, lang, d=d, **fmt)


def _stat(key: str, value: str, sub: str, elem_id: str) -> dict[str, str]:
    return {"key": key, "value": value, "sub": sub, "elem_id": elem_id}


def _foot(result: Result | None, lang: str) -> dict[str, str] | None:
    if result is None:
        return None
    return {"caption": calculator.result_caption(result, lang), "badge": render.badge_text(result, lang)}


def card_html(verdict: Verdict | dict[str, Any] | None, lang: str, result: Result | None = None, run: str = "") -> str:
    """The verdict card: the verdict word coloured by verdict, the claim and its decimals, the true value,
    the interval over the inputs' rounding box, the explanation and the reproducing variants. `run` (one per
    Check) makes each answer a new card in the browser even when it reads the same as the last one."""
    if verdict is None:
        if result is None:
            card = {"kind": "empty", "run": run, "style": _style_vars("none"), "text": t("chk_nothing", lang)}
        else:
            card = {"kind": "value", "run": run, "style": _style_vars("none"),
                    "value": render.value_text(result.value, lang), "gloss": t("chk_no_claim", lang),
                    "foot": _foot(result, lang)}
        return render_template("check_card.html", card=card)
    data = _verdict_data(verdict)
    if data.get("elements"):
        return render_template("check_card.html", card=_elements_card(data, lang, result, run))
    name = str(data.get("verdict"))
    gloss = t(f"g_{name}", lang) if has(f"g_{name}") else ""
    decimals = int(data.get("decimals") or 0)
    claimed = data.get("claimed_text") or _num(data.get("claimed"))
    value = data.get("value")
    rounded = data.get("rounded") or ""
    interval = data.get("interval")
    if interval:
        digits = _interval_digits(decimals)
        shown = f"[{_num(interval[0], digits)}, {_num(interval[1], digits)}]"
        sub = t("chk_interval_sub", lang)
    else:
        shown = t("chk_interval_none", lang)
        note = str(data.get("interval_note") or "")
        sub = tr(note, lang) if note else t("chk_interval_sub", lang)
    stats = [
        _stat(t("chk_claimed_word", lang), str(claimed), _decimals_text("chk_decimals", lang, decimals),
              "la-check-claimed-value"),
        _stat(t("chk_true_value", lang), _num(value), _decimals_text("chk_rounded", lang, decimals, rounded=rounded)
              if rounded else "", "la-check-value"),
        _stat(t("chk_interval", lang), shown, sub, "la-check-interval"),
    ]
    card = {"kind": "verdict", "run": run, "style": _style_vars(name), "verdict": name,
            "mark": VERDICT_STYLE.get(name, VERDICT_STYLE["none"])[3], "word": verdict_word(name, lang),
            "gloss": gloss, "stats": stats, "line": _number_line(data, lang),
            "explanation": _localized(data, "explanation", lang), "matches": _matches(data, lang), "elements": None,
            "foot": _foot(result, lang)}
    return render_template("check_card.html", card=card)


def _elements_card(data: dict[str, Any], lang: str, result: Result | None, run: str) -> dict[str, Any]:
    """The card of a claim per element (reduction none): the overall verdict, then a row per element with its
    claim, true value, verdict (coloured) and explanation."""
    name = str(data.get("verdict"))
    shape = tuple(data.get("shape") or ())
    rows = []
    for i, element in enumerate(data["elements"]):
        verdict = str(element.get("verdict"))
        index = str(tuple(int(j) for j in np.unravel_index(i, shape))) if len(shape) > 1 else str(i)
        rows.append({"index": index, "claimed": element.get("claimed_text") or _num(element.get("claimed")),
                     "value": _num(element.get("value")), "verdict": verdict, "style": _style_vars(verdict),
                     "mark": VERDICT_STYLE.get(verdict, VERDICT_STYLE["none"])[3], "word": verdict_word(verdict, lang),
                     "explanation": _localized(element, "explanation", lang)})
    values = ", ".join(_num(v, 6) for v in data.get("value") or [])
    stats = [_stat(t("chk_claimed_word", lang), str(data.get("claimed_text") or ""),
                   t("chk_per_element", lang, n=len(rows)), "la-check-claimed-value"),
             _stat(t("chk_true_value", lang), f"[{values}]", t("chk_per_element", lang, n=len(rows)), "la-check-value")]
    return {"kind": "verdict", "run": run, "style": _style_vars(name), "verdict": name,
            "mark": VERDICT_STYLE.get(name, VERDICT_STYLE["none"])[3], "word": verdict_word(name, lang),
            "gloss": t(f"g_{name}", lang) if has(f"g_{name}") else "", "stats": stats, "line": None,
            "explanation": _localized(data, "explanation", lang), "matches": _matches(data, lang),
            "elements": {"title": t("chk_elements", lang), "rows": rows,
                         "heads": [t("chk_element", lang), t("chk_claimed_word", lang), t("chk_true_value", lang),
                                   t("verdict", lang), t("chk_why", lang)]},
            "foot": _foot(result, lang)}


def conventions_frame(rows: list[dict[str, Any]] | None, lang: str, verdict: Any = None) -> pd.DataFrame:
    """The value under each library's convention; ✓ where it reproduces the claim."""
    columns = [t("col_library", lang), t("col_convention", lang), t("col_value", lang), t("col_difference", lang),
               t("col_reproduces", lang)]
    claim = None
    if verdict is not None:
        data = _verdict_data(verdict)
        try:
            claim = parse_claim(data.get("claimed_text") or data.get("claimed"))
        except InputError:
            claim = None
    out = []
    for row in rows or []:
        value = row.get("value")
        diff = row.get("difference")
        hit = claim is not None and value is not None and rounds_to(float(value), claim)
        out.append([_localized(row, "library", lang), _localized(row, "title", lang), _num(value),
                    "—" if diff is None else ("0" if diff == 0 else f"{float(diff):+.3g}"),
                    "✓" if hit else ""])
    return pd.DataFrame(out, columns=columns)


def conventions_html(frame: pd.DataFrame) -> str:
    """The conventions table for reading: every column in view on a desktop, sideways scroll on a phone."""
    return data_table_html(list(frame.columns), frame.values.tolist(), "la-check-conventions")


def warnings_markdown(result: Result, lang: str) -> str:
    if not result.warnings:
        return ""
    return f"**⚠ {t('chk_warnings', lang)}**\n\n" + "\n".join(f"- {tr(w, lang)}" for w in result.warnings)


def render_outputs(state: dict[str, Any] | None, lang: str) -> list[Any]:
    """[card, warnings, conventions table, worked solution] from the stored check (also on language change)."""
    state = resolve(state)
    if not state or state.get("result") is None:
        return [card_html(None, lang), "", "", ""]
    result: Result = state["result"]
    verdict = state.get("verdict")
    return [card_html(verdict, lang, result, state.get("run", "")), warnings_markdown(result, lang),
            conventions_html(conventions_frame(state.get("conventions"), lang, verdict)),
            render.to_markdown(result, lang)]


def run_check(loss: str, pred: Any, target: Any, params: dict[str, Any], reduction: str | None, claimed: Any,
              device: str | None = "cpu", dtype: str | None = "float32") -> dict[str, Any]:
    """Compute, judge the claim (when one is given) and tabulate the conventions: the tab's state."""
    spec = lookup(loss)
    if spec.target_kind is None:
        target = None
    result = service.compute(spec.name, pred, target, params, reduction, device, dtype)
    verdict = service.check(result, claimed)
    try:
        conventions = table_for_result(result)
    except (InputError, ValueError, RuntimeError, TypeError):
        conventions = []
    return {"result": result, "verdict": verdict, "conventions": conventions}


# -- batch grading ----------------------------------------------------------------------------------------


def read_answers(path: str | Path) -> str:
    """An uploaded answers CSV as text, within the app's limits (lossapp.grade.read_upload)."""
    return read_upload(path, max_bytes=MAX_UPLOAD_BYTES, max_rows=MAX_UPLOAD_ROWS)


def grade_frame(df: pd.DataFrame | None, lang: str) -> pd.DataFrame | None:
    """The graded rows for display: localized headers and verdict words, the explanation in `lang`."""
    if df is None:
        return None
    out = pd.DataFrame({
        t("gcol_id", lang): df["id"].astype(str),
        t("gcol_loss", lang): df["loss"].astype(str),
        t("gcol_verdict", lang): [verdict_word(str(v), lang) for v in df["verdict"]],
        t("gcol_value", lang): ["" if v is None or (isinstance(v, float) and math.isnan(v)) else _num(v, 8)
                                for v in df["value"]],
        t("gcol_claimed", lang): df["claimed"].astype(str),
        t("gcol_mistakes", lang): df["mistakes"].fillna("").astype(str),
        t("gcol_conventions", lang): df["conventions"].fillna("").astype(str),
        t("gcol_explanation", lang): df[f"explanation_{lang}" if f"explanation_{lang}" in df else "explanation"].fillna("").astype(str),
    })
    return out


def summary_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Verdict counts for the bar chart, in the verdicts' order. The bars are named by the fixed verdict ids
    (DESIGN.md section 6) in both languages; the chips above the chart give the words in the chosen one."""
    counts = summary(df)
    return pd.DataFrame({"verdict": [str(v) for v in counts["verdict"]], "count": counts["count"].astype(int)})


def summary_html(df: pd.DataFrame | None, lang: str) -> str:
    """How many answers were graded, with a chip per verdict that occurs (a hint to upload when none were)."""
    if df is None:
        return render_template("grade_summary.html", summary=None, empty=t("grade_none", lang))
    counts = summary(df)
    chips = []
    for verdict, count in zip(counts["verdict"], counts["count"], strict=True):
        if not count:
            continue
        fg, bg, accent, _ = VERDICT_STYLE[verdict]
        chips.append({"verdict": verdict, "fg": fg, "bg": bg, "accent": accent, "count": int(count),
                      "word": verdict_word(verdict, lang)})
    text = t("grade_summary", lang, n=len(df), counts=" · ".join(
        f"{int(c)} {verdict_word(v, lang)}" for v, c in zip(counts["verdict"], counts["count"], strict=True) if c))
    head = t("grade_summary", lang, n=len(df), counts="")
    return render_template("grade_summary.html", summary={"title": text, "head": head, "chips": chips})


def chart_update(df: pd.DataFrame | None, lang: str) -> Any:
    if df is None:
        return gr.update(value=None, visible=False)
    frame = summary_frame(df)
    top = int(frame["count"].max()) if len(frame) else 1
    return gr.update(value=frame, visible=True, y_lim=[0, max(top, 1) * 1.1], title=t("grade_chart", lang),
                     x_title=t("grade_verdict", lang), y_title=t("grade_count", lang),
                     color_title=t("grade_verdict", lang))


def render_grade(state: dict[str, Any] | None, lang: str) -> list[Any]:
    """[summary, chart, table] from the stored grading (also on language change)."""
    if not state or state.get("df") is None:
        return [summary_html(None, lang), chart_update(None, lang), None]
    df = state["df"]
    return [summary_html(df, lang), chart_update(df, lang), grade_frame(df, lang)]


def grade_upload(path: str | Path, progress: Any = None) -> dict[str, Any]:
    """Read (size-limited), grade every row (progress(done, total) after each) and write the verdicts CSV
    (spreadsheet-safe: a hostile cell of the answers stays text; a download of lossapp.ui.downloads: removed with
    the next batch of the session, or after its time to live)."""
    text = read_answers(path)
    df = grade_csv(text, progress=progress)
    key = secrets.token_hex(8)
    out = DOWNLOADS.file(key, "verdicts.csv", lambda target: write_csv(df, target))
    return {"df": df, "path": str(out), "key": key}


def forget_grading(state: Any) -> None:
    """A grading state is replaced or gone: its verdicts CSV goes with it."""
    if isinstance(state, dict):
        DOWNLOADS.discard(state.get("key"))


# -- building the tab --------------------------------------------------------------------------------------


@dataclass
class CheckTab:
    family: Any
    loss: Any
    info: Any
    no_params: Any
    groups: dict[str, Any]
    controls: list[calculator.Control]
    pred: Any
    target: Any
    reduction: Any
    device: Any
    dtype: Any
    claimed: Any
    check: Any
    card: Any
    warnings: Any
    conventions: Any
    solution: Any
    state: Any
    grade_file: Any
    grade_button: Any
    grade_sample_button: Any
    sample: Any
    grade_summary: Any
    grade_chart: Any
    grade_table: Any
    grade_download: Any
    grade_state: Any
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def outputs(self) -> list[Any]:
        """What render_outputs() fills."""
        return [self.card, self.warnings, self.conventions, self.solution]

    @property
    def grade_outputs(self) -> list[Any]:
        """What render_grade() fills."""
        return [self.grade_summary, self.grade_chart, self.grade_table]

    @property
    def control_components(self) -> list[Any]:
        return [c.component for c in self.controls]


@once
def article_state() -> dict[str, Any] | None:
    """Article 002's case, checked once per process so the tab opens with its verdict (the session state
    holds PRESET, which points here: a Result with autograd tensors cannot be deep-copied into gr.State)."""
    try:
        return run_check(ARTICLE_CASE["loss"], ARTICLE_CASE["pred"], ARTICLE_CASE["target"], {}, "mean",
                         ARTICLE_CASE["claimed"])
    except Exception:  # the checker or the loss missing or broken: the tab still opens
        return None


def on_load(lang: str) -> list[Any]:
    """The tab's outputs for a new page: article 002's case, checked (once per process)."""
    return render_outputs(PRESET, lang)


def resolve(state: dict[str, Any] | None) -> dict[str, Any] | None:
    if state and state.get("preset") == PRESET["preset"]:
        return article_state()
    return state


def build(tr_ui: Translations) -> CheckTab:
    lang = "en"
    specs = service.calculator_specs()
    spec = next((s for s in specs if s.name == ARTICLE_CASE["loss"]), specs[0])
    initial = PRESET if spec.name == ARTICLE_CASE["loss"] else None
    first = render_outputs(None, lang)  # the preset's answer arrives with on_load: nothing is computed here
    groups: dict[str, Any] = {}
    controls: list[calculator.Control] = []
    tr_ui.keys(gr.Markdown(t("chk_intro", lang), elem_classes=["la-note"]), value="chk_intro")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=360):
            family = tr_ui.add(gr.Radio(calculator.family_choices(lang), value=spec.family, label=t("family", lang),
                                        elem_id="la-check-family"),
                               lambda lg: gr.update(choices=calculator.family_choices(lg), label=t("family", lg)))
            loss = tr_ui.add(gr.Dropdown(calculator.loss_choices(spec.family, lang), value=spec.name,
                                         label=t("loss", lang), elem_id="la-check-loss", filterable=True),
                             lambda lg: gr.update(label=t("loss", lg)))
            info = gr.Markdown(calculator.spec_info(spec, lang), latex_delimiters=LATEX, elem_id="la-check-info")
            with gr.Accordion(t("parameters", lang), open=False, elem_classes=["la-params"]) as params_box:
                tr_ui.keys(params_box, label="parameters")
                no_params = tr_ui.add(gr.Markdown(t("no_parameters", lang), visible=not spec.params),
                                      lambda lg: gr.update(value=t("no_parameters", lg)))
                for s in specs:
                    with gr.Group(visible=s.name == spec.name) as group:
                        for p in s.params:
                            component = calculator.make_control(p, lang)
                            controls.append(calculator.Control(s.name, p, component))
                            tr_ui.add(component, calculator.control_translation(p))
                    groups[s.name] = group
            pred = tr_ui.keys(gr.Textbox(value=ARTICLE_CASE["pred"], label=t("pred", lang), lines=2, max_lines=10,
                                         placeholder=calculator.placeholder(spec, "pred", lang),
                                         elem_id="la-check-pred"), label="pred")
            target = tr_ui.keys(gr.Textbox(value=ARTICLE_CASE["target"], label=t("target", lang), lines=1,
                                           max_lines=10, placeholder=calculator.placeholder(spec, "target", lang),
                                           elem_id="la-check-target", visible=spec.target_kind is not None),
                                label="target")
            with gr.Row():
                reduction = tr_ui.keys(gr.Dropdown(list(spec.reductions), value=spec.default_reduction,
                                                   label=t("reduction", lang), min_width=120,
                                                   elem_id="la-check-reduction", elem_classes=["la-dd"]),
                                       label="reduction")
                device = tr_ui.keys(gr.Dropdown(service.devices(), value="cpu", label=t("device", lang),
                                                min_width=120, elem_classes=["la-dd"]), label="device")
                dtype = tr_ui.keys(gr.Dropdown(service.dtypes(), value="float32", label=t("dtype", lang),
                                               min_width=120, elem_classes=["la-dd"]), label="dtype")
            claimed = tr_ui.keys(gr.Textbox(value=ARTICLE_CASE["claimed"], label=t("chk_claimed", lang),
                                            info=t("chk_claimed_info", lang),
                                            placeholder=t("chk_claimed_placeholder", lang), lines=1,
                                            elem_id="la-check-claimed"),
                                 label="chk_claimed", info="chk_claimed_info", placeholder="chk_claimed_placeholder")
            check = tr_ui.keys(gr.Button(t("chk_button", lang), variant="primary", size="lg",
                                         elem_id="la-check-button"), value="chk_button")
        with gr.Column(scale=3, min_width=420):
            card = gr.HTML(first[0], elem_id="la-check-result", css_template=CARD_CSS, js_on_load=None)
            warnings = gr.Markdown(first[1], elem_id="la-check-warnings")
            with gr.Accordion(t("chk_conventions", lang), open=True) as conv_box:
                tr_ui.keys(conv_box, label="chk_conventions")
                conventions = gr.HTML(first[2], elem_id="la-check-conventions")
            with gr.Accordion(t("chk_solution", lang), open=True) as solution_box:
                tr_ui.keys(solution_box, label="chk_solution")
                solution = gr.Markdown(first[3], latex_delimiters=LATEX, elem_id="la-check-solution")
    state = gr.State(initial)
    with gr.Accordion(t("grade_title", lang), open=False, elem_id="la-grade") as grade_box:
        tr_ui.keys(grade_box, label="grade_title")
        empty = render_grade(None, lang)
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=340):
                tr_ui.keys(gr.Markdown(t("grade_intro", lang), elem_classes=["la-note"]), value="grade_intro")
                grade_file = tr_ui.keys(gr.File(label=t("grade_file", lang), file_types=[".csv", ".txt"],
                                                type="filepath", elem_id="la-grade-file", height=120),
                                        label="grade_file")
                with gr.Row():
                    grade_button = tr_ui.keys(gr.Button(t("grade_button", lang), variant="primary",
                                                        elem_id="la-grade-button"), value="grade_button")
                    grade_sample_button = tr_ui.keys(gr.Button(t("grade_try_sample", lang), variant="secondary",
                                                               elem_id="la-grade-try-sample"), value="grade_try_sample")
                with gr.Row():
                    sample = tr_ui.keys(gr.DownloadButton(t("grade_sample", lang), value=str(SAMPLE_CSV) if
                                                          SAMPLE_CSV.is_file() else None, size="sm",
                                                          elem_id="la-grade-sample"), label="grade_sample")
                    grade_download = tr_ui.keys(gr.DownloadButton(t("grade_download", lang), value=None,
                                                                  interactive=False, size="sm", variant="primary",
                                                                  elem_id="la-grade-download"), label="grade_download")
            with gr.Column(scale=3, min_width=420):
                grade_summary = gr.HTML(empty[0], elem_id="la-grade-summary", css_template=CARD_CSS, js_on_load=None)
                grade_chart = gr.BarPlot(value=None, x="verdict", y="count", color="verdict", height=260,
                                         color_map={v: VERDICT_STYLE[v][2] for v in VERDICT_ORDER},
                                         sort=list(VERDICT_ORDER), tooltip=["verdict", "count"],
                                         elem_id="la-grade-chart", visible=False, show_label=False)
        # no copy button: the rows hold the answers' own text, and a pasted `=cmd|...` cell would run in a
        # spreadsheet; the verdicts CSV download is the spreadsheet-safe copy
        grade_table = gr.Dataframe(value=None, interactive=False, wrap=True, max_height=520, elem_id="la-grade-table",
                                   column_widths=["5%", "9%", "9%", "9%", "7%", "15%", "16%", "30%"],
                                   buttons=["fullscreen"])
    grade_state = gr.State(None, delete_callback=forget_grading)
    return CheckTab(family, loss, info, no_params, groups, controls, pred, target, reduction, device, dtype, claimed,
                    check, card, warnings, conventions, solution, state, grade_file, grade_button, grade_sample_button,
                    sample, grade_summary, grade_chart, grade_table, grade_download, grade_state)


# -- events ------------------------------------------------------------------------------------------------


def loss_updates(tab: CheckTab, spec: LossSpec, lang: str, reduction: str | None) -> list[Any]:
    """Updates for [info, no_params, *groups, pred, target, reduction] when the loss changes."""
    keep = reduction if reduction in spec.reductions else spec.default_reduction
    return [calculator.spec_info(spec, lang), gr.update(visible=not spec.params),
            *[gr.update(visible=name == spec.name) for name in tab.groups],
            gr.update(placeholder=calculator.placeholder(spec, "pred", lang)),
            gr.update(placeholder=calculator.placeholder(spec, "target", lang), visible=spec.target_kind is not None),
            gr.update(choices=list(spec.reductions), value=keep)]


def wire(tab: CheckTab, lang_radio: Any) -> None:
    """Connect the tab's events (all private: the public HTTP API is lossapp.ui.api's /check), including
    its re-rendering when the language changes."""
    private = {"api_visibility": "private"}
    quiet = {"api_visibility": "private", "show_progress": "hidden"}

    def on_family(lang: str, family: str) -> Any:
        choices = calculator.loss_choices(family, lang)
        return gr.update(choices=choices, value=choices[0][1] if choices else None)

    tab.family.input(on_family, [lang_radio, tab.family], [tab.loss], **private)

    loss_outputs = [tab.info, tab.no_params, *tab.groups.values(), tab.pred, tab.target, tab.reduction]

    def on_loss(lang: str, loss: str, reduction: str) -> list[Any]:
        if not loss:
            return [gr.update() for _ in loss_outputs]
        return loss_updates(tab, lookup(loss), lang, reduction)

    tab.loss.change(on_loss, [lang_radio, tab.loss, tab.reduction], loss_outputs, **private)

    def on_check(data: dict[Any, Any], request: gr.Request | None = None) -> list[Any]:
        lang = data[lang_radio]
        session = calculator.session_of(request)
        started.CHECK.start(session)
        rendered_in = None  # a failure leaves the shown answer as it was
        try:
            with as_gradio_errors(lang, "the Check button"):
                spec = lookup(data[tab.loss])
                given = {c.param.name: data[c.component] for c in tab.controls if c.spec == spec.name}
                params = service.control_values(spec, given)
                state = run_check(spec.name, data[tab.pred], data[tab.target], params, data[tab.reduction],
                                  data[tab.claimed], data[tab.device], data[tab.dtype])
            state["run"] = secrets.token_hex(4)
            shown = [state, *render_outputs(state, lang)]
            rendered_in = lang
            return shown
        finally:
            started.CHECK.finish(session, rendered_in)

    inputs = {lang_radio, tab.loss, tab.pred, tab.target, tab.reduction, tab.device, tab.dtype, tab.claimed,
              *tab.control_components}
    tab.extra["on_check"] = on_check
    def catch_up(state: Any, lg: str, request: gr.Request | None = None) -> list[Any]:
        return started.CHECK.catch_up(calculator.session_of(request), lg, lambda: render_outputs(state, lg),
                                      len(tab.outputs))

    for listener in (tab.check.click, tab.claimed.submit):
        listener(on_check, inputs, [tab.state, *tab.outputs], **private, **compute_events()) \
            .success(catch_up, [tab.state, lang_radio], tab.outputs, **private, show_progress="hidden")

    def grade(lang: str, path: Any, previous: Any, progress: gr.Progress) -> list[Any]:
        if not path:
            raise gr.Error(t("grade_no_file", lang), title=t("error_title", lang), print_exception=False)
        progress(0.0, desc=t("grade_reading", lang))

        def step(done: int, total: int) -> None:
            progress((done, total), desc=t("grade_progress", lang), unit=t("grade_unit", lang))

        with as_gradio_errors(lang, "grading an answers CSV"):
            state = grade_upload(path, step)
        forget_grading(previous)  # the last batch's verdicts CSV: replaced by this one
        return [state, *render_grade(state, lang), gr.update(value=state["path"], interactive=True)]

    def on_grade(lang: str, path: Any, previous: Any = None,
                 progress: gr.Progress = gr.Progress()) -> list[Any]:  # noqa: B008
        return grade(lang, path, previous, progress)

    def on_grade_sample(lang: str, previous: Any = None,
                        progress: gr.Progress = gr.Progress()) -> list[Any]:  # noqa: B008
        return grade(lang, str(SAMPLE_CSV), previous, progress)

    grade_outputs = [tab.grade_state, *tab.grade_outputs, tab.grade_download]
    batch = {**private, **grade_events()}  # one batch at a time, never on the computations' workers
    tab.extra["on_grade"] = on_grade
    tab.grade_button.click(on_grade, [lang_radio, tab.grade_file, tab.grade_state], grade_outputs, **batch)
    tab.grade_file.upload(on_grade, [lang_radio, tab.grade_file, tab.grade_state], grade_outputs, **batch)
    tab.grade_sample_button.click(on_grade_sample, [lang_radio, tab.grade_state], grade_outputs, **batch)

    # the language switch: labels go through the Translations object; the shown answers re-render here
    def family_and_loss(lg: str, family: str, loss: str) -> Any:
        return gr.update(choices=calculator.loss_choices(family, lg), value=loss)

    lang_radio.change(family_and_loss, [lang_radio, tab.family, tab.loss], [tab.loss], **quiet)

    def relabel(lg: str, state: Any, loss: str, request: gr.Request | None = None) -> list[Any]:
        shown = started.CHECK.unless_stale(calculator.session_of(request), lambda: render_outputs(state, lg), lg)
        return [*shown, *calculator.loss_labels(lookup(loss) if loss else None, lg)]

    lang_radio.change(relabel, [lang_radio, tab.state, tab.loss], [*tab.outputs, tab.info, tab.pred, tab.target],
                      **quiet)
    lang_radio.change(lambda lg, state: render_grade(state, lg), [lang_radio, tab.grade_state], tab.grade_outputs,
                      **quiet)
