"""Overlap losses (article 003): dice, iou, tversky, dice_ce, dice_focal — against torch, an independent
numpy formula, the confusion counts and the article's own dice_loss code."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from peer_libraries import peer, smp_losses
from spec_code import run_torch_code

import lossapp
from lossapp.i18n import has_zh
from lossapp.inputs import InputError
from lossapp.losses.overlap import overlap_score
from lossapp.trace import Trace

SET_LOSSES = ("dice", "iou", "tversky")
COMBOS = ("dice_ce", "dice_focal")
PRED = [[0.9, 0.2, 0.7, 0.1], [0.3, 0.8, 0.6, 0.4]]
TARGET = [[1, 0, 1, 0], [0, 1, 1, 0]]
LOGITS = [[2.0, -1.5, 0.3, -0.2], [-0.7, 1.1, 2.5, -3.0]]
SOFTMAX_PRED = [[[2.0, -1.0, 0.5], [0.5, 0.3, -0.2], [-1.0, 0.4, 1.5]],
                [[0.1, 0.2, -0.3], [1.0, -2.0, 0.7], [0.0, 0.5, -0.5]]]  # (N=2, C=3, d=3)
SOFTMAX_TARGET = [[0, 1, 2], [1, 0, 0]]  # class indices (N=2, d=3)
BATCH = [[[0.9, 0.2, 0.7], [0.1, 0.6, 0.3]], [[0.3, 0.8, 0.6], [0.4, 0.5, 0.95]]]  # (N=2, C=2, d=3)
BATCH_TARGET = [[[1, 0, 1], [0, 1, 0]], [[0, 1, 1], [0, 0, 1]]]
EMPTY_CHANNEL_TARGET = [[[1, 0, 1], [0, 0, 0]], [[0, 1, 1], [0, 0, 1]]]  # sample 0, channel 1: nothing to find
SOFT_TARGET = [[[0.75, 0.125, 0.5], [0.0, 0.625, 0.25]], [[0.25, 0.875, 0.5], [0.375, 0.0, 1.0]]]  # exact in float32

# (loss, pred, target, params) cases covering every activation and set layout
CASES = [
    *[(n, PRED, TARGET, {}) for n in (*SET_LOSSES, *COMBOS)],
    *[(n, PRED, TARGET, {"per_sample": False}) for n in (*SET_LOSSES, *COMBOS)],
    *[(n, PRED, TARGET, {"per_sample": True}) for n in (*SET_LOSSES, *COMBOS)],
    *[(n, BATCH, BATCH_TARGET, {}) for n in (*SET_LOSSES, *COMBOS)],
    *[(n, BATCH, BATCH_TARGET, {"per_channel": True}) for n in (*SET_LOSSES, *COMBOS)],
    *[(n, BATCH, BATCH_TARGET, {"per_channel": True, "per_sample": False, "include_background": False})
      for n in (*SET_LOSSES, "dice_ce")],
    *[(n, BATCH, EMPTY_CHANNEL_TARGET, {"per_channel": True, "zero_empty": True, "intersection": "l1"})
      for n in SET_LOSSES],
    *[(n, BATCH, SOFT_TARGET, {"intersection": "l1", "eps": 2.0}) for n in SET_LOSSES],
    *[(n, SOFTMAX_PRED, SOFTMAX_TARGET, {"activation": "softmax", "include_background": False, "zero_empty": True})
      for n in SET_LOSSES],
    *[(n, PRED[0], TARGET[0], {}) for n in (*SET_LOSSES, *COMBOS)],
    *[(n, LOGITS, TARGET, {"activation": "sigmoid"}) for n in (*SET_LOSSES, *COMBOS)],
    *[(n, SOFTMAX_PRED, SOFTMAX_TARGET, {"activation": "softmax"}) for n in (*SET_LOSSES, "dice_ce")],
    *[(n, SOFTMAX_PRED, SOFTMAX_TARGET, {"activation": "softmax", "per_sample": False})
      for n in (*SET_LOSSES, "dice_ce")],
    ("tversky", PRED, TARGET, {"alpha": 0.3, "beta": 0.7}),
    ("dice_ce", PRED, TARGET, {"lambda_dice": 0.4, "lambda_ce": 1.7}),
    ("dice_focal", LOGITS, TARGET, {"activation": "sigmoid", "alpha": -1, "gamma": 1.5, "lambda_focal": 2.0}),
]
CASE_IDS = [f"{n}-{i}" for i, (n, *_) in enumerate(CASES)]


def _np_coefficient(p: np.ndarray, t: np.ndarray, kind: str, eps: float, alpha: float = 0.5,
                    beta: float = 0.5) -> float:
    """Textbook set formulas, written independently of lossapp (numpy, float64)."""
    inter = float(np.sum(p * t))
    if kind == "dice":
        return (2 * inter + eps) / (float(np.sum(p)) + float(np.sum(t)) + eps)
    if kind == "iou":
        return (inter + eps) / (float(np.sum(p)) + float(np.sum(t)) - inter + eps)
    fp, fn = float(np.sum(p * (1 - t))), float(np.sum((1 - p) * t))
    return (inter + eps) / (inter + alpha * fp + beta * fn + eps)


# -- every loss × reduction × dtype against the torch reference ----------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("name", "pred", "target", "params"), CASES, ids=CASE_IDS)
def test_value_and_gradient_agree_with_reference(name: str, pred: list, target: list, params: dict,
                                                 dtype: str) -> None:
    for reduction in lossapp.LOSSES[name].reductions:
        r = lossapp.compute(name, pred, target, reduction=reduction, dtype=dtype, **params)
        assert r.reference.agrees, (name, reduction, r.value, r.reference)
        assert r.reference.dtype == dtype
        assert r.gradient is not None and r.gradient.agrees, (name, reduction, r.gradient)
        json.dumps(r.to_dict(), allow_nan=False)
        # independently of the engine: the reference run here in float64 with autograd
        spec = lossapp.LOSSES[name]
        eff = spec.resolve_params(params)
        x = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
        t = torch.tensor(target)
        t = t.double() if params.get("activation") != "softmax" else t.long()
        ref = spec.reference(x, t, eff, reduction)
        torch.testing.assert_close(r.value, ref.detach(), rtol=1e-9, atol=1e-12)
        (g,) = torch.autograd.grad(ref, x, torch.ones_like(ref))
        torch.testing.assert_close(torch.tensor(r.gradient.manual, dtype=torch.float64), g, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize(("name", "pred", "target", "params"), CASES, ids=CASE_IDS)
def test_every_visible_string_has_chinese(name: str, pred: list, target: list, params: dict) -> None:
    spec = lossapp.LOSSES[name]
    texts = [spec.title, spec.summary, *(p.description for p in spec.params)]
    for reduction in spec.reductions:
        r = lossapp.compute(name, pred, target, reduction=reduction, **params)
        texts += [s.title for s in r.steps] + [s.note for s in r.steps if s.note] + r.warnings
    missing = sorted({t for t in texts if t and not has_zh(t)})
    assert not missing, missing


@pytest.mark.parametrize("name", [*SET_LOSSES, *COMBOS])
def test_torch_code_matches_reference(name: str) -> None:
    """The "Reproduce in PyTorch" snippet computes what the reference computes (our own constant code)."""
    spec = lossapp.LOSSES[name]
    for pred, target, params in ((PRED, TARGET, {}), (LOGITS, TARGET, {"activation": "sigmoid", "per_sample": False}),
                                 (SOFTMAX_PRED, SOFTMAX_TARGET, {"activation": "softmax"})):
        if params.get("activation") == "softmax" and name == "dice_focal":
            continue
        eff = spec.resolve_params(params)
        for reduction in spec.reductions:
            x = torch.tensor(pred, dtype=torch.float64)
            t = torch.tensor(target)
            t = t.long() if params.get("activation") == "softmax" else t.double()
            got = run_torch_code(spec.torch_code, pred=x, target=t, reduction=reduction, **eff)
            torch.testing.assert_close(got, spec.reference(x, t, eff, reduction), rtol=1e-12, atol=1e-12)


# -- shapes and reductions --------------------------------------------------------------------------------

def test_one_set_for_1d_and_per_sample_for_batches() -> None:
    one = lossapp.compute("dice", PRED[0], TARGET[0], reduction="none")
    assert one.value.shape == ()  # the whole 1-D tensor is one set
    batch = lossapp.compute("dice", PRED, TARGET, reduction="none", per_sample=True)
    assert batch.value.shape == (2,)
    assert batch.value[0] == pytest.approx(one.value, abs=1e-15)
    mean = lossapp.compute("dice", PRED, TARGET, reduction="mean", per_sample=True)
    total = lossapp.compute("dice", PRED, TARGET, reduction="sum", per_sample=True)
    assert mean.value == pytest.approx(sum(batch.value) / 2, abs=1e-15)
    assert total.value == pytest.approx(sum(batch.value), abs=1e-15)
    whole = lossapp.compute("dice", PRED, TARGET, per_sample=False, reduction="none")
    flat = lossapp.compute("dice", [v for row in PRED for v in row], [v for row in TARGET for v in row],
                           reduction="none")
    assert whole.value == pytest.approx(flat.value, abs=1e-15)
    assert len(batch.table()) == 2 and len(one.table()) == 4


def test_matches_article_003_dice_loss_code() -> None:
    def dice_loss(target, predictive, ep=1e-8):  # verbatim from article 003
        intersection = 2 * torch.sum(predictive * target) + ep
        union = torch.sum(predictive) + torch.sum(target) + ep
        loss = 1 - intersection / union
        return loss

    x = torch.tensor(PRED, dtype=torch.float64)
    y = torch.tensor(TARGET, dtype=torch.float64)
    r = lossapp.compute("dice", PRED, TARGET, per_sample=False, dtype="float64")
    assert r.value == pytest.approx(dice_loss(y, x).item(), abs=1e-15)
    # the numbers: Σpt = 0.9 + 0.7 + 0.8 + 0.6 = 3.0, Σp = 4.0, Σt = 4
    assert r.step("|X∩Y|").value_list() == pytest.approx(3.0)
    assert r.step("|X|").value_list() == pytest.approx(4.0)
    assert r.step("|Y|").value_list() == 4.0
    assert r.value == pytest.approx(1 - (6 + 1e-8) / (8 + 1e-8), abs=1e-15)


def test_example_toml_numbers() -> None:
    r = lossapp.compute("dice", "[[0, 1, 1], [1, 1, 0], [0, 0, 0]]", "[[0, 1, 1], [0, 1, 1], [0, 0, 0]]",
                        per_sample=False, eps=1e-8)
    assert r.value == pytest.approx(1 - (6 + 1e-8) / (8 + 1e-8), abs=1e-15)
    assert (r.step("TP").value_list(), r.step("FP").value_list(), r.step("FN").value_list(),
            r.step("TN").value_list()) == (3.0, 1.0, 1.0, 4.0)
    assert r.step("F1").value_list() == 0.75
    assert r.step("F1").substituted() == [r"\frac{2 \cdot 3}{2 \cdot 3 + 1 + 1} = \frac{2 \cdot 0.75 \cdot 0.75}{0.75 + 0.75}"]


def test_softmax_index_and_one_hot_targets_agree() -> None:
    one_hot = F.one_hot(torch.tensor(SOFTMAX_TARGET), 3).movedim(-1, 1).tolist()
    for per_sample in (True, False):
        a = lossapp.compute("dice", SOFTMAX_PRED, SOFTMAX_TARGET, activation="softmax", per_sample=per_sample)
        b = lossapp.compute("dice", SOFTMAX_PRED, one_hot, activation="softmax", per_sample=per_sample)
        assert a.value == pytest.approx(b.value, abs=1e-15)
        torch.testing.assert_close(torch.tensor(a.gradient.manual, dtype=torch.float64), torch.tensor(b.gradient.manual, dtype=torch.float64),
                                   rtol=0, atol=1e-15)
    # per class, then the mean over classes; by hand for sample 0
    p = torch.softmax(torch.tensor(SOFTMAX_PRED, dtype=torch.float64), 1)[0]
    t = torch.tensor(one_hot, dtype=torch.float64)[0]
    per_class = (2 * (p * t).sum(-1) + 1e-8) / (p.sum(-1) + t.sum(-1) + 1e-8)
    r = lossapp.compute("dice", SOFTMAX_PRED, SOFTMAX_TARGET, activation="softmax", reduction="none")
    assert r.value[0] == pytest.approx(1 - per_class.mean().item(), abs=1e-14)


def test_softmax_nc_without_positions_warns() -> None:
    r = lossapp.compute("dice", [[2.0, 0.1, -1.0], [0.3, 0.2, 1.0]], [0, 2], activation="softmax")
    assert any("no positions" in w for w in r.warnings)
    assert r.reference.agrees


@pytest.mark.parametrize("name", SET_LOSSES)
def test_sigmoid_matches_probabilities(name: str) -> None:
    probs = torch.sigmoid(torch.tensor(LOGITS, dtype=torch.float64)).tolist()
    a = lossapp.compute(name, LOGITS, TARGET, activation="sigmoid", dtype="float64")
    b = lossapp.compute(name, probs, TARGET, dtype="float64")
    assert a.value == pytest.approx(b.value, abs=1e-14)
    big = lossapp.compute(name, [[800.0, -800.0]], [[1, 0]], activation="sigmoid")
    assert math.isfinite(big.value) and big.reference.agrees and big.gradient.agrees


# -- independent numpy formula (property tests) -----------------------------------------------------------

def _arrays(draw, binary: bool = False) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 3))
    m = draw(st.integers(1, 6))
    values = st.sampled_from([0.0, 1.0]) if binary else st.floats(0, 1, allow_nan=False, width=32)
    p = np.array(draw(st.lists(st.lists(values, min_size=m, max_size=m), min_size=n, max_size=n)))
    t = np.array(draw(st.lists(st.lists(st.sampled_from([0.0, 1.0]), min_size=m, max_size=m), min_size=n, max_size=n)))
    return p, t


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kind=st.sampled_from(SET_LOSSES), eps=st.sampled_from([1e-8, 1e-5, 1.0]),
       alpha=st.floats(0, 2), beta=st.floats(0, 2))
def test_property_against_numpy(data, kind: str, eps: float, alpha: float, beta: float) -> None:
    p, t = _arrays(data.draw)
    params = {"eps": eps, **({"alpha": alpha, "beta": beta} if kind == "tversky" else {})}
    r = lossapp.compute(kind, p.tolist(), t.tolist(), reduction="none", dtype="float64", per_sample=True, **params)
    expected = [1 - _np_coefficient(p[i], t[i], kind, eps, alpha, beta) for i in range(p.shape[0])]
    assert r.value == pytest.approx(expected, rel=1e-12, abs=1e-12)
    whole = lossapp.compute(kind, p.tolist(), t.tolist(), dtype="float64", per_sample=False, **params)
    assert whole.value == pytest.approx(1 - _np_coefficient(p, t, kind, eps, alpha, beta), rel=1e-12, abs=1e-12)
    assert r.reference.agrees and whole.reference.agrees


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_property_dice_is_f1_of_the_counts(data) -> None:
    p, t = _arrays(data.draw, binary=True)
    p, t = p.reshape(-1), t.reshape(-1)
    assume(p.sum() + t.sum() > 0)
    tp, fp = int(np.sum(p * t)), int(np.sum(p * (1 - t)))
    fn, tn = int(np.sum((1 - p) * t)), int(np.sum((1 - p) * (1 - t)))
    dice = lossapp.compute("dice", p.tolist(), t.tolist(), eps=0, dtype="float64")
    f1 = lossapp.confusion(tp, fp, fn, tn, metric="f1")
    assert 1 - dice.value == pytest.approx(f1.value, abs=1e-15)
    assert dice.step("F1").value_list() == pytest.approx(f1.value, abs=1e-15)
    assert (dice.step("TP").value_list(), dice.step("FP").value_list(), dice.step("FN").value_list(),
            dice.step("TN").value_list()) == (tp, fp, fn, tn)
    iou = lossapp.compute("iou", p.tolist(), t.tolist(), eps=0, dtype="float64")
    assert 1 - iou.value == pytest.approx(lossapp.confusion(tp, fp, fn, metric="iou").value, abs=1e-15)


# -- identities -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("per_sample", [True, False])
def test_tversky_half_half_is_dice(per_sample: bool) -> None:
    a = lossapp.compute("tversky", PRED, TARGET, alpha=0.5, beta=0.5, eps=0, dtype="float64", per_sample=per_sample)
    b = lossapp.compute("dice", PRED, TARGET, eps=0, dtype="float64", per_sample=per_sample)
    assert a.value == pytest.approx(b.value, rel=1e-14, abs=1e-15)
    torch.testing.assert_close(torch.tensor(a.gradient.manual, dtype=torch.float64), torch.tensor(b.gradient.manual, dtype=torch.float64),
                               rtol=1e-12, atol=1e-15)
    # with ε the two smooth differently: (I+ε)/(S/2+ε) vs (2I+ε)/(S+ε) differ by at most ε·(2I+S)/S² ≤ 2ε/S
    c = lossapp.compute("tversky", PRED, TARGET, dtype="float64", per_sample=per_sample)
    d = lossapp.compute("dice", PRED, TARGET, dtype="float64", per_sample=per_sample)
    assert c.value != d.value and abs(c.value - d.value) < 2e-8 / 4.0


def test_tversky_one_one_is_iou() -> None:
    a = lossapp.compute("tversky", PRED, TARGET, alpha=1, beta=1, dtype="float64")
    b = lossapp.compute("iou", PRED, TARGET, dtype="float64")
    assert a.value == pytest.approx(b.value, rel=1e-14)


def test_one_overlap_score_behind_dice_iou_and_tversky() -> None:
    """smp's one score: the Tversky index, Dice at α = β = ½ written over 2 (ε smooths 2|X∩Y|), IoU at α = β = 1."""
    tp, fp, fn, eps = torch.tensor(3.2), torch.tensor(0.9), torch.tensor(1.4), 1e-3
    assert float(overlap_score(tp, fp, fn, 0.5, 0.5, 2.0, eps)) == pytest.approx((2 * 3.2 + eps) / (2 * 3.2 + 0.9 + 1.4 + eps))
    assert float(overlap_score(tp, fp, fn, 1.0, 1.0, eps=eps)) == pytest.approx((3.2 + eps) / (3.2 + 0.9 + 1.4 + eps))
    assert float(overlap_score(tp, fp, fn, 0.3, 0.7)) == pytest.approx(3.2 / (3.2 + 0.3 * 0.9 + 0.7 * 1.4))
    p, t = torch.tensor(PRED, dtype=torch.float64), torch.tensor(TARGET, dtype=torch.float64)
    sums = ((p * t).sum(1), (p * (1 - t)).sum(1), ((1 - p) * t).sum(1))
    for name, weights in (("dice", (0.5, 0.5, 2.0)), ("iou", (1.0, 1.0, 1.0)), ("tversky", (0.5, 0.5, 1.0))):
        r = lossapp.compute(name, PRED, TARGET, reduction="none", dtype="float64", per_sample=True)
        torch.testing.assert_close(r.value, 1 - overlap_score(*sums, *weights, eps=1e-8), rtol=1e-14, atol=1e-15)


