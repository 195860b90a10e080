"""Radar tracking speed: shieldlab against FilterPy and Stone Soup, side by side.

    python bench/tracking.py [--mode association|filters] [--sizes 1,100,1000,10000]
                             [--scans 200] [--pairs 5] [--json]

Equal work.  N targets coast on ballistic arcs 300-800 km from one radar; every scan is 1 s.
Each filter runs one prediction (RK4 with J2 and the rotating-frame terms, transition
``I + A h + (A h)^2/2``, white-noise acceleration) and one update (analytic Jacobian,
azimuth innovation wrapped, Joseph-form covariance) per target and scan, with shieldlab's
own model functions.

``--mode association`` (the default): the radar EKF with data association.  Each target is
seen with probability 0.95 and each scan adds Poisson false alarms (0.1 per target) over
the targets' span; the reports come unlabelled, in a random order.  Every track is gated
(χ², 0.999) and GNN assigns reports (cost: the Mahalanobis distance, the gate distance
for no report: Stone Soup's convention), then the assigned tracks update:

* **shieldlab**: :func:`shieldlab.tracking.ekf_kernel.predict` and
  :func:`~shieldlab.tracking.ekf_kernel.update` on all tracks at once and
  :func:`shieldlab.tracking.association.associate` (a grid pre-gate on a bound of the gate,
  the distances of the candidate pairs only, GNN per cluster of contested reports);
* **FilterPy** (2.0.0): one ``ExtendedKalmanFilter`` per target, and the association a
  NumPy user would write (FilterPy has none): a SciPy k-d tree with the same bound,
  vectorised distances, ``scipy.sparse.csgraph.min_weight_full_bipartite_matching``;
* **Stone Soup** (1.9.1): ``DetectionKDTreeGNN2D`` over a ``DistanceHypothesiser``, its fast
  path, and (``stonesoup_all_pairs``) the plain ``GNNWith2DAssignment`` that weighs every
  (track, detection) pair.

All three make the same assignments (``same_assignments``, the share of (scan, track)
that agree) and end at the same states.  ``shieldlab_right_associations`` is the share of
(scan, track) that took their own target's report (or nothing when it was missed).

``--mode filters``: the filters alone on labelled reports (no association):

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

Only the work done is credited: a peer too slow for the full run at a size runs fewer
scans of every target (the same problem each scan) or, where even 5 scans would not fit
the budget, fewer targets; every rate is target-updates per second (one update = one
predict + one update of one target, with its share of the association).  Pairs alternate
shieldlab and each peer (the order flipped every pair); medians of ``--pairs`` pairs (3 at
sizes where a peer's run is capped).  Wall and process CPU time both.  After the timed runs
the final states are compared (relative difference printed; the test
tests/validation/test_stonesoup_yardstick.py holds the filters to 1e-6 of Stone Soup's and
the associations equal to its GNN's).
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
from shieldlab.tracking import association, ekf, ekf_kernel, imm, ukf  # noqa: E402

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


def _filterpy_parts():
    """FilterPy's EKF with shieldlab's RK4 flight, and the measurement function, Jacobian and
    azimuth-wrapping residual it is given."""
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

    return Ballistic, hx, jac, residual


def run_filterpy(z, x0, P0, scans):
    Ballistic, hx, jac, residual = _filterpy_parts()

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


def _stonesoup_models():
    """Stone Soup's measurement model, predictor and updater over shieldlab's model functions."""
    from stonesoup.base import Property
    from stonesoup.models.base import GaussianModel
    from stonesoup.models.measurement.nonlinear import NonLinearGaussianMeasurement
    from stonesoup.models.transition.base import TransitionModel
    from stonesoup.predictor.kalman import ExtendedKalmanPredictor
    from stonesoup.types.angle import Bearing
    from stonesoup.types.array import StateVector
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
    return model, predictor, updater


def run_stonesoup(z, x0, P0, scans):
    from stonesoup.types.angle import Bearing
    from stonesoup.types.array import StateVector
    from stonesoup.types.detection import Detection
    from stonesoup.types.hypothesis import SingleHypothesis
    from stonesoup.types.state import GaussianState

    model, predictor, updater = _stonesoup_models()
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


# ---------------------------------------------------------------------------------------
# --mode association: the radar EKF with gating and GNN among missed reports and clutter
# ---------------------------------------------------------------------------------------

#: Detection probability per target and scan, and false alarms per scan per target (mean).
PD, CLUTTER_PER_TARGET = 0.95, 0.1
#: χ² gate (probability 0.999, 3 degrees of freedom) and its Mahalanobis distance.
GATE_D2 = association.gate(0.999)
GATE_D = float(np.sqrt(GATE_D2))


def association_scene(n: int, scans: int, seed: int = 1):
    """The filter scene with reports unlabelled: each target seen with probability ``PD``,
    Poisson false alarms (mean ``CLUTTER_PER_TARGET`` × n, at least 1) uniform over the
    targets' range, azimuth and elevation span, every scan's reports in a random order.
    Returns starting estimates x0 (n, 6), P0 (n, 6, 6), the reports of each scan (list of
    (M_k, 3)) and their labels (target index, -1 for a false alarm)."""
    truth, z, x0, P0 = scene(n, scans, seed)
    rng = np.random.default_rng(seed + 1000)
    lo = z.reshape(-1, 3).min(axis=0)
    hi = z.reshape(-1, 3).max(axis=0)
    lo[1], hi[1] = 0.0, 2 * np.pi
    reports, labels = [], []
    for k in range(scans):
        seen = np.flatnonzero(rng.random(n) < PD)
        clutter = rng.uniform(lo, hi, (rng.poisson(max(1.0, CLUTTER_PER_TARGET * n)), 3))
        zk = np.concatenate([z[k, seen], clutter])
        lab = np.concatenate([seen, np.full(len(clutter), -1)])
        order = rng.permutation(len(zk))
        zk = zk[order]
        zk[:, 1] = np.mod(zk[:, 1], 2 * np.pi)
        reports.append(zk)
        labels.append(lab[order])
    return x0, P0, reports, labels


def assoc_shieldlab(x0, P0, reports, scans):
    """shieldlab: the compiled EKF rows in place (:func:`shieldlab.tracking.ekf_kernel.predict_rows`,
    :func:`~shieldlab.tracking.ekf_kernel.update_rows`) and
    :func:`shieldlab.tracking.association.associate` (grid pre-gate, compiled pair distances
    and GNN per cluster) on all tracks at once."""
    n = x0.shape[0]
    x, P = np.array(x0, float, order="C"), np.array(P0, float, order="C")
    q, Rn = np.full(n, Q), np.ascontiguousarray(np.broadcast_to(R, (n, 3, 3)))
    zk, nis = np.zeros((n, 3)), np.empty(n)
    took_all = []
    for k in range(scans):
        if k:
            ekf_kernel.predict_rows(x, P, 1, DT, q)
        a = association.associate(x, P, reports[k], R, SITE, ENU, GATE_D2)
        took = a >= 0
        zk[took] = reports[k][a[took]]
        ekf_kernel.update_rows(x, P, zk, Rn, SITE, ENU, took, nis)
        took_all.append(a)
    return x, took_all


def assoc_filterpy(x0, P0, reports, scans):
    """FilterPy 2.0.0 has filters, no association: one ``ExtendedKalmanFilter`` per target
    (as in ``--mode filters``) and, per scan, the fast path a NumPy user would write: a
    SciPy k-d tree over the reports' positions with the same radius bound, the Mahalanobis
    distances of the candidate pairs vectorised in NumPy from the filters' own P, and
    :func:`scipy.sparse.csgraph.min_weight_full_bipartite_matching` on the sparse cost with
    one no-report column per track (the gate distance)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching
    from scipy.spatial import cKDTree

    Ballistic, hx, jac, residual = _filterpy_parts()

    Qm = ekf.white_noise_accel_Q(DT, Q)
    n = x0.shape[0]
    filters = []
    for i in range(n):
        f = Ballistic(dim_x=6, dim_z=3)
        f.x, f.P, f.R, f.Q = x0[i].copy(), P0[i].copy(), R, Qm
        filters.append(f)
    var = np.diag(R)
    took_all = []
    for k in range(scans):
        if k:
            for f in filters:
                Ah = ekf.dynamics_jacobian(f.x) * DT
                f.F = np.eye(6) + Ah + 0.5 * Ah @ Ah
                f.predict()
        X = np.array([f.x for f in filters])
        Ps = np.array([f.P for f in filters])
        zk = reports[k]
        M = len(zk)
        r, az, el = zk[:, 0], zk[:, 1], zk[:, 2]
        pos = SITE + np.stack([r * np.cos(el) * np.sin(az), r * np.cos(el) * np.cos(az), r * np.sin(el)], 1) @ ENU
        r2 = np.sum((X[:, :3] - SITE) ** 2, axis=1)
        radius = 1.25 * np.sqrt(GATE_D2 * (np.trace(Ps[:, :3, :3], axis1=1, axis2=2) + var[0] + r2 * (var[1] + var[2])))
        near = cKDTree(pos).query_ball_point(X[:, :3], radius, return_sorted=False)
        pt = np.repeat(np.arange(n), [len(v) for v in near])
        pm = np.fromiter((m for v in near for m in v), np.int64, pt.size)
        hz, H = ekf.measure_aer(X, SITE, ENU)
        S = H @ Ps @ np.swapaxes(H, 1, 2) + R
        nu = zk[pm] - hz[pt]
        nu[:, 1] = ekf.wrap_pi(nu[:, 1])
        d = np.sqrt(np.einsum("ki,kij,kj->k", nu, np.linalg.inv(S)[pt], nu))
        ok = d < GATE_D
        # +1: the sparse matrix must hold no explicit zero; a constant per row moves no optimum
        rows = np.concatenate([pt[ok], np.arange(n)])
        cols = np.concatenate([pm[ok], M + np.arange(n)])
        vals = np.concatenate([d[ok], np.full(n, GATE_D)]) + 1.0
        ri, ci = min_weight_full_bipartite_matching(csr_matrix((vals, (rows, cols)), shape=(n, M + n)))
        a = np.full(n, -1)
        a[ri] = np.where(ci < M, ci, -1)
        for i in np.flatnonzero(a >= 0):
            filters[i].update(zk[a[i]], jac, hx, residual=residual)
        took_all.append(a)
    return np.array([f.x for f in filters]), took_all


