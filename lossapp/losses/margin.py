"""Margin and 0-1 losses: hinge, multi-class margin (torch's MultiMarginLoss) and the 0-1 loss (article 002).

Article 002 (item 4) lists the 0-1 loss ("1 when the prediction is wrong, 0 when it is right; it ignores
how far off the prediction is") and the hinge loss of the SVM (item 16) among the common losses.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import torch
import torch.nn.functional as F

from lossapp.i18n import Message, msg
from lossapp.inputs import (
    InputError,
    param_name,
    require_class_indices,
    require_per_class,
    require_same_shape,
    require_sign_labels,
    shape_text,
)
from lossapp.inputs.constraints import Interval, Tensor
from lossapp.interval import (
    TINY,
    Box,
    Iv,
    PointBound,
    U,
    interval_formula,
    monotone,
    point_bound,
    reduce_iv,
    reduction_per_den,
    tensor_param,
    value_range,
)
from lossapp.losses.derivative import derivative_step, number
from lossapp.losses.stable import class_dim, reduce_builtin, select, within
from lossapp.reduction import reduce
from lossapp.registry import LossSpec, Param, register
from lossapp.trace import CHUNK, Trace, fmt

HINGE_01 = msg("margin.warn.hinge_01")  # (lossapp.lint leaves it to hinge_prepare)
HINT_ELEMENTWISE = msg("margin.hint.elementwise")


# -- hinge -----------------------------------------------------------------------------------------

def hinge_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                  trace: Trace) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Same shapes; labels −1/+1, or 0/1 mapped to −1/+1 with a warning."""
    if target is None:
        raise InputError("margin.error.hinge_target_missing")
    require_same_shape(pred, target)
    target = target.double()
    if require_sign_labels(target, "target"):
        trace.warn(HINGE_01)
        target = 2 * target - 1  # 0/1 labels (require_sign_labels refuses 0 with -1): 0 → -1, 1 → 1
    return pred, target


def hinge_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                reduction: str) -> torch.Tensor:
    """Hinge loss (the SVM loss) on scores f with labels y ∈ {−1, +1}.

    Unreduced: l_n = max(0, margin − y_n·f_n).  mean: Σ l_n / n;  sum: Σ l_n;  none: l.
    Params: margin (default 1.0; y·f must reach it for zero loss).
    Reference: torch.relu(margin − y·f), reduced. Not torch's F.hinge_embedding_loss, which takes a
    distance x and gives x for y = 1 and max(0, margin − x) for y = −1.

    Shape:
        - pred: (*), scores f, any number of dimensions.
        - target: (*), the same shape as pred, labels −1/+1 (0/1 labels are mapped to −1/+1, with a warning).
        - output: a scalar for mean and sum; (*) for none.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("hinge", "[0.8, -0.5, 1.5, 0.3, -2.0]", "[1, -1, 1, -1, 1]")
        >>> print(f"{r.scalar:.4f}")
        1.0000
    """
    margin = float(params["margin"])
    m = fmt(margin)
    yf = trace.add("yf", msg("margin.step.signed_score_y_f"), r"y_n f_n", target * pred, sub=r"$y \cdot $f", y=target, f=pred,
                   note=msg("margin.note.positive_when_the_sign_of"))
    z = trace.add("z", msg("margin.step.margin_minus_y_f"), r"z_n = \text{margin} - y_n f_n", margin - yf, sub=rf"{m} - $a", a=yf)
    loss = trace.add("l", msg("margin.step.hinge_clamp_at_0"), r"l_n = \max(0, \text{margin} - y_n f_n)",
                     torch.relu(z), sub=r"\max(0, $z)", z=z,
                     note=msg("margin.note.zero_once_y_f_margin"))

    def point(yf: float, y: float, g: float) -> Message:
        if yf < margin:
            return msg("margin.derivative.hinge_inside", yf=number(yf), margin=m, g=number(g))
        if yf > margin:
            return msg("margin.derivative.hinge_outside", yf=number(yf), margin=m)
        return msg("margin.derivative.hinge_kink", margin=m)
    derivative_step(trace, HINGE_DERIVATIVE, r"\frac{\partial l_n}{\partial f_n} = \begin{cases} -y_n & y_n f_n < \text{margin} "
                    r"\\ 0 & \text{otherwise} \end{cases}",
                    lambda yf, y: select(yf < margin, -y, 0.0), yf.detach(), target, point=point)
    return reduce(trace, loss, reduction)


