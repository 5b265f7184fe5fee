"""lossapp.inputs: every text format with its exact values and decimals, Python objects, files, random
inputs, the checks a loss's prepare() calls, and every error with its message (and its Chinese)."""

from __future__ import annotations

import json
import math
import re
import time
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lossapp import inputs
from lossapp.i18n import has_zh
from lossapp.inputs import (
    InputError,
    TensorInput,
    load_file,
    number_decimals,
    parse,
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
    require_sign_labels,
    require_target,
    shape_text,
)
from lossapp.inputs.parse import _decimals
from lossapp.inputs.random_specs import generator_spec, spec_torch_code

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def raises(match: str, fn, *args, **kwargs) -> str:
    """Call fn, expect an InputError whose message matches `match` and has a Chinese translation."""
    with pytest.raises(InputError, match=match) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert has_zh(info.value), f"no Chinese for: {message}"
    assert info.value.render("zh") != message
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


# What number_decimals' fast path reads: a sign or not, then ASCII digits with at most one '.' (no exponent)
PLAIN_NUMBER = re.compile(r"[-+]?\d*\.(\d*)|[-+]?\d+", re.ASCII)


@pytest.mark.parametrize(("token", "decimals"), [
    (".", 0), ("-.", 0), ("+.5", 1), ("-.25", 2), ("0.", 0), ("00.0100", 4), ("+-1", -1), ("--1", -1), ("1.2.3", 3),
    (".-5", 2), ("-", -1), ("+", -1), ("", -1), (" 1", -1), ("1_0", -1), ("\u0663", -1), ("-\u0663", -1), ("1.\u0663", 1),
])
def test_number_decimals_of_words_that_only_look_plain(token, decimals):
    """The fast path takes exactly the plain numbers (ASCII digits: '٣' is not one); the rest is read as before."""
    assert number_decimals(token) == decimals


@given(st.text(alphabet="0123456789.-+eE \u0663\u00b2_xn", max_size=9))
@settings(max_examples=500, deadline=None)
def test_number_decimals_of_a_plain_number_counts_its_fraction_digits(token):
    plain = PLAIN_NUMBER.fullmatch(token)
    if plain is not None:
        fraction = plain.group(1)
        assert number_decimals(token) == (-1 if fraction is None else min(len(fraction), inputs.limits.MAX_DECIMALS))
    else:
        assert number_decimals(token) == number_decimals(" " + token)  # not plain: the general reading


@given(st.lists(st.text(alphabet="0123456789.-+eE, \u0663\u00b2_n", max_size=7), min_size=1, max_size=6))
@settings(max_examples=500, deadline=None)
def test_the_decimals_of_a_list_of_words_are_each_words_number_decimals(words):
    """_decimals reads a list of plain decimals at once (commas inside a word, signs, '.', exponents and non-ASCII
    digits fall back word by word): the same numbers as number_decimals."""
    assert _decimals(words).dtype == np.int64
    assert _decimals(words).tolist() == [number_decimals(w) for w in words]


def test_the_decimals_of_plain_words_are_capped_as_number_decimals_caps_them():
    words = ["1." + "0" * 400, "-.5", "+3", "7", "12.", "1" * 500, "0.2947"]
    assert _decimals(words).tolist() == [number_decimals(w) for w in words] == [300, 1, -1, -1, 0, -1, 4]
    assert _decimals([]).tolist() == []


def test_decimals_none_above_limit():
    text = "[" + ", ".join(["0.5"] * (inputs.DECIMALS_MAX_ELEMENTS + 1)) + "]"
    parsed = parse_text(text, "pred")
    assert parsed.decimals is None
    assert parsed.values.shape == (inputs.DECIMALS_MAX_ELEMENTS + 1,)
    small = parse_text("[" + ", ".join(["0.5"] * inputs.DECIMALS_MAX_ELEMENTS) + "]", "pred")
    assert small.decimals is not None and (small.decimals == 1).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_small_tensors_decimals_all_at_once_are_the_count_by_count_ones(dtype, monkeypatch):
    """_shortest_decimals tries every count of decimals at once up to _BATCHED_DECIMALS elements: the same decimals as
    the loop over the counts, on every magnitude, halves, whole numbers, subnormals, ±inf and NaN."""
    g = torch.Generator().manual_seed(3)
    parts = [torch.randn(400, generator=g, dtype=torch.float64) * s for s in (1e-40, 1e-8, 1e-3, 1, 1e4, 1e9, 1e17, 1e30)]
    parts[:0] = [torch.tensor([0.5, 1.5, 2.5, -0.5, 0.0, -0.0, 1e16, 3e16, 0.1, 0.2947, 1e-5, math.inf, -math.inf,
                               math.nan, 5e-324, 1e-45, 65504.0], dtype=torch.float64),
                 torch.randint(-10**5, 10**5, (400,), generator=g) / 1000]
    x = torch.cat(parts).to(dtype)[:3600]  # (with the special values at the start)
    batched = [parse._shortest_decimals(v) for v in (x, x.reshape(-1, 3)[:, :2], x[0])]
    monkeypatch.setattr(parse, "_BATCHED_DECIMALS", -1)
    for got, v in zip(batched, (x, x.reshape(-1, 3)[:, :2], x[0]), strict=True):
        np.testing.assert_array_equal(got, parse._shortest_decimals(v))


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


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_a_large_narrow_float_tensor_is_widened_when_its_values_are_first_read(dtype):
    """Above DECIMALS_MAX_ELEMENTS a float32 / float16 / bfloat16 tensor is held as it is (TensorInput.narrow, no copy):
    its shape and kind read without widening; its values, when first read, the float64 widening (once); a change in
    place before that is an error naming the input, not other values."""
    g = torch.Generator().manual_seed(4)
    t = (torch.randn(inputs.DECIMALS_MAX_ELEMENTS + 1, generator=g) * 3).to(dtype)
    parsed = read_tensor(t, "pred")
    if dtype == torch.float64:
        assert parsed.narrow is None and parsed.values.dtype == F64
        return
    assert parsed.narrow is not None and parsed.narrow.data_ptr() == t.data_ptr() and parsed.decimals is None
    assert parsed.shape == tuple(t.shape) and not parsed.integral and parsed.narrow is not None  # (still narrow)
    values = parsed.values
    assert values.dtype == F64 and torch.equal(values, t.double()) and parsed.values is values
    assert parsed.narrow is None  # widened once: the float64 values from now on
    assert read_tensor(t[:inputs.DECIMALS_MAX_ELEMENTS], "pred").narrow is None  # small: widened at once
    import copy
    import pickle
    t.add_(0.0)  # (a version counter past 0: a copy has its own)
    for kept in (copy.deepcopy(read_tensor(t, "pred")), pickle.loads(pickle.dumps(read_tensor(t, "pred")))):
        assert kept.narrow is not None and torch.equal(kept.values, t.double())
    changed = read_tensor(t, "target")
    t.mul_(2)
    with pytest.raises(InputError, match=r"^target: the tensor was changed in place after it was read") as err:
        changed.values  # noqa: B018
    assert has_zh(err.value.args[0])
    with pytest.raises(InputError):
        changed.narrow  # noqa: B018


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
                             r"object with keys 'a', 'b'$"),
    ('{"a": [1}', r"^pred: expected valid JSON, got .+ at line 1, column \d+$"),
    ('{"a": "text"}', r"object holding exactly one list"),
    ("[" * 40 + "1" + "]" * 40, r"^pred: expected at most 32 dimensions, got 40$"),
]


