"""Hard- and soft-truncated cross-entropy (article 004): the 0.6 / 0.4 threshold, λ as a constant for the
gradient, the soft version's limits (K = 1 is focal with γ = 1, K → ∞ is the hard cut at 0.5, K = 0 is
BCE / 2), torch references, and property tests against an independent numpy formula."""

from __future__ import annotations

import json
import math
import random
import tomllib
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from point_cases import point_premise, repeated
from spec_code import assert_close, run_torch_code

import lossapp
from lossapp.examples import find_example
from lossapp.i18n import has_zh
from lossapp.inputs import InputError, limits
from lossapp.interval import POINT_METHOD, Box, U, enclose
from lossapp.losses.truncated import soft_threshold_logit, soft_truncated_point_error

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DTYPES = {"float32": torch.float32, "float64": torch.float64}


# -- hard truncation: the article's 0.6 / 0.4 example -------------------------------------------------

ARTICLE_PRED = "[0.9, 0.55, 0.3, 0.2, 0.45, 0.7]"
ARTICLE_TARGET = "[1, 1, 1, 0, 0, 0]"


def test_article_threshold_lambda_and_terms():
    r = lossapp.compute("truncated_ce", ARTICLE_PRED, ARTICLE_TARGET, reduction="none", m=0.6)
    assert r.step("lambda").value_list() == [0.0, 1.0, 1.0, 0.0, 1.0, 1.0]
    expected = [0.0, -math.log(0.55), -math.log(0.3), 0.0, -math.log(1 - 0.45), -math.log(1 - 0.7)]
    assert r.value == pytest.approx(expected, rel=1e-12, abs=0)
    assert r.step("ce").value_list()[0] == pytest.approx(-math.log(0.9), rel=1e-12)  # shown, then truncated
    note = r.step("lambda").note
    assert "at 2 of 6" in note and "ŷ > 0.6 at [0]" in note and "ŷ < 0.4 at [3]" in note
    assert "Rule:" in note
    assert r.reference.agrees and r.gradient.agrees
    mean = lossapp.compute("truncated_ce", ARTICLE_PRED, ARTICLE_TARGET, m=0.6)
    assert mean.value == pytest.approx(sum(expected) / 6, rel=1e-12)  # truncated elements still count in n
    assert mean.params["m"] == 0.6


def test_default_m_is_the_articles_0_6():
    assert lossapp.LOSSES["truncated_ce"].resolve_params({})["m"] == 0.6


def test_threshold_is_strict():
    # exactly at m (positive) or exactly at 1 - m (negative): not truncated (the article says "greater than")
    r = lossapp.compute("truncated_ce", "[0.6, 0.4, 0.6000001, 0.3999999]", "[1, 0, 1, 0]", reduction="none",
                        dtype="float64")
    assert r.step("lambda").value_list() == [1.0, 1.0, 0.0, 0.0]
    assert r.reference.agrees


def test_nothing_truncated_note():
    r = lossapp.compute("truncated_ce", "[0.5, 0.45]", "[1, 0]")
    assert r.step("lambda").value_list() == [1.0, 1.0]
    assert r.step("lambda").note.startswith("no element is truncated")


def test_lambda_is_a_constant_for_the_gradient():
    p = torch.tensor([0.9, 0.55, 0.3, 0.2, 0.45, 0.7], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    lam = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0, 1.0], dtype=torch.float64)
    loss = (lam * F.binary_cross_entropy(p, y, reduction="none")).sum()
    (grad,) = torch.autograd.grad(loss, p)
    r = lossapp.compute("truncated_ce", p.detach(), y, reduction="sum", dtype="float64")
    assert_close(r.gradient.manual, grad)
    assert r.gradient.manual[0] == 0.0 and r.gradient.manual[3] == 0.0
    assert r.gradient.manual[1] == pytest.approx(-1 / 0.55, rel=1e-12)


def test_gradient_function_equals_trace_autograd_inside():
    from lossapp.engine import run_trace
    from lossapp.trace import Trace
    spec = lossapp.LOSSES["truncated_ce"]
    p = torch.tensor([[0.9, 0.55, 0.3], [0.2, 0.45, 0.7]], dtype=torch.float64)
    y = torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    params = spec.resolve_params({})
    for reduction in ("none", "mean", "sum"):
        x = p.clone().requires_grad_(True)
        value = spec.steps(Trace(), x, y, params, reduction)
        (auto,) = torch.autograd.grad(value, x, torch.ones_like(value))
        _, _, manual = run_trace(spec, p, y, params, reduction)
        assert_close(manual, auto)


