"""python -m lossapp: output, JSON, exit status 0/2 and one `error:` line for bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from pseudo_locale import write_pseudo_locale
from stray_english import stray_english

from lossapp.__main__ import main
from lossapp.i18n import LOCALE_DIRS_ENV
from lossapp.inputs import InputError

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
    ["compute", "focal", "--pred", "[0.9]", "--target", "[1]"],      # the Python API's verb (cli.loss_first)
    ["check", "--pred", "[1]"],
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


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_python_apis_verbs_say_to_write_the_loss_first(lang: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compute", "focal", "--pred", "[0.9]", "--target", "[1]", "--lang", lang]) == 2
    err = capsys.readouterr().err
    assert "python -m lossapp focal --pred" in err and "--claimed" in err and "'compute'" in err
    assert main(["check", "--pred", "[1]", "--lang", lang]) == 2
    assert "python -m lossapp LOSS --pred" in capsys.readouterr().err


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


# -- every subcommand, argparse, @files, --param forms: exit 2, one `error:` line, {"error"} with --json --------

SUBCOMMAND_BAD_INPUTS = [
    ["list", "extra"],                                               # list takes no name
    ["list", "--bogus"],
    ["list", "--lang", "fr"],                                        # argparse: invalid choice
    ["examples", "nope"],                                            # unknown example
    ["examples", "a\nb"],                                            # a newline in the name
    ["examples", "one", "two"],
    ["confusion", "--tp", "1"],                                      # argparse: missing arguments
    ["confusion", "--tp", "x", "--fp", "1", "--fn", "1"],
    ["confusion", "--tp", "1", "--fp", "1", "--fn", "1", "--metric", "nope"],
    ["confusion", "--tp", "1", "--fp", "1", "--fn", "1", "--claimed", "abc"],
    ["confusion", "--tp", "99999999999999999999999999", "--fp", "0", "--fn", "0"],
    ["grade"],                                                       # no answers file
    ["grade", "/nonexistent/answers.csv"],
    ["grade", "a\x00b.csv"],                                         # a null byte
    ["mse", "--pred"],                                               # argparse: an option without its value
    ["mse", "--pred", "[1]", "--target", "[1]", "--js"],             # no abbreviations: --js is not --json
    ["mse", "--pred", "[1]", "--target", "[1]", "--lang", "fr"],
    ["mse", "--pred", "@", "--target", "[1]"],                       # @ with no file name
    ["mse", "--pred", "@/nonexistent/p.csv", "--target", "[1]"],     # a missing file
    ["smooth_l1", "--pred", "[1]", "--target", "[1]", "--param", "=2"],              # no name
    ["smooth_l1", "--pred", "[1]", "--target", "[1]", "--param", " =2"],
    ["smooth_l1", "--pred", "[1]", "--target", "[1]", "--param", "beta==2"],
    ["smooth_l1", "--pred", "[1]", "--target", "[1]", "--param", "beta=[1, 2]"],
    ["smooth_l1", "--pred", "[1]", "--target", "[1]", "--param", "beta=nan"],
    ["smooth_l1", "--pred", "[1]", "--target", "[1]", "--param", "beta=1", "--param", "beta=2"],  # twice
    ["smooth_l1", "--pred", "[1]", "--target", "[1]", "--param", "be\nta=1"],
    ["smooth_l1", "--pred", "[1]", "--target", "[1]", "--param", "reduction=sum"],  # reserved name
    ["mse", "--pred", "[1,\n2, x]", "--target", "[1]"],              # the message quotes a newline
    ["msee\nx", "--pred", "[1]"],
    ["-x"],
    [],                                                              # nothing at all
]


@pytest.mark.parametrize("argv", SUBCOMMAND_BAD_INPUTS, ids=lambda a: repr(" ".join(a))[:60])
def test_every_subcommand_exits_2_with_one_error_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err + out and "internal error" not in err
    assert len(lines[0]) < 1000
    assert main([*argv, "--json"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out) == {"error": err.removeprefix("error: ").rstrip("\n")}
    assert len(err.splitlines()) == 1


def test_file_arguments_missing_a_folder_or_a_null_byte(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for pred in ("@" + str(tmp_path / "missing.csv"), "@" + str(tmp_path), "@" + str(tmp_path / "a\x00b.csv")):
        assert main(["mse", "--pred", pred, "--target", "[1]"]) == 2, pred
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and err.startswith("error: pred: expected"), err
    answers = tmp_path / "answers.csv"
    answers.write_text("id,loss,pred,target,params,claimed\na,mse,[1],[1],{},0\n", encoding="utf-8")
    for args in ([str(tmp_path)], [str(answers), "-o", str(tmp_path)], [str(answers), "-o", str(tmp_path / "no/x.csv")],
                 [str(answers), "-o", str(tmp_path / "a\x00b.csv")], [str(answers), "-o", ""]):
        assert main(["grade", *args]) == 2, args
        out, err = capsys.readouterr()
        assert len(err.splitlines()) == 1 and err.startswith("error: expected"), err
        assert out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.csv"]  # nothing was written


def test_an_unwritable_output_is_found_before_grading(tmp_path: Path) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_text("id,loss,pred,target,params,claimed\na,mse,[1],[1],{},0\n", encoding="utf-8")
    proc = run("grade", str(answers), "-o", str(tmp_path / "missing" / "verdicts.csv"))
    assert proc.returncode == 2
    assert proc.stderr == f"error: expected a path for the CSV file to write, got " \
                          f"'{tmp_path / 'missing' / 'verdicts.csv'}' (no such folder)\n"
    assert proc.stdout == ""


def test_a_message_with_newlines_stays_one_line(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    import lossapp.__main__ as cli

    def bad(argv: list[str]) -> int:
        raise InputError("expected one line,\ngot\r\nthree\u2028or four\x85lines")

    monkeypatch.setattr(cli, "_run_list", bad)
    assert main(["list", "--json"]) == 2
    out, err = capsys.readouterr()
    assert err == "error: expected one line, got three or four lines\n"
    assert json.loads(out) == {"error": "expected one line, got three or four lines"}


def test_errors_in_chinese_with_lang_zh(capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        (["mse", "--pred", "[1, 2]", "--target", "[1]", "--lang", "zh"], "期望"),
        (["mse", "--pred", "[1]", "--target", "[1]", "--param", "x", "--lang=zh"], "--param：期望 NAME=VALUE"),
        (["mse", "--lang", "zh"], "缺少必需的参数：--pred"),
        (["mse", "--pred", "[1]", "--lang", "zh", "--bogus"], "无法识别的参数：--bogus"),
        (["grade", "/nonexistent.csv", "--lang", "zh"], "期望一个 CSV 文件，实际为 '/nonexistent.csv'（文件不存在）"),
        (["confusion", "--tp", "-3", "--fp", "1", "--fn", "2", "--lang", "zh"], "tp"),
    ]
    for argv, chinese in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and err.startswith("error: ") and chinese in err, err
        assert re.search(r"[\u4e00-\u9fff]", err), err
    assert main(["confusion", "--tp", "-3", "--fp", "1", "--fn", "2", "--json", "--lang", "zh"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["error"] == err.removeprefix("error: ").rstrip("\n")


def test_an_internal_error_is_one_bounded_line_with_status_1(monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    import lossapp.__main__ as cli

    def broken(argv: list[str]) -> int:
        raise RuntimeError("boom\n" + "x" * 100_000)

    monkeypatch.setattr(cli, "_run_list", broken)
    assert main(["list", "--json"]) == 1
    out, err = capsys.readouterr()
    assert len(err.splitlines()) == 1 and err.startswith("error: internal error: RuntimeError: boom xxx")
    assert len(err) < 1000 and "Traceback" not in err
    assert json.loads(out)["error"].startswith("internal error: RuntimeError")


def test_grade_prints_a_spreadsheet_safe_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_text('id,loss,pred,target,params,claimed\n"=cmd|\' /C calc\'!A0",mse,[1],[1],{},0\n'
                       "@SUM(1),mse,[1],[1],{},-1+1\n", encoding="utf-8")
    assert main(["grade", str(answers)]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # no progress bar when stderr is not a terminal
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[1][0] == "'=cmd|' /C calc'!A0" and rows[2][0] == "'@SUM(1)" and rows[2][4] == "'-1+1"
    out_path = tmp_path / "verdicts.csv"
    assert main(["grade", str(answers), "-o", str(out_path)]) == 0
    assert out_path.read_text(encoding="utf-8-sig") == out  # the file has the BOM Excel needs


# -- a reader that goes away: `| head -1` --------------------------------------------------------------


@pytest.mark.parametrize("argv", [["examples"], ["list", "--json"], ["bce", "--pred", "[0.2947, 0.5898, 0.4863]",
                                                                       "--target", "[1, 0, 0]"]],
                         ids=["examples", "list", "bce"])
def test_a_closed_pipe_stops_the_output_quietly(argv: list[str]) -> None:
    """The reader closes its end before the command writes (as `head` does once it has its line): no
    traceback, no "internal error", no "Exception ignored" at exit; status 141 like any command killed by
    SIGPIPE."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "lossapp", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT, env=env)
    proc.stdout.close()  # the reader is gone before the first write (importing torch takes a while)
    _, err = proc.communicate(timeout=180)
    assert err.decode() == ""
    assert proc.returncode == 141


