"""Tests of the ECEF ballistic EKF (shieldlab.tracking.ekf) and the tracker.

Truth is built here: a ballistic arc from ~300 km altitude at ~3 km/s integrated
with the filter's own dynamics (RK4, 0.5 s step), optionally with thrust along
the velocity; measurements are (range, azimuth, elevation) from
shieldlab.earth.ecef_to_aer plus Gaussian noise of known R, with fixed seeds.

Consistency tests follow Bar-Shalom, Li & Kirubarajan, "Estimation with
Applications to Tracking and Navigation" (2001), §5.4: over N Monte Carlo runs
the run-averaged NEES times N is χ² with 6N dof and the averaged NIS times N is
χ² with 3N dof; each must lie in its two-sided 95 % band.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from shieldlab import earth
from shieldlab.sensors.records import Detections
from shieldlab.tracking import ekf, ekf_kernel, imm, imm_kernel, tracker, ukf, ukf_kernel
from shieldlab.tracking.records import Tracks
from shieldlab.tracking.tracker import track

D2R = np.pi / 180.0
G0 = 9.80665
SITE_A = (40.0 * D2R, 30.0 * D2R, 100.0)
SITE_B = (47.0 * D2R, 27.0 * D2R, 0.0)
# σ_range = 30 m, σ_az = σ_el = 1 mrad (≈ 0.8 km cross-range at 800 km).
R_RADAR = np.diag([30.0**2, 1e-3**2, 1e-3**2])


def truth_arc(duration: float, thrust: float = 0.0, burn: float = 0.0, dt: float = 0.5):
    """Truth (t (T,), x (T, 6)): from 45°N 35°E, 300 km up, ~3 km/s west-south-west.

    ``thrust`` [m/s²] acts along the ECEF velocity for the first ``burn`` seconds.
    """
    lat, lon = 45.0 * D2R, 35.0 * D2R
    r0 = earth.geodetic_to_ecef(lat, lon, 300e3)
    v0 = earth.enu_matrix(lat, lon).T @ np.array([-2500.0, -1500.0, 800.0])

    def f(x, t):
        dx = ekf.ballistic_derivative(x)
        if t < burn:
            dx[3:] += thrust * x[3:] / np.linalg.norm(x[3:])
        return dx

    n = int(round(duration / dt))
    xs = [np.concatenate([r0, v0])]
    for k in range(n):
        x, t = xs[-1], k * dt
        k1 = f(x, t)
        k2 = f(x + 0.5 * dt * k1, t + 0.5 * dt)
        k3 = f(x + 0.5 * dt * k2, t + 0.5 * dt)
        k4 = f(x + dt * k3, t + dt)
        xs.append(x + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4))
    return np.arange(n + 1) * dt, np.array(xs)


def aer(pos, site):
    az, el, rng = earth.ecef_to_aer(pos, *site)
    return np.stack([rng, az, el], axis=-1)


def detections(tt, X, scan_t, runs, seed, site=SITE_A, R=R_RADAR, name="radar", detected=None) -> Detections:
    """Noisy reports of the truth (tt, X) at ``scan_t`` for ``runs`` independent runs."""
    pos = X[np.searchsorted(tt, scan_t), :3]
    rng = np.random.default_rng(seed)
    z = aer(pos, site) + rng.multivariate_normal(np.zeros(3), R, size=(runs, scan_t.size))
    z[..., 1] = np.mod(z[..., 1], 2 * np.pi)
    det = np.ones((runs, scan_t.size), bool) if detected is None else np.broadcast_to(detected, (runs, scan_t.size))
    z = np.where(det[..., None], z, np.nan)
    return Detections(
        sensor=name,
        site_ecef=earth.geodetic_to_ecef(*site),
        site_lat=site[0],
        site_lon=site[1],
        site_alt=site[2],
        t=np.asarray(scan_t, float),
        z=z,
        detected=det,
        R=R,
        r_scale=np.ones(det.shape),
        snr=np.where(det, 100.0, 0.0),
        truth_pos=np.broadcast_to(pos, (runs,) + pos.shape),
    )


def truth_at(tt, X, t):
    return X[np.searchsorted(tt, t)]


def pos_rms(err):
    """RMS over runs (axis 0) of the position-error norm."""
    return np.sqrt(np.mean(np.sum(err[..., :3] ** 2, axis=-1), axis=0))


def nees(err, P):
    return np.sum(err * np.linalg.solve(P, err[..., None])[..., 0], axis=-1)


def single_report_pos_rms(x, site=SITE_A, R=R_RADAR):
    """RMS position error of one report converted to ECEF: sqrt(trace(J R Jᵀ))."""
    _, P = ekf.init_from_detection(aer(x[:3], site), R, *site, sigma_v=1.0)
    return float(np.sqrt(np.trace(P[:3, :3])))


@pytest.fixture(scope="module")
def arc():
    return truth_arc(200.0)


# --------------------------------------------------------------------------- measurement model
def test_truth_geometry_is_visible_from_both_sites(arc):
    tt, X = arc
    for site in (SITE_A, SITE_B):
        h = aer(X[:, :3], site)
        assert h[:, 2].min() > 10 * D2R and 3e5 < h[:, 0].min() and h[:, 0].max() < 1e6


def test_measure_aer_matches_earth_ecef_to_aer():
    """h equals earth.ecef_to_aer (to rounding) over targets all around the site."""
    rng = np.random.default_rng(0)
    site_ecef = earth.geodetic_to_ecef(*SITE_A)
    M = earth.enu_matrix(SITE_A[0], SITE_A[1])
    az = rng.uniform(0, 2 * np.pi, 500)
    el = rng.uniform(-0.1, 1.4, 500)
    rg = rng.uniform(1e3, 3e6, 500)
    x = np.concatenate([earth.aer_to_ecef(az, el, rg, *SITE_A), rng.normal(0, 3e3, (500, 3))], axis=-1)
    h, H = ekf.measure_aer(x, site_ecef, M)
    ref_az, ref_el, ref_rng = earth.ecef_to_aer(x[:, :3], *SITE_A)
    np.testing.assert_allclose(h[:, 0], ref_rng, rtol=1e-13)
    np.testing.assert_allclose(ekf.wrap_pi(h[:, 1] - ref_az), 0.0, atol=1e-12)
    np.testing.assert_allclose(h[:, 2], ref_el, atol=1e-12)
    assert np.all((h[:, 1] >= 0) & (h[:, 1] < 2 * np.pi))
    assert H.shape == (500, 3, 6) and np.all(H[..., 3:] == 0.0)


def test_measure_aer_jacobian_matches_central_difference():
    """Analytic H vs a central difference with step 1e-6 × range (truncation ~1e-12, rounding ~1e-10)."""
    rng = np.random.default_rng(1)
    site_ecef = earth.geodetic_to_ecef(*SITE_A)
    M = earth.enu_matrix(SITE_A[0], SITE_A[1])
    az = rng.uniform(0, 2 * np.pi, 50)
    el = rng.uniform(0.02, 1.3, 50)
    rg = rng.uniform(5e4, 2e6, 50)
    x = np.concatenate([earth.aer_to_ecef(az, el, rg, *SITE_A), np.zeros((50, 3))], axis=-1)
    h0, H = ekf.measure_aer(x, site_ecef, M)
    H_fd = np.zeros_like(H)
    for j in range(3):
        step = 1e-6 * rg
        dx = np.zeros_like(x)
        dx[:, j] = step
        hp, _ = ekf.measure_aer(x + dx, site_ecef, M)
        hm, _ = ekf.measure_aer(x - dx, site_ecef, M)
        d = hp - hm
        d[:, 1] = ekf.wrap_pi(d[:, 1])
        H_fd[:, :, j] = d / (2 * step[:, None])
    scale = np.abs(H_fd).max(axis=-1, keepdims=True)  # per-row scale for near-zero entries
    assert np.all(np.abs(H - H_fd) <= 1e-6 * scale), (np.abs(H - H_fd) / scale).max()


def test_azimuth_residual_is_wrapped():
    """A target due north: z az = 2π − 1e-4 against a prediction of +1e-4 is a −2e-4 residual."""
    site_ecef = earth.geodetic_to_ecef(*SITE_A)
    M = earth.enu_matrix(SITE_A[0], SITE_A[1])
    pos = earth.aer_to_ecef(1e-4, 0.3, 8e5, *SITE_A)
    x = np.concatenate([pos, np.zeros(3)])
    P = np.diag([1e6, 1e6, 1e6, 1e4, 1e4, 1e4])
    h, _ = ekf.measure_aer(x, site_ecef, M)
    z_wrapped = h + np.array([0.0, 2 * np.pi - 2e-4, 0.0])
    z_unwrapped = h + np.array([0.0, -2e-4, 0.0])
    a = ekf.update(x, P, z_wrapped, R_RADAR, site_ecef, M, True)
    b = ekf.update(x, P, z_unwrapped, R_RADAR, site_ecef, M, True)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12)
    assert a[2] == pytest.approx(b[2], rel=1e-9) and a[2] < 1.0


def test_init_from_detection_position_and_covariance():
    """Position is earth.aer_to_ecef; covariance is J R Jᵀ with J the central difference of aer_to_ecef."""
    z = np.array([[7e5, 1.0, 0.4], [1.2e6, 5.5, 0.1]])
    x, P = ekf.init_from_detection(z, R_RADAR, *SITE_A, sigma_v=3e3)
    np.testing.assert_allclose(x[:, :3], earth.aer_to_ecef(z[:, 1], z[:, 2], z[:, 0], *SITE_A), rtol=1e-15)
    assert np.all(x[:, 3:] == 0.0)
    steps = np.array([1.0, 1e-7, 1e-7])
    J = np.zeros((2, 3, 3))
    for j in range(3):
        dz = np.zeros(3)
        dz[j] = steps[j]
        zp, zm = z + dz, z - dz
        J[:, :, j] = (
            earth.aer_to_ecef(zp[:, 1], zp[:, 2], zp[:, 0], *SITE_A)
            - earth.aer_to_ecef(zm[:, 1], zm[:, 2], zm[:, 0], *SITE_A)
        ) / (2 * steps[j])
    np.testing.assert_allclose(P[:, :3, :3], J @ R_RADAR @ np.swapaxes(J, -1, -2), rtol=1e-6,
                               atol=1e-6 * P[:, :3, :3].max())
    np.testing.assert_allclose(P[:, 3:, 3:], np.broadcast_to(9e6 * np.eye(3), (2, 3, 3)))
    assert np.all(P[:, :3, 3:] == 0.0)


def test_inv_spd3_matches_numpy_on_badly_scaled_matrices():
    """Innovation covariances mix m² and rad² (diagonals 1e6 apart): closed form = LAPACK."""
    rng = np.random.default_rng(2)
    A = rng.normal(size=(200, 3, 3))
    D = np.array([1e3, 1e-3, 1e-3]) * np.exp(rng.normal(size=(200, 1, 3)))
    S = (A @ np.swapaxes(A, -1, -2) + 0.1 * np.eye(3)) * D * np.swapaxes(D, -1, -2)
    ref = np.linalg.inv(S)
    d = np.sqrt(np.diagonal(ref, axis1=-2, axis2=-1))
    scale = d[..., :, None] * d[..., None, :]
    np.testing.assert_allclose(ekf.inv_spd3(S) / scale, ref / scale, atol=1e-10)


# --------------------------------------------------------------------------- motion model
def test_dynamics_jacobian_matches_central_difference_of_the_dynamics(arc):
    """A vs ∂f/∂x by central differences: kinematic and Coriolis blocks to rounding; the
    gravity-gradient block to 6e-3 of its largest entry, the size of the J2 part that
    A leaves out (1.5 J2 (a/r)² ≈ 1.4e-3 times factors up to ~4)."""
    x = arc[1][[0, 200, 400]]
    A = ekf.dynamics_jacobian(x)
    A_fd = np.zeros_like(A)
    for j, step in enumerate([1.0] * 3 + [1e-2] * 3):
        dx = np.zeros(6)
        dx[j] = step
        A_fd[:, :, j] = (ekf.ballistic_derivative(x + dx) - ekf.ballistic_derivative(x - dx)) / (2 * step)
    np.testing.assert_allclose(A[:, :3, :], A_fd[:, :3, :], atol=1e-9)
    np.testing.assert_allclose(A[:, 3:, 3:], A_fd[:, 3:, 3:], atol=1e-12)
    grad = A_fd[:, 3:, :3]
    assert np.abs(A[:, 3:, :3] - grad).max() < 6e-3 * np.abs(grad).max()


def test_predict_without_noise_follows_truth(arc):
    """q = 0: one 60 s predict (30 RK4 substeps of 2 s) and sixty 1 s predicts stay within 1 m of the truth."""
    tt, X = arc
    k60 = np.searchsorted(tt, 60.0)
    x1, _ = ekf.predict(X[0], np.eye(6), 60.0, 0.0)
    x = X[0]
    for _ in range(60):
        x, _ = ekf.predict(x, np.eye(6), 1.0, 0.0)
    for xe in (x1, x):
        assert np.linalg.norm(xe[:3] - X[k60, :3]) < 1.0
        assert np.linalg.norm(xe[3:] - X[k60, 3:]) < 1e-2
    # backwards returns to the start
    xb, _ = ekf.predict(X[k60], np.eye(6), -60.0, 0.0)
    assert np.linalg.norm(xb[:3] - X[0, :3]) < 1.0


def test_predicted_covariance_is_spd_and_matches_the_flow_jacobian(arc):
    """With q = 0, P(60 s) = Φ P0 Φᵀ with Φ the central-difference Jacobian of the RK4 flow
    (to 1e-3: J2 gradient and the 2nd-order Φ are the approximations); with q > 0 P stays SPD."""
    x0 = arc[1][0]
    P0 = np.diag([1e6, 4e6, 2.5e5, 1e4, 2.5e3, 4e4])
    P0[0, 4] = P0[4, 0] = 0.5 * np.sqrt(1e6 * 2.5e3)
    _, P = ekf.predict(x0, P0, 60.0, 0.0)
    Phi = np.zeros((6, 6))
    for j, step in enumerate([10.0] * 3 + [0.1] * 3):
        dx = np.zeros(6)
        dx[j] = step
        Phi[:, j] = (ekf.predict(x0 + dx, P0, 60.0, 0.0)[0] - ekf.predict(x0 - dx, P0, 60.0, 0.0)[0]) / (2 * step)
    ref = Phi @ P0 @ Phi.T
    assert np.abs(P - ref).max() < 1e-3 * np.abs(ref).max()
    for q in (0.0, 1.0, 1e4):
        _, Pq = ekf.predict(x0, P0, 60.0, q)
        np.testing.assert_array_equal(Pq, Pq.T)
        assert np.linalg.eigvalsh(Pq).min() > 0.0


def test_process_noise_composes_over_substeps(arc):
    """From P0 = 0, five 2 s substeps must add up to the one-shot Q(10 s) of the white-noise
    acceleration model (exact for straight-line motion; gravity-gradient terms are ~G·dt² ≈ 2e-4)."""
    q = 7.0
    _, P = ekf.predict(arc[1][0], np.zeros((6, 6)), 10.0, q)
    Q = q * np.kron(np.array([[1000.0 / 3, 50.0], [50.0, 10.0]]), np.eye(3))
    assert np.abs(P - Q).max() < 1e-3 * np.abs(Q).max()
    # batched q
    _, Pb = ekf.predict(np.broadcast_to(arc[1][0], (2, 6)), np.zeros((2, 6, 6)), 10.0, np.array([q, 2 * q]))
    np.testing.assert_allclose(Pb[1], 2 * Pb[0], rtol=1e-12)


# --------------------------------------------------------------------------- filter
def run_ekf(tt, X, scan_t, runs, seed, q=0.0, kf=ekf):
    """Plain EKF (or ``kf=ukf``; no tracker) from x0 ~ N(truth, P0): returns x (runs, K, 6), P,
    nis (runs, K)."""
    det = detections(tt, X, scan_t, runs, seed)
    P0 = np.diag([1e3**2] * 3 + [1e2**2] * 3)
    rng = np.random.default_rng(seed + 1000)
    x = X[0] + rng.multivariate_normal(np.zeros(6), P0, size=runs)
    P = np.broadcast_to(P0, (runs, 6, 6)).copy()
    site, M = det.site_ecef, earth.enu_matrix(det.site_lat, det.site_lon)
    xs, Ps, nis = [], [], []
    t_prev = 0.0
    for k, t in enumerate(scan_t):
        x, P = kf.predict(x, P, t - t_prev, q)
        x, P, s = kf.update(x, P, det.z[:, k], R_RADAR, site, M, np.ones(runs, bool))
        xs.append(x)
        Ps.append(P)
        nis.append(s)
        t_prev = t
    return np.stack(xs, 1), np.stack(Ps, 1), np.stack(nis, 1)


@pytest.mark.parametrize("kf", [ekf, ekf_kernel, ukf], ids=["ekf", "ekf-compiled", "ukf"])
def test_filter_consistency_nees_and_nis(arc, kf):
    """300 Monte Carlo runs, 40 updates every 2 s: average NEES (6 dof) after 30 and 40
    updates and average NIS (3 dof) inside their 95 % χ² bands, for both filters."""
    tt, X = arc
    runs = 300
    scan_t = np.arange(1, 41) * 2.0
    x, P, nis = run_ekf(tt, X, scan_t, runs, seed=7, kf=kf)
    err = x - truth_at(tt, X, scan_t)
    e = nees(err, P)
    lo6, hi6 = stats.chi2.ppf([0.025, 0.975], 6 * runs) / runs
    for k in (29, 39):
        assert lo6 < e[:, k].mean() < hi6, (k, e[:, k].mean(), lo6, hi6)
    lo3, hi3 = stats.chi2.ppf([0.025, 0.975], 3 * runs) / runs
    for k in (29, 39):
        assert lo3 < nis[:, k].mean() < hi3, (k, nis[:, k].mean())
    # time- and run-averaged NIS over the last 10 updates (3·runs·10 dof)
    lo, hi = stats.chi2.ppf([0.025, 0.975], 3 * runs * 10) / (runs * 10)
    assert lo < nis[:, 30:].mean() < hi


def test_filter_inconsistent_when_measurement_noise_understated(arc):
    """The consistency test has teeth: a filter told R/4 fails the NEES band."""
    tt, X = arc
    runs = 300
    scan_t = np.arange(1, 41) * 2.0
    det = detections(tt, X, scan_t, runs, seed=7)
    P0 = np.diag([1e3**2] * 3 + [1e2**2] * 3)
    x = X[0] + np.random.default_rng(1007).multivariate_normal(np.zeros(6), P0, size=runs)
    P = np.broadcast_to(P0, (runs, 6, 6)).copy()
    M = earth.enu_matrix(det.site_lat, det.site_lon)
    t_prev = 0.0
    for k, t in enumerate(scan_t):
        x, P = ekf.predict(x, P, t - t_prev, 0.0)
        x, P, _ = ekf.update(x, P, det.z[:, k], R_RADAR / 4, det.site_ecef, M, True)
        t_prev = t
    hi6 = stats.chi2.ppf(0.975, 6 * runs) / runs
    assert nees(x - truth_at(tt, X, scan_t[-1]), P).mean() > 2 * hi6


def test_accuracy_improves_like_a_least_squares_fit(arc):
    """After N = 50 updates the position error is ≈ sqrt((4N−2)/(N(N+1))) ≈ 0.28 of one report's.

    With q = 0 the EKF is the recursive least-squares fit of the 6-state trajectory; over
    100 s the gravity-known arc behaves like fitting position and velocity per axis to N
    equally spaced points, whose end-point variance is σ²(4N−2)/(N(N+1)) (the straight-line
    fit extrapolated to the last point).  Accepted within ±15 %."""
    tt, X = arc
    N, runs = 50, 400
    scan_t = np.arange(1, N + 1) * 2.0
    x, P, _ = run_ekf(tt, X, scan_t, runs, seed=11)
    err = x[:, -1] - truth_at(tt, X, scan_t[-1])
    ratio = pos_rms(err) / single_report_pos_rms(truth_at(tt, X, scan_t[-1]))
    expected = np.sqrt((4 * N - 2) / (N * (N + 1)))
    assert 0.85 * expected < ratio < 1.15 * expected, (ratio, expected)


def test_update_mask_false_leaves_state_and_covariance_unchanged():
    site_ecef = earth.geodetic_to_ecef(*SITE_A)
    M = earth.enu_matrix(SITE_A[0], SITE_A[1])
    pos = earth.aer_to_ecef(np.array([0.5, 1.0, 2.0]), 0.3, 8e5, *SITE_A)
    x = np.concatenate([pos, np.full((3, 3), 100.0)], axis=-1)
    x[2] = np.nan  # an element without a track must not disturb the others
    P = np.broadcast_to(np.diag([1e6] * 3 + [1e4] * 3), (3, 6, 6)).copy()
    h, _ = ekf.measure_aer(np.nan_to_num(x), site_ecef, M)
    z = h + 1e-3
    mask = np.array([True, False, False])
    x1, P1, nis = ekf.update(x, P, z, R_RADAR, site_ecef, M, mask)
    assert np.all(x1[1] == x[1]) and np.all(P1[1] == P[1]) and np.isnan(nis[1:]).all()
    assert np.isnan(x1[2]).all()
    assert not np.allclose(x1[0], x[0]) and np.trace(P1[0]) < np.trace(P[0]) and np.isfinite(nis[0])


# --------------------------------------------------------------------------- tracker
def test_tracker_missed_detections_initiation_and_confirmation(arc):
    tt, X = arc
    scan_t = np.arange(0.0, 60.0, 2.0)  # 30 scans
    detected = np.zeros((3, 30), bool)
    detected[0, [3, 7, 8, 20, 21, 25]] = True  # third detection at scan 8
    detected[1, [5, 12]] = True  # only two: never confirmed
    detected[2, :] = True
    det = detections(tt, X, scan_t, 3, seed=3, detected=detected)
    tr = track([det], "sys", init_hits=3)
    assert isinstance(tr, Tracks) and tr.system == "sys"
    assert tr.x.shape == (3, 30, 6) and tr.P.shape == (3, 30, 6, 6) and tr.n_hits.dtype == np.int32
    np.testing.assert_array_equal(tr.t, scan_t)
    np.testing.assert_array_equal(tr.n_hits, np.cumsum(detected, axis=-1))
    # nan before the first detection, finite after
    assert np.isnan(tr.x[0, :3]).all() and np.isnan(tr.P[0, :3]).all() and np.isfinite(tr.x[0, 3:]).all()
    # confirm_time is the time of the init_hits-th detection
    assert tr.confirm_time[0] == scan_t[8] and tr.confirm_time[1] == np.inf and tr.confirm_time[2] == scan_t[2]
    np.testing.assert_array_equal(tr.confirmed, tr.n_hits >= 3)
    assert not tr.confirmed[1].any()
    # a missed scan is a pure prediction: the state is the RK4 flow of the previous one
    # (independent of q) and the covariance grows; a detected scan shrinks it
    for k in (9, 10, 19):
        assert not detected[0, k]
        x_pred, _ = ekf.predict(tr.x[0, k - 1], tr.P[0, k - 1], 2.0, 0.0)
        np.testing.assert_allclose(tr.x[0, k], x_pred, rtol=1e-14)
        assert np.trace(tr.P[0, k]) > np.trace(tr.P[0, k - 1])
    assert not np.allclose(tr.x[0, 8], ekf.predict(tr.x[0, 7], tr.P[0, 7], 2.0, 0.0)[0])
    # one-point initiation at the first detection
    x0, _ = ekf.init_from_detection(det.z[0, 3], R_RADAR, *SITE_A, sigma_v=5e3)
    np.testing.assert_array_equal(tr.x[0, 3], x0)
    # init_hits is honoured
    assert track([det], "sys", init_hits=6).confirm_time[0] == scan_t[25]


def test_tracker_two_sensors_both_contribute(arc):
    """Radars at two sites with interleaved grids (A at even, B at odd seconds):
    the fused track beats either radar alone, because each one's range fixes the
    other's poorly measured cross-range."""
    tt, X = arc
    runs = 200
    da = detections(tt, X, np.arange(0.0, 181.0, 2.0), runs, seed=21, site=SITE_A, name="A")
    db = detections(tt, X, np.arange(1.0, 180.0, 2.0), runs, seed=22, site=SITE_B, name="B")
    both = track([da, db], "sys")
    np.testing.assert_array_equal(both.t, np.arange(0.0, 181.0, 1.0))
    ta, tb = track([da], "sys"), track([db], "sys")
    e_both = pos_rms(both.x[:, -1] - truth_at(tt, X, 180.0))
    e_a = pos_rms(ta.x[:, -1] - truth_at(tt, X, 180.0))
    e_b = pos_rms(tb.x[:, -1] - truth_at(tt, X, 179.0))
    assert e_both < 0.7 * min(e_a, e_b), (e_both, e_a, e_b)
    assert both.n_hits[0, -1] == da.t.size + db.t.size


