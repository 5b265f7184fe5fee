"""Numerically stable pieces shared by the loss modules (written once here, imported where needed).

- e^{−|x|}, σ(x) and log σ(x) without overflow and with the right derivative at x = 0;
- BCE with logits in its stable form, and torch's BCE backward (p − y)/max(p(1 − p), 1e−12);
- the log-softmax as steps (max shift, exponentials, their sum, log-sum-exp), for cross_entropy and
  the softmax focal loss;
- the class dimension of a (C,) / (N, C, d1, ...) input, and the none / mean / sum of a reference.

Nothing here is registered as a loss.
"""

from __future__ import annotations

import torch

from lossapp.i18n import add_zh, add_zh_patterns
from lossapp.inputs import InputError
from lossapp.trace import Trace

LOG_CLAMP = -100.0  # torch.nn.functional.binary_cross_entropy clamps each log at -100
# ... and its backward divides by max(p(1 - p), 1e-12), with 1e-12 held as a float32 (9.99999996e-13)
BCE_GRAD_EPS = float(torch.tensor(1e-12, dtype=torch.float32))


def class_dim(x: torch.Tensor) -> int:
    """torch's class dimension: 0 for a single sample (C,), else 1 for (N, C, d1, ...)."""
    return 0 if x.dim() == 1 else 1


def exp_neg_abs(x: torch.Tensor) -> torch.Tensor:
    """e^{−|x|}, written so that autograd's derivative is right at x = 0 (|x|' would give 0 there)."""
    return torch.exp(torch.where(x >= 0, -x, x))


def stable_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """σ(x) = 1/(1+e^{−x}) for x ≥ 0 and e^{x}/(1+e^{x}) for x < 0: no exponential ever overflows."""
    e = exp_neg_abs(x)
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))


def stable_logsigmoid(x: torch.Tensor) -> torch.Tensor:
    """log σ(x) = min(x, 0) − log(1 + e^{−|x|}): exact for large |x| (no log of a rounded 0)."""
    return torch.where(x < 0, x, torch.zeros_like(x)) - torch.log1p(exp_neg_abs(x))


def hard_label_where(y: torch.Tensor, if_one: torch.Tensor, if_zero: torch.Tensor, mixed: torch.Tensor) -> torch.Tensor:
    """Pick the y = 1 / y = 0 form of a formula for hard labels, so that 0·∞ never appears at infinite logits
    (the result is then the limit of the formula); soft labels use the mixed form."""
    return torch.where(y == 1, if_one, torch.where(y == 0, if_zero, mixed))


def bce_with_logits_stable(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """ce = max(x, 0) − x y + log(1 + e^{−|x|}) (for y = 1: max(−x, 0) + log(1 + e^{−|x|}); for y = 0: max(x, 0) + ...)."""
    zero = torch.zeros_like(x)
    tail = torch.log1p(exp_neg_abs(x))
    relu_x = torch.where(x >= 0, x, zero)
    return hard_label_where(y, torch.where(x < 0, -x, zero) + tail, relu_x + tail, relu_x - x * y + tail)


def bce_probability_grad(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """torch's backward of binary_cross_entropy: (p − y) / max(p(1 − p), 1e−12) (finite at p = 0 or 1)."""
    return (p - y) / torch.clamp_min(p * (1 - p), BCE_GRAD_EPS)


LSE_NOTE = "lse = log Σ_c e^{x_c}, computed without overflow"


def log_softmax_steps(trace: Trace, x: torch.Tensor, cd: int, lse_note: str = LSE_NOTE) -> torch.Tensor:
    """log p = x − lse over the class dimension `cd`, with lse = m + log Σ_c e^{x_c − m} (m the row
    maximum), written as the steps m, x − m, e^{x−m}, S, lse and log p."""
    m = x.detach().amax(dim=cd, keepdim=True)
    trace.add("m", "Max shift", r"m_n = \max_c x_{n,c}", m.squeeze(cd),
              note="subtracting the row maximum makes every exponent ≤ 0, so e^{x−m} cannot overflow "
                   "(the log-sum-exp trick)")
    z = trace.add("x − m", "Shifted logits", r"x_{n,c} - m_n", x - m)
    e = trace.add("e^{x−m}", "Exponentials", r"e^{x_{n,c} - m_n}", torch.exp(z), sub=r"e^{$z}", z=z)
    total = e.sum(dim=cd, keepdim=True)
    trace.add("S", "Sum of exponentials", r"S_n = \sum_c e^{x_{n,c} - m_n}", total.squeeze(cd))
    lse = m + torch.log(total)
    trace.add("lse", "Log-sum-exp", r"\mathrm{lse}_n = m_n + \log S_n", lse.squeeze(cd), note=lse_note,
              sub=r"$m + \log $s", m=m.squeeze(cd), s=total.squeeze(cd).detach())
    return trace.add("log p", "Log-softmax", r"\log p_{n,c} = x_{n,c} - \mathrm{lse}_n", x - lse)


def reduce_builtin(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    """none / mean / sum of a per-element loss computed with torch ops (for the references)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    raise InputError(f"expected reduction none, mean or sum, got {reduction!r}")


add_zh({
    "Max shift": "最大值平移", "Shifted logits": "平移后的 logits", "Exponentials": "指数",
    "Sum of exponentials": "指数之和", "Log-sum-exp": "Log-sum-exp（对数求和指数）", "Log-softmax": "Log-softmax（对数 softmax）",
    "subtracting the row maximum makes every exponent ≤ 0, so e^{x−m} cannot overflow (the log-sum-exp trick)":
        "减去每行的最大值使所有指数 ≤ 0，因此 e^{x−m} 不会溢出（log-sum-exp 技巧）",
    LSE_NOTE: "lse = log Σ_c e^{x_c}，计算时不会溢出",
})
add_zh_patterns([(r"expected reduction none, mean or sum, got (.+)", r"期望归约方式为 none、mean 或 sum，实际为 \1")])
