"""hinge, multi_margin and zero_one: values and gradients against torch and against independent numpy
formulas; labels, shapes and warnings; Chinese for every visible string."""

from __future__ import annotations

import math
import random
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from point_cases import point_premise, repeated
from spec_code import run_torch_code

import lossapp
from lossapp.i18n import has_zh
from lossapp.inputs import InputError, limits
from lossapp.interval import POINT_METHOD, TINY, Box, U, enclose
from lossapp.losses.margin import hinge_point_error, hinge_steps, multi_margin_point_error
from lossapp.trace import Trace

DTYPES = {"float32": torch.float32, "float64": torch.float64}
TOL = {"float32": {"rtol": 2e-5, "atol": 1e-6}, "float64": {"rtol": 1e-9, "atol": 1e-12}}
REDUCTIONS = ("none", "mean", "sum")


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def _value(result: lossapp.Result) -> torch.Tensor:
    return result.value


def _grad(result: lossapp.Result, key: str = "manual") -> torch.Tensor:
    return torch.tensor(getattr(result.gradient, key), dtype=torch.float64)


# -- hinge ---------------------------------------------------------------------------------------------

HINGE_F = [0.8, -0.5, 1.5, 0.3, -2.0, 1.0, 0.0]
HINGE_Y = [1, -1, 1, -1, 1, 1, -1]  # f = 1, y = 1 sits exactly on the kink (margin − y·f = 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [1.0, 0.5, 2.0])
def test_hinge_matches_relu_reference(reduction: str, dtype: str, margin: float) -> None:
    result = lossapp.compute("hinge", HINGE_F, HINGE_Y, reduction=reduction, dtype=dtype, margin=margin)
    f = torch.tensor(HINGE_F, dtype=DTYPES[dtype], requires_grad=True)
    y = torch.tensor(HINGE_Y, dtype=DTYPES[dtype])
    ref = _reduce(torch.relu(margin - y * f), reduction)
    (g,) = torch.autograd.grad(ref, f, torch.ones_like(ref))
    torch.testing.assert_close(_value(result), ref.detach().double(), **TOL[dtype])
    torch.testing.assert_close(_grad(result), g.double(), **TOL[dtype])
    assert result.reference.agrees and result.gradient.agrees
    assert result.reference.name == "torch.relu(margin - y*f)"


def test_hinge_gradient_is_minus_y_over_n_inside_the_margin_and_plus_zero_outside(monkeypatch) -> None:
    """The closed-form gradient, branch-free and a block at a time, is element for element (signs of zeros too) −y/n
    where y·f < margin and +0 elsewhere: at the kink, at ±inf and subnormal scores, for float32 scores, across blocks."""
    import math

    import lossapp.losses.margin as margin_module
    from lossapp.losses.margin import hinge_gradient

    monkeypatch.setattr(margin_module, "CHUNK", 7)  # several blocks, the last one short
    g = torch.Generator().manual_seed(8)
    y = (torch.rand(40, generator=g) < 0.5).double() * 2 - 1
    for m in (0.0, 1.0, 2.5):
        f = torch.randn(40, generator=g, dtype=torch.float64) * 2
        f[:12] = y[:12] * torch.tensor([m, -m, 0.0, m + 1e-12])[torch.arange(12) % 4]  # y·f at (and around) the kink
        f[12:17] = torch.tensor([math.inf, -math.inf, -0.0, 5e-324, -5e-324], dtype=torch.float64)
        for scores in (f, f.float()):
            for reduction, n in (("mean", 40.0), ("sum", 1.0), ("none", 1.0)):
                got = hinge_gradient(scores, y, {"margin": m}, reduction)
                inside = (y * scores.double()) < m
                want = torch.where(inside, y / -n, torch.zeros_like(y))
                assert got.dtype == torch.float64 and torch.equal(got, want) and torch.equal(got.signbit(), want.signbit())


