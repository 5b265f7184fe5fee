"""Overlap losses for segmentation (article 003): Dice, IoU (Jaccard), Tversky, Dice + CE and Dice + focal.

The sets.  X is the prediction p (probabilities; sigmoid / softmax of the logits with `activation`), Y the
target t (a 0/1 mask, soft labels in [0, 1], or class indices turned one-hot for softmax):
|X∩Y| = Σ p·t, |X| = Σ p, |Y| = Σ t.

Which elements form one set (decided here by `set_layout`, the same for every overlap loss; DESIGN §5):

- activation none / sigmoid, a 1-D or 2-D pred: one set, the whole vector or the whole mask (article 003's
  `dice_loss` code sums over every pixel of its 3×3 masks); per_sample=true reads a 2-D pred's rows as samples.
- a ≥3-D pred is a batch (N, ...): one set per sample pred[n] (per_sample defaults to true there), so the loss
  has shape (N,) and "mean"/"sum" reduce over the N samples; per_sample=false pools the whole tensor into one
  set (MONAI's batch=True, smp's binary mode).
- per_channel=true, for an (N, C, d1, ...) pred with activation none / sigmoid: one set per (sample, channel),
  the loss (N, C) and its mean over both (MONAI DiceLoss's default); with per_sample=false one set per channel
  over the batch (MONAI batch=True, smp's multilabel mode).
- activation softmax: pred is (N, C, d1, ...) logits with the classes on dim 1; target is class
  indices (N, d1, ...) or one-hot / class probabilities (N, C, d1, ...). One coefficient per
  (sample, class) — per class over the whole batch with per_sample=false — and the loss is
  1 − the mean over the C classes.
- include_background=false (per_channel or softmax) leaves channel 0 out (MONAI); zero_empty=true makes the
  loss of a set whose target is empty 0 (smp); intersection="l1" forms |X∩Y| as (Σp + Σt − ‖p − t‖₁)/2 (smp's
  soft scores: Σ min(p, t), equal to Σ p·t for 0/1 targets).

For 0/1 inputs (activation none) the sums are the confusion counts, and the steps show
Dice = 2TP/(2TP+FP+FN) = F1 = 2PR/(P+R) (IoU = TP/(TP+FP+FN), Tversky = TP/(TP+αFP+βFN)).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real
from typing import Any

import torch
import torch.nn.functional as F

from lossapp.i18n import Message, msg
from lossapp.inputs import (
    InputError,
    require_binary,
    require_class_indices,
    require_probabilities,
    require_same_shape,
    shape_text,
)
from lossapp.inputs.constraints import Boolean, Interval, Options
from lossapp.interval import (
    Box,
    EnclosureUnavailable,
    IntervalFormula,
    Iv,
    PointBound,
    corners,
    from_corners,
    hull,
    interval_formula,
    is_point,
    log_softmax_iv,
    point_bound,
    reduce_iv,
    sum_parts_bound,
    value_range,
    where,
)
from lossapp.losses.stable import all_binary, stable_sigmoid, within
from lossapp.reduction import reduce
from lossapp.registry import LossSpec, Param, Part, RerunMemo, lookup, register
from lossapp.trace import SUBSTITUTE_MAX, Lazy, Trace, fmt

ACTIVATIONS = ("none", "sigmoid", "softmax")
INTERSECTIONS = ("product", "l1")  # Σ p·t, or smp's (Σp + Σt − ‖p − t‖₁)/2 = Σ min(p, t)
# a batch of two 1×4 masks (N, 1, 4): one set per sample (a single 2-D mask would be one set)
EXAMPLE = {"pred": "[[[0.9, 0.2, 0.7, 0.1]], [[0.3, 0.8, 0.6, 0.4]]]", "target": "[[[1, 0, 1, 0]], [[0, 1, 1, 0]]]"}
KINDS = {"dice": ("D", msg("overlap.step.dice_coefficient"), msg("overlap.step.dice_loss")),
         "iou": ("J", msg("overlap.step.iou_jaccard_index"), msg("overlap.step.iou_loss")),
         "tversky": ("T", msg("overlap.step.tversky_index"), msg("overlap.step.tversky_loss"))}


# -- the one score (segmentation_models_pytorch's soft scores) -------------------------------------

def overlap_score(tp: torch.Tensor, fp: torch.Tensor, fn: torch.Tensor, alpha: float, beta: float,
                  scale: float = 1.0, eps: float = 0.0) -> torch.Tensor:
    """The Tversky index of (soft) true positives, false positives and false negatives, smoothed by ε:

        T = (s·tp + ε) / (s·(tp + α·fp + β·fn) + ε).

    Every overlap coefficient is this one score: α = β = 1 is IoU (Jaccard), tp/(tp + fp + fn); α = β = ½ is
    Dice (F1), and with s = 2 it is written 2tp/(2tp + fp + fn), ε smoothing the doubled intersection as article
    003's code does, (2|X∩Y| + ε)/(|X| + |Y| + ε); s = 1 otherwise (Tversky's own form)."""
    return (scale * tp + eps) / (scale * (tp + alpha * fp + beta * fn) + eps)


def score_weights(kind: str, params: dict[str, Any]) -> tuple[float, float, float]:
    """(α, β, s) of `overlap_score` for a kind of coefficient."""
    if kind == "dice":
        return 0.5, 0.5, 2.0
    if kind == "iou":
        return 1.0, 1.0, 1.0
    return float(params["alpha"]), float(params["beta"]), 1.0


# -- input checks ----------------------------------------------------------------------------------

HINT_ACTIVATION = msg("overlap.hint.activation")


def prepare_overlap(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                    trace: Trace) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Shape and range checks shared by every overlap loss; targets become float64 (int64 class
    indices for softmax)."""
    activation = params.get("activation", "none")
    if target is None:
        raise InputError("overlap.error.target_missing")
    _check_set_options(pred, params)
    # pred's and target's ranges read off the user's own narrower tensors where they were widened from them (the same
    # values in half the bytes or less); the check that names an offending element runs on the tensor itself, only
    # where there is one
    narrow, narrow_target = trace.pred_values(pred), trace.target_values(target)
    # (their extremes where lossapp.compute read them with its check of the inputs: LossSpec.reads_extremes)
    pred_in_unit = _in_unit(narrow, trace.extremes)
    target_in_unit = _in_unit(narrow_target, trace.target_extremes)
    if activation == "softmax":
        if pred.dim() < 2:
            raise InputError("overlap.error.softmax_pred_shape", got=shape_text(pred.shape))
        classes = pred.shape[1]
        if classes < 2:
            raise InputError("overlap.error.softmax_classes", got=shape_text(pred.shape))
        index_shape = (pred.shape[0], *pred.shape[2:])
        if pred_in_unit():
            trace.warn(msg("overlap.warn.probabilities_as_logits", activation=activation))
        if tuple(target.shape) == index_shape:
            return pred, require_class_indices(target, classes)
        if tuple(target.shape) == tuple(pred.shape):
            target = target.double()
            if not target_in_unit():
                require_binary(target, "target")
            return pred, target
        raise InputError("overlap.error.softmax_target_shape", index=shape_text(index_shape), pred=shape_text(pred.shape),
                         got=shape_text(target.shape))
    require_same_shape(pred, target)
    target = target.double()
    if not target_in_unit():
        require_binary(target, "target")
    in_range = pred_in_unit()
    if activation == "none" and not in_range:
        require_probabilities(pred, "pred", hint=HINT_ACTIVATION)
    elif activation != "none" and in_range:
        trace.warn(msg("overlap.warn.probabilities_as_logits", activation=activation))
    return pred, target


def _in_unit(t: torch.Tensor, extremes: tuple[float, float] | None) -> Callable[[], bool]:
    """Whether every element of t lies in [0, 1] (NaN is not), asked when called: from t's (min, max) where they were
    read already (`extremes`), else `within` (one look at t)."""
    if extremes is not None and t.is_floating_point():
        low, high = extremes
        return lambda: low >= 0 and high <= 1
    return lambda: within(t, 0, 1)


def _check_set_options(pred: torch.Tensor, params: dict[str, Any]) -> None:
    """per_channel needs an (N, C, d1, ...) pred and activation none / sigmoid; include_background=false needs
    channels or classes kept apart (per_channel or softmax), at least two of them."""
    if params.get("per_channel"):
        if params.get("activation", "none") == "softmax":
            raise InputError("overlap.error.per_channel_softmax")
        if pred.dim() < 3:
            raise InputError("overlap.error.per_channel_shape", got=shape_text(pred.shape))
    if not params.get("include_background", True):
        if not channel_sets(params):
            raise InputError("overlap.error.background_without_channels")
        if pred.dim() >= 2 and pred.shape[1] < 2:
            raise InputError("overlap.error.background_only", got=shape_text(pred.shape))


# -- the float64 trace -------------------------------------------------------------------------------

# The key of the set sums the closed-form gradient leaves in the trace's `shared` (it runs first, on the same p and t):
# (dims, |X∩Y|, |X|, |Y|), which the steps read instead of summing p·t, p and t again (three passes over the elements)
SET_SUMS = "set_sums"  # (a key of Trace.shared; not a message id)


