"""Time lossapp.compute (trace + reference + gradients) against the bare torch built-in, per loss.

Prints, for each registered loss on an input of --size elements, the median time of the full
lossapp.compute call, of the torch reference alone (forward + backward, measured in the same run),
and their ratio. Run: python benchmarks/bench_compute.py [--size 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import lossapp
from lossapp.engine import read_inputs
from lossapp.reference import resolve_device, resolve_dtype, run_reference


def scaled_inputs(spec: lossapp.LossSpec, size: int) -> tuple[object, object]:
    """The spec's example, tiled along the first dimension to about `size` elements."""
    ex = spec.example
    pred_in, target_in = read_inputs(spec, ex["pred"], ex.get("target"))
    pred = pred_in.values
    reps = max(1, size // max(1, pred.numel()))
    if pred.dim() == 0:
        return pred, target_in.values if target_in else None
    tile = [reps] + [1] * (pred.dim() - 1)
    target = target_in.values if target_in else None
    if target is not None:
        target = target.repeat(*([reps] + [1] * (target.dim() - 1))) if target.dim() else target
    return pred.repeat(*tile), target


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    device, dtype = resolve_device("cpu"), resolve_dtype("float32")
    print(f"{'loss':<18} {'elements':>9} {'lossapp s':>10} {'torch s':>10} {'ratio':>7}")
    for spec in lossapp.LOSSES.values():
        if spec.family == "metrics" or spec.example.get("pred") is None:
            continue
        params = spec.example.get("params", {})
        if any(isinstance(v, str) and v.strip().startswith("[") for v in params.values()):
            params = {}  # per-class tensors sized for the small example; defaults for the tiled input
        pred, target = scaled_inputs(spec, args.size)
        try:
            effective = spec.resolve_params(params)
            if spec.prepare is not None:
                from lossapp.trace import Trace
                pred_p, target_p = spec.prepare(pred.double(), target, effective, Trace())
            else:
                pred_p, target_p = pred.double(), target
            ours = median_time(functools.partial(lossapp.compute, spec.name, pred, target,
                                                 reduction=spec.default_reduction, **params), args.repeat)
            ref = median_time(functools.partial(run_reference, spec, pred_p, target_p, effective,
                                                spec.default_reduction, device, dtype), args.repeat)
        except lossapp.InputError as exc:
            print(f"{spec.name:<18} skipped: {exc}")
            continue
        print(f"{spec.name:<18} {pred.numel():>9} {ours:>10.4f} {ref:>10.5f} {ours / ref:>7.1f}")


if __name__ == "__main__":
    main()