def test_iou_and_dice_relation_for_masks() -> None:
    d = lossapp.compute("dice", [1, 1, 0, 0, 1], [1, 0, 1, 0, 1], eps=0)
    j = lossapp.compute("iou", [1, 1, 0, 0, 1], [1, 0, 1, 0, 1], eps=0)
    dice = 1 - d.value
    assert 1 - j.value == pytest.approx(dice / (2 - dice))


# -- zero denominators, steps, notes ----------------------------------------------------------------------

def test_empty_masks() -> None:
    r = lossapp.compute("dice", [[0, 0, 0], [1, 0, 1]], [[0, 0, 0], [1, 0, 0]], reduction="none", per_sample=True)
    assert r.value[0] == 0.0  # ε/ε = 1: an empty prediction of an empty target is perfect
    assert "ε/ε = 1" in r.step("D").note
    assert r.reference.agrees
    nan = lossapp.compute("dice", [[0, 0, 0], [1, 0, 1]], [[0, 0, 0], [1, 0, 0]], reduction="none", eps=0,
                          per_sample=True)
    assert math.isnan(nan.value[0]) and nan.value[1] == pytest.approx(1 / 3)
    assert any("0/0 = NaN" in w for w in nan.warnings)
    assert nan.reference.agrees
    assert json.dumps(nan.to_dict(), allow_nan=False)
    assert nan.to_dict()["value"][0] is None
    for name in ("iou", "tversky"):
        z = lossapp.compute(name, [0, 0], [0, 0], eps=0)
        assert math.isnan(z.value) and z.reference.agrees


