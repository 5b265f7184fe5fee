"""The interval enclosure: outward-rounded interval arithmetic contains the exact result (checked with
mpmath at 60 digits, and against mpmath.iv's own interval arithmetic as an independent oracle: ours contains
its interval and is not much wider), the input box contains every number the written decimals stand for, every
registered loss declares its enclosure on its spec, and for every loss the enclosure contains the computed
value of random small inputs and random points inside the box evaluate inside it (the golden BCE case
included)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from decimal import Decimal, localcontext

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from mpmath import iv as mpi
from point_cases import MODES, POINT_CASES, case_id, point_inputs
from spec_exceptions import spec_cases

import lossapp
from lossapp.i18n import has_zh
from lossapp.inputs import TensorInput
from lossapp.interval import (
    NOT_ESTABLISHED,
    POINT_METHOD,
    IntervalFormula,
    Iv,
    enclose,
    interval_formula,
    is_label_like,
    log_softmax_iv,
    monotone,
    no_enclosure,
    point_bound,
    point_error_value,
    rounding_box,
    sum_parts_bound,
    target_is_exact,
)
from lossapp.losses.truncated import soft_threshold_logit
from lossapp.trace import Trace

mpmath.mp.dps = 60
F64 = torch.float64
# The step functions evaluate in float64: a point's computed loss may sit this far (relative) from its exact
# value, so the property tests allow it — the enclosure itself is of the exact value.
EVAL_RTOL = 1e-12


def _inside(exact: mpmath.mpf, iv: Iv, i: int = 0) -> bool:
    lo, hi = float(iv.lo.reshape(-1)[i]), float(iv.hi.reshape(-1)[i])
    return mpmath.mpf(lo) <= exact <= mpmath.mpf(hi)


finite = st.floats(min_value=-50, max_value=50, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1e-6, max_value=50, allow_nan=False, allow_infinity=False)


def _interval(a: float, b: float) -> Iv:
    lo, hi = min(a, b), max(a, b)
    return Iv(torch.tensor([lo], dtype=F64), torch.tensor([hi], dtype=F64))


def _point_in(iv: Iv, u: float) -> float:
    lo, hi = float(iv.lo[0]), float(iv.hi[0])
    return min(max(lo + (hi - lo) * u, lo), hi)


unit = st.floats(min_value=0, max_value=1)


@settings(max_examples=60, deadline=None)
@given(finite, finite, finite, finite, unit, unit)
def test_arithmetic_contains_the_exact_result(a: float, b: float, c: float, d: float, u: float, v: float) -> None:
    x, y = _interval(a, b), _interval(c, d)
    px, py = _point_in(x, u), _point_in(y, v)
    mx, my = mpmath.mpf(px), mpmath.mpf(py)
    assert _inside(mx + my, x + y)
    assert _inside(mx - my, x - y)
    assert _inside(mx * my, x * y)
    if not (float(y.lo[0]) <= 0 <= float(y.hi[0])):
        assert _inside(mx / my, x / y)
    assert _inside(abs(mx), x.abs())
    assert _inside(mx * mx, x.sqr())
    assert _inside(mpmath.exp(mx), x.exp())
    assert _inside(mpmath.log(1 + mpmath.exp(mx)), x.softplus())
    assert _inside(1 / (1 + mpmath.exp(-mx)), x.sigmoid())
    assert _inside(max(mx, mpmath.mpf(0)), x.relu())


@settings(max_examples=60, deadline=None)
@given(positive, positive, unit, st.floats(min_value=0, max_value=5))
def test_functions_on_positive_intervals(a: float, b: float, u: float, g: float) -> None:
    x = _interval(a, b)
    px = mpmath.mpf(_point_in(x, u))
    assert _inside(mpmath.log(px), x.log())
    assert _inside(mpmath.sqrt(px), x.sqrt())
    assert _inside(px ** mpmath.mpf(g), x.pow(g))
    assert _inside(px * mpmath.log(px), x.xlogx())
    assert _inside(mpmath.log(1 + px), x.log1p())


# -- mpmath.iv as an independent oracle: on small boxes (rounding boxes), each operation's interval contains the one
# mpmath's interval arithmetic gives (at 200 bits, rounded outward by mpmath itself) and is at most a little wider:
# TIGHT relative to mpmath's width plus ULPS_SLACK units in the last place of the result (our outward rounding moves
# each bound of exp, sigmoid, softplus by up to 4 × its nominal 4 or 8 ulps, in one cheap multiplication).

mpi.prec = 200
TIGHT = 1e-9
ULPS_SLACK = 128


def _box(centre: float, decimals: int) -> tuple[Iv, mpi.mpf]:
    """The rounding box of `centre` written to `decimals` decimals, as our Iv and as mpmath's interval (the same
    two float bounds)."""
    half = 0.5 * 10.0 ** -decimals
    lo, hi = centre - half, centre + half
    return Iv(torch.tensor([lo], dtype=F64), torch.tensor([hi], dtype=F64)), mpi.mpf([lo, hi])


def _encloses_tightly(ours: Iv, theirs: mpi.mpf, ulps: float = ULPS_SLACK, error_bound: float = 0.0) -> None:
    """`error_bound`: an operation's own proven absolute rounding error each way (a sum's depends on the size of
    its terms, not of its result), on top of `ulps` units in the last place of the result."""
    lo, hi = float(ours.lo.reshape(-1)[0]), float(ours.hi.reshape(-1)[0])
    assert mpmath.mpf(lo) <= theirs.a and theirs.b <= mpmath.mpf(hi), (lo, hi, theirs)
    width = float(theirs.b) - float(theirs.a)
    slack = ulps * math.ulp(max(abs(lo), abs(hi), 1e-300)) + 2 * error_bound
    assert hi - lo <= width * (1 + TIGHT) + slack, (hi - lo, width)


centres = st.floats(min_value=-30, max_value=30, allow_nan=False, allow_infinity=False)
small_decimals = st.integers(min_value=0, max_value=8)


@settings(max_examples=80, deadline=None)
@given(centres, small_decimals, centres, small_decimals)
def test_mpmath_iv_oracle_elementary_functions(c: float, d: int, c2: float, d2: int) -> None:
    x, mx = _box(c, d)
    y, my = _box(c2, d2)
    _encloses_tightly(x.exp(), mpi.exp(mx))
    _encloses_tightly(x.sigmoid(), 1 / (1 + mpi.exp(-mx)))
    _encloses_tightly(x.softplus(), mpi.log(1 + mpi.exp(mx)))
    _encloses_tightly(x + y, mx + my)
    _encloses_tightly(x - y, mx - my)
    _encloses_tightly(x * y, mx * my)
    _encloses_tightly(x.sqr(), mx ** 2)
    if not (float(y.lo[0]) <= 0 <= float(y.hi[0])):
        _encloses_tightly(x / y, mx / my)
    if float(x.lo[0]) > 0:
        _encloses_tightly(x.log(), mpi.log(mx))
        _encloses_tightly(x.sqrt(), mpi.sqrt(mx))
        _encloses_tightly(x.pow(2.5), mx ** mpi.mpf(2.5))
    if float(x.lo[0]) > -1:
        _encloses_tightly(x.log1p(), mpi.log1p(mx))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(centres, small_decimals), min_size=1, max_size=40))
def test_mpmath_iv_oracle_sums(entries: list[tuple[float, int]]) -> None:
    boxes = [_box(c, d) for c, d in entries]
    ours = Iv(torch.cat([b.lo for b, _ in boxes]), torch.cat([b.hi for b, _ in boxes]))
    theirs = mpi.mpf(0)
    for _, m in boxes:
        theirs += m
    magnitude = sum(max(abs(float(b.lo[0])), abs(float(b.hi[0]))) for b, _ in boxes)
    # Iv.sum's error bound, 2(n + 1)·2⁻⁵³·Σ|x| each way: in the size of the terms, not of the (maybe cancelling) sum
    bound = 2 * (len(boxes) + 2) * 2.0 ** -53 * magnitude
    _encloses_tightly(ours.sum(), theirs, error_bound=bound)
    _encloses_tightly(ours.mean(), theirs / len(boxes), error_bound=bound / len(boxes))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=30), st.lists(unit, min_size=30, max_size=30))
def test_sum_contains_the_exact_sum(pairs: list[tuple[float, float]], us: list[float]) -> None:
    lo = torch.tensor([min(p) for p in pairs], dtype=F64)
    hi = torch.tensor([max(p) for p in pairs], dtype=F64)
    iv = Iv(lo, hi)
    points = [float(lo[i]) + (float(hi[i]) - float(lo[i])) * us[i] for i in range(len(pairs))]
    points = [min(max(p, float(lo[i])), float(hi[i])) for i, p in enumerate(points)]
    assert _inside(mpmath.fsum(mpmath.mpf(p) for p in points), iv.sum())
    assert _inside(mpmath.fsum(mpmath.mpf(p) for p in points) / len(points), iv.mean())


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=8), st.floats(min_value=1e-3, max_value=10))
def test_regression_enclosures_contain_their_exact_value(pairs: list[tuple[float, float]], threshold: float) -> None:
    """Exact inputs (decimals unknown: a point box, one evaluation of g(|d|)) and the same inputs written with 3 decimals (g at
    both ends of |d|'s interval): the enclosure contains the exact mean of g(|x − y|)."""
    x = torch.tensor([p[0] for p in pairs], dtype=F64)
    y = torch.tensor([p[1] for p in pairs], dtype=F64)
    for name, params, g in (
            ("mse", {}, lambda a: a * a),
            ("smooth_l1", {"beta": threshold}, lambda a: a * a / (2 * threshold) if a < threshold else a - threshold / 2),
            ("huber", {"delta": threshold}, lambda a: a * a / 2 if a < threshold else threshold * (a - threshold / 2))):
        e = enclose(lossapp.compute(name, TensorInput(x, None), TensorInput(y, None), **params))  # decimals unknown
        exact = mpmath.fsum(g(abs(mpmath.mpf(a) - mpmath.mpf(b))) for a, b in pairs) / len(pairs)
        assert e.point and mpmath.mpf(e.lo) <= exact <= mpmath.mpf(e.hi), (name, e.lo, e.hi)
        written = [(f"{a:.3f}", f"{b:.3f}") for a, b in pairs]
        e = enclose(lossapp.compute(name, "[" + ", ".join(a for a, _ in written) + "]",
                                    "[" + ", ".join(b for _, b in written) + "]", **params))
        exact = mpmath.fsum(g(abs(mpmath.mpf(a) - mpmath.mpf(b))) for a, b in written) / len(pairs)
        assert not e.point and mpmath.mpf(e.lo) <= exact <= mpmath.mpf(e.hi), (name, e.lo, e.hi)


def test_log_softmax_range_is_reached_at_the_corners() -> None:
    z = Iv(torch.tensor([[1.0, 2.0, -0.5]], dtype=F64), torch.tensor([[1.1, 2.05, -0.4]], dtype=F64))
    out = log_softmax_iv(z)
    gen = torch.Generator().manual_seed(0)
    for _ in range(200):
        u = torch.rand(z.lo.shape, generator=gen, dtype=F64)
        point = z.lo + (z.hi - z.lo) * u
        lp = torch.log_softmax(point, -1)
        assert bool((lp >= out.lo - 1e-15).all()) and bool((lp <= out.hi + 1e-15).all())
    # the bounds are attained (tight): the corner (z_0 low, others high) gives the lower bound of class 0
    corner = torch.tensor([[1.0, 2.05, -0.4]], dtype=F64)
    assert math.isclose(float(torch.log_softmax(corner, -1)[0, 0]), float(out.lo[0, 0]), rel_tol=1e-13)


def test_monotone_uses_the_right_corners() -> None:
    box = Iv(torch.tensor([0.0, 0.0], dtype=F64), torch.tensor([1.0, 2.0], dtype=F64))
    out = monotone(lambda v: v[0:1] - v[1:2], box, torch.tensor([1.0, -1.0], dtype=F64))
    assert float(out.lo[0]) <= -2.0 <= float(out.lo[0]) + 1e-15
    assert float(out.hi[0]) - 1e-15 <= 1.0 <= float(out.hi[0])


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=-99999, max_value=99999), st.integers(min_value=0, max_value=8))
def test_rounding_box_contains_the_written_decimal_range(mantissa: int, decimals: int) -> None:
    text = format(Decimal(mantissa).scaleb(-decimals), "f") if decimals else f"{mantissa}.0"
    decimals = decimals or 1
    written = lossapp.inputs.read_tensor(text, "x")
    box = rounding_box(written.values.double(), written.decimals)
    exact = Decimal(text)
    half = Decimal(5).scaleb(-(decimals + 1))
    lo, hi = Decimal(float(box.lo.reshape(-1)[0])), Decimal(float(box.hi.reshape(-1)[0]))
    assert lo <= exact - half and exact + half <= hi
    # and it is not wasteful: within 1e-12 relative of the exact box
    assert hi - lo <= 2 * half + Decimal("1e-12") * (abs(exact) + 1)


