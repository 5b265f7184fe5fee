import dataclasses
import math
import re
import time
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pytest
import torch
from spec_exceptions import spec_cases

import lossapp
from lossapp.i18n import has_zh
from lossapp.inputs import InputError, limits
from lossapp.inputs.constraints import Boolean, Interval, Options, Tensor
from lossapp.registry import (
    ACTIVATIONS,
    FAMILIES,
    REDUCTIONS,
    RELATED_ROLES,
    SET_MEASURES,
    SPEC_KINDS,
    LossSpec,
    Param,
    Part,
    lookup,
    shown,
)

TESTS = Path(__file__).parent


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
        assert spec.example.get("pred") is not None or spec.kind == "metric"
        for alias in (spec.name, *spec.aliases):
            assert lookup(alias) is spec


def test_param_parsing_and_ranges() -> None:
    beta = Param("beta", 1.0, Interval(Real, 0.0, 10.0), "b")
    assert beta.parse("2.5") == 2.5
    with pytest.raises(InputError, match=r"expected a value in \[0.0, 10.0\], got -1"):
        beta.parse("-1")
    with pytest.raises(InputError, match="expected a number"):
        beta.parse("2+2")
    flag = Param("log_target", False, Boolean(), "d")
    assert flag.parse("true") is True and flag.parse(False) is False
    choice = Param("input", "logits", Options(("logits", "probabilities")), "d")
    assert choice.parse("Probabilities") == "probabilities"
    with pytest.raises(InputError, match="expected one of logits, probabilities"):
        choice.parse("odds")
    weight = Param("weight", None, Tensor(), "d")
    assert weight.parse("") is None
    assert weight.parse("[1, 2]").tolist() == [1.0, 2.0]
    alpha = Param("alpha", 0.25, Tensor(scalar=Interval(Real)), "d")
    assert alpha.parse("0.5") == 0.5
    assert alpha.parse("[0.1, 0.9]").tolist() == [0.1, 0.9]


def test_resolve_params_fills_defaults() -> None:
    spec = lookup("smooth_l1")
    assert spec.resolve_params({}) == {"beta": 1.0}
    assert spec.resolve_params({"beta": "0"}) == {"beta": 0.0}
    with pytest.raises(InputError, match="unknown parameter 'delta'"):
        spec.resolve_params({"delta": 1})


# -- bad parameter values: one InputError, the value as written, bounded ---------------------------------------------

IGNORE = Param("ignore_index", -100, Interval(Integral), "d")
BETA = Param("beta", 1.0, Interval(Real, 0.0, 10.0), "b")
EPS = Param("eps", 1e-8, Interval(Real), "e")


def _id(value: object) -> str:
    """A test id for a parameter value (str() refuses integers of more than 4,300 digits)."""
    return f"int_of_{len(str(value)) if value.bit_length() < 10_000 else 'many'}_bits" \
        if isinstance(value, int) and value.bit_length() > 64 else str(value)[:40]


def _error(param: Param, raw: object) -> str:
    with pytest.raises(InputError) as info:
        param.parse(raw)
    message = str(info.value)
    assert message.startswith(f"parameter {param.name}: expected") and len(message) < 600, message
    assert has_zh(info.value), message
    return message


@pytest.mark.parametrize(("raw", "shown"), [
    (1e30, "1e+30"), ("1e30", "1e30"), (-1e30, "-1e+30"), ("1e999", "1e999"), (1e300, "1e+300"),
    ("99999999999999999999", "99999999999999999999"), (2**63, str(2**63)), (-(2**63) - 1, str(-(2**63) - 1)),
    (10**5000, "an integer of 5,001 digits"), ("1e99999999999999999999999999", "1e99999999999999999999999999"),
], ids=_id)
def test_int_parameter_outside_int64(raw: object, shown: str) -> None:
    assert _error(IGNORE, raw) == f"parameter ignore_index: expected an integer in [-2^63, 2^63), got {shown}"