def test_steps_read_like_the_article() -> None:
    r = lossapp.compute("dice", PRED[0], TARGET[0])
    symbols = [s.symbol for s in r.steps]
    assert symbols[:6] == ["sets", "p·t", "|X∩Y|", "|X|", "|Y|", "D"] and "l" in symbols and symbols[-1] == "L"
    assert r.step("|X∩Y|").substituted() == ["0.9 + 0 + 0.7 + 0"]
    assert r.step("D").substituted() == [r"\frac{2 \cdot 1.6 + 10^{-8}}{1.9 + 2 + 10^{-8}}"]
    assert "TP" not in symbols  # soft predictions: no confusion counts
    masks = lossapp.compute("dice", [1, 0, 1, 1], [1, 0, 0, 1])
    assert {"TP", "FP", "FN", "TN", "P", "R", "F1"} <= {s.symbol for s in masks.steps}
    assert masks.step("P").value_list() == pytest.approx(2 / 3) and masks.step("R").value_list() == 1.0
    sig = lossapp.compute("iou", LOGITS, TARGET, activation="sigmoid")
    assert [s.symbol for s in sig.steps][:3] == ["sets", "p", "p·t"]
    soft = lossapp.compute("tversky", SOFTMAX_PRED, SOFTMAX_TARGET, activation="softmax")
    assert [s.symbol for s in soft.steps][:6] == ["sets", "m", "e", "Σe", "p", "t"] and "T_avg" in {s.symbol for s in soft.steps}
    for s in soft.steps:
        if isinstance(s.value, torch.Tensor) and s.value.is_floating_point():
            assert s.value.dtype == torch.float64


