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
3. **The formula** evaluated in interval arithmetic is the loss's definition as torch computes it,
   written once per family below (the same formula the float64 trace and the torch reference agree
   on, including torch's −100 clamp of BCE's logs, weights, ignore_index, label smoothing, pos_weight).
   Where a function is monotone in each input — a fact proven in the comment of that loss — it is
   evaluated at two corners of the box (`monotone`), which gives the exact range (still rounded
   outward); elsewhere plain interval arithmetic gives a possibly wider but still sound interval.
4. **A guard.** The enclosure must contain the trace's own value (up to the trace's float64 rounding,
   1e-9 relative). If it does not — a loss whose formula changed, an input converted in a way this
   module does not know — the enclosure is reported as not established, and the checker then says so
   and never answers `rounding`. Losses without a formula here get no enclosure, for the same reason.
5. **Cost.** Every formula is vectorised torch over all elements (no Python loop over elements; the
   log-softmax range of all classes costs a few passes whatever C). An exact input (a point: one tensor
   for both bounds, as for inputs whose decimals are not known) is evaluated once per operation, a product
   with an exact tensor (labels, weights) takes two products instead of four, 0/1 labels pick their
   branch with `where` instead of multiplying both, and temporaries are rounded outward in place.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import torch

from lossapp.i18n import add_zh
from lossapp.inputs import TensorInput

F64 = torch.float64
U = 2.0 ** -53
_NEG_INF = torch.tensor(-math.inf, dtype=F64)
_POS_INF = torch.tensor(math.inf, dtype=F64)
INV_E = 1.0 / math.e
_SMALL_CLASSES = 64  # a sum over a contiguous last dimension at most this long runs as a matrix-vector product


class EnclosureUnavailable(Exception):  # internal: caught by enclose(), never shown raw
    """This input falls outside what the family's interval formula covers."""


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


def _up_nonneg_(t: torch.Tensor, ulps: int) -> torch.Tensor:
    return t.mul_(1.0 + ulps * 2.0 ** -51).add_(ulps * 2.0 ** -1073)


def _down_ulps_(t: torch.Tensor, ulps: int) -> torch.Tensor:
    """t moved at least `ulps` ulps toward −inf, whatever its sign, in a few vectorised passes (cheaper than
    `ulps` nextafter passes from 2 ulps on): t − 2·ulps·(2⁻⁵²·|t| + 2⁻¹⁰⁷⁴), where 2⁻⁵²·|t| bounds the ulp of every
    float within those few steps of t (and 2⁻¹⁰⁷⁴ that of a subnormal), twice over for the subtraction's own
    rounding; +inf becomes what `ulps` nextafter steps make it."""
    top = t == math.inf
    step = t.abs().mul_(2 * ulps * 2.0 ** -52).add_(2 * ulps * 2.0 ** -1074)
    return t.sub_(step).masked_fill_(top, _steps_below_inf(ulps))


def _up_ulps_(t: torch.Tensor, ulps: int) -> torch.Tensor:
    """_down_ulps_ toward +inf (−inf becomes what `ulps` nextafter steps make it)."""
    bottom = t == -math.inf
    step = t.abs().mul_(2 * ulps * 2.0 ** -52).add_(2 * ulps * 2.0 ** -1074)
    return t.add_(step).masked_fill_(bottom, -_steps_below_inf(ulps))


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
        o = Iv.of(other)
        if self.point and o.point:
            total = self.lo + o.lo
            return _outward_(down(total), _up_(total))
        return _outward_(_down_(self.lo + o.lo), _up_(self.hi + o.hi))

    __radd__ = __add__

    def __sub__(self, other: Any) -> Iv:
        o = Iv.of(other)
        if self.point and o.point:
            difference = self.lo - o.lo
            return _outward_(down(difference), _up_(difference))
        return _outward_(_down_(self.lo - o.hi), _up_(self.hi - o.lo))

    def __rsub__(self, other: Any) -> Iv:
        return Iv.of(other) - self

    def __mul__(self, other: Any) -> Iv:
        if isinstance(other, int | float) and not isinstance(other, bool) and math.isfinite(other):
            return self._scaled(float(other))
        o = Iv.of(other)
        if o.point:
            return self._times_exact(o.lo)
        if self.point:
            return o._times_exact(self.lo)
        lo, hi = _hull_(*(_no_nan_product_(a * b) for a in (self.lo, self.hi) for b in (o.lo, o.hi)))
        return Iv(_down_(lo), _up_(hi))

    __rmul__ = __mul__

    def _scaled(self, c: float) -> Iv:
        """Times an exact finite number."""
        if c == 0:
            return Iv(torch.zeros_like(self.lo))
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
        if isinstance(other, int | float) and not isinstance(other, bool) and math.isfinite(other) and other != 0:
            c = float(other)
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
    def _increasing(self, fn: Callable[[torch.Tensor], torch.Tensor], ulps: int, *, nonneg: bool = False) -> Iv:
        """A non-decreasing function with at most a few ulps of error (returning a new tensor), evaluated at the
        bounds (once for a point) and rounded `ulps` ulps outward."""
        hi_value = fn(self.hi)
        lo_value = hi_value.clone() if self.point else fn(self.lo)
        if nonneg:
            return Iv(_down_nonneg_(lo_value, ulps), _up_nonneg_(hi_value, ulps))
        return Iv(_down_ulps_(lo_value, ulps), _up_ulps_(hi_value, ulps))

    def abs(self) -> Iv:
        if self.point:
            return Iv(self.lo.abs())
        if bool(self.lo.min() >= 0):
            return self
        # the smallest |x| is lo (lo ≥ 0), −hi (hi ≤ 0) or 0; the largest is max(−lo, hi)
        return Iv(torch.maximum(self.lo, -self.hi).clamp_min_(0), torch.maximum(-self.lo, self.hi))

    def sqr(self) -> Iv:
        """x² (≥ 0, increasing in |x|; the product is correctly rounded: 1 ulp each way suffices)."""
        return self.abs()._increasing(lambda t: t * t, 1, nonneg=True)

    def sqrt(self) -> Iv:
        if bool((self.lo < 0).any()):
            raise EnclosureUnavailable("square root of a negative interval")
        return self._increasing(torch.sqrt, 1, nonneg=True)

    def exp(self) -> Iv:
        return self._increasing(torch.exp, 4, nonneg=True)

    def log(self) -> Iv:
        if bool((self.lo < 0).any()):
            raise EnclosureUnavailable("logarithm of a negative interval")
        return self._increasing(torch.log, 4)

    def log1p(self) -> Iv:
        if bool((self.lo < -1).any()):
            raise EnclosureUnavailable("log1p below -1")
        return self._increasing(torch.log1p, 4)

    def softplus(self) -> Iv:
        """log(1 + e^x), increasing; computed as max(x, 0) + log1p(e^−|x|) (both terms ≥ 0)."""
        return self._increasing(lambda t: torch.log1p(torch.exp(-t.abs())).add_(t.clamp_min(0)), 8, nonneg=True)

    def sigmoid(self) -> Iv:
        out = self._increasing(torch.sigmoid, 8, nonneg=True)
        return Iv(out.lo, out.hi.clamp_max_(1.0))

    def pow(self, g: float) -> Iv:
        """x^g for x ≥ 0 and a fixed g ≥ 0 (increasing in x)."""
        if g < 0 or bool((self.lo < 0).any()):
            raise EnclosureUnavailable("pow outside x ≥ 0, g ≥ 0")
        if g == 0:
            return Iv(torch.ones(self.shape, dtype=F64))
        return self._increasing(lambda t: torch.pow(t, g), 4, nonneg=True)

    def xlogx(self) -> Iv:
        """x·log x with 0·log 0 = 0 (torch.xlogy(x, x)), for x ≥ 0: convex with its minimum −1/e at 1/e."""
        if bool((self.lo < 0).any()):
            raise EnclosureUnavailable("x log x of a negative interval")
        if self.point:
            value = torch.xlogy(self.lo, self.lo)
            return Iv(_down_ulps_(value.clone(), 4), _up_ulps_(value, 4))
        f_lo, f_hi = torch.xlogy(self.lo, self.lo), torch.xlogy(self.hi, self.hi)
        inside = (self.lo <= INV_E) & (self.hi >= INV_E)
        lo = torch.where(inside, -INV_E, torch.minimum(f_lo, f_hi))
        return Iv(_down_ulps_(lo, 4), _up_ulps_(torch.maximum(f_lo, f_hi, out=f_lo), 4))

    def clamp(self, low: float | None = None, high: float | None = None) -> Iv:
        """min(max(x, low), high): monotone, exact."""
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
        a_lo = _plain_sum(lo.abs(), dim)
        if self.point:
            return _outward_(_down_(s_lo - k * a_lo, 2), _up_(s_lo + k * a_lo, 2))
        s_hi, a_hi = _plain_sum(hi, dim), _plain_sum(hi.abs(), dim)
        return _outward_(_down_(s_lo - k * a_lo, 2), _up_(s_hi + k * a_hi, 2))

    def mean(self) -> Iv:
        return self.sum() / float(max(1, math.prod(self.shape)))