def _ssum(x: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    """Sum over dims; no dims means no sum (torch's x.sum(()) would sum everything)."""
    return x.sum(dims) if dims else x


def per_sample_sets(ndim: int, params: dict[str, Any]) -> bool:
    """Whether dim 0 is a batch of sets: per_sample as given, else (None, the default) for softmax, per_channel or
    a ≥3-D pred (a 1-D or 2-D pred is one vector or one mask)."""
    given = params.get("per_sample")
    if given is not None:
        return bool(given)
    return params.get("activation", "none") == "softmax" or bool(params.get("per_channel")) or ndim >= 3


def channel_sets(params: dict[str, Any]) -> bool:
    """Whether dim 1 (classes or channels) is kept apart: softmax, or per_channel."""
    return params.get("activation", "none") == "softmax" or bool(params.get("per_channel"))


def product_sum(p: torch.Tensor, t: torch.Tensor, dims: tuple[int, ...], keepdim: bool = False) -> torch.Tensor:
    """Σ p·t over dims (p and t of one shape): a dot product, with no tensor of the products, where the sum is over
    every element (one set); else the products summed."""
    if dims and len(dims) == p.dim() and p.shape == t.shape:
        total = torch.dot(p.reshape(-1), t.reshape(-1))
        return total.reshape([1] * p.dim()) if keepdim else total
    return (p * t).sum(dims, keepdim=keepdim) if dims else p * t


def soft_error_sums(p: torch.Tensor, t: torch.Tensor, dims: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """(Σ p·(1 − t), Σ (1 − p)·t) over dims: Tversky's soft false positives and negatives. Where no graph is recorded
    and a sum follows, both terms are formed in one buffer: 1 − t, times p in place ((1 − t)·p is p·(1 − t): IEEE
    products commute), then −p written over it, plus 1 (−p + 1 is 1 − p: IEEE subtraction is the addition of the
    negation), times t. The same elementwise values in a contiguous tensor of the same shape as p * (1 - t) and
    (1 - p) * t give, so the same sums, with one fresh buffer instead of four."""
    recorded = torch.is_grad_enabled() and (p.requires_grad or t.requires_grad)
    if not dims or recorded or p.shape != t.shape or p.dtype != t.dtype or not p.is_contiguous() \
            or not t.is_contiguous():
        return _ssum(p * (1 - t), dims), _ssum((1 - p) * t, dims)
    work = torch.rsub(t, 1)
    fp = work.mul_(p).sum(dims)
    return fp, torch.neg(p, out=work).add_(1).mul_(t).sum(dims)


def set_dims(p: torch.Tensor, params: dict[str, Any]) -> tuple[int, ...]:
    """The dimensions of p summed within one set (see the module docstring): the dims left are the sets, the
    classes / channels last where they are kept apart."""
    per_sample = per_sample_sets(p.dim(), params)
    if channel_sets(params):
        spatial = tuple(range(2, p.dim()))
        return spatial if per_sample else (0, *spatial)
    if per_sample and p.dim() >= 2:
        return tuple(range(1, p.dim()))
    return tuple(range(p.dim()))


def set_layout(shape: tuple[int, ...] | torch.Size, params: dict[str, Any]) -> tuple[str, Message]:
    """The sets of a pred of this shape, as the first step writes them: (LaTeX of one set, why these sets)."""
    ndim = len(shape)
    per_sample = per_sample_sets(ndim, params)
    if channel_sets(params):
        softmax = params.get("activation", "none") == "softmax"
        n, c = shape[0], shape[1]
        if per_sample:
            reason = (msg("overlap.note.sets_per_sample_and_class", n=n, classes=c) if softmax
                      else msg("overlap.note.sets_per_sample_and_channel", n=n, classes=c))
            return r"X_{n,c} = \{p_{n,c,i}\}_i,\; Y_{n,c} = \{t_{n,c,i}\}_i", reason
        reason = (msg("overlap.note.sets_per_class", classes=c) if softmax
                  else msg("overlap.note.sets_per_channel", classes=c))
        return r"X_c = \{p_{n,c,i}\}_{n,i},\; Y_c = \{t_{n,c,i}\}_{n,i}", reason
    if per_sample and ndim >= 2:
        reason = (msg("overlap.note.sets_per_sample", n=shape[0]) if ndim >= 3
                  else msg("overlap.note.sets_per_row", n=shape[0]))
        return r"X_n = \{p_{n,i}\}_i,\; Y_n = \{t_{n,i}\}_i", reason
    if params.get("per_sample") is False and ndim >= 3:
        reason = msg("overlap.note.sets_whole_batch")
    elif ndim == 2:
        reason = msg("overlap.note.sets_one_mask")
    else:
        reason = msg("overlap.note.sums_over_the_whole_tensor")
    return r"X = \{p_i\}_i,\; Y = \{t_i\}_i", reason


def _sum_terms(x: torch.Tensor, dims: tuple[int, ...]) -> str | None:
    """'a + b + c' for each set (sets separated by ';'), for small inputs."""
    if not dims or x.numel() > SUBSTITUTE_MAX:
        return None
    keep = [d for d in range(x.dim()) if d not in dims]
    moved = x.detach().permute(*keep, *dims)
    rows = moved.reshape(math.prod(moved.shape[:len(keep)]), -1).tolist()
    return r";\quad ".join(" + ".join(fmt(v) for v in row) for row in rows)


def _activate(trace: Trace, x: torch.Tensor, activation: str) -> torch.Tensor:
    if activation == "sigmoid":
        return trace.add("p", msg("overlap.step.sigmoid"), r"p_i = \sigma(x_i) = \frac{1}{1 + e^{-x_i}}", stable_sigmoid(x),
                         note=msg("overlap.note.sigmoid"),
                         sub=r"\frac{1}{1 + e^{-$x}}", x=x)
    if activation == "softmax":
        m = trace.add("m", msg("overlap.step.max_over_classes"), r"m = \max_c x_c", x.amax(1, keepdim=True),
                      note=msg("overlap.note.subtracting_the_max_keeps_every"))
        e = trace.add("e", msg("overlap.step.shifted_exponentials"), r"e_c = e^{x_c - m}", torch.exp(x - m))
        s = trace.add("Σe", msg("overlap.step.sum_of_exponentials"), r"S = \sum_c e_c", e.sum(1, keepdim=True))
        return trace.add("p", msg("overlap.step.softmax_over_classes_dim_1"), r"p_c = \frac{e_c}{S}", e / s)
    return x


def _one_hot(trace: Trace, target: torch.Tensor, classes: int) -> torch.Tensor:
    grid = torch.arange(classes, device=target.device).view(1, classes, *([1] * (target.dim() - 1)))
    return trace.add("t", msg("overlap.step.one_hot_target"), r"t_c = [y = c]", (target.unsqueeze(1) == grid).double(),
                     note=msg("overlap.note.one_hot", classes=classes))


def _count_steps(trace: Trace, p: torch.Tensor, t: torch.Tensor, dims: tuple[int, ...], kind: str,
                 params: dict[str, Any]) -> None:
    """For 0/1 masks: the confusion counts and the coefficient written with them."""
    p, t = p.detach(), t.detach()
    masks = {"TP": p * t, "FP": p * (1 - t), "FN": (1 - p) * t, "TN": (1 - p) * (1 - t)}
    tp = trace.add("TP", msg("overlap.step.true_positives_tp"), r"TP = \sum_i p_i t_i", _ssum(masks["TP"], dims),
                   note=msg("overlap.note.confusion_counts"),
                   sub=_sum_terms(masks["TP"], dims))
    fp = trace.add("FP", msg("overlap.step.false_positives_fp"), r"FP = \sum_i p_i (1 - t_i)", _ssum(masks["FP"], dims),
                   sub=_sum_terms(masks["FP"], dims))
    fn = trace.add("FN", msg("overlap.step.false_negatives_fn"), r"FN = \sum_i (1 - p_i)\, t_i", _ssum(masks["FN"], dims),
                   sub=_sum_terms(masks["FN"], dims))
    trace.add("TN", msg("overlap.step.true_negatives_tn"), r"TN = \sum_i (1 - p_i)(1 - t_i)", _ssum(masks["TN"], dims),
              sub=_sum_terms(masks["TN"], dims))
    counted = overlap_score(tp, fp, fn, *score_weights(kind, params))
    if kind == "dice":
        prec = trace.add("P", msg("overlap.step.precision_p"), r"P = \frac{TP}{TP + FP}", tp / (tp + fp),
                         sub=r"\frac{$tp}{$tp + $fp}", tp=tp, fp=fp)
        rec = trace.add("R", msg("overlap.step.recall_r"), r"R = \frac{TP}{TP + FN}", tp / (tp + fn),
                        sub=r"\frac{$tp}{$tp + $fn}", tp=tp, fn=fn)
        trace.add("F1", msg("overlap.step.dice_f1_from_the_counts"), r"\frac{2TP}{2TP + FP + FN} = F_1 = \frac{2PR}{P + R}",
                  counted,
                  note=msg("overlap.note.dice_counts"),
                  sub=r"\frac{2 \cdot $tp}{2 \cdot $tp + $fp + $fn} = \frac{2 \cdot $P \cdot $R}{$P + $R}",
                  tp=tp, fp=fp, fn=fn, P=prec, R=rec)
    elif kind == "iou":
        trace.add("IoU", msg("overlap.step.iou_from_the_counts"), r"J = \frac{TP}{TP + FP + FN}", counted,
                  note=msg("overlap.note.iou_counts"),
                  sub=r"\frac{$tp}{$tp + $fp + $fn}", tp=tp, fp=fp, fn=fn)
    else:
        a, b = float(params["alpha"]), float(params["beta"])
        trace.add("T_counts", msg("overlap.step.tversky_index_from_the_counts"), r"T = \frac{TP}{TP + \alpha FP + \beta FN}",
                  counted,
                  note=msg("overlap.note.tversky_counts"),
                  sub=rf"\frac{{$tp}}{{$tp + {fmt(a)} \cdot $fp + {fmt(b)} \cdot $fn}}", tp=tp, fp=fp, fn=fn)


def _overlap(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
             kind: str) -> torch.Tensor:
    """The per-set loss l = 1 − coefficient (before the reduction); the first step says which sets were formed."""
    activation = params["activation"]
    eps = float(params["eps"])
    e = fmt(eps)
    dims = set_dims(pred, params)
    layout, reason = set_layout(pred.shape, params)
    sets = math.prod(d for i, d in enumerate(pred.shape) if i not in dims)
    trace.add("sets", msg("overlap.step.sets"), layout, torch.tensor(float(sets), dtype=torch.float64), note=reason)
    p = _activate(trace, pred, activation)
    if activation == "softmax" and not target.is_floating_point():
        t = _one_hot(trace, target, p.shape[1])
    else:
        t = target.double()
    if activation == "softmax" and per_sample_sets(p.dim(), params) and p.dim() == 2:
        trace.warn(msg("overlap.warn.no_positions"))
    symbol, title, _ = KINDS[kind]
    weights = score_weights(kind, params)
    if params.get("intersection", "product") == "l1":
        # smp's soft scores: (Σp + Σt − Σ|p − t|)/2 = Σ min(p, t), since (a + b − |a − b|)/2 = min(a, b)
        sp = trace.add("|X|", msg("overlap.step.prediction_size_x"), r"|X| = \sum_i p_i", _ssum(p, dims), sub=_sum_terms(p, dims))
        st = trace.add("|Y|", msg("overlap.step.target_size_y"), r"|Y| = \sum_i t_i", _ssum(t, dims), sub=_sum_terms(t, dims))
        gap = trace.add("|p−t|", msg("overlap.step.absolute_difference"), r"|p_i - t_i|", (p - t).abs(),
                        sub=r"|$p - $t|", p=p, t=t)
        l1 = trace.add("‖p−t‖₁", msg("overlap.step.l1_distance"), r"\lVert p - t \rVert_1 = \sum_i |p_i - t_i|",
                       _ssum(gap, dims), sub=_sum_terms(gap, dims))
        inter = trace.add("|X∩Y|", msg("overlap.step.intersection_x_y"),
                          r"|X \cap Y| = \frac{|X| + |Y| - \lVert p - t \rVert_1}{2} = \sum_i \min(p_i, t_i)",
                          (sp + st - l1) / 2, note=msg("overlap.note.l1_intersection"),
                          sub=r"\frac{$x + $y - $d}{2}", x=sp, y=st, d=l1)
    else:
        trace.show("p·t", msg("overlap.step.element_wise_product_p_t"), r"p_i\, t_i", torch.mul, p, t, sub=r"$p \cdot $t",
                   p=p, t=t)
        known = trace.shared.get(SET_SUMS)  # (the gradient's: the same sums of the same p and t)
        sums = known[1:] if known is not None and known[0] == dims else (product_sum(p, t, dims), _ssum(p, dims),
                                                                         _ssum(t, dims))
        inter = trace.add("|X∩Y|", msg("overlap.step.intersection_x_y"), r"|X \cap Y| = \sum_i p_i t_i",
                          sums[0], sub=_sum_terms(p * t, dims) if p.numel() <= SUBSTITUTE_MAX else None)
        sp = trace.add("|X|", msg("overlap.step.prediction_size_x"), r"|X| = \sum_i p_i", sums[1], sub=_sum_terms(p, dims))
        st = trace.add("|Y|", msg("overlap.step.target_size_y"), r"|Y| = \sum_i t_i", sums[2], sub=_sum_terms(t, dims))
    fp, fn = sp - inter, st - inter  # |X∖Y| and |Y∖X|, the soft false positives and negatives
    empty = (sp + st).detach() == 0
    if kind == "dice":
        coef = trace.add(symbol, title, r"D = \frac{2|X \cap Y| + \epsilon}{|X| + |Y| + \epsilon}",
                         overlap_score(inter, fp, fn, *weights, eps=eps),
                         sub=rf"\frac{{2 \cdot $i + {e}}}{{$x + $y + {e}}}", i=inter, x=sp, y=st)
    elif kind == "iou":
        union = trace.add("|X∪Y|", msg("overlap.step.union_x_y"), r"|X \cup Y| = |X| + |Y| - |X \cap Y|", sp + st - inter,
                          sub=r"$x + $y - $i", x=sp, y=st, i=inter)
        coef = trace.add(symbol, title, r"J = \frac{|X \cap Y| + \epsilon}{|X \cup Y| + \epsilon}",
                         overlap_score(inter, fp, fn, *weights, eps=eps), sub=rf"\frac{{$i + {e}}}{{$u + {e}}}",
                         i=inter, u=union)
    else:
        a, b, _ = weights
        if params.get("intersection", "product") == "l1":
            fp = trace.add("fp", msg("overlap.step.soft_false_positives"), r"\mathrm{fp} = |X| - |X \cap Y|", fp,
                           note=msg("overlap.note.weighted_by_alpha"))
            fn = trace.add("fn", msg("overlap.step.soft_false_negatives"), r"\mathrm{fn} = |Y| - |X \cap Y|", fn,
                           note=msg("overlap.note.weighted_by_beta"))
        else:
            fp_sum, fn_sum = soft_error_sums(p, t, dims)
            fp = trace.add("fp", msg("overlap.step.soft_false_positives"), r"\mathrm{fp} = \sum_i p_i (1 - t_i)",
                           fp_sum, note=msg("overlap.note.weighted_by_alpha"))
            fn = trace.add("fn", msg("overlap.step.soft_false_negatives"), r"\mathrm{fn} = \sum_i (1 - p_i)\, t_i",
                           fn_sum, note=msg("overlap.note.weighted_by_beta"))
        empty = (inter + a * fp + b * fn).detach() == 0
        coef = trace.add(symbol, title,
                         r"T = \frac{|X \cap Y| + \epsilon}{|X \cap Y| + \alpha\,\mathrm{fp} + \beta\,\mathrm{fn} + \epsilon}",
                         overlap_score(inter, fp, fn, *weights, eps=eps),
                         sub=rf"\frac{{$i + {e}}}{{$i + {fmt(a)} \cdot $fp + {fmt(b)} \cdot $fn + {e}}}",
                         i=inter, fp=fp, fn=fn)
    zero_empty = bool(params.get("zero_empty"))
    if bool(empty.any()):
        if eps == 0 and not zero_empty:
            trace.warn(msg("overlap.warn.empty_set_nan"))
        elif eps != 0:
            trace.steps[-1].note = msg("overlap.note.empty_set")
    if activation == "none" and all_binary(p) and all_binary(t):
        _count_steps(trace, p, t, dims, kind, params)
    if not params.get("include_background", True):
        coef = trace.add(f"{symbol}_fg", msg("overlap.step.without_background"), rf"{symbol}_c,\ c = 1, \dots, C - 1",
                         coef[..., 1:], note=msg("overlap.note.without_background", classes=coef.shape[-1] - 1))
        st = st[..., 1:]
    softmax = activation == "softmax"
    if softmax and not zero_empty:
        coef = trace.add(f"{symbol}_avg", msg("overlap.step.mean_over_classes"), rf"\bar{{{symbol}}} = \frac{{1}}{{C}} \sum_c {symbol}_c",
                         coef.mean(-1), note=msg("overlap.note.mean_over_classes", classes=coef.shape[-1]))
        return trace.add("l", KINDS[kind][2], rf"l = 1 - \bar{{{symbol}}}", 1 - coef, sub=r"1 - $c", c=coef)
    loss = trace.add("l_c" if softmax else "l", KINDS[kind][2], rf"l = 1 - {symbol}", 1 - coef, sub=r"1 - $c", c=coef)
    if zero_empty:
        loss = trace.add("l_c" if softmax else "l", msg("overlap.step.zero_empty"), r"l = [\,|Y| > 0\,] \cdot l",
                         torch.where(st.detach() > 0, loss, torch.zeros_like(loss)), note=msg("overlap.note.zero_empty"))
    if softmax:
        loss = trace.add("l", msg("overlap.step.mean_over_classes"), r"l = \frac{1}{C} \sum_c l_c", loss.mean(-1),
                         note=msg("overlap.note.mean_over_classes", classes=loss.shape[-1]))
    return loss


def dice_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
               reduction: str) -> torch.Tensor:
    """Soft Dice loss (article 003's `dice_loss`, eps = 1e-8).

    Unreduced: l = 1 − (2·Σ p·t + ε) / (Σ p + Σ t + ε), one l per set (see the module docstring:
    the whole 1-D or 2-D tensor, each sample of a ≥3-D batch, each (sample, channel) with per_channel, or with
    softmax each (sample, class) averaged over classes).  mean: Σ_n l_n / N over the sets;  sum: Σ_n l_n;
    none: the per-set losses.
    Params: eps, activation (none / sigmoid / softmax), per_sample, per_channel, include_background, zero_empty,
    intersection.  MONAI DiceLoss() is per_channel=true, eps=1e-5; smp DiceLoss(smooth=s) is eps=2s,
    zero_empty=true, intersection="l1", per_sample=false.
    Reference: the set formula written directly in torch ops (sum, sigmoid / softmax, one_hot).

    Shape:
        - pred: (*): one set when 1-D or 2-D (one mask) or per_sample=false; (N, ...) with one set per sample
          when ≥3-D or per_sample=true; per_channel=true: (N, C, d1, ...) with one set per (sample, channel);
          activation=softmax: (N, C, d1, ...) logits with the classes on dim 1.
        - target: pred's shape, a 0/1 mask or soft labels in [0, 1]; softmax: (N, d1, ...) class indices
          or (N, C, d1, ...) one-hot / class probabilities.
        - output: a scalar for mean and sum; for none, one loss per set: () for one set, (N,) per sample,
          (N, C) per (sample, channel), (C,) per channel over the batch; softmax: (N,) (or ()) class means.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("dice", "[[0.9, 0.2, 0.7, 0.1], [0.3, 0.8, 0.6, 0.4]]", "[[1, 0, 1, 0], [0, 1, 1, 0]]")
        >>> print(f"{r.scalar:.4f}")  # one 2×4 mask: 1 − 2·3.0/(4.0 + 4)
        0.2500
        >>> r = lossapp.compute("dice", "[[0.9, 0.2, 0.7, 0.1], [0.3, 0.8, 0.6, 0.4]]", "[[1, 0, 1, 0], [0, 1, 1, 0]]",
        ...                     per_sample=True)
        >>> print(f"{r.scalar:.4f}")  # the rows as two samples
        0.2483
    """
    return reduce(trace, _overlap(trace, pred, target, params, "dice"), reduction)


def iou_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
              reduction: str) -> torch.Tensor:
    """Soft IoU (Jaccard) loss.

    Unreduced: l = 1 − (Σ p·t + ε) / (Σ p + Σ t − Σ p·t + ε), one l per set as for Dice.
    mean: Σ_n l_n / N over the sets;  sum: Σ_n l_n;  none: the per-set losses.
    Params: eps, activation, per_sample, per_channel, include_background, zero_empty, intersection (as for dice;
    MONAI's DiceLoss(jaccard=True) is eps = 5e-6, smp's JaccardLoss(smooth=s) eps = s).
    Reference: the set formula in torch ops.

    Shape:
        - pred: (*): one set when 1-D or 2-D (one mask) or per_sample=false; (N, ...) with one set per sample
          when ≥3-D or per_sample=true; per_channel=true: (N, C, d1, ...) with one set per (sample, channel);
          activation=softmax: (N, C, d1, ...) logits with the classes on dim 1.
        - target: pred's shape, a 0/1 mask or soft labels in [0, 1]; softmax: (N, d1, ...) class indices
          or (N, C, d1, ...) one-hot / class probabilities.
        - output: a scalar for mean and sum; for none, one loss per set: () for one set, (N,) per sample,
          (N, C) per (sample, channel), (C,) per channel over the batch; softmax: (N,) (or ()) class means.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("iou", "[[0.9, 0.2, 0.7, 0.1], [0.3, 0.8, 0.6, 0.4]]", "[[1, 0, 1, 0], [0, 1, 1, 0]]")
        >>> print(f"{r.scalar:.4f}")
        0.4000
    """
    return reduce(trace, _overlap(trace, pred, target, params, "iou"), reduction)


