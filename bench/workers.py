"""Dask workers: the kill chain on 1 and 2 local worker processes (and in-process), alternately.

    python bench/workers.py [--preset epaa-phase-1] [--runs 1024] [--pairs 5] [--json]

Two ``distributed.LocalCluster`` s (1 and 2 single-threaded worker processes) are started
once and warmed (a 2-run simulation on each, so every worker has loaded the compiled
kernels); then ``simulate(runs, seed, client=...)`` is timed on each, and in this process
without Dask, in turn, ``--pairs`` times with the order rotated, so a change in the
machine's load hits all three.  Cluster start-up is not timed (it is paid once per
command: a few seconds).  Reported: the median wall time of each, the speed-up from 1 to
2 workers (the median of the rounds' ratios), Dask's overhead at 1 worker against the
plain loop, whether all three gave the same summary, and the CPU model, cores and load
averages.  On an N-core machine the ideal speed-up from 1 to 2 workers is 2 only if
nothing else runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from alternate import machine_info  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="epaa-phase-1")
    ap.add_argument("--runs", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    import shieldlab
    from shieldlab.engine.distribute import client_for
    from shieldlab.engine.montecarlo import simulate

    load0 = [round(x, 2) for x in os.getloadavg()]
    world = shieldlab.load_world(a.preset)
    simulate(world, runs=2, seed=0)
    times: dict[str, list[float]] = {"in_process": [], "workers_1": [], "workers_2": []}
    summaries = {}
    with client_for(workers=1) as c1, client_for(workers=2) as c2:
        clients = {"in_process": None, "workers_1": c1, "workers_2": c2}
        for c in (c1, c2):
            simulate(world, runs=2 * 64, seed=0, client=c)  # every worker loads the kernels
        order = list(clients)
        for i in range(a.pairs):
            for name in order[i % 3:] + order[:i % 3]:
                t0 = time.perf_counter()
                res = simulate(world, runs=a.runs, seed=a.seed, client=clients[name])
                times[name].append(time.perf_counter() - t0)
                summaries[name] = res.summary
    med = {k: statistics.median(v) for k, v in times.items()}
    # ratios within a round (the three ran within a minute of each other), then their median
    speedups = [one / two for one, two in zip(times["workers_1"], times["workers_2"])]
    overheads = [one / plain for one, plain in zip(times["workers_1"], times["in_process"])]
    res = {"date": date.today().isoformat(), **machine_info(), "loadavg_at_start": load0, "preset": a.preset,
           "runs": a.runs, "seed": a.seed, "pairs": a.pairs, **{f"{k}_s": round(v, 3) for k, v in med.items()},
           "speedup_1_to_2_workers": round(statistics.median(speedups), 3),
           "speedup_per_round": [round(x, 3) for x in speedups],
           "dask_overhead_1_worker": round(statistics.median(overheads), 3),
           "same_summary": summaries["in_process"] == summaries["workers_1"] == summaries["workers_2"],
           "all_times_s": {k: [round(x, 3) for x in v] for k, v in times.items()}}
    print(json.dumps(res, indent=2) if a.json else "\n".join(f"{k:26s} {v}" for k, v in res.items()))


if __name__ == "__main__":
    main()
