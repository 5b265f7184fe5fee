"""Truncated cross-entropy (article 004, after Su Jianlin's "better loss functions" for text
classification): the hard-truncated CE that drops samples already classified well enough, and its
soft (sigmoid-smoothed) version on logits.

Hard:  l = λ(y, ŷ) · ce,  λ = 0 for a positive with ŷ > m or a negative with ŷ < 1 − m, else 1.
Soft:  the step θ in λ is replaced by a sigmoid of steepness K: on logits x (ŷ = σ(x), threshold
       m = 0.5 ⇔ x = 0), l = −y σ(−Kx) log σ(x) − (1−y) σ(Kx) log σ(−x).

K's default is 1: then σ(−x) = 1 − p_t for a positive and σ(x) = 1 − p_t for a negative, so the soft
truncated CE is exactly the focal loss with γ = 1 and no α — the comparison article 004 makes in 3.2
("K and γ play the same role: both set the steepness of the weight curve"). Larger K approaches the
hard truncation at m = 0.5 (K → ∞); K = 0 gives half the BCE.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import torch
import torch.nn.functional as F

from lossapp.i18n import Message, msg
from lossapp.inputs import require_binary, require_probabilities, require_same_shape
from lossapp.inputs.constraints import Interval
from lossapp.interval import (
    TINY,
    Box,
    Iv,
    PointBound,
    U,
    interval_formula,
    monotone,
    monotone_scalar,
    point_bound,
    reduce_iv,
    reduction_per_den,
    value_range,
    where,
)
from lossapp.losses.classification import (
    BCE_DERIVATIVE,
    BCE_LABEL_TOTAL,
    BCE_LOGITS_LABEL_TOTAL,
    LOGITS_DERIVATIVE,
    bce_enclosure_terms,
    bce_probability_derivative,
    summed_terms,
)
from lossapp.losses.derivative import derivative_step, number
from lossapp.losses.focal import bce_probability_steps, logits_hint, reduction_scale, soft_label_check
from lossapp.losses.stable import (
    all_binary,
    all_finite,
    bce_probability_grad,
    first_indices,
    hard_label_where,
    reduce_builtin,
    stable_logsigmoid,
    stable_sigmoid,
)
from lossapp.reduction import reduce
from lossapp.registry import LossSpec, Param, register
from lossapp.trace import Trace, fmt

MAX_LISTED = 10  # positions listed in the truncation note


def _positions(mask: torch.Tensor) -> str:
    """Indices where mask is true, as text: '0, 3' or '(0, 1), (1, 2)'; '—' when none."""
    if mask.dim() == 0:
        return "0" if bool(mask) else "—"
    idx = first_indices(mask, MAX_LISTED + 1)  # only what the note lists (and whether there is more)
    if not idx:
        return "—"
    items = [str(i[0]) if len(i) == 1 else "(" + ", ".join(str(j) for j in i) + ")" for i in idx[:MAX_LISTED]]
    return ", ".join(items) + (", …" if len(idx) > MAX_LISTED else "")


# -- hard-truncated cross-entropy ---------------------------------------------------------------------

def _truncation_masks(pred: torch.Tensor, target: torch.Tensor, m: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(positives with ŷ > m, negatives with ŷ < 1 − m): the elements with λ = 0 (float64 comparisons)."""
    p = pred.detach().double()
    return (target == 1) & (p > m), (target == 0) & (p < 1 - m)


def _truncated_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                       trace: Trace) -> tuple[torch.Tensor, torch.Tensor | None]:
    require_same_shape(pred, target)
    require_probabilities(pred, "pred")
    require_binary(target, "target", allow_soft=False)
    if float(params["m"]) < 0.5:
        trace.warn(msg("truncated.warn.m_below_half"))
    return pred, target


