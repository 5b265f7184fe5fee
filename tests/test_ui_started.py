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


def test_a_render_during_a_computation_is_dropped() -> None:
    started = Started()
    assert started.unless_stale("a", lambda: ["x", "y"]) == ["x", "y"]
    started.start("a")
    dropped = started.unless_stale("a", lambda: ["x", "y"])  # under way: as many no-op updates
    assert len(dropped) == 2 and all(u == {"__type__": "update"} for u in dropped)
    started.finish("a")

    def render_while_one_starts() -> list[str]:
        started.start("a")
        started.finish("a")
        return ["x"]

    assert started.unless_stale("a", render_while_one_starts) != ["x"]  # one began (and ended) meanwhile


def test_a_switch_that_came_during_a_computation_is_caught_up() -> None:
    started = Started()
    started.start("a")
    started.finish("a", "en")  # the computation rendered in English; 中文 was chosen meanwhile
    assert started.shown_in("a") == "en"
    assert started.catch_up("a", "zh", lambda: ["zh-1", "zh-2"], 2) == ["zh-1", "zh-2"]
    assert started.shown_in("a") == "zh"
    unchanged = started.catch_up("a", "zh", lambda: ["again"], 1)  # already in 中文: nothing to render
    assert unchanged == [{"__type__": "update"}]


def test_no_catch_up_while_another_computation_runs_or_for_an_unknown_session() -> None:
    started = Started()
    started.start("a")
    started.finish("a", "en")
    started.start("a")  # the next Compute renders in the language it reads itself
    assert started.catch_up("a", "zh", lambda: ["zh"], 1) == [{"__type__": "update"}]
    assert started.catch_up("b", "zh", lambda: ["zh"], 1) == [{"__type__": "update"}]


def test_a_language_switchs_render_is_noted_and_a_forgotten_session_forgets_its_language() -> None:
    started = Started(sessions=1)
    started.start("a")
    started.finish("a", "en")
    assert started.unless_stale("a", lambda: ["zh"], "zh") == ["zh"] and started.shown_in("a") == "zh"
    started.start("b")  # "a" forgotten: its language too
    assert started.shown_in("a") is None
