"""Classification losses: BCE, BCE with logits, cross-entropy, NLL and KL divergence (articles 000-004).

Every step function computes in float64 from elementary torch operations (log, exp, amax, sum,
gather, where, clamp) and writes the intermediates a student would write down; the reference is
the torch built-in. Symbols follow the articles: p for predicted probabilities, y for targets,
w for weights, lse for log-sum-exp; for the KL divergence p is the true and q the estimated
distribution (article 004).
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from lossapp.i18n import Message, msg
from lossapp.inputs import (
    InputError,
    param_name,
    require_binary,
    require_broadcastable,
    require_class_indices,
    require_log_probabilities,
    require_per_class,
    require_probabilities,
    require_same_shape,
    require_target,
    shape_text,
)
from lossapp.inputs.constraints import Boolean, Interval, Options, Tensor
from lossapp.interval import (
    POINT_MARGIN,
    TINY,
    Box,
    ClassTargets,
    EnclosureUnavailable,
    Iv,
    PointBound,
    U,
    class_layout,
    down,
    hull,
    interval_formula,
    log_softmax_iv,
    point_bound,
    reduce_iv,
    reduce_total_iv,
    reduction_per_den,
    rounding_box,
    tensor_param,
    value_range,
    where,
)
from lossapp.losses.derivative import derivative_step, number
from lossapp.losses.stable import (
    LOG_CLAMP,
    all_binary,
    bce_probability_grad,
    class_dim,
    first_indices,
    log_softmax_steps,
    nonneg_mask,
    select,
    sign_parts,
    stable_sigmoid,
    weighted_per_element,
    within,
)
from lossapp.reduction import reduce
from lossapp.reference import SPARSE_SUPPORT
from lossapp.registry import LossSpec, Param, RerunMemo, register
from lossapp.trace import CHUNK, COMPLETE_MAX, Lazy, Trace, extremes, fmt, mapped_extremes, tensor_extremes

SUM_TOL = 1e-3  # how far a probability row may sum from 1 before we say so (inputs are often rounded)
MAX_PLACES = 5  # positions listed in a note


# -- small helpers ----------------------------------------------------------------------------------

def _places(mask: torch.Tensor, values: torch.Tensor, name: str) -> str:
    """'(0,) p=0, (2,) p=1' for the first few positions where mask is true."""
    idx = first_indices(mask, MAX_PLACES + 1)  # only what the note lists (and whether there is more)
    items = []
    for i in idx[:MAX_PLACES]:
        items.append(f"{shape_text(tuple(i))} {name}={values[tuple(i)].item():.4g}")
    return ", ".join(items) + (", …" if len(idx) > MAX_PLACES else "")


def xlogx(p: torch.Tensor) -> torch.Tensor:
    """p log p with 0 · log 0 = 0 (p ≥ 0)."""
    if p.numel() and float(p.detach().amin()) > 0:  # (amin: the same minimum as min(), in half its time on a CPU)
        log = torch.log(p)
        # the same products; in place into the tensor of logs (no second tensor) where no gradient is recorded
        return log.mul_(p) if not (p.requires_grad and torch.is_grad_enabled()) else p * log
    positive = p > 0
    return select(positive, p * torch.log(select(positive, p, 1.0)), 0.0)


def _clamp_note(log: torch.Tensor, p: torch.Tensor, quiet: str) -> str:
    """Where torch's −100 clamp fires on a log (one reduction decides whether it fires at all), or `quiet`."""
    log = log.detach()
    if log.numel() == 0 or not float(log.min()) < LOG_CLAMP:
        return quiet
    fires = log < LOG_CLAMP
    return msg("classification.note.clamp_fires", count=int(fires.sum()), places=_places(fires, p.detach(), "p"))


def _exp_sums(log_p: torch.Tensor, cd: int) -> torch.Tensor:
    """Σ e^{log p} along the class dimension `cd` in float64, a block of samples at a time (no tensor of every
    e^{log p}; a narrower log_p widened a block at a time)."""
    if cd == 0:
        return torch.exp(log_p.double()).sum(cd)
    samples = max(1, CHUNK // max(1, log_p[0].numel()))
    return torch.cat([torch.exp(block.double()).sum(cd) for block in log_p.split(samples)])


# Rows of at most this many classes have their Σ e^{log p} screened in float32 first (see exp_row_sum_warning).
FLOAT32_SCREEN_CLASSES = 1024
LOG2_E = math.log2(math.e)  # (rounded to float32 where it multiplies a float32 tensor)


def _exp_sums_float32(log_p: torch.Tensor) -> torch.Tensor:
    """Σ_c e^{log p_{n,c}} per row of an (N, C) floating tensor, in float32, a block of rows at a time: log p rounded
    to float32, times log₂e (float32), 2^· (torch.exp2: several times faster than torch.exp on a CPU), the
    exponentials summed as a matrix-vector product. Its error bound: see exp_row_sum_warning. A float32 log_p is read
    as it is (the same float32 values as a float64 tensor widened from it gives, without a rounded copy). Each block's
    exponentials are formed in one buffer of a block's size, and its sums written into the result in place."""
    count, classes = log_p.shape
    ones = torch.ones(classes, dtype=torch.float32, device=log_p.device)
    rows = max(1, CHUNK // max(1, classes))  # (the same blocks for any dtype: the same sums, bit for bit)
    sums = torch.empty(count, dtype=torch.float32, device=log_p.device)
    buffer = torch.empty(min(rows, count), classes, dtype=torch.float32, device=log_p.device)
    as_is = log_p.dtype == torch.float32
    for block, out in zip(log_p.split(rows), sums.split(rows), strict=True):  # (the views in one call each)
        scaled = buffer if block.shape[0] == buffer.shape[0] else buffer[:block.shape[0]]
        if as_is:
            torch.mul(block, LOG2_E, out=scaled)
        else:
            scaled.copy_(block).mul_(LOG2_E)  # (rounded to float32 first, as block.float() rounds it)
        torch.mv(scaled.exp2_(), ones, out=out)
    return sums


def exp_row_sum_warning(log_p: torch.Tensor, cd: int, message_id: str = "classification.warn.rows_off",
                        narrow: torch.Tensor | None = None) -> str | None:
    """row_sum_warning of Σ_c e^{log p} along the class dimension `cd`, for log p ≤ 0 (−∞ allowed, no NaN). `narrow`:
    log_p's own values in a narrower floating dtype where there is such a tensor (`Trace.source`), which the float32
    screen reads instead (fewer bytes, no rounded copy; the same float32 values).

    Decided in float32 where that decides it: each row's float32 sum S' is within B = (C + 4)·2⁻²² of the exact sum
    S, so every |S' − 1| ≤ SUM_TOL − B means every |S − 1| ≤ SUM_TOL (no warning); otherwise (and for rows of more
    than FLOAT32_SCREEN_CLASSES classes, or pred other than (N, C)) the float64 sums decide and give the message. The
    bound, for C classes and rows with S' ≤ 1 + SUM_TOL (so S ≤ 1.01): each term is 2^y with y = x·log₂e·(1 + δ) for
    x = log p, from three roundings to float32 (x, log₂e, their product): |δ| < 3.0001·2⁻²⁴ (or an absolute 2⁻¹⁴⁹
    where they leave float32's normal range; for x < −103, where e^x < 2⁻¹⁴⁸, both terms are below 2⁻¹⁴⁸). So 2^y =
    e^{x(1+δ)} differs from e^x by e^x·|e^{xδ} − 1| ≤ 1.0001·|x|e^x·|δ| < 0.28·2⁻²² (|x|e^x ≤ 1/e for x ≤ 0;
    |xδ| < 2⁻¹⁵): ≤ 0.28·C·2⁻²² in all; torch's float32 exp2 is within 2⁻²² relative (SLEEF's exp2f: 1 ulp; CUDA's
    exp2f: 2 ulp) or 2⁻¹⁴⁹ absolute where it underflows (tested): ≤ 1.02·2⁻²² + C·2⁻¹⁴⁹; a float32 sum of C terms in
    any order is within (C − 1)·2⁻²⁴ of their total relative: ≤ 1.02·C·2⁻²⁴. Together ≤ C·(0.28 + 0.26)·2⁻²²
    + 1.03·2⁻²² < (C + 4)·2⁻²²."""
    if log_p.dim() == 2 and cd == 1 and 0 < log_p.shape[1] <= FLOAT32_SCREEN_CLASSES and log_p.shape[0]:
        classes = log_p.shape[1]
        screened = narrow if narrow is not None and narrow.shape == log_p.shape else log_p
        low, high = (float(v) for v in torch.aminmax(_exp_sums_float32(screened)))
        # max |S' − 1| ≤ tol from the extremes, on Python floats: S' − 1 and 1 − S' are exact there for S' in
        # [1/2, 2] (Sterbenz; where |S' − 1| ≤ tol may hold), and a NaN fails both comparisons
        tol = SUM_TOL - (classes + 4) * 2.0**-22
        if high - 1.0 <= tol and 1.0 - low <= tol:
            return None
    return row_sum_warning(_exp_sums(log_p, cd), "exp(pred)", message_id)


def class_sums(t: torch.Tensor, cd: int) -> torch.Tensor:
    """Σ_c t along the class dimension `cd`; for (N, C) as a product with a vector of ones (BLAS sums short rows
    several times faster than a reduction over the last dimension)."""
    if t.dim() == 2 and cd == 1:
        return t @ torch.ones(t.shape[1], dtype=t.dtype, device=t.device)
    return t.sum(cd)


def class_dots(a: torch.Tensor, b: torch.Tensor, cd: int) -> torch.Tensor:
    """Σ_c a·b along the class dimension `cd`; for (N, C) as a batched dot product (no tensor of every product)."""
    if a.dim() == 2 and cd == 1 and a.shape == b.shape:  # (what einsum("nc,nc->n") does, without its overhead)
        return torch.bmm(a.unsqueeze(1), b.unsqueeze(2)).reshape(-1)
    return (a * b).sum(cd)


def row_sum_warning(sums: torch.Tensor, what: str, message_id: str = "classification.warn.rows_off") -> str | None:
    """A warning when rows that should be distributions do not sum to 1 (sums may carry a graph: read, not recorded)."""
    off = (sums.detach() - 1).abs()
    if off.numel() == 0 or not bool(torch.isfinite(off).all()) or float(off.max()) <= SUM_TOL:
        return None
    return msg(message_id, what=what, off=f"{float(off.max()):.3g}")


# -- logarithm base (the entropy family: cross_entropy, nll, kl_div, entropy) -----------------------------------
LOG_BASES = ("e", "2", "10")
BASE_UNITS = {"e": "classification.unit.nats", "2": "classification.unit.bits", "10": "classification.unit.hartleys"}


def log_base_divisor(params: dict[str, Any]) -> float:
    """ln b for the loss's log_base b (1 for e): a value in nats divided by it is the value with log_b."""
    base = params.get("log_base", "e")
    return 1.0 if base == "e" else math.log(float(base))


def in_log_base(trace: Trace, loss: torch.Tensor, params: dict[str, Any], symbol: str = "l") -> torch.Tensor:
    """The per-element loss with every log in base b: l / ln b (log_b x = ln x / ln b), written as its own step
    before the reduction; `loss` unchanged for base e."""
    base = params.get("log_base", "e")
    if base == "e":
        return loss
    divisor = log_base_divisor(params)
    return trace.add(symbol, msg("classification.step.in_log_base", base=base),
                     rf"{symbol}_n^{{(\log_{{{base}}})}} = \frac{{{symbol}_n}}{{\ln {base}}}", loss / divisor,
                     note=msg("classification.note.in_log_base", base=base, unit=msg(BASE_UNITS[base]),
                              divisor=f"{divisor:.10g}"),
                     sub=rf"\frac{{$l}}{{{fmt(divisor, 6)}}}", l=loss)


# The hints this module passes to the checks in lossapp.inputs (messages: the checks render them per language).
HINT_BCE_LOGITS = msg("classification.hint.bce_logits")
HINT_SET_LOGITS = msg("classification.hint.set_logits")
HINT_CLASS_INDICES = msg("classification.hint.class_indices")
HINT_CLASS_INDICES_SHAPE = msg("classification.hint.class_indices_shape")
HINT_CLASS_PROBABILITIES = msg("classification.hint.class_probabilities")
HINT_LOG_Q = msg("classification.hint.log_q")
HINT_SET_LOG_PROBABILITIES = msg("classification.hint.set_log_probabilities")
HINT_Q_PROBABILITIES = msg("classification.hint.q_probabilities")
HINT_LOG_TARGET = msg("classification.hint.log_target")
HINT_SET_LOG_TARGET = msg("classification.hint.set_log_target")
HINT_WEIGHT = msg("classification.hint.weight")
HINT_POS_WEIGHT = msg("classification.hint.pos_weight")

# warnings (lossapp.lint leaves these to the prepare steps here)
CE_PROBABILITIES = msg("classification.warn.ce_probabilities")
NLL_POSITIVE = msg("classification.warn.nll_positive")


# -- BCE ----------------------------------------------------------------------------------------------

BCE_DERIVATIVE = "dl/dp"
LOGITS_DERIVATIVE = "dl/dx"


def bce_probability_derivative(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """∂ce/∂p of ce = −[y max(ln p, −100) + (1 − y) max(ln(1 − p), −100)]: −y/p + (1 − y)/(1 − p), each term 0 where
    its log is clamped (or its label weight is 0)."""
    first = select((y != 0) & (torch.log(p) >= LOG_CLAMP), -y / p, 0.0)
    second = select((y != 1) & (torch.log1p(-p) >= LOG_CLAMP), (1 - y) / (1 - p), 0.0)
    return first + second


def bce_point(p: float, y: float, g: float) -> Message:
    """Where a BCE term's derivative comes from at (p, y): the formula, or 0 from torch's −100 clamp."""
    clamped = (y != 0 and (p <= 0 or math.log(p) < LOG_CLAMP)) or (y != 1 and (p >= 1 or math.log1p(-p) < LOG_CLAMP))
    if clamped:
        return msg("classification.derivative.bce_clamped", p=number(p), y=number(y), g=number(g))
    return msg("classification.derivative.bce", p=number(p), y=number(y), g=number(g))


def bce_derivative_step(trace: Trace, p: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None) -> None:
    """∂l_n/∂p_n = w_n[−y_n/p_n + (1 − y_n)/(1 − p_n)] (0 where torch's clamp fires) as the derivative step."""
    if weight is None:
        derivative_step(trace, BCE_DERIVATIVE, r"\frac{\partial l_n}{\partial p_n} = -\frac{y_n}{p_n} + \frac{1-y_n}{1-p_n}",
                        bce_probability_derivative, p, y, point=bce_point)
        return
    derivative_step(trace, BCE_DERIVATIVE,
                    r"\frac{\partial l_n}{\partial p_n} = w_n\left[-\frac{y_n}{p_n} + \frac{1-y_n}{1-p_n}\right]",
                    lambda p, y, w: w * bce_probability_derivative(p, y), p, y, weight.double().expand(p.shape),
                    point=lambda p, y, w, g: msg("classification.derivative.bce_weighted", p=number(p), y=number(y),
                                                 w=number(w), g=number(g)))

def _bce_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                 trace: Trace) -> tuple[torch.Tensor, torch.Tensor]:
    return _binary_prepare(pred, target, params, trace, logits=False)


def _bce_logits_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                        trace: Trace) -> tuple[torch.Tensor, torch.Tensor]:
    return _binary_prepare(pred, target, params, trace, logits=True)


def _binary_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any], trace: Trace,
                    logits: bool) -> tuple[torch.Tensor, torch.Tensor]:
    name = "bce_with_logits" if logits else "bce"
    target = require_target(target, name)
    indices = pred.dim() >= 2 and tuple(target.shape) == (pred.shape[0], *pred.shape[2:])
    require_same_shape(pred, target, hint=HINT_CLASS_INDICES_SHAPE if indices else None)
    if not logits:
        require_probabilities(pred, "pred", hint=HINT_BCE_LOGITS)
    target = target.double()
    require_binary(target, "target", hint=HINT_CLASS_INDICES)
    require_broadcastable(params.get("weight"), param_name("weight"), pred.shape, hint=HINT_WEIGHT)
    if logits:
        require_broadcastable(params.get("pos_weight"), param_name("pos_weight"), pred.shape, hint=HINT_POS_WEIGHT)
    elif pred.numel() > 1 and all_binary(pred):
        trace.warn(msg("classification.warn.all_binary"))
    return pred, target


