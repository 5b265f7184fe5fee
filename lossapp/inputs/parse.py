"""Text, Python objects and tensors -> TensorInput (see the package docstring for the grammar)."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
import torch

from lossapp.i18n import Message, msg
from lossapp.inputs import limits
from lossapp.inputs.errors import InputError, quote, quote_span, shape_text, type_name
from lossapp.inputs.errors import at_index as _at_index
from lossapp.inputs.errors import index_text as _index_text


class ShortestDecimals:
    """The decimals of a floating tensor's shortest repr in its own dtype (`_shortest_decimals`), computed when first
    read: from `values`, the tensor widened to float64 exactly, rounded back to `dtype` (exact: the same elements);
    for an integer tensor (`values` int64), -1 everywhere. Most computations never read them (only a check of a claim
    does), and on a small tensor they cost more than the rest of reading it."""

    __slots__ = ("dtype", "values")

    def __init__(self, values: torch.Tensor, dtype: torch.dtype) -> None:
        self.values, self.dtype = values, dtype

    def resolve(self) -> np.ndarray | None:
        if not self.values.is_floating_point():
            return np.full(tuple(self.values.shape), -1, dtype=np.int64)
        return _shortest_decimals(self.values.to(self.dtype))


class Widening:
    """TensorInput.values held as the user's own floating tensor of a narrower dtype (float32, float16, bfloat16; no
    copy), widened to float64 when first read (exactly: every element the same number). A computation that can read
    the values in their own dtype (`TensorInput.narrow`) then makes no float64 copy of them. Only for tensors of more
    than limits.DECIMALS_MAX_ELEMENTS elements (whose decimals are not read).

    The tensor is the user's, so its version counter is recorded, as autograd does for a tensor it saves: reading it
    after a change in place raises an InputError (the values read would not be the ones computed with) rather than
    giving other values. (Like autograd's check, it cannot see writes through a numpy array that shares the memory.)"""

    __slots__ = ("name", "tensor", "version")

    def __init__(self, tensor: torch.Tensor, name: str) -> None:
        self.tensor, self.name, self.version = tensor, name, tensor._version

    def current(self) -> torch.Tensor:
        """The tensor, unchanged since it was read (else an InputError)."""
        if self.tensor._version != self.version:
            raise InputError("inputs.changed_in_place", name=self.name)
        return self.tensor

    def __reduce__(self) -> tuple[Any, ...]:
        """A copy (copy.deepcopy, pickle: a Result kept in an app's state) holds its own copy of the tensor, unchanged
        since it was read, and records that copy's version."""
        return (Widening, (self.current(), self.name))


class _Values:
    """TensorInput.values: a Widening given for it is widened (once) when the field is first read."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = "_" + name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            raise AttributeError(self._name[1:])  # (no default: the dataclass field is required)
        value = getattr(obj, self._name)
        if isinstance(value, Widening):
            value = value.current().to(torch.float64)
            object.__setattr__(obj, self._name, value)
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        object.__setattr__(obj, self._name, value)  # (frozen: only the dataclass's __init__ sets it)


class _Decimals:
    """TensorInput.decimals: a ShortestDecimals given for it is resolved (once) when the field is first read."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = "_" + name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return None  # (the dataclass field's default)
        value = getattr(obj, self._name)
        if isinstance(value, ShortestDecimals):
            value = value.resolve()
            object.__setattr__(obj, self._name, value)
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        object.__setattr__(obj, self._name, value)  # (frozen: only the dataclass's __init__ sets it)


@dataclass(frozen=True)
class TensorInput:
    """A parsed tensor and how it was written.

    values:   float64 tensor, or int64 when every entry was written as an integer. A large tensor of a narrower
              floating dtype is given as a `Widening` and widened when first read (`narrow` reads it as it is).
    decimals: per element, the digits written after the decimal point, in absolute terms ('1.5e-3' -> 4);
              -1 where the entry was an integer (taken as exact). For floats that came from Python
              (lists, arrays, tensors) it is the decimals of their shortest repr in their own dtype
              (0.2947 -> 4, 1.0 -> 1), given as a `ShortestDecimals` and computed when first read; integer
              dtypes give -1. None when unknown (inputs of more than limits.DECIMALS_MAX_ELEMENTS elements).
    """

    values: torch.Tensor = _Values()  # type: ignore[assignment]
    decimals: np.ndarray | None = _Decimals()  # type: ignore[assignment]

    def _held(self) -> torch.Tensor:
        """The values as held: float64 (or int64), or a narrower floating tensor not yet widened (for dtype and
        shape, which widening keeps)."""
        value = object.__getattribute__(self, "_values")
        return value.tensor if isinstance(value, Widening) else value

    @property
    def integral(self) -> bool:
        return not self._held().is_floating_point()

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._held().shape)

    @property
    def narrow(self) -> torch.Tensor | None:
        """The values in the user's own narrower floating dtype, where they are held so (a `Widening` not read as
        float64 yet): every element the same number as in `values`, in half the bytes or less; else None."""
        value = object.__getattribute__(self, "_values")
        return value.current() if isinstance(value, Widening) else None

    def same_decimals(self, values: torch.Tensor) -> TensorInput:
        """Other values of the same elements with these decimals (not computed here where they are not yet)."""
        return TensorInput(values, object.__getattribute__(self, "_decimals"))


# -- numbers -----------------------------------------------------------------------------------------

# One number token (a whole word between separators: "1.2.3", "abc1", "1-2" are not numbers). Possessive
# quantifiers: digits, '.', 'e' and signs never need to give characters back, and a long word that is not a
# number then fails in linear time instead of backtracking.
_NUMERAL = r"[-+]?+(?:\d++\.?+\d*+|\.\d++)(?:[eE][-+]?+\d++)?+"
_NUMERAL_FULL = re.compile(rf"{_NUMERAL}|[-+]?+(?i:nan|inf(?:inity)?+)", re.ASCII)
_NUM_FULL = re.compile(rf"{_NUMERAL}|[-+]?+(?i:nan|inf(?:inity)?+)|(?i:true|false)", re.ASCII)
_COMPLEX = re.compile(rf"{_NUMERAL}(?:[-+]{_NUMERAL.removeprefix('[-+]?+')})?+[jJ]", re.ASCII)
_NUMBER_START = re.compile(r"[-+]?\.?\d", re.ASCII)  # a word that begins like a number

# Full-width punctuation and look-alike characters from Chinese input methods, LaTeX and word
# processors, mapped one character to one character (so positions in messages stay right).
_NORMALIZE = str.maketrans({
    "，": ",", "；": ";", "［": "[", "］": "]", "（": "(", "）": ")", "：": ":", "＝": "=", "．": ".",
    "−": "-", "–": "-", "＋": "+", "－": "-", "\u00a0": " ", "\u3000": " ", "\u2009": " ", "\u202f": " ",
    "\ufeff": " ", "\u200b": " ", "\x85": "\n", "\u2028": "\n", "\u2029": "\n",
    **{chr(c): " " for c in (0x1680, *range(0x2000, 0x200B), 0x205F)},  # the other Unicode spaces
    **{chr(0xFF10 + i): str(i) for i in range(10)},
})