def test_hinge_steps_read_like_the_formula() -> None:
    result = lossapp.compute("hinge", "[0.8, -0.5, 1.5]", "[1, -1, 1]", reduction="sum")
    assert [s.symbol for s in result.steps] == ["yf", "z", "l", "dl/df", "L"]
    assert result.step("dl/df").value_list() == pytest.approx([-1.0, 1.0, 0.0])
    assert "y·f = 0.8 < margin = 1, so ∂l/∂f = −y = -1" in result.step("dl/df").note
    assert result.step("yf").value_list() == pytest.approx([0.8, 0.5, 1.5])
    assert result.step("z").value_list() == pytest.approx([0.2, 0.5, -0.5])
    assert result.step("l").value_list() == pytest.approx([0.2, 0.5, 0.0])
    assert result.value == pytest.approx(0.7)
    assert result.step("z").substituted() == ["1 - 0.8", "1 - 0.5", "1 - 1.5"]
    assert "hinge_embedding_loss" in result.step("l").note
    assert "hinge_embedding_loss" in (lossapp.LOSSES["hinge"].steps.__doc__ or "")


def test_hinge_derivative_notes_the_kink_at_the_margin() -> None:
    result = lossapp.compute("hinge", "[1.0, -0.5]", "[1, 1]", reduction="none")
    assert result.step("dl/df").value_list() == [0.0, -1.0]  # torch's relu backward: 0 at the kink
    assert "kink" in result.step("dl/df").note
    assert result.gradient.manual == [0.0, -1.0] and result.gradient.agrees


def test_hinge_zero_one_targets_are_mapped_with_a_warning() -> None:
    mapped = lossapp.compute("hinge", "[0.8, -0.5, 1.5, 0.3]", "[1, 0, 1, 0]")
    signed = lossapp.compute("hinge", "[0.8, -0.5, 1.5, 0.3]", "[1, -1, 1, -1]")
    assert mapped.value == pytest.approx(signed.value)
    assert mapped.value == pytest.approx((0.2 + 0.5 + 0 + 1.3) / 4)
    assert any("mapped 0 → -1" in w for w in mapped.warnings)
    assert not signed.warnings
    assert mapped.target.values.tolist() == [1.0, -1.0, 1.0, -1.0]
    assert mapped.reference.agrees and mapped.gradient.agrees
    # all-ones targets are valid in both conventions: nothing to map, nothing to warn about
    assert not lossapp.compute("hinge", "[0.3, 2.0]", "[1, 1]").warnings


@pytest.mark.parametrize(("target", "message"), [
    ("[1, 0, -1]", "got both 0 and -1"),
    ("[1, 2, -1]", r"expected labels -1/\+1 or 0/1, got 2 at index 1"),
    ("[1, 0.5, 0]", r"got 0.5"),
    ("[1, -1]", r"expected pred and target of the same shape, got pred \(3,\) and target \(2,\)"),
])
def test_hinge_bad_targets_are_input_errors(target: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        lossapp.compute("hinge", "[0.1, 0.2, 0.3]", target)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), margin=st.sampled_from([0.0, 0.5, 1.0, 2.5]),
       reduction=st.sampled_from(REDUCTIONS), zero_one=st.booleans())
def test_hinge_property_against_numpy(data: st.DataObject, margin: float, reduction: str, zero_one: bool) -> None:
    n = data.draw(st.integers(1, 20))
    f = np.array(data.draw(st.lists(st.floats(-5, 5, allow_nan=False), min_size=n, max_size=n)))
    y = np.array(data.draw(st.lists(st.sampled_from([-1, 1]), min_size=n, max_size=n)))
    target = (y + 1) // 2 if zero_one else y  # the 0/1 form must give the same loss
    result = lossapp.compute("hinge", f.tolist(), target.tolist(), reduction=reduction, dtype="float64",
                             margin=margin)
    # independent formula: the per-sample SVM loss, and its derivative -y where the loss is active
    per = np.maximum(0.0, margin - y * f)
    expected = {"none": per, "mean": per.mean(), "sum": per.sum()}[reduction]
    np.testing.assert_allclose(np.asarray(result.value), expected, rtol=1e-12, atol=1e-12)
    grad = np.where(margin - y * f > 0, -y, 0.0) / (n if reduction == "mean" else 1)
    np.testing.assert_allclose(np.asarray(result.gradient.manual), grad, rtol=1e-12, atol=1e-12)
    assert result.reference.agrees and result.gradient.agrees


# -- multi_margin ----------------------------------------------------------------------------------------