def where(mask: torch.Tensor, a: Any, b: Any) -> Iv:
    """Element-wise choice by an exact mask."""
    a, b = Iv.of(a), Iv.of(b)
    if a.point and b.point:
        return Iv(torch.where(mask, a.lo, b.lo))
    return Iv(torch.where(mask, a.lo, b.lo), torch.where(mask, a.hi, b.hi))


def hull(a: Iv, b: Iv) -> Iv:
    return Iv(torch.minimum(a.lo, b.lo), torch.maximum(a.hi, b.hi))


def monotone(fn: Callable[[Iv], Iv], box: Iv, signs: torch.Tensor | float) -> Iv:
    """Range of fn over the box when fn is non-decreasing in every entry with sign +1 and non-increasing
    in every entry with sign −1 (entries with sign 0 are exact): fn at the low corner to fn at the high
    corner, each evaluated in interval arithmetic (so rounded outward). The caller proves monotonicity.
    A point box has one corner: fn is evaluated once."""
    if box.point:
        return fn(box)
    s = _t(signs)
    low_corner = torch.where(s >= 0, box.lo, box.hi)
    high_corner = torch.where(s >= 0, box.hi, box.lo)
    return Iv(fn(Iv(low_corner)).lo, fn(Iv(high_corner)).hi)


def monotone_scalar(fn: Callable[[Iv], Iv], x: Iv, increasing: bool = True) -> Iv:
    """Element-wise: fn monotone in its single argument (applied element by element)."""
    if x.point:
        return fn(x)
    a, b = (x.lo, x.hi) if increasing else (x.hi, x.lo)
    return Iv(fn(Iv(a)).lo, fn(Iv(b)).hi)


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
        raise EnclosureUnavailable(f"decimals of shape {d.shape} for values of shape {tuple(x.shape)}")
    h = torch.from_numpy(np.asarray(_HALF_UNITS[np.clip(d, -1, 330) + 1]))
    margin = 1e-15 * torch.maximum(x.abs(), h)  # ≥ 4.5 ulp of the larger of |x| and h
    lo = torch.where(h > 0, down(x - h - margin), x)
    hi = torch.where(h > 0, up(x + h + margin), x)
    if low is not None:
        lo, hi = lo.clamp_min(low), hi.clamp_min(low)
    if high is not None:
        lo, hi = lo.clamp_max(high), hi.clamp_max(high)
    return Iv(lo, hi)


def is_label_like(t: torch.Tensor | None) -> bool:
    """Class indices, or targets that are all 0 and 1: labels, not rounded measurements."""
    if t is None:
        return True
    if not t.is_floating_point():
        return True
    return bool(((t == 0) | (t == 1)).all())


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
    total = terms.sum()
    if reduction == "sum":
        return total
    if reduction == "mean":
        if avg_factor is not None:
            return total / float(avg_factor)
        if denominator is not None:
            return total / Iv(_t(denominator)).sum()
        return total / float(max(1, math.prod(terms.shape))) if math.prod(terms.shape) else total / 0.0
    if reduction == "batchmean":
        n = terms.shape[0] if len(terms.shape) > 0 else 1
        return total / float(n)
    raise EnclosureUnavailable(f"reduction {reduction!r}")


# -- per-family formulas -----------------------------------------------------------------------------

