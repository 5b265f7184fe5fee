"""Curve data for the plots, as pandas DataFrames (the UI feeds them to Gradio's native plots).

Columns are plain ASCII names so any plotting front end can use them:

    focal_curves()        p_t, loss, curve        focal loss vs p_t, γ ∈ {0, 0.5, 1, 2, 5} (RetinaNet fig. 1)
    regression_curves()   d, value, curve         L1, L2, Smooth L1 (β), Huber (δ); derivative=True for d/dd
    bce_curves()          p, loss, curve          BCE vs p for y = 1 and y = 0
    truncation_curves()   p, weight, curve        article 004: hard λ(y, ŷ) for m, soft σ(∓K(x ∓ x_m)) for K
    loss_around(result)   AroundPlot              the per-element loss around the user's data, points marked

`CURVE_SETS` names these pictures with their parameters (what the curves tab draws, and what
`python -m lossapp curves NAME` exports); a loss names its picture in `LossSpec.curves`.

Every curve is computed with torch built-ins (F.l1_loss, F.binary_cross_entropy, ...) or the
articles' closed forms in float64; `loss_around` reruns the loss's own step function on a grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from lossapp.i18n import Message, msg
from lossapp.inputs import InputError, quote
from lossapp.inputs.constraints import Boolean, Interval, Options, validate_params
from lossapp.losses.truncated import soft_threshold_logit
from lossapp.registry import LOSSES, Param, lookup
from lossapp.result import Result

FOCAL_GAMMAS = (0.0, 0.5, 1.0, 2.0, 5.0)
MAX_POINTS = 2_000      # user points drawn at most (large inputs are downsampled evenly)
GRID = 200              # grid points per curve
P_EPS = 1e-3            # probability grids run over [P_EPS, 1 - P_EPS]
CLASS_CURVES = 3        # class losses: curves drawn for at most this many samples
PT_SYMBOLS = ("p_t", "p_y", "pt")  # step symbols that name the probability of the true class


def _g(x: float) -> str:
    return f"{x:g}"


def _curve_frame(x: np.ndarray, y: np.ndarray, label: str, xname: str, yname: str) -> pd.DataFrame:
    return pd.DataFrame({xname: x, yname: y, "curve": label})


# -- the articles' pictures --------------------------------------------------------------------------


def focal_curves(gammas: Sequence[float] = FOCAL_GAMMAS, alpha: float | None = None, *,
                 points: int = 400) -> pd.DataFrame:
    """Focal loss FL(p_t) = −α_t (1 − p_t)^γ log p_t vs p_t for each γ (γ = 0 is cross-entropy).

    alpha None (or negative) draws RetinaNet's figure 1 (no α); otherwise α_t = α for a positive
    (y = 1) element. Columns: p_t, loss, curve ("γ = 2")."""
    p = torch.linspace(P_EPS, 1 - P_EPS, points, dtype=torch.float64)
    scale = 1.0 if alpha is None or alpha < 0 else float(alpha)
    frames = []
    for gamma in dict.fromkeys(float(g) for g in gammas):
        loss = -scale * (1 - p) ** gamma * torch.log(p)
        label = f"γ = {_g(gamma)}" + ("" if scale == 1.0 else f", α = {_g(scale)}")
        frames.append(_curve_frame(p.numpy(), loss.numpy(), label, "p_t", "loss"))
    return pd.concat(frames, ignore_index=True)


def regression_curves(beta: float = 1.0, delta: float = 1.0, *, derivative: bool = False, span: float = 3.0,
                      points: int = 401) -> pd.DataFrame:
    """L1, L2 (MSE), Smooth L1 (β) and Huber (δ) of the difference d = ŷ − y, from torch's built-ins
    with reduction="none"; derivative=True gives dl/dd by autograd. Columns: d, value, curve."""
    d = torch.linspace(-span, span, points, dtype=torch.float64)
    zero = torch.zeros_like(d)
    curves = {
        "L1": lambda x: F.l1_loss(x, zero, reduction="none"),
        "L2 (MSE)": lambda x: F.mse_loss(x, zero, reduction="none"),
        f"Smooth L1 (β = {_g(beta)})": lambda x: F.smooth_l1_loss(x, zero, reduction="none", beta=float(beta)),
        f"Huber (δ = {_g(delta)})": lambda x: F.huber_loss(x, zero, reduction="none", delta=float(delta)),
    }
    frames = []
    for label, fn in curves.items():
        x = d.clone().requires_grad_(derivative)
        value = fn(x)
        if derivative:
            (value,) = torch.autograd.grad(value.sum(), x)
        frames.append(_curve_frame(d.numpy(), value.detach().numpy(), label, "d", "value"))
    return pd.concat(frames, ignore_index=True)


def bce_curves(*, points: int = 400) -> pd.DataFrame:
    """Binary cross-entropy −[y log p + (1 − y) log(1 − p)] vs p for y = 1 and y = 0
    (F.binary_cross_entropy). Columns: p, loss, curve."""
    p = torch.linspace(P_EPS, 1 - P_EPS, points, dtype=torch.float64)
    frames = []
    for y in (1.0, 0.0):
        loss = F.binary_cross_entropy(p, torch.full_like(p, y), reduction="none")
        frames.append(_curve_frame(p.numpy(), loss.numpy(), f"y = {int(y)}", "p", "loss"))
    return pd.concat(frames, ignore_index=True)


def hard_truncation_weight(p: torch.Tensor, y: int, m: float) -> torch.Tensor:
    """Article 004's λ(y, ŷ): 0 for a positive with ŷ > m or a negative with ŷ < 1 − m, else 1."""
    if y == 1:
        return (p <= m).double()
    return (p >= 1 - m).double()