def bce_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
              reduction: str) -> torch.Tensor:
    """Binary cross-entropy on probabilities, with torch's clamp of each log at -100.

    Unreduced: l_n = −w_n [y_n · max(log p_n, −100) + (1 − y_n) · max(log(1 − p_n), −100)].
    mean: Σ l_n / n (the weight rescales, it does not change the denominator);  sum: Σ l_n;  none: l.
    Params: weight (broadcast to pred's shape).  Reference: F.binary_cross_entropy.

    Shape:
        - pred: (*), probabilities in [0, 1], any number of dimensions.
        - target: (*), the same shape as pred: 0/1 labels or soft labels in [0, 1].
        - weight: broadcastable to (*).
        - output: a scalar for mean and sum; (*) for none.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]")
        >>> print(f"{r.scalar:.4f}")
        0.9263
    """
    p, y = pred, target
    log_p = trace.add("log p", msg("classification.step.log_of_p"), r"\log p_n", torch.log(p), sub=r"\log $p", p=p)
    log_q = trace.add("log(1−p)", msg("classification.step.log_of_1_p"), r"\log(1-p_n)", torch.log1p(-p), sub=r"\log(1-$p)", p=p)
    note_p = _clamp_note(log_p, p, msg("classification.note.clamp_quiet_p"))
    note_q = _clamp_note(log_q, p, msg("classification.note.clamp_quiet_1_p"))
    log_p = trace.add("clamp log p", msg("classification.step.clamp_log_p"), r"\max(\log p_n, -100)",
                      torch.clamp(log_p, min=LOG_CLAMP), note=note_p)
    log_q = trace.add("clamp log(1−p)", msg("classification.step.clamp_log_1_p"), r"\max(\log(1-p_n), -100)",
                      torch.clamp(log_q, min=LOG_CLAMP), note=note_q)
    weight = params.get("weight")
    inner = y * log_p + (1 - y) * log_q
    loss, sub_args = weighted_per_element(trace, inner, weight, p.shape)
    loss = trace.add("l", msg("classification.step.binary_cross_entropy_per_element"),
                     r"l_n = -w_n\left[y_n \log p_n + (1-y_n)\log(1-p_n)\right]", loss,
                     note=(msg("classification.note.the_weight_rescales_each_element")
                           if weight is not None else ""),
                     sub=(r"-$w\left[$y \cdot $a + (1-$y)\cdot $b\right]" if weight is not None
                          else r"-\left[$y \cdot $a + (1-$y)\cdot $b\right]"), y=y, a=log_p, b=log_q, **sub_args)
    bce_derivative_step(trace, p.detach(), y, weight)
    return reduce(trace, loss, reduction)


def bce_value(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any], reduction: str,
              memo: RerunMemo | None = None) -> torch.Tensor:
    """bce_steps's value alone (LossSpec.rerun: the checker's reruns with other labels), with no trace: the clamped
    logs of p, made once per problem (`memo`), and −w·[y·log p + (1 − y)·log(1 − p)] from the same correctly rounded
    float64 operations as bce_steps on the same operands (written in place: a·b = b·a exactly), so bit for bit."""
    p, y = pred, target
    if p.dtype != torch.float64 or y.dtype != torch.float64:  # (in place, a narrower y would round the products)
        return bce_steps(Trace(quiet=True), p, y, params, reduction)
    memo = RerunMemo() if memo is None else memo
    log_p, log_q = RerunMemo.once(memo.pred, "bce logs", lambda: (torch.clamp(torch.log(p), min=LOG_CLAMP),
                                                                    torch.clamp(torch.log1p(-p), min=LOG_CLAMP)))
    inner = torch.mul(y, log_p)
    inner.add_(torch.rsub(y, 1).mul_(log_q))
    weight = params.get("weight")
    loss = inner.neg_() if weight is None else -weight.double().expand(p.shape) * inner
    return reduce(Trace(quiet=True), loss, reduction)


def bce_gradient(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any], reduction: str) -> torch.Tensor:
    """torch's BCE backward: dL/dp = w (p − y) / max(p(1 − p), 1e-12), finite at p = 0 and p = 1
    (it ignores the clamp, as torch does)."""
    p, y = pred.double(), target.double()
    grad = bce_probability_grad(p, y)
    weight = params.get("weight")
    if weight is not None:
        grad = grad * weight.double()
    if reduction == "mean":
        grad = grad / p.numel()
    return grad.expand(p.shape).clone()


# -- BCE with logits ----------------------------------------------------------------------------------

def bce_with_logits_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                          reduction: str) -> torch.Tensor:
    """Binary cross-entropy on logits, in the stable log-sigmoid form.

    Unreduced: l_n = −w_n [p_c y_n log σ(x_n) + (1 − y_n) log σ(−x_n)], with
    log σ(x) = min(x, 0) − log(1 + e^{−|x|});  without weights = max(x, 0) − x y + log(1 + e^{−|x|}).
    mean: Σ l_n / n;  sum: Σ l_n;  none: l.  Params: weight (broadcast to pred), pos_weight p_c
    (broadcast along the last dimension).  Reference: F.binary_cross_entropy_with_logits.

    Shape:
        - pred: (*), logits, any number of dimensions.
        - target: (*), the same shape as pred: 0/1 labels or soft labels in [0, 1].
        - weight: broadcastable to (*); pos_weight: (C,) for the last dimension C (or broadcastable to it).
        - output: a scalar for mean and sum; (*) for none.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("bce_with_logits", "[1.2, -0.5, 3.0]", "[1, 0, 1]")
        >>> print(f"{r.scalar:.4f}")
        0.2620
    """
    x, y = pred, target
    weight, pos_weight = params.get("weight"), params.get("pos_weight")
    if pos_weight is None and _logits_in_place(trace, x, y):
        return _bce_with_logits_large(trace, x, y, weight, pos_weight, reduction)
    # |x|, min(x, 0) and min(−x, 0) by the sign of x, so that autograd gives the true derivative at x = 0
    abs_x, min_x, min_neg_x = sign_parts(x)
    a = trace.add("|x|", msg("classification.step.absolute_logit"), r"|x_n|", abs_x)
    s = trace.add("s", msg("classification.step.softplus_remainder"), r"s_n = \log\left(1 + e^{-|x_n|}\right)", torch.log1p(torch.exp(-a)),
                  note=msg("classification.note.e_x_1_never_overflows"),
                  sub=r"\log(1 + e^{-$a})", a=a)
    log_sig = trace.add("log σ(x)", msg("classification.step.log_sigmoid"), r"\log \sigma(x_n) = \min(x_n, 0) - s_n",
                        min_x - s,
                        note=msg("classification.note.computed_without_forming_x_which"),
                        sub=r"\min($x, 0) - $s", x=x, s=s)
    log_sig_neg = trace.add("log σ(−x)", msg("classification.step.log_sigmoid_neg"),
                            r"\log \sigma(-x_n) = \min(-x_n, 0) - s_n", min_neg_x - s,
                            sub=r"\min(-$x, 0) - $s", x=x, s=s)
    if pos_weight is None:
        trace.show("stable", msg("classification.step.stable_form"), r"\max(x_n, 0) - x_n y_n + \log\left(1 + e^{-|x_n|}\right)",
                   lambda x, y, s: select(x >= 0, x, 0.0) - x * y + s, x, y, s,
                   note=msg("classification.note.the_same_as_y_log"),
                   sub=r"\max($x, 0) - $x \cdot $y + $s", x=x, y=y, s=s)
        positive = y * log_sig
    else:
        pc = trace.add("p_c", msg("classification.step.positive_weight"), r"p_c", pos_weight.double().expand(x.shape),
                       note=msg("classification.note.pos_weight_multiplies_only_the"))
        positive = pc * y * log_sig
    inner = positive + (1 - y) * log_sig_neg
    loss, sub_args = weighted_per_element(trace, inner, weight, x.shape)
    if pos_weight is not None:
        sub_args["c"] = pc
    return _bce_with_logits_end(trace, x, y, loss, sub_args, log_sig, log_sig_neg, weight, pos_weight, reduction)


def _logits_in_place(trace: Trace, x: torch.Tensor, y: torch.Tensor) -> bool:
    """Whether bce_with_logits_steps may take its in-place form (`_bce_with_logits_large`): float64 x and y that
    autograd does not follow, no pos_weight, and a trace that keeps only the shown elements of a step larger than
    COMPLETE_MAX (transient or quiet), so that the steps it writes as shown ones (|x|, s) end exactly as written
    ones would."""
    return ((trace.transient or trace.quiet) and x.numel() > COMPLETE_MAX and x.dtype == torch.float64
            and y.dtype == torch.float64 and not (torch.is_grad_enabled() and x.requires_grad))


def _softplus_tail(x: torch.Tensor) -> torch.Tensor:
    """s = log(1 + e^{−|x|}) as bce_with_logits_steps forms it (|x| from sign_parts)."""
    return torch.log1p(torch.exp(-sign_parts(x)[0]))