@dataclass
class Box:
    """What a family formula sees: the boxes of pred and target, the exact values, params, reduction."""

    x: Iv
    t: Iv | None
    pred: torch.Tensor
    target: torch.Tensor | None
    pred_decimals: np.ndarray | None
    target_decimals: np.ndarray | None
    params: dict[str, Any]
    reduction: str
    result: Any = None
    target_kind: str | None = None

    def pred_box(self, low: float | None = None, high: float | None = None) -> Iv:
        return rounding_box(self.pred, self.pred_decimals, low=low, high=high)

    def target_box(self, low: float | None = None, high: float | None = None) -> Iv:
        if self.target is None:
            raise EnclosureUnavailable("no target")
        return rounding_box(self.target, self.target_decimals, exact=self.target_exact, low=low, high=high)

    @property
    def target_exact(self) -> bool:
        """target_is_exact(target_kind, target), with the labels test made once per box."""
        t = self.target
        return t is None or not t.is_floating_point() or (self.target_kind != "values" and self.labels)

    @cached_property
    def labels(self) -> bool:
        """The target is class indices or 0/1 labels (is_label_like), found once per box."""
        return is_label_like(self.target)


Formula = Callable[[Box], Iv]
ENCLOSURES: dict[str, Formula] = {}
METHODS: dict[str, str] = {}


def enclosure(*names: str, method: str) -> Callable[[Formula], Formula]:
    """Register the interval formula of one or more losses."""
    def deco(fn: Formula) -> Formula:
        for name in names:
            ENCLOSURES[name] = fn
            METHODS[name] = method
        return fn
    return deco


def _float(value: Any, default: float = 0.0) -> float:
    if value is None:
        return default
    if isinstance(value, torch.Tensor):
        return float(value.reshape(-1)[0]) if value.numel() == 1 else default
    return float(value)


def _tensor_param(value: Any) -> torch.Tensor | None:
    if value is None:
        return None
    return _t(value)


# regression: l = g(|d|) with d = ŷ − y and g non-decreasing on [0, ∞) for L1, MSE, smooth L1 (continuous at
# |d| = β: 0.5β²/β = β − 0.5β) and Huber (continuous at δ); |d| over the box is exact, so g over the interval of
# |d| is the exact range of each term; the sum of independent terms ranges over the sum of their ranges. Smooth L1
# and Huber pick their branch by the upper end of |d|: an interval straddling β (δ) takes the linear branch, which
# lies below the quadratic one at the lower end (0.5a²/β − (a − 0.5β) = 0.5(a − β)²/β ≥ 0): still an enclosure.
def _regression_terms(box: Box, g: Callable[[Iv], Iv]) -> Iv:
    x, y = box.pred_box(), box.target_box()
    if x.point and y.point:  # |x − y| is correctly rounded: half an ulp from the exact |d|
        a = (x.lo - y.lo).abs_()
        return g(Iv(_down_nonneg_(a.clone(), 1), _up_nonneg_(a, 1)))
    return g((x - y).abs())


@enclosure("l1", method="exact range (|d| per element), interval arithmetic with outward rounding")
def _l1(box: Box) -> Iv:
    return reduce_iv(_regression_terms(box, lambda a: a), box.reduction)


@enclosure("mse", method="exact range (d² per element), interval arithmetic with outward rounding")
def _mse(box: Box) -> Iv:
    return reduce_iv(_regression_terms(box, lambda a: a.sqr()), box.reduction)


@enclosure("rmse", method="exact range (√ of the reduced d², monotone), interval arithmetic with outward rounding")
def _rmse(box: Box) -> Iv:
    return reduce_iv(_regression_terms(box, lambda a: a.sqr()), box.reduction).sqrt()


@enclosure("smooth_l1", method="exact range (smooth L1 is non-decreasing in |d|), interval arithmetic with outward rounding")
def _smooth_l1(box: Box) -> Iv:
    beta = _float(box.params.get("beta"), 1.0)

    def g(a: Iv) -> Iv:
        if beta == 0:
            return a
        return where(a.hi < beta, 0.5 * a.sqr() / beta, a - 0.5 * beta)
    return reduce_iv(_regression_terms(box, g), box.reduction)


@enclosure("huber", method="exact range (Huber is non-decreasing in |d|), interval arithmetic with outward rounding")
def _huber(box: Box) -> Iv:
    delta = _float(box.params.get("delta"), 1.0)
    return reduce_iv(_regression_terms(box, lambda a: where(a.hi < delta, 0.5 * a.sqr(), delta * (a - 0.5 * delta))),
                     box.reduction)


# BCE (torch): l = −w·(y·max(log p, −100) + (1 − y)·max(log(1 − p), −100)). Each of the two terms is monotone
# in p (the first non-increasing, the second non-decreasing), so interval arithmetic on each is its exact range;
# their sum (and a soft y, linear) is enclosed soundly by interval arithmetic.
# With 0/1 labels each term is the one log its label picks (y·a + (1 − y)·b is a or b exactly): one log per element.
def _bce_terms(p: Iv, y: Iv, labels: bool = False) -> Iv:
    if labels:
        one = y.lo == 1
        return -where(one, p, (1.0 - p).clamp(0.0, None)).log().maximum(-100.0)
    log_p = p.log().maximum(-100.0)
    log_q = (1.0 - p).clamp(0.0, None).log().maximum(-100.0)
    return -(y * log_p + (1.0 - y) * log_q)


@enclosure("bce", method="interval arithmetic with outward rounding over torch's BCE formula (each log term monotone in p)")
def _bce(box: Box) -> Iv:
    p = box.pred_box(0.0, 1.0)
    y = box.target_box(0.0, 1.0)
    terms = _bce_terms(p, y, labels=y.point and box.labels)
    w = _tensor_param(box.params.get("weight"))
    if w is not None:
        terms = terms * w
    return reduce_iv(terms, box.reduction)


# BCE with logits (torch): l = w·[(1 − y)·x + (1 + (pw − 1)·y)·softplus(−x)] = w·[pw·y·softplus(−x) + (1 − y)·softplus(x)]
# (softplus(x) = x + softplus(−x)); the first term is non-increasing in x, the second non-decreasing.
@enclosure("bce_with_logits", method="interval arithmetic with outward rounding over pw·y·softplus(−x) + (1−y)·softplus(x)")
def _bce_with_logits(box: Box) -> Iv:
    x = box.pred_box()
    y = box.target_box()
    pw = _tensor_param(box.params.get("pos_weight"))
    if y.point and box.labels:  # each term is the branch its label picks: pw·softplus(−x) or softplus(x)
        one = y.lo == 1
        terms = where(one, -x, x).softplus()
        if pw is not None:
            terms = terms * torch.where(one, pw, torch.ones_like(pw))
    else:
        first = (-x).softplus() * y
        if pw is not None:
            first = first * pw
        terms = first + (1.0 - y) * x.softplus()
    w = _tensor_param(box.params.get("weight"))
    if w is not None:
        terms = terms * w
    return reduce_iv(terms, box.reduction)


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


