"""Compiled row loops of the threat evaluation (:mod:`shieldlab.c2.threat_eval`).

Fire control evaluates a few dozen track rows at every planning tick; in NumPy each
step of :func:`~shieldlab.c2.threat_eval.thrusting` and
:func:`~shieldlab.c2.threat_eval.impact_probability` is a separate call on (M, 3) or
(M, 6, 6) arrays, and the calls' overhead, not the arithmetic, set the cost.  Here each
row is one pass over scalars: the same equations, in the same order where NumPy's order
is plain (element-wise operations); matrix products, the 2x2 determinant and the
3-vector norms and dot products are summed left to right, which may differ from NumPy's
in the last bit.  The NumPy forms stay the references (tests: agreement to 1e-9
relative on recorded calls).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from shieldlab import earth
from shieldlab.earth_kernel import ballistic_acceleration
from shieldlab.linalg_kernel import sandwich, symmetrise

_GM, _A = earth.GM, earth.WGS84_A


@nb.njit(cache=True, error_model="numpy")
def thrusting_rows(x_now, P_now, x_then, P_then, dt, sigmas, accel_min, accel_lo, accel_hi):
    """:func:`shieldlab.c2.threat_eval.thrusting` row by row: ``(boost (M,), accel (M,))``."""
    M = x_now.shape[0]
    boost = np.zeros(M, np.bool_)
    accel = np.empty(M)
    for m in range(M):
        boost[m], accel[m] = _thrust_row(x_now[m], P_now[m], x_then[m], P_then[m], dt[m], sigmas, accel_min,
                                         accel_lo, accel_hi)
    return boost, accel


@nb.njit(cache=True, error_model="numpy")
def boost_test_rows(t, last, X, P_data, P_index, cs, ns, k, window_s, sigmas, accel_min, accel_lo, accel_hi):
    """The thrust test of track rows ``(cs, ns)`` (M,) at update ``k``, read from the whole
    track arrays: ``X`` (C, N, K, 6), the covariances ``P_data[P_index[c, n, k]]`` (a
    :class:`~shieldlab.tracking.records.CovarianceHistory`: rows (R, 6, 6), index (C, N, K),
    -1 for none, read as ``nan``), update times ``t`` (K,) and
    ``last`` (C, N, K), :func:`shieldlab.c2.threat_eval.last_detection` of the track's
    detections.  The states compared are those of
    :func:`shieldlab.c2.threat_eval.observed_pair`, the test that of
    :func:`shieldlab.c2.threat_eval.thrusting`; a row with no detection yet is not boosting.
    Returns ``(boost (M,), accel (M,), k_now (M,))``."""
    M = cs.size
    boost = np.zeros(M, np.bool_)
    accel = np.empty(M)
    k_now = np.empty(M, np.int64)
    nan_state = np.full(6, np.nan)
    nan_cov = np.full((6, 6), np.nan)
    for m in range(M):
        c, n = cs[m], ns[m]
        kn = last[c, n, k]
        kt = -1
        if kn >= 0:
            j = np.searchsorted(t, t[kn] - window_s, side="right") - 1
            if j >= 0:
                kt = last[c, n, min(max(j, 0), k)]
        k_now[m] = kn
        a, b = max(kn, 0), max(kt, 0)
        then = X[c, n, b] if kt >= 0 else nan_state
        ia, ib = P_index[c, n, a], P_index[c, n, b]
        boost[m], accel[m] = _thrust_row(X[c, n, a], P_data[ia] if ia >= 0 else nan_cov, then,
                                         P_data[ib] if ib >= 0 else nan_cov, t[a] - t[b], sigmas,
                                         accel_min, accel_lo, accel_hi)
        boost[m] = boost[m] and kn >= 0
    return boost, accel, k_now


@nb.njit(cache=True, error_model="numpy", inline="always")
def _thrust_row(x_now, P_now, x_then, P_then, dt, sigmas, accel_min, accel_lo, accel_hi):
    """The thrust test of one track: ``(boost, accel)`` (see ``thrusting``)."""
    ok = dt > 0.0
    for i in range(6):
        ok = ok and math.isfinite(x_then[i])
    dts = dt if ok else 1.0
    xt = x_then if ok else x_now
    Pt = P_then if ok else P_now
    rx, ry, rz = 0.5 * (x_now[0] + xt[0]), 0.5 * (x_now[1] + xt[1]), 0.5 * (x_now[2] + xt[2])
    vx, vy, vz = 0.5 * (x_now[3] + xt[3]), 0.5 * (x_now[4] + xt[4]), 0.5 * (x_now[5] + xt[5])
    # gravity with J2 (earth.gravity) plus the rotating-frame terms
    gx, gy, gz = ballistic_acceleration(rx, ry, rz, vx, vy, vz)
    ax = (x_now[3] - xt[3]) / dts - gx
    ay = (x_now[4] - xt[4]) / dts - gy
    az = (x_now[5] - xt[5]) / dts - gz
    nv = max(math.sqrt(vx * vx + vy * vy + vz * vz), 1e-9)
    u0, u1, u2 = vx / nv, vy / nv, vz / nv
    along = (ax * u0 + ay * u1 + az * u2) if ok else 0.0
    var = _quad(P_now, u0, u1, u2) + _quad(Pt, u0, u1, u2)
    sig = math.sqrt(max(var, 0.0)) / dts
    nr = math.sqrt(x_now[0] * x_now[0] + x_now[1] * x_now[1] + x_now[2] * x_now[2])
    e0, e1, e2 = x_now[0] / nr, x_now[1] / nr, x_now[2] / nr
    v_up = x_now[3] * e0 + x_now[4] * e1 + x_now[5] * e2
    descending = v_up < -sigmas * math.sqrt(max(_quad(P_now, e0, e1, e2), 0.0))
    young = (not ok) and (not descending)
    return young or (along > max(accel_min, sigmas * sig)), min(max(along, accel_lo), accel_hi)


@nb.njit(cache=True, error_model="numpy", inline="always")
def _quad(P, u0, u1, u2):
    """u' P_vv u of the velocity block of a 6x6 covariance."""
    u = (u0, u1, u2)
    acc = 0.0
    for i in range(3):
        for j in range(3):
            acc += u[i] * P[3 + i, 3 + j] * u[j]
    return acc


