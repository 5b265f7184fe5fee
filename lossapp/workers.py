"""Compute processes: small HTTP computations answered outside the server's interpreter.

A 100-element /compute costs about 1 ms of Python (some 250 torch calls, each too small to release the GIL for
long). In the server's own threads that millisecond competes for the one GIL with Gradio's event loop, which under
load has a whole core of its own work: at 8 and 32 clients every request then waits for every other request's
computation as well as its HTTP handling, and each torch call hands the GIL back and forth (bench_http.py: about
1.5 ms more server CPU per request than the echo app at 8 clients, while a second core sits half idle). A child
process has its own interpreter and its own GIL: the computation runs on the other core while the event loop goes
on serving.

    processes = ComputeProcesses(1)
    processes.start()                         # blocks until each child has imported torch and answered once
    kind, value = processes.answer(("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", "{}", "mean", "cpu",
                                    "float32"), full=False)              # ("ok", {... "value": 0.926341...})
    processes.close()

`answer` gives ("ok", the JSON), ("input", the InputError's message) or ("internal", the child's traceback), or
None when no child could take the call (none started, all busy past WAIT_SECONDS, or the child died): the caller
then computes in its own thread, as without processes. A dead child is replaced in the background.

The children run `python -m lossapp.workers`: they read requests from stdin and write answers to a private copy of
stdout (anything else the library prints goes to stderr), each a pickle behind its length. Only this module's own
pickles cross the pipe, between a parent and the children it started; nothing a user sends is unpickled (the
inputs travel as the text the API received). A child ignores Ctrl-C (the terminal sends it to the whole process
group; the server shuts down and closes the pipe) and exits when its stdin closes, so it never outlives the server.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
import traceback
from pathlib import Path
from typing import IO, Any

HEADER = struct.Struct("!Q")      # the length of the pickle that follows
READY = ("ready", None)           # a child's first message, once it has computed its warm-up case
WAIT_SECONDS = 5.0                # how long a call waits for a busy child before computing in its own thread
START_SECONDS = 120.0             # how long a child may take to import torch and answer its warm-up case
WARM_UP = (("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]", "{}", "mean", "cpu", "float32"), False, False, None)

Request = tuple[tuple[Any, ...], bool, bool, Any]  # (loss, pred, target, params, reduction, device, dtype), full,
#                                                    checking, claimed: service.answer_json's arguments
Answer = tuple[str, Any]


class ChildError(RuntimeError):
    """An exception in a compute process: its message is the child's traceback."""


def _write(stream: IO[bytes], message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def _read(stream: IO[bytes]) -> Any:
    """The next message, or EOFError when the other side has closed the pipe."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        raise EOFError("the pipe closed")
    size = HEADER.unpack(header)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the pipe closed mid-message")
    return pickle.loads(data)


def answer(request: Request) -> Answer:
    """What a child sends back for one request: ("ok", JSON), ("input", message) or ("internal", traceback)."""
    from lossapp import service
    from lossapp.inputs import InputError

    inputs, full, checking, claimed = request
    try:
        return "ok", service.answer_json(inputs, full=full, checking=checking, claimed=claimed)
    except InputError as exc:
        return "input", str(exc)
    except Exception:
        return "internal", traceback.format_exc()


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """A child's loop: answer the warm-up case, say READY, then answer each request until `requests` closes."""
    answer(WARM_UP)
    _write(answers, READY)
    while True:
        try:
            request = _read(requests)
        except EOFError:
            return
        _write(answers, answer(request))


class Child:
    """One child process and its two pipes."""

    def __init__(self) -> None:
        package_root = str(Path(__file__).resolve().parent.parent)
        path = os.environ.get("PYTHONPATH", "")
        env = {**os.environ, "PYTHONPATH": package_root + (os.pathsep + path if path else "")}
        self.process = subprocess.Popen([sys.executable, "-m", "lossapp.workers"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, env=env)
        if self.process.stdin is None or self.process.stdout is None:  # (never: both are pipes)
            raise OSError("the child's pipes were not opened")
        self.requests: IO[bytes] = self.process.stdin
        self.answers: IO[bytes] = self.process.stdout

    def call(self, request: Request) -> Answer:
        _write(self.requests, request)
        return _read(self.answers)

    def wait_ready(self) -> None:
        """Until the child has said READY (EOFError if it died first)."""
        if _read(self.answers) != READY:
            raise EOFError("the child did not say it was ready")

    def close(self) -> None:
        """Close its stdin (it exits), then make sure it has."""
        with contextlib.suppress(OSError):
            self.requests.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        with contextlib.suppress(OSError):
            self.answers.close()


class ComputeProcesses:
    """`count` children answering service.answer_json calls, one call per child at a time."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._idle: queue.SimpleQueue[Child] = queue.SimpleQueue()
        self._children: list[Child] = []
        self._lock = threading.Lock()
        self._closed = False

    @property
    def running(self) -> int:
        """How many children are started and ready."""
        with self._lock:
            return len(self._children)

    def start(self) -> None:
        """Start the children and wait until each is ready (a child that fails to start is left out)."""
        threads = [threading.Thread(target=self._add_child, daemon=True) for _ in range(self.count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(START_SECONDS + 10)

    def _add_child(self) -> None:
        if self._closed:
            return
        child = Child()
        ready = threading.Timer(START_SECONDS, child.process.kill)  # a child stuck in its start is killed
        ready.start()
        try:
            child.wait_ready()
        except (EOFError, OSError, pickle.UnpicklingError):
            child.close()
            return
        finally:
            ready.cancel()
        with self._lock:
            if self._closed:
                child.close()
                return
            self._children.append(child)
        self._idle.put(child)

    def answer(self, inputs: tuple[Any, ...], *, full: bool, checking: bool = False,
               claimed: Any = None) -> Answer | None:
        """The child's answer to service.answer_json(inputs, ...), or None: compute it in this thread instead."""
        if not self.running:
            return None
        try:
            child = self._idle.get(timeout=WAIT_SECONDS)
        except queue.Empty:
            return None
        try:
            result = child.call((inputs, full, checking, claimed))
        except (EOFError, OSError, pickle.UnpicklingError):
            self._replace(child)
            return None
        self._idle.put(child)
        return result

    def _replace(self, child: Child) -> None:
        """Drop a child that died (or broke its pipe) and start another in the background."""
        with self._lock:
            if child in self._children:
                self._children.remove(child)
        child.close()
        if not self._closed:
            threading.Thread(target=self._add_child, name="lossapp-compute-process", daemon=True).start()

    def close(self) -> None:
        """Stop every child (each exits when its stdin closes)."""
        with self._lock:
            self._closed = True
            children, self._children = self._children, []
        for child in children:
            child.close()


def main() -> None:
    """`python -m lossapp.workers`: serve requests on stdin, answers on a private copy of stdout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print goes to stderr, not into the answers
    import torch

    torch.set_num_threads(1)  # small calls: one core each; the server runs the large ones in its own threads
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
