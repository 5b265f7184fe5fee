"""Sigmoid and softmax focal losses: article golden numbers, torch references (values and gradients),
mmdetection's and torchvision's formulas, edge cases, and property tests against an independent numpy
formula."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from spec_code import assert_close, run_torch_code

import lossapp
from lossapp.examples import find_example
from lossapp.i18n import has_zh
from lossapp.inputs import InputError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DTYPES = {"float32": torch.float32, "float64": torch.float64}


# -- article 003: the two pixels ----------------------------------------------------------------------

def test_article_003_pixel_terms_and_focal_weights():
    r = lossapp.compute("focal", "[0.45, 0.7]", "[1, 0]", input="probabilities", reduction="none")
    # before the focal weights: l1 = -ln 0.45, l2 = -ln(1 - 0.7), as the article writes them
    ce = r.step("ce").value_list()
    assert ce[0] == pytest.approx(0.798508, abs=5e-7)
    assert ce[1] == pytest.approx(1.203973, abs=5e-7)
    assert ce == pytest.approx([-math.log(0.45), -math.log(1 - 0.7)], rel=1e-12)
    # alpha_t and the focal weights are visible as steps
    assert r.step("alpha_t").value_list() == pytest.approx([0.25, 0.75], rel=1e-15)
    assert r.step("p_t").value_list() == pytest.approx([0.45, 0.3], rel=1e-12)
    assert r.step("(1-p_t)^gamma").value_list() == pytest.approx([0.55 ** 2, 0.7 ** 2], rel=1e-12)
    assert r.step("focal_weight").value_list() == pytest.approx([0.25 * 0.55 ** 2, 0.75 * 0.7 ** 2], rel=1e-12)
    # with alpha = 0.25, gamma = 2: 0.25·0.55²·0.798508 and 0.75·0.7²·1.203973
    assert r.value[0] == pytest.approx(0.25 * 0.55 ** 2 * 0.798508, abs=1e-7)
    assert r.value[1] == pytest.approx(0.75 * 0.7 ** 2 * 1.203973, abs=1e-7)
    assert r.value == pytest.approx([0.25 * 0.55 ** 2 * -math.log(0.45), 0.75 * 0.49 * -math.log(0.3)], rel=1e-12)
    assert r.reference.agrees and r.gradient.agrees
    assert r.params["alpha"] == 0.25 and r.params["gamma"] == 2.0
    table = r.table()
    assert {"alpha_t", "focal_weight", "ce", "l"} <= set(table.columns)
    json.dumps(r.to_dict())


def test_article_003_alpha_on_both_classes_is_not_the_focal_loss():
    """Article 003's last formula puts α on both classes; the real focal loss gives the negative 1 − α."""
    r = lossapp.compute("focal", "[0.7]", "[0]", input="probabilities", reduction="none")
    wrong = 0.25 * 0.7 ** 2 * -math.log(0.3)
    assert r.value[0] == pytest.approx(0.75 * 0.7 ** 2 * -math.log(0.3), rel=1e-12)
    assert r.value[0] != pytest.approx(wrong, rel=1e-3)


# -- article 000: mmdetection's py_sigmoid_focal_loss -------------------------------------------------

def _mmdet_py_sigmoid_focal_loss(pred, target, weight=None, gamma=2.0, alpha=0.25, reduction="mean", avg_factor=None):
    """Article 000's mmdetection code, with mmdetection's weight_reduce_loss, written out here."""
    pred_sigmoid = pred.sigmoid()
    target = target.type_as(pred)
    pt = (1 - pred_sigmoid) * target + pred_sigmoid * (1 - target)
    focal_weight = (alpha * target + (1 - alpha) * (1 - target)) * pt.pow(gamma)
    loss = F.binary_cross_entropy_with_logits(pred, target, reduction="none") * focal_weight
    if weight is not None:
        loss = loss * weight
    if avg_factor is None:
        return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]
    if reduction == "mean":
        return loss.sum() / avg_factor
    return loss


_MMDET_EXTRAS = [{}, {"weight": [[1.0, 0.5, 2.0], [0.0, 1.0, 3.0]]}, {"avg_factor": 2.0},
                 {"weight": [[2.0], [0.5]], "avg_factor": 4.0}]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("reduction", "extra"), [
    (r, e) for r in ("none", "mean", "sum") for e in _MMDET_EXTRAS
    if not ("avg_factor" in e and r == "sum")  # mmdetection refuses avg_factor with sum (tested below)
])
def test_matches_mmdetection(dtype, reduction, extra):
    pred = torch.tensor([[1.2, -0.8, 0.3], [-2.0, 0.5, 3.0]], dtype=DTYPES[dtype], requires_grad=True)
    target = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]], dtype=DTYPES[dtype])
    weight = torch.tensor(extra["weight"], dtype=DTYPES[dtype]) if "weight" in extra else None
    expected = _mmdet_py_sigmoid_focal_loss(pred, target, weight=weight, reduction=reduction,
                                            avg_factor=extra.get("avg_factor"))
    (grad,) = torch.autograd.grad(expected, pred, torch.ones_like(expected))
    params = {k: (json.dumps(v) if k == "weight" else v) for k, v in extra.items()}
    r = lossapp.compute("focal", pred.detach(), target, reduction=reduction, dtype=dtype, **params)
    assert_close(r.value, expected.detach(), DTYPES[dtype])
    assert_close(r.gradient.manual, grad, DTYPES[dtype])
    assert r.reference.agrees and r.gradient.agrees, r.warnings


