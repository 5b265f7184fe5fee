"""The same problem under other libraries' conventions.

Each convention is a registered `Variant` (see `lossapp.variants`) with the library it comes from; its text says
whether lossapp's tests check it against the real library (scikit-learn, MONAI, segmentation_models_pytorch, SciPy,
installed with --no-deps) or against the documented formula (Keras, TensorFlow, mmdetection, torchmetrics, old
releases: not installed there):

- Keras 3 (`keras.losses.binary_crossentropy` / `categorical_crossentropy`, `BinaryFocalCrossentropy`):
  probabilities clipped to [1e-7, 1 − 1e-7] (categorical: rows renormalised first); binary label smoothing
  pulls the targets toward 0.5: y(1 − ε) + ε/2; CategoricalCrossentropy(label_smoothing) spreads ε/K (torch's ε/C);
  BinaryFocalCrossentropy has no α unless apply_class_balancing=True; KLDivergence clips both distributions to
  [1e-7, 1] and averages per sample.
- tf.keras 2 (`tf.keras.backend.binary_crossentropy`): clipping plus ε = 1e-7 inside the logs; TensorFlow's
  `tf.nn.log_poisson_loss` (always on log λ).
- scikit-learn `log_loss`: probabilities clipped to [eps, 1 − eps] with eps the dtype's machine epsilon
  (scikit-learn ≥ 1.3, float64: 2.2e-16; before 1.3 the default eps was 1e-15); rows that do not sum to 1 only
  warn (no renormalising). `f1_score` averaging of counts (binary: this value; micro: the accuracy; macro: the
  mean of both classes' F1) and its zero_division (also torchmetrics').
- PyTorch before 0.4.1 (THNN's BCECriterion): −[y log(p + 1e-12) + (1 − y) log(1 − p + 1e-12)].
- MONAI `DiceLoss` (smooth_nr = smooth_dr = 1e-5: ε = 1e-5, Jaccard ε = 5e-6; one set per (sample, channel)),
  `FocalLoss` (its sum: Σ over (N, C) of the spatial means; softmax: scalar α is [1 − α, α, …]); the common
  Kaggle/Keras Dice with smooth = 1; segmentation_models_pytorch (smooth = 0, the batch pooled into one set per
  class, empty classes zeroed, soft intersection (Σp + Σt − ‖p − t‖₁)/2; FocalLoss without α, multiclass one-vs-rest);
  per-image vs batch sets (MONAI's batch=False/True).
- mmdetection: Σ l / (avg_factor + float32 eps).
- Label smoothing ε/(C − 1) on the other classes (1 − ε on the true one) instead of torch's ε/C everywhere.
- scipy `rel_entr(p, q).sum()`: the total KL divergence (no mean over the batch).

`table(loss, pred, target, reduction, **params)` gives the value under each convention that applies,
without any claim; `lossapp.check` gives the verdict `convention` when one reproduces a claim.

Every convention except the F1 ones (counts are exact) has an `interval`, its enclosure over the inputs' rounding box
(see `lossapp.variants`), as the mistakes do: a claim computed under a convention from inputs that were rounded
afterwards is that convention (ranked after `rounding` of the correct value). Most are the loss's own interval formula
run with other parameters, another reduction or clipped inputs (`Case.run_interval`); the eps-inside-the-logs BCE is
its own formula in interval arithmetic (`box_interval`). Keras' categorical clipping after renormalising the rows has
none.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from lossapp.exceptions import InputError
from lossapp.i18n import msg
from lossapp.interval import Box, Iv, U, reduce_iv
from lossapp.losses.overlap import per_sample_sets
from lossapp.result import Result
from lossapp.trace import mapped_extremes, tensor_extremes
from lossapp.variants import (
    Case,
    Interval,
    Reachable,
    Variant,
    VariantValue,
    box_interval,
    decimals_of,
    evaluate,
    finite,
    focal_alpha_bound,
    kl_exp_terms,
    labels_swapped,
    labels_swapped_bound,
    labels_swapped_interval,
    no_alpha,
    no_alpha_interval,
    overlap_value,
    point_box,
    register,
    scalar_value,
    variant_texts,
    variant_value,
)

CONVENTIONS: dict[str, Variant] = {}

KERAS_EPS = 1e-7
SKLEARN_EPS = float(torch.finfo(torch.float64).eps)
SKLEARN_OLD_EPS = 1e-15
OLD_TORCH_EPS = 1e-12
KERAS_SMOOTHING = 0.1  # the binary label smoothing evaluated for the table (Keras' documented example value)


def convention(id: str, step: str, applies: Callable[[Case], bool], compute: Callable[[Case], float | None],
               bound: Callable[[Case], tuple[float, float] | None] | None = None,
               interval: Callable[[Case], Interval | None] | None = None) -> Variant:
    """Register another library's convention (`bound`, `interval`: see `Variant`; its library, title, title naming the
    library and explanation: `conventions.<id>` in the catalogs). `interval`, the convention's enclosure over the
    inputs' rounding box, lets a claim computed under the convention from the inputs before they were rounded be
    recognised (as for the mistakes: after `rounding` of the correct value)."""
    library, title, named, explanation = variant_texts("conventions", id, "library", "title", "named", "explanation")
    return register(CONVENTIONS, Variant(id, title, explanation, step, applies, compute, library, named, bound,
                                         interval))


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
    """−Σ t log q per sample with q the clipped probabilities, each row renormalised before the clipping (Keras) or
    not at all (scikit-learn ≥ 1.5 only warns); class-index or probability targets, no weights; mean over the
    samples."""
    p, t = c.pred, c.target
    if p is None or t is None or c.param("weight") is not None or float(c.param("label_smoothing", 0) or 0):
        return None
    cd = 0 if p.dim() == 1 else 1
    q = p.double()
    q = _clip(q / q.sum(cd, keepdim=True) if renormalise_first else q, eps)
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


def _clipped_interval(c: Case, eps: float, renormalise_first: bool) -> Interval | None:
    """The loss on the clipped probabilities over the box: the clip is non-decreasing and moves no two values apart,
    so the box of the clipped values (same decimals) holds every clipped point of pred's box. Rows renormalised
    first (Keras' categorical) are not covered."""
    p = _probabilities(c)
    if p is None or (c.spec.class_dim and renormalise_first):
        return None
    return c.run_interval(pred=_clip(p, eps))


convention("keras_clip",
           "log p", _declared("keras_clip", lambda c: _needs_clip(c, KERAS_EPS)), lambda c: _clipped_run(c, KERAS_EPS),
           interval=lambda c: _clipped_interval(c, KERAS_EPS, renormalise_first=True))


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
    """Where every p of the rounding box lies in [δ, 1 − δ] (no clipping, no −100 clamp) and no weight is given,
    each term of the eps-inside-the-logs BCE differs from torch's by log(1 + eps/p) or log(1 + eps/(1 − p)), so by at
    most eps/δ; the value moves by at most as much (a mean; n·eps/δ for a sum), plus float rounding of a sum of ≥ 0
    terms, from torch's value over the box (the correct enclosure; its value where that is not established, and the
    convention then has no interval either)."""
    r, den = c.pred_range(), c.denominator()
    if c.param("weight") is not None or r is None or den is None or den <= 0 or c.unreduced is None:
        return None
    lo, hi = c.interval or (c.value, c.value)
    delta = min(r[0], 1.0 - r[1]) - (_largest_half_unit(decimals_of(c.result.pred)) if c.interval is not None else 0.0)
    if delta < (eps if clip else 1e-30):
        return None
    spread = eps / delta * c.unreduced.numel() / den
    slack = 1e-7 * (max(abs(lo), abs(hi)) + spread) + 1e-300
    return lo - spread - slack, hi + spread + slack


def _largest_half_unit(decimals: np.ndarray | None) -> float:
    """The largest half unit of a written entry's last decimal (0 for integers and unknown decimals), with room for
    the box's own outward rounding."""
    if decimals is None or decimals.size == 0 or int(decimals.max()) < 0:
        return 0.0
    return 0.5 * 10.0 ** -int(decimals[decimals >= 0].min()) * (1 + 1e-9)


def _eps_inside_logs_interval(c: Case, eps: float, clip: bool) -> Interval | None:
    """−[y log(q + eps) + (1 − y) log(1 − q + eps)] over the box in interval arithmetic, q = p clipped to
    [eps, 1 − eps] when `clip` (monotone, so the clipped box is the box clipped), weighted and reduced as
    `_bce_eps_inside_logs` (established only where the correct enclosure is: see `_eps_inside_logs_bound`)."""
    if _probabilities(c) is None or c.target is None or c.interval is None:
        return None

    def formula(box: Box) -> Iv:
        q = box.pred_box(low=0.0, high=1.0)
        q = q.clamp(eps, 1.0 - eps) if clip else q
        y = box.target_box(low=0.0, high=1.0)
        terms = -(y * (q + eps).log() + (1 - y) * (1 - q + eps).log())
        w = c.param("weight")
        if isinstance(w, torch.Tensor):
            terms = terms * Iv(w.double().expand(terms.shape))
        return reduce_iv(terms.reshape(-1), "sum" if c.reduction == "sum" else "mean")
    return box_interval(c, formula)


convention("tf_keras_epsilon",
           "log p", _declared("tf_keras_epsilon"), _tf_keras_bce,
           bound=lambda c: _eps_inside_logs_bound(c, KERAS_EPS, clip=True),
           interval=lambda c: _eps_inside_logs_interval(c, KERAS_EPS, clip=True))


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
    # y(1 − ε) + ε/2, in the case's target buffer (free again once the run has its value)
    return c.run(target=mapped_extremes(torch.mul(t.double(), 1 - eps, out=c.work(t, "target")).add_(0.5 * eps), t,
                                        _keras_smoothed))


def _keras_smoothed(y: torch.Tensor) -> torch.Tensor:
    """y(1 − ε) + ε/2 in float64 as _binary_smoothed forms it, for lossapp.trace.mapped_extremes."""
    return torch.mul(y.double(), 1 - KERAS_SMOOTHING).add_(0.5 * KERAS_SMOOTHING)


def _binary_smoothed_interval(c: Case) -> Interval | None:
    """A loss affine in y: at every point of the box the value is (1 − ε/2)·l + (ε/2)·l_swapped, so it lies in that
    mix of the correct enclosure and the labels-swapped one (shared with that mistake). Otherwise the loss on the
    smoothed targets y(1 − ε) + ε/2, a contraction of y, over the box (see Case.run_interval)."""
    t = c.target
    if t is None or not t.is_floating_point():
        return None
    eps = KERAS_SMOOTHING
    if c.spec.affine_in_target:
        correct, swapped = c.interval, labels_swapped_interval(c)
        if correct is None or swapped is None:
            return None
        half = Iv(eps) * 0.5  # ε/2 and 1 − ε/2 as intervals: the real coefficients, not their float64 roundings
        return (Iv(*correct) * (1 - half) + Iv(*swapped) * half).item()
    return c.run_interval(target=mapped_extremes(_keras_smoothed(t), t, _keras_smoothed),  # (the run's y(1 − ε) + ε/2)
                          value=variant_value(c, CONVENTIONS["keras_label_smoothing"]))


def _binary_smoothed_bound(c: Case) -> tuple[float, float] | None:
    """For a loss affine in y whose labels-swapped value has a bound (`labels_swapped_bound`): the value is
    (1 − ε/2)·l + (ε/2)·l_swapped (see _binary_smoothed), monotone in l_swapped, so it lies between that mix at the
    bound's ends; the three float operations of the mix round by a few u of max(|l|, |l_swapped|), covered by
    widening by 1e−12 of it (and 1e−300)."""
    t = c.target
    if t is None or not t.is_floating_point() or not c.spec.affine_in_target or not math.isfinite(c.value):
        return None
    swapped = labels_swapped_bound(c)
    if swapped is None:
        return None
    eps = KERAS_SMOOTHING
    lo, hi = ((1 - eps / 2) * c.value + eps / 2 * s for s in swapped)
    slack = 1e-12 * max(abs(c.value), abs(swapped[0]), abs(swapped[1])) + 1e-300
    return lo - slack, hi + slack


convention("keras_label_smoothing",
           "y", _declared("keras_label_smoothing"), _binary_smoothed, interval=_binary_smoothed_interval,
           bound=_binary_smoothed_bound)


def _sklearn(c: Case, eps: float) -> float | None:
    """log_loss clips to [eps, 1 − eps] and only warns when a row does not sum to 1 (no renormalising)."""
    p = _probabilities(c)
    if p is None or c.param("weight") is not None:
        return None
    if c.spec.class_dim:
        return _categorical(c, eps, renormalise_first=False)
    return c.run(pred=_clip(p, eps))


def _sklearn_interval(c: Case, eps: float) -> Interval | None:
    return None if c.param("weight") is not None else _clipped_interval(c, eps, renormalise_first=False)


convention("sklearn_log_loss",
           "log p", _declared("sklearn_log_loss", lambda c: _needs_clip(c, SKLEARN_EPS)),
           lambda c: _sklearn(c, SKLEARN_EPS), interval=lambda c: _sklearn_interval(c, SKLEARN_EPS))

convention("sklearn_log_loss_1e-15",
           "log p", _declared("sklearn_log_loss_1e-15", lambda c: _needs_clip(c, SKLEARN_OLD_EPS)),
           lambda c: _sklearn(c, SKLEARN_OLD_EPS), interval=lambda c: _sklearn_interval(c, SKLEARN_OLD_EPS))


def _old_torch_bce(c: Case) -> float | None:
    return _bce_eps_inside_logs(c, OLD_TORCH_EPS, clip=False)


convention("old_torch_bce",
           "log p", _declared("old_torch_bce"), _old_torch_bce,
           bound=lambda c: _eps_inside_logs_bound(c, OLD_TORCH_EPS, clip=False),
           interval=lambda c: _eps_inside_logs_interval(c, OLD_TORCH_EPS, clip=False))


# -- focal -----------------------------------------------------------------------------------------------------------

convention("keras_focal_no_alpha",
           "alpha_t", _declared("keras_focal_no_alpha", lambda c: float(c.param("alpha", 0.25)) >= 0 and scalar_value(c)),
           no_alpha, interval=no_alpha_interval, bound=lambda c: focal_alpha_bound(c, "no_alpha"))

convention("smp_focal_no_alpha",
           "alpha_t", _declared("smp_focal_no_alpha", lambda c: float(c.param("alpha", 0.25)) >= 0 and scalar_value(c)),
           no_alpha, interval=no_alpha_interval, bound=lambda c: focal_alpha_bound(c, "no_alpha"))

FLOAT32_EPS = float(torch.finfo(torch.float32).eps)  # mmdetection's weight_reduce_loss: Σ l / (avg_factor + eps)


def _mmdet_avg_factor(c: Case) -> float | None:
    """Σ l / (avg_factor + eps) = (Σ l / avg_factor)·avg_factor / (avg_factor + eps): a rescaling of the value."""
    avg_factor = float(c.param("avg_factor"))
    return finite(c.value * avg_factor / (avg_factor + FLOAT32_EPS))


def _mmdet_avg_factor_interval(c: Case) -> Interval | None:
    """(Σ l / avg_factor)·avg_factor / (avg_factor + eps) over the box, in interval arithmetic."""
    avg_factor, iv = float(c.param("avg_factor")), c.interval
    if iv is None:
        return None
    return (Iv(iv[0], iv[1]) * avg_factor / (Iv(avg_factor) + FLOAT32_EPS)).item()


convention("mmdet_avg_factor_eps",
           "den", _declared("mmdet_avg_factor_eps", lambda c: c.param("avg_factor") is not None and c.reduction == "mean"
                            and scalar_value(c)), _mmdet_avg_factor, interval=_mmdet_avg_factor_interval)


def _monai_focal(c: Case) -> float | None:
    """MONAI FocalLoss on (N, C, d1, ...) logits: its terms (softmax: a scalar α is [1 − α, α, …] per class, the
    background class 0 taking 1 − α), one per (sample, class, position) — softmax terms are 0 off the true class —
    then mean: Σ / (N·C·S); sum: Σ over (N, C) of the spatial means, Σ / S (an (N, C) pred: the mean of all)."""
    x, t = c.pred, c.target
    if x is None or t is None or x.dim() < 2 or c.param("weight") is not None or c.param("avg_factor") is not None \
            or c.param("input", "logits") != "logits":
        return None
    if c.spec.activation == "softmax":
        alpha = c.param("alpha")
        if bool((t == int(c.param("ignore_index", -100))).any()):
            return None
        if alpha is not None and not isinstance(alpha, torch.Tensor) and float(alpha) >= 0:
            alpha = float(alpha)
            terms = c.unreduced_of(alpha=torch.tensor([1 - alpha] + [alpha] * (x.shape[1] - 1), dtype=torch.float64))
        else:
            terms = c.unreduced
    else:
        terms = c.unreduced
    if terms is None:
        return None
    total = float(terms.double().sum())
    spatial = math.prod(x.shape[2:]) if x.dim() >= 3 else x.shape[0] * x.shape[1]
    if c.reduction == "sum":
        return finite(total / spatial)
    return finite(total / x.numel())


def _summed_interval(c: Case) -> Interval | None:
    """The enclosure of the loss with reduction sum: at every point of the box Σ l = (Σ l / n)·n for a mean over a
    count n of elements (the trace's den, a whole number, without weights), so the correct enclosure times n; else
    the loss's formula with reduction sum (its guard held to Σ l, the value under sum: no rerun)."""
    den, iv = c.denominator(), c.interval
    if c.reduction == "sum":
        return iv
    if iv is not None and den is not None and den >= 1 and den == int(den) and c.param("weight") is None \
            and c.param("avg_factor") is None and "ignore_index" not in c.params:
        return (Iv(*iv) * float(den)).item()
    return c.run_interval(reduction="sum", value=c.reduced_as("sum"))


def _monai_focal_interval(c: Case) -> Interval | None:
    """Σ of the terms (the loss with reduction sum, softmax α per class as `_monai_focal` sets it) over the box,
    divided as `_monai_focal` divides."""
    x = c.pred
    alpha = c.param("alpha")
    if c.spec.activation == "softmax" and alpha is not None and not isinstance(alpha, torch.Tensor) and float(alpha) >= 0:
        per_class = torch.tensor([1 - float(alpha)] + [float(alpha)] * (x.shape[1] - 1), dtype=torch.float64)
        total = c.run_interval(reduction="sum", alpha=per_class)
    else:
        total = _summed_interval(c)
    if total is None:
        return None
    spatial = math.prod(x.shape[2:]) if x.dim() >= 3 else x.shape[0] * x.shape[1]
    return (Iv(total[0], total[1]) / float(spatial if c.reduction == "sum" else x.numel())).item()


convention("monai_focal",
           "den", _declared("monai_focal", scalar_value), _monai_focal, interval=_monai_focal_interval)


def _smp_multiclass_focal(c: Case) -> float | None:
    """smp FocalLoss("multiclass") (α None, γ): for each class c the sigmoid focal loss of the logits x_c against
    [y = c], averaged over the positions, then over the classes (smp 0.6; reduction mean)."""
    x, t = c.pred, c.target
    if x is None or t is None or x.dim() < 2 or c.reduction != "mean":
        return None
    if bool((t == int(c.param("ignore_index", -100))).any()):
        return None
    gamma = float(c.param("gamma", 2.0))
    z = x.double()
    y = _one_vs_rest(c)
    if z.is_contiguous() and y.is_contiguous():  # the same operations in place in two buffers (then all contiguous)
        ce = z.clamp(min=0)
        other = torch.mul(z, y)
        ce.sub_(other).add_(torch.abs(z, out=other).neg_().exp_().log1p_())
        terms = torch.neg(ce, out=other).exp_().neg_().add_(1).pow_(gamma).mul_(ce)
    else:
        ce = z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))  # BCE with logits, stable
        terms = (1 - torch.exp(-ce)) ** gamma * ce  # p_t = e^{−ce}, as smp's focal_loss_with_logits
    per_class = terms.movedim(1, 0).reshape(x.shape[1], -1).mean(1)
    return finite(float(per_class.mean()))