SCORES = [[0.1, 0.2, 0.4, 0.8], [0.5, -0.3, 0.2, 0.1], [1.2, 0.7, -0.5, 2.0], [0.0, 0.0, 0.0, 0.0],
          [0.25, 1.25, 0.75, -0.25]]
CLASSES = [3, 0, 1, 2, 1]  # row 4: class 0 is exactly margin behind (z = 0, the kink; dyadic, so exact in float32)
WEIGHT = [0.5, 2.0, 1.5, 3.0]


def test_multi_margin_torch_docs_example() -> None:
    # torch.nn.MultiMarginLoss docs: x = [[0.1, 0.2, 0.4, 0.8]], y = [3] -> 0.3250
    # = (1/4)·((1 − (0.8 − 0.1)) + (1 − (0.8 − 0.2)) + (1 − (0.8 − 0.4)))
    result = lossapp.compute("multi_margin", "[[0.1, 0.2, 0.4, 0.8]]", "[3]")
    assert result.value == pytest.approx(0.325, abs=1e-12)
    assert round(result.reference.value, 4) == 0.3250
    assert result.step("s").value_list() == pytest.approx([1.3])
    assert result.step("l").note == "C = 4: torch divides by all C classes, the true class included"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("margin", [0.0, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_matches_torch_over_every_param(p: int, margin: float, weighted: bool, reduction: str,
                                                     dtype: str) -> None:
    params: dict[str, Any] = {"p": p, "margin": margin}
    if weighted:
        params["weight"] = WEIGHT
    result = lossapp.compute("multi_margin", SCORES, CLASSES, reduction=reduction, dtype=dtype, **params)
    x = torch.tensor(SCORES, dtype=DTYPES[dtype], requires_grad=True)
    w = torch.tensor(WEIGHT, dtype=DTYPES[dtype]) if weighted else None
    ref = F.multi_margin_loss(x, torch.tensor(CLASSES), p=p, margin=margin, weight=w, reduction=reduction)
    (g,) = torch.autograd.grad(ref, x, torch.ones_like(ref))
    torch.testing.assert_close(_value(result), ref.detach().double(), **TOL[dtype])
    torch.testing.assert_close(_grad(result), g.double(), **TOL[dtype])
    assert result.reference.agrees and result.gradient.agrees


def test_multi_margin_weight_multiplies_after_the_power_and_mean_divides_by_n() -> None:
    x, y, w = [[0.0, 0.5, 2.0]], [0], [3.0, 1.0, 1.0]
    result = lossapp.compute("multi_margin", x, y, p=2, weight=w)
    # h = [0, 1.5, 3.0]; w_y·h² summed = 3·(2.25 + 9) = 33.75; / C = 11.25 (not (w·h)² = 101.25 / 3)
    assert result.value == pytest.approx(11.25)
    two = lossapp.compute("multi_margin", [[0.0, 0.5, 2.0], [0.0, 0.5, 2.0]], [0, 1], p=2, weight=w)
    # mean over N = 2 samples, not over Σ w_y = 4
    per = F.multi_margin_loss(torch.tensor([[0.0, 0.5, 2.0]] * 2), torch.tensor([0, 1]), p=2,
                              weight=torch.tensor(w), reduction="none")
    assert two.value == pytest.approx(float(per.mean()))
    assert two.value != pytest.approx(float(per.sum() / 4))


def test_multi_margin_kink_gradient_follows_torch() -> None:
    # z = 0 for class 1: torch counts only z > 0, so that class gets no gradient
    result = lossapp.compute("multi_margin", "[[1.0, 0.0, 0.5]]", "[0]", dtype="float64")
    assert result.gradient.manual[0] == pytest.approx([-1 / 3, 0.0, 1 / 3])
    assert result.gradient.agrees


def test_multi_margin_one_dimensional_scores() -> None:
    for t in (torch.tensor(2), torch.tensor([2])):  # a 0-dim index or one index in a list
        result = lossapp.compute("multi_margin", "[0.3, 1.0, 0.1]", t, reduction="none", dtype="float64")
        ref = F.multi_margin_loss(torch.tensor([0.3, 1.0, 0.1], dtype=torch.float64), t, reduction="none")
        assert np.shape(result.value) == tuple(ref.shape)
        torch.testing.assert_close(_value(result), ref)
        assert result.reference.agrees and result.gradient.agrees


@pytest.mark.parametrize(("pred", "target", "params", "message"), [
    ("[[0.1, 0.2], [0.3, 0.4]]", "[0, 2]", {}, r"expected class indices in \[0, 2\) for C = 2 classes, got 2 at index 1"),
    ("[[0.1, 0.2], [0.3, 0.4]]", "[0]", {}, r"expected target of shape \(2,\) .* got target \(1,\)"),
    ("[0.1, 0.2, 0.3]", "[0, 1]", {}, r"expected a single class index for pred \(3,\), got target \(2,\)"),
    ("[[[0.1, 0.2]]]", "[0]", {}, r"expected pred scores of shape \(N, C\) or \(C,\), got \(1, 1, 2\)"),
    ("[[0.1, 0.2], [0.3, 0.4]]", "[0, 1]", {"weight": "[1, 2, 3]"},
     r"parameter weight: expected one value per class, shape \(2,\) for C = 2 classes, got shape \(3,\)"),
    ("[[0.1, 0.2], [0.3, 0.4]]", "[0, 1]", {"p": 3}, r"expected a value in \[1, 2\], got 3"),
    ("[[0.1, 0.2], [0.3, 0.4]]", "[0.5, 1]", {}, "expected integer class indices"),
])
def test_multi_margin_bad_input(pred: str, target: str, params: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        lossapp.compute("multi_margin", pred, target, **params)


# -- zero_one ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_zero_one_probabilities_counting(reduction: str, dtype: str) -> None:
    p, y = [0.9, 0.3, 0.6, 0.2, 0.55, 0.5], [1, 0, 0, 0, 1, 0]  # 0.6 -> 1 (wrong), 0.5 >= 0.5 -> 1 (wrong)
    result = lossapp.compute("zero_one", p, y, reduction=reduction, dtype=dtype)
    expected = {"none": [0, 0, 1, 0, 0, 1], "mean": 2 / 6, "sum": 2.0}[reduction]
    torch.testing.assert_close(_value(result), torch.tensor(expected, dtype=torch.float64), **TOL[dtype])
    assert result.reference.agrees
    assert result.gradient is None and result.to_dict()["gradient"] is None
    assert lossapp.LOSSES["zero_one"].differentiable is False


def test_zero_one_scores_with_signed_labels_and_threshold_zero() -> None:
    result = lossapp.compute("zero_one", "[2.0, -0.5, 0.1, -3.0]", "[1, -1, -1, 1]", threshold=0)
    assert result.step("ŷ").value_list() == [1.0, -1.0, 1.0, -1.0]
    assert result.value == pytest.approx(0.5)
    assert not result.warnings and result.reference.agrees
    warned = lossapp.compute("zero_one", "[2.0, -0.5, 0.1, -3.0]", "[1, -1, -1, 1]")
    assert any("for scores use threshold=0" in w for w in warned.warnings)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_zero_one_argmax_for_class_scores(reduction: str, dtype: str) -> None:
    x = [[2.0, 1.0, 0.1], [0.2, 0.1, 3.0], [0.5, 2.5, 0.3], [1.0, 0.0, 0.9]]
    y = [0, 1, 1, 2]
    result = lossapp.compute("zero_one", x, y, reduction=reduction, dtype=dtype)
    wrong = (torch.tensor(x).argmax(1) != torch.tensor(y)).double()
    torch.testing.assert_close(_value(result), _reduce(wrong, reduction), **TOL[dtype])
    assert result.step("ŷ").value_list() == [0.0, 2.0, 1.0, 0.0]
    assert result.reference.agrees


def test_zero_one_argmax_segmentation_map_and_ties() -> None:
    x = torch.tensor([[[[0.9, 0.1], [0.4, 0.4]], [[0.1, 0.9], [0.6, 0.4]]]])  # (N=1, C=2, 2, 2)
    y = torch.tensor([[[0, 1], [1, 1]]])
    result = lossapp.compute("zero_one", x, y, reduction="none")
    assert result.value.tolist() == [[[0.0, 0.0], [0.0, 1.0]]]  # the tie at (1, 1) goes to class 0
    assert any("tied top scores" in w for w in result.warnings)
    assert result.reference.agrees


@pytest.mark.parametrize(("pred", "target", "message"), [
    ("[0.2, 0.7]", "[0, 2]", r"expected labels -1/\+1 or 0/1, got 2 at index 1 \(same shape as pred; class indices"),
    ("[0.2, 0.7, 0.1]", "[0, 1, -1]", "got both 0 and -1"),
    ("[0.2, 0.7]", "[0.5, 1]", r"expected labels -1/\+1 or 0/1, got 0.5 at index 0"),
    ("[0.2, 0.7]", "[0, 1, 1]", r"pred \(2,\) and target \(3,\)"),
    ("[[0.2, 0.7], [0.1, 0.9]]", "[0, 2]", r"expected class indices in \[0, 2\) for C = 2 classes, got 2 at index 1"),
    ("[[[0.2, 0.7]], [[0.1, 0.9]]]", "[[0], [1]]", r"expected target of shape \(2, 2\) .* got target \(2, 1\)"),
])
def test_zero_one_bad_input(pred: str, target: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        lossapp.compute("zero_one", pred, target)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), threshold=st.sampled_from([0.0, 0.5, 0.25]), reduction=st.sampled_from(REDUCTIONS),
       signed=st.booleans())
def test_zero_one_property_against_numpy(data: st.DataObject, threshold: float, reduction: str,
                                         signed: bool) -> None:
    n = data.draw(st.integers(1, 25))
    f = np.array(data.draw(st.lists(st.sampled_from([-1.0, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0, 2.0])
                                    | st.floats(-2, 2, allow_nan=False), min_size=n, max_size=n)))
    y01 = np.array(data.draw(st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n)))
    y = 2 * y01 - 1 if signed else y01
    result = lossapp.compute("zero_one", f.tolist(), y.tolist(), reduction=reduction, dtype="float64",
                             threshold=threshold)
    errors = ((f >= threshold).astype(int) != y01).astype(float)  # independent: compare in 0/1 form
    expected = {"none": errors, "mean": errors.mean(), "sum": errors.sum()}[reduction]
    np.testing.assert_allclose(np.asarray(result.value), expected, rtol=0, atol=1e-15)
    assert result.reference.agrees


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_zero_one_argmax_property_against_numpy(data: st.DataObject) -> None:
    n, c = data.draw(st.integers(1, 8)), data.draw(st.integers(2, 5))
    x = np.array(data.draw(st.lists(st.floats(-3, 3, allow_nan=False), min_size=n * c, max_size=n * c))).reshape(n, c)
    y = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    result = lossapp.compute("zero_one", x.tolist(), y.tolist(), dtype="float64")
    assert result.value == pytest.approx(float(np.mean(np.argmax(x, axis=1) != y)), abs=1e-15)


# -- every spec ----------------------------------------------------------------------------------------

MARGIN_LOSSES = ("hinge", "multi_margin", "zero_one")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", MARGIN_LOSSES)
def test_torch_code_computes_the_same_value(name: str, reduction: str) -> None:
    spec = lossapp.LOSSES[name]
    ex = spec.example
    result = lossapp.compute(name, ex["pred"], ex["target"], reduction=reduction, dtype="float64", **ex["params"])
    names = {"pred": result.pred.values, "target": result.target.values, "reduction": reduction,
             **{k: v for k, v in result.params.items()}}
    torch.testing.assert_close(run_torch_code(spec.torch_code, **names).double(), _value(result))
    # hinge's snippet also maps 0/1 targets itself
    if name == "hinge":
        raw = {**names, "target": torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0])}
        torch.testing.assert_close(run_torch_code(spec.torch_code, **raw).double(), _value(result))


