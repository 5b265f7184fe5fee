"""Line charts that stay readable on a phone.

Gradio's line plot (Vega-Lite) draws its title on one line and its legend in one row, both clipped when the chart
is narrower than they are (a 390 px phone). So a chart here is a group of three: its title as HTML above the plot
(it wraps), the plot with its axes only, and its legend as HTML below (the entries wrap onto as many lines as they
need). The legend's colours are the plot's: Vega-Lite's default category colours (Tableau 10) in the order in
which the series first appear in the data, or the plot's color_map when one is set (`series_colors`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from lossapp.ui.common import gr
from lossapp.ui.templates import css, render_template

# Vega-Lite's default colours of a nominal scale ("tableau10"), in order
PALETTE = ("#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d",
           "#bab0ac")
CHART_CSS = css("charts.css")


def series_colors(names: Iterable[str]) -> dict[str, str]:
    """Each series name (in the order of first appearance) with its colour: the one the plot gives it by default."""
    unique = list(dict.fromkeys(str(n) for n in names))
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(unique)}


def title_html(title: str) -> str:
    """A chart's title above its plot (it wraps on a narrow screen)."""
    return render_template("chart_title.html", title=title)


def legend_html(colors: dict[str, str], title: str = "", pins: Collection[str] = ()) -> str:
    """A chart's legend below its plot: an optional title (what the series differ by), then a swatch and the name
    of each series, the entries wrapping onto further lines on a narrow screen. A series named in `pins` is drawn
    as marks (pins: a small "V" in its colour), the others as lines."""
    entries = [(name, color, name in pins) for name, color in colors.items()]
    return render_template("chart_legend.html", title=title, entries=entries)


@dataclass
class Chart:
    """A chart's parts: the group holding them (shown or hidden as one), its title, its plot and its legend."""

    box: Any
    title: Any
    plot: Any
    legend: Any

    @property
    def parts(self) -> list[Any]:
        """[box, title, plot, legend]: what an update of the whole chart fills."""
        return [self.box, self.title, self.plot, self.legend]


def chart(elem_id: str, value: Any = None, *, series: str, title: str = "", legend: str = "",
          visible: bool = True, **plot_props: Any) -> Chart:
    """A chart (gr.Group of title, gr.LinePlot with x="x", y="y", color=`series`, and legend) with the ids
    ELEM_ID (the plot), ELEM_ID-title and ELEM_ID-legend. `legend` is the legend's HTML (legend_html);
    plot_props go to gr.LinePlot (height, y_lim, x_title, y_title, color_map...)."""
    with gr.Group(visible=visible, elem_id=f"{elem_id}-box", elem_classes=["la-chart"]) as box:
        head = gr.HTML(title_html(title), elem_id=f"{elem_id}-title", css_template=CHART_CSS, container=True, padding=False)
        plot = gr.LinePlot(value, x="x", y="y", color=series, elem_id=elem_id, tooltip="all", colors_in_legend=[],
                           **plot_props)
        key = gr.HTML(legend, elem_id=f"{elem_id}-legend", css_template=CHART_CSS, container=True, padding=False)
    return Chart(box, head, plot, key)
