"""l1_penalty and l2_penalty: values and gradients against plain torch; the SGD weight_decay identity
behind the L2 reference (article 002, point 3); reductions; Chinese for every visible string."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from spec_code import run_torch_code

import lossapp
from lossapp.i18n import has_zh
from lossapp.inputs import InputError
from lossapp.losses import regularization
from lossapp.trace import Trace

DTYPES = {"float32": torch.float32, "float64": torch.float64}
TOL = {"float32": {"rtol": 2e-5, "atol": 1e-6}, "float64": {"rtol": 1e-9, "atol": 1e-12}}
REDUCTIONS = ("none", "mean", "sum")
W = [[0.5, -1.2, 2.0], [0.0, -0.3, 0.75]]  # includes w = 0, where L1's subgradient is taken as 0


def _reduce(terms: torch.Tensor, reduction: str) -> torch.Tensor:
    return {"none": terms, "mean": terms.mean(), "sum": terms.sum()}[reduction]


@pytest.mark.parametrize("lam", [0.01, 0.5])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["l1_penalty", "l2_penalty"])
def test_penalty_value_and_gradient_against_torch(name: str, reduction: str, dtype: str, lam: float) -> None:
    result = lossapp.compute(name, W, reduction=reduction, dtype=dtype, lam=lam)
    w = torch.tensor(W, dtype=DTYPES[dtype], requires_grad=True)
    terms = lam * w.abs() if name == "l1_penalty" else lam / 2 * w ** 2
    ref = _reduce(terms, reduction)
    (g,) = torch.autograd.grad(ref, w, torch.ones_like(ref))
    torch.testing.assert_close(result.value, ref.detach().double(), **TOL[dtype])
    torch.testing.assert_close(torch.tensor(result.gradient.manual, dtype=torch.float64), g.double(), **TOL[dtype])
    assert result.reference.agrees and result.gradient.agrees
    # the gradient step shows the same numbers as autograd
    torch.testing.assert_close(result.step("g").value, g.double(), **TOL[dtype])


def test_article_weight_decay_001_example() -> None:
    w = [0.5, -1.2, 2.0, 0.0, -0.3]
    l1 = lossapp.compute("l1_penalty", w, reduction="sum", lam=0.01)
    l2 = lossapp.compute("l2_penalty", w, reduction="sum", lam=0.01)
    assert l1.value == pytest.approx(0.01 * 4.0)  # Σ|w| = 4.0
    assert l2.value == pytest.approx(0.01 / 2 * 5.78)  # Σw² = 0.25 + 1.44 + 4 + 0 + 0.09
    assert l1.step("||w||_1").value_list() == pytest.approx(4.0)
    assert l2.step("||w||_2^2").value_list() == pytest.approx(5.78)
    assert l1.step("g").value_list() == pytest.approx([0.01, -0.01, 0.01, 0.0, -0.01])
    assert l2.step("g").value_list() == pytest.approx([0.005, -0.012, 0.02, 0.0, -0.003])


def test_reductions_mean_sum_none_are_defined_over_the_weights() -> None:
    for name in ("l1_penalty", "l2_penalty"):
        spec = lossapp.LOSSES[name]
        assert spec.default_reduction == "sum" and spec.reductions == ("none", "mean", "sum")
        assert spec.target_kind is None and spec.pred_kind == "weights"
        total = lossapp.compute(name, W, reduction="sum").value
        per = lossapp.compute(name, W, reduction="none").value
        mean = lossapp.compute(name, W, reduction="mean").value
        assert np.shape(per) == (2, 3)
        assert sum(sum(row) for row in per) == pytest.approx(total)
        assert mean == pytest.approx(total / 6)
        assert lossapp.compute(name, W, reduction="mean").step("den").value_list() == 6
        # lam = 0 switches the penalty off
        assert lossapp.compute(name, W, reduction="sum", lam=0).value == 0


def test_penalties_take_no_target() -> None:
    with pytest.raises(InputError, match="expected no target"):
        lossapp.compute("l2_penalty", "[1, 2]", "[1, 2]")
    with pytest.raises(InputError, match="expected no target for a weight penalty"):
        regularization.penalty_prepare(torch.ones(2), torch.ones(2), {"lam": 0.01}, Trace())
    with pytest.raises(InputError, match=r"expected a value in \[0.0, 10.0\], got -0.1"):
        lossapp.compute("l1_penalty", "[1, 2]", lam=-0.1)


# -- L2 and torch.optim.SGD's weight_decay ----------------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("lam", [0.01, 0.1, 0.3])
def test_sgd_weight_decay_step_is_the_l2_gradient(lam: float, dtype: torch.dtype) -> None:
    """One SGD(lr=1, weight_decay=λ) step on a zero data loss moves w by λ·w = ∇(λ/2)Σw²."""
    torch.manual_seed(0)
    w = torch.randn(4, 3, dtype=dtype)
    param = torch.nn.Parameter(w.clone())
    optimizer = torch.optim.SGD([param], lr=1.0, weight_decay=lam)
    optimizer.zero_grad()
    (0.0 * param.sum()).backward()  # a data loss that is identically 0
    optimizer.step()
    displacement = w - param.detach()
    autograd_w = w.clone().requires_grad_(True)
    (penalty_grad,) = torch.autograd.grad(lam / 2 * (autograd_w ** 2).sum(), autograd_w)
    tol = {"rtol": 1e-12, "atol": 1e-15} if dtype == torch.float64 else {"rtol": 1e-5, "atol": 1e-7}
    torch.testing.assert_close(displacement, penalty_grad, **tol)
    torch.testing.assert_close(regularization.sgd_weight_decay_displacement(w, lam), displacement, rtol=0, atol=0)


def test_weight_decay_equals_adding_the_penalty_to_the_loss() -> None:
    """SGD with weight_decay=λ on a data loss == plain SGD on data loss + (λ/2)Σw² (article 002 point 3)."""
    torch.manual_seed(1)
    x, y, w0 = torch.randn(8, 3, dtype=torch.float64), torch.randn(8, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    lam, lr = 0.01, 0.1
    a = torch.nn.Parameter(w0.clone())
    opt_a = torch.optim.SGD([a], lr=lr, weight_decay=lam)
    b = torch.nn.Parameter(w0.clone())
    opt_b = torch.optim.SGD([b], lr=lr)
    for _ in range(3):
        opt_a.zero_grad()
        F.mse_loss(x @ a, y).backward()
        opt_a.step()
        opt_b.zero_grad()
        # the L2 reference (value (λ/2)Σw², gradient from an SGD weight_decay step) as a loss term
        (F.mse_loss(x @ b, y) + regularization.l2_penalty_reference(b, None, {"lam": lam}, "sum")).backward()
        opt_b.step()
    torch.testing.assert_close(a.detach(), b.detach(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_l2_reference_gradient_comes_from_the_sgd_step(reduction: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[torch.Tensor, float]] = []
    original = regularization.sgd_weight_decay_displacement

    def spy(w: torch.Tensor, lam: float) -> torch.Tensor:
        calls.append((w.detach().clone(), lam))
        return original(w, lam)

    monkeypatch.setattr(regularization, "sgd_weight_decay_displacement", spy)
    result = lossapp.compute("l2_penalty", W, reduction=reduction, dtype="float32", lam=0.01)
    assert len(calls) == 1 and calls[0][1] == 0.01
    w32 = torch.tensor(W, dtype=torch.float32)
    # the engine's reference gradient is exactly the SGD step's displacement (bit for bit in float32),
    # times d(mean)/d(term) = 1/6 in float32 for the mean
    step = (original(w32, 0.01) * torch.tensor(1 / 6 if reduction == "mean" else 1.0)).double()
    assert torch.equal(torch.tensor(result.gradient.reference, dtype=torch.float64), step)
    assert result.reference.name.endswith("gradient from torch.optim.SGD(lr=1, weight_decay=lam)")
    assert result.gradient.agrees


def test_l2_steps_show_the_optimizer_link() -> None:
    result = lossapp.compute("l2_penalty", "[0.5, -1.2, 2.0]", reduction="sum", lam=0.01)
    symbols = [s.symbol for s in result.steps]
    assert symbols == ["w^2", "||w||_2^2", "l", "g", "w'", "Δw", "L"]
    assert result.step("w'").value_list() == pytest.approx([0.495, -1.188, 1.98])
    assert result.step("Δw").value_list() == pytest.approx([0.005, -0.012, 0.02])
    assert "weight_decay" in result.step("w'").note and "article 002" in result.step("w'").note
    assert result.value == pytest.approx(0.02845)


def test_l1_gradient_is_lambda_sign_with_zero_at_zero() -> None:
    result = lossapp.compute("l1_penalty", "[3.0, -0.2, 0.0]", reduction="sum", lam=0.1, dtype="float64")
    assert result.gradient.manual == pytest.approx([0.1, -0.1, 0.0])
    assert result.gradient.reference == pytest.approx([0.1, -0.1, 0.0])


@settings(max_examples=40, deadline=None)
@given(w=st.lists(st.floats(-10, 10, allow_nan=False), min_size=1, max_size=20),
       lam=st.sampled_from([0.0, 0.001, 0.01, 1.0]), reduction=st.sampled_from(REDUCTIONS))
def test_penalties_property_against_numpy(w: list[float], lam: float, reduction: str) -> None:
    a = np.array(w)
    n = a.size
    for name, terms, grad in (("l1_penalty", lam * np.abs(a), lam * np.sign(a)),
                              ("l2_penalty", lam / 2 * a * a, lam * a)):
        result = lossapp.compute(name, w, reduction=reduction, dtype="float64", lam=lam)
        expected = {"none": terms, "mean": terms.mean(), "sum": terms.sum()}[reduction]
        np.testing.assert_allclose(np.asarray(result.value), expected, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(np.asarray(result.gradient.manual), grad / (n if reduction == "mean" else 1),
                                   rtol=1e-12, atol=1e-15)
        assert result.reference.agrees and result.gradient.agrees


# -- every spec ------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["l1_penalty", "l2_penalty"])
def test_torch_code_computes_the_same_value(name: str, reduction: str) -> None:
    result = lossapp.compute(name, W, reduction=reduction, dtype="float64", lam=0.01)
    value = run_torch_code(lossapp.LOSSES[name].torch_code, **{"pred": torch.tensor(W, dtype=torch.float64),
                                                   "reduction": reduction, "lam": 0.01})
    torch.testing.assert_close(value, result.value)


@pytest.mark.parametrize("name", ["l1_penalty", "l2_penalty"])
def test_chinese_for_every_string(name: str) -> None:
    spec = lossapp.LOSSES[name]
    texts = [spec.title, spec.summary, *(p.description for p in spec.params)]
    for reduction in REDUCTIONS:
        r = lossapp.compute(name, W, reduction=reduction, lam=0.05)
        texts += [s.title for s in r.steps] + [s.note for s in r.steps if s.note] + r.warnings
    with pytest.raises(InputError) as info:
        regularization.penalty_prepare(torch.ones(1), torch.ones(1), {}, Trace())
    texts.append(info.value.message)
    missing = sorted({t for t in texts if t and not has_zh(t)})
    assert not missing, missing


def test_l1_penalty_gradient_notes_the_kink_at_zero() -> None:
    r = lossapp.compute("l1_penalty", "[0.5, 0.0, -1.2]", lam=0.1)
    step = r.step("g")
    assert step.value_list() == pytest.approx([0.1, 0.0, -0.1])
    assert "w = 0 is the kink of |w|" in step.note and "sign(0) = 0" in step.note
    assert has_zh(step.note)
    mean = lossapp.compute("l1_penalty", "[0.5, 0.0, -1.2]", lam=0.1, reduction="mean").step("g")
    assert mean.value_list() == pytest.approx([0.1 / 3, 0.0, -0.1 / 3])
    assert "divided by n = 3" in mean.note


def test_default_reduction_is_the_penalty_itself_a_sum() -> None:
    """reduction=None is the loss's own default (DESIGN §2): the penalty λ/2·Σw², not its mean over the weights."""
    w = "[0.5, -1.2, 2.0, 0.0, -0.3]"
    r = lossapp.compute("l2_penalty", w, lam=0.01)
    assert r.reduction == "sum"
    assert r.scalar == pytest.approx(0.01 / 2 * (0.25 + 1.44 + 4.0 + 0.09), rel=1e-14)
    assert lossapp.compute("l1_penalty", w, lam=0.01).scalar == pytest.approx(0.01 * 4.0, rel=1e-14)
    assert lossapp.check("l2_penalty", w, claimed="0.0289", lam=0.01).verdict == "exact"