def test_int_parameter_values() -> None:
    assert IGNORE.parse("123456789012345678") == 123456789012345678  # exact, not through a float
    assert IGNORE.parse(2**63 - 1) == 2**63 - 1 and IGNORE.parse(-(2**63)) == -(2**63)
    assert IGNORE.parse("2.0") == 2 and IGNORE.parse("1e3") == 1000 and IGNORE.parse(-7.0) == -7
    assert IGNORE.parse(np.int64(5)) == 5 and IGNORE.parse(torch.tensor(3)) == 3
    assert _error(IGNORE, "12345678901234567.5") == "parameter ignore_index: expected an integer, got '12345678901234567.5'"
    assert _error(IGNORE, "1.5e-99999999999") == "parameter ignore_index: expected an integer, got '1.5e-99999999999'"
    assert _error(IGNORE, 0.5) == "parameter ignore_index: expected an integer, got 0.5"
    assert _error(IGNORE, True) == "parameter ignore_index: expected an integer, got True"
    assert _error(IGNORE, [1]) == "parameter ignore_index: expected an integer, got list"
    assert _error(IGNORE, {"a": 1}) == "parameter ignore_index: expected an integer, got dict"
    assert _error(IGNORE, "nan") == "parameter ignore_index: expected a finite number, got 'nan'"
    assert _error(IGNORE, -math.inf) == "parameter ignore_index: expected a finite number, got -inf"


@pytest.mark.parametrize(("raw", "expected"), [
    ("1e999", "expected a number within float64's range (about 1e-308 to 1.8e308 in size, or 0), got 1e999"),
    ("-1e400", "expected a number within float64's range (about 1e-308 to 1.8e308 in size, or 0), got -1e400"),
    ("1.5e-99999999999", "expected a number within float64's range (about 1e-308 to 1.8e308 in size, or 0), "
                         "got 1.5e-99999999999"),
    (10**5000, "expected a number within float64's range (about 1e-308 to 1.8e308 in size, or 0), got an integer of "
               "5,001 digits"),
    ("nan", "expected a finite number, got 'nan'"), ("-Infinity", "expected a finite number, got '-Infinity'"),
    (math.nan, "expected a finite number, got nan"), (True, "expected a number, got True"),
    ([1.0, 2.0], "expected a number, got list"), ([[1]], "expected a number, got list"),
    ({"a": 1}, "expected a number, got dict"), ("0x10", "expected a number, got '0x10'"),
    ("1e30", "expected a value in [0.0, 10.0], got 1e30"), (1e30, "expected a value in [0.0, 10.0], got 1e+30"),
], ids=_id)
def test_float_parameter_errors(raw: object, expected: str) -> None:
    assert _error(BETA, raw) == f"parameter beta: {expected}"


def test_float_parameter_texts_are_bounded_and_as_written() -> None:
    message = _error(BETA, "9" * 5000)
    assert message.startswith("parameter beta: expected a number within float64's range") and "(5,000 characters)" in message
    assert _error(BETA, " 20 ") == "parameter beta: expected a value in [0.0, 10.0], got 20"
    assert EPS.parse("1e-320") == 1e-320 and EPS.parse("0e-99999") == 0.0 and EPS.parse("-0.0") == 0.0
    assert BETA.parse(np.float32(0.5)) == 0.5 and BETA.parse(torch.tensor(2.5, dtype=torch.float64)) == 2.5
    assert BETA.parse(3) == 3.0 and isinstance(BETA.parse(3), float)


def test_choice_bool_and_tensor_parameter_errors() -> None:
    choice = Param("input", "logits", Options(("logits", "probabilities")), "d")
    assert _error(choice, ["logits"]) == "parameter input: expected one of logits, probabilities, got list"
    assert _error(choice, 5) == "parameter input: expected one of logits, probabilities, got 5"
    message = _error(choice, "x" * 1_000_000)
    assert message.endswith("… (1,000,000 characters)")
    flag = Param("per_sample", True, Boolean(), "d")
    assert flag.parse(1) is True and flag.parse(0) is False and flag.parse(" Off ") is False
    assert _error(flag, 2) == "parameter per_sample: expected true or false, got 2"
    assert _error(flag, 10**5000) == "parameter per_sample: expected true or false, got an integer of 5,001 digits"
    assert _error(flag, [True]) == "parameter per_sample: expected true or false, got list"
    weight = Param("weight", None, Tensor(), "d")
    assert _error(weight, True) == "parameter weight: expected a tensor such as [1.0, 2.0], got True"
    assert _error(weight, "[1, nan]") == "parameter weight: expected finite numbers, got NaN at 1 place(s) (first at index 1)"
    assert _error(weight, "[1e400, 1]").startswith("parameter weight: expected finite numbers, got ±inf")
    assert _error(weight, {"a": 1}) == ("parameter weight: expected text, a list, a numpy array or a torch tensor, "
                                        "got dict")
    alpha = Param("alpha", None, Tensor(scalar=Interval(Real, 0.0, 1.0)), "d")
    assert _error(alpha, "nan") == "parameter alpha: expected a finite number, got 'nan'"
    assert _error(alpha, False) == "parameter alpha: expected a number or a tensor such as [1.0, 2.0], got False"
    assert _error(alpha, "[0.5, inf]").startswith("parameter alpha: expected finite numbers, got ±inf")
    assert _error(alpha, torch.tensor(1.5)) == "parameter alpha: expected a value in [0.0, 1.0], got 1.5"
    assert alpha.parse(torch.tensor([0.25, 0.75])).tolist() == [0.25, 0.75]


