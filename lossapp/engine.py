"""compute(): inputs -> the loss's float64 trace -> the torch reference -> Result.

Every disagreement with the built-in is written into `Result.warnings`, with where it is and why where that is
known: values or gradients out of tolerance, a built-in that overflows its dtype where the exact value is
finite (or the reverse), inputs the dtype cannot hold, and a trace at ±inf that does not give the limit of its
formula. `Result.agrees` is the one flag for "everything agrees".
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from lossapp.i18n import add_zh_patterns
from lossapp.inputs import InputError, TensorInput, quote, read_tensor, require_class_indices, require_finite
from lossapp.inputs.errors import at_index
from lossapp.lint import lint
from lossapp.reference import (
    DTYPES,
    TOLERANCES,
    GradientComparison,
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
from lossapp.trace import Trace

INF_ALLOWED = ("logits", "log_probabilities", "scores")
# pred's ±inf replaced by ±1e8 and ±1e16 (the limit is where the two agree, or ±inf where the value keeps growing
# with one sign), and by ±1e16 times a different factor in [1, 2) per element: a limit that depends on how
# several elements grow (softmax over two infinite logits) shows up as a third probe that disagrees
LIMIT_PROBES = (1e8, 1e16)
LIMIT_RTOL, LIMIT_ATOL = 1e-6, 1e-12  # two probes (or a probe and the trace) that agree this well: a limit
LIMIT_GROWTH = 1e4  # a probe this many times larger in magnitude than the nearer one (same sign): the limit is ±inf


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


def resolve_reduction(spec: LossSpec, reduction: Any) -> str:
    """One of the loss's reductions (None or blank: its default), case-insensitive."""
    if reduction is None or (isinstance(reduction, str) and not reduction.strip()):
        return spec.default_reduction
    text = reduction.strip().lower() if isinstance(reduction, str) else None
    if text not in spec.reductions:
        written = quote(reduction) if isinstance(reduction, str) else shown(reduction)
        raise InputError(f"{spec.name}: expected reduction {', '.join(spec.reductions)}, got {written}")
    return text


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


def _number(x: float) -> str:
    return f"{x + 0.0:.6g}"  # + 0.0: -0.0 is written 0


def _first(mask: torch.Tensor, shape: torch.Size) -> tuple[int, str, str]:
    """(flat index of the first True, ' at index I' for it, ' (N elements)' when more than one is True)."""
    flat = mask.reshape(-1)
    first = int(torch.nonzero(flat)[0, 0])
    count = int(flat.sum())
    return first, at_index(first, tuple(shape)), f" ({count:,} elements)" if count > 1 else ""


# -- the dtype's range -------------------------------------------------------------------------------------

def overflow_warnings(named: dict[str, Any], rounded: dict[str, Any], dtype: torch.dtype) -> list[str]:
    """Inputs finite in float64 that the built-in's dtype turns into ±inf."""
    warnings = []
    biggest = torch.finfo(dtype).max
    for name, value in named.items():
        low = rounded[name]
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            continue
        lost = torch.isfinite(value) & ~torch.isfinite(low)
        if bool(lost.any()):
            _, at, count = _first(lost, value.shape)
            warnings.append(f"{name} holds values beyond {dtype_name(dtype)}'s largest finite number "
                            f"{_number(biggest)}{at}{count}: the built-in sees them as ±inf")
    return warnings


def finiteness_warnings(ref_name: str, written: torch.Tensor, ref: torch.Tensor, dtype: torch.dtype,
                        inputs_overflow: bool) -> list[str]:
    """A non-finite built-in value where the exact value (at the inputs as written) is finite, or the reverse;
    the dtype's range says why where it can."""
    mismatch = finiteness_mismatch(ref, written)
    if not bool(mismatch.any()):
        return []
    first, at, count = _first(mismatch, ref.shape)
    exact, got = float(written.reshape(-1)[first]), float(ref.reshape(-1)[first])
    dt, biggest = dtype_name(dtype), torch.finfo(dtype).max
    if not math.isfinite(exact):
        return [f"the trace's value is {_number(exact)}{at} where {ref_name} in {dt} gives {_number(got)}{count}"]
    if inputs_overflow:
        why = f"the inputs overflow {dt}"
    elif abs(exact) > biggest:
        why = f"the exact value exceeds {dt}'s largest finite number {_number(biggest)}"
    elif math.isnan(got):
        why = f"an intermediate result is undefined in {dt} (0/0, inf − inf, or a number out of its range)"
    else:
        why = f"an intermediate result overflows {dt} (largest finite number {_number(biggest)})"
    return [f"{ref_name} in {dt} gives {_number(got)}{at} where the exact value is {_number(exact)}{count}: {why}"]


