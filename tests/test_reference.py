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


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_reference_runs_on_the_gpu() -> None:
    import lossapp

    r = lossapp.compute("mse", "[1, 2]", "[0, 0]", device="cuda")
    assert r.reference.device.startswith("cuda") and r.reference.agrees


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
