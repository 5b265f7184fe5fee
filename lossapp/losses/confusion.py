"""The "confusion" metric spec (kind "metric"): precision, recall, F1 = Dice, Dice loss, IoU, accuracy,
specificity and MCC from confusion counts (article 003), each a step with the counts put in, and the identity
F1 = Dice written out. Its Results are made by `lossapp.confusion_metrics` (`lossapp.confusion(20, 5, 10, 65)`,
`confusion_from_masks`, and `lossapp.compute("confusion", tp=20, ...)`, which delegates there); this module
holds the spec, its steps and its reference, upstream of any Result.

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
from numbers import Integral, Real
from typing import Any

import torch

from lossapp.i18n import msg
from lossapp.inputs import InputError, limits, quote
from lossapp.inputs.constraints import Interval, Options
from lossapp.interval import Box, EnclosureUnavailable, Iv, interval_formula
from lossapp.registry import LossSpec, Param, register
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

def read_count(name: str, raw: Any) -> int:
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


def read_metric(raw: Any) -> str:
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


def count_steps(trace: Trace, counts: dict[str, int | None]) -> None:
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


# -- the registry entry (so it is listed; compute() delegates to lossapp.confusion_metrics) ------------

def _spec_steps(trace: Trace, pred: torch.Tensor | None, target: torch.Tensor | None, params: dict[str, Any],
                reduction: str) -> torch.Tensor:
    """Metrics from confusion counts (or from 0/1 masks); not a loss to reduce.

    Unreduced: the chosen metric, e.g. Dice = 2TP/(2TP+FP+FN) = F1; dice_loss = 1 − Dice.
    Reduction: none (one number). Params: tp, fp, fn, tn, metric, threshold.
    Reference: torch set operations on 0/1 masks rebuilt from the counts.

    Shape:
        - pred: None with the counts given as tp, fp, fn (tn); or a 0/1 mask (*) (thresholded at threshold).
        - target: None with counts; else (*), the same shape as pred, 0/1.
        - output: a scalar (reduction none only: one number).

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("confusion", None, tp=20, fp=5, fn=10, tn=65)
        >>> print(f"{r.scalar:.4f}")
        0.7273
    """
    metric = read_metric(params.get("metric", "dice"))
    if pred is not None and params.get("tp") is None:
        counts = mask_steps(trace, pred, target, float(params.get("threshold", 0.5)))
    else:
        counts = {k: read_count(k, params.get(k)) if k != "tn" or params.get(k) is not None else None
                  for k in ("tp", "fp", "fn", "tn")}
        count_steps(trace, counts)
    metrics = metric_steps(trace, counts["tp"], counts["fp"], counts["fn"], counts["tn"])
    value = metrics[metric]
    return torch.tensor(NAN if value is None else value, dtype=torch.float64)


def _spec_reference(pred: torch.Tensor | None, target: torch.Tensor | None, params: dict[str, Any],
                    reduction: str) -> torch.Tensor:
    metric = read_metric(params.get("metric", "dice"))
    if pred is not None and params.get("tp") is None:
        binary = bool(((pred == 0) | (pred == 1)).all())
        return reference_from_masks(pred.bool() if binary else pred >= params.get("threshold", 0.5), target.bool(), metric)
    counts = {k: (None if params.get(k) is None else read_count(k, params.get(k))) for k in ("tp", "fp", "fn", "tn")}
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
    kind="metric",
    name="confusion", family="metrics", title=msg("confusion.title"),
    summary=msg("confusion.summary"),
    formula=r"\mathrm{Dice} = F_1 = \frac{2TP}{2TP + FP + FN}",
    pred_kind="counts", target_kind=None,
    params=(Param("tp", None, Interval(Integral, 0, COUNT_LIMIT), msg("confusion.param_tp")),
            Param("fp", None, Interval(Integral, 0, COUNT_LIMIT), msg("confusion.param_fp")),
            Param("fn", None, Interval(Integral, 0, COUNT_LIMIT), msg("confusion.param_fn")),
            Param("tn", None, Interval(Integral, 0, COUNT_LIMIT), msg("confusion.param_tn")),
            Param("metric", "dice", Options(METRICS), msg("confusion.param_metric")),
            Param("threshold", 0.5, Interval(Real, 0.0, 1.0), msg("confusion.param_threshold"))),
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
