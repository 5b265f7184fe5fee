"""The query string of a shared computation (lossapp.ui.share): written from a tab's inputs, read back."""

from __future__ import annotations

from urllib.parse import parse_qsl

from lossapp.registry import lookup
from lossapp.ui import share


def _pairs(query: str) -> dict[str, str]:
    return dict(parse_qsl(query))


def test_a_calculator_state_round_trips() -> None:
    query, complete = share.loss_query("calculator", "en", "smooth_l1", "[0.5, 2.0]", "[0, 0]", "sum", "cpu",
                                       "float32", "", {"beta": 0.5})
    assert complete
    pairs = _pairs(query)
    assert pairs == {"tab": "calculator", "loss": "smooth_l1", "pred": "[0.5, 2.0]", "target": "[0, 0]",
                     "reduction": "sum", "device": "cpu", "dtype": "float32", "p.beta": "0.5"}
    shared = share.read_query(pairs)
    assert shared is not None and shared.tab == "calculator" and shared.lang is None and shared.computes
    assert shared.params() == {"beta": "0.5"}
    beta = next(p for p in lookup("smooth_l1").params if p.name == "beta")
    assert share.control_value(beta, shared.params()["beta"]) == 0.5


def test_defaults_and_empty_values_stay_out_of_the_link() -> None:
    query, _ = share.loss_query("check", "zh", "bce", "[0.2]", "[1]", "mean", "cpu", "float32", "0.9", {"weight": ""})
    pairs = _pairs(query)
    assert "p.weight" not in pairs and pairs["lang"] == "zh" and pairs["claimed"] == "0.9"
    smooth = {p.name: p for p in lookup("smooth_l1").params}
    assert share._param_text(smooth["beta"], smooth["beta"].default) is None
    no_target, _ = share.loss_query("calculator", "en", "l1_penalty", "[1, -2]", "[9]", None, "cpu", "float32", "",
                                    {})
    assert "target" not in _pairs(no_target)


def test_files_and_long_inputs_give_the_tab_and_the_loss_only() -> None:
    query, complete = share.loss_query("calculator", "en", "mse", "[1]", "[2]", "mean", "cpu", "float32", "", {},
                                       from_file=True)
    assert not complete and _pairs(query) == {"tab": "calculator", "loss": "mse"}
    long = "[" + ", ".join(["0.5"] * share.MAX_QUERY_CHARS) + "]"
    query, complete = share.loss_query("calculator", "en", "mse", long, long, "mean", "cpu", "float32", "", {})
    assert not complete and len(query) < 100
    assert share.read_query(_pairs(query)).computes is False


def test_confusion_counts_round_trip() -> None:
    pairs = _pairs(share.confusion_query("en", 20.0, 5, 10, None, "iou", ""))
    assert pairs == {"tab": "confusion", "tp": "20", "fp": "5", "fn": "10", "metric": "iou"}
    shared = share.read_query(pairs)
    assert shared.computes and [share.count_value(shared.fields.get(k)) for k in share.COUNTS] == [20, 5, 10, None]


def test_hand_edited_links_fall_back_safely() -> None:
    assert share.read_query({"tab": "nowhere", "loss": "bce"}) is None
    assert share.read_query({}) is None
    assert share.read_query({"tab": "check", "lang": "xx"}).lang is None
    params = {p.name: p for p in lookup("focal").params}
    assert share.control_value(params["gamma"], "lots") == params["gamma"].default
    assert share.control_value(params["gamma"], "nan") == params["gamma"].default
    assert share.count_value("many") is None


def test_the_link_script_knows_the_space(monkeypatch) -> None:
    monkeypatch.setenv("SPACE_ID", "someone/lossapp")
    assert '"someone/lossapp"' in share.write_url_js()
    monkeypatch.delenv("SPACE_ID")
    assert 'const space = "";' in share.write_url_js()
