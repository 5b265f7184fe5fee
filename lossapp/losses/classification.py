"""Classification losses: BCE, BCE with logits, cross-entropy, NLL and KL divergence (articles 000-004).

Every step function computes in float64 from elementary torch operations (log, exp, amax, sum,
gather, where, clamp) and writes the intermediates a student would write down; the reference is
the torch built-in. Symbols follow the articles: p for predicted probabilities, y for targets,
w for weights, lse for log-sum-exp; for the KL divergence p is the true and q the estimated
distribution (article 004).
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import torch
import torch.nn.functional as F

from lossapp.i18n import add_zh, add_zh_patterns
from lossapp.inputs import (
    InputError,
    add_hint_zh,
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
from lossapp.losses.stable import (
    LOG_CLAMP,
    all_binary,
    all_finite,
    bce_probability_grad,
    class_dim,
    first_indices,
    log_softmax_steps,
    select,
    sign_parts,
    weighted_per_element,
    within,
)
from lossapp.reduction import reduce
from lossapp.registry import LossSpec, Param, register
from lossapp.trace import Trace, fmt

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


def _xlogx(p: torch.Tensor) -> torch.Tensor:
    """p log p with 0 · log 0 = 0 (p ≥ 0)."""
    if p.numel() and float(p.min()) > 0:
        return p * torch.log(p)
    positive = p > 0
    return select(positive, p * torch.log(select(positive, p, 1.0)), 0.0)


def _clamp_note(log: torch.Tensor, p: torch.Tensor, quiet: str) -> str:
    """Where torch's −100 clamp fires on a log (one reduction decides whether it fires at all), or `quiet`."""
    log = log.detach()
    if log.numel() == 0 or not float(log.min()) < LOG_CLAMP:
        return quiet
    fires = log < LOG_CLAMP
    return f"the clamp fires at {int(fires.sum())} place(s): {_places(fires, p.detach(), 'p')}"


def _row_sum_warning(sums: torch.Tensor, what: str) -> str | None:
    """A warning when rows that should be distributions do not sum to 1."""
    off = (sums - 1).abs()
    if off.numel() == 0 or not bool(torch.isfinite(off).all()) or float(off.max()) <= SUM_TOL:
        return None
    return f"{what} rows do not sum to 1 (off by up to {float(off.max()):.3g})"


# The hints this module passes to the checks in lossapp.inputs (their Chinese is registered at the end).
HINT_BCE_LOGITS = "for logits use bce_with_logits"
HINT_SET_LOGITS = "for logits set input=logits"
HINT_CLASS_INDICES = "class indices? use cross_entropy"
HINT_CLASS_INDICES_SHAPE = "class indices? use cross_entropy or nll"
HINT_CLASS_PROBABILITIES = "a target of pred's shape holds class probabilities"
HINT_LOG_Q = "pass log q, e.g. torch.log(q) or the log-softmax of the logits"
HINT_LOG_TARGET = "log_target=true: the target is log p"
HINT_SET_LOG_TARGET = "for log-probabilities set log_target=true"
HINT_WEIGHT = "one weight per element"
HINT_POS_WEIGHT = "one value per class, along the last dimension"

# warnings (lossapp.lint leaves these to the prepare steps here)
CE_PROBABILITIES = ("pred rows look like probabilities (each sums to 1), but input=logits applies softmax to them; "
                    "set input=probabilities if they are probabilities")
NLL_POSITIVE = ("pred has positive entries, so it is not log-probabilities: nll_loss just picks −pred[y]; "
                "for logits use cross_entropy (it applies log-softmax first)")


