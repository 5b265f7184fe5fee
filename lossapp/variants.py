"""The variant machinery shared by the mistake and convention catalogues.

A `Variant` is a registered variant computation: an id, a title and an explanation (messages of the
catalogs, `lossapp/locales`), the step
of the worked solution where it departs from the correct computation, `applies(case)` and
`compute(case) -> float | None`. `lossapp.mistakes` registers the known wrong computations, `lossapp.conventions`
other libraries' conventions; `evaluate(case, catalogue)` gives every applicable variant's value on one `Case`.

Variants re-use the library instead of re-implementing a loss: they run a spec's step function on transformed
inputs or parameters (`Case.run`), change the reduction of the correct per-element losses (`Case.rereduce`), or
rescale the correct value where the variant is a pure rescaling. A run of a loss that has a value-only rerun
(`LossSpec.rerun`: the steps' arithmetic, bit for bit, with no trace) goes through it, the per-element terms of this
case's own pred shared by all its runs (`RerunMemo`, dropped by `Case.release_reruns` once the variants are made).

Work several variants need is made once per case and shared (`Case.shared`): a run that only changes
parameters, Σ l and the value under another reduction, the range of pred, the run with the labels swapped, the
overlap losses' per-set sums, the focal terms without α. A variant may give a `bound` on its value found without
a pass over the elements; the checker then skips it for a claim outside that bound.

A variant may also give its `interval`: a sound enclosure of its value over the rounding box of the inputs (DESIGN.md
section 6: `-0.9264` for article 002's BCE is `missing_minus`, whose value at the written inputs is −0.926341). It is
made with the loss's own interval formula (`lossapp.interval`): a run with other parameters, another reduction or
another loss of the same inputs (or of inputs moved by a function that moves no two values apart: a clip, 1 − y) is
enclosed by that spec's formula over the same box (`Case.run_interval`), a variant that is a monotone function of the
correct value maps the correct enclosure (`mapped`, `scaled`), and a variant with a formula of its own evaluates it in
interval arithmetic over the box (`box_interval`). Mistakes and conventions use the same machinery.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from lossapp import interval
from lossapp.i18n import Message, msg, tr
from lossapp.inputs import InputError
from lossapp.inputs.checks import all_binary, known_binary
from lossapp.interval import Box, Enclosure, EnclosureUnavailable, Iv, enclose, target_is_exact
from lossapp.losses.overlap import per_sample_sets, set_dims, set_losses
from lossapp.losses.stable import log_softmax_steps, stable_sigmoid
from lossapp.registry import LOSSES, LossSpec, RerunMemo
from lossapp.result import Result
from lossapp.trace import Trace, blocks, extremes, in_blocks, mapped_extremes, tensor_extremes

SAME_VALUE_RTOL = 1e-12  # a variant that gives the correct value (up to float64 rounding) explains nothing
Interval = tuple[float, float]  # [lo, hi]: every value a variant takes over the inputs' rounding box lies inside


# -- the case: one computed Result, with helpers to run variants cheaply ----------------------------------

@dataclass
class Case:
    """A computed Result and what variants need from it (no reference or device round-trip).

    Work is shared between variants: a run that only changes parameters (not the inputs) is made once per case
    (`run`, `unreduced_of`), and so are Σ l (`total`) and the inputs' range (`pred_range`)."""

    result: Result
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    def shared(self, key: Any, make: Callable[[], Any]) -> Any:
        """A value made once per case and shared by every variant that needs it."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def made(self, key: Any) -> Any:
        """The value shared under `key` where this case has made it already (`shared`), else None; makes nothing."""
        return self._cache.get(key)

    def release_reruns(self) -> None:
        """Drop the full-size terms the reruns shared (LossSpec.rerun's memos, pred in float64, the overlap losses' p, t
        and work buffer: `_overlap_sums`): the variants' values
        are made, and what comes after (the enclosures) should not carry them. A later rerun makes them anew."""
        for key in [k for k in self._cache if k in ("pred64", "target64")
                    or (isinstance(k, tuple)
                        and k[:1] in (("rerun_memo",), ("kl_exp_terms",), ("overlap_work",), ("overlap_inputs",)))]:
            del self._cache[key]

    def work(self, like: torch.Tensor, slot: str = "terms", dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """A buffer of like's shape, shared with this problem's reruns (RerunMemo.buffer), released with them: in the
        "terms" slot a variant fills it whole and reduces it before it returns; in the "target" slot it holds a rerun's
        target (1 − y, a smoothing of y) until that rerun has returned its value."""
        return self.shared(("rerun_memo", self.spec.name), RerunMemo).buffer(like, slot, dtype)

    @property
    def spec(self) -> LossSpec:
        return self.result.spec if self.result.spec is not None else LOSSES[self.result.loss]

    @property
    def name(self) -> str:
        return self.result.loss

    @property
    def params(self) -> dict[str, Any]:
        return self.result.params

    @property
    def reduction(self) -> str:
        return self.result.reduction

    @property
    def pred(self) -> torch.Tensor | None:
        return self.result.pred.values if self.result.pred is not None else None

    @property
    def target(self) -> torch.Tensor | None:
        return self.result.target.values if self.result.target is not None else None

    @property
    def value(self) -> float:
        return self.shared("value", self._value)

    def _value(self) -> float:
        return self.result.scalar if self.result.value.numel() == 1 else math.nan

    @property
    def unreduced(self) -> torch.Tensor | None:
        return self.result.unreduced

    def step_value(self, symbol: str) -> torch.Tensor | None:
        """A step of the correct computation. Only small steps are read this way (a large one is recomputed
        by the Result from its inputs)."""
        try:
            v = self.result.step(symbol).value
        except KeyError:
            return None
        return v if isinstance(v, torch.Tensor) else torch.as_tensor(float(v), dtype=torch.float64)

    def pred64(self) -> torch.Tensor | None:
        """pred in float64 (itself when it is), made once per case and shared by the runs and variants: read-only."""
        return None if self.pred is None else self.shared("pred64", lambda: self.pred.double())

    def target64(self) -> torch.Tensor | None:
        """The target in float64 (itself when it is), made once per case and shared: read-only."""
        return None if self.target is None else self.shared("target64", lambda: self.target.double())

    def _range(self, key: str, t: torch.Tensor | None) -> tuple[float, float] | None:
        """(min, max) of a non-empty floating-point tensor (`lossapp.trace.extremes`), shared under `key`; else None."""
        def make() -> tuple[float, float] | None:
            if t is None or not t.is_floating_point() or t.numel() == 0:
                return None
            return extremes(t)
        return self.shared(key, make)

    def target_range(self) -> tuple[float, float] | None:
        """(min, max) of a floating-point target, shared as `pred_range`."""
        return self._range("target_range", self.target)

    def param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    def pred_range(self) -> tuple[float, float] | None:
        """(min, max) of a floating-point pred, shared by the applicability tests; read from the user's narrower
        tensor where pred is held so (TensorInput.narrow: the same numbers, and no float64 copy made for the range)."""
        given = self.result.pred
        narrow = None if given is None else given.narrow
        return self._range("pred_range", self.pred if narrow is None else narrow)

    def run(self, loss: str | None = None, *, pred: torch.Tensor | None = None, target: Any = "same",
            reduction: str | None = None, prepare: bool = True, **overrides: Any) -> float | None:
        """The value of `loss` (default: this case's) on (transformed) inputs, with parameters overridden
        (already-parsed values), through the spec's float64 step function only. None when the variant does
        not apply to these inputs (the spec rejects them, or the value is not one finite number). A run on
        this case's own inputs with plain parameter values is made once and shared."""
        same_inputs = pred is None and isinstance(target, str) and target == "same"
        if same_inputs and all(_plain(v) for v in overrides.values()):
            key = ("run", loss, reduction, prepare, tuple(sorted(overrides.items())))
            return self.shared(key, lambda: self._run(loss, None, "same", reduction, prepare, overrides))
        return self._run(loss, pred, target, reduction, prepare, overrides)

    def _run(self, loss: str | None, pred: torch.Tensor | None, target: Any, reduction: str | None, prepare: bool,
             overrides: dict[str, Any]) -> float | None:
        spec = LOSSES[loss] if loss else self.spec
        params = self._params_for(spec, overrides)
        if params is None:
            return None
        own_pred = pred is None
        x = self.pred if own_pred else pred
        t = self.target if isinstance(target, str) and target == "same" else target
        red = reduction or self.reduction
        if red not in spec.reductions or x is None:
            return None
        if x.is_floating_point():
            x = self.pred64() if own_pred else x.double()
        trace = Trace(transient=True, quiet=True)  # only the value is read: no step holds its tensor, none is shown
        try:
            with torch.no_grad():
                given = x
                if prepare and spec.prepare is not None:
                    x, t = spec.prepare(x, t, params, trace)
                    x = x.double() if x.is_floating_point() else x
                if spec.rerun is None:
                    value = spec.steps(trace, x, t, params, red)
                else:  # the value alone, from the terms shared with this problem's other reruns (LossSpec.rerun)
                    own = own_pred and x is given  # (as prepared: the memo's terms are of this very pred)
                    value = spec.rerun(x, t, params, red,
                                       self.shared(("rerun_memo", spec.name), RerunMemo) if own else RerunMemo())
        except (InputError, RuntimeError, ValueError, IndexError, KeyError, TypeError, ZeroDivisionError):
            return None
        return _scalar(value)

    def _params_for(self, spec: LossSpec, overrides: dict[str, Any]) -> dict[str, Any] | None:
        """This case's parameters as `spec` takes them (its own, or the shared ones of another loss), with the
        overrides; None for a metric from counts (nothing to rerun) or an override the spec does not know."""
        if spec.kind != "loss":
            return None
        if spec.name == self.name:
            params = dict(self.params)
        else:
            params = spec.resolve_params({})
            params.update({k: v for k, v in self.params.items() if k in params and k not in ("reduction",)})
        if any(k not in params for k in overrides):
            return None
        params.update(overrides)
        return params

    # -- enclosures over the inputs' rounding box -------------------------------------------------------------

    @property
    def enclosure(self) -> Enclosure:
        """The correct value's enclosure over the inputs' rounding box (lossapp.interval.enclose), made once."""
        return self.shared("enclosure", lambda: enclose(self.result, self.interval_memo))

    @property
    def interval_memo(self) -> dict[Any, Any]:
        """What this case's enclosures share (lossapp.interval.Box.shared): per-element terms that the correct
        value's enclosure and its variants' form alike from the same inputs (the focal terms without α, the
        overlap losses' per-set sums), made once. A formula shares only terms that several enclosures of one problem
        reuse: a large term held for one use makes the steps after it slower (their fresh memory is touched anew)."""
        return self.shared("interval_memo", dict)

    @property
    def interval(self) -> Interval | None:
        """The correct value's enclosure as (lo, hi); None where it is not established."""
        iv = self.enclosure.interval
        return None if iv is None else (iv[0], iv[1])

    def run_interval(self, loss: str | None = None, *, pred: torch.Tensor | None = None, target: Any = "same",
                     reduction: str | None = None, value: float | None = None, **overrides: Any) -> Interval | None:
        """The enclosure, over this case's rounding box, of `run(loss, pred=pred, target=target, reduction=reduction,
        **overrides)`: the loss's own interval formula with those parameters, on the same inputs and decimals.
        A `pred` or `target` given instead must be a function of it, entry by entry, that moves no two values further
        apart (1 − y, Keras' smoothing y·(1 − ε) + ε/2, a clip to [ε, 1 − ε]): it maps the input's rounding box into
        the box of the new values with the same decimals. A target of labels (exact) stays exact, so any function of
        it, of any shape (a one-hot of class indices), is exact too. None where it is not established: no formula, an input the formula does not cover, or an
        enclosure that misses the run's own value (the guard of lossapp.interval.enclose). `value`: the run's value
        where the caller has it from a cheaper computation (the guard then holds the enclosure to it, and the run is not
        made)."""
        def make() -> Interval | None:
            spec = LOSSES[loss] if loss else self.spec
            params = self._params_for(spec, overrides)
            run = self.run(loss, pred=pred, target=target, reduction=reduction, **overrides) if value is None else value
            if params is None or run is None or self.result.pred is None:
                return None
            given_pred = self.result.pred
            if pred is not None:
                given_pred = type(given_pred)(pred, given_pred.decimals)
            same = isinstance(target, str) and target == "same"
            given = self.result.target
            if not same and given is not None:
                exact = self.shared("target_exact", lambda: target_is_exact(self.spec.target_kind, given.values))
                given = type(given)(target, None if exact else given.decimals)
            view = _RunView(spec, given_pred, given, params, reduction or self.reduction,
                            torch.tensor(run, dtype=torch.float64))
            # terms are shared only between enclosures of this case's own inputs: those of other inputs are made once
            # (held terms of their own would cost more in the first touch of fresh memory than they save)
            own = (pred is None or pred is self.pred) and (same or target is self.target)
            iv = enclose(view, self.interval_memo if own else None).interval
            return None if iv is None else (iv[0], iv[1])
        if not (pred is None and isinstance(target, str) and all(_plain(v) for v in overrides.values())):
            return make()
        return self.shared(("run_interval", loss, reduction, tuple(sorted(overrides.items()))), make)

    @property
    def box(self) -> Box:
        """The inputs' rounding box as a loss's interval formula sees it (lossapp.interval.Box), for a variant whose
        enclosure is its own formula in interval arithmetic; made once."""
        def make() -> Box:
            pred, target = self.result.pred, self.result.target
            return Box(None if pred is None else pred.values.double(), None if target is None else target.values,
                       decimals_of(pred), decimals_of(target), dict(self.params), self.reduction,
                       self.spec.target_kind, self.value, self.interval_memo)
        return self.shared("box", make)

    def reduced_interval(self, reduction: str, value: float | None = None) -> Interval | None:
        """run_interval(reduction=reduction) (the enclosure of `reduced_as(reduction)`). Where the value is Σ l
        divided by a count (1, N, every element or the targets kept: exact, the same at every point of the box) and
        so is the other reduction, it is the correct enclosure rescaled: Σ l / n' = value · den / n' at every point of
        the box, so [lo, hi] · den / n' (each operation rounded outward) encloses it, with no pass over the elements.
        Else the other reduction's own enclosure (`value`: the value under that reduction where the caller has it
        from a cheaper computation, as for run_interval)."""
        counts = self._counts()
        den = self.denominator()
        if counts is not None and den == counts.get(self.reduction) and counts.get(reduction) \
                and self.interval is not None:
            iv = self.interval if den == 1 else scaled(self.interval, den)
            n = counts[reduction]
            return iv if n == 1 else mapped(iv, lambda v: v / n)
        return self.run_interval(reduction=reduction, value=value)

    def _counts(self) -> dict[str, float] | None:
        """What each reduction divides Σ l by, where that is a count of elements (a plain value with no weights or
        avg_factor); None otherwise. With ignore_index (class-index targets, exact) the mean divides by the targets
        kept, and only sum is also a count (a mean over every element is not what that loss's mean means)."""
        u = self.unreduced
        if u is None or not self.plain or any(self.param(k) is not None for k in ("weight", "avg_factor")):
            return None
        if "ignore_index" in self.params:
            t = self.target
            if t is None or t.is_floating_point() or t.shape != u.shape:
                return None
            return {"sum": 1.0, "mean": float((t != int(self.param("ignore_index"))).sum())}
        return {"sum": 1.0, "batchmean": float(u.shape[0] if u.dim() else 1), "mean": float(u.numel())}

    def denominator(self) -> float | None:
        """What the correct reduction divided Σ l by: 1 for sum, the trace's 'den' step (one number) for
        mean/batchmean."""
        if self.reduction == "sum":
            return 1.0
        if self.reduction in ("mean", "batchmean"):
            den = self.shared("den", lambda: self.step_value("den"))
            return float(den) if den is not None and den.numel() == 1 else None
        return None

    @property
    def total(self) -> float | None:
        """Σ l over the correct per-element losses (None without them)."""
        u = self.unreduced
        return self.shared("total", lambda: None if u is None else float(u.double().sum()))

    @property
    def plain(self) -> bool:
        """Whether the value is exactly Σ l / den (the reduction is the last step, as for most losses; not
        for RMSE's root or the combined losses)."""
        den, total = self.denominator(), self.total
        return den is not None and den != 0 and total is not None and total / den == self.value

    def reduced_as(self, reduction: str) -> float | None:
        """The value under another reduction: from Σ l where the value is plain (sum: Σ l; batchmean: Σ l / N;
        mean, for losses whose mean divides by every element: Σ l / n), else a run."""
        u = self.unreduced
        # avg_factor (mmdetection's) only goes with a mean: a run says whether the other reduction is refused
        if self.plain and u is not None and self.param("avg_factor") is None and (reduction != "mean" or not _weighted(self)):
            n = {"sum": 1, "batchmean": u.shape[0] if u.dim() else 1, "mean": u.numel()}.get(reduction)
            if n:
                return finite(self.total / n)
        return self.run(reduction=reduction)

    def rereduce(self, unreduced: torch.Tensor | None) -> float | None:
        """Σ unreduced divided as the correct computation divides (same denominator)."""
        den = self.denominator()
        if unreduced is None or den is None or den == 0:
            return None
        return finite(float(unreduced.double().sum()) / den)

    def unreduced_of(self, **overrides: Any) -> torch.Tensor | None:
        """Per-element losses of this spec with parameters overridden (reduction none); made once per case."""
        key = ("unreduced", tuple(sorted(overrides.items()))) if all(_plain(v) for v in overrides.values()) else None
        if key is None:
            return self._unreduced_of(overrides)
        return self.shared(key, lambda: self._unreduced_of(overrides))

    def _unreduced_of(self, overrides: dict[str, Any]) -> torch.Tensor | None:
        spec = self.spec
        if "none" not in spec.reductions or self.pred is None:
            return None
        params = dict(self.params)
        params.update(overrides)
        trace = Trace(transient=True, quiet=True)  # only the terms are read: no step holds its tensor, none is shown
        try:
            with torch.no_grad():
                x, t = self.pred.double(), self.target
                if spec.prepare is not None:
                    x, t = spec.prepare(x, t, params, trace)
                spec.steps(trace, x, t, params, "none")
        except (InputError, RuntimeError, ValueError, IndexError, KeyError, TypeError):
            return None
        return trace.unreduced.detach() if trace.unreduced is not None else None

    def rerun(self, **overrides: Any) -> float | None:
        """run(**overrides) for parameters that change each term but not the denominator (focal α, γ): from the
        per-element losses (shared with the variants that reweight them) where the value is plain."""
        if self.plain:
            return self.rereduce(self.unreduced_of(**overrides))
        return self.run(**overrides)


@dataclass
class _RunView:
    """What lossapp.interval.enclose reads of a Result, for a variant's run on the same inputs."""

    spec: LossSpec
    pred: Any
    target: Any
    params: dict[str, Any]
    reduction: str
    value: torch.Tensor

    @property
    def scalar(self) -> float:
        return self.value.item()


def box_interval(c: Case, formula: Callable[[Box], Iv]) -> Interval | None:
    """A variant's enclosure from its own formula in interval arithmetic (lossapp.interval.Iv) over this case's
    rounding box (`Case.box`), one number; None where the formula does not cover these inputs."""
    try:
        with torch.no_grad():
            iv = formula(c.box)
    except EnclosureUnavailable:
        return None
    if iv.lo.numel() != 1:
        return None
    lo, hi = iv.item()
    return None if math.isnan(lo) or math.isnan(hi) else (lo, hi)


def widened(lo: float, hi: float) -> Interval | None:
    """[lo, hi] moved one float step outward each way (a float64 operation on both bounds rounds by at most
    half a step): None where a bound is NaN."""
    if math.isnan(lo) or math.isnan(hi):
        return None
    return math.nextafter(min(lo, hi), -math.inf), math.nextafter(max(lo, hi), math.inf)


def scaled(interval: Interval | None, factor: float) -> Interval | None:
    """factor · [lo, hi] (either sign), rounded outward."""
    if interval is None or not math.isfinite(factor):
        return None
    return widened(interval[0] * factor, interval[1] * factor)


def mapped(interval: Interval | None, function: Callable[[float], float], increasing: bool = True) -> Interval | None:
    """A monotone, correctly rounded function (1 − v, √v) of every value in [lo, hi], rounded outward."""
    if interval is None:
        return None
    lo, hi = function(interval[0]), function(interval[1])
    return widened(lo, hi) if increasing else widened(hi, lo)


def decimals_of(given: Any) -> Any:
    """An input's decimals where they match its shape (else None: its values are taken as given)."""
    if given is None or given.decimals is None:
        return None
    decimals = np.asarray(given.decimals)
    return decimals if decimals.shape == tuple(given.values.shape) else None


def _plain(value: Any) -> bool:
    """A parameter value a shared run can be keyed by (not a tensor)."""
    return value is None or isinstance(value, bool | int | float | str)


def _weighted(c: Case) -> bool:
    """Whether the mean of this case divides by weights or counts rather than by every element."""
    return any(c.param(k) is not None for k in ("weight", "avg_factor")) or "ignore_index" in c.params


def finite(v: float) -> float | None:
    """v, or None where it is not finite."""
    return v if math.isfinite(v) else None


def _scalar(value: Any) -> float | None:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            return None
        value = float(value.detach().reshape(-1)[0])
    try:
        return finite(float(value))
    except (TypeError, ValueError):
        return None


# -- variants ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    """A registered variant computation (a mistake, or another library's convention)."""

    id: str
    title: Message
    explanation: Message
    step: str  # the step (symbol or part) where it departs from the correct computation
    applies: Callable[[Case], bool]
    compute: Callable[[Case], float | None]
    library: Message | str = ""  # a convention's library
    named: Message | None = None  # a convention's title naming its library (the title itself when it does)
    # optional: an interval sure to contain the value, found without a pass over every element (None when
    # unknown); a claim outside it is not reproduced, so the variant need not be computed for that claim. A variant
    # that also has an `interval` gives a bound on its value over the whole rounding box (so on its interval too)
    bound: Callable[[Case], tuple[float, float] | None] | None = None
    # optional: a sound enclosure of the variant's value over the inputs' rounding box (None where not
    # established); a claim that rounds from a value inside it is reproduced by the variant with the inputs rounded
    interval: Callable[[Case], Interval | None] | None = None


@dataclass
class VariantValue:
    """A variant evaluated on one case; `interval` is set where it reproduces a claim only through the rounding
    of the inputs (the value at the written inputs does not round to it, a value in its enclosure does)."""

    variant: Variant
    value: float
    interval: Interval | None = None

    @property
    def id(self) -> str:
        return self.variant.id

    def to_dict(self) -> dict[str, Any]:
        v = self.variant
        out = {"id": v.id, "title": v.title, "title_zh": v.title.render("zh"), "value": self.value,
               "explanation": v.explanation, "explanation_zh": v.explanation.render("zh"), "step": v.step,
               "interval": None if self.interval is None else list(self.interval)}
        if v.library:
            out["library"] = v.library
            out["library_zh"] = tr(v.library, "zh")
        return out


def register(catalogue: dict[str, Variant], variant: Variant) -> Variant:
    """Add a variant to a catalogue (its id must be new there)."""
    if variant.id in catalogue:
        raise ValueError(f"variant {variant.id!r} registered twice")
    catalogue[variant.id] = variant
    return variant


def variant_texts(table: str, variant_id: str, *names: str) -> list[Message]:
    """The catalog messages `<table>.<key>.<name>` of a variant (its key: the id with '-' and '.' as '_')."""
    key = re.sub(r"[^a-z0-9_]", "_", variant_id.lower())
    return [msg(f"{table}.{key}.{name}") for name in names]


Reachable = Callable[[float, float], bool]  # whether a value in [lo, hi] could reproduce the claim being checked


def evaluate(case: Case, catalogue: dict[str, Variant], *, include_same: bool = False,
             reachable: Reachable | None = None) -> list[VariantValue]:
    """Every applicable variant of the catalogue, with its value on this case (variants equal to the correct value are left out
    unless include_same). With `reachable(lo, hi)` (whether a value in [lo, hi] could reproduce the claim being
    checked), a variant whose `bound` rules the claim out is not computed: it could not be listed for it."""
    out = []
    true = case.value
    for variant in catalogue.values():
        try:
            if not variant.applies(case):
                continue
            if reachable is not None and variant.bound is not None:
                bound = variant.bound(case)
                if bound is not None and not reachable(*bound):
                    continue
            value = variant_value(case, variant)
        except (InputError, RuntimeError, ValueError, IndexError, KeyError, TypeError, ZeroDivisionError):
            continue
        if value is None or not math.isfinite(value):
            continue
        if not include_same and math.isfinite(true) and abs(value - true) <= SAME_VALUE_RTOL * max(1.0, abs(true)):
            continue
        out.append(VariantValue(variant, float(value)))
    return out


def interval_of(case: Case, found: VariantValue) -> Interval | None:
    """The variant's enclosure over the inputs' rounding box (`Variant.interval`), made once per case; None where
    the variant has none, it is not established, or it misses the variant's own value at the written inputs (then it
    is no enclosure of this variant: a guard like lossapp.interval.enclose's)."""
    variant = found.variant
    if variant.interval is None:
        return None

    def make() -> Interval | None:
        try:
            iv = variant.interval(case)
        except (InputError, RuntimeError, ValueError, IndexError, KeyError, TypeError, ZeroDivisionError):
            return None
        if iv is None or math.isnan(iv[0]) or math.isnan(iv[1]):
            return None
        slack = 1e-9 * max(1.0, abs(found.value))
        return iv if iv[0] - slack <= found.value <= iv[1] + slack else None
    return case.shared(("variant_interval", variant.id), make)


# -- shared by both catalogues ---------------------------------------------------------------------------


def kl_swapped_terms(c: Case, keras_eps: float) -> torch.Tensor | None:
    """The swapped direction's terms of `kl_exp_terms`: from the pass made with Keras' row sums where this case made it
    (Keras' convention is evaluated before the mistakes), else from a pass that forms them alone (where Keras' value was
    not needed: its bound ruled the claim out; the same operations on the same operands, so the same terms)."""
    made = c.made(_kl_exp_terms_key(keras_eps, keras=True))
    return made[1] if made is not None else kl_exp_terms(c, keras_eps, keras=False)[1]


def _kl_exp_terms_key(keras_eps: float, keras: bool) -> tuple[str, float, bool]:
    """The key `kl_exp_terms` shares its pass under (Case.shared)."""
    return "kl_exp_terms", keras_eps, keras


def kl_exp_terms(c: Case, keras_eps: float, *, keras: bool = True) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The KL divergence variants that need q = e^x of its pred x = log q, from one pass over the elements (made once
    per case; read only): (Keras' KLDivergence per row: Σ over the last dimension of p'·log(p' / clip(q, keras_eps, 1)),
    p' the target clipped to [keras_eps, 1], where the spec lists the convention "keras_kl" and the reduction is mean
    or batchmean; the swapped direction's terms q log q − q·log p, where the spec lists the mistake
    "kl_direction_swapped", pred is log q (base e), the reduction one number, every p > 0 and every x > −700 (so
    e^x > 1e-304 > 0 and q log q is xlogx's product without its test)); None for a part that does not apply or when the
    inputs are not contiguous float64 tensors of one shape (the variant then computes its own).

    CHUNK elements at a time on the CPU (a multiple of any SIMD width: each block's elements take the same vectorised
    path as in one pass over the whole tensor; on an accelerator, one block): q = e^x in a buffer of a block's size (in cache), then the swapped terms from q,
    then Keras' clip of q, p' / q, its log and product; every temporary a block's size but the two results (one tensor
    of the inputs' shape each), the same elementwise operations on the same operands as on the whole tensors, and the
    row sums the same reduction of the same tensor, so the same values, bit for bit, with e^x formed once for both.
    keras=False: the swapped terms alone (Keras' part None), for `kl_swapped_terms`."""
    wanted = keras

    def make() -> tuple[torch.Tensor | None, torch.Tensor | None]:
        x, t = c.pred64(), c.target64()
        if x is None or t is None or c.param("log_target") or x.dim() == 0 or not x.numel() \
                or x.dtype != torch.float64 or t.dtype != torch.float64 or x.shape != t.shape \
                or not (x.is_contiguous() and t.is_contiguous()) or not scalar_value(c):
            return None, None
        keras = wanted and "keras_kl" in c.spec.conventions and c.reduction in ("mean", "batchmean")
        r, extent = c.pred_range(), c.target_range()
        swapped = ("kl_direction_swapped" in c.spec.mistakes and c.param("input", "log_probabilities") == "log_probabilities"
                   and c.param("log_base", "e") == "e" and c.reduction in ("sum", "mean", "batchmean")
                   and r is not None and r[0] > -700.0 and extent is not None and extent[0] > 0)
        if not (keras or swapped):
            return None, None
        p = t
        if keras and not (keras_eps <= extent[0] and extent[1] <= 1.0):  # (a NaN range clips too)
            p = t.clamp(keras_eps, 1.0)
        ratio = torch.empty_like(x) if keras else None  # p'·log(p' / clip(q)), summed per row at the end
        terms = torch.empty_like(x) if swapped else None
        xs, ts, ps = x.view(-1), t.view(-1), p.reshape(-1)
        size, slices = blocks(xs.numel(), x.device)  # (an accelerator: one block)
        q_buffer, a_buffer, b_buffer = torch.empty(3, size, dtype=x.dtype, device=x.device)
        for b in slices:
            k = b.stop - b.start
            q = torch.exp(xs[b], out=q_buffer[:k])
            if terms is not None:
                q_log_q = torch.log(q, out=a_buffer[:k]).mul_(q)
                log_p = torch.log(ts[b], out=b_buffer[:k])
                torch.addcmul(q_log_q, q, log_p, value=-1.0, out=terms.view(-1)[b])
            if ratio is not None:
                q.clamp_(keras_eps, 1.0)
                torch.div(ps[b], q, out=ratio.view(-1)[b]).log_().mul_(ps[b])
        return None if ratio is None else ratio.sum(-1), terms
    return c.shared(_kl_exp_terms_key(keras_eps, keras), make)


def scalar_value(case: Case) -> bool:
    """One number (±inf allowed: a clipping convention may be what explains a finite claim)."""
    return case.reduction != "none" and not math.isnan(case.value)



def class_dim(x: torch.Tensor) -> int:
    """The class dimension of a pred: 0 for one sample's scores, else 1."""
    return 0 if x.dim() == 1 else 1


def softmax(x: torch.Tensor, dim: int) -> torch.Tensor:
    """softmax along dim, as the losses form it (exp of the log-softmax with the max shift)."""
    return torch.exp(log_softmax_steps(Trace(), x.double(), dim))


def _activate(x: torch.Tensor, activation: str) -> torch.Tensor | None:
    """sigmoid, or softmax over dim 1, of x as the losses form them (None for activation none)."""
    if activation == "sigmoid":
        return stable_sigmoid(x.double())
    if activation == "softmax":
        return softmax(x, 1)
    return None


def activated(c: Case) -> torch.Tensor | None:
    """The probabilities the correct computation formed from the logits (softmax or sigmoid), recomputed from
    pred rather than read from the (possibly not held) step 'p', or σ(pred) as a rerun of it kept it
    (RerunMemo.SIGMOID; the same bits). Read-only: it may be shared."""
    x = c.pred
    if x is None or not x.is_floating_point():
        return None
    memo = c.made(("rerun_memo", c.spec.name))  # σ(x) that a rerun of this pred formed (RerunMemo.SIGMOID)
    if memo is not None and RerunMemo.SIGMOID in memo.pred and \
            (c.spec.activation or c.param("activation", "none")) == "sigmoid":
        return memo.pred[RerunMemo.SIGMOID]
    if c.spec.activation == "softmax":
        return softmax(x, class_dim(x))
    return _activate(x, c.spec.activation or c.param("activation", "none"))


def labels_swapped(c: Case) -> float | None:
    """The loss with every target y replaced by 1 − y (shared with the label-smoothing convention)."""
    t = c.target
    if t is None or not t.is_floating_point():
        return None
    def run() -> float | None:
        # 1 − y in the case's target buffer, free again once the run has its value; of 0/1 labels, 0/1 labels again
        # (known without a pass)
        swapped = mapped_extremes(_one_minus(t, out=c.work(t, "target", t.dtype)), t, _one_minus)
        return c.run(target=known_binary(swapped) if all_binary(t) else swapped)
    return c.shared("labels_swapped", run)

def labels_swapped_interval(c: Case, value: float | None = None) -> Interval | None:
    """The enclosure of `labels_swapped` over the box (1 − y is written to the decimals of y), made once per case
    (shared with the label-smoothing convention), its guard held to `value` (default: `labels_swapped`, the shared
    run)."""
    t = c.target
    if t is None or not t.is_floating_point():
        return None
    return c.shared("labels_swapped_interval", lambda: c.run_interval(
        target=mapped_extremes(_one_minus(t), t, _one_minus), value=labels_swapped(c) if value is None else value))


def _one_minus(y: torch.Tensor, *, out: torch.Tensor | None = None) -> torch.Tensor:
    """1 − y (−y + 1: the same difference, rounded once; the same bits as 1.0 − y), in `out` where given (y's shape
    and dtype: no allocation), else in a new tensor; also the map for lossapp.trace.mapped_extremes."""
    return torch.neg(y, out=out).add_(1)


def point_box(c: Case) -> bool:
    """Neither input's decimals are known: the rounding box is a point, so a variant's interval encloses its value
    at the written inputs alone (a bound on that value holds on the interval too)."""
    given_pred, given_target = c.result.pred, c.result.target
    return (given_pred is not None and given_pred.decimals is None
            and (given_target is None or given_target.decimals is None))


def logit_label_sums(c: Case) -> tuple[float, float, float, float] | None:
    """(n, Σ x, Σ y·x, max |x|) of a float64 pred x and a floating-point target y in [0, 1] of the same shape (x finite),
    made once per case, in three passes with no full-size buffer but a float64 copy of a narrower y; None otherwise."""
    def make() -> tuple[float, float, float, float] | None:
        x, t, r = c.pred, c.target, c.pred_range()
        if x is None or t is None or r is None or not t.is_floating_point() or x.shape != t.shape \
                or not all(math.isfinite(v) for v in r):
            return None
        t_lo, t_hi = tensor_extremes(t, one_pass=True)
        if not (t_lo >= 0.0 and t_hi <= 1.0):
            return None
        x64 = c.pred64().reshape(-1)
        return (float(x.numel()), float(x64.sum()), float(torch.dot(t.reshape(-1).double(), x64)),
                max(abs(r[0]), abs(r[1])))
    return c.shared("logit_label_sums", make)


def labels_swapped_bound(c: Case) -> tuple[float, float] | None:
    """A bound on `labels_swapped` for a logistic loss (LossSpec.logistic: bce_with_logits; no weight, no pos_weight, mean or sum, a point box: see
    `point_box`), from the correct value and Σ x, Σ y·x (`logit_label_sums`), with no pass over the terms.

    Proof. l(x, y) = −[y·log σ(x) + (1 − y)·log σ(−x)] and log σ(x) − log σ(−x) = x, so l(x, 1 − y) − l(x, y) =
    (2y − 1)·x exactly, for every element: the exact swapped sum is Σ l + 2·Σ y·x − Σ x (a mean: that over n). Float
    errors: with y ∈ [0, 1] both products in a term are ≤ 0 (log σ ≤ 0), so each computed term (correct or swapped)
    is within 16u relative of the exact one, and a computed sum of n terms ≥ 0 within (n − 1)·u/(1 − (n − 1)·u)
    relative; the correct sum is ≤ S = Σ l, the swapped one ≤ S + Σ|x| ≤ S + n·M (M = max |x|); Σ x and Σ y·x are within
    1.01·n·u·n·M of the exact ones. So every error is within K·(S + 3·n·M) with K = 1e−9 + 4·(n + 16)·u; the bound is
    the exact identity evaluated on the computed sums, widened by 2·K·(S + 3·n·M) (and 1e−300)."""
    spec = c.spec
    if not spec.logistic or c.param("weight") is not None or c.param("pos_weight") is not None \
            or c.reduction not in ("mean", "sum") or not point_box(c) or not math.isfinite(c.value):
        return None
    sums = logit_label_sums(c)
    if sums is None:
        return None
    n, sx, syx, m = sums
    scale = n if c.reduction == "mean" else 1.0
    total = c.value * scale  # Σ l (the mean times n: within a rounding of it)
    swapped = total + 2.0 * syx - sx
    k = 1e-9 + 4 * (n + 16) * U
    slack = 2 * k * (abs(total) + 3 * n * m) + 1e-300
    return (swapped - slack) / scale, (swapped + slack) / scale


def variant_value(c: Case, variant: Variant) -> float | None:
    """The variant's value on this case, made once per case (what `evaluate` lists)."""
    return c.shared(("variant", variant.id), lambda: variant.compute(c))


def focal_alpha(c: Case) -> float:
    """The sigmoid focal loss's α (torchvision's default 0.25; negative: off)."""
    return float(c.param("alpha", 0.25))


def focal_base(c: Case) -> torch.Tensor | None:
    """The sigmoid focal terms without α (weight included), shared by the variants that reweight them: the
    problem's own terms divided by α_t = α·y + (1 − α)·(1 − y) where 0 < α < 1 (α_t is then never 0), else a
    run with α off."""
    def make() -> torch.Tensor | None:
        alpha, u, t = focal_alpha(c), c.unreduced, c.target
        if 0 < alpha < 1 and u is not None and t is not None and u.shape == t.shape:
            y = t.double()

            def block(out: torch.Tensor, u: torch.Tensor, y: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> None:
                torch.mul(y, alpha, out=a)  # α·y
                torch.neg(y, out=b).add_(1).mul_(1 - alpha)  # (1 − α)·(1 − y)
                torch.div(u, a.add_(b), out=out)
            base = torch.empty_like(u, dtype=torch.float64)
            return base if u.dtype == torch.float64 and in_blocks(base, block, u, y, scratch=2) else \
                u / (alpha * y + (1 - alpha) * (1 - y))
        return c.unreduced_of(alpha=-1.0)
    return c.shared("focal_base", make)


def no_alpha(c: Case) -> float | None:
    """The focal loss with α_t = 1, made once per case (shared by the mistake, Keras' and smp's conventions and their
    enclosures' guard)."""
    return c.shared("no_alpha", lambda: _no_alpha(c))


def _no_alpha(c: Case) -> float | None:
    if c.spec.activation == "sigmoid" and c.plain:  # the sigmoid focal loss
        return c.rereduce(focal_base(c))
    if c.spec.parts and c.spec.focal:  # λ_dice·L_dice + λ_focal·L_focal: only the focal part changes
        value = _parts_with_focal_base(c)
        if value is not None:
            return value
    return c.rerun(alpha=None if c.spec.activation == "softmax" else -1.0)


FOCAL_ALPHA_VARIANTS = ("no_alpha", "alpha_on_both_classes", "alpha_swapped")


def focal_alpha_bound(c: Case, variant: str) -> tuple[float, float] | None:
    """A bound on a sigmoid focal α variant (`variant`: "no_alpha", α_t = 1; "alpha_on_both_classes", α_t = α;
    "alpha_swapped", α_t = (1 − α)·y + α·(1 − y)) and on its enclosure, from two sums of the correct terms (Σ l and
    Σ y·l: `_focal_label_sums`) instead of the terms without α (`focal_base`) they are made from. Where: a loss whose spec
    says the proof's premises hold (LossSpec.alpha_label_sums: the sigmoid focal loss itself) with 0 < α < 1, no weight,
    0/1 labels of pred's shape, a value Σ l / den (Case.plain; mean or sum) and a point box of more than
    DECIMALS_MAX_ELEMENTS elements whose enclosures are the loss's point bound (what `lossapp.interval.enclose` gives
    the variants' runs); None elsewhere.

    Proof. The computed correct terms l̂ are ≥ 0 (0/1 labels: α_t ∈ {α, 1 − α}; p_t ∈ {p, fl(1 − p)} ⊂ [0, 1], so
    (1 − p_t)^γ ≥ 0; ce is x·(s − y) or x·s − x·y, each ≥ 0 exactly for y ∈ {0, 1} and s = [x ≥ 0], plus log1p ≥ 0, or
    −(y·log p + (1 − y)·log(1 − p)) with both products ≤ 0). focal_base forms b̂ = fl(l̂/α̂_y) with α̂_1 = α, α̂_0 =
    a' = fl(1 − α) exactly (0/1 labels), and a variant's term is fl(k_y·b̂) (k = (1, 1), (α, α), (a', α) for y = 1, 0;
    1·b̂ exact), so it is r_y·l̂·(1 + η), r_y = k_y/α̂_y, |η| ≤ 2u + u², and its value V = fl(fl(Σ terms)/den). With
    A_y = Σ_{labels y} l̂ (exact sums, S = A_1 + A_0), the exact Σ terms is T* (1 ± 2.01u), T* = r_1·A_1 + r_0·A_0, and a
    float sum of n terms ≥ 0 errs by γ = (n − 1)u/(1 − (n − 1)u) relative (any order, Higham §4.2), the division by
    u: |V − T*/den| ≤ (γ + 3.02u)·r·S/den, r = max r_y. Σ y·l̂ (each product exact) and Σ l̂ are within γ·S of A_1 and S,
    so Â_1 and Â_0 = fl(Σ l̂ − Â_1) are within (2γ + 2u)·S of A_1 and A_0, and E = r̂_1·Â_1 + r̂_0·Â_0 (r̂ the rounded r,
    three more roundings) within r·S·(4γ + 10u) of T*. S ≤ 1.01·Σ̂ l̂ (γ ≤ 0.001), so
    |V − E/den| ≤ 1.01·(5γ + 14u)·r·Σ̂ l̂/den ≤ K·r·Σ̂ l̂/den, K = 1e−9 + 8(n + 16)u (γ ≤ 1.01(n − 1)u): the value lies in
    [L, H] = E/den ± that (each end within 1e−9 relative of its float evaluation: covered by K's 1e−9). The variant's
    enclosure is [V ∓ e(V)] rounded outward, e(v) = (c0 + c1·|v|)(1 + 2⁻⁴⁰) the loss's point bound (the same c0, c1 for
    every α in [0, 1] or off: focal_point_error reads γ, the ranges, n and the reduction), so it lies in [L, H] ± e(M),
    M = max(|L|, |H|); α on both classes takes α times the enclosure without α: in α·[L, H] ± α·e(M) ⊆ that ± e(M).
    The result is the hull of those, widened by 1e−12 relative (a few more roundings) and 1e−300. (None, never an
    error, where anything fails: the checker leaves out a variant whose bound raises.)"""
    if variant not in FOCAL_ALPHA_VARIANTS:
        raise ValueError(variant)
    try:
        return _focal_alpha_bound(c, variant)
    except (InputError, RuntimeError, ValueError, IndexError, KeyError, TypeError, ZeroDivisionError):
        return None


def _focal_alpha_bound(c: Case, variant: str) -> tuple[float, float] | None:
    spec, t, u = c.spec, c.target, c.unreduced
    if not spec.alpha_label_sums or isinstance(c.param("alpha"), torch.Tensor):
        return None
    alpha = focal_alpha(c)
    if not 0 < alpha < 1 or c.param("weight") is not None or c.reduction not in ("mean", "sum") or t is None or u is None \
            or not t.is_floating_point() or u.shape != t.shape or not math.isfinite(c.value) or not c.plain:
        return None
    den = c.denominator()
    pb = _focal_point_bound(c)
    sums = _focal_label_sums(c)
    if den is None or not (math.isfinite(den) and den > 0) or pb is None or sums is None:
        return None
    n, total, positive = sums
    a_prime = 1 - alpha
    r = {"no_alpha": (1 / alpha, 1 / a_prime), "alpha_on_both_classes": (1.0, alpha / a_prime),
         "alpha_swapped": (a_prime / alpha, alpha / a_prime)}

    def value_bound(name: str) -> tuple[float, float]:
        r1, r0 = r[name]
        estimate = (r1 * positive + r0 * (total - positive)) / den
        slack = (1e-9 + 8 * (n + 16) * U) * max(r1, r0) * abs(total) / den
        return estimate - slack, estimate + slack

    def error(lo: float, hi: float) -> float:
        return (pb[0] + pb[1] * max(abs(lo), abs(hi))) * (1 + 2.0 ** -40)

    lo, hi = value_bound(variant)
    e = error(lo, hi)
    lo, hi = lo - e, hi + e
    if variant == "alpha_on_both_classes":
        na_lo, na_hi = value_bound("no_alpha")
        e = error(na_lo, na_hi)
        lo, hi = min(lo, alpha * na_lo - e), max(hi, alpha * na_hi + e)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    return lo - 1e-12 * abs(lo) - 1e-300, hi + 1e-12 * abs(hi) + 1e-300


def _focal_point_bound(c: Case) -> tuple[float, float] | None:
    """The loss's point bound (c0, c1) for the enclosures of this case's α variants (lossapp.interval._point_enclosure's
    box: the inputs as given, their decimals), where they are made with it; else None."""
    formula = c.spec.enclosure
    pred, target = c.result.pred, c.result.target
    if formula is None or formula.point_error is None or pred is None or target is None:
        return None
    box = Box(pred.values, target.values, decimals_of(pred), decimals_of(target), {**c.params, "alpha": -1.0},
              c.reduction, c.spec.target_kind, c.value, c.interval_memo)
    if not interval.uses_point_bound(box):  # (read from its module: a test's patch of it reaches here too)
        return None
    pb = formula.point_error(box)
    return pb if pb is not None and all(math.isfinite(v) for v in pb) else None


def _focal_label_sums(c: Case) -> tuple[float, float, float] | None:
    """(n, Σ l, Σ y·l) of the correct terms l and 0/1 labels y of their shape (each product y·l exact), made once per
    case; None for other labels or a sum that is not finite."""
    def make() -> tuple[float, float, float] | None:
        u, t = c.unreduced, c.target
        if u is None or t is None or not all_binary(t) or c.total is None or not math.isfinite(c.total):
            return None
        positive = float(torch.dot(u.reshape(-1).double(), t.reshape(-1).double()))
        return (float(u.numel()), c.total, positive) if math.isfinite(positive) else None
    return c.shared("focal_label_sums", make)


def no_alpha_interval(c: Case, value: float | None = None) -> Interval | None:
    """The enclosure of `no_alpha`: the loss with α off over the same box (a combined loss's parts: none), its guard
    held to `value` (default: `no_alpha`, made from the terms already at hand: no rerun)."""
    if c.spec.parts:
        return None
    return c.run_interval(alpha=None if c.spec.activation == "softmax" else -1.0,
                          value=no_alpha(c) if value is None else value)


def focal_rerun(c: Case, **overrides: Any) -> float | None:
    """The focal loss with focal parameters (α, γ) overridden. For a combined loss (λ_dice·L_dice + λ_focal·L_focal)
    only the focal part is run, on the same prepared inputs, and L_dice is read from the trace."""
    if not (c.spec.parts and c.spec.focal):
        return c.run(**overrides)
    dice, focal = c.spec.parts
    l_dice = c.step_value(dice.symbol)
    part = c.run("focal", input="probabilities" if c.param("activation", "none") == "none" else "logits", **overrides)
    if l_dice is None or l_dice.numel() != 1 or part is None:
        return c.run(**overrides)
    return finite(float(c.param(dice.weight, 1.0)) * float(l_dice) + float(c.param(focal.weight, 1.0)) * part)


def _parts_with_focal_base(c: Case) -> float | None:
    """A combined focal loss with α_t = 1 in its focal part: λ_dice·L_dice (as computed) + λ_focal·Σ(focal terms
    without α) / the focal part's denominator, from the trace's scalars and the held per-element focal terms (no
    rerun). None where those are not at hand."""
    dice, focal = c.spec.parts
    l_dice = c.step_value(dice.symbol)
    den = torch.tensor(1.0) if c.reduction == "sum" else c.step_value(focal.symbol.replace("L_", "den_"))
    base = focal_base(c)
    if base is None or l_dice is None or den is None or l_dice.numel() != 1 or den.numel() != 1 or float(den) == 0:
        return None
    focal_value = float(base.double().sum()) / float(den)
    return finite(float(c.param(dice.weight, 1.0)) * float(l_dice) + float(c.param(focal.weight, 1.0)) * focal_value)


def _overlap_sums(c: Case, again: bool = False,
                  intersection: str | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """|X∩Y| = Σ p·t, |X| = Σ p and |Y| = Σ t of an overlap loss over its finest sets (each sample, or each
    sample and class with softmax; the whole tensor for a 1-D pred), from the same p and t as the loss, once per
    case: every variant that keeps p and t (another ε, the batch pooled or not, IoU for Dice) comes from them.
    `again`: p with the activation applied once more (a sigmoid for activation none): probabilities as logits.
    `intersection`: "product" (Σ p·t) or smp's "l1" ((Σp + Σt − ‖p − t‖₁)/2), default the problem's own; another than
    its own forms only |X∩Y| anew (|X| and |Y| are the shared ones).

    The elementwise terms (p·t, |p − t|, the sigmoid of p) are written into one buffer of pred's size per case
    (`_work`, overwritten by each use: every use reads it whole into its sums before the next begins) rather than a
    fresh tensor each: the same elementwise operations and the same sums over a tensor of the same shape and layout,
    so the same bits, without the first touch of three more fresh buffers. |Y| is formed once for both p."""
    own = c.param("intersection", "product")
    intersection = intersection or own

    def make() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
        x, t = c.pred, c.target
        if x is None or t is None or not x.is_floating_point():
            return None
        if intersection != own:
            sums = _overlap_sums(c, again)
            formed = None if sums is None else _set_inputs(c, again)
            if sums is None or formed is None:
                return None
            return _set_intersections(*formed, sums[1], sums[2], intersection, _work(c, formed)), sums[1], sums[2]
        if not again and c.param("activation", "none") == "none" and per_sample_sets(x.dim(), c.params):
            held = _held_set_sums(c)  # the problem's own sets are the finest: its trace has the sums
            if held is not None:
                return held
        formed = _set_inputs(c, again)
        if formed is None:
            return None
        p, t, dims = formed
        size_p = p.sum(dims) if dims else p
        size_t = c.shared(("overlap_size_t", dims), lambda: t.sum(dims) if dims else t)  # (the same t for both p)
        return _set_intersections(p, t, dims, size_p, size_t, intersection, _work(c, formed)), size_p, size_t
    return c.shared(("overlap_sums", again, intersection), make)


def _work(c: Case, formed: tuple[torch.Tensor, torch.Tensor, tuple[int, ...]]) -> torch.Tensor | None:
    """Where the elementwise terms of the sums of `formed` = (p, t, dims) may be written: the case's buffer of p's shape
    (p itself when it is that buffer: `_set_inputs` wrote σ(p) there); None where no sum follows (no dims: the terms
    are the sums and must be tensors of their own) or p or t is not contiguous (p·t would then take their strides,
    and its sums might add in another order)."""
    p, t, dims = formed
    if not dims or not (p.is_contiguous() and t.is_contiguous()):
        return None
    return c.shared(("overlap_work", tuple(p.shape), p.device),
                    lambda: torch.empty(p.shape, dtype=torch.float64, device=p.device))


def _set_inputs(c: Case, again: bool) -> tuple[torch.Tensor, torch.Tensor, tuple[int, ...]] | None:
    """(p, t, the dims summed within one of the finest sets) as the overlap loss forms p and t (see _overlap_sums).
    p and t are made once per case (read-only); with `again`, σ(p) for p ≥ 0 is written into the case's buffer
    (`_work`) where sums follow, else a tensor of its own."""
    x = c.pred
    if x is None or c.target is None:
        return None
    activation = c.param("activation", "none")

    def inputs() -> tuple[torch.Tensor | None, torch.Tensor]:
        p = x.double() if activation == "none" else activated(c)
        t = c.target
        if activation == "softmax" and not t.is_floating_point() and p is not None:
            t = torch.nn.functional.one_hot(t.long(), p.shape[1]).movedim(-1, 1)
        return p, t.double()
    p, t = c.shared(("overlap_inputs",), inputs)
    if p is None:
        return None
    dims = set_dims(p, {**c.params, "per_sample": True})
    if again:
        if activation in ("none", "sigmoid") and _p_nonnegative(c):
            # σ(p) = 1/(1 + e^{−p}) for p ≥ 0: the branch stable_sigmoid takes there, in one buffer
            work = _work(c, (p, t, dims))
            p = (torch.neg(p) if work is None else torch.neg(p, out=work)).exp_().add_(1).reciprocal_()
        else:
            p = _activate(p, "sigmoid" if activation == "none" else activation)
    return p, t, dims


def _set_intersections(p: torch.Tensor, t: torch.Tensor, dims: tuple[int, ...], size_p: torch.Tensor,
                       size_t: torch.Tensor, intersection: str, work: torch.Tensor | None = None) -> torch.Tensor:
    """|X∩Y| of each set: Σ p·t, or smp's (Σp + Σt − ‖p − t‖₁)/2 for intersection "l1" (as the steps form them). The
    terms p·t or |p − t| go into `work` where it is given (a buffer of p's shape, or p itself; never t)."""
    if intersection == "l1":
        gap = (p - t if work is None else torch.sub(p, t, out=work)).abs_()
        return (size_p + size_t - (gap.sum(dims) if dims else gap)) / 2
    product = p * t if work is None else torch.mul(p, t, out=work)
    return product.sum(dims) if dims else product


def _held_set_sums(c: Case) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """The steps |X∩Y|, |X| and |Y| of a Dice or IoU trace where the Result holds them whole (None otherwise: a
    released step would be replayed, a full computation)."""
    if c.spec.set_measure not in ("dice", "iou"):
        return None
    sums = []
    for symbol in ("|X∩Y|", "|X|", "|Y|"):
        try:
            step = c.result.step(symbol)
        except KeyError:
            return None
        if not step.held or not isinstance(step.value, torch.Tensor):
            return None
        sums.append(step.value)
    return sums[0], sums[1], sums[2]


def _p_nonnegative(c: Case) -> bool:
    """Whether the overlap loss's p is ≥ 0 everywhere: always after a sigmoid, from pred's range for activation none."""
    if c.param("activation", "none") == "sigmoid":
        return True
    r = c.pred_range()
    return r is not None and r[0] >= 0


U = 2.0 ** -53  # the unit roundoff of float64
SIGMOID_CHORD = 1.0 / (1.0 + math.exp(-1.0)) - 0.5  # σ(1) − σ(0): the slope of σ's chord over [0, 1]


def overlap_again_bound(c: Case) -> tuple[float, float] | None:
    """A bound on `overlap_value(c, again=True)` — the loss with σ(p) for p, probabilities taken for logits — from the
    per-set sums every overlap variant shares (`_overlap_sums`), with no pass over the elements. For activation none,
    the product intersection, p in [0, 1] (pred's range; the prepare refused targets outside [0, 1]), mean or sum, and
    a point box (neither input's decimals known: the bound holds on the variant's interval, which is its value).

    Proof. In one set of n elements let T = Σ t, I = Σ p·t, P = Σ p, A = Σ σ(p)·t and C = Σ σ(p)·(1 − t) (so that the
    variant's |X∩Y| = A, |X| = A + C, |Y| = T). σ is concave on [0, ∞), so on [0, 1] it lies above its chord,
    σ(p) ≥ ½ + k·p with k = σ(1) − ½, and below its mean (Jensen with the weights t_i ≥ 0, resp. 1 − t_i ≥ 0):
    A ∈ [½T + k·I, T·σ(I/T)] and C ∈ [½(n − T) + k·(P − I), (n − T)·σ((P − I)/(n − T))] (0 for a zero weight), each end
    increasing in I, resp. P − I, and in T, resp. n − T (T·σ(I/T) grows with T: ∂ = σ(s) − s·σ'(s) ≥ σ(0) > 0 for
    s = I/T, σ lying below its tangents). The computed sums are of n terms ≥ 0 with at most one rounding each (p·t), so
    each lies within γ = 1.01·(n + 1)·u relative of the exact one: I ∈ Î·[1 − 2γ, 1 + 2γ], likewise P and T, with
    I ≤ T and P − I ≤ n − T (p ≤ 1). Each set's coefficient (set_losses) grows with A and falls with C and with T: Dice
    (2A + ε)/(A + C + T + ε) (∂_A ∝ 2C + 2T + ε), IoU (A + ε)/(C + T + ε), Tversky (A + ε)/(A + αC + β(T − A) + ε)
    (∂_A ∝ αC + βT + βε), α, β ≥ 0. So each set's loss 1 − coef lies between its values at (A_hi, C_lo, T_lo) and
    (A_lo, C_hi, T_hi); pooled sets add their ends, zero_empty (|Y| > 0: a sum of terms ≥ 0 is 0 exactly when they are)
    and include_background select, and the mean or sum over the sets is monotone. The variant's computed value is within
    K·u of its exact value (the overlap losses' point bound, lossapp.losses.overlap._overlap_point_error, c = 8 for σ:
    K = 32·(n + 12)·(1 + α + β)/min(1, α, β) + 5 per set, times the sets for a sum); the ends here take a few roundings
    more. Widening by 2K·u (per set) and 1e−9 covers both."""
    if c.param("activation", "none") != "none" or c.param("intersection", "product") != "product" \
            or c.reduction not in ("mean", "sum") or c.pred is None or c.target is None:
        return None
    given_pred, given_target = c.result.pred, c.result.target
    if given_pred is None or given_target is None or given_pred.decimals is not None \
            or given_target.decimals is not None:
        return None
    kind = c.spec.set_measure
    alpha, beta = (0.5, 0.5) if kind == "dice" else (1.0, 1.0) if kind == "iou" else \
        (float(c.param("alpha", 0.5)), float(c.param("beta", 0.5)))
    r = c.pred_range()
    sums = _overlap_sums(c)
    if kind is None or r is None or not (r[0] >= 0.0 and r[1] <= 1.0) or sums is None or not (alpha > 0 and beta > 0):
        return None
    x = c.pred
    dims = set_dims(x, {**c.params, "per_sample": True})
    n = float(math.prod(x.shape[d] for d in dims)) if dims else 1.0
    gamma = 1.01 * (x.numel() + 1) * U
    inter, size_p, size_t = (v.double() for v in sums)
    t_lo, t_hi = size_t * (1 - 2 * gamma), size_t * (1 + 2 * gamma)
    i_lo, i_hi = inter * (1 - 2 * gamma), torch.minimum(inter * (1 + 2 * gamma), t_hi)
    q_lo = (size_p * (1 - 2 * gamma) - i_hi).clamp(min=0.0)  # P − I
    q_hi = torch.minimum(size_p * (1 + 2 * gamma) - i_lo, n - t_lo)

    def jensen(weight: torch.Tensor, mean_of: torch.Tensor) -> torch.Tensor:  # weight·σ(mean_of / weight), 0 at 0
        return torch.where(weight > 0, weight * torch.sigmoid(mean_of / weight.clamp(min=1e-300)), 0.0)
    a_lo, a_hi = 0.5 * t_lo + SIGMOID_CHORD * i_lo, jensen(t_hi, i_hi)
    c_lo, c_hi = 0.5 * (n - t_hi) + SIGMOID_CHORD * q_lo, jensen(n - t_lo, q_hi)
    ends = [(a_hi, c_lo, t_lo), (a_lo, c_hi, t_hi)]
    if not per_sample_sets(x.dim(), c.params) and x.dim() >= 2:
        ends = [tuple(v.sum(0) for v in end) for end in ends]  # one set for the whole batch (as overlap_value)
        n *= x.shape[0]
    params = {"alpha": 0.5, "beta": 0.5, **c.params, "eps": float(c.param("eps", 0.0))}
    low, high = (set_losses(kind, a, a + cc, t, params) for a, cc, t in ends)
    sets = low.numel()
    k = 32 * (n + 12) * (1 + alpha + beta) / min(1.0, alpha, beta) + 5
    if c.reduction == "mean":
        lo, hi, scale = float(low.mean()), float(high.mean()), 1.0
    else:
        lo, hi, scale = float(low.sum()), float(high.sum()), float(sets)
    slack = (2 * k * U + 1e-9) * scale
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    return min(lo, hi) - slack, max(lo, hi) + slack


def overlap_value(c: Case, kind: str | None = None, eps: float | None = None, per_sample: bool | None = None,
                  again: bool = False, intersection: str | None = None, zero_empty: bool | None = None) -> float | None:
    """This overlap problem's value (mean or sum over its sets) as the `kind` loss (dice, iou, tversky) with
    `eps`, `per_sample`, `intersection` and `zero_empty` (default: the problem's own), from the shared per-set sums
    (|X∪Y| = |X| + |Y| − |X∩Y|, fp = |X| − |X∩Y|, fn = |Y| − |X∩Y|); `again`: see _overlap_sums."""
    sums = _overlap_sums(c, again, intersection)
    if sums is None or c.reduction not in ("mean", "sum"):
        return None
    kind = kind or c.spec.set_measure
    params = {"alpha": 0.5, "beta": 0.5, **c.params, "eps": float(c.param("eps", 0.0) if eps is None else eps)}
    if zero_empty is not None:
        params["zero_empty"] = zero_empty
    own = per_sample_sets(c.pred.dim(), c.params)
    softmax = c.param("activation", "none") == "softmax"
    inter, size_p, size_t = sums
    if not (own if per_sample is None else per_sample) and (softmax or c.pred.dim() >= 2):
        inter, size_p, size_t = (v.sum(0) for v in sums)  # one set for the whole batch (per class / channel)
    loss = set_losses(kind, inter, size_p, size_t, params)
    return finite(float(loss.mean() if c.reduction == "mean" else loss.sum()))
