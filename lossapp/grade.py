"""Batch grading: a whole class's answers in one CSV.

Input rows: id, loss, pred, target, params, claimed [, reduction] — with a header naming those columns
(any order, case-insensitive) or, without a header, in that order. `params` is a JSON object as text
(empty means none); `target` may be empty for losses without one; for loss "confusion" pred and target
are empty and params holds tp, fp, fn, tn and metric. Quote fields that contain commas:

    id,loss,pred,target,params,claimed
    s01,bce,"[0.2947, 0.5898, 0.4863]","[1, 0, 0]",{},0.9264
    s02,focal,"[1.2, -0.8]","[1, 0]","{""alpha"": 0.25, ""gamma"": 2}",0.031

Output: one row per input row, in order: id, loss, verdict ("error" for a malformed row, with the reason
as the explanation — it never stops the batch), value, claimed, mistakes (ids joined by ";"),
conventions (ids), explanation, explanation_zh. `lossapp.spreadsheet.write_csv` writes it safe to open in a
spreadsheet (a cell like `=cmd|' /C calc'!A0` from the answers stays text).

A class answers the same problems: rows with the same loss, pred, target, params and reduction (as written)
share one computation, and what the checker works out without the claim (the enclosure, the values of the
conventions and mistakes) is shared too (`lossapp.verdicts.Checker`); the most recent PROBLEMS_KEPT problems are
kept while grading.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from lossapp.i18n import Message, msg
from lossapp.inputs import InputError, limits, quote, read_params
from lossapp.registry import check_param_names, lookup

INPUT_COLUMNS = ("id", "loss", "pred", "target", "params", "claimed", "reduction")
REQUIRED = ("loss", "claimed")
OUTPUT_COLUMNS = ["id", "loss", "verdict", "value", "claimed", "mistakes", "conventions", "explanation",
                  "explanation_zh"]
PROBLEMS_KEPT = 256  # computed problems kept while grading one CSV (rows of one problem need not be adjacent)

Progress = Callable[[int, int], None]
INTERNAL_ERROR = msg("grade.internal_error")

log = logging.getLogger(__name__)


def _read_text(path_or_text: str | Path) -> str:
    if isinstance(path_or_text, Path):
        return _read_file(path_or_text, msg("grade.expected_csv_file"))
    if not isinstance(path_or_text, str):
        raise InputError("grade.expected_csv_path_or_text", got=type(path_or_text).__name__)
    text = path_or_text
    if "\n" not in text and "," not in text:
        return _read_file(Path(text.strip()), msg("grade.expected_csv_file_or_text"))
    return text


def _not_a_file(path: Path) -> Message | str | None:
    """Why `path` cannot be read as a CSV file (no such file, a folder, ...), or None when it can."""
    try:
        if path.is_file():
            return None
        if path.is_dir():
            return msg("grade.a_folder")
        return msg("grade.not_a_regular_file") if path.exists() else msg("grade.no_such_file")
    except OSError as exc:  # a name too long, a permission to look denied
        return exc.strerror or type(exc).__name__


def _read_file(path: Path, expected: Message) -> str:
    reason = _not_a_file(path)
    if reason is not None:
        raise InputError("grade.not_readable", expected=expected, got=quote(str(path)), reason=reason)
    try:
        with path.open("rb") as handle:
            raw = handle.read(limits.MAX_GRADE_CSV_CHARS + 1)
    except OSError as exc:
        raise InputError("grade.not_readable", expected=expected, got=quote(str(path)),
                         reason=exc.strerror or type(exc).__name__) from None
    if len(raw) > limits.MAX_GRADE_CSV_CHARS:
        raise InputError("grade.too_many_bytes", limit=f"{limits.MAX_GRADE_CSV_CHARS:,}", name=quote(path.name))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("grade.not_utf8", name=path.name) from None


def _columns(header: list[str]) -> dict[str, int] | None:
    """Column positions from a header row, or None when the first row is data."""
    names = [h.strip().lower() for h in header]
    if not all(r in names for r in REQUIRED):
        return None
    return {name: names.index(name) for name in INPUT_COLUMNS if name in names}


def _field(row: list[str], columns: dict[str, int], name: str) -> str:
    i = columns.get(name)
    return row[i].strip() if i is not None and i < len(row) else ""


class Problems:
    """The problems graded so far (a Checker, or the error computing it gave), by how they were written."""

    def __init__(self, kept: int | None = None) -> None:
        self.kept = PROBLEMS_KEPT if kept is None else kept  # read at call time (0: nothing shared)
        self._problems: dict[tuple[str, ...], Any] = {}

    def checker(self, loss: str, pred: str, target: str, params_text: str, reduction: str) -> Any:
        """The Checker of this problem (computing it on first sight); re-raises the error it gave."""
        from lossapp.engine import compute
        from lossapp.verdicts import Checker
        key = (loss, pred, target, params_text, reduction)
        found = self._problems.get(key)
        if isinstance(found, Exception):  # the same error for every row of this problem
            raise found.with_traceback(None)
        if found is not None:
            return found
        try:
            params = read_params(params_text)
            check_param_names(lookup(loss), params)
            found = Checker(compute(loss, pred or None, target or None, reduction=reduction or None, **params))
        except Exception as exc:
            self._keep(key, exc)
            raise  # with its traceback, for the log of an internal error
        self._keep(key, found)
        return found

    def _keep(self, key: tuple[str, ...], found: Any) -> None:
        while self._problems and len(self._problems) >= self.kept:
            del self._problems[next(iter(self._problems))]  # the oldest first
        if self.kept > 0:
            self._problems[key] = found


def grade_row(row: list[str], columns: dict[str, int], number: int, problems: Problems | None = None) -> dict[str, Any]:
    """One output row for one input row (an "error" row for a malformed one); `problems` shares the computation
    of a problem between rows."""
    from lossapp.verdicts import parse_claim
    problems = problems if problems is not None else Problems(kept=1)
    ident = _field(row, columns, "id") or str(number)
    loss = _field(row, columns, "loss")
    claimed = _field(row, columns, "claimed")
    out: dict[str, Any] = {"id": ident, "loss": loss, "verdict": "error", "value": None, "claimed": claimed,
                           "mistakes": "", "conventions": "", "explanation": "", "explanation_zh": ""}
    try:
        need = max(columns["loss"], columns["claimed"]) + 1
        if len(row) < need:
            raise InputError("grade.too_few_columns", row=number, need=need, got=len(row))
        if not loss:
            raise InputError("grade.no_loss", row=number)
        if not claimed:
            raise InputError("grade.no_claim", row=number)
        params_text = _field(row, columns, "params")
        check_param_names(lookup(loss), read_params(params_text))  # a bad parameter before a bad claim, as before
        claim = parse_claim(claimed)  # ... and a bad claim before any computation
        checker = problems.checker(loss, _field(row, columns, "pred"), _field(row, columns, "target"), params_text,
                                   _field(row, columns, "reduction"))
        verdict = checker.verdict(claim)
    except InputError as exc:
        out["explanation"] = exc.message
        out["explanation_zh"] = exc.render("zh")
        return out
    except Exception as exc:  # an internal error in one row must not stop the batch, nor show its internals
        log.exception("grading row %d failed (%s)", number, type(exc).__name__)
        out["explanation"] = INTERNAL_ERROR
        out["explanation_zh"] = INTERNAL_ERROR.render("zh")
        return out
    value = verdict.value
    out.update(verdict=verdict.verdict, value=value if math.isfinite(value) else None,
               mistakes=";".join(m.id for m in verdict.mistakes),
               conventions=";".join(c.id for c in verdict.conventions),
               explanation=verdict.explanation, explanation_zh=verdict.explanation_zh)
    return out


def grade_csv(path_or_text: str | Path, *, progress: Progress | None = None) -> pd.DataFrame:
    """Grade every row of an answers CSV (a path, or the CSV text itself); `progress(done, total)` is called
    before the first row and after each row."""
    text = _read_text(path_or_text)
    if len(text) > limits.MAX_GRADE_CSV_CHARS:
        raise InputError("grade.too_many_characters", limit=f"{limits.MAX_GRADE_CSV_CHARS:,}", got=f"{len(text):,}")
    try:
        rows = _csv_rows(text)
    except csv.Error as exc:
        raise InputError("grade.not_csv", error=str(exc)) from None
    columns = _columns(rows[0]) if rows else None
    if columns is not None:
        rows = rows[1:]
    else:
        columns = {name: i for i, name in enumerate(INPUT_COLUMNS)}
    if len(rows) > limits.MAX_GRADE_ROWS:
        raise InputError("grade.too_many_rows", limit=f"{limits.MAX_GRADE_ROWS:,}", got=f"{len(rows):,}")
    total = len(rows)
    if progress is not None:
        progress(0, total)
    out = []
    problems = Problems()
    for i, row in enumerate(rows, start=1):
        out.append(grade_row(row, columns, i, problems))
        if progress is not None:
            progress(i, total)
    return pd.DataFrame(out, columns=OUTPUT_COLUMNS)


def _csv_rows(text: str) -> list[list[str]]:
    """The rows of CSV text that hold something (csv.Error for text that does not parse as CSV)."""
    return [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]


def read_upload(path: str | Path, *, max_bytes: int, max_rows: int) -> str:
    """An answers CSV uploaded in the app, as text, checked before any grading: at most `max_bytes`, UTF-8, text
    (not binary), CSV with a header and at most `max_rows` answer rows. The text always ends with a newline, so
    `grade_csv` reads it as CSV text (never as a path to open)."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError("grade.upload_too_large", limit=f"{max_bytes:,}", got=f"{size:,}")
    with path.open("rb") as handle:
        raw = handle.read(max_bytes + 1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("grade.upload_not_utf8", name=path.name) from None
    if "\x00" in text:
        raise InputError("grade.upload_binary", name=path.name)
    try:
        rows = len(_csv_rows(text))
    except csv.Error as exc:
        raise InputError("grade.upload_not_csv", error=str(exc)) from None
    if rows == 0:
        raise InputError("grade.upload_empty")
    if rows - 1 > max_rows:
        raise InputError("grade.upload_too_many_rows", limit=f"{max_rows:,}", got=f"{rows - 1:,}")
    return text if text.endswith("\n") else text + "\n"


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Count of each verdict (exact, convention, mistake, rounding, incorrect, error), for the summary chart."""
    from lossapp.verdicts import VERDICTS
    order = [*VERDICTS, "error"]
    counts = df["verdict"].value_counts() if len(df) else pd.Series(dtype=int)
    return pd.DataFrame({"verdict": order, "count": [int(counts.get(v, 0)) for v in order]})