# -- BCE ----------------------------------------------------------------------------------------------

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
    require_broadcastable(params.get("weight"), "parameter weight", pred.shape, hint=HINT_WEIGHT)
    if logits:
        require_broadcastable(params.get("pos_weight"), "parameter pos_weight", pred.shape, hint=HINT_POS_WEIGHT)
    elif pred.numel() > 1 and all_binary(pred):
        trace.warn("every p is exactly 0 or 1: each log is clamped at -100 by torch, so a wrong label costs 100")
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
    log_p = trace.add("log p", "Log of p", r"\log p_n", torch.log(p), sub=r"\log $p", p=p)
    log_q = trace.add("log(1−p)", "Log of 1 − p", r"\log(1-p_n)", torch.log1p(-p), sub=r"\log(1-$p)", p=p)
    note_p = _clamp_note(log_p, p, "the clamp does not fire here (every log p is above −100)")
    note_q = _clamp_note(log_q, p, "the clamp does not fire here (every log(1 − p) is above −100)")
    log_p = trace.add("clamp log p", "torch's clamp of log p at −100", r"\max(\log p_n, -100)",
                      torch.clamp(log_p, min=LOG_CLAMP), note=note_p)
    log_q = trace.add("clamp log(1−p)", "torch's clamp of log(1 − p) at −100", r"\max(\log(1-p_n), -100)",
                      torch.clamp(log_q, min=LOG_CLAMP), note=note_q)
    weight = params.get("weight")
    inner = y * log_p + (1 - y) * log_q
    loss, sub_args = weighted_per_element(trace, inner, weight, p.shape)
    loss = trace.add("l", "Binary cross-entropy per element",
                     r"l_n = -w_n\left[y_n \log p_n + (1-y_n)\log(1-p_n)\right]", loss,
                     note=("the weight rescales each element; the mean still divides by n, not by Σ w"
                           if weight is not None else ""),
                     sub=(r"-$w\left[$y \cdot $a + (1-$y)\cdot $b\right]" if weight is not None
                          else r"-\left[$y \cdot $a + (1-$y)\cdot $b\right]"), y=y, a=log_p, b=log_q, **sub_args)
    return reduce(trace, loss, reduction)


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
    # |x|, min(x, 0) and min(−x, 0) by the sign of x, so that autograd gives the true derivative at x = 0
    abs_x, min_x, min_neg_x = sign_parts(x)
    a = trace.add("|x|", "Absolute logit", r"|x_n|", abs_x)
    s = trace.add("s", "Softplus remainder", r"s_n = \log\left(1 + e^{-|x_n|}\right)", torch.log1p(torch.exp(-a)),
                  note="e^{−|x|} ≤ 1 never overflows, and log1p keeps its precision when it is tiny",
                  sub=r"\log(1 + e^{-$a})", a=a)
    log_sig = trace.add("log σ(x)", "Log-sigmoid", r"\log \sigma(x_n) = \min(x_n, 0) - s_n",
                        min_x - s,
                        note="computed without forming σ(x), which rounds to 0 or 1 for large |x| and "
                             "would make log σ = −∞; this form stays finite at x = ±100 and beyond",
                        sub=r"\min($x, 0) - $s", x=x, s=s)
    log_sig_neg = trace.add("log σ(−x)", "Log-sigmoid of −x (= log(1 − σ(x)))",
                            r"\log \sigma(-x_n) = \min(-x_n, 0) - s_n", min_neg_x - s,
                            sub=r"\min(-$x, 0) - $s", x=x, s=s)
    weight, pos_weight = params.get("weight"), params.get("pos_weight")
    if pos_weight is None:
        trace.show("stable", "Stable form", r"\max(x_n, 0) - x_n y_n + \log\left(1 + e^{-|x_n|}\right)",
                   lambda x, y, s: select(x >= 0, x, 0.0) - x * y + s, x, y, s,
                   note="the same as −[y log σ(x) + (1 − y) log σ(−x)], rearranged so that nothing overflows",
                   sub=r"\max($x, 0) - $x \cdot $y + $s", x=x, y=y, s=s)
        positive = y * log_sig
    else:
        pc = trace.add("p_c", "Positive weight", r"p_c", pos_weight.double().expand(x.shape),
                       note="pos_weight multiplies only the positive term y log σ(x)")
        positive = pc * y * log_sig
    inner = positive + (1 - y) * log_sig_neg
    loss, sub_args = weighted_per_element(trace, inner, weight, x.shape)
    if pos_weight is not None:
        sub_args["c"] = pc
    loss = trace.add("l", "Binary cross-entropy with logits per element",
                     r"l_n = -w_n\left[p_c\, y_n \log \sigma(x_n) + (1-y_n)\log \sigma(-x_n)\right]", loss,
                     sub=(r"-" + (r"$w" if weight is not None else "") + r"\left["
                          + (r"$c \cdot " if pos_weight is not None else "") + r"$y \cdot $a + (1-$y)\cdot $b\right]"),
                     y=y, a=log_sig, b=log_sig_neg, **sub_args)
    return reduce(trace, loss, reduction)


# -- cross-entropy and NLL -----------------------------------------------------------------------------

def _index_shape(pred: torch.Tensor) -> tuple[int, ...]:
    return () if pred.dim() == 1 else (pred.shape[0], *pred.shape[2:])


def _classes_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any], trace: Trace,
                     name: str, allow_probabilities: bool) -> tuple[torch.Tensor, torch.Tensor]:
    target = require_target(target, name)
    if pred.dim() == 0:
        raise InputError(f"expected pred of shape (C,), (N, C) or (N, C, d1, ...), got pred {shape_text(pred.shape)}")
    classes = pred.shape[class_dim(pred)]
    require_per_class(params.get("weight"), "parameter weight", classes)
    index_shape = _index_shape(pred)
    if pred.dim() == 1 and tuple(target.shape) == (1,) and classes != 1:
        target = target.reshape(())  # "2" is read as [2]: one class index for one sample
    if allow_probabilities and target.shape == pred.shape:
        target = target.double()
        require_probabilities(target, "target", hint=HINT_CLASS_PROBABILITIES)
        message = _row_sum_warning(target.sum(class_dim(pred)), "target")
        if message:
            trace.warn(message + "; torch uses them as given")
        if int(params.get("ignore_index", -100)) != -100:
            raise InputError(f"parameter ignore_index: expected the default -100 with class-probability targets "
                             f"(it applies to class indices only), got {int(params['ignore_index'])}")
        return pred, target
    if tuple(target.shape) != index_shape:
        if allow_probabilities:
            raise InputError(f"expected target of shape {shape_text(index_shape)} (class indices) or "
                             f"{shape_text(pred.shape)} (class probabilities) for pred {shape_text(pred.shape)}, "
                             f"got target {shape_text(target.shape)}")
        hint = " (one-hot or probabilities? use cross_entropy)" if target.shape == pred.shape else ""
        raise InputError(f"expected target of shape {shape_text(index_shape)} (class indices) for pred "
                         f"{shape_text(pred.shape)}, got target {shape_text(target.shape)}{hint}")
    return pred, require_class_indices(target, classes, ignore_index=int(params.get("ignore_index", -100)))


def _ce_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                trace: Trace) -> tuple[torch.Tensor, torch.Tensor]:
    pred, target = _classes_prepare(pred, target, params, trace, "cross_entropy", allow_probabilities=True)
    cd = class_dim(pred)
    kind = params.get("input", "logits")
    if kind == "probabilities":
        require_probabilities(pred, "pred", hint=HINT_SET_LOGITS)
        message = _row_sum_warning(pred.sum(cd), "pred")
        if message:
            trace.warn(message + "; cross_entropy on log p renormalises them (log p − log Σ p)")
        if bool((pred == 0).any()):
            trace.warn("pred has probabilities of exactly 0: log 0 = −∞, so the loss is ∞ where such a class is the "
                       "target, and 0 · (−∞) = NaN where a target probability of 0 meets it (as in torch)")
    elif kind == "log_probabilities":
        require_log_probabilities(pred, "pred", hint=HINT_SET_LOGITS)
        message = _row_sum_warning(torch.exp(pred).sum(cd), "exp(pred)")
        if message:
            trace.warn(message + "; cross_entropy on log p renormalises them (log-softmax)")
    elif within(pred, 0, 1) and _row_sum_warning(pred.sum(cd), "pred") is None \
            and pred.shape[cd] > 1:
        trace.warn(CE_PROBABILITIES)
    return pred, target


