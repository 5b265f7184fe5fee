"""Every registered mistake reproduces, on a constructed case, the value of the wrong computation written
independently here with torch built-ins — and the checker names it."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import lossapp
from lossapp.i18n import has_zh, tr
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
ROWS = {"per_sample": True}  # the two rows of MASK_P as two samples (a 2-D mask is one set by default)


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
    "dice_coefficient_not_loss": ("dice", MASK_P, MASK_T, ROWS, float(_dice_coef(t(MASK_P), t(MASK_T)).mean()), "mistake"),
    "iou_coefficient_not_loss": ("iou", MASK_P, MASK_T, ROWS, float(_iou_coef(t(MASK_P), t(MASK_T)).mean()), "mistake"),
    "tversky_index_not_loss": ("tversky", MASK_P, MASK_T, {"alpha": 0.5, "beta": 0.5, **ROWS},
                               float(_tversky_coef(t(MASK_P), t(MASK_T)).mean()), "mistake"),
    "iou_instead_of_dice": ("dice", MASK_P, MASK_T, ROWS, float((1 - _iou_coef(t(MASK_P), t(MASK_T))).mean()), "mistake"),
    "dice_instead_of_iou": ("iou", MASK_P, MASK_T, ROWS, float((1 - _dice_coef(t(MASK_P), t(MASK_T))).mean()), "mistake"),
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
    """The catalogue's mistakes have their case here; a mistake a loss module registers (its texts in that module's
    own catalog table) is tested with its loss, in that loss's tests/test_losses_*.py."""
    catalogue = {k for k, m in MISTAKES.items() if m.title.id.startswith("mistakes.")}
    assert catalogue == set(CASES)
    loss_tests = "".join(p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("test_losses_*.py"))
    assert [k for k in set(MISTAKES) - catalogue if f'"{k}"' not in loss_tests] == []


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


def test_mistakes_do_not_apply_outside_their_family() -> None:
    r = lossapp.compute("mse", "[0.5, 1.0]", "[0.2, 0.0]")
    ids = {v.id for v in evaluate_mistakes(Case(r))}
    assert not ids & {"log10", "log2", "missing_minus", "alpha_on_both_classes", "kl_direction_swapped"}


def test_every_mistake_value_lists_its_step_and_zh_in_json() -> None:
    v = check("bce", str(P3), str(Y3), claimed=f"{BCE_VALUE / math.log(2):.4f}")
    d = v.to_dict()["mistakes"][0]
    assert d["id"] == "log2" and d["step"] == "log" and CJK.search(d["title_zh"])


def _with_spec(result: lossapp.Result, **changes: object) -> Case:
    """A case of the same result whose spec differs in the given fields (what a new loss would declare)."""
    return Case(dataclasses.replace(result, spec=dataclasses.replace(result.spec, **changes)))


def test_mistakes_follow_the_spec_not_the_name() -> None:
    """A loss's own mistakes are the ones its spec declares; the generic ones follow its flags."""
    r = lossapp.compute("smooth_l1", _text(REG_P), _text(REG_Y), beta=0.5)
    own = {"smooth_l1_without_beta", "smooth_l1_huber_swapped"}
    assert own <= {v.id for v in evaluate_mistakes(Case(r))}
    assert not own & {v.id for v in evaluate_mistakes(_with_spec(r, mistakes=()))}
    r = lossapp.compute("bce", _text(P3), _text(Y3))
    logs = {"log10", "log2", "missing_minus"}
    assert logs <= {v.id for v in evaluate_mistakes(Case(r))}
    assert not logs & {v.id for v in evaluate_mistakes(_with_spec(r, natural_log=False))}
    r = lossapp.compute("mse", _text(REG_P), _text(REG_Y))
    assert logs <= {v.id for v in evaluate_mistakes(_with_spec(r, natural_log=True))}


# -- the poisson mistakes over the inputs' rounding box ------------------------------------------------------------

