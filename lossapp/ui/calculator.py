"""The calculator tab: pick a loss (grouped by family), its parameters (generated from the spec),
pred/target as text, a seeded random input or a file; compute; the value with the PyTorch badge, the
worked solution, the per-element table, the comparison, the plot, the snippet and the downloads.

Nothing here knows a particular loss: every control and every output comes from the registry
(`LossSpec`, `Param`) and from `Result`.
"""

from __future__ import annotations

import functools
import math
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # both loaded by gradio already

from lossapp import render, service
from lossapp.export import to_latex
from lossapp.i18n import tr
from lossapp.inputs import InputError
from lossapp.plots import AroundPlot, axis_range, loss_around, pin_markers
from lossapp.registry import INPUT_PARAM, LOSSES, LossSpec, Param, lookup
from lossapp.result import Result
from lossapp.spreadsheet import write_csv
from lossapp.ui import charts, started
from lossapp.ui.common import (
    LATEX,
    Translations,
    as_gradio_errors,
    data_table_html,
    empty_html,
    esc,
    gr,
    value_html,
)
from lossapp.ui.concurrency import compute_events
from lossapp.ui.downloads import DOWNLOADS
from lossapp.ui.strings import family_label, has, t

DEFAULT_LOSS = "bce"
CURVE_COLORS = ["#2563eb", "#16a34a", "#9333ea", "#0891b2", "#ca8a04"]
PIN_COLORS = ["#1d4ed8", "#15803d", "#7e22ce", "#0e7490", "#a16207"]  # the curve colours, darker (seen on dark too)
POINT_COLOR = "#dc2626"


def _kind(kind: str | None, lang: str) -> str:
    """The words for an input kind (ui.kind_<kind>; the kind's own name when the catalogs have none)."""
    if kind is None:
        return "—"
    return t(f"kind_{kind}", lang) if has(f"kind_{kind}") else kind


def default_spec() -> LossSpec:
    specs = service.calculator_specs()
    spec = LOSSES.get(DEFAULT_LOSS)
    return spec if spec is not None and spec in specs else specs[0]


def loss_choices(family: str, lang: str) -> list[tuple[str, str]]:
    return [(f"{tr(s.title, lang)} · {s.name}", s.name) for s in service.specs_in(family)]


def family_choices(lang: str) -> list[tuple[str, str]]:
    return [(family_label(f, lang), f) for f in service.families()]


def spec_info(spec: LossSpec, lang: str, params: dict[str, Any] | None = None) -> str:
    """The loss's title, summary, formula and what it reads pred and target as (pred as its `input` parameter in
    `params` says, where it has one)."""
    kinds = t("spec_kinds", lang, pred=_kind(spec.input_kind(params), lang), target=_kind(spec.target_kind, lang),
              reference=f"`{spec.reference_name}`")
    return f"**{tr(spec.title, lang)}** — {tr(spec.summary, lang)}\n\n$${spec.formula}$$\n\n{kinds}"


def placeholder(spec: LossSpec, which: str, lang: str) -> str:
    example = (spec.example or {}).get(which)
    if which == "target" and spec.target_kind is None:
        return t("no_target", lang)
    return t("placeholder", lang, example=example if example else "[0.2, 0.8]")


def loss_labels(spec: LossSpec | None, lang: str, params: dict[str, Any] | None = None) -> list[Any]:
    """[the loss's info, pred's placeholder, target's placeholder] in `lang` for the language switch (no loss
    chosen: an empty info, placeholders unchanged)."""
    if spec is None:
        return ["", gr.update(), gr.update()]
    return [spec_info(spec, lang, params), gr.update(placeholder=placeholder(spec, "pred", lang)),
            gr.update(placeholder=placeholder(spec, "target", lang))]


# -- parameter controls generated from Param ---------------------------------------------------------


def _slider_step(p: Param) -> float | None:
    """A step for a slider over [low, high] that hits low and the default exactly, or None (use a box)."""
    if p.low is None or p.high is None or p.default is None or isinstance(p.default, bool):
        return None
    span = float(p.high) - float(p.low)
    if not (0 < span <= 1000) or not (p.low <= p.default <= p.high):
        return None
    if p.kind == "int":
        return 1.0
    step = 10 ** math.floor(math.log10(span / 200))

    def on_grid(x: float) -> bool:
        return abs(round(x / step) * step - x) < 1e-9

    return step if on_grid(float(p.low)) and on_grid(float(p.default)) else None


def _tensor_text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "tolist"):
        return str(value.tolist())
    return str(value)


def make_control(p: Param, lang: str = "en") -> Any:
    info = tr(p.description, lang)
    label = p.name
    if p.kind == "bool":
        if p.default is None:  # unset by default: the loss decides from the input (e.g. an overlap loss's per_sample)
            return gr.Dropdown(choices=list(UNSET_BOOL_CHOICES), value="", label=label, info=info)
        return gr.Checkbox(value=bool(p.default), label=label, info=info)
    if p.kind == "choice":
        return gr.Dropdown(choices=list(p.choices), value=p.default, label=label, info=info)
    if p.kind in ("tensor", "float_or_tensor"):
        return gr.Textbox(value=_tensor_text(p.default), label=label, info=info, lines=1,
                          placeholder=t("tensor_param_placeholder", lang))
    if p.default is None:  # an optional number (off by default): a number box cannot be empty, it would send 0
        return gr.Textbox(value="", label=label, info=info, lines=1, placeholder=t("number_param_placeholder", lang))
    step = _slider_step(p)
    if step is not None:
        return gr.Slider(minimum=p.low, maximum=p.high, value=p.default, step=step, label=label, info=info)
    return gr.Number(value=p.default, label=label, info=info, minimum=p.low, maximum=p.high,
                     precision=0 if p.kind == "int" else None)


