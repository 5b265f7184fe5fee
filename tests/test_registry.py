import pytest

import lossapp
from lossapp.inputs import InputError
from lossapp.registry import FAMILIES, Param, lookup


@pytest.mark.parametrize(("alias", "name"), [
    ("MSE", "mse"), ("nn.MSELoss", "mse"), ("torch.nn.L1Loss", "l1"), ("mae", "l1"), ("L2", "mse"),
    ("SmoothL1Loss", "smooth_l1"), ("smooth-l1", "smooth_l1"), ("F.huber_loss", "huber"),
])
def test_aliases_are_case_insensitive_and_know_torch_names(alias: str, name: str) -> None:
    assert lookup(alias).name == name


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(InputError, match="did you mean smooth_l1"):
        lookup("smoth_l1")
    with pytest.raises(InputError, match="expected a loss name"):
        lookup("  ")


def test_every_spec_is_complete() -> None:
    for spec in lossapp.LOSSES.values():
        assert spec.family in FAMILIES
        assert spec.title and spec.summary and spec.formula and spec.reference_name
        assert spec.default_reduction in spec.reductions
        assert spec.example.get("pred") is not None or spec.family == "metrics"
        for alias in (spec.name, *spec.aliases):
            assert lookup(alias) is spec


def test_param_parsing_and_ranges() -> None:
    beta = Param("beta", 1.0, "float", "b", 0.0, 10.0)
    assert beta.parse("2.5") == 2.5
    with pytest.raises(InputError, match=r"expected a value in \[0.0, 10.0\], got -1"):
        beta.parse("-1")
    with pytest.raises(InputError, match="expected a number"):
        beta.parse("2+2")
    flag = Param("log_target", False, "bool", "d")
    assert flag.parse("true") is True and flag.parse(False) is False
    choice = Param("input", "logits", "choice", "d", choices=("logits", "probabilities"))
    assert choice.parse("Probabilities") == "probabilities"
    with pytest.raises(InputError, match="expected one of logits, probabilities"):
        choice.parse("odds")
    weight = Param("weight", None, "tensor", "d")
    assert weight.parse("") is None
    assert weight.parse("[1, 2]").tolist() == [1.0, 2.0]
    alpha = Param("alpha", 0.25, "float_or_tensor", "d")
    assert alpha.parse("0.5") == 0.5
    assert alpha.parse("[0.1, 0.9]").tolist() == [0.1, 0.9]


def test_resolve_params_fills_defaults() -> None:
    spec = lookup("smooth_l1")
    assert spec.resolve_params({}) == {"beta": 1.0}
    assert spec.resolve_params({"beta": "0"}) == {"beta": 0.0}
    with pytest.raises(InputError, match="unknown parameter 'delta'"):
        spec.resolve_params({"delta": 1})
