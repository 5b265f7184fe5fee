"""The Lab tab: pick an experiment of `lossapp.lab`, set its parameters, Run; see the article's claim, one plot per
panel, the finding and whether the claim held on these settings. Thin wiring over `lossapp.lab.run_experiment`.

Parameters are text boxes (checked by the experiment's constraints, like the calculator's): one slot per
parameter, as many slots as the experiment with the most parameters, the unused ones hidden. The last run's
(name, params, seed) is kept with its plots' labels, so that switching the language re-runs it (deterministic,
under a second) and shows every text in the new language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from lossapp.i18n import msg, tr
from lossapp.lab import EXPERIMENTS, cited, find_experiment, run_experiment
from lossapp.registry import Param
from lossapp.ui import charts
from lossapp.ui.common import Translations, as_gradio_errors, gr
from lossapp.ui.templates import render_template

SLOTS = max(len(e.params) for e in EXPERIMENTS.values())
PLOTS = max(len(e.panels) for e in EXPERIMENTS.values())
FIRST = next(iter(EXPERIMENTS))


@dataclass
class LabTab:
    experiment: Any
    slots: list[Any]
    seed: Any
    run: Any
    claim: Any
    verdict: Any
    charts: list[charts.Chart]
    finding: Any
    state: Any

    @property
    def outputs(self) -> list[Any]:
        """What a run (or a language switch) fills: the claim, the verdict, every chart (shown with its data, or
        hidden) and the finding."""
        return [self.claim, self.verdict, *(c.box for c in self.charts), *(c.plot for c in self.charts),
                self.finding]

    @property
    def labelled(self) -> list[Any]:
        """What `label_updates` fills: every chart's plot (axis titles, colours), title and legend."""
        return [*(c.plot for c in self.charts), *(c.title for c in self.charts), *(c.legend for c in self.charts)]


def say(key: str, lang: str, **fields: Any) -> str:
    return msg(f"lab_tab.{key}", **fields).render(lang)


def experiment_choices(lang: str) -> list[tuple[str, str]]:
    return [(f"{tr(e.title, lang)} ({e.name})", e.name) for e in EXPERIMENTS.values()]


def experiment_info(name: str, lang: str) -> str:
    """The chosen experiment's whole title, under the dropdown's label: the dropdown shows one line, which a long
    title overruns on a phone (and in the narrow column of a desktop)."""
    return tr(find_experiment(name).title, lang)


def _accepts(param: Param, lang: str) -> str:
    """What a parameter accepts, in words: its choices or its range."""
    if param.choices:
        return say("accepts_choices", lang, choices=", ".join(param.choices))
    closed = getattr(param.constraint, "closed", "both")
    low = "(−∞" if param.low is None else ("[" if closed in ("both", "left") else "(") + f"{param.low:g}"
    high = "∞)" if param.high is None else f"{param.high:g}" + ("]" if closed in ("both", "right") else ")")
    return say("accepts_whole" if param.kind == "int" else "accepts_number", lang, interval=f"{low}, {high}")


def slot_props(name: str, lang: str, with_values: bool = True) -> list[dict[str, Any]]:
    """Each slot's visibility, label, description (and default value) for the experiment `name`."""
    params = find_experiment(name).params
    props: list[dict[str, Any]] = []
    for i in range(SLOTS):
        if i >= len(params):
            props.append({"visible": False, **({"value": ""} if with_values else {})})
            continue
        p = params[i]
        info = say("param_info", lang, description=tr(p.description, lang), accepts=_accepts(p, lang))
        props.append({"visible": True, "label": p.name, "info": info,
                      **({"value": str(p.default)} if with_values else {})})
    return props


def claim_markdown(name: str, lang: str) -> str:
    experiment = find_experiment(name)
    return say("claim", lang, article=cited(experiment.article, lang), claim=tr(experiment.claim, lang))


