"""Inputs for the tests of the point-box error bounds (lossapp.interval.point_bound, `IntervalFormula.point_error`):
every loss whose enclosure declares a bound, with parameter sets that take its variants' paths, on random inputs
(float32, as a training loop holds them) and adversarial ones (float64: logits and scores of ±300 and ±10⁻³⁰⁰,
probabilities of exactly 0 and 1 and within an ulp of them, soft labels, values spread over 16 orders of magnitude,
differences of 0)."""

from __future__ import annotations

import sys
from typing import Any

import pytest
import torch

import lossapp

F64 = torch.float64

# (loss, params) whose point bounds the tests compare with interval arithmetic
POINT_CASES: list[tuple[str, dict[str, Any]]] = [
    ("bce", {}),
    ("bce_with_logits", {}),
    ("bce_with_logits", {"pos_weight": torch.tensor([0.5, 3.0])}),
    ("focal", {}),
    ("focal", {"alpha": -1.0, "gamma": 0.0}),
    ("focal", {"alpha": 0.6, "gamma": 1.5}),
    ("focal", {"input": "probabilities"}),
    ("focal", {"avg_factor": 37.5}),
    ("l1", {}),
    ("mse", {}),
    ("rmse", {}),
    ("smooth_l1", {"beta": 0.5}),
    ("huber", {"delta": 2.0}),
    ("dice", {}),
    ("dice", {"activation": "sigmoid", "eps": 1.0}),
    ("dice", {"activation": "softmax"}),
    ("dice", {"intersection": "l1", "per_sample": False}),
    ("iou", {"zero_empty": True}),
    ("tversky", {"alpha": 0.3, "beta": 0.7}),
    ("tversky", {"alpha": 0.05, "beta": 2.0, "intersection": "l1"}),
    ("dice_ce", {}),
    ("dice_ce", {"activation": "sigmoid"}),
    ("dice_focal", {}),
    ("dice_focal", {"activation": "sigmoid", "gamma": 3.0}),
    ("cross_entropy", {}),
    ("cross_entropy", {"label_smoothing": 0.1}),
    ("softmax_focal", {}),
    ("softmax_focal", {"alpha": torch.tensor([0.1, 0.2, 0.3, 0.4]), "gamma": 1.0}),
    ("softmax_focal", {"alpha": 0.25, "gamma": 0.0}),
    ("kl_div", {}),
    ("kl_div", {"log_base": 2}),
    ("hinge", {}),
    ("hinge", {"margin": 0.5}),
    ("multi_margin", {}),
    ("multi_margin", {"margin": 0.0}),
    ("multi_margin", {"p": 2, "weight": torch.tensor([0.5, 1.0, 2.0, 3.0])}),
    ("zero_one", {}),
    ("zero_one", {"threshold": 0.0}),
    ("l1_penalty", {}),
    ("l1_penalty", {"lam": 7.5}),
    ("l2_penalty", {}),
    ("l2_penalty", {"lam": 2.0 ** -1000}),
    ("truncated_ce", {}),
    ("truncated_ce", {"m": 0.9}),
    ("soft_truncated_ce", {}),
    ("soft_truncated_ce", {"K": 7.5, "m": 0.6}),
    ("soft_truncated_ce", {"K": 0.0, "m": 0.2}),
]
MODES = ("random", "adversarial")


def case_id(case: tuple[str, dict[str, Any]]) -> str:
    name, params = case
    return name + "".join(f"-{k}={v.tolist() if isinstance(v, torch.Tensor) else v}" for k, v in params.items())