@nb.njit(cache=True, error_model="numpy")
def ground_sigma_rows(P, r_track, impact_pos, impact_vel, dt, asset_lat, asset_lon):
    """The circularised 1-sigma ground error [m] of each predicted impact (M,), whether the
    impact is finite (M,), and the great-circle distances [m] from the impact to the assets
    at ``asset_lat``, ``asset_lon`` (A,) [rad] (M, A): the first half of
    :func:`shieldlab.c2.threat_eval.impact_probability` (rows whose impact is not finite
    are evaluated at a placeholder point on the equator, as there)."""
    M = P.shape[0]
    px, py, pz = np.empty(M), np.empty(M), np.empty(M)
    ok = np.empty(M, np.bool_)
    for m in range(M):
        f = math.isfinite(dt[m])
        for i in range(3):
            f = f and math.isfinite(impact_pos[m, i])
        ok[m] = f
        px[m] = impact_pos[m, 0] if f else _A
        py[m] = impact_pos[m, 1] if f else 0.0
        pz[m] = impact_pos[m, 2] if f else 0.0
    lat, lon, _ = earth.geodetic_xyz(px, py, pz)
    sigma = np.empty(M)
    Phi = np.empty((3, 6))
    Pp = np.empty((3, 3))
    H = np.empty((2, 3))
    tmp = np.empty((3, 6))
    E = np.empty((3, 3))
    for m in range(M):
        t = dt[m] if ok[m] else 0.0
        # the ballistic transition of the position rows (predicted_position_covariance)
        rx, ry, rz = 0.5 * (r_track[m, 0] + px[m]), 0.5 * (r_track[m, 1] + py[m]), 0.5 * (r_track[m, 2] + pz[m])
        rn = math.sqrt(rx * rx + ry * ry + rz * rz)
        u = (rx / rn, ry / rn, rz / rn)
        om = math.sqrt(_GM / rn ** 3)
        s2 = math.sqrt(2.0)
        a_r, b_r = math.cosh(s2 * om * t), math.sinh(s2 * om * t) / (s2 * om)
        a_t, b_t = math.cos(om * t), math.sin(om * t) / om
        for i in range(3):
            for j in range(3):
                uu = u[i] * u[j]
                tt = (1.0 if i == j else 0.0) - uu
                Phi[i, j] = a_r * uu + a_t * tt
                Phi[i, 3 + j] = b_r * uu + b_t * tt
        sandwich(Phi, P[m], tmp, Pp)
        symmetrise(Pp)
        # onto the ground along the impact velocity, in east-north-up at the impact
        sl, cl = math.sin(lat[m]), math.cos(lat[m])
        so, co = math.sin(lon[m]), math.cos(lon[m])
        E[0, 0], E[0, 1], E[0, 2] = -so, co, 0.0
        E[1, 0], E[1, 1], E[1, 2] = -sl * co, -sl * so, cl
        E[2, 0], E[2, 1], E[2, 2] = cl * co, cl * so, sl
        v = np.zeros(3)
        if ok[m]:
            for i in range(3):
                v[i] = E[i, 0] * impact_vel[m, 0] + E[i, 1] * impact_vel[m, 1] + E[i, 2] * impact_vel[m, 2]
        vu = min(v[2], -0.05 * math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) - 1e-9)  # descending
        for j in range(3):
            H[0, j] = E[0, j] - v[0] / vu * E[2, j]
            H[1, j] = E[1, j] - v[1] / vu * E[2, j]
        S = np.zeros((2, 2))
        for a in range(2):
            for b in range(2):
                acc = 0.0
                for i in range(3):
                    for j in range(3):
                        acc += H[a, i] * Pp[i, j] * H[b, j]
                S[a, b] = acc
        det = S[0, 0] * S[1, 1] - S[0, 1] * S[1, 0]
        sigma[m] = max(math.sqrt(math.sqrt(max(det, 0.0))), 1.0)
    A = asset_lat.size
    d = np.empty((M, A))
    for m in range(M):
        cl = math.cos(lat[m])
        for a in range(A):
            d[m, a] = earth.haversine_point(lat[m], lon[m], asset_lat[a], asset_lon[a], cl, math.cos(asset_lat[a]))
    return sigma, ok, d


