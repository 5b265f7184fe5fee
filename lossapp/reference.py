"""Run the torch built-in on the chosen device and dtype, and compare it with the float64 trace.

The trace is the worked solution; the reference is what PyTorch computes. They are compared with
dtype-aware tolerances on values and on d(loss)/d(pred) (autograd of the built-in vs autograd of the
elementary float64 trace).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from lossapp.inputs import InputError, quote
from lossapp.registry import LossSpec, shown
from lossapp.trace import Lazy, as_list, extremes, head, shown_count

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


# the support of a gradient (see `closeness`) is compared on its own when it holds at most 1 / SPARSE_SUPPORT of the
# elements (measured on a CPU at 10⁶ elements with the in-place zero check: a support of 1 in 21 cost 0.9× the
# comparison of every element, 1 in 100 0.55×, 1 in 10 1.35×; since the zero check copies each block instead of
# writing into the gradients, and the comparison of every element reads larger blocks with cheaper extremes, 1 in 21
# costs about 1.2–1.5× and 1 in 100 to 1 in 1,000 about 1×, measured on a loaded 2-core machine)
SPARSE_SUPPORT = 16

# elements of each block the comparison reads at a time on a CPU: a float64 block of differences (2 MB) that stays in
# the cache next to the blocks it is made from; at 10⁶ elements four blocks cost about 0.5 ms less than sixteen of
# 2¹⁶ (each block's six torch calls cost more than the cache misses of a larger one)
COMPARE_CHUNK = 1 << 18

# elements of a row in the search for the first worst element of a block (`_first_at`): one reduction per row over the
# block, then an indexed maximum over one row (2¹¹ float64, 16 kB)
FIND_ROW = 1 << 11


_CPU = torch.device("cpu")


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
    if type(name) is str and name == "cpu":  # (the default, as the parse below gives it: no parse)
        return _CPU
    if name is None or (isinstance(name, str) and not name.strip()):
        name = "cpu"
    if not isinstance(name, str):
        raise InputError("reference.bad_device", got=shown(name))
    text = name.strip().lower()
    match = re.fullmatch(r"cpu|mps|cuda(?::(-?\d+))?", text, re.ASCII)
    if match is None:
        raise InputError("reference.bad_device", got=quote(name))
    if match[1] is not None and len(match[1]) <= 20:
        text = f"cuda:{int(match[1])}"  # cuda:01 is cuda:1
    if text != "cpu" and text not in available_devices():  # (the CPU always is: no probe of the accelerators)
        raise InputError("reference.device_not_available", device=quote(text), available=", ".join(available_devices()))
    return torch.device(text)


def resolve_dtype(name: str | torch.dtype | None) -> torch.dtype:
    if type(name) is str and name in DTYPES:  # (a dtype's own name, as the parse below gives it: no parse)
        return DTYPES[name]
    if isinstance(name, torch.dtype):
        if name in TOLERANCES:
            return name
        raise InputError("reference.bad_dtype", got=str(name))
    if name is None or (isinstance(name, str) and not name.strip()):
        name = "float32"
    if not isinstance(name, str):
        raise InputError("reference.bad_dtype", got=shown(name))
    text = name.strip().lower().removeprefix("torch.")
    text = _DTYPE_ALIASES.get(text, text)
    if text not in DTYPES:
        raise InputError("reference.bad_dtype", got=quote(name))
    return DTYPES[text]


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


@dataclass(frozen=True)
class Closeness:
    """How far the built-in's elements are from the exact float64 ones (see `closeness`)."""

    abs_diff: float  # max |reference − exact| (matching NaN / same-sign inf pairs count 0); inf or NaN at a finiteness mismatch
    rel_diff: float  # |reference − exact| / |exact| at the worst element
    agrees: bool  # every element within atol + rtol·|exact|, and none finite in only one of reference and written
    index: int | None  # flat index of the worst element: the first finiteness mismatch with `written`, else the
    # largest difference (None when every element matches)
    atol: float = 0.0  # the atol compared with (scaled: see `closeness`)

    @property
    def worst(self) -> int | None:
        return self.index


def all_finite(t: torch.Tensor) -> bool:
    """Whether every element is finite, decided by one reduction where possible: a finite sum means every element is
    finite (a sum that overflows falls back to the elementwise check)."""
    return math.isfinite(float(t.sum())) or bool(torch.isfinite(t).all())


def finiteness_mismatch(actual: torch.Tensor, expected: torch.Tensor) -> torch.Tensor:
    """Flat mask of the elements finite in one tensor and not in the other (an overflow, or a NaN)."""
    return torch.isfinite(actual.reshape(-1)) != torch.isfinite(expected.reshape(-1))


