"""Every user input becomes a tensor here, and every check of user input lives here.

`read_tensor` accepts text in the supported formats, nested lists, numpy arrays and torch tensors and
returns a `TensorInput`: float64 values (int64 when every entry was written as an integer), plus the
number of decimals each entry was written with, which the answer checker needs.

Text formats (one parser, no eval):

- Python / JSON nested lists ``[[0.1, 0.2], [0.3, 0.4]]`` (trailing commas, ``True``/``False``,
  ``nan``/``inf``/``-inf``/``NaN``/``Infinity`` allowed), scalars ``0.5``;
- numpy ``repr`` and ``print`` output: ``array([0.1, 0.2], dtype=float32)``, ``[[0.1 0.2]\n [0.3 0.4]]``;
- PyTorch printouts: ``tensor([[ 0.5000, -1.2500], ...], dtype=torch.float64, requires_grad=True)``,
  ``tensor(0.9264)``, ``Parameter containing:\ntensor(...)``, with an optional ``name =`` / ``name:`` label;
- rows separated by newlines (or by ``;`` on a single line, MATLAB style ``1 2; 3 4``), cells by commas,
  whitespace, tabs or semicolons; CSV with an optional header row of names (skipped) and ``#`` comments.

The parser is linear-time and vectorised (a 1,000,000-number text takes about a second): the words
between separators are split off with str methods and converted by int() / float() through
numpy.fromiter (the conversion is the validation: the grammar is exactly Python's number syntax without
underscores, plus True/False); the brackets are reduced to a skeleton of ``[``, ``]`` and one ``0`` per
number, and the shape is read off it with numpy (nesting depth by cumulative sum, children per list by
``bincount``). Only when something is wrong does a slower pass find the exact place to name.
"""

from __future__ import annotations

import json
import math
import os
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lossapp.i18n import add_zh, add_zh_patterns

MAX_ELEMENTS = 2_000_000
MAX_TEXT_CHARS = 40_000_000
MAX_DIMS = 32
DECIMALS_MAX_ELEMENTS = 100_000  # above this, TensorInput.decimals is None (not computed)
MAX_FILE_BYTES = 50 * 2**20


class InputError(ValueError):
    """A user mistake: the message says what was expected and what was found."""


@dataclass(frozen=True)
class TensorInput:
    """A parsed tensor and how it was written.

    values:   float64 tensor, or int64 when every entry was written as an integer.
    decimals: per element, the digits written after the decimal point, in absolute terms ('1.5e-3' -> 4);
              -1 where the entry was an integer (taken as exact). For floats that came from Python
              (lists, arrays, tensors) it is the decimals of their shortest repr in their own dtype
              (0.2947 -> 4, 1.0 -> 1); integer dtypes give -1. None when unknown (inputs of more than
              DECIMALS_MAX_ELEMENTS elements).
    """

    values: torch.Tensor
    decimals: np.ndarray | None = None

    @property
    def integral(self) -> bool:
        return not self.values.is_floating_point()

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)


# -- numbers -----------------------------------------------------------------------------------------

# One number token (a whole word between separators: "1.2.3", "abc1", "1-2" are not numbers).
_NUM_BODY = (r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?i:nan|inf(?:inity)?)|(?i:true|false)")
_NUM_FULL = re.compile(_NUM_BODY, re.ASCII)
_NUMERAL_FULL = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?i:nan|inf(?:inity)?)", re.ASCII)
_COMPLEX = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?:[-+](?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)?[jJ]")

# Full-width punctuation and look-alike characters from Chinese input methods, LaTeX and word
# processors, mapped one character to one character (so positions in messages stay right).
_NORMALIZE = str.maketrans({
    "，": ",", "；": ";", "［": "[", "］": "]", "（": "(", "）": ")", "：": ":", "＝": "=", "．": ".",
    "−": "-", "–": "-", "＋": "+", "－": "-", "\u00a0": " ", "\u3000": " ", "\u2009": " ", "\u202f": " ",
    "\ufeff": " ", "\u200b": " ",
    **{chr(0xFF10 + i): str(i) for i in range(10)},
})


def number_decimals(token: str) -> int:
    """Digits after the decimal point as written, in absolute terms: '0.2947' -> 4, '1.5e-3' -> 4,
    '1.' -> 0, '3' -> -1 (an integer, taken as exact); nan, inf, True and False -> -1."""
    token = token.strip().lower().lstrip("+-")
    if token in ("nan", "inf", "infinity", "true", "false"):
        return -1
    mantissa, _, exponent = token.partition("e")
    if "." not in mantissa and not exponent:
        return -1
    written = len(mantissa.split(".", 1)[1]) if "." in mantissa else 0
    return max(written - int(exponent or 0), 0)


# -- entry point -------------------------------------------------------------------------------------

def read_tensor(value: Any, name: str) -> TensorInput:
    """Turn user input (text, nested list, numpy array, torch tensor, number, file path) into a TensorInput."""
    if value is None:
        raise InputError(f"{name}: expected a tensor, got nothing")
    if isinstance(value, TensorInput):
        return value
    if isinstance(value, bytes | bytearray):
        try:
            value = bytes(value).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: expected UTF-8 text, got undecodable bytes at byte {exc.start}") from None
    if isinstance(value, str):
        return parse_text(value, name)
    if isinstance(value, os.PathLike):
        return load_file(value, name)
    if isinstance(value, torch.Tensor):
        return _from_torch(value, name)
    if isinstance(value, bool | int | float | np.generic | np.ndarray | list | tuple) or hasattr(value, "__array__"):
        return _from_python(value, name)
    raise InputError(f"{name}: expected text, a list, a numpy array or a torch tensor, got {type(value).__name__}")


# -- Python objects ----------------------------------------------------------------------------------

def _check_size(count: int, name: str) -> None:
    if count > MAX_ELEMENTS:
        raise InputError(f"{name}: expected at most {MAX_ELEMENTS:,} elements, got {count:,}")


def _index_text(flat_index: int, shape: Sequence[int]) -> str:
    """'3' for a vector, '(0, 1)' for a matrix position, '' for a scalar."""
    if not shape:
        return ""
    idx = tuple(int(i) for i in np.unravel_index(int(flat_index), tuple(shape)))
    return str(idx[0]) if len(idx) == 1 else "(" + ", ".join(map(str, idx)) + ")"


def _at_index(flat_index: int, shape: Sequence[int]) -> str:
    where = _index_text(flat_index, shape)
    return f" at index {where}" if where else ""


def _from_torch(t: torch.Tensor, name: str) -> TensorInput:
    if t.device.type == "meta":
        raise InputError(f"{name}: expected a tensor with data, got a tensor on the meta device")
    if t.is_complex():
        raise InputError(f"{name}: expected real numbers, got a complex tensor ({str(t.dtype).removeprefix('torch.')})")
    if t.dtype == torch.bool:
        raise InputError(f"{name}: expected a numeric tensor, got a bool tensor (convert it with .float() or .long())")
    _check_size(t.numel(), name)
    t = t.detach()
    if t.is_sparse:
        t = t.to_dense()
    if t.is_quantized:
        t = t.dequantize()
    t = t.cpu()
    if t.numel() == 0:
        raise InputError(f"{name}: expected at least one number, got an empty tensor of shape {shape_text(t.shape)}")
    if t.is_floating_point():
        return TensorInput(t.to(torch.float64), _shortest_decimals(t))
    if t.dtype in (torch.uint16, torch.uint32, torch.uint64):
        return _from_python(t.numpy(), name)
    values = t.to(torch.int64)
    return TensorInput(values, np.full(tuple(values.shape), -1, dtype=np.int64))


def _from_python(value: Any, name: str) -> TensorInput:
    python_bools = isinstance(value, bool) or (isinstance(value, list | tuple) and _has_python_bool(value))
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:
        problem = _nested_problem(value, name) if isinstance(value, list | tuple) else None
        raise InputError(problem or f"{name}: expected a rectangular array of numbers, got {exc}") from None
    kind = array.dtype.kind
    if kind == "O":
        if isinstance(value, list | tuple):
            problem = _nested_problem(value, name)
            if problem:
                raise InputError(problem)
        flat = array.reshape(-1)
        for i, item in enumerate(flat):
            if not isinstance(item, bool | int | float | np.number):
                kind_name = "None" if item is None else type(item).__name__
                raise InputError(f"{name}: expected numbers, got {kind_name}{_at_index(i, array.shape)}")
        array = array.astype(np.float64)
        kind = "f"
    if kind in "US":
        return _from_strings(array, name)
    if kind == "b":
        if not python_bools:
            raise InputError(f"{name}: expected a numeric tensor, got a bool tensor (convert it with .float() or .long())")
        array = array.astype(np.int64)
        kind = "i"
    if kind == "c":
        raise InputError(f"{name}: expected real numbers, got a complex tensor ({array.dtype})")
    if kind not in "iuf":
        raise InputError(f"{name}: expected numbers, got values of type {array.dtype}")
    _check_size(array.size, name)
    if array.size == 0:
        raise InputError(f"{name}: expected at least one number, got an empty tensor of shape {shape_text(array.shape)}")
    if array.ndim > MAX_DIMS:
        raise InputError(f"{name}: expected at most {MAX_DIMS} dimensions, got {array.ndim}")
    if kind == "u" and array.dtype.itemsize == 8 and bool((array > np.iinfo(np.int64).max).any()):
        raise InputError(f"{name}: expected integers that fit in int64, got {int(array.max())}")
    if kind in "iu":
        values = torch.from_numpy(np.array(array, dtype=np.int64, order="C"))
        return TensorInput(values, np.full(array.shape, -1, dtype=np.int64))
    if array.dtype not in (np.float16, np.float32, np.float64):
        array = array.astype(np.float64)  # long double; non-native byte order
    source = torch.from_numpy(np.array(array, order="C"))
    return TensorInput(source.to(torch.float64), _shortest_decimals(source))


