import math

import numpy as np
import pytest
import torch

from lossapp.i18n import has_zh
from lossapp.inputs import InputError
from lossapp.reference import (
    GradientComparison,
    available_devices,
    closeness,
    compare_gradients,
    compare_values,
    finiteness_mismatch,
    resolve_device,
    resolve_dtype,
)


def test_devices() -> None:
    assert available_devices()[0] == "cpu"
    assert resolve_device("CPU") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="'cuda' is not available on this machine; available: cpu"):
            resolve_device("cuda")
    with pytest.raises(InputError, match="expected a device"):
        resolve_device("gpu0")


ACCELERATORS = [d for d in ("cuda", "mps") if d in available_devices()]


@pytest.mark.skipif(not ACCELERATORS, reason="needs a CUDA or MPS device (none on this machine)")
def test_every_loss_agrees_on_the_accelerator() -> None:
    """Where a GPU is present: every loss × reduction, its built-in run there, agrees with the trace."""
    import lossapp

    for device in ACCELERATORS:
        for spec in lossapp.LOSSES.values():
            if spec.kind == "metric":
                continue
            ex = spec.example
            for reduction in spec.reductions:
                r = lossapp.compute(spec.name, ex["pred"], ex.get("target"), reduction=reduction, device=device,
                                    **ex.get("params", {}))
                assert r.reference.device.startswith(device) and r.reference.agrees, (spec.name, reduction)
                assert r.gradient is None or r.gradient.agrees, (spec.name, reduction)


