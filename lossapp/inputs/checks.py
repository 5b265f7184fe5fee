"""The checks a loss's prepare() calls, and the params parser."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from lossapp.inputs import limits
from lossapp.inputs.constraints import Declared, validate_params
from lossapp.inputs.errors import InputError, shape_text, type_name
from lossapp.inputs.errors import at_index as _at_index
from lossapp.inputs.errors import index_text as _index_text
from lossapp.inputs.parse import load_json

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _first_index(mask: torch.Tensor) -> int:
    return int(torch.nonzero(mask.reshape(-1))[0, 0])


def _first_at(mask: torch.Tensor) -> str:
    where = _index_text(_first_index(mask), tuple(mask.shape))
    return f" (first at index {where})" if where else ""


def require_finite(t: torch.Tensor, name: str, allow_inf: bool = False) -> list[str]:
    """NaN is never accepted; ±inf only where it means something (logits), and then warned about."""
    if not t.is_floating_point():
        return []
    nan = torch.isnan(t)
    if bool(nan.any()):
        raise InputError(f"{name}: expected finite numbers, got NaN at {int(nan.sum())} place(s){_first_at(nan)}")
    inf = torch.isinf(t)
    if bool(inf.any()):
        if not allow_inf:
            raise InputError(f"{name}: expected finite numbers, got ±inf at {int(inf.sum())} place(s){_first_at(inf)}")
        return [f"{name} contains ±inf; the result follows the limits of the formula"]
    return []


LOGITS_HINT = "pass logits to a *_with_logits loss or set input=logits"


def _hint(hint: str | None) -> str:
    """A caller's hint, written at the end of the message: ' (hint)'."""
    return f" ({hint})" if hint else ""


def _value_text(t: torch.Tensor, flat_index: int) -> str:
    """One element as written: its shortest repr in the tensor's own dtype ('1e+30', '0.1' for a float32 0.1,
    '2' for 2.0, '-0' for -0.0), every digit of an integer."""
    value = t.reshape(-1)[flat_index].item()
    if not t.is_floating_point():
        return str(int(value))
    own = np.float64 if t.dtype == torch.float64 else np.float16 if t.dtype == torch.float16 else np.float32
    return str(own(value)).removesuffix(".0")


def _first_bad(t: torch.Tensor, bad: torch.Tensor) -> str:
    """'2 at index 1': the first offending value and where it is (no index for a 0-d tensor)."""
    i = _first_index(bad)
    return f"{_value_text(t, i)}{_at_index(i, tuple(t.shape))}"


def require_same_shape(pred: torch.Tensor, target: torch.Tensor | None,
                       names: tuple[str, str] = ("pred", "target"), hint: str | None = None) -> None:
    if target is None:
        raise InputError(f"expected a {names[1]} tensor, got none")
    if pred.shape != target.shape:
        raise InputError(f"expected {names[0]} and {names[1]} of the same shape, got {names[0]} "
                         f"{shape_text(pred.shape)} and {names[1]} {shape_text(target.shape)}{_hint(hint)}")


def require_dims(t: torch.Tensor, name: str, min_dim: int = 1, max_dim: int | None = None) -> None:
    """At least `min_dim` (and at most `max_dim`) dimensions; a 0-d scalar where a vector is needed fails."""
    if t.dim() < min_dim:
        if t.dim() == 0:
            raise InputError(f"{name}: expected a tensor with at least {min_dim} dimension(s), got a 0-d scalar "
                             f"({_value_text(t, 0)})")
        raise InputError(f"{name}: expected a tensor with at least {min_dim} dimension(s), got shape "
                         f"{shape_text(t.shape)}")
    if max_dim is not None and t.dim() > max_dim:
        raise InputError(f"{name}: expected a tensor with at most {max_dim} dimension(s), got shape "
                         f"{shape_text(t.shape)}")


def require_probabilities(t: torch.Tensor, name: str, hint: str | None = LOGITS_HINT) -> None:
    """Values in [0, 1]; `hint` (what to do instead) ends the message."""
    bad = (t < 0) | (t > 1)
    if bool(bad.any()):
        raise InputError(f"{name}: expected probabilities in [0, 1], got {_first_bad(t, bad)}{_hint(hint)}")


def require_log_probabilities(t: torch.Tensor, name: str, hint: str | None = None) -> None:
    """Values ≤ 0 (logs of probabilities; −∞ allowed)."""
    bad = t > 0
    if bool(bad.any()):
        raise InputError(f"{name}: expected log-probabilities ≤ 0, got {_first_bad(t, bad)}{_hint(hint)}")


def require_binary(t: torch.Tensor, name: str, allow_soft: bool = True, hint: str | None = None) -> None:
    """Labels in [0, 1] (soft labels allowed) or, with allow_soft=False, exactly 0 or 1."""
    bad = ((t < 0) | (t > 1)) if allow_soft else ((t != 0) & (t != 1))
    if t.is_floating_point():
        bad = bad | torch.isnan(t)
    if bool(bad.any()):
        if allow_soft:
            raise InputError(f"{name}: expected labels in [0, 1] (0/1 or soft labels), got {_first_bad(t, bad)}"
                             f"{_hint(hint)}")
        raise InputError(f"{name}: expected 0/1 labels, got {_first_bad(t, bad)}{_hint(hint)}")


