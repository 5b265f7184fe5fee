"""lossapp.plots: the articles' curves (checked against lossapp's own losses and torch) and the loss
around the user's data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

import lossapp
from lossapp import plots


def _curve(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    part = frame[frame["curve"] == label]
    assert len(part) > 10, f"no curve {label!r} in {sorted(set(frame['curve']))}"
    return part


# -- focal loss vs p_t (RetinaNet figure 1) ----------------------------------------------------------


def test_focal_curves_have_the_five_gammas() -> None:
    frame = plots.focal_curves()
    assert list(frame.columns) == ["p_t", "loss", "curve"]
    assert list(dict.fromkeys(frame["curve"])) == ["γ = 0", "γ = 0.5", "γ = 1", "γ = 2", "γ = 5"]


def test_focal_curve_gamma0_is_cross_entropy() -> None:
    ce = _curve(plots.focal_curves(), "γ = 0")
    assert np.allclose(ce["loss"], -np.log(ce["p_t"]), rtol=1e-12, atol=0)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 5.0])
def test_focal_curve_matches_the_focal_loss(gamma: float) -> None:
    """FL(p_t) on the curve equals lossapp's sigmoid focal loss (α off) of a positive with logit
    x = log(p/(1−p)), element by element."""
    curve = _curve(plots.focal_curves([gamma]), f"γ = {gamma:g}")
    p = torch.tensor(curve["p_t"].to_numpy()[::20])
    x = torch.log(p) - torch.log1p(-p)
    result = lossapp.compute("focal", x, torch.ones_like(x), reduction="none", alpha=-1, gamma=gamma,
                             dtype="float64")
    assert np.allclose(curve["loss"].to_numpy()[::20], result.value, rtol=1e-9, atol=1e-12)


def test_focal_curve_with_alpha_scales() -> None:
    plain = _curve(plots.focal_curves([2.0]), "γ = 2")
    weighted = _curve(plots.focal_curves([2.0], alpha=0.25), "γ = 2, α = 0.25")
    assert np.allclose(weighted["loss"].to_numpy(), 0.25 * plain["loss"].to_numpy())


# -- regression losses and derivatives (article 000) -------------------------------------------------


@pytest.mark.parametrize(("beta", "delta"), [(1.0, 1.0), (0.5, 2.0), (0.0, 0.1)])
def test_regression_curves_match_lossapp(beta: float, delta: float) -> None:
    frame = plots.regression_curves(beta, delta)
    checks = {"L1": ("l1", {}), "L2 (MSE)": ("mse", {}), f"Smooth L1 (β = {beta:g})": ("smooth_l1", {"beta": beta}),
              f"Huber (δ = {delta:g})": ("huber", {"delta": delta})}
    for label, (loss, params) in checks.items():
        curve = _curve(frame, label)
        d = torch.tensor(curve["d"].to_numpy())
        result = lossapp.compute(loss, d, torch.zeros_like(d), reduction="none", dtype="float64", **params)
        assert np.allclose(curve["value"].to_numpy(), result.value, rtol=1e-12, atol=1e-12), label


def test_regression_derivatives() -> None:
    frame = plots.regression_curves(0.5, 2.0, derivative=True)
    d = _curve(frame, "L1")["d"].to_numpy()
    assert np.array_equal(_curve(frame, "L1")["value"].to_numpy(), np.sign(d))
    assert np.allclose(_curve(frame, "L2 (MSE)")["value"].to_numpy(), 2 * d)
    assert np.allclose(_curve(frame, "Smooth L1 (β = 0.5)")["value"].to_numpy(), np.clip(d / 0.5, -1, 1))
    assert np.allclose(_curve(frame, "Huber (δ = 2)")["value"].to_numpy(), np.clip(d, -2, 2))


# -- BCE vs p ----------------------------------------------------------------------------------------


def test_bce_curves() -> None:
    frame = plots.bce_curves()
    for y in (1, 0):
        curve = _curve(frame, f"y = {y}")
        p = curve["p"].to_numpy()
        expected = -np.log(p) if y == 1 else -np.log1p(-p)
        assert np.allclose(curve["loss"].to_numpy(), expected, rtol=1e-12)
    # the article's first pixel: p = 0.2947, y = 1 gives −ln 0.2947 = 1.2218
    assert lossapp.compute("bce", "[0.2947]", "[1]").value == pytest.approx(-math.log(0.2947), abs=1e-12)


# -- truncation weights (article 004) ----------------------------------------------------------------


def test_hard_truncation_weights_follow_the_threshold() -> None:
    frame = plots.truncation_curves([0.6], [], y=1)
    hard = _curve(frame, "hard, m = 0.6")
    assert (hard.loc[hard["p"] <= 0.6, "weight"] == 1).all()
    assert (hard.loc[hard["p"] > 0.6, "weight"] == 0).all()
    neg = _curve(plots.truncation_curves([0.6], [], y=0), "hard, m = 0.6")
    assert (neg.loc[neg["p"] < 0.4, "weight"] == 0).all() and (neg.loc[neg["p"] >= 0.4, "weight"] == 1).all()


def test_hard_weights_agree_with_the_truncated_loss() -> None:
    """λ = 0 exactly where lossapp's truncated_ce drops an element."""
    p = torch.tensor([0.3, 0.55, 0.65, 0.9, 0.1, 0.35, 0.45], dtype=torch.float64)
    y = torch.tensor([1, 1, 1, 1, 0, 0, 0], dtype=torch.float64)
    result = lossapp.compute("truncated_ce", p, y, reduction="none", m=0.6, dtype="float64")
    ce = F.binary_cross_entropy(p, y, reduction="none")
    weights = torch.stack([plots.hard_truncation_weight(p[i:i + 1], int(y[i]), 0.6)[0] for i in range(7)])
    assert weights.tolist() == [1, 1, 0, 0, 0, 0, 1]  # negatives below 1 − m = 0.4 are dropped too
    assert torch.allclose(result.value, weights * ce, rtol=1e-12)


