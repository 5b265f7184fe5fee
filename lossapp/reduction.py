"""The one reduction helper: every loss ends with `reduce(...)`, which writes the reduction as its
own steps (numerator, denominator, result) so a student sees exactly what was divided by what."""

from __future__ import annotations

import torch

from lossapp.i18n import add_zh, add_zh_patterns
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
        return trace.add("L", "No reduction", rf"L_n = {symbol}_n", loss,
                         note="reduction='none' returns one loss per element")
    total = loss.sum()
    sum_sub = _sum_text(loss)
    if reduction == "sum":
        return trace.add("L", "Sum reduction", rf"L = \sum_n {symbol}_n", total, sub=sum_sub)
    if reduction == "mean":
        if avg_factor is not None:
            den = torch.tensor(float(avg_factor), dtype=loss.dtype)
            den_formula, den_note = r"\text{avg\_factor}", "mean divides by avg_factor instead of the element count"
        elif denominator is not None:
            den = denominator.sum()
            den_formula, den_note = r"\sum_n w_n", "weighted mean: divided by the total weight of the counted samples"
        else:
            den = torch.tensor(float(loss.numel()), dtype=loss.dtype)
            den_formula, den_note = "n", f"n = {loss.numel()} elements"
        trace.add("num", "Numerator of the mean", rf"\sum_n {symbol}_n", total, sub=sum_sub)
        trace.add("den", "Denominator of the mean", den_formula, den.detach(), note=den_note,
                  sub=_sum_text(denominator) if denominator is not None and avg_factor is None else None)
        if float(den) == 0:
            trace.warn("the denominator of the mean is 0 (every sample ignored or zero weight): "
                       "the mean is 0/0 = NaN, as in torch")
        return trace.add("L", "Mean reduction", rf"L = \frac{{\sum_n {symbol}_n}}{{{den_formula}}}",
                         total / den, sub=rf"\frac{{{fmt(float(total.detach()))}}}{{{fmt(float(den))}}}")
    if reduction == "batchmean":
        n = loss.shape[0] if loss.dim() > 0 else 1
        trace.add("num", "Numerator of the batch mean", rf"\sum {symbol}", total, sub=sum_sub)
        trace.add("den", "Batch size", "N", torch.tensor(float(n), dtype=loss.dtype), note=f"N = {n} (first dimension)")
        return trace.add("L", "Batch-mean reduction", rf"L = \frac{{1}}{{N}}\sum {symbol}", total / n,
                         sub=rf"\frac{{{fmt(float(total.detach()))}}}{{{n}}}")
    raise InputError(f"expected reduction none, mean, sum or batchmean, got {reduction!r}")


add_zh({
    "No reduction": "不归约", "Sum reduction": "求和归约", "Mean reduction": "均值归约",
    "Numerator of the mean": "均值的分子", "Denominator of the mean": "均值的分母",
    "Numerator of the batch mean": "批均值的分子", "Batch size": "批大小", "Batch-mean reduction": "批均值归约",
    "reduction='none' returns one loss per element": "reduction='none' 对每个元素返回一个损失",
    "mean divides by avg_factor instead of the element count": "均值除以 avg_factor，而不是元素个数",
    "weighted mean: divided by the total weight of the counted samples": "加权均值：除以参与计算的样本的权重之和",
    "the denominator of the mean is 0 (every sample ignored or zero weight): the mean is 0/0 = NaN, as in torch":
        "均值的分母为 0（所有样本都被忽略或权重为零）：均值为 0/0 = NaN，与 torch 相同",
})
add_zh_patterns([(r"n = (\d+) elements", r"n = \1 个元素"), (r"N = (\d+) \(first dimension\)", r"N = \1（第一维）")])
