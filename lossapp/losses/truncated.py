"""Truncated cross-entropy (article 004, after Su Jianlin's "better loss functions" for text
classification): the hard-truncated CE that drops samples already classified well enough, and its
soft (sigmoid-smoothed) version on logits.

Hard:  l = λ(y, ŷ) · ce,  λ = 0 for a positive with ŷ > m or a negative with ŷ < 1 − m, else 1.
Soft:  the step θ in λ is replaced by a sigmoid of steepness K: on logits x (ŷ = σ(x), threshold
       m = 0.5 ⇔ x = 0), l = −y σ(−Kx) log σ(x) − (1−y) σ(Kx) log σ(−x).

K's default is 1: then σ(−x) = 1 − p_t for a positive and σ(x) = 1 − p_t for a negative, so the soft
truncated CE is exactly the focal loss with γ = 1 and no α — the comparison article 004 makes in 3.2
("K and γ play the same role: both set the steepness of the weight curve"). Larger K approaches the
hard truncation at m = 0.5 (K → ∞); K = 0 gives half the BCE.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import torch
import torch.nn.functional as F

from lossapp.i18n import add_zh, add_zh_patterns
from lossapp.inputs import require_binary, require_probabilities, require_same_shape
from lossapp.inputs.constraints import Interval
from lossapp.losses.focal import bce_probability_steps, logits_hint, reduction_scale, soft_label_check
from lossapp.losses.stable import (
    all_finite,
    bce_probability_grad,
    first_indices,
    hard_label_where,
    reduce_builtin,
    stable_logsigmoid,
    stable_sigmoid,
)
from lossapp.reduction import reduce
from lossapp.registry import LossSpec, Param, register
from lossapp.trace import Trace

MAX_LISTED = 10  # positions listed in the truncation note


def _positions(mask: torch.Tensor) -> str:
    """Indices where mask is true, as text: '0, 3' or '(0, 1), (1, 2)'; '—' when none."""
    if mask.dim() == 0:
        return "0" if bool(mask) else "—"
    idx = first_indices(mask, MAX_LISTED + 1)  # only what the note lists (and whether there is more)
    if not idx:
        return "—"
    items = [str(i[0]) if len(i) == 1 else "(" + ", ".join(str(j) for j in i) + ")" for i in idx[:MAX_LISTED]]
    return ", ".join(items) + (", …" if len(idx) > MAX_LISTED else "")


# -- hard-truncated cross-entropy ---------------------------------------------------------------------

def _truncation_masks(pred: torch.Tensor, target: torch.Tensor, m: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(positives with ŷ > m, negatives with ŷ < 1 − m): the elements with λ = 0 (float64 comparisons)."""
    p = pred.detach().double()
    return (target == 1) & (p > m), (target == 0) & (p < 1 - m)


def _truncated_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                       trace: Trace) -> tuple[torch.Tensor, torch.Tensor | None]:
    require_same_shape(pred, target)
    require_probabilities(pred, "pred")
    require_binary(target, "target", allow_soft=False)
    if float(params["m"]) < 0.5:
        trace.warn("m < 0.5: misclassified samples are truncated too (the article uses m > 0.5, e.g. 0.6)")
    return pred, target