def require_sign_labels(t: torch.Tensor, name: str, hint: str | None = None) -> bool:
    """Labels −1/+1, or 0/1 (not both 0 and −1). Returns whether they are 0/1 labels (some label is 0), for a
    caller that maps 0 → −1."""
    bad = (t != -1) & (t != 0) & (t != 1)
    if bool(bad.any()):
        raise InputError(f"{name}: expected labels -1/+1 or 0/1, got {_first_bad(t, bad)}{_hint(hint)}")
    zero = bool((t == 0).any())
    if zero and bool((t == -1).any()):
        raise InputError(f"{name}: expected labels -1/+1 or 0/1, got both 0 and -1{_hint(hint)}")
    return zero


def require_class_indices(target: torch.Tensor, num_classes: int | None, name: str = "target",
                          ignore_index: int | None = None, hint: str | None = None) -> torch.Tensor:
    """Integral class indices in [0, C) (ignore_index allowed too); returns them as int64.
    With num_classes None (C not known yet) only integrality is checked, and that int64 holds them. Values
    are checked before the cast to int64, so a message shows them as written (1e+30, not -9.22337e+18)."""
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int)
                                    or num_classes < 1):
        raise InputError(f"{name}: expected at least 1 class, got C = {num_classes}")
    if target.dtype == torch.bool or target.is_complex():
        raise InputError(f"{name}: expected integer class indices, got a {str(target.dtype).removeprefix('torch.')} tensor")
    if target.is_floating_point():
        bad = ~torch.isfinite(target) | (target != torch.round(target))
        if bool(bad.any()):
            expected = "such as [0, 2, 1]" if num_classes is None else f"in [0, {num_classes})"
            raise InputError(f"{name}: expected integer class indices {expected}, got {_first_bad(target, bad)}"
                             f"{_hint(hint)}")
        if num_classes is None:
            beyond = (target < -(2.0**63)) | (target >= 2.0**63)  # as floats: 2**63 - 1 rounds up to 2**63
            if bool(beyond.any()):
                raise InputError(f"{name}: expected integer class indices such as [0, 2, 1], got "
                                 f"{_first_bad(target, beyond)}{_hint(hint)}")
    if num_classes is None:
        return target.to(torch.int64)
    ok = (target >= 0) & (target < num_classes)
    if ignore_index is not None and _INT64_MIN <= int(ignore_index) <= _INT64_MAX:  # no int64 index equals more
        ok = ok | (target == int(ignore_index))
    if not bool(ok.all()):
        also = f" or ignore_index {int(ignore_index)}" if ignore_index is not None else ""
        raise InputError(f"{name}: expected class indices in [0, {num_classes}){also} for C = {num_classes} classes, "
                         f"got {_first_bad(target, ~ok)}{_hint(hint)}")
    return target.to(torch.int64)


def require_per_class(t: torch.Tensor | None, name: str, num_classes: int, hint: str | None = None) -> None:
    """A parameter with one value per class: shape (C,). None (not given) passes."""
    if t is not None and tuple(t.shape) != (num_classes,):
        raise InputError(f"{name}: expected one value per class, shape ({num_classes},) for C = {num_classes} "
                         f"classes, got shape {shape_text(t.shape)}{_hint(hint)}")


def require_broadcastable(t: torch.Tensor | None, name: str, shape: torch.Size | tuple[int, ...],
                          hint: str | None = None, of: str = "pred") -> None:
    """A parameter that broadcasts to `shape` (pred's shape) without changing it. None (not given) passes."""
    if t is None:
        return
    try:
        ok = tuple(torch.broadcast_shapes(t.shape, shape)) == tuple(shape)
    except RuntimeError:
        ok = False
    if not ok:
        raise InputError(f"{name}: expected a shape that broadcasts to {of}'s {shape_text(shape)}, got "
                         f"{shape_text(t.shape)}{_hint(hint)}")


def read_params(text: Any, name: str = "params", declared: Sequence[Declared] | None = None) -> dict[str, Any]:
    """Loss parameters written as a JSON object ('{"beta": 0.5, "weight": [1, 2]}'), parsed, never evaluated;
    empty text or None is no parameters, a mapping is taken as it is. The text is bounded like a tensor's
    (limits.MAX_TEXT_CHARS) and scanned before json.loads (limits.MAX_NESTING, limits.MAX_NUMBER_CHARS).
    With `declared` (a loss's Params), the values are validated against their constraints and the result is
    the effective parameters, defaults included (`constraints.validate_params`)."""
    data = _read_params_object(text, name)
    return data if declared is None else validate_params(data, declared, name)


def _read_params_object(text: Any, name: str) -> dict[str, Any]:
    if text is None:
        return {}
    if isinstance(text, Mapping):
        return dict(text)
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: expected UTF-8 text, got undecodable bytes at byte {exc.start}") from None
    if not isinstance(text, str):
        raise InputError(f"{name}: expected a JSON object such as {{\"beta\": 0.5}}, got {type_name(text)}")
    if len(text) > limits.MAX_TEXT_CHARS:
        raise InputError(f"{name}: expected at most {limits.MAX_TEXT_CHARS:,} characters, got {len(text):,}")
    body = text.strip()
    if not body:
        return {}
    try:
        data = load_json(body, name)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}: expected a JSON object such as {{\"beta\": 0.5}}, got text that does not parse "
                         f"({exc.msg.removesuffix(' at')} at character {exc.pos + 1})") from None
    if not isinstance(data, dict):
        raise InputError(f"{name}: expected a JSON object such as {{\"beta\": 0.5}}, got {type(data).__name__}")
    return data


def require_target(target: torch.Tensor | None, loss: str) -> torch.Tensor:
    if target is None:
        raise InputError(f"{loss}: expected a target tensor, got none")
    return target


