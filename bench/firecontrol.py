"""Fire control's share of the kill-chain Monte Carlo, against an older tree, timed alternately.

    python bench/firecontrol.py --baseline /path/to/old/checkout [--preset epaa-phase-1]
                                [--runs 256] [--pairs 3] [--json]

``--baseline`` is a source tree of shieldlab (a ``git worktree add /tmp/base REV`` of the
commit to compare with).  Each measurement is a fresh Python process (the same
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
import os
import statistics
import subprocess
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_model  # noqa: E402

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


def measure(tree: Path, preset: str, runs: int, seed: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    p = subprocess.run([sys.executable, "-c", _WORKER, preset, str(runs), str(seed)], env=env,
                       capture_output=True, text=True, check=False)
    if p.returncode:
        raise SystemExit(f"the run in {tree} failed:\n{p.stderr[-3000:]}")
    out = json.loads(p.stdout.strip().splitlines()[-1])
    if not out["tree"].startswith(str(tree)):
        raise SystemExit(f"the run meant for {tree} imported {out['tree']}")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", required=True, type=Path, help="source tree to compare with")
    ap.add_argument("--preset", default="epaa-phase-1")
    ap.add_argument("--runs", type=int, default=256)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    here = Path(__file__).resolve().parents[1]
    base, cur = [], []
    for i in range(a.pairs):
        order = [(a.baseline.resolve(), base), (here, cur)]
        for tree, sink in (order if i % 2 == 0 else order[::-1]):
            sink.append(measure(tree, a.preset, a.runs, a.seed))

    def med(xs, k):
        return statistics.median(x[k] for x in xs)

    res = {"date": date.today().isoformat(), "cpu": cpu_model(), "cores": os.cpu_count(),
           "load_avg_1min": os.getloadavg()[0], "preset": a.preset, "runs": a.runs, "seed": a.seed,
           "pairs": a.pairs, "baseline": str(a.baseline)}
    for name, xs in (("baseline", base), ("current", cur)):
        for k in ("engage_s", "engage_cpu_s", "total_s", "total_cpu_s", "mean_leakers"):
            res[f"{name}_{k}"] = round(med(xs, k), 4)
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