def _nll_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                 trace: Trace) -> tuple[torch.Tensor, torch.Tensor]:
    pred, target = _classes_prepare(pred, target, params, trace, "nll", allow_probabilities=False)
    if pred.numel() and float(pred.max()) > 0:
        trace.warn(NLL_POSITIVE)
    elif all_finite(pred):
        message = _row_sum_warning(torch.exp(pred).sum(class_dim(pred)), "exp(pred)")
        if message:
            trace.warn(message + ": pred is not normalised log-probabilities; nll_loss uses it as given")
    return pred, target


def _log_softmax_steps(trace: Trace, pred: torch.Tensor, cd: int, kind: str) -> torch.Tensor:
    """log p from logits (max shift, exp, sum, lse), or from given (log-)probabilities."""
    if kind == "probabilities":
        f = pred
        log_f = trace.add("log f", "Log of the given probabilities", r"\log f_{n,c}", torch.log(f),
                          sub=r"\log $f", f=f)
        total = f.sum(dim=cd, keepdim=True)
        trace.add("S", "Row sum of the probabilities", r"S_n = \sum_c f_{n,c}", total.squeeze(cd),
                  note="1 for a probability distribution")
        lse = torch.log(total)
        trace.add("lse", "Normaliser", r"\mathrm{lse}_n = \log S_n", lse.squeeze(cd),
                  note="0 when the row sums to 1; torch's cross_entropy on log f renormalises this way")
        log_p = trace.add("log p", "Log-probabilities", r"\log p_{n,c} = \log f_{n,c} - \mathrm{lse}_n", log_f - lse)
    elif kind == "log_probabilities":
        log_p = log_softmax_steps(trace, pred, cd, lse_note="0 when the rows are log-probabilities already")
    else:
        log_p = log_softmax_steps(trace, pred, cd)
    trace.show("p", "Softmax probabilities", r"p_{n,c} = e^{\log p_{n,c}}", torch.exp, log_p, note="each row sums to 1")
    return log_p


def _index_loss_steps(trace: Trace, log_p: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                      reduction: str, smoothing: float) -> torch.Tensor:
    """Pick −log p_y, weight it, leave out ignored samples, add torch's label smoothing, reduce."""
    cd = class_dim(log_p)
    classes = log_p.shape[cd]
    ignore_index = int(params.get("ignore_index", -100))
    ignored = target == ignore_index
    safe = torch.where(ignored, torch.zeros_like(target), target)
    picked = log_p.gather(cd, safe.unsqueeze(cd)).squeeze(cd)
    picked = torch.where(ignored, torch.zeros_like(picked), picked)
    trace.add("log p_y", "Log-probability of the true class", r"\log p_{n,y_n}", picked,
              note="0 is shown for ignored samples" if bool(ignored.any()) else "")
    if bool(ignored.any()):
        trace.add("ignored", "Ignored samples", r"\mathbb{1}[y_n = \text{ignore\_index}]", ignored.double(),
                  note=f"{int(ignored.sum())} sample(s) have y = {ignore_index}: they are left out of the "
                       f"numerator and of the denominator")
    weight = params.get("weight")
    counted = (~ignored).double()
    w_y = counted
    if weight is not None:
        w_y = trace.add("w_y", "Weight of the true class", r"w_{y_n}", torch.where(ignored, 0.0, weight.double()[safe]),
                        note="0 for ignored samples" if bool(ignored.any()) else "")
    nll = torch.where(ignored, torch.zeros_like(picked), -w_y * picked)
    if smoothing == 0:
        loss = trace.add("l", "Negative log-likelihood", r"l_n = -w_{y_n}\log p_{n,y_n}" if weight is not None
                         else r"l_n = -\log p_{n,y_n}", nll, sub=r"-$w \cdot $a", w=w_y, a=picked)
    else:
        trace.add("nll", "Negative log-likelihood", r"\mathrm{nll}_n = -w_{y_n}\log p_{n,y_n}", nll,
                  sub=r"-$w \cdot $a", w=w_y, a=picked)
        wc = torch.ones(classes, dtype=log_p.dtype, device=log_p.device) if weight is None else weight.double()
        shape = [1] * log_p.dim()
        shape[cd] = classes
        smooth = -(log_p * wc.reshape(shape)).sum(cd)
        smooth = trace.add("s", "Smoothing term", r"s_n = -\sum_c w_c \log p_{n,c}",
                           torch.where(ignored, torch.zeros_like(smooth), smooth),
                           note="torch's label smoothing: the uniform part of the target, weighted by the class "
                                "weights (w_c = 1 without weights)")
        note = (f"ε = {smoothing:g}, C = {classes}; with class weights torch divides both parts by Σ w_(y_n), "
                f"not by Σ_c w_c") if weight is not None else f"ε = {smoothing:g}, C = {classes}"
        loss = trace.add("l", "Label-smoothed cross-entropy",
                         r"l_n = (1-\varepsilon)\,\mathrm{nll}_n + \frac{\varepsilon}{C}\, s_n",
                         (1 - smoothing) * nll + (smoothing / classes) * smooth, note=note,
                         sub=rf"(1-{fmt(smoothing)})\cdot $a + \frac{{{fmt(smoothing)}}}{{{classes}}}\cdot $b",
                         a=nll, b=smooth)
    denominator = None
    if weight is not None or bool(ignored.any()):
        denominator = w_y.detach()
    return reduce(trace, loss, reduction, denominator=denominator)