def _bce_with_logits_large(trace: Trace, x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None,
                           pos_weight: torch.Tensor | None, reduction: str) -> torch.Tensor:
    """bce_with_logits_steps without pos_weight for a trace that keeps only shown elements (`_logits_in_place`): log σ(±x)
    from `_log_sigmoids` (the same operations on the same operands, written in place into fewer buffers: bit for bit,
    see bce_with_logits_value), |x| and s shown only (elementwise: their shown elements are those of the tensors), the
    per-element loss written in place. The same steps, values and released state (a step larger than COMPLETE_MAX
    keeps no substitution) as the general form, in fewer passes over the elements."""
    if trace.quiet:  # (a quiet trace's steps hold no value)
        trace.add("|x|", msg("classification.step.absolute_logit"), r"|x_n|", None)
        trace.add("s", msg("classification.step.softplus_remainder"), r"s_n = \log\left(1 + e^{-|x_n|}\right)", None,
                  note=msg("classification.note.e_x_1_never_overflows"))
    else:
        trace.show("|x|", msg("classification.step.absolute_logit"), r"|x_n|", lambda x: sign_parts(x)[0], x)
        trace.show("s", msg("classification.step.softplus_remainder"), r"s_n = \log\left(1 + e^{-|x_n|}\right)",
                   _softplus_tail, x, note=msg("classification.note.e_x_1_never_overflows"))
    log_sig, log_sig_neg = _log_sigmoids(x)
    trace.add("log σ(x)", msg("classification.step.log_sigmoid"), r"\log \sigma(x_n) = \min(x_n, 0) - s_n", log_sig,
              note=msg("classification.note.computed_without_forming_x_which"))
    trace.add("log σ(−x)", msg("classification.step.log_sigmoid_neg"), r"\log \sigma(-x_n) = \min(-x_n, 0) - s_n",
              log_sig_neg)
    trace.show("stable", msg("classification.step.stable_form"), r"\max(x_n, 0) - x_n y_n + \log\left(1 + e^{-|x_n|}\right)",
               lambda x, y: select(x >= 0, x, 0.0) - x * y + _softplus_tail(x), x, y,
               note=msg("classification.note.the_same_as_y_log"))
    inner = torch.mul(y, log_sig).add_(torch.rsub(y, 1).mul_(log_sig_neg))
    loss, sub_args = (inner.neg_(), {}) if weight is None else weighted_per_element(trace, inner, weight, x.shape)
    return _bce_with_logits_end(trace, x, y, loss, sub_args, log_sig, log_sig_neg, weight, pos_weight, reduction)


def _bce_with_logits_end(trace: Trace, x: torch.Tensor, y: torch.Tensor, loss: torch.Tensor, sub_args: dict[str, Any],
                         log_sig: torch.Tensor, log_sig_neg: torch.Tensor, weight: torch.Tensor | None,
                         pos_weight: torch.Tensor | None, reduction: str) -> torch.Tensor:
    """bce_with_logits_steps's last steps: the per-element loss, the derivative, the reduction."""
    loss = trace.add("l", msg("classification.step.bce_with_logits_per_element"),
                     r"l_n = -w_n\left[p_c\, y_n \log \sigma(x_n) + (1-y_n)\log \sigma(-x_n)\right]", loss,
                     sub=(r"-" + (r"$w" if weight is not None else "") + r"\left["
                          + (r"$c \cdot " if pos_weight is not None else "") + r"$y \cdot $a + (1-$y)\cdot $b\right]"),
                     y=y, a=log_sig, b=log_sig_neg, **sub_args)
    _logits_derivative_step(trace, x.detach(), y, weight, pos_weight)
    return reduce(trace, loss, reduction)


def bce_with_logits_value(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any], reduction: str,
                          memo: RerunMemo | None = None) -> torch.Tensor:
    """bce_with_logits_steps's value alone (LossSpec.rerun: the checker's reruns with other labels, or on
    probabilities read as logits), with no trace: log σ(x) and log σ(−x), made once per problem (`memo`), then
    −w·[p_c·y·log σ(x) + (1 − y)·log σ(−x)] from the same correctly rounded float64 operations as the steps on the same
    operands (written in place: a·b = b·a exactly), so bit for bit."""
    x, y = pred, target
    if x.dtype != torch.float64 or y.dtype != torch.float64:  # (in place, a narrower y would round the products)
        return bce_with_logits_steps(Trace(quiet=True), x, y, params, reduction)
    memo = RerunMemo() if memo is None else memo
    log_sig, log_sig_neg = RerunMemo.once(memo.pred, "log σ(±x)", lambda: _log_sigmoids(x))
    weight, pos_weight = params.get("weight"), params.get("pos_weight")
    pc = None if pos_weight is None else pos_weight.double().expand(x.shape)
    inner = torch.mul(y, log_sig) if pc is None else (pc * y).mul_(log_sig)
    inner.add_(torch.rsub(y, 1).mul_(log_sig_neg))
    loss = inner.neg_() if weight is None else -weight.double().expand(x.shape) * inner
    return reduce(Trace(quiet=True), loss, reduction)


