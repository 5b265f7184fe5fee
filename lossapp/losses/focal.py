"""Focal losses: sigmoid focal loss (RetinaNet / torchvision / mmdetection, articles 000, 003, 004) and
the multi-class softmax focal loss.

The BCE-on-probabilities steps (torch's −100 clamp), the logits hint, the soft-label check and the
reduction scale live here and are reused by `lossapp.losses.truncated`; the stable elementary pieces
(sigmoid, log-sigmoid, log-softmax, torch's BCE gradient) are in `lossapp.losses.stable`.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import torch
import torch.nn.functional as F

from lossapp.i18n import msg
from lossapp.inputs import (
    InputError,
    param_name,
    require_binary,
    require_broadcastable,
    require_class_indices,
    require_per_class,
    require_probabilities,
    require_same_shape,
    shape_text,
)
from lossapp.inputs.constraints import Interval, Options, Tensor
from lossapp.interval import (
    Box,
    ClassTargets,
    Iv,
    PointBound,
    interval_formula,
    log_softmax_iv,
    monotone,
    monotone_scalar,
    point_bound,
    reduce_iv,
    tensor_param,
    value_range,
    where,
)
from lossapp.losses.classification import (
    bce_enclosure_terms,
    bce_probability_derivative,
    counted_per_den,
    log_softmax_point_error,
)
from lossapp.losses.derivative import derivative_step, number
from lossapp.losses.stable import (
    LOG_CLAMP,
    all_binary,
    all_finite,
    bce_probability_grad,
    bce_with_logits_stable,
    class_dim,
    exp_neg_abs,
    log_softmax_steps,
    nonneg_mask,
    select,
    stable_sigmoid,
    within,
)
from lossapp.reduction import reduce
from lossapp.registry import LossSpec, Param, RerunMemo, register
from lossapp.trace import Trace, in_blocks

try:  # torchvision is optional: its sigmoid_focal_loss is the reference when it can be imported
    from torchvision.ops import sigmoid_focal_loss as _tv_sigmoid_focal_loss
except Exception:  # ImportError, or a torchvision built for another torch
    _tv_sigmoid_focal_loss = None

HINT_COLUMN_WEIGHT = msg("focal.hint.column_weight")
HINT_ALPHA = msg("focal.hint.alpha")


# -- pieces shared with truncated.py ------------------------------------------------------------------

def soft_label_check(target: torch.Tensor, trace: Trace, name: str = "target") -> None:
    """Targets must lie in [0, 1]; values strictly between 0 and 1 (soft labels) are allowed with a warning (not looked
    for on a quiet trace: nobody reads its warnings)."""
    require_binary(target, name)
    if not trace.quiet and not all_binary(target):
        trace.warn(msg("focal.warn.target_has_soft_labels_values"))


def logits_hint(pred: torch.Tensor, trace: Trace, hint: str) -> None:
    """Warn when logits look like probabilities (all in [0, 1], some strictly inside), and about ±inf logits. Nothing on
    a quiet trace (a rerun of the checker: nobody reads its warnings)."""
    if trace.quiet or not pred.is_floating_point():
        return
    if not all_finite(pred):  # NaN was refused before: this is ±inf
        trace.warn(msg("focal.warn.pred_has_inf_logits_the"))
    if within(pred, 0, 1) and not all_binary(pred):
        trace.warn(hint)


def bce_probability_steps(trace: Trace, p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """ce = −[y log p + (1−y) log(1−p)] with torch's −100 clamp on each log, written as steps."""
    raw_p, raw_q = torch.log(p), torch.log(1 - p)

    def note(raw: torch.Tensor) -> str:
        raw = raw.detach()
        fired = int((raw < LOG_CLAMP).sum()) if raw.numel() and float(raw.min()) < LOG_CLAMP else 0
        return msg("focal.note.clamp_fires", count=fired) if fired else msg("focal.note.clamp_quiet")

    log_p = trace.add("log p", msg("focal.step.log_of_p_clamped_at"), r"\log p = \max(\ln p,\,-100)",
                      torch.clamp_min(raw_p, LOG_CLAMP), note=note(raw_p), sub=r"\max(\ln $p, -100)", p=p)
    log_q = trace.add("log(1-p)", msg("focal.step.log_of_1_p_clamped"), r"\log(1-p) = \max(\ln(1-p),\,-100)",
                      torch.clamp_min(raw_q, LOG_CLAMP), note=note(raw_q), sub=r"\max(\ln(1-$p), -100)", p=p)
    return trace.add("ce", msg("focal.step.binary_cross_entropy"), r"\mathrm{ce} = -[y\,\log p + (1-y)\,\log(1-p)]",
                     -(y * log_p + (1 - y) * log_q) + 0.0, sub=r"-[$y \cdot $a + (1-$y) \cdot $b]", y=y, a=log_p, b=log_q)


def reduction_scale(loss: torch.Tensor, reduction: str, avg_factor: float | None = None,
                    denominator: torch.Tensor | None = None) -> torch.Tensor | float:
    """d(reduced)/d(l_n) for the reductions of `lossapp.reduction.reduce` (ones for none: the engine sums)."""
    if reduction in ("none", "sum"):
        return 1.0
    if avg_factor is not None:
        return 1.0 / float(avg_factor)
    if denominator is not None:
        return 1.0 / denominator.sum()
    return 1.0 / max(loss.numel(), 1)


# -- sigmoid focal loss -------------------------------------------------------------------------------

def _focal_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                   trace: Trace) -> tuple[torch.Tensor, torch.Tensor | None]:
    require_same_shape(pred, target)
    if params["input"] == "probabilities":
        require_probabilities(pred, "pred")
    else:
        logits_hint(pred, trace, msg("focal.warn.probabilities_as_logits"))
    soft_label_check(target, trace)
    require_broadcastable(params.get("weight"), param_name("weight"), pred.shape, hint=HINT_COLUMN_WEIGHT)
    if params.get("avg_factor") is not None and float(params["avg_factor"]) <= 0:
        raise InputError("focal.error.avg_factor", got=f"{params['avg_factor']:g}")
    return pred, target


def _avg_factor(params: dict[str, Any], reduction: str, trace: Trace | None = None) -> float | None:
    """mmdetection's avg_factor: only with mean (ValueError in mmdetection with sum; ignored with none)."""
    avg_factor = params.get("avg_factor")
    if avg_factor is None:
        return None
    if reduction == "sum":
        raise InputError("focal.error.avg_factor_sum")
    if reduction == "none":
        if trace is not None:
            trace.warn(msg("focal.warn.avg_factor_only_changes_the"))
        return None
    return float(avg_factor)


