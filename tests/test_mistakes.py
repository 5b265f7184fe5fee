"""Every registered mistake reproduces, on a constructed case, the value of the wrong computation written
independently here with torch built-ins — and the checker names it."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import partial

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import lossapp
from lossapp.i18n import has_zh, tr
from lossapp.inputs import InputError
from lossapp.mistakes import MISTAKES, evaluate_mistakes
from lossapp.variants import Case
from lossapp.verdicts import check

D = torch.float64
CJK = re.compile(r"[\u4e00-\u9fff]")


def t(x) -> torch.Tensor:
    return torch.tensor(x, dtype=D)


P3 = [0.2947, 0.5898, 0.4863]
Y3 = [1.0, 0.0, 0.0]
LOGITS = [[1.5, 0.3, -0.8], [0.2, 2.1, 0.4]]
IDX = [0, 2]
REG_P = [[0.5, -1.2, 2.0], [0.0, 1.5, -0.3]]
REG_Y = [[0.3, -1.0, 1.0], [0.2, 3.0, -0.3]]
FOCAL_X = [[1.2, -0.8, 0.3], [-2.0, 0.5, 3.0]]
FOCAL_Y = [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]
KL_LOGQ = [[-1.2040, -1.2040, -0.9163], [-0.3567, -1.6094, -2.3026]]
KL_P = [[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]
MASK_P = [[0.9, 0.2, 0.7, 0.1], [0.3, 0.8, 0.6, 0.4]]
MASK_T = [[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0]]


def _focal(alpha_t: Callable[[torch.Tensor], torch.Tensor], gamma: float = 2.0) -> float:
    x, y = t(FOCAL_X), t(FOCAL_Y)
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    return float((alpha_t(y) * (1 - p_t) ** gamma * ce).mean())


def _dice_coef(p: torch.Tensor, y: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    return (2 * (p * y).sum(-1) + eps) / (p.sum(-1) + y.sum(-1) + eps)


def _iou_coef(p: torch.Tensor, y: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    inter = (p * y).sum(-1)
    return (inter + eps) / (p.sum(-1) + y.sum(-1) - inter + eps)


def _tversky_coef(p: torch.Tensor, y: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    inter = (p * y).sum(-1)
    return (inter + eps) / (inter + 0.5 * (p * (1 - y)).sum(-1) + 0.5 * ((1 - p) * y).sum(-1) + eps)


def _kl_mean() -> float:
    with pytest.warns(UserWarning):  # torch's own warning about 'mean'
        return float(F.kl_div(t(KL_LOGQ), t(KL_P), reduction="mean"))


BCE_VALUE = float(F.binary_cross_entropy(t(P3), t(Y3)))
CE_VALUE = float(F.cross_entropy(t(LOGITS), torch.tensor(IDX)))

# id -> (loss, pred, target, kwargs, the wrong value computed independently, expected verdict)
CASES: dict[str, tuple] = {
    "log10": ("bce", P3, Y3, {}, BCE_VALUE / math.log(10), "mistake"),
    "log2": ("bce", P3, Y3, {}, BCE_VALUE / math.log(2), "mistake"),
    "missing_minus": ("cross_entropy", LOGITS, IDX, {}, -CE_VALUE, "mistake"),
    "sum_instead_of_mean": ("mse", REG_P, REG_Y, {}, float(F.mse_loss(t(REG_P), t(REG_Y), reduction="sum")), "mistake"),
    "mean_instead_of_sum": ("l1", REG_P, REG_Y, {"reduction": "sum"}, float(F.l1_loss(t(REG_P), t(REG_Y))), "mistake"),
    "mean_instead_of_batchmean": ("kl_div", KL_LOGQ, KL_P, {"reduction": "batchmean"},
                                  _kl_mean(), "mistake"),
    # Keras' KLDivergence averages per sample too: the convention wins, the mistake is still listed
    "batchmean_instead_of_mean": ("kl_div", KL_LOGQ, KL_P, {"reduction": "mean"},
                                  float(F.kl_div(t(KL_LOGQ), t(KL_P), reduction="batchmean")), "convention"),
    "probabilities_as_logits": ("cross_entropy", [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]], IDX, {"input": "probabilities"},
                                float(F.cross_entropy(t([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]), torch.tensor(IDX))),
                                "mistake"),
    "logits_as_probabilities": ("cross_entropy", [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]], IDX, {},
                                float(F.nll_loss(torch.log(t([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])), torch.tensor(IDX))),
                                "mistake"),
    "labels_swapped": ("bce", P3, Y3, {}, float(F.binary_cross_entropy(t(P3), 1 - t(Y3))), "mistake"),
    "unweighted_mean": ("cross_entropy", LOGITS, IDX, {"weight": "[1, 2, 3]"},
                        float(F.cross_entropy(t(LOGITS), torch.tensor(IDX), weight=t([1, 2, 3]), reduction="sum")) / 2,
                        "mistake"),
    "weighted_mean": ("bce", P3, Y3, {"weight": "[1, 2, 3]"},
                      float(F.binary_cross_entropy(t(P3), t(Y3), weight=t([1, 2, 3]), reduction="sum")) / 6, "mistake"),
    "weight_ignored": ("nll", [[-0.3375, -1.5375, -2.6375], [-2.1869, -0.2869, -1.9869]], IDX, {"weight": "[1, 2, 3]"},
                       float(F.nll_loss(t([[-0.3375, -1.5375, -2.6375], [-2.1869, -0.2869, -1.9869]]),
                                        torch.tensor(IDX))), "mistake"),
    "ignored_counted": ("cross_entropy", [[1.5, 0.3, -0.8], [0.2, 2.1, 0.4], [0.3, 0.3, 0.9]], [0, -100, 2], {},
                        float(F.cross_entropy(t([[1.5, 0.3, -0.8], [0.2, 2.1, 0.4], [0.3, 0.3, 0.9]]),
                                              torch.tensor([0, -100, 2]), reduction="sum")) / 3, "mistake"),
    "label_smoothing_ignored": ("cross_entropy", LOGITS, IDX, {"label_smoothing": 0.2}, CE_VALUE, "mistake"),
    "alpha_on_both_classes": ("focal", FOCAL_X, FOCAL_Y, {"alpha": 0.25, "gamma": 2.0},
                              _focal(lambda y: torch.full_like(y, 0.25)), "mistake"),
    "alpha_swapped": ("focal", FOCAL_X, FOCAL_Y, {"alpha": 0.25, "gamma": 2.0},
                      _focal(lambda y: 0.75 * y + 0.25 * (1 - y)), "mistake"),
    # Keras' BinaryFocalCrossentropy has no α by default: the convention wins, the mistake is still listed
    "no_alpha": ("focal", FOCAL_X, FOCAL_Y, {"alpha": 0.25, "gamma": 2.0}, _focal(torch.ones_like), "convention"),
    "no_modulating_factor": ("focal", FOCAL_X, FOCAL_Y, {"alpha": 0.25, "gamma": 2.0},
                             _focal(lambda y: 0.25 * y + 0.75 * (1 - y), gamma=0.0), "mistake"),
    "dice_coefficient_not_loss": ("dice", MASK_P, MASK_T, {}, float(_dice_coef(t(MASK_P), t(MASK_T)).mean()), "mistake"),
    "iou_coefficient_not_loss": ("iou", MASK_P, MASK_T, {}, float(_iou_coef(t(MASK_P), t(MASK_T)).mean()), "mistake"),
    "tversky_index_not_loss": ("tversky", MASK_P, MASK_T, {"alpha": 0.5, "beta": 0.5},
                               float(_tversky_coef(t(MASK_P), t(MASK_T)).mean()), "mistake"),
    "iou_instead_of_dice": ("dice", MASK_P, MASK_T, {}, float((1 - _iou_coef(t(MASK_P), t(MASK_T))).mean()), "mistake"),
    "dice_instead_of_iou": ("iou", MASK_P, MASK_T, {}, float((1 - _dice_coef(t(MASK_P), t(MASK_T))).mean()), "mistake"),
    "dice_loss_not_coefficient": ("confusion", None, None, {"tp": 20, "fp": 5, "fn": 10, "tn": 65, "metric": "dice"},
                                  1 - 40 / 55, "mistake"),
    "precision_recall_swapped": ("confusion", None, None, {"tp": 20, "fp": 5, "fn": 10, "tn": 65, "metric": "precision"},
                                 20 / 30, "mistake"),
    "accuracy_instead_of_metric": ("confusion", None, None, {"tp": 20, "fp": 5, "fn": 10, "tn": 65, "metric": "f1"},
                                   85 / 100, "mistake"),
    "rmse_mse_swapped": ("rmse", REG_P, REG_Y, {}, float(F.mse_loss(t(REG_P), t(REG_Y))), "mistake"),
    "rmse_as_mean_of_roots": ("rmse", REG_P, REG_Y, {}, float(F.l1_loss(t(REG_P), t(REG_Y))), "mistake"),
    "l1_mse_swapped": ("l1", REG_P, REG_Y, {}, float(F.mse_loss(t(REG_P), t(REG_Y))), "mistake"),
    "half_mse": ("mse", REG_P, REG_Y, {}, float(F.mse_loss(t(REG_P), t(REG_Y))) / 2, "mistake"),
    "smooth_l1_without_beta": ("smooth_l1", REG_P, REG_Y, {"beta": 0.5},
                               float(F.smooth_l1_loss(t(REG_P), t(REG_Y), beta=1.0)), "mistake"),
    "smooth_l1_huber_swapped": ("smooth_l1", REG_P, REG_Y, {"beta": 0.5},
                                float(F.huber_loss(t(REG_P), t(REG_Y), delta=0.5)), "mistake"),
    "kl_direction_swapped": ("kl_div", KL_LOGQ, KL_P, {"reduction": "batchmean"},
                             float(F.kl_div(torch.log(t(KL_P)), torch.exp(t(KL_LOGQ)), reduction="batchmean")), "mistake"),
    "labels_01_not_mapped": ("hinge", [0.8, -0.5, 1.5, 0.3, -2.0], [1, -1, 1, -1, 1], {},
                             float(torch.relu(1 - t([1, 0, 1, 0, 1]) * t([0.8, -0.5, 1.5, 0.3, -2.0])).mean()), "mistake"),
    "multi_margin_not_divided_by_C": ("multi_margin", [[0.1, 0.2, 0.4, 0.8], [0.5, -0.3, 0.2, 0.1]], [3, 0], {},
                                      4 * float(F.multi_margin_loss(t([[0.1, 0.2, 0.4, 0.8], [0.5, -0.3, 0.2, 0.1]]),
                                                                    torch.tensor([3, 0]))), "mistake"),
    "multi_margin_target_included": ("multi_margin", [[0.1, 0.2, 0.4, 0.8], [0.5, -0.3, 0.2, 0.1]], [3, 0], {},
                                     float(F.multi_margin_loss(t([[0.1, 0.2, 0.4, 0.8], [0.5, -0.3, 0.2, 0.1]]),
                                                               torch.tensor([3, 0]))) + 1.0 / 4, "mistake"),
    "accuracy_instead_of_error": ("zero_one", [0.9, 0.3, 0.6, 0.2, 0.55], [1, 0, 0, 0, 1], {}, 4 / 5, "mistake"),
    "l2_penalty_without_half": ("l2_penalty", [0.5, -1.2, 2.0, 0.0, -0.3], None, {"lam": 0.01, "reduction": "sum"},
                                0.01 * float((t([0.5, -1.2, 2.0, 0.0, -0.3]) ** 2).sum()), "mistake"),
    "l2_norm_not_squared": ("l2_penalty", [0.5, -1.2, 2.0, 0.0, -0.3], None, {"lam": 0.01, "reduction": "sum"},
                            0.01 * float(torch.linalg.vector_norm(t([0.5, -1.2, 2.0, 0.0, -0.3]))), "mistake"),
    "penalty_without_lambda": ("l1_penalty", [0.5, -1.2, 2.0, 0.0, -0.3], None, {"lam": 0.01, "reduction": "sum"},
                               float(t([0.5, -1.2, 2.0, 0.0, -0.3]).abs().sum()), "mistake"),
    "no_truncation": ("truncated_ce", [0.9, 0.55, 0.3, 0.2, 0.45, 0.7], [1, 1, 1, 0, 0, 0], {"m": 0.6},
                      float(F.binary_cross_entropy(t([0.9, 0.55, 0.3, 0.2, 0.45, 0.7]), t([1.0, 1, 1, 0, 0, 0]))),
                      "mistake"),
}


def _text(x) -> str | None:
    if x is None:
        return None
    return str(x)


@pytest.mark.parametrize("mistake_id", sorted(CASES))
def test_mistake_is_reproduced_and_named(mistake_id: str) -> None:
    loss, pred, target, kwargs, wrong, verdict = CASES[mistake_id]
    kwargs = dict(kwargs)
    reduction = kwargs.pop("reduction", "mean")
    claimed = f"{wrong:.6f}"
    v = check(loss, _text(pred), _text(target), claimed=claimed, reduction=reduction, **kwargs)
    ids = [m.id for m in v.mistakes]
    assert mistake_id in ids, (v.verdict, ids, v.value, wrong)
    assert v.verdict == verdict, v.explanation
    match = next(m for m in v.mistakes if m.id == mistake_id)
    assert match.value == pytest.approx(wrong, rel=1e-6, abs=1e-9)  # the variant's own value, not just its rounding


def test_every_mistake_has_a_case() -> None:
    assert set(MISTAKES) == set(CASES)


def test_design_ids_are_registered() -> None:
    design = {"log10", "log2", "missing_minus", "sum_instead_of_mean", "mean_instead_of_sum", "probabilities_as_logits",
              "logits_as_probabilities", "alpha_on_both_classes", "no_alpha", "no_modulating_factor",
              "dice_coefficient_not_loss", "iou_instead_of_dice", "unweighted_mean", "rmse_mse_swapped",
              "smooth_l1_without_beta", "kl_direction_swapped"}
    assert design <= set(MISTAKES)


@pytest.mark.parametrize("mistake_id", sorted(MISTAKES))
def test_titles_and_explanations_have_chinese(mistake_id: str) -> None:
    m = MISTAKES[mistake_id]
    assert m.title and m.explanation and m.step
    assert CJK.search(tr(m.title, "zh")) and CJK.search(tr(m.explanation, "zh"))
    assert has_zh(m.title) and has_zh(m.explanation)


def test_article_003_last_formula_is_alpha_on_both_classes() -> None:
    """Article 003 writes −α·(1 − q)^γ·log q for p = 1 and −α·q^γ·log(1 − q) for p = 0."""
    q, p = [0.45, 0.7], [1.0, 0.0]
    x = torch.logit(t(q))
    wrong = float((-(0.25 * (1 - t(q)[0]) ** 2 * torch.log(t(q)[0])) - 0.25 * t(q)[1] ** 2 * torch.log(1 - t(q)[1])) / 2)
    v = check("focal", str(x.tolist()), str(p), claimed=f"{wrong:.6f}", alpha=0.25, gamma=2.0)
    assert v.verdict == "mistake" and v.mistakes[0].id == "alpha_on_both_classes"


def test_variants_equal_to_the_true_value_are_left_out() -> None:
    # a single element: sum and mean coincide, so sum_instead_of_mean explains nothing
    r = lossapp.compute("mse", "[0.5]", "[0.2]")
    assert "sum_instead_of_mean" not in [v.id for v in evaluate_mistakes(Case(r))]


def test_mistakes_do_not_apply_outside_their_family() -> None:
    r = lossapp.compute("mse", "[0.5, 1.0]", "[0.2, 0.0]")
    ids = {v.id for v in evaluate_mistakes(Case(r))}
    assert not ids & {"log10", "log2", "missing_minus", "alpha_on_both_classes", "kl_direction_swapped"}


def test_every_mistake_value_lists_its_step_and_zh_in_json() -> None:
    v = check("bce", str(P3), str(Y3), claimed=f"{BCE_VALUE / math.log(2):.4f}")
    d = v.to_dict()["mistakes"][0]
    assert d["id"] == "log2" and d["step"] == "log" and CJK.search(d["title_zh"])


# -- shared work: every shortcut gives what the run it replaces gives ----------------------------------------------------

from lossapp.conventions import CONVENTIONS, evaluate_conventions  # noqa: E402
from lossapp.verdicts import could_round_to, parse_claim, rounds_to  # noqa: E402

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


@pytest.mark.parametrize("name", ["l1", "mse", "rmse"])
def test_regression_swaps_from_the_own_terms_equal_a_run(name: str) -> None:
    for reduction in ("mean", "sum"):
        case = Case(lossapp.compute(name, _text(REG_P), _text(REG_Y), reduction=reduction))
        fresh = Case(case.result)
        for mistake_id, other in (("rmse_mse_swapped", "mse" if name == "rmse" else "rmse"),
                                  ("l1_mse_swapped", "mse" if name == "l1" else "l1"), ("rmse_as_mean_of_roots", "l1")):
            variant = MISTAKES[mistake_id]
            if variant.applies(case):
                assert variant.compute(case) == pytest.approx(fresh.run(other), rel=1e-12), mistake_id


def test_a_variant_is_computed_once_per_case() -> None:
    case = Case(lossapp.compute("focal", _text(FOCAL_X), _text(FOCAL_Y), alpha=0.25, gamma=2.0))
    first = {v.id: v.value for v in evaluate_mistakes(case)}
    calls = []
    case.run = lambda *a, **k: calls.append(a) or 0.0  # any further run would be recorded
    assert {v.id: v.value for v in evaluate_mistakes(case)} == first and not calls


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
@pytest.mark.parametrize("name", ["dice", "iou", "tversky"])
def test_overlap_variants_from_the_shared_sums_equal_a_run(inputs, name: str) -> None:
    from lossapp.variants import overlap_value
    pred, target, activation = inputs
    for reduction in ("mean", "sum"):
        for own in (True, False):
            case = Case(lossapp.compute(name, _text(pred), _text(target), reduction=reduction, activation=activation,
                                        per_sample=own, **({"alpha": 0.3, "beta": 0.7} if name == "tversky" else {})))
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
