"""LossSpec and Param: one small registered spec per loss, looked up by name or alias.

Everything downstream (the engine, CLI, UI, examples, tests, docs) iterates over `LOSSES`, so adding
a loss is one `register(LossSpec(...))` in a module of `lossapp/losses/` plus its tests.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from lossapp.i18n import msg
from lossapp.inputs import InputError, limits, quote
from lossapp.inputs.constraints import NUMBER as NUMBER  # re-exported: verdicts.py reads claimed numbers with it
from lossapp.inputs.constraints import Constraint, is_word, shown, validate_params, validate_value
from lossapp.trace import Lazy, Trace

if TYPE_CHECKING:
    from lossapp.interval import IntervalFormula

FAMILIES = ("regression", "classification", "overlap", "margin", "distribution", "regularization", "metrics")
REDUCTIONS = ("none", "mean", "sum", "batchmean")
SPEC_KINDS = ("loss", "metric")  # a metric is computed from counts by its own function (no pred to trace)
ACTIVATIONS = ("sigmoid", "softmax")
SET_MEASURES = ("dice", "iou", "tversky")
# the parameter saying what pred holds, where a loss takes more than one kind (its choices are pred kinds)
INPUT_PARAM = "input"
RELATED_ROLES = ("logits", "probabilities", "log_probabilities", "root_of", "root", "absolute", "squared", "rescaled",
                 "untruncated")


@dataclass(frozen=True)
class Param:
    """A loss parameter, with torch's name and default, and what it accepts: a constraint of
    `lossapp.inputs.constraints` (`Interval(Real, 0.0, 10.0)`, `Interval(Integral)`, `Boolean()`,
    `Options((...))`, `Tensor()` for weight vectors with default None = off, `Tensor(scalar=Interval(...))` for a
    scalar or one value per class)."""

    name: str
    default: Any
    constraint: Constraint
    description: str

    def parse(self, raw: Any) -> Any:
        """Validate a user value; text is parsed, never evaluated. Only InputError escapes, and its message
        writes the value as the user wrote it (bounded: see `shown`)."""
        return validate_value(self, raw)

    @property
    def kind(self) -> str:
        """The input the interfaces draw: "float", "int", "bool", "choice", "tensor" or "float_or_tensor"."""
        return self.constraint.kind

    @property
    def low(self) -> float | None:
        return self.constraint.bounds[0]

    @property
    def high(self) -> float | None:
        return self.constraint.bounds[1]

    @property
    def choices(self) -> tuple[str, ...]:
        return self.constraint.choices

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "default": self.default, "kind": self.kind, "description": self.description,
                "low": self.low, "high": self.high, "choices": list(self.choices)}


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


@dataclass
class RerunMemo:
    """What a loss's value-only rerun (LossSpec.rerun) shares with the other reruns of one problem: `pred`, the
    per-element terms of its pred alone (the same for every target and parameter). A rerun on a pred no other rerun
    sees gets an empty one. It lives until the checker has the variants' values (lossapp.variants.Case.release_reruns):
    a few full-size tensors, what one rerun would make anyway, made once."""

    pred: dict[Any, Any] = field(default_factory=dict)
    # float64 buffers by shape and device (`buffer`): scratch that a rerun fills with its terms and reduces before it returns
    work: dict[Any, torch.Tensor] = field(default_factory=dict)
    # the key under which a rerun keeps σ(pred) when it forms it as lossapp.losses.stable.stable_sigmoid does (bit for
    # bit): the checker's mistakes that need σ of this pred (lossapp.variants.activated) read it there. Read-only.
    SIGMOID: ClassVar[str] = "sigmoid(pred)"

    def buffer(self, like: torch.Tensor, slot: str = "terms", dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """A buffer of like's shape and device, the same one for every user of the problem's reruns that asks for this
        slot: a rerun fills the "terms" one whole with its terms and reduces them before it returns (never returning or
        keeping it); the checker may build an input of a rerun in another slot (lossapp.variants.Case.work). So the
        reruns touch its memory once (a fresh large buffer costs more to touch than the arithmetic on it)."""
        key = (slot, tuple(like.shape), like.device, dtype)
        if key not in self.work:
            self.work[key] = torch.empty(like.shape, dtype=dtype, device=like.device)
        return self.work[key]

    @staticmethod
    def once(memo: dict[Any, Any], key: Any, make: Callable[[], Any]) -> Any:
        """memo[key], made by `make` the first time."""
        if key not in memo:
            memo[key] = make()
        return memo[key]


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
    target_optional: bool = False  # the target may be left out (entropy: H(p) alone, or with q its H(p, q) steps)
    example: dict[str, Any] = field(default_factory=dict)  # {"pred": ..., "target": ..., "params": {...}}
    # d(value)/d(pred) in closed form, used instead of autograd of the trace: torch's backward where it differs from
    # autograd at the edges (e.g. BCE at p = 0 or 1), or the derivative in a few passes where autograd's chain through
    # every step costs several times the forward (bce_with_logits, the penalties). An elementwise one may be a
    # lossapp.trace.Lazy (the penalties'): compute() compares it a block at a time, every other caller gets it in full
    gradient: Callable[..., torch.Tensor | Lazy | None] | None = None
    # the gradient takes a keyword `shared`, a dict it writes the values it computes on the way (the overlap losses'
    # set sums) into, for the steps to read instead of computing them again (the Trace's `shared`, see run_trace)
    gradient_shared: bool = False
    # (pred, target, params) -> the flat indices of the only elements of pred where d(value)/d(pred) may be nonzero,
    # for the inputs as prepared (nll: each counted sample's target class), or None: the gradients are then compared
    # at those elements and checked to be exactly 0 at every other (lossapp.reference.closeness's `support`)
    gradient_support: Callable[..., torch.Tensor | None] | None = None
    # params -> whether prepare, the steps and the gradient take pred in the user's own narrower floating dtype
    # (float32, float16, bfloat16; every value exact in float64) as it is, widening exactly where they compute with it
    # (nll of log-probabilities: its steps pick one element per sample): lossapp.compute then makes no float64 copy of
    # a large pred (lossapp.inputs.TensorInput.narrow). None: pred always comes as float64.
    narrow_pred: Callable[[dict[str, Any]], bool] | None = None
    # prepare reads the range of pred and of a floating target (the overlap losses' checks of [0, 1]): lossapp.compute
    # then finds each one's (min, max) in the one pass (torch.aminmax) that also checks it for NaN / ±inf, and hands
    # them to prepare (Trace.extremes, Trace.target_extremes) instead of a sum for the check and two more passes for
    # the range
    reads_extremes: bool = False
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
    # its unweighted terms are the logistic loss on logits, l(x, y) = −[y·log σ(x) + (1 − y)·log σ(−x)] = sp(x) − y·x
    # (sp(z) = log(1 + e^z)), so l(x, 1 − y) − l(x, y) = (2y − 1)·x: the checker's closed-form bounds on swapped labels
    # and on a probabilities loss run on p as logits (its related["logits"]) read it
    logistic: bool = False
    # the sigmoid focal loss's α identity: for 0/1 labels of pred's shape its terms are l = α_t·b with α_t = α·y +
    # (1 − α)·(1 − y) (param alpha; < 0: α_t = 1) and b ≥ 0 the terms without α, its value is Σ l / den (mean, sum),
    # and its enclosure's point bound (interval.IntervalFormula.point_error) is the same for every α: what the proof of
    # lossapp.variants.focal_alpha_bound (its α variants bounded from Σ l and Σ y·l alone) rests on
    alpha_label_sums: bool = False
    # other registered losses by their role for this one (RELATED_ROLES): "logits" / "probabilities" /
    # "log_probabilities" (the same loss on that input kind), "root_of" (this value is the square root of that
    # loss's), "root" (the loss whose value is this one's square root), "absolute" / "squared" (the same
    # reduction of |d| / d²), "rescaled" (the same loss in the other scaling: smooth L1 and Huber),
    # "untruncated" (the loss without its truncation)
    related: Mapping[str, str] = field(default_factory=dict)
    mistakes: tuple[str, ...] = ()  # ids in lossapp.mistakes that are about this loss specifically
    conventions: tuple[str, ...] = ()  # ids in lossapp.conventions that are about this loss specifically
    lints: tuple[str, ...] = ()  # checks of lossapp.lint that are about this loss specifically
    # an elementwise loss (l_n depends on pred_n alone): the symbol of its step showing ∂l_n/∂pred_n at every point
    # (lossapp.losses.derivative), checked against autograd of the trace for every element; None for the others
    derivative: str | None = None
    curves: str | None = None  # the article picture that draws this loss (a name of lossapp.plots.CURVE_SETS)
    # its rounding enclosure, written next to its steps (lossapp.interval.IntervalFormula): the loss over every input
    # that rounds to the written ones, in outward-rounded interval arithmetic; no_enclosure(reason) where there is
    # none. None (not declared) fails the registry-wide test.
    enclosure: IntervalFormula | None = None
    # its value alone, for the checker's reruns of the loss with other parameters or inputs (lossapp.variants.Case.run):
    # rerun(pred, target, params, reduction, memo) -> the value `steps` gives, from the same float64 operations in the
    # same order with no trace (bit for bit: each loss's tests hold it to `steps`), the inputs as `prepare` left them;
    # `memo` (RerunMemo) holds the per-element terms of this pred that several reruns of one problem share. None: the
    # reruns run `steps` on a quiet trace.
    rerun: Callable[..., Any] | None = None

    def resolve_params(self, given: dict[str, Any] | None) -> dict[str, Any]:
        """Effective parameters: defaults, overridden by the given ones (validated)."""
        given = dict(given or {})
        check_param_names(self, given)
        return validate_params(given, self.params)

    def input_kind(self, params: Mapping[str, Any] | None = None) -> str:
        """What pred holds under `params`: the value of the loss's `input` parameter where it has one (its
        choices are pred kinds: "logits", "probabilities", "log_probabilities"), else `pred_kind`.

        >>> lookup("cross_entropy").input_kind({"input": "probabilities"})
        'probabilities'
        """
        param = next((p for p in self.params if p.name == INPUT_PARAM), None)
        if param is None:
            return self.pred_kind
        chosen = (params or {}).get(INPUT_PARAM)
        return chosen if chosen in param.choices else param.default

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


@functools.lru_cache(maxsize=1024)
def _key(name: str) -> str:
    """Case-, punctuation- and prefix-insensitive key: 'nn.BCELoss' -> 'bce', 'Smooth-L1' -> 'smoothl1'. (A pure
    function of the text, remembered for the names last asked for: every compute() looks its loss up, and the three
    substitutions cost more than the rest of the lookup.)"""
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
    if name is None or is_word(name, ""):
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
