"""lossapp.inputs: every text format with its exact values and decimals, Python objects, files, random
inputs, the checks a loss's prepare() calls, and every error with its message (and its Chinese)."""

from __future__ import annotations

import json
import math
import re
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lossapp import inputs
from lossapp.i18n import has_zh, tr
from lossapp.inputs import (
    InputError,
    TensorInput,
    load_file,
    number_decimals,
    parse_text,
    random_inputs,
    random_tensor,
    read_tensor,
    require_binary,
    require_class_indices,
    require_dims,
    require_finite,
    require_probabilities,
    require_same_shape,
    require_target,
    shape_text,
)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def raises(match: str, fn, *args, **kwargs) -> str:
    """Call fn, expect an InputError whose message matches `match` and has a Chinese translation."""
    with pytest.raises(InputError, match=match) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert has_zh(message), f"no Chinese for: {message}"
    assert tr(message, "zh") != message
    return message


def check(parsed: TensorInput, values, decimals, dtype: torch.dtype) -> None:
    expected = torch.tensor(values, dtype=dtype)
    assert parsed.values.dtype == dtype
    assert tuple(parsed.values.shape) == tuple(expected.shape)
    assert torch.equal(parsed.values, expected) or torch.allclose(parsed.values, expected, rtol=0, atol=0,
                                                                   equal_nan=True)
    assert parsed.decimals is not None
    np.testing.assert_array_equal(parsed.decimals, np.array(decimals))
    assert parsed.decimals.shape == tuple(expected.shape)


F64, I64 = torch.float64, torch.int64

# -- text formats ------------------------------------------------------------------------------------

FORMATS = [
    # Python / JSON lists and scalars
    ("[[0.1, 0.2], [0.3, 0.4]]", [[0.1, 0.2], [0.3, 0.4]], [[1, 1], [1, 1]], F64),
    ("0.5", 0.5, 1, F64),
    ("  -3  ", -3, -1, I64),
    ("[1, 2, 3,]", [1, 2, 3], [-1, -1, -1], I64),
    ("[[1, 2,], [3, 4,],]", [[1, 2], [3, 4]], [[-1] * 2] * 2, I64),
    ("[True, False, true, false]", [1, 0, 1, 0], [-1] * 4, I64),
    ("[0.5, True]", [0.5, 1.0], [1, -1], F64),
    ("[nan, inf, -inf, NaN, Infinity, -Infinity]", [math.nan, math.inf, -math.inf, math.nan, math.inf, -math.inf],
     [-1] * 6, F64),
    ("[0.2947, 0.5898, 0.4863]", [0.2947, 0.5898, 0.4863], [4, 4, 4], F64),
    ("[1.5e-3, 2E2, 1e-3, +.5, 5.]", [1.5e-3, 200.0, 1e-3, 0.5, 5.0], [4, 0, 3, 1, 0], F64),
    ("[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]", [[[1, 2], [3, 4]], [[5, 6], [7, 8]]], [[[-1] * 2] * 2] * 2, I64),
    ("[1, 2]\n[3, 4]", [[1, 2], [3, 4]], [[-1] * 2] * 2, I64),
    ("[99999999999999999999, 1]", [1e20, 1.0], [-1, -1], F64),
    # numpy reprs and print output
    ("array([0.1, 0.2])", [0.1, 0.2], [1, 1], F64),
    ("array([[0.1, 0.2],\n       [0.3, 0.4]], dtype=float32)", [[0.1, 0.2], [0.3, 0.4]], [[1, 1], [1, 1]], F64),
    ("[[0.1 0.2]\n [0.3 0.4]]", [[0.1, 0.2], [0.3, 0.4]], [[1, 1], [1, 1]], F64),
    ("[1. 0. 0.]", [1.0, 0.0, 0.0], [0, 0, 0], F64),
    ("array([1, 2, 3], dtype=int8)", [1, 2, 3], [-1] * 3, I64),
    ("array([ True, False])", [1, 0], [-1, -1], I64),
    ("np.array([0.25, 0.75])", [0.25, 0.75], [2, 2], F64),
    ("np.float64(0.5)", 0.5, 1, F64),
    ("array([0., 1.], shape=(2,))", [0.0, 1.0], [0, 0], F64),
    ("[[[1 2]\n  [3 4]]\n\n [[5 6]\n  [7 8]]]", [[[1, 2], [3, 4]], [[5, 6], [7, 8]]], [[[-1] * 2] * 2] * 2, I64),
    # PyTorch printouts
    ("tensor([[ 0.5000, -1.2500],\n        [ 2.0000,  0.0000]])", [[0.5, -1.25], [2.0, 0.0]], [[4, 4], [4, 4]], F64),
    ("tensor([0.1000, 0.2000], dtype=torch.float64)", [0.1, 0.2], [4, 4], F64),
    ("tensor([0.1000, 0.2000], requires_grad=True)", [0.1, 0.2], [4, 4], F64),
    ("tensor([-0.5753,  0.1473, -2.7216], dtype=torch.float64,\n       grad_fn=<MulBackward0>)",
     [-0.5753, 0.1473, -2.7216], [4, 4, 4], F64),
    ("tensor([0.1000, 0.2000], grad_fn=<AddBackward0>)", [0.1, 0.2], [4, 4], F64),
    ("tensor([0.1000, 0.2000], device='cuda:0')", [0.1, 0.2], [4, 4], F64),
    ("tensor([0.1000, 0.2000], device='cuda:0', grad_fn=<SigmoidBackward0>)", [0.1, 0.2], [4, 4], F64),
    ("tensor(0.9264)", 0.9264, 4, F64),
    ("tensor(0.9264, grad_fn=<BinaryCrossEntropyBackward0>)", 0.9264, 4, F64),
    ("tensor(3)", 3, -1, I64),
    ("tensor([1., 0., 0.])", [1.0, 0.0, 0.0], [0, 0, 0], F64),
    ("tensor([1, 0, 2])", [1, 0, 2], [-1] * 3, I64),
    ("tensor([ True, False])", [1, 0], [-1, -1], I64),
    ("tensor([1.0000e-05, 1.0000e+05])", [1e-5, 1e5], [9, 0], F64),
    ("tensor([nan, inf, -inf])", [math.nan, math.inf, -math.inf], [-1] * 3, F64),
    ("tensor([1., 2.], dtype=torch.bfloat16)", [1.0, 2.0], [0, 0], F64),
    ("Parameter containing:\ntensor([1., 1.], requires_grad=True)", [1.0, 1.0], [0, 0], F64),
    ("torch.tensor([0.3, 0.7])", [0.3, 0.7], [1, 1], F64),
    # article 002's printout, with its label and its missing ')'
    ("input:tensor([0.2947, 0.5898, 0.4863])", [0.2947, 0.5898, 0.4863], [4, 4, 4], F64),
    ("target:tensor([1., 0., 0.]", [1.0, 0.0, 0.0], [0, 0, 0], F64),
    ("pred = [0.2, 0.8]", [0.2, 0.8], [1, 1], F64),
    # rows, CSV, MATLAB style
    ("0.2947 0.5898 0.4863", [0.2947, 0.5898, 0.4863], [4, 4, 4], F64),
    ("1 2 3\n4 5 6", [[1, 2, 3], [4, 5, 6]], [[-1] * 3] * 2, I64),
    ("1,2;3,4", [[1, 2], [3, 4]], [[-1] * 2] * 2, I64),
    ("1 2; 3 4", [[1, 2], [3, 4]], [[-1] * 2] * 2, I64),
    ("[1 2; 3 4]", [[1, 2], [3, 4]], [[-1] * 2] * 2, I64),
    ("1\t2\n3\t4", [[1, 2], [3, 4]], [[-1] * 2] * 2, I64),
    ("0.1;0.2;0.3\n0.4;0.5;0.6", [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], [[1] * 3] * 2, F64),
    ("pred,target\n0.9,1\n0.2,0\n", [[0.9, 1.0], [0.2, 0.0]], [[1, -1], [1, -1]], F64),
    ('"pred","target"\n0.9,1\n0.2,0', [[0.9, 1.0], [0.2, 0.0]], [[1, -1], [1, -1]], F64),
    ("x y\n1 2\n3 4", [[1, 2], [3, 4]], [[-1] * 2] * 2, I64),
    ("# written by numpy.savetxt\n1.5 2.5\n3.5 4.5\n", [[1.5, 2.5], [3.5, 4.5]], [[1] * 2] * 2, F64),
    ("1,2,\n3,4,\n", [[1, 2], [3, 4]], [[-1] * 2] * 2, I64),
    ("1\r\n2\r\n3\r\n", [1, 2, 3], [-1] * 3, I64),
    ("0.1\n0.2\n\n0.3", [0.1, 0.2, 0.3], [1, 1, 1], F64),
    ("True False True", [1, 0, 1], [-1] * 3, I64),
    ("1.5e-3", 1.5e-3, 4, F64),
    # full-width punctuation and the typographic minus
    ("−0.5，0.25", [-0.5, 0.25], [1, 2], F64),
    ("［0.1，0.2］", [0.1, 0.2], [1, 1], F64),
    ("\ufeff[1, 2]", [1, 2], [-1, -1], I64),
    # a JSON object with one list
    ('{"pred": [0.1, 0.2]}', [0.1, 0.2], [1, 1], F64),
]


