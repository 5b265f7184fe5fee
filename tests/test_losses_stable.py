"""lossapp.losses.stable: the branch-free stable forms give torch.where's values and gradients exactly."""

from __future__ import annotations

import math

import pytest
import torch

from lossapp.losses import stable

F64 = torch.float64
INF = math.inf


def _logits() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    edges = torch.tensor([0.0, -0.0, 1e-300, -1e-300, 36.0, -36.0, 50.0, -50.0, 700.0, -700.0], dtype=F64)
    return torch.cat([torch.randn(2000, generator=g, dtype=F64) * 6, edges])


def _value_and_grad(fn, x: torch.Tensor, *args):
    x = x.clone().requires_grad_(True)
    value = fn(x, *args)
    (grad,) = torch.autograd.grad(value.sum(), x)
    return value.detach(), grad


# the torch.where forms these helpers replace (the x ≥ 0 branch at x = 0)
def _where_exp_neg_abs(x):
    return torch.exp(torch.where(x >= 0, -x, x))


def _where_sigmoid(x):
    e = _where_exp_neg_abs(x)
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _where_logsigmoid(x):
    return torch.where(x < 0, x, torch.zeros_like(x)) - torch.log1p(_where_exp_neg_abs(x))


def _where_bce(x, y):
    zero = torch.zeros_like(x)
    tail = torch.log1p(_where_exp_neg_abs(x))
    relu_x = torch.where(x >= 0, x, zero)
    return torch.where(y == 1, torch.where(x < 0, -x, zero) + tail,
                       torch.where(y == 0, relu_x + tail, relu_x - x * y + tail))


@pytest.mark.parametrize(("new", "old"), [(stable.exp_neg_abs, _where_exp_neg_abs),
                                          (stable.stable_sigmoid, _where_sigmoid),
                                          (stable.stable_logsigmoid, _where_logsigmoid)])
def test_branch_free_forms_equal_the_where_forms(new, old) -> None:
    x = _logits()
    v_new, g_new = _value_and_grad(new, x)
    v_old, g_old = _value_and_grad(old, x)
    assert torch.equal(v_new, v_old)  # bit for bit
    torch.testing.assert_close(g_new, g_old, rtol=1e-15, atol=1e-300)


@pytest.mark.parametrize("soft", [False, True])
def test_bce_with_logits_stable_equals_the_hard_label_forms(soft: bool) -> None:
    x = _logits()
    g = torch.Generator().manual_seed(1)
    y = torch.rand(x.shape, generator=g, dtype=F64) if soft else (torch.rand(x.shape, generator=g) < 0.5).to(F64)
    v_new, g_new = _value_and_grad(stable.bce_with_logits_stable, x, y)
    v_old, g_old = _value_and_grad(_where_bce, x, y)
    assert torch.equal(v_new, v_old)
    torch.testing.assert_close(g_new, g_old, rtol=1e-15, atol=1e-300)


def test_derivative_at_zero_is_the_true_one() -> None:
    x = torch.zeros(3, dtype=F64)
    _, g = _value_and_grad(stable.stable_logsigmoid, x)
    assert g.tolist() == [0.5, 0.5, 0.5]  # d/dx log σ(x) = 1 − σ(x) = 1/2
    _, g = _value_and_grad(stable.bce_with_logits_stable, x, torch.tensor([1.0, 0.0, 0.25], dtype=F64))
    assert g.tolist() == [-0.5, 0.5, 0.25]  # σ(0) − y


def test_infinite_logits_take_the_where_forms() -> None:
    x = torch.tensor([INF, -INF, 0.0, 3.0], dtype=F64)
    y = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=F64)
    assert torch.equal(stable.stable_sigmoid(x), _where_sigmoid(x))
    assert torch.equal(stable.bce_with_logits_stable(x, y), _where_bce(x, y))  # 0, not 0·∞ = NaN
    assert stable.bce_with_logits_stable(x, y)[:2].tolist() == [0.0, 0.0]


