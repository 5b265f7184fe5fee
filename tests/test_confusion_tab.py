"""lossapp.ui.confusion_tab: a failed computation clears the previous result and says why in the result area;
the marker of the input at fault rides on its error (browser-tested in tests/test_browser_confusion.py)."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pytest

from lossapp.inputs import InputError
from lossapp.inputs.errors import fields_at_fault
from lossapp.ui import confusion_tab
from lossapp.ui.common import Translations, esc
from lossapp.ui.strings import t


@pytest.fixture(scope="module")
def wired() -> tuple[confusion_tab.ConfusionTab, gr.Blocks]:
    with gr.Blocks() as blocks:
        lang = gr.Radio(["en", "zh"], value="en")
        tab = confusion_tab.build(Translations())
        confusion_tab.wire(tab, lang)
    return tab, blocks


@pytest.mark.parametrize(("counts", "fields", "words"), [
    ((-1, 5, 10, 65, "dice", ""), ("tp",), "count for tp, got -1"),
    ((20, 5, 1.5, 65, "dice", ""), ("fn",), "count for fn, got 1.5"),
    ((20, 5, 10, None, "mcc", ""), ("tn", "metric"), "expected tn for metric mcc"),
    ((20, 5, 10, 65, "dice", "abc"), ("claimed",), "claimed: expected a number"),
])
def test_a_bad_count_metric_or_claim_names_its_field_and_clears_the_result(wired, counts: tuple[Any, ...],
                                                                           fields: tuple[str, ...],
                                                                           words: str) -> None:
    tab, _ = wired
    with pytest.raises(gr.Error) as failed:
        tab.extra["on_counts"]("en", *counts)
    assert isinstance(failed.value.__context__, InputError)
    assert fields_at_fault(failed.value.__context__) == fields
    state, headline, matrix, table, identity, steps = tab.extra["on_counts_failed"]("en", *counts)
    assert state["result"] is None and state["failed"] is True
    assert t("compute_failed", "en") in headline and 'class="la-result-error"' in headline and words in headline
    assert "la-dice-f1" not in headline and identity == "" and steps == ""
    rounded = "≈ (4 sig. digits)"  # what the last column is, not a cryptic "≈"
    assert table.empty and list(table.columns) == [t("col_metric", "en"), t("col_value", "en"), rounded]  # no 1, 2, 3
    assert 'id="la-cm-tp">—' in matrix  # the previous counts' matrix is gone
    zh_headline = confusion_tab.render_outputs(state, "zh")[0]  # the language switch renders the message again
    assert t("compute_failed", "zh") in zh_headline and esc(failed.value.__context__.render("zh")) in zh_headline


def test_bad_masks_clear_the_result_and_name_the_mask() -> None:
    state = confusion_tab.failed_state(confusion_tab.masks_state, "[0.9, x]", "[1, 0]", 0.5, "dice")
    assert state["result"] is None and "pred: expected a number" in confusion_tab.render_outputs(state, "en")[0]
    good = confusion_tab.masks_state("[0.9, 0.2]", "[1, 0]", 0.5, "dice")
    assert good["result"].extra["counts"] == {"tp": 1, "fp": 0, "fn": 0, "tn": 1}


def test_a_good_computation_after_a_failed_one_shows_its_result(wired) -> None:
    tab, _ = wired
    state, headline, *_ = tab.extra["on_counts"]("en", 20, 5, 10, 65, "dice", "0.7273")
    assert state["result"] is not None and 'id="la-dice-f1"' in headline and "exact" in headline


def test_counts_reach_the_library_unchanged(wired) -> None:
    """No bounds or rounding in the number boxes: a negative or fractional count gets lossapp's message at its
    field, not Gradio's own (English, unmarked) error or a silent rounding."""
    tab, _ = wired
    for box in (tab.tp, tab.fp, tab.fn, tab.tn):
        assert box.preprocess(-1) == -1 and box.preprocess(1.5) == 1.5


def test_every_computation_of_the_tab_clears_the_result_when_it_fails(wired) -> None:
    tab, blocks = wired
    config = blocks.get_config_file()
    ids = {id(block): key for key, block in blocks.blocks.items()}
    cleared = {ids[id(c)] for c in (tab.state, *tab.outputs)}
    on_failure = [d for d in config["dependencies"] if d["trigger_only_on_failure"] and set(d["outputs"]) == cleared]
    assert len(on_failure) == 2  # the counts' Compute and the masks' button


def test_the_metrics_tables_rounded_column_says_what_it_is_and_holds_plain_numbers() -> None:
    state = confusion_tab.counts_state(20, 5, 10, 65, "dice", "")
    for lang, heading in (("en", "≈ (4 sig. digits)"), ("zh", "≈（4 位有效数字）")):
        table = confusion_tab.render_outputs(state, lang)[2]
        assert list(table.columns)[-1] == heading
    rounded = dict(zip(table.iloc[:, 0], table.iloc[:, 2], strict=True))
    assert rounded["recall"] == "0.6667" and rounded["accuracy"] == "0.85"
    tiny = confusion_tab.counts_state(1, 0, 99_999, 0, "dice", "")  # recall 1e-05: plain text, not LaTeX
    assert dict(zip(*(confusion_tab.render_outputs(tiny, "en")[2].iloc[:, i] for i in (0, 2)), strict=True))[
        "recall"] == "1e-05"
