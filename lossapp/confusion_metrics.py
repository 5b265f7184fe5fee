"""Results from confusion counts (article 003): the public `lossapp.confusion` and what
`lossapp.compute("confusion", ...)` delegates to. The metric spec, its steps and its reference live in
`lossapp.losses.confusion`; this module adds the comparison with the reference and the Result.

    lossapp.confusion(20, 5, 10, 65)            # article 003: Dice = F1 = 40/55 = 0.72727...
    confusion_from_masks("[1, 1, 0, 0]", "[1, 0, 1, 0]", threshold=0.5)
    lossapp.compute("confusion", tp=20, fp=5, fn=10, tn=65, metric="iou")   # delegates here
"""

from __future__ import annotations

import math
from typing import Any

import torch

from lossapp.exceptions import StepWarning, UndefinedMetricWarning, categorized
from lossapp.i18n import msg
from lossapp.inputs import (
    InputError,
    TensorInput,
    read_tensor,
    require_binary,
    require_finite,
    require_probabilities,
    require_same_shape,
)
from lossapp.losses.confusion import (
    CONFUSION_SPEC,
    METRICS,
    NEEDS_TN,
    REFERENCE_NAME,
    count_steps,
    mask_steps,
    metric_steps,
    read_count,
    read_metric,
    reference_from_counts,
    reference_from_masks,
)
from lossapp.reference import Comparison, compare_values
from lossapp.result import Result
from lossapp.trace import Trace


def _result(trace: Trace, counts: dict[str, int | None], metrics: dict[str, float | None], metric: str,
            threshold: float, reference: torch.Tensor, reference_name: str,
            pred: TensorInput | None = None, target: TensorInput | None = None) -> Result:
    value = metrics[metric]
    if value is None:  # cannot happen: metrics needing tn are refused earlier
        raise InputError("confusion.needs_tn", metric=metric)
    if math.isnan(value):
        trace.warn(categorized([msg("confusion.undefined", metric=metric)], UndefinedMetricWarning)[0])
    cpu, f64 = torch.device("cpu"), torch.float64
    value_tensor = torch.tensor(value, dtype=f64)
    comparison: Comparison = compare_values(CONFUSION_SPEC, value_tensor, reference.double(), cpu, f64)
    comparison.name = reference_name
    params = {**counts, "metric": metric, "threshold": threshold}
    return Result(loss=CONFUSION_SPEC.name, params=params, reduction="none", value=value_tensor, steps=trace.steps,
                  reference=comparison, gradient=None, warnings=categorized(trace.warnings, StepWarning), spec=CONFUSION_SPEC,
                  pred=pred, target=target,
                  extra={"metrics": {k: metrics[k] for k in METRICS}, "counts": dict(counts), "metric": metric})


def confusion(tp: Any, fp: Any, fn: Any, tn: Any = None, *, metric: str = "dice") -> Result:
    """Metrics from confusion counts: `value` is the chosen metric (default dice); every metric is in
    `result.extra["metrics"]` / `to_dict()["metrics"]` (None where TN is needed and not given).

    Formulas: P = TP/(TP+FP), R = TP/(TP+FN), F1 = Dice = 2TP/(2TP+FP+FN), Dice loss = 1 − Dice,
    IoU = TP/(TP+FP+FN), accuracy = (TP+TN)/total, specificity = TN/(TN+FP),
    MCC = (TP·TN − FP·FN)/√((TP+FP)(TP+FN)(TN+FP)(TN+FN)); 0/0 is NaN with a note.
    Reference: the metric from torch set operations on 0/1 masks rebuilt from the counts.
    """
    counts: dict[str, int | None] = {"tp": read_count("tp", tp), "fp": read_count("fp", fp), "fn": read_count("fn", fn),
                                     "tn": None if tn is None or (isinstance(tn, str) and not tn.strip())
                                     else read_count("tn", tn)}
    metric = read_metric(metric)
    if metric in NEEDS_TN and counts["tn"] is None:
        raise InputError("confusion.needs_tn", metric=metric)
    trace = Trace()
    count_steps(trace, counts)
    metrics = metric_steps(trace, counts["tp"], counts["fp"], counts["fn"], counts["tn"])
    reference, name = reference_from_counts(counts, metric)
    return _result(trace, counts, metrics, metric, 0.5, reference, name)


HINT_PRED_MASK = msg("confusion.hint_pred_mask")
HINT_TARGET_MASK = msg("confusion.hint_target_mask")


def confusion_from_masks(pred: Any, target: Any, threshold: float = 0.5, metric: str = "dice") -> Result:
    """Confusion counts and metrics from a prediction (probabilities thresholded at `threshold`, or a 0/1
    mask) and a 0/1 target mask of the same shape. Reference: torch set operations on the masks."""
    threshold = float(CONFUSION_SPEC.resolve_params({"threshold": threshold})["threshold"])
    metric = read_metric(metric)
    pred_in = read_tensor(pred, "pred")
    target_in = read_tensor(target, "target")
    x, y = pred_in.values.double(), target_in.values.double()
    require_finite(x, "pred")
    require_finite(y, "target")
    require_same_shape(x, y)
    require_probabilities(x, "pred", hint=HINT_PRED_MASK)
    require_binary(y, "target", allow_soft=False, hint=HINT_TARGET_MASK)
    trace = Trace()
    counts = mask_steps(trace, x, y, threshold)
    full: dict[str, int | None] = dict(counts)
    metrics = metric_steps(trace, counts["tp"], counts["fp"], counts["fn"], counts["tn"])
    binary = bool(((x == 0) | (x == 1)).all())
    yhat = x.bool() if binary else x >= threshold
    reference = reference_from_masks(yhat, y.bool(), metric)
    return _result(trace, full, metrics, metric, threshold, reference, REFERENCE_NAME,
                   pred=TensorInput(x, pred_in.decimals), target=TensorInput(y, target_in.decimals))


def _given(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def confusion_from_params(pred: Any = None, target: Any = None, **params: Any) -> Result:
    """What `lossapp.compute("confusion", ...)` delegates to: counts (tp, fp, fn, tn) or pred/target masks."""
    counts = {k: params.pop(k, None) for k in ("tp", "fp", "fn", "tn")}
    metric = read_metric(params.pop("metric", "dice"))
    rest = CONFUSION_SPEC.resolve_params(params)  # unknown names are an InputError here
    has_counts = any(_given(counts[k]) for k in ("tp", "fp", "fn"))
    if has_counts and _given(pred):
        raise InputError(msg("confusion.both_given"))
    if has_counts:
        return confusion(counts["tp"], counts["fp"], counts["fn"], counts["tn"], metric=metric)
    if _given(pred):
        if not _given(target):
            raise InputError(msg("confusion.no_target_mask"))
        return confusion_from_masks(pred, target, threshold=rest["threshold"], metric=metric)
    raise InputError(msg("confusion.neither_given"))
