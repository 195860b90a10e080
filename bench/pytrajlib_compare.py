"""shieldlab against pytrajlib: Minuteman III trajectories per second over pytrajlib's default case.

    python bench/pytrajlib_compare.py [--json] [--quick] [--runs 1000] [--pairs 5] [--threads N]

Needs pytrajlib (``pip install '.[bench]'``, or ``pip install pytrajlib==1.0.0a6``: MIT's open
ICBM Monte Carlo flyout, a C core behind cffi; on Python 3.11 the newest wheel is that
pre-release, later releases need Python >= 3.13).  Without it the script stops with a message.

What is compared
----------------
pytrajlib's shipped configuration (``pytrajlib/config/default.toml``): booster 0 (Minuteman
III) with the ballistic RV, launched from (0 N, 0 E) at the aim point (0 N, 120.64 E), 13,414 km
away, 1,000 Monte Carlo runs, 1 s step.  shieldlab flies a :class:`Missile` built in this file
from pytrajlib's own figures (``include/vehicle.h``: ``init_mmiii_booster``,
``init_ballistic_rv``): the same stage masses, burn times and exhaust speeds (its ``Isp * 9.81``,
one value at all altitudes), 1.7 m body with constant Cd 0.15, 100 kg bus dropped at burnout,
400 kg RV of 0.46 m diameter and Cd 0.1, 5 s vertical rise.  It is steered by
``shieldlab.flyout.aim.solve`` to the same aim point on the *lofted* branch: pytrajlib's aiming
(Brent on a fixed thrust direction) lands on the steep solution (apogee ~3,900 km, ~3,870 s of
flight), and shieldlab's lofted solution in the same world has nearly the same apogee and flight
time (printed).  (Its ``min-energy`` and ``depressed`` answers are no use here: for this
near-orbital shot they fly the long way round the globe in the sphere world and do not come down
in the full model.)

* pytrajlib is timed through its C entry point ``mc_run`` (what ``pytrajlib.run`` calls, without
  the pandas conversion and the progress bar).  ``mc_run`` re-solves its aim on every call, so a
  call with zero runs is timed beside each timed call (same round) and subtracted, wall and CPU:
  the rate counts the runs only.
* shieldlab is timed through ``shieldlab.flyout.integrate.run(..., dt=1.0, record=False)``, which
  keeps only the impact; steering is solved once before, untimed.  Its batch of ``--runs`` is
  flown several times per measurement (at least ~0.3 s), the rate per trajectory.

Rows.  The pair the result is judged on does equal work: pytrajlib with both of its steps at
1 s and its dispersions and inertial navigation off (``ins_nav``, ``grav_error``, ``atm_model``
0 and no launch errors: one state integrated per step, no random draws), against shieldlab
in pytrajlib's world (non-rotating spherical Earth, point-mass gravity, drag:
``EarthModel(rotating=False, j2=False, sphere=True)``), undispersed.  Reported beside it:
pytrajlib at 1 s with its dispersions and navigation on and pytrajlib as shipped (0.01 s
steps below 100 km on re-entry, dispersions and navigation on), shieldlab dispersed in the
same world, and shieldlab in its full model (rotating WGS84, J2), whose lofted shot to the
same point flies higher and longer because the eastward launch gains the Earth's spin.

Dispersions.  pytrajlib's dispersed runs perturb launch position (0.1 m) and velocity (1 mm/s),
thrust angles (1 urad), geoid height (5 cm), winds, and integrate an inertial-navigation
estimate beside the true state (the range spread comes out at ~50 m).  shieldlab's dispersed
runs get the dispersions it takes per element at no extra cost per step: launch velocity
(1 mm/s per axis), kick and azimuth (1 urad), drag (0.3 %).

Timing.  Every row is timed once per round, the order of the rows reversed every other round
(``--pairs`` rounds, default 5), after an untimed warm-up (Numba compilation for shieldlab);
medians count and every measurement is kept in the JSON.  Wall time and the process's CPU
time (all threads) for every measurement: trajectories per wall-second are the whole
machine's rate, trajectories per CPU-second the rate per core.  Ratios are medians over
rounds of the two rows' rates in the same round.

Caveats (the two codes are different models of the same missile)
-----------------------------------------------------------------
* Integrator: pytrajlib's ``rk4step`` evaluates the forces once per step and holds the
  acceleration fixed across it.  shieldlab runs classical RK4 (four force evaluations per
  step) under thrust and in the air, in sub-steps of at most 1 s split at staging and steering
  events, and in the drag-free coast (most of this flight) Adams-Bashforth-Moulton 4 with one
  force evaluation per step, eight trajectories at a time in vector lanes when only impacts
  are kept.  With navigation on pytrajlib steps its true, estimated and (in boost) desired
  states, two to three states per step.
* Earth: pytrajlib flies a non-rotating sphere of radius 6,371 km with GM = 3.9857e14 and an
  exponential atmosphere (8 km scale height) with no drag above 100 km on coast; shieldlab's
  sphere is 6,371.0088 km with WGS84 GM and the US-1976 atmosphere.
* Steering: pytrajlib thrusts vertically for 5 s, then along one fixed inertial direction to
  burnout; shieldlab pitches over in 10 s to its kick angle and then flies a gravity turn.
* Impact: pytrajlib interpolates linearly across the last step (and, with navigation on, adds
  a shift in a random direction scaled by its navigation time error); shieldlab bisects a
  cubic Hermite interpolant.
* Both sides aim at the same point, so their mean ranges agree by construction to the aiming
  tolerances; the TOF and apogee columns say how alike the trajectories are.
* Threads: pytrajlib runs on one core; shieldlab's kernel uses Numba's threads (all cores unless
  ``--threads`` or ``NUMBA_NUM_THREADS`` says otherwise): compare the per-core (CPU-time) ratio
  for the codes and the wall-time ratio for the machine.  The core count is in the output.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib.metadata as md
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np
from paired import clock, machine_line, paired_ratio, rounds, run_info, summary

from shieldlab import earth
from shieldlab.catalog.models import G0, Missile
from shieldlab.flyout import aim
from shieldlab.flyout.integrate import FULL, EarthModel, run
from shieldlab.flyout.vehicle import vehicle_from_missiles

try:
    from pytrajlib import simulation as ptl_sim
    from pytrajlib._traj import lib as ptl_lib
    from pytrajlib.utils import get_run_params
except ImportError as exc:  # a measurement needs both codes
    sys.exit(f"bench/pytrajlib_compare.py: pytrajlib is not importable ({exc}).\n"
             f"Install it into this interpreter ({sys.executable}) with\n"
             f"    {sys.executable} -m pip install pytrajlib==1.0.0a6\n"
             f"(or pip install -e '.[bench]'; it needs the network once).")

DT = 1.0
T_MAX = 6000.0  # s: longer than any flight here
PYTRAJLIB_G = 9.81  # m/s^2 pytrajlib multiplies Isp by (isp0 = Isp * 9.81)
SPHERE_WORLD = EarthModel(rotating=False, j2=False, drag=True, sphere=True)
SPEED_GOAL, RANGE_GOAL = 20.0, 0.01


# ---------------------------------------------------------------- the missile, from pytrajlib's figures

def pytrajlib_minuteman(version: str) -> Missile:
    """Minuteman III with the ballistic RV as pytrajlib defines it (include/vehicle.h)."""
    src = f"pytrajlib {version} defaults: include/vehicle.h"

    def stage(wet, fuel, isp, burn):
        # pytrajlib's exhaust speed is Isp * 9.81 at every altitude: one "vacuum" Isp in shieldlab's g0
        return dict(propellant_kg=fuel, dry_mass_kg=wet - fuel, isp_vac_s=isp * PYTRAJLIB_G / G0,
                    burn_time_s=burn, diameter_m=1.69, source=f"{src} init_mmiii_booster (stage diameter not given)")

    def flat(cd, what):
        return dict(mach=[0.0, 50.0], cd=[cd, cd], source=f"{src} {what}: constant c_d_0 = {cd}")

    return Missile(
        id="minuteman-iii-pytrajlib", name="LGM-30G Minuteman III (pytrajlib booster 0)", origin="United States",
        category="ICBM",
        stages=[stage(23230, 20780, 267, 61), stage(7270, 6240, 287, 66), stage(3710, 3306, 285, 61)],
        payload_kg=100 + 400,  # bus_mass + rv_mass; the bus drops at burnout with the last stage
        diameter_m=float(np.sqrt(4 * 2.2698 / np.pi)),  # booster.area = 2.2698 m^2 (maxdiam 1.7 m)
        drag=flat(0.15, "init_mmiii_booster"),
        reentry_vehicle=dict(mass_kg=400, diameter_m=0.46, drag=flat(0.1, "init_ballistic_rv"),
                             source=f"{src} init_ballistic_rv: 400 kg, radius 0.23 m"),
        thrust_termination=False,
        vertical_rise_s=5,  # physics.h update_thrust: vertical while t < 5 s
        rcs_m2=0.01,  # unused here
        max_range_km=15000, range_source=f"{src} init_mmiii_ballistic: range = 15000e3",
        source=src,
    )


# ---------------------------------------------------------------- pytrajlib

class _SilentBar:
    """Stands in for the tqdm bar that pytrajlib's C loop updates every 10 runs."""

    def update(self, n=1):
        pass

    def close(self):
        pass