def _class_layout(x: Iv, target: torch.Tensor | None) -> tuple[Iv, torch.Tensor | None, bool]:
    """Move the class dimension last: (C,) -> (1, C); (N, C, d...) -> (N, d..., C)."""
    if len(x.shape) == 1:
        x = x.unsqueeze(0)
        target = target.unsqueeze(0) if target is not None else None
        return x, target, True
    x = x.movedim(1, -1)
    if target is not None and target.is_floating_point() and target.dim() == len(x.shape):
        target = target.movedim(1, -1)
    return x, target, False


@enclosure("cross_entropy", method="exact log-softmax range (monotone in each logit), interval arithmetic with outward rounding")
def _cross_entropy(box: Box) -> Iv:
    p = box.params
    kind = str(p.get("input") or "logits")
    if kind == "probabilities":
        z = box.pred_box(0.0, 1.0).log()
    elif kind == "log_probabilities":
        z = box.pred_box(None, 0.0)
    else:
        z = box.pred_box()
    target = box.target
    if target is None:
        raise EnclosureUnavailable("no target")
    z, target_cl, _ = _class_layout(z, target)
    c = z.shape[-1]
    eps = _float(p.get("label_smoothing"), 0.0)
    w = _tensor_param(p.get("weight"))
    wc = w if w is not None else torch.ones(c, dtype=F64)
    if target.is_floating_point() and tuple(target_cl.shape) == tuple(z.shape):
        logp = log_softmax_iv(z)
        # class probabilities: l_n = −Σ_c w_c·t'_c·log p_c with t' = (1 − ε)·t + ε/C; mean divides by N
        t_box = box.target_box(0.0, 1.0)
        if t_box.lo.dim() > 1:
            t_box = t_box.movedim(1, -1)
        elif t_box.lo.dim() == 1:
            t_box = t_box.unsqueeze(0)
        if eps:
            t_box = t_box * (1.0 - eps) + eps / c
        terms = -(logp * t_box * wc).sum(-1)
        if box.reduction == "none" and len(box.pred.shape) == 1:
            terms = terms[0]
        return reduce_iv(terms, box.reduction)
    idx = target_cl.long()
    ignore = int(_float(p.get("ignore_index"), -100))
    keep = idx != ignore
    safe = torch.where(keep, idx, torch.zeros_like(idx))
    logp = log_softmax_iv(z) if eps else None
    nll = -(logp.gather(-1, safe.unsqueeze(-1)).reshape(*safe.shape) if logp is not None else log_softmax_iv(z, index=safe))
    wy = wc[safe] * keep.to(F64)
    terms = nll * wy
    if logp is not None:
        smooth = -(logp * wc).sum(-1) * keep.to(F64)
        terms = terms * (1.0 - eps) + smooth * (eps / c)
    if box.reduction == "none" and len(box.pred.shape) == 1:
        terms = terms[0]
    den = wy if box.reduction == "mean" else None
    if len(box.pred.shape) == 1:
        den = wy.reshape(-1) if den is not None else None
    return reduce_iv(terms, box.reduction, denominator=den)


@enclosure("nll", method="exact range (linear in the log-probabilities), interval arithmetic with outward rounding")
def _nll(box: Box) -> Iv:
    x = box.pred_box(None, 0.0)
    target = box.target
    if target is None:
        raise EnclosureUnavailable("no target")
    x, target_cl, single = _class_layout(x, target)
    c = x.shape[-1]
    w = _tensor_param(box.params.get("weight"))
    wc = w if w is not None else torch.ones(c, dtype=F64)
    idx = target_cl.long()
    ignore = int(_float(box.params.get("ignore_index"), -100))
    keep = idx != ignore
    safe = torch.where(keep, idx, torch.zeros_like(idx))
    wy = wc[safe] * keep.to(F64)
    terms = -x.gather(-1, safe.unsqueeze(-1)).reshape(*safe.shape) * wy
    if box.reduction == "none" and single:
        terms = terms[0]
    return reduce_iv(terms, box.reduction, denominator=wy if box.reduction == "mean" else None)


# KL divergence (torch): log_target False: l = xlogy(t, t) − t·x;  True: l = e^t·(t − x).
@enclosure("kl_div", method="interval arithmetic with outward rounding over torch's kl_div formula (t·log t convex, exact range)")
def _kl_div(box: Box) -> Iv:
    x = box.pred_box(None, 0.0) if not box.params.get("log_target") else box.pred_box()
    if box.params.get("log_target"):
        t = box.target_box(None, 0.0) if box.target is not None and bool((box.target <= 0).all()) else box.target_box()
        terms = t.exp() * (t - x)
    else:
        if box.target is None or bool((box.target < 0).any()):
            raise EnclosureUnavailable("negative target probabilities")
        terms = _kl_terms(box.target_box(0.0, None), x)
    return reduce_iv(terms, box.reduction)