def focal_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                reduction: str) -> torch.Tensor:
    """Sigmoid focal loss (Lin et al. 2017, RetinaNet), as torchvision's sigmoid_focal_loss and
    mmdetection's py_sigmoid_focal_loss.

    Unreduced: l_n = w_n · α_t (1 − p_t)^γ · ce_n, with p = σ(x) (or p = pred for input=probabilities),
    ce = −[y log p + (1−y) log(1−p)], p_t = p y + (1−p)(1−y), α_t = α y + (1−α)(1−y) (α_t = 1 when α < 0).
    mean: Σ l_n / n (n counts every element, also with weights, as mmdetection), or Σ l_n / avg_factor;
    sum: Σ l_n; none: l.
    Params: alpha=0.25 (negative disables), gamma=2.0, weight (elementwise, broadcast to pred),
    avg_factor (mean only), input="logits"|"probabilities".
    Reference: torchvision's formula on F.binary_cross_entropy_with_logits (F.binary_cross_entropy for
    probabilities), torchvision.ops.sigmoid_focal_loss itself when importable.

    Shape:
        - pred: (*), logits (probabilities with input=probabilities), any number of dimensions.
        - target: (*), the same shape as pred, 0/1 (soft labels are warned about).
        - weight: broadcastable to (*).
        - output: a scalar for mean and sum; (*) for none.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("focal", "[[1.2, -0.8, 0.3], [-2.0, 0.5, 3.0]]", "[[1, 0, 0], [0, 1, 1]]")
        >>> print(f"{r.scalar:.4f}")
        0.0433
    """
    alpha, gamma = float(params["alpha"]), float(params["gamma"])
    avg_factor = _avg_factor(params, reduction, trace)
    y = target
    if params["input"] == "probabilities":
        p = trace.add("p", msg("focal.step.probability_given"), r"p = \hat{y}", pred,
                      note=msg("focal.note.input_probabilities_pred_is_p"))
        ce = bce_probability_steps(trace, p, y)
    else:
        s = nonneg_mask(pred)  # [x ≥ 0] and e^{−|x|}, shared by σ(x) and the stable BCE
        e = exp_neg_abs(pred, s)
        p = trace.add("p", msg("focal.step.sigmoid_stable"),
                      r"p = \sigma(x) = \begin{cases} \frac{1}{1+e^{-x}} & x \ge 0 \\ \frac{e^{x}}{1+e^{x}} & x < 0"
                      r"\end{cases}", stable_sigmoid(pred, e, s),
                      note=msg("focal.note.each_branch_only_exponentiates_x"),
                      sub=r"\sigma($x)", x=pred)
        ce = trace.add("ce", msg("focal.step.binary_cross_entropy_with_logits"),
                       r"\mathrm{ce} = -[y\,\log p + (1-y)\,\log(1-p)] = \max(x,0) - x\,y + \log(1+e^{-|x|})",
                       bce_with_logits_stable(pred, y, e, s),
                       note=msg("focal.note.the_stable_form_of_torch"),
                       sub=r"\max($x,0) - $x \cdot $y + \log(1+e^{-|$x|})", x=pred, y=y)
    not_y = 1 - y  # (shared by p_t and α_t)
    p_t = trace.add("p_t", msg("focal.step.probability_of_the_true_class"), r"p_t = p\,y + (1-p)(1-y)", p * y + (1 - p) * not_y,
                    note=msg("focal.note.p_t"),
                    sub=r"$p \cdot $y + (1-$p)(1-$y)", p=p, y=y)
    if alpha >= 0:
        alpha_t = trace.add("alpha_t", msg("focal.step.class_balancing_factor"), r"\alpha_t = \alpha\,y + (1-\alpha)(1-y)",
                            alpha * y + (1 - alpha) * not_y,
                            note=msg("focal.note.alpha_balancing"),
                            sub=rf"{alpha:g} \cdot $y + {1 - alpha:g} \cdot (1-$y)", y=y)
    else:
        alpha_t = trace.add("alpha_t", msg("focal.step.class_balancing_factor_off"), r"\alpha_t = 1", torch.ones_like(p_t),
                            note=msg("focal.note.alpha_off"))
    modulating = trace.add("(1-p_t)^gamma", msg("focal.step.modulating_factor"), r"(1-p_t)^{\gamma}", (1 - p_t) ** gamma,
                           note=msg("focal.note.down_weights_easy_examples_p"),
                           sub=rf"(1-$q)^{{{gamma:g}}}", q=p_t)
    weight_note = msg("focal.note.focal_weight_is_1" if gamma == 0 and alpha < 0 else "focal.note.focal_weight")
    focal_weight = trace.add("focal_weight", msg("focal.step.focal_weight"), r"\alpha_t\,(1-p_t)^{\gamma}", alpha_t * modulating,
                             note=weight_note, sub=r"$a \cdot $m", a=alpha_t, m=modulating)
    weight = params.get("weight")
    term = r"l_n = \alpha_t\,(1-p_t)^{\gamma}\,\mathrm{ce}_n"
    if weight is None:
        loss = trace.add("l", msg("focal.step.focal_loss_term"), term, focal_weight * ce, sub=r"$f \cdot $c", f=focal_weight, c=ce)
    else:
        raw = trace.add("l_unweighted", msg("focal.step.focal_loss_term_before_the"), term, focal_weight * ce,
                        sub=r"$f \cdot $c", f=focal_weight, c=ce)
        w = weight.to(raw.dtype)
        loss = trace.add("l", msg("focal.step.weighted_focal_loss_term"), r"l_n = w_n \cdot \alpha_t\,(1-p_t)^{\gamma}\,\mathrm{ce}_n",
                         w * raw, note=msg("focal.note.elementwise_weight_as_mmdetection_s"),
                         sub=r"$w \cdot $l", w=w, l=raw)
    _focal_derivative_step(trace, pred.detach(), y, alpha_t.detach(), weight, gamma, params["input"])
    return reduce(trace, loss, reduction, avg_factor=avg_factor)


# exponents torch's pow computes as products in both its vectorised and scalar loops (aten's
# pow_tensor_scalar_optimized_kernel: base·base, base·base·base), correctly rounded wherever an element is
PRODUCT_POWERS = (2.0, 3.0)