def truncated_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                    reduction: str) -> torch.Tensor:
    """Hard-truncated cross-entropy on probabilities (article 004, 2.1).

    Unreduced: l_n = λ(y_n, ŷ_n) · ce_n, ce = −[y log ŷ + (1−y) log(1−ŷ)] (logs clamped at −100 as torch),
    λ = 0 if (y = 1 and ŷ > m) or (y = 0 and ŷ < 1 − m), else 1. λ is a constant for the gradient
    (the article: its derivative is 0), so truncated elements get no gradient.
    mean: Σ l_n / n (truncated elements still count in n); sum: Σ l_n; none: l.
    Params: m = 0.6 (the article's 0.6 / 0.4 example).
    Reference: F.binary_cross_entropy(reduction="none") times the λ mask.

    Shape:
        - pred: (*), probabilities ŷ in [0, 1], any number of dimensions.
        - target: (*), the same shape as pred, 0/1.
        - output: a scalar for mean and sum; (*) for none.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("truncated_ce", "[0.9, 0.55, 0.3, 0.2, 0.45, 0.7]", "[1, 1, 1, 0, 0, 0]", m=0.6)
        >>> print(f"{r.scalar:.4f}")
        0.6006
    """
    m = float(params["m"])
    y = target
    ce = bce_probability_steps(trace, pred, y)
    pos, neg = _truncation_masks(pred, y, m)
    lam = (~(pos | neg)).to(ce.dtype)
    cut = int((pos | neg).sum())
    rule = (f"Rule: a positive (y = 1) with ŷ > m = {m:g} or a negative (y = 0) with ŷ < 1 − m = {1 - m:g} "
            f"is already classified well enough and is left out; all others keep λ = 1")
    if cut:
        note = (f"λ = 0 (truncated) at {cut} of {lam.numel()} element(s): positives with ŷ > {m:g} at "
                f"[{_positions(pos)}], negatives with ŷ < {1 - m:g} at [{_positions(neg)}]. {rule}")
    else:
        note = f"no element is truncated (λ = 1 everywhere). {rule}"
    lam = trace.add("lambda", "Truncation factor λ", r"\lambda(y,\hat{y}) = \begin{cases} 0 & \text{if } y = 1,\ \hat{y} > m "
                    r"\\ 0 & \text{if } y = 0,\ \hat{y} < 1 - m \\ 1 & \text{otherwise} \end{cases}", lam, note=note)
    loss = trace.add("l", "Truncated cross-entropy term", r"l_n = \lambda(y_n,\hat{y}_n)\,\mathrm{ce}_n", lam * ce,
                     note="λ is a constant: truncated elements contribute neither loss nor gradient",
                     sub=r"$a \cdot $c", a=lam, c=ce)
    return reduce(trace, loss, reduction)


def truncated_reference(x: torch.Tensor, y: torch.Tensor, params: dict[str, Any], reduction: str) -> torch.Tensor:
    """F.binary_cross_entropy(reduction="none") times the λ mask (compared in float64 at the threshold)."""
    pos, neg = _truncation_masks(x, y, float(params["m"]))
    lam = (~(pos | neg)).to(x.dtype)
    return reduce_builtin(lam * F.binary_cross_entropy(x, y, reduction="none"), reduction)


def truncated_gradient(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any], reduction: str) -> torch.Tensor:
    """λ · torch's BCE backward (p − y)/max(p(1 − p), 1e−12): finite at ŷ = 0 or 1, where log's is not."""
    pos, neg = _truncation_masks(pred, target, float(params["m"]))
    lam = (~(pos | neg)).double()
    grad = lam * bce_probability_grad(pred.double(), target.double())
    return grad * reduction_scale(grad, reduction) + 0.0


register(LossSpec(
    name="truncated_ce", family="classification", title="Hard-truncated cross-entropy",
    summary="BCE that leaves out samples already good enough: positives above m, negatives below 1 − m.",
    formula=r"l_n = \lambda(y_n,\hat{y}_n)\,\mathrm{ce}_n,\quad \lambda = 0 \text{ if } y=1,\hat{y}>m "
            r"\text{ or } y=0,\hat{y}<1-m",
    pred_kind="probabilities", target_kind="binary",
    params=(Param("m", 0.6, Interval(Real, 0.0, 1.0), "threshold m: a positive with ŷ > m or a negative with ŷ < 1 − m is "
                  "truncated (λ = 0)"),),
    steps=truncated_steps, reference=truncated_reference, prepare=_truncated_prepare, gradient=truncated_gradient,
    reference_name="torch.nn.functional.binary_cross_entropy(reduction='none') times the λ mask",
    aliases=("hard_truncated_ce", "truncated_cross_entropy", "hard_truncated_cross_entropy"),
    example={"pred": "[0.9, 0.55, 0.3, 0.2, 0.45, 0.7]", "target": "[1, 1, 1, 0, 0, 0]", "params": {"m": 0.6}},
    torch_code=(
        'ce = F.binary_cross_entropy(pred, target, reduction="none")\n'
        "lam = 1 - (((target == 1) & (pred.double() > m)) | ((target == 0) & (pred.double() < 1 - m))).to(pred.dtype)\n"
        "l = lam * ce\n"
        'l if reduction == "none" else l.sum() if reduction == "sum" else l.mean()'
    ),
))