def _kl_terms(t: Iv, x: Iv) -> Iv:
    """Exact range of g(t, x) = t·log t − t·x over the box (t ≥ 0).

    g is non-increasing in x (its coefficient −t ≤ 0), so the maximum is at x_lo and the minimum at x_hi; for
    fixed x it is convex in t (g'' = 1/t > 0), so the maximum over t is at an end of [a, b] and the minimum
    lies at t* = e^(x − 1) clipped to [a, b]. For the lower bound a float t̃ ≈ t* is used with the tangent
    inequality g(t) ≥ g(t̃) + g'(t̃)(t − t̃), minimised over t ∈ [a, b] (both ends), all in interval arithmetic:
    a lower bound whatever the error in t̃.
    """
    if t.point:  # t exact: g is linear in x, and the formula itself gives its range
        return t.xlogx() - t * x
    a, b = t.lo, t.hi
    hi = hull(Iv(a).xlogx() - Iv(a) * x.lo, Iv(b).xlogx() - Iv(b) * x.lo).hi
    xh = Iv(x.hi)
    t_star = torch.exp(x.hi - 1.0).clamp(min=a, max=b)
    ts = Iv(t_star)
    g = ts.xlogx() - ts * xh
    positive = t_star > 0
    safe = Iv(torch.where(positive, t_star, torch.ones_like(t_star)))
    slope = safe.log() + 1.0 - xh  # g'(t̃) = log t̃ + 1 − x
    tangent = g + hull(slope * (Iv(a) - ts), slope * (Iv(b) - ts))
    # t̃ = 0: b = 0 (t is exactly 0, g = 0), or e^(x − 1) underflowed below the smallest double, so the true
    # minimum −t* lies above −5e-324: one step below g(0) = 0 is still a lower bound
    lo = torch.where(positive, tangent.lo, down(g.lo))
    point = a == b
    exact = Iv(a).xlogx() - Iv(a) * x
    return Iv(torch.where(point, exact.lo, torch.minimum(lo, hi)), torch.where(point, exact.hi, hi))


# Hinge: l = max(0, m − y·f) with y = ±1 exact: monotone in f (non-increasing for y = +1, non-decreasing for −1).
@enclosure("hinge", method="exact range (monotone in each score), interval arithmetic with outward rounding")
def _hinge(box: Box) -> Iv:
    f = box.pred_box()
    y = box.target
    if y is None:
        raise EnclosureUnavailable("no target")
    margin = _float(box.params.get("margin"), 1.0)
    terms = (margin - f * y.to(F64)).relu()
    return reduce_iv(terms, box.reduction)


# Penalties: λ·Σ|w| and (λ/2)·Σw²; |w| and w² per entry are exact ranges, λ ≥ 0 exact.
@enclosure("l1_penalty", method="exact range (|w| per entry), interval arithmetic with outward rounding")
def _l1_penalty(box: Box) -> Iv:
    lam = _float(box.params.get("lam"), 1.0)
    return reduce_iv(box.pred_box().abs() * lam, box.reduction)


@enclosure("l2_penalty", method="exact range (w² per entry), interval arithmetic with outward rounding")
def _l2_penalty(box: Box) -> Iv:
    lam = _float(box.params.get("lam"), 1.0)
    return reduce_iv(box.pred_box().sqr() * (lam / 2.0), box.reduction)


# Sigmoid focal loss (torchvision / mmdetection): l = w·α_t·(1 − p_t)^γ·ce. For a hard label each term is
# monotone in the input: y = 1: α·(1 − p)^γ·(−log p) with both factors ≥ 0 and non-increasing in p (and p = σ(x)
# is increasing in x); y = 0: (1 − α)·p^γ·(−log(1 − p)), both factors non-decreasing. So the corners give the
# exact range of the unweighted term; the weight (any sign) is applied after by interval arithmetic. Soft labels:
# plain interval arithmetic over the same formula.
def _focal_term(x: Iv, y: Iv, alpha: float, gamma: float, probabilities: bool, labels: bool = False) -> Iv:
    if labels:  # each factor is the branch its 0/1 label picks
        one = y.lo == 1
        if probabilities:
            p = x.clamp(0.0, 1.0)
            q = (1.0 - p).clamp(0.0, None)
            ce, one_minus_pt = -where(one, p, q).log().maximum(-100.0), where(one, q, p)
        else:
            z = where(one, -x, x)
            ce, one_minus_pt = z.softplus(), z.sigmoid()
        term = one_minus_pt.clamp(0.0, None).pow(gamma) * ce
        alpha_t = torch.where(one, torch.tensor(alpha, dtype=F64), torch.tensor(1.0 - alpha, dtype=F64))
        return term * alpha_t if alpha >= 0 else term
    if probabilities:
        p = x.clamp(0.0, 1.0)
        ce = -(y * p.log().maximum(-100.0) + (1.0 - y) * (1.0 - p).clamp(0.0, None).log().maximum(-100.0))
        one_minus_pt = y * (1.0 - p) + (1.0 - y) * p
    else:
        ce = y * (-x).softplus() + (1.0 - y) * x.softplus()
        one_minus_pt = y * (-x).sigmoid() + (1.0 - y) * x.sigmoid()
    term = one_minus_pt.clamp(0.0, None).pow(gamma) * ce
    if alpha >= 0:
        term = term * (y * alpha + (1.0 - y) * (1.0 - alpha))
    return term


@enclosure("focal", method="exact range per element for 0/1 labels (monotone), interval arithmetic with outward rounding")
def _focal(box: Box) -> Iv:
    params = box.params
    alpha, gamma = _float(params.get("alpha"), 0.25), _float(params.get("gamma"), 2.0)
    probabilities = params.get("input") == "probabilities"
    x = box.pred_box(0.0, 1.0) if probabilities else box.pred_box()
    if box.target is None:
        raise EnclosureUnavailable("no target")
    if box.labels:
        y = box.target.to(F64)
        signs = torch.where(y == 1, -1.0, 1.0).to(F64)
        term = monotone(lambda v: _focal_term(v, Iv(y), alpha, gamma, probabilities, labels=True), x, signs)
    else:
        term = _focal_term(x, box.target_box(0.0, 1.0), alpha, gamma, probabilities)
    w = _tensor_param(params.get("weight"))
    if w is not None:
        term = term * w
    avg = params.get("avg_factor")
    avg_factor = float(avg) if avg is not None and box.reduction == "mean" else None
    return reduce_iv(term, box.reduction, avg_factor=avg_factor)


