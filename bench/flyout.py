"""Flyout speed: trajectory-steps per second of the Numba fast path, the NumPy reference and
SciPy's solve_ivp, measured side by side in one run, in wall time and in CPU time.

    python bench/flyout.py [--json] [--quick] [--pairs 5]

Work unit: one trajectory of a two-stage missile (the generic test vehicle of
tests/test_flyout.py), full model (rotating WGS84 Earth, J2, US-1976 drag), random launch
points and azimuths, flown on a 1 s grid for at most 2,000 s.  A trajectory that lands at
``t_impact`` is credited ``t_impact / dt`` trajectory-steps (about 1,600 here), whoever
integrates it: only the steps actually flown count, for every row.

* Fast path and reference: ``shieldlab.flyout.integrate.run``.  The headline row is the
  fast path at B = 100,000 with ``record=False`` (impact and events only: what footprints
  and Monte Carlo raids use; 100,000 recorded trajectories would take 10 GB), on as many
  threads as Numba is set to use.
* solve_ivp on its fast path: a compiled right-hand side, ``rhs_compiled`` below, a Numba
  function that calls the fast path's own force function (``kernel._deriv``) for one
  trajectory's 6-state; the script checks it against the NumPy reference derivative (a few
  1e-13 relative; it stops above 1e-12) and prints the check.  One solve_ivp call per trajectory and per
  segment between the vehicle's events (pitch-over, staging, burnout), the regime fixed
  within a segment as in the fast path, impact as a terminal event (also compiled).
  Methods RK45, DOP853 (explicit Runge-Kutta) and LSODA (Adams/BDF multistep, like the
  fast path's coast).  Tolerance, per method: for each atol (1e-3 ... 1e-7) the loosest
  rtol (1, 2, 5 per decade) whose impacts all land within 10 m of the fast path's, then
  the pair needing the fewest right-hand side evaluations, confirmed on every timed
  trajectory; the worst miss in the timed runs is reported.
* An extra row, for reference only: solve_ivp driving the NumPy reference derivative
  (a Python function) at B = 1, as this benchmark used to time it; almost all of its time
  is that Python function.

Timing: every row is timed once per round, the order of the rows reversed every other
round (``--pairs`` rounds, default 5), after an untimed warm-up; the medians count and
every measurement is kept in the JSON.  Wall time (``perf_counter``) and the CPU time of
the process, all threads (``process_time``), for every measurement: steps per wall-second
are the whole machine's rate, steps per CPU-second the rate per core.  Ratios are the
median over rounds of the two rows' rates in the same round.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numba as nb
import numpy as np
from scipy.integrate import solve_ivp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from paired import clock, machine_line, paired_ratio, rounds, run_info, summary  # noqa: E402
from test_flyout import two_stage  # noqa: E402

from shieldlab import earth  # noqa: E402
from shieldlab.flyout import kernel, reference  # noqa: E402
from shieldlab.flyout.forces import ATM_TABLE  # noqa: E402
from shieldlab.flyout.integrate import FULL, run  # noqa: E402
from shieldlab.flyout.vehicle import AERO_DIVE_T, NAERO, Vehicle, vehicle_from_missiles  # noqa: E402

T_FLIGHT, DT = 2000.0, 1.0
T = int(T_FLIGHT / DT)
MISS_GOAL_M = 10.0
METHODS = ("RK45", "DOP853", "LSODA")
ATOLS = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7)
RTOLS = [m * 10.0 ** -k for k in range(6, 13) for m in (5, 2, 1)]  # loosest first: 5e-6, 2e-6, 1e-6, ...


def _inputs(B: int, seed: int = 0):
    veh = vehicle_from_missiles([two_stage()]).take(np.zeros(B, int))
    rng = np.random.default_rng(seed)
    lat = np.radians(rng.uniform(20, 50, B))
    lon = np.radians(rng.uniform(0, 60, B))
    r0 = earth.geodetic_to_ecef(lat, lon, 0.0)
    kick = np.radians(rng.uniform(25, 35, B))
    az = rng.uniform(0, 2 * np.pi, B)
    return veh, r0, kick, az


def credited_steps(t_impact: np.ndarray) -> float:
    """Trajectory-steps actually flown: t_impact / dt each (launch at t = 0), T for one still flying."""
    t = np.where(np.isfinite(t_impact), np.minimum(t_impact, T_FLIGHT), T_FLIGHT)
    return float(np.sum(t) / DT)


def fly(inputs, engine: str = "numba", record: bool = True) -> np.ndarray:
    """One batched flight of ``inputs`` (from :func:`_inputs`); returns ``ev`` (B, 8)."""
    veh, r0, kick, az = inputs
    B = veh.batch_size
    return run(veh, r0, np.zeros((B, 3)), np.zeros(B), kick, az, np.full(B, np.inf), grid_t0=0.0, dt=DT,
               T=T, engine=engine, record=record, t_max=T_FLIGHT)[3]


# ---------------------------------------------------------------- solve_ivp's right-hand sides

# p: the regime of one segment of one trajectory (see _segments)
_P_FLAGS, _P_STAGE, _P_M0, _P_MDOT, _P_START, _P_FVAC, _P_FSL, _P_AREA, _P_USE_RV, _P_MBAL, _P_MODE, \
    _P_TVERT, _P_TPITCH, _P_KICK, _P_AZ, _NP = range(16)


#: The benchmark's vehicle has no pitch programme and no lift (a lift row of zeros, no dive time).
_NO_LIFT = np.where(np.arange(NAERO) == AERO_DIVE_T, np.inf, 0.0)[None, :]
_NO_DIVE = np.array([np.inf])


@nb.njit(cache=True)
def rhs_compiled(t, y, p, table, bm, bc, rm, rc):
    """d/dt of one trajectory's 6-state (launch at t = 0), through the fast path's force function."""
    # unpowered, the force function takes the mass after powered flight where a stage's is
    stage = int(p[_P_STAGE])
    m0 = p[_P_M0] if stage >= 0 else p[_P_MBAL]
    a = kernel._deriv(y[0], y[1], y[2], y[3], y[4], y[5], t, int(p[_P_FLAGS]), table, stage,
                      m0, p[_P_MDOT], p[_P_START], p[_P_FVAC], p[_P_FSL], p[_P_AREA], p[_P_USE_RV] != 0.0,
                      0, bm, bc, rm, rc, int(p[_P_MODE]), p[_P_TVERT], p[_P_TPITCH], p[_P_KICK],
                      p[_P_AZ], 0.0, 0, _NO_LIFT)
    d = np.empty(6)
    d[0], d[1], d[2], d[3], d[4], d[5] = a
    return d


@nb.njit(cache=True)
def ground_compiled(t, y, p, table, bm, bc, rm, rc):
    """Impact event: height above the ellipsoid along the radius (the fast path's gate, within
    1e-5 m of the geodetic height near the ground)."""
    return kernel._alt_fast(y[0], y[1], y[2], int(p[_P_FLAGS]))


ground_compiled.terminal, ground_compiled.direction = True, -1  # type: ignore[attr-defined]


class Segment:
    """One solve_ivp call: the span, the regime ``p`` and the reference's arguments for it."""

    def __init__(self, lo, hi, p, v1, starts, stage, mode):
        self.lo, self.hi, self.p, self.v1, self.starts = lo, hi, p, v1, starts
        self.stage, self.mode = np.array([stage]), np.array([mode])
        self.tables = (ATM_TABLE, v1.boost_mach, v1.boost_cd, v1.rv_mach, v1.rv_cd)

    @property
    def coast(self) -> bool:
        return self.stage[0] < 0