def truncated_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                    reduction: str) -> torch.Tensor:
    """Hard-truncated cross-entropy on probabilities (article 004, 2.1).

    Unreduced: l_n = λ(y_n, ŷ_n) · ce_n, ce = −[y log ŷ + (1−y) log(1−ŷ)] (logs clamped at −100 as torch),
    λ = 0 if (y = 1 and ŷ > m) or (y = 0 and ŷ < 1 − m), else 1. λ is a constant for the gradient
    (the article: its derivative is 0), so truncated elements get no gradient.
    mean: Σ l_n / n (truncated elements still count in n); sum: Σ l_n; none: l.
    Params: m = 0.6 (the article's 0.6 / 0.4 example).
    Reference: F.binary_cross_entropy(reduction="none") times the λ mask.

    Shape:
        - pred: (*), probabilities ŷ in [0, 1], any number of dimensions.
        - target: (*), the same shape as pred, 0/1.
        - output: a scalar for mean and sum; (*) for none.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("truncated_ce", "[0.9, 0.55, 0.3, 0.2, 0.45, 0.7]", "[1, 1, 1, 0, 0, 0]", m=0.6)
        >>> print(f"{r.scalar:.4f}")
        0.6006
    """
    m = float(params["m"])
    y = target
    ce = bce_probability_steps(trace, pred, y)
    pos, neg = _truncation_masks(pred, y, m)
    lam = (~(pos | neg)).to(ce.dtype)
    cut = int((pos | neg).sum())
    rule = msg("truncated.note.rule", m=f"{m:g}", low=f"{1 - m:g}")
    if cut:
        note = msg("truncated.note.truncated", cut=cut, count=lam.numel(), m=f"{m:g}", pos=_positions(pos),
                   low=f"{1 - m:g}", neg=_positions(neg), rule=rule)
    else:
        note = msg("truncated.note.none_truncated", rule=rule)
    lam = trace.add("lambda", msg("truncated.step.truncation_factor"), r"\lambda(y,\hat{y}) = \begin{cases} 0 & \text{if } y = 1,\ \hat{y} > m "
                    r"\\ 0 & \text{if } y = 0,\ \hat{y} < 1 - m \\ 1 & \text{otherwise} \end{cases}", lam, note=note)
    loss = trace.add("l", msg("truncated.step.truncated_cross_entropy_term"), r"l_n = \lambda(y_n,\hat{y}_n)\,\mathrm{ce}_n", lam * ce,
                     note=msg("truncated.note.is_a_constant_truncated_elements"),
                     sub=r"$a \cdot $c", a=lam, c=ce)

    def point(p: float, y: float, lam: float, g: float) -> Message:
        if lam == 0:
            return msg("truncated.derivative.truncated", p=number(p), y=number(y))
        return msg("truncated.derivative.kept", p=number(p), y=number(y), g=number(g))
    derivative_step(trace, BCE_DERIVATIVE, r"\frac{\partial l_n}{\partial \hat{y}_n} = \lambda_n\left[-\frac{y_n}{\hat{y}_n} + "
                    r"\frac{1-y_n}{1-\hat{y}_n}\right]",
                    lambda p, y, lam: lam * bce_probability_derivative(p, y) + 0.0, pred.detach(), y, lam.detach(), point=point)
    return reduce(trace, loss, reduction)


def truncated_reference(x: torch.Tensor, y: torch.Tensor, params: dict[str, Any], reduction: str) -> torch.Tensor:
    """F.binary_cross_entropy(reduction="none") times the λ mask (compared in float64 at the threshold)."""
    pos, neg = _truncation_masks(x, y, float(params["m"]))
    lam = (~(pos | neg)).to(x.dtype)
    return reduce_builtin(lam * F.binary_cross_entropy(x, y, reduction="none"), reduction)


def truncated_gradient(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any], reduction: str) -> torch.Tensor:
    """λ · torch's BCE backward (p − y)/max(p(1 − p), 1e−12): finite at ŷ = 0 or 1, where log's is not."""
    pos, neg = _truncation_masks(pred, target, float(params["m"]))
    lam = (~(pos | neg)).double()
    grad = lam * bce_probability_grad(pred.double(), target.double())
    return grad * reduction_scale(grad, reduction) + 0.0