def _text_control(p: Param) -> bool:
    """Whether make_control draws `p` as a text box (tensors, and optional numbers: empty = off)."""
    return p.kind in ("tensor", "float_or_tensor") or (p.default is None and p.kind in ("float", "int"))


# the choices of a true/false parameter that is unset by default: ("—", "") leaves it to the loss
UNSET_BOOL_CHOICES = (("—", ""), ("true", "true"), ("false", "false"))


def control_value(p: Param, value: Any) -> Any:
    """A value for the control of `p` (example params come as numbers, lists or text)."""
    if _text_control(p):
        return _tensor_text(value)
    if p.kind == "bool" and p.default is None:
        return "" if value is None or value == "" else str(p.parse(value)).lower()
    return value


@dataclass
class Control:
    spec: str
    param: Param
    component: Any


@dataclass
class Calculator:
    family: Any
    loss: Any
    info: Any
    no_params: Any
    groups: dict[str, Any]
    controls: list[Control]
    pred: Any
    target: Any
    use_example: Any
    seed: Any
    shape: Any
    pred_kind: Any
    target_kind: Any
    classes: Any
    generate: Any
    random_code: Any
    pred_file: Any
    target_file: Any
    file_info: Any
    reduction: Any
    device: Any
    dtype: Any
    claimed: Any
    compute: Any
    value: Any
    warnings: Any
    solution: Any
    table: Any
    table_note: Any
    comparison: Any
    plot_loss: charts.Chart
    plot_dloss: charts.Chart
    plot_note: Any
    snippet: Any
    downloads: dict[str, Any]  # kind (DOWNLOAD_KINDS) -> its button
    dl_file: Any  # the file just written, handed to the browser (hidden)
    state: Any
    random_state: Any
    extra: dict[str, Any] = field(default_factory=dict)
    input_note: Any = None  # what switching the loss did to the inputs
    inputs_for: Any = None  # State: the loss the inputs on screen are for (switched to, or last computed)

    @property
    def control_components(self) -> list[Any]:
        return [c.component for c in self.controls]

    @property
    def outputs(self) -> list[Any]:
        """What render_outputs() fills: the headline (value, warnings), then the details."""
        return [self.value, self.warnings, *self.detail_outputs]

    @property
    def detail_outputs(self) -> list[Any]:
        """What render_details() fills (each chart: its box, title, plot and legend)."""
        return [self.solution, self.table, self.table_note, self.comparison, *self.plot_loss.parts,
                *self.plot_dloss.parts, self.plot_note, self.snippet]

    @property
    def inputs(self) -> list[Any]:
        """What on_compute() reads (after lang)."""
        return [self.loss, self.pred, self.target, self.pred_file, self.target_file, self.reduction, self.device,
                self.dtype, self.claimed, self.random_state, self.state, *self.control_components]


# -- rendering a Result ------------------------------------------------------------------------------


def _badge(result: Result, lang: str) -> tuple[str, str]:
    """The badge's text and state: "ok" only when the value and the gradient both match torch."""
    return render.badge_text(result, lang), {True: "ok", False: "bad", None: "none"}[result.agrees]


def verdict_html(verdict: Any, lang: str) -> str:
    if verdict is None:
        return ""
    data = verdict.to_dict() if hasattr(verdict, "to_dict") else dict(verdict)
    text = (f"{esc(t('chk_claimed_word', lang))} <b>{esc(data.get('claimed_text') or data.get('claimed'))}</b> → "
            f"<code>{esc(data.get('verdict'))}</code>")
    explanation = render.verdict_explanation(verdict, lang)
    if explanation:
        text += f" — {esc(explanation)}"
    return text


def result_caption(result: Result, lang: str) -> str:
    title = tr(result.spec.title, lang) if result.spec is not None else result.loss
    return f"{title} · {t('reduction', lang)}: {result.reduction}"


def big_value(result: Result, lang: str, verdict: Any = None, stamp: str = "") -> str:
    badge, state = _badge(result, lang)
    text = render.value_text(result.value, lang)
    small = result.value.dim() > 0
    return value_html(result_caption(result, lang), text, badge, state, verdict_html(verdict, lang), small=small,
                      stamp=stamp)


def comparison_frame(result: Result, lang: str) -> pd.DataFrame:
    ref = result.reference
    where = f" ({ref.device}/{ref.dtype})" if ref is not None else ""
    columns = [t("col_quantity", lang), t("col_trace", lang), t("col_builtin", lang) + where, t("col_diff", lang),
               t("col_agrees", lang)]
    return pd.DataFrame(render.comparison_rows(result, lang), columns=columns)


def comparison_html(result: Result, lang: str) -> str:
    """The comparison with PyTorch as a table for reading (a matrix-shaped gradient one row per line)."""
    frame = comparison_frame(result, lang)
    return data_table_html(list(frame.columns), frame.values.tolist(), "la-comparison")


def table_html(result: Result) -> tuple[str, int, int]:
    """(the first service.TABLE_ROWS rows of the per-element table as HTML, rows shown, rows in all): column names
    with their sub- and superscripts, lists one number per line."""
    head = result.table(service.TABLE_ROWS)
    heads = [render.symbol_parts(str(c)) for c in head.columns]
    return data_table_html(heads, head.values.tolist(), "la-table"), len(head), result.rows


def warnings_markdown(result: Result, lang: str) -> str:
    if not result.warnings:
        return ""
    return f"**⚠ {t('warnings', lang)}**\n\n" + "\n".join(f"- {tr(w, lang)}" for w in result.warnings)


