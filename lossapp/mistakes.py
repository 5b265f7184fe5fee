"""The catalogue of known wrong computations, per loss family.

Each mistake is a registered `Variant` (see `lossapp.variants`): an id, a title and an explanation (catalog
messages, `mistakes.<id>`), the step of the worked solution where it departs from the correct computation, `applies(case)` and
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
    variant_texts,
)

LN10, LN2 = math.log(10.0), math.log(2.0)

MISTAKES: dict[str, Variant] = {}


def mistake(id: str, step: str, applies: Callable[[Case], bool], compute: Callable[[Case], float | None]) -> Variant:
    """Register a known mistake (its title and explanation: `mistakes.<id>` in the catalogs)."""
    title, explanation = variant_texts("mistakes", id, "title", "explanation")
    return register(MISTAKES, Variant(id, title, explanation, step, applies, compute))


def evaluate_mistakes(case: Case, *, include_same: bool = False,
                      reachable: Reachable | None = None) -> list[VariantValue]:
    """Every known mistake's value on this case (`include_same`, `reachable`: see `lossapp.variants.evaluate`)."""
    return evaluate(case, MISTAKES, include_same=include_same, reachable=reachable)


# -- applicability helpers ---------------------------------------------------------------------------------

LOG_LOSSES = {"bce", "bce_with_logits", "cross_entropy", "focal", "softmax_focal", "truncated_ce",
              "soft_truncated_ce"}
COMBOS = {"dice_ce": ("L_dice", "L_ce", "lambda_ce"), "dice_focal": ("L_dice", "L_focal", "lambda_focal")}
OVERLAP = {"dice", "iou", "tversky"}
COUNT_METRICS_DICE = {"dice", "f1"}



def _uses_log(case: Case) -> bool:
    if case.name == "cross_entropy":
        return case.param("input", "logits") != "log_probabilities"
    return case.name in LOG_LOSSES or case.name in COMBOS


def _log_scaled(case: Case, factor: float) -> float | None:
    """The value with every natural log replaced by log_b = ln / ln b (factor = 1 / ln b): every term of these
    losses is a natural log times factors that do not involve a log, so the whole value scales."""
    if case.name in COMBOS:
        dice_sym, part_sym, lam = COMBOS[case.name]
        d, p = case.step_value(dice_sym), case.step_value(part_sym)
        if d is None or p is None:
            return None
        return float(case.param("lambda_dice", 1.0)) * float(d) + float(case.param(lam, 1.0)) * float(p) * factor
    return case.value * factor


def _is(*names: str) -> Callable[[Case], bool]:
    return lambda case: case.name in names and scalar_value(case)


def _pred_in_unit(c: Case) -> bool:
    """Every pred value in [0, 1] (from the shared range of pred)."""
    r = c.pred_range()
    return r is not None and r[0] >= 0 and r[1] <= 1


# -- generic: logs and signs -------------------------------------------------------------------------------

mistake("log10",
        "log", lambda c: _uses_log(c) and scalar_value(c), lambda c: _log_scaled(c, 1 / LN10))

mistake("log2",
        "log", lambda c: _uses_log(c) and scalar_value(c), lambda c: _log_scaled(c, 1 / LN2))

mistake("missing_minus",
        "l", lambda c: _uses_log(c) and scalar_value(c), lambda c: _log_scaled(c, -1.0))


# -- reductions ----------------------------------------------------------------------------------------------

def _summed(c: Case) -> float | None:
    """The value under reduction sum. A combined loss's parts reduce separately: λ_dice·Σ l_dice + λ·Σ l_part, each Σ l
    the numerator its mean showed (summed as reduction sum sums it, so this is the value a run with sum gives)."""
    if c.name in COMBOS and c.reduction == "mean":
        dice_sym, part_sym, lam = COMBOS[c.name]
        num_dice, num_part = (c.step_value(sym.replace("L_", "num_")) for sym in (dice_sym, part_sym))
        if num_dice is not None and num_part is not None:
            return finite(float(float(c.param("lambda_dice", 1.0)) * num_dice + float(c.param(lam, 1.0)) * num_part))
    return c.reduced_as("sum")


mistake("sum_instead_of_mean",
        "den", lambda c: c.reduction in ("mean", "batchmean") and "sum" in c.spec.reductions and scalar_value(c),
        _summed)

