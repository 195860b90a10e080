"""Kill-chain Monte Carlo speed: runs per second of a preset, stage by stage.

    python bench/montecarlo.py [--preset epaa-phase-1] [--runs 256] [--seed 1] [--json]

Times ``shieldlab.simulate`` itself: once untimed for the whole (``simulate_total_s``,
``runs_per_s``), once with the engine's timing hook (``simulate(..., timings=...)``,
:data:`shieldlab.engine.chain.STAGES`) for where the time goes, so the profile is that of
the engine's own stages, streams and calls (DESIGN.md: profile before optimising).  The
two runs must agree outcome for outcome (the hook changes nothing); the bench stops if
they do not.  The stage keys are those of BENCHMARKS.md's table: flyout and steering
(``flyout_and_steering_s``, once per scenario), sensors, tracking, fire control and kill
assessment (``engage_s``), outcome; plus the per-chunk dispersed flights and the result
tables, which the table folds into the whole.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import date

import numpy as np

import shieldlab
from shieldlab.engine.chain import STAGES
from shieldlab.engine.montecarlo import simulate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="epaa-phase-1")
    ap.add_argument("--runs", type=int, default=256)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    world = shieldlab.load_world(a.preset)
    simulate(world, runs=2, seed=0)  # compile and warm caches outside the timing
    t0 = time.perf_counter()
    plain = simulate(world, runs=a.runs, seed=a.seed)
    total = time.perf_counter() - t0
    stage = dict.fromkeys(STAGES, 0.0)
    timed = simulate(world, runs=a.runs, seed=a.seed, timings=stage)
    leak = [int(np.sum(r.outcomes["outcome"] == "leaked")) for r in (plain, timed)]
    same = leak[0] == leak[1] and all(
        np.array_equal(v, timed.outcomes[k], equal_nan=v.dtype.kind == "f") for k, v in plain.outcomes.items())
    if not same:
        raise SystemExit(f"timed and untimed simulate disagree: leakers {leak[0]} vs {leak[1]}")
    res = {"date": date.today().isoformat(), "machine": platform.machine(), "cores": os.cpu_count(),
           "preset": a.preset, "runs": a.runs, "seed": a.seed, "threats": len(world.threats),
           "leakers": leak[0], "mean_leakers": plain.summary["mean_leakers"],
           "runs_per_s": a.runs / total, **{k: round(v, 3) for k, v in stage.items()},
           "simulate_total_s": round(total, 3)}
    print(json.dumps(res, indent=2) if a.json else "\n".join(f"{k}: {v}" for k, v in res.items()))


if __name__ == "__main__":
    main()
