import torch

from lossapp.trace import Step, Trace, fmt


def test_fmt_reads_like_a_student() -> None:
    assert fmt(0.29470001) == "0.2947"
    assert fmt(3.0) == "3"
    assert fmt(-100.0) == "-100"
    assert fmt(1e-8) == "10^{-8}"
    assert fmt(2.5e-9) == r"2.5\cdot 10^{-9}"
    assert fmt(float("inf")) == r"\infty"


def test_add_records_and_returns_value() -> None:
    trace = Trace()
    x = torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)
    y = trace.add("e", "Exponential", r"e^x", torch.exp(x), sub=r"e^{$x}", x=x)
    assert y.requires_grad  # the computation goes on with the live value
    step = trace.step("e")
    assert not step.value.requires_grad
    assert step.substituted() == ["e^{0.5}", "e^{(-1)}"]
    assert step.value_list() == torch.exp(torch.tensor([0.5, -1.0], dtype=torch.float64)).tolist()


def test_substitution_stops_for_large_inputs() -> None:
    step = Step("l", "t", "f", torch.zeros(100), sub="$a", args={"a": torch.zeros(100)})
    assert step.substituted() is None
    assert Step("l", "t", "f", 1.0, sub=r"\frac{1}{2}").substituted() == [r"\frac{1}{2}"]


def test_broadcast_arguments() -> None:
    step = Step("l", "t", "f", torch.zeros(2), sub="$a + $b", args={"a": torch.tensor([1.0, 2.0]), "b": 3.0})
    assert step.substituted() == ["1 + 3", "2 + 3"]


def test_warnings_are_deduplicated() -> None:
    trace = Trace()
    trace.warn("x")
    trace.warn("x")
    assert trace.warnings == ["x"]
