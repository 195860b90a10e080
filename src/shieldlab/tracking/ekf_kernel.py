"""Compiled row loops of the EKF's predict and update (:mod:`shieldlab.tracking.ekf`).

The tracker runs one filter per (run, threat) over a chunk of runs: around a hundred or
more 6-state filters per update.  In NumPy each step of :func:`~shieldlab.tracking.ekf.predict`
and :func:`~shieldlab.tracking.ekf.update` is a call on (M, 6, 6) arrays, and the calls'
overhead and temporaries, not the arithmetic, set the cost (tracking was ~60 % of the
kill chain's time).  Here each filter is one pass over scalars and 6x6 loops: the same
equations (Jacobian, Phi = I + Ah + (Ah)^2/2, P = Phi P Phi' + Q, RK4 with J2 gravity and
the rotating-frame terms; the range/azimuth/elevation Jacobian, the closed-form inverse
of S scaled to unit diagonal, the Joseph form), summed in loop order, which may differ
from NumPy's matrix products in the last bits.  The NumPy forms stay the references
(tests: agreement to 1e-9 relative).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from shieldlab.earth import GM, OMEGA_EARTH, geodetic_to_ecef
from shieldlab.earth_kernel import ballistic_acceleration
from shieldlab.linalg_kernel import sandwich, symmetrise

_TWO_PI = 2.0 * math.pi


@nb.njit(cache=True, inline="always")
def _deriv(x, out):
    """ballistic_derivative of state x (6,) into out (6,)."""
    out[0], out[1], out[2] = x[3], x[4], x[5]
    out[3], out[4], out[5] = ballistic_acceleration(x[0], x[1], x[2], x[3], x[4], x[5])


@nb.njit(cache=True)
def _rk4(x, h, k1, k2, k3, k4, tmp):
    _deriv(x, k1)
    for i in range(6):
        tmp[i] = x[i] + 0.5 * h * k1[i]
    _deriv(tmp, k2)
    for i in range(6):
        tmp[i] = x[i] + 0.5 * h * k2[i]
    _deriv(tmp, k3)
    for i in range(6):
        tmp[i] = x[i] + h * k3[i]
    _deriv(tmp, k4)
    for i in range(6):
        x[i] = x[i] + (h / 6.0) * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])


@nb.njit(cache=True, inline="always")
def _predict_scratch():
    """Scratch of :func:`_predict_one`: ``A``, ``Phi``, ``T`` (6, 6) and five (6,) vectors."""
    return (np.zeros((6, 6)), np.empty((6, 6)), np.empty((6, 6)), np.empty(6), np.empty(6), np.empty(6),
            np.empty(6), np.empty(6))


@nb.njit(cache=True, error_model="numpy", inline="always")
def _predict_one(xm, Pm, n, h, qm, A, Phi, T, k1, k2, k3, k4, tmp):
    """One filter's prediction in place: state ``xm`` (6,), covariance ``Pm`` (6, 6), ``n``
    substeps of ``h`` seconds, process noise ``qm`` [m^2/s^3]; the rest is scratch."""
    w = OMEGA_EARTH
    ha = abs(h)
    b00, b01, b11 = ha ** 3 / 3.0, ha ** 2 / 2.0, ha
    for _ in range(n):
        # A h: the point-mass gravity gradient and the rotating-frame terms
        rx, ry, rz = xm[0], xm[1], xm[2]
        rn = math.sqrt(rx * rx + ry * ry + rz * rz)
        u0, u1, u2 = rx / rn, ry / rn, rz / rn
        g = GM / rn ** 3
        for i in range(6):
            for j in range(6):
                A[i, j] = 0.0
        for i in range(3):
            A[i, 3 + i] = 1.0
        uu = (u0, u1, u2)
        for i in range(3):
            for j in range(3):
                A[3 + i, j] = g * (3.0 * uu[i] * uu[j] - (1.0 if i == j else 0.0))
        A[3, 0] += w * w
        A[4, 1] += w * w
        A[3, 4] = 2.0 * w
        A[4, 3] = -2.0 * w
        for i in range(6):
            for j in range(6):
                A[i, j] *= h
        # Phi = I + Ah + (Ah)^2 / 2.  Of (Ah)^2's products only those of Ah's non-zero entries
        # are taken (h in the upper right block's diagonal, the gravity gradient in the lower
        # left, the Coriolis pair): the others are exact zeros, so the sums are the full
        # matrix product's to the bit, in a tenth of its operations
        for i in range(6):
            for j in range(6):
                if i < 3:
                    s = A[i, 3 + i] * A[3 + i, j]
                else:
                    s = 0.0
                    if j >= 3:
                        s += A[i, j - 3] * A[j - 3, j]
                    if i == 3:
                        s += A[3, 4] * A[4, j]
                    elif i == 4:
                        s += A[4, 3] * A[3, j]
                Phi[i, j] = (1.0 if i == j else 0.0) + A[i, j] + 0.5 * s
        # P = Phi P Phi' + Q
        sandwich(Phi, Pm, T, Pm)
        for i in range(3):
            Pm[i, i] += qm * b00
            Pm[i, 3 + i] += qm * b01
            Pm[3 + i, i] += qm * b01
            Pm[3 + i, 3 + i] += qm * b11
        _rk4(xm, h, k1, k2, k3, k4, tmp)
    symmetrise(Pm)


@nb.njit(cache=True, error_model="numpy")
def predict_rows(x, P, n, h, q):
    """:func:`shieldlab.tracking.ekf.predict` in place: states ``x`` (M, 6), covariances ``P``
    (M, 6, 6), ``n`` substeps of ``h`` seconds, process noise ``q`` (M,) [m^2/s^3]."""
    A, Phi, T, k1, k2, k3, k4, tmp = _predict_scratch()
    for m in range(x.shape[0]):
        _predict_one(x[m], P[m], n, h, q[m], A, Phi, T, k1, k2, k3, k4, tmp)


@nb.njit(cache=True, inline="always")
def _measure(xm, site, enu, J, H):
    """Predicted (range, azimuth, elevation) of state ``xm`` from ``site`` with local rows
    ``enu``; fills the Jacobian of (range, az, el) by ENU ``J`` (3, 3) and by state ``H`` (3, 6)."""
    d0, d1, d2 = xm[0] - site[0], xm[1] - site[1], xm[2] - site[2]
    e = enu[0, 0] * d0 + enu[0, 1] * d1 + enu[0, 2] * d2
    n_ = enu[1, 0] * d0 + enu[1, 1] * d1 + enu[1, 2] * d2
    u = enu[2, 0] * d0 + enu[2, 1] * d1 + enu[2, 2] * d2
    rho2 = e * e + n_ * n_
    rho = math.sqrt(rho2)
    rng = math.sqrt(rho2 + u * u)
    az = math.atan2(e, n_) % _TWO_PI
    if az >= _TWO_PI:
        az = 0.0
    el = math.atan2(u, rho)
    J[0, 0], J[0, 1], J[0, 2] = e / rng, n_ / rng, u / rng
    J[1, 0], J[1, 1], J[1, 2] = n_ / rho2, -e / rho2, 0.0
    c = -u / (rng * rng * rho)
    J[2, 0], J[2, 1], J[2, 2] = c * e, c * n_, rho / (rng * rng)
    for i in range(3):
        for j in range(3):
            H[i, j] = J[i, 0] * enu[0, j] + J[i, 1] * enu[1, j] + J[i, 2] * enu[2, j]
            H[i, 3 + j] = 0.0
    return rng, az, el


@nb.njit(cache=True, inline="always")
def _project(Pm, H, PHt, S):
    """``PHt = P Hᵀ`` (6, 3) and ``S = H P Hᵀ`` (3, 3), without the noise, for ``H`` (3, 6) of a
    measurement of the position only (its velocity columns zero, as :func:`_measure` makes
    it): the products of those columns, exact zeros, are left out of the sums, which are
    the full products' to the bit."""
    for i in range(6):
        for j in range(3):
            PHt[i, j] = Pm[i, 0] * H[j, 0] + Pm[i, 1] * H[j, 1] + Pm[i, 2] * H[j, 2]
    for i in range(3):
        for j in range(3):
            S[i, j] = H[i, 0] * PHt[0, j] + H[i, 1] * PHt[1, j] + H[i, 2] * PHt[2, j]