def _one_vs_rest(c: Case) -> torch.Tensor:
    """[y = c] for every class c of an (N, C, …) pred, in pred's layout (made once per case)."""
    return c.shared("one_vs_rest", lambda: torch.nn.functional.one_hot(c.target.long(), c.pred.shape[1])
                    .movedim(-1, 1).double())


def _smp_multiclass_focal_interval(c: Case) -> Interval | None:
    """Every class has as many positions, so the mean over positions then classes is the mean of all the one-vs-rest
    terms: the sigmoid focal loss (α off) of the logits against [y = c], whose enclosure is its own formula (the
    one-vs-rest labels of exact class indices are exact)."""
    return c.run_interval("focal", target=_one_vs_rest(c), alpha=-1.0, gamma=float(c.param("gamma", 2.0)),
                          input="logits", reduction="mean", value=variant_value(c, CONVENTIONS["smp_focal_multiclass"]))


convention("smp_focal_multiclass",
           "p", _declared("smp_focal_multiclass", scalar_value), _smp_multiclass_focal,
           interval=_smp_multiclass_focal_interval)


# -- F1 from counts (scikit-learn f1_score / torchmetrics F1Score averaging) -------------------------------------------

def _counts(c: Case) -> tuple[float, float, float, float] | None:
    """(TP, FP, FN, TN) of a metric from counts, from its steps (None without TN)."""
    values = [c.step_value(k) for k in ("TP", "FP", "FN", "TN")]
    if any(v is None or v.numel() != 1 for v in values):
        return None
    tp, fp, fn, tn = (float(v) for v in values)
    return tp, fp, fn, tn


