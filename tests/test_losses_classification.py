"""Classification losses (bce, bce_with_logits, cross_entropy, nll, kl_div) against torch and the articles."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import tomllib
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_code import run_torch_code

import lossapp
from lossapp import InputError, i18n
from lossapp.i18n import has_zh

NAMES = ("bce", "bce_with_logits", "cross_entropy", "nll", "kl_div")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
HYPOTHESIS = settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


# -- helpers -------------------------------------------------------------------------------------------

def torch_value_and_grad(loss: str, pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                         **params) -> tuple[torch.Tensor, torch.Tensor]:
    """The torch built-in in float64 and d(sum of output)/d(pred), computed here, independently of lossapp."""
    loss = lossapp.lookup(loss).name
    x = pred.detach().double().clone().requires_grad_(True)
    t = target.double() if target.is_floating_point() else target
    tensors = {k: (torch.as_tensor(v, dtype=torch.float64) if isinstance(v, list | torch.Tensor) else v)
               for k, v in params.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if loss == "bce":
            out = F.binary_cross_entropy(x, t, weight=tensors.get("weight"), reduction=reduction)
        elif loss == "bce_with_logits":
            out = F.binary_cross_entropy_with_logits(x, t, weight=tensors.get("weight"),
                                                     pos_weight=tensors.get("pos_weight"), reduction=reduction)
        elif loss == "cross_entropy":
            inp = torch.log(x) if tensors.get("input") == "probabilities" else x
            out = F.cross_entropy(inp, t, weight=tensors.get("weight"), ignore_index=tensors.get("ignore_index", -100),
                                  label_smoothing=tensors.get("label_smoothing", 0.0), reduction=reduction)
        elif loss == "nll":
            out = F.nll_loss(x, t, weight=tensors.get("weight"), ignore_index=tensors.get("ignore_index", -100),
                             reduction=reduction)
        else:
            out = F.kl_div(x, t, reduction=reduction, log_target=bool(tensors.get("log_target", False)))
    (grad,) = torch.autograd.grad(out, x, torch.ones_like(out))
    return out.detach(), grad


def assert_close(actual, expected: torch.Tensor, rtol: float = 1e-9, atol: float = 1e-12) -> None:
    torch.testing.assert_close(torch.as_tensor(actual, dtype=torch.float64), expected.double(), rtol=rtol, atol=atol,
                               equal_nan=True)


def check_against_torch(loss: str, pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                        dtype: str = "float64", **params) -> lossapp.Result:
    """lossapp's float64 trace vs the torch built-in (value and gradient), and lossapp's own verdict."""
    r = lossapp.compute(loss, pred, target, reduction=reduction, dtype=dtype, **params)
    value, grad = torch_value_and_grad(loss, pred, r.target.values if r.target else target, reduction, **params)
    assert_close(r.value, value)
    assert_close(r.gradient.manual, grad, rtol=1e-8, atol=1e-10)
    assert r.reference.agrees, (loss, reduction, params, r.reference)
    assert r.gradient.agrees, (loss, reduction, params, r.gradient)
    return r


def all_texts(result: lossapp.Result) -> list[str]:
    texts = [s.title for s in result.steps] + [s.note for s in result.steps if s.note] + list(result.warnings)
    return [t for t in texts if not t.startswith("rounding the inputs to")]


# -- golden cases from the articles ------------------------------------------------------------------

def test_bce_article_002_item_9():
    r = lossapp.compute("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]")
    expected = -(math.log(0.2947) + math.log(1 - 0.5898) + math.log(1 - 0.4863)) / 3
    assert r.value == pytest.approx(expected, abs=1e-12)
    assert r.value == pytest.approx(0.926341, abs=5e-7)
    assert round(r.scalar, 4) == 0.9263  # the article's 0.9264 is a rounding difference (DESIGN section 6)
    # inputs written to 4 decimals: each may be off by 0.00005; the loss rises as p0 falls and p1, p2 rise
    low = lossapp.compute("bce", "[0.29475, 0.58975, 0.48625]", "[1, 0, 0]").value
    high = lossapp.compute("bce", "[0.29465, 0.58985, 0.48635]", "[1, 0, 0]").value
    assert low == pytest.approx(0.92621, abs=1e-5) and high == pytest.approx(0.92647, abs=1e-5)
    assert low < 0.92635 and high > 0.92645  # the values that round to 0.9264 overlap the attainable interval
    assert r.reference.agrees and r.gradient.agrees
    assert r.step("l").value.tolist() == pytest.approx([-math.log(0.2947), -math.log(0.4102), -math.log(0.5137)])


@pytest.mark.parametrize("target", ["2", "[0, 0, 1]", 2, [0.0, 0.0, 1.0]])
def test_cross_entropy_article_000_three_classes(target):
    r = lossapp.compute("cross_entropy", "[0.3, 0.3, 0.4]", target, input="probabilities")
    assert r.value == pytest.approx(-math.log(0.4), abs=1e-12)
    assert r.value == pytest.approx(0.916291, abs=5e-7)
    assert r.reference.agrees and r.gradient.agrees
    assert not r.warnings


def test_cross_entropy_article_000_entropy_identity_with_one_hot_target():
    r = lossapp.compute("ce", "[0.3, 0.3, 0.4]", "[0, 0, 1]", input="probabilities")
    assert r.step("H(y)").value.item() == 0.0
    assert r.step("H(y,p)").value.item() == pytest.approx(-math.log(0.4))
    assert r.step("KL(y‖p)").value.item() == pytest.approx(-math.log(0.4))
    assert r.step("H(y)+KL").value.item() == pytest.approx(r.step("H(y,p)").value.item())


def test_cross_entropy_article_000_randn_code():
    torch.manual_seed(0)
    predict = torch.randn(2, 3)
    target = torch.randint(0, 3, (2,))
    # the article's hand-written version: softmax, log, gather, minus, mean
    prob = F.softmax(predict, dim=1)
    handwritten = (-torch.log(prob).gather(1, target.view(-1, 1))).mean()
    r = check_against_torch("cross_entropy", predict, target)
    assert r.value == pytest.approx(F.cross_entropy(predict.double(), target).item(), abs=1e-12)
    assert r.value == pytest.approx(handwritten.item(), abs=1e-6)
    assert lossapp.compute("ce", predict, target, dtype="float32").reference.agrees


def test_kl_div_article_004_entropy_identity():
    p = torch.tensor([[0.5, 0.25, 0.25]], dtype=torch.float64)
    q = torch.tensor([[0.25, 0.5, 0.25]], dtype=torch.float64)
    r = check_against_torch("kl_div", q.log(), p, reduction="batchmean")
    assert r.value == pytest.approx(0.25 * math.log(2), abs=1e-12)
    assert r.step("H(p)").value.tolist() == pytest.approx([1.5 * math.log(2)])
    assert r.step("H(p,q)").value.tolist() == pytest.approx([1.75 * math.log(2)])
    assert r.step("KL(p‖q)").value.tolist() == pytest.approx([0.25 * math.log(2)])
    assert r.step("H(p)+KL").value.tolist() == pytest.approx(r.step("H(p,q)").value.tolist())


# -- every loss x reduction x dtype on its example -----------------------------------------------------

CASES = [(name, red, dt) for name in NAMES for red in lossapp.LOSSES[name].reductions for dt in ("float32", "float64")]


@pytest.mark.parametrize(("name", "reduction", "dtype"), CASES)
def test_example_against_torch(name, reduction, dtype):
    spec = lossapp.LOSSES[name]
    ex = spec.example
    r = lossapp.compute(name, ex["pred"], ex["target"], reduction=reduction, dtype=dtype, **ex.get("params", {}))
    assert r.reference.agrees, r.reference
    assert r.gradient is not None and r.gradient.agrees, r.gradient
    value, grad = torch_value_and_grad(name, r.pred.values, r.target.values, reduction, **ex.get("params", {}))
    assert_close(r.value, value)
    assert_close(r.gradient.manual, grad, rtol=1e-8, atol=1e-10)
    data = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert data["reference"]["name"] == spec.reference_name and data["steps"][-1]["symbol"] == "L"
    assert spec.torch_code


@pytest.mark.parametrize("name", NAMES)
def test_torch_code_reproduces_the_value(name):
    """The 'Reproduce in PyTorch' expression, run with the example's inputs, gives the trace's value."""
    spec = lossapp.LOSSES[name]
    r = lossapp.compute(name, spec.example["pred"], spec.example["target"], dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        value = run_torch_code(spec.torch_code, pred=r.pred.values.double(), target=r.target.values,
                               reduction="mean", **r.params)
    assert value.item() == pytest.approx(r.value, abs=1e-12)


def test_aliases():
    for alias, name in [("log_loss", "bce"), ("BCELoss", "bce"), ("nn.BCEWithLogitsLoss", "bce_with_logits"),
                        ("ce", "cross_entropy"), ("CrossEntropyLoss", "cross_entropy"), ("NLLLoss", "nll"),
                        ("KLDivLoss", "kl_div")]:
        assert lossapp.lookup(alias).name == name
    assert "batchmean" in lossapp.LOSSES["kl_div"].reductions


# -- BCE -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("weight", [None, [1.0, 2.0, 0.5], [[2.0], [0.5]], [3.0]])
def test_bce_weight_and_soft_labels(reduction, weight):
    pred = torch.tensor([[0.2, 0.7, 0.99], [0.5, 0.01, 0.4]], dtype=torch.float64)
    target = torch.tensor([[1.0, 0.0, 0.3], [0.5, 1.0, 0.0]], dtype=torch.float64)
    params = {} if weight is None else {"weight": weight}
    r = check_against_torch("bce", pred, target, reduction, **params)
    if weight is not None:
        assert r.step("w").shape == (2, 3)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_probabilities_exactly_0_and_1(reduction, dtype):
    pred = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5, 1e-50], dtype=torch.float64)
    target = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 1.0], dtype=torch.float64)
    r = lossapp.compute("bce", pred, target, reduction=reduction, dtype=dtype)
    assert r.reference.agrees and r.gradient.agrees
    value, grad = torch_value_and_grad("bce", pred, target, reduction)
    assert_close(r.value, value)
    assert_close(r.gradient.manual, grad, rtol=1e-9, atol=0)
    assert all(math.isfinite(g) for g in torch.as_tensor(r.gradient.manual).reshape(-1).tolist())
    # -100 clamps: p = 0 with y = 1 costs exactly 100, p = 1 with y = 0 too
    assert r.step("l").value[:2].tolist() == [100.0, 100.0]
    note = r.step("clamp log p").note
    assert "fires at 3 place(s)" in note and "(0,) p=0, (2,) p=0, (5,) p=1e-50" in note
    assert "(1,) p=1" in r.step("clamp log(1−p)").note


def test_bce_clamp_note_when_it_does_not_fire():
    r = lossapp.compute("bce", "[0.2, 0.8]", "[1, 0]")
    assert "does not fire" in r.step("clamp log p").note


def test_bce_gradient_torch_formula_at_the_edges():
    spec = lossapp.LOSSES["bce"]
    p = torch.tensor([0.0, 1.0, 0.3], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    g = spec.gradient(p, y, {"weight": torch.tensor([2.0, 1.0, 1.0], dtype=torch.float64)}, "sum")
    eps = float(torch.tensor(1e-12, dtype=torch.float32))  # torch's EPSILON, a float32 constant
    assert g.tolist() == pytest.approx([-2 / eps, 1 / eps, (0.3 - 1) / (0.3 * 0.7)], rel=1e-15)


# -- BCE with logits -----------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize(("weight", "pos_weight"), [(None, None), ([0.5, 2.0, 1.0], None), (None, [3.0, 1.0, 0.25]),
                                                    ([[1.0], [2.0]], [2.0])])
def test_bce_with_logits_weights(reduction, weight, pos_weight):
    pred = torch.tensor([[1.2, -0.5, 3.0], [-2.0, 0.0, 0.7]], dtype=torch.float64)
    target = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.4]], dtype=torch.float64)
    params = {k: v for k, v in (("weight", weight), ("pos_weight", pos_weight)) if v is not None}
    r = check_against_torch("bce_with_logits", pred, target, reduction, **params)
    symbols = [s.symbol for s in r.steps]
    assert ("stable" in symbols) == (pos_weight is None)
    assert ("p_c" in symbols) == (pos_weight is not None)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_with_logits_extreme_logits_stay_finite(dtype):
    pred = torch.tensor([100.0, -100.0, 1e4, -1e4, 1e6, -1e6, 0.0, 88.8], dtype=torch.float64)
    target = torch.tensor([1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.5, 0.0], dtype=torch.float64)
    r = lossapp.compute("bce_with_logits", pred, target, reduction="none", dtype=dtype, pos_weight="[2]")
    values = r.value
    assert all(math.isfinite(v) for v in values)
    assert values[1] == pytest.approx(2 * 100.0)  # p_c · (−log σ(−100)) = 2 · 100
    assert values[2] == pytest.approx(1e4)
    assert values[5] == pytest.approx(2e6)
    assert r.reference.agrees and r.gradient.agrees
    value, grad = torch_value_and_grad("bce_with_logits", pred, target, "none", pos_weight=[2.0])
    assert_close(r.value, value)
    assert_close(r.gradient.manual, grad)


def test_bce_with_logits_gradient_at_zero_is_sigmoid_minus_target():
    r = lossapp.compute("bce_with_logits", "[0.0, 0.0]", "[1, 0]", reduction="sum", dtype="float64")
    assert r.gradient.manual == pytest.approx([-0.5, 0.5], abs=1e-15)


def test_bce_with_logits_stable_form_equals_loss():
    r = lossapp.compute("bce_with_logits", "[-3.0, 0.5, 40.0]", "[1, 0.25, 0]", reduction="none")
    assert r.step("stable").value.tolist() == pytest.approx(r.step("l").value.tolist(), abs=1e-13)


# -- cross-entropy: every combination vs F.cross_entropy ------------------------------------------------

SHAPES = {"(C)": (4,), "(N,C)": (3, 4), "(N,C,d1,d2)": (2, 4, 2, 3)}


def _ce_inputs(shape: tuple[int, ...], target_kind: str, ignore: bool, seed: int):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(shape, generator=g, dtype=torch.float64) * 2
    cd = 0 if len(shape) == 1 else 1
    if target_kind == "index":
        index_shape = () if len(shape) == 1 else (shape[0], *shape[2:])
        target = torch.randint(0, shape[cd], index_shape, generator=g)
        if ignore:
            target.reshape(-1)[0] = 7  # ignore_index = 7 below
    else:
        target = torch.softmax(torch.randn(shape, generator=g, dtype=torch.float64), dim=cd)
    return logits, target


CE_COMBOS = [combo for combo in itertools.product(
    SHAPES, ("index", "probabilities"), (False, True), (0.0, 0.2), (False, True), ("none", "mean", "sum"),
    ("logits", "probabilities", "log_probabilities"))
    if not (combo[1] == "probabilities" and combo[4])]  # ignore_index applies to class indices only


@pytest.mark.parametrize(("shape", "target_kind", "weighted", "smoothing", "ignore", "reduction", "kind"), CE_COMBOS)
def test_cross_entropy_every_combination(shape, target_kind, weighted, smoothing, ignore, reduction, kind):
    logits, target = _ce_inputs(SHAPES[shape], target_kind, ignore, seed=len(CE_COMBOS))
    cd = 0 if logits.dim() == 1 else 1
    pred = {"logits": logits, "probabilities": torch.softmax(logits, cd),
            "log_probabilities": torch.log_softmax(logits, cd)}[kind]
    params = {"label_smoothing": smoothing, "input": kind}
    if weighted:
        params["weight"] = [0.5, 2.0, 1.0, 3.0]
    if ignore:
        params["ignore_index"] = 7
    r = check_against_torch("cross_entropy", pred, target, reduction, **params)
    assert not [w for w in r.warnings if "differ" in w]
    symbols = [s.symbol for s in r.steps]
    if kind == "probabilities":
        assert "log f" in symbols and "m" not in symbols
    else:
        assert {"m", "x − m", "e^{x−m}", "S", "lse", "log p", "p"} <= set(symbols)
    if target_kind == "index":
        assert "log p_y" in symbols
        assert ("ignored" in symbols) == ignore
        assert ("w_y" in symbols) == weighted
        assert ("s" in symbols) == (smoothing > 0)
        if reduction == "mean" and (weighted or ignore):
            den = r.step("den").value.item()
            w = torch.tensor(params.get("weight", [1.0] * 4), dtype=torch.float64)
            counted = target != 7
            assert den == pytest.approx(w[target[counted]].sum().item())
    else:
        assert {"H(y)", "H(y,p)", "KL(y‖p)", "H(y)+KL"} <= set(symbols)
        assert torch.allclose(r.step("H(y)+KL").value, r.step("H(y,p)").value)
        if reduction == "mean":  # torch divides by the number of samples with probability targets
            assert r.step("den").value.item() == math.prod(target.shape) / target.shape[cd]


def test_cross_entropy_every_sample_ignored_is_nan_like_torch():
    pred = torch.tensor([[1.0, 2.0], [0.5, 0.1]], dtype=torch.float64)
    target = torch.tensor([-100, -100])
    r = lossapp.compute("ce", pred, target, dtype="float64")
    assert math.isnan(F.cross_entropy(pred, target).item())
    assert r.value is None or math.isnan(r.value)
    assert r.reference.agrees
    assert any("0/0" in w for w in r.warnings)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("scale", [100.0, 1e4])
def test_cross_entropy_extreme_logits(dtype, scale):
    pred = torch.tensor([[scale, -scale, 0.0], [-scale, -scale, scale], [scale, scale, -scale]], dtype=torch.float64)
    target = torch.tensor([1, 2, 0])
    r = lossapp.compute("ce", pred, target, dtype=dtype, reduction="none", label_smoothing=0.1)
    assert all(math.isfinite(v) for v in r.value)
    assert r.reference.agrees and r.gradient.agrees
    value, grad = torch_value_and_grad("cross_entropy", pred, target, "none", label_smoothing=0.1)
    assert_close(r.value, value)
    assert_close(r.gradient.manual, grad)


def test_cross_entropy_label_smoothing_formula_by_hand():
    x = [2.0, 1.0, 0.1]
    r = lossapp.compute("ce", str(x), "0", label_smoothing=0.3, dtype="float64")
    lse = math.log(sum(math.exp(v) for v in x))
    log_p = [v - lse for v in x]
    expected = 0.7 * (-log_p[0]) + 0.3 / 3 * (-sum(log_p))
    assert r.value == pytest.approx(expected, abs=1e-14)


def test_cross_entropy_target_one_element_is_a_class_index_for_a_single_sample():
    r = lossapp.compute("ce", "[1.0, 2.0, 3.0]", "[1]", dtype="float64")
    assert r.target.values.shape == ()
    assert r.value == pytest.approx(F.cross_entropy(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64),
                                                    torch.tensor(1)).item())


def test_cross_entropy_float_class_indices_are_accepted():
    r = lossapp.compute("ce", "[[1.0, 2.0], [0.0, 3.0]]", "[1.0, 0.0]")
    assert r.target.values.dtype == torch.long and r.reference.agrees


# -- NLL -----------------------------------------------------------------------------------------------

NLL_COMBOS = list(itertools.product(SHAPES, (False, True), (False, True), ("none", "mean", "sum")))


@pytest.mark.parametrize(("shape", "weighted", "ignore", "reduction"), NLL_COMBOS)
def test_nll_every_combination(shape, weighted, ignore, reduction):
    logits, target = _ce_inputs(SHAPES[shape], "index", ignore, seed=3)
    log_p = torch.log_softmax(logits, 0 if logits.dim() == 1 else 1)
    params = {}
    if weighted:
        params["weight"] = [0.5, 2.0, 1.0, 3.0]
    if ignore:
        params["ignore_index"] = 7
    r = check_against_torch("nll", log_p, target, reduction, **params)
    all_ignored = ignore and target.numel() == 1  # the single sample is ignored: 0/0 = NaN, as in torch
    assert r.warnings == (["the denominator of the mean is 0 (every sample ignored or zero weight): "
                           "the mean is 0/0 = NaN, as in torch"] if all_ignored and reduction == "mean" else [])


def test_nll_equals_cross_entropy_on_log_softmax():
    logits = torch.tensor([[0.2, 1.5, -0.3], [2.0, 0.0, 0.1]], dtype=torch.float64)
    target = torch.tensor([1, 0])
    nll = lossapp.compute("nll", torch.log_softmax(logits, 1), target, dtype="float64")
    ce = lossapp.compute("ce", logits, target, dtype="float64")
    assert nll.value == pytest.approx(ce.value, abs=1e-14)


def test_nll_positive_pred_warns_but_matches_torch():
    r = check_against_torch("nll", torch.tensor([[0.5, 2.0, -1.0]], dtype=torch.float64), torch.tensor([1]))
    assert any("not log-probabilities" in w for w in r.warnings)


def test_float32_exp2_is_within_the_screens_assumed_error():
    """exp_row_sum_warning's bound assumes torch's float32 exp2 within 2⁻²² of 2^y relative, or 2⁻¹⁴⁹ absolute where it
    underflows: checked on float32 arguments across [−160, 0] (random, near integers and halves, the subnormal range)."""
    g = torch.Generator().manual_seed(12)
    y = torch.cat([-160 * torch.rand(1 << 21, generator=g), -torch.rand(1 << 18, generator=g) * 2.0**-20,
                   torch.arange(-160, 1).float().repeat_interleave(64)
                   + (torch.rand(161 * 64, generator=g) - 0.5) * 2.0**-10,
                   -125 - 25 * torch.rand(1 << 16, generator=g), torch.tensor([0.0, -0.0, -math.inf, -149.0, -150.0])])
    got, exact = torch.exp2(y).double(), torch.exp2(y.double())
    assert bool(((got - exact).abs() <= 2.0**-22 * exact + 2.0**-149).all())


def test_exp_row_sum_screen_is_within_its_bound():
    """For rows whose exact sum is at most 1.01 (the bound's premise), the float32 row sums of the screen are within
    (C + 4)·2⁻²² of the exact sums of e^{log p} (float64, whose own error is ~C·2⁻⁵³): rows of log-probabilities (flat
    to peaked), off by ±SUM_TOL, near −103 (e^x near float32's smallest), with −inf, one term of a float32-subnormal
    log p, for C from 1 to 1024."""
    from lossapp.losses.classification import SUM_TOL, _exp_sums_float32
    g = torch.Generator().manual_seed(13)
    for classes in (1, 2, 3, 10, 100, 1024):
        rows = [torch.log_softmax(torch.randn(200, classes, generator=g, dtype=torch.float64) * scale, 1) + shift
                for scale in (0.01, 1.0, 8.0, 50.0) for shift in (0.0, math.log1p(SUM_TOL), math.log1p(-SUM_TOL))]
        rows.append(-103 - torch.rand(200, classes, generator=g, dtype=torch.float64) * 4)  # near underflow
        edge = torch.full((200, classes), -math.inf, dtype=torch.float64)
        edge[:, 0] = -torch.rand(200, generator=g, dtype=torch.float64) * 1e-40  # a float32 subnormal (or 0)
        rows.append(edge)
        for log_p in rows:
            log_p = log_p.clamp_max(0.0)
            exact = torch.exp(log_p).sum(1)
            premise = exact <= 1.01
            screened = _exp_sums_float32(log_p).double()
            assert bool(premise.any()) and bool(((screened - exact).abs()[premise] <= (classes + 4) * 2.0**-22).all())


def test_exp_row_sums_screened_in_float32_decide_as_the_float64_sums():
    from lossapp.losses.classification import SUM_TOL, _exp_sums, exp_row_sum_warning, row_sum_warning

    def float64_decision(log_p, cd=1):
        return row_sum_warning(_exp_sums(log_p, cd), "exp(pred)", "classification.warn.rows_nll")

    g = torch.Generator().manual_seed(5)
    for classes in (1, 2, 10, 1000, 1025):
        log_p = torch.log_softmax(torch.randn(300, classes, generator=g, dtype=torch.float64) * 4, 1)
        log_p[0, 0] = -math.inf if classes > 1 else 0.0
        # rows whose sums lie around the tolerance: e^{log p + s} sums to e^s
        shifts = torch.tensor([0.0, 1e-4, -1e-4, SUM_TOL * 0.999, -SUM_TOL * 0.999, SUM_TOL * (1 - 1e-6),
                               SUM_TOL * (1 + 1e-6), 2e-3, math.log(1 + SUM_TOL), math.log(1 - SUM_TOL)],
                              dtype=torch.float64)
        for shift in shifts.tolist():
            shifted = log_p.clone()
            shifted[7] += shift  # one row off by about `shift`
            shifted = shifted.clamp_max(0.0)
            got = exp_row_sum_warning(shifted, 1, "classification.warn.rows_nll")
            assert got == float64_decision(shifted), (classes, shift)
    one_row = torch.log(torch.tensor([0.5, 0.25, 0.2], dtype=torch.float64))  # (C,): the float64 sums decide
    assert exp_row_sum_warning(one_row, 0) == row_sum_warning(_exp_sums(one_row, 0), "exp(pred)") is not None
    spatial = torch.log_softmax(torch.randn(2, 3, 4, generator=g, dtype=torch.float64), 1)  # (N, C, d1)
    assert exp_row_sum_warning(spatial, 1) is None and exp_row_sum_warning(spatial - 0.01, 1) is not None
    r = lossapp.compute("nll", torch.log_softmax(torch.randn(50, 10, generator=g), 1) - 0.01, torch.zeros(50).long())
    assert any("exp(pred)" in w for w in r.warnings)


def test_exp_row_sum_screen_reads_a_narrow_source_as_its_float32_rounding():
    """The screen of the user's own float32 / float16 / bfloat16 tensor (`narrow`, Trace.source) is bit for bit the
    screen of the float64 tensor widened from it, and decides alike (its max |S' − 1| taken from the extremes of S')."""
    from lossapp.losses.classification import SUM_TOL, _exp_sums_float32, exp_row_sum_warning
    g = torch.Generator().manual_seed(21)
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        for classes in (1, 3, 10, 300):
            log_p = torch.log_softmax(torch.randn(5000, classes, generator=g) * 6, 1).to(dtype)
            log_p[1, 0] = -math.inf if classes > 1 else 0.0
            wide = log_p.double()
            assert torch.equal(_exp_sums_float32(log_p), _exp_sums_float32(wide))
            for shift in (0.0, SUM_TOL * 0.9, -SUM_TOL * 1.5, 0.5):
                narrow = (log_p.double() + shift).clamp_max(0.0).to(dtype)
                wide = narrow.double()
                assert exp_row_sum_warning(wide, 1, narrow=narrow) == exp_row_sum_warning(wide, 1), (dtype, shift)
                sums = _exp_sums_float32(narrow)
                low, high = torch.aminmax(sums)
                assert float(torch.maximum(high - 1, 1 - low)) == float((sums - 1).abs().max())


@pytest.mark.parametrize("rows", [4000, 12000])
@pytest.mark.parametrize("case", ["distributions", "rows_off", "positive", "subnormal_positive", "minus_inf",
                                  "beyond_float16", "bfloat16", "ignored", "weighted"])
def test_nll_of_a_float32_tensor_reads_it_as_its_float64_widening(case, rows):
    """compute() hands nll's prepare the user's own narrower tensor (Trace.source) for its extremes and its screen:
    every warning, value, gradient and comparison is the one of the same values given in float64. Above
    DECIMALS_MAX_ELEMENTS (12000 rows) pred is that tensor itself, never widened (LossSpec.narrow_pred): no float64
    copy is made, and the Result widens it only when its values are read (its complete steps, gradients and table
    then the same too)."""
    g = torch.Generator().manual_seed(22)
    pred = torch.log_softmax(torch.randn(rows, 10, generator=g) * 3, 1)
    target = torch.randint(0, 10, (rows,), generator=g)
    params = {}
    if case == "rows_off":
        pred[5] -= 0.01
    elif case == "positive":
        pred[9, 3] = 0.25
    elif case == "subnormal_positive":
        pred[9, 3] = 1e-45  # a float32 subnormal above 0
    elif case == "minus_inf":
        pred[2, 4] = -math.inf
    elif case == "beyond_float16":
        pred = pred.half()
        pred[3, 1] = -65504.0
    elif case == "bfloat16":
        pred = pred.bfloat16()
        pred[6] -= 0.05
    elif case == "ignored":
        target[::7] = -100
    elif case == "weighted":
        params["weight"] = torch.rand(10, generator=g) + 0.5
    narrow = lossapp.compute("nll", pred, target, **params)
    wide = lossapp.compute("nll", pred.double(), target, **params)
    assert narrow.warnings == wide.warnings
    assert narrow.to_dict() == wide.to_dict()
    assert (narrow.pred.narrow is not None) == (rows == 12000)  # (not widened by compute() nor the bounded JSON)
    if rows == 12000 and case in ("minus_inf", "ignored", "weighted", "bfloat16"):
        assert narrow.to_dict(full=True) == wide.to_dict(full=True)
        assert narrow.table(rows=50).equals(wide.table(rows=50))
        assert torch.equal(narrow.pred.values, pred.double()) and narrow.pred.narrow is None


@pytest.mark.parametrize("rows", [1, 2, 3, 30])
def test_nll_of_a_small_float32_tensor_shows_the_steps_of_its_float64_widening(rows):
    """The pick read from the user's float32 tensor (Trace.source) and −x written in float64 from it: every step,
    its shown and substituted elements (small inputs keep them all), value, gradient and warning as for float64."""
    g = torch.Generator().manual_seed(23)
    pred = torch.log_softmax(torch.randn(rows, 4, generator=g) * 3, 1)
    pred[0, 1] = -math.inf
    target = torch.tensor([1, 0, 3] * 10)[:rows]
    for reduction in ("none", "mean", "sum"):
        for params in ({}, {"log_base": "2"}, {"ignore_index": 0}):
            narrow = lossapp.compute("nll", pred, target, reduction=reduction, **params)
            wide = lossapp.compute("nll", pred.double(), target, reduction=reduction, **params)
            assert narrow.to_dict(full=True) == wide.to_dict(full=True), (rows, reduction, params)
            assert torch.equal(narrow.unreduced, wide.unreduced) and narrow.unreduced.dtype == torch.float64
            assert [s.value_list(full=True) for s in narrow.steps] == [s.value_list(full=True) for s in wide.steps]


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_nll_of_a_large_narrow_pred_with_nan_or_inf_is_refused_or_warned_as_its_widening(bad):
    """The check of a large narrow pred reads its extremes (one pass, shared with nll's prepare): NaN is refused and
    +inf warned about exactly as for the same values in float64."""
    g = torch.Generator().manual_seed(24)
    pred = torch.log_softmax(torch.randn(12000, 10, generator=g), 1)
    pred[7, 3] = bad
    target = torch.randint(0, 10, (12000,), generator=g)
    outcomes = []
    for as_given in (pred, pred.double()):
        try:
            r = lossapp.compute("nll", as_given, target)
            outcomes.append((r.warnings, r.to_dict()))
        except InputError as err:
            outcomes.append(str(err))
    assert outcomes[0] == outcomes[1]
    assert isinstance(outcomes[0], str) == math.isnan(bad)


def test_nll_result_of_a_large_narrow_pred_changed_in_place_refuses_to_read_it():
    """The Result of a large float32 pred holds the user's tensor, not a float64 copy: what it holds (the bounded JSON)
    stays as it was after the tensor is changed in place; what it would have to read from the tensor (every element:
    a replay) is an error naming pred, as autograd refuses a saved tensor changed in place, never other values."""
    g = torch.Generator().manual_seed(23)
    pred = torch.log_softmax(torch.randn(12000, 10, generator=g), 1)
    r = lossapp.compute("nll", pred, torch.randint(0, 10, (12000,), generator=g))
    bounded = r.to_dict()
    pred.sub_(1.0)
    assert r.to_dict() == bounded
    with pytest.raises(InputError, match=r"^pred: the tensor was changed in place after it was read"):
        r.to_dict(full=True)


def test_nll_gradient_support_is_each_counted_sample_target_class():
    from lossapp.losses.classification import target_positions
    spec = lossapp.LOSSES["nll"]
    assert spec.gradient_support is target_positions
    x = torch.zeros(2, 20, 4, dtype=torch.float64)
    y = torch.tensor([[12, -100, 1, 0], [0, 19, -100, 1]])  # (N, d1) targets, two ignored
    flat = target_positions(x, y, {"ignore_index": -100})
    expected = [n * 80 + c * 4 + d for n in range(2) for d in range(4) if (c := int(y[n, d])) != -100]
    assert flat.tolist() == expected
    assert target_positions(torch.zeros(50), torch.tensor(3), {}).tolist() == [3]  # (C,) with one index
    assert target_positions(torch.zeros(50), torch.tensor(3), {"ignore_index": 3}).tolist() == []
    assert target_positions(torch.zeros(8, 15), torch.zeros(8).long(), {}) is None  # 1 in 15: compared densely


def _autograd_of_the_trace(spec, x, y, params, reduction):
    from lossapp.engine import run_trace
    return run_trace(dataclasses.replace(spec, gradient=None), x, y, params, reduction, sparse=True)


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 4, 2, 3), (50, 20)])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_nll_gradient_is_autograd_of_the_trace_bit_for_bit(shape, reduction):
    from lossapp.engine import run_trace
    from lossapp.losses.classification import ANY_IGNORED
    from lossapp.reference import sparse_elements
    spec = lossapp.LOSSES["nll"]
    g = torch.Generator().manual_seed(5)
    cd = 0 if len(shape) == 1 else 1
    index_shape = () if len(shape) == 1 else (shape[0], *shape[2:])
    classes = shape[cd]
    for case in ("plain", "weighted", "ignored", "weighted_ignored", "all_ignored", "zero_weights", "log2", "inf"):
        x = torch.log_softmax(torch.randn(shape, generator=g, dtype=torch.float64) * 3, cd)
        y = torch.randint(0, classes, index_shape, generator=g)
        params = spec.resolve_params({})
        if "weighted" in case or case == "zero_weights":
            weight = torch.rand(classes, generator=g, dtype=torch.float64) * 3
            params["weight"] = weight * 0 if case == "zero_weights" else weight
        if "ignored" in case:
            params["ignore_index"] = 7 if case != "all_ignored" else int(y.reshape(-1)[0])
            y.reshape(-1)[::3] = 7
            if case == "all_ignored":
                y.fill_(params["ignore_index"])
        if case == "log2":
            params["log_base"] = "2"
        if case == "inf":
            x.reshape(-1)[1] = -math.inf
        trace, value, grad = run_trace(spec, x, y, params, reduction, sparse=True)
        auto_trace, auto_value, auto_grad = _autograd_of_the_trace(spec, x, y, params, reduction)
        assert trace.shared[ANY_IGNORED] == ("ignored" in case)  # the steps read it from the gradient, the same steps:
        assert [(s.symbol, s.note, str(s.shown_values().tolist())) for s in trace.steps] == \
            [(s.symbol, s.note, str(s.shown_values().tolist())) for s in auto_trace.steps], case
        assert grad.is_sparse and grad.is_coalesced() == (len(shape) <= 2)  # (C,), (N, C): indices ascending
        # every value −g where no weight nor ignored sample makes them differ: one number's broadcast view
        assert (grad._values().stride() == (0,)) == (case in ("plain", "log2", "inf")), case
        assert torch.equal(value, auto_value) or (value.isnan().all() and auto_value.isnan().all())
        flat, values = sparse_elements(grad)
        auto_flat, auto_values = sparse_elements(auto_grad)
        assert torch.equal(flat, auto_flat), case
        assert torch.equal(values.view(torch.int64), auto_values.view(torch.int64)), case  # bits: signs, NaN
        dense, auto_dense = grad.to_dense(), auto_grad.to_dense()
        assert torch.equal(dense.view(torch.int64), auto_dense.view(torch.int64)), case
        dense_run = run_trace(spec, x, y, params, reduction)[2]  # dense for the callers that do not ask for sparse
        assert dense_run.layout == torch.strided and torch.equal(dense_run.view(torch.int64), auto_dense.view(torch.int64))
    probabilities = spec.resolve_params({"input": "probabilities"})
    assert spec.gradient(torch.rand(shape, dtype=torch.float64), torch.zeros(index_shape).long(), probabilities,
                         reduction) is None  # through the log: autograd of the trace


def test_nll_prepare_hands_on_that_no_sample_is_ignored_only_where_the_extremes_prove_it():
    """The prepare's range check reads the target's extremes; where ignore_index lies outside them it leaves
    ANY_IGNORED False in its trace's shared (compute hands it to the trace: no second pass); otherwise nothing, and the
    gradient finds the ignored samples itself."""
    from lossapp.losses.classification import ANY_IGNORED
    from lossapp.trace import Trace
    spec = lossapp.LOSSES["nll"]
    g = torch.Generator().manual_seed(31)
    x = torch.log_softmax(torch.randn(6, 5, generator=g), 1)
    y = torch.tensor([0, 4, 2, 2, 1, 3])
    for ignore_index, outside in ((-100, True), (7, True), (2, False), (0, False), (4, False)):
        params = spec.resolve_params({"ignore_index": ignore_index})
        trace = Trace()
        spec.prepare(x.double(), y, params, trace)
        assert trace.shared.get(ANY_IGNORED, None) is (False if outside else None), ignore_index
        r = lossapp.compute("nll", x, y, ignore_index=ignore_index)
        assert r.agrees and any(s.symbol == "ignored" for s in r.steps) == (not outside), ignore_index
        assert r.scalar == pytest.approx(float(F.nll_loss(x.double(), y, ignore_index=ignore_index)))


def _nll_inputs(n: int = 40, c: int = 20) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(11)
    return torch.log_softmax(torch.randn(n, c, generator=g), 1), torch.randint(0, c, (n,), generator=g)


def _off_gradient(spec, at: tuple[int, ...], bump: float):
    """spec's reference with the same value and `bump` added to its gradient at `at`."""
    def reference(x, y, p, reduction):
        return spec.reference(x, y, p, reduction) + bump * (x[at] - x[at].detach())
    return dataclasses.replace(spec, reference=reference)


def test_nll_gradient_is_compared_at_the_targets_and_checked_zero_elsewhere(monkeypatch):
    import lossapp.reference as reference
    compared = []
    largest_gap = reference._largest_gap
    monkeypatch.setattr(reference, "_largest_gap", lambda r, e, *a: compared.append(r.numel()) or largest_gap(r, e, *a))
    x, y = _nll_inputs()
    y[[3, 17]] = -100  # ignored rows: zero gradient, left out of the support
    r = lossapp.compute("nll", x, y)
    assert r.agrees and r.gradient.agrees and r.gradient.shape == (40, 20)
    assert compared[-1] == 40  # the gradients compared at the 40 picks only (the 2 ignored ones 0 in both)
    assert torch.equal(torch.tensor(r.gradient.reference)[[3, 17]], torch.zeros(2, 20))
    few_x, few_y = _nll_inputs(c=5)  # the trace's gradient is sparse (autograd of the pick): so too with 5 classes
    assert lossapp.compute("nll", few_x, few_y).gradient.agrees and compared[-1] == 40
    probabilities = lossapp.compute("nll", few_x.exp(), few_y, input="probabilities")  # through the log: dense
    assert probabilities.gradient.agrees and compared[-1] == 200

    spec = lossapp.LOSSES["nll"]
    for at, bump in (((6, (int(y[6]) + 1) % 20), 1e-3), ((3, 2), -0.5), ((8, int(y[8])), 0.25)):
        monkeypatch.setitem(lossapp.LOSSES, "nll", _off_gradient(spec, at, bump))  # off a target, in an ignored
        r = lossapp.compute("nll", x, y)                                              # row, at a target
        assert r.reference.agrees and not r.gradient.agrees and r.agrees is False
        assert r.gradient.worst_index == at and r.gradient.max_abs_diff == pytest.approx(abs(bump), rel=1e-4)
        manual = torch.tensor(r.gradient.manual, dtype=torch.float64)
        assert r.gradient.worst["manual"] == float(manual[at])
        assert len(r.warnings) == 1 and f"worst element at index {at}: trace " in r.warnings[0]


# -- KL divergence -------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["none", "mean", "sum", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_reductions_and_log_target(reduction, log_target):
    p = torch.tensor([[0.2, 0.0, 0.8], [0.5, 0.25, 0.25]], dtype=torch.float64)
    q = torch.tensor([[0.3, 0.3, 0.4], [0.1, 0.6, 0.3]], dtype=torch.float64)
    target = p.log() if log_target else p
    if log_target:
        target = target.clamp_min(-700.0)  # log 0 = −inf is not a valid input; e^-700 is 0 to double precision
    r = check_against_torch("kl_div", q.log(), target, reduction, log_target=log_target)
    has_mean_warning = any("batchmean" in w for w in r.warnings)
    assert has_mean_warning == (reduction == "mean")
    if reduction == "batchmean":
        assert r.value == pytest.approx(r.step("KL(p‖q)").value.sum().item() / 2)
        assert r.step("den").value.item() == 2
    assert r.step("H(p)+KL").value.tolist() == pytest.approx(r.step("H(p,q)").value.tolist())


def test_kl_div_zero_target_uses_xlogy():
    r = lossapp.compute("kl_div", "[-1.0, -0.5]", "[0, 1]", reduction="none", dtype="float64")
    assert r.value[0] == 0.0
    assert r.step("p log p").value.tolist() == [0.0, 0.0]


def test_kl_div_1d_batchmean_warns():
    r = check_against_torch("kl_div", torch.tensor([0.25, 0.75]).double().log(), torch.tensor([0.5, 0.5]).double(),
                            "batchmean")
    assert any("1-D input" in w for w in r.warnings)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum", "batchmean"])
@pytest.mark.parametrize("params", [{}, {"log_base": "2"}, {"log_target": True}])
def test_kl_div_lazy_gradient_compares_as_the_dense_one(reduction, params):
    """KL's gradient −p/(scale·ln b) is a Lazy value for a target p (compared a block at a time): compute() gives the
    comparison, every field, that the same gradient as a tensor gives, and the complete gradient (replayed) is that
    tensor; with log_target (p = e^target) a tensor."""
    from test_reference import _same_gradient_comparison

    from lossapp.trace import Lazy

    spec = lossapp.LOSSES["kl_div"]
    g = torch.Generator().manual_seed(5)
    rows = (3 * (1 << 18) + 5) // 7  # (more than one block, the last one short)
    log_q = torch.log_softmax(torch.randn(rows, 7, generator=g), 1)
    p = torch.softmax(torch.randn(rows, 7, generator=g) * 3, 1)
    p[0, :3] = 0.0  # (0 · log 0)
    target = p.log().clamp_min(-700.0) if params.get("log_target") else p
    resolved = spec.resolve_params(params)
    grad = spec.gradient(log_q.double(), target.double(), resolved, reduction)
    assert isinstance(grad, Lazy) != bool(params.get("log_target"))
    lazy_result = lossapp.compute("kl_div", log_q, target, reduction=reduction, **params)

    def dense(*args, **kwargs):
        grad = spec.gradient(*args, **kwargs)
        return grad.full() if isinstance(grad, Lazy) else grad

    with pytest.MonkeyPatch.context() as m:
        m.setitem(lossapp.LOSSES, "kl_div", dataclasses.replace(spec, gradient=dense))
        dense_result = lossapp.compute("kl_div", log_q, target, reduction=reduction, **params)
    _same_gradient_comparison(lazy_result.gradient, dense_result.gradient)
    assert lazy_result.gradient.agrees and torch.equal(lazy_result.value, dense_result.value)
    manual, _ = lazy_result.replay.gradients()
    assert torch.equal(manual, dense(log_q.double(), target.double(), resolved, reduction))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum", "batchmean"])
def test_kl_div_gradient_bound_holds(reduction):
    """KL's Lazy gradient bound 1/|scale| is at least |−p_i/scale| for every element: p from 0 to 1 (subnormal, exact 0
    and 1), one or many distributions, every log base."""
    spec = lossapp.LOSSES["kl_div"]
    g = torch.Generator().manual_seed(13)
    p = torch.rand(60, 4, generator=g, dtype=torch.float64)
    p[0] = torch.tensor([1.0, 0.0, 5e-324, 1.0 - 2.0 ** -53])
    for log_base in ("e", "2", "10"):
        for target in (p, p[:1], p[0], p[:, :1]):
            grad = spec.gradient(torch.zeros_like(target), target, spec.resolve_params({"log_base": log_base}), reduction)
            assert float(grad.full().abs().max()) <= grad.bound
            if target.is_contiguous():  # (Lazy.into: the same division written into a buffer, bit for bit)
                written = grad.flat(0, target.numel(), out=torch.empty(target.numel(), dtype=torch.float64))
                assert torch.equal(written, grad.full().reshape(-1))


@pytest.mark.parametrize("params", [{}, {"log_target": True}, {"input": "probabilities"}])
def test_kl_div_steps_in_place_are_the_steps_written_out(params):
    """A transient or quiet trace (compute's, a rerun's) forms l in place over p log p: every step shows the elements,
    and the loss is the tensor, that a trace keeping every step whole gives, bit for bit."""
    from lossapp.losses.classification import kl_div_steps
    from lossapp.trace import Trace

    spec = lossapp.LOSSES["kl_div"]
    g = torch.Generator().manual_seed(6)
    log_q = torch.log_softmax(torch.randn(40, 5, generator=g, dtype=torch.float64), 1)
    p = torch.softmax(torch.randn(40, 5, generator=g, dtype=torch.float64), 1)
    p[1, 2] = 0.0
    pred = log_q.exp() if params.get("input") else log_q
    target = p.log().clamp_min(-700.0) if params.get("log_target") else p
    resolved = spec.resolve_params(params)
    for reduction in ("none", "batchmean"):
        with torch.no_grad():
            whole = Trace()
            value = kl_div_steps(whole, pred, target, resolved, reduction)
            transient = Trace(transient=True)
            assert torch.equal(kl_div_steps(transient, pred, target, resolved, reduction), value)
            assert torch.equal(kl_div_steps(Trace(quiet=True), pred, target, resolved, reduction), value)
        assert [s.symbol for s in transient.steps] == [s.symbol for s in whole.steps]
        for mine, theirs in zip(transient.steps, whole.steps, strict=True):
            assert torch.equal(mine.shown_values(), theirs.shown_values()), mine.symbol
        assert torch.equal(transient.unreduced, whole.unreduced)


def test_kl_div_checks_a_float32_pred_as_its_float64_values():
    """pred's range and finiteness, and the target's range, are read off the user's float32 tensors: the same errors
    and warnings as for their values widened to float64."""
    p = torch.tensor([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    log_q = torch.tensor([[-0.7, -0.7, -1.6], [-1.6, -1.2, -0.7]])
    for pred, target, params in ((torch.tensor([[-0.7, -0.7, 0.1], [-1.6, -1.2, -0.7]]), p, {}),
                                 (torch.tensor([[0.5, 0.5, 1.5], [0.2, 0.3, 0.5]]), p, {"input": "probabilities"}),
                                 (log_q, torch.tensor([[0.5, 0.5, 0.0], [0.2, 1.3, 0.5]]), {}),
                                 (log_q, torch.tensor([[-0.7, -0.7, 0.2], [-1.6, -1.2, -0.7]]), {"log_target": True})):
        with pytest.raises(InputError) as narrow, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lossapp.compute("kl_div", pred, target, **params)
        with pytest.raises(InputError) as wide, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lossapp.compute("kl_div", pred.double(), target.double(), **params)
        assert str(narrow.value) == str(wide.value)
    log_q = torch.tensor([[-0.7, -0.7, -math.inf], [-1.6, -1.2, -0.7]])  # −inf where p is 0: a warning, not a NaN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        narrow, wide = (lossapp.compute("kl_div", x, y) for x, y in ((log_q, p), (log_q.double(), p.double())))
    assert narrow.warnings == wide.warnings and narrow.warnings


# -- property tests against torch ---------------------------------------------------------------------

EXTREMES = st.sampled_from([100.0, -100.0, 1e4, -1e4, 0.0])
LOGIT = st.one_of(st.floats(-30, 30, allow_nan=False), EXTREMES)


@st.composite
def ce_case(draw):
    n = draw(st.integers(1, 4))
    c = draw(st.integers(2, 5))
    extra = draw(st.sampled_from([(), (2,), (1, 2)]))
    one_sample = draw(st.booleans()) and not extra
    shape = (c,) if one_sample else (n, c, *extra)
    values = draw(st.lists(LOGIT, min_size=math.prod(shape), max_size=math.prod(shape)))
    logits = torch.tensor(values, dtype=torch.float64).reshape(shape)
    index_shape = () if one_sample else (n, *extra)
    classes = draw(st.lists(st.integers(0, c - 1), min_size=math.prod(index_shape), max_size=math.prod(index_shape)))
    target = torch.tensor(classes, dtype=torch.long).reshape(index_shape)
    smoothing = draw(st.sampled_from([0.0, 0.1, 0.5]))
    weight = draw(st.one_of(st.none(), st.lists(st.floats(0.1, 5), min_size=c, max_size=c)))
    reduction = draw(st.sampled_from(["none", "mean", "sum"]))
    return logits, target, smoothing, weight, reduction


@HYPOTHESIS
@given(ce_case(), st.sampled_from(["float32", "float64"]))
def test_property_cross_entropy_matches_torch(case, dtype):
    logits, target, smoothing, weight, reduction = case
    params = {"label_smoothing": smoothing}
    if weight is not None:
        params["weight"] = weight
    r = lossapp.compute("ce", logits, target, reduction=reduction, dtype=dtype, **params)
    assert r.reference.agrees and r.gradient.agrees
    value, grad = torch_value_and_grad("cross_entropy", logits, target, reduction, **params)
    assert_close(r.value, value, rtol=1e-9, atol=1e-9)
    assert_close(r.gradient.manual, grad, rtol=1e-8, atol=1e-10)


PROB = st.one_of(st.floats(0, 1, allow_nan=False), st.sampled_from([0.0, 1.0]))


@HYPOTHESIS
@given(st.integers(1, 6).flatmap(lambda k: st.tuples(st.lists(PROB, min_size=k, max_size=k),
                                                    st.lists(PROB, min_size=k, max_size=k))),
       st.sampled_from(["none", "mean", "sum"]), st.sampled_from(["float32", "float64"]))
def test_property_bce_matches_torch(pair, reduction, dtype):
    pred, target = (torch.tensor(v, dtype=torch.float64) for v in pair)
    r = lossapp.compute("bce", pred, target, reduction=reduction, dtype=dtype)
    assert r.reference.agrees and r.gradient.agrees
    value, grad = torch_value_and_grad("bce", pred, target, reduction)
    assert_close(r.value, value)
    assert_close(r.gradient.manual, grad)


@HYPOTHESIS
@given(st.integers(1, 6).flatmap(lambda k: st.tuples(st.lists(LOGIT, min_size=k, max_size=k),
                                                    st.lists(PROB, min_size=k, max_size=k))),
       st.one_of(st.none(), st.floats(0.1, 10)), st.sampled_from(["none", "mean", "sum"]),
       st.sampled_from(["float32", "float64"]))
def test_property_bce_with_logits_matches_torch(pair, pos_weight, reduction, dtype):
    pred, target = (torch.tensor(v, dtype=torch.float64) for v in pair)
    if dtype == "float32":
        # torch's float32 kernel computes (1 − y)·x − log σ(x), which cancels for soft labels at |x| ≳ 100
        # (x = −100, y = 6e-8: 7.6e-6 instead of 6.0e-6); the float64 runs cover soft labels at the extremes
        target = target.round()
    params = {} if pos_weight is None else {"pos_weight": [pos_weight]}
    r = lossapp.compute("bce_with_logits", pred, target, reduction=reduction, dtype=dtype, **params)
    assert r.reference.agrees and r.gradient.agrees
    value, grad = torch_value_and_grad("bce_with_logits", pred, target, reduction, **params)
    assert_close(r.value, value, rtol=1e-9, atol=1e-9)
    assert_close(r.gradient.manual, grad)


@HYPOTHESIS
@given(st.integers(1, 3), st.integers(2, 5), st.data(), st.sampled_from(["none", "mean", "sum", "batchmean"]),
       st.sampled_from(["float32", "float64"]))
def test_property_kl_div_matches_torch(n, c, data, reduction, dtype):
    logits_q = torch.tensor(data.draw(st.lists(LOGIT, min_size=n * c, max_size=n * c)), dtype=torch.float64)
    raw_p = torch.tensor(data.draw(st.lists(st.floats(0, 1), min_size=n * c, max_size=n * c)), dtype=torch.float64)
    raw_p = raw_p.reshape(n, c)
    raw_p[:, 0] += 1e-3  # keep every row away from all-zero
    p = raw_p / raw_p.sum(1, keepdim=True)
    log_q = torch.log_softmax(logits_q.reshape(n, c), 1)
    if not bool(torch.isfinite(log_q).all()):
        return
    r = lossapp.compute("kl_div", log_q, p, reduction=reduction, dtype=dtype)
    assert r.reference.agrees and r.gradient.agrees
    value, grad = torch_value_and_grad("kl_div", log_q, p, reduction)
    assert_close(r.value, value, rtol=1e-9, atol=1e-9)
    assert_close(r.gradient.manual, grad)


# -- error messages and warnings ----------------------------------------------------------------------

@pytest.mark.parametrize(("args", "kwargs", "pieces"), [
    (("bce", "[0.2, 1.3]", "[1, 0]"), {}, ["pred: expected probabilities in [0, 1], got 1.3 at index 1", "bce_with_logits"]),
    (("bce", "[0.2, 0.3]", "[1, 0, 1]"), {}, ["expected pred and target of the same shape", "(2,)", "(3,)"]),
    (("bce", "[[0.2, 0.8], [0.6, 0.4]]", "[1, 0]"), {}, ["(2, 2)", "(2,)", "cross_entropy"]),
    (("bce", "[0.2, 0.3]", "[2, 0]"), {}, ["target: expected labels in [0, 1] (0/1 or soft labels)", "got 2", "cross_entropy"]),
    (("bce", "[0.2, 0.3]", "[1, 0]"), {"weight": "[1, 2, 3]"}, ["parameter weight", "(2,)", "(3,)"]),
    (("bce_with_logits", "[[0.2, 0.3]]", "[[1, 0]]"), {"pos_weight": "[1, 2, 3]"},
     ["parameter pos_weight", "(1, 2)", "(3,)"]),
    (("ce", "[[1.0, 2.0, 3.0]]", "[3]"), {}, ["class indices in [0, 3)", "C = 3", "got 3"]),
    (("ce", "[[1.0, 2.0, 3.0]]", "[-1]"), {}, ["C = 3", "ignore_index -100", "got -1"]),
    (("ce", "[[1.0, 2.0, 3.0], [0.0, 1.0, 2.0]]", "[0, 1, 2]"), {},
     ["expected target of shape (2,) (class indices) or (2, 3) (class probabilities)", "(3,)"]),
    (("ce", "[[1.0, 2.0], [0.0, 1.0]]", "[0.5, 1]"), {}, ["integer class indices", "0.5"]),
    (("ce", "[[1.0, 2.0, 3.0]]", "[0]"), {"weight": "[1, 2]"}, ["parameter weight: expected one value per class, shape (3,)", "C = 3", "got shape (2,)"]),
    (("ce", "[[0.5, 1.5]]", "[0]"), {"input": "probabilities"}, ["probabilities in [0, 1]", "input=logits"]),
    (("ce", "[[0.5, -1.5]]", "[0]"), {"input": "log_probabilities"}, ["log-probabilities ≤ 0", "got 0.5"]),
    (("ce", "[[0.5, 0.5]]", "[[1.5, -0.5]]"), {}, ["target: expected probabilities in [0, 1], got 1.5", "class probabilities"]),
    (("ce", "3.0", "0"), {}, ["expected pred of shape (C,), (N, C)", "got pred ()"]),
    (("ce", "[[1.0, 2.0]]", "[[0.5, 0.5]]"), {"ignore_index": "1"}, ["ignore_index", "-100", "got 1"]),
    (("ce", "[[1.0, 2.0]]", "[0]"), {"input": "softmax"}, ["parameter input", "logits"]),
    (("nll", "[[-0.1, -2.0]]", "[[1, 0]]"), {}, ["expected target of shape (1,) (class indices)", "(1, 2)",
                                                  "cross_entropy"]),
    (("nll", "[[-0.1, -2.0]]", "[2]"), {}, ["C = 2"]),
    (("kl_div", "[0.3, 0.7]", "[0.5, 0.5]"), {}, ["pred: expected log-probabilities ≤ 0", "got 0.3", "log q"]),
    (("kl_div", "[-1.0, -0.5]", "[0.5, 0.5, 0.0]"), {}, ["(2,)", "(3,)"]),
    (("kl_div", "[-1.0, -0.5]", "[1.5, -0.5]"), {}, ["target: expected probabilities in [0, 1]", "log_target"]),
    (("kl_div", "[-1.0, -0.5]", "[-0.5, 0.5]"), {"log_target": "true"}, ["target: expected log-probabilities", "0.5"]),
])
def test_error_messages(args, kwargs, pieces):
    with pytest.raises(InputError) as info:
        lossapp.compute(*args, **kwargs)
    message = info.value.message
    assert "expected" in message
    for piece in pieces:
        assert piece in message, (piece, message)
    assert has_zh(info.value), message


def test_zero_probabilities_follow_torch_and_warn():
    pred = torch.tensor([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]], dtype=torch.float64)
    r = check_against_torch("ce", pred, torch.tensor([1, 2]), input="probabilities")
    assert r.value == pytest.approx(-(math.log(0.5) + math.log(0.5)) / 2)
    assert any("exactly 0" in w for w in r.warnings)
    r = lossapp.compute("ce", pred, torch.tensor([0, 2]), input="probabilities")
    assert r.value == math.inf and r.reference.value == math.inf
    r = lossapp.compute("kl_div", "[[-inf, 0.0]]", "[[0, 1]]", dtype="float64")
    assert math.isnan(r.reference.value) and r.reference.agrees and any("NaN" in w for w in r.warnings)


def test_probabilities_passed_as_logits_warn():
    r = lossapp.compute("ce", "[0.3, 0.3, 0.4]", "2")
    assert any("input=probabilities" in w for w in r.warnings)
    assert r.value != pytest.approx(-math.log(0.4))


def test_rows_not_summing_to_one_warn_and_still_match_torch():
    r = check_against_torch("ce", torch.tensor([[0.3, 0.3, 0.3]], dtype=torch.float64), torch.tensor([2]),
                            input="probabilities")
    assert any("do not sum to 1" in w for w in r.warnings)
    assert r.value == pytest.approx(math.log(3))  # renormalised: −log(0.3 / 0.9)
    r = lossapp.compute("ce", "[[1.0, 2.0]]", "[[0.7, 0.7]]")
    assert any("target rows do not sum to 1" in w for w in r.warnings)


# -- 中文 ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_spec_texts_have_chinese(name):
    spec = lossapp.LOSSES[name]
    for text in (spec.title, spec.summary, *[p.description for p in spec.params]):
        assert has_zh(text), text


def test_step_texts_and_warnings_have_chinese():
    results = [
        lossapp.compute("bce", "[0, 1, 0.5]", "[1, 0, 1]", weight="[1, 2, 3]"),
        lossapp.compute("bce", "[0, 1]", "[0, 1]"),
        lossapp.compute("bce_with_logits", "[1.0, -2.0]", "[1, 0]", weight="[1, 2]"),
        lossapp.compute("bce_with_logits", "[1.0, -2.0]", "[1, 0]", pos_weight="[2]"),
        lossapp.compute("ce", "[[1.0, 2.0, 0.5], [0.0, 0.0, 1.0]]", "[0, -100]", weight="[1, 2, 3]",
                        label_smoothing="0.1"),
        lossapp.compute("ce", "[[1.0, 2.0, 0.5]]", "[0]", label_smoothing="0.1"),
        lossapp.compute("ce", "[[1.0, 2.0, 0.5]]", "[[0.2, 0.2, 0.5]]", label_smoothing="0.1", weight="[1, 2, 3]"),
        lossapp.compute("ce", "[[0.3, 0.3, 0.3]]", "[0]", input="probabilities"),
        lossapp.compute("ce", "[[-0.1, -0.3, -0.3]]", "[0]", input="log_probabilities"),
        lossapp.compute("ce", "[0.3, 0.3, 0.4]", "2"),
        lossapp.compute("nll", "[[-0.1, -0.3, -0.3]]", "[0]"),
        lossapp.compute("nll", "[[0.1, -0.3, -0.3]]", "[0]"),
        lossapp.compute("kl_div", "[[-0.1, -0.3]]", "[[0.4, 0.4]]", reduction="mean"),
        lossapp.compute("kl_div", "[[-inf, 0.0]]", "[[0, 1]]"),
        lossapp.compute("ce", "[[0.0, 0.5, 0.5]]", "[[0, 1, 0]]", input="probabilities"),
        lossapp.compute("kl_div", "[-0.69, -0.69]", "[-0.69, -0.69]", reduction="batchmean", log_target="true"),
    ]
    missing = sorted({t for r in results for t in all_texts(r) if not has_zh(t)})
    assert not missing, missing


# -- example files -----------------------------------------------------------------------------------

MY_EXAMPLES = ["002_bce_three_pixels", "000_ce_three_classes", "000_ce_randn", "001_bce_weights",
               "001_ce_ignore_index", "004_entropy_kl"]
KEYS = {"source", "section", "loss", "reduction"}  # the title and notes: [examples.<name>] in the catalogs


def _load(name: str) -> dict:
    with open(EXAMPLES / f"{name}.toml", "rb") as f:
        return tomllib.load(f)


@pytest.mark.parametrize("name", MY_EXAMPLES)
def test_example_files(name):
    data = _load(name)
    assert set(data) >= KEYS, KEYS - set(data)
    assert all({f"examples.{name}.title", f"examples.{name}.notes"} <= set(i18n.catalog(lang)) for lang in ("en", "zh"))
    assert (Path(__file__).resolve().parents[2] / "shared" / "seeds" / data["source"]).name == data["source"]
    assert name.startswith(data["source"][:3])
    spec = lossapp.lookup(data["loss"])
    assert data["reduction"] in spec.reductions
    if "random" in data:
        assert "pred" not in data and data["random"]["seed"] == 0
        return
    r = lossapp.compute(data["loss"], data["pred"], data["target"], reduction=data["reduction"],
                        **data.get("params", {}))
    assert r.reference.agrees and r.gradient.agrees
    assert not r.warnings
    if "stated" in data:  # the stated value is right or a rounding difference (0.9264 vs 0.926341)
        decimals = len(data["stated"].split(".")[1])
        assert abs(r.value - float(data["stated"])) < 10 ** -decimals


def test_example_stated_values():
    assert _load("002_bce_three_pixels")["stated"] == "0.9264"
    three = _load("000_ce_three_classes")  # the article writes −log 0.4 but no number: nothing stated (issue 12)
    assert "stated" not in three
    r = lossapp.compute(three["loss"], three["pred"], three["target"], **three["params"])
    assert r.scalar == pytest.approx(-math.log(0.4), abs=1e-12)


def test_example_ce_randn_by_hand():
    data = _load("000_ce_randn")
    assert data["random"] == {"seed": 0, "pred": "randn(2, 3)", "target": "randint(0, 3, (2,))"}
    torch.manual_seed(data["random"]["seed"])
    pred, target = torch.randn(2, 3), torch.randint(0, 3, (2,))
    r = lossapp.compute(data["loss"], pred, target, reduction=data["reduction"])
    assert r.reference.agrees and r.gradient.agrees
    assert r.value == pytest.approx(F.cross_entropy(pred.double(), target).item(), abs=1e-12)


def test_example_values_in_notes():
    r = lossapp.compute("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", weight="[1, 2, 3]")
    assert round(r.scalar, 4) == 1.6675 and "1.6675" in i18n.msg("examples.001_bce_weights.notes")
    data = _load("001_ce_ignore_index")
    r = lossapp.compute(data["loss"], data["pred"], data["target"], **data["params"])
    assert round(r.scalar, 4) == 0.3779 and "0.3779" in i18n.msg("examples.001_ce_ignore_index.notes")
    assert r.step("den").value.item() == 6.0


# -- derivative steps, input="probabilities" for nll and kl_div ----------------------------------------

def test_bce_derivative_step_at_the_article_case():
    r = lossapp.compute("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]")
    step = r.step("dl/dp")
    assert step.value_list() == pytest.approx([-1 / 0.2947, 1 / (1 - 0.5898), 1 / (1 - 0.4863)], rel=1e-12)
    assert "p = 0.2947, y = 1, so ∂l/∂p = −y/p + (1 − y)/(1 − p) = -3.393" in step.note
    weighted = lossapp.compute("bce", "[0.2947, 0.5898]", "[1, 0]", weight="[2, 3]").step("dl/dp")
    assert weighted.value_list() == pytest.approx([-2 / 0.2947, 3 / (1 - 0.5898)], rel=1e-12)


def test_a_large_derivative_steps_points_are_its_shown_elements():
    """A step of more than COMPLETE_MAX elements spells out its first points from its shown elements (one evaluation
    of the derivative): the note of a short input's first three points, and "…" for the rest."""
    pred = [0.2947, 0.5898, 0.4863, 1e-50, 0.25] * 10
    target = [1, 0, 0, 1, 1] * 10
    step = lossapp.compute("bce", str(pred), str(target), reduction="none").step("dl/dp")
    short = lossapp.compute("bce", str(pred[:3]), str(target[:3]), reduction="none").step("dl/dp")
    assert step.count == 50 and not step.complete and step.value_list()[:3] == short.value_list()
    assert step.note == i18n.msg("derivative.points_more", points=short.note)


def test_bce_derivative_is_zero_where_the_clamp_fires():
    r = lossapp.compute("bce", "[1e-50, 0.5]", "[1, 1]", reduction="none")
    step = r.step("dl/dp")
    assert step.value_list() == [0.0, -2.0]
    assert "clamped at −100" in step.note


@pytest.mark.parametrize("params", [{}, {"pos_weight": "[1, 2, 3]"}, {"weight": "[[1, 2, 3], [0.5, 1, 1]]"}])
def test_bce_with_logits_derivative_step_is_torch_autograd(params):
    pred, target = "[[1.2, -0.5, 0.0], [-2.0, 0.0, 0.7]]", "[[1, 0, 1], [0, 1, 0.3]]"
    r = lossapp.compute("bce_with_logits", pred, target, reduction="sum", **params)
    tensors = {k: torch.tensor(json.loads(v), dtype=torch.float64) for k, v in params.items()}
    x = torch.tensor(json.loads(pred), dtype=torch.float64, requires_grad=True)
    out = F.binary_cross_entropy_with_logits(x, torch.tensor(json.loads(target), dtype=torch.float64), reduction="sum",
                                             **tensors)
    (grad,) = torch.autograd.grad(out, x)
    assert_close(r.step("dl/dx").value, grad)
    assert "∂l/∂x" in r.step("dl/dx").note


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("params", [{}, {"weight": "[1, 2, 3]"}, {"ignore_index": 1}, {"log_base": "2"}])
def test_nll_takes_probabilities_with_the_log_as_a_step(reduction, params):
    probabilities = [[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]
    r = lossapp.compute("nll", str(probabilities), "[2, 1]", input="probabilities", reduction=reduction, **params)
    logs = lossapp.compute("nll", str(torch.log(torch.tensor(probabilities, dtype=torch.float64)).tolist()), "[2, 1]",
                           reduction=reduction, **params)
    assert_close(r.value, logs.value)
    assert r.agrees, r.warnings
    assert r.step("log p").note.startswith("input=probabilities")
    assert has_zh(r.step("log p").note)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_takes_probabilities_with_the_log_as_a_step(reduction, log_target):
    q = [[0.25, 0.5, 0.25], [0.1, 0.6, 0.3]]
    p = torch.tensor([[0.5, 0.25, 0.25], [0.2, 0.5, 0.3]], dtype=torch.float64)
    target = torch.log(p) if log_target else p
    r = lossapp.compute("kl_div", str(q), target, reduction=reduction, input="probabilities", log_target=log_target,
                        dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's own warning about 'mean'
        expected = F.kl_div(torch.log(torch.tensor(q, dtype=torch.float64)), target, reduction=reduction,
                            log_target=log_target)
    assert_close(r.value, expected)
    assert r.agrees, r.warnings
    assert r.step("log q").value_list()[0] == pytest.approx(torch.log(torch.tensor(q[0], dtype=torch.float64)).tolist())
    derivative = r.step("dl/dq").value_list()
    assert derivative[0] == pytest.approx((-p[0] / torch.tensor(q[0], dtype=torch.float64)).tolist(), rel=1e-12)


def test_kl_div_probabilities_are_checked_as_probabilities():
    with pytest.raises(InputError, match="expected probabilities") as info:
        lossapp.compute("kl_div", "[[-1.2, -0.4]]", "[[0.5, 0.5]]", input="probabilities")
    assert has_zh(info.value)
    r = lossapp.compute("kl_div", "[[0.2, 0.3]]", "[[0.5, 0.5]]", input="probabilities")
    assert any("do not sum to 1" in w for w in r.warnings)


# -- value-only reruns (LossSpec.rerun): the steps' value, bit for bit ------------------------------------------------

@pytest.mark.parametrize("n", [9, 200_003])
@pytest.mark.parametrize("name", ["bce", "bce_with_logits", "bce_with_logits_inf"])
def test_bce_reruns_are_the_steps_value_bit_for_bit(name: str, n: int) -> None:
    """bce_value and bce_with_logits_value (in place, the pred's logs shared through one memo across labels) give what
    the steps give, for 0/1, swapped, smoothed and soft labels, with and without weight and pos_weight."""
    from lossapp.losses.classification import bce_steps, bce_value, bce_with_logits_steps, bce_with_logits_value
    from lossapp.registry import RerunMemo
    from lossapp.trace import Trace
    g = torch.Generator().manual_seed(n)
    logits = name != "bce"
    steps, value = (bce_with_logits_steps, bce_with_logits_value) if logits else (bce_steps, bce_value)
    if logits:
        x = 5 * torch.randn(n, generator=g, dtype=torch.float64)
        x[:3] = torch.tensor([0.0, -0.0, 700.0])
        if name.endswith("_inf"):
            x[3:5] = torch.tensor([math.inf, -math.inf])
    else:
        x = torch.rand(n, generator=g, dtype=torch.float64)
        x[:3] = torch.tensor([0.0, 1.0, 1e-300])
    labels = (torch.rand(n, generator=g) > 0.5).double()
    memo = RerunMemo()
    for y in (labels, 1 - labels, labels * 0.9 + 0.05, torch.rand(n, generator=g, dtype=torch.float64)):
        for weight, pos_weight in itertools.product((None, torch.rand(n, generator=g)),
                                                    (None, 3 * torch.rand(n, generator=g)) if logits else (None,)):
            params = {"weight": weight, **({"pos_weight": pos_weight} if logits else {})}
            for reduction in ("mean", "sum", "none"):
                a, b = value(x, y, params, reduction, memo), steps(Trace(quiet=True), x, y, params, reduction)
                assert torch.equal(a.isnan(), b.isnan()) and torch.equal(a.nan_to_num(), b.nan_to_num()), reduction


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_in_place_form_is_the_general_one(weighted, reduction):
    """A trace that keeps only shown elements takes the in-place form of a large bce_with_logits (fewer passes): its
    value, unreduced loss, steps (symbols, shown elements, substitutions) bit for bit those of the general form, with
    ±inf logits and soft labels too; a quiet trace writes the same steps."""
    from lossapp.losses.classification import bce_with_logits_steps
    from lossapp.trace import Trace

    g = torch.Generator().manual_seed(3)
    x = torch.randn(500, generator=g, dtype=torch.float64) * 20
    x[[3, 7]] = torch.tensor([math.inf, -math.inf], dtype=torch.float64)
    x[11] = 0.0
    y = torch.rand(500, generator=g, dtype=torch.float64)
    y[:250] = y[:250].round()
    params = {"weight": torch.rand(500, generator=g, dtype=torch.float64) if weighted else None, "pos_weight": None}
    general = Trace()  # (keeps every element: the general form)
    with torch.no_grad():
        expected = bce_with_logits_steps(general, x, y, params, reduction)
        general.release()
        for trace in (Trace(transient=True), Trace(quiet=True)):
            value = bce_with_logits_steps(trace, x, y, params, reduction)
            assert torch.equal(value.isnan(), expected.isnan())
            assert torch.equal(value.nan_to_num(), expected.nan_to_num())
            assert torch.equal(trace.unreduced.nan_to_num(), general.unreduced.nan_to_num())
            if trace.quiet:  # against the general form's quiet trace (autograd following x: not in place)
                quiet = Trace(quiet=True)
                with torch.enable_grad():
                    bce_with_logits_steps(quiet, x.clone().requires_grad_(True), y, params, reduction)
                assert [(s.symbol, s.note, s.sub, s.shape) for s in trace.steps] == \
                       [(s.symbol, s.note, s.sub, s.shape) for s in quiet.steps]
                continue
            assert [s.symbol for s in trace.steps] == [s.symbol for s in general.steps]
            for mine, theirs in zip(trace.steps, general.steps, strict=True):
                assert (mine.shape, mine.note, mine.sub, mine.substituted()) == \
                       (theirs.shape, theirs.note, theirs.sub, theirs.substituted())
                assert torch.equal(mine.shown_values().nan_to_num(), theirs.shown_values().nan_to_num()), mine.symbol


def test_any_ignored_sample_is_any_of_the_mask():
    from lossapp.losses.classification import any_ignored_sample
    g = torch.Generator().manual_seed(2)
    for target in (torch.randint(0, 5, (40,), generator=g), torch.tensor(3), torch.zeros(0, dtype=torch.int64),
                   torch.tensor([[0, -100], [4, 2]]), torch.tensor([7, 7, 7])):
        for ignore_index in (-100, 0, 3, 4, 7, 5, -1):
            assert any_ignored_sample(target, ignore_index) == bool((target == ignore_index).any())


def test_kl_check_of_large_float32_inputs_reads_the_ranges_its_prepare_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """Within a check, kl_div's prepare records the extremes it finds on the user's float32 tensors on their float64
    widenings too (the Result's pred and target): the checker's ranges and the enclosure's point bound take no pass
    over a float64 copy, and are the tensors' own; the verdict is that of the same problem given in float64."""
    import lossapp.trace
    from lossapp.variants import Case
    from lossapp.verdicts import check_result
    g = torch.Generator().manual_seed(5)
    x = torch.log_softmax(torch.randn(20000, 6, generator=g), 1)
    t = torch.softmax(torch.randn(20000, 6, generator=g), 1)
    passes: list[torch.dtype] = []
    real = lossapp.trace.tensor_extremes
    monkeypatch.setattr(lossapp.trace, "tensor_extremes", lambda v, **way: passes.append(v.dtype) or real(v, **way))
    with lossapp.trace.shared_extremes():
        result = lossapp.compute("kl_div", x, t)
        claim = f"{result.scalar * 1.0123 + 1e-3:.6g}"
        passes.clear()
        got = check_result(result, claim)
        case = Case(result)
        ranges = case.pred_range(), case.target_range()
    assert torch.float64 not in passes
    assert ranges == ((float(x.min()), float(x.max())), (float(t.min()), float(t.max())))
    want = check_result(lossapp.compute("kl_div", x.double(), t.double()), claim)
    assert (got.verdict, got.interval, got.mistakes, got.conventions) == \
        (want.verdict, want.interval, want.mistakes, want.conventions)