POISSON_EXACT = [0.50342, 1.19681, 2.00473, 0.20314, 1.09627]  # ≥ 0: a log-rate or a rate
POISSON_WRITTEN = "[0.50, 1.20, 2.00, 0.20, 1.10]"
POISSON_COUNTS = [2, 0, 6, 1, 3]


@pytest.mark.parametrize(("mistake_id", "params", "wrong"), [
    ("poisson_log_input_swapped", {"log_input": True, "full": True}, {"log_input": False, "full": True}),
    ("poisson_log_input_swapped", {"log_input": False, "full": False}, {"log_input": True, "full": False}),
    ("poisson_full_toggled", {"log_input": True, "full": True}, {"log_input": True, "full": False}),
    ("poisson_full_toggled", {"log_input": False, "full": False}, {"log_input": False, "full": True}),
])
def test_poisson_mistake_on_inputs_rounded_afterwards(mistake_id: str, params: dict, wrong: dict) -> None:
    """The mistake computed (by torch) on the exact inputs, which were then written to 2 decimals: named through its
    enclosure over the box; the correct value on the exact inputs stays `rounding`."""
    x, y = t(POISSON_EXACT), t(POISSON_COUNTS)
    value = float(F.poisson_nll_loss(x, y, **wrong))
    v = check("poisson_nll", POISSON_WRITTEN, str(POISSON_COUNTS), claimed=f"{value:.4f}", **params)
    assert v.verdict == "mistake" and v.mistakes[0].id == mistake_id, (v.verdict, v.explanation)
    lo, hi = v.mistakes[0].interval
    assert lo <= value <= hi
    true = float(F.poisson_nll_loss(x, y, **params))
    assert check("poisson_nll", POISSON_WRITTEN, str(POISSON_COUNTS), claimed=f"{true:.4f}",
                 **params).verdict == "rounding"
    # over the box: the mistake's value at random points of it lies in its enclosure
    gen = torch.Generator().manual_seed(3)
    for _ in range(6):
        moved = (t([0.50, 1.20, 2.00, 0.20, 1.10]) + (torch.rand(5, generator=gen, dtype=D) * 2 - 1) * 0.00499)
        assert lo <= float(F.poisson_nll_loss(moved, y, **wrong)) <= hi


@pytest.mark.parametrize("reduction", ["batchmean", "mean", "sum"])
def test_kl_direction_swapped_without_a_run_equals_the_run(reduction: str) -> None:
    """KL(q‖p) formed directly (mistake kl_direction_swapped, no rerun of kl_div's steps) equals kl_div's run on the
    swapped inputs, for rows, one distribution, zero and infinite log q."""
    g = torch.Generator().manual_seed(3)
    rows = torch.log_softmax(torch.randn(5, 4, generator=g, dtype=torch.float64), 1)
    cases = [(rows, torch.softmax(torch.randn(5, 4, generator=g, dtype=torch.float64), 1)),
             (torch.log(torch.tensor([0.25, 0.5, 0.25], dtype=torch.float64)), torch.tensor([0.5, 0.25, 0.25])),
             (torch.tensor([[0.0, -math.inf], [-0.5, -0.9]], dtype=torch.float64), torch.tensor([[0.7, 0.3], [0.6, 0.4]]))]
    for log_q, p in cases:
        case = Case(lossapp.compute("kl_div", log_q, p, reduction=reduction))
        run = case.run(pred=torch.log(case.target.double()), target=torch.exp(case.pred.double()))
        value = MISTAKES["kl_direction_swapped"].compute(case)
        assert (run is None) == (value is None)
        assert run is None or value == pytest.approx(run, rel=1e-15, abs=0.0)


def test_rmse_sum_instead_of_mean_from_the_terms_equals_the_run() -> None:
    """RMSE's sum_instead_of_mean is √Σ d² from the trace's terms (no rerun): the value of a run with reduction sum."""
    g = torch.Generator().manual_seed(5)
    for shape in [(7,), (3, 4)]:
        case = Case(lossapp.compute("rmse", torch.randn(shape, generator=g), torch.randn(shape, generator=g)))
        run = case.run(reduction="sum")
        assert run is not None and MISTAKES["sum_instead_of_mean"].compute(case) == run


