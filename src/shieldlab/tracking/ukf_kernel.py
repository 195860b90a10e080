"""Compiled predict and update of one unscented Kalman filter (:mod:`shieldlab.tracking.ukf`).

The labelled tracker runs one filter per (run, threat); in NumPy each unscented step is a
dozen calls on (M, 13, 6) arrays of sigma points, and a kill chain tracking with the UKF
took ~20× the EKF's tracking time.  Here one filter's step is one pass over scalars and
small loops, the same equations as :mod:`shieldlab.tracking.ukf` (its module docstring):
the Cholesky factor of ``P`` (Cholesky–Banachiewicz, row by row), the ``2n + 1`` sigma
points flown by the EKF's compiled RK4 substep
(:func:`shieldlab.tracking.ekf_kernel._rk4`), their weighted moments plus ``Q``; in the
update, the sigma points through (range, azimuth, elevation), the azimuth's weighted
circular mean, the wrapped deviations, ``S = S0 + R``, ``K = C S⁻¹`` (the EKF kernel's
closed-form inverse, :func:`~shieldlab.tracking.ekf_kernel._inv_spd3`) and ``P - K S Kᵀ``,
symmetrised.  Sums run in loop order, which may differ from NumPy's in the last bits: the
NumPy filter stays the reference (tests: agreement to 1e-9 relative).

One difference of behaviour: a covariance that is not positive definite (which NumPy's
Cholesky refuses with an exception) ends the track here (``nan``; the next report starts
it again), as a track that came down does.

The steps the trackers' loops use (:func:`predict_one`, :func:`measurement_moments`,
:func:`update_one`) are compiled functions those loops call, not code inlined into them:
the loops (:mod:`~shieldlab.tracking.mtt_kernel`, :mod:`~shieldlab.tracking.tracker_kernel`)
choose the filter at run time, and inlining every filter's steps into every loop had Numba
type and optimise them once per loop, EKF-only loops included (the scan-by-scan tracker
took ~100 s to compile, ~50 s without them). A chain tracking with the UKF ran as fast
either way (measured side by side, 64 runs of epaa-phase-1 under ``gnn``: 0.98×).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from shieldlab.linalg_kernel import symmetrise
from shieldlab.tracking.ekf_kernel import _inv_spd3, _rk4

_TWO_PI = 2.0 * math.pi


@nb.njit(cache=True, inline="always")
def scratch():
    """Scratch of :func:`predict_one` and :func:`update_one`: ``L`` (6, 6), sigma points
    ``chi`` (13, 6) and their measurements ``Z`` (13, 3), ``S``, ``Si`` (3, 3), ``C``,
    ``K`` (6, 3), five (6,) vectors for RK4 and a (6,) mean."""
    return (np.zeros((6, 6)), np.empty((13, 6)), np.empty((13, 3)), np.empty((3, 3)), np.empty((3, 3)),
            np.empty((6, 3)), np.empty((6, 3)), np.empty(6), np.empty(6), np.empty(6), np.empty(6), np.empty(6),
            np.empty(6))


@nb.njit(cache=True, inline="always")
def _cholesky(P, L):
    """Lower Cholesky factor of ``P`` (6, 6) into ``L``; False where ``P`` is not positive
    definite (or not finite)."""
    for i in range(6):
        for j in range(i + 1):
            s = P[i, j]
            for k in range(j):
                s -= L[i, k] * L[j, k]
            if i == j:
                if not s > 0.0:
                    return False
                L[i, i] = math.sqrt(s)
            else:
                L[i, j] = s / L[j, j]
        for j in range(i + 1, 6):
            L[i, j] = 0.0
    return True


@nb.njit(cache=True, inline="always")
def _sigma_points(x, P, s, L, chi):
    """Sigma points of ``N(x, P)`` into ``chi`` (13, 6): the mean, then plus and minus the
    columns of ``s L``; False where ``P`` has no Cholesky factor."""
    if not _cholesky(P, L):
        return False
    for i in range(6):
        chi[0, i] = x[i]
    for c in range(6):
        for i in range(6):
            d = L[i, c] * s
            chi[1 + c, i] = x[i] + d
            chi[7 + c, i] = x[i] - d
    return True


@nb.njit(cache=True, error_model="numpy")
def predict_one(xm, Pm, n, h, qm, s, wm, wc, L, chi, k1, k2, k3, k4, tmp, mean):
    """One filter's unscented prediction in place (:func:`shieldlab.tracking.ukf.predict`):
    state ``xm`` (6,), covariance ``Pm`` (6, 6), ``n`` substeps of ``h`` seconds, process
    noise ``qm`` [m^2/s^3]; sigma-point scale ``s`` and weights ``wm``, ``wc`` (13,)
    (:func:`shieldlab.tracking.ukf.weights`); the rest is scratch.  Returns False (and
    leaves the filter ``nan``) where a covariance has no Cholesky factor."""
    ha = abs(h)
    b00, b01, b11 = qm * (ha ** 3 / 3.0), qm * (ha ** 2 / 2.0), qm * ha
    for _ in range(n):
        if not _sigma_points(xm, Pm, s, L, chi):
            xm[:] = np.nan
            Pm[:, :] = np.nan
            return False
        for k in range(13):
            _rk4(chi[k], h, k1, k2, k3, k4, tmp)
        for i in range(6):
            acc = 0.0
            for k in range(13):
                acc += wm[k] * chi[k, i]
            mean[i] = acc
        for i in range(6):
            for j in range(i, 6):
                acc = 0.0
                for k in range(13):
                    acc += wc[k] * (chi[k, i] - mean[i]) * (chi[k, j] - mean[j])
                Pm[i, j] = acc
                Pm[j, i] = acc
        for i in range(3):
            Pm[i, i] += b00
            Pm[i, 3 + i] += b01
            Pm[3 + i, i] += b01
            Pm[3 + i, 3 + i] += b11
        symmetrise(Pm)
        for i in range(6):
            xm[i] = mean[i]
    return True


@nb.njit(cache=True, inline="always")
def _aer(p, site, enu):
    """(range [m], azimuth [rad, in [0, 2π)], elevation [rad]) of ECEF point ``p`` from ``site``."""
    d0, d1, d2 = p[0] - site[0], p[1] - site[1], p[2] - site[2]
    e = enu[0, 0] * d0 + enu[0, 1] * d1 + enu[0, 2] * d2
    n_ = enu[1, 0] * d0 + enu[1, 1] * d1 + enu[1, 2] * d2
    u = enu[2, 0] * d0 + enu[2, 1] * d1 + enu[2, 2] * d2
    rho2 = e * e + n_ * n_
    az = math.atan2(e, n_) % _TWO_PI
    if az >= _TWO_PI:
        az = 0.0
    return math.sqrt(rho2 + u * u), az, math.atan2(u, math.sqrt(rho2))


@nb.njit(cache=True, inline="always")
def _wrap_pi(a):
    """``a`` wrapped to (−π, π] (:func:`shieldlab.tracking.ekf.wrap_pi`)."""
    return math.pi - (math.pi - a) % _TWO_PI


@nb.njit(cache=True, inline="always")
def _weighted_cross(w, A, B, out):
    """``out[i, j] = Σ_k w[k] A[k, i] B[k, j]`` over the sigma points ``k``: the unscented
    transform's covariances from the deviations ``A`` (13, n) and ``B`` (13, m)."""
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            acc = 0.0
            for k in range(w.shape[0]):
                acc += w[k] * A[k, i] * B[k, j]
            out[i, j] = acc


