"""How the app shares a CPU Space between its users: Gradio's queue settings, chosen here and nowhere else.

- Computations (the HTTP /compute and /check, the calculator's Compute and the rendering of its result, the
  Check tab, loading an uploaded file, writing a download) share ONE group of workers, as many as the machine
  has cores (`LOSSAPP_COMPUTE_WORKERS`, default os.cpu_count(); a CPU Space has 2). torch releases the GIL, so
  two computations use two cores; a third would only share them, make every request slower and hold one
  more large input in memory.
- A small HTTP computation (CPU, at most 64 KiB of text: up to some 10,000 elements) is handed by its worker to
  a compute process (lossapp.workers; `LOSSAPP_COMPUTE_PROCESSES`, default one less than the cores, at most
  MAX_PROCESSES; 0 for none). Its millisecond of Python would otherwise hold the one GIL that Gradio's event loop
  needs for every other request (at 8 clients the loop has a core's worth of work of its own). Until the
  processes have started (a few seconds after the server answers), or when one is busy past a few seconds or
  died, the worker computes it itself, as before.
- Quick interface events (the language switch, the loss picker, the curves) are pure Python under the GIL: up
  to DEFAULT_LIMIT of each run at once (`default_concurrency_limit`), so one slow event does not hold up the
  same event of other users, without a thread per waiting user.
- Batch grading (a class's answers CSV, up to a minute) runs one batch at a time in its own group, so it
  never takes the computations' workers.
- At most QUEUE_SIZE events wait (`max_size`, `LOSSAPP_QUEUE_SIZE`); beyond that a request is refused at
  once with "queue full" instead of waiting without bound (30 students pressing Compute queue 60 events).
- At most SESSIONS sessions are kept (launch's `state_session_capacity`, least recently used dropped first): every
  HTTP API call without a session of its own is a new session, and Gradio's default, 10,000, would keep
  9 MB of those (an HTTP call's holds 0.9 KB, lossapp.ui.sessions; 7 GB with gradio's own sessions). A session
  keeps no HTTP call's arguments or answer (lossapp.ui.sessions): gradio kept each /compute's input text and
  result JSON in its session until the session was dropped, and the garbage collector walked those results again
  and again (bench_http.py at 8 and 32 clients: 0.3-1.8 ms of collection per request before, 0.1-0.5 ms after;
  the echo app 0.05-0.15 ms).

The app keeps no state outside a session, so more users are served by more replicas behind the host's load
balancer, each with these settings (Gradio's queue needs sticky sessions: a session's requests go to one
replica).
"""

from __future__ import annotations

import os
from typing import Any

DEFAULT_LIMIT = 4    # each quick interface event: how many run at once
QUEUE_SIZE = 256     # events waiting, all groups together
SESSIONS = 1_000     # sessions kept: a browser tab is one, and so is each HTTP API call without a session
MAX_PROCESSES = 4   # compute processes by default, however many cores (each holds torch: about 300 MB)
COMPUTE_ID = "lossapp-compute"
GRADE_ID = "lossapp-grade"


def _env_int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    wanted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"error: expected {wanted} in {name}, got {raw!r}") from None
    if value < minimum:
        raise SystemExit(f"error: expected {wanted} in {name}, got {raw!r}")
    return value


def compute_workers() -> int:
    """How many computations run at once: LOSSAPP_COMPUTE_WORKERS, else the number of cores."""
    return _env_int("LOSSAPP_COMPUTE_WORKERS", os.cpu_count() or 1)


def compute_processes() -> int:
    """How many compute processes answer small HTTP computations (lossapp.workers): LOSSAPP_COMPUTE_PROCESSES
    (0: none, every computation in the server's own threads), else one less than the cores, at most MAX_PROCESSES
    (one on a 2-core Space: the event loop keeps one core, the computations take the other)."""
    return _env_int("LOSSAPP_COMPUTE_PROCESSES", min(MAX_PROCESSES, (os.cpu_count() or 1) - 1), minimum=0)


def queue_size() -> int:
    return _env_int("LOSSAPP_QUEUE_SIZE", QUEUE_SIZE)


def compute_events() -> dict[str, Any]:
    """Keyword arguments of every event that computes (its group and the group's limit)."""
    return {"concurrency_id": COMPUTE_ID, "concurrency_limit": compute_workers()}


def grade_events() -> dict[str, Any]:
    """Keyword arguments of the batch-grading events: one batch at a time."""
    return {"concurrency_id": GRADE_ID, "concurrency_limit": 1}


def queue_kwargs() -> dict[str, Any]:
    """The arguments of Blocks.queue()."""
    return {"default_concurrency_limit": DEFAULT_LIMIT, "max_size": queue_size()}
