"""Every article example in examples/ loads, runs, agrees with torch, and gets a verdict on its stated value."""

from __future__ import annotations

import json

import pytest
import torch

import lossapp
from lossapp.__main__ import main
from lossapp.examples import load_examples, run_example
from lossapp.inputs import InputError

EXAMPLES = load_examples()
SEEDS = {"000_6833348b64a02e28.txt", "001_c6101373190d4f37.txt", "002_472562432bf7f397.txt",
         "003_14a7d40ca3ca06cd.txt", "004_30232886671f4238.txt"}


def test_the_required_examples_exist() -> None:
    names = {e.name for e in EXAMPLES}
    for required in ("000_l1_randn", "000_mse_rand", "000_smooth_l1_randn", "002_bce_three_pixels",
                     "000_ce_three_classes", "000_ce_randn", "001_bce_weights", "001_ce_ignore_index"):
        assert required in names, f"missing examples/{required}.toml"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_example_runs_and_agrees(example) -> None:
    assert example.source in SEEDS
    assert example.loss in lossapp.LOSSES or lossapp.lookup(example.loss)
    result, verdict = run_example(example)
    if result.reference is not None:
        assert result.reference.agrees
    if example.stated is not None and verdict is not None:
        assert verdict.verdict in ("exact", "rounding", "convention"), verdict.to_dict()


def test_random_examples_reproduce_torch_manual_seed() -> None:
    ex = next(e for e in EXAMPLES if e.name == "000_l1_randn")
    pred, target = ex.inputs()
    torch.manual_seed(0)
    expected_pred, expected_target = torch.randn(2, 3), torch.randn(2, 3)
    assert torch.equal(torch.as_tensor(pred), expected_pred) and torch.equal(torch.as_tensor(target), expected_target)
    result, _ = run_example(ex)
    assert result.value == pytest.approx(float(torch.nn.L1Loss()(expected_pred, expected_target)), rel=1e-6)
    assert result.value == pytest.approx(float(torch.mean(torch.abs(expected_target - expected_pred))), rel=1e-6)


def test_article_bce_value() -> None:
    ex = next(e for e in EXAMPLES if e.name == "002_bce_three_pixels")
    result, _ = run_example(ex)
    assert result.value == pytest.approx(0.926341, abs=5e-7)
    assert ex.stated == "0.9264"


def test_cli_examples_lists_every_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["examples"]) == 0
    out = capsys.readouterr().out
    for ex in EXAMPLES:
        assert ex.name in out
    assert main(["examples", "002_bce_three_pixels", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["result"]["value"] == pytest.approx(0.926341, abs=5e-7)


def test_unknown_example() -> None:
    from lossapp.examples import find_example

    with pytest.raises(InputError, match="unknown example"):
        find_example("nope")
