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

from lossapp.i18n import msg
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
    variant_texts,
)

CONVENTIONS: dict[str, Variant] = {}

KERAS_EPS = 1e-7
SKLEARN_EPS = float(torch.finfo(torch.float64).eps)
SKLEARN_OLD_EPS = 1e-15
OLD_TORCH_EPS = 1e-12
KERAS_SMOOTHING = 0.1  # the binary label smoothing evaluated for the table (Keras' documented example value)


def convention(id: str, step: str, applies: Callable[[Case], bool], compute: Callable[[Case], float | None],
               bound: Callable[[Case], tuple[float, float] | None] | None = None) -> Variant:
    """Register another library's convention (`bound`: see `Variant`; its library, title, title naming the
    library and explanation: `conventions.<id>` in the catalogs)."""
    library, title, named, explanation = variant_texts("conventions", id, "library", "title", "named", "explanation")
    return register(CONVENTIONS, Variant(id, title, explanation, step, applies, compute, library, named, bound))


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


convention("keras_clip",
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


convention("tf_keras_epsilon",
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


convention("keras_label_smoothing",
           "y", _declared("keras_label_smoothing"), _binary_smoothed)


def _sklearn(c: Case, eps: float) -> float | None:
    p = _probabilities(c)
    if p is None or c.param("weight") is not None:
        return None
    if c.spec.class_dim:
        return _categorical(c, eps, renormalise_first=False)
    return c.run(pred=_clip(p, eps))


convention("sklearn_log_loss",
           "log p", _declared("sklearn_log_loss", lambda c: _needs_clip(c, SKLEARN_EPS)),
           lambda c: _sklearn(c, SKLEARN_EPS))

convention("sklearn_log_loss_1e-15",
           "log p", _declared("sklearn_log_loss_1e-15", lambda c: _needs_clip(c, SKLEARN_OLD_EPS)),
           lambda c: _sklearn(c, SKLEARN_OLD_EPS))


def _old_torch_bce(c: Case) -> float | None:
    return _bce_eps_inside_logs(c, OLD_TORCH_EPS, clip=False)


convention("old_torch_bce",
           "log p", _declared("old_torch_bce"), _old_torch_bce,
           bound=lambda c: _eps_inside_logs_bound(c, OLD_TORCH_EPS, clip=False))


# -- focal -----------------------------------------------------------------------------------------------------------

convention("keras_focal_no_alpha",
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


convention("label_smoothing_other_classes",
           "y'", _declared("label_smoothing_other_classes", lambda c: float(c.param("label_smoothing", 0.0) or 0.0) > 0
           and scalar_value(c)), _smoothing_other_classes)


# -- overlap ----------------------------------------------------------------------------------------------------------

def _overlap(c: Case) -> bool:
    """An overlap set loss (LossSpec.set_measure)."""
    return c.spec.set_measure is not None and scalar_value(c)


convention("monai_smoothing",
           "D", lambda c: _overlap(c) and float(c.param("eps", 0.0)) != 1e-5, lambda c: overlap_value(c, eps=1e-5))

convention("smooth_1",
           "D", lambda c: _overlap(c) and float(c.param("eps", 0.0)) != 1.0, lambda c: overlap_value(c, eps=1.0))

convention("smp_batch_sets",
           "|X∩Y|", lambda c: _overlap(c) and (bool(c.param("per_sample", True)) or float(c.param("eps", 0.0)) != 0),
           lambda c: overlap_value(c, eps=0.0, per_sample=False))

convention("sets_per_image_vs_batch",
           "|X∩Y|", lambda c: _overlap(c) and c.pred is not None and c.pred.dim() >= 2,
           lambda c: overlap_value(c, per_sample=not bool(c.param("per_sample", True))))


# -- KL divergence ------------------------------------------------------------------------------------------------------

def _keras_kl(c: Case) -> float | None:
    x, t = c.pred, c.target
    if x is None or t is None or c.param("log_target") or x.dim() == 0:
        return None
    q = torch.exp(x.double()).clamp_(KERAS_EPS, 1.0)
    p = t.double().clamp(KERAS_EPS, 1.0)
    per_row = torch.div(p, q, out=q).log_().mul_(p).sum(-1)  # p·log(p / q), in q's buffer
    return float(per_row.mean()) if c.reduction in ("mean", "batchmean") else float(per_row.sum())


convention("keras_kl",
           "den", _declared("keras_kl", lambda c: c.reduction in ("mean", "batchmean") and scalar_value(c)), _keras_kl)

convention("scipy_rel_entr_sum",
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
    this = msg("conventions.this_result")
    rows: list[dict[str, Any]] = [{
        "id": "pytorch", "library": "PyTorch", "library_zh": "PyTorch", "title": this,
        "title_zh": this.render("zh"), "value": value, "difference": 0.0, "explanation": "", "explanation_zh": "",
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