def test_avg_factor_rules():
    with pytest.raises(InputError, match="expected reduction mean"):
        lossapp.compute("focal", "[1.0, -1.0]", "[1, 0]", reduction="sum", avg_factor=2)
    r = lossapp.compute("focal", "[1.0, -1.0]", "[1, 0]", reduction="none", avg_factor=2)
    assert any("avg_factor" in w for w in r.warnings)
    with pytest.raises(InputError, match="expected a positive number"):
        lossapp.compute("focal", "[1.0, -1.0]", "[1, 0]", avg_factor=0)
    r = lossapp.compute("focal", "[1.0, -1.0]", "[1, 0]", reduction="mean", avg_factor=4)
    assert r.step("den").value_list() == 4.0
    assert r.value == pytest.approx(sum(r.step("l").value_list()) / 4, rel=1e-15)


# -- torchvision's formula and the gamma = 0 / alpha off reduction to BCE -----------------------------

def _torchvision_formula(inputs, targets, alpha=0.25, gamma=2.0, reduction="none"):
    """torchvision.ops.sigmoid_focal_loss, as written in torchvision (it is not installed here)."""
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (-1.0, 2.0), (0.5, 0.0), (0.9, 0.5), (0.0, 5.0)])
def test_matches_torchvision_formula(alpha, gamma):
    x = torch.tensor([[3.0, -1.5, 0.0, 0.2], [-4.0, 2.5, -0.3, 1.0]], dtype=torch.float64)
    y = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 1.0]], dtype=torch.float64)
    for reduction in ("none", "mean", "sum"):
        r = lossapp.compute("focal", x, y, reduction=reduction, dtype="float64", alpha=alpha, gamma=gamma)
        assert_close(r.value, _torchvision_formula(x, y, alpha, gamma, reduction))
        assert r.reference.agrees and r.gradient.agrees


def test_torchvision_is_used_when_importable():
    spec = lossapp.LOSSES["focal"]
    try:
        import torchvision  # noqa: F401
    except ImportError:
        assert spec.reference_name.startswith("torchvision's sigmoid_focal_loss formula")
    else:
        assert spec.reference_name == "torchvision.ops.sigmoid_focal_loss"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_gamma_zero_alpha_off_is_bce_with_logits(dtype, reduction):
    x = torch.tensor([[2.0, -0.7, 0.1], [-3.0, 0.4, 6.0]], dtype=DTYPES[dtype], requires_grad=True)
    y = torch.tensor([[1.0, 0.0, 0.3], [0.0, 1.0, 1.0]], dtype=DTYPES[dtype])
    bce = F.binary_cross_entropy_with_logits(x, y, reduction=reduction)
    (grad,) = torch.autograd.grad(bce, x, torch.ones_like(bce))
    r = lossapp.compute("focal", x.detach(), y, reduction=reduction, dtype=dtype, gamma=0, alpha=-1)
    assert_close(r.value, bce.detach(), DTYPES[dtype])
    assert_close(r.gradient.manual, grad, DTYPES[dtype])
    assert r.step("focal_weight").value_list() == [[1.0] * 3] * 2
    assert "exactly BCE" in r.step("focal_weight").note
    if "bce_with_logits" in lossapp.LOSSES:
        other = lossapp.compute("bce_with_logits", x.detach(), y, reduction=reduction, dtype=dtype)
        assert_close(r.value, other.value)


def test_gamma_zero_alpha_off_is_bce_on_probabilities():
    p = torch.tensor([0.1, 0.45, 0.7, 0.999, 0.0, 1.0], dtype=torch.float64)
    y = torch.tensor([1.0, 1.0, 0.0, 1.0, 0.0, 0.0], dtype=torch.float64)
    r = lossapp.compute("focal", p, y, input="probabilities", gamma=0, alpha=-1, reduction="none", dtype="float64")
    assert_close(r.value, F.binary_cross_entropy(p, y, reduction="none"))
    assert r.value[-1] == 100.0  # torch's clamp: -log(1 - 1) = -max(log 0, -100)
    assert "fires at 1 element(s)" in r.step("log(1-p)").note  # p = 1
    assert "fires at 1 element(s)" in r.step("log p").note  # p = 0
    r = lossapp.compute("focal", "[0.45, 0.7]", "[1, 0]", input="probabilities")
    assert "does not fire" in r.step("log p").note