@pytest.mark.parametrize(("text", "values", "decimals", "dtype"), FORMATS, ids=[repr(f[0])[:40] for f in FORMATS])
def test_text_format(text, values, decimals, dtype):
    check(read_tensor(text, "pred"), values, decimals, dtype)


def test_article_target_works_as_labels():
    """`tensor([1., 0., 0.])` is a float with 0 decimals, and still 0/1 labels and class indices."""
    t = read_tensor("tensor([1., 0., 0.])", "target").values
    assert t.is_floating_point()
    require_binary(t, "target", allow_soft=False)
    assert torch.equal(require_class_indices(t, 3), torch.tensor([1, 0, 0]))


def test_bytes_and_text_agree():
    assert torch.equal(read_tensor(b"[1, 2]", "pred").values, read_tensor("[1, 2]", "pred").values)
    raises(r"pred: expected UTF-8 text, got undecodable bytes at byte 1", read_tensor, b"[\xff]", "pred")


def test_tensor_input_passes_through():
    ti = TensorInput(torch.tensor([1.0]), np.array([1]))
    assert read_tensor(ti, "pred") is ti
    assert ti.shape == (1,) and not ti.integral
    assert read_tensor("[1, 2]", "pred").integral


# -- decimals ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("token", "decimals"), [
    ("0.2947", 4), ("1.5e-3", 4), ("1e-3", 3), ("1.", 0), ("3", -1), ("-3", -1), ("+0.50", 2), ("2E2", 0),
    ("1.25e1", 1), (".5", 1), ("nan", -1), ("-inf", -1), ("Infinity", -1), ("True", -1), ("false", -1),
])
def test_number_decimals(token, decimals):
    assert number_decimals(token) == decimals


def test_decimals_none_above_limit():
    text = "[" + ", ".join(["0.5"] * (inputs.DECIMALS_MAX_ELEMENTS + 1)) + "]"
    parsed = parse_text(text, "pred")
    assert parsed.decimals is None
    assert parsed.values.shape == (inputs.DECIMALS_MAX_ELEMENTS + 1,)
    small = parse_text("[" + ", ".join(["0.5"] * inputs.DECIMALS_MAX_ELEMENTS) + "]", "pred")
    assert small.decimals is not None and (small.decimals == 1).all()


# -- Python objects ----------------------------------------------------------------------------------