def _entropy_identity_steps(trace: Trace, y: torch.Tensor, log_p: torch.Tensor, cd: int, true: str,
                            est: str, weighted: bool) -> None:
    """H(y) = −Σ y log y, H(y, p) = −Σ y log p, KL(y‖p) and the identity H(y, p) = H(y) + KL(y‖p)."""
    y, log_p = y.detach(), log_p.detach()
    ylogy = _xlogx(y)
    entropy = trace.add(f"H({true})", "Entropy of the target", rf"H({true}) = -\sum_c {true}_c \log {true}_c",
                        -ylogy.sum(cd) + 0.0, note="0 · log 0 = 0; 0 for a one-hot target")
    trace.add(f"H({true},{est})", "Cross-entropy", rf"H({true},{est}) = -\sum_c {true}_c \log {est}_c",
                      -(y * log_p).sum(cd),
                      note="the unweighted cross-entropy; class weights make l differ from it" if weighted else "")
    kl = trace.add(f"KL({true}‖{est})", "Relative entropy (KL divergence)",
                   rf"\mathrm{{KL}}({true}\,\|\,{est}) = \sum_c {true}_c(\log {true}_c - \log {est}_c)",
                   (ylogy - y * log_p).sum(cd), note="the extra cost of coding with the estimate instead of the truth")
    trace.add(f"H({true})+KL", "Identity: entropy + KL = cross-entropy",
              rf"H({true}) + \mathrm{{KL}}({true}\,\|\,{est}) = H({true},{est})", entropy + kl,
              note="equals the cross-entropy above (article 004)", sub=r"$h + $k", h=entropy, k=kl)


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
            y = trace.add("y'", "Smoothed target", r"y'_{n,c} = (1-\varepsilon)\,y_{n,c} + \varepsilon / C",
                          (1 - smoothing) * y + smoothing / classes, note=f"ε = {smoothing:g}, C = {classes}")
        wc = torch.ones(classes, dtype=torch.float64, device=pred.device) if weight is None else weight.double()
        shape = [1] * pred.dim()
        shape[cd] = classes
        loss = trace.add("l", "Cross-entropy per sample", r"l_n = -\sum_c w_c\, y_{n,c} \log p_{n,c}"
                         if weight is not None else r"l_n = -\sum_c y_{n,c} \log p_{n,c}",
                         -(wc.reshape(shape) * y * log_p).sum(cd),
                         note=("with class-probability targets torch's mean divides by the number of samples, "
                               "not by the weights") if weight is not None else "")
        _entropy_identity_steps(trace, y, log_p, cd, "y", "p", weight is not None)
        return reduce(trace, loss, reduction)
    return _index_loss_steps(trace, log_p, target, params, reduction, smoothing)


def nll_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
              reduction: str) -> torch.Tensor:
    """Negative log-likelihood: picks −log p_y from given log-probabilities.

    Unreduced: l_n = −w_{y_n} x_{n,y_n} (0 for ignored samples).  mean: Σ l_n / Σ w_{y_n} over
    non-ignored samples;  sum: Σ l_n;  none: l.  Params: weight (C,), ignore_index.
    Reference: F.nll_loss.

    Shape:
        - pred: (C,), (N, C) or (N, C, d1, ...) log-probabilities.
        - target: (), (N,) or (N, d1, ...) class indices in [0, C).
        - weight: (C,).
        - output: a scalar for mean and sum; for none, target's shape.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("nll", "[[-0.3375, -1.5375, -2.6375], [-2.1869, -0.2869, -1.9869]]", "[0, 2]")
        >>> print(f"{r.scalar:.4f}")
        1.1622
    """
    log_p = trace.add("log p", "Given log-probabilities", r"\log p_{n,c} = x_{n,c}", pred,
                      note="nll_loss takes them as they are (usually the output of log_softmax)")
    return _index_loss_steps(trace, log_p, target, params, reduction, 0.0)


def _ce_logits(x: torch.Tensor, kind: str) -> torch.Tensor:
    return torch.log(x) if kind == "probabilities" else x


def _ce_reference(x: torch.Tensor, y: torch.Tensor, p: dict[str, Any], reduction: str) -> torch.Tensor:
    return F.cross_entropy(_ce_logits(x, p["input"]), y, weight=p["weight"], ignore_index=int(p["ignore_index"]),
                           reduction=reduction, label_smoothing=float(p["label_smoothing"]))


# -- KL divergence -------------------------------------------------------------------------------------

def _kl_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                trace: Trace) -> tuple[torch.Tensor, torch.Tensor]:
    target = require_target(target, "kl_div")
    require_same_shape(pred, target)
    require_log_probabilities(pred, "pred", hint=HINT_LOG_Q)
    target = target.double()
    cd = class_dim(pred) if pred.dim() else 0
    if params.get("log_target"):
        require_log_probabilities(target, "target", hint=HINT_LOG_TARGET)
        p = torch.exp(target)
    else:
        require_probabilities(target, "target", hint=HINT_SET_LOG_TARGET)
        p = target
    if not all_finite(pred) and bool((torch.isinf(pred) & (p == 0)).any()):
        trace.warn("log q = −∞ where p = 0 gives 0 · (−∞) = NaN in torch (the limit is 0)")
    if pred.dim():
        message = _row_sum_warning(p.sum(cd), "target")
        if message:
            trace.warn(message + "; KL(p‖q) is meant for distributions")
        if all_finite(pred):
            message = _row_sum_warning(torch.exp(pred).sum(cd), "exp(pred)")
            if message:
                trace.warn(message + ": pred is not normalised log-probabilities")
    return pred, target