def focal_value(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any], reduction: str,
                memo: RerunMemo | None = None) -> torch.Tensor:
    """focal_steps's value alone (LossSpec.rerun: the checker's reruns with other labels, inputs, α or γ), with no
    trace and no derivative step. The terms of pred alone (s = [x ≥ 0], e^{−|x|}, p = σ(x), log(1 + e^{−|x|}); or log p
    and log(1 − p), each clamped at −100) come from `memo`, made once for every rerun of one problem.

    Every element is what focal_steps computes, bit for bit: the same correctly rounded float64 operations on the same
    operands. Only the operand order of a product or a sum changes (a·b = b·a, a + b = b + a exactly), and 1 − v is
    formed as −v + 1 (the same exact difference, rounded once). With γ = 0 the modulating factor (1 − p_t)^0 is exactly
    1 (also at 1 − p_t = 0) and α_t·1 = α_t, so it is left out. On the CPU the terms are formed CHUNK elements at a time
    into one tensor of pred's shape (lossapp.trace.in_blocks, `_focal_block`; the intermediates in three buffers of a
    block's size, in cache: a fresh large buffer costs more to touch than the arithmetic on it). Each of those
    operations (−, +, ·) is correctly rounded, so an element's result does not depend on the block it is in; so is
    (1 − p_t)^γ for γ = 2 and 3 (PRODUCT_POWERS). For another γ, torch's vectorised and scalar pow may differ in the last bit, and which elements
    take which path depends on the tensor's length and the threads' split of it: (1 − p_t)^γ is then formed on the whole
    tensor of 1 − p_t, as focal_steps forms it. The reduction is lossapp.reduction.reduce's of the terms: the same sum
    of the same tensor."""
    y = target
    if pred.dtype != torch.float64 or y.dtype != torch.float64:  # (in place, a narrower y would round the products)
        return focal_steps(Trace(quiet=True), pred, y, params, reduction)
    memo = RerunMemo() if memo is None else memo
    once = RerunMemo.once
    alpha, gamma = float(params["alpha"]), float(params["gamma"])
    avg_factor = _avg_factor(params, reduction)
    if params["input"] == "probabilities":
        p = pred
        log_p = once(memo.pred, "log p", lambda: torch.clamp_min(torch.log(p), LOG_CLAMP))
        log_q = once(memo.pred, "log(1-p)", lambda: torch.clamp_min(torch.log(1 - p), LOG_CLAMP))
        pieces: tuple[torch.Tensor, ...] = (log_p, log_q)
        binary = False
    else:
        s, e, p, tail = once(memo.pred, "s, e, p, tail", lambda: _sigmoid_terms(pred, memo.buffer(pred)))
        memo.pred.setdefault(RerunMemo.SIGMOID, p)  # stable_sigmoid(pred), bit for bit (_sigmoid_terms)
        if s is None:  # a non-finite logit: bce_with_logits_stable's torch.where forms, on the whole tensors
            return _focal_value_whole(pred, y, p, once(memo.pred, ("1-p", "logits"), lambda: 1 - p),
                                      bce_with_logits_stable(pred, y, e, s), params, reduction)
        # bce_with_logits_stable: x·(s − y) + tail for 0/1 labels, else x·s − x·y + tail
        binary = all_binary(y)
        pieces = (s, pred, tail)
    weight = params.get("weight")
    w = None if weight is None else weight.to(torch.float64)
    operands = (y, p, *pieces, *(() if w is None else (w,)))
    if not all(v.shape == pred.shape and v.is_contiguous() and v.device == pred.device for v in operands):
        ce = _focal_ce(pieces, y, torch.empty_like(y), None, binary)
        one_minus_p = once(memo.pred, ("1-p", params["input"]), lambda: 1 - p)
        return _focal_value_whole(pred, y, p, one_minus_p, ce, params, reduction)
    # the terms: for a value, in the memo's buffer (reduced before this returns); for reduction none, a tensor of their own
    loss = torch.empty_like(pred) if reduction == "none" else memo.buffer(pred)

    def modulating_base(out: torch.Tensor, y: torch.Tensor, p: torch.Tensor, not_y: torch.Tensor,
                        one_minus_p: torch.Tensor) -> None:  # 1 − p_t into `out`
        torch.neg(p, out=one_minus_p).add_(1)  # 1 − p
        torch.neg(y, out=not_y).add_(1).mul_(one_minus_p)  # (1 − y)·(1 − p)
        torch.mul(p, y, out=out).add_(not_y).neg_().add_(1)  # −p_t + 1
    in_block = gamma in PRODUCT_POWERS
    if gamma != 0 and not in_block:  # (1 − p_t)^γ on the whole tensor, as focal_steps forms it
        in_blocks(loss, modulating_base, y, p, scratch=2)  # (the operands are contiguous of pred's shape: checked above)
        loss.pow_(gamma)

    def block(out: torch.Tensor, y: torch.Tensor, p: torch.Tensor, *rest: torch.Tensor) -> None:
        *given, ce, not_y, other = rest  # (pieces, then w; then three scratch buffers)
        if gamma != 0 and in_block:
            modulating_base(out, y, p, ce, not_y)
            out.pow_(gamma)
        _focal_ce(tuple(given[:len(pieces)]), y, ce, other, binary)
        _focal_block(out, y, ce, not_y, other, alpha, gamma != 0, given[-1] if w is not None else None)
    in_blocks(loss, block, *operands, scratch=3)
    return reduce(Trace(quiet=True), loss, reduction, avg_factor=avg_factor)


def _focal_ce(pieces: tuple[torch.Tensor, ...], y: torch.Tensor, out: torch.Tensor, spare: torch.Tensor | None,
              binary: bool) -> torch.Tensor:
    """The binary cross-entropy term of focal_value into `out`: from (log p, log(1 − p)) −(y·log p + (1 − y)·log(1 − p))
    + 0.0; from (s, x, tail) with 0/1 labels (s − y)·x + tail, else x·s − x·y + tail (y·log p or x·s in `spare`,
    scratch of out's size, or a new tensor)."""
    if len(pieces) == 2:
        log_p, log_q = pieces
        torch.neg(y, out=out).add_(1).mul_(log_q)  # (1 − y)·log(1 − p)
        return out.add_(torch.mul(y, log_p) if spare is None else torch.mul(y, log_p, out=spare)).neg_().add_(0.0)
    s, x, tail = pieces
    if binary:
        return torch.sub(s, y, out=out).mul_(x).add_(tail)
    xs = x * s if spare is None else torch.mul(x, s, out=spare)
    torch.mul(x, y, out=out)
    return torch.sub(xs, out, out=out).add_(tail)


def _focal_block(out: torch.Tensor, y: torch.Tensor, ce: torch.Tensor, not_y: torch.Tensor, other: torch.Tensor,
                 alpha: float, modulated: bool, w: torch.Tensor | None) -> None:
    """The focal terms w·α_t·(1 − p_t)^γ·ce of one block into `out`, which holds (1 − p_t)^γ where `modulated`, with
    α_t = α·y + (1 − α)·(1 − y) (left out for α < 0); `not_y` and `other` are scratch of the block's size."""
    if alpha >= 0:
        torch.neg(y, out=not_y).add_(1)  # 1 − y
        focal_weight = torch.mul(y, alpha, out=other).add_(not_y.mul_(1 - alpha))
        if modulated:
            out.mul_(focal_weight).mul_(ce)  # (α_t·(1 − p_t)^γ)·ce
        else:
            torch.mul(focal_weight, ce, out=out)
    elif modulated:  # α_t = 1
        out.mul_(ce)
    else:  # α_t = 1 and (1 − p_t)^0 = 1: the term is ce (1·ce exactly)
        out.copy_(ce)
    if w is not None:
        out.mul_(w)


