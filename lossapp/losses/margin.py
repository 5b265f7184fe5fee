"""Margin and 0-1 losses: hinge, multi-class margin (torch's MultiMarginLoss) and the 0-1 loss (article 002).

Article 002 (item 4) lists the 0-1 loss ("1 when the prediction is wrong, 0 when it is right; it ignores
how far off the prediction is") and the hinge loss of the SVM (item 16) among the common losses.
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
    require_class_indices,
    require_per_class,
    require_same_shape,
    require_sign_labels,
    shape_text,
)
from lossapp.inputs.constraints import Interval, Tensor
from lossapp.losses.stable import class_dim, reduce_builtin, within
from lossapp.reduction import reduce
from lossapp.registry import LossSpec, Param, register
from lossapp.trace import Trace, fmt

HINGE_01 = "target has 0/1 labels: mapped 0 → -1 so that y ∈ {-1, +1}"  # (lossapp.lint leaves it to hinge_prepare)
HINT_ELEMENTWISE = "same shape as pred; class indices need pred with one more dimension"


# -- hinge -----------------------------------------------------------------------------------------

def hinge_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                  trace: Trace) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Same shapes; labels −1/+1, or 0/1 mapped to −1/+1 with a warning."""
    if target is None:
        raise InputError("hinge: expected a target tensor (labels -1/+1), got none")
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
    yf = trace.add("yf", "Signed score y·f", r"y_n f_n", target * pred, sub=r"$y \cdot $f", y=target, f=pred,
                   note="positive when the sign of the score is right; the larger the more confident")
    z = trace.add("z", "Margin minus y·f", r"z_n = \text{margin} - y_n f_n", margin - yf, sub=rf"{m} - $a", a=yf)
    loss = trace.add("l", "Hinge: clamp at 0", r"l_n = \max(0, \text{margin} - y_n f_n)",
                     torch.relu(z), sub=r"\max(0, $z)", z=z,
                     note="zero once y·f ≥ margin; not torch's F.hinge_embedding_loss, which takes distances "
                          "(x for y = 1, max(0, margin − x) for y = −1)")
    return reduce(trace, loss, reduction)


def hinge_reference(x: torch.Tensor, y: torch.Tensor | None, p: dict[str, Any], reduction: str) -> torch.Tensor:
    return reduce_builtin(torch.relu(p["margin"] - y * x), reduction)


# -- multi-class margin -------------------------------------------------------------------------------