def kl_div_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                 reduction: str) -> torch.Tensor:
    """KL divergence KL(p‖q) with pred = log q and target p (or log p with log_target).

    Unreduced: l_i = p_i (log p_i − log q_i), with 0 · log 0 = 0 (torch's xlogy).
    batchmean: Σ l / N (N = first dimension: the KL divergence per sample);  mean: Σ l / (every
    element);  sum: Σ l;  none: l.  Params: log_target.  Reference: F.kl_div.

    Shape:
        - pred: (*), log-probabilities log q; each row (dimension 1, or the whole 1-D tensor) one distribution.
        - target: (*), the same shape as pred: probabilities p (log p with log_target=true).
        - output: a scalar for batchmean, mean and sum; (*) for none.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("kl_div", "[[-1.2040, -1.2040, -0.9163]]", "[[0.2, 0.3, 0.5]]", reduction="batchmean")
        >>> print(f"{r.scalar:.4f}")
        0.0305
    """
    log_q = pred
    if params.get("log_target"):
        log_p = target.double()
        p = trace.add("p", "Target probabilities", r"p_i = e^{\log p_i}", torch.exp(log_p), sub=r"e^{$a}", a=log_p)
        plogp = trace.add("p log p", "p log p", r"p_i \log p_i", p * log_p)
    else:
        p = target.double()
        plogp = trace.add("p log p", "p log p", r"p_i \log p_i", _xlogx(p), note="0 · log 0 = 0 (torch uses xlogy)")
    plogq = trace.add("p log q", "p log q", r"p_i \log q_i", p * log_q, sub=r"$p \cdot $a", p=p, a=log_q)
    loss = trace.add("l", "Pointwise KL term", r"l_i = p_i(\log p_i - \log q_i)", plogp - plogq,
                     sub=r"$a - ($b)", a=plogp, b=plogq)
    cd = class_dim(pred) if pred.dim() else 0
    if pred.dim():
        entropy = trace.add("H(p)", "Entropy of p", r"H(p) = -\sum_i p_i \log p_i", -plogp.detach().sum(cd) + 0.0,
                            note="per distribution (summed over dimension 1; over the whole tensor when 1-D)")
        trace.add("H(p,q)", "Cross-entropy of q relative to p", r"H(p,q) = -\sum_i p_i \log q_i",
                          -plogq.detach().sum(cd))
        kl = trace.add("KL(p‖q)", "KL divergence per distribution", r"\mathrm{KL}(p\,\|\,q) = \sum_i l_i",
                       loss.detach().sum(cd))
        trace.add("H(p)+KL", "Identity: entropy + KL = cross-entropy",
                  r"H(p) + \mathrm{KL}(p\,\|\,q) = H(p,q)", entropy + kl,
                  note="equals H(p,q) above (article 004)", sub=r"$h + $k", h=entropy, k=kl)
    if reduction == "mean" and loss.numel() > 1:
        trace.warn(f"torch's reduction='mean' divides Σ l by every element ({loss.numel()}), not by the batch "
                   f"size, so it is not the mean KL divergence; use reduction='batchmean'")
    if reduction == "batchmean" and pred.dim() == 1:
        trace.warn("for a 1-D input batchmean divides by its length; the KL divergence of one distribution "
                   "is reduction='sum'")
    return reduce(trace, loss, reduction)


def _kl_reference(x: torch.Tensor, y: torch.Tensor, p: dict[str, Any], reduction: str) -> torch.Tensor:
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's own 'mean' warning; the trace gives ours
        return F.kl_div(x, y, reduction=reduction, log_target=bool(p["log_target"]))


# -- registration ---------------------------------------------------------------------------------------

_WEIGHT = Param("weight", None, Tensor(), "rescaling weight per element, broadcast to pred's shape")
_CLASS_WEIGHT = Param("weight", None, Tensor(), "weight per class, shape (C,)")
_IGNORE = Param("ignore_index", -100, Interval(Integral),
                "target value left out of the loss and out of the mean's denominator")

register(LossSpec(
    name="bce", family="classification", title="Binary cross-entropy (BCE)",
    summary="Cross-entropy of 0/1 (or soft) labels against predicted probabilities; torch clamps each log at -100.",
    formula=r"l_n = -w_n\left[y_n \log p_n + (1-y_n)\log(1-p_n)\right]",
    pred_kind="probabilities", target_kind="binary", params=(_WEIGHT,), steps=bce_steps,
    reference=lambda x, y, p, r: F.binary_cross_entropy(x, y, weight=p["weight"], reduction=r),
    reference_name="torch.nn.functional.binary_cross_entropy", prepare=_bce_prepare,
    aliases=("log_loss", "BCELoss", "binary_cross_entropy", "logloss"), gradient=bce_gradient,
    example={"pred": "[0.2947, 0.5898, 0.4863]", "target": "[1, 0, 0]", "params": {}},
    torch_code="F.binary_cross_entropy(pred, target, weight=weight, reduction=reduction)"))

register(LossSpec(
    name="bce_with_logits", family="classification", title="BCE with logits",
    summary="Sigmoid and binary cross-entropy in one stable formula on logits; pos_weight rescales positives.",
    formula=r"l_n = -w_n\left[p_c\, y_n \log \sigma(x_n) + (1-y_n)\log \sigma(-x_n)\right]",
    pred_kind="logits", target_kind="binary",
    params=(_WEIGHT, Param("pos_weight", None, Tensor(),
                           "weight of the positive term, one per class along the last dimension (> 1 raises recall)")),
    steps=bce_with_logits_steps,
    reference=lambda x, y, p, r: F.binary_cross_entropy_with_logits(x, y, weight=p["weight"],
                                                                    pos_weight=p["pos_weight"], reduction=r),
    reference_name="torch.nn.functional.binary_cross_entropy_with_logits", prepare=_bce_logits_prepare,
    aliases=("BCEWithLogitsLoss", "binary_cross_entropy_with_logits", "sigmoid_cross_entropy"),
    example={"pred": "[[1.2, -0.5, 3.0], [-2.0, 0.0, 0.7]]", "target": "[[1, 0, 1], [0, 1, 0]]", "params": {}},
    torch_code="F.binary_cross_entropy_with_logits(pred, target, weight=weight, pos_weight=pos_weight, "
               "reduction=reduction)"))