@nb.njit(cache=True, error_model="numpy")
def _angle(ax, ay, az, bx, by, bz):
    """The angle between two vectors, as atan2(|a x b|, a . b)."""
    cx, cy, cz = ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx
    return math.atan2(math.sqrt(cx * cx + cy * cy + cz * cz), ax * bx + ay * by + az * bz)


@nb.njit(cache=True, error_model="numpy")
def corridor_distance_rows(U, fin, P, R):
    """:func:`shieldlab.c2.threat_eval.corridor_distance` from the unit vectors ``U`` (M, K, 3)
    of the polylines' vertices (``fin`` (M, K): the vertex exists) to the assets' unit
    vectors ``P`` (A, 3), on the sphere of radius ``R`` [m]: ``(distance (M, A), where (M, A))``.
    The same tests in the same order as there, one (row, asset) at a time; ties go to the
    first vertex or segment, as numpy's argmax and argmin give them."""
    M, K = fin.shape
    A = P.shape[0]
    best = np.empty((M, A))
    where = np.empty((M, A))
    for m in range(M):
        for a in range(A):
            px, py, pz = P[a, 0], P[a, 1], P[a, 2]
            kv, cb = 0, -np.inf
            for k in range(K):
                if fin[m, k]:
                    c = min(max(U[m, k, 0] * px + U[m, k, 1] * py + U[m, k, 2] * pz, -1.0), 1.0)
                    if c > cb:
                        kv, cb = k, c
            b = R * math.acos(max(cb, -1.0)) if math.isfinite(cb) else np.inf
            w = float(kv)
            ks, sk = 0, np.inf
            sx_best = 0.0
            nbx, nby, nbz = 0.0, 0.0, 0.0
            for k in range(K - 1):
                ax, ay, az = U[m, k, 0], U[m, k, 1], U[m, k, 2]
                bx, by, bz = U[m, k + 1, 0], U[m, k + 1, 1], U[m, k + 1, 2]
                nx, ny, nz = ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx
                nn = math.sqrt(nx * nx + ny * ny + nz * nz)
                inv = 1.0 / max(nn, 1e-15)
                nx, ny, nz = nx * inv, ny * inv, nz * inv
                sin_x = nx * px + ny * py + nz * pz
                fx, fy, fz = px - sin_x * nx, py - sin_x * ny, pz - sin_x * nz
                fn = math.sqrt(fx * fx + fy * fy + fz * fz)
                tx, ty, tz = ny * az - nz * ay, nz * ax - nx * az, nx * ay - ny * ax
                sx, sy, sz = by * nz - bz * ny, bz * nx - bx * nz, bx * ny - by * nx
                tol = 1e-9 * fn
                between = (tx * fx + ty * fy + tz * fz >= -tol) and (sx * fx + sy * fy + sz * fz >= -tol)
                if fin[m, k] and fin[m, k + 1] and between and nn > 1e-12:
                    off = abs(sin_x)
                    if off < sk:
                        ks, sk, sx_best = k, off, sin_x
                        nbx, nby, nbz = nx, ny, nz
            if K > 1:
                dk = R * math.asin(min(max(sk, 0.0), 1.0)) if math.isfinite(sk) else np.inf
                # the fraction of segment ks to the foot: the angle A-foot over the angle A-B
                ax, ay, az = U[m, ks, 0], U[m, ks, 1], U[m, ks, 2]
                bx, by, bz = U[m, ks + 1, 0], U[m, ks + 1, 1], U[m, ks + 1, 2]
                if not math.isfinite(sk):  # no segment: numpy still takes segment 0's normal
                    nx, ny, nz = ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx
                    inv = 1.0 / max(math.sqrt(nx * nx + ny * ny + nz * nz), 1e-15)
                    nbx, nby, nbz = nx * inv, ny * inv, nz * inv
                    sx_best = nbx * px + nby * py + nbz * pz
                fx, fy, fz = px - sx_best * nbx, py - sx_best * nby, pz - sx_best * nbz
                fn = max(math.sqrt(fx * fx + fy * fy + fz * fz), 1e-15)
                fx, fy, fz = fx / fn, fy / fn, fz / fn
                fk = _angle(ax, ay, az, fx, fy, fz) / max(_angle(ax, ay, az, bx, by, bz), 1e-15)
                if dk < b:
                    b, w = dk, ks + fk
            best[m, a] = b
            where[m, a] = w
    return best, where
