"""Input lint: each warning fires on the mix-up it is about, not on clean input, is shown once with the
result, has its Chinese, and never raises. Mix-ups a loss's own prepare step already flags are left to it
(lint does not repeat them), and still show once in Result.warnings."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

import lossapp
from lossapp.i18n import has_zh
from lossapp.lint import BCE_LOGITS_PROBABILITIES, SOFTMAX_FOCAL_PROBABILITIES, mixup_warnings
from lossapp.losses.classification import CE_PROBABILITIES, NLL_POSITIVE
from lossapp.losses.margin import HINGE_01

L = lossapp.LOSSES


def T(x) -> torch.Tensor:
    return torch.tensor(x)


def test_probabilities_fed_to_cross_entropy() -> None:
    probabilities = "[[0.2, 0.3, 0.5], [0.1, 0.8, 0.1]]"
    assert lossapp.compute("cross_entropy", probabilities, "[2, 1]").warnings == [CE_PROBABILITIES]
    assert CE_PROBABILITIES not in lossapp.compute("cross_entropy", probabilities, "[2, 1]",
                                                   input="probabilities").warnings
    assert CE_PROBABILITIES not in lossapp.compute("cross_entropy", "[[1.5, 0.3, -0.8]]", "[0]").warnings
    # cross_entropy's prepare step says it; lint does not repeat it
    assert mixup_warnings(L["cross_entropy"], T([[0.2, 0.3, 0.5], [0.1, 0.8, 0.1]]), T([2, 1]), {"input": "logits"}) == []


def test_probabilities_fed_to_softmax_focal_and_bce_with_logits() -> None:
    assert mixup_warnings(L["softmax_focal"], T([[0.2, 0.8], [0.5, 0.5]]), T([1, 0]), {}) == [SOFTMAX_FOCAL_PROBABILITIES]
    assert mixup_warnings(L["bce_with_logits"], T([0.2, 0.9]), T([0.0, 1.0]), {}) == [BCE_LOGITS_PROBABILITIES]
    assert mixup_warnings(L["bce_with_logits"], T([-1.2, 0.9]), T([0.0, 1.0]), {}) == []


def test_logits_where_log_probabilities_are_needed() -> None:
    assert lossapp.compute("nll", "[[1.5, 0.3, -0.8]]", "[0]").warnings == [NLL_POSITIVE]
    assert NLL_POSITIVE not in lossapp.compute("nll", "[[-0.3, -1.5, -2.6]]", "[0]").warnings
    assert mixup_warnings(L["nll"], T([[1.5, 0.3, -0.8]]), T([0]), {}) == []  # nll's prepare step says it


def test_hinge_with_01_targets() -> None:
    assert lossapp.compute("hinge", "[0.8, -0.5]", "[1, 0]").warnings == [HINGE_01]
    assert HINGE_01 not in lossapp.compute("hinge", "[0.8, -0.5]", "[1, -1]").warnings
    assert mixup_warnings(L["hinge"], T([0.8, -0.5]), T([1.0, 0.0]), {}) == []  # hinge's prepare step says it


def test_ignore_index_inside_the_class_range() -> None:
    warnings = mixup_warnings(L["cross_entropy"], T([[1.5, 0.3, -0.8], [0.2, 2.1, 0.4]]), T([0, 2]), {"ignore_index": 1})
    assert len(warnings) == 1 and "ignore_index = 1 is a real class (C = 3 classes, 0 to 2)" in warnings[0]
    assert mixup_warnings(L["cross_entropy"], T([[1.5, 0.3, -0.8]]), T([0]), {"ignore_index": -100}) == []
    # class-probability targets: ignore_index does not apply
    assert mixup_warnings(L["cross_entropy"], T([[1.5, 0.3, -0.8]]), T([[0.2, 0.3, 0.5]]), {"ignore_index": 1}) == []


def test_every_target_ignored_explains_the_nan() -> None:
    warnings = mixup_warnings(L["nll"], T([[-0.3, -1.5], [-0.2, -1.7]]), T([-100, -100]), {"ignore_index": -100})
    assert len(warnings) == 1 and "torch returns NaN" in warnings[0] and "0 by 0" in warnings[0]
    assert mixup_warnings(L["nll"], T([[-0.3, -1.5]]), T([-100]), {"ignore_index": -100}, "sum") == []
    # with reduction mean the reduction step explains the NaN (its denominator is 0); lint adds nothing
    assert mixup_warnings(L["nll"], T([[-0.3, -1.5]]), T([-100]), {"ignore_index": -100}, "mean") == []
    r = lossapp.compute("nll", "[[-0.3, -1.5], [-0.2, -1.7]]", "[-100, -100]")
    assert math.isnan(r.value)
    nan_warnings = [w for w in r.warnings if "NaN" in w]
    assert len(nan_warnings) == 1 and "every sample ignored" in nan_warnings[0]


def test_engine_shows_each_warning_once() -> None:
    r = lossapp.compute("cross_entropy", "[[0.2, 0.3, 0.5], [0.1, 0.8, 0.1]]", "[2, 1]")
    assert r.warnings.count(CE_PROBABILITIES) == 1
    r = lossapp.compute("hinge", "[0.8, -0.5]", "[1, 0]")
    assert r.warnings.count(HINGE_01) == 1
    r = lossapp.compute("bce_with_logits", "[0.2, 0.9]", "[0, 1]")
    assert BCE_LOGITS_PROBABILITIES in r.warnings
    r = lossapp.compute("cross_entropy", "[[1.0, 2.0]]", "[1]", ignore_index=1)
    assert math.isnan(r.value)
    nan_warnings = [w for w in r.warnings if "NaN" in w]
    assert len(nan_warnings) == 1 and "every sample ignored" in nan_warnings[0]


def test_clean_inputs_have_no_lint() -> None:
    for spec in L.values():
        ex = spec.example
        if ex.get("pred") is None:
            continue
        r = lossapp.compute(spec.name, ex["pred"], ex.get("target"), **ex.get("params", {}))
        x = r.pred.values
        t = r.target.values if r.target is not None else None
        assert not [w for w in mixup_warnings(spec, x, t, r.params) if "ignore_index" in w]


@pytest.mark.parametrize("pred", [torch.tensor(0.5), torch.zeros(0), torch.tensor([[[0.5]]]), None])
def test_lint_never_raises(pred) -> None:
    for spec in L.values():
        mixup_warnings(spec, pred, torch.tensor([0]), {"ignore_index": 0})


def test_messages_have_chinese() -> None:
    for message in (CE_PROBABILITIES, SOFTMAX_FOCAL_PROBABILITIES, BCE_LOGITS_PROBABILITIES, NLL_POSITIVE, HINGE_01):
        assert has_zh(message)
    warnings = mixup_warnings(L["cross_entropy"], T([[1.5, 0.3, -0.8]]), T([1]), {"ignore_index": 1})
    assert warnings and all(has_zh(w) for w in warnings)


def test_large_inputs_get_the_same_lint_as_small_ones() -> None:
    """Each check is a reduction over every element: a repeated input warns exactly as the small one does."""
    small = [(L["softmax_focal"], T([[0.2, 0.8], [0.5, 0.5]]), T([1, 0]), {}),
             (L["softmax_focal"], T([[0.2, 0.9], [0.5, 0.5]]), T([1, 0]), {}),
             (L["bce_with_logits"], T([0.2, 0.9]), T([0.0, 1.0]), {}),
             (L["bce_with_logits"], T([0.0, 1.0]), T([0.0, 1.0]), {}),  # only 0 and 1: labels, not probabilities
             (L["bce_with_logits"], T([-1.2, 0.9]), T([0.0, 1.0]), {}),
             (L["cross_entropy"], T([[1.5, 0.3, -0.8]]), T([1]), {"ignore_index": 1}),
             (L["nll"], T([[-0.3, -1.5], [-0.2, -1.7]]), T([-100, -100]), {"ignore_index": -100}),
             (L["nll"], T([[-0.3, -1.5], [-0.2, -1.7]]), T([-100, 0]), {"ignore_index": -100})]
    for spec, x, t, params in small:
        reps = 50_000 // x.numel() + 1
        big_x, big_t = x.repeat(reps, *([1] * (x.dim() - 1))), t.repeat(reps, *([1] * (t.dim() - 1)))
        assert mixup_warnings(spec, big_x, big_t, params) == mixup_warnings(spec, x, t, params), (spec.name, x)
    assert mixup_warnings(L["bce_with_logits"], T([0.0, 1.0]), T([0.0, 1.0]), {}) == []
    assert mixup_warnings(L["bce_with_logits"], T([math.nan, 0.5]), T([0.0, 1.0]), {}) == []


def test_lint_follows_the_spec_not_the_name() -> None:
    """The probabilities-as-logits check runs where the spec names it (LossSpec.lints), on the spec's activation."""
    rows = T([[0.2, 0.8], [0.5, 0.5]])
    assert mixup_warnings(dataclasses.replace(L["softmax_focal"], lints=()), rows, T([1, 0]), {}) == []
    margin = dataclasses.replace(L["multi_margin"], activation="softmax", lints=("probabilities_as_logits",))
    assert mixup_warnings(margin, rows, T([1, 0]), {}) == [SOFTMAX_FOCAL_PROBABILITIES]
    truncated = dataclasses.replace(L["soft_truncated_ce"], lints=("probabilities_as_logits",))
    assert mixup_warnings(truncated, T([0.2, 0.9]), T([0.0, 1.0]), {}) == [BCE_LOGITS_PROBABILITIES]