# -- rounding enclosure (lossapp.interval) ----------------------------------------------------------------------------
# y = 1: l = [p ≤ m]·min(−log p, 100), non-increasing in p (it only drops to 0 above m); y = 0:
# l = [p ≥ 1 − m]·min(−log(1 − p), 100), non-decreasing. Monotone: the corners give the exact range, each corner's λ
# from the same truncation masks as the trace.
# A point box (lossapp.interval.point_bound), K = 8, A = 1: ce (bce_probability_steps, as the sigmoid focal loss's
# probabilities, lossapp.losses.focal.focal_point_error) is within 6u·ce as BCE's, plus an absolute u for log of the
# rounded 1 − p: within 8u·(1 + ce); λ is 0 or 1 from comparisons of the exact inputs (the steps' own masks), so
# λ·ce is exact and the term within 8u·(1 + l). Premises: p and y in [0, 1] (and finite).
def truncated_point_error(box: Box) -> PointBound | None:
    """Hard-truncated cross-entropy's float64 error bound for a point box (K = 8, A = 1)."""
    if box.pred is None or box.target is None or tuple(box.target.shape) != tuple(box.pred.shape):
        return None
    x, y = value_range(box), value_range(box, "target")
    per_den = reduction_per_den(box.reduction, box.pred.shape)
    if x is None or y is None or per_den is None or x[0] < 0 or x[1] > 1 or y[0] < 0 or y[1] > 1:
        return None
    return point_bound(8, 1.0, box.pred.numel(), per_den)


@interval_formula("exact range per element (monotone), interval arithmetic with outward rounding",
                  point_error=truncated_point_error)
def truncated_enclosure(box: Box) -> Iv:
    m = float(box.params["m"])
    y = box.require_target().to(torch.float64)
    p = box.pred_box(0.0, 1.0)

    def term(v: Iv) -> Iv:  # v is a corner of the box (a point); λ is 0 or 1 exactly: a choice, not a product
        pos, neg = _truncation_masks(v.lo, y, m)
        ce = bce_enclosure_terms(v, Iv(y), labels=box.labels)
        if v is p and box.labels:  # exact inputs: Σ of these BCE terms is the BCE enclosure's (no_truncation's)
            box.shared(BCE_LABEL_TOTAL, lambda: summed_terms(ce))
        return where(~(pos | neg), ce, 0.0)
    return reduce_iv(monotone(term, p, lambda: torch.where(y == 1, -1.0, 1.0).to(torch.float64)), box.reduction)


register(LossSpec(
    natural_log=True, related={"untruncated": "bce"}, mistakes=("no_truncation",),
    name="truncated_ce", family="classification", title=msg("truncated.truncated_ce.title"),
    summary=msg("truncated.truncated_ce.summary"),
    formula=r"l_n = \lambda(y_n,\hat{y}_n)\,\mathrm{ce}_n,\quad \lambda = 0 \text{ if } y=1,\hat{y}>m "
            r"\text{ or } y=0,\hat{y}<1-m",
    pred_kind="probabilities", target_kind="binary",
    params=(Param("m", 0.6, Interval(Real, 0.0, 1.0), msg("truncated.truncated_ce.param.m")),),
    steps=truncated_steps, enclosure=truncated_enclosure, reference=truncated_reference, prepare=_truncated_prepare, gradient=truncated_gradient,
    reference_name=msg("truncated.reference_name.truncated_ce"), derivative=BCE_DERIVATIVE, curves="truncation",
    aliases=("hard_truncated_ce", "truncated_cross_entropy", "hard_truncated_cross_entropy"),
    example={"pred": "[0.9, 0.55, 0.3, 0.2, 0.45, 0.7]", "target": "[1, 1, 1, 0, 0, 0]", "params": {"m": 0.6}},
    torch_code=(
        'ce = F.binary_cross_entropy(pred, target, reduction="none")\n'
        "lam = 1 - (((target == 1) & (pred.double() > m)) | ((target == 0) & (pred.double() < 1 - m))).to(pred.dtype)\n"
        "l = lam * ce\n"
        'l if reduction == "none" else l.sum() if reduction == "sum" else l.mean()'
    ),
))


# -- soft-truncated cross-entropy ---------------------------------------------------------------------

