"""LossSpec and Param: one small registered spec per loss, looked up by name or alias.

Everything downstream (the engine, CLI, UI, examples, tests, docs) iterates over `LOSSES`, so adding
a loss is one `register(LossSpec(...))` in a module of `lossapp/losses/` plus its tests.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from lossapp.i18n import msg
from lossapp.inputs import InputError, limits, param_name, quote, read_tensor, require_finite
from lossapp.trace import Trace

if TYPE_CHECKING:
    from lossapp.interval import IntervalFormula

FAMILIES = ("regression", "classification", "overlap", "margin", "distribution", "regularization", "metrics")
REDUCTIONS = ("none", "mean", "sum", "batchmean")
SPEC_KINDS = ("loss", "metric")  # a metric is computed from counts by its own function (no pred to trace)
ACTIVATIONS = ("sigmoid", "softmax")
SET_MEASURES = ("dice", "iou", "tversky")
RELATED_ROLES = ("logits", "probabilities", "log_probabilities", "root_of", "root", "absolute", "squared", "rescaled",
                 "untruncated")


@dataclass(frozen=True)
class Param:
    """A loss parameter, with torch's name and default.

    kind: "float", "int", "bool", "choice", "tensor" (weight vectors; default None = off) or
          "float_or_tensor" (a scalar or one value per class).
    """

    name: str
    default: Any
    kind: str
    description: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def parse(self, raw: Any) -> Any:
        """Validate a user value; text is parsed, never evaluated. Only InputError escapes, and its message
        writes the value as the user wrote it (bounded: see `shown`)."""
        if self.kind not in ("tensor", "float_or_tensor"):
            raw = _python_scalar(raw)
        if self.kind == "choice" and "none" in self.choices and (raw is None or _is_word(raw, "none")):
            return "none"  # a choice literally named "none" (e.g. activation=none) is a value, not "nothing"
        if raw is None or _is_word(raw, "", "none", "null"):
            if self.default is None or self.kind in ("tensor", "float_or_tensor"):
                return None
            raise InputError("registry.value_nothing", name=param_name(self.name))
        if self.kind == "bool":
            return _parse_bool(self.name, raw)
        if self.kind == "choice":
            text = raw.strip().lower() if isinstance(raw, str) else None
            if text not in self.choices:
                raise InputError("registry.choice", name=param_name(self.name), choices=", ".join(self.choices),
                                 value=shown(raw))
            return text
        if self.kind == "tensor" or (self.kind == "float_or_tensor" and not _is_scalar(raw)):
            return self._parse_tensor(raw)
        if self.kind == "int":
            return self._check_range(_parse_int(self.name, raw), raw)
        return self._check_range(_parse_float(self.name, raw), raw)

    def _parse_tensor(self, raw: Any) -> torch.Tensor | float:
        """A tensor of finite numbers (a 0-d one is a scalar for float_or_tensor)."""
        if isinstance(raw, bool):
            raise InputError("registry.number_or_tensor" if self.kind == "float_or_tensor" else "registry.tensor",
                             name=param_name(self.name), value=repr(raw))
        values = read_tensor(raw, param_name(self.name)).values.double()
        require_finite(values, param_name(self.name))
        if values.dim() == 0 and self.kind == "float_or_tensor":
            return self._check_range(values.item(), raw if isinstance(raw, str) else values.item())
        return values

    def _check_range(self, number: float, raw: Any) -> float:
        if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
            raise InputError("registry.range", name=param_name(self.name), low=self.low, high=self.high,
                             value=_as_written(raw))
        return number

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "default": self.default, "kind": self.kind, "description": self.description,
                "low": self.low, "high": self.high, "choices": list(self.choices)}


# -- parameter values --------------------------------------------------------------------------------------

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", re.ASCII)  # Python's syntax, no underscores
NON_FINITE_WORDS = ("nan", "inf", "infinity")  # any case, with an optional sign
INT64_LOW, INT64_HIGH = -2**63, 2**63 - 1


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


def _is_word(raw: Any, *words: str) -> bool:
    return isinstance(raw, str) and raw.strip().lower() in words


def _is_non_finite_word(raw: Any) -> bool:
    return isinstance(raw, str) and raw.strip().lower().lstrip("+-") in NON_FINITE_WORDS


def _is_scalar(raw: Any) -> bool:
    """A Python number, or text that is one number (float_or_tensor: a scalar rather than a tensor)."""
    if isinstance(raw, str):
        return bool(NUMBER.fullmatch(raw.strip())) or _is_non_finite_word(raw)
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _python_scalar(raw: Any) -> Any:
    """numpy scalars and 0-d arrays or tensors as the Python number they hold; anything else unchanged."""
    if isinstance(raw, np.generic) or (isinstance(raw, np.ndarray | torch.Tensor) and raw.ndim == 0):
        value = raw.item()
        return value if isinstance(value, bool | int | float | str) else raw
    return raw


def _not_a_number(name: str, raw: Any, expected: str = "registry.number") -> InputError:
    """`expected`: the id of the message for a value that is no number at all (registry.number or
    registry.integer)."""
    if isinstance(raw, float) or _is_non_finite_word(raw):
        return InputError("registry.finite", name=param_name(name), value=shown(raw))
    return InputError(expected, name=param_name(name), value=shown(raw))


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


def _parse_bool(name: str, raw: Any) -> bool:
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
class Part:
    """One weighted part of a combined loss (L = Σ weight·part): the step holding the part's value, the
    parameter weighting it, and whether the part is natural-log based (see LossSpec.natural_log)."""

    symbol: str
    weight: str
    natural_log: bool = False


# step(trace, pred, target, params, reduction) -> the reduced loss (float64, from elementary ops)
StepFunction = Callable[[Trace, torch.Tensor, "torch.Tensor | None", dict[str, Any], str], torch.Tensor]
# reference(pred, target, params, reduction) -> the loss from torch built-ins, in pred's dtype/device
ReferenceFunction = Callable[[torch.Tensor, "torch.Tensor | None", dict[str, Any], str], torch.Tensor]
# prepare(pred, target, params, trace) -> (pred, target): validates shapes/ranges, may convert (warn in trace)
PrepareFunction = Callable[[torch.Tensor, "torch.Tensor | None", dict[str, Any], Trace],
                           "tuple[torch.Tensor, torch.Tensor | None]"]


@dataclass(frozen=True)
class LossSpec:
    """A registered loss.

    pred_kind / target_kind name what the inputs are ("values", "probabilities", "logits",
    "log_probabilities", "scores", "weights"; "values", "binary", "classes", "classes_or_probabilities",
    "probabilities", "signs"; target_kind None when there is no target). target_dtype "float" casts
    targets to float64, "index" requires integers, "auto" keeps them as written.
    """

    name: str
    family: str
    title: str
    summary: str
    formula: str
    pred_kind: str
    target_kind: str | None
    params: tuple[Param, ...]
    steps: StepFunction
    reference: ReferenceFunction
    reference_name: str
    prepare: PrepareFunction | None = None
    aliases: tuple[str, ...] = ()
    reductions: tuple[str, ...] = ("none", "mean", "sum")
    default_reduction: str = "mean"
    differentiable: bool = True
    target_dtype: str = "float"
    example: dict[str, Any] = field(default_factory=dict)  # {"pred": ..., "target": ..., "params": {...}}
    # torch's backward where it differs from autograd of the trace at the edges (e.g. BCE at p = 0 or 1)
    gradient: Callable[..., torch.Tensor | None] | None = None
    # "Reproduce in PyTorch": a Python expression computing the same value with torch built-ins, using the
    # names pred, target, reduction and the parameter names (defined by the snippet writer in render.py),
    # with `torch` and `F` (torch.nn.functional) imported. May span lines; the last line's value is printed.
    torch_code: str = ""
    # -- what the rest of the library needs to know about the loss, as data (no module outside the loss's own
    #    compares its name; tests/test_registry.py checks every field) ----------------------------------------
    kind: str = "loss"  # one of SPEC_KINDS
    natural_log: bool = False  # every term is a natural log times log-free factors (pred not log-probabilities)
    activation: str | None = None  # how the loss turns logits into probabilities (ACTIVATIONS; softmax over the
    #                                class dimension); None: it takes no logits, or its `activation` param says
    class_dim: bool = False  # pred has a class dimension (C,) / (N, C, ...)
    set_measure: str | None = None  # an overlap set loss: 1 − this coefficient (SET_MEASURES)
    parts: tuple[Part, ...] = ()  # a weighted sum of parts (dice_ce, dice_focal)
    focal: bool = False  # focal's α_t balance (param alpha) and (1 − p_t)^γ modulation (param gamma)
    affine_in_target: bool = False  # every term is an affine function of its target (soft labels mix linearly)
    # other registered losses by their role for this one (RELATED_ROLES): "logits" / "probabilities" /
    # "log_probabilities" (the same loss on that input kind), "root_of" (this value is the square root of that
    # loss's), "root" (the loss whose value is this one's square root), "absolute" / "squared" (the same
    # reduction of |d| / d²), "rescaled" (the same loss in the other scaling: smooth L1 and Huber),
    # "untruncated" (the loss without its truncation)
    related: Mapping[str, str] = field(default_factory=dict)
    mistakes: tuple[str, ...] = ()  # ids in lossapp.mistakes that are about this loss specifically
    conventions: tuple[str, ...] = ()  # ids in lossapp.conventions that are about this loss specifically
    lints: tuple[str, ...] = ()  # checks of lossapp.lint that are about this loss specifically
    # its rounding enclosure, written next to its steps (lossapp.interval.IntervalFormula): the loss over every input
    # that rounds to the written ones, in outward-rounded interval arithmetic; no_enclosure(reason) where there is
    # none. None (not declared) fails the registry-wide test.
    enclosure: IntervalFormula | None = None

    def resolve_params(self, given: dict[str, Any] | None) -> dict[str, Any]:
        """Effective parameters: defaults, overridden by the given ones (validated)."""
        given = dict(given or {})
        check_param_names(self, given)
        known = {p.name: p for p in self.params}
        return {name: (p.parse(given[name]) if name in given else p.default) for name, p in known.items()}

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "family": self.family, "title": self.title, "summary": self.summary,
                "formula": self.formula, "aliases": list(self.aliases), "pred": self.pred_kind,
                "target": self.target_kind, "reductions": list(self.reductions),
                "params": [p.to_dict() for p in self.params], "reference": self.reference_name}


# Names of compute()'s own arguments: a parameter of that name given as data (CLI --param, the HTTP params
# JSON, a graded CSV's params column) would collide with the argument when passed as a keyword.
RESERVED_NAMES = ("loss", "pred", "target", "reduction", "device", "dtype", "claimed")


def check_param_names(spec: LossSpec, names: Any) -> None:
    """Parameter names given as data, checked against the loss's own before anything is called: an unknown
    or reserved name is an InputError naming the parameters the loss has."""
    known = [p.name for p in spec.params]
    expected = ", ".join(known) or msg("registry.no_params")
    for name in names:
        if name in known:
            continue
        if name in RESERVED_NAMES:
            raise InputError("registry.reserved_param", loss=spec.name, param=quote(name), argument=name,
                             names=expected)
        raise InputError("registry.unknown_param", loss=spec.name, param=quote(name), names=expected)


LOSSES: dict[str, LossSpec] = {}
_ALIASES: dict[str, str] = {}


def _key(name: str) -> str:
    """Case-, punctuation- and prefix-insensitive key: 'nn.BCELoss' -> 'bce', 'Smooth-L1' -> 'smoothl1'."""
    text = name.strip().lower()
    text = re.sub(r"^(torch\.)?(nn\.)?(functional\.|f\.)?", "", text)
    text = re.sub(r"[\s_\-.]", "", text)
    return re.sub(r"loss$", "", text) or text


def register(spec: LossSpec) -> LossSpec:
    if spec.name in LOSSES:
        raise ValueError(f"loss {spec.name!r} registered twice")
    if spec.family not in FAMILIES:
        raise ValueError(f"loss {spec.name!r}: unknown family {spec.family!r}")
    LOSSES[spec.name] = spec
    for alias in (spec.name, *spec.aliases):
        _ALIASES[_key(alias)] = spec.name
    return spec


def lookup(name: str) -> LossSpec:
    """The spec for a canonical name, alias or torch class name; unknown names suggest close ones (names longer
    than limits.MAX_NAME_CHARS are no loss's and get no suggestion search)."""
    if name is None or _is_word(name, ""):
        raise InputError("registry.loss_nothing")
    if not isinstance(name, str):
        raise InputError("registry.loss_type", value=shown(name))
    key = _key(name)
    if key in _ALIASES:
        return LOSSES[_ALIASES[key]]
    close: list[str] = []
    if len(name.strip()) <= limits.MAX_NAME_CHARS:
        candidates = sorted(set(LOSSES) | {a for s in LOSSES.values() for a in s.aliases})
        close = difflib.get_close_matches(name.strip().lower(), candidates, n=3, cutoff=0.5)
        close += [c for c in difflib.get_close_matches(key, list(_ALIASES), n=3, cutoff=0.6) if c not in close]
    if close:
        raise InputError("registry.unknown_loss_close", name=quote(name),
                         close=", ".join(dict.fromkeys(_ALIASES.get(c, c) for c in close)))
    raise InputError("registry.unknown_loss", name=quote(name))


def params_to_json(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        out[k] = v.tolist() if isinstance(v, torch.Tensor) else v
    json.dumps(out)
    return out
