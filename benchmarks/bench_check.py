"""Time lossapp.check against lossapp.compute, per loss: the target is check() ≤ 2 × compute() at 10^6 elements.

Four columns, measured in the same run, interleaved (round r times every loss and size before round r + 1
starts, so that a noisy neighbour slows all of them alike; round 0 is a warm-up):

- compute:   lossapp.compute(loss, pred, target) with the defaults;
- check:     lossapp.check(...) on the same inputs for a claim that goes through every stage of the checker: not
             the value, reproduced by no convention or mistake, outside the rounding interval, written to 6
             significant digits (so the verdict is `incorrect` and the single-step search runs): the slowest claim;
- exact:     lossapp.check(...) for the value itself written to 6 significant digits: the quickest claim;
- enclosure: lossapp.interval.enclose(result) on the computed result: what check() pays for the rounding enclosure
             (once per result), with its share of the slow claim's check time.

Inputs come from bench_compute.make_inputs (float32 tensors as a training loop holds them). Above
limits.DECIMALS_MAX_ELEMENTS elements their decimals are not known, so the rounding box is a point; with
--decimals every input carries decimals (the rounding box has width everywhere: the enclosure's worst case).
Times are medians of thread CPU time (time.thread_time, torch at 1 thread). The last line states the target.
With --processes P the rounds run in P fresh processes and the medians are taken over all of them (the heap's
state, and with it the page faults of fresh buffers, differs from one process to the next: bench_compute.py).

Run: python benchmarks/bench_check.py [--sizes 1000 10000 100000 1000000] [--rounds 5] [--processes 3] [--losses bce ...]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from bench_compute import HAND, in_processes, machine, make_inputs, measure

import lossapp
from lossapp.inputs import TensorInput
from lossapp.interval import enclose

TARGET_SIZE = 1_000_000
TARGET_RATIO = 2.0  # check() ≤ TARGET_RATIO × compute()
DIGITS = 6  # significant digits of the claims


def claims(name: str, pred: Any, target: Any) -> tuple[str, str]:
    """(a claim that ends `incorrect` after every stage, the value itself), both to DIGITS significant digits."""
    result = lossapp.compute(name, pred, target)
    value = result.scalar
    enclosure = lossapp.check(name, pred, target, claimed=f"{value:.{DIGITS}g}").enclosure
    top = enclosure.hi if enclosure is not None and enclosure.sound else value
    off = top + 0.0123 * abs(value) + 10.0 ** (math.floor(math.log10(abs(value) or 1.0)) - 3)
    return f"{off:.{DIGITS}g}", f"{value:.{DIGITS}g}"


def with_decimals(t: torch.Tensor | None) -> Any:
    """The tensor with decimals: 4 for floating-point entries (integers stay exact)."""
    if t is None or not t.is_floating_point():
        return t
    return TensorInput(t.double(), np.full(tuple(t.shape), 4, dtype=np.int64))


def bench(names: list[str], sizes: list[int], rounds: int, decimals: bool) -> dict[tuple[str, int], dict[str, Any]]:
    cases: dict[tuple[str, int], dict[str, Any]] = {}
    for name in names:
        for n in sizes:
            pred, target = make_inputs(name, n)
            if decimals:
                pred, target = with_decimals(pred), with_decimals(target)
            wrong, exact = claims(name, pred, target)
            cases[(name, n)] = {
                "verdict": lossapp.check(name, pred, target, claimed=wrong).verdict,
                "runs": {"compute": partial(lossapp.compute, name, pred, target),
                         "check": partial(lossapp.check, name, pred, target, claimed=wrong),
                         "check exact": partial(lossapp.check, name, pred, target, claimed=exact),
                         "enclosure": partial(enclose, lossapp.compute(name, pred, target))},
                "times": {"compute": [], "check": [], "check exact": [], "enclosure": []}}
    for r in range(rounds + 1):
        for case in cases.values():
            for column, run in case["runs"].items():
                cpu, _ = measure(run)
                if r:
                    case["times"][column].append(cpu)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e3, 1e4, 1e5, 1e6],
                        help="elements of pred (default 1000 10000 100000 1000000)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--losses", nargs="+", default=list(HAND), choices=list(HAND))
    parser.add_argument("--decimals", action="store_true", help="give every input 4 decimals (a box of width everywhere)")
    parser.add_argument("--processes", type=int, default=1,
                        help="fresh processes to pool the rounds of (default 1: this one)")
    parser.add_argument("--samples-to", help=argparse.SUPPRESS)  # a --processes worker's output file
    args = parser.parse_args()
    torch.set_num_threads(1)
    sizes = [int(s) for s in args.sizes]
    if args.samples_to:
        import json
        cases = bench(args.losses, sizes, args.rounds, args.decimals)
        Path(args.samples_to).write_text(json.dumps(
            [[name, n, case["verdict"], case["times"]] for (name, n), case in cases.items()]))
        return
    print(f"machine: {machine()}")
    print(f"median of {args.rounds} interleaved rounds"
          + (f" in each of {args.processes} fresh processes, pooled" if args.processes > 1 else "")
          + "; thread CPU time, in ms; inputs "
          + ("with 4 decimals everywhere" if args.decimals else "as float32 tensors"))
    if args.processes > 1:
        cases = {}
        for found in in_processes(__file__, args.processes):
            for name, n, verdict, times in found:
                case = cases.setdefault((name, n), {"verdict": verdict, "times": {c: [] for c in times}})
                for column, values in times.items():
                    case["times"][column].extend(values)
    else:
        cases = bench(args.losses, sizes, args.rounds, args.decimals)
    header = (f"{'loss':<18} {'elements':>9} {'compute':>9} {'check':>9} {'ratio':>6} {'exact':>9} {'ratio':>6}"
              f" {'enclosure':>9} {'/check':>6}  verdict of the slow claim")
    print(header)
    print("-" * len(header))
    at_target: dict[str, float] = {}
    for (name, n), case in cases.items():
        compute, check, exact, enclosure = (statistics.median(case["times"][c])
                                            for c in ("compute", "check", "check exact", "enclosure"))
        ratio = check / compute
        if n == TARGET_SIZE:
            at_target[name] = ratio
        print(f"{name:<18} {n:>9,} {1e3 * compute:>9.2f} {1e3 * check:>9.2f} {ratio:>6.2f} {1e3 * exact:>9.2f} "
              f"{exact / compute:>6.2f} {1e3 * enclosure:>9.2f} {enclosure / check:>6.0%}  {case['verdict']}")
    if at_target:
        missing = sorted(((r, name) for name, r in at_target.items() if r > TARGET_RATIO), reverse=True)
        worst_ratio, worst = max((r, name) for name, r in at_target.items())
        print(f"summary at {TARGET_SIZE:,}: target check ≤ {TARGET_RATIO:g} × compute for every loss: "
              f"{len(at_target) - len(missing)} of {len(at_target)} meet it; median {statistics.median(at_target.values()):.2f}, "
              f"worst {worst_ratio:.2f} ({worst})"
              + (f"; missing: {', '.join(f'{n} {r:.2f}' for r, n in missing)}" if missing else ""))
    else:
        print(f"summary: no size {TARGET_SIZE:,} in this run, so the target (check ≤ {TARGET_RATIO:g} × compute at "
              f"{TARGET_SIZE:,}) is not assessed")


if __name__ == "__main__":
    main()