@pytest.mark.parametrize(("text", "message"), TEXT_ERRORS, ids=[repr(e[0])[:40] for e in TEXT_ERRORS])
def test_text_errors(text, message):
    raises(message, read_tensor, text, "pred")


def test_error_names_the_input():
    raises(r"^target: expected a number, got 'x' at character 2$", read_tensor, "[x]", "target")
    raises(r"^parameter weight: expected a number, got 'x' at character 2$", read_tensor, "[x]",
           inputs.param_name("weight"))
    with pytest.raises(InputError) as info:
        read_tensor("[x]", inputs.param_name("weight"))
    assert info.value.render("zh") == "参数 weight：期望一个数，但第 2 个字符处是 'x'"


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


def _built_before_the_count(*args, **kwargs):
    raise AssertionError("built before the words were counted")


def test_words_are_counted_before_anything_grows_with_them(monkeypatch):
    """Past limits.MAX_ELEMENTS, text is refused from a chunked count of its words: before any list of words,
    any array of tokens or json.loads."""
    from lossapp.inputs import parse

    monkeypatch.setattr(inputs.limits, "MAX_ELEMENTS", 6)
    monkeypatch.setattr(inputs.limits, "MAX_JSON_CHARS", 10)  # a longer object is read as text
    monkeypatch.setattr(parse, "_SCAN_CHUNK", 4)  # words run across chunks
    for built in ("_row_tokens", "_bracket_tokens", "_read_words", "_convert", "_skeleton_shape"):
        monkeypatch.setattr(parse, built, _built_before_the_count)
    monkeypatch.setattr(json, "loads", _built_before_the_count)
    for text in ("1 2 3\n4 5 6\n7", "1, 22, 333; 4, 5, 6; 7", "a b\n1 2\n3 4\n5 6\n7", "[[1, 2], [3, 4], [5, 6], [7]]",
                 "tensor([1, 2, 3, 4, 5, 6, 7])", "[1 2 3; 4 5 6; 7]", '{"pred": [1, 2, 3, 4, 5, 6, 7]}'):
        raises(r"^pred: expected at most 6 elements, got 7$", parse_text, text, "pred")


def test_comment_lines_and_a_header_are_not_counted(monkeypatch):
    from lossapp.inputs import parse

    monkeypatch.setattr(inputs.limits, "MAX_ELEMENTS", 4)
    monkeypatch.setattr(parse, "_SCAN_CHUNK", 5)
    text = "x, y\n# 1 2 3 4 5 6\n1, 2\n  \t# 7 8, 9\n3, 4\n"
    parsed = parse_text(text, "pred")
    assert parsed.values.tolist() == [[1, 2], [3, 4]]
    raises(r"^pred: expected at most 4 elements, got 6$", parse_text, text + "5, 6", "pred")
    monkeypatch.setattr(inputs.limits, "MAX_ELEMENTS", 5)
    raises(r"^pred: expected 2 values on every line \(like line 3\), got 1 on line 8$", parse_text, text + "# 1\n\n5",
           "pred")


def test_many_empty_lists_are_refused_before_their_skeleton(monkeypatch):
    """More lists than a tensor of its numbers can have (at most one per number at each depth) means an empty
    list: refused where the first one is, without the skeleton of every bracket."""
    from lossapp.inputs import parse

    cases = [("[1], [], []", r"^pred: expected a number in every list, got an empty list at character 6$"),
             ("[[1],\n [ , ],\n []]", r"empty cell at line 2, column 4$"),
             ("[[1],\n [  ],\n []]", r"^pred: expected a number in every list, got an empty list at line 2, column 2$"),
             ("[[], [], []]", r"^pred: expected at least one number, got an empty list$"),
             ("[[1, x], [], []]", r"^pred: expected a number, got 'x' at character 6$")]
    with monkeypatch.context() as mp:
        mp.setattr(parse, "_skeleton_shape", _built_before_the_count)
        for text, message in cases:
            raises(message, parse_text, text, "pred")
    # within the bound, an empty list is a row of another length
    raises(r"^pred: expected rows of equal length, got 0 entries at index 1 but 1 at index 0$", parse_text,
           "[[1], [], [2]]", "pred")


