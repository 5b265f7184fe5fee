"""LossSpec and Param: one small registered spec per loss, looked up by name or alias.

Everything downstream (the engine, CLI, UI, examples, tests, docs) iterates over `LOSSES`, so adding
a loss is one `register(LossSpec(...))` in a module of `lossapp/losses/` plus its tests.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from lossapp.inputs import InputError, quote, read_tensor
from lossapp.trace import Trace

FAMILIES = ("regression", "classification", "overlap", "margin", "distribution", "regularization", "metrics")
REDUCTIONS = ("none", "mean", "sum", "batchmean")


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
        """Validate a user value; text is parsed, never evaluated."""
        if self.kind == "choice" and "none" in self.choices and (raw is None or str(raw).strip().lower() == "none"):
            return "none"  # a choice literally named "none" (e.g. activation=none) is a value, not "nothing"
        if raw is None or (isinstance(raw, str) and raw.strip().lower() in ("", "none", "null")):
            if self.default is None or self.kind in ("tensor", "float_or_tensor"):
                return None
            raise InputError(f"parameter {self.name}: expected a value, got nothing")
        if self.kind == "bool":
            return _parse_bool(self.name, raw)
        if self.kind == "choice":
            text = str(raw).strip().lower()
            if text not in self.choices:
                raise InputError(f"parameter {self.name}: expected one of {', '.join(self.choices)}, got {raw!r}")
            return text
        if self.kind in ("tensor", "float_or_tensor"):
            if self.kind == "float_or_tensor":
                try:
                    return self._check_range(_parse_float(self.name, raw))
                except InputError:
                    pass
            values = read_tensor(raw, f"parameter {self.name}").values.double()
            if values.dim() == 0 and self.kind == "float_or_tensor":
                return self._check_range(values.item())
            return values
        number = _parse_float(self.name, raw)
        if self.kind == "int":
            if number != int(number):
                raise InputError(f"parameter {self.name}: expected an integer, got {raw!r}")
            number = int(number)
        return self._check_range(number)

    def _check_range(self, number: float) -> float:
        if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
            raise InputError(f"parameter {self.name}: expected a value in [{self.low}, {self.high}], got {number:g}")
        return number

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "default": self.default, "kind": self.kind, "description": self.description,
                "low": self.low, "high": self.high, "choices": list(self.choices)}


def _parse_float(name: str, raw: Any) -> float:
    if isinstance(raw, bool):
        raise InputError(f"parameter {name}: expected a number, got {raw!r}")
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        text = str(raw).strip()
        if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
            raise InputError(f"parameter {name}: expected a number, got {raw!r}")
        value = float(text)
    if not math.isfinite(value):
        raise InputError(f"parameter {name}: expected a finite number, got {raw!r}")
    return value


def _parse_bool(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise InputError(f"parameter {name}: expected true or false, got {raw!r}")


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
    gradient: Callable[..., torch.Tensor] | None = None
    # "Reproduce in PyTorch": a Python expression computing the same value with torch built-ins, using the
    # names pred, target, reduction and the parameter names (defined by the snippet writer in render.py),
    # with `torch` and `F` (torch.nn.functional) imported. May span lines; the last line's value is printed.
    torch_code: str = ""

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
    expected = ", ".join(known) or "none"
    for name in names:
        if name in known:
            continue
        if name in RESERVED_NAMES:
            raise InputError(f"{spec.name}: {quote(name)} is not a parameter of the loss but an argument of its own "
                             f"(--{name} on the command line, its own field elsewhere); expected one of: {expected}")
        raise InputError(f"{spec.name}: unknown parameter {quote(name)}; expected one of: {expected}")


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
    """The spec for a canonical name, alias or torch class name; unknown names suggest close ones."""
    if not isinstance(name, str) or not name.strip():
        raise InputError("expected a loss name such as bce or cross_entropy, got nothing")
    key = _key(name)
    if key in _ALIASES:
        return LOSSES[_ALIASES[key]]
    candidates = sorted(set(LOSSES) | {a for s in LOSSES.values() for a in s.aliases})
    close = difflib.get_close_matches(name.strip().lower(), candidates, n=3, cutoff=0.5)
    close += [c for c in difflib.get_close_matches(key, list(_ALIASES), n=3, cutoff=0.6) if c not in close]
    hint = f"; did you mean {', '.join(dict.fromkeys(_ALIASES.get(c, c) for c in close))}?" if close else ""
    raise InputError(f"unknown loss {name!r}{hint} (python -m lossapp list shows them all)")


def params_to_json(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        out[k] = v.tolist() if isinstance(v, torch.Tensor) else v
    json.dumps(out)
    return out