def _log_sigmoids(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(log σ(x), log σ(−x)) as bce_with_logits_steps forms them: min(±x, 0) − log(1 + e^{−|x|}), with |x|, min(x, 0)
    and min(−x, 0) from sign_parts. For finite x, sign_parts's products written in place into three buffers (the same
    operations on the same operands: x·(2s − 1), x·(1 − s), −(x·s), then e^{−|x|} and its log1p)."""
    s = nonneg_mask(x)
    if s is None:
        abs_x, min_x, min_neg_x = sign_parts(x)
        tail = torch.log1p(torch.exp(-abs_x))
        return min_x - tail, min_neg_x - tail
    tail = torch.mul(s, 2).sub_(1).mul_(x).neg_().exp_().log1p_()
    return torch.rsub(s, 1).mul_(x).sub_(tail), torch.mul(x, s).neg_().sub_(tail)


def bce_with_logits_gradient(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                             reduction: str) -> torch.Tensor:
    """d(loss)/dx in closed form, in a few passes instead of autograd's chain through every step:
    dl_n/dx_n = w_n [(1 − y_n) σ(x_n) − p_c y_n σ(−x_n)] (= w_n (σ(x_n) − y_n) without pos_weight). For 0/1 labels
    it is w_n · c_n · σ(x_n (1 − 2y_n)) · (1 − 2y_n) with c_n = p_c for y_n = 1, else 1: σ(x) − 1 is −σ(−x) without
    the cancellation; finite at x = ±inf."""
    x, y = pred.detach(), target.double()
    pos_weight, weight = params.get("pos_weight"), params.get("weight")
    if all_binary(y):
        sign = (y * -2).add_(1)
        grad = torch.sigmoid(x * sign).mul_(sign)
        if pos_weight is not None:
            grad = grad * torch.addcmul(1 - y, pos_weight.double(), y)
    else:
        positive = y if pos_weight is None else pos_weight.double() * y
        grad = (1 - y) * torch.sigmoid(x) - positive * torch.sigmoid(-x)
    if weight is not None:
        grad = grad * weight.double()
    if reduction == "mean":
        grad = grad.div_(max(x.numel(), 1))  # (grad is a new tensor here: written in place)
    return grad.expand(x.shape).contiguous()


def _logits_derivative_step(trace: Trace, x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None,
                            pos_weight: torch.Tensor | None) -> None:
    """∂l_n/∂x_n = w_n[(1 − y_n + p_c y_n) σ(x_n) − p_c y_n] (σ(x) − y without weights) as the derivative step."""
    w = torch.ones((), dtype=torch.float64, device=x.device) if weight is None else weight.double()
    pc = torch.ones((), dtype=torch.float64, device=x.device) if pos_weight is None else pos_weight.double()

    def fn(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, pc: torch.Tensor) -> torch.Tensor:
        return w * ((1 - y + pc * y) * stable_sigmoid(x) - pc * y)

    if weight is None and pos_weight is None:
        formula, form = r"\frac{\partial l_n}{\partial x_n} = \sigma(x_n) - y_n", "σ(x) − y"
    else:
        formula = r"\frac{\partial l_n}{\partial x_n} = w_n\left[(1 - y_n + p_c y_n)\,\sigma(x_n) - p_c y_n\right]"
        form = "w·((1 − y + p_c·y)·σ(x) − p_c·y)"
    derivative_step(trace, LOGITS_DERIVATIVE, formula, fn, x, y, w.expand(x.shape), pc.expand(x.shape),
                    point=lambda x, y, w, pc, g: msg("classification.derivative.logits", x=number(x), y=number(y),
                                                     form=form, g=number(g)))


# -- cross-entropy and NLL -----------------------------------------------------------------------------

def _index_shape(pred: torch.Tensor) -> tuple[int, ...]:
    return () if pred.dim() == 1 else (pred.shape[0], *pred.shape[2:])


def _classes_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any], trace: Trace,
                     name: str, allow_probabilities: bool) -> tuple[torch.Tensor, torch.Tensor]:
    target = require_target(target, name)
    if pred.dim() == 0:
        raise InputError("classification.error.pred_shape", got=shape_text(pred.shape))
    classes = pred.shape[class_dim(pred)]
    require_per_class(params.get("weight"), param_name("weight"), classes)
    index_shape = _index_shape(pred)
    if pred.dim() == 1 and tuple(target.shape) == (1,) and classes != 1:
        target = target.reshape(())  # "2" is read as [2]: one class index for one sample
    if allow_probabilities and target.shape == pred.shape:
        target = target.double()
        require_probabilities(target, "target", hint=HINT_CLASS_PROBABILITIES)
        message = row_sum_warning(target.sum(class_dim(pred)), "target", "classification.warn.rows_used_as_given")
        if message:
            trace.warn(message)
        if ignore_index_of(params) != -100:
            raise InputError("classification.error.ignore_index_with_probabilities", got=ignore_index_of(params))
        return pred, target
    if tuple(target.shape) != index_shape:
        if allow_probabilities:
            raise InputError("classification.error.target_shape_indices_or_probabilities", index=shape_text(index_shape),
                             pred=shape_text(pred.shape), got=shape_text(target.shape))
        one_hot = target.shape == pred.shape
        raise InputError("classification.error.target_shape_one_hot" if one_hot else "classification.error.target_shape",
                         index=shape_text(index_shape), pred=shape_text(pred.shape), got=shape_text(target.shape))
    ignore_index = ignore_index_of(params)
    # (an int64 target's extremes, read once: for the range check, and where ignore_index lies outside them, no sample
    # is ignored, which NLL's gradient and steps then know without reading the target again: ANY_IGNORED)
    bounds = extremes(target) if target.dtype == torch.int64 and target.numel() else None
    target = require_class_indices(target, classes, ignore_index=ignore_index, bounds=bounds)
    # (the extremes are the indices rounded to float64, a monotone map: an index equal to ignore_index would put its
    # rounding between them)
    if bounds is not None and not (-2**63 <= ignore_index < 2**63 and bounds[0] <= float(ignore_index) <= bounds[1]):
        trace.shared[ANY_IGNORED] = False
    return pred, target


def _ce_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                trace: Trace) -> tuple[torch.Tensor, torch.Tensor]:
    pred, target = _classes_prepare(pred, target, params, trace, "cross_entropy", allow_probabilities=True)
    cd = class_dim(pred)
    kind = params.get("input", "logits")
    if kind == "probabilities":
        require_probabilities(pred, "pred", hint=HINT_SET_LOGITS)
        message = row_sum_warning(pred.sum(cd), "pred", "classification.warn.rows_renormalised")
        if message:
            trace.warn(message)
        if bool((pred == 0).any()):
            trace.warn(msg("classification.warn.zero_probabilities"))
    elif kind == "log_probabilities":
        require_log_probabilities(pred, "pred", hint=HINT_SET_LOGITS)
        message = exp_row_sum_warning(pred, cd)
        if message:
            trace.warn(message)
    elif within(pred, 0, 1) and row_sum_warning(pred.sum(cd), "pred") is None \
            and pred.shape[cd] > 1:
        trace.warn(CE_PROBABILITIES)
    return pred, target


def _nll_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                 trace: Trace) -> tuple[torch.Tensor, torch.Tensor]:
    pred, target = _classes_prepare(pred, target, params, trace, "nll", allow_probabilities=False)
    if params.get("input") == "probabilities":
        require_probabilities(pred, "pred", hint=HINT_SET_LOG_PROBABILITIES)
        return pred, target
    # (NaN was refused before.) The user's own narrower tensor where pred was widened from it: the same extremes and
    # float32 screen in half the bytes or less; in one pass (tensor_extremes: the faster on a pred out of cache or narrower)
    narrow = trace.pred_values(pred)
    if trace.extremes is not None:  # (read by compute's check of the inputs already)
        low, high = trace.extremes
    else:
        low, high = tensor_extremes(narrow, one_pass=True) if pred.numel() else (0.0, 0.0)
    if high > 0:
        trace.warn(NLL_POSITIVE)
    elif math.isfinite(low) and math.isfinite(high):  # every element finite: the rows are distributions or not
        message = exp_row_sum_warning(pred, class_dim(pred), "classification.warn.rows_nll", narrow)
        if message:
            trace.warn(message)
    return pred, target


def _log_softmax_steps(trace: Trace, pred: torch.Tensor, cd: int, kind: str) -> torch.Tensor:
    """log p from logits (max shift, exp, sum, lse), or from given (log-)probabilities."""
    if kind == "probabilities":
        f = pred
        log_f = trace.add("log f", msg("classification.step.log_of_the_given_probabilities"), r"\log f_{n,c}", torch.log(f),
                          sub=r"\log $f", f=f)
        total = f.sum(dim=cd, keepdim=True)
        trace.add("S", msg("classification.step.row_sum_of_the_probabilities"), r"S_n = \sum_c f_{n,c}", total.squeeze(cd),
                  note=msg("classification.note.1_for_a_probability_distribution"))
        lse = torch.log(total)
        trace.add("lse", msg("classification.step.normaliser"), r"\mathrm{lse}_n = \log S_n", lse.squeeze(cd),
                  note=msg("classification.note.0_when_the_row_sums"))
        log_p = trace.add("log p", msg("classification.step.log_probabilities"), r"\log p_{n,c} = \log f_{n,c} - \mathrm{lse}_n", log_f - lse)
    elif kind == "log_probabilities":
        log_p = log_softmax_steps(trace, pred, cd, lse_note=msg("classification.note.0_when_the_rows_are"))
    else:
        log_p = log_softmax_steps(trace, pred, cd)
    trace.show("p", msg("classification.step.softmax_probabilities"), r"p_{n,c} = e^{\log p_{n,c}}", torch.exp, log_p, note=msg("classification.note.each_row_sums_to_1"))
    return log_p


def ignore_index_of(params: dict[str, Any]) -> int:
    """The params' ignore_index (torch's default −100)."""
    return int(params.get("ignore_index", -100))


def any_ignored_sample(target: torch.Tensor, ignore_index: int) -> bool:
    """Whether some class index in `target` is ignore_index; decided by the extremes of target where ignore_index lies
    outside them (torch's default −100 with indices in [0, C)), without a mask (aminmax of the indices takes a fraction
    of the time of any() of a mask)."""
    if target.numel() == 0:
        return False
    low, high = torch.aminmax(target)
    return int(low) <= ignore_index <= int(high) and bool((target == ignore_index).any())


class IgnoredSamples(NamedTuple):
    """Class-index targets under torch's ignore_index rule (cross_entropy, nll), worked out once in one place for the
    steps and NLL's closed-form gradient.

    any: whether some sample is ignored. mask: target == ignore_index where some sample is ignored or the caller asked
    for it (class weights, label smoothing), else None. safe: target with class 0 at the ignored samples (an index a
    gather can read; what it picks there is then replaced by 0), target itself where none is ignored."""

    any: bool
    mask: torch.Tensor | None
    safe: torch.Tensor

    @classmethod
    def of(cls, target: torch.Tensor, params: dict[str, Any], *, any_ignored: bool | None = None,
           mask: bool = False) -> IgnoredSamples:
        """`any_ignored`: whether some sample is ignored, where the caller knows it already, else None (decided here,
        see any_ignored_sample); `mask`: make the mask even where no sample is ignored."""
        ignore_index = ignore_index_of(params)
        if any_ignored is None:
            any_ignored = any_ignored_sample(target, ignore_index)
        ignored = target == ignore_index if any_ignored or mask else None
        safe = torch.where(ignored, torch.zeros_like(target), target) if any_ignored else target
        return cls(any_ignored, ignored, safe)

    def class_weights(self, weight: torch.Tensor | None) -> torch.Tensor:
        """w_{y_n} in float64: weight[y_n] (1 without class weights), 0 at the ignored samples (needs the mask)."""
        if weight is None:
            return (~self.mask).double()
        return torch.where(self.mask, 0.0, weight.double()[self.safe])


def _index_loss_steps(trace: Trace, log_p: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                      reduction: str, smoothing: float, sparse_grad: bool = False,
                      source: torch.Tensor | None = None, any_ignored: bool | None = None) -> torch.Tensor:
    """Pick −log p_y, weight it, leave out ignored samples, add torch's label smoothing, reduce. `sparse_grad`: log_p
    is pred itself and the pick is all that reads it (NLL of log-probabilities), so that autograd gives d/d(log p)
    as a sparse COO tensor of one element per sample instead of a dense tensor of zeros (torch.gather's
    sparse_grad; `lossapp.engine.run_trace` makes it dense for every caller that does not ask for it sparse).
    `source`: log_p's own values in a narrower dtype (`Trace.source`, for NLL of log-probabilities; or log_p itself,
    where that is pred in its own narrower dtype: `LossSpec.narrow_pred`), which the pick reads where no gradient is
    recorded through it (the same values, widened exactly, from half the bytes or less); where nothing else reads the
    picks (no class weights, no ignored sample), −x is written in float64 straight from them and the step of the picks
    widens only the elements read (a `Lazy` value).
    `any_ignored`: whether some sample is ignored, where the caller knows it already (`nll_gradient` leaves it in the
    trace's `shared`: the same target and ignore_index), else None (decided here)."""
    cd = class_dim(log_p)
    classes = log_p.shape[cd]
    ignore_index = ignore_index_of(params)
    weight = params.get("weight")
    # (where no sample is ignored, the selections below change nothing: skipped)
    samples = IgnoredSamples.of(target, params, any_ignored=any_ignored, mask=weight is not None or smoothing != 0)
    any_ignored, ignored, safe = samples
    narrow = None  # the picks in source's narrower dtype, where nothing but −x and the shown elements reads them
    if source is not None and source.shape == log_p.shape and not (log_p.requires_grad and torch.is_grad_enabled()):
        picked = source.gather(cd, safe.unsqueeze(cd)).squeeze(cd)
        if picked.dtype != torch.float64 and weight is None and not any_ignored:
            narrow, picked = picked, Lazy(_widened, (picked,))  # (widened where read: no float64 copy of them)
        else:
            picked = picked.to(torch.float64)
    else:
        picked = log_p.gather(cd, safe.unsqueeze(cd), sparse_grad=sparse_grad and smoothing == 0).squeeze(cd)
    if any_ignored:
        picked = torch.where(ignored, torch.zeros_like(picked), picked)
    trace.add("log p_y", msg("classification.step.log_probability_of_the_true"), r"\log p_{n,y_n}", picked,
              note=msg("classification.note.0_is_shown_for_ignored") if any_ignored else "")
    if any_ignored:
        trace.add("ignored", msg("classification.step.ignored_samples"), r"\mathbb{1}[y_n = \text{ignore\_index}]", ignored.double(),
                  note=msg("classification.note.ignored", count=int(ignored.sum()), index=ignore_index))
    if weight is None and not any_ignored:
        # every w_{y_n} is 1: a broadcast view of one 1 (no tensor of N ones), and −1·x is −x exactly (its gradient
        # too: −1·g is −g), so that −x is computed without the multiplication
        w_y = torch.ones((), dtype=torch.float64, device=log_p.device).expand(picked.shape)
        nll = -picked if narrow is None else \
            torch.mul(narrow, -1.0, out=torch.empty(narrow.shape, dtype=torch.float64, device=narrow.device))  # (−x,
        # exactly, written in float64 as it is formed: the same numbers as −x widened, ±0 and ±inf included)
    else:
        w_y = samples.class_weights(weight)
        if weight is not None:
            w_y = trace.add("w_y", msg("classification.step.weight_of_the_true_class"), r"w_{y_n}", w_y,
                            note=msg("classification.note.0_for_ignored_samples") if any_ignored else "")
        nll = torch.where(ignored, torch.zeros_like(picked), -w_y * picked) if any_ignored else -w_y * picked
    if smoothing == 0:
        loss = trace.add("l", msg("classification.step.negative_log_likelihood"), r"l_n = -w_{y_n}\log p_{n,y_n}" if weight is not None
                         else r"l_n = -\log p_{n,y_n}", nll, sub=r"-$w \cdot $a", w=w_y,
                         a=picked if narrow is None else narrow)
    else:
        trace.add("nll", msg("classification.step.negative_log_likelihood"), r"\mathrm{nll}_n = -w_{y_n}\log p_{n,y_n}", nll,
                  sub=r"-$w \cdot $a", w=w_y, a=picked if narrow is None else narrow)
        wc = torch.ones(classes, dtype=log_p.dtype, device=log_p.device) if weight is None else weight.double()
        shape = [1] * log_p.dim()
        shape[cd] = classes
        smooth = -(log_p * wc.reshape(shape)).sum(cd)
        smooth = trace.add("s", msg("classification.step.smoothing_term"), r"s_n = -\sum_c w_c \log p_{n,c}",
                           torch.where(ignored, torch.zeros_like(smooth), smooth),
                           note=msg("classification.note.torch_s_label_smoothing_the"))
        note = msg("classification.note.smoothing_weighted" if weight is not None else "classification.note.smoothing",
                   eps=f"{smoothing:g}", classes=classes)
        loss = trace.add("l", msg("classification.step.label_smoothed_cross_entropy"),
                         r"l_n = (1-\varepsilon)\,\mathrm{nll}_n + \frac{\varepsilon}{C}\, s_n",
                         (1 - smoothing) * nll + (smoothing / classes) * smooth, note=note,
                         sub=rf"(1-{fmt(smoothing)})\cdot $a + \frac{{{fmt(smoothing)}}}{{{classes}}}\cdot $b",
                         a=nll, b=smooth)
    loss = in_log_base(trace, loss, params)
    denominator = None
    if weight is not None or any_ignored:
        denominator = w_y.detach()
    return reduce(trace, loss, reduction, denominator=denominator)


def log_symbol(params: dict[str, Any]) -> str:
    """\\log, or \\log_b for the loss's log_base b (LaTeX)."""
    base = params.get("log_base", "e")
    return r"\log" if base == "e" else rf"\log_{{{base}}}"


def entropy_identity_steps(trace: Trace, y: torch.Tensor, log_p: torch.Tensor, cd: int, true: str,
                           est: str, weighted: bool = False, params: dict[str, Any] | None = None,
                           entropy_title: Message | None = None) -> None:
    """H(y) = −Σ y log y, H(y, p) = −Σ y log p, KL(y‖p) and the identity H(y, p) = H(y) + KL(y‖p), shown
    (computed in nats from natural logs, and divided by ln b for params' log_base b). `entropy_title`: the title of
    the H(y) step where y is not the target."""
    params = params or {}
    log, divisor = log_symbol(params), log_base_divisor(params)
    y, log_p = y.detach(), log_p.detach()
    ylogy = xlogx(y)
    entropy = trace.add(f"H({true})", entropy_title or msg("classification.step.entropy_of_the_target"), rf"H({true}) = -\sum_c {true}_c {log} {true}_c",
                        -ylogy.sum(cd) / divisor + 0.0, note=msg("classification.note.entropy_one_hot"))
    trace.add(f"H({true},{est})", msg("classification.step.cross_entropy"), rf"H({true},{est}) = -\sum_c {true}_c {log} {est}_c",
                      -(y * log_p).sum(cd) / divisor,
                      note=msg("classification.note.the_unweighted_cross_entropy_class") if weighted else "")
    kl = trace.add(f"KL({true}‖{est})", msg("classification.step.relative_entropy_kl_divergence"),
                   rf"\mathrm{{KL}}({true}\,\|\,{est}) = \sum_c {true}_c({log} {true}_c - {log} {est}_c)",
                   (ylogy - y * log_p).sum(cd) / divisor, note=msg("classification.note.the_extra_cost_of_coding"))
    trace.add(f"H({true})+KL", msg("classification.step.identity_entropy_kl_cross_entropy"),
              rf"H({true}) + \mathrm{{KL}}({true}\,\|\,{est}) = H({true},{est})", entropy + kl,
              note=msg("classification.note.equals_the_cross_entropy_above"), sub=r"$h + $k", h=entropy, k=kl)


def cross_entropy_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                        reduction: str) -> torch.Tensor:
    """Cross-entropy with torch's weight, ignore_index and label_smoothing semantics.

    Unreduced (class index y_n): l_n = (1 − ε)(−w_{y_n} log p_{n,y_n}) + (ε/C)(−Σ_c w_c log p_{n,c}),
    with log p = x − lse (log-softmax), lse = m + log Σ_c e^{x_c − m}; ignored samples give 0.
    Unreduced (class probabilities y_{n,c}): l_n = −Σ_c w_c y'_{n,c} log p_{n,c}, y' = (1 − ε) y + ε/C.
    mean: Σ l_n / Σ w_{y_n} over non-ignored samples for indices; Σ l_n / N (samples) for probabilities;
    sum: Σ l_n;  none: l.  Params: weight (C,), ignore_index, label_smoothing ε, input (logits,
    probabilities: log taken and renormalised, log_probabilities).  Reference: F.cross_entropy (on log p
    when pred is not logits).

    Shape:
        - pred: (C,), (N, C) or (N, C, d1, ...): logits (or probabilities / log-probabilities with input=).
        - target: (), (N,) or (N, d1, ...) class indices in [0, C); or pred's shape, class probabilities.
        - weight: (C,).
        - output: a scalar for mean and sum; for none, (), (N,) or (N, d1, ...).

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("cross_entropy", "[[1.5, 0.3, -0.8], [0.2, 2.1, 0.4]]", "[0, 2]")
        >>> print(f"{r.scalar:.4f}")
        1.1622
    """
    cd = class_dim(pred)
    classes = pred.shape[cd]
    smoothing = float(params.get("label_smoothing", 0.0))
    log_p = _log_softmax_steps(trace, pred, cd, params.get("input", "logits"))
    if target.dtype != torch.long:
        weight = params.get("weight")
        y = target.double()
        if smoothing > 0:
            y = trace.add("y'", msg("classification.step.smoothed_target"), r"y'_{n,c} = (1-\varepsilon)\,y_{n,c} + \varepsilon / C",
                          (1 - smoothing) * y + smoothing / classes, note=msg("classification.note.smoothing", eps=f"{smoothing:g}", classes=classes))
        wc = torch.ones(classes, dtype=torch.float64, device=pred.device) if weight is None else weight.double()
        shape = [1] * pred.dim()
        shape[cd] = classes
        loss = trace.add("l", msg("classification.step.cross_entropy_per_sample"), r"l_n = -\sum_c w_c\, y_{n,c} \log p_{n,c}"
                         if weight is not None else r"l_n = -\sum_c y_{n,c} \log p_{n,c}",
                         -(wc.reshape(shape) * y * log_p).sum(cd),
                         note=msg("classification.note.with_class_probability_targets_torch") if weight is not None else "")
        entropy_identity_steps(trace, y, log_p, cd, "y", "p", weight is not None, params)
        return reduce(trace, in_log_base(trace, loss, params), reduction)
    return _index_loss_steps(trace, log_p, target, params, reduction, smoothing)