def test_head_reads_the_first_line_and_the_command_ends_quietly() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(f"{shlex.quote(sys.executable)} -m lossapp examples | head -1", shell=True,
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=180)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.split()[0] == "000_ce_randn"


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


# -- every language is one catalog file: a pseudo-locale and 中文 through the command line -------------------------

LABEL_SMOOTHING_CONVENTION = ["cross_entropy", "--pred", "[[2.0, 0.5, 0.1], [0.3, 1.2, 0.4]]", "--target", "[0, 1]",
                              "--param", "label_smoothing=0.1", "--claimed", "0.5951"]  # the verdict: a convention
ARTICLE_COMMANDS = [  # the articles' examples (article 002, item 9), with claims of several verdicts, and an error
    ["bce", "--pred", "[0.2947, 0.5898, 0.4863]", "--target", "[1, 0, 0]", "--claimed", "0.4023"],
    ["bce", "--pred", "[0.2947, 0.5898, 0.4863]", "--target", "[1, 0, 0]", "--claimed", "0.9263"],
    ["bce", "--pred", "[0.2947, 0.5898, 0.4863]", "--target", "[1, 0, 0]", "--claimed", "0.8"],
    ["confusion", "--tp", "20", "--fp", "5", "--fn", "10", "--claimed", "0.7"],
    ["mse", "--pred", "[1, 2]", "--target", "[1]"],
    LABEL_SMOOTHING_CONVENTION,
    ["bce", "--pred", "[0.2947, 0.5898, 0.4863]", "--target", "[1, 0, 0]", "--claimed", "-0.9264"],  # over the box
    ["bce", "--pred", "[0.2947, 0.5898, 0.4863]", "--target", "[1, 0, 0]", "--claimed", "0.5"],  # too few digits
    ["bce", "--pred", "[0.45, 0.7]", "--target", "[1, 0]", "--reduction", "none", "--claimed", "[0.7985, 0.5229]"],
]


