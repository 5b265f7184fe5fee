"""lossapp.ui.calculator's events, called as Gradio calls them (no browser): every loss computes from what the
calculator sends untouched, a failed Compute clears the result, switching the loss never reuses inputs of another
kind silently. tests/test_browser_traps.py checks the same in Chromium."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pytest
from stray_english import stray_english

import lossapp
from lossapp import render, service
from lossapp.inputs import InputError
from lossapp.inputs.errors import fields_at_fault
from lossapp.registry import LOSSES
from lossapp.ui import calculator
from lossapp.ui.common import Translations
from lossapp.ui.strings import t


@pytest.fixture(scope="module")
def wired() -> tuple[calculator.Calculator, Any, gr.Blocks]:
    with gr.Blocks() as blocks:
        lang = gr.Radio(["en", "zh"], value="en")
        calc = calculator.build(Translations())
        calculator.wire(calc, lang)
    return calc, lang, blocks


def no_progress(*args: Any, **kwargs: Any) -> None:
    return None


def compute_data(calc: calculator.Calculator, lang: Any, loss: str, pred: str, target: str | None,
                 random_state: dict | None = None, **params: Any) -> dict[Any, Any]:
    """What Compute sends for `loss` with every control at its initial value (but `params`)."""
    data = {lang: "en", calc.loss: loss, calc.pred: pred, calc.target: target or "", calc.pred_file: None,
            calc.target_file: None, calc.reduction: LOSSES[loss].default_reduction, calc.device: "cpu",
            calc.dtype: "float32", calc.claimed: "", calc.random_state: random_state, calc.state: None,
            calc.inputs_for: loss, calc.input_note: ""}
    for c in calc.controls:
        data[c.component] = params.get(c.param.name, c.component.value) if c.spec == loss else c.component.value
    return data


def test_an_optional_number_parameter_starts_empty_not_zero(wired) -> None:
    """focal's avg_factor (off by default) is an empty text box: a number box would send 0, which it refuses."""
    calc, lang, _ = wired
    avg_factor = next(c for c in calc.controls if c.spec == "focal" and c.param.name == "avg_factor")
    assert isinstance(avg_factor.component, gr.Textbox) and avg_factor.component.value == ""
    _state, value, _ = calc.extra["on_compute"](compute_data(calc, lang, "focal", "[0.45, 0.7]", "[1, 0]"),
                                               no_progress)
    expected = render.value_text(lossapp.compute("focal", "[0.45, 0.7]", "[1, 0]").value)
    assert f'id="la-value">{expected}<' in value
    data = compute_data(calc, lang, "focal", "[0.45, 0.7]", "[1, 0]", avg_factor=" 2 ")
    assert calc.extra["on_compute"](data, no_progress)[0]["result"].params["avg_factor"] == 2.0


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning")
@pytest.mark.parametrize("loss", [spec.name for spec in service.calculator_specs()])
def test_every_loss_computes_from_its_example_and_from_random_input(wired, loss: str) -> None:
    """Defaults (the example, the controls as they start) and the seeded random input of the kinds the
    calculator preselects for the loss: both compute, and the random one's snippet is the library's."""
    calc, lang, _ = wired
    spec = LOSSES[loss]
    example = compute_data(calc, lang, loss, str(spec.example["pred"]), spec.example.get("target") and
                           str(spec.example["target"]))
    state, value, _ = calc.extra["on_compute"](example, no_progress)
    assert state["result"] is not None and 'id="la-value"' in value
    made = service.random_input(0, "2, 3", *service.default_random_kinds(spec), 0, spec)
    random_state = {"pred_text": made.pred_text, "target_text": made.target_text, "sources": made.sources}
    data = compute_data(calc, lang, loss, made.pred_text, made.target_text, random_state)
    state, value, _ = calc.extra["on_compute"](data, no_progress)
    result = state["result"]
    assert result.reference.agrees, (loss, result.reference)
    details = calc.extra["on_details"](state, "en", no_progress)
    snippet = details[calc.extra["details_outputs"].index(calc.snippet)]
    assert snippet == render.torch_snippet(result, sources=made.sources)
    assert "torch.manual_seed(0)" in snippet


