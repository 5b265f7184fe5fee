"""Numerically stable pieces shared by the loss modules (written once here, imported where needed).

- e^{−|x|}, σ(x) and log σ(x) without overflow and with the right derivative at x = 0, branch-free (no
  torch.where, slow on a CPU) where the input is finite; `select`, torch.where's value and gradient written so;
- BCE with logits in its stable form, and torch's BCE backward (p − y)/max(p(1 − p), 1e−12);
- the log-softmax as steps (max shift, exponentials, their sum, log-sum-exp), for cross_entropy and
  the softmax focal loss;
- the class dimension of a (C,) / (N, C, d1, ...) input, and the none / mean / sum of a reference.

Nothing here is registered as a loss.
"""

from __future__ import annotations

import math

import torch

from lossapp.i18n import msg
from lossapp.inputs import InputError
from lossapp.inputs.checks import all_binary as all_binary  # re-exported for the losses
from lossapp.inputs.checks import within as within  # re-exported for the losses
from lossapp.trace import Trace, extremes, extremes_shared

LOG_CLAMP = -100.0  # torch.nn.functional.binary_cross_entropy clamps each log at -100
# ... and its backward divides by max(p(1 - p), 1e-12), with 1e-12 held as a float32 (9.99999996e-13)
BCE_GRAD_EPS = float(torch.tensor(1e-12, dtype=torch.float32))


def class_dim(x: torch.Tensor) -> int:
    """torch's class dimension: 0 for a single sample (C,), else 1 for (N, C, d1, ...)."""
    return 0 if x.dim() == 1 else 1


def all_finite(*tensors: torch.Tensor | None) -> bool:
    """Whether every element of every tensor is finite, decided by one sum each (a finite sum holds no inf or NaN;
    a sum that overflows is checked element by element). Within lossapp.trace.shared_extremes (one check), by the
    tensor's extremes instead, found once for every look at it: they are finite exactly when every element is (a NaN
    makes both NaN, an infinity one of them infinite; every element lies between them)."""
    return all(not isinstance(t, torch.Tensor) or not t.is_floating_point() or _finite(t) for t in tensors)


def _finite(t: torch.Tensor) -> bool:
    if extremes_shared() and t.numel():
        lo, hi = extremes(t)
        return math.isfinite(lo) and math.isfinite(hi)
    return math.isfinite(float(t.detach().sum())) or bool(torch.isfinite(t.detach()).all())


def first_indices(mask: torch.Tensor, k: int) -> list[list[int]]:
    """The indices of the first k true elements of `mask` in row-major order (like mask.nonzero()[:k].tolist()),
    found by scanning growing chunks: no list of every true element."""
    flat = mask.reshape(-1)
    found: list[int] = []
    start, chunk = 0, 1024
    while start < flat.numel() and len(found) < k:
        hits = flat[start:start + chunk].nonzero().reshape(-1)[:k - len(found)]
        found += (hits + start).tolist()
        start, chunk = start + chunk, chunk * 4
    if mask.dim() == 0:
        return [[] for _ in found]
    index = torch.unravel_index(torch.tensor(found, dtype=torch.long), tuple(mask.shape))
    return torch.stack(index, 1).tolist() if found else []


def select(cond: torch.Tensor, a: torch.Tensor | float, b: torch.Tensor | float) -> torch.Tensor:
    """torch.where(cond, a, b): the same value and gradient (∂/∂a = [cond], ∂/∂b = [not cond]).

    Written branch-free as a·[cond] + b·[not cond] when a and b are finite (exact: the other term is ±0);
    torch.where's per-element branch is several times slower on a CPU when cond is irregular. With an inf or NaN
    in a or b (0·inf would be NaN) it is torch.where."""
    if not all_finite(*(v for v in (a, b) if isinstance(v, torch.Tensor))):
        return torch.where(cond, a, b)
    dtype = next(v.dtype for v in (a, b) if isinstance(v, torch.Tensor))
    yes = cond.to(dtype)
    if isinstance(b, float | int) and b == 0:
        return a * yes + 0.0  # + 0.0: the 0 where cond is false is +0, as torch.where's (a·0 may be −0)
    no = 1 - yes
    if isinstance(a, float | int) and a == 0:
        return b * no + 0.0
    return a * yes + b * no