def _focal_value_whole(pred: torch.Tensor, y: torch.Tensor, p: torch.Tensor, one_minus_p: torch.Tensor,
                       ce: torch.Tensor, params: dict[str, Any], reduction: str) -> torch.Tensor:
    """focal_value on whole tensors (a non-finite logit, or operands that are not contiguous tensors of pred's shape):
    `_focal_block`'s operations, each on the whole tensors."""
    alpha, gamma = float(params["alpha"]), float(params["gamma"])
    not_y = torch.rsub(y, 1)
    focal_weight = torch.mul(y, alpha) if alpha >= 0 else None  # α_t = α·y + (1 − α)·(1 − y)
    if focal_weight is not None:
        focal_weight.add_(torch.mul(not_y, 1 - alpha))
    if gamma != 0:
        p_t = torch.mul(p, y)  # p_t = p·y + (1 − p)·(1 − y), then (1 − p_t)^γ
        p_t.add_(not_y.mul_(one_minus_p))
        modulating = p_t.neg_().add_(1).pow_(gamma)
        focal_weight = modulating if focal_weight is None else focal_weight.mul_(modulating)
    elif focal_weight is None:  # α_t = 1 and (1 − p_t)^0 = 1
        focal_weight = torch.ones_like(ce)
    loss = focal_weight.mul_(ce)
    weight = params.get("weight")
    if weight is not None:
        w = weight.to(loss.dtype)
        loss = loss.mul_(w) if torch.broadcast_shapes(w.shape, loss.shape) == loss.shape else w * loss
    return reduce(Trace(quiet=True), loss, reduction, avg_factor=_avg_factor(params, reduction))


def _sigmoid_terms(x: torch.Tensor, work: torch.Tensor | None = None) -> tuple[
        torch.Tensor | None, torch.Tensor | None, torch.Tensor, torch.Tensor | None]:
    """(s, e, p, tail) of focal_steps for logits x: s = [x ≥ 0] (None for a non-finite x), e = e^{−|x|} (kept only
    where s is None: the where-forms need it), p = σ(x), tail = log(1 + e^{−|x|}) (None where s is None). For finite x,
    exp_neg_abs's and stable_sigmoid's operations in place in three buffers: e = exp(x·(1 − 2s)),
    p = (s + e·(1 − s))/(1 + e), then tail = log1p(e) in e's buffer; 1 − s and 1 + e in `work` (a float64 scratch
    tensor of x's shape, free again when this returns) where given."""
    s = nonneg_mask(x)
    if s is None:
        e = exp_neg_abs(x, s)
        return None, e, stable_sigmoid(x, e, s), None
    e = torch.mul(s, -2).add_(1).mul_(x).exp_()
    buffer = torch.rsub(s, 1) if work is None else torch.neg(s, out=work).add_(1)  # (−s + 1: the same 1 − s)
    p = torch.addcmul(s, e, buffer).div_(torch.add(e, 1, out=buffer))
    return s, None, p, e.log1p_()


FOCAL_DERIVATIVE = "dl/dx"


def _focal_derivative_step(trace: Trace, v: torch.Tensor, y: torch.Tensor, alpha_t: torch.Tensor,
                           weight: torch.Tensor | None, gamma: float, kind: str) -> None:
    """∂l_n/∂v_n (v = x, or p for input=probabilities) of l = w·α_t·(1 − p_t)^γ·ce: the product rule with
    ∂p_t/∂p = 2y − 1 and ∂ce/∂p = −y/p + (1 − y)/(1 − p) (torch's −100 clamp: 0 where it fires); for logits both times
    ∂p/∂x = p(1 − p), so that ∂ce/∂x = p − y."""
    logits = kind == "logits"

    def fn(v: torch.Tensor, y: torch.Tensor, a: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        p = stable_sigmoid(v) if logits else v
        if logits:
            ce, d_ce, dp = bce_with_logits_stable(v, y), p - y, p * (1 - p)
        else:
            ce = -(y * torch.clamp_min(torch.log(p), LOG_CLAMP) + (1 - y) * torch.clamp_min(torch.log1p(-p), LOG_CLAMP))
            d_ce, dp = bce_probability_derivative(p, y), torch.ones_like(p)
        q = 1 - (p * y + (1 - p) * (1 - y))  # 1 − p_t
        d_mod = select(q > 0, gamma * q ** (gamma - 1), 0.0) if gamma != 0 else torch.zeros_like(q)
        return w * a * (q ** gamma * d_ce - d_mod * (2 * y - 1) * dp * ce)

    w = torch.ones((), dtype=torch.float64, device=v.device) if weight is None else weight.double()
    wrt = "x" if logits else "p"
    formula = (rf"\frac{{\partial l_n}}{{\partial {wrt}_n}} = w_n\,\alpha_t\left[(1-p_t)^{{\gamma}}\,"
               rf"\frac{{\partial \mathrm{{ce}}}}{{\partial {wrt}}} - \gamma (1-p_t)^{{\gamma-1}}\,"
               rf"\frac{{\partial p_t}}{{\partial {wrt}}}\,\mathrm{{ce}}\right]")
    derivative_step(trace, FOCAL_DERIVATIVE, formula, fn, v, y, alpha_t.expand(v.shape), w.expand(v.shape),
                    point=lambda v, y, a, w, g: msg("focal.derivative.point", v=number(v), wrt=wrt, y=number(y),
                                                    g=number(g)))


def _focal_reduce(loss: torch.Tensor, reduction: str, avg_factor: float | None) -> torch.Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / avg_factor if avg_factor is not None else loss.mean()


def focal_reference(x: torch.Tensor, y: torch.Tensor, params: dict[str, Any], reduction: str) -> torch.Tensor:
    """torchvision.ops.sigmoid_focal_loss's formula (the function itself when importable), then
    mmdetection's weight and avg_factor."""
    alpha, gamma = float(params["alpha"]), float(params["gamma"])
    weight, avg_factor = params.get("weight"), _avg_factor(params, reduction)
    if params["input"] == "logits" and weight is None and avg_factor is None and _tv_sigmoid_focal_loss is not None:
        return _tv_sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma, reduction=reduction)
    if params["input"] == "probabilities":
        p = x
        ce = F.binary_cross_entropy(x, y, reduction="none")
    else:
        p = torch.sigmoid(x)
        ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    if weight is not None:
        loss = loss * weight
    return _focal_reduce(loss, reduction, avg_factor)