def _outside_brackets(text: str) -> str:
    """The text with every ⟦...⟧ (nested too) taken out: what did not come from a catalog."""
    while True:
        inner = re.sub(r"⟦[^⟦⟧]*⟧", " ", text)
        if inner == text:
            return text
        text = inner


@pytest.mark.parametrize("argv", ARTICLE_COMMANDS, ids=lambda a: " ".join(a)[:50])
def test_a_pseudo_locale_renders_the_command_line_with_no_english_left(argv: list[str], tmp_path: Path) -> None:
    """A language is one catalog file: a pseudo-locale (every template wrapped in ⟦ ⟧), in a folder named by
    LOSSAPP_LOCALE_DIRS, is a --lang choice, and every English word the CLI prints comes from a catalog (numbers,
    code, formulas, names and the user's input aside)."""
    lang = write_pseudo_locale(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), LOCALE_DIRS_ENV: str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "lossapp", *argv, "--lang", lang], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)
    out = proc.stdout + proc.stderr.removeprefix("error: ")
    assert proc.returncode in (0, 2) and "⟦" in out, out
    assert stray_english(_outside_brackets(out)) == [], out


@pytest.mark.parametrize("argv", ARTICLE_COMMANDS, ids=lambda a: " ".join(a)[:50])
def test_lang_zh_prints_no_english(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """--lang zh: no ASCII English word outside code, formulas and library names."""
    assert main([*argv, "--lang", "zh"]) in (0, 2)
    out, err = capsys.readouterr()
    assert stray_english(out + err.removeprefix("error: ")) == [], out + err


def test_a_conventions_title_names_its_library_once_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    """The verdict 'convention' in 中文 names ε/(C − 1) label smoothing once (it read '标签平滑：标签平滑：')."""
    assert main([*LABEL_SMOOTHING_CONVENTION, "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "判定：约定不同" in out and "ε/(C − 1) 标签平滑：其余类别各分 ε/(C − 1)" in out and "标签平滑：标签平滑" not in out


# -- curves: the app's pictures as CSV or PNG ------------------------------------------------------------------

def test_curves_csv_is_the_apps_curves(capsys: pytest.CaptureFixture[str]) -> None:
    from lossapp import plots

    assert main(["curves", "smooth_l1", "--param", "beta=0.5", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    expected = plots.regression_curves(0.5, 1.0)
    assert [r["curve"] for r in rows] == expected["curve"].tolist()
    assert [float(r["y"]) for r in rows] == pytest.approx(expected["value"].tolist(), rel=1e-15)
    assert "Smooth L1 (β = 0.5)" in {r["curve"] for r in rows}


def test_curves_to_a_file_in_chinese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "t.csv"
    assert main(["curves", "truncation", "--param", "m=0.7", "-o", str(target), "--lang", "zh"]) == 0
    assert "条曲线" in capsys.readouterr().out
    labels = {row["curve"] for row in csv.DictReader(target.open(encoding="utf-8"))}
    assert labels == {"硬截断，m = 0.7", "软截断，K = 1", "软截断，K = 5"}


def test_curves_png_without_matplotlib_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    assert main(["curves", "bce", "--png", "-o", str(tmp_path / "b.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --png: expected matplotlib") and "--csv" in err
    assert not (tmp_path / "b.png").exists()


def test_curves_png_with_matplotlib(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is not installed (not a lossapp dependency)")
    target = tmp_path / "focal.png"
    assert main(["curves", "focal", "--png", "-o", str(target), "--param", "gamma=3"]) == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "6 curves" in capsys.readouterr().out


@pytest.mark.parametrize("args,message", [
    (["curves", "dice"], "which has none"),
    (["curves", "focal", "--param", "bogus=1"], "unknown parameter 'bogus'"),
    (["curves", "focal", "--csv", "--png"], "not allowed with"),
])
def test_curves_bad_input_exits_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err


# -- --seed: the articles' torch.manual_seed + randn inputs ------------------------------------------------------

def test_seeded_randn_inputs_are_torchs_exactly(capsys: pytest.CaptureFixture[str]) -> None:
    """Article 000: torch.manual_seed(0); predict = torch.randn(2, 3); target = torch.randn(2, 3)."""
    import torch

    torch.manual_seed(0)
    predict, target = torch.randn(2, 3), torch.randn(2, 3)
    assert main(["l1", "--pred", "randn(2, 3)", "--target", "randn(2, 3)", "--seed", "0", "--json", "--full"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["steps"][0]["value"] == (predict.double() - target.double()).tolist()  # d = pred − target, exactly
    assert data["reference"]["value"] == torch.nn.functional.l1_loss(predict, target).item()
    assert main(["mse", "--pred", "torch.randn(2, 3)", "--target", "torch.randn(2,3)", "--json"]) == 0  # seed 0 default
    assert json.loads(capsys.readouterr().out)["reference"]["value"] == torch.nn.functional.mse_loss(predict, target).item()


def test_seed_draws_pred_then_target_from_one_generator(capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    torch.manual_seed(7)
    logits, classes = torch.randn(4, 3), torch.randint(0, 3, (4,))
    assert main(["cross_entropy", "--pred", "randn(4, 3)", "--target", "randint(0, 3, (4,))", "--seed", "7",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["reference"]["value"] == torch.nn.functional.cross_entropy(logits, classes).item()
    torch.manual_seed(7)
    alone = torch.randn(2, 3)
    assert main(["l1", "--pred", "[[0, 0, 0], [0, 0, 0]]", "--target", "randn(2, 3)", "--seed", "7", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["value"] == pytest.approx(alone.double().abs().mean().item(), rel=1e-15)


@pytest.mark.parametrize("args,message", [
    (["l1", "--pred", "[1, 2]", "--target", "[1, 1]", "--seed", "3"], "--seed: expected a random spec"),
    (["l1", "--pred", "randn(2)", "--target", "randn(2)", "--seed", "x"], "seed"),
    (["l1", "--pred", "randn(2)", "--target", "randn(3)"], "same shape"),
])
def test_seed_bad_input_exits_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err


# -- the checker's evidence through the command line (issue 12) ------------------------------------------------------

def test_a_claim_per_element(capsys: pytest.CaptureFixture[str]) -> None:
    """Article 003's two pixel losses, l1 = −log(0.45) and l2 = −log(1 − 0.7), claimed with reduction none."""
    argv = ["bce", "--pred", "[0.45, 0.7]", "--target", "[1, 0]", "--reduction", "none", "--claimed", "[0.7985, 1.2040]"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "claimed: [0.7985, 1.2040]  →  verdict: exact" in out
    assert "element 0: 0.7985: exact." in out and "element 1: 1.2040: exact." in out
    assert main([*argv, "--json"]) == 0
    check = json.loads(capsys.readouterr().out)["check"]
    assert check["verdict"] == "exact" and [e["verdict"] for e in check["elements"]] == ["exact", "exact"]
    assert check["claimed"] == [0.7985, 1.204] and check["shape"] == [2]
    assert main([*argv[:-1], "[0.7985, 0.5229]", "--lang", "zh"]) == 0  # log10 on the second pixel
    out = capsys.readouterr().out
    assert "元素 1：0.5229：常见错误" in out and "- log10:" in out


def test_a_claim_per_element_of_the_wrong_count_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bce", "--pred", "[0.45, 0.7]", "--target", "[1, 0]", "--reduction", "none", "--claimed", "[0.7985]"]
    assert main(argv) == 2
    assert "claimed: expected 2 numbers, one per element of the loss (reduction='none'), got 1" in capsys.readouterr().err


def test_missing_minus_with_rounded_inputs_and_written_forms(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["bce", "--pred", "[0.2947, 0.5898, 0.4863]", "--target", "[1, 0, 0]", "--claimed"]
    assert main([*base, "-0.9264"]) == 0
    out = capsys.readouterr().out
    assert "verdict: mistake" in out and "- missing_minus:" in out and "with the inputs rounded as written" in out
    for written, verdict in (("≈0.9264", "rounding"), ("０．９２６４", "rounding"), ("0,9264", "rounding"),
                             ("92.6%", "exact"), ("0.93 (2 d.p.)", "exact"), ("0.5", "incorrect")):
        assert main([*base, written]) == 0
        assert f"claimed: {written}  →  verdict: {verdict}" in capsys.readouterr().out
    assert main([*base, "0.5"]) == 0  # one significant digit: labels swapped is only a possibility
    out = capsys.readouterr().out
    assert "verdict: incorrect" in out and "? labels_swapped:" in out and "- labels_swapped" not in out
    assert main([*base, "0.9,26"]) == 2
    assert "accepted: 0.9264, -0.9264, ≈0.9264, 0,9264, 92.6%" in capsys.readouterr().err