HINGE_DERIVATIVE = "dl/df"


def hinge_gradient(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any], reduction: str) -> torch.Tensor:
    """d(loss)/df_n = −y_n where y_n·f_n < margin, else 0 (relu's derivative at the kink is 0, as autograd's), times
    1/n for mean: one buffer, branch-free, instead of autograd's chain through the steps.

    Written as ([z_n > 0]·y_n)/(−n) + 0 with z = margin − y·f and [z > 0] = max(sign z, 0): y = ±1 makes y·f exact, and
    a difference of two floats is 0 only when they are equal, so sign z is the sign of margin − y·f exactly (±inf
    scores included); 1·y_n/(−n) is y_n/(−n), and 0·y_n/(−n) + 0 is +0 (the 0 a mask would write). On a CPU the passes
    run a block of CHUNK elements at a time, in cache (a per-element select of −y/n or 0 costs several times more)."""
    y = target.double()
    f = pred.detach()
    count = float(max(pred.numel(), 1) if reduction == "mean" else 1)
    margin = torch.tensor(float(params["margin"]), dtype=y.dtype, device=y.device)
    if f.shape != y.shape:  # (prepare gives them one shape)
        f, y = torch.broadcast_tensors(f, y)
    grad = torch.empty(f.shape, dtype=y.dtype, device=y.device)  # float64, as y is
    flat_f, flat_y, flat_g = f.reshape(-1), y.reshape(-1), grad.view(-1)
    step = CHUNK if f.device.type == "cpu" else max(flat_g.numel(), 1)
    for start in range(0, flat_g.numel(), step):
        block, y_block = flat_g[start:start + step], flat_y[start:start + step]
        torch.addcmul(margin, y_block, flat_f[start:start + step], value=-1, out=block)  # z = margin − y·f
        block.sign_().clamp_min_(0.0).mul_(y_block).div_(-count).add_(0.0)
    return grad


def hinge_reference(x: torch.Tensor, y: torch.Tensor | None, p: dict[str, Any], reduction: str) -> torch.Tensor:
    return reduce_builtin(torch.relu(p["margin"] - y * x), reduction)


# -- multi-class margin -------------------------------------------------------------------------------

