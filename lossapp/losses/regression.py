"""Regression losses: L1 (MAE), MSE (L2), RMSE, Smooth L1 and Huber (article 000, 001, 002)."""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real
from typing import Any

import torch
import torch.nn.functional as F

from lossapp.i18n import Message, msg
from lossapp.inputs import require_same_shape
from lossapp.inputs.constraints import Interval
from lossapp.interval import (
    TINY,
    Box,
    Iv,
    PointBound,
    U,
    abs_difference,
    interval_formula,
    point_bound,
    reduce_iv,
    reduction_per_den,
    value_range,
)
from lossapp.losses.derivative import derivative_step, number
from lossapp.losses.stable import select
from lossapp.reduction import reduce
from lossapp.registry import LossSpec, Param, register
from lossapp.trace import Trace

ARTICLE_PAIR = {"pred": "[[0.5, -1.2, 2.0], [0.0, 1.5, -0.3]]", "target": "[[0.3, -1.0, 1.0], [0.2, 3.0, -0.3]]"}


def _same_shape(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                trace: Trace) -> tuple[torch.Tensor, torch.Tensor | None]:
    require_same_shape(pred, target)
    return pred, target


DERIVATIVE = "dl/dd"  # the symbol of every regression loss's derivative step (LossSpec.derivative)
D_FORMULA = r"\frac{\partial l_n}{\partial \hat{y}_n} = \frac{\partial l_n}{\partial d_n} = "


def _l1_point(d: float, g: float) -> Message:
    """Which side of the kink of |d| the point d is on."""
    if d > 0:
        return msg("regression.derivative.l1_positive", d=number(d))
    if d < 0:
        return msg("regression.derivative.l1_negative", d=number(d))
    return msg("regression.derivative.l1_kink")


def _l1_derivative(trace: Trace, d: torch.Tensor) -> None:
    """∂|d|/∂d = sign(d), with the kink at d = 0 (torch's abs backward takes sign(0) = 0 there)."""
    derivative_step(trace, DERIVATIVE, D_FORMULA + r"\mathrm{sign}(d_n)", torch.sign, d, point=_l1_point,
                    sub=r"\mathrm{sign}($d)", d=d)


def _difference(trace: Trace, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return trace.add("d", msg("regression.step.difference"), r"d_n = \hat{y}_n - y_n", pred - target, sub=r"$p - $y", p=pred, y=target)


def l1_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
             reduction: str) -> torch.Tensor:
    """L1 loss (mean absolute error).

    Unreduced: l_n = |ŷ_n − y_n|.  mean: Σ l_n / n;  sum: Σ l_n;  none: l.  Reference: F.l1_loss.

    Shape:
        - pred: (*), any number of dimensions.
        - target: (*), the same shape as pred.
        - output: a scalar for mean and sum; (*) for none.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("l1", "[[0.5, -1.2, 2.0], [0.0, 1.5, -0.3]]", "[[0.3, -1.0, 1.0], [0.2, 3.0, -0.3]]")
        >>> print(f"{r.scalar:.4f}")
        0.5167
    """
    d = _difference(trace, pred, target)
    loss = trace.add("l", msg("regression.step.absolute_error"), r"l_n = |d_n|", d.abs(), sub=r"|$d|", d=d)
    _l1_derivative(trace, d)
    return reduce(trace, loss, reduction)


def mse_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
              reduction: str) -> torch.Tensor:
    """MSE loss (L2, mean squared error).

    Unreduced: l_n = (ŷ_n − y_n)².  mean: Σ l_n / n;  sum: Σ l_n;  none: l.  Reference: F.mse_loss.

    Shape:
        - pred: (*), any number of dimensions.
        - target: (*), the same shape as pred.
        - output: a scalar for mean and sum; (*) for none.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("mse", "[[0.5, -1.2, 2.0], [0.0, 1.5, -0.3]]", "[[0.3, -1.0, 1.0], [0.2, 3.0, -0.3]]")
        >>> print(f"{r.scalar:.4f}")
        0.5617
    """
    d = _difference(trace, pred, target)
    loss = trace.add("l", msg("regression.step.squared_error"), r"l_n = d_n^2", d * d, sub=r"$d^2", d=d)
    derivative_step(trace, DERIVATIVE, D_FORMULA + "2 d_n", lambda d: 2 * d, d,
                    point=lambda d, g: msg("regression.derivative.mse", d=number(d), g=number(g)), sub=r"2 \cdot $d", d=d)
    return reduce(trace, loss, reduction)


