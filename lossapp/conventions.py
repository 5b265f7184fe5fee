"""The same problem under other libraries' conventions.

Each convention is a registered `Variant` (see `lossapp.variants`) with the library it comes from:

- Keras 3 (`keras.losses.binary_crossentropy` / `categorical_crossentropy`, `BinaryFocalCrossentropy`):
  probabilities clipped to [1e-7, 1 − 1e-7] (categorical: rows renormalised first); binary label smoothing
  pulls the targets toward 0.5: y(1 − ε) + ε/2; BinaryFocalCrossentropy has no α unless
  apply_class_balancing=True; KLDivergence clips both distributions to [1e-7, 1] and averages per sample.
- tf.keras 2 (`tf.keras.backend.binary_crossentropy`): clipping plus ε = 1e-7 inside the logs.
- scikit-learn `log_loss`: probabilities clipped to [eps, 1 − eps] with eps the dtype's machine epsilon
  (scikit-learn ≥ 1.3, float64: 2.2e-16); before 1.3 the default eps was 1e-15; multi-class rows are
  renormalised.
- PyTorch before 0.4.1 (THNN's BCECriterion): −[y log(p + 1e-12) + (1 − y) log(1 − p + 1e-12)].
- MONAI `DiceLoss` (smooth_nr = smooth_dr = 1e-5), the common Kaggle/Keras Dice with smooth = 1,
  segmentation_models_pytorch (smooth = 0, the batch pooled into one set per class), and per-image vs
  batch sets (MONAI's batch=False/True).
- Label smoothing ε/(C − 1) on the other classes (1 − ε on the true one) instead of torch's ε/C everywhere.
- scipy `rel_entr(p, q).sum()`: the total KL divergence (no mean over the batch).

`table(loss, pred, target, reduction, **params)` gives the value under each convention that applies,
without any claim; `lossapp.check` gives the verdict `convention` when one reproduces a claim.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from lossapp.i18n import add_zh
from lossapp.result import Result
from lossapp.variants import (
    Case,
    Reachable,
    Variant,
    VariantValue,
    evaluate,
    labels_swapped,
    no_alpha,
    overlap_value,
    register,
    scalar_value,
)

CONVENTIONS: dict[str, Variant] = {}

KERAS_EPS = 1e-7
SKLEARN_EPS = float(torch.finfo(torch.float64).eps)
SKLEARN_OLD_EPS = 1e-15
OLD_TORCH_EPS = 1e-12
KERAS_SMOOTHING = 0.1  # the binary label smoothing evaluated for the table (Keras' documented example value)


def convention(id: str, library: str, library_zh: str, title: str, title_zh: str, explanation: str,
               explanation_zh: str, step: str, applies: Callable[[Case], bool],
               compute: Callable[[Case], float | None],
               bound: Callable[[Case], tuple[float, float] | None] | None = None) -> Variant:
    """Register another library's convention (`bound`: see `Variant`)."""
    return register(CONVENTIONS, Variant(id, title, title_zh, explanation, explanation_zh, step, applies, compute,
                                          library, library_zh, bound))


def _declared(id: str, also: Callable[[Case], bool] = scalar_value) -> Callable[[Case], bool]:
    """Applies where the loss's spec lists this convention as one of its own (LossSpec.conventions) and `also`
    holds."""
    return lambda case: id in case.spec.conventions and also(case)


def _probabilities(c: Case) -> torch.Tensor | None:
    """The probabilities the convention clips: pred itself where the loss takes probabilities (its pred kind, or
    its `input` parameter)."""
    x = c.pred
    if x is None or not x.is_floating_point():
        return None
    if c.param("input", c.spec.pred_kind) == "probabilities":
        return x.double()
    return None


def _clip(p: torch.Tensor, eps: float) -> torch.Tensor:
    return p.clamp(eps, 1.0 - eps)