def _has_python_bool(value: Any, limit: int = 64) -> bool:
    """Whether a (nested) list starts with Python bools (True/False written as labels)."""
    while isinstance(value, list | tuple) and value and limit:
        value, limit = value[0], limit - 1
    return isinstance(value, bool)


def _nested_problem(value: Sequence[Any], name: str) -> str | None:
    """The first place where a nested list is not rectangular, as a message (None when it is)."""
    level: list[tuple[tuple[int, ...], Any]] = [((), value)]
    for _depth in range(MAX_DIMS + 1):
        is_seq = [isinstance(v, list | tuple) or (isinstance(v, np.ndarray | torch.Tensor) and v.ndim > 0)
                  for _, v in level]
        if not any(is_seq):
            return None
        if not all(is_seq):
            where = next(idx for (idx, _), s in zip(level, is_seq, strict=True) if not s)
            return (f"{name}: expected a rectangular tensor, got numbers and lists mixed at the same level "
                    f"(index {_tuple_text(where)} is a number)")
        lengths = [len(v) for _, v in level]
        if len(set(lengths)) > 1:
            first = next(i for i, n in enumerate(lengths) if n != lengths[0])
            return _ragged_message(name, lengths[first], _tuple_text(level[first][0]), lengths[0],
                                   _tuple_text(level[0][0]))
        level = [((*idx, j), child) for idx, v in level for j, child in enumerate(v)]
        if len(level) > MAX_ELEMENTS:
            return None
    return f"{name}: expected at most {MAX_DIMS} dimensions, got more"


def _ragged_message(name: str, n: int, where: str, n0: int, where0: str) -> str:
    """Row `where` (an index such as 1 or (0, 1)) has n entries where row `where0` has n0."""
    return (f"{name}: expected rows of equal length, got {n} {'entry' if n == 1 else 'entries'} at index {where} "
            f"but {n0} at index {where0}")


def _tuple_text(idx: tuple[int, ...]) -> str:
    return str(idx[0]) if len(idx) == 1 else "(" + ", ".join(map(str, idx)) + ")"


def _from_strings(array: np.ndarray, name: str) -> TensorInput:
    """Numbers given as strings inside a list (e.g. from a table widget): each must be one number."""
    _check_size(array.size, name)
    if array.size == 0:
        raise InputError(f"{name}: expected at least one number, got an empty tensor of shape {shape_text(array.shape)}")
    tokens = [str(s).strip().translate(_NORMALIZE) for s in array.reshape(-1).tolist()]
    for i, token in enumerate(tokens):
        if not _NUM_FULL.fullmatch(token):
            raise InputError(f"{name}: expected a number, got {token!r}{_at_index(i, array.shape)}")
    values, tokens = _convert(tokens, " ".join(tokens), lambda: InputError(f"{name}: expected numbers, got text "
                                                                           "that does not parse"))
    return _tokens_to_input(values, tokens, array.shape)


def _shortest_decimals(t: torch.Tensor) -> np.ndarray | None:
    """Per element, the decimals of its shortest repr in t's dtype: the fewest decimals d such that rounding
    to d decimals gives back the same number (0.2947 in float32 -> 4, 1e-05 -> 5), and 1 for whole numbers
    (repr writes 1.0); -1 for NaN and ±inf. None above DECIMALS_MAX_ELEMENTS."""
    if t.numel() > DECIMALS_MAX_ELEMENTS:
        return None
    x = t.detach().cpu()
    x64 = x.to(torch.float64)
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
_KWARG = r"[A-Za-z_]\w*\s*=\s*(?:<[^<>]*>|'[^']*'|\"[^\"]*\"|\([^()]*\)|[\w.:+\-]+)"
_TAIL = re.compile(rf"\s*(?:,\s*{_KWARG}\s*)*,?\s*", re.ASCII)
_RANDOM_TEXT = re.compile(r"(?:torch\.)?(?:randn|rand|randint|randn_like|rand_like)\s*\(", re.ASCII)


class _Source:
    """The normalized text and how to name a position in it."""

    def __init__(self, text: str, name: str) -> None:
        self.text = text
        self.name = name

    def where(self, pos: int) -> str:
        if "\n" not in self.text:
            return f"character {pos + 1}"
        line = self.text.count("\n", 0, pos) + 1
        column = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return f"line {line}, column {column}"

    def line_of(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + 1


def parse_text(text: str, name: str) -> TensorInput:
    """Parse a tensor written as text (nested lists, torch/numpy printouts, rows of numbers, CSV)."""
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"{name}: expected at most {MAX_TEXT_CHARS:,} characters, got {len(text):,}")
    text = text.translate(_NORMALIZE)
    src = _Source(text, name)
    start = _PREFIX.match(text).end()
    end = len(text.rstrip())
    if start >= end:
        raise InputError(f"{name}: expected numbers such as [0.2, 0.8], got empty text")
    if text.startswith("{", start):
        return _from_json_text(text[start:end], name)
    wrapper = _WRAPPER.match(text, start)
    if wrapper:
        start, end = _unwrap(src, wrapper, end)
    elif _RANDOM_TEXT.match(text, start):
        raise InputError(f"{name}: expected numbers, got the random spec {text[start:end].strip()!r} "
                         "(use random inputs with a seed instead)")
    while start < end and text[start].isspace():
        start += 1
    body = text[start:end]
    if not body.strip():
        raise InputError(f"{name}: expected numbers such as [0.2, 0.8], got empty text")
    if "..." in body or "…" in body:
        raise InputError(f"{name}: expected every value, got a summarized printout with '...' (print it in full "
                         "with torch.set_printoptions(profile='full') or numpy.set_printoptions(threshold=sys.maxsize))")
    if body.startswith("["):
        if ";" in body and body.count("[") == 1 and body.rstrip().endswith("]"):  # MATLAB style [1 2; 3 4]
            inner_end = start + len(body.rstrip()) - 1
            return _parse_rows(src, start + 1, inner_end)
        return _parse_brackets(src, start, end)
    return _parse_rows(src, start, end)