@contextlib.contextmanager
def _c_stdout_silenced():
    """The C core printf()s its thrust angles on every call; send file descriptor 1 to /dev/null."""
    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    libc.fflush(None)
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            libc.fflush(None)
            os.dup2(saved, 1)
            os.close(saved)


def pytrajlib_config(**overrides) -> dict:
    """pytrajlib's shipped default.toml, without file output, with ``overrides``."""
    rp = get_run_params()
    rp.update(traj_output=0, impact_output=0, **overrides)
    ptl_sim.handle_overrides(rp, {})  # fills in the packaged atmosphere-profile path
    return rp


def pytrajlib_mc(rp: dict, runs: int):
    """One call of pytrajlib's Monte Carlo loop: (wall seconds, CPU seconds, impacts (runs, 4): t [s], x, y, z [m])."""
    ptl_sim._keep_alive["loading_bar"] = _SilentBar()
    params = ptl_sim.get_run_params_struct({**rp, "num_runs": runs})
    with _c_stdout_silenced():
        w0, c0 = time.perf_counter(), time.process_time()
        out = ptl_lib.mc_run(params[0])
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    ptl_sim._keep_alive.clear()
    s = out.impact_states
    return wall, cpu, np.array([(s[i].t, s[i].x, s[i].y, s[i].z) for i in range(runs)]).reshape(runs, 4)