# Softmax focal: l_n = α_t·(1 − p_t)^γ·(−log p_t) is non-increasing in log p_t (both factors ≥ 0 and
# non-increasing), and log p_t has an exact range (log_softmax_iv); ignored samples give 0; the mean divides by
# the number of counted samples.
@enclosure("softmax_focal", method="exact range (monotone in log p_t), interval arithmetic with outward rounding")
def _softmax_focal(box: Box) -> Iv:
    params = box.params
    gamma = _float(params.get("gamma"), 2.0)
    if box.target is None:
        raise EnclosureUnavailable("no target")
    z, target_cl, single = _class_layout(box.pred_box(), box.target)
    idx = target_cl.long()
    ignore = int(_float(params.get("ignore_index"), -100))
    keep = idx != ignore
    safe = torch.where(keep, idx, torch.zeros_like(idx))
    lpt = log_softmax_iv(z, index=safe).clamp(None, 0.0)

    def term(v: Iv) -> Iv:
        return (1.0 - v.exp()).clamp(0.0, None).pow(gamma) * (-v)
    terms = monotone_scalar(term, lpt, increasing=False)
    alpha = params.get("alpha")
    if isinstance(alpha, torch.Tensor):
        terms = terms * _t(alpha)[safe]
    elif alpha is not None and float(alpha) >= 0:
        terms = terms * float(alpha)
    terms = terms * keep.to(F64)
    if box.reduction == "none" and single:
        terms = terms[0]
    den = keep.to(F64) if box.reduction == "mean" else None
    return reduce_iv(terms, box.reduction, denominator=den)


# Multi-class margin (torch): l_n = w_y·Σ_{i≠y} max(0, margin − x_y + x_i)^p / C: non-increasing in x_y and
# non-decreasing in every other x_i, so the corners give the exact range of each unweighted l_n.
@enclosure("multi_margin", method="exact range (monotone in every score), interval arithmetic with outward rounding")
def _multi_margin(box: Box) -> Iv:
    params = box.params
    p, margin = int(_float(params.get("p"), 1)), _float(params.get("margin"), 1.0)
    if box.target is None:
        raise EnclosureUnavailable("no target")
    x = box.pred_box()
    single = len(x.shape) == 1
    if single:
        x = x.unsqueeze(0)
    y = box.target.reshape(-1).long()
    c = x.shape[-1]
    other = (torch.arange(c)[None, :] != y[:, None]).to(F64)
    signs = torch.where(other.bool(), 1.0, -1.0).to(F64)

    def unweighted(v: Iv) -> Iv:
        xy = v.gather(1, y[:, None])
        h = (margin - xy + v).relu() * other
        hp = h.sqr() if p == 2 else h
        return hp.sum(-1) / float(c)
    # the sum over classes is per row, so monotone() over the whole (N, C) box is row-wise exact
    terms = monotone(unweighted, x, signs)
    w = _tensor_param(params.get("weight"))
    if w is not None:
        terms = terms * w[y]
    if single:
        terms = terms.reshape(*box.target.shape) if box.reduction == "none" else terms
    return reduce_iv(terms, box.reduction)


# 0-1 loss: for a threshold, the error indicator is monotone in the score (a positive is wrong below the
# threshold, a negative at or above it), so the corners give its exact range. With argmax over classes an error is
# certain when another class's lowest score beats the true class's highest, and possible when another class's
# highest score reaches the true class's lowest; [certain, possible] encloses each term.
@enclosure("zero_one", method="exact range of each error indicator (monotone / argmax bounds)")
def _zero_one(box: Box) -> Iv:
    if box.target is None:
        raise EnclosureUnavailable("no target")
    x, target = box.pred_box(), box.target
    if len(x.shape) == len(target.shape) + 1:
        cd = 1 if len(x.shape) > 1 else 0
        xl, xh = x.lo.movedim(cd, -1), x.hi.movedim(cd, -1)
        t = target.long().unsqueeze(-1) if target.dim() else target.long().reshape(1)
        if not target.dim():
            xl, xh = xl.unsqueeze(0), xh.unsqueeze(0)
        y_lo, y_hi = xl.gather(-1, t), xh.gather(-1, t)
        others = torch.arange(xl.shape[-1]) != t
        sure = ((xl > y_hi) & others).any(-1).to(F64)
        possible = ((xh >= y_lo) & others).any(-1).to(F64)
        if not target.dim():
            sure, possible = sure[0], possible[0]
        return reduce_iv(Iv(sure, possible), box.reduction)
    threshold = _float(box.params.get("threshold"), 0.5)
    positive = target > 0
    negative = -1.0 if bool((target < 0).any()) else 0.0

    def err(v: Iv) -> Iv:
        label = torch.where(v.lo >= threshold, 1.0, negative).to(F64)
        return Iv((label != target.to(F64)).to(F64))
    signs = torch.where(positive, -1.0, 1.0).to(F64)
    return reduce_iv(monotone(err, x, signs), box.reduction)


# Hard-truncated CE: y = 1: l = [p ≤ m]·min(−log p, 100), non-increasing in p (it only drops to 0 above m);
# y = 0: l = [p ≥ 1 − m]·min(−log(1 − p), 100), non-decreasing. Monotone: exact range from the corners.
@enclosure("truncated_ce", method="exact range per element (monotone), interval arithmetic with outward rounding")
def _truncated_ce(box: Box) -> Iv:
    m = _float(box.params.get("m"), 0.6)
    if box.target is None:
        raise EnclosureUnavailable("no target")
    y = box.target.to(F64)
    p = box.pred_box(0.0, 1.0)

    def term(v: Iv) -> Iv:
        keep = ~(((y == 1) & (v.lo > m)) | ((y == 0) & (v.lo < 1 - m)))
        return _bce_terms(v, Iv(y), labels=box.labels) * keep.to(F64)
    return reduce_iv(monotone(term, p, torch.where(y == 1, -1.0, 1.0).to(F64)), box.reduction)


# Soft-truncated CE: l = y·A(x) + (1 − y)·B(x) with A = σ(−Kx)·softplus(−x) (both factors ≥ 0, non-increasing)
# and B = σ(Kx)·softplus(x) (non-decreasing), for K ≥ 0: each has an exact range; a soft y by interval arithmetic.
@enclosure("soft_truncated_ce", method="exact range of each branch (monotone), interval arithmetic with outward rounding")
def _soft_truncated_ce(box: Box) -> Iv:
    k = _float(box.params.get("K"), 1.0)
    if k < 0:
        raise EnclosureUnavailable("K < 0")
    x = box.pred_box()
    a = monotone_scalar(lambda v: (v * (-k)).sigmoid() * (-v).softplus(), x, increasing=False)
    b = monotone_scalar(lambda v: (v * k).sigmoid() * v.softplus(), x, increasing=True)
    y = box.target_box(0.0, 1.0)
    if box.labels:
        yt = box.target.to(F64) == 1
        terms = where(yt, a, b)
    else:
        terms = y * a + (1.0 - y) * b
    return reduce_iv(terms, box.reduction)