def multi_margin_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                         trace: Trace) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Scores (N, C) with class indices (N,), or (C,) with one index; weight with C entries."""
    if target is None:
        raise InputError("margin.error.multi_margin_target_missing")
    if pred.dim() == 2:
        if target.dim() != 1 or target.shape[0] != pred.shape[0]:
            raise InputError("margin.error.target_per_row", want=shape_text((pred.shape[0],)), pred=shape_text(pred.shape),
                             got=shape_text(target.shape))
    elif pred.dim() == 1:
        if target.numel() != 1 or target.dim() > 1:
            raise InputError("margin.error.single_index", pred=shape_text(pred.shape), got=shape_text(target.shape))
    else:
        raise InputError("margin.error.pred_shape", got=shape_text(pred.shape))
    classes = pred.shape[-1]
    target = require_class_indices(target, classes)
    require_per_class(params.get("weight"), param_name("weight"), classes)
    return pred, target


def multi_margin_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                       reduction: str) -> torch.Tensor:
    """Multi-class margin loss (torch's MultiMarginLoss, the multi-class SVM loss of Weston & Watkins).

    Unreduced: l_n = Σ_{i ≠ y_n} w_{y_n} · max(0, margin − x_{n,y_n} + x_{n,i})^p / C.
    The sum leaves out i = y_n but the division is by all C classes; the weight multiplies after the
    power (torch's implementation; its docs write w inside the max, which differs for p = 2).
    mean: Σ l_n / N (not divided by Σ w, unlike cross_entropy);  sum: Σ l_n;  none: l.
    Params: p (1 or 2), margin (default 1.0), weight (one per class, optional).
    Reference: F.multi_margin_loss.

    Shape:
        - pred: (N, C) scores, or (C,) for a single sample.
        - target: (N,) class indices in [0, C), or () with pred (C,).
        - weight: (C,).
        - output: a scalar for mean and sum; for none, (N,) (or () for a single sample).

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("multi_margin", "[[0.1, 0.2, 0.4, 0.8], [0.5, -0.3, 0.2, 0.1]]", "[3, 0]")
        >>> print(f"{r.scalar:.4f}")
        0.3500
    """
    p = int(params["p"])
    margin = float(params["margin"])
    weight = params.get("weight")
    out_shape = target.shape
    x = pred if pred.dim() == 2 else pred.reshape(1, -1)
    y = target.reshape(-1).long()
    classes = x.shape[1]
    m = fmt(margin)
    xy = trace.add("x_y", msg("margin.step.score_of_the_true_class"), r"x_{n,y_n}", x.gather(1, y[:, None]).squeeze(1))
    z = trace.add("z", msg("margin.step.margin_violations"), r"z_{n,i} = \text{margin} - x_{n,y_n} + x_{n,i}",
                  margin - xy[:, None] + x, sub=rf"{m} - $a + $b", a=xy[:, None], b=x)
    other = torch.arange(classes, device=y.device)[None, :] != y[:, None]
    h = trace.add("h", msg("margin.step.clamp_at_0_leaving_out"), r"h_{n,i} = \max(0, z_{n,i}),\quad i \ne y_n",
                  torch.relu(z) * other,
                  note=msg("margin.note.the_term_i_y_n"))
    if p == 2:
        hp = trace.add("h^p", msg("margin.step.power_p_2"), r"h_{n,i}^2", h * h, sub=r"$h^2", h=h)
    else:
        hp = trace.add("h^p", msg("margin.step.power_p_1"), r"h_{n,i}^1 = h_{n,i}", h, note=msg("margin.note.p_1_leaves_the_terms"))
    if weight is not None:
        wy = trace.add("w_y", msg("margin.step.weight_of_the_true_class"), r"w_{y_n}", weight.double()[y])
        hp = trace.add("wh^p", msg("margin.step.weighted_terms"), r"w_{y_n}\, h_{n,i}^p", wy[:, None] * hp,
                       note=msg("margin.note.torch_multiplies_by_w_y"))
    s = trace.add("s", msg("margin.step.sum_over_the_other_classes"), r"s_n = \sum_{i \ne y_n} w_{y_n} h_{n,i}^p"
                  if weight is not None else r"s_n = \sum_{i \ne y_n} h_{n,i}^p", hp.sum(1))
    loss = trace.add("l", msg("margin.step.divide_by_the_number_of"), r"l_n = \frac{s_n}{C}", s / classes,
                     sub=rf"\frac{{$s}}{{{classes}}}", s=s,
                     note=msg("margin.note.divide_by_classes", classes=classes))
    return reduce(trace, loss.reshape(out_shape), reduction)


def multi_margin_reference(x: torch.Tensor, y: torch.Tensor | None, p: dict[str, Any],
                           reduction: str) -> torch.Tensor:
    return F.multi_margin_loss(x, y, p=int(p["p"]), margin=float(p["margin"]), weight=p.get("weight"),
                               reduction=reduction)


# -- 0-1 loss ----------------------------------------------------------------------------------------

def _argmax_mode(pred: torch.Tensor, target: torch.Tensor) -> bool:
    """(N, C, d...) scores with (N, d...) class indices, or (C,) with a single index: argmax mode."""
    return pred.dim() == target.dim() + 1


def zero_one_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                     trace: Trace) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Elementwise: same shapes, labels 0/1 or −1/+1. (N, C, ...) scores: class indices, argmax."""
    if target is None:
        raise InputError("margin.error.zero_one_target_missing")
    if _argmax_mode(pred, target):
        dim = class_dim(pred)
        expected = (pred.shape[0], *pred.shape[2:]) if pred.dim() > 1 else ()
        if tuple(target.shape) != expected:
            raise InputError("margin.error.target_shape", want=shape_text(expected), pred=shape_text(pred.shape), dim=dim,
                             got=shape_text(target.shape))
        target = require_class_indices(target, pred.shape[dim])
        top = pred.amax(dim=dim, keepdim=True)
        if bool(((pred == top).sum(dim=dim) > 1).any()):
            trace.warn(msg("margin.warn.some_rows_have_tied_top"))
        return pred, target
    require_same_shape(pred, target)
    require_sign_labels(target, "target", hint=HINT_ELEMENTWISE)
    target = target.long()
    threshold = float(params["threshold"])
    if threshold == 0.5 and not within(pred, 0, 1):
        trace.warn(msg("margin.warn.threshold_for_scores"))
    return pred, target


def _threshold_labels(positive: torch.Tensor, negative: float, dtype: torch.dtype) -> torch.Tensor:
    """1 where positive, else `negative` (0 or −1), exactly."""
    labels = positive.to(dtype)
    return labels if negative == 0 else 2 * labels - 1


def zero_one_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                   reduction: str) -> torch.Tensor:
    """0-1 loss: 1 when the predicted label is wrong, 0 when it is right (article 002, item 4).

    Predicted label: ŷ_n = 1 if f_n ≥ threshold else 0 (−1 when the targets are −1/+1) for elementwise
    scores or probabilities; ŷ_n = argmax_c x_{n,c} for (N, C, ...) scores with class-index targets.
    Unreduced: l_n = 1 − 1[ŷ_n = y_n].  mean: Σ l_n / n = the error rate (1 − accuracy);
    sum: the number of errors;  none: l.
    Params: threshold (default 0.5 for probabilities; use 0 for scores; unused with argmax).
    Not differentiable (the gradient is 0 almost everywhere). Reference: counting with torch ops,
    (pred_label != target) as a float.

    Shape:
        - pred: (*), scores or probabilities; or (N, C, d1, ...) / (C,) class scores.
        - target: (*), the same shape as pred, 0/1 or −1/+1; or (N, d1, ...) / () class indices.
        - output: a scalar for mean and sum; for none, target's shape.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("zero_one", "[0.9, 0.3, 0.6, 0.2, 0.55]", "[1, 0, 0, 0, 1]")
        >>> print(f"{r.scalar:.4f}")
        0.2000
    """
    if _argmax_mode(pred, target):
        dim = class_dim(pred)
        label = trace.add("ŷ", msg("margin.step.predicted_labels_argmax_over_classes"), r"\hat{y}_n = \arg\max_c x_{n,c}",
                          pred.argmax(dim=dim).double(),
                          note=msg("margin.note.ties_go_to_the_first"))
        correct = label == target
    else:
        threshold = float(params["threshold"])
        t = fmt(threshold)
        negative = -1.0 if float(target.min()) < 0 else 0.0
        if negative < 0:
            formula = rf"\hat{{y}}_n = \begin{{cases}} +1 & f_n \ge {t} \\ -1 & \text{{otherwise}}\end{{cases}}"
            note = msg("margin.note.sign_labels")
        else:
            formula = rf"\hat{{y}}_n = \begin{{cases}} 1 & f_n \ge {t} \\ 0 & \text{{otherwise}}\end{{cases}}"
            note = ""
        trace.show("ŷ", msg("margin.step.predicted_labels_threshold"), formula,
                   lambda f: _threshold_labels(f >= threshold, negative, f.dtype), pred, note=note)
        # ŷ_n = y_n exactly where [f_n ≥ threshold] = [y_n = 1], for 0/1 and −1/+1 labels alike: one-byte masks
        correct = (pred >= threshold) == (target == 1)
    trace.show("c", msg("margin.step.correct"), r"c_n = \mathbf{1}[\hat{y}_n = y_n]", lambda c: c.double(), correct,
               note=msg("margin.note.1_where_the_predicted_label"))
    loss = trace.add("l", msg("margin.step.0_1_loss"), r"l_n = 1 - c_n", (~correct).double(), sub=r"1 - $c", c=correct,
                     note=msg("margin.note.mean_error_rate_1_accuracy"))
    return reduce(trace, loss, reduction)


def zero_one_reference(x: torch.Tensor, y: torch.Tensor | None, p: dict[str, Any], reduction: str) -> torch.Tensor:
    """Counting with torch ops, independent of the trace."""
    if x.dim() == y.dim() + 1:
        pred_label = x.argmax(dim=1 if x.dim() > 1 else 0)
    else:
        negative = -1 if bool((y < 0).any()) else 0
        pred_label = torch.where(x >= p["threshold"], 1, negative)
    return reduce_builtin((pred_label != y).to(x.dtype), reduction)


# -- rounding enclosures (lossapp.interval) -------------------------------------------------------------------------

# Hinge: l = max(0, m + s) with s = −y·f and y = ±1 exact (the target as hinge_prepare left it: 0/1 labels mapped
# to ±1), so s and its range over the box are exact (a product by ±1), and max(0, m + s) is non-decreasing in s with
# one rounding (Iv.increasing): the exact range of each term.
# A point box (lossapp.interval.point_bound), K = 1, A = TINY (2⁻¹⁰²²), where every target is −1, 0 or 1: the labels the
# steps multiply by are then ±1 (hinge_prepare maps 0/1 to ±1 and refuses anything else) or, in a run that skips
# prepare (the mistake labels_01_not_mapped), the given 0/1 or ±1 themselves, so y·f is exact and z = margin − y·f rounds
# once, |ẑ − z| ≤ u·(|z| + TINY) (TINY covers an underflow's absolute error, 2⁻¹⁰⁷⁵ ≤ u·TINY). For z ≤ 0 the rounded
# ẑ ≤ 0 too (rounding is monotone and fl(0) = 0), so both terms are exactly 0; for z > 0 the term is t = z and
# |t̂ − t| ≤ |ẑ − z| ≤ u·(TINY + t). An infinite or NaN score gives a term 0 (exactly, as the steps define it) or a
# value that is not finite (no enclosure).
# Any other finite target (one that reaches the steps without prepare), with Y = max(1, max|y|) and X = max|f|: the
# product rounds, |fl(y·f) − y·f| ≤ u·(YX + TINY), and |ẑ − z| ≤ (1 + u)·u·(YX + TINY) + u|z|; for z ≥ 0,
# |t̂ − t| ≤ 2u·(A + t), and for z < 0 < ẑ, |z| < |ẑ − z| gives t̂ = ẑ ≤ |ẑ − z| ≤ (1 + u)/(1 − u)·u·(YX + TINY) ≤ 2uA:
# K = 2, A = YX + TINY (rounded up). The bound so reads the target it is given and holds whether or not it was
# prepared.
def hinge_point_error(box: Box) -> PointBound | None:
    """Hinge's float64 error bound for a point box (K = 1, A = TINY for targets in {−1, 0, 1}; else K = 2,
    A = max(1, max|y|)·max|f| + TINY; a finite margin and target)."""
    per_den = None if box.pred is None else reduction_per_den(box.reduction, box.pred.shape)
    if per_den is None or box.target is None or not math.isfinite(float(box.params["margin"])):
        return None
    y = value_range(box, "target")
    if y is None:
        return None
    if _unit_labels(box, y):
        return point_bound(1, TINY, box.pred.numel(), per_den)
    f = value_range(box)
    if f is None:
        return None
    big_y, big_x = max(1.0, abs(y[0]), abs(y[1])), max(abs(f[0]), abs(f[1]))
    a = (big_y * big_x + TINY) * (1 + 4 * U)
    return point_bound(2, a, box.pred.numel(), per_den) if math.isfinite(a) else None


def _unit_labels(box: Box, y: tuple[float, float]) -> bool:
    """Whether every target is −1, 0 or 1 (`y`: its range): integers in [−1, 1], 0/1 labels, or ±1 labels (the
    smallest |y| is 1); one pass at most beyond the range."""
    t = box.target
    if t is None or y[0] < -1 or y[1] > 1:
        return False
    if not t.is_floating_point():
        return True
    if y[0] >= 0:
        return box.labels  # every entry 0 or 1 (is_label_like, found once per memo)
    return float(t.detach().abs().amin()) == 1  # in [−1, 1] with every |y| = 1: ±1


@interval_formula("exact range (monotone in each score), interval arithmetic with outward rounding",
                  point_error=hinge_point_error)
def hinge_enclosure(box: Box) -> Iv:
    y = box.require_target().to(torch.float64)
    f = box.pred_box()
    if f.point:
        s = Iv(-y * f.lo)
    else:
        positive = y > 0
        s = Iv(torch.where(positive, -f.hi, f.lo), torch.where(positive, -f.lo, f.hi))
    margin = float(box.params["margin"])
    return reduce_iv(s.increasing(lambda t: (t + margin).clamp_min_(0.0), 1, nonneg=True), box.reduction)


# Multi-class margin (torch): l_n = w_y·Σ_{i≠y} max(0, margin − x_y + x_i)^p / C: non-increasing in x_y and
# non-decreasing in every other x_i, so the corners give the exact range of each unweighted l_n.
# A point box (lossapp.interval.point_bound) over the N rows l_n, with X = max|x|, A = |margin| + X, u = 2⁻⁵³ and
# TINY = 2⁻¹⁰²² (an underflow's absolute error 2⁻¹⁰⁷⁵ ≤ u·TINY).
# h = max(0, z), z = (m − x_y) + x_i in two roundings: a = fl(m − x_y) errs by e ≤ u·|m − x_y| ≤ uA (a sum of floats
# is exact where it underflows), ẑ = fl(a + x_i) by ≤ u·|a + x_i| ≤ u(|z| + e), so |ẑ − z| ≤ (1 + u)uA + u|z|. For
# z ≥ 0, |ĥ − h| ≤ |ẑ − z| ≤ 2u(A + h). For z < 0, ĥ = 0 = h unless ẑ > 0, and then |z| < |ẑ − z|, so
# |ẑ − z|(1 − u) ≤ (1 + u)uA and |ĥ − h| ≤ ẑ ≤ |ẑ − z| ≤ 2uA. So e_h = |ĥ − h| ≤ 2u(A + h) (the mask ×0/1: exact).
# p = 1: t = h, K = 2, F = A. p = 2: |ĥ² − h²| = e_h(2h + e_h) ≤ 4u(Ah + h²) + 4u²(A + h)² ≤ (2 + 8u)uA² + (6 + 8u)u·h²
# (2Ah ≤ A² + h²), and fl(ĥ·ĥ) adds u·ĥ² + u·TINY: K = 9, F = A² + TINY.
# A weight (every w ≥ 0 finite, W = max w): fl(w·t̂) adds u·w·t̂ + u·TINY: K + 2, F = W·F + TINY.
# The row sum of the C terms (the masked ones exactly 0) errs by ≤ Σ|t̂ − t| + γ_{C−1}·Σ|t̂| with γ_{C−1} ≤ (4/3)(C − 1)u
# (Higham §4.2), ≤ (K + 1.5(C − 1))·u·(C·F + s) as Ku ≤ 1/8 (point_bound's premise); the division by the exact C
# adds one rounding (u·l + u·TINY): l̂_n is within (K + 2C + 1)·u·(F + TINY + l_n), point_bound's premise for its N
# terms l_n ≥ 0. A score that is not finite (X = ∞) or a NaN: no bound (interval arithmetic).
def multi_margin_point_error(box: Box) -> PointBound | None:
    """The multi-class margin loss's float64 error bound for a point box (above; p in {1, 2}, weights ≥ 0)."""
    p, margin = int(box.params["p"]), float(box.params["margin"])
    if box.pred is None or box.target is None or p not in (1, 2) or not math.isfinite(margin):
        return None
    x = value_range(box)
    per_den = reduction_per_den(box.reduction, box.target.shape)
    if x is None or per_den is None or not box.pred.numel():
        return None
    a = abs(margin) + max(abs(x[0]), abs(x[1]))
    if not math.isfinite(a):
        return None
    k, floor = (2.0, a) if p == 1 else (9.0, a * a + TINY)
    w = tensor_param(box.params.get("weight"))
    if w is not None:
        if not bool((w >= 0).all() & torch.isfinite(w).all()):
            return None
        k, floor = k + 2, (float(w.max()) if w.numel() else 0.0) * floor + TINY
    classes = box.pred.shape[-1]
    return point_bound(k + 2 * classes + 1, (floor + TINY) * (1 + 4 * U), box.target.numel(), per_den)


@interval_formula("exact range (monotone in every score), interval arithmetic with outward rounding",
                  point_error=multi_margin_point_error)
def multi_margin_enclosure(box: Box) -> Iv:
    p, margin = int(box.params["p"]), float(box.params["margin"])
    target = box.require_target()
    x = box.pred_box()
    single = len(x.shape) == 1
    if single:
        x = x.unsqueeze(0)
    y = target.reshape(-1).long()
    c = x.shape[-1]
    other = (torch.arange(c)[None, :] != y[:, None]).to(torch.float64)
    signs = torch.where(other.bool(), 1.0, -1.0).to(torch.float64)

    def unweighted(v: Iv) -> Iv:
        h = (margin - v.gather(1, y[:, None]) + v).relu() * other
        return (h.sqr() if p == 2 else h).sum(-1) / float(c)
    # the sum over classes is per row, so monotone() over the whole (N, C) box is row-wise exact
    terms = monotone(unweighted, x, signs)
    w = tensor_param(box.params["weight"])
    if w is not None:
        terms = terms * w[y]
    if single and box.reduction == "none":
        terms = terms.reshape(*target.shape)
    return reduce_iv(terms, box.reduction)


# 0-1 loss: for a threshold, the error indicator is monotone in the score (a positive is wrong below the
# threshold, a negative at or above it), so the corners give its exact range. With argmax over classes an error is
# certain when another class's lowest score beats the true class's highest, and possible when another class's
# highest score reaches the true class's lowest; [certain, possible] encloses each term.
# A point box (lossapp.interval.point_bound), K = 0, A = 0: every term is exactly 0 or 1 as the steps compute it (a
# comparison or an argmax, then 1 − c), so only the reduction rounds.
def zero_one_point_error(box: Box) -> PointBound | None:
    """The 0-1 loss's float64 error bound for a point box (exact terms: K = 0, A = 0)."""
    per_den = None if box.target is None else reduction_per_den(box.reduction, box.target.shape)
    return None if per_den is None else point_bound(0, 0.0, box.target.numel(), per_den)


@interval_formula("exact range of each error indicator (monotone / argmax bounds)", point_error=zero_one_point_error)
def zero_one_enclosure(box: Box) -> Iv:
    target = box.require_target()
    x = box.pred_box()
    if len(x.shape) == len(target.shape) + 1:
        cd = 1 if len(x.shape) > 1 else 0
        xl, xh = x.lo.movedim(cd, -1), x.hi.movedim(cd, -1)
        t = target.long().unsqueeze(-1) if target.dim() else target.long().reshape(1)
        if not target.dim():
            xl, xh = xl.unsqueeze(0), xh.unsqueeze(0)
        y_lo, y_hi = xl.gather(-1, t), xh.gather(-1, t)
        others = torch.arange(xl.shape[-1]) != t
        sure = ((xl > y_hi) & others).any(-1).to(torch.float64)
        possible = ((xh >= y_lo) & others).any(-1).to(torch.float64)
        if not target.dim():
            sure, possible = sure[0], possible[0]
        return reduce_iv(Iv(sure, possible), box.reduction)
    threshold = float(box.params["threshold"])
    negative = -1.0 if bool((target < 0).any()) else 0.0
    exact_target = target.to(torch.float64)

    def err(v: Iv) -> Iv:
        label = torch.where(v.lo >= threshold, 1.0, negative).to(torch.float64)
        return Iv((label != exact_target).to(torch.float64))
    return reduce_iv(monotone(err, x, lambda: torch.where(target > 0, -1.0, 1.0).to(torch.float64)), box.reduction)


_REDUCE_CODE = 'l.mean() if reduction == "mean" else l.sum() if reduction == "sum" else l'

register(LossSpec(
    mistakes=("labels_01_not_mapped",),
    name="hinge", family="margin", title=msg("margin.hinge.title"), derivative=HINGE_DERIVATIVE,
    summary=msg("margin.hinge.summary"),
    formula=r"l_n = \max(0, \text{margin} - y_n f_n)", pred_kind="scores", target_kind="signs",
    params=(Param("margin", 1.0, Interval(Real, 0.0, 10.0), msg("margin.hinge.param.margin")),),
    steps=hinge_steps, enclosure=hinge_enclosure, reference=hinge_reference, reference_name="torch.relu(margin - y*f)",
    gradient=hinge_gradient,
    prepare=hinge_prepare, aliases=("svm", "hinge_loss", "svm_loss"),
    example={"pred": "[0.8, -0.5, 1.5, 0.3, -2.0]", "target": "[1, -1, 1, -1, 1]", "params": {"margin": 1.0}},
    torch_code="y = torch.where(target == 0, -torch.ones_like(target), target)\n"
               "l = torch.relu(margin - y * pred)\n" + _REDUCE_CODE,
))

register(LossSpec(
    class_dim=True, mistakes=("multi_margin_not_divided_by_C", "multi_margin_target_included"),
    name="multi_margin", family="margin", title=msg("margin.multi_margin.title"),
    summary=msg("margin.multi_margin.summary"),
    formula=r"l_n = \frac{1}{C} \sum_{i \ne y_n} w_{y_n} \max(0, \text{margin} - x_{n,y_n} + x_{n,i})^p",
    pred_kind="scores", target_kind="classes",
    params=(Param("p", 1, Interval(Integral, 1, 2), msg("margin.multi_margin.param.p")),
            Param("margin", 1.0, Interval(Real, 0.0, 10.0), msg("margin.multi_margin.param.margin")),
            Param("weight", None, Tensor(), msg("margin.multi_margin.param.weight"))),
    steps=multi_margin_steps, enclosure=multi_margin_enclosure, reference=multi_margin_reference,
    reference_name="torch.nn.functional.multi_margin_loss", prepare=multi_margin_prepare,
    aliases=("MultiMarginLoss", "multi_class_hinge", "multiclass_hinge"), target_dtype="index",
    example={"pred": "[[0.1, 0.2, 0.4, 0.8], [0.5, -0.3, 0.2, 0.1]]", "target": "[3, 0]",
             "params": {"p": 1, "margin": 1.0}},
    torch_code="F.multi_margin_loss(pred, target, p=p, margin=margin, weight=weight, reduction=reduction)",
))

register(LossSpec(
    mistakes=("accuracy_instead_of_error",),
    name="zero_one", family="margin", title=msg("margin.zero_one.title"),
    summary=msg("margin.zero_one.summary"),
    formula=r"l_n = \mathbf{1}[\hat{y}_n \ne y_n]", pred_kind="scores", target_kind="binary",
    params=(Param("threshold", 0.5, Interval(Real),
                  msg("margin.zero_one.param.threshold")),),
    steps=zero_one_steps, enclosure=zero_one_enclosure, reference=zero_one_reference, reference_name=msg("margin.reference_name.zero_one"),
    prepare=zero_one_prepare, aliases=("01", "0-1", "zero_one_loss", "error_rate", "misclassification"),
    differentiable=False, target_dtype="auto",
    example={"pred": "[0.9, 0.3, 0.6, 0.2, 0.55]", "target": "[1, 0, 0, 0, 1]", "params": {"threshold": 0.5}},
    torch_code="pred_label = (pred.argmax(dim=1 if pred.dim() > 1 else 0) if pred.dim() == target.dim() + 1\n"
               "              else torch.where(pred >= threshold, 1, -1 if bool((target < 0).any()) else 0))\n"
               "l = (pred_label != target).float()\n" + _REDUCE_CODE,
))