def _from_json_text(text: str, name: str) -> TensorInput:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}: expected valid JSON, got {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    return _from_json_value(data, name)


def _from_json_value(data: Any, name: str) -> TensorInput:
    if isinstance(data, dict):
        arrays = {k: v for k, v in data.items() if isinstance(v, list | int | float) and not isinstance(v, bool)}
        if len(data) != 1 or len(arrays) != 1:
            keys = ", ".join(map(str, data)) or "none"
            raise InputError(f"{name}: expected a JSON list, a number, or an object holding exactly one list, "
                             f"got an object with keys {keys}")
        data = next(iter(arrays.values()))
    if isinstance(data, list | int | float) and not isinstance(data, bool):
        return _from_python(data, name)
    raise InputError(f"{name}: expected a JSON list or number, got {type(data).__name__}")


def _unwrap(src: _Source, wrapper: re.Match[str], end: int) -> tuple[int, int]:
    """tensor(<data>, dtype=..., ...) -> the span of <data>; checks the keyword tail."""
    text, name = src.text, src.name
    fn = wrapper.group("fn")
    start = wrapper.end()
    if text[end - 1] == ")":
        end -= 1  # (a missing final ')' is forgiven: the article prints "tensor([1., 0., 0.]")
    inner = text[start:end]
    if inner.lstrip().startswith("["):
        data_end = start + inner.rfind("]") + 1
    else:
        comma = inner.find(",")
        data_end = start + comma if comma >= 0 else end
    tail = text[data_end:end]
    if not _TAIL.fullmatch(tail):
        shown = tail.strip()
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise InputError(f"{name}: expected only keyword arguments such as dtype=... after the values in "
                         f"{fn}(...), got {shown!r}")
    dtype = re.search(r"dtype\s*=\s*([\w.]+)", tail)
    if dtype and "complex" in dtype.group(1):
        raise InputError(f"{name}: expected real numbers, got a complex tensor ({dtype.group(1).removeprefix('torch.')})")
    return start, data_end


def _bad_token_error(src: _Source, body: str, offset: int, word_pattern: re.Pattern[str]) -> InputError:
    """The first word in `body` (which starts at `offset` in the text) that is not a number, quoted with
    its position."""
    for m in word_pattern.finditer(body):
        word = m.group()
        if _NUM_FULL.fullmatch(word):
            continue
        where = src.where(offset + m.start())
        if _COMPLEX.fullmatch(word):
            return InputError(f"{src.name}: expected real numbers, got the complex value {word!r} at {where}")
        shown = word if len(word) <= 30 else word[:27] + "..."
        return InputError(f"{src.name}: expected a number, got {shown!r} at {where}")
    return InputError(f"{src.name}: expected numbers, got text that does not parse")


_SEP_BRACKETS = str.maketrans("[],", "   ")
_SEP_ROWS = str.maketrans(",;", "  ")
_WORD_BRACKETS = re.compile(r"[^\[\],\s]+")
_WORD_ROWS = re.compile(r"[^,;\s]+")
# every character a number word can hold -> '0' (for the skeleton; words are validated before)
_NUMBER_CHARS = b"0123456789.+-eEaAnNiIfFtTyYrRuUlLsS"
_SKELETON = bytes.maketrans(_NUMBER_CHARS, b"0" * len(_NUMBER_CHARS))
_ZERO, _OPEN, _CLOSE, _COMMA, _SEMI, _NL = (ord(c) for c in "0[],;\n")


def _empty_cell_error(src: _Source, pos: int) -> InputError:
    return InputError(f"{src.name}: expected a number between the separators, got an empty cell at {src.where(pos)}")


def _convert(words: list[str], body: str, fail: Any) -> tuple[torch.Tensor, list[str]]:
    """Number words -> a flat int64 tensor (every word an integer) or float64 tensor. Conversion is the
    validation: a word Python's int()/float() refuses, or one outside the grammar they are wider than
    (non-ASCII digits, underscores), calls `fail()` for the error that names it."""
    if not body.isascii() or "_" in body:
        raise fail()
    boolish = any(c in body for c in "rRlL")  # among number words only True / False have r or l
    if boolish:
        words = ["1" if w.lower() == "true" else "0" if w.lower() == "false" else w for w in words]
        floatish = bool(re.search(r"\.|\d[eE]|(?i:nan|inf)", body))
    else:
        floatish = any(c in body for c in ".eEnN")
    n = len(words)
    try:
        if not floatish:
            try:
                return torch.from_numpy(np.fromiter(map(int, words), dtype=np.int64, count=n)), words
            except OverflowError:
                pass  # integers beyond int64: kept as float64
        return torch.from_numpy(np.fromiter(map(float, words), dtype=np.float64, count=n)), words
    except ValueError:
        raise fail() from None


def _word_starts(body: str) -> np.ndarray:
    """The body as bytes with every number word turned into a run of '0', and a mask of where each run
    starts (one per number)."""
    b = np.frombuffer(body.encode("ascii").translate(_SKELETON), dtype=np.uint8)
    is_num = b == _ZERO
    starts = is_num.copy()
    starts[1:] &= ~is_num[:-1]
    return b, starts


def _parse_brackets(src: _Source, start: int, end: int) -> TensorInput:
    name = src.name
    body = src.text[start:end]
    words = body.translate(_SEP_BRACKETS).split()
    _check_size(len(words), name)
    values, words = _convert(words, body, lambda: _bad_token_error(src, body, start, _WORD_BRACKETS))
    b, starts = _word_starts(body)
    keep = np.flatnonzero(starts | (b == _OPEN) | (b == _CLOSE) | (b == _COMMA))
    f = b[keep]  # '[', ']', ',' and one '0' per number
    comma = f == _COMMA
    previous = np.concatenate([[_OPEN], f[:-1]])
    empty = comma & ((previous == _COMMA) | (previous == _OPEN))  # ",," or "[,"
    if bool(empty.any()):
        raise _empty_cell_error(src, start + int(keep[np.flatnonzero(empty)[0]]))
    shape = _skeleton_shape(src, start, end, f[~comma])  # commas are optional; a trailing one is allowed
    return _tokens_to_input(values, words, shape)


def _skeleton_shape(src: _Source, start: int, end: int, arr: np.ndarray) -> tuple[int, ...]:
    """The shape of a skeleton made of '[', ']' and one '0' per number, or an InputError."""
    name = src.name
    opens = arr == _OPEN
    closes = arr == _CLOSE
    depth = np.cumsum(opens.astype(np.int32) - closes.astype(np.int32))
    if depth.size == 0 or int(depth.min()) < 0 or int(depth[-1]) != 0:
        raise _bracket_error(src, start, end)
    if bool((depth[:-1] == 0).any()):  # several top-level lists, e.g. "[1, 2]\n[3, 4]": one row each
        arr = np.concatenate([[_OPEN], arr, [_CLOSE]]).astype(np.uint8)
        opens = arr == _OPEN
        closes = arr == _CLOSE
        depth = np.cumsum(opens.astype(np.int32) - closes.astype(np.int32))
    leaves = arr == _ZERO
    if not bool(leaves.any()):
        raise InputError(f"{name}: expected at least one number, got an empty list")
    leaf_depth = depth[leaves]
    dims = int(leaf_depth.max())
    if int(leaf_depth.min()) != dims or int(depth.max()) != dims:
        raise InputError(f"{name}: expected a rectangular tensor, got numbers and lists mixed at the same level")
    if dims > MAX_DIMS:
        raise InputError(f"{name}: expected at most {MAX_DIMS} dimensions, got {dims}")
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


def _bracket_error(src: _Source, start: int, end: int) -> InputError:
    stack: list[int] = []
    for m in re.finditer(r"[\[\]]", src.text[start:end]):
        if m.group() == "[":
            stack.append(start + m.start())
        elif stack:
            stack.pop()
        else:
            return InputError(f"{src.name}: expected balanced brackets, got a ']' with no matching '[' at "
                              f"{src.where(start + m.start())}")
    if stack:
        return InputError(f"{src.name}: expected balanced brackets, got {len(stack)} unclosed '[' "
                          f"(the first at {src.where(stack[0])})")
    return InputError(f"{src.name}: expected balanced brackets, got text that does not nest")


def _parse_rows(src: _Source, start: int, end: int) -> TensorInput:
    """Rows of numbers: lines (cells split by commas, semicolons, tabs, spaces), or ';'-separated rows on
    one line. A first line of names (a CSV header) and '#' comment lines are skipped."""
    name, text = src.name, src.text
    multiline = "\n" in text[start:end].strip()
    if multiline:
        start = _skip_header(text, start, end, name)
    body = text[start:end]
    if multiline and "#" in body:
        body = re.sub(r"(?m)^[ \t]*#.*$", lambda m: " " * len(m.group()), body)  # blanked: positions hold
    words = body.translate(_SEP_ROWS).split()
    if not words:
        raise InputError(f"{name}: expected numbers such as [0.2, 0.8], got empty text")
    _check_size(len(words), name)
    values, words = _convert(words, body, lambda: _bad_token_error(src, body, start, _WORD_ROWS))
    b, starts = _word_starts(body)
    row_sep = _NL if multiline else _SEMI
    delimiter = (b == _COMMA) | (b == _SEMI) if multiline else b == _COMMA
    keep = np.flatnonzero(starts | delimiter | (b == row_sep))
    f = b[keep]
    is_delim = delimiter[keep]
    previous = np.concatenate([[row_sep], f[:-1]])
    empty = is_delim & ((previous == row_sep) | np.concatenate([[False], is_delim[:-1]]))
    if bool(empty.any()):
        raise _empty_cell_error(src, start + int(keep[np.flatnonzero(empty)[0]]))
    row_of = np.cumsum(f == row_sep)[f == _ZERO]
    lengths = np.bincount(row_of)
    row_numbers = np.flatnonzero(lengths)  # blank lines are skipped
    lengths = lengths[row_numbers]
    if bool((lengths != lengths[0]).any()):
        first = int(np.flatnonzero(lengths != lengths[0])[0])
        if multiline:
            base = src.line_of(start)
            raise InputError(f"{name}: expected {int(lengths[0])} values on every line (like line "
                             f"{base + int(row_numbers[0])}), got {int(lengths[first])} on line "
                             f"{base + int(row_numbers[first])}")
        raise InputError(f"{name}: expected {int(lengths[0])} values in every row (like row {int(row_numbers[0]) + 1}), "
                         f"got {int(lengths[first])} in row {int(row_numbers[first]) + 1}")
    rows, cols = int(lengths.size), int(lengths[0])
    if rows == 1:
        shape: tuple[int, ...] = () if cols == 1 else (cols,)
    else:
        shape = (rows,) if cols == 1 else (rows, cols)
    return _tokens_to_input(values, words, shape)


def _skip_header(text: str, start: int, end: int, name: str) -> int:
    """Where the data starts: after leading '#' comments and blank lines, and after a first line of names
    (a CSV header: no cell is a number) when more lines follow."""
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        line_end = end if nl < 0 else nl
        line = text[pos:line_end].strip()
        if line and not line.startswith("#"):
            break
        pos = line_end + 1
    else:
        raise InputError(f"{name}: expected numbers such as [0.2, 0.8], got empty text")
    nl = text.find("\n", pos, end)
    if nl < 0 or not text[nl + 1:end].strip():
        return pos
    first_line = text[pos:nl].strip()
    cells = re.split(r"[,;\t]" if re.search(r"[,;\t]", first_line) else r"\s+", first_line)
    names = [c.strip().strip("\"'") for c in cells]
    if not any(_NUMERAL_FULL.fullmatch(c) for c in names if c):
        return nl + 1
    return pos


def _tokens_to_input(values: torch.Tensor, words: list[str], shape: Sequence[int]) -> TensorInput:
    """Flat converted values and their words (row-major) -> TensorInput of the given shape."""
    decimals = None
    if len(words) <= DECIMALS_MAX_ELEMENTS:
        decimals = np.fromiter(map(number_decimals, words), dtype=np.int64, count=len(words)).reshape(tuple(shape))
    return TensorInput(values.reshape(tuple(shape)), decimals)


# -- files -------------------------------------------------------------------------------------------

FILE_TYPES = (".csv", ".tsv", ".txt", ".json", ".npy", ".npz", ".pt", ".pth")


def _bytes_text(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" or n == int(n) else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def load_file(path: str | os.PathLike[str] | Any, name: str, max_bytes: int = MAX_FILE_BYTES) -> TensorInput:
    """Read a tensor from a .csv/.tsv/.txt/.json (text formats of `parse_text`), .npy / .npz (numpy,
    allow_pickle=False; the first array of an .npz) or .pt / .pth file (torch.load with weights_only=True on
    the CPU: a tensor, or a dict / list holding exactly one tensor). The size limit is checked before reading."""
    if path is None:
        raise InputError(f"{name}: expected a file, got nothing")
    if not isinstance(path, str | os.PathLike) and hasattr(path, "name"):
        path = path.name  # file objects and upload wrappers
    path = Path(path)
    filename = path.name
    try:
        size = path.stat().st_size
    except OSError:
        raise InputError(f"{name}: expected an existing file, got {filename!r}") from None
    if not path.is_file():
        raise InputError(f"{name}: expected an existing file, got {filename!r}")
    ext = path.suffix.lower()
    if ext not in FILE_TYPES:
        raise InputError(f"{name}: expected a {', '.join(FILE_TYPES[:-1])} or {FILE_TYPES[-1]} file, got {filename!r}")
    if size > max_bytes:
        raise InputError(f"{name}: expected a file of at most {_bytes_text(max_bytes)}, got {_bytes_text(size)}")
    try:
        if ext in (".csv", ".tsv", ".txt", ".json"):
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise InputError(f"{name}: expected UTF-8 text in {filename!r}, got undecodable bytes at byte "
                                 f"{exc.start}") from None
            if ext == ".json":
                try:
                    data = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{name}: expected valid JSON in {filename!r}, got {exc.msg} at line "
                                     f"{exc.lineno}, column {exc.colno}") from None
                if isinstance(data, dict):
                    return _from_json_value(data, name)
            return parse_text(text, name)
        if ext == ".npy":
            return _load_npy(path, name, filename)
        if ext == ".npz":
            return _load_npz(path, name, filename, max_bytes)
        return _load_torch(path, name, filename)
    except InputError:
        raise
    except MemoryError:
        raise InputError(f"{name}: expected a file that fits in memory, got {filename!r}") from None
    except Exception as exc:
        detail = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise InputError(f"{name}: expected a valid {ext} file, got one that cannot be read ({detail})") from None


def _load_npy(path: Path, name: str, filename: str) -> TensorInput:
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise InputError(f"{name}: expected a numeric array in {filename!r}, got a pickled object array "
                             "(not loaded, for safety)") from None
        raise
    if not isinstance(array, np.ndarray):
        raise InputError(f"{name}: expected a .npy array in {filename!r}, got an .npz archive")
    return _from_python(array, name)


def _load_npz(path: Path, name: str, filename: str, max_bytes: int) -> TensorInput:
    with zipfile.ZipFile(path) as archive:
        members = [i for i in archive.infolist() if i.filename.endswith(".npy")]
        if not members:
            raise InputError(f"{name}: expected at least one array in {filename!r}, got none")
        if members[0].file_size > max_bytes:
            raise InputError(f"{name}: expected arrays of at most {_bytes_text(max_bytes)} uncompressed, got "
                             f"{_bytes_text(members[0].file_size)} in {filename!r}")
    with np.load(path, allow_pickle=False) as archive:
        key = archive.files[0]
        try:
            array = archive[key]
        except ValueError as exc:
            if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
                raise InputError(f"{name}: expected a numeric array in {filename!r}, got a pickled object array "
                                 "(not loaded, for safety)") from None
            raise
    return _from_python(array, name)


def _load_torch(path: Path, name: str, filename: str) -> TensorInput:
    import pickle

    try:
        data = torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as exc:
        # torch's text suggests weights_only=False; name only what it refused
        found = re.search(r"WeightsUnpickler error:\s*(.+?)(?:\.\s|\n|$)", str(exc), re.S)
        detail = found.group(1).strip()[:200] if found else "not a file of tensors"
        raise InputError(f"{name}: expected tensors saved with torch.save in {filename!r}, got a file that "
                         f"torch.load(weights_only=True) refuses ({detail})") from None
    if isinstance(data, torch.Tensor):
        return _from_torch(data, name)
    if isinstance(data, dict | list | tuple):
        items = list(data.items()) if isinstance(data, dict) else list(enumerate(data))
        tensors = [(k, v) for k, v in items if isinstance(v, torch.Tensor)]
        if len(tensors) == 1:
            return _from_torch(tensors[0][1], name)
        kind = type(data).__name__
        keys = ", ".join(str(k) for k, _ in tensors[:5]) + (", ..." if len(tensors) > 5 else "")
        desc = f"a {kind} with {len(tensors)} tensors" + (f" ({keys})" if tensors else "")
    else:
        desc = f"an object of type {type(data).__name__}"
    raise InputError(f"{name}: expected a tensor, or a dict or list holding exactly one tensor, in {filename!r}, "
                     f"got {desc}")


# -- random inputs -----------------------------------------------------------------------------------

RANDOM_KINDS = ("randn", "rand", "softmax", "randint", "mask")
_RANDOM_DTYPES = {"float16": torch.float16, "half": torch.float16, "bfloat16": torch.bfloat16,
                  "float32": torch.float32, "float": torch.float32, "float64": torch.float64,
                  "double": torch.float64, "int64": torch.int64, "long": torch.int64, "int32": torch.int32,
                  "int": torch.int32, "int16": torch.int16, "int8": torch.int8, "uint8": torch.uint8}


def _check_shape(shape: Any, what: str) -> tuple[int, ...]:
    if isinstance(shape, int | np.integer) and not isinstance(shape, bool):
        shape = (int(shape),)
    if isinstance(shape, torch.Size):
        shape = tuple(shape)
    if (not isinstance(shape, list | tuple) or len(shape) > MAX_DIMS
            or not all(isinstance(s, int | np.integer) and not isinstance(s, bool) and s >= 1 for s in shape)):
        raise InputError(f"{what}: expected a shape of positive integers such as (2, 3), got {shape!r}")
    shape = tuple(int(s) for s in shape)
    if math.prod(shape) > MAX_ELEMENTS:
        raise InputError(f"{what}: expected at most {MAX_ELEMENTS:,} elements, got {math.prod(shape):,}")
    return shape


def _generate(kind: str, shape: tuple[int, ...], generator: torch.Generator, low: int = 0, high: int | None = None,
              dtype: torch.dtype | None = None, what: str = "random") -> torch.Tensor:
    if kind in ("randn", "rand", "softmax"):
        if dtype is not None and not dtype.is_floating_point:
            raise InputError(f"{what}: expected dtype float16, bfloat16, float32 or float64, got "
                             f"{str(dtype).removeprefix('torch.')}")
        if kind == "softmax" and not shape:
            raise InputError(f"{what}: expected a shape with at least 1 dimension for softmax, got ()")
        fn = torch.rand if kind == "rand" else torch.randn
        t = fn(shape, generator=generator, dtype=dtype)
        if kind == "softmax":
            t = torch.softmax(t, dim=1 if t.dim() > 1 else 0)
        return t
    if kind == "mask":
        low, high = 0, 2
    if high is None or high <= low:
        raise InputError(f"{what}: expected num_classes (the number of classes) of at least 1, got {high!r}")
    return torch.randint(low, high, shape, generator=generator, dtype=dtype or torch.int64)


def random_tensor(kind: str, shape: Any, seed: int = 0, num_classes: int | None = None,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """A random tensor of `shape` from a private generator seeded with `seed` (or from `generator`).

    randn:   values / logits, exactly `torch.manual_seed(seed); torch.randn(*shape)`
    rand:    probabilities in [0, 1) (torch.rand)
    softmax: rows of probabilities: softmax of randn along dim 1 (dim 0 for a vector)
    randint: class indices in [0, num_classes)
    mask:    0/1 labels (torch.randint(0, 2))
    The global RNG is left untouched.
    """
    kind_text = str(kind).strip().lower()
    if kind_text not in RANDOM_KINDS:
        raise InputError(f"expected a random kind such as {', '.join(RANDOM_KINDS)}, got {kind!r}")
    shape = _check_shape(shape, f"random {kind_text}")
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer)):
        raise InputError(f"random {kind_text}: expected num_classes (the number of classes) of at least 1, "
                         f"got {num_classes!r}")
    if generator is None:
        generator = torch.Generator().manual_seed(_check_seed(seed))
    return _generate(kind_text, shape, generator, high=None if num_classes is None else int(num_classes),
                     what=f"random {kind_text}")


