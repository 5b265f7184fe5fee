"""compute(): inputs -> the loss's float64 trace -> the torch reference -> Result.

Show few, verify all. The float64 trace runs once over every element, on the chosen device (a CUDA
device; the CPU for MPS, which has no float64), and its steps
keep only the elements a person reads once it is done (`lossapp.trace`); the value and the gradient are
compared with the built-in's over every element (`lossapp.reference.closeness`: one pass for the
difference and a reduction or two). Each input is checked for NaN / ±inf with one reduction; the rounding
to the built-in's dtype is checked only where that dtype may not hold the input exactly. What the Result
does not hold (every element of a step, the complete gradients) comes back from a `Replay` of the
computation, on request.

Every disagreement with the built-in is written into `Result.warnings`, with where it is and why where that is
known: values or gradients out of tolerance, a built-in that overflows its dtype where the exact value is
finite (or the reverse), inputs the dtype cannot hold, and a trace at ±inf that does not give the limit of its
formula. `Result.agrees` is the one flag for "everything agrees". The elementwise masks these need are made only
when something disagrees or is not finite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from lossapp.exceptions import InputWarning, PrecisionWarning, ReferenceWarning, StepWarning, categorized
from lossapp.i18n import Message, msg
from lossapp.inputs import InputError, TensorInput, quote, read_tensor, require_class_indices, require_finite
from lossapp.inputs.errors import at_index
from lossapp.lint import mixup_warnings
from lossapp.reference import (
    DTYPES,
    TOLERANCES,
    Comparison,
    GradientComparison,
    _to_device,
    all_finite,
    closeness,
    compare_gradients,
    compare_values,
    dtype_name,
    finiteness_mismatch,
    resolve_device,
    resolve_dtype,
    run_reference,
)
from lossapp.registry import LossSpec, lookup, shown
from lossapp.result import Result
from lossapp.trace import Lazy, Replayer, Step, Trace, carry_extremes, tensor_extremes

INF_ALLOWED = ("logits", "log_probabilities", "scores")
# pred's ±inf replaced by ±1e8 and ±1e16 (the limit is where the two agree, or ±inf where the value keeps growing
# with one sign), and by ±1e16 times a different factor in [1, 2) per element: a limit that depends on how
# several elements grow (softmax over two infinite logits) shows up as a third probe that disagrees
LIMIT_PROBES = (1e8, 1e16)
LIMIT_RTOL, LIMIT_ATOL = 1e-6, 1e-12  # two probes (or a probe and the trace) that agree this well: a limit
LIMIT_GROWTH = 1e4  # a probe this many times larger in magnitude than the nearer one (same sign): the limit is ±inf

# The dtypes each built-in dtype holds exactly (a tensor already in one of them is not changed by the rounding).
HELD_EXACTLY: dict[torch.dtype, tuple[str, ...]] = {
    torch.float32: ("float32", "float16", "bfloat16", "int8", "uint8", "int16", "bool"),
    torch.float16: ("float16", "int8", "uint8", "bool"),
    torch.bfloat16: ("bfloat16", "int8", "uint8", "bool"),
}


def read_inputs(spec: LossSpec, pred: Any, target: Any) -> tuple[TensorInput, TensorInput | None]:
    """Parse pred and target as the spec needs them (pred float64, or a narrower float tensor widened when its values
    are read: see TensorInput.narrow; target per spec.target_dtype)."""
    pred_in = read_tensor(pred, "pred")
    if pred_in.narrow is None:
        pred_in = pred_in.same_decimals(pred_in.values.double())
    target_in = None
    if spec.target_kind is None:
        if target is not None and not (isinstance(target, str) and not target.strip()):
            raise InputError("engine.no_target_expected", loss=spec.name)
    elif target is None or (isinstance(target, str) and not target.strip()):
        if not spec.target_optional:
            raise InputError("engine.target_needed", loss=spec.name, kind=spec.target_kind)
    else:
        target_in = read_tensor(target, "target")
        values = target_in.values
        if spec.target_dtype == "float":
            values = values.double()
        elif spec.target_dtype == "index" and values.is_floating_point():
            values = require_class_indices(values, None)  # integers; the loss's prepare checks the range
        target_in = target_in.same_decimals(values)
    return pred_in, target_in


def _finite(t: torch.Tensor, name: str, allow_inf: bool = False, source: Any = None,
            extremes: tuple[float, float] | None = None) -> list[Message]:
    """require_finite, decided by one reduction where possible: a finite sum means every element is finite. The sum
    reads `source` where t is its values widened to float64 unchanged (the user's float32 tensor: half the bytes).
    `extremes`: t's (min, max) where they were read already (both finite: every element is; a NaN makes them NaN)."""
    if not t.is_floating_point():
        return []
    if all(map(math.isfinite, extremes)) if extremes is not None else all_finite(_same_values(source, t)):
        return []
    return require_finite(t, name, allow_inf=allow_inf)


def _same_values(source: Any, value: torch.Tensor) -> torch.Tensor:
    """The user's floating tensor `source` where `value` was read from it unchanged (a dense tensor of the same shape
    and device, so that every element of value is its element widened exactly), else value."""
    if (isinstance(source, torch.Tensor) and source.is_floating_point() and source.layout == torch.strided
            and not source.is_quantized and source.device == value.device and source.shape == value.shape):
        return source.detach()
    return value


def input_warnings(spec: LossSpec, pred: torch.Tensor, target: torch.Tensor | None,
                   sources: tuple[Any, Any] = (None, None), extremes: tuple[float, float] | None = None,
                   target_extremes: tuple[float, float] | None = None) -> list[Message]:
    """NaN is refused; ±inf in logits or scores is allowed and warned about. `sources`: the user's pred and target
    that pred and target were read from (see `_same_values`); `extremes`, `target_extremes`: pred's and the target's
    (min, max) where read already."""
    warnings = _finite(pred, "pred", allow_inf=spec.pred_kind in INF_ALLOWED, source=sources[0], extremes=extremes)
    if target is not None:
        warnings += _finite(target, "target", source=sources[1], extremes=target_extremes)
    return warnings


def _input_extremes(t: torch.Tensor | None) -> tuple[float, float] | None:
    """(min, max) of a non-empty floating tensor (NaN where it holds a NaN), else None: a user's input, read here for
    the first time, in one pass (lossapp.trace.tensor_extremes)."""
    if t is None or not t.is_floating_point() or t.numel() == 0:
        return None
    return tensor_extremes(t, one_pass=True)


def resolve_reduction(spec: LossSpec, reduction: Any) -> str:
    """One of the loss's reductions (None or blank: its default), case-insensitive."""
    if reduction is None or (isinstance(reduction, str) and not reduction.strip()):
        return spec.default_reduction
    text = reduction.strip().lower() if isinstance(reduction, str) else None
    if text not in spec.reductions:
        written = quote(reduction) if isinstance(reduction, str) else shown(reduction)
        raise InputError("engine.bad_reduction", loss=spec.name, reductions=", ".join(spec.reductions), got=written)
    return text


def run_trace(spec: LossSpec, pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
              reduction: str, *, release: bool = False,
              replay: Replayer | None = None, quiet: bool = False,
              sparse: bool = False, source: torch.Tensor | None = None, narrow: bool = False,
              shared: dict[str, Any] | None = None) -> tuple[Trace, torch.Tensor, torch.Tensor | None]:
    """Run the float64 step function; return the trace, the value and d(value)/d(pred).

    The gradient is autograd of the trace, or the spec's own `gradient` where it gives one (then the trace runs
    without recording a graph; with `LossSpec.gradient_shared` the sums it computed on the way are the trace's
    `shared`, which the steps read instead of summing again). With `release`, the steps keep only their shown elements from the moment they are
    written (a transient trace: they add nothing to the peak memory of the computation or of the backward pass), their
    complete values to come from `replay`. With `quiet`, the steps that are only shown are not written (a rerun whose
    steps nobody reads). A gradient that autograd gives as a sparse COO tensor (NLL's of log-probabilities: one element
    per sample, from torch.gather's sparse_grad) is returned so with `sparse` (for `compare_gradients`, which compares
    it where it lives), else dense: element for element the tensor a dense backward writes (zeros, each element added).
    `source`: the user's narrower tensor that pred was widened from unchanged, for the steps to read (`Trace.source`).
    `narrow`: pred is in a narrower floating dtype and the spec takes it so (`LossSpec.narrow_pred`): not widened.
    `shared`: what the loss's prepare found out about these very inputs (its trace's `shared`), for the trace's.
    """
    trace = Trace(transient=release, replay=replay, quiet=quiet, source=source, shared=dict(shared or {}))
    x = carry_extremes(pred.detach(), pred)  # (within a check, pred's range found by the prepare: shared)
    x = x.double() if x.is_floating_point() and not narrow else x
    grad = None
    if spec.differentiable and spec.gradient is not None:
        shared = {"shared": trace.shared} if spec.gradient_shared else {}
        grad = spec.gradient(x, target, params, reduction, **shared)
    autograd = spec.differentiable and grad is None and x.is_floating_point()
    if autograd:
        x.requires_grad_(True)
    with torch.set_grad_enabled(autograd):
        value = spec.steps(trace, x, target, params, reduction)
    if release:
        trace.release(replay)  # (the steps a loss appends itself, e.g. a combined loss's parts)
    if autograd:
        if value.requires_grad:
            (grad,) = torch.autograd.grad(value, x, torch.ones_like(value), allow_unused=True)
        grad = torch.zeros_like(x) if grad is None else grad
    if isinstance(grad, Lazy) and not sparse:  # (an elementwise gradient: with `sparse`, compared as it is)
        grad = grad.full()
    if grad is not None and grad.layout != torch.strided and not sparse:
        grad = grad.to_dense()
    if trace.unreduced is not None:
        trace.unreduced = trace.unreduced.detach()
    return trace, value.detach(), grad if grad is None or isinstance(grad, Lazy) else grad.detach()


def verification_device(device: torch.device) -> torch.device:
    """Where the float64 trace and the comparisons run: on a CUDA device with the built-in; on the CPU otherwise
    (MPS has no float64)."""
    return device if device.type == "cuda" else torch.device("cpu")


def _on(value: Any, device: torch.device) -> Any:
    """A parameter or input on `device` (float tensors as float64)."""
    return _to_device(value, device, torch.float64)


@dataclass(frozen=True, eq=False)
class Replay:
    """Reruns a computation from the inputs its Result keeps, for what the Result does not hold: every element of
    every step, and the complete gradients. Holds references to those inputs only (no copy, no cycle)."""

    spec: LossSpec
    pred: torch.Tensor | TensorInput  # as prepared by the loss, on the CPU (a TensorInput: its values, read when replayed)
    target: torch.Tensor | None
    params: dict[str, Any]
    reduction: str
    device: torch.device
    dtype: torch.dtype

    def _inputs(self) -> tuple[torch.Tensor, torch.Tensor | None, dict[str, Any]]:
        device = verification_device(self.device)
        pred = self.pred.values if isinstance(self.pred, TensorInput) else self.pred
        return _on(pred, device), _on(self.target, device), {k: _on(v, device) for k, v in self.params.items()}

    def steps(self) -> list[Step]:
        """Every step with its complete value (the trace rerun without a gradient)."""
        x, t, params = self._inputs()
        trace = Trace()
        with torch.no_grad():
            self.spec.steps(trace, x, t, params, self.reduction)
        return trace.steps

    def gradients(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The complete gradients: the trace's at the inputs as written and the built-in's (None when there is none)."""
        x, t, params = self._inputs()
        _, _, manual = run_trace(self.spec, x, t, params, self.reduction, release=True, quiet=True)
        _, reference = run_reference(self.spec, x, t, params, self.reduction, self.device, self.dtype)
        return None if manual is None or reference is None else (manual, reference.to(manual.device))


def _held_exactly(source: Any, dtype: torch.dtype) -> bool:
    """Whether `dtype` holds the user's tensor exactly, known from the tensor's own dtype (False when unknown)."""
    if dtype == torch.float64:
        return True
    return str(getattr(source, "dtype", "")).removeprefix("torch.") in HELD_EXACTLY.get(dtype, ())


def _in_dtype(source: Any, value: torch.Tensor, dtype: torch.dtype) -> torch.Tensor | None:
    """The user's own tensor `source` where it is `value` in `dtype` already (see `_same_values`), so that the built-in
    reads it without a rounded copy; else None."""
    same = _same_values(source, value)
    return same if same is not value and same.dtype == dtype else None


def _rounded(value: Any, dtype: torch.dtype, exact: bool = False, source: Any = None) -> tuple[Any, bool]:
    """`value` rounded to `dtype` (floating tensors only) and whether that changed it (not checked when `exact`).
    `source`: the user's tensor `value` was read from unchanged (None when the loss's prepare changed it); where it
    is in `dtype` already, it is the rounded value itself (no copy)."""
    if not (isinstance(value, torch.Tensor) and value.is_floating_point()):
        return value, False
    same = _in_dtype(source, value, dtype)
    if same is not None:
        return same, False
    rounded = value.to(dtype)
    return rounded, not exact and not torch.equal(rounded.double(), value)


def _number(x: float) -> str:
    return f"{x + 0.0:.6g}"  # + 0.0: -0.0 is written 0


def _first(mask: torch.Tensor, shape: torch.Size) -> tuple[int, str, Message | str]:
    """(flat index of the first True, ' at index I' for it, ' (N elements)' when more than one is True)."""
    flat = mask.reshape(-1)
    first = int(torch.nonzero(flat)[0, 0])
    count = int(flat.sum())
    return first, at_index(first, tuple(shape)), msg("engine.count", count=f"{count:,}") if count > 1 else ""


# -- the dtype's range -------------------------------------------------------------------------------------

def overflow_warnings(named: dict[str, Any], rounded: dict[str, Any], dtype: torch.dtype) -> list[Message]:
    """Inputs finite in float64 that the built-in's dtype turns into ±inf (`named`: the inputs the rounding to
    `dtype` changed, by name; `rounded`: them in `dtype`)."""
    warnings = []
    biggest = torch.finfo(dtype).max
    for name, value in named.items():
        low = rounded[name]
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            continue
        if all_finite(low):
            continue
        lost = torch.isfinite(value) & ~torch.isfinite(low)
        if bool(lost.any()):
            _, at, count = _first(lost, value.shape)
            warnings.append(msg("engine.overflow", name=name, dtype=dtype_name(dtype), biggest=_number(biggest),
                                at=at, count=count))
    return warnings


def finiteness_warnings(ref_name: str, written: torch.Tensor, ref: torch.Tensor, dtype: torch.dtype,
                        inputs_overflow: bool) -> list[Message]:
    """A non-finite built-in value where the exact value (at the inputs as written) is finite, or the reverse;
    the dtype's range says why where it can."""
    mismatch = finiteness_mismatch(ref, written)
    if not bool(mismatch.any()):
        return []
    first, at, count = _first(mismatch, ref.shape)
    exact, got = float(written.reshape(-1)[first]), float(ref.reshape(-1)[first])
    dt, biggest = dtype_name(dtype), torch.finfo(dtype).max
    if not math.isfinite(exact):
        return [msg("engine.trace_not_finite", exact=_number(exact), at=at, reference=ref_name, dtype=dt,
                    got=_number(got), count=count)]
    if inputs_overflow:
        why = msg("engine.why_inputs_overflow", dtype=dt)
    elif abs(exact) > biggest:
        why = msg("engine.why_exceeds", dtype=dt, biggest=_number(biggest))
    elif math.isnan(got):
        why = msg("engine.why_undefined", dtype=dt)
    else:
        why = msg("engine.why_overflows", dtype=dt, biggest=_number(biggest))
    return [msg("engine.builtin_not_finite", reference=ref_name, dtype=dt, got=_number(got), at=at,
                exact=_number(exact), count=count, why=why)]


