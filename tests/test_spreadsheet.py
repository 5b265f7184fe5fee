"""Spreadsheet-safe CSV (lossapp/spreadsheet.py): hostile text cells get OWASP's leading quote, numbers stay
numbers, text is double-quoted, and a path that cannot be written is an InputError, in English and 中文."""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lossapp.i18n import has_zh
from lossapp.inputs import InputError
from lossapp.spreadsheet import FORMULA_TRIGGERS, csv_text, safe_cell, safe_frame, writable_path, write_csv

HOSTILE = ["=cmd|' /C calc'!A0", "@SUM(1)", "+1", "-1+1", "\t=1+1", "\r=1+1", "\x00=1", "-", "=",
           '=HYPERLINK("http://x.invalid","click")', "-2+3+cmd|' /C calc'!A0"]
HARMLESS = ["bce", "0.9264", "s01", "", " =1+1", "'=1+1", "[-1, 2]", "a=b", "中文", "1e-5"]


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("cell", HOSTILE)
def test_a_formula_cell_gets_a_leading_quote(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell
    assert cell.startswith(FORMULA_TRIGGERS)


@pytest.mark.parametrize("cell", HARMLESS)
def test_other_text_is_unchanged(cell: str) -> None:
    assert safe_cell(cell) == cell


def test_numbers_stay_numbers_and_lists_become_json() -> None:
    for number in (-0.5, 0.926341, -3, 0, np.float64(-1.5), np.int64(-7), True, None):
        assert safe_cell(number) is number
    assert safe_cell(float("-inf")) == "'-inf" and safe_cell(float("inf")) == "inf"
    assert math.isnan(safe_cell(float("nan")))
    assert safe_cell([-1.0, 2.5]) == "[-1.0, 2.5]"
    assert safe_cell(["=1+1"]) == '["=1+1"]'  # JSON text starts with a bracket: no formula


def test_csv_text_of_a_frame_with_hostile_cells_headers_and_numbers() -> None:
    frame = pd.DataFrame({"id": HOSTILE, "value": [-0.5 * i for i in range(len(HOSTILE))],
                          "count": list(range(-3, len(HOSTILE) - 3)), "ok": [i % 2 == 0 for i in range(len(HOSTILE))]})
    frame["-l_n"] = [[-1.0, 2.0]] * len(HOSTILE)  # a list-valued column under a formula-like name
    text = csv_text(frame)
    cells = _cells(text)
    assert cells[0] == ["id", "value", "count", "ok", "'-l_n"]
    assert [row[0] for row in cells[1:]] == ["'" + h for h in HOSTILE]
    assert [float(row[1]) for row in cells[1:]] == list(frame["value"])
    assert [int(row[2]) for row in cells[1:]] == list(frame["count"])
    assert {row[4] for row in cells[1:]} == {"[-1.0, 2.0]"}
    lines = text.splitlines()
    assert lines[0] == '"id","value","count","ok","\'-l_n"'
    assert lines[2].startswith('"\'@SUM(1)",-0.5,-2,False,')  # numbers unquoted: read as numbers
    back = pd.read_csv(io.StringIO(text))
    assert back["value"].dtype == float and back["count"].dtype == np.int64
    assert list(frame["id"]) == HOSTILE  # the caller's frame is not changed


def test_safe_frame_keeps_numeric_columns_and_handles_odd_frames() -> None:
    frame = pd.DataFrame({"a": [1.0, np.nan], "b": ["x", None], "c": [float("-inf"), 1.0]})
    safe = safe_frame(frame)
    assert safe["a"].dtype == float and math.isnan(safe["a"][1])
    assert safe["c"].tolist() == ["'-inf", 1.0]
    assert _cells(csv_text(frame))[1:] == [["1.0", "x", "'-inf"], ["", "", "1.0"]]
    duplicated = pd.DataFrame([["=1", "@2"]], columns=["+x", "+x"])
    assert _cells(csv_text(duplicated)) == [["'+x", "'+x"], ["'=1", "'@2"]]
    assert csv_text(pd.DataFrame()) == "\n"
    assert csv_text(pd.DataFrame(columns=["=a", "b"])) == '"\'=a","b"\n'


def test_write_csv_writes_the_safe_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": ["=1+1", "ok"], "value": [-1.5, 2.0]})
    path = write_csv(frame, tmp_path / "out.csv")
    assert path == tmp_path / "out.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8's BOM, which Excel needs to read UTF-8
    assert path.read_text(encoding="utf-8-sig") == csv_text(frame)
    assert _cells(path.read_text(encoding="utf-8-sig"))[1] == ["'=1+1", "-1.5"]


def test_headers_have_the_ascii_minus_excel_reads() -> None:
    frame = pd.DataFrame({"log(1\u2212p)": [0.5], "\u2212l": [1.0], "中文 p": [2.0]})
    assert _cells(csv_text(frame))[0] == ["log(1-p)", "'-l", "中文 p"]  # "-l" would be a formula: quoted


def test_a_written_table_opens_in_excel_with_its_chinese_and_minus(tmp_path: Path) -> None:
    frame = pd.DataFrame({"log(1\u2212p)": [-0.5], "说明": ["对数"]})
    raw = write_csv(frame, tmp_path / "t.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "\u2212".encode() not in raw
    assert raw[3:].decode("utf-8").splitlines() == ['"log(1-p)","说明"', '-0.5,"对数"']


def _unwritable(tmp_path: Path) -> list[tuple[str, str]]:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    cases = [(str(tmp_path), r"\(a folder\)"), (str(tmp_path / "no" / "such" / "x.csv"), r"\(no such folder\)"),
             (str(tmp_path / "a\x00b.csv"), r"\(a null byte in the path\)"), ("", "got nothing"),
             ("   ", "got nothing"), (str(tmp_path / ("a" * 5000 + ".csv")), r"\(File name too long\)"),
             ("/proc/version", r"\(.+\)")]
    if os.geteuid() != 0:  # root writes anywhere
        cases.append((str(locked / "x.csv"), r"\(Permission denied\)"))
    return cases


def test_a_path_that_cannot_be_written_is_an_input_error(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": ["a"]})
    for path, reason in _unwritable(tmp_path):
        with pytest.raises(InputError, match=reason) as caught:
            write_csv(frame, path)
        message = str(caught.value)
        assert message.startswith("expected a path for the CSV file to write, got"), message
        assert len(message) < 1000 and has_zh(caught.value), message
        assert "期望要写入的 CSV 文件路径" in caught.value.render("zh")
    assert writable_path(tmp_path / "fine.csv") == tmp_path / "fine.csv"
    assert not (tmp_path / "fine.csv").exists()  # checking writes nothing