def test_probabilities_zero_and_one():
    p = torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64)
    for reduction in ("none", "mean", "sum"):
        lam = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=torch.float64)
        expected = lam * F.binary_cross_entropy(p, y, reduction="none")
        expected = {"none": expected, "mean": expected.mean(), "sum": expected.sum()}[reduction]
        (grad,) = torch.autograd.grad(expected, p, torch.ones_like(expected))
        r = lossapp.compute("truncated_ce", p.detach(), y, reduction=reduction, dtype="float64")
        assert_close(r.value, expected.detach())
        assert_close(r.gradient.manual, grad)  # torch's (p - y) / max(p(1 - p), 1e-12), finite
        assert r.reference.agrees and r.gradient.agrees
    r = lossapp.compute("truncated_ce", p.detach(), y, reduction="none")
    assert r.value.tolist() == [100.0, 0.0, 100.0, 0.0]


# -- soft truncation ----------------------------------------------------------------------------------

def test_soft_k1_is_focal_gamma1_without_alpha():
    x = torch.tensor([[2.0, -0.5, 0.3], [-3.0, 0.8, -1.2]], dtype=torch.float64)
    y = torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    for reduction in ("none", "mean", "sum"):
        soft = lossapp.compute("soft_truncated_ce", x, y, reduction=reduction, dtype="float64", K=1)
        focal = lossapp.compute("focal", x, y, reduction=reduction, dtype="float64", gamma=1, alpha=-1)
        assert_close(soft.value, focal.value)
        assert_close(soft.gradient.manual, focal.gradient.manual)
    assert "focal loss with γ = 1" in soft.step("l").note
    assert lossapp.LOSSES["soft_truncated_ce"].resolve_params({})["K"] == 1.0


def test_soft_large_k_approaches_hard_truncation_at_one_half():
    x = torch.tensor([2.0, -1.0, 1.5, -3.0, 1.0, -2.0], dtype=torch.float64)
    y = torch.tensor([1.0, 1.0, 0.0, 0.0, 0.0, 1.0], dtype=torch.float64)
    soft = lossapp.compute("soft_truncated_ce", x, y, reduction="none", dtype="float64", K=60)
    hard = lossapp.compute("truncated_ce", torch.sigmoid(x), y, reduction="none", dtype="float64", m=0.5)
    assert hard.step("lambda").value_list() == [0.0, 1.0, 1.0, 0.0, 1.0, 1.0]
    assert_close(soft.value, hard.value)  # σ(±60 |x|) differs from 0/1 by < 1e-26
    assert soft.reference.agrees