def tversky_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                  reduction: str) -> torch.Tensor:
    """Tversky loss (Salehi et al. 2017): α weighs false positives, β false negatives.

    Unreduced: l = 1 − (Σ p·t + ε) / (Σ p·t + α·Σ p(1−t) + β·Σ (1−p)t + ε), one l per set.
    α = β = 0.5 is the Dice loss (exactly when ε = 0), α = β = 1 the IoU loss.
    mean: Σ_n l_n / N over the sets;  sum: Σ_n l_n;  none: the per-set losses.
    Params: eps, alpha, beta, activation, per_sample, per_channel, include_background, zero_empty, intersection
    (MONAI's TverskyLoss is eps = 1e-5, smp's TverskyLoss(smooth=s, gamma=1) eps = s).
    Reference: the set formula in torch ops.

    Shape:
        - pred: (*): one set when 1-D or 2-D (one mask) or per_sample=false; (N, ...) with one set per sample
          when ≥3-D or per_sample=true; per_channel=true: (N, C, d1, ...) with one set per (sample, channel);
          activation=softmax: (N, C, d1, ...) logits with the classes on dim 1.
        - target: pred's shape, a 0/1 mask or soft labels in [0, 1]; softmax: (N, d1, ...) class indices
          or (N, C, d1, ...) one-hot / class probabilities.
        - output: a scalar for mean and sum; for none, one loss per set: () for one set, (N,) per sample,
          (N, C) per (sample, channel), (C,) per channel over the batch; softmax: (N,) (or ()) class means.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("tversky", "[[0.9, 0.2, 0.7, 0.1]]", "[[1, 0, 1, 0]]", alpha=0.3, beta=0.7)
        >>> print(f"{r.scalar:.4f}")
        0.1878
    """
    return reduce(trace, _overlap(trace, pred, target, params, "tversky"), reduction)


