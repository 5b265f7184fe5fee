"""Cross-entropy against the quadratic cost on one sigmoid neuron (article 004, §1.3).

The neuron a = σ(w·x + b) gets the input x = 1 and should output y = 0; it starts at w = b = `start` (2: a ≈ 0.98,
confidently wrong, as in Nielsen's book the article follows) and takes `steps` gradient-descent steps of rate
`lr` under the quadratic cost C = (a − y)²/2 (half of torch's MSE) and under cross-entropy (torch's
binary_cross_entropy_with_logits on z). By the chain rule ∂C/∂z = (a − y)·σ′(z) for the quadratic cost and
σ(z) − y for cross-entropy: autograd is checked against both formulas at every step. The quadratic cost learns
slowly at the start when its gradient starts below half the peak it reaches later (σ′(z) is tiny while the neuron
is saturated), and it then needs more steps than cross-entropy to bring a below 0.5. A neuron that starts
unsaturated (start = 0.6 or less: a ≤ 0.77) has no slow start, and the claim fails.
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

X, Y = 1.0, 0.0
IDENTITY_TOLERANCE = 1e-12
SLOW_START = 0.5  # a slow start: the first gradient is below this share of the run's peak gradient


def _train(cost: Any, params: dict[str, Any], expected_dz: Any) -> dict[str, list[float]]:
    """Gradient descent on (w, b): per step the cost, the output a, |∂C/∂w| and |autograd ∂C/∂z − formula|."""
    w = torch.tensor(params["start"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(params["start"], dtype=torch.float64, requires_grad=True)
    x, y = torch.tensor(X, dtype=torch.float64), torch.tensor(Y, dtype=torch.float64)
    record: dict[str, list[float]] = {"cost": [], "output": [], "gradient": [], "identity_error": []}
    for _ in range(params["steps"]):
        z = w * x + b
        c = cost(z, y)
        grad_w, grad_b, grad_z = torch.autograd.grad(c, (w, b, z))
        z_value = z.detach()
        record["cost"].append(float(c.detach()))
        record["output"].append(float(torch.sigmoid(z_value)))
        record["gradient"].append(abs(float(grad_w)))
        record["identity_error"].append(abs(float(grad_z - expected_dz(z_value, y))))
        with torch.no_grad():
            w -= params["lr"] * grad_w
            b -= params["lr"] * grad_b
    return record


def _quadratic(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return builtin_loss("mse")(torch.sigmoid(z), y) / 2


def _quadratic_dz(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    a = torch.sigmoid(z)
    return (a - y) * a * (1 - a)


def _cross_entropy(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return builtin_loss("bce_with_logits")(z, y)


def _cross_entropy_dz(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(z) - y


def _steps_below_half(outputs: list[float]) -> float:
    """The first step whose output is below 0.5 (inf: never within the run)."""
    return next((float(t) for t, a in enumerate(outputs) if a < 0.5), math.inf)


def run(params: dict[str, Any], generator: torch.Generator) -> Outcome:
    runs = {"quadratic": _train(_quadratic, params, _quadratic_dz),
            "cross_entropy": _train(_cross_entropy, params, _cross_entropy_dz)}
    quadratic, cross_entropy = runs["quadratic"], runs["cross_entropy"]
    a0 = quadratic["output"][0]
    finding = {
        "start_output": a0, "sigma_prime_start": a0 * (1 - a0),
        "quadratic_start_gradient": quadratic["gradient"][0], "cross_entropy_start_gradient": cross_entropy["gradient"][0],
        "quadratic_peak_gradient": max(quadratic["gradient"]),
        "quadratic_steps_below_half": _steps_below_half(quadratic["output"]),
        "cross_entropy_steps_below_half": _steps_below_half(cross_entropy["output"]),
        "quadratic_identity_error": max(quadratic["identity_error"]),
        "cross_entropy_identity_error": max(cross_entropy["identity_error"]),
    }
    holds = (max(finding["quadratic_identity_error"], finding["cross_entropy_identity_error"]) <= IDENTITY_TOLERANCE
             and finding["quadratic_start_gradient"] < SLOW_START * finding["quadratic_peak_gradient"]
             and finding["cross_entropy_steps_below_half"] < finding["quadratic_steps_below_half"])
    fields = summary_fields(finding)
    summary = msg("lab_ce_vs_mse_sigmoid.summary_holds" if holds else "lab_ce_vs_mse_sigmoid.summary_fails", **fields)
    names = {"quadratic": msg("lab_ce_vs_mse_sigmoid.series_quadratic"),
             "cross_entropy": msg("lab_ce_vs_mse_sigmoid.series_cross_entropy")}
    steps = list(range(params["steps"]))
    series = [Series(names[n], steps, r["output"], msg("lab.axis_step"), msg("lab_ce_vs_mse_sigmoid.axis_output"),
                     panel="output") for n, r in runs.items()]
    series += [Series(names[n], steps, r["gradient"], msg("lab.axis_step"), msg("lab_ce_vs_mse_sigmoid.axis_gradient"),
                      panel="gradient") for n, r in runs.items()]
    return Outcome(series, finding, holds, summary)


register(Experiment(
    name="ce_vs_mse_sigmoid",
    article="004_30232886671f4238.txt §1.3",
    title=msg("lab_ce_vs_mse_sigmoid.title"),
    claim=msg("lab_ce_vs_mse_sigmoid.claim"),
    params=(
        Param("lr", 0.15, Interval(Real, 0.0, 10.0, closed="right"), msg("lab.param_lr")),
        Param("steps", 300, Interval(Integral, 10, 5000), msg("lab.param_steps")),
        Param("start", 2.0, Interval(Real, -10.0, 10.0), msg("lab_ce_vs_mse_sigmoid.param_start")),
    ),
    run=run,
    panels={"output": msg("lab_ce_vs_mse_sigmoid.panel_output"),
            "gradient": msg("lab_ce_vs_mse_sigmoid.panel_gradient")},
))