def assoc_stonesoup(x0, P0, reports, scans, kd_tree: bool = True):
    """Stone Soup 1.9.1, its own fast path: ``DetectionKDTreeGNN2D`` (a k-d tree over the
    detections in measurement space, then ``GNNWith2DAssignment``) over a
    ``DistanceHypothesiser`` (Mahalanobis, the gate distance as the missed distance), the
    same EKF models as ``--mode filters``, one ``Track`` per target.  Its tree's radius is
    Euclidean in (range [m], azimuth, elevation [rad]), so in effect a range window: set to
    the largest radius the bound gives at the start (every later one is smaller).  With
    ``kd_tree=False`` the plain ``GNNWith2DAssignment``, which weighs every
    (track, detection) pair: the API's first example."""
    from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
    from stonesoup.dataassociator.tree import DetectionKDTreeGNN2D
    from stonesoup.hypothesiser.distance import DistanceHypothesiser
    from stonesoup.measures import Mahalanobis
    from stonesoup.types.angle import Bearing
    from stonesoup.types.array import StateVector
    from stonesoup.types.detection import Detection
    from stonesoup.types.state import GaussianState
    from stonesoup.types.track import Track

    model, predictor, updater = _stonesoup_models()
    hypothesiser = DistanceHypothesiser(predictor, updater, measure=Mahalanobis(), missed_distance=GATE_D)
    window = float(association.gate_radius(x0, P0, R, SITE, GATE_D2).max())
    associator = DetectionKDTreeGNN2D(hypothesiser=hypothesiser, predictor=predictor, updater=updater,
                                      max_distance=window) if kd_tree else GNNWith2DAssignment(hypothesiser)
    t0 = datetime(2020, 1, 1)
    tracks = [Track([GaussianState(StateVector(x0[i]), P0[i], timestamp=t0)]) for i in range(x0.shape[0])]
    took_all = []
    for k in range(scans):
        t = t0 + timedelta(seconds=k * DT)
        dets = [Detection(StateVector([zz[0], Bearing(zz[1]), zz[2]]), timestamp=t, measurement_model=model)
                for zz in reports[k]]
        index = {id(d): j for j, d in enumerate(dets)}
        hyps = associator.associate(tracks, set(dets), t)
        a = np.full(len(tracks), -1)
        for i, tr in enumerate(tracks):
            h = hyps[tr]
            if h:
                tr.append(updater.update(h))
                a[i] = index[id(h.measurement)]
            else:
                tr.append(h.prediction)
        took_all.append(a)
    return np.array([np.asarray(tr.state_vector, float).ravel() for tr in tracks]), took_all


