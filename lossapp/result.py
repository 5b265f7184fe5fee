"""Result: the value, the worked steps, the reference comparison, the per-element table and the JSON.

Output is bounded by default (show few, verify all): `to_dict()` writes each step's shown elements with its
full shape and the count shown, the reduction over every element, and the comparisons over every element
with the worst element; `to_dict(full=True)` writes every element, recomputed from the inputs the Result
keeps (`replay`). `table()` gives every row, built with vectorised numpy columns; `table(rows=k)` the first k
(`rows` says how many there are). pandas is imported by `table()` only. Warnings are messages by id
(`lossapp.i18n.Message`): `to_dict()` writes their English, as DESIGN.md section 4 fixes, and their ids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from lossapp.exceptions import LossappWarning, emit
from lossapp.inputs import TensorInput
from lossapp.reference import Comparison, GradientComparison
from lossapp.registry import LossSpec, params_to_json
from lossapp.trace import Step, as_list, head, shown_count

if TYPE_CHECKING:
    import pandas as pd

ROUND_DIGITS = 6  # decimals of the per-class values listed in one table cell


def json_safe(value: Any) -> Any:
    """Replace NaN and ±inf (not valid JSON) by None, recursively."""
    if value is None or isinstance(value, str | int):  # (bool is an int) the most common leaves, unchanged
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if all(type(v) is float for v in value) and all(map(math.isfinite, value)):  # a step's numbers, at once
            return list(value)
        return [json_safe(v) for v in value]
    if isinstance(value, torch.Tensor):
        return json_safe(value.item() if value.dim() == 0 else value.tolist())
    return value


@dataclass
class Result:
    """What `lossapp.compute` returns.

    Kept for the checker and for replays: `pred` and `target` (as the loss prepared them), `unreduced` (the
    per-element loss, every element), `params`, `reduction`, `spec`. Each step holds its shown elements (every
    element of a small step); `step(symbol).value` and `to_dict(full=True)` give the rest by rerunning the
    computation (`replay`).

    `value` is the reduced value as a float64 tensor on the CPU: shape () for "mean", "sum" and "batchmean", the
    per-element shape for "none"; `scalar` is that value as a float. Lists appear only in `to_dict()`."""

    loss: str
    params: dict[str, Any]
    reduction: str
    value: torch.Tensor
    steps: list[Step]
    reference: Comparison | None
    gradient: GradientComparison | None
    warnings: list[str]  # each a Message (id, fields; as a str, its English) with its `.category` (lossapp.exceptions)
    spec: LossSpec | None = None
    pred: TensorInput | None = None
    target: TensorInput | None = None
    unreduced: torch.Tensor | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. "metrics" for confusion counts
    replay: Any = field(default=None, repr=False, compare=False)  # lossapp.engine.Replay, where there is one

    @property
    def scalar(self) -> float:
        """The value as one float (a value of one element too); a ValueError naming the shape when it has several."""
        if self.value.numel() != 1:
            raise ValueError(f"Result.scalar: expected a value of one element, got shape {tuple(self.value.shape)} "
                             f"(reduction={self.reduction!r}); read result.value, the tensor")
        return self.value.item()

    @property
    def agrees(self) -> bool | None:
        """The one flag for "everything agrees": PyTorch's built-in agrees with the trace in value and (where
        there is one) in gradient. None when there is no built-in to compare with. Every disagreement is also
        written, with where and why, in `warnings`."""
        if self.reference is None:
            return None
        return self.reference.agrees and (self.gradient is None or self.gradient.agrees)

    def emit_warnings(self, stacklevel: int = 2) -> None:
        """Send `warnings` through Python's `warnings.warn`, each with its category (`lossapp.exceptions`), so the
        usual filters apply: `warnings.simplefilter("error", lossapp.ReferenceWarning)` makes a disagreement with
        the built-in an exception."""
        emit(self.warnings, stacklevel=stacklevel + 1)

    def step(self, symbol: str) -> Step:
        """The last step with this symbol (KeyError when there is none)."""
        for s in reversed(self.steps):
            if s.symbol == symbol:
                return s
        raise KeyError(symbol)

    def full_steps(self) -> list[Step]:
        """Every step with its complete value: the steps themselves when they hold it, else one replay."""
        if all(s.held for s in self.steps) or self.replay is None:
            return self.steps
        return self.replay.steps()

    @property
    def rows(self) -> int:
        """How many rows the complete table has (one per element of the unreduced loss, or of pred)."""
        base = self._table_base()
        return 1 if base is None else max(1, math.prod(base))

    def _table_base(self) -> tuple[int, ...] | None:
        if self.unreduced is not None and self.unreduced.dim() > 0:
            return tuple(self.unreduced.shape)
        return self.pred.shape if self.pred is not None else None

    def table(self, rows: int | None = None) -> pd.DataFrame:
        """One row per element of the unreduced loss (per sample for class losses), with the inputs and every
        intermediate of that shape as columns; per-class intermediates become lists (rounded to 6 decimals).

        Every row by default; the first `rows` with rows=k (`self.rows` says how many there are in all). Steps that
        keep only their first elements are replayed once when the rows asked for go beyond them."""
        import pandas as pd

        shape = self._table_base()
        if shape is None:
            return pd.DataFrame({s.symbol: [s.value_list()] for s in self.steps if s.shape == ()})
        total = max(1, math.prod(shape))
        n = total if rows is None else max(0, min(int(rows), total))
        replay = any(not s.held and (n > s.shown or s.shape != shape) and _is_column(s.shape, shape)
                     for s in self.steps)
        steps = self.full_steps() if replay else self.steps
        columns: dict[str, Any] = {}
        if shape:
            columns["index"] = _index_column(n, shape)
        for name, tensor in (("pred", self.pred.values if self.pred else None),
                             ("target", self.target.values if self.target else None)):
            column = _column(tensor, shape, n)
            if column is not None:
                columns[name] = column
        seen: dict[str, int] = {}
        for s in steps:
            if not s.shape or s.symbol in ("L", "num", "den"):
                continue
            column = _column(s.value if s.held else s.shown_values().reshape(-1), shape, n,
                             None if s.held else s.shape)
            if column is None:
                continue
            seen[s.symbol] = seen.get(s.symbol, 0) + 1
            key = s.symbol if seen[s.symbol] == 1 else f"{s.symbol} ({seen[s.symbol]})"
            columns[key] = column
        return pd.DataFrame(columns)

    def to_dict(self, full: bool = False) -> dict[str, Any]:
        """The JSON of DESIGN.md section 4, bounded (see the module docstring); full=True writes every element."""
        steps = self.full_steps() if full else self.steps
        value, shape, count = _bounded(self.value, full)
        gradient = None
        if self.gradient is not None:
            pair = self.replay.gradients() if full and self.replay is not None else None
            gradient = self.gradient.to_dict(pair)
        out: dict[str, Any] = {
            "loss": self.loss,
            "params": params_to_json(self.params),
            "reduction": self.reduction,
            "value": value,
            **({"value_shape": shape, "value_shown": count} if self.value.dim() else {}),
            "steps": [s.to_dict(full) for s in steps],
            "reference": self.reference.to_dict(full) if self.reference else None,
            "gradient": gradient,
            "warnings": list(self.warnings),
            "warning_ids": [getattr(w, "id", None) for w in self.warnings],  # the catalog id of each warning
            "warning_categories": [getattr(w, "category", LossappWarning).__name__ for w in self.warnings],
            "agrees": self.agrees,
        }
        out.update(self.extra)
        return json_safe(out)


def _bounded(value: torch.Tensor, full: bool) -> tuple[Any, list[int], int]:
    """A value as written by default: whole (a float or a nested list) up to COMPLETE_MAX elements, else the
    first SHOWN elements as a flat list; with its shape and how many elements it holds."""
    count = value.numel()
    shown = count if full else shown_count(count)
    if shown == count:
        return as_list(value), list(value.shape), count
    return value.reshape(-1)[:shown].tolist(), list(value.shape), shown


def _is_column(step_shape: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """Whether a step of this shape is a column of the table: the table's shape, or one class dimension more."""
    if step_shape == shape:
        return True
    class_dim = 1 if len(shape) >= 1 else 0
    return len(step_shape) == len(shape) + 1 and step_shape[:class_dim] + step_shape[class_dim + 1:] == shape


