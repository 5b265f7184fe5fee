"""The derivative of an elementwise loss at each shown point, as a step (shared by the loss modules).

An elementwise loss (l_n depends on pred_n alone) writes ∂l_n/∂pred_n as one shown step, named by its spec's
`derivative` field; the step's note spells out, for the first few elements, which branch of the formula each
point is on and why ("|d| = 0.5 < β = 1, so ∂l/∂d = d/β = 0.5"), kinks included. The value is the derivative of
the unreduced term written with elementary operations, and the registry-wide test checks it against autograd of
the trace for every element.

Nothing here is registered as a loss.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from lossapp.i18n import Message, msg
from lossapp.trace import Trace, broadcast_shape, fmt, head

NOTE_POINTS = 3  # elements whose branch the derivative step's note spells out


def number(x: float) -> str:
    """A number in a note, as the steps write it (4 significant digits)."""
    return fmt(x).replace(r"\infty", "∞")


def derivative_step(trace: Trace, symbol: str, formula: str, fn: Callable[..., torch.Tensor],
                    *inputs: torch.Tensor, point: Callable[..., Message], sub: str | None = None,
                    title: Message | None = None, lead: Message | None = None, **args: torch.Tensor) -> None:
    """Show ∂l_n/∂pred_n = fn(*inputs) (elementwise over the inputs broadcast to one shape), with a note saying for
    each of the first NOTE_POINTS elements which branch it is on: `point(*values, derivative)` gets that element's
    input values and derivative (floats) and returns its Message. `title` replaces the default title; `lead` is a
    note put before the points. Nothing in a quiet trace."""
    if trace.quiet:
        return
    shape = broadcast_shape(*(t.shape for t in inputs))
    firsts = [head(t.detach().broadcast_to(shape), NOTE_POINTS).tolist() for t in inputs]
    trace.show(symbol, title or msg("derivative.title"), formula, fn, *inputs, sub=sub, **args)
    step = trace.steps[-1]
    if step.complete:
        with torch.no_grad():
            values = fn(*(torch.tensor(v, dtype=torch.float64) for v in firsts)).reshape(-1).tolist()
    else:  # the step shows fn at its first SHOWN elements, the points' first among them (one evaluation, on the CPU
        # as these: elementwise, and below the width of torch's vectorised loops either way)
        values = step.shown_values()[:NOTE_POINTS].tolist()
    notes = [point(*(v[i] for v in firsts), values[i]) for i in range(len(values))]
    note: Message | str = ""
    if notes:
        note = notes[-1]
        for item in reversed(notes[:-1]):
            note = msg("derivative.points", first=item, rest=note)
        if torch.Size(shape).numel() > len(notes):
            note = msg("derivative.points_more", points=note)
    if lead is not None:
        note = msg("derivative.lead", lead=lead, points=note) if note else lead
    step.note = note