def closeness(reference: torch.Tensor, exact: torch.Tensor, rtol: float, atol: float,
              written: torch.Tensor | None = None, *, scaled_atol: bool = False,
              support: torch.Tensor | None = None) -> Closeness:
    """Compare every element of the built-in's `reference` (its own dtype) with the exact float64 `exact`.

    NaN matches NaN and ±inf the same inf; any other element agrees when |reference − exact| ≤ atol + rtol·|exact|.
    One pass over the elements makes |reference − exact| (in float64: widening the reference's dtype is exact) and
    its largest value with the first index where it occurs, a block of COMPARE_CHUNK elements at a time (on the CPU: the
    differences stay in cache and never take a tensor's worth of memory); the relative error is computed at the worst
    element only. The rtol part is evaluated (a second pass) only when some difference exceeds atol, and elementwise
    masks only when some element is not finite.

    `written` (the trace at the inputs as written, when `exact` is the trace at the inputs rounded to the built-in's
    dtype): an element finite in one of `reference` and `written` and not in the other never agrees — a float16
    overflow to inf is no agreement with a finite exact value.

    `scaled_atol`: atol is multiplied by max(1, max |exact|) (when that is finite), found in the same pass over the
    blocks (the gradients' comparison; `Closeness.atol` says the atol used).

    `exact` may be a `Lazy` elementwise value (a spec's gradient, see `lossapp.trace.Lazy`): where it is large and
    `sliceable`, each block of it is computed where the pass reads it (no tensor of its size is made); else in full.

    `support`: flat indices of the only elements that may be nonzero (a gradient that lives at each sample's target
    class: `LossSpec.gradient_support`). Every other element of `reference`, `exact` and `written` is checked to be
    exactly 0 (one reduction each, see `_zero_off_support`), and only the supported elements are compared: the same
    Closeness as comparing every element (the elements off the support are equal there), the worst index a flat index
    of the whole tensor. Where some element off the support is not 0, every element is compared as without it; so
    too where the support holds more than 1 / SPARSE_SUPPORT of the elements (then its scattered reads and writes
    touch every cache line and cost more than the blocked comparison of every element)."""
    r, e = reference.detach().reshape(-1), _flat(exact)
    if r.numel() == 0:
        return Closeness(0.0, 0.0, True, None, atol)
    if r.numel() == 1 and support is None:  # a reduced value: the same arithmetic on Python floats
        w = None if written is None or written is exact else float(_flat(written, whole=True)[0])
        return _closeness_of_one(float(r[0]), float(e[0]), rtol, atol, w, scaled_atol)
    if support is not None and support.numel() * SPARSE_SUPPORT <= r.numel():
        close = _closeness_on_support(r, _flat(e, whole=True), rtol, atol, None if written is None or written is exact
                                      else _flat(written, whole=True), scaled_atol, support)
        if close is not None:
            return close
    close = _closeness_to_one_value(r, e, rtol, atol, scaled_atol) if _one_value(e) else None
    finite = close is not None  # (found so only where every element of r and e is finite)
    if close is None:
        abs_diff, index, scale = _largest_gap(r, e, scaled_atol)
        if scaled_atol:
            atol = atol * max(1.0, scale if math.isfinite(scale) else 1.0)
        finite = math.isfinite(abs_diff)  # then every element of r and e is finite
        if not finite:
            close = _closeness_nonfinite(r, _flat(e, whole=True), rtol, atol)
        elif abs_diff == 0:
            close = Closeness(0.0, 0.0, True, None, atol)
        else:
            agrees = abs_diff <= atol or _within_rtol(r, e, rtol, atol)
            close = Closeness(abs_diff, abs_diff / max(abs(_element(e, index)), 1e-300), agrees, index, atol)
    if written is None or written is exact or (finite and all_finite(_flat(written, whole=True))):
        return close
    return _finiteness_checked(close, r, _flat(written, whole=True))


def _flat(t: torch.Tensor | Lazy, whole: bool = False) -> torch.Tensor | Lazy:
    """A tensor, or a `Lazy` value, as the flat 1-D value the comparison reads: a Lazy stays one (its blocks computed
    as they are read: see `_blocks`) where it is larger than a block and `sliceable`, unless `whole`; else in full."""
    if isinstance(t, Lazy):
        if not whole and t.sliceable and t.numel() > COMPARE_CHUNK:
            return t
        t = t.full()
    return t.detach().reshape(-1)


def _element(t: torch.Tensor | Lazy, index: int) -> float:
    """The element at a flat index of a tensor or a sliceable `Lazy` value."""
    return float(t.flat(index, index + 1)[0]) if isinstance(t, Lazy) else float(t.reshape(-1)[index])


def _one_value(e: torch.Tensor | Lazy) -> bool:
    """Whether flat `e` is a broadcast view of one number (stride 0: NLL's gradient values, see
    lossapp.losses.classification.nll_gradient), so that its every element is e[0]."""
    return isinstance(e, torch.Tensor) and e.dim() == 1 and e.numel() > 1 and e.stride(0) == 0