def _soft_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                  trace: Trace) -> tuple[torch.Tensor, torch.Tensor | None]:
    require_same_shape(pred, target)
    logits_hint(pred, trace, msg("truncated.warn.probabilities_as_logits"))
    soft_label_check(target, trace)
    return pred, target


def soft_threshold_logit(m: float) -> float:
    """x_m = log(m / (1 − m)), the logit of the threshold m: ŷ = σ(x) > m exactly where x > x_m (0 for m = 0.5)."""
    return math.log(m) - math.log1p(-m)


def soft_truncated_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                         reduction: str) -> torch.Tensor:
    """Soft-truncated cross-entropy on logits (article 004, 2.2), with the threshold m of the hard truncation.

    Unreduced: l_n = −y σ(−K(x − x_m)) log σ(x) − (1−y) σ(K(x + x_m)) log σ(−x), x_m = log(m / (1 − m)):
    λ's steps θ(m − ŷ) (a positive) and θ(ŷ − (1 − m)) (a negative) smoothed into sigmoids of the logit, so that
    K → ∞ gives truncated_ce with the same m. m = 0.5 (x_m = 0) is Su Jianlin's form
    −y σ(−Kx) log σ(x) − (1−y) σ(Kx) log σ(−x); with it K = 1 gives the focal loss with γ = 1 and no α and K = 0
    gives BCE / 2.
    mean: Σ l_n / n;  sum: Σ l_n;  none: l.
    Params: K = 1.0 (steepness, ≥ 0), m = 0.5 (threshold in (0, 1); the article's example uses 0.6).
    Reference: −y·torch.sigmoid(−K(x − x_m))·F.logsigmoid(x) − (1−y)·torch.sigmoid(K(x + x_m))·F.logsigmoid(−x).

    Shape:
        - pred: (*), logits x, any number of dimensions.
        - target: (*), the same shape as pred, 0/1 (soft labels are warned about).
        - output: a scalar for mean and sum; (*) for none.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("soft_truncated_ce", "[2.0, -0.5, 0.3, -3.0, 0.8, -1.2]", "[1, 1, 1, 0, 0, 0]")
        >>> print(f"{r.scalar:.4f}")
        0.2881
        >>> r = lossapp.compute("soft_truncated_ce", "[2.0, -0.5, 0.3, -3.0, 0.8, -1.2]", "[1, 1, 1, 0, 0, 0]", m=0.6)
        >>> print(f"{r.scalar:.4f}")
        0.3322
    """
    k, m = float(params["K"]), float(params["m"])
    xm = soft_threshold_logit(m)
    x, y = pred, target
    trace.add("x_m", msg("truncated.step.threshold_logit"), r"x_m = \log\frac{m}{1-m}", torch.tensor(xm, dtype=x.dtype, device=x.device),
              note=msg("truncated.note.threshold_logit", m=f"{m:g}"), sub=rf"\log\frac{{{fmt(m)}}}{{1-{fmt(m)}}}")
    s_neg = trace.add("sigma(-Kx)", msg("truncated.step.soft_lambda_positive"), r"\sigma(-K(x - x_m))",
                      stable_sigmoid(-k * (x - xm)), note=msg("truncated.note.soft_lambda_positive", m=f"{m:g}"),
                      sub=rf"\sigma(-{k:g} \cdot ($x - {_arg(xm)}))", x=x)
    s_pos = trace.add("sigma(Kx)", msg("truncated.step.soft_lambda_negative"), r"\sigma(K(x + x_m))",
                      stable_sigmoid(k * (x + xm)), note=msg("truncated.note.soft_lambda_negative", low=f"{1 - m:g}"),
                      sub=rf"\sigma({k:g} \cdot ($x + {_arg(xm)}))", x=x)
    log_p = trace.add("log sigma(x)", msg("truncated.step.log_sigmoid_stable"), r"\log \sigma(x) = \min(x,0) - \log(1+e^{-|x|})",
                      stable_logsigmoid(x), note=msg("truncated.note.the_stable_form_exact_for"),
                      sub=r"\min($x,0) - \log(1+e^{-|$x|})", x=x)
    log_q = trace.add("log sigma(-x)", msg("truncated.step.log_sigmoid_of_x_stable"), r"\log \sigma(-x) = \min(-x,0) - \log(1+e^{-|x|})",
                      stable_logsigmoid(-x), sub=r"\min(-$x,0) - \log(1+e^{-|$x|})", x=x)
    note = msg("truncated.note.k_is_1" if k == 1 and m == 0.5 else "truncated.note.k_to_infinity", m=f"{m:g}")
    loss = trace.add("l", msg("truncated.step.soft_truncated_cross_entropy_term"),
                     r"l_n = -y\,\sigma(-K(x - x_m))\,\log \sigma(x) - (1-y)\,\sigma(K(x + x_m))\,\log \sigma(-x)",
                     _soft_truncated_terms(y, s_neg, log_p, s_pos, log_q) + 0.0,
                     note=note,
                     sub=r"-$y \cdot $a \cdot $b - (1-$y) \cdot $c \cdot $d", y=y, a=s_neg, b=log_p, c=s_pos, d=log_q)
    derivative_step(trace, LOGITS_DERIVATIVE,
                    r"\frac{\partial l_n}{\partial x_n} = y\,A'(x) + (1-y)\,B'(x),\ "
                    r"A' = -K a(1-a)\log(1+e^{-x}) - a\,\sigma(-x),\ B' = K b(1-b)\log(1+e^{x}) + b\,\sigma(x),\ "
                    r"a = \sigma(-K(x - x_m)),\ b = \sigma(K(x + x_m))",
                    lambda x, y: soft_truncated_derivative(x, y, k, xm), x.detach(), y,
                    point=lambda x, y, g: msg("truncated.derivative.soft", x=number(x), y=number(y), g=number(g)))
    return reduce(trace, loss, reduction)