def _mean_over_samples(c: Case, per_sample: torch.Tensor) -> float | None:
    if c.reduction == "sum":
        return float(per_sample.sum())
    if c.reduction in ("mean", "batchmean"):
        return float(per_sample.mean()) if per_sample.numel() else None
    return None


def _categorical(c: Case, eps: float, renormalise_first: bool) -> float | None:
    """−Σ t log q per sample with q the clipped (and renormalised) probabilities, class-index or probability
    targets, no weights; mean over the samples."""
    p, t = c.pred, c.target
    if p is None or t is None or c.param("weight") is not None or float(c.param("label_smoothing", 0) or 0):
        return None
    cd = 0 if p.dim() == 1 else 1
    q = p.double()
    if renormalise_first:
        q = _clip(q / q.sum(cd, keepdim=True), eps)
    else:
        q = _clip(q, eps)
        q = q / q.sum(cd, keepdim=True)
    logq = torch.log(q)
    if t.is_floating_point():
        per_sample = -(t.double() * logq).sum(cd)
    else:
        ignore = int(c.param("ignore_index", -100))
        keep = t != ignore
        safe = torch.where(keep, t, torch.zeros_like(t))
        picked = -logq.gather(cd, safe.unsqueeze(cd)).squeeze(cd)
        per_sample = picked[keep] if picked.dim() else (picked if bool(keep) else picked[:0])
    return _mean_over_samples(c, per_sample.reshape(-1))


def _clipped_run(c: Case, eps: float) -> float | None:
    p = _probabilities(c)
    if p is None:
        return None
    if c.spec.class_dim:
        return _categorical(c, eps, renormalise_first=True)
    return c.run(pred=_clip(p, eps))


def _needs_clip(c: Case, eps: float) -> bool:
    r = c.pred_range() if _probabilities(c) is not None else None
    return r is not None and (r[0] < eps or r[1] > 1 - eps) and scalar_value(c)


convention("keras_clip", "Keras", "Keras", "Keras: probabilities clipped to [1e-7, 1 − 1e-7]",
           "Keras：概率被截断到 [1e-7, 1 − 1e-7]",
           "Keras clips probabilities to [ε, 1 − ε] with ε = 1e-7 before the log (categorical cross-entropy "
           "renormalises each row first); torch takes the log as it is (BCE clamps it at −100), so answers differ where "
           "p is 0 or 1.",
           "Keras 在取对数前把概率截断到 [ε, 1 − ε]，ε = 1e-7（类别交叉熵会先把每行归一化）；torch 直接取对数（BCE 把它截断在 −100），"
           "因此在 p 为 0 或 1 的地方结果不同。",
           "log p", _declared("keras_clip", lambda c: _needs_clip(c, KERAS_EPS)), lambda c: _clipped_run(c, KERAS_EPS))


def _bce_eps_inside_logs(c: Case, eps: float, clip: bool) -> float | None:
    """BCE with eps added inside both logs (−[y log(p + eps) + (1 − y) log(1 − p + eps)]), p first clipped to
    [eps, 1 − eps] when `clip`, weighted as torch's BCE."""
    p, t = _probabilities(c), c.target
    if p is None or t is None:
        return None
    q = _clip(p, eps) if clip else p
    t = t.double()
    terms = -(t * torch.log(q + eps) + (1 - t) * torch.log(1 - q + eps))
    w = c.param("weight")
    if isinstance(w, torch.Tensor):
        terms = terms * w.double()
    return _mean_over_samples(c, terms.reshape(-1))


def _tf_keras_bce(c: Case) -> float | None:
    return _bce_eps_inside_logs(c, KERAS_EPS, clip=True)


