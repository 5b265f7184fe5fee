"""The catalogue of known wrong computations, per loss family.

Each mistake is a registered `Variant` (see `lossapp.variants`): an id, a title and an explanation (English and
中文), the step of the worked solution where it departs from the correct computation, `applies(case)` and
`compute(case) -> float | None`. A mistake that is a pure rescaling rescales the correct value (log10 for ln:
every term is a multiple of a natural log); the others run the library on transformed inputs or parameters.

`lossapp.check` lists every mistake whose value reproduces a claim to its written decimals.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from lossapp.variants import (
    Case,
    Reachable,
    Variant,
    VariantValue,
    activated,
    class_dim,
    evaluate,
    finite,
    focal_alpha,
    focal_base,
    labels_swapped,
    no_alpha,
    overlap_value,
    register,
    scalar_value,
    softmax,
)

LN10, LN2 = math.log(10.0), math.log(2.0)

MISTAKES: dict[str, Variant] = {}


def mistake(id: str, title: str, title_zh: str, explanation: str, explanation_zh: str, step: str,
            applies: Callable[[Case], bool], compute: Callable[[Case], float | None]) -> Variant:
    """Register a known mistake."""
    return register(MISTAKES, Variant(id, title, title_zh, explanation, explanation_zh, step, applies, compute))


def evaluate_mistakes(case: Case, *, include_same: bool = False,
                      reachable: Reachable | None = None) -> list[VariantValue]:
    """Every known mistake's value on this case (`include_same`, `reachable`: see `lossapp.variants.evaluate`)."""
    return evaluate(case, MISTAKES, include_same=include_same, reachable=reachable)


# -- applicability helpers ---------------------------------------------------------------------------------

COUNT_METRICS_DICE = {"dice", "f1"}


def _uses_log(case: Case) -> bool:
    """Natural-log based (LossSpec.natural_log), and pred is not already log-probabilities."""
    return case.spec.natural_log and case.param("input", "logits") != "log_probabilities"


def _log_scaled(case: Case, factor: float) -> float | None:
    """The value with every natural log replaced by log_b = ln / ln b (factor = 1 / ln b): every term of these
    losses is a natural log times factors that do not involve a log, so the whole value scales."""
    if case.spec.parts:  # a weighted sum: only its natural-log parts scale
        total = 0.0
        for part in case.spec.parts:
            v = case.step_value(part.symbol)
            if v is None:
                return None
            term = float(case.param(part.weight, 1.0)) * float(v)
            total += term * factor if part.natural_log else term
        return total
    return case.value * factor


def _declared(id: str, also: Callable[[Case], bool] = scalar_value) -> Callable[[Case], bool]:
    """Applies where the loss's spec lists this mistake as one of its own (LossSpec.mistakes) and `also` holds."""
    return lambda case: id in case.spec.mistakes and also(case)


def _has_batchmean(c: Case) -> bool:
    return "batchmean" in c.spec.reductions


def _pred_in_unit(c: Case) -> bool:
    """Every pred value in [0, 1] (from the shared range of pred)."""
    r = c.pred_range()
    return r is not None and r[0] >= 0 and r[1] <= 1


# -- generic: logs and signs -------------------------------------------------------------------------------

mistake("log10", "log base 10 instead of the natural log", "用以 10 为底的对数代替自然对数",
        "Every ln was computed as log10 (a calculator's 'log' key): the whole loss shrinks by the factor ln 10 ≈ 2.3026.",
        "把所有 ln 都算成了 log10（计算器上的 log 键）：整个损失缩小为原来的 1/ln 10 ≈ 1/2.3026。",
        "log", lambda c: _uses_log(c) and scalar_value(c), lambda c: _log_scaled(c, 1 / LN10))

mistake("log2", "log base 2 instead of the natural log", "用以 2 为底的对数代替自然对数",
        "Every ln was computed as log2 (information in bits): the whole loss grows by the factor 1/ln 2 ≈ 1.4427.",
        "把所有 ln 都算成了 log2（以比特为单位的信息量）：整个损失放大为原来的 1/ln 2 ≈ 1.4427 倍。",
        "log", lambda c: _uses_log(c) and scalar_value(c), lambda c: _log_scaled(c, 1 / LN2))