mistake("mean_instead_of_sum",
        "den", lambda c: c.reduction == "sum" and "mean" in c.spec.reductions and scalar_value(c),
        lambda c: c.reduced_as("mean"))

mistake("mean_instead_of_batchmean",
        "den", lambda c: c.name == "kl_div" and c.reduction == "batchmean" and scalar_value(c),
        lambda c: c.reduced_as("mean"))

mistake("batchmean_instead_of_mean",
        "den", lambda c: c.name == "kl_div" and c.reduction == "mean" and scalar_value(c),
        lambda c: c.reduced_as("batchmean"))


# -- probabilities vs logits -----------------------------------------------------------------------------------

def _probabilities_as_logits(c: Case) -> float | None:
    name, x = c.name, c.pred
    if x is None:
        return None
    if name == "bce":
        return c.run("bce_with_logits", pred=x, weight=c.param("weight"))
    if name == "cross_entropy":
        if c.param("input", "logits") == "probabilities":
            return c.run(input="logits")
        if c.param("input", "logits") == "logits":
            p = activated(c)
            return c.run(pred=p) if p is not None else None
        return None
    if name == "focal":
        if c.param("input") == "probabilities":
            return c.run(input="logits")
        p = activated(c)
        return c.run(pred=p) if p is not None else None
    if name in ("bce_with_logits", "soft_truncated_ce"):
        return c.run(pred=torch.sigmoid(x.double()))
    if name == "softmax_focal":
        return c.run(pred=softmax(x, class_dim(x)))
    if name in OVERLAP:
        return overlap_value(c, again=True)
    if name in COMBOS:
        act = c.param("activation", "none")
        if act == "none":
            return c.run(activation="sigmoid")
        p = activated(c)
        return c.run(pred=p) if p is not None else None
    return None


mistake("probabilities_as_logits",
        "p", lambda c: c.name in ("bce", "cross_entropy", "focal", "bce_with_logits", "soft_truncated_ce",
                                  "softmax_focal", *OVERLAP, *COMBOS) and scalar_value(c),
        _probabilities_as_logits)


def _logits_as_probabilities(c: Case) -> float | None:
    name, x = c.name, c.pred
    if x is None or not _pred_in_unit(c):
        return None
    if name == "bce_with_logits":
        return c.run("bce", pred=x, weight=c.param("weight"))
    if name == "cross_entropy" and c.param("input", "logits") == "logits" and c.target is not None \
            and not c.target.is_floating_point():
        return c.run("nll", pred=torch.log(x.double()), weight=c.param("weight"),
                     ignore_index=c.param("ignore_index", -100))
    if name == "focal" and c.param("input") == "logits":
        return c.run(input="probabilities")
    if (name in OVERLAP or name in COMBOS) and c.param("activation", "none") != "none":
        if c.param("activation") == "softmax" and c.target is not None and not c.target.is_floating_point():
            return None
        return c.run(activation="none")
    return None


mistake("logits_as_probabilities",
        "p", lambda c: c.name in ("bce_with_logits", "cross_entropy", "focal", *OVERLAP, *COMBOS) and scalar_value(c),
        _logits_as_probabilities)



mistake("labels_swapped",
        "l", _is("bce", "bce_with_logits", "focal"), labels_swapped)


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


mistake("unweighted_mean",
        "den", lambda c: c.name in ("cross_entropy", "nll") and _has_weight(c) and c.reduction == "mean"
        and scalar_value(c), _unweighted_mean)


def _weighted_mean(c: Case) -> float | None:
    w, x = c.param("weight"), c.pred
    if c.unreduced is None or x is None:
        return None
    total = float(w.double().expand(x.shape).sum())
    return finite(float(c.unreduced.sum()) / total) if total else None


mistake("weighted_mean",
        "den", lambda c: c.name in ("bce", "bce_with_logits", "focal") and _has_weight(c) and c.reduction == "mean"
        and scalar_value(c), _weighted_mean)

mistake("weight_ignored",
        "w", lambda c: _has_weight(c) and scalar_value(c) and c.name not in ("confusion",),
        lambda c: c.run(weight=None))


def _ignored_counted(c: Case) -> float | None:
    counted = _counted(c)
    if counted is None or c.unreduced is None or bool(counted.all()):
        return None
    return finite(float(c.unreduced.sum()) / counted.numel())