def _plot_frames(plot: AroundPlot, lang: str) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Curves as lines and the user's elements as ▼ pins, for the loss and its derivative."""
    data = plot.data.copy()
    data["series"] = [tr(s, lang) for s in data["series"]]
    curves = data[data["kind"] == "curve"]
    points = data[data["kind"] == "point"]
    colors: dict[str, str] = {}
    curve_names = list(dict.fromkeys(curves["series"]))
    for i, name in enumerate(curve_names):
        colors[name] = CURVE_COLORS[i % len(CURVE_COLORS)]
    your_data = tr("your data", lang)
    for name in dict.fromkeys(points["series"]):
        # "your data, y = 1" sits on the curve "y = 1": same hue, darker; otherwise red
        owner = next((c for c in curve_names if name != your_data and name.endswith(c)), None)
        colors[name] = PIN_COLORS[curve_names.index(owner) % len(PIN_COLORS)] if owner else POINT_COLOR
    frames = []
    for column in ("loss", "dloss"):
        both = data[["x", column]].to_numpy(dtype=float)
        finite = both[~(pd.isna(both).any(axis=1))]
        finite = finite[(abs(finite) < 1e300).all(axis=1)] if len(finite) else finite
        if not len(finite):
            frames.append(pd.DataFrame({"x": [], "y": [], "series": []}))
            continue
        x_range = plot.x_limits or (float(finite[:, 0].min()), float(finite[:, 0].max()))
        lines = curves[["x", column, "series"]].rename(columns={column: "y"})
        pts = points[["x", column, "series"]].rename(columns={column: "y"}).dropna()
        y_range = axis_range(lines["y"], pts["y"])
        pins = pin_markers(pts, x_range, y_range, y="y") if len(pts) else pd.DataFrame(columns=["x", "y", "series"])
        frame = pd.concat([lines, pins], ignore_index=True)
        frame["x"] = frame["x"].astype(float)  # numeric axes even when there are no pins
        frame["y"] = frame["y"].astype(float)
        frame["series"] = frame["series"].astype(str)
        frame.attrs["y_lim"] = [y_range[0], y_range[1] + 0.06 * (y_range[1] - y_range[0])]
        frame.attrs["x_lim"] = list(plot.x_limits) if plot.x_limits else None
        frames.append(frame)
    return frames[0], frames[1], colors


def _x_title(plot: AroundPlot, lang: str) -> str:
    return {"p_t": t("x_pt", lang), "d = ŷ − y": t("x_d", lang), "x_y": t("x_logit", lang)}.get(plot.x_label, plot.x_label)


def no_chart() -> list[Any]:
    """[box, title, plot, legend] (charts.Chart.parts) of a calculator chart that is not shown."""
    return [gr.update(visible=False), "", gr.update(value=None), ""]


def chart_updates(frame: pd.DataFrame, colors: dict[str, str], pins: set[str], title: str, legend: str,
                  x_title: str, y_title: str) -> list[Any]:
    """[box, title, plot, legend] of a calculator chart drawing `frame` (columns x, y, series): the title and the
    legend as HTML in the plot's colours (`pins`: the series drawn as pins, the user's elements)."""
    drawn = {name: colors[name] for name in dict.fromkeys(frame["series"])}
    return [gr.update(visible=True), charts.title_html(title),
            gr.update(value=frame, x_title=x_title, y_title=y_title, color_map=colors, x_lim=frame.attrs.get("x_lim"),
                      y_lim=frame.attrs.get("y_lim")),
            charts.legend_html(drawn, legend, pins)]


# the state after a failed Compute: no result (the previous one belonged to other inputs), and the panel says so
FAILED: dict[str, Any] = {"result": None, "failed": True}


def render_headline(state: dict[str, Any] | None, lang: str) -> list[Any]:
    """[value, warnings]: the value with its PyTorch badge and the verdict on the claim, as soon as they exist."""
    if not state or state.get("result") is None:
        return [empty_html(t("compute_failed" if state and state.get("failed") else "nothing_yet", lang)), ""]
    result: Result = state["result"]
    return [big_value(result, lang, state.get("verdict"), str(state.get("stamp", ""))),
            warnings_markdown(result, lang)]


def render_details(state: dict[str, Any] | None, lang: str) -> list[Any]:
    """Updates for Calculator.detail_outputs: the worked solution, the first rows of the table, the comparison,
    the plot and the snippet (each bounded, whatever the input's size)."""
    if not state or state.get("result") is None:
        return ["", "", "", "", *no_chart(), *no_chart(), "", ""]
    result: Result = state["result"]
    verdict = state.get("verdict")
    table, shown, total = table_html(result)
    note = (t("table_rows", lang, shown=shown, total=total) if total > shown
            else t("table_all", lang, total=total))
    plot = None
    try:
        plot = loss_around(result)
    except (InputError, ValueError, RuntimeError, KeyError, IndexError, TypeError):
        plot = None
    if plot is None or plot.data.empty:
        plot_updates = [*no_chart(), *no_chart()]
        plot_note = t("plot_none", lang)
    else:
        loss_frame, dloss_frame, colors = _plot_frames(plot, lang)
        x_title = _x_title(plot, lang)
        has_dloss = bool(len(dloss_frame)) and bool(dloss_frame["y"].notna().any())
        legend = tr(plot.legend, lang)
        pins = {tr(name, lang) for name in plot.points["series"]}
        plot_updates = [*chart_updates(loss_frame, colors, pins, t("plot_loss", lang), legend, x_title,
                                       t("y_loss", lang)),
                        *(chart_updates(dloss_frame, colors, pins, t("plot_dloss", lang), legend, x_title,
                                        t("y_dloss", lang)) if has_dloss else no_chart())]
        plot_note = t("plot_note", lang) + (f" {tr(plot.note, lang)}." if plot.note else "")
    snippet = render.torch_snippet(result, sources=state.get("sources") or None)
    return [render.to_markdown(result, lang, verdict=verdict), table, note, comparison_html(result, lang),
            *plot_updates, plot_note, snippet]