def _tiled(spec, size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The spec's example repeated along the first dimension to about `size` elements (a 1-D example of one
    distribution or one class index stays as it is)."""
    from lossapp.engine import read_inputs

    pred, target = read_inputs(spec, spec.example["pred"], spec.example.get("target"))
    x, y = pred.values, target.values if target else None
    if x.dim() == 0 or (y is not None and y.dim() == 0):
        return x, y
    reps = max(1, size // x.numel())
    return (x.repeat(reps, *[1] * (x.dim() - 1)),
            None if y is None else y.repeat(reps, *[1] * (y.dim() - 1)))


@pytest.mark.skipif(not ACCELERATORS, reason="needs a CUDA or MPS device (none on this machine)")
def test_every_loss_agrees_on_the_accelerator_at_a_large_size() -> None:
    """Where a GPU is present: every loss on about 10^6 elements, the float64 verification pass on the device too."""
    import lossapp

    for device in ACCELERATORS:
        for spec in lossapp.LOSSES.values():
            if spec.kind == "metric":
                continue
            pred, target = _tiled(spec, 1_000_000)
            params = {k: v for k, v in spec.example.get("params", {}).items()
                      if not (isinstance(v, str) and v.strip().startswith("["))}  # per-class lists fit the example
            r = lossapp.compute(spec.name, pred, target, device=device, reduction=spec.default_reduction, **params)
            assert r.reference.device.startswith(device) and r.reference.agrees, spec.name
            assert r.gradient is None or (r.gradient.agrees and r.gradient.shape == tuple(r.pred.values.shape))
            assert r.unreduced is None or r.unreduced.device.type == "cpu"


def test_dtypes() -> None:
    assert resolve_dtype("double") is torch.float64
    assert resolve_dtype("torch.bfloat16") is torch.bfloat16
    assert resolve_dtype(torch.float16) is torch.float16
    with pytest.raises(InputError, match="expected dtype"):
        resolve_dtype("int32")


def test_gradient_comparison_flags_a_difference() -> None:
    manual = torch.tensor([1.0, 2.0], dtype=torch.float64)
    assert compare_gradients(manual, manual.clone(), torch.float32).agrees
    off = compare_gradients(manual, manual + torch.tensor([0.0, 0.1], dtype=torch.float64), torch.float32)
    assert not off.agrees and off.max_abs_diff == pytest.approx(0.1)


def _closeness_by_element(r: torch.Tensor, e: torch.Tensor, rtol: float, atol: float) -> tuple[float, bool]:
    """The definition, element by element in Python: (max |Δ|, agrees)."""
    worst, ok = 0.0, True
    for a, b in zip(r.double().tolist(), e.tolist(), strict=True):
        if (math.isnan(a) and math.isnan(b)) or (math.isinf(a) and a == b):
            continue
        d = abs(a - b)
        if math.isnan(d):
            return math.nan, False
        worst, ok = max(worst, d), ok and d <= atol + rtol * abs(b)
    return worst, ok


def test_closeness_is_the_elementwise_definition() -> None:
    g = torch.Generator().manual_seed(0)
    e = torch.randn(300, generator=g, dtype=torch.float64)
    cases = {"float32": e.float(), "off": (e + 1e-4 * torch.randn(300, generator=g, dtype=torch.float64)).float()}
    special = e.clone()
    special[:4] = torch.tensor([math.nan, math.inf, -math.inf, 0.0])
    cases["nan and inf pairs"] = special.float()
    e_special = e.clone()
    e_special[:4] = torch.tensor([math.nan, math.inf, -math.inf, 0.0])
    for name, r in cases.items():
        exact = e_special if name == "nan and inf pairs" else e
        c = closeness(r, exact, 2e-5, 1e-6)
        worst, ok = _closeness_by_element(r, exact, 2e-5, 1e-6)
        assert (c.abs_diff, c.agrees) == (worst, ok), name
        if c.index is not None:
            assert abs(float(r[c.index]) - float(exact[c.index])) == c.abs_diff
            assert c.rel_diff == pytest.approx(c.abs_diff / abs(float(exact[c.index])))
    assert not closeness(torch.tensor([math.nan, 2.0]), torch.tensor([1.0, 2.0], dtype=torch.float64), 1, 1).agrees


def test_closeness_over_several_blocks_finds_the_first_worst_element() -> None:
    """Large inputs are compared a block of CHUNK elements at a time: the worst element, ties, the rtol part and a
    NaN or inf in a later block are decided over every element as for one block."""
    from lossapp.trace import CHUNK

    n = 3 * CHUNK + 5
    e = torch.linspace(1.0, 2.0, n, dtype=torch.float64)
    r = e.float()
    late, tie = 2 * CHUNK + 7, 3 * CHUNK + 1
    exact = r.double()
    exact[CHUNK - 1] -= 0.25
    exact[late] -= 0.5
    exact[tie] -= 0.5  # as far off as `late`, in a later block: the first of the two is the worst
    worst, ok = _closeness_by_element(r, exact, 2e-5, 1e-6)
    c = closeness(r, exact, 2e-5, 1e-6)
    assert (c.abs_diff, c.agrees, c.index) == (worst, ok, late) == (0.5, False, late)
    within = e.float()  # every difference above atol but within rtol: the second pass over the blocks says agree
    assert closeness(within, e, 2e-5, 1e-9).agrees and not closeness(within, e, 1e-12, 1e-9).agrees
    for bad in (math.nan, math.inf):
        r_bad = e.float()
        r_bad[late] = bad
        c = closeness(r_bad, e, 2e-5, 1e-6)
        assert not c.agrees and c.index == late and (math.isnan(c.abs_diff) if math.isnan(bad) else c.abs_diff == math.inf)


def test_gradient_comparison_keeps_the_shown_elements_and_the_worst() -> None:
    manual = torch.linspace(-1, 1, 1000, dtype=torch.float64)
    reference = manual.float()
    reference[700] += 0.01
    c = compare_gradients(manual, reference, torch.float32)
    assert not c.agrees and c.shape == (1000,) and c.worst["index"] == [700]
    assert c.max_abs_diff == pytest.approx(0.01, rel=1e-5) and c.manual_shown.tolist() == manual[:6].tolist()
    assert c.to_dict()["shown"] == 6 and not c.complete
    with pytest.raises(LookupError):
        _ = c.manual  # no computation to replay for the rest


def _meta_cases() -> list[tuple[str, str]]:
    import lossapp

    return [(s.name, r) for s in lossapp.LOSSES.values() if s.kind == "loss" for r in s.reductions]


@pytest.mark.parametrize(("name", "reduction"), _meta_cases())
def test_references_keep_every_tensor_on_the_inputs_device(name: str, reduction: str) -> None:
    """No GPU here, so run each reference on torch's "meta" device: a tensor created on the CPU inside a
    reference (which would break on cuda / mps) raises "is not on the expected device"."""
    import lossapp
    from lossapp.engine import read_inputs
    from lossapp.reference import _to_device
    from lossapp.trace import Trace

    spec = lossapp.LOSSES[name]
    params = spec.resolve_params(spec.example.get("params", {}))
    pred, target = read_inputs(spec, spec.example["pred"], spec.example.get("target"))
    x, y = pred.values, target.values if target else None
    if spec.prepare is not None:
        x, y = spec.prepare(x, y, params, Trace())
    meta = torch.device("meta")
    xm = x.to(meta, torch.float32).requires_grad_(spec.differentiable)
    ym = None if y is None else y.to(meta, torch.float32 if y.is_floating_point() else y.dtype)
    try:
        value = spec.reference(xm, ym, {k: _to_device(v, meta, torch.float32) for k, v in params.items()}, reduction)
    except RuntimeError as exc:  # data-dependent control flow (.item()) cannot run on meta; it does on cuda
        assert "cannot be called on meta tensors" in str(exc), exc
        return
    assert value.device.type == "meta"


# -- odd device and dtype names: an InputError saying what there is, bounded -----------------------------------------

def _message(fn, *args) -> str:
    with pytest.raises(InputError) as info:
        fn(*args)
    message = str(info.value)
    assert "expected" in message and len(message) < 600 and has_zh(info.value), message
    return message


@pytest.mark.parametrize("name", ["cuda:99", "cuda:-1", "cuda:99999999999999999999", "mps", "cuda"])
def test_devices_not_here_say_what_is(name: str) -> None:
    if name in available_devices():
        pytest.skip(f"{name} is present on this machine")
    available = ", ".join(available_devices())
    assert _message(resolve_device, name) == (f"device {name!r} is not available on this machine; available: "
                                              f"{available} (expected one of these)")


def test_odd_device_names() -> None:
    assert resolve_device(None) == resolve_device("") == resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert _message(resolve_device, 5) == "expected a device such as cpu, cuda, cuda:0 or mps, got 5"
    assert _message(resolve_device, ["cpu"]) == "expected a device such as cpu, cuda, cuda:0 or mps, got list"
    assert _message(resolve_device, "cpu\x00") == r"expected a device such as cpu, cuda, cuda:0 or mps, got 'cpu\x00'"
    assert _message(resolve_device, "c" * 1_000_000).endswith("… (1,000,000 characters)")
    assert _message(resolve_device, "cuda:" + "9" * 100_000).endswith(
        f"… (100,005 characters) is not available on this machine; available: {', '.join(available_devices())} "
        f"(expected one of these)")


def test_odd_dtype_names() -> None:
    assert resolve_dtype(None) is torch.float32 and resolve_dtype(" Half ") is torch.float16
    for name in ("float8", "float8_e4m3fn", "int64", "complex64"):
        assert _message(resolve_dtype, name) == f"expected dtype float16, bfloat16, float32 or float64, got {name!r}"
    assert _message(resolve_dtype, 5) == "expected dtype float16, bfloat16, float32 or float64, got 5"
    assert _message(resolve_dtype, ["float16"]) == "expected dtype float16, bfloat16, float32 or float64, got list"
    assert _message(resolve_dtype, "f" * 1_000_000).endswith("… (1,000,000 characters)")


# -- comparisons -----------------------------------------------------------------------------------------------------

def test_closeness_names_the_worst_element_and_refuses_finiteness_mismatches() -> None:
    exact = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    close = closeness(exact + torch.tensor([0.0, 1e-3, 1e-7]), exact, 2e-5, 1e-6)
    assert not close.agrees and close.worst == 1 and close.abs_diff == pytest.approx(1e-3)
    # NaN matches NaN and inf the same inf, but not a number
    assert closeness(torch.tensor([math.nan, math.inf]), torch.tensor([math.nan, math.inf]), 2e-5, 1e-6).agrees
    nan = closeness(torch.tensor([1.0, math.nan]), torch.tensor([1.0, 0.5]), 2e-5, 1e-6)
    assert not nan.agrees and nan.worst == 1 and math.isnan(nan.abs_diff)
    # a float16 overflow: inf against the exact value of the rounded inputs (inf too) agrees, against the inputs
    # as written (finite) it does not
    ref, rounded_exact, written = (torch.tensor([math.inf, 1.0]), torch.tensor([math.inf, 1.0]),
                                   torch.tensor([4.9e9, 1.0]))
    assert closeness(ref, rounded_exact, 1e-2, 1e-3).agrees
    over = closeness(ref, rounded_exact, 1e-2, 1e-3, written)
    assert not over.agrees and over.worst == 0 and over.abs_diff == math.inf
    assert finiteness_mismatch(ref, written).tolist() == [True, False]


def test_comparisons_carry_the_worst_index() -> None:
    import lossapp

    spec = lossapp.LOSSES["mse"]
    value = compare_values(spec, torch.tensor([[0.5, 0.25]]), torch.tensor([[0.5, 0.35]]), torch.device("cpu"),
                           torch.float32)
    assert not value.agrees and value.worst_index == (0, 1) and value.to_dict()["worst_index"] == [0, 1]
    grad = compare_gradients(torch.tensor([[0.5, 2.0]]), torch.tensor([[0.5, math.nan]]), torch.float16)
    assert not grad.agrees and grad.worst_index == (0, 1) and grad.to_dict()["worst_index"] == [0, 1]
    assert (grad.rtol, grad.atol) == (1e-2, 1e-3 * 2.0)  # atol scales with the gradient's largest magnitude
    scalar = compare_values(spec, torch.tensor(0.5), torch.tensor(0.5), torch.device("cpu"), torch.float32)
    assert scalar.agrees and scalar.worst_index is None


def test_gradient_atol_scales_with_the_largest_manual_element_in_any_block() -> None:
    from lossapp.trace import CHUNK
    manual = torch.full((3 * CHUNK + 5,), 0.5, dtype=torch.float64)
    manual[2 * CHUNK + 3] = -40.0  # the largest |manual| in a late block
    c = compare_gradients(manual, manual.float(), torch.float32)
    assert c.agrees and c.atol == pytest.approx(1e-6 * 40.0)
    assert compare_gradients(manual * 0.01, (manual * 0.01).float(), torch.float32).atol == 1e-6  # max(1, 0.4)
    with_nan = manual.clone()
    with_nan[CHUNK + 1] = math.nan  # no finite scale: atol as given
    assert compare_gradients(with_nan, with_nan.float(), torch.float32).atol == 1e-6


# -- a gradient that lives on a few elements (LossSpec.gradient_support): compared there, checked 0 elsewhere ---------

def _sparse_gradients(shape: tuple[int, ...], support: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(manual float64, reference float32): nonzero only at the flat indices `support`."""
    g = torch.Generator().manual_seed(3)
    manual = torch.zeros(shape, dtype=torch.float64)
    manual.view(-1)[support] = torch.randn(support.numel(), generator=g, dtype=torch.float64)
    return manual, manual.float()