def test_soft_k0_is_half_bce():
    x = torch.tensor([2.0, -1.0, 0.3], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    r = lossapp.compute("soft_truncated_ce", x, y, reduction="none", dtype="float64", K=0)
    assert_close(r.value, 0.5 * F.binary_cross_entropy_with_logits(x, y, reduction="none"))


def test_soft_steps_show_both_factors_and_stable_logs():
    r = lossapp.compute("soft_truncated_ce", "[50.0, -50.0, 0.0]", "[1, 0, 1]", reduction="none", dtype="float64", K=2)
    assert r.step("sigma(-Kx)").value_list() == pytest.approx([math.exp(-100), 1.0, 0.5], rel=1e-12)
    assert r.step("sigma(Kx)").value_list() == pytest.approx([1.0, math.exp(-100), 0.5], rel=1e-12)
    # log σ(50) = -log(1 + e^-50) ≈ -1.9e-22, not 0 (the stable form keeps it)
    assert r.step("log sigma(x)").value_list()[0] == pytest.approx(-math.log1p(math.exp(-50)), rel=1e-12)
    assert r.step("log sigma(-x)").value_list()[1] == pytest.approx(-math.log1p(math.exp(-50)), rel=1e-12)
    assert r.value[2] == pytest.approx(0.5 * math.log(2), rel=1e-14)
    assert r.reference.agrees and r.gradient.agrees


def test_soft_infinite_logits_give_the_limit():
    inf = float("inf")
    r = lossapp.compute("soft_truncated_ce", torch.tensor([inf, -inf, inf, -inf]), torch.tensor([1.0, 0.0, 0.0, 1.0]),
                        reduction="none", dtype="float64")
    assert r.value.tolist() == [0.0, 0.0, inf, inf]
    assert any("±inf" in w for w in r.warnings)


# -- every loss × reduction × dtype against the torch reference ---------------------------------------

CASES = [
    ("truncated_ce", ARTICLE_PRED, ARTICLE_TARGET, {}),
    ("truncated_ce", "[[0.95, 0.05], [0.61, 0.39], [0.5, 0.5]]", "[[1, 0], [1, 0], [0, 1]]", {"m": 0.6}),
    ("truncated_ce", "[0.0, 1.0, 0.999, 0.001]", "[1, 0, 1, 0]", {"m": 0.8}),
    ("truncated_ce", "[0.3, 0.7]", "[1, 0]", {"m": 1.0}),
    ("soft_truncated_ce", "[2.0, -0.5, 0.3, -3.0, 0.8, -1.2]", "[1, 1, 1, 0, 0, 0]", {}),
    ("soft_truncated_ce", "[[2.0, -0.5], [0.3, -3.0]]", "[[1, 0], [0, 1]]", {"K": 5}),
    ("soft_truncated_ce", "[20.0, -20.0, 0.0]", "[0, 1, 0.5]", {"K": 0.5}),
    ("soft_truncated_ce", "[2.0, -0.5, 0.3, -3.0, 0.8, -1.2]", "[1, 1, 1, 0, 0, 0]", {"m": 0.6}),
    ("soft_truncated_ce", "[[20.0, -0.4], [0.4, -20.0]]", "[[1, 0], [1, 0]]", {"K": 3, "m": 0.9}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}:{c[1][:16]}:{c[3]}")
def test_against_reference(case, reduction, dtype):
    name, pred, target, params = case
    r = lossapp.compute(name, pred, target, reduction=reduction, dtype=dtype, **params)
    assert r.reference.agrees, r.warnings
    assert r.gradient is not None and r.gradient.agrees, r.warnings
    assert_close(r.value, r.reference.value, DTYPES[dtype])
    json.dumps(r.to_dict())


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}:{c[1][:16]}:{c[3]}")
def test_torch_code_reproduces_the_value(case, reduction):
    name, pred, target, params = case
    spec = lossapp.LOSSES[name]
    r = lossapp.compute(name, pred, target, reduction=reduction, dtype="float64", **params)
    names = dict(spec.resolve_params(params))
    names.update(pred=r.pred.values.double(), target=r.target.values.double(), reduction=reduction)
    assert_close(run_torch_code(spec.torch_code, **names), r.value)


def test_registry_examples_run():
    for name in ("truncated_ce", "soft_truncated_ce"):
        spec = lossapp.LOSSES[name]
        for reduction in spec.reductions:
            r = lossapp.compute(name, spec.example["pred"], spec.example["target"], reduction=reduction,
                                **spec.example["params"])
            assert r.reference.agrees and r.gradient.agrees


# -- input errors, warnings, Chinese ------------------------------------------------------------------

@pytest.mark.parametrize("name,pred,target,params,match", [
    ("truncated_ce", "[0.2, 0.3]", "[1, 0, 1]", {}, r"same shape, got pred \(2,\) and target \(3,\)"),
    ("truncated_ce", "[1.2, 0.3]", "[1, 0]", {}, "expected probabilities in"),
    ("truncated_ce", "[0.2, 0.3]", "[0.5, 0]", {}, "expected 0/1 labels, got 0.5 at index 0"),
    ("truncated_ce", "[0.2, 0.3]", "[1, 0]", {"m": 1.5}, "expected a value in"),
    ("soft_truncated_ce", "[2.0, 0.3]", "[1, 0, 1]", {}, r"same shape"),
    ("soft_truncated_ce", "[2.0, 0.3]", "[1, 3]", {}, r"expected labels in \[0, 1\] \(0/1 or soft labels\), got 3"),
    ("soft_truncated_ce", "[2.0, 0.3]", "[1, 0]", {"K": -1}, "expected a value in"),
])
def test_bad_input_is_an_input_error(name, pred, target, params, match):
    with pytest.raises(InputError, match=match) as info:
        lossapp.compute(name, pred, target, **params)
    assert "expected" in str(info.value)


def test_warnings():
    r = lossapp.compute("truncated_ce", "[0.2, 0.3]", "[1, 0]", m=0.3)
    assert any("m < 0.5" in w for w in r.warnings)
    r = lossapp.compute("soft_truncated_ce", "[0.2, 0.3]", "[1, 0]")
    assert any("truncated_ce" in w for w in r.warnings)
    r = lossapp.compute("soft_truncated_ce", "[2.0, -0.3]", "[0.7, 0]")
    assert any("soft labels" in w for w in r.warnings)
    assert r.reference.agrees and r.gradient.agrees


def test_every_string_has_chinese():
    texts = []
    for name in ("truncated_ce", "soft_truncated_ce"):
        spec = lossapp.LOSSES[name]
        texts += [spec.title, spec.summary] + [p.description for p in spec.params]
    runs = [
        ("truncated_ce", ARTICLE_PRED, ARTICLE_TARGET, {}, "none"),
        ("truncated_ce", "[0.5, 0.45]", "[1, 0]", {"m": 0.3}, "mean"),
        ("truncated_ce", "[0.5, 0.45]", "[1, 0]", {}, "mean"),
        ("truncated_ce", "[[0.0, 0.97], [0.01, 1.0]]", "[[1, 1], [0, 0]]", {}, "sum"),
        ("truncated_ce", "[" + ", ".join(["0.9"] * 12) + "]", "[" + ", ".join(["1"] * 12) + "]", {}, "mean"),
        ("soft_truncated_ce", "[2.0, -0.5]", "[1, 0.5]", {}, "none"),
        ("soft_truncated_ce", "[0.2, 0.5]", "[1, 0]", {"K": 3}, "mean"),
    ]
    for name, pred, target, params, reduction in runs:
        r = lossapp.compute(name, pred, target, reduction=reduction, **params)
        texts += [s.title for s in r.steps] + [s.note for s in r.steps if s.note]
        texts += [w for w in r.warnings if not w.startswith(("the trace and", "rounding the inputs"))]
    texts += [w for w in lossapp.compute("soft_truncated_ce", torch.tensor([float("inf")]), torch.tensor([1.0])).warnings
              if "±inf logits" in w]  # the engine's own inf / reference warnings are translated by the engine
    for name, pred, target in [("truncated_ce", "[0.2]", "[0.5]"), ("soft_truncated_ce", "[0.2]", "[2]")]:
        with pytest.raises(InputError) as info:
            lossapp.compute(name, pred, target)
        texts.append(info.value.message)
    missing = [t for t in texts if not has_zh(t)]
    assert not missing, missing


def test_example_004_truncated_threshold():
    data = tomllib.loads((EXAMPLES / "004_truncated_threshold.toml").read_text(encoding="utf-8"))
    example = find_example("004_truncated_threshold")
    assert data["source"] == "004_30232886671f4238.txt" and has_zh(example.title) and has_zh(example.notes)
    assert data["params"]["m"] == 0.6
    r = lossapp.compute(data["loss"], data["pred"], data["target"], reduction=data["reduction"], **data["params"])
    pred, target = json.loads(data["pred"]), json.loads(data["target"])
    lam = r.step("lambda").value_list()
    # both sides of 0.6 / 0.4 for both labels
    assert {(t, v) for t, v in zip(target, lam, strict=True)} == {(1, 0.0), (1, 1.0), (0, 0.0), (0, 1.0)}
    for p, t, term in zip(pred, target, r.value, strict=True):
        truncated = (t == 1 and p > 0.6) or (t == 0 and p < 0.4)
        assert term == (0.0 if truncated else pytest.approx(-math.log(p if t == 1 else 1 - p), rel=1e-12))


# -- property tests against an independent numpy formula -----------------------------------------------

def np_truncated(p: np.ndarray, y: np.ndarray, m: float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        ce = -(y * np.maximum(np.log(p), -100.0) + (1 - y) * np.maximum(np.log1p(-p), -100.0))
    keep = ~(((y == 1) & (p > m)) | ((y == 0) & (p < 1 - m)))
    return np.where(keep, ce, 0.0)


def np_soft_truncated(x: np.ndarray, y: np.ndarray, k: float) -> np.ndarray:
    sig = lambda z: np.exp(-np.logaddexp(0.0, -z))  # noqa: E731
    log_sig = lambda z: -np.logaddexp(0.0, -z)  # noqa: E731
    return -y * sig(-k * x) * log_sig(x) - (1 - y) * sig(k * x) * log_sig(-x)


def np_reduce(loss: np.ndarray, reduction: str):
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


PROB = st.one_of(st.floats(0, 1, allow_nan=False), st.sampled_from([0.0, 1.0, 0.4, 0.6]))
LOGIT = st.one_of(st.floats(-50, 50, allow_nan=False), st.sampled_from([-50.0, 50.0, 0.0]))


@settings(max_examples=60, deadline=None)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
       m=st.one_of(st.floats(0.5, 1.0), st.just(0.6)), reduction=st.sampled_from(["none", "mean", "sum"]))
def test_truncated_property_against_numpy(data, shape, m, reduction):
    p = data.draw(hnp.arrays(np.float64, shape, elements=PROB))
    y = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0])))
    r = lossapp.compute("truncated_ce", p, y, reduction=reduction, dtype="float64", m=m)
    expected = np_reduce(np_truncated(p, y, m), reduction)
    assert_close(r.value, expected)
    assert r.reference.agrees and r.gradient.agrees
    assert np.isfinite(np.asarray(r.gradient.manual)).all()