@pytest.mark.parametrize("name", MARGIN_LOSSES)
def test_chinese_for_every_string_including_errors(name: str) -> None:
    spec = lossapp.LOSSES[name]
    texts = [spec.title, spec.summary, *(p.description for p in spec.params)]
    runs = {
        "hinge": [("[0.8, -0.5]", "[1, 0]", {}), ("[0.8, -0.5]", "[1, -1]", {"margin": 2})],
        "multi_margin": [(SCORES, CLASSES, {"p": 2, "weight": WEIGHT}), (SCORES, CLASSES, {})],
        "zero_one": [("[2.0, -0.5]", "[1, -1]", {}), ("[[1, 1], [0, 2]]", "[0, 1]", {}),
                     ("[0.9, 0.2]", "[1, 0]", {})],
    }[name]
    for pred, target, params in runs:
        for reduction in REDUCTIONS:
            r = lossapp.compute(name, pred, target, reduction=reduction, **params)
            texts += [s.title for s in r.steps] + [s.note for s in r.steps if s.note] + r.warnings
    bad = {
        "hinge": [("[0.1, 0.2]", "[0, -1]", {}), ("[0.1, 0.2]", "[3, 1]", {})],
        "multi_margin": [("[[0.1, 0.2]]", "[5]", {}), ("[[0.1, 0.2]]", "[0, 1]", {}), ("[0.1, 0.2]", "[0, 1]", {}),
                         ("[[[0.1]]]", "[0]", {}), ("[[0.1, 0.2]]", "[0]", {"weight": "[1]"})],
        "zero_one": [("[0.1, 0.2]", "[0, 3]", {}), ("[0.1, 0.2, 0.3]", "[0, 1, -1]", {}),
                     ("[0.1, 0.2]", "[0.5, 1]", {}), ("[[0.1, 0.2]]", "[4]", {}), ("[[[0.1]]]", "[[0, 0]]", {})],
    }[name]
    for pred, target, params in bad:
        with pytest.raises(InputError) as info:
            lossapp.compute(name, pred, target, **params)
        texts.append(info.value.message)
    missing = sorted({t for t in texts if t and not has_zh(t)})
    assert not missing, missing