def render_outputs(state: dict[str, Any] | None, lang: str) -> list[Any]:
    """Updates for Calculator.outputs from the stored result (also used when the language changes)."""
    return [*render_headline(state, lang), *render_details(state, lang)]


# -- downloads: written when asked for, once per result, removed by lossapp.ui.downloads ----------------------


def _write_markdown(result: Result, verdict: Any, lang: str, path: Path) -> None:
    path.write_text(render.to_markdown(result, lang, verdict=verdict), encoding="utf-8")


def _write_latex(result: Result, verdict: Any, lang: str, path: Path) -> None:
    path.write_text(to_latex(result, lang, verdict=verdict), encoding="utf-8")


def _write_json(result: Result, verdict: Any, lang: str, path: Path) -> None:
    path.write_text(render.to_json(result, verdict=verdict), encoding="utf-8")


def _write_csv(result: Result, verdict: Any, lang: str, path: Path) -> None:
    write_csv(result.table(service.CSV_ROWS), path)  # spreadsheet-safe, like every CSV lossapp writes


def _write_npz(result: Result, verdict: Any, lang: str, path: Path) -> None:
    with path.open("wb") as handle:  # a file object: np.savez would add ".npz" to a name
        np.savez(handle, **service.element_arrays(result))


# kind -> (file name after "<loss>_", writer, label key); the Markdown and the LaTeX in the reader's language
DOWNLOAD_KINDS: dict[str, tuple[str, Any, str]] = {
    "md": ("solution_{lang}.md", _write_markdown, "download_md"),
    "tex": ("solution_{lang}.tex", _write_latex, "download_tex"),
    "json": ("result.json", _write_json, "download_json"),
    "csv": ("table.csv", _write_csv, "download_csv"),
    "npz": ("elements.npz", _write_npz, "download_npz"),
}

# hands the file just written to the browser as a download (the hidden gr.File holds its URL)
SAVE_FILE_JS = """(file) => {
  if (!file || !file.url) return;
  const link = document.createElement('a');
  link.href = file.url;
  link.download = file.orig_name || '';
  document.body.appendChild(link);
  link.click();
  link.remove();
}"""


def _file_types(lang: str) -> str:
    """The kinds of file the calculator reads (under the upload section's short title, which stays on one line)."""
    return t("file_types", lang, types=", ".join(f"`{kind}`" for kind in service.FILE_TYPES))


def _downloads_note(lang: str) -> str:
    return t("downloads_note", lang, minutes=round(DOWNLOADS.ttl / 60), rows=service.CSV_ROWS)


def write_download(kind: str, state: dict[str, Any] | None, lang: str) -> str:
    """The file of `kind` for the stored result: written the first time it is asked for, then the same file."""
    if not state or state.get("result") is None:
        raise gr.Error(t("nothing_yet", lang), title=t("error_title", lang), print_exception=False)
    result: Result = state["result"]
    name, writer, _ = DOWNLOAD_KINDS[kind]
    path = DOWNLOADS.file(state["key"], f"{result.loss}_{name.format(lang=lang)}",
                          functools.partial(writer, result, state.get("verdict"), lang))
    return str(path)


def forget_downloads(state: Any) -> None:
    """A calculator state is gone (its session ended): its files go with it."""
    if isinstance(state, dict):
        DOWNLOADS.discard(state.get("key"))


# -- building the tab --------------------------------------------------------------------------------