def test_long_json_objects_are_read_as_text(monkeypatch):
    """An object longer than limits.MAX_JSON_CHARS is not given to json.loads (~30 bytes of objects per
    character): the value of its one key is read like a list written alone, decimals as written."""
    monkeypatch.setattr(inputs.limits, "MAX_JSON_CHARS", 10)
    monkeypatch.setattr(json, "loads", _built_before_the_count)
    parsed = parse_text(' {"pred" : [[0.50, 1],\n [2, 3.0]] }\n', "pred")
    assert parsed.values.tolist() == [[0.5, 1], [2, 3]] and parsed.decimals.tolist() == [[2, -1], [-1, 1]]
    assert parse_text('{"a \\" b": 7}', "pred").values.tolist() == 7
    raises(r"""^pred: expected a JSON object holding exactly one list, such as \{"pred": \[0\.2, 0\.8\]\}, got """
           r"""'\{"a": \[1\], "b": \[2\]\}'$""", parse_text, '{"a": [1], "b": [2]}', "pred")
    raises(r"holding exactly one list", parse_text, '{"a": [1, 2]', "pred")
    raises(r"holding exactly one list", parse_text, '{a: [1, 2]}', "pred")
    raises(r"^pred: expected brackets nested at most 64 deep, got 71$", parse_text,
           '{"a": ' + "[" * 70 + "1" + "]" * 70 + "}", "pred")
    raises(r"^pred: expected at most 32 dimensions, got 40$", parse_text, '{"a": ' + "[" * 40 + "1" + "]" * 40 + "}",
           "pred")
    raises(r"^pred: expected numbers such as \[0\.2, 0\.8\], got empty text$", parse_text, '{"pred":    }', "pred")


_WORD_PIECES = st.sampled_from(["1", "-2.5", "1e3", "nan", "True", ",", ";", " ", "\t", "\n", "\r\n", "#", "# c 1\n",
                                "[", "]", "x", "\x1c", "  #", "\n#", "[]"])


@SETTINGS
@given(st.lists(_WORD_PIECES, max_size=30).map("".join), st.booleans())
def test_words_counted_in_small_chunks_match_str_split(text, comments):
    """The chunked word count, '#' comment lines blanked or not, is the count str.split() gives."""
    from lossapp.inputs import parse

    rows = re.sub(r"(?m)^[ \t]*#.*$", lambda m: " " * len(m.group()), text) if comments else text
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(parse, "_SCAN_CHUNK", 3)
        assert parse._count_words(text, 0, len(text), parse._ROW_SEPARATORS, comments) == len(
            rows.translate(str.maketrans(",;", "  ")).split())
        assert parse._count_words(text, 0, len(text), parse._BRACKET_SEPARATORS) == len(
            text.translate(str.maketrans("[],", "   ")).split())


def _outcome(text: str) -> tuple:
    try:
        parsed = parse_text(text, "pred")
    except InputError as exc:
        return ("error", str(exc))
    decimals = None if parsed.decimals is None else parsed.decimals.tolist()
    return (str(parsed.values.dtype), parsed.shape, str(parsed.values.tolist()), decimals)


_TEXT_PIECES = st.sampled_from(["1", "-2.5", "0.50", "1e3", "nan", "True", ",", ";", " ", "\t", "\n", "\r\n", "# c 1\n",
                                "a, b\n", "[", "]", "[1, 2]", "[[1], [2]]", "[]", "x", "1 2\n3 4\n", ",,", "tensor(",
                                ")", '{"a": ', "}", "\u3000"])


@SETTINGS
@given(st.lists(_TEXT_PIECES, max_size=25).map("".join))
def test_text_read_in_small_chunks_reads_the_same(text):
    """Every chunked pass carries its state across chunks: chunks of 1 and 3 characters read what one chunk
    reads (values, shape, decimals, or the same message); a JSON object read as text raises only InputError."""
    from lossapp.inputs import parse

    whole = _outcome(text)
    for chunk in (1, 3):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(parse, "_SCAN_CHUNK", chunk)
            assert _outcome(text) == whole
            mp.setattr(inputs.limits, "MAX_JSON_CHARS", 0)
            _outcome(text)


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
    assert inputs.limits.MAX_FILE_BYTES == 200 * 2**20


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
    raises(r"^expected a random kind such as randn, rand, softmax, log_softmax, randint, mask, got 'normal'$", random_tensor,
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


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.int64])
def test_require_sign_labels_says_whether_they_are_01(dtype: torch.dtype) -> None:
    for labels, zero_one in (([1, -1, 1], False), ([1, 1], False), ([-1, -1], False), ([0, 1, 1], True), ([0, 0], True),
                             ([1, 0], True), ([], False)):
        assert require_sign_labels(torch.tensor(labels, dtype=dtype), "target") is zero_one
    for mixed in ([-1, 0], [-1, 0, 1], [1, 0, -1]):  # 0 with −1, whichever is first
        raises(r"^target: expected labels -1/\+1 or 0/1, got both", require_sign_labels, torch.tensor(mixed, dtype=dtype),
               "target")
    raises(r"^target: expected labels -1/\+1 or 0/1, got 2 at index 1", require_sign_labels,
           torch.tensor([1, 2, 3], dtype=dtype), "target")
    if dtype.is_floating_point:
        for bad, shown in (([1.0, 0.5], "0.5"), ([-1.0, -0.5, 1.0], "-0.5"), ([1.0, math.nan], "nan"),
                           ([math.inf], "inf")):
            raises(rf"^target: expected labels -1/\+1 or 0/1, got {shown} at index", require_sign_labels,
                   torch.tensor(bad, dtype=dtype), "target")
        assert require_sign_labels(torch.tensor([-0.0, 1.0], dtype=dtype), "target") is True


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
        assert str(info.value).startswith("params: expected a JSON object") and has_zh(info.value)


# -- hostile input: nesting, number length, decimals, bounded messages and error paths ---------------

def test_nesting_limit_is_at_least_the_dimensions():
    assert inputs.limits.MAX_NESTING >= inputs.limits.MAX_DIMS