@pytest.mark.parametrize("filt", sorted(tracker.FILTERS))  # a new filter is held to it too
@pytest.mark.parametrize("compiled", [True, False])
def test_tracker_never_reads_the_truth_its_reports_carry(arc, filt, compiled):
    """The reports carry the truth (``truth_pos``) for scoring; the tracker works from the
    measurements alone: with that truth scrambled (shuffled across scans and runs, moved
    1,000 km, or NaN) every filter, compiled or not, gives the same tracks to the bit."""
    tt, X = arc
    d = detections(tt, X, np.arange(0.0, 121.0, 2.0), 6, seed=41)
    rng = np.random.default_rng(0)
    tp = np.array(d.truth_pos)
    scrambled = [rng.permutation(tp.reshape(-1, 3)).reshape(tp.shape), tp + 1e6, np.full_like(tp, np.nan)]
    base = track([d], "sys", filter=filt, compiled=compiled)
    for t in scrambled:
        other = track([dataclasses.replace(d, truth_pos=t)], "sys", filter=filt, compiled=compiled)
        for f in ("x", "P", "n_hits", "confirm_time", "q"):
            np.testing.assert_array_equal(getattr(other, f), getattr(base, f), err_msg=f)


def test_tracker_ballistic_not_overconfident(arc):
    """In ballistic flight the adapted q is above the (zero) true process noise: the
    run-averaged NEES after 100 updates must not exceed the 95 % χ² upper bound."""
    tt, X = arc
    runs = 300
    scan_t = np.arange(0.0, 200.1, 2.0)
    tr = track([detections(tt, X, scan_t, runs, seed=31)], "sys")
    e = nees(tr.x[:, -1] - truth_at(tt, X, scan_t[-1]), tr.P[:, -1])
    assert e.mean() < stats.chi2.ppf(0.975, 6 * runs) / runs
    assert pos_rms(tr.x[:, -1] - truth_at(tt, X, scan_t[-1])) < 0.4 * single_report_pos_rms(X[-1])