def test_a_failed_compute_clears_the_result_and_says_so(wired) -> None:
    calc, _, blocks = wired
    failed = calculator.on_failure("en")
    assert failed[0] == calculator.FAILED
    value, warnings, solution, table, note, comparison, *charts, _plot_note, snippet = failed[1:1 + len(calc.outputs)]
    assert t("compute_failed", "en") in value and "la-value" not in value and "la-badge" not in value
    assert (warnings, solution, table, note, comparison, snippet) == ("", "", "", "", "", "")  # tables are HTML
    loss_box, loss_title, _, loss_legend, dloss_box, dloss_title, _, dloss_legend = charts  # each: charts.Chart.parts
    assert loss_box["visible"] is False and dloss_box["visible"] is False
    assert loss_title == loss_legend == dloss_title == dloss_legend == ""
    downloads = failed[1 + len(calc.outputs):]
    assert all(update["interactive"] is False for update in downloads) and len(downloads) == len(calc.downloads)
    assert t("compute_failed", "zh") in calculator.render_outputs(calculator.FAILED, "zh")[0]
    # wired after both events of the computation: the value's and the details'
    config = blocks.get_config_file()
    ids = {id(block): key for key, block in blocks.blocks.items()}
    cleared = {ids[id(c)] for c in (calc.state, *calc.outputs, *calc.downloads.values())}
    on_failure = [d for d in config["dependencies"] if d["trigger_only_on_failure"]
                  and set(d["outputs"]) == cleared]
    assert len(on_failure) == 2


def switch(calc: calculator.Calculator, lang: Any, old: str, new: str, pred: str | None = None,
           reduction: str | None = None, **params: Any) -> dict[Any, Any]:
    """switch_inputs after the person picked `new` while the inputs were entered for `old`; its updates by
    component."""
    spec = LOSSES[old]
    data = compute_data(calc, lang, new, spec.example["pred"] if pred is None else pred, "", **params)
    data[calc.inputs_for] = old
    data[calc.reduction] = reduction or spec.default_reduction
    updates = calculator.switch_inputs(calc, data)
    outputs = calculator.switch_outputs(calc)
    assert len(updates) == len(outputs)
    return dict(zip(outputs, updates, strict=True))


def test_switching_to_a_loss_of_other_input_kinds_loads_its_example_and_says_why(wired) -> None:
    calc, lang, _ = wired
    got = switch(calc, lang, "bce", "cross_entropy")
    ce = LOSSES["cross_entropy"].example
    assert got[calc.pred]["value"] == ce["pred"] and got[calc.target]["value"] == ce["target"]
    note = got[calc.input_note]
    assert note.startswith("Inputs replaced by the example of Cross-entropy: it reads pred as logits")
    assert "Binary cross-entropy (BCE) read probabilities" in note
    assert got[calc.inputs_for] == "cross_entropy" and got[calc.state] is None
    assert got[calc.random_state] is None and got[calc.claimed] == ""
    assert t("nothing_yet", "en") in got[calc.value]  # the other loss's result is gone


def test_switching_to_a_loss_of_the_same_input_kinds_keeps_the_inputs_and_says_so(wired) -> None:
    calc, lang, _ = wired
    got = switch(calc, lang, "bce_with_logits", "focal")
    assert got[calc.pred] == gr.update() and got[calc.target] == gr.update()
    assert got[calc.input_note].startswith("Inputs kept: Focal loss (sigmoid) reads them as BCE with logits did")
    assert got[calc.inputs_for] == "focal" and got[calc.state] is None
    # focal on probabilities (its `input` parameter) reads what BCE reads
    kept = switch(calc, lang, "bce", "focal", input="probabilities")
    assert kept[calc.pred] == gr.update() and "pred: probabilities" in kept[calc.input_note]
    replaced = switch(calc, lang, "bce", "focal")
    assert replaced[calc.pred]["value"] == LOSSES["focal"].example["pred"]


def test_switching_with_no_inputs_loads_the_example_quietly_and_the_same_loss_changes_nothing(wired) -> None:
    calc, lang, _ = wired
    got = switch(calc, lang, "bce", "cross_entropy", pred=" ")
    assert got[calc.pred]["value"] == LOSSES["cross_entropy"].example["pred"] and got[calc.input_note] == ""
    same = switch(calc, lang, "bce", "bce")
    assert all(update == gr.update() for update in same.values())


def test_the_input_line_follows_the_input_parameter() -> None:
    ce = LOSSES["cross_entropy"]
    assert "input: logits ·" in calculator.spec_info(ce, "en")
    assert "input: probabilities ·" in calculator.spec_info(ce, "en", {"input": "probabilities"})
    assert "输入: 对数概率 ·" in calculator.spec_info(ce, "zh", {"input": "log_probabilities"})


def test_switching_resets_the_reduction_to_the_new_losss_default_unless_one_was_chosen(wired) -> None:
    calc, lang, _ = wired
    assert switch(calc, lang, "l1", "l1_penalty")[calc.reduction] == gr.update(
        choices=list(LOSSES["l1_penalty"].reductions), value="sum")  # a penalty sums by default
    assert switch(calc, lang, "l1_penalty", "l1")[calc.reduction]["value"] == "mean"
    assert switch(calc, lang, "bce", "dice", reduction="sum")[calc.reduction]["value"] == "sum"  # chosen: kept
    assert switch(calc, lang, "l1", "kl_div", reduction="none")[calc.reduction]["value"] == "none"


