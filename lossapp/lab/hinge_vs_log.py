"""0-1, hinge and log loss against the margin y·f, and a correctly classified point beyond the margin
(article 002, items 4 and 16: why an SVM uses the hinge rather than the log loss).

The curves: for margins z = y·f from −3 to 3, lossapp's zero_one (threshold 0), hinge (margin 1) and the log loss
log(1 + e^(−z)) (bce_with_logits with the label 1), and each one's −∂ℓ/∂z by autograd. The probe: a point with
margin `margin_point` (2: correct, beyond the margin 1). The training run: 100 separable points in the plane
(two classes around ±(2, 2), unit variance), a linear classifier from zero, `steps` gradient-descent steps of
rate `lr` under each loss; at the end, how many points still push on the weights (a nonzero gradient). The claim
holds when at the probe the hinge loss and its gradient are exactly 0 while the log loss and its gradient are not,
and in training the hinge ends with fewer pushing points (the support vectors) than the log loss (all of them).
A probe inside the margin (margin_point = 0.5) still costs the hinge 1 − z: the claim fails there.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import torch

from lossapp.i18n import msg
from lossapp.inputs.constraints import Interval
from lossapp.lab import Experiment, Outcome, Series, builtin_loss, register, summary_fields
from lossapp.registry import Param

MARGINS = [i / 20 for i in range(-60, 61)]
POINTS = 100
CENTRE = 2.0
LOSSES = ("zero_one", "hinge", "log")


def _loss_functions() -> dict[str, Any]:
    """Each loss of a margin z (the label is 1, the score z)."""
    zero_one, hinge, log = builtin_loss("zero_one", threshold=0.0), builtin_loss("hinge"), builtin_loss("bce_with_logits")
    return {"zero_one": lambda z: zero_one(z, torch.ones_like(z), reduction="none"),
            "hinge": lambda z: hinge(z, torch.ones_like(z), reduction="none"),
            "log": lambda z: log(z, torch.ones_like(z), reduction="none")}


def _value_and_slope(loss: Any, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """ℓ(z) and −∂ℓ/∂z, elementwise (zero_one has no gradient: its slope is 0 wherever it is defined)."""
    z = z.clone().requires_grad_(True)
    value = loss(z)
    if not value.requires_grad:
        return value.detach(), torch.zeros_like(z.detach())
    (grad,) = torch.autograd.grad(value.sum(), z)
    return value.detach(), -grad


def _data(generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Points (N, 2) around ±(CENTRE, CENTRE) and their labels ±1 (alternating)."""
    y = torch.where(torch.arange(POINTS) % 2 == 0, 1.0, -1.0).double()
    return torch.randn(POINTS, 2, generator=generator, dtype=torch.float64) + CENTRE * y[:, None], y


def _pushing_points(loss: Any, x: torch.Tensor, y: torch.Tensor, params: dict[str, Any]) -> list[int]:
    """Per step, how many training points have a nonzero gradient (the classifier is w·x + b)."""
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    pushing = []
    for _ in range(params["steps"]):
        margins = y * (x @ w + b)
        per_point = loss(margins)
        (grad_margin,) = torch.autograd.grad(per_point.sum(), margins, retain_graph=True)
        pushing.append(int((grad_margin != 0).sum()))
        grad_w, grad_b = torch.autograd.grad(per_point.mean(), (w, b))
        with torch.no_grad():
            w -= params["lr"] * grad_w
            b -= params["lr"] * grad_b
    return pushing


def run(params: dict[str, Any], generator: torch.Generator) -> Outcome:
    losses = _loss_functions()
    z = torch.tensor(MARGINS, dtype=torch.float64)
    curves = {name: _value_and_slope(losses[name], z) for name in LOSSES}
    probe = {name: _value_and_slope(losses[name], torch.tensor([params["margin_point"]], dtype=torch.float64))
             for name in LOSSES}
    x, y = _data(generator)
    pushing = {name: _pushing_points(losses[name], x, y, params) for name in ("hinge", "log")}
    finding = {"zero_one_loss": float(probe["zero_one"][0]), "hinge_loss": float(probe["hinge"][0]),
               "hinge_push": float(probe["hinge"][1]), "log_loss": float(probe["log"][0]),
               "log_push": float(probe["log"][1]), "points": POINTS,
               "hinge_pushing_points": pushing["hinge"][-1], "log_pushing_points": pushing["log"][-1]}
    holds = (finding["zero_one_loss"] == 0 and finding["hinge_loss"] == 0 and finding["hinge_push"] == 0
             and finding["log_loss"] > 0 and finding["log_push"] != 0
             and finding["hinge_pushing_points"] < finding["log_pushing_points"])
    summary = msg("lab_hinge_vs_log.summary_holds" if holds else "lab_hinge_vs_log.summary_fails",
                  **summary_fields(finding))
    names = {"zero_one": msg("lab_hinge_vs_log.series_zero_one"), "hinge": msg("lab_hinge_vs_log.series_hinge"),
             "log": msg("lab_hinge_vs_log.series_log")}
    series = [Series(names[n], MARGINS, curves[n][0].tolist(), msg("lab_hinge_vs_log.axis_margin"),
                     msg("lab.axis_loss"), panel="loss") for n in LOSSES]
    series += [Series(names[n], MARGINS, curves[n][1].tolist(), msg("lab_hinge_vs_log.axis_margin"),
                      msg("lab_hinge_vs_log.axis_slope"), panel="slope") for n in ("hinge", "log")]
    steps = list(range(params["steps"]))
    series += [Series(names[n], steps, pushing[n], msg("lab.axis_step"), msg("lab_hinge_vs_log.axis_pushing"),
                      panel="training") for n in ("hinge", "log")]
    return Outcome(series, finding, holds, summary)


register(Experiment(
    name="hinge_vs_log",
    article="002_472562432bf7f397.txt §4, §16",
    title=msg("lab_hinge_vs_log.title"),
    claim=msg("lab_hinge_vs_log.claim"),
    params=(
        Param("margin_point", 2.0, Interval(Real, -3.0, 3.0), msg("lab_hinge_vs_log.param_margin_point")),
        Param("lr", 0.5, Interval(Real, 0.0, 10.0, closed="right"), msg("lab.param_lr")),
        Param("steps", 50, Interval(Integral, 1, 2000), msg("lab.param_steps")),
    ),
    run=run,
    panels={"loss": msg("lab_hinge_vs_log.panel_loss"), "slope": msg("lab_hinge_vs_log.panel_slope"),
            "training": msg("lab_hinge_vs_log.panel_training")},
))
