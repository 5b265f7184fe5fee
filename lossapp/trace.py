"""Step and Trace: the recorder a loss writes its worked solution into.

A loss's step function computes in float64 from elementary torch operations and, as it goes, adds
each intermediate a student would write down (p, p_t, alpha_t, lse, ...) to a `Trace`:

    p = trace.add("p", "Sigmoid", r"p = \\sigma(x) = \\frac{1}{1+e^{-x}}", torch.sigmoid(x),
                  sub=r"\\frac{1}{1+e^{-$x}}", x=x)

`sub` is the same formula with placeholders (`$x`, `${x}`) that `Step.substituted()` fills with the
numbers, element by element, for small inputs; it can also be a ready LaTeX string.

Show few, verify all. `add` records the tensor the computation goes on with (a detached view: no
copy); `show` records a step that is only shown as an elementwise function of other tensors, computed
when it is read. Once the computation is done, `Trace.release()` lets every large step drop its full value and
keep only the elements a person reads: a step of at most `COMPLETE_MAX` elements is kept (and
written) whole; a larger one keeps its first `SHOWN` elements in row-major order, with its full
shape. Its complete value comes back on request from a replay of the computation (`Step.value`,
`Step.value_list(full=True)`), so nothing large stays in memory after `lossapp.compute` returns.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from string import Template
from typing import Any, Protocol

import numpy as np
import torch

from lossapp.i18n import msg

SUBSTITUTE_MAX = 12  # formulas with the numbers substituted are written only for inputs this small
COMPLETE_MAX = 24  # a step (or gradient) with at most this many elements is kept and written whole
SHOWN = 6  # ... a larger one keeps and writes its first SHOWN elements (row-major), with its full shape
CHUNK = 1 << 16  # elements a pass over a large tensor takes at a time where it needs float64 temporaries


def blocks(n: int, device: torch.device) -> tuple[int, list[slice]]:
    """(size, the slices) of a pass over n elements CHUNK at a time on the CPU, in one block on an accelerator (where
    a block's temporaries stay in cache on the CPU, an accelerator takes the whole tensor best); size ≥ 1."""
    size = max(min(CHUNK, n) if device.type == "cpu" else n, 1)
    return size, [slice(start, min(start + size, n)) for start in range(0, n, size)]


def in_blocks(out: torch.Tensor, fn: Callable[..., Any], *tensors: torch.Tensor, scratch: int = 0) -> bool:
    """fn(out block, block of each tensor, scratch buffers) over CHUNK elements at a time of contiguous tensors of out's
    shape and device (on an accelerator: one block), for an fn of elementwise operations whose result for an element
    does not depend on the block it is in (correctly rounded ones: +, −, ·, /, negation; lossapp.losses.focal's
    PRODUCT_POWERS), so that out holds what fn gives on the whole tensors, bit for bit, with its temporaries a block's
    size (in cache; a fresh large buffer costs more to touch than the arithmetic on it). False, and nothing done, where
    a tensor is not contiguous of that shape and device. The one home of block-wise evaluation (with `blocks`)."""
    if not out.is_contiguous() or not all(v.shape == out.shape and v.is_contiguous() and v.device == out.device
                                          for v in tensors):
        return False
    size, slices = blocks(out.numel(), out.device)
    buffers = [torch.empty(size, dtype=out.dtype, device=out.device) for _ in range(scratch)]
    flat = [v.reshape(-1) for v in (out, *tensors)]
    for b in slices:
        fn(*(v[b] for v in flat), *(buffer[:b.stop - b.start] for buffer in buffers))
    return True


def fmt(x: float, digits: int = 4) -> str:
    """A number as a student would write it: 4 significant digits, LaTeX for powers of ten."""
    x = float(x)
    if math.isnan(x):
        return r"\mathrm{NaN}"
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    if x == int(x) and abs(x) < 1e6:
        return str(int(x))
    text = f"{x:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        exponent = str(int(exponent))
        return (rf"10^{{{exponent}}}" if mantissa in ("1", "1.0") else rf"{mantissa}\cdot 10^{{{exponent}}}")
    return text


def _fmt_arg(x: float) -> str:
    text = fmt(x)
    return f"({text})" if text.startswith("-") else text


def shown_count(count: int) -> int:
    """How many elements of a tensor of `count` elements are shown: all of a small one, the first few of a large one."""
    return count if count <= COMPLETE_MAX else SHOWN


def head(t: torch.Tensor, k: int) -> torch.Tensor:
    """The first k elements of t in row-major order as a new 1-D float64 CPU tensor, read without copying t
    (t may be a broadcast view, or a `Lazy` value: only those elements are computed)."""
    if isinstance(t, Lazy):
        return t.head(k)
    t = t.detach()
    if t.dim() == 0:
        first = t.reshape(1)
    elif t.is_contiguous():
        if t.dtype == torch.float64 and t.device.type == "cpu":  # numpy slices and copies in half torch's time
            return torch.from_numpy(t.numpy().reshape(-1)[:k].copy())
        first = t.reshape(-1)[:k]
    else:
        where = np.unravel_index(np.arange(min(k, t.numel())), tuple(t.shape))  # (torch's unravel_index costs ms)
        first = t[tuple(torch.from_numpy(i).to(t.device) for i in where)]
    return first.to("cpu", torch.float64, copy=True)  # a copy: a view would keep all of t's memory alive


_EXTREMES_SCOPE: ContextVar[object | None] = ContextVar("lossapp_extremes_scope", default=None)


@contextlib.contextmanager
def shared_extremes() -> Iterator[None]:
    """Within it, `extremes` keeps its answer on the tensor (with its version counter: the answer lasts until an
    in-place change of the tensor or of a view of its storage, as lossapp.inputs.checks.all_binary keeps its own), so
    the many looks of one check at one input (the prepare's range checks, the point bounds of the enclosures, the
    variants' applicability tests and their reruns' prepare) pay one pass. lossapp.verdicts opens it for one check: a
    write the version counter does not see (through a numpy view of a caller's tensor) cannot happen within that call,
    and an answer kept in one scope is never read in another. Nested: the outer scope holds. lossapp.compute does not
    open it: there the one range two steps share (a narrow pred's: the input check's and the prepare's) is handed on as
    data, Trace.extremes, and within this scope stable.all_finite reads the extremes (two passes) where compute's single
    look at a tensor takes one sum."""
    if _EXTREMES_SCOPE.get() is not None:
        yield
        return
    token = _EXTREMES_SCOPE.set(object())
    try:
        yield
    finally:
        _EXTREMES_SCOPE.reset(token)


def extremes_shared() -> bool:
    """Whether `extremes` is shared here (within `shared_extremes`)."""
    return _EXTREMES_SCOPE.get() is not None


def extremes(t: torch.Tensor) -> tuple[float, float]:
    """(min, max) of a non-empty tensor, NaN where it holds a NaN, as `tensor_extremes` finds them (its default way).
    Within `shared_extremes`, made once per tensor (until it changes)."""
    scope = _EXTREMES_SCOPE.get()
    if scope is None:
        return tensor_extremes(t.detach())
    found = _kept_extremes(t, scope)
    if found is None:
        found = tensor_extremes(t.detach())
        _keep_extremes(t, scope, found)
    return found


def _kept_extremes(t: torch.Tensor, scope: object | None) -> tuple[float, float] | None:
    """extremes(t) where it is kept on t, in this scope, for t as it is now (no pass); else None."""
    kept = getattr(t, "_lossapp_extremes", None)
    if scope is None or kept is None or kept[0] is not scope:
        return None
    try:
        return kept[2] if kept[1] == t._version else None
    except RuntimeError:  # an inference tensor has no version counter
        return None


def _keep_extremes(t: torch.Tensor, scope: object, found: tuple[float, float]) -> None:
    with contextlib.suppress(RuntimeError):  # (an inference tensor has no version counter: nothing kept)
        t._lossapp_extremes = (scope, t._version, found)


def carry_extremes(alias: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """alias, a view of source's whole storage with source's version counter (source.detach()), with source's kept
    extremes recorded on it too (they are its own: the same elements, changed only by what bumps the shared counter)."""
    scope = _EXTREMES_SCOPE.get()
    found = _kept_extremes(source, scope)
    if found is not None:
        _keep_extremes(alias, scope, found)
    return alias


def mapped_extremes(out: torch.Tensor, source: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """out, with extremes(out) recorded (within `shared_extremes`, until out changes) where out = fn(source) for an
    elementwise fn that is monotone in floating point (1 − y formed as −y + 1, Keras' smoothing y·(1 − ε) + ε/2 for
    0 < ε < 1) and the extremes of source are kept (no pass is made for them): (min, max) of fn at source's extremes,
    formed by fn itself on a two-element tensor of out's dtype.

    Proof. Each float operation of fn (a negation; + or · by a constant ≥ 0; a conversion to a wider dtype) is exact
    or the correctly rounded value of a monotone real function, and rounding to nearest is non-decreasing, so fn is
    monotone on floats and its extremes over source are fn(min) and fn(max), in some order. Negation, + and · are
    correctly rounded, so fn gives every element the same bits in any loop (vectorised or scalar). A NaN in source
    (its extremes NaN) gives a NaN in out, whose extremes are NaN: recorded so."""
    scope = _EXTREMES_SCOPE.get()
    found = _kept_extremes(source, scope)
    if found is None:
        return out
    ends = fn(torch.tensor(found, dtype=out.dtype, device="cpu"))
    lo, hi = float(ends.amin()), float(ends.amax())
    if math.isnan(lo) or math.isnan(hi):
        lo = hi = math.nan
    _keep_extremes(out, scope, (lo, hi))
    return out


def tensor_extremes(t: torch.Tensor, *, one_pass: bool = False) -> tuple[float, float]:
    """(min, max) of a non-empty tensor as floats (NaN where it holds a NaN, ±inf as they are; an empty tensor is torch's
    RuntimeError), by a pass of its own (nothing kept: see `extremes`); the one place either way below is chosen.

    Floating tensors: torch.amin and torch.amax, two vectorised passes, the faster on a tensor in cache (float32 or
    float64 of 10⁴ elements: about a third of aminmax's time; of 10⁶, about the same); with `one_pass`, torch.aminmax,
    one pass over memory, the faster on a tensor read for the first time (a user's input: float64 of 10⁶ elements in
    about two thirds of the time of amin and amax) and on float16 / bfloat16 (a half to a third). Other dtypes:
    torch.aminmax (amin and amax take several times as long on integers; an int64 beyond 2⁵³ rounds here: a caller
    that needs its exact value reads torch.aminmax itself). Both ways give the same values, NaN and ±inf included,
    but for the sign of a zero extreme (0.0 or −0.0 of a tensor that holds both), which callers only compare; each
    keeps the way it had, so every answer is the same bits as before."""
    if t.is_floating_point() and not one_pass:
        return float(t.amin()), float(t.amax())
    low, high = torch.aminmax(t)
    return float(low), float(high)


def broadcast_shape(*shapes: Sequence[int]) -> torch.Size:
    """torch.broadcast_shapes, answered at once where the shapes are all the same (the common case; torch's own is
    Python that costs tens of microseconds a call)."""
    if shapes and all(s == shapes[0] for s in shapes[1:]):
        return torch.Size(shapes[0])
    return torch.broadcast_shapes(*shapes)


def as_list(t: torch.Tensor) -> float | list:
    """A tensor as a float (0-d) or a nested list, on the CPU."""
    t = t.detach().cpu()
    return t.item() if t.dim() == 0 else t.tolist()


class Lazy:
    """The value of a step that is only shown: fn(*inputs), elementwise over inputs broadcast to one shape (plain
    numbers pass through). Computed when read: the first k elements from the first k of each input, or all.

    Also a spec's gradient that is elementwise in pred (the penalties', KL's, one overlap set's: `LossSpec.gradient`):
    the comparison with the built-in's computes it a block at a time (`flat`), in cache, and never as a tensor of
    pred's size (`lossapp.reference.closeness`); every other reader gets `full()`. `bound`, where the loss proves one: a
    number at least |x| for every finite element x (its proof next to the loss's gradient), so that a comparison whose
    tolerance scales with max(1, max |x|) need not read the elements for it where bound ≤ 1.

    `into`, where the loss gives one: into(out, *inputs) writes fn(*inputs), a float64 value, into `out` (a float64
    tensor of its shape, on its device) and returns out, each element the same as fn gives it (the same operations,
    in place), so that the comparison writes every block into one buffer of a block's size (`flat`'s `out`): the
    block stays in cache for the difference that reads it, instead of fresh tensors of a block's size for each block."""

    layout = torch.strided  # (a dense value, as a tensor's layout says)

    def __init__(self, fn: Callable[..., torch.Tensor], inputs: tuple[Any, ...], bound: float | None = None,
                 into: Callable[..., torch.Tensor] | None = None) -> None:
        self.fn = fn
        self.inputs = tuple(v.detach() if isinstance(v, torch.Tensor) else v for v in inputs)
        self.shape = tuple(broadcast_shape(*(v.shape for v in self.inputs if isinstance(v, torch.Tensor))))
        self.bound = bound
        self.into = into

    def numel(self) -> int:
        return math.prod(self.shape)

    def full(self) -> torch.Tensor:
        with torch.no_grad():
            return self.fn(*self.inputs).broadcast_to(self.shape)

    @property
    def sliceable(self) -> bool:
        """Whether `flat` can compute any range of elements: every tensor input has the value's shape and is
        contiguous (row-major ranges of the inputs are then those of the value)."""
        return all(v.shape == self.shape and v.is_contiguous() for v in self.inputs if isinstance(v, torch.Tensor))

    def flat(self, start: int, stop: int, out: torch.Tensor | None = None) -> torch.Tensor:
        """Elements start ≤ i < stop of the value in row-major order, as a new 1-D tensor computed from those of the
        inputs (each element as `full()` computes it: fn is elementwise); written into `out` instead (a float64 1-D
        tensor of stop − start elements, returned) where the value has an `into`. Only where `sliceable`."""
        parts = (v.reshape(-1)[start:stop] if isinstance(v, torch.Tensor) else v for v in self.inputs)
        with torch.no_grad():
            return self.fn(*parts) if out is None or self.into is None else self.into(out, *parts)

    def head(self, k: int) -> torch.Tensor:
        with torch.no_grad():
            parts = [head(v.broadcast_to(self.shape), k) if isinstance(v, torch.Tensor) else v for v in self.inputs]
            return self.fn(*parts).reshape(-1).double()


class Replayer(Protocol):
    """Reruns a computation to give back the complete values a released step no longer holds."""

    def steps(self) -> list[Step]: ...


class Step:
    """One line of the worked solution: symbol = formula = value.

    `title` and `note` are catalog messages (`lossapp.i18n.Message`: a str whose value is the English, so
    `to_dict` writes English; `tr(step.title, lang)` renders another language); the formula is LaTeX.

    `value` is the complete value (a float64 tensor or a float). A released step (see the module
    docstring) holds only its first `shown` elements; reading `value` then replays the computation.
    """

    def __init__(self, symbol: str, title: str, formula: str, value: Any, note: str = "",
                 sub: str | None = None, args: dict[str, Any] | None = None) -> None:
        self.symbol, self.title, self.formula, self.note, self.sub = symbol, title, formula, note, sub
        self.args: dict[str, Any] = dict(args or {})
        self._value = value
        self.shape: tuple[int, ...] = tuple(value.shape) if isinstance(value, torch.Tensor | Lazy) else ()
        self.count = math.prod(self.shape)
        self._head: torch.Tensor | None = None  # the shown elements, once the full value is released
        self._replay: Replayer | None = None
        self._index = -1

    def __repr__(self) -> str:
        return f"Step({self.symbol!r}, {self.title!r}, shape={self.shape}, held={self.held})"

    @property
    def held(self) -> bool:
        """Whether the complete value is in memory (otherwise `value` replays the computation)."""
        return self._head is None

    @property
    def shown(self) -> int:
        """How many elements are written by default: every one up to COMPLETE_MAX, else the first SHOWN."""
        return shown_count(self.count)

    @property
    def complete(self) -> bool:
        """Whether the default output (value_list, to_dict) holds every element."""
        return self.shown == self.count

    @property
    def value(self) -> Any:
        """The complete value; for a released step, recomputed by replaying the loss's trace."""
        if self._head is None:
            return self._value.full() if isinstance(self._value, Lazy) else self._value
        if self._replay is None:
            raise LookupError(msg("trace.no_replay", symbol=repr(self.symbol), shown=self.shown))
        return self._replay.steps()[self._index].value

    def renamed(self, symbol: str, title: str) -> Step:
        """This step under another symbol and title, its value as it is held: a step that is only shown (`Trace.show`)
        stays uncomputed until read."""
        value = self._value if self._head is None else self.value
        return Step(symbol, title, self.formula, value, self.note, self.sub, self.args)

    def release(self, replay: Replayer | None, index: int) -> None:
        """Keep only the shown elements (and small substitution arguments); `replay`, at position `index`
        of its steps, gives the complete value back on request. Released already, with the same: nothing to do."""
        if self._index == index and self._replay is replay:
            return
        self._replay, self._index = replay, index
        if self.complete:
            if isinstance(self._value, Lazy):
                self._value = self._value.full()
            if isinstance(self._value, torch.Tensor):  # a small value may be a view of a large tensor
                self._value = self._value.detach().clone()
        else:
            self._head = self.shown_values()
            self._value = None
        if any(isinstance(v, torch.Tensor) and v.numel() > COMPLETE_MAX for v in self.args.values()):
            self.args, self.sub = {}, None  # the per-element substitution is written only for small inputs
        else:
            self.args = {k: v.detach().clone() if isinstance(v, torch.Tensor) else v for k, v in self.args.items()}

    def shown_values(self) -> torch.Tensor:
        """The shown elements as a 1-D float64 CPU tensor (the first `shown`, row-major)."""
        if self._head is not None:
            return self._head
        if isinstance(self._value, Lazy):
            return self._value.head(self.shown)
        if isinstance(self._value, torch.Tensor):
            return head(self._value, self.shown)
        return torch.tensor([float(self._value)], dtype=torch.float64)

    def value_list(self, full: bool = False) -> Any:
        """The value as JSON: a float, the nested list of a complete step, or the flat list of the shown
        elements of a large one (with full=True, every element, replaying when released)."""
        if not isinstance(self._value, torch.Tensor | Lazy) and self._head is None:
            return self._value
        if full or self.complete:
            return as_list(self.value)
        return self.shown_values().tolist()

    def to_dict(self, full: bool = False) -> dict[str, Any]:
        """symbol, title, formula, value (see value_list), shape, shown (how many elements value holds), note,
        substituted."""
        return {"symbol": self.symbol, "title": self.title, "formula": self.formula,
                "value": self.value_list(full), "shape": list(self.shape),
                "shown": self.count if full else self.shown, "note": self.note, "substituted": self.substituted()}

    def substituted(self, limit: int = SUBSTITUTE_MAX) -> list[str] | None:
        """The formula with the numbers put in: one string per element, or None for large inputs."""
        if self.sub is None:
            return None
        if not self.args:
            return [self.sub]
        tensors = {k: torch.as_tensor(v).detach().double().cpu() for k, v in self.args.items()}
        try:
            shape = broadcast_shape(*(t.shape for t in tensors.values()))
        except RuntimeError:
            return None
        count = math.prod(shape)
        if count > limit:
            return None
        flat = {k: t.broadcast_to(shape).reshape(-1).tolist() for k, t in tensors.items()}
        template = Template(self.sub)
        return [template.safe_substitute({k: _fmt_arg(v[i]) for k, v in flat.items()}) for i in range(count)]


@dataclass
class Trace:
    """The steps and warnings a loss computation writes, in order.

    `transient`: each step keeps only its shown elements from the moment it is written (as `release` would leave it,
    with `replay` for the rest), so that the trace holds no tensor the computation itself has let go: a run whose
    steps are read only as far as they are shown (`lossapp.compute`), or not at all (a variant's rerun), then needs
    no more memory than its own arithmetic — on a CPU the first touch of each fresh large buffer costs more than the
    arithmetic on it.

    `quiet`: nobody reads the steps nor the warnings (a rerun for its value and gradient): the steps that are only shown
    (`show`, the derivative step) are not written, the others hold no value (no shown elements are read off them), and
    a check that could only warn may be left out (a loss's `prepare` still refuses what it refuses)."""

    steps: list[Step] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unreduced: torch.Tensor | None = None  # the per-element (per-sample) loss before reduction
    transient: bool = False
    replay: Replayer | None = field(default=None, repr=False)
    quiet: bool = False
    # values the spec's gradient computed (it ran first, on the same inputs) that the steps read instead of computing
    # them again: the overlap losses' set sums (LossSpec.gradient_shared; empty where the gradient wrote none); and
    # what the loss's prepare found out about the same inputs (on its own trace, handed on by lossapp.compute: NLL's
    # "no sample is ignored", read off the target's extremes by its range check)
    shared: dict[str, Any] = field(default_factory=dict, repr=False)
    # the user's own pred where the pred a loss's prepare is given was widened from it unchanged (float32, float16 or
    # bfloat16: every element the same value in fewer bytes), for a prepare's checks that read every element; None
    # where there is none (set by lossapp.compute on the trace it hands to `prepare`, and on the computation's own trace
    # where `prepare` left pred as it was)
    source: torch.Tensor | None = field(default=None, repr=False, compare=False)
    # the same for the target: the user's own floating target where the target a loss's prepare is given was widened
    # from it unchanged, for a prepare's range checks (set by lossapp.compute on the trace it hands to `prepare`)
    target_source: torch.Tensor | None = field(default=None, repr=False, compare=False)
    # pred's (min, max) as floats (NaN where it holds a NaN), where lossapp.compute's check of the inputs read them (one
    # pass, instead of its sum) for a prepare that needs them too (a pred read in its own dtype: LossSpec.narrow_pred);
    # None where it did not. (One computation's data, handed on explicitly, in every compute; a check's many looks at
    # many tensors share their ranges through `shared_extremes` instead, which compute does not open: see there.)
    extremes: tuple[float, float] | None = field(default=None, repr=False, compare=False)
    # the same for a floating target, where lossapp.compute read them (LossSpec.reads_extremes); None where it did not
    target_extremes: tuple[float, float] | None = field(default=None, repr=False, compare=False)

    def pred_values(self, pred: torch.Tensor) -> torch.Tensor:
        """pred's values in the fewest bytes, for a prepare's checks that read every element: the user's own narrower
        tensor where pred was widened from it unchanged (`source`), else pred."""
        return self.source if self.source is not None and self.source.shape == pred.shape else pred

    def target_values(self, target: torch.Tensor) -> torch.Tensor:
        """The same for the target (`target_source`)."""
        return self.target_source if self.target_source is not None \
            and self.target_source.shape == target.shape else target

    def _append(self, step: Step) -> None:
        self.steps.append(step)
        if self.transient:
            step.release(self.replay, len(self.steps) - 1)

    def add(self, symbol: str, title: str, formula: str, value: Any, note: str = "",
            sub: str | None = None, **args: Any) -> Any:
        """Record a step (a detached view of the value, no copy) and hand the value back so the computation can
        go on with it."""
        if self.quiet:  # nobody reads it: a step that holds no value (a loss may still annotate its last step)
            self.steps.append(Step(symbol, title, formula, None, note))
            return value
        stored = value.detach() if isinstance(value, torch.Tensor) else value
        self._append(Step(symbol, title, formula, stored, note, sub, args))
        return value

    def show(self, symbol: str, title: str, formula: str, fn: Callable[..., torch.Tensor], *inputs: Any,
             note: str = "", sub: str | None = None, **args: Any) -> None:
        """Record a step that is only shown (the computation does not go on with it): value fn(*inputs), an
        elementwise function of inputs broadcast to one shape. Its elements are computed when read: once the trace
        is released only the shown ones, from the first elements of the inputs (show few). Nothing in a quiet trace."""
        if self.quiet:
            return
        self._append(Step(symbol, title, formula, Lazy(fn, inputs), note, sub, args))

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def step(self, symbol: str) -> Step:
        """The last step written with this symbol."""
        for s in reversed(self.steps):
            if s.symbol == symbol:
                return s
        raise KeyError(symbol)

    def release(self, replay: Replayer | None = None) -> None:
        """Let every large step drop its full value (see the module docstring); a step released already stays so."""
        for index, s in enumerate(self.steps):
            s.release(replay, index)