def _overlap_gradient(kind: str) -> Callable[..., torch.Tensor | Lazy | None]:
    """d(loss)/dp in closed form for activation none and the product intersection (None, autograd of the trace,
    otherwise, or where a set's denominator is 0). Per set, with N = s·I + ε, D = s·(I + α·fp + β·fn) + ε,
    I = Σ p·t, fp = Σ p − I, fn = Σ t − I (`overlap_score`): ∂coef/∂p_i = t_i·a + b with
    a = s/D − s·N·(1 − α − β)/D² and b = −s·N·α/D², since ∂I/∂p_i = t_i, ∂fp/∂p_i = 1 − t_i, ∂fn/∂p_i = −t_i.
    The loss 1 − coef gives −(t_i·a + b), 0 for sets left out (include_background=false) or zeroed (zero_empty), over
    the number of set losses for mean: three sums and one pass over the elements instead of autograd's chain. For one
    set (the sums over every element) a and b are numbers and the gradient, elementwise in t, is given as a `Lazy`
    value: compute() compares it with the built-in's a block at a time, each block computed where it is read (no
    float64 tensor of pred's size; the same torch.addcmul on the same operands, element for element the tensor
    `Lazy.full` gives every other caller)."""
    def gradient(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                 reduction: str, shared: dict[str, Any] | None = None) -> torch.Tensor | Lazy | None:
        if params["activation"] != "none" or params.get("intersection", "product") != "product":
            return None
        p, t = pred.detach(), target.double()
        dims = set_dims(p, params)
        if not dims:
            return None
        alpha, beta, scale = score_weights(kind, params)
        eps = float(params["eps"])
        inter = product_sum(p, t, dims, keepdim=True)
        size_t = t.sum(dims, keepdim=True)
        size_p = p.sum(dims, keepdim=True)
        num = scale * inter + eps
        den = scale * (inter + alpha * (size_p - inter) + beta * (size_t - inter)) + eps
        if bool((den == 0).any()):
            return None
        if shared is not None:  # (the steps' |X∩Y|, |X|, |Y|: the same sums, without the kept dimensions)
            shared[SET_SUMS] = (dims, inter.squeeze(dims), size_p.squeeze(dims), size_t.squeeze(dims))
        kept = torch.ones_like(den)
        if not params.get("include_background", True):
            kept[:, 0] = 0.0  # (channels or classes are on dim 1)
        count = float(kept.sum()) if reduction == "mean" else 1.0
        if params.get("zero_empty"):
            kept = kept * (size_t > 0)
        weight = kept / -max(count, 1.0)
        a = (scale / den - scale * num * (1 - alpha - beta) / den**2) * weight
        b = (-scale * alpha) * num / den**2 * weight
        if len(dims) == p.dim() and p.shape == t.shape:  # one set: a and b are numbers, the gradient elementwise in t
            a, b = a.reshape(()), b.reshape(())
            # |b + t_i·a| ≤ |a| + |b| for t_i in [0, 1] (prepare_overlap), so its rounding (one, fused; or of t_i·a,
            # then of the sum) is at most any float S ≥ |a| + |b| (rounding to nearest is monotone and keeps S): the
            # float after fl(|a| + |b|) is one
            bound = math.nextafter(abs(float(a)) + abs(float(b)), math.inf)
            return Lazy(lambda t: torch.addcmul(b, t, a), (t,), bound=bound,
                        into=lambda out, t: torch.addcmul(b, t, a, out=out))  # (the same, written into out)
        return torch.addcmul(b, t, a)
    return gradient


