"""Step and Trace: the recorder a loss writes its worked solution into.

A loss's step function computes in float64 from elementary torch operations and, as it goes, adds
each intermediate a student would write down (p, p_t, alpha_t, lse, ...) to a `Trace`:

    p = trace.add("p", "Sigmoid", r"p = \\sigma(x) = \\frac{1}{1+e^{-x}}", torch.sigmoid(x),
                  sub=r"\\frac{1}{1+e^{-$x}}", x=x)

`sub` is the same formula with placeholders (`$x`, `${x}`) that `Step.substituted()` fills with the
numbers, element by element, for small inputs; it can also be a ready LaTeX string.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from string import Template
from typing import Any

import torch

SUBSTITUTE_MAX = 12  # formulas with the numbers substituted are written only for inputs this small


def fmt(x: float, digits: int = 4) -> str:
    """A number as a student would write it: 4 significant digits, LaTeX for powers of ten."""
    x = float(x)
    if math.isnan(x):
        return r"\mathrm{NaN}"
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    if x == int(x) and abs(x) < 1e6:
        return str(int(x))
    text = f"{x:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        exponent = str(int(exponent))
        return (rf"10^{{{exponent}}}" if mantissa in ("1", "1.0") else rf"{mantissa}\cdot 10^{{{exponent}}}")
    return text


def _fmt_arg(x: float) -> str:
    text = fmt(x)
    return f"({text})" if text.startswith("-") else text


@dataclass
class Step:
    """One line of the worked solution: symbol = formula = value."""

    symbol: str
    title: str
    formula: str
    value: Any  # float64 tensor (detached) or float
    note: str = ""
    sub: str | None = None
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape) if isinstance(self.value, torch.Tensor) else ()

    def value_list(self) -> Any:
        """The value as a float or nested list (JSON-able)."""
        if isinstance(self.value, torch.Tensor):
            v = self.value.detach().cpu()
            return v.item() if v.dim() == 0 else v.tolist()
        return self.value

    def substituted(self, limit: int = SUBSTITUTE_MAX) -> list[str] | None:
        """The formula with the numbers put in: one string per element, or None for large inputs."""
        if self.sub is None:
            return None
        if not self.args:
            return [self.sub]
        tensors = {k: torch.as_tensor(v).detach().double().cpu() for k, v in self.args.items()}
        try:
            shape = torch.broadcast_shapes(*(t.shape for t in tensors.values()))
        except RuntimeError:
            return None
        count = math.prod(shape)
        if count > limit:
            return None
        flat = {k: t.broadcast_to(shape).reshape(-1).tolist() for k, t in tensors.items()}
        template = Template(self.sub)
        return [template.safe_substitute({k: _fmt_arg(v[i]) for k, v in flat.items()}) for i in range(count)]


@dataclass
class Trace:
    """The steps and warnings a loss computation writes, in order."""

    steps: list[Step] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unreduced: torch.Tensor | None = None  # the per-element (per-sample) loss before reduction

    def add(self, symbol: str, title: str, formula: str, value: Any, note: str = "",
            sub: str | None = None, **args: Any) -> Any:
        """Record a step and hand its value back so the computation can go on with it."""
        stored = value.detach().clone() if isinstance(value, torch.Tensor) else value
        self.steps.append(Step(symbol, title, formula, stored, note, sub, args))
        return value

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def step(self, symbol: str) -> Step:
        """The last step written with this symbol."""
        for s in reversed(self.steps):
            if s.symbol == symbol:
                return s
        raise KeyError(symbol)