def test_json_nesting_limit(monkeypatch):
    """Checked by a linear scan before json.loads recurses (10,000 levels were a RecursionError)."""
    from lossapp.inputs import read_params

    at_limit = '{"w": ' + "[" * 63 + "1" + "]" * 63 + "}"  # the object and 63 lists: 64 levels
    assert read_params(at_limit)["w"] is not None
    raises(r"^params: expected brackets nested at most 64 deep, got 65$", read_params,
           '{"w": ' + "[" * 64 + "1" + "]" * 64 + "}")
    raises(r"^params: expected brackets nested at most 64 deep, got 10,000$", read_params,
           "[" * 10_000 + "]" * 10_000)
    raises(r"^pred: expected brackets nested at most 64 deep, got 10,001$", parse_text,
           '{"x": ' + "[" * 10_000 + "1" + "]" * 10_000 + "}", "pred")
    raises(r"got 39,000$", read_params, "{" * 39_000)
    monkeypatch.setattr(inputs.limits, "MAX_NESTING", 4)
    check(parse_text('{"x": [[[1]]]}', "pred"), [[[1]]], [[[-1]]], I64)
    raises(r"^pred: expected brackets nested at most 4 deep, got 5$", parse_text, '{"x": [[[[1]]]]}', "pred")
    # brackets inside string literals (escaped quotes and backslashes included) are not nesting
    assert read_params('{"a": "[[[[[[", "b\\\\": "\\"[[[[[", "c": [1]}') == {"a": "[[[[[[", "b\\": '"[[[[[', "c": [1]}
    raises(r"got 5$", read_params, '{"a": "\\\\", "b": [[[[1]]]]}')  # '\\' ends its string: the lists count


def test_bracket_grammar_and_lists_nested_deep():
    """Nesting in the bracket grammar and in Python lists is dimensions: MAX_DIMS, found without recursion."""
    raises(r"^pred: expected at most 32 dimensions, got 10000$", parse_text, "[" * 10_000 + "1" + "]" * 10_000, "pred")
    deep = 0.5
    for _ in range(10_000):
        deep = [deep]
    raises(r"^pred: expected at most 32 dimensions, got more$", read_tensor, deep, "pred")
    raises(r"^pred: expected at most 32 dimensions, got more$", read_tensor, tuple([deep]), "pred")
    looped: list = []
    looped.append(looped)
    raises(r"got more$", read_tensor, looped, "pred")


def test_number_length_limit(monkeypatch):
    from lossapp.inputs import read_params

    limit = inputs.limits.MAX_NUMBER_CHARS
    assert parse_text("[0." + "1" * (limit - 2) + ", 1]", "pred").values.shape == (2,)  # at the limit
    raises(rf"^pred: expected a number of at most {limit:,} characters, got {limit + 1:,} characters at character 5$",
           parse_text, "[1, 0." + "1" * (limit - 1) + "]", "pred")
    raises(rf"got {limit + 1:,} characters at line 2, column 1$", parse_text, "1 2\n" + "3" * (limit + 1), "pred")
    raises(rf"got {limit + 1:,} characters at character 8$", parse_text, '{"x": [' + "1" * (limit + 1) + "]}", "pred")
    raises(rf"^params: expected a number of at most {limit:,} characters, got {limit + 1:,} characters at character 7$",
           read_params, '{"a": ' + "1" * (limit + 1) + "}")
    raises(rf"got {limit + 1:,} characters at index 1$", read_tensor, ["1", "2" * (limit + 1)], "pred")
    assert float(read_params('{"a": ' + "1" * limit + "}")["a"]) == float("1" * limit)
    monkeypatch.setattr(inputs.limits, "MAX_NUMBER_CHARS", 5)
    assert parse_text("[12345]", "pred").values.tolist() == [12345]
    raises(r"^pred: expected a number of at most 5 characters, got 6 characters at character 2$", parse_text,
           "[123456]", "pred")
    raises(r"got 6 characters at character 7$", parse_text, '{"a": 123456}', "pred")
    assert read_params('{"a": "123456789"}') == {"a": "123456789"}  # text, not a number


def test_numbers_beyond_python_limits_are_values_not_crashes(monkeypatch):
    """int() refuses 4,300 digits and more: such a number is beyond float64, so it is ±inf like 1e999."""
    from lossapp.inputs import read_params

    monkeypatch.setattr(inputs.limits, "MAX_NUMBER_CHARS", 10_000)  # whatever the limit, past int()'s own
    assert read_params('{"beta": ' + "1" * 5000 + "}") == {"beta": math.inf}
    assert parse_text('{"x": [' + "9" * 5000 + ", 1]}", "pred").values[0] == math.inf
    for text in ("1" * 5000, "[" + "9" * 5000 + ", 1]", "[-" + "9" * 5000 + "]", "[1e" + "9" * 5000 + "]"):
        parsed = parse_text(text, "pred")
        assert parsed.values.dtype == F64 and bool(torch.isinf(parsed.values).any())
    raises(r"^pred: expected numbers within float64's range \(±1\.8e308\), got an integer with more than 308 "
           r"digits at index 0$", read_tensor, [10**400, 1], "pred")
    raises(r"more than 308 digits at index 1$", read_tensor, ["0.5", -(10**400)], "pred")
    assert read_tensor([10**300, 1], "pred").values[0] == 1e300


def test_decimals_limit(monkeypatch):
    """Decimals are bookkeeping, never an error: beyond limits.MAX_DECIMALS they are recorded as the limit."""
    limit = inputs.limits.MAX_DECIMALS
    assert number_decimals(f"1e-{limit}") == limit
    assert number_decimals(f"1e-{limit + 1}") == limit
    assert number_decimals("0." + "1" * 5000) == limit
    assert number_decimals("3e-9999999999999999999") == limit
    assert number_decimals("1e-" + "9" * 5000) == limit and number_decimals("1.5e" + "9" * 5000) == 0
    assert number_decimals("1.5e+00000000000000000002") == 0 and number_decimals("1.5e-0000000000001") == 2
    parsed = parse_text("[3e-9999999999999999999, 1]", "pred")
    assert parsed.values.tolist() == [0.0, 1.0] and parsed.decimals.tolist() == [limit, -1]
    monkeypatch.setattr(inputs.limits, "MAX_DECIMALS", 5)
    assert number_decimals("0.12345") == 5 and number_decimals("0.123456") == 5


def test_extreme_decimals_compute_and_check():
    import lossapp

    assert lossapp.compute("mse", "[3e-9999999999999999999, 1]", "[0, 1]").value == 0.0
    for claimed in ("0.5", "0.0", "0"):
        try:
            lossapp.check("mse", "[3e-9999999999999999999, 1]", "[0, 1]", claimed=claimed)
        except InputError as exc:
            assert has_zh(exc)