def nll_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
              reduction: str) -> torch.Tensor:
    """Negative log-likelihood: picks −log p_y from given log-probabilities.

    Unreduced: l_n = −w_{y_n} x_{n,y_n} (0 for ignored samples), x = log p (log taken as a step for
    input="probabilities"; divided by ln b for log_base b).  mean: Σ l_n / Σ w_{y_n} over non-ignored samples;
    sum: Σ l_n;  none: l.  Params: weight (C,), ignore_index, input (log_probabilities, probabilities),
    log_base (e, 2, 10).  Reference: F.nll_loss (on torch.log(p) for probabilities, divided by ln b).

    Shape:
        - pred: (C,), (N, C) or (N, C, d1, ...) log-probabilities (probabilities with input="probabilities").
        - target: (), (N,) or (N, d1, ...) class indices in [0, C).
        - weight: (C,).
        - output: a scalar for mean and sum; for none, target's shape.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("nll", "[[-0.3375, -1.5375, -2.6375], [-2.1869, -0.2869, -1.9869]]", "[0, 2]")
        >>> print(f"{r.scalar:.4f}")
        1.1622
    """
    probabilities = params.get("input") == "probabilities"
    if probabilities:
        log_p = trace.add("log p", msg("classification.step.log_of_the_given_probabilities"), r"\log p_{n,c}",
                          torch.log(pred), sub=r"\log $p", p=pred, note=msg("classification.note.nll_log_taken"))
    else:
        log_p = trace.add("log p", msg("classification.step.given_log_probabilities"), r"\log p_{n,c} = x_{n,c}", pred,
                          note=msg("classification.note.nll_loss_takes_them_as"))
    # (given log-probabilities: the gradient lives at each sample's target class, and autograd gives it sparse; the
    # pick may read the user's narrower tensor that pred was widened from, or pred itself where it is that tensor:
    # _nll_narrow)
    source = None if probabilities else trace.source if pred.dtype == torch.float64 else pred
    return _index_loss_steps(trace, log_p, target, params, reduction, 0.0, sparse_grad=not probabilities,
                             source=source, any_ignored=trace.shared.get(ANY_IGNORED))


def _nll_narrow(params: dict[str, Any]) -> bool:
    """LossSpec.narrow_pred: given log-probabilities are read only by the checks of prepare (in float32, or widened a
    block at a time), the pick (widened) and the steps' shown elements, and the gradient reads pred's shape: pred may
    come in the user's own narrower dtype. Not for probabilities, whose log is taken in float64."""
    return params.get("input", "log_probabilities") == "log_probabilities"


# The key under which nll_gradient (run first, on the same target) leaves whether some sample is ignored in the trace's
# `shared`, for the steps (LossSpec.gradient_shared)
ANY_IGNORED = "any_ignored"  # (a key of Trace.shared; not a message id)


def _unit_gradient(one: Any, denominator: Any, divisor: float) -> Any:
    """NLL's g before its class weight: 1, divided by the mean's `denominator` (None: not a mean), then by ln b
    (`divisor`, 1: none), in the backward's order; on a Python float (one IEEE float64 division each) or a 0-d
    float64 tensor alike."""
    g = one if denominator is None else one / denominator
    return g if divisor == 1.0 else g / divisor


def nll_gradient(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                 reduction: str, shared: dict[str, Any] | None = None) -> torch.Tensor | None:
    """d(loss)/d(log p) of NLL of log-probabilities, the sparse COO tensor autograd of the trace gives (torch.gather's
    sparse gradient, see `_index_loss_steps`): one element per sample, at (n, y_n) (class 0 for an ignored sample),
    in the same order, with the same values bit for bit, as the backward computes them: g = 1, or 1 / den for mean
    (den: the count, or Σ w_{y_n}, summed as the trace sums it), divided by ln b; then −g, or g·(−w_{y_n}) with 0 at
    ignored samples. For (C,) and (N, C) its indices ascend (row-major flat index n·C + y_n), so it is marked
    coalesced (sorted, no duplicates); not with dimensions after the class dimension, where they need not ascend. Where
    every value is −g (no class weights, no ignored sample) its values are a broadcast view of that one number (stride
    0: no tensor of N copies; `lossapp.reference.closeness` reads it as one number). None
    (autograd of the trace) for probabilities. `shared` (the trace's): whether some sample is ignored is left in it
    under ANY_IGNORED, for the steps."""
    if params.get("input", "log_probabilities") != "log_probabilities":
        return None
    cd = class_dim(pred)
    weight = params.get("weight")
    samples = IgnoredSamples.of(target, params, mask=weight is not None,
                                any_ignored=None if shared is None else shared.get(ANY_IGNORED))
    any_ignored, ignored, safe = samples
    if shared is not None:
        shared[ANY_IGNORED] = any_ignored
    w_y = None if ignored is None else samples.class_weights(weight)  # (None: every w_{y_n} is 1)
    divisor = log_base_divisor(params)
    count = target.numel()
    mean = reduction == "mean"
    if w_y is None:  # every value is −g: one number, on Python floats (IEEE float64 division, as the backward's)
        g = _unit_gradient(1.0, (count or 1) if mean else None, divisor)  # (no sample: no value; 1 avoids 1/0)
        # a broadcast view of −g (no tensor of N copies; the comparison reads it as one number)
        values = torch.tensor(-g, dtype=torch.float64, device=pred.device).expand(count)
    else:
        g = _unit_gradient(torch.ones((), dtype=torch.float64, device=pred.device), w_y.sum() if mean else None,
                           divisor)
        values = g * (-w_y)
        if any_ignored:
            values = torch.where(ignored, 0.0, values)
        values = values.reshape(-1).contiguous()
    # the multi-indices of the picks, a row per dimension of pred: the sample's own coordinates, with the class index
    # y_n along the class dimension (written into one tensor: no tensor per row to stack)
    index_shape = list(target.shape)
    index_shape.insert(cd, 1)
    coords = torch.empty((len(index_shape), count), dtype=torch.int64, device=pred.device)
    for d, size in enumerate(index_shape):
        if d == cd:
            coords[d].copy_(safe.reshape(-1))
        elif size == count:  # (the samples' own dimension, every other of size 1: (N, C)'s rows)
            torch.arange(size, out=coords[d])
        else:
            shape = [1] * len(index_shape)
            shape[d] = size
            coords[d].view(index_shape).copy_(torch.arange(size, device=pred.device).reshape(shape).expand(index_shape))
    return torch.sparse_coo_tensor(coords, values, tuple(pred.shape), is_coalesced=pred.dim() <= 2,
                                   check_invariants=False)


def target_positions(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any]) -> torch.Tensor | None:
    """The flat indices of pred (C,) / (N, C, d1, ...) at each counted sample's target class (ignored samples left
    out): the only elements where NLL's gradient can be nonzero, −w_{y_n}/(den·ln b) there with respect to log p, or
    that divided by p_{n,y_n} for probabilities (the spec's gradient_support). None for fewer than SPARSE_SUPPORT
    classes, where every element is compared anyway (see lossapp.reference.closeness)."""
    cd = class_dim(pred)
    if pred.shape[cd] < SPARSE_SUPPORT:
        return None
    inner = math.prod(pred.shape[cd + 1:])  # d1·d2·…: the sample's elements after the class dimension
    y = target.reshape(-1).to(device=pred.device, dtype=torch.int64)
    sample = torch.arange(y.numel(), device=pred.device)
    flat = (sample // inner) * (pred.shape[cd] * inner) + y * inner + sample % inner
    return flat[y != ignore_index_of(params)]


def _ce_logits(x: torch.Tensor, kind: str) -> torch.Tensor:
    return torch.log(x) if kind == "probabilities" else x


def _in_base(value: torch.Tensor, p: dict[str, Any]) -> torch.Tensor:
    """A built-in's value in nats divided by ln b for log_base b; for e (ln e = 1: x / 1 is x, its gradient too) the
    value itself, with no division recorded."""
    divisor = log_base_divisor(p)
    return value if divisor == 1.0 else value / divisor


def _ce_reference(x: torch.Tensor, y: torch.Tensor, p: dict[str, Any], reduction: str) -> torch.Tensor:
    return _in_base(F.cross_entropy(_ce_logits(x, p["input"]), y, weight=p["weight"], ignore_index=int(p["ignore_index"]),
                                    reduction=reduction, label_smoothing=float(p["label_smoothing"])), p)


def _nll_reference(x: torch.Tensor, y: torch.Tensor, p: dict[str, Any], reduction: str) -> torch.Tensor:
    log_p = torch.log(x) if p["input"] == "probabilities" else x
    return _in_base(F.nll_loss(log_p, y, weight=p["weight"], ignore_index=int(p["ignore_index"]), reduction=reduction),
                    p)


# -- KL divergence -------------------------------------------------------------------------------------

def _widened(v: torch.Tensor) -> torch.Tensor:
    """v in float64 (exact: a monotone map, for lossapp.trace.mapped_extremes)."""
    return v.double()


def _kl_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                trace: Trace) -> tuple[torch.Tensor, torch.Tensor]:
    target = require_target(target, "kl_div")
    require_same_shape(pred, target)
    probabilities = params.get("input") == "probabilities"
    # pred's extremes decide its range and whether every element is finite (lossapp.trace.extremes), over the user's own
    # narrower tensor where pred was widened from it (the same values in half the bytes or less); the checks that name
    # an offending element run on pred itself, only where the extremes say there is one. Within a check
    # (shared_extremes) they are kept, and recorded on pred and the target too (their exact widenings: the same
    # extremes), for the checker's ranges and the enclosure's point bound: no pass over the float64 copies
    narrow = trace.pred_values(pred)
    low, high = extremes(narrow) if pred.numel() else (0.0, 0.0)
    if narrow is not pred and pred.numel():
        mapped_extremes(pred, narrow, _widened)
    if probabilities and not 0 <= low <= high <= 1:
        require_probabilities(pred, "pred", hint=HINT_Q_PROBABILITIES)
    elif not probabilities and not high <= 0:  # (a NaN maximum too, as require_log_probabilities decides it)
        require_log_probabilities(pred, "pred", hint=HINT_LOG_Q)
    # (the target's range likewise, off the user's own narrower target where there is one)
    narrow_target = trace.target_values(target)
    target = target.double()
    cd = class_dim(pred) if pred.dim() else 0
    if params.get("log_target"):
        if narrow_target.numel() and not float(narrow_target.amax()) <= 0:
            require_log_probabilities(target, "target", hint=HINT_LOG_TARGET)
        p = torch.exp(target)
    else:
        if not within(narrow_target, 0, 1):
            require_probabilities(target, "target", hint=HINT_SET_LOG_TARGET)
        p = target
        if narrow_target is not p and narrow_target.numel():  # (p is its exact widening: its extremes, recorded)
            mapped_extremes(p, narrow_target, _widened)
    finite = math.isfinite(low) and math.isfinite(high)  # (NaN in either: not every element is finite)
    if not finite and bool((torch.isinf(pred) & (p == 0)).any()):
        trace.warn(msg("classification.warn.nan_where_p_0"))
    if pred.dim():
        message = row_sum_warning(class_sums(p, cd), "target", "classification.warn.rows_kl")
        if message:
            trace.warn(message)
        if probabilities:
            message = row_sum_warning(pred.sum(cd), "pred", "classification.warn.rows_not_distributions")
            if message:
                trace.warn(message)
        elif finite:
            message = exp_row_sum_warning(pred, cd, "classification.warn.rows_not_normalised", narrow)
            if message:
                trace.warn(message)
    return pred, target


