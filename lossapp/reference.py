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

import numpy as np
import torch

from lossapp.i18n import add_zh_patterns
from lossapp.inputs import InputError, quote
from lossapp.registry import LossSpec, shown

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
    """The torch device for a name (cpu; cuda, cuda:N or mps where present); anything else is an InputError
    saying which devices this machine has."""
    if isinstance(name, torch.device):
        name = str(name)
    if name is None or (isinstance(name, str) and not name.strip()):
        name = "cpu"
    if not isinstance(name, str):
        raise InputError(f"expected a device such as cpu, cuda, cuda:0 or mps, got {shown(name)}")
    text = name.strip().lower()
    match = re.fullmatch(r"cpu|mps|cuda(?::(-?\d+))?", text, re.ASCII)
    if match is None:
        raise InputError(f"expected a device such as cpu, cuda, cuda:0 or mps, got {quote(name)}")
    if match[1] is not None and len(match[1]) <= 20:
        text = f"cuda:{int(match[1])}"  # cuda:01 is cuda:1
    if text not in available_devices():
        raise InputError(f"device {quote(text)} is not available on this machine; available: "
                         f"{', '.join(available_devices())} (expected one of these)")
    return torch.device(text)


def resolve_dtype(name: str | torch.dtype | None) -> torch.dtype:
    if isinstance(name, torch.dtype):
        if name in TOLERANCES:
            return name
        raise InputError(f"expected dtype float16, bfloat16, float32 or float64, got {name}")
    if name is None or (isinstance(name, str) and not name.strip()):
        name = "float32"
    if not isinstance(name, str):
        raise InputError(f"expected dtype float16, bfloat16, float32 or float64, got {shown(name)}")
    text = name.strip().lower().removeprefix("torch.")
    text = _DTYPE_ALIASES.get(text, text)
    if text not in DTYPES:
        raise InputError(f"expected dtype float16, bfloat16, float32 or float64, got {quote(name)}")
    return DTYPES[text]


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


@dataclass
class Comparison:
    """The built-in's value next to the trace's. worst_index: where they differ most (None for a scalar)."""

    name: str
    value: Any  # float, or nested list for reduction="none"
    device: str
    dtype: str
    abs_diff: float
    rel_diff: float
    agrees: bool
    rtol: float
    atol: float
    worst_index: tuple[int, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "device": self.device, "dtype": self.dtype,
                "abs_diff": self.abs_diff, "rel_diff": self.rel_diff, "agrees": self.agrees,
                "rtol": self.rtol, "atol": self.atol,
                "worst_index": list(self.worst_index) if self.worst_index is not None else None}


def _as_list(t: torch.Tensor) -> list | float:
    return t.item() if t.dim() == 0 else t.tolist()


@dataclass
class GradientComparison:
    """d(loss)/d(pred): autograd of the float64 trace ("manual") vs autograd of the built-in.

    The tensors are kept; `manual` and `reference` are their (nested) lists, made on first use: a
    100,000-element gradient is compared without being turned into Python floats. worst_index: the element
    where they differ most (None for a 0-d pred)."""

    manual_tensor: torch.Tensor
    reference_tensor: torch.Tensor
    max_abs_diff: float
    agrees: bool
    worst_index: tuple[int, ...] | None = None
    rtol: float = 0.0
    atol: float = 0.0

    @functools.cached_property
    def manual(self) -> list | float:
        return _as_list(self.manual_tensor)

    @functools.cached_property
    def reference(self) -> list | float:
        return _as_list(self.reference_tensor)

    def to_dict(self) -> dict[str, Any]:
        return {"manual": self.manual, "reference": self.reference, "max_abs_diff": self.max_abs_diff,
                "agrees": self.agrees,
                "worst_index": list(self.worst_index) if self.worst_index is not None else None}


@dataclass(frozen=True)
class Closeness:
    """How far `actual` (the built-in) sits from `expected` (the trace), element by element."""

    abs_diff: float  # max |actual − expected|; NaN where one of a pair is NaN and the other is not
    rel_diff: float
    agrees: bool  # every element within atol + rtol·|expected| (NaN matches NaN, inf matches the same inf)
    worst: int | None  # flat index of the worst element: the first finiteness mismatch, else the largest |Δ|


