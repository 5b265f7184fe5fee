"""Text, Python objects and tensors -> TensorInput (see the package docstring for the grammar)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from lossapp.inputs import limits
from lossapp.inputs.errors import InputError, shape_text
from lossapp.inputs.errors import at_index as _at_index
from lossapp.inputs.errors import index_text as _index_text


@dataclass(frozen=True)
class TensorInput:
    """A parsed tensor and how it was written.

    values:   float64 tensor, or int64 when every entry was written as an integer.
    decimals: per element, the digits written after the decimal point, in absolute terms ('1.5e-3' -> 4);
              -1 where the entry was an integer (taken as exact). For floats that came from Python
              (lists, arrays, tensors) it is the decimals of their shortest repr in their own dtype
              (0.2947 -> 4, 1.0 -> 1); integer dtypes give -1. None when unknown (inputs of more than
              limits.DECIMALS_MAX_ELEMENTS elements).
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
        from lossapp.inputs.files import load_file  # files builds on this module

        return load_file(value, name)
    if isinstance(value, torch.Tensor):
        return _from_torch(value, name)
    if isinstance(value, bool | int | float | np.generic | np.ndarray | list | tuple) or hasattr(value, "__array__"):
        return _from_python(value, name)
    raise InputError(f"{name}: expected text, a list, a numpy array or a torch tensor, got {type(value).__name__}")


# -- Python objects ----------------------------------------------------------------------------------

def _check_size(count: int, name: str) -> None:
    if count > limits.MAX_ELEMENTS:
        raise InputError(f"{name}: expected at most {limits.MAX_ELEMENTS:,} elements, got {count:,}")

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
    if array.ndim > limits.MAX_DIMS:
        raise InputError(f"{name}: expected at most {limits.MAX_DIMS} dimensions, got {array.ndim}")
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
    for _depth in range(limits.MAX_DIMS + 1):
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
        if len(level) > limits.MAX_ELEMENTS:
            return None
    return f"{name}: expected at most {limits.MAX_DIMS} dimensions, got more"


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
    (repr writes 1.0); -1 for NaN and ±inf. None above limits.DECIMALS_MAX_ELEMENTS."""
    if t.numel() > limits.DECIMALS_MAX_ELEMENTS:
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
    if len(text) > limits.MAX_TEXT_CHARS:
        raise InputError(f"{name}: expected at most {limits.MAX_TEXT_CHARS:,} characters, got {len(text):,}")
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
    if dims > limits.MAX_DIMS:
        raise InputError(f"{name}: expected at most {limits.MAX_DIMS} dimensions, got {dims}")
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
    if len(words) <= limits.DECIMALS_MAX_ELEMENTS:
        decimals = np.fromiter(map(number_decimals, words), dtype=np.int64, count=len(words)).reshape(tuple(shape))
    return TensorInput(values.reshape(tuple(shape)), decimals)