def test_compute_refuses_bad_parameters_with_one_input_error() -> None:
    for params in ({"ignore_index": 1e30}, {"ignore_index": "9" * 5000}, {"label_smoothing": "1e999"},
                   {"weight": "[1, nan]"}, {"input": {"a": 1}}):
        with pytest.raises(InputError, match=r"^parameter "):
            lossapp.compute("cross_entropy", "[[1.0, 2.0]]", "[1]", **params)


# -- loss names ------------------------------------------------------------------------------------------------------

def test_absurdly_long_names_get_a_short_message_fast() -> None:
    start = time.perf_counter()
    with pytest.raises(InputError) as info:
        lookup("x" * 1_000_000)
    assert time.perf_counter() - start < 1.0
    message = str(info.value)
    assert len(message) < 500 and "(1,000,000 characters)" in message and "did you mean" not in message
    assert message.endswith("expected a registered loss name or alias") and has_zh(info.value)
    with pytest.raises(InputError, match="did you mean"):
        lookup("smoth_l1" + " " * limits.MAX_NAME_CHARS)  # blanks are stripped: a short name gets suggestions
    with pytest.raises(InputError, match=r"expected a loss name such as bce or cross_entropy, got 5$"):
        lookup(5)
    with pytest.raises(InputError, match=r"expected a loss name such as bce or cross_entropy, got nothing$"):
        lookup(None)


def test_max_name_chars_is_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_NAME_CHARS", 5)
    with pytest.raises(InputError) as info:
        lookup("smoth_l1")
    assert "did you mean" not in str(info.value)


@pytest.mark.parametrize(("raw", "text"), [
    ("abc", "'abc'"), (None, "None"), (True, "True"), (1.5, "1.5"), (12, "12"), (10**400, "an integer of 401 digits"),
    ([1, 2], "list"), ({"a": 1}, "dict"), ({1}, "set"),
], ids=_id)
def test_shown(raw: object, text: str) -> None:
    assert shown(raw) == text


# -- what a new spec is missing: one registry-wide check per spec, naming each gap -----------------------------------

def _spec_gaps(spec: LossSpec) -> list[str]:
    """Every required field, flag and test hook the spec lacks, by name (empty when the spec is complete)."""
    from lossapp.conventions import CONVENTIONS
    from lossapp.lint import LINTS
    from lossapp.mistakes import MISTAKES

    params = {p.name for p in spec.params}
    gaps = [f"{name}: empty" for name in ("title", "summary", "formula", "reference_name") if not getattr(spec, name)]
    checks = [
        (spec.family in FAMILIES, f"family: {spec.family!r} is not one of {FAMILIES}"),
        (spec.kind in SPEC_KINDS, f"kind: {spec.kind!r} is not one of {SPEC_KINDS}"),
        (set(spec.reductions) <= set(REDUCTIONS), f"reductions: {spec.reductions} not all in {REDUCTIONS}"),
        (spec.default_reduction in spec.reductions, f"default_reduction: {spec.default_reduction!r} not in reductions"),
        (spec.kind == "metric" or spec.example.get("pred") is not None, "example: no pred to run the registry-wide tests"),
        (spec.activation in (None, *ACTIVATIONS), f"activation: {spec.activation!r} is not one of {ACTIVATIONS}"),
        (spec.set_measure in (None, *SET_MEASURES), f"set_measure: {spec.set_measure!r} is not one of {SET_MEASURES}"),
        (not spec.parts or spec.natural_log == any(p.natural_log for p in spec.parts),
         "natural_log: a combined loss is natural-log based exactly when one of its parts is"),
        (spec.steps.__doc__, "steps: no docstring (summary, formula, reductions, params, shapes, reference)"),
        (not spec.logistic or (spec.pred_kind == "logits" and spec.activation == "sigmoid" and spec.natural_log),
         "logistic: the logistic loss takes logits through a sigmoid and is natural-log based"),
    ]
    gaps += [gap for ok, gap in checks if not ok]
    gaps += [f"parts: weight {p.weight!r} is not a parameter" for p in spec.parts if p.weight not in params]
    gaps += [f"related: unknown role {role!r} (expected one of {RELATED_ROLES})" for role in spec.related
             if role not in RELATED_ROLES]
    gaps += [f"related: {role} -> {other!r} is not a registered loss" for role, other in spec.related.items()
             if other not in lossapp.LOSSES]
    gaps += [f"mistakes: {m!r} is not in lossapp.mistakes" for m in spec.mistakes if m not in MISTAKES]
    gaps += [f"conventions: {c!r} is not in lossapp.conventions" for c in spec.conventions if c not in CONVENTIONS]
    gaps += [f"lints: {name!r} is not a check of lossapp.lint" for name in spec.lints if name not in LINTS]
    module = spec.steps.__module__
    own = TESTS / f"test_losses_{module.rsplit('.', 1)[-1]}.py"
    tests = [own] + [t for t in sorted(TESTS.glob("test_*.py")) if t != own
                     and f"from {module} import" in t.read_text(encoding="utf-8")]
    if not any(t.exists() and spec.name in t.read_text(encoding="utf-8") for t in tests):
        gaps.append(f"tests: neither {own.name} nor a test importing {module} names {spec.name!r}")
    return gaps


