"""L1, MSE and Smooth L1 fitting a line through data with outliers (article 000, §一.3).

The data: 50 points y = 2x + noise (x uniform in [-1, 1], noise σ = 0.1) of which the last two, at x = 0.9 and
x = 1.0, are lifted by `outlier`. The model ŷ = w·x starts at w = 0 and takes `steps` gradient-descent steps of
rate `lr` (constant, or lr·0.95^t with the "decaying" schedule) under each loss (torch's built-ins, reduction
mean). Read off: the outlier's gradient ∂ℓ/∂ŷ at the start (MSE: 2·|r|, grows with the outlier; L1: 1; Smooth
L1: min(|r|/β, 1)), and how much w still moves over the last 20 % of the steps (and how often L1's w turns back). The claim holds when MSE's
outlier gradient exceeds the bound 1 of the other two, L1 still moves by more than `TOLERANCE` (it oscillates
around its optimum: its gradient is ±1 however close it gets), and Smooth L1 has settled (moves by less).
The decaying schedule (the article's "dynamic learning rate") lets L1 settle too: the claim then fails.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import torch

from lossapp.i18n import msg
from lossapp.inputs.constraints import Interval, Options
from lossapp.lab import Experiment, Outcome, Series, builtin_loss, register, summary_fields, tail
from lossapp.registry import Param

TRUE_SLOPE = 2.0
POINTS = 50
NOISE = 0.1
OUTLIER_X = (0.9, 1.0)
DECAY = 0.95  # the decaying schedule: lr·DECAY^t
TOLERANCE = 1e-4  # settled: w moves by less than this over the last 20 % of the steps


def _data(outlier: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.rand(POINTS, generator=generator, dtype=torch.float64) * 2 - 1
    x[-len(OUTLIER_X):] = torch.tensor(OUTLIER_X, dtype=torch.float64)
    y = TRUE_SLOPE * x + NOISE * torch.randn(POINTS, generator=generator, dtype=torch.float64)
    y[-len(OUTLIER_X):] += outlier
    return x, y


def _descend(loss_fn: Any, x: torch.Tensor, y: torch.Tensor, params: dict[str, Any]) -> dict[str, list[float]]:
    """Gradient descent on w from 0: the loss, w and the outlier's ∂ℓ/∂ŷ before each step."""
    w = torch.zeros((), dtype=torch.float64, requires_grad=True)
    record: dict[str, list[float]] = {"loss": [], "w": [], "outlier_gradient": []}
    for t in range(params["steps"]):
        pred = w * x
        per_point = loss_fn(pred, y, reduction="none")
        loss = per_point.mean()
        grad_w, grad_pred = torch.autograd.grad(loss, (w, pred))
        record["loss"].append(float(loss.detach()))
        record["w"].append(float(w.detach()))
        record["outlier_gradient"].append(float(grad_pred[-1].abs() * POINTS))  # per-point ∂ℓ/∂ŷ
        rate = params["lr"] * (DECAY ** t if params["schedule"] == "decaying" else 1.0)
        with torch.no_grad():
            w -= rate * grad_w
    record["w"].append(float(w.detach()))
    return record


def run(params: dict[str, Any], generator: torch.Generator) -> Outcome:
    x, y = _data(params["outlier"], generator)
    losses = {"l1": builtin_loss("l1"), "mse": builtin_loss("mse"), "smooth_l1": builtin_loss("smooth_l1", beta=params["beta"])}
    runs = {name: _descend(fn, x, y, params) for name, fn in losses.items()}
    moved = {name: max(tail(r["w"])) - min(tail(r["w"])) for name, r in runs.items()}
    l1_tail = tail(runs["l1"]["w"])
    l1_turns = sum(1 for a, b, c in zip(l1_tail, l1_tail[1:], l1_tail[2:], strict=False) if (b - a) * (c - b) < 0)
    error = {name: abs(r["w"][-1] - TRUE_SLOPE) for name, r in runs.items()}
    start_gradient = {name: r["outlier_gradient"][0] for name, r in runs.items()}
    finding = {
        "mse_outlier_gradient": start_gradient["mse"], "l1_outlier_gradient": start_gradient["l1"],
        "smooth_l1_outlier_gradient": start_gradient["smooth_l1"],
        "l1_final_movement": moved["l1"], "l1_final_turns": l1_turns, "final_steps": len(l1_tail) - 1, "mse_final_movement": moved["mse"],
        "smooth_l1_final_movement": moved["smooth_l1"], "tolerance": TOLERANCE,
        "l1_slope_error": error["l1"], "mse_slope_error": error["mse"], "smooth_l1_slope_error": error["smooth_l1"],
    }
    holds = (start_gradient["mse"] > 1.0 >= max(start_gradient["l1"], start_gradient["smooth_l1"])
             and moved["l1"] > TOLERANCE > moved["smooth_l1"] and l1_turns > 0 and error["smooth_l1"] < error["mse"])
    fields = summary_fields(finding)
    summary = msg("lab_l1_l2_smooth_l1.summary_holds" if holds else "lab_l1_l2_smooth_l1.summary_fails", **fields)
    names = {"l1": msg("lab_l1_l2_smooth_l1.series_l1"), "mse": msg("lab_l1_l2_smooth_l1.series_mse"),
             "smooth_l1": msg("lab_l1_l2_smooth_l1.series_smooth_l1")}
    steps = list(range(params["steps"]))
    series = [Series(names[n], steps, r["loss"], msg("lab.axis_step"), msg("lab.axis_loss"), panel="loss")
              for n, r in runs.items()]
    series += [Series(names[n], [*steps, params["steps"]], [abs(w - TRUE_SLOPE) for w in r["w"]],
                      msg("lab.axis_step"), msg("lab_l1_l2_smooth_l1.axis_error"), panel="error")
               for n, r in runs.items()]
    return Outcome(series, finding, holds, summary)


register(Experiment(
    name="l1_l2_smooth_l1",
    article="000_6833348b64a02e28.txt §一.3",
    title=msg("lab_l1_l2_smooth_l1.title"),
    claim=msg("lab_l1_l2_smooth_l1.claim"),
    params=(
        Param("lr", 0.5, Interval(Real, 0.0, 10.0, closed="right"), msg("lab_l1_l2_smooth_l1.param_lr")),
        Param("steps", 200, Interval(Integral, 10, 2000), msg("lab.param_steps")),
        Param("outlier", 20.0, Interval(Real, 0.0, 1000.0), msg("lab_l1_l2_smooth_l1.param_outlier")),
        Param("beta", 1.0, Interval(Real, 0.0, 10.0, closed="right"), msg("lab_l1_l2_smooth_l1.param_beta")),
        Param("schedule", "constant", Options(("constant", "decaying")), msg("lab_l1_l2_smooth_l1.param_schedule")),
    ),
    run=run,
    panels={"loss": msg("lab_l1_l2_smooth_l1.panel_loss"), "error": msg("lab_l1_l2_smooth_l1.panel_error")},
))