def _f1_metric(c: Case) -> bool:
    """The F1 (= Dice) of a metric from counts."""
    return c.spec.kind == "metric" and c.param("metric", "dice") in ("f1", "dice")


def _f1_macro(c: Case) -> float | None:
    """The mean of the positive class's F1, 2TP/(2TP + FP + FN), and the negative class's, 2TN/(2TN + FN + FP)."""
    counts = _counts(c)
    if counts is None:
        return None
    tp, fp, fn, tn = counts
    positive, negative = 2 * tp + fp + fn, 2 * tn + fn + fp
    if not positive or not negative:
        return None
    return finite((2 * tp / positive + 2 * tn / negative) / 2)


# average="micro" over both classes pools Σ TP_c = TP + TN and Σ FP_c = Σ FN_c = FP + FN: it is the accuracy, which the
# mistake accuracy_instead_of_metric already names (a claim of the accuracy for F1 stays a mistake)
convention("f1_macro", "F1", lambda c: _f1_metric(c) and not math.isnan(c.value), _f1_macro)


def _undefined_f1(c: Case) -> bool:
    """F1 with no positive predicted and none true (2TP + FP + FN = 0): undefined here, zero_division elsewhere."""
    return _f1_metric(c) and math.isnan(c.value)


convention("f1_zero_division_0", "F1", _undefined_f1, lambda c: 0.0)
convention("f1_zero_division_1", "F1", _undefined_f1, lambda c: 1.0)


