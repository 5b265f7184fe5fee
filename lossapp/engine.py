"""compute(): inputs -> the loss's float64 trace -> the torch reference -> Result.

Show few, verify all. The float64 trace runs once over every element, on the chosen device (a CUDA
device; the CPU for MPS, which has no float64), and its steps
keep only the elements a person reads once it is done (`lossapp.trace`); the value and the gradient are
compared with the built-in's over every element (`lossapp.reference.closeness`: one pass for the
difference and a reduction or two). Each input is checked for NaN / ±inf with one reduction; the rounding
to the built-in's dtype is checked only where that dtype may not hold the input exactly. What the Result
does not hold (every element of a step, the complete gradients) comes back from a `Replay` of the
computation, on request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from lossapp.inputs import InputError, TensorInput, read_tensor, require_class_indices, require_finite
from lossapp.lint import lint
from lossapp.reference import (
    DTYPES,
    TOLERANCES,
    Comparison,
    GradientComparison,
    _to_device,
    compare_gradients,
    compare_values,
    dtype_name,
    resolve_device,
    resolve_dtype,
    run_reference,
)
from lossapp.registry import LossSpec, lookup
from lossapp.result import Result
from lossapp.trace import Replayer, Step, Trace, as_list

INF_ALLOWED = ("logits", "log_probabilities", "scores")

# The dtypes each built-in dtype holds exactly (a tensor already in one of them is not changed by the rounding).
HELD_EXACTLY: dict[torch.dtype, tuple[str, ...]] = {
    torch.float32: ("float32", "float16", "bfloat16", "int8", "uint8", "int16", "bool"),
    torch.float16: ("float16", "int8", "uint8", "bool"),
    torch.bfloat16: ("bfloat16", "int8", "uint8", "bool"),
}


def read_inputs(spec: LossSpec, pred: Any, target: Any) -> tuple[TensorInput, TensorInput | None]:
    """Parse pred and target as the spec needs them (pred float64; target per spec.target_dtype)."""
    pred_in = read_tensor(pred, "pred")
    pred_in = TensorInput(pred_in.values.double(), pred_in.decimals)
    target_in = None
    if spec.target_kind is None:
        if target is not None and not (isinstance(target, str) and not target.strip()):
            raise InputError(f"{spec.name}: expected no target (it is a penalty on pred alone), got one")
    else:
        if target is None or (isinstance(target, str) and not target.strip()):
            raise InputError(f"{spec.name}: expected a target tensor ({spec.target_kind}), got none")
        target_in = read_tensor(target, "target")
        values = target_in.values
        if spec.target_dtype == "float":
            values = values.double()
        elif spec.target_dtype == "index" and values.is_floating_point():
            values = require_class_indices(values, None)  # integers; the loss's prepare checks the range
        target_in = TensorInput(values, target_in.decimals)
    return pred_in, target_in


def _finite(t: torch.Tensor, name: str, allow_inf: bool = False) -> list[str]:
    """require_finite, decided by one reduction where possible: a finite sum means every element is finite."""
    if not t.is_floating_point() or math.isfinite(float(t.sum())):
        return []
    return require_finite(t, name, allow_inf=allow_inf)


def input_warnings(spec: LossSpec, pred: torch.Tensor, target: torch.Tensor | None) -> list[str]:
    """NaN is refused; ±inf in logits or scores is allowed and warned about."""
    warnings = _finite(pred, "pred", allow_inf=spec.pred_kind in INF_ALLOWED)
    if target is not None:
        warnings += _finite(target, "target")
    return warnings


def run_trace(spec: LossSpec, pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
              reduction: str, *, release: bool = False,
              replay: Replayer | None = None) -> tuple[Trace, torch.Tensor, torch.Tensor | None]:
    """Run the float64 step function; return the trace, the value and d(value)/d(pred).

    The gradient is autograd of the trace, or the spec's own `gradient` where it gives one (then the trace runs
    without recording a graph). With `release`, the steps keep only their shown elements (before the backward
    pass, so they do not add to its peak memory), their complete values to come from `replay`."""
    trace = Trace()
    x = pred.detach()
    x = x.double() if x.is_floating_point() else x
    grad = None
    if spec.differentiable and spec.gradient is not None:
        grad = spec.gradient(x, target, params, reduction)
    autograd = spec.differentiable and grad is None and x.is_floating_point()
    if autograd:
        x.requires_grad_(True)
    with torch.set_grad_enabled(autograd):
        value = spec.steps(trace, x, target, params, reduction)
    if release:
        trace.release(replay)
    if autograd:
        if value.requires_grad:
            (grad,) = torch.autograd.grad(value, x, torch.ones_like(value), allow_unused=True)
        grad = torch.zeros_like(x) if grad is None else grad
    if trace.unreduced is not None:
        trace.unreduced = trace.unreduced.detach()
    return trace, value.detach(), None if grad is None else grad.detach()


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
    pred: torch.Tensor  # as prepared by the loss, on the CPU
    target: torch.Tensor | None
    params: dict[str, Any]
    reduction: str
    device: torch.device
    dtype: torch.dtype

    def _inputs(self) -> tuple[torch.Tensor, torch.Tensor | None, dict[str, Any]]:
        device = verification_device(self.device)
        return _on(self.pred, device), _on(self.target, device), {k: _on(v, device) for k, v in self.params.items()}

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
        _, _, manual = run_trace(self.spec, x, t, params, self.reduction, release=True)
        _, reference = run_reference(self.spec, x, t, params, self.reduction, self.device, self.dtype)
        return None if manual is None or reference is None else (manual, reference.to(manual.device))


def _held_exactly(source: Any, dtype: torch.dtype) -> bool:
    """Whether `dtype` holds the user's tensor exactly, known from the tensor's own dtype (False when unknown)."""
    if dtype == torch.float64:
        return True
    return str(getattr(source, "dtype", "")).removeprefix("torch.") in HELD_EXACTLY.get(dtype, ())


def _rounded(value: Any, dtype: torch.dtype, exact: bool = False) -> tuple[Any, bool]:
    """`value` rounded to `dtype` (floating tensors only) and whether that changed it (not checked when `exact`)."""
    if not (isinstance(value, torch.Tensor) and value.is_floating_point()):
        return value, False
    rounded = value.to(dtype)
    return rounded, not exact and not torch.equal(rounded.double(), value)


def _verify(spec: LossSpec, x: torch.Tensor, t: torch.Tensor | None, params: dict[str, Any], reduction: str,
            device: torch.device, dtype: torch.dtype, held_exactly: tuple[bool, bool], value: torch.Tensor,
            grad: torch.Tensor | None) -> tuple[Comparison, GradientComparison | None, list[str]]:
    """Run the built-in on the inputs rounded to its dtype and compare it, value and gradient, every element, with the
    exact float64 value of those rounded inputs: the trace's own `value` and `grad` when the rounding changes
    nothing (always where the dtype holds the inputs exactly), else a rerun of the trace on the rounded inputs."""
    warnings: list[str] = []
    x_ref, x_changed = _rounded(x, dtype, held_exactly[0])
    t_ref, t_changed = _rounded(t, dtype, held_exactly[1])
    params_ref = {k: _rounded(v, dtype) for k, v in params.items()}
    exact_value, exact_grad = value, grad
    if x_changed or t_changed or any(c for _, c in params_ref.values()):
        as_float64 = {k: _on(v, x.device) for k, (v, _) in params_ref.items()}
        _, exact_value, exact_grad = run_trace(spec, _on(x_ref, x.device), _on(t_ref, x.device), as_float64,
                                               reduction, release=True)
        shift = (exact_value - value).abs().max().item()
        rtol, _ = TOLERANCES[dtype]
        if shift > 1e-12 + rtol * value.abs().max().item():  # only when it matters at this precision
            warnings.append(f"rounding the inputs to {dtype_name(dtype)} changes the exact value by {shift:.3g}; "
                            f"the built-in is compared with the exact value of the rounded inputs")
    ref_value, ref_grad = run_reference(spec, x_ref, t_ref, params, reduction, device, dtype)
    del x_ref, t_ref  # not needed for the comparisons (whose differences are the peak of memory here)
    ref_value = ref_value.to(x.device)  # (from an MPS built-in to the CPU trace; no copy otherwise)
    ref_grad = None if ref_grad is None else ref_grad.to(x.device)
    comparison = compare_values(spec, exact_value, ref_value, device, dtype)
    gradient = None
    if grad is not None and ref_grad is not None:
        gradient = compare_gradients(exact_grad, ref_grad, dtype, shown=grad)
    if not comparison.agrees:
        warnings.append(f"the trace and {spec.reference_name} differ by {comparison.abs_diff:.3g} "
                        f"(tolerance for {dtype_name(dtype)}: rtol {comparison.rtol:g}, atol {comparison.atol:g})")
    return comparison, gradient, warnings


def compute(loss: str, pred: Any, target: Any = None, *, reduction: str = "mean", device: str = "cpu",
            dtype: str = "float32", **params: Any) -> Result:
    """Compute `loss` step by step in float64 and compare with torch's built-in on device/dtype."""
    spec = lookup(loss)
    if spec.name == "confusion":
        from lossapp.confusion import confusion_from_params
        return confusion_from_params(pred=pred, target=target, **params)
    reduction = str(reduction or spec.default_reduction).strip().lower()
    if reduction not in spec.reductions:
        raise InputError(f"{spec.name}: expected reduction {', '.join(spec.reductions)}, got {reduction!r}")
    dev, dt = resolve_device(device), resolve_dtype(dtype)
    effective = spec.resolve_params(params)
    pred_in, target_in = read_inputs(spec, pred, target)
    vdev = verification_device(dev)
    run_params = {k: _on(v, vdev) for k, v in effective.items()}
    x0 = _on(pred_in.values, vdev)
    t0 = None if target_in is None else target_in.values.to(vdev)
    prep = Trace()
    prep.warnings.extend(input_warnings(spec, x0, t0))
    x, t = x0, t0
    if spec.prepare is not None:
        x, t = spec.prepare(x, t, run_params, prep)
    kept_pred = pred_in if x is x0 else TensorInput(x.cpu(), pred_in.decimals)
    kept_target = target_in if target_in is None or t is t0 else TensorInput(t.cpu(), target_in.decimals)
    replay = Replay(spec, kept_pred.values, kept_target.values if kept_target else None, effective, reduction, dev, dt)

    trace, value, manual_grad = run_trace(spec, x, t, run_params, reduction, release=True, replay=replay)
    warnings = list(dict.fromkeys(prep.warnings + trace.warnings))
    warnings += [w for w in lint(spec, x0, t0, effective, reduction) if w not in warnings]

    comparison, gradient, notes = _verify(spec, x, t, run_params, reduction, dev, dt,
                                          (_held_exactly(pred, dt), _held_exactly(target, dt)), value, manual_grad)
    warnings += notes
    if gradient is not None:
        gradient.replay = replay
    return Result(loss=spec.name, params=effective, reduction=reduction, value=as_list(value.double()),
                  steps=trace.steps, reference=comparison, gradient=gradient, warnings=warnings, spec=spec,
                  pred=kept_pred, target=kept_target,
                  unreduced=trace.unreduced.cpu() if trace.unreduced is not None else None, replay=replay)


__all__ = ["DTYPES", "Replay", "compute", "read_inputs", "run_trace"]