def number_decimals(token: str) -> int:
    """Digits after the decimal point as written, in absolute terms: '0.2947' -> 4, '1.5e-3' -> 4,
    '1.' -> 0, '3' -> -1 (an integer, taken as exact); nan, inf, True and False -> -1. At most
    limits.MAX_DECIMALS ('3e-9999999999999999999' -> 300): more say nothing a float64 can hold."""
    # the common case, read at once: a sign or not, then ASCII digits with at most one '.' ('0.2947', '-3', '1.')
    dot = token.find(".")
    digits = token if dot < 0 else token.replace(".", "", 1)
    if (digits.isdigit() or (token[:1] in ("-", "+") and digits[1:].isdigit())) and digits.isascii():
        return -1 if dot < 0 else min(len(token) - dot - 1, limits.MAX_DECIMALS)
    token = token.strip().lower().lstrip("+-")
    if token in ("nan", "inf", "infinity", "true", "false"):
        return -1
    mantissa, _, exponent = token.partition("e")
    if "." not in mantissa and not exponent:
        return -1
    written = len(mantissa.partition(".")[2])
    digits = exponent.lstrip("+-").lstrip("0") or "0"
    if not (digits.isascii() and digits.isdigit()):
        shift = 0
    elif len(digits) > 9:  # |exponent| ≥ 1e9: no int() of thousands of digits, the result is 0 or the cap
        shift = -limits.MAX_DECIMALS - written if exponent.startswith("-") else written
    else:
        shift = -int(digits) if exponent.startswith("-") else int(digits)
    return min(max(written - shift, 0), limits.MAX_DECIMALS)


# -- entry point -------------------------------------------------------------------------------------

def read_tensor(value: Any, name: str) -> TensorInput:
    """Turn user input (text, nested list, numpy array, torch tensor, number, file path) into a TensorInput."""
    if value is None:
        raise InputError("inputs.tensor_nothing", name=name)
    if isinstance(value, TensorInput):
        return value
    if isinstance(value, bytes | bytearray):
        try:
            value = bytes(value).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError("inputs.undecodable", name=name, byte=exc.start) from None
    if isinstance(value, str):
        return parse_text(value, name)
    if isinstance(value, os.PathLike):
        from lossapp.inputs.files import load_file  # files builds on this module

        return load_file(value, name)
    if isinstance(value, torch.Tensor):
        return _from_torch(value, name)
    if isinstance(value, bool | int | float | np.generic | np.ndarray | list | tuple) or hasattr(value, "__array__"):
        return _from_python(value, name)
    raise InputError("inputs.unsupported_type", name=name, type=type_name(value))


# -- Python objects ----------------------------------------------------------------------------------

def _check_size(count: int, name: str) -> None:
    if count > limits.MAX_ELEMENTS:
        raise InputError("inputs.too_many_elements", name=name, limit=limits.MAX_ELEMENTS, count=count)

# What numpy, torch or a user object's own __array__ may raise while converting a user's object.
_CONVERSION_ERRORS = (ValueError, TypeError, ArithmeticError, MemoryError, RuntimeError)


def _from_torch(t: torch.Tensor, name: str) -> TensorInput:
    if t.device.type == "meta":
        raise InputError("inputs.meta_tensor", name=name)
    if t.is_nested:
        raise InputError("inputs.nested_tensor", name=name)
    dtype = str(t.dtype).removeprefix("torch.")
    if t.is_complex():
        raise InputError("inputs.complex_tensor", name=name, dtype=dtype)
    if t.dtype == torch.bool:
        raise InputError("inputs.bool_tensor", name=name)
    _check_size(t.numel(), name)
    try:
        t = t.detach()
        if t.layout != torch.strided:  # sparse (COO, CSR, ...) or mkldnn
            t = t.to_dense()
        if t.is_quantized:
            t = t.dequantize()
        t = t.cpu()
        if t.numel() == 0:
            raise InputError("inputs.empty_tensor", name=name, shape=shape_text(t.shape))
        if t.is_floating_point():
            if t.numel() > limits.DECIMALS_MAX_ELEMENTS and t.dtype in (torch.float32, torch.float16, torch.bfloat16):
                return TensorInput(Widening(t, name), None)  # type: ignore[arg-type]  (widened when read)
            values = t.to(torch.float64)
            return TensorInput(values, ShortestDecimals(values, t.dtype) if t.numel() <= limits.DECIMALS_MAX_ELEMENTS
                               else None)
        if t.dtype in (torch.uint16, torch.uint32, torch.uint64):
            return _from_python(t.numpy(), name)
        values = t.to(torch.int64)
    except (RuntimeError, TypeError):  # dtypes torch cannot convert (int4, bits8, float4, ...)
        raise InputError("inputs.tensor_dtype", name=name, dtype=dtype) from None
    return TensorInput(values, ShortestDecimals(values, values.dtype))


def _from_python(value: Any, name: str) -> TensorInput:
    python_bools = isinstance(value, bool) or (isinstance(value, list | tuple) and _has_python_bool(value))
    if isinstance(value, list | tuple):
        try:  # references only: numpy would give every string the longest string's width
            cells = np.asarray(value, dtype=object)
        except _CONVERSION_ERRORS as exc:
            raise InputError(_nested_problem(value, name) or _conversion_message(name, exc)) from None
        if _cells_are_text(cells, name, value):
            return _from_strings(cells, name)
    try:
        array = np.asarray(value)
    except _CONVERSION_ERRORS as exc:
        problem = _nested_problem(value, name) if isinstance(value, list | tuple) else None
        raise InputError(problem or _conversion_message(name, exc)) from None
    kind = array.dtype.kind
    if kind == "O":
        if _cells_are_text(array, name, array):
            return _from_strings(array, name)
        array = _object_numbers(array, name)
        kind = "f"
    if kind in "US":
        return _from_strings(array, name)
    if kind == "b":
        if not python_bools:
            raise InputError("inputs.bool_tensor", name=name)
        array = array.astype(np.int64)
        kind = "i"
    if kind == "c":
        raise InputError("inputs.complex_tensor", name=name, dtype=str(array.dtype))
    if kind not in "iuf":
        raise InputError("inputs.values_of_type", name=name, dtype=str(array.dtype))
    _check_size(array.size, name)
    if array.size == 0:
        raise InputError("inputs.empty_tensor", name=name, shape=shape_text(array.shape))
    if array.ndim > limits.MAX_DIMS:
        raise InputError("inputs.too_many_dims", name=name, limit=limits.MAX_DIMS, count=array.ndim)
    if kind == "u" and array.dtype.itemsize == 8 and bool((array > np.iinfo(np.int64).max).any()):
        raise InputError("inputs.beyond_int64", name=name, value=int(array.max()))
    if kind in "iu":
        values = torch.from_numpy(np.array(array, dtype=np.int64, order="C"))
        return TensorInput(values, np.full(array.shape, -1, dtype=np.int64))
    if array.dtype not in (np.float16, np.float32, np.float64):
        array = array.astype(np.float64)  # long double; non-native byte order
    source = torch.from_numpy(np.array(array, order="C"))
    values = source.to(torch.float64)
    return TensorInput(values, ShortestDecimals(values, source.dtype) if source.numel() <= limits.DECIMALS_MAX_ELEMENTS
                       else None)


def _conversion_message(name: str, exc: BaseException) -> Message:
    return msg("inputs.not_rectangular_array", name=name, error=quote(str(exc)))


_NUMBER_TYPES = (bool, int, float, complex, np.number, np.bool_)
_TEXT_TYPES = (str, bytes)  # numpy's str_ and bytes_ included