def _focal_logits_gradient(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any], reduction: str,
                           alpha: float, gamma: float) -> torch.Tensor | None:
    """The sigmoid focal loss's d(loss)/dx for 0/1 labels. With s = 1 − 2y and z = s·x, 1 − p_t = σ(z) and ce = softplus(z)
    (= log(1 + e^{−|z|}) + max(z, 0)), so l = w·α_t·σ(z)^γ·softplus(z) and
    dl/dx = s·w·α_t·σ(z)^γ·[γ·σ(−z)·softplus(z) + σ(z)]: no (1 − p_t)^{γ−1} (infinite at 1 − p_t = 0 for γ < 1) and
    no 1 − σ cancelling. A few passes instead of autograd's chain through every step. None (autograd of the trace)
    for soft labels, ±inf logits or 0 < γ < 1, where the trace's own autograd stays the reference."""
    x, y = pred.detach(), target.double()
    if not (gamma == 0 or gamma >= 1) or not all_finite(pred) or not all_binary(y):  # (pred: its range kept, in a check)
        return None
    sign = (y * -2).add_(1)
    z = x * sign
    q = torch.sigmoid(z)
    ce = torch.exp(-z.abs()).log1p_().add_(z.clamp_min(0))
    inner = torch.sigmoid(z.neg_()).mul_(ce).mul_(gamma).add_(q) if gamma else q
    grad = (q.pow_(gamma) if gamma else torch.ones_like(q)).mul_(inner).mul_(sign)
    if alpha >= 0:
        grad.mul_((1 - y).mul_(1 - alpha).add_(y, alpha=alpha))  # α_t = α·y + (1 − α)(1 − y), as the trace forms it
    if params.get("weight") is not None:
        grad = grad * params["weight"].double()
    return grad * reduction_scale(grad, reduction, _avg_factor(params, reduction)) + 0.0


def focal_gradient(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                   reduction: str) -> torch.Tensor | None:
    """d(loss)/d(pred). Logits: the closed form below for finite logits, 0/1 labels and γ = 0 or γ ≥ 1 (else None:
    autograd of the trace). Probabilities: the chain rule by hand with torch's BCE backward (p − y)/max(p(1−p), 1e−12),
    which stays finite where the exact derivative does not (p = 0 or 1)."""
    alpha, gamma = float(params["alpha"]), float(params["gamma"])
    if params["input"] == "logits":
        return _focal_logits_gradient(pred, target, params, reduction, alpha, gamma)
    p, y = pred.double(), target.double()
    ce = -(y * torch.clamp_min(torch.log(p), LOG_CLAMP) + (1 - y) * torch.clamp_min(torch.log(1 - p), LOG_CLAMP))
    q = 1 - (p * y + (1 - p) * (1 - y))  # 1 - p_t, with d q / d p = 1 - 2y
    alpha_t = alpha * y + (1 - alpha) * (1 - y) if alpha >= 0 else torch.ones_like(p)
    d_mod = torch.zeros_like(p) if gamma == 0 else gamma * q ** (gamma - 1) * (1 - 2 * y)
    grad = alpha_t * (d_mod * ce + q ** gamma * bce_probability_grad(p, y))
    if params.get("weight") is not None:
        grad = grad * params["weight"].double()
    return grad * reduction_scale(grad, reduction, _avg_factor(params, reduction)) + 0.0


# -- rounding enclosure (lossapp.interval) ----------------------------------------------------------------------------
# l = w·α_t·(1 − p_t)^γ·ce. For a hard label each term is monotone in the input: y = 1: α·(1 − p)^γ·(−log p) with
# both factors ≥ 0 and non-increasing in p (and p = σ(x) is increasing in x); y = 0: (1 − α)·p^γ·(−log(1 − p)), both
# factors non-decreasing. So the corners give the exact range of the unweighted term; the weight (any sign) is
# applied after by interval arithmetic. Soft labels: plain interval arithmetic over the same formula.

def _focal_label_factors(x: Iv, y: torch.Tensor, probabilities: bool) -> tuple[Iv, Iv]:
    """(ce, 1 − p_t) for exact 0/1 labels y at a corner x of the box: each factor is the branch its label picks."""
    one = y == 1
    if probabilities:
        p = x.clamp(0.0, 1.0)
        return bce_enclosure_terms(p, Iv(y), labels=True), where(one, (1.0 - p).clamp(0.0, None), p)
    z = where(one, -x, x)
    return z.softplus(), z.sigmoid()


def _focal_label_terms(box: Box, y: torch.Tensor, gamma: float, probabilities: bool) -> Iv:
    """The range over the box of each term without α, (1 − p_t)^γ·ce, for exact 0/1 labels y (monotone: see above),
    shared by the enclosures of one problem and its variants (`Box.shared`): by every α (the variants without α,
    with α swapped or on both classes)."""
    def at(corner: Iv) -> Iv:
        ce, one_minus_pt = _focal_label_factors(corner, y, probabilities)
        return one_minus_pt.clamp(0.0, None).pow(gamma) * ce

    def make() -> Iv:
        x = box.pred_box(0.0, 1.0) if probabilities else box.pred_box()
        return monotone(at, x, lambda: torch.where(y == 1, -1.0, 1.0).to(torch.float64))
    return box.shared(("focal_label_terms", probabilities, gamma), make)


def _focal_enclosure_terms(x: Iv, y: Iv, alpha: float, gamma: float, probabilities: bool) -> Iv:
    not_y = 1.0 - y  # (shared by ce, 1 − p_t and α_t)
    if probabilities:
        p = x.clamp(0.0, 1.0)
        ce = bce_enclosure_terms(p, y)
        one_minus_pt = y * (1.0 - p) + not_y * p
    else:
        ce = y * (-x).softplus() + not_y * x.softplus()
        one_minus_pt = y * (-x).sigmoid() + not_y * x.sigmoid()
    term = one_minus_pt.clamp(0.0, None).pow(gamma) * ce
    return term * (y * alpha + not_y * (1.0 - alpha)) if alpha >= 0 else term