def test_python_floats_keep_their_decimals():
    """The answer checker needs how numbers were written; from Python that is their shortest repr."""
    parsed = read_tensor([0.2947, 0.5898, 0.4863], "pred")
    check(parsed, [0.2947, 0.5898, 0.4863], [4, 4, 4], F64)
    check(read_tensor((1, 2), "pred"), [1, 2], [-1, -1], I64)
    check(read_tensor(3, "pred"), 3, -1, I64)
    check(read_tensor(2.5, "pred"), 2.5, 1, F64)
    check(read_tensor([True, False], "pred"), [1, 0], [-1, -1], I64)
    check(read_tensor([[1.0, 0.0, 1e20, 1e-5]], "pred"), [[1.0, 0.0, 1e20, 1e-5]], [[1, 1, 0, 5]], F64)  # as repr
    check(read_tensor([["0.5", "1"]], "pred"), [[0.5, 1.0]], [[1, -1]], F64)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_torch_float_tensors(dtype):
    t = torch.tensor([[0.2947, -1.5], [0.125, 3.0]], dtype=dtype)
    parsed = read_tensor(t, "pred")
    assert parsed.values.dtype == torch.float64
    assert torch.equal(parsed.values, t.double())  # exact: every value of these dtypes is a float64
    # the shortest decimals that give back the same number in the tensor's own dtype
    for value, d in zip(parsed.values.reshape(-1).tolist(), parsed.decimals.reshape(-1).tolist(), strict=True):
        def in_dtype(x: float) -> float:
            return torch.tensor(x, dtype=torch.float64).to(dtype).item()

        assert in_dtype(round(value, d)) == in_dtype(value)
        if d > 0 and value != int(value):
            assert in_dtype(round(value, d - 1)) != in_dtype(value)
    if dtype in (torch.float32, torch.float64):
        np.testing.assert_array_equal(parsed.decimals, [[4, 1], [3, 1]])


@pytest.mark.parametrize("dtype", [torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64, torch.uint32])
def test_torch_int_tensors(dtype):
    parsed = read_tensor(torch.tensor([1, 0, 2], dtype=dtype), "target")
    check(parsed, [1, 0, 2], [-1] * 3, I64)


def test_tensor_detached_noncontiguous_and_0d():
    x = torch.arange(6.0).reshape(2, 3).t().requires_grad_(True)
    parsed = read_tensor(x, "pred")
    assert torch.equal(parsed.values, x.detach().double()) and not parsed.values.requires_grad
    check(read_tensor(torch.tensor(0.5), "pred"), 0.5, 1, F64)
    sparse = torch.tensor([[0.0, 1.5], [2.0, 0.0]]).to_sparse()
    assert torch.equal(read_tensor(sparse, "pred").values, torch.tensor([[0.0, 1.5], [2.0, 0.0]], dtype=F64))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", ">f8", "int8", "uint16", "int64", ">i4"])
def test_numpy_arrays(dtype):
    a = np.array([[1, 2], [3, 4]], dtype=dtype)
    parsed = read_tensor(a, "pred")
    expected = torch.tensor([[1, 2], [3, 4]], dtype=F64 if a.dtype.kind == "f" else I64)
    assert torch.equal(parsed.values, expected)
    check(read_tensor(np.float32(0.1), "pred"), float(np.float32(0.1)), 1, F64)


def test_pandas_like_objects_with_array():
    class Frame:
        def __array__(self, dtype=None, copy=None):
            return np.array([[0.5, 1.5]])

    check(read_tensor(Frame(), "pred"), [[0.5, 1.5]], [[1, 1]], F64)


# -- errors ------------------------------------------------------------------------------------------

TEXT_ERRORS = [
    ("", r"^pred: expected numbers such as \[0\.2, 0\.8\], got empty text$"),
    ("   \n ", r"got empty text"),
    ("[1, 2", r"^pred: expected balanced brackets, got 1 unclosed '\[' \(the first at character 1\)$"),
    ("[[1, 2], [3, 4]", r"got 1 unclosed '\['"),
    ("[1, 2]]", r"^pred: expected balanced brackets, got a '\]' with no matching '\[' at character 7$"),
    ("[[1, 2],\n [3, 4]]]", r"no matching '\[' at line 2, column 9$"),
    ("[[1, 2], [3]]", r"^pred: expected rows of equal length, got 1 entry at index 1 but 2 at index 0$"),
    ("[[1, 2], [3, 4, 5]]", r"got 3 entries at index 1 but 2 at index 0"),
    ("[[[1, 2], [3, 4]], [[5, 6], [7]]]", r"got 1 entry at index \(1, 1\) but 2 at index \(0, 0\)"),
    ("[[1, 2], 3]", r"^pred: expected a rectangular tensor, got numbers and lists mixed at the same level$"),
    ("[[1, 2], []]", r"got 0 entries at index 1 but 2 at index 0"),
    ("1 2 3\n4 5", r"^pred: expected 3 values on every line \(like line 1\), got 2 on line 2$"),
    ("a,b\n1,2\n3,4,5", r"expected 2 values on every line \(like line 2\), got 3 on line 3$"),
    ("1 2; 3", r"^pred: expected 2 values in every row \(like row 1\), got 1 in row 2$"),
    ("[1, abc]", r"^pred: expected a number, got 'abc' at character 5$"),
    ("1, 2\nfoo, 3", r"^pred: expected a number, got 'foo' at line 2, column 1$"),
    ("1.2.3", r"got '1\.2\.3' at character 1"),
    ("[1-2]", r"got '1-2' at character 2"),
    ("[1_000]", r"got '1_000'"),
    ("[[1,2];[3,4]]", r"got ';' at character 7"),
    ("(1, 2)", r"got '\(1' at character 1"),
    ("1, [2]", r"got '\[2\]' at character 4"),
    ("[1,,2]", r"^pred: expected a number between the separators, got an empty cell at character 4$"),
    ("[,1]", r"empty cell at character 2"),
    ("1,,2\n3,4,5", r"empty cell at line 1, column 3"),
    (",1,2\n3,4", r"empty cell at line 1, column 1"),
    ("tensor([1.+2.j])", r"^pred: expected real numbers, got the complex value '1\.\+2\.j' at character 9$"),
    ("tensor([1., 2.], dtype=torch.complex64)", r"^pred: expected real numbers, got a complex tensor \(complex64\)$"),
    ("tensor([-0.3665,  1.1569,  ..., -1.0294,  0.4270])", r"^pred: expected every value, got a summarized printout"),
    ("[0.1 0.2 ... 0.9]", r"summarized printout with '\.\.\.'"),
    ("torch.randn(2, 3)", r"^pred: expected numbers, got the random spec 'torch\.randn\(2, 3\)'"),
    ("[]", r"^pred: expected at least one number, got an empty list$"),
    ("[[]]", r"got an empty list"),
    ("tensor([], size=(0, 3))", r"got an empty list"),
    ("tensor([1, 2]) + 1", r"^pred: expected only keyword arguments such as dtype=\.\.\. after the values in tensor"),
    ("tensor([1, 2], names=[1])", r"got 'names=' at character 16$"),
    ('{"a": [1], "b": [2]}', r"^pred: expected a JSON list, a number, or an object holding exactly one list, got an "
                             r"object with keys a, b$"),
    ('{"a": [1}', r"^pred: expected valid JSON, got .+ at line 1, column \d+$"),
    ('{"a": "text"}', r"object holding exactly one list"),
    ("[" * 40 + "1" + "]" * 40, r"^pred: expected at most 32 dimensions, got 40$"),
]