def test_probabilities_as_logits_bound_holds_its_value() -> None:
    """probabilities_as_logits' bound (no pass over the terms) holds the value the run gives, for every elementwise loss on
    logits it applies to, with their options, both reductions, one label only, wide and narrow logits."""
    from lossapp.registry import LOSSES
    variant = MISTAKES["probabilities_as_logits"]
    options = {"soft_truncated_ce": [{}, {"K": 3.0, "m": 0.7}, {"K": 0.0}, {"K": 50.0, "m": 0.2}],
               "focal": [{}, {"alpha": -1.0, "gamma": 0.0}, {"alpha": 0.9, "gamma": 5.0}, {"gamma": 1.5},
                         {"input": "probabilities"}, {"input": "probabilities", "alpha": 0.5, "gamma": 3.0},
                         {"avg_factor": 3.0}]}
    g = torch.Generator().manual_seed(11)
    bounded = set()
    for name, spec in LOSSES.items():
        if spec.activation != "sigmoid" or spec.derivative is None:
            continue
        for params in options.get(name, [{}]):
            for reduction, scale, n, labels in [("mean", 3.0, 40, "both"), ("sum", 30.0, 40, "both"), ("mean", 0.01, 1, "ones"),
                                                ("sum", 1.0, 7, "zeros")]:
                x = torch.randn(n, generator=g, dtype=torch.float64) * scale
                if params.get("input") == "probabilities":
                    x = torch.sigmoid(x)
                y = {"both": (torch.rand(n, generator=g) > 0.5).double(), "ones": torch.ones(n, dtype=torch.float64),
                     "zeros": torch.zeros(n, dtype=torch.float64)}[labels]
                if "avg_factor" in params and reduction == "sum":
                    continue
                case = Case(lossapp.compute(name, x, y, reduction=reduction, **params))
                bound, value = variant.bound(case), variant.compute(case)
                if bound is not None and value is not None:
                    bounded.add(name)
                    assert bound[0] <= value <= bound[1], (name, params, reduction, labels)
                    interval = variant.interval(case)  # where there is one (the run on the same inputs): inside too
                    assert interval is None or bound[0] <= interval[0] <= interval[1] <= bound[1], (name, params)
    assert {"soft_truncated_ce", "focal"} <= bounded


@pytest.mark.parametrize("seed", range(6))
def test_rescaled_bound_holds_the_variant_and_its_enclosure(seed: int) -> None:
    """smooth_l1_huber_swapped's bound (r times the correct enclosure, no pass over the terms) holds the variant's value
    and its enclosure on random and adversarial point-box inputs: differences at the branch (|d| = β), zero and subnormal
    differences, huge ones, the smallest and largest β and δ, both reductions, a box below and above
    limits.DECIMALS_MAX_ELEMENTS (the interval formula and the point bound); it is narrow (1e-6 relative) and declines with
    decimals, β below Huber's least δ and reduction none."""
    from lossapp.inputs import TensorInput, limits
    from lossapp.variants import VariantValue, interval_of
    variant = MISTAKES["smooth_l1_huber_swapped"]
    g = torch.Generator().manual_seed(seed)
    n = [40, 3000, 7, limits.DECIMALS_MAX_ELEMENTS + 10, 500, 1][seed]
    x = torch.randn(n, generator=g, dtype=D) * [1.0, 3.0, 1e-3, 2.0, 1e6, 1.0][seed]
    y = torch.randn(n, generator=g, dtype=D)
    if seed == 2:  # |d| exactly at the branch for β = 1 and 0.5, zero and subnormal differences
        y = x.clone()
        y[:4] = x[:4] - torch.tensor([1.0, -1.0, 0.5, 0.0], dtype=D)
        y[4] = x[4] - 5e-324
    options = [("smooth_l1", {}), ("smooth_l1", {"beta": 0.5}), ("smooth_l1", {"beta": 1e-6}),
               ("smooth_l1", {"beta": 10.0}), ("huber", {}), ("huber", {"delta": 1e-6}), ("huber", {"delta": 10.0})]
    for name, params in options:
        for reduction in ("mean", "sum"):
            case = Case(lossapp.compute(name, TensorInput(x, None), TensorInput(y, None), reduction=reduction, **params))
            bound, value = variant.bound(case), variant.compute(case)
            assert bound is not None and value is not None, (name, params, reduction)
            assert bound[0] <= value <= bound[1], (name, params, reduction, bound, value)
            interval = interval_of(case, VariantValue(variant, value))
            assert interval is not None and bound[0] <= interval[0] <= interval[1] <= bound[1], \
                (name, params, reduction, bound, interval)
            if value > 1e-300:
                assert bound[1] - bound[0] < 1e-6 * value, (name, params, reduction, bound, value)
    # declines: decimals (a box with width), β below Huber's least δ (δ = 10⁻⁶ is not β), reduction none
    assert variant.bound(Case(lossapp.compute("smooth_l1", "[0.51, -1.2]", "[0.3, 1.0]"))) is None
    assert variant.bound(Case(lossapp.compute("smooth_l1", TensorInput(x, None), TensorInput(y, None),
                                              beta=1e-7))) is None
    assert variant.bound(Case(lossapp.compute("huber", TensorInput(x, None), TensorInput(y, None),
                                              reduction="none"))) is None


