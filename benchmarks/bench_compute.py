"""Time lossapp.compute against the bare torch built-in and a hand-written float64 formula, per loss.

Three columns, measured in the same run, interleaved (round r times every loss's three columns before
round r + 1 starts, so that a noisy neighbour slows all of them alike):

- builtin: the loss's torch built-in (the spec's reference) in float32, forward + backward;
- hand:    a hand-written float64 autograd formula of the same loss, forward + backward: what a careful
           user writes to check a loss in double precision (one small function per loss, `HAND` below);
- compute: lossapp.compute(...) with the defaults (CPU, float32 reference): parsing and checking the
           inputs, the float64 trace and its gradient, the built-in and the comparison of both.

Inputs are float32 tensors (what a training loop holds); class losses use C = 10 classes. Times are the
median over the rounds of thread CPU time (time.thread_time, torch at 1 thread) and of wall time. The
last line states the target: compute() at 10^6 elements ≤ 1.5 × (builtin + hand) for every loss.

With --processes P the rounds run in P fresh processes one after another and the medians are taken over all
P × rounds samples. At 10^6 elements a column's time depends on the heap's state, which differs from one
process to the next: glibc hands freed 8 MB buffers back to the system, and each fresh one then costs 1-3 ms
of page faults, so a loss's ratio moves by up to ±0.3 between processes; pooling processes averages that out.

Run: python benchmarks/bench_compute.py [--sizes 100 10000 1000000] [--rounds 5] [--processes 3] [--losses bce ...]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import lossapp

CLASSES = 10  # classes of the class losses' (N, C) inputs
SETS = 8  # samples (sets) of the overlap losses' (N, M) inputs
TARGET_SIZE = 1_000_000  # the size the target ratio is stated at
TARGET_RATIO = 1.5  # compute() ≤ TARGET_RATIO × (builtin + hand)

Inputs = tuple[torch.Tensor, torch.Tensor | None]


# -- inputs ------------------------------------------------------------------------------------------------------------

def _probabilities(n: int, g: torch.Generator) -> torch.Tensor:
    return (torch.rand(n, generator=g) * 0.98 + 0.01).float()


def _labels(n: int, g: torch.Generator) -> torch.Tensor:
    return (torch.rand(n, generator=g) < 0.3).float()


def _classes(n: int, g: torch.Generator) -> Inputs:
    rows = max(1, n // CLASSES)
    return torch.randn(rows, CLASSES, generator=g), torch.randint(0, CLASSES, (rows,), generator=g)


def make_inputs(name: str, n: int, seed: int = 0) -> Inputs:
    """pred (n elements, float32) and target for `name`, as a training loop would hold them."""
    g = torch.Generator().manual_seed(seed)
    kind = lossapp.LOSSES[name]
    if kind.family == "regression":
        return torch.randn(n, generator=g), torch.randn(n, generator=g)
    if kind.family == "regularization":
        return torch.randn(n, generator=g), None
    if kind.family == "overlap":
        m = max(1, n // SETS)
        return _probabilities(SETS * m, g).reshape(SETS, m), _labels(SETS * m, g).reshape(SETS, m)
    if name in ("cross_entropy", "softmax_focal", "multi_margin"):
        return _classes(n, g)
    if name == "nll":
        x, y = _classes(n, g)
        return torch.log_softmax(x, 1), y
    if name == "kl_div":
        x, _ = _classes(n, g)
        return torch.log_softmax(x, 1), torch.softmax(torch.randn(x.shape, generator=g), 1)
    if name == "hinge":
        return torch.randn(n, generator=g), _labels(n, g) * 2 - 1
    if kind.pred_kind == "probabilities" or name == "zero_one":
        return _probabilities(n, g), _labels(n, g)
    return torch.randn(n, generator=g) * 3, _labels(n, g)  # logits: bce_with_logits, focal, soft_truncated_ce


# -- the hand-written float64 formulas (what a careful user writes) ----------------------------------------------------

def _lse(x: torch.Tensor) -> torch.Tensor:
    m = x.detach().amax(1, keepdim=True)
    return (m + (x - m).exp().sum(1, keepdim=True).log()).squeeze(1)


def _bce(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return -(y * p.log().clamp_min(-100) + (1 - y) * (-p).log1p().clamp_min(-100))


def _bce_logits(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return x.clamp_min(0) - x * y + (-x.abs()).exp().log1p()


def _logsigmoid(x: torch.Tensor) -> torch.Tensor:
    return x.clamp_max(0) - (-x.abs()).exp().log1p()


def _focal(x: torch.Tensor, y: torch.Tensor, alpha: float, gamma: float, logits: bool = True) -> torch.Tensor:
    p = torch.sigmoid(x) if logits else x
    ce = _bce_logits(x, y) if logits else _bce(x, y)
    p_t = p * y + (1 - p) * (1 - y)
    return (alpha * y + (1 - alpha) * (1 - y)) * (1 - p_t) ** gamma * ce


def _sets(p: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return (p * t).sum(1), p.sum(1), t.sum(1)


def _dice(p: torch.Tensor, t: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    inter, sp, st = _sets(p, t)
    return (1 - (2 * inter + eps) / (sp + st + eps)).mean()


def _multi_margin(x: torch.Tensor, y: torch.Tensor, margin: float) -> torch.Tensor:
    z = (margin - x.gather(1, y[:, None]) + x).clamp_min(0)
    z = z.masked_fill(torch.arange(x.shape[1])[None, :] == y[:, None], 0)
    return (z.sum(1) / x.shape[1]).mean()


def _soft_truncated(x: torch.Tensor, y: torch.Tensor, k: float) -> torch.Tensor:
    return (-y * torch.sigmoid(-k * x) * _logsigmoid(x) - (1 - y) * torch.sigmoid(k * x) * _logsigmoid(-x)).mean()


def _truncated(p: torch.Tensor, y: torch.Tensor, m: float) -> torch.Tensor:
    keep = ~(((y == 1) & (p.detach() > m)) | ((y == 0) & (p.detach() < 1 - m)))
    return (keep * _bce(p, y)).mean()


def _huber(d: torch.Tensor, delta: float) -> torch.Tensor:
    a = d.abs()
    return torch.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)).mean()


def _smooth_l1(d: torch.Tensor, beta: float) -> torch.Tensor:
    a = d.abs()
    return torch.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta).mean()


def _iou(p: torch.Tensor, t: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    inter, sp, st = _sets(p, t)
    return (1 - (inter + eps) / (sp + st - inter + eps)).mean()


def _tversky(p: torch.Tensor, t: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    inter = (p * t).sum(1)
    return (1 - (inter + eps) / (inter + 0.5 * (p * (1 - t)).sum(1) + 0.5 * ((1 - p) * t).sum(1) + eps)).mean()


# loss name -> f(x, y) on float64 x (requires grad) and y (float64, or int64 class indices) -> the default reduction
HAND: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "l1": lambda x, y: (x - y).abs().mean(),
    "mse": lambda x, y: ((x - y) ** 2).mean(),
    "rmse": lambda x, y: ((x - y) ** 2).mean().sqrt(),
    "smooth_l1": lambda x, y: _smooth_l1(x - y, 1.0),
    "huber": lambda x, y: _huber(x - y, 1.0),
    "bce": lambda x, y: _bce(x, y).mean(),
    "bce_with_logits": lambda x, y: _bce_logits(x, y).mean(),
    "cross_entropy": lambda x, y: (_lse(x) - x.gather(1, y[:, None]).squeeze(1)).mean(),
    "nll": lambda x, y: -x.gather(1, y[:, None]).mean(),
    "kl_div": lambda x, y: (torch.xlogy(y, y) - y * x).mean(),
    "focal": lambda x, y: _focal(x, y, 0.25, 2.0).mean(),
    "softmax_focal": lambda x, y: (lambda lp: (-(1 - lp.exp()) ** 2 * lp).mean())(
        x.gather(1, y[:, None]).squeeze(1) - _lse(x)),
    "hinge": lambda x, y: (1.0 - y * x).clamp_min(0).mean(),
    "multi_margin": lambda x, y: _multi_margin(x, y, 1.0),
    "zero_one": lambda x, y: ((x >= 0.5).double() != y).double().mean(),
    "dice": _dice,
    "iou": _iou,
    "tversky": _tversky,
    "dice_ce": lambda x, y: _dice(x, y) + _bce(x, y).mean(),
    "dice_focal": lambda x, y: _dice(x, y) + _focal(x, y, 0.25, 2.0, logits=False).mean(),
    "l1_penalty": lambda x, y: 0.01 * x.abs().sum(),
    "l2_penalty": lambda x, y: 0.005 * (x * x).sum(),
    "truncated_ce": lambda x, y: _truncated(x, y, 0.6),
    "soft_truncated_ce": lambda x, y: _soft_truncated(x, y, 1.0),
}


# -- the three columns -------------------------------------------------------------------------------------------------

def _backward(value: torch.Tensor, x: torch.Tensor) -> None:
    if value.requires_grad:
        torch.autograd.grad(value, x)


def run_builtin(name: str, pred: torch.Tensor, target: torch.Tensor | None) -> None:
    """The spec's reference (the torch built-in) in float32, forward + backward."""
    spec = lossapp.LOSSES[name]
    x = pred.detach().requires_grad_(spec.differentiable)
    value = spec.reference(x, target, spec.resolve_params({}), spec.default_reduction)
    _backward(value, x)