def _check_seed(seed: Any) -> int:
    if isinstance(seed, str) and re.fullmatch(r"\s*[-+]?\d+\s*", seed):
        seed = int(seed)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise InputError(f"seed: expected an integer, got {seed!r}")
    seed = int(seed)
    if not -(2**63) <= seed < 2**64:
        raise InputError(f"seed: expected an integer in [-2^63, 2^64), got {seed}")
    return seed


_SPEC = re.compile(r"\s*(?:[A-Za-z_]\w*\s*=\s*)?(?:torch\.)?(?P<fn>randn|rand|randint|softmax|mask)\s*"
                   r"\((?P<args>[^()]*(?:\([^()]*\)[^()]*)*)\)\s*;?\s*", re.ASCII)
_SPEC_HELP = "randn(2, 3), rand(4), randint(0, 3, (2,)), softmax(2, 3) or mask(4)"


def _split_args(args: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in args:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def _int_or_shape(arg: str, spec: str) -> int | tuple[int, ...]:
    arg = arg.strip()
    if re.fullmatch(r"[-+]?\d+", arg):
        return int(arg)
    m = re.fullmatch(r"[(\[]\s*((?:[-+]?\d+\s*,\s*)*(?:[-+]?\d+)?)\s*,?\s*[)\]]", arg)
    if m:
        return tuple(int(x) for x in re.findall(r"[-+]?\d+", m.group(1)))
    raise InputError(f"random spec {spec!r}: expected sizes such as 2, 3 or (2, 3), got {arg!r}")


def _parse_spec(spec: str) -> tuple[str, tuple[int, ...], int, int | None, torch.dtype | None]:
    if not isinstance(spec, str):
        raise InputError(f"expected a random spec such as {_SPEC_HELP}, got {spec!r}")
    m = _SPEC.fullmatch(spec)
    if not m:
        raise InputError(f"expected a random spec such as {_SPEC_HELP}, got {spec!r}")
    fn = m.group("fn")
    positional: list[int | tuple[int, ...]] = []
    keywords: dict[str, str] = {}
    for arg in _split_args(m.group("args")):
        if not arg:
            raise InputError(f"random spec {spec!r}: expected sizes such as 2, 3 or (2, 3), got an empty argument")
        kw = re.fullmatch(r"([A-Za-z_]\w*)\s*=\s*(.+)", arg, re.S)
        if kw:
            keywords[kw.group(1)] = kw.group(2).strip()
        elif keywords:
            raise InputError(f"random spec {spec!r}: expected keyword arguments last, got {arg!r}")
        else:
            positional.append(_int_or_shape(arg, spec))
    dtype = None
    if "dtype" in keywords:
        key = keywords.pop("dtype").removeprefix("torch.")
        if key not in _RANDOM_DTYPES:
            raise InputError(f"random spec {spec!r}: expected dtype float16, bfloat16, float32 or float64, got {key!r}")
        dtype = _RANDOM_DTYPES[key]
    for ignored in ("requires_grad", "device"):
        keywords.pop(ignored, None)
    low, high = 0, None
    if fn == "randint":
        ints = [p for p in positional if isinstance(p, int)]
        shapes = [p for p in positional if isinstance(p, tuple)]
        if shapes and positional[-1] is not shapes[-1]:
            raise InputError(f"random spec {spec!r}: expected randint(high, size) or randint(low, high, size) "
                             "with one size tuple such as (2,)")
        low_kw = _int_or_shape(keywords.pop("low"), spec) if "low" in keywords else None
        high_kw = _int_or_shape(keywords.pop("high"), spec) if "high" in keywords else None
        if "size" in keywords:
            size = _int_or_shape(keywords.pop("size"), spec)
            shapes.append(size if isinstance(size, tuple) else (size,))
        if len(ints) == 2 and low_kw is None and high_kw is None:
            low, high = ints
        elif len(ints) == 1 and high_kw is None:
            low, high = (low_kw if low_kw is not None else 0), ints[0]
        elif len(ints) == 1 and low_kw is None:
            low, high = ints[0], high_kw
        elif not ints and high_kw is not None:
            low, high = (low_kw if low_kw is not None else 0), high_kw
        else:
            low = high = None
        if (len(shapes) != 1 or not isinstance(low, int) or not isinstance(high, int)):
            raise InputError(f"random spec {spec!r}: expected randint(high, size) or randint(low, high, size) "
                             "with one size tuple such as (2,)")
        if high <= low:
            raise InputError(f"random spec {spec!r}: expected high > low, got low {low} and high {high}")
        shape: Any = shapes[0]
    else:
        if "size" in keywords:
            positional.append(_int_or_shape(keywords.pop("size"), spec))
        if len(positional) == 1 and isinstance(positional[0], tuple):
            shape = positional[0]
        elif positional and all(isinstance(p, int) for p in positional):
            shape = tuple(positional)
        else:
            raise InputError(f"random spec {spec!r}: expected sizes such as 2, 3 or (2, 3), got none")
    if keywords:
        raise InputError(f"random spec {spec!r}: expected arguments size, dtype, low, high or requires_grad, "
                         f"got {next(iter(keywords))!r}")
    return fn, _check_shape(shape, f"random spec {spec!r}"), low, high, dtype


def random_inputs(seed: int, specs: Sequence[str]) -> list[torch.Tensor]:
    """Tensors from spec strings such as "randn(2, 3)", "torch.rand(4)", "randint(0, 3, (2,))",
    generated in order from one generator seeded once with `seed` -- the same numbers as
    `torch.manual_seed(seed)` followed by those calls, without touching the global RNG. Parsed with a
    regex, never evaluated. `random_inputs(0, ["randn(2,3)", "randn(2,3)"])` is article 000's
    predict/target after `torch.manual_seed(0)`."""
    if isinstance(specs, str):
        specs = [s for s in re.split(r";\s*(?=\S)|\n", specs) if s.strip()]
    parsed = [_parse_spec(s) for s in specs]
    generator = torch.Generator().manual_seed(_check_seed(seed))
    return [_generate(fn, shape, generator, low, high, dtype, what=f"random spec {fn}")
            for fn, shape, low, high, dtype in parsed]


# -- checks a loss's prepare() calls -----------------------------------------------------------------

def shape_text(shape: tuple[int, ...] | torch.Size) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


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


def _first_bad(t: torch.Tensor, bad: torch.Tensor) -> str:
    """'2 at index 1': the first offending value and where it is (no index for a 0-d tensor)."""
    i = _first_index(bad)
    return f"{t.reshape(-1)[i].item():g}{_at_index(i, tuple(t.shape))}"


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
                             f"({float(t):g})")
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
    With num_classes None (C not known yet) only integrality is checked."""
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
    indices = target.to(torch.int64)
    if num_classes is None:
        return indices
    ok = (indices >= 0) & (indices < num_classes)
    if ignore_index is not None:
        ok = ok | (indices == int(ignore_index))
    if not bool(ok.all()):
        also = f" or ignore_index {int(ignore_index)}" if ignore_index is not None else ""
        raise InputError(f"{name}: expected class indices in [0, {num_classes}){also} for C = {num_classes} classes, "
                         f"got {_first_bad(indices, ~ok)}{_hint(hint)}")
    return indices


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


def read_params(text: Any, name: str = "params") -> dict[str, Any]:
    """Loss parameters written as a JSON object ('{"beta": 0.5, "weight": [1, 2]}'), parsed, never evaluated;
    empty text or None is no parameters, a dict is taken as it is."""
    if text is None:
        return {}
    if isinstance(text, dict):
        return dict(text)
    body = str(text).strip()
    if not body:
        return {}
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}: expected a JSON object such as {{\"beta\": 0.5}}, got text that does not parse "
                         f"({exc.msg} at character {exc.pos})") from None
    if not isinstance(data, dict):
        raise InputError(f"{name}: expected a JSON object such as {{\"beta\": 0.5}}, got {type(data).__name__}")
    return data


def require_target(target: torch.Tensor | None, loss: str) -> torch.Tensor:
    if target is None:
        raise InputError(f"{loss}: expected a target tensor, got none")
    return target


# -- 中文 --------------------------------------------------------------------------------------------
# Messages start with the input's name ("pred: ...", "parameter weight: ..."); each pattern below is
# registered twice, once for "parameter NAME: " (参数 NAME：) and once for any other name.

def _named(rest: str, zh: str) -> list[tuple[str, str]]:
    """Patterns for '<name>: <rest>' -> '<name>：<zh>', with 'parameter X' rendered as '参数 X'."""
    return [(rf"parameter (?P<pname>[^\s:]+): {rest}", rf"参数 \g<pname>：{zh}"),
            (rf"(?P<name>[^:\n]+?): {rest}", rf"\g<name>：{zh}")]


def _positioned(rest: str, zh_line: str, zh_char: str) -> list[tuple[str, str]]:
    """Messages ending in a position: 'line L, column C' or 'character N'."""
    return (_named(rf"{rest} at line (?P<line>\d+), column (?P<col>\d+)", zh_line)
            + _named(rf"{rest} at character (?P<char>\d+)", zh_char))


_INDEX = r"(?P<index>\d+|\(\d+(?:, \d+)+\))"  # as _index_text writes it: 3 or (0, 1)
_SHAPE = r"\((?:\d+,|\d+(?:, \d+)+)?\)"  # as shape_text writes it: (), (3,) or (2, 3)


def _indexed(rest: str, zh: str, after: str = "", zh_after: str = "") -> list[tuple[str, str]]:
    """Messages with an optional ' at index I' after `rest` (absent for 0-d tensors)."""
    return (_named(rf"{rest} at index {_INDEX}{after}", rf"{zh}（位置 \g<index>）{zh_after}")
            + _named(rf"{rest}{after}", rf"{zh}{zh_after}"))


def _first_at_zh(rest: str, zh: str) -> list[tuple[str, str]]:
    return (_named(rf"{rest} \(first at index (?P<first>.+?)\)", rf"{zh}（第一处在索引 \g<first>）")
            + _named(rest, zh))



add_zh({
    "expected a loss name such as bce or cross_entropy, got nothing": "期望一个损失函数名（如 bce 或 cross_entropy），但没有给出",
})

add_zh_patterns([
    # -- inputs.py: reading ---------------------------------------------------------------------------
    *_named(r"expected a tensor, got nothing", r"期望一个张量，但没有给出"),
    *_named(r"expected UTF-8 text, got undecodable bytes at byte (?P<b>\d+)", r"期望 UTF-8 文本，但第 \g<b> 个字节无法解码"),
    *_named(r"expected text, a list, a numpy array or a torch tensor, got (?P<t>.+)",
            r"期望文本、列表、numpy 数组或 torch 张量，实际为 \g<t>"),
    *_named(r"expected at most (?P<n>[\d,]+) elements, got (?P<m>[\d,]+)", r"最多允许 \g<n> 个元素，实际为 \g<m> 个"),
    *_named(r"expected at most (?P<n>[\d,]+) characters, got (?P<m>[\d,]+)", r"最多允许 \g<n> 个字符，实际为 \g<m> 个"),
    *_named(r"expected at most (?P<n>\d+) dimensions, got more", r"最多允许 \g<n> 维，实际更多"),
    *_named(r"expected at most (?P<n>\d+) dimensions, got (?P<m>\d+)", r"最多允许 \g<n> 维，实际为 \g<m> 维"),
    *_named(r"expected a tensor with data, got a tensor on the meta device", r"期望一个有数据的张量，实际是 meta 设备上的张量"),
    *_named(r"expected real numbers, got a complex tensor \((?P<t>.+)\)", r"期望实数，实际是复数张量（\g<t>）"),
    *_named(r"expected a numeric tensor, got a bool tensor \(convert it with \.float\(\) or \.long\(\)\)",
            r"期望数值张量，实际是 bool 张量（请用 .float() 或 .long() 转换）"),
    *_named(r"expected at least one number, got an empty tensor of shape (?P<s>.+)",
            r"期望至少一个数，实际是形状为 \g<s> 的空张量"),
    *_named(r"expected at least one number, got an empty list", r"期望至少一个数，实际是空列表"),
    *_named(r"expected integers that fit in int64, got (?P<v>.+)", r"期望能放进 int64 的整数，实际为 \g<v>"),
    *_named(r"expected a rectangular array of numbers, got (?P<e>.+)", r"期望由数构成的规则（矩形）数组，实际为：\g<e>"),
    *_named(r"expected numbers, got values of type (?P<t>.+)", r"期望数值，实际为 \g<t> 类型的值"),
    *_named(r"expected numbers, got text that does not parse", r"期望数值，但文本无法解析"),
    *_named(r"expected numbers, got the random spec (?P<s>.+) \(use random inputs with a seed instead\)",
            r"期望数值，实际是随机生成写法 \g<s>（请改用带种子的随机输入）"),
    *_indexed(r"expected numbers, got (?P<t>\S+)", r"期望数值，实际为 \g<t>"),
    *_named(r"expected a rectangular tensor, got numbers and lists mixed at the same level \(index (?P<i>.+) is a number\)",
            r"期望规则（矩形）张量，但同一层级混有数和列表（索引 \g<i> 处是数）"),
    *_named(r"expected a rectangular tensor, got numbers and lists mixed at the same level",
            r"期望规则（矩形）张量，但同一层级混有数和列表"),
    *_named(r"expected rows of equal length, got (?P<n>\d+) (?:entry|entries) at index (?P<r>.+) but (?P<m>\d+) at index (?P<r0>.+)",
            r"期望各行长度相同，但索引 \g<r> 处有 \g<n> 个元素，而索引 \g<r0> 处有 \g<m> 个"),
    *_named(r"expected (?P<m>\d+) values on every line \(like line (?P<l0>\d+)\), got (?P<n>\d+) on line (?P<l>\d+)",
            r"期望每一行都有 \g<m> 个值（与第 \g<l0> 行相同），但第 \g<l> 行有 \g<n> 个"),
    *_named(r"expected (?P<m>\d+) values in every row \(like row (?P<r0>\d+)\), got (?P<n>\d+) in row (?P<r>\d+)",
            r"期望每一行都有 \g<m> 个值（与第 \g<r0> 行相同），但第 \g<r> 行有 \g<n> 个"),
    *_positioned(r"expected a number, got (?P<t>.+)", r"期望一个数，但第 \g<line> 行第 \g<col> 列是 \g<t>",
                 r"期望一个数，但第 \g<char> 个字符处是 \g<t>"),
    *_named(r"expected a number, got (?P<t>.+?) at index (?P<index>.+)", r"期望一个数，实际为 \g<t>（位置 \g<index>）"),
    *_positioned(r"expected real numbers, got the complex value (?P<t>.+)",
                 r"期望实数，但第 \g<line> 行第 \g<col> 列是复数 \g<t>", r"期望实数，但第 \g<char> 个字符处是复数 \g<t>"),
    *_positioned(r"expected a number between the separators, got an empty cell",
                 r"分隔符之间应有一个数，但第 \g<line> 行第 \g<col> 列是空单元格",
                 r"分隔符之间应有一个数，但第 \g<char> 个字符处是空单元格"),
    *_positioned(r"expected balanced brackets, got a '\]' with no matching '\['",
                 r"括号应成对出现，但第 \g<line> 行第 \g<col> 列的 ']' 没有对应的 '['",
                 r"括号应成对出现，但第 \g<char> 个字符处的 ']' 没有对应的 '['"),
    *_named(r"expected balanced brackets, got (?P<n>\d+) unclosed '\[' \(the first at line (?P<line>\d+), column (?P<col>\d+)\)",
            r"括号应成对出现，但有 \g<n> 个 '[' 没有闭合（第一个在第 \g<line> 行第 \g<col> 列）"),
    *_named(r"expected balanced brackets, got (?P<n>\d+) unclosed '\[' \(the first at character (?P<char>\d+)\)",
            r"括号应成对出现，但有 \g<n> 个 '[' 没有闭合（第一个在第 \g<char> 个字符处）"),
    *_named(r"expected balanced brackets, got text that does not nest", r"括号应成对出现，但文本的嵌套不正确"),
    *_named(r"expected numbers such as \[0\.2, 0\.8\], got empty text", r"期望数值（如 [0.2, 0.8]），实际是空文本"),
    *_named(r"expected every value, got a summarized printout with '\.\.\.' \(print it in full with "
            r"torch\.set_printoptions\(profile='full'\) or numpy\.set_printoptions\(threshold=sys\.maxsize\)\)",
            r"期望全部数值，实际是带 '...' 的省略打印（请用 torch.set_printoptions(profile='full') 或 "
            r"numpy.set_printoptions(threshold=sys.maxsize) 完整打印）"),
    *_named(r"expected only keyword arguments such as dtype=\.\.\. after the values in (?P<f>\w+)\(\.\.\.\), got (?P<t>.+)",
            r"\g<f>(...) 中数值之后只能有 dtype=... 这样的关键字参数，实际为 \g<t>"),
    *_named(r"expected valid JSON, got (?P<m>.+) at line (?P<line>\d+), column (?P<col>\d+)",
            r"期望合法的 JSON，但第 \g<line> 行第 \g<col> 列出错：\g<m>"),
    *_named(r"expected a JSON list, a number, or an object holding exactly one list, got an object with keys (?P<k>.+)",
            r"期望 JSON 列表、数，或只含一个列表的对象，实际是键为 \g<k> 的对象"),
    *_named(r"expected a JSON list or number, got (?P<t>.+)", r"期望 JSON 列表或数，实际为 \g<t>"),
    *_named(r"expected (?P<n>[\d,]+) numbers for shape (?P<s>.+), got (?P<m>[\d,]+)",
            r"形状 \g<s> 需要 \g<n> 个数，实际为 \g<m> 个"),
    # -- inputs.py: files -----------------------------------------------------------------------------
    *_named(r"expected a file, got nothing", r"期望一个文件，但没有给出"),
    *_named(r"expected an existing file, got (?P<f>.+)", r"期望一个存在的文件，实际为 \g<f>"),
    *_named(r"expected a (?P<l>[.\w, ]+) or (?P<x>\.\w+) file, got (?P<f>.+)", r"期望 \g<l> 或 \g<x> 文件，实际为 \g<f>"),
    *_named(r"expected a file of at most (?P<n>.+), got (?P<m>.+)", r"文件最大为 \g<n>，实际为 \g<m>"),
    *_named(r"expected UTF-8 text in (?P<f>.+), got undecodable bytes at byte (?P<b>\d+)",
            r"期望 \g<f> 是 UTF-8 文本，但第 \g<b> 个字节无法解码"),
    *_named(r"expected valid JSON in (?P<f>.+), got (?P<m>.+) at line (?P<line>\d+), column (?P<col>\d+)",
            r"期望 \g<f> 是合法的 JSON，但第 \g<line> 行第 \g<col> 列出错：\g<m>"),
    *_named(r"expected a numeric array in (?P<f>.+), got a pickled object array \(not loaded, for safety\)",
            r"期望 \g<f> 中是数值数组，实际是 pickle 序列化的对象数组（出于安全考虑不加载）"),
    *_named(r"expected a \.npy array in (?P<f>.+), got an \.npz archive", r"期望 \g<f> 是 .npy 数组，实际是 .npz 压缩包"),
    *_named(r"expected at least one array in (?P<f>.+), got none", r"期望 \g<f> 中至少有一个数组，实际一个也没有"),
    *_named(r"expected arrays of at most (?P<n>.+) uncompressed, got (?P<m>.+) in (?P<f>.+)",
            r"解压后的数组最大为 \g<n>，但 \g<f> 中的数组有 \g<m>"),
    *_named(r"expected tensors saved with torch\.save in (?P<f>.+), got a file that torch\.load\(weights_only=True\) "
            r"refuses \((?P<d>.+)\)",
            r"期望 \g<f> 是用 torch.save 保存的张量，但 torch.load(weights_only=True) 拒绝加载该文件（\g<d>）"),
    *_named(r"expected a tensor, or a dict or list holding exactly one tensor, in (?P<f>.+), got (?P<d>.+)",
            r"期望 \g<f> 中是一个张量，或只含一个张量的 dict / list，实际为 \g<d>"),
    *_named(r"expected a file that fits in memory, got (?P<f>.+)", r"期望能装入内存的文件，实际为 \g<f>"),
    *_named(r"expected a valid (?P<x>\.\w+) file, got one that cannot be read \((?P<d>.+)\)",
            r"期望合法的 \g<x> 文件，但该文件无法读取（\g<d>）"),
    # -- inputs.py: random inputs ---------------------------------------------------------------------
    (r"expected a random kind such as (?P<k>.+), got (?P<g>.+)", r"期望随机类型之一：\g<k>，实际为 \g<g>"),
    (r"expected a random spec such as (?P<h>.+), got (?P<s>.+)", r"期望随机生成写法，如 \g<h>，实际为 \g<s>"),
    *_named(r"expected a shape of positive integers such as \(2, 3\), got (?P<s>.+)",
            r"期望由正整数构成的形状（如 (2, 3)），实际为 \g<s>"),
    *_named(r"expected a shape with at least 1 dimension for softmax, got \(\)", r"softmax 需要至少 1 维的形状，实际为 ()"),
    *_named(r"expected num_classes \(the number of classes\) of at least 1, got (?P<n>.+)",
            r"期望类别数 num_classes 至少为 1，实际为 \g<n>"),
    *_named(r"expected dtype float16, bfloat16, float32 or float64, got (?P<t>.+)",
            r"期望 dtype 为 float16、bfloat16、float32 或 float64，实际为 \g<t>"),
    *_named(r"expected an integer in \[-2\^63, 2\^64\), got (?P<v>.+)", r"期望 [-2^63, 2^64) 内的整数，实际为 \g<v>"),
    *_named(r"expected sizes such as 2, 3 or \(2, 3\), got an empty argument", r"期望尺寸（如 2, 3 或 (2, 3)），但有一个空参数"),
    *_named(r"expected sizes such as 2, 3 or \(2, 3\), got none", r"期望尺寸（如 2, 3 或 (2, 3)），但没有给出"),
    *_named(r"expected sizes such as 2, 3 or \(2, 3\), got (?P<a>.+)", r"期望尺寸（如 2, 3 或 (2, 3)），实际为 \g<a>"),
    *_named(r"expected keyword arguments last, got (?P<a>.+)", r"关键字参数应放在最后，实际为 \g<a>"),
    *_named(r"expected randint\(high, size\) or randint\(low, high, size\) with one size tuple such as \(2,\)",
            r"期望 randint(high, size) 或 randint(low, high, size)，并有一个 size 元组（如 (2,)）"),
    *_named(r"expected high > low, got low (?P<l>.+) and high (?P<h>.+)", r"期望 high > low，实际 low 为 \g<l>、high 为 \g<h>"),
    *_named(r"expected arguments size, dtype, low, high or requires_grad, got (?P<a>.+)",
            r"期望参数 size、dtype、low、high 或 requires_grad，实际为 \g<a>"),
    # -- inputs.py: checks ----------------------------------------------------------------------------
    *_first_at_zh(r"expected finite numbers, got NaN at (?P<n>\d+) place\(s\)", r"期望有限的数，但有 \g<n> 处为 NaN"),
    *_first_at_zh(r"expected finite numbers, got ±inf at (?P<n>\d+) place\(s\)", r"期望有限的数，但有 \g<n> 处为 ±inf"),
    (r"(?P<name>.+) contains ±inf; the result follows the limits of the formula", r"\g<name> 含有 ±inf；结果按公式的极限计算"),
    (r"expected a (?P<t>\S+) tensor, got none", r"期望一个 \g<t> 张量，但没有给出"),
    *_named(r"expected a tensor with at least (?P<n>\d+) dimension\(s\), got a 0-d scalar \((?P<v>.+)\)",
            r"期望至少 \g<n> 维的张量，实际是 0 维标量（\g<v>）"),
    *_named(r"expected a tensor with at least (?P<n>\d+) dimension\(s\), got shape (?P<s>.+)",
            r"期望至少 \g<n> 维的张量，实际形状为 \g<s>"),
    *_named(r"expected a tensor with at most (?P<n>\d+) dimension\(s\), got shape (?P<s>.+)",
            r"期望至多 \g<n> 维的张量，实际形状为 \g<s>"),
    *_named(r"expected at least 1 class, got C = (?P<c>.+)", r"期望至少 1 个类别，实际 C = \g<c>"),
    *_named(r"expected integer class indices, got a (?P<t>\w+) tensor", r"期望整数类别索引，实际是 \g<t> 张量"),
    *_named(r"expected a target tensor, got none", r"期望一个目标（target）张量，但没有给出"),

    # -- registry.py ----------------------------------------------------------------------------------
    *_named(r"expected a value, got nothing", r"期望一个值，但没有给出"),
    *_named(r"expected one of (?P<c>.+), got (?P<v>.+)", r"期望以下之一：\g<c>，实际为 \g<v>"),
    *_named(r"expected a value in \[(?P<lo>.+), (?P<hi>.+)\], got (?P<v>.+)", r"期望 [\g<lo>, \g<hi>] 内的值，实际为 \g<v>"),
    *_named(r"expected a number, got (?P<v>.+)", r"期望一个数，实际为 \g<v>"),
    *_named(r"expected a finite number, got (?P<v>.+)", r"期望一个有限的数，实际为 \g<v>"),
    *_named(r"expected an integer, got (?P<v>.+)", r"期望一个整数，实际为 \g<v>"),
    *_named(r"expected true or false, got (?P<v>.+)", r"期望 true 或 false，实际为 \g<v>"),
    (r"(?P<loss>\S+): unknown parameter (?P<p>.+); expected one of: (?P<names>.+)",
     r"\g<loss>：未知参数 \g<p>；可用参数：\g<names>"),
    (r"unknown loss (?P<n>.+?); did you mean (?P<c>.+)\? \(python -m lossapp list shows them all\)",
     r"未知的损失函数 \g<n>；你是不是指 \g<c>？（python -m lossapp list 可列出全部）"),
    (r"unknown loss (?P<n>.+) \(python -m lossapp list shows them all\)",
     r"未知的损失函数 \g<n>（python -m lossapp list 可列出全部）"),

    # -- engine.py ------------------------------------------------------------------------------------
    (r"(?P<loss>\S+): expected no target \(it is a penalty on pred alone\), got one",
     r"\g<loss>：不需要目标（target）（它只是对 pred 的惩罚项），但给出了目标"),
    (r"(?P<loss>\S+): expected a target tensor \((?P<k>.+)\), got none", r"\g<loss>：需要目标（target）张量（\g<k>），但没有给出"),
    (r"(?P<loss>\S+): expected reduction (?P<r>[\w, ]+), got (?P<g>.+)", r"\g<loss>：归约方式应为 \g<r> 之一，实际为 \g<g>"),
    (r"rounding the inputs to (?P<t>\w+) changes the exact value by (?P<d>\S+); the built-in is compared with the "
     r"exact value of the rounded inputs",
     r"把输入舍入到 \g<t> 会使精确值改变 \g<d>；内置函数将与舍入后输入的精确值比较"),
    (r"the trace and (?P<ref>.+) differ by (?P<d>\S+) \(tolerance for (?P<t>\w+): rtol (?P<r>\S+), atol (?P<a>\S+)\)",
     r"逐步计算与 \g<ref> 相差 \g<d>（\g<t> 的容差：rtol \g<r>，atol \g<a>）"),

    # -- reference.py / reduction.py ------------------------------------------------------------------
    (r"expected a device such as cpu, cuda, cuda:0 or mps, got (?P<d>.+)", r"期望设备为 cpu、cuda、cuda:0 或 mps 之类，实际为 \g<d>"),
    (r"device (?P<d>.+) is not available on this machine; available: (?P<a>.+)", r"本机没有设备 \g<d>；可用设备：\g<a>"),
    (r"expected dtype float16, bfloat16, float32 or float64, got (?P<t>.+)",
     r"期望 dtype 为 float16、bfloat16、float32 或 float64，实际为 \g<t>"),
    (r"(?P<ref>\S+) failed on (?P<dev>[^/\s]+)/(?P<t>\w+): (?P<m>.+)", r"\g<ref> 在 \g<dev>/\g<t> 上运行失败：\g<m>"),
    (r"expected reduction none, mean, sum or batchmean, got (?P<g>.+)", r"归约方式应为 none、mean、sum 或 batchmean，实际为 \g<g>"),
])


# The checks a caller may pass a `hint` to (what to do instead, written at the end in parentheses): each
# message's Chinese is written once here; `add_hint_zh(check, {hint: 中文})` adds a caller's hints.
_HINTABLE: dict[str, list[Callable[[str, str], list[tuple[str, str]]]]] = {
    "require_same_shape": [
        lambda a, z: [(rf"expected (?P<a>\S+) and (?P<b>\S+) of the same shape, got (?P=a) (?P<sa>{_SHAPE}) and "
                       rf"(?P=b) (?P<sb>{_SHAPE}){a}", rf"期望 \g<a> 与 \g<b> 形状相同，实际 \g<a> 为 \g<sa>，\g<b> 为 \g<sb>{z}")]],
    "require_probabilities": [
        lambda a, z: _indexed(r"expected probabilities in \[0, 1\], got (?P<v>\S+?)", r"期望 [0, 1] 内的概率，实际为 \g<v>",
                              a, z)],
    "require_log_probabilities": [
        lambda a, z: _indexed(r"expected log-probabilities ≤ 0, got (?P<v>\S+?)", r"期望 ≤ 0 的对数概率，实际为 \g<v>", a, z)],
    "require_binary": [
        lambda a, z: _indexed(r"expected labels in \[0, 1\] \(0/1 or soft labels\), got (?P<v>\S+?)",
                              r"期望 [0, 1] 内的标签（0/1 或软标签），实际为 \g<v>", a, z),
        lambda a, z: _indexed(r"expected 0/1 labels, got (?P<v>\S+?)", r"期望 0/1 标签，实际为 \g<v>", a, z)],
    "require_sign_labels": [
        lambda a, z: _named(rf"expected labels -1/\+1 or 0/1, got both 0 and -1{a}",
                            rf"期望标签为 -1/+1 或 0/1，实际同时有 0 和 -1{z}"),
        lambda a, z: _indexed(r"expected labels -1/\+1 or 0/1, got (?P<v>\S+?)", r"期望标签为 -1/+1 或 0/1，实际为 \g<v>",
                              a, z)],
    "require_class_indices": [
        lambda a, z: _indexed(r"expected integer class indices such as \[0, 2, 1\], got (?P<v>\S+?)",
                              r"期望整数类别索引（如 [0, 2, 1]），实际为 \g<v>", a, z),
        lambda a, z: _indexed(r"expected integer class indices in \[0, (?P<c>\d+)\), got (?P<v>\S+?)",
                              r"期望 [0, \g<c>) 内的整数类别索引，实际为 \g<v>", a, z),
        lambda a, z: _indexed(r"expected class indices in \[0, (?P<c>\d+)\) or ignore_index (?P<ii>-?\d+) for "
                              r"C = (?P=c) classes, got (?P<v>-?\d+)",
                              r"期望 [0, \g<c>) 内的类别索引（C = \g<c> 类）或 ignore_index \g<ii>，实际为 \g<v>", a, z),
        lambda a, z: _indexed(r"expected class indices in \[0, (?P<c>\d+)\) for C = (?P=c) classes, got (?P<v>-?\d+)",
                              r"期望 [0, \g<c>) 内的类别索引（C = \g<c> 类），实际为 \g<v>", a, z)],
    "require_per_class": [
        lambda a, z: _named(rf"expected one value per class, shape \((?P<c>\d+),\) for C = (?P=c) classes, got shape "
                            rf"(?P<s>{_SHAPE}){a}", rf"期望每个类别一个值，形状 (\g<c>,)（C = \g<c> 类），实际形状为 \g<s>{z}")],
    "require_broadcastable": [
        lambda a, z: _named(rf"expected a shape that broadcasts to (?P<of>\S+)'s (?P<to>{_SHAPE}), got (?P<s>{_SHAPE}){a}",
                            rf"期望能广播到 \g<of> 的形状 \g<to>，实际为 \g<s>{z}")],
}


def add_hint_zh(check: Callable[..., Any], hints: dict[str, str]) -> None:
    """Chinese for the hints a caller passes to `check` (one of the require_* functions above): the check's
    own Chinese, with the hint's in full-width parentheses."""
    for build in _HINTABLE[check.__name__]:
        for english, chinese in hints.items():
            add_zh_patterns(build(rf" \({re.escape(english)}\)", "（" + chinese.replace("\\", "\\\\") + "）"))


add_zh_patterns([pattern for builds in _HINTABLE.values() for build in builds for pattern in build("", "")])
add_hint_zh(require_probabilities, {LOGITS_HINT: "若是 logits，请用 *_with_logits 损失或设置 input=logits"})
add_zh_patterns([
    (r"(\w+): expected a JSON object such as (.+), got text that does not parse \((.+)\)",
     r"\1：期望 JSON 对象，例如 \2，但文本无法解析（\3）"),
    (r"(\w+): expected a JSON object such as (.+), got (\w+)", r"\1：期望 JSON 对象，例如 \2，实际为 \3"),
])