def test_rounding_box_integers_are_exact_and_domains_clip() -> None:
    t = lossapp.inputs.read_tensor("[1, 0, 3]", "t")
    box = rounding_box(t.values, t.decimals)
    assert torch.equal(box.lo, box.hi)
    p = lossapp.inputs.read_tensor("[1.0, 0.00]", "p")
    box = rounding_box(p.values, p.decimals, low=0.0, high=1.0)
    assert box.hi.tolist() == [1.0, pytest.approx(0.005)]
    assert box.lo.tolist()[1] == 0.0
    assert is_label_like(torch.tensor([1.0, 0.0])) and not is_label_like(torch.tensor([0.9, 0.1]))


def test_golden_bce_interval() -> None:
    """Article 002: BCE on [0.2947, 0.5898, 0.4863] vs [1, 0, 0] = 0.926341, attainable 0.92621..0.92647."""
    r = lossapp.compute("bce", "[0.2947, 0.5898, 0.4863]", "[1, 0, 0]")
    e = enclose(r)
    assert e.sound and not e.point
    assert e.lo == pytest.approx(0.92621, abs=1e-5) and e.hi == pytest.approx(0.92647, abs=1e-5)
    # the exact range: −(log p_0 + log(1 − p_1) + log(1 − p_2)) / 3 at the corners of the box
    lo = -(math.log(0.29475) + math.log(1 - 0.58975) + math.log(1 - 0.48625)) / 3
    hi = -(math.log(0.29465) + math.log(1 - 0.58985) + math.log(1 - 0.48635)) / 3
    assert e.lo <= lo < e.lo + 1e-12 and e.hi - 1e-12 < hi <= e.hi