mistake("missing_minus", "Minus sign dropped", "漏掉了负号",
        "The minus in front of the log terms was dropped: the result is the correct loss with the opposite sign "
        "(a log-likelihood instead of a negative log-likelihood).",
        "对数项前面的负号被漏掉了：结果是正确损失的相反数（对数似然而不是负对数似然）。",
        "l", lambda c: _uses_log(c) and scalar_value(c), lambda c: _log_scaled(c, -1.0))


# -- reductions ----------------------------------------------------------------------------------------------

mistake("sum_instead_of_mean", "Sum instead of mean", "用求和代替了求均值",
        "The per-element losses were added up but not divided by their count (reduction='sum' instead of 'mean').",
        "把逐元素损失加起来了，却没有除以个数（用了 reduction='sum' 而不是 'mean'）。",
        "den", lambda c: c.reduction in ("mean", "batchmean") and "sum" in c.spec.reductions and scalar_value(c),
        lambda c: c.reduced_as("sum"))

mistake("mean_instead_of_sum", "Mean instead of sum", "用求均值代替了求和",
        "The per-element losses were averaged although the problem asks for their sum (reduction='mean' instead of "
        "'sum').",
        "题目要求的是逐元素损失之和，却求了平均（用了 reduction='mean' 而不是 'sum'）。",
        "den", lambda c: c.reduction == "sum" and "mean" in c.spec.reductions and scalar_value(c),
        lambda c: c.reduced_as("mean"))

mistake("mean_instead_of_batchmean", "Mean over every element instead of the batch mean",
        "对所有元素求均值而不是按批求均值",
        "KL divergence: reduction='mean' divides Σ l by every element, not by the batch size; the mean KL "
        "divergence per sample is reduction='batchmean'.",
        "KL 散度：reduction='mean' 把 Σ l 除以全部元素个数，而不是批大小；每个样本的平均 KL 散度应使用 reduction='batchmean'。",
        "den", lambda c: _has_batchmean(c) and c.reduction == "batchmean" and scalar_value(c),
        lambda c: c.reduced_as("mean"))

mistake("batchmean_instead_of_mean", "Batch mean instead of the mean over every element",
        "用按批均值代替了对所有元素的均值",
        "KL divergence: Σ l was divided by the batch size (batchmean) although the problem uses torch's "
        "reduction='mean', which divides by every element.",
        "KL 散度：把 Σ l 除以了批大小（batchmean），而题目用的是 torch 的 reduction='mean'，它除以全部元素个数。",
        "den", lambda c: _has_batchmean(c) and c.reduction == "mean" and scalar_value(c),
        lambda c: c.reduced_as("batchmean"))


# -- probabilities vs logits -----------------------------------------------------------------------------------

def _takes_logits(c: Case) -> bool:
    """pred goes through a softmax / sigmoid (LossSpec.activation), or may (an overlap loss's `activation`
    parameter), or the loss has a twin that takes logits (LossSpec.related["logits"])."""
    spec = c.spec
    return bool(spec.activation or "logits" in spec.related or spec.set_measure or spec.parts)


def _probabilities_as_logits(c: Case) -> float | None:
    spec, x = c.spec, c.pred
    if x is None:
        return None
    if "logits" in spec.related:  # the same loss on logits, run on these probabilities
        return c.run(spec.related["logits"], pred=x, weight=c.param("weight"))
    if "input" in c.params:  # its `input` parameter says what pred holds
        if c.param("input") == "probabilities":
            return c.run(input="logits")
        if c.param("input") == "logits":
            p = activated(c)
            return c.run(pred=p) if p is not None else None
        return None
    if spec.activation == "sigmoid":
        return c.run(pred=torch.sigmoid(x.double()))
    if spec.activation == "softmax":
        return c.run(pred=softmax(x, class_dim(x)))
    if spec.set_measure:
        return overlap_value(c, again=True)
    if spec.parts:
        act = c.param("activation", "none")
        if act == "none":
            return c.run(activation="sigmoid")
        p = activated(c)
        return c.run(pred=p) if p is not None else None
    return None