def run_hand(name: str, pred: torch.Tensor, target: torch.Tensor | None) -> None:
    """The hand-written float64 formula, forward + backward."""
    x = pred.double().requires_grad_(lossapp.LOSSES[name].differentiable)
    y = None if target is None else target.double() if target.is_floating_point() else target
    _backward(HAND[name](x, y), x)


def run_compute(name: str, pred: torch.Tensor, target: torch.Tensor | None) -> Any:
    return lossapp.compute(name, pred, target, reduction=lossapp.LOSSES[name].default_reduction)


COLUMNS: dict[str, Callable[[str, torch.Tensor, torch.Tensor | None], Any]] = {
    "builtin": run_builtin, "hand": run_hand, "compute": run_compute}


def measure(fn: Callable[[], Any]) -> tuple[float, float]:
    """(thread CPU seconds, wall seconds) of one call; the result is dropped inside the timed span."""
    gc.collect()
    cpu, wall = time.thread_time(), time.perf_counter()
    fn()
    return time.thread_time() - cpu, time.perf_counter() - wall


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{model}, {os.cpu_count()} logical cores, torch {torch.__version__} at {torch.get_num_threads()} thread, "
            f"Python {platform.python_version()}")


def in_processes(script: str, processes: int) -> list[Any]:
    """Run `script` with this process's arguments in `processes` fresh processes, one after another, each with
    `--processes 1 --samples-to FILE`; the JSON each wrote to its FILE, in order."""
    import json
    import subprocess
    import tempfile
    argv, skip = [], False
    for arg in sys.argv[1:]:  # drop this run's --processes N
        if skip:
            skip = False
        elif arg == "--processes":
            skip = True
        elif not arg.startswith("--processes="):
            argv.append(arg)
    found = []
    with tempfile.TemporaryDirectory() as folder:
        for k in range(processes):
            out = Path(folder) / f"{k}.json"
            subprocess.run([sys.executable, script, *argv, "--processes", "1", "--samples-to", str(out)], check=True,
                           stdout=subprocess.DEVNULL)
            found.append(json.loads(out.read_text()))
            print(f"  process {k + 1} of {processes} done", file=sys.stderr, flush=True)
    return found