# -- disagreements ---------------------------------------------------------------------------------------------

def value_warning(ref_name: str, exact: torch.Tensor, written: torch.Tensor, ref: torch.Tensor,
                  dtype: torch.dtype) -> list[str]:
    """The built-in out of tolerance from the exact value of the inputs it saw, at the worst element (elements
    finite in only one of the built-in and the exact value of the inputs as written: see finiteness_warnings)."""
    rtol, atol = TOLERANCES[dtype]
    ref = torch.where(finiteness_mismatch(ref, written).reshape(ref.shape), exact, ref)
    close = closeness(ref, exact, rtol, atol)
    if close.agrees:
        return []
    mine, theirs = float(exact.reshape(-1)[close.worst]), float(ref.reshape(-1)[close.worst])
    return [f"the trace and {ref_name} differ by {_number(abs(mine - theirs))}{at_index(close.worst, exact.shape)} "
            f"(trace {_number(mine)}, built-in {_number(theirs)}; tolerance for {dtype_name(dtype)}: rtol {rtol:g}, "
            f"atol {atol:g})"]


def gradient_warning(gradient: GradientComparison, exact: torch.Tensor, ref_name: str, dtype: torch.dtype) -> list[str]:
    """Every gradient disagreement, with max |Δ| and the worst element: its index and both values (the trace's
    at the inputs the built-in saw, `exact`; at the inputs as written where only that one is finite or not)."""
    if gradient.agrees:
        return []
    shape = tuple(gradient.manual_tensor.shape)
    flat = int(np.ravel_multi_index(gradient.worst_index, shape)) if gradient.worst_index is not None else 0
    theirs = gradient.reference_tensor.reshape(-1)[flat]
    written = gradient.manual_tensor.reshape(-1)[flat]
    mine = written if bool(torch.isfinite(written) != torch.isfinite(theirs)) else exact.reshape(-1)[flat]
    return [f"the gradients d(loss)/d(pred) of the trace and of {ref_name} differ: max |Δ| = "
            f"{_number(gradient.max_abs_diff)}; worst element{at_index(flat, shape)}: trace {_number(float(mine))}, "
            f"built-in {_number(float(theirs))} (tolerance for {dtype_name(dtype)}: rtol {gradient.rtol:g}, "
            f"atol {_number(gradient.atol)})"]


# -- ±inf in pred: the limit of the formula ------------------------------------------------------------------------

def _probe(x: torch.Tensor, magnitude: float, varied: bool = False) -> torch.Tensor:
    """pred with each ±inf replaced by ±magnitude (times 1 + k/n for the k-th of n inf elements if varied)."""
    inf = torch.isinf(x)
    factor = torch.ones_like(x)
    if varied:
        n = int(inf.sum())
        factor[inf] = 1 + torch.arange(n, dtype=x.dtype) / n
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
                   value: torch.Tensor, grad: torch.Tensor | None) -> list[str] | None:
    """With ±inf in pred: None when the trace's value and gradient are the limits of the formula as those
    elements → ±inf (estimated with probes of large finite values, see LIMIT_PROBES), else what is not, said
    honestly."""
    near, far = LIMIT_PROBES
    try:
        probes = [run_trace(spec, _probe(x, magnitude, varied), t, params, reduction)[1:]
                  for magnitude, varied in ((near, False), (far, False), (far, True))]
    except (InputError, RuntimeError):  # the formula cannot even be evaluated at large finite values
        probes = []
    warnings = []
    for what, got, index in (("value", value, 0), ("gradient", grad, 1)):
        if got is None:
            continue
        limit = estimate_limit(*(p[index] for p in probes)) if probes else torch.full_like(got, torch.nan)
        known = ~torch.isnan(limit)
        differs = known & ~_agree(got, limit)
        if bool(differs.any()):
            first, at, count = _first(differs, got.shape)
            warnings.append(f"pred contains ±inf, and the trace's {what} is {_number(float(got.reshape(-1)[first]))}"
                            f"{at} where its limit as pred → ±inf is {_number(float(limit.reshape(-1)[first]))}"
                            f"{count}")
        elif not bool(known.all()):
            first, at, count = _first(~known, got.shape)
            number = _number(float(got.reshape(-1)[first]))
            if number == "nan":
                warnings.append(f"pred contains ±inf, and the trace's {what} is nan{at}, where no limit as "
                                f"pred → ±inf could be found{count}")
            else:
                warnings.append(f"pred contains ±inf, and whether the trace's {what} {number}{at} is its limit as "
                                f"pred → ±inf could not be determined{count}")
    return warnings or None


# -- compute ---------------------------------------------------------------------------------------------------