def test_tracker_survives_a_5g_boost():
    """Truth thrusts at 5 g along its velocity for 60 s, then coasts 90 s; 1 s scans.

    Bound: from the 5th report on, the RMS position error stays below that of a single
    report at the same time, σ₁(t) (0.6–1 km here: a diverged filter drifts by ½·5g·t²,
    ~9 km after 60 s), and 90 s after burnout it is back below 0.4 σ₁, the level the
    ballistic test reaches (0.26 σ₁).  The run-averaged NEES during the boost stays below
    20: not wildly overconfident.  A filter held at q_ballistic lags by tens of km: the
    adaptation is what keeps the track."""
    tt, X = truth_arc(150.0, thrust=5 * G0, burn=60.0)
    runs = 200
    scan_t = np.arange(0.0, 150.1, 1.0)
    det = detections(tt, X, scan_t, runs, seed=41)
    truth = truth_at(tt, X, scan_t)
    sigma1 = np.array([single_report_pos_rms(x) for x in truth])
    tr = track([det], "sys")
    ratio = pos_rms(tr.x - truth) / sigma1
    assert ratio[5:].max() < 1.0 and ratio[-1] < 0.4, (ratio[5:].max(), ratio[-1])
    assert nees(tr.x - truth, tr.P).mean(0)[5:61].max() < 20.0
    fixed = track([det], "sys", q_boost=1e-2, q_ballistic=1e-2)
    assert (pos_rms(fixed.x - truth) / sigma1).max() > 10.0


