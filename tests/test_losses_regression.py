"""Regression losses (L1, MSE, RMSE, Smooth L1, Huber) against torch over random shapes and values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import lossapp
from lossapp.interval import enclose

FINITE = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    shape = draw(array_shapes(min_dims=1, max_dims=3, max_side=5))
    return draw(arrays(np.float64, shape, elements=FINITE)), draw(arrays(np.float64, shape, elements=FINITE))


REFERENCES = {
    "l1": lambda x, y, r, p: F.l1_loss(x, y, reduction=r),
    "mse": lambda x, y, r, p: F.mse_loss(x, y, reduction=r),
    "rmse": lambda x, y, r, p: torch.sqrt(F.mse_loss(x, y, reduction=r)),
    "smooth_l1": lambda x, y, r, p: F.smooth_l1_loss(x, y, reduction=r, beta=p.get("beta", 1.0)),
    "huber": lambda x, y, r, p: F.huber_loss(x, y, reduction=r, delta=p.get("delta", 1.0)),
}


@settings(max_examples=40, deadline=None)
@given(data=pairs(), name=st.sampled_from(sorted(REFERENCES)), reduction=st.sampled_from(["none", "mean", "sum"]),
       scale=st.sampled_from([0.0, 0.5, 1.0, 3.0]))
def test_matches_torch_in_float64(data: tuple[np.ndarray, np.ndarray], name: str, reduction: str, scale: float) -> None:
    pred, target = data
    params = {"beta": scale} if name == "smooth_l1" else {"delta": max(scale, 0.1)} if name == "huber" else {}
    result = lossapp.compute(name, pred, target, reduction=reduction, dtype="float64", **params)
    x = torch.tensor(pred, requires_grad=True)
    expected = REFERENCES[name](x, torch.tensor(target), reduction, params)
    torch.testing.assert_close(result.value, expected.detach(), rtol=1e-9,
                               atol=1e-9)
    assert result.reference.agrees
    d = pred - target
    if name != "rmse" and not np.any(d == 0) and not np.any(np.abs(np.abs(d) - scale) < 1e-9):
        (grad,) = torch.autograd.grad(expected, x, torch.ones_like(expected))
        torch.testing.assert_close(torch.tensor(result.gradient.manual, dtype=torch.float64), grad, rtol=1e-9,
                                   atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(data=pairs(), name=st.sampled_from(sorted(REFERENCES)))
def test_float32_reference_agrees(data: tuple[np.ndarray, np.ndarray], name: str) -> None:
    pred, target = data
    result = lossapp.compute(name, pred, target, dtype="float32")
    assert result.reference.agrees, result.reference


def test_article_000_smooth_l1_function() -> None:
    """The article's own smooth_l1_loss(x, y, beta=1) equals nn.SmoothL1Loss and lossapp."""
    torch.manual_seed(0)
    predict, target = torch.randn(2, 3), torch.randn(2, 3)

    def smooth_l1_loss(x: torch.Tensor, y: torch.Tensor, beta: float = 1) -> torch.Tensor:
        diff = torch.abs(x - y)
        return torch.where(diff < beta, 0.5 * diff**2 / beta, diff - 0.5 * beta).mean()

    result = lossapp.compute("smooth_l1", predict, target)
    assert result.value == pytest.approx(float(smooth_l1_loss(predict, target)), rel=1e-6)
    assert result.value == pytest.approx(float(torch.nn.SmoothL1Loss()(predict, target)), rel=1e-6)


def test_smooth_l1_steps_show_the_branch() -> None:
    result = lossapp.compute("smooth_l1", "[0.2, 3.0]", "[0, 0]", reduction="none")
    assert result.step("quad").value_list() == [1.0, 0.0]
    assert result.value == pytest.approx([0.02, 2.5])


def test_l1_substitutes_numbers_for_small_inputs() -> None:
    result = lossapp.compute("l1", "[0.5, -1.2]", "[0.3, -1.0]", reduction="none")
    assert result.step("d").substituted() == ["0.5 - 0.3", "(-1.2) - (-1)"]
    assert result.step("l").substituted() == ["|0.2|", "|(-0.2)|"]


# -- the derivative at each point, with its branch -------------------------------------------------------

