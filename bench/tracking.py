"""Radar EKF speed: shieldlab's batched filter against FilterPy and Stone Soup, side by side.

    python bench/tracking.py [--sizes 1,100,1000,10000] [--scans 200] [--pairs 5] [--json]

Equal work.  N targets coast on ballistic arcs 300-800 km from one radar; every scan (1 s
apart) each target gets one (range, azimuth, elevation) report.  Each filter runs one
prediction (RK4 with J2 and the rotating-frame terms, transition ``I + A h + (A h)^2/2``,
white-noise acceleration) and one update (analytic Jacobian, azimuth innovation wrapped,
Joseph-form covariance) per target and scan, with shieldlab's own model functions:

* **shieldlab**: :func:`shieldlab.tracking.ekf.predict` and :func:`~shieldlab.tracking.ekf.update`
  on all N targets at once (the arrays are the batch);
* **FilterPy** (2.0.0): one ``ExtendedKalmanFilter`` per target, its ``predict_x`` the same
  RK4 step, ``F`` the same transition, ``update(..., residual=...)`` with the same Jacobian
  and the same wrap; its update uses the Joseph form;
* **Stone Soup** (1.9.1): ``ExtendedKalmanPredictor`` and ``ExtendedKalmanUpdater``
  (``use_joseph_cov=True``) given the same models, one track per target, in its idiomatic
  API (``GaussianState``, ``Detection``, ``SingleHypothesis``).

Beside the peers, shieldlab's other filters on the same scene, its own rates only:
``ekf_compiled`` (:mod:`shieldlab.tracking.ekf_kernel`, the tracker's EKF, row by row in
Numba; its final states against the NumPy EKF's), ``ukf`` (:mod:`shieldlab.tracking.ukf`)
and ``imm`` (:mod:`shieldlab.tracking.imm`, three EKFs mixed).

No association: the reports arrive labelled (the project's tracker has no association
yet), so this times the filters, not a tracker.  Only the work done is credited: a peer
too slow for the full run at a size runs fewer scans, and every rate is target-updates
per second (one update = one predict + one update of one target).  Pairs alternate
shieldlab and each peer (the order flipped every pair); medians of ``--pairs`` pairs (3 at
sizes where a peer's run is capped).  Wall and process CPU time both.  The three give the
same estimates: after the timed runs their final states of the first targets are compared
(relative difference printed; the test tests/validation/test_stonesoup_yardstick.py holds
it to 1e-6 for Stone Soup).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_model  # noqa: E402

from shieldlab import earth  # noqa: E402
from shieldlab.tracking import ekf, ekf_kernel, imm, ukf  # noqa: E402

DT = 1.0
Q = 25.0  # m^2/s^3
R = np.diag([50.0**2, 1e-3**2, 1e-3**2])
LAT, LON = np.radians(40.0), np.radians(30.0)
SITE = earth.geodetic_to_ecef(LAT, LON, 0.0)
ENU = earth.enu_matrix(LAT, LON)
#: Most seconds a peer's timed run may take at one size: beyond it, fewer scans.
PEER_BUDGET_S = 6.0


def scene(n: int, scans: int, seed: int = 1):
    """Truth states (scans, n, 6), reports (scans, n, 3) and starting estimates (n, 6), (n, 6, 6)."""
    rng = np.random.default_rng(seed)
    rng_km = rng.uniform(300e3, 800e3, n)
    az = rng.uniform(0.0, 2 * np.pi, n)
    lat, lon = earth.destination(LAT, LON, az, rng_km)
    r = earth.geodetic_to_ecef(lat, lon, rng.uniform(100e3, 300e3, n))
    v = 2500.0 * (earth.enu_matrix(lat, lon)[:, 1] * np.cos(az)[:, None] + earth.enu_matrix(lat, lon)[:, 0]
                  * np.sin(az)[:, None])
    x = np.concatenate([r, v], axis=1)
    truth = [x]
    for _ in range(scans - 1):
        x = ekf.rk4_step(x, DT)
        truth.append(x)
    truth = np.array(truth)
    z = ekf.measure_aer(truth, SITE, ENU)[0] + rng.normal(0, 1, (scans, n, 3)) * np.sqrt(np.diag(R))
    x0 = truth[0] + np.concatenate([rng.normal(0, 300, (n, 3)), rng.normal(0, 30, (n, 3))], axis=1)
    P0 = np.broadcast_to(np.diag([500.0**2] * 3 + [50.0**2] * 3), (n, 6, 6)).copy()
    return truth, z, x0, P0


def _run(predict, update, z, x0, P0, scans):
    """One filter (``predict``, ``update`` with shieldlab's EKF signatures) over every scan."""
    x, P = x0.copy(), P0.copy()
    mask = np.ones(x.shape[0], bool)
    for k in range(scans):
        if k:
            x, P = predict(x, P, DT, Q)
        x, P, _ = update(x, P, z[k], R, SITE, ENU, mask)
    return x


def run_shieldlab(z, x0, P0, scans):
    return _run(ekf.predict, ekf.update, z, x0, P0, scans)


def run_shieldlab_compiled(z, x0, P0, scans):
    return _run(ekf_kernel.predict, ekf_kernel.update, z, x0, P0, scans)


def run_shieldlab_ukf(z, x0, P0, scans):
    return _run(ukf.predict, ukf.update, z, x0, P0, scans)


def run_shieldlab_imm(z, x0, P0, scans):
    M = len(imm.DEFAULT.q)
    xm = np.repeat(x0[:, None, :], M, axis=1)
    Pm = np.repeat(P0[:, None, :, :], M, axis=1)
    mu = np.broadcast_to(np.asarray(imm.DEFAULT.mu0, float), (x0.shape[0], M)).copy()
    mask = np.ones(x0.shape[0], bool)
    for k in range(scans):
        if k:
            xm, Pm, mu = imm.predict(xm, Pm, mu, DT)
        xm, Pm, mu = imm.update(xm, Pm, mu, z[k], R, SITE, ENU, mask)
    return imm.combine(xm, Pm, mu)[0]


#: shieldlab's other filters, timed on the same scene (own rates only).
VARIANTS = {"ekf_compiled": run_shieldlab_compiled, "ukf": run_shieldlab_ukf, "imm": run_shieldlab_imm}


def run_filterpy(z, x0, P0, scans):
    from filterpy.kalman import ExtendedKalmanFilter

    class Ballistic(ExtendedKalmanFilter):
        def predict_x(self, u=0):
            self.x = ekf.rk4_step(self.x, DT)

    def hx(x):
        return ekf.measure_aer(x, SITE, ENU)[0]

    def jac(x):
        return ekf.measure_aer(x, SITE, ENU)[1]

    def residual(a, b):
        d = a - b
        d[1] = ekf.wrap_pi(d[1])
        return d

    Qm = ekf.white_noise_accel_Q(DT, Q)
    out = []
    for i in range(x0.shape[0]):
        f = Ballistic(dim_x=6, dim_z=3)
        f.x, f.P, f.R, f.Q = x0[i].copy(), P0[i].copy(), R, Qm
        for k in range(scans):
            if k:
                Ah = ekf.dynamics_jacobian(f.x) * DT
                f.F = np.eye(6) + Ah + 0.5 * Ah @ Ah
                f.predict()
            f.update(z[k, i], jac, hx, residual=residual)
        out.append(f.x.copy())
    return np.array(out)


def run_stonesoup(z, x0, P0, scans):
    from stonesoup.base import Property
    from stonesoup.models.base import GaussianModel
    from stonesoup.models.measurement.nonlinear import NonLinearGaussianMeasurement
    from stonesoup.models.transition.base import TransitionModel
    from stonesoup.predictor.kalman import ExtendedKalmanPredictor
    from stonesoup.types.angle import Bearing
    from stonesoup.types.array import StateVector
    from stonesoup.types.detection import Detection
    from stonesoup.types.hypothesis import SingleHypothesis
    from stonesoup.types.state import GaussianState
    from stonesoup.updater.kalman import ExtendedKalmanUpdater

    class RadarAER(NonLinearGaussianMeasurement):
        @property
        def ndim_meas(self):
            return 3

        def function(self, state, noise=False, **kwargs):
            h = ekf.measure_aer(np.asarray(state.state_vector, float).ravel(), SITE, ENU)[0]
            return StateVector([h[0], Bearing(h[1]), h[2]])

        def jacobian(self, state, **kwargs):
            return ekf.measure_aer(np.asarray(state.state_vector, float).ravel(), SITE, ENU)[1]

    class Ballistic(TransitionModel, GaussianModel):
        q: float = Property(doc="process noise")

        @property
        def ndim_state(self):
            return 6

        def function(self, state, noise=False, time_interval=None, **kwargs):
            return StateVector(ekf.rk4_step(np.asarray(state.state_vector, float).ravel(),
                                            time_interval.total_seconds()))

        def jacobian(self, state, time_interval=None, **kwargs):
            Ah = ekf.dynamics_jacobian(np.asarray(state.state_vector, float).ravel()) * time_interval.total_seconds()
            return np.eye(6) + Ah + 0.5 * Ah @ Ah

        def covar(self, time_interval=None, **kwargs):
            return ekf.white_noise_accel_Q(time_interval.total_seconds(), self.q)

    model = RadarAER(ndim_state=6, mapping=(0, 1, 2), noise_covar=R)
    predictor = ExtendedKalmanPredictor(Ballistic(q=Q))
    updater = ExtendedKalmanUpdater(model, use_joseph_cov=True)
    t0 = datetime(2020, 1, 1)
    out = []
    for i in range(x0.shape[0]):
        s = GaussianState(StateVector(x0[i]), P0[i], timestamp=t0)
        for k in range(scans):
            t = t0 + timedelta(seconds=k * DT)
            if k:
                s = predictor.predict(s, timestamp=t)
            det = Detection(StateVector([z[k, i, 0], Bearing(z[k, i, 1]), z[k, i, 2]]), timestamp=t,
                            measurement_model=model)
            s = updater.update(SingleHypothesis(s, det))
        out.append(np.asarray(s.state_vector, float).ravel())
    return np.array(out)


PEERS = {"filterpy": run_filterpy, "stonesoup": run_stonesoup}


def timed(fn, *args):
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - w, time.process_time() - c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,100,1000,10000")
    ap.add_argument("--scans", type=int, default=200)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    rows = []
    for n in sizes:
        truth, z, x0, P0 = scene(n, a.scans)
        run_shieldlab(z[:3], x0, P0, 3)  # warm
        row = {"targets": n, "scans": a.scans}
        # shieldlab's own rate, over all scans
        ours = [timed(run_shieldlab, z, x0, P0, a.scans) for _ in range(3)]
        row["shieldlab_wall_s"] = statistics.median(o[1] for o in ours)
        row["shieldlab_cpu_s"] = statistics.median(o[2] for o in ours)
        row["shieldlab_updates_per_s"] = n * a.scans / row["shieldlab_wall_s"]
        x_ours = ours[0][0]
        for name, fn in VARIANTS.items():
            fn(z[:3], x0, P0, 3)  # warm (compiles the kernels)
            runs = [timed(fn, z, x0, P0, a.scans) for _ in range(3)]
            wall = statistics.median(r[1] for r in runs)
            row[f"shieldlab_{name}"] = {
                "wall_s": round(wall, 4), "cpu_s": round(statistics.median(r[2] for r in runs), 4),
                "updates_per_s": round(n * a.scans / wall, 1),
                "max_rel_state_difference_to_numpy_ekf": float(
                    f"{np.max(np.abs(runs[0][0] - x_ours) / np.maximum(np.abs(x_ours), 1.0)):.2e}")}
        for name, fn in PEERS.items():
            # how many targets and scans fit the budget: probe one target's full run
            _, probe, _ = timed(fn, z[:, :1], x0[:1], P0[:1], min(a.scans, 20))
            per_update = probe / min(a.scans, 20)
            k_targets = max(1, min(n, int(PEER_BUDGET_S / (per_update * a.scans))))
            scans = a.scans if k_targets > 1 or per_update * a.scans <= PEER_BUDGET_S else \
                max(5, int(PEER_BUDGET_S / per_update))
            pairs = a.pairs if k_targets == n and scans == a.scans else 3
            wall_p, cpu_p, wall_o, cpu_o = [], [], [], []
            for i in range(pairs):
                order = (0, 1) if i % 2 == 0 else (1, 0)
                for j in order:
                    if j == 0:
                        xp, w, c = timed(fn, z[:, :k_targets], x0[:k_targets], P0[:k_targets], scans)
                        wall_p.append(w), cpu_p.append(c)
                    else:
                        _, w, c = timed(run_shieldlab, z, x0, P0, a.scans)
                        wall_o.append(w), cpu_o.append(c)
            peer_rate = k_targets * scans / statistics.median(wall_p)
            our_rate = n * a.scans / statistics.median(wall_o)
            peer_cpu_rate = k_targets * scans / statistics.median(cpu_p)
            our_cpu_rate = n * a.scans / statistics.median(cpu_o)
            if scans == a.scans:
                diff = np.max(np.abs(xp - x_ours[:k_targets]) / np.maximum(np.abs(x_ours[:k_targets]), 1.0))
            else:
                diff = np.max(np.abs(xp - run_shieldlab(z, x0[:k_targets], P0[:k_targets], scans))
                              / np.maximum(np.abs(xp), 1.0))
            row[name] = {"targets_run": k_targets, "scans_run": scans, "pairs": pairs,
                         "updates_per_s": round(peer_rate, 1), "cpu_updates_per_s": round(peer_cpu_rate, 1),
                         "shieldlab_updates_per_s": round(our_rate, 1),
                         "ratio_wall": round(our_rate / peer_rate, 1),
                         "ratio_cpu": round(our_cpu_rate / peer_cpu_rate, 1),
                         "max_rel_state_difference": float(f"{diff:.2e}")}
        rows.append(row)
        if not a.json:
            print(json.dumps(row), flush=True)
    import filterpy
    import stonesoup

    res = {"date": date.today().isoformat(), "cpu": cpu_model(), "cores": os.cpu_count(),
           "load_avg_1min": os.getloadavg()[0], "filterpy": filterpy.__version__,
           "stonesoup": stonesoup.__version__, "numpy": np.__version__, "rows": rows}
    print(json.dumps(res, indent=2) if a.json else f"machine: {res['cpu']}, {res['cores']} cores, "
          f"load {res['load_avg_1min']:.2f}; filterpy {res['filterpy']}, stonesoup {res['stonesoup']}")


if __name__ == "__main__":
    main()
