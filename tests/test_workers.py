"""lossapp.workers: the compute processes' protocol, answers (the same JSON as in-process, to the bit), errors, a
child that dies, and closing."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lossapp import service, workers
from lossapp.inputs import InputError

ROOT = Path(__file__).resolve().parent.parent
BCE = ("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", "{}", "mean", "cpu", "float32")
CASES = [
    (BCE, False, False, None),
    (BCE, True, False, None),
    (BCE, False, True, "0.9264"),
    (("cross_entropy", "[[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]]", "[0, 1]", "{}", "", "cpu", "float64"), False, False, None),
    (("focal", "[0.9, 0.2, 0.6]", "[1, 0, 1]", '{"gamma": 2.0, "alpha": 0.25}', "sum", "cpu", "float32"), True, True,
     "0.05"),
    (("huber", "[1.5, -0.5, 3.0]", "[1.0, 0.0, 0.0]", '{"delta": 1.0}', "none", "cpu", "bfloat16"), False, False, None),
]


def _frames(*messages: object) -> io.BytesIO:
    stream = io.BytesIO()
    for message in messages:
        workers._write(stream, message)
    stream.seek(0)
    return stream


def _all(stream: io.BytesIO) -> list[object]:
    stream.seek(0)
    out = []
    while True:
        try:
            out.append(workers._read(stream))
        except EOFError:
            return out


@pytest.fixture(scope="module")
def processes() -> Iterator[workers.ComputeProcesses]:
    started = workers.ComputeProcesses(1)
    started.start()
    assert started.running == 1
    yield started
    started.close()


def _wait_until(condition, what: str, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


# -- in this process: the answer a child sends, the framing, the loop ------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0][0]}-full{c[1]}-check{c[2]}")
def test_an_answer_is_the_services_json(case: workers.Request) -> None:
    inputs, full, checking, claimed = case
    assert workers.answer(case) == ("ok", service.answer_json(inputs, full=full, checking=checking, claimed=claimed))


def test_an_input_error_is_its_message_and_anything_else_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = (("bce", "[0.2, x]", "[1, 0]", "{}", "mean", "cpu", "float32"), False, False, None)
    with pytest.raises(InputError) as caught:
        service.answer_json(bad[0])
    assert workers.answer(bad) == ("input", str(caught.value))
    assert workers.answer((BCE, False, True, ""))[0] == "input"  # /check with no claim: the checker's own error

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(service, "compute", broken)
    kind, text = workers.answer((BCE, False, False, None))
    assert kind == "internal" and text.startswith("Traceback") and "ZeroDivisionError: a bug" in text


def test_messages_round_trip_and_a_short_pipe_is_eof() -> None:
    messages = [("ok", {"value": 0.5, "steps": [1, 2]}), ("input", "expected x, got y"), (BCE, False, True, "1")]
    assert _all(_frames(*messages)) == messages
    whole = _frames(("ok", {"value": 1.0})).getvalue()
    for cut in (0, 3, workers.HEADER.size, len(whole) - 1):
        with pytest.raises(EOFError):
            workers._read(io.BytesIO(whole[:cut]))


def test_the_loop_says_ready_then_answers_each_request_until_its_input_closes() -> None:
    answers = io.BytesIO()
    workers.serve(_frames(*CASES[:3]), answers)
    assert _all(answers) == [workers.READY, *(workers.answer(case) for case in CASES[:3])]


def test_without_started_children_the_caller_computes() -> None:
    idle = workers.ComputeProcesses(2)
    assert idle.running == 0 and idle.answer(BCE, full=False) is None


# -- real children ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0][0]}-full{c[1]}-check{c[2]}")
def test_a_child_answers_as_this_process_does(processes: workers.ComputeProcesses, case: workers.Request) -> None:
    inputs, full, checking, claimed = case
    expected = service.answer_json(inputs, full=full, checking=checking, claimed=claimed)
    assert processes.answer(inputs, full=full, checking=checking, claimed=claimed) == ("ok", expected)


def test_a_child_reports_an_input_error_with_the_same_message(processes: workers.ComputeProcesses) -> None:
    bad = ("mse", "[1, 2, 3]", "[1, 2]", "{}", "mean", "cpu", "float32")
    with pytest.raises(InputError) as caught:
        service.answer_json(bad)
    assert processes.answer(bad, full=False) == ("input", str(caught.value))


def test_a_child_that_dies_is_replaced_and_its_call_computed_by_the_caller(
        processes: workers.ComputeProcesses) -> None:
    (child,) = processes._children
    child.process.kill()
    child.process.wait(timeout=30)
    assert processes.answer(BCE, full=False) is None  # the caller computes it itself
    _wait_until(lambda: processes.running == 1, "a new child is ready")
    assert processes._children[0] is not child
    assert processes.answer(BCE, full=False) == ("ok", service.answer_json(BCE))


def test_closing_stops_every_child() -> None:
    started = workers.ComputeProcesses(2)
    started.start()
    children = list(started._children)
    assert started.running == 2 and len(children) == 2
    started.close()
    assert started.running == 0 and started.answer(BCE, full=False) is None
    assert all(child.process.poll() is not None for child in children)
    started._add_child()  # a replacement arriving after the close is not kept
    assert started.running == 0


def test_a_child_keeps_stray_output_off_its_answers_and_exits_when_its_input_closes() -> None:
    """Whatever the library prints goes to stderr; the answers stay readable. Closing stdin ends the child."""
    source = ("import lossapp.workers as w\n"
              "answer = w.answer\n"
              "def noisy(request):\n"
              "    print('stray output')\n"
              "    return answer(request)\n"
              "w.answer = noisy\n"
              "w.main()\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.run([sys.executable, "-c", source], input=_frames(CASES[0]).getvalue(), capture_output=True,
                           env=env, timeout=300, check=True)
    assert _all(io.BytesIO(child.stdout)) == [workers.READY, workers.answer(CASES[0])]
    assert child.stderr.decode().count("stray output") == 2  # the warm-up case and the request