def _eps_inside_logs_bound(c: Case, eps: float, clip: bool) -> tuple[float, float] | None:
    """Where every p lies in [δ, 1 − δ] (no clipping, no −100 clamp) and no weight is given, each term of the
    eps-inside-the-logs BCE exceeds torch's by log(1 + eps/p) or log(1 + eps/(1 − p)), so by at most eps/δ; the
    value moves by at most as much (a mean; n·eps/δ for a sum), plus float rounding of a sum of ≥ 0 terms."""
    r, den = c.pred_range(), c.denominator()
    if c.param("weight") is not None or r is None or den is None or den <= 0 or c.unreduced is None:
        return None
    delta = min(r[0], 1.0 - r[1])
    if delta < (eps if clip else 1e-30):
        return None
    spread = eps / delta * c.unreduced.numel() / den
    slack = 1e-7 * (abs(c.value) + spread) + 1e-300
    return c.value - spread - slack, c.value + spread + slack


convention("tf_keras_epsilon", "tf.keras 2", "tf.keras 2", "tf.keras 2: clipping plus 1e-7 inside the logs",
           "tf.keras 2：截断并在对数内加 1e-7",
           "tf.keras.backend.binary_crossentropy (TensorFlow 2 / Keras 2) clips p to [1e-7, 1 − 1e-7] and then "
           "computes log(p + 1e-7) and log(1 − p + 1e-7): every term shifts slightly (about 1e-7 / p).",
           "tf.keras.backend.binary_crossentropy（TensorFlow 2 / Keras 2）先把 p 截断到 [1e-7, 1 − 1e-7]，再计算 "
           "log(p + 1e-7) 和 log(1 − p + 1e-7)：每一项都有微小偏移（约 1e-7 / p）。",
           "log p", _declared("tf_keras_epsilon"), _tf_keras_bce,
           bound=lambda c: _eps_inside_logs_bound(c, KERAS_EPS, clip=True))


def _binary_smoothed(c: Case) -> float | None:
    t = c.target
    if t is None or not t.is_floating_point():
        return None
    eps = KERAS_SMOOTHING
    if c.spec.affine_in_target:
        # y(1 − ε) + ε/2 = (1 − ε/2)·y + (ε/2)·(1 − y), and the loss is affine in y with the same denominator:
        # the value is the same mix of the value and the value with the labels swapped (a shared run)
        swapped = labels_swapped(c)
        if swapped is not None and math.isfinite(c.value):
            return (1 - eps / 2) * c.value + eps / 2 * swapped
    return c.run(target=t.double() * (1 - eps) + 0.5 * eps)


convention("keras_label_smoothing", "Keras", "Keras",
           "Keras: binary label smoothing toward 0.5 (ε = 0.1)", "Keras：二分类标签平滑趋向 0.5（ε = 0.1）",
           "Keras' BinaryCrossentropy(label_smoothing=ε) replaces each target y by y(1 − ε) + ε/2 (toward 0.5); "
           "torch's BCE has no label smoothing. Shown for ε = 0.1.",
           "Keras 的 BinaryCrossentropy(label_smoothing=ε) 把每个目标 y 换成 y(1 − ε) + ε/2（趋向 0.5）；torch 的 BCE "
           "没有标签平滑。这里按 ε = 0.1 计算。",
           "y", _declared("keras_label_smoothing"), _binary_smoothed)


def _sklearn(c: Case, eps: float) -> float | None:
    p = _probabilities(c)
    if p is None or c.param("weight") is not None:
        return None
    if c.spec.class_dim:
        return _categorical(c, eps, renormalise_first=False)
    return c.run(pred=_clip(p, eps))


convention("sklearn_log_loss", "scikit-learn", "scikit-learn",
           "scikit-learn log_loss: clipped to the machine epsilon", "scikit-learn log_loss：截断到机器精度 eps",
           "sklearn.metrics.log_loss clips probabilities to [eps, 1 − eps] with eps = the dtype's machine epsilon "
           "(2.2e-16 for float64, scikit-learn ≥ 1.3) and renormalises multi-class rows; torch clamps the log at −100.",
           "sklearn.metrics.log_loss 把概率截断到 [eps, 1 − eps]，eps 为数据类型的机器精度（float64 为 2.2e-16，"
           "scikit-learn ≥ 1.3），并把多类的行重新归一化；torch 则把对数截断在 −100。",
           "log p", _declared("sklearn_log_loss", lambda c: _needs_clip(c, SKLEARN_EPS)),
           lambda c: _sklearn(c, SKLEARN_EPS))

