"""Regularization terms on the weights: the L1 and L2 penalties of article 002 (items 2 and 3).

The objective is the data loss plus a penalty on the weights w ("经验风险 + 结构风险"):
L1: R(w) = λ·Σ|w_i| (drives weights to exactly 0: sparse);  L2: R(w) = (λ/2)·Σw_i² (shrinks them).
In PyTorch the L2 penalty is not written into the loss at all but into the optimizer: SGD's
`weight_decay=λ` adds λ·w to every gradient, which is exactly ∇(λ/2)Σw² (article 002, point 3). The
L2 reference below makes that link concrete: its gradient is the displacement of one
`torch.optim.SGD([w], lr=1, weight_decay=λ)` step on a zero data loss.

Reductions (a penalty has no samples, so they are defined over the weights):
  sum  (default): R = Σ_i r_i, the penalty as defined;
  none: r_i, one term per weight;
  mean: Σ_i r_i / n, the penalty divided by the number of weights n.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Real
from typing import Any

import torch

from lossapp.i18n import Message, msg
from lossapp.inputs import InputError
from lossapp.inputs.constraints import Interval
from lossapp.interval import TINY, Box, Iv, PointBound, interval_formula, point_bound, reduce_iv, reduction_per_den
from lossapp.losses.derivative import derivative_step, number
from lossapp.losses.stable import reduce_builtin
from lossapp.reduction import reduce
from lossapp.registry import LossSpec, Param, register
from lossapp.trace import Lazy, Trace, blocks, fmt


def penalty_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                    trace: Trace) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A penalty acts on the weights alone: any shape, no target."""
    if target is not None:
        raise InputError("regularization.error.target_given")
    return pred, None


DERIVATIVE = "g"  # the symbol of the penalties' derivative step (LossSpec.derivative)


def _narrow(params: dict[str, Any]) -> bool:
    """LossSpec.narrow_pred: a penalty reads its weights elementwise only, each widened exactly where it is read (the
    |w_i| or w_i² formed from a block widened in cache: `_widened_map`; the gradient's blocks; the shown steps' first
    elements, which `lossapp.trace.head` widens), so the weights may come in the user's own narrower dtype: no float64
    copy of a large pred is made."""
    return True


