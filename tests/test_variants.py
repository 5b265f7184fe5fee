"""The variant machinery shared by the mistake and convention catalogues (lossapp.variants): a Case's shortcuts
give what the runs they replace give, a variant is computed once per case, `evaluate` leaves out variants equal
to the true value and skips by bounds only what cannot reproduce a claim."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from functools import partial
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from point_cases import MODES, POINT_CASES, case_id, point_inputs
from test_mistakes import FOCAL_X, FOCAL_Y, IDX, LOGITS, MASK_P, MASK_T, P3, REG_P, REG_Y, Y3, _text

import lossapp
from lossapp.conventions import CONVENTIONS, evaluate_conventions
from lossapp.inputs import InputError
from lossapp.mistakes import MISTAKES, evaluate_mistakes
from lossapp.result import Result
from lossapp.variants import Case
from lossapp.verdicts import could_round_to, parse_claim, rounds_to


def test_variants_equal_to_the_true_value_are_left_out() -> None:
    # a single element: sum and mean coincide, so sum_instead_of_mean explains nothing
    r = lossapp.compute("mse", "[0.5]", "[0.2]")
    assert "sum_instead_of_mean" not in [v.id for v in evaluate_mistakes(Case(r))]


# -- a point box: the variants' enclosures from the a-priori error bound ------------------------------------------------

def _variants_and_verdicts(result: lossapp.Result, claims: list[str] | None = None) -> tuple[dict, dict, list[str]]:
    """({id: (kind, value, enclosure)}, {claim: verdict, variants named, single step}, the claims) on a fresh Case."""
    from lossapp.variants import VariantValue, interval_of
    from lossapp.verdicts import Checker
    checker = Checker(result)
    variants = {}
    for kind, found in (("convention", evaluate_conventions(checker.case)), ("mistake", evaluate_mistakes(checker.case))):
        for v in found:
            variants[v.id] = (kind, v.value, interval_of(checker.case, VariantValue(v.variant, v.value)))
    if claims is None:
        value = result.scalar
        claims = [f"{value:.6g}", f"{value:.3g}", f"{value * 1.0123 + 1e-3:.6g}", f"{-value:.6g}"]
        for _, v, iv in variants.values():
            claims += [f"{v:.6g}", f"{v:.3g}", f"{v * 1.00002:.6g}"] + \
                ([f"{iv[0]:.6g}", f"{iv[1]:.6g}"] if iv is not None else [])
        claims = list(dict.fromkeys(claims))
    verdicts = {}
    for claimed in claims:
        try:
            v = checker.verdict(claimed)
        except InputError:
            continue
        verdicts[claimed] = (v.verdict, [m.id for m in v.mistakes], [c.id for c in v.conventions],
                             [p.id for p in v.possible], None if v.step is None else str(v.step["explanation"]))
    return variants, verdicts, claims


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", POINT_CASES, ids=[case_id(c) for c in POINT_CASES])
def test_point_bound_variants_contain_their_interval_enclosures_and_keep_the_verdicts(
        case: tuple[str, dict], mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """For a point box every variant's enclosure made by the point bounds (Case.run_interval through
    lossapp.interval.enclose) contains the one interval arithmetic makes, and the verdicts on claims at and around the
    value and every variant (with the variants named and the single step) are those of interval arithmetic."""
    name, params = case
    monkeypatch.setattr(lossapp.inputs.limits, "DECIMALS_MAX_ELEMENTS", 0)
    pred, target = point_inputs(name, params, mode, seed=7)
    result = lossapp.compute(name, pred, target, **params)
    with monkeypatch.context() as m:
        m.setattr(lossapp.interval, "uses_point_bound", lambda box: False)
        slow, slow_verdicts, claims = _variants_and_verdicts(result)
    fast, fast_verdicts, _ = _variants_and_verdicts(result, claims)
    assert fast.keys() == slow.keys()
    for vid, (kind, value, iv) in slow.items():
        fast_kind, fast_value, fast_iv = fast[vid]
        assert (fast_kind, fast_value) == (kind, value), vid
        if iv is not None:
            assert fast_iv is not None and fast_iv[0] <= iv[0] and iv[1] <= fast_iv[1], (vid, fast_iv, iv)
    assert fast_verdicts == slow_verdicts


# -- shared work: every shortcut gives what the run it replaces gives ----------------------------------------------------

EXAMPLES = [s for s in lossapp.LOSSES.values() if s.example.get("pred") is not None]
WEIGHTED = [("bce", P3, Y3, {"weight": "[1, 2, 3]"}), ("cross_entropy", LOGITS, IDX, {"weight": "[1, 2, 3]"}),
            ("cross_entropy", [[1.5, 0.3, -0.8], [0.2, 2.1, 0.4], [0.3, 0.3, 0.9]], [0, -100, 2], {}),
            ("focal", FOCAL_X, FOCAL_Y, {"alpha": 0.25, "gamma": 2.0, "avg_factor": 4.0})]


def _problems() -> list[tuple[str, object, object, dict]]:
    out = [(s.name, s.example["pred"], s.example.get("target"), dict(s.example.get("params") or {})) for s in EXAMPLES]
    return out + [(name, _text(p), _text(t), kw) for name, p, t, kw in WEIGHTED]


@pytest.mark.parametrize("problem", _problems(), ids=lambda p: f"{p[0]}-{len(p[3])}")
def test_reductions_from_the_sum_equal_a_run(problem) -> None:
    name, pred, target, params = problem
    spec = lossapp.LOSSES[name]
    for reduction in (r for r in spec.reductions if r != "none"):
        try:
            case = Case(lossapp.compute(name, pred, target, reduction=reduction, **params))
        except InputError:
            continue  # avg_factor with sum
        for other in (r for r in spec.reductions if r not in ("none", reduction)):
            shared, run = case.reduced_as(other), Case(case.result).run(reduction=other)
            assert (shared is None) == (run is None) and (run is None or shared == pytest.approx(run, rel=1e-12)), other


@pytest.mark.parametrize(("name", "overrides"), [("focal", {"alpha": -1.0}), ("focal", {"gamma": 0.0}),
                                                 ("softmax_focal", {"alpha": None}), ("dice_focal", {"alpha": -1.0})])
def test_rerun_from_shared_terms_equals_a_run(name: str, overrides: dict) -> None:
    spec = lossapp.LOSSES[name]
    for reduction in (r for r in spec.reductions if r != "none"):
        r = lossapp.compute(name, spec.example["pred"], spec.example["target"], reduction=reduction,
                            **spec.example.get("params", {}))
        assert Case(r).rerun(**overrides) == pytest.approx(Case(r).run(**overrides), rel=1e-12)


@pytest.mark.parametrize(("name", "pred", "target", "params"), [
    ("bce", P3, Y3, {}), ("bce", P3, [0.3, 0.8, 1.0], {"weight": "[1, 2, 3]"}),
    ("bce_with_logits", FOCAL_X, FOCAL_Y, {"pos_weight": "[2.0, 0.5, 1.0]"}), ("bce_with_logits", FOCAL_X, [[0.2, 0.9, 0.5], [0.0, 1.0, 0.7]], {}),
])
def test_label_smoothing_from_the_swapped_labels_equals_a_run(name: str, pred, target, params: dict) -> None:
    """The loss is affine in its target, so the smoothed target's value mixes the value and the swapped one's."""
    for reduction in ("mean", "sum"):
        case = Case(lossapp.compute(name, _text(pred), _text(target), reduction=reduction, **params))
        smoothed = case.target.double() * 0.9 + 0.05
        assert CONVENTIONS["keras_label_smoothing"].compute(case) == pytest.approx(case.run(target=smoothed), rel=1e-12)


# per loss: each regression mistake and the loss whose run it must equal (written here, not read from the specs)
REGRESSION_SWAPS = {"l1": {"l1_mse_swapped": "mse"},
                    "mse": {"rmse_mse_swapped": "rmse", "l1_mse_swapped": "l1"},
                    "rmse": {"rmse_mse_swapped": "mse", "rmse_as_mean_of_roots": "l1"}}


@pytest.mark.parametrize(("name", "swaps"), REGRESSION_SWAPS.items())
def test_regression_swaps_from_the_own_terms_equal_a_run(name: str, swaps: dict[str, str]) -> None:
    for reduction in ("mean", "sum"):
        case = Case(lossapp.compute(name, _text(REG_P), _text(REG_Y), reduction=reduction))
        fresh = Case(case.result)
        applying = [m for m in ("rmse_mse_swapped", "l1_mse_swapped", "rmse_as_mean_of_roots") if MISTAKES[m].applies(case)]
        assert applying == list(swaps)
        for mistake_id, other in swaps.items():
            assert MISTAKES[mistake_id].compute(case) == pytest.approx(fresh.run(other), rel=1e-12), mistake_id


def test_a_variant_is_computed_once_per_case() -> None:
    case = Case(lossapp.compute("focal", _text(FOCAL_X), _text(FOCAL_Y), alpha=0.25, gamma=2.0))
    first = {v.id: v.value for v in evaluate_mistakes(case)}
    calls = []
    case.run = lambda *a, **k: calls.append(a) or 0.0  # any further run would be recorded
    assert {v.id: v.value for v in evaluate_mistakes(case)} == first and not calls
    assert case.made("value") == case.value and case.made(("no", "such", "key")) is None  # made: reads, makes nothing


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(min_value=1e-6, max_value=1 - 1e-6), min_size=1, max_size=8), st.data())
def test_eps_convention_bounds_contain_their_values(ps: list[float], data: st.DataObject) -> None:
    ys = data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=len(ps), max_size=len(ps)))
    for reduction in ("mean", "sum"):
        case = Case(lossapp.compute("bce", ps, ys, reduction=reduction))
        for cid in ("tf_keras_epsilon", "old_torch_bce"):
            bound, value = CONVENTIONS[cid].bound(case), CONVENTIONS[cid].compute(case)
            if bound is not None:
                assert bound[0] <= value <= bound[1], (cid, bound, value)


@pytest.mark.parametrize("problem", _problems(), ids=lambda p: f"{p[0]}-{len(p[3])}")
def test_skipping_by_bounds_lists_the_same_variants(problem) -> None:
    """evaluate_mistakes(..., reachable=...) leaves out only variants that cannot reproduce the claim."""
    name, pred, target, params = problem
    r = lossapp.compute(name, pred, target, **params)
    full = evaluate_mistakes(Case(r)) + evaluate_conventions(Case(r))
    claims = [f"{v.value:.{d}f}" for v in full for d in (2, 6)] + [f"{r.value * 1.5:.4f}", f"{r.value:.9f}"]
    for claimed in claims:
        claim = parse_claim(claimed)
        case = Case(r)
        reach = partial(could_round_to, claim=claim)
        skipped = evaluate_mistakes(case, reachable=reach) + evaluate_conventions(case, reachable=reach)
        assert [v.id for v in skipped if rounds_to(v.value, claim)] == [v.id for v in full if rounds_to(v.value, claim)]


OVERLAP_INPUTS = [  # (pred, target, activation)
    (MASK_P, MASK_T, "none"), ([0.9, 0.2, 0.7, 0.1], [1.0, 0.0, 1.0, 0.0], "none"), (MASK_P, [[0.2, 0.9, 0.5, 0.0], [1.0, 0.3, 0.0, 0.6]], "none"),
    ([[1.2, -0.8, 0.3, 2.0], [-2.0, 0.5, 3.0, -1.0]], MASK_T, "sigmoid"),
    ([[[1.2, -0.8], [0.3, 2.0], [0.1, 0.1]], [[-2.0, 0.5], [3.0, -1.0], [0.0, 1.0]]], [[0, 2], [1, 1]], "softmax"),
    ([[[1.2, -0.8], [0.3, 2.0]], [[-2.0, 0.5], [3.0, -1.0]]], [[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]], "softmax"),
]


@pytest.mark.parametrize("inputs", OVERLAP_INPUTS, ids=lambda i: f"{i[2]}-{len(str(i[0]))}")
@pytest.mark.parametrize(("name", "params"), [("dice", {}), ("iou", {}), ("tversky", {"alpha": 0.3, "beta": 0.7})])
def test_overlap_variants_from_the_shared_sums_equal_a_run(inputs, name: str, params: dict) -> None:
    from lossapp.variants import overlap_value
    pred, target, activation = inputs
    for reduction in ("mean", "sum"):
        for own in (True, False):
            case = Case(lossapp.compute(name, _text(pred), _text(target), reduction=reduction, activation=activation,
                                        per_sample=own, **params))
            assert overlap_value(case) == pytest.approx(case.value, rel=1e-12)
            for eps in (0.0, 1e-5, 1.0):
                for per_sample in (True, False):
                    run = Case(case.result).run(eps=eps, per_sample=per_sample)
                    shared = overlap_value(case, eps=eps, per_sample=per_sample)
                    assert (run is None) == (shared is None) and (run is None or shared == pytest.approx(run, rel=1e-12))
            for kind in ("dice", "iou"):
                run = Case(case.result).run(kind, eps=case.param("eps"), activation=activation, per_sample=own)
                assert overlap_value(case, kind) == pytest.approx(run, rel=1e-12)


@pytest.mark.parametrize("inputs", OVERLAP_INPUTS, ids=lambda i: f"{i[2]}-{len(str(i[0]))}")
@pytest.mark.parametrize(("name", "params"), [("dice", {}), ("iou", {}), ("tversky", {"alpha": 0.3, "beta": 0.7})])
def test_overlap_intersection_and_empty_sets_from_the_shared_sums_equal_a_run(inputs, name: str, params: dict) -> None:
    """smp's options (the l1 intersection, 0 for an empty target: convention smp_batch_sets) from the shared per-set
    sums, whatever the problem's own intersection: the value of a run with those options."""
    from lossapp.conventions import CONVENTIONS
    from lossapp.variants import overlap_value
    pred, target, activation = inputs
    for reduction in ("mean", "sum"):
        for own in ("product", "l1"):
            case = Case(lossapp.compute(name, _text(pred), _text(target), reduction=reduction, activation=activation,
                                        intersection=own, **params))
            for intersection in ("product", "l1"):
                for zero_empty in (False, True):
                    for per_sample in (True, False):
                        run = Case(case.result).run(intersection=intersection, zero_empty=zero_empty,
                                                    per_sample=per_sample, eps=0.0)
                        shared = overlap_value(case, eps=0.0, per_sample=per_sample, intersection=intersection,
                                               zero_empty=zero_empty)
                        assert (run is None) == (shared is None), (own, intersection, zero_empty, per_sample)
                        assert run is None or shared == pytest.approx(run, rel=1e-12)
            smp = CONVENTIONS["smp_batch_sets"]
            if smp.applies(case):
                run = Case(case.result).run(per_sample=False, zero_empty=True, intersection="l1", eps=0.0)
                value = smp.compute(case)
                assert (run is None) == (value is None) and (run is None or value == pytest.approx(run, rel=1e-12))


