"""Every article example in examples/ loads, runs, agrees with torch, and gets a verdict on its stated value."""

from __future__ import annotations

import json
from pathlib import Path

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


# -- honest examples (issue 12) ----------------------------------------------------------------------------------------

SEED_DIR = Path("/work/shared/seeds")
PRINTED = {"002_bce_three_pixels": "0.9264"}  # the only number an article prints next to an example's inputs


def test_stated_only_where_the_article_prints_the_number() -> None:
    stated = {e.name: e.stated for e in EXAMPLES if e.stated is not None}
    assert stated == PRINTED
    assert next(e for e in EXAMPLES if e.name == "000_ce_three_classes").stated is None  # −ln 0.4: no number printed
    assert next(e for e in EXAMPLES if e.name == "003_confusion_counts").stated is None  # 40/55: no number printed


@pytest.mark.skipif(not SEED_DIR.is_dir(), reason="the seed articles are kept outside the repository")
def test_every_stated_number_is_printed_in_its_article() -> None:
    for ex in EXAMPLES:
        text = (SEED_DIR / ex.source).read_text(encoding="utf-8")
        if ex.stated is not None:
            assert ex.stated in text, ex.name
    for absent in ("0.9163", "0.7273", "0.1039"):  # lossapp's values and a formula's value, not the articles'
        assert not any(absent in (SEED_DIR / s).read_text(encoding="utf-8") for s in SEEDS)


def test_unprinted_values_are_shown_as_lossapps(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["examples"]) == 0
    out = capsys.readouterr().out
    ce = next(line for line in out.splitlines() if line.startswith("000_ce_three_classes"))
    assert "lossapp 0.9162907319" in ce and "article —" in ce and "0.9163" not in ce.split("article")[1]
    counts = next(line for line in out.splitlines() if line.startswith("003_confusion_counts"))
    assert "article —" in counts
    assert "lossapp's value, not the article's" in next(e for e in EXAMPLES if e.name == "003_confusion_counts").notes


def test_article_003_alpha_on_both_classes_example() -> None:
    ex = next(e for e in EXAMPLES if e.name == "003_focal_alpha_both")
    assert ex.stated is None and ex.claimed == "0.1039"
    result, verdict = run_example(ex)
    assert result.value == pytest.approx(0.251424, abs=1e-6)
    assert verdict.verdict == "mistake" and [m.id for m in verdict.mistakes] == ["alpha_on_both_classes"]
    assert verdict.mistakes[0].value == pytest.approx((0.25 * 0.55**2 * 0.798508 + 0.25 * 0.7**2 * 1.203973) / 2, abs=1e-6)


def test_sources_show_the_articles_titles(capsys: pytest.CaptureFixture[str]) -> None:
    from lossapp.examples import source_title
    assert source_title("003_14a7d40ca3ca06cd.txt", "zh") == "【深度学习】损失函数记录"
    assert source_title("003_14a7d40ca3ca06cd.txt", "en") == "[Deep learning] Notes on loss functions (【深度学习】损失函数记录)"
    assert source_title("004_30232886671f4238.txt", "zh") == "从交叉熵损失到Facal Loss"  # the article's own spelling
    assert source_title("002_472562432bf7f397.txt", "zh") == "常用损失函数的理解与总结以及pytorch中的损失函数"
    assert source_title("elsewhere.txt") == "elsewhere.txt"
    for ex in EXAMPLES:
        assert ex.source not in source_title(ex.source, "en") and ex.source not in source_title(ex.source, "zh")
        assert ex.to_dict()["source_title_zh"] == source_title(ex.source, "zh")
    assert main(["examples"]) == 0
    out = capsys.readouterr().out
    assert "_6833348b64a02e28" not in out and "from: [Deep learning] Notes on loss functions" in out
    assert main(["examples", "003_focal_alpha_both", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "【深度学习】损失函数记录" in out and "14a7d40ca3ca06cd" not in out
    assert "检查的答案：0.1039" in out and "alpha_on_both_classes" in out


@pytest.mark.skipif(not SEED_DIR.is_dir(), reason="the seed articles are kept outside the repository")
def test_titles_are_the_articles_own() -> None:
    """A titled article's title line is in the seed verbatim; an untitled one is named from its first paragraph."""
    from lossapp.examples import source_title
    for seed in sorted(SEEDS):
        text = (SEED_DIR / seed).read_text(encoding="utf-8")
        title = source_title(seed, "zh").split("（原文无标题")[0]
        assert title in text, seed