def soft_truncation_weight(p: torch.Tensor, y: int, k: float, m: float = 0.5) -> torch.Tensor:
    """The smoothed λ of soft_truncated_ce: the steps θ(m − ŷ) and θ(ŷ − (1 − m)) as sigmoids of the logit
    x = logit(ŷ), λ(1, ŷ) = σ(−K(x − x_m)) and λ(0, ŷ) = σ(K(x + x_m)) with x_m = logit(m), so that a positive's
    weight falls from 1 to 0 around ŷ = m and a negative's around ŷ = 1 − m (m = 0.5: σ(∓Kx), Su Jianlin's form).

    >>> soft_truncation_weight(torch.tensor([0.6]), 1, 5.0, 0.6).item()
    0.5
    """
    if not 0 < m < 1:  # x_m = ±∞: every sample kept (m = 1) or dropped (m = 0), as the hard weights
        return hard_truncation_weight(p, y, m)
    x = torch.log(p) - torch.log1p(-p)
    xm = soft_threshold_logit(m)
    return torch.sigmoid(-k * (x - xm)) if y == 1 else torch.sigmoid(k * (x + xm))


def truncation_curves(ms: Sequence[float] = (0.6,), ks: Sequence[float] = (1.0, 5.0, 20.0), *, y: int = 1,
                      points: int = 801) -> pd.DataFrame:
    """Hard-truncation weights λ(y, ŷ) for each threshold m next to the soft weights for each steepness K around
    the same threshold, as functions of ŷ (article 004, 2.1 and 2.2): the soft curves of each m (of m = 0.5 when
    `ms` is empty), named with their m when there are several. Columns: p, weight, curve."""
    p = torch.linspace(P_EPS, 1 - P_EPS, points, dtype=torch.float64)
    thresholds = list(dict.fromkeys(float(v) for v in ms))
    frames = []
    for m in thresholds:
        frames.append(_curve_frame(p.numpy(), hard_truncation_weight(p, y, m).numpy(), msg("plots.hard", m=_g(m)),
                                   "p", "weight"))
    for m in thresholds or [0.5]:
        for k in dict.fromkeys(float(v) for v in ks):
            label = msg("plots.soft", k=_g(k)) if len(thresholds) < 2 else msg("plots.soft_at", m=_g(m), k=_g(k))
            frames.append(_curve_frame(p.numpy(), soft_truncation_weight(p, y, k, m).numpy(), label, "p", "weight"))
    return pd.concat(frames, ignore_index=True)