mistake("probabilities_as_logits", "Softmax / sigmoid applied twice", "Softmax / Sigmoid 被应用了两次",
        "Probabilities were fed in where logits are expected, so the softmax (sigmoid) was applied a second time to "
        "numbers that already were probabilities; the result is pulled toward the loss of a uniform guess.",
        "在需要 logits 的地方传入了概率，于是 softmax（sigmoid）被再次作用在已经是概率的数上；结果会被拉向均匀猜测时的损失。",
        "p", lambda c: _takes_logits(c) and scalar_value(c),
        _probabilities_as_logits)


def _activation_skippable(c: Case) -> bool:
    """The softmax / sigmoid can be left out: the loss has a twin on (log-)probabilities (LossSpec.related), an
    `input` parameter, or an overlap loss's `activation` parameter."""
    spec = c.spec
    return bool({"probabilities", "log_probabilities"} & set(spec.related) or "input" in c.params or spec.set_measure
                or spec.parts)


def _logits_as_probabilities(c: Case) -> float | None:
    spec, x = c.spec, c.pred
    if x is None or not _pred_in_unit(c):
        return None
    if "probabilities" in spec.related:  # the same loss on probabilities, run on these logits
        return c.run(spec.related["probabilities"], pred=x, weight=c.param("weight"))
    if "log_probabilities" in spec.related:  # the same loss on log-probabilities, run on the logits' logs
        if c.param("input", "logits") == "logits" and c.target is not None and not c.target.is_floating_point():
            return c.run(spec.related["log_probabilities"], pred=torch.log(x.double()), weight=c.param("weight"),
                         ignore_index=c.param("ignore_index", -100))
        return None
    if "input" in c.params:
        return c.run(input="probabilities") if c.param("input") == "logits" else None
    if (spec.set_measure or spec.parts) and c.param("activation", "none") != "none":
        if c.param("activation") == "softmax" and c.target is not None and not c.target.is_floating_point():
            return None
        return c.run(activation="none")
    return None


mistake("logits_as_probabilities", "Logits used as probabilities (no softmax / sigmoid)",
        "把 logits 当成了概率（没有做 softmax / sigmoid）",
        "The scores were used directly as probabilities: the softmax (sigmoid) that turns logits into probabilities "
        "was skipped, e.g. −log f_y instead of −log softmax(f)_y.",
        "直接把分数当成了概率：跳过了把 logits 变成概率的 softmax（sigmoid），例如算成了 −log f_y 而不是 −log softmax(f)_y。",
        "p", lambda c: _activation_skippable(c) and scalar_value(c),
        _logits_as_probabilities)



mistake("labels_swapped", "Positive and negative labels swapped", "正负标签弄反了",
        "y and 1 − y were exchanged: each term used log(1 − p) where it needed log p and vice versa.",
        "y 和 1 − y 被对调：每一项在该用 log p 的地方用了 log(1 − p)，反之亦然。",
        "l", _declared("labels_swapped"), labels_swapped)


# -- weights and ignored samples ---------------------------------------------------------------------------------

def _has_weight(c: Case) -> bool:
    return isinstance(c.param("weight"), torch.Tensor)


def _counted(c: Case) -> torch.Tensor | None:
    t = c.target
    if t is None or t.is_floating_point():
        return None
    return t != int(c.param("ignore_index", -100))


def _unweighted_mean(c: Case) -> float | None:
    counted = _counted(c)
    if counted is None or c.unreduced is None or int(counted.sum()) == 0:
        return None
    return finite(float(c.unreduced.sum()) / int(counted.sum()))


mistake("unweighted_mean", "Weighted loss divided by N instead of Σ w", "加权损失除以了 N 而不是 Σ w",
        "With class weights torch's mean divides Σ w_y·l by the total weight Σ w_y of the counted samples; dividing "
        "by the number of samples N gives a different number.",
        "有类别权重时，torch 的均值是把 Σ w_y·l 除以参与计算样本的权重之和 Σ w_y；除以样本数 N 得到的是另一个数。",
        "den", _declared("unweighted_mean", lambda c: _has_weight(c) and c.reduction == "mean"
        and scalar_value(c)), _unweighted_mean)


def _weighted_mean(c: Case) -> float | None:
    w, x = c.param("weight"), c.pred
    if c.unreduced is None or x is None:
        return None
    total = float(w.double().expand(x.shape).sum())
    return finite(float(c.unreduced.sum()) / total) if total else None