SPECS = list(lossapp.LOSSES.values())
CASES = [(s.name, r) for s in SPECS for r in s.reductions if r != "none"]


def _sample(result: lossapp.Result, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A random point of the input box, in the domain the loss accepts."""
    spec, params = result.spec, result.params
    x = result.pred.values.double()
    box = rounding_box(x, result.pred.decimals)
    u = torch.rand(x.shape, generator=gen, dtype=F64)
    point = box.lo + (box.hi - box.lo) * u
    takes_probabilities = params.get("input") == "probabilities" or (
        spec.pred_kind == "probabilities" and params.get("activation", "none") == "none")
    if takes_probabilities:
        point = point.clamp(0, 1)
    if spec.pred_kind == "log_probabilities" or params.get("input") == "log_probabilities":
        point = point.clamp(max=0)
    t = result.target.values if result.target is not None else None
    if t is not None and not target_is_exact(spec.target_kind, t) and spec.target_kind not in ("signs", "classes"):
        tb = rounding_box(t, result.target.decimals)
        t = tb.lo + (tb.hi - tb.lo) * torch.rand(t.shape, generator=gen, dtype=F64)
        if spec.target_kind in ("probabilities", "binary", "classes_or_probabilities"):
            t = t.clamp(0, 1)
    return point, t


@pytest.mark.parametrize(("name", "reduction"), CASES)
def test_random_points_of_the_box_evaluate_inside_the_enclosure(name: str, reduction: str) -> None:
    spec = lossapp.LOSSES[name]
    ex = spec.example
    r = lossapp.compute(name, ex["pred"], ex.get("target"), reduction=reduction, **ex.get("params", {}))
    e = enclose(r)
    assert e.sound, e.note
    assert e.lo <= r.value <= e.hi
    gen = torch.Generator().manual_seed(hash((name, reduction)) % 2**31)
    for _ in range(25):
        x, t = _sample(r, gen)
        v = float(spec.steps(Trace(), x, t, r.params, reduction))
        slack = EVAL_RTOL * max(1.0, abs(v))
        assert e.lo - slack <= v <= e.hi + slack, (v, e.lo, e.hi)


def _decimal_list(values: list[float], digits: int) -> str:
    return "[" + ", ".join(f"{v:.{digits}f}" for v in values) + "]"


def _written(values: torch.Tensor, digits: int) -> str:
    """A tensor as text with `digits` decimals (nested lists)."""
    if values.dim() == 0:
        return f"{float(values):.{digits}f}"
    return "[" + ", ".join(_written(row, digits) for row in values) + "]"


def _random_like_example(spec: lossapp.registry.LossSpec, gen: torch.Generator) -> tuple[str | None, str | None]:
    """Random small inputs shaped like the spec's example and in its domain, written to 1-4 decimals: predictions
    of the example's kind; targets that are labels (class indices, 0/1, ±1) kept, rounded measurements redrawn."""
    ex, params = spec.example, spec.example.get("params", {})
    if ex["pred"] is None:
        return None, None
    x = lossapp.inputs.read_tensor(ex["pred"], "pred").values.double()
    digits = int(torch.randint(1, 5, (), generator=gen))
    noise = torch.randn(x.shape, generator=gen, dtype=F64)
    cd = 1 if x.dim() > 1 else 0
    if spec.pred_kind == "log_probabilities" or params.get("input") == "log_probabilities":
        x = torch.log_softmax(noise, cd).clamp(max=-10.0 ** -digits)
    elif (spec.pred_kind == "probabilities" and params.get("activation", "none") == "none") or \
            params.get("input") == "probabilities":
        x = torch.rand(x.shape, generator=gen, dtype=F64) * 0.9 + 0.05
    else:
        x = 2 * noise
    target = ex.get("target")
    if target is not None:
        t = lossapp.inputs.read_tensor(target, "target").values
        if t.is_floating_point() and not is_label_like(t) and spec.target_kind != "signs":
            t = torch.softmax(torch.randn(t.shape, generator=gen, dtype=F64), cd) if spec.target_kind == "probabilities" \
                else torch.randn(t.shape, generator=gen, dtype=F64)
            target = _written(t, digits)
    return _written(x, digits), target


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_every_enclosure_contains_the_value_of_random_small_inputs(spec: lossapp.registry.LossSpec, seed: int) -> None:
    """Registry-wide: the enclosure the spec declares is established on random small inputs of its kinds, contains
    the computed value, and contains the loss at random points of the input box."""
    gen = torch.Generator().manual_seed(seed)
    pred, target = _random_like_example(spec, gen)
    r = lossapp.compute(spec.name, pred, target, **spec.example.get("params", {}))
    e = enclose(r)
    assert e.sound, e.note
    assert e.lo <= r.value <= e.hi
    if r.pred is None:
        return
    for _ in range(10):
        x, t = _sample(r, gen)
        v = float(spec.steps(Trace(), x, t, r.params, r.reduction))
        slack = EVAL_RTOL * max(1.0, abs(v))
        assert e.lo - slack <= v <= e.hi + slack, (v, e.lo, e.hi)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(min_value=0.01, max_value=0.99), min_size=1, max_size=6), st.integers(1, 4),
       st.data())
def test_bce_random_inputs_enclose_random_points(ps: list[float], digits: int, data: st.DataObject) -> None:
    ys = data.draw(st.lists(st.sampled_from([0, 1]), min_size=len(ps), max_size=len(ps)))
    r = lossapp.compute("bce", _decimal_list(ps, digits), str(ys))
    e = enclose(r)
    assert e.sound
    gen = torch.Generator().manual_seed(len(ps) * 10 + digits)
    for _ in range(10):
        x, t = _sample(r, gen)
        v = float(r.spec.steps(Trace(), x, t, r.params, "mean"))
        assert e.lo - EVAL_RTOL <= v <= e.hi + EVAL_RTOL


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(min_value=-4, max_value=4), min_size=3, max_size=3), st.integers(0, 2), st.integers(1, 3),
       st.floats(min_value=0, max_value=0.3))
def test_cross_entropy_random_inputs(logits: list[float], label: int, digits: int, smoothing: float) -> None:
    text = "[" + _decimal_list(logits, digits) + "]"
    r = lossapp.compute("cross_entropy", text, f"[{label}]", label_smoothing=round(smoothing, 2))
    e = enclose(r)
    assert e.sound
    gen = torch.Generator().manual_seed(label + digits)
    for _ in range(10):
        x, t = _sample(r, gen)
        v = float(r.spec.steps(Trace(), x, t, r.params, "mean"))
        assert e.lo - EVAL_RTOL * max(1, abs(v)) <= v <= e.hi + EVAL_RTOL * max(1, abs(v))


def test_exact_inputs_give_a_point() -> None:
    r = lossapp.compute("l1", "[1, 2, 3]", "[0, 5, 3]")
    e = enclose(r)
    assert e.sound and e.point
    assert e.hi - e.lo < 1e-14 and e.lo <= r.value <= e.hi


def test_confusion_counts_are_exact() -> None:
    r = lossapp.compute("confusion", None, None, tp=20, fp=5, fn=10, tn=65)
    e = enclose(r)
    assert e.sound and e.point and e.lo <= 40 / 55 <= e.hi


