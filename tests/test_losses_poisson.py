"""Poisson NLL (torch's PoissonNLLLoss): values and gradients against torch for every log_input × full × reduction ×
dtype, torch's y ≤ 1 rule for the Stirling term, an mpmath oracle on a worked example, the enclosure, bad input."""

from __future__ import annotations

import itertools
import math

import mpmath
import pytest
import torch
import torch.nn.functional as F

import lossapp
from lossapp.i18n import has_zh
from lossapp.inputs import InputError
from lossapp.interval import enclose, rounding_box, target_is_exact
from lossapp.mistakes import MISTAKES
from lossapp.registry import LOSSES
from lossapp.trace import Trace

COMBOS = list(itertools.product([True, False], [True, False], ["none", "mean", "sum"]))
TOLERANCE = {"float64": (1e-9, 1e-12), "float32": (2e-5, 1e-6)}


def _inputs(log_input: bool, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-rates (any sign) or rates (> 0), and counts including 0, 1 and a fraction in (0, 1) and above 1."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(3, 4, generator=gen, dtype=torch.float64)
    if not log_input:
        x = x.abs() + 0.05
    y = torch.poisson(torch.full((3, 4), 2.5, dtype=torch.float64), generator=gen)
    y[0, :4] = torch.tensor([0.0, 1.0, 0.5, 1.5], dtype=torch.float64)
    return x, y


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("log_input", "full", "reduction"), COMBOS)
def test_value_and_gradient_match_torch(log_input: bool, full: bool, reduction: str, dtype: str) -> None:
    x, y = _inputs(log_input)
    params = {"log_input": log_input, "full": full}
    r = lossapp.compute("poisson_nll", x, y, reduction=reduction, dtype=dtype, **params)
    assert r.reference.agrees and r.reference.dtype == dtype, r.reference
    assert r.gradient is not None and r.gradient.agrees, r.gradient
    xt = x.clone().requires_grad_(True)
    expected = F.poisson_nll_loss(xt, y, log_input=log_input, full=full, reduction=reduction)
    (grad,) = torch.autograd.grad(expected, xt, torch.ones_like(expected))
    torch.testing.assert_close(r.value, expected.detach(), rtol=1e-12, atol=1e-12)  # the float64 trace
    rtol, atol = TOLERANCE[dtype]
    torch.testing.assert_close(torch.tensor(r.reference.value, dtype=torch.float64), expected.detach(), rtol=rtol,
                               atol=atol)
    torch.testing.assert_close(torch.tensor(r.gradient.manual, dtype=torch.float64).reshape(grad.shape), grad,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("eps", [1e-8, 0.5])
def test_eps_is_added_before_the_log(eps: float) -> None:
    x, y = torch.tensor([0.0, 0.3, 2.0], dtype=torch.float64), torch.tensor([1.0, 2.0, 0.0], dtype=torch.float64)
    r = lossapp.compute("poisson_nll", x, y, reduction="none", dtype="float64", log_input=False, eps=eps)
    expected = F.poisson_nll_loss(x, y, log_input=False, eps=eps, reduction="none")
    torch.testing.assert_close(r.value, expected, rtol=1e-12, atol=1e-12)
    assert r.step("log λ").value_list() == pytest.approx([math.log(v + eps) for v in (0.0, 0.3, 2.0)], rel=1e-15)


def test_stirling_term_only_where_the_count_exceeds_one() -> None:
    """torch's masked_fill(target <= 1, 0): no term at 0, 0.5 and exactly 1, Stirling's from just above 1 on."""
    y = [0.0, 0.5, 1.0, 1.0 + 1e-9, 2.0, 10.0]
    x = torch.zeros(len(y), dtype=torch.float64)
    r = lossapp.compute("poisson_nll", x, torch.tensor(y, dtype=torch.float64), reduction="none", full=True)
    stirling = r.step("s").value_list()
    assert stirling[:3] == [0.0, 0.0, 0.0]
    for got, v in zip(stirling[3:], y[3:], strict=True):
        assert got == pytest.approx(v * math.log(v) - v + 0.5 * math.log(2 * math.pi * v), rel=1e-14)
    assert stirling[3] == pytest.approx(0.5 * math.log(2 * math.pi) - 1, rel=1e-8)  # s(1⁺) < 0: the jump at 1
    partial = lossapp.compute("poisson_nll", x, torch.tensor(y, dtype=torch.float64), reduction="none")
    assert [a - b for a, b in zip(r.value.tolist(), partial.value.tolist(), strict=True)] == pytest.approx(stirling)


def test_stirling_term_approximates_log_factorial() -> None:
    """The constant full=True adds is Stirling's log y!: within 1/(12y) of lgamma(y + 1) (an independent oracle)."""
    r = lossapp.compute("poisson_nll", "[0, 0, 0]", "[5, 20, 100]", reduction="none", full=True)
    for got, y in zip(r.step("s").value_list(), (5, 20, 100), strict=True):
        assert 0 < math.lgamma(y + 1) - got < 1 / (12 * y)


def test_mpmath_oracle_on_a_worked_example() -> None:
    """By hand, in 50-digit arithmetic: −log of the Poisson likelihood without log y! (full=False), and with Stirling's
    log y! for y > 1 (full=True); with log_input=False on the rates e^x."""
    mpmath.mp.dps = 50
    xs, ys = ["0.5", "-1.2", "2.0"], [2, 0, 6]
    x = [mpmath.mpf(v) for v in xs]
    plain = [mpmath.exp(a) - b * a for a, b in zip(x, ys, strict=True)]
    stirling = [b * mpmath.log(b) - b + mpmath.log(2 * mpmath.pi * b) / 2 if b > 1 else 0 for b in ys]
    pred, target = "[" + ", ".join(xs) + "]", str(ys)
    r = lossapp.compute("poisson_nll", pred, target, reduction="sum")
    assert r.scalar == pytest.approx(float(mpmath.fsum(plain)), rel=1e-14)
    r = lossapp.compute("poisson_nll", pred, target, full=True)
    assert r.scalar == pytest.approx(float(mpmath.fsum(plain) + mpmath.fsum(stirling)) / 3, rel=1e-14)
    rates = [mpmath.exp(a) for a in x]
    by_rate = [lam - b * mpmath.log(lam + mpmath.mpf("1e-8")) for lam, b in zip(rates, ys, strict=True)]
    r = lossapp.compute("poisson_nll", [float(v) for v in rates], target, reduction="none", log_input=False)
    assert r.value.tolist() == pytest.approx([float(v) for v in by_rate], rel=1e-13)


def test_steps_show_each_intermediate_with_its_numbers() -> None:
    r = lossapp.compute("poisson_nll", "[0.5, -1.2]", "[2, 0]", reduction="mean", full=True)
    assert [s.symbol for s in r.steps] == ["λ", "y·x", "l_0", "s", "l", "dl/dx", "num", "den", "L"]
    assert r.step("dl/dx").value_list() == pytest.approx([math.exp(0.5) - 2, math.exp(-1.2)], rel=1e-12)
    assert r.step("λ").substituted() == ["e^{0.5}", "e^{(-1.2)}"]
    assert r.step("y·x").substituted() == [r"2 \cdot 0.5", r"0 \cdot (-1.2)"]
    r = lossapp.compute("poisson_nll", "[0.5]", "[2]", log_input=False)
    assert [s.symbol for s in r.steps] == ["log λ", "y·log λ", "l", "dl/dx", "num", "den", "L"]


def test_aliases_and_spec() -> None:
    assert lossapp.registry.lookup("nn.PoissonNLLLoss").name == "poisson_nll"
    spec = LOSSES["poisson_nll"]
    assert [(p.name, p.default) for p in spec.params] == [("log_input", True), ("full", False), ("eps", 1e-8)]
    assert spec.family == "regression" and spec.target_kind == "counts"


# -- the rounding enclosure ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("log_input", "full"), list(itertools.product([True, False], [True, False])))
@pytest.mark.parametrize(("pred", "target"), [("0.69", "2.0"), ("-0.5", "1.0"), ("1.1", "3.0"), ("2.0", "0.4")])
def test_enclosure_is_the_range_over_the_box(log_input: bool, full: bool, pred: str, target: str) -> None:
    """One element on a 201 × 201 grid of its rounding box: the enclosure contains every grid value, and without
    the Stirling term (which adds its own range in y) it is that range up to the grid's resolution. The boxes hold
    the stationary point (x = log y, resp. y − ε) and the Stirling jump at y = 1."""
    if not log_input:
        pred = f"{math.exp(float(pred)):.2f}"
    r = lossapp.compute("poisson_nll", f"[{pred}]", f"[{target}]", log_input=log_input, full=full)
    e = enclose(r)
    assert e.sound, e.note
    exact = target_is_exact("counts", r.target.values)  # a lone 0/1 count is exact, like a label
    xb = rounding_box(r.pred.values, r.pred.decimals)
    yb = rounding_box(r.target.values, r.target.decimals, exact=exact, low=0.0)
    grid = torch.linspace(0, 1, 201, dtype=torch.float64)
    x = (xb.lo + (xb.hi - xb.lo) * grid).repeat_interleave(201)
    y = (yb.lo + (yb.hi - yb.lo) * grid).repeat(201)
    values = LOSSES["poisson_nll"].steps(Trace(), x, y, r.params, "none")
    lo, hi = float(values.min()), float(values.max())
    assert e.lo <= lo and hi <= e.hi
    if not full:
        assert e.hi - e.lo <= (hi - lo) * 1.001 + 1e-12


@pytest.mark.parametrize("log_input", [True, False])
def test_enclosure_of_exact_inputs_is_a_point(log_input: bool) -> None:
    r = lossapp.compute("poisson_nll", "[1, 0, 2, 3]", "[2, 0, 1, 7]", full=True, log_input=log_input)
    e = enclose(r)
    assert e.sound and e.point, e.note
    assert e.lo <= r.scalar <= e.hi and e.hi - e.lo < 1e-13


def test_rounding_verdict_on_a_rounded_worked_example() -> None:
    v = lossapp.check("poisson_nll", "[0.5, -1.2, 2.0]", "[2, 0, 6]", claimed="1.19", full=True)
    assert v.verdict == "exact"
    v = lossapp.check("poisson_nll", "[0.5, -1.2, 2.0]", "[2, 0, 6]", claimed="1.2", full=True)
    assert v.verdict in ("exact", "rounding")


# -- bad input ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("pred", "target", "params", "expected", "zh"), [
    ("[0.5, 1.0]", "[2, -1]", {}, "target: expected values ≥ 0, got -1 at index 1 (Poisson targets are counts)",
     "target：期望 ≥ 0 的值，实际为 -1"),
    ("[0.5, -1.0]", "[2, 1]", {"log_input": False}, "pred: expected values ≥ 0, got -1 at index 1", "log_input=true"),
    ("[0.5, 1.0]", "[2, 1, 0]", {}, "same shape", "形状"),
    ("[0.5, 1.0]", "[2, 1]", {"eps": 0}, "parameter eps: expected a value in (0.0, 1.0], got 0", "参数 eps"),
    ("[0.5, 1.0]", "[2, 1]", {"full": "maybe"}, "full", "full"),
])
def test_bad_input_is_an_input_error_with_chinese(pred: str, target: str, params: dict, expected: str, zh: str) -> None:
    with pytest.raises(InputError) as info:
        lossapp.compute("poisson_nll", pred, target, **params)
    assert expected in str(info.value)
    assert has_zh(info.value)
    assert zh in info.value.render("zh")