# -- soft-truncated cross-entropy ---------------------------------------------------------------------

def _soft_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                  trace: Trace) -> tuple[torch.Tensor, torch.Tensor | None]:
    require_same_shape(pred, target)
    logits_hint(pred, trace, "every pred value lies in [0, 1]: soft_truncated_ce takes logits; for probabilities "
                             "use truncated_ce")
    soft_label_check(target, trace)
    return pred, target


def soft_truncated_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                         reduction: str) -> torch.Tensor:
    """Soft-truncated cross-entropy on logits (article 004, 2.2).

    Unreduced: l_n = −y σ(−Kx) log σ(x) − (1−y) σ(Kx) log σ(−x): λ's step θ(·) smoothed into σ(K·),
    with the threshold at x = 0 (ŷ = σ(x) = 0.5). K → ∞ gives the hard truncation at m = 0.5;
    K = 1 gives the focal loss with γ = 1 and no α; K = 0 gives BCE / 2.
    mean: Σ l_n / n;  sum: Σ l_n;  none: l.
    Params: K = 1.0 (steepness, ≥ 0).
    Reference: −y·torch.sigmoid(−Kx)·F.logsigmoid(x) − (1−y)·torch.sigmoid(Kx)·F.logsigmoid(−x).

    Shape:
        - pred: (*), logits x, any number of dimensions.
        - target: (*), the same shape as pred, 0/1 (soft labels are warned about).
        - output: a scalar for mean and sum; (*) for none.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("soft_truncated_ce", "[2.0, -0.5, 0.3, -3.0, 0.8, -1.2]", "[1, 1, 1, 0, 0, 0]")
        >>> print(f"{r.scalar:.4f}")
        0.2881
    """
    k = float(params["K"])
    x, y = pred, target
    s_neg = trace.add("sigma(-Kx)", "Soft λ of a positive: σ(−Kx)", r"\sigma(-Kx)", stable_sigmoid(-k * x),
                      note="≈ 1 where x < 0 (ŷ < 0.5, not yet right) and ≈ 0 where x > 0; the steeper, the larger K",
                      sub=rf"\sigma(-{k:g} \cdot $x)", x=x)
    s_pos = trace.add("sigma(Kx)", "Soft λ of a negative: σ(Kx)", r"\sigma(Kx)", stable_sigmoid(k * x),
                      note="≈ 1 where x > 0 (ŷ > 0.5, not yet right) and ≈ 0 where x < 0",
                      sub=rf"\sigma({k:g} \cdot $x)", x=x)
    log_p = trace.add("log sigma(x)", "Log-sigmoid (stable)", r"\log \sigma(x) = \min(x,0) - \log(1+e^{-|x|})",
                      stable_logsigmoid(x), note="the stable form: exact for large |x|, no log of a rounded 0",
                      sub=r"\min($x,0) - \log(1+e^{-|$x|})", x=x)
    log_q = trace.add("log sigma(-x)", "Log-sigmoid of −x (stable)", r"\log \sigma(-x) = \min(-x,0) - \log(1+e^{-|x|})",
                      stable_logsigmoid(-x), sub=r"\min(-$x,0) - \log(1+e^{-|$x|})", x=x)
    if k == 1:
        note = "K = 1: σ(−x) = 1 − p_t for a positive and σ(x) = 1 − p_t for a negative, so this is the focal loss with γ = 1 and no α"
    else:
        note = "K → ∞ gives the hard truncation with m = 0.5; K = 1 gives the focal loss with γ = 1 and no α"
    loss = trace.add("l", "Soft-truncated cross-entropy term",
                     r"l_n = -y\,\sigma(-Kx)\,\log \sigma(x) - (1-y)\,\sigma(Kx)\,\log \sigma(-x)",
                     _soft_truncated_terms(y, s_neg, log_p, s_pos, log_q) + 0.0,
                     note=note,
                     sub=r"-$y \cdot $a \cdot $b - (1-$y) \cdot $c \cdot $d", y=y, a=s_neg, b=log_p, c=s_pos, d=log_q)
    return reduce(trace, loss, reduction)


