"""Each size limit of lossapp/inputs/limits.py that has no test of its own elsewhere: accepted at the
limit, refused (an InputError naming the limit, with its Chinese) just past it. The others are tested
next to the code that checks them (tests/test_inputs.py, tests/test_inputs_files.py, tests/test_verdicts.py,
tests/test_registry.py)."""

from __future__ import annotations

import pytest

import lossapp
from lossapp.grade import grade_csv
from lossapp.i18n import has_zh
from lossapp.inputs import InputError, limits
from lossapp.verdicts import parse_claim


def refused(match: str, fn, *args, **kwargs) -> str:
    with pytest.raises(InputError, match=match) as info:
        fn(*args, **kwargs)
    assert has_zh(info.value), str(info.value)
    return str(info.value)


def counts(tp):
    return lossapp.compute("confusion", None, tp=tp, fp=5, fn=10, tn=65)


def test_max_count() -> None:
    assert counts(limits.MAX_COUNT).to_dict()["metrics"]["precision"] > 0.99
    refused(r"expected a count of at most 10\^15 for tp, got 1000000000000001$", counts, limits.MAX_COUNT + 1)


def test_max_count_chars() -> None:
    at_limit = "0" * (limits.MAX_COUNT_CHARS - 2) + "20"
    assert len(at_limit) == limits.MAX_COUNT_CHARS and counts(at_limit).value == counts(20).value
    refused(r"expected a count of at most 10\^15 for tp, got '0+", counts, "0" + at_limit)


def test_max_claim_decimals() -> None:
    assert parse_claim(f"1e-{limits.MAX_CLAIM_DECIMALS}").decimals == limits.MAX_CLAIM_DECIMALS
    refused(rf"claimed: expected .*at most {limits.MAX_CLAIM_DECIMALS} decimals", parse_claim,
            f"1e-{limits.MAX_CLAIM_DECIMALS + 1}")


ROW = "mse,[1],[1],0\n"


def test_max_grade_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_GRADE_ROWS", 3)
    assert len(grade_csv("loss,pred,target,claimed\n" + ROW * 3)) == 3
    refused(r"expected at most 3 answer rows, got 4$", grade_csv, "loss,pred,target,claimed\n" + ROW * 4)


def test_max_grade_csv_chars(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "loss,pred,target,claimed\n" + ROW * 2
    monkeypatch.setattr(limits, "MAX_GRADE_CSV_CHARS", len(text))
    assert list(grade_csv(text)["verdict"]) == ["exact", "exact"]
    refused(rf"expected a CSV of at most {len(text):,} characters, got {len(text) + 1:,}$", grade_csv, text + " ")


def test_max_random_elements(monkeypatch: pytest.MonkeyPatch) -> None:
    from lossapp import service

    monkeypatch.setattr(limits, "MAX_RANDOM_ELEMENTS", 6)
    assert service.parse_shape("2, 3") == (2, 3)
    refused(r"shape: expected at most 6 random elements, got 7 \(upload a file for larger inputs\)$",
            service.parse_shape, "7")


def test_max_message_chars(monkeypatch: pytest.MonkeyPatch) -> None:
    from lossapp.ui.common import bounded

    monkeypatch.setattr(limits, "MAX_MESSAGE_CHARS", 10)
    assert bounded("x" * 10) == "x" * 10
    assert bounded("x" * 11) == "x" * 10 + "… (11 characters)"