def assoc_stonesoup_all_pairs(x0, P0, reports, scans):
    return assoc_stonesoup(x0, P0, reports, scans, kd_tree=False)


ASSOC_PEERS = {"filterpy": assoc_filterpy, "stonesoup": assoc_stonesoup,
               "stonesoup_all_pairs": assoc_stonesoup_all_pairs}


def _same_assignments(a, b) -> float:
    """Share of (scan, track) assignments on which two runs agree."""
    return float(np.mean(np.concatenate([np.asarray(p) == np.asarray(q) for p, q in zip(a, b)])))


def _label_accuracy(took, labels) -> float:
    """Share of (scan, track) where a track took its own target's report or, with none
    in the scan, nothing (the association was right)."""
    right = []
    for a, lab in zip(took, labels):
        n = len(a)
        own = np.full(n, -1)
        own[lab[lab >= 0]] = np.flatnonzero(lab >= 0)
        right.append(a == own)
    return float(np.mean(np.concatenate(right)))


def association_rows(sizes, scans: int, pairs: int, quiet: bool):
    rows = []
    for n in sizes:
        x0, P0, reports, labels = association_scene(n, scans)
        assoc_shieldlab(x0, P0, reports[:3], 3)  # warm (compiles the kernels)
        ours = [timed(assoc_shieldlab, x0, P0, reports, scans) for _ in range(3)]
        (x_ours, took_ours) = ours[0][0]
        wall = statistics.median(o[1] for o in ours)
        row = {"targets": n, "scans": scans, "reports_per_scan": round(float(np.mean([len(r) for r in reports])), 1),
               "shieldlab_wall_s": round(wall, 4), "shieldlab_cpu_s": round(statistics.median(o[2] for o in ours), 4),
               "shieldlab_updates_per_s": round(n * scans / wall, 1),
               "shieldlab_right_associations": round(_label_accuracy(took_ours, labels), 5)}
        for name, fn in ASSOC_PEERS.items():
            # what fits the budget: probe up to 100 targets over 5 scans, then run every
            # target over fewer scans (the same problem each scan), or, where even 5 scans
            # of all would not fit, fewer targets over 5 scans
            k_probe = min(n, 100)
            px0, pP0, prep, _ = association_scene(k_probe, 5)
            fn(px0[:1], pP0[:1], prep[:2], 2)  # warm: imports and first calls outside the probe
            _, probe, _ = timed(fn, px0, pP0, prep, 5)
            per_update = probe / (k_probe * 5)
            k_targets, k_scans = n, min(scans, int(PEER_BUDGET_S / (per_update * n)))
            if k_scans < 5:
                k_targets, k_scans = max(1, min(n, int(PEER_BUDGET_S / (per_update * 5)))), 5
            if k_targets == n:
                sx0, sP0, srep = x0, P0, reports[:k_scans]
            else:
                sx0, sP0, srep, _ = association_scene(k_targets, k_scans)
            n_pairs = pairs if (k_targets == n and k_scans == scans) else 3
            wall_p, cpu_p, wall_o, cpu_o = [], [], [], []
            for i in range(n_pairs):
                for j in ((0, 1) if i % 2 == 0 else (1, 0)):
                    if j == 0:
                        (xp, tp), w, c = timed(fn, sx0, sP0, srep, k_scans)
                        wall_p.append(w), cpu_p.append(c)
                    else:
                        _, w, c = timed(assoc_shieldlab, x0, P0, reports, scans)
                        wall_o.append(w), cpu_o.append(c)
            xs, ts = (x_ours, took_ours) if len(srep) == scans and k_targets == n else \
                assoc_shieldlab(sx0, sP0, srep, k_scans)
            peer_rate = k_targets * k_scans / statistics.median(wall_p)
            our_rate = n * scans / statistics.median(wall_o)
            peer_cpu = k_targets * k_scans / statistics.median(cpu_p)
            our_cpu = n * scans / statistics.median(cpu_o)
            row[name] = {"targets_run": k_targets, "scans_run": k_scans, "pairs": n_pairs,
                         "updates_per_s": round(peer_rate, 1), "cpu_updates_per_s": round(peer_cpu, 1),
                         "shieldlab_updates_per_s": round(our_rate, 1),
                         "ratio_wall": round(our_rate / peer_rate, 1), "ratio_cpu": round(our_cpu / peer_cpu, 1),
                         "same_assignments": _same_assignments(tp, ts),
                         "max_rel_state_difference": float(
                             f"{np.max(np.abs(xp - xs) / np.maximum(np.abs(xs), 1.0)):.2e}")}
        rows.append(row)
        if not quiet:
            print(json.dumps(row), flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,100,1000,10000")
    ap.add_argument("--scans", type=int, default=200)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--mode", choices=("association", "filters"), default="association",
                    help="association: the EKF with gating and GNN among missed reports and clutter; "
                         "filters: the filters alone on labelled reports")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    rows = association_rows(sizes, a.scans, a.pairs, a.json) if a.mode == "association" else \
        filter_rows(sizes, a.scans, a.pairs, a.json)
    import filterpy
    import stonesoup

    res = {"date": date.today().isoformat(), "mode": a.mode, "cpu": cpu_model(), "cores": os.cpu_count(),
           "load_avg_1min": os.getloadavg()[0], "filterpy": filterpy.__version__,
           "stonesoup": stonesoup.__version__, "numpy": np.__version__, "rows": rows}
    print(json.dumps(res, indent=2) if a.json else f"machine: {res['cpu']}, {res['cores']} cores, "
          f"load {res['load_avg_1min']:.2f}; filterpy {res['filterpy']}, stonesoup {res['stonesoup']}")


