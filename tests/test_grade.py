"""Batch grading: one output row per input row in order, malformed rows get their own error verdict and
never stop the batch, progress is reported, header or positional columns, and the CSV round-trips."""

from __future__ import annotations

import csv
import io
import logging
import math
from pathlib import Path

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from lossapp.grade import INTERNAL_ERROR, OUTPUT_COLUMNS, grade_csv, read_upload, summary
from lossapp.i18n import has_zh
from lossapp.inputs import InputError
from lossapp.spreadsheet import write_csv
from lossapp.verdicts import Checker

BCE_TRUE = float(F.binary_cross_entropy(torch.tensor([0.2947, 0.5898, 0.4863], dtype=torch.float64),
                                        torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)))


def _csv(rows: list[list[str]], header: list[str] | None = None) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    if header:
        w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


HEADER = ["id", "loss", "pred", "target", "params", "claimed"]
GOOD = [
    ["s1", "bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", "{}", "0.9263"],
    ["s2", "bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", "", "0.9264"],
    ["s3", "bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", "{}", "0.4023"],
    ["s4", "focal", "[[1.2, -0.8], [0.3, 2.0]]", "[[1, 0], [0, 1]]", '{"alpha": 0.25, "gamma": 2}', "7.7"],
    ["s5", "confusion", "", "", '{"tp": 20, "fp": 5, "fn": 10, "tn": 65}', "0.7273"],
]
BAD = [
    ["b1", "bce", "[0.2947]", "[1]", "{alpha: 1", "0.5"],  # params not JSON
    ["b2", "nope", "[0.2]", "[1]", "{}", "0.5"],  # unknown loss
    ["b3", "bce", "[1.5]", "[1]", "{}", "0.5"],  # not a probability
    ["b4", "bce", "[0.5]", "[1]", "{}", ""],  # no claim
    ["b5", "bce"],  # too few columns
    ["b6", "bce", "[0.5]", "[1]", "[1, 2]", "0.5"],  # params not an object
    ["b7", "bce", "[0.5]", "[1]", "{}", "abc"],  # claim not a number
]


def test_grades_every_row_in_order_and_errors_do_not_stop_the_batch() -> None:
    rows = [GOOD[0], BAD[0], GOOD[1], BAD[1], GOOD[2], BAD[2], BAD[3], BAD[4], GOOD[3], BAD[5], BAD[6], GOOD[4]]
    df = grade_csv(_csv(rows, HEADER))
    assert list(df.columns) == OUTPUT_COLUMNS
    assert list(df["id"]) == [r[0] for r in rows]
    verdicts = dict(zip(df["id"], df["verdict"], strict=True))
    assert verdicts["s1"] == "exact" and verdicts["s2"] == "rounding" and verdicts["s3"] == "mistake"
    assert verdicts["s4"] == "incorrect" and verdicts["s5"] == "exact"
    assert all(verdicts[b[0]] == "error" for b in BAD)
    by_id = df.set_index("id")
    assert by_id.loc["s1", "value"] == pytest.approx(BCE_TRUE, rel=1e-12)
    assert by_id.loc["s3", "mistakes"] == "log10"
    assert "params: expected a JSON object" in by_id.loc["b1", "explanation"]
    assert "unknown loss 'nope'" in by_id.loc["b2", "explanation"]
    assert "expected probabilities in [0, 1]" in by_id.loc["b3", "explanation"]
    assert "expected a claimed answer" in by_id.loc["b4", "explanation"]
    assert "expected at least 6 columns, got 2" in by_id.loc["b5", "explanation"]
    assert "got list" in by_id.loc["b6", "explanation"]
    assert "claimed: expected a number" in by_id.loc["b7", "explanation"]
    assert math.isnan(by_id.loc["b1", "value"]) or by_id.loc["b1", "value"] is None
    assert all(by_id.loc[b[0], "explanation_zh"] for b in BAD)


