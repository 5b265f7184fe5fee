"""Plain, hard-truncated and soft-truncated cross-entropy: steps to a training accuracy (article 004, §2).

The data: 200 points in the plane, two Gaussian classes with means ±`separation`·(1, 0) and one covariance
4·[[1, 0.9], [0.9, 1]] (the features are correlated, so the direction that separates best is not the first
gradient's, and gradient descent needs a few dozen steps; the classes overlap: about 88 % is the best training
accuracy at the defaults). A logistic regression z = w·x + b starts at
zero and takes `steps` full-batch gradient-descent steps of rate `lr` under each loss (lossapp's references:
binary_cross_entropy_with_logits; the hard-truncated CE with threshold `m` on σ(z), whose λ = 0 drops a positive
above m and a negative below 1 − m; the soft-truncated CE with steepness `K`). Read off: the first step from
which the training accuracy stays at or above `accuracy`. The claim holds when hard truncation needs more steps
than plain cross-entropy. m = 1 never truncates (λ = 1 everywhere: hard truncation is plain cross-entropy), and
the claim fails.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import torch

from lossapp.i18n import msg
from lossapp.inputs.constraints import Interval
from lossapp.lab import Experiment, Outcome, Series, builtin_loss, register, summary_fields
from lossapp.registry import Param

POINTS = 200
SCALE, CORRELATION = 2.0, 0.9  # the classes' covariance: SCALE² · [[1, CORRELATION], [CORRELATION, 1]]


def _data(separation: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Features (N, 3) with a constant 1 for the bias, and 0/1 labels (alternating)."""
    y = (torch.arange(POINTS) % 2).double()
    factor = SCALE * torch.tensor([[1.0, 0.0], [CORRELATION, math.sqrt(1 - CORRELATION**2)]], dtype=torch.float64)
    centre = separation * (2 * y - 1)[:, None] * torch.tensor([1.0, 0.0], dtype=torch.float64)
    x = torch.randn(POINTS, 2, generator=generator, dtype=torch.float64) @ factor.T + centre
    return torch.cat([x, torch.ones(POINTS, 1, dtype=torch.float64)], dim=1), y


def _train(loss: Any, weight: Any, x: torch.Tensor, y: torch.Tensor, params: dict[str, Any]) -> dict[str, list[float]]:
    """Per step the training accuracy and the mean per-sample weight in front of the log (λ, σ(∓Kz) or 1)."""
    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    record: dict[str, list[float]] = {"accuracy": [], "weight": []}
    for _ in range(params["steps"]):
        z = x @ w
        z_value = z.detach()
        record["accuracy"].append(float(((z_value > 0).double() == y).double().mean()))
        record["weight"].append(float(weight(z_value).mean()))
        (grad,) = torch.autograd.grad(loss(z), w)
        with torch.no_grad():
            w -= params["lr"] * grad
    return record


def _steps_to(accuracies: list[float], target: float) -> float:
    """The first step from which the accuracy stays ≥ target to the end (inf: it does not)."""
    settled = math.inf
    for t in range(len(accuracies) - 1, -1, -1):
        if accuracies[t] < target:
            break
        settled = float(t)
    return settled


def run(params: dict[str, Any], generator: torch.Generator) -> Outcome:
    x, y = _data(params["separation"], generator)
    m, k = params["m"], params["K"]
    cross_entropy = builtin_loss("bce_with_logits")
    hard = builtin_loss("truncated_ce", m=m)
    soft = builtin_loss("soft_truncated_ce", K=k)

    def hard_weight(z: torch.Tensor) -> torch.Tensor:  # λ(y, ŷ): 0 for a positive above m or a negative below 1 − m
        p = torch.sigmoid(z)
        return 1.0 - ((y == 1) & (p > m)).double() - ((y == 0) & (p < 1 - m)).double()

    def soft_weight(z: torch.Tensor) -> torch.Tensor:  # σ(−Kz) for a positive, σ(Kz) for a negative
        return torch.sigmoid(-k * z * (2 * y - 1))

    runs = {
        "cross_entropy": _train(lambda z: cross_entropy(z, y), torch.ones_like, x, y, params),
        "hard": _train(lambda z: hard(torch.sigmoid(z), y), hard_weight, x, y, params),
        "soft": _train(lambda z: soft(z, y), soft_weight, x, y, params),
    }
    steps_to = {name: _steps_to(r["accuracy"], params["accuracy"]) for name, r in runs.items()}
    finding = {"cross_entropy_steps": steps_to["cross_entropy"], "hard_steps": steps_to["hard"],
               "soft_steps": steps_to["soft"], "accuracy_target": params["accuracy"],
               "cross_entropy_final_accuracy": runs["cross_entropy"]["accuracy"][-1],
               "hard_final_accuracy": runs["hard"]["accuracy"][-1], "soft_final_accuracy": runs["soft"]["accuracy"][-1],
               "hard_final_active_share": runs["hard"]["weight"][-1]}
    holds = steps_to["hard"] > steps_to["cross_entropy"]
    fields: dict[str, Any] = summary_fields(finding)
    for key in ("cross_entropy_steps", "hard_steps", "soft_steps"):
        fields[key] = (msg("lab_hard_vs_soft_truncation.never", steps=params["steps"]) if math.isinf(finding[key])
                       else msg("lab_hard_vs_soft_truncation.at_step", step=int(finding[key])))
    summary = msg("lab_hard_vs_soft_truncation.summary_holds" if holds
                  else "lab_hard_vs_soft_truncation.summary_fails", **fields)
    names = {"cross_entropy": msg("lab_hard_vs_soft_truncation.series_cross_entropy"),
             "hard": msg("lab_hard_vs_soft_truncation.series_hard", m=m),
             "soft": msg("lab_hard_vs_soft_truncation.series_soft", k=k)}
    steps = list(range(params["steps"]))
    series = [Series(names[n], steps, r["accuracy"], msg("lab.axis_step"),
                     msg("lab_hard_vs_soft_truncation.axis_accuracy"), panel="accuracy") for n, r in runs.items()]
    series += [Series(names[n], steps, r["weight"], msg("lab.axis_step"),
                      msg("lab_hard_vs_soft_truncation.axis_weight"), panel="weight") for n, r in runs.items()]
    return Outcome(series, finding, holds, summary)


register(Experiment(
    name="hard_vs_soft_truncation",
    article="004_30232886671f4238.txt §2 (2.1, 2.2)",
    title=msg("lab_hard_vs_soft_truncation.title"),
    claim=msg("lab_hard_vs_soft_truncation.claim"),
    params=(
        Param("lr", 1.0, Interval(Real, 0.0, 10.0, closed="right"), msg("lab.param_lr")),
        Param("steps", 100, Interval(Integral, 5, 2000), msg("lab.param_steps")),
        Param("m", 0.6, Interval(Real, 0.5, 1.0), msg("lab_hard_vs_soft_truncation.param_m")),
        Param("K", 1.0, Interval(Real, 0.0, 100.0), msg("lab_hard_vs_soft_truncation.param_k")),
        Param("accuracy", 0.85, Interval(Real, 0.5, 1.0), msg("lab_hard_vs_soft_truncation.param_accuracy")),
        Param("separation", 1.0, Interval(Real, 0.0, 10.0), msg("lab_hard_vs_soft_truncation.param_separation")),
    ),
    run=run,
    panels={"accuracy": msg("lab_hard_vs_soft_truncation.panel_accuracy"),
            "weight": msg("lab_hard_vs_soft_truncation.panel_weight")},
))