# -- the point bounds (lossapp.interval.point_bound) on adversarial inputs ----------------------------------------------

MARGIN_SPECIAL = [0.0, -0.0, 5e-324, -5e-324, 1e-300, 1.0, -1.0, 0.5, 1e16, -1e16, 1e16 - 2, 2.0 ** 53 + 2, 1e300, -1e300,
                  1e150, 3.0, 1 + 2.0 ** -52]


def _multi_margin_rows(c: int, p: int, margin: float, rows: int, seed: int) -> tuple[list[list[float]], list[int]]:
    """Rows whose scores tie the true class's score at the margin (z = 0 exactly) or within an ulp of it, cancel in
    margin − x_y (x_y of 10¹⁶ beside 10¹⁶ − 2), span 10⁻³⁰⁰ to 10³⁰⁰, and hold subnormals and −0."""
    rng = random.Random(seed)
    out, ys = [], []
    for _ in range(rows):
        y = rng.randrange(c)
        scale = rng.choice([1.0, 1e-300, 1e16, 1e150, 2.0 ** -1060])
        base = rng.choice([*MARGIN_SPECIAL, rng.gauss(0, 1) * scale])
        row = []
        for _ in range(c):
            r = rng.random()
            if r < 0.3:
                row.append(base - margin if rng.random() < 0.5 else base + rng.choice([0.0, 2.0 ** -52 * abs(base)]))
            elif r < 0.5:
                row.append(rng.choice(MARGIN_SPECIAL))
            else:
                row.append(rng.gauss(0, 1) * scale * 10 ** rng.uniform(-5, 5))
        row[y] = base
        out.append(row)
        ys.append(y)
    return out, ys


