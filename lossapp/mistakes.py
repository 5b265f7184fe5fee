"""The catalogue of known wrong computations, per loss family.

Each mistake is a registered `Variant` (see `lossapp.variants`): an id, a title and an explanation (catalog
messages, `mistakes.<id>`), the step of the worked solution where it departs from the correct computation, `applies(case)` and
`compute(case) -> float | None`. A mistake that is a pure rescaling rescales the correct value (log10 for ln:
every term is a multiple of a natural log); the others run the library on transformed inputs or parameters.

`lossapp.check` lists every mistake whose value reproduces a claim to its written decimals, or whose enclosure over
the inputs' rounding box (`interval`, where the mistake gives one: see `lossapp.variants`) holds a value that does.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from lossapp.conventions import KERAS_EPS
from lossapp.interval import POINT_MARGIN, TINY, Box, EnclosureUnavailable, U
from lossapp.losses.classification import xlogx
from lossapp.registry import LOSSES
from lossapp.variants import (
    Case,
    Interval,
    Reachable,
    Variant,
    VariantValue,
    activated,
    class_dim,
    evaluate,
    finite,
    focal_alpha,
    focal_alpha_bound,
    focal_base,
    focal_rerun,
    in_blocks,
    kl_swapped_terms,
    labels_swapped,
    labels_swapped_bound,
    labels_swapped_interval,
    logit_label_sums,
    mapped,
    no_alpha,
    no_alpha_interval,
    overlap_again_bound,
    overlap_value,
    point_box,
    register,
    scalar_value,
    scaled,
    softmax,
    variant_texts,
)

LN10, LN2 = math.log(10.0), math.log(2.0)

MISTAKES: dict[str, Variant] = {}


def mistake(id: str, step: str, applies: Callable[[Case], bool], compute: Callable[[Case], float | None],
            *, table: str = "mistakes", interval: Callable[[Case], Interval | None] | None = None,
            bound: Callable[[Case], tuple[float, float] | None] | None = None) -> Variant:
    """Register a known mistake (its title and explanation: `<table>.<id>` in the catalogs). A mistake about one
    loss alone is registered by that loss's module, with its texts in the module's own table, and listed in its
    spec's `mistakes`: `mistake("x", "l", declared("x"), compute, table="<module>")` (texts `<module>.x.title`, `.explanation`).
    `interval`: the mistake's enclosure over the inputs' rounding box, where it can be formed (`Variant.interval`);
    `bound`: an interval sure to hold its value, found without computing it (`Variant.bound`)."""
    title, explanation = variant_texts(table, id, "title", "explanation")
    return register(MISTAKES, Variant(id, title, explanation, step, applies, compute, interval=interval, bound=bound))


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
    base = case.param("log_base", "e")  # a value already in base b (the loss's log_base) is ln-value / ln b
    factor *= 1.0 if base == "e" else math.log(float(base))
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


def _log_scaled_interval(case: Case, factor: float) -> Interval | None:
    """The enclosure of _log_scaled: the correct enclosure scaled (a combined loss's parts scale apart: none)."""
    return None if case.spec.parts else scaled(case.interval, factor)


def declared(id: str, also: Callable[[Case], bool] = scalar_value) -> Callable[[Case], bool]:
    """Applies where the loss's spec lists this mistake as one of its own (LossSpec.mistakes) and `also` holds."""
    return lambda case: id in case.spec.mistakes and also(case)


def _has_batchmean(c: Case) -> bool:
    return "batchmean" in c.spec.reductions


def _pred_in_unit(c: Case) -> bool:
    """Every pred value in [0, 1] (from the shared range of pred)."""
    r = c.pred_range()
    return r is not None and r[0] >= 0 and r[1] <= 1


# -- generic: logs and signs -------------------------------------------------------------------------------

mistake("log10",
        "log", lambda c: _uses_log(c) and scalar_value(c), lambda c: _log_scaled(c, 1 / LN10),
        interval=lambda c: _log_scaled_interval(c, 1 / LN10))

mistake("log2",
        "log", lambda c: _uses_log(c) and scalar_value(c), lambda c: _log_scaled(c, 1 / LN2),
        interval=lambda c: _log_scaled_interval(c, 1 / LN2))

mistake("missing_minus",
        "l", lambda c: _uses_log(c) and scalar_value(c), lambda c: _log_scaled(c, -1.0),
        interval=lambda c: _log_scaled_interval(c, -1.0))


# -- reductions ----------------------------------------------------------------------------------------------

def _summed(c: Case) -> float | None:
    """The value under reduction sum. A root of the reduced terms (LossSpec.related "root_of") is the root of Σ l. A
    combined loss's parts reduce separately: λ_dice·Σ l_dice + λ·Σ l_part, each Σ l
    the numerator its mean showed (summed as reduction sum sums it, so this is the value a run with sum gives)."""
    parts = c.spec.parts
    if c.spec.related.get("root_of") and c.reduction == "mean" and c.total is not None and c.total >= 0:
        return finite(math.sqrt(c.total))  # the root of the summed terms (RMSE: √Σ d², Σ as reduction sum sums it)
    if parts and c.reduction == "mean":
        nums = [c.step_value(part.symbol.replace("L_", "num_")) for part in parts]
        if all(n is not None for n in nums):
            return finite(float(sum(float(c.param(part.weight, 1.0)) * n for part, n in zip(parts, nums, strict=True))))
    return c.reduced_as("sum")


mistake("sum_instead_of_mean",
        "den", lambda c: c.reduction in ("mean", "batchmean") and "sum" in c.spec.reductions and scalar_value(c),
        _summed, interval=lambda c: c.reduced_interval("sum", value=_summed(c)))

mistake("mean_instead_of_sum",
        "den", lambda c: c.reduction == "sum" and "mean" in c.spec.reductions and scalar_value(c),
        lambda c: c.reduced_as("mean"), interval=lambda c: c.reduced_interval("mean"))

mistake("mean_instead_of_batchmean",
        "den", lambda c: _has_batchmean(c) and c.reduction == "batchmean" and scalar_value(c),
        lambda c: c.reduced_as("mean"), interval=lambda c: c.reduced_interval("mean"))

mistake("batchmean_instead_of_mean",
        "den", lambda c: _has_batchmean(c) and c.reduction == "mean" and scalar_value(c),
        lambda c: c.reduced_as("batchmean"), interval=lambda c: c.reduced_interval("batchmean"))


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
        return c.run(spec.related["logits"], weight=c.param("weight"))  # shared with its enclosure's guard
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


def _probabilities_as_logits_interval(c: Case) -> Interval | None:
    """Where the mistake is a run on the same inputs: the twin on logits, or `input` flipped to logits."""
    if "logits" in c.spec.related:
        return c.run_interval(c.spec.related["logits"], weight=c.param("weight"))
    if c.param("input") == "probabilities":
        return c.run_interval(input="logits")
    return None


def _probabilities_as_logits_bound(c: Case) -> tuple[float, float] | None:
    """Where the mistake is an elementwise loss on logits (LossSpec.derivative) run on z = σ(x) (its sigmoid branch),
    with 0/1 labels and no tensor parameter: every z lies in [σ(min x), σ(max x)], so each term lies in the loss's own
    enclosure over a box holding that range, at label 0 or 1 (the labels present), and a mean lies in the hull of those
    (a sum in n times it); widened by a relative 1e-7 for the float computation of σ, the terms and their sum. Found
    from the range of x and of the labels, and the formula on two elements (no pass over the terms)."""
    spec, x, t = c.spec, c.pred, c.target
    if spec.set_measure:  # an overlap loss: from its per-set sums
        return overlap_again_bound(c)
    logits = spec.related.get("logits")
    if logits is not None and LOSSES[logits].logistic:  # bce: bce_with_logits (the logistic loss) run on p
        return _bce_on_probabilities_bound(c)
    if spec.focal and spec.activation == "softmax" and spec.class_dim:
        return _softmax_focal_on_probabilities_bound(c)
    formula = spec.enclosure
    given = c.param("input", "logits")  # an `input` parameter: the run on σ(x) (logits), or on x itself (probabilities)
    if ("logits" in spec.related or given not in ("logits", "probabilities") or c.param("avg_factor") is not None
            or spec.activation != "sigmoid" or spec.derivative is None
            or formula is None or formula.evaluate is None or c.reduction not in ("mean", "sum") or x is None
            or t is None or not t.is_floating_point() or x.numel() != t.numel() or x.numel() == 0
            or any(isinstance(v, torch.Tensor) for v in c.params.values())):
        return None
    r, rt = c.pred_range(), c.target_range()  # (the target's range shared with the enclosure's point bound)
    t_lo, t_hi = rt if rt is not None else (math.nan, math.nan)
    if r is None or not all(math.isfinite(v) for v in r) or not ({t_lo, t_hi} <= {0.0, 1.0}):
        return None
    if given == "probabilities":  # input="probabilities" read as logits: the run is on z = x itself
        z_lo, z_hi = r
    else:
        z_lo, z_hi = (1.0 / (1.0 + math.exp(-v)) for v in r)  # σ, monotone; within a few ulps of torch's float σ
    z_lo, z_hi = max(0.0, z_lo * (1 - 1e-9) - 1e-300), min(1.0, z_hi * (1 + 1e-9) + 1e-300)
    mid, radius = (z_lo + z_hi) / 2, (z_hi - z_lo) / 2 + 1e-12
    decimals = max(0, math.floor(math.log10(0.5 / radius)))  # ½·10^−d ≥ radius: the box holds [z_lo, z_hi]
    labels = torch.tensor(sorted({t_lo, t_hi}), dtype=torch.float64)
    params = dict(c.params) if "input" not in c.params else {**c.params, "input": "logits"}
    box = Box(torch.full(labels.shape, mid, dtype=torch.float64), labels, np.full(labels.shape, decimals), None,
              params, "none", spec.target_kind)
    try:
        with torch.no_grad():
            terms = formula.evaluate(box)
    except (EnclosureUnavailable, RuntimeError, ValueError, TypeError, KeyError, IndexError):
        return None
    lo, hi = float(terms.lo.min()), float(terms.hi.max())
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    n = float(x.numel()) if c.reduction == "sum" else 1.0
    lo, hi = lo * n, hi * n
    slack = 1e-7 * max(abs(lo), abs(hi)) + 1e-300
    return lo - slack, hi + slack


def _softplus(z: float) -> float:
    """log(1 + e^z), without overflow."""
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def _bce_on_probabilities_bound(c: Case) -> tuple[float, float] | None:
    """A bound on bce's probabilities_as_logits (its logistic twin, LossSpec.logistic: bce_with_logits, run on p as
    logits, with the labels y), without a weight, mean or sum, on a point box (`point_box`), from Σ p and Σ y·p
    (`logit_label_sums`) and p's range [a, b].

    Proof. Per element the run's exact term is −[y·log σ(p) + (1 − y)·log σ(−p)] = sp(p) − y·p, sp(z) = log(1 + e^z)
    (log σ(z) = −sp(−z), sp(z) − sp(−z) = z). sp is convex: by Jensen Σ sp(p_n) ≥ n·sp(P/n) (P = Σ p), and on [a, b]
    it lies below its chord, sp(p) ≤ sp(a) + k·(p − a), k = (sp(b) − sp(a))/(b − a) (0 for a = b), so
    Σ sp(p_n) ≤ n·sp(a) + k·(P − n·a). The exact sum is then in [n·sp(P/n) − I, n·sp(a) + k·(P − n·a) − I],
    I = Σ y·p. Float errors: p ∈ [0, 1] and y ∈ [0, 1] (the prepare's ranges, checked), so P and I are sums of n terms
    ≥ 0, each within 1.01·n·u relative of the exact one (≤ n·u·n absolute, sp and the chord being 1-Lipschitz in P);
    the run's terms have no cancellation (both products ≤ 0), each within 16u relative, their sum within
    (n − 1)·u/(1 − (n − 1)·u) relative, and Σ sp(p) ≤ n·(log 2 + 1); the few float operations here add a few u of
    n·(log 2 + 1). Widening by 2·K·n·(log 2 + 2) with K = 1e−9 + 4·(n + 16)·u covers them all."""
    if c.param("weight") is not None or c.reduction not in ("mean", "sum") or not point_box(c):
        return None
    r, sums = c.pred_range(), logit_label_sums(c)
    if r is None or sums is None or not (r[0] >= 0.0 and r[1] <= 1.0):
        return None
    n, big_p, big_i, _ = sums
    a, b = r
    k = (_softplus(b) - _softplus(a)) / (b - a) if b > a else 0.0
    lo = n * _softplus(big_p / n) - big_i
    hi = n * _softplus(a) + k * (big_p - n * a) - big_i
    slack = 2 * (1e-9 + 4 * (n + 16) * 2.0 ** -53) * n * (math.log(2) + 2) + 1e-300
    scale = n if c.reduction == "mean" else 1.0
    return (lo - slack) / scale, (hi + slack) / scale


def _softmax_focal_on_probabilities_bound(c: Case) -> tuple[float, float] | None:
    """The softmax focal loss l = −α_t (1 − p_t)^γ log p_t run on z = softmax(x) as logits, bounded from C (the number of
    classes), α and the count of samples, with no pass over the terms.

    Proof. Each row of z has z_j ≥ 0, every z_j ≤ 1 + δ and Σ_j z_j ≤ 1 + δ, δ = 1e-6 (z_j = e^{log-softmax}, the
    float log-softmax and exp within a few ulps per class, C ≤ 10^6). log p_t = z_t − log Σ_j e^{z_j}, and
    p_t = a / (a + b) with a = e^{z_t}, b = Σ_{j≠t} e^{z_j}, increasing in a and decreasing in b. Upper: every
    e^{z_j} ≥ 1, so b ≥ C − 1 and a ≤ e^{1+δ}: log p_t ≤ ℓ_hi = (1 + δ) − log(e^{1+δ} + C − 1). Lower: a ≥ 1 and, e^z
    being convex, e^z ≤ 1 + (e^{1+δ} − 1)·z/(1 + δ) on [0, 1 + δ], so b ≤ C − 1 + (e^{1+δ} − 1): log p_t ≥ ℓ_lo =
    −log(C + e^{1+δ} − 1). g(ℓ) = (1 − e^ℓ)^γ·(−ℓ) is ≥ 0 and non-increasing on ℓ ≤ 0 (γ ≥ 0), so each counted term
    lies in [α_min·g(ℓ_hi), α_max·g(ℓ_lo)] (α_t = α[y], a scalar α, or 1), the mean over the counted samples in it too
    and the sum in k times it (k counted samples). ℓ_hi ≤ 1 − log(e + 1) + 2δ < −0.3 for C ≥ 2, so 1 − p_t > 0.25: the
    float terms are within a relative 10^−9 of the real ones (γ ≤ 100), and the float sum of k ≥ 0 terms within
    (k − 1)·u/(1 − (k − 1)·u) relative; the bound is widened by 10^−7 + 4u·k relative (and by 1e-300), enough for both."""
    x, t, params = c.pred, c.target, c.params
    if x is None or t is None or t.is_floating_point() or x.dim() == 0 or c.reduction not in ("mean", "sum") \
            or "gamma" not in params or "ignore_index" not in params:
        return None
    classes = x.shape[class_dim(x)]
    gamma, alpha = float(params["gamma"]), params.get("alpha")
    r = c.pred_range()
    if not (2 <= classes <= 10**6) or not (0 <= gamma <= 100) or r is None or not all(math.isfinite(v) for v in r):
        return None
    if isinstance(alpha, torch.Tensor):
        a = alpha.double()
        if a.numel() == 0 or not bool(((a >= 0) & torch.isfinite(a)).all()):
            return None
        alpha_lo, alpha_hi = float(a.min()), float(a.max())
    else:
        alpha_lo = alpha_hi = float(alpha) if alpha is not None and float(alpha) >= 0 else 1.0
    top = 1.0 + 1e-6
    ell_hi = top - math.log(math.exp(top) + classes - 1)
    ell_lo = -math.log(classes + math.exp(top) - 1)

    def g(ell: float) -> float:
        return (1.0 - math.exp(ell)) ** gamma * -ell
    lo, hi = alpha_lo * g(ell_hi), alpha_hi * g(ell_lo)
    k = float(t.numel())
    if c.reduction == "sum":
        k = float((t != int(params["ignore_index"])).sum())
        lo, hi = lo * k, hi * k
    slack = 1e-7 + 4 * 2.0 ** -53 * k
    return lo * (1 - slack) - 1e-300, hi * (1 + slack) + 1e-300


mistake("probabilities_as_logits",
        "p", lambda c: _takes_logits(c) and scalar_value(c),
        _probabilities_as_logits, interval=_probabilities_as_logits_interval, bound=_probabilities_as_logits_bound)


def _activation_skippable(c: Case) -> bool:
    """The softmax / sigmoid can be left out: the loss has a twin on (log-)probabilities (LossSpec.related), an
    `input` parameter, or an overlap loss's `activation` parameter."""
    spec = c.spec
    return bool({"probabilities", "log_probabilities"} & set(spec.related) or "input" in c.params or spec.set_measure
                or spec.parts)


def _logits_as_probabilities(c: Case) -> float | None:
    spec = c.spec
    if not _pred_in_unit(c):  # (no pred: no range; pred itself is read only where a run needs it)
        return None
    if "probabilities" in spec.related:  # the same loss on probabilities, run on these logits
        return c.run(spec.related["probabilities"], weight=c.param("weight"))  # shared with its enclosure's guard
    if "log_probabilities" in spec.related:  # the same loss on log-probabilities, run on the logits' logs
        if c.param("input", "logits") == "logits" and c.target is not None and not c.target.is_floating_point():
            return c.run(spec.related["log_probabilities"], pred=torch.log(c.pred.double()), weight=c.param("weight"),
                         ignore_index=c.param("ignore_index", -100))
        return None
    if "input" in c.params:
        return c.run(input="probabilities") if c.param("input") == "logits" else None
    if (spec.set_measure or spec.parts) and c.param("activation", "none") != "none":
        if c.param("activation") == "softmax" and c.target is not None and not c.target.is_floating_point():
            return None
        return c.run(activation="none")
    return None


def _logits_as_probabilities_interval(c: Case) -> Interval | None:
    """Where the mistake is a run on the same inputs: the twin on probabilities, or `input` flipped."""
    if not _pred_in_unit(c):
        return None
    if "probabilities" in c.spec.related:
        return c.run_interval(c.spec.related["probabilities"], weight=c.param("weight"))
    if c.param("input") == "logits":
        return c.run_interval(input="probabilities")
    return None


mistake("logits_as_probabilities",
        "p", lambda c: _activation_skippable(c) and scalar_value(c),
        _logits_as_probabilities, interval=_logits_as_probabilities_interval)



mistake("labels_swapped",
        "l", declared("labels_swapped"), labels_swapped,
        interval=lambda c: labels_swapped_interval(c, labels_swapped(c)),
        bound=labels_swapped_bound)


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
        "den", declared("unweighted_mean", lambda c: _has_weight(c) and c.reduction == "mean"
        and scalar_value(c)), _unweighted_mean)