def kl_div_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                 reduction: str) -> torch.Tensor:
    """KL divergence KL(p‖q) with pred = log q (or q with input="probabilities") and target p (or log p with
    log_target).

    Unreduced: l_i = p_i (log p_i − log q_i), with 0 · log 0 = 0 (torch's xlogy); every log in base b with
    log_base = b (l_i / ln b: bits for 2).
    batchmean: Σ l / N (N = first dimension: the KL divergence per sample);  mean: Σ l / (every
    element);  sum: Σ l;  none: l.  Params: log_target, input (log_probabilities, or probabilities: the log
    is taken as a step), log_base (e, 2, 10).  Reference: F.kl_div (on torch.log(q) for probabilities, divided
    by ln b).

    Shape:
        - pred: (*), log-probabilities log q (probabilities q with input="probabilities"); each row (dimension 1,
          or the whole 1-D tensor) one distribution.
        - target: (*), the same shape as pred: probabilities p (log p with log_target=true).
        - output: a scalar for batchmean, mean and sum; (*) for none.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("kl_div", "[[-1.2040, -1.2040, -0.9163]]", "[[0.2, 0.3, 0.5]]", reduction="batchmean")
        >>> print(f"{r.scalar:.4f}")
        0.0305
        >>> r = lossapp.compute("kl_div", "[[0.25, 0.5, 0.25]]", "[[0.5, 0.25, 0.25]]", reduction="batchmean",
        ...                     input="probabilities", log_base=2)
        >>> print(f"{r.scalar:.4f} bits")
        0.2500 bits
    """
    if params.get("input") == "probabilities":
        q = pred
        log_q = trace.add("log q", msg("classification.step.log_of_q"), r"\log q_i", torch.log(q), sub=r"\log $q", q=q,
                          note=msg("classification.note.log_of_q"))
    else:
        log_q = pred
    if params.get("log_target"):
        log_p = target.double()
        p = trace.add("p", msg("classification.step.target_probabilities"), r"p_i = e^{\log p_i}", torch.exp(log_p), sub=r"e^{$a}", a=log_p)
        plogp = trace.add("p log p", msg("classification.step.p_log_p"), r"p_i \log p_i", p * log_p)
    else:
        p = target.double()
        plogp = trace.add("p log p", msg("classification.step.p_log_p"), r"p_i \log p_i", xlogx(p), note=msg("classification.note.xlogy"))
    cd = class_dim(pred) if pred.dim() else 0
    log, divisor = log_symbol(params), log_base_divisor(params)
    # H(p) per distribution, read off p log p before l is formed (x / −d is −x / d, bit for bit: the sums divided in
    # place)
    entropy_sums = class_sums(plogp.detach(), cd).div_(-divisor).add_(0.0) if pred.dim() else None
    # p log q is only shown: l = p log p − p·log q is formed in one pass (no tensor of every p·log q), written over
    # p log p where no step keeps that tensor (a transient or quiet trace keeps only the shown elements of a step
    # larger than COMPLETE_MAX) and autograd does not follow it: the same addcmul on the same operands, one buffer fewer
    trace.show("p log q", msg("classification.step.p_log_q"), r"p_i \log q_i", torch.mul, p, log_q, sub=r"$p \cdot $a",
               p=p, a=log_q)
    in_place = ((trace.transient or trace.quiet) and plogp.numel() > COMPLETE_MAX
                and plogp.dtype == p.dtype == log_q.dtype and plogp.shape == p.shape == log_q.shape
                and not (torch.is_grad_enabled() and (plogp.requires_grad or p.requires_grad or log_q.requires_grad)))
    terms = plogp.addcmul_(p, log_q, value=-1.0) if in_place else torch.addcmul(plogp, p, log_q, value=-1.0)
    loss = trace.add("l", msg("classification.step.pointwise_kl_term"), r"l_i = p_i(\log p_i - \log q_i)",
                     terms, sub=r"$a - $p \cdot $c", a=plogp, p=p, c=log_q)
    if entropy_sums is not None:
        entropy = trace.add("H(p)", msg("classification.step.entropy_of_p"), rf"H(p) = -\sum_i p_i {log} p_i",
                            entropy_sums, note=msg("classification.note.per_distribution_summed_over_dimension"))
        trace.add("H(p,q)", msg("classification.step.cross_entropy_of_q_relative"), rf"H(p,q) = -\sum_i p_i {log} q_i",
                          class_dots(p.detach(), log_q.detach(), cd).div_(-divisor))
        kl = trace.add("KL(p‖q)", msg("classification.step.kl_divergence_per_distribution"), r"\mathrm{KL}(p\,\|\,q) = \sum_i l_i",
                       class_sums(loss.detach(), cd).div_(divisor))
        trace.add("H(p)+KL", msg("classification.step.identity_entropy_kl_cross_entropy"),
                  r"H(p) + \mathrm{KL}(p\,\|\,q) = H(p,q)", entropy + kl,
                  note=msg("classification.note.equals_h_p_q_above"), sub=r"$h + $k", h=entropy, k=kl)
    if reduction == "mean" and loss.numel() > 1:
        trace.warn(msg("classification.warn.kl_mean", count=loss.numel()))
    if reduction == "batchmean" and pred.dim() == 1:
        trace.warn(msg("classification.warn.batchmean_1d"))
    loss = in_log_base(trace, loss, params)
    _kl_derivative(trace, params, p.detach().expand(pred.shape), pred.detach())
    return reduce(trace, loss, reduction)


def kl_div_gradient(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                    reduction: str) -> torch.Tensor | Lazy | None:
    """d(loss)/d(log q_i) = −p_i / ln b times the reduction's scale (1/n for mean, 1/N for batchmean): l_i is affine in
    log q_i, so this is its exact derivative, in one pass instead of autograd's chain through the steps. None (autograd
    of the trace) for q given as probabilities. For a target p of pred's shape (not log_target) it is elementwise in p,
    one division by a number (correctly rounded, so the same in any block), and given as a `Lazy` value: compute()
    compares it with the built-in's a block at a time, each block computed where it is read (no float64 tensor of
    pred's size); every other caller gets the tensor (`Lazy.full`), element for element the same."""
    if params.get("input", "log_probabilities") != "log_probabilities":
        return None
    p = torch.exp(target.double()) if params.get("log_target") else target.double()
    count = {"mean": pred.numel(), "batchmean": pred.shape[0] if pred.dim() else 1}.get(reduction, 1)
    scale = -(float(max(count, 1)) * log_base_divisor(params))
    if not params.get("log_target") and p.shape == pred.shape:
        # bound: p_i ≤ 1 (_kl_prepare), and p ↦ fl(p / |s|) is monotone, so |fl(p_i / s)| ≤ fl(1 / |s|)
        return Lazy(lambda p: p / scale, (p,), bound=1.0 / abs(scale),
                    into=lambda out, p: torch.div(p, scale, out=out))  # (the same division, written into out)
    return (p / scale).expand(pred.shape).contiguous()


KL_DERIVATIVE = "dl/dq"


def _kl_derivative(trace: Trace, params: dict[str, Any], p: torch.Tensor, pred: torch.Tensor) -> None:
    """∂l_i/∂pred_i: −p_i/ln b with respect to log q_i; −p_i/(q_i ln b) with respect to q_i given as probabilities
    (0 where p_i = 0: the term is 0 whatever q_i)."""
    divisor = log_base_divisor(params)
    ln_b = "" if divisor == 1.0 else rf"\ln {params['log_base']}"
    over = "" if divisor == 1.0 else f" / ln {params['log_base']}"
    if params.get("input") == "probabilities":
        derivative_step(trace, KL_DERIVATIVE, rf"\frac{{\partial l_i}}{{\partial q_i}} = -\frac{{p_i}}{{q_i\,{ln_b}}}",
                        lambda p, q: select(p > 0, -p / (q * divisor), 0.0), p, pred,
                        point=lambda p, q, g: msg("classification.derivative.kl_q", p=number(p), q=number(q), over=over,
                                                      g=number(g)))
        return
    formula = rf"\frac{{\partial l_i}}{{\partial \log q_i}} = -\frac{{p_i}}{{{ln_b}}}" if ln_b else \
        r"\frac{\partial l_i}{\partial \log q_i} = -p_i"
    derivative_step(trace, KL_DERIVATIVE, formula, lambda p: -p / divisor, p,
                    point=lambda p, g: msg("classification.derivative.kl_log_q", p=number(p), over=over, g=number(g)))


def _kl_reference(x: torch.Tensor, y: torch.Tensor, p: dict[str, Any], reduction: str) -> torch.Tensor:
    import warnings
    log_q = torch.log(x) if p["input"] == "probabilities" else x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's own 'mean' warning; the trace gives ours
        return _in_base(F.kl_div(log_q, y, reduction=reduction, log_target=bool(p["log_target"])), p)


# -- rounding enclosures (lossapp.interval): each loss's formula in outward-rounded interval arithmetic ----------

BCE_LABEL_TOTAL = ("bce_label_total",)  # Box.shared key of bce_label_total over the box's pred_box(0, 1) and 0/1 labels
# Box.shared key of summed_terms(softplus(s)) over the box's pred_box() and 0/1 labels, s = −x where y = 1 and x where y = 0
BCE_LOGITS_LABEL_TOTAL = ("bce_with_logits_label_total",)


def summed_terms(terms: Iv) -> tuple[Iv, tuple[int, ...]]:
    """(the enclosure of Σ terms, their shape): what reduce_total_iv reduces under any reduction but none."""
    return terms.sum(), tuple(terms.shape)


def bce_label_total(p: Iv, y: Iv) -> tuple[Iv, tuple[int, ...]]:
    """summed_terms of BCE's terms over the box of p with exact 0/1 labels y."""
    return summed_terms(bce_enclosure_terms(p, y, labels=True))


# BCE (torch): l = −w·(y·max(log p, −100) + (1 − y)·max(log(1 − p), −100)). Each of the two terms is monotone
# in p (the first non-increasing, the second non-decreasing), so interval arithmetic on each is its exact range;
# their sum (and a soft y, linear) is enclosed soundly by interval arithmetic.
# With 0/1 labels each term is the one log its label picks (y·a + (1 − y)·b is a or b exactly): one log per element.
def bce_enclosure_terms(p: Iv, y: Iv, labels: bool = False) -> Iv:
    """BCE's unweighted terms with torch's −100 clamp over the boxes of p and y (`labels`: y is exact 0/1)."""
    if labels:
        one = y.lo == 1
        return -where(one, p, (1.0 - p).clamp(0.0, None)).log().maximum(LOG_CLAMP)
    log_p = p.log().maximum(LOG_CLAMP)
    log_q = (1.0 - p).clamp(0.0, None).log().maximum(LOG_CLAMP)
    return -(y * log_p + (1.0 - y) * log_q)