# -- label smoothing ----------------------------------------------------------------------------------------------------

def _one_hot_target(c: Case, min_classes: int = 1) -> tuple[torch.Tensor, int] | None:
    """The one-hot float64 form of a class-index target (classes on the prediction's class axis: 0 for one sample,
    1 for a batch) and the number of classes C; None where the case has no such target to smooth (float targets,
    class weights, an ignore_index in use, or fewer than `min_classes` classes)."""
    x, t = c.pred, c.target
    if x is None or t is None or t.is_floating_point() or c.param("weight") is not None:
        return None
    if bool((t == int(c.param("ignore_index", -100))).any()):
        return None
    class_dim = 0 if x.dim() == 1 else 1
    classes = x.shape[class_dim]
    if classes < min_classes:
        return None
    onehot = torch.nn.functional.one_hot(t.long(), classes).double()
    return (onehot.movedim(-1, class_dim) if x.dim() > 1 else onehot), classes


def _smoothing_other_classes(c: Case) -> float | None:
    eps = float(c.param("label_smoothing", 0.0) or 0.0)
    target = _one_hot_target(c, min_classes=2)
    if target is None:
        return None
    onehot, classes = target
    soft = onehot * (1 - eps) + (1 - onehot) * (eps / (classes - 1))
    return c.run(target=soft, label_smoothing=0.0)