def test_confusion_masks_straddling_the_threshold_are_not_established() -> None:
    r = lossapp.compute("confusion", "[0.5, 0.2]", "[1, 0]", metric="dice")
    e = enclose(r)
    assert not e.sound and e.interval is None
    ok = enclose(lossapp.compute("confusion", "[0.9, 0.2]", "[1, 0]", metric="dice"))
    assert ok.sound


def _with_enclosure(result: lossapp.Result, enclosure: IntervalFormula | None) -> lossapp.Result:
    return dataclasses.replace(result, spec=dataclasses.replace(result.spec, enclosure=enclosure))


def test_guard_rejects_a_formula_that_misses_the_value() -> None:
    r = lossapp.compute("mse", "[0.5, 1.5]", "[0.0, 1.0]")
    wrong = interval_formula("a wrong formula")(lambda box: Iv(torch.tensor(5.0, dtype=F64), torch.tensor(6.0, dtype=F64)))
    e = enclose(_with_enclosure(r, wrong))
    assert not e.sound and e.interval is None and "does not contain" in e.note and has_zh(e.note)


def test_losses_without_a_formula_are_not_established() -> None:
    r = lossapp.compute("mse", "[0.5, 1.5]", "[0.0, 1.0]")
    e = enclose(_with_enclosure(r, None))
    assert not e.sound and e.note == NOT_ESTABLISHED
    assert has_zh(NOT_ESTABLISHED)


def test_a_loss_may_declare_that_it_has_no_enclosure() -> None:
    r = lossapp.compute("mse", "[0.5, 1.5]", "[0.0, 1.0]")
    e = enclose(_with_enclosure(r, no_enclosure(lossapp.i18n.msg("interval.not_one_number"))))
    assert not e.sound and e.interval is None and e.note.startswith(NOT_ESTABLISHED) and "not a single number" in e.note
    assert has_zh(e.note)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_every_spec_declares_its_enclosure(spec: lossapp.registry.LossSpec) -> None:
    """Registry-wide: each spec holds its enclosure (an interval formula written next to its steps, with how it is
    formed) or declares that it has none, with the reason."""
    enclosure = spec.enclosure
    assert isinstance(enclosure, IntervalFormula), (
        f"{spec.name}: LossSpec.enclosure is missing; write its formula in interval arithmetic next to its steps "
        f"(@lossapp.interval.interval_formula(method)) or declare lossapp.interval.no_enclosure(reason)")
    assert enclosure.method, f"{spec.name}: the enclosure says neither how it is formed nor why there is none"
    if enclosure.evaluate is None:
        assert has_zh(enclosure.method), f"{spec.name}: the reason it has no enclosure needs its catalog entries"


def test_a_combination_encloses_its_parts_with_their_own_params() -> None:
    """Dice + focal with α-balancing off (alpha < 0): the Dice part takes only its own params (once it refused
    the focal part's negative alpha as a Tversky weight)."""
    ex = lossapp.LOSSES["dice_focal"].example
    r = lossapp.compute("dice_focal", ex["pred"], ex["target"], alpha=-1)
    e = enclose(r)
    assert e.sound, e.note
    assert e.lo <= r.value <= e.hi


def test_reduction_none_is_not_one_number() -> None:
    r = lossapp.compute("mse", "[0.5, 1.5]", "[0.0, 1.0]", reduction="none")
    assert not enclose(r).sound


def test_decimals_from_python_floats_use_their_repr() -> None:
    r = lossapp.compute("mse", [0.25, 1.5], [0.0, 1.0])
    e = enclose(r)
    assert e.sound
    assert np.asarray(r.pred.decimals).tolist() == [2, 1]
    # 0.25 ± 0.005 and 1.5 ± 0.05 against the regression targets 0.0 and 1.0 (written with 1 decimal: ± 0.05)
    assert e.hi >= ((0.255 + 0.05) ** 2 + (0.55 + 0.05) ** 2) / 2 - 1e-12
    assert not target_is_exact("values", r.target.values) and target_is_exact("binary", r.target.values)


# -- the vectorised building blocks ------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(finite, finite)
def test_point_operations_contain_the_exact_result(a: float, b: float) -> None:
    """An exact value (one tensor for both bounds) takes the fast paths; they enclose like the general ones."""
    x, y = Iv(torch.tensor([a], dtype=F64)), Iv(torch.tensor([b], dtype=F64))
    assert x.point and y.point
    mx, my = mpmath.mpf(a), mpmath.mpf(b)
    assert _inside(mx + my, x + y) and _inside(mx - my, x - y) and _inside(mx * my, x * y)
    assert _inside(mx * my, x * torch.tensor([b], dtype=F64)) and _inside(mx * mpmath.mpf(0.3), x * 0.3)
    assert _inside(mx * mx, x.sqr()) and _inside(mpmath.exp(mx), x.exp())
    assert _inside(mpmath.log(1 + mpmath.exp(mx)), x.softplus()) and _inside(1 / (1 + mpmath.exp(-mx)), x.sigmoid())
    assert _inside(abs(mx), x.abs()) and _inside(mx / 3, x / 3.0)
    if a > 0:
        assert _inside(mpmath.log(mx), x.log()) and _inside(mpmath.sqrt(mx), x.sqrt())
        assert _inside(mx * mpmath.log(mx), x.xlogx()) and _inside(mx ** mpmath.mpf(1.5), x.pow(1.5))
    assert monotone(lambda v: v.exp(), x, 1.0).point is False  # evaluated once, then rounded outward


@pytest.mark.parametrize("ulps", [1, 2, 4, 8])
def test_outward_steps_move_at_least_as_far_as_nextafter(ulps: int) -> None:
    from lossapp.interval import _down_nonneg_, _down_ulps_, _up_nonneg_, _up_ulps_, down, up
    tiny = 5e-324
    values = torch.tensor([0.0, tiny, 3 * tiny, 2.2250738585072014e-308, 1e-300, 0.1, 1.0, 1.5, 2.0 - 2 ** -52, 2.0,
                           1e300, 1.7976931348623157e308, math.inf], dtype=F64)
    signed = torch.cat([values, -values])
    assert bool((_down_ulps_(signed.clone(), ulps) <= down(signed, ulps)).all())
    assert bool((_up_ulps_(signed.clone(), ulps) >= up(signed, ulps)).all())
    assert float(_down_ulps_(torch.tensor([math.inf], dtype=F64), ulps)) < math.inf  # +inf may stand for a finite number
    assert bool((_down_nonneg_(values.clone(), ulps) <= down(values, ulps).clamp_min(0)).all())
    assert bool((_up_nonneg_(values.clone(), ulps) >= up(values, ulps)).all())


