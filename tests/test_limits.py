"""Each size limit of lossapp/inputs/limits.py that has no test of its own elsewhere: accepted at the
limit, refused (an InputError naming the limit, with its Chinese) just past it. The others are tested
next to the code that checks them (tests/test_inputs.py, tests/test_inputs_files.py, tests/test_verdicts.py,
tests/test_registry.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

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


def _limits_in_a_process(value: str) -> subprocess.CompletedProcess:
    """lossapp's limits as a fresh process with LOSSAPP_MAX_ELEMENTS=value reads them at import."""
    code = "from lossapp.inputs import limits; print(limits.MAX_ELEMENTS, limits.MAX_FILE_BYTES, limits.MAX_DECOMPRESSED_BYTES)"
    env = {**os.environ, "LOSSAPP_MAX_ELEMENTS": value}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("value", "elements"), [("", 20_000_000), ("100000000", 10**8), ("1e8", 10**8),
                                                 ("100_000_000", 10**8), (" 5000000 ", 5_000_000), ("2.5E7", 25_000_000)])
def test_max_elements_from_the_environment(value: str, elements: int) -> None:
    """LOSSAPP_MAX_ELEMENTS sets the element limit (unset or empty: 2·10^7); the file limits grow with it (10 bytes per
    element), never below their 200 MiB default."""
    run = _limits_in_a_process(value)
    assert run.returncode == 0, run.stderr
    assert [int(v) for v in run.stdout.split()] == [elements, *[max(200 * 2**20, 10 * elements)] * 2]


@pytest.mark.parametrize("value", ["0", "-5", "lots", "1e-3", "1.5", "2.55555555e3", "1e99", "0x10", "1" * 19])
def test_a_bad_max_elements_stops_with_one_line_naming_it(value: str) -> None:
    run = _limits_in_a_process(value)
    assert run.returncode != 0 and "Traceback" not in run.stderr, run.stderr
    assert run.stderr.strip() == (f"error: expected a positive whole number of elements in LOSSAPP_MAX_ELEMENTS "
                                  f"(such as 100000000 or 1e8), got {value!r}")


def test_the_element_limit_is_read_when_a_tensor_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit in force is the module's at the call (what the environment set at import, or a test's patch)."""
    monkeypatch.setattr(limits, "MAX_ELEMENTS", 4)
    assert lossapp.compute("l1_penalty", torch.ones(4)).scalar == pytest.approx(0.04)
    refused(r"at most 4 elements.*got 5", lossapp.compute, "l1_penalty", torch.ones(5))