def _autograd_terms(name: str, pred: str, target: str, **params: float) -> list[float]:
    """d(Σ l_n)/d(pred) of the torch built-in with reduction none, computed here."""
    x = torch.tensor(eval_list(pred), dtype=torch.float64, requires_grad=True)
    y = torch.tensor(eval_list(target), dtype=torch.float64)
    fn = {"l1": F.l1_loss, "mse": F.mse_loss, "smooth_l1": F.smooth_l1_loss, "huber": F.huber_loss}[name]
    (grad,) = torch.autograd.grad(fn(x, y, reduction="none", **params).sum(), x)
    return grad.tolist()


def eval_list(text: str) -> list[float]:
    return [float(v) for v in text.strip("[]").split(",")]


@pytest.mark.parametrize("name,params", [("l1", {}), ("mse", {}), ("smooth_l1", {"beta": 1.0}),
                                         ("smooth_l1", {"beta": 0.0}), ("huber", {"delta": 0.7})])
def test_derivative_step_equals_torch_at_every_point_kinks_included(name: str, params: dict) -> None:
    pred, target = "[0.5, 0.0, -2.0, 1.0, 0.3, -0.6]", "[0.0, 0.0, 0.0, 0.0, 1.0, 0.1]"
    result = lossapp.compute(name, pred, target, reduction="mean", **params)
    assert result.step("dl/dd").value_list() == pytest.approx(_autograd_terms(name, pred, target, **params), abs=1e-15)


def test_smooth_l1_derivative_says_which_branch_and_why() -> None:
    result = lossapp.compute("smooth_l1", "[0.5, 2.0, -0.3]", "[0, 0, 0]", beta=1.0)
    note = result.step("dl/dd").note
    assert "d = 0.5: |d| < β = 1, so ∂l/∂d = d/β = 0.5" in note
    assert "d = 2: |d| ≥ β = 1, so ∂l/∂d = sign(d) = 1" in note
    assert "d = -0.3: |d| < β = 1, so ∂l/∂d = d/β = -0.3" in note
    assert "|d| < β = 1，所以 ∂l/∂d = d/β = 0.5" in note.render("zh")


def test_l1_derivative_notes_the_kink_at_zero() -> None:
    result = lossapp.compute("l1", "[0.5, 0.3, -1.0]", "[0.3, 0.3, 0.0]", reduction="none")
    step = result.step("dl/dd")
    assert step.value_list() == [1.0, 0.0, -1.0]
    assert "d = 0 is the kink of |d|" in step.note and "sign(0) = 0" in step.note
    assert "折点" in step.note.render("zh")
    assert result.gradient.agrees


def test_huber_derivative_branches() -> None:
    note = lossapp.compute("huber", "[0.2, -3.0]", "[0, 0]", delta=1.0).step("dl/dd").note
    assert "d = 0.2: |d| < δ = 1, so ∂l/∂d = d = 0.2" in note
    assert "d = -3: |d| ≥ δ = 1, so ∂l/∂d = δ·sign(d) = -1" in note


def test_large_inputs_note_the_first_points_only() -> None:
    result = lossapp.compute("mse", torch.linspace(-1, 1, 50), torch.zeros(50))
    note = result.step("dl/dd").note
    assert note.count("∂l/∂d") == 3 and note.endswith("…")
    assert len(result.step("dl/dd").value) == 50


def test_smooth_l1_enclosure_with_a_tiny_beta_does_not_underflow() -> None:
    """β = 10⁻³⁰⁰ and |d| written as 5·10⁻³⁰² (box up to 5.5·10⁻³⁰¹ < β): the quadratic branch over the box reaches
    1.5·10⁻³⁰¹, which 0.5·t·t/β loses to underflow before the division (the enclosure was [0, 5·10⁻³²³], missing even
    the value at the written inputs, 2.5·10⁻³⁰³); (t/β)·t·0.5 keeps it."""
    e = enclose(lossapp.compute("smooth_l1", "[5e-302, 5e-302]", "[0, 0]", beta=1e-300, reduction="sum"))
    assert e.sound and not e.point
    assert e.lo <= 2.5e-303 <= e.hi and e.hi >= 2 * 0.5 * 5.5e-301 * (5.5e-301 / 1e-300) * (1 - 1e-12)
