"""The checks a loss's prepare() calls, and the params parser."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from lossapp.i18n import Message, msg
from lossapp.inputs import limits
from lossapp.inputs.constraints import Declared, validate_params
from lossapp.inputs.errors import InputError, shape_text, type_name
from lossapp.inputs.errors import at_index as _at_index
from lossapp.inputs.errors import index_text as _index_text
from lossapp.inputs.parse import load_json
from lossapp.trace import CHUNK, extremes

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _first_index(mask: torch.Tensor) -> int:
    return int(torch.nonzero(mask.reshape(-1))[0, 0])


def _first_at(mask: torch.Tensor) -> Message | str:
    where = _index_text(_first_index(mask), tuple(mask.shape))
    return msg("inputs.first_at", index=where) if where else ""


def require_finite(t: torch.Tensor, name: str, allow_inf: bool = False) -> list[Message]:
    """NaN is never accepted; ±inf only where it means something (logits), and then warned about."""
    if not t.is_floating_point():
        return []
    nan = torch.isnan(t)
    if bool(nan.any()):
        raise InputError("inputs.nan", name=name, count=int(nan.sum()), first=_first_at(nan))
    inf = torch.isinf(t)
    if bool(inf.any()):
        if not allow_inf:
            raise InputError("inputs.inf", name=name, count=int(inf.sum()), first=_first_at(inf))
        return [msg("inputs.contains_inf", name=name)]
    return []


LOGITS_HINT = msg("inputs.logits_hint")


def _hint(hint: Message | None) -> Message | str:
    """A caller's hint (a Message: what to do instead), written at the end of the message: ' (hint)'."""
    if not hint:
        return ""
    return msg("inputs.hint", hint=hint)


def _value_text(t: torch.Tensor, flat_index: int) -> str:
    """One element as written: its shortest repr in the tensor's own dtype ('1e+30', '0.1' for a float32 0.1,
    '2' for 2.0, '-0' for -0.0), every digit of an integer."""
    value = t.reshape(-1)[flat_index].item()
    if not t.is_floating_point():
        return str(int(value))
    own = np.float64 if t.dtype == torch.float64 else np.float16 if t.dtype == torch.float16 else np.float32
    return str(own(value)).removesuffix(".0")


def _first_bad(t: torch.Tensor, bad: torch.Tensor) -> dict[str, Any]:
    """The first offending value ('2') and where it is (' at index 1'; nothing for a 0-d tensor), as the
    fields `value` and `at` of a message."""
    i = _first_index(bad)
    return {"value": _value_text(t, i), "at": _at_index(i, tuple(t.shape))}


def require_same_shape(pred: torch.Tensor, target: torch.Tensor | None,
                       names: tuple[str, str] = ("pred", "target"), hint: str | None = None) -> None:
    if target is None:
        raise InputError("inputs.tensor_none", name=names[1])
    if pred.shape != target.shape:
        raise InputError("inputs.same_shape", a=names[0], b=names[1], shape_a=shape_text(pred.shape),
                         shape_b=shape_text(target.shape), hint=_hint(hint))


def require_dims(t: torch.Tensor, name: str, min_dim: int = 1, max_dim: int | None = None) -> None:
    """At least `min_dim` (and at most `max_dim`) dimensions; a 0-d scalar where a vector is needed fails."""
    if t.dim() < min_dim:
        if t.dim() == 0:
            raise InputError("inputs.too_few_dims_scalar", name=name, min=min_dim, value=_value_text(t, 0))
        raise InputError("inputs.too_few_dims", name=name, min=min_dim, shape=shape_text(t.shape))
    if max_dim is not None and t.dim() > max_dim:
        raise InputError("inputs.too_many_dims_shape", name=name, max=max_dim, shape=shape_text(t.shape))


def within(t: torch.Tensor, low: float, high: float) -> bool:
    """Whether every element lies in [low, high], in one pass for both extremes (NaN is not within). The range
    checks below decide with it, and make the elementwise mask that finds the first element outside only when
    there is one."""
    if t.numel() == 0:
        return True
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    lo, hi = extremes(t)
    return low <= lo and hi <= high


def require_probabilities(t: torch.Tensor, name: str, hint: str | None = LOGITS_HINT) -> None:
    """Values in [0, 1]; `hint` (what to do instead) ends the message."""
    if within(t, 0.0, 1.0):
        return
    bad = (t < 0) | (t > 1)
    if bool(bad.any()):
        raise InputError("inputs.not_probabilities", name=name, **_first_bad(t, bad), hint=_hint(hint))


