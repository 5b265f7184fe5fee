"""Focal losses: sigmoid focal loss (RetinaNet / torchvision / mmdetection, articles 000, 003, 004) and
the multi-class softmax focal loss.

The BCE-on-probabilities steps (torch's −100 clamp), the logits hint, the soft-label check and the
reduction scale live here and are reused by `lossapp.losses.truncated`; the stable elementary pieces
(sigmoid, log-sigmoid, log-softmax, torch's BCE gradient) are in `lossapp.losses.stable`.
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
    require_per_class,
    require_probabilities,
    require_same_shape,
    shape_text,
)
from lossapp.inputs.constraints import Interval, Options, Tensor
from lossapp.losses.stable import (
    LOG_CLAMP,
    all_binary,
    all_finite,
    bce_probability_grad,
    bce_with_logits_stable,
    class_dim,
    exp_neg_abs,
    log_softmax_steps,
    select,
    stable_sigmoid,
    within,
)
from lossapp.reduction import reduce
from lossapp.registry import LossSpec, Param, register
from lossapp.trace import Trace

try:  # torchvision is optional: its sigmoid_focal_loss is the reference when it can be imported
    from torchvision.ops import sigmoid_focal_loss as _tv_sigmoid_focal_loss
except Exception:  # ImportError, or a torchvision built for another torch
    _tv_sigmoid_focal_loss = None

HINT_COLUMN_WEIGHT = "per-sample weights of an (N, C) pred as a column [[w1], [w2], ...]"
HINT_ALPHA = "or a single number for every class"


# -- pieces shared with truncated.py ------------------------------------------------------------------

def soft_label_check(target: torch.Tensor, trace: Trace, name: str = "target") -> None:
    """Targets must lie in [0, 1]; values strictly between 0 and 1 (soft labels) are allowed with a warning."""
    require_binary(target, name)
    if not all_binary(target):
        trace.warn("target has soft labels (values strictly between 0 and 1): the formula is used as written, "
                   "with y and 1 − y interpolating between the two cases")


def logits_hint(pred: torch.Tensor, trace: Trace, hint: str) -> None:
    """Warn when logits look like probabilities (all in [0, 1], some strictly inside), and about ±inf logits."""
    if not pred.is_floating_point():
        return
    if not all_finite(pred):  # NaN was refused before: this is ±inf
        trace.warn("pred has ±inf logits: the trace gives the limit of the formula there (a term whose factor is 0 "
                   "counts 0, not 0·∞); the built-in may give NaN at those elements")
    if within(pred, 0, 1) and not all_binary(pred):
        trace.warn(hint)


def bce_probability_steps(trace: Trace, p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """ce = −[y log p + (1−y) log(1−p)] with torch's −100 clamp on each log, written as steps."""
    raw_p, raw_q = torch.log(p), torch.log(1 - p)

    def note(raw: torch.Tensor) -> str:
        raw = raw.detach()
        fired = int((raw < LOG_CLAMP).sum()) if raw.numel() and float(raw.min()) < LOG_CLAMP else 0
        return (f"torch clamps each log at −100 (log 0 becomes −100, not −∞); the clamp fires at {fired} element(s)"
                if fired else "torch clamps each log at −100 (log 0 becomes −100, not −∞); it does not fire here")

    log_p = trace.add("log p", "Log of p (clamped at −100)", r"\log p = \max(\ln p,\,-100)",
                      torch.clamp_min(raw_p, LOG_CLAMP), note=note(raw_p), sub=r"\max(\ln $p, -100)", p=p)
    log_q = trace.add("log(1-p)", "Log of 1 − p (clamped at −100)", r"\log(1-p) = \max(\ln(1-p),\,-100)",
                      torch.clamp_min(raw_q, LOG_CLAMP), note=note(raw_q), sub=r"\max(\ln(1-$p), -100)", p=p)
    return trace.add("ce", "Binary cross-entropy", r"\mathrm{ce} = -[y\,\log p + (1-y)\,\log(1-p)]",
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
        logits_hint(pred, trace, "every pred value lies in [0, 1]: if these are probabilities (as in article 003), "
                                 "set input=probabilities; they are being treated as logits")
    soft_label_check(target, trace)
    require_broadcastable(params.get("weight"), "parameter weight", pred.shape, hint=HINT_COLUMN_WEIGHT)
    if params.get("avg_factor") is not None and float(params["avg_factor"]) <= 0:
        raise InputError(f"parameter avg_factor: expected a positive number, got {params['avg_factor']:g}")
    return pred, target


def _avg_factor(params: dict[str, Any], reduction: str, trace: Trace | None = None) -> float | None:
    """mmdetection's avg_factor: only with mean (ValueError in mmdetection with sum; ignored with none)."""
    avg_factor = params.get("avg_factor")
    if avg_factor is None:
        return None
    if reduction == "sum":
        raise InputError("parameter avg_factor: expected reduction mean (or none), got reduction sum "
                         "(mmdetection refuses avg_factor with sum)")
    if reduction == "none":
        if trace is not None:
            trace.warn("avg_factor only changes the mean; with reduction none it is ignored (as in mmdetection)")
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
        p = trace.add("p", "Probability (given)", r"p = \hat{y}", pred,
                      note="input=probabilities: pred is p itself, no sigmoid is applied")
        ce = bce_probability_steps(trace, p, y)
    else:
        e = exp_neg_abs(pred)  # e^{−|x|}, shared by σ(x) and the stable BCE
        p = trace.add("p", "Sigmoid (stable)",
                      r"p = \sigma(x) = \begin{cases} \frac{1}{1+e^{-x}} & x \ge 0 \\ \frac{e^{x}}{1+e^{x}} & x < 0"
                      r"\end{cases}", stable_sigmoid(pred, e),
                      note="each branch only exponentiates −|x|, so nothing overflows for large |x|",
                      sub=r"\sigma($x)", x=pred)
        ce = trace.add("ce", "Binary cross-entropy with logits (stable)",
                       r"\mathrm{ce} = -[y\,\log p + (1-y)\,\log(1-p)] = \max(x,0) - x\,y + \log(1+e^{-|x|})",
                       bce_with_logits_stable(pred, y, e),
                       note="the stable form of torch's binary_cross_entropy_with_logits: no log of a probability "
                            "that rounded to 0, no overflow",
                       sub=r"\max($x,0) - $x \cdot $y + \log(1+e^{-|$x|})", x=pred, y=y)
    p_t = trace.add("p_t", "Probability of the true class", r"p_t = p\,y + (1-p)(1-y)", p * y + (1 - p) * (1 - y),
                    note="p_t = p for a positive (y = 1), 1 − p for a negative (y = 0)",
                    sub=r"$p \cdot $y + (1-$p)(1-$y)", p=p, y=y)
    if alpha >= 0:
        alpha_t = trace.add("alpha_t", "Class-balancing factor", r"\alpha_t = \alpha\,y + (1-\alpha)(1-y)",
                            alpha * y + (1 - alpha) * (1 - y),
                            note="α weighs the positives, 1 − α the negatives (only the positives get α)",
                            sub=rf"{alpha:g} \cdot $y + {1 - alpha:g} \cdot (1-$y)", y=y)
    else:
        alpha_t = trace.add("alpha_t", "Class-balancing factor (off)", r"\alpha_t = 1", torch.ones_like(p_t),
                            note="α < 0 disables the α-balancing (torchvision's convention): α_t = 1")
    modulating = trace.add("(1-p_t)^gamma", "Modulating factor", r"(1-p_t)^{\gamma}", (1 - p_t) ** gamma,
                           note="down-weights easy examples (p_t near 1); γ = 0 turns it off",
                           sub=rf"(1-$q)^{{{gamma:g}}}", q=p_t)
    if gamma == 0 and alpha < 0:
        weight_note = ("γ = 0 and α disabled: the focal weight is 1, so this focal loss is exactly "
                       "BCE (BCEWithLogits for logits)")
    else:
        weight_note = ("mmdetection's focal_weight; with γ = 0 and α disabled it is 1 and the focal loss is "
                       "exactly BCE (BCEWithLogits for logits)")
    focal_weight = trace.add("focal_weight", "Focal weight", r"\alpha_t\,(1-p_t)^{\gamma}", alpha_t * modulating,
                             note=weight_note, sub=r"$a \cdot $m", a=alpha_t, m=modulating)
    weight = params.get("weight")
    term = r"l_n = \alpha_t\,(1-p_t)^{\gamma}\,\mathrm{ce}_n"
    if weight is None:
        loss = trace.add("l", "Focal loss term", term, focal_weight * ce, sub=r"$f \cdot $c", f=focal_weight, c=ce)
    else:
        raw = trace.add("l_unweighted", "Focal loss term before the weight", term, focal_weight * ce,
                        sub=r"$f \cdot $c", f=focal_weight, c=ce)
        w = weight.to(raw.dtype)
        loss = trace.add("l", "Weighted focal loss term", r"l_n = w_n \cdot \alpha_t\,(1-p_t)^{\gamma}\,\mathrm{ce}_n",
                         w * raw, note="elementwise weight, as mmdetection's weight_reduce_loss; the mean still "
                                       "divides by the element count (or avg_factor), not by Σ w",
                         sub=r"$w \cdot $l", w=w, l=raw)
    return reduce(trace, loss, reduction, avg_factor=avg_factor)


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


def focal_gradient(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                   reduction: str) -> torch.Tensor | None:
    """d(loss)/d(pred). Logits: None, autograd of the trace. Probabilities: the chain rule by hand with torch's BCE
    backward (p − y)/max(p(1−p), 1e−12), which stays finite where the exact derivative does not (p = 0 or 1)."""
    if params["input"] == "logits":
        return None
    alpha, gamma = float(params["alpha"]), float(params["gamma"])
    p, y = pred.double(), target.double()
    ce = -(y * torch.clamp_min(torch.log(p), LOG_CLAMP) + (1 - y) * torch.clamp_min(torch.log(1 - p), LOG_CLAMP))
    q = 1 - (p * y + (1 - p) * (1 - y))  # 1 - p_t, with d q / d p = 1 - 2y
    alpha_t = alpha * y + (1 - alpha) * (1 - y) if alpha >= 0 else torch.ones_like(p)
    d_mod = torch.zeros_like(p) if gamma == 0 else gamma * q ** (gamma - 1) * (1 - 2 * y)
    grad = alpha_t * (d_mod * ce + q ** gamma * bce_probability_grad(p, y))
    if params.get("weight") is not None:
        grad = grad * params["weight"].double()
    return grad * reduction_scale(grad, reduction, _avg_factor(params, reduction)) + 0.0


register(LossSpec(
    name="focal", family="classification", title="Focal loss (sigmoid)",
    summary="Binary cross-entropy scaled by α_t (1 − p_t)^γ: easy examples count less (RetinaNet).",
    formula=r"l_n = -\alpha_t\,(1-p_t)^{\gamma}\,\log p_t", pred_kind="logits", target_kind="binary",
    params=(
        Param("alpha", 0.25, Interval(Real, -1.0, 1.0), "weight of the positives (1 − α for the negatives); a negative value "
              "disables α-balancing (torchvision)"),
        Param("gamma", 2.0, Interval(Real, 0.0, 100.0), "focusing parameter γ ≥ 0: (1 − p_t)^γ down-weights easy examples; "
              "γ = 0 gives (α-balanced) BCE"),
        Param("weight", None, Tensor(), "elementwise weight multiplied into each term (mmdetection's weight), "
              "broadcast to pred's shape"),
        Param("avg_factor", None, Interval(Real, 0.0, 1e12), "mmdetection's avg_factor: the mean becomes Σ l / avg_factor "
              "(e.g. the number of positive anchors)"),
        Param("input", "logits", Options(("logits", "probabilities")), "what pred holds: logits (σ is applied) or probabilities (used as p)"),
    ),
    steps=focal_steps, reference=focal_reference, prepare=_focal_prepare, gradient=focal_gradient,
    reference_name=("torchvision.ops.sigmoid_focal_loss" if _tv_sigmoid_focal_loss is not None else
                    "torchvision's sigmoid_focal_loss formula on torch.nn.functional.binary_cross_entropy_with_logits "
                    "(binary_cross_entropy for input=probabilities)"),
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
        raise InputError(f"pred: expected logits of shape (C,), (N, C) or (N, C, d...), got {shape_text(pred.shape)}")
    c = pred.shape[class_dim(pred)]
    if pred.dim() == 1:
        if target.numel() != 1:
            raise InputError(f"expected one class index as target for pred of shape {shape_text(pred.shape)}, "
                             f"got target {shape_text(target.shape)}")
        target = target.reshape(())
    else:
        want = (pred.shape[0], *pred.shape[2:])
        if tuple(target.shape) != want:
            raise InputError(f"expected target of shape {shape_text(want)} (pred {shape_text(pred.shape)} without "
                             f"its class dimension), got {shape_text(target.shape)}")
    ignore_index = int(params["ignore_index"])
    target = require_class_indices(target, c, ignore_index=ignore_index)
    if not (target != ignore_index).any():
        trace.warn("every target equals ignore_index: nothing is counted")
    alpha = params.get("alpha")
    if isinstance(alpha, torch.Tensor):
        require_per_class(alpha, "parameter alpha", c, hint=HINT_ALPHA)
        if (alpha < 0).any():
            raise InputError(f"parameter alpha: expected per-class values ≥ 0, got {alpha[alpha < 0][0].item():g}")
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
    note = ("" if bool(counted.all()) else f"{int((~counted).sum())} sample(s) have target = ignore_index "
                                           f"({ignore_index}) and are left out (log p_t = 0 there, as torch)")
    log_p_t = trace.add("log p_t", "Log-probability of the target class", r"\log p_t = \log p_{y_n}",
                        select(counted, log_p.gather(cd, safe_target.unsqueeze(cd)).squeeze(cd), 0.0), note=note)
    p_t = trace.add("p_t", "Probability of the target class", r"p_t = e^{\log p_t}", torch.exp(log_p_t),
                    sub=r"e^{$a}", a=log_p_t)
    modulating = trace.add("(1-p_t)^gamma", "Modulating factor", r"(1-p_t)^{\gamma}", (1 - p_t) ** gamma,
                           note="down-weights easy examples (p_t near 1); γ = 0 turns it off",
                           sub=rf"(1-$q)^{{{gamma:g}}}", q=p_t)
    alpha = params.get("alpha")
    kind = _alpha_kind(alpha)
    if kind == "per_class":
        alpha_t = trace.add("alpha_t", "Class-balancing factor (per class)", r"\alpha_t = \alpha_{y_n}",
                            alpha.to(pred.dtype)[safe_target], note="α_t is the α of each sample's target class")
    elif kind == "scalar":
        alpha_t = trace.add("alpha_t", "Class-balancing factor (scalar)", r"\alpha_t = \alpha",
                            torch.full_like(p_t, float(alpha)),
                            note="a scalar α weighs every class alike (kornia's convention), so it only scales the "
                                 "loss; give one α per class to balance classes")
    else:
        alpha_t = trace.add("alpha_t", "Class-balancing factor (off)", r"\alpha_t = 1", torch.ones_like(p_t),
                            note="alpha is off (None or negative): α_t = 1")
    loss = trace.add("l", "Focal loss term", r"l_n = -\alpha_t\,(1-p_t)^{\gamma}\,\log p_t",
                     select(counted, -alpha_t * modulating * log_p_t, 0.0),
                     sub=r"-$a \cdot $m \cdot $b", a=alpha_t, m=modulating, b=log_p_t)
    denominator = None if bool(counted.all()) else counted.to(loss.dtype)
    return reduce(trace, loss, reduction, denominator=denominator)


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


register(LossSpec(
    name="softmax_focal", family="classification", title="Focal loss (softmax, multi-class)",
    summary="Cross-entropy scaled by α_t (1 − p_t)^γ over a softmax: easy examples count less.",
    formula=r"l_n = -\alpha_t\,(1-p_t)^{\gamma}\,\log p_t,\quad p = \mathrm{softmax}(x)", pred_kind="logits",
    target_kind="classes",
    params=(
        Param("alpha", None, Tensor(scalar=Interval(Real, -1.0, 1.0)), "None or negative: off; a scalar weighs every class alike (it only "
              "scales the loss, as kornia); one value per class gives α_t = α[y]"),
        Param("gamma", 2.0, Interval(Real, 0.0, 100.0), "focusing parameter γ ≥ 0: (1 − p_t)^γ down-weights easy examples; "
              "γ = 0 gives cross-entropy"),
        Param("ignore_index", -100, Interval(Integral), "samples whose target equals this index are left out of the loss "
              "and of the mean"),
    ),
    steps=softmax_focal_steps, reference=softmax_focal_reference, prepare=_softmax_focal_prepare,
    reference_name="torch.nn.functional.cross_entropy(reduction='none') times (1 - p_t)^gamma",
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


add_zh({
    # titles and summaries
    "Focal loss (sigmoid)": "Focal 损失（sigmoid）",
    "Binary cross-entropy scaled by α_t (1 − p_t)^γ: easy examples count less (RetinaNet).":
        "用 α_t (1 − p_t)^γ 缩放的二元交叉熵：易分样本的权重更小（RetinaNet）。",
    "Focal loss (softmax, multi-class)": "Focal 损失（softmax，多分类）",
    "Cross-entropy scaled by α_t (1 − p_t)^γ over a softmax: easy examples count less.":
        "在 softmax 上用 α_t (1 − p_t)^γ 缩放的交叉熵：易分样本的权重更小。",
    # parameter descriptions
    "weight of the positives (1 − α for the negatives); a negative value disables α-balancing (torchvision)":
        "正样本的权重（负样本为 1 − α）；取负值则关闭 α 平衡（torchvision 的约定）",
    "focusing parameter γ ≥ 0: (1 − p_t)^γ down-weights easy examples; γ = 0 gives (α-balanced) BCE":
        "聚焦参数 γ ≥ 0：(1 − p_t)^γ 降低易分样本的权重；γ = 0 即为（带 α 平衡的）BCE",
    "elementwise weight multiplied into each term (mmdetection's weight), broadcast to pred's shape":
        "逐元素乘到每一项上的权重（mmdetection 的 weight），广播到 pred 的形状",
    "mmdetection's avg_factor: the mean becomes Σ l / avg_factor (e.g. the number of positive anchors)":
        "mmdetection 的 avg_factor：均值变为 Σ l / avg_factor（例如正样本 anchor 的个数）",
    "what pred holds: logits (σ is applied) or probabilities (used as p)":
        "pred 的含义：logits（先做 σ）或概率（直接作为 p）",
    "None or negative: off; a scalar weighs every class alike (it only scales the loss, as kornia); one value per "
    "class gives α_t = α[y]":
        "None 或负值：关闭；标量对所有类别一视同仁（只是整体缩放损失，与 kornia 相同）；每类一个值时 α_t = α[y]",
    "focusing parameter γ ≥ 0: (1 − p_t)^γ down-weights easy examples; γ = 0 gives cross-entropy":
        "聚焦参数 γ ≥ 0：(1 − p_t)^γ 降低易分样本的权重；γ = 0 即为交叉熵",
    "samples whose target equals this index are left out of the loss and of the mean":
        "目标等于该索引的样本不计入损失，也不计入均值",
    # step titles
    "Probability (given)": "概率（直接给出）", "Sigmoid (stable)": "Sigmoid（数值稳定形式）",
    "Binary cross-entropy with logits (stable)": "带 logits 的二元交叉熵（数值稳定形式）",
    "Binary cross-entropy": "二元交叉熵",
    "Log of p (clamped at −100)": "p 的对数（截断于 −100）", "Log of 1 − p (clamped at −100)": "1 − p 的对数（截断于 −100）",
    "Probability of the true class": "真实类别的概率", "Class-balancing factor": "类别平衡因子",
    "Class-balancing factor (off)": "类别平衡因子（关闭）", "Class-balancing factor (per class)": "类别平衡因子（逐类）",
    "Class-balancing factor (scalar)": "类别平衡因子（标量）", "Modulating factor": "调制系数",
    "Focal weight": "Focal 权重", "Focal loss term": "Focal 损失项",
    "Focal loss term before the weight": "乘权重之前的 Focal 损失项", "Weighted focal loss term": "加权的 Focal 损失项",
    "Log-probability of the target class": "目标类别的对数概率",
    "Probability of the target class": "目标类别的概率",
    # notes
    "input=probabilities: pred is p itself, no sigmoid is applied": "input=probabilities：pred 本身就是 p，不再做 sigmoid",
    "each branch only exponentiates −|x|, so nothing overflows for large |x|": "每个分支只计算 e^{−|x|}，|x| 很大时也不会溢出",
    "the stable form of torch's binary_cross_entropy_with_logits: no log of a probability that rounded to 0, no overflow":
        "torch 的 binary_cross_entropy_with_logits 的稳定形式：不对舍入为 0 的概率取对数，也不会溢出",
    "torch clamps each log at −100 (log 0 becomes −100, not −∞); it does not fire here":
        "torch 把每个对数截断在 −100（log 0 取 −100 而不是 −∞）；这里没有触发",
    "p_t = p for a positive (y = 1), 1 − p for a negative (y = 0)": "正样本（y = 1）时 p_t = p，负样本（y = 0）时 p_t = 1 − p",
    "α weighs the positives, 1 − α the negatives (only the positives get α)": "α 加权正样本，1 − α 加权负样本（只有正样本乘 α）",
    "α < 0 disables the α-balancing (torchvision's convention): α_t = 1": "α < 0 关闭 α 平衡（torchvision 的约定）：α_t = 1",
    "down-weights easy examples (p_t near 1); γ = 0 turns it off": "降低易分样本（p_t 接近 1）的权重；γ = 0 时不起作用",
    "γ = 0 and α disabled: the focal weight is 1, so this focal loss is exactly BCE (BCEWithLogits for logits)":
        "γ = 0 且关闭 α：focal 权重为 1，此时 focal 损失就是 BCE（logits 输入时即 BCEWithLogits）",
    "mmdetection's focal_weight; with γ = 0 and α disabled it is 1 and the focal loss is exactly BCE (BCEWithLogits for logits)":
        "即 mmdetection 的 focal_weight；γ = 0 且关闭 α 时它为 1，focal 损失就是 BCE（logits 输入时即 BCEWithLogits）",
    "elementwise weight, as mmdetection's weight_reduce_loss; the mean still divides by the element count (or avg_factor), not by Σ w":
        "逐元素权重，与 mmdetection 的 weight_reduce_loss 相同；均值仍除以元素个数（或 avg_factor），而不是 Σ w",
    "α_t is the α of each sample's target class": "α_t 取每个样本目标类别的 α",
    "a scalar α weighs every class alike (kornia's convention), so it only scales the loss; give one α per class to balance classes":
        "标量 α 对所有类别一视同仁（kornia 的约定），只是整体缩放损失；要平衡类别请为每个类别给一个 α",
    "alpha is off (None or negative): α_t = 1": "alpha 关闭（None 或负值）：α_t = 1",
    # warnings and errors
    "target has soft labels (values strictly between 0 and 1): the formula is used as written, with y and 1 − y "
    "interpolating between the two cases":
        "target 含软标签（严格介于 0 和 1 之间的值）：按公式原样计算，y 与 1 − y 在两种情形之间插值",
    "every pred value lies in [0, 1]: if these are probabilities (as in article 003), set input=probabilities; "
    "they are being treated as logits":
        "pred 的所有值都在 [0, 1] 内：如果它们是概率（如文章 003），请设置 input=probabilities；现在按 logits 处理",
    "avg_factor only changes the mean; with reduction none it is ignored (as in mmdetection)":
        "avg_factor 只影响均值；reduction 为 none 时忽略它（与 mmdetection 相同）",
    "parameter avg_factor: expected reduction mean (or none), got reduction sum (mmdetection refuses avg_factor with sum)":
        "参数 avg_factor：期望 reduction 为 mean（或 none），实际为 sum（mmdetection 不允许 avg_factor 与 sum 同用）",
    "every target equals ignore_index: nothing is counted": "所有目标都等于 ignore_index：没有样本被计入",
    "pred has ±inf logits: the trace gives the limit of the formula there (a term whose factor is 0 counts 0, not 0·∞); "
    "the built-in may give NaN at those elements":
        "pred 含 ±inf 的 logits：逐步计算在这些位置取公式的极限（因子为 0 的项记为 0，而不是 0·∞）；内置函数在这些元素上可能给出 NaN",
})
add_zh_patterns([
    (r"torch clamps each log at −100 \(log 0 becomes −100, not −∞\); the clamp fires at (\d+) element\(s\)",
     r"torch 把每个对数截断在 −100（log 0 取 −100 而不是 −∞）；有 \1 个元素触发了截断"),
    (r"parameter avg_factor: expected a positive number, got (.+)", r"参数 avg_factor：期望正数，实际为 \1"),
    (r"pred: expected logits of shape \(C,\), \(N, C\) or \(N, C, d\.\.\.\), got (.+)",
     r"pred：期望形状为 (C,)、(N, C) 或 (N, C, d...) 的 logits，实际为 \1"),
    (r"expected one class index as target for pred of shape (.+), got target (.+)",
     r"形状为 \1 的 pred 需要一个类别索引作为 target，实际 target 为 \2"),
    (r"expected target of shape (.+) \(pred (.+) without its class dimension\), got (.+)",
     r"期望 target 的形状为 \1（即 pred \2 去掉类别维），实际为 \3"),
    (r"parameter alpha: expected per-class values ≥ 0, got (.+)", r"参数 alpha：期望逐类取值 ≥ 0，实际为 \1"),
    (r"(\d+) sample\(s\) have target = ignore_index \((-?\d+)\) and are left out \(log p_t = 0 there, as torch\)",
     r"有 \1 个样本的目标等于 ignore_index（\2），不计入（这些位置 log p_t = 0，与 torch 相同）"),
])
add_hint_zh(require_broadcastable, {HINT_COLUMN_WEIGHT: "(N, C) 的 pred 按样本加权时写成一列 [[w1], [w2], ...]"})
add_hint_zh(require_per_class, {HINT_ALPHA: "或对所有类别用同一个数"})