@pytest.mark.parametrize("name", list(lossapp.LOSSES))
def test_every_spec_has_what_the_library_needs(name: str) -> None:
    gaps = _spec_gaps(lossapp.LOSSES[name])
    assert not gaps, f"{name} is missing: " + "; ".join(gaps)


def test_the_gaps_of_an_incomplete_spec_are_named() -> None:
    bare = dataclasses.replace(lookup("bce"), name="new_loss", summary="", kind="cost", activation="tanh",
                               related={"twin": "nope"}, mistakes=("made_up",), parts=(Part("L_x", "lambda_x"),))
    gaps = _spec_gaps(bare)
    for expected in ("summary: empty", "kind: 'cost'", "activation: 'tanh'", "related: unknown role 'twin'",
                     "related: twin -> 'nope'", "mistakes: 'made_up'", "parts: weight 'lambda_x'", "natural_log:",
                     "tests: neither test_losses_classification.py nor a test importing lossapp.losses.classification names "
                     "'new_loss'"):
        assert any(g.startswith(expected) for g in gaps), (expected, gaps)


@pytest.mark.parametrize("name", [n for n, s in lossapp.LOSSES.items() if s.logistic])
def test_a_logistic_spec_has_the_logistic_swap_identity(name: str) -> None:
    """LossSpec.logistic: l(x, 1 − y) − l(x, y) = (2y − 1)·x for every element (the checker's bounds rely on it)."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(200, generator=g, dtype=torch.float64) * 6
    y = torch.rand(200, generator=g, dtype=torch.float64)
    y[:50] = 0.0
    y[50:100] = 1.0
    terms = lossapp.compute(name, x, y, reduction="none").value
    swapped = lossapp.compute(name, x, 1 - y, reduction="none").value
    torch.testing.assert_close(swapped - terms, (2 * y - 1) * x, rtol=1e-12, atol=1e-12)


def _alpha_label_sums_premises(spec: LossSpec) -> bool:
    """Whether the premises of lossapp.variants.focal_alpha_bound's proof hold for a loss, read from what it computes
    (not from its spec): it takes 0/1 labels of pred's shape and scalar α (param alpha, < 0: off), its terms are
    l = α_t·b with α_t = α·y + (1 − α)·(1 − y) and b ≥ 0 its terms with α off, its value is Σ l / n (mean) and Σ l
    (sum), and its enclosure's point bound is the same for every α."""
    from lossapp.interval import Box
    if not {"alpha", "weight"} <= {p.name for p in spec.params} or spec.enclosure is None \
            or spec.enclosure.point_error is None:
        return False
    g = torch.Generator().manual_seed(5)
    x = torch.randn(4, 60, generator=g, dtype=torch.float64) * 4
    y = (torch.rand(4, 60, generator=g) > 0.5).double()
    try:
        base = lossapp.compute(spec.name, x, y, reduction="none", alpha=-1.0).value
        bounds = []
        for alpha in (-1.0, 0.1, 0.25, 0.5, 0.9):
            terms = lossapp.compute(spec.name, x, y, reduction="none", alpha=alpha).value
            alpha_t = alpha * y + (1 - alpha) * (1 - y) if alpha >= 0 else torch.ones_like(y)
            mean = lossapp.compute(spec.name, x, y, reduction="mean", alpha=alpha).value
            total = lossapp.compute(spec.name, x, y, reduction="sum", alpha=alpha).value
            if terms.shape != x.shape or not bool((base >= 0).all()) \
                    or not torch.allclose(terms, alpha_t * base, rtol=1e-13, atol=0) \
                    or not math.isclose(float(mean), float(terms.sum()) / terms.numel(), rel_tol=1e-13) \
                    or not math.isclose(float(total), float(terms.sum()), rel_tol=1e-13):
                return False
            box = Box(x, y, None, None, spec.resolve_params({"alpha": alpha}), "mean", spec.target_kind)
            bounds.append(spec.enclosure.point_error(box))
    except InputError:
        return False
    return bounds[0] is not None and all(b == bounds[0] for b in bounds)