def _smoothing_other_classes_interval(c: Case) -> Interval | None:
    """1 − ε on the true class and ε/(C − 1) on the others is torch's smoothing with ε' = ε·C/(C − 1) (1 − ε' + ε'/C
    = 1 − ε): the loss with label_smoothing ε' over the box. ε' is a float64 quotient within 2 ulps of the real one,
    and for fixed inputs the loss is affine in ε', so the hull of the enclosures at ε' moved 2 ulps down and up holds
    it."""
    x = c.pred
    eps = float(c.param("label_smoothing", 0.0) or 0.0)
    classes = x.shape[0 if x.dim() == 1 else 1]
    share = eps * classes / (classes - 1)
    below, above = math.nextafter(math.nextafter(share, 0.0), 0.0), math.nextafter(math.nextafter(share, 2.0), 2.0)
    if above > 1.0:
        return None
    low, high = c.run_interval(label_smoothing=below), c.run_interval(label_smoothing=above)
    if low is None or high is None:
        return None
    return min(low[0], high[0]), max(low[1], high[1])


convention("label_smoothing_other_classes",
           "y'", _declared("label_smoothing_other_classes", lambda c: float(c.param("label_smoothing", 0.0) or 0.0) > 0
           and scalar_value(c)), _smoothing_other_classes, interval=_smoothing_other_classes_interval)


