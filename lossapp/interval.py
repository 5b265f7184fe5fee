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
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
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
MAX_EXACT_CLASSES = 64  # above this many classes the log-softmax range uses plain interval arithmetic (looser)


class EnclosureUnavailable(Exception):  # internal: caught by enclose(), never shown raw
    """This input falls outside what the family's interval formula covers."""


def _t(value: Any) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach().to(F64) if value.dtype != F64 else value.detach()
    return torch.as_tensor(value, dtype=F64)


def down(t: torch.Tensor, n: int = 1) -> torch.Tensor:
    """n floating-point steps toward −inf."""
    for _ in range(n):
        t = torch.nextafter(t, _NEG_INF)
    return t


def up(t: torch.Tensor, n: int = 1) -> torch.Tensor:
    """n floating-point steps toward +inf."""
    for _ in range(n):
        t = torch.nextafter(t, _POS_INF)
    return t


class Iv:
    """A tensor of intervals [lo, hi] (float64), with outward-rounded arithmetic."""

    __slots__ = ("hi", "lo")

    def __init__(self, lo: Any, hi: Any = None) -> None:
        lo = _t(lo)
        hi = lo if hi is None else _t(hi)
        if lo.shape != hi.shape:
            lo, hi = torch.broadcast_tensors(lo, hi)
        self.lo, self.hi = lo, hi

    @staticmethod
    def outward(lo: torch.Tensor, hi: torch.Tensor) -> Iv:
        """An interval from bounds that may be NaN (inf − inf): NaN becomes −inf / +inf (still an enclosure)."""
        return Iv(torch.where(torch.isnan(lo), _NEG_INF, lo), torch.where(torch.isnan(hi), _POS_INF, hi))

    # -- construction and shape -------------------------------------------------------------------
    @staticmethod
    def of(value: Any) -> Iv:
        return value if isinstance(value, Iv) else Iv(value)

    @property
    def shape(self) -> torch.Size:
        return self.lo.shape

    def _map(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> Iv:
        return Iv(fn(self.lo), fn(self.hi))

    def __getitem__(self, index: Any) -> Iv:
        return Iv(self.lo[index], self.hi[index])

    def reshape(self, *shape: Any) -> Iv:
        return Iv(self.lo.reshape(*shape), self.hi.reshape(*shape))

    def movedim(self, a: int, b: int) -> Iv:
        return Iv(self.lo.movedim(a, b), self.hi.movedim(a, b))

    def unsqueeze(self, dim: int) -> Iv:
        return self._map(lambda t: t.unsqueeze(dim))

    def gather(self, dim: int, index: torch.Tensor) -> Iv:
        return Iv(self.lo.gather(dim, index), self.hi.gather(dim, index))

    def item(self) -> tuple[float, float]:
        return float(self.lo.reshape(-1)[0]), float(self.hi.reshape(-1)[0])

    def __repr__(self) -> str:
        return f"Iv(lo={self.lo.tolist()}, hi={self.hi.tolist()})"

    # -- arithmetic ---------------------------------------------------------------------------------
    def __neg__(self) -> Iv:
        return Iv(-self.hi, -self.lo)

    def __add__(self, other: Any) -> Iv:
        o = Iv.of(other)
        return Iv.outward(down(self.lo + o.lo), up(self.hi + o.hi))

    __radd__ = __add__

    def __sub__(self, other: Any) -> Iv:
        return self + (-Iv.of(other))

    def __rsub__(self, other: Any) -> Iv:
        return Iv.of(other) + (-self)

    def __mul__(self, other: Any) -> Iv:
        o = Iv.of(other)
        # An infinite bound stands for "unbounded"; 0 times an unbounded finite number is 0.
        c = [torch.nan_to_num(a * b, nan=0.0, posinf=math.inf, neginf=-math.inf)
             for a in (self.lo, self.hi) for b in (o.lo, o.hi)]
        lo = torch.minimum(torch.minimum(c[0], c[1]), torch.minimum(c[2], c[3]))
        hi = torch.maximum(torch.maximum(c[0], c[1]), torch.maximum(c[2], c[3]))
        return Iv(down(lo), up(hi))

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Iv:
        o = Iv.of(other)
        zero = (o.lo <= 0) & (o.hi >= 0)
        c = [a / b for a in (self.lo, self.hi) for b in (o.lo, o.hi)]
        lo = torch.minimum(torch.minimum(c[0], c[1]), torch.minimum(c[2], c[3]))
        hi = torch.maximum(torch.maximum(c[0], c[1]), torch.maximum(c[2], c[3]))
        lo = torch.where(zero | torch.isnan(lo), _NEG_INF, down(lo))
        hi = torch.where(zero | torch.isnan(hi), _POS_INF, up(hi))
        return Iv(lo, hi)

    def __rtruediv__(self, other: Any) -> Iv:
        return Iv.of(other) / self

    # -- elementary functions (monotone ones are evaluated at the bounds) ---------------------------
    def abs(self) -> Iv:
        lo = torch.where(self.lo >= 0, self.lo, torch.where(self.hi <= 0, -self.hi, torch.zeros_like(self.lo)))
        return Iv(lo, torch.maximum(self.lo.abs(), self.hi.abs()))

    def sqr(self) -> Iv:
        a = self.abs()
        return Iv(down(a.lo * a.lo).clamp_min(0), up(a.hi * a.hi))

    def sqrt(self) -> Iv:
        if bool((self.lo < 0).any()):
            raise EnclosureUnavailable("square root of a negative interval")
        return Iv(down(torch.sqrt(self.lo)).clamp_min(0), up(torch.sqrt(self.hi)))

    def exp(self) -> Iv:
        return Iv(down(torch.exp(self.lo), 4).clamp_min(0), up(torch.exp(self.hi), 4))

    def log(self) -> Iv:
        if bool((self.lo < 0).any()):
            raise EnclosureUnavailable("logarithm of a negative interval")
        return Iv(down(torch.log(self.lo), 4), up(torch.log(self.hi), 4))

    def log1p(self) -> Iv:
        if bool((self.lo < -1).any()):
            raise EnclosureUnavailable("log1p below -1")
        return Iv(down(torch.log1p(self.lo), 4), up(torch.log1p(self.hi), 4))

    def softplus(self) -> Iv:
        """log(1 + e^x), increasing; computed as max(x, 0) + log1p(e^−|x|) (both terms ≥ 0)."""
        f = (lambda t: t.clamp_min(0) + torch.log1p(torch.exp(-t.abs())))  # noqa: E731
        return Iv(down(f(self.lo), 8).clamp_min(0), up(f(self.hi), 8))

    def sigmoid(self) -> Iv:
        return Iv(down(torch.sigmoid(self.lo), 8).clamp(0, 1), up(torch.sigmoid(self.hi), 8).clamp(0, 1))

    def pow(self, g: float) -> Iv:
        """x^g for x ≥ 0 and a fixed g ≥ 0 (increasing in x)."""
        if g < 0 or bool((self.lo < 0).any()):
            raise EnclosureUnavailable("pow outside x ≥ 0, g ≥ 0")
        if g == 0:
            one = torch.ones(self.shape, dtype=F64)
            return Iv(one, one)
        return Iv(down(torch.pow(self.lo, g), 4).clamp_min(0), up(torch.pow(self.hi, g), 4))

    def xlogx(self) -> Iv:
        """x·log x with 0·log 0 = 0 (torch.xlogy(x, x)), for x ≥ 0: convex with its minimum −1/e at 1/e."""
        if bool((self.lo < 0).any()):
            raise EnclosureUnavailable("x log x of a negative interval")
        f_lo, f_hi = torch.xlogy(self.lo, self.lo), torch.xlogy(self.hi, self.hi)
        hi = up(torch.maximum(f_lo, f_hi), 4)
        inside = (self.lo <= INV_E) & (self.hi >= INV_E)
        lo = torch.where(inside, torch.full_like(f_lo, -INV_E), torch.minimum(f_lo, f_hi))
        return Iv(down(lo, 4), hi)

    def clamp(self, low: float | None = None, high: float | None = None) -> Iv:
        """min(max(x, low), high): monotone, exact."""
        return Iv(self.lo.clamp(low, high), self.hi.clamp(low, high))

    def maximum(self, other: Any) -> Iv:
        o = Iv.of(other)
        return Iv(torch.maximum(self.lo, o.lo), torch.maximum(self.hi, o.hi))

    def minimum(self, other: Any) -> Iv:
        o = Iv.of(other)
        return Iv(torch.minimum(self.lo, o.lo), torch.minimum(self.hi, o.hi))

    def relu(self) -> Iv:
        return self.maximum(0.0)

    # -- reductions -----------------------------------------------------------------------------------
    def sum(self, dim: int | None = None) -> Iv:
        lo, hi = self.lo, self.hi
        n = lo.numel() if dim is None else lo.shape[dim]
        if n == 0:
            z = lo.sum() if dim is None else lo.sum(dim)
            return Iv(z, z.clone())
        s_lo = lo.sum() if dim is None else lo.sum(dim)
        s_hi = hi.sum() if dim is None else hi.sum(dim)
        a_lo = lo.abs().sum() if dim is None else lo.abs().sum(dim)
        a_hi = hi.abs().sum() if dim is None else hi.abs().sum(dim)
        k = 2.0 * (n + 1) * U
        return Iv.outward(down(s_lo - k * a_lo, 2), up(s_hi + k * a_hi, 2))

    def mean(self) -> Iv:
        return self.sum() / float(max(1, math.prod(self.shape)))


def where(mask: torch.Tensor, a: Any, b: Any) -> Iv:
    """Element-wise choice by an exact mask."""
    a, b = Iv.of(a), Iv.of(b)
    return Iv(torch.where(mask, a.lo, b.lo), torch.where(mask, a.hi, b.hi))


def hull(a: Iv, b: Iv) -> Iv:
    return Iv(torch.minimum(a.lo, b.lo), torch.maximum(a.hi, b.hi))


def monotone(fn: Callable[[Iv], Iv], box: Iv, signs: torch.Tensor | float) -> Iv:
    """Range of fn over the box when fn is non-decreasing in every entry with sign +1 and non-increasing
    in every entry with sign −1 (entries with sign 0 are exact): fn at the low corner to fn at the high
    corner, each evaluated in interval arithmetic (so rounded outward). The caller proves monotonicity."""
    s = _t(signs)
    low_corner = torch.where(s >= 0, box.lo, box.hi)
    high_corner = torch.where(s >= 0, box.hi, box.lo)
    return Iv(fn(Iv(low_corner)).lo, fn(Iv(high_corner)).hi)


def monotone_scalar(fn: Callable[[Iv], Iv], x: Iv, increasing: bool = True) -> Iv:
    """Element-wise: fn monotone in its single argument (applied element by element)."""
    a, b = (x.lo, x.hi) if increasing else (x.hi, x.lo)
    return Iv(fn(Iv(a)).lo, fn(Iv(b)).hi)


# -- the input box ----------------------------------------------------------------------------------

def rounding_box(values: torch.Tensor, decimals: np.ndarray | None, *, exact: bool = False,
                 low: float | None = None, high: float | None = None) -> Iv:
    """Every real number each entry can stand for: ±½ unit of its last written decimal, clipped to
    [low, high]. Integers (decimals −1), unknown decimals (tensors built in Python: their values are
    taken as given) and `exact=True` give a point."""
    x = _t(values)
    if exact or decimals is None or not x.is_floating_point():
        return Iv(x.clone())
    d = np.asarray(decimals)
    if d.shape != tuple(x.shape):
        raise EnclosureUnavailable(f"decimals of shape {d.shape} for values of shape {tuple(x.shape)}")
    h = torch.from_numpy(np.where(d >= 0, 0.5 * np.power(10.0, -np.clip(d, 0, 330).astype(np.float64)), 0.0))
    h = h.to(F64)
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
        return rounding_box(self.target, self.target_decimals, exact=target_is_exact(self.target_kind, self.target),
                            low=low, high=high)


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
# |d| = β: 0.5β²/β = β − 0.5β) and Huber (continuous at δ); |d| over the box is exact, so g at the two ends of
# |d| is the exact range of each term; the sum of independent terms ranges over the sum of their ranges.
def _regression_terms(box: Box, g: Callable[[Iv], Iv]) -> Iv:
    d = box.pred_box() - box.target_box()
    return monotone_scalar(g, d.abs())


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

    def g(a: Iv) -> Iv:  # a is a point interval here
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
def _bce_terms(p: Iv, y: Iv) -> Iv:
    log_p = p.log().maximum(-100.0)
    log_q = (1.0 - p).clamp(0.0, None).log().maximum(-100.0)
    return -(y * log_p + (1.0 - y) * log_q)


@enclosure("bce", method="interval arithmetic with outward rounding over torch's BCE formula (each log term monotone in p)")
def _bce(box: Box) -> Iv:
    p = box.pred_box(0.0, 1.0)
    y = box.target_box(0.0, 1.0)
    terms = _bce_terms(p, y)
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
    first = (-x).softplus() * y
    if pw is not None:
        first = first * pw
    terms = first + (1.0 - y) * x.softplus()
    w = _tensor_param(box.params.get("weight"))
    if w is not None:
        terms = terms * w
    return reduce_iv(terms, box.reduction)


def log_softmax_iv(z: Iv, dim: int = -1) -> Iv:
    """log softmax_c(z) = −log(1 + Σ_{j≠c} exp(z_j − z_c)): non-decreasing in z_c and non-increasing in every
    other z_j, so its range over a box is reached at the corner (z_c low, others high) and the opposite one.
    Evaluated there with the max shift (log-sum-exp) in interval arithmetic: exact range, rounded outward."""
    if dim != -1:
        z = z.movedim(dim, -1)
    c = z.shape[-1]
    lo_parts, hi_parts = [], []
    for k in range(c):
        onehot = torch.zeros(c, dtype=F64)
        onehot[k] = 1.0
        # low corner: z_k at its low end, the others at their high end
        a = torch.where(onehot.bool(), z.lo, z.hi)
        b = torch.where(onehot.bool(), z.hi, z.lo)
        lo_parts.append(_log_softmax_point(Iv(a), k).lo)
        hi_parts.append(_log_softmax_point(Iv(b), k).hi)
    out = Iv(torch.stack(lo_parts, -1), torch.stack(hi_parts, -1))
    return out.movedim(-1, dim) if dim != -1 else out


def log_softmax_iv_loose(z: Iv) -> Iv:
    """z − logsumexp(z) over the last dim in plain interval arithmetic (sound, wider): for many classes."""
    m = z.hi.amax(-1, keepdim=True)
    m = torch.where(torch.isinf(m), torch.zeros_like(m), m)
    lse = (z - m).exp().sum(-1).log() + m.squeeze(-1)
    return z - lse.unsqueeze(-1)


def _log_softmax_point(z: Iv, k: int) -> Iv:
    """z_k − logsumexp(z) for a point z (last dim), in interval arithmetic with the max shift."""
    m = z.lo.amax(-1, keepdim=True)  # an exact float; the shift cancels in exact arithmetic
    m = torch.where(torch.isinf(m), torch.zeros_like(m), m)
    shifted = z - m
    lse = shifted.exp().sum(-1).log() + m.squeeze(-1)
    return z[..., k] - lse


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
    logp = log_softmax_iv(z) if z.shape[-1] <= MAX_EXACT_CLASSES else log_softmax_iv_loose(z)
    c = logp.shape[-1]
    eps = _float(p.get("label_smoothing"), 0.0)
    w = _tensor_param(p.get("weight"))
    wc = w if w is not None else torch.ones(c, dtype=F64)
    if target.is_floating_point() and tuple(target_cl.shape) == tuple(logp.shape):
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
    nll = -logp.gather(-1, safe.unsqueeze(-1)).reshape(*safe.shape)
    wy = wc[safe] * keep.to(F64)
    terms = nll * wy
    if eps:
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
def _focal_term(x: Iv, y: Iv, alpha: float, gamma: float, probabilities: bool) -> Iv:
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
    if is_label_like(box.target):
        y = box.target.to(F64)
        signs = torch.where(y == 1, -1.0, 1.0).to(F64)
        term = monotone(lambda v: _focal_term(v, Iv(y), alpha, gamma, probabilities), x, signs)
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
    logp = log_softmax_iv(z) if z.shape[-1] <= MAX_EXACT_CLASSES else log_softmax_iv_loose(z)
    idx = target_cl.long()
    ignore = int(_float(params.get("ignore_index"), -100))
    keep = idx != ignore
    safe = torch.where(keep, idx, torch.zeros_like(idx))
    lpt = logp.gather(-1, safe.unsqueeze(-1)).reshape(*safe.shape).clamp(None, 0.0)

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
        return _bce_terms(v, Iv(y)) * keep.to(F64)
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
    if is_label_like(box.target):
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
def _set_dims(ndim: int, activation: str, per_sample: bool) -> tuple[int, ...]:
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
        lp = log_softmax_iv(z) if z.shape[-1] <= MAX_EXACT_CLASSES else log_softmax_iv_loose(z)
        p = lp.exp().clamp(0.0, 1.0).movedim(-1, 1)
    else:
        p = box.pred_box(0.0, 1.0)
    if activation == "softmax" and not target.is_floating_point():
        classes = p.shape[1]
        grid = torch.arange(classes).view(1, classes, *([1] * (target.dim() - 1)))
        t_exact: torch.Tensor | None = (target.unsqueeze(1) == grid).to(F64)
    elif is_label_like(target):
        t_exact = target.to(F64)
    else:
        t_exact = None
    dims = _set_dims(len(p.shape), activation, per_sample)
    if t_exact is not None:
        t = Iv(t_exact)
        low = torch.where(t_exact == 1, p.lo, p.hi)
        high = torch.where(t_exact == 1, p.hi, p.lo)
        coef = Iv(_coefficient(kind, Iv(low), t, dims, eps, a, b).lo, _coefficient(kind, Iv(high), t, dims, eps, a, b).hi)
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
    value = result.value
    if isinstance(value, list):
        flat = torch.as_tensor(value, dtype=F64).reshape(-1)
        if flat.numel() != 1:
            return Enclosure(None, None, False, "none", "a claim is one number; this result has several")
        value = float(flat[0])
    value = float(value)
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
                for d in (box.pred_decimals, None if target_is_exact(box.target_kind, target) else box.target_decimals))
    return Enclosure(min(lo, value), max(hi, value), True, METHODS[name], point=point)


add_zh({
    NOT_ESTABLISHED: "此输入没有已知的可靠区间包络，因此不评估输入舍入的影响",
    "a claim is one number; this result has several": "待检查的答案是一个数，而此结果有多个值",
    "the value is not finite": "该值不是有限数",
})