# -- disagreements ---------------------------------------------------------------------------------------------

def value_warning(ref_name: str, exact: torch.Tensor, written: torch.Tensor, ref: torch.Tensor,
                  dtype: torch.dtype) -> list[Message]:
    """The built-in out of tolerance from the exact value of the inputs it saw, at the element the most tolerances
    away (elements finite in only one of the built-in and the exact value of the inputs as written: see
    finiteness_warnings). Called only when the comparison disagrees."""
    rtol, atol = TOLERANCES[dtype]
    ref = torch.where(finiteness_mismatch(ref, written).reshape(ref.shape), exact, ref.double())
    if closeness(ref, exact, rtol, atol).agrees:
        return []
    e, r = exact.reshape(-1), ref.reshape(-1)
    matched = (torch.isnan(r) & torch.isnan(e)) | (torch.isinf(r) & (r == e))
    worst = int(torch.argmax(((r - e).abs() / (atol + rtol * e.abs())).masked_fill_(matched, 0.0)))  # NaN first
    mine, theirs = float(e[worst]), float(r[worst])
    return [msg("engine.value_differs", reference=ref_name, diff=_number(abs(mine - theirs)),
                at=at_index(worst, exact.shape), trace=_number(mine), builtin=_number(theirs), dtype=dtype_name(dtype),
                rtol=f"{rtol:g}", atol=f"{atol:g}")]