@nb.njit(cache=True, inline="always")
def _inv_spd3(S, Si):
    """``Si = S⁻¹`` of a symmetric positive-definite 3x3 (as ``ekf.inv_spd3``: scaled to unit
    diagonal, adjugate); returns ``ln det S``."""
    dd0, dd1, dd2 = 1.0 / math.sqrt(S[0, 0]), 1.0 / math.sqrt(S[1, 1]), 1.0 / math.sqrt(S[2, 2])
    dd = (dd0, dd1, dd2)
    ca = S[0, 0] * dd0 * dd0
    cb = 0.5 * (S[0, 1] * dd0 * dd1 + S[1, 0] * dd1 * dd0)
    cc = 0.5 * (S[0, 2] * dd0 * dd2 + S[2, 0] * dd2 * dd0)
    ce = S[1, 1] * dd1 * dd1
    cf = 0.5 * (S[1, 2] * dd1 * dd2 + S[2, 1] * dd2 * dd1)
    ci = S[2, 2] * dd2 * dd2
    A00, A01, A02 = ce * ci - cf * cf, cc * cf - cb * ci, cb * cf - cc * ce
    A11, A12, A22 = ca * ci - cc * cc, cb * cc - ca * cf, ca * ce - cb * cb
    det = ca * A00 + cb * A01 + cc * A02
    Si[0, 0], Si[0, 1], Si[0, 2] = A00, A01, A02
    Si[1, 0], Si[1, 1], Si[1, 2] = A01, A11, A12
    Si[2, 0], Si[2, 1], Si[2, 2] = A02, A12, A22
    for i in range(3):
        for j in range(3):
            Si[i, j] = Si[i, j] * (dd[i] * dd[j] / det)
    return math.log(det) - 2.0 * (math.log(dd0) + math.log(dd1) + math.log(dd2))