def compute(loss: str, pred: Any, target: Any = None, *, reduction: str | None = None, device: str = "cpu",
            dtype: str = "float32", **params: Any) -> Result:
    """Compute `loss` step by step in float64 and compare with torch's built-in on device/dtype.
    reduction None: the loss's own default ("mean" for most, "sum" for the penalties)."""
    spec = lookup(loss)
    if spec.name == "confusion":
        from lossapp.confusion import confusion_from_params
        return confusion_from_params(pred=pred, target=target, **params)
    reduction = resolve_reduction(spec, reduction)
    dev, dt = resolve_device(device), resolve_dtype(dtype)
    effective = spec.resolve_params(params)
    pred_in, target_in = read_inputs(spec, pred, target)
    prep = Trace()
    inf_warnings = input_warnings(spec, pred_in, target_in)
    prep.warnings.extend(inf_warnings)
    x, t = pred_in.values, target_in.values if target_in else None
    if spec.prepare is not None:
        x, t = spec.prepare(x, t, effective, prep)

    trace, value, manual_grad = run_trace(spec, x, t, effective, reduction)
    warnings = list(dict.fromkeys(prep.warnings + trace.warnings))
    if inf_warnings and bool(torch.isinf(x).any()):
        honest = limit_warnings(spec, x, t, effective, reduction, value, manual_grad)
        if honest is not None:  # the trace is not (or not known to be) the limit: say that instead
            warnings = [w for w in warnings if w not in inf_warnings] + honest
    warnings += [w for w in lint(spec, pred_in.values, target_in.values if target_in else None, effective, reduction)
                 if w not in warnings]

    # The built-in sees the inputs rounded to its dtype; compare it with the exact value of those.
    named = {"pred": x, "target": t, **{f"parameter {k}": v for k, v in effective.items()}}
    rounded = {k: _round_to(v, dt) for k, v in named.items()}
    changed = dt != torch.float64 and any(
        isinstance(v, torch.Tensor) and not torch.equal(v, rounded[k]) for k, v in named.items())
    overflow = overflow_warnings(named, rounded, dt) if changed else []
    warnings += overflow
    exact_value, exact_grad = value, manual_grad
    if changed:
        rounded_params = {k: rounded[f"parameter {k}"] for k in effective}
        _, exact_value, exact_grad = run_trace(spec, rounded["pred"], rounded["target"], rounded_params, reduction)
        both = torch.isfinite(exact_value) & torch.isfinite(value)  # where not, the overflow warnings say why
        shift, scale = ((float((exact_value - value)[both].abs().max()), float(value[both].abs().max()))
                        if bool(both.any()) else (0.0, 0.0))
        rtol, _ = TOLERANCES[dt]
        if shift > 1e-12 + rtol * scale:  # only when it matters at this precision
            warnings.append(f"rounding the inputs to {dtype_name(dt)} changes the exact value by {shift:.3g}; "
                            f"the built-in is compared with the exact value of the rounded inputs")
    ref_value, ref_grad = run_reference(spec, x, t, effective, reduction, dev, dt)
    comparison = compare_values(spec, exact_value, ref_value, dev, dt, written=value)
    warnings += value_warning(spec.reference_name, exact_value, value, ref_value, dt)
    warnings += finiteness_warnings(spec.reference_name, value, ref_value, dt, bool(overflow))
    gradient = None
    if manual_grad is not None and ref_grad is not None:
        gradient = compare_gradients(exact_grad, ref_grad, dt, written=manual_grad)
        warnings += gradient_warning(gradient, exact_grad, spec.reference_name, dt)
    return Result(loss=spec.name, params=effective, reduction=reduction, value=_as_list(value),
                  steps=trace.steps, reference=comparison, gradient=gradient, warnings=warnings, spec=spec,
                  pred=pred_in if x is pred_in.values else TensorInput(x, pred_in.decimals),
                  target=target_in if target_in is None or t is target_in.values else TensorInput(t, target_in.decimals),
                  unreduced=trace.unreduced.detach() if trace.unreduced is not None else None)


_NUM = r"(?:-?(?:\d[\d.e+-]*|inf)|nan)"  # a number as _number writes it


def _zh_variants(english: str, chinese: str) -> list[tuple[str, str]]:
    """Patterns for a message with the optional pieces <AT> (' at index I') and <COUNT> (' (N elements)'):
    one pattern for each combination, so that the Chinese says only what the English says."""
    out = []
    for at, at_zh in (("", ""), (r" at index (?P<i>\d+|\(\d+(?:, \d+)+\))", r"（位置 \g<i>）")):
        for count, count_zh in (("", ""), (r" \((?P<n>[\d,]+) elements\)", r"（共 \g<n> 处）")):
            out.append((english.replace("<AT>", at).replace("<COUNT>", count),
                        chinese.replace("<AT>", at_zh).replace("<COUNT>", count_zh)))
    return out