# -- the pictures by name (the curves tab's, and the CLI's `curves`) -----------------------------------


@dataclass(frozen=True)
class CurveSet:
    """One of the articles' pictures: its parameters (validated as a loss's are) and how to draw it from them as a
    frame with the columns x, y and curve (`x` and `y` name what the axes are)."""

    name: str
    title: Message
    params: tuple[Param, ...]
    draw: Callable[[dict[str, Any]], pd.DataFrame]
    x: str
    y: str

    def frame(self, given: dict[str, Any] | None = None) -> pd.DataFrame:
        """The curves for the given parameters (defaults for the others): columns x, y, curve."""
        frame = self.draw(validate_params(dict(given or {}), self.params, name=self.name))
        return frame.rename(columns={self.x: "x", self.y: "y"})[["x", "y", "curve"]]


def _focal_set(p: dict[str, Any]) -> pd.DataFrame:
    return focal_curves([*FOCAL_GAMMAS, float(p["gamma"])], None if float(p["alpha"]) < 0 else float(p["alpha"]))


CURVE_SETS: dict[str, CurveSet] = {s.name: s for s in (
    CurveSet("focal", msg("curves.focal"),
             (Param("gamma", 2.0, Interval(Real, 0.0, 10.0), msg("curves.param.gamma")),
              Param("alpha", -1.0, Interval(Real, -1.0, 1.0), msg("curves.param.alpha"))),
             _focal_set, "p_t", "loss"),
    CurveSet("regression", msg("curves.regression"),
             (Param("beta", 1.0, Interval(Real, 0.0, 10.0), msg("curves.param.beta")),
              Param("delta", 1.0, Interval(Real, 1e-6, 10.0), msg("curves.param.delta")),
              Param("derivative", False, Boolean(), msg("curves.param.derivative"))),
             lambda p: regression_curves(float(p["beta"]), float(p["delta"]), derivative=bool(p["derivative"])),
             "d", "value"),
    CurveSet("bce", msg("curves.bce"), (), lambda p: bce_curves(), "p", "loss"),
    CurveSet("truncation", msg("curves.truncation"),
             (Param("m", 0.6, Interval(Real, 0.0, 1.0), msg("curves.param.m")),
              Param("K", 5.0, Interval(Real, 0.0, 100.0), msg("curves.param.k")),
              Param("y", "1", Options(("1", "0")), msg("curves.param.y"))),
             lambda p: truncation_curves([float(p["m"])], sorted({1.0, 5.0, float(p["K"])}), y=int(p["y"])),
             "p", "weight"),
)}


def curve_set(name: str) -> CurveSet:
    """The picture called `name`, or the one the loss `name` (any of its aliases) names in LossSpec.curves."""
    key = name.strip().lower() if isinstance(name, str) else name
    if key in CURVE_SETS:
        return CURVE_SETS[key]
    drawn = ", ".join(n for n, s in LOSSES.items() if s.curves is not None)
    try:
        spec = lookup(name)
    except InputError:
        raise InputError("curves.unknown", name=quote(str(name)), sets=", ".join(CURVE_SETS), losses=drawn) from None
    if spec.curves is None:
        raise InputError("curves.none_for_loss", loss=spec.name, sets=", ".join(CURVE_SETS), losses=drawn)
    return CURVE_SETS[spec.curves]