mistake("weighted_mean", "Divided by Σ w instead of n", "除以了 Σ w 而不是 n",
        "BCE's weight only rescales each element: torch's mean still divides by the number of elements n, not by "
        "the total weight Σ w (that is cross_entropy's class-weight rule).",
        "BCE 的 weight 只是逐元素缩放：torch 的均值仍然除以元素个数 n，而不是权重之和 Σ w（那是 cross_entropy 类别权重的规则）。",
        "den", _declared("weighted_mean", lambda c: _has_weight(c) and c.reduction == "mean"
        and scalar_value(c)), _weighted_mean)

mistake("weight_ignored", "Weights left out", "漏掉了权重",
        "The weight parameter was not applied: every element (class) counted with weight 1.",
        "没有使用 weight 参数：每个元素（类别）都按权重 1 计算。",
        "w", lambda c: _has_weight(c) and scalar_value(c) and c.spec.kind == "loss",
        lambda c: c.run(weight=None))


def _ignored_counted(c: Case) -> float | None:
    counted = _counted(c)
    if counted is None or c.unreduced is None or bool(counted.all()):
        return None
    return finite(float(c.unreduced.sum()) / counted.numel())


mistake("ignored_counted", "Ignored samples counted in the mean", "被忽略的样本也计入了均值",
        "Samples whose target equals ignore_index contribute 0 to the sum, and torch also leaves them out of the "
        "denominator; dividing by every sample counts them.",
        "目标等于 ignore_index 的样本对求和贡献为 0，torch 也把它们从分母中去掉；除以全部样本数就把它们算进去了。",
        "den", lambda c: "ignore_index" in c.params and not _has_weight(c)
        and c.reduction == "mean" and scalar_value(c), _ignored_counted)

mistake("label_smoothing_ignored", "Label smoothing left out", "漏掉了标签平滑",
        "label_smoothing was not applied: the hard one-hot target was used.",
        "没有应用 label_smoothing：用的是硬的 one-hot 目标。",
        "y'", _declared("label_smoothing_ignored", lambda c: float(c.param("label_smoothing", 0.0) or 0.0) > 0
        and scalar_value(c)), lambda c: c.run(label_smoothing=0.0))


# -- focal ------------------------------------------------------------------------------------------------------

def _focal_alpha_variant(c: Case, alpha_t: Callable[[torch.Tensor, float], torch.Tensor]) -> float | None:
    base = focal_base(c)
    t = c.target
    if base is None or t is None:
        return None
    return c.rereduce(alpha_t(t.double(), focal_alpha(c)) * base)


mistake("alpha_on_both_classes", "α on both classes (article 003's last formula)", "正负两类都乘了 α（文章 003 最后一个公式）",
        "α multiplied the negatives too (−α·q^γ·log(1 − q) for p = 0), as in article 003's last focal formula; "
        "the negatives need 1 − α.",
        "负样本也乘了 α（p = 0 时写成 −α·q^γ·log(1 − q)），就像文章 003 最后一个 focal 公式那样；负样本应乘 1 − α。",
        "alpha_t", _declared("alpha_on_both_classes", lambda c: focal_alpha(c) >= 0 and scalar_value(c)),
        lambda c: _focal_alpha_variant(c, lambda t, a: torch.full_like(t, a)))

mistake("alpha_swapped", "α and 1 − α swapped", "α 与 1 − α 用反了",
        "The positives got 1 − α and the negatives α (α weighs the positives in RetinaNet / torchvision).",
        "正样本用了 1 − α，负样本用了 α（在 RetinaNet / torchvision 中 α 加在正样本上）。",
        "alpha_t", _declared("alpha_swapped", lambda c: focal_alpha(c) >= 0 and scalar_value(c)),
        lambda c: _focal_alpha_variant(c, lambda t, a: (1 - a) * t + a * (1 - t)))


def _alpha_on(c: Case) -> bool:
    """A focal loss (LossSpec.focal) with α on: per class, or a scalar that is not negative."""
    a = c.param("alpha")
    return c.spec.focal and (isinstance(a, torch.Tensor) or (a is not None and float(a) >= 0))