def _dense(gradient: torch.Tensor | Lazy | None) -> torch.Tensor | None:
    """A gradient as a tensor of its own (a `Lazy` one computed in full)."""
    return gradient.full().contiguous() if isinstance(gradient, Lazy) else gradient


dice_gradient = _overlap_gradient("dice")
iou_gradient = _overlap_gradient("iou")
tversky_gradient = _overlap_gradient("tversky")


# -- the references: the set formulas written directly with torch ops, in the chosen dtype -----------

def set_losses(kind: str, inter: torch.Tensor, size_p: torch.Tensor, size_t: torch.Tensor,
               params: dict[str, Any]) -> torch.Tensor:
    """The loss of each set from its sums |X∩Y|, |X| and |Y| as the steps form it: 1 − the coefficient, channel 0
    left out (include_background=false), 0 for an empty target (zero_empty), the mean over the classes (softmax)."""
    eps = float(params["eps"])
    if kind == "dice":
        coef = (2 * inter + eps) / (size_p + size_t + eps)
    elif kind == "iou":
        coef = (inter + eps) / (size_p + size_t - inter + eps)
    else:
        alpha, beta = float(params["alpha"]), float(params["beta"])
        coef = (inter + eps) / (inter + alpha * (size_p - inter) + beta * (size_t - inter) + eps)
    if not params.get("include_background", True):
        coef, size_t = coef[..., 1:], size_t[..., 1:]
    loss = 1 - coef
    if params.get("zero_empty"):
        loss = torch.where(size_t > 0, loss, torch.zeros_like(loss))
    return loss.mean(-1) if params.get("activation", "none") == "softmax" else loss


def _reference(kind: str) -> Callable[..., torch.Tensor]:
    """The set formula of `kind` written directly with torch ops (torch.sigmoid / softmax, F.one_hot, sums over
    set_dims), in the chosen dtype."""
    def reference(x: torch.Tensor, y: torch.Tensor, params: dict[str, Any], reduction: str) -> torch.Tensor:
        activation = params["activation"]
        p = torch.sigmoid(x) if activation == "sigmoid" else torch.softmax(x, 1) if activation == "softmax" else x
        if activation == "softmax" and not y.is_floating_point():
            t = F.one_hot(y.long(), p.shape[1]).movedim(-1, 1).to(p.dtype)
        else:
            t = y.to(p.dtype)
        dims = set_dims(p, params)
        size_p, size_t = _ssum(p, dims), _ssum(t, dims)
        if params.get("intersection", "product") == "l1":
            inter = (size_p + size_t - _ssum((p - t).abs(), dims)) / 2
        else:
            inter = _ssum(p * t, dims)
        loss = set_losses(kind, inter, size_p, size_t, params)
        return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]
    return reference


dice_reference = _reference("dice")
iou_reference = _reference("iou")
tversky_reference = _reference("tversky")

_SETS_CODE = """\
p = torch.sigmoid(pred) if activation == "sigmoid" else torch.softmax(pred, 1) if activation == "softmax" else pred
t = F.one_hot(target.long(), p.shape[1]).movedim(-1, 1).to(p.dtype) if activation == "softmax" and target.dim() < p.dim() else target.to(p.dtype)
apart = activation == "softmax" or per_channel  # classes / channels on dim 1 kept apart
batch = per_sample if per_sample is not None else apart or p.dim() >= 3  # dim 0 a batch of sets
dims = [d for d in range(p.dim()) if not (d == 0 and batch and p.dim() > 1) and not (d == 1 and apart)]
S = lambda a: a.sum(dims) if dims else a  # one sum per set (no dims left: each element is a set)
P, T = S(p), S(t)
inter = (P + T - S((p - t).abs())) / 2 if intersection == "l1" else S(p * t)
"""
_REDUCE_CODE = """\
l, T = (l, T) if include_background else (l[..., 1:], T[..., 1:])
l = torch.where(T > 0, l, torch.zeros_like(l)) if zero_empty else l
l = l.mean(-1) if activation == "softmax" else l
{"none": l, "mean": l.mean(), "sum": l.sum()}[reduction]"""
DICE_CODE = _SETS_CODE + "l = 1 - (2 * inter + eps) / (P + T + eps)\n" + _REDUCE_CODE
IOU_CODE = _SETS_CODE + "l = 1 - (inter + eps) / (P + T - inter + eps)\n" + _REDUCE_CODE
TVERSKY_CODE = (_SETS_CODE + "l = 1 - (inter + eps) / (inter + alpha * (P - inter) + beta * (T - inter) + eps)\n"
                + _REDUCE_CODE)


# -- rounding enclosures (lossapp.interval) ---------------------------------------------------------------------------
# Per set (the sets of set_dims), with exact 0/1 targets the coefficients are monotone in every p_i:
#   Dice  D = (2I + ε)/(P + T + ε):  ∂D/∂p_i ∝ 2t_i(P + T + ε) − (2I + ε): > 0 for t_i = 1 (P ≥ I), ≤ 0 for t_i = 0;
#   IoU   J = (I + ε)/(P + T − I + ε): numerator grows with t_i, denominator with 1 − t_i: same signs;
#   Tversky T = (I + ε)/(I + α·fp + β·fn + ε): t_i = 1: ∝ βI + α·fp + β·fn + βε ≥ 0; t_i = 0: ∝ −α(I + ε) ≤ 0.
# So each coefficient's range over independent boxes of the p_i is reached at the corners (p high where t = 1,
# low where t = 0, and the reverse). Sigmoid is increasing, so the boxes of p = σ(x) are exact. Softmax couples the
# classes; its per-element probability boxes are exact, and treating them as independent only widens the range
# (still an enclosure). Soft targets: plain interval arithmetic over the formula. α, β, ε ≥ 0 (their ranges).

def _set_sum(v: Iv, dims: tuple[int, ...]) -> Iv:
    """Σ over the dims of one set (_ssum in interval arithmetic)."""
    if not dims:
        return v
    keep = [d for d in range(len(v.shape)) if d not in dims]
    lo, hi = v.lo.permute(*keep, *dims), v.hi.permute(*keep, *dims)
    rows = lo.shape[:len(keep)]
    return Iv(lo.reshape(*rows, -1), hi.reshape(*rows, -1)).sum(-1)


def _coefficient_enclosure(kind: str, p: Iv, t: Iv, dims: tuple[int, ...], params: dict[str, Any]) -> Iv:
    """The coefficient of each set over soft targets t (plain interval arithmetic). intersection="l1" is
    Σ min(p, t) (as (a + b − |a − b|)/2 = min(a, b)), its union Σ max(p, t), fp Σ relu(p − t), fn Σ relu(t − p)."""
    eps = float(params["eps"])
    l1 = params.get("intersection", "product") == "l1"
    inter = _set_sum(p.minimum(t) if l1 else p * t, dims)
    if kind == "dice":
        return (inter * 2.0 + eps) / (_set_sum(p, dims) + _set_sum(t, dims) + eps)
    if kind == "iou":
        # union = Σ p + Σ t − Σ p·t = Σ (p + t − p·t): each term p + t(1 − p) written once per element
        return (inter + eps) / (_set_sum(p.maximum(t) if l1 else p + t * (1.0 - p), dims) + eps)
    fp = _set_sum((p - t).relu() if l1 else p * (1.0 - t), dims)
    fn = _set_sum((t - p).relu() if l1 else (1.0 - p) * t, dims)
    return (inter + eps) / (inter + fp * float(params["alpha"]) + fn * float(params["beta"]) + eps)


def _label_set_sums(p: Iv, t: torch.Tensor, dims: tuple[int, ...]) -> tuple[Iv, Iv, Iv]:
    """For an exact 0/1 target t, the three sums per set: |X∩Y| = Σ_{t=1} p, |X| = Σ p and |Y| = Σ t (exact: a
    count); for p in [0, 1] min(p, t) is p·t, so intersection="l1" has the same sums."""
    return _set_sum(where(t == 1, p, 0.0), dims), _set_sum(p, dims), Iv(_ssum(t, dims))


