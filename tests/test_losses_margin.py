"""hinge, multi_margin and zero_one: values and gradients against torch and against independent numpy
formulas; labels, shapes and warnings; Chinese for every visible string."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from spec_code import run_torch_code

import lossapp
from lossapp.i18n import has_zh
from lossapp.inputs import InputError

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
