"""Kill-chain Monte Carlo speed: runs per second of a preset, stage by stage, and against a git ref.

    python bench/montecarlo.py [--preset epaa-phase-1] [--runs 256] [--seed 1] [--pairs 5]
                               [--against REF] [--association own|labels|gnn] [--filter own|ekf|ukf|imm]
                               [--no-stages] [--json]

Each measurement is a fresh Python process (:mod:`alternate`) that loads the preset, warms
the compiled kernels with a 2-run simulation (compilation is not timed), then times
``shieldlab.simulate(runs, seed)`` as a whole: wall time (``time.perf_counter``), CPU time
of the process (``time.process_time``, all threads) and its peak resident memory.  Unless
``--no-stages``, it runs the same simulation again with the engine's timing hook
(``simulate(..., timings=...)``, :data:`shieldlab.engine.chain.STAGES`) for where the time
goes, and stops if the two runs disagree on any outcome (the hook changes nothing).  The
stage keys are those of BENCHMARKS.md's table: flyout and steering
(``flyout_and_steering_s``, once per scenario), sensors, tracking, fire control and kill
assessment (``engage_s``), outcome; plus the per-chunk dispersed flights and the result
tables.  Medians over ``--pairs`` measurements.

``--against REF`` times a git worktree of REF (made in the temporary directory) and this
tree alternately, ``--pairs`` of each (the order flipped every pair, so a change in the
machine's load hits both), and reports the speed-up as the ratio of their medians, in wall
and in CPU time (the median of the pairs' ratios), and whether every outcome of every run is
the same in both: the decisions (every column that is not a float: outcome, battery,
engagements, ...) hashed, and the largest difference of any time or place (where the model did
not change, a faster chain must give the same answers, up to the last bits of its sums).
Every result carries the CPU model, core count and load averages.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from alternate import REPO, alternate, machine_info, median, worktree  # noqa: E402

_WORKER = r"""
import hashlib, json, resource, sys, time
import numpy as np
import shieldlab
from shieldlab.engine.montecarlo import simulate
preset, runs, seed, stages, assoc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]
kf = sys.argv[6] if len(sys.argv) > 6 else "own"
world = shieldlab.load_world(preset)
used = getattr(world.scenario.tracking, "association", "labels")  # a tree from before it: labels
settings = {}
if assoc != "own" and hasattr(world.scenario.tracking, "association"):
    settings["association"] = used = assoc
if kf != "own":
    settings["filter"] = kf
if settings:
    from shieldlab.scenario import compile_world
    scn = world.scenario
    world = compile_world(scn.model_copy(update={"tracking": scn.tracking.model_copy(update=settings)}))
simulate(world, runs=2, seed=0)
t0, c0 = time.perf_counter(), time.process_time()
plain = simulate(world, runs=runs, seed=seed)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
out = {"total_s": wall, "total_cpu_s": cpu, "runs_per_s": runs / wall,
       "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
       "mean_leakers": float(plain.summary["mean_leakers"]), "threats": len(world.threats),
       "tree": shieldlab.__file__, "association": used, "filter": world.scenario.tracking.filter}
h = hashlib.sha256()
for k in sorted(plain.outcomes):
    v = np.asarray(plain.outcomes[k])
    if v.dtype.kind == "f":  # times and places to a micro-unit: the last bits of a filter's sums do not count
        v = np.round(v, 6) + 0.0
    h.update(k.encode())
    h.update(v.astype(str).tobytes() if v.dtype.kind in "OUS" else np.ascontiguousarray(v).tobytes())
out["outcomes_sha256"] = h.hexdigest()
# the decisions alone (every column that is not a float), and the floats themselves, so two
# trees can be compared with a tolerance: a rounding to 1e-6 flips where a value sits on an edge
d = hashlib.sha256()
for k in sorted(plain.outcomes):
    v = np.asarray(plain.outcomes[k])
    if v.dtype.kind != "f":
        d.update(k.encode())
        d.update(v.astype(str).tobytes() if v.dtype.kind in "OUS" else np.ascontiguousarray(v).tobytes())
out["decisions_sha256"] = d.hexdigest()
out["floats"] = {k: [None if not np.isfinite(x) else float(x) for x in np.asarray(v, float)]
                 for k, v in plain.outcomes.items() if np.asarray(v).dtype.kind == "f"}