def _same_comparison(reference: torch.Tensor, manual: torch.Tensor, support: torch.Tensor,
                     written: torch.Tensor | None = None) -> None:
    """closeness with the support is closeness of every element (value, verdict, worst index, atol), and leaves both
    tensors as they were."""
    before = (reference.clone(), manual.clone())
    dense = closeness(reference, manual, 2e-5, 1e-6, written, scaled_atol=True)
    sparse = closeness(reference, manual, 2e-5, 1e-6, written, scaled_atol=True, support=support)
    assert (sparse.agrees, sparse.index, sparse.atol) == (dense.agrees, dense.index, dense.atol)
    for a, b in ((sparse.abs_diff, dense.abs_diff), (sparse.rel_diff, dense.rel_diff)):
        assert a == b or (math.isnan(a) and math.isnan(b))
    torch.testing.assert_close(reference, before[0], rtol=0, atol=0, equal_nan=True)
    torch.testing.assert_close(manual, before[1], rtol=0, atol=0, equal_nan=True)


@pytest.fixture
def any_support(monkeypatch: pytest.MonkeyPatch) -> None:
    """A support is compared on its own however dense it is (small tensors whose support is 1 in 4)."""
    import lossapp.reference

    monkeypatch.setattr(lossapp.reference, "SPARSE_SUPPORT", 1)


def test_gradient_comparison_on_the_support_is_the_comparison_of_every_element(any_support: None) -> None:
    target = torch.tensor([2, 0, 1, 1, 3, 0])
    support = torch.arange(6) * 4 + target  # (6, 4): each row's target class
    manual, reference = _sparse_gradients((6, 4), support)
    _same_comparison(reference, manual, support)
    assert compare_gradients(manual, reference, torch.float32, support=support).agrees

    wrong_at_target = reference.clone()
    wrong_at_target[3, 1] += 0.5  # a target position: found among the supported elements
    wrong_at_target[4, 3] += 0.25
    _same_comparison(wrong_at_target, manual, support)
    c = compare_gradients(manual, wrong_at_target, torch.float32, support=support)
    assert not c.agrees and c.worst_index == (3, 1) and c.max_abs_diff == pytest.approx(0.5)
    assert c.worst["manual"] == float(manual[3, 1]) and c.worst["reference"] == float(wrong_at_target[3, 1])

    for bad in (1e-3, -2.0, math.nan, math.inf):  # off the support: every element compared, the worst one named
        off_target = reference.clone()
        off_target[2, 3] = bad
        _same_comparison(off_target, manual, support)
        c = compare_gradients(manual, off_target, torch.float32, support=support)
        assert not c.agrees and c.worst_index == (2, 3) and c.worst["manual"] == 0.0
        manual_off = manual.clone()
        manual_off[5, 2] = bad  # the trace's own gradient off the support
        _same_comparison(reference, manual_off, support)
        assert compare_gradients(manual_off, reference, torch.float32, support=support).worst_index == (5, 2)