def test_values_reported_as_written():
    """The offending value is shown before any lossy cast (1e30 as int64 was -9.22337e+18) and without :g's
    rounding (1234567 was 1.23457e+06)."""
    import lossapp

    raises(r"got 1e\+30 at index 0$", require_class_indices, torch.tensor([1e30], dtype=F64), 2)
    raises(r"got -1e\+30 at index 1$", require_class_indices, torch.tensor([0, -1e30], dtype=F64), 2, ignore_index=-100)
    raises(r"^target: expected integer class indices such as \[0, 2, 1\], got 1e\+30 at index 0$",
           require_class_indices, torch.tensor([1e30], dtype=F64), None)
    raises(r"got 9\.223372036854776e\+18 at index 1$", require_class_indices, torch.tensor([0, 2.0**63], dtype=F64), None)
    assert require_class_indices(torch.tensor([-(2.0**63)], dtype=F64), None).tolist() == [-(2**63)]
    raises(r"got 1234567 at index 0$", require_class_indices, torch.tensor([1234567]), 3)
    raises(r"^target: expected class indices in \[0, 2\) or ignore_index -100 for C = 2 classes, got 1e\+30 at index 0$",
           lossapp.compute, "cross_entropy", "[[1, 2]]", "[1e30]")
    raises(r"got 1e\+30 at index 0", lossapp.compute, "nll", "[[-1, -2]]", "[1e30]")
    raises(r"got 1\.0000001 at index 1", require_probabilities, torch.tensor([0.5, 1.0000001], dtype=F64), "pred")
    raises(r"got 1\.1 at index 0", require_probabilities, torch.tensor([1.1]), "pred")  # float32: its own repr
    raises(r"got -0\.5$", require_binary, torch.tensor(-0.5, dtype=torch.float16), "target")
    raises(r"got a 0-d scalar \(1234567\)$", require_dims, torch.tensor(1234567.0, dtype=F64), "pred")
    # an ignore_index no int64 can equal is not compared (it overflowed torch's comparison)
    assert require_class_indices(torch.tensor([0, 1]), 2, ignore_index=10**30).tolist() == [0, 1]
    raises(r"got 5 at index 0", require_class_indices, torch.tensor([5]), 2, ignore_index=-(10**30))


def test_messages_quote_bounded_excerpts():
    limit = inputs.limits.MAX_QUOTED_CHARS
    cases = [
        ("[1, " + "x" * 100_000 + "]", r"^pred: expected a number, got 'x+'… \(100,000 characters\) at character 5$"),
        ("torch.randn(" + "1, " * 50_000 + ")", r"got the random spec 'torch\.randn\(1, .+'… \(150,013 characters\)"),
        ("tensor([1], " + "x" * 100_000 + ")", r"after the values in tensor\(\.\.\.\), got ', x+'… \(100,002 characters\)$"),
        ("{" + ", ".join(f'"k{i}": 1' for i in range(10_000)) + "}", r"keys 'k0', 'k1', .+, … \(10,000 keys\)$"),
        ('{"' + "k" * 100_000 + '": 1, "b": 2}', r"keys 'k+'… \(100,000 characters\), … \(2 keys\)$"),
    ]
    for text, message in cases:
        found = raises(message, parse_text, text, "pred")
        assert len(found) < 3 * limit, found[:200]
    found = raises(r"^pred: expected a number, got 'y+'… \(50,000 characters\) at index 1$", read_tensor,
                   ["1", "y" * 50_000], "pred")
    assert len(found) < 2 * limit


def test_quote_bounds_escapes_too():
    from lossapp.inputs.errors import quote

    limit = inputs.limits.MAX_QUOTED_CHARS
    assert quote("abc") == "'abc'" and quote("x" * limit) == repr("x" * limit)
    assert quote("x" * (limit + 1)) == repr("x" * limit) + f"… ({limit + 1:,} characters)"
    nuls = quote("\x00" * 100_000)  # repr writes each as 4 characters
    assert nuls.endswith("'… (100,000 characters)") and len(nuls) <= limit + 30
    assert len(quote("\x00" * limit)) <= limit + 30


@pytest.mark.parametrize("text", ["", "abc", "x" * 400, "\x00" * 120 + "abc", "é" * 301])
def test_quote_span_is_quote_of_the_slice(text):
    from lossapp.inputs.errors import quote, quote_span

    padded = "<<" + text + ">>"
    assert quote_span(padded, 2, 2 + len(text)) == quote(text)
    assert quote_span(padded, 2, 2 + len(text), limit=10) == quote(text, 10)


def test_read_params_inputs(monkeypatch):
    from lossapp.inputs import read_params

    assert read_params(b'{"beta": 0.5}') == {"beta": 0.5}
    assert read_params(types.MappingProxyType({"beta": 0.5})) == {"beta": 0.5}
    raises(r'^params: expected a JSON object such as \{"beta": 0\.5\}, got int$', read_params, 5)
    raises(r"^params: expected UTF-8 text, got undecodable bytes at byte 0$", read_params, b"\xff")
    raises(r"\(Unterminated string starting at character 7\)$", read_params, '{"a": "x')
    raises(r"got Unterminated string starting at line 1, column 7$", parse_text, '{"a": "x', "pred")
    monkeypatch.setattr(inputs.limits, "MAX_TEXT_CHARS", 20)
    assert read_params('{"beta": 0.5}       ') == {"beta": 0.5}  # 20 characters
    raises(r"^params: expected at most 20 characters, got 21$", read_params, '{"beta": 0.5}        ')


def test_unclosed_list_inside_a_printout():
    raises(r"^pred: expected balanced brackets, got 1 unclosed '\[' \(the first at character 8\)$", parse_text,
           "tensor([0.1, 0.2)", "pred")