def build(tr_ui: Translations) -> Calculator:
    spec = default_spec()
    lang = "en"
    groups: dict[str, Any] = {}
    controls: list[Control] = []
    with gr.Row(equal_height=False):
        with gr.Column(scale=4, min_width=340):
            family = tr_ui.add(gr.Radio(family_choices(lang), value=spec.family, label=t("family", lang),
                                        elem_id="la-family"),
                               lambda lg: gr.update(choices=family_choices(lg), label=t("family", lg)))
            loss = gr.Dropdown(loss_choices(spec.family, lang), value=spec.name, label=t("loss", lang),
                               elem_id="la-loss", filterable=True)
            info = gr.Markdown(spec_info(spec, lang), latex_delimiters=LATEX, elem_id="la-info")
            with gr.Accordion(t("parameters", lang), open=True, elem_classes=["la-params"]) as params_box:
                tr_ui.keys(params_box, label="parameters")
                no_params = tr_ui.add(gr.Markdown(t("no_parameters", lang), visible=not spec.params),
                                      lambda lg: gr.update(value=t("no_parameters", lg)))
                for s in service.calculator_specs():
                    with gr.Group(visible=s.name == spec.name) as group:
                        for p in s.params:
                            component = make_control(p, lang)
                            controls.append(Control(s.name, p, component))
                            tr_ui.add(component, control_translation(p))
                    groups[s.name] = group
            input_note = gr.Markdown("", elem_id="la-input-note", elem_classes=["la-note"])
            pred = gr.Textbox(label=t("pred", lang), lines=3, max_lines=12, placeholder=placeholder(spec, "pred", lang),
                              value=(spec.example or {}).get("pred") or "", elem_id="la-pred")
            target = gr.Textbox(label=t("target", lang), lines=2, max_lines=12,
                                placeholder=placeholder(spec, "target", lang),
                                value=(spec.example or {}).get("target") or "", elem_id="la-target",
                                visible=spec.target_kind is not None)
            tr_ui.keys(pred, label="pred")
            tr_ui.keys(target, label="target")
            use_example = tr_ui.keys(gr.Button(t("use_example", lang), size="sm", variant="secondary",
                                               elem_id="la-use-example"), value="use_example")
            with gr.Accordion(t("random_input", lang), open=False, elem_id="la-random") as random_box:
                tr_ui.keys(random_box, label="random_input")
                pred_kind0, target_kind0 = service.default_random_kinds(spec)
                kind_choices = [(k.label, k.key) for k in service.RANDOM_KINDS]
                with gr.Row():
                    seed = tr_ui.keys(gr.Number(value=0, precision=0, label=t("seed", lang), min_width=80), label="seed")
                    shape = tr_ui.keys(gr.Textbox(value="2, 3", label=t("shape", lang), info=t("shape_info", lang),
                                                  min_width=120), label="shape", info="shape_info")
                    classes = tr_ui.keys(gr.Number(value=0, precision=0, minimum=0, label=t("classes", lang),
                                                   info=t("classes_info", lang), min_width=120),
                                         label="classes", info="classes_info")
                with gr.Row():
                    pred_kind = tr_ui.add(gr.Dropdown(kind_choices, value=pred_kind0, label=t("pred_kind", lang)),
                                          _kind_translation("pred_kind"))
                    target_kind = tr_ui.add(gr.Dropdown(kind_choices, value=target_kind0 or "logits",
                                                        label=t("target_kind", lang),
                                                        visible=spec.target_kind is not None),
                                            _kind_translation("target_kind"))
                generate = tr_ui.keys(gr.Button(t("generate", lang), size="sm", elem_id="la-generate"),
                                      value="generate")
                random_code = gr.Code(value="", language="python", label=t("random_code", lang), lines=3,
                                      interactive=False, visible=False)
                tr_ui.keys(random_code, label="random_code")
            with gr.Accordion(t("upload", lang), open=False, elem_id="la-upload") as upload_box:
                tr_ui.keys(upload_box, label="upload")
                tr_ui.add(gr.Markdown(_file_types(lang), elem_classes=["la-note"]),
                          lambda lg: gr.update(value=_file_types(lg)))
                with gr.Row():
                    pred_file = tr_ui.keys(gr.File(label=t("pred_file", lang), file_types=list(service.FILE_TYPES),
                                                   type="filepath", elem_id="la-pred-file", height=150),
                                           label="pred_file")
                    target_file = tr_ui.keys(gr.File(label=t("target_file", lang), file_types=list(service.FILE_TYPES),
                                                     type="filepath", elem_id="la-target-file", height=150,
                                                     visible=spec.target_kind is not None), label="target_file")
                file_info = gr.Markdown(t("file_used", lang), elem_classes=["la-note"])
            with gr.Row():
                reduction = gr.Dropdown(list(spec.reductions), value=spec.default_reduction, label=t("reduction", lang),
                                        min_width=120, elem_id="la-reduction", elem_classes=["la-dd"])
                device = gr.Dropdown(service.devices(), value="cpu", label=t("device", lang), min_width=120,
                                     elem_classes=["la-dd"])
                dtype = gr.Dropdown(service.dtypes(), value="float32", label=t("dtype", lang), min_width=120,
                                    elem_classes=["la-dd"])
            tr_ui.keys(reduction, label="reduction")
            tr_ui.keys(device, label="device")
            tr_ui.keys(dtype, label="dtype")
            claimed = gr.Textbox(label=t("claimed", lang), info=t("claimed_info", lang), lines=1,
                                 elem_id="la-claimed")
            tr_ui.add(claimed, lambda lg: gr.update(label=t("claimed", lg), info=t("claimed_info", lg)))
            compute = tr_ui.keys(gr.Button(t("compute", lang), variant="primary", size="lg", elem_id="la-compute"),
                                 value="compute")
        with gr.Column(scale=7, min_width=340):
            value = gr.HTML(empty_html(t("nothing_yet", lang)), elem_id="la-result")
            warnings = gr.Markdown("", elem_id="la-warnings")
            with gr.Tabs(elem_id="la-out-tabs", overflow_behavior="wrap"):
                with gr.Tab(t("out_solution", lang), id="solution") as tab_solution:
                    solution = gr.Markdown("", latex_delimiters=LATEX, elem_id="la-solution")
                with gr.Tab(t("out_table", lang), id="table") as tab_table:
                    table_note = gr.Markdown("", elem_classes=["la-note"])
                    table = gr.HTML("", elem_id="la-table")
                with gr.Tab(t("out_comparison", lang), id="comparison") as tab_comparison:
                    comparison = gr.HTML("", elem_id="la-comparison")
                with gr.Tab(t("out_plot", lang), id="plot") as tab_plot:
                    plot_note = gr.Markdown("", elem_classes=["la-note"])
                    plot_loss = charts.chart("la-plot-loss", series="series", height=300, visible=False)
                    plot_dloss = charts.chart("la-plot-dloss", series="series", height=300, visible=False)
                with gr.Tab(t("out_snippet", lang), id="snippet") as tab_snippet:
                    snippet_note = gr.Markdown(t("snippet_note", lang), elem_classes=["la-note"])
                    snippet = gr.Code(value="", language="python", interactive=False, elem_id="la-snippet",
                                      max_lines=40)
                with gr.Tab(t("out_downloads", lang), id="downloads") as tab_downloads:
                    downloads_note = gr.Markdown(_downloads_note(lang), elem_classes=["la-note"])
                    with gr.Row():
                        downloads = {kind: gr.Button(t(key, lang), interactive=False, elem_id=f"la-dl-{kind}")
                                     for kind, (_, _, key) in DOWNLOAD_KINDS.items()}
                    dl_file = gr.File(value=None, visible="hidden", interactive=False, elem_id="la-dl-file")
            for tab, key in ((tab_solution, "out_solution"), (tab_table, "out_table"),
                             (tab_comparison, "out_comparison"), (tab_plot, "out_plot"), (tab_snippet, "out_snippet"),
                             (tab_downloads, "out_downloads")):
                tr_ui.add(tab, _tab_translation(key))
            tr_ui.keys(snippet_note, value="snippet_note")
            tr_ui.add(downloads_note, lambda lg: gr.update(value=_downloads_note(lg)))
            for kind, button in downloads.items():
                tr_ui.keys(button, value=DOWNLOAD_KINDS[kind][2])
    tr_ui.keys(file_info, value="file_used")
    tr_ui.add(loss, lambda lg: gr.update(label=t("loss", lg)))
    state = gr.State(None, delete_callback=forget_downloads)
    random_state = gr.State(None)
    calc = Calculator(family, loss, info, no_params, groups, controls, pred, target, use_example, seed, shape,
                      pred_kind, target_kind, classes, generate, random_code, pred_file, target_file, file_info,
                      reduction, device, dtype, claimed, compute, value, warnings, solution, table, table_note,
                      comparison, plot_loss, plot_dloss, plot_note, snippet, downloads, dl_file, state, random_state,
                      input_note=input_note, inputs_for=gr.State(spec.name))
    calc.extra["note"] = gr.State(None)  # switch_inputs' record of the note, rendered again in another language
    return calc


