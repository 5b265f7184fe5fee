import pytest
import torch

from lossapp.inputs import InputError
from lossapp.reference import available_devices, compare_gradients, resolve_device, resolve_dtype


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
            if spec.family == "metrics":
                continue
            ex = spec.example
            for reduction in spec.reductions:
                r = lossapp.compute(spec.name, ex["pred"], ex.get("target"), reduction=reduction, device=device,
                                    **ex.get("params", {}))
                assert r.reference.device.startswith(device) and r.reference.agrees, (spec.name, reduction)
                assert r.gradient is None or r.gradient.agrees, (spec.name, reduction)


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


def _meta_cases() -> list[tuple[str, str]]:
    import lossapp

    return [(s.name, r) for s in lossapp.LOSSES.values() if s.family != "metrics" for r in s.reductions]


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