@pytest.mark.parametrize("name", list(lossapp.LOSSES))
def test_alpha_label_sums_is_set_exactly_where_the_focal_alpha_bound_applies(name: str) -> None:
    """LossSpec.alpha_label_sums (what lossapp.variants.focal_alpha_bound reads) is declared by exactly the losses whose
    computations meet the premises of its proof."""
    spec = lossapp.LOSSES[name]
    assert spec.alpha_label_sums == _alpha_label_sums_premises(spec)


def test_declared_test_exceptions_name_a_registered_loss_and_an_existing_test() -> None:
    from spec_exceptions import EXCEPTIONS

    defined = "\n".join(p.read_text(encoding="utf-8") for p in TESTS.glob("test_*.py"))
    for exception in EXCEPTIONS:
        assert exception.loss in lossapp.LOSSES, exception
        assert f"def {exception.test}(" in defined, exception
        assert exception.reason, exception


# -- the derivative step of every elementwise loss --------------------------------------------------------

def _differentiable_losses() -> list[str]:
    return [n for n, s in lossapp.LOSSES.items() if s.kind == "loss" and s.differentiable and "none" in s.reductions]


@pytest.mark.parametrize("name", spec_cases("test_elementwise_losses_show_the_derivative_autograd_gives",
                                            _differentiable_losses()))
def test_elementwise_losses_show_the_derivative_autograd_gives(name: str) -> None:
    """A loss whose l_n depends on pred_n alone declares its ∂l_n/∂pred_n step (LossSpec.derivative); every element of
    that step equals autograd of the float64 trace (without the spec's own `gradient`), and its note gives the
    reasons; a loss that is not elementwise declares none."""
    from lossapp.engine import run_trace

    spec = lossapp.LOSSES[name]
    example = spec.example
    r = lossapp.compute(name, example["pred"], example.get("target"), reduction="none", dtype="float64",
                        **example.get("params", {}))
    replay = r.replay
    if tuple(r.unreduced.shape) != tuple(replay.pred.shape):
        assert spec.derivative is None, f"{name} declares a derivative step but its l_n is not elementwise"
        return
    assert spec.derivative, f"{name} is elementwise: declare LossSpec.derivative, the symbol of its ∂l_n/∂pred_n step"
    _, _, autograd = run_trace(dataclasses.replace(spec, gradient=None), replay.pred, replay.target, replay.params,
                               "none")
    step = r.step(spec.derivative)
    shown = torch.as_tensor(step.value, dtype=torch.float64).expand(autograd.shape)
    torch.testing.assert_close(shown, autograd, rtol=1e-12, atol=1e-14)
    assert step.note and has_zh(step.note) and has_zh(step.title)


@pytest.mark.parametrize("name", [n for n, s in lossapp.LOSSES.items()
                                  if re.fullmatch(r"torch\.nn\.functional\.\w+", str(s.reference_name))])
def test_defaults_are_torchs(name: str) -> None:
    """Every parameter named as an optional argument of its torch built-in has that built-in's default, and so has
    the reduction (torch's required `input` tensor is another thing than lossapp's `input` kind)."""
    import inspect

    import torch.nn.functional as F

    spec = lossapp.LOSSES[name]
    builtin = getattr(F, str(spec.reference_name).removeprefix("torch.nn.functional."))
    signature = inspect.signature(builtin).parameters
    assert spec.default_reduction == signature["reduction"].default
    shared = [p for p in spec.params if p.name in signature and signature[p.name].default is not inspect.Parameter.empty]
    assert shared or not spec.params
    for param in shared:
        assert param.default == signature[param.name].default, (name, param.name)


def test_input_kind_follows_the_input_parameter() -> None:
    ce, focal, bce = lookup("cross_entropy"), lookup("focal"), lookup("bce")
    assert ce.input_kind(None) == "logits" and ce.input_kind({"input": "log_probabilities"}) == "log_probabilities"
    assert focal.input_kind({"input": "probabilities"}) == "probabilities"
    assert focal.input_kind({"input": "bogus"}) == "logits"  # not one of its choices: the default
    assert bce.input_kind({"input": "logits"}) == "probabilities"  # no `input` parameter: its pred_kind