# A point box (lossapp.interval.point_bound): the terms are ≥ 0 (α_t, (1 − p_t)^γ and ce are, for α in [0, 1] or off
# and y in [0, 1]), and each computed term is within K·u·A of its exact value with K = 18γ + 17 and A = M + C, where
# C ≥ every ce (logits: ce = max(x, 0) − x·y + log1p(e^{−|x|}) ≤ |x| + log 2 ≤ M + 1; probabilities: both logs are
# clamped at −100, so ce ≤ max(−log p_min, −log(1 − p_max), capped at 100)) and M = max|x| (logits) or 1
# (probabilities). Each step, with ATen's ≤ 1 ulp (2u) log, log1p, exp and pow and one rounding per + − × ÷:
# - ce within 8u·(M + ce): logits, x·(s − y) exact for 0/1 labels, x·s − x·y within 2u·|x| for soft ones, plus the
#   tail log1p(e^{−|x|}) within 4u relative, a sum of two terms ≥ 0; probabilities, as BCE (6u·ce) but log(1 − p)
#   of the rounded 1 − p adds an absolute u (a relative error u of its argument).
# - p = σ(x) within 6u (relative; p given: exact), so p_t = p·y + (1 − p)(1 − y) and b = 1 − p_t are within 17u
#   (absolute; every part ≤ 1); b^γ is 1 exactly for γ = 0 and, for 1 ≤ γ ≤ 100, within γ·(1 + 17u)^{γ−1}·17u + 2u
#   ≤ (18γ + 3)·u (b ≤ 1: the derivative γb^{γ−1} ≤ γ), an absolute error.
# - α_t = α·y + (1 − α)(1 − y) ≤ 1 within 3u·α_t (a sum of terms ≥ 0), so α_t·b^γ is within α_t·(18γ + 8)u, and
#   l = α_t·b^γ·ce within α_t·[(18γ + 8)u·ce + 8u(M + ce) + u·ce] ≤ α_t·(18γ + 17)·u·(M + C).
# The error is proportional to α_t: the terms divided by α_t (the variants without α, lossapp.variants.focal_base)
# keep the bound of α off, within POINT_MARGIN. Weights are left to interval arithmetic; the mean divides by n or by
# avg_factor (exact).
def focal_point_error(box: Box) -> PointBound | None:
    """The sigmoid focal loss's float64 error bound for a point box (see above)."""
    params = box.params
    alpha, gamma = float(params["alpha"]), float(params["gamma"])
    if params.get("weight") is not None or box.pred is None or box.target is None \
            or tuple(box.target.shape) != tuple(box.pred.shape) or not (alpha < 0 or 0 <= alpha <= 1) \
            or not (gamma == 0 or 1 <= gamma <= 100):
        return None
    x, y = value_range(box), value_range(box, "target")
    if x is None or y is None or not (math.isfinite(x[0]) and math.isfinite(x[1])) or y[0] < 0 or y[1] > 1:
        return None
    if params["input"] == "probabilities":
        if x[0] < 0 or x[1] > 1:
            return None
        worst = max(-math.log(x[0]) if x[0] > 0 else math.inf, -math.log1p(-x[1]) if x[1] < 1 else math.inf)
        floor = 1.0 + min(worst, 100.0) * (1 + 2.0 ** -40) + 2.0 ** -40
    else:
        m = max(abs(x[0]), abs(x[1]))
        floor = 2 * m + 1.0
    n = box.pred.numel()
    avg = params.get("avg_factor")
    if box.reduction == "mean" and avg is not None:
        per_den = n / float(avg) if float(avg) > 0 else None
    else:
        per_den = {"sum": float(n), "mean": 1.0}.get(box.reduction)
    return None if per_den is None or not n else point_bound(18 * gamma + 17, floor, n, per_den)


@interval_formula("exact range per element for 0/1 labels (monotone), interval arithmetic with outward rounding",
                  point_error=focal_point_error)
def focal_enclosure(box: Box) -> Iv:
    params = box.params
    alpha, gamma = float(params["alpha"]), float(params["gamma"])
    probabilities = params["input"] == "probabilities"
    target = box.require_target()
    if box.labels:
        # α_t ≥ 0 is exact: times the range of the terms without α (non-negative) it is the range of the terms
        y = target.to(torch.float64)
        term = _focal_label_terms(box, y, gamma, probabilities)
        if alpha >= 0:
            term = term * torch.where(y == 1, torch.tensor(alpha, dtype=torch.float64),
                                      torch.tensor(1.0 - alpha, dtype=torch.float64))
    else:
        x = box.pred_box(0.0, 1.0) if probabilities else box.pred_box()
        term = _focal_enclosure_terms(x, box.target_box(0.0, 1.0), alpha, gamma, probabilities)
    w = tensor_param(params["weight"])
    if w is not None:
        term = term * w
    avg = params["avg_factor"]
    return reduce_iv(term, box.reduction, avg_factor=float(avg) if avg is not None and box.reduction == "mean" else None)


register(LossSpec(
    natural_log=True, activation="sigmoid", focal=True, alpha_label_sums=True,
    mistakes=("labels_swapped", "weighted_mean", "alpha_on_both_classes", "alpha_swapped"),
    conventions=("keras_clip", "keras_label_smoothing", "keras_focal_no_alpha", "smp_focal_no_alpha",
                 "mmdet_avg_factor_eps", "monai_focal"),
    name="focal", family="classification", title=msg("focal.focal.title"), derivative=FOCAL_DERIVATIVE, curves="focal",
    summary=msg("focal.focal.summary"),
    formula=r"l_n = -\alpha_t\,(1-p_t)^{\gamma}\,\log p_t", pred_kind="logits", target_kind="binary",
    params=(
        Param("alpha", 0.25, Interval(Real, -1.0, 1.0), msg("focal.focal.param.alpha")),
        Param("gamma", 2.0, Interval(Real, 0.0, 100.0), msg("focal.focal.param.gamma")),
        Param("weight", None, Tensor(), msg("focal.focal.param.weight")),
        Param("avg_factor", None, Interval(Real, 0.0, 1e12), msg("focal.focal.param.avg_factor")),
        Param("input", "logits", Options(("logits", "probabilities")), msg("focal.focal.param.input")),
    ),
    steps=focal_steps, rerun=focal_value, enclosure=focal_enclosure, reference=focal_reference, prepare=_focal_prepare, gradient=focal_gradient,
    reference_name=("torchvision.ops.sigmoid_focal_loss" if _tv_sigmoid_focal_loss is not None else
                    msg("focal.reference_name.focal")),
    aliases=("sigmoid_focal", "sigmoid_focal_loss", "py_sigmoid_focal_loss", "FocalLoss", "binary_focal"),
    example={"pred": "[[1.2, -0.8, 0.3], [-2.0, 0.5, 3.0]]", "target": "[[1, 0, 0], [0, 1, 1]]",
             "params": {"alpha": 0.25, "gamma": 2.0}},
    torch_code=(
        'p = torch.sigmoid(pred) if input == "logits" else pred\n'
        'ce = F.binary_cross_entropy_with_logits(pred, target, reduction="none") if input == "logits" '
        'else F.binary_cross_entropy(pred, target, reduction="none")\n'
        "p_t = p * target + (1 - p) * (1 - target)\n"
        "alpha_t = alpha * target + (1 - alpha) * (1 - target) if alpha >= 0 else torch.ones_like(p)\n"
        "l = alpha_t * (1 - p_t) ** gamma * ce * (1 if weight is None else weight)\n"
        'l if reduction == "none" else l.sum() if reduction == "sum" else '
        "l.sum() / avg_factor if avg_factor is not None else l.mean()"
    ),
))