def test_odd_python_objects():
    check(read_tensor(np.array(["0.5", "2"], dtype=object), "pred"), [0.5, 2], [1, -1], F64)
    check(read_tensor(np.array([b"1.5", b"2"]), "pred"), [1.5, 2], [1, -1], F64)
    check(read_tensor([np.array(1.5), "2"], "pred"), [1.5, 2], [1, -1], F64)
    check(read_tensor([torch.tensor(1.0), torch.tensor(2.0)], "pred"), [1.0, 2.0], [1, 1], F64)
    check(read_tensor([-0.0, 0.0], "pred"), [-0.0, 0.0], [1, 1], F64)
    assert math.copysign(1, read_tensor([-0.0], "pred").values[0]) == -1
    raises(r"^pred: expected rows of equal length, got 1 entry at index 1 but 2 at index 0$", read_tensor,
           np.array([[1, 2], [3]], dtype=object), "pred")
    raises(r"^pred: expected numbers, got dict at index 1$", read_tensor, [1, {}], "pred")
    raises(r"^pred: expected numbers, got set at index \(0, 1\)$", read_tensor, [[1, set()]], "pred")
    odd_class = type("a class with spaces " * 100, (), {})
    raises(r"^pred: expected numbers, got object at index 0$", read_tensor, [odd_class()], "pred")
    raises(r"^pred: expected text, a list, a numpy array or a torch tensor, got object$", read_tensor, odd_class(),
           "pred")
    raises(r"^pred: expected real numbers, got complex at index 0$", read_tensor, [1j, 10**400], "pred")
    raises(r"^pred: expected real numbers, got a complex tensor \(complex128\)$", read_tensor, [1j, 2], "pred")
    raises(r"^pred: expected at least one number, got an empty tensor of shape \(0,\)$", read_tensor,
           np.array([], dtype=object), "pred")
    raises(r"got an empty tensor of shape \(2, 0\)$", read_tensor, [[], []], "pred")

    class Broken:
        def __array__(self, dtype=None, copy=None):
            raise RuntimeError("no array")

    raises(r"^pred: expected a rectangular array of numbers, got 'no array'$", read_tensor, Broken(), "pred")
    # a long string among many short ones: numpy would size every cell by it (10 MB x 1,001 cells)
    start = time.perf_counter()
    raises(r"^pred: expected a number, got 'a+'… \(10,000,000 characters\) at index 0$", read_tensor,
           ["a" * 10_000_000] + ["1"] * 1000, "pred")
    assert time.perf_counter() - start < 10


@pytest.mark.filterwarnings("ignore::UserWarning")  # prototype layouts and dtypes say so
def test_odd_torch_tensors():
    raises(r"^pred: expected a tensor of a numeric dtype such as float32 or int64, got int4$", read_tensor,
           torch.empty(3, dtype=torch.int4), "pred")
    raises(r"got uint1$", read_tensor, torch.empty(3, dtype=torch.uint1), "pred")
    nested = torch.nested.nested_tensor([torch.zeros(2), torch.zeros(3)])
    raises(r"^pred: expected a tensor with one shape, got a nested tensor \(pad it with \.to_padded_tensor\(0\)\)$",
           read_tensor, nested, "pred")
    dense = torch.tensor([[0.0, 1.5], [2.0, 0.0]])
    for layout in (dense.to_sparse_csr(), dense.to_sparse_csc(), dense.to_mkldnn()):
        assert torch.equal(read_tensor(layout, "pred").values, dense.double())
    for dtype in (torch.float8_e4m3fn, torch.float8_e5m2, torch.complex32):
        try:
            read_tensor(torch.zeros(2, dtype=dtype), "pred")
        except InputError as exc:
            assert has_zh(exc)


def test_unicode_spaces_and_line_separators():
    check(parse_text("[1,\u20032,\u30003]", "pred"), [1, 2, 3], [-1] * 3, I64)
    check(parse_text("1 2\u20283 4", "pred"), [[1, 2], [3, 4]], [[-1] * 2] * 2, I64)
    raises(r"^pred: expected a number, got '\\x002' at character 4$", parse_text, "[1,\x002]", "pred")
    raises(r"^pred: expected a number, got '\\ud800' at character 4$", parse_text, "[1,\ud800]", "pred")
    raises(r"got '١٢' at character 2$", parse_text, "[١٢, 3]", "pred")


def _reference_nesting(text: str) -> tuple[int, int | None, int, int | None]:
    """The bracket scan written as the obvious loop with a stack."""
    stack: list[int] = []
    deepest, unmatched = 0, None
    for i, c in enumerate(text):
        if c == "[":
            stack.append(i)
            deepest = max(deepest, len(stack))
        elif c == "]":
            if not stack and unmatched is None:
                unmatched = i
            elif stack:
                stack.pop()
    return deepest, unmatched, len(stack), stack[0] if stack else None


@SETTINGS
@given(st.text(alphabet="[]1, \n", max_size=60))
def test_bracket_scan_in_small_chunks_matches_a_stack(text):
    from lossapp.inputs import parse

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(parse, "_SCAN_CHUNK", 3)
        nesting = parse._scan_brackets(text, 0, len(text))
    deepest, unmatched, unclosed, first = _reference_nesting(text)
    assert nesting.unmatched_close == unmatched
    if unmatched is None:
        assert (nesting.deepest, nesting.unclosed) == (deepest, unclosed)
        assert unclosed == 0 or nesting.first_unclosed == first


def _reference_json_scan(text: str) -> tuple[int, list[int]]:
    """Deepest nesting and the lengths of the number runs outside JSON string literals, as the obvious loop."""
    depth = deepest = run = 0
    runs: list[int] = []
    in_string = escaped = False
    for c in text + " ":
        if in_string:
            in_string = escaped or c != '"'
            escaped = not escaped and c == "\\"
            continue
        in_string = c == '"'
        depth += (c in "[{") - (c in "]}")
        deepest = max(deepest, depth)
        if c in "0123456789+-.eE":
            run += 1
        elif run:
            runs, run = [*runs, run], 0
    return deepest, runs


_JSON_TOKENS = st.one_of(st.sampled_from(list("[]{}1e:, ")), st.text(alphabet='[]{}1e"\\', max_size=6).map(json.dumps))


