"""The registry-wide contract: every loss × reduction × dtype agrees with its torch reference, in value
and gradient, and produces the fixed JSON shape."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lossapp
from lossapp.i18n import has_zh, tr
from lossapp.inputs import InputError
from lossapp.trace import COMPLETE_MAX, SHOWN, Lazy, Trace

SPECS = [s for s in lossapp.LOSSES.values() if s.kind == "loss"]
CASES = [(s.name, r) for s in SPECS for r in s.reductions]


def _run(name: str, reduction: str, dtype: str = "float32") -> lossapp.Result:
    spec = lossapp.LOSSES[name]
    ex = spec.example
    return lossapp.compute(name, ex["pred"], ex.get("target"), reduction=reduction, dtype=dtype,
                           **ex.get("params", {}))


def test_registry_is_populated() -> None:
    assert {"l1", "mse", "rmse", "smooth_l1", "huber"} <= set(lossapp.LOSSES)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("name", "reduction"), CASES)
def test_value_and_gradient_agree_with_torch(name: str, reduction: str, dtype: str) -> None:
    result = _run(name, reduction, dtype)
    assert result.reference is not None
    assert result.reference.agrees, (result.reference, result.value)
    assert result.reference.dtype == dtype and result.reference.device == "cpu"
    expected = torch.tensor(result.reference.value, dtype=torch.float64)
    got = result.value
    rtol = 1e-9 if dtype == "float64" else 2e-5
    torch.testing.assert_close(got, expected, rtol=rtol, atol=1e-6 if dtype == "float32" else 1e-12,
                               equal_nan=True)
    spec = lossapp.LOSSES[name]
    if spec.differentiable:
        assert result.gradient is not None
        assert result.gradient.agrees, result.gradient
    else:
        assert result.gradient is None


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", [s.name for s in SPECS])
def test_half_precisions_agree_or_say_why(name: str, dtype: str) -> None:
    try:
        result = _run(name, lossapp.LOSSES[name].default_reduction, dtype)
    except InputError as exc:  # a built-in without a half kernel on this device: a clear message
        assert dtype in str(exc) and "failed on" in str(exc)
        return
    assert result.reference.agrees, (result.reference, result.value)


@pytest.mark.parametrize(("name", "reduction"), CASES)
def test_json_contract(name: str, reduction: str) -> None:
    data = _run(name, reduction).to_dict()
    json.dumps(data, allow_nan=False)
    assert {"loss", "params", "reduction", "value", "steps", "reference", "gradient", "warnings"} <= set(data)
    assert data["loss"] == name and data["reduction"] == reduction
    assert {"name", "value", "device", "dtype", "abs_diff", "agrees"} <= set(data["reference"])
    for step in data["steps"]:
        assert {"symbol", "title", "formula", "value"} <= set(step)
    if reduction in ("mean", "sum", "batchmean"):
        assert isinstance(data["value"], float)
    else:
        assert isinstance(data["value"], list | float)
    if data["gradient"] is not None:
        assert {"manual", "reference", "max_abs_diff", "agrees"} <= set(data["gradient"])
    spec = lossapp.LOSSES[name]
    assert set(data["params"]) == {p.name for p in spec.params}


@pytest.mark.parametrize("name", [s.name for s in SPECS])
def test_reduction_is_its_own_step(name: str) -> None:
    spec = lossapp.LOSSES[name]
    for reduction in spec.reductions:
        result = _run(name, reduction)
        symbols = [s.symbol for s in result.steps]
        assert "L" in symbols
        if reduction in ("mean", "batchmean"):
            if "num" in symbols:
                num, den = result.step("num").value_list(), result.step("den").value_list()
                if den:
                    assert result.step("L").value_list() == pytest.approx(num / den)
            else:  # a combination (dice_ce, dice_focal): each part shows its own numerator and denominator
                parts = [s[len("num_"):] for s in symbols if s.startswith("num_")]
                assert len(parts) >= 2 and all(f"den_{p}" in symbols for p in parts), symbols


@pytest.mark.parametrize("name", [s.name for s in SPECS])
def test_table_has_one_row_per_element(name: str) -> None:
    result = _run(name, "none" if "none" in lossapp.LOSSES[name].reductions else "mean")
    table = result.table()
    assert len(table) == max(1, result.unreduced.numel() if result.unreduced is not None else 1)
    assert len(table.columns) >= 2


@pytest.mark.parametrize("name", [s.name for s in SPECS])
def test_every_visible_string_speaks_chinese(name: str) -> None:
    spec = lossapp.LOSSES[name]
    texts = [spec.title, spec.summary, *(p.description for p in spec.params)]
    for reduction in spec.reductions:
        result = _run(name, reduction)
        texts += [s.title for s in result.steps] + [s.note for s in result.steps if s.note] + result.warnings
    missing = sorted({t for t in texts if t and not has_zh(t)})
    assert not missing, missing


@pytest.mark.parametrize("name", [s.name for s in SPECS])
def test_docstring_shape(name: str) -> None:
    doc = lossapp.LOSSES[name].steps.__doc__ or ""
    assert "Reference" in doc and ("nreduced" in doc or "l_n" in doc or "=" in doc), doc


@pytest.mark.parametrize("name", [s.name for s in SPECS])
def test_steps_are_float64_and_symbols_named(name: str) -> None:
    result = _run(name, lossapp.LOSSES[name].default_reduction)
    for step in result.steps:
        assert step.symbol and step.title and step.formula
        if isinstance(step.value, torch.Tensor) and step.value.is_floating_point():
            assert step.value.dtype == torch.float64, step.symbol


@pytest.mark.parametrize("name", [s.name for s in SPECS])
def test_torch_snippet_expression_is_given(name: str) -> None:
    assert lossapp.LOSSES[name].torch_code.strip()


def test_unknown_device_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="not available"):
        lossapp.compute("mse", "[1, 2]", "[1, 1]", device="cuda:7")
    with pytest.raises(InputError, match="expected a device"):
        lossapp.compute("mse", "[1, 2]", "[1, 1]", device="tpu")


def test_unknown_dtype_and_reduction() -> None:
    with pytest.raises(InputError, match="expected dtype"):
        lossapp.compute("mse", "[1, 2]", "[1, 1]", dtype="int8")
    with pytest.raises(InputError, match="expected reduction"):
        lossapp.compute("mse", "[1, 2]", "[1, 1]", reduction="median")
    with pytest.raises(InputError, match="unknown parameter"):
        lossapp.compute("mse", "[1, 2]", "[1, 1]", bogus=1)


def test_missing_and_mismatched_target() -> None:
    with pytest.raises(InputError, match="expected a target"):
        lossapp.compute("mse", "[1, 2]")
    with pytest.raises(InputError, match=r"pred \(2,\) and target \(3,\)"):
        lossapp.compute("mse", "[1, 2]", "[1, 1, 1]")


def test_accepts_numpy_tensor_and_list() -> None:
    import numpy as np

    a = lossapp.compute("l1", np.array([1.0, 2.0]), torch.tensor([0.5, 2.5]))
    b = lossapp.compute("l1", [1.0, 2.0], [0.5, 2.5])
    assert a.value == b.value == pytest.approx(0.5)


def test_dtype_rounding_is_reported() -> None:
    result = lossapp.compute("mse", "[0.1234567, 2.7182818]", "[0.1, 2.7]", dtype="float16")
    assert result.reference.agrees
    assert any("rounding the inputs to float16" in w for w in result.warnings)


def test_smooth_l1_beta_zero_is_l1() -> None:
    a = lossapp.compute("smooth_l1", "[0.5, -2, 3]", "[0, 0, 0]", beta=0)
    b = lossapp.compute("l1", "[0.5, -2, 3]", "[0, 0, 0]")
    assert a.value == pytest.approx(b.value)
    assert a.reference.agrees and a.gradient.agrees


def test_rmse_is_root_of_reduced_mse() -> None:
    r = lossapp.compute("rmse", "[1, 2, 3]", "[1.5, 2, 2]")
    assert r.value == pytest.approx((1.25 / 3) ** 0.5)


def test_huber_is_delta_times_smooth_l1() -> None:
    for delta in (0.5, 1.0, 2.0):
        h = lossapp.compute("huber", "[0.3, -1.7, 4.0]", "[0, 0, 0]", delta=delta)
        s = lossapp.compute("smooth_l1", "[0.3, -1.7, 4.0]", "[0, 0, 0]", beta=delta)
        assert h.value == pytest.approx(delta * s.value)


# -- honesty at the numeric edge: every disagreement is in the warnings -----------------------------------------------

CJK = re.compile(r"[\u4e00-\u9fff]")


def _speaks_chinese(result: lossapp.Result) -> None:
    for w in result.warnings:
        assert has_zh(w) and CJK.search(tr(w, "zh")), w


def test_float16_overflow_of_the_inputs_differs() -> None:
    r = lossapp.compute("mse", "[70000]", "[0]", dtype="float16")  # float16's largest finite number is 65504
    assert r.value == 4.9e9 and r.reference.value == math.inf
    assert not r.reference.agrees and not r.gradient.agrees and r.agrees is False
    data = r.to_dict()
    assert data["agrees"] is False and data["reference"]["agrees"] is False
    json.dumps(data, allow_nan=False)
    assert r.warnings == [
        "pred holds values beyond float16's largest finite number 65504 at index 0: the built-in sees them as ±inf",
        "torch.nn.functional.mse_loss in float16 gives inf where the exact value is 4.9e+09: the inputs overflow float16",
        "the gradients d(loss)/d(pred) of the trace and of torch.nn.functional.mse_loss differ: max |Δ| = inf; worst "
        "element at index 0: trace 140000, built-in inf (tolerance for float16: rtol 0.01, atol 0.001)",
    ]
    _speaks_chinese(r)


def test_float16_overflow_of_the_value_differs_and_a_mean_within_range_agrees() -> None:
    r = lossapp.compute("mse", "[300]", "[0]", dtype="float16")
    assert r.agrees is False and r.warnings == [
        "torch.nn.functional.mse_loss in float16 gives inf where the exact value is 90000: the exact value exceeds "
        "float16's largest finite number 65504"]
    _speaks_chinese(r)
    r = lossapp.compute("mse", "[200, 200]", "[0, 0]", dtype="float16")  # 40000: within float16
    assert r.agrees is True and r.warnings == []


def test_every_gradient_disagreement_is_a_warning() -> None:
    r = lossapp.compute("bce", "[0, 1, 0.5]", "[0, 1, 1]", dtype="float16")  # torch's ε = 1e-12 is 0 in float16
    assert r.reference.agrees and not r.gradient.agrees and r.agrees is False
    assert r.gradient.worst_index == (0,) and r.to_dict()["gradient"]["worst_index"] == [0]
    assert r.warnings == [
        "the gradients d(loss)/d(pred) of the trace and of torch.nn.functional.binary_cross_entropy differ: max |Δ| = "
        "nan; worst element at index 0: trace 0, built-in nan (tolerance for float16: rtol 0.01, atol 0.001)"]
    _speaks_chinese(r)
    r = lossapp.compute("l2_penalty", "[1e200, 1.0]")  # 1e200 is inf in float32
    assert r.agrees is False
    assert r.warnings[0] == ("pred holds values beyond float32's largest finite number 3.40282e+38 at index 0: the "
                             "built-in sees them as ±inf")
    assert r.warnings[1].startswith("the gradients d(loss)/d(pred) of the trace and of ") and \
        "worst element at index 0: trace 1e+198, built-in nan" in r.warnings[1]
    _speaks_chinese(r)


def test_value_disagreement_names_the_worst_element(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = lossapp.LOSSES["l1"]
    off = torch.tensor([0.0, 0.0, 1.0])
    monkeypatch.setitem(lossapp.LOSSES, "l1", dataclasses.replace(
        spec, reference=lambda x, y, p, r: spec.reference(x, y, p, r) + off.to(x.dtype)))
    r = lossapp.compute("l1", "[0.5, -1.0, 2.0]", "[0.0, 0.0, 0.0]", reduction="none", dtype="float64")
    assert r.agrees is False and r.reference.worst_index == (2,)
    assert r.warnings == ["the trace and torch.nn.functional.l1_loss differ by 1 at index 2 (trace 2, built-in 3; "
                          "tolerance for float64: rtol 1e-09, atol 1e-12)"]
    _speaks_chinese(r)


def test_infinite_logits_are_checked_against_the_limit_of_the_formula() -> None:
    follows = "pred contains ±inf; the result follows the limits of the formula"
    r = lossapp.compute("bce_with_logits", "[inf, -inf, 0]", "[1, 0, 1]")  # the limit is (0 + 0 + log 2) / 3
    assert math.isnan(r.value) and follows not in r.warnings
    assert "pred contains ±inf, and the trace's value is nan where its limit as pred → ±inf is 0.231049" in r.warnings
    _speaks_chinese(r)
    r = lossapp.compute("bce_with_logits", "[inf, -inf, 0]", "[1, 0, 1]", reduction="none")
    assert "pred contains ±inf, and the trace's value is nan at index 0 where its limit as pred → ±inf is 0 " \
           "(2 elements)" in r.warnings
    r = lossapp.compute("bce_with_logits", "[inf]", "[0.5]")  # (1 − y)·x grows without bound: inf is the limit
    assert r.value == math.inf and follows in r.warnings and r.agrees is True
    r = lossapp.compute("cross_entropy", "[[inf, 0.0]]", "[0]")
    assert r.warnings == ["pred contains ±inf, and the trace's value is nan where its limit as pred → ±inf is 0",
                          "pred contains ±inf, and the trace's gradient is nan at index (0, 0) where its limit as "
                          "pred → ±inf is 0 (2 elements)"]
    r = lossapp.compute("cross_entropy", "[[inf, inf, 0.0]]", "[0]")  # log 2 on the diagonal, 0 or inf off it
    assert "pred contains ±inf, and the trace's value is nan, where no limit as pred → ±inf could be found" in r.warnings
    _speaks_chinese(r)
    r = lossapp.compute("hinge", "[inf, -inf]", "[1, 1]", reduction="none")
    assert r.value.tolist() == [0.0, math.inf] and follows in r.warnings


def test_estimate_limit() -> None:
    from lossapp.engine import estimate_limit

    near = torch.tensor([0.5, 1e8, 2e7, 3.0, math.inf])
    far = torch.tensor([0.5, 1e16, 0.0, 3.0, math.inf])
    varied = torch.tensor([0.5, 1.5e16, 0.0, 1e15, math.inf])
    limit = estimate_limit(near, far, varied).tolist()
    assert limit[0] == 0.5 and limit[1] == math.inf and math.isnan(limit[2]) and math.isnan(limit[3])
    assert limit[4] == math.inf


# -- odd reductions, pred objects --------------------------------------------------------------------------------------

def test_odd_reductions_are_bounded_input_errors() -> None:
    for reduction, got in ((5, "5"), (["mean"], "list"), ("avg", "'avg'"), ("mean\x00", r"'mean\x00'")):
        with pytest.raises(InputError) as info:
            lossapp.compute("mse", "[1, 2]", "[1, 1]", reduction=reduction)
        assert str(info.value) == f"mse: expected reduction none, mean, sum, got {got}"
    with pytest.raises(InputError) as info:
        lossapp.compute("mse", "[1, 2]", "[1, 1]", reduction="x" * 1_000_000)
    assert len(str(info.value)) < 500 and has_zh(info.value)
    assert lossapp.compute("mse", "[1, 2]", "[1, 1]", reduction=" SUM ").reduction == "sum"


def test_reduction_none_is_the_loss_default() -> None:
    assert lossapp.compute("l2_penalty", "[1, 2]").reduction == "sum"  # DESIGN section 2
    assert lossapp.compute("mse", "[1, 2]", "[1, 1]", reduction=None).reduction == "mean"
    assert lossapp.compute("l2_penalty", "[1, 2]", reduction="").reduction == "sum"


@pytest.mark.parametrize("pred", [{"a": 1}, {1, 2}, [], "[]", None, object(), "x" * 100])
def test_odd_pred_objects_are_input_errors(pred: object) -> None:
    with pytest.raises(InputError, match=r"^pred: expected"):
        lossapp.compute("mse", pred, "[0]")


# -- fuzz: only InputError escapes, every disagreement is a warning, the JSON is valid ------------------------------

_ODD = st.sampled_from([0.0, -0.0, 0.5, 1.0, 2.0, -3.0, 1e-320, 1e300, 1e308, 7e4, 3e38, 1e39, math.inf, -math.inf,
                        math.nan, 10**30, "1e999", "nan", "1e30", "", "none", "abc", "[1, 2]", "[1, nan]", True, [1.0],
                        {"a": 1}, "logits", "probabilities", "sigmoid"])
_INPUTS = st.sampled_from([("[0.2, 0.7, 0.5]", "[1, 0, 1]"), ("[[1.0, 2.0, 0.5], [0.1, -1.0, 2.0]]", "[0, 2]"),
                           ("[70000, 0.5, -2.0]", "[0, 1, 1]"), ("[inf, -inf, 0]", "[1, 0, 1]"),
                           ("[[inf, 0.0, 1.0]]", "[0]"), ("[0.0, 1.0, 1.0]", "[0, 1, 0]"), ("[1e200, 2.0]", "[0, 1]"),
                           ("[[-0.1, -2.3], [-inf, 0.0]]", "[[0.2, 0.8], [0, 1]]")])
_FUZZ_LOSSES = ["mse", "huber", "bce", "bce_with_logits", "cross_entropy", "kl_div", "focal", "hinge", "l2_penalty",
                "dice"]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(_FUZZ_LOSSES), _INPUTS, st.data(),
       st.sampled_from(["float16", "bfloat16", "float32", "float64", "float8", 5]),
       st.sampled_from([None, "none", "sum", "batchmean", 7]))
def test_fuzz_compute_only_input_errors_and_honest_warnings(name, inputs, data, dtype, reduction) -> None:
    spec = lossapp.LOSSES[name]
    params = {p.name: data.draw(_ODD) for p in spec.params if data.draw(st.booleans())}
    pred, target = inputs
    try:
        r = lossapp.compute(name, pred, target if spec.target_kind else None, dtype=dtype, reduction=reduction,
                            **params)
    except InputError as exc:
        assert "expected" in str(exc) and len(str(exc)) < 1000 and has_zh(exc), str(exc)
        return
    json.dumps(r.to_dict(), allow_nan=False)
    _speaks_chinese(r)
    if not r.reference.agrees:
        assert any(w.startswith("the trace and ") or " gives " in w for w in r.warnings), r.warnings
    if r.gradient is not None and not r.gradient.agrees:
        assert any(w.startswith("the gradients d(loss)/d(pred)") for w in r.warnings), r.warnings
    assert r.agrees is (r.reference.agrees and (r.gradient is None or r.gradient.agrees))


# -- show few, verify all ---------------------------------------------------------------------------------------


def _tensors(obj: object, seen: set[int] | None = None, depth: int = 0) -> list[torch.Tensor]:
    """Every tensor reachable from obj through attributes, dicts and lists."""
    seen = set() if seen is None else seen
    if isinstance(obj, torch.Tensor):
        return [obj]
    if id(obj) in seen or depth > 8 or isinstance(obj, str | bytes | int | float | type):
        return []
    seen.add(id(obj))
    items = (obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list | tuple)
             else vars(obj).values() if hasattr(obj, "__dict__") else [])
    return [t for item in items for t in _tensors(item, seen, depth + 1)]


def test_large_input_is_verified_whole_and_shown_bounded() -> None:
    n = 1_000_000
    g = torch.Generator().manual_seed(0)
    p, y = torch.rand(n, generator=g) * 0.98 + 0.01, (torch.rand(n, generator=g) < 0.3).float()
    r = lossapp.compute("bce", p, y)
    p64, y64 = p.double(), y.double()
    terms = -(y64 * torch.log(p64).clamp_min(-100) + (1 - y64) * torch.log1p(-p64).clamp_min(-100))
    assert r.step("num").value_list() == pytest.approx(float(terms.sum()), rel=1e-12)  # over every element
    assert r.step("den").value_list() == n and r.value == pytest.approx(float(terms.mean()), rel=1e-12)
    for step in r.steps:
        if step.count > COMPLETE_MAX:
            assert not step.held and step.shown == SHOWN and step.shape == (n,), step.symbol
    assert r.step("l").value_list() == pytest.approx(terms[:SHOWN].tolist(), rel=1e-13)
    data = json.dumps(r.to_dict(), allow_nan=False)
    assert len(data) < 1_000_000
    grad = r.gradient
    assert grad.agrees and grad.shape == (n,) and len(grad.to_dict()["manual"]) == SHOWN
    manual = (p64 - y64) / (p64 * (1 - p64)) / n  # torch's BCE backward, every p inside (0, 1)
    assert grad.manual_shown.tolist() == pytest.approx(manual[:SHOWN].tolist(), rel=1e-12)
    worst = grad.worst
    assert abs(worst["reference"] - worst["manual"]) == grad.max_abs_diff
    assert abs(worst["manual"] - float(manual[worst["index"][0]])) <= 1e-12 * abs(worst["manual"])
    # kept: the inputs and the per-element loss (the checker's); every other tensor is small
    big = {t.untyped_storage().data_ptr() for t in _tensors(r) if t.numel() > COMPLETE_MAX}
    assert big == {t.untyped_storage().data_ptr() for t in (r.pred.values, r.target.values, r.unreduced)}


def test_released_steps_are_replayed_exactly() -> None:
    g = torch.Generator().manual_seed(2)
    pred, target = torch.randn(30, 4, generator=g) * 3, (torch.rand(30, 4, generator=g) > 0.5).float()
    r = lossapp.compute("focal", pred, target, reduction="none")
    fresh = Trace()
    lossapp.LOSSES["focal"].steps(fresh, pred.double(), target.double(), r.params, "none")
    assert [s.symbol for s in r.full_steps()] == [s.symbol for s in fresh.steps]
    for kept, step in zip(r.steps, fresh.steps, strict=True):
        assert torch.equal(torch.as_tensor(kept.value), torch.as_tensor(step.value).detach()), step.symbol
    x = pred.double().requires_grad_(True)
    fresh_value = lossapp.LOSSES["focal"].steps(Trace(), x, target.double(), r.params, "none")
    (autograd,) = torch.autograd.grad(fresh_value.sum(), x)
    closed = lossapp.LOSSES["focal"].gradient(pred.double(), target.double(), r.params, "none")  # focal's own gradient
    assert torch.equal(torch.tensor(r.gradient.manual, dtype=torch.float64), closed)  # replayed exactly
    torch.testing.assert_close(closed, autograd, rtol=1e-12, atol=1e-15)  # the derivative of the trace


def test_rounding_to_the_dtype_is_checked_only_where_it_may_change_the_inputs(monkeypatch) -> None:
    from lossapp import engine

    calls: list[int] = []
    real = engine.run_trace

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "run_trace", spy)
    cases = [(torch.tensor([0.1, 0.7]), "float32", 1),  # a float32 tensor: float32 holds it exactly
             (torch.tensor([0.1, 0.7], dtype=torch.float16), "float32", 1),
             ("[0.5, 0.25]", "float32", 1),  # text that float32 holds exactly: checked, unchanged
             ("[0.1, 0.7]", "float32", 2),  # text that it rounds: the trace reruns on the rounded inputs
             (torch.tensor([0.1, 0.7], dtype=torch.float64), "float64", 1)]
    for pred, dtype, runs in cases:
        calls.clear()
        r = lossapp.compute("mse", pred, "[0, 1]", dtype=dtype)
        assert len(calls) == runs and r.reference.agrees, (pred, dtype)


def test_element_limit_is_twenty_million() -> None:
    limit = 20_000_000
    r = lossapp.compute("l1_penalty", torch.zeros(limit), reduction="sum")
    assert r.value == 0.0 and r.pred.values.numel() == limit and r.reference.agrees
    del r
    with pytest.raises(InputError, match=r"^pred: expected at most 20,000,000 elements, got 20,000,001$"):
        lossapp.compute("l1_penalty", torch.zeros(limit + 1))


# -- closed-form gradients (LossSpec.gradient): the derivative the built-in's autograd gives in float64 ------------------

def _closed_form_cases() -> list[tuple[str, dict, torch.Tensor, torch.Tensor | None]]:
    g = torch.Generator().manual_seed(7)
    x = torch.randn(4, 6, generator=g, dtype=torch.float64) * 6
    x[0, :3] = torch.tensor([0.0, 40.0, -40.0], dtype=torch.float64)  # x = 0 and saturated logits
    hard = (torch.rand(4, 6, generator=g) < 0.5).double()
    soft = torch.rand(4, 6, generator=g, dtype=torch.float64)
    log_q = torch.log_softmax(torch.randn(4, 6, generator=g, dtype=torch.float64), 1)
    p = torch.softmax(torch.randn(4, 6, generator=g, dtype=torch.float64), 1)
    p[0, 0] = 0.0
    weight = torch.rand(6, generator=g, dtype=torch.float64) + 0.5
    return [
        ("bce_with_logits", {}, x, hard), ("bce_with_logits", {}, x, soft),
        ("bce_with_logits", {"weight": weight, "pos_weight": weight * 2}, x, hard),
        ("bce_with_logits", {"pos_weight": weight}, x, soft),
        ("kl_div", {}, log_q, p), ("kl_div", {"log_target": True}, log_q, torch.log(p + 1e-3)),
        ("l1_penalty", {"lam": 0.3}, x, None), ("l2_penalty", {"lam": 0.7}, x, None),
        ("focal", {}, x, hard), ("focal", {"alpha": -1.0, "gamma": 0.0}, x, hard),
        ("focal", {"alpha": 0.6, "gamma": 3.0, "weight": weight}, x, hard),
        ("soft_truncated_ce", {}, x, hard), ("soft_truncated_ce", {"K": 2.5}, x, hard),
        ("soft_truncated_ce", {"K": 0.0}, x, hard), ("soft_truncated_ce", {"K": 3.0, "m": 0.6}, x, hard),
        ("kl_div", {"log_base": "2"}, log_q, p),
        ("hinge", {}, x, hard * 2 - 1), ("hinge", {"margin": 0.0}, x, hard * 2 - 1),
        ("hinge", {"margin": 2.5}, torch.where(hard > 0, 2.5, -2.5), hard * 2 - 1),  # y·f at the kink
        ("dice", {}, soft, hard), ("iou", {"per_sample": True}, soft, p), ("tversky", {"alpha": 0.3, "beta": 0.9}, soft, hard),
        *((name, {"per_channel": True, "include_background": False, "zero_empty": True, "eps": 0.0},
           soft.reshape(2, 2, 6), hard.reshape(2, 2, 6) * torch.tensor([1.0, 0.0]).reshape(2, 1, 1))  # empty sets
          for name in ("dice", "iou", "tversky")),
    ]


@pytest.mark.parametrize("case", range(len(_closed_form_cases())))
def test_closed_form_gradient_is_the_derivative(case: int) -> None:
    from lossapp.engine import run_trace
    from lossapp.reference import run_reference
    name, params, x, t = _closed_form_cases()[case]
    spec = lossapp.LOSSES[name]
    assert spec.gradient is not None
    resolved = spec.resolve_params(params)
    for reduction in spec.reductions:
        closed = spec.gradient(x, t, resolved, reduction)
        closed = closed.full() if isinstance(closed, Lazy) else closed  # (an elementwise one: the penalties')
        _, builtin = run_reference(spec, x, t, resolved, reduction, torch.device("cpu"), torch.float64)
        assert closed is not None and closed.shape == x.shape and closed.dtype == torch.float64
        # (as accurate or more where an autograd chain underflows: e.g. focal at x = -40)
        torch.testing.assert_close(closed, builtin, rtol=1e-12, atol=1e-15)
        _, _, autograd = run_trace(dataclasses.replace(spec, gradient=None), x, t, resolved, reduction)
        torch.testing.assert_close(closed, autograd, rtol=1e-12, atol=1e-15)  # and the derivative of the trace


def test_overlap_closed_form_leaves_activations_l1_and_empty_sets_to_autograd() -> None:
    p = torch.tensor([[0.2, 0.7], [0.0, 0.0]], dtype=torch.float64)
    t = torch.tensor([[0.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    for name in ("dice", "iou", "tversky"):
        spec = lossapp.LOSSES[name]
        assert spec.gradient(p, t, spec.resolve_params({}), "mean") is not None
        for params in ({"activation": "sigmoid"}, {"intersection": "l1"}, {"per_sample": True, "eps": 0.0}):
            assert spec.gradient(p, t, spec.resolve_params(params), "mean") is None  # (the last: 0/0 in row 1)
            assert lossapp.compute(name, p.tolist(), t.tolist(), **params).gradient is not None


def test_focal_closed_form_leaves_soft_labels_infinite_logits_and_small_gamma_to_autograd() -> None:
    spec = lossapp.LOSSES["focal"]
    x = torch.tensor([[0.5, -2.0], [3.0, -0.1]], dtype=torch.float64)
    hard = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    assert spec.gradient(x, hard * 0.8, spec.resolve_params({}), "mean") is None
    assert spec.gradient(x, hard, spec.resolve_params({"gamma": 0.5}), "mean") is None
    assert spec.gradient(x.clone().fill_(math.inf), hard, spec.resolve_params({}), "mean") is None
    assert lossapp.compute("focal", x.tolist(), hard.tolist(), gamma=0.5).gradient.agrees
    kl = lossapp.LOSSES["kl_div"]  # q given as probabilities: autograd of the trace
    assert kl.gradient(x.sigmoid(), hard.softmax(1), kl.resolve_params({"input": "probabilities"}), "mean") is None


def test_penalty_gradient_is_the_shown_g_step() -> None:
    w = [[0.5, -1.2, 0.0], [2.0, -0.3, 0.75]]
    for name in ("l1_penalty", "l2_penalty"):
        for reduction in ("sum", "mean", "none"):
            r = lossapp.compute(name, w, reduction=reduction, lam=0.2)
            assert r.gradient.agrees
            assert r.step("g").value_list() == r.gradient.manual


@pytest.mark.parametrize("name", ["bce", "focal", "dice_ce", "cross_entropy", "smooth_l1"])
def test_a_quiet_rerun_gives_the_value_and_gradient_of_a_recorded_one(name: str) -> None:
    """_verify's float32 rerun is a quiet trace (its steps hold nothing): its value and gradient are bit-identical to
    those of a trace that records every step."""
    from lossapp.engine import read_inputs, run_trace
    spec = lossapp.LOSSES[name]
    example = spec.example
    pred_in, target_in = read_inputs(spec, example["pred"], example["target"])
    params = {k: (v.double() if isinstance(v, torch.Tensor) else v) for k, v in spec.resolve_params({}).items()}
    x, t = pred_in.values, None if target_in is None else target_in.values
    if spec.prepare is not None:
        x, t = spec.prepare(x, t, params, Trace())
    _, value, grad = run_trace(spec, x, t, params, spec.default_reduction)
    _, quiet_value, quiet_grad = run_trace(spec, x, t, params, spec.default_reduction, release=True, quiet=True)
    assert torch.equal(value, quiet_value) and torch.equal(grad, quiet_grad)


def test_finiteness_of_a_float32_tensor_is_read_from_it_as_given() -> None:
    """The NaN / ±inf check reads the user's float32 (or float16) tensor itself: NaN refused, ±inf in logits warned
    about, and finite values whose float32 sum overflows (±3e38) found finite element by element."""
    with pytest.raises(InputError) as nan:
        lossapp.compute("mse", torch.tensor([0.5, math.nan], dtype=torch.float32), torch.zeros(2))
    assert nan.value.id == "inputs.nan"
    with pytest.raises(InputError) as inf_target:
        lossapp.compute("mse", torch.zeros(2), torch.tensor([math.inf, 0.0], dtype=torch.float16))
    assert inf_target.value.id == "inputs.inf"
    logits = lossapp.compute("bce_with_logits", torch.tensor([math.inf, 0.5], dtype=torch.float32),
                             torch.tensor([1.0, 0.0]))
    assert "InputWarning" in logits.to_dict()["warning_categories"]  # (the ±inf warning, or its limit's)
    huge = torch.tensor([3e38, 3e38, -1.0], dtype=torch.float32)  # a float32 sum of inf, every element finite
    result = lossapp.compute("l1", huge, huge.clone())
    assert result.scalar == 0.0 and "inputs.contains_inf" not in result.to_dict()["warning_ids"]


def test_prepare_is_handed_the_users_narrower_target() -> None:
    """compute() hands a loss's prepare the user's own floating target where the target it is given was widened from
    it unchanged (Trace.target_source, for its range checks), and nothing for a float64 or an integer target."""
    spec = lossapp.LOSSES["dice"]
    seen = []

    def prepare(pred, target, params, trace):
        seen.append(trace.target_source)
        return spec.prepare(pred, target, params, trace)

    pred = torch.tensor([[0.9, 0.2, 0.7], [0.3, 0.8, 0.1]])
    with pytest.MonkeyPatch.context() as m:
        m.setitem(lossapp.LOSSES, "dice", dataclasses.replace(spec, prepare=prepare))
        for target in (torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]), torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]).half()):
            lossapp.compute("dice", pred, target)
            assert seen[-1].dtype == target.dtype and seen[-1].data_ptr() == target.data_ptr()  # (itself, detached)
        for target in (torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], dtype=torch.float64), [[1, 0, 1], [0, 1, 0]],
                       torch.tensor([[1, 0, 1], [0, 1, 0]])):
            lossapp.compute("dice", pred, target)
            assert seen[-1] is None