# -- softmax (multi-class) focal loss -----------------------------------------------------------------

def _softmax_focal_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                           trace: Trace) -> tuple[torch.Tensor, torch.Tensor | None]:
    if pred.dim() == 0:
        raise InputError("focal.error.pred_shape", got=shape_text(pred.shape))
    c = pred.shape[class_dim(pred)]
    if pred.dim() == 1:
        if target.numel() != 1:
            raise InputError("focal.error.one_index", pred=shape_text(pred.shape), got=shape_text(target.shape))
        target = target.reshape(())
    else:
        want = (pred.shape[0], *pred.shape[2:])
        if tuple(target.shape) != want:
            raise InputError("focal.error.target_shape", want=shape_text(want), pred=shape_text(pred.shape),
                             got=shape_text(target.shape))
    ignore_index = int(params["ignore_index"])
    target = require_class_indices(target, c, ignore_index=ignore_index)
    if not (target != ignore_index).any():
        trace.warn(msg("focal.warn.every_target_equals_ignore_index"))
    alpha = params.get("alpha")
    if isinstance(alpha, torch.Tensor):
        require_per_class(alpha, param_name("alpha"), c, hint=HINT_ALPHA)
        if (alpha < 0).any():
            raise InputError("focal.error.alpha_negative", got=f"{alpha[alpha < 0][0].item():g}")
    return pred, target


def _alpha_kind(alpha: Any) -> str:
    if isinstance(alpha, torch.Tensor):
        return "per_class"
    if alpha is None or float(alpha) < 0:
        return "off"
    return "scalar"


def softmax_focal_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                        reduction: str) -> torch.Tensor:
    """Softmax (multi-class) focal loss on logits with class-index targets.

    Unreduced: l_n = −α_t (1 − p_t)^γ log p_t, with log p = x − logsumexp(x) over the classes and
    p_t = p_{y_n}.  α: None or negative = off (α_t = 1); a scalar α weights every class alike (as
    kornia.losses.focal_loss), so it only scales the loss; a tensor of length C gives α_t = α[y_n].
    mean: Σ l_n / (number of samples not ignored) — not divided by Σ α_t; sum: Σ l_n; none: l (0 where ignored).
    Params: alpha, gamma=2.0, ignore_index=-100.
    Reference: F.cross_entropy(reduction="none") = −log p_t, times (1 − p_t)^γ and α_t, reduced.

    Shape:
        - pred: (C,), (N, C) or (N, C, d1, ...) logits.
        - target: (), (N,) or (N, d1, ...) class indices in [0, C).
        - alpha: a scalar or (C,).
        - output: a scalar for mean and sum; for none, target's shape.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("softmax_focal", "[[2.0, 0.5, -1.0], [0.1, 1.5, 0.3]]", "[0, 1]", gamma=2.0)
        >>> print(f"{r.scalar:.4f}")
        0.0329
    """
    gamma = float(params["gamma"])
    ignore_index = int(params["ignore_index"])
    cd = class_dim(pred)
    counted = target != ignore_index
    safe_target = torch.where(counted, target, torch.zeros_like(target))
    log_p = log_softmax_steps(trace, pred, cd)
    note = ("" if bool(counted.all()) else msg("focal.note.ignored", count=int((~counted).sum()),
                                               index=ignore_index))
    log_p_t = trace.add("log p_t", msg("focal.step.log_probability_of_the_target"), r"\log p_t = \log p_{y_n}",
                        select(counted, log_p.gather(cd, safe_target.unsqueeze(cd)).squeeze(cd), 0.0), note=note)
    p_t = trace.add("p_t", msg("focal.step.probability_of_the_target_class"), r"p_t = e^{\log p_t}", torch.exp(log_p_t),
                    sub=r"e^{$a}", a=log_p_t)
    modulating = trace.add("(1-p_t)^gamma", msg("focal.step.modulating_factor"), r"(1-p_t)^{\gamma}", (1 - p_t) ** gamma,
                           note=msg("focal.note.down_weights_easy_examples_p"),
                           sub=rf"(1-$q)^{{{gamma:g}}}", q=p_t)
    alpha = params.get("alpha")
    kind = _alpha_kind(alpha)
    if kind == "per_class":
        alpha_t = trace.add("alpha_t", msg("focal.step.class_balancing_factor_per_class"), r"\alpha_t = \alpha_{y_n}",
                            alpha.to(pred.dtype)[safe_target], note=msg("focal.note.alpha_per_class"))
    elif kind == "scalar":
        alpha_t = trace.add("alpha_t", msg("focal.step.class_balancing_factor_scalar"), r"\alpha_t = \alpha",
                            torch.full_like(p_t, float(alpha)),
                            note=msg("focal.note.alpha_scalar"))
    else:
        alpha_t = trace.add("alpha_t", msg("focal.step.class_balancing_factor_off"), r"\alpha_t = 1", torch.ones_like(p_t),
                            note=msg("focal.note.alpha_none"))
    loss = trace.add("l", msg("focal.step.focal_loss_term"), r"l_n = -\alpha_t\,(1-p_t)^{\gamma}\,\log p_t",
                     select(counted, -alpha_t * modulating * log_p_t, 0.0),
                     sub=r"-$a \cdot $m \cdot $b", a=alpha_t, m=modulating, b=log_p_t)
    denominator = None if bool(counted.all()) else counted.to(loss.dtype)
    return reduce(trace, loss, reduction, denominator=denominator)


def softmax_focal_value(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any], reduction: str,
                        memo: RerunMemo | None = None) -> torch.Tensor:
    """softmax_focal_steps's value alone (LossSpec.rerun: the checker's reruns with other α or γ), with no trace: the
    same operations on the same operands, the log-softmax of pred made once per problem (`memo`)."""
    memo = RerunMemo() if memo is None else memo
    gamma, ignore_index = float(params["gamma"]), int(params["ignore_index"])
    cd = class_dim(pred)
    counted = target != ignore_index
    safe_target = torch.where(counted, target, torch.zeros_like(target))
    log_p = RerunMemo.once(memo.pred, ("log p", cd), lambda: log_softmax_steps(Trace(quiet=True), pred, cd))
    log_p_t = select(counted, log_p.gather(cd, safe_target.unsqueeze(cd)).squeeze(cd), 0.0)
    modulating = (1 - torch.exp(log_p_t)) ** gamma
    alpha = params.get("alpha")
    kind = _alpha_kind(alpha)
    if kind == "per_class":
        alpha_t = alpha.to(pred.dtype)[safe_target]
    elif kind == "scalar":
        alpha_t = torch.full_like(log_p_t, float(alpha))
    else:
        alpha_t = torch.ones_like(log_p_t)
    loss = select(counted, -alpha_t * modulating * log_p_t, 0.0)
    denominator = None if bool(counted.all()) else counted.to(loss.dtype)
    return reduce(Trace(quiet=True), loss, reduction, denominator=denominator)