def soft_truncated_derivative(x: torch.Tensor, y: torch.Tensor, k: float, xm: float) -> torch.Tensor:
    """∂l/∂x of l = y·A + (1 − y)·B, A = σ(−K(x − x_m))·softplus(−x), B = σ(K(x + x_m))·softplus(x):
    A' = −K a(1 − a)·softplus(−x) − a·σ(−x) with a = σ(−K(x − x_m));  B' = K b(1 − b)·softplus(x) + b·σ(x) with
    b = σ(K(x + x_m)) (softplus(±x) = −log σ(∓x))."""
    a, b = stable_sigmoid(-k * (x - xm)), stable_sigmoid(k * (x + xm))
    softplus_neg, softplus_pos = -stable_logsigmoid(x), -stable_logsigmoid(-x)
    d_a = -k * a * (1 - a) * softplus_neg - a * stable_sigmoid(-x)
    d_b = k * b * (1 - b) * softplus_pos + b * stable_sigmoid(x)
    return y * d_a + (1 - y) * d_b


def _arg(v: float) -> str:
    """A number inside a formula, parenthesised when negative."""
    text = fmt(v)
    return f"({text})" if text.startswith("-") else text


def _soft_truncated_terms(y: torch.Tensor, s_neg: torch.Tensor, log_p: torch.Tensor, s_pos: torch.Tensor,
                          log_q: torch.Tensor) -> torch.Tensor:
    """−y σ(−K(x − x_m)) log σ(x) − (1−y) σ(K(x + x_m)) log σ(−x); for hard labels the y = 1 / y = 0 term alone where a factor is
    infinite (so that 0·∞ never appears)."""
    mixed = -(y * s_neg * log_p) - (1 - y) * s_pos * log_q
    if all_finite(mixed):
        return mixed
    return hard_label_where(y, -s_neg * log_p, -s_pos * log_q, mixed)