@pytest.mark.parametrize("inputs", OVERLAP_INPUTS, ids=lambda i: f"{i[2]}-{len(str(i[0]))}")
def test_overlap_probabilities_as_logits_from_sums_equals_a_run(inputs) -> None:
    pred, target, activation = inputs
    for name in ("dice", "iou", "tversky"):
        case = Case(lossapp.compute(name, _text(pred), _text(target), activation=activation))
        if activation == "none":
            run = Case(case.result).run(activation="sigmoid")
        else:
            x = case.pred.double()
            p = torch.sigmoid(x) if activation == "sigmoid" else torch.softmax(x, 1)
            run = Case(case.result).run(pred=p)
        assert MISTAKES["probabilities_as_logits"].compute(case) == pytest.approx(run, rel=1e-12)


@pytest.mark.parametrize("params", [{"alpha": 0.25, "gamma": 2.0}, {"alpha": 0.7, "gamma": 1.5, "weight": "[1, 2, 3]"},
                                    {"alpha": 0.25, "gamma": 2.0, "avg_factor": 4.0}, {"alpha": 0.0, "gamma": 2.0}])
@pytest.mark.parametrize("target", [FOCAL_Y, [[0.9, 0.0, 0.2], [0.0, 1.0, 0.6]]])
def test_focal_terms_without_alpha_from_the_own_terms_equal_a_run(params: dict, target) -> None:
    from lossapp.variants import focal_base
    case = Case(lossapp.compute("focal", _text(FOCAL_X), _text(target), **params))
    fresh = Case(case.result)
    assert torch.allclose(focal_base(case), fresh.unreduced_of(alpha=-1.0), rtol=1e-13, atol=0)
    run = fresh.unreduced_of(alpha=-1.0)  # the terms without α, from a run of the loss with α off
    a, y = float(params["alpha"]), case.target.double()
    expected = {"no_alpha": fresh.run(alpha=-1.0), "alpha_on_both_classes": fresh.rereduce(a * run),
                "alpha_swapped": fresh.rereduce(((1 - a) * y + a * (1 - y)) * run)}
    for mistake_id, value in expected.items():
        if MISTAKES[mistake_id].applies(case):
            assert MISTAKES[mistake_id].compute(case) == pytest.approx(value, rel=1e-12), mistake_id


