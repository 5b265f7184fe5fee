"""What lossapp raises and warns (scikit-learn's `sklearn.exceptions`): one error type for user mistakes and a
few warning categories, so code can tell warnings apart by class instead of by their text.

A warning is a message by id (`lossapp.i18n.Message`) that also knows its category: `Result.warnings` lists them
(each a `WarningMessage`, whose `.category` is one of the classes below), and `Result.emit_warnings()` sends them
through Python's `warnings` machinery, where the usual filters apply:

    >>> import warnings, lossapp
    >>> r = lossapp.compute("mse", "[1e5, 0.5]", "[0, 0]", dtype="float16")
    >>> [w.category.__name__ for w in r.warnings]
    ['PrecisionWarning', 'ReferenceWarning', 'ReferenceWarning']
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", lossapp.PrecisionWarning)
    ...     r.emit_warnings()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    lossapp.exceptions.PrecisionWarning: pred holds values beyond float16's largest finite number 65504 ...

The category is decided by where a warning comes from, not by its wording: the input checks and the mix-up lint
(`InputWarning`), a loss's own steps (`StepWarning`), the rounding of the inputs to the chosen dtype
(`PrecisionWarning`) and the comparison with the built-in (`ReferenceWarning`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from lossapp.i18n import Message, localize
from lossapp.inputs.errors import InputError


class LossappWarning(UserWarning):
    """The base of lossapp's warnings; `.message` is the Message (id and fields), `render(lang)` its text."""

    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.message = message

    def render(self, lang: str = "en") -> str:
        return localize(self.message, lang)


class InputWarning(LossappWarning):
    """Valid input that looks wrong: non-finite values, or a likely mix-up (probabilities given as logits, an
    ignore_index that is a class)."""


class StepWarning(LossappWarning):
    """What a loss's own steps note about these inputs: a zero denominator, an empty set, a parameter that changes
    nothing here."""


class UndefinedMetricWarning(StepWarning):
    """A metric is 0/0 on these counts (precision with no positive prediction, ...): scikit-learn's
    `UndefinedMetricWarning`."""


class PrecisionWarning(LossappWarning):
    """The chosen dtype cannot hold the inputs: values beyond its range, or rounding that changes the value."""


class ReferenceWarning(LossappWarning):
    """PyTorch's built-in disagrees with the exact value: its value, its gradient or its finiteness."""


class WarningMessage(Message):
    """A warning's Message with its category (one of the LossappWarning classes)."""

    category: type[LossappWarning]

    def __new__(cls, message_id: str, fields: Mapping[str, Any] | None = None,
                category: type[LossappWarning] = LossappWarning) -> WarningMessage:
        self = super().__new__(cls, message_id, fields)
        self.category = category
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (WarningMessage, (self.id, self.fields, self.category))


def categorized(messages: Iterable[Message], category: type[LossappWarning]) -> list[Message]:
    """The messages as warnings of `category`; one that already has a category keeps it."""
    return [m if isinstance(m, WarningMessage) or not isinstance(m, Message)
            else WarningMessage(m.id, m.fields, category) for m in messages]


def emit(messages: Iterable[Message], stacklevel: int = 2) -> None:
    """Send each warning through `warnings.warn` with its category (LossappWarning where it has none)."""
    for m in messages:
        warnings.warn(getattr(m, "category", LossappWarning)(m), stacklevel=stacklevel + 1)


__all__ = ["InputError", "InputWarning", "LossappWarning", "PrecisionWarning", "ReferenceWarning", "StepWarning",
           "UndefinedMetricWarning", "WarningMessage", "categorized", "emit"]