def _label_coefficient_enclosure(kind: str, inter: Iv, size_p: Iv, size_t: Iv, params: dict[str, Any]) -> Iv:
    """The coefficient for an exact 0/1 target from its per-set sums (_label_set_sums), with
    |X∪Y| = |X| + |Y| − |X∩Y|, fp = |X| − |X∩Y| and fn = |Y| − |X∩Y| (identities of the real sums, since t·p is p or
    0 and (1 − t)·p is 0 or p)."""
    eps = float(params["eps"])
    if kind == "dice":
        return (inter * 2.0 + eps) / (size_p + size_t + eps)
    if kind == "iou":
        return (inter + eps) / (size_p + size_t - inter + eps)
    fp, fn = (size_p - inter) * float(params["alpha"]), (size_t - inter) * float(params["beta"])
    return (inter + eps) / (inter + fp + fn + eps)


def _probability_box(box: Box, activation: str) -> Iv:
    """The box of p: σ(x), softmax over dim 1 (exact per element), or pred clipped to [0, 1]."""
    if activation == "sigmoid":
        return box.pred_box().sigmoid()
    if activation == "softmax":
        return log_softmax_iv(box.pred_box(), dim=1).exp().clamp(0.0, 1.0)
    return box.pred_box(0.0, 1.0)


# A point box (lossapp.interval.point_bound): each set's loss 1 − coef lies in [0, 1] (p, t in [0, 1], so
# I ≤ min(|X|, |Y|) and the coefficient ≤ 1) and is computed within K·u of its exact value (A = 1), where, for a set of
# n elements, C classes (1 without softmax), α, β > 0 (Dice ½, ½; IoU 1, 1) and ε ≥ 0,
#     K = 32·(n + c + 4)·(1 + α + β)/min(1, α, β) + C + 4,
# c bounding the relative error of p in units of u: 0 for p given, 8 for σ(x) (as for the focal loss), C + 4M + 8 for
# the softmax e^{x − m}/Σe (M = max|x|: x − m within 2M·u, so each exponential within (2M + 3)u). Proof: every
# sum of n terms ≥ 0 (|X|, |Y|, Σp·t, Σp(1 − t), Σ(1 − p)t, ‖p − t‖₁) is within r = (n + c + 2)·u, relative; the
# differences formed from them (fp = |X| − I, fn = |Y| − I, smp's I = (|X| + |Y| − ‖p − t‖₁)/2) are within
# 3r·(|X| + |Y|), absolute. Numerator N = s·I + ε and denominator D = s·(I + α·fp + β·fn) + ε (overlap_score;
# set_losses forms the same D) are then within 4r·(1 + α + β)·s·(|X| + |Y|), and D ≥ min(1, α, β)·s·(|X| + |Y|)/2
# (I + α(|X| − I) ≥ min(1, α)·|X|, likewise for |Y|): both are within ρ·D, ρ = 8r(1 + α + β)/min(1, α, β) ≤ 1/4,
# so N/D ≤ 1 is within 3ρ; 1 − coef adds u, the mean over C classes (C + 1)u, and zero_empty and
# include_background only select. A computed set loss with a wrong sign of |Y| > 0 cannot occur (|Y| is a sum of
# exact labels or of values ≥ 0, zero only when all are).
def _overlap_point_error(kind: str) -> Callable[[Box], PointBound | None]:
    def point_error(box: Box) -> PointBound | None:
        params = box.params
        activation, eps = params["activation"], float(params["eps"])
        alpha, beta, _ = score_weights(kind, params)
        x, pred, target = value_range(box), box.pred, box.target
        if x is None or pred is None or target is None or not (math.isfinite(eps) and eps >= 0) \
                or not (math.isfinite(alpha) and math.isfinite(beta) and alpha > 0 and beta > 0) \
                or not (math.isfinite(x[0]) and math.isfinite(x[1])):
            return None
        if target.is_floating_point() or activation != "softmax":
            y = value_range(box, "target")
            if y is None or y[0] < 0 or y[1] > 1:
                return None
        classes = pred.shape[1] if activation == "softmax" and pred.dim() >= 2 else 1
        if activation == "none":
            if x[0] < 0 or x[1] > 1:
                return None
            c = 0.0
        elif activation == "sigmoid":
            c = 8.0
        else:
            c = classes + 4 * max(abs(x[0]), abs(x[1])) + 8
        dims = set_dims(pred, params)
        n = math.prod(pred.shape[d] for d in dims) if dims else 1
        sets = pred.numel() // max(n * classes, 1)
        if not sets or box.reduction not in ("mean", "sum"):
            return None
        k = 32 * (n + c + 4) * (1 + alpha + beta) / min(1.0, alpha, beta) + classes + 4
        return point_bound(k, 1.0, sets, 1.0 if box.reduction == "mean" else float(sets))
    return point_error


def _overlap_enclosure(kind: str) -> IntervalFormula:
    @interval_formula("exact range per set for 0/1 masks (monotone), interval arithmetic with outward rounding",
                      point_error=_overlap_point_error(kind))
    def enclosure(box: Box) -> Iv:
        params = box.params
        activation = params["activation"]
        target = box.require_target()
        p = box.shared(("overlap_p", activation), lambda: _probability_box(box, activation))
        if activation == "softmax" and not target.is_floating_point():
            grid = torch.arange(p.shape[1]).view(1, p.shape[1], *([1] * (target.dim() - 1)))
            t_exact: torch.Tensor | None = (target.unsqueeze(1) == grid).to(torch.float64)
        else:
            t_exact = target.to(torch.float64) if box.labels else None
        dims = set_dims(p.lo, params)
        if t_exact is None:
            t = box.target_box(0.0, 1.0)
            coef = _coefficient_enclosure(kind, p, t, dims, params)
            size_t = _set_sum(t, dims)
        else:  # increasing in p where t = 1, decreasing where t = 0: the corners give the range (as `monotone`)
            # each corner's sums over the finest sets (each sample) are shared by the enclosures with other ε, α, β,
            # options or sets (`Box.shared`); sets pooled over the batch add up the samples' intervals (an enclosure
            # of their sum), |Y| stays the exact count
            finest = set_dims(p.lo, {**params, "per_sample": True})
            ends = corners(p, lambda: t_exact * 2 - 1)
            sums = [box.shared(("overlap_label_sums", activation, finest, len(ends), index),
                               lambda corner=corner: _label_set_sums(corner, t_exact, finest))
                    for index, corner in enumerate(ends)]
            if dims != finest:
                size_t = Iv(_ssum(t_exact, dims))
                sums = [(inter.sum(0), size_p.sum(0), size_t) for inter, size_p, _ in sums]
            coef = from_corners([_label_coefficient_enclosure(kind, *corner_sums, params) for corner_sums in sums])
            size_t = sums[0][2]
        if not params.get("include_background", True):
            coef, size_t = coef[..., 1:], size_t[..., 1:]
        loss = 1.0 - coef
        if params.get("zero_empty"):  # 0 where |Y| is surely 0, the loss where surely not, else both possible
            loss = where(size_t.hi == 0, 0.0, where(size_t.lo > 0, loss, hull(loss, Iv(torch.zeros_like(loss.lo)))))
        if activation == "softmax":
            loss = loss.sum(-1) / float(loss.shape[-1])
        return reduce_iv(loss, box.reduction)
    return enclosure


dice_enclosure = _overlap_enclosure("dice")
iou_enclosure = _overlap_enclosure("iou")
tversky_enclosure = _overlap_enclosure("tversky")


# -- registration ------------------------------------------------------------------------------------

EPS_MAX = 1000.0  # smp's smooth = s is eps = 2s for Dice (its Dice is Tversky(½, ½)): room for any smooth in use
EPS_PARAM = Param("eps", 1e-8, Interval(Real, 0.0, EPS_MAX), msg("overlap.param.eps"))
ACTIVATION_PARAM = Param("activation", "none", Options(ACTIVATIONS),
                         msg("overlap.param.activation"))
PER_SAMPLE_PARAM = Param("per_sample", None, Boolean(),
                         msg("overlap.param.per_sample"))
# the set layout and smp's / MONAI's options, shared by every overlap loss (after activation and per_sample)
SET_OPTION_PARAMS = (
    Param("per_channel", False, Boolean(), msg("overlap.param.per_channel")),
    Param("include_background", True, Boolean(), msg("overlap.param.include_background")),
    Param("zero_empty", False, Boolean(), msg("overlap.param.zero_empty")),
    Param("intersection", "product", Options(INTERSECTIONS), msg("overlap.param.intersection")),
)
SET_PARAM_NAMES = ("eps", "activation", "per_sample", *(p.name for p in SET_OPTION_PARAMS))
_SET_PARAMS = (EPS_PARAM, ACTIVATION_PARAM, PER_SAMPLE_PARAM, *SET_OPTION_PARAMS)
_COMMON: dict[str, Any] = {"family": "overlap", "pred_kind": "probabilities", "target_kind": "binary",
                           "prepare": prepare_overlap, "reads_extremes": True, "target_dtype": "auto", "example": EXAMPLE}