def nonneg_mask(x: torch.Tensor) -> torch.Tensor | None:
    """[x ≥ 0] in x's dtype (a constant for autograd) when every x is finite, else None (the torch.where forms).
    Made once, it can be handed to the functions below that take `s` (they make it themselves without)."""
    return (x.detach() >= 0).to(x.dtype) if all_finite(x) else None


# The stable forms pick a branch on the sign of x; at x = 0 each takes the x ≥ 0 branch, so that autograd's
# derivative there is the true one (|x|' would give 0). For finite x they are written with the constant mask
# s = [x ≥ 0] instead of torch.where, which is slow on a CPU for signs that vary: max(x, 0) = x·s,
# |x| = x·(2s − 1), −|x| = x·(1 − 2s), min(x, 0) = x·(1 − s), min(−x, 0) = −x·s, each exact; one product
# each, so that the derivative is the mask itself (s, 2s − 1, ...), with no cancelling sum in the backward pass.

def sign_parts(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """|x|, min(x, 0) and min(−x, 0), each with the derivative of its x ≥ 0 branch at x = 0."""
    s = nonneg_mask(x)
    if s is None:
        nonneg, zero = x >= 0, torch.zeros_like(x)
        return torch.where(nonneg, x, -x), torch.where(nonneg, zero, x), torch.where(nonneg, -x, zero)
    return x * (2 * s).sub_(1), x * (1 - s), (x * s).neg_()  # (fewer temporaries: in place where autograd allows)


def _exp_neg_abs(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    return torch.exp(x * (s * -2).add_(1))  # x·(1 − 2s), with one temporary for the mask


def exp_neg_abs(x: torch.Tensor, s: torch.Tensor | None = None) -> torch.Tensor:
    """e^{−|x|}, written so that autograd's derivative is right at x = 0 (|x|' would give 0 there).
    `s`: nonneg_mask(x) when the caller has it."""
    s = nonneg_mask(x) if s is None else s
    if s is None:
        return torch.exp(torch.where(x >= 0, -x, x))
    return _exp_neg_abs(x, s)


def stable_sigmoid(x: torch.Tensor, e: torch.Tensor | None = None, s: torch.Tensor | None = None) -> torch.Tensor:
    """σ(x) = 1/(1+e^{−x}) for x ≥ 0 and e^{x}/(1+e^{x}) for x < 0: no exponential ever overflows.
    `e`: e^{−|x|} when the caller has it (exp_neg_abs(x)); `s`: likewise nonneg_mask(x)."""
    s = nonneg_mask(x) if s is None else s
    if s is None:
        e = exp_neg_abs(x) if e is None else e
        return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
    e = _exp_neg_abs(x, s) if e is None else e
    return torch.addcmul(s, e, 1 - s) / (1 + e)  # the numerator s + e·(1 − s) is 1 for x ≥ 0 and e for x < 0


def stable_logsigmoid(x: torch.Tensor) -> torch.Tensor:
    """log σ(x) = min(x, 0) − log(1 + e^{−|x|}): exact for large |x| (no log of a rounded 0)."""
    s = nonneg_mask(x)
    if s is None:
        return torch.where(x < 0, x, torch.zeros_like(x)) - torch.log1p(exp_neg_abs(x))
    return x * (1 - s) - torch.log1p(_exp_neg_abs(x, s))


def hard_label_where(y: torch.Tensor, if_one: torch.Tensor, if_zero: torch.Tensor, mixed: torch.Tensor) -> torch.Tensor:
    """Pick the y = 1 / y = 0 form of a formula for hard labels, so that 0·∞ never appears at infinite logits
    (the result is then the limit of the formula); soft labels use the mixed form. Where every term is finite the
    mixed form is that value already (its other term is ±0), and it is returned as it is."""
    if all_finite(mixed):
        return mixed
    return torch.where(y == 1, if_one, torch.where(y == 0, if_zero, mixed))


def bce_with_logits_stable(x: torch.Tensor, y: torch.Tensor, e: torch.Tensor | None = None,
                           s: torch.Tensor | None = None, tail: torch.Tensor | None = None) -> torch.Tensor:
    """ce = max(x, 0) − x y + log(1 + e^{−|x|}) (for y = 1: max(−x, 0) + log(1 + e^{−|x|}); for y = 0: max(x, 0) + ...).
    `e`: e^{−|x|} when the caller has it (exp_neg_abs(x)); `s`: likewise nonneg_mask(x); `tail`: likewise
    log(1 + e^{−|x|}) = torch.log1p(e), for finite x (with s given)."""
    s = nonneg_mask(x) if s is None else s
    if s is not None:  # finite x: max(x, 0) − x y is x·(s − y) for 0/1 labels (exactly, and one product to differentiate)
        if tail is None:
            tail = torch.log1p(_exp_neg_abs(x, s) if e is None else e)
        return (x * (s - y) if all_binary(y) else x * s - x * y) + tail
    tail = torch.log1p(exp_neg_abs(x) if e is None else e)
    zero = torch.zeros_like(x)
    relu_x = torch.where(x >= 0, x, zero)
    return hard_label_where(y, torch.where(x < 0, -x, zero) + tail, relu_x + tail, relu_x - x * y + tail)


def bce_probability_grad(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """torch's backward of binary_cross_entropy: (p − y) / max(p(1 − p), 1e−12) (finite at p = 0 or 1)."""
    return (p - y) / torch.clamp_min(p * (1 - p), BCE_GRAD_EPS)


LSE_NOTE = msg("stable.note.lse")


def log_softmax_steps(trace: Trace, x: torch.Tensor, cd: int, lse_note: str = LSE_NOTE) -> torch.Tensor:
    """log p = x − lse over the class dimension `cd`, with lse = m + log Σ_c e^{x_c − m} (m the row
    maximum), written as the steps m, x − m, e^{x−m}, S, lse and log p."""
    m = x.detach().amax(dim=cd, keepdim=True)
    trace.add("m", msg("stable.step.max_shift"), r"m_n = \max_c x_{n,c}", m.squeeze(cd),
              note=msg("stable.note.max_shift"))
    z = trace.add("x − m", msg("stable.step.shifted_logits"), r"x_{n,c} - m_n", x - m)
    e = trace.add("e^{x−m}", msg("stable.step.exponentials"), r"e^{x_{n,c} - m_n}", torch.exp(z), sub=r"e^{$z}", z=z)
    total = e.sum(dim=cd, keepdim=True)
    trace.add("S", msg("stable.step.sum_of_exponentials"), r"S_n = \sum_c e^{x_{n,c} - m_n}", total.squeeze(cd))
    lse = m + torch.log(total)
    trace.add("lse", msg("stable.step.log_sum_exp"), r"\mathrm{lse}_n = m_n + \log S_n", lse.squeeze(cd), note=lse_note,
              sub=r"$m + \log $s", m=m.squeeze(cd), s=total.squeeze(cd).detach())
    return trace.add("log p", msg("stable.step.log_softmax"), r"\log p_{n,c} = x_{n,c} - \mathrm{lse}_n", x - lse)


def weighted_per_element(trace: Trace, inner: torch.Tensor, weight: torch.Tensor | None,
                         shape: torch.Size) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """-w_n · inner_n (BCE's and BCE-with-logits' rescaling weight, broadcast to pred's shape, written as the
    step "w"), or -inner_n without a weight; with the substitution arguments the per-element step needs."""
    if weight is None:
        return -inner, {}
    w = trace.add("w", msg("stable.step.weight_per_element"), r"w_n", weight.double().expand(shape),
                  note=msg("stable.note.weight_per_element"))
    return -w * inner, {"w": w}


def reduce_builtin(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    """none / mean / sum of a per-element loss computed with torch ops (for the references)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    raise InputError("stable.error.reduction", got=repr(reduction))