@pytest.mark.parametrize("classes", [2, 10, 100])
def test_log_softmax_of_many_classes_and_of_one_class_per_row(classes: int) -> None:
    gen = torch.Generator().manual_seed(classes)
    centre = torch.randn(5, classes, generator=gen, dtype=F64) * 3
    z = Iv(centre - 0.05, centre + 0.05)
    out = log_softmax_iv(z)
    for _ in range(100):
        point = centre + (torch.rand(centre.shape, generator=gen, dtype=F64) - 0.5) * 0.1
        lp = torch.log_softmax(point, -1)
        assert bool((lp >= out.lo - 1e-13).all()) and bool((lp <= out.hi + 1e-13).all())
    index = torch.randint(0, classes, (5,), generator=gen)
    picked = log_softmax_iv(z, index=index)
    assert torch.equal(picked.lo, out.lo.gather(-1, index[:, None])[:, 0])
    assert torch.equal(picked.hi, out.hi.gather(-1, index[:, None])[:, 0])
    exact = log_softmax_iv(Iv(centre))  # a point: the bounds are the float64 log-softmax within rounding
    assert torch.allclose(exact.lo, torch.log_softmax(centre, -1), rtol=1e-13, atol=1e-14)
    assert bool((exact.lo <= exact.hi).all())


@pytest.mark.parametrize(("name", "reduction"), spec_cases("test_large_exact_inputs_enclose_the_value_tightly",
                                                          [c for c in CASES if c[1] == "mean"]))
def test_large_exact_inputs_enclose_the_value_tightly(name: str, reduction: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past limits.DECIMALS_MAX_ELEMENTS the decimals are unknown: the box is a point and the enclosure only
    covers float rounding (every fast path of a point box), and it still contains the value."""
    monkeypatch.setattr(lossapp.inputs.limits, "DECIMALS_MAX_ELEMENTS", 200)
    spec = lossapp.LOSSES[name]
    ex = spec.example
    small = lossapp.compute(name, ex["pred"], ex.get("target"), **ex.get("params", {}))
    times = lossapp.inputs.limits.DECIMALS_MAX_ELEMENTS // small.pred.values.numel() + 1
    pred = small.pred.values.repeat(times, *([1] * (small.pred.values.dim() - 1)))
    target = None if small.target is None else \
        small.target.values.repeat(times, *([1] * (small.target.values.dim() - 1)))
    r = lossapp.compute(name, pred, target, **ex.get("params", {}))
    e = enclose(r)
    assert e.sound, e.note
    assert e.lo <= r.value <= e.hi and e.hi - e.lo <= 1e-9 * max(1.0, abs(r.value))


# -- the point fast paths: the same bounds as the general forms ----------------------------------------------------------

SPECIAL = [0.0, -0.0, 1.0, -2.5, 1e-310, -5e-324, 1.7e308, math.inf, -math.inf, math.nan, 0.3]


def test_select_bits_is_torch_where_bit_for_bit() -> None:
    """interval.select_bits (Iv's where, monotone's corners) is torch.where, bit for bit (NaN, ±inf, −0.0 and
    subnormals), broadcast as torch.where broadcasts."""
    from lossapp.interval import select_bits
    g = torch.Generator().manual_seed(0)
    values = torch.tensor(SPECIAL, dtype=torch.float64)
    for shapes in [((6, 1), (1, 5), (6, 5)), ((6, 5), (), (6, 5)), ((5,), (6, 5), (1, 5)), ((6, 5), (6, 5), (6, 1))]:
        a, b = (values[torch.randint(0, len(SPECIAL), s, generator=g)] for s in shapes[:2])
        mask = torch.randint(0, 2, shapes[2], generator=g).bool()
        chosen, expected = select_bits(mask, a, b), torch.where(mask, a, b)
        assert chosen.shape == expected.shape and torch.equal(chosen.view(torch.int64), expected.view(torch.int64))


def test_point_outward_rounding_is_the_general_one() -> None:
    """A point's outward rounding with one step for both bounds (and the infinite case only where an entry is
    infinite) gives the bounds of _down_ulps_ / _up_ulps_ with the masks of the infinite ends."""
    from lossapp.interval import _around_ulps_, _steps_below_inf
    for values in [[0.5, -3.0, 1e-310, 0.0], SPECIAL]:
        t = torch.tensor(values, dtype=torch.float64)
        for ulps in (1, 4, 8):
            step = t.abs().mul_(2 * ulps * 2.0 ** -52).add_(2 * ulps * 2.0 ** -1074)
            lo = (t - step).masked_fill_(t == math.inf, _steps_below_inf(ulps))
            hi = (t + step).masked_fill_(t == -math.inf, -_steps_below_inf(ulps))
            got = _around_ulps_(t.clone(), ulps)
            for a, b in ((got.lo, lo), (got.hi, hi)):
                assert torch.equal(a.view(torch.int64), b.view(torch.int64))


def test_exact_operations_return_the_interval_itself() -> None:
    """x ± 0, x·1, x/1 are x and x·(−1), x/(−1) its negation: no outward step (they are exact)."""
    x = Iv(torch.tensor([-1.5, 0.25]), torch.tensor([-1.0, 0.5]))
    for same in (x + 0.0, x - 0, x * 1.0, x / 1.0):
        assert same is x
    for negated in (x * -1.0, x / -1):
        assert torch.equal(negated.lo, -x.hi) and torch.equal(negated.hi, -x.lo)


def test_l2_penalty_exact_weights_enclosure_holds_at_the_ends_of_the_range() -> None:
    """(λ/2)·w² of exact weights in one evaluation ((w·λ/2)·w): its enclosure holds the exact value where w² alone
    would overflow, where w·λ/2 underflows, and for λ at the smallest value that path takes."""
    from lossapp.interval import Box
    from lossapp.losses.regularization import l2_penalty_enclosure
    for w, lam in [(1.5e154, 0.01), (-1e-200, 0.01), (3.0, 2.0 ** -99), (-2.5, 10.0), (1e-160, 1e-20), (7.0, 0.3)]:
        box = Box(torch.tensor([w, -w], dtype=torch.float64), None, None, None, {"lam": lam}, "sum")
        iv = l2_penalty_enclosure.evaluate(box)
        with localcontext() as exact_arithmetic:
            exact_arithmetic.prec = 1000
            exact = 2 * (Decimal(lam) / 2) * Decimal(w) ** 2  # λ/2 of a float is exact at these λ
            assert Decimal(iv.lo.item()) <= exact <= Decimal(iv.hi.item()), (w, lam)


@pytest.mark.parametrize("params", [{}, {"K": 3.0, "m": 0.7}, {"K": 0.0}, {"K": 40.0, "m": 0.2}])
def test_soft_truncated_exact_labels_enclosure_contains_the_exact_value(params: dict) -> None:
    """soft_truncated_ce on exact logits with 0/1 labels (each term its label's branch σ(K(s + x_m))·softplus(s)):
    the enclosure holds the loss evaluated in 60-digit arithmetic."""
    from lossapp.interval import Box
    from lossapp.losses.truncated import soft_threshold_logit, soft_truncated_enclosure
    x = torch.tensor([-40.0, -3.5, -0.2, 0.0, 1e-9, 0.7, 5.0, 35.0, 0.4, -1.3], dtype=F64)
    y = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0], dtype=F64)
    k, m = params.get("K", 1.0), params.get("m", 0.5)
    xm = soft_threshold_logit(m)
    with mpmath.workdps(60):
        def sig(v: mpmath.mpf) -> mpmath.mpf:
            return 1 / (1 + mpmath.exp(-v))

        def softplus(v: mpmath.mpf) -> mpmath.mpf:
            return mpmath.log(1 + mpmath.exp(v))
        terms = [sig(mpmath.mpf(k) * (s + mpmath.mpf(xm))) * softplus(s)
                 for s in (mpmath.mpf(-xi) if yi == 1 else mpmath.mpf(xi) for xi, yi in zip(x.tolist(), y.tolist(), strict=True))]
        for reduction in ("mean", "sum"):
            iv = soft_truncated_enclosure.evaluate(Box(x, y, None, None, {"K": k, "m": m}, reduction, "binary"))
            exact = mpmath.fsum(terms) / (len(terms) if reduction == "mean" else 1)
            assert mpmath.mpf(iv.lo.item()) <= exact <= mpmath.mpf(iv.hi.item()), reduction


# -- a point box: the a-priori float64 error bound instead of interval arithmetic --------------------------------------

def _interval_arithmetic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every enclosure by the loss's interval formula, as below limits.DECIMALS_MAX_ELEMENTS (no point bound)."""
    monkeypatch.setattr(lossapp.interval, "uses_point_bound", lambda box: False)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", POINT_CASES, ids=[case_id(c) for c in POINT_CASES])
def test_point_bound_contains_the_interval_enclosure(case: tuple[str, dict], mode: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """For a point box the bound [v̂ − E, v̂ + E] (no interval arithmetic) contains the interval formula's own enclosure
    of the same point, for every loss that declares a bound, on random and adversarial inputs, under mean and sum;
    and it is tight enough to be of use (within 10⁻⁹ relative at these sizes; 10⁻⁸ with logits of ±300)."""
    name, params = case
    monkeypatch.setattr(lossapp.inputs.limits, "DECIMALS_MAX_ELEMENTS", 0)
    for seed, reduction in enumerate(("mean",) if "avg_factor" in params else ("mean", "sum")):  # (mean only)
        pred, target = point_inputs(name, params, mode, seed)
        r = lossapp.compute(name, pred, target, reduction=reduction, **params)
        fast = enclose(r)
        with monkeypatch.context() as m:
            _interval_arithmetic(m)
            slow = enclose(r)
        assert slow.sound, slow.note
        assert fast.sound and fast.point and fast.method == POINT_METHOD, (fast.method, fast.note)
        assert fast.lo <= slow.lo and slow.hi <= fast.hi, (reduction, fast, slow)
        assert fast.hi - fast.lo <= (1e-9 if mode == "random" else 1e-8) * max(1.0, abs(r.scalar))


def test_point_bound_is_not_used_below_the_decimals_limit_nor_with_decimals(monkeypatch: pytest.MonkeyPatch) -> None:
    """Up to limits.DECIMALS_MAX_ELEMENTS elements, and for inputs with decimals, the interval formula is used."""
    pred, target = point_inputs("bce", {}, "random", 0)
    assert enclose(lossapp.compute("bce", pred, target)).method != POINT_METHOD
    monkeypatch.setattr(lossapp.inputs.limits, "DECIMALS_MAX_ELEMENTS", 10)
    assert enclose(lossapp.compute("bce", pred, target)).method == POINT_METHOD
    written = TensorInput(pred.double(), np.full(tuple(pred.shape), 4))
    assert enclose(lossapp.compute("bce", written, target)).method != POINT_METHOD


def test_point_bound_declines_outside_its_premises(monkeypatch: pytest.MonkeyPatch) -> None:
    """A weight (whose sign the proof needs), γ in (0, 1) or mixed-sign pos_weight: interval arithmetic as before."""
    monkeypatch.setattr(lossapp.inputs.limits, "DECIMALS_MAX_ELEMENTS", 0)
    pred, target = point_inputs("focal", {}, "random", 0)
    assert enclose(lossapp.compute("focal", pred, target, gamma=0.5)).method != POINT_METHOD
    assert enclose(lossapp.compute("focal", pred, target, weight=torch.ones(2))).method != POINT_METHOD
    assert enclose(lossapp.compute("bce_with_logits", pred, target,
                                   pos_weight=torch.tensor([-1.0, 2.0]))).method != POINT_METHOD
    assert enclose(lossapp.compute("focal", pred, target)).method == POINT_METHOD


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=300),
       st.sampled_from(["sum", "mean"]), st.integers(0, 3))
