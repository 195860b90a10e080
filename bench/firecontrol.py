"""Fire control's share of the kill-chain Monte Carlo, against an older tree, timed alternately.

    python bench/firecontrol.py (--against REF | --baseline /path/to/old/checkout)
                                [--preset epaa-phase-1] [--runs 256] [--pairs 5] [--json]

``--against`` names a git ref to compare with (a worktree of it is made in the temporary
directory), ``--baseline`` a source tree of shieldlab.  Each measurement is a fresh Python process (the same
interpreter and packages; only ``PYTHONPATH`` names the tree) that loads the preset, warms
the compiled kernels with a 2-run simulation, then runs ``simulate(runs, seed)`` once
with the engine's timing hook: the fire-control stage's wall time is the hook's
``engage_s`` (fire control and kill assessment, with the kill draws), its CPU time that
of the process over the same blocks (``time.process_time``: all threads).  Baseline and
current runs alternate (``--pairs`` of each, the order flipped every pair) so that a
change in the machine's load hits both; the medians are compared.  Both trees run the
same scenario, runs and seed; their outcomes may differ where the fire control was
changed (the result prints both trees' mean leakers, so a faster but different
answer shows).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from alternate import REPO, alternate, machine_info, median, worktree  # noqa: E402

_WORKER = r"""
import json, sys, time
import shieldlab
from shieldlab.engine import chain
from shieldlab.engine.montecarlo import simulate
from contextlib import contextmanager
cpu = {}
_timed = chain.timed
@contextmanager
def timed(timings, key):
    c0 = time.process_time()
    with _timed(timings, key):
        yield
    if timings is not None:
        cpu[key] = cpu.get(key, 0.0) + time.process_time() - c0
chain.timed = timed
preset, runs, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
world = shieldlab.load_world(preset)
simulate(world, runs=2, seed=0)
timings = {}
t0, c0 = time.perf_counter(), time.process_time()
res = simulate(world, runs=runs, seed=seed, timings=timings)
total, total_cpu = time.perf_counter() - t0, time.process_time() - c0
out = res.outcomes
leak = float((out["outcome"] == "leaked").sum()) / runs
print(json.dumps({"engage_s": timings["engage_s"], "engage_cpu_s": cpu.get("engage_s", float("nan")),
                  "total_s": total, "total_cpu_s": total_cpu, "mean_leakers": leak,
                  "tree": shieldlab.__file__}))
"""


def main():
    ap = argparse.ArgumentParser()
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--baseline", type=Path, help="source tree to compare with")
    which.add_argument("--against", help="git ref to compare with (a worktree of it is made)")
    ap.add_argument("--preset", default="epaa-phase-1")
    ap.add_argument("--runs", type=int, default=256)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    baseline = a.baseline.resolve() if a.baseline else worktree(a.against)
    runs = alternate({"baseline": baseline, "current": REPO}, a.pairs, _WORKER,
                     [a.preset, a.runs, a.seed])
    base, cur = runs["baseline"], runs["current"]

    res = {"date": date.today().isoformat(), **machine_info(), "preset": a.preset, "runs": a.runs, "seed": a.seed,
           "pairs": a.pairs, "baseline": a.against or str(baseline)}
    for name, xs in (("baseline", base), ("current", cur)):
        for k in ("engage_s", "engage_cpu_s", "total_s", "total_cpu_s", "mean_leakers"):
            res[f"{name}_{k}"] = round(median(xs, k), 4)
    res["fire_control_ratio"] = round(res["current_engage_s"] / res["baseline_engage_s"], 3)
    res["fire_control_cpu_ratio"] = round(res["current_engage_cpu_s"] / res["baseline_engage_cpu_s"], 3)
    res["fire_control_share_current"] = round(res["current_engage_s"] / res["current_total_s"], 3)
    res["fire_control_share_baseline"] = round(res["baseline_engage_s"] / res["baseline_total_s"], 3)
    if a.json:
        print(json.dumps(res, indent=2))
    else:
        for k, v in res.items():
            print(f"{k:32s} {v}")


if __name__ == "__main__":
    main()