# Overlap losses. Per set (the same sets as lossapp.losses.overlap: the whole tensor, each sample along dim 0, or
# each (sample, class) with softmax), with exact 0/1 targets the coefficients are monotone in every p_i:
#   Dice  D = (2I + ε)/(P + T + ε):  ∂D/∂p_i ∝ 2t_i(P + T + ε) − (2I + ε): > 0 for t_i = 1 (P ≥ I), ≤ 0 for t_i = 0;
#   IoU   J = (I + ε)/(P + T − I + ε): numerator grows with t_i, denominator with 1 − t_i: same signs;
#   Tversky T = (I + ε)/(I + α·fp + β·fn + ε): t_i = 1: ∝ βI + α·fp + β·fn + βε ≥ 0; t_i = 0: ∝ −α(I + ε) ≤ 0.
# So each coefficient's range over independent boxes of the p_i is reached at the corners (p high where t = 1,
# low where t = 0, and the reverse). Sigmoid is increasing, so the boxes of p = σ(x) are exact. Softmax couples the
# classes; its per-element probability boxes are exact, and treating them as independent only widens the range
# (still an enclosure). Soft targets: plain interval arithmetic over the formula.
def set_dims(ndim: int, activation: str, per_sample: bool) -> tuple[int, ...]:
    """The dimensions summed within one set of an overlap loss (as lossapp.losses.overlap forms its sets)."""
    if activation == "softmax":
        spatial = tuple(range(2, ndim))
        return spatial if per_sample else (0, *spatial)
    if per_sample and ndim >= 2:
        return tuple(range(1, ndim))
    return tuple(range(ndim))


def _set_sum(v: Iv, dims: tuple[int, ...]) -> Iv:
    if not dims:
        return v
    keep = [d for d in range(len(v.shape)) if d not in dims]
    lo = v.lo.permute(*keep, *dims)
    hi = v.hi.permute(*keep, *dims)
    rows = lo.shape[:len(keep)]
    return Iv(lo.reshape(*rows, -1), hi.reshape(*rows, -1)).sum(-1)


def _coefficient(kind: str, p: Iv, t: Iv, dims: tuple[int, ...], eps: float, a: float, b: float) -> Iv:
    inter = _set_sum(p * t, dims)
    if kind == "dice":
        return (inter * 2.0 + eps) / (_set_sum(p, dims) + _set_sum(t, dims) + eps)
    if kind == "iou":
        # union = Σ p + Σ t − Σ p·t = Σ (p + t − p·t): each term p + t(1 − p) written once per element
        return (inter + eps) / (_set_sum(p + t * (1.0 - p), dims) + eps)
    fp = _set_sum(p * (1.0 - t), dims)
    fn = _set_sum((1.0 - p) * t, dims)
    return (inter + eps) / (inter + fp * a + fn * b + eps)


def _label_coefficient(kind: str, p: Iv, t: torch.Tensor, dims: tuple[int, ...], eps: float, a: float,
                       b: float) -> Iv:
    """_coefficient for an exact 0/1 target t, from three sums per set: |X∩Y| = Σ_{t=1} p, |X| = Σ p and |Y| = Σ t
    (exact: a count), with |X∪Y| = |X| + |Y| − |X∩Y|, fp = |X| − |X∩Y| and fn = |Y| − |X∩Y| (identities of the
    real sums, since t·p is p or 0 and (1 − t)·p is 0 or p)."""
    inter = _set_sum(where(t == 1, p, 0.0), dims)
    size_p = _set_sum(p, dims)
    size_t = Iv(t.sum(dims) if dims else t)
    if kind == "dice":
        return (inter * 2.0 + eps) / (size_p + size_t + eps)
    if kind == "iou":
        return (inter + eps) / (size_p + size_t - inter + eps)
    return (inter + eps) / (inter + (size_p - inter) * a + (size_t - inter) * b + eps)


def _overlap_loss(box: Box, kind: str, params: dict[str, Any]) -> Iv:
    activation = str(params.get("activation") or "none")
    eps = _float(params.get("eps"), 1e-8)
    per_sample = bool(params.get("per_sample", True))
    a, b = _float(params.get("alpha"), 0.5), _float(params.get("beta"), 0.5)
    if min(a, b, eps) < 0:
        raise EnclosureUnavailable("negative alpha, beta or eps")
    target = box.target
    if target is None:
        raise EnclosureUnavailable("no target")
    x = box.pred_box()
    if activation == "sigmoid":
        p = x.sigmoid()
    elif activation == "softmax":
        z = x.movedim(1, -1)
        lp = log_softmax_iv(z)
        p = lp.exp().clamp(0.0, 1.0).movedim(-1, 1)
    else:
        p = box.pred_box(0.0, 1.0)
    if activation == "softmax" and not target.is_floating_point():
        classes = p.shape[1]
        grid = torch.arange(classes).view(1, classes, *([1] * (target.dim() - 1)))
        t_exact: torch.Tensor | None = (target.unsqueeze(1) == grid).to(F64)
    elif box.labels:
        t_exact = target.to(F64)
    else:
        t_exact = None
    dims = set_dims(len(p.shape), activation, per_sample)
    if t_exact is not None and p.point:
        coef = _label_coefficient(kind, p, t_exact, dims, eps, a, b)
    elif t_exact is not None:
        low = torch.where(t_exact == 1, p.lo, p.hi)
        high = torch.where(t_exact == 1, p.hi, p.lo)
        coef = Iv(_label_coefficient(kind, Iv(low), t_exact, dims, eps, a, b).lo,
                  _label_coefficient(kind, Iv(high), t_exact, dims, eps, a, b).hi)
    else:
        coef = _coefficient(kind, p, box.target_box(0.0, 1.0), dims, eps, a, b)
    if activation == "softmax":
        c = coef.shape[-1]
        coef = coef.sum(-1) / float(c)
    return reduce_iv(1.0 - coef, box.reduction)


@enclosure("dice", method="exact range per set for 0/1 masks (monotone), interval arithmetic with outward rounding")
def _dice(box: Box) -> Iv:
    return _overlap_loss(box, "dice", box.params)


@enclosure("iou", method="exact range per set for 0/1 masks (monotone), interval arithmetic with outward rounding")
def _iou(box: Box) -> Iv:
    return _overlap_loss(box, "iou", box.params)