mistake("no_alpha", "α left out", "漏掉了 α",
        "The class-balancing factor α_t was not applied (α_t = 1).",
        "没有乘类别平衡因子 α_t（相当于 α_t = 1）。",
        "alpha_t", lambda c: _alpha_on(c) and scalar_value(c), no_alpha)

mistake("no_modulating_factor", "Modulating factor (1 − p_t)^γ left out", "漏掉了调制因子 (1 − p_t)^γ",
        "The focusing term (1 − p_t)^γ was not applied (γ = 0): what remains is the α-balanced cross-entropy.",
        "没有乘聚焦项 (1 − p_t)^γ（相当于 γ = 0）：剩下的是带 α 平衡的交叉熵。",
        "(1-p_t)^gamma", lambda c: c.spec.focal
        and float(c.param("gamma", 0.0)) != 0 and scalar_value(c), lambda c: c.run(gamma=0.0))


# -- overlap (Dice / IoU / Tversky) ----------------------------------------------------------------------------

def _measures(c: Case, measure: str) -> bool:
    """An overlap set loss of this coefficient (LossSpec.set_measure)."""
    return c.spec.set_measure == measure


def _counts(c: Case) -> bool:
    """Metrics from confusion counts (a spec of kind "metric")."""
    return c.spec.kind == "metric"


def _coefficient_value(c: Case) -> float | None:
    u = c.unreduced
    if u is None:
        return None
    return c.rereduce(1.0 - u)


mistake("dice_coefficient_not_loss", "Dice coefficient instead of the Dice loss", "给出了 Dice 系数而不是 Dice 损失",
        "The answer is the Dice coefficient D; the Dice loss is 1 − D.",
        "答案是 Dice 系数 D；Dice 损失是 1 − D。",
        "l", lambda c: (_measures(c, "dice") and scalar_value(c)) or (_counts(c) and c.param("metric") == "dice_loss"),
        lambda c: _metric(c, "dice") if _counts(c) else _coefficient_value(c))

mistake("iou_coefficient_not_loss", "IoU instead of the IoU loss", "给出了 IoU 而不是 IoU 损失",
        "The answer is the IoU (Jaccard index) J; the IoU loss is 1 − J.",
        "答案是 IoU（Jaccard 指数）J；IoU 损失是 1 − J。",
        "l", lambda c: _measures(c, "iou") and scalar_value(c), _coefficient_value)

mistake("tversky_index_not_loss", "Tversky index instead of the Tversky loss", "给出了 Tversky 指数而不是 Tversky 损失",
        "The answer is the Tversky index T; the Tversky loss is 1 − T.",
        "答案是 Tversky 指数 T；Tversky 损失是 1 − T。",
        "l", lambda c: _measures(c, "tversky") and scalar_value(c), _coefficient_value)


def _metric(c: Case, key: str) -> float | None:
    metrics = c.result.extra.get("metrics", {})
    value = metrics.get(key)
    return None if value is None else finite(float(value))


def _iou_instead_of_dice(c: Case) -> float | None:
    if _counts(c):
        metric = c.param("metric")
        iou = _metric(c, "iou")
        if iou is None:
            return None
        return 1 - iou if metric == "dice_loss" else iou
    return overlap_value(c, "iou")


mistake("iou_instead_of_dice", "IoU instead of Dice", "用 IoU 代替了 Dice",
        "IoU = |X∩Y| / |X∪Y| was computed instead of Dice = 2|X∩Y| / (|X| + |Y|); for 0/1 masks IoU = D/(2 − D) < D.",
        "算成了 IoU = |X∩Y| / |X∪Y|，而不是 Dice = 2|X∩Y| / (|X| + |Y|)；对 0/1 掩码有 IoU = D/(2 − D) < D。",
        "D", lambda c: (_measures(c, "dice") and scalar_value(c))
        or (_counts(c) and c.param("metric") in ("dice", "f1", "dice_loss")), _iou_instead_of_dice)


def _dice_instead_of_iou(c: Case) -> float | None:
    if _counts(c):
        return _metric(c, "dice")
    return overlap_value(c, "dice")


