"""Every user input becomes a tensor here, and every check of user input lives here.

`read_tensor` accepts text in the supported formats, nested lists, numpy arrays and torch tensors and
returns a `TensorInput`: float64 values (int64 when every entry was written as an integer), plus the
number of decimals each entry was written with, which the answer checker needs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

MAX_ELEMENTS = 2_000_000
MAX_TEXT_CHARS = 40_000_000


class InputError(ValueError):
    """A user mistake: the message says what was expected and what was found."""


@dataclass(frozen=True)
class TensorInput:
    """A parsed tensor and how it was written.

    values:   float64 tensor, or int64 when every entry was written as an integer.
    decimals: per element, the digits written after the decimal point; -1 where the entry was an
              integer (taken as exact). None when unknown (large inputs, tensors from Python).
    """

    values: torch.Tensor
    decimals: np.ndarray | None = None

    @property
    def integral(self) -> bool:
        return not self.values.is_floating_point()


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf|infinity)", re.IGNORECASE)


def number_decimals(token: str) -> int:
    """Digits after the decimal point as written, in absolute terms: '0.2947' -> 4, '1.5e-3' -> 4,
    '3' -> -1 (an integer, taken as exact)."""
    token = token.strip().lower().lstrip("+-")
    mantissa, _, exponent = token.partition("e")
    if "." not in mantissa and not exponent:
        return -1
    written = len(mantissa.split(".", 1)[1]) if "." in mantissa else 0
    return max(written - int(exponent or 0), 0)


def read_tensor(value: Any, name: str) -> TensorInput:
    """Turn user input (text, nested list, numpy array, torch tensor, number) into a TensorInput."""
    if value is None:
        raise InputError(f"{name}: expected a tensor, got nothing")
    if isinstance(value, TensorInput):
        return value
    if isinstance(value, torch.Tensor):
        return _from_array(value.detach().cpu().numpy() if value.dtype != torch.bfloat16
                           else value.detach().float().cpu().numpy(), name)
    if isinstance(value, np.ndarray | list | tuple | int | float) and not isinstance(value, bool):
        return _from_array(value, name)
    if isinstance(value, str):
        return parse_text(value, name)
    raise InputError(f"{name}: expected text, a list, a numpy array or a torch tensor, got {type(value).__name__}")


def _from_array(value: Any, name: str) -> TensorInput:
    try:
        array = np.asarray(value)
    except ValueError as exc:
        raise InputError(f"{name}: expected a rectangular array, got ragged rows ({exc})") from None
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise InputError(f"{name}: expected numbers, got values of type {array.dtype}")
    _check_size(array.size, name)
    if array.size == 0:
        raise InputError(f"{name}: expected at least one number, got an empty tensor")
    if array.dtype.kind in "biu":
        return TensorInput(torch.from_numpy(array.astype(np.int64)), np.full(array.shape, -1))
    decimals = None
    if array.size <= 10_000:
        decimals = np.array([number_decimals(repr(float(x))) for x in array.reshape(-1)]).reshape(array.shape)
        decimals[decimals == -1] = 0
    return TensorInput(torch.from_numpy(array.astype(np.float64)), decimals)


def _check_size(count: int, name: str) -> None:
    if count > MAX_ELEMENTS:
        raise InputError(f"{name}: expected at most {MAX_ELEMENTS:,} elements, got {count:,}")


def parse_text(text: str, name: str) -> TensorInput:
    """Parse a tensor written as text (nested lists, torch/numpy printouts, rows of numbers)."""
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"{name}: expected at most {MAX_TEXT_CHARS:,} characters, got {len(text):,}")
    body = text.strip()
    if not body:
        raise InputError(f"{name}: expected numbers such as [0.2, 0.8], got empty text")
    if body.startswith("["):
        try:
            nested = json.loads(body)
        except json.JSONDecodeError as exc:
            raise InputError(f"{name}: expected a nested list such as [[0.1, 0.2], [0.3, 0.4]], got "
                             f"text that does not parse ({exc.msg} at character {exc.pos})") from None
        tokens = _NUMBER.findall(body)
    else:
        rows = [r for r in re.split(r"[\n;]+", body) if r.strip()]
        nested = []
        tokens = []
        for row in rows:
            cells = [c for c in re.split(r"[,\s]+", row.strip()) if c]
            for c in cells:
                if not _NUMBER.fullmatch(c):
                    raise InputError(f"{name}: expected a number, got {c!r}")
            tokens.extend(cells)
            nested.append([float(c) for c in cells])
        if len(nested) == 1:
            nested = nested[0]
    result = _from_array(nested, name)
    decimals = np.array([number_decimals(t) for t in tokens])
    if decimals.size == result.values.numel():
        values = result.values
        if (decimals >= 0).any() and not values.is_floating_point():
            values = values.double()
        elif (decimals < 0).all() and values.is_floating_point() and bool((values == values.round()).all()):
            values = values.long()
        return TensorInput(values, decimals.reshape(tuple(values.shape)))
    return result


# -- checks a loss's prepare() calls -----------------------------------------------------------------

def shape_text(shape: tuple[int, ...] | torch.Size) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def require_finite(t: torch.Tensor, name: str, allow_inf: bool = False) -> list[str]:
    """NaN is never accepted; ±inf only where it means something (logits), and then warned about."""
    if not t.is_floating_point():
        return []
    if torch.isnan(t).any():
        raise InputError(f"{name}: expected finite numbers, got NaN at {int(torch.isnan(t).sum())} place(s)")
    if torch.isinf(t).any():
        if not allow_inf:
            raise InputError(f"{name}: expected finite numbers, got ±inf at {int(torch.isinf(t).sum())} place(s)")
        return [f"{name} contains ±inf; the result follows the limits of the formula"]
    return []


def require_same_shape(pred: torch.Tensor, target: torch.Tensor) -> None:
    if pred.shape != target.shape:
        raise InputError(f"expected pred and target of the same shape, got pred {shape_text(pred.shape)} "
                         f"and target {shape_text(target.shape)}")


def require_probabilities(t: torch.Tensor, name: str) -> None:
    if ((t < 0) | (t > 1)).any():
        bad = t[(t < 0) | (t > 1)].reshape(-1)[0].item()
        raise InputError(f"{name}: expected probabilities in [0, 1], got {bad:g}"
                         " (pass logits to a *_with_logits loss or set input=logits)")


def require_target(target: torch.Tensor | None, loss: str) -> torch.Tensor:
    if target is None:
        raise InputError(f"{loss}: expected a target tensor, got none")
    return target