def test_progress_is_reported_for_every_row() -> None:
    calls: list[tuple[int, int]] = []
    grade_csv(_csv(GOOD[:3] + BAD[:2], HEADER), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_without_header_columns_are_positional_and_reduction_is_optional() -> None:
    rows = [["a", "mse", "[1, 2]", "[0, 0]", "{}", "5", "sum"], ["b", "mse", "[1, 2]", "[0, 0]", "{}", "2.5"]]
    df = grade_csv(_csv(rows))
    assert list(df["verdict"]) == ["exact", "exact"]
    assert list(df["value"]) == [5.0, 2.5]


def test_header_in_any_order_with_reduction() -> None:
    header = ["claimed", "Reduction", "LOSS", "pred", "target", "id"]
    df = grade_csv(_csv([["5.0000", "sum", "mse", "[1, 2]", "[0, 0]", "x"]], header))
    assert df.loc[0, "id"] == "x" and df.loc[0, "verdict"] == "exact"


def test_reads_a_path_and_write_csv_round_trips(tmp_path: Path) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_text(_csv(GOOD, HEADER), encoding="utf-8")
    df = grade_csv(answers)
    assert len(df) == len(GOOD)
    df2 = grade_csv(str(answers))
    assert list(df2["verdict"]) == list(df["verdict"])
    out = write_csv(df, tmp_path / "verdicts.csv")
    back = pd.read_csv(out, keep_default_na=False)
    assert list(back.columns) == OUTPUT_COLUMNS
    assert list(back["verdict"]) == list(df["verdict"])
    assert "所给答案" in back.loc[0, "explanation_zh"]


def test_missing_file_and_empty_csv() -> None:
    with pytest.raises(InputError, match="no such file"):
        grade_csv("does_not_exist.csv")
    df = grade_csv(_csv([], HEADER))
    assert len(df) == 0 and list(df.columns) == OUTPUT_COLUMNS


@pytest.mark.parametrize(("given", "reason"), [
    ("folder", r"\(a folder\)"),
    ("null_byte", r"'a\\x00b' \(no such file\)"),
    ("long_name", r"\(File name too long\)"),
    ("dev_null", r"\(not a regular file\)"),
])
def test_answers_that_are_not_a_file_are_input_errors(given: str, reason: str, tmp_path: Path) -> None:
    path = {"folder": str(tmp_path), "null_byte": "a\x00b", "long_name": "a" * 5000, "dev_null": "/dev/null"}[given]
    for answers in (path, Path(path)):  # a path as text and as a Path
        with pytest.raises(InputError, match=reason) as caught:
            grade_csv(answers)
        assert len(str(caught.value)) < 1000 and has_zh(caught.value)


def test_a_row_failing_inside_is_logged_and_shows_no_internals(monkeypatch: pytest.MonkeyPatch,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OverflowError("secret internals at /srv/lossapp")

    monkeypatch.setattr(Checker, "verdict", broken)  # what grading calls for every row
    with caplog.at_level(logging.ERROR, logger="lossapp.grade"):
        df = grade_csv(_csv(GOOD[:2], HEADER))
    assert list(df["verdict"]) == ["error", "error"]
    assert set(df["explanation"]) == {INTERNAL_ERROR} and "内部错误" in df.loc[0, "explanation_zh"]
    assert "secret" not in df.to_csv()
    assert [r.getMessage() for r in caplog.records] == ["grading row 1 failed (OverflowError)",
                                                        "grading row 2 failed (OverflowError)"]
    assert "secret internals" in caplog.text  # the traceback is in the log


HOSTILE = ["=cmd|' /C calc'!A0", "@SUM(1)", "+1", "-1+1", "\t=1+1", "\r=1+1", '=HYPERLINK("http://x.invalid")']


def test_verdicts_csv_is_safe_to_open_in_a_spreadsheet(tmp_path: Path) -> None:
    """Hostile ids, losses and claims come back as text cells a spreadsheet will not run (OWASP: a leading
    quote); numbers (the true value) stay numbers."""
    rows = [[cell, "bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", "{}", "0.9264"] for cell in HOSTILE]
    rows += [["s-loss", "=1+1", "[0.5]", "[1]", "{}", "0.5"], ["s-claim", "bce", "[0.5]", "[1]", "{}", "-1+1"],
             ["s-neg", "bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", "{}", "-0.9264"]]
    df = grade_csv(_csv(rows, HEADER))
    given = [h.strip() for h in HOSTILE]  # fields are read stripped: "\t=1+1" is the id "=1+1"
    assert list(df["id"][:len(HOSTILE)]) == given  # the table itself keeps the text as given
    out = write_csv(df, tmp_path / "verdicts.csv")
    with open(out, encoding="utf-8-sig", newline="") as handle:
        cells = list(csv.reader(handle))
    assert cells[0] == OUTPUT_COLUMNS
    body = cells[1:]
    assert [r[0] for r in body[:len(HOSTILE)]] == ["'" + h for h in given]
    assert body[-3][1] == "'=1+1" and body[-2][4] == "'-1+1" and body[-1][4] == "'-0.9264"
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (row, cell)
    assert float(body[0][3]) == pytest.approx(BCE_TRUE, rel=1e-12)  # a number, written as one
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the file as UTF-8
    text = out.read_text(encoding="utf-8-sig")
    assert f",{body[0][3]}," in text  # unquoted: the spreadsheet reads it as a number
    assert text.startswith('"id","loss","verdict"')  # text cells are quoted, so a delimiter cannot split one


def test_summary_counts_every_verdict() -> None:
    df = grade_csv(_csv(GOOD + BAD[:2], HEADER))
    s = summary(df)
    counts = dict(zip(s["verdict"], s["count"], strict=True))
    assert list(s["verdict"]) == ["exact", "convention", "mistake", "rounding", "incorrect", "error"]
    assert counts == {"exact": 2, "convention": 0, "mistake": 1, "rounding": 1, "incorrect": 1, "error": 2}


def test_cli_grade(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from lossapp.__main__ import main
    answers = tmp_path / "answers.csv"
    answers.write_text(_csv(GOOD + BAD[:1], HEADER), encoding="utf-8")
    out = tmp_path / "verdicts.csv"
    assert main(["grade", str(answers), "-o", str(out)]) == 0
    df = pd.read_csv(out, keep_default_na=False)
    assert len(df) == len(GOOD) + 1 and df.loc[len(GOOD), "verdict"] == "error"
    assert "error: 1" in capsys.readouterr().out


def test_rows_of_one_problem_share_its_computation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A class's answers to the same problems: one computation per problem, the same rows as grading each row on
    its own (errors included, each reported on every row of its problem)."""
    import lossapp.engine
    import lossapp.grade
    rows = [*GOOD, *BAD, BAD[2], GOOD[0], GOOD[2], ["s9", "bce", "[1.5]", "[1]", "{}", "abc"]] * 3
    calls: list[str] = []
    compute = lossapp.engine.compute
    monkeypatch.setattr(lossapp.engine, "compute", lambda loss, *a, **k: calls.append(loss) or compute(loss, *a, **k))
    shared = grade_csv(_csv(rows, HEADER))
    problems = {(r[1], r[2], r[3], r[4]) for r in rows if len(r) == 6 and r[5] and r[1] != "nope" and r[4] in ("", "{}")
                and r[5] != "abc"}
    assert len(calls) <= len(problems) + 2
    monkeypatch.setattr(lossapp.grade, "PROBLEMS_KEPT", 0)
    alone = grade_csv(_csv(rows, HEADER))
    pd.testing.assert_frame_equal(shared, alone)
    by_id = shared.drop_duplicates("id").set_index("id")
    assert "claimed: expected a number" in by_id.loc["s9", "explanation"]  # the claim is read before the inputs


def test_a_bounded_number_of_problems_is_kept() -> None:
    from lossapp.grade import Problems
    problems = Problems(kept=2)
    first = problems.checker("mse", "[1.0]", "[0.5]", "{}", "")
    assert problems.checker("mse", "[1.0]", "[0.5]", "{}", "") is first
    problems.checker("mse", "[2.0]", "[0.5]", "{}", "")
    problems.checker("mse", "[3.0]", "[0.5]", "{}", "")
    assert problems.checker("mse", "[1.0]", "[0.5]", "{}", "") is not first  # the oldest was dropped
    with pytest.raises(InputError, match="expected probabilities"):
        problems.checker("bce", "[1.5]", "[1]", "{}", "")


def test_read_upload_checks_an_uploaded_csv_before_grading(tmp_path: Path) -> None:
    ok = tmp_path / "ok.csv"
    ok.write_bytes(b"\xef\xbb\xbfid,loss,pred,target,params,claimed\r\na,mse,[1],[1],{},0")
    text = read_upload(ok, max_bytes=1000, max_rows=1)
    assert text == "id,loss,pred,target,params,claimed\r\na,mse,[1],[1],{},0\n"  # BOM gone, ends with a newline
    with pytest.raises(InputError, match=r"answers CSV: expected at most 10 bytes, got 5\d"):
        read_upload(ok, max_bytes=10, max_rows=1)
    two = tmp_path / "two.csv"
    two.write_text("id,loss,pred,target,params,claimed\na,mse,[1],[1],{},0\n\nb,mse,[1],[1],{},0\n")
    with pytest.raises(InputError, match="answers CSV: expected at most 1 answer rows, got 2") as caught:
        read_upload(two, max_bytes=1000, max_rows=1)
    assert has_zh(caught.value)