def test_every_focal_weight_note_mentions_the_bce_case():
    r = lossapp.compute("focal", "[1.0, -2.0]", "[1, 0]")
    assert "BCE" in r.step("focal_weight").note


# -- every loss × reduction × dtype against the torch reference ---------------------------------------

FOCAL_CASES = [
    ("focal", "[[1.2, -0.8, 0.3], [-2.0, 0.5, 3.0]]", "[[1, 0, 0], [0, 1, 1]]", {}),
    ("focal", "[0.45, 0.7, 0.02, 0.98]", "[1, 0, 1, 0]", {"input": "probabilities"}),
    ("focal", "[0.45, 0.7, 0.3]", "[1, 0, 0.4]", {"input": "probabilities", "alpha": 0.6, "gamma": 1.5}),
    ("focal", "[[4.0, -1.0], [0.0, 9.0]]", "[[1, 0], [1, 0]]", {"alpha": -1, "gamma": 3}),
    ("focal", "[1.0, -2.0, 0.5]", "[1, 0, 1]", {"weight": "[1, 2, 0.5]"}),
    ("softmax_focal", "[[2.0, 0.5, -1.0], [0.1, 1.5, 0.3], [-0.5, 0.2, 2.5]]", "[0, 1, 1]", {}),
    ("softmax_focal", "[[2.0, 0.5, -1.0], [0.1, 1.5, 0.3]]", "[2, 1]", {"alpha": "[0.25, 0.5, 0.25]"}),
    ("softmax_focal", "[[2.0, 0.5, -1.0], [0.1, 1.5, 0.3]]", "[2, 1]", {"alpha": 0.25, "gamma": 0.5}),
    ("softmax_focal", "[0.3, -1.2, 2.2, 0.0]", "2", {"gamma": 1.0}),
    ("softmax_focal", "[[[1.0, 2.0], [0.5, 0.0], [-1, 1]], [[0.0, -5.0], [5.0, 3.0], [1, 1]]]", "[[1, 0], [2, -100]]",
     {"alpha": "[1, 2, 0.5]"}),
    ("softmax_focal", "[[2.0, 0.5, -1.0], [0.1, 1.5, 0.3]]", "[255, 1]", {"ignore_index": 255}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("case", FOCAL_CASES, ids=lambda c: f"{c[0]}:{c[1][:20]}:{c[3]}")
def test_against_reference(case, reduction, dtype):
    name, pred, target, params = case
    r = lossapp.compute(name, pred, target, reduction=reduction, dtype=dtype, **params)
    assert r.reference.agrees, r.warnings
    assert r.gradient is not None and r.gradient.agrees, r.warnings
    assert_close(r.value, r.reference.value, DTYPES[dtype])
    json.dumps(r.to_dict())


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("case", FOCAL_CASES, ids=lambda c: f"{c[0]}:{c[1][:20]}:{c[3]}")
def test_torch_code_reproduces_the_value(case, reduction):
    name, pred, target, params = case
    spec = lossapp.LOSSES[name]
    r = lossapp.compute(name, pred, target, reduction=reduction, dtype="float64", **params)
    names = dict(spec.resolve_params(params))
    names.update(pred=r.pred.values.double(), target=r.target.values, reduction=reduction)
    assert_close(run_torch_code(spec.torch_code, **names), r.value)


def test_registry_example_runs():
    for name in ("focal", "softmax_focal"):
        spec = lossapp.LOSSES[name]
        for reduction in spec.reductions:
            r = lossapp.compute(name, spec.example["pred"], spec.example["target"], reduction=reduction,
                                **spec.example["params"])
            assert r.reference.agrees and r.gradient.agrees


# -- extreme inputs -----------------------------------------------------------------------------------

def test_extreme_logits_stay_exact():
    x = torch.tensor([50.0, -50.0, 50.0, -50.0, 0.0], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0], dtype=torch.float64)
    r = lossapp.compute("focal", x, y, reduction="none", dtype="float64")
    ce = r.step("ce").value_list()
    assert ce[0] == pytest.approx(math.log1p(math.exp(-50)), rel=1e-12)  # not 0 from log(1 - tiny)
    assert ce[2] == pytest.approx(50.0, rel=1e-15) and ce[3] == pytest.approx(50.0, rel=1e-15)
    assert r.value[2] == pytest.approx(0.75 * 50.0, rel=1e-12)
    assert r.value[3] == pytest.approx(0.25 * 50.0, rel=1e-12)
    assert r.reference.agrees and r.gradient.agrees


def test_infinite_logits_give_the_limit_and_a_warning():
    inf = float("inf")
    r = lossapp.compute("focal", torch.tensor([inf, -inf, inf, -inf]), torch.tensor([1.0, 0.0, 0.0, 1.0]),
                        reduction="none", dtype="float64")
    assert r.value.tolist() == [0.0, 0.0, inf, inf]
    assert any("±inf" in w for w in r.warnings)


def test_probabilities_zero_and_one_use_torch_clamp_and_gradient():
    p = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    for reduction in ("none", "mean", "sum"):
        expected = _reference_probability_focal(p, y, reduction)
        (grad,) = torch.autograd.grad(expected, p, torch.ones_like(expected))
        r = lossapp.compute("focal", p.detach(), y, input="probabilities", reduction=reduction, dtype="float64")
        assert_close(r.value, expected.detach())
        assert torch.isfinite(torch.tensor(r.gradient.manual)).all()
        assert_close(r.gradient.manual, grad)
        assert r.reference.agrees and r.gradient.agrees


def _reference_probability_focal(p, y, reduction, alpha=0.25, gamma=2.0):
    ce = F.binary_cross_entropy(p, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = (alpha * y + (1 - alpha) * (1 - y)) * (1 - p_t) ** gamma * ce
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def test_probability_gradient_matches_trace_autograd_inside():
    """The hand-written gradient (torch's BCE backward) equals autograd of the trace where both exist."""
    from lossapp.engine import run_trace
    spec = lossapp.LOSSES["focal"]
    p = torch.tensor([[0.1, 0.45, 0.7], [0.93, 0.2, 0.6]], dtype=torch.float64)
    y = torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.3, 1.0]], dtype=torch.float64)
    for gamma in (0.0, 0.5, 2.0):
        params = spec.resolve_params({"input": "probabilities", "gamma": gamma, "weight": "[[1.0], [2.0]]"})
        for reduction in ("none", "mean", "sum"):
            x = p.clone().requires_grad_(True)
            from lossapp.trace import Trace
            value = spec.steps(Trace(), x, y, params, reduction)
            (auto,) = torch.autograd.grad(value, x, torch.ones_like(value))
            _, _, manual = run_trace(spec, p, y, params, reduction)
            assert_close(manual, auto)