mistake("dice_instead_of_iou", "Dice instead of IoU", "用 Dice 代替了 IoU",
        "Dice = 2|X∩Y| / (|X| + |Y|) was computed instead of IoU = |X∩Y| / |X∪Y|.",
        "算成了 Dice = 2|X∩Y| / (|X| + |Y|)，而不是 IoU = |X∩Y| / |X∪Y|。",
        "J", lambda c: (_measures(c, "iou") and scalar_value(c)) or (_counts(c) and c.param("metric") == "iou"),
        _dice_instead_of_iou)


# -- confusion metrics --------------------------------------------------------------------------------------------

mistake("dice_loss_not_coefficient", "Dice loss instead of the Dice coefficient", "给出了 Dice 损失而不是 Dice 系数",
        "The answer is 1 − Dice (the loss) where the Dice coefficient (= F1) was asked for.",
        "题目要的是 Dice 系数（= F1），答案却是 1 − Dice（损失）。",
        "F1", lambda c: _counts(c) and c.param("metric") in COUNT_METRICS_DICE,
        lambda c: _metric(c, "dice_loss"))

mistake("precision_recall_swapped", "Precision and recall swapped", "精确率和召回率弄反了",
        "Precision is TP/(TP + FP) (of the predicted positives) and recall TP/(TP + FN) (of the true positives); "
        "the answer is the other one.",
        "精确率是 TP/(TP + FP)（针对预测为正的样本），召回率是 TP/(TP + FN)（针对真实为正的样本）；答案给出的是另一个。",
        "P", lambda c: _counts(c) and c.param("metric") in ("precision", "recall"),
        lambda c: _metric(c, "recall" if c.param("metric") == "precision" else "precision"))

mistake("accuracy_instead_of_metric", "Accuracy instead of the asked metric", "用准确率代替了所求指标",
        "The answer is the accuracy (TP + TN)/total, which counts the true negatives; the asked metric does not.",
        "答案是准确率 (TP + TN)/总数，它把真负例也算进去了；所求指标并不计入真负例。",
        "Acc", lambda c: _counts(c) and c.param("metric") != "accuracy",
        lambda c: _metric(c, "accuracy"))


# -- regression ------------------------------------------------------------------------------------------------------

def _rmse_mse_swapped(c: Case) -> float | None:
    """RMSE = √(reduced MSE): the MSE's value gives the RMSE, and the RMSE's own Σ d² / den gives the MSE
    (LossSpec.related: "root" of the MSE, "root_of" of the RMSE)."""
    root_of = c.spec.related.get("root_of")
    if root_of is None and c.plain and c.value >= 0:
        return math.sqrt(c.value)
    if root_of is not None and c.total is not None and c.denominator():
        return finite(c.total / c.denominator())
    return c.run(root_of or c.spec.related["root"])


def _other_power(c: Case, power: str) -> float | None:
    """The mean (sum) of |d| from this loss's d² terms or of d² from its |d| terms: the other loss (its
    LossSpec.related "absolute" or "squared"), same divisor."""
    u = c.unreduced
    if u is None or c.denominator() is None or ("root_of" not in c.spec.related and not c.plain):
        return c.run(c.spec.related[power])
    return c.rereduce(u.sqrt() if power == "absolute" else u.square())


mistake("rmse_mse_swapped", "RMSE and MSE swapped", "RMSE 与 MSE 弄混了",
        "RMSE is the square root of the MSE: the answer is the other one of the two.",
        "RMSE 是 MSE 的平方根：答案给出的是两者中的另一个。",
        "rmse", _declared("rmse_mse_swapped"), _rmse_mse_swapped)

mistake("rmse_as_mean_of_roots", "RMSE as the mean of per-element roots", "把 RMSE 算成了逐元素平方根的均值",
        "√ was taken per element before averaging, which gives the mean absolute error; RMSE is the root of the "
        "mean of the squares.",
        "在求平均之前就对每个元素开了平方根，这得到的是平均绝对误差；RMSE 是平方均值的平方根。",
        "rmse", _declared("rmse_as_mean_of_roots"), lambda c: _other_power(c, "absolute"))

