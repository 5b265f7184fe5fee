"""lossapp.ui.started: per session, the computations started and finished (the language switch's re-render of the
calculator's result is dropped while one is under way)."""

from __future__ import annotations

from lossapp.ui.started import Started


def test_a_computation_under_way_is_seen_until_it_finishes() -> None:
    started = Started()
    assert started.idle("a") and started.counts("a") == (0, 0)
    started.start("a")
    assert not started.idle("a") and started.idle("b")  # sessions are apart
    started.finish("a")
    assert started.idle("a") and started.counts("a") == (1, 1)


def test_only_the_most_recent_sessions_are_kept() -> None:
    started = Started(sessions=2)
    for session in ("a", "b", "c"):
        started.start(session)
    assert started.counts("a") == (0, 0) and started.counts("c") == (1, 0)
    started.start("b")  # used again: now the most recent
    started.start("d")
    assert started.counts("b") == (2, 0) and started.counts("c") == (0, 0)


def test_a_call_without_a_session_counts_nothing() -> None:
    started = Started()
    started.start(None)
    started.start("")
    assert started.idle(None) and started.counts("") == (0, 0)