def pytrajlib_apogee_km(rp: dict) -> float:
    """Apogee of pytrajlib's first run (from its trajectory file) [km]."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "trajectory.txt")
        rp1 = {**rp, "traj_output": 1, "trajectory_path": path}
        pytrajlib_mc(rp1, 1)
        xyz = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(2, 3, 4))
    return float(np.linalg.norm(xyz, axis=1).max() - 6371e3) / 1e3


def _sphere_latlon(xyz):
    """Spherical latitude, longitude [rad] of points (..., 3) (pytrajlib's Earth is a sphere)."""
    return np.arctan2(xyz[..., 2], np.hypot(xyz[..., 0], xyz[..., 1])), np.arctan2(xyz[..., 1], xyz[..., 0])


# ---------------------------------------------------------------- shieldlab

class ShieldlabCase:
    """The steered batch of ``runs`` trajectories, dispersed or not, ready to fly."""

    def __init__(self, missile, launch, aim_point, runs: int, model: EarthModel, seed: int, dispersed: bool):
        (lat0, lon0), (lat1, lon1) = launch, aim_point
        steer = aim.solve([missile], lat0, lon0, 0.0, lat1, lon1, "lofted", model=model, dt=DT, t_max=T_MAX)
        rng = np.random.default_rng(seed)
        k = 1.0 if dispersed else 0.0
        self.model, self.launch, self.aim_error_m = model, launch, float(steer.aim_error[0])
        veh = vehicle_from_missiles([missile]).take(np.zeros(runs, int))
        self.args = (
            veh.scaled(drag=1.0 + k * 0.003 * rng.standard_normal(runs)),
            np.broadcast_to(earth.geodetic_to_ecef(lat0, lon0, 0.0), (runs, 3)),
            k * 1e-3 * rng.standard_normal((runs, 3)),  # launch velocity [m/s]
            np.zeros(runs),
            steer.kick[0] + k * 1e-6 * rng.standard_normal(runs),
            steer.azimuth[0] + k * 1e-6 * rng.standard_normal(runs),
            np.full(runs, np.inf),
        )
        self.runs, self.reps = runs, 1

    def fly(self):
        """ev (runs, 8) of one batched flight, impacts only."""
        return run(*self.args, grid_t0=0.0, dt=DT, T=int(T_MAX / DT) + 2, model=self.model, record=False,
                   t_max=T_MAX)[3]

    def job(self, last: dict) -> Callable[[], dict]:
        """A timing: ``reps`` flights of the batch; ``last["ev"]`` keeps the last flight's events."""
        def go():
            for _ in range(self.reps):
                last["ev"] = self.fly()
            return self.runs * self.reps

        return lambda: clock(go)


def pytrajlib_job(rp: dict, runs: int, last: dict) -> Callable[[], dict]:
    """A timing of ``runs`` runs, less a zero-run call timed just before (aim, set-up), wall and CPU."""
    def go():
        w0, c0, _ = pytrajlib_mc(rp, 0)
        wall, cpu, last["impacts"] = pytrajlib_mc(rp, runs)
        wall, cpu = wall - w0, cpu - c0
        return {"work": runs, "wall_s": wall, "cpu_s": cpu, "setup_wall_s": w0, "setup_cpu_s": c0,
                "per_wall_s": runs / wall, "per_cpu_s": runs / cpu if cpu > 0 else float("nan")}

    return go


# ---------------------------------------------------------------- the measurement

def _stats(lat, lon, tof, launch) -> dict:
    rng_m = earth.great_circle_distance(launch[0], launch[1], lat, lon)
    return {"mean_range_km": float(np.mean(rng_m)) / 1e3, "sd_range_m": float(np.std(rng_m)),
            "mean_tof_s": float(np.mean(tof))}


EQUAL_PTL = "1 s steps, no dispersions, no navigation"
EQUAL_SL = "pytrajlib's world (sphere, no spin), 1 s, no dispersions"


def measure(runs: int, pairs: int, seed: int, log: Callable[[str], None]) -> dict:
    version = md.version("pytrajlib")
    missile = pytrajlib_minuteman(version)
    base = pytrajlib_config()
    launch = _sphere_latlon(np.array([base[k] for k in ("x_launch", "y_launch", "z_launch")], float))
    aim_point = _sphere_latlon(np.array([base[k] for k in ("x_aim", "y_aim", "z_aim")], float))
    quiet = dict(ins_nav=0, grav_error=0, atm_model=0, initial_pos_error=0.0, initial_vel_error=0.0,
                 initial_angle_error=0.0)
    ptl_cases = {  # label: config; the first is the equal-work one
        EQUAL_PTL: pytrajlib_config(time_step_reentry=DT, **quiet),
        "1 s steps, dispersions and navigation on": pytrajlib_config(time_step_reentry=DT),
        f"as shipped: {base['time_step_main']:g} s, {base['time_step_reentry']:g} s below 100 km, "
        "dispersions and navigation on": pytrajlib_config(),
    }
    sl_cases = {
        EQUAL_SL: ShieldlabCase(missile, launch, aim_point, runs, SPHERE_WORLD, seed, False),
        "pytrajlib's world (sphere, no spin), 1 s, dispersed": ShieldlabCase(missile, launch, aim_point, runs,
                                                                             SPHERE_WORLD, seed, True),
        "full model (rotating WGS84, J2), 1 s, dispersed": ShieldlabCase(missile, launch, aim_point, runs,
                                                                         FULL, seed, True),
    }
    # warm-up, untimed: Numba compilation, page faults, pytrajlib's atmosphere tables; shieldlab's
    # repetitions per measurement from a warm flight (at least ~0.3 s of wall time)
    for case in sl_cases.values():
        case.fly()
        w0 = time.perf_counter()
        case.fly()
        case.reps = max(1, int(np.ceil(0.3 / (time.perf_counter() - w0))))
    for rp in ptl_cases.values():
        pytrajlib_mc(rp, 10)

    last: dict[str, dict] = {k: {} for k in (*ptl_cases, *sl_cases)}
    jobs: dict[str, Callable[[], dict]] = {}
    for k, rp in ptl_cases.items():
        jobs[f"pytrajlib {version}: {k}"] = pytrajlib_job(rp, runs, last[k])
    for k, case in sl_cases.items():
        jobs[f"shieldlab: {k}"] = case.job(last[k])
    meas = rounds(jobs, pairs, log)

    rows = []
    for k, rp in ptl_cases.items():
        name = f"pytrajlib {version}: {k}"
        imp = last[k]["impacts"]
        lat, lon = _sphere_latlon(imp[:, 1:4])
        ms = meas[name]
        rows.append({"row": name, "code": "pytrajlib", "config": k, "runs": runs, **summary(ms),
                     "setup_wall_s": float(np.median([m["setup_wall_s"] for m in ms])),
                     **_stats(lat, lon, imp[:, 0], launch),
                     "apogee_km": pytrajlib_apogee_km(rp) if k == EQUAL_PTL else None, "measurements": ms})
    for k, case in sl_cases.items():
        name = f"shieldlab: {k}"
        ev = last[k]["ev"]
        lat, lon, _ = earth.ecef_to_geodetic(ev[:, 5:8])
        rows.append({"row": name, "code": "shieldlab", "config": k, "runs": runs, "reps": case.reps,
                     **summary(meas[name]), **_stats(lat, lon, ev[:, 4], launch),
                     "apogee_km": float(np.mean(ev[:, 3])) / 1e3, "aim_error_m": case.aim_error_m,
                     "measurements": meas[name]})
    for r in rows:
        r["cpu_per_wall"] = r["cpu_s"] / r["wall_s"]

    ptl_names = [f"pytrajlib {version}: {k}" for k in ptl_cases]
    sl_names = [f"shieldlab: {k}" for k in sl_cases]
    pairs_of = {  # shieldlab row / pytrajlib row
        "equal work (judged)": (sl_names[0], ptl_names[0]),
        "both dispersed, 1 s": (sl_names[1], ptl_names[1]),
        "shieldlab full model / pytrajlib dispersed, 1 s": (sl_names[2], ptl_names[1]),
        "shieldlab dispersed / pytrajlib as shipped": (sl_names[1], ptl_names[2]),
    }
    ratios = {k: {"shieldlab": a, "pytrajlib": b, **paired_ratio(meas[a], meas[b])} for k, (a, b) in pairs_of.items()}
    ptl, sl = rows[0], rows[3]  # the judged pair
    judged = ratios["equal work (judged)"]
    rel = abs(sl["mean_range_km"] - ptl["mean_range_km"]) / ptl["mean_range_km"]
    return {
        "case": {"launch_lat_deg": float(np.degrees(launch[0])), "launch_lon_deg": float(np.degrees(launch[1])),
                 "aim_lat_deg": float(np.degrees(aim_point[0])), "aim_lon_deg": float(np.degrees(aim_point[1])),
                 "aim_range_km": float(earth.great_circle_distance(*launch, *aim_point)) / 1e3,
                 "dt_s": DT, "runs": runs, "pairs": pairs,
                 "timing": "median of alternating rounds; pytrajlib's zero-run set-up call subtracted"},
        "rows": rows,
        "ratios": ratios,
        "ratio_per_core": judged["cpu"],
        "ratio_whole_machine": judged["wall"],
        "pytrajlib_mean_range_km": ptl["mean_range_km"],
        "shieldlab_mean_range_km": sl["mean_range_km"],
        "relative_range_difference": rel,
        "goals": {"speed_ratio_at_least_20_per_core": bool(judged["cpu"] >= SPEED_GOAL),
                  "speed_ratio_at_least_20_whole_machine": bool(judged["wall"] >= SPEED_GOAL),
                  "range_within_1_percent": bool(rel <= RANGE_GOAL)},
    }


def _print_table(r: dict) -> None:
    c = r["case"]
    print(f"Minuteman III (pytrajlib's figures), {c['launch_lat_deg']:.2f}N {c['launch_lon_deg']:.2f}E -> "
          f"{c['aim_lat_deg']:.2f}N {c['aim_lon_deg']:.2f}E ({c['aim_range_km']:,.0f} km), {c['runs']:,} runs, "
          f"dt {c['dt_s']:g} s, medians of {c['pairs']} alternating rounds")
    print(machine_line(r))
    head = f"{'':2}{'row':<92} {'traj/wall-s':>11} {'traj/CPU-s':>10} {'CPU/wall':>8} {'range km':>10} " \
           f"{'sd m':>6} {'TOF s':>7} {'apogee km':>9}"
    print(head)
    print("-" * len(head))
    for i, w in enumerate(r["rows"]):
        mark = "*" if i in (0, 3) else " "
        apo = f"{w['apogee_km']:9,.0f}" if w["apogee_km"] is not None else f"{'':>9}"
        print(f"{mark:2}{w['row']:<92} {w['per_wall_s']:11,.0f} {w['per_cpu_s']:10,.0f} {w['cpu_per_wall']:8.2f} "
              f"{w['mean_range_km']:10,.2f} {w['sd_range_m']:6.0f} {w['mean_tof_s']:7,.0f} {apo}")
    print("* the pair the result is judged on (same world, same 1 s step, no dispersions, no navigation)")
    for k, v in r["ratios"].items():
        print(f"shieldlab / pytrajlib, {k}: {v['cpu']:.1f}x per core (CPU time), {v['wall']:.1f}x whole machine "
              f"(wall; rounds {min(v['wall_rounds']):.1f}-{max(v['wall_rounds']):.1f})")
    ok = r["goals"]
    print(f"speed goal >= {SPEED_GOAL:g}x: per core {'MET' if ok['speed_ratio_at_least_20_per_core'] else 'NOT MET'}"
          f", whole machine {'MET' if ok['speed_ratio_at_least_20_whole_machine'] else 'NOT MET'}")
    print(f"range: {r['shieldlab_mean_range_km']:,.3f} km vs {r['pytrajlib_mean_range_km']:,.3f} km, "
          f"relative difference {r['relative_range_difference']:.2e} (goal <= 1 %): "
          f"{'MET' if ok['range_within_1_percent'] else 'NOT MET'}")
    print(f"load average at the end: {r['loadavg_end']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("--quick", action="store_true", help="100 runs, 2 rounds (a smoke test, under a minute)")
    ap.add_argument("--runs", type=int, default=1000, help="trajectories per timing (pytrajlib allows 10,000)")
    ap.add_argument("--pairs", type=int, default=5, help="rounds of alternating timings (default 5)")
    ap.add_argument("--threads", type=int, help="Numba threads for shieldlab (default: all cores)")
    ap.add_argument("--seed", type=int, default=1, help="seed of shieldlab's dispersions")
    a = ap.parse_args()
    if a.quick:
        a.runs, a.pairs = min(a.runs, 100), min(a.pairs, 2)
    if not 1 <= a.runs <= 10_000:
        ap.error("--runs must be 1..10,000 (pytrajlib's MAX_RUNS)")
    if a.pairs < 1:
        ap.error("--pairs must be at least 1")
    if a.threads:
        import numba

        numba.set_num_threads(a.threads)
    log = (lambda s: print(s, file=sys.stderr, flush=True)) if a.json else print
    info = run_info(("shieldlab", "pytrajlib", "numpy", "numba"))
    if a.json:
        log(machine_line(info))
    r = {**info, **measure(a.runs, a.pairs, a.seed, log), "loadavg_end": [round(x, 2) for x in os.getloadavg()]}
    print(json.dumps(r, indent=2)) if a.json else _print_table(r)


if __name__ == "__main__":
    main()