def _weighted_mean(c: Case) -> float | None:
    w, x = c.param("weight"), c.pred
    if c.unreduced is None or x is None:
        return None
    total = float(w.double().expand(x.shape).sum())
    return finite(float(c.unreduced.sum()) / total) if total else None


mistake("weighted_mean",
        "den", declared("weighted_mean", lambda c: _has_weight(c) and c.reduction == "mean"
        and scalar_value(c)), _weighted_mean)

mistake("weight_ignored",
        "w", lambda c: _has_weight(c) and scalar_value(c) and c.spec.kind == "loss",
        lambda c: c.run(weight=None), interval=lambda c: c.run_interval(weight=None))


def _ignored_counted(c: Case) -> float | None:
    counted = _counted(c)
    if counted is None or c.unreduced is None or bool(counted.all()):
        return None
    return finite(float(c.unreduced.sum()) / counted.numel())


mistake("ignored_counted",
        "den", lambda c: "ignore_index" in c.params and not _has_weight(c)
        and c.reduction == "mean" and scalar_value(c), _ignored_counted)

mistake("label_smoothing_ignored",
        "y'", declared("label_smoothing_ignored", lambda c: float(c.param("label_smoothing", 0.0) or 0.0) > 0
        and scalar_value(c)), lambda c: c.run(label_smoothing=0.0),
        interval=lambda c: c.run_interval(label_smoothing=0.0))