def _cells_are_text(cells: np.ndarray, name: str, value: Any) -> bool:
    """Checks an object array (a nested list's cells, or a user's object array) before anything is converted:
    its dimensions and size, that it is rectangular (no list left inside) and that every cell is a number or
    text. True when some cell is text (the strings route), False when all are numbers."""
    flat = cells.reshape(-1)
    types = set(map(type, flat))
    arrays = [t for t in types if issubclass(t, np.ndarray | torch.Tensor)]
    if any(issubclass(t, list | tuple) for t in types) or (
            arrays and any(v.ndim > 0 for v in flat if isinstance(v, np.ndarray | torch.Tensor))):
        raise InputError(_nested_problem(value, name) or msg("inputs.mixed_levels", name=name))
    if cells.ndim > limits.MAX_DIMS:
        raise InputError("inputs.too_many_dims", name=name, limit=limits.MAX_DIMS, count=cells.ndim)
    _check_size(cells.size, name)
    if cells.size == 0:
        raise InputError("inputs.empty_tensor", name=name, shape=shape_text(cells.shape))
    odd = {t for t in types if not issubclass(t, _NUMBER_TYPES + _TEXT_TYPES + (np.ndarray, torch.Tensor))}
    if odd:
        i = next(i for i, v in enumerate(flat) if type(v) in odd)
        raise InputError("inputs.not_numbers", name=name, type=type_name(flat[i]), at=_at_index(i, cells.shape))
    return any(issubclass(t, _TEXT_TYPES) for t in types)


def _object_numbers(array: np.ndarray, name: str) -> np.ndarray:
    """An object array of numbers (Python ints beyond int64 among them) as float64."""
    try:
        return array.astype(np.float64)
    except _CONVERSION_ERRORS:
        for i, item in enumerate(array.reshape(-1)):
            try:
                float(item)
            except OverflowError:
                raise InputError("inputs.integer_too_large", name=name, at=_at_index(i, array.shape)) from None
            except _CONVERSION_ERRORS:
                raise InputError("inputs.not_real", name=name, type=type_name(item),
                                 at=_at_index(i, array.shape)) from None
        raise InputError("inputs.values_of_type", name=name, dtype=str(array.dtype)) from None


def _has_python_bool(value: Any, limit: int = 64) -> bool:
    """Whether a (nested) list starts with Python bools (True/False written as labels)."""
    while isinstance(value, list | tuple) and value and limit:
        value, limit = value[0], limit - 1
    return isinstance(value, bool)


def _is_nested(value: Any) -> bool:
    return isinstance(value, list | tuple) or (isinstance(value, np.ndarray | torch.Tensor) and value.ndim > 0)


def _nested_problem(value: Any, name: str) -> Message | None:
    """The first place where a nested list is not rectangular, as a message (None when it is). Level by
    level, holding one reference per element: the levels above are rectangular, so an element's index is
    its position in the level unravelled over the shape so far."""
    level: list[Any] = [value]
    shape: tuple[int, ...] = ()
    for _depth in range(limits.MAX_DIMS + 1):
        nested = list(map(_is_nested, level))
        if not any(nested):
            return None
        if not all(nested):
            return msg("inputs.mixed_levels_at", name=name, index=_index_text(nested.index(False), shape))
        lengths = list(map(len, level))
        if len(set(lengths)) > 1:
            first = next(i for i, n in enumerate(lengths) if n != lengths[0])
            return _ragged_message(name, lengths[first], _index_text(first, shape), lengths[0],
                                   _index_text(0, shape))
        if lengths[0] * len(level) > limits.MAX_ELEMENTS:
            return None
        shape = (*shape, lengths[0])
        level = [child for v in level for child in v]
    return msg("inputs.too_many_dims_more", name=name, limit=limits.MAX_DIMS)


def _ragged_message(name: str, n: int, where: str, n0: int, where0: str) -> Message:
    """Row `where` (an index such as 1 or (0, 1)) has n entries where row `where0` has n0."""
    return msg("inputs.ragged_one" if n == 1 else "inputs.ragged", name=name, count=n, row=where, count0=n0,
               row0=where0)


def _too_long_message(name: str, length: int, at: Message | str) -> Message:
    """A number of more than limits.MAX_NUMBER_CHARS characters; `at` is ' at index 2' (at_index) or ''."""
    return msg("inputs.number_too_long", name=name, limit=limits.MAX_NUMBER_CHARS, length=length, at=at)


def _too_long_at(name: str, length: int, where: Message) -> Message:
    """A number of more than limits.MAX_NUMBER_CHARS characters at a position of a text (_Source.where)."""
    return msg("inputs.number_too_long_at", name=name, limit=limits.MAX_NUMBER_CHARS, length=length, where=where)


def _cell_text(cell: Any, name: str, where: Message | str) -> str:
    """One cell of a list of strings (numbers may be mixed in) as the text of one number."""
    if isinstance(cell, np.ndarray | torch.Tensor):  # 0-d
        cell = cell.item()
    if isinstance(cell, bytes):
        return cell.decode("utf-8", "replace")
    if isinstance(cell, int) and not isinstance(cell, bool) and cell.bit_length() > 63:
        try:
            return repr(float(cell))  # str() of a long int is slow or refused; beyond int64 it is a float anyway
        except OverflowError:
            raise InputError("inputs.integer_too_large", name=name, at=where) from None
    return str(cell)


def _from_strings(array: np.ndarray, name: str) -> TensorInput:
    """Numbers given as strings inside a list (e.g. from a table widget): each must be one number."""
    _check_size(array.size, name)
    if array.size == 0:
        raise InputError("inputs.empty_tensor", name=name, shape=shape_text(array.shape))
    tokens = []
    for i, cell in enumerate(array.reshape(-1).tolist()):
        token = _cell_text(cell, name, _at_index(i, array.shape)).translate(_NORMALIZE).strip()
        if len(token) > limits.MAX_NUMBER_CHARS and _NUMBER_START.match(token):
            raise InputError(_too_long_message(name, len(token), _at_index(i, array.shape)))
        if len(token) > limits.MAX_NUMBER_CHARS or not _NUM_FULL.fullmatch(token):
            raise InputError("inputs.not_a_number", name=name, word=quote(token), at=_at_index(i, array.shape))
        tokens.append(token)
    values, tokens = _convert(tokens, lambda: InputError("inputs.does_not_parse", name=name))
    return _tokens_to_input(values, tokens, array.shape)


# Up to this many elements, every candidate count of decimals is tried at once (one (18, n) float64 product: 1.2 MB
# at the limit), in a handful of torch calls instead of about eight per count; above it, count by count.
_BATCHED_DECIMALS = 8192
_POWERS_OF_TEN = torch.tensor([10.0 ** d for d in range(18)], dtype=torch.float64).reshape(18, 1)