@pytest.mark.parametrize(("name", "activation"), [("dice_ce", "none"), ("dice_ce", "sigmoid"), ("dice_ce", "softmax"),
                                                   ("dice_focal", "none"), ("dice_focal", "sigmoid")])
def test_combined_sum_instead_of_mean_from_the_parts_numerators_equals_a_run(name: str, activation: str) -> None:
    """A combined loss's parts reduce separately: its value under sum comes from the numerators of its parts' means."""
    g = torch.Generator().manual_seed(3)
    if activation == "softmax":
        pred, target = torch.randn(3, 4, 5, generator=g), torch.randint(0, 4, (3, 5), generator=g)
    else:
        pred = torch.rand(3, 7, 2, generator=g) if activation == "none" else torch.randn(3, 7, 2, generator=g)
        target = (torch.rand(3, 7, 2, generator=g) > 0.5).float()
    for per_sample in (True, False):
        case = Case(lossapp.compute(name, pred, target, activation=activation, per_sample=per_sample, lambda_dice=0.7))
        assert MISTAKES["sum_instead_of_mean"].compute(case) == Case(case.result).run(reduction="sum")


@pytest.mark.parametrize("activation", ["none", "sigmoid"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("alpha", [0.25, 0.8, -1.0])
def test_combined_focal_without_alpha_from_the_parts_equals_a_run(activation: str, reduction: str, alpha: float) -> None:
    """dice_focal with α_t = 1: λ_dice·L_dice + λ_focal·Σ(focal terms / α_t) / den, as a run with α off gives."""
    g = torch.Generator().manual_seed(5)
    pred = torch.rand(3, 7, 2, generator=g) if activation == "none" else torch.randn(3, 7, 2, generator=g)
    target = (torch.rand(3, 7, 2, generator=g) > 0.5).float()
    case = Case(lossapp.compute("dice_focal", pred, target, activation=activation, reduction=reduction, alpha=alpha,
                                lambda_dice=0.7, lambda_focal=1.3))
    expected = Case(case.result).run(alpha=-1.0)
    assert MISTAKES["no_alpha"].applies(case) == (alpha >= 0)
    assert MISTAKES["no_alpha"].compute(case) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("name", ["dice", "iou"])
@pytest.mark.parametrize("activation", ["none", "sigmoid"])
def test_overlap_sums_from_the_trace_and_one_pass_sigmoid_equal_the_full_forms(name: str, activation: str,
                                                                                monkeypatch) -> None:
    """The per-set sums read from the trace, and σ(p) in one pass for p ≥ 0, are bitwise what the general forms give."""
    from lossapp import variants
    g = torch.Generator().manual_seed(7)
    pred = torch.rand(4, 3, 5, generator=g) if activation == "none" else torch.randn(4, 3, 5, generator=g)
    target = (torch.rand(4, 3, 5, generator=g) > 0.5).float()
    result = lossapp.compute(name, pred, target, activation=activation)
    fast = [variants._overlap_sums(Case(result), again) for again in (False, True)]
    assert variants._held_set_sums(Case(result)) is not None  # a few sets: the trace holds their sums
    monkeypatch.setattr(variants, "_held_set_sums", lambda c: None)
    monkeypatch.setattr(variants, "_p_nonnegative", lambda c: False)
    case = Case(result)
    slow = [variants._overlap_sums(case, again) for again in (False, True)]
    for f, s in zip(fast, slow, strict=True):
        assert all(torch.equal(a, b) for a, b in zip(f, s, strict=True))


def _overlap_sums_fresh(c: Case, again: bool, intersection: str) -> tuple[torch.Tensor, ...]:
    """The overlap variants' per-set sums as written before they shared a work buffer: every elementwise term a tensor
    of its own (the reference for `_overlap_sums`)."""
    from lossapp.losses.overlap import set_dims
    from lossapp.losses.stable import stable_sigmoid
    from lossapp.variants import _activate, softmax
    x, y = c.pred, c.target
    activation = c.param("activation", "none")
    p = x.double() if activation == "none" else stable_sigmoid(x.double()) if activation == "sigmoid" else softmax(x, 1)
    if again:
        p = _activate(p, "sigmoid" if activation == "none" else activation)
    t = torch.nn.functional.one_hot(y.long(), p.shape[1]).movedim(-1, 1) \
        if activation == "softmax" and not y.is_floating_point() else y
    t = t.double()
    dims = set_dims(p, {**c.params, "per_sample": True})
    size_p, size_t = (v.sum(dims) if dims else v for v in (p, t))
    if intersection == "l1":
        gap = (p - t).abs()
        return (size_p + size_t - (gap.sum(dims) if dims else gap)) / 2, size_p, size_t
    return ((p * t).sum(dims) if dims else p * t), size_p, size_t


OVERLAP_LAYOUTS = [  # (pred shape, params, soft target): one set, sets per sample, per channel, softmax classes
    ((40,), {}, False), ((6, 50), {}, True), ((6, 50), {"per_sample": True}, False), ((3, 4, 5, 6), {}, False),
    ((3, 4, 5, 6), {"per_channel": True}, True), ((3, 4, 5, 6), {"per_sample": False}, False),
    ((5, 3), {"per_sample": True}, False), ((3, 4, 5, 6), {"activation": "softmax"}, False),
    ((3, 4, 7), {"activation": "softmax", "per_sample": False}, True), ((6, 4), {"activation": "softmax"}, False)]


@pytest.mark.parametrize("name", ["dice", "iou", "tversky"])
@pytest.mark.parametrize("layout", range(len(OVERLAP_LAYOUTS)))
@pytest.mark.parametrize("logits", [False, True])
def test_overlap_sums_in_the_work_buffer_equal_fresh_tensors_bitwise(name: str, layout: int, logits: bool) -> None:
    """The per-set sums of every variant (p and σ(p); the product and the l1 intersection, in every order the variants
    may ask for them) written through the case's one work buffer are bitwise the sums of fresh tensors."""
    from lossapp import variants
    shape, params, soft = OVERLAP_LAYOUTS[layout]
    params = dict(params)
    if logits:
        params.setdefault("activation", "sigmoid")
    softmax = params.get("activation") == "softmax"
    g = torch.Generator().manual_seed(layout)
    pred = 3 * torch.randn(shape, generator=g) if params.get("activation") in ("sigmoid", "softmax") \
        else torch.rand(shape, generator=g)
    if softmax and not soft:
        target = torch.randint(0, shape[1], (shape[0], *shape[2:]), generator=g)
    elif softmax:
        target = torch.softmax(torch.randn(shape, generator=g), 1)
    else:
        target = torch.rand(shape, generator=g) if soft else (torch.rand(shape, generator=g) > 0.5).float()
    if softmax and soft:
        target = (target == target.amax(1, keepdim=True)).float()  # one-hot (softmax takes 0/1 one-hot targets)
    result = lossapp.compute(name, pred, target, **params)
    orders = [[(False, "product"), (False, "l1"), (True, "product"), (True, "l1")],
              [(True, "l1"), (True, "product"), (False, "l1"), (False, "product")],
              [(False, "l1"), (True, "product")]]
    for order in orders:
        case = Case(result)
        got = {key: variants._overlap_sums(case, *key) for key in order}
        for (again, intersection), sums in got.items():
            expected = _overlap_sums_fresh(case, again, intersection)
            assert all(torch.equal(a, b) for a, b in zip(sums, expected, strict=True)), (order, again, intersection)
        case.release_reruns()
        assert not any(isinstance(k, tuple) and k[0] in ("overlap_work", "overlap_inputs") for k in case._cache)


@pytest.mark.parametrize("activation", ["none", "sigmoid"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_combined_focal_part_rerun_equals_a_run_of_the_whole(activation: str, reduction: str) -> None:
    """dice_focal with γ = 0: λ_dice·L_dice from the trace + λ_focal·(a run of the focal part alone) is a whole run."""
    from lossapp.variants import focal_rerun
    g = torch.Generator().manual_seed(11)
    pred = torch.rand(3, 7, 2, generator=g) if activation == "none" else 3 * torch.randn(3, 7, 2, generator=g)
    target = (torch.rand(3, 7, 2, generator=g) > 0.5).float()
    result = lossapp.compute("dice_focal", pred, target, activation=activation, reduction=reduction, alpha=0.6,
                             gamma=1.5, lambda_dice=0.4, lambda_focal=2.5)
    expected = Case(result).run(gamma=0.0)
    assert focal_rerun(Case(result), gamma=0.0) == expected
    assert MISTAKES["no_modulating_factor"].compute(Case(result)) == expected


# -- enclosures of variants over the inputs' rounding box (issue 12) --------------------------------------------------

def test_run_interval_is_the_formula_with_other_parameters() -> None:
    """A run with α off, or under another reduction, is enclosed by the loss's own formula over the same box."""
    from lossapp.interval import enclose
    written = lossapp.compute("focal", "[0.45, 0.7]", "[1, 0]", input="probabilities", alpha=0.25, gamma=2.0)
    case = Case(written)
    lo, hi = case.run_interval(alpha=-1.0)
    off = lossapp.compute("focal", "[0.45, 0.7]", "[1, 0]", input="probabilities", alpha=-1.0, gamma=2.0)
    assert (lo, hi) == tuple(enclose(off).interval) and lo < off.scalar < hi
    lo, hi = case.run_interval(reduction="sum")
    assert lo == pytest.approx(2 * case.interval[0], rel=1e-12) and hi == pytest.approx(2 * case.interval[1], rel=1e-12)
    assert case.run_interval(alpha=-1.0) is case.run_interval(alpha=-1.0)  # made once per case
    assert case.run_interval(no_such_parameter=1.0) is None


def test_run_interval_with_the_labels_swapped_keeps_the_targets_decimals() -> None:
    written = lossapp.compute("bce", "[0.3, 0.6]", "[0.9, 0.2]")
    case = Case(written)
    lo, hi = case.run_interval(target=1.0 - case.target)
    swapped = lossapp.compute("bce", "[0.3, 0.6]", "[0.1, 0.8]")
    from lossapp.interval import enclose
    assert [lo, hi] == pytest.approx(enclose(swapped).interval, rel=1e-12)


def test_one_minus_is_one_minus_y_bit_for_bit_in_a_new_tensor_or_in_out() -> None:
    """variants._one_minus (−y + 1) gives the bits of 1.0 − y on every float16 and bfloat16 value and on random and
    adversarial float32 / float64 ones (signed zeros, ±inf, NaN, neighbours of 0 and 1), in a new tensor or in `out`
    (that tensor itself, written over)."""
    from lossapp.variants import _one_minus
    g = torch.Generator().manual_seed(3)
    every = torch.arange(-2**15, 2**15, dtype=torch.int32).to(torch.int16)
    special = [0.0, -0.0, 1.0, -1.0, 0.5, math.inf, -math.inf, math.nan, 5e-324, math.nextafter(1.0, 0.0),
               math.nextafter(1.0, 2.0), 1e300, -1e-300, 2.0 ** -53]
    tensors = [every.view(torch.float16), every.view(torch.bfloat16), torch.tensor(special, dtype=torch.float64),
               torch.tensor(special, dtype=torch.float32), torch.rand(1000, generator=g, dtype=torch.float64),
               torch.randint(-2**31, 2**31, (100_000,), generator=g).to(torch.int32).view(torch.float32),
               torch.randn(100_000, generator=g, dtype=torch.float64)[::3]]
    for y in tensors:
        want = 1.0 - y
        bits = {torch.float16: torch.int16, torch.bfloat16: torch.int16, torch.float32: torch.int32,
                torch.float64: torch.int64}[y.dtype]
        out = torch.empty_like(y)
        for got in (_one_minus(y), _one_minus(y, out=out)):
            assert bool(((got.view(bits) == want.view(bits)) | (got.isnan() & want.isnan())).all()), y.dtype
        assert _one_minus(y, out=out) is out


def test_scaled_and_mapped_intervals_are_rounded_outward() -> None:
    from lossapp.variants import mapped, scaled
    lo, hi = scaled((1.0, 2.0), -1.0)
    assert lo < -2.0 and hi > -1.0 and lo == pytest.approx(-2.0) and hi == pytest.approx(-1.0)
    lo, hi = mapped((0.25, 0.5), lambda v: 1.0 - v, increasing=False)
    assert lo < 0.5 < 0.75 < hi and hi == pytest.approx(0.75)
    assert scaled(None, 2.0) is None and scaled((1.0, 2.0), math.inf) is None


def test_an_interval_that_misses_the_variants_own_value_is_not_used() -> None:
    """interval_of's guard: an enclosure must hold the variant's value at the written inputs."""
    from lossapp.variants import Variant, VariantValue, interval_of
    written = lossapp.compute("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]")
    case = Case(written)
    good = MISTAKES["missing_minus"]
    found = VariantValue(good, -written.scalar)
    assert interval_of(case, found) is not None
    wrong = Variant("wrong_interval", good.title, good.explanation, "l", good.applies, good.compute,
                    interval=lambda c: (5.0, 6.0))
    assert interval_of(case, VariantValue(wrong, -written.scalar)) is None


# -- shared interval terms: a case's enclosures share per-element terms (Box.shared) and give what they give alone ----

SHARED_TERM_PARAMS = {  # options whose enclosures take other paths through the shared terms
    "focal": [{"alpha": 0.0}, {"gamma": 0.5}, {"alpha": -1.0, "gamma": 0.0}],
    "dice": [{"activation": "sigmoid"}, {"per_sample": True, "eps": 1.0}],
    "iou": [{"activation": "sigmoid", "per_sample": True}],
    "tversky": [{"activation": "sigmoid", "alpha": 0.3, "beta": 0.7}],
    "dice_ce": [{"activation": "sigmoid"}],
    "dice_focal": [{"activation": "sigmoid", "gamma": 0.0}],
    "cross_entropy": [{"label_smoothing": 0.1}, {"ignore_index": 1}],
    "softmax_focal": [{"alpha": 0.25, "gamma": 0.0}, {"ignore_index": 1}],
    "kl_div": [{"reduction": "mean", "log_base": 2}],
    "rmse": [{"reduction": "sum"}],
}


def _shared_term_problems() -> list[tuple[str, int, dict]]:
    out = []
    for spec in EXAMPLES:
        if spec.kind != "loss":
            continue
        for params in [dict(spec.example.get("params") or {}), *SHARED_TERM_PARAMS.get(spec.name, [])]:
            out += [(spec.name, seed, params) for seed in range(2)]
    return out


def _intervals(result: lossapp.Result) -> dict[str, object]:
    """The correct enclosure, then every applicable variant's value and enclosure, in the checker's order."""
    from lossapp.variants import VariantValue, interval_of, variant_value
    case = Case(result)
    out: dict[str, object] = {"enclosure": (case.enclosure.lo, case.enclosure.hi, case.enclosure.sound)}
    for catalogue in (CONVENTIONS, MISTAKES):
        for vid, variant in catalogue.items():
            try:
                if not variant.applies(case):
                    continue
                value = variant_value(case, variant)
            except (InputError, RuntimeError, ValueError, IndexError, KeyError, TypeError, ZeroDivisionError):
                continue
            if isinstance(value, float) and variant.interval is not None:
                out[vid] = (value, interval_of(case, VariantValue(variant, value)))
    return out


@pytest.mark.parametrize(("name", "seed", "params"), _shared_term_problems(),
                         ids=lambda v: v if isinstance(v, str) else str(v))
def test_enclosures_with_shared_terms_equal_those_made_alone(name: str, seed: int, params: dict,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Registry-wide, on random small inputs written to 1-4 decimals (and on the same values with no decimals): the
    enclosures a case makes while sharing per-element terms between the correct value's and its variants' are
    those each one makes with nothing shared (a Case without a memo)."""
    from test_interval import _random_like_example
    spec = lossapp.LOSSES[name]
    gen = torch.Generator().manual_seed(seed)
    written = _random_like_example(spec, gen)
    # the same values as tensors too: their decimals are not known (as for a large tensor), the box is a point
    given = tuple(None if s is None else lossapp.inputs.read_tensor(s, "x").values for s in written)
    for pred, target in (written, given):
        try:
            result = lossapp.compute(name, pred, target, **params)
        except InputError:
            continue  # options these inputs do not take
        shared = _intervals(result)
        with monkeypatch.context() as m:
            m.setattr(Case, "interval_memo", property(lambda self: None))
            alone = _intervals(result)
        assert shared == alone
        assert any(v[1] is not None for k, v in shared.items() if k != "enclosure") or name not in SHARED_TERM_PARAMS


# -- pinned: every variant's applicability, value and enclosure, and the verdicts, as recorded ------------------------

PINNED = Path(__file__).parent / "data" / "variants_pinned.json"


def _pinned_problems() -> list[tuple[str, str, object, object, dict]]:
    """(label, loss, pred, target, params): every registry example with its own options and those of
    SHARED_TERM_PARAMS, on the example's inputs, on random ones written to 1-4 decimals, and on the same random values
    as tensors (a point box, as for a large tensor)."""
    from test_interval import _random_like_example
    out = []
    for spec in EXAMPLES:
        if spec.kind != "loss":
            continue
        for k, params in enumerate([dict(spec.example.get("params") or {}), *SHARED_TERM_PARAMS.get(spec.name, [])]):
            out.append((f"{spec.name}-{k}-example", spec.name, spec.example["pred"], spec.example.get("target"), params))
            written = _random_like_example(spec, torch.Generator().manual_seed(k))
            given = tuple(None if s is None else lossapp.inputs.read_tensor(s, "x").values for s in written)
            out += [(f"{spec.name}-{k}-written", spec.name, *written, params),
                    (f"{spec.name}-{k}-given", spec.name, *given, params)]
    return out


def _record(result: lossapp.Result) -> dict[str, object]:
    """What the checker makes of one result: every applicable variant (value and enclosure, in the checker's order)
    and the verdict (with the variants named and the single step) on claims at the value, off it, at each variant's
    value and at the ends of each variant's enclosure."""
    from lossapp.variants import VariantValue, interval_of
    from lossapp.verdicts import Checker
    case = Case(result)
    variants = {}
    for kind, found in (("convention", evaluate_conventions(case)), ("mistake", evaluate_mistakes(case))):
        for v in found:
            variants[v.id] = [kind, v.value, interval_of(case, VariantValue(v.variant, v.value))]
    value = result.scalar
    claims = [f"{value:.6g}", f"{value * 1.0123 + 1e-3:.6g}"]
    for _, v, iv in variants.values():
        claims += [f"{v:.6g}", f"{v:.3g}"] + ([f"{iv[0]:.6g}", f"{iv[1]:.6g}"] if iv is not None else [])
    checker = Checker(result)
    verdicts = {}
    for claimed in dict.fromkeys(claims):
        try:
            v = checker.verdict(claimed)
        except InputError:
            continue  # a claim no one can write (below 1e-300 in size)
        verdicts[claimed] = [v.verdict, [m.id for m in v.mistakes], [c.id for c in v.conventions],
                             [p.id for p in v.possible], None if v.step is None else str(v.step["explanation"])]
    enclosure = checker.enclosure
    return {"value": value, "enclosure": [enclosure.lo, enclosure.hi, enclosure.sound], "variants": variants,
            "verdicts": verdicts}


def _pinned_records() -> dict[str, object]:
    out = {}
    for label, name, pred, target, params in _pinned_problems():
        try:
            result = lossapp.compute(name, pred, target, **params)
        except InputError:
            continue  # options these inputs do not take
        if result.value.numel() == 1 and math.isfinite(result.scalar):
            out[label] = _record(result)
    return out


def test_variants_and_verdicts_are_the_pinned_ones() -> None:
    """Registry-wide (tests/data/variants_pinned.json): the variants that apply, their values and enclosures, and the
    verdicts on claims at and around each of them are those recorded, so that making the checker faster changes none of
    them. Values and enclosures agree to float64 rounding of a shared term (rel 1e-12); ids and verdicts exactly. A
    change meant to change them rewrites the file with LOSSAPP_REPIN=1."""
    records = json.loads(json.dumps(_pinned_records()))  # as JSON holds them (tuples as lists)
    if os.environ.get("LOSSAPP_REPIN") == "1":
        PINNED.write_text(json.dumps(records, indent=0), encoding="utf-8")
        pytest.skip(f"{PINNED} rewritten (LOSSAPP_REPIN=1)")
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))
    assert records.keys() == pinned.keys()
    for label, record in records.items():
        want = pinned[label]
        assert record["value"] == want["value"], label
        assert record["enclosure"] == pytest.approx(want["enclosure"], rel=1e-12), label
        assert record["variants"].keys() == want["variants"].keys(), label
        for vid, (kind, value, iv) in record["variants"].items():
            w_kind, w_value, w_iv = want["variants"][vid]
            assert kind == w_kind and value == pytest.approx(w_value, rel=1e-12, abs=1e-300), (label, vid)
            assert (iv is None) == (w_iv is None) and (iv is None or iv == pytest.approx(w_iv, rel=1e-12)), (label, vid)
        assert record["verdicts"] == want["verdicts"], label


# -- value-only reruns (LossSpec.rerun): every variant's value is what the steps' rerun gives ---------------------------

def _rerun_problem(name: str, n: int) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """float32 inputs of about n elements as a training loop holds them, with parameters that make every rerun of the
    loss's variants run (weights, α on, γ ≠ 0, soft labels where allowed)."""
    g = torch.Generator().manual_seed(n)
    labels = (torch.rand(n, generator=g) > 0.7).float()
    if name == "softmax_focal":
        return 3 * torch.randn(n // 5, 5, generator=g), torch.randint(0, 5, (n // 5,), generator=g), {"alpha": 0.25}
    if name in ("dice_ce", "dice_focal"):
        shape = (2, 3, n // 6)
        return torch.rand(shape, generator=g), (torch.rand(shape, generator=g) > 0.6).float(), {"lambda_dice": 0.7}
    if name == "bce":
        return torch.rand(n, generator=g).clamp_(1e-6, 1 - 1e-6), labels, {}
    return 3 * torch.randn(n, generator=g), labels, {}


def _variant_values(result: Result) -> dict[str, float]:
    case = Case(result)
    return {v.id: v.value for values in (evaluate_conventions(case, include_same=True),
                                         evaluate_mistakes(case, include_same=True)) for v in values}


@pytest.mark.parametrize("n", [60, 200_010])
@pytest.mark.parametrize(("name", "params"), [
    ("focal", {}), ("focal", {"alpha": 0.6, "gamma": 1.5, "weight": "column"}), ("focal", {"input": "probabilities"}),
    ("focal", {"avg_factor": 1234.0}), ("focal", {"target": "soft"}), ("bce", {}), ("bce", {"weight": "column"}),
    ("bce_with_logits", {}), ("bce_with_logits", {"pos_weight": "column", "reduction": "sum"}),
    ("softmax_focal", {}), ("softmax_focal", {"alpha": None, "reduction": "sum"}),
    ("dice_ce", {}), ("dice_ce", {"activation": "sigmoid"}), ("dice_focal", {}), ("dice_focal", {"activation": "sigmoid"}),
])
def test_variants_from_value_only_reruns_equal_the_steps_reruns(name: str, params: dict, n: int, monkeypatch) -> None:
    """Every convention's and mistake's value, found through the losses' value-only reruns (LossSpec.rerun: in place,
    the pred's terms shared between the reruns of one problem), is exactly what the same variants give when every rerun
    runs the loss's steps on a quiet trace (the path before LossSpec.rerun)."""
    pred, target, problem = _rerun_problem(name, n)
    params = {**problem, **params}
    if params.get("input") == "probabilities":
        pred = torch.sigmoid(pred)
    if params.pop("target", None) == "soft":
        target = torch.rand(target.shape, generator=torch.Generator().manual_seed(1))
    for key in ("weight", "pos_weight"):
        if params.get(key) == "column":
            params[key] = torch.linspace(0.5, 2.0, pred.shape[-1])
    result = lossapp.compute(name, pred, target, **params)
    fast = _variant_values(result)
    for loss, spec in list(lossapp.LOSSES.items()):
        if spec.rerun is not None:
            monkeypatch.setitem(lossapp.LOSSES, loss, dataclasses.replace(spec, rerun=None))
    slow = _variant_values(dataclasses.replace(result, spec=lossapp.LOSSES[name]))
    assert fast == slow
    assert fast  # (the problem has variants to compare)


# -- KL divergence: Keras' row sums and the swapped direction's terms from one blocked pass -----------------------------

@pytest.mark.parametrize("shape", [(7, 3), (30011, 10), (3, 40000), (70001,), (900, 4, 37), (13107, 5)])
@pytest.mark.parametrize("reduction", ["batchmean", "mean", "sum"])
def test_kl_exp_terms_are_the_whole_tensor_formulas(shape: tuple[int, ...], reduction: str) -> None:
    """variants.kl_exp_terms (CHUNK elements at a time, e^pred formed once for both variants) gives, bit for bit, what
    the formulas give on the whole tensors: Keras' Σ over the last dimension of p'·log(p' / clip(e^x, 1e-7, 1)) (p' the
    target clipped) and the swapped direction's q log q − q·log p (q = e^x); and the variants' values are those."""
    from lossapp.conventions import KERAS_EPS
    from lossapp.variants import kl_exp_terms
    g = torch.Generator().manual_seed(sum(shape))
    x = torch.log_softmax(3 * torch.randn(shape, generator=g, dtype=torch.float64), 1 if len(shape) > 1 else 0)
    t = torch.softmax(torch.randn(shape, generator=g, dtype=torch.float64), 1 if len(shape) > 1 else 0)
    result = lossapp.compute("kl_div", x, t, reduction=reduction)
    per_row, terms = kl_exp_terms(Case(result), KERAS_EPS)
    q = torch.exp(x)
    p = t.clamp(KERAS_EPS, 1.0)
    keras = torch.div(p, q.clamp(KERAS_EPS, 1.0)).log().mul(p).sum(-1)
    swapped = torch.addcmul(torch.log(q) * q, q, torch.log(t), value=-1.0)
    assert torch.equal(terms, swapped)
    if reduction == "sum":
        assert per_row is None
    else:
        assert torch.equal(per_row, keras)
    values = _variant_values(result)
    if per_row is not None:
        assert values["keras_kl"] == float(keras.mean())
    total = swapped.sum()
    total = total / {"sum": 1, "mean": torch.tensor(float(x.numel()), dtype=torch.float64), "batchmean": shape[0]}[reduction]
    assert values["kl_direction_swapped"] == float(total)


@pytest.mark.parametrize("shape", [(7, 3), (30011, 10), (70001,), (900, 4, 37)])
def test_kl_swapped_terms_alone_are_those_of_the_pass_with_keras(shape: tuple[int, ...]) -> None:
    """variants.kl_swapped_terms without Keras' pass made (its bound ruled Keras out) gives the swapped terms bit for bit
    as the pass that also makes Keras' row sums, and reads that pass's terms where the case made it."""
    from lossapp.conventions import KERAS_EPS
    from lossapp.variants import kl_exp_terms, kl_swapped_terms
    g = torch.Generator().manual_seed(len(shape))
    dim = 1 if len(shape) > 1 else 0
    x = torch.log_softmax(3 * torch.randn(shape, generator=g, dtype=torch.float64), dim)
    t = torch.softmax(torch.randn(shape, generator=g, dtype=torch.float64), dim)
    result = lossapp.compute("kl_div", x, t)
    alone = Case(result)
    terms = kl_swapped_terms(alone, KERAS_EPS)
    assert alone.made(("kl_exp_terms", KERAS_EPS, True)) is None and kl_exp_terms(alone, KERAS_EPS, keras=False)[0] is None
    both = Case(result)
    per_row, full = kl_exp_terms(both, KERAS_EPS)
    assert per_row is not None and torch.equal(terms, full)
    assert kl_swapped_terms(both, KERAS_EPS) is full


def _keras_kl_problem(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """log q and p for the Keras KL bound's test: random rows, and adversarial ones (q and p at the clip's edge, p = 1
    exactly, rows that are not distributions, one huge term, every term 0, shapes whose last dimension is not the
    class dimension)."""
    g = torch.Generator().manual_seed(seed)
    shape = [(300, 7), (20001,), (40, 5, 9), (20000, 6), (64, 3), (3000, 40), (2, 3), (25000, 5)][seed]
    dim = 1 if len(shape) > 1 else 0
    x = torch.log_softmax((3 if dim and shape[-1] <= 10 else 1) * torch.randn(shape, generator=g, dtype=torch.float64), dim)
    t = torch.softmax(torch.randn(shape, generator=g, dtype=torch.float64), dim)
    edge = math.log(1e-7) + 1e-6 * (1 + 1e-9)
    if seed == 3:  # q and p at the clips' edges, p = 1 exactly
        x = x.clamp_min(edge)
        x.view(-1)[::7] = edge
        t = t.clamp(1e-7, 1.0)
        t.view(-1)[::5] = 1e-7
        t.view(-1)[1::11] = 1.0
    if seed == 4:  # rows that are not distributions; one large term
        x = torch.rand(shape, generator=g, dtype=torch.float64) * edge
        t = torch.rand(shape, generator=g, dtype=torch.float64).clamp_min(1e-7)
        x[0, 0], t[0, 0] = edge, 1.0
    if seed == 6:  # every term 0 (p = q)
        x = torch.log(torch.tensor([[0.25, 0.5, 0.25], [0.5, 0.25, 0.25]], dtype=torch.float64))
        t = torch.exp(x)
    if seed == 7:  # q = p to float32 precision: tiny terms of either sign
        x = torch.log_softmax(torch.randn(shape, generator=g, dtype=torch.float64), dim)
        t = torch.exp(x.float().double())
    return x, t


@pytest.mark.parametrize("seed", range(8))
def test_keras_kl_bound_holds_the_variant_and_its_enclosure(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """conventions._keras_kl_bound (from the correct enclosure, no pass over e^x) holds Keras' computed value and its
    enclosure (what interval_of gives the checker), on random and adversarial point-box inputs, by the point bounds and
    by interval arithmetic; it is narrow on the usual ones; it declines where a clip fires, with decimals, log_target,
    other bases or reductions."""
    from lossapp.conventions import _keras_kl_bound, _keras_kl_value_bound
    from lossapp.inputs import TensorInput
    from lossapp.variants import VariantValue, interval_of
    x, t = _keras_kl_problem(seed)
    keras = CONVENTIONS["keras_kl"]
    for small_boxes in (False, True):
        with monkeypatch.context() as m:
            if small_boxes:  # every box's enclosure by interval arithmetic
                m.setattr(lossapp.interval, "uses_point_bound", lambda box: False)
            for reduction in ("mean", "batchmean"):
                case = Case(lossapp.compute("kl_div", TensorInput(x, None), TensorInput(t, None), reduction=reduction))
                b, value = _keras_kl_bound(case), keras.compute(case)
                assert b is not None and value is not None, (seed, reduction)
                assert b[0] <= value <= b[1], (seed, reduction, b, value)
                from_value = _keras_kl_value_bound(case)  # (the proven part alone, before the enclosure joins it)
                assert from_value is not None and from_value[0] <= value <= from_value[1], (seed, reduction, from_value)
                enclosure = interval_of(case, VariantValue(keras, value))
                if enclosure is not None:
                    assert b[0] <= enclosure[0] and enclosure[1] <= b[1], (seed, reduction, b, enclosure)
                if seed in (0, 5) and value != 0:
                    assert b[1] - b[0] < 1e-6 * abs(value), (seed, reduction, b, value)
    case = Case(lossapp.compute("kl_div", TensorInput(x, None), TensorInput(t, None)))
    assert _keras_kl_bound(case) is not None
    low_q, low_p = x.clone(), t.clone()
    low_q.view(-1)[0], low_p.view(-1)[0] = math.log(1e-7) - 1e-9, 1e-8
    declined = [lossapp.compute("kl_div", low_q, t), lossapp.compute("kl_div", x, low_p),  # a clip fires
                lossapp.compute("kl_div", x, t, reduction="sum"),
                lossapp.compute("kl_div", x, t, log_base=2),
                lossapp.compute("kl_div", x, torch.log(t), log_target=True)]
    if x.numel() <= lossapp.inputs.limits.DECIMALS_MAX_ELEMENTS:
        declined.append(lossapp.compute("kl_div", f"{x.tolist()}", f"{t.tolist()}"))  # a box with width
    for result in declined:
        assert _keras_kl_bound(Case(result)) is None


@pytest.mark.parametrize("name", ["dice", "iou", "tversky"])
@pytest.mark.parametrize("seed", range(6))
def test_overlap_probabilities_as_logits_bound_holds_the_variant(name: str, seed: int) -> None:
    """The bound of probabilities_as_logits for an overlap loss (from the per-set sums, no pass: overlap_again_bound)
    holds the variant's computed value, on random and adversarial point-box inputs (p at 0 and 1, all or no positives,
    soft labels, an empty target with zero_empty, pooled and per-sample sets, both reductions); it is narrow enough to
    rule out a claim 2 % away on a large mask."""
    from lossapp.inputs import TensorInput
    from lossapp.variants import overlap_again_bound, overlap_value
    g = torch.Generator().manual_seed(seed)
    shape = [(6, 50), (3, 2, 40), (200,), (4, 3, 5, 6), (2, 1000), (5, 7)][seed]
    p = torch.rand(shape, generator=g, dtype=torch.float64)
    t = (torch.rand(shape, generator=g) > 0.5).double()
    if seed == 1:
        p = (p > 0.5).double()  # p at 0 and 1 only
    if seed == 2:
        t = torch.rand(shape, generator=g, dtype=torch.float64)  # soft labels
    if seed == 3:
        t[0] = 0.0  # an empty target in the first sample
        t[1] = 1.0  # all positives in the second
    if seed == 4:
        p = p ** 8  # most p near 0
    params_list = [{}, {"per_sample": True}, {"per_sample": False}, {"zero_empty": True, "eps": 0.0},
                   {"eps": 1.0, "per_channel": len(shape) >= 3, "include_background": len(shape) < 3}]
    if name == "tversky":
        params_list.append({"alpha": 0.3, "beta": 1.7})
    for params in params_list:
        for reduction in ("mean", "sum"):
            try:
                result = lossapp.compute(name, TensorInput(p, None), TensorInput(t, None), reduction=reduction,
                                         **params)
            except InputError:
                continue
            case = Case(result)
            bound = overlap_again_bound(case)
            value = overlap_value(case, again=True)
            assert bound is not None and value is not None, params
            assert bound[0] <= value <= bound[1], (params, reduction, bound, value)
    big = Case(lossapp.compute(name, TensorInput(torch.rand(8, 20000, generator=g, dtype=torch.float64), None),
                               TensorInput((torch.rand(8, 20000, generator=g) > 0.5).double(), None)))
    lo, hi = overlap_again_bound(big)
    assert lo <= overlap_value(big, again=True) <= hi and hi - lo < 0.02 * abs(hi)


@pytest.mark.parametrize("seed", range(6))
def test_bce_swapped_and_logit_bounds_hold_the_variants(seed: int) -> None:
    """The bounds found without a pass over the terms — bce's probabilities_as_logits (bce_with_logits run on p) and
    bce_with_logits' labels_swapped and keras_label_smoothing (from the correct value and Σ x, Σ y·x) — hold the
    variants' computed values and their enclosures, on random and adversarial point-box inputs (p at 0 and 1, soft
    labels, all or no positives, huge logits, both reductions); they are narrow (bce's within 5 %, the others'
    within 1e−6 relative)."""
    from lossapp.conventions import _binary_smoothed_bound
    from lossapp.inputs import TensorInput
    from lossapp.mistakes import _probabilities_as_logits_bound
    from lossapp.variants import VariantValue, interval_of, labels_swapped_bound
    g = torch.Generator().manual_seed(seed)
    n = [50, 3000, 7, 400, 1000, 20000][seed]
    p = torch.rand(n, generator=g, dtype=torch.float64)
    x = torch.randn(n, generator=g, dtype=torch.float64) * 3
    t = (torch.rand(n, generator=g) > 0.5).double()
    if seed == 1:
        p = (p > 0.5).double()  # p at 0 and 1 only
        x = x * 1e30  # huge logits
    if seed == 2:
        t = torch.rand(n, generator=g, dtype=torch.float64)  # soft labels
    if seed == 3:
        t = torch.ones(n, dtype=torch.float64)  # all positives
        p = p ** 12
        x = x + 40
    if seed == 4:
        t = torch.zeros(n, dtype=torch.float64)  # no positives
        p = 1 - p ** 12
        x = x * 1e-12
    for reduction in ("mean", "sum"):
        for name, pred, mistake, bound in (
                ("bce", p, MISTAKES["probabilities_as_logits"], _probabilities_as_logits_bound),
                ("bce_with_logits", x, MISTAKES["labels_swapped"], labels_swapped_bound),
                ("bce_with_logits", x, CONVENTIONS["keras_label_smoothing"], _binary_smoothed_bound)):
            case = Case(lossapp.compute(name, TensorInput(pred, None), TensorInput(t, None), reduction=reduction))
            b, value = bound(case), mistake.compute(case)
            assert b is not None and value is not None, (name, mistake.id)
            assert b[0] <= value <= b[1], (name, mistake.id, reduction, b, value)
            enclosure = interval_of(case, VariantValue(mistake, value))
            if enclosure is not None:  # the bound holds what the variant's interval holds
                assert b[0] <= enclosure[0] and enclosure[1] <= b[1], (name, mistake.id, b, enclosure)
            if seed in (0, 2, 5) and math.isfinite(value) and value != 0:
                width = 0.05 if name == "bce" else 1e-6  # Jensen to chord of log(1 + e^p) on [0, 1]; an identity
                assert b[1] - b[0] < width * abs(value), (name, mistake.id, b, value)
    # with decimals (a box with width) or a weight the bounds decline
    case = Case(lossapp.compute("bce", p, t))
    assert _probabilities_as_logits_bound(case) is None
    case = Case(lossapp.compute("bce_with_logits", TensorInput(x, None), TensorInput(t, None), weight=t + 1))
    assert labels_swapped_bound(case) is None and _binary_smoothed_bound(case) is None
