"""python -m lossapp: output, JSON, exit status 0/2 and one `error:` line for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lossapp.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "lossapp", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)


def test_bce_article_example_prints_steps_and_value() -> None:
    proc = run("bce", "--pred", "[0.2947, 0.5898, 0.4863]", "--target", "[1, 0, 0]")
    assert proc.returncode == 0, proc.stderr
    assert "value: 0.926341" in proc.stdout
    assert "binary_cross_entropy" in proc.stdout and "agrees" in proc.stdout
    assert "[L] Mean reduction" in proc.stdout


def test_json_output_follows_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mse", "--pred", "[1, 2, 3]", "--target", "[1.5, 2, 2]", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["loss"] == "mse" and data["value"] == pytest.approx(1.25 / 3)
    assert data["reference"]["agrees"] is True and data["gradient"]["agrees"] is True


def test_params_and_reduction(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["smooth_l1", "--pred", "[0, 3]", "--target", "[0.5, 0]", "--param", "beta=2",
                 "--reduction", "sum", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["params"] == {"beta": 2.0}
    assert data["value"] == pytest.approx(0.5 * 0.25 / 2 + (3 - 1))


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    assert "smooth_l1" in capsys.readouterr().out
    assert main(["list", "--json"]) == 0
    names = {d["name"] for d in json.loads(capsys.readouterr().out)}
    assert {"l1", "mse", "rmse", "smooth_l1", "huber"} <= names


def test_chinese_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mse", "--pred", "[1, 2]", "--target", "[1, 1]", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "均值归约" in out and "值:" in out


BAD_INPUTS = [
    ["bce", "--pred", "[0.2, 0.5", "--target", "[1, 0]"],            # unbalanced bracket
    ["bce", "--pred", "[0.2, 1.5]", "--target", "[1, 0]"],           # not a probability
    ["mse", "--pred", "[1, 2]", "--target", "[1, 2, 3]"],            # shape mismatch
    ["mse", "--pred", "[[1, 2], [3]]", "--target", "[1, 2]"],        # ragged
    ["mse", "--pred", "", "--target", "[1]"],                        # empty
    ["mse", "--pred", "[1, nan]", "--target", "[1, 2]"],             # NaN
    ["mse", "--pred", "[1, abc]", "--target", "[1, 2]"],             # not a number
    ["mse", "--pred", "__import__('os')", "--target", "[1]"],        # never evaluated
    ["msee", "--pred", "[1]", "--target", "[1]"],                    # unknown loss
    ["mse", "--target", "[1]"],                                      # missing --pred
    ["mse", "--pred", "[1]", "--target", "[1]", "--reduction", "max"],
    ["mse", "--pred", "[1]", "--target", "[1]", "--device", "cuda:3"],
    ["mse", "--pred", "[1]", "--target", "[1]", "--dtype", "int4"],
    ["smooth_l1", "--pred", "[1]", "--target", "[1]", "--param", "beta"],
    ["smooth_l1", "--pred", "[1]", "--target", "[1]", "--param", "beta=-1"],
    ["smooth_l1", "--pred", "[1]", "--target", "[1]", "--param", "gamma=2"],
    ["mse", "--pred", "@/nonexistent/file.npy", "--target", "[1]"],
    ["--pred", "[1]"],
    ["confusion", "--tp", "-3", "--fp", "1", "--fn", "2"],
]


@pytest.mark.parametrize("argv", BAD_INPUTS, ids=lambda a: " ".join(a)[:60])
def test_bad_input_exits_2_with_one_error_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err


def test_bad_input_with_json_also_prints_error_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mse", "--pred", "[1, 2]", "--target", "[1]", "--json"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["error"].startswith("expected pred and target of the same shape")
    assert captured.err.startswith("error: ")


def test_subprocess_error_has_no_traceback() -> None:
    proc = run("bce", "--pred", "[0.2, 7]", "--target", "[1, 0]")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ")
    assert proc.stdout == ""


def test_large_tensors_are_shown_bounded_and_complete_with_full(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.txt").write_text(" ".join(str(i / 100) for i in range(40)), encoding="utf-8")
    (tmp_path / "t.txt").write_text(" ".join("0" for _ in range(40)), encoding="utf-8")
    argv = ["mse", "--pred", f"@{tmp_path / 'p.txt'}", "--target", f"@{tmp_path / 't.txt'}", "--reduction", "none"]
    assert main([*argv, "--json"]) == 0
    bounded = json.loads(capsys.readouterr().out)
    assert main([*argv, "--json", "--full"]) == 0
    full = json.loads(capsys.readouterr().out)
    d_bounded, d_full = bounded["steps"][0], full["steps"][0]
    assert d_bounded["shape"] == d_full["shape"] == [40]
    assert d_bounded["shown"] == 6 and d_bounded["value"] == d_full["value"][:6] and d_full["shown"] == 40
    assert len(bounded["value"]) == 6 and bounded["value_shape"] == [40] and len(full["value"]) == 40
    assert len(bounded["gradient"]["manual"]) == 6 and len(full["gradient"]["manual"]) == 40
    assert full["gradient"]["manual"][:6] == bounded["gradient"]["manual"]
    assert main(argv) == 0
    assert "shape (40,), first 6 of 40: [0, 0.0001, 0.0004" in capsys.readouterr().out
