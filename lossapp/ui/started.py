"""Per browser session, how many computations the calculator (and the Check tab) has started and finished: the
language switch's re-render of the result reads the stored result when it starts, so when a computation is under way or starts while
it renders (中文 chosen, then Compute pressed at once on a busy server) that render is stale and is dropped; the
computation renders its result in the language it read, and the language the result was last shown in is kept, so
that a switch which came too late for the computation is caught up right after it (`catch_up`).

Only counts are kept, for the SESSIONS most recent sessions (lossapp.ui.concurrency), so nothing grows without
bound and a replica holds nothing that another would need.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from lossapp.ui.common import gr
from lossapp.ui.concurrency import SESSIONS


class Started:
    """(started, finished) counts of computations, per session (least recently used sessions forgotten first)."""

    def __init__(self, sessions: int = SESSIONS) -> None:
        self._counts: OrderedDict[str, tuple[int, int]] = OrderedDict()
        self._shown_in: dict[str, str] = {}  # the language each session's result was last rendered in
        self._sessions = sessions
        self._lock = threading.Lock()

    def _add(self, session: str | None, started: int, finished: int, lang: str | None = None) -> None:
        if not session:
            return
        with self._lock:
            before = self._counts.pop(session, (0, 0))
            self._counts[session] = (before[0] + started, before[1] + finished)
            if lang is not None:
                self._shown_in[session] = lang
            while len(self._counts) > self._sessions:
                forgotten, _ = self._counts.popitem(last=False)
                self._shown_in.pop(forgotten, None)

    def start(self, session: str | None) -> None:
        """A computation of `session` starts."""
        self._add(session, 1, 0)

    def finish(self, session: str | None, lang: str | None = None) -> None:
        """A computation of `session` has shown its result (or its failure), rendered in `lang` where given."""
        self._add(session, 0, 1, lang)

    def shown_in(self, session: str | None) -> str | None:
        """The language `session`'s result was last rendered in (None: not known)."""
        with self._lock:
            return self._shown_in.get(session or "")

    def counts(self, session: str | None) -> tuple[int, int]:
        """(started, finished) for `session`; (0, 0) for one not seen or forgotten."""
        with self._lock:
            return self._counts.get(session or "", (0, 0))

    def idle(self, session: str | None) -> bool:
        """No computation of `session` is under way."""
        started, finished = self.counts(session)
        return started <= finished

    def unless_stale(self, session: str | None, render: Callable[[], list[Any]], lang: str | None = None) -> list[Any]:
        """`render()` (the stored result's outputs, in `lang`, noted as the language shown), or as many no-op updates
        when a computation of `session` is under way or began while it rendered: the stored result is then stale,
        and the computation renders its own in the language it read."""
        before = self.counts(session)
        shown = render()
        if not self.idle(session) or self.counts(session) != before:
            return [gr.update() for _ in shown]
        if lang is not None:
            self._add(session, 0, 0, lang)
        return shown

    def catch_up(self, session: str | None, lang: str, render: Callable[[], list[Any]],
                 size: int) -> list[Any]:
        """Right after a computation has shown its result: `render()` in `lang` where the result was rendered in
        another language (the switch came while the computation ran, and its own re-render was dropped), else
        `size` no-op updates."""
        if self.idle(session) and self.shown_in(session) not in (None, lang):
            return self.unless_stale(session, render, lang)
        return [gr.update() for _ in range(size)]


CALCULATOR = Started()
CHECK = Started()