def _widened_map(w: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """fn(w widened to float64) as a new float64 tensor, for an fn that maps its argument in place (|w|, w²) and a w
    in a narrower floating dtype: where w is contiguous, each CHUNK of w widened into the output (exact: every element
    the same number) and mapped there while it is in cache (`lossapp.trace.blocks`), instead of a float64 copy of w and
    a second full pass over it. Elementwise, so every element is the one fn gives the whole widened w."""
    if not w.is_contiguous():  # (widened as compute widens a pred, keeping its strides: a sum then adds the elements
        # in the same order, bit for bit)
        return fn(w.to(torch.float64))
    out = torch.empty(w.shape, dtype=torch.float64, device=w.device)
    flat_out, flat_w = out.view(-1), w.reshape(-1)
    for part in blocks(flat_w.numel(), w.device)[1]:
        fn(flat_out[part].copy_(flat_w[part]))
    return out


def _gradient_step(trace: Trace, per_weight: Callable[[torch.Tensor], torch.Tensor], w: torch.Tensor, formula: str,
                   reduction: str, point: Callable[[float, float], Message]) -> None:
    """The derivative of the reduced penalty with respect to each weight, `per_weight(w)` (shown only), with the
    first weights' reasons (`point(w, g)`)."""
    title = msg("regularization.step.gradient_of_the_penalty")
    n = w.numel()
    if reduction == "mean":
        derivative_step(trace, DERIVATIVE, rf"\frac{{\partial L}}{{\partial w_i}} = \frac{{{formula}}}{{n}}",
                        lambda w: per_weight(w) / n, w, point=point, title=title,
                        lead=msg("regularization.note.mean_gradient", n=n))
    else:
        derivative_step(trace, DERIVATIVE, rf"\frac{{\partial L}}{{\partial w_i}} = {formula}", per_weight, w,
                        point=point, title=title)


def _l1_point(w: float, g: float) -> Message:
    """Which side of the kink of |w| the weight is on."""
    if w > 0:
        return msg("regularization.derivative.l1_positive", w=number(w), g=number(g))
    if w < 0:
        return msg("regularization.derivative.l1_negative", w=number(w), g=number(g))
    return msg("regularization.derivative.l1_kink")


def _l1_per_weight_(w: torch.Tensor, lam: float) -> torch.Tensor:
    """d(λ·|w_i|)/dw_i = λ·sign(w_i) (0 at w_i = 0, as torch's abs backward), written over `w` (the steps pass a
    copy of the shown weights; the gradient comparison its float64 block of them)."""
    return w.sign_().mul_(lam)


def _l2_per_weight_(w: torch.Tensor, lam: float) -> torch.Tensor:
    """d((λ/2)·w_i²)/dw_i = λ·w_i, written over `w` (as _l1_per_weight_)."""
    return w.mul_(lam)


def _penalty_gradient(per_weight_: Callable[[torch.Tensor, float], torch.Tensor],
                      bounded: bool = False) -> Callable[..., Lazy]:
    """The spec's gradient: the "g" step's per-weight derivative (the reduced penalty's, divided by n for mean), in
    one or two passes instead of autograd's chain through every step. Elementwise in w, it is given as a `Lazy`
    value: compute() compares it with the built-in's a block at a time, each block computed where it is read, into
    one buffer of a block's size (`Lazy.into`: w's block widened into it and mapped there by `per_weight_`, in place;
    no float64 tensor of w's size); every other caller gets the tensor (`Lazy.full`), element for element the same.
    `bounded` (L1): λ bounds every finite element: λ·sign(w_i) is exact (sign in {−1, 0, 1}), and its division by
    n ≥ 1 rounds |λ·sign(w_i)| / n ≤ λ to at most λ (rounding to nearest is monotone and keeps the float λ)."""
    def gradient(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any], reduction: str) -> Lazy:
        lam, n = float(params["lam"]), max(pred.numel(), 1)
        mean = reduction == "mean"

        def into(out: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
            g = per_weight_(out.copy_(w), lam)  # (a block of a narrower pred widened exactly: see _narrow)
            return g.div_(n) if mean else g

        def derivative(w: torch.Tensor) -> torch.Tensor:
            return into(torch.empty_like(w, dtype=torch.float64), w)
        return Lazy(derivative, (pred.detach(),), bound=abs(lam) if bounded else None, into=into)
    return gradient


def l1_penalty_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                     reduction: str) -> torch.Tensor:
    """L1 penalty (lasso) on weights w: λ·Σ|w_i| (article 002, item 2; it also makes weights sparse).

    Unreduced: r_i = λ·|w_i|.  sum (default): λ·Σ|w_i|;  mean: λ·Σ|w_i| / n;  none: r.
    Gradient: λ·sign(w_i) (0 at w_i = 0, as torch's abs backward).
    Params: lam (λ, default 0.01).  Reference: lam * w.abs(), reduced (plain torch).

    Shape:
        - pred: (*), the weights w, any number of dimensions.
        - target: none.
        - output: a scalar for sum and mean; (*) for none.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("l1_penalty", "[0.5, -1.2, 2.0, 0.0, -0.3]", lam=0.01)
        >>> print(f"{r.scalar:.4f}")
        0.0400
    """
    lam = float(params["lam"])
    lt = fmt(lam)
    w = pred
    # |w| is only shown: the tensor of every |w_i| is summed and then scaled in place into the terms λ·|w_i| (one
    # tensor of w's size)
    trace.show("|w|", msg("regularization.step.absolute_weights"), r"|w_i|", torch.abs, w, sub=r"|$w|", w=w)
    absolute = torch.abs(w) if w.dtype == torch.float64 else _widened_map(w, torch.abs_)  # (a narrower pred: _narrow)
    trace.add("||w||_1", msg("regularization.step.sum_of_absolute_weights_l1"), r"\|w\|_1 = \sum_i |w_i|",
              absolute.sum(), note=msg("regularization.note.l1_norm"))
    terms = trace.add("l", msg("regularization.step.times_per_weight"), r"r_i = \lambda |w_i|", absolute.mul_(lam),
                      sub=rf"{lt} \cdot |$w|", w=w, note=msg("regularization.note.lam", lam=f"{lam:g}"))
    _gradient_step(trace, lambda w: _l1_per_weight_(w.clone(), lam), w.detach(), r"\lambda\,\mathrm{sign}(w_i)", reduction,
                   _l1_point)
    return reduce(trace, terms, reduction)


def l1_penalty_reference(x: torch.Tensor, y: torch.Tensor | None, p: dict[str, Any], reduction: str) -> torch.Tensor:
    return reduce_builtin(p["lam"] * x.abs(), reduction)


# -- L2 and SGD's weight_decay --------------------------------------------------------------------------

def sgd_weight_decay_displacement(w: torch.Tensor, lam: float) -> torch.Tensor:
    """w_before − w_after for one torch.optim.SGD([w], lr=1, weight_decay=lam) step on a zero data loss.

    SGD adds weight_decay·w to the gradient of the data loss (0 here) and steps by −lr times that, so the
    displacement is λ·w: the gradient of (λ/2)·Σw². Runs in w's dtype and on w's device.
    """
    before = w.detach().clone()
    param = torch.nn.Parameter(before.clone())
    optimizer = torch.optim.SGD([param], lr=1.0, weight_decay=lam)
    param.grad = torch.zeros_like(param)  # the data loss is 0, so is its gradient
    optimizer.step()
    return before - param.detach()