mistake("l1_mse_swapped", "Absolute and squared error swapped", "绝对误差与平方误差弄混了",
        "The L1 loss uses |ŷ − y| and the MSE (ŷ − y)²: the answer uses the other one.",
        "L1 损失用 |ŷ − y|，MSE 用 (ŷ − y)²：答案用了另一个。",
        "l", _declared("l1_mse_swapped"),
        lambda c: _other_power(c, "squared" if "squared" in c.spec.related else "absolute"))

mistake("half_mse", "Half the squared error", "平方误差多乘了 1/2",
        "The squared error was written as ½(ŷ − y)² (the form used in derivations, whose derivative is ŷ − y); "
        "torch's MSE has no ½.",
        "平方误差写成了 ½(ŷ − y)²（推导中常用，它的导数是 ŷ − y）；torch 的 MSE 没有 ½。",
        "l", _declared("half_mse"), lambda c: c.value / 2)

mistake("smooth_l1_without_beta", "Smooth L1 with β = 1 (β left out)", "Smooth L1 漏掉了 β（按 β = 1 计算）",
        "The textbook formula 0.5·d² if |d| < 1 else |d| − 0.5 was used, without β; with β it is 0.5·d²/β if "
        "|d| < β else |d| − 0.5·β.",
        "用了教科书公式 |d| < 1 时 0.5·d²、否则 |d| − 0.5，没有 β；带 β 时应为 |d| < β 时 0.5·d²/β、否则 |d| − 0.5·β。",
        "l", _declared("smooth_l1_without_beta", lambda c: float(c.param("beta", 1.0)) != 1.0 and scalar_value(c)),
        lambda c: c.run(beta=1.0))

def _rescaled(c: Case) -> float | None:
    """Smooth L1 (β) as Huber with δ = β, or Huber (δ) as smooth L1 with β = δ (LossSpec.related["rescaled"])."""
    other = c.spec.related["rescaled"]
    if "beta" in c.params:
        return c.run(other, delta=max(float(c.param("beta", 1.0)), 1e-6))
    return c.run(other, beta=float(c.param("delta", 1.0)))


mistake("smooth_l1_huber_swapped", "Smooth L1 and Huber swapped", "Smooth L1 与 Huber 弄混了",
        "Huber(δ) = δ · SmoothL1(β = δ): the two differ by the factor δ in both branches (0.5·d² vs 0.5·d²/β).",
        "Huber(δ) = δ · SmoothL1(β = δ)：两者在两个分支上都相差因子 δ（0.5·d² 对 0.5·d²/β）。",
        "l", _declared("smooth_l1_huber_swapped"), _rescaled)


# -- KL divergence --------------------------------------------------------------------------------------------------

def _kl_swapped(c: Case) -> float | None:
    x, t = c.pred, c.target
    if x is None or t is None:
        return None
    if c.param("log_target"):
        return c.run(pred=t.double(), target=x.double())
    if bool((t <= 0).any()):
        return None  # log 0: KL(q‖p) is infinite where p = 0 < q
    return c.run(pred=torch.log(t.double()), target=torch.exp(x.double()))


mistake("kl_direction_swapped", "KL direction swapped: KL(q‖p) instead of KL(p‖q)", "KL 方向弄反了：算成了 KL(q‖p)",
        "KL divergence is not symmetric: torch's kl_div(log q, p) is KL(p‖q) = Σ p(log p − log q); the answer is "
        "Σ q(log q − log p).",
        "KL 散度不对称：torch 的 kl_div(log q, p) 是 KL(p‖q) = Σ p(log p − log q)；答案算的是 Σ q(log q − log p)。",
        "l", _declared("kl_direction_swapped"), _kl_swapped)


# -- margin ----------------------------------------------------------------------------------------------------------

def _hinge_01(c: Case) -> float | None:
    t = c.target
    if t is None:
        return None
    return c.run(target=(t.double() + 1) / 2, prepare=False)


mistake("labels_01_not_mapped", "0/1 labels used in the hinge without mapping to −1/+1", "合页损失中 0/1 标签没有映射成 −1/+1",
        "The hinge max(0, margin − y·f) needs y = ±1; with y = 0 for the negatives their term is the margin itself "
        "whatever the score.",
        "合页损失 max(0, margin − y·f) 需要 y = ±1；负样本若用 y = 0，它的项不论分数多少都等于 margin。",
        "yf", _declared("labels_01_not_mapped"), _hinge_01)