def finiteness_mismatch(actual: torch.Tensor, expected: torch.Tensor) -> torch.Tensor:
    """Flat mask of the elements finite in one tensor and not in the other (an overflow, or a NaN)."""
    return torch.isfinite(actual.reshape(-1)) != torch.isfinite(expected.reshape(-1))


def closeness(actual: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float,
              written: torch.Tensor | None = None) -> Closeness:
    """Compare element by element. `written` (the trace at the inputs as written, when `expected` is the trace
    at the inputs rounded to the built-in's dtype): an element finite in one of `actual` and `written` and not in
    the other never agrees — a float16 overflow to inf is no agreement with a finite exact value."""
    a, b = actual.double().reshape(-1), expected.double().reshape(-1)
    if not a.numel():
        return Closeness(0.0, 0.0, True, None)
    both_nan = torch.isnan(a) & torch.isnan(b)
    same_inf = torch.isinf(a) & torch.isinf(b) & (a == b)
    skip = both_nan | same_inf
    diff = torch.where(skip, torch.zeros_like(a), (a - b).abs())
    abs_diff = float(diff.max())
    scale = b.abs().where(~skip, torch.zeros_like(b))
    rel = diff / scale.clamp_min(1e-300)
    rel_diff = float(torch.where(diff == 0, torch.zeros_like(rel), rel).max())
    tolerance = atol + rtol * scale
    bad = ~(diff <= tolerance)  # NaN differences (exactly one of the pair NaN) are bad too
    excess = diff / tolerance  # how many tolerances off: ranks the elements
    mismatch = finiteness_mismatch(a, b if written is None else written)
    if bool(mismatch.any()):
        worst = int(torch.nonzero(mismatch)[0, 0])
        # against the value as written the difference there is inf (NaN when one side is NaN)
        written_diff = (a - (b if written is None else written.double().reshape(-1)))[mismatch].abs()
        abs_diff = math.nan if bool(written_diff.isnan().any()) else math.inf
    else:
        worst = int(torch.argmax(excess.nan_to_num(nan=math.inf)))
    ok = not bool(bad.any()) and not bool(mismatch.any())
    return Closeness(abs_diff, 0.0 if math.isnan(rel_diff) else rel_diff, ok, worst)


def _unravel(flat: int | None, shape: torch.Size) -> tuple[int, ...] | None:
    if flat is None or len(shape) == 0:
        return None
    return tuple(int(i) for i in np.unravel_index(flat, tuple(shape)))


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
                   dtype: torch.dtype, written: torch.Tensor | None = None) -> Comparison:
    """The built-in's value against the trace's (see `closeness` for `written`)."""
    rtol, atol = TOLERANCES[dtype]
    close = closeness(ref_value, trace_value, rtol, atol, written)
    value = ref_value.item() if ref_value.dim() == 0 else ref_value.tolist()
    return Comparison(spec.reference_name, value, str(device), dtype_name(dtype), close.abs_diff, close.rel_diff,
                      close.agrees, rtol, atol, _unravel(close.worst, ref_value.shape))


def compare_gradients(manual: torch.Tensor, reference: torch.Tensor, dtype: torch.dtype,
                      written: torch.Tensor | None = None) -> GradientComparison:
    """The built-in's d(loss)/d(pred) against the trace's `manual` one, with an absolute tolerance scaled by the
    gradient's largest magnitude (when finite). `written`: the trace's gradient at the inputs as written (shown, and
    compared for finiteness as in `closeness`); `manual` when not given."""
    rtol, atol = TOLERANCES[dtype]
    scale = float(manual.abs().max()) if manual.numel() else 0.0
    atol = atol * max(1.0, scale if math.isfinite(scale) else 1.0)
    close = closeness(reference, manual, rtol, atol, written)
    shown_manual = manual if written is None else written
    return GradientComparison(shown_manual, reference, close.abs_diff, close.agrees,
                              _unravel(close.worst, shown_manual.shape), rtol, atol)


add_zh_patterns([
    (r"device (?P<d>.+) is not available on this machine; available: (?P<a>.+) \(expected one of these\)",
     r"本机没有设备 \g<d>；可用设备：\g<a>（应为其中之一）"),
])
