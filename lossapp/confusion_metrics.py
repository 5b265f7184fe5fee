"""Metrics from confusion counts (article 003): precision, recall, F1 = Dice, Dice loss, IoU, accuracy,
specificity and MCC, each a step with the counts put in, and the identity F1 = Dice written out.

    lossapp.confusion(20, 5, 10, 65)            # article 003: Dice = F1 = 40/55 = 0.72727...
    lossapp.confusion_from_masks("[1, 1, 0, 0]", "[1, 0, 1, 0]", threshold=0.5)
    lossapp.compute("confusion", tp=20, fp=5, fn=10, tn=65, metric="iou")   # delegates here

Conventions (decided here):

- Counts are non-negative integers (ints, integral floats, or text such as "20"); anything else is an
  InputError "expected a non-negative integer count for tp, got -3". tn is optional: accuracy,
  specificity and MCC need it and are skipped (None in `metrics`, with a warning) without it.
- A zero denominator (0/0) makes that metric undefined: its value is NaN (null in the JSON) and its step
  says why and what the usual conventions give (scikit-learn's zero_division=0 or 1; the Dice loss with
  ε gives Dice = 1 for two empty masks). Nothing is silently replaced by 0 or 1.
- F1 is computed as 2TP/(2TP+FP+FN) (as scikit-learn does), so F1 = Dice always; the 2PR/(P+R) form is
  shown next to it and is 0/0 when TP = 0.
- From masks: ŷ = 1 where pred ≥ threshold (a 0/1 pred is used as it is), target must be 0/1.

The reference is an independent torch computation: 0/1 masks are rebuilt from the counts (up to
MASK_LIMIT elements; beyond that the formulas are evaluated on count tensors) and the metric is taken
from set operations (&, |, ==) and, for MCC, the Pearson correlation of the two masks (torch.corrcoef).
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any

import torch

from lossapp.i18n import msg
from lossapp.inputs import (
    InputError,
    TensorInput,
    limits,
    quote,
    read_tensor,
    require_binary,
    require_finite,
    require_probabilities,
    require_same_shape,
)
from lossapp.interval import Box, EnclosureUnavailable, Iv, interval_formula
from lossapp.reference import Comparison, compare_values
from lossapp.registry import LossSpec, Param, register
from lossapp.result import Result
from lossapp.trace import Trace, fmt

METRICS = ("precision", "recall", "f1", "dice", "dice_loss", "iou", "accuracy", "specificity", "mcc")
NEEDS_TN = ("accuracy", "specificity", "mcc")
METRIC_ALIASES = {"f1_score": "f1", "f": "f1", "jaccard": "iou", "sensitivity": "recall", "tpr": "recall",
                  "ppv": "precision", "tnr": "specificity", "acc": "accuracy", "dice_coefficient": "dice",
                  "matthews": "mcc", "dice loss": "dice_loss", "diceloss": "dice_loss"}
MASK_LIMIT = 1_000_000  # the reference rebuilds masks up to this many elements
COUNT_LIMIT = limits.MAX_COUNT  # counts stay exact in float64
NAN = float("nan")


# -- input checks ------------------------------------------------------------------------------------

def _count(name: str, raw: Any) -> int:
    """A non-negative integer count, from an int, an integral float or text; InputError otherwise."""
    def bad(shown: Any) -> InputError:
        return InputError("confusion.not_a_count", name=name, got=shown)

    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise bad(msg("confusion.nothing"))
    if isinstance(raw, torch.Tensor) and raw.numel() == 1:
        raw = raw.item()
    if isinstance(raw, bool):
        raise bad(raw)
    if isinstance(raw, str):
        text = raw.strip()
        if len(text) > limits.MAX_COUNT_CHARS or not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
            if len(text) > limits.MAX_COUNT_CHARS and re.fullmatch(r"\+?\d+", text):
                raise InputError("confusion.count_too_large", name=name, got=quote(text, limits.MAX_COUNT_CHARS))
            raise bad(quote(raw))
        value: Any = float(text) if re.search(r"[.eE]", text) else int(text)
    elif isinstance(raw, numbers.Integral):
        value = int(raw)
    elif isinstance(raw, numbers.Real):
        value = float(raw)
    else:
        raise bad(msg("confusion.a_type", type=type(raw).__name__))
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise bad(raw if not isinstance(raw, str) else raw.strip())
        value = int(value)
    if value < 0:
        raise bad(raw if not isinstance(raw, str) else raw.strip())
    if value > COUNT_LIMIT:
        written = raw.strip() if isinstance(raw, str) else str(raw)
        raise InputError("confusion.count_too_large", name=name,
                         got=written if len(written) <= limits.MAX_COUNT_CHARS else quote(written, limits.MAX_COUNT_CHARS))
    return value


def _metric(raw: Any) -> str:
    text = str(raw if raw is not None else "dice").strip().lower().replace("-", "_")
    text = METRIC_ALIASES.get(text, text)
    if text not in METRICS:
        raise InputError("confusion.unknown_metric", metrics=", ".join(METRICS), got=quote(raw))
    return text


# -- the steps ---------------------------------------------------------------------------------------

def _div(num: float, den: float) -> float:
    return num / den if den != 0 else NAN


# The notes written where a denominator is 0 (0/0: undefined, reported as NaN, never silently 0 or 1).
ZERO_NOTES = {name: msg(f"confusion.zero_{name}")
              for name in ("precision", "recall", "dice", "iou", "accuracy", "specificity", "mcc")}
F1_NOTE = msg("confusion.f1_note")
F1_EDGE_NOTE = msg("confusion.f1_edge_note")


def metric_steps(trace: Trace, tp: int, fp: int, fn: int, tn: int | None) -> dict[str, float | None]:
    """Write one step per metric (the counts substituted) and return them all (None: needs tn)."""
    prec = _div(tp, tp + fp)
    trace.add("P", msg("confusion.precision"), r"P = \frac{TP}{TP + FP}", prec, sub=rf"\frac{{{tp}}}{{{tp} + {fp}}}",
              note=ZERO_NOTES["precision"] if tp + fp == 0 else "")
    rec = _div(tp, tp + fn)
    trace.add("R", msg("confusion.recall"), r"R = \frac{TP}{TP + FN}", rec, sub=rf"\frac{{{tp}}}{{{tp} + {fn}}}",
              note=ZERO_NOTES["recall"] if tp + fn == 0 else "")
    dice = _div(2 * tp, 2 * tp + fp + fn)
    trace.add("Dice", msg("confusion.dice"), r"\mathrm{Dice} = \frac{2TP}{2TP + FP + FN}", dice,
              sub=rf"\frac{{2 \cdot {tp}}}{{2 \cdot {tp} + {fp} + {fn}}} = \frac{{{2 * tp}}}{{{2 * tp + fp + fn}}}",
              note=ZERO_NOTES["dice"] if 2 * tp + fp + fn == 0 else "")
    if math.isnan(prec) or math.isnan(rec) or prec + rec == 0:
        pr_text, note = r"\frac{2PR}{P + R}\ \text{(undefined here)}", F1_EDGE_NOTE
    else:
        pr_text = (rf"\frac{{2 \cdot {fmt(prec)} \cdot {fmt(rec)}}}{{{fmt(prec)} + {fmt(rec)}}} = "
                   rf"\frac{{{fmt(2 * prec * rec)}}}{{{fmt(prec + rec)}}}")
        note = F1_NOTE
    trace.add("F1", msg("confusion.f1"),
              r"F_1 = \frac{2PR}{P + R} = \frac{2TP}{2TP + FP + FN} = \mathrm{Dice}", dice,
              sub=rf"{pr_text} = \frac{{2 \cdot {tp}}}{{2 \cdot {tp} + {fp} + {fn}}} = {fmt(dice)}", note=note)
    trace.add("L_dice", msg("confusion.dice_loss"), r"L_{dice} = 1 - \mathrm{Dice}", 1 - dice, sub=rf"1 - {fmt(dice)}")
    iou = _div(tp, tp + fp + fn)
    trace.add("IoU", msg("confusion.iou"),
              r"\mathrm{IoU} = \frac{TP}{TP + FP + FN} = \frac{\mathrm{Dice}}{2 - \mathrm{Dice}}",
              iou, sub=rf"\frac{{{tp}}}{{{tp} + {fp} + {fn}}}", note=ZERO_NOTES["iou"] if tp + fp + fn == 0 else "")
    metrics: dict[str, float | None] = {"precision": prec, "recall": rec, "f1": dice, "dice": dice,
                                        "dice_loss": 1 - dice, "iou": iou,
                                        "accuracy": None, "specificity": None, "mcc": None}
    if tn is None:
        trace.warn(msg("confusion.tn_not_given"))
        return metrics
    total = tp + fp + fn + tn
    acc = _div(tp + tn, total)
    trace.add("Acc", msg("confusion.accuracy"), r"\mathrm{Acc} = \frac{TP + TN}{TP + FP + FN + TN}", acc,
              sub=rf"\frac{{{tp} + {tn}}}{{{tp} + {fp} + {fn} + {tn}}}", note=ZERO_NOTES["accuracy"] if total == 0 else "")
    spec_ = _div(tn, tn + fp)
    trace.add("Spec", msg("confusion.specificity"), r"\mathrm{Spec} = \frac{TN}{TN + FP}", spec_, sub=rf"\frac{{{tn}}}{{{tn} + {fp}}}",
              note=ZERO_NOTES["specificity"] if tn + fp == 0 else "")
    factors = (tp + fp, tp + fn, tn + fp, tn + fn)
    den = math.sqrt(math.prod(float(f) for f in factors))
    mcc = _div(tp * tn - fp * fn, den)
    trace.add("MCC", msg("confusion.mcc"),
              r"\mathrm{MCC} = \frac{TP \cdot TN - FP \cdot FN}{\sqrt{(TP + FP)(TP + FN)(TN + FP)(TN + FN)}}", mcc,
              sub=(rf"\frac{{{tp} \cdot {tn} - {fp} \cdot {fn}}}{{\sqrt{{{factors[0]} \cdot {factors[1]} \cdot "
                   rf"{factors[2]} \cdot {factors[3]}}}}} = \frac{{{tp * tn - fp * fn}}}{{{fmt(den)}}}"),
              note=ZERO_NOTES["mcc"] if den == 0 else "")
    metrics.update(accuracy=acc, specificity=spec_, mcc=mcc)
    return metrics


def _count_steps(trace: Trace, counts: dict[str, int | None]) -> None:
    for key, title, meaning in (("tp", msg("confusion.tp"), msg("confusion.tp_meaning")),
                                ("fp", msg("confusion.fp"), msg("confusion.fp_meaning")),
                                ("fn", msg("confusion.fn"), msg("confusion.fn_meaning")),
                                ("tn", msg("confusion.tn"), msg("confusion.tn_meaning"))):
        if counts[key] is not None:
            trace.add(key.upper(), title, key.upper(), float(counts[key]), note=meaning)


def mask_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, threshold: float) -> dict[str, int]:
    """ŷ from pred (thresholded unless already 0/1), the four masks, and the counts (elementary ops)."""
    pred, target = pred.double(), target.double()
    if bool(((pred == 0) | (pred == 1)).all()):
        yhat = trace.add("ŷ", msg("confusion.predicted_mask"), r"\hat{y}_i = p_i", pred.clone(),
                         note=msg("confusion.already_a_mask"))
    else:
        yhat = trace.add("ŷ", msg("confusion.predicted_mask"), rf"\hat{{y}}_i = [p_i \ge {fmt(threshold)}]", (pred >= threshold).double(),
                         sub=rf"[$p \ge {fmt(threshold)}]", p=pred)
    y = target
    masks = {"tp": yhat * y, "fp": yhat * (1 - y), "fn": (1 - yhat) * y, "tn": (1 - yhat) * (1 - y)}
    formulas = {"tp": r"\hat{y}_i\, y_i", "fp": r"\hat{y}_i (1 - y_i)", "fn": r"(1 - \hat{y}_i)\, y_i",
                "tn": r"(1 - \hat{y}_i)(1 - y_i)"}
    titles = {"tp": msg("confusion.tp_mask"), "fp": msg("confusion.fp_mask"), "fn": msg("confusion.fn_mask"),
              "tn": msg("confusion.tn_mask")}
    subs = {"tp": r"$h \cdot $y", "fp": r"$h \cdot (1 - $y)", "fn": r"(1 - $h) \cdot $y", "tn": r"(1 - $h)(1 - $y)"}
    for key, mask in masks.items():
        trace.add(f"{key.upper()}_i", titles[key], formulas[key], mask, sub=subs[key], h=yhat, y=y)
    counts = {key: int(mask.sum().item()) for key, mask in masks.items()}
    for key, title in (("tp", msg("confusion.tp")), ("fp", msg("confusion.fp")), ("fn", msg("confusion.fn")),
                       ("tn", msg("confusion.tn"))):
        flat = masks[key].reshape(-1).tolist()
        sub = " + ".join(fmt(v) for v in flat) if len(flat) <= 12 else None
        trace.add(key.upper(), title, rf"{key.upper()} = \sum_i {formulas[key]}", float(counts[key]), sub=sub)
    return counts


# -- the reference: torch set operations on 0/1 masks -----------------------------------------------

def _masks_from_counts(tp: int, fp: int, fn: int, tn: int) -> tuple[torch.Tensor, torch.Tensor]:
    yhat = torch.cat([torch.ones(tp), torch.ones(fp), torch.zeros(fn), torch.zeros(tn)]).bool()
    y = torch.cat([torch.ones(tp), torch.zeros(fp), torch.ones(fn), torch.zeros(tn)]).bool()
    return yhat, y


def reference_from_masks(yhat: torch.Tensor, y: torch.Tensor, metric: str) -> torch.Tensor:
    """The metric from torch set operations on boolean masks (float64; NaN where undefined)."""
    yhat, y = yhat.reshape(-1).bool(), y.reshape(-1).bool()
    inter = (yhat & y).sum().double()
    n_pred, n_true, union = yhat.sum().double(), y.sum().double(), (yhat | y).sum().double()
    if metric == "precision":
        return inter / n_pred
    if metric == "recall":
        return inter / n_true
    if metric in ("f1", "dice", "dice_loss"):
        dice = 2 * inter / (n_pred + n_true)
        return 1 - dice if metric == "dice_loss" else dice
    if metric == "iou":
        return inter / union
    if metric == "accuracy":
        return (yhat == y).double().mean() if yhat.numel() else torch.tensor(NAN, dtype=torch.float64)
    if metric == "specificity":
        return (~yhat & ~y).sum().double() / (~y).sum().double()
    # MCC is the Pearson correlation of the two 0/1 masks (the phi coefficient)
    if yhat.numel() < 2:
        return torch.tensor(NAN, dtype=torch.float64)
    return torch.corrcoef(torch.stack([yhat.double(), y.double()]))[0, 1]


def reference_from_counts(counts: dict[str, int | None], metric: str) -> tuple[torch.Tensor, str]:
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    tn = counts["tn"] or 0
    if tp + fp + fn + tn <= MASK_LIMIT:
        return reference_from_masks(*_masks_from_counts(tp, fp, fn, tn), metric), REFERENCE_NAME
    c = {k: torch.tensor(float(v or 0), dtype=torch.float64) for k, v in counts.items()}
    values = {"precision": c["tp"] / (c["tp"] + c["fp"]), "recall": c["tp"] / (c["tp"] + c["fn"]),
              "dice": 2 * c["tp"] / (2 * c["tp"] + c["fp"] + c["fn"]), "iou": c["tp"] / (c["tp"] + c["fp"] + c["fn"]),
              "accuracy": (c["tp"] + c["tn"]) / (c["tp"] + c["fp"] + c["fn"] + c["tn"]),
              "specificity": c["tn"] / (c["tn"] + c["fp"]),
              "mcc": (c["tp"] * c["tn"] - c["fp"] * c["fn"]) / torch.sqrt(
                  (c["tp"] + c["fp"]) * (c["tp"] + c["fn"]) * (c["tn"] + c["fp"]) * (c["tn"] + c["fn"]))}
    values["f1"] = values["dice"]
    values["dice_loss"] = 1 - values["dice"]
    return values[metric], msg("confusion.reference_formula")


REFERENCE_NAME = msg("confusion.reference_name")


# -- public API --------------------------------------------------------------------------------------

def _result(trace: Trace, counts: dict[str, int | None], metrics: dict[str, float | None], metric: str,
            threshold: float, reference: torch.Tensor, reference_name: str,
            pred: TensorInput | None = None, target: TensorInput | None = None) -> Result:
    value = metrics[metric]
    if value is None:  # cannot happen: metrics needing tn are refused earlier
        raise InputError("confusion.needs_tn", metric=metric)
    if math.isnan(value):
        trace.warn(msg("confusion.undefined", metric=metric))
    cpu, f64 = torch.device("cpu"), torch.float64
    value_tensor = torch.tensor(value, dtype=f64)
    comparison: Comparison = compare_values(CONFUSION_SPEC, value_tensor, reference.double(), cpu, f64)
    comparison.name = reference_name
    params = {**counts, "metric": metric, "threshold": threshold}
    return Result(loss="confusion", params=params, reduction="none", value=value_tensor, steps=trace.steps,
                  reference=comparison, gradient=None, warnings=list(trace.warnings), spec=CONFUSION_SPEC,
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
    counts: dict[str, int | None] = {"tp": _count("tp", tp), "fp": _count("fp", fp), "fn": _count("fn", fn),
                                     "tn": None if tn is None or (isinstance(tn, str) and not tn.strip())
                                     else _count("tn", tn)}
    metric = _metric(metric)
    if metric in NEEDS_TN and counts["tn"] is None:
        raise InputError("confusion.needs_tn", metric=metric)
    trace = Trace()
    _count_steps(trace, counts)
    metrics = metric_steps(trace, counts["tp"], counts["fp"], counts["fn"], counts["tn"])
    reference, name = reference_from_counts(counts, metric)
    return _result(trace, counts, metrics, metric, 0.5, reference, name)


HINT_PRED_MASK = msg("confusion.hint_pred_mask")
HINT_TARGET_MASK = msg("confusion.hint_target_mask")


def confusion_from_masks(pred: Any, target: Any, threshold: float = 0.5, metric: str = "dice") -> Result:
    """Confusion counts and metrics from a prediction (probabilities thresholded at `threshold`, or a 0/1
    mask) and a 0/1 target mask of the same shape. Reference: torch set operations on the masks."""
    threshold = float(CONFUSION_SPEC.resolve_params({"threshold": threshold})["threshold"])
    metric = _metric(metric)
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
    metric = _metric(params.pop("metric", "dice"))
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


# -- the registry entry (so it is listed; compute() delegates to confusion_from_params) --------------

def _spec_steps(trace: Trace, pred: torch.Tensor | None, target: torch.Tensor | None, params: dict[str, Any],
                reduction: str) -> torch.Tensor:
    """Metrics from confusion counts (or from 0/1 masks); not a loss to reduce.

    Unreduced: the chosen metric, e.g. Dice = 2TP/(2TP+FP+FN) = F1; dice_loss = 1 − Dice.
    Reduction: none (one number). Params: tp, fp, fn, tn, metric, threshold.
    Reference: torch set operations on 0/1 masks rebuilt from the counts.
    """
    metric = _metric(params.get("metric", "dice"))
    if pred is not None and params.get("tp") is None:
        counts = mask_steps(trace, pred, target, float(params.get("threshold", 0.5)))
    else:
        counts = {k: _count(k, params.get(k)) if k != "tn" or params.get(k) is not None else None
                  for k in ("tp", "fp", "fn", "tn")}
        _count_steps(trace, counts)
    metrics = metric_steps(trace, counts["tp"], counts["fp"], counts["fn"], counts["tn"])
    value = metrics[metric]
    return torch.tensor(NAN if value is None else value, dtype=torch.float64)


def _spec_reference(pred: torch.Tensor | None, target: torch.Tensor | None, params: dict[str, Any],
                    reduction: str) -> torch.Tensor:
    metric = _metric(params.get("metric", "dice"))
    if pred is not None and params.get("tp") is None:
        binary = bool(((pred == 0) | (pred == 1)).all())
        return reference_from_masks(pred.bool() if binary else pred >= params.get("threshold", 0.5), target.bool(), metric)
    counts = {k: (None if params.get(k) is None else _count(k, params.get(k))) for k in ("tp", "fp", "fn", "tn")}
    return reference_from_counts(counts, metric)[0]


# -- rounding enclosure (lossapp.interval): the counts are exact integers (from masks too, unless a rounded
# prediction could fall on the other side of the threshold), and the metric is a few float64 operations on them:
# the computed value moved 2 ulps each way (8·2⁻⁵³ relative) encloses the exact metric.

@interval_formula("exact counts")
def _enclosure(box: Box) -> Iv:
    pred = box.pred
    if pred is not None and pred.is_floating_point() and not bool(((pred == 0) | (pred == 1)).all()):
        threshold = float(box.params["threshold"])
        p = box.pred_box()
        if bool(((p.lo < threshold) & (p.hi >= threshold)).any()):
            raise EnclosureUnavailable(msg("interval.threshold_crossed", threshold=threshold))
    return Iv.around(box.value, ulps=2)


CONFUSION_SPEC = register(LossSpec(
    name="confusion", family="metrics", title=msg("confusion.title"),
    summary=msg("confusion.summary"),
    formula=r"\mathrm{Dice} = F_1 = \frac{2TP}{2TP + FP + FN}",
    pred_kind="counts", target_kind=None,
    params=(Param("tp", None, "int", msg("confusion.param_tp"), 0, COUNT_LIMIT),
            Param("fp", None, "int", msg("confusion.param_fp"), 0, COUNT_LIMIT),
            Param("fn", None, "int", msg("confusion.param_fn"), 0, COUNT_LIMIT),
            Param("tn", None, "int", msg("confusion.param_tn"), 0, COUNT_LIMIT),
            Param("metric", "dice", "choice", msg("confusion.param_metric"), choices=METRICS),
            Param("threshold", 0.5, "float", msg("confusion.param_threshold"), 0.0, 1.0)),
    steps=_spec_steps, enclosure=_enclosure, reference=_spec_reference, reference_name=REFERENCE_NAME,
    aliases=("confusion_matrix", "metrics", "f1", "f1_score", "precision_recall"),
    reductions=("none",), default_reduction="none", differentiable=False, target_dtype="float",
    example={"pred": None, "target": None, "params": {"tp": 20, "fp": 5, "fn": 10, "tn": 65}},
    torch_code=(
        "yhat = torch.cat([torch.ones(tp), torch.ones(fp), torch.zeros(fn), torch.zeros(tn or 0)]).bool()\n"
        "y = torch.cat([torch.ones(tp), torch.zeros(fp), torch.ones(fn), torch.zeros(tn or 0)]).bool()\n"
        "inter = (yhat & y).sum().double()\n"
        "{'precision': inter / yhat.sum(), 'recall': inter / y.sum(), 'f1': 2 * inter / (yhat.sum() + y.sum()),\n"
        " 'dice': 2 * inter / (yhat.sum() + y.sum()), 'dice_loss': 1 - 2 * inter / (yhat.sum() + y.sum()),\n"
        " 'iou': inter / (yhat | y).sum(), 'accuracy': (yhat == y).double().mean(),\n"
        " 'specificity': (~yhat & ~y).sum() / (~y).sum(),\n"
        " 'mcc': torch.corrcoef(torch.stack([yhat.double(), y.double()]))[0, 1]}[metric]"),
))