@nb.njit(cache=True, inline="always")
def _distance_scratch():
    """Scratch of the distance kernels: ``H`` (3, 6), ``P Hᵀ`` (6, 3), ``H P Hᵀ``, ``S``,
    ``S⁻¹``, ``J`` (3, 3) and ``ν`` (3,)."""
    return (np.empty((3, 6)), np.empty((6, 3)), np.empty((3, 3)), np.empty((3, 3)), np.empty((3, 3)),
            np.empty((3, 3)), np.empty(3))


@nb.njit(cache=True, inline="always")
def _pair_distance(HPH, Rm, zm, rng, az, el, S, Si, nu):
    """``(d², ln det S)`` of report ``zm`` (range, az, el) with noise ``Rm`` against a track
    whose predicted measurement is ``(rng, az, el)`` and ``H P Hᵀ`` is ``HPH`` (the azimuth
    innovation wrapped to (−π, π]); ``S``, ``Si``, ``nu`` are scratch."""
    for i in range(3):
        for j in range(3):
            S[i, j] = HPH[i, j] + Rm[i, j]
    log_det = _inv_spd3(S, Si)
    nu[0] = zm[0] - rng
    a = zm[1] - az
    nu[1] = math.pi - (math.pi - a) % _TWO_PI
    nu[2] = zm[2] - el
    s = 0.0
    for i in range(3):
        s += nu[i] * (Si[i, 0] * nu[0] + Si[i, 1] * nu[1] + Si[i, 2] * nu[2])
    return s, log_det


@nb.njit(cache=True, inline="always")
def outside_gate(HPH, Rm, zm, rng, az, el, gate):
    """Whether report ``zm`` surely lies outside the gate ``gate`` (a squared Mahalanobis
    distance) of a track whose predicted measurement is ``(rng, az, el)`` with ``H P Hᵀ``
    ``HPH``: one innovation component alone exceeds it.  For any positive-definite ``S``,
    ``νᵀ S⁻¹ ν ≥ ν_i² / S_ii`` (Cauchy–Schwarz), so a component with ``ν_i² > 4 · gate · S_ii``
    puts the report outside, whatever the rounding of the full distance (the factor 4 covers
    it); a NaN anywhere answers False, leaving the pair to :func:`_pair_distance`.  Most
    pairs of a cluttered scan are km apart: this skips their inverse."""
    lim = 4.0 * gate
    a = zm[0] - rng
    if a * a > lim * (HPH[0, 0] + Rm[0, 0]):
        return True
    e = zm[2] - el
    if e * e > lim * (HPH[2, 2] + Rm[2, 2]):
        return True
    w = zm[1] - az
    w = math.pi - (math.pi - w) % _TWO_PI
    return w * w > lim * (HPH[1, 1] + Rm[1, 1])