def _keras_categorical_smoothing(c: Case) -> float | None:
    """Keras CategoricalCrossentropy(label_smoothing=ε): y·(1 − ε) + ε/K on every class, K classes (torch's ε/C)."""
    eps = float(c.param("label_smoothing", 0.0) or 0.0)
    target = _one_hot_target(c)
    if target is None:
        return None
    onehot, classes = target
    return c.run(target=onehot * (1 - eps) + eps / classes, label_smoothing=0.0)


convention("keras_categorical_label_smoothing",
           "y'", _declared("keras_categorical_label_smoothing",
                           lambda c: float(c.param("label_smoothing", 0.0) or 0.0) > 0 and scalar_value(c)),
           _keras_categorical_smoothing, interval=lambda c: c.interval)  # torch's ε/C: the correct enclosure


# -- Poisson ------------------------------------------------------------------------------------------------------------

def _tf_log_poisson(c: Case) -> float | None:
    """tf.nn.log_poisson_loss(targets, log_input, compute_full_loss=full): exp(log_input) − targets·log_input (plus
    Stirling's term where targets > 1), reduced as this problem; it always takes log λ, so a rate is passed as
    log(rate) without torch's eps."""
    x = c.pred
    if x is None or not x.is_floating_point():
        return None
    if c.param("log_input", True):
        return c.run()
    return c.run(pred=torch.log(x.double()), log_input=True)


def _tf_log_poisson_interval(c: Case) -> Interval | None:
    """exp(log λ) − y·log λ = λ − y·log λ is torch's loss on rates with ε = 0: its own formula over the box."""
    return c.interval if c.param("log_input", True) else c.run_interval(eps=0.0)


convention("tf_log_poisson_loss",
           "l", _declared("tf_log_poisson_loss", scalar_value), _tf_log_poisson, interval=_tf_log_poisson_interval)


# -- overlap ----------------------------------------------------------------------------------------------------------

MONAI_SMOOTH = 1e-5  # MONAI's smooth_nr = smooth_dr
# the ε of each coefficient that MONAI's smoothing is: Jaccard (2I + 1e-5)/(2U + 1e-5) = (I + 5e-6)/(U + 5e-6)
MONAI_EPS = {"dice": MONAI_SMOOTH, "iou": MONAI_SMOOTH / 2, "tversky": MONAI_SMOOTH}


def _overlap(c: Case) -> bool:
    """An overlap set loss (LossSpec.set_measure)."""
    return c.spec.set_measure is not None and scalar_value(c)


def _monai_eps(c: Case) -> float:
    return MONAI_EPS[c.spec.set_measure]


def _channels(c: Case) -> bool:
    """An (N, C, d1, ...) pred with activation none / sigmoid not already split per channel: MONAI's sets differ."""
    return (c.pred is not None and c.pred.dim() >= 3 and c.param("activation", "none") != "softmax"
            and not c.param("per_channel"))


# the overlap conventions are the loss with other options: their enclosures are the loss's own formula with them
# (held to the value from the shared per-set sums, `overlap_value`, so that no run is made for them)
convention("monai_smoothing",
           "D", lambda c: _overlap(c) and float(c.param("eps", 0.0)) != _monai_eps(c),
           lambda c: overlap_value(c, eps=_monai_eps(c)),
           interval=lambda c: c.run_interval(eps=_monai_eps(c), value=overlap_value(c, eps=_monai_eps(c))))

