"""Warning categories: every warning of a Result has one, decided by where it comes from, and Python's warning
filters apply to them through `Result.emit_warnings()`."""

from __future__ import annotations

import pickle
import warnings

import pytest

import lossapp
from lossapp.exceptions import (
    InputWarning,
    LossappWarning,
    PrecisionWarning,
    ReferenceWarning,
    StepWarning,
    WarningMessage,
    categorized,
)
from lossapp.i18n import msg, tr

CASES = [  # (loss, pred, target, options, the category of the first warning, its catalog id)
    ("mse", "[1e5, 0.5]", "[0, 0]", {"dtype": "float16"}, PrecisionWarning, "engine.overflow"),
    ("bce_with_logits", "[0.2, 0.9]", "[1, 0]", {}, InputWarning, "lint.bce_logits_probabilities"),
    ("cross_entropy", "[[0.2, 0.9], [0.1, 0.9]]", "[-100, -100]", {}, StepWarning, "reduction.zero_denominator"),
]


def categories(result: lossapp.Result) -> list[type]:
    return [w.category for w in result.warnings]


@pytest.mark.parametrize(("loss", "pred", "target", "options", "category", "message_id"), CASES)
def test_each_warning_has_the_category_of_its_source(loss, pred, target, options, category, message_id) -> None:
    result = lossapp.compute(loss, pred, target, **options)
    assert result.warnings, "the case is meant to warn"
    first = result.warnings[0]
    assert isinstance(first, WarningMessage) and first.id == message_id and first.category is category
    assert all(issubclass(c, LossappWarning) for c in categories(result))
    assert result.to_dict()["warning_categories"] == [c.__name__ for c in categories(result)]


def test_a_disagreement_with_the_builtin_is_a_reference_warning() -> None:
    result = lossapp.compute("mse", "[1e5, 0.5]", "[0, 0]", dtype="float16")
    assert not result.agrees
    assert categories(result) == [PrecisionWarning, ReferenceWarning, ReferenceWarning]


def test_emit_warnings_goes_through_pythons_filters() -> None:
    result = lossapp.compute("mse", "[1e5, 0.5]", "[0, 0]", dtype="float16")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result.emit_warnings()
    assert [w.category for w in caught] == categories(result)
    assert caught[0].message.message.id == "engine.overflow"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", ReferenceWarning)
        with pytest.raises(ReferenceWarning) as raised:
            result.emit_warnings()
    assert raised.value.message.id == "engine.builtin_not_finite"
    assert raised.value.render("zh") == tr(raised.value.message, "zh") != str(raised.value.message)


def test_a_clean_result_emits_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", LossappWarning)
        lossapp.compute("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]").emit_warnings()


def test_categorized_keeps_a_category_once_given_and_pickles() -> None:
    message = msg("reduction.zero_denominator")
    step = categorized([message], StepWarning)[0]
    assert step == message and step.id == message.id and step.category is StepWarning
    assert categorized([step], InputWarning)[0].category is StepWarning
    again = pickle.loads(pickle.dumps(step))
    assert again == step and again.category is StepWarning and again.id == step.id


def test_an_undefined_metric_is_sklearns_undefined_metric_warning() -> None:
    from lossapp.exceptions import UndefinedMetricWarning

    result = lossapp.confusion(0, 0, 5, 10, metric="precision")
    assert [w.category for w in result.warnings][:1] == [UndefinedMetricWarning]
    assert issubclass(UndefinedMetricWarning, StepWarning)