# -- softmax focal ------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_softmax_focal_gamma_zero_is_cross_entropy(reduction):
    x = torch.tensor([[2.0, 0.5, -1.0], [0.1, 1.5, 0.3], [-0.5, 0.2, 2.5]], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 2, -100])
    ce = F.cross_entropy(x, y, reduction=reduction)
    (grad,) = torch.autograd.grad(ce, x, torch.ones_like(ce))
    r = lossapp.compute("softmax_focal", x.detach(), y, reduction=reduction, dtype="float64", gamma=0)
    assert_close(r.value, ce.detach())
    assert_close(r.gradient.manual, grad)


def test_softmax_focal_alpha_conventions():
    x = "[[2.0, 0.5, -1.0], [0.1, 1.5, 0.3]]"
    base = lossapp.compute("softmax_focal", x, "[2, 1]", reduction="none", dtype="float64")
    scalar = lossapp.compute("softmax_focal", x, "[2, 1]", reduction="none", dtype="float64", alpha=0.25)
    per_class = lossapp.compute("softmax_focal", x, "[2, 1]", reduction="none", dtype="float64", alpha="[0.1, 0.2, 0.7]")
    off = lossapp.compute("softmax_focal", x, "[2, 1]", reduction="none", dtype="float64", alpha=-1)
    assert_close(scalar.value, [0.25 * v for v in base.value])  # a scalar only scales every class alike
    assert_close(per_class.value, [0.7 * base.value[0], 0.2 * base.value[1]])  # alpha_t = alpha[y]
    assert_close(off.value, base.value)
    assert per_class.step("alpha_t").value_list() == pytest.approx([0.7, 0.2])
    assert "kornia" in scalar.step("alpha_t").note
    # the mean divides by the number of samples, not by the sum of alpha_t
    mean = lossapp.compute("softmax_focal", x, "[2, 1]", dtype="float64", alpha="[0.1, 0.2, 0.7]")
    assert mean.value == pytest.approx(sum(per_class.value) / 2, rel=1e-14)


def test_softmax_focal_steps_show_the_stable_log_softmax():
    r = lossapp.compute("softmax_focal", "[[1000.0, 0.0, -1000.0]]", "[1]", reduction="none", dtype="float64")
    assert r.step("m").value_list() == [1000.0]
    assert r.step("lse").value_list() == [1000.0]
    assert r.step("log p_t").value_list() == [-1000.0]
    assert r.value.tolist() == [1000.0]  # -(1 - e^-1000)^2 · (-1000)
    assert r.reference.agrees and r.gradient.agrees


def test_softmax_focal_ignore_index():
    r = lossapp.compute("softmax_focal", "[[2.0, 0.5], [0.1, 1.5], [1.0, 1.0]]", "[0, -100, 1]", dtype="float64")
    none = lossapp.compute("softmax_focal", "[[2.0, 0.5], [0.1, 1.5], [1.0, 1.0]]", "[0, -100, 1]",
                           reduction="none", dtype="float64")
    assert none.value[1] == 0.0
    assert r.value == pytest.approx((none.value[0] + none.value[2]) / 2, rel=1e-14)
    assert r.step("den").value_list() == 2.0
    assert "ignore_index" in none.step("log p_t").note
    assert r.reference.agrees and r.gradient.agrees
    nothing = lossapp.compute("softmax_focal", "[[2.0, 0.5]]", "[-100]", dtype="float64")
    assert math.isnan(nothing.value) and math.isnan(nothing.reference.value)
    assert any("ignore_index" in w for w in nothing.warnings)