def rmse_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
               reduction: str) -> torch.Tensor:
    """RMSE: the square root of the reduced MSE (an evaluation metric, article 002).

    Unreduced: l_n = (ŷ_n − y_n)².  mean: √(Σ l_n / n);  sum: √(Σ l_n);  none: √(l_n) = |d_n|.
    Reference: torch.sqrt(F.mse_loss(...)).

    Shape:
        - pred: (*), any number of dimensions.
        - target: (*), the same shape as pred.
        - output: a scalar for mean and sum; (*) for none.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("rmse", "[[0.5, -1.2, 2.0], [0.0, 1.5, -0.3]]", "[[0.3, -1.0, 1.0], [0.2, 3.0, -0.3]]")
        >>> print(f"{r.scalar:.4f}")
        0.7494
    """
    d = _difference(trace, pred, target)
    squared = trace.add("l", msg("regression.step.squared_error"), r"l_n = d_n^2", d * d, sub=r"$d^2", d=d)
    mse = reduce(trace, squared, reduction)
    return trace.add("rmse", msg("regression.step.square_root"), r"\mathrm{RMSE} = \sqrt{L_{\mathrm{MSE}}}", torch.sqrt(mse),
                     note=msg("regression.note.rmse_is_the_root_of"),
                     sub=r"\sqrt{$m}", m=mse)


def smooth_l1_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                    reduction: str) -> torch.Tensor:
    """Smooth L1 loss (Fast R-CNN), with torch's beta.

    Unreduced: l_n = 0.5·d_n²/β if |d_n| < β, else |d_n| − 0.5·β   (β = 0 gives L1).
    mean: Σ l_n / n;  sum: Σ l_n;  none: l.  Reference: F.smooth_l1_loss(beta=β).

    Shape:
        - pred: (*), any number of dimensions.
        - target: (*), the same shape as pred.
        - output: a scalar for mean and sum; (*) for none.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("smooth_l1", "[[0.5, -1.2, 2.0], [0.0, 1.5, -0.3]]", "[[0.3, -1.0, 1.0], [0.2, 3.0, -0.3]]", beta=0.5)
        >>> print(f"{r.scalar:.4f}")
        0.3533
    """
    beta = float(params["beta"])
    d = _difference(trace, pred, target)
    a = trace.add("|d|", msg("regression.step.absolute_difference"), r"|d_n|", d.abs())
    if beta == 0:
        trace.warn(msg("regression.warn.beta_0"))
        loss = trace.add("l", msg("regression.step.smooth_l1_term_l1"), r"l_n = |d_n|", a.clone())
        _l1_derivative(trace, d)
        return reduce(trace, loss, reduction)
    trace.show("quad", msg("regression.step.quadratic_branch_beta"), r"|d_n| < \beta", lambda a: (a < beta).double(), a,
               note=msg("regression.note.quadratic_branch", beta=f"{beta:g}"))
    loss = select(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)
    trace.add("l", msg("regression.step.smooth_l1_term"), r"l_n = \begin{cases} 0.5\,d_n^2/\beta & |d_n|<\beta \\ |d_n| - 0.5\beta & "
              r"\text{otherwise}\end{cases}", loss)

    def point(d: float, g: float) -> Message:
        quadratic = abs(d) < beta
        return msg("regression.derivative.smooth_l1_quadratic" if quadratic else "regression.derivative.smooth_l1_linear",
                   d=number(d), beta=f"{beta:g}", g=number(g))
    derivative_step(trace, DERIVATIVE, D_FORMULA + r"\begin{cases} d_n/\beta & |d_n|<\beta \\ \mathrm{sign}(d_n) & "
                    r"\text{otherwise}\end{cases}",
                    lambda d: torch.where(d.abs() < beta, d / beta, torch.sign(d)), d, point=point)
    return reduce(trace, loss, reduction)