def test_gradient_comparison_on_the_support_reads_in_blocks_and_never_writes(any_support: None,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The check that every element off the support is 0 goes block by block (here 5 elements a block, so that the
    support and the offending elements fall in different blocks) and never writes into the tensors it is given (their
    version counters stay as they were)."""
    import lossapp.reference

    monkeypatch.setattr(lossapp.reference, "COMPARE_CHUNK", 5)
    target = torch.tensor([2, 0, 1, 1, 3, 0])
    support = torch.arange(6) * 4 + target
    manual, reference = _sparse_gradients((6, 4), support)
    for where in ((0, 0), (1, 1), (4, 1), (5, 3)):  # first block, a block's edge, later blocks, the last element
        for bad in (1e-3, -0.5, math.nan, -math.inf):
            off_target = reference.clone()
            off_target[where] = bad
            versions = (off_target._version, manual._version)
            _same_comparison(off_target, manual, support)
            c = compare_gradients(manual, off_target, torch.float32, support=support)
            assert not c.agrees and c.worst_index == where
            assert (off_target._version, manual._version) == versions
    _same_comparison(reference, manual, support)
    assert compare_gradients(manual, reference, torch.float32, support=support).agrees
    negative_zeros = reference.clone()
    negative_zeros[reference == 0] = -0.0  # -0 off the support is 0
    _same_comparison(negative_zeros, manual, support)
    assert compare_gradients(manual, negative_zeros, torch.float32, support=support).agrees


def test_gradient_comparison_on_the_support_ties_nan_and_unsorted_indices(any_support: None) -> None:
    # (2, 3, 4): sample n, class y, position d at n·12 + y·4 + d, listed by sample then position: not ascending
    target = torch.tensor([[2, 0, 1, 2], [0, 0, 2, 1]])
    n, d = torch.meshgrid(torch.arange(2), torch.arange(4), indexing="ij")
    support = (n * 12 + target * 4 + d).reshape(-1)
    assert not bool((support[1:] > support[:-1]).all())
    manual, reference = _sparse_gradients((2, 3, 4), support)
    tie = reference.clone()
    tie[1, 2, 2] = manual[1, 2, 2] + 0.5  # listed before the next one, later in the tensor
    tie[0, 1, 2] = manual[0, 1, 2] + 0.5  # (the first in the tensor: the worst)
    _same_comparison(tie, manual, support)
    assert compare_gradients(manual, tie, torch.float32, support=support).worst_index == (0, 1, 2)
    nan = reference.clone()
    nan[1, 0, 1] = math.nan
    _same_comparison(nan, manual, support)
    written = manual.clone()
    written[0, 2, 0] = math.inf  # the trace at the inputs as written: finite in one of them only
    _same_comparison(reference, manual, support, written)
    assert compare_gradients(manual, reference, torch.float32, written=written, support=support).worst_index == (0, 2, 0)
    empty = torch.zeros(0, dtype=torch.int64)  # every sample ignored: every element must be 0
    _same_comparison(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4, dtype=torch.float64), empty)
    _same_comparison(reference, manual, empty)


# -- a sparse gradient (autograd of a pick, NLL's): compared where it lives, the built-in's checked 0 elsewhere ---------

def _as_sparse(dense: torch.Tensor, flat: torch.Tensor) -> torch.Tensor:
    """dense's elements at the flat indices `flat` (in that order, repeats allowed) as an uncoalesced COO tensor, as
    torch.gather's sparse gradient is."""
    index = torch.stack([torch.as_tensor(i) for i in np.unravel_index(flat.numpy(), tuple(dense.shape))]) \
        if dense.dim() else torch.zeros(0, flat.numel(), dtype=torch.int64)
    return torch.sparse_coo_tensor(index, dense.reshape(-1)[flat], tuple(dense.shape), check_invariants=True)


def _same_gradient_comparison(sparse: GradientComparison, dense: GradientComparison) -> None:
    assert (sparse.shape, sparse.agrees, sparse.rtol, sparse.atol) == (dense.shape, dense.agrees, dense.rtol, dense.atol)
    assert sparse.max_abs_diff == dense.max_abs_diff or (math.isnan(sparse.max_abs_diff)
                                                         and math.isnan(dense.max_abs_diff))
    for a, b in ((sparse.manual_shown, dense.manual_shown), (sparse.reference_shown, dense.reference_shown)):
        assert a.dtype == b.dtype == torch.float64 and torch.equal(a.isnan(), b.isnan())
        assert torch.equal(a.nan_to_num(), b.nan_to_num()) and torch.equal(a.signbit(), b.signbit())
    assert (sparse.worst is None) == (dense.worst is None)
    if dense.worst is not None:
        assert sparse.worst.keys() == dense.worst.keys() and sparse.worst["index"] == dense.worst["index"]
        for key in ("manual", "reference", "abs_diff", "rel_diff"):
            a, b = sparse.worst[key], dense.worst[key]
            assert a == b or (math.isnan(a) and math.isnan(b)), key


def test_a_sparse_gradient_is_compared_as_its_dense_tensor() -> None:
    """compare_gradients of a sparse trace gradient (its support: its own indices) is compare_gradients of the dense
    tensor a backward writes (zeros, each element added: −0 is 0), whether the built-in agrees, differs at the support,
    or is not 0 off it (then every element is compared, the worst named)."""
    g = torch.Generator().manual_seed(4)
    target = torch.tensor([2, 0, 1, 1, 3, 0, 2])
    flat = torch.arange(7) * 4 + target  # (7, 4): each row's target class
    manual = torch.zeros(7, 4, dtype=torch.float64)
    manual.view(-1)[flat] = torch.randn(7, generator=g, dtype=torch.float64)
    manual[0, 2] = -0.0  # a pick whose gradient is −0 (weight 0): 0 in the dense tensor
    sparse = _as_sparse(manual, flat)
    dense = sparse.to_dense()
    assert not dense[0, 2].signbit()
    reference = dense.float()
    cases = [reference]
    for where, bad in (((3, 1), 0.5), ((0, 0), 1e-3), ((2, 3), -2.0), ((5, 1), math.nan), ((6, 0), math.inf),
                       ((1, 0), math.nan)):
        off = reference.clone()
        off[where] = bad if not (where == (0, 0) or where == (1, 0)) else off[where] + bad
        cases.append(off)
    negative_zeros = reference.clone()
    negative_zeros[reference == 0] = -0.0
    cases.append(negative_zeros)
    for ref in cases:
        for dtype in (torch.float32, torch.float16):
            before = ref.clone()
            _same_gradient_comparison(compare_gradients(sparse, ref, dtype), compare_gradients(dense, ref, dtype))
            assert torch.equal(ref.nan_to_num(), before.nan_to_num())  # (read, never written)
            # scratch: the caller's own tensor, written into by the check that it is 0 off the support; the same
            # comparison, and where that check fails (compared densely) its values back, bit for bit
            scratch = ref.clone()
            _same_gradient_comparison(compare_gradients(sparse, scratch, dtype, scratch=True),
                                      compare_gradients(dense, ref, dtype))
            if bool((ref.view(-1).index_fill(0, flat, 0) != 0).any()):  # (NaN != 0 too)
                assert torch.equal(scratch.view(torch.int32), ref.view(torch.int32))
    written = manual.clone()
    written[4, 3] = math.inf  # the trace at the inputs as written: finite in one of it and the built-in only
    _same_gradient_comparison(compare_gradients(sparse, reference, torch.float32, written=_as_sparse(written, flat)),
                              compare_gradients(dense, reference, torch.float32, written=_as_sparse(written, flat).to_dense()))
    assert compare_gradients(sparse, reference, torch.float32, written=_as_sparse(written, flat)).worst_index == (4, 3)
    elsewhere = _as_sparse(written, flat.flip(0) + 0 * flat)  # listed in another order: coalesced, the same tensor
    _same_gradient_comparison(compare_gradients(elsewhere, reference, torch.float32),
                              compare_gradients(elsewhere.to_dense(), reference, torch.float32))
    other = _as_sparse(manual, torch.cat([flat[:-1], flat[-1:] - 1]))  # written at other indices: compared densely
    _same_gradient_comparison(compare_gradients(sparse, reference, torch.float32, written=other),
                              compare_gradients(dense, reference, torch.float32, written=other.to_dense()))
    cube = torch.zeros(2, 3, 4, dtype=torch.float64)  # (N, C, d): picks at n·12 + y·4 + d
    picks = torch.tensor([1, 6, 11, 3, 12, 21, 18, 15])
    cube.view(-1)[picks] = torch.randn(8, generator=g, dtype=torch.float64)
    cube_ref = cube.float()
    cube_ref[1, 0, 1] = 0.25
    for ref in (cube.float(), cube_ref):
        _same_gradient_comparison(compare_gradients(_as_sparse(cube, picks), ref, torch.float32),
                                  compare_gradients(cube, ref, torch.float32))
    long = torch.zeros(300, dtype=torch.float64)  # more than the shown elements; none of the picks among them
    long[[40, 299]] = torch.tensor([0.5, -1.5], dtype=torch.float64)
    _same_gradient_comparison(compare_gradients(_as_sparse(long, torch.tensor([40, 299])), long.float(), torch.float32),
                              compare_gradients(long, long.float(), torch.float32))


def test_nll_gives_a_sparse_gradient_where_asked_and_the_dense_one_otherwise() -> None:
    """run_trace(sparse=True) hands autograd's sparse gradient of NLL's pick over; without it, the dense tensor, bit for
    bit the gradient of the same steps with a dense gather."""
    import lossapp
    from lossapp.engine import run_trace
    from lossapp.losses.classification import _index_loss_steps
    from lossapp.trace import Trace

    g = torch.Generator().manual_seed(6)
    x = torch.log_softmax(torch.randn(9, 5, generator=g, dtype=torch.float64), 1)
    y = torch.randint(0, 5, (9,), generator=g)
    spec = lossapp.LOSSES["nll"]
    for params in ({}, {"weight": torch.rand(5, generator=g, dtype=torch.float64)}, {"ignore_index": 2},
                   {"log_base": "2"}, {"weight": torch.tensor([0.0, 1.0, 2.0, 0.5, 0.0], dtype=torch.float64)}):
        resolved = spec.resolve_params(params)
        for reduction in spec.reductions:
            _, value, sparse = run_trace(spec, x, y, resolved, reduction, sparse=True)
            _, dense_value, dense = run_trace(spec, x, y, resolved, reduction)
            assert sparse.layout == torch.sparse_coo and dense.layout == torch.strided
            assert torch.equal(value, dense_value) and torch.equal(sparse.to_dense(), dense)
            leaf = x.clone().requires_grad_(True)
            total = _index_loss_steps(Trace(), leaf, y, resolved, reduction, 0.0)  # (sparse_grad off: a dense gather)
            (expected,) = torch.autograd.grad(total, leaf, torch.ones_like(total))
            assert torch.equal(dense, expected) and torch.equal(dense.signbit(), expected.signbit())


# -- one element (a reduced value): compared on Python floats ---------------------------------------------------------

@pytest.mark.parametrize("scaled_atol", [False, True])
def test_closeness_of_one_element_is_the_closeness_of_the_tensor_passes(scaled_atol: bool) -> None:
    """A 0-d (or one-element) comparison gives exactly the Closeness of the blocked tensor passes, which a tensor of
    two copies of the same element goes through (its worst element is the first: index 0 as for one)."""
    inf, nan = math.inf, math.nan
    values = [0.0, -0.0, 1.0, -2.5, 1.0 + 1e-6, 3e-7, 1e30, -1e-300, inf, -inf, nan]
    cases = [(r, e, w) for r in values for e in values for w in (None, e, 0.5, inf, nan)]
    for r, e, w in cases:
        for dtype in (torch.float32, torch.float64):
            reference = torch.tensor(r, dtype=dtype)
            exact = torch.tensor(e, dtype=torch.float64)
            written = None if w is None else torch.tensor(w, dtype=torch.float64)
            one = closeness(reference, exact, 2e-5, 1e-6, written, scaled_atol=scaled_atol)
            pair = closeness(reference.expand(2), exact.expand(2), 2e-5, 1e-6,
                             None if written is None else written.expand(2), scaled_atol=scaled_atol)
            assert (one.agrees, one.index, one.atol) == (pair.agrees, pair.index, pair.atol), (r, e, w, dtype)
            for a, b in ((one.abs_diff, pair.abs_diff), (one.rel_diff, pair.rel_diff)):
                assert a == b or (math.isnan(a) and math.isnan(b)), (r, e, w, dtype)


@pytest.mark.parametrize("scaled_atol", [False, True])
def test_closeness_to_one_broadcast_number_is_the_closeness_of_the_tensor_passes(
        scaled_atol: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """An exact value that is one number's broadcast view (NLL's gradient values) is compared from the built-in's
    extremes: exactly the Closeness of the same number written into every element, for random, tied, one-sided,
    absorbing (|c| far above r, where distinct r_i round to one |r_i − c|), non-finite and any-worst-element cases; the
    float64 pass runs only where the extremes do not decide it."""
    import lossapp.reference

    g = torch.Generator().manual_seed(8)
    inf, nan = math.inf, math.nan
    passes = []
    largest_gap = lossapp.reference._largest_gap
    monkeypatch.setattr(lossapp.reference, "_largest_gap", lambda *a: passes.append(1) or largest_gap(*a))
    constants = [-1e-5, 1 / 3, 0.0, -0.0, 1.0, -2.5, 1e30, -1e-300, 3e-39, inf, -inf, nan]
    for c in constants:
        for dtype in (torch.float32, torch.float16, torch.float64):
            base = torch.tensor(c, dtype=torch.float64).to(dtype)
            noise = torch.randn(40, generator=g, dtype=torch.float64)
            cases = {"equal": base.expand(40).clone(),
                     "noisy": (base.double() + noise * 1e-6 * max(1.0, abs(c) if math.isfinite(c) else 1.0)).to(dtype),
                     "spread": (base.double() + noise).to(dtype),
                     "one_sided": (base.double() + noise.abs() + 0.5).to(dtype),
                     "small": (noise * 1e-3).to(dtype)}
            first_worst = cases["spread"].clone()
            first_worst[0] = first_worst.double().abs().max() * 4 + 1
            cases["first_worst"] = first_worst
            tied = cases["spread"].clone()
            tied[[3, 9]] = tied[[3, 9]].abs() + 100
            tied[[5]] = -tied[3]  # the same distance on both sides of c = 0
            cases["tied"] = tied
            for bad in (nan, inf, -inf):
                with_bad = cases["noisy"].clone()
                with_bad[7] = bad
                cases[f"{bad}"] = with_bad
            for name, r in cases.items():
                one = torch.tensor(c, dtype=torch.float64).expand(r.numel())
                passes.clear()
                got = closeness(r, one, 2e-5, 1e-6, scaled_atol=scaled_atol)
                decided = not passes
                want = closeness(r, one.contiguous(), 2e-5, 1e-6, scaled_atol=scaled_atol)
                key = (c, dtype, name)
                assert (got.agrees, got.index, got.atol) == (want.agrees, want.index, want.atol), key
                for a, b in ((got.abs_diff, want.abs_diff), (got.rel_diff, want.rel_diff)):
                    assert a == b or (math.isnan(a) and math.isnan(b)), key
                if name == "equal" and math.isfinite(c) and math.isfinite(float(base)):
                    assert decided, key  # (no float64 pass where every r_i is the same number)
    absorbed = torch.tensor([0.0, 1e-5, 5.0, -5.0, 2.0], dtype=torch.float32)  # |r_i − 1e30| all round to 1e30
    for c in (1e30, -1e30, 1e17):
        one = torch.tensor(c, dtype=torch.float64).expand(5)
        got, want = closeness(absorbed, one, 2e-5, 1e-6), closeness(absorbed, one.contiguous(), 2e-5, 1e-6)
        assert (got.abs_diff, got.rel_diff, got.agrees, got.index) == (want.abs_diff, want.rel_diff, want.agrees,
                                                                          want.index), c
    written = torch.full((40,), -1e-5, dtype=torch.float64)
    written[11] = inf  # the trace as written: not finite where the built-in is
    r = torch.full((40,), -1e-5, dtype=torch.float32)
    one = torch.tensor(-1e-5, dtype=torch.float64).expand(40)
    got, want = closeness(r, one, 2e-5, 1e-6, written), closeness(r, one.contiguous(), 2e-5, 1e-6, written)
    assert (got.abs_diff, got.agrees, got.index) == (want.abs_diff, want.agrees, want.index) == (inf, False, 11)


def test_zero_bits_reads_whole_aligned_words_only() -> None:
    """_zero_bits: True only where every bit is 0 (+0 everywhere), read as 64-bit words; False for a −0, a nonzero
    subnormal, bytes that are not whole words or not aligned to one (the caller's extremes decide then)."""
    from lossapp.reference import _zero_bits

    assert _zero_bits(torch.zeros(10)) and _zero_bits(torch.zeros(4, dtype=torch.float16))
    assert _zero_bits(torch.zeros(12)[2:10]) and _zero_bits(torch.zeros(3, dtype=torch.float64))
    assert not _zero_bits(torch.zeros(9)) and not _zero_bits(torch.zeros(11)[1:9])  # not whole, not aligned words
    for bad in (-0.0, 1e-45, math.nan, -math.inf):
        t = torch.zeros(10)
        t[7] = bad
        assert not _zero_bits(t), bad


@pytest.mark.parametrize("scaled_atol", [False, True])
def test_closeness_block_by_block_is_the_closeness_of_one_pass(scaled_atol: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 7 elements (the worst in the first, a middle or the last block, ties across blocks, NaN and ±inf)
    give the Closeness of one block holding every element."""
    import lossapp.reference

    g = torch.Generator().manual_seed(5)
    exact = torch.randn(50, generator=g, dtype=torch.float64)
    for where in (2, 24, 49, (10, 30), (31, 45)):
        for bad in (0.5, -3.0, math.nan, math.inf):
            reference = exact.float().clone()
            for i in (where if isinstance(where, tuple) else (where,)):
                reference[i] = exact[i] + bad
            results = []
            for chunk in (7, 1 << 18):
                monkeypatch.setattr(lossapp.reference, "COMPARE_CHUNK", chunk)
                results.append(closeness(reference, exact, 2e-5, 1e-6, scaled_atol=scaled_atol))
            blocked, whole = results
            assert (blocked.agrees, blocked.index, blocked.atol) == (whole.agrees, whole.index, whole.atol)
            for a, b in ((blocked.abs_diff, whole.abs_diff), (blocked.rel_diff, whole.rel_diff)):
                assert a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("into", [False, True])
@pytest.mark.parametrize("scaled_atol", [False, True])
def test_a_lazy_exact_value_is_compared_as_its_tensor(scaled_atol: bool, into: bool,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A `Lazy` elementwise exact value (the penalties' gradient), computed a block at a time where the comparison
    reads it (into one buffer where it has an `into`, else a new tensor per block), gives the Closeness and the
    GradientComparison of its tensor: blocks of 7 elements, the worst in the first, a middle or the last block, ties
    across blocks, NaN and ±inf; a `written` that is another Lazy, or a support, compares the tensors."""
    import lossapp.reference
    from lossapp.trace import Lazy

    g = torch.Generator().manual_seed(6)
    w = torch.randn(50, generator=g, dtype=torch.float64)
    w[[3, 17]] = 0.0

    def per_weight(v: torch.Tensor) -> torch.Tensor:
        return torch.sign(v).mul_(0.3)

    lazy = Lazy(per_weight, (w,), into=(lambda out, v: out.copy_(v).sign_().mul_(0.3)) if into else None)
    dense = per_weight(w)
    for where in (2, 24, 49, (10, 30), (31, 45), ()):
        for bad in (0.5, -3.0, 1e-9, math.nan, math.inf):
            reference = dense.float().clone()
            for i in (where if isinstance(where, tuple) else (where,)):
                reference[i] = dense[i] + bad
            monkeypatch.setattr(lossapp.reference, "COMPARE_CHUNK", 7)
            blocked = closeness(reference, lazy, 2e-5, 1e-6, scaled_atol=scaled_atol)
            blocked_gradient = compare_gradients(lazy, reference, torch.float32)
            monkeypatch.setattr(lossapp.reference, "COMPARE_CHUNK", 1 << 18)
            whole = closeness(reference, dense, 2e-5, 1e-6, scaled_atol=scaled_atol)
            assert (blocked.agrees, blocked.index, blocked.atol) == (whole.agrees, whole.index, whole.atol)
            for a, b in ((blocked.abs_diff, whole.abs_diff), (blocked.rel_diff, whole.rel_diff)):
                assert a == b or (math.isnan(a) and math.isnan(b))
            _same_gradient_comparison(blocked_gradient, compare_gradients(dense, reference, torch.float32))
    monkeypatch.setattr(lossapp.reference, "COMPARE_CHUNK", 7)
    reference = dense.float()
    shifted = w.clone()
    shifted[5] = math.inf  # the trace at the inputs as written: not finite where the built-in is
    _same_gradient_comparison(compare_gradients(lazy, reference, torch.float32, written=Lazy(per_weight, (shifted,))),
                              compare_gradients(dense, reference, torch.float32, written=per_weight(shifted)))
    support = torch.tensor([0, 1, 2])
    _same_gradient_comparison(compare_gradients(lazy, reference, torch.float32, support=support),
                              compare_gradients(dense, reference, torch.float32, support=support))


def test_a_lazy_exact_value_in_one_block_as_on_an_accelerator(monkeypatch: pytest.MonkeyPatch) -> None:
    """On an accelerator a comparison takes every element as one block: a large `Lazy` exact value (kept lazy by
    `_flat`) is then compared as its tensor, in the one-block path too."""
    import lossapp.reference
    from lossapp.trace import Lazy

    w = torch.randn(50, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    lazy, dense = Lazy(lambda v: torch.sign(v).mul_(0.3), (w,)), torch.sign(w).mul_(0.3)
    reference = dense.float().clone()
    reference[[7, 30]] += 0.25
    monkeypatch.setattr(lossapp.reference, "COMPARE_CHUNK", 7)  # larger than a block: _flat keeps it lazy
    monkeypatch.setattr(lossapp.reference, "_block_size", lambda flat: max(flat.numel(), 1))
    for scaled_atol in (False, True):
        one = closeness(reference, lazy, 2e-5, 1e-6, scaled_atol=scaled_atol)
        whole = closeness(reference, dense, 2e-5, 1e-6, scaled_atol=scaled_atol)
        assert (one.agrees, one.index, one.atol, one.abs_diff, one.rel_diff) == (
            whole.agrees, whole.index, whole.atol, whole.abs_diff, whole.rel_diff)
    _same_gradient_comparison(compare_gradients(lazy, reference, torch.float32),
                              compare_gradients(dense, reference, torch.float32))


@pytest.mark.parametrize("name", ["l1_penalty", "l2_penalty"])
@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
def test_the_penalties_lazy_gradient_compares_as_the_dense_one(name: str, reduction: str) -> None:
    """compute() with the penalties' gradient as a Lazy value (compared a block at a time) gives the comparison, every
    field, that the same gradient as a tensor gives; the complete gradient (replayed) is that tensor."""
    import dataclasses

    import lossapp
    from lossapp.trace import Lazy

    spec = lossapp.LOSSES[name]
    w = torch.randn(3 * (1 << 18) + 5, generator=torch.Generator().manual_seed(7))
    w[:10] = 0.0
    lazy_result = lossapp.compute(name, w, reduction=reduction, lam=0.3)

    def dense(*args: object) -> torch.Tensor:
        grad = spec.gradient(*args)
        assert isinstance(grad, Lazy)
        return grad.full()

    with pytest.MonkeyPatch.context() as m:
        m.setitem(lossapp.LOSSES, name, dataclasses.replace(spec, gradient=dense))
        dense_result = lossapp.compute(name, w, reduction=reduction, lam=0.3)
    _same_gradient_comparison(lazy_result.gradient, dense_result.gradient)
    assert lazy_result.gradient.agrees and torch.equal(lazy_result.value, dense_result.value)
    manual, _ = lazy_result.replay.gradients()
    assert torch.equal(manual, dense(w.double(), None, lazy_result.params, reduction))


@pytest.mark.parametrize("scale", [False, True])
def test_largest_gap_of_one_block_is_the_blocks_loops(monkeypatch, scale):
    """_largest_gap of a tensor in one block (one max with its index) gives the numbers the loop over blocks gives:
    the largest |r − e|, its first index and max(0, max |e|), with NaN, ±inf, equal tensors and ties."""
    import lossapp.reference
    from lossapp.reference import _largest_gap
    g = torch.Generator().manual_seed(8)
    e = torch.randn(40, generator=g, dtype=torch.float64)
    cases = [(e.float(), e), (e.double(), e), (e.float(), -e.abs()), (torch.zeros(40), torch.zeros(40, dtype=torch.float64))]
    for bad_r, bad_e in ((math.nan, 0.0), (math.inf, 0.0), (0.0, math.nan), (-math.inf, -math.inf), (1.0, -1.0)):
        r, e2 = e.float().clone(), e.clone()
        r[[5, 17]], e2[[5, 17]] = bad_r, bad_e
        cases.append((r, e2))
    for r, e2 in cases:
        got = []
        for chunk in (1 << 18, 6):
            monkeypatch.setattr(lossapp.reference, "COMPARE_CHUNK", chunk)
            got.append(_largest_gap(r, e2, scale))
        assert str(got[0]) == str(got[1]) or got[0] == got[1], (got, r[:3], e2[:3])


@pytest.mark.parametrize("size", [40, 3 * (1 << 18) + 5])
def test_a_bounded_lazy_value_compares_as_an_unbounded_one(size):
    """A Lazy value whose bound is at most 1 (so max(1, max |e|) over its finite elements is 1) is not read for the
    gradients' scaled atol: closeness gives every field it gives without the bound, in one block and in several, with
    NaN and ±inf in the built-in's value and in the exact one; a bound above 1 is not used."""
    from lossapp.reference import closeness
    from lossapp.trace import Lazy
    g = torch.Generator().manual_seed(15)
    x = torch.rand(size, generator=g, dtype=torch.float64) * 2 - 1
    for bad_x, bad_r in ((None, None), (math.nan, None), (math.inf, None), (None, math.nan), (None, -math.inf)):
        xs = x.clone()
        r = (xs * 0.5).float()
        r[size // 2] += 1e-3
        if bad_x is not None:
            xs[[3, size - 2]] = bad_x
        if bad_r is not None:
            r[[7, size - 1]] = bad_r
        for bound in (0.5, 1.0, 3.0):
            bounded, plain = Lazy(lambda v: v * 0.5, (xs,), bound=bound), Lazy(lambda v: v * 0.5, (xs,))
            got = closeness(r, bounded, 2e-5, 1e-6, scaled_atol=True)
            want = closeness(r, plain, 2e-5, 1e-6, scaled_atol=True)
            assert str(got) == str(want)


def test_the_first_worst_index_is_torch_maxs_over_the_gaps() -> None:
    """_first_at (one reduction per row of FIND_ROW elements, then an indexed maximum over the first row that holds
    the largest |d|) gives the index torch.max(|d|, 0) gives, the first of the largest: ties of one sign, of both
    signs, on row boundaries, in the last partial row only, every element equal, zeros of both signs; blocks of a row
    or less, a row and a half, many rows."""
    from lossapp.reference import FIND_ROW, _first_at

    g = torch.Generator().manual_seed(17)
    for size in (1, 5, FIND_ROW, FIND_ROW + 1, 3 * FIND_ROW // 2, 2 * FIND_ROW, 7 * FIND_ROW + 37, (1 << 18) + 5):
        base = torch.randn(size, generator=g, dtype=torch.float64)
        cases = [base, base.abs(), -base.abs(), torch.zeros(size, dtype=torch.float64),
                 torch.full((size,), -0.0, dtype=torch.float64), torch.full((size,), 2.5, dtype=torch.float64)]
        for where, signs in (((size - 1,), (1,)), ((size - 1, 0), (-1, 1)), ((size // 2, size - 1), (1, -1)),
                             ((min(FIND_ROW, size - 1), size - 1), (-1, -1)),
                             ((min(FIND_ROW - 1, size - 1), min(FIND_ROW, size - 1)), (1, -1)),
                             ((size - 1 - (size % FIND_ROW) // 2,), (-1,))):
            d = base.clone()
            for i, sign in zip(where, signs, strict=True):
                d[i] = sign * 9.0
            cases.append(d)
        for d in cases:
            low, high = float(d.amin()), float(d.amax())
            largest = max(-low, high)
            assert _first_at(d.clone(), largest, low, high) == int(torch.max(d.abs(), 0)[1]), (size, d)
