"""Input lint: warnings about inputs that are valid but probably not what was meant.

`mixup_warnings(spec, pred, target, params)` is called by `lossapp.engine.compute` on every computation (after the
loss's own checks passed) and its warnings are shown with the result. It never raises:

- probabilities passed as logits: rows in [0, 1] summing to 1 fed to softmax_focal, or values all in
  [0, 1] fed to bce_with_logits;
- ignore_index inside the class range (a real class is silently dropped);
- every target ignored (nothing is counted: torch's mean is 0/0 = NaN).

Each check reads every element once at most, with a reduction (the extremes, a sum) rather than masks and
`.all()` chains, and stops at the first reduction that rules it out.

Lint is for what the losses themselves do not flag. Their prepare steps already warn about probability
rows given to cross_entropy with input=logits (`classification.CE_PROBABILITIES`), positive entries given
to nll (`classification.NLL_POSITIVE`) and 0/1 targets given to hinge (`margin.HINGE_01`), and the
reduction step about a mean over nothing (its denominator is 0), so lint does not check those again:
each warning is written once, by one module, and shown once.
"""

from __future__ import annotations

from typing import Any

import torch

from lossapp.i18n import Message, msg
from lossapp.losses.stable import class_dim
from lossapp.registry import LossSpec
from lossapp.trace import extremes

ROW_TOL = 1e-3  # rows "sum to 1" within this (inputs are often rounded)
LINTS = ("probabilities_as_logits",)  # the checks a spec may name as its own (LossSpec.lints)

SOFTMAX_FOCAL_PROBABILITIES = msg("lint.softmax_focal_probabilities")
BCE_LOGITS_PROBABILITIES = msg("lint.bce_logits_probabilities")


def mixup_warnings(spec: LossSpec, pred: Any, target: Any, params: dict[str, Any],
                   reduction: str | None = None) -> list[Message]:
    """Warnings about likely mix-ups in otherwise valid input (empty when nothing looks wrong).

    `reduction` (optional) tailors the every-target-ignored warning: only the mean is NaN, and then the
    reduction step itself says so (its denominator is 0), so lint adds nothing."""
    warnings: list[Message] = []
    x = pred if isinstance(pred, torch.Tensor) else None
    t = target if isinstance(target, torch.Tensor) else None
    if not spec.lints and not _has_ignore_index(spec):
        return warnings
    for check in (_probabilities_as_logits, _ignore_index):
        try:
            message = check(spec, x, t, {**params, "__reduction": reduction})
        except (RuntimeError, IndexError, ValueError, TypeError):
            continue  # lint never stops a computation
        warnings.extend(m for m in message if m not in warnings)
    return warnings


def _in_unit(x: torch.Tensor) -> bool:
    """Every value in [0, 1] (one pass: the smallest and the largest)."""
    if x.numel() == 0 or not x.is_floating_point():
        return False
    low, high = extremes(x)
    return low >= 0 and high <= 1


def _rows_are_distributions(x: torch.Tensor) -> bool:
    if x.dim() == 0 or not x.is_floating_point() or x.shape[class_dim(x)] < 2 or not _in_unit(x):
        return False
    low, high = extremes(x.double().sum(class_dim(x)))
    return low >= 1 - ROW_TOL and high <= 1 + ROW_TOL


def _probabilities_as_logits(spec: LossSpec, x: torch.Tensor | None, t: torch.Tensor | None,
                             params: dict[str, Any]) -> list[Message]:
    if x is None:
        return []
    if "probabilities_as_logits" not in spec.lints:
        return []
    if spec.activation == "softmax" and _rows_are_distributions(x):
        return [SOFTMAX_FOCAL_PROBABILITIES]
    if spec.activation == "sigmoid" and _in_unit(x) and bool(((x > 0) & (x < 1)).any()):
        return [BCE_LOGITS_PROBABILITIES]
    return []


def _ignore_index(spec: LossSpec, x: torch.Tensor | None, t: torch.Tensor | None,
                  params: dict[str, Any]) -> list[Message]:
    if not _has_ignore_index(spec) or x is None or t is None or x.dim() == 0:
        return []
    if t.is_floating_point() and tuple(t.shape) == tuple(x.shape):
        return []  # class probabilities: ignore_index does not apply
    if t.is_floating_point() and not bool((t == t.round()).all()):
        return []
    index = int(params.get("ignore_index", -100))
    classes = x.shape[class_dim(x)]
    out = []
    if 0 <= index < classes:
        out.append(msg("lint.ignore_index_is_a_class", index=index, classes=classes, last=classes - 1))
    if t.numel() and params.get("__reduction") is None and _every(t.long(), index):
        out.append(msg("lint.every_target_ignored", index=index))
    return out


def _has_ignore_index(spec: LossSpec) -> bool:
    """Class-index targets with an ignore_index parameter (torch's cross_entropy and nll rule)."""
    return any(p.name == "ignore_index" for p in spec.params)


def _every(t: torch.Tensor, value: int) -> bool:
    """Every entry equals value (one pass: the smallest and the largest)."""
    low, high = torch.aminmax(t)
    return int(low) == value == int(high)