def test_soft_truncation_weights() -> None:
    frame = plots.truncation_curves([], [1.0, 5.0, 20.0], y=1)
    for k in (1.0, 5.0, 20.0):
        soft = _curve(frame, f"soft, K = {k:g}")
        p = soft["p"].to_numpy()
        x = np.log(p / (1 - p))
        assert np.allclose(soft["weight"].to_numpy(), 1 / (1 + np.exp(k * x)), rtol=1e-9)
        assert (np.diff(soft["weight"].to_numpy()) <= 0).all()  # decreasing in ŷ for a positive
    # K = 1: σ(−x) = 1 − p, the focal factor with γ = 1 (article 004's remark)
    k1 = _curve(frame, "soft, K = 1")
    assert np.allclose(k1["weight"].to_numpy(), 1 - k1["p"].to_numpy(), rtol=1e-9)


def test_soft_truncation_weights_follow_the_threshold() -> None:
    """The soft weights fall from 1 to 0 around the chosen m (around 1 − m for a negative), not around 0.5."""
    for m in (0.6, 0.8):
        for y, centre in ((1, m), (0, 1 - m)):
            frame = plots.truncation_curves([m], [20.0], y=y)
            soft = _curve(frame, "soft, K = 20")
            crossing = soft["p"].to_numpy()[np.argmin(np.abs(soft["weight"].to_numpy() - 0.5))]
            assert crossing == pytest.approx(centre, abs=2e-3), (m, y, crossing)
    assert plots.curve_set("truncation").frame({"m": 0.8, "K": 20})["y"].tolist() == \
        plots.truncation_curves([0.8], [1.0, 5.0, 20.0])["weight"].tolist()
    two = plots.truncation_curves([0.6, 0.8], [5.0])
    assert {str(c) for c in two["curve"]} == {"hard, m = 0.6", "hard, m = 0.8", "soft, m = 0.6, K = 5",
                                              "soft, m = 0.8, K = 5"}
    p = torch.tensor([0.3, 0.9], dtype=torch.float64)  # m at an end: the hard weights (every sample kept or dropped)
    assert plots.soft_truncation_weight(p, 1, 5.0, 1.0).tolist() == [1.0, 1.0]
    assert plots.soft_truncation_weight(p, 1, 0.0, 0.0).tolist() == [0.0, 0.0]