def softmax_focal_reference(x: torch.Tensor, y: torch.Tensor, params: dict[str, Any], reduction: str) -> torch.Tensor:
    """F.cross_entropy(reduction="none") (= −log p_t) times (1 − p_t)^γ and α_t, reduced over counted samples."""
    gamma, ignore_index = float(params["gamma"]), int(params["ignore_index"])
    ce = F.cross_entropy(x, y, reduction="none", ignore_index=ignore_index)
    p_t = torch.exp(-ce)
    loss = (1 - p_t) ** gamma * ce
    alpha = params.get("alpha")
    counted = y != ignore_index
    kind = _alpha_kind(alpha)
    if kind == "per_class":
        loss = alpha[torch.where(counted, y, torch.zeros_like(y))] * loss
    elif kind == "scalar":
        loss = float(alpha) * loss
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / counted.sum()


# -- rounding enclosure (lossapp.interval) ----------------------------------------------------------------------------
# l_n = α_t·(1 − p_t)^γ·(−log p_t) is non-increasing in log p_t (both factors ≥ 0 and non-increasing), and log p_t
# has an exact range (log_softmax_iv); ignored samples give 0; the mean divides by the number of counted samples.

# A point box (lossapp.interval.point_bound): the terms are ≥ 0 (α ≥ 0) and, with log p_t within e_log = k·u and
# |log p_t| ≤ L (lossapp.losses.classification.log_softmax_point_error), p_t = e^{log p_t} ≤ 1 is within (k + 3)u,
# 1 − p_t within (k + 5)u, (1 − p_t)^γ exact for γ = 0 and within γ(k + 5)·1.01u + 2u for 1 ≤ γ ≤ 100 (as for the
# sigmoid focal loss), and l = α_t·(1 − p_t)^γ·(−log p_t) within
# α_max·[((γ(k + 5) + 4)·L + k)·1.1]·u: K = that, A = 1 (absolute). Ignored samples are 0; the mean divides by the
# exact count of the others.
def softmax_focal_point_error(box: Box) -> PointBound | None:
    """The softmax focal loss's float64 error bound for a point box (see above)."""
    params, pred, target = box.params, box.pred, box.target
    gamma, alpha = float(params["gamma"]), params.get("alpha")
    if pred is None or target is None or not (gamma == 0 or 1 <= gamma <= 100):
        return None
    if isinstance(alpha, torch.Tensor):
        a = alpha.double()
        if a.numel() == 0 or not bool(((a >= 0) & torch.isfinite(a)).all()):
            return None
        alpha_max = float(a.max())
    else:
        alpha_max = float(alpha) if alpha is not None and float(alpha) >= 0 else 1.0
    found = log_softmax_point_error(pred, box, class_dim(pred))
    per_den = counted_per_den(box, target, int(params["ignore_index"]))
    if found is None or per_den is None or not math.isfinite(alpha_max):
        return None
    k, big_l = found
    return point_bound(1.1 * alpha_max * ((gamma * (k + 5) + 4) * big_l + k), 1.0, target.numel(), per_den)


@interval_formula("exact range (monotone in log p_t), interval arithmetic with outward rounding",
                  point_error=softmax_focal_point_error)
def softmax_focal_enclosure(box: Box) -> Iv:
    params = box.params
    gamma, ignore_index = float(params["gamma"]), int(params["ignore_index"])
    # shared by the enclosures of one problem (`Box.shared`): log p_t by every γ, the terms without α by every α
    classes = box.shared(("softmax_focal_classes", ignore_index),
                         lambda: ClassTargets.of(box.pred_box(), box.require_target(), ignore_index))
    log_pt = box.shared(("softmax_focal_log_pt", ignore_index),
                        lambda: log_softmax_iv(classes.x, index=classes.index).clamp(None, 0.0))

    def term(v: Iv) -> Iv:
        return (1.0 - v.exp()).clamp(0.0, None).pow(gamma) * (-v)
    terms = box.shared(("softmax_focal_terms", ignore_index, gamma),
                       lambda: monotone_scalar(term, log_pt, increasing=False))
    alpha = params["alpha"]
    if isinstance(alpha, torch.Tensor):
        terms = terms * classes.weight(alpha.to(torch.float64))
    else:
        terms = terms * (classes.counted * float(alpha) if alpha is not None and float(alpha) >= 0 else classes.counted)
    return reduce_iv(classes.unreduced(terms, box.reduction), box.reduction,
                     denominator=classes.counted if box.reduction == "mean" else None)


register(LossSpec(
    natural_log=True, activation="softmax", class_dim=True, focal=True, lints=("probabilities_as_logits",),
    conventions=("monai_focal", "smp_focal_multiclass"),
    name="softmax_focal", family="classification", title=msg("focal.softmax_focal.title"),
    summary=msg("focal.softmax_focal.summary"),
    formula=r"l_n = -\alpha_t\,(1-p_t)^{\gamma}\,\log p_t,\quad p = \mathrm{softmax}(x)", pred_kind="logits",
    target_kind="classes",
    params=(
        Param("alpha", None, Tensor(scalar=Interval(Real, -1.0, 1.0)), msg("focal.softmax_focal.param.alpha")),
        Param("gamma", 2.0, Interval(Real, 0.0, 100.0), msg("focal.softmax_focal.param.gamma")),
        Param("ignore_index", -100, Interval(Integral), msg("focal.softmax_focal.param.ignore_index")),
    ),
    steps=softmax_focal_steps, rerun=softmax_focal_value, enclosure=softmax_focal_enclosure, reference=softmax_focal_reference, prepare=_softmax_focal_prepare,
    reference_name=msg("focal.reference_name.softmax_focal"),
    aliases=("multiclass_focal", "softmax_focal_loss", "multi_class_focal"), target_dtype="index",
    example={"pred": "[[2.0, 0.5, -1.0], [0.1, 1.5, 0.3], [-0.5, 0.2, 2.5]]", "target": "[0, 1, 1]",
             "params": {"gamma": 2.0, "alpha": "[0.25, 0.5, 0.25]"}},
    torch_code=(
        'ce = F.cross_entropy(pred, target, reduction="none", ignore_index=ignore_index)\n'
        "p_t = torch.exp(-ce)\n"
        "counted = target != ignore_index\n"
        "alpha_t = alpha[torch.where(counted, target, 0)] if torch.is_tensor(alpha) else "
        "(1.0 if alpha is None or alpha < 0 else alpha)\n"
        "l = alpha_t * (1 - p_t) ** gamma * ce\n"
        'l if reduction == "none" else l.sum() if reduction == "sum" else l.sum() / counted.sum()'
    ),
))