# A point box (lossapp.interval.point_bound): the terms are ≥ 0 and each is computed within K·u·(A + t) of its exact
# value, u = 2⁻⁵³, with the documented ≤ 1 ulp of ATen's float64 log, log1p and exp (≤ 2u relative for a normal result)
# and one rounding (≤ u relative) per + − × ÷. Where a result is subnormal these are absolute instead: 1 ulp is then
# 2⁻¹⁰⁷⁴ = 2u·TINY (ATen's vectorised log1p is 1 ulp off at many subnormal arguments, log1p(2⁻¹⁰⁷⁴) = 0) and a
# rounding ≤ u·TINY (a sum that underflows is exact), which a relative bound alone misses (Σ of 10⁵ terms
# −log1p(−2⁻¹⁰⁷⁴) computed 0): the floor A covers them.
# BCE, K = 8: log p and log1p(−p) (−p exact) within 2u of their values; the clamp at −100 is 1-Lipschitz, so each
# clamped log a is within 3u·|a|; y·a and (1 − y)·b (1 − y within u) add two roundings; the two products are both
# ≤ 0 for p, y in [0, 1], so their sum adds one rounding and no cancellation: within 6u·(|y·a| + |(1 − y)·b|) = 6u·t.
# Underflow: log p is never subnormal (0 or |log p| ≥ 2⁻⁵⁴); log1p(−p) may be, off by ≤ 2u·TINY, and the two products
# by ≤ u·TINY each: ≤ 4.01u·TINY absolute, A = TINY (8u·TINY).
# BCE with logits, K = 12: e^{−|x|} (−|x| exact) within 2u; log1p of it within 2u + 2u relative (log1p(z(1 + δ)) −
# log1p(z) ≤ zδ/(1 + z) ≤ δ·log1p(z) for z ≥ 0); min(x, 0) − s and min(−x, 0) − s subtract a value ≥ 0 from one
# ≤ 0 (no cancellation): within 5u; the factors y, 1 − y, pos_weight ≥ 0 and the sum of two terms of one sign add
# four roundings. Underflow: a subnormal e^{−|x|} is off by ≤ 2u·TINY, log1p of it by that plus its own 2u·TINY, which
# p_c·y (P = max(1, max p_c)) scales to 4u·TINY·P, and the products and the sum by ≤ 4u·TINY more: ≤ 4u·TINY·(P + 1)
# absolute, A = TINY·(P + 1) (12u·A). Weights are left to interval arithmetic (the bound needs the terms' sign).
def _binary_point_ranges(box: Box) -> tuple[tuple[float, float], int] | None:
    """(pred's range, n) where the target lies in [0, 1] and has pred's shape, pred is finite and there is no
    weight (the premises of BCE's point bounds); None otherwise."""
    if box.params.get("weight") is not None or box.pred is None or box.target is None \
            or tuple(box.target.shape) != tuple(box.pred.shape):
        return None
    x, y = value_range(box), value_range(box, "target")
    if x is None or y is None or not (math.isfinite(x[0]) and math.isfinite(x[1])) or y[0] < 0 or y[1] > 1:
        return None
    return x, box.pred.numel()


def bce_point_error(box: Box) -> PointBound | None:
    """BCE's float64 error bound for a point box (K = 8, A = TINY; p and y in [0, 1], no weight)."""
    found = _binary_point_ranges(box)
    if found is None or found[0][0] < 0 or found[0][1] > 1:
        return None
    per_den = reduction_per_den(box.reduction, box.pred.shape)
    return None if per_den is None else point_bound(8, TINY, found[1], per_den)


def bce_with_logits_point_error(box: Box) -> PointBound | None:
    """BCE with logits' float64 error bound for a point box (K = 12, A = TINY·(P + 1); y in [0, 1], finite logits, no
    weight, pos_weight ≥ 0)."""
    found = _binary_point_ranges(box)
    pw = tensor_param(box.params.get("pos_weight"))
    if found is None or (pw is not None and not bool((pw >= 0).all() & torch.isfinite(pw).all())):
        return None
    big_p = max(1.0, float(pw.max())) if pw is not None and pw.numel() else 1.0
    per_den = reduction_per_den(box.reduction, box.pred.shape)
    return None if per_den is None else point_bound(12, TINY * (big_p + 1) * (1 + 2.0 ** -40), found[1], per_den)


@interval_formula("interval arithmetic with outward rounding over torch's BCE formula (each log term monotone in p)",
                  point_error=bce_point_error)
def bce_enclosure(box: Box) -> Iv:
    y = box.target_box(0.0, 1.0)
    w = tensor_param(box.params["weight"])
    labels = y.point and box.labels
    if labels and w is None and box.reduction != "none":  # Σ of the terms (one number), shared by the enclosures of
        # these inputs under every reduction and by truncated_ce's, which forms the same terms (`Box.shared`)
        total, shape = box.shared(BCE_LABEL_TOTAL, lambda: bce_label_total(box.pred_box(0.0, 1.0), y))
        return reduce_total_iv(total, shape, box.reduction)
    terms = bce_enclosure_terms(box.pred_box(0.0, 1.0), y, labels=labels)
    return reduce_iv(terms * w if w is not None else terms, box.reduction)


# BCE with logits (torch): l = w·[(1 − y)·x + (1 + (pw − 1)·y)·softplus(−x)] = w·[pw·y·softplus(−x) + (1 − y)·softplus(x)]
# (softplus(x) = x + softplus(−x)); the first term is non-increasing in x, the second non-decreasing.
@interval_formula("interval arithmetic with outward rounding over pw·y·softplus(−x) + (1−y)·softplus(x)",
                  point_error=bce_with_logits_point_error)
def bce_with_logits_enclosure(box: Box) -> Iv:
    x = box.pred_box()
    y = box.target_box()
    pw = tensor_param(box.params["pos_weight"])
    w = tensor_param(box.params["weight"])
    if y.point and box.labels:  # each term is the branch its label picks: pw·softplus(−x) or softplus(x)
        one = y.lo == 1
        if pw is None and w is None and box.reduction != "none":  # Σ of the terms (one number), shared by the
            # enclosures of these inputs under every reduction and by soft_truncated_ce's, which forms the same terms
            total, shape = box.shared(BCE_LOGITS_LABEL_TOTAL, lambda: summed_terms(where(one, -x, x).softplus()))
            return reduce_total_iv(total, shape, box.reduction)
        terms = where(one, -x, x).softplus()
        if pw is not None:
            terms = terms * torch.where(one, pw, torch.ones_like(pw))
    else:
        first = (-x).softplus() * y
        if pw is not None:
            first = first * pw
        terms = first + (1.0 - y) * x.softplus()
    return reduce_iv(terms * w if w is not None else terms, box.reduction)


# Cross-entropy: l_n = −w_{y_n}·log softmax(x_n)_{y_n}, with log_softmax_iv's exact range of every class (monotone
# in each logit); label smoothing mixes in −(ε/C)·Σ_c w_c·log p_c; class-probability targets are linear in
# their own box. pred given as probabilities is the log of their box (log is increasing).
def _scores_box(box: Box, kind: str) -> Iv:
    """The box of the scores whose log-softmax is taken: logits, the log of probabilities, or log-probabilities."""
    if kind == "probabilities":
        return box.pred_box(0.0, 1.0).log()
    if kind == "log_probabilities":
        return box.pred_box(None, 0.0)
    return box.pred_box()


# A point box (lossapp.interval.point_bound). log p = x − lse, lse = m + log Σ_c e^{x_c − m} (log_softmax_steps) over
# C classes of logits with M = max|x| is within e_log = k·u of its exact value, k = 2C + 6M + 4·log C + 4 (absolute),
# and |log p| ≤ L = 2M + log C: x − m (|x − m| ≤ 2M) rounds by 2M·u, so each e^{x − m} is within (2M + 2)u relative
# and S = Σe ∈ [1, C] within (C + 2M + 1)u; log S then within that plus 2u·log C (absolute), m + log S rounds by
# u(M + log C) and x − lse by u·L. Cross-entropy with class indices, no weight and log_base e, K = k + 4L + 4, A = 1:
# −log p_y within e_log; with label smoothing ε the term (1 − ε)·nll + (ε/C)·Σ_c(−log p_c) (every part ≥ 0) adds
# ε·e_log and (C + 3) roundings of values ≤ L. Ignored samples are 0 exactly; the mean divides by the exact count.
def log_softmax_point_error(pred: torch.Tensor, box: Box, cd: int) -> tuple[float, float] | None:
    """(k, L) for log_softmax_steps over `pred`'s class dimension `cd` (see above); None for non-finite logits."""
    x = value_range(box)
    if x is None or not (math.isfinite(x[0]) and math.isfinite(x[1])) or pred.dim() == 0:
        return None
    m, c = max(abs(x[0]), abs(x[1])), pred.shape[cd]
    log_c = math.log(c) * (1 + 2.0 ** -40) if c > 1 else 0.0
    return 2 * c + 6 * m + 4 * log_c + 4, 2 * m + log_c


def counted_per_den(box: Box, target: torch.Tensor, ignore_index: int) -> float | None:
    """n/D for terms per sample reduced over the samples whose target is not ignore_index (sum: D = 1; mean: D = the
    samples counted); None for another reduction or no sample counted."""
    n = target.numel()
    if box.reduction == "sum":
        return float(n)
    if box.reduction != "mean":
        return None
    counted = box.shared(("point_counted", ignore_index), lambda: int((target != ignore_index).sum()))
    return n / counted if counted else None


def cross_entropy_point_error(box: Box) -> PointBound | None:
    """Cross-entropy's float64 error bound for a point box (class indices, logits or log-probabilities, no weight,
    log_base e; see above)."""
    params, pred, target = box.params, box.pred, box.target
    if pred is None or target is None or target.is_floating_point() or params.get("weight") is not None \
            or params.get("input", "logits") not in ("logits", "log_probabilities") \
            or params.get("log_base", "e") != "e":
        return None
    found = log_softmax_point_error(pred, box, class_dim(pred))
    per_den = counted_per_den(box, target, int(params.get("ignore_index", -100)))
    if found is None or per_den is None:
        return None
    k, big_l = found
    return point_bound(k + 4 * big_l + 4, 1.0, target.numel(), per_den)


@interval_formula("exact log-softmax range (monotone in each logit), interval arithmetic with outward rounding",
                  point_error=cross_entropy_point_error)
def cross_entropy_enclosure(box: Box) -> Iv:
    params = box.params
    kind = params["input"]
    z = box.shared(("cross_entropy_scores", kind), lambda: _scores_box(box, kind))
    target = box.require_target()
    eps = float(params["label_smoothing"])
    w = tensor_param(params["weight"])
    if target.is_floating_point() and tuple(target.shape) == tuple(z.shape):
        # class probabilities: l_n = −Σ_c w_c·t'_c·log p_c with t' = (1 − ε)·t + ε/C; mean divides by N
        z, _, single = class_layout(z, target)
        c = z.shape[-1]
        t = class_layout(box.target_box(0.0, 1.0), target)[0]
        if eps:
            t = t * (1.0 - eps) + eps / c
        terms = -(log_softmax_iv(z) * t * (w if w is not None else torch.ones(c, dtype=torch.float64))).sum(-1)
        terms = terms / log_base_divisor(params)
        return reduce_iv(terms[0] if single and box.reduction == "none" else terms, box.reduction)
    classes = ClassTargets.of(z, target, int(params["ignore_index"]))
    wy = classes.weight(w)
    if eps:
        c = classes.x.shape[-1]
        logp = log_softmax_iv(classes.x)
        smooth = -(logp * (w if w is not None else torch.ones(c, dtype=torch.float64))).sum(-1) * classes.counted
        terms = -classes.picked(logp) * wy * (1.0 - eps) + smooth * (eps / c)
    else:  # the log-probability of each sample's class, shared by the enclosures of one problem
        log_p = box.shared(("cross_entropy_log_p", kind, int(params["ignore_index"])),
                           lambda: log_softmax_iv(classes.x, index=classes.index))
        terms = -log_p * wy
    terms = terms / log_base_divisor(params)
    return reduce_iv(classes.unreduced(terms, box.reduction), box.reduction,
                     denominator=wy if box.reduction == "mean" else None)


# NLL: l_n = −w_{y_n}·x_{n,y_n}, linear in the log-probabilities: the exact range. Only each sample's own entry is
# read, so only those N entries are widened to float64 and boxed (the box, and log p of probabilities, are entry by
# entry: the same intervals as the whole tensor's box gathered at the targets), not all N·C of the user's tensor.
@interval_formula("exact range (linear in the log-probabilities), interval arithmetic with outward rounding",
                  narrow_pred=True)
def nll_enclosure(box: Box) -> Iv:
    probabilities = box.params["input"] == "probabilities"
    classes = _own_class_box(box, *((0.0, 1.0) if probabilities else (None, 0.0)))
    log_p = classes.x.log() if probabilities else classes.x
    wy = classes.weight(tensor_param(box.params["weight"]))
    terms = -log_p * wy / log_base_divisor(box.params)
    return reduce_iv(classes.unreduced(terms, box.reduction), box.reduction,
                     denominator=wy if box.reduction == "mean" else None)


def _own_class_box(box: Box, low: float | None, high: float | None) -> ClassTargets:
    """The class-index targets of box's pred, their `x` the rounding box (clipped to [low, high]) of each sample's
    entry of its own class (0 where ignored), gathered from pred as given (any floating dtype) with its decimals:
    rounding_box works entry by entry, so this is rounding_box of the whole pred gathered, without a float64 copy of it."""
    pred, target = box.pred, box.require_target()
    decimals = box.pred_decimals
    if decimals is not None and np.shape(decimals) != tuple(pred.shape):
        raise EnclosureUnavailable(msg("interval.reshaped"))
    x, moved, single = class_layout(pred, target)  # (a tensor: the same views as of an Iv)
    index = moved.long()
    counted = index != int(box.params["ignore_index"])
    index = torch.where(counted, index, torch.zeros_like(index))
    at = index.unsqueeze(-1)
    picked = x.gather(-1, at).reshape(index.shape)
    if decimals is not None:
        d = class_layout(torch.from_numpy(np.ascontiguousarray(decimals)), target)[0]
        decimals = d.gather(-1, at).reshape(index.shape).numpy()
    return ClassTargets(rounding_box(picked, decimals, low=low, high=high), index, counted.to(torch.float64), single)


