"""The curves tab: the pictures the articles describe, live: focal loss vs p_t (RetinaNet figure 1),
L1/L2/Smooth L1/Huber and their derivatives, BCE vs p, hard vs soft truncation weights."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from lossapp import plots
from lossapp.i18n import tr
from lossapp.ui import charts
from lossapp.ui.common import Translations, gr
from lossapp.ui.strings import t

LEGENDS = {"focal": "legend_gamma", "bce": "legend_target", "regression": "legend_losses",
           "regression_d": "legend_losses", "truncation": "legend_weighting"}  # what each chart's curves differ by


@dataclass
class CurvesTab:
    gamma: Any
    alpha: Any
    focal: charts.Chart
    beta: Any
    delta: Any
    regression: charts.Chart
    regression_d: charts.Chart
    bce: charts.Chart
    m: Any
    k: Any
    y: Any
    truncation: charts.Chart


def _named(frame: pd.DataFrame, x: str, y: str, lang: str) -> pd.DataFrame:
    out = frame.rename(columns={x: "x", y: "y"})[["x", "y", "curve"]].copy()
    out["curve"] = [tr(c, lang) for c in out["curve"]]
    return out


def focal_frame(gamma: float, alpha: float, lang: str = "en") -> pd.DataFrame:
    gammas = [*plots.FOCAL_GAMMAS, float(gamma)]
    return _named(plots.focal_curves(gammas, None if alpha >= 1 else alpha), "p_t", "loss", lang)


def regression_frames(beta: float, delta: float, lang: str = "en") -> tuple[pd.DataFrame, pd.DataFrame]:
    return (_named(plots.regression_curves(beta, delta), "d", "value", lang),
            _named(plots.regression_curves(beta, delta, derivative=True), "d", "value", lang))


def bce_frame(lang: str = "en") -> pd.DataFrame:
    return _named(plots.bce_curves(), "p", "loss", lang)


def truncation_frame(m: float, k: float, y: int, lang: str = "en") -> pd.DataFrame:
    ks = sorted({1.0, 5.0, float(k)})
    return _named(plots.truncation_curves([m], ks, y=int(y)), "p", "weight", lang)


def curve_legend(frame: pd.DataFrame, legend_key: str, lang: str) -> str:
    """The legend of a curve plot drawn from `frame`: its title (what the curves differ by) and each curve's colour."""
    return charts.legend_html(charts.series_colors(frame["curve"]), t(legend_key, lang))


def _plot(value: pd.DataFrame, name: str, keys: tuple[str, str, str], tr_ui: Translations, elem_id: str,
          height: int = 300, y_lim: list[float] | None = None) -> charts.Chart:
    """The curve chart `name` (a key of LEGENDS); keys: its title, x axis and y axis titles (UI string keys). Its
    legend follows the curves: whoever redraws them redraws it (`_drawn`)."""
    title_key, x_key, y_key = keys
    chart = charts.chart(elem_id, value, series="curve", title=t(title_key, "en"),
                         legend=curve_legend(value, LEGENDS[name], "en"), height=height, y_lim=y_lim,
                         x_title=t(x_key, "en"), y_title=t(y_key, "en"))
    tr_ui.add(chart.title, lambda lang: gr.update(value=charts.title_html(t(title_key, lang))))
    tr_ui.add(chart.plot, lambda lang: gr.update(x_title=t(x_key, lang), y_title=t(y_key, lang)))
    return chart


