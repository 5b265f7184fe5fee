"""compute(): inputs -> the loss's float64 trace -> the torch reference -> Result."""

from __future__ import annotations

from typing import Any

import torch

from lossapp.inputs import InputError, TensorInput, read_tensor, require_class_indices, require_finite
from lossapp.lint import lint
from lossapp.reference import (
    DTYPES,
    TOLERANCES,
    compare_gradients,
    compare_values,
    dtype_name,
    resolve_device,
    resolve_dtype,
    run_reference,
)
from lossapp.registry import LossSpec, lookup
from lossapp.result import Result
from lossapp.trace import Trace

INF_ALLOWED = ("logits", "log_probabilities", "scores")


def _as_list(value: torch.Tensor) -> float | list:
    v = value.detach().cpu().double()
    return v.item() if v.dim() == 0 else v.tolist()


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


def input_warnings(spec: LossSpec, pred: TensorInput, target: TensorInput | None) -> list[str]:
    """NaN is refused; ±inf in logits or scores is allowed and warned about."""
    warnings = require_finite(pred.values, "pred", allow_inf=spec.pred_kind in INF_ALLOWED)
    if target is not None:
        warnings += require_finite(target.values, "target")
    return warnings


def run_trace(spec: LossSpec, pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
              reduction: str) -> tuple[Trace, torch.Tensor, torch.Tensor | None]:
    """Run the float64 step function; return the trace, the value and d(value)/d(pred)."""
    trace = Trace()
    x = pred.detach().double().clone()
    if spec.differentiable:
        x.requires_grad_(True)
    value = spec.steps(trace, x, target, params, reduction)
    grad = None
    if spec.differentiable:
        if spec.gradient is not None:
            grad = spec.gradient(pred.double(), target, params, reduction).detach()
        elif value.requires_grad:
            (grad,) = torch.autograd.grad(value, x, torch.ones_like(value), allow_unused=True)
            grad = torch.zeros_like(x) if grad is None else grad.detach()
        else:
            grad = torch.zeros_like(x)
    return trace, value.detach(), grad


def _round_to(value: Any, dtype: torch.dtype) -> Any:
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.to(dtype).double()
    return value


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
    prep = Trace()
    prep.warnings.extend(input_warnings(spec, pred_in, target_in))
    x, t = pred_in.values, target_in.values if target_in else None
    if spec.prepare is not None:
        x, t = spec.prepare(x, t, effective, prep)

    trace, value, manual_grad = run_trace(spec, x, t, effective, reduction)
    warnings = list(dict.fromkeys(prep.warnings + trace.warnings))
    warnings += [w for w in lint(spec, pred_in.values, target_in.values if target_in else None, effective, reduction)
                 if w not in warnings]

    # The built-in sees the inputs rounded to its dtype; compare it with the exact value of those.
    rounded = [_round_to(v, dt) for v in (x, t)]
    rounded_params = {k: _round_to(v, dt) for k, v in effective.items()}
    changed = dt != torch.float64 and any(
        isinstance(a, torch.Tensor) and not torch.equal(a, b)
        for a, b in zip([x, t, *effective.values()], [*rounded, *rounded_params.values()], strict=True))
    exact_value, exact_grad = value, manual_grad
    if changed:
        _, exact_value, exact_grad = run_trace(spec, rounded[0], rounded[1], rounded_params, reduction)
        shift = (exact_value - value).abs().max().item()
        rtol, _ = TOLERANCES[dt]
        if shift > 1e-12 + rtol * value.abs().max().item():  # only when it matters at this precision
            warnings.append(f"rounding the inputs to {dtype_name(dt)} changes the exact value by {shift:.3g}; "
                            f"the built-in is compared with the exact value of the rounded inputs")
    ref_value, ref_grad = run_reference(spec, x, t, effective, reduction, dev, dt)
    comparison = compare_values(spec, exact_value, ref_value, dev, dt)
    gradient = None
    if manual_grad is not None and ref_grad is not None:
        gradient = compare_gradients(exact_grad, ref_grad, dt)
        gradient.manual_tensor = manual_grad  # shown: the gradient at the inputs as written
    if not comparison.agrees:
        warnings.append(f"the trace and {spec.reference_name} differ by {comparison.abs_diff:.3g} "
                        f"(tolerance for {dtype_name(dt)}: rtol {comparison.rtol:g}, atol {comparison.atol:g})")
    return Result(loss=spec.name, params=effective, reduction=reduction, value=_as_list(value),
                  steps=trace.steps, reference=comparison, gradient=gradient, warnings=warnings, spec=spec,
                  pred=pred_in if x is pred_in.values else TensorInput(x, pred_in.decimals),
                  target=target_in if target_in is None or t is target_in.values else TensorInput(t, target_in.decimals),
                  unreduced=trace.unreduced.detach() if trace.unreduced is not None else None)


__all__ = ["DTYPES", "compute", "read_inputs", "run_trace"]