def verdict_html(record: dict[str, Any] | None, lang: str) -> str:
    if record is None:
        return render_template("lab_verdict.html", verdict=None, empty=say("not_run", lang))
    word = say("holds" if record["holds"] else "fails", lang)
    return render_template("lab_verdict.html", verdict={"holds": record["holds"], "word": word,
                                                       "summary": record["summary"], "name": record["name"]})


def panel_frames(record: dict[str, Any]) -> list[tuple[str, str, str, pd.DataFrame]]:
    """(title, x label, y label, frame with columns x, y, series) for each panel of the record, in its order."""
    panels = []
    for panel, title in record["panels"].items():
        shown = [s for s in record["series"] if s["panel"] == panel]
        frame = pd.DataFrame([{"x": x, "y": y, "series": s["name"]} for s in shown
                              for x, y in zip(s["x"], s["y"], strict=True) if x is not None and y is not None])
        panels.append((title, shown[0]["x_label"], shown[0]["y_label"], frame))
    return panels


def plot_updates(record: dict[str, Any] | None) -> list[Any]:
    """Each chart shown or hidden, then each plot's data (or nothing). Its titles and colours follow in a second
    update, `label_updates`: the chart is redrawn when they change, with the data already there (a redraw reads the
    series names for the colours from the data it has at that moment)."""
    panels = panel_frames(record) if record else []
    shown = [gr.update(visible=i < len(panels)) for i in range(PLOTS)]
    return [*shown, *(gr.update(visible=True, value=panels[i][3]) if i < len(panels)
                      else gr.update(visible=False, value=None) for i in range(PLOTS))]


def plot_labels(record: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each shown plot's title, axis titles and a colour per series (a new series name, e.g. in another language, is
    a new colour map: the chart is redrawn). The series names say what they are: the legend has no title."""
    return [{"title": title, "x_title": x_label, "y_title": y_label, "color_map": charts.series_colors(frame["series"])}
            for title, x_label, y_label, frame in (panel_frames(record) if record else [])]


def label_updates(state: dict[str, Any] | None) -> list[Any]:
    """Each plot's axis titles and colours, then each chart's title, then each chart's legend (for `labelled`)."""
    labels = state["labels"] if state else []
    plots, titles, legends = [], [], []
    for i in range(PLOTS):
        if i >= len(labels):
            plots.append(gr.update())
            titles.append(gr.update())
            legends.append(gr.update())
            continue
        label = labels[i]
        plots.append(gr.update(x_title=label["x_title"], y_title=label["y_title"], color_map=label["color_map"]))
        titles.append(charts.title_html(label["title"]))
        legends.append(charts.legend_html(label["color_map"]))
    return [*plots, *titles, *legends]


def finding_frame(record: dict[str, Any] | None, lang: str) -> pd.DataFrame:
    columns = [say("finding_name", lang), say("finding_value", lang)]
    if record is None:
        return pd.DataFrame(columns=columns)
    rows = [[key, "—" if value is None else (f"{value:.6g}" if isinstance(value, float) else str(value))]
            for key, value in record["finding"].items()]
    return pd.DataFrame(rows, columns=columns)


def outputs_for(record: dict[str, Any] | None, name: str, lang: str) -> list[Any]:
    return [claim_markdown(name, lang), verdict_html(record, lang), *plot_updates(record),
            finding_frame(record, lang)]


def run_lab(name: str, seed: str, lang: str, *values: str) -> list[Any]:
    """Run the experiment on the slots' values; the record's texts in `lang`. Returns [state, *outputs]."""
    with as_gradio_errors(lang, "lab"):
        params = {p.name: v for p, v in zip(find_experiment(name).params, values, strict=False)}
        record = run_experiment(name, params, seed=seed, lang=lang)
    state = {"name": name, "params": params, "seed": seed, "labels": plot_labels(record)}
    return [state, *outputs_for(record, name, lang)]