@pytest.mark.parametrize(("text", "message"), TEXT_ERRORS, ids=[repr(e[0])[:40] for e in TEXT_ERRORS])
def test_text_errors(text, message):
    raises(message, read_tensor, text, "pred")


def test_error_names_the_input():
    raises(r"^target: expected a number, got 'x' at character 2$", read_tensor, "[x]", "target")
    raises(r"^parameter weight: expected a number, got 'x'", read_tensor, "[x]", "parameter weight")
    assert tr("parameter weight: expected a number, got 'x' at character 2", "zh").startswith("参数 weight：")


class _Opaque:
    pass


OBJECT_ERRORS = [
    (None, r"^pred: expected a tensor, got nothing$"),
    (_Opaque(), r"^pred: expected text, a list, a numpy array or a torch tensor, got _Opaque$"),
    ({"a": 1}, r"got dict$"),
    (torch.tensor([True, False]), r"^pred: expected a numeric tensor, got a bool tensor"),
    (np.array([True, False]), r"got a bool tensor"),
    (torch.tensor([1 + 2j]), r"^pred: expected real numbers, got a complex tensor \(complex64\)$"),
    (np.array([1 + 2j]), r"got a complex tensor \(complex128\)$"),
    ([1, None], r"^pred: expected numbers, got None at index 1$"),
    ([[1, 2], [3]], r"^pred: expected rows of equal length, got 1 entry at index 1 but 2 at index 0$"),
    ([[1, 2], 3], r"^pred: expected a rectangular tensor, got numbers and lists mixed at the same level \(index 1 is a "
                  r"number\)$"),
    ([["0.5", "x"]], r"^pred: expected a number, got 'x' at index \(0, 1\)$"),
    ([], r"^pred: expected at least one number, got an empty tensor of shape \(0,\)$"),
    (torch.empty(0, 3), r"got an empty tensor of shape \(0, 3\)$"),
    (torch.empty(2, device="meta"), r"^pred: expected a tensor with data, got a tensor on the meta device$"),
    (np.array(["2020-01-01"], dtype="datetime64[D]"), r"^pred: expected numbers, got values of type datetime64\[D\]$"),
    (np.array([2**63], dtype=np.uint64), r"^pred: expected integers that fit in int64, got 9223372036854775808$"),
]


@pytest.mark.parametrize(("value", "message"), OBJECT_ERRORS, ids=[m[:30] for _, m in OBJECT_ERRORS])
def test_object_errors(value, message):
    raises(message, read_tensor, value, "pred")


def test_size_limits(monkeypatch):
    raises(r"^pred: expected at most 20,000,000 elements, got 20,000,001$", read_tensor, torch.zeros(20_000_001), "pred")
    raises(r"expected at most 20,000,000 elements, got 20,000,001$", read_tensor, np.zeros(20_000_001), "pred")
    monkeypatch.setattr(inputs.limits, "MAX_ELEMENTS", 5)
    raises(r"^pred: expected at most 5 elements, got 6$", read_tensor, "[1, 2, 3, 4, 5, 6]", "pred")
    raises(r"expected at most 5 elements, got 6$", read_tensor, "1 2 3\n4 5 6", "pred")
    raises(r"expected at most 5 elements, got 6$", read_tensor, [1, 2, 3, 4, 5, 6], "pred")
    assert read_tensor("[1, 2, 3, 4, 5]", "pred").values.numel() == 5
    monkeypatch.setattr(inputs.limits, "MAX_TEXT_CHARS", 10)
    raises(r"^pred: expected at most 10 characters, got 11$", read_tensor, "[1, 2, 3]  ", "pred")


def test_million_elements_parse_in_seconds():
    x = torch.randn(1000, 1000, generator=torch.Generator().manual_seed(1))
    text = json.dumps(x.tolist())
    start = time.perf_counter()
    parsed = parse_text(text, "pred")
    elapsed = time.perf_counter() - start
    assert parsed.values.shape == (1000, 1000)
    assert torch.equal(parsed.values, x.double())  # json.dumps of float32 -> float64 shortest repr: exact
    assert parsed.decimals is None
    assert elapsed < 10, f"1,000,000 elements took {elapsed:.1f} s"
    rows = "\n".join(" ".join(f"{v:.4f}" for v in row) for row in x[:500].tolist())  # 500,000 in rows
    start = time.perf_counter()
    assert parse_text(rows, "pred").values.shape == (500, 1000)
    assert time.perf_counter() - start < 6


# -- round trips (hypothesis) ------------------------------------------------------------------------

float32_arrays = hnp.arrays(
    np.float32, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
    elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=32))


_PRINTED = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def half_units(text: str) -> np.ndarray:
    """Half a unit of each printed number's last written digit ('1.2346e+05' -> 5, '0.5000' -> 5e-5)."""
    data = text[:text.rfind("]") + 1]  # not the digits of dtype=float32
    out = []
    for token in _PRINTED.findall(data):
        mantissa, _, exponent = token.lower().partition("e")
        written = len(mantissa.split(".", 1)[1]) if "." in mantissa else 0
        out.append(0.5 * 10.0 ** (int(exponent or 0) - written))
    return np.array(out)


def assert_within_written_precision(parsed: TensorInput, original: np.ndarray, text: str) -> None:
    assert tuple(parsed.values.shape) == original.shape
    assert parsed.decimals is not None
    half_unit = half_units(text)
    diff = np.abs(parsed.values.double().numpy().reshape(-1) - original.astype(np.float64).reshape(-1))
    # half a unit of the last written digit, plus float64 rounding of the printed number itself
    assert (diff <= half_unit * (1 + 1e-9) + 1e-12 * np.abs(original.astype(np.float64).reshape(-1))).all()
    # and the decimals say the same wherever the last written digit is after the point
    after_point = half_unit < 0.5
    expected = np.round(-np.log10(half_unit[after_point] * 2)).astype(int)
    np.testing.assert_array_equal(parsed.decimals.reshape(-1)[after_point], expected)