class _L2ViaWeightDecay(torch.autograd.Function):
    """Per-weight terms (λ/2)·w² forward; backward returns the SGD weight_decay step's displacement."""

    @staticmethod
    def forward(ctx: Any, w: torch.Tensor, lam: float) -> torch.Tensor:
        ctx.save_for_backward(w)
        ctx.lam = lam
        return 0.5 * lam * (w * w)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:
        (w,) = ctx.saved_tensors
        return grad_output * sgd_weight_decay_displacement(w, ctx.lam), None


def l2_penalty_reference(x: torch.Tensor, y: torch.Tensor | None, p: dict[str, Any], reduction: str) -> torch.Tensor:
    """Value: (λ/2)·w² with plain torch ops, reduced. Gradient: one SGD(lr=1, weight_decay=λ) step's w − w'."""
    return reduce_builtin(_L2ViaWeightDecay.apply(x, float(p["lam"])), reduction)


def l2_penalty_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                     reduction: str) -> torch.Tensor:
    """L2 penalty (ridge, weight decay) on weights w: (λ/2)·Σw_i² (article 002, items 2 and 3).

    Unreduced: r_i = (λ/2)·w_i².  sum (default): (λ/2)·Σw_i²;  mean: (λ/2)·Σw_i² / n;  none: r.
    Gradient: λ·w_i, which is what SGD(weight_decay=λ) adds to each gradient: torch puts L2 in the
    optimizer, not in the loss.
    Params: lam (λ, default 0.01, the article's weight_decay).
    Reference: (λ/2)·w² with torch ops for the value; its gradient is the displacement w − w' of one
    torch.optim.SGD([w], lr=1, weight_decay=λ) step on a zero data loss (a custom autograd.Function).

    Shape:
        - pred: (*), the weights w, any number of dimensions.
        - target: none.
        - output: a scalar for sum and mean; (*) for none.

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("l2_penalty", "[0.5, -1.2, 2.0, 0.0, -0.3]", lam=0.01)
        >>> print(f"{r.scalar:.4f}")
        0.0289
    """
    lam = float(params["lam"])
    lt = fmt(lam)
    w = pred
    # w² is only shown: the tensor of every w_i² is summed and then scaled in place into the terms (λ/2)·w_i² (one
    # tensor of w's size)
    trace.show("w^2", msg("regularization.step.squared_weights"), r"w_i^2", torch.square, w, sub=r"$w^2", w=w)
    squares = w * w if w.dtype == torch.float64 else _widened_map(w, lambda v: v.mul_(v))  # (a narrower pred: _narrow)
    trace.add("||w||_2^2", msg("regularization.step.sum_of_squares_squared_l2"), r"\|w\|_2^2 = \sum_i w_i^2",
              squares.sum(), note=msg("regularization.note.l2_norm"))
    terms = trace.add("l", msg("regularization.step.times_2_per_weight"), r"r_i = \frac{\lambda}{2} w_i^2",
                      squares.mul_(0.5 * lam), sub=rf"\frac{{{lt}}}{{2}} \cdot $w^2", w=w,
                      note=msg("regularization.note.lam", lam=f"{lam:g}"))
    wd = w.detach()
    _gradient_step(trace, lambda w: _l2_per_weight_(w.clone(), lam), wd, r"\lambda\, w_i", reduction,
                   lambda w, g: msg("regularization.derivative.l2", w=number(w), g=number(g)))
    trace.show("w'", msg("regularization.step.one_sgd_step_with_weight"),
               r"w_i' = w_i - \text{lr} \cdot (\nabla_{w_i} L_{\text{data}} + \lambda w_i) = w_i - \lambda w_i",
               lambda w: w - lam * w, wd, sub=rf"$w - {lt} \cdot $w", w=wd,
               note=msg("regularization.note.weight_decay"))
    trace.show("Δw", msg("regularization.step.displacement_of_the_sgd_step"), r"w_i - w_i' = \lambda w_i", lambda w: w - (w - lam * w), wd,
               note=msg("regularization.note.displacement"))
    return reduce(trace, terms, reduction)


# -- rounding enclosures (lossapp.interval): λ·Σ|w| and (λ/2)·Σw²; |w| and w² per entry are exact ranges, λ ≥ 0 exact.

