"""A sound enclosure of a loss over the rounding box of its inputs.

A worked example writes its inputs rounded ("0.2947" stands for any number in [0.29465, 0.29475]).
`enclose(result)` returns an interval [lo, hi] that contains the loss of **every** input inside that
box: each written entry may move by half a unit of its own last written decimal (integers, class
indices and 0/1 labels are exact; parameters are exact), clipped to the input's domain (probabilities
stay in [0, 1], log-probabilities ≤ 0). The answer checker calls a claim `rounding` only when the
values that round to it overlap this interval, so the interval must be an enclosure, not a guess.

How it is computed, and why it is an enclosure
----------------------------------------------
1. **The box.** Each entry's interval is [x − h, x + h] with h = ½·10^(−decimals), computed in float64
   and then widened by ~4.5 ulp of max(|x|, h) plus one `nextafter` step outward: the parsed float x is
   within ½ ulp of the written decimal, and the subtraction and 10^(−d) each add at most ½ ulp, so the
   float box contains the real box.
2. **Interval arithmetic with outward rounding** (`Iv`): every operation returns [lo, hi] that
   contains op(a, b) for all a, b in the operand intervals (the inclusion property). + − × ÷ and
   sqrt are correctly rounded in IEEE-754, so moving each bound one `nextafter` step outward keeps the
   true result inside; exp, log, log1p, pow, sigmoid and softplus are monotone and are evaluated at
   the bounds by ATen's float64 kernels (SLEEF u10 / libm, ≤ 1 ulp documented error), and each bound
   is moved 4 (8 for softplus and sigmoid, which chain two or three such operations) ulps outward.
   A sum of n terms is widened by 2·(n+1)·2⁻⁵³·Σ|terms| (the textbook bound γₙ·Σ|xᵢ| on the error of
   floating-point summation in any order, doubled to cover the float computation of Σ|xᵢ|).
   NaN bounds (inf − inf) become −inf / +inf, and a divisor interval containing 0 gives (−inf, inf).
   By induction over the formula, the final interval contains the exact real value of the loss for
   every point of the box: this is the fundamental theorem of interval arithmetic.
3. **The formula** evaluated in interval arithmetic is the loss's definition as torch computes it (including
   torch's −100 clamp of BCE's logs, weights, ignore_index, label smoothing, pos_weight), written next to the
   loss's steps in its own module and held by its spec (`LossSpec.enclosure`, an `IntervalFormula` made with
   `@interval_formula(method)`, or `no_enclosure(reason)` for a loss that has none). Where a function is
   monotone in each input — a fact proven in the comment of that loss — it is evaluated at two corners of
   the box (`monotone`), which gives the exact range (still rounded outward); elsewhere plain interval
   arithmetic gives a possibly wider but still sound interval. This module is the framework only: the
   arithmetic (`Iv`), the input box (`rounding_box`, `Box`), the reductions (`reduce_iv`), the building blocks
   several losses share (`log_softmax_iv`, `ClassTargets` with torch's ignore_index) and the driver `enclose`.
4. **A guard.** The enclosure must contain the trace's own value (up to the trace's float64 rounding,
   1e-9 relative). If it does not — a loss whose formula changed, an input converted in a way the formula
   does not know — the enclosure is reported as not established, and the checker then says so and never
   answers `rounding`. A loss whose spec has no enclosure gets none, for the same reason.
5. **Cost.** Every formula is vectorised torch over all elements (no Python loop over elements; the
   log-softmax range of all classes costs a few passes whatever C). An exact input (a point: one tensor
   for both bounds, as for inputs whose decimals are not known) is evaluated once per operation, a product
   with an exact tensor (labels, weights) takes two products instead of four, 0/1 labels pick their
   branch with `where` instead of multiplying both, and temporaries are rounded outward in place.
6. **A point box without interval arithmetic.** Above limits.DECIMALS_MAX_ELEMENTS elements the inputs' decimals are
   not read: the box is a point, and its enclosure only has to cover the float64 evaluation error of the trace's
   value v̂. A loss whose spec declares a proven a-priori bound E on that error (`IntervalFormula.point_error`, via
   `point_bound`: a reduction of terms ≥ 0, each computed within K·u·(A + t_i); KL's mixed-sign terms have a bound
   of their own) gets [v̂ − E, v̂ + E] with no pass of interval arithmetic (method POINT_METHOD); a loss without one,
   or inputs and parameters outside its proof's premises (weights, γ in (0, 1), ...), keeps its interval formula.
   The variants' enclosures (lossapp.variants.Case.run_interval) come through `enclose` too, and so take the same
   path.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import torch

from lossapp.i18n import Message, msg
from lossapp.inputs import TensorInput, limits
from lossapp.inputs.checks import all_binary
from lossapp.trace import extremes

F64 = torch.float64
U = 2.0 ** -53
TINY = 2.0 ** -1022  # the least normal float64: a rounding errs by ≤ u·(|x| + TINY), underflow included
_NEG_INF = torch.tensor(-math.inf, dtype=F64)
_POS_INF = torch.tensor(math.inf, dtype=F64)
INV_E = 1.0 / math.e
_SMALL_CLASSES = 64  # a sum over a contiguous last dimension at most this long runs as a matrix-vector product


class EnclosureUnavailable(Exception):  # internal: caught by enclose(), whose note gives the reason
    """This input falls outside what the loss's interval formula covers; `reason` is a Message."""

    def __init__(self, reason: Message) -> None:
        super().__init__(reason)
        self.reason = reason


def _outside(function: str) -> EnclosureUnavailable:
    return EnclosureUnavailable(msg("interval.outside_domain", function=function))


def _t(value: Any) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach().to(F64) if value.dtype != F64 else value.detach()
    return torch.as_tensor(value, dtype=F64)


def down(t: torch.Tensor, n: int = 1) -> torch.Tensor:
    """n floating-point steps toward −inf (a new tensor)."""
    return _down_(torch.nextafter(t, _NEG_INF), n - 1)


def up(t: torch.Tensor, n: int = 1) -> torch.Tensor:
    """n floating-point steps toward +inf (a new tensor)."""
    return _up_(torch.nextafter(t, _POS_INF), n - 1)


# The trailing-underscore helpers work in place, on a temporary this module has just made (never on a tensor it
# was given): a chain of fresh 8-byte-per-element temporaries costs more in page faults than in arithmetic.
def _down_(t: torch.Tensor, n: int = 1) -> torch.Tensor:
    for _ in range(n):
        torch.nextafter(t, _NEG_INF, out=t)
    return t


def _up_(t: torch.Tensor, n: int = 1) -> torch.Tensor:
    for _ in range(n):
        torch.nextafter(t, _POS_INF, out=t)
    return t