@SETTINGS
@given(float32_arrays)
def test_round_trip_torch_repr(array):
    t = torch.from_numpy(array)
    for text in (repr(t), repr(t.double().requires_grad_(True) * 1)):
        assert_within_written_precision(read_tensor(text, "pred"), array, text)


@SETTINGS
@given(float32_arrays)
def test_round_trip_numpy(array):
    for text in (np.array2string(array), repr(array), np.array2string(array, separator=", ")):
        assert_within_written_precision(read_tensor(text, "pred"), array, text)


@SETTINGS
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
                  elements=st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False)))
def test_round_trip_json_is_exact(array):
    parsed = read_tensor(json.dumps(array.tolist()), "pred")
    assert torch.equal(parsed.values, torch.from_numpy(array))


@SETTINGS
@given(hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
                  elements=st.integers(-10**12, 10**12)))
def test_round_trip_integers_stay_int64(array):
    for text in (json.dumps(array.tolist()), repr(torch.from_numpy(array)), np.array2string(array)):
        parsed = read_tensor(text, "target")
        assert parsed.values.dtype == torch.int64
        assert torch.equal(parsed.values, torch.from_numpy(array))
        assert (parsed.decimals == -1).all()


@SETTINGS
@given(hnp.arrays(np.float64, st.tuples(st.integers(2, 6), st.integers(1, 5)),
                  elements=st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)),
       st.sampled_from([",", ";", "\t", " "]), st.booleans())
def test_round_trip_csv(array, sep, header):
    lines = [sep.join(f"{v:.6f}" for v in row) for row in array]
    if header:
        lines.insert(0, sep.join(f"col{i}" for i in range(array.shape[1])))
    text = "\n".join(lines) + "\n"
    parsed = read_tensor(text, "pred")
    expected = array if array.shape[1] > 1 else array[:, 0]
    assert_within_written_precision(parsed, expected, "[" + "\n".join(lines[int(header):]) + "]")
    assert (parsed.decimals == 6).all()


# -- files -------------------------------------------------------------------------------------------

class NotATensor:
    """Pickled into a .pt file: torch.load(weights_only=True) must refuse it."""

    def __init__(self) -> None:
        self.payload = [1, 2, 3]


def test_text_files(tmp_path):
    (tmp_path / "p.csv").write_text("p,y\n0.9,1\n0.2,0\n", encoding="utf-8")
    check(load_file(tmp_path / "p.csv", "pred"), [[0.9, 1.0], [0.2, 0.0]], [[1, -1], [1, -1]], F64)
    (tmp_path / "p.tsv").write_text("0.5\t1.5\n2.5\t3.5\n", encoding="utf-8")
    check(load_file(str(tmp_path / "p.tsv"), "pred"), [[0.5, 1.5], [2.5, 3.5]], [[1, 1], [1, 1]], F64)
    (tmp_path / "p.txt").write_text("tensor([0.2947, 0.5898, 0.4863])", encoding="utf-8")
    check(load_file(tmp_path / "p.txt", "pred"), [0.2947, 0.5898, 0.4863], [4, 4, 4], F64)
    (tmp_path / "bom.csv").write_bytes("\ufeff1,2\n3,4\n".encode())
    check(load_file(tmp_path / "bom.csv", "pred"), [[1, 2], [3, 4]], [[-1] * 2] * 2, I64)
    (tmp_path / "p.json").write_text("[[0.25, 0.75], [1, 0]]", encoding="utf-8")
    check(load_file(tmp_path / "p.json", "pred"), [[0.25, 0.75], [1.0, 0.0]], [[2, 2], [-1, -1]], F64)
    (tmp_path / "d.json").write_text('{"target": [1, 0, 2]}', encoding="utf-8")
    check(load_file(tmp_path / "d.json", "target"), [1, 0, 2], [-1] * 3, I64)


def test_binary_files(tmp_path):
    np.save(tmp_path / "a.npy", np.array([[0.5, 1.5]], dtype=np.float32))
    check(load_file(tmp_path / "a.npy", "pred"), [[0.5, 1.5]], [[1, 1]], F64)
    np.savez(tmp_path / "a.npz", first=np.array([1, 2, 3]), second=np.array([9.0]))
    check(load_file(tmp_path / "a.npz", "pred"), [1, 2, 3], [-1] * 3, I64)
    np.savez_compressed(tmp_path / "c.npz", np.array([0.25]))
    check(load_file(tmp_path / "c.npz", "pred"), [0.25], [2], F64)
    torch.save(torch.tensor([0.2947, 0.5898], dtype=torch.float64), tmp_path / "t.pt")
    check(load_file(tmp_path / "t.pt", "pred"), [0.2947, 0.5898], [4, 4], F64)
    torch.save({"logits": torch.tensor([[1.0, 2.0]], dtype=torch.bfloat16), "epoch": 3}, tmp_path / "d.pth")
    check(load_file(tmp_path / "d.pth", "pred"), [[1.0, 2.0]], [[1, 1]], F64)
    torch.save([torch.tensor([1, 0])], tmp_path / "l.pt")
    check(load_file(tmp_path / "l.pt", "target"), [1, 0], [-1, -1], I64)
    # read_tensor takes a Path as a file; a gradio-style upload object with .name too
    assert torch.equal(read_tensor(tmp_path / "t.pt", "pred").values, torch.tensor([0.2947, 0.5898], dtype=F64))

    class Upload:
        name = str(tmp_path / "a.npy")

    assert load_file(Upload(), "pred").values.shape == (1, 2)