_WHAT = {"value": "值", "gradient": "梯度"}
_WHY = {  # why a built-in value is not finite where the exact value is: English pattern -> Chinese
    r"the inputs overflow (?P<t2>\w+)": r"输入超出了 \g<t2> 的范围",
    rf"the exact value exceeds (?P<t2>\w+)'s largest finite number (?P<m>{_NUM})":
        r"精确值超过了 \g<t2> 的最大有限数 \g<m>",
    r"an intermediate result is undefined in (?P<t2>\w+) \(0/0, inf − inf, or a number out of its range\)":
        r"某个中间结果在 \g<t2> 下没有定义（0/0、inf − inf，或超出其范围的数）",
    rf"an intermediate result overflows (?P<t2>\w+) \(largest finite number (?P<m>{_NUM})\)":
        r"某个中间结果超出了 \g<t2> 的范围（最大有限数 \g<m>）",
}
add_zh_patterns([
    *_zh_variants(rf"(?P<name>.+?) holds values beyond (?P<t>\w+)'s largest finite number (?P<m>{_NUM})<AT><COUNT>: "
                  r"the built-in sees them as ±inf", r"\g<name> 含有超出 \g<t> 最大有限数 \g<m> 的值<AT><COUNT>：内置函数把它们当作 ±inf"),
    *_zh_variants(rf"the trace and (?P<ref>.+) differ by (?P<d>{_NUM})<AT> \(trace (?P<a>{_NUM}), built-in (?P<b>{_NUM}); "
                  r"tolerance for (?P<t>\w+): rtol (?P<r>\S+), atol (?P<tol>\S+)\)",
                  r"逐步计算与 \g<ref> 相差 \g<d><AT>（逐步计算 \g<a>，内置函数 \g<b>；\g<t> 的容差：rtol \g<r>，atol \g<tol>）"),
    *_zh_variants(rf"the gradients d\(loss\)/d\(pred\) of the trace and of (?P<ref>.+) differ: max \|Δ\| = (?P<d>{_NUM}); "
                  rf"worst element<AT>: trace (?P<a>{_NUM}), built-in (?P<b>{_NUM}) \(tolerance for (?P<t>\w+): "
                  r"rtol (?P<r>\S+), atol (?P<tol>\S+)\)",
                  r"逐步计算与 \g<ref> 的梯度 d(loss)/d(pred) 不一致：最大 |Δ| = \g<d>；差得最多的元素<AT>：逐步计算 \g<a>，"
                  r"内置函数 \g<b>（\g<t> 的容差：rtol \g<r>，atol \g<tol>）"),
    *_zh_variants(rf"the trace's value is (?P<a>{_NUM})<AT> where (?P<ref>.+) in (?P<t>\w+) gives (?P<b>{_NUM})<COUNT>",
                  r"逐步计算的值为 \g<a><AT>，而 \g<ref> 在 \g<t> 下为 \g<b><COUNT>"),
    *[variant for why, why_zh in _WHY.items() for variant in _zh_variants(
        rf"(?P<ref>.+) in (?P<t>\w+) gives (?P<b>{_NUM})<AT> where the exact value is (?P<a>{_NUM})<COUNT>: {why}",
        rf"\g<ref> 在 \g<t> 下得到 \g<b><AT>，而精确值为 \g<a><COUNT>：{why_zh}")],
    *[pattern for what, zh in _WHAT.items() for pattern in (
        *_zh_variants(rf"pred contains ±inf, and the trace's {what} is (?P<a>{_NUM})<AT> where its limit as pred → ±inf is "
                      rf"(?P<b>{_NUM})<COUNT>", rf"pred 含有 ±inf，逐步计算的{zh}为 \g<a><AT>，但 pred → ±inf 时公式的极限是 \g<b><COUNT>"),
        *_zh_variants(rf"pred contains ±inf, and the trace's {what} is nan<AT>, where no limit as pred → ±inf could be "
                      r"found<COUNT>", rf"pred 含有 ±inf，逐步计算的{zh}为 nan<AT>，且找不到 pred → ±inf 时公式的极限<COUNT>"),
        *_zh_variants(rf"pred contains ±inf, and whether the trace's {what} (?P<a>{_NUM})<AT> is its limit as pred → ±inf "
                      r"could not be determined<COUNT>",
                      rf"pred 含有 ±inf，无法确定逐步计算的{zh} \g<a><AT> 是否为 pred → ±inf 时公式的极限<COUNT>"))],
])


__all__ = ["DTYPES", "compute", "read_inputs", "resolve_reduction", "run_trace"]