@nb.njit(cache=True, error_model="numpy")
def distances_rows(x, P, live, z, valid, R, site, enu, d2, log_det):
    """Squared Mahalanobis distance of every report from every track, per batch row:
    tracks ``x`` (B, T, 6), ``P`` (B, T, 6, 6) where ``live`` (B, T); reports ``z`` (B, M, 3)
    where ``valid`` (B, M) with noise ``R`` (B, M, 3, 3), one site.  Fills ``d2`` (B, T, M)
    (``νᵀ S⁻¹ ν``, ``inf`` for a dead track or an empty slot) and ``log_det`` (B, T, M)
    (``ln det S``, ``nan`` there): :func:`shieldlab.tracking.association.report_distances`
    with each report's own ``R``, compiled."""
    B, T = live.shape
    M = valid.shape[1]
    H, PHt, HPH, S, Si, J, nu = _distance_scratch()
    for b in range(B):
        for t in range(T):
            if not live[b, t]:
                for m in range(M):
                    d2[b, t, m] = np.inf
                    log_det[b, t, m] = np.nan
                continue
            rng, az, el = _measure(x[b, t], site, enu, J, H)
            _project(P[b, t], H, PHt, HPH)
            for m in range(M):
                if not valid[b, m]:
                    d2[b, t, m] = np.inf
                    log_det[b, t, m] = np.nan
                    continue
                d2[b, t, m], log_det[b, t, m] = _pair_distance(HPH, R[b, m], z[b, m], rng, az, el, S, Si, nu)


@nb.njit(cache=True, error_model="numpy")
def distances_pairs(x, P, pair_track, pair_report, z, R, site, enu, d2, log_det):
    """Squared Mahalanobis distance of listed (track, report) pairs only, the sparse form of
    :func:`distances_rows` for scans too large for every pair: tracks ``x`` (T, 6), ``P``
    (T, 6, 6); reports ``z`` (M, 3) with noise ``R`` (M, 3, 3), or (1, 3, 3) shared, one site; pairs
    ``pair_track``, ``pair_report`` (K,), best grouped by track (a track's predicted
    measurement is computed once per run of its pairs).  Fills ``d2`` (K,) (``νᵀ S⁻¹ ν``)
    and ``log_det`` (K,) (``ln det S``)."""
    K = pair_track.shape[0]
    shared = R.shape[0] == 1
    H, PHt, HPH, S, Si, J, nu = _distance_scratch()
    last = -1
    rng = az = el = 0.0
    for k in range(K):
        t, m = pair_track[k], pair_report[k]
        if t != last:
            rng, az, el = _measure(x[t], site, enu, J, H)
            _project(P[t], H, PHt, HPH)
            last = t
        d2[k], log_det[k] = _pair_distance(HPH, R[0 if shared else m], z[m], rng, az, el, S, Si, nu)


# ekf.ITERATE_TOL and ekf.MAX_ITERATIONS (ekf imports nothing of this module's; a test holds them equal)
ITERATE_TOL = 1e-4
MAX_ITERATIONS = 10


@nb.njit(cache=True, inline="always")
def _update_scratch():
    """Scratch of :func:`_update_one`: ``H`` (3, 6), ``P Hᵀ`` (6, 3), ``S``, ``S⁻¹`` (3, 3),
    ``K`` (6, 3), ``I - KH``, ``T`` (6, 6), ``J`` (3, 3), and ``W`` (21, 6) for the
    iterations (the innovation, the prior, the last iterate and its measurement and Jacobian,
    ``R⁻¹``) and the Joseph form's ``K R``."""
    return (np.empty((3, 6)), np.empty((6, 3)), np.empty((3, 3)), np.empty((3, 3)), np.empty((6, 3)),
            np.empty((6, 6)), np.empty((6, 6)), np.empty((3, 3)), np.empty((21, 6)))


@nb.njit(cache=True, inline="always")
def _wrap(a):
    """An angle difference wrapped to (-pi, pi]."""
    return math.pi - (math.pi - a) % _TWO_PI


@nb.njit(cache=True, error_model="numpy", inline="always")
def _gain(Pm, H, Rm, PHt, S, Si, K):
    """``K = P Hᵀ (H P Hᵀ + R)⁻¹`` into ``K`` (``S``, ``S⁻¹`` and ``P Hᵀ`` with it)."""
    _project(Pm, H, PHt, S)
    for i in range(3):
        for j in range(3):
            S[i, j] += Rm[i, j]
    _inv_spd3(S, Si)
    for i in range(6):
        for j in range(3):
            K[i, j] = PHt[i, 0] * Si[0, j] + PHt[i, 1] * Si[1, j] + PHt[i, 2] * Si[2, j]