register(LossSpec(
    set_measure="dice",
    name="dice", title=msg("overlap.dice.title"), summary=msg("overlap.dice.summary"),
    formula=r"l = 1 - \frac{2\sum_i p_i t_i + \epsilon}{\sum_i p_i + \sum_i t_i + \epsilon}",
    params=_SET_PARAMS, steps=dice_steps, enclosure=dice_enclosure, reference=dice_reference, gradient=dice_gradient, gradient_shared=True,
    reference_name=msg("overlap.reference_name.dice"),
    aliases=("dice_loss", "DiceLoss", "soft_dice", "sorensen_dice"), torch_code=DICE_CODE, **_COMMON))

register(LossSpec(
    set_measure="iou",
    name="iou", title=msg("overlap.iou.title"), summary=msg("overlap.iou.summary"),
    formula=r"l = 1 - \frac{\sum_i p_i t_i + \epsilon}{\sum_i p_i + \sum_i t_i - \sum_i p_i t_i + \epsilon}",
    params=_SET_PARAMS, steps=iou_steps, enclosure=iou_enclosure, reference=iou_reference, gradient=iou_gradient, gradient_shared=True,
    reference_name=msg("overlap.reference_name.iou"),
    aliases=("jaccard", "iou_loss", "jaccard_loss", "JaccardLoss"), torch_code=IOU_CODE, **_COMMON))

register(LossSpec(
    set_measure="tversky",
    name="tversky", title=msg("overlap.tversky.title"), summary=msg("overlap.tversky.summary"),
    formula=r"l = 1 - \frac{\sum_i p_i t_i + \epsilon}{\sum_i p_i t_i + \alpha \sum_i p_i (1 - t_i) + "
            r"\beta \sum_i (1 - p_i) t_i + \epsilon}",
    params=(EPS_PARAM,
            Param("alpha", 0.5, Interval(Real, 0.0, 10.0), msg("overlap.tversky.param.alpha")),
            Param("beta", 0.5, Interval(Real, 0.0, 10.0), msg("overlap.tversky.param.beta")),
            ACTIVATION_PARAM, PER_SAMPLE_PARAM, *SET_OPTION_PARAMS),
    steps=tversky_steps, enclosure=tversky_enclosure, reference=tversky_reference, gradient=tversky_gradient, gradient_shared=True,
    reference_name=msg("overlap.reference_name.tversky"),
    aliases=("tversky_loss", "TverskyLoss"), torch_code=TVERSKY_CODE, **_COMMON))


# -- Dice + CE and Dice + focal (article 003's suggested combinations) --------------------------------

PART_PREFIX = {"dice": msg("overlap.part.dice"), "ce": msg("overlap.part.ce"), "focal": msg("overlap.part.focal")}
CE_PARTS = {"none": "bce", "sigmoid": "bce_with_logits", "softmax": "cross_entropy"}


def _dice_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: params[k] for k in SET_PARAM_NAMES}


def _part(kind: str, params: dict[str, Any]) -> tuple[LossSpec, dict[str, Any]]:
    """The other part's spec (looked up at call time) and its effective params."""
    activation = params["activation"]
    if kind == "ce":
        spec = lookup(CE_PARTS[activation])
        return spec, spec.resolve_params({})
    spec = lookup("focal")
    wanted = {"alpha": params["alpha"], "gamma": params["gamma"],
              "input": "probabilities" if activation == "none" else "logits"}
    known = {p.name for p in spec.params}
    return spec, spec.resolve_params({k: v for k, v in wanted.items() if k in known})


def _merge(trace: Trace, part: Trace, tag: str) -> None:
    """Copy a part's steps, titles prefixed ("Dice part: ..."), symbols suffixed (L -> L_dice)."""
    for s in part.steps:
        title = msg("overlap.part.title", part=PART_PREFIX[tag], title=s.title)
        trace.steps.append(s.renamed(f"{s.symbol}_{tag}", title))
    for warning in part.warnings:
        trace.warn(warning)


def _part_inputs(spec: LossSpec, pred: torch.Tensor, target: torch.Tensor, pp: dict[str, Any],
                 trace: Trace) -> tuple[torch.Tensor, torch.Tensor]:
    if spec.prepare is None:
        return pred, target
    x, t = spec.prepare(pred, target, pp, trace)
    return x, t if t is not None else target


def _combo_steps(kind: str) -> Callable[..., torch.Tensor]:
    lam = f"lambda_{kind}"

    def steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
              reduction: str) -> torch.Tensor:
        dice_trace, part_trace = Trace(), Trace()
        l_dice = dice_steps(dice_trace, pred, target, _dice_params(params), reduction)
        spec, pp = _part(kind, params)
        x, t = _part_inputs(spec, pred, target, pp, Trace())
        l_part = spec.steps(part_trace, x, t, pp, reduction)
        _merge(trace, dice_trace, "dice")
        _merge(trace, part_trace, kind)
        trace.unreduced = part_trace.unreduced if part_trace.unreduced is not None else dice_trace.unreduced
        wd, wp = float(params["lambda_dice"]), float(params[lam])
        return trace.add("L", msg("overlap.step.weighted_sum_of_the_parts"),
                         rf"L = \lambda_{{dice}} L_{{dice}} + \lambda_{{{kind}}} L_{{{kind}}}",
                         wd * l_dice + wp * l_part,
                         sub=rf"{fmt(wd)} \cdot $d + {fmt(wp)} \cdot $q", d=l_dice, q=l_part)

    return steps


def _combo_value(kind: str) -> Callable[..., torch.Tensor]:
    """The combined steps' value alone (LossSpec.rerun): λ_dice·L_dice + λ·L_part with L_dice from dice_steps on a quiet
    trace and L_part from the part's own rerun (its steps where it has none), on the inputs as the part's prepare leaves
    them, as the steps form them; the part's terms of this pred are shared through `memo`."""
    lam = f"lambda_{kind}"

    def value(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any], reduction: str,
              memo: RerunMemo | None = None) -> torch.Tensor:
        l_dice = dice_steps(Trace(quiet=True), pred, target, _dice_params(params), reduction)
        spec, pp = _part(kind, params)
        x, t = _part_inputs(spec, pred, target, pp, Trace())
        if spec.rerun is None:
            l_part = spec.steps(Trace(quiet=True), x, t, pp, reduction)
        else:
            own = memo is not None and x is pred  # (the part's terms are of this very pred)
            part_memo = RerunMemo(memo.pred.setdefault(("part", spec.name), {})) if own else RerunMemo()
            l_part = spec.rerun(x, t, pp, reduction, part_memo)
        return float(params["lambda_dice"]) * l_dice + float(params[lam]) * l_part

    return value


def _combo_reference(kind: str) -> Callable[..., torch.Tensor]:
    lam = f"lambda_{kind}"

    def reference(x: torch.Tensor, y: torch.Tensor, params: dict[str, Any], reduction: str) -> torch.Tensor:
        spec, pp = _part(kind, params)
        pp = {k: (v.to(device=x.device, dtype=x.dtype) if isinstance(v, torch.Tensor) and v.is_floating_point() else v)
              for k, v in pp.items()}
        return (params["lambda_dice"] * dice_reference(x, y, _dice_params(params), reduction)
                + params[lam] * spec.reference(x, y, pp, reduction))

    return reference


def _combo_gradient(kind: str) -> Callable[..., torch.Tensor | None]:
    """Where the part has a gradient of its own (torch's backward, which differs from autograd at the edges, e.g.
    BCE at p = 0 or 1): λ_dice·(the Dice gradient: its closed form, or autograd of the Dice trace where that has none)
    + λ·(the part's gradient). Otherwise None: autograd of the combined trace."""
    lam = f"lambda_{kind}"

    def gradient(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                 reduction: str) -> torch.Tensor | None:
        spec, pp = _part(kind, params)
        if spec.gradient is None:
            return None
        x, t = _part_inputs(spec, pred.detach().double(), target, pp, Trace())
        g_part = spec.gradient(x, t, pp, reduction)
        if g_part is None:
            return None
        g_dice = _dense(dice_gradient(pred.detach().double(), target, _dice_params(params), reduction))
        if g_dice is None:
            x = pred.detach().double().requires_grad_(True)
            with torch.enable_grad():
                value = dice_steps(Trace(), x, target, _dice_params(params), reduction)
            g_dice = torch.autograd.grad(value, x, torch.ones_like(value), allow_unused=True)[0] \
                if value.requires_grad else None
            g_dice = torch.zeros_like(x) if g_dice is None else g_dice.detach()
            return params["lambda_dice"] * g_dice + params[lam] * g_part.detach().double()
        return g_dice.mul_(params["lambda_dice"]).add_(params[lam] * g_part.detach().double())  # (g_dice is new)

    return gradient


def _combo_prepare(kind: str) -> Callable[..., tuple[torch.Tensor, torch.Tensor | None]]:
    def prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                trace: Trace) -> tuple[torch.Tensor, torch.Tensor | None]:
        pred, target = prepare_overlap(pred, target, params, trace)
        spec, pp = _part(kind, params)
        _part_inputs(spec, pred, target, pp, Trace())  # the part's own checks; its warnings speak of its params
        return pred, target

    return prepare