def _index_column(n: int, shape: tuple[int, ...]) -> Any:
    """0, 1, 2, ... for a 1-D table, else '(i, j, ...)' texts, built with numpy string operations."""
    if len(shape) == 1:
        return np.arange(n)
    parts = np.unravel_index(np.arange(n), shape)
    text = np.char.add("(", parts[0].astype(str))
    for p in parts[1:]:
        text = np.char.add(np.char.add(text, ", "), p.astype(str))
    return np.char.add(text, ")").astype(object)


def _column(tensor: torch.Tensor | None, shape: tuple[int, ...], n: int,
            full_shape: tuple[int, ...] | None = None) -> Any:
    """The first n rows of a column: a tensor of the table's shape gives numbers; one with a class dimension more
    gives a list per row. `full_shape`: the shape of a tensor of which only the first elements are given."""
    if tensor is None:
        return None
    t = tensor.detach()
    t_shape = full_shape or tuple(t.shape)
    if t_shape == shape:
        if t.numel() < n and full_shape is not None:
            return None
        values = (t.reshape(-1)[:n] if t.is_contiguous() or full_shape else head(t, n)).cpu()
        return values.numpy() if values.is_floating_point() else values.tolist()
    if full_shape is not None or len(t_shape) != len(shape) + 1:
        return None
    class_dim = 1 if len(shape) >= 1 else 0
    moved = t.movedim(class_dim, -1)
    if tuple(moved.shape[:-1]) != shape:
        return None
    rows = moved.reshape(-1, moved.shape[-1])[:n].cpu()
    if rows.is_floating_point():
        return np.round(rows.double().numpy(), ROUND_DIGITS).tolist()
    return rows.tolist()