convention("sklearn_log_loss_1e-15", "scikit-learn < 1.3", "scikit-learn < 1.3",
           "scikit-learn < 1.3 log_loss: clipped with eps = 1e-15", "scikit-learn < 1.3 的 log_loss：eps = 1e-15 截断",
           "Before version 1.3 sklearn.metrics.log_loss clipped probabilities to [1e-15, 1 − 1e-15].",
           "1.3 版之前 sklearn.metrics.log_loss 把概率截断到 [1e-15, 1 − 1e-15]。",
           "log p", _declared("sklearn_log_loss_1e-15", lambda c: _needs_clip(c, SKLEARN_OLD_EPS)),
           lambda c: _sklearn(c, SKLEARN_OLD_EPS))


def _old_torch_bce(c: Case) -> float | None:
    return _bce_eps_inside_logs(c, OLD_TORCH_EPS, clip=False)


convention("old_torch_bce", "PyTorch < 0.4.1", "PyTorch < 0.4.1", "Old PyTorch BCE: eps = 1e-12 inside the logs",
           "旧版 PyTorch BCE：对数内加 eps = 1e-12",
           "PyTorch before 0.4.1 (THNN's BCECriterion) computed −[y log(p + 1e-12) + (1 − y) log(1 − p + 1e-12)] "
           "instead of clamping each log at −100: a wrong label with p = 0 or 1 costs about 27.6, not 100.",
           "0.4.1 之前的 PyTorch（THNN 的 BCECriterion）计算 −[y log(p + 1e-12) + (1 − y) log(1 − p + 1e-12)]，"
           "而不是把每个对数截断在 −100：p 为 0 或 1 且标签错误时代价约为 27.6，而不是 100。",
           "log p", _declared("old_torch_bce"), _old_torch_bce,
           bound=lambda c: _eps_inside_logs_bound(c, OLD_TORCH_EPS, clip=False))


# -- focal -----------------------------------------------------------------------------------------------------------

convention("keras_focal_no_alpha", "Keras", "Keras", "Keras BinaryFocalCrossentropy defaults: no α",
           "Keras BinaryFocalCrossentropy 默认：不使用 α",
           "keras.losses.BinaryFocalCrossentropy applies α only with apply_class_balancing=True (default False), so "
           "its default focal loss is (1 − p_t)^γ·ce without α_t.",
           "keras.losses.BinaryFocalCrossentropy 只有在 apply_class_balancing=True（默认 False）时才使用 α，"
           "所以它默认的 focal 损失是不带 α_t 的 (1 − p_t)^γ·ce。",
           "alpha_t", _declared("keras_focal_no_alpha", lambda c: float(c.param("alpha", 0.25)) >= 0 and scalar_value(c)),
           no_alpha)


# -- label smoothing ----------------------------------------------------------------------------------------------------

def _smoothing_other_classes(c: Case) -> float | None:
    x, t = c.pred, c.target
    eps = float(c.param("label_smoothing", 0.0) or 0.0)
    if x is None or t is None or t.is_floating_point() or c.param("weight") is not None:
        return None
    if bool((t == int(c.param("ignore_index", -100))).any()):
        return None
    cd = 0 if x.dim() == 1 else 1
    classes = x.shape[cd]
    if classes < 2:
        return None
    onehot = torch.nn.functional.one_hot(t.long(), classes).double().movedim(-1, cd) if x.dim() > 1 \
        else torch.nn.functional.one_hot(t.long(), classes).double()
    soft = onehot * (1 - eps) + (1 - onehot) * (eps / (classes - 1))
    return c.run(target=soft, label_smoothing=0.0)


