"""The Lab tab's wiring without a browser: the slots follow the experiment's parameters, a run fills the claim,
the verdict, one plot per panel (data first, labels and colours second) and the finding; bad input is the user's
error modal in their language."""

from __future__ import annotations

import pytest

from lossapp.examples import source_title
from lossapp.i18n import tr
from lossapp.lab import EXPERIMENTS, cited, run_experiment
from lossapp.ui.common import gr
from lossapp.ui.lab_tab import (
    PLOTS,
    SLOTS,
    experiment_choices,
    experiment_info,
    label_updates,
    panel_frames,
    plot_labels,
    run_lab,
    say,
    slot_props,
    verdict_html,
)


def test_slots_show_each_parameter_with_what_it_accepts() -> None:
    assert max(len(e.params) for e in EXPERIMENTS.values()) == SLOTS
    props = slot_props("l1_l2_smooth_l1", "en")
    assert [p.get("label") for p in props if p["visible"]] == ["lr", "steps", "outlier", "beta", "schedule"]
    assert props[0]["value"] == "0.5" and props[0]["info"].endswith("a number in (0, 10]")
    assert props[1]["info"].endswith("a whole number in [10, 2000]")
    assert props[4]["info"].endswith("one of constant, decaying")
    assert all(not p["visible"] for p in props[5:])
    assert "value" not in slot_props("l1_l2_smooth_l1", "zh", with_values=False)[0]  # a language switch keeps them


def test_the_chosen_experiments_whole_title_is_under_the_dropdowns_label() -> None:
    """The dropdown shows one line, cut short on a phone: its info line holds the whole title, which wraps."""
    for lang in ("en", "zh"):
        for label, name in experiment_choices(lang):
            assert experiment_info(name, lang) == tr(EXPERIMENTS[name].title, lang) and label.startswith(
                experiment_info(name, lang))


def test_a_run_fills_every_output_and_keeps_what_it_ran() -> None:
    values = ["1000", "10", "0.25", "2", "-1", "1"]  # negative_logit = 1: the claim fails
    state, claim, verdict, *rest = run_lab("focal_imbalance", "0", "zh", *values)
    boxes, plots, finding = rest[:PLOTS], rest[PLOTS:2 * PLOTS], rest[2 * PLOTS]
    assert state["name"] == "focal_imbalance" and state["params"]["negative_logit"] == "1" and state["seed"] == "0"
    assert "论断" in claim and source_title("000_6833348b64a02e28.txt", "zh") in claim and ".txt" not in claim
    assert 'data-holds="false"' in verdict and say("fails", "zh") in verdict
    record = run_experiment("focal_imbalance", state["params"], lang="zh")
    shown = [True] * len(record["panels"]) + [False] * (PLOTS - len(record["panels"]))
    assert [p["visible"] for p in plots] == shown and [b["visible"] for b in boxes] == shown
    assert list(finding.iloc[:, 0]) == list(record["finding"])
    labels = label_updates(state)  # each plot's axes and colours, then each chart's title, then its legend
    names = [s["name"] for s in record["series"] if s["panel"] == "share"]
    assert set(labels[0]["color_map"]) == set(names) and labels[0]["y_title"] == record["series"][0]["y_label"]
    assert record["panels"]["share"] in labels[PLOTS]
    legend = labels[2 * PLOTS]
    assert all(name in legend for name in names) and "数据系列" not in legend and "series" not in legend


def test_panels_split_the_series_and_drop_missing_points() -> None:
    record = run_experiment("hard_vs_soft_truncation")
    frames = panel_frames(record)
    assert [title for title, *_ in frames] == list(record["panels"].values())
    accuracy = frames[0][3]
    assert set(accuracy["series"]) == {s["name"] for s in record["series"] if s["panel"] == "accuracy"}
    assert len(plot_labels(record)) == len(frames)


def test_verdict_before_any_run() -> None:
    assert say("not_run", "zh") in verdict_html(None, "zh")


def test_bad_input_is_the_user_s_error_in_their_language() -> None:
    with pytest.raises(gr.Error) as caught:
        run_lab("focal_imbalance", "0", "zh", "abc")
    assert "ratio" in str(caught.value) and "期望" in str(caught.value)
    with pytest.raises(gr.Error):
        run_lab("focal_imbalance", "-1", "en")


@pytest.mark.parametrize("name", list(EXPERIMENTS))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_experiment_runs_from_the_tab_with_its_plots(name: str, lang: str) -> None:
    defaults = [str(p["value"]) for p in slot_props(name, lang) if p["visible"]]
    state, claim, verdict, *rest = run_lab(name, "0", lang, *defaults)
    panels = EXPERIMENTS[name].panels
    assert cited(EXPERIMENTS[name].article, lang) in claim
    assert 'data-holds="true"' in verdict and say("holds", lang) in verdict
    assert sum(1 for p in rest[PLOTS:2 * PLOTS] if p["visible"]) == len(panels)
    assert all(len(p["value"]) > 1 for p in rest[PLOTS:PLOTS + len(panels)])
    assert [label["title"] for label in state["labels"]] == [tr(title, lang) for title in panels.values()]
