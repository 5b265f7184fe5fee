import pytest
import torch

from lossapp.inputs import InputError
from lossapp.reduction import reduce
from lossapp.trace import Trace

LOSS = torch.tensor([0.5, 1.5, 4.0], dtype=torch.float64)


def test_mean_shows_numerator_and_denominator() -> None:
    trace = Trace()
    assert reduce(trace, LOSS, "mean").item() == pytest.approx(2.0)
    assert trace.step("num").value_list() == 6.0 and trace.step("den").value_list() == 3.0
    assert trace.step("L").substituted() == [r"\frac{6}{3}"]
    assert trace.unreduced is LOSS


def test_weighted_mean_divides_by_the_weights() -> None:
    trace = Trace()
    weights = torch.tensor([1.0, 0.0, 3.0], dtype=torch.float64)
    assert reduce(trace, LOSS * weights, "mean", denominator=weights).item() == pytest.approx(12.5 / 4)
    assert trace.step("den").value_list() == 4.0


def test_zero_denominator_is_nan_with_a_warning() -> None:
    trace = Trace()
    value = reduce(trace, torch.zeros(2, dtype=torch.float64), "mean", denominator=torch.zeros(2, dtype=torch.float64))
    assert torch.isnan(value)
    assert trace.warnings and "0/0" in trace.warnings[0]


def test_sum_none_batchmean_avg_factor() -> None:
    assert reduce(Trace(), LOSS, "sum").item() == 6.0
    assert torch.equal(reduce(Trace(), LOSS, "none"), LOSS)
    assert reduce(Trace(), LOSS.reshape(3, 1).repeat(1, 2), "batchmean").item() == pytest.approx(12 / 3)
    assert reduce(Trace(), LOSS, "mean", avg_factor=4).item() == pytest.approx(1.5)
    with pytest.raises(InputError, match="expected reduction"):
        reduce(Trace(), LOSS, "max")