@nb.njit(cache=True, inline="always")
def _remember(x, rng, az, el, H, xp, hp, Hp):
    """The linearisation point of the gain just made: state ``x`` (6,), its measurement and
    Jacobian ``H`` (3, 6), into ``xp``, ``hp`` (3,), ``Hp``."""
    for i in range(6):
        xp[i] = x[i]
    hp[0], hp[1], hp[2] = rng, az, el
    for a in range(3):
        for b in range(6):
            Hp[a, b] = H[a, b]


@nb.njit(cache=True, error_model="numpy", inline="always")
def _update_one(xm, Pm, zm, Rm, site, enu, H, PHt, S, Si, K, IKH, T, J, W):
    """One filter's update in place by report ``zm`` (3,) with noise ``Rm`` (3, 3) from one
    site, iterated (:func:`shieldlab.tracking.ekf.update`); returns the normalised innovation
    squared of the prior.  The rest is scratch (:func:`_update_scratch`)."""
    nu, x0, xp, hp, dl, Ri = W[0, :3], W[1], W[2], W[3, :3], W[4, :3], W[8:11, :3]
    Hp, KR = W[5:8], W[12:21]
    rng, az, el = _measure(xm, site, enu, J, H)
    nu[0] = zm[0] - rng
    nu[1] = _wrap(zm[1] - az)
    nu[2] = zm[2] - el
    _gain(Pm, H, Rm, PHt, S, Si, K)
    s = 0.0
    for i in range(3):
        s += nu[i] * (Si[i, 0] * nu[0] + Si[i, 1] * nu[1] + Si[i, 2] * nu[2])
    for i in range(6):
        x0[i] = xm[i]
        xm[i] = xm[i] + (K[i, 0] * nu[0] + K[i, 1] * nu[1] + K[i, 2] * nu[2])
    # relinearise at the update while the measurement departs from its linearisation by more
    # than ITERATE_TOL (in R's metric) between two iterates: the iterated EKF (Bell & Cathey
    # 1993), whose first step is the EKF's; over a spread prior (a young track, a long
    # revisit) the range's curvature alone moves the update far from the linear one
    _remember(x0, rng, az, el, H, xp, hp, Hp)
    _inv_spd3(Rm, Ri)
    for _ in range(MAX_ITERATIONS):
        rng, az, el = _measure(xm, site, enu, J, H)
        for a in range(3):
            dl[a] = 0.0
            for b in range(6):
                dl[a] -= Hp[a, b] * (xm[b] - xp[b])
        dl[0] += rng - hp[0]
        dl[1] += _wrap(az - hp[1])
        dl[2] += el - hp[2]
        dev = 0.0
        for a in range(3):
            dev += dl[a] * (Ri[a, 0] * dl[0] + Ri[a, 1] * dl[1] + Ri[a, 2] * dl[2])
        if not dev > ITERATE_TOL:  # (nan: no better linearisation to find)
            break
        # x ← x0 + K [z − h(x) − H (x0 − x)], K at x
        nu[0] = zm[0] - rng
        nu[1] = _wrap(zm[1] - az)
        nu[2] = zm[2] - el
        for a in range(3):
            for b in range(6):
                nu[a] -= H[a, b] * (x0[b] - xm[b])
        _gain(Pm, H, Rm, PHt, S, Si, K)
        _remember(xm, rng, az, el, H, xp, hp, Hp)
        for i in range(6):
            xm[i] = x0[i] + (K[i, 0] * nu[0] + K[i, 1] * nu[1] + K[i, 2] * nu[2])
    # the covariance of the last gain and its linearisation (Hp): Joseph form,
    # (I - KH) P (I - KH)' + K R K'.  Hp measures the position only, so I - KH is the identity
    # in its velocity columns: their products (exact zeros, or an entry of P times 1) are left
    # out or added as they are, and the sums are the dense products' to the bit
    for i in range(6):
        for j in range(3):
            IKH[i, j] = (1.0 if i == j else 0.0) - (K[i, 0] * Hp[0, j] + K[i, 1] * Hp[1, j] + K[i, 2] * Hp[2, j])
    for i in range(6):  # T = (I - KH) P
        for j in range(6):
            acc = IKH[i, 0] * Pm[0, j] + IKH[i, 1] * Pm[1, j] + IKH[i, 2] * Pm[2, j]
            if i >= 3:
                acc += Pm[i, j]
            T[i, j] = acc
    for i in range(6):  # P = T (I - KH)'
        for j in range(6):
            acc = T[i, 0] * IKH[j, 0] + T[i, 1] * IKH[j, 1] + T[i, 2] * IKH[j, 2]
            if j >= 3:
                acc += T[i, j]
            Pm[i, j] = acc
    for i in range(6):  # K R, each product once (KR[a, b][i] = K[i, a] R[a, b])
        for a_ in range(3):
            for b_ in range(3):
                KR[3 * a_ + b_, i] = K[i, a_] * Rm[a_, b_]
    for i in range(6):
        for j in range(6):
            kr = 0.0
            for a_ in range(3):
                for b_ in range(3):
                    kr += KR[3 * a_ + b_, i] * K[j, b_]
            Pm[i, j] = Pm[i, j] + kr
    symmetrise(Pm)
    return s