mistake("ignored_counted",
        "den", lambda c: c.name in ("cross_entropy", "nll", "softmax_focal") and not _has_weight(c)
        and c.reduction == "mean" and scalar_value(c), _ignored_counted)

mistake("label_smoothing_ignored",
        "y'", lambda c: c.name == "cross_entropy" and float(c.param("label_smoothing", 0.0) or 0.0) > 0
        and scalar_value(c), lambda c: c.run(label_smoothing=0.0))


# -- focal ------------------------------------------------------------------------------------------------------

def _focal_alpha_variant(c: Case, alpha_t: Callable[[torch.Tensor, float], torch.Tensor]) -> float | None:
    base = focal_base(c)
    t = c.target
    if base is None or t is None:
        return None
    return c.rereduce(alpha_t(t.double(), focal_alpha(c)) * base)


mistake("alpha_on_both_classes",
        "alpha_t", lambda c: c.name == "focal" and focal_alpha(c) >= 0 and scalar_value(c),
        lambda c: _focal_alpha_variant(c, lambda t, a: torch.full_like(t, a)))

mistake("alpha_swapped",
        "alpha_t", lambda c: c.name == "focal" and focal_alpha(c) >= 0 and scalar_value(c),
        lambda c: _focal_alpha_variant(c, lambda t, a: (1 - a) * t + a * (1 - t)))


def _alpha_on(c: Case) -> bool:
    if c.name == "focal":
        return focal_alpha(c) >= 0
    if c.name == "softmax_focal":
        a = c.param("alpha")
        return isinstance(a, torch.Tensor) or (a is not None and float(a) >= 0)
    if c.name == "dice_focal":
        return float(c.param("alpha", 0.25)) >= 0
    return False


mistake("no_alpha",
        "alpha_t", lambda c: _alpha_on(c) and scalar_value(c), no_alpha)

mistake("no_modulating_factor",
        "(1-p_t)^gamma", lambda c: c.name in ("focal", "softmax_focal", "dice_focal")
        and float(c.param("gamma", 0.0)) != 0 and scalar_value(c), lambda c: c.run(gamma=0.0))


# -- overlap (Dice / IoU / Tversky) ----------------------------------------------------------------------------

def _coefficient_value(c: Case) -> float | None:
    u = c.unreduced
    if u is None:
        return None
    return c.rereduce(1.0 - u)


mistake("dice_coefficient_not_loss",
        "l", lambda c: (c.name == "dice" and scalar_value(c)) or (c.name == "confusion" and c.param("metric") == "dice_loss"),
        lambda c: _coefficient_value(c) if c.name == "dice" else _metric(c, "dice"))

mistake("iou_coefficient_not_loss",
        "l", _is("iou"), _coefficient_value)

mistake("tversky_index_not_loss",
        "l", _is("tversky"), _coefficient_value)


def _metric(c: Case, key: str) -> float | None:
    metrics = c.result.extra.get("metrics", {})
    value = metrics.get(key)
    return None if value is None else finite(float(value))


def _iou_instead_of_dice(c: Case) -> float | None:
    if c.name == "confusion":
        metric = c.param("metric")
        iou = _metric(c, "iou")
        if iou is None:
            return None
        return 1 - iou if metric == "dice_loss" else iou
    return overlap_value(c, "iou")


mistake("iou_instead_of_dice",
        "D", lambda c: (c.name == "dice" and scalar_value(c))
        or (c.name == "confusion" and c.param("metric") in ("dice", "f1", "dice_loss")), _iou_instead_of_dice)


def _dice_instead_of_iou(c: Case) -> float | None:
    if c.name == "confusion":
        return _metric(c, "dice")
    return overlap_value(c, "dice")


mistake("dice_instead_of_iou",
        "J", lambda c: (c.name == "iou" and scalar_value(c)) or (c.name == "confusion" and c.param("metric") == "iou"),
        _dice_instead_of_iou)


# -- confusion metrics --------------------------------------------------------------------------------------------

mistake("dice_loss_not_coefficient",
        "F1", lambda c: c.name == "confusion" and c.param("metric") in COUNT_METRICS_DICE,
        lambda c: _metric(c, "dice_loss"))

