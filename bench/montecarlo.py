"""Kill-chain Monte Carlo speed: runs per second of a preset, stage by stage.

    python bench/montecarlo.py [--preset epaa-phase-1] [--runs 256] [--json]

Times the threat flyout and steering (once per scenario) and then each stage of
the chain over the runs, so a profile of where the time goes is kept with the
number (DESIGN.md: profile before optimising).
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
from shieldlab.engage.planner import engage
from shieldlab.engine.chain import CHUNK, _broadcast, fly_threats
from shieldlab.outcome import score
from shieldlab.sensors.radar import observe
from shieldlab.tracking.tracker import track


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="epaa-phase-1")
    ap.add_argument("--runs", type=int, default=256)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    world = shieldlab.load_world(a.preset)
    shieldlab.simulate(world, runs=2, seed=0)  # compile and warm caches outside the timing
    t = {}
    t0 = time.perf_counter()
    flights = fly_threats(world)
    t["flyout_and_steering_s"] = time.perf_counter() - t0
    stage = dict.fromkeys(("sensors_s", "tracking_s", "engage_s", "outcome_s"), 0.0)
    seeds = np.random.SeedSequence(1).spawn((a.runs + CHUNK - 1) // CHUNK)
    for i, ss in enumerate(seeds):
        C = min(CHUNK, a.runs - i * CHUNK)
        truth = _broadcast(flights.truth, C)
        streams = ss.spawn(len(world.sensors) + 1)
        rcs = np.array([th.missile.rcs_m2 for th in world.threats])
        t0 = time.perf_counter()
        dets = [observe(s.radar, truth, rcs, np.random.default_rng(streams[k])) for k, s in enumerate(world.sensors)]
        stage["sensors_s"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        tracks = {sy: track([d for d, s in zip(dets, world.sensors) if s.system == sy], sy) for sy in world.systems}
        stage["tracking_s"] += time.perf_counter() - t0
        doc = world.scenario.doctrine
        u = np.random.default_rng(streams[-1]).random((C, len(world.threats), doc.max_engagements, doc.salvo))
        t0 = time.perf_counter()
        eng = engage(world, tracks, truth, u)
        stage["engage_s"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        score(world, truth, eng)
        stage["outcome_s"] += time.perf_counter() - t0
    t.update(stage)
    t0 = time.perf_counter()
    shieldlab.simulate(world, runs=a.runs, seed=1)
    t["simulate_total_s"] = time.perf_counter() - t0
    res = {"date": date.today().isoformat(), "machine": platform.machine(), "cores": os.cpu_count(),
           "preset": a.preset, "runs": a.runs, "threats": len(world.threats),
           "runs_per_s": a.runs / t["simulate_total_s"], **{k: round(v, 3) for k, v in t.items()}}
    print(json.dumps(res, indent=2) if a.json else "\n".join(f"{k}: {v}" for k, v in res.items()))


if __name__ == "__main__":
    main()
