"""The one reduction helper: every loss ends with `reduce(...)`, which writes the reduction as its
own steps (numerator, denominator, result) so a student sees exactly what was divided by what."""

from __future__ import annotations

import torch

from lossapp.i18n import msg
from lossapp.inputs import InputError
from lossapp.trace import SUBSTITUTE_MAX, Trace, fmt


def _sum_text(values: torch.Tensor) -> str | None:
    if values.numel() > SUBSTITUTE_MAX:
        return None
    flat = values.detach().reshape(-1).tolist()
    return " + ".join(fmt(v) if v >= 0 else f"({fmt(v)})" for v in flat)


def reduce(trace: Trace, loss: torch.Tensor, reduction: str, *, denominator: torch.Tensor | None = None,
           avg_factor: float | None = None, symbol: str = "l") -> torch.Tensor:
    """Reduce the per-element loss `loss` (symbol `l`) and write the steps.

    none:      L = l (one value per element / sample)
    sum:       L = Σ l
    mean:      L = Σ l / n, or Σ l / Σ w when `denominator` gives each element's weight (weighted or
               ignored samples: torch divides by the weights of the samples that count), or
               Σ l / avg_factor when avg_factor is given (mmdetection's convention)
    batchmean: L = Σ l / N with N the size of the first dimension (KL divergence's correct mean)
    """
    trace.unreduced = loss
    if reduction == "none":
        return trace.add("L", msg("reduction.none_title"), rf"L_n = {symbol}_n", loss, note=msg("reduction.none_note"))
    total = loss.sum()
    sum_sub = _sum_text(loss)
    if reduction == "sum":
        return trace.add("L", msg("reduction.sum_title"), rf"L = \sum_n {symbol}_n", total, sub=sum_sub)
    if reduction == "mean":
        if avg_factor is not None:
            den = torch.tensor(float(avg_factor), dtype=loss.dtype)
            den_formula, den_note = r"\text{avg\_factor}", msg("reduction.avg_factor_note")
        elif denominator is not None:
            den = denominator.sum()
            den_formula, den_note = r"\sum_n w_n", msg("reduction.weighted_note")
        else:
            den = torch.tensor(float(loss.numel()), dtype=loss.dtype)
            den_formula, den_note = "n", msg("reduction.count_note", count=loss.numel())
        trace.add("num", msg("reduction.mean_numerator"), rf"\sum_n {symbol}_n", total, sub=sum_sub)
        trace.add("den", msg("reduction.mean_denominator"), den_formula, den.detach(), note=den_note,
                  sub=_sum_text(denominator) if denominator is not None and avg_factor is None else None)
        if float(den) == 0:
            trace.warn(msg("reduction.zero_denominator"))
        return trace.add("L", msg("reduction.mean_title"), rf"L = \frac{{\sum_n {symbol}_n}}{{{den_formula}}}",
                         total / den, sub=rf"\frac{{{fmt(float(total.detach()))}}}{{{fmt(float(den))}}}")
    if reduction == "batchmean":
        n = loss.shape[0] if loss.dim() > 0 else 1
        trace.add("num", msg("reduction.batch_numerator"), rf"\sum {symbol}", total, sub=sum_sub)
        trace.add("den", msg("reduction.batch_size"), "N", torch.tensor(float(n), dtype=loss.dtype),
                  note=msg("reduction.batch_size_note", count=n))
        return trace.add("L", msg("reduction.batchmean_title"), rf"L = \frac{{1}}{{N}}\sum {symbol}", total / n,
                         sub=rf"\frac{{{fmt(float(total.detach()))}}}{{{n}}}")
    raise InputError("reduction.unknown", value=repr(reduction))
