"""Flyout speed: trajectory-steps per second of the NumPy reference, the Numba
fast path and SciPy's solve_ivp, measured side by side in one run.

    python bench/flyout.py [--json] [--quick]

Work unit: one trajectory of a two-stage missile (the generic test vehicle of
tests/test_flyout.py) over 2,000 s of simulated time on a 1 s grid, full model
(rotating WGS84 Earth, J2, US-1976 drag), random launch points and azimuths; a
"trajectory-step" is one of those 1 s grid steps, whoever integrates it.

* Fast path and reference: ``shieldlab.flyout.integrate.run``.  At B = 100,000
  the fast path runs with ``record=False`` (impact and events only: what
  footprints and Monte Carlo raids use); 100,000 recorded trajectories would
  take 10 GB.
* solve_ivp: the same right-hand side (the reference's vectorised derivative at
  B = 1), one call per trajectory and per segment between the vehicle's events
  (staging, pitch-over, burnout), impact as a terminal event; rtol/atol chosen
  so its impact agrees with the fast path's within 10 m (the script checks and
  reports the worst miss).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_flyout import two_stage  # noqa: E402

from shieldlab import earth  # noqa: E402
from shieldlab.flyout import reference  # noqa: E402
from shieldlab.flyout.integrate import FULL, run  # noqa: E402
from shieldlab.flyout.vehicle import vehicle_from_missiles  # noqa: E402

T_FLIGHT, DT = 2000.0, 1.0
T = int(T_FLIGHT / DT)


def _inputs(B, seed=0):
    veh = vehicle_from_missiles([two_stage()]).take(np.zeros(B, int))
    rng = np.random.default_rng(seed)
    lat = np.radians(rng.uniform(20, 50, B))
    lon = np.radians(rng.uniform(0, 60, B))
    r0 = earth.geodetic_to_ecef(lat, lon, 0.0)
    kick = np.radians(rng.uniform(25, 35, B))
    az = rng.uniform(0, 2 * np.pi, B)
    return veh, r0, kick, az


def fly(B, engine="numba", record=True, seed=0):
    veh, r0, kick, az = _inputs(B, seed)
    t0 = time.perf_counter()
    _, _, _, ev = run(veh, r0, np.zeros((B, 3)), np.zeros(B), kick, az, np.full(B, np.inf), grid_t0=0.0, dt=DT,
                      T=T, engine=engine, record=record, t_max=T_FLIGHT)
    return time.perf_counter() - t0, ev


def solve_ivp_flights(B, method, rtol, atol, seed=0):
    """One solve_ivp call per trajectory segment; returns (wall seconds, impact points (B, 3))."""
    veh, r0, kick, az = _inputs(B, seed)
    model = FULL.as_dict()
    ends = np.cumsum(veh.stage_burn[0])
    starts = (ends - veh.stage_burn[0])[None]
    t_pow = ends[-1]
    m_bal = veh.rv_mass[:1]
    cuts = sorted({0.0, float(veh.vertical_rise[0]), float(veh.vertical_rise[0] + veh.pitch_over[0]), *ends})
    impacts = np.full((B, 3), np.nan)

    def hit(t, s):
        return reference.alt_fast(s[None, :3], False)[0]

    hit.terminal, hit.direction = True, -1
    t0 = time.perf_counter()
    for b in range(B):
        v1 = veh.take(np.array([b]))
        s = np.concatenate([r0[b], np.zeros(3)])
        segs = list(zip(cuts[:-1], cuts[1:])) + [(t_pow, T_FLIGHT)]
        for lo, hi in segs:
            mid = 0.5 * (lo + hi)
            stage = np.array([int(np.searchsorted(ends, mid, side="right")) if mid < t_pow else -1])
            mode = np.array([0 if mid < v1.vertical_rise[0] else (1 if mid < v1.vertical_rise[0] + v1.pitch_over[0]
                                                                    else 2)])

            def rhs(t, y, stage=stage, mode=mode, v1=v1, b=b):
                return reference._deriv(y[None], np.array([t]), stage, mode, v1, starts, m_bal, kick[b:b + 1],
                                        az[b:b + 1], model)[0]

            sol = solve_ivp(rhs, (lo, hi), s, method=method, rtol=rtol, atol=atol,
                            events=hit if stage[0] < 0 else None)
            s = sol.y[:, -1]
            if stage[0] < 0 and sol.t_events[0].size:
                impacts[b] = sol.y_events[0][0][:3]
    return time.perf_counter() - t0, impacts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="B up to 1,000 only")
    a = ap.parse_args()
    fly(4)  # compile both builds outside the timing
    fly(600)
    res = {"date": date.today().isoformat(), "machine": f"{platform.machine()}", "cores": os.cpu_count(),
           "python": platform.python_version(), "numpy": np.__version__, "results": []}
    n_ivp = 10
    el, ev_ref = fly(n_ivp)
    for method in ("RK45", "DOP853"):
        rtol = {"RK45": 1e-10, "DOP853": 1e-9}[method]  # the loosest that lands within 10 m
        wall, imp = solve_ivp_flights(n_ivp, method, rtol=rtol, atol=1e-4)
        miss = np.linalg.norm(imp - ev_ref[:, 5:8], axis=1)
        res[f"solve_ivp_{method}"] = {"trajectories": n_ivp, "rtol": rtol, "atol": 1e-4,
                                      "steps_per_s": n_ivp * T / wall, "worst_impact_miss_m": float(np.max(miss))}
    sizes = [1, 1000] if a.quick else [1, 1000, 100_000]
    for B in sizes:
        row = {"B": B}
        if B <= 1000:
            w = min(fly(B)[0] for _ in range(3 if B == 1 else 1))
            row["fast_recorded_steps_per_s"] = B * T / w
            w = fly(B, engine="numpy")[0]
            row["numpy_recorded_steps_per_s"] = B * T / w
        w = min(fly(B, record=False)[0] for _ in range(3 if B == 1 else 1))
        row["fast_impact_only_steps_per_s"] = B * T / w
        res["results"].append(row)
    big = res["results"][-1]["fast_impact_only_steps_per_s"]
    res["fast_over_dop853"] = big / res["solve_ivp_DOP853"]["steps_per_s"]
    res["fast_over_rk45"] = big / res["solve_ivp_RK45"]["steps_per_s"]
    if a.json:
        print(json.dumps(res, indent=2))
    else:
        for k, v in res.items():
            print(k, v)


if __name__ == "__main__":
    main()