def control_translation(p: Param) -> Any:
    def update(lang: str) -> Any:
        extra = {}
        if p.kind in ("tensor", "float_or_tensor"):
            extra = {"placeholder": t("tensor_param_placeholder", lang)}
        elif _text_control(p):
            extra = {"placeholder": t("number_param_placeholder", lang)}
        return gr.update(info=tr(p.description, lang), **extra)
    return update


def _kind_translation(key: str) -> Any:
    def update(lang: str) -> Any:
        return gr.update(label=t(key, lang), choices=[(tr(k.label, lang), k.key) for k in service.RANDOM_KINDS])
    return update


def _tab_translation(key: str) -> Any:
    return lambda lang: gr.Tab(label=t(key, lang))


# -- events ------------------------------------------------------------------------------------------


def loss_updates(calc: Calculator, spec: LossSpec, lang: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Updates for [info, no_params, *groups, pred, target, target_file, reduction, pred_kind, target_kind] (the
    reduction's choices: its value is set by whoever changed the loss, switch_inputs or an example)."""
    pred_kind, target_kind = service.default_random_kinds(spec, params)
    has_target = spec.target_kind is not None
    return [spec_info(spec, lang, params), gr.update(visible=not spec.params),
            *[gr.update(visible=name == spec.name) for name in calc.groups],
            gr.update(placeholder=placeholder(spec, "pred", lang)),
            gr.update(placeholder=placeholder(spec, "target", lang), visible=has_target),
            gr.update(visible=has_target),
            gr.update(choices=list(spec.reductions)),
            gr.update(value=pred_kind), gr.update(value=target_kind or "logits", visible=has_target)]


def loss_outputs(calc: Calculator) -> list[Any]:
    return [calc.info, calc.no_params, *calc.groups.values(), calc.pred, calc.target, calc.target_file,
            calc.reduction, calc.pred_kind, calc.target_kind]


def control_params(calc: Calculator, spec: LossSpec, data: dict[Any, Any]) -> dict[str, Any]:
    """The values of `spec`'s parameter controls in an event's `data` (keyword arguments for compute)."""
    return service.control_values(spec, {c.param.name: data[c.component] for c in calc.controls if c.spec == spec.name})


def example_updates(calc: Calculator, spec: LossSpec) -> list[Any]:
    """Updates for [pred, target, *controls]: the loss's example and the example's parameters (the others'
    controls unchanged)."""
    example = spec.example or {}
    params = example.get("params") or {}
    updates = [gr.update(value=example.get("pred") or ""), gr.update(value=example.get("target") or "")]
    for c in calc.controls:
        if c.spec == spec.name:
            updates.append(gr.update(value=control_value(c.param, params.get(c.param.name, c.param.default))))
        else:
            updates.append(gr.update())
    return updates


def switch_inputs(calc: Calculator, data: dict[Any, Any]) -> list[Any]:
    """After the person picked another loss: updates for switch_outputs(calc).

    Inputs of another kind are never reused silently. The inputs were entered for the loss `inputs_for`; when the
    new loss reads pred and target as the same kinds (its `input` parameter included), they are kept and the note
    says so; otherwise (or when there are none) they become the new loss's example, and the note says why. Either
    way the result on screen, which belonged to the other loss, is cleared, and the reduction becomes the new loss's
    default unless the person had chosen another one that the new loss has too (the penalties sum by default)."""
    lang = data[calc.extra["lang_radio"]]
    new = lookup(data[calc.loss])
    old = LOSSES.get(data[calc.inputs_for] or "")
    unchanged = [gr.update() for _ in switch_outputs(calc)]
    if old is None or old.name == new.name:
        return unchanged
    old_kinds = (old.input_kind(control_params(calc, old, data)), old.target_kind)
    new_kinds = (new.input_kind(control_params(calc, new, data)), new.target_kind)
    given = bool((data[calc.pred] or "").strip() or data[calc.pred_file])
    cleared = [None, *render_outputs(None, lang), *[gr.update(interactive=False) for _ in calc.downloads]]
    chosen = data[calc.reduction]
    keep = chosen != old.default_reduction and chosen in new.reductions
    reduction = gr.update(choices=list(new.reductions), value=chosen if keep else new.default_reduction)
    kinds = {"pred": new_kinds[0], "target": new_kinds[1]}
    if given and old_kinds == new_kinds:
        note = {"key": "inputs_kept", "old": old.name, "new": new.name, "kinds": kinds}
        return [*unchanged[:-len(cleared) - 4], reduction, input_note_text(note, lang), note, new.name, *cleared]
    note = {"key": "inputs_replaced", "old": old.name, "new": new.name,
            "kinds": {**kinds, "old_pred": old_kinds[0], "old_target": old_kinds[1]}} if given else None
    return [*example_updates(calc, new), None, None, None, gr.update(value="", visible=False), "", reduction,
            input_note_text(note, lang), note, new.name, *cleared]


def input_note_text(note: dict[str, Any] | None, lang: str) -> str:
    """The note on what switching the loss did to the inputs (switch_inputs' record of it), in `lang`."""
    if not note:
        return ""
    old, new = LOSSES[note["old"]], LOSSES[note["new"]]
    kinds = {name: _kind(kind, lang) for name, kind in note["kinds"].items()}
    return t(note["key"], lang, old=tr(old.title, lang), new=tr(new.title, lang), **kinds)


def switch_outputs(calc: Calculator) -> list[Any]:
    return [calc.pred, calc.target, *calc.control_components, calc.pred_file, calc.target_file, calc.random_state,
            calc.random_code, calc.claimed, calc.reduction, calc.input_note, calc.extra["note"], calc.inputs_for,
            calc.state, *calc.outputs, *calc.downloads.values()]


def wire(calc: Calculator, lang_radio: Any) -> None:
    """Connect the calculator's events (all private: the public HTTP API is lossapp.ui.api)."""
    private = {"api_visibility": "private"}
    calc.extra["lang_radio"] = lang_radio
    switch_from = {lang_radio, calc.loss, calc.inputs_for, calc.pred, calc.pred_file, calc.reduction,
                   *calc.control_components}

    def on_family(lang: str, family: str) -> Any:
        choices = loss_choices(family, lang)
        return gr.update(choices=choices, value=choices[0][1] if choices else None)

    calc.family.input(on_family, [lang_radio, calc.family], [calc.loss], **private) \
        .then(functools.partial(switch_inputs, calc), switch_from, switch_outputs(calc), **private)
    calc.loss.input(functools.partial(switch_inputs, calc), switch_from, switch_outputs(calc), **private)

    def on_loss(data: dict[Any, Any]) -> list[Any]:
        if not data[calc.loss]:
            return [gr.update() for _ in loss_outputs(calc)]
        spec = lookup(data[calc.loss])
        return loss_updates(calc, spec, data[lang_radio], control_params(calc, spec, data))

    calc.loss.change(on_loss, {lang_radio, calc.loss, *calc.control_components}, loss_outputs(calc),
                     **private)

    def on_input_kind(data: dict[Any, Any]) -> list[Any]:
        """The `input` parameter changed: the info line and the random pred's kind follow what pred holds."""
        spec = lookup(data[calc.loss])
        if not any(c.spec == spec.name and c.param.name == INPUT_PARAM for c in calc.controls):
            return [gr.update(), gr.update()]
        params = control_params(calc, spec, data)
        return [spec_info(spec, data[lang_radio], params), service.default_random_kinds(spec, params)[0]]

    for c in calc.controls:
        if c.param.name == INPUT_PARAM:
            c.component.change(on_input_kind, {lang_radio, calc.loss, *calc.control_components},
                               [calc.info, calc.pred_kind], **private)

    lang_radio.change(input_note_text, [calc.extra["note"], lang_radio], [calc.input_note], **private, queue=False,
                      show_progress="hidden")

    def on_use_example(loss: str) -> list[Any]:
        return [*example_updates(calc, lookup(loss)), None, None]

    calc.use_example.click(on_use_example, [calc.loss],
                           [calc.pred, calc.target, *calc.control_components, calc.pred_file, calc.target_file],
                           **private)

    def on_generate(lang: str, loss: str, seed: Any, shape: Any, pred_kind: str, target_kind: str,
                    classes: Any) -> list[Any]:
        with as_gradio_errors(lang, "the calculator's random input"):
            spec = lookup(loss)
            made = service.random_input(seed, shape, pred_kind, target_kind, classes, spec)
        state = {"pred_text": made.pred_text, "target_text": made.target_text, "sources": made.sources}
        return [made.pred_text, made.target_text if made.target_text is not None else gr.update(),
                gr.update(value=made.code, visible=True), state, None, None]

    calc.generate.click(on_generate, [lang_radio, calc.loss, calc.seed, calc.shape, calc.pred_kind, calc.target_kind,
                                      calc.classes],
                        [calc.pred, calc.target, calc.random_code, calc.random_state, calc.pred_file,
                         calc.target_file], **private)

    def on_file(lang: str, pred_file: str | None, target_file: str | None) -> str:
        lines = [t("file_used", lang)]
        with as_gradio_errors(lang, "the calculator's file upload"):
            for path, name in ((pred_file, "pred"), (target_file, "target")):
                if path:
                    lines.append(f"- `{Path(path).name}` → {tr(service.file_summary(service.load_file(path, name), name), lang)}")
        return "\n".join(lines)

    for f in (calc.pred_file, calc.target_file):
        f.change(on_file, [lang_radio, calc.pred_file, calc.target_file], [calc.file_info], **private,
                 **compute_events())

    def on_compute(data: dict[Any, Any], progress: gr.Progress = gr.Progress(),  # noqa: B008
                   request: gr.Request | None = None) -> list[Any]:
        """The value, the badge and the verdict; the details follow (render_details) in a second event."""
        started.CALCULATOR.start(session_of(request))
        lang = data[lang_radio]
        with as_gradio_errors(lang, "the calculator's Compute"):
            progress(0.05, desc=t("progress_parse", lang))
            spec = lookup(data[calc.loss])
            pred_file, target_file = data[calc.pred_file], data[calc.target_file]
            pred = service.load_file(pred_file, "pred") if pred_file else data[calc.pred]
            target = service.load_file(target_file, "target") if target_file else data[calc.target]
            if spec.target_kind is None:
                target = None
            given = {c.param.name: data[c.component] for c in calc.controls if c.spec == spec.name}
            params = service.control_values(spec, given)
            reduction, dtype = data[calc.reduction], data[calc.dtype]
            progress(0.2, desc=t("progress_compute", lang))
            result = service.compute(spec.name, pred, target, params, reduction, data[calc.device], dtype)
            verdict = service.check(result, data[calc.claimed])
        forget_downloads(data[calc.state])  # the previous result's files: its owner has moved on
        sources = {} if pred_file or target_file else service.snippet_sources(
            data[calc.random_state], data[calc.pred], data[calc.target] or "")
        state = {"result": result, "verdict": verdict, "sources": sources, "stamp": time.time_ns(),
                 "key": secrets.token_hex(8)}
        return [state, *render_headline(state, lang)]

    def on_details(state: dict[str, Any] | None, lang: str, progress: gr.Progress = gr.Progress(),  # noqa: B008
                   request: gr.Request | None = None) -> list[Any]:
        """The details, and the headline again: in the language chosen now, should it have changed since."""
        progress(0.5, desc=t("progress_render", lang))
        ready = gr.update(interactive=bool(state and state.get("result") is not None))
        shown = [*render_headline(state, lang), *render_details(state, lang), *[ready for _ in calc.downloads]]
        started.CALCULATOR.finish(session_of(request), lang)
        return shown

    def catch_up(state: dict[str, Any] | None, lang: str, request: gr.Request | None = None) -> list[Any]:
        """After the details: the result again in the language chosen while they rendered, if it changed."""
        return started.CALCULATOR.catch_up(session_of(request), lang, lambda: render_outputs(state, lang),
                                           len(calc.outputs))

    calc.extra["on_compute"] = on_compute
    calc.extra["compute_inputs"] = {lang_radio, *calc.inputs}
    calc.extra["compute_outputs"] = [calc.state, calc.value, calc.warnings]
    calc.extra["on_details"] = on_details
    calc.extra["details_outputs"] = [calc.value, calc.warnings, *calc.detail_outputs, *calc.downloads.values()]
    calc.extra["catch_up"] = catch_up
    compute_chain(calc.compute.click, calc, lang_radio)

    for kind, button in calc.downloads.items():
        button.click(_download_handler(kind), [calc.state, lang_radio], [calc.dl_file], show_progress="minimal",
                     **private, **compute_events()) \
            .success(None, [calc.dl_file], None, js=SAVE_FILE_JS, **private)


def _download_handler(kind: str) -> Any:
    def on_download(state: dict[str, Any] | None, lang: str, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        progress(0.3, desc=t("progress_download", lang))
        with as_gradio_errors(lang, f"the calculator's {kind} download"):
            return write_download(kind, state, lang)

    return on_download


# after Compute, the result comes into view where it is not (the button sits below the fold at 1400×1000)
SHOW_RESULT_JS = """() => {
  const box = document.querySelector('#la-result');
  if (!box) return;
  const r = box.getBoundingClientRect();
  if (r.top < 0 || r.top > window.innerHeight - 120) box.scrollIntoView({block: 'start', behavior: 'smooth'});
}"""


def session_of(request: gr.Request | None) -> str | None:
    """The browser session an event comes from (None when called outside Gradio)."""
    return getattr(request, "session_hash", None)


def on_failure(lang: str, request: gr.Request | None = None) -> list[Any]:
    """After a failed Compute: no result on screen (the previous one belonged to other inputs), the panel saying
    that the computation failed, the downloads off. Updates for [state, *outputs, *downloads]."""
    started.CALCULATOR.finish(session_of(request))
    return [FAILED, *render_outputs(FAILED, lang), *[gr.update(interactive=False) for _ in DOWNLOAD_KINDS]]


def computed_loss(state: dict[str, Any] | None) -> str | None:
    """The loss of the result just computed (the loss the inputs on screen are for)."""
    result = (state or {}).get("result")
    return result.spec.name if result is not None and result.spec is not None else None


def compute_chain(listener: Any, calc: Calculator, lang_radio: Any) -> Any:
    """Run the calculator's computation from `listener` (calc.compute.click, or an event's .then): the value and
    the verdict first, then the details, both in the computations' group of workers. When either fails, the
    previous result is cleared (on_failure); when the value is in, it is scrolled into view."""
    private = {"api_visibility": "private"}
    cleared = [calc.state, *calc.outputs, *calc.downloads.values()]
    headline = listener(calc.extra["on_compute"], calc.extra["compute_inputs"], calc.extra["compute_outputs"],
                        **private, **compute_events())
    headline.failure(on_failure, [lang_radio], cleared, **private, queue=False)
    headline.success(None, None, None, js=SHOW_RESULT_JS, **private, queue=False)
    # the inputs were computed as the loss's: theirs from now on (an example or a shared link sets loss and inputs)
    headline.success(computed_loss, [calc.state], [calc.inputs_for], **private, show_progress="hidden")
    details = headline.success(calc.extra["on_details"], [calc.state, lang_radio], calc.extra["details_outputs"],
                               **private, **compute_events())
    details.failure(on_failure, [lang_radio], cleared, **private, queue=False)
    details.success(calc.extra["catch_up"], [calc.state, lang_radio], calc.outputs, **private, show_progress="hidden")
    return details
