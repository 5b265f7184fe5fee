"""lossapp.inputs.errors.fields_at_fault: which input an InputError is about, from its id and fields."""

from __future__ import annotations

import pytest

import lossapp
from lossapp.inputs import InputError
from lossapp.inputs.errors import fields_at_fault


def _error(call) -> InputError:
    with pytest.raises(InputError) as info:
        call()
    return info.value


@pytest.mark.parametrize(("call", "fields"), [
    (lambda: lossapp.compute("bce", "[0.2, x]", "[1, 0]"), ("pred",)),
    (lambda: lossapp.compute("bce", "[0.2, 0.3]", "[1, y]"), ("target",)),
    (lambda: lossapp.compute("bce", "[0.2, 0.3]", "[1, 0, 0]"), ("pred", "target")),
    (lambda: lossapp.compute("cross_entropy", "[0.2, 0.3]", "[[1, 0, 0]]"), ("target",)),
    (lambda: lossapp.compute("smooth_l1", "[0.1, 0.2]", "[1, 0]", beta=-1), ("param:beta",)),
    (lambda: lossapp.compute("cross_entropy", "[[1, 2], [3, 4]]", "[0, 1]", weight="[1, x]"), ("param:weight",)),
    (lambda: lossapp.check("bce", "[0.2]", "[1]", claimed="abc"), ("claimed",)),
    (lambda: lossapp.confusion(-1, 2, 3, 4), ("tp",)),
    (lambda: lossapp.confusion(20, 5, 10, metric="mcc"), ("tn", "metric")),
    (lambda: lossapp.confusion(20, 5, 10, 65, metric="bogus"), ("metric",)),
    # a per-class parameter of another number of classes than the input's (softmax_focal's example α has 3)
    (lambda: lossapp.compute("softmax_focal", "[[1, 2], [0.5, 0.1]]", "[0, 1]", alpha="[0.25, 0.5, 0.25]"),
     ("param:alpha",)),
    (lambda: lossapp.compute("nll", "[[-1, -2], [-0.5, -0.1]]", "[0, 1]", weight="[1, 2, 3]"), ("param:weight",)),
    (lambda: lossapp.compute("multi_margin", "[[1, 2], [0.5, 0.1]]", "[0, 1]", weight="[1, 2, 3]"),
     ("param:weight",)),
    (lambda: lossapp.compute("bce", "[0.2, 0.3]", "[1, 0]", weight="[1, 2, 3]"), ("param:weight",)),
    (lambda: lossapp.compute("bce_with_logits", "[0.2, 0.3]", "[1, 0]", pos_weight="[1, 2, 3]"),
     ("param:pos_weight",)),
    (lambda: lossapp.compute("focal", "[0.2, 0.3]", "[1, 0]", weight="[1, 2, 3]"), ("param:weight",)),
])
def test_the_input_at_fault(call, fields) -> None:
    assert fields_at_fault(_error(call)) == fields


def test_an_error_about_no_input_names_none() -> None:
    assert fields_at_fault(_error(lambda: lossapp.compute("no_such_loss", "[1]", "[1]"))) == ()
    assert fields_at_fault(InputError("a plain message")) == ()


def test_a_per_class_parameter_of_the_wrong_length_says_both_lengths_in_each_language() -> None:
    error = _error(lambda: lossapp.compute("softmax_focal", "[[1, 2], [0.5, 0.1]]", "[0, 1]",
                                           alpha="[0.25, 0.5, 0.25]"))
    assert str(error).startswith("parameter alpha: expected one value per class, shape (2,) for C = 2 classes")
    assert "got shape (3,)" in str(error)
    assert error.render("zh").startswith("参数 alpha：")  # no English word in the 中文 message