def test_negative_log_rates_are_valid() -> None:
    """log_input=True reads pred as log λ: any sign (torch's default)."""
    r = lossapp.compute("poisson_nll", "[-3.0, -0.5]", "[0, 1]")
    assert r.reference.agrees and r.scalar == pytest.approx((math.exp(-3) + math.exp(-0.5) + 0.5) / 2)


def test_its_own_mistakes_are_declared_in_its_module_and_found_by_check() -> None:
    """poisson_nll registers its own mistakes (log_input flipped, the Stirling term toggled) next to its steps,
    with their texts in its catalog table, and check() names them."""
    y = torch.tensor([2.0, 0, 6, 1, 3])
    x = torch.tensor([0.5, 1.2, 2.0, 0.1, 1.1])
    flipped = F.poisson_nll_loss(x, y, log_input=False).item()
    verdict = lossapp.check("poisson_nll", "[0.5, 1.2, 2.0, 0.1, 1.1]", "[2, 0, 6, 1, 3]", claimed=round(flipped, 4))
    assert verdict.verdict == "mistake" and verdict.to_dict()["mistakes"][0]["id"] == "poisson_log_input_swapped"
    without = F.poisson_nll_loss(x, y, log_input=True, full=False).item()
    verdict = lossapp.check("poisson_nll", "[0.5, 1.2, 2.0, 0.1, 1.1]", "[2, 0, 6, 1, 3]", full=True,
                            claimed=round(without, 4))
    assert verdict.verdict == "mistake" and verdict.to_dict()["mistakes"][0]["id"] == "poisson_full_toggled"
    assert has_zh(MISTAKES["poisson_full_toggled"].title) and has_zh(MISTAKES["poisson_log_input_swapped"].explanation)