def bench(names: list[str], sizes: list[int], rounds: int) -> dict[tuple[str, int], dict[str, list[tuple[float, float]]]]:
    """(loss, size) -> column -> [(cpu, wall)] over the rounds; each size's inputs are made (and dropped) together."""
    samples: dict[tuple[str, int], dict[str, list[tuple[float, float]]]] = {}
    for n in sizes:
        inputs = {name: make_inputs(name, n) for name in names}
        for r in range(rounds + 1):  # round 0 is a warm-up and is not recorded
            for name, (pred, target) in inputs.items():
                for column, run in COLUMNS.items():
                    sample = measure(lambda run=run, name=name, pred=pred, target=target: run(name, pred, target))
                    if r:
                        samples.setdefault((name, n), {c: [] for c in COLUMNS})[column].append(sample)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e2, 1e4, 1e6],
                        help="elements of pred (10^2 ... 10^7; default 100 10000 1000000)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--losses", nargs="+", default=[n for n in HAND], choices=list(HAND))
    parser.add_argument("--processes", type=int, default=1,
                        help="fresh processes to pool the rounds of (default 1: this one)")
    parser.add_argument("--samples-to", help=argparse.SUPPRESS)  # a --processes worker's output file
    args = parser.parse_args()
    torch.set_num_threads(1)
    sizes = [int(s) for s in args.sizes]
    if args.samples_to:
        import json
        samples = bench(args.losses, sizes, args.rounds)
        Path(args.samples_to).write_text(json.dumps([[name, n, per_column] for (name, n), per_column in samples.items()]))
        return
    print(f"machine: {machine()}")
    print(f"median of {args.rounds} interleaved rounds"
          + (f" in each of {args.processes} fresh processes, pooled" if args.processes > 1 else "")
          + "; cpu = thread CPU time, wall = wall-clock time, in ms")
    if args.processes > 1:
        samples = {}
        for found in in_processes(__file__, args.processes):
            for name, n, per_column in found:
                pooled = samples.setdefault((name, n), {c: [] for c in COLUMNS})
                for column, values in per_column.items():
                    pooled[column].extend(tuple(v) for v in values)
    else:
        samples = bench(args.losses, sizes, args.rounds)
    header = (f"{'loss':<18} {'elements':>9} {'builtin cpu':>11} {'hand cpu':>9} {'compute cpu':>11} "
              f"{'compute wall':>12} {'/(b+h)':>7} {'/builtin':>8}")
    print(header)
    print("-" * len(header))
    at_target: dict[str, tuple[float, float]] = {}
    for (name, n), per_column in samples.items():
        cpu = {c: statistics.median(s[0] for s in v) for c, v in per_column.items()}
        wall = statistics.median(s[1] for s in per_column["compute"])
        ratio = cpu["compute"] / (cpu["builtin"] + cpu["hand"])
        to_builtin = cpu["compute"] / cpu["builtin"]
        if n == TARGET_SIZE:
            at_target[name] = (ratio, to_builtin)
        print(f"{name:<18} {n:>9,} {1e3 * cpu['builtin']:>11.2f} {1e3 * cpu['hand']:>9.2f} "
              f"{1e3 * cpu['compute']:>11.2f} {1e3 * wall:>12.2f} {ratio:>7.2f} {to_builtin:>8.1f}")
    if at_target:
        missing = sorted((r, name) for name, (r, _) in at_target.items() if r > TARGET_RATIO)
        worst_ratio, worst = max((r, name) for name, (r, _) in at_target.items())
        builtin_ratios = [b for _, b in at_target.values()]
        print(f"summary at {TARGET_SIZE:,}: target compute ≤ {TARGET_RATIO} × (builtin + hand) for every loss: "
              f"{len(at_target) - len(missing)} of {len(at_target)} meet it; worst {worst_ratio:.2f} ({worst})"
              + (f"; missing: {', '.join(f'{n} {r:.2f}' for r, n in missing)}" if missing else "")
              + f"; compute / builtin: median {statistics.median(builtin_ratios):.1f}, max {max(builtin_ratios):.1f}")
    else:
        print(f"summary: no size {TARGET_SIZE:,} in this run, so the target (compute ≤ {TARGET_RATIO} × (builtin + "
              f"hand) at {TARGET_SIZE:,}) is not assessed")


if __name__ == "__main__":
    main()