@nb.njit(cache=True, error_model="numpy")
def update_rows(x, P, z, R, site, enu, mask, nis):
    """:func:`shieldlab.tracking.ekf.update` in place on the rows where ``mask``: states ``x``
    (M, 6), covariances ``P`` (M, 6, 6), reports ``z`` (M, 3) (range [m], azimuth, elevation
    [rad]), their noise ``R`` (M, 3, 3), one site ``site`` (3,) [m ECEF] with local rows ``enu``
    (3, 3); ``nis`` (M,) gets the normalised innovation squared (nan where not ``mask``)."""
    H, PHt, S, Si, K, IKH, T, J, nu = _update_scratch()
    for m in range(x.shape[0]):
        if not mask[m]:
            nis[m] = np.nan
            continue
        nis[m] = _update_one(x[m], P[m], z[m], R[m], site, enu, H, PHt, S, Si, K, IKH, T, J, nu)


@nb.njit(cache=True, error_model="numpy", inline="always")
def init_one(zm, Rm, site0, trig, sigma_v0, xm, Pm):
    """:func:`shieldlab.tracking.ekf.init_from_detection` of one report ``zm`` (range [m],
    azimuth, elevation [rad]) with noise ``Rm`` (3, 3) into ``xm`` (6,), ``Pm`` (6, 6): the
    report through :func:`shieldlab.earth.aer_to_ecef` from the geodetic site ``site0`` (3,)
    [m ECEF] whose latitude and longitude have ``trig`` (sin, cos, sin, cos), covariance
    ``J R Jᵀ``, velocity 0 with variance ``sigma_v0²`` per axis."""
    sl, cl, so, co = trig[0], trig[1], trig[2], trig[3]
    rng, az, el = zm[0], zm[1], zm[2]
    ca, sa, ce, se = math.cos(az), math.sin(az), math.cos(el), math.sin(el)
    cr = rng * ce
    e_, n_, u_ = cr * sa, cr * ca, rng * se
    tt = -sl * n_ + cl * u_
    xm[0] = site0[0] + (co * tt - so * e_)
    xm[1] = site0[1] + (so * tt + co * e_)
    xm[2] = site0[2] + (cl * n_ + sl * u_)
    xm[3] = xm[4] = xm[5] = 0.0
    # ∂(E, N, U)/∂(range, az, el), rotated to ECEF by the columns of earth.enu_matrix's rows
    east = (-so, co, 0.0)
    north = (-sl * co, -sl * so, cl)
    up = (cl * co, cl * so, sl)
    je = ((ce * sa, rng * ce * ca, -rng * se * sa),
          (ce * ca, -rng * ce * sa, -rng * se * ca),
          (se, 0.0, rng * ce))
    J = np.empty((3, 3))
    JR = np.empty((3, 3))
    for i in range(3):
        for j in range(3):
            J[i, j] = east[i] * je[0][j] + north[i] * je[1][j] + up[i] * je[2][j]
    for i in range(3):
        for j in range(3):
            JR[i, j] = J[i, 0] * Rm[0, j] + J[i, 1] * Rm[1, j] + J[i, 2] * Rm[2, j]
    for i in range(6):
        for j in range(6):
            Pm[i, j] = 0.0
    for i in range(3):
        for j in range(3):
            Pm[i, j] = JR[i, 0] * J[j, 0] + JR[i, 1] * J[j, 1] + JR[i, 2] * J[j, 2]
        Pm[3 + i, 3 + i] = sigma_v0 * sigma_v0