def _closeness_to_one_value(r: torch.Tensor, e: torch.Tensor, rtol: float, atol: float,
                            scaled_atol: bool) -> Closeness | None:
    """`closeness` of flat r and an `e` that is one number c in every element (`_one_value`), from r's extremes (no
    float64 pass): the same Closeness, or None where this does not decide it (something not finite; the worst element
    not the first), for the blocked passes to find.

    Proof. Every r_i is finite, widened exactly to float64, and the pass computes d_i = |fl(r_i − c)|. Rounding to
    nearest is monotone and symmetric, so d_i = fl(|r_i − c|) is non-increasing in r_i for r_i ≤ c and non-decreasing
    for r_i ≥ c: the largest d_i is max(d(min r), d(max r)), computed here on Python floats (IEEE float64: the same
    operations, the same numbers). The pass's index is the first i where d_i is that largest: 0 where d_0 is (else None
    is returned). max(1, max |e|) is max(1, |c|). The rtol pass's largest fl(d_i − fl(rtol·|c|)) is, by the same
    monotonicity, fl(max d_i − fl(rtol·|c|)). |e| at the worst element is |c|."""
    c = float(e[0])
    low, high = extremes(r)
    if not (math.isfinite(low) and math.isfinite(high) and math.isfinite(c)):
        return None
    if scaled_atol:
        atol = atol * max(1.0, abs(c))
    largest = max(abs(low - c), abs(high - c))
    if largest == 0:
        return Closeness(0.0, 0.0, True, None, atol)
    if abs(float(r[0]) - c) != largest:
        return None
    agrees = largest <= atol or largest - abs(c) * rtol <= atol
    return Closeness(largest, largest / max(abs(c), 1e-300), agrees, 0, atol)


def _closeness_of_one(r: float, e: float, rtol: float, atol: float, w: float | None, scaled_atol: bool) -> Closeness:
    """`closeness` of one element (`w`: the written value, None when there is none), on Python floats: IEEE float64
    arithmetic, the same operations as the tensor passes (`_largest_gap`, `_within_rtol`, `_closeness_nonfinite`,
    `_finiteness_checked`) and so the same Closeness, without their torch calls."""
    if scaled_atol:
        atol = atol * max(1.0, abs(e) if math.isfinite(e) else 1.0)
    gap = abs(r - e)
    if not math.isfinite(gap):  # as _closeness_nonfinite: matching NaN / same-sign inf pairs count 0
        matched = (math.isnan(r) and math.isnan(e)) or (math.isinf(r) and r == e)
        gap, scale = (0.0, 0.0) if matched else (gap, abs(e))
        rel = gap / max(scale, 1e-300) if gap else 0.0
        close = Closeness(gap, 0.0 if math.isnan(rel) else rel, gap <= atol + rtol * scale, 0 if gap else None, atol)
    elif gap == 0:
        close = Closeness(0.0, 0.0, True, None, atol)
    else:
        agrees = gap <= atol or gap - abs(e) * rtol <= atol
        close = Closeness(gap, gap / max(abs(e), 1e-300), agrees, 0, atol)
    if w is None or math.isfinite(r) == math.isfinite(w):
        return close
    mismatch = math.nan if math.isnan(r - w) else math.inf  # as _finiteness_checked
    return Closeness(mismatch, 0.0 if math.isnan(mismatch) else mismatch, False, 0, close.atol)


def _closeness_on_support(r: torch.Tensor, e: torch.Tensor, rtol: float, atol: float, written: torch.Tensor | None,
                          scaled_atol: bool, support: torch.Tensor) -> Closeness | None:
    """`closeness` of flat r and e (and `written`) where every element outside `support` is exactly 0 in each: the
    supported elements compared, the worst index mapped back to the flat tensor; None where some element outside the
    support is not 0 (or the support is not a set of indices of these tensors)."""
    support = support.reshape(-1).to(device=r.device, dtype=torch.int64)
    if support.numel() and (int(support.min()) < 0 or int(support.max()) >= r.numel()):
        return None
    if support.numel() > 1 and not bool((support[1:] > support[:-1]).all()):
        support = torch.unique(support)  # sorted: the first worst element in the support is the first in the tensor
    w = None if written is None else written.detach().reshape(-1)
    if w is not None and w.shape != r.shape:
        return None
    picked = [_zero_off_support(t, support) for t in (r, e) + ((w,) if w is not None else ())]
    if any(p is None for p in picked):
        return None
    close = closeness(picked[0], picked[1], rtol, atol, picked[2] if w is not None else None, scaled_atol=scaled_atol)
    index = None if close.index is None else int(support[close.index])
    return Closeness(close.abs_diff, close.rel_diff, close.agrees, index, close.atol)


