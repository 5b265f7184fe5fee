"""The curves tab: the pictures the articles describe, live: focal loss vs p_t (RetinaNet figure 1),
L1/L2/Smooth L1/Huber and their derivatives, BCE vs p, hard vs soft truncation weights."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from lossapp import plots
from lossapp.i18n import tr
from lossapp.ui.common import Translations, gr
from lossapp.ui.strings import t


@dataclass
class CurvesTab:
    gamma: Any
    alpha: Any
    focal: Any
    beta: Any
    delta: Any
    regression: Any
    regression_d: Any
    bce: Any
    m: Any
    k: Any
    y: Any
    truncation: Any


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


def plot_titles(title_key: str, x_key: str, y_key: str, legend_key: str, lang: str) -> dict[str, str]:
    """A curve plot's title, axis titles and legend title (what its curves differ by) in `lang`."""
    return {"title": t(title_key, lang), "x_title": t(x_key, lang), "y_title": t(y_key, lang),
            "color_title": t(legend_key, lang)}


def _plot(value: pd.DataFrame, keys: tuple[str, str, str, str], tr_ui: Translations, elem_id: str,
          height: int = 300, y_lim: list[float] | None = None) -> Any:
    """A curve plot; keys: its title, x axis, y axis and legend titles (UI string keys)."""
    plot = gr.LinePlot(value, x="x", y="y", color="curve", height=height, elem_id=elem_id, y_lim=y_lim,
                       tooltip="all", **plot_titles(*keys, "en"))
    tr_ui.add(plot, lambda lang: gr.update(**plot_titles(*keys, lang)))
    return plot


def build(tr_ui: Translations) -> CurvesTab:
    lang = "en"
    tr_ui.keys(gr.Markdown(t("curves_intro", lang)), value="curves_intro")
    with gr.Row(equal_height=False):
        with gr.Column(min_width=380):
            focal = _plot(focal_frame(2.0, 1.0), ("focal_title", "x_pt", "y_loss", "legend_gamma"), tr_ui,
                          "la-curve-focal", y_lim=[0, 5])
            with gr.Row():
                gamma = tr_ui.keys(gr.Slider(0.0, 10.0, value=2.0, step=0.1, label=t("focal_gamma", lang)),
                                   label="focal_gamma")
                alpha = tr_ui.keys(gr.Slider(0.01, 1.0, value=1.0, step=0.01, label=t("focal_alpha", lang)),
                                   label="focal_alpha")
        with gr.Column(min_width=380):
            bce = _plot(bce_frame(), ("bce_title", "x_p", "y_loss", "legend_target"), tr_ui, "la-curve-bce",
                        y_lim=[0, 5])
    with gr.Row(equal_height=False):
        reg0, reg1 = regression_frames(1.0, 1.0)
        with gr.Column(min_width=380):
            regression = _plot(reg0, ("reg_title", "x_d", "y_value", "legend_losses"), tr_ui, "la-curve-reg",
                               y_lim=[0, 4])
        with gr.Column(min_width=380):
            regression_d = _plot(reg1, ("reg_deriv_title", "x_d", "y_value", "legend_losses"), tr_ui,
                                 "la-curve-reg-d", y_lim=[-3, 3])
    with gr.Row():
        beta = tr_ui.keys(gr.Slider(0.0, 3.0, value=1.0, step=0.05, label=t("beta", lang)), label="beta")
        delta = tr_ui.keys(gr.Slider(0.05, 3.0, value=1.0, step=0.05, label=t("delta", lang)), label="delta")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=380):
            truncation = _plot(truncation_frame(0.6, 10.0, 1), ("trunc_title", "x_p", "y_weight", "legend_weighting"),
                               tr_ui, "la-curve-trunc", y_lim=[-0.05, 1.05])
        with gr.Column(scale=1, min_width=260):
            m = tr_ui.keys(gr.Slider(0.5, 1.0, value=0.6, step=0.01, label=t("trunc_m", lang)), label="trunc_m")
            k = tr_ui.keys(gr.Slider(0.5, 50.0, value=10.0, step=0.5, label=t("trunc_k", lang)), label="trunc_k")
            y = tr_ui.keys(gr.Radio([1, 0], value=1, label=t("trunc_y", lang)), label="trunc_y")
            tr_ui.keys(gr.Markdown(t("trunc_note", lang), elem_classes=["la-note"]), value="trunc_note")
    return CurvesTab(gamma, alpha, focal, beta, delta, regression, regression_d, bce, m, k, y, truncation)


def wire(tab: CurvesTab, lang_radio: Any) -> None:
    private = {"api_visibility": "private", "show_progress": "hidden"}
    tab.gamma.change(focal_frame, [tab.gamma, tab.alpha, lang_radio], [tab.focal], **private)
    tab.alpha.change(focal_frame, [tab.gamma, tab.alpha, lang_radio], [tab.focal], **private)

    def on_regression(beta: float, delta: float, lang: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        return regression_frames(beta, delta, lang)

    for slider in (tab.beta, tab.delta):
        slider.change(on_regression, [tab.beta, tab.delta, lang_radio], [tab.regression, tab.regression_d], **private)
    for control in (tab.m, tab.k, tab.y):
        control.change(truncation_frame, [tab.m, tab.k, tab.y, lang_radio], [tab.truncation], **private)


def relabel(tab: CurvesTab, lang_radio: Any) -> tuple[list[Any], list[Any], Any]:
    """(inputs, outputs, fn) redrawing every curve with the series names in the new language."""
    def fn(lang: str, gamma: float, alpha: float, beta: float, delta: float, m: float, k: float, y: int) -> list[Any]:
        reg0, reg1 = regression_frames(beta, delta, lang)
        return [focal_frame(gamma, alpha, lang), reg0, reg1, bce_frame(lang), truncation_frame(m, k, y, lang)]

    inputs = [lang_radio, tab.gamma, tab.alpha, tab.beta, tab.delta, tab.m, tab.k, tab.y]
    outputs = [tab.focal, tab.regression, tab.regression_d, tab.bce, tab.truncation]
    return inputs, outputs, fn