def _multi_margin_scaled(c: Case, extra: bool) -> float | None:
    u, x, t = c.unreduced, c.pred, c.target
    if u is None or x is None or t is None:
        return None
    classes = x.shape[-1]
    if not extra:
        return c.rereduce(u * classes)
    p, margin = int(c.param("p", 1)), float(c.param("margin", 1.0))
    w = c.param("weight")
    wy = w.double()[t.reshape(-1).long()].reshape(u.shape) if isinstance(w, torch.Tensor) else 1.0
    return c.rereduce(u + wy * max(margin, 0.0) ** p / classes)


mistake("multi_margin_not_divided_by_C", "Multi-margin sum not divided by C", "多类间隔损失的和没有除以 C",
        "torch's multi_margin_loss divides each sample's sum over the other classes by the number of classes C.",
        "torch 的 multi_margin_loss 会把每个样本对其他类别的求和除以类别数 C。",
        "l", _declared("multi_margin_not_divided_by_C"), lambda c: _multi_margin_scaled(c, extra=False))

mistake("multi_margin_target_included", "True class included in the multi-margin sum", "多类间隔损失的求和包含了真实类别",
        "The sum runs over i ≠ y; including i = y adds max(0, margin)^p / C per sample.",
        "求和应只对 i ≠ y；把 i = y 也算进去会让每个样本多出 max(0, margin)^p / C。",
        "h", _declared("multi_margin_target_included"), lambda c: _multi_margin_scaled(c, extra=True))

mistake("accuracy_instead_of_error", "Accuracy instead of the error rate", "给出了准确率而不是错误率",
        "The mean 0-1 loss is the error rate; the answer is the accuracy 1 − error rate.",
        "0-1 损失的均值是错误率；答案给出的是准确率 = 1 − 错误率。",
        "l", _declared("accuracy_instead_of_error", lambda c: c.reduction == "mean" and scalar_value(c)),
        lambda c: 1.0 - c.value)


# -- penalties ---------------------------------------------------------------------------------------------------------

mistake("l2_penalty_without_half", "L2 penalty without the ½", "L2 惩罚漏掉了 ½",
        "λ·Σw² was computed; the penalty whose gradient is SGD's weight_decay step λ·w is (λ/2)·Σw².",
        "算成了 λ·Σw²；梯度等于 SGD weight_decay 步长 λ·w 的惩罚项是 (λ/2)·Σw²。",
        "l", _declared("l2_penalty_without_half"), lambda c: 2 * c.value)


def _l2_norm(c: Case) -> float | None:
    x = c.pred
    if x is None or c.reduction != "sum":
        return None
    return float(c.param("lam", 0.01)) * float(torch.sqrt((x.double() ** 2).sum()))


mistake("l2_norm_not_squared", "The L2 norm instead of its square", "用了 L2 范数而不是它的平方",
        "λ·‖w‖₂ was computed; the L2 penalty uses the squared norm (λ/2)·‖w‖₂² = (λ/2)·Σw².",
        "算成了 λ·‖w‖₂；L2 惩罚用的是范数的平方 (λ/2)·‖w‖₂² = (λ/2)·Σw²。",
        "||w||_2^2", _declared("l2_norm_not_squared"), _l2_norm)

mistake("penalty_without_lambda", "λ left out of the penalty", "惩罚项漏掉了 λ",
        "The norm was computed but not multiplied by λ.",
        "只算了范数，没有乘 λ。",
        "l", _declared("penalty_without_lambda", lambda c: float(c.param("lam", 0.0)) not in (0.0, 1.0)
        and scalar_value(c)), lambda c: c.value / float(c.param("lam")))


# -- truncated CE ------------------------------------------------------------------------------------------------------

mistake("no_truncation", "Truncation left out (plain cross-entropy)", "漏掉了截断（算成了普通交叉熵）",
        "Every element was counted: the truncation factor λ (hard) or σ(∓Kx) (soft) that drops well-classified "
        "samples was not applied.",
        "所有元素都被计入了：没有应用去掉已分类良好样本的截断因子 λ（硬截断）或 σ(∓Kx)（软截断）。",
        "lambda", _declared("no_truncation"), lambda c: c.run(c.spec.related["untruncated"]))