def _zero_off_support(flat: torch.Tensor, support: torch.Tensor, scratch: bool = False) -> torch.Tensor | None:
    """flat[support] (a new tensor) when every other element of the 1-D `flat` is exactly 0 (±0), else None.
    `support`: sorted distinct indices.

    Decided a block at a time (see `_blocks`): each block of flat copied into one buffer of a block's size, its
    supported elements set to 0 there, and its extremes read (a NaN or ±inf off the support makes them non-zero too).
    flat is only read, and no tensor of its size is made. With `scratch` (flat is the caller's own contiguous tensor,
    which nothing reads afterwards but the caller's fallback to the dense comparison), its supported elements are set
    to 0 in flat itself and flat read for a nonzero bit (`_zero_bits`; its extremes where that finds one, since −0 is 0
    too) with no copy of it: where some element is not 0, flat[support] is put back (flat holds its own values again,
    bit for bit, for that fallback); otherwise flat is left 0 at the support."""
    values = flat.index_select(0, support)
    if scratch and flat.is_contiguous() and flat.numel():
        flat.index_fill_(0, support, 0)
        if _zero_bits(flat) or extremes(flat) == (0, 0):
            return values
        flat.index_copy_(0, support, values)
        return None
    step = _block_size(flat)
    starts = list(range(0, flat.numel(), step))
    ends = torch.searchsorted(support, torch.tensor([*starts[1:], flat.numel()], device=support.device)).tolist()
    buffer = torch.empty(min(step, flat.numel()), dtype=flat.dtype, device=flat.device)
    first = 0
    for start, end in zip(starts, ends, strict=True):
        block = buffer[:min(step, flat.numel() - start)].copy_(flat[start:start + step])
        block.index_fill_(0, support[first:end] - start, 0)
        first = end
        low, high = extremes(block)
        if low != 0 or high != 0:
            return None
    return values


def _zero_bits(flat: torch.Tensor) -> bool:
    """Whether every bit of the contiguous 1-D `flat` is 0 (for a floating tensor: every element is +0), read as 64-bit
    words by one count of the nonzero ones (on a CPU, for float32, about half the time of its extremes: half as many
    elements, compared as integers). False where its bytes are not whole, aligned words (then the caller reads the
    extremes), and where some bit is 1 (a −0 too: the caller's extremes decide then)."""
    if flat.numel() * flat.element_size() % 8:
        return False
    try:
        words = flat.view(torch.int64)
    except RuntimeError:  # (not aligned to a word)
        return False
    return not bool(torch.count_nonzero(words))


def _block_size(flat: torch.Tensor) -> int:
    """Elements a blocked pass over flat takes at a time: COMPARE_CHUNK on the CPU, all of them on an accelerator
    (where each block's reduction read back would wait for the device)."""
    return COMPARE_CHUNK if flat.device.type == "cpu" else max(flat.numel(), 1)


def _blocks(r: torch.Tensor, e: torch.Tensor | Lazy) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
    """(start, r block, e block) of flat r and e, COMPARE_CHUNK elements at a time on the CPU (whole on an accelerator,
    where each block's reduction read back would wait for the device). A `Lazy` e (see `_flat`): each block computed
    here, written into one float64 buffer of a block's size where e has an `into` (an e block is read only until the
    next one is asked for), else a new tensor of a block's size."""
    step = _block_size(r)
    buffer = torch.empty(min(step, r.numel()), dtype=torch.float64, device=r.device) \
        if isinstance(e, Lazy) and e.into is not None else None
    for start in range(0, r.numel(), step):
        stop = min(start + step, r.numel())
        yield start, r[start:stop], (e.flat(start, stop, None if buffer is None else buffer[:stop - start])
                                     if isinstance(e, Lazy) else e[start:stop])