@enclosure("tversky", method="exact range per set for 0/1 masks (monotone), interval arithmetic with outward rounding")
def _tversky(box: Box) -> Iv:
    return _overlap_loss(box, "tversky", box.params)


_COMBO_PART = {"none": "bce", "sigmoid": "bce_with_logits", "softmax": "cross_entropy"}


def _part_box(box: Box, name: str, params: dict[str, Any]) -> Iv:
    from lossapp.registry import LOSSES  # the part's own prepare converts the target as the combo's trace does
    from lossapp.trace import Trace
    spec = LOSSES[name]
    pred, target = box.pred, box.target
    if spec.prepare is not None:
        pred, target = spec.prepare(pred, target, params, Trace())
    part = Box(x=box.x, t=None, pred=pred, target=target, pred_decimals=box.pred_decimals,
               target_decimals=box.target_decimals if target is not None and box.target is not None
               and tuple(target.shape) == tuple(box.target.shape) else None,
               params=params, reduction=box.reduction, result=box.result, target_kind=spec.target_kind)
    return ENCLOSURES[name](part)


# Dice + CE / Dice + focal: λ_dice·L_dice + λ·L_part, each part enclosed by its own formula; the sum of two
# enclosures encloses the sum (it ignores that both parts move together, so it may be wider, never narrower).
@enclosure("dice_ce", method="sum of the parts' enclosures (Dice and the cross-entropy part)")
def _dice_ce(box: Box) -> Iv:
    from lossapp.registry import LOSSES
    params = box.params
    name = _COMBO_PART[str(params.get("activation") or "none")]
    part = _part_box(box, name, LOSSES[name].resolve_params({}))
    return _overlap_loss(box, "dice", params) * _float(params.get("lambda_dice"), 1.0) + \
        part * _float(params.get("lambda_ce"), 1.0)


@enclosure("dice_focal", method="sum of the parts' enclosures (Dice and the focal part)")
def _dice_focal(box: Box) -> Iv:
    from lossapp.registry import LOSSES
    params = box.params
    focal_params = LOSSES["focal"].resolve_params({
        "alpha": params.get("alpha", 0.25), "gamma": params.get("gamma", 2.0),
        "input": "probabilities" if (params.get("activation") or "none") == "none" else "logits"})
    part = _part_box(box, "focal", focal_params)
    return _overlap_loss(box, "dice", params) * _float(params.get("lambda_dice"), 1.0) + \
        part * _float(params.get("lambda_focal"), 1.0)


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


NOT_ESTABLISHED = "no sound enclosure is known for this input, so rounding of the inputs is not assessed"


def _decimals(ti: TensorInput | None, values: torch.Tensor | None) -> np.ndarray | None:
    if ti is None or ti.decimals is None or values is None:
        return None
    d = np.asarray(ti.decimals)
    if d.shape != tuple(values.shape):
        raise EnclosureUnavailable("the inputs were reshaped")
    return d


def enclose(result: Any) -> Enclosure:
    """The sound enclosure of `result`'s loss over its inputs' rounding box (see the module docstring)."""
    if result.value.numel() != 1:
        return Enclosure(None, None, False, "none", "a claim is one number; this result has several")
    value = result.scalar
    name = result.loss
    if not math.isfinite(value):
        return Enclosure(None, None, False, "none", "the value is not finite")
    if name == "confusion":
        # counts are integers: exact inputs, the value is computed from them in float64 (a few operations).
        # From masks, the counts are exact unless a rounded prediction could cross the threshold.
        if result.pred is not None and result.pred.values.is_floating_point():
            threshold = float(result.params.get("threshold", 0.5))
            try:
                box = rounding_box(result.pred.values, _decimals(result.pred, result.pred.values))
            except EnclosureUnavailable as exc:
                return Enclosure(None, None, False, "none", f"{NOT_ESTABLISHED} ({exc})")
            binary = bool(((result.pred.values == 0) | (result.pred.values == 1)).all())
            if not binary and bool(((box.lo < threshold) & (box.hi >= threshold)).any()):
                return Enclosure(None, None, False, "none", f"{NOT_ESTABLISHED} (a rounded prediction can fall on "
                                 f"either side of the threshold {threshold:g})")
        r = 8 * U * abs(value) + 1e-300
        return Enclosure(value - r, value + r, True, "exact counts", point=True)
    formula = ENCLOSURES.get(name)
    if formula is None or result.pred is None:
        return Enclosure(None, None, False, "none", NOT_ESTABLISHED)
    try:
        pred = result.pred.values
        target = result.target.values if result.target is not None else None
        box = Box(x=Iv(pred.double()), t=None, pred=pred.double(), target=target,
                  pred_decimals=_decimals(result.pred, pred),
                  target_decimals=_decimals(result.target, target), params=dict(result.params),
                  reduction=result.reduction, result=result,
                  target_kind=result.spec.target_kind if result.spec is not None else None)
        with torch.no_grad():
            iv = formula(box)
        if iv.lo.numel() != 1:
            raise EnclosureUnavailable("not a single number")
        lo, hi = iv.item()
    except (EnclosureUnavailable, RuntimeError, IndexError, ValueError, TypeError, KeyError) as exc:
        return Enclosure(None, None, False, "none", f"{NOT_ESTABLISHED} ({exc})")
    # the guard: the trace's own value (float64, relative rounding ≤ 1e-9 here) must lie inside
    slack = 1e-9 * max(1.0, abs(value))
    if not (lo - slack <= value <= hi + slack) or math.isnan(lo) or math.isnan(hi):
        return Enclosure(None, None, False, "none",
                         f"{NOT_ESTABLISHED} (the interval formula [{lo:.10g}, {hi:.10g}] does not contain the "
                         f"computed value {value:.10g})")
    point = all(d is None or not (np.asarray(d) > 0).any()
                for d in (box.pred_decimals, None if box.target_exact else box.target_decimals))
    return Enclosure(min(lo, value), max(hi, value), True, METHODS[name], point=point)


add_zh({
    NOT_ESTABLISHED: "此输入没有已知的可靠区间包络，因此不评估输入舍入的影响",
    "a claim is one number; this result has several": "待检查的答案是一个数，而此结果有多个值",
    "the value is not finite": "该值不是有限数",
})