# KL divergence (torch): log_target False: l = xlogy(t, t) − t·x;  True: l = e^t·(t − x).
# A point box: KL's terms l_i = p_i·log p_i − p_i·log q_i have either sign, so lossapp.interval.point_bound (terms ≥ 0)
# does not apply; the bound is proven here from B_i = −p_i·log p_i − p_i·log q_i ≥ |l_i| (p in [0, 1], log q ≤ 0), for
# log q given (input log_probabilities) and p given (log_target false). Each term is within 5u·B_i (p·log p within
# 3u: log within 2u and a product; p·log q and the subtraction, fused or not, one rounding each), and l/ln b adds u.
# With B' = B/ln b, Σ|Δl'_i| ≤ 6u·ΣB' and a float sum of n terms in any order errs by ≤ γ_{n−1}(1 + 6u)ΣB' ≤ 2n·u·ΣB'
# (Higham §4.2); the division by the exact D adds u·|v̂|(1 + u). ΣB ≤ n/e + P with P = −Σ p·log q ≥ 0, whose float
# value P̂ = −p·log q summed (terms ≥ 0) is within 2n·u relative, so P ≤ P̂(1 + 4nu). Returned with a factor 2:
# (2(6 + 2n + POINT_MARGIN)u·(n/e + P̂(1 + 4nu))/(ln b·D), 4u).
def kl_div_point_error(box: Box) -> PointBound | None:
    """KL divergence's float64 error bound for a point box (log q and p given; see above)."""
    params, pred, target = box.params, box.pred, box.target
    if pred is None or target is None or params.get("log_target") or params.get("input") != "log_probabilities" \
            or tuple(target.shape) != tuple(pred.shape) or not pred.numel():
        return None
    x, y = value_range(box), value_range(box, "target")
    per_den = reduction_per_den(box.reduction, pred.shape)
    if x is None or y is None or per_den is None or not math.isfinite(x[0]) or x[1] > 0 or y[0] < 0 or y[1] > 1:
        return None
    n = pred.numel()
    if (6 + 2 * n + POINT_MARGIN) * U > 0.125:
        return None
    cross = box.shared(("kl_point_cross",), lambda: -float(torch.dot(target.reshape(-1).double(), pred.reshape(-1).double())))
    total = (n / math.e + max(cross, 0.0) * (1 + 4 * n * U)) * (1 + 2.0 ** -40)
    return 2 * (6 + 2 * n + POINT_MARGIN) * U * total * per_den / n / log_base_divisor(params), 4 * U


@interval_formula("interval arithmetic with outward rounding over torch's kl_div formula (t·log t convex, exact range)",
                  point_error=kl_div_point_error)
def kl_div_enclosure(box: Box) -> Iv:
    log_target, kind, divisor = bool(box.params["log_target"]), box.params["input"], log_base_divisor(box.params)
    # the terms, shared by the enclosures of one problem (another reduction, log base: `Box.shared`), and the reduced
    # value (one number: Keras' convention on unclipped inputs is the same enclosure)

    def reduced() -> Iv:
        terms = box.shared(("kl_div_terms", log_target, kind), lambda: _kl_div_enclosure_terms(box, log_target, kind))
        return reduce_iv(terms / divisor, box.reduction)
    return box.shared(("kl_div_reduced", log_target, kind, divisor, box.reduction), reduced)


def _kl_div_enclosure_terms(box: Box, log_target: bool, kind: str) -> Iv:
    target = box.require_target()
    if log_target:
        x = box.pred_box(0.0, 1.0).log() if kind == "probabilities" else box.pred_box()
        t = box.target_box(None, 0.0) if bool((target <= 0).all()) else box.target_box()
        return t.exp() * (t - x)
    if bool((target < 0).any()):
        raise EnclosureUnavailable(msg("interval.outside_domain", function="t·log t"))
    log_q = box.pred_box(0.0, 1.0).log() if kind == "probabilities" else box.pred_box(None, 0.0)
    return _kl_terms(box.target_box(0.0, None), log_q)


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
    a_log_a = Iv(a).xlogx()
    hi = hull(a_log_a - Iv(a) * x.lo, Iv(b).xlogx() - Iv(b) * x.lo).hi
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
    lo = torch.minimum(torch.where(positive, tangent.lo, down(g.lo)), hi)
    point = a == b  # entries written exactly (integers): g is linear in x there, and the formula gives its range
    if not bool(point.any()):
        return Iv(lo, hi)
    exact = a_log_a - Iv(a) * x
    return Iv(torch.where(point, exact.lo, lo), torch.where(point, exact.hi, hi))


# -- registration ---------------------------------------------------------------------------------------

_WEIGHT = Param("weight", None, Tensor(), msg("classification.param.weight"))
_CLASS_WEIGHT = Param("weight", None, Tensor(), msg("classification.param.class_weight"))
_IGNORE = Param("ignore_index", -100, Interval(Integral),
                msg("classification.param.ignore_index"))
_LOG_BASE = Param("log_base", "e", Options(LOG_BASES), msg("classification.param.log_base"))
_LN_B_CODE = ("ln_b = 1.0 if log_base == 'e' else float(torch.log(torch.tensor(float(log_base), "
              "dtype=torch.float64)))\n")

register(LossSpec(
    natural_log=True, affine_in_target=True, related={"logits": "bce_with_logits"},
    mistakes=("labels_swapped", "weighted_mean"),
    conventions=("keras_clip", "tf_keras_epsilon", "keras_label_smoothing", "sklearn_log_loss", "sklearn_log_loss_1e-15",
                 "old_torch_bce"),
    name="bce", family="classification", title=msg("classification.bce.title"),
    summary=msg("classification.bce.summary"),
    formula=r"l_n = -w_n\left[y_n \log p_n + (1-y_n)\log(1-p_n)\right]",
    pred_kind="probabilities", target_kind="binary", params=(_WEIGHT,), steps=bce_steps, rerun=bce_value, enclosure=bce_enclosure,
    reference=lambda x, y, p, r: F.binary_cross_entropy(x, y, weight=p["weight"], reduction=r),
    reference_name="torch.nn.functional.binary_cross_entropy", prepare=_bce_prepare,
    aliases=("log_loss", "BCELoss", "binary_cross_entropy", "logloss"), gradient=bce_gradient, derivative=BCE_DERIVATIVE,
    curves="bce",
    example={"pred": "[0.2947, 0.5898, 0.4863]", "target": "[1, 0, 0]", "params": {}},
    torch_code="F.binary_cross_entropy(pred, target, weight=weight, reduction=reduction)"))

register(LossSpec(
    natural_log=True, activation="sigmoid", affine_in_target=True, logistic=True, related={"probabilities": "bce"},
    mistakes=("labels_swapped", "weighted_mean"), conventions=("keras_label_smoothing",), lints=("probabilities_as_logits",),
    name="bce_with_logits", family="classification", title=msg("classification.bce_with_logits.title"),
    summary=msg("classification.bce_with_logits.summary"),
    formula=r"l_n = -w_n\left[p_c\, y_n \log \sigma(x_n) + (1-y_n)\log \sigma(-x_n)\right]",
    pred_kind="logits", target_kind="binary",
    params=(_WEIGHT, Param("pos_weight", None, Tensor(),
                           msg("classification.bce_with_logits.param.pos_weight"))),
    steps=bce_with_logits_steps, rerun=bce_with_logits_value, enclosure=bce_with_logits_enclosure, gradient=bce_with_logits_gradient,
    reference=lambda x, y, p, r: F.binary_cross_entropy_with_logits(x, y, weight=p["weight"],
                                                                    pos_weight=p["pos_weight"], reduction=r),
    reference_name="torch.nn.functional.binary_cross_entropy_with_logits", prepare=_bce_logits_prepare,
    derivative=LOGITS_DERIVATIVE, curves="bce",
    aliases=("BCEWithLogitsLoss", "binary_cross_entropy_with_logits", "sigmoid_cross_entropy"),
    example={"pred": "[[1.2, -0.5, 3.0], [-2.0, 0.0, 0.7]]", "target": "[[1, 0, 1], [0, 1, 0]]", "params": {}},
    torch_code="F.binary_cross_entropy_with_logits(pred, target, weight=weight, pos_weight=pos_weight, "
               "reduction=reduction)"))

register(LossSpec(
    natural_log=True, activation="softmax", class_dim=True, related={"log_probabilities": "nll"},
    mistakes=("unweighted_mean", "label_smoothing_ignored"),
    conventions=("keras_clip", "sklearn_log_loss", "sklearn_log_loss_1e-15", "label_smoothing_other_classes",
                 "keras_categorical_label_smoothing"),
    name="cross_entropy", family="classification", title=msg("classification.cross_entropy.title"),
    summary=msg("classification.cross_entropy.summary"),
    formula=r"l_n = -w_{y_n}\log\left(\frac{e^{x_{n,y_n}}}{\sum_c e^{x_{n,c}}}\right)",
    pred_kind="logits", target_kind="classes_or_probabilities",
    params=(_CLASS_WEIGHT, _IGNORE,
            Param("label_smoothing", 0.0, Interval(Real, 0.0, 1.0), msg("classification.cross_entropy.param.label_smoothing")),
            Param("input", "logits", Options(("logits", "probabilities", "log_probabilities")),
                  msg("classification.cross_entropy.param.input")), _LOG_BASE),
    steps=cross_entropy_steps, enclosure=cross_entropy_enclosure, reference=_ce_reference, reference_name="torch.nn.functional.cross_entropy",
    prepare=_ce_prepare, aliases=("ce", "CrossEntropyLoss", "softmax_cross_entropy", "categorical_cross_entropy"),
    target_dtype="auto",
    example={"pred": "[[1.5, 0.3, -0.8], [0.2, 2.1, 0.4]]", "target": "[0, 2]", "params": {}},
    torch_code="x = torch.log(pred) if input == 'probabilities' else pred\n" + _LN_B_CODE +
               "F.cross_entropy(x, target, weight=weight, ignore_index=ignore_index, reduction=reduction,\n"
               "                label_smoothing=label_smoothing) / ln_b"))

register(LossSpec(
    class_dim=True, mistakes=("unweighted_mean",),
    name="nll", family="classification", title=msg("classification.nll.title"),
    summary=msg("classification.nll.summary"),
    formula=r"l_n = -w_{y_n} x_{n,y_n}", pred_kind="log_probabilities", target_kind="classes",
    params=(_CLASS_WEIGHT, _IGNORE,
            Param("input", "log_probabilities", Options(("log_probabilities", "probabilities")),
                  msg("classification.nll.param.input")), _LOG_BASE),
    steps=nll_steps, enclosure=nll_enclosure, reference=_nll_reference, gradient=nll_gradient,
    gradient_shared=True, gradient_support=target_positions, narrow_pred=_nll_narrow,
    reference_name="torch.nn.functional.nll_loss", prepare=_nll_prepare,
    aliases=("NLLLoss", "negative_log_likelihood", "nll_loss"), target_dtype="index",
    example={"pred": "[[-0.3375, -1.5375, -2.6375], [-2.1869, -0.2869, -1.9869]]", "target": "[0, 2]", "params": {}},
    torch_code="x = torch.log(pred) if input == 'probabilities' else pred\n" + _LN_B_CODE +
               "F.nll_loss(x, target, weight=weight, ignore_index=ignore_index, reduction=reduction) / ln_b"))

register(LossSpec(
    mistakes=("kl_direction_swapped",), conventions=("keras_kl", "scipy_rel_entr_sum"),
    name="kl_div", family="distribution", title=msg("classification.kl_div.title"),
    summary=msg("classification.kl_div.summary"),
    formula=r"l_i = p_i(\log p_i - \log q_i)", pred_kind="log_probabilities", target_kind="probabilities",
    params=(Param("log_target", False, Boolean(), msg("classification.kl_div.param.log_target")),
            Param("input", "log_probabilities", Options(("log_probabilities", "probabilities")),
                  msg("classification.kl_div.param.input")), _LOG_BASE),
    steps=kl_div_steps, enclosure=kl_div_enclosure, derivative=KL_DERIVATIVE, gradient=kl_div_gradient,
    reference=_kl_reference, reference_name="torch.nn.functional.kl_div", prepare=_kl_prepare,
    aliases=("KLDivLoss", "kl", "kl_divergence", "relative_entropy", "kldiv"),
    reductions=("none", "mean", "sum", "batchmean"),
    example={"pred": "[[-1.2040, -1.2040, -0.9163], [-0.3567, -1.6094, -2.3026]]",
             "target": "[[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]", "params": {}},
    torch_code="x = torch.log(pred) if input == 'probabilities' else pred\n" + _LN_B_CODE +
               "F.kl_div(x, target, reduction=reduction, log_target=log_target) / ln_b"))