# -- focal ------------------------------------------------------------------------------------------------------

def _focal_alpha_variant(c: Case, alpha_t: Callable[[torch.Tensor, float], torch.Tensor],
                         block: Callable[..., None]) -> float | None:
    """The focal terms without α (`focal_base`) times another α_t = alpha_t(y, α), reduced as the correct ones; formed a
    block at a time by `block(out, base, y, scratch, α)`, the same operations (lossapp.trace.in_blocks), where it can be."""
    base = focal_base(c)
    t = c.target
    if base is None or t is None:
        return None
    y, alpha = t.double(), focal_alpha(c)
    terms = c.work(base)  # (reduced at once: the buffer is free again for the next variant)
    if base.dtype != torch.float64 or not in_blocks(terms, lambda *v: block(*v, alpha), base, y, scratch=1):
        terms = alpha_t(y, alpha) * base
    return c.rereduce(terms)


def _swapped_block(out: torch.Tensor, base: torch.Tensor, y: torch.Tensor, spare: torch.Tensor, a: float) -> None:
    """((1 − α)·y + α·(1 − y))·base."""
    torch.mul(y, 1 - a, out=out).add_(torch.neg(y, out=spare).add_(1).mul_(a)).mul_(base)


def _sigmoid_focal(c: Case) -> bool:
    """The sigmoid focal loss itself (not a combined loss): α_t = α·y + (1 − α)·(1 − y), α < 0 turning it off."""
    return c.spec.activation == "sigmoid" and not c.spec.parts