def huber_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                reduction: str) -> torch.Tensor:
    """Huber loss, with torch's delta (= δ · smooth L1 with β = δ).

    Unreduced: l_n = 0.5·d_n² if |d_n| < δ, else δ·(|d_n| − 0.5·δ).
    mean: Σ l_n / n;  sum: Σ l_n;  none: l.  Reference: F.huber_loss(delta=δ).

    Shape:
        - pred: (*), any number of dimensions.
        - target: (*), the same shape as pred.
        - output: a scalar for mean and sum; (*) for none.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("huber", "[[0.5, -1.2, 2.0], [0.0, 1.5, -0.3]]", "[[0.3, -1.0, 1.0], [0.2, 3.0, -0.3]]")
        >>> print(f"{r.scalar:.4f}")
        0.2600
    """
    delta = float(params["delta"])
    d = _difference(trace, pred, target)
    a = trace.add("|d|", msg("regression.step.absolute_difference"), r"|d_n|", d.abs())
    trace.show("quad", msg("regression.step.quadratic_branch_delta"), r"|d_n| < \delta", lambda a: (a < delta).double(), a)
    loss = select(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    trace.add("l", msg("regression.step.huber_term"), r"l_n = \begin{cases} 0.5\,d_n^2 & |d_n|<\delta \\ \delta(|d_n| - 0.5\delta) & "
              r"\text{otherwise}\end{cases}", loss)

    def point(d: float, g: float) -> Message:
        quadratic = abs(d) < delta
        return msg("regression.derivative.huber_quadratic" if quadratic else "regression.derivative.huber_linear",
                   d=number(d), delta=f"{delta:g}", g=number(g))
    derivative_step(trace, DERIVATIVE, D_FORMULA + r"\begin{cases} d_n & |d_n|<\delta \\ \delta\,\mathrm{sign}(d_n) & "
                    r"\text{otherwise}\end{cases}",
                    lambda d: torch.where(d.abs() < delta, d, delta * torch.sign(d)), d, point=point)
    return reduce(trace, loss, reduction)


# -- rounding enclosures (lossapp.interval) -------------------------------------------------------------------------
# l = g(|d|) with d = ŷ − y and g non-decreasing on [0, ∞) for L1, MSE, smooth L1 (continuous at |d| = β:
# 0.5β²/β = β − 0.5β) and Huber (continuous at δ); |d| over the box is exact, so g over the interval of |d| is the
# exact range of each term; the sum of independent terms ranges over the sum of their ranges. g is evaluated at the
# two ends of |d|'s interval (Iv.increasing), each branch picked per element as the steps pick it, and each within
# 2 ulps of its exact value: t² and 0.5t²/β (t·t and /β correctly rounded, ×0.5 exact), t − 0.5β (one rounding),
# δ(t − 0.5δ) (two); increasing's outward rounding also covers an underflow to a subnormal.
# Exact inputs (a point box): the float |d| is within ½ ulp (relative 2⁻⁵³) of the exact one, and every g here has
# elasticity t·g'(t)/g(t) ≤ 2 (t²: 2; t − 0.5β and δ(t − 0.5δ): t/(t − 0.5β) ≤ 2 for t ≥ β), so g of the float |d|
# is within 2 more ulps of g of the exact |d|: one evaluation, rounded 2 ulps further out.

def _terms(box: Box, g: Callable[[torch.Tensor], torch.Tensor], ulps: int) -> Iv:
    """g(|d|) per element, for a g as above computed within `ulps` ulps (returning a new tensor)."""
    x, y = box.pred_box(), box.target_box()
    if x.point and y.point:
        return Iv((x.lo - y.lo).abs_()).increasing(g, ulps + 2, nonneg=True)
    return abs_difference(x, y).increasing(g, ulps, nonneg=True)


def _square(t: torch.Tensor) -> torch.Tensor:
    return t * t


# A point box (lossapp.interval.point_bound): every term g(|d|) ≥ 0 is computed within K·u·(A + g), K = 8: d = ŷ − y
# is one correctly rounded subtraction (within u of |d|, relative), g has elasticity ≤ 2 (above), so g of the float
# |d| is within 2u·(1 + 2u) of g of the exact one, and g's own evaluation adds ≤ 2 roundings (t·t; 0.5t²/β; t − 0.5β;
# δ(t − 0.5δ)). Underflow (absolute, A): d is exact where it is subnormal, but a product or quotient that underflows
# errs by ≤ u·TINY (TINY = 2⁻¹⁰²²), which a relative bound alone misses (Σ of 10⁵ terms d² = 2⁻¹⁰⁷⁵ computed 0): d·d
# by u·TINY; Huber's (0.5·d)·d by u·TINY·(|d| + 1) ≤ u·TINY·(δ + 1) (|d| < δ) and δ·(|d| − 0.5δ) ≥ δ²/2 ≥ 5·10⁻¹³ not at
# all; smooth L1's ((0.5·d)·d)/β by u·TINY·((|d| + 1)/β + 1) ≤ u·TINY·(1/β + 2) (|d| < β), whose underflow the division
# by a small β magnifies (β = 10⁻³⁰⁰, d = 5·10⁻³⁰¹: the term 1.25·10⁻³⁰¹ is computed 0). A = TINY·(3 + 1/β + δ) (each
# only for its loss; 8u·A covers every case). RMSE's root: with the MSE's bound E_m at its computed value v̂_m ≤ v̂²·(1 + 3u) (v̂ = fl(√v̂_m)),
# |√v̂_m − √v_m| ≤ min(√E_m, E_m/√v̂_m) (|√a − √b| = |a − b|/(√a + √b)) and √v̂_m ≥ v̂/(1 + u), plus the root's rounding u·v̂.
def _elementwise_point_error(box: Box) -> PointBound | None:
    """The float64 error bound of an elementwise regression loss (L1, MSE, smooth L1, Huber) for a point box."""
    if box.pred is None or box.target is None or tuple(box.target.shape) != tuple(box.pred.shape):
        return None
    x, y = value_range(box), value_range(box, "target")
    if x is None or y is None or not all(math.isfinite(v) for v in (*x, *y)):
        return None
    per_den = reduction_per_den(box.reduction, box.pred.shape)
    beta, delta = box.params.get("beta"), box.params.get("delta")
    floor = 3.0 + (1.0 / float(beta) if beta else 0.0) + (float(delta) if delta is not None else 0.0)
    return None if per_den is None else point_bound(8, TINY * floor * (1 + 2.0 ** -40), box.pred.numel(), per_den)


def _rmse_point_error(box: Box) -> PointBound | None:
    """RMSE's float64 error bound for a point box at its value (c1 = 0: not for a part of a sum)."""
    mse = _elementwise_point_error(box)
    v = abs(box.value)
    if mse is None or not math.isfinite(v):
        return None
    e_m = (mse[0] + mse[1] * v * v * (1 + 3 * U)) * (1 + 2.0 ** -40)
    root = math.sqrt(e_m) * (1 + 2.0 ** -40)
    if v > 0:
        root = min(root, e_m * (1 + U) / v * (1 + 2.0 ** -40))
    return root + U * v, 0.0


@interval_formula("exact range (|d| per element), interval arithmetic with outward rounding",
                  point_error=_elementwise_point_error)
def l1_enclosure(box: Box) -> Iv:
    return reduce_iv(abs_difference(box.pred_box(), box.target_box()), box.reduction)


@interval_formula("exact range (d² per element), interval arithmetic with outward rounding",
                  point_error=_elementwise_point_error)
def mse_enclosure(box: Box) -> Iv:
    # the reduced d² (one number), shared with RMSE's enclosure of the same inputs (its root: mistake rmse_mse_swapped)
    return box.shared(("mse_reduced", box.reduction), lambda: reduce_iv(_terms(box, _square, 1), box.reduction))


@interval_formula("exact range (√ of the reduced d², monotone), interval arithmetic with outward rounding",
                  point_error=_rmse_point_error)
def rmse_enclosure(box: Box) -> Iv:
    # d², shared by RMSE's enclosures of one problem (`Box.shared`: its value under another reduction), and the reduced
    # d², shared with the MSE's enclosure of the same inputs
    return box.shared(("mse_reduced", box.reduction), lambda: reduce_iv(
        box.shared("rmse_squared_terms", lambda: _terms(box, _square, 1)), box.reduction)).sqrt()


@interval_formula("exact range (smooth L1 is non-decreasing in |d|), interval arithmetic with outward rounding",
                  point_error=_elementwise_point_error)
def smooth_l1_enclosure(box: Box) -> Iv:
    beta = float(box.params["beta"])
    if beta == 0:
        return reduce_iv(abs_difference(box.pred_box(), box.target_box()), box.reduction)
    # the quadratic branch as (t/β)·t·0.5: t/β < 1 there, so a product underflows only where the term itself is that
    # small (t·t/β would underflow before the division by a small β: t = 5·10⁻³⁰², β = 10⁻³⁰⁰ gave [0, 5·10⁻³²³])
    return reduce_iv(_terms(box, lambda t: torch.where(t < beta, torch.div(t, beta).mul_(t).mul_(0.5), t - 0.5 * beta),
                            2), box.reduction)


@interval_formula("exact range (Huber is non-decreasing in |d|), interval arithmetic with outward rounding",
                  point_error=_elementwise_point_error)
def huber_enclosure(box: Box) -> Iv:
    delta = float(box.params["delta"])
    return reduce_iv(_terms(box, lambda t: torch.where(t < delta, (t * t).mul_(0.5), (t - 0.5 * delta).mul_(delta)), 2),
                     box.reduction)


_COMMON = {"family": "regression", "pred_kind": "values", "target_kind": "values", "prepare": _same_shape,
           "example": ARTICLE_PAIR, "curves": "regression"}
_ELEMENTWISE = {**_COMMON, "derivative": DERIVATIVE}

register(LossSpec(
    related={"squared": "mse"}, mistakes=("l1_mse_swapped",),
    name="l1", torch_code="F.l1_loss(pred, target, reduction=reduction)", title=msg("regression.l1.title"), summary=msg("regression.l1.summary"),
    formula=r"l_n = |\hat{y}_n - y_n|", params=(), steps=l1_steps, enclosure=l1_enclosure,
    reference=lambda x, y, p, r: F.l1_loss(x, y, reduction=r), reference_name="torch.nn.functional.l1_loss",
    aliases=("mae", "L1Loss", "absolute", "mean_absolute_error"), **_ELEMENTWISE))

register(LossSpec(
    related={"root": "rmse", "absolute": "l1"}, mistakes=("rmse_mse_swapped", "l1_mse_swapped", "half_mse"),
    name="mse", torch_code="F.mse_loss(pred, target, reduction=reduction)", title=msg("regression.mse.title"), summary=msg("regression.mse.summary"),
    formula=r"l_n = (\hat{y}_n - y_n)^2", params=(), steps=mse_steps, enclosure=mse_enclosure,
    reference=lambda x, y, p, r: F.mse_loss(x, y, reduction=r), reference_name="torch.nn.functional.mse_loss",
    aliases=("l2", "MSELoss", "quadratic", "mean_squared_error"), **_ELEMENTWISE))

register(LossSpec(
    related={"root_of": "mse", "absolute": "l1"}, mistakes=("rmse_mse_swapped", "rmse_as_mean_of_roots"),
    name="rmse", torch_code="torch.sqrt(F.mse_loss(pred, target, reduction=reduction))", title=msg("regression.rmse.title"), summary=msg("regression.rmse.summary"),
    formula=r"\mathrm{RMSE} = \sqrt{\tfrac{1}{n}\sum_n (\hat{y}_n - y_n)^2}", params=(), steps=rmse_steps, enclosure=rmse_enclosure,
    reference=lambda x, y, p, r: torch.sqrt(F.mse_loss(x, y, reduction=r)),
    reference_name="torch.sqrt(torch.nn.functional.mse_loss)", aliases=("root_mean_squared_error",), **_COMMON))

register(LossSpec(
    related={"rescaled": "huber"}, mistakes=("smooth_l1_without_beta", "smooth_l1_huber_swapped"),
    name="smooth_l1", torch_code="F.smooth_l1_loss(pred, target, reduction=reduction, beta=beta)", title=msg("regression.smooth_l1.title"),
    summary=msg("regression.smooth_l1.summary"),
    formula=r"l_n = \begin{cases} 0.5\,d_n^2/\beta & |d_n|<\beta \\ |d_n| - 0.5\beta & \text{otherwise}\end{cases}",
    params=(Param("beta", 1.0, Interval(Real, 0.0, 10.0), msg("regression.smooth_l1.param.beta")),),
    steps=smooth_l1_steps, enclosure=smooth_l1_enclosure,
    reference=lambda x, y, p, r: F.smooth_l1_loss(x, y, reduction=r, beta=p["beta"]),
    reference_name="torch.nn.functional.smooth_l1_loss", aliases=("SmoothL1Loss", "smoothl1"), **_ELEMENTWISE))

register(LossSpec(
    related={"rescaled": "smooth_l1"}, mistakes=("smooth_l1_huber_swapped",),
    name="huber", torch_code="F.huber_loss(pred, target, reduction=reduction, delta=delta)", title=msg("regression.huber.title"), summary=msg("regression.huber.summary"),
    formula=r"l_n = \begin{cases} 0.5\,d_n^2 & |d_n|<\delta \\ \delta(|d_n| - 0.5\delta) & \text{otherwise}\end{cases}",
    params=(Param("delta", 1.0, Interval(Real, 1e-6, 10.0), msg("regression.huber.param.delta")),),
    steps=huber_steps, enclosure=huber_enclosure,
    reference=lambda x, y, p, r: F.huber_loss(x, y, reduction=r, delta=p["delta"]),
    reference_name="torch.nn.functional.huber_loss", aliases=("HuberLoss",), **_ELEMENTWISE))