@SETTINGS
@given(st.lists(_JSON_TOKENS, max_size=30).map("".join))
def test_json_scan_in_small_chunks_matches_a_loop(text):
    from lossapp.inputs import parse

    deepest, runs = _reference_json_scan(text)
    long_runs = [n for n in runs if n > 4]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(parse, "_SCAN_CHUNK", 3)
        mp.setattr(inputs.limits, "MAX_NESTING", 3)
        mp.setattr(inputs.limits, "MAX_NUMBER_CHARS", 4)
        try:
            parse.load_json(text, "params")
            assert deepest <= 3 and not long_runs
        except json.JSONDecodeError:
            assert deepest <= 3 and not long_runs
        except InputError as exc:
            if deepest > 3:
                assert str(exc) == f"params: expected brackets nested at most 3 deep, got {deepest:,}"
            else:
                assert long_runs and f"got {long_runs[0]} characters at " in str(exc), str(exc)


# Peak memory is read from Linux's VmHWM, reset to the current size by writing 5 to /proc/self/clear_refs
# before each case (ru_maxrss is no use: a child starts with the peak of the process it was forked from).
_MEASURE = r"""
import json, re, sys, time
from lossapp.inputs import InputError, parse_text, read_params, read_tensor
# the limits these cases were written for (the mechanism, not the numbers, is under test)
from lossapp.inputs import limits
limits.MAX_ELEMENTS, limits.MAX_FILE_BYTES, limits.MAX_DECOMPRESSED_BYTES = 2_000_000, 50 * 2**20, 50 * 2**20

def status_mb(key):
    with open("/proc/self/status") as f:
        return int(re.search(key + r":\s+(\d+) kB", f.read()).group(1)) / 1024

CASES = {}  # _measure's cases
parse_text("[[0.5, 1]]", "pred"), parse_text("1 2\n3 4", "pred"), read_params('{"a": 1}')  # imports, caches
for label, (fn, make, expected) in CASES.items():
    arg = make()  # built here: the input itself is not counted
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before, start = status_mb("VmRSS"), time.perf_counter()
    try:
        fn(arg) if fn is read_params else fn(arg, "pred")
        message = "no error"
    except InputError as exc:
        message = str(exc)
    print(json.dumps({"label": label, "seconds": time.perf_counter() - start, "growth_mb": status_mb("VmHWM") - before,
                      "found": expected in message, "message": message[:200]}), flush=True)
    del arg
"""