mistake("precision_recall_swapped",
        "P", lambda c: c.name == "confusion" and c.param("metric") in ("precision", "recall"),
        lambda c: _metric(c, "recall" if c.param("metric") == "precision" else "precision"))

mistake("accuracy_instead_of_metric",
        "Acc", lambda c: c.name == "confusion" and c.param("metric") != "accuracy",
        lambda c: _metric(c, "accuracy"))


# -- regression ------------------------------------------------------------------------------------------------------

def _rmse_mse_swapped(c: Case) -> float | None:
    """RMSE = √(reduced MSE): the MSE's value gives the RMSE, and the RMSE's own Σ d² / den gives the MSE."""
    if c.name == "mse" and c.plain and c.value >= 0:
        return math.sqrt(c.value)
    if c.name == "rmse" and c.total is not None and c.denominator():
        return finite(c.total / c.denominator())
    return c.run("mse" if c.name == "rmse" else "rmse")


def _other_power(c: Case, other: str) -> float | None:
    """The mean (sum) of |d| from this loss's d² terms or of d² from its |d| terms: the other loss, same divisor."""
    u = c.unreduced
    if u is None or c.denominator() is None or (c.name != "rmse" and not c.plain):
        return c.run(other)
    return c.rereduce(u.sqrt() if other == "l1" else u.square())


mistake("rmse_mse_swapped",
        "rmse", _is("rmse", "mse"), _rmse_mse_swapped)

mistake("rmse_as_mean_of_roots",
        "rmse", _is("rmse"), lambda c: _other_power(c, "l1"))

mistake("l1_mse_swapped",
        "l", _is("l1", "mse"), lambda c: _other_power(c, "mse" if c.name == "l1" else "l1"))

mistake("half_mse",
        "l", _is("mse"), lambda c: c.value / 2)

mistake("smooth_l1_without_beta",
        "l", lambda c: c.name == "smooth_l1" and float(c.param("beta", 1.0)) != 1.0 and scalar_value(c),
        lambda c: c.run(beta=1.0))

mistake("smooth_l1_huber_swapped",
        "l", _is("smooth_l1", "huber"),
        lambda c: c.run("huber", delta=max(float(c.param("beta", 1.0)), 1e-6)) if c.name == "smooth_l1"
        else c.run("smooth_l1", beta=float(c.param("delta", 1.0))))


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


mistake("kl_direction_swapped",
        "l", _is("kl_div"), _kl_swapped)


# -- margin ----------------------------------------------------------------------------------------------------------

def _hinge_01(c: Case) -> float | None:
    t = c.target
    if t is None:
        return None
    return c.run(target=(t.double() + 1) / 2, prepare=False)


mistake("labels_01_not_mapped",
        "yf", _is("hinge"), _hinge_01)


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


mistake("multi_margin_not_divided_by_C",
        "l", _is("multi_margin"), lambda c: _multi_margin_scaled(c, extra=False))

mistake("multi_margin_target_included",
        "h", _is("multi_margin"), lambda c: _multi_margin_scaled(c, extra=True))

mistake("accuracy_instead_of_error",
        "l", lambda c: c.name == "zero_one" and c.reduction == "mean" and scalar_value(c),
        lambda c: 1.0 - c.value)


# -- penalties ---------------------------------------------------------------------------------------------------------

mistake("l2_penalty_without_half",
        "l", _is("l2_penalty"), lambda c: 2 * c.value)


def _l2_norm(c: Case) -> float | None:
    x = c.pred
    if x is None or c.reduction != "sum":
        return None
    return float(c.param("lam", 0.01)) * float(torch.sqrt((x.double() ** 2).sum()))


mistake("l2_norm_not_squared",
        "||w||_2^2", _is("l2_penalty"), _l2_norm)

mistake("penalty_without_lambda",
        "l", lambda c: c.name in ("l1_penalty", "l2_penalty") and float(c.param("lam", 0.0)) not in (0.0, 1.0)
        and scalar_value(c), lambda c: c.value / float(c.param("lam")))


# -- truncated CE ------------------------------------------------------------------------------------------------------

mistake("no_truncation",
        "lambda", _is("truncated_ce", "soft_truncated_ce"),
        lambda c: c.run("bce" if c.name == "truncated_ce" else "bce_with_logits"))