@settings(max_examples=60, deadline=None)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
       k=st.one_of(st.floats(0, 20), st.sampled_from([1.0, 5.0])), soft=st.booleans(),
       reduction=st.sampled_from(["none", "mean", "sum"]))
def test_soft_truncated_property_against_numpy(data, shape, k, soft, reduction):
    x = data.draw(hnp.arrays(np.float64, shape, elements=LOGIT))
    y = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(0, 1) if soft else st.sampled_from([0.0, 1.0])))
    r = lossapp.compute("soft_truncated_ce", x, y, reduction=reduction, dtype="float64", K=k)
    expected = np_reduce(np_soft_truncated(x, y, k), reduction)
    assert_close(r.value, expected)
    assert r.reference.agrees and r.gradient.agrees



# -- soft truncation with the threshold m (article 004's 0.6 example) ---------------------------------

def _logits(probabilities: list[float]) -> str:
    return str([math.log(p / (1 - p)) for p in probabilities])


def test_soft_threshold_m_golden_fractions():
    """m = 0.6, K = 1: λ(1, ŷ = 0.7) = σ(−(logit 0.7 − logit 0.6)) = 1 / (1 + (7/3)/(3/2)) = 9/23 and
    λ(0, ŷ = 0.45) = σ(logit 0.45 + logit 0.6) = (27/22) / (1 + 27/22) = 27/49, by hand."""
    r = lossapp.compute("soft_truncated_ce", _logits([0.7, 0.45]), "[1, 0]", reduction="none", m=0.6)
    assert r.step("sigma(-Kx)").value_list()[0] == pytest.approx(9 / 23, rel=1e-12)
    assert r.step("sigma(Kx)").value_list()[1] == pytest.approx(27 / 49, rel=1e-12)
    assert r.value.tolist() == pytest.approx([9 / 23 * -math.log(0.7), 27 / 49 * -math.log(0.55)], rel=1e-12)
    assert r.step("x_m").value_list() == pytest.approx(math.log(1.5), rel=1e-15)
    assert r.reference.agrees and r.gradient.agrees