def _multi_margin_exact(row: list[float], y: int, p: int, margin: float, w: float | None) -> Fraction:
    s = sum((max(Fraction(margin) - Fraction(row[y]) + Fraction(v), Fraction(0)) ** p
             for i, v in enumerate(row) if i != y), Fraction(0))
    return (Fraction(w) if w is not None else 1) * s / len(row)


MULTI_MARGIN_ADVERSARIAL = [(1, 1.0, None), (2, 1.0, None), (1, 0.0, [0.0, 1.0, 1e-300, 1e100]),
                            (2, 10.0, [0.5, 5e-324, 3.0, 7.25]), (1, 5e-324, None), (2, 1 + 2.0 ** -52, [1.0, 2.0, 0.0, 1e-10])]


@pytest.mark.parametrize(("p", "margin", "weight"), MULTI_MARGIN_ADVERSARIAL)
def test_multi_margin_point_premise_holds_for_every_adversarial_row(p: int, margin: float, weight: list | None) -> None:
    """The premise multi_margin_point_error proves (each row's l̂_n within K·u·(A + l_n), K = k + 2C + 1) holds row by
    row against exact rational arithmetic, with no margin: ties at the margin, cancellation in margin − x_y, scores from
    10⁻³⁰⁰ to 10³⁰⁰ (squares that overflow are left out: no bound), subnormal weights."""
    rows, ys = _multi_margin_rows(4, p, margin, 80, seed=p * 100 + int(margin))
    keep = [i for i, r in enumerate(rows) if max(abs(v) for v in r) < (1e200 if p == 1 else 1e149)]
    rows, ys = [rows[i] for i in keep], [ys[i] for i in keep]
    params: dict[str, Any] = {"p": p, "margin": margin}
    if weight is not None:
        params["weight"] = torch.tensor(weight, dtype=torch.float64)
    x, t = torch.tensor(rows, dtype=torch.float64), torch.tensor(ys)
    r = lossapp.compute("multi_margin", x, t, reduction="none", **params)
    premise = point_premise(multi_margin_point_error, Box(x, t, None, None, dict(r.params), "sum"))
    assert premise is not None
    k, floor = (Fraction(v) for v in premise)
    for row, y, term in zip(rows, ys, r.value.reshape(-1).tolist(), strict=True):
        exact = _multi_margin_exact(row, y, p, margin, None if weight is None else weight[y])
        assert abs(Fraction(term) - exact) <= k * Fraction(U) * (floor + exact), (row, y, term)


