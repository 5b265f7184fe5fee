"""lossapp.service: the gradio-free application service behind the UI and the HTTP API."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import lossapp
from lossapp import service
from lossapp.i18n import has_zh, tr
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


@pytest.mark.parametrize("call", [
    lambda: service.parse_shape(""), lambda: service.parse_shape("2, -3"), lambda: service.parse_shape("a, b"),
    lambda: service.parse_shape("1, 2, 3, 4, 5, 6, 7"), lambda: service.parse_shape("1000, 1000"),
    lambda: service.random_input("x", "2", "logits", None, None, lossapp.LOSSES["mse"]),
    lambda: service.random_input(0, "2", "normal", None, None, lossapp.LOSSES["mse"]),
    lambda: service.random_input(0, "2, 3", "logits", "classes", 1.5, lossapp.LOSSES["cross_entropy"]),
])
def test_service_errors_have_their_chinese_by_id(call) -> None:
    with pytest.raises(InputError) as info:
        call()
    assert info.value.id and info.value.id.startswith("service.") and has_zh(info.value)
    assert re.search(r"[\u4e00-\u9fff]", info.value.render("zh")), info.value.render("zh")


def test_random_kind_labels_and_file_summary_are_messages() -> None:
    assert [tr(k.label, "zh") for k in service.RANDOM_KINDS][:2] == ["logits / 数值（randn）", "概率（rand）"]
    summary = service.file_summary("[1, 2, 3]", "pred")
    assert summary == "pred: (3,), 3 values" and tr(summary, "zh") == "pred：形状 (3,)，3 个值"


@pytest.mark.parametrize("loss", [spec.name for spec in service.calculator_specs()])
def test_every_loss_computes_from_its_example_with_default_controls_and_from_random_input(loss: str) -> None:
    """What the calculator sends untouched: the example with every parameter at its control's default (an optional
    parameter's empty box is ""), and the seeded random input of the loss's default kinds."""
    spec = lossapp.LOSSES[loss]
    defaults = service.control_values(spec, {p.name: "" if p.default is None else p.default for p in spec.params})
    example = service.compute(loss, spec.example["pred"], spec.example.get("target"), defaults, None, "cpu",
                              "float32")
    assert example.reference.agrees
    made = service.random_input(0, "2, 3", *service.default_random_kinds(spec), 0, spec)
    random = service.compute(loss, made.pred_text, made.target_text, defaults, None, "cpu", "float32")
    assert random.reference.agrees and torch.isfinite(torch.as_tensor(random.value)).all()


@pytest.mark.parametrize(("loss", "params", "kinds"), [
    ("bce", None, ("probabilities", "mask")),
    ("cross_entropy", None, ("logits", "classes")),
    ("cross_entropy", {"input": "probabilities"}, ("distribution", "classes")),
    ("cross_entropy", {"input": "log_probabilities"}, ("log_probabilities", "classes")),
    ("focal", {"input": "probabilities"}, ("probabilities", "mask")),
    ("nll", None, ("log_probabilities", "classes")),
    ("kl_div", None, ("log_probabilities", "distribution")),
    ("l1_penalty", None, ("logits", None)),
])
def test_default_random_kinds_follow_the_spec_and_its_input_parameter(loss, params, kinds) -> None:
    spec = lossapp.LOSSES[loss]
    assert service.default_random_kinds(spec, params) == kinds
    made = service.random_input(1, "3, 4", *kinds, 0, spec)
    lossapp.compute(loss, made.pred_text, made.target_text, **(params or {}))  # valid input of that kind


def test_random_input_code_draws_log_probabilities_as_torch_writes_them() -> None:
    made = service.random_input(0, "2, 3", "log_probabilities", "distribution", 0, lossapp.LOSSES["kl_div"])
    assert made.code == ("torch.manual_seed(0)\npred = torch.randn(2, 3).log_softmax(dim=1)\n"
                         "target = torch.randn(2, 3).softmax(dim=1)")
    torch.manual_seed(0)
    pred, target = torch.randn(2, 3).log_softmax(dim=1), torch.randn(2, 3).softmax(dim=1)
    assert torch.equal(torch.tensor(json.loads(made.pred_text), dtype=torch.float32), pred)
    assert torch.equal(torch.tensor(json.loads(made.target_text), dtype=torch.float32), target)