def dice_ce_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                  reduction: str) -> torch.Tensor:
    """Dice + cross-entropy (article 003: "dice loss + ce loss").

    Unreduced: none — the parts reduce separately: L = λ_dice·L_dice + λ_ce·L_ce, where L_dice is the
    Dice loss reduced over its sets and L_ce the cross-entropy reduced over its elements: BCE on the
    probabilities (activation none), BCE with logits (sigmoid), or cross-entropy over dim 1 for
    class-index / one-hot targets (softmax).  mean: both parts means;  sum: both parts sums.
    Params: lambda_dice, lambda_ce, and the Dice part's set params (the CE part uses its defaults).
    Reference: λ_dice·(the Dice set formula) + λ_ce·(the CE part's reference:
    F.binary_cross_entropy / F.binary_cross_entropy_with_logits / F.cross_entropy).

    Shape:
        - pred, target: as dice.
        - output: a scalar (mean and sum; there is no none).

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("dice_ce", "[[0.9, 0.2, 0.7, 0.1], [0.3, 0.8, 0.6, 0.4]]", "[[1, 0, 1, 0], [0, 1, 1, 0]]")
        >>> print(f"{r.scalar:.4f}")
        0.5490
    """
    return _combo_steps("ce")(trace, pred, target, params, reduction)


def dice_focal_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                     reduction: str) -> torch.Tensor:
    """Dice + focal (article 003: "dice loss + focal loss").

    Unreduced: none — the parts reduce separately: L = λ_dice·L_dice + λ_focal·L_focal, with L_focal the
    binary focal loss (alpha, gamma) on the probabilities (activation none) or on the logits (sigmoid).
    mean: both parts means;  sum: both parts sums.
    Params: lambda_dice, lambda_focal, the Dice part's set params (activation none / sigmoid), alpha, gamma.
    Reference: λ_dice·(the Dice set formula) + λ_focal·(the focal loss's reference).

    Shape:
        - pred: (*), probabilities (activation none) or logits (sigmoid); sets as for dice.
        - target: (*), the same shape as pred, 0/1.
        - output: a scalar (mean and sum; there is no none).

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("dice_focal", "[[0.9, 0.2, 0.7, 0.1], [0.3, 0.8, 0.6, 0.4]]", "[[1, 0, 1, 0], [0, 1, 1, 0]]")
        >>> print(f"{r.scalar:.4f}")
        0.2655
    """
    return _combo_steps("focal")(trace, pred, target, params, reduction)


_PART_NAMES = {"ce": "cross-entropy", "focal": "focal"}


# λ_dice·L_dice + λ·L_part, each part enclosed by its own spec's enclosure on the inputs as the part's own prepare
# converts them (as the steps do): the sum of two enclosures encloses the sum (it ignores that both parts move
# together, so it may be wider, never narrower).
def _combo_part_box(kind: str, box: Box) -> tuple[LossSpec, Box]:
    """The other part's spec and its box: the inputs as the part's own prepare converts them (as the steps do), once
    per problem, so that its enclosures share their terms."""
    spec, pp = _part(kind, box.params)
    target = box.require_target()
    key = ("combination_part_inputs", kind, tuple(sorted(pp.items()))) \
        if all(v is None or isinstance(v, bool | int | float | str) for v in pp.values()) else None
    pred, target = box.shared(key, lambda: _part_inputs(spec, box.pred, target, pp, Trace())) if key else \
        _part_inputs(spec, box.pred, target, pp, Trace())
    return spec, box.part(pred, target, pp, spec.target_kind)


def _combo_point_error(kind: str) -> Callable[[Box], PointBound | None]:
    """λ_dice·L_dice + λ·L_part for a point box: the parts' own bounds combined (lossapp.interval.sum_parts_bound;
    both parts are ≥ 0)."""
    lam = f"lambda_{kind}"

    def point_error(box: Box) -> PointBound | None:
        try:
            spec, part = _combo_part_box(kind, box)
        except (InputError, EnclosureUnavailable, RuntimeError, ValueError, TypeError):
            return None
        other = spec.enclosure.point_error if spec.enclosure is not None else None
        if other is None or dice_enclosure.point_error is None or not is_point(part):
            return None
        dice, rest = dice_enclosure.point_error(box), other(part)
        if dice is None or rest is None:
            return None
        return sum_parts_bound([(float(box.params["lambda_dice"]), dice), (float(box.params[lam]), rest)])
    return point_error


def _combo_enclosure(kind: str) -> IntervalFormula:
    lam = f"lambda_{kind}"

    @interval_formula(f"sum of the parts' enclosures (Dice and the {_PART_NAMES[kind]} part)",
                      point_error=_combo_point_error(kind))
    def enclosure(box: Box) -> Iv:
        spec, part = _combo_part_box(kind, box)
        return dice_enclosure.evaluate(box) * float(box.params["lambda_dice"]) + \
            spec.enclosure.evaluate(part) * float(box.params[lam])
    return enclosure


_CE_CODE = """\
ce = F.cross_entropy(pred, target, reduction=reduction) if activation == "softmax" else F.binary_cross_entropy_with_logits(pred, target, reduction=reduction) if activation == "sigmoid" else F.binary_cross_entropy(pred, target, reduction=reduction)
lambda_dice * dice + lambda_ce * ce"""
_FOCAL_CODE = """\
bce = F.binary_cross_entropy_with_logits(pred, target, reduction="none") if activation == "sigmoid" else F.binary_cross_entropy(pred, target, reduction="none")
p_t = p * target + (1 - p) * (1 - target)
fl = (alpha * target + (1 - alpha) * (1 - target) if alpha >= 0 else 1) * (1 - p_t) ** gamma * bce
focal = fl.mean() if reduction == "mean" else fl.sum()
lambda_dice * dice + lambda_focal * focal"""
_DICE_VALUE_CODE = DICE_CODE.rsplit("\n", 1)[0] + '\ndice = {"none": l, "mean": l.mean(), "sum": l.sum()}[reduction]\n'

_COMBO: dict[str, Any] = {"family": "overlap", "pred_kind": "probabilities", "target_kind": "binary",
                          "target_dtype": "auto", "example": EXAMPLE, "reductions": ("mean", "sum"),
                          "reads_extremes": True}  # (its prepare runs prepare_overlap on the trace it is given)
LAMBDA_DICE = Param("lambda_dice", 1.0, Interval(Real, 0.0, 100.0), msg("overlap.param.lambda_dice"))

register(LossSpec(
    natural_log=True, parts=(Part("L_dice", "lambda_dice"), Part("L_ce", "lambda_ce", natural_log=True)),
    name="dice_ce", title=msg("overlap.dice_ce.title"), summary=msg("overlap.dice_ce.summary"),
    formula=r"L = \lambda_{dice} L_{dice} + \lambda_{ce} L_{ce}",
    params=(LAMBDA_DICE, Param("lambda_ce", 1.0, Interval(Real, 0.0, 100.0), msg("overlap.dice_ce.param.lambda_ce")),
            *_SET_PARAMS),
    steps=dice_ce_steps, rerun=_combo_value("ce"), enclosure=_combo_enclosure("ce"), reference=_combo_reference("ce"), prepare=_combo_prepare("ce"),
    gradient=_combo_gradient("ce"),
    reference_name=msg("overlap.reference_name.dice_ce"),
    aliases=("dice_bce", "DiceCELoss", "dice_cross_entropy"), torch_code=_DICE_VALUE_CODE + _CE_CODE, **_COMBO))

register(LossSpec(
    natural_log=True, focal=True,
    parts=(Part("L_dice", "lambda_dice"), Part("L_focal", "lambda_focal", natural_log=True)),
    name="dice_focal", title=msg("overlap.dice_focal.title"), summary=msg("overlap.dice_focal.summary"),
    formula=r"L = \lambda_{dice} L_{dice} + \lambda_{focal} L_{focal}",
    params=(LAMBDA_DICE, Param("lambda_focal", 1.0, Interval(Real, 0.0, 100.0), msg("overlap.dice_focal.param.lambda_focal")),
            EPS_PARAM,
            Param("activation", "none", Options(("none", "sigmoid")), msg("overlap.dice_focal.param.activation")),
            PER_SAMPLE_PARAM, *SET_OPTION_PARAMS,
            Param("alpha", 0.25, Interval(Real, -1.0, 1.0), msg("overlap.dice_focal.param.alpha")),
            Param("gamma", 2.0, Interval(Real, 0.0, 10.0), msg("overlap.dice_focal.param.gamma"))),
    steps=dice_focal_steps, rerun=_combo_value("focal"), enclosure=_combo_enclosure("focal"), reference=_combo_reference("focal"), prepare=_combo_prepare("focal"),
    gradient=_combo_gradient("focal"),
    reference_name=msg("overlap.reference_name.dice_focal"),
    aliases=("DiceFocalLoss",), torch_code=_DICE_VALUE_CODE + _FOCAL_CODE, **_COMBO))

# The "confusion" metric spec (counts -> precision, recall, F1 = Dice, ...) lives in lossapp/losses/confusion.py;
# importing it here registers it right after the overlap losses (the registry's order).
from lossapp.losses import confusion as _confusion  # noqa: E402, F401