@nb.njit(cache=True, error_model="numpy")
def measurement_moments(xm, Pm, site, enu, s, wm, wc, L, chi, Z, S0):
    """The unscented transform of ``N(xm, Pm)`` through (range, azimuth, elevation) from
    ``site`` with local rows ``enu``: returns ``(ok, range, azimuth, elevation)``, the
    predicted measurement (the azimuth the weighted circular mean), and fills ``S0`` (3, 3),
    its covariance without the noise; leaves in ``Z`` (13, 3) the sigma points' measurement
    deviations (the azimuth's wrapped) and in ``chi`` (13, 6) their state deviations from
    the centre point (``ukf._measurement_moments``).  ``ok`` False (and nan) where ``Pm`` has
    no Cholesky factor."""
    if not _sigma_points(xm, Pm, s, L, chi):
        return False, np.nan, np.nan, np.nan
    for k in range(13):
        Z[k, 0], Z[k, 1], Z[k, 2] = _aer(chi[k], site, enu)
    zr = 0.0
    ze = 0.0
    ss = 0.0
    cs = 0.0
    wsum = 0.0
    for k in range(13):
        zr += wm[k] * Z[k, 0]
        ze += wm[k] * Z[k, 2]
        ss += wm[k] * math.sin(Z[k, 1])
        cs += wm[k] * math.cos(Z[k, 1])
        wsum += wm[k]
    za = math.atan2(ss / wsum, cs / wsum)  # the azimuth's weighted circular mean
    for k in range(13):  # the measurements' deviations, the azimuth's wrapped
        Z[k, 0] -= zr
        Z[k, 1] = _wrap_pi(Z[k, 1] - za)
        Z[k, 2] -= ze
    for k in range(1, 13):  # the state's from the centre point (the prior mean), as in ukf.py
        for i in range(6):
            chi[k, i] -= chi[0, i]
    for i in range(6):
        chi[0, i] = 0.0
    _weighted_cross(wc, Z, Z, S0)
    return True, zr, za, ze