def _segments(veh: Vehicle, kick: np.ndarray, az: np.ndarray, b: int) -> list[Segment]:
    """Trajectory ``b``'s segments between events, each with its regime, as the fast path
    (``kernel._fly_one``) sets them: taken at the segment's midpoint."""
    v1 = veh.take(np.array([b]))
    burn, mdot, m0 = v1.stage_burn[0], v1.stage_mdot[0], v1.stage_m0[0]
    ends = np.cumsum(burn)
    starts = ends - burn
    t_pow = float(ends[-1])  # no thrust termination
    last = max((j for j in range(len(burn)) if burn[j] > 0 and starts[j] < t_pow), default=-1)
    if v1.rv_separates[0] or last < 0:
        m_bal = float(v1.rv_mass[0])
    else:
        m_bal = float(m0[last] - mdot[last] * (t_pow - starts[last]))
    tv, tp = float(v1.vertical_rise[0]), float(v1.pitch_over[0])
    cuts = sorted({0.0, *(e for e in (tv, tv + tp, t_pow, *ends) if 0.0 < e <= t_pow)}) + [T_FLIGHT]
    segs = []
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        mid = 0.5 * (lo + hi)
        stage = int(np.searchsorted(ends, mid, side="right")) if mid < t_pow else -1
        mode = 0 if mid < tv else (1 if mid < tv + tp else 2)
        p = np.zeros(_NP)
        p[_P_FLAGS], p[_P_STAGE], p[_P_MBAL], p[_P_MODE] = FULL.flags, stage, m_bal, mode
        p[_P_TVERT], p[_P_TPITCH], p[_P_KICK], p[_P_AZ] = tv, tp, kick[b], az[b]
        if stage >= 0:
            p[_P_M0], p[_P_MDOT], p[_P_START] = m0[stage], mdot[stage], starts[stage]
            p[_P_FVAC], p[_P_FSL] = v1.stage_thrust_vac[0, stage], v1.stage_thrust_sl[0, stage]
            use_rv = False
        else:
            use_rv = bool(v1.rv_separates[0])
        p[_P_USE_RV] = use_rv
        p[_P_AREA] = v1.rv_area[0] if use_rv else v1.boost_area[0]
        segs.append(Segment(lo, hi, p, v1, starts[None], stage, mode))
    return segs