# Results known to be ≥ 0 (exp, sigmoid, softplus, x^g) are moved outward by at least `ulps` units in the last
# place in cheap passes instead of `ulps` nextafter passes: t·(1 ∓ 2·ulps·2⁻⁵²) moves a normal number by at least
# 2·ulps ulps (ulp(t) ≤ 2⁻⁵²·t) before the product's own rounding (≤ ½ ulp), and ∓ 2·ulps·2⁻¹⁰⁷⁴ covers the
# subnormals (whose ulp is 2⁻¹⁰⁷⁴). The lower bound is clipped to 0 from below and, as nextafter would move +inf
# (an overflow to +inf may stand for a finite number), from above; the upper bound may be +inf.
def _down_nonneg_(t: torch.Tensor, ulps: int) -> torch.Tensor:
    return t.mul_(1.0 - ulps * 2.0 ** -51).sub_(ulps * 2.0 ** -1073).clamp_(0.0, _steps_below_inf(ulps))


def _down_nonneg(t: torch.Tensor, ulps: int) -> torch.Tensor:
    """_down_nonneg_ into a new tensor (t unchanged): the same arithmetic, with no copy of t first."""
    return torch.mul(t, 1.0 - ulps * 2.0 ** -51).sub_(ulps * 2.0 ** -1073).clamp_(0.0, _steps_below_inf(ulps))


def _up_nonneg_(t: torch.Tensor, ulps: int) -> torch.Tensor:
    return t.mul_(1.0 + ulps * 2.0 ** -51).add_(ulps * 2.0 ** -1073)


def _ulps_step(t: torch.Tensor, ulps: int) -> tuple[torch.Tensor, bool]:
    """(2·ulps·(2⁻⁵²·|t| + 2⁻¹⁰⁷⁴) per entry, whether every step is finite): a finite sum of the steps (one cheap
    reduction) says that no entry of t is ±inf or NaN, so that no entry needs the infinite case (an overflowing sum
    only sends the caller to that case's slower path, which gives the same result)."""
    step = t.abs().mul_(2 * ulps * 2.0 ** -52).add_(2 * ulps * 2.0 ** -1074)
    return step, math.isfinite(float(step.sum()))


def _down_ulps_(t: torch.Tensor, ulps: int, step: tuple[torch.Tensor, bool] | None = None) -> torch.Tensor:
    """t moved at least `ulps` ulps toward −inf, whatever its sign, in a few vectorised passes (cheaper than
    `ulps` nextafter passes from 2 ulps on): t − 2·ulps·(2⁻⁵²·|t| + 2⁻¹⁰⁷⁴), where 2⁻⁵²·|t| bounds the ulp of every
    float within those few steps of t (and 2⁻¹⁰⁷⁴ that of a subnormal), twice over for the subtraction's own
    rounding; +inf becomes what `ulps` nextafter steps make it. `step`: _ulps_step(t, ulps) where the caller has it."""
    steps, finite = _ulps_step(t, ulps) if step is None else step
    if finite:
        return t.sub_(steps)
    top = t == math.inf
    return t.sub_(steps).masked_fill_(top, _steps_below_inf(ulps))


def _up_ulps_(t: torch.Tensor, ulps: int, step: tuple[torch.Tensor, bool] | None = None) -> torch.Tensor:
    """_down_ulps_ toward +inf (−inf becomes what `ulps` nextafter steps make it)."""
    steps, finite = _ulps_step(t, ulps) if step is None else step
    if finite:
        return t.add_(steps)
    bottom = t == -math.inf
    return t.add_(steps).masked_fill_(bottom, -_steps_below_inf(ulps))


def _around_ulps_(t: torch.Tensor, ulps: int) -> Iv:
    """Iv(_down_ulps_(t.clone(), ulps), _up_ulps_(t, ulps)) for a fresh t (a point's value), with the step formed
    once for both bounds: the same bounds, in fewer passes."""
    step = _ulps_step(t, ulps)
    steps, finite = step
    if finite:
        return Iv(t - steps, t.add_(steps))
    return Iv(_down_ulps_(t.clone(), ulps, step), _up_ulps_(t, ulps, step))


def _steps_below_inf(ulps: int) -> float:
    value = math.inf
    for _ in range(ulps):
        value = math.nextafter(value, 0.0)
    return value


def _no_nan_product_(t: torch.Tensor) -> torch.Tensor:
    """0 times an unbounded bound is 0 (an infinite bound stands for "unbounded", not for ∞)."""
    return t.nan_to_num_(nan=0.0, posinf=math.inf, neginf=-math.inf)


def _outward_(lo: torch.Tensor, hi: torch.Tensor) -> Iv:
    """Iv.outward on fresh bounds, in place."""
    return Iv(lo.nan_to_num_(nan=-math.inf, posinf=math.inf, neginf=-math.inf),
              hi.nan_to_num_(nan=math.inf, posinf=math.inf, neginf=-math.inf))