convention("label_smoothing_other_classes", "ε/(C − 1) label smoothing", "ε/(C − 1) 标签平滑",
           "Label smoothing ε/(C − 1) on the other classes", "标签平滑：其余类别各分 ε/(C − 1)",
           "Some implementations (and textbooks) give the true class 1 − ε and spread ε over the other C − 1 classes "
           "(ε/(C − 1) each); torch (and Keras) mix with the uniform distribution: 1 − ε + ε/C and ε/C.",
           "有些实现（和教材）给真实类别 1 − ε，把 ε 平分给其余 C − 1 个类别（各 ε/(C − 1)）；torch（和 Keras）"
           "与均匀分布混合：真实类别 1 − ε + ε/C，其余各 ε/C。",
           "y'", _declared("label_smoothing_other_classes", lambda c: float(c.param("label_smoothing", 0.0) or 0.0) > 0
           and scalar_value(c)), _smoothing_other_classes)


# -- overlap ----------------------------------------------------------------------------------------------------------

def _overlap(c: Case) -> bool:
    """An overlap set loss (LossSpec.set_measure)."""
    return c.spec.set_measure is not None and scalar_value(c)


convention("monai_smoothing", "MONAI", "MONAI", "MONAI: smooth_nr = smooth_dr = 1e-5",
           "MONAI：分子与分母的平滑项 smooth_nr = smooth_dr = 1e-5",
           "MONAI's DiceLoss (and its Jaccard / Tversky variants) adds 1e-5 to the numerator and the denominator "
           "(smooth_nr, smooth_dr) instead of this problem's ε.",
           "MONAI 的 DiceLoss（及其 Jaccard / Tversky 变体）在分子和分母上各加 1e-5（smooth_nr、smooth_dr），"
           "而不是本题的 ε。",
           "D", lambda c: _overlap(c) and float(c.param("eps", 0.0)) != 1e-5, lambda c: overlap_value(c, eps=1e-5))

convention("smooth_1", "Keras / Kaggle Dice", "Keras / Kaggle Dice", "Dice with smooth = 1",
           "smooth = 1 的 Dice",
           "The widespread Keras/Kaggle soft Dice adds smooth = 1 to the numerator and the denominator: "
           "(2|X∩Y| + 1) / (|X| + |Y| + 1), which matters for small masks.",
           "广泛使用的 Keras/Kaggle soft Dice 在分子和分母上各加 smooth = 1：(2|X∩Y| + 1) / (|X| + |Y| + 1)，"
           "对小掩码影响明显。",
           "D", lambda c: _overlap(c) and float(c.param("eps", 0.0)) != 1.0, lambda c: overlap_value(c, eps=1.0))

convention("smp_batch_sets", "segmentation_models_pytorch", "segmentation_models_pytorch",
           "segmentation_models_pytorch: smooth = 0, the batch pooled per class",
           "segmentation_models_pytorch：smooth = 0，整个批次按类别合并",
           "segmentation_models_pytorch's DiceLoss / JaccardLoss use smooth = 0 (eps = 1e-7 only guards the "
           "denominator) and sum over the whole batch, one set per class, before the ratio.",
           "segmentation_models_pytorch 的 DiceLoss / JaccardLoss 使用 smooth = 0（eps = 1e-7 只保护分母），"
           "并在求比值前对整个批次求和，每个类别一个集合。",
           "|X∩Y|", lambda c: _overlap(c) and (bool(c.param("per_sample", True)) or float(c.param("eps", 0.0)) != 0),
           lambda c: overlap_value(c, eps=0.0, per_sample=False))

convention("sets_per_image_vs_batch", "MONAI batch=True / per image", "MONAI batch=True / 逐图像",
           "Per-image sets vs one set for the whole batch", "逐图像集合与整批一个集合",
           "Dice can be computed per image and then averaged (MONAI's default batch=False) or with the sums taken "
           "over the whole batch (batch=True, article 003's code); the other choice than this problem's gives this value.",
           "Dice 可以逐图像计算再取平均（MONAI 默认 batch=False），也可以对整个批次求和后再算（batch=True，"
           "即文章 003 的代码）；与本题相反的选择会得到这个值。",
           "|X∩Y|", lambda c: _overlap(c) and c.pred is not None and c.pred.dim() >= 2,
           lambda c: overlap_value(c, per_sample=not bool(c.param("per_sample", True))))


