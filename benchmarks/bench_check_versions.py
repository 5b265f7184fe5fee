"""check() against compute() at 10^6 elements for two versions of lossapp in ONE process: this checkout and a baseline
(another checkout's root, e.g. `git worktree add /tmp/base main` or `git archive main lossapp | tar -x -C /tmp/base`).

Both packages are imported side by side (each one's modules are swapped into sys.modules before each of its calls, so
that the imports inside its functions find its own modules); rounds are interleaved (round r times every loss, both
versions, the version that goes first alternating, before round r + 1; round 0 is a warm-up), so that a noisy neighbour
slows both alike. Per loss, as in bench_check.py: compute() with the defaults, check() for the slowest claim (incorrect:
every stage runs) and for the value itself, medians of thread CPU time (torch at 1 thread); the claims are this
checkout's, and both versions must give the same verdicts and explanations (else the run stops). The load average after
each round is printed: on a shared machine the ratios move with it.

Run: python benchmarks/bench_check_versions.py --baseline /tmp/base [--rounds 3] [--losses bce focal ...] [--size 1e6]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_check import TARGET_RATIO, claims  # noqa: E402
from bench_compute import HAND, machine, make_inputs  # noqa: E402

COLUMNS = ("compute", "check", "exact")


def load(root: Path) -> dict[str, ModuleType]:
    """The lossapp package under `root`, imported with its submodules, as sys.modules entries."""
    for name in [k for k in sys.modules if k == "lossapp" or k.startswith("lossapp.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        for module in ("lossapp", "lossapp.engine", "lossapp.verdicts", "lossapp.interval"):
            importlib.import_module(module)
    finally:
        sys.path.remove(str(root))
    modules = {k: v for k, v in sys.modules.items() if k == "lossapp" or k.startswith("lossapp.")}
    if not str(modules["lossapp"].__file__).startswith(str(root)):
        raise SystemExit(f"lossapp under {root} was not the one imported ({modules['lossapp'].__file__})")
    return modules


def thread_time(fn: Callable[[], Any]) -> float:
    gc.collect()
    start = time.thread_time()
    fn()
    return time.thread_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="root of the checkout to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--losses", nargs="+", default=list(HAND), choices=list(HAND))
    parser.add_argument("--size", type=float, default=1e6, help="elements of pred (default 1000000)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    n = int(args.size)
    versions = {"baseline": load(args.baseline.resolve()), "this": load(HERE.parent)}  # "this" stays imported

    def use(version: str) -> Any:
        sys.modules.update(versions[version])
        return versions[version]["lossapp"]

    cases: dict[str, dict[str, Any]] = {}
    for name in args.losses:
        use("this")
        pred, target = make_inputs(name, n)
        wrong, exact = claims(name, pred, target)
        said = {}
        for version in versions:
            lossapp = use(version)
            slow, quick = (lossapp.check(name, pred, target, claimed=c) for c in (wrong, exact))
            said[version] = (slow.verdict, str(slow.explanation), quick.verdict, str(quick.explanation))
        if said["baseline"] != said["this"]:
            raise SystemExit(f"{name}: the versions disagree: {said}")
        cases[name] = {"inputs": (pred, target), "claims": (wrong, exact), "verdict": said["this"][0],
                       "times": {(v, c): [] for v in versions for c in COLUMNS}}
    print(f"machine: {machine()}; {n:,} elements; baseline {args.baseline}")
    loads = []
    for r in range(args.rounds + 1):
        for i, (name, case) in enumerate(cases.items()):
            for version in (("baseline", "this") if (r + i) % 2 == 0 else ("this", "baseline")):
                lossapp = use(version)
                (pred, target), (wrong, exact) = case["inputs"], case["claims"]
                runs = {"compute": partial(lossapp.compute, name, pred, target),
                        "check": partial(lossapp.check, name, pred, target, claimed=wrong),
                        "exact": partial(lossapp.check, name, pred, target, claimed=exact)}
                for column, run in runs.items():
                    spent = thread_time(run)
                    if r:
                        case["times"][(version, column)].append(spent)
        loads.append(os.getloadavg()[0])
    print(f"median of {args.rounds} interleaved rounds of thread CPU time, in ms; load average (1 min) after each round: "
          + ", ".join(f"{x:.1f}" for x in loads))
    header = (f"{'loss':<18} {'compute':>8} {'compute':>8} {'check':>8} {'check':>8} {'ratio':>6} {'ratio':>6} "
              f"{'exact':>6} {'exact':>6}  verdict\n{'':<18} {'baseline':>8} {'this':>8} {'baseline':>8} {'this':>8} "
              f"{'base':>6} {'this':>6} {'base':>6} {'this':>6}")
    print(header)
    print("-" * 100)
    ratios: dict[str, list[tuple[float, str]]] = {"baseline": [], "this": [], "baseline exact": [], "this exact": []}
    for name, case in cases.items():
        t = {key: statistics.median(v) for key, v in case["times"].items()}
        slow = {v: t[(v, "check")] / t[(v, "compute")] for v in versions}
        quick = {v: t[(v, "exact")] / t[(v, "compute")] for v in versions}
        for v in versions:
            ratios[v].append((slow[v], name))
            ratios[f"{v} exact"].append((quick[v], name))
        print(f"{name:<18} {1e3 * t[('baseline', 'compute')]:>8.1f} {1e3 * t[('this', 'compute')]:>8.1f} "
              f"{1e3 * t[('baseline', 'check')]:>8.1f} {1e3 * t[('this', 'check')]:>8.1f} {slow['baseline']:>6.2f} "
              f"{slow['this']:>6.2f} {quick['baseline']:>6.2f} {quick['this']:>6.2f}  {case['verdict']}")
    for label, values in ratios.items():
        missing = sorted(((r, name) for r, name in values if r > TARGET_RATIO), reverse=True)
        print(f"{label}: check ≤ {TARGET_RATIO:g} × compute for {len(values) - len(missing)} of {len(values)}, median "
              f"{statistics.median(r for r, _ in values):.2f}"
              + (f"; not within: {', '.join(f'{name} {r:.1f}' for r, name in missing)}" if missing else ""))


if __name__ == "__main__":
    main()
