"""Time batch grading (lossapp.grade.grade_csv) of an answers CSV against plain torch reference calls.

Builds an answers CSV of --rows rows (default 1,000) cycling through every registered loss's example,
with claims that are exact, rounded to fewer decimals, off by a known mistake (log10), wrong, and a few
malformed rows; grades it, in interleaved rounds, twice: as grade_csv does (rows of one problem share its
computation and the checker's claim-free work, `lossapp.grade.Problems`) and with nothing shared (every row
computed and checked on its own, as one `lossapp.check` call per row). Prints rows/s, the time per row (median
thread CPU time) and, like every benchmark here, the ratio against the torch built-in measured in the same run:
one plain reference call (the loss's torch built-in on the parsed inputs, CPU float32) per row. The acceptance
bar is 1,000 rows in well under 30 s.

Run: python benchmarks/bench_grade.py [--rows 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import lossapp
import lossapp.grade
from lossapp.engine import read_inputs
from lossapp.grade import grade_csv

LIMIT_SECONDS = 30.0


def _cases() -> list[tuple[str, str | None, str | None, dict, float]]:
    """(loss, pred, target, params, true value) for every loss's example, mean reduction where it has one."""
    out = []
    for spec in lossapp.LOSSES.values():
        ex = spec.example
        params = {k: v for k, v in (ex.get("params") or {}).items()}
        if spec.name == "confusion":
            result = lossapp.compute("confusion", None, None, **params)
            out.append(("confusion", None, None, params, result.scalar))
            continue
        if ex.get("pred") is None:
            continue
        result = lossapp.compute(spec.name, ex["pred"], ex.get("target"), **params)
        if result.value.dim() == 0 and math.isfinite(result.scalar):
            out.append((spec.name, ex["pred"], ex.get("target"), params, result.scalar))
    return out


def make_answers(rows: int, seed: int = 0) -> str:
    """An answers CSV: id, loss, pred, target, params, claimed."""
    rng = random.Random(seed)
    cases = _cases()
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "loss", "pred", "target", "params", "claimed"])
    for i in range(rows):
        loss, pred, target, params, value = cases[i % len(cases)]
        kind = i % 10
        if kind == 9:  # malformed: a params cell that is not JSON
            writer.writerow([f"s{i:04d}", loss, pred or "", target or "", "{alpha: 0.25", "0.5"])
            continue
        if kind in (0, 1, 2):
            claimed = f"{value:.{rng.randint(2, 6)}f}"
        elif kind in (3, 4):
            claimed = f"{value / math.log(10):.4f}"
        elif kind == 5:
            claimed = f"{-value:.4f}"
        else:
            claimed = f"{value * (1 + rng.uniform(0.05, 0.5)):.4f}"
        writer.writerow([f"s{i:04d}", loss, pred or "", target or "", json.dumps(params), claimed])
    return buf.getvalue()


def reference_time(text: str) -> float:
    """One plain torch reference call per row (the built-in on the parsed inputs, CPU float32), in seconds of
    thread CPU time (after one warm-up call per row)."""
    prepared = []
    for row in csv.DictReader(io.StringIO(text)):
        spec = lossapp.lookup(row["loss"])
        if spec.name == "confusion" or not row["pred"]:
            continue
        try:
            params = spec.resolve_params(json.loads(row["params"]))
        except (json.JSONDecodeError, lossapp.InputError):
            continue
        pred_in, target_in = read_inputs(spec, row["pred"], row["target"] or None)
        x, t = pred_in.values, target_in.values if target_in else None
        if spec.prepare is not None:
            from lossapp.trace import Trace
            x, t = spec.prepare(x, t, params, Trace())
        x = x.float()
        t = t.float() if t is not None and t.is_floating_point() else t
        p = {k: (v.float() if isinstance(v, torch.Tensor) and v.is_floating_point() else v) for k, v in params.items()}
        prepared.append((spec, x, t, p, "mean" if "mean" in spec.reductions else spec.default_reduction))
    for spec, x, t, p, reduction in prepared:
        spec.reference(x, t, p, reduction)
    start = time.thread_time()
    for spec, x, t, p, reduction in prepared:
        spec.reference(x, t, p, reduction)
    return (time.thread_time() - start) / max(1, len(prepared))


def grade(text: str, shared: bool) -> tuple[float, pd.DataFrame]:
    """(thread CPU seconds, the verdicts) of grading `text`, sharing problems between rows or not."""
    kept, lossapp.grade.PROBLEMS_KEPT = lossapp.grade.PROBLEMS_KEPT, (lossapp.grade.PROBLEMS_KEPT if shared else 0)
    try:
        start = time.thread_time()
        table = grade_csv(text)
        return time.thread_time() - start, table
    finally:
        lossapp.grade.PROBLEMS_KEPT = kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    text = make_answers(args.rows)
    grade_csv(make_answers(50, seed=1))  # warm up imports and kernels
    times: dict[bool, list[float]] = {True: [], False: []}
    tables = {}
    for _ in range(args.repeat):
        for shared in (True, False):
            seconds, tables[shared] = grade(text, shared)
            times[shared].append(seconds)
    same = tables[True].equals(tables[False])
    ref = reference_time(text)
    counts = tables[True]["verdict"].value_counts().to_dict()
    for shared, label in ((True, "grade_csv (problems shared)"), (False, "every row on its own")):
        total = statistics.median(times[shared])
        per_row = total / args.rows
        print(f"{label:<28} rows: {args.rows}   total: {total:.2f} s   rows/s: {args.rows / total:.1f}   "
              f"per row: {per_row * 1e3:.2f} ms   / reference: {per_row / ref:.0f}x")
    print(f"torch reference per row: {ref * 1e6:.1f} µs (thread CPU time); the two gradings agree row for row: {same}")
    print("verdicts: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    total = statistics.median(times[True])
    status = "OK" if total * 1000 / args.rows < LIMIT_SECONDS else "TOO SLOW"
    print(f"1,000 rows would take {total * 1000 / args.rows:.1f} s (limit {LIMIT_SECONDS:.0f} s): {status}")


if __name__ == "__main__":
    main()
