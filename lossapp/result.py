"""Result: the value, the worked steps, the reference comparison, the per-element table and the JSON."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import torch

from lossapp.inputs import TensorInput
from lossapp.reference import Comparison, GradientComparison
from lossapp.registry import LossSpec, params_to_json
from lossapp.trace import Step


def json_safe(value: Any) -> Any:
    """Replace NaN and ±inf (not valid JSON) by None, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, torch.Tensor):
        return json_safe(value.item() if value.dim() == 0 else value.tolist())
    return value


@dataclass
class Result:
    """What `lossapp.compute` returns."""

    loss: str
    params: dict[str, Any]
    reduction: str
    value: float | list
    steps: list[Step]
    reference: Comparison | None
    gradient: GradientComparison | None
    warnings: list[str]
    spec: LossSpec | None = None
    pred: TensorInput | None = None
    target: TensorInput | None = None
    unreduced: torch.Tensor | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. "metrics" for confusion counts

    @property
    def agrees(self) -> bool | None:
        """The one flag for "everything agrees": PyTorch's built-in agrees with the trace in value and (where
        there is one) in gradient. None when there is no built-in to compare with. Every disagreement is also
        written, with where and why, in `warnings`."""
        if self.reference is None:
            return None
        return self.reference.agrees and (self.gradient is None or self.gradient.agrees)

    def step(self, symbol: str) -> Step:
        """The last step with this symbol (KeyError when there is none)."""
        for s in reversed(self.steps):
            if s.symbol == symbol:
                return s
        raise KeyError(symbol)

    def table(self) -> pd.DataFrame:
        """One row per element of the unreduced loss (per sample for class losses), with the inputs and
        every intermediate of that shape as columns; per-class intermediates become lists."""
        base = self.unreduced
        if base is None or base.dim() == 0:
            if self.pred is None:
                return pd.DataFrame({s.symbol: [s.value_list()] for s in self.steps if s.shape == ()})
            base = self.pred.values
        shape = tuple(base.shape)
        rows = max(1, math.prod(shape))
        columns: dict[str, Any] = {}
        if shape:
            columns["index"] = [str(tuple(int(i) for i in idx)) if len(shape) > 1 else int(idx[0])
                                for idx in torch.cartesian_prod(*[torch.arange(s) for s in shape]).reshape(rows, -1)]
        for name, tensor in (("pred", self.pred.values if self.pred else None),
                             ("target", self.target.values if self.target else None)):
            column = _column(tensor, shape)
            if column is not None:
                columns[name] = column
        seen: dict[str, int] = {}
        for s in self.steps:
            if not isinstance(s.value, torch.Tensor) or s.symbol in ("L", "num", "den"):
                continue
            column = _column(s.value, shape)
            if column is None:
                continue
            seen[s.symbol] = seen.get(s.symbol, 0) + 1
            key = s.symbol if seen[s.symbol] == 1 else f"{s.symbol} ({seen[s.symbol]})"
            columns[key] = column
        return pd.DataFrame(columns)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "loss": self.loss,
            "params": params_to_json(self.params),
            "reduction": self.reduction,
            "value": self.value,
            "steps": [{"symbol": s.symbol, "title": s.title, "formula": s.formula, "value": s.value_list(),
                       "note": s.note, "substituted": s.substituted()} for s in self.steps],
            "reference": self.reference.to_dict() if self.reference else None,
            "gradient": self.gradient.to_dict() if self.gradient else None,
            "warnings": list(self.warnings),
            "agrees": self.agrees,
        }
        out.update(self.extra)
        return json_safe(out)


def _column(tensor: torch.Tensor | None, shape: tuple[int, ...]) -> list | None:
    if tensor is None:
        return None
    t = tensor.detach().cpu()
    if tuple(t.shape) == shape:
        return t.reshape(-1).tolist()
    if t.dim() == len(shape) + 1:
        class_dim = 1 if len(shape) >= 1 else 0
        moved = t.movedim(class_dim, -1)
        if tuple(moved.shape[:-1]) == shape:
            return [[round(v, 6) for v in row] if moved.is_floating_point() else row
                    for row in moved.reshape(-1, moved.shape[-1]).tolist()]
    return None