# -- KL divergence ------------------------------------------------------------------------------------------------------

def _keras_kl(c: Case) -> float | None:
    x, t = c.pred, c.target
    if x is None or t is None or c.param("log_target") or x.dim() == 0:
        return None
    q = torch.exp(x.double()).clamp(KERAS_EPS, 1.0)
    p = t.double().clamp(KERAS_EPS, 1.0)
    per_row = (p * torch.log(p / q)).sum(-1)
    return float(per_row.mean()) if c.reduction in ("mean", "batchmean") else float(per_row.sum())


convention("keras_kl", "Keras", "Keras", "Keras KLDivergence: clipped, mean over samples",
           "Keras KLDivergence：截断后按样本求均值",
           "keras.losses.KLDivergence clips both distributions to [1e-7, 1], sums p·log(p/q) over the last axis and "
           "averages over the samples (torch's batchmean, with clipping; torch's 'mean' divides by every element).",
           "keras.losses.KLDivergence 把两个分布都截断到 [1e-7, 1]，沿最后一维对 p·log(p/q) 求和，再对样本求平均"
           "（相当于带截断的 torch batchmean；torch 的 'mean' 除以全部元素个数）。",
           "den", _declared("keras_kl", lambda c: c.reduction in ("mean", "batchmean") and scalar_value(c)), _keras_kl)

convention("scipy_rel_entr_sum", "SciPy", "SciPy", "scipy rel_entr(p, q).sum(): the total KL divergence",
           "scipy rel_entr(p, q).sum()：KL 散度总和",
           "scipy.special.rel_entr(p, q).sum() (and scipy.stats.entropy(p, q) for one distribution) gives the total "
           "Σ p·log(p/q), not a mean.",
           "scipy.special.rel_entr(p, q).sum()（以及单个分布的 scipy.stats.entropy(p, q)）给出的是总和 Σ p·log(p/q)，"
           "不是均值。",
           "den", _declared("scipy_rel_entr_sum", lambda c: c.reduction in ("mean", "batchmean") and scalar_value(c)),
           lambda c: c.reduced_as("sum"))


# -- public ------------------------------------------------------------------------------------------------------------

def evaluate_conventions(case: Case, *, include_same: bool = False,
                         reachable: Reachable | None = None) -> list[VariantValue]:
    """The value of this case under every convention that applies (`reachable`: see `lossapp.variants.evaluate`)."""
    return evaluate(case, CONVENTIONS, include_same=include_same, reachable=reachable)


def table_for_result(result: Result) -> list[dict[str, Any]]:
    """One row per convention that applies (PyTorch's own value first): id, library, title, value, difference."""
    case = Case(result)
    value = case.value
    rows: list[dict[str, Any]] = [{
        "id": "pytorch", "library": "PyTorch", "library_zh": "PyTorch", "title": "PyTorch (this result)",
        "title_zh": "PyTorch（本结果）", "value": value, "difference": 0.0, "explanation": "", "explanation_zh": "",
        "step": ""}]
    for vv in evaluate_conventions(case, include_same=True):
        row = vv.to_dict()
        row["difference"] = vv.value - value if math.isfinite(value) else None
        rows.append(row)
    return rows


def table(loss: str, pred: Any = None, target: Any = None, reduction: str = "mean", **params: Any) -> list[dict[str, Any]]:
    """The value of this problem under each convention that applies (no claim needed)."""
    from lossapp.engine import compute
    return table_for_result(compute(loss, pred, target, reduction=reduction, **params))


add_zh({"PyTorch (this result)": "PyTorch（本结果）"})
