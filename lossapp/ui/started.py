"""Per browser session, how many computations the calculator (and the Check tab) has started and finished: the
language switch's re-render of the result reads the stored result when it starts, so when a computation is under way or starts while
it renders (中文 chosen, then Compute pressed at once on a busy server) that render is stale and is dropped; the
computation renders its result in the language chosen.

Only counts are kept, for the SESSIONS most recent sessions (lossapp.ui.concurrency), so nothing grows without
bound and a replica holds nothing that another would need.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from lossapp.ui.concurrency import SESSIONS


class Started:
    """(started, finished) counts of computations, per session (least recently used sessions forgotten first)."""

    def __init__(self, sessions: int = SESSIONS) -> None:
        self._counts: OrderedDict[str, tuple[int, int]] = OrderedDict()
        self._sessions = sessions
        self._lock = threading.Lock()

    def _add(self, session: str | None, started: int, finished: int) -> None:
        if not session:
            return
        with self._lock:
            before = self._counts.pop(session, (0, 0))
            self._counts[session] = (before[0] + started, before[1] + finished)
            while len(self._counts) > self._sessions:
                self._counts.popitem(last=False)

    def start(self, session: str | None) -> None:
        """A computation of `session` starts."""
        self._add(session, 1, 0)

    def finish(self, session: str | None) -> None:
        """A computation of `session` has shown its result (or its failure)."""
        self._add(session, 0, 1)

    def counts(self, session: str | None) -> tuple[int, int]:
        """(started, finished) for `session`; (0, 0) for one not seen or forgotten."""
        with self._lock:
            return self._counts.get(session or "", (0, 0))

    def idle(self, session: str | None) -> bool:
        """No computation of `session` is under way."""
        started, finished = self.counts(session)
        return started <= finished


CALCULATOR = Started()
CHECK = Started()