def test_soft_threshold_m_large_k_is_the_hard_truncation_with_the_same_m():
    """K → ∞ with m = 0.6 on the article's probabilities gives truncated_ce(m = 0.6) = 0.6006 (its example)."""
    hard = lossapp.compute("truncated_ce", ARTICLE_PRED, ARTICLE_TARGET, m=0.6)
    probabilities = json.loads(ARTICLE_PRED)
    soft = lossapp.compute("soft_truncated_ce", _logits(probabilities), ARTICLE_TARGET, K=100.0, m=0.6)
    assert f"{hard.scalar:.4f}" == "0.6006"
    assert soft.scalar == pytest.approx(hard.scalar, abs=1e-6)
    default = lossapp.compute("soft_truncated_ce", _logits(probabilities), ARTICLE_TARGET, K=100.0)
    assert default.scalar != pytest.approx(hard.scalar, abs=1e-3)  # m = 0.5 cuts at 0.5, not at the article's 0.6


def test_soft_threshold_m_half_is_the_original_form():
    x = "[2.0, -0.5, 0.3, -3.0, 0.8, -1.2]"
    a = lossapp.compute("soft_truncated_ce", x, "[1, 1, 1, 0, 0, 0]", reduction="none", K=2.0)
    b = lossapp.compute("soft_truncated_ce", x, "[1, 1, 1, 0, 0, 0]", reduction="none", K=2.0, m=0.5)
    assert torch.equal(a.value, b.value)
    assert lossapp.LOSSES["soft_truncated_ce"].resolve_params({})["m"] == 0.5
    xs = torch.tensor(json.loads(x), dtype=torch.float64)
    y = torch.tensor([1, 1, 1, 0, 0, 0], dtype=torch.float64)
    expected = -y * torch.sigmoid(-2 * xs) * F.logsigmoid(xs) - (1 - y) * torch.sigmoid(2 * xs) * F.logsigmoid(-xs)
    assert a.value.tolist() == pytest.approx(expected.tolist(), rel=1e-12)