# A point box (lossapp.interval.point_bound), with u = 2⁻⁵³ and TINY = 2⁻¹⁰²² (a rounding errs by ≤ u·(|x| + TINY),
# underflow included): L1, K = 1, A = TINY: |w| is exact and λ·|w| one rounding. L2, K = 8, A = TINY: c = 0.5·λ is exact
# for λ = 0 or λ ≥ 2⁻¹⁰²¹ (else no bound), w·w and its product by c ≤ 5 round once each:
# |t̂ − t| ≤ (2u + u²)·t + (1 + u)·c·u·TINY + u·TINY ≤ 8u·(t + TINY). λ is in [0, 10] (its constraint; checked). An infinite
# or NaN weight gives a value that is not finite (no enclosure).
def _penalty_point_error(k: float) -> Callable[[Box], PointBound | None]:
    def point_error(box: Box) -> PointBound | None:
        lam = float(box.params["lam"])
        per_den = None if box.pred is None else reduction_per_den(box.reduction, box.pred.shape)
        if per_den is None or not (lam == 0 or 2.0 ** -1021 <= lam <= 10.0):
            return None
        return point_bound(k, TINY, box.pred.numel(), per_den)
    point_error.__doc__ = f"The penalty's float64 error bound for a point box (K = {k:g}, A = TINY; λ = 0 or normal)."
    return point_error


@interval_formula("exact range (|w| per entry), interval arithmetic with outward rounding",
                  point_error=_penalty_point_error(1))
def l1_penalty_enclosure(box: Box) -> Iv:
    return reduce_iv(box.pred_box().abs() * float(box.params["lam"]), box.reduction)


@interval_formula("exact range (w² per entry), interval arithmetic with outward rounding",
                  point_error=_penalty_point_error(8))
def l2_penalty_enclosure(box: Box) -> Iv:
    w, c = box.pred_box(), float(box.params["lam"]) / 2.0
    if w.point and c >= 2.0 ** -100:
        # exact weights: (λ/2)·w² in one evaluation, as (w·λ/2)·w; each product is correctly rounded (relative error
        # ≤ 2⁻⁵³ each, ≤ 2.01 ulps together). w·λ/2 overflows only where (λ/2)·w² does (|w| > max/(λ/2) ≥ 1); it
        # underflows only for |w| < 2⁻⁹²², whose error 2⁻¹⁰⁷⁵·|w| the rounding of a result ≥ 0 covers with an underflow
        # of the result itself (3·2⁻¹⁰⁷³ absolute).
        return reduce_iv(w.increasing(lambda t: (t * c).mul_(t), 3, nonneg=True), box.reduction)
    return reduce_iv(w.sqr() * c, box.reduction)


_PENALTY = {"family": "regularization", "pred_kind": "weights", "target_kind": None, "prepare": penalty_prepare,
            "default_reduction": "sum", "derivative": DERIVATIVE, "narrow_pred": _narrow, "example": {"pred": "[0.5, -1.2, 2.0, 0.0, -0.3]", "params": {"lam": 0.01}}}
_LAM = Param("lam", 0.01, Interval(Real, 0.0, 10.0), msg("regularization.param.lam"))
_REDUCE_CODE = 'r.sum() if reduction == "sum" else r.mean() if reduction == "mean" else r'

register(LossSpec(
    mistakes=("penalty_without_lambda",),
    name="l1_penalty", title=msg("regularization.l1_penalty.title"),
    summary=msg("regularization.l1_penalty.summary"),
    formula=r"R(w) = \lambda \sum_i |w_i|", params=(_LAM,), steps=l1_penalty_steps, enclosure=l1_penalty_enclosure,
    gradient=_penalty_gradient(_l1_per_weight_, bounded=True), reference=l1_penalty_reference, reference_name=msg("regularization.reference_name.l1_penalty"),
    aliases=("l1_regularization", "l1_reg", "lasso"),
    torch_code="r = lam * pred.abs()\n" + _REDUCE_CODE, **_PENALTY))

register(LossSpec(
    mistakes=("l2_penalty_without_half", "l2_norm_not_squared", "penalty_without_lambda"),
    name="l2_penalty", title=msg("regularization.l2_penalty.title"),
    summary=msg("regularization.l2_penalty.summary"),
    formula=r"R(w) = \frac{\lambda}{2} \sum_i w_i^2", params=(_LAM,), steps=l2_penalty_steps, enclosure=l2_penalty_enclosure,
    gradient=_penalty_gradient(_l2_per_weight_), reference=l2_penalty_reference,
    reference_name=msg("regularization.reference_name.l2_penalty"),
    aliases=("l2_regularization", "l2_reg", "weight_decay", "ridge"),
    torch_code="r = lam / 2 * pred ** 2\n" + _REDUCE_CODE, **_PENALTY))
