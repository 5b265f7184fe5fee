"""Shannon entropy H(p) of distributions (article 004, 1.1: "熵：香农信息量的期望").

H(p) = −Σ_c p_c log p_c is the average code length of an event drawn from p when every outcome c gets a code of
log(1/p_c) (bits with log_base 2, the article's unit). Given the estimated distribution q as the target, the steps
also show the cross-entropy H(p, q) = −Σ p log q (the average code length when coding with q) and the identity
H(p, q) = H(p) + KL(p‖q): the relative entropy is the extra length of coding with the wrong distribution.
The loss's value is H(p) either way (minimising it makes predictions confident: entropy regularisation).
"""

from __future__ import annotations

from typing import Any

import torch

from lossapp.i18n import msg
from lossapp.inputs import InputError, require_probabilities, require_same_shape, shape_text
from lossapp.inputs.constraints import Options
from lossapp.interval import Box, Iv, interval_formula, reduce_iv
from lossapp.losses.classification import (
    LOG_BASES,
    entropy_identity_steps,
    in_log_base,
    log_base_divisor,
    row_sum_warning,
    xlogx,
)
from lossapp.losses.stable import class_dim, reduce_builtin
from lossapp.reduction import reduce
from lossapp.registry import LossSpec, Param, register
from lossapp.trace import Trace

HINT_PROBABILITIES = msg("entropy.hint.probabilities")


def _entropy_prepare(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                     trace: Trace) -> tuple[torch.Tensor, torch.Tensor | None]:
    """p: probabilities with a class dimension (C,) or (N, C, ...); q, when given, of p's shape."""
    if pred.dim() == 0:
        raise InputError("entropy.error.pred_shape", got=shape_text(pred.shape))
    require_probabilities(pred, "pred", hint=HINT_PROBABILITIES)
    cd = class_dim(pred)
    message = row_sum_warning(pred.sum(cd), "pred", "entropy.warn.rows_off")
    if message:
        trace.warn(message)
    if target is not None:
        require_same_shape(pred, target)
        target = target.double()
        require_probabilities(target, "target", hint=HINT_PROBABILITIES)
        message = row_sum_warning(target.sum(cd), "target", "entropy.warn.rows_off")
        if message:
            trace.warn(message)
    return pred, target


def entropy_steps(trace: Trace, pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                  reduction: str) -> torch.Tensor:
    """Shannon entropy of each distribution p (article 004, 1.1).

    Unreduced: l_n = H(p_n) = −Σ_c p_{n,c} log p_{n,c}, with 0 · log 0 = 0; every log in base b with
    log_base = b (l_n / ln b: bits for 2). With a target q (optional): the steps also show
    H(p, q) = −Σ_c p_c log q_c, KL(p‖q) and H(p, q) = H(p) + KL(p‖q); the value stays H(p).
    mean: Σ l_n / N (distributions);  sum: Σ l_n;  none: l.  Params: log_base (e, 2, 10).
    Reference: torch.special.entr(p).sum(class dim) (entr(x) = −x ln x), divided by ln b.

    Shape:
        - pred: (C,), (N, C) or (N, C, d1, ...): probabilities p, one distribution along the class dimension
          (dimension 1; the whole vector when 1-D).
        - target: optional, pred's shape: the estimated distribution q.
        - output: a scalar for mean and sum; for none, (), (N,) or (N, d1, ...).

    Example::

        >>> import lossapp
        >>> r = lossapp.compute("entropy", "[0.5, 0.25, 0.25]", log_base=2)
        >>> print(f"{r.scalar:.4f} bits")
        1.5000 bits
        >>> r = lossapp.compute("entropy", "[0.5, 0.25, 0.25]", "[0.25, 0.5, 0.25]", log_base=2)
        >>> print(f"{r.step('H(p,q)').value:.4f} bits = {r.step('H(p)').value:.4f} + {r.step('KL(p‖q)').value:.4f}")
        1.7500 bits = 1.5000 + 0.2500
    """
    p = pred
    cd = class_dim(p)
    plogp = trace.add("p log p", msg("entropy.step.p_log_p"), r"p_c \log p_c", xlogx(p),
                      note=msg("entropy.note.xlogx"))
    loss = trace.add("l", msg("entropy.step.entropy"), r"l_n = H(p_n) = -\sum_c p_{n,c} \log p_{n,c}",
                     -plogp.sum(cd) + 0.0, note=msg("entropy.note.code_length"))
    loss = in_log_base(trace, loss, params)
    if target is not None:
        q = target
        log_q = trace.add("log q", msg("entropy.step.log_q"), r"\log q_c", torch.log(q), sub=r"\log $q", q=q)
        entropy_identity_steps(trace, p, log_q, cd, "p", "q", params=params,
                               entropy_title=msg("entropy.step.entropy_of_p"))
    return reduce(trace, loss, reduction)


def entropy_reference(x: torch.Tensor, y: torch.Tensor | None, params: dict[str, Any], reduction: str) -> torch.Tensor:
    return reduce_builtin(torch.special.entr(x).sum(class_dim(x)) / log_base_divisor(params), reduction)


def entropy_gradient(pred: torch.Tensor, target: torch.Tensor | None, params: dict[str, Any],
                     reduction: str) -> torch.Tensor:
    """∂L/∂p_c = −(log p_c + 1) / ln b (each p_c a free variable), +∞ at p_c = 0 as torch.special.entr's backward
    (autograd of the trace's 0 · log 0 = 0 would give 0 there); divided by the number of distributions for mean."""
    p = pred.detach().double()
    grad = -(torch.log(p) + 1) / log_base_divisor(params)
    if reduction == "mean":
        grad = grad / max(1, p.numel() // p.shape[class_dim(p)])
    return grad


# -- rounding enclosure (lossapp.interval) ----------------------------------------------------------------------------
# l_n = −Σ_c p_c log p_c: each term depends on its own p_c alone, and Iv.xlogx is the exact range of p·log p over an
# interval (convex, its minimum at 1/e), so the sum of the terms' ranges is the exact range of the sum.
@interval_formula("exact range (each −p log p over its own interval), interval arithmetic with outward rounding")
def entropy_enclosure(box: Box) -> Iv:
    p = box.pred_box(0.0, 1.0)
    terms = (-p.xlogx()).sum(class_dim(box.pred))
    return reduce_iv(terms / log_base_divisor(box.params), box.reduction)


register(LossSpec(
    natural_log=True, target_optional=True,
    name="entropy", family="distribution", title=msg("entropy.title"), summary=msg("entropy.summary"),
    formula=r"H(p) = -\sum_c p_c \log p_c", pred_kind="probabilities", target_kind="probabilities",
    params=(Param("log_base", "e", Options(LOG_BASES), msg("entropy.param.log_base")),),
    steps=entropy_steps, enclosure=entropy_enclosure, gradient=entropy_gradient, reference=entropy_reference, prepare=_entropy_prepare,
    reference_name="torch.special.entr(p).sum(dim)",
    aliases=("shannon_entropy", "information_entropy", "categorical_entropy"),
    example={"pred": "[[0.5, 0.25, 0.25], [0.7, 0.2, 0.1]]", "params": {}},
    torch_code=("ln_b = 1.0 if log_base == 'e' else float(torch.log(torch.tensor(float(log_base), dtype=torch.float64)))\n"
                "h = torch.special.entr(pred).sum(0 if pred.dim() == 1 else 1) / ln_b\n"
                'h if reduction == "none" else h.sum() if reduction == "sum" else h.mean()'),
))
