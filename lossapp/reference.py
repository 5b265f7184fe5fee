"""Run the torch built-in on the chosen device and dtype, and compare it with the float64 trace.

The trace is the worked solution; the reference is what PyTorch computes. They are compared with
dtype-aware tolerances on values and on d(loss)/d(pred) (autograd of the built-in vs autograd of the
elementary float64 trace).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any

import torch

from lossapp.inputs import InputError
from lossapp.registry import LossSpec

DTYPES: dict[str, torch.dtype] = {"float16": torch.float16, "bfloat16": torch.bfloat16,
                                  "float32": torch.float32, "float64": torch.float64}
_DTYPE_ALIASES = {"half": "float16", "fp16": "float16", "bf16": "bfloat16", "float": "float32", "fp32": "float32",
                  "single": "float32", "double": "float64", "fp64": "float64"}

# (rtol, atol): how far a built-in in this dtype may sit from the exact float64 value of the same
# (dtype-rounded) inputs. Half precisions carry 11 / 8 significant bits.
TOLERANCES: dict[torch.dtype, tuple[float, float]] = {
    torch.float64: (1e-9, 1e-12),
    torch.float32: (2e-5, 1e-6),
    torch.float16: (1e-2, 1e-3),
    torch.bfloat16: (5e-2, 1e-2),
}


def available_devices() -> list[str]:
    """cpu always; cuda, cuda:N and mps where present."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices


def resolve_device(name: str | torch.device | None) -> torch.device:
    text = str(name or "cpu").strip().lower()
    if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", text):
        raise InputError(f"expected a device such as cpu, cuda, cuda:0 or mps, got {name!r}")
    if text not in available_devices():
        raise InputError(f"device {text!r} is not available on this machine; available: {', '.join(available_devices())}")
    return torch.device(text)


def resolve_dtype(name: str | torch.dtype | None) -> torch.dtype:
    if isinstance(name, torch.dtype):
        if name in TOLERANCES:
            return name
        raise InputError(f"expected dtype float16, bfloat16, float32 or float64, got {name}")
    text = str(name or "float32").strip().lower().removeprefix("torch.")
    text = _DTYPE_ALIASES.get(text, text)
    if text not in DTYPES:
        raise InputError(f"expected dtype float16, bfloat16, float32 or float64, got {name!r}")
    return DTYPES[text]


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


@dataclass
class Comparison:
    """The built-in's value next to the trace's."""

    name: str
    value: Any  # float, or nested list for reduction="none"
    device: str
    dtype: str
    abs_diff: float
    rel_diff: float
    agrees: bool
    rtol: float
    atol: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "device": self.device, "dtype": self.dtype,
                "abs_diff": self.abs_diff, "rel_diff": self.rel_diff, "agrees": self.agrees,
                "rtol": self.rtol, "atol": self.atol}


def _as_list(t: torch.Tensor) -> list | float:
    return t.item() if t.dim() == 0 else t.tolist()


@dataclass
class GradientComparison:
    """d(loss)/d(pred): autograd of the float64 trace ("manual") vs autograd of the built-in.

    The tensors are kept; `manual` and `reference` are their (nested) lists, made on first use: a
    100,000-element gradient is compared without being turned into Python floats."""

    manual_tensor: torch.Tensor
    reference_tensor: torch.Tensor
    max_abs_diff: float
    agrees: bool

    @functools.cached_property
    def manual(self) -> list | float:
        return _as_list(self.manual_tensor)

    @functools.cached_property
    def reference(self) -> list | float:
        return _as_list(self.reference_tensor)

    def to_dict(self) -> dict[str, Any]:
        return {"manual": self.manual, "reference": self.reference, "max_abs_diff": self.max_abs_diff,
                "agrees": self.agrees}


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float, atol: float) -> tuple[float, float, bool]:
    """Max abs and rel difference, and whether all elements agree (NaN matches NaN, inf matches inf)."""
    a, b = a.double().reshape(-1), b.double().reshape(-1)
    both_nan = torch.isnan(a) & torch.isnan(b)
    same_inf = torch.isinf(a) & torch.isinf(b) & (a == b)
    skip = both_nan | same_inf
    diff = (a - b).abs()
    diff = torch.where(skip, torch.zeros_like(diff), diff)
    abs_diff = float(diff.max()) if diff.numel() else 0.0
    scale = b.abs().where(~skip, torch.zeros_like(b))
    rel = diff / scale.clamp_min(1e-300)
    rel_diff = float(torch.where(diff == 0, torch.zeros_like(rel), rel).max()) if diff.numel() else 0.0
    ok = bool((diff <= atol + rtol * scale).all()) and not bool(torch.isnan(diff).any())
    return abs_diff, (0.0 if math.isnan(rel_diff) else rel_diff), ok


def _to_device(value: Any, device: torch.device, dtype: torch.dtype) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device=device, dtype=dtype if value.is_floating_point() else value.dtype)
    return value


def run_reference(spec: LossSpec, pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                  reduction: str, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The built-in's value and d(loss)/d(pred) (None when pred is not continuous), on CPU in float64."""
    x = pred.to(device=device, dtype=dtype).detach()
    want_grad = spec.differentiable and x.is_floating_point()
    if want_grad:
        x.requires_grad_(True)
    t = target.to(device=device, dtype=dtype if target.is_floating_point() else target.dtype) \
        if target is not None else None
    p = {k: _to_device(v, device, dtype) for k, v in params.items()}
    try:
        value = spec.reference(x, t, p, reduction)
        grad = None
        if want_grad and value.requires_grad:
            (g,) = torch.autograd.grad(value, x, torch.ones_like(value), allow_unused=True)
            grad = g.detach().cpu().double() if g is not None else torch.zeros(x.shape, dtype=torch.float64)
    except RuntimeError as exc:
        message = str(exc).splitlines()[0]
        raise InputError(f"{spec.reference_name} failed on {device}/{dtype_name(dtype)}: {message}") from None
    return value.detach().cpu().double(), grad


def compare_values(spec: LossSpec, trace_value: torch.Tensor, ref_value: torch.Tensor, device: torch.device,
                   dtype: torch.dtype) -> Comparison:
    rtol, atol = TOLERANCES[dtype]
    abs_diff, rel_diff, ok = _close(ref_value, trace_value, rtol, atol)
    value = ref_value.item() if ref_value.dim() == 0 else ref_value.tolist()
    return Comparison(spec.reference_name, value, str(device), dtype_name(dtype), abs_diff, rel_diff, ok, rtol, atol)


def compare_gradients(manual: torch.Tensor, reference: torch.Tensor, dtype: torch.dtype) -> GradientComparison:
    rtol, atol = TOLERANCES[dtype]
    scale = float(manual.abs().max()) if manual.numel() else 0.0
    finite_scale = scale if math.isfinite(scale) else 1.0
    abs_diff, _, ok = _close(reference, manual, rtol, atol * max(1.0, finite_scale))
    return GradientComparison(manual, reference, abs_diff, ok)
