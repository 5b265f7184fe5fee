"""lossapp.inputs.constraints: the declarative parameter constraints and the one function that validates them."""

from __future__ import annotations

from numbers import Integral, Real

import pytest
import torch

import lossapp
from lossapp.i18n import has_zh
from lossapp.inputs import InputError, read_params
from lossapp.inputs.constraints import Boolean, Constraint, Interval, Options, Tensor, validate_params
from lossapp.registry import Param


def _message(param: Param, raw: object) -> str:
    with pytest.raises(InputError) as info:
        param.parse(raw)
    assert has_zh(info.value) and info.value.render("zh") != str(info.value)
    return str(info.value)


@pytest.mark.parametrize(("closed", "text", "inside", "outside"), [
    ("both", "[0, 1]", (0, 1), (-0.5, 1.5)),
    ("left", "[0, 1)", (0, 0.5), (1,)),
    ("right", "(0, 1]", (1, 0.5), (0,)),
    ("neither", "(0, 1)", (0.5,), (0, 1)),
])
def test_interval_ends_are_closed_as_declared(closed: str, text: str, inside: tuple, outside: tuple) -> None:
    param = Param("x", 0.5, Interval(Real, 0, 1, closed=closed), "d")
    assert param.constraint.text() == text
    for value in inside:
        assert param.parse(value) == value
    for value in outside:
        assert _message(param, value) == f"parameter x: expected a value in {text}, got {value}"


def test_open_ended_intervals_and_integers() -> None:
    positive = Param("x", 1.0, Interval(Real, 0, None, closed="neither"), "d")
    assert positive.parse("1e300") == 1e300 and (positive.low, positive.high, positive.kind) == (0, None, "float")
    assert _message(positive, "0") == "parameter x: expected a value in (0, ∞), got 0"
    count = Param("n", 1, Interval(Integral, 1, None), "d")
    assert count.parse("7") == 7 and count.kind == "int"
    assert _message(count, " 0 ") == "parameter n: expected a value in [1, ∞), got 0"
    assert _message(count, "1.5") == "parameter n: expected an integer, got '1.5'"
    with pytest.raises(TypeError):
        Interval(float, 0, 1)
    with pytest.raises(ValueError, match="closed"):
        Interval(Real, 0, 1, closed="open")


def test_options_list_their_words_in_order() -> None:
    assert Options(("b", "a")).choices == ("b", "a") and Options({"sum", "mean"}).choices == ("mean", "sum")
    reduction = Param("reduction", "mean", Options({"mean", "sum"}), "d")
    assert reduction.parse(" SUM ") == "sum" and reduction.kind == "choice"
    assert _message(reduction, "avg") == "parameter reduction: expected one of mean, sum, got 'avg'"
    activation = Param("activation", "none", Options(("none", "sigmoid")), "d")
    assert activation.parse(None) == "none" and activation.parse("None") == "none"  # a value, not "nothing"


def test_options_whose_words_are_numbers_take_the_numbers() -> None:
    base = Param("log_base", "e", Options(("e", "2", "10")), "d")
    assert base.parse(2) == "2" and base.parse(10.0) == "10" and base.parse(" 2 ") == "2" and base.parse("E") == "e"
    assert _message(base, 3) == "parameter log_base: expected one of e, 2, 10, got 3"
    assert _message(base, 2.5) == "parameter log_base: expected one of e, 2, 10, got 2.5"
    assert _message(base, True) == "parameter log_base: expected one of e, 2, 10, got True"
    assert _message(Param("reduction", "mean", Options({"mean", "sum"}), "d"), 1) == \
        "parameter reduction: expected one of mean, sum, got 1"


def test_nothing_given_is_the_default_only_when_it_is_off() -> None:
    assert Param("w", None, Tensor(), "d").parse("null") is None
    assert Param("a", 0.25, Tensor(scalar=Interval(Real)), "d").parse("") is None
    assert Param("f", None, Interval(Real), "d").parse(" none ") is None
    assert _message(Param("f", 1.0, Interval(Real), "d"), "") == "parameter f: expected a value, got nothing"
    assert _message(Param("b", True, Boolean(), "d"), None) == "parameter b: expected a value, got nothing"


def test_tensor_constraints() -> None:
    weight = Param("weight", None, Tensor(), "d")
    assert weight.kind == "tensor" and weight.parse([1, 2]).dtype == torch.float64
    alpha = Param("alpha", None, Tensor(scalar=Interval(Real, -1.0, 1.0)), "d")
    assert (alpha.kind, alpha.low, alpha.high) == ("float_or_tensor", -1.0, 1.0)
    assert alpha.parse("-0.5") == -0.5 and alpha.parse(torch.tensor(0.5)) == 0.5
    assert alpha.parse("[2, 3]").tolist() == [2.0, 3.0]  # the interval bounds a scalar, not a per-class tensor
    assert _message(alpha, "2") == "parameter alpha: expected a value in [-1.0, 1.0], got 2"


def test_validate_params_fills_defaults_and_names_unknown_ones() -> None:
    declared = (Param("beta", 1.0, Interval(Real, 0.0, 10.0), "b"), Param("flag", False, Boolean(), "f"))
    assert validate_params({}, declared) == {"beta": 1.0, "flag": False}
    assert validate_params({"flag": "yes"}, declared) == {"beta": 1.0, "flag": True}
    with pytest.raises(InputError) as info:
        validate_params({"gamma": 2}, declared)
    assert str(info.value) == "params: unknown parameter 'gamma'; expected one of: beta, flag" and has_zh(info.value)


def test_read_params_validates_against_declared_params() -> None:
    declared = lossapp.LOSSES["smooth_l1"].params
    assert read_params('{"beta": "0.5"}') == {"beta": "0.5"}  # parsed only
    assert read_params('{"beta": "0.5"}', declared=declared) == {"beta": 0.5}
    assert read_params("", declared=declared) == {"beta": 1.0}
    with pytest.raises(InputError, match=r"^parameter beta: expected a value in \[0.0, 10.0\], got 20$"):
        read_params('{"beta": 20}', declared=declared)
    with pytest.raises(InputError, match=r"^params: unknown parameter 'delta'; expected one of: beta$"):
        read_params('{"delta": 1}', declared=declared)


@pytest.mark.parametrize("name", sorted(lossapp.LOSSES))
def test_every_declared_default_meets_its_own_constraint(name: str) -> None:
    for param in lossapp.LOSSES[name].params:
        assert isinstance(param.constraint, Constraint), f"{name}.{param.name}: declare a constraint"
        assert param.kind in ("float", "int", "bool", "choice", "tensor", "float_or_tensor")
        if param.default is not None:
            assert param.parse(param.default) == param.default, f"{name}.{param.name}"