def soft_truncated_gradient(pred: torch.Tensor, target: torch.Tensor, params: dict[str, Any],
                            reduction: str) -> torch.Tensor | None:
    """d(loss)/dx for 0/1 labels and finite logits, in closed form (else None: autograd of the trace). With s = 1 − 2y,
    z = s·x and u = K(z + x_m), the term is σ(u)·softplus(z) (log σ(x) = −softplus(−x)), so
    dl/dx = s·σ(u)·[σ(z) + K·σ(−u)·softplus(z)]: a few passes instead of autograd's chain through every step."""
    x, y = pred.detach(), target.double()
    if not all_finite(x) or not all_binary(y):
        return None
    k, xm = float(params["K"]), soft_threshold_logit(float(params["m"]))
    sign = (y * -2).add_(1)
    z = x * sign
    softplus = torch.exp(-z.abs()).log1p_().add_(z.clamp_min(0))
    u = z.add(xm).mul_(k)
    grad = torch.sigmoid(torch.neg(u)).mul_(softplus).mul_(k).add_(torch.sigmoid(z)).mul_(torch.sigmoid(u))
    return grad.mul_(sign) * reduction_scale(grad, reduction)


def soft_truncated_reference(x: torch.Tensor, y: torch.Tensor, params: dict[str, Any], reduction: str) -> torch.Tensor:
    k, xm = float(params["K"]), soft_threshold_logit(float(params["m"]))
    loss = -y * torch.sigmoid(-k * (x - xm)) * F.logsigmoid(x) - (1 - y) * torch.sigmoid(k * (x + xm)) * F.logsigmoid(-x)
    return reduce_builtin(loss, reduction)


# -- rounding enclosure (lossapp.interval) ----------------------------------------------------------------------------
# l = y·A(x) + (1 − y)·B(x) with A = σ(−K(x − x_m))·softplus(−x) (both factors ≥ 0, non-increasing) and
# B = σ(K(x + x_m))·softplus(x) (non-decreasing), for K ≥ 0 (K's range) and the same float x_m as the steps: each has an
# exact range; a soft y by interval arithmetic.
# A point box (lossapp.interval.point_bound), with X = max|x| (finite), B = K·(X + |x_m|), u = 2⁻⁵³, TINY = 2⁻¹⁰²² (a
# rounding errs by ≤ u·(|v| + TINY), underflow included), y in [0, 1]; both parts of l ≥ 0 are bounded relatively:
# - the argument ∓K(x ∓ x_m) rounds twice: off by δ ≤ 2.01u·B + u·TINY; d(log σ)/da = 1 − σ ∈ (0, 1), so σ at the
#   computed argument is within e^{|δ|} − 1 ≤ 1.01|δ| (relative; |δ| ≤ 0.01 is checked); stable_sigmoid's own
#   evaluation (exp of ±a exact in sign, ≤ 2u; 1 + e and the division, or e/(1 + e): ≤ 2 more roundings) adds ≤ 5u
#   relative and an underflow's 3u·TINY absolute.
# - log σ(±x) = min(±x, 0) − log1p(e^{−|x|}): min exact, e within 2u, log1p within 2u plus e's relative error (for
#   e ≥ 0, log1p(e(1 + η)) − log1p(e) ≤ η·e/(1 + e) ≤ η·log1p(e)), then a difference of two terms of one sign: ≤ 5u
#   relative plus 4u·TINY absolute (a subnormal e is a step, 2u·TINY, off, and so is log1p of a subnormal: ATen's
#   log1p(2⁻¹⁰⁷⁴) is 0); |log σ(±x)| ≤ X + 1.
# - the products y·σ·log σ and (1 − y)·σ·log σ and the final −a − b (two parts ≥ 0: no cancellation) add ≤ 5
#   roundings. Each part is within (2.2(B + 1) + 16)·u relative (compounded, with K·u ≤ 1/8 from point_bound's
#   premise) ≤ (3B + 20)·u, and the underflows add ≤ u·TINY·(4X + 9) absolute per part (σ's 3u·TINY and a product's
#   u·TINY times |log σ| ≤ X + 1, log σ's 4u·TINY, the last product's u·TINY), ≤ u·TINY·(8X + 18) ≤ 20u·TINY·(X + 3)
#   for the two: K = 3B + 20, A = TINY·(X + 3).
def soft_truncated_point_error(box: Box) -> PointBound | None:
    """Soft-truncated cross-entropy's float64 error bound for a point box (above; finite logits, y in [0, 1])."""
    if box.pred is None or box.target is None or tuple(box.target.shape) != tuple(box.pred.shape):
        return None
    k, m = float(box.params["K"]), float(box.params["m"])
    x, y = value_range(box), value_range(box, "target")
    per_den = reduction_per_den(box.reduction, box.pred.shape)
    if x is None or y is None or per_den is None or y[0] < 0 or y[1] > 1 or not 0 < m < 1 or not 0 <= k < math.inf:
        return None
    big_x = max(abs(x[0]), abs(x[1]))
    b = k * (big_x + abs(soft_threshold_logit(m))) * (1 + 2.0 ** -40)
    if not math.isfinite(b) or 2.1 * U * (b + 1) > 0.01:
        return None
    return point_bound((3 * b + 20) * (1 + 2.0 ** -40), TINY * (big_x + 3) * (1 + 2.0 ** -40), box.pred.numel(), per_den)