def multi_margin_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                         trace: Trace) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Scores (N, C) with class indices (N,), or (C,) with one index; weight with C entries."""
    if target is None:
        raise InputError("multi_margin: expected a target tensor (class indices), got none")
    if pred.dim() == 2:
        if target.dim() != 1 or target.shape[0] != pred.shape[0]:
            raise InputError(f"expected target of shape ({pred.shape[0]},) (one class index per row of pred "
                             f"{shape_text(pred.shape)}), got target {shape_text(target.shape)}")
    elif pred.dim() == 1:
        if target.numel() != 1 or target.dim() > 1:
            raise InputError(f"expected a single class index for pred {shape_text(pred.shape)}, got target "
                             f"{shape_text(target.shape)}")
    else:
        raise InputError(f"expected pred scores of shape (N, C) or (C,), got {shape_text(pred.shape)}")
    classes = pred.shape[-1]
    target = require_class_indices(target, classes)
    require_per_class(params.get("weight"), "parameter weight", classes)
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
    xy = trace.add("x_y", "Score of the true class", r"x_{n,y_n}", x.gather(1, y[:, None]).squeeze(1))
    z = trace.add("z", "Margin violations", r"z_{n,i} = \text{margin} - x_{n,y_n} + x_{n,i}",
                  margin - xy[:, None] + x, sub=rf"{m} - $a + $b", a=xy[:, None], b=x)
    other = torch.arange(classes, device=y.device)[None, :] != y[:, None]
    h = trace.add("h", "Clamp at 0, leaving out i = y", r"h_{n,i} = \max(0, z_{n,i}),\quad i \ne y_n",
                  torch.relu(z) * other,
                  note="the term i = y_n is left out (it would always be the margin itself)")
    if p == 2:
        hp = trace.add("h^p", "Power p = 2", r"h_{n,i}^2", h * h, sub=r"$h^2", h=h)
    else:
        hp = trace.add("h^p", "Power p = 1", r"h_{n,i}^1 = h_{n,i}", h, note="p = 1 leaves the terms unchanged")
    if weight is not None:
        wy = trace.add("w_y", "Weight of the true class", r"w_{y_n}", weight.double()[y])
        hp = trace.add("wh^p", "Weighted terms", r"w_{y_n}\, h_{n,i}^p", wy[:, None] * hp,
                       note="torch multiplies by w[y] after the power (its docs put w inside the max, which "
                            "would square it for p = 2); the mean still divides by N, not by Σ w")
    s = trace.add("s", "Sum over the other classes", r"s_n = \sum_{i \ne y_n} w_{y_n} h_{n,i}^p"
                  if weight is not None else r"s_n = \sum_{i \ne y_n} h_{n,i}^p", hp.sum(1))
    loss = trace.add("l", "Divide by the number of classes C", r"l_n = \frac{s_n}{C}", s / classes,
                     sub=rf"\frac{{$s}}{{{classes}}}", s=s,
                     note=f"C = {classes}: torch divides by all C classes, the true class included")
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
        raise InputError("zero_one: expected a target tensor (labels), got none")
    if _argmax_mode(pred, target):
        dim = class_dim(pred)
        expected = (pred.shape[0], *pred.shape[2:]) if pred.dim() > 1 else ()
        if tuple(target.shape) != expected:
            raise InputError(f"expected target of shape {shape_text(expected)} (class indices for pred "
                             f"{shape_text(pred.shape)}, classes along dim {dim}), got target "
                             f"{shape_text(target.shape)}")
        target = require_class_indices(target, pred.shape[dim])
        top = pred.amax(dim=dim, keepdim=True)
        if bool(((pred == top).sum(dim=dim) > 1).any()):
            trace.warn("some rows have tied top scores: argmax takes the first (lowest) class index, as torch.argmax")
        return pred, target
    require_same_shape(pred, target)
    require_sign_labels(target, "target", hint=HINT_ELEMENTWISE)
    target = target.long()
    threshold = float(params["threshold"])
    if threshold == 0.5 and not within(pred, 0, 1):
        trace.warn("pred has values outside [0, 1] (scores?) but the threshold is 0.5; for scores use threshold=0")
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
        label = trace.add("ŷ", "Predicted labels (argmax over classes)", r"\hat{y}_n = \arg\max_c x_{n,c}",
                          pred.argmax(dim=dim).double(),
                          note="ties go to the first (lowest) class index, as torch.argmax")
    else:
        threshold = float(params["threshold"])
        t = fmt(threshold)
        negative = -1.0 if float(target.min()) < 0 else 0.0
        if negative < 0:
            formula = rf"\hat{{y}}_n = \begin{{cases}} +1 & f_n \ge {t} \\ -1 & \text{{otherwise}}\end{{cases}}"
            note = "targets are -1/+1, so the predicted labels are -1/+1 too"
        else:
            formula = rf"\hat{{y}}_n = \begin{{cases}} 1 & f_n \ge {t} \\ 0 & \text{{otherwise}}\end{{cases}}"
            note = ""
        label = trace.add("ŷ", "Predicted labels (threshold)", formula,
                          _threshold_labels(pred >= threshold, negative, pred.dtype),
                          note=note)
    correct = trace.add("c", "Correct?", r"c_n = \mathbf{1}[\hat{y}_n = y_n]", (label == target).double(),
                        note="1 where the predicted label equals the target")
    loss = trace.add("l", "0-1 loss", r"l_n = 1 - c_n", 1.0 - correct, sub=r"1 - $c", c=correct,
                     note="mean = error rate (1 − accuracy); sum = number of errors; how far off is ignored")
    return reduce(trace, loss, reduction)


def zero_one_reference(x: torch.Tensor, y: torch.Tensor | None, p: dict[str, Any], reduction: str) -> torch.Tensor:
    """Counting with torch ops, independent of the trace."""
    if x.dim() == y.dim() + 1:
        pred_label = x.argmax(dim=1 if x.dim() > 1 else 0)
    else:
        negative = -1 if bool((y < 0).any()) else 0
        pred_label = torch.where(x >= p["threshold"], 1, negative)
    return reduce_builtin((pred_label != y).to(x.dtype), reduction)


_REDUCE_CODE = 'l.mean() if reduction == "mean" else l.sum() if reduction == "sum" else l'

register(LossSpec(
    name="hinge", family="margin", title="Hinge loss",
    summary="The SVM loss: zero once y·f reaches the margin, linear below it.",
    formula=r"l_n = \max(0, \text{margin} - y_n f_n)", pred_kind="scores", target_kind="signs",
    params=(Param("margin", 1.0, Interval(Real, 0.0, 10.0), "the margin: y·f must reach it for zero loss"),),
    steps=hinge_steps, reference=hinge_reference, reference_name="torch.relu(margin - y*f)",
    prepare=hinge_prepare, aliases=("svm", "hinge_loss", "svm_loss"),
    example={"pred": "[0.8, -0.5, 1.5, 0.3, -2.0]", "target": "[1, -1, 1, -1, 1]", "params": {"margin": 1.0}},
    torch_code="y = torch.where(target == 0, -torch.ones_like(target), target)\n"
               "l = torch.relu(margin - y * pred)\n" + _REDUCE_CODE,
))

register(LossSpec(
    name="multi_margin", family="margin", title="Multi-class margin loss",
    summary="Multi-class hinge: every other class whose score comes within the margin of the true class costs.",
    formula=r"l_n = \frac{1}{C} \sum_{i \ne y_n} w_{y_n} \max(0, \text{margin} - x_{n,y_n} + x_{n,i})^p",
    pred_kind="scores", target_kind="classes",
    params=(Param("p", 1, Interval(Integral, 1, 2), "the exponent: 1 (hinge) or 2 (squared hinge)"),
            Param("margin", 1.0, Interval(Real, 0.0, 10.0), "the margin the true class's score must lead by"),
            Param("weight", None, Tensor(), "one weight per class, applied as w[y] (the true class's weight)")),
    steps=multi_margin_steps, reference=multi_margin_reference,
    reference_name="torch.nn.functional.multi_margin_loss", prepare=multi_margin_prepare,
    aliases=("MultiMarginLoss", "multi_class_hinge", "multiclass_hinge"), target_dtype="index",
    example={"pred": "[[0.1, 0.2, 0.4, 0.8], [0.5, -0.3, 0.2, 0.1]]", "target": "[3, 0]",
             "params": {"p": 1, "margin": 1.0}},
    torch_code="F.multi_margin_loss(pred, target, p=p, margin=margin, weight=weight, reduction=reduction)",
))

register(LossSpec(
    name="zero_one", family="margin", title="0-1 loss",
    summary="1 for a wrong predicted label, 0 for a right one: the mean is the error rate.",
    formula=r"l_n = \mathbf{1}[\hat{y}_n \ne y_n]", pred_kind="scores", target_kind="binary",
    params=(Param("threshold", 0.5, Interval(Real),
                  "predicted label 1 where pred ≥ threshold (0.5 for probabilities, 0 for scores); "
                  "(N, C) scores use argmax instead"),),
    steps=zero_one_steps, reference=zero_one_reference, reference_name="counting: (pred_label != target).float()",
    prepare=zero_one_prepare, aliases=("01", "0-1", "zero_one_loss", "error_rate", "misclassification"),
    differentiable=False, target_dtype="auto",
    example={"pred": "[0.9, 0.3, 0.6, 0.2, 0.55]", "target": "[1, 0, 0, 0, 1]", "params": {"threshold": 0.5}},
    torch_code="pred_label = (pred.argmax(dim=1 if pred.dim() > 1 else 0) if pred.dim() == target.dim() + 1\n"
               "              else torch.where(pred >= threshold, 1, -1 if bool((target < 0).any()) else 0))\n"
               "l = (pred_label != target).float()\n" + _REDUCE_CODE,
))

add_zh({
    # titles and summaries
    "Hinge loss": "Hinge 损失（合页损失）", "Multi-class margin loss": "多分类间隔损失", "0-1 loss": "0-1 损失",
    "The SVM loss: zero once y·f reaches the margin, linear below it.": "SVM 的损失：y·f 达到间隔后为零，之前线性增长。",
    "Multi-class hinge: every other class whose score comes within the margin of the true class costs.":
        "多分类 hinge：凡是得分与真实类别相差不到间隔的其他类别都会产生损失。",
    "1 for a wrong predicted label, 0 for a right one: the mean is the error rate.":
        "预测标签错误为 1，正确为 0：均值即错误率。",
    # parameter descriptions
    "the margin: y·f must reach it for zero loss": "间隔：y·f 至少达到它，损失才为零",
    "the exponent: 1 (hinge) or 2 (squared hinge)": "指数：1（hinge）或 2（平方 hinge）",
    "the margin the true class's score must lead by": "真实类别的得分需要领先的间隔",
    "one weight per class, applied as w[y] (the true class's weight)": "每个类别一个权重，按 w[y]（真实类别的权重）使用",
    "predicted label 1 where pred ≥ threshold (0.5 for probabilities, 0 for scores); (N, C) scores use argmax instead":
        "pred ≥ threshold 处预测标签为 1（概率用 0.5，得分用 0）；(N, C) 的得分改用 argmax",
    # step titles
    "Signed score y·f": "带符号的得分 y·f", "Margin minus y·f": "间隔减去 y·f", "Hinge: clamp at 0": "Hinge：在 0 处截断",
    "Score of the true class": "真实类别的得分", "Margin violations": "违反间隔的量",
    "Clamp at 0, leaving out i = y": "在 0 处截断，去掉 i = y 的项", "Power p = 2": "p = 2 次方", "Power p = 1": "p = 1 次方",
    "Weight of the true class": "真实类别的权重", "Weighted terms": "加权后的各项",
    "Sum over the other classes": "对其他类别求和", "Divide by the number of classes C": "除以类别数 C",
    "Predicted labels (argmax over classes)": "预测标签（对类别取 argmax）", "Predicted labels (threshold)": "预测标签（阈值）",
    "Correct?": "是否正确？",
    # notes
    "positive when the sign of the score is right; the larger the more confident":
        "得分符号正确时为正；越大表示越有把握",
    "zero once y·f ≥ margin; not torch's F.hinge_embedding_loss, which takes distances (x for y = 1, max(0, margin − x) for y = −1)":
        "y·f ≥ margin 时为零；这不是 torch 的 F.hinge_embedding_loss，后者的输入是距离（y = 1 时为 x，y = −1 时为 max(0, margin − x)）",
    "the term i = y_n is left out (it would always be the margin itself)": "去掉 i = y_n 这一项（它总是等于间隔本身）",
    "p = 1 leaves the terms unchanged": "p = 1 时各项不变",
    "torch multiplies by w[y] after the power (its docs put w inside the max, which would square it for p = 2); the mean still divides by N, not by Σ w":
        "torch 在乘方之后才乘以 w[y]（其文档把 w 写在 max 里面，p = 2 时会被平方）；均值仍然除以 N，而不是 Σ w",
    "ties go to the first (lowest) class index, as torch.argmax": "并列最大时取第一个（最小的）类别下标，与 torch.argmax 相同",
    "targets are -1/+1, so the predicted labels are -1/+1 too": "目标是 -1/+1，所以预测标签也取 -1/+1",
    "1 where the predicted label equals the target": "预测标签等于目标处为 1",
    "mean = error rate (1 − accuracy); sum = number of errors; how far off is ignored":
        "均值 = 错误率（1 − 准确率）；求和 = 错误个数；不考虑偏差大小",
    # warnings
    HINGE_01: "target 为 0/1 标签：已把 0 映射为 -1，使 y ∈ {-1, +1}",
    "some rows have tied top scores: argmax takes the first (lowest) class index, as torch.argmax":
        "有些行的最高得分并列：argmax 取第一个（最小的）类别下标，与 torch.argmax 相同",
    "pred has values outside [0, 1] (scores?) but the threshold is 0.5; for scores use threshold=0":
        "pred 有 [0, 1] 之外的值（是得分吗？）但阈值为 0.5；得分请用 threshold=0",
    # errors
    "hinge: expected a target tensor (labels -1/+1), got none": "hinge：期望目标张量（标签 -1/+1），实际没有",
    "multi_margin: expected a target tensor (class indices), got none": "multi_margin：期望目标张量（类别下标），实际没有",
    "zero_one: expected a target tensor (labels), got none": "zero_one：期望目标张量（标签），实际没有",
})
add_zh_patterns([
    (r"C = (\d+): torch divides by all C classes, the true class included", r"C = \1：torch 除以全部 C 个类别，包括真实类别"),
    (r"expected target of shape (\(.*\)) \(one class index per row of pred (\(.*\))\), got target (\(.*\))",
     r"期望目标形状为 \1（pred \2 的每一行一个类别下标），实际目标为 \3"),
    (r"expected a single class index for pred (\(.*\)), got target (\(.*\))", r"pred \1 需要单个类别下标，实际目标为 \2"),
    (r"expected pred scores of shape \(N, C\) or \(C,\), got (\(.*\))", r"期望 pred 得分形状为 (N, C) 或 (C,)，实际为 \1"),
    (r"expected target of shape (\(.*\)) \(class indices for pred (\(.*\)), classes along dim (\d+)\), got target (\(.*\))",
     r"期望目标形状为 \1（pred \2 的类别下标，类别在第 \3 维），实际目标为 \4"),
])
add_hint_zh(require_sign_labels, {HINT_ELEMENTWISE: "与 pred 同形状；类别下标需要 pred 多一维"})
