"""Maximum likelihood is cross-entropy, MSE and L1 (articles 001 §1 and §3, 004 §1.2).

Categorical: `samples` labels are drawn from a random distribution over `classes` classes; their frequencies f are
the counts over n. For a model q on a path through f (q_t = (1 − |t|)·f + |t|·r, with one random model r for t < 0
and another for t > 0), the negative log-likelihood per sample −(1/n)·Σ_i log q(y_i) (torch's nll_loss, reduction
sum, over n) equals the cross-entropy −Σ_k f_k log q_k between the frequencies and the model, and is smallest at
t = 0: the maximum-likelihood estimate is the frequency (at q = f the gradient −count_k/(n·q_k) is −1 for every
observed class: no direction along the simplex increases the likelihood).

Gaussian and Laplace: the same n samples of N(1, σ²) and Laplace(1, b); for a location μ, −(1/n)·Σ log p(x_i | μ)
equals ½·log(2πσ²) + MSE(μ)/(2σ²) and log(2b) + L1(μ)/b (torch.distributions' log_prob against torch's mse_loss and
l1_loss): maximum likelihood with Gaussian (Laplace) noise is least squares (least absolute deviations), up to
constants. The claim holds when every identity holds to 1e-12 (relative to the value) and the path's minimum is at
t = 0.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import torch

from lossapp.i18n import msg
from lossapp.inputs.constraints import Interval
from lossapp.lab import Experiment, Outcome, Series, builtin_loss, register, summary_fields
from lossapp.registry import Param

TOLERANCE = 1e-12
LOCATION = 1.0
PATH = [i / 20 for i in range(-20, 21)]  # t from −1 to 1
GRID = 41  # locations μ on mean ± 3 spreads


def _relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b).abs() / b.abs().clamp(min=1.0)).max())


def _categorical(params: dict[str, Any], generator: torch.Generator) -> tuple[list[Series], dict[str, Any]]:
    k, n = params["classes"], params["samples"]
    truth = torch.softmax(torch.randn(k, generator=generator, dtype=torch.float64), dim=0)
    labels = torch.multinomial(truth, n, replacement=True, generator=generator)
    frequency = torch.bincount(labels, minlength=k).double() / n
    before, after = (torch.softmax(torch.randn(k, generator=generator, dtype=torch.float64), dim=0) for _ in range(2))
    nll = builtin_loss("nll")
    nll_per_sample, cross_entropy = [], []
    for t in PATH:
        q = (1 - abs(t)) * frequency + abs(t) * (before if t < 0 else after)
        log_q = torch.log(q)
        nll_per_sample.append(nll(log_q.expand(n, k), labels, reduction="sum") / n)
        cross_entropy.append(-torch.special.xlogy(frequency, q).sum())
    nll_values, ce_values = torch.stack(nll_per_sample), torch.stack(cross_entropy)
    q = frequency.clone().requires_grad_(True)
    observed = frequency > 0
    (grad,) = torch.autograd.grad(nll(torch.log(q).expand(n, k), labels, reduction="sum") / n, q)
    finding = {"nll_vs_cross_entropy": _relative_error(nll_values, ce_values),
               "mle_stationarity": float((grad[observed] + 1).abs().max()),
               "path_minimum_at": PATH[int(nll_values.argmin())],
               "entropy_of_frequency": float(ce_values[PATH.index(0.0)])}
    series = [Series(msg("lab_mle_equals_ce.series_nll"), PATH, nll_values.tolist(),
                     msg("lab_mle_equals_ce.axis_path"), msg("lab_mle_equals_ce.axis_per_sample"), panel="categorical"),
              Series(msg("lab_mle_equals_ce.series_cross_entropy"), PATH, ce_values.tolist(),
                     msg("lab_mle_equals_ce.axis_path"), msg("lab_mle_equals_ce.axis_per_sample"), panel="categorical")]
    return series, finding


def _draw(kind: str, n: int, spread: float, generator: torch.Generator) -> torch.Tensor:
    """n samples around LOCATION: Gaussian σ·z, or Laplace b·(E₁ − E₂) with E = −log(1 − U) exponential."""
    if kind == "gaussian":
        return LOCATION + spread * torch.randn(n, generator=generator, dtype=torch.float64)
    exponential = -torch.log1p(-torch.rand(2, n, generator=generator, dtype=torch.float64))
    return LOCATION + spread * (exponential[0] - exponential[1])


def _location(kind: str, params: dict[str, Any], generator: torch.Generator) -> tuple[list[Series], dict[str, Any]]:
    """Gaussian noise (MSE) or Laplace noise (L1): −mean log p(x | μ) against the loss's form, on a grid of μ."""
    n = params["samples"]
    gaussian = kind == "gaussian"
    spread = params["sigma"] if gaussian else params["b"]
    x = _draw(kind, n, spread, generator)
    scale = torch.tensor(spread, dtype=torch.float64)
    grid = torch.linspace(float(x.mean()) - 3 * spread, float(x.mean()) + 3 * spread, GRID, dtype=torch.float64)
    model = torch.distributions.Normal if gaussian else torch.distributions.Laplace
    nll = torch.stack([-model(mu, scale).log_prob(x).mean() for mu in grid])
    if gaussian:  # ½·log(2πσ²) + MSE(μ)/(2σ²)
        form = 0.5 * torch.log(2 * torch.pi * scale**2) + torch.stack(
            [builtin_loss("mse")(mu.expand(n), x) for mu in grid]) / (2 * scale**2)
        name = msg("lab_mle_equals_ce.series_gaussian_form")
    else:  # log(2b) + L1(μ)/b
        form = torch.log(2 * scale) + torch.stack([builtin_loss("l1")(mu.expand(n), x) for mu in grid]) / scale
        name = msg("lab_mle_equals_ce.series_laplace_form")
    series = [Series(msg("lab_mle_equals_ce.series_nll"), grid.tolist(), nll.tolist(), msg("lab_mle_equals_ce.axis_mu"),
                     msg("lab_mle_equals_ce.axis_per_sample"), panel=kind),
              Series(name, grid.tolist(), form.tolist(), msg("lab_mle_equals_ce.axis_mu"),
                     msg("lab_mle_equals_ce.axis_per_sample"), panel=kind)]
    return series, {f"{kind}_nll_vs_loss": _relative_error(nll, form)}