# -- input errors and warnings ------------------------------------------------------------------------

@pytest.mark.parametrize("name,pred,target,params,match", [
    ("focal", "[0.1, 0.2]", "[1, 0, 1]", {}, r"same shape, got pred \(2,\) and target \(3,\)"),
    ("focal", "[1.2, 0.3]", "[1, 0]", {"input": "probabilities"}, "expected probabilities in"),
    ("focal", "[1.2, 0.3]", "[2, 0]", {}, r"expected labels in \[0, 1\] \(0/1 or soft labels\), got 2"),
    ("focal", "[1.2, 0.3]", "[1, 0]", {"gamma": -1}, "expected a value in"),
    ("focal", "[1.2, 0.3]", "[1, 0]", {"alpha": 1.5}, "expected a value in"),
    ("focal", "[1.2, 0.3]", "[1, 0]", {"input": "probs"}, "expected one of logits, probabilities"),
    ("focal", "[[1.2, 0.3]]", "[[1, 0]]", {"weight": "[1, 2, 3]"}, r"broadcasts to pred's \(1, 2\), got \(3,\)"),
    ("focal", "[1.2, 0.3]", "[1, 0]", {"weight": "[[1, 2], [3, 4]]"}, r"broadcasts to pred's \(2,\)"),
    ("softmax_focal", "[[1.0, 2.0], [0.0, 1.0]]", "[0, 2]", {}, r"class indices in \[0, 2\) or ignore_index -100 for C = 2 classes, got 2"),
    ("softmax_focal", "[[1.0, 2.0], [0.0, 1.0]]", "[0, 1, 1]", {}, r"target of shape \(2,\)"),
    ("softmax_focal", "[1.0, 2.0]", "[0, 1]", {}, "one class index"),
    ("softmax_focal", "[[1.0, 2.0], [0.0, 1.0]]", "[0, 1]", {"alpha": "[1, 2, 3]"}, r"shape \(2,\) for C = 2 classes, got shape \(3,\)"),
    ("softmax_focal", "[[1.0, 2.0], [0.0, 1.0]]", "[0, 1]", {"alpha": "[1, -2]"}, "values ≥ 0"),
    ("softmax_focal", "[[1.0, 2.0], [0.0, 1.0]]", "[0.5, 1]", {}, "integer class indices"),
])
def test_bad_input_is_an_input_error(name, pred, target, params, match):
    with pytest.raises(InputError, match=match) as info:
        lossapp.compute(name, pred, target, **params)
    assert "expected" in str(info.value)


def test_warnings():
    r = lossapp.compute("focal", "[0.45, 0.7]", "[1, 0]")
    assert any("input=probabilities" in w for w in r.warnings)
    r = lossapp.compute("focal", "[2.0, -1.0]", "[0.8, 0]")
    assert any("soft labels" in w for w in r.warnings)
    assert r.reference.agrees and r.gradient.agrees


# -- Chinese for every user-visible string -------------------------------------------------------------

def _strings_of(result) -> list[str]:
    out = [s.title for s in result.steps] + [s.note for s in result.steps if s.note] + list(result.warnings)
    return [t for t in out if not t.startswith(("the trace and", "rounding the inputs"))]