def test_soft_weight_matches_the_soft_truncated_loss() -> None:
    x = torch.tensor([-2.0, -0.3, 0.0, 0.4, 3.0], dtype=torch.float64)
    result = lossapp.compute("soft_truncated_ce", x, torch.ones_like(x), reduction="none", K=5.0, dtype="float64")
    p = torch.sigmoid(x)
    expected = plots.soft_truncation_weight(p, 1, 5.0) * -torch.log(p)
    assert torch.allclose(result.value, expected, rtol=1e-9)
    for y in (1, 0):  # at another threshold: the curve drawn is the loss's weight
        target = torch.full_like(x, float(y))
        result = lossapp.compute("soft_truncated_ce", x, target, reduction="none", K=5.0, m=0.7, dtype="float64")
        ce = F.binary_cross_entropy(p, target, reduction="none")
        assert torch.allclose(result.value, plots.soft_truncation_weight(p, y, 5.0, 0.7) * ce, rtol=1e-9)


# -- the loss around the user's data -----------------------------------------------------------------


def _on_curve(plot: plots.AroundPlot, series_of_point: str, curve: str) -> None:
    """Every point of `series_of_point` lies on `curve` (linear interpolation of the fine grid)."""
    points = plot.points[plot.points["series"] == series_of_point]
    line = plot.curves[plot.curves["series"] == curve].sort_values("x")
    assert len(points) and len(line)
    interp = np.interp(points["x"].to_numpy(), line["x"].to_numpy(), line["loss"].to_numpy())
    scale = max(1.0, float(line["loss"].abs().max()))
    assert np.allclose(interp, points["loss"].to_numpy(), atol=2e-3 * scale), (interp, points["loss"].to_numpy())


def test_loss_around_regression_is_vs_d() -> None:
    result = lossapp.compute("huber", "[[0.5, -1.2, 2.0], [0.0, 1.5, -0.3]]", "[[0.3, -1.0, 1.0], [0.2, 3.0, -0.3]]")
    plot = plots.loss_around(result)
    assert plot is not None and plot.x_label == "d = ŷ − y" and plot.total == plot.shown == 6
    assert np.allclose(sorted(plot.points["x"]), sorted([0.2, -0.2, 1.0, -0.2, -1.5, 0.0]))
    _on_curve(plot, "your data", "Huber loss")
    # the derivative of Huber is clamp(d, −δ, δ)
    curve = plot.curves
    assert np.allclose(curve["dloss"], np.clip(curve["x"], -1, 1))
    assert np.allclose(plot.points["dloss"], np.clip(plot.points["x"], -1, 1))


def test_loss_around_bce_has_a_curve_per_label() -> None:
    result = lossapp.compute("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]")
    plot = plots.loss_around(result)
    assert plot is not None
    assert set(plot.curves["series"]) == {"y = 0", "y = 1"}
    _on_curve(plot, "your data, y = 1", "y = 1")
    _on_curve(plot, "your data, y = 0", "y = 0")
    assert np.allclose(sorted(plot.points["loss"]), sorted(result.unreduced.tolist()))


def test_loss_around_focal() -> None:
    result = lossapp.compute("focal", "[-1.2, 0.3, 2.0, -0.4]", "[1, 0, 1, 0]")
    plot = plots.loss_around(result)
    assert plot is not None and len(plot.points) == 4
    for y in ("0", "1"):
        _on_curve(plot, f"your data, y = {y}", f"y = {y}")


def test_loss_around_class_loss() -> None:
    result = lossapp.compute("cross_entropy", "[[2.0, 0.5, -1.0], [0.1, 0.2, 3.0], [0.3, 0.3, 0.4]]", "[0, 2, 1]")
    plot = plots.loss_around(result)
    assert plot is not None and len(plot.points) == 3
    assert np.allclose(sorted(plot.points["loss"]), sorted(result.unreduced.tolist()))
    for n in range(3):
        assert (plot.curves["series"] == f"sample {n} (y = {[0, 2, 1][n]})").sum() == plots.GRID


def test_loss_around_large_input_is_downsampled() -> None:
    g = torch.Generator().manual_seed(0)
    pred, target = torch.rand(100_000, generator=g), (torch.rand(100_000, generator=g) > 0.5).double()
    plot = plots.loss_around(lossapp.compute("bce", pred, target))
    assert plot is not None and plot.total == 100_000
    assert plot.shown <= plots.MAX_POINTS and len(plot.points) == plot.shown
    assert plot.note == f"{plot.shown:,} of 100,000 elements shown"


