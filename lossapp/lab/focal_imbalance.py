"""Where the loss and its gradient come from on a 1000 : 1 set, under CE, α-balanced CE and focal loss
(articles 000 §二.3, 003 §2 and 004 §3).

The set: `positives` positive samples whose logits are drawn around `positive_logit` (−1: p ≈ 0.27, hard,
misclassified) and `ratio` times as many negatives around `negative_logit` (−4: p ≈ 0.02, easy), both with
standard deviation 0.5. Each sample's loss is lossapp's sigmoid focal loss (torchvision's formula, reduction
none): plain cross-entropy is γ = 0 without α, α-balanced CE is γ = 0 with α, focal is (α, γ). Read off: the
positives' share of the total loss and of the total |∂L/∂x|. The claim holds when focal loss gives the positives a
larger share of both than plain cross-entropy. When the negatives are as hard as the positives
(negative_logit = 1: p ≈ 0.73), the modulating factor no longer tells them apart and α = 0.25 weights the positives
down: the claim fails.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import torch

from lossapp.i18n import msg
from lossapp.inputs.constraints import Interval
from lossapp.lab import Experiment, Outcome, Series, builtin_loss, register, summary_fields
from lossapp.registry import Param

SPREAD = 0.5
GAMMAS = [i / 4 for i in range(21)]  # 0 … 5: the share as γ grows
PROBABILITIES = [i / 100 for i in range(1, 100)]  # the per-sample loss against p_t


def _shares(logits: torch.Tensor, target: torch.Tensor, alpha: float, gamma: float) -> tuple[float, float]:
    """The positives' share of Σ loss and of Σ |∂loss/∂logit| (per-sample focal loss, autograd)."""
    x = logits.clone().requires_grad_(True)
    loss = builtin_loss("focal", alpha=alpha, gamma=gamma)(x, target, reduction="none")
    (grad,) = torch.autograd.grad(loss.sum(), x)
    positive = target == 1
    loss, grad = loss.detach(), grad.abs()
    return float(loss[positive].sum() / loss.sum()), float(grad[positive].sum() / grad.sum())


def run(params: dict[str, Any], generator: torch.Generator) -> Outcome:
    n_pos = params["positives"]
    n_neg = n_pos * params["ratio"]
    noise = SPREAD * torch.randn(n_pos + n_neg, generator=generator, dtype=torch.float64)
    logits = torch.cat([torch.full((n_pos,), params["positive_logit"], dtype=torch.float64),
                        torch.full((n_neg,), params["negative_logit"], dtype=torch.float64)]) + noise
    target = torch.cat([torch.ones(n_pos, dtype=torch.float64), torch.zeros(n_neg, dtype=torch.float64)])
    alpha, gamma = params["alpha"], params["gamma"]
    shares = {"cross_entropy": _shares(logits, target, -1.0, 0.0), "balanced": _shares(logits, target, alpha, 0.0),
              "focal": _shares(logits, target, alpha, gamma)}
    finding = {f"{name}_{kind}_share": value[i] for name, value in shares.items()
               for i, kind in enumerate(("loss", "gradient"))}
    finding |= {"positives": n_pos, "negatives": n_neg}
    holds = (shares["focal"][0] > shares["cross_entropy"][0] and shares["focal"][1] > shares["cross_entropy"][1])
    fields = summary_fields(finding)
    summary = msg("lab_focal_imbalance.summary_holds" if holds else "lab_focal_imbalance.summary_fails", **fields)

    by_gamma = [_shares(logits, target, alpha, g) for g in GAMMAS]
    ce_share = shares["cross_entropy"]
    series = [
        Series(msg("lab_focal_imbalance.series_focal_loss_share", alpha=alpha), GAMMAS, [s[0] for s in by_gamma],
               msg("lab_focal_imbalance.axis_gamma"), msg("lab_focal_imbalance.axis_share"), panel="share"),
        Series(msg("lab_focal_imbalance.series_focal_gradient_share", alpha=alpha), GAMMAS, [s[1] for s in by_gamma],
               msg("lab_focal_imbalance.axis_gamma"), msg("lab_focal_imbalance.axis_share"), panel="share"),
        Series(msg("lab_focal_imbalance.series_ce_loss_share"), GAMMAS, [ce_share[0]] * len(GAMMAS),
               msg("lab_focal_imbalance.axis_gamma"), msg("lab_focal_imbalance.axis_share"), panel="share"),
        Series(msg("lab_focal_imbalance.series_ce_gradient_share"), GAMMAS, [ce_share[1]] * len(GAMMAS),
               msg("lab_focal_imbalance.axis_gamma"), msg("lab_focal_imbalance.axis_share"), panel="share"),
    ]
    p_t = torch.tensor(PROBABILITIES, dtype=torch.float64)
    for g in sorted({0.0, gamma}):
        per_sample = builtin_loss("focal", alpha=-1.0, gamma=g, input="probabilities")(p_t, torch.ones_like(p_t),
                                                                                      reduction="none")
        series.append(Series(msg("lab_focal_imbalance.series_loss_at_gamma", gamma=g), PROBABILITIES,
                             per_sample.tolist(), msg("lab_focal_imbalance.axis_p_t"), msg("lab.axis_loss"),
                             panel="per_sample"))
    return Outcome(series, finding, holds, summary)


register(Experiment(
    name="focal_imbalance",
    article="000_6833348b64a02e28.txt §二.3, 003_14a7d40ca3ca06cd.txt §2, 004_30232886671f4238.txt §3",
    title=msg("lab_focal_imbalance.title"),
    claim=msg("lab_focal_imbalance.claim"),
    params=(
        Param("ratio", 1000, Interval(Integral, 1, 10000), msg("lab_focal_imbalance.param_ratio")),
        Param("positives", 10, Interval(Integral, 1, 100), msg("lab_focal_imbalance.param_positives")),
        Param("alpha", 0.25, Interval(Real, 0.0, 1.0), msg("lab_focal_imbalance.param_alpha")),
        Param("gamma", 2.0, Interval(Real, 0.0, 10.0), msg("lab_focal_imbalance.param_gamma")),
        Param("positive_logit", -1.0, Interval(Real, -10.0, 10.0), msg("lab_focal_imbalance.param_positive_logit")),
        Param("negative_logit", -4.0, Interval(Real, -10.0, 10.0), msg("lab_focal_imbalance.param_negative_logit")),
    ),
    run=run,
    panels={"share": msg("lab_focal_imbalance.panel_share"), "per_sample": msg("lab_focal_imbalance.panel_per_sample")},
))