@pytest.mark.parametrize("m", [0.0, 1.0, -0.2, 1.5])
def test_soft_threshold_m_outside_the_open_interval_is_an_input_error(m):
    with pytest.raises(InputError, match="expected a value in") as info:
        lossapp.compute("soft_truncated_ce", "[2.0, 0.3]", "[1, 0]", m=m)
    assert has_zh(info.value)


# -- the derivative at each point ------------------------------------------------------------------------

def test_truncated_derivative_is_zero_where_truncated():
    r = lossapp.compute("truncated_ce", ARTICLE_PRED, ARTICLE_TARGET, m=0.6)
    step = r.step("dl/dp")
    p = json.loads(ARTICLE_PRED)
    assert step.value_list() == pytest.approx([0.0, -1 / p[1], -1 / p[2], 0.0, 1 / (1 - p[4]), 1 / (1 - p[5])], rel=1e-12)
    assert "ŷ = 0.9, y = 1: truncated (λ = 0, a constant), so ∂l/∂ŷ = 0" in step.note
    assert "λ = 1, so ∂l/∂ŷ = −y/ŷ + (1 − y)/(1 − ŷ) = -1.818" in step.note


@pytest.mark.parametrize("params", [{}, {"K": 3.0, "m": 0.6}, {"K": 0.0}, {"K": 20.0, "m": 0.9}])
def test_soft_truncated_derivative_is_autograd_of_the_torch_formula(params):
    pred, target = "[2.0, -0.5, 0.3, -3.0, 0.8, -1.2]", "[1, 1, 1, 0, 0, 0.4]"
    r = lossapp.compute("soft_truncated_ce", pred, target, reduction="mean", **params)
    full = lossapp.LOSSES["soft_truncated_ce"].resolve_params(params)
    k, xm = full["K"], math.log(full["m"] / (1 - full["m"]))
    x = torch.tensor(json.loads(pred), dtype=torch.float64, requires_grad=True)
    y = torch.tensor(json.loads(target), dtype=torch.float64)
    loss = -y * torch.sigmoid(-k * (x - xm)) * F.logsigmoid(x) - (1 - y) * torch.sigmoid(k * (x + xm)) * F.logsigmoid(-x)
    (grad,) = torch.autograd.grad(loss.sum(), x)
    assert r.step("dl/dx").value_list() == pytest.approx(grad.tolist(), rel=1e-12, abs=1e-15)
    assert has_zh(r.step("dl/dx").note)


# -- the point bound (lossapp.interval.point_bound) on adversarial inputs -----------------------------------------------

def _soft_exact(x: float, y: float, k: float, xm: float) -> Any:
    """One soft-truncated term of float inputs in 60-digit arithmetic (mpmath; log σ in a form that never cancels)."""
    with mpmath.workdps(60):
        one, a, t, kk, m = mpmath.mpf(1), mpmath.mpf(x), mpmath.mpf(y), mpmath.mpf(k), mpmath.mpf(xm)

        def sig(v: Any) -> Any:
            return one / (one + mpmath.exp(-v))

        def log_sig(v: Any) -> Any:
            return -mpmath.log1p(mpmath.exp(-v)) if v > 0 else v - mpmath.log1p(mpmath.exp(v))
        return -t * sig(-kk * (a - m)) * log_sig(a) - (one - t) * sig(kk * (a + m)) * log_sig(-a)