register(LossSpec(
    name="cross_entropy", family="classification", title="Cross-entropy",
    summary="Log-softmax of the logits, then the negative log-probability of the true class "
            "(or of a target distribution), with class weights, ignore_index and label smoothing.",
    formula=r"l_n = -w_{y_n}\log\left(\frac{e^{x_{n,y_n}}}{\sum_c e^{x_{n,c}}}\right)",
    pred_kind="logits", target_kind="classes_or_probabilities",
    params=(_CLASS_WEIGHT, _IGNORE,
            Param("label_smoothing", 0.0, Interval(Real, 0.0, 1.0), "ε: mixes the target with the uniform distribution over the C classes"),
            Param("input", "logits", Options(("logits", "probabilities", "log_probabilities")),
                  "what pred holds: logits (softmax applied), probabilities (log taken) or log_probabilities")),
    steps=cross_entropy_steps, reference=_ce_reference, reference_name="torch.nn.functional.cross_entropy",
    prepare=_ce_prepare, aliases=("ce", "CrossEntropyLoss", "softmax_cross_entropy", "categorical_cross_entropy"),
    target_dtype="auto",
    example={"pred": "[[1.5, 0.3, -0.8], [0.2, 2.1, 0.4]]", "target": "[0, 2]", "params": {}},
    torch_code="x = torch.log(pred) if input == 'probabilities' else pred\n"
               "F.cross_entropy(x, target, weight=weight, ignore_index=ignore_index, reduction=reduction,\n"
               "                label_smoothing=label_smoothing)"))

register(LossSpec(
    name="nll", family="classification", title="Negative log-likelihood (NLL)",
    summary="Picks −log p of the true class from log-probabilities (use after log_softmax).",
    formula=r"l_n = -w_{y_n} x_{n,y_n}", pred_kind="log_probabilities", target_kind="classes",
    params=(_CLASS_WEIGHT, _IGNORE), steps=nll_steps,
    reference=lambda x, y, p, r: F.nll_loss(x, y, weight=p["weight"], ignore_index=int(p["ignore_index"]),
                                            reduction=r),
    reference_name="torch.nn.functional.nll_loss", prepare=_nll_prepare,
    aliases=("NLLLoss", "negative_log_likelihood", "nll_loss"), target_dtype="index",
    example={"pred": "[[-0.3375, -1.5375, -2.6375], [-2.1869, -0.2869, -1.9869]]", "target": "[0, 2]", "params": {}},
    torch_code="F.nll_loss(pred, target, weight=weight, ignore_index=ignore_index, reduction=reduction)"))

register(LossSpec(
    name="kl_div", family="distribution", title="KL divergence",
    summary="Relative entropy KL(p‖q) of the target p from the prediction q, given as log q; "
            "use reduction='batchmean' for the true mean.",
    formula=r"l_i = p_i(\log p_i - \log q_i)", pred_kind="log_probabilities", target_kind="probabilities",
    params=(Param("log_target", False, Boolean(), "the target is given as log p"),), steps=kl_div_steps,
    reference=_kl_reference, reference_name="torch.nn.functional.kl_div", prepare=_kl_prepare,
    aliases=("KLDivLoss", "kl", "kl_divergence", "relative_entropy", "kldiv"),
    reductions=("none", "mean", "sum", "batchmean"),
    example={"pred": "[[-1.2040, -1.2040, -0.9163], [-0.3567, -1.6094, -2.3026]]",
             "target": "[[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]", "params": {}},
    torch_code="F.kl_div(pred, target, reduction=reduction, log_target=log_target)"))


# -- 中文 -------------------------------------------------------------------------------------------------