def _alpha_swapped(c: Case) -> float | None:
    """The focal loss with (1 − α)·y + α·(1 − y) for α_t (made once per case: its enclosure's guard reads it too)."""
    return c.shared("alpha_swapped", lambda: _focal_alpha_variant(c, lambda t, a: (1 - a) * t + a * (1 - t),
                                                                  _swapped_block))


mistake("alpha_on_both_classes",
        "alpha_t", declared("alpha_on_both_classes", lambda c: focal_alpha(c) >= 0 and scalar_value(c)),
        lambda c: _focal_alpha_variant(c, lambda t, a: torch.full_like(t, a),
                                       lambda out, base, y, spare, a: torch.mul(base, a, out=out)),
        # α on every term is α times the loss without α (the same denominator)
        interval=lambda c: scaled(c.run_interval(alpha=-1.0, value=no_alpha(c)), focal_alpha(c))
        if _sigmoid_focal(c) else None, bound=lambda c: focal_alpha_bound(c, "alpha_on_both_classes"))

mistake("alpha_swapped",
        "alpha_t", declared("alpha_swapped", lambda c: focal_alpha(c) >= 0 and scalar_value(c)), _alpha_swapped,
        # (1 − α)·y + α·(1 − y) is α_t with 1 − α for α
        interval=lambda c: c.run_interval(alpha=1.0 - focal_alpha(c), value=_alpha_swapped(c))
        if _sigmoid_focal(c) else None, bound=lambda c: focal_alpha_bound(c, "alpha_swapped"))


