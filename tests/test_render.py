"""lossapp.render: the worked solution (Markdown + LaTeX), the PyTorch snippet, JSON and CSV."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from stray_english import stray_english

import lossapp
from lossapp import render, service
from lossapp.i18n import Message, tr
from lossapp.registry import LOSSES

BCE_PRED, BCE_TARGET = "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]"  # article 002, item 9


@pytest.fixture(scope="module")
def bce() -> lossapp.Result:
    return lossapp.compute("bce", BCE_PRED, BCE_TARGET)


def run_snippet(code: str) -> tuple[dict, str]:
    """Execute a generated snippet (our own code) and return its namespace and what it printed."""
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<snippet>", "exec"), namespace)
    return namespace, out.getvalue()


# -- the worked solution -----------------------------------------------------------------------------


def test_markdown_has_every_step_formula_numbers_and_value(bce: lossapp.Result) -> None:
    md = render.to_markdown(bce)
    for k, step in enumerate(bce.steps, start=1):
        assert f"**{k}. " in md
        assert f"$${step.formula}$$" in md
    # the numbers substituted into the formulas, element by element
    assert r"\log 0.2947" in md
    assert r"\log(1-0.5898)" in md
    # the mean written out with its numerator and denominator, and the article's value
    assert r"\frac{2.779}{3}" in md
    assert "0.926341" in md
    assert "### Comparison with PyTorch" in md
    assert "torch.nn.functional.binary_cross_entropy" in md
    assert md.count("$$") % 2 == 0


def test_markdown_in_chinese_translates_titles(bce: lossapp.Result) -> None:
    md = render.to_markdown(bce, "zh")
    for step in bce.steps:
        assert tr(step.title, "zh") != step.title, f"no Chinese for step title {step.title!r}"
        assert tr(step.title, "zh") in md.replace("\\", "")
    assert "与 PyTorch 的对比" in md
    assert "步骤" in md


def test_markdown_values_match_the_trace(bce: lossapp.Result) -> None:
    md = render.to_markdown(bce)
    # l_n per element with its value: −[1·(−1.222) + (1 − 1)·(−0.3491)] = 1.2218
    per_element = bce.step("l").value.tolist()
    for v in per_element:
        assert render.number(v) in md
    assert abs(per_element[0] - (-np.log(0.2947))) < 1e-12


def test_large_input_is_summarized_not_printed() -> None:
    n = 100_000
    g = torch.Generator().manual_seed(0)
    pred, target = torch.rand(n, generator=g), torch.rand(n, generator=g)
    result = lossapp.compute("mse", pred, target)
    md = render.to_markdown(result)
    assert len(md) < 20_000
    assert "shape (100000,)" in md
    assert "- $" not in md  # no per-element substituted lines
    expected = torch.nn.functional.mse_loss(pred.double(), target.double()).item()
    assert render.plain_number(expected) in md


def test_value_text_and_summary() -> None:
    assert render.value_text(0.9263412213637533) == "0.926341"
    assert render.value_text([1.0, 2.5]) == "[1, 2.5]"
    summary = render.value_text(list(range(100)))
    assert summary == "shape (100,), min 0, max 99, mean 49.5"
    assert render.value_latex([[1.0, 2.0], [3.0, 4.0]]) == r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}"
    assert render.value_latex(list(range(100))) is None


def test_badge_text(bce: lossapp.Result) -> None:
    text = render.badge_text(bce)
    assert text.startswith("matches torch.nn.functional.binary_cross_entropy on cpu/float32 (|Δ| = ")
    assert render.badge_text(bce, "zh").startswith("与 torch.nn.functional.binary_cross_entropy 在 cpu/float32 上一致")


@pytest.mark.parametrize("spec", list(LOSSES.values()), ids=lambda s: s.name)
def test_every_badge_speaks_chinese(spec) -> None:
    """The badge of every loss (and of the confusion matrix) in 中文: the built-in's name, the device and the
    numbers, and no English word (it once stayed English where the built-in's name holds a space)."""
    example = spec.example
    result = lossapp.compute(spec.name, example.get("pred"), example.get("target"), **example.get("params", {}))
    zh = render.badge_text(result, "zh")
    ref = result.reference
    if ref is not None and not isinstance(ref.name, Message):  # a built-in's name is code
        zh = zh.replace(ref.name, "")
    assert stray_english(zh) == [], render.badge_text(result, "zh")


def test_markdown_escapes_text_but_not_math() -> None:
    assert render._escape_text("Is |d| < β? $|d_n|<\\beta$") == "Is \\|d\\| \\< β? $|d_n|<\\beta$"


def test_markdown_with_verdict(bce: lossapp.Result) -> None:
    verdict = lossapp.check("bce", BCE_PRED, BCE_TARGET, claimed="0.9264")
    md = render.to_markdown(bce, verdict=verdict)
    assert "`rounding`" in md
    md_zh = render.to_markdown(bce, "zh", verdict=verdict)
    assert verdict.explanation_zh.split("（")[0] in md_zh


# -- the PyTorch snippet -----------------------------------------------------------------------------


def test_snippet_prints_the_article_value(bce: lossapp.Result) -> None:
    code = render.torch_snippet(bce)
    assert code.startswith("import torch\nimport torch.nn.functional as F\n")
    assert "pred = torch.tensor([0.2947, 0.5898, 0.4863], dtype=torch.float32)" in code
    namespace, printed = run_snippet(code)
    assert printed.strip() == "tensor(0.926341)"
    assert namespace["loss"].item() == pytest.approx(0.926341, abs=5e-7)
    assert namespace["loss"].item() == bce.reference.value


def _cases() -> list[tuple[str, str]]:
    out = []
    for name, spec in LOSSES.items():
        if not spec.torch_code.strip() or not spec.example:
            continue
        out += [(name, r) for r in spec.reductions]
    return out


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning")
@pytest.mark.parametrize(("loss", "reduction"), _cases())
def test_snippet_reproduces_the_builtin_for_every_loss(loss: str, reduction: str) -> None:
    spec = LOSSES[loss]
    example = spec.example
    if spec.kind == "metric":
        result = lossapp.compute(loss, None, None, **example["params"])
    else:
        result = lossapp.compute(loss, example["pred"], example.get("target"), reduction=reduction,
                                 **example.get("params", {}))
    namespace, printed = run_snippet(render.torch_snippet(result))
    got = namespace["loss"]
    want = torch.as_tensor(result.reference.value, dtype=torch.float64)
    got64 = torch.as_tensor(got, dtype=torch.float64).reshape(want.shape)
    assert torch.allclose(got64, want, rtol=1e-6, atol=1e-7, equal_nan=True), (loss, reduction, got, want)
    with torch_printoptions(6):
        assert printed.strip() == str(got)


@contextlib.contextmanager
def torch_printoptions(precision: int):
    torch.set_printoptions(precision=precision)
    try:
        yield
    finally:
        torch.set_printoptions(profile="default")


def test_snippet_float64_and_tensor_params() -> None:
    result = lossapp.compute("huber", "[[0.5, -1.2], [2.0, 0.0]]", "[[0.3, -1.0], [1.0, 0.2]]", delta=0.5,
                             dtype="float64", reduction="sum")
    code = render.torch_snippet(result)
    assert "dtype=torch.float64" in code and "delta = 0.5" in code and "reduction = 'sum'" in code
    namespace, _ = run_snippet(code)
    expected = torch.nn.functional.huber_loss(torch.tensor([[0.5, -1.2], [2.0, 0.0]], dtype=torch.float64),
                                              torch.tensor([[0.3, -1.0], [1.0, 0.2]], dtype=torch.float64),
                                              reduction="sum", delta=0.5)
    assert namespace["loss"].item() == expected.item()


def test_snippet_with_seeded_sources_reproduces_randn() -> None:
    torch.manual_seed(0)
    pred, target = torch.randn(2, 3), torch.randn(2, 3)
    result = lossapp.compute("l1", pred, target)
    code = render.torch_snippet(result, sources={"pred": "torch.manual_seed(0)\npred = torch.randn(2, 3)",
                                                 "target": "target = torch.randn(2, 3)"})
    assert "torch.tensor(" not in code
    namespace, _ = run_snippet(code)
    assert namespace["loss"].item() == torch.nn.functional.l1_loss(pred, target).item()


def run_snippet_alone(code: str) -> str:
    """Run a generated snippet as a person would, in a fresh interpreter (`python -c`); what it printed."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, f"the snippet failed:\n{code}\n{out.stderr}"
    return out.stdout.strip()


def printed_value(value: float, dtype: str) -> str:
    """How the snippet prints the built-in's value: print(loss) after torch.set_printoptions(precision=6)."""
    with torch_printoptions(6):
        return str(torch.as_tensor(value, dtype=getattr(torch, dtype)))


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning")
@pytest.mark.parametrize("loss", [spec.name for spec in service.calculator_specs()])
def test_snippet_from_the_apps_random_input_runs_alone_and_prints_the_value(loss: str) -> None:
    """The app's random input for every loss (its default kinds, seed 0): the snippet writes the seeded generator,
    converts what it draws as the built-in received it (0/1 labels drawn as integers become float targets), runs in
    a fresh interpreter and prints the value the built-in gave, which agrees with lossapp's."""
    spec = LOSSES[loss]
    pred_kind, target_kind = service.default_random_kinds(spec)
    made = service.random_input(0, "2, 3", pred_kind, target_kind, 0, spec)
    result = lossapp.compute(loss, made.pred_text, made.target_text)
    code = render.torch_snippet(result, sources=made.sources)
    assert "torch.manual_seed(0)" in code and "pred = torch.tensor(" not in code and "target = torch.tensor(" not in code
    assert run_snippet_alone(code) == printed_value(result.reference.value, "float32")
    assert result.reference.agrees


@pytest.mark.parametrize(("loss", "dtype"), [("bce", "float64"), ("dice_ce", "float16"), ("cross_entropy", "float64")])
def test_snippet_from_random_input_in_another_dtype(loss: str, dtype: str) -> None:
    spec = LOSSES[loss]
    made = service.random_input(4, "3, 2", *service.default_random_kinds(spec), 0, spec)
    result = lossapp.compute(loss, made.pred_text, made.target_text, dtype=dtype)
    code = render.torch_snippet(result, sources=made.sources)
    assert f"pred = pred.to(dtype=torch.{dtype})" in code
    assert run_snippet_alone(code) == printed_value(result.reference.value, dtype)


def test_snippet_for_large_inputs_loads_a_file() -> None:
    result = lossapp.compute("mse", torch.zeros(5000), torch.ones(5000))
    code = render.torch_snippet(result)
    assert "pred = torch.load('pred.pt')" in code
    assert len(code) < 2_000


def test_split_code_handles_statements_then_expression() -> None:
    head, expr = render.split_torch_code("a = 1\nb = (a +\n     2)\n{'x': a,\n 'y': b}['y']")
    assert head == "a = 1\nb = (a +\n     2)"
    assert expr == "{'x': a,\n 'y': b}['y']"
    assert render.split_torch_code("F.l1_loss(pred, target)") == ("", "F.l1_loss(pred, target)")


# -- JSON and CSV ------------------------------------------------------------------------------------


def test_json_has_the_contract_keys(bce: lossapp.Result) -> None:
    data = json.loads(render.to_json(bce))
    for key in ("loss", "params", "reduction", "value", "steps", "reference", "gradient", "warnings"):
        assert key in data
    assert data["loss"] == "bce" and data["reduction"] == "mean"
    assert data["value"] == pytest.approx(0.9263412213637533, abs=1e-15)
    assert set(data["steps"][0]) >= {"symbol", "title", "formula", "value"}
    assert set(data["reference"]) >= {"name", "value", "device", "dtype", "abs_diff", "agrees"}
    assert data["reference"]["agrees"] is True
    assert set(data["gradient"]) >= {"manual", "reference", "max_abs_diff", "agrees"}
    assert "check" not in data


def test_json_with_verdict_has_check(bce: lossapp.Result) -> None:
    verdict = lossapp.check("bce", BCE_PRED, BCE_TARGET, claimed="0.9264")
    data = json.loads(render.to_json(bce, verdict=verdict))
    check = data["check"]
    assert check["verdict"] == "rounding" and check["decimals"] == 4
    assert set(check) >= {"claimed", "value", "verdict", "decimals", "interval", "explanation", "mistakes"}


def test_json_nan_becomes_null() -> None:
    result = lossapp.compute("confusion", None, None, tp=0, fp=0, fn=0, tn=5, metric="precision")
    data = json.loads(render.to_json(result))
    assert data["value"] is None


def test_csv_is_the_table(bce: lossapp.Result) -> None:
    frame = pd.read_csv(io.StringIO(render.to_csv(bce)))
    assert len(frame) == 3
    assert list(frame["pred"]) == [0.2947, 0.5898, 0.4863]
    assert list(frame["target"]) == [1, 0, 0]
    assert np.allclose(frame["l"], bce.step("l").value.numpy(), rtol=0, atol=1e-15)


def test_csv_writes_per_class_lists_as_json() -> None:
    result = lossapp.compute("cross_entropy", "[[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]]", "[0, 2]")
    frame = pd.read_csv(io.StringIO(render.to_csv(result)))
    assert len(frame) == 2
    assert json.loads(frame["pred"][0]) == [2.0, 0.5, -1.0]


def test_badge_never_says_matches_while_the_gradients_differ() -> None:
    # BCE at p = 0 in float16: the value agrees, torch's backward clamps differently from the trace's autograd
    result = lossapp.compute("bce", "[0.0, 0.5]", "[0, 1]", dtype="float16")
    if result.gradient is not None and not result.gradient.agrees and result.reference.agrees:
        text = render.badge_text(result)
        assert text.startswith("gradients differ from torch.nn.functional.binary_cross_entropy")
        assert render.badge_text(result, "zh").startswith("梯度与 torch.nn.functional.binary_cross_entropy")
    fake = dataclasses.replace(result, gradient=dataclasses.replace(result.gradient, agrees=False),
                               reference=dataclasses.replace(result.reference, agrees=True))
    assert render.badge_text(fake).startswith("gradients differ from ")
    assert "; the value matches (|Δ| = " in render.badge_text(fake)
    assert render.badge_text(fake, "zh").startswith("梯度与 ")


def test_csv_is_spreadsheet_safe() -> None:
    result = lossapp.compute("mse", "[-1.5, 2.0]", "[0, 0]")
    text = render.to_csv(result)
    assert "'-" not in text  # numbers stay numbers
    frame = pd.read_csv(io.StringIO(text))
    assert list(frame["pred"]) == [-1.5, 2.0]


def test_large_step_shows_its_first_elements_and_shape() -> None:
    g = torch.Generator().manual_seed(1)
    result = lossapp.compute("l1", torch.rand(5, 40, generator=g), torch.zeros(5, 40))
    md = render.to_markdown(result)
    first = ", ".join(render.plain_number(v) for v in result.step("l").value_list())
    assert f"shape (5, 40), first 6 of 200: [{first}, …]" in md
    assert "前 6 个（共 200 个）" in render.to_markdown(result, "zh")
    rows = render.comparison_rows(result)
    assert rows[1][1].startswith("shape (5, 40), first 6 of 200: [")  # the gradient: its shown elements
    assert json.loads(render.to_json(result, full=True))["steps"][0]["shown"] == 200