def _reference_rhs(seg: Segment, kick_b: np.ndarray, az_b: np.ndarray) -> Callable:
    model = FULL.as_dict()
    m_bal = np.array([seg.p[_P_MBAL]])

    def rhs(t, y):
        return reference._deriv(y[None], np.array([t]), seg.stage, seg.mode, seg.v1, seg.starts, m_bal, kick_b,
                                az_b, model, np.zeros(1, int), _NO_DIVE)[0]

    return rhs


def _ground_python(t, y):
    return reference.alt_fast(y[None, :3], False)[0]


_ground_python.terminal, _ground_python.direction = True, -1  # type: ignore[attr-defined]


class IvpCase:
    """Trajectories ``idx`` of an input set, ready for solve_ivp (set-up untimed)."""

    def __init__(self, inputs, idx):
        veh, r0, kick, az = inputs
        self.idx, self.r0, self.kick, self.az = list(idx), r0, kick, az
        self.segs = {b: _segments(veh, kick, az, b) for b in self.idx}

    def fly(self, method: str, rtol: float, atol: float, compiled: bool = True
            ) -> tuple[np.ndarray, np.ndarray, int]:
        """Impact points (n, 3), impact times (n,) of the trajectories and the number of
        right-hand side evaluations."""
        n = len(self.idx)
        impacts, t_imp, nfev = np.full((n, 3), np.nan), np.full(n, np.inf), 0
        for i, b in enumerate(self.idx):
            s = np.concatenate([self.r0[b], np.zeros(3)])
            for seg in self.segs[b]:
                if compiled:
                    sol = solve_ivp(rhs_compiled, (seg.lo, seg.hi), s, method=method, rtol=rtol, atol=atol,
                                    events=ground_compiled if seg.coast else None, args=(seg.p, *seg.tables))
                else:
                    sol = solve_ivp(_reference_rhs(seg, self.kick[b:b + 1], self.az[b:b + 1]), (seg.lo, seg.hi), s,
                                    method=method, rtol=rtol, atol=atol, events=_ground_python if seg.coast else None)
                s, nfev = sol.y[:, -1], nfev + sol.nfev
                if seg.coast and sol.t_events[0].size:
                    impacts[i], t_imp[i] = sol.y_events[0][0][:3], sol.t_events[0][0]
        return impacts, t_imp, nfev

    def first(self, n: int) -> IvpCase:
        """The same case, its first ``n`` trajectories only."""
        sub = copy.copy(self)
        sub.idx = self.idx[:n]
        return sub

    def worst_miss(self, impacts: np.ndarray, ev_fast: np.ndarray) -> float:
        miss = float(np.max(np.linalg.norm(impacts - ev_fast[self.idx, 5:8], axis=1)))
        return miss if np.isfinite(miss) else float("inf")


def derivative_check(inputs, n: int = 4) -> float:
    """Largest relative difference |a_compiled - a_reference| / |a_reference| of the acceleration
    (the velocity half is the state itself) over the fast path's recorded states of ``n``
    trajectories, every grid point of every segment (boost, air, coast)."""
    veh, r0, kick, az = inputs
    sub = (veh.take(np.arange(n)), r0[:n], kick[:n], az[:n])
    pos, vel, _, ev = run(sub[0], sub[1], np.zeros((n, 3)), np.zeros(n), sub[2], sub[3], np.full(n, np.inf),
                          grid_t0=0.0, dt=DT, T=T, record=True, t_max=T_FLIGHT)
    model = FULL.as_dict()
    worst = 0.0
    for b in range(n):
        for seg in _segments(veh, kick, az, b):
            for k in range(int(np.ceil(seg.lo)), int(min(seg.hi, ev[b, 4]))):
                t = float(k) + 0.25  # inside the segment, not on a cut
                if not seg.lo < t < seg.hi:
                    continue
                y = np.concatenate([pos[b, k], vel[b, k]])
                a = rhs_compiled(t, y, seg.p, *seg.tables)
                r = reference._deriv(y[None], np.array([t]), seg.stage, seg.mode, seg.v1, seg.starts,
                                     np.array([seg.p[_P_MBAL]]), kick[b:b + 1], az[b:b + 1], model, np.zeros(1, int),
                                     _NO_DIVE)[0]
                worst = max(worst, float(np.linalg.norm(a[3:] - r[3:]) / np.linalg.norm(r[3:])))
                assert np.array_equal(a[:3], r[:3])
    return worst