@nb.njit(cache=True, error_model="numpy")
def update_one(xm, Pm, zm, Rm, site, enu, s, wm, wc, L, chi, Z, S, Si, C, K, nu):
    """One filter's unscented update in place by report ``zm`` (3,) with noise ``Rm`` (3, 3)
    from ``site`` (3,) with local rows ``enu`` (3, 3) (:func:`shieldlab.tracking.ukf.update`);
    returns the normalised innovation squared (``nan``, and the filter left ``nan``, where
    the covariance has no Cholesky factor)."""
    ok, zr, za, ze = measurement_moments(xm, Pm, site, enu, s, wm, wc, L, chi, Z, S)
    if not ok:
        xm[:] = np.nan
        Pm[:, :] = np.nan
        return np.nan
    for i in range(3):
        for j in range(3):
            S[i, j] += Rm[i, j]
    _weighted_cross(wc, chi, Z, C)
    _inv_spd3(S, Si)
    for i in range(6):
        for j in range(3):
            K[i, j] = C[i, 0] * Si[0, j] + C[i, 1] * Si[1, j] + C[i, 2] * Si[2, j]
    nu[0] = zm[0] - zr
    nu[1] = _wrap_pi(zm[1] - za)
    nu[2] = zm[2] - ze
    nis = 0.0
    for i in range(3):
        nis += nu[i] * (Si[i, 0] * nu[0] + Si[i, 1] * nu[1] + Si[i, 2] * nu[2])
    for i in range(6):
        xm[i] += K[i, 0] * nu[0] + K[i, 1] * nu[1] + K[i, 2] * nu[2]
    # P - (K S) Kᵀ, the products in NumPy's order (C, no longer needed, holds K S)
    for i in range(6):
        for j in range(3):
            C[i, j] = K[i, 0] * S[0, j] + K[i, 1] * S[1, j] + K[i, 2] * S[2, j]
    for i in range(6):
        for j in range(6):
            Pm[i, j] -= C[i, 0] * K[j, 0] + C[i, 1] * K[j, 1] + C[i, 2] * K[j, 2]
    symmetrise(Pm)
    return nis


@nb.njit(cache=True, error_model="numpy")
def predict_rows(x, P, n, h, q, s, wm, wc):
    """:func:`shieldlab.tracking.ukf.predict` in place: states ``x`` (M, 6), covariances ``P``
    (M, 6, 6), ``n`` substeps of ``h`` seconds, process noise ``q`` (M,) [m^2/s^3]; a row
    that is not finite comes out ``nan``, as from the NumPy filter."""
    L, chi, Z, S, Si, C, K, k1, k2, k3, k4, tmp, mean = scratch()
    for m in range(x.shape[0]):
        predict_one(x[m], P[m], n, h, q[m], s, wm, wc, L, chi, k1, k2, k3, k4, tmp, mean)


@nb.njit(cache=True, error_model="numpy")
def update_rows(x, P, z, R, site, enu, mask, s, wm, wc, nis):
    """:func:`shieldlab.tracking.ukf.update` in place on the rows where ``mask``: states ``x``
    (M, 6), covariances ``P`` (M, 6, 6), reports ``z`` (M, 3) of noise ``R`` (M, 3, 3) from
    one site; ``nis`` (M,) gets each row's NIS (``nan`` elsewhere)."""
    L, chi, Z, S, Si, C, K, k1, k2, k3, k4, tmp, mean = scratch()
    for m in range(x.shape[0]):
        nis[m] = np.nan
        if mask[m]:
            nis[m] = update_one(x[m], P[m], z[m], R[m], site, enu, s, wm, wc, L, chi, Z, S, Si, C, K, tmp)


def predict(x: np.ndarray, P: np.ndarray, dt: float, q) -> tuple[np.ndarray, np.ndarray]:
    """:func:`shieldlab.tracking.ukf.predict` with the default sigma points (same arguments,
    same results to 1e-9), compiled; the inputs are left as they are."""
    from shieldlab.tracking.ekf_kernel import predict_rows_args, substeps
    from shieldlab.tracking.ukf import weights

    n, h = substeps(dt)
    xs, Ps, qs = predict_rows_args(x, P, q)
    predict_rows(xs, Ps, n, h, qs, *weights(6))
    return xs.reshape(x.shape[:-1] + (6,)), Ps.reshape(x.shape[:-1] + (6, 6))


def update(x, P, z, R, site_ecef, site_enu_matrix, mask) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`shieldlab.tracking.ukf.update` with the default sigma points, for one site
    (``site_ecef`` (3,), ``site_enu_matrix`` (3, 3)) and reports of noise ``R`` (..., 3, 3)
    or (3, 3), compiled; same results to 1e-9, the inputs left as they are."""
    from shieldlab.tracking.ekf_kernel import update_rows_args
    from shieldlab.tracking.ukf import weights

    batch = x.shape[:-1]
    xs, Ps, zs, Rs, site, enu, m, nis = update_rows_args(x, P, z, R, site_ecef, site_enu_matrix, mask)
    update_rows(xs, Ps, zs, Rs, site, enu, m, *weights(6), nis)
    return xs.reshape(batch + (6,)), Ps.reshape(batch + (6, 6)), nis.reshape(batch)
