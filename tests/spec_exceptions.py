"""Declarative exceptions to the registry-wide tests (torch's `ModuleInfo` skips and `DecorateInfo`): a test that
runs over every spec lists the specs it does not apply to here, each with its reason, instead of an
`if name == ...` inside the test. `spec_cases(test, cases)` gives the parametrised cases with the marks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class Skip:
    """The test does not apply to this loss."""

    loss: str
    test: str
    reason: str


@dataclass(frozen=True)
class XFail:
    """The test is known to fail for this loss (strict: it must fail)."""

    loss: str
    test: str
    reason: str


EXCEPTIONS: tuple[Skip | XFail, ...] = (
    Skip("softmax_focal", "test_large_exact_inputs_enclose_the_value_tightly",
         "its example's α is a per-class tensor sized for the example's batch, which the test repeats"),
    Skip("rmse", "test_elementwise_losses_show_the_derivative_autograd_gives",
         "RMSE is the root of a reduction: its reduction none (|d_n|) is not the term any other reduction sums"),
)


def spec_cases(test: str, cases: Iterable[Any]) -> list[Any]:
    """`cases` (a loss name, or a tuple starting with one) as pytest params carrying this test's exceptions."""
    out = []
    for case in cases:
        loss = case[0] if isinstance(case, tuple) else case
        marks = [pytest.mark.skip(reason=e.reason) if isinstance(e, Skip) else pytest.mark.xfail(reason=e.reason, strict=True)
                 for e in EXCEPTIONS if e.loss == loss and e.test == test]
        out.append(pytest.param(*(case if isinstance(case, tuple) else (case,)), marks=marks))
    return out