def filter_rows(sizes, scans_total: int, n_pairs: int, quiet: bool):
    rows = []
    for n in sizes:
        truth, z, x0, P0 = scene(n, scans_total)
        run_shieldlab(z[:3], x0, P0, 3)  # warm
        row = {"targets": n, "scans": scans_total}
        # shieldlab's own rate, over all scans
        ours = [timed(run_shieldlab, z, x0, P0, scans_total) for _ in range(3)]
        row["shieldlab_wall_s"] = statistics.median(o[1] for o in ours)
        row["shieldlab_cpu_s"] = statistics.median(o[2] for o in ours)
        row["shieldlab_updates_per_s"] = n * scans_total / row["shieldlab_wall_s"]
        x_ours = ours[0][0]
        for name, fn in VARIANTS.items():
            fn(z[:3], x0, P0, 3)  # warm (compiles the kernels)
            runs = [timed(fn, z, x0, P0, scans_total) for _ in range(3)]
            wall = statistics.median(r[1] for r in runs)
            row[f"shieldlab_{name}"] = {
                "wall_s": round(wall, 4), "cpu_s": round(statistics.median(r[2] for r in runs), 4),
                "updates_per_s": round(n * scans_total / wall, 1),
                "max_rel_state_difference_to_numpy_ekf": float(
                    f"{np.max(np.abs(runs[0][0] - x_ours) / np.maximum(np.abs(x_ours), 1.0)):.2e}")}
        for name, fn in PEERS.items():
            # how many targets and scans fit the budget: probe one target's full run
            _, probe, _ = timed(fn, z[:, :1], x0[:1], P0[:1], min(scans_total, 20))
            per_update = probe / min(scans_total, 20)
            k_targets = max(1, min(n, int(PEER_BUDGET_S / (per_update * scans_total))))
            scans = scans_total if k_targets > 1 or per_update * scans_total <= PEER_BUDGET_S else \
                max(5, int(PEER_BUDGET_S / per_update))
            pairs = n_pairs if k_targets == n and scans == scans_total else 3
            wall_p, cpu_p, wall_o, cpu_o = [], [], [], []
            for i in range(pairs):
                order = (0, 1) if i % 2 == 0 else (1, 0)
                for j in order:
                    if j == 0:
                        xp, w, c = timed(fn, z[:, :k_targets], x0[:k_targets], P0[:k_targets], scans)
                        wall_p.append(w), cpu_p.append(c)
                    else:
                        _, w, c = timed(run_shieldlab, z, x0, P0, scans_total)
                        wall_o.append(w), cpu_o.append(c)
            peer_rate = k_targets * scans / statistics.median(wall_p)
            our_rate = n * scans_total / statistics.median(wall_o)
            peer_cpu_rate = k_targets * scans / statistics.median(cpu_p)
            our_cpu_rate = n * scans_total / statistics.median(cpu_o)
            if scans == scans_total:
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
        if not quiet:
            print(json.dumps(row), flush=True)
    return rows


if __name__ == "__main__":
    main()