def gradient_warning(gradient: GradientComparison, ref_name: str, dtype: torch.dtype) -> list[Message]:
    """Every gradient disagreement, with max |Δ| and the worst element: its index and both values (the trace's
    at the inputs the built-in saw; at the inputs as written where only that one is finite or not)."""
    if gradient.agrees or gradient.worst is None:
        return []
    worst = gradient.worst
    flat = int(np.ravel_multi_index(worst["index"], gradient.shape)) if worst["index"] else 0
    return [msg("engine.gradient_differs", reference=ref_name, diff=_number(gradient.max_abs_diff),
                at=at_index(flat, gradient.shape), trace=_number(worst["manual"]), builtin=_number(worst["reference"]),
                dtype=dtype_name(dtype), rtol=f"{gradient.rtol:g}", atol=_number(gradient.atol))]


# -- ±inf in pred: the limit of the formula ------------------------------------------------------------------------

def _probe(x: torch.Tensor, magnitude: float, varied: bool = False) -> torch.Tensor:
    """pred with each ±inf replaced by ±magnitude (times 1 + k/n for the k-th of n inf elements if varied)."""
    inf = torch.isinf(x)
    factor = torch.ones_like(x)
    if varied:
        n = int(inf.sum())
        factor[inf] = 1 + torch.arange(n, dtype=x.dtype, device=x.device) / n
    return torch.where(inf, torch.sign(x) * magnitude * factor, x)