def _shortest_decimals(t: torch.Tensor) -> np.ndarray | None:
    """Per element, the decimals of its shortest repr in t's dtype: the fewest decimals d such that rounding
    to d decimals gives back the same number (0.2947 in float32 -> 4, 1e-05 -> 5), and 1 for whole numbers
    (repr writes 1.0); -1 for NaN and ±inf. None above limits.DECIMALS_MAX_ELEMENTS.

    Rounding to d decimals is torch.round(x, decimals=d), which is round-half-even of x · 10^d divided by 10^d
    (10^d exact in float64 for d ≤ 17); small tensors take that form for every d at once (the first d that gives x
    back: argmax of the first True), element for element the same numbers as the loop over d."""
    if t.numel() > limits.DECIMALS_MAX_ELEMENTS:
        return None
    x = t.detach().cpu()
    x64 = x.to(torch.float64)
    if x.numel() <= _BATCHED_DECIMALS:
        flat = x.reshape(1, -1)
        back = (torch.round(x64.reshape(1, -1) * _POWERS_OF_TEN) / _POWERS_OF_TEN).to(x.dtype) == flat
        first = back.to(torch.uint8).argmax(0)  # the first d that gives x back (0 where none does)
        found = back[first, torch.arange(first.numel())]
        decimals = torch.where(found, first, -2)
        decimals = torch.where(torch.isfinite(x64.reshape(-1)), decimals, -1).reshape(x.shape)
    else:
        decimals = torch.full(x.shape, -2, dtype=torch.int64)
        decimals[~torch.isfinite(x64)] = -1
        for d in range(18):
            todo = decimals == -2
            if not bool(todo.any()):
                break
            back = torch.round(x64, decimals=d).to(x.dtype)
            decimals[todo & (back == x)] = d
    out = decimals.numpy().copy()
    flat, source = out.reshape(-1), x64.reshape(-1)
    for i in np.flatnonzero(flat == -2):  # tiny or huge numbers: their shortest repr says it
        flat[i] = max(number_decimals(repr(float(source[i]))), 0)
    # like repr: a whole number is written "1.0" (one decimal) until repr switches to "1e+16"
    out[(out == 0) & (np.abs(x64.numpy()) < 1e16)] = 1
    return out


# -- text --------------------------------------------------------------------------------------------

_PREFIX = re.compile(r"\s*(?:>>>\s*)?(?:Parameter containing:\s*)?(?:[A-Za-z_][\w.]*\s*[=:](?![=:])\s*)?", re.ASCII)
_WRAPPER = re.compile(
    r"(?:(?:torch|np|numpy)\.)?(?P<fn>tensor|Tensor|as_tensor|asarray|array|"
    r"(?:Float|Double|Half|BFloat16|Long|Int|Short|Char|Byte)Tensor|float(?:16|32|64)|int(?:8|16|32|64)|"
    r"uint(?:8|16|32|64)|double|single|half|longlong)\s*\(", re.ASCII)
# possessive: whitespace never belongs to the token after it, so a long tail fails in linear time
_KWARG = r"[A-Za-z_]\w*+\s*+=\s*+(?:<[^<>]*+>|'[^']*+'|\"[^\"]*+\"|\([^()]*+\)|[\w.:+\-]++)"
_TAIL = re.compile(rf"\s*+(?:,\s*+{_KWARG}\s*+)*+,?\s*+", re.ASCII)
_COMPLEX_DTYPE = re.compile(r"dtype\s*+=\s*+(?:(?:torch|np|numpy)\.)?(complex(?:32|64|128)?|chalf|cfloat|cdouble)\b",
                            re.ASCII)
_SPACES = re.compile(r"\s*+")
_COMMENTS = re.compile(r"(?:\s*+#[^\n]*+)*+\s*+")  # blank lines and '#' comment lines
_RANDOM_TEXT = re.compile(r"(?:torch\.)?(?:randn|rand|randint|randn_like|rand_like)\s*\(", re.ASCII)