@pytest.mark.parametrize("seed", range(4))
def test_softmax_focal_probabilities_as_logits_bound_holds_its_value(seed: int) -> None:
    """The softmax focal loss's probabilities_as_logits bound (from C, α and the count alone) holds the run's value: random
    and adversarial logits (one-hot-like rows at both ends of log p_t, equal rows), every α kind, γ, ignored samples,
    both reductions, 2 to 50 classes."""
    variant = MISTAKES["probabilities_as_logits"]
    g = torch.Generator().manual_seed(seed)
    for trial in range(40):
        c, n = int(torch.randint(2, 51, (1,), generator=g)), int(torch.randint(1, 30, (1,), generator=g))
        kind = trial % 4
        x = torch.randn(n, c, generator=g, dtype=torch.float64) * [0.1, 3.0, 1e3, 0.0][kind]
        y = torch.randint(0, c, (n,), generator=g)
        if kind == 2:  # the target's class far below one other (log p_t near ℓ_lo) or far above all (near ℓ_hi)
            x = torch.zeros(n, c, dtype=torch.float64)
            x[torch.arange(n), y] = torch.where(torch.rand(n, generator=g) > 0.5, 1e3, -1e3).double()
            x[torch.arange(n), (y + 1) % c] += 1e3
        if trial % 3 == 0:
            y[0] = -100
            y[-1] = y[-1] if n > 1 else 0
        alpha = [None, float(torch.rand(1, generator=g)), torch.rand(c, generator=g, dtype=torch.float64), -1.0][trial % 4]
        gamma = [0.0, 1.0, 2.0, 4.5, 100.0][trial % 5]
        for reduction in ("mean", "sum"):
            case = Case(lossapp.compute("softmax_focal", x, y, reduction=reduction, gamma=gamma, alpha=alpha))
            bound, value = variant.bound(case), variant.compute(case)
            assert bound is not None
            if value is not None and math.isfinite(value):
                assert bound[0] <= value <= bound[1], (trial, c, alpha, gamma, reduction)