def _alpha_on(c: Case) -> bool:
    """A focal loss (LossSpec.focal) with α on: per class, or a scalar that is not negative."""
    a = c.param("alpha")
    return c.spec.focal and (isinstance(a, torch.Tensor) or (a is not None and float(a) >= 0))


mistake("no_alpha",
        "alpha_t", lambda c: _alpha_on(c) and scalar_value(c), no_alpha,
        interval=lambda c: no_alpha_interval(c, no_alpha(c)), bound=lambda c: focal_alpha_bound(c, "no_alpha"))

mistake("no_modulating_factor",
        "(1-p_t)^gamma", lambda c: c.spec.focal
        and float(c.param("gamma", 0.0)) != 0 and scalar_value(c), lambda c: focal_rerun(c, gamma=0.0),
        interval=lambda c: None if c.spec.parts else c.run_interval(gamma=0.0))


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


mistake("dice_coefficient_not_loss",
        "l", lambda c: (_measures(c, "dice") and scalar_value(c)) or (_counts(c) and c.param("metric") == "dice_loss"),
        lambda c: _metric(c, "dice") if _counts(c) else _coefficient_value(c))

mistake("iou_coefficient_not_loss",
        "l", lambda c: _measures(c, "iou") and scalar_value(c), _coefficient_value)