def _hinge_adversarial(margin: float, n: int, seed: int) -> tuple[list[float], list[float]]:
    """Scores at ±margin exactly and within an ulp (z = 0 and its neighbours), subnormal, ±0, and from 10⁻³⁰⁰ to 10³⁰⁰,
    with ±1 labels."""
    rng = random.Random(seed)
    special = [*MARGIN_SPECIAL, *(-v for v in MARGIN_SPECIAL), margin, -margin, margin * (1 + 2.0 ** -52),
               math.nextafter(margin, 0.0)]
    fs = [rng.choice(special) if rng.random() < 0.5 else rng.gauss(0, 1) * 10 ** rng.uniform(-300, 300)
          for _ in range(n)]
    return fs, [rng.choice([-1.0, 1.0]) for _ in fs]


def _hinge_exact(f: float, y: float, margin: float) -> Fraction:
    return max(Fraction(margin) - Fraction(y) * Fraction(f), Fraction(0))


@pytest.mark.parametrize("margin", [1.0, 0.0, 5e-324, 1 + 2.0 ** -52, 10.0])
@pytest.mark.parametrize("labels", ["signs", "01", "unprepared"])
def test_hinge_point_premise_holds_for_every_adversarial_term(margin: float, labels: str) -> None:
    """hinge_point_error's premise (K = 1, A = TINY for labels in {−1, 0, 1}; else K = 2, A = YX + TINY) holds term by
    term against exact rationals, with no margin: ±1 labels, 0/1 labels (prepare maps them to ±1), and targets that
    reach the steps without prepare (0/1 as the mistake labels_01_not_mapped runs them, and 0.3 / 3: the bound reads the
    target it is given instead of assuming prepare's ±1)."""
    fs, ys = _hinge_adversarial(margin, 300, seed=int(margin * 10) + len(labels))
    if labels == "01":
        ys = [(v + 1) / 2 for v in ys]
    elif labels == "unprepared":
        ys = [v * 0.3 if i % 3 else (v + 1) / 2 if i % 2 else 3 * v for i, v in enumerate(ys)]
    x, t = torch.tensor(fs, dtype=torch.float64), torch.tensor(ys, dtype=torch.float64)
    params = {"margin": margin}
    if labels == "unprepared":  # the steps on the given target, as a run with prepare=False makes them
        terms = hinge_steps(Trace(transient=True, quiet=True), x, t, params, "none").tolist()
        steps_y = ys
    else:
        r = lossapp.compute("hinge", x, t, reduction="none", **params)
        terms, steps_y = r.value.reshape(-1).tolist(), [2 * v - 1 if labels == "01" else v for v in ys]
    premise = point_premise(hinge_point_error, Box(x, t, None, None, params, "sum"))
    assert premise is not None
    assert premise == ((1, TINY) if labels != "unprepared" else premise)
    k, floor = (Fraction(v) for v in premise)
    for f, y, term in zip(fs, steps_y, terms, strict=True):
        exact = _hinge_exact(f, y, margin)
        assert abs(Fraction(term) - exact) <= k * Fraction(U) * (floor + exact), (f, y, term)