def test_loss_around_none_for_whole_input_losses() -> None:
    result = lossapp.compute("dice", "[[0.9, 0.1], [0.8, 0.3]]", "[[1, 0], [1, 1]]")
    plot = plots.loss_around(result)
    assert plot is None or plot.data.empty or plot.total == result.unreduced.numel()


def test_pin_markers_put_a_v_on_each_point() -> None:
    points = pd.DataFrame({"x": [0.2, 0.6], "loss": [1.0, 0.5], "series": ["your data", "your data"]})
    pins = plots.pin_markers(points, (0.0, 1.0), (0.0, 2.0), width=0.01, height=0.05)
    assert len(pins) == 3 * 2 + 1  # two V's and the gap between them
    tips = pins.iloc[[1, 5]]
    assert tips["x"].tolist() == [0.2, 0.6] and tips["loss"].tolist() == [1.0, 0.5]
    assert math.isnan(pins["loss"].iloc[3])
    assert pins["loss"].iloc[0] == pytest.approx(1.1)


def test_series_labels_are_messages_in_every_language() -> None:
    """The labels a chart shows stay messages by id inside the frames, so the app renders them in its language."""
    from lossapp.i18n import tr

    result = lossapp.compute("bce", "[0.2, 0.7]", "[1, 0]")
    labels = {tr(s, "zh") for s in plots.loss_around(result).data["series"]}
    assert {"你的数据，y = 1", "你的数据，y = 0"} <= labels
    assert {tr(c, "zh") for c in plots.truncation_curves((0.6,), (5.0,))["curve"]} == {"硬截断，m = 0.6", "软截断，K = 5"}


# -- readable charts: no zig-zag, sensible axes, real legend names ------------------------------------------


def _paths(pins: pd.DataFrame) -> list[pd.DataFrame]:
    """The line pieces a chart draws for one series: rows in the order of x, broken at the empty rows."""
    ordered = pins.sort_values("x", kind="stable")
    breaks = ordered["loss"].isna().cumsum()
    return [part.dropna() for _, part in ordered.groupby(breaks) if len(part.dropna())]


def test_many_close_points_give_separate_pins_not_a_zig_zag() -> None:
    """A line chart joins a series' rows in the order of x: each piece must be one V (3 rows), however many and
    however close the points are."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2_000, generator=g).numpy()
    points = pd.DataFrame({"x": x, "loss": -np.log(x), "series": "your data"})
    pins = plots.pin_markers(points, (0.0, 1.0), (0.0, 5.0))
    pieces = _paths(pins)
    assert 20 < len(pieces) < 100  # thinned: one pin per pin width
    for piece in pieces:
        assert len(piece) == 3 and piece["loss"].iloc[1] < piece["loss"].iloc[0] == piece["loss"].iloc[2]
    assert pins["loss"].max() <= 5.0 + 0.05 * 5.0  # points off the axis (clipped) get no pin


def test_the_derivative_axis_keeps_a_sensible_range() -> None:
    """BCE's derivative runs to -1/p: an element at p = 1e-4 does not stretch the axis to -10,000."""
    result = lossapp.compute("bce", [1e-4, *np.linspace(0.05, 0.95, 40).tolist()], [1.0] * 41)
    plot = plots.loss_around(result)
    low, high = plots.axis_range(plot.curves["dloss"], plot.points["dloss"])
    assert -250 < low < high < 10  # the bulk of the curve (its 2nd percentile: p ≈ 0.02) and one span more
    assert plots.axis_range([], []) == (0.0, 1.0)
    assert plots.axis_range([1.0, 2.0], [1.5]) == pytest.approx((0.9432, 2.0568))  # 1.02..1.98, padded by 8 %


def test_a_probability_axis_runs_over_0_to_1() -> None:
    focal = plots.loss_around(lossapp.compute("focal", "[0.45, 0.7]", "[1, 0]"))
    assert focal.x_label == "p_t" and focal.x_limits == (0.0, 1.0)
    bce = plots.loss_around(lossapp.compute("bce", "[0.2, 0.7]", "[1, 0]"))
    assert bce.x_label == "pred" and bce.x_limits == (0.0, 1.0)
    huber = plots.loss_around(lossapp.compute("huber", "[0.5, 3.0]", "[0.0, 1.0]"))
    assert huber.x_limits is None