def _focal_alpha_problems() -> list[tuple[torch.Tensor, torch.Tensor, dict]]:
    """Sigmoid focal problems above the decimals limit (a point box, the variants' enclosures the point bound), random
    and adversarial: α near 0, ½ and 1, γ = 0, fractional and large, huge, tiny and zero logits, labels all 0, all 1 or
    one 1, probabilities, float32 inputs, sum and avg_factor."""
    from lossapp.inputs import limits
    g = torch.Generator().manual_seed(21)
    n = limits.DECIMALS_MAX_ELEMENTS + 37
    x = torch.randn(n, generator=g, dtype=torch.float64)
    y = (torch.rand(n, generator=g) > 0.5).double()
    one = torch.zeros(n, dtype=torch.float64)
    one[n // 2] = 1.0
    wide = x * torch.logspace(-12, 12, n, dtype=torch.float64)[torch.randperm(n, generator=g)]
    p = torch.rand(n, generator=g, dtype=torch.float64)
    p[:3] = torch.tensor([0.0, 1.0, 1e-300])
    return [(x * 3, y, {}), (x * 3, y, {"alpha": 0.5, "gamma": 0.0}), (x * 3, y, {"alpha": 1e-3, "gamma": 0.5}),
            (x * 3, y, {"alpha": 0.999, "gamma": 7.5, "reduction": "sum"}), (x * 1e8, y, {"gamma": 3.0}),
            (x * 1e-8, y, {}), (torch.zeros(n, dtype=torch.float64), y, {}), (x * 3, torch.zeros(n), {}),
            (x * 3, torch.ones(n, dtype=torch.float64), {"alpha": 0.75}), (x * 3, one, {}), (wide, y, {"gamma": 1.0}),
            ((x * 3).float(), y.float(), {}), (x * 3, y, {"avg_factor": 17.5}),
            (p, y, {"input": "probabilities", "gamma": 2.0}), (x * 3, y, {"alpha": 0.5})]


def test_focal_alpha_bound_holds_the_variants_values_and_enclosures() -> None:
    """variants.focal_alpha_bound (from Σ l and Σ y·l, with no pass over the terms without α) holds the α variants'
    own values and their enclosures (those the checker would list them with), on random and adversarial problems;
    it is given (and narrow) on the problems it covers and withheld where it does not apply."""
    from lossapp.conventions import CONVENTIONS
    from lossapp.variants import VariantValue, interval_of, variant_value
    variants = [MISTAKES["no_alpha"], MISTAKES["alpha_on_both_classes"], MISTAKES["alpha_swapped"],
                CONVENTIONS["keras_focal_no_alpha"], CONVENTIONS["smp_focal_no_alpha"]]
    given = 0
    for x, y, params in _focal_alpha_problems():
        case = Case(lossapp.compute("focal", x, y, **params))
        for variant in variants:
            if not variant.applies(case):
                continue
            bound = variant.bound(case)
            value = variant_value(case, variant)
            if bound is None:
                continue
            given += 1
            lo, hi = bound
            assert value is not None and lo <= value <= hi, (variant.id, params, bound, value)
            iv = interval_of(case, VariantValue(variant, value))
            assert iv is not None and lo <= iv[0] and iv[1] <= hi, (variant.id, params, bound, iv)
            assert hi - lo <= 3 * (iv[1] - iv[0]) + 1e-5 * abs(value) + 1e-290, (variant.id, params, bound, iv)
    assert given >= 50
    # not covered: a box with width (decimals), few elements, soft labels, a weight, α off or at 0 or 1
    g = torch.Generator().manual_seed(22)
    x = torch.randn(1000, generator=g, dtype=torch.float64)
    y = (torch.rand(1000, generator=g) > 0.5).double()
    for args, params in [((x, y), {}), (("[0.5, -1.25]", "[1, 0]"), {}), ((x.repeat(101), y.repeat(101) * 0.5), {}),
                         ((x.repeat(101), y.repeat(101)), {"weight": torch.rand(101000, generator=g)}),
                         ((x.repeat(101), y.repeat(101)), {"alpha": -1.0}),
                         ((x.repeat(101), y.repeat(101)), {"alpha": 0.0}),
                         ((x.repeat(101), y.repeat(101)), {"alpha": 1.0})]:
        case = Case(lossapp.compute("focal", *args, **params))
        assert all(v.bound(case) is None for v in variants), params
    case = Case(lossapp.compute("softmax_focal", x.repeat(303).reshape(-1, 3), (y.repeat(101) * 2).long(),
                                alpha="[0.25, 0.5, 0.25]"))  # (another focal loss, α per class: no bound, no error)
    assert all(v.bound(case) is None for v in variants)