def _agree(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    same_inf = torch.isinf(a) & (a == b)
    return same_inf | ((a - b).abs() <= LIMIT_ATOL + LIMIT_RTOL * b.abs())


def estimate_limit(near: torch.Tensor, far: torch.Tensor, varied: torch.Tensor) -> torch.Tensor:
    """Element by element, from the three probes: the limit (the far value where near and far agree and the
    varied probe agrees too; ±inf where all keep growing with one sign), NaN where they show none."""
    def growing(small: torch.Tensor, large: torch.Tensor) -> torch.Tensor:
        return (torch.sign(small) == torch.sign(large)) & (small != 0) & (large.abs() >= LIMIT_GROWTH * small.abs())

    settled = _agree(near, far) & _agree(varied, far)
    infinite = growing(near, far) & growing(near, varied)
    nan = torch.full_like(far, torch.nan)
    return torch.where(settled, far, torch.where(infinite, torch.sign(far) * torch.inf, nan))


def limit_warnings(spec: LossSpec, x: torch.Tensor, t: torch.Tensor | None, params: dict[str, Any], reduction: str,
                   value: torch.Tensor, grad: torch.Tensor | None) -> list[Message] | None:
    """With ±inf in pred: None when the trace's value and gradient are the limits of the formula as those
    elements → ±inf (estimated with probes of large finite values, see LIMIT_PROBES), else what is not, said
    honestly."""
    near, far = LIMIT_PROBES
    try:
        probes = [run_trace(spec, _probe(x, magnitude, varied), t, params, reduction, release=True)[1:]
                  for magnitude, varied in ((near, False), (far, False), (far, True))]
    except (InputError, RuntimeError):  # the formula cannot even be evaluated at large finite values
        probes = []
    warnings = []
    for what, got, index in ((msg("engine.what_value"), value, 0), (msg("engine.what_gradient"), grad, 1)):
        if got is None:
            continue
        limit = estimate_limit(*(p[index] for p in probes)) if probes else torch.full_like(got, torch.nan)
        known = ~torch.isnan(limit)
        differs = known & ~_agree(got, limit)
        if bool(differs.any()):
            first, at, count = _first(differs, got.shape)
            warnings.append(msg("engine.limit_differs", what=what, got=_number(float(got.reshape(-1)[first])), at=at,
                                limit=_number(float(limit.reshape(-1)[first])), count=count))
        elif not bool(known.all()):
            first, at, count = _first(~known, got.shape)
            number = _number(float(got.reshape(-1)[first]))
            if number == "nan":
                warnings.append(msg("engine.limit_not_found", what=what, at=at, count=count))
            else:
                warnings.append(msg("engine.limit_unknown", what=what, got=number, at=at, count=count))
    return warnings or None


# -- compute ---------------------------------------------------------------------------------------------------

def _verify(spec: LossSpec, x: torch.Tensor, t: torch.Tensor | None, params: dict[str, Any], reduction: str,
            device: torch.device, dtype: torch.dtype, held_exactly: tuple[bool, bool], value: torch.Tensor,
            grad: torch.Tensor | None, sources: tuple[Any, Any] = (None, None),
            ) -> tuple[Comparison, GradientComparison | None, list[Message]]:
    """Run the built-in on the inputs rounded to its dtype and compare it, value and gradient, every element, with the
    exact float64 value of those rounded inputs: the trace's own `value` and `grad` when the rounding changes
    nothing (always where the dtype holds the inputs exactly), else a rerun of the trace on the rounded inputs.
    The warnings say every disagreement, where and why. `sources`: the user's pred and target where x and t were
    read from them unchanged (see `_rounded`)."""
    warnings: list[Message] = []
    tensors = [k for k, v in params.items() if isinstance(v, torch.Tensor)]  # (the rounding changes nothing else)
    named = {"pred": (x, held_exactly[0]), "target": (t, held_exactly[1]),
             **{msg("engine.parameter", name=k): (params[k], False) for k in tensors}}
    given = {"pred": sources[0], "target": sources[1]}
    rounded = {name: _rounded(v, dtype, exact, given.get(name)) for name, (v, exact) in named.items()}
    changed = [name for name, (_, c) in rounded.items() if c]
    overflow = overflow_warnings({n: named[n][0] for n in changed}, {n: rounded[n][0] for n in changed}, dtype)
    warnings += categorized(overflow, PrecisionWarning)
    x_ref, t_ref = rounded["pred"][0], rounded["target"][0]
    exact_value, exact_grad = value, grad
    if changed:
        as_float64 = {k: _on(rounded[msg("engine.parameter", name=k)][0] if k in tensors else v, x.device)
                      for k, v in params.items()}
        _, exact_value, exact_grad = run_trace(spec, _on(x_ref, x.device), _on(t_ref, x.device), as_float64,
                                               reduction, release=True, quiet=True, sparse=True)
        shift_by = (exact_value - value).abs()
        shift, scale = float(shift_by.max()), float(value.abs().max())
        if not (math.isfinite(shift) and math.isfinite(scale)):  # where not both finite, the overflow warnings say why
            both = torch.isfinite(exact_value) & torch.isfinite(value)
            shift, scale = ((float(shift_by[both].max()), float(value[both].abs().max())) if bool(both.any())
                            else (0.0, 0.0))
        rtol, _ = TOLERANCES[dtype]
        if shift > 1e-12 + rtol * scale:  # only when it matters at this precision
            warnings += categorized([msg("engine.rounding_changes_value", dtype=dtype_name(dtype),
                                         shift=f"{shift:.3g}")], PrecisionWarning)
    ref_value, ref_grad = run_reference(spec, x_ref, t_ref, params, reduction, device, dtype)
    del x_ref, t_ref, rounded  # not needed for the comparisons (whose differences are the peak of memory here)
    ref_value = ref_value.to(x.device)  # (from an MPS built-in to the CPU trace; no copy otherwise)
    ref_grad = None if ref_grad is None else ref_grad.to(x.device)
    comparison = compare_values(spec, exact_value, ref_value, device, dtype, written=value)
    if not comparison.agrees:
        warnings += categorized(value_warning(spec.reference_name, exact_value, value, ref_value, dtype)
                                + finiteness_warnings(spec.reference_name, value, ref_value, dtype, bool(overflow)),
                                ReferenceWarning)
    gradient = None
    if grad is not None and ref_grad is not None:
        support = None if spec.gradient_support is None or exact_grad.layout != torch.strided \
            else spec.gradient_support(x, t, params)  # (a sparse gradient holds its own)
        # (the built-in's gradient is this call's own tensor: the check that it is 0 off the support may use it as scratch)
        gradient = compare_gradients(exact_grad, ref_grad, dtype, written=grad, support=support, scratch=True)
        warnings += categorized(gradient_warning(gradient, spec.reference_name, dtype), ReferenceWarning)
    return comparison, gradient, warnings


def compute(loss: str, pred: Any, target: Any = None, *, reduction: str | None = None, device: str = "cpu",
            dtype: str = "float32", **params: Any) -> Result:
    """Compute `loss` step by step in float64 and compare with torch's built-in on device/dtype.
    reduction None: the loss's own default ("mean" for most, "sum" for the penalties)."""
    spec = lookup(loss)
    if spec.kind == "metric":  # metrics from counts: no trace to verify against a built-in
        from lossapp.confusion_metrics import confusion_from_params
        return confusion_from_params(pred=pred, target=target, **params)
    reduction = resolve_reduction(spec, reduction)
    dev, dt = resolve_device(device), resolve_dtype(dtype)
    effective = spec.resolve_params(params)
    pred_in, target_in = read_inputs(spec, pred, target)
    vdev = verification_device(dev)
    run_params = {k: _on(v, vdev) for k, v in effective.items()}
    # a large pred in a narrower float dtype, which the loss takes as it is: no float64 copy (TensorInput.narrow)
    narrow = pred_in.narrow if spec.narrow_pred is not None and spec.narrow_pred(effective) else None
    x0 = _on(pred_in.values, vdev) if narrow is None else narrow.to(vdev)
    t0 = None if target_in is None else target_in.values.to(vdev)
    same = _same_values(pred, x0)
    same_t = t0 if t0 is None or not t0.is_floating_point() else _same_values(target, t0)
    prep = Trace(source=same if same is not x0 and same.dtype != torch.float64 else None,
                 target_source=same_t if same_t is not t0 and same_t.dtype != torch.float64 else None)
    if narrow is not None or spec.reads_extremes:  # (their extremes, for the check of the inputs and the loss's
        # prepare: one pass for both; over the user's own narrower tensors where there are some)
        prep.extremes = _input_extremes(prep.pred_values(x0))
        prep.target_extremes = _input_extremes(None if t0 is None else prep.target_values(t0)) \
            if spec.reads_extremes else None
    inf_warnings = categorized(input_warnings(spec, x0, t0, (pred, target), prep.extremes, prep.target_extremes),
                               InputWarning)
    prep.warnings.extend(inf_warnings)
    x, t = x0, t0
    if spec.prepare is not None:
        x, t = spec.prepare(x, t, run_params, prep)
    kept_pred = pred_in if x is x0 else pred_in.same_decimals(x.cpu().double())
    kept_target = target_in if target_in is None or t is t0 else target_in.same_decimals(t.cpu())
    replay = Replay(spec, kept_pred if narrow is not None and x is x0 else kept_pred.values,
                    kept_target.values if kept_target else None, effective, reduction, dev, dt)

    trace, value, manual_grad = run_trace(spec, x, t, run_params, reduction, release=True, replay=replay, sparse=True,
                                          source=prep.source if x is x0 else None, narrow=narrow is not None and x is x0,
                                          shared=prep.shared)
    warnings = categorized(dict.fromkeys(prep.warnings + trace.warnings), StepWarning)  # the loss's own notes
    if inf_warnings and bool(torch.isinf(x).any()):
        dense = None if manual_grad is None else \
            manual_grad.full() if isinstance(manual_grad, Lazy) else manual_grad.to_dense()  # (a dense one: itself)
        honest = limit_warnings(spec, x.double(), t, run_params, reduction, value, dense)
        if honest is not None:  # the trace is not (or not known to be) the limit: say that instead
            warnings = [w for w in warnings if w not in inf_warnings] + categorized(honest, InputWarning)
    warnings += categorized([w for w in mixup_warnings(spec, x0, t0, effective, reduction) if w not in warnings],
                            InputWarning)

    comparison, gradient, notes = _verify(spec, x, t, run_params, reduction, dev, dt,
                                          (_held_exactly(pred, dt), _held_exactly(target, dt)), value, manual_grad,
                                          (pred if x is x0 else None, target if t is t0 else None))
    warnings += notes
    if gradient is not None:
        gradient.replay = replay
    return Result(loss=spec.name, params=effective, reduction=reduction, value=value.double().cpu(),
                  steps=trace.steps, reference=comparison, gradient=gradient, warnings=warnings, spec=spec,
                  pred=kept_pred, target=kept_target,
                  unreduced=trace.unreduced.cpu() if trace.unreduced is not None else None, replay=replay)


__all__ = ["DTYPES", "Replay", "compute", "read_inputs", "resolve_reduction", "run_trace"]