def choose_tolerance(case: IvpCase, method: str, ev_fast: np.ndarray, n_search: int) -> dict:
    """solve_ivp's cheapest tolerance that still lands within MISS_GOAL_M of the fast path: for
    each atol in ATOLS the loosest rtol in RTOLS whose impacts all do (searched on the first
    ``n_search`` trajectories), then the (rtol, atol) pair with the fewest right-hand side
    evaluations, confirmed on all of ``case`` (tightening rtol if one of them misses)."""
    search = case.first(n_search)
    tried, best = [], None
    for atol in ATOLS:
        for rtol in RTOLS:
            imp, _, nfev = search.fly(method, rtol, atol)
            miss = search.worst_miss(imp, ev_fast)
            tried.append({"rtol": rtol, "atol": atol, "worst_impact_miss_m": miss, "nfev": nfev})
            if miss <= MISS_GOAL_M:
                if best is None or nfev < best[2]:
                    best = (rtol, atol, nfev)
                break
    if best is None:
        raise SystemExit(f"solve_ivp {method}: no tolerance lands within {MISS_GOAL_M:g} m")
    loosest, atol, _ = best
    for rtol in RTOLS[RTOLS.index(loosest):]:
        imp, _, nfev = case.fly(method, rtol, atol)
        miss = case.worst_miss(imp, ev_fast)
        tried.append({"rtol": rtol, "atol": atol, "worst_impact_miss_m": miss, "nfev": nfev, "all": True})
        if miss <= MISS_GOAL_M:
            return {"rtol": rtol, "atol": atol, "worst_impact_miss_m": miss, "nfev_per_trajectory":
                    nfev / len(case.idx), "tried": tried}
    raise SystemExit(f"solve_ivp {method}: no rtol at atol {atol:g} lands within {MISS_GOAL_M:g} m")


# ---------------------------------------------------------------- the jobs

def fast_job(inputs, record: bool, reps: int = 1) -> Callable[[], dict]:
    steps = credited_steps(fly(inputs, record=record)[:, 4])

    def go():
        for _ in range(reps):
            fly(inputs, record=record)
        return reps * steps

    return lambda: clock(go)


def reference_job(inputs) -> Callable[[], dict]:
    def go():
        return credited_steps(fly(inputs, engine="numpy")[:, 4])

    return lambda: clock(go)


