"""lossapp.result: bounded JSON by default and complete on request, the vectorised table, lazy pandas."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import lossapp
from lossapp.result import json_safe
from lossapp.trace import COMPLETE_MAX, SHOWN

ROOT = Path(__file__).resolve().parent.parent


def _flat(value: object) -> list:
    if isinstance(value, list):
        return [x for v in value for x in _flat(v)]
    return [value]


def _class_inputs(n: int = 40, c: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, c, generator=g), torch.randint(0, c, (n,), generator=g)


def test_bounded_json_is_the_complete_one_where_they_overlap() -> None:
    g = torch.Generator().manual_seed(1)
    for loss, pred, target, reduction in [("cross_entropy", *_class_inputs(), "none"),
                                          ("bce", torch.rand(3, 20, generator=g) * 0.9 + 0.05,
                                           (torch.rand(3, 20, generator=g) > 0.5).float(), "mean"),
                                          ("l2_penalty", torch.randn(50, generator=g), None, "sum")]:
        r = lossapp.compute(loss, pred, target, reduction=reduction)
        bounded, full = r.to_dict(), r.to_dict(full=True)
        json.dumps(bounded, allow_nan=False)
        assert [s["symbol"] for s in bounded["steps"]] == [s["symbol"] for s in full["steps"]]
        for b, f in zip(bounded["steps"], full["steps"], strict=True):
            count = len(_flat(f["value"]))
            assert b["shape"] == f["shape"] and f["shown"] == count
            if count <= COMPLETE_MAX:
                assert b["value"] == f["value"] and b["shown"] == count
            else:
                assert b["shown"] == SHOWN and b["value"] == _flat(f["value"])[:SHOWN], b["symbol"]
        gb, gf = bounded["gradient"], full["gradient"]
        assert gb["shape"] == gf["shape"] == list(pred.shape)
        assert gb["manual"] == _flat(gf["manual"])[:SHOWN] and gb["reference"] == _flat(gf["reference"])[:SHOWN]
        assert gb["max_abs_diff"] == gf["max_abs_diff"] and gb["agrees"] and gb["worst"] == gf["worst"]
        assert torch.equal(torch.tensor(gf["manual"]), torch.tensor(r.gradient.manual))  # complete, replayed
        if reduction == "none":
            assert bounded["value"] == _flat(full["value"])[:SHOWN] and bounded["value_shown"] == SHOWN
            assert bounded["value_shape"] == full["value_shape"] == [pred.shape[0]]
            assert full["reference"]["value"] == r.reference.value and len(bounded["reference"]["value"]) == SHOWN
        else:
            assert bounded["value"] == full["value"] == r.value


def test_table_rows_and_columns() -> None:
    pred, target = _class_inputs()
    r = lossapp.compute("cross_entropy", pred, target, reduction="none")
    frame = r.table()
    assert len(frame) == r.rows == 40 and list(frame["index"][:3]) == [0, 1, 2]
    assert frame["l"].tolist() == r.value.tolist()
    assert frame["pred"][0] == [round(v, 6) for v in pred[0].double().tolist()]  # per-class: a list per row
    first = r.table(rows=7)
    assert len(first) == 7 and first.equals(frame.head(7))
    assert len(r.table(rows=3)) == 3 and first["l"].tolist()[:3] == r.table(rows=3)["l"].tolist()
    square = lossapp.compute("mse", torch.ones(3, 30), torch.zeros(3, 30), reduction="none").table(rows=35)
    assert list(square["index"][29:32]) == ["(0, 29)", "(1, 0)", "(1, 1)"] and len(square) == 35


def test_importing_lossapp_does_not_import_pandas() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "import sys, lossapp; lossapp.compute('bce', '[0.5]', '[1]'); print('pandas' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          check=True)
    assert done.stdout.strip() == "False"


def test_json_safe() -> None:
    assert json_safe({"a": [float("nan"), 1.0, float("inf")], "b": torch.tensor(2.0)}) == {"a": [None, 1.0, None],
                                                                                              "b": 2.0}


def test_value_is_a_float64_tensor_with_a_scalar_accessor() -> None:
    pred, target = "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]"
    mean = lossapp.compute("bce", pred, target)
    assert mean.value.dtype == torch.float64 and mean.value.shape == () and mean.value.device.type == "cpu"
    assert mean.scalar == float(mean.value) == mean.to_dict()["value"]
    assert round(mean.scalar, 4) == 0.9263
    none = lossapp.compute("bce", pred, target, reduction="none")
    assert none.value.dtype == torch.float64 and none.value.shape == (3,)
    assert none.to_dict()["value"] == none.value.tolist()  # lists only in the JSON
    assert none.to_dict()["value_shape"] == [3] and "value_shape" not in mean.to_dict()
    with pytest.raises(ValueError, match=r"Result\.scalar: expected a value of one element, got shape \(3,\)"):
        _ = none.scalar
    one = lossapp.compute("bce", "[0.2947]", "[1]", reduction="none")
    assert one.value.shape == (1,) and one.scalar == one.value.item()  # one element is one number
    counts = lossapp.confusion(20, 5, 10, 65)
    assert counts.value.dtype == torch.float64 and counts.value.shape == () and counts.scalar == 40 / 55