def test_sign_parts() -> None:
    x = torch.tensor([-2.0, -0.0, 0.0, 3.0], dtype=F64)
    for values in (x, torch.tensor([-INF, 0.0, INF], dtype=F64)):
        abs_x, min_x, min_neg_x = (v.detach() for v in stable.sign_parts(values))
        assert abs_x.tolist() == values.abs().tolist()
        assert min_x.tolist() == values.clamp(max=0).tolist()
        assert min_neg_x.tolist() == (-values).clamp(max=0).tolist()
    grads = [torch.autograd.grad(part.sum(), xx)[0].tolist()
             for xx in [x.clone().requires_grad_(True)] for part in stable.sign_parts(xx)]
    assert grads == [[-1.0, 1.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0], [0.0, -1.0, -1.0, -1.0]]  # x ≥ 0 branch at 0


@pytest.mark.parametrize("b", [0.0, 2.5, "tensor"])
def test_select_is_where(b) -> None:
    g = torch.Generator().manual_seed(2)
    a = torch.randn(500, generator=g, dtype=F64).requires_grad_(True)
    other = torch.randn(500, generator=g, dtype=F64).requires_grad_(True) if b == "tensor" else b
    cond = torch.rand(500, generator=g) < 0.5
    new = stable.select(cond, a, other)
    old = torch.where(cond, a, other)
    assert torch.equal(new, old) and not bool(torch.signbit(new[~cond & (old == 0)]).any())
    tensors = [a, other] if b == "tensor" else [a]
    for gn, go in zip(torch.autograd.grad(new.sum(), tensors), torch.autograd.grad(old.sum(), tensors), strict=True):
        assert torch.equal(gn, go)


def test_select_keeps_where_for_non_finite_branches() -> None:
    cond = torch.tensor([True, False])
    a = torch.tensor([1.0, INF], dtype=F64)
    assert stable.select(cond, a, 0.0).tolist() == [1.0, 0.0]  # not inf·0 = NaN


def test_small_checks() -> None:
    assert stable.all_finite(torch.tensor([1.0, 2.0]), None) and not stable.all_finite(torch.tensor([1.0, -INF]))
    assert stable.all_finite(torch.tensor([1e308, 1e308], dtype=F64))  # the sum overflows, the elements do not
    assert stable.all_binary(torch.tensor([0.0, 1.0, 1.0])) and not stable.all_binary(torch.tensor([1.0, 0.5]))
    assert not stable.all_binary(torch.tensor([0.3, 1.0]))
    assert stable.within(torch.tensor([0.0, 1.0]), 0, 1) and not stable.within(torch.tensor([0.0, 1.5]), 0, 1)
    assert not stable.within(torch.tensor([math.nan]), 0, 1)


def test_known_binary_answers_all_binary_until_the_tensor_changes() -> None:
    """inputs.checks.known_binary records all_binary's answer (True) for a tensor the caller knows holds 0/1 labels (1 − y
    of such a y); an in-place change of it (its version counter) makes all_binary look again."""
    from lossapp.inputs.checks import known_binary
    y = (torch.rand(1000, generator=torch.Generator().manual_seed(2)) > 0.5).double()
    swapped = known_binary(torch.neg(y).add_(1))
    assert stable.all_binary(swapped) and swapped._lossapp_all_binary == (swapped._version, True)
    swapped[1] = 0.5  # (a first element of 0 or 1: the pass decides)
    swapped[0] = 0.0
    assert not stable.all_binary(swapped)


def test_first_indices_are_nonzeros_first_rows() -> None:
    g = torch.Generator().manual_seed(3)
    for p in (0.9999, 0.9, 0.0):
        mask = torch.rand(4, 3000, 5, generator=g) > p
        assert stable.first_indices(mask, 11) == mask.nonzero()[:11].tolist()
    assert stable.first_indices(torch.zeros(7, dtype=torch.bool), 3) == []