def ivp_job(case: IvpCase, method: str, tol: dict, compiled: bool, ev_fast: np.ndarray,
            misses: list[float]) -> Callable[[], dict]:
    def go():
        imp, t_imp, _ = case.fly(method, tol["rtol"], tol["atol"], compiled)
        misses.append(case.worst_miss(imp, ev_fast))
        return credited_steps(t_imp)

    return lambda: clock(go)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("--quick", action="store_true", help="small batches only (a smoke test, under a minute)")
    ap.add_argument("--pairs", type=int, default=5, help="rounds of alternating timings (default 5)")
    a = ap.parse_args()
    if a.pairs < 1:
        ap.error("--pairs must be at least 1")
    log = (lambda s: print(s, file=sys.stderr, flush=True)) if a.json else print
    info = run_info()
    log(machine_line(info))

    n_ivp, n_py = (5, 0) if a.quick else (100, 5)
    big = 1000 if a.quick else 100_000
    ivp_in = _inputs(n_ivp, seed=1)
    ev_ivp = fly(ivp_in, record=False)  # compiles the fast path outside the timing
    fly(_inputs(4), record=True)
    case = IvpCase(ivp_in, range(n_ivp))
    check = derivative_check(ivp_in)
    log(f"compiled RHS vs NumPy reference derivative: max relative difference of the acceleration {check:.1e}")
    if check > 1e-12:
        raise SystemExit("the compiled right-hand side does not equal the reference derivative")

    tol: dict[str, dict] = {}
    for method in METHODS:
        tol[method] = t = choose_tolerance(case, method, ev_ivp, min(n_ivp, 20))
        log(f"solve_ivp {method}: rtol {t['rtol']:g}, atol {t['atol']:g}: worst impact miss "
            f"{t['worst_impact_miss_m']:.2f} m over {n_ivp} trajectories, {t['nfev_per_trajectory']:,.0f} "
            f"RHS evaluations per trajectory")

    misses: dict[str, list[float]] = {}
    jobs: dict[str, Callable[[], dict]] = {}
    meta: dict[str, dict] = {}
    for method in METHODS:
        name = f"solve_ivp {method}, compiled RHS"
        misses[name] = []
        jobs[name] = ivp_job(case, method, tol[method], True, ev_ivp, misses[name])
        meta[name] = {"trajectories": n_ivp, "rtol": tol[method]["rtol"], "atol": tol[method]["atol"]}
    if n_py:
        py_case = case.first(n_py)
        for method in ("RK45", "DOP853"):
            name = f"solve_ivp {method}, Python RHS (extra)"
            misses[name] = []
            jobs[name] = ivp_job(py_case, method, tol[method], False, ev_ivp, misses[name])
            meta[name] = {"trajectories": n_py, "rtol": tol[method]["rtol"], "atol": tol[method]["atol"]}
    ref_sizes = [1] if a.quick else [1, 1000]
    for B in ref_sizes:
        name = f"NumPy reference, recorded, B={B}"
        jobs[name] = reference_job(_inputs(B))
        meta[name] = {"trajectories": B}
    for B in sorted({1, 1000, big}):
        inp = _inputs(B)
        if B <= 1000:
            name = f"fast path, recorded, B={B}"
            jobs[name] = fast_job(inp, True, reps=200 if B == 1 else 1)
            meta[name] = {"trajectories": B, "reps": 200 if B == 1 else 1}
        name = f"fast path, impact only, B={B}"
        jobs[name] = fast_job(inp, False, reps=200 if B == 1 else 1)
        meta[name] = {"trajectories": B, "reps": 200 if B == 1 else 1}
    for name, job in jobs.items():  # warm-up, untimed (the NumPy reference has nothing to compile)
        if not name.startswith("NumPy"):
            job()

    meas = rounds(jobs, a.pairs, log)
    head = f"fast path, impact only, B={big}"
    rows = []
    for name, ms in meas.items():
        row = {"row": name, **meta[name], **summary(ms), "measurements": ms}
        row["cpu_per_wall"] = row["cpu_s"] / row["wall_s"]
        if name in misses:
            row["worst_impact_miss_m"] = max(misses[name])
        row["mean_t_impact_s"] = row["work"] * DT / (row["trajectories"] * meta[name].get("reps", 1))
        rows.append(row)
    ratios = {f"{head} / {other}": paired_ratio(meas[head], meas[other])
              for other in meas if other.startswith(("solve_ivp", "NumPy"))}
    for B in ref_sizes:
        fast, ref = f"fast path, recorded, B={B}", f"NumPy reference, recorded, B={B}"
        ratios[f"{fast} / {ref}"] = paired_ratio(meas[fast], meas[ref])
    fastest = max((n for n in meas if n.endswith("compiled RHS")), key=lambda n: summary(meas[n])["per_wall_s"])
    res = {**info, "fastest_solve_ivp": fastest, "loadavg_end": [round(x, 2) for x in os.getloadavg()],
           "work_unit": f"two-stage MRBM, full model, dt {DT:g} s, at most {T_FLIGHT:g} s, credited t_impact/dt",
           "pairs": a.pairs, "derivative_check_max_rel": check, "solve_ivp_tolerance": tol, "rows": rows,
           "ratios": ratios}
    if a.json:
        print(json.dumps(res, indent=2))
        return
    print(f"\n{'row':<44} {'traj':>7} {'steps/wall-s':>13} {'steps/CPU-s':>12} {'CPU/wall':>8} {'miss m':>7}")
    for r in rows:
        miss = f"{r['worst_impact_miss_m']:7.2f}" if "worst_impact_miss_m" in r else ""
        print(f"{r['row']:<44} {r['trajectories']:>7,} {r['per_wall_s']:13.3g} {r['per_cpu_s']:12.3g} "
              f"{r['cpu_per_wall']:8.2f} {miss}")
    print(f"\nratios, medians over {a.pairs} rounds of the two rows' rates in the same round:")
    for k, v in ratios.items():
        print(f"  {k:<82} whole machine {v['wall']:9.4g}x   per core {v['cpu']:9.4g}x")
    v = ratios[f"{head} / {fastest}"]
    print(f"headline: {head} is {v['wall']:.4g}x {fastest} on the whole machine, {v['cpu']:.4g}x per core")
    print(f"load average at the end: {res['loadavg_end']}")


if __name__ == "__main__":
    main()