convention("monai_per_channel",
           "|X∩Y|", lambda c: _overlap(c) and _channels(c),
           lambda c: c.run(per_channel=True, per_sample=True, eps=_monai_eps(c)),
           interval=lambda c: c.run_interval(per_channel=True, per_sample=True, eps=_monai_eps(c)))

convention("smooth_1",
           "D", lambda c: _overlap(c) and float(c.param("eps", 0.0)) != 1.0, lambda c: overlap_value(c, eps=1.0),
           interval=lambda c: c.run_interval(eps=1.0, value=overlap_value(c, eps=1.0)))

SMP = {"per_sample": False, "zero_empty": True, "intersection": "l1", "eps": 0.0}  # smp's defaults (smooth = 0)


def _other_sets(c: Case) -> bool:
    """per_sample for the other reading of the batch: one set per sample if this problem pools it, else pooled."""
    return not per_sample_sets(c.pred.dim(), c.params)


def _smp_sets(c: Case) -> float | None:
    """The problem with smp's defaults, from the shared per-set sums (only |X∩Y| formed anew where its intersection is
    the product): the options change no input check, so a run would refuse none of them."""
    return overlap_value(c, eps=SMP["eps"], per_sample=SMP["per_sample"], intersection=SMP["intersection"],
                         zero_empty=SMP["zero_empty"])


convention("smp_batch_sets",
           "|X∩Y|", lambda c: _overlap(c) and any(c.param(k) != v for k, v in SMP.items()),
           _smp_sets, interval=lambda c: c.run_interval(**SMP, value=_smp_sets(c)))

convention("sets_per_image_vs_batch",
           "|X∩Y|", lambda c: _overlap(c) and c.pred is not None and c.pred.dim() >= 2,
           lambda c: overlap_value(c, per_sample=_other_sets(c)),
           interval=lambda c: c.run_interval(per_sample=_other_sets(c), value=overlap_value(c, per_sample=_other_sets(c))))


# -- KL divergence ------------------------------------------------------------------------------------------------------

def _keras_kl(c: Case) -> float | None:
    x, t = c.pred, c.target
    if x is None or t is None or c.param("log_target") or x.dim() == 0:
        return None
    per_row = kl_exp_terms(c, KERAS_EPS)[0]  # (from the pass that also makes the swapped direction's terms)
    if per_row is None:
        per_row = _keras_kl_rows(c.pred64(), _clipped(c.target64(), KERAS_EPS, 1.0, c.target_range()))
    return float(per_row.mean()) if c.reduction in ("mean", "batchmean") else float(per_row.sum())