def point_inputs(name: str, params: dict[str, Any], mode: str, seed: int,
                 n: int = 480) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(pred, target) of about n elements for `name` with `params`, given as tensors (their decimals unknown: the
    rounding box is a point)."""
    spec = lossapp.LOSSES[name]
    gen = torch.Generator().manual_seed(seed)
    adversarial = mode == "adversarial"
    activation = params.get("activation", "none")
    overlap = spec.family == "overlap"
    classes = spec.target_kind in ("classes", "classes_or_probabilities")
    if classes:
        shape = (n // 4, 4)
    elif overlap and activation == "softmax":
        shape: tuple[int, ...] = (4, 3, n // 12)
    elif overlap:
        shape = (4, 1, n // 4)
    else:
        shape = (n // 2, 2)
    takes_logits = classes or activation in ("sigmoid", "softmax") or (
        spec.pred_kind == "logits" and params.get("input", "logits") == "logits")

    def pick(values: list[float]) -> torch.Tensor:
        choice = torch.randint(0, len(values), shape, generator=gen)
        return torch.tensor(values, dtype=F64)[choice]

    def mixed(special: torch.Tensor, usual: torch.Tensor) -> torch.Tensor:
        return torch.where(torch.rand(shape, generator=gen) < 0.5, special, usual)

    if spec.pred_kind in ("scores", "weights") and not classes:  # margins, 0-1 and the penalties
        x = torch.randn(shape, generator=gen, dtype=F64) * 3
        if adversarial:
            x = mixed(pick([300.0, -300.0, 0.0, 0.5, 1.0, -1.0, 1e-300, -1e-300]),
                      x * 10.0 ** torch.randint(-8, 9, shape, generator=gen).to(F64))
        if spec.target_kind is None:
            t = None
        else:
            t = (torch.rand(shape, generator=gen) < 0.4).to(F64)
            if spec.target_kind == "signs":
                t = 2 * t - 1
        return (x, t) if adversarial else (x.float(), None if t is None else t.float())
    if spec.pred_kind == "log_probabilities":  # KL: log q and p, rows of 4
        shape = (n // 4, 4)
        z = torch.randn(shape, generator=gen, dtype=F64) * (3 if not adversarial else 40)
        x = torch.log_softmax(z, 1)
        t = torch.softmax(torch.randn(shape, generator=gen, dtype=F64), 1)
        if adversarial:
            t = torch.where(torch.rand(shape, generator=gen) < 0.2, 0.0, t)  # zeros (0·log 0 = 0)
    elif spec.pred_kind == "values":
        x = torch.randn(shape, generator=gen, dtype=F64)
        t = torch.randn(shape, generator=gen, dtype=F64)
        if adversarial:
            x = x * 10.0 ** torch.randint(-8, 9, shape, generator=gen).to(F64)
            t = torch.where(torch.rand(shape, generator=gen) < 0.2, x, t * 1e3)  # some differences exactly 0
    elif takes_logits:
        x = torch.randn(shape, generator=gen, dtype=F64) * 3
        if adversarial:
            x = mixed(pick([300.0, -300.0, 0.0, 40.0, -40.0, 1e-300]), x * 15)
    else:
        x = torch.rand(shape, generator=gen, dtype=F64) * 0.9 + 0.05
        if adversarial:
            x = mixed(pick([0.0, 1.0, 1e-300, 1 - 2.0 ** -53, 2.0 ** -30, 0.5]), x)
    if spec.pred_kind == "log_probabilities":
        pass
    elif classes:
        t = torch.randint(0, shape[1], shape[:1], generator=gen)
        if adversarial and "ignore_index" in {p.name for p in spec.params}:
            t = torch.where(torch.rand(shape[:1], generator=gen) < 0.1, -100, t)  # ignored samples
    elif spec.pred_kind != "values":
        if overlap and activation == "softmax":
            t = torch.randint(0, shape[1], (shape[0], *shape[2:]), generator=gen)
        else:
            t = (torch.rand(shape, generator=gen) < 0.4).to(F64)
            if adversarial and name != "truncated_ce":  # (it takes hard labels only)
                t = mixed(torch.rand(shape, generator=gen, dtype=F64), t)  # soft labels
    if not adversarial:
        x = x.float()
        t = t.float() if t.is_floating_point() else t
    return x, t


def point_premise(point_error: Any, box: Any) -> tuple[float, float] | None:
    """(K, A) that a loss's `point_error` hands to lossapp.interval.point_bound for `box`: its per-term premise (every
    computed term t̂ within K·u·(A + t) of the exact t), caught by standing in for point_bound in the loss's module;
    None where the loss declines a bound."""
    caught: list[tuple[float, float]] = []

    def catch(k: float, a: float, n: int, per_den: float) -> tuple[float, float]:
        caught.append((k, a))
        return (0.0, 0.0)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(sys.modules[point_error.__module__], "point_bound", catch)
        result = point_error(box)
    return caught[-1] if result is not None and caught else None


def repeated(distinct: int, n: int, seed: int) -> torch.Tensor:
    """n indices into `distinct` values, every one used, in a shuffled order: a problem of n elements built from a few
    adversarial ones, whose exact value is Σ count·term over the distinct ones (a 60-digit oracle at any n)."""
    gen = torch.Generator().manual_seed(seed)
    index = torch.cat([torch.arange(distinct), torch.randint(0, distinct, (n - distinct,), generator=gen)])
    return index[torch.randperm(n, generator=gen)]