def _soft_truncated_terms(y: torch.Tensor, s_neg: torch.Tensor, log_p: torch.Tensor, s_pos: torch.Tensor,
                          log_q: torch.Tensor) -> torch.Tensor:
    """−y σ(−Kx) log σ(x) − (1−y) σ(Kx) log σ(−x); for hard labels the y = 1 / y = 0 term alone where a factor is
    infinite (so that 0·∞ never appears)."""
    mixed = -(y * s_neg * log_p) - (1 - y) * s_pos * log_q
    if all_finite(mixed):
        return mixed
    return hard_label_where(y, -s_neg * log_p, -s_pos * log_q, mixed)


def soft_truncated_reference(x: torch.Tensor, y: torch.Tensor, params: dict[str, Any], reduction: str) -> torch.Tensor:
    k = float(params["K"])
    loss = -y * torch.sigmoid(-k * x) * F.logsigmoid(x) - (1 - y) * torch.sigmoid(k * x) * F.logsigmoid(-x)
    return reduce_builtin(loss, reduction)


register(LossSpec(
    name="soft_truncated_ce", family="classification", title="Soft-truncated cross-entropy",
    summary="Truncated CE with the step replaced by a sigmoid of steepness K, so that every sample keeps a gradient.",
    formula=r"l_n = -y\,\sigma(-Kx)\,\log \sigma(x) - (1-y)\,\sigma(Kx)\,\log \sigma(-x)",
    pred_kind="logits", target_kind="binary",
    params=(Param("K", 1.0, Interval(Real, 0.0, 100.0), "steepness K ≥ 0 of the sigmoid that replaces the step: K → ∞ is the hard "
                  "truncation at ŷ = 0.5, K = 1 the focal loss with γ = 1"),),
    steps=soft_truncated_steps, reference=soft_truncated_reference, prepare=_soft_prepare,
    reference_name="-y*sigmoid(-Kx)*F.logsigmoid(x) - (1-y)*sigmoid(Kx)*F.logsigmoid(-x)",
    aliases=("soft_truncated_cross_entropy", "softened_truncated_ce"),
    example={"pred": "[2.0, -0.5, 0.3, -3.0, 0.8, -1.2]", "target": "[1, 1, 1, 0, 0, 0]", "params": {"K": 1.0}},
    torch_code=(
        "l = -target * torch.sigmoid(-K * pred) * F.logsigmoid(pred) - (1 - target) * torch.sigmoid(K * pred) * "
        "F.logsigmoid(-pred)\n"
        'l if reduction == "none" else l.sum() if reduction == "sum" else l.mean()'
    ),
))