def test_every_string_has_chinese():
    texts = []
    for name in ("focal", "softmax_focal"):
        spec = lossapp.LOSSES[name]
        texts += [spec.title, spec.summary] + [p.description for p in spec.params]
    runs = [
        ("focal", "[0.45, 0.7]", "[1, 0]", {"input": "probabilities"}, "none"),
        ("focal", "[0.0, 1.0]", "[1, 0]", {"input": "probabilities"}, "mean"),
        ("focal", "[0.45, 0.7]", "[1, 0.5]", {}, "none"),
        ("focal", "[1.0, -2.0]", "[1, 0]", {"weight": "[1, 2]", "avg_factor": 3, "gamma": 0, "alpha": -1}, "mean"),
        ("focal", "[1.0, -2.0]", "[1, 0]", {"avg_factor": 3}, "none"),
        ("focal", "[1.0, -2.0]", "[1, 0]", {}, "sum"),
        ("softmax_focal", "[[1.0, 2.0], [0.0, 1.0]]", "[0, -100]", {"alpha": "[1, 2]"}, "mean"),
        ("softmax_focal", "[[1.0, 2.0], [0.0, 1.0]]", "[-100, -100]", {"alpha": 0.5}, "mean"),
        ("softmax_focal", "[[1.0, 2.0], [0.0, 1.0]]", "[0, 1]", {}, "none"),
    ]
    for name, pred, target, params, reduction in runs:
        texts += _strings_of(lossapp.compute(name, pred, target, reduction=reduction, **params))
    texts += [w for w in lossapp.compute("focal", torch.tensor([float("inf"), 1.0]), torch.tensor([1.0, 0.0])).warnings
              if "±inf logits" in w]  # the engine's own inf / reference warnings are translated by the engine
    for name, pred, target, params, _ in [
        ("focal", "[1.2, 0.3]", "[2, 0]", {}, ""),
        ("focal", "[[1.2, 0.3]]", "[[1, 0]]", {"weight": "[1, 2, 3]"}, ""),
        ("focal", "[1.2, 0.3]", "[1, 0]", {"avg_factor": 0}, ""),
        ("softmax_focal", "[[1.0, 2.0], [0.0, 1.0]]", "[0, 2]", {}, ""),
        ("softmax_focal", "[[1.0, 2.0], [0.0, 1.0]]", "[0, 1, 1]", {}, ""),
        ("softmax_focal", "[1.0, 2.0]", "[0, 1]", {}, ""),
        ("softmax_focal", "[[1.0, 2.0], [0.0, 1.0]]", "[0, 1]", {"alpha": "[1, 2, 3]"}, ""),
        ("softmax_focal", "[[1.0, 2.0], [0.0, 1.0]]", "[0, 1]", {"alpha": "[1, -2]"}, ""),
        ("softmax_focal", torch.tensor(5.0), "0", {}, ""),
    ]:
        with pytest.raises(InputError) as info:
            lossapp.compute(name, pred, target, **params)
        texts.append(info.value.message)
    with pytest.raises(InputError) as info:
        lossapp.compute("focal", "[1.0, -2.0]", "[1, 0]", avg_factor=2, reduction="sum")
    texts.append(info.value.message)
    missing = [t for t in texts if not has_zh(t)]
    assert not missing, missing


# -- the example files ----------------------------------------------------------------------------------

def _example(name: str) -> dict:
    return tomllib.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def _run_example(data: dict):
    return lossapp.compute(data["loss"], data["pred"], data["target"], reduction=data.get("reduction", "mean"),
                           **data.get("params", {}))


def test_example_003_focal_pixels():
    data = _example("003_focal_pixels.toml")
    example = find_example("003_focal_pixels")
    assert data["source"] == "003_14a7d40ca3ca06cd.txt" and has_zh(example.title) and has_zh(example.notes)
    r = _run_example(data)
    assert r.value == pytest.approx([0.25 * 0.55 ** 2 * -math.log(0.45), 0.75 * 0.7 ** 2 * -math.log(0.3)], rel=1e-12)
    assert r.params["alpha"] == 0.25 and r.params["gamma"] == 2.0 and r.params["input"] == "probabilities"


def test_example_000_focal_mmdet():
    data = _example("000_focal_mmdet.toml")
    example = find_example("000_focal_mmdet")
    assert data["source"] == "000_6833348b64a02e28.txt" and has_zh(example.title) and has_zh(example.notes)
    r = _run_example(data)
    pred = torch.tensor(json.loads(data["pred"]), dtype=torch.float64)
    target = torch.tensor(json.loads(data["target"]), dtype=torch.float64)
    expected = _mmdet_py_sigmoid_focal_loss(pred, target, reduction=data["reduction"])
    assert r.value == pytest.approx(expected.item(), rel=1e-12)
    assert r.reference.agrees and r.gradient.agrees


# -- property tests against an independent numpy formula -----------------------------------------------

def np_focal(x: np.ndarray, y: np.ndarray, alpha: float, gamma: float, probabilities: bool) -> np.ndarray:
    if probabilities:
        p = x
        with np.errstate(divide="ignore"):
            ce = -(y * np.maximum(np.log(p), -100.0) + (1 - y) * np.maximum(np.log1p(-p), -100.0))
    else:
        p = np.exp(-np.logaddexp(0.0, -x))  # sigmoid
        ce = np.logaddexp(0.0, x) - x * y  # softplus(x) - x y
    p_t = p * y + (1 - p) * (1 - y)
    alpha_t = alpha * y + (1 - alpha) * (1 - y) if alpha >= 0 else np.ones_like(p)
    return alpha_t * (1 - p_t) ** gamma * ce


def np_softmax_focal(x: np.ndarray, y: np.ndarray, alpha, gamma: float, ignore_index: int) -> np.ndarray:
    cd = 0 if x.ndim == 1 else 1
    counted = y != ignore_index
    safe = np.where(counted, y, 0)
    x_t = np.take_along_axis(x, np.expand_dims(safe, cd), axis=cd).squeeze(cd)
    log_p_t = x_t - np.log(np.exp(x).sum(axis=cd))  # direct softmax: fine for |x| <= 50
    p_t = np.exp(log_p_t)
    if isinstance(alpha, np.ndarray):
        alpha_t = alpha[safe]
    elif alpha is None or alpha < 0:
        alpha_t = 1.0
    else:
        alpha_t = alpha
    return np.where(counted, -alpha_t * (1 - p_t) ** gamma * log_p_t, 0.0)