def test_file_errors(tmp_path):
    raises(r"^pred: expected a file, got nothing$", load_file, None, "pred")
    raises(r"^pred: expected an existing file, got 'missing\.csv'$", load_file, tmp_path / "missing.csv", "pred")
    (tmp_path / "sub").mkdir()
    raises(r"^pred: expected an existing file, got 'sub'$", load_file, tmp_path / "sub", "pred")
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    raises(r"^pred: expected a \.csv, \.tsv, \.txt, \.json, \.npy, \.npz, \.pt or \.pth file, got 'x\.xlsx'$",
           load_file, tmp_path / "x.xlsx", "pred")
    # pickled object arrays are never unpickled
    np.save(tmp_path / "o.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    raises(r"^pred: expected a numeric array in 'o\.npy', got a pickled object array \(not loaded, for safety\)$",
           load_file, tmp_path / "o.npy", "pred")
    np.savez(tmp_path / "o.npz", np.array([[1], None], dtype=object))
    raises(r"got a pickled object array", load_file, tmp_path / "o.npz", "pred")
    torch.save({"model": NotATensor()}, tmp_path / "obj.pt")
    message = raises(r"^pred: expected tensors saved with torch\.save in 'obj\.pt', got a file that "
                     r"torch\.load\(weights_only=True\) refuses \(Unsupported global: GLOBAL .*NotATensor.*\)$",
                     load_file, tmp_path / "obj.pt", "pred")
    assert "weights_only=False" not in message
    torch.save({"weight": torch.ones(2), "bias": torch.zeros(1)}, tmp_path / "sd.pt")
    raises(r"^pred: expected a tensor, or a dict or list holding exactly one tensor, in 'sd\.pt', got a dict with 2 "
           r"tensors \(weight, bias\)$", load_file, tmp_path / "sd.pt", "pred")
    torch.save({"epoch": 3}, tmp_path / "none.pt")
    raises(r"got a dict with 0 tensors$", load_file, tmp_path / "none.pt", "pred")
    torch.save(3, tmp_path / "int.pt")
    raises(r"got an object of type int$", load_file, tmp_path / "int.pt", "pred")
    # corrupt files
    for ext in (".npy", ".npz"):
        (tmp_path / f"bad{ext}").write_bytes(b"\x93NUMPY garbage" if ext == ".npy" else b"not a zip file at all")
        raises(rf"^pred: expected a valid \{ext} file, got one that cannot be read \(.+\)$", load_file,
               tmp_path / f"bad{ext}", "pred")
    for ext in (".pt", ".pth"):
        (tmp_path / f"bad{ext}").write_bytes(b"not a zip file at all")
        raises(r"got a file that torch\.load\(weights_only=True\) refuses \(.+\)$", load_file, tmp_path / f"bad{ext}",
               "pred")
    torch.save(torch.ones(3), tmp_path / "whole.pt")
    (tmp_path / "trunc.pt").write_bytes((tmp_path / "whole.pt").read_bytes()[:200])
    raises(r"^pred: expected a valid \.pt file, got one that cannot be read \(.+\)$|refuses", load_file,
           tmp_path / "trunc.pt", "pred")
    (tmp_path / "bad.json").write_text("[1, 2", encoding="utf-8")
    raises(r"^pred: expected valid JSON in 'bad\.json', got .+ at line 1, column \d+$", load_file,
           tmp_path / "bad.json", "pred")
    (tmp_path / "bad2.json").write_text('{"a": [1, 2', encoding="utf-8")
    raises(r"^pred: expected valid JSON in 'bad2\.json', got .+ at line 1, column \d+$", load_file,
           tmp_path / "bad2.json", "pred")
    (tmp_path / "latin.csv").write_bytes(b"1,2\n\xe9")
    raises(r"^pred: expected UTF-8 text in 'latin\.csv', got undecodable bytes at byte 4$", load_file,
           tmp_path / "latin.csv", "pred")
    with zipfile.ZipFile(tmp_path / "empty.npz", "w"):
        pass
    raises(r"^pred: expected at least one array in 'empty\.npz', got none$", load_file, tmp_path / "empty.npz", "pred")


def test_file_size_limit_checked_before_reading(tmp_path, monkeypatch):
    # a corrupt file over the limit gets the size error: nothing was read
    (tmp_path / "big.pt").write_bytes(b"x" * 2048)
    raises(r"^pred: expected a file of at most 1 KiB, got 2 KiB$", load_file, tmp_path / "big.pt", "pred", max_bytes=1024)

    def no_read(*args, **kwargs):
        raise AssertionError("read before the size check")

    monkeypatch.setattr(np, "load", no_read)
    monkeypatch.setattr(torch, "load", no_read)
    np.save(tmp_path / "n.npy", np.zeros(1000))  # np.save is not patched
    raises(r"^pred: expected a file of at most 100 bytes, got \d\.\d KiB$", load_file, tmp_path / "n.npy", "pred",
           max_bytes=100)
    (tmp_path / "t.csv").write_text("1," * 100, encoding="utf-8")
    raises(r"got 200 bytes$", load_file, tmp_path / "t.csv", "pred", max_bytes=199)
    assert inputs.MAX_FILE_BYTES == 50 * 2**20


def test_npz_uncompressed_size_checked(tmp_path):
    np.savez_compressed(tmp_path / "z.npz", np.zeros(100_000))  # 800 kB of zeros compress to almost nothing
    assert (tmp_path / "z.npz").stat().st_size < 10_000
    raises(r"^pred: expected arrays of at most 9\.8 KiB uncompressed, got 78\d\.\d KiB in 'z\.npz'$", load_file,
           tmp_path / "z.npz", "pred", max_bytes=10_000)


# -- random inputs -----------------------------------------------------------------------------------

def test_random_inputs_reproduce_article_000():
    """predict=torch.randn(2,3); target=torch.randn(2,3) after torch.manual_seed(0)."""
    before = torch.get_rng_state()
    predict, target = random_inputs(0, ["randn(2,3)", "randn(2,3)"])
    assert torch.equal(torch.get_rng_state(), before)  # the caller's global RNG is untouched
    torch.manual_seed(0)
    assert torch.equal(predict, torch.randn(2, 3))
    assert torch.equal(target, torch.randn(2, 3))
    torch.set_rng_state(before)
    assert predict[0, 0].item() == pytest.approx(1.5410, abs=1e-4)  # the well-known first draw of seed 0