def test_tracker_batch_shape_and_independence():
    """(100 runs × 6 threats) over 1,000 update times: the shapes, and each element filtered
    as if alone (its track equals the tracker's on that element's reports only).  Speed is
    measured by bench/tracking.py, not here."""
    tt, X = truth_arc(1000.0, dt=1.0)
    scan_t = np.arange(0.0, 1000.0, 1.0)
    d = detections(tt, X, scan_t, 600, seed=5)
    d = Detections(
        d.sensor, d.site_ecef, d.site_lat, d.site_lon, d.site_alt, d.t,
        d.z.reshape(100, 6, 1000, 3), d.detected.reshape(100, 6, 1000), d.R, d.r_scale.reshape(100, 6, 1000),
        d.snr.reshape(100, 6, 1000), d.truth_pos.reshape(100, 6, 1000, 3),
    )  # fmt: skip
    tr = track([d], "sys")
    assert tr.x.shape == (100, 6, 1000, 6) and tr.P.shape == (100, 6, 1000, 6, 6)
    assert tr.confirm_time.shape == (100, 6) and np.all(tr.confirm_time == 2.0)
    one = Detections(
        d.sensor, d.site_ecef, d.site_lat, d.site_lon, d.site_alt, d.t,
        d.z[37:38, 4], d.detected[37:38, 4], d.R, d.r_scale[37:38, 4], d.snr[37:38, 4], d.truth_pos[37:38, 4],
    )  # fmt: skip
    alone = track([one], "sys")
    np.testing.assert_allclose(alone.x[0], tr.x[37, 4], rtol=1e-12, atol=1e-9)