def test_the_switch_note_is_rendered_again_in_the_chosen_language(wired) -> None:
    calc, lang, _ = wired
    for old, new in (("bce", "cross_entropy"), ("bce_with_logits", "focal")):
        note = switch(calc, lang, old, new)[calc.extra["note"]]
        en, zh = calculator.input_note_text(note, "en"), calculator.input_note_text(note, "zh")
        assert en.startswith("Inputs") and zh.startswith("输入") and stray_english(zh) == [], zh
    assert calculator.input_note_text(None, "zh") == ""


def test_after_a_compute_the_inputs_are_the_computed_losss(wired) -> None:
    """An article example or a shared link sets the loss and the inputs, then computes: the next switch compares
    with that loss."""
    calc, _, blocks = wired
    assert calculator.computed_loss({"result": lossapp.compute("nll", "[[-0.5, -1.2]]", "[0]")}) == "nll"
    assert calculator.computed_loss(None) is None
    config = blocks.get_config_file()
    ids = {id(block): key for key, block in blocks.blocks.items()}
    assert any(d["trigger_only_on_success"] and d["outputs"] == [ids[id(calc.inputs_for)]]
               and d["inputs"] == [ids[id(calc.state)]] for d in config["dependencies"])


def _kind_representatives() -> list[str]:
    """One loss of each kind of inputs (pred's kind as its parameters start, target's kind) in the registry."""
    seen: dict[tuple[str, str | None], str] = {}
    for spec in service.calculator_specs():
        seen.setdefault((spec.input_kind({}), spec.target_kind), spec.name)
    return list(seen.values())


def _computes_or_blames_a_field(calc: calculator.Calculator, data: dict[Any, Any]) -> None:
    """Compute: a value, or an input's message that names the field at fault (shown next to it in the page)."""
    try:
        state, value, _ = calc.extra["on_compute"](data, no_progress)
    except gr.Error as failed:
        error = failed.__context__
        assert isinstance(error, InputError), (data[calc.loss], failed.message)
        assert fields_at_fault(error), (data[calc.loss], str(error))
        assert "expected" in str(error) and "got" in str(error)
        return
    assert state["result"] is not None and 'id="la-value"' in value


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("new", [spec.name for spec in service.calculator_specs()])
def test_switching_to_any_loss_from_every_kind_of_loss_computes_or_blames_a_field(wired, new: str) -> None:
    """As a person would: inputs entered for a loss of each other kind (its example, or its random input of two
    classes), the new loss picked in the dropdown (switch_inputs), Compute; then the new loss's random input of two
    classes generated, Compute. Each computes, or its message names the input at fault (softmax_focal's example α
    has three entries: with two classes the message is at α and says both)."""
    calc, lang, _ = wired
    for old in _kind_representatives():
        if old == new:
            continue
        spec = LOSSES[old]
        made = service.random_input(0, "4, 2", *service.default_random_kinds(spec), 0, spec)
        for pred, target in ((spec.example["pred"], spec.example.get("target")), (made.pred_text, made.target_text)):
            data = compute_data(calc, lang, old, str(pred), target and str(target))
            data[calc.loss] = new
            for component, update in zip(calculator.switch_outputs(calc), calculator.switch_inputs(calc, data),
                                         strict=True):
                if isinstance(update, dict) and "value" in update:
                    data[component] = update["value"]
                elif not isinstance(update, dict):
                    data[component] = update
            _computes_or_blames_a_field(calc, data)
    spec = LOSSES[new]
    made = service.random_input(0, "4, 2", *service.default_random_kinds(spec), 0, spec)
    data = compute_data(calc, lang, new, made.pred_text, made.target_text, **(spec.example.get("params") or {}))
    _computes_or_blames_a_field(calc, data)


def test_a_per_class_parameter_of_other_length_than_the_classes_is_blamed_at_it(wired) -> None:
    calc, lang, _ = wired
    data = compute_data(calc, lang, "softmax_focal", "[[2.0, 0.5], [0.1, 1.5]]", "[0, 1]", alpha="[0.25, 0.5, 0.25]")
    with pytest.raises(gr.Error) as failed:
        calc.extra["on_compute"](data, no_progress)
    assert fields_at_fault(failed.value.__context__) == ("param:alpha",)
    assert "parameter alpha: expected one value per class, shape (2,)" in failed.value.message
    assert "got shape (3,)" in failed.value.message