def run(params: dict[str, Any], generator: torch.Generator) -> Outcome:
    series, finding = _categorical(params, generator)
    for kind in ("gaussian", "laplace"):
        more_series, more_finding = _location(kind, params, generator)
        series += more_series
        finding |= more_finding
    identities = ("nll_vs_cross_entropy", "mle_stationarity", "gaussian_nll_vs_loss", "laplace_nll_vs_loss")
    holds = max(finding[key] for key in identities) <= TOLERANCE and finding["path_minimum_at"] == 0.0
    summary = msg("lab_mle_equals_ce.summary_holds" if holds else "lab_mle_equals_ce.summary_fails",
                  **summary_fields(finding))
    return Outcome(series, finding, holds, summary)


register(Experiment(
    name="mle_equals_ce",
    article="004_30232886671f4238.txt §1.2, 001_c6101373190d4f37.txt §1, §3",
    title=msg("lab_mle_equals_ce.title"),
    claim=msg("lab_mle_equals_ce.claim"),
    params=(
        Param("classes", 3, Interval(Integral, 2, 20), msg("lab_mle_equals_ce.param_classes")),
        Param("samples", 200, Interval(Integral, 1, 10000), msg("lab_mle_equals_ce.param_samples")),
        Param("sigma", 1.0, Interval(Real, 0.01, 100.0), msg("lab_mle_equals_ce.param_sigma")),
        Param("b", 1.0, Interval(Real, 0.01, 100.0), msg("lab_mle_equals_ce.param_b")),
    ),
    run=run,
    panels={"categorical": msg("lab_mle_equals_ce.panel_categorical"),
            "gaussian": msg("lab_mle_equals_ce.panel_gaussian"), "laplace": msg("lab_mle_equals_ce.panel_laplace")},
))