def np_reduce(loss: np.ndarray, reduction: str, count: float | None = None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (loss.size if count is None else count)


LOGIT = st.one_of(st.floats(-50, 50, allow_nan=False), st.sampled_from([-50.0, 50.0, 0.0]))
PROB = st.one_of(st.floats(0, 1, allow_nan=False), st.sampled_from([0.0, 1.0]))


@settings(max_examples=60, deadline=None)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
       alpha=st.one_of(st.floats(0, 1), st.just(-1.0)), gamma=st.one_of(st.floats(0, 5), st.sampled_from([0.0, 1.0, 2.0])),
       probabilities=st.booleans(), soft=st.booleans(), reduction=st.sampled_from(["none", "mean", "sum"]))
def test_focal_property_against_numpy(data, shape, alpha, gamma, probabilities, soft, reduction):
    x = data.draw(hnp.arrays(np.float64, shape, elements=PROB if probabilities else LOGIT))
    labels = st.floats(0, 1) if soft else st.sampled_from([0.0, 1.0])
    y = data.draw(hnp.arrays(np.float64, shape, elements=labels))
    params = {"alpha": alpha, "gamma": gamma, "input": "probabilities" if probabilities else "logits"}
    r = lossapp.compute("focal", x, y, reduction=reduction, dtype="float64", **params)
    expected = np_reduce(np_focal(x, y, alpha, gamma, probabilities), reduction)
    assert_close(r.value, expected)
    assert_close(r.reference.value, expected)
    assert r.reference.agrees


@st.composite
def class_problem(draw):
    layout = draw(st.sampled_from(["C", "NC", "NCd"]))
    c = draw(st.integers(1, 5))
    if layout == "C":
        shape, tshape = (c,), ()
    elif layout == "NC":
        n = draw(st.integers(1, 4))
        shape, tshape = (n, c), (n,)
    else:
        n, d = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        shape, tshape = (n, c, d), (n, d)
    x = draw(hnp.arrays(np.float64, shape, elements=LOGIT))
    ignore = draw(st.booleans()) and layout != "C"
    labels = st.integers(-1, c - 1) if ignore else st.integers(0, c - 1)
    y = np.asarray(draw(hnp.arrays(np.int64, tshape, elements=labels)), dtype=np.int64)
    return x, y, c, ignore


@settings(max_examples=60, deadline=None)
@given(problem=class_problem(), gamma=st.one_of(st.floats(0, 5), st.sampled_from([0.0, 2.0])),
       alpha_kind=st.sampled_from(["off", "scalar", "per_class"]), data=st.data(),
       reduction=st.sampled_from(["none", "mean", "sum"]))
def test_softmax_focal_property_against_numpy(problem, gamma, alpha_kind, data, reduction):
    x, y, c, _ignore = problem
    params = {"gamma": gamma, "ignore_index": -1}
    alpha = None
    if alpha_kind == "scalar":
        alpha = data.draw(st.floats(0, 1))
        params["alpha"] = alpha
    elif alpha_kind == "per_class":
        alpha = np.asarray(data.draw(st.lists(st.floats(0, 1), min_size=c, max_size=c)), dtype=np.float64)
        params["alpha"] = alpha.tolist()
    count = float((y != -1).sum())
    if reduction == "mean" and count == 0:
        reduction = "sum"  # 0/0: NaN in torch and here, tested in test_softmax_focal_ignore_index
    r = lossapp.compute("softmax_focal", x, y if y.ndim else int(y), reduction=reduction, dtype="float64", **params)
    expected = np_reduce(np_softmax_focal(x, y, alpha, gamma, -1), reduction, count)
    assert_close(r.value, expected)
    assert r.reference.agrees


def test_check_names_article_003_alpha_on_both_classes():
    """Article 003's last formula (α on the negative too) is recognised as the known mistake; lossapp.check
    stays the function after a first call."""
    wrong = f"{0.25 * 0.7 ** 2 * -math.log(0.3):.4f}"
    for _ in range(2):
        v = lossapp.check("focal", "[0.7]", "[0]", claimed=wrong, reduction="sum", input="probabilities")
        assert v.verdict == "mistake"
        assert "alpha_on_both_classes" in [m["id"] for m in v.to_dict()["mistakes"]]
    right = lossapp.check("focal", "[0.45, 0.7]", "[1, 0]", claimed="0.5028", reduction="sum", input="probabilities")
    assert right.verdict == "exact"



# -- value-only reruns (LossSpec.rerun): the steps' value, bit for bit ------------------------------------------------