class _Source:
    """The normalized text and how to name a position in it."""

    def __init__(self, text: str, name: str) -> None:
        self.text = text
        self.name = name

    def where(self, pos: int) -> Message:
        """'character 5', or 'line 2, column 3' in a text of several lines."""
        if "\n" not in self.text:
            return msg("inputs.at_character", char=pos + 1)
        line = self.text.count("\n", 0, pos) + 1
        column = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return msg("inputs.at_line_column", line=line, column=column)

    def line_of(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + 1


def parse_text(text: str, name: str) -> TensorInput:
    """Parse a tensor written as text (nested lists, torch/numpy printouts, rows of numbers, CSV).

    The text is never copied whole before its words are counted: it is read by position and in chunks
    (see "linear scans"), and more than limits.MAX_ELEMENTS words are refused before any list is built."""
    if len(text) > limits.MAX_TEXT_CHARS:
        raise InputError("inputs.too_many_characters", name=name, limit=limits.MAX_TEXT_CHARS, count=len(text))
    if not text.isascii():  # every character _NORMALIZE maps is non-ASCII
        text = text.translate(_NORMALIZE)
    src = _Source(text, name)
    start = _PREFIX.match(text).end()
    end = _stripped_end(text, start, len(text))
    if start >= end:
        raise InputError("inputs.empty_text", name=name)
    if text.startswith("{", start):
        return _from_json_text(src, start, end)
    wrapper = _WRAPPER.match(text, start)
    if wrapper:
        start, end = _unwrap(src, wrapper, end)
    elif _RANDOM_TEXT.match(text, start):
        raise InputError("inputs.random_spec_text", name=name, spec=quote_span(text, start, end))
    return _parse_values(src, _SPACES.match(text, start, end).end(), end)


def _parse_values(src: _Source, start: int, end: int) -> TensorInput:
    """The numbers of text[start:end] (no spaces before them): nested lists, or rows."""
    text, name = src.text, src.name
    if start >= end:
        raise InputError("inputs.empty_text", name=name)
    if text.find("...", start, end) >= 0 or text.find("…", start, end) >= 0:
        raise InputError("inputs.summarized", name=name)
    if text.startswith("[", start):
        last = _stripped_end(text, start, end) - 1
        if text[last] == "]" and text.count("[", start, end) == 1 and text.find(";", start, end) >= 0:
            return _parse_rows(src, start + 1, last)  # MATLAB style [1 2; 3 4]
        return _parse_brackets(src, start, end)
    return _parse_rows(src, start, end)


# '{' and a JSON string key and ':' (possessive: linear however long the key)
_JSON_KEY = re.compile(r'\{\s*+"(?:[^"\\]++|\\.)*+"\s*+:')


def _from_json_text(src: _Source, start: int, end: int) -> TensorInput:
    """A JSON object holding one list (text[start:end] starts with '{'). json.loads builds ~30 bytes of
    Python objects per character, so it reads objects of up to limits.MAX_JSON_CHARS characters; in a longer
    one, the value of its one key is read as text, like a list written alone."""
    text, name = src.text, src.name
    if end - start > limits.MAX_JSON_CHARS:
        _check_json(text, start, end, name)
        key = _JSON_KEY.match(text, start, end)
        if key is not None and text[end - 1] == "}" and text.find('"', key.end(), end - 1) < 0:
            value_end = _stripped_end(text, key.end(), end - 1)
            return _parse_values(src, _SPACES.match(text, key.end(), value_end).end(), value_end)
        raise InputError("inputs.json_one_list", name=name, text=quote_span(text, start, end))
    try:
        data = load_json(text[start:end], name)
    except json.JSONDecodeError as exc:
        raise InputError("inputs.invalid_json", name=name, error=exc.msg.removesuffix(" at"), line=exc.lineno,
                         column=exc.colno) from None
    return _from_json_value(data, name)


def _from_json_value(data: Any, name: str) -> TensorInput:
    if isinstance(data, dict):
        arrays = {k: v for k, v in data.items() if isinstance(v, list | int | float) and not isinstance(v, bool)}
        if len(data) != 1 or len(arrays) != 1:
            shown: list[str] = []
            for key in data:  # as many as fit in about one quote's length
                shown.append(quote(key))
                if sum(map(len, shown)) > limits.MAX_QUOTED_CHARS:
                    break
            more = msg("inputs.more_keys", count=len(data)) if len(shown) < len(data) else ""
            raise InputError("inputs.json_object_keys", name=name, keys=", ".join(shown) or msg("inputs.no_keys"),
                             more=more)
        data = next(iter(arrays.values()))
    if isinstance(data, list | int | float) and not isinstance(data, bool):
        return _from_python(data, name)
    raise InputError("inputs.json_type", name=name, type=type(data).__name__)


def _unwrap(src: _Source, wrapper: re.Match[str], end: int) -> tuple[int, int]:
    """tensor(<data>, dtype=..., ...) -> the span of <data>; checks the keyword tail."""
    text, name = src.text, src.name
    fn = wrapper.group("fn")
    start = wrapper.end()
    if text[end - 1] == ")":
        end -= 1  # (a missing final ')' is forgiven: the article prints "tensor([1., 0., 0.]")
    if text.startswith("[", _SPACES.match(text, start, end).end()):
        close = text.rfind("]", start, end)
        data_end = close + 1 if close >= 0 else end  # no ']' at all: the bracket scan names the '['
    else:
        comma = text.find(",", start, end)
        data_end = comma if comma >= 0 else end
    if not _TAIL.fullmatch(text, data_end, end):
        tail_start = _SPACES.match(text, data_end, end).end()
        raise InputError("inputs.wrapper_tail", name=name, fn=fn,
                         tail=quote_span(text, tail_start, _stripped_end(text, tail_start, end)))
    dtype = _COMPLEX_DTYPE.search(text, data_end, end)
    if dtype:
        raise InputError("inputs.complex_tensor", name=name, dtype=dtype.group(1))
    return start, data_end


def _bad_word_error(src: _Source, starts: np.ndarray, ends: np.ndarray) -> InputError:
    """The first word (text[starts[i]:ends[i]]) that is not a number, quoted with its position."""
    text = src.text
    for lo in range(0, starts.size, _SCAN_CHUNK):
        for start, end in zip(starts[lo:lo + _SCAN_CHUNK].tolist(), ends[lo:lo + _SCAN_CHUNK].tolist(), strict=True):
            too_long = end - start > limits.MAX_NUMBER_CHARS
            if not too_long and _NUM_FULL.fullmatch(text, start, end):
                continue
            where = src.where(start)
            if too_long and _NUMBER_START.match(text, start, end):
                return InputError(_too_long_at(src.name, end - start, where))
            word = quote_span(text, start, end)
            if _COMPLEX.fullmatch(text, start, end):
                return InputError("inputs.complex_value_at", name=src.name, word=word, where=where)
            return InputError("inputs.not_a_number_at", name=src.name, word=word, where=where)
    return InputError("inputs.does_not_parse", name=src.name)


_ZERO, _OPEN, _CLOSE, _COMMA, _SEMI, _NL, _SPACE, _TAB, _HASH = (ord(c) for c in "0[],;\n \t#")


def _empty_cell_error(src: _Source, pos: int) -> InputError:
    return InputError("inputs.empty_cell_at", name=src.name, where=src.where(pos))


def _convert(words: list[str], fail: Callable[[], InputError]) -> tuple[torch.Tensor, list[str]]:
    """Number words -> a flat int64 tensor (every word an integer) or float64 tensor. Conversion is the
    validation: a word Python's int()/float() refuses, or one outside the grammar they are wider than
    (non-ASCII digits, underscores), calls `fail()` for the error that names it; so does a word longer than
    limits.MAX_NUMBER_CHARS."""
    joined = " ".join(words)
    if not joined.isascii() or "_" in joined or max(map(len, words), default=0) > limits.MAX_NUMBER_CHARS:
        raise fail()
    boolish = any(c in joined for c in "rRlL")  # among number words only True / False have r or l
    if boolish:
        words = ["1" if w.lower() == "true" else "0" if w.lower() == "false" else w for w in words]
        floatish = bool(re.search(r"\.|\d[eE]|(?i:nan|inf)", joined))
    else:
        floatish = any(c in joined for c in ".eEnN")
    n = len(words)
    if not floatish:
        try:
            return torch.from_numpy(np.fromiter(map(int, words), dtype=np.int64, count=n)), words
        except (OverflowError, ValueError):
            pass  # integers beyond int64 (or int()'s 4,300 digits) are kept as float64; a bad word fails below
    try:
        return torch.from_numpy(np.fromiter(map(float, words), dtype=np.float64, count=n)), words
    except ValueError:
        raise fail() from None


_BRACKET_SPACES = str.maketrans("[],", "   ")
_ROW_SPACES = str.maketrans(",;", "  ")


def _read_words(src: _Source, tokens: _Tokens, spaces: dict[int, int]) -> tuple[torch.Tensor, list[str]]:
    """The words at the tokens' spans, converted by _convert. A batch of words is split off the piece of text
    from its first to its last (`spaces` turns the separators into spaces), or sliced word by word where
    that piece holds more words ('#' comment lines) or is long (runs of spaces); a word too long to be a
    number is found from its span, before any word is copied."""
    text, starts, ends = src.text, tokens.starts, tokens.ends

    def fail() -> InputError:
        return _bad_word_error(src, starts, ends)

    if starts.size and int((ends - starts).max()) > limits.MAX_NUMBER_CHARS:
        raise fail()
    words: list[str] = []
    batch = max(_SCAN_CHUNK // 16, 1)
    for lo in range(0, starts.size, batch):
        first, last = starts[lo:lo + batch].tolist(), ends[lo:lo + batch].tolist()
        piece = text[first[0]:last[-1]].translate(spaces).split() if last[-1] - first[0] <= 4 * _SCAN_CHUNK else []
        words += piece if len(piece) == len(first) else [text[a:b] for a, b in zip(first, last, strict=True)]
    return _convert(words, fail)


# A short one-line list of plain numbers, "[0.2947, 0.5898, 0.4863]": read at once (see _flat_list)
_FLAT_LIST = re.compile(rf"\[ *+({_NUMERAL}(?: *+, *+{_NUMERAL})*+) *+\]", re.ASCII)
_FLAT_LIST_CHARS = 1 << 14


def _flat_list(src: _Source, start: int, end: int) -> TensorInput | None:
    """text[start:end] as _parse_brackets reads it where it is a short list of numbers separated by commas and
    spaces (what a person or a JSON encoder writes), without its scans; None for anything else."""
    if end - start > _FLAT_LIST_CHARS or limits.MAX_DIMS < 1:
        return None
    flat = _FLAT_LIST.fullmatch(src.text, start, end)
    if flat is None:
        return None
    words = flat.group(1).replace(" ", "").split(",")
    _check_size(len(words), src.name)

    def fail() -> InputError:  # the error _parse_brackets gives for these words
        tokens = _bracket_tokens(src.text, start, end, keep_skeleton=False)
        return _bad_word_error(src, tokens.starts, tokens.ends)

    values, words = _convert(words, fail)
    return _tokens_to_input(values, words, (len(words),))


def _parse_brackets(src: _Source, start: int, end: int) -> TensorInput:
    flat = _flat_list(src, start, end)
    if flat is not None:
        return flat
    name = src.name
    nesting = _scan_brackets(src.text, start, end)  # before anything that grows with the text
    if nesting.unmatched_close is not None or nesting.unclosed:
        raise _bracket_error(src, nesting)
    if nesting.deepest > limits.MAX_DIMS:  # here nesting is dimensions (MAX_DIMS ≤ MAX_NESTING)
        raise InputError("inputs.too_many_dims", name=name, limit=limits.MAX_DIMS, count=nesting.deepest)
    _check_size(nesting.words, name)
    # A list that holds anything holds a number at some depth, and lists at one depth do not overlap: at most
    # `words` lists per depth. More lists than that mean an empty one ("[], [], ..."): no skeleton is kept.
    fits = nesting.lists <= nesting.deepest * nesting.words
    tokens = _bracket_tokens(src.text, start, end, keep_skeleton=fits)
    values, words = _read_words(src, tokens, _BRACKET_SPACES)
    if tokens.empty_cell is not None:
        raise _empty_cell_error(src, tokens.empty_cell)
    if not nesting.words:
        raise InputError("inputs.empty_list", name=name)
    if tokens.skeleton is None:
        raise InputError("inputs.empty_list_at", name=name, where=src.where(tokens.empty_list))
    shape = _skeleton_shape(name, tokens.skeleton)  # commas are optional; a trailing one is allowed
    return _tokens_to_input(values, words, shape)


def _skeleton_shape(name: str, arr: np.ndarray) -> tuple[int, ...]:
    """The shape of a skeleton made of balanced '[', ']' and one '0' per number, or an InputError."""
    opens = arr == _OPEN
    closes = arr == _CLOSE
    depth = np.cumsum(opens.astype(np.int32) - closes.astype(np.int32))
    if bool((depth[:-1] == 0).any()):  # several top-level lists, e.g. "[1, 2]\n[3, 4]": one row each
        arr = np.concatenate([[_OPEN], arr, [_CLOSE]]).astype(np.uint8)
        opens = arr == _OPEN
        closes = arr == _CLOSE
        depth = np.cumsum(opens.astype(np.int32) - closes.astype(np.int32))
    leaves = arr == _ZERO
    if not bool(leaves.any()):
        raise InputError("inputs.empty_list", name=name)
    leaf_depth = depth[leaves]
    dims = int(leaf_depth.max())
    if int(leaf_depth.min()) != dims or int(depth.max()) != dims:
        raise InputError("inputs.mixed_levels", name=name)
    if dims > limits.MAX_DIMS:
        raise InputError("inputs.too_many_dims", name=name, limit=limits.MAX_DIMS, count=dims)
    shape: list[int] = []
    for k in range(1, dims + 1):
        parents = np.flatnonzero(opens & (depth == k))
        children = np.flatnonzero(opens & (depth == k + 1)) if k < dims else np.flatnonzero(leaves)
        owner = np.searchsorted(parents, children, side="right") - 1
        counts = np.bincount(owner, minlength=parents.size)
        if bool((counts != counts[0]).any()):
            first = int(np.flatnonzero(counts != counts[0])[0])
            raise InputError(_ragged_message(name, int(counts[first]), _index_text(first, shape), int(counts[0]),
                                             _index_text(0, shape)))
        shape.append(int(counts[0]))
    return tuple(shape)


def _bracket_error(src: _Source, nesting: _Nesting) -> InputError:
    if nesting.unmatched_close is not None:
        return InputError("inputs.unmatched_close", name=src.name, where=src.where(nesting.unmatched_close))
    return InputError("inputs.unclosed", name=src.name, count=nesting.unclosed,
                      where=src.where(nesting.first_unclosed))


# -- linear scans ------------------------------------------------------------------------------------
# Everything that grows with the text is found in chunks of characters (numpy on one byte per character),
# so that time is linear and memory bounded by the chunk, before anything recurses or grows with the text:
# bracket depths, number lengths, how many words there are; then where each word is, and the skeleton of
# separators and brackets around them, kept only as large as the words found.

_SCAN_CHUNK = 1 << 18  # characters per step of a scan


def _chunks(text: str, start: int, end: int) -> Iterator[tuple[int, np.ndarray]]:
    """text[start:end] in pieces, each with its offset, as bytes with one byte per character (any non-ASCII
    character becomes '?', so positions hold)."""
    for lo in range(start, end, _SCAN_CHUNK):
        piece = text[lo:min(lo + _SCAN_CHUNK, end)].encode("ascii", "replace")
        yield lo, np.frombuffer(piece, dtype=np.uint8)


def _stripped_end(text: str, start: int, end: int) -> int:
    """Where text[start:end].rstrip() ends, found without copying the text."""
    while end > start:
        lo = max(start, end - _SCAN_CHUNK)
        kept = len(text[lo:end].rstrip())
        if kept:
            return lo + kept
        end = lo
    return start


def _run_lengths(mask: np.ndarray, carried: int) -> np.ndarray:
    """For each position, how many True values in a row end there (`carried` of them before the chunk)."""
    index = np.arange(1, mask.size + 1, dtype=np.int64)
    last_false = np.maximum.accumulate(np.where(mask, 0, index))  # 1-based; 0 where none yet in this chunk
    runs = index - last_false
    runs[last_false == 0] += carried
    return runs


def _byte_set(chars: bytes) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[list(chars)] = True
    return table


# What str.split() splits at, once _NORMALIZE has made every space ASCII; a word is a run of anything else.
_SPACE_BYTES = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_BRACKET_SEPARATORS = _byte_set(_SPACE_BYTES + b"[],")
_BRACKET_MARKS = _byte_set(b"[],")
_ROW_SEPARATORS = _byte_set(_SPACE_BYTES + b",;")
_LINE_DELIMITERS = _byte_set(b",;")  # between the cells of one line (rows are lines)
_ROW_DELIMITERS = _byte_set(b",")  # between the cells of one row (rows end at ';')


def _comment_lines(b: np.ndarray, state: int) -> tuple[np.ndarray, int]:
    """Which characters of a chunk lie on a '#' comment line (its first character other than spaces and tabs
    is '#'), up to the newline that ends it, given the state of the line the chunk starts in (0: only spaces
    and tabs so far, 1: a comment, 2: data); and the state of the line it ends in."""
    newline = b == _NL
    line = np.cumsum(newline) - newline  # the line of each character; a newline's is the line it ends
    kinds = np.zeros(int(np.count_nonzero(newline)) + 1, dtype=np.int8)
    kinds[0] = state
    marks = np.flatnonzero((b != _SPACE) & (b != _TAB) & ~newline)
    if marks.size:
        lines = line[marks]
        first = np.ones(marks.size, dtype=bool)  # the first mark of its line
        first[1:] = lines[1:] != lines[:-1]
        if state:
            first &= lines != 0
        kinds[lines[first]] = np.where(b[marks[first]] == _HASH, 1, 2)
    return (kinds[line] == 1) & ~newline, int(kinds[-1])


def _word_chunks(text: str, start: int, end: int, separators: np.ndarray,
                 comments: bool = False) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """text[start:end] in chunks: (offset, bytes, where words begin, where words end): a word is a run of
    characters that are not `separators`; it ends (exclusive, as a position in the text) at the separator
    after it, or at `end`. With `comments`, '#' comment lines are blanked first."""
    in_word, line_state = False, 0
    for lo, b in _chunks(text, start, end):
        if comments:
            on_comment, line_state = _comment_lines(b, line_state)
            b = np.where(on_comment, np.uint8(_SPACE), b)
        word = ~separators[b]
        before = np.concatenate(([in_word], word[:-1]))
        in_word = bool(word[-1])
        ends = np.flatnonzero(before & ~word) + lo
        if in_word and lo + b.size == end:
            ends = np.append(ends, end)
        yield lo, b, word & ~before, ends


def _count_words(text: str, start: int, end: int, separators: np.ndarray, comments: bool = False) -> int:
    return sum(int(np.count_nonzero(begins)) for _, _, begins, _ in _word_chunks(text, start, end, separators, comments))


@dataclass(frozen=True)
class _Tokens:
    """What a chunked pass over rows or brackets found: where each word starts and ends (positions in the
    text), where the first empty cell is (a separator with no number before it), and

    rows:       (rows) the row of each word, counted from 0;
    skeleton:   (brackets) '[', ']' and one '0' per word, or None when not kept;
    empty_list: (brackets) where the first '[' with nothing but spaces and commas before its ']' is."""

    starts: np.ndarray
    ends: np.ndarray
    empty_cell: int | None
    rows: np.ndarray | None = None
    skeleton: np.ndarray | None = None
    empty_list: int | None = None


_WORD, _DELIMITER, _ROW_END = 0, 1, 2  # the tokens of rows


def _row_tokens(text: str, start: int, end: int, multiline: bool, comments: bool) -> _Tokens:
    """Rows are lines (cells between ',' or ';') when `multiline`, else rows end at ';' (cells between ',')."""
    row_end = _NL if multiline else _SEMI
    delimiters = _LINE_DELIMITERS if multiline else _ROW_DELIMITERS
    starts, ends, rows = [], [], []
    row, previous, empty_cell = 0, _ROW_END, None
    for lo, b, begins, word_ends in _word_chunks(text, start, end, _ROW_SEPARATORS, comments):
        at = np.flatnonzero(begins | delimiters[b] | (b == row_end))
        kind = np.where(begins[at], _WORD, np.where(b[at] == row_end, _ROW_END, _DELIMITER))
        if at.size:
            before = np.concatenate(([previous], kind[:-1]))
            empty = (kind == _DELIMITER) & (before != _WORD)
            if empty_cell is None and bool(empty.any()):
                empty_cell = lo + int(at[np.argmax(empty)])
            previous = int(kind[-1])
        is_word = kind == _WORD
        row_ends = np.cumsum(kind == _ROW_END)
        starts.append(at[is_word] + lo)
        rows.append(row_ends[is_word] + row)
        ends.append(word_ends)
        row += int(row_ends[-1]) if row_ends.size else 0
    return _Tokens(_joined(starts), _joined(ends), empty_cell, rows=_joined(rows))


def _bracket_tokens(text: str, start: int, end: int, keep_skeleton: bool) -> _Tokens:
    starts, ends, parts = [], [], []
    previous = _OPEN  # the token before: a ',' after '[' or ',' is an empty cell
    last, last_at = _COMMA, -1  # the '[', ']' or '0' before, and where it is
    empty_cell: int | None = None
    empty_list: int | None = None
    for lo, b, begins, word_ends in _word_chunks(text, start, end, _BRACKET_SEPARATORS):
        starts.append(np.flatnonzero(begins) + lo)
        ends.append(word_ends)
        at = np.flatnonzero(begins | _BRACKET_MARKS[b])
        if not at.size:
            continue
        kind = np.where(begins[at], np.uint8(_ZERO), b[at])
        before = np.concatenate(([previous], kind[:-1]))
        empty = (kind == _COMMA) & ((before == _COMMA) | (before == _OPEN))
        if empty_cell is None and bool(empty.any()):
            empty_cell = lo + int(at[np.argmax(empty)])
        previous = int(kind[-1])
        solid = kind != _COMMA
        kind, at = kind[solid], at[solid] + lo
        if not kind.size:
            continue
        if empty_list is None:
            closed = (kind == _CLOSE) & (np.concatenate(([last], kind[:-1])) == _OPEN)
            if bool(closed.any()):
                i = int(np.argmax(closed))
                empty_list = int(at[i - 1]) if i else last_at
        last, last_at = int(kind[-1]), int(at[-1])
        if keep_skeleton:
            parts.append(kind)
    skeleton = _joined(parts, np.uint8) if keep_skeleton else None
    return _Tokens(_joined(starts), _joined(ends), empty_cell, skeleton=skeleton, empty_list=empty_list)


def _joined(parts: list[np.ndarray], dtype: type = np.int64) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)


@dataclass(frozen=True)
class _Nesting:
    """How the '[' and ']' of a text nest: the deepest level, the first ']' that closes nothing, how many '['
    stay open at the end and where the first of them is; and how many lists ('[') and words there are."""

    deepest: int
    unmatched_close: int | None
    unclosed: int
    first_unclosed: int | None
    lists: int
    words: int


def _scan_brackets(text: str, start: int, end: int) -> _Nesting:
    depth = deepest = lists = words = 0
    unmatched: int | None = None
    first_unclosed: int | None = None  # the last '[' that opens level 1: the first that is never closed
    for lo, b, begins, _ in _word_chunks(text, start, end, _BRACKET_SEPARATORS):
        words += int(np.count_nonzero(begins))
        where = np.flatnonzero((b == _OPEN) | (b == _CLOSE))
        if not where.size:
            continue
        opens = b[where] == _OPEN
        lists += int(np.count_nonzero(opens))
        depths = np.cumsum(np.where(opens, 1, -1)) + depth
        deepest = max(deepest, int(depths.max()))
        if unmatched is None and int(depths.min()) < 0:
            unmatched = lo + int(where[np.argmax(depths < 0)])
        to_one = where[opens & (depths == 1)]
        if to_one.size:
            first_unclosed = lo + int(to_one[-1])
        depth = int(depths[-1])
    return _Nesting(deepest, unmatched, max(depth, 0), first_unclosed, lists, words)


_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_JSON_OPENS = np.zeros(256, dtype=np.int8)
_JSON_OPENS[list(b"[{")] = 1
_JSON_OPENS[list(b"]}")] = -1
_JSON_NUMBER_BYTES = np.zeros(256, dtype=bool)
_JSON_NUMBER_BYTES[list(b"0123456789+-.eE")] = True
_JSON_NUMBER = re.compile(r"[-+0-9.eE]*+")


def _json_integer(digits: str) -> int | float:
    """A JSON integer; one longer than int() converts (4,300 digits) is far beyond float64 anyway: a float."""
    limit = sys.get_int_max_str_digits()
    return float(digits) if limit and len(digits.lstrip("-")) > limit else int(digits)


def load_json(text: str, name: str) -> Any:
    """json.loads, after a linear scan that refuses what it cannot take (see _check_json); integers longer
    than int() reads are floats. A syntax error is json's JSONDecodeError, for the caller to word."""
    _check_json(text, 0, len(text), name)
    return json.loads(text, parse_int=_json_integer)


def _check_json(text: str, start: int, end: int, name: str) -> None:
    """Refuses in JSON text[start:end] what json.loads cannot take: brackets nested deeper than
    limits.MAX_NESTING (json.loads recurses once per level) and numbers longer than limits.MAX_NUMBER_CHARS;
    string literals are skipped."""
    if end - start <= min(limits.MAX_NESTING, limits.MAX_NUMBER_CHARS):  # too short to hold either ("{}")
        return
    in_string, backslashes, number_run = False, 0, 0
    depth = deepest = 0
    long_number: int | None = None
    for lo, b in _chunks(text, start, end):
        outside = None  # None: every character of the chunk is outside string literals
        quotes = b == _QUOTE
        if backslashes or bool((b == _BACKSLASH).any()):
            runs = _run_lengths(b == _BACKSLASH, backslashes)
            quotes &= np.concatenate(([backslashes], runs[:-1])) % 2 == 0  # after an odd run: escaped
            backslashes = int(runs[-1])
        if in_string or bool(quotes.any()):
            inside = (np.cumsum(quotes, dtype=np.int64) % 2 == 1) ^ in_string
            in_string, outside = bool(inside[-1]), ~inside
        steps = _JSON_OPENS[b]
        where = np.flatnonzero(steps if outside is None else steps * outside)
        if where.size:
            depths = np.cumsum(steps[where], dtype=np.int64) + depth
            deepest, depth = max(deepest, int(depths.max())), int(depths[-1])
        digits = _JSON_NUMBER_BYTES[b] if outside is None else _JSON_NUMBER_BYTES[b] & outside
        edges = np.concatenate(([-1 - number_run], np.flatnonzero(~digits), [b.size]))  # around runs of digits
        lengths = np.diff(edges) - 1
        if long_number is None and int(lengths.max()) > limits.MAX_NUMBER_CHARS:
            long_number = lo + int(edges[np.argmax(lengths > limits.MAX_NUMBER_CHARS)]) + 1
        number_run = int(lengths[-1])
    if deepest > limits.MAX_NESTING:
        raise InputError("inputs.nested_too_deep", name=name, limit=limits.MAX_NESTING, depth=deepest)
    if long_number is not None:
        length = _JSON_NUMBER.match(text, long_number, end).end() - long_number
        raise InputError(_too_long_at(name, length, _Source(text, name).where(long_number)))


def _parse_rows(src: _Source, start: int, end: int) -> TensorInput:
    """Rows of numbers: lines (cells split by commas, semicolons, tabs, spaces), or ';'-separated rows on
    one line. A first line of names (a CSV header) and '#' comment lines are skipped."""
    name, text = src.name, src.text
    first = _SPACES.match(text, start, end).end()
    multiline = text.find("\n", first, _stripped_end(text, first, end)) >= 0
    if multiline:
        start = _skip_header(text, start, end, name)
    comments = multiline and text.find("#", start, end) >= 0
    count = _count_words(text, start, end, _ROW_SEPARATORS, comments)  # before anything that grows with it
    if not count:
        raise InputError("inputs.empty_text", name=name)
    _check_size(count, name)
    tokens = _row_tokens(text, start, end, multiline, comments)
    values, words = _read_words(src, tokens, _ROW_SPACES)
    if tokens.empty_cell is not None:
        raise _empty_cell_error(src, tokens.empty_cell)
    rows = tokens.rows
    firsts = np.flatnonzero(np.diff(rows, prepend=-1))  # each row's first word (blank lines have none)
    row_numbers = rows[firsts]
    lengths = np.diff(np.append(firsts, rows.size))
    if bool((lengths != lengths[0]).any()):
        first = int(np.flatnonzero(lengths != lengths[0])[0])
        if multiline:
            base = src.line_of(start)
            raise InputError("inputs.ragged_lines", name=name, count0=int(lengths[0]),
                             line0=base + int(row_numbers[0]), count=int(lengths[first]),
                             line=base + int(row_numbers[first]))
        raise InputError("inputs.ragged_rows", name=name, count0=int(lengths[0]), row0=int(row_numbers[0]) + 1,
                         count=int(lengths[first]), row=int(row_numbers[first]) + 1)
    rows_count, cols = int(lengths.size), int(lengths[0])
    if rows_count == 1:
        shape: tuple[int, ...] = () if cols == 1 else (cols,)
    else:
        shape = (rows_count,) if cols == 1 else (rows_count, cols)
    return _tokens_to_input(values, words, shape)


_CELL_DELIMITER = re.compile(r"[,;\t]")
_DELIMITED_CELL = re.compile(r"[^,;\t]+")
_SPACED_CELL = re.compile(r"\S+")
_CELL_SPACE = r"[ \t\n\r\x0b\x0c\x1c-\x1f]"  # what str.strip() strips (every space is ASCII here)
# a cell that is a number once stripped of spaces and then of quotes (cell.strip().strip("\"'"))
_NUMERIC_CELL = re.compile(rf"{_CELL_SPACE}*+[\"']*+(?:{_NUMERAL_FULL.pattern})[\"']*+{_CELL_SPACE}*+", re.ASCII)


def _skip_header(text: str, start: int, end: int, name: str) -> int:
    """Where the data starts: after leading '#' comments and blank lines, and after a first line of names
    (a CSV header: no cell is a number) when more lines follow."""
    pos = _COMMENTS.match(text, start, end).end()
    if pos >= end:
        raise InputError("inputs.empty_text", name=name)
    pos = max(text.rfind("\n", start, pos) + 1, start)  # the start of the first data line
    nl = text.find("\n", pos, end)
    if nl < 0 or _SPACES.match(text, nl + 1, end).end() >= end:
        return pos
    line_start = _SPACES.match(text, pos, nl).end()
    line_end = _stripped_end(text, line_start, nl)
    cells = _DELIMITED_CELL if _CELL_DELIMITER.search(text, line_start, line_end) else _SPACED_CELL
    if any(_NUMERIC_CELL.fullmatch(text, *cell.span()) for cell in cells.finditer(text, line_start, line_end)):
        return pos
    return nl + 1


# Words that are all plain decimals ("0.2947", "-3", "1.", ".5"): number_decimals' common case, read at once
_PLAIN_WORDS = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:,[-+]?(?:\d+\.?\d*|\.\d+))*", re.ASCII)


def _decimals(words: list[str]) -> np.ndarray:
    """number_decimals of each word (int64): where every word is a plain decimal (one match over the words joined by
    commas, no word holding a comma), its digits after the point (at most limits.MAX_DECIMALS), or -1 without a
    point, as number_decimals' common case says; else number_decimals word by word."""
    joined = ",".join(words)
    count = len(words)
    if joined.count(",") == count - 1 and _PLAIN_WORDS.fullmatch(joined):
        dots = np.fromiter(map(str.find, words, repeat(".")), dtype=np.int64, count=count)
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=count)
        return np.where(dots < 0, -1, np.minimum(lengths - dots - 1, limits.MAX_DECIMALS))
    return np.fromiter(map(number_decimals, words), dtype=np.int64, count=count)


def _tokens_to_input(values: torch.Tensor, words: list[str], shape: Sequence[int]) -> TensorInput:
    """Flat converted values and their words (row-major) -> TensorInput of the given shape."""
    decimals = None
    if len(words) <= limits.DECIMALS_MAX_ELEMENTS:
        decimals = _decimals(words).reshape(tuple(shape))
    return TensorInput(values.reshape(tuple(shape)), decimals)