def test_tracker_rejects_mismatched_batch_shapes(arc):
    tt, X = arc
    a = detections(tt, X, np.arange(0.0, 10.0), 3, seed=1)
    b = detections(tt, X, np.arange(0.0, 10.0), 4, seed=2)
    with pytest.raises(ValueError, match="batch shape"):
        track([a, b], "sys")


def test_ukf_and_ekf_agree_where_the_models_are_nearly_linear(arc):
    """After 40 updates on a ballistic arc the two filters' estimates differ by far less
    than their uncertainty, and their covariances by a few per cent."""
    tt, X = arc
    scan_t = np.arange(1, 41) * 2.0
    xe, Pe, _ = run_ekf(tt, X, scan_t, 50, seed=9)
    xu, Pu, _ = run_ekf(tt, X, scan_t, 50, seed=9, kf=ukf)
    d = xu[:, -1] - xe[:, -1]
    assert nees(d, Pe[:, -1]).max() < 0.05
    np.testing.assert_allclose(np.sqrt(np.diagonal(Pu[:, -1], axis1=-2, axis2=-1)),
                               np.sqrt(np.diagonal(Pe[:, -1], axis1=-2, axis2=-1)), rtol=0.05)


def _boost_then_coast(kind):
    """The 5 g boost then coast of test_tracker_survives_a_5g_boost tracked by filter
    ``kind``, checked against that test's bounds; returns (tracks, detections, scan times)."""
    tt, X = truth_arc(150.0, thrust=5 * G0, burn=60.0)
    scan_t = np.arange(0.0, 150.1, 1.0)
    det = detections(tt, X, scan_t, 200, seed=41)
    truth = truth_at(tt, X, scan_t)
    sigma1 = np.array([single_report_pos_rms(x) for x in truth])
    tr = track([det], "sys", filter=kind)
    ratio = pos_rms(tr.x - truth) / sigma1
    assert ratio[5:].max() < 1.0 and ratio[-1] < 0.4, (ratio[5:].max(), ratio[-1])
    assert nees(tr.x - truth, tr.P).mean(0)[5:61].max() < 20.0
    return tr, det, scan_t


def test_tracker_runs_either_filter_and_refuses_others():
    """The tracker's filter is a choice: a 5 g boost then a coast tracked by the UKF
    meets the bounds the EKF's test sets (see test_tracker_survives_a_5g_boost)."""
    tr, det, scan_t = _boost_then_coast("ukf")
    assert not np.allclose(tr.x, track([det], "sys").x)  # a different filter, not the EKF again
    with pytest.raises(ValueError, match="filter"):
        track([det], "sys", filter="particle")


def test_imm_tracks_a_boost_then_a_coast_and_knows_which():
    """The IMM (one EKF per regime: ballistic, re-entry, boost noise levels) on the 5 g boost
    then coast of test_tracker_survives_a_5g_boost: the same error bounds, and its regime
    probabilities give boost a large share during the burn and none after it."""
    from shieldlab.tracking import imm
    from shieldlab.tracking.tracker import _Imm

    tr, det, scan_t = _boost_then_coast("imm")
    # the regime probabilities, filtered by hand with the tracker's own state
    state = _Imm((200,), 5e3)
    site, M = det.site_ecef, earth.enu_matrix(det.site_lat, det.site_lon)
    mu = []
    for k, t in enumerate(scan_t):
        if k:
            state.predict(t - scan_t[k - 1])
        state.assimilate(det.z[:, k], det.R_at(k), det.detected[:, k], det, site, M)
        mu.append(state.mu.mean(axis=0))
    mu = np.array(mu)
    boost, ballistic = imm.DEFAULT.names.index("boost"), imm.DEFAULT.names.index("ballistic")
    # thrusting: the boost regime keeps a large share (5 g moves the target only ~25 m per
    # 1 s scan beyond the ballistic prediction, against ~600 m of report noise, so neither
    # regime wins outright); after burnout the boost regime is gone and ballistic flight holds
    assert mu[20:55, boost].mean() > 0.3
    assert mu[65:, boost].mean() < 0.01 and mu[80:, ballistic].mean() > 0.9
    np.testing.assert_allclose(mu.sum(axis=1), 1.0, atol=1e-12)


def test_imm_in_ballistic_flight_is_not_overconfident(arc):
    tt, X = arc
    runs = 300
    scan_t = np.arange(0.0, 200.1, 2.0)
    tr = track([detections(tt, X, scan_t, runs, seed=31)], "sys", filter="imm")
    e = nees(tr.x[:, -1] - truth_at(tt, X, scan_t[-1]), tr.P[:, -1])
    assert e.mean() < stats.chi2.ppf(0.975, 6 * runs) / runs
    assert pos_rms(tr.x[:, -1] - truth_at(tt, X, scan_t[-1])) < 0.4 * single_report_pos_rms(X[-1])


def test_imm_transition_matrix_is_a_markov_chain():
    from shieldlab.tracking import imm

    for dt in (0.0, 1.0, 4.0, 100.0):
        p = imm.transition(dt)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-15)
        assert (p >= 0).all()
    assert np.allclose(imm.transition(0.0), np.eye(3))
    assert imm.transition(10.0)[0, 0] == pytest.approx(np.exp(-10.0 / imm.DEFAULT.sojourn_s[0]))
    assert not np.tril(imm.transition(50.0), -1).any()  # boost -> ballistic -> re-entry, never back
    # no re-entry above the air: there the chain stays in ballistic flight (boost still ends)
    p = imm.transition(10.0, alt=np.array([300e3, 50e3]))
    assert p.shape == (2, 3, 3)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=1e-15)
    assert p[0, 1, 2] == 0.0 and p[0, 1, 1] == 1.0 and p[0, 0, 1] == pytest.approx(1 - np.exp(-10.0 / 60.0))
    np.testing.assert_array_equal(p[1], imm.transition(10.0))


def test_imm_a_regime_nothing_reaches_keeps_the_track_finite():
    """Boost after burnout, re-entry above 100 km: once its odds are exactly zero no regime
    moves into it, and its mixing weights would be 0/0; the track must stay a number (it
    was a nan, confirmed and never deleted, in the multi-target tracker)."""
    from shieldlab.tracking import imm

    x = np.array([earth.WGS84_A + 300e3, 0.0, 0.0, 0.0, 2e3, 1e3])  # 300 km up
    xm = np.repeat(x[None, None], 3, axis=1)
    Pm = np.repeat(np.diag([1e4] * 3 + [1e2] * 3)[None, None], 3, axis=1)
    mu = np.array([[0.0, 1.0, 0.0]])
    xm2, Pm2, c = imm.predict(xm, Pm, mu, 1.0)
    assert np.isfinite(xm2).all() and np.isfinite(Pm2).all()
    np.testing.assert_allclose(c, [[0.0, 1.0, 0.0]])  # above the air re-entry stays shut
    x2, P2 = imm.combine(xm2, Pm2, c)
    assert np.isfinite(x2).all() and np.isfinite(P2).all()