def add_lab_tab(tr_ui: Translations, lang_radio: Any) -> LabTab:
    """The Lab tab inside the app's gr.Tabs, wired, following the language switch `lang_radio`."""
    lang = "en"
    with gr.Tab(say("tab", lang), id="lab", elem_id="la-tab-lab") as lab:
        intro = gr.Markdown(say("intro", lang))
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=300):
                experiment = gr.Dropdown(experiment_choices(lang), value=FIRST, label=say("experiment", lang),
                                         info=experiment_info(FIRST, lang), elem_id="la-lab-experiment",
                                         elem_classes=["la-dd"])  # its text ends before the arrow (layout.css)
                slots = [gr.Textbox(elem_id=f"la-lab-param-{i}", max_lines=1, **props)
                         for i, props in enumerate(slot_props(FIRST, lang))]
                seed = gr.Textbox("0", label=say("seed", lang), info=say("seed_info", lang), max_lines=1,
                                  elem_id="la-lab-seed")
                run = gr.Button(say("run", lang), variant="primary", elem_id="la-lab-run")
            with gr.Column(scale=2, min_width=380):
                claim = gr.Markdown(claim_markdown(FIRST, lang), elem_id="la-lab-claim")
                verdict = gr.HTML(verdict_html(None, lang), elem_id="la-lab-verdict-box")
                plots = [charts.chart(f"la-lab-plot-{i}", series="series", height=300, visible=False)
                         for i in range(PLOTS)]
                # a name is code (snake_case): whole on its line, the table scrolling sideways on a narrow screen
                finding = gr.Dataframe(finding_frame(None, lang), label=say("finding", lang), interactive=False,
                                       wrap=True, column_widths=["62%", "38%"], elem_id="la-lab-finding")
        state = gr.State(None)
    tr_ui.add(lab, lambda lg: gr.Tab(label=say("tab", lg)))
    tr_ui.add(intro, lambda lg: gr.update(value=say("intro", lg)))
    tr_ui.add(seed, lambda lg: gr.update(label=say("seed", lg), info=say("seed_info", lg)))
    tr_ui.add(run, lambda lg: gr.update(value=say("run", lg)))
    tr_ui.add(finding, lambda lg: gr.update(label=say("finding", lg)))
    ui = LabTab(experiment, slots, seed, run, claim, verdict, plots, finding, state)
    _wire(ui, lang_radio)
    return ui


def _wire(ui: LabTab, lang_radio: Any) -> None:
    private = {"api_visibility": "private", "show_progress": "hidden"}

    def on_experiment(name: str, lang: str) -> list[Any]:
        return [None, gr.update(info=experiment_info(name, lang)),
                *(gr.update(**props) for props in slot_props(name, lang)), *outputs_for(None, name, lang)]

    ui.experiment.input(on_experiment, [ui.experiment, lang_radio], [ui.state, ui.experiment, *ui.slots, *ui.outputs],
                        **private)
    ui.run.click(run_lab, [ui.experiment, ui.seed, lang_radio, *ui.slots], [ui.state, *ui.outputs],
                 api_visibility="private").then(label_updates, [ui.state], ui.labelled, **private)

    def on_language(lang: str, name: str, state: dict[str, Any] | None) -> list[Any]:
        """Every text of the tab in `lang`: the choices, the slots' labels (their values kept), the last run again."""
        record = None
        if state is not None:
            with as_gradio_errors(lang, "lab"):
                record = run_experiment(state["name"], state["params"], seed=state["seed"], lang=lang)
            state = {**state, "labels": plot_labels(record)}
        return [state, gr.update(choices=experiment_choices(lang), value=name, label=say("experiment", lang),
                                 info=experiment_info(name, lang)),
                *(gr.update(**props) for props in slot_props(name, lang, with_values=False)),
                *outputs_for(record, state["name"] if state else name, lang)]

    lang_radio.change(on_language, [lang_radio, ui.experiment, ui.state],
                      [ui.state, ui.experiment, *ui.slots, *ui.outputs], **private) \
        .then(label_updates, [ui.state], ui.labelled, **private)