def test_cross_entropy_on_n_c_d1_d2_draws_curves() -> None:
    g = torch.Generator().manual_seed(1)
    pred, target = torch.randn(2, 3, 2, 2, generator=g), torch.randint(0, 3, (2, 2, 2), generator=g)
    result = lossapp.compute("cross_entropy", pred, target)
    plot = plots.loss_around(result)
    assert plot is not None and len(plot.points) == 8
    curves = plot.curves
    assert curves["series"].nunique() == plots.CLASS_CURVES and len(curves) == plots.CLASS_CURVES * plots.GRID
    # each curve passes through its position's own loss at the position's own true-class logit
    rows = pred.movedim(1, -1).reshape(-1, 3).double()
    for n in range(plots.CLASS_CURVES):
        y = int(target.reshape(-1)[n])
        line = curves[curves["series"] == f"sample {n} (y = {y})"]
        at = np.interp(float(rows[n, y]), line["x"].to_numpy(), line["loss"].to_numpy())
        assert at == pytest.approx(float(result.unreduced.reshape(-1)[n]), abs=2e-3)


def test_legends_name_what_the_series_are_in_both_languages() -> None:
    from lossapp.i18n import tr

    cases = {"bce": ("[0.2, 0.7]", "[1, 0]", "target", "目标值"),
             "cross_entropy": ("[[1.0, 0.5, -1.0]]", "[0]", "sample", "样本"),
             "huber": ("[0.5, 3.0]", "[0.0, 1.0]", "loss", "损失")}
    for loss, (pred, target, en, zh) in cases.items():
        plot = plots.loss_around(lossapp.compute(loss, pred, target))
        assert (tr(plot.legend, "en"), tr(plot.legend, "zh")) == (en, zh)


# -- the pictures by name (CURVE_SETS; python -m lossapp curves) --------------------------------------------

def test_curve_sets_draw_what_the_curve_functions_draw() -> None:
    focal = plots.curve_set("focal").frame({"gamma": 3})
    expected = plots.focal_curves([*plots.FOCAL_GAMMAS, 3.0], None)
    assert list(focal.columns) == ["x", "y", "curve"]
    assert focal["y"].tolist() == expected["loss"].tolist() and focal["curve"].tolist() == expected["curve"].tolist()
    regression = plots.curve_set("regression").frame({"beta": 0.5, "derivative": "true"})
    assert regression["y"].tolist() == plots.regression_curves(0.5, 1.0, derivative=True)["value"].tolist()
    truncation = plots.curve_set("truncation").frame({"m": 0.7, "K": 20, "y": 0})
    assert truncation["y"].tolist() == plots.truncation_curves([0.7], [1.0, 5.0, 20.0], y=0)["weight"].tolist()
    assert plots.curve_set("bce").frame()["y"].tolist() == plots.bce_curves()["loss"].tolist()


def test_a_loss_names_its_picture_on_its_spec() -> None:
    assert plots.curve_set("nn.SmoothL1Loss") is plots.CURVE_SETS["regression"]
    assert plots.curve_set("soft_truncated_ce") is plots.CURVE_SETS["truncation"]
    assert plots.curve_set("FOCAL") is plots.CURVE_SETS["focal"]
    drawn = {name for name, spec in lossapp.LOSSES.items() if spec.curves is not None}
    assert {"l1", "mse", "smooth_l1", "huber", "bce", "focal", "truncated_ce"} <= drawn
    assert all(lossapp.LOSSES[name].curves in plots.CURVE_SETS for name in drawn)


@pytest.mark.parametrize("name,params,match", [
    ("dice", {}, "a loss that has one .* got dice, which has none"),
    ("nonsense", {}, "expected a picture .* got 'nonsense'"),
    ("focal", {"beta": 1}, "unknown parameter 'beta'"),
    ("truncation", {"y": 2}, "expected one of 1, 0"),
])
def test_bad_curve_requests_are_input_errors(name: str, params: dict, match: str) -> None:
    from lossapp.i18n import has_zh
    from lossapp.inputs import InputError

    with pytest.raises(InputError, match=match) as info:
        plots.curve_set(name).frame(params)
    assert has_zh(info.value)