def _keras_kl_rows(x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Σ over the last dimension of p·log(p / q), q = e^x clipped to [1e-7, 1] (Keras' KLDivergence of each row)."""
    q = torch.exp(x).clamp_(KERAS_EPS, 1.0)
    return torch.div(p, q, out=q).log_().mul_(p).sum(-1)  # p·log(p / q), in q's buffer


KERAS_LOG_EPS = math.log(KERAS_EPS)


def _clipped(v: torch.Tensor, low: float, high: float, extent: tuple[float, float] | None = None) -> torch.Tensor:
    """v clipped to [low, high]: v itself where the clip changes nothing (the same values; an enclosure over the
    same tensor shares the terms the correct value's enclosure formed, `Box.shared`), as one reduction (its range,
    or `extent`: v's (min, max) where the caller has it) decides; a NaN range falls through to the clip."""
    if not v.numel():
        return v
    smallest, largest = extent if extent is not None else tensor_extremes(v, one_pass=True)
    return v if low <= smallest and largest <= high else v.clamp(low, high)


def _keras_kl_interval(c: Case) -> Interval | None:
    """log q = log max(e^x, 1e-7) = max(x, log 1e-7) and p clipped to [1e-7, 1]: torch's kl_div on the clipped
    inputs (clips move no two values apart: see Case.run_interval), summed per row, then averaged over the rows
    (batchmean; one row: its sum) or summed. log 1e-7 is a float64 logarithm within an ulp (≤ 4e-15) of the real
    one, and each term moves by p times that at most (p ≤ 1): the enclosure is widened by the row length times 4e-15."""
    x, t = c.pred, c.target
    if x is None or t is None or not t.is_floating_point():
        return None
    by_rows = c.reduction in ("mean", "batchmean") and x.dim() > 1
    reduction = "batchmean" if by_rows else "sum"
    log_q = _clipped(c.pred64(), KERAS_LOG_EPS, 0.0, c.pred_range())
    p = _clipped(c.target64(), KERAS_EPS, 1.0, c.target_range())
    unclipped = log_q is x and p is t  # the clips change nothing: the run is the problem under the other reduction
    iv = c.run_interval(pred=log_q, target=p, reduction=reduction, value=c.reduced_as(reduction) if unclipped else None)
    if iv is None:
        return None
    room = x.shape[-1] * 4e-15 * (1 if by_rows else x.numel() // max(x.shape[-1], 1))
    return math.nextafter(iv[0] - room, -math.inf), math.nextafter(iv[1] + room, math.inf)


def _keras_kl_bound(c: Case) -> tuple[float, float] | None:
    """A bound on `_keras_kl` and on its enclosure (`_keras_kl_interval`), from the correct enclosure instead of the pass
    over e^x that Keras' value needs. Where: pred log q (input log_probabilities, log_target false, base e) of at least
    one dimension, a point box (see `point_box`), every p in [1e-7, 1] and every x in [log 1e-7 + 1e-6, 0] (no clip
    fires: checked on the shared ranges), n·u small; None elsewhere (and where anything fails).

    Proof. n elements, C = the last dimension, R = n / C rows, D = the correct reduction's count (n for mean, the first
    dimension for batchmean), V* the exact KL value of the written inputs (in [lo, hi], the correct enclosure: sound)
    and T* = Σ p·(log p − x) = D·V*. Keras' exact value is Σ p·log(p / e^x) / R = T*/R (no clip). Its float value, with
    torch's float64 exp and log within 2u relative and +, ·, / rounded (u = 2⁻⁵³), as the point bounds assume: q̂ =
    e^x(1 + ε), |ε| ≤ 2u (q̂ > 1e-7 as x ≥ log 1e-7 + 1e-6; the clip to 1 only moves it toward e^x ≤ 1); fl(p / q̂) =
    (p / e^x)(1 + θ), |θ| ≤ 3.01u, so its log is L + η, L = log p − x, |η| ≤ 3.1u, and a term τ = fl(p·fl(log)) is
    within p·(3.01u·|L| + 3.11u) ≤ 3.2u·(M + 1) of p·L, with |L| ≤ M = max(−log min p, −min x) and p ≤ 1, and |τ| ≤ M + 1.
    Summing each row (C terms) and the R row sums, in any order, errs by γ_{C−1} and γ_{R−1} times the sums of
    magnitudes (≤ 1.01·n·(M + 1); Higham §4.2, γ_k ≤ 1.01·k·u for k·u ≤ 0.01), and /R by u relative: the value is
    within (n·(M + 1)/R)·(4.3u + 1.02·(C + R)·u) ≤ E = 1.1·(C + R + 5)·u·n·(M + 1)/R of T*/R, so in
    [lo·D/R − E, hi·D/R + E]. The bound is that interval widened
    by 1e−12 relative and 1e−300 (its own float evaluation) and joined with the convention's enclosure itself, made
    here as `interval_of` makes it (a few reductions over the shared ranges and sums, no pass over e^x): so it
    contains whatever the checker would read off the variant."""
    try:
        return _keras_kl_bound_of(c)
    except (InputError, RuntimeError, ValueError, IndexError, KeyError, TypeError, ZeroDivisionError, OverflowError):
        return None


def _keras_kl_bound_of(c: Case) -> tuple[float, float] | None:
    bound = _keras_kl_value_bound(c)
    if bound is None:
        return None
    lo, hi = bound
    enclosure = _keras_kl_interval(c)
    if enclosure is not None and not (math.isnan(enclosure[0]) or math.isnan(enclosure[1])):
        lo, hi = min(lo, enclosure[0]), max(hi, enclosure[1])
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    return lo - 1e-12 * abs(lo) - 1e-300, hi + 1e-12 * abs(hi) + 1e-300


def _keras_kl_value_bound(c: Case) -> tuple[float, float] | None:
    """[lo·D/R − E, hi·D/R + E] of `_keras_kl_bound`'s proof (not yet widened for its own evaluation), where its
    premises hold; else None."""
    x = c.pred
    if x is None or c.target is None or x.dim() == 0 or c.param("log_target") \
            or c.param("input", "log_probabilities") != "log_probabilities" or c.param("log_base", "e") != "e" \
            or c.reduction not in ("mean", "batchmean") or not point_box(c) or not math.isfinite(c.value):
        return None
    r, extent, iv = c.pred_range(), c.target_range(), c.interval
    if r is None or extent is None or iv is None or not (r[0] >= KERAS_LOG_EPS + 1e-6 and r[1] <= 0.0) \
            or not (extent[0] >= KERAS_EPS and extent[1] <= 1.0):
        return None
    n, columns = x.numel(), x.shape[-1]
    rows = n // columns
    if (columns + rows + 5) * U > 1e-3:
        return None
    count = n if c.reduction == "mean" else x.shape[0]
    m = max(-math.log(extent[0]), -r[0]) * (1 + 1e-12)
    error = 1.1 * (columns + rows + 5) * U * n * (m + 1.0) / rows
    return iv[0] * count / rows - error, iv[1] * count / rows + error


convention("keras_kl",
           "den", _declared("keras_kl", lambda c: c.reduction in ("mean", "batchmean") and scalar_value(c)), _keras_kl,
           bound=_keras_kl_bound, interval=_keras_kl_interval)

convention("scipy_rel_entr_sum",
           "den", _declared("scipy_rel_entr_sum", lambda c: c.reduction in ("mean", "batchmean") and scalar_value(c)),
           lambda c: c.reduced_as("sum"), interval=_summed_interval)


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

