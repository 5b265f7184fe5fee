"""Every error message (and warning) the input layer, the registry, the engine and the reference can
produce has Chinese: each is triggered for real, through lossapp.compute or read_tensor, and checked with
lossapp.i18n.has_zh."""

from __future__ import annotations

import dataclasses
import math
import re
from numbers import Integral, Real

import numpy as np
import pytest
import torch

import lossapp
from lossapp import inputs
from lossapp.i18n import has_zh, localize, tr
from lossapp.inputs import InputError, load_file, random_inputs, random_tensor, read_tensor
from lossapp.inputs.constraints import Boolean, Interval, Options
from lossapp.reduction import reduce
from lossapp.reference import available_devices, resolve_dtype
from lossapp.registry import LOSSES, Param
from lossapp.trace import Trace

PRED, TARGET = "[0.5, -1.2, 2.0]", "[0.3, -1.0, 1.0]"


def zh_of(fn, *args, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert has_zh(info.value), f"no Chinese for: {message!r}"
    translated = localize(info.value, "zh")
    assert translated != message and re.search(r"[\u4e00-\u9fff]", translated), translated
    return message


# -- through lossapp.compute -------------------------------------------------------------------------

COMPUTE_ERRORS = [
    ("unknown loss with a suggestion", dict(loss="bcee"), r"^unknown loss 'bcee'; did you mean .+\?"),
    ("unknown loss", dict(loss="qqqqqqqq"), r"^unknown loss 'qqqqqqqq' \(python -m lossapp list"),
    ("no loss name", dict(loss="  "), r"^expected a loss name such as bce"),
    ("unknown parameter", dict(loss="l1", gamma=2), r"^l1: unknown parameter 'gamma'; expected one of: none$"),
    ("parameter not a number", dict(loss="smooth_l1", beta="abc"), r"^parameter beta: expected a number, got 'abc'$"),
    ("parameter out of range", dict(loss="smooth_l1", beta=20), r"^parameter beta: expected a value in \[0\.0, 10\.0\]"),
    ("parameter empty", dict(loss="smooth_l1", beta=""), r"^parameter beta: expected a value, got nothing$"),
    ("parameter infinite", dict(loss="huber", delta=math.inf), r"^parameter delta: expected a finite number, got inf$"),
    ("reduction", dict(loss="l1", reduction="avg"), r"^l1: expected reduction none, mean, sum, got 'avg'$"),
    ("device name", dict(loss="l1", device="tpu"), r"^expected a device such as cpu, cuda, cuda:0 or mps, got 'tpu'$"),
    ("device missing", dict(loss="l1", device="cuda:7"), r"^device 'cuda:7' is not available on this machine"),
    ("dtype name", dict(loss="l1", dtype="int8"), r"^expected dtype float16, bfloat16, float32 or float64, got 'int8'$"),
    ("dtype object", dict(loss="l1", dtype=torch.int8), r"^expected dtype float16, bfloat16, float32 or float64, got "
                                                         r"torch\.int8$"),
    ("target missing", dict(loss="l1", target=None), r"^l1: expected a target tensor \(values\), got none$"),
    ("target empty text", dict(loss="mse", target="  "), r"^mse: expected a target tensor \(values\), got none$"),
    ("pred not a number", dict(loss="l1", pred="[0.5, abc, 2]"), r"^pred: expected a number, got 'abc' at character 7$"),
    ("target ragged", dict(loss="l1", target="[[1, 2], [3]]"), r"^target: expected rows of equal length"),
    ("pred NaN", dict(loss="l1", pred="[nan, 1, 2]"), r"^pred: expected finite numbers, got NaN at 1 place\(s\)"),
    ("target inf", dict(loss="l1", target="[inf, 1, 2]"), r"^target: expected finite numbers, got ±inf"),
    ("shapes", dict(loss="l1", target="[1, 2]"), r"^expected pred and target of the same shape, got pred \(3,\) and "
                                                 r"target \(2,\)$"),
    ("pred empty", dict(loss="l1", pred="[]"), r"^pred: expected at least one number, got an empty list$"),
    ("pred brackets", dict(loss="l1", pred="[[1, 2, 3]"), r"^pred: expected balanced brackets"),
    ("pred bool tensor", dict(loss="l1", pred=torch.tensor([True, False, True])), r"^pred: expected a numeric tensor"),
    ("pred complex", dict(loss="l1", pred=np.array([1j, 2, 3])), r"^pred: expected real numbers, got a complex tensor"),
    ("pred summarized", dict(loss="l1", pred="tensor([0.1, ..., 0.3])"), r"^pred: expected every value"),
]


@pytest.mark.parametrize(("what", "call", "message"), COMPUTE_ERRORS, ids=[c[0] for c in COMPUTE_ERRORS])
def test_compute_errors_have_chinese(what, call, message):
    call = dict(call)
    loss = call.pop("loss")
    pred = call.pop("pred", PRED)
    target = call.pop("target", TARGET)
    got = zh_of(lossapp.compute, loss, pred, target, **call)
    assert re.search(message, got), got


def _spec_with(predicate):
    for spec in LOSSES.values():
        if predicate(spec) and spec.example:
            return spec
    pytest.skip("no registered loss of that kind yet")


def test_parameter_kinds_have_chinese():
    """choice, bool and int parameters of whatever losses declare them, plus Param.parse directly."""
    for constraint, bad, pattern in ((Options(("a", "b")), "bogus", r"expected one of .+, got 'bogus'$"),
                                     (Boolean(), "maybe", r"expected true or false, got 'maybe'$"),
                                     (Interval(Integral), "1.5", r"expected an integer, got '1\.5'$")):
        kind = constraint.kind
        param = Param("x", 1 if kind != "choice" else "a", constraint, "test")
        assert re.search(pattern, zh_of(param.parse, bad))
        spec = next((s for s in LOSSES.values() if s.example and any(p.kind == kind for p in s.params)), None)
        if spec is None:
            continue
        name = next(p.name for p in spec.params if p.kind == kind)
        ex = spec.example
        params = {**ex.get("params", {}), name: bad}
        got = zh_of(lossapp.compute, spec.name, ex["pred"], ex.get("target"), **params)
        assert got.startswith(f"parameter {name}: ")
    zh_of(Param("x", 1.0, Interval(Real), "test").parse, None)
    zh_of(Param("x", 1.0, Interval(Real), "test").parse, True)


def test_target_given_to_a_penalty_has_chinese():
    spec = _spec_with(lambda s: s.target_kind is None and s.family != "metrics")
    got = zh_of(lossapp.compute, spec.name, spec.example["pred"], "[1, 2]")
    assert got == f"{spec.name}: expected no target (it is a penalty on pred alone), got one"


def test_non_integer_class_indices_have_chinese():
    spec = _spec_with(lambda s: s.target_dtype == "index")
    ex = spec.example
    target = read_tensor(ex["target"], "target").values.double()
    target.reshape(-1)[0] += 0.5
    got = zh_of(lossapp.compute, spec.name, ex["pred"], target.tolist(), **ex.get("params", {}))
    assert got.startswith("target: expected integer class indices")


def test_reference_failure_has_chinese(monkeypatch):
    def broken(x, y, p, r):
        raise RuntimeError("boom: the kernel refused\nsecond line")

    monkeypatch.setitem(LOSSES, "l1", dataclasses.replace(LOSSES["l1"], reference=broken))
    got = zh_of(lossapp.compute, "l1", PRED, TARGET)
    assert got == "torch.nn.functional.l1_loss failed on cpu/float32: boom: the kernel refused"


def test_engine_warnings_have_chinese(monkeypatch):
    # inputs that float32 cannot hold exactly: the built-in is compared with the exact value of the rounded inputs
    result = lossapp.compute("mse", "[100.3, 7.0]", "[100.0, 7.0]", dtype="bfloat16")  # 100.3 -> 100.5 in bfloat16
    assert any(w.startswith("rounding the inputs to bfloat16 changes the exact value by") for w in result.warnings)
    for w in result.warnings:
        assert has_zh(w), w
    # a reference that disagrees with the trace
    spec = LOSSES["l1"]
    monkeypatch.setitem(LOSSES, "l1", dataclasses.replace(spec, reference=lambda x, y, p, r: spec.reference(x, y, p, r)
                                                          + 1))
    result = lossapp.compute("l1", PRED, TARGET, dtype="float64")
    disagree = [w for w in result.warnings if w.startswith("the trace and ")]
    assert disagree and all(has_zh(w) for w in result.warnings)
    assert "相差" in tr(disagree[0], "zh")


def test_reduction_error_has_chinese():
    zh_of(reduce, Trace(), torch.ones(2, dtype=torch.float64), "median")


def test_dtype_objects_and_devices():
    zh_of(resolve_dtype, torch.int64)
    if "cuda" not in available_devices():
        zh_of(lossapp.compute, "l1", PRED, TARGET, device="cuda")


# -- through read_tensor and the other input functions -----------------------------------------------

READ_ERRORS = [
    None, "", "   ", "[1, 2", "[1, 2]]", "[[1, 2], [3]]", "[[1, 2], 3]", "1 2\n3", "1 2; 3", "[1, abc]", "a\nb c\n1",
    "[1,,2]", "1,,2\n3,4,5", "tensor([1.+2.j])", "tensor([1.], dtype=torch.complex128)", "[0.1 0.2 ... 0.9]",
    "torch.rand(3)", "[]", "tensor([1, 2]) * 2", '{"a": [1], "b": [2]}', '{"a": [1}', '{"a": "x"}',
    "[" * 40 + "1" + "]" * 40, b"\xff\xfe", object(), torch.tensor([True]), np.array([1 + 1j]), [1, None],
    [[1, 2], [3]], [[1, 2], 3], [["0.5", "x"]], ["x"], torch.empty(0), torch.empty(1, device="meta"),
    np.array(["2020-01-01"], dtype="datetime64[D]"), np.array([2**63], dtype=np.uint64), "[١]", "[1_0]",
]


@pytest.mark.parametrize("value", READ_ERRORS, ids=[repr(v)[:30] for v in READ_ERRORS])
def test_read_tensor_errors_have_chinese(value):
    zh_of(read_tensor, value, "pred")
    if isinstance(value, str):
        zh_of(read_tensor, value, "parameter weight")


def test_size_errors_have_chinese(monkeypatch):
    zh_of(read_tensor, torch.zeros(inputs.MAX_ELEMENTS + 1), "pred")
    monkeypatch.setattr(inputs.limits, "MAX_TEXT_CHARS", 4)
    zh_of(read_tensor, "[1, 2]", "pred")


def test_file_errors_have_chinese(tmp_path):
    zh_of(load_file, None, "pred")
    zh_of(load_file, tmp_path / "missing.npy", "pred")
    (tmp_path / "x.xlsx").write_bytes(b"")
    zh_of(load_file, tmp_path / "x.xlsx", "pred")
    (tmp_path / "big.csv").write_text("1," * 600, encoding="utf-8")
    zh_of(load_file, tmp_path / "big.csv", "pred", max_bytes=1000)
    (tmp_path / "bad.csv").write_bytes(b"1,\xff")
    zh_of(load_file, tmp_path / "bad.csv", "pred")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    zh_of(load_file, tmp_path / "bad.json", "pred")
    np.save(tmp_path / "o.npy", np.array([None], dtype=object), allow_pickle=True)
    zh_of(load_file, tmp_path / "o.npy", "pred")
    np.savez_compressed(tmp_path / "z.npz", np.zeros(10_000))
    zh_of(load_file, tmp_path / "z.npz", "pred", max_bytes=5_000)
    (tmp_path / "bad.npy").write_bytes(b"junk")
    zh_of(load_file, tmp_path / "bad.npy", "pred")
    torch.save({"a": torch.ones(1), "b": torch.ones(1)}, tmp_path / "two.pt")
    zh_of(load_file, tmp_path / "two.pt", "pred")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    zh_of(load_file, tmp_path / "junk.pt", "pred")


def test_random_errors_have_chinese():
    for spec in ("eval('1')", "randn()", "randn(2, x)", "randn(2,, 3)", "randn(0)", "randn(size=(2,), 3)",
                 "randn(2, out=x)", "randn(2, dtype=torch.int5)", "randn(2, dtype=torch.long)", "randint(3, 1, (2,))",
                 "randint(0, 3)", "randn(5000, 5000)"):
        zh_of(random_inputs, 0, [spec])
    zh_of(random_inputs, "seed", ["randn(2)"])
    zh_of(random_tensor, "gauss", (2,))
    zh_of(random_tensor, "randn", (0,))
    zh_of(random_tensor, "randint", (2,))
    zh_of(random_tensor, "randn", (2,), seed=2**70)


def test_checks_have_chinese():
    t = torch.tensor([0.5, 1.5])
    zh_of(inputs.require_probabilities, t, "pred")
    zh_of(inputs.require_probabilities, torch.tensor(1.5), "pred")
    zh_of(inputs.require_binary, t, "target")
    zh_of(inputs.require_binary, t, "target", allow_soft=False)
    zh_of(inputs.require_class_indices, t, 3)
    zh_of(inputs.require_class_indices, torch.tensor([5]), 3)
    zh_of(inputs.require_class_indices, torch.tensor([5]), 3, ignore_index=-100)
    zh_of(inputs.require_class_indices, torch.tensor([0]), 0)
    zh_of(inputs.require_class_indices, torch.tensor([True]), 2)
    zh_of(inputs.require_dims, torch.tensor(1.0), "pred")
    zh_of(inputs.require_dims, torch.zeros(2), "pred", min_dim=2)
    zh_of(inputs.require_dims, torch.zeros(1, 1, 1), "pred", max_dim=2)
    zh_of(inputs.require_finite, torch.tensor([math.nan]), "pred")
    zh_of(inputs.require_finite, torch.tensor([math.inf]), "pred")
    zh_of(inputs.require_same_shape, torch.zeros(1), torch.zeros(2))
    zh_of(inputs.require_same_shape, torch.zeros(1), None)
    zh_of(inputs.require_target, None, "bce")
    for warning in inputs.require_finite(torch.tensor([math.inf]), "pred", allow_inf=True):
        assert has_zh(warning)