def test_random_inputs_match_the_global_seed_sequence():
    specs = ["torch.randn(2, 3)", "rand(4)", "randint(0, 3, (2,))", "torch.randint(5, (3,))", "randn((2, 2))",
             "predict=torch.randn(2,3);", "randn(3, dtype=torch.float64)", "randint(low=1, high=4, size=(3,))",
             "rand(size=(2,))", "randn(2, requires_grad=True)", "randint(0, 3, ())", "randn(())"]
    state = torch.get_rng_state()
    got = random_inputs(7, specs)
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(7)
    expected = [torch.randn(2, 3), torch.rand(4), torch.randint(0, 3, (2,)), torch.randint(5, (3,)), torch.randn(2, 2),
                torch.randn(2, 3), torch.randn(3, dtype=torch.float64), torch.randint(1, 4, (3,)), torch.rand(2),
                torch.randn(2), torch.randint(0, 3, ()), torch.randn(())]
    torch.set_rng_state(state)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g.dtype == e.dtype and torch.equal(g, e)
    # the seed's sequence also covers the app's own kinds
    soft, mask = random_inputs(3, ["softmax(2, 3)", "mask(4)"])
    torch.manual_seed(3)
    assert torch.equal(soft, torch.softmax(torch.randn(2, 3), dim=1))
    assert torch.equal(mask, torch.randint(0, 2, (4,)))
    torch.set_rng_state(state)
    assert random_inputs(0, []) == []
    one, two = random_inputs("0", "predict=torch.randn(2,3); target=torch.randn(2,3)")
    assert torch.equal(one, random_inputs(0, ["randn(2, 3)"])[0]) and two.shape == (2, 3)


@pytest.mark.parametrize(("spec", "message"), [
    ("__import__('os').system('echo hi')", r"^expected a random spec such as randn\(2, 3\), rand\(4\), "
                                          r"randint\(0, 3, \(2,\)\), softmax\(2, 3\) or mask\(4\), got"),
    ("randn(2, 3); import os", r"expected a random spec such as"),
    ("randn(2, 3).exp()", r"expected a random spec such as"),
    ("torch.zeros(2)", r"expected a random spec such as"),
    ("randn()", r"^random spec 'randn\(\)': expected sizes such as 2, 3 or \(2, 3\), got none$"),
    ("randn(2, x)", r"^random spec 'randn\(2, x\)': expected sizes such as 2, 3 or \(2, 3\), got 'x'$"),
    ("randn(2,, 3)", r"got an empty argument$"),
    ("randn(0, 3)", r"expected a shape of positive integers such as \(2, 3\), got \(0, 3\)$"),
    ("randn(size=(2,), 3)", r"expected keyword arguments last, got '3'$"),
    ("randn(2, generator=g)", r"expected arguments size, dtype, low, high or requires_grad, got 'generator'$"),
    ("randn(2, dtype=torch.complex64)", r"expected dtype float16, bfloat16, float32 or float64, got 'complex64'$"),
    ("randn(2, dtype=torch.long)", r"^random spec randn: expected dtype float16, bfloat16, float32 or float64, got "
                                   r"int64$"),
    ("randint(3, 0, (2,))", r"^random spec 'randint\(3, 0, \(2,\)\)': expected high > low, got low 3 and high 0$"),
    ("randint(0, 3)", r"expected randint\(high, size\) or randint\(low, high, size\) with one size tuple"),
    ("randint((2,), 3)", r"with one size tuple"),
    ("randint(0, 1, 2, (2,))", r"with one size tuple"),
    ("randn(5000, 5000)", r"expected at most 20,000,000 elements, got 25,000,000$"),
])
def test_random_spec_errors(spec, message):
    raises(message, random_inputs, 0, [spec])


def test_random_tensor_kinds():
    state = torch.get_rng_state()
    x = random_tensor("randn", (2, 3), seed=5)
    torch.manual_seed(5)
    assert torch.equal(x, torch.randn(2, 3))
    torch.set_rng_state(state)
    assert torch.equal(torch.get_rng_state(), state)
    p = random_tensor("rand", (100,), seed=1)
    assert ((p >= 0) & (p < 1)).all()
    s = random_tensor("softmax", (4, 3, 2), seed=2)
    assert torch.allclose(s.sum(dim=1), torch.ones(4, 2)) and (s > 0).all()
    assert torch.allclose(random_tensor("softmax", 5, seed=2).sum(), torch.tensor(1.0))
    c = random_tensor("randint", [50], seed=3, num_classes=4)
    assert c.dtype == torch.int64 and ((c >= 0) & (c < 4)).all() and set(c.tolist()) == {0, 1, 2, 3}
    m = random_tensor("MASK", (50,), seed=4)
    assert set(m.tolist()) == {0, 1}
    g = torch.Generator().manual_seed(9)
    a = random_tensor("randn", (3,), generator=g)
    b = random_tensor("randn", (3,), generator=g)
    torch.manual_seed(9)
    assert torch.equal(a, torch.randn(3)) and torch.equal(b, torch.randn(3))
    torch.set_rng_state(state)


def test_random_tensor_errors():
    raises(r"^expected a random kind such as randn, rand, softmax, randint, mask, got 'normal'$", random_tensor,
           "normal", (2,))
    raises(r"^random randn: expected a shape of positive integers such as \(2, 3\), got \(2, -1\)$", random_tensor,
           "randn", (2, -1))
    raises(r"got 'abc'$", random_tensor, "randn", "abc")
    raises(r"^random randint: expected num_classes \(the number of classes\) of at least 1, got None$", random_tensor,
           "randint", (2,))
    raises(r"of at least 1, got 0$", random_tensor, "randint", (2,), num_classes=0)
    raises(r"of at least 1, got 2\.5$", random_tensor, "randint", (2,), num_classes=2.5)
    raises(r"^random softmax: expected a shape with at least 1 dimension for softmax, got \(\)$", random_tensor,
           "softmax", ())
    assert random_tensor("randint", (), num_classes=3).shape == ()
    raises(r"^seed: expected an integer, got 'x'$", random_tensor, "randn", (2,), seed="x")
    raises(r"^seed: expected an integer in \[-2\^63, 2\^64\), got 18446744073709551616$", random_tensor, "randn", (2,),
           seed=2**64)


# -- checks ------------------------------------------------------------------------------------------