add_zh({
    "Hard-truncated cross-entropy": "硬截断交叉熵",
    "BCE that leaves out samples already good enough: positives above m, negatives below 1 − m.":
        "不再计入已经足够好的样本的 BCE：高于 m 的正样本、低于 1 − m 的负样本。",
    "threshold m: a positive with ŷ > m or a negative with ŷ < 1 − m is truncated (λ = 0)":
        "阈值 m：ŷ > m 的正样本或 ŷ < 1 − m 的负样本被截断（λ = 0）",
    "Soft-truncated cross-entropy": "软截断交叉熵",
    "Truncated CE with the step replaced by a sigmoid of steepness K, so that every sample keeps a gradient.":
        "把截断交叉熵中的阶跃函数换成陡度为 K 的 sigmoid，使每个样本都保留梯度。",
    "steepness K ≥ 0 of the sigmoid that replaces the step: K → ∞ is the hard truncation at ŷ = 0.5, K = 1 the "
    "focal loss with γ = 1":
        "替代阶跃函数的 sigmoid 的陡度 K ≥ 0：K → ∞ 即在 ŷ = 0.5 处的硬截断，K = 1 即 γ = 1 的 focal 损失",
    "Truncation factor λ": "截断因子 λ", "Truncated cross-entropy term": "截断交叉熵项",
    "λ is a constant: truncated elements contribute neither loss nor gradient": "λ 视为常数：被截断的元素既不贡献损失也不贡献梯度",
    "Soft λ of a positive: σ(−Kx)": "正样本的软 λ：σ(−Kx)", "Soft λ of a negative: σ(Kx)": "负样本的软 λ：σ(Kx)",
    "≈ 1 where x < 0 (ŷ < 0.5, not yet right) and ≈ 0 where x > 0; the steeper, the larger K":
        "x < 0（ŷ < 0.5，尚未分对）处 ≈ 1，x > 0 处 ≈ 0；K 越大越陡",
    "≈ 1 where x > 0 (ŷ > 0.5, not yet right) and ≈ 0 where x < 0": "x > 0（ŷ > 0.5，尚未分对）处 ≈ 1，x < 0 处 ≈ 0",
    "Log-sigmoid (stable)": "Log-sigmoid（数值稳定形式）", "Log-sigmoid of −x (stable)": "−x 的 log-sigmoid（数值稳定形式）",
    "the stable form: exact for large |x|, no log of a rounded 0": "稳定形式：|x| 很大时也精确，不对舍入为 0 的数取对数",
    "Soft-truncated cross-entropy term": "软截断交叉熵项",
    "K = 1: σ(−x) = 1 − p_t for a positive and σ(x) = 1 − p_t for a negative, so this is the focal loss with γ = 1 and no α":
        "K = 1：正样本 σ(−x) = 1 − p_t，负样本 σ(x) = 1 − p_t，因此这就是 γ = 1、不带 α 的 focal 损失",
    "K → ∞ gives the hard truncation with m = 0.5; K = 1 gives the focal loss with γ = 1 and no α":
        "K → ∞ 即 m = 0.5 的硬截断；K = 1 即 γ = 1、不带 α 的 focal 损失",
    "m < 0.5: misclassified samples are truncated too (the article uses m > 0.5, e.g. 0.6)":
        "m < 0.5：分错的样本也会被截断（文章使用 m > 0.5，例如 0.6）",
    "every pred value lies in [0, 1]: soft_truncated_ce takes logits; for probabilities use truncated_ce":
        "pred 的所有值都在 [0, 1] 内：soft_truncated_ce 的输入是 logits；概率输入请用 truncated_ce",
})
_RULE_EN = (r"Rule: a positive \(y = 1\) with ŷ > m = (\S+) or a negative \(y = 0\) with ŷ < 1 − m = (\S+) "
            r"is already classified well enough and is left out; all others keep λ = 1")
add_zh_patterns([
    (r"λ = 0 \(truncated\) at (\d+) of (\d+) element\(s\): positives with ŷ > (\S+) at \[(.*?)\], negatives with "
     r"ŷ < (\S+) at \[(.*?)\]\. " + _RULE_EN.replace("(\\S+)", "\\S+"),
     r"λ = 0（被截断）的元素有 \1 个（共 \2 个）：ŷ > \3 的正样本位于 [\4]，ŷ < \5 的负样本位于 [\6]。"
     r"规则：ŷ > m 的正样本（y = 1）或 ŷ < 1 − m 的负样本（y = 0）已经分得足够好，不再计入；其余的 λ = 1"),
    (r"no element is truncated \(λ = 1 everywhere\)\. " + _RULE_EN,
     r"没有元素被截断（处处 λ = 1）。规则：ŷ > m = \1 的正样本（y = 1）或 ŷ < 1 − m = \2 的负样本（y = 0）"
     r"已经分得足够好，不再计入；其余的 λ = 1"),
])