def require_nonnegative(t: torch.Tensor, name: str, hint: Message | None = None) -> None:
    """Values ≥ 0 (counts, rates; +∞ allowed); `hint` (what to do instead) ends the message."""
    if within(t, 0.0, math.inf):
        return
    bad = t < 0
    if bool(bad.any()):
        raise InputError("inputs.negative", name=name, **_first_bad(t, bad), hint=_hint(hint))


def require_log_probabilities(t: torch.Tensor, name: str, hint: str | None = None) -> None:
    """Values ≤ 0 (logs of probabilities; −∞ allowed)."""
    if t.numel() == 0 or extremes(t)[1] <= 0:  # the extremes decide (a NaN maximum falls through: not ≤ 0)
        return
    bad = t > 0
    if bool(bad.any()):
        raise InputError("inputs.not_log_probabilities", name=name, **_first_bad(t, bad), hint=_hint(hint))


def require_binary(t: torch.Tensor, name: str, allow_soft: bool = True, hint: str | None = None) -> None:
    """Labels in [0, 1] (soft labels allowed) or, with allow_soft=False, exactly 0 or 1."""
    if allow_soft and within(t, 0.0, 1.0):
        return
    bad = ((t < 0) | (t > 1)) if allow_soft else ((t != 0) & (t != 1))
    if t.is_floating_point():
        bad = bad | torch.isnan(t)
    if bool(bad.any()):
        raise InputError("inputs.not_soft_labels" if allow_soft else "inputs.not_binary_labels", name=name,
                         **_first_bad(t, bad), hint=_hint(hint))


def _integral(t: torch.Tensor) -> bool:
    """Whether every element of a floating tensor is an integer, a block at a time (no temporary of t's size)."""
    flat = t.detach().reshape(-1)
    return all(int(torch.count_nonzero(block.frac())) == 0 for block in flat.split(CHUNK))


def _smallest_magnitude(t: torch.Tensor) -> float:
    """min |t| of a non-empty tensor, a block at a time into one buffer of a block's size (no temporary of t's size)."""
    flat = t.detach().reshape(-1)
    buffer = torch.empty(min(CHUNK, flat.numel()), dtype=flat.dtype, device=flat.device)
    return min(float(torch.abs(block, out=buffer[:block.numel()]).amin()) for block in flat.split(CHUNK))


def require_sign_labels(t: torch.Tensor, name: str, hint: str | None = None) -> bool:
    """Labels −1/+1, or 0/1 (not both 0 and −1). Returns whether they are 0/1 labels (some label is 0), for a
    caller that maps 0 → −1. Valid labels are decided in passes that make no mask: the range, then for −1/+1 labels
    (the range is [−1, 1]) the smallest |label|, 1 exactly when every label is −1 or 1; otherwise whether any label
    has a fraction and whether a 0 sits between −1 and 1. The masks that find the first offender are made only when
    there is one."""
    if t.numel() and t.dtype != torch.bool:
        lo, hi = extremes(t)
        if lo == -1 and hi == 1 and _smallest_magnitude(t) == 1:  # every label in [−1, 1] with |label| ≥ 1: ±1
            return False
        if lo >= -1 and hi <= 1 and (not t.is_floating_point() or _integral(t)):
            zero = lo == 0 or hi == 0 or (lo < 0 < hi and int(torch.count_nonzero(t)) < t.numel())
            if not (zero and lo < 0):
                return zero
    bad = (t != -1) & (t != 0) & (t != 1)
    if bool(bad.any()):
        raise InputError("inputs.not_sign_labels", name=name, **_first_bad(t, bad), hint=_hint(hint))
    zero = bool((t == 0).any())
    if zero and bool((t == -1).any()):
        raise InputError("inputs.sign_labels_mixed", name=name, hint=_hint(hint))
    return zero