def _same_values(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal element by element, NaN where the other is NaN (reduction none with ±inf logits)."""
    return torch.equal(a.isnan(), b.isnan()) and torch.equal(torch.nan_to_num(a), torch.nan_to_num(b))


@pytest.mark.parametrize("n", [9, 200_003])
@pytest.mark.parametrize("kind", ["logits", "logits_inf", "probabilities"])
def test_focal_rerun_is_the_steps_value_bit_for_bit(kind: str, n: int) -> None:
    """focal_value (in place, the pred's terms shared through one memo across labels and parameters) gives what
    focal_steps gives, for 0/1, swapped, smoothed and soft labels, every α sign, γ = 0 and others, weights, avg_factor."""
    from lossapp.losses.focal import focal_steps, focal_value
    from lossapp.registry import RerunMemo
    from lossapp.trace import Trace
    g = torch.Generator().manual_seed(n)
    if kind == "probabilities":
        x = torch.rand(n, generator=g, dtype=torch.float64)
        x[:3] = torch.tensor([0.0, 1.0, 1e-300])
    else:
        x = 4 * torch.randn(n, generator=g, dtype=torch.float64)
        x[:4] = torch.tensor([0.0, -0.0, 40.0, -800.0])
        if kind == "logits_inf":
            x[4:6] = torch.tensor([math.inf, -math.inf])
    labels = (torch.rand(n, generator=g) > 0.5).double()
    weight = torch.rand(n, generator=g)
    memo = RerunMemo()
    for y in (labels, 1 - labels, labels * 0.9 + 0.05, torch.rand(n, generator=g, dtype=torch.float64)):
        for alpha, gamma in ((0.25, 2.0), (-1.0, 2.0), (0.0, 0.0), (0.8, 1.5), (-1.0, 0.0), (0.3, 0.5), (0.6, 3.0)):
            for reduction in ("mean", "sum", "none"):
                for extra in ({}, {"weight": weight}, {"avg_factor": 7.0}):
                    if "avg_factor" in extra and reduction == "sum":
                        continue
                    params = {"alpha": alpha, "gamma": gamma, "input": kind.split("_")[0], "weight": None,
                              "avg_factor": None, **extra}
                    expected = focal_steps(Trace(quiet=True), x, y, params, reduction)
                    assert _same_values(focal_value(x, y, params, reduction, memo), expected), (alpha, gamma, reduction)


@pytest.mark.parametrize("layout", ["rows", "transposed", "column_weight"])
def test_focal_rerun_in_blocks_is_the_steps_value_for_any_layout(layout: str) -> None:
    """focal_value's blocks (CHUNK elements of the flattened tensors) give what focal_steps gives on a 2-D problem of
    several blocks and a ragged last one; a transposed (non-contiguous) pred or a weight that broadcasts takes the
    whole-tensor path, with the same result."""
    from lossapp.losses.focal import focal_steps, focal_value
    from lossapp.registry import RerunMemo
    from lossapp.trace import Trace
    g = torch.Generator().manual_seed(5)
    x = 3 * torch.randn(301, 701, generator=g, dtype=torch.float64)
    y = (torch.rand(301, 701, generator=g) > 0.6).double()
    weight = None
    if layout == "transposed":
        x, y = x.t(), y.t()
    if layout == "column_weight":
        weight = torch.linspace(0.5, 2.0, 701, dtype=torch.float64)
    memo = RerunMemo()
    for labels in (y, 1 - y, y * 0.9 + 0.05):
        for alpha, gamma in ((0.25, 2.0), (-1.0, 1.5), (0.6, 0.0)):
            for reduction in ("mean", "none"):
                params = {"alpha": alpha, "gamma": gamma, "input": "logits", "weight": weight, "avg_factor": None}
                expected = focal_steps(Trace(quiet=True), x, labels, params, reduction)
                assert _same_values(focal_value(x, labels, params, reduction, memo), expected), (alpha, gamma)


@pytest.mark.parametrize("n", [12, 200_004])
def test_softmax_focal_rerun_is_the_steps_value_bit_for_bit(n: int) -> None:
    from lossapp.losses.focal import softmax_focal_steps, softmax_focal_value
    from lossapp.registry import RerunMemo
    from lossapp.trace import Trace
    g = torch.Generator().manual_seed(n)
    x = 3 * torch.randn(n // 4, 4, generator=g, dtype=torch.float64)
    target = torch.randint(0, 4, (n // 4,), generator=g)
    ignored = target.clone()
    ignored[::5] = -100
    memo = RerunMemo()
    for t in (target, ignored):
        for alpha in (None, 0.25, -1.0, torch.tensor([0.1, 0.2, 0.3, 0.4])):
            for gamma in (2.0, 0.0, 1.5):
                for reduction in ("mean", "sum", "none"):
                    params = {"alpha": alpha, "gamma": gamma, "ignore_index": -100}
                    expected = softmax_focal_steps(Trace(quiet=True), x, t, params, reduction)
                    assert _same_values(softmax_focal_value(x, t, params, reduction, memo), expected)