def test_require_finite():
    assert require_finite(torch.tensor([1.0, 2.0]), "pred") == []
    assert require_finite(torch.tensor([1, 2]), "target") == []
    raises(r"^pred: expected finite numbers, got NaN at 2 place\(s\) \(first at index 1\)$", require_finite,
           torch.tensor([0.0, math.nan, math.nan]), "pred")
    raises(r"^pred: expected finite numbers, got ±inf at 1 place\(s\) \(first at index \(1, 0\)\)$", require_finite,
           torch.tensor([[0.0], [math.inf]]), "pred")
    raises(r"^pred: expected finite numbers, got NaN at 1 place\(s\)$", require_finite, torch.tensor(math.nan), "pred")
    warnings = require_finite(torch.tensor([-math.inf, 0.0]), "pred", allow_inf=True)
    assert warnings == ["pred contains ±inf; the result follows the limits of the formula"]
    assert has_zh(warnings[0])
    raises(r"got NaN", require_finite, torch.tensor([math.nan]), "pred", allow_inf=True)
    raises(r"^target: expected finite numbers", require_finite, read_tensor("[nan]", "target").values, "target")


def test_require_same_shape_and_dims():
    require_same_shape(torch.zeros(2, 3), torch.zeros(2, 3))
    raises(r"^expected pred and target of the same shape, got pred \(3,\) and target \(2, 3\)$", require_same_shape,
           torch.zeros(3), torch.zeros(2, 3))
    raises(r"^expected logits and labels of the same shape", require_same_shape, torch.zeros(1), torch.zeros(2),
           names=("logits", "labels"))
    raises(r"^expected a target tensor, got none$", require_same_shape, torch.zeros(1), None)
    require_dims(torch.zeros(3), "pred")
    raises(r"^pred: expected a tensor with at least 1 dimension\(s\), got a 0-d scalar \(0\.5\)$", require_dims,
           torch.tensor(0.5), "pred")
    raises(r"^pred: expected a tensor with at least 2 dimension\(s\), got shape \(3,\)$", require_dims, torch.zeros(3),
           "pred", min_dim=2)
    raises(r"^pred: expected a tensor with at most 2 dimension\(s\), got shape \(1, 1, 1\)$", require_dims,
           torch.zeros(1, 1, 1), "pred", max_dim=2)
    assert shape_text((3,)) == "(3,)" and shape_text(torch.Size([2, 3])) == "(2, 3)" and shape_text(()) == "()"


def test_require_probabilities_and_binary():
    require_probabilities(torch.tensor([0.0, 0.5, 1.0]), "pred")
    raises(r"^pred: expected probabilities in \[0, 1\], got 1\.5 at index 2 \(pass logits to a \*_with_logits loss or "
           r"set input=logits\)$", require_probabilities, torch.tensor([0.2, 0.3, 1.5]), "pred")
    raises(r"^pred: expected probabilities in \[0, 1\], got -0\.1 \(pass logits", require_probabilities,
           torch.tensor(-0.1), "pred")
    require_binary(torch.tensor([0.0, 0.3, 1.0]), "target")
    require_binary(torch.tensor([0, 1, 1]), "target", allow_soft=False)
    raises(r"^target: expected labels in \[0, 1\] \(0/1 or soft labels\), got 2 at index 1$", require_binary,
           torch.tensor([1.0, 2.0]), "target")
    raises(r"^target: expected 0/1 labels, got 0\.3 at index \(0, 1\)$", require_binary, torch.tensor([[1.0, 0.3]]),
           "target", allow_soft=False)
    raises(r"^target: expected 0/1 labels, got -1 at index 0$", require_binary, torch.tensor([-1, 1]), "target",
           allow_soft=False)
    raises(r"got nan at index 0$", require_binary, torch.tensor([math.nan]), "target")


def test_require_class_indices():
    out = require_class_indices(torch.tensor([0.0, 2.0, 1.0]), 3)
    assert out.dtype == torch.int64 and out.tolist() == [0, 2, 1]
    assert require_class_indices(torch.tensor([0, -100, 2]), 3, ignore_index=-100).tolist() == [0, -100, 2]
    raises(r"^target: expected class indices in \[0, 3\) for C = 3 classes, got 3 at index 1$", require_class_indices,
           torch.tensor([0, 3]), 3)
    raises(r"^target: expected class indices in \[0, 3\) or ignore_index -100 for C = 3 classes, got -1 at index 0$",
           require_class_indices, torch.tensor([-1, -100]), 3, ignore_index=-100)
    raises(r"^labels: expected integer class indices in \[0, 4\), got 1\.5 at index 2$", require_class_indices,
           torch.tensor([0.0, 1.0, 1.5]), 4, name="labels")
    raises(r"^target: expected integer class indices in \[0, 2\), got inf$", require_class_indices,
           torch.tensor(math.inf), 2)
    raises(r"^target: expected at least 1 class, got C = 0$", require_class_indices, torch.tensor([0]), 0)
    raises(r"^target: expected integer class indices, got a bool tensor$", require_class_indices,
           torch.tensor([True]), 2)


def test_require_target():
    t = torch.zeros(1)
    assert require_target(t, "bce") is t
    raises(r"^bce: expected a target tensor, got none$", require_target, None, "bce")


def test_no_eval_anywhere():
    package = Path(inputs.__file__).parent
    source = "\n".join(f.read_text(encoding="utf-8") for f in sorted(package.glob("*.py")))
    assert not re.search(r"\beval\(|literal_eval|\bexec\(", source)
    assert "allow_pickle=False" in source and "weights_only=True" in source


def test_read_params_parses_json_objects_only() -> None:
    from lossapp.i18n import has_zh
    from lossapp.inputs import read_params

    assert read_params('{"beta": 0.5, "weight": [1, 2]}') == {"beta": 0.5, "weight": [1, 2]}
    assert read_params("") == {} and read_params(None) == {} and read_params({"a": 1}) == {"a": 1}
    for bad, found in (("{beta: 1}", "does not parse"), ("[1, 2]", "got list"), ("__import__('os')", "does not parse")):
        with pytest.raises(InputError, match=found) as info:
            read_params(bad)
        assert str(info.value).startswith("params: expected a JSON object") and has_zh(str(info.value))