add_zh({
    # titles and summaries
    "Binary cross-entropy (BCE)": "二元交叉熵（BCE）", "BCE with logits": "带 logits 的 BCE",
    "Cross-entropy": "交叉熵", "Negative log-likelihood (NLL)": "负对数似然（NLL）", "KL divergence": "KL 散度",
    "Cross-entropy of 0/1 (or soft) labels against predicted probabilities; torch clamps each log at -100.":
        "0/1（或软）标签与预测概率之间的交叉熵；torch 把每个对数钳位在 -100。",
    "Sigmoid and binary cross-entropy in one stable formula on logits; pos_weight rescales positives.":
        "把 Sigmoid 和二元交叉熵合成一个在 logits 上数值稳定的公式；pos_weight 调整正样本的权重。",
    "Log-softmax of the logits, then the negative log-probability of the true class "
    "(or of a target distribution), with class weights, ignore_index and label smoothing.":
        "先对 logits 做 log-softmax，再取真实类别（或目标分布）的负对数概率；支持类别权重、ignore_index 和标签平滑。",
    "Picks −log p of the true class from log-probabilities (use after log_softmax).":
        "从对数概率中取出真实类别的 −log p（在 log_softmax 之后使用）。",
    "Relative entropy KL(p‖q) of the target p from the prediction q, given as log q; "
    "use reduction='batchmean' for the true mean.":
        "目标 p 相对于预测 q（以 log q 给出）的相对熵 KL(p‖q)；真正的均值请用 reduction='batchmean'。",
    # parameters
    "rescaling weight per element, broadcast to pred's shape": "每个元素的缩放权重，广播到 pred 的形状",
    "weight per class, shape (C,)": "每个类别的权重，形状 (C,)",
    "target value left out of the loss and out of the mean's denominator": "被排除在损失和均值分母之外的目标值",
    "ε: mixes the target with the uniform distribution over the C classes": "ε：把目标与 C 个类别上的均匀分布混合",
    "what pred holds: logits (softmax applied), probabilities (log taken) or log_probabilities":
        "pred 的含义：logits（会做 softmax）、probabilities（会取对数）或 log_probabilities（对数概率）",
    "weight of the positive term, one per class along the last dimension (> 1 raises recall)":
        "正样本项的权重，沿最后一维每个类别一个（> 1 提高召回率）",
    "the target is given as log p": "目标以 log p 的形式给出",
    # step titles
    "Log of p": "p 的对数", "Log of 1 − p": "1 − p 的对数", "torch's clamp of log p at −100": "torch 把 log p 钳位在 −100",
    "torch's clamp of log(1 − p) at −100": "torch 把 log(1 − p) 钳位在 −100", "Weight per element": "每个元素的权重",
    "Binary cross-entropy per element": "每个元素的二元交叉熵", "Absolute logit": "logit 的绝对值",
    "Softplus remainder": "Softplus 余项", "Log-sigmoid": "对数 Sigmoid",
    "Log-sigmoid of −x (= log(1 − σ(x)))": "−x 的对数 Sigmoid（= log(1 − σ(x))）", "Stable form": "稳定形式",
    "Positive weight": "正样本权重", "Binary cross-entropy with logits per element": "每个元素的带 logits 二元交叉熵",
    "Log of the given probabilities": "给定概率的对数", "Row sum of the probabilities": "概率的行和",
    "Normaliser": "归一化项", "Log-probabilities": "对数概率", "Softmax probabilities": "Softmax 概率",
    "Log-probability of the true class": "真实类别的对数概率", "Ignored samples": "被忽略的样本",
    "Weight of the true class": "真实类别的权重", "Negative log-likelihood": "负对数似然",
    "Smoothing term": "平滑项", "Label-smoothed cross-entropy": "标签平滑后的交叉熵", "Smoothed target": "平滑后的目标",
    "Cross-entropy per sample": "每个样本的交叉熵", "Entropy of the target": "目标的熵",
    "Relative entropy (KL divergence)": "相对熵（KL 散度）",
    "Identity: entropy + KL = cross-entropy": "恒等式：熵 + KL = 交叉熵", "Given log-probabilities": "给定的对数概率",
    "Target probabilities": "目标概率", "p log p": "p log p", "p log q": "p log q", "Pointwise KL term": "逐元素 KL 项",
    "Entropy of p": "p 的熵", "Cross-entropy of q relative to p": "q 相对于 p 的交叉熵",
    "KL divergence per distribution": "每个分布的 KL 散度",
    # notes
    "the clamp does not fire here (every log p is above −100)": "这里钳位没有生效（每个 log p 都大于 −100）",
    "the clamp does not fire here (every log(1 − p) is above −100)": "这里钳位没有生效（每个 log(1 − p) 都大于 −100）",
    "the weight broadcast to pred's shape": "广播到 pred 形状的权重",
    "the weight rescales each element; the mean still divides by n, not by Σ w":
        "权重缩放每个元素；均值仍然除以 n，而不是 Σ w",
    "e^{−|x|} ≤ 1 never overflows, and log1p keeps its precision when it is tiny":
        "e^{−|x|} ≤ 1 永远不会溢出，并且在它很小时 log1p 仍保持精度",
    "computed without forming σ(x), which rounds to 0 or 1 for large |x| and would make log σ = −∞; "
    "this form stays finite at x = ±100 and beyond":
        "不先算 σ(x)：|x| 很大时 σ(x) 会舍入成 0 或 1，使 log σ = −∞；这种形式在 x = ±100 及更远处仍然有限",
    "the same as −[y log σ(x) + (1 − y) log σ(−x)], rearranged so that nothing overflows":
        "与 −[y log σ(x) + (1 − y) log σ(−x)] 相同，只是整理成不会溢出的形式",
    "pos_weight multiplies only the positive term y log σ(x)": "pos_weight 只乘正样本项 y log σ(x)",
    "1 for a probability distribution": "对概率分布而言为 1",
    "0 when the row sums to 1; torch's cross_entropy on log f renormalises this way":
        "行和为 1 时为 0；torch 对 log f 做 cross_entropy 时就是这样重新归一化的",
    "0 when the rows are log-probabilities already": "当各行已经是对数概率时为 0",
    "each row sums to 1": "每行之和为 1", "0 is shown for ignored samples": "被忽略的样本显示为 0",
    "0 for ignored samples": "被忽略的样本为 0",
    "torch's label smoothing: the uniform part of the target, weighted by the class weights (w_c = 1 without weights)":
        "torch 的标签平滑：目标中的均匀分布部分，按类别权重加权（没有权重时 w_c = 1）",
    "with class-probability targets torch's mean divides by the number of samples, not by the weights":
        "目标为类别概率时，torch 的均值除以样本数，而不是权重之和",
    "0 · log 0 = 0; 0 for a one-hot target": "0 · log 0 = 0；one-hot 目标的熵为 0",
    "the unweighted cross-entropy; class weights make l differ from it": "不加权的交叉熵；类别权重会使 l 与之不同",
    "the extra cost of coding with the estimate instead of the truth": "用估计分布而不是真实分布编码所多付出的代价",
    "equals the cross-entropy above (article 004)": "等于上面的交叉熵（文章 004）",
    "nll_loss takes them as they are (usually the output of log_softmax)": "nll_loss 原样使用它们（通常是 log_softmax 的输出）",
    "0 · log 0 = 0 (torch uses xlogy)": "0 · log 0 = 0（torch 使用 xlogy）",
    "per distribution (summed over dimension 1; over the whole tensor when 1-D)": "按分布计算（沿第 1 维求和；一维时对整个张量求和）",
    "equals H(p,q) above (article 004)": "等于上面的 H(p,q)（文章 004）",
    # warnings
    "every p is exactly 0 or 1: each log is clamped at -100 by torch, so a wrong label costs 100":
        "每个 p 都恰好是 0 或 1：torch 把每个对数钳位在 -100，所以一个错误标签的代价是 100",
    CE_PROBABILITIES:
        "pred 的各行看起来是概率（每行和为 1），但 input=logits 会再对它们做 softmax；如果它们是概率，请设置 input=probabilities",
    NLL_POSITIVE:
        "pred 含有正数，所以它不是对数概率：nll_loss 只是取 −pred[y]；对 logits 请使用 cross_entropy（它会先做 log-softmax）",
    "pred has probabilities of exactly 0: log 0 = −∞, so the loss is ∞ where such a class is the target, and "
    "0 · (−∞) = NaN where a target probability of 0 meets it (as in torch)":
        "pred 中有恰好为 0 的概率：log 0 = −∞，因此该类别为目标时损失为 ∞；目标概率为 0 的位置会出现 0 · (−∞) = NaN（与 torch 相同）",
    "log q = −∞ where p = 0 gives 0 · (−∞) = NaN in torch (the limit is 0)":
        "在 p = 0 处 log q = −∞，torch 会得到 0 · (−∞) = NaN（极限为 0）",
    "for a 1-D input batchmean divides by its length; the KL divergence of one distribution is reduction='sum'":
        "对一维输入，batchmean 除以它的长度；单个分布的 KL 散度应使用 reduction='sum'",
})