@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
def test_l1_penalty_gradient_bound_holds(reduction: str) -> None:
    """The L1 gradient's Lazy bound λ is at least |g_i| for every element (random, zero, tiny, huge and subnormal
    weights; λ from 0 to 10); L2's has none."""
    g = torch.Generator().manual_seed(12)
    w = torch.cat([torch.randn(1000, generator=g, dtype=torch.float64), torch.tensor([0.0, -0.0, 5e-324, -5e-324,
                                                                                     1e-300, -1e300, 1e308])])
    spec = lossapp.LOSSES["l1_penalty"]
    for lam in (0.0, 2.0 ** -1021, 0.01, 0.3, 1.0, 7.3, 10.0):
        for x in (w, w[:1], w[-3:]):
            grad = spec.gradient(x, None, spec.resolve_params({"lam": lam}), reduction)
            values = grad.full()
            assert grad.bound == lam and float(values.abs().max()) <= grad.bound
            assert torch.equal(grad.flat(0, x.numel(), out=torch.empty_like(values)), values)  # (Lazy.into)
    l2 = lossapp.LOSSES["l2_penalty"]
    assert l2.gradient(w, None, l2.resolve_params({}), reduction).bound is None


@pytest.mark.parametrize("name", ["l1_penalty", "l2_penalty"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_a_large_narrower_pred_gives_what_its_float64_copy_gives(name: str, dtype: torch.dtype) -> None:
    """A penalty takes a large float32 / float16 / bfloat16 pred as it is (LossSpec.narrow_pred: no float64 copy; |w|
    and w² formed from blocks widened in cache, the gradient's blocks widened): the value, every step, the gradients
    and their comparison are bit for bit those of the same weights given as float64 (the path that widens at once),
    for every reduction, with a last block shorter than the others, zeros and ±0."""
    g = torch.Generator().manual_seed(3)
    w = (torch.randn(3, 80_001, generator=g) * 3).to(dtype)
    w[:, ::7] = 0.0
    w[1, ::11] = -0.0
    for reduction, weights in (("sum", w), ("mean", w), ("none", w), ("sum", w.t()), ("mean", w.t()[::2])):
        narrow = lossapp.compute(name, weights, lam=0.3, reduction=reduction)  # (also strided: summed in its order)
        wide = lossapp.compute(name, weights.double(), lam=0.3, reduction=reduction)
        assert narrow.pred.narrow is not None and wide.pred.narrow is None  # (the path taken)
        assert torch.equal(narrow.value, wide.value) and narrow.agrees and wide.agrees
        for a, b in zip(narrow.steps, wide.steps, strict=True):
            assert a.symbol == b.symbol and torch.equal(a.shown_values(), b.shown_values()) and a.note == b.note
        assert narrow.gradient.to_dict() == wide.gradient.to_dict()
        assert narrow.reference.to_dict() == wide.reference.to_dict()
        assert all(torch.equal(x, y) for x, y in zip(narrow.gradient.replay.gradients(),
                                                     wide.gradient.replay.gradients(), strict=True))
    spec = lossapp.LOSSES[name]
    params = spec.resolve_params({"lam": 0.3})
    for reduction in ("sum", "mean"):  # the gradient's blocks, widened, and in full
        lazy, exact = spec.gradient(w, None, params, reduction), spec.gradient(w.double(), None, params, reduction)
        assert torch.equal(lazy.full(), exact.full()) and torch.equal(lazy.flat(5, 70_000), exact.flat(5, 70_000))


@pytest.mark.parametrize("name", ["l1_penalty", "l2_penalty"])
@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
def test_the_penalties_gradient_blocks_written_into_a_buffer_are_its_formula(name: str, reduction: str) -> None:
    """The penalties' Lazy gradient, in full, a block at a time and a block written into a given float64 buffer
    (`Lazy.into`: w widened into it and mapped in place), is bit for bit λ·sign(w) (L1) or λ·w (L2) of w widened, divided
    by n for mean: float64, float32, float16 and bfloat16 weights, strided ones, ±0, subnormal, huge, ±inf and NaN."""
    spec = lossapp.LOSSES[name]
    g = torch.Generator().manual_seed(21)
    special = torch.tensor([0.0, -0.0, 5e-324, -5e-324, 1e-310, 1e300, -1e308, float("inf"), -float("inf"),
                            float("nan"), 1.0, -1.0], dtype=torch.float64)
    w = torch.cat([torch.randn(997, generator=g, dtype=torch.float64) * 3, special])
    for lam in (0.0, 0.01, 0.3, 7.3):
        for x in (w, w.float(), w.half(), w.bfloat16(), w[:1000].reshape(40, 25).t()):
            params = spec.resolve_params({"lam": lam})
            grad = spec.gradient(x, None, params, reduction)
            wide = x.double()
            want = torch.sign(wide) * lam if name == "l1_penalty" else lam * wide
            want = want / max(x.numel(), 1) if reduction == "mean" else want
            assert torch.equal(grad.full().nan_to_num(7.0), want.nan_to_num(7.0))  # (NaN where w is NaN)
            assert grad.full().isnan().equal(want.isnan())
            if x.is_contiguous():
                flat_want = want.reshape(-1)[3:1005]
                buffer = torch.full((1002,), 5.0, dtype=torch.float64)
                written = grad.flat(3, 1005, out=buffer)
                assert written is buffer
                for got in (written, grad.flat(3, 1005)):
                    assert torch.equal(got.nan_to_num(7.0), flat_want.nan_to_num(7.0))
                    assert got.isnan().equal(flat_want.isnan())
