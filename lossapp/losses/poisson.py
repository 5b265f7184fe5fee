"""Poisson negative log-likelihood (torch's PoissonNLLLoss): counts y ~ Poisson(λ), with the prediction the log-rate
log λ (log_input=True, torch's default) or the rate λ itself (log_input=False).

The likelihood of a count y under rate λ is λ^y e^(−λ) / y!, so −log of it is λ − y·log λ + log y!. torch drops the
constant log y! (it does not depend on the prediction) unless full=True, and then adds Stirling's approximation
log y! ≈ y·log y − y + ½·log(2πy) only where y > 1 (for y ∈ {0, 1}, log y! = 0 exactly).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real
from typing import Any

import torch
import torch.nn.functional as F

from lossapp.i18n import msg
from lossapp.inputs import require_nonnegative, require_same_shape
from lossapp.inputs.constraints import Boolean, Interval
from lossapp.interval import Box, Iv, interval_formula, monotone_scalar, reduce_iv, where
from lossapp.losses.derivative import derivative_step, number
from lossapp.reduction import reduce
from lossapp.registry import LossSpec, Param, register
from lossapp.trace import Trace, fmt

LOG_TWO_PI = math.log(2 * math.pi)
EXAMPLE = {"pred": "[0.5, -1.2, 2.0, 0.0, 1.1]", "target": "[2, 0, 6, 1, 3]", "params": {"full": True}}


def poisson_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                    trace: Trace) -> tuple[torch.Tensor, torch.Tensor | None]:
    """pred and target of one shape; the target counts y ≥ 0; with log_input=False the rates λ = pred ≥ 0 (torch
    itself checks neither: a negative count goes through its formula, a rate below −eps gives log of a negative
    number, NaN)."""
    require_same_shape(pred, target)
    require_nonnegative(target, "target", msg("poisson.hint.counts"))
    if not params["log_input"]:
        require_nonnegative(pred, "pred", msg("poisson.hint.rates"))
    return pred, target


def poisson_nll_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                      reduction: str) -> torch.Tensor:
    """Poisson negative log-likelihood of counts y under the predicted rate, with torch's log_input, full and eps.

    Unreduced: log_input=True:  l_n = e^{x_n} − y_n·x_n   (x = log λ);
               log_input=False: l_n = x_n − y_n·log(x_n + ε)   (x = λ);
               full=True adds s_n = y_n·log y_n − y_n + ½·log(2π·y_n) where y_n > 1 (0 elsewhere).
    mean: Σ l_n / n;  sum: Σ l_n;  none: l.  Params: log_input (True), full (False), eps (1e-8).
    Reference: F.poisson_nll_loss(x, y, log_input, full, eps=eps).

    Shape:
        - pred: (*), any number of dimensions.
        - target: (*), the same shape as pred.
        - output: a scalar for mean and sum; (*) for none.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("poisson_nll", "[0.5, -1.2, 2.0]", "[2, 0, 6]", reduction="sum")
        >>> print(f"{r.scalar:.4f}")
        -3.6610
    """
    x, y = pred, target.double()
    if params["log_input"]:
        rate = trace.add("λ", msg("poisson.step.rate_from_log"), r"\lambda_n = e^{x_n}", torch.exp(x),
                         sub=r"e^{$x}", x=x)
        count_term = trace.add("y·x", msg("poisson.step.count_times_log_rate"), r"y_n x_n", y * x,
                               sub=r"$y \cdot $x", y=y, x=x)
    else:
        eps = float(params["eps"])
        rate = x
        log_rate = trace.add("log λ", msg("poisson.step.log_rate"), r"\log(x_n + \varepsilon)", torch.log(x + eps),
                             sub=rf"\log($x + {fmt(eps)})", x=x, note=msg("poisson.note.eps", eps=f"{eps:g}"))
        count_term = trace.add("y·log λ", msg("poisson.step.count_times_log_rate"), r"y_n \log(x_n + \varepsilon)",
                               y * log_rate, sub=r"$y \cdot $a", y=y, a=log_rate)
    formula = r"e^{x_n} - y_n x_n" if params["log_input"] else r"x_n - y_n \log(x_n + \varepsilon)"
    if not params["full"]:
        loss = trace.add("l", msg("poisson.step.nll_term"), rf"l_n = {formula}", rate - count_term,
                         sub=r"$a - $b", a=rate, b=count_term, note=msg("poisson.note.constant_dropped"))
        _derivative_step(trace, x.detach(), y, params)
        return reduce(trace, loss, reduction)
    partial = trace.add("l_0", msg("poisson.step.nll_without_constant"), rf"l^0_n = {formula}", rate - count_term,
                        sub=r"$a - $b", a=rate, b=count_term)
    stirling = trace.add("s", msg("poisson.step.stirling"),
                         r"s_n = \begin{cases} y_n \log y_n - y_n + \tfrac12 \log(2\pi y_n) & y_n > 1 \\ 0 & "
                         r"\text{otherwise}\end{cases}", _stirling(y), note=msg("poisson.note.stirling"))
    loss = trace.add("l", msg("poisson.step.full_term"), r"l_n = l^0_n + s_n", partial + stirling,
                     sub=r"$a + $s", a=partial, s=stirling)
    _derivative_step(trace, x.detach(), y, params)
    return reduce(trace, loss, reduction)


DERIVATIVE = "dl/dx"


def _derivative_step(trace: Trace, x: torch.Tensor, y: torch.Tensor, params: dict[str, Any]) -> None:
    """∂l_n/∂x_n: e^x − y with log_input, else 1 − y/(x + ε) (the Stirling term does not depend on x)."""
    if params["log_input"]:
        derivative_step(trace, DERIVATIVE, r"\frac{\partial l_n}{\partial x_n} = e^{x_n} - y_n", lambda x, y: torch.exp(x) - y,
                        x, y, point=lambda x, y, g: msg("poisson.derivative.log_input", x=number(x), y=number(y),
                                                        g=number(g)))
        return
    eps = float(params["eps"])
    derivative_step(trace, DERIVATIVE, r"\frac{\partial l_n}{\partial x_n} = 1 - \frac{y_n}{x_n + \varepsilon}",
                    lambda x, y: 1 - y / (x + eps), x, y,
                    point=lambda x, y, g: msg("poisson.derivative.rate", x=number(x), y=number(y), g=number(g)))


def _stirling(y: torch.Tensor) -> torch.Tensor:
    """y·log y − y + ½·log(2πy) where y > 1, else 0 (torch's masked_fill(target <= 1, 0)); log of y clamped to ≥ 1,
    so the branch not taken is finite."""
    above = y > 1
    z = y.clamp_min(1.0)
    return torch.where(above, z * torch.log(z) - z + 0.5 * (LOG_TWO_PI + torch.log(z)), torch.zeros_like(z))


def poisson_nll_reference(x: torch.Tensor, y: torch.Tensor, p: dict[str, Any], reduction: str) -> torch.Tensor:
    return F.poisson_nll_loss(x, y, log_input=p["log_input"], full=p["full"], eps=p["eps"], reduction=reduction)


# -- rounding enclosure (lossapp.interval) --------------------------------------------------------------------------
# l(x, y) = f(x) − y·g(x) with f = exp, g = id (log_input) or f = id, g = log(· + ε) (x ≥ 0), y ≥ 0: convex in x
# (f convex, −y·g convex) and affine in y. Over a box [x₀, x₁] × [y₀, y₁]:
# - the maximum is at a corner: for each y the convex l(·, y) peaks at x₀ or x₁, and max(l(x₀, y), l(x₁, y)) is a
#   maximum of affine functions of y, convex, so it peaks at y₀ or y₁;
# - the minimum is at y₀ or y₁: m(y) = min over x of l(x, y) is a minimum of affine functions of y, concave. For one
#   y, the minimum over x is at the stationary point x* (f'(x*) = y·g'(x*): x* = log y, resp. y − ε) when x* lies in
#   [x₀, x₁], with the closed form l(x*, y) = y − y·log y, resp. y − ε − y·log y, else at x₀ or x₁. Where x*'s
#   interval merely meets [x₀, x₁] the closed form is taken: the minimum over every x, still a lower bound.
# Every value is evaluated in outward-rounded interval arithmetic at exact points, so this is the exact range
# rounded outward. The Stirling term s(y) depends on y alone: 0 for y ≤ 1, increasing for y > 1
# (s'(y) = log y + 1/(2y) > 0), with s(1⁺) = ½·log 2π − 1 < 0 below its values further right; a box meeting both
# sides of 1 ranges over the hull of 0 and s on (1, y₁]. Adding it to l's range over the same y may widen the sum
# (it is not the exact range then, but contains it). A point box is evaluated once.

def _terms_range(x: Iv, y: Iv, term: Callable[[Iv, Iv], Iv], stationary: Callable[[Iv], Iv],
                 at_stationary: Callable[[Iv], Iv]) -> Iv:
    """The range of the convex-in-x, affine-in-y `term` over the box x × y (see above)."""
    if x.point and y.point:
        return term(x, y)
    lo_x, hi_x = Iv(x.lo), Iv(x.hi)
    highs, lows = [], []
    for y_end in (Iv(y.lo), Iv(y.hi)):
        at_lo, at_hi = term(lo_x, y_end), term(hi_x, y_end)
        highs.append(torch.maximum(at_lo.hi, at_hi.hi))
        x_star = stationary(y_end)
        inside = (x_star.hi >= x.lo) & (x_star.lo <= x.hi)
        lows.append(torch.where(inside, at_stationary(y_end).lo, torch.minimum(at_lo.lo, at_hi.lo)))
    return Iv(torch.minimum(*lows), torch.maximum(*highs))


def _stirling_iv(y: Iv) -> Iv:
    """The Stirling term's range over y ≥ 0 (see above)."""
    def s(z: Iv) -> Iv:
        return z.xlogx() - z + (Iv.around(LOG_TWO_PI, 1) + z.log()) * 0.5
    above = Iv(y.lo.clamp_min(1.0), y.hi.clamp_min(1.0))
    values = monotone_scalar(s, above)
    straddles = (y.lo <= 1) & (y.hi > 1)
    ranged = Iv(torch.where(straddles, torch.minimum(values.lo, torch.zeros_like(values.lo)), values.lo),
                torch.where(straddles, torch.maximum(values.hi, torch.zeros_like(values.hi)), values.hi))
    return where(y.hi > 1, ranged, Iv(torch.zeros_like(y.lo)))


@interval_formula(msg("poisson.enclosure_method"))
def poisson_nll_enclosure(box: Box) -> Iv:
    y = box.target_box(low=0.0)
    if box.params["log_input"]:
        terms = _terms_range(box.pred_box(), y, lambda x, y: x.exp() - y * x, lambda y: y.log(),
                             lambda y: y - y.xlogx())
    else:
        eps = float(box.params["eps"])
        terms = _terms_range(box.pred_box(low=0.0), y, lambda x, y: x - y * (x + eps).log(), lambda y: y - eps,
                             lambda y: y - eps - y.xlogx())
    if box.params["full"]:
        terms = terms + _stirling_iv(y)
    return reduce_iv(terms, box.reduction)


register(LossSpec(
    mistakes=("poisson_log_input_swapped", "poisson_full_toggled"), conventions=("tf_log_poisson_loss",),
    name="poisson_nll", family="regression", title=msg("poisson.title"), summary=msg("poisson.summary"),
    derivative=DERIVATIVE,
    formula=r"l_n = \begin{cases} e^{x_n} - y_n x_n & \mathrm{log\_input} \\ x_n - y_n \log(x_n + \varepsilon) & "
            r"\neg\,\mathrm{log\_input} \end{cases} \;+\; [\mathrm{full}]\,[y_n > 1]\,"
            r"(y_n \log y_n - y_n + \tfrac12 \log(2\pi y_n))",
    pred_kind="values", target_kind="counts",
    params=(Param("log_input", True, Boolean(), msg("poisson.param.log_input")),
            Param("full", False, Boolean(), msg("poisson.param.full")),
            Param("eps", 1e-8, Interval(Real, 0.0, 1.0, closed="right"), msg("poisson.param.eps"))),
    steps=poisson_nll_steps, reference=poisson_nll_reference, reference_name="torch.nn.functional.poisson_nll_loss",
    prepare=poisson_prepare, enclosure=poisson_nll_enclosure, example=EXAMPLE,
    aliases=("PoissonNLLLoss", "poisson", "poisson_loss"),
    torch_code="F.poisson_nll_loss(pred, target, log_input=log_input, full=full, eps=eps, reduction=reduction)"))


# -- mistakes of this loss alone (lossapp.mistakes is imported last: it needs the registry filled) ---------------
from lossapp.mistakes import declared, mistake  # noqa: E402

# each is this loss with one parameter flipped: its enclosure is this loss's own formula with that parameter
mistake("poisson_log_input_swapped", "l", declared("poisson_log_input_swapped"),
        lambda c: c.run(log_input=not c.param("log_input", True)), table="poisson",
        interval=lambda c: c.run_interval(log_input=not c.param("log_input", True)))
mistake("poisson_full_toggled", "l", declared("poisson_full_toggled"),
        lambda c: c.run(full=not c.param("full", False)), table="poisson",
        interval=lambda c: c.run_interval(full=not c.param("full", False)))
