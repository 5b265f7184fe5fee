"""Declarative parameter constraints (scikit-learn's `Interval` / `StrOptions`): a loss declares what each of its
parameters accepts, and one function, `validate_params`, checks and converts the values a user gives.

    Param("beta", 1.0, Interval(Real, 0.0, 10.0), ...)          # a float64 in [0, 10]
    Param("ignore_index", -100, Interval(Integral), ...)        # any int64
    Param("log_target", False, Boolean(), ...)
    Param("input", "logits", Options(("logits", "probabilities")), ...)
    Param("weight", None, Tensor(), ...)                        # a tensor of finite numbers; None = off
    Param("alpha", None, Tensor(scalar=Interval(Real, -1.0, 1.0)), ...)  # a number in [-1, 1] or a tensor

A value is parsed, never evaluated: text in Python's number syntax, Python and numpy numbers, 0-d arrays and
tensors, and for `Tensor` anything `read_tensor` reads. Only InputError escapes, and its message writes the value
as the user wrote it (bounded: see `shown`). Nothing given (None, "", "none", "null") means the default where the
default is None (the parameter is off) or the parameter is a tensor, and is refused elsewhere.

    >>> from lossapp.registry import Param
    >>> beta = Param("beta", 1.0, Interval(Real, 0.0, 10.0), "where the quadratic part turns linear")
    >>> validate_params({"beta": "0.5"}, [beta])
    {'beta': 0.5}
    >>> validate_params({"beta": "20"}, [beta])
    Traceback (most recent call last):
        ...
    lossapp.inputs.errors.InputError: parameter beta: expected a value in [0.0, 10.0], got 20
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from numbers import Integral, Real
from typing import Any, ClassVar, Protocol

import numpy as np
import torch

from lossapp.i18n import msg
from lossapp.inputs import limits
from lossapp.inputs.errors import InputError, param_name, quote
from lossapp.inputs.parse import read_tensor

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", re.ASCII)  # Python's syntax, no underscores
NON_FINITE_WORDS = ("nan", "inf", "infinity")  # any case, with an optional sign
NOTHING_WORDS = ("", "none", "null")
INT64_LOW, INT64_HIGH = -2**63, 2**63 - 1
CLOSED = ("both", "left", "right", "neither")


class Constraint:
    """What one parameter accepts. `check(name, raw)` returns the value converted (raw is not nothing), or raises
    InputError; `kind` names the input the interfaces draw for it ("float", "int", "bool", "choice", "tensor",
    "float_or_tensor")."""

    kind: ClassVar[str] = ""

    def check(self, name: str, raw: Any) -> Any:
        raise NotImplementedError

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """(low, high) for a number, None on an open end (and for constraints that are not numbers)."""
        return None, None

    @property
    def choices(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True)
class Interval(Constraint):
    """A number of `type` (numbers.Real: a finite float64; numbers.Integral: an int64 exactly as written) between
    `low` and `high` (None: unbounded), the ends included as `closed` says ("both", "left", "right", "neither")."""

    type: type
    low: float | None = None
    high: float | None = None
    closed: str = "both"

    def __post_init__(self) -> None:
        if self.type not in (Real, Integral):
            raise TypeError(f"Interval type must be numbers.Real or numbers.Integral, not {self.type!r}")
        if self.closed not in CLOSED:
            raise ValueError(f"Interval closed must be one of {', '.join(CLOSED)}, not {self.closed!r}")

    @property
    def kind(self) -> str:
        return "int" if self.type is Integral else "float"

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        return self.low, self.high

    def check(self, name: str, raw: Any) -> float | int:
        number = _parse_int(name, raw) if self.type is Integral else _parse_float(name, raw)
        return self.within(name, number, raw)

    def within(self, name: str, number: float, raw: Any) -> float:
        """`number` (parsed from `raw`) if it lies in the interval."""
        low_ok = self.low is None or number > self.low or (number == self.low and self.closed in ("both", "left"))
        high_ok = self.high is None or number < self.high or (number == self.high and self.closed in ("both", "right"))
        if not (low_ok and high_ok):
            raise InputError("params.out_of_interval", name=param_name(name), interval=self.text(),
                             value=_as_written(raw))
        return number

    def text(self) -> str:
        """The interval as mathematics writes it: '[0.0, 10.0]', '(0, ∞)'."""
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-∞" if self.low is None else f"{self.low}"
        high = "∞" if self.high is None else f"{self.high}"
        return f"{left}{low}, {high}{right}"


@dataclass(frozen=True, init=False)
class Options(Constraint):
    """One of a few words (any case, surrounding blanks ignored), listed in messages in the order given (a set is
    listed sorted). A word "none" among them is a value, not "nothing given"."""

    words: tuple[str, ...]
    kind: ClassVar[str] = "choice"

    def __init__(self, words: Iterable[str]) -> None:
        ordered = tuple(sorted(words)) if isinstance(words, set | frozenset) else tuple(words)
        object.__setattr__(self, "words", ordered)

    @property
    def choices(self) -> tuple[str, ...]:
        return self.words

    def check(self, name: str, raw: Any) -> str:
        if isinstance(raw, int | float) and not isinstance(raw, bool) and float(raw).is_integer() \
                and str(int(raw)) in self.words:  # a word that is a number (log_base=2) given as one
            raw = str(int(raw))
        text = raw.strip().lower() if isinstance(raw, str) else None
        if text not in self.words:
            raise InputError("registry.choice", name=param_name(name), choices=", ".join(self.words), value=shown(raw))
        return text


@dataclass(frozen=True)
class Boolean(Constraint):
    """true or false: a bool, 0 or 1, or the words true/false, 1/0, yes/no, on/off (any case)."""

    kind: ClassVar[str] = "bool"

    def check(self, name: str, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):
            return bool(raw)
        text = raw.strip().lower() if isinstance(raw, str) else None
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise InputError("registry.bool", name=param_name(name), value=shown(raw))


@dataclass(frozen=True)
class Tensor(Constraint):
    """A tensor of finite numbers (weight vectors: one per class, per element, ...; their shape is checked by the
    loss's prepare against pred's). With `scalar`, a single number is accepted too and checked by that interval
    (a 0-d tensor is such a number): one value for every class, or one per class."""

    scalar: Interval | None = None

    @property
    def kind(self) -> str:
        return "tensor" if self.scalar is None else "float_or_tensor"

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        return (None, None) if self.scalar is None else self.scalar.bounds

    def check(self, name: str, raw: Any) -> torch.Tensor | float:
        if self.scalar is not None and _is_scalar(raw):
            return self.scalar.check(name, raw)
        if isinstance(raw, bool):
            expected_id = "registry.tensor" if self.scalar is None else "registry.number_or_tensor"
            raise InputError(expected_id, name=param_name(name), value=repr(raw))
        from lossapp.inputs.checks import require_finite  # checks.read_params validates through this module

        values = read_tensor(raw, param_name(name)).values.double()
        require_finite(values, param_name(name))
        if values.dim() == 0 and self.scalar is not None:
            return self.scalar.within(name, values.item(), raw if isinstance(raw, str) else values.item())
        return values


class Declared(Protocol):
    """A declared parameter (`lossapp.registry.Param`): its name, default and constraint."""

    name: str
    default: Any
    constraint: Constraint


def validate_value(param: Declared, raw: Any) -> Any:
    """One given value, checked against the parameter's constraint and converted (scikit-learn's
    `validate_parameter_constraints` for one parameter). Nothing given is the default None (see the module)."""
    constraint = param.constraint
    if not isinstance(constraint, Tensor):
        raw = _python_scalar(raw)
    if "none" in constraint.choices and (raw is None or is_word(raw, "none")):
        return "none"  # a choice literally named "none" (e.g. activation=none) is a value, not "nothing"
    if raw is None or is_word(raw, *NOTHING_WORDS):
        if param.default is None or isinstance(constraint, Tensor):
            return None
        raise InputError("registry.value_nothing", name=param_name(param.name))
    return constraint.check(param.name, raw)


def validate_params(given: Mapping[str, Any], declared: Sequence[Declared], name: str = "params") -> dict[str, Any]:
    """The effective parameters: every declared one's default, overridden by the given value checked against its
    constraint. A name that is not declared is an InputError naming the declared ones (`name`: what the values
    are called in that message)."""
    known = {p.name: p for p in declared}
    for key in given:
        if key not in known:
            raise InputError("registry.unknown_param", loss=name, param=quote(key),
                             names=", ".join(known) or msg("registry.no_params"))
    return {key: (validate_value(p, given[key]) if key in given else p.default) for key, p in known.items()}


# -- the value as a message writes it -----------------------------------------------------------------------------

def shown(raw: Any) -> str:
    """A user's value as a message writes it, bounded: text quoted (`lossapp.inputs.quote`); None, a bool or a
    number as Python writes it (an integer too long for that by its number of digits); anything else by its
    type name."""
    if isinstance(raw, str):
        return quote(raw)
    if raw is None or isinstance(raw, bool | float):
        return repr(raw)
    if isinstance(raw, int):
        if raw.bit_length() <= 3 * limits.MAX_QUOTED_CHARS:  # under 10^(0.9 * MAX_QUOTED_CHARS)
            return repr(raw)
        return msg("registry.integer_digits", digits=math.floor(math.log10(abs(raw))) + 1)
    return type(raw).__name__


def _as_written(raw: Any) -> str:
    """A number as the user wrote it: its text unquoted (quoted when too long), a Python number by `shown`."""
    if isinstance(raw, str) and len(raw.strip()) <= limits.MAX_QUOTED_CHARS:
        return raw.strip()
    return shown(raw)


def is_word(raw: Any, *words: str) -> bool:
    return isinstance(raw, str) and raw.strip().lower() in words


def _is_non_finite_word(raw: Any) -> bool:
    return isinstance(raw, str) and raw.strip().lower().lstrip("+-") in NON_FINITE_WORDS


def _is_scalar(raw: Any) -> bool:
    """A Python number, or text that is one number (a scalar rather than a tensor)."""
    if isinstance(raw, str):
        return bool(NUMBER.fullmatch(raw.strip())) or _is_non_finite_word(raw)
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _python_scalar(raw: Any) -> Any:
    """numpy scalars and 0-d arrays or tensors as the Python number they hold; anything else unchanged."""
    if isinstance(raw, np.generic) or (isinstance(raw, np.ndarray | torch.Tensor) and raw.ndim == 0):
        value = raw.item()
        return value if isinstance(value, bool | int | float | str) else raw
    return raw


# -- numbers -------------------------------------------------------------------------------------------------------

def _not_a_number(name: str, raw: Any, expected_id: str = "registry.number") -> InputError:
    """`expected_id`: the message for a value that is no number at all (registry.number or registry.integer)."""
    if isinstance(raw, float) or _is_non_finite_word(raw):
        return InputError("registry.finite", name=param_name(name), value=shown(raw))
    return InputError(expected_id, name=param_name(name), value=shown(raw))


def _parse_float(name: str, raw: Any) -> float:
    """A finite float64: Python numbers, or text in Python's number syntax whose value float64 holds (neither
    overflowing to ±inf nor a non-zero number underflowing to 0)."""
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise _not_a_number(name, raw)
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        try:
            return float(raw)
        except OverflowError:
            raise InputError("registry.float64_range", name=param_name(name), value=shown(raw)) from None
    text = raw.strip() if isinstance(raw, str) else ""
    if not NUMBER.fullmatch(text):
        raise _not_a_number(name, raw)
    value = float(text)
    mantissa = re.split("[eE]", text)[0]
    if math.isinf(value) or (value == 0 and any(c in "123456789" for c in mantissa)):
        raise InputError("registry.float64_range", name=param_name(name), value=_as_written(raw))
    return value


def _parse_int(name: str, raw: Any) -> int:
    """An integer that fits in int64, exactly as written ('1e3' and 2.0 are integers; '1.5' and 1e30 are not)."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise _not_a_number(name, raw, "registry.integer")
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise _not_a_number(name, raw)
        if not raw.is_integer():
            raise InputError("registry.integer", name=param_name(name), value=shown(raw))
        number = int(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        if not NUMBER.fullmatch(text):
            raise _not_a_number(name, raw)
        try:
            exact = Decimal(text)
        except InvalidOperation:  # an exponent of 10^18 or more: no integer of int64
            raise InputError("registry.int64_range", name=param_name(name), value=_as_written(raw)) from None
        if exact != exact.to_integral_value():
            raise InputError("registry.integer", name=param_name(name), value=shown(raw))
        number = int(exact) if exact.adjusted() <= 18 else INT64_HIGH + 1  # int() of 1e99999999 would not end
    else:
        number = raw
    if not INT64_LOW <= number <= INT64_HIGH:
        raise InputError("registry.int64_range", name=param_name(name), value=_as_written(raw))
    return number