def test_point_bound_of_a_sum_contains_the_exact_value(terms: list[float], reduction: str, k: int) -> None:
    """point_bound with exact terms (K = 0): the float sum in the worst order (one term at a time) divided by n is
    within the bound of the exact rational Σ/n."""
    from fractions import Fraction
    t = torch.tensor(terms, dtype=F64) * (1 + k * 2.0 ** -52)  # terms of every magnitude and last bit
    n = t.numel()
    total = 0.0
    for v in t.tolist():
        total += v
    value = total / n if reduction == "mean" else total
    exact = sum(Fraction(v) for v in t.tolist()) / (n if reduction == "mean" else 1)
    bound = point_bound(0, 0.0, n, 1.0 if reduction == "mean" else float(n))
    error = point_error_value(value, bound)
    assert abs(Fraction(value) - exact) <= Fraction(error)
    assert sum_parts_bound([(1.0, bound), (0.0, bound)]) is not None


def _exact_point_value(name: str, params: dict, x: list[float], t: list[float], reduction: str) -> mpmath.mpf:
    """The loss of float inputs in 60-digit arithmetic (mpmath): an oracle independent of interval arithmetic."""
    one = mpmath.mpf(1)
    terms = []
    for xi, ti in zip(x, t, strict=True):
        a, y = mpmath.mpf(xi), mpmath.mpf(ti)
        if name == "mse":
            terms.append((a - y) ** 2)
        elif name == "truncated_ce":
            log_p = max(mpmath.log(a), -100) if a > 0 else mpmath.mpf(-100)
            log_q = max(mpmath.log(one - a), -100) if a < 1 else mpmath.mpf(-100)
            m = params.get("m", 0.6)
            kept = not ((ti == 1 and xi > m) or (ti == 0 and xi < 1 - m))
            terms.append(-(y * log_p + (one - y) * log_q) if kept else mpmath.mpf(0))
        elif name == "soft_truncated_ce":
            k, m = mpmath.mpf(params.get("K", 1.0)), params.get("m", 0.5)
            xm = mpmath.mpf(soft_threshold_logit(m))  # the float x_m, as the steps use it

            def sig(v: mpmath.mpf) -> mpmath.mpf:
                return one / (one + mpmath.exp(-v))
            terms.append(-y * sig(-k * (a - xm)) * mpmath.log(sig(a))
                         - (one - y) * sig(k * (a + xm)) * mpmath.log(sig(-a)))
        elif name == "kl_div":
            terms.append(y * (mpmath.log(y) - a) if y > 0 else mpmath.mpf(0))
        else:
            if name == "bce" or params.get("input") == "probabilities":
                log_p = max(mpmath.log(a), -100) if a > 0 else mpmath.mpf(-100)
                log_q = max(mpmath.log(one - a), -100) if a < 1 else mpmath.mpf(-100)
                p = a
            else:
                log_p, log_q = -mpmath.log(one + mpmath.exp(-a)), -mpmath.log(one + mpmath.exp(a))
                p = one / (one + mpmath.exp(-a))
            ce = -(y * log_p + (one - y) * log_q)
            if name == "bce":
                terms.append(ce)
                continue
            alpha, gamma = params.get("alpha", 0.25), params.get("gamma", 2.0)
            p_t = p * y + (one - p) * (one - y)
            alpha_t = alpha * y + (1 - alpha) * (one - y) if alpha >= 0 else one
            terms.append(alpha_t * (one - p_t) ** gamma * ce)
    total = mpmath.fsum(terms)
    return total / len(terms) if reduction == "mean" else total / (len(terms) // 4) if reduction == "batchmean" \
        else total


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "params", "reduction"), [
    ("bce", {}, "mean"), ("mse", {}, "sum"), ("focal", {}, "mean"), ("focal", {"input": "probabilities"}, "sum"),
    ("focal", {"alpha": 0.6, "gamma": 1.5}, "mean"), ("kl_div", {}, "batchmean"), ("truncated_ce", {}, "mean"),
    ("truncated_ce", {"m": 0.9}, "sum"), ("soft_truncated_ce", {}, "mean"),
    ("soft_truncated_ce", {"K": 7.5, "m": 0.6}, "sum")])