# -- combinations -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_dice_ce_is_the_weighted_sum_of_its_parts(reduction: str) -> None:
    cases = [(PRED, TARGET, "none", "bce"), (LOGITS, TARGET, "sigmoid", "bce_with_logits"),
             (SOFTMAX_PRED, SOFTMAX_TARGET, "softmax", "cross_entropy")]
    for pred, target, activation, ce_name in cases:
        combo = lossapp.compute("dice_ce", pred, target, reduction=reduction, activation=activation,
                                lambda_dice=0.3, lambda_ce=2.0, dtype="float64")
        dice = lossapp.compute("dice", pred, target, reduction=reduction, activation=activation, dtype="float64")
        ce = lossapp.compute(ce_name, pred, target, reduction=reduction, dtype="float64")
        assert combo.value == pytest.approx(0.3 * dice.value + 2.0 * ce.value, rel=1e-13)
        assert combo.step("L_dice").value_list() == pytest.approx(dice.value, rel=1e-13)
        assert combo.step("L_ce").value_list() == pytest.approx(ce.value, rel=1e-13)
        titles = [s.title for s in combo.steps]
        assert any(t.startswith("Dice part: ") for t in titles) and any(t.startswith("CE part: ") for t in titles)
        assert titles[-1] == "Weighted sum of the parts"
        assert combo.gradient.agrees
        expected_grad = (0.3 * torch.tensor(dice.gradient.manual, dtype=torch.float64) + 2.0 * torch.tensor(ce.gradient.manual, dtype=torch.float64))
        torch.testing.assert_close(torch.tensor(combo.gradient.manual, dtype=torch.float64), expected_grad, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("activation", ["none", "sigmoid"])
def test_dice_focal_is_the_weighted_sum_of_its_parts(activation: str) -> None:
    pred = PRED if activation == "none" else LOGITS
    combo = lossapp.compute("dice_focal", pred, TARGET, activation=activation, lambda_focal=3.0, alpha=0.4,
                            gamma=1.0, dtype="float64")
    dice = lossapp.compute("dice", pred, TARGET, activation=activation, dtype="float64")
    focal = lossapp.compute("focal", pred, TARGET, alpha=0.4, gamma=1.0, dtype="float64",
                            input="probabilities" if activation == "none" else "logits")
    assert combo.value == pytest.approx(dice.value + 3.0 * focal.value, rel=1e-13)
    assert any(s.title.startswith("Focal part: ") for s in combo.steps)
    zh = [s.title for s in combo.steps if s.title.startswith("Focal part: ")]
    assert all(has_zh(t) for t in zh)


def test_dice_ce_gradient_at_the_bce_edges() -> None:
    """pred exactly 0 or 1: torch's BCE backward divides by max(p(1−p), 1e-12); the combination uses
    the BCE part's own gradient there, so it still agrees with the built-ins."""
    r = lossapp.compute("dice_ce", [0.0, 1.0, 0.3, 1.0], [1, 0, 0, 1], dtype="float64")
    assert r.reference.agrees and r.gradient.agrees


def test_lambda_zero_switches_a_part_off() -> None:
    only_dice = lossapp.compute("dice_ce", PRED, TARGET, lambda_ce=0)
    assert only_dice.value == pytest.approx(lossapp.compute("dice", PRED, TARGET).value, abs=1e-15)
    only_ce = lossapp.compute("dice_ce", PRED, TARGET, lambda_dice=0)
    assert only_ce.value == pytest.approx(lossapp.compute("bce", PRED, TARGET).value, abs=1e-15)


# -- bad input ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "pred", "target", "params", "message"), [
    ("dice", [0.2, 1.4], [0, 1], {}, r"pred: expected probabilities in \[0, 1\], got 1.4 at index 1 \(set activation"),
    ("iou", [0.2, 0.4], [0, 2], {}, r"target: expected labels in \[0, 1\] \(0/1 or soft labels\), got 2 at index 1"),
    ("tversky", [0.2, 0.4], [0, 1, 1], {}, r"pred \(2,\) and target \(3,\)"),
    ("dice", [0.2, 0.4], [0, 1], {"activation": "softmax"}, r"expected pred logits of shape \(N, C, \.\.\.\).*got \(2,\)"),
    ("dice", [[0.2], [0.4]], [0, 0], {"activation": "softmax"}, r"at least 2 classes"),
    ("dice", [[0.2, 0.4], [0.1, 0.9]], [0, 2], {"activation": "softmax"}, r"class indices in \[0, 2\) for C = 2 classes, got 2 at index 1"),
    ("dice", [[0.2, 0.4], [0.1, 0.9]], [0.5, 1], {"activation": "softmax"}, r"integer class indices"),
    ("dice", [[0.2, 0.4], [0.1, 0.9]], [[0, 1, 0]], {"activation": "softmax"},
     r"class indices of shape \(2,\) or one-hot / class probabilities of shape \(2, 2\), got \(1, 3\)"),
    ("dice", [0.2, 0.4], [0, 1], {"activation": "tanh"}, r"parameter activation: expected one of none, sigmoid, softmax"),
    ("dice_focal", [0.2, 0.4], [0, 1], {"activation": "softmax"}, r"expected one of none, sigmoid"),
    ("dice_ce", [0.2, 0.4], [0, 1], {"reduction": "none"}, r"expected reduction mean, sum"),
    ("dice", [0.2, 0.4], None, {}, r"expected a target"),
])
def test_bad_input_is_an_input_error(name: str, pred: list, target: list | None, params: dict, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        lossapp.compute(name, pred, target, **params)
    text = info.value.message
    if text.startswith(("pred:", "target: expected", "activation=softmax")):
        assert has_zh(info.value), text  # the messages of this module's checks speak Chinese too


def test_sigmoid_gradient_at_a_zero_logit() -> None:
    """σ'(0) = 1/4: the shared stable sigmoid keeps autograd's derivative right at x = 0 (σ written with
    |x| gave 0 there)."""
    r = lossapp.compute("dice", [0.0, 1.0, -2.0], [1, 0, 1], activation="sigmoid", dtype="float64")
    x = torch.tensor([0.0, 1.0, -2.0], dtype=torch.float64, requires_grad=True)
    p, t = torch.sigmoid(x), torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    (1 - (2 * (p * t).sum() + 1e-8) / (p.sum() + t.sum() + 1e-8)).backward()
    torch.testing.assert_close(torch.tensor(r.gradient.manual, dtype=torch.float64), x.grad, rtol=1e-12, atol=1e-15)
    assert r.gradient.agrees


def test_probabilities_given_as_logits_warn() -> None:
    r = lossapp.compute("dice", PRED, TARGET, activation="sigmoid")
    assert any("set activation=none" in w for w in r.warnings)
    assert all(has_zh(w) for w in r.warnings)


def test_activation_none_can_be_written_out() -> None:
    for raw in ("none", "None", None):
        r = lossapp.compute("dice", PRED, TARGET, activation=raw)
        assert r.params["activation"] == "none"


# -- the sets (DESIGN §5): article 003's masks, batches, per channel -----------------------------------------

ARTICLE_PRED, ARTICLE_TARGET = "[[0, 1, 1], [1, 1, 0], [0, 0, 0]]", "[[0, 1, 1], [0, 1, 1], [0, 0, 0]]"


def test_article_003_masks_are_one_set_by_default() -> None:
    """Article 003's dice_loss sums over the whole 3×3 mask: 1 − 2·3/(4 + 4) = 0.25 (rows as samples gave 0.1667)."""
    r = lossapp.compute("dice", ARTICLE_PRED, ARTICLE_TARGET)
    assert r.value == pytest.approx(1 - (6 + 1e-8) / (8 + 1e-8), abs=1e-15)
    assert f"{r.scalar:.4f}" == "0.2500"
    first = r.steps[0]
    assert first.symbol == "sets" and first.value_list() == 1.0
    assert "2-D input is one set" in first.note and "article 003" in first.note and has_zh(first.note)
    rows = lossapp.compute("dice", ARTICLE_PRED, ARTICLE_TARGET, per_sample=True)
    # rows: identical (loss 0), (2 + ε)/(4 + ε) (loss ≈ ½), both empty (ε/ε = 1, loss 0)
    assert rows.value == pytest.approx((1 - (2 + 1e-8) / (4 + 1e-8)) / 3, abs=1e-15)
    assert rows.steps[0].value_list() == 3.0 and "rows" in rows.steps[0].note
    assert f"{rows.scalar:.4f}" == "0.1667"


@pytest.mark.parametrize("name", SET_LOSSES)
def test_a_batch_is_one_set_per_sample_and_per_channel_one_per_sample_and_channel(name: str) -> None:
    x, t = torch.tensor(BATCH, dtype=torch.float64), torch.tensor(BATCH_TARGET, dtype=torch.float64)
    per_sample = lossapp.compute(name, BATCH, BATCH_TARGET, reduction="none", dtype="float64")
    assert per_sample.value.shape == (2,) and per_sample.steps[0].value_list() == 2.0
    assert "batch" in per_sample.steps[0].note
    for n in range(2):
        flat = lossapp.compute(name, x[n].reshape(-1).tolist(), t[n].reshape(-1).tolist(), dtype="float64")
        assert per_sample.value[n] == pytest.approx(flat.value, rel=1e-14)
    channels = lossapp.compute(name, BATCH, BATCH_TARGET, reduction="none", per_channel=True, dtype="float64")
    assert channels.value.shape == (2, 2) and channels.steps[0].value_list() == 4.0
    assert "per (sample, channel)" in channels.steps[0].note and "MONAI" in channels.steps[0].note
    for n in range(2):
        for c in range(2):
            one = lossapp.compute(name, x[n, c].tolist(), t[n, c].tolist(), dtype="float64")
            assert channels.value[n, c] == pytest.approx(one.value, rel=1e-14)
    mean = lossapp.compute(name, BATCH, BATCH_TARGET, per_channel=True, dtype="float64")
    assert mean.value == pytest.approx(channels.value.mean().item(), rel=1e-14)
    pooled = lossapp.compute(name, BATCH, BATCH_TARGET, reduction="none", per_channel=True, per_sample=False, dtype="float64")
    assert pooled.value.shape == (2,)
    for c in range(2):
        one = lossapp.compute(name, x[:, c].reshape(-1).tolist(), t[:, c].reshape(-1).tolist(), dtype="float64")
        assert pooled.value[c] == pytest.approx(one.value, rel=1e-14)
    background = lossapp.compute(name, BATCH, BATCH_TARGET, reduction="none", per_channel=True, include_background=False,
                                 dtype="float64")
    assert background.value.shape == (2, 1)
    torch.testing.assert_close(background.value, channels.value[:, 1:], rtol=1e-14, atol=0)


def test_zero_empty_and_the_l1_intersection() -> None:
    x = torch.tensor(BATCH, dtype=torch.float64)
    r = lossapp.compute("dice", BATCH, EMPTY_CHANNEL_TARGET, reduction="none", per_channel=True, dtype="float64")
    zeroed = lossapp.compute("dice", BATCH, EMPTY_CHANNEL_TARGET, reduction="none", per_channel=True, zero_empty=True,
                             dtype="float64")
    assert r.value[0, 1] > 0.99 and zeroed.value[0, 1] == 0.0
    keep = torch.ones(2, 2, dtype=torch.bool)
    keep[0, 1] = False
    torch.testing.assert_close(zeroed.value[keep], r.value[keep], rtol=0, atol=0)
    assert "zero_empty" in zeroed.step("l").note and zeroed.reference.agrees and zeroed.gradient.agrees
    # l1 = Σ min(p, t): the same for 0/1 targets, different for soft ones
    same = lossapp.compute("dice", BATCH, EMPTY_CHANNEL_TARGET, intersection="l1", dtype="float64")
    assert same.value == pytest.approx(lossapp.compute("dice", BATCH, EMPTY_CHANNEL_TARGET, dtype="float64").value, rel=1e-14)
    soft = torch.tensor(SOFT_TARGET, dtype=torch.float64)
    l1 = lossapp.compute("iou", BATCH, SOFT_TARGET, intersection="l1", reduction="none", dtype="float64")
    inter = torch.minimum(x, soft).sum((1, 2))
    union = torch.maximum(x, soft).sum((1, 2))
    torch.testing.assert_close(l1.value, 1 - (inter + 1e-8) / (union + 1e-8), rtol=1e-14, atol=0)
    assert l1.step("|X∩Y|").note and has_zh(l1.step("|X∩Y|").note)


@pytest.mark.parametrize(("params", "message"), [
    ({"per_channel": True}, r"per_channel=true: expected pred of shape \(N, C, d1, \.\.\.\).*got \(2, 4\)"),
    ({"per_channel": True, "activation": "softmax"}, r"expected activation none or sigmoid"),
    ({"include_background": False}, r"include_background=false: expected per_channel=true or activation=softmax"),
    ({"intersection": "min"}, r"parameter intersection: expected one of product, l1"),
    ({"eps": 1001}, r"parameter eps"),
])
def test_set_options_refuse_what_they_cannot_mean(params: dict, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        lossapp.compute("dice", PRED, TARGET, **params)
    assert has_zh(info.value) or info.value.message.startswith("parameter")


def test_eps_reaches_smp_smoothing() -> None:
    """smp's smooth = 1 is eps = 2 for Dice (its Dice is Tversky(½, ½)): no longer refused."""
    r = lossapp.compute("dice", PRED, TARGET, eps=2.0, dtype="float64")
    assert r.value == pytest.approx(1 - (2 * 3.0 + 2) / (4.0 + 4 + 2), rel=1e-14)


# -- against the real MONAI and segmentation_models_pytorch (tests/peer_libraries.py) -------------------------

def _image_batch(seed: int, n: int = 2, c: int = 3, hw: tuple[int, int] = (4, 5)) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, c, *hw, generator=g, dtype=torch.float64) * 2
    labels = torch.randint(0, c, (n, *hw), generator=g)
    labels[0][labels[0] == c - 1] = 0  # the last class absent from sample 0: smp zeroes such sets
    return logits, labels


def _monai_reduced(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    """MONAI's "none" keeps broadcastable trailing 1s: (N, C, 1, 1), or (C,) with batch=True."""
    return loss.reshape(loss.shape[:2]) if reduction == "none" and loss.dim() > 2 else loss


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("activation", ["none", "sigmoid"])
@pytest.mark.parametrize("batch", [False, True])
@pytest.mark.parametrize("include_background", [True, False])
def test_monai_dice_jaccard_tversky_per_channel(reduction: str, activation: str, batch: bool,
                                                include_background: bool) -> None:
    """MONAI DiceLoss() (smooth_nr = smooth_dr = 1e-5, one set per (sample, channel)) is dice(per_channel=true,
    eps=1e-5); jaccard=True is (2I + 1e-5)/(2U + 1e-5): iou with eps = 5e-6; TverskyLoss is tversky(eps=1e-5)."""
    losses = peer("monai.losses")
    logits, labels = _image_batch(1)
    target = F.one_hot(labels, 3).movedim(-1, 1).double()
    pred = logits if activation == "sigmoid" else torch.sigmoid(logits)
    sigmoid = activation == "sigmoid"
    ours = {"per_channel": True, "activation": activation, "include_background": include_background,
            **({"per_sample": False} if batch else {})}
    cases = [
        ("dice", {"eps": 1e-5}, losses.DiceLoss(sigmoid=sigmoid, batch=batch, include_background=include_background,
                                                reduction=reduction)),
        ("iou", {"eps": 5e-6}, losses.DiceLoss(sigmoid=sigmoid, batch=batch, jaccard=True,
                                               include_background=include_background, reduction=reduction)),
        ("tversky", {"eps": 1e-5, "alpha": 0.3, "beta": 0.7},
         losses.TverskyLoss(sigmoid=sigmoid, batch=batch, alpha=0.3, beta=0.7, include_background=include_background,
                            reduction=reduction)),
    ]
    for name, params, monai_loss in cases:
        expected = _monai_reduced(monai_loss(pred, target), reduction)
        r = lossapp.compute(name, pred.tolist(), target.tolist(), reduction=reduction, dtype="float64", **ours, **params)
        torch.testing.assert_close(torch.as_tensor(r.value, dtype=torch.float64).reshape(expected.shape), expected,
                                   rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("include_background", [True, False])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_monai_dice_with_softmax(include_background: bool, reduction: str) -> None:
    """MONAI DiceLoss(softmax=True, to_onehot_y=True): one set per (sample, class), the mean over both — lossapp's
    softmax sets with eps = 1e-5 (its sum is over samples and classes: C times lossapp's sum of class means)."""
    losses = peer("monai.losses")
    logits, labels = _image_batch(2)
    monai_loss = losses.DiceLoss(softmax=True, to_onehot_y=True, include_background=include_background,
                                 reduction=reduction)
    expected = float(monai_loss(logits, labels.unsqueeze(1)))
    r = lossapp.compute("dice", logits.tolist(), labels.tolist(), activation="softmax", eps=1e-5,
                        include_background=include_background, reduction=reduction, dtype="float64")
    classes = 3 if include_background else 2
    assert r.scalar * (classes if reduction == "sum" else 1) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("smooth", [0.0, 1.0])
def test_smp_binary_mode(smooth: float) -> None:
    """smp DiceLoss / JaccardLoss / TverskyLoss("binary", smooth=s) on logits: one set over the batch
    (per_sample=false), Dice smoothed by eps = 2s (Jaccard and Tversky by s), an empty target's loss zeroed and the
    soft intersection (Σp + Σt − ‖p − t‖₁)/2 — checked on soft targets, where the intersections differ."""
    losses = smp_losses()
    logits, _ = _image_batch(3, c=1)
    g = torch.Generator().manual_seed(4)
    soft = torch.rand(logits.shape, generator=g, dtype=torch.float64)
    ours = {"activation": "sigmoid", "per_sample": False, "zero_empty": True, "intersection": "l1"}
    for target in ((torch.rand(logits.shape, generator=g, dtype=torch.float64) > 0.5).double(), soft):
        cases = [("dice", {"eps": 2 * smooth}, losses.DiceLoss("binary", smooth=smooth)),
                 ("iou", {"eps": smooth}, losses.JaccardLoss("binary", smooth=smooth)),
                 ("tversky", {"eps": smooth, "alpha": 0.3, "beta": 0.7},
                  losses.TverskyLoss("binary", smooth=smooth, alpha=0.3, beta=0.7))]
        for name, params, smp_loss in cases:
            expected = float(smp_loss(logits, target))
            r = lossapp.compute(name, logits.tolist(), target.tolist(), dtype="float64", **ours, **params)
            assert r.scalar == pytest.approx(expected, rel=1e-12), name
    product = lossapp.compute("dice", logits.tolist(), soft.tolist(), dtype="float64",
                              **{**ours, "intersection": "product"})
    assert abs(product.scalar - float(losses.DiceLoss("binary")(logits, soft))) > 1e-3  # Σ p·t is not smp's
    empty = torch.zeros_like(logits)
    assert float(losses.DiceLoss("binary")(logits, empty)) == 0.0
    assert lossapp.compute("dice", logits.tolist(), empty.tolist(), dtype="float64", **ours).scalar == 0.0


@pytest.mark.parametrize("smooth", [0.0, 0.5])
def test_smp_multiclass_and_multilabel_modes(smooth: float) -> None:
    """smp multiclass: softmax sets per class over the batch, classes absent from the target zeroed, the mean over
    the classes; multilabel: sigmoid, one set per channel over the batch (per_channel, per_sample=false)."""
    losses = smp_losses()
    logits, labels = _image_batch(5)
    labels[labels == 2] = 0  # class 2 absent from the whole batch: its loss is zeroed by smp
    multiclass = {"activation": "softmax", "per_sample": False, "zero_empty": True, "intersection": "l1"}
    multilabel = {"activation": "sigmoid", "per_channel": True, "per_sample": False, "zero_empty": True,
                  "intersection": "l1"}
    one_hot = F.one_hot(labels, 3).movedim(-1, 1).double()
    for mode, target, ours, smp_target in (("multiclass", labels, multiclass, labels),
                                           ("multilabel", one_hot, multilabel, one_hot)):
        cases = [("dice", {"eps": 2 * smooth}, losses.DiceLoss(mode, smooth=smooth)),
                 ("iou", {"eps": smooth}, losses.JaccardLoss(mode, smooth=smooth)),
                 ("tversky", {"eps": smooth, "alpha": 0.7, "beta": 0.3},
                  losses.TverskyLoss(mode, smooth=smooth, alpha=0.7, beta=0.3))]
        for name, params, smp_loss in cases:
            expected = float(smp_loss(logits, smp_target))
            r = lossapp.compute(name, logits.tolist(), target.tolist(), dtype="float64", **ours, **params)
            assert r.scalar == pytest.approx(expected, rel=1e-12), (mode, name)
        without_zeroing = lossapp.compute("dice", logits.tolist(), target.tolist(), dtype="float64",
                                          **{**ours, "zero_empty": False})
        assert without_zeroing.scalar > float(losses.DiceLoss(mode)(logits, smp_target)) + 0.1


# -- the enclosure covers the new set options ------------------------------------------------------------------

@pytest.mark.parametrize("name", SET_LOSSES)
@pytest.mark.parametrize(("target", "params"), [
    (BATCH_TARGET, {"per_channel": True}),
    (BATCH_TARGET, {"per_channel": True, "per_sample": False, "include_background": False}),
    (EMPTY_CHANNEL_TARGET, {"per_channel": True, "zero_empty": True}),
    (SOFT_TARGET, {"intersection": "l1"}),
    ([[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.5, 0.0], [0.0, 0.0, 0.25]]],
     {"per_channel": True, "zero_empty": True, "intersection": "l1", "eps": 0.0}),
])
def test_enclosure_contains_every_input_that_rounds_to_the_written_one(name: str, target: list, params: dict) -> None:
    """pred written with 2 decimals (soft targets too): the loss at random points of the rounding box lies inside the
    enclosure, for per-channel sets, without background, with empty targets zeroed and with smp's intersection."""
    from lossapp.interval import enclose

    pred = [[[round(v, 2) for v in row] for row in sample] for sample in BATCH]
    r = lossapp.compute(name, str(pred), str(target), dtype="float64", **params)
    e = enclose(r)
    assert e.sound and e.lo <= r.scalar <= e.hi, (e.lo, r.scalar, e.hi, e.note)
    g = torch.Generator().manual_seed(0)
    x, y = torch.tensor(pred, dtype=torch.float64), torch.tensor(target, dtype=torch.float64)
    soft = bool(((y > 0) & (y < 1)).any())
    spec = lossapp.LOSSES[name]
    for _ in range(50):
        xs = (x + (torch.rand(x.shape, generator=g, dtype=torch.float64) - 0.5) * 0.01).clamp(0, 1)
        # targets written with up to 3 decimals: ±0.0005 stays within every target's rounding box
        ys = (y + (torch.rand(y.shape, generator=g, dtype=torch.float64) - 0.5) * 0.001).clamp(0, 1) if soft else y
        value = float(spec.steps(Trace(), xs, ys, r.params, "mean"))
        assert e.lo <= value <= e.hi, (value, e.lo, e.hi)


# -- value-only reruns (LossSpec.rerun): the combined steps' value, bit for bit ----------------------------------------

@pytest.mark.parametrize("n", [24, 200_004])
@pytest.mark.parametrize(("name", "activation"), [("dice_ce", "none"), ("dice_ce", "sigmoid"), ("dice_ce", "softmax"),
                                                   ("dice_focal", "none"), ("dice_focal", "sigmoid")])
def test_combined_rerun_is_the_steps_value_bit_for_bit(name: str, activation: str, n: int) -> None:
    """λ_dice·L_dice + λ·L_part from the part's own rerun (its terms shared through one memo) is the combined steps'
    value, for every reduction and with other α, γ."""
    from lossapp.registry import RerunMemo
    spec = lossapp.LOSSES[name]
    g = torch.Generator().manual_seed(n)
    if activation == "softmax":
        pred, target = torch.randn(4, 3, n // 12, generator=g, dtype=torch.float64), torch.randint(0, 3, (4, n // 12), generator=g)
    else:
        pred = torch.rand(4, 3, n // 12, generator=g, dtype=torch.float64) if activation == "none" else \
            3 * torch.randn(4, 3, n // 12, generator=g, dtype=torch.float64)
        target = (torch.rand(4, 3, n // 12, generator=g) > 0.5).double()
    memo = RerunMemo()
    overrides = [{}] if name == "dice_ce" else [{}, {"gamma": 0.0}, {"alpha": -1.0}, {"alpha": 0.7, "gamma": 1.5}]
    for reduction in ("mean", "sum"):
        for extra in overrides:
            params = spec.resolve_params({"activation": activation, "lambda_dice": 0.7, **extra})
            x, t = spec.prepare(pred, target, params, Trace())
            expected = spec.steps(Trace(quiet=True), x, t, params, reduction)
            assert torch.equal(spec.rerun(x, t, params, reduction, memo), expected), (reduction, extra)


@pytest.mark.parametrize("name", ["dice", "iou", "tversky"])
@pytest.mark.parametrize("options", [{}, {"per_sample": True}, {"per_channel": True, "include_background": False}])
def test_set_sums_shared_by_the_gradient_are_the_steps_own(name, options):
    """The steps read the set sums the closed-form gradient computed (Trace.shared): the same steps, bit for bit, as
    the steps summing p·t, p and t themselves (a replay, which runs no gradient)."""
    g = torch.Generator().manual_seed(4)
    p = torch.rand(3, 4, 50, generator=g)
    t = (torch.rand(3, 4, 50, generator=g) < 0.4).float()
    r = lossapp.compute(name, p, t, reduction="none", **options)
    replayed = r.replay.steps()
    assert [s.symbol for s in r.steps] == [s.symbol for s in replayed]
    for mine, theirs in zip(r.steps, replayed, strict=True):
        assert torch.equal(mine.shown_values(), theirs.shown_values()[:mine.shown]
                           if theirs.shown_values().numel() > mine.shown else theirs.shown_values()), mine.symbol
    assert any(s.symbol == "|X∩Y|" for s in r.steps)
    from lossapp.engine import run_trace
    from lossapp.losses.overlap import SET_SUMS
    from lossapp.registry import lookup
    trace, _, _ = run_trace(lookup(name), p.double(), t.double(), lookup(name).resolve_params(options), "none")
    assert SET_SUMS in trace.shared  # (the path tested: the steps read the gradient's sums)


@pytest.mark.parametrize("shape, dims", [((40,), (0,)), ((6, 50), (1,)), ((6, 50), (0, 1)), ((3, 4, 5, 6), (2, 3)),
                                         ((3, 4, 5, 6), (0, 2, 3)), ((4, 3), ())])
@pytest.mark.parametrize("soft", [False, True])
def test_soft_error_sums_in_one_buffer_equal_the_products_bitwise(shape: tuple[int, ...], dims: tuple[int, ...],
                                                                  soft: bool) -> None:
    """Tversky's Σ p(1 − t) and Σ (1 − p)t formed in one buffer (no graph recorded) are bitwise the sums of the fresh
    products p * (1 - t) and (1 - p) * t, on random and edge values (0, 1, tiny, next to 1); with a graph, the same."""
    from lossapp.losses.overlap import _ssum, soft_error_sums
    g = torch.Generator().manual_seed(len(shape) + len(dims) + soft)
    p = torch.rand(shape, generator=g, dtype=torch.float64)
    edges = torch.tensor([0.0, 1.0, 1e-300, 5e-324, 1 - 2**-53, 0.5, 1 - 1e-9, 1e-17], dtype=torch.float64)
    flat = p.view(-1)
    flat[:min(len(edges), flat.numel())] = edges[:flat.numel()]
    t = torch.rand(shape, generator=g, dtype=torch.float64) if soft else \
        (torch.rand(shape, generator=g) > 0.5).double()
    expected = (_ssum(p * (1 - t), dims), _ssum((1 - p) * t, dims))
    for got in (soft_error_sums(p, t, dims), soft_error_sums(p.clone().requires_grad_(True), t, dims)):
        assert all(torch.equal(a.detach(), b) for a, b in zip(got, expected, strict=True))


@pytest.mark.parametrize("name", SET_LOSSES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_one_sets_lazy_gradient_compares_as_the_dense_one(name: str, reduction: str) -> None:
    """One set: the closed-form gradient is a Lazy value (compared a block at a time) and compute() gives the
    comparison, every field, that the same gradient as a tensor gives; the complete gradient (replayed) is that
    tensor. Several sets: a tensor."""
    import dataclasses

    from test_reference import _same_gradient_comparison

    from lossapp.trace import Lazy

    spec = lossapp.LOSSES[name]
    g = torch.Generator().manual_seed(11)
    n = 3 * (1 << 18) + 5  # (more than one block, the last one short)
    p = torch.rand(n, generator=g, dtype=torch.float64)
    t = torch.where(torch.rand(n, generator=g) < 0.5, (torch.rand(n, generator=g) < 0.3).double(),
                    torch.rand(n, generator=g, dtype=torch.float64))  # hard and soft labels
    params = spec.resolve_params({})
    assert isinstance(spec.gradient(p, t, params, reduction), Lazy)
    assert isinstance(spec.gradient(p[:30].reshape(5, 6), t[:30].reshape(5, 6),
                                    spec.resolve_params({"per_sample": True}), reduction), torch.Tensor)
    lazy_result = lossapp.compute(name, p, t, reduction=reduction)

    def dense(*args: object, **kwargs: object) -> torch.Tensor:
        grad = spec.gradient(*args, **kwargs)
        assert isinstance(grad, Lazy)
        return grad.full()

    with pytest.MonkeyPatch.context() as m:
        m.setitem(lossapp.LOSSES, name, dataclasses.replace(spec, gradient=dense))
        dense_result = lossapp.compute(name, p, t, reduction=reduction)
    _same_gradient_comparison(lazy_result.gradient, dense_result.gradient)
    assert lazy_result.gradient.agrees and torch.equal(lazy_result.value, dense_result.value)
    manual, _ = lazy_result.replay.gradients()
    assert torch.equal(manual, dense(p, t, params, reduction))


@pytest.mark.parametrize("activation", ["none", "sigmoid"])
def test_a_float32_preds_range_is_checked_as_its_float64_values(activation: str) -> None:
    """pred's and target's ranges are read off the user's float32 tensors: the same error (activation none, or a
    target out of [0, 1]) or warning (probabilities given as logits) as for their values widened to float64."""
    import warnings

    t = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    good = torch.tensor([[0.9, 0.2, 0.7], [0.3, 0.8, 0.1]])
    for pred, target in ((torch.tensor([[0.9, 0.2, 1.1], [0.3, 0.8, 0.1]]), t), (good, t),
                         (good, torch.tensor([[1.0, 0.0, 1.0], [0.0, -0.5, 0.0]]))):
        results = []
        for x, y in ((pred, target), (pred.double(), target.double())):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    results.append(lossapp.compute("dice", x, y, activation=activation).warnings)
                except InputError as error:
                    results.append(str(error))
        assert results[0] == results[1]


@pytest.mark.parametrize("name", SET_LOSSES)
def test_one_sets_gradient_bound_holds(name: str) -> None:
    """One set's Lazy gradient bound (the float after |a| + |b|) is at least every |b + t_i·a|: random, soft, empty,
    all-one and subnormal inputs; ε from 0 to large; every reduction; Tversky's α and β at their extremes."""
    spec = lossapp.LOSSES[name]
    g = torch.Generator().manual_seed(14)
    p = torch.rand(2000, generator=g, dtype=torch.float64)
    hard = (torch.rand(2000, generator=g) < 0.3).double()
    soft = torch.rand(2000, generator=g, dtype=torch.float64)
    cases = [(p, hard), (p, soft), (p[:3], torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64)),
             (torch.full((4,), 5e-324, dtype=torch.float64), torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=torch.float64)),
             (torch.ones(5, dtype=torch.float64), torch.ones(5, dtype=torch.float64)),
             (p.reshape(40, 50), soft.reshape(40, 50)), (p[:6], torch.zeros(6, dtype=torch.float64))]
    weights = ({}, {"alpha": 0.0, "beta": 1.0}, {"alpha": 1.0, "beta": 0.0}) if name == "tversky" else ({},)
    checked = 0
    for x, t in cases:
        for eps in (0.0, 1e-8, 1.0, 1000.0):
            for extra in weights:
                for reduction in ("mean", "sum", "none"):
                    grad = spec.gradient(x, t, spec.resolve_params({"eps": eps, **extra}), reduction)
                    if grad is None:  # (a zero denominator: autograd)
                        continue
                    values = grad.full()
                    finite = values[torch.isfinite(values)]
                    assert finite.numel() == 0 or float(finite.abs().max()) <= grad.bound
                    if t.is_contiguous():  # (Lazy.into: the same addcmul written into a buffer, bit for bit)
                        written = grad.flat(0, t.numel(), out=torch.empty(t.numel(), dtype=torch.float64))
                        assert torch.equal(written.nan_to_num(7.0), values.reshape(-1).nan_to_num(7.0))
                    checked += 1
    assert checked > 50


def _outcome(name: str, pred: Any, target: Any, **params: Any) -> Any:
    """compute()'s value, steps, comparisons and warnings as JSON, or the InputError it raises."""
    try:
        return lossapp.compute(name, pred, target, **params).to_dict()
    except InputError as e:
        return ("InputError", str(e))


@pytest.mark.parametrize("name", ["dice", "iou", "tversky", "dice_ce"])
def test_the_extremes_read_with_the_check_of_the_inputs_decide_as_the_prepare_would(name: str) -> None:
    """LossSpec.reads_extremes: compute() finds pred's and the target's (min, max) in the one pass that checks them for
    NaN / ±inf and prepare decides its range checks from them (Trace.extremes, Trace.target_extremes): every outcome
    (values, steps, warnings, or the error and the element it names) is the one of prepare reading the ranges itself,
    for float32, float16 and float64 inputs in range, out of range, soft, NaN and ±inf, with each activation."""
    spec = lossapp.LOSSES[name]
    assert spec.reads_extremes
    g = torch.Generator().manual_seed(5)
    seen = []

    def prepare(pred, target, params, trace):
        seen.append((trace.extremes, trace.target_extremes))
        return spec.prepare(pred, target, params, trace)

    cases = []
    for dtype in (torch.float32, torch.float16, torch.float64):
        p = (torch.rand(4, 30, generator=g) * 0.98 + 0.01).to(dtype)
        t = (torch.rand(4, 30, generator=g) < 0.3).to(dtype)
        cases += [(p, t, {}), (p * 10 - 5, t, {"activation": "sigmoid"}), (p, t, {"activation": "sigmoid"})]
        for where, value in (((1, 2), 1.5), ((0, 0), -0.25), ((3, 7), math.nan), ((2, 9), math.inf)):
            q, u = p.clone(), t.clone()
            q[where], u[where] = value, value
            cases += [(q, t, {}), (p, u, {})]
        soft = t.clone()
        soft[0, 1] = 0.5
        cases += [(p, soft, {}), (p[:0], t[:0], {})]
    x = torch.randn(2, 3, 10, generator=g)
    cases += [(x, torch.randint(0, 3, (2, 10), generator=g), {"activation": "softmax"}),
              (x.softmax(1), x.softmax(1), {"activation": "softmax"})]
    for pred, target, params in cases:
        with pytest.MonkeyPatch.context() as m:
            m.setitem(lossapp.LOSSES, name, dataclasses.replace(spec, prepare=prepare))
            got = _outcome(name, pred, target, **params)
            m.setitem(lossapp.LOSSES, name, dataclasses.replace(spec, prepare=prepare, reads_extremes=False))
            assert _outcome(name, pred, target, **params) == got
            assert seen[-1] == (None, None)
        if pred.numel() and not isinstance(got, tuple):  # (an input compute refused before prepare ran: not handed)
            extremes, target_extremes = seen[-2]
            assert extremes == (float(pred.min()), float(pred.max()))
            assert target_extremes == (None if not target.is_floating_point() else
                                       (float(target.min()), float(target.max())))