def build(tr_ui: Translations) -> CurvesTab:
    lang = "en"
    tr_ui.keys(gr.Markdown(t("curves_intro", lang)), value="curves_intro")
    with gr.Row(equal_height=False):
        with gr.Column(min_width=380):
            focal = _plot(focal_frame(2.0, 1.0), "focal", ("focal_title", "x_pt", "y_loss"), tr_ui,
                          "la-curve-focal", y_lim=[0, 5])
            with gr.Row():
                gamma = tr_ui.keys(gr.Slider(0.0, 10.0, value=2.0, step=0.1, label=t("focal_gamma", lang)),
                                   label="focal_gamma")
                alpha = tr_ui.keys(gr.Slider(0.01, 1.0, value=1.0, step=0.01, label=t("focal_alpha", lang)),
                                   label="focal_alpha")
        with gr.Column(min_width=380):
            bce = _plot(bce_frame(), "bce", ("bce_title", "x_p", "y_loss"), tr_ui, "la-curve-bce",
                        y_lim=[0, 5])
    with gr.Row(equal_height=False):
        reg0, reg1 = regression_frames(1.0, 1.0)
        with gr.Column(min_width=380):
            regression = _plot(reg0, "regression", ("reg_title", "x_d", "y_value"), tr_ui, "la-curve-reg",
                               y_lim=[0, 4])
        with gr.Column(min_width=380):
            regression_d = _plot(reg1, "regression_d", ("reg_deriv_title", "x_d", "y_value"), tr_ui,
                                 "la-curve-reg-d", y_lim=[-3, 3])
    with gr.Row():
        beta = tr_ui.keys(gr.Slider(0.0, 3.0, value=1.0, step=0.05, label=t("beta", lang)), label="beta")
        delta = tr_ui.keys(gr.Slider(0.05, 3.0, value=1.0, step=0.05, label=t("delta", lang)), label="delta")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=380):
            truncation = _plot(truncation_frame(0.6, 10.0, 1), "truncation", ("trunc_title", "x_p", "y_weight"),
                               tr_ui, "la-curve-trunc", y_lim=[-0.05, 1.05])
        with gr.Column(scale=1, min_width=260):
            m = tr_ui.keys(gr.Slider(0.5, 1.0, value=0.6, step=0.01, label=t("trunc_m", lang)), label="trunc_m")
            k = tr_ui.keys(gr.Slider(0.5, 50.0, value=10.0, step=0.5, label=t("trunc_k", lang)), label="trunc_k")
            y = tr_ui.keys(gr.Radio([1, 0], value=1, label=t("trunc_y", lang)), label="trunc_y")
            tr_ui.keys(gr.Markdown(t("trunc_note", lang), elem_classes=["la-note"]), value="trunc_note")
    return CurvesTab(gamma, alpha, focal, beta, delta, regression, regression_d, bce, m, k, y, truncation)


def _drawn(frame: pd.DataFrame, chart: str, lang: str) -> list[Any]:
    """A chart's plot and legend for the curves `frame`."""
    return [frame, curve_legend(frame, LEGENDS[chart], lang)]


def _outputs(tab: CurvesTab, *names: str) -> list[Any]:
    return [part for name in names for part in (getattr(tab, name).plot, getattr(tab, name).legend)]


def wire(tab: CurvesTab, lang_radio: Any) -> None:
    private = {"api_visibility": "private", "show_progress": "hidden"}

    def on_focal(gamma: float, alpha: float, lang: str) -> list[Any]:
        return _drawn(focal_frame(gamma, alpha, lang), "focal", lang)

    for control in (tab.gamma, tab.alpha):
        control.change(on_focal, [tab.gamma, tab.alpha, lang_radio], _outputs(tab, "focal"), **private)

    def on_regression(beta: float, delta: float, lang: str) -> list[Any]:
        reg0, reg1 = regression_frames(beta, delta, lang)
        return [*_drawn(reg0, "regression", lang), *_drawn(reg1, "regression_d", lang)]

    for slider in (tab.beta, tab.delta):
        slider.change(on_regression, [tab.beta, tab.delta, lang_radio], _outputs(tab, "regression", "regression_d"),
                      **private)

    def on_truncation(m: float, k: float, y: int, lang: str) -> list[Any]:
        return _drawn(truncation_frame(m, k, y, lang), "truncation", lang)

    for control in (tab.m, tab.k, tab.y):
        control.change(on_truncation, [tab.m, tab.k, tab.y, lang_radio], _outputs(tab, "truncation"), **private)


def relabel(tab: CurvesTab, lang_radio: Any) -> tuple[list[Any], list[Any], Any]:
    """(inputs, outputs, fn) redrawing every curve, and its legend, with the series names in the new language."""
    def fn(lang: str, gamma: float, alpha: float, beta: float, delta: float, m: float, k: float, y: int) -> list[Any]:
        reg0, reg1 = regression_frames(beta, delta, lang)
        return [*_drawn(focal_frame(gamma, alpha, lang), "focal", lang), *_drawn(reg0, "regression", lang),
                *_drawn(reg1, "regression_d", lang), *_drawn(bce_frame(lang), "bce", lang),
                *_drawn(truncation_frame(m, k, y, lang), "truncation", lang)]

    inputs = [lang_radio, tab.gamma, tab.alpha, tab.beta, tab.delta, tab.m, tab.k, tab.y]
    return inputs, _outputs(tab, "focal", "regression", "regression_d", "bce", "truncation"), fn