def test_point_bound_contains_the_exact_value(name: str, params: dict, reduction: str, mode: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The point bound contains the loss of the float inputs computed in 60-digit arithmetic (mpmath), on random and
    adversarial inputs: an oracle independent of the interval formulas."""
    monkeypatch.setattr(lossapp.inputs.limits, "DECIMALS_MAX_ELEMENTS", 0)
    pred, target = point_inputs(name, params, mode, seed=5, n=240)
    r = lossapp.compute(name, pred, target, reduction=reduction, **params)
    e = enclose(r)
    assert e.method == POINT_METHOD
    exact = _exact_point_value(name, params, pred.double().reshape(-1).tolist(), target.double().reshape(-1).tolist(),
                               reduction)
    assert mpmath.mpf(e.lo) <= exact <= mpmath.mpf(e.hi), (float(exact), e.lo, e.hi)


def _exact_margin_value(name: str, params: dict, pred: torch.Tensor, target: torch.Tensor | None,
                        reduction: str) -> mpmath.mpf:
    """The margin, 0-1 and penalty losses of float inputs in 60-digit arithmetic (mpmath)."""
    x = [[mpmath.mpf(v) for v in row] for row in pred.double().reshape(pred.shape[0], -1).tolist()]
    if name == "multi_margin":
        p, m = params.get("p", 1), mpmath.mpf(params.get("margin", 1.0))
        w = params.get("weight")
        terms = []
        for row, y in zip(x, target.tolist(), strict=True):
            s = mpmath.fsum(max(m - row[y] + v, 0) ** p for i, v in enumerate(row) if i != y)
            terms.append((mpmath.mpf(float(w[y])) if w is not None else 1) * s / len(row))
    else:
        flat = [v for row in x for v in row]
        ys = [mpmath.mpf(v) for v in target.double().reshape(-1).tolist()] if target is not None else flat
        lam = mpmath.mpf(params.get("lam", 0.01))
        if name == "hinge":
            terms = [max(mpmath.mpf(params.get("margin", 1.0)) - y * v, 0) for v, y in zip(flat, ys, strict=True)]
        elif name == "zero_one":
            terms = [mpmath.mpf(int((v >= params.get("threshold", 0.5)) != (y == 1))) for v, y in zip(flat, ys, strict=True)]
        elif name == "l1_penalty":
            terms = [lam * abs(v) for v in flat]
        else:
            terms = [lam / 2 * v * v for v in flat]
    total = mpmath.fsum(terms)
    return total / len(terms) if reduction == "mean" else total


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "params", "reduction"), [
    ("hinge", {}, "mean"), ("hinge", {"margin": 0.5}, "sum"), ("multi_margin", {}, "mean"),
    ("multi_margin", {"margin": 0.0}, "sum"), ("multi_margin", {"p": 2, "weight": torch.tensor([0.5, 1.0, 2.0, 3.0])}, "sum"),
    ("zero_one", {}, "mean"), ("zero_one", {"threshold": 0.0}, "sum"), ("l1_penalty", {}, "sum"),
    ("l1_penalty", {"lam": 7.5}, "mean"), ("l2_penalty", {}, "sum"), ("l2_penalty", {"lam": 2.0 ** -1000}, "mean")])
def test_margin_and_penalty_point_bounds_contain_the_exact_value(name: str, params: dict, reduction: str, mode: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The point bounds of hinge, multi-margin, 0-1 and the penalties contain the loss of the float inputs computed
    in 60-digit arithmetic (mpmath), on random and adversarial inputs (scores of ±300 and ±10⁻³⁰⁰, magnitudes over 16
    orders, λ down to 2⁻¹⁰⁰⁰ where w² underflows)."""
    monkeypatch.setattr(lossapp.inputs.limits, "DECIMALS_MAX_ELEMENTS", 0)
    pred, target = point_inputs(name, params, mode, seed=7, n=240)
    r = lossapp.compute(name, pred, target, reduction=reduction, **params)
    e = enclose(r)
    assert e.method == POINT_METHOD, e.note
    exact = _exact_margin_value(name, params, pred, target, reduction)
    assert mpmath.mpf(e.lo) <= exact <= mpmath.mpf(e.hi), (float(exact), e.lo, e.hi)


def test_margin_point_bounds_decline_outside_their_premises(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scores that are not finite, a negative weight, a subnormal λ: interval arithmetic as before."""
    monkeypatch.setattr(lossapp.inputs.limits, "DECIMALS_MAX_ELEMENTS", 0)
    pred, target = point_inputs("multi_margin", {}, "random", 0)
    assert enclose(lossapp.compute("multi_margin", pred, target)).method == POINT_METHOD
    assert enclose(lossapp.compute("multi_margin", pred, target, weight=torch.tensor([1.0, -1.0, 1.0, 1.0]))
                   ).method != POINT_METHOD
    big = pred.double().clone()
    big[0, 0] = math.inf  # a score of +∞ in a class that is not the true one gives l = ∞; one in the true class 0
    big[0, target[0]] = -math.inf if int(target[0]) != 0 else math.inf
    e = enclose(lossapp.compute("multi_margin", big, target))
    assert e.method != POINT_METHOD
    w, _ = point_inputs("l2_penalty", {}, "random", 0)
    assert enclose(lossapp.compute("l2_penalty", w, lam=2.0 ** -1000)).method == POINT_METHOD
    assert enclose(lossapp.compute("l2_penalty", w, lam=2.0 ** -1030)).method != POINT_METHOD


def _softplus(v: mpmath.mpf) -> mpmath.mpf:
    return mpmath.log1p(mpmath.exp(v)) if v < 0 else v + mpmath.log1p(mpmath.exp(-v))


# (loss, params, the one pred value, the one target value, the exact term of them): every element the same, so the
# exact value of n elements is n·term; values where a result underflows (subnormal or 0) and its error is absolute
UNDERFLOW_CASES = [
    ("bce", {}, 5e-324, 0.0, lambda x, y: -mpmath.log1p(-x)),  # log1p(−2⁻¹⁰⁷⁴) computed −0: every term 0
    ("bce", {}, 1.43e-322, 0.0, lambda x, y: -mpmath.log1p(-x)),  # log1p a step off
    ("bce", {}, 0.3, 5e-324, lambda x, y: -(y * mpmath.log(x) + (1 - y) * mpmath.log1p(-x))),
    ("bce_with_logits", {}, 744.4, 1.0, lambda x, y: _softplus(-x)),  # e^{−744.4} subnormal
    ("bce_with_logits", {}, -744.4, 0.0, lambda x, y: _softplus(x)),
    ("bce_with_logits", {"pos_weight": torch.tensor([1e10])}, 744.4, 1.0, lambda x, y: 1e10 * _softplus(-x)),
    ("mse", {}, 0.7 * 2.0 ** -537, 0.0, lambda x, y: x * x),  # d² below 2⁻¹⁰⁷⁴: computed 0
    ("rmse", {}, 0.7 * 2.0 ** -537, 0.0, lambda x, y: x * x),  # (its root: 10⁻¹⁶⁰, far from 0)
    ("huber", {"delta": 10.0}, 0.7 * 2.0 ** -537, 0.0, lambda x, y: x * x / 2),
    ("smooth_l1", {"beta": 1e-300}, 0.5e-300, 0.0, lambda x, y: x * x / 2 / mpmath.mpf(1e-300)),  # 1.25·10⁻³⁰¹ → 0
    ("l2_penalty", {"lam": 1.0}, 0.7 * 2.0 ** -537, None, lambda x, y: x * x / 2),
    ("soft_truncated_ce", {"K": 1.0}, 744.4, 1.0, lambda x, y: _softplus(-x) / (1 + mpmath.exp(x))),
    ("focal", {"gamma": 0.0, "alpha": -1.0}, 744.4, 1.0, lambda x, y: _softplus(-x)),
]


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize(("name", "params", "x", "y", "term"), UNDERFLOW_CASES,
                         ids=[f"{c[0]}-{c[2]:g}-{c[3]}" for c in UNDERFLOW_CASES])
def test_point_bound_covers_underflow(name: str, params: dict, x: float, y: float | None, term: Callable,
                                     reduction: str) -> None:
    """Past limits.DECIMALS_MAX_ELEMENTS (the a-priori bound, no interval arithmetic), inputs whose float64 terms underflow:
    a subnormal result of ATen's log1p or exp is off by up to a whole step (log1p(2⁻¹⁰⁷⁴) is 0), a product or quotient
    that underflows by half a step, so a bound relative to the terms alone (A = 0) missed Σ of 200 001 such terms (BCE,
    BCE with logits, MSE, RMSE, Huber, smooth L1 with β = 10⁻³⁰⁰). The enclosure contains n·term in 60 digits."""
    n = 200_001
    assert n > lossapp.inputs.limits.DECIMALS_MAX_ELEMENTS
    pred = torch.full((n,), x, dtype=F64)
    target = None if y is None else torch.full((n,), y, dtype=F64)
    e = enclose(lossapp.compute(name, pred, target, reduction=reduction, **params))
    assert e.sound and e.method == POINT_METHOD, e.note
    with mpmath.workdps(60):
        exact = term(mpmath.mpf(x), None if y is None else mpmath.mpf(y)) * (n if reduction == "sum" else 1)
        exact = mpmath.sqrt(exact) if name == "rmse" else exact
        assert mpmath.mpf(e.lo) <= exact <= mpmath.mpf(e.hi), (float(exact), e.lo, e.hi)


# -- nll: only each sample's own entry is boxed and widened ---------------------------------------------------------------

def _nll_enclosure_of_the_whole_box(box: lossapp.interval.Box) -> Iv:
    """nll's enclosure as the whole tensor's box gathered at the targets (what nll_enclosure gives entry by entry)."""
    from lossapp.interval import ClassTargets, reduce_iv, tensor_param
    from lossapp.losses.classification import log_base_divisor
    pred = box.pred.double()
    whole = rounding_box(pred, box.pred_decimals, low=0.0, high=1.0).log() \
        if box.params["input"] == "probabilities" else rounding_box(pred, box.pred_decimals, high=0.0)
    classes = ClassTargets.of(whole, box.require_target(), int(box.params["ignore_index"]))
    wy = classes.weight(tensor_param(box.params["weight"]))
    terms = -classes.picked(classes.x) * wy / log_base_divisor(box.params)
    return reduce_iv(classes.unreduced(terms, box.reduction), box.reduction,
                     denominator=wy if box.reduction == "mean" else None)


@pytest.mark.parametrize("shape", [(4,), (6, 4), (5, 3, 2), (2, 4, 3, 2)])
@pytest.mark.parametrize("params", [{}, {"input": "probabilities"}, {"ignore_index": 1, "weight": [0.5, 2.0, 1.0, 3.0]},
                                    {"log_base": 2}])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_enclosure_is_the_whole_box_gathered(shape: tuple[int, ...], params: dict, reduction: str) -> None:
    """nll's enclosure boxes and widens only each sample's own entry (from pred as given, a narrower float tensor
    included), and is, bit for bit, the whole tensor's rounding box gathered at the targets: with decimals (mixed,
    integers among them), without (a point), and from the float32 tensor itself."""
    from lossapp.losses.classification import nll_enclosure
    g = torch.Generator().manual_seed(sum(shape) + len(params))
    classes = shape[1] if len(shape) > 1 else shape[0]
    scores = torch.randn(shape, generator=g, dtype=torch.float64)
    pred = torch.softmax(scores, 1 if len(shape) > 1 else 0) if params.get("input") else torch.log_softmax(
        scores, 1 if len(shape) > 1 else 0)
    target_shape = (shape[0], *shape[2:]) if len(shape) > 1 else ()
    target = torch.randint(0, classes, target_shape, generator=g)
    full = {"input": "log_probabilities", "ignore_index": -100, "weight": None, "log_base": "e", **params}
    if isinstance(full["weight"], list):
        full["weight"] = torch.tensor(full["weight"][:classes], dtype=torch.float64)
    decimals = np.asarray(torch.randint(-1, 6, shape, generator=g).numpy())
    for values, d in ((pred.round(decimals=4), decimals), (pred, None), (pred.float(), None)):
        box = lossapp.interval.Box(values, target, d, None, full, reduction, "class_indices")
        try:
            want = _nll_enclosure_of_the_whole_box(box)
        except lossapp.interval.EnclosureUnavailable:
            with pytest.raises(lossapp.interval.EnclosureUnavailable):
                nll_enclosure.evaluate(box)
            continue
        got = nll_enclosure.evaluate(box)
        assert torch.equal(got.lo, want.lo) and torch.equal(got.hi, want.hi), (values.dtype, d is None)
    assert nll_enclosure.narrow_pred


def test_nll_check_of_a_large_float32_pred_widens_no_copy() -> None:
    """The enclosure and the variants of a check on a large float32 nll problem read the user's tensor as it is held
    (TensorInput.narrow): the Result's pred is not widened by the checker, and the verdict and enclosure are those of
    the same problem in float64."""
    g = torch.Generator().manual_seed(3)
    x = torch.log_softmax(torch.randn(30000, 5, generator=g), 1)
    y = torch.randint(0, 5, (30000,), generator=g)
    result = lossapp.compute("nll", x, y)
    assert result.pred.narrow is not None
    wide = lossapp.compute("nll", x.double(), y)
    claim = f"{result.scalar * 1.0123 + 1e-3:.6g}"
    from lossapp.verdicts import check_result
    got, want = check_result(result, claim), check_result(wide, claim)
    assert result.pred.narrow is not None  # (still held as float32: nothing widened it)
    assert (got.verdict, got.interval, got.mistakes, got.conventions) == \
        (want.verdict, want.interval, want.mistakes, want.conventions)
    assert enclose(result) == enclose(wide)