def substeps(dt: float) -> tuple[int, float]:
    """The EKF's RK4 substeps over ``dt`` [s]: ``(n, h)``, ``n = ceil(|dt| / MAX_SUBSTEP_S)`` (at
    least one) of ``h = dt / n`` seconds, as :func:`shieldlab.tracking.ekf.predict` takes them."""
    from shieldlab.tracking.ekf import MAX_SUBSTEP_S

    dt = float(dt)
    n = max(1, math.ceil(abs(dt) / MAX_SUBSTEP_S))
    return n, dt / n


def site_origin(lat: float, lon: float, alt: float) -> tuple[np.ndarray, np.ndarray]:
    """What :func:`init_one` reads of a geodetic site [rad, rad, m]: its ECEF point (3,) and the
    sine and cosine of its latitude and longitude (4,), computed as
    :func:`shieldlab.tracking.ekf.init_from_detection` computes them."""
    return (geodetic_to_ecef(lat, lon, alt),
            np.array([np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)], float))


def predict_rows_args(x: np.ndarray, P: np.ndarray, q) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """States (M, 6), covariances (M, 6, 6) and noise levels (M,) as a row kernel's predict
    takes them: copies (the caller's arrays are left as they are), C order, the batch flat."""
    batch = x.shape[:-1]
    xs = np.array(x, float, order="C", copy=True).reshape(-1, 6)
    Ps = np.array(np.broadcast_to(P, batch + (6, 6)), float, order="C", copy=True).reshape(-1, 6, 6)
    qs = np.ascontiguousarray(np.broadcast_to(np.asarray(q, float), batch), float).reshape(-1)
    return xs, Ps, qs


def update_rows_args(x, P, z, R, site_ecef, site_enu_matrix, mask) -> tuple:
    """``(x, P, z, R, site, enu, mask, nis)`` as a row kernel's update takes them: copies of the
    states and covariances, the reports, noises and mask broadcast to the batch and flat, the
    site (3,) and its rows (3, 3), and an (M,) array for the NIS."""
    batch = x.shape[:-1]
    mask = np.ascontiguousarray(np.broadcast_to(np.asarray(mask, bool), batch)).reshape(-1)
    xs = np.array(x, float, order="C", copy=True).reshape(-1, 6)
    Ps = np.array(P, float, order="C", copy=True).reshape(-1, 6, 6)
    zs = np.ascontiguousarray(np.broadcast_to(z, batch + (3,)), float).reshape(-1, 3)
    Rs = np.ascontiguousarray(np.broadcast_to(np.asarray(R, float), batch + (3, 3))).reshape(-1, 3, 3)
    return (xs, Ps, zs, Rs, np.ascontiguousarray(site_ecef, float).reshape(3),
            np.ascontiguousarray(site_enu_matrix, float).reshape(3, 3), mask, np.empty(xs.shape[0]))


def predict(x: np.ndarray, P: np.ndarray, dt: float, q) -> tuple[np.ndarray, np.ndarray]:
    """:func:`shieldlab.tracking.ekf.predict` (same arguments, same results to 1e-9), compiled."""
    n, h = substeps(dt)
    xs, Ps, qs = predict_rows_args(x, P, q)
    predict_rows(xs, Ps, n, h, qs)
    return xs.reshape(x.shape[:-1] + (6,)), Ps.reshape(x.shape[:-1] + (6, 6))


def update(x, P, z, R, site_ecef, site_enu_matrix, mask) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`shieldlab.tracking.ekf.update` for one site (``site_ecef`` (3,),
    ``site_enu_matrix`` (3, 3)) and reports of noise ``R`` (..., 3, 3) or (3, 3), compiled;
    same results to 1e-9."""
    batch = x.shape[:-1]
    xs, Ps, zs, Rs, site, enu, m, nis = update_rows_args(x, P, z, R, site_ecef, site_enu_matrix, mask)
    update_rows(xs, Ps, zs, Rs, site, enu, m, nis)
    return xs.reshape(batch + (6,)), Ps.reshape(batch + (6, 6)), nis.reshape(batch)