@pytest.mark.parametrize("numpy_kf, compiled_kf", [(ekf, ekf_kernel), (ukf, ukf_kernel)], ids=["ekf", "ukf"])
def test_compiled_filter_equals_the_numpy_filter(numpy_kf, compiled_kf):
    """The tracker's compiled predict and update (ekf_kernel, ukf_kernel) give the NumPy
    filter's states, covariances and NIS to 1e-9 relative, on 384 random states and
    covariances, for steps forward and back and with reports missing (mask), and leave the
    inputs untouched."""
    rng = np.random.default_rng(3)
    M = 384
    lat, lon = rng.uniform(0.5, 0.8, M), rng.uniform(0.5, 0.9, M)
    r = earth.geodetic_to_ecef(lat, lon, rng.uniform(5e4, 5e5, M))
    x = np.concatenate([r, rng.normal(size=(M, 3)) * 2000.0], axis=1).reshape(64, 6, 6)
    A = rng.normal(size=(M, 6, 6))
    P = (A @ A.transpose(0, 2, 1) * 1e4 + np.eye(6) * 1e3).reshape(64, 6, 6, 6)
    q = rng.uniform(1.0, 1e4, (64, 6))
    # a batch row due north of the site and near it: the unscented azimuths straddle north,
    # so the circular mean and the wrapped deviations and innovation are compared too
    x[0, :, :3] = earth.geodetic_to_ecef(0.65 + np.linspace(2e-3, 8e-3, 6), 0.7, 3e4)
    x_in, P_in = x.copy(), P.copy()
    for dt in (0.5, 5.0, -3.0):
        for a, b in zip(numpy_kf.predict(x, P, dt, q), compiled_kf.predict(x, P, dt, q)):
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-9 * np.max(np.abs(a)))
    site = earth.geodetic_to_ecef(0.65, 0.7, 100.0)
    enu = earth.enu_matrix(0.65, 0.7)
    z = ekf.measure_aer(x, site, enu)[0] + rng.normal(size=(64, 6, 3)) * [50.0, 1e-3, 1e-3]
    mask = rng.random((64, 6)) < 0.7
    R = np.diag([50.0**2, 1e-6, 1e-6])
    az = ekf.measure_aer(ukf.sigma_points(x[0], P[0]), site, enu)[0][..., 1]  # (6, 13)
    assert ((az < 0.5) & (az > 0.0)).any(axis=1).all() and (az > 2 * np.pi - 0.5).any(axis=1).all()
    mask[0] = True
    a, b = numpy_kf.update(x, P, z, R, site, enu, mask), compiled_kf.update(x, P, z, R, site, enu, mask)
    for u, v in zip(a, b):
        assert u.shape == v.shape
        np.testing.assert_array_equal(np.isnan(u), np.isnan(v))
        f = np.isfinite(u)
        np.testing.assert_allclose(v[f], u[f], rtol=1e-9, atol=1e-9 * np.max(np.abs(u[f])))
    np.testing.assert_array_equal(b[0][~mask], x[~mask])
    np.testing.assert_array_equal(x, x_in)
    np.testing.assert_array_equal(P, P_in)