def _soft_adversarial(k: float, m: float, n: int, seed: int) -> tuple[list[float], list[float]]:
    """Logits at the exp/log1p underflow edges (±708, ±709.78, ±745), subnormal and zero (both signs), at and within an ulp
    of ±x_m (where the steepness K meets the threshold), spread over 6 orders of magnitude; targets hard, soft, and
    within an ulp of 0 and 1."""
    rng = random.Random(seed)
    xm = soft_threshold_logit(m)
    special = [0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300, 2.0 ** -1022, 36.0, -36.0, 37.5, 708.0, -708.0, 709.78,
               -709.78, 710.0, -710.0, 744.4, -744.4, 745.2, -745.2, 1.0, -1.0, 1e5, -1e5]
    xs: list[float] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.3:
            xs.append(rng.choice(special))
        elif r < 0.5:
            xs.append(rng.choice([xm, -xm]) * (1 + rng.choice([0.0, 2.0 ** -52, -2.0 ** -52, 1e-10])))
        elif r < 0.7:
            xs.append(rng.choice([xm, -xm]) + rng.uniform(-1, 1) / max(k, 1e-3))
        else:
            xs.append(rng.gauss(0, 1) * 10 ** rng.uniform(-3, 2.8))
    ys = [rng.choice([0.0, 1.0, 0.0, 1.0, 0.5, 1e-300, 1 - 2.0 ** -53, 2.0 ** -1074, rng.random()]) for _ in range(n)]
    return xs, ys


SOFT_ADVERSARIAL_PARAMS = [{"K": 100.0, "m": 0.6}, {"K": 1.0, "m": 0.5}, {"K": 7.5, "m": 1e-300}, {"K": 0.0, "m": 0.2},
                           {"K": 2.0 ** -30, "m": 0.9999}, {"K": 100.0, "m": 1 - 2.0 ** -53}, {"K": 5e-324, "m": 5e-324}]


@pytest.mark.parametrize("params", SOFT_ADVERSARIAL_PARAMS, ids=lambda p: f"K={p['K']}-m={p['m']}")
def test_soft_truncated_point_premise_holds_for_every_adversarial_term(params: dict) -> None:
    """The premise soft_truncated_point_error proves (each float64 term within K·u·(A + t) of the exact term, K = 3B + 20
    and A = TINY·(X + 3)) holds term by term against 60-digit mpmath, with no margin: logits at the underflow edges of
    exp and log1p, subnormals, exactly at ±x_m, soft targets down to 2⁻¹⁰⁷⁴."""
    xs, ys = _soft_adversarial(params["K"], params["m"], 160, seed=int(params["K"] * 7 + params["m"] * 1000))
    x, y = torch.tensor(xs, dtype=torch.float64), torch.tensor(ys, dtype=torch.float64)
    r = lossapp.compute("soft_truncated_ce", x, y, reduction="none", **params)
    premise = point_premise(soft_truncated_point_error, Box(x, y, None, None, dict(r.params), "sum"))
    assert premise is not None
    k_terms, floor = premise
    xm = soft_threshold_logit(params["m"])
    for xi, yi, ti in zip(xs, ys, r.value.reshape(-1).tolist(), strict=True):
        exact = _soft_exact(xi, yi, params["K"], xm)
        assert abs(mpmath.mpf(ti) - exact) <= mpmath.mpf(k_terms) * U * (mpmath.mpf(floor) + exact), (xi, yi, ti)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_soft_truncated_point_enclosure_of_a_million_adversarial_terms_contains_the_exact_value(reduction: str) -> None:
    """10⁶ elements (past limits.DECIMALS_MAX_ELEMENTS: the a-priori bound, no interval arithmetic) made of 400 adversarial
    (x, y) pairs in a shuffled order, K = 100: the enclosure contains Σ count·term in 60-digit arithmetic."""
    params = {"K": 100.0, "m": 0.6}
    xs, ys = _soft_adversarial(params["K"], params["m"], 400, seed=11)
    n = 10 ** 6
    assert n > limits.DECIMALS_MAX_ELEMENTS
    index = repeated(len(xs), n, seed=3)
    x, y = torch.tensor(xs, dtype=torch.float64)[index], torch.tensor(ys, dtype=torch.float64)[index]
    e = enclose(lossapp.compute("soft_truncated_ce", x, y, reduction=reduction, **params))
    assert e.sound and e.method == POINT_METHOD
    counts = torch.bincount(index, minlength=len(xs)).tolist()
    xm = soft_threshold_logit(params["m"])
    with mpmath.workdps(60):
        exact = mpmath.fsum(c * _soft_exact(xi, yi, params["K"], xm) for c, xi, yi in zip(counts, xs, ys, strict=True))
        exact = exact / n if reduction == "mean" else exact
        assert mpmath.mpf(e.lo) <= exact <= mpmath.mpf(e.hi), (float(exact), e.lo, e.hi)