def require_class_indices(target: torch.Tensor, num_classes: int | None, name: str = "target",
                          ignore_index: int | None = None, hint: str | None = None, *,
                          bounds: tuple[float, float] | None = None) -> torch.Tensor:
    """Integral class indices in [0, C) (ignore_index allowed too); returns them as int64.
    With num_classes None (C not known yet) only integrality is checked, and that int64 holds them. Values
    are checked before the cast to int64, so a message shows them as written (1e+30, not -9.22337e+18).
    `bounds`: target's (min, max) where the caller read them already (`lossapp.trace.extremes`), for the range check."""
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int)
                                    or num_classes < 1):
        raise InputError("inputs.no_classes", name=name, classes=num_classes)
    if target.dtype == torch.bool or target.is_complex():
        raise InputError("inputs.class_dtype", name=name, dtype=str(target.dtype).removeprefix("torch."))
    if target.is_floating_point():
        bad = ~torch.isfinite(target) | (target != torch.round(target))
        if bool(bad.any()):
            if num_classes is None:
                raise InputError("inputs.class_indices_any", name=name, **_first_bad(target, bad), hint=_hint(hint))
            raise InputError("inputs.class_indices_integer", name=name, classes=num_classes,
                             **_first_bad(target, bad), hint=_hint(hint))
        if num_classes is None:
            beyond = (target < -(2.0**63)) | (target >= 2.0**63)  # as floats: 2**63 - 1 rounds up to 2**63
            if bool(beyond.any()):
                raise InputError("inputs.class_indices_any", name=name, **_first_bad(target, beyond),
                                 hint=_hint(hint))
    if num_classes is None:
        return target.to(torch.int64)
    if target.numel():
        low, high = bounds if bounds is not None else extremes(target)  # every index in [0, C): decided by the
        # extremes, no mask (NaN was refused above)
        if low >= 0 and high < num_classes:
            return target.to(torch.int64)
    ok = (target >= 0) & (target < num_classes)
    if ignore_index is not None and _INT64_MIN <= int(ignore_index) <= _INT64_MAX:  # no int64 index equals more
        ok = ok | (target == int(ignore_index))
    if not bool(ok.all()):
        if ignore_index is not None:
            raise InputError("inputs.class_indices_ignore", name=name, classes=num_classes,
                             ignore_index=int(ignore_index), **_first_bad(target, ~ok), hint=_hint(hint))
        raise InputError("inputs.class_indices_range", name=name, classes=num_classes, **_first_bad(target, ~ok),
                         hint=_hint(hint))
    return target.to(torch.int64)


def require_per_class(t: torch.Tensor | None, name: str, num_classes: int, hint: str | None = None) -> None:
    """A parameter with one value per class: shape (C,). None (not given) passes."""
    if t is not None and tuple(t.shape) != (num_classes,):
        raise InputError("inputs.per_class", name=name, classes=num_classes, shape=shape_text(t.shape),
                         hint=_hint(hint))


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
        raise InputError("inputs.broadcast", name=name, of=of, to=shape_text(shape), shape=shape_text(t.shape),
                         hint=_hint(hint))


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
            raise InputError("inputs.undecodable", name=name, byte=exc.start) from None
    if not isinstance(text, str):
        raise InputError("inputs.params_type", name=name, type=type_name(text))
    if len(text) > limits.MAX_TEXT_CHARS:
        raise InputError("inputs.too_many_characters", name=name, limit=limits.MAX_TEXT_CHARS, count=len(text))
    body = text.strip()
    if not body:
        return {}
    try:
        data = load_json(body, name)
    except json.JSONDecodeError as exc:
        raise InputError("inputs.params_syntax", name=name, error=exc.msg.removesuffix(" at"),
                         char=exc.pos + 1) from None
    if not isinstance(data, dict):
        raise InputError("inputs.params_type", name=name, type=type(data).__name__)
    return data


def require_target(target: torch.Tensor | None, loss: str) -> torch.Tensor:
    if target is None:
        raise InputError("inputs.target_none", loss=loss)
    return target


def known_binary(t: torch.Tensor) -> torch.Tensor:
    """t, with all_binary's answer recorded as True (until t changes) where the caller knows every element is 0 or 1
    without a pass (1 − y of a y that all_binary answered True)."""
    with contextlib.suppress(RuntimeError):  # (an inference tensor has no version counter: nothing kept)
        t._lossapp_all_binary = (t._version, True)
    return t


def all_binary(t: torch.Tensor) -> bool:
    """Whether every element is exactly 0 or 1 (the first element decides most inputs without a pass). The answer of
    a pass is kept on the tensor with its version counter (bumped by every in-place change of it or of a view of the
    same storage), so the checker's many looks at one target pay one pass."""
    first = float(t.detach()[(0,) * t.dim()]) if t.numel() else 0.0
    if first not in (0.0, 1.0):
        return False
    try:
        version = t._version
    except RuntimeError:  # an inference tensor has no version counter: no memory
        return bool(((t == 0) | (t == 1)).all())
    kept = getattr(t, "_lossapp_all_binary", None)
    if kept is not None and kept[0] == version:
        return kept[1]
    answer = bool(((t == 0) | (t == 1)).all())
    t._lossapp_all_binary = (version, answer)
    return answer
