"""Confusion counts -> metrics (article 003's TP=20, FP=5, FN=10, TN=65), from counts and from masks."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spec_code import run_torch_code

import lossapp
from lossapp.confusion_metrics import confusion, confusion_from_masks, confusion_from_params
from lossapp.i18n import has_zh
from lossapp.inputs import InputError
from lossapp.losses.confusion import METRICS, reference_from_counts

GOLDEN = {"precision": 0.8, "recall": 20 / 30, "f1": 40 / 55, "dice": 40 / 55, "dice_loss": 15 / 55,
          "iou": 20 / 35, "accuracy": 0.85, "specificity": 65 / 70,
          "mcc": (20 * 65 - 5 * 10) / math.sqrt(25 * 30 * 70 * 75)}


def _np_metrics(tp: int, fp: int, fn: int, tn: int) -> dict[str, float]:
    """Textbook formulas, independent of lossapp (numpy; NaN for 0/0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.float64
        dice = f(2 * tp) / f(2 * tp + fp + fn)
        return {"precision": f(tp) / f(tp + fp), "recall": f(tp) / f(tp + fn), "f1": dice, "dice": dice,
                "dice_loss": 1 - dice, "iou": f(tp) / f(tp + fp + fn), "accuracy": f(tp + tn) / f(tp + fp + fn + tn),
                "specificity": f(tn) / f(tn + fp),
                "mcc": f(tp * tn - fp * fn) / np.sqrt(f(tp + fp) * f(tp + fn) * f(tn + fp) * f(tn + fn))}


def test_article_003_golden_counts() -> None:
    r = confusion(20, 5, 10, 65)
    assert r.value == pytest.approx(0.7272727272727273, abs=1e-15)
    m = r.to_dict()["metrics"]
    assert set(m) == set(METRICS)
    for key, expected in GOLDEN.items():
        assert m[key] == pytest.approx(expected, abs=1e-15), key
    # the article's rounded values
    assert round(m["precision"], 4) == 0.8 and round(m["recall"], 4) == 0.6667
    assert round(m["f1"], 5) == 0.72727 and round(m["dice_loss"], 5) == 0.27273
    assert round(m["iou"], 4) == 0.5714 and m["accuracy"] == 0.85 and round(m["specificity"], 4) == 0.9286
    assert round(m["mcc"], 4) == 0.6299
    assert r.reference.agrees and r.reference.abs_diff < 1e-15
    assert r.to_dict()["counts"] == {"tp": 20, "fp": 5, "fn": 10, "tn": 65}


def test_steps_have_the_numbers_and_the_identity() -> None:
    r = confusion(20, 5, 10, 65)
    assert r.step("P").substituted() == [r"\frac{20}{20 + 5}"]
    assert r.step("R").substituted() == [r"\frac{20}{20 + 10}"]
    assert r.step("Dice").substituted() == [r"\frac{2 \cdot 20}{2 \cdot 20 + 5 + 10} = \frac{40}{55}"]
    identity = r.step("F1")
    assert "2PR" in identity.formula and "2TP" in identity.formula and r"\mathrm{Dice}" in identity.formula
    assert identity.substituted() == [r"\frac{2 \cdot 0.8 \cdot 0.6667}{0.8 + 0.6667} = \frac{1.067}{1.467} = "
                                      r"\frac{2 \cdot 20}{2 \cdot 20 + 5 + 10} = 0.7273"]
    assert "(TP+FP)(TP+FN)/TP" in identity.note
    assert r.step("MCC").substituted()[0].startswith(r"\frac{20 \cdot 65 - 5 \cdot 10}{\sqrt{25 \cdot 30 \cdot 70 \cdot 75}}")
    for s in r.steps:
        assert has_zh(s.title), s.title
        assert not s.note or has_zh(s.note), s.note


@pytest.mark.parametrize("metric", METRICS)
def test_metric_chooses_the_value(metric: str) -> None:
    r = confusion(20, 5, 10, 65, metric=metric)
    assert r.value == pytest.approx(GOLDEN[metric], abs=1e-15)
    assert r.reference.agrees, r.reference
    data = r.to_dict()
    json.dumps(data, allow_nan=False)
    assert data["value"] == r.value and data["metric"] == metric
    assert data["loss"] == "confusion" and data["gradient"] is None
    assert data["params"]["metric"] == metric


def test_metric_aliases_and_bad_metric() -> None:
    assert confusion(20, 5, 10, 65, metric="Jaccard").value == pytest.approx(GOLDEN["iou"])
    assert confusion(20, 5, 10, 65, metric="sensitivity").value == pytest.approx(GOLDEN["recall"])
    with pytest.raises(InputError, match=r"expected metric one of precision, .*, got 'auc'") as info:
        confusion(20, 5, 10, 65, metric="auc")
    assert has_zh(info.value)


def test_without_tn_the_tn_metrics_are_skipped() -> None:
    r = confusion(20, 5, 10)
    m = r.to_dict()["metrics"]
    assert m["accuracy"] is None and m["specificity"] is None and m["mcc"] is None
    assert m["dice"] == pytest.approx(40 / 55)
    assert any("tn not given" in w for w in r.warnings) and all(has_zh(w) for w in r.warnings)
    assert "Acc" not in {s.symbol for s in r.steps}
    for metric in ("accuracy", "specificity", "mcc"):
        with pytest.raises(InputError, match=f"expected tn for metric {metric}, got none"):
            confusion(20, 5, 10, metric=metric)
    assert confusion(20, 5, 10, "").to_dict()["counts"]["tn"] is None


@pytest.mark.parametrize(("counts", "undefined"), [
    ((0, 0, 0, 0), set(METRICS)),
    ((0, 0, 5, 5), {"precision", "mcc"}),   # nothing predicted positive: P = 0/0; Dice = 0/5 = 0
    ((0, 5, 0, 5), {"recall", "mcc"}),      # no positives in the target
    ((3, 0, 2, 0), {"specificity", "mcc"}),  # no negatives at all
    ((0, 0, 0, 7), {"precision", "recall", "f1", "dice", "dice_loss", "iou", "mcc"}),
])
def test_zero_denominators_are_nan_with_a_note(counts: tuple[int, ...], undefined: set[str]) -> None:
    for metric in METRICS:
        r = confusion(*counts, metric=metric)
        data = r.to_dict()
        json.dumps(data, allow_nan=False)
        m = data["metrics"]
        assert {k for k, v in m.items() if v is None} == undefined
        assert r.reference.agrees, (metric, r.reference)
        if metric in undefined:
            assert math.isnan(r.value) and data["value"] is None
            assert any("0/0" in w for w in r.warnings)
    r = confusion(*counts)
    notes = [s.note for s in r.steps if "undefined" in s.note]
    assert notes and all(has_zh(n) for n in notes)


def test_f1_with_tp_zero_is_zero_not_undefined() -> None:
    r = confusion(0, 4, 6, 10, metric="f1")
    assert r.value == 0.0 and r.reference.agrees
    assert "cannot be evaluated" in r.step("F1").note


@pytest.mark.parametrize(("raw", "shown"), [(-3, "-3"), ("-3", "-3"), (2.5, "2.5"), ("abc", "'abc'"), (True, "True"),
                                            (None, "nothing"), ("", "nothing"), (float("nan"), "nan"),
                                            ([1, 2], "a list")])
def test_bad_counts(raw: object, shown: str) -> None:
    with pytest.raises(InputError) as info:
        confusion(raw, 1, 2, 3)
    assert str(info.value) == f"expected a non-negative integer count for tp, got {shown}"
    assert has_zh(info.value)
    with pytest.raises(InputError, match="for tn, got"):
        confusion(1, 1, 1, -1)


def test_counts_as_text_or_integral_floats() -> None:
    assert confusion("20", "5", "10", "65").value == confusion(20.0, 5, 10, 65).value == pytest.approx(40 / 55)
    with pytest.raises(InputError, match="at most 10"):
        confusion(10 ** 16, 0, 0)


def test_large_counts_use_the_count_formula_reference() -> None:
    r = confusion(3_000_000, 1_000, 2_000, 7_000_000, metric="mcc")
    assert r.reference.agrees and "formula on the counts" in r.reference.name
    expected = _np_metrics(3_000_000, 1_000, 2_000, 7_000_000)["mcc"]
    assert r.value == pytest.approx(float(expected), rel=1e-14)


@settings(max_examples=60, deadline=None)
@given(tp=st.integers(0, 60), fp=st.integers(0, 60), fn=st.integers(0, 60), tn=st.integers(0, 60))
def test_property_metrics_against_numpy_and_the_mask_reference(tp: int, fp: int, fn: int, tn: int) -> None:
    r = confusion(tp, fp, fn, tn)
    expected = _np_metrics(tp, fp, fn, tn)
    for key in METRICS:
        got = r.extra["metrics"][key]
        if math.isnan(expected[key]):
            assert math.isnan(got), key
        else:
            assert got == pytest.approx(float(expected[key]), rel=1e-12, abs=1e-15), key
        ref, _ = reference_from_counts({"tp": tp, "fp": fp, "fn": fn, "tn": tn}, key)
        assert (math.isnan(ref.item()) and math.isnan(got)) or ref.item() == pytest.approx(got, rel=1e-12, abs=1e-14)
    assert r.extra["metrics"]["f1"] == r.extra["metrics"]["dice"] or math.isnan(r.extra["metrics"]["dice"])


@settings(max_examples=40, deadline=None)
@given(pairs=st.lists(st.tuples(st.floats(0, 1, width=32), st.sampled_from([0, 1])), min_size=1, max_size=30),
       threshold=st.sampled_from([0.25, 0.5, 0.75]))
def test_property_masks_give_the_counts(pairs: list[tuple[float, int]], threshold: float) -> None:
    pred = np.array([p for p, _ in pairs])
    target = np.array([t for _, t in pairs])
    yhat = pred >= threshold
    tp, fp = int(np.sum(yhat & (target == 1))), int(np.sum(yhat & (target == 0)))
    fn, tn = int(np.sum(~yhat & (target == 1))), int(np.sum(~yhat & (target == 0)))
    for metric in ("dice", "mcc", "accuracy"):
        r = confusion_from_masks(pred.tolist(), target.tolist(), threshold=threshold, metric=metric)
        assert r.extra["counts"] == {"tp": tp, "fp": fp, "fn": fn, "tn": tn}
        assert r.reference.agrees
        c = confusion(tp, fp, fn, tn, metric=metric)
        assert (math.isnan(r.value) and math.isnan(c.value)) or r.value == c.value


def test_masks_steps_and_table() -> None:
    r = confusion_from_masks("[0.9, 0.2, 0.6, 0.5]", "[1, 0, 0, 1]")
    assert r.step("ŷ").value_list() == [1.0, 0.0, 1.0, 1.0]  # 0.5 >= 0.5 is positive
    assert r.step("ŷ").substituted()[3] == r"[0.5 \ge 0.5]"
    assert r.step("TP_i").value_list() == [1.0, 0.0, 0.0, 1.0]
    assert r.step("TP").substituted() == ["1 + 0 + 0 + 1"]
    assert r.extra["counts"] == {"tp": 2, "fp": 1, "fn": 0, "tn": 1}
    assert r.value == pytest.approx(4 / 5)
    table = r.table()
    assert len(table) == 4 and {"pred", "target", "ŷ", "TP_i", "FP_i", "FN_i", "TN_i"} <= set(table.columns)
    binary = confusion_from_masks([1, 0, 1], [1, 1, 0], threshold=0.9)
    assert "used as it is" in binary.step("ŷ").note
    assert binary.extra["counts"] == {"tp": 1, "fp": 1, "fn": 1, "tn": 0}


@pytest.mark.parametrize(("pred", "target", "message"), [
    ([0.2, 1.5], [0, 1], r"pred: expected probabilities in \[0, 1\], got 1.5 at index 1 \(a 0/1 mask works too\)"),
    ([0.2, 0.5], [0, 0.5], r"target: expected 0/1 labels, got 0.5 at index 1 \(the target is a 0/1 mask\)"),
    ([0.2, 0.5], [0, 1, 1], r"pred \(2,\) and target \(3,\)"),
])
def test_bad_masks(pred: list, target: list, message: str) -> None:
    with pytest.raises(InputError, match=message):
        confusion_from_masks(pred, target)


def test_compute_delegates_to_confusion() -> None:
    a = lossapp.compute("confusion", None, tp=20, fp=5, fn=10, tn=65, metric="iou")
    assert a.value == pytest.approx(20 / 35) and a.reference.agrees
    b = lossapp.compute("confusion", "[1, 0, 1]", "[1, 1, 0]", threshold=0.5)
    assert b.value == pytest.approx(0.5)
    assert confusion_from_params(tp="20", fp="5", fn="10", tn="").extra["counts"]["tn"] is None
    with pytest.raises(InputError, match="got both"):
        lossapp.compute("confusion", "[1, 0]", "[1, 1]", tp=1, fp=1, fn=1)
    with pytest.raises(InputError, match="got neither"):
        lossapp.compute("confusion", None)
    with pytest.raises(InputError, match="unknown parameter"):
        lossapp.compute("confusion", None, tp=1, fp=1, fn=1, bogus=2)
    with pytest.raises(InputError, match="expected a non-negative integer count for fn, got nothing"):
        lossapp.compute("confusion", None, tp=1, fp=1)


def test_registered_spec() -> None:
    spec = lossapp.LOSSES["confusion"]
    assert spec.family == "metrics" and spec.pred_kind == "counts" and not spec.differentiable
    assert [p.name for p in spec.params] == ["tp", "fp", "fn", "tn", "metric", "threshold"]
    assert lossapp.lookup("F1") is spec and lossapp.lookup("confusion_matrix") is spec
    assert spec.torch_code.strip() and "Reference" in (spec.steps.__doc__ or "")
    for text in (spec.title, spec.summary, *(p.description for p in spec.params)):
        assert has_zh(text), text
    # the spec's own steps/reference functions agree with confusion()
    import torch

    from lossapp.trace import Trace
    params = spec.resolve_params({"tp": 20, "fp": 5, "fn": 10, "tn": 65, "metric": "mcc"})
    trace = Trace()
    value = spec.steps(trace, None, None, params, "none")
    assert value.item() == pytest.approx(GOLDEN["mcc"], abs=1e-15)
    assert spec.reference(None, None, params, "none").item() == pytest.approx(GOLDEN["mcc"], abs=1e-14)
    masks = spec.steps(Trace(), torch.tensor([0.9, 0.1]), torch.tensor([1.0, 1.0]), spec.resolve_params({}), "none")
    assert masks.item() == pytest.approx(2 / 3)
    # the torch snippet computes the same (our own registered code, not user text)
    value = run_torch_code(spec.torch_code, tp=20, fp=5, fn=10, tn=65, metric="specificity")
    assert value.item() == pytest.approx(GOLDEN["specificity"])


def test_lossapp_confusion_stays_the_function() -> None:
    import lossapp.confusion_metrics as module

    assert lossapp.confusion is module.confusion
    assert lossapp.confusion(20, 5, 10, 65).value == pytest.approx(40 / 55)


def test_example_tomls() -> None:
    from lossapp.examples import find_example, run_example

    counts = find_example("003_confusion_counts")
    # the article derives Dice = F1 but prints no number: 0.7273 is lossapp's value, not a stated one (issue 12)
    assert counts.stated is None and "0.7273 is lossapp's value, not the article's" in counts.notes
    result, verdict = run_example(counts)
    assert round(result.scalar, 4) == 0.7273 and verdict is None
    dice = find_example("003_dice_loss")
    result, _ = run_example(dice)
    assert result.value == pytest.approx(1 - (6 + 1e-8) / (8 + 1e-8), abs=1e-15)
    assert result.reference.agrees and result.gradient.agrees