add_zh_patterns([
    (r"the clamp fires at (\d+) place\(s\): (.+)", r"钳位在 \1 处生效：\2"),
    (r"(\d+) sample\(s\) have y = (-?\d+): they are left out of the numerator and of the denominator",
     r"\1 个样本的 y = \2：它们不计入分子，也不计入分母"),
    (r"ε = ([^,]+), C = (\d+); with class weights torch divides both parts by Σ w_\(y_n\), not by Σ_c w_c",
     r"ε = \1，C = \2；有类别权重时 torch 把两部分都除以 Σ w_(y_n)，而不是 Σ_c w_c"),
    (r"ε = ([^,]+), C = (\d+)", r"ε = \1，C = \2"),
    (r"(target|pred|exp\(pred\)) rows do not sum to 1 \(off by up to ([^)]+)\); torch uses them as given",
     r"\1 的各行之和不为 1（最多相差 \2）；torch 按原样使用"),
    (r"(target|pred|exp\(pred\)) rows do not sum to 1 \(off by up to ([^)]+)\); "
     r"cross_entropy on log p renormalises them \(log p − log Σ p\)",
     r"\1 的各行之和不为 1（最多相差 \2）；对 log p 做 cross_entropy 会把它们重新归一化（log p − log Σ p）"),
    (r"(target|pred|exp\(pred\)) rows do not sum to 1 \(off by up to ([^)]+)\); "
     r"cross_entropy on log p renormalises them \(log-softmax\)",
     r"\1 的各行之和不为 1（最多相差 \2）；对 log p 做 cross_entropy 会把它们重新归一化（log-softmax）"),
    (r"(target|pred|exp\(pred\)) rows do not sum to 1 \(off by up to ([^)]+)\): "
     r"pred is not normalised log-probabilities; nll_loss uses it as given",
     r"\1 的各行之和不为 1（最多相差 \2）：pred 不是归一化的对数概率；nll_loss 按原样使用"),
    (r"(target|pred|exp\(pred\)) rows do not sum to 1 \(off by up to ([^)]+)\): pred is not normalised log-probabilities",
     r"\1 的各行之和不为 1（最多相差 \2）：pred 不是归一化的对数概率"),
    (r"(target|pred|exp\(pred\)) rows do not sum to 1 \(off by up to ([^)]+)\); KL\(p‖q\) is meant for distributions",
     r"\1 的各行之和不为 1（最多相差 \2）；KL(p‖q) 是为概率分布定义的"),
    (r"torch's reduction='mean' divides Σ l by every element \((\d+)\), not by the batch size, so it is not the "
     r"mean KL divergence; use reduction='batchmean'",
     r"torch 的 reduction='mean' 把 Σ l 除以全部元素个数（\1），而不是批大小，所以它不是 KL 散度的均值；请使用 reduction='batchmean'"),
    # error messages (the checks' own are in lossapp.inputs; the hints passed to them are below)
    (r"expected pred of shape \(C,\), \(N, C\) or \(N, C, d1, \.\.\.\), got pred (\(.*?\))",
     r"期望 pred 的形状为 (C,)、(N, C) 或 (N, C, d1, ...)，实际为 \1"),
    (r"expected target of shape (\(.*?\)) \(class indices\) or (\(.*?\)) \(class probabilities\) for pred (\(.*?\)), "
     r"got target (\(.*?\))",
     r"对于 pred \3，期望 target 的形状为 \1（类别索引）或 \2（类别概率），实际为 \4"),
    (r"expected target of shape (\(.*?\)) \(class indices\) for pred (\(.*?\)), got target (\(.*?\)) "
     r"\(one-hot or probabilities\? use cross_entropy\)",
     r"对于 pred \2，期望 target 的形状为 \1（类别索引），实际为 \3（是 one-hot 或概率吗？请用 cross_entropy）"),
    (r"expected target of shape (\(.*?\)) \(class indices\) for pred (\(.*?\)), got target (\(.*?\))",
     r"对于 pred \2，期望 target 的形状为 \1（类别索引），实际为 \3"),
    (r"parameter ignore_index: expected the default -100 with class-probability targets \(it applies to class "
     r"indices only\), got (-?\d+)",
     r"参数 ignore_index：目标为类别概率时期望使用默认值 -100（它只适用于类别索引），实际为 \1"),
    (r"(bce|bce_with_logits|cross_entropy|nll|kl_div): expected a target tensor, got none",
     r"\1：期望一个 target 张量，实际没有"),
])

add_hint_zh(require_probabilities, {
    HINT_BCE_LOGITS: "logits 请用 bce_with_logits", HINT_SET_LOGITS: "logits 请设置 input=logits",
    HINT_CLASS_PROBABILITIES: "与 pred 同形状的 target 表示类别概率",
    HINT_SET_LOG_TARGET: "对数概率请设置 log_target=true",
})
add_hint_zh(require_log_probabilities, {
    HINT_SET_LOGITS: "logits 请设置 input=logits",
    HINT_LOG_Q: "请传入 log q，例如 torch.log(q) 或 logits 的 log-softmax",
    HINT_LOG_TARGET: "log_target=true：target 是 log p",
})
add_hint_zh(require_binary, {HINT_CLASS_INDICES: "是类别索引吗？请用 cross_entropy"})
add_hint_zh(require_same_shape, {HINT_CLASS_INDICES_SHAPE: "是类别索引吗？请用 cross_entropy 或 nll"})
add_hint_zh(require_broadcastable, {HINT_WEIGHT: "每个元素一个权重", HINT_POS_WEIGHT: "沿最后一维每个类别一个值"})
