"""L1 and L2 regularization on a small linear model, and torch.optim.SGD's weight_decay (article 002, items 2–3).

The data: 100 samples of 10 standard-normal features, y = X·w* + 2 + noise (σ = 0.5) with w* = (3, −2, 1.5, 0, …, 0):
seven features do not matter. The model ŷ = X·w + b starts at zero and takes `steps` full-batch steps of rate `lr`
on the data loss (torch's MSE) plus a penalty on w (never on b):

- none: no penalty;
- L1: λ·Σ|w_i| by proximal gradient descent (a gradient step on the data loss, then the soft threshold
  w_i ← sign(w_i)·max(|w_i| − lr·λ, 0), the exact minimizer of the penalty's part of the step: plain subgradient
  steps on |w| only hover around 0);
- L2 in the loss: (λ/2)·Σw_i² added to the loss, torch.optim.SGD with `momentum` and no weight decay;
- weight_decay: the data loss alone, torch.optim.SGD(momentum, weight_decay=λ) with two parameter groups as in the
  article's snippet: w with weight_decay = λ, b with weight_decay = 0.

Read off: how many weights end exactly at zero, the weights' norms, and how far the last two runs ever are apart
(weight_decay adds λ·w to the gradient, the gradient of (λ/2)·Σw²: with the λ/2 convention they are the same run;
one SGD(lr=1, weight_decay=λ) step on a zero loss moves w by exactly λ·w, see
`lossapp.losses.regularization.sgd_weight_decay_displacement`). The claim holds when L1 zeroes at least one weight,
L2 none, L2's weights are shorter than without a penalty, and weight_decay matches the L2 penalty to 1e-12. λ = 0
regularizes nothing, and the claim fails.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import torch

from lossapp.i18n import msg
from lossapp.inputs.constraints import Interval
from lossapp.lab import Experiment, Outcome, Series, builtin_loss, register, summary_fields
from lossapp.losses.regularization import sgd_weight_decay_displacement
from lossapp.registry import Param

SAMPLES = 100
TRUE_WEIGHTS = (3.0, -2.0, 1.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
TRUE_BIAS = 2.0
NOISE = 0.5
IDENTITY_TOLERANCE = 1e-12
METHODS = ("none", "l1", "l2", "weight_decay")


def _data(generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(SAMPLES, len(TRUE_WEIGHTS), generator=generator, dtype=torch.float64)
    noise = NOISE * torch.randn(SAMPLES, generator=generator, dtype=torch.float64)
    return x, x @ torch.tensor(TRUE_WEIGHTS, dtype=torch.float64) + TRUE_BIAS + noise


def _train(method: str, x: torch.Tensor, y: torch.Tensor, params: dict[str, Any]) -> list[list[float]]:
    """The weights w before each step and at the end."""
    lam, lr = params["lam"], params["lr"]
    mse = builtin_loss("mse")
    w = torch.nn.Parameter(torch.zeros(len(TRUE_WEIGHTS), dtype=torch.float64))
    b = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))
    momentum = 0.0 if method == "l1" else params["momentum"]
    decay = lam if method == "weight_decay" else 0.0
    optimizer = torch.optim.SGD([{"params": [w], "weight_decay": decay}, {"params": [b], "weight_decay": 0.0}],
                                lr=lr, momentum=momentum)
    weights: list[list[float]] = []
    for _ in range(params["steps"]):
        weights.append(w.detach().tolist())
        loss = mse(x @ w + b, y)
        if method == "l2":
            loss = loss + lam / 2 * (w * w).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if method == "l1":  # the proximal step of λ·Σ|w|: the soft threshold at lr·λ
            with torch.no_grad():
                w.copy_(torch.sign(w) * torch.clamp(w.abs() - lr * lam, min=0.0))
    weights.append(w.detach().tolist())
    return weights


def run(params: dict[str, Any], generator: torch.Generator) -> Outcome:
    x, y = _data(generator)
    runs = {method: _train(method, x, y, params) for method in METHODS}
    final = {method: torch.tensor(r[-1], dtype=torch.float64) for method, r in runs.items()}
    difference = max(abs(a - b) for step_l2, step_wd in zip(runs["l2"], runs["weight_decay"],
                                                             strict=True) for a, b in zip(step_l2, step_wd, strict=True))
    displacement = sgd_weight_decay_displacement(final["none"], params["lam"])
    finding = {
        "l1_zero_weights": int((final["l1"] == 0).sum()), "l2_zero_weights": int((final["l2"] == 0).sum()),
        "none_zero_weights": int((final["none"] == 0).sum()),
        "true_zero_weights": sum(1 for v in TRUE_WEIGHTS if v == 0),
        "none_weight_norm": float(final["none"].norm()), "l1_weight_norm": float(final["l1"].norm()),
        "l2_weight_norm": float(final["l2"].norm()),
        "weight_decay_vs_l2_max_difference": difference,
        "weight_decay_step_vs_lambda_w": float((displacement - params["lam"] * final["none"]).abs().max()),
    }
    holds = (finding["l1_zero_weights"] >= 1 and finding["l2_zero_weights"] == 0
             and finding["l2_weight_norm"] < finding["none_weight_norm"]
             and max(difference, finding["weight_decay_step_vs_lambda_w"]) <= IDENTITY_TOLERANCE)
    summary = msg("lab_l1_vs_l2_regularization.summary_holds" if holds
                  else "lab_l1_vs_l2_regularization.summary_fails", **summary_fields(finding))
    names = {"none": msg("lab_l1_vs_l2_regularization.series_none"),
             "l1": msg("lab_l1_vs_l2_regularization.series_l1"),
             "l2": msg("lab_l1_vs_l2_regularization.series_l2"),
             "weight_decay": msg("lab_l1_vs_l2_regularization.series_weight_decay")}
    features = list(range(len(TRUE_WEIGHTS)))
    series = [Series(msg("lab_l1_vs_l2_regularization.series_true"), features, list(TRUE_WEIGHTS),
                     msg("lab_l1_vs_l2_regularization.axis_feature"), msg("lab_l1_vs_l2_regularization.axis_weight"),
                     panel="weights")]
    series += [Series(names[m], features, final[m].tolist(), msg("lab_l1_vs_l2_regularization.axis_feature"),
                      msg("lab_l1_vs_l2_regularization.axis_weight"), panel="weights") for m in METHODS]
    steps = list(range(params["steps"] + 1))
    series += [Series(names[m], steps, [sum(1 for v in ws if v == 0) for ws in runs[m]],
                      msg("lab.axis_step"), msg("lab_l1_vs_l2_regularization.axis_zeros"), panel="zeros")
               for m in ("l1", "l2")]
    return Outcome(series, finding, holds, summary)


register(Experiment(
    name="l1_vs_l2_regularization",
    article="002_472562432bf7f397.txt §2, §3",
    title=msg("lab_l1_vs_l2_regularization.title"),
    claim=msg("lab_l1_vs_l2_regularization.claim"),
    params=(
        Param("lam", 0.3, Interval(Real, 0.0, 10.0), msg("lab_l1_vs_l2_regularization.param_lam")),
        Param("lr", 0.05, Interval(Real, 0.0, 0.2, closed="right"), msg("lab.param_lr")),
        Param("steps", 200, Interval(Integral, 1, 2000), msg("lab.param_steps")),
        Param("momentum", 0.9, Interval(Real, 0.0, 0.99), msg("lab_l1_vs_l2_regularization.param_momentum")),
    ),
    run=run,
    panels={"weights": msg("lab_l1_vs_l2_regularization.panel_weights"),
            "zeros": msg("lab_l1_vs_l2_regularization.panel_zeros")},
))