mistake("tversky_index_not_loss",
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


mistake("iou_instead_of_dice",
        "D", lambda c: (_measures(c, "dice") and scalar_value(c))
        or (_counts(c) and c.param("metric") in ("dice", "f1", "dice_loss")), _iou_instead_of_dice)


def _dice_instead_of_iou(c: Case) -> float | None:
    if _counts(c):
        return _metric(c, "dice")
    return overlap_value(c, "dice")


mistake("dice_instead_of_iou",
        "J", lambda c: (_measures(c, "iou") and scalar_value(c)) or (_counts(c) and c.param("metric") == "iou"),
        _dice_instead_of_iou)


# -- confusion metrics --------------------------------------------------------------------------------------------

mistake("dice_loss_not_coefficient",
        "F1", lambda c: _counts(c) and c.param("metric") in COUNT_METRICS_DICE,
        lambda c: _metric(c, "dice_loss"))

mistake("precision_recall_swapped",
        "P", lambda c: _counts(c) and c.param("metric") in ("precision", "recall"),
        lambda c: _metric(c, "recall" if c.param("metric") == "precision" else "precision"))

mistake("accuracy_instead_of_metric",
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
    def make() -> float | None:
        u = c.unreduced
        if u is None or c.denominator() is None or ("root_of" not in c.spec.related and not c.plain):
            return c.run(c.spec.related[power])
        return c.rereduce(u.sqrt() if power == "absolute" else u.square())
    return c.shared(("other_power", power), make)  # made once: its enclosure's guard reads it too


def _rmse_mse_swapped_interval(c: Case) -> Interval | None:
    """√ of the MSE's enclosure, or the enclosure of the MSE the RMSE is the root of."""
    root_of = c.spec.related.get("root_of")
    if root_of is None:
        interval = c.interval
        return mapped(interval, math.sqrt) if interval is not None and interval[0] >= 0 else None
    return c.run_interval(root_of, value=_rmse_mse_swapped(c))


def _power_of(c: Case) -> str:
    return "squared" if "squared" in c.spec.related else "absolute"


mistake("rmse_mse_swapped",
        "rmse", declared("rmse_mse_swapped"), _rmse_mse_swapped, interval=_rmse_mse_swapped_interval)

mistake("rmse_as_mean_of_roots",
        "rmse", declared("rmse_as_mean_of_roots"), lambda c: _other_power(c, "absolute"),
        interval=lambda c: c.run_interval(c.spec.related["absolute"], value=_other_power(c, "absolute")))

mistake("l1_mse_swapped",
        "l", declared("l1_mse_swapped"), lambda c: _other_power(c, _power_of(c)),
        interval=lambda c: c.run_interval(c.spec.related[_power_of(c)], value=_other_power(c, _power_of(c))))

mistake("half_mse",
        "l", declared("half_mse"), lambda c: c.value / 2, interval=lambda c: scaled(c.interval, 0.5))

mistake("smooth_l1_without_beta",
        "l", declared("smooth_l1_without_beta", lambda c: float(c.param("beta", 1.0)) != 1.0 and scalar_value(c)),
        lambda c: c.run(beta=1.0), interval=lambda c: c.run_interval(beta=1.0))

def _rescaled(c: Case) -> dict[str, float]:
    """Smooth L1 (β) as Huber with δ = β, or Huber (δ) as smooth L1 with β = δ (LossSpec.related["rescaled"])."""
    if "beta" in c.params:
        return {"delta": max(float(c.param("beta", 1.0)), 1e-6)}
    return {"beta": float(c.param("delta", 1.0))}


def _rescaled_bound(c: Case) -> tuple[float, float] | None:
    """A bound on smooth_l1_huber_swapped on a point box (`point_box`), from the correct value's enclosure alone (no
    pass over the terms): the rescaled loss is r times the correct one, r = β (smooth L1 as Huber with δ = β; not where
    β < 10⁻⁶ makes δ = 10⁻⁶ ≠ β) or 1/δ (Huber as smooth L1 with β = δ).

    Proof. With δ = β, for every real d both losses take the quadratic branch exactly where |d| < β, and there
    0.5·d² = β·(0.5·d²/β), elsewhere δ·(|d| − 0.5·δ) = β·(|d| − 0.5·β): each term, and so the mean or the sum, of the
    rescaled loss at the inputs is h* = r·s*, s* the correct loss there, which the correct enclosure [a, b] holds
    (sound), so h* ∈ r·[a, b] and |h*| ≤ M = r·max(|a|, |b|). The variant's computed value ĥ and its enclosure J (which
    holds h*) lie within W of h*: each term is computed within K·u·(A + t) (K = 8, A = TINY·(3 + 1/β + δ): the regression
    module's point bound), so by interval.point_bound |ĥ − h*| ≤ E/2 with E = c0 + c1·|ĥ|, c1 = 4(K' + n + 1)u ≤ 1/8,
    c0 = 4K'u·A·n (K' = K + POINT_MARGIN; n/D ≤ n), hence |ĥ| ≤ M + E/2 and E ≤ 1.1·(c0 + c1·M); J is either the point
    enclosure [ĥ − E, ĥ + E] (within 1.5·E of h*) or the interval formula on the point (each term 4 ulps outward,
    Iv.sum's 2(n + 1)u of the sum and 2 ulps, the division's ulp: within (4n + 24)·u·M·1.01 + n·2⁻¹⁰⁷⁰ of h*).
    W = 2(c0 + c1·M) + (4n + 32)·u·M + n·2⁻¹⁰⁷⁰ covers both and the few roundings of r·a, r·b, M and W here (each
    within u relative, taken up by the doubled c1 term)."""
    if not point_box(c) or c.reduction not in ("mean", "sum") or not math.isfinite(c.value):
        return None
    interval = c.interval
    if interval is None or not all(math.isfinite(v) for v in interval):
        return None
    if "beta" in c.params:  # smooth L1 (β) as Huber with δ = β
        beta = float(c.param("beta", 1.0))
        if _rescaled(c)["delta"] != beta:
            return None
        r, delta = beta, beta
    else:  # Huber (δ) as smooth L1 with β = δ
        delta = float(c.param("delta", 1.0))
        if not delta > 0:
            return None
        r, beta = 1.0 / delta, delta
    n = float(c.pred.numel()) if c.pred is not None else math.nan
    k = 8 + POINT_MARGIN
    c1 = 4 * (k + n + 1) * U
    if not (math.isfinite(n) and c1 <= 0.125):
        return None
    lo, hi = r * interval[0], r * interval[1]
    m = max(abs(lo), abs(hi))
    c0 = 4 * k * U * TINY * (3 + 1 / beta + delta) * n
    slack = 2 * (c0 + c1 * m) + (4 * n + 32) * U * m + n * 2.0 ** -1070
    if not math.isfinite(slack):
        return None
    return lo - slack, hi + slack


mistake("smooth_l1_huber_swapped",
        "l", declared("smooth_l1_huber_swapped"), lambda c: c.run(c.spec.related["rescaled"], **_rescaled(c)),
        interval=lambda c: c.run_interval(c.spec.related["rescaled"], **_rescaled(c)), bound=_rescaled_bound)


# -- KL divergence --------------------------------------------------------------------------------------------------

def _kl_swapped(c: Case) -> float | None:
    x, t = c.pred, c.target
    if x is None or t is None:
        return None
    x, t = c.pred64(), c.target64()  # (shared, read-only)
    if c.param("log_target"):
        return c.run(pred=t, target=x)
    extent = c.target_range()  # (shared)
    if (extent is None or not extent[0] > 0) and bool((t <= 0).any()):
        return None  # log 0: KL(q‖p) is infinite where p = 0 < q
    if c.param("input", "log_probabilities") == "log_probabilities" and c.param("log_base", "e") == "e" \
            and c.reduction in ("sum", "mean", "batchmean"):
        terms = kl_swapped_terms(c, KERAS_EPS)  # (from the pass that also makes Keras' row sums, where it was made)
        if terms is not None:
            return _kl_swapped_reduced(terms, c.reduction)
        return _kl_swapped_value(x, t, c.reduction)
    return c.run(pred=torch.log(t), target=torch.exp(x))


def _kl_swapped_value(log_q: torch.Tensor, p: torch.Tensor, reduction: str) -> float | None:
    """KL(q‖p) for pred log q and target p > 0, with the arithmetic of kl_div's steps on the swapped inputs (pred
    log p, target q = e^{log q}): l = q log q − q·log p, reduced; what the run gives, without the run's input checks
    (the swapped inputs pass them: log p ≤ 0 for p ≤ 1, and e^{log q} ≤ 1 for log q ≤ 0) or its shown steps.
    (`lossapp.variants.kl_exp_terms` makes the same terms in one pass with Keras' convention where it applies.)"""
    q = torch.exp(log_q)
    return _kl_swapped_reduced(torch.addcmul(xlogx(q), q, torch.log(p), value=-1.0), reduction)


def _kl_swapped_reduced(loss: torch.Tensor, reduction: str) -> float | None:
    """The swapped direction's terms reduced as kl_div's steps reduce: Σ l, / n (mean), / N (batchmean)."""
    total = loss.sum()
    if reduction == "mean":
        total = total / torch.tensor(float(loss.numel()), dtype=loss.dtype)
    elif reduction == "batchmean":
        total = total / (loss.shape[0] if loss.dim() > 0 else 1)
    return finite(float(total))


mistake("kl_direction_swapped",
        "l", declared("kl_direction_swapped"), _kl_swapped)


# -- margin ----------------------------------------------------------------------------------------------------------

def _hinge_01(c: Case) -> float | None:
    t = c.target
    if t is None:
        return None
    return c.run(target=(t.double() + 1) / 2, prepare=False)


mistake("labels_01_not_mapped",
        "yf", declared("labels_01_not_mapped"), _hinge_01)


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
        "l", declared("multi_margin_not_divided_by_C"), lambda c: _multi_margin_scaled(c, extra=False))

mistake("multi_margin_target_included",
        "h", declared("multi_margin_target_included"), lambda c: _multi_margin_scaled(c, extra=True))

mistake("accuracy_instead_of_error",
        "l", declared("accuracy_instead_of_error", lambda c: c.reduction == "mean" and scalar_value(c)),
        lambda c: 1.0 - c.value, interval=lambda c: mapped(c.interval, lambda v: 1.0 - v, increasing=False))


# -- penalties ---------------------------------------------------------------------------------------------------------

mistake("l2_penalty_without_half",
        "l", declared("l2_penalty_without_half"), lambda c: 2 * c.value, interval=lambda c: scaled(c.interval, 2.0))


def _l2_norm(c: Case) -> float | None:
    x = c.pred
    if x is None or c.reduction != "sum":
        return None
    return float(c.param("lam", 0.01)) * float(torch.sqrt((x.double() ** 2).sum()))


mistake("l2_norm_not_squared",
        "||w||_2^2", declared("l2_norm_not_squared"), _l2_norm)

mistake("penalty_without_lambda",
        "l", declared("penalty_without_lambda", lambda c: float(c.param("lam", 0.0)) not in (0.0, 1.0)
        and scalar_value(c)), lambda c: c.value / float(c.param("lam")),
        interval=lambda c: scaled(c.interval, 1.0 / float(c.param("lam"))))


# -- truncated CE ------------------------------------------------------------------------------------------------------

mistake("no_truncation",
        "lambda", declared("no_truncation"), lambda c: c.run(c.spec.related["untruncated"]),
        interval=lambda c: c.run_interval(c.spec.related["untruncated"]))