@interval_formula("exact range of each branch (monotone), interval arithmetic with outward rounding",
                  point_error=soft_truncated_point_error)
def soft_truncated_enclosure(box: Box) -> Iv:
    k, xm = float(box.params["K"]), soft_threshold_logit(float(box.params["m"]))
    x = box.pred_box()
    if x.point and box.labels:
        # exact inputs and 0/1 labels: each term is its label's branch, σ(K(s + x_m))·softplus(s) with s = −x where y = 1
        # and x where y = 0 (exact); Σ softplus(s) is BCE with logits' (no_truncation), shared with its enclosure
        s = where(box.require_target() == 1, -x, x)
        softplus = s.softplus()
        box.shared(BCE_LOGITS_LABEL_TOTAL, lambda: summed_terms(softplus))
        return reduce_iv(((s + xm) * k).sigmoid() * softplus, box.reduction)
    a = monotone_scalar(lambda v: ((v - xm) * (-k)).sigmoid() * (-v).softplus(), x, increasing=False)
    b = monotone_scalar(lambda v: ((v + xm) * k).sigmoid() * v.softplus(), x, increasing=True)
    y = box.target_box(0.0, 1.0)
    terms = where(box.require_target() == 1, a, b) if box.labels else y * a + (1.0 - y) * b
    return reduce_iv(terms, box.reduction)


register(LossSpec(
    natural_log=True, activation="sigmoid", related={"untruncated": "bce_with_logits"},
    mistakes=("no_truncation",),
    name="soft_truncated_ce", family="classification", title=msg("truncated.soft_truncated_ce.title"),
    summary=msg("truncated.soft_truncated_ce.summary"),
    formula=r"l_n = -y\,\sigma(-K(x - x_m))\,\log \sigma(x) - (1-y)\,\sigma(K(x + x_m))\,\log \sigma(-x),\quad "
            r"x_m = \log\frac{m}{1-m}",
    pred_kind="logits", target_kind="binary",
    params=(Param("K", 1.0, Interval(Real, 0.0, 100.0), msg("truncated.soft_truncated_ce.param.k")),
            Param("m", 0.5, Interval(Real, 0.0, 1.0, closed="neither"), msg("truncated.soft_truncated_ce.param.m"))),
    steps=soft_truncated_steps, enclosure=soft_truncated_enclosure, reference=soft_truncated_reference, prepare=_soft_prepare,
    gradient=soft_truncated_gradient,
    reference_name="-y*sigmoid(-K(x-x_m))*F.logsigmoid(x) - (1-y)*sigmoid(K(x+x_m))*F.logsigmoid(-x)",
    derivative=LOGITS_DERIVATIVE, curves="truncation",
    aliases=("soft_truncated_cross_entropy", "softened_truncated_ce"),
    example={"pred": "[2.0, -0.5, 0.3, -3.0, 0.8, -1.2]", "target": "[1, 1, 1, 0, 0, 0]", "params": {"K": 1.0, "m": 0.5}},
    torch_code=(
        "xm = float(torch.logit(torch.tensor(m, dtype=torch.float64)))\n"
        "l = -target * torch.sigmoid(-K * (pred - xm)) * F.logsigmoid(pred) - (1 - target) * torch.sigmoid(K * (pred + xm)) * "
        "F.logsigmoid(-pred)\n"
        'l if reduction == "none" else l.sum() if reduction == "sum" else l.mean()'
    ),
))
