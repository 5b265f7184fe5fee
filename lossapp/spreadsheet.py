"""Spreadsheet-safe CSV: every CSV lossapp writes (the graded verdicts, the per-element table) goes through here.

Excel, LibreOffice Calc and Google Sheets read a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula, so a student id like ``=cmd|' /C calc'!A0`` or ``=HYPERLINK("http://…")`` in an
answers CSV would run when the teacher opens the verdicts ("CSV injection"). As OWASP recommends, such a text
cell gets a leading single quote (the spreadsheet's mark for "this is text"), and every text cell is written
in double quotes, so a delimiter inside it cannot start a new cell. Numbers stay numbers: ``-0.5`` in a
numeric cell is written as the number it is.

Excel guesses a CSV's encoding: without a byte-order mark it reads UTF-8 as the system's code page (中文 and
"−" come out garbled), so a file is written with the UTF-8 BOM; and a column name's Unicode minus (U+2212,
as in "log(1−p)") is written as the ASCII "-" that every spreadsheet and script reads.

    from lossapp.spreadsheet import csv_text, write_csv
    write_csv(frame, "verdicts.csv")        # the path; an InputError when it cannot be written
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lossapp.i18n import msg
from lossapp.inputs import InputError, quote

# OWASP's formula triggers, and NUL (ASVS 1.2.10): a text cell starting with one of them gets a leading '
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00")
ENCODING = "utf-8-sig"  # UTF-8 with the byte-order mark Excel needs to read it as UTF-8


def safe_cell(value: Any) -> Any:
    """One cell as it may go into a CSV: text a spreadsheet would read as a formula gets a leading ', a list
    becomes JSON text (checked likewise), ±inf becomes the text inf / 'inf; other numbers, booleans and
    empty cells are unchanged."""
    if isinstance(value, list | tuple):
        value = json.dumps(value)
    elif isinstance(value, float | np.floating) and math.isinf(value):
        value = "inf" if value > 0 else "-inf"
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _safe_column(column: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(column.dtype) or pd.api.types.is_integer_dtype(column.dtype):
        return column
    if pd.api.types.is_float_dtype(column.dtype) and not np.isinf(column.to_numpy(dtype=float)).any():
        return column
    return column.map(safe_cell).astype(object)


def header_cell(name: Any) -> str:
    """A column name as a CSV header: ASCII minus for the Unicode one (U+2212), then `safe_cell`."""
    return safe_cell(str(name).replace("\u2212", "-"))


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every cell passed through `safe_cell` (numeric columns kept) and every column name
    through `header_cell`."""
    out = pd.DataFrame({i: _safe_column(frame.iloc[:, i]) for i in range(frame.shape[1])}, index=frame.index)
    out.columns = [header_cell(name) for name in frame.columns]
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """The frame as spreadsheet-safe CSV text: a header, no index, text cells double-quoted."""
    return safe_frame(frame).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC)


def writable_path(path: str | Path) -> Path:
    """`path` as a Path, when a CSV can be written there: not a folder, in an existing folder, no null byte
    (checked before the work whose result it will hold); an InputError otherwise."""
    text = str(path)
    if not text.strip():
        raise InputError("spreadsheet.path_nothing")
    if "\x00" in text:
        raise InputError("spreadsheet.path", path=quote(text), reason=msg("spreadsheet.null_byte"))
    target = Path(text)
    try:
        if target.is_dir():
            raise InputError("spreadsheet.path", path=quote(text), reason=msg("spreadsheet.folder"))
        folder = target.parent
        if not folder.is_dir():
            raise InputError("spreadsheet.path", path=quote(text), reason=msg("spreadsheet.no_folder"))
    except OSError as exc:  # a name too long, a permission to look denied
        raise InputError("spreadsheet.path", path=quote(text),
                         reason=exc.strerror or type(exc).__name__) from None
    return target


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write `frame` as spreadsheet-safe CSV (UTF-8 with a BOM, ENCODING) and return the path; an InputError when
    the file cannot be written (a folder, no such folder, no permission, a full disk)."""
    target = writable_path(path)
    text = csv_text(frame)
    try:
        with target.open("w", encoding=ENCODING, newline="") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError("spreadsheet.path", path=quote(str(path)),
                         reason=exc.strerror or type(exc).__name__) from None
    return target
