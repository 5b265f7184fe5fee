"""lossapp.service: the gradio-free application service behind the UI and the HTTP API."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import lossapp
from lossapp import service
from lossapp.inputs import InputError


def test_the_service_imports_no_gradio() -> None:
    """The service is part of the library: importing it (in a fresh interpreter) loads no gradio."""
    code = "import sys, lossapp.service; print('gradio' in sys.modules)"
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_random_input_is_the_articles_randn() -> None:
    made = service.random_input(0, "2, 3", "logits", "logits", None, lossapp.LOSSES["mse"])
    torch.manual_seed(0)
    pred, target = torch.randn(2, 3), torch.randn(2, 3)
    assert torch.equal(torch.tensor(json.loads(made.pred_text), dtype=torch.float32), pred)
    assert torch.equal(torch.tensor(json.loads(made.target_text), dtype=torch.float32), target)
    assert made.code == "torch.manual_seed(0)\npred = torch.randn(2, 3)\ntarget = torch.randn(2, 3)"
    classes = service.random_input(3, "4, 5", "logits", "classes", None, lossapp.LOSSES["cross_entropy"])
    torch.manual_seed(3)
    torch.randn(4, 5)
    assert json.loads(classes.target_text) == torch.randint(0, 5, (4,)).tolist()
    zero = service.random_input(3, "4, 5", "logits", "classes", 0, lossapp.LOSSES["cross_entropy"])
    assert zero == classes  # 0 (what an empty number box sends) means "C from pred"
    for bad in ("", "2, -3", "a, b", "1000, 1000"):
        with pytest.raises(InputError):
            service.parse_shape(bad)


def test_params_text_is_parsed_not_evaluated() -> None:
    assert service.parse_params_text('{"beta": 0.5, "weight": [1, 2]}') == {"beta": 0.5, "weight": "[1, 2]"}
    assert service.parse_params_text("") == {}
    for bad in ("__import__('os')", "[1, 2]", "{'beta': 1}"):
        with pytest.raises(InputError, match="params: expected a JSON object"):
            service.parse_params_text(bad)