def _fraction_sum(values: list[Fraction], counts: list[int]) -> Fraction:
    return sum((c * v for c, v in zip(counts, values, strict=True)), Fraction(0))


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_margin_point_enclosures_of_a_million_adversarial_terms_contain_the_exact_value(reduction: str) -> None:
    """10⁶ elements (past limits.DECIMALS_MAX_ELEMENTS: the a-priori bounds, no interval arithmetic) of mixed-sign scores
    made of a few hundred adversarial ones in a shuffled order: hinge (ties at the margin, ±10³⁰⁰ beside 10⁻³⁰⁰) and
    multi-margin (250 000 rows of 4, p = 2, weighted); each enclosure contains the exact rational value."""
    n = 10 ** 6
    assert n > limits.DECIMALS_MAX_ELEMENTS
    fs, ys = _hinge_adversarial(1.0, 300, seed=5)
    index = repeated(len(fs), n, seed=1)
    e = enclose(lossapp.compute("hinge", torch.tensor(fs, dtype=torch.float64)[index],
                                torch.tensor(ys, dtype=torch.float64)[index], reduction=reduction))
    assert e.sound and e.method == POINT_METHOD
    counts = torch.bincount(index, minlength=len(fs)).tolist()
    exact = _fraction_sum([_hinge_exact(f, y, 1.0) for f, y in zip(fs, ys, strict=True)], counts)
    exact = exact / n if reduction == "mean" else exact
    assert Fraction(e.lo) <= exact <= Fraction(e.hi), (float(exact), e.lo, e.hi)

    rows, targets = _multi_margin_rows(4, 2, 1.0, 200, seed=9)
    keep = [i for i, r in enumerate(rows) if max(abs(v) for v in r) < 1e150]
    rows, targets = [rows[i] for i in keep], [targets[i] for i in keep]
    weight = [0.5, 5e-324, 3.0, 7.25]
    index = repeated(len(rows), n // 4, seed=2)
    e = enclose(lossapp.compute("multi_margin", torch.tensor(rows, dtype=torch.float64)[index],
                                torch.tensor(targets)[index], reduction=reduction, p=2,
                                weight=torch.tensor(weight, dtype=torch.float64)))
    assert e.sound and e.method == POINT_METHOD
    counts = torch.bincount(index, minlength=len(rows)).tolist()
    exact = _fraction_sum([_multi_margin_exact(r, y, 2, 1.0, weight[y]) for r, y in zip(rows, targets, strict=True)],
                          counts)
    exact = exact / (n // 4) if reduction == "mean" else exact
    assert Fraction(e.lo) <= exact <= Fraction(e.hi), (float(exact), e.lo, e.hi)


@pytest.mark.parametrize(("target", "exact_products"), [
    (torch.full((6,), -1.0), True), (torch.ones(6), True), (torch.tensor([0.0, 1.0] * 3), True),
    (torch.tensor([-1, 1, 0] * 2), True), (torch.tensor([-1.0, 1.0, 0.5] * 2), False), (torch.full((6,), 3.0), False)])
def test_hinge_point_premise_reads_the_target(target: torch.Tensor, exact_products: bool) -> None:
    """K = 1, A = TINY exactly where every target is −1, 0 or 1 (all −1 and all +1 included); any other target gets the
    bound of a rounded product y·f (K = 2, A = max(1, max|y|)·max|f| + TINY)."""
    x = torch.tensor([0.5, -300.0, 2.0, 1e-300, 7.0, -1.0], dtype=torch.float64)
    premise = point_premise(hinge_point_error, Box(x, target, None, None, {"margin": 1.0}, "mean"))
    if exact_products:
        assert premise == (1, TINY)
    else:
        assert premise is not None and premise[0] == 2
        assert premise[1] >= max(1.0, float(target.abs().max())) * 300.0 + TINY
