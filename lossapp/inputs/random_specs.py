"""Seeded random inputs and the random-spec language (randn(2, 3), randint(0, 3, (2,)), ...)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from lossapp.i18n import Message, msg
from lossapp.inputs import limits
from lossapp.inputs.errors import InputError

# -- random inputs -----------------------------------------------------------------------------------

RANDOM_KINDS = ("randn", "rand", "softmax", "log_softmax", "randint", "mask")
_RANDOM_DTYPES = {"float16": torch.float16, "half": torch.float16, "bfloat16": torch.bfloat16,
                  "float32": torch.float32, "float": torch.float32, "float64": torch.float64,
                  "double": torch.float64, "int64": torch.int64, "long": torch.int64, "int32": torch.int32,
                  "int": torch.int32, "int16": torch.int16, "int8": torch.int8, "uint8": torch.uint8}


def _check_shape(shape: Any, what: Message) -> tuple[int, ...]:
    if isinstance(shape, int | np.integer) and not isinstance(shape, bool):
        shape = (int(shape),)
    if isinstance(shape, torch.Size):
        shape = tuple(shape)
    if (not isinstance(shape, list | tuple) or len(shape) > limits.MAX_DIMS
            or not all(isinstance(s, int | np.integer) and not isinstance(s, bool) and s >= 1 for s in shape)):
        raise InputError("inputs.random_shape", name=what, shape=repr(shape))
    shape = tuple(int(s) for s in shape)
    if math.prod(shape) > limits.MAX_ELEMENTS:
        raise InputError("inputs.too_many_elements", name=what, limit=limits.MAX_ELEMENTS, count=math.prod(shape))
    return shape


def _class_dim(shape: tuple[int, ...]) -> int:
    """The dimension (log-)softmax normalises: the classes, dim 1 of (N, C, ...), dim 0 of a vector."""
    return 1 if len(shape) > 1 else 0


def _generate(kind: str, shape: tuple[int, ...], generator: torch.Generator, low: int = 0, high: int | None = None,
              dtype: torch.dtype | None = None, what: Message | str = "random") -> torch.Tensor:
    if kind in ("randn", "rand", "softmax", "log_softmax"):
        if dtype is not None and not dtype.is_floating_point:
            raise InputError("inputs.random_dtype", name=what, dtype=str(dtype).removeprefix("torch."))
        if kind in ("softmax", "log_softmax") and not shape:
            raise InputError("inputs.softmax_shape", name=what)
        fn = torch.rand if kind == "rand" else torch.randn
        t = fn(shape, generator=generator, dtype=dtype)
        if kind == "softmax":
            t = torch.softmax(t, dim=_class_dim(shape))
        elif kind == "log_softmax":
            t = torch.log_softmax(t, dim=_class_dim(shape))
        return t
    if kind == "mask":
        low, high = 0, 2
    if high is None or high <= low:
        raise InputError("inputs.num_classes", name=what, value=repr(high))
    info = torch.iinfo(dtype or torch.int64)
    if low < info.min or high - 1 > info.max:  # torch.randint would fail unpacking them
        raise InputError("inputs.randint_range", name=what, dtype=str(info.dtype).removeprefix("torch."),
                         min=info.min, max=info.max)
    return torch.randint(low, high, shape, generator=generator, dtype=dtype or torch.int64)


def random_tensor(kind: str, shape: Any, seed: int = 0, num_classes: int | None = None,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """A random tensor of `shape` from a private generator seeded with `seed` (or from `generator`).

    randn:   values / logits, exactly `torch.manual_seed(seed); torch.randn(*shape)`
    rand:    probabilities in [0, 1) (torch.rand)
    softmax: rows of probabilities: softmax of randn along dim 1 (dim 0 for a vector)
    log_softmax: rows of log-probabilities: log_softmax of randn along dim 1 (dim 0 for a vector)
    randint: class indices in [0, num_classes)
    mask:    0/1 labels (torch.randint(0, 2))
    The global RNG is left untouched.
    """
    kind_text = str(kind).strip().lower()
    if kind_text not in RANDOM_KINDS:
        raise InputError("inputs.random_kind", kinds=", ".join(RANDOM_KINDS), kind=repr(kind))
    what = msg("inputs.random_name", kind=kind_text)
    shape = _check_shape(shape, what)
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer)):
        raise InputError("inputs.num_classes", name=what, value=repr(num_classes))
    if generator is None:
        generator = torch.Generator().manual_seed(_check_seed(seed))
    return _generate(kind_text, shape, generator, high=None if num_classes is None else int(num_classes), what=what)


def _check_seed(seed: Any) -> int:
    if isinstance(seed, str) and re.fullmatch(r"\s*[-+]?\d+\s*", seed):
        seed = int(seed)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise InputError("inputs.integer", name="seed", value=repr(seed))
    seed = int(seed)
    if not -(2**63) <= seed < 2**64:
        raise InputError("inputs.seed_range", name="seed", value=seed)
    return seed


_SPEC = re.compile(r"\s*(?:[A-Za-z_]\w*\s*=\s*)?(?:torch\.)?(?P<fn>randn|rand|randint|log_softmax|softmax|mask)\s*"
                   r"\((?P<args>[^()]*(?:\([^()]*\)[^()]*)*)\)\s*;?\s*", re.ASCII)
_SPEC_HELP = "randn(2, 3), rand(4), randint(0, 3, (2,)), softmax(2, 3) or mask(4)"


def is_random_spec(text: Any) -> bool:
    """Whether `text` is one spec of the random-spec language (randn(2, 3), torch.rand(4), ...): the command line
    draws such a pred or target with its --seed."""
    return isinstance(text, str) and _SPEC.fullmatch(text) is not None


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


def _spec_name(spec: str) -> Message:
    return msg("inputs.random_spec_name", spec=repr(spec))


def _int_or_shape(arg: str, spec: str) -> int | tuple[int, ...]:
    arg = arg.strip()
    if re.fullmatch(r"[-+]?\d+", arg):
        return int(arg)
    m = re.fullmatch(r"[(\[]\s*((?:[-+]?\d+\s*,\s*)*(?:[-+]?\d+)?)\s*,?\s*[)\]]", arg)
    if m:
        return tuple(int(x) for x in re.findall(r"[-+]?\d+", m.group(1)))
    raise InputError("inputs.sizes", name=_spec_name(spec), arg=repr(arg))


def _parse_spec(spec: str) -> tuple[str, tuple[int, ...], int, int | None, torch.dtype | None]:
    if not isinstance(spec, str) or not _SPEC.fullmatch(spec):
        raise InputError("inputs.random_spec", examples=_SPEC_HELP, spec=repr(spec))
    m = _SPEC.fullmatch(spec)
    fn = m.group("fn")
    positional: list[int | tuple[int, ...]] = []
    keywords: dict[str, str] = {}
    for arg in _split_args(m.group("args")):
        if not arg:
            raise InputError("inputs.sizes_empty", name=_spec_name(spec))
        kw = re.fullmatch(r"([A-Za-z_]\w*)\s*=\s*(.+)", arg, re.S)
        if kw:
            keywords[kw.group(1)] = kw.group(2).strip()
        elif keywords:
            raise InputError("inputs.keywords_last", name=_spec_name(spec), arg=repr(arg))
        else:
            positional.append(_int_or_shape(arg, spec))
    dtype = None
    if "dtype" in keywords:
        key = keywords.pop("dtype").removeprefix("torch.")
        if key not in _RANDOM_DTYPES:
            raise InputError("inputs.random_dtype", name=_spec_name(spec), dtype=repr(key))
        dtype = _RANDOM_DTYPES[key]
    for ignored in ("requires_grad", "device"):
        keywords.pop(ignored, None)
    low, high = 0, None
    if fn == "randint":
        ints = [p for p in positional if isinstance(p, int)]
        shapes = [p for p in positional if isinstance(p, tuple)]
        if shapes and positional[-1] is not shapes[-1]:
            raise InputError("inputs.randint_args", name=_spec_name(spec))
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
            raise InputError("inputs.randint_args", name=_spec_name(spec))
        if high <= low:
            raise InputError("inputs.randint_order", name=_spec_name(spec), low=low, high=high)
        shape: Any = shapes[0]
    else:
        if "size" in keywords:
            positional.append(_int_or_shape(keywords.pop("size"), spec))
        if len(positional) == 1 and isinstance(positional[0], tuple):
            shape = positional[0]
        elif positional and all(isinstance(p, int) for p in positional):
            shape = tuple(positional)
        else:
            raise InputError("inputs.sizes_none", name=_spec_name(spec))
    if keywords:
        raise InputError("inputs.random_arguments", name=_spec_name(spec), arg=repr(next(iter(keywords))))
    return fn, _check_shape(shape, _spec_name(spec)), low, high, dtype


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
    return [_generate(fn, shape, generator, low, high, dtype, what=msg("inputs.random_spec_name", spec=fn))
            for fn, shape, low, high, dtype in parsed]




# -- what a loss's input of each kind is generated with (the names of LossSpec.pred_kind / target_kind) --------

# input kind -> the generator that makes a valid input of that kind: a distribution's rows sum to 1 along the class
# dimension (softmax), log-probabilities are their logs (log_softmax), probabilities are independent in [0, 1)
KIND_GENERATORS = {"values": "randn", "logits": "randn", "scores": "randn", "weights": "randn",
                   "probabilities": "rand", "distribution": "softmax", "log_probabilities": "log_softmax",
                   "binary": "mask", "signs": "mask", "counts": "mask", "mask": "mask", "classes": "randint"}


def generator_spec(kind: str, shape: Sequence[int], classes: int = 2) -> str:
    """The generator spec (the language of `random_inputs`) of a valid input of `kind` (KIND_GENERATORS) and
    `shape`; class indices are drawn from [0, classes).

    >>> generator_spec("log_probabilities", (2, 3)), generator_spec("classes", (2,), 3)
    ('log_softmax(2, 3)', 'randint(0, 3, (2,))')
    """
    if kind not in KIND_GENERATORS:
        raise InputError("inputs.random_kind", kinds=", ".join(KIND_GENERATORS), kind=repr(kind))
    fn = KIND_GENERATORS[kind]
    dims = ", ".join(str(int(s)) for s in shape)
    if fn == "mask":
        fn, classes = "randint", 2
    if fn == "randint":
        return f"randint(0, {int(classes)}, ({dims}{',' if len(shape) == 1 else ''}))"
    return f"{fn}({dims})"


def spec_torch_code(spec: str) -> str:
    """The PyTorch code that draws what the generator spec `spec` draws after the same torch.manual_seed:
    "randn(2, 3)" -> "torch.randn(2, 3)", "log_softmax(2, 3)" -> "torch.randn(2, 3).log_softmax(dim=1)",
    "mask(4)" -> "torch.randint(0, 2, (4,))"."""
    fn, shape, low, high, dtype = _parse_spec(spec)
    dims = ", ".join(str(s) for s in shape)
    keyword = f", dtype=torch.{str(dtype).removeprefix('torch.')}" if dtype is not None else ""
    if fn in ("randint", "mask"):
        low, high = (0, 2) if fn == "mask" else (low, high)
        return f"torch.randint({low}, {high}, ({dims}{',' if len(shape) == 1 else ''}){keyword})"
    if fn in ("softmax", "log_softmax"):
        return f"torch.randn({dims}{keyword}).{fn}(dim={_class_dim(shape)})"
    return f"torch.{fn}({dims}{keyword})"