def _gaps(r: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    """|r − e| in float64, in a new buffer (r − e with mixed dtypes would copy r to float64 first)."""
    return r.to(torch.float64, copy=True).sub_(e).abs_()


def _bounded(e: torch.Tensor | Lazy) -> float | None:
    """A `Lazy` e's bound where it is at most 1 (then max(1, max |e|) over its finite elements is 1: see `Lazy`), else
    None."""
    bound = e.bound if isinstance(e, Lazy) else None
    return bound if bound is not None and bound <= 1.0 else None


def _largest_gap(r: torch.Tensor, e: torch.Tensor, scale: bool = False) -> tuple[float, int, float]:
    """max |r − e| over flat r and e and the first index where it occurs; a NaN or inf difference is returned at
    once (the caller then compares element by element). With `scale`, also max |e| (NaN when some e is NaN), read
    from each block while it is in cache (else 0), for the caller's max(1, max |e|) (NaN and ±inf counting 1): where
    e is a `Lazy` value with a bound of at most 1, that bound instead, without reading e for it (max(1, ·) is 1 either
    way). Each block's largest |r − e| is read from the extremes of r − e (no |·| pass, no index); the index is found
    in the one block that holds the largest (or the first non-finite). Every block's r − e is formed in one of two
    float64 buffers of a block's size: the worst block's so far is kept in the other (swapped, not copied), so that
    its |r − e| need not be formed again."""
    bound = _bounded(e) if scale else None
    scale = scale and bound is None
    if 0 < r.numel() <= _block_size(r):  # one block: its largest |r − e| and where, in one reduction (the same numbers)
        e = _flat(e, whole=True)  # (a Lazy e is one block on an accelerator)
        gaps = torch.empty(r.numel(), dtype=torch.float64, device=r.device).copy_(r).sub_(e).abs_()
        value, at = torch.max(gaps, 0)
        top = 0.0 if bound is None else bound
        if scale:  # (as the blocks' loop gives it: max(0, max |e|), where no difference is ±inf or NaN)
            low, high = extremes(e)
            finite = math.isfinite(float(value))
            top = math.nan if math.isnan(low) or math.isnan(high) else max(0.0, -low, high) if finite else max(-low, high)
        return float(value), int(at), top
    largest, worst, top = -1.0, None, 0.0 if bound is None else bound
    current = kept = None
    for start, r_block, e_block in _blocks(r, e):
        if current is None:
            current, kept = torch.empty(2, r_block.numel(), dtype=torch.float64, device=r.device)
        difference = current[:r_block.numel()].copy_(r_block).sub_(e_block)
        low, high = extremes(difference)
        value = math.nan if math.isnan(low) or math.isnan(high) else max(-low, high)
        if value > largest or not math.isfinite(value):
            largest, worst = value, (start, r_block.numel(), low, high)
            current, kept = kept, current  # (this block's r − e stays in `kept`; the next is formed in the other)
        if scale:
            low, high = extremes(e_block)
            top = max(top, -low, high) if not (math.isnan(low) or math.isnan(high)) else math.nan
        if not math.isfinite(value):
            break
    if scale and not math.isfinite(largest):  # stopped early: max |e| over every element
        low, high = extremes(_flat(e, whole=True))
        top = max(-low, high) if not (math.isnan(low) or math.isnan(high)) else math.nan
    if worst is None:
        return largest, 0, top
    start, count, low, high = worst
    if math.isfinite(largest):
        return largest, start + _first_at(kept[:count], largest, low, high), top
    value, at = torch.max(kept[:count].abs_(), 0)  # (max-with-index: NaN first)
    return float(value), start + int(at), top


def _first_at(d: torch.Tensor, largest: float, low: float, high: float) -> int:
    """The first index i of the 1-D d (finite, no NaN) where |d_i| = largest = max |d|, given d's extremes (low, high):
    the first row of FIND_ROW elements whose max is `largest` (where high is) or whose min is −largest (where −low is),
    from one reduction per row over d (one pass, or two where both signs reach it), then max-with-index over that row
    alone, whose first maximal |d_i| is then the first in d (no row before it holds one). The same index as
    torch.max(d.abs(), 0), in a pass or two of one reduction each instead of an |d| pass and an indexed maximum."""
    rows = d.numel() // FIND_ROW
    first = 0
    if rows > 1:
        grid = d[:rows * FIND_ROW].view(rows, FIND_ROW)
        candidates = []
        if high == largest:
            candidates.append(grid.amax(1) == largest)
        if -low == largest:
            candidates.append(grid.amin(1) == -largest)
        hit = candidates[0] if len(candidates) == 1 else candidates[0] | candidates[1]
        found = hit.nonzero()
        first = int(found[0, 0]) * FIND_ROW if found.numel() else rows * FIND_ROW  # (else in the last partial row)
    row = d[first:first + FIND_ROW] if rows > 1 else d
    return first + int(torch.max(row.abs(), 0)[1])


def _within_rtol(r: torch.Tensor, e: torch.Tensor, rtol: float, atol: float) -> bool:
    """Whether every |r − e| − rtol·|e| ≤ atol (r and e finite)."""
    return all(float(_gaps(r_block, e_block).sub_(e_block.abs().mul_(rtol)).max()) <= atol
               for _, r_block, e_block in _blocks(r, e))


def _closeness_nonfinite(r: torch.Tensor, e: torch.Tensor, rtol: float, atol: float) -> Closeness:
    both_nan = torch.isnan(r) & torch.isnan(e)
    skip = both_nan | (torch.isinf(r) & torch.isinf(e) & (r == e))
    diff = (r - e).abs().masked_fill_(skip, 0.0)
    scale = e.abs().masked_fill(skip, 0.0)
    index = int(torch.argmax(diff))  # a NaN difference counts as the largest
    abs_diff = float(diff[index])
    agrees = bool((diff <= atol + rtol * scale).all()) and not math.isnan(abs_diff)
    rel = abs_diff / max(float(scale[index]), 1e-300) if abs_diff else 0.0
    return Closeness(abs_diff, 0.0 if math.isnan(rel) else rel, agrees, index if abs_diff else None, atol)


def _finiteness_checked(close: Closeness, r: torch.Tensor, w: torch.Tensor) -> Closeness:
    """`close`, unless an element of `r` is finite where `w` is not or the reverse: then the first such element is the
    worst, and against the value as written the difference there is inf (NaN when one side is NaN)."""
    mismatch = finiteness_mismatch(r, w)
    if not bool(mismatch.any()):
        return close
    index = int(torch.argmax(mismatch.byte()))  # the first True
    abs_diff = math.nan if bool((r[mismatch].double() - w[mismatch]).isnan().any()) else math.inf
    return Closeness(abs_diff, 0.0 if math.isnan(abs_diff) else abs_diff, False, index, close.atol)


def _worst(c: Closeness, shape: tuple[int, ...], reference: torch.Tensor, exact: torch.Tensor,
           written: torch.Tensor | None = None) -> dict[str, Any] | None:
    """The element with the largest difference: its index, both values and both differences (the trace's value at
    the inputs as written where only one of it and the built-in's is finite)."""
    if c.index is None:
        return None
    where = [int(i) for i in np.unravel_index(c.index, shape)] if shape else []  # (torch's is ~100× slower)
    ref, trace = float(reference.reshape(-1)[c.index]), _element(_flat(exact), c.index)
    if written is not None and written is not exact:
        as_written = _element(_flat(written), c.index)
        if math.isfinite(as_written) != math.isfinite(ref):
            trace = as_written
    return {"index": where, "reference": ref, "trace": trace, "abs_diff": c.abs_diff, "rel_diff": c.rel_diff}


def _worst_index(worst: dict[str, Any] | None) -> tuple[int, ...] | None:
    return tuple(worst["index"]) if worst is not None and worst["index"] else None


@dataclass
class Comparison:
    """The built-in's value next to the trace's.

    value: the built-in's value as a float, or a nested list for reduction="none" (made on first use from
    `tensor`). abs_diff: max |Δ| over every element; rel_diff: |Δ| / |trace| at the element with the largest
    |Δ| (`worst`, None when they all match; `worst_index` its index, None for a scalar too)."""

    name: str
    tensor: torch.Tensor  # the built-in's value, on the CPU in its own dtype
    device: str
    dtype: str
    abs_diff: float
    rel_diff: float
    agrees: bool
    rtol: float
    atol: float
    worst: dict[str, Any] | None = None

    @functools.cached_property
    def value(self) -> Any:
        return as_list(self.tensor.double())

    @property
    def worst_index(self) -> tuple[int, ...] | None:
        return _worst_index(self.worst)

    def to_dict(self, full: bool = False) -> dict[str, Any]:
        """The JSON of section 4: value bounded like a step's (the first elements of a large "none" value, with
        its shape and the count shown) unless full."""
        count = self.tensor.numel()
        shown = count if full else shown_count(count)
        value = self.value if shown == count else head(self.tensor, shown).tolist()
        worst_index = self.worst_index
        return {"name": self.name, "value": value, "shape": list(self.tensor.shape), "shown": shown,
                "device": self.device, "dtype": self.dtype, "abs_diff": self.abs_diff, "rel_diff": self.rel_diff,
                "agrees": self.agrees, "rtol": self.rtol, "atol": self.atol, "worst": self.worst,
                "worst_index": None if worst_index is None else list(worst_index)}


@dataclass
class GradientComparison:
    """d(loss)/d(pred): autograd of the float64 trace ("manual") vs autograd of the built-in ("reference").

    The comparison covers every element; what is kept are the shown elements of both (every one of a gradient
    of at most COMPLETE_MAX elements, else the first SHOWN), the full shape and the worst element. `manual` and
    `reference` are the complete gradients as (nested) lists, recomputed by `replay` when only the shown elements
    are kept; `to_dict()` writes the shown ones unless given the complete pair."""

    shape: tuple[int, ...]
    max_abs_diff: float
    agrees: bool
    manual_shown: torch.Tensor  # 1-D float64 on the CPU
    reference_shown: torch.Tensor
    worst: dict[str, Any] | None = None  # index, manual, reference, abs_diff, rel_diff
    replay: Any = field(default=None, repr=False, compare=False)  # lossapp.engine.Replay: the complete gradients
    rtol: float = 0.0  # the tolerances it was compared with (atol scaled by the largest |manual|)
    atol: float = 0.0

    @property
    def count(self) -> int:
        return math.prod(self.shape)

    @property
    def worst_index(self) -> tuple[int, ...] | None:
        """The worst element's index (None for a 0-d pred or when every element matches)."""
        return _worst_index(self.worst)

    @property
    def complete(self) -> bool:
        """Whether the shown elements are all of them."""
        return self.manual_shown.numel() == self.count

    def _complete(self, which: int) -> list | float:
        if self.complete:
            return as_list((self.manual_shown, self.reference_shown)[which].reshape(self.shape))
        pair = self.replay.gradients() if self.replay is not None else None
        if pair is None:
            raise LookupError(f"only the first {self.manual_shown.numel()} elements of the gradient were kept and "
                              f"there is no computation to replay for the rest")
        return as_list(pair[which].double())

    @property
    def manual(self) -> list | float:
        """The trace's gradient, every element (replayed when only the shown ones are kept)."""
        return self._complete(0)

    @property
    def reference(self) -> list | float:
        """The built-in's gradient, every element (replayed when only the shown ones are kept)."""
        return self._complete(1)

    def to_dict(self, full: tuple[torch.Tensor, torch.Tensor] | None = None) -> dict[str, Any]:
        """manual, reference (the shown elements: a nested list when that is all of them, else the flat list of
        the first ones; or every element of the `full` (manual, reference) pair), shape, shown, max_abs_diff,
        agrees, worst, worst_index."""
        if full is not None:
            manual, reference = as_list(full[0].double()), as_list(full[1].double())
        elif self.complete:
            manual, reference = self.manual, self.reference
        else:
            manual, reference = self.manual_shown.tolist(), self.reference_shown.tolist()
        return {"manual": manual, "reference": reference, "shape": list(self.shape),
                "shown": self.count if full is not None else self.manual_shown.numel(),
                "max_abs_diff": self.max_abs_diff, "agrees": self.agrees, "worst": self.worst,
                "worst_index": None if self.worst_index is None else list(self.worst_index)}


def sparse_elements(g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(flat indices, values) of a sparse COO tensor with every dimension sparse: the indices ascending and distinct
    (row-major flat indices of the dense tensor), the values its dense tensor's elements there (each element 0 + v, as
    a backward that adds into zeros writes it: −0 is 0). None for a tensor of another layout. See `_sparse_parts`."""
    parts = _sparse_parts(g)
    return None if parts is None else (parts[0], parts[1] + 0.0)


def _sparse_parts(g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """`sparse_elements` with the values as the tensor holds them (a −0 not yet made 0: the comparison, which reads
    |r − v| and |v| only, gives the same numbers for either zero, and `_compare_sparse` adds 0 to the few values it
    shows; no copy of every value). An uncoalesced tensor whose indices are ascending already (torch.gather's sparse
    gradient) is read as it is (coalescing sorts: ms); one marked coalesced holds them so already (NLL's `gradient`),
    and is not checked again."""
    if g.layout != torch.sparse_coo or g.dense_dim() != 0:
        return None
    indices, values = g._indices(), g._values()
    flat = _ravel(indices, tuple(g.shape))
    if not g.is_coalesced() and flat.numel() > 1 and not bool((flat[1:] > flat[:-1]).all()):
        g = g.coalesce()  # sorted, each index once (its values summed, as the dense tensor holds them)
        indices, values = g.indices(), g.values()
        flat = _ravel(indices, tuple(g.shape))
    return flat, values


def _ravel(indices: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """Row-major flat indices of the (dims, n) multi-indices `indices` into a tensor of `shape` (Horner's scheme: one
    fused multiply-add per dimension, torch.add's alpha, into a new tensor; no tensor of every product)."""
    if not shape:
        return torch.zeros(indices.shape[-1], dtype=torch.int64, device=indices.device)
    if len(shape) == 1:
        return indices[0].clone()
    flat = torch.add(indices[1], indices[0], alpha=shape[1])
    for d in range(2, len(shape)):
        flat = torch.add(indices[d], flat, alpha=shape[d])
    return flat


def _sparse_head(flat: torch.Tensor, values: torch.Tensor, k: int) -> torch.Tensor:
    """The first k elements (row-major) of the dense tensor whose only nonzero elements are `values` at the ascending
    flat indices `flat`, as `head` gives them: a 1-D float64 CPU tensor (each element 0 + v: −0 is 0). Read on Python
    floats (IEEE float64: the same numbers): at most the first k indices and values."""
    out = [0.0] * k
    first = flat[:k].tolist()
    inside = sum(i < k for i in first)  # (ascending: the ones below k come first)
    for i, v in zip(first[:inside], values[:inside].tolist(), strict=True):
        out[i] = v + 0.0
    return torch.tensor(out, dtype=torch.float64)


def _compare_sparse(manual: torch.Tensor, reference: torch.Tensor, rtol: float, atol: float,
                    written: torch.Tensor | None, k: int, scratch: bool = False) -> GradientComparison | None:
    """compare_gradients of a sparse `manual` (and `written`, the same or with the same indices): the built-in's
    gradient checked to be exactly 0 off their indices (`_zero_off_support`, which reads it in blocks and never writes)
    and compared with them there (`closeness` of the supported elements: as closeness of every element, the elements
    off the support being 0 in all three); the worst index a multi-index of the whole tensor, the shown elements those
    of the dense tensors. None where that does not hold (a built-in nonzero off the support, another layout, indices
    that differ): the caller compares the dense tensors. `scratch`: see `compare_gradients`."""
    parts = _sparse_parts(manual)
    if parts is None:
        return None
    support, exact = parts
    as_written = None
    if written is not None and written is not manual:
        written_parts = _sparse_parts(written)
        if written_parts is None or not torch.equal(written_parts[0], support):
            return None
        as_written = written_parts[1]
    r = reference.detach().reshape(-1)
    if r.numel() != manual.numel():
        return None
    shown = head(reference, k)  # (read before a `scratch` check writes into it)
    picked = _zero_off_support(r, support.to(r.device), scratch)
    if picked is None:
        return None
    local = closeness(picked, exact.to(r.device), rtol, atol, None if as_written is None else as_written.to(r.device),
                      scaled_atol=True)
    shape = tuple(manual.shape)
    worst = _worst(local, (support.numel(),), picked, exact, as_written)
    if worst is not None:
        at = int(support[local.index])
        worst["index"] = [int(i) for i in np.unravel_index(at, shape)] if shape else []
        worst["manual"] = worst.pop("trace") + 0.0  # (as the dense tensor holds it: −0 is 0)
    return GradientComparison(shape, local.abs_diff, local.agrees, _sparse_head(support, exact if as_written is None
                                                                              else as_written, k),
                              shown, worst, rtol=rtol, atol=local.atol)


def _to_device(value: Any, device: torch.device, dtype: torch.dtype) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device=device, dtype=dtype if value.is_floating_point() else value.dtype)
    return value


def run_reference(spec: LossSpec, pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                  reduction: str, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The built-in's value and d(loss)/d(pred) (None when pred is not continuous), on `device` in `dtype`
    (no copy of an input already there)."""
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
            grad = g if g is not None else torch.zeros_like(x)
    except RuntimeError as exc:
        message = str(exc).splitlines()[0]
        raise InputError("reference.failed", reference=spec.reference_name, where=f"{device}/{dtype_name(dtype)}",
                         error=message) from None
    return value.detach(), grad


def compare_values(spec: LossSpec, trace_value: torch.Tensor, ref_value: torch.Tensor, device: torch.device,
                   dtype: torch.dtype, written: torch.Tensor | None = None) -> Comparison:
    """The built-in's value (any dtype, any device) against the trace's exact float64 value, every element (see
    `closeness` for `written`)."""
    rtol, atol = TOLERANCES[dtype]
    c = closeness(ref_value, trace_value, rtol, atol, written)
    return Comparison(spec.reference_name, ref_value.detach().cpu(), str(device), dtype_name(dtype), c.abs_diff,
                      c.rel_diff, c.agrees, rtol, atol,
                      _worst(c, tuple(ref_value.shape), ref_value, trace_value, written))


def compare_gradients(manual: torch.Tensor, reference: torch.Tensor, dtype: torch.dtype, *,
                      written: torch.Tensor | None = None, support: torch.Tensor | None = None,
                      scratch: bool = False) -> GradientComparison:
    """Every element of the built-in's gradient against the trace's (`manual`, float64) with dtype tolerances;
    atol scales with the largest |manual| (when finite). `written`: the trace's gradient at the inputs as written,
    while `manual` is the exact gradient at the dtype-rounded inputs: the one shown, and compared for finiteness as
    in `closeness`. `support`: the flat indices where the gradient may be nonzero (see `closeness`).

    `manual` and `written` may be sparse COO tensors (autograd's gradient of a pick, NLL's: see
    `lossapp.engine.run_trace`): then they are exactly 0 off their elements, which are the support; the built-in's
    gradient is checked to be exactly 0 there in one blocked pass and compared at the support only (see
    `_compare_sparse`): the same GradientComparison as the dense gradients give, without making them. `scratch`:
    `reference` is the caller's own tensor, which nothing reads after this call (the built-in's gradient in
    `lossapp.engine._verify`): that check may leave it 0 at the support (see `_zero_off_support`)."""
    rtol, atol = TOLERANCES[dtype]
    shape = tuple(manual.shape)
    k = shown_count(manual.numel())
    if manual.layout != torch.strided or (written is not None and written.layout != torch.strided):
        sparse = _compare_sparse(manual, reference, rtol, atol, written, k, scratch)
        if sparse is not None:
            return sparse
        same = written is manual
        manual = manual.to_dense()  # (as a dense backward writes it: each element added to a 0)
        written = manual if same else None if written is None else written.to_dense()
    c = closeness(reference, manual, rtol, atol, written, scaled_atol=True, support=support)
    worst = _worst(c, shape, reference, manual, written)
    if worst is not None:
        worst["manual"] = worst.pop("trace")
    return GradientComparison(shape, c.abs_diff, c.agrees, head(manual if written is None else written, k),
                              head(reference, k), worst, rtol=rtol, atol=c.atol)

