"""Peak memory of lossapp.compute against the bare torch built-in and a hand-written float64 formula, per loss.

The same three columns as bench_compute.py (builtin: the float32 built-in forward + backward; hand: the
hand-written float64 autograd formula; compute: lossapp.compute), on the same float32 inputs. Each
measurement runs in a fresh subprocess: it builds the inputs, runs the column once on a tiny input (so
that imports and first-call set-up are not counted), then resets the peak resident set size (Linux:
/proc/self/clear_refs) and runs the column at full size. Reported, in MB:

- peak:     the growth of the peak RSS (VmHWM) over the RSS before the call;
- held:     compute only: the RSS growth while the Result is alive (what it keeps: the inputs as float64,
            the unreduced loss, the shown elements);
- retained: compute only: the RSS growth left after the Result is dropped (should be ~0).

Each figure is the median of --repeat fresh processes: the heap's layout, and with it the peak RSS, varies
from one process to the next by up to a third for the same computation.

Freed heap memory is handed back to the system (malloc_trim) before each RSS reading, so that held and
retained count what is still referenced. The last line states the target: compute's peak at 10^6
elements ≤ 2 × (builtin + hand), and nothing large retained.

Run: python benchmarks/bench_memory.py [--size 1000000] [--repeat 3] [--losses bce mse ...]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import statistics
import subprocess
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_compute: the inputs and the columns
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from bench_compute import COLUMNS, HAND, machine, make_inputs

TARGET_RATIO = 2.0  # compute's peak ≤ TARGET_RATIO × (builtin + hand)
RETAINED_MAX_MB = 1.0  # "nothing large retained"
MB = 2**20


def _status(key: str) -> int:
    """A /proc/self/status field in bytes (VmRSS: resident now, VmHWM: the peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(key)


def _trim() -> None:
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: RSS then also counts freed heap memory
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def child(name: str, column: str, size: int) -> dict[str, float]:
    """One measurement, in this (fresh) process."""
    torch.set_num_threads(1)
    run = COLUMNS[column]
    small = make_inputs(name, 100)
    run(name, *small)  # imports and first-call set-up, not counted
    pred, target = make_inputs(name, size)
    _trim()
    base = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from the RSS now
    result = run(name, pred, target)
    peak = _status("VmHWM") - base
    out = {"peak": peak / MB}
    if column == "compute":
        _trim()
        out["held"] = (_status("VmRSS") - base) / MB
        del result
        _trim()
        out["retained"] = (_status("VmRSS") - base) / MB
    return out


def measure(name: str, column: str, size: int, repeat: int) -> dict[str, float]:
    """The median of `repeat` fresh processes (the heap's layout, and so the RSS, varies from one to the next)."""
    runs = []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, __file__, "--child", name, column, str(size)], capture_output=True,
                              text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=float, default=1e6, help="elements of pred (default 1000000)")
    parser.add_argument("--losses", nargs="+", default=list(HAND), choices=list(HAND))
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per measurement (median)")
    parser.add_argument("--child", nargs=3, metavar=("LOSS", "COLUMN", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, column, size = args.child
        print(json.dumps(child(name, column, int(size))))
        return
    size = int(args.size)
    torch.set_num_threads(1)
    print(f"machine: {machine()}")
    print(f"peak RSS growth in MB, each measurement in a fresh process (median of {args.repeat}), {size:,} elements")
    header = (f"{'loss':<18} {'builtin':>8} {'hand':>8} {'compute':>8} {'/(b+h)':>7} {'held':>7} {'retained':>9}")
    print(header)
    print("-" * len(header))
    ratios: dict[str, float] = {}
    retained: dict[str, float] = {}
    for name in args.losses:
        m = {column: measure(name, column, size, args.repeat) for column in COLUMNS}
        b, h, c = m["builtin"]["peak"], m["hand"]["peak"], m["compute"]["peak"]
        ratios[name] = c / max(b + h, 1e-9)
        retained[name] = m["compute"]["retained"]
        print(f"{name:<18} {b:>8.1f} {h:>8.1f} {c:>8.1f} {ratios[name]:>7.2f} {m['compute']['held']:>7.1f} "
              f"{retained[name]:>9.1f}", flush=True)
    missing = sorted((r, n) for n, r in ratios.items() if r > TARGET_RATIO)
    worst_ratio, worst = max((r, n) for n, r in ratios.items())
    kept = [n for n, r in retained.items() if r > RETAINED_MAX_MB]
    print(f"summary at {size:,}: target peak ≤ {TARGET_RATIO} × (builtin + hand) for every loss: "
          f"{len(ratios) - len(missing)} of {len(ratios)} meet it; worst {worst_ratio:.2f} ({worst})"
          + (f"; missing: {', '.join(f'{n} {r:.2f}' for r, n in missing)}" if missing else "")
          + f"; retained after the Result is dropped: max {max(retained.values()):.1f} MB"
          + (f" (over {RETAINED_MAX_MB} MB: {', '.join(kept)})" if kept else ""))


if __name__ == "__main__":
    main()