def write_png(chosen: CurveSet, frame: pd.DataFrame, path: Any, title: str) -> None:
    """The curves of `frame` (columns x, y, curve) as a PNG at `path`, with matplotlib (an InputError without it)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("curves.png_needs_matplotlib") from None
    figure, axes = plt.subplots(figsize=(7.0, 4.5))
    try:
        for label, group in frame.groupby("curve", sort=False):
            axes.plot(group["x"].to_numpy(), group["y"].to_numpy(), label=str(label))
        axes.set(xlabel=chosen.x, ylabel=chosen.y)
        axes.set_title(title, fontsize=9, wrap=True)
        axes.legend()
        figure.savefig(path, dpi=120)
    finally:
        plt.close(figure)


# -- the loss around the user's data -----------------------------------------------------------------


@dataclass
class AroundPlot:
    """The per-element loss as a function of one input, around the user's data.

    data: columns x, loss, dloss (d l / d pred; NaN where unknown), series, kind ("curve" or "point").
    x_label: what x is ("p_t", "d = ŷ − y", "pred", "x_y (logit of the true class)").
    total / shown: how many elements the input has and how many points are drawn.
    legend: what the series are (the legend's title): the target value, the sample, the loss.
    """

    data: pd.DataFrame
    x_label: str
    total: int
    shown: int
    note: str = ""
    legend: str = ""
    probabilities: bool = False  # x is pred, and pred is probabilities

    @property
    def x_limits(self) -> tuple[float, float] | None:
        """(0, 1) when x is a probability (p_t, or the pred of a loss on probabilities); None: the data's range."""
        if self.x_label == "p_t" or self.probabilities:
            return 0.0, 1.0
        return None

    @property
    def curves(self) -> pd.DataFrame:
        return self.data[self.data["kind"] == "curve"]

    @property
    def points(self) -> pd.DataFrame:
        return self.data[self.data["kind"] == "point"]


def _sample(count: int, limit: int) -> torch.Tensor:
    if count <= limit:
        return torch.arange(count)
    return torch.unique(torch.linspace(0, count - 1, limit, dtype=torch.float64).round().long())


def _scalar_params(params: dict[str, Any]) -> bool:
    return all(not (isinstance(v, torch.Tensor) and v.numel() > 1) for v in params.values())


def _run(result: Result, pred: torch.Tensor, target: torch.Tensor | None) -> tuple[Any, torch.Tensor,
                                                                                   torch.Tensor | None]:
    from lossapp.engine import run_trace
    if result.spec is None:
        raise ValueError("no spec")
    trace, _, grad = run_trace(result.spec, pred, target, result.params, "none")
    if trace.unreduced is None:
        raise ValueError("no per-element loss")
    return trace, trace.unreduced.detach().double(), grad


def _pt_step(steps: Sequence[Any], shape: tuple[int, ...]) -> Any:
    for symbol in PT_SYMBOLS:
        for s in reversed(list(steps)):
            if s.symbol == symbol and s.shape == shape:
                return s
    return None


def _value_range(values: torch.Tensor, kind: str) -> tuple[float, float]:
    if kind == "probabilities":
        return P_EPS, 1 - P_EPS
    finite = values[torch.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.numel() else (-1.0, 1.0)
    pad = max(1.0, 0.25 * (hi - lo))
    return lo - pad, hi + pad


def _label(value: float) -> str:
    return f"y = {_g(value)}"


def loss_around(result: Result, *, max_points: int = MAX_POINTS, grid: int = GRID) -> AroundPlot | None:
    """The per-element loss as a function of one input around the user's data, with the user's
    elements as points: regression losses vs d = ŷ − y; elementwise classification losses vs p_t
    (when the loss writes a p_t step) or vs pred, one curve per target value; class losses (N, C)
    vs p_t or the true-class logit, one curve per sample for a few samples. Curves come from rerunning
    the loss's own step function (reduction "none") on a grid. None when the loss has no per-element
    loss (Dice, IoU, ...) to plot."""
    spec, unreduced = result.spec, result.unreduced
    if spec is None or unreduced is None or result.pred is None:
        return None
    pred = result.pred.values.double()
    target = result.target.values if result.target is not None else None
    loss = unreduced.double()
    total = loss.numel()
    keep = _sample(total, max_points)
    if tuple(loss.shape) == tuple(pred.shape):
        plot = _elementwise(result, pred, target, loss, keep, grid)
    elif target is not None and pred.dim() == loss.dim() + 1 and tuple(target.shape) == tuple(loss.shape) \
            and not target.is_floating_point():
        plot = _class_wise(result, pred, target, loss, keep, grid)
    else:
        return None
    if plot is None:
        return None
    plot.total, plot.shown = total, len(keep)
    if total > len(keep):
        plot.note = msg("plots.shown", shown=f"{len(keep):,}", total=f"{total:,}")
    return plot


def _points_frame(x: torch.Tensor, loss: torch.Tensor, dloss: torch.Tensor | None, series: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"x": x.double().numpy(), "loss": loss.double().numpy(),
                         "dloss": dloss.double().numpy() if dloss is not None else np.full(len(series), np.nan),
                         "series": series, "kind": "point"})


def _curve_rows(x: torch.Tensor, loss: torch.Tensor, dloss: torch.Tensor | None, label: str) -> pd.DataFrame:
    order = torch.argsort(x)
    return pd.DataFrame({"x": x[order].numpy(), "loss": loss[order].numpy(),
                         "dloss": dloss[order].numpy() if dloss is not None else np.nan,
                         "series": label, "kind": "curve"})


def _elementwise(result: Result, pred: torch.Tensor, target: torch.Tensor | None, loss: torch.Tensor,
                 keep: torch.Tensor, grid: int) -> AroundPlot | None:
    spec = result.spec
    if spec is None:
        return None
    flat_pred = pred.reshape(-1)[keep]
    flat_target = target.reshape(-1)[keep] if target is not None else None
    flat_loss = loss.reshape(-1)[keep]
    scalar = _scalar_params(result.params)
    frames: list[pd.DataFrame] = []
    point_grad = None
    if scalar:
        try:
            _, _, point_grad = _run(result, flat_pred.clone(), flat_target.clone() if flat_target is not None else None)
        except (ValueError, RuntimeError, KeyError, IndexError, TypeError):
            point_grad = None
    if target is None:  # penalties: loss vs the weight itself
        x_label = "pred"
        lo, hi = _value_range(pred, spec.pred_kind)
        if scalar:
            with _quiet():
                g = torch.linspace(lo, hi, grid, dtype=torch.float64)
                _, l_g, d_g = _run(result, g, None)
                frames.append(_curve_rows(g, l_g.reshape(-1), _flat(d_g), "l(w)"))
        frames.append(_points_frame(flat_pred, flat_loss, point_grad, [msg("plots.your_data")] * len(keep)))
        return AroundPlot(pd.concat(frames, ignore_index=True), x_label, 0, 0, legend=msg("plots.legend_loss"))
    if spec.pred_kind == "values" and spec.target_kind == "values":  # regression: loss vs d = ŷ − y
        x_label = "d = ŷ − y"
        d = flat_pred - flat_target.double()
        lo, hi = _value_range(d, "values")
        lo, hi = min(lo, -hi), max(hi, -lo)
        if scalar:
            with _quiet():
                g = torch.linspace(lo, hi, grid, dtype=torch.float64)
                _, l_g, d_g = _run(result, g, torch.zeros_like(g))
                frames.append(_curve_rows(g, l_g.reshape(-1), _flat(d_g), spec.title))
        frames.append(_points_frame(d, flat_loss, point_grad, [msg("plots.your_data")] * len(keep)))
        return AroundPlot(pd.concat(frames, ignore_index=True), x_label, 0, 0, legend=msg("plots.legend_loss"))
    # classification-like: one curve per target value, vs p_t when the loss writes it, else vs pred
    pt = _pt_step(result.steps, tuple(loss.shape))
    x_label = "p_t" if pt is not None else "pred"
    x_points = pt.value.double().reshape(-1)[keep] if pt is not None else flat_pred
    values = torch.unique(flat_target.double())
    labels = [_label(float(v)) for v in flat_target.double()]
    if scalar and values.numel() <= 4:
        lo, hi = _value_range(pred, spec.pred_kind)
        g = torch.linspace(lo, hi, grid, dtype=torch.float64)
        for v in values.tolist():
            with _quiet():
                t = torch.full_like(g, v, dtype=target.dtype if not target.is_floating_point() else torch.float64)
                trace, l_g, d_g = _run(result, g, t)
                x_g = _curve_x(trace, g) if pt is not None else g
                frames.append(_curve_rows(x_g, l_g.reshape(-1), _flat(d_g), _label(v)))
    frames.append(_points_frame(x_points, flat_loss, point_grad, [msg("plots.your_data_at", label=lab) for lab in labels]))
    return AroundPlot(pd.concat(frames, ignore_index=True), x_label, 0, 0, legend=msg("plots.legend_target"),
                      probabilities=spec.pred_kind == "probabilities")


def _class_wise(result: Result, pred: torch.Tensor, target: torch.Tensor, loss: torch.Tensor, keep: torch.Tensor,
                grid: int) -> AroundPlot | None:
    """Class losses: pred (N, C, ...) and integer targets (N, ...): the loss of a sample as its
    true-class logit (score) varies, the others fixed."""
    moved = pred.movedim(1, -1) if pred.dim() > 1 else pred.unsqueeze(0)
    rows = moved.reshape(-1, moved.shape[-1])
    flat_t = target.reshape(-1).long()
    flat_loss = loss.reshape(-1)
    classes = rows.shape[-1]
    valid = (flat_t >= 0) & (flat_t < classes)  # ignore_index entries have no true class
    keep = keep[valid[keep]]
    if keep.numel() == 0:
        return None
    true_logit = rows[keep, flat_t[keep]]
    pt = _pt_step(result.steps, tuple(loss.shape))
    x_label = "p_t" if pt is not None else "x_y"
    x_points = pt.value.double().reshape(-1)[keep] if pt is not None else true_logit
    frames: list[pd.DataFrame] = []
    # (C,), (N, C) or (N, C, d...): rerun position n's class scores as one (C,) row with its true-class logit on
    # a grid (each position of a class loss is a sample of its own)
    for n in keep[:CLASS_CURVES].tolist():
        with _quiet():
            y = int(flat_t[n])
            centre = float(rows[n, y])
            g = torch.linspace(centre - 6, centre + 6, grid, dtype=torch.float64)
            batch = rows[n].repeat(grid, 1)
            batch[:, y] = g
            trace, l_g, d_g = _run(result, batch, torch.full((grid,), y, dtype=target.dtype))
            x_g = _curve_x(trace, g) if pt is not None else g
            d_y = d_g[:, y] if d_g is not None and d_g.shape == batch.shape else None
            frames.append(_curve_rows(x_g, l_g.reshape(-1), d_y, msg("plots.sample", n=n, y=y)))
    frames.append(_points_frame(x_points, flat_loss[keep], None, [msg("plots.your_data")] * len(keep)))
    return AroundPlot(pd.concat(frames, ignore_index=True), x_label, 0, 0, legend=msg("plots.legend_sample"))


def _curve_x(trace: Any, grid_values: torch.Tensor) -> torch.Tensor:
    """The p_t axis of a grid run: its p_t step's values, one per grid point (a run without one raises, so that
    `_quiet` skips the curve)."""
    step = _pt_step(trace.steps, tuple(grid_values.shape))
    if step is None:
        raise ValueError("no p_t")
    return step.value.double().reshape(-1)


def _flat(t: torch.Tensor | None) -> torch.Tensor | None:
    return t.detach().double().reshape(-1) if t is not None else None


class _quiet:
    """Skip a curve whose grid run fails (e.g. a parameter tied to the input's shape): points stay."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        return exc_type is not None and issubclass(exc_type, ValueError | RuntimeError | KeyError | IndexError |
                                                   TypeError)


PERCENTILES = (2.0, 98.0)  # the bulk of a curve (or of many points) that an axis shows
MANY_POINTS = 20           # from this many points on, an axis shows their bulk, not their extremes
REACH = 1.0                # an axis reaches at most this many curve spans beyond the curves


def axis_range(curve: Any, points: Any) -> tuple[float, float]:
    """A y range for curves and the user's points: the bulk of the curves (2nd to 98th percentile) and the points
    (all of a few, the bulk of many), at most REACH curve spans beyond the curves, padded by 8 %. So a curve that
    runs off to infinity at an edge (BCE's derivative at p → 0) or one extreme element does not flatten the rest
    (the chart clips what lies outside).

    >>> axis_range([0.0, 1.0, 2.0], [-30_000.0])
    (-2.1872, 2.2672)
    """
    c = np.asarray(curve, dtype=float)
    p = np.asarray(points, dtype=float)
    c, p = c[np.isfinite(c)], p[np.isfinite(p)]
    lo, hi = math.inf, -math.inf
    if c.size:
        lo, hi = (float(v) for v in np.percentile(c, PERCENTILES))
    if p.size:
        p_lo, p_hi = ((float(v) for v in np.percentile(p, PERCENTILES)) if p.size >= MANY_POINTS
                      else (float(p.min()), float(p.max())))
        if c.size:
            span = max(hi - lo, 1e-12)
            p_lo, p_hi = max(p_lo, lo - REACH * span), min(p_hi, hi + REACH * span)
        lo, hi = min(lo, p_lo), max(hi, p_hi)
    if not math.isfinite(lo) or not math.isfinite(hi):
        return 0.0, 1.0
    pad = 0.08 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
    return round(lo - pad, 12), round(hi + pad, 12)


def pin_markers(points: pd.DataFrame, x_range: tuple[float, float], y_range: tuple[float, float], *,
                width: float = 0.012, height: float = 0.05, x: str = "x", y: str = "loss",
                series: str = "series") -> pd.DataFrame:
    """Each point as a small 'V' pin whose tip sits on the point, separated by empty rows, so a line chart
    (one line per series, drawn in the order of x) shows the user's elements as marks on top of the curves.

    A line chart joins a series' rows in the order of x, so two pins whose arms overlap in x would be joined
    into a zig-zag: of points closer than a pin's width in x (many elements) one pin is drawn for the first,
    and a point outside `y_range` (clipped by the chart) gets none."""
    w = width * max(x_range[1] - x_range[0], 1e-12)
    h = height * max(y_range[1] - y_range[0], 1e-12)
    rows: list[dict[str, Any]] = []
    for name, group in points.groupby(series, sort=False):
        ordered = group.sort_values(x)
        xs, ys = ordered[x].to_numpy(dtype=float), ordered[y].to_numpy(dtype=float)
        inside = np.isfinite(xs) & np.isfinite(ys) & (ys >= y_range[0]) & (ys <= y_range[1])
        last = -math.inf
        for px, py in zip(xs[inside], ys[inside], strict=True):
            if px - last < 2.5 * w:  # its arms would cross the last pin's
                continue
            if rows and rows[-1][series] == name:
                rows.append({x: (last + px) / 2, y: None, series: name})
            rows += [{x: px - w, y: py + h, series: name}, {x: px, y: py, series: name},
                     {x: px + w, y: py + h, series: name}]
            last = px
    frame = pd.DataFrame(rows, columns=[x, y, series])
    return frame.astype({x: float, y: float})
