"""Peak memory of the kill chain as the raid grows: is it flat in the number of threats?

    python bench/memory.py [--preset epaa-phase-1] [--runs 64] [--scale 1,4,16]
                           [--association own|labels|gnn] [--against REF] [--json]

For each scale ``k`` the preset's threat entries fire ``k`` times as many missiles (each
entry's ``count`` times ``k``, 5 s apart where an entry had one), and a fresh Python process
runs ``shieldlab.simulate(runs, seed=1)`` once, without a warm-up (a warm-up's own chunk
would set the peak), and reports its peak resident memory (``ru_maxrss``), the runs per
chunk it used (:func:`shieldlab.engine.chain.chunk_runs`, where the tree has it; 64
before), its wall and CPU time, and the mean leakers.  Memory is not noisy as time is:
one measurement per tree and scale, after a 1-run simulation in each tree that fills its
Numba cache.  ``--against REF`` runs a git worktree of REF too.
Every result carries the CPU model, core count and load averages.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from alternate import REPO, alternate, machine_info, worktree  # noqa: E402

_WORKER = r"""
import json, resource, sys, time
import yaml
import shieldlab
from shieldlab.scenario import compile_world
from shieldlab.scenario.loader import parse, preset_text
from shieldlab.engine.montecarlo import simulate
preset, runs, k, assoc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
raw = yaml.safe_load(preset_text(preset))
for t in raw["threats"]:
    n = int(t.get("count", 1))
    t["count"] = n * k
    if n == 1 and k > 1:
        t["spacing_s"] = 5
if assoc != "own":
    raw.setdefault("tracking", {})["association"] = assoc
world = compile_world(parse(raw, preset), preset)
try:
    from shieldlab.engine.chain import chunk_runs, preflight
    size = min(runs, chunk_runs(world, preflight(world, runs)))
except ImportError:  # a tree from before chunks were sized by memory
    size = min(runs, 64)
t0, c0 = time.perf_counter(), time.process_time()
res = simulate(world, runs=runs, seed=1)
print(json.dumps({"threats": len(world.threats), "runs_per_chunk": size,
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
                  "total_s": round(time.perf_counter() - t0, 3), "total_cpu_s": round(time.process_time() - c0, 3),
                  "mean_leakers": float(res.summary["mean_leakers"]),
                  "association": world.scenario.tracking.association, "tree": shieldlab.__file__}))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="epaa-phase-1", help="built-in preset whose raid is scaled")
    ap.add_argument("--runs", type=int, default=64, help="Monte Carlo runs per measurement")
    ap.add_argument("--scale", default="1,4,16", help="threat multipliers, comma-separated")
    ap.add_argument("--association", choices=("own", "labels", "gnn"), default="own",
                    help="what fire control reads (tracking.association): the preset's own, labels or gnn")
    ap.add_argument("--against", help="git ref to measure too (a worktree of it is made)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    a = ap.parse_args()
    try:
        scales = [int(x) for x in a.scale.split(",")]
    except ValueError:
        raise SystemExit(f"--scale: whole numbers separated by commas, not {a.scale!r}") from None
    if a.runs < 1 or any(k < 1 for k in scales):
        raise SystemExit("--runs and every --scale must be at least 1")
    import yaml

    sys.path.insert(0, str(REPO / "src"))
    from shieldlab.scenario.loader import preset_names, preset_text

    if a.preset not in preset_names():
        raise SystemExit(f"--preset: no preset {a.preset!r}")
    most = max(int(t.get("count", 1)) for t in yaml.safe_load(preset_text(a.preset))["threats"])
    if most * max(scales) > 100:
        raise SystemExit(f"--scale: a threat entry holds at most 100 missiles, and {a.preset}'s largest "
                         f"count ({most}) allows a scale of {100 // most}")
    trees = {"against": worktree(a.against), "current": REPO} if a.against else {"current": REPO}
    res = {"date": date.today().isoformat(), **machine_info(), "preset": a.preset, "runs": a.runs,
           "association": a.association}
    if a.against:
        res["against"] = a.against
    alternate(trees, 1, _WORKER, [a.preset, 1, 1, a.association])  # compiles each tree's kernels: not measured
    for k in scales:
        rows = alternate(trees, 1, _WORKER, [a.preset, a.runs, k, a.association])
        res[f"x{k}"] = {name: {key: v for key, v in xs[0].items() if key != "tree"} for name, xs in rows.items()}
    if a.json:
        print(json.dumps(res, indent=2))
        return
    for key, v in res.items():
        if isinstance(v, dict):
            for name, row in v.items():
                print(f"{key:5s} {name:8s} " + "  ".join(f"{kk} {vv}" for kk, vv in row.items()))
        else:
            print(f"{key:14s} {v}")


if __name__ == "__main__":
    main()
