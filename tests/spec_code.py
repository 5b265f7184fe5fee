"""Test helpers shared by the loss tests: run a spec's `torch_code`, compare at a dtype's tolerance."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lossapp.reference import TOLERANCES
from lossapp.render import split_torch_code


def run_torch_code(code: str, **names: Any) -> Any:
    """Evaluate a spec's torch_code as the "Reproduce in PyTorch" snippet does: its statements, then the final
    expression (split by lossapp.render.split_torch_code). Our own registered code, never user text."""
    head, expression = split_torch_code(code)
    scope: dict[str, Any] = {"torch": torch, "F": F, **names}
    exec(head, scope)
    return eval(expression, scope)


def assert_close(actual: Any, expected: Any, dtype: torch.dtype = torch.float64) -> None:
    """Equal shapes and values within lossapp's tolerance for `dtype` (NaN matches NaN)."""
    rtol, atol = TOLERANCES[dtype]
    a = torch.as_tensor(actual, dtype=torch.float64)
    b = torch.as_tensor(expected, dtype=torch.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert torch.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True), (a, b)