def test_compiled_imm_steps_equal_the_numpy_imm():
    """The compiled IMM's mixing and prediction, update and combination (imm_kernel) give the
    NumPy IMM's regimes, covariances and odds to 1e-12 relative: on random states, odds and
    covariances; below and above the re-entry regime's entry altitude (100 km: shut above);
    and with odds that are exactly zero where no regime moves into them (boost after it, c_j
    = 0: the regime starts from the combined estimate)."""
    rng = np.random.default_rng(11)
    B, M = 120, 3
    alt = np.where(np.arange(B) % 2 == 0, rng.uniform(2e4, 9e4, B), rng.uniform(1.2e5, 6e5, B))
    r = earth.geodetic_to_ecef(rng.uniform(0.5, 0.8, B), rng.uniform(0.5, 0.9, B), alt)
    x = np.concatenate([r, rng.normal(size=(B, 3)) * 2000.0], axis=1)
    xm = x[:, None, :] + rng.normal(size=(B, M, 6)) * np.array([50.0, 50, 50, 5, 5, 5])
    A = rng.normal(size=(B, M, 6, 6))
    Pm = A @ np.swapaxes(A, -1, -2) * 1e3 + np.eye(6) * 10.0
    mu = rng.dirichlet([1.0, 1.0, 1.0], B)
    mu[:40] = [0.0, 1.0, 0.0]  # boost unreachable: c_0 = 0; re-entry reachable only below 100 km
    reg = imm.DEFAULT
    q, so, ea = (np.asarray(a, float) for a in (reg.q, reg.sojourn_s, reg.entry_alt_m))
    dt = 1.7
    xr, Pr, cr = imm.predict(xm, Pm, mu, dt)
    xk, Pk, ck = xm.copy(), Pm.copy(), mu.copy()
    imm_kernel.predict_rows(xk, Pk, ck, dt, *ekf_kernel.substeps(dt), q, so, ea)
    assert (cr[:40, 0] == 0.0).all() and (cr[:40:2, 2] > 0.0).all() and (cr[1:40:2, 2] == 0.0).all()
    np.testing.assert_allclose(ck, cr, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(xk, xr, rtol=1e-12, atol=1e-6)
    scale = np.abs(Pr).max(axis=(-1, -2), keepdims=True)
    np.testing.assert_allclose(Pk / scale, Pr / scale, rtol=0, atol=1e-12)
    site, enu = earth.geodetic_to_ecef(0.65, 0.7, 100.0), earth.enu_matrix(0.65, 0.7)
    z = ekf.measure_aer(x, site, enu)[0] + rng.normal(size=(B, 3)) * [50.0, 1e-3, 1e-3]
    R = np.diag([50.0**2, 1e-6, 1e-6])
    xu, Pu, mu_u = imm.update(xr, Pr, cr, z, np.broadcast_to(R, (B, 1, 3, 3)), site, enu, np.ones(B, bool))
    imm_kernel.update_rows(xk, Pk, ck, z, R, site, enu)
    np.testing.assert_allclose(ck, mu_u, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(xk, xu, rtol=1e-12, atol=1e-6)
    scale = np.abs(Pu).max(axis=(-1, -2), keepdims=True)
    np.testing.assert_allclose(Pk / scale, Pu / scale, rtol=0, atol=1e-12)
    xc, Pc = imm.combine(xu, Pu, mu_u)
    xo, Po = np.empty((B, 6)), np.empty((B, 6, 6))
    for b in range(B):
        imm_kernel.combine_one(xk[b], Pk[b], ck[b], xo[b], Po[b])
    np.testing.assert_allclose(xo, xc, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(Po, Pc, rtol=1e-9, atol=1e-9 * np.abs(Pc).max())


def test_the_compiled_ukf_ends_a_filter_whose_covariance_has_no_cholesky_factor():
    """Where NumPy's Cholesky would raise (a covariance that is not positive definite), the
    compiled UKF leaves that filter nan (NIS nan), the others as NumPy's."""
    x = np.tile(np.concatenate([earth.geodetic_to_ecef(0.65, 0.7, 2e5), [1e3, 2e3, 0.0]]), (3, 1))
    P = np.tile(np.diag([1e4, 1e4, 1e4, 1e2, 1e2, 1e2]), (3, 1, 1))
    P[1, 0, 0] = -1.0  # not positive definite
    site, enu = earth.geodetic_to_ecef(0.65, 0.7, 100.0), earth.enu_matrix(0.65, 0.7)
    z = ekf.measure_aer(x, site, enu)[0]
    xp, Pp = ukf_kernel.predict(x, P, 2.0, 10.0)
    xu, Pu, nis = ukf_kernel.update(x, P, z, np.diag([50.0**2, 1e-6, 1e-6]), site, enu, np.ones(3, bool))
    for a in (xp, Pp, xu, Pu):
        assert np.isnan(a[1]).all() and np.isfinite(a[[0, 2]]).all()
    assert np.isnan(nis[1]) and np.isfinite(nis[[0, 2]]).all()
    good = [0, 2]
    np.testing.assert_allclose(xp[good], ukf.predict(x[good], P[good], 2.0, 10.0)[0], rtol=1e-12)
    with pytest.raises(np.linalg.LinAlgError):
        ukf.predict(x, P, 2.0, 10.0)


@pytest.mark.parametrize("kf", sorted(tracker.FILTERS))
def test_the_compiled_tracker_tracks_as_the_numpy_tracker(arc, kf):
    """track() through its compiled steps (tracker_kernel) against its NumPy steps: two radars
    on interleaved grids, reports missing at random, a track that comes down and ends; the
    same hits, confirmations and ends, states and covariances to 1e-9, with either filter."""
    from shieldlab.tracking import tracker_kernel

    assert (tracker_kernel._NIS_GAIN_UP, tracker_kernel._NIS_GAIN_DOWN) == (tracker.NIS_GAIN_UP,
                                                                             tracker.NIS_GAIN_DOWN)
    tt, X = truth_arc(900.0, dt=1.0)
    rng = np.random.default_rng(5)
    ta, tb = np.arange(0.0, 1200.0, 2.0), np.arange(1.0, 1200.0, 3.0)
    da = detections(tt, X, np.minimum(ta, tt[-1]), 12, seed=31, site=SITE_A, name="A",
                    detected=(rng.random((12, ta.size)) < 0.6) & (ta < 800.0))
    db = detections(tt, X, np.minimum(tb, tt[-1]), 12, seed=32, site=SITE_B, name="B",
                    detected=(rng.random((12, tb.size)) < 0.5) & (tb < 800.0))
    da, db = dataclasses.replace(da, t=ta), dataclasses.replace(db, t=tb)
    fast = track([da, db], "sys", filter=kf)
    ref = track([da, db], "sys", filter=kf, compiled=False)
    np.testing.assert_array_equal(fast.n_hits, ref.n_hits)
    np.testing.assert_array_equal(fast.confirm_time, ref.confirm_time)
    np.testing.assert_array_equal(np.isnan(fast.x), np.isnan(ref.x))
    np.testing.assert_allclose(fast.x, ref.x, rtol=1e-9, atol=1e-6, equal_nan=True)
    live = np.isfinite(ref.x).all(axis=-1)
    scale = np.abs(ref.P[live]).max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(fast.P[live] / scale, ref.P[live] / scale, rtol=0, atol=1e-9)
    assert live[:, :400].sum() > 3000 and not live[:, -1].any()  # tracked, then came down and ended
    # the noise level each filter holds (Tracks.q, float32), held where a track is
    np.testing.assert_array_equal(np.isfinite(fast.q), live)
    np.testing.assert_allclose(fast.q, ref.q, rtol=1e-5, equal_nan=True)
    top = max(imm.DEFAULT.q) if kf == "imm" else 1e5  # the boost regime's level, or q_boost's default
    assert 1e-2 * (1 - 1e-6) <= np.nanmin(fast.q) and np.nanmax(fast.q) <= top * (1 + 1e-6)
    assert np.nanmax(fast.q) > 1e3 * np.nanmin(fast.q)  # it adapts (or the regimes' odds move)


@pytest.mark.parametrize("kf", sorted(tracker.FILTERS))
def test_a_track_ends_where_its_prediction_goes_into_the_ground(kf):
    # reports until the threat comes down, then an hour of scans without any: the coasted
    # track must end (nan) once predicted IMPACTED_DEPTH_M below the ellipsoid, not fall on
    # through the Earth (where its covariance grew to ~1e25 m² and stopped being positive
    # definite, crashing the fusion of a long scenario)
    tt, X = truth_arc(900.0, dt=1.0)
    alt = earth.ecef_to_geodetic(X[:, :3])[2]
    t_impact = tt[np.argmax(alt < 0.0)]
    assert 300.0 < t_impact < 850.0
    scan_t = np.arange(0.0, 4000.0, 5.0)
    seen = scan_t < t_impact - 30.0
    det = dataclasses.replace(detections(tt, X, np.minimum(scan_t, tt[-1]), 4, seed=11, detected=seen), t=scan_t)
    tr = track([det], "sys", filter=kf)
    x_alt = earth.ecef_to_geodetic(tr.x[..., :3])[2]
    live = np.isfinite(tr.x).all(axis=-1)
    assert live[:, seen].all()
    assert not live[:, scan_t > t_impact + 60.0].any()  # came down about when the truth did
    assert np.all(x_alt[live] > -tracker.IMPACTED_DEPTH_M)
    assert np.isnan(tr.P[~live]).all() and np.isfinite(tr.P[live]).all()
    assert (np.linalg.eigvalsh(tr.P[live]) > 0.0).all()
    np.testing.assert_array_equal(tr.confirmed, tr.n_hits >= 3)  # ending a track does not unconfirm it


def test_below_surface():
    lat, lon = np.radians([0.0, 45.0, 90.0, -60.0]), np.radians([0.0, 30.0, 0.0, -120.0])
    for alt, below in [(0.0, False), (-999.0, False), (-1001.0, True), (-3e6, True), (500e3, False)]:
        r = earth.geodetic_to_ecef(lat, lon, alt)
        np.testing.assert_array_equal(earth.below_surface(r, 1000.0), below, err_msg=str(alt))
        # the compiled twin the trackers' kernels call, point by point
        assert [earth.below_surface_point(*p, 1000.0) for p in r] == [below] * len(r), alt
    assert not earth.below_surface(np.full(3, np.nan), 1000.0)
    assert not earth.below_surface_point(np.nan, np.nan, np.nan, 1000.0)


def test_read_only_and_writeable_reports_run_one_compiled_tracker():
    # Numba types an array by its writeable flag too: reports the tracker can pass as views
    # (read-only, as the chain's are) and reports it must copy (a caller's broadcast mask:
    # the copy is writeable) must not each compile the whole tracker (~100 s)
    import numba

    from shieldlab.tracking import tracker_kernel
    from shieldlab.tracking.records import kernel_list

    a = np.zeros((2, 3))
    b = a.view()
    b.flags.writeable = False
    assert numba.typeof(kernel_list([a])) == numba.typeof(kernel_list([b]))
    assert a.flags.writeable  # views: the caller's array is as it was
    tt, X = truth_arc(300.0, dt=1.0)
    scan_t = np.arange(0.0, 300.0, 5.0)
    viewed = detections(tt, X, scan_t, 2, seed=3)  # a (runs, K) mask: passed as a read-only view
    copied = detections(tt, X, scan_t, 2, seed=3, detected=np.ones(scan_t.size, bool))  # broadcast: copied
    assert viewed.detected.flags.c_contiguous and viewed.detected.strides != copied.detected.strides
    ro = track([viewed], "sys")
    n = len(tracker_kernel.track_rows.signatures)
    rw = track([copied], "sys")
    assert len(tracker_kernel.track_rows.signatures) == n
    np.testing.assert_array_equal(rw.x, ro.x)

def test_a_ukf_filter_that_loses_its_cholesky_factor_restarts_not_raises():
    """One report of row 0 with negative definite noise (R scaled by -1e6): the UKF's
    innovation covariance has no Cholesky factor, the compiled tracker ends the filter and
    restarts it from that report, whose covariance has none either, so the next
    prediction ends it again and the report after restarts it; every report is counted and
    the track is whole at the end (the NumPy reference, which inverts S without a
    factorisation, carries nan instead).  Row 1 is untouched."""
    tt, X = truth_arc(600.0, dt=1.0)
    scan_t = np.arange(0.0, 560.0, 5.0)
    det = detections(tt, X, scan_t, 2, seed=4)
    scale = np.array(det.r_scale, float, copy=True)
    scale[0, 40] = -1e6
    bad = dataclasses.replace(det, r_scale=scale)
    good = track([det], "sys", filter="ukf")
    got = track([bad], "sys", filter="ukf")
    np.testing.assert_array_equal(got.x[1], good.x[1])
    np.testing.assert_array_equal(got.n_hits, good.n_hits)  # every report counted
    assert not np.array_equal(got.x[0, 40], good.x[0, 40])
    on = np.isfinite(good.x[0, 42:, 0])
    assert on.sum() > 20  # the arc goes on well after the bad report
    np.testing.assert_array_equal(np.isfinite(got.x[0, 42:, 0]), on)  # restarted by the next report
    last = 42 + int(np.flatnonzero(on)[-1])
    err = np.linalg.norm(got.x[0, last, :3] - good.x[0, last, :3])
    assert err < 5e3, err  # and converging back on the arc


def test_the_iterated_update_is_consistent_over_a_spread_prior():
    """A young track seen again from 1,500 km by an early-warning radar (range noise 10.6 m,
    1.7 mrad; Voronezh-DM's): over a prior spread 20 km, the range sphere bends away from its
    tangent plane by km, and a single EKF step, linearised at the prior, takes far more from
    the range than it holds.  The iterated update (relinearised at the update until the
    linearisation holds, ekf.update) is consistent: its posterior NEES over 4,000 draws is
    χ²₆'s (mean 6), the single step's is two hundred times that.  The compiled update is
    the NumPy one, iterations and all."""
    assert (ekf_kernel.ITERATE_TOL, ekf_kernel.MAX_ITERATIONS) == (ekf.ITERATE_TOL, ekf.MAX_ITERATIONS)
    lat, lon = np.radians(44.93), np.radians(40.98)
    site, enu = earth.geodetic_to_ecef(lat, lon, 0.0), earth.enu_matrix(lat, lon)
    tl, to = earth.destination(lat, lon, np.radians(150.0), 1.5e6)
    xt = np.concatenate([earth.geodetic_to_ecef(tl, to, 150e3), enu.T @ np.array([-1000.0, 2000.0, 1500.0])])
    n = 4000
    rng = np.random.default_rng(7)
    P0 = np.diag([20e3**2] * 3 + [1e3**2] * 3)
    R = np.diag([10.6**2, 1.7e-3**2, 1.7e-3**2])
    x0 = xt + rng.normal(size=(n, 6)) * np.sqrt(np.diag(P0))
    z = ekf.measure_aer(xt, site, enu)[0] + rng.normal(size=(n, 3)) * np.sqrt(np.diag(R))
    Pb = np.broadcast_to(P0, (n, 6, 6)).copy()

    def nees(x, P):
        e = x - xt
        return np.einsum("ni,ni->n", e, np.linalg.solve(P, e[..., None])[..., 0])

    xi, Pi, nis = ekf.update(x0, Pb, z, R, site, enu, np.ones(n, bool))
    v = nees(xi, Pi)
    assert 5.7 < v.mean() < 6.6 and np.mean(v > 16.81) < 0.03  # χ²₆: 6 and 1 %
    # one step, the EKF's: what the first iterate is
    xs, Ps, nis_s = ekf.update(x0, Pb, z, R, site, enu, np.ones(n, bool), iterate=False)
    assert nees(xs, Ps).mean() > 200 * 6
    np.testing.assert_array_equal(nis, nis_s)  # the NIS is the prior's either way
    xk, Pk, nk = x0.copy(), Pb.copy(), np.empty(n)
    ekf_kernel.update_rows(xk, Pk, z, np.broadcast_to(R, (n, 3, 3)).copy(), site, enu, np.ones(n, bool), nk)
    np.testing.assert_allclose(xk, xi, rtol=1e-12)
    np.testing.assert_allclose(Pk / np.abs(Pi).max(), Pi / np.abs(Pi).max(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(nk, nis, rtol=1e-12)


def test_coast_is_the_numpy_prediction_with_the_drag_floor():
    """``tracker.coast`` (compiled, each row its own span) equals ``ekf.predict`` with
    ``with_drag_floor`` row by row, to rounding: spans of 0 to 40 s (one to twenty substeps),
    states from 20 km (the floor far above the held level) to 900 km up, and a row without a
    state (``nan``, left ``nan``)."""
    from shieldlab.tracking.tracker import coast, with_drag_floor

    rng = np.random.default_rng(11)
    E = 40
    alt = np.concatenate([[20e3, 30e3, 45e3], rng.uniform(20e3, 900e3, E - 3)])
    lat, lon = rng.uniform(-1.2, 1.2, E), rng.uniform(-3.0, 3.0, E)
    pos = earth.geodetic_to_ecef(lat, lon, alt)
    x = np.concatenate([pos, rng.normal(0.0, 3e3, (E, 3))], axis=1)
    a = rng.normal(size=(E, 6, 6)) * np.array([300.0] * 3 + [30.0] * 3)
    P = a @ np.swapaxes(a, -1, -2) + np.diag([1e2] * 3 + [1.0] * 3)
    q = 10.0 ** rng.uniform(-2.0, 3.0, E)
    q[:3] = 1e-2  # the lowest held level, low in the air: the floor rules
    dt = np.concatenate([[40.0, 2.0, 2.0000001, 0.0], rng.uniform(0.0, 40.0, E - 4)])
    x[-1] = np.nan
    xc, Pc = coast(x, P, q, dt)
    assert np.isnan(xc[-1]).all()
    floors = 0
    for m in range(E - 1):
        qm = with_drag_floor(q[m:m + 1], x[m:m + 1], dt[m])
        floors += bool(qm[0] > q[m])
        xr, Pr = ekf.predict(x[m:m + 1], P[m:m + 1], dt[m], qm)
        np.testing.assert_allclose(xc[m], xr[0], rtol=1e-12, atol=1e-6)
        np.testing.assert_allclose(Pc[m], Pr[0], rtol=1e-9, atol=1e-9 * np.abs(Pr[0]).max())
    assert floors >= 3  # the floor was in play
    # one span for all: the same as each row's own
    xs, Ps = coast(x[:-1], P[:-1], q[:-1], 7.5)
    xe, Pe = coast(x[:-1], P[:-1], q[:-1], np.full(E - 1, 7.5))
    np.testing.assert_array_equal(xs, xe)
    np.testing.assert_array_equal(Ps, Pe)