if stages:
    from shieldlab.engine.chain import STAGES
    stage = dict.fromkeys(STAGES, 0.0)
    timed = simulate(world, runs=runs, seed=seed, timings=stage)
    same = all(np.array_equal(v, timed.outcomes[k], equal_nan=v.dtype.kind == "f")
               for k, v in plain.outcomes.items())
    if not same:
        raise SystemExit("timed and untimed simulate disagree")
    out.update(stage)
print(json.dumps(out))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="epaa-phase-1")
    ap.add_argument("--runs", type=int, default=256)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pairs", type=int, default=5, help="measurements per tree (medians are reported)")
    ap.add_argument("--against", help="git ref to time against (a worktree of it is made)")
    ap.add_argument("--no-stages", action="store_true", help="skip the stage-by-stage profile run")
    ap.add_argument("--association", choices=("own", "labels", "gnn"), default="own",
                    help="what fire control reads (tracking.association) in every tree that has the setting: "
                         "the preset's own, labels, or gnn (tracks of reports without labels); a tree from before "
                         "the setting runs its labelled tracker, and each result says which it ran")
    ap.add_argument("--filter", choices=("own", "ekf", "ukf", "imm"), default="own",
                    help="the track filter (tracking.filter) in every tree: the preset's own or the one named")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.pairs < 1 or a.runs < 1:
        raise SystemExit("--pairs and --runs must be at least 1")
    trees = {"current": REPO}
    if a.against:
        trees = {"against": worktree(a.against), "current": REPO}
    rows = alternate(trees, a.pairs, _WORKER, [a.preset, a.runs, a.seed, "0" if a.no_stages else "1", a.association,
                                                 a.filter])
    res = {"date": date.today().isoformat(), **machine_info(), "preset": a.preset, "runs": a.runs, "seed": a.seed,
           "pairs": a.pairs}
    if a.against:
        res["against"] = a.against
    for name, xs in rows.items():
        keys = [k for k, v in xs[0].items() if isinstance(v, float)]
        part = {k: round(median(xs, k), 4) for k in keys}
        part["threats"] = xs[0]["threats"]
        part["association"], part["filter"] = xs[0].get("association"), xs[0].get("filter")
        part["tree"] = str(trees[name])  # the source tree it ran (each run checked it imported that one)
        part["outcomes_sha256"] = xs[0]["outcomes_sha256"]
        part["decisions_sha256"] = xs[0]["decisions_sha256"]
        if len({x["outcomes_sha256"] for x in xs}) != 1:
            raise SystemExit(f"{name}: the same runs gave different outcomes in two processes")
        res[name] = part
    if a.against:
        cur, ref = res["current"], res["against"]
        # the median of the pairs' ratios (each pair ran within a minute), beside the ratio of medians
        pairs = list(zip(rows["against"], rows["current"]))
        res["speedup_wall"] = round(statistics.median(r["total_s"] / c["total_s"] for r, c in pairs), 3)
        res["speedup_cpu"] = round(statistics.median(r["total_cpu_s"] / c["total_cpu_s"] for r, c in pairs), 3)
        res["speedup_wall_per_pair"] = [round(r["total_s"] / c["total_s"], 3) for r, c in pairs]
        res["same_outcomes"] = cur["outcomes_sha256"] == ref["outcomes_sha256"]
        res["same_decisions"] = cur["decisions_sha256"] == ref["decisions_sha256"]
        fa, fb = rows["against"][0]["floats"], rows["current"][0]["floats"]
        diffs = [abs(x - y) for k in fa if k in fb for x, y in zip(fa[k], fb[k]) if x is not None and y is not None]
        nan_moved = sum((x is None) != (y is None) for k in fa if k in fb for x, y in zip(fa[k], fb[k]))
        res["largest_float_difference"] = max(diffs, default=0.0)
        res["floats_nan_in_one_only"] = nan_moved
    if a.json:
        print(json.dumps(res, indent=2))
        return
    for k, v in res.items():
        if isinstance(v, dict):
            print(f"{k}:")
            for kk, vv in v.items():
                print(f"  {kk:28s} {vv}")
        else:
            print(f"{k:30s} {v}")


if __name__ == "__main__":
    main()