def _hull_(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor, d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(min, max) of four fresh tensors, element-wise, reusing their memory."""
    low_ab, low_cd = torch.minimum(a, b), torch.minimum(c, d)
    high_ab, high_cd = torch.maximum(a, b, out=a), torch.maximum(c, d, out=c)
    return torch.minimum(low_ab, low_cd, out=low_ab), torch.maximum(high_ab, high_cd, out=high_ab)


def _finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _plain_sum(t: torch.Tensor, dim: int | None) -> torch.Tensor:
    """Σ in floating point in some order (every order is covered by Iv.sum's error bound); a short contiguous
    last dimension (classes) is summed as a matrix-vector product, many times faster than torch's reduction."""
    if dim is None:
        return t.sum()
    if dim in (-1, t.dim() - 1) and t.dim() >= 2 and t.shape[-1] <= _SMALL_CLASSES and t.stride(-1) == 1:
        return t @ torch.ones(t.shape[-1], dtype=t.dtype)
    return t.sum(dim)


class Iv:
    """A tensor of intervals [lo, hi] (float64), with outward-rounded arithmetic. An exact value (a point) has
    one tensor for both bounds (`point`); operations on points evaluate once."""

    __slots__ = ("hi", "lo")

    def __init__(self, lo: Any, hi: Any = None) -> None:
        lo = _t(lo)
        hi = lo if hi is None else _t(hi)
        if hi is not lo and lo.shape != hi.shape:
            lo, hi = torch.broadcast_tensors(lo, hi)
        self.lo, self.hi = lo, hi

    @property
    def point(self) -> bool:
        return self.lo is self.hi

    @staticmethod
    def around(value: float, ulps: int) -> Iv:
        """value moved at least `ulps` ulps each way: the exact number a float64 computation with that much
        rounding error stands for."""
        return _around_ulps_(torch.tensor(value, dtype=F64), ulps)

    @staticmethod
    def outward(lo: torch.Tensor, hi: torch.Tensor) -> Iv:
        """An interval from bounds that may be NaN (inf − inf): NaN becomes −inf / +inf (still an enclosure)."""
        return Iv(torch.nan_to_num(lo, nan=-math.inf, posinf=math.inf, neginf=-math.inf),
                  torch.nan_to_num(hi, nan=math.inf, posinf=math.inf, neginf=-math.inf))

    # -- construction and shape -------------------------------------------------------------------
    @staticmethod
    def of(value: Any) -> Iv:
        return value if isinstance(value, Iv) else Iv(value)

    @property
    def shape(self) -> torch.Size:
        return self.lo.shape

    def _map(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> Iv:
        """An exact, non-decreasing map of both bounds (a view, a gather, a clamp)."""
        return Iv(fn(self.lo)) if self.point else Iv(fn(self.lo), fn(self.hi))

    def __getitem__(self, index: Any) -> Iv:
        return self._map(lambda t: t[index])

    def reshape(self, *shape: Any) -> Iv:
        return self._map(lambda t: t.reshape(*shape))

    def movedim(self, a: int, b: int) -> Iv:
        return self._map(lambda t: t.movedim(a, b))

    def unsqueeze(self, dim: int) -> Iv:
        return self._map(lambda t: t.unsqueeze(dim))

    def gather(self, dim: int, index: torch.Tensor) -> Iv:
        return self._map(lambda t: t.gather(dim, index))

    def item(self) -> tuple[float, float]:
        return float(self.lo.reshape(-1)[0]), float(self.hi.reshape(-1)[0])

    def __repr__(self) -> str:
        return f"Iv(lo={self.lo.tolist()}, hi={self.hi.tolist()})"

    # -- arithmetic ---------------------------------------------------------------------------------
    def __neg__(self) -> Iv:
        return Iv(-self.lo) if self.point else Iv(-self.hi, -self.lo)

    def __add__(self, other: Any) -> Iv:
        if _finite_number(other) and other == 0:  # x + 0 is x exactly (−0 + 0 is 0, the same number)
            return self
        if _finite_number(other) and not self.point:  # a finite number cannot make inf − inf: no NaN to clear
            return Iv(_down_(self.lo + other), _up_(self.hi + other))
        o = Iv.of(other)
        if self.point and o.point:
            total = self.lo + o.lo
            return _outward_(down(total), _up_(total))
        return _outward_(_down_(self.lo + o.lo), _up_(self.hi + o.hi))

    __radd__ = __add__

    def __sub__(self, other: Any) -> Iv:
        if _finite_number(other) and other == 0:  # x − 0 is x exactly
            return self
        if _finite_number(other) and not self.point:
            return Iv(_down_(self.lo - other), _up_(self.hi - other))
        o = Iv.of(other)
        if self.point and o.point:
            difference = self.lo - o.lo
            return _outward_(down(difference), _up_(difference))
        return _outward_(_down_(self.lo - o.hi), _up_(self.hi - o.lo))

    def __rsub__(self, other: Any) -> Iv:
        return Iv.of(other) - self

    def __mul__(self, other: Any) -> Iv:
        if _finite_number(other):
            return self._scaled(float(other))
        o = Iv.of(other)
        if o.point:
            return self._times_exact(o.lo)
        if self.point:
            return o._times_exact(self.lo)
        if bool(self.lo.min() >= 0) and bool(o.lo.min() >= 0):  # both ≥ 0 (most factors of a loss): two corners
            return Iv(_down_(_no_nan_product_(self.lo * o.lo)), _up_(_no_nan_product_(self.hi * o.hi)))
        lo, hi = _hull_(*(_no_nan_product_(a * b) for a in (self.lo, self.hi) for b in (o.lo, o.hi)))
        return Iv(_down_(lo), _up_(hi))

    __rmul__ = __mul__

    def _scaled(self, c: float) -> Iv:
        """Times an exact finite number (±1: x itself or its exact negation, no rounding)."""
        if c == 0:
            return Iv(torch.zeros_like(self.lo))
        if c in (1.0, -1.0):
            return self if c > 0 else -self
        if self.point:
            product = self.lo * c
            return Iv(down(product), _up_(product))
        a, b = self.lo * c, self.hi * c
        return Iv(_down_(a), _up_(b)) if c > 0 else Iv(_down_(b), _up_(a))

    def _times_exact(self, b: torch.Tensor) -> Iv:
        """Times an exact tensor (labels, weights, masks): two products instead of four."""
        if self.point:
            product = _no_nan_product_(self.lo * b)
            return Iv(down(product), _up_(product))
        p, q = _no_nan_product_(self.lo * b), _no_nan_product_(self.hi * b)
        low = torch.minimum(p, q)
        return Iv(_down_(low), _up_(torch.maximum(p, q, out=p)))

    def __truediv__(self, other: Any) -> Iv:
        if _finite_number(other) and other != 0:
            c = float(other)
            if c in (1.0, -1.0):  # x itself or its exact negation
                return self if c > 0 else -self
            a, b = self.lo / c, self.hi / c
            return Iv(_down_(a), _up_(b)) if c > 0 else Iv(_down_(b), _up_(a))
        o = Iv.of(other)
        zero = (o.lo <= 0) & (o.hi >= 0)
        lo, hi = _hull_(*(a / b for a in (self.lo, self.hi) for b in (o.lo, o.hi)))
        lo = torch.where(zero | torch.isnan(lo), _NEG_INF, _down_(lo))
        hi = torch.where(zero | torch.isnan(hi), _POS_INF, _up_(hi))
        return Iv(lo, hi)

    def __rtruediv__(self, other: Any) -> Iv:
        return Iv.of(other) / self

    # -- elementary functions (monotone ones are evaluated at the bounds) ---------------------------
    def increasing(self, fn: Callable[[torch.Tensor], torch.Tensor], ulps: int, *, nonneg: bool = False) -> Iv:
        """fn over the interval, for a non-decreasing fn (of a float64 tensor, returning a new tensor) whose float64
        result lies within `ulps` units in the last place of its exact value (the caller proves both in a comment):
        fn at the bounds (once for a point), rounded `ulps` ulps outward. nonneg: fn ≥ 0 (a cheaper rounding, which
        also covers an underflow to a subnormal or to 0). One pass of fn instead of one per elementary operation."""
        hi_value = fn(self.hi)
        if self.point:  # one value for both bounds
            if nonneg:
                return Iv(_down_nonneg(hi_value, ulps), _up_nonneg_(hi_value, ulps))
            return _around_ulps_(hi_value, ulps)
        lo_value = fn(self.lo)
        if nonneg:
            return Iv(_down_nonneg_(lo_value, ulps), _up_nonneg_(hi_value, ulps))
        return Iv(_down_ulps_(lo_value, ulps), _up_ulps_(hi_value, ulps))

    def abs(self) -> Iv:
        if self.point:
            return Iv(self.lo.abs())
        if bool(self.lo.min() >= 0):
            return self
        # the smallest |x| is lo (lo ≥ 0), −hi (hi ≤ 0) or 0; the largest is max(−lo, hi)
        low, high = self.hi.neg(), self.lo.neg()
        return Iv(torch.maximum(self.lo, low, out=low).clamp_min_(0), torch.maximum(high, self.hi, out=high))

    def sqr(self) -> Iv:
        """x² (≥ 0, increasing in |x|; the product is correctly rounded: 1 ulp each way suffices). A point needs no |x|
        (x·x is |x|·|x| bit for bit)."""
        return (self if self.point else self.abs()).increasing(lambda t: t * t, 1, nonneg=True)

    def sqrt(self) -> Iv:
        if bool((self.lo < 0).any()):
            raise _outside("√x")
        return self.increasing(torch.sqrt, 1, nonneg=True)

    def exp(self) -> Iv:
        return self.increasing(torch.exp, 4, nonneg=True)

    def log(self) -> Iv:
        if bool((self.lo < 0).any()):
            raise _outside("log x")
        return self.increasing(torch.log, 4)

    def log1p(self) -> Iv:
        if bool((self.lo < -1).any()):
            raise _outside("log(1 + x)")
        return self.increasing(torch.log1p, 4)

    def softplus(self) -> Iv:
        """log(1 + e^x), increasing; computed as max(x, 0) + log1p(e^−|x|) (both terms ≥ 0)."""
        return self.increasing(lambda t: torch.log1p(torch.exp(-t.abs())).add_(t.clamp_min(0)), 8, nonneg=True)

    def sigmoid(self) -> Iv:
        out = self.increasing(torch.sigmoid, 8, nonneg=True)
        return Iv(out.lo, out.hi.clamp_max_(1.0))

    def pow(self, g: float) -> Iv:
        """x^g for x ≥ 0 and a fixed g ≥ 0 (increasing in x)."""
        if g < 0 or bool((self.lo < 0).any()):
            raise _outside(f"x^{g:g}")
        if g == 0:
            return Iv(torch.ones(self.shape, dtype=F64))
        return self.increasing(lambda t: torch.pow(t, g), 4, nonneg=True)

    def xlogx(self) -> Iv:
        """x·log x with 0·log 0 = 0 (torch.xlogy(x, x)), for x ≥ 0: convex with its minimum −1/e at 1/e."""
        if bool((self.lo < 0).any()):
            raise _outside("x·log x")
        if self.point:
            return _around_ulps_(torch.xlogy(self.lo, self.lo), 4)
        f_lo, f_hi = torch.xlogy(self.lo, self.lo), torch.xlogy(self.hi, self.hi)
        inside = (self.lo <= INV_E) & (self.hi >= INV_E)
        lo = torch.where(inside, -INV_E, torch.minimum(f_lo, f_hi))
        return Iv(_down_ulps_(lo, 4), _up_ulps_(torch.maximum(f_lo, f_hi, out=f_lo), 4))

    def clamp(self, low: float | None = None, high: float | None = None) -> Iv:
        """min(max(x, low), high): monotone, exact (and x itself when it lies within already)."""
        if high is None and low is not None and bool(self.lo.min() >= low):
            return self
        if low is None and high is not None and bool(self.hi.max() <= high):
            return self
        return self._map(lambda t: t.clamp(low, high))

    def maximum(self, other: Any) -> Iv:
        o = Iv.of(other)
        if self.point and o.point:
            return Iv(torch.maximum(self.lo, o.lo))
        return Iv(torch.maximum(self.lo, o.lo), torch.maximum(self.hi, o.hi))

    def minimum(self, other: Any) -> Iv:
        o = Iv.of(other)
        if self.point and o.point:
            return Iv(torch.minimum(self.lo, o.lo))
        return Iv(torch.minimum(self.lo, o.lo), torch.minimum(self.hi, o.hi))

    def relu(self) -> Iv:
        return self.maximum(0.0)

    # -- reductions -----------------------------------------------------------------------------------
    def sum(self, dim: int | None = None) -> Iv:
        lo, hi = self.lo, self.hi
        n = lo.numel() if dim is None else lo.shape[dim]
        if n == 0:
            z = lo.sum() if dim is None else lo.sum(dim)
            return Iv(z)
        k = 2.0 * (n + 1) * U
        s_lo = _plain_sum(lo, dim)
        s_hi = s_lo if self.point else _plain_sum(hi, dim)
        if bool(lo.min() >= 0):  # terms ≥ 0 (most losses'): Σ|x| is the sum itself, no pass for |x|
            a_lo, a_hi = s_lo, s_hi
        else:
            a_lo = _plain_sum(lo.abs(), dim)
            a_hi = a_lo if self.point else _plain_sum(hi.abs(), dim)
        return _outward_(_down_(s_lo - k * a_lo, 2), _up_(s_hi + k * a_hi, 2))

    def mean(self) -> Iv:
        return self.sum() / float(max(1, math.prod(self.shape)))


def select_bits(mask: torch.Tensor, a: torch.Tensor, b: torch.Tensor, ones: torch.Tensor | None = None) -> torch.Tensor:
    """torch.where(mask, a, b) for float64 tensors (broadcast as torch.where broadcasts them), bit for bit (NaN, ±inf
    and −0.0 included): b ^ ((a ^ b) & m) on their int64 bits, with m all ones where mask holds and 0 elsewhere. The
    bitwise passes are vectorised; torch.where's CPU kernel is not, and costs several times more on a large tensor.
    `ones`: mask_bits(mask) where the caller has it (several selections by one mask)."""
    if a.dtype != F64 or b.dtype != F64 or mask.dtype != torch.bool:
        return torch.where(mask, a, b)
    bits_b = b.view(torch.int64)
    ones = mask_bits(mask) if ones is None else ones
    differ = torch.bitwise_xor(a.view(torch.int64), bits_b)
    chosen = differ.bitwise_and_(ones) if differ.shape == ones.shape else torch.bitwise_and(differ, ones)
    return chosen.bitwise_xor_(bits_b).view(F64)


def mask_bits(mask: torch.Tensor) -> torch.Tensor:
    """A bool mask as int64 words of all ones (True) or zeros (False), for select_bits."""
    return mask.to(torch.int64).neg_()


def where(mask: torch.Tensor, a: Any, b: Any) -> Iv:
    """Element-wise choice by an exact mask."""
    a, b = Iv.of(a), Iv.of(b)
    ones = mask_bits(mask)
    if a.point and b.point:
        return Iv(select_bits(mask, a.lo, b.lo, ones))
    return Iv(select_bits(mask, a.lo, b.lo, ones), select_bits(mask, a.hi, b.hi, ones))


def hull(a: Iv, b: Iv) -> Iv:
    return Iv(torch.minimum(a.lo, b.lo), torch.maximum(a.hi, b.hi))


Signs = torch.Tensor | float | Callable[[], torch.Tensor]


def monotone(fn: Callable[[Iv], Iv], box: Iv, signs: Signs) -> Iv:
    """Range of fn over the box when fn is non-decreasing in every entry with sign +1 and non-increasing
    in every entry with sign −1 (entries with sign 0 are exact): fn at the low corner to fn at the high
    corner, each evaluated in interval arithmetic (so rounded outward). The caller proves monotonicity.
    A point box has one corner: fn is evaluated once. `signs` may be a function making them, called only for a
    box that is not a point (an input whose decimals are not known needs no signs, nor their passes)."""
    return from_corners([fn(corner) for corner in corners(box, signs)])


def corners(box: Iv, signs: Signs) -> list[Iv]:
    """The corners `monotone` evaluates fn at: [the low corner, the high corner], or [box] for a point box."""
    if box.point:
        return [box]
    increasing = _t(signs() if callable(signs) else signs) >= 0
    ones = mask_bits(increasing)
    return [Iv(select_bits(increasing, box.lo, box.hi, ones)), Iv(select_bits(increasing, box.hi, box.lo, ones))]


def from_corners(values: list[Iv]) -> Iv:
    """The range `monotone` forms from fn at `corners`: the low corner's lower bound to the high corner's upper
    bound (fn itself at a point box's one corner)."""
    return values[0] if len(values) == 1 else Iv(values[0].lo, values[1].hi)


def monotone_scalar(fn: Callable[[Iv], Iv], x: Iv, increasing: bool = True) -> Iv:
    """Element-wise: fn monotone in its single argument (applied element by element)."""
    if x.point:
        return fn(x)
    a, b = (x.lo, x.hi) if increasing else (x.hi, x.lo)
    return Iv(fn(Iv(a)).lo, fn(Iv(b)).hi)


def abs_difference(x: Iv, y: Iv) -> Iv:
    """|x − y|, its exact range rounded outward (two points: the difference is correctly rounded, so half an ulp
    from the exact |x − y|, and one step each way covers it)."""
    if x.point and y.point:
        a = (x.lo - y.lo).abs_()
        return Iv(_down_nonneg(a, 1), _up_nonneg_(a, 1))
    return (x - y).abs()


# -- the input box ----------------------------------------------------------------------------------

_HALF_UNITS = np.concatenate([[0.0], 0.5 * np.power(10.0, -np.arange(331, dtype=np.float64))])  # by decimals + 1


def rounding_box(values: torch.Tensor, decimals: np.ndarray | None, *, exact: bool = False,
                 low: float | None = None, high: float | None = None) -> Iv:
    """Every real number each entry can stand for: ±½ unit of its last written decimal, clipped to
    [low, high]. Integers (decimals −1), unknown decimals (tensors built in Python: their values are
    taken as given) and `exact=True` give a point."""
    x = _t(values)
    if exact or decimals is None or not x.is_floating_point():
        return Iv(x)
    d = np.asarray(decimals)
    if d.shape != tuple(x.shape):
        raise EnclosureUnavailable(msg("interval.reshaped"))
    fewest, most = (int(d.min()), int(d.max())) if d.size else (-1, -1)
    if most < 0:  # every entry an integer: exact
        return Iv(x if low is None and high is None else x.clamp(low, high))
    exact_entries = None
    if fewest == most:  # the usual case, one number of decimals for every entry: h is one number
        h: torch.Tensor | float = float(_HALF_UNITS[min(most, 330) + 1])
    else:
        h = torch.from_numpy(np.asarray(_HALF_UNITS[np.clip(d, -1, 330) + 1]))
        exact_entries = h == 0 if fewest < 0 else None
    margin = x.abs().clamp_min_(h).mul_(1e-15)  # ≥ 4.5 ulp of the larger of |x| and h
    lo, hi = _down_((x - h).sub_(margin)), _up_((x + h).add_(margin))
    if exact_entries is not None:
        lo, hi = torch.where(exact_entries, x, lo), torch.where(exact_entries, x, hi)
    if low is not None:
        lo.clamp_min_(low), hi.clamp_min_(low)
    if high is not None:
        lo.clamp_max_(high), hi.clamp_max_(high)
    return Iv(lo, hi)


def is_label_like(t: torch.Tensor | None) -> bool:
    """Class indices, or targets that are all 0 and 1: labels, not rounded measurements."""
    if t is None:
        return True
    if not t.is_floating_point():
        return True
    return all_binary(t)


def target_is_exact(target_kind: str | None, t: torch.Tensor | None) -> bool:
    """Whether a target is exact (labels) rather than rounded: class indices, or 0/1 labels of a loss whose
    targets are labels (a regression target written 1.0 is a measurement and keeps its rounding)."""
    if t is None or not t.is_floating_point():
        return True
    return target_kind != "values" and is_label_like(t)


# -- reductions in interval arithmetic (mirror lossapp.reduction.reduce) ------------------------------

def reduce_iv(terms: Iv, reduction: str, *, denominator: torch.Tensor | None = None,
              avg_factor: float | None = None) -> Iv:
    if reduction == "none":
        return terms
    return reduce_total_iv(terms.sum(), terms.shape, reduction, denominator=denominator, avg_factor=avg_factor)


def reduce_total_iv(total: Iv, shape: tuple[int, ...] | torch.Size, reduction: str, *,
                    denominator: torch.Tensor | None = None, avg_factor: float | None = None) -> Iv:
    """reduce_iv of terms of this shape whose sum's enclosure is `total` (a sum made once for several reductions
    or losses); not for reduction none."""
    if reduction == "sum":
        return total
    if reduction == "mean":
        if avg_factor is not None:
            return total / float(avg_factor)
        if denominator is not None:
            return total / Iv(_t(denominator)).sum()
        return total / float(max(1, math.prod(shape))) if math.prod(shape) else total / 0.0
    if reduction == "batchmean":
        n = shape[0] if len(shape) > 0 else 1
        return total / float(n)
    raise EnclosureUnavailable(msg("interval.reduction", reduction=reduction))



# -- the log-softmax range (cross-entropy, softmax focal, overlap losses with softmax) -----------------------

def _row_sum_bound(t: torch.Tensor, upper: bool) -> torch.Tensor:
    """A bound of the sum over the last dim of t ≥ 0 (Iv.sum's error bound, with Σ|x| the sum itself)."""
    total = _plain_sum(t, -1)
    k = 2.0 * (t.shape[-1] + 1) * U
    return _up_(total.mul_(1 + k), 2) if upper else _down_(total.mul_(1 - k), 2).clamp_min_(0)


def log_softmax_iv(z: Iv, dim: int = -1, index: torch.Tensor | None = None) -> Iv:
    """log softmax_c(z) = −log(1 + Σ_{j≠c} exp(z_j − z_c)): non-decreasing in z_c and non-increasing in every
    other z_j, so its range over a box is reached at the corner (z_c low, others high) and the opposite one.

    Every class at once: with the shift m (the row's largest upper end; it cancels exactly, and keeps the
    dominant class's log p precise), the row sums S⁺ = Σ_j e^(z_j^hi − m) and S⁻ = Σ_j e^(z_j^lo − m) are
    enclosed once, and the corner sums are S⁺ − e^(z_c^hi − m) + e^(z_c^lo − m) (bounded above) and
    S⁻ − e^(z_c^lo − m) + e^(z_c^hi − m) (bounded below, and by its own last term); z_c − m − log of them is the
    exact range, rounded outward. With `index` (a class per row of the last dim) only that class's range is
    formed."""
    if dim != -1:
        z = z.movedim(dim, -1)
    m = z.hi.amax(-1, keepdim=True)
    m = torch.where(torch.isinf(m), torch.zeros_like(m), m)
    e_hi = (Iv(z.hi) - m).exp()
    e_lo = e_hi if z.point else (Iv(z.lo) - m).exp()
    s_hi = _row_sum_bound(e_hi.hi, upper=True).unsqueeze(-1)
    s_lo = _row_sum_bound(e_lo.lo, upper=False).unsqueeze(-1)
    parts = [z.lo, z.hi, e_hi.lo, e_lo.hi]
    if index is not None:
        at = index.unsqueeze(-1)
        picked = {id(t): t.expand(*index.shape, t.shape[-1]).gather(-1, at) for t in parts}  # a point once
        parts = [picked[id(t)] for t in parts]
    z_lo, z_hi, e_hi_lo, e_lo_hi = parts
    above = _up_(_up_(s_hi - e_hi_lo) + e_lo_hi)  # ≥ Σ_{j≠c} e^(z_j^hi − m) + e^(z_c^lo − m)
    # ≤ Σ_{j≠c} e^(z_j^lo − m) + e^(z_c^hi − m)
    below = torch.maximum(_down_(_down_(s_lo - e_lo_hi) + e_hi_lo), e_hi_lo)
    lower = _down_(_down_(z_lo - m) - _up_ulps_(torch.log(above), 4))
    upper = _up_(_up_(z_hi - m) - _down_ulps_(torch.log(below), 4))
    out = _outward_(lower, upper)
    if index is not None:
        return out.reshape(*index.shape)
    return out.movedim(-1, dim) if dim != -1 else out


# -- class-index targets (cross-entropy, NLL, softmax focal) --------------------------------------------------

def class_layout(x: Iv, target: torch.Tensor) -> tuple[Iv, torch.Tensor, bool]:
    """The class dimension moved last: (C,) -> (1, C); (N, C, d...) -> (N, d..., C); a target of class
    probabilities (the shape of x) moves with it. The bool says pred was one sample (C,)."""
    if len(x.shape) == 1:
        return x.unsqueeze(0), target.unsqueeze(0), True
    x = x.movedim(1, -1)
    if target.is_floating_point() and target.dim() == len(x.shape):
        target = target.movedim(1, -1)
    return x, target, False


@dataclass
class ClassTargets:
    """Class-index targets next to their class-last scores, with torch's ignore_index: an ignored sample is
    left out of the sum and of the mean's count."""

    x: Iv  # the scores, class dimension last (class_layout)
    index: torch.Tensor  # each sample's class, 0 where ignored (so that every sample can be gathered)
    counted: torch.Tensor  # 1.0 where the sample counts, 0.0 where its target is ignore_index
    single: bool  # pred was one sample (C,): its unreduced loss is 0-d

    @staticmethod
    def of(x: Iv, target: torch.Tensor, ignore_index: int) -> ClassTargets:
        x, target, single = class_layout(x, target)
        index = target.long()
        counted = index != ignore_index
        return ClassTargets(x, torch.where(counted, index, torch.zeros_like(index)), counted.to(F64), single)

    def picked(self, v: Iv) -> Iv:
        """Each sample's entry of its own class (class dimension last)."""
        return v.gather(-1, self.index.unsqueeze(-1)).reshape(*self.index.shape)

    def weight(self, per_class: torch.Tensor | None) -> torch.Tensor:
        """w_{y_n} (1 without weights), 0 for an ignored sample: the terms' factor and the mean's denominator."""
        w = per_class[self.index] if per_class is not None else torch.ones(self.index.shape, dtype=F64)
        return w * self.counted

    def unreduced(self, terms: Iv, reduction: str) -> Iv:
        """The per-sample terms in the shape of the loss's own unreduced value (0-d for one sample)."""
        return terms[0] if self.single and reduction == "none" else terms


# -- what a loss's enclosure sees, and how a spec declares its enclosure ----------------------------------------

@dataclass
class Box:
    """What a loss's enclosure sees: its inputs (as the trace got them) with their decimals, the effective params,
    the reduction, the target's kind (LossSpec.target_kind) and the trace's value."""

    pred: torch.Tensor | None
    target: torch.Tensor | None
    pred_decimals: np.ndarray | None
    target_decimals: np.ndarray | None
    params: dict[str, Any]
    reduction: str
    target_kind: str | None = None
    value: float = math.nan
    memo: dict[Any, Any] | None = field(default=None, repr=False, compare=False)

    def shared(self, key: Any, make: Callable[[], Any]) -> Any:
        """make(), once for every box with this box's `memo` (one Case's enclosures: the correct value's and its
        variants') and the same inputs: the entry is keyed by `key` (which must name everything else the made value
        depends on: the parameters it reads) and by the identity of the box's inputs and decimals, which the memo
        holds (so that no other tensor can take their ids). Without a memo, make() every time."""
        if self.memo is None:
            return make()
        inputs = (self.pred, self.target, self.pred_decimals, self.target_decimals)
        full = (key, self.target_kind, *(id(v) for v in inputs))
        if full not in self.memo:
            self.memo[full] = (inputs, make())
        return self.memo[full][1]

    def pred_box(self, low: float | None = None, high: float | None = None) -> Iv:
        return rounding_box(self.pred, self.pred_decimals, low=low, high=high)

    def target_box(self, low: float | None = None, high: float | None = None) -> Iv:
        return rounding_box(self.require_target(), self.target_decimals, exact=self.target_exact, low=low, high=high)

    def require_target(self) -> torch.Tensor:
        if self.target is None:
            raise EnclosureUnavailable(msg("interval.no_target"))
        return self.target

    @property
    def target_exact(self) -> bool:
        """target_is_exact(target_kind, target), with the labels test made once per box."""
        t = self.target
        return t is None or not t.is_floating_point() or (self.target_kind != "values" and self.labels)

    @cached_property
    def labels(self) -> bool:
        """The target is class indices or 0/1 labels (is_label_like), found once per box (once per memo)."""
        return self.shared("labels", lambda: is_label_like(self.target))

    def part(self, pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
             target_kind: str | None) -> Box:
        """The box of a part of a combined loss, given the inputs as the part's own prepare converted them: a
        converted input keeps its decimals when its shape is unchanged (a class-index target is exact anyway)."""
        def decimals(new: torch.Tensor | None, old: torch.Tensor | None, d: np.ndarray | None) -> np.ndarray | None:
            same = new is not None and old is not None and tuple(new.shape) == tuple(old.shape)
            return d if same else None
        return Box(pred, target, decimals(pred, self.pred, self.pred_decimals),
                   decimals(target, self.target, self.target_decimals), params, self.reduction, target_kind,
                   self.value, self.memo)


EnclosureFunction = Callable[[Box], Iv]


@dataclass(frozen=True)
class IntervalFormula:
    """A loss's rounding enclosure, as its spec holds it (`LossSpec.enclosure`): `evaluate(box)` is the loss's
    formula in outward-rounded interval arithmetic over the box, reduced as the loss reduces; `method` says how
    the interval is formed (reported with the verdict). A loss without one declares it with `no_enclosure(reason)`
    (`evaluate` None, `method` the reason, a Message of the loss's catalog table)."""

    evaluate: EnclosureFunction | None
    method: str
    # a proven float64 error bound for a point box (see point_bound); its box holds the inputs as given (not float64)
    point_error: PointError | None = None
    # the formula reads pred as given (any floating dtype) and widens only the entries it reads (nll: each sample's own
    # class): `enclose` then passes the user's narrower tensor instead of a float64 copy of every element
    narrow_pred: bool = False


def interval_formula(method: str, point_error: PointError | None = None, *,
                     narrow_pred: bool = False) -> Callable[[EnclosureFunction], IntervalFormula]:
    """Decorate a loss's enclosure function (Box -> Iv, written next to its steps) into its spec's enclosure;
    `point_error`: the loss's a-priori float64 error bound for a point box (`point_bound`), where it has one;
    `narrow_pred`: the function widens the entries of pred it reads itself (IntervalFormula.narrow_pred)."""
    def wrap(evaluate: EnclosureFunction) -> IntervalFormula:
        return IntervalFormula(evaluate, method, point_error, narrow_pred)
    return wrap


# -- a point box: the float64 evaluation's error, bounded a priori ------------------------------------------
#
# Where no input varies (decimals unknown, as above limits.DECIMALS_MAX_ELEMENTS elements, or integers and labels
# only), the box is one point and its enclosure only has to cover the float64 evaluation error of the trace's own
# value. A loss may declare an a-priori bound on that error (`IntervalFormula.point_error`), proven next to its
# steps; `enclose` then gives [v − E, v + E] without interval arithmetic, and uses the interval formula otherwise.

PointBound = tuple[float, float]  # (c0, c1): |v̂ − v| ≤ c0 + c1·|v̂| for the computed value v̂ and the exact v
PointError = Callable[["Box"], PointBound | None]
POINT_METHOD = "a-priori bound on the float64 evaluation error (every input exact: the rounding box is one point)"
POINT_MARGIN = 8  # roundings per term allowed beyond a loss's own K: the variants' values of the same terms


def is_point(box: Box) -> bool:
    """Whether the box is one point: pred's decimals unknown or every entry an integer (rounding_box gives a point),
    and the target likewise or exact (labels)."""
    def exact(d: np.ndarray | None) -> bool:
        return d is None or d.size == 0 or int(d.max()) < 0
    return exact(box.pred_decimals) and (box.target is None or exact(box.target_decimals) or box.target_exact)


def uses_point_bound(box: Box) -> bool:
    """A point box of more than limits.DECIMALS_MAX_ELEMENTS elements (where the inputs' decimals are not read): its
    enclosure is the loss's point bound. Below it interval arithmetic is cheap and its interval tighter, and is kept."""
    return box.pred is not None and box.pred.numel() > limits.DECIMALS_MAX_ELEMENTS and is_point(box)


def point_bound(k: float, a: float, n: int, per_den: float) -> PointBound | None:
    """The error bound of a reduction of n terms: v = (Σ_{i=1}^{n} t_i)/D (D = 1 for sum, an exact count or avg_factor
    for mean; `per_den` = n/D), computed as fl(fl(Σ t̂_i)/D), where every exact term t_i ≥ 0 and every computed one has
    |t̂_i − t_i| ≤ K·u·(A + t_i) (u = 2⁻⁵³; A ≥ 0 an absolute floor). With K' = K + POINT_MARGIN it returns
    (4K'u·A·n/D, 4(K' + n + 1)u): |v̂ − v| ≤ 4K'u·A·n/D + 4(K' + n + 1)u·|v̂|, provided (K' + n + 1)·u ≤ 1/8 (else None).

    Proof. S = Σ t_i, Ŝ its float sum, ρ = K'u ≤ 1/8. A float sum of n terms in any order errs by at most
    γ·Σ|t̂_i|, γ = γ_{n−1} = (n − 1)u/(1 − (n − 1)u) ≤ (4/3)·nu ≤ 1/6 (Higham, Accuracy and Stability, §4.2), and
    Σ|t̂_i| ≤ S + ρ(An + S), so |Ŝ − S| ≤ ρ(1 + γ)·An + σ·S with ρ(1 + γ) ≤ (7/6)ρ and
    σ = ρ(1 + γ) + γ ≤ (3/2)(K' + n)u ≤ 1/4. Then S ≤ |Ŝ| + (7/6)ρAn + σS gives S ≤ (4/3)(|Ŝ| + (7/6)ρAn), and
    |Ŝ − S| ≤ (7/6)ρAn·(1 + (4/3)σ) + (4/3)σ|Ŝ| ≤ (14/9)ρ·An + 2(K' + n)u·|Ŝ|. The division by the exact D rounds
    once: v̂ = (Ŝ/D)(1 + δ), |δ| ≤ u, so |Ŝ|/D ≤ |v̂|/(1 − u) and
    |v̂ − S/D| ≤ |Ŝ − S|/D + u|Ŝ|/D ≤ 2ρ·An/D + 2(K' + n + 1)u·|v̂|: half of what is returned (the other half covers
    the float evaluation of the bound itself). The margin POINT_MARGIN lets the premise hold for the variants' values
    of the same terms too (lossapp.variants: the problem's own terms rescaled by once-rounded factors, summed in
    another order, or divided by another exact count), each of which adds at most that many roundings to a term."""
    k = k + POINT_MARGIN
    if not (math.isfinite(k) and math.isfinite(a) and math.isfinite(per_den)) or k < 0 or a < 0 or per_den < 0 \
            or (k + n + 1) * U > 0.125:
        return None
    return 4 * k * U * a * per_den, 4 * (k + n + 1) * U


def point_error_value(value: float, bound: PointBound) -> float:
    """c0 + c1·|value|, rounded up (three float operations on non-negative numbers: relative error ≤ 4u, covered
    by the factor 1 + 2⁻⁴⁰)."""
    return (bound[0] + bound[1] * abs(value)) * (1 + 2.0 ** -40)


def sum_parts_bound(parts: list[tuple[float, PointBound]]) -> PointBound | None:
    """The bound of v = Σ_k λ_k·v_k (λ_k ≥ 0 exact, every exact part v_k ≥ 0, the parts computed with the bounds
    (c0_k, c1_k), the products and the sum in float64): (2·Σ λ_k·c0_k, 2·max c1_k + 8u), provided
    max c1_k + 3u ≤ 1/8 (else None).

    Proof (two or three parts). With W = Σ λ_k|v̂_k|, the products and sums err by ≤ 3u·W, so |v̂ − v| ≤ Σλ_k c0_k + (c1 + 3u)·W,
    c1 = max c1_k. A part computed below 0 has −v̂_k ≤ c0_k + c1_k|v̂_k| (as v_k ≥ 0), so −v̂_k ≤ 2c0_k and
    W ≤ Σλ_k v̂_k + 4Σλ_k c0_k ≤ |v̂| + 3uW + 4Σλ_k c0_k, W ≤ 2(|v̂| + 4Σλ_k c0_k); then
    |v̂ − v| ≤ (1 + 8(c1 + 3u))·Σλ_k c0_k + 2(c1 + 3u)|v̂| ≤ 2Σλ_k c0_k + (2c1 + 6u)|v̂|."""
    if any(lam < 0 or not math.isfinite(lam) for lam, _ in parts):
        return None
    c1 = max(b[1] for _, b in parts)
    if c1 + 3 * U > 0.125:
        return None
    return 2 * sum(lam * b[0] for lam, b in parts), 2 * c1 + 8 * U


def reduction_per_den(reduction: str, shape: tuple[int, ...] | torch.Size) -> float | None:
    """n/D for a reduction of the terms of this shape as lossapp.reduction.reduce divides them without weights or
    avg_factor (sum: D = 1; mean: D = n; batchmean: D = the first dimension); None for another reduction."""
    n = math.prod(shape)
    if reduction == "sum":
        return float(n)
    if reduction == "mean":
        return 1.0 if n else None
    if reduction == "batchmean":
        return float(n) / float(shape[0] if len(shape) else 1) if n else None
    return None


def value_range(box: Box, which: str = "pred") -> tuple[float, float] | None:
    """(min, max) of the box's pred (or target) (lossapp.trace.extremes), shared by the point bounds of one problem
    (Box.shared); None for an empty tensor or one with a NaN."""
    t = box.pred if which == "pred" else box.target
    if t is None or t.numel() == 0:
        return None

    def make() -> tuple[float, float] | None:
        lo, hi = extremes(t)  # (its way, two passes: see lossapp.trace.tensor_extremes)
        return None if math.isnan(lo) or math.isnan(hi) else (lo, hi)
    return box.shared(("point_range", which), make)


def no_enclosure(reason: str) -> IntervalFormula:
    """The enclosure of a loss that has none: claims about it are never judged `rounding`, and the verdict says
    why."""
    return IntervalFormula(None, reason)


def tensor_param(value: Any) -> torch.Tensor | None:
    """A tensor-valued parameter (a weight vector) in float64, or None when it is off."""
    return None if value is None else _t(value)


# -- entry point -------------------------------------------------------------------------------------

@dataclass
class Enclosure:
    """The interval the loss can take over the inputs' rounding box, and whether that is established."""

    lo: float | None
    hi: float | None
    sound: bool
    method: str
    note: str = ""
    point: bool = False  # every input exact: the interval only covers float rounding

    @property
    def interval(self) -> list[float] | None:
        return [self.lo, self.hi] if self.sound and self.lo is not None else None


NOT_ESTABLISHED = msg("interval.not_established")


def _not_established(reason: str | None = None) -> Enclosure:
    note = NOT_ESTABLISHED if reason is None else msg("interval.not_established_because", reason=reason)
    return Enclosure(None, None, False, "none", note)


def _decimals(ti: TensorInput | None, values: torch.Tensor | None) -> np.ndarray | None:
    if ti is None or ti.decimals is None or values is None:
        return None
    d = np.asarray(ti.decimals)
    if d.shape != tuple(values.shape):
        raise EnclosureUnavailable(msg("interval.reshaped"))
    return d


def _point_enclosure(result: Any, formula: IntervalFormula, target: torch.Tensor | None, value: float,
                     memo: dict[Any, Any] | None) -> Enclosure | None:
    """[v̂ − E, v̂ + E] from the loss's point bound (module docstring, 6) where the box is a point of more than
    limits.DECIMALS_MAX_ELEMENTS elements and the bound's premises hold; None otherwise. The bound's box holds the
    inputs as given (a bound reads their shapes and ranges only: no float64 copy, and the ranges are shared by every
    enclosure of the same tensors through the memo)."""
    pred = result.pred.values if result.pred is not None else None
    box = Box(pred, target, _decimals(result.pred, pred), _decimals(result.target, target), dict(result.params),
              result.reduction, result.spec.target_kind, value, memo)
    if formula.point_error is None or not uses_point_bound(box):
        return None
    bound = formula.point_error(box)
    error = math.nan if bound is None else point_error_value(value, bound)
    if not math.isfinite(error):
        return None
    return Enclosure(math.nextafter(value - error, -math.inf), math.nextafter(value + error, math.inf), True,
                     POINT_METHOD, point=True)


def _narrow(given: Any) -> torch.Tensor:
    """A TensorInput's values as held: the user's narrower floating tensor where it is not widened yet
    (TensorInput.narrow: the same numbers, no float64 copy made for the formula), else its values."""
    narrow = given.narrow
    return given.values if narrow is None else narrow


def enclose(result: Any, memo: dict[Any, Any] | None = None) -> Enclosure:
    """The sound enclosure of `result`'s loss over its inputs' rounding box (see the module docstring), from the
    enclosure its spec declares. `memo`: shared by the enclosures of one problem and its variants (`Box.shared`),
    for per-element terms several of them form from the same inputs."""
    if result.value.numel() != 1:
        return _not_established(msg("interval.several_values"))
    value = result.scalar
    if not math.isfinite(value):
        return _not_established(msg("interval.not_finite"))
    spec = result.spec
    formula = spec.enclosure if spec is not None else None
    if formula is None:
        return _not_established()
    if formula.evaluate is None:
        return _not_established(formula.method)
    try:
        target = result.target.values if result.target is not None else None
        quick = _point_enclosure(result, formula, target, value, memo) if formula.point_error is not None else None
        if quick is not None:
            return quick
        pred = None if result.pred is None else _narrow(result.pred) if formula.narrow_pred else \
            result.pred.values.double()
        box = Box(pred, target, _decimals(result.pred, pred), _decimals(result.target, target), dict(result.params),
                  result.reduction, spec.target_kind, value, memo)
        with torch.no_grad():
            iv = formula.evaluate(box)
        if iv.lo.numel() != 1:
            raise EnclosureUnavailable(msg("interval.not_one_number"))
        lo, hi = iv.item()
    except EnclosureUnavailable as exc:
        return _not_established(exc.reason)
    except (RuntimeError, IndexError, ValueError, TypeError, KeyError) as exc:
        return _not_established(msg("interval.formula_failed", error=type(exc).__name__))
    # the guard: the trace's own value (float64, relative rounding ≤ 1e-9 here) must lie inside
    slack = 1e-9 * max(1.0, abs(value))
    if not (lo - slack <= value <= hi + slack) or math.isnan(lo) or math.isnan(hi):
        return _not_established(msg("interval.misses_value", lo=lo, hi=hi, value=value))
    point = all(d is None or not (np.asarray(d) > 0).any()
                for d in (box.pred_decimals, None if box.target_exact else box.target_decimals))
    return Enclosure(min(lo, value), max(hi, value), True, formula.method, point=point)