def _measure(cases: str) -> list[dict]:
    """Runs _MEASURE in a fresh process on CASES, a dict written as Python: label -> (function, a lambda that
    builds the input, a part of the expected message)."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    script = _MEASURE.replace("CASES = {}", f"CASES = {cases}", 1)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


def _check_bounded(results: list[dict], cases: str, seconds: float) -> None:
    report = "\n".join(f"{r['label']}: +{r['growth_mb']:.1f} MB, {r['seconds']:.2f} s" for r in results)
    assert len(results) == cases.count("lambda"), report
    for r in results:
        assert r["found"], f"{r['label']}: {r['message']}"
        assert r["seconds"] < seconds, report
        assert r["growth_mb"] < 50, report


N = 5_000_000
_ERROR_CASES = f"""{{
    "unclosed": (parse_text, lambda: "[" * {N}, "unclosed"),
    "unclosed after lists": (parse_text, lambda: "[]" * {N // 2} + "[", "1 unclosed"),
    "unmatched at the end": (parse_text, lambda: "[1]" + " " * {N} + "]", "no matching"),
    "json nested": (parse_text, lambda: '{{"x": ' + "[" * {N}, "nested at most"),
    "json string": (parse_text, lambda: '{{"x": "' + '[\\\\"' * {N // 3}, "object holding exactly one list"),
    "params nested": (read_params, lambda: "[" * {N}, "nested at most"),
    "params long number": (read_params, lambda: '{{"a": ' + "1" * {N} + "}}", "characters at character 7"),
    "long number": (parse_text, lambda: "1" * {N}, "characters at character 1"),
    "long word": (parse_text, lambda: "[" + "x" * {N} + "]", "expected a number"),
    "comments only": (parse_text, lambda: "#\\n" * {N // 2}, "empty text"),
    "long string in a list": (read_tensor, lambda: ["1" * {N}, "2"], "characters at index 0"),
}}"""


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="peak memory is read from Linux's /proc")
def test_error_paths_are_linear_and_bounded():
    """5,000,000-character inputs that fail: each error comes in seconds, and peak memory grows by less than
    50 MB over the input itself (39,000,000 unclosed '[' took 3 GB and 30 s)."""
    _check_bounded(_measure(_ERROR_CASES), _ERROR_CASES, seconds=20)


M = 39_000_000
_OVER_LIMIT_CASES = f"""{{
    "csv of numbers": (parse_text, lambda: "5, " * {M // 3}, "expected at most 2,000,000 elements, got 13,000,000"),
    "csv lines": (parse_text, lambda: "a,b\\n# 1 2\\n" + "5,5\\n" * {M // 4 - 3}, "elements, got 19,499,994"),
    "one long line, then more": (parse_text, lambda: "5 " * {M // 2 - 2} + "\\n5", "elements, got 19,499,999"),
    "lists of numbers": (parse_text, lambda: "[" + "5, " * {M // 3 - 1} + "5]", "elements, got 13,000,000"),
    "empty lists": (parse_text, lambda: "[], " * {M // 4}, "expected at least one number, got an empty list"),
    "empty lists and a number": (parse_text, lambda: "[1], " + "[], " * {M // 4 - 2},
                                 "expected a number in every list, got an empty list at character 6"),
    "commas": (parse_text, lambda: "[1" + "," * {M - 3} + "]", "got an empty cell at character 4"),
    "json object of numbers": (parse_text, lambda: '{{"a": [' + "5, " * {M // 3 - 3} + "5]}}", "got 12,999,998"),
    "json object of empty lists": (parse_text, lambda: '{{"a": [' + "[], " * {M // 4 - 3} + "[]]}}",
                                   "expected at least one number, got an empty list"),
}}"""


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="peak memory is read from Linux's /proc")
def test_over_limit_text_is_refused_in_bounded_memory():
    """39,000,000-character texts of more than limits.MAX_ELEMENTS numbers (a 39 MB CSV of numbers peaked at
    ~1.1 GB), of empty lists or of commas (~30 bytes per character): refused from chunked counts and scans,
    peak memory growing by less than 50 MB over the text itself."""
    _check_bounded(_measure(_OVER_LIMIT_CASES), _OVER_LIMIT_CASES, seconds=30)


# -- fuzz: only InputError may escape ----------------------------------------------------------------

_PIECES = st.sampled_from([
    "[", "]", ",", " ", "\n", ";", "0.5", "1", "-2e3", "1e-9999999999", "nan", "inf", "True", "tensor(", ")",
    "array(", "dtype=torch.float32", "dtype=complex64", "{", "}", '"', ":", "\\", "x", "#", "\x00", "\ud800",
    "\u2003", "١", "²", "...", "_", "9" * 5000, "\t", "=", "'", "e", ".", "+", "-", "requires_grad=True",
    "Parameter containing:", "pred =", "１", "，", "\u2028", "randn(2)", "1+2j", "0x1", '"a"', "null", "-0.0", "1e309",
])
_TEXTS = st.one_of(st.text(max_size=40), st.lists(_PIECES, max_size=30).map("".join))
_LEAVES = st.one_of(
    st.floats(), st.integers(-(10**400), 10**400), st.booleans(), st.none(), st.text(max_size=6), st.binary(max_size=3),
    st.complex_numbers(), st.sampled_from([np.float32(0.5), np.int8(3), np.str_("1.5"), np.array(2.0), -0.0,
                                           torch.tensor(1.0), np.datetime64("2020-01-01"), "1e-9999999999"]),
    st.builds(dict), st.builds(set), st.builds(object))
_OBJECTS = st.recursive(_LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=3), st.tuples(inner, inner)),
                        max_leaves=12)


def _only_input_error(fn, *args) -> None:
    try:
        fn(*args)
    except InputError as exc:
        assert len(str(exc)) < 2000 and has_zh(exc), str(exc)[:300]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXTS)
def test_fuzz_text_raises_only_input_error(text):
    from lossapp.inputs import read_params

    _only_input_error(parse_text, text, "pred")
    _only_input_error(read_params, text)
    _only_input_error(read_params, "{" + text + "}")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_OBJECTS)
def test_fuzz_objects_raise_only_input_error(value):
    _only_input_error(read_tensor, value, "pred")
    if isinstance(value, list | tuple):
        _only_input_error(read_tensor, np.asarray(value, dtype=object), "pred")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([np.float16, np.float32, np.float64, np.int8, np.uint64, np.bool_, np.complex64, object, "U3",
                        "S3", "M8[D]", np.longdouble, ">f8", "V4"]),
       st.lists(st.integers(0, 3), max_size=3))
def test_fuzz_arrays_raise_only_input_error(dtype, shape):
    array = np.zeros(shape, dtype=dtype)
    _only_input_error(read_tensor, array, "pred")
    if array.dtype.kind in "fiu" and array.dtype.isnative and array.dtype not in (np.longdouble, np.uint64):
        _only_input_error(read_tensor, torch.from_numpy(array), "pred")


def test_random_bounds_beyond_int64_are_an_input_error() -> None:
    message = raises(r"expected low and high within the range of int64", random_tensor, "randint", (2,), 0, 10**30)
    assert len(message) < 300
    raises(r"within the range of int64", random_inputs, 0, ["randint(0, 99999999999999999999999, (2,))"])
    assert random_tensor("randint", (3,), 0, 2**62).shape == (3,)  # large but representable: fine


def test_every_limit_is_documented_in_the_readme() -> None:
    readme = (Path(inputs.__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Limits and safety"):]
    names = [n for n in vars(inputs.limits) if n.isupper() and n != "DECIMALS_MAX_ELEMENTS"]
    assert len(names) >= 20
    missing = [n for n in names if f"`{n}`" not in table]
    assert not missing, f"limits missing from README's table: {missing}"
    assert "| `MAX_ELEMENTS` | 20,000,000 |" in table and inputs.limits.MAX_ELEMENTS == 20_000_000
    assert "| `MAX_FILE_BYTES` | 200 MiB |" in table and inputs.limits.MAX_FILE_BYTES == 200 * 2**20


def test_log_softmax_spec_draws_log_probabilities():
    (logp,) = random_inputs(2, ["log_softmax(4, 3)"])
    torch.manual_seed(2)
    assert torch.equal(logp, torch.randn(4, 3).log_softmax(dim=1))
    assert (logp <= 0).all() and torch.allclose(logp.exp().sum(dim=1), torch.ones(4))
    assert torch.allclose(random_tensor("log_softmax", 5, seed=1).exp().sum(), torch.tensor(1.0))


@pytest.mark.parametrize("spec", ["randn(2, 3)", "rand(4)", "softmax(2, 3)", "log_softmax(2, 3, 4)", "mask(4)",
                                  "randint(0, 3, (2,))", "log_softmax(5)", "randn(3, dtype=torch.float64)"])
def test_spec_torch_code_draws_what_the_spec_draws(spec):
    code = spec_torch_code(spec)
    assert code.startswith("torch.")
    namespace = {"torch": torch}
    torch.manual_seed(11)
    exec(f"x = {code}", namespace)  # our own generated code, checked against the generator
    assert torch.equal(namespace["x"], random_inputs(11, [spec])[0])


@pytest.mark.parametrize(("kind", "check"), [
    ("values", lambda x: x.is_floating_point()),
    ("probabilities", lambda x: ((x >= 0) & (x < 1)).all()),
    ("distribution", lambda x: torch.allclose(x.sum(dim=1), torch.ones(2))),
    ("log_probabilities", lambda x: (x <= 0).all() and torch.allclose(x.exp().sum(dim=1), torch.ones(2))),
    ("binary", lambda x: set(x.flatten().tolist()) <= {0, 1}),
    ("classes", lambda x: x.dtype == torch.int64 and ((x >= 0) & (x < 3)).all()),
])
def test_generator_spec_makes_a_valid_input_of_each_kind(kind, check):
    (x,) = random_inputs(0, [generator_spec(kind, (2, 3), 3)])
    assert x.shape == (2, 3) and check(x)
    with pytest.raises(InputError):
        generator_spec("nonsense", (2,))
