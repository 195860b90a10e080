"""Compiled steps of one interacting-multiple-model filter (:mod:`shieldlab.tracking.imm`).

The labelled tracker's IMM in NumPy is a dozen calls on (runs, threats, regimes) arrays
per update time, and a kill chain tracking with it took ~5× the EKF's whole run time.
Here one filter's mixing, prediction, update and combination are each one pass over
scalars and small loops, the same equations as :mod:`shieldlab.tracking.imm` (see its
module docstring): the one-way regime chain with its entry altitudes (the altitude of the
combined estimate by :func:`shieldlab.earth.geodetic_xyz`, the NumPy filter's own
conversion), the mixed starts, one EKF prediction per regime with the regime's noise
level (:func:`shieldlab.tracking.ekf_kernel._predict_one`), the regimes' likelihoods
``N(ν_j; 0, S_j)`` in logarithms, and the moment-matched output.  Sums run in loop order;
the NumPy filter stays the reference (tests: agreement to 1e-9 relative).

:func:`update_one` is a compiled function the trackers' loops call, not code inlined into
them (as the UKF's steps, :mod:`~shieldlab.tracking.ukf_kernel`): the loops choose the filter
at run time, and the scan-by-scan tracker, which serves EKF tracks alone, compiled it for
nothing.  :func:`predict_one` and :func:`combine_one` stay inlined: called, the prediction
made a chain tracking with the IMM ~9 % slower (64 runs of epaa-phase-1 under ``gnn``,
side by side: 0.91×; inlined, 0.97×, within the noise).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from shieldlab.earth import WGS84_A, geodetic_xyz
from shieldlab.linalg_kernel import symmetrise
from shieldlab.tracking.ekf_kernel import (
    _inv_spd3,
    _measure,
    _predict_one,
    _predict_scratch,
    _project,
    _update_one,
    _update_scratch,
)


@nb.njit(cache=True, inline="always")
def scratch(M):
    """Scratch of :func:`predict_one` and :func:`update_one` for ``M`` regimes: the
    transition ``p`` (M, M), mixing weights ``w`` (M, M), predicted odds ``c`` (M,), mixed
    starts ``x0`` (M, 6), ``P0`` (M, 6, 6), a (6,) and three (1,) vectors (the combined
    position for the altitude), and the log-likelihoods ``ll`` (M,)."""
    return (np.empty((M, M)), np.empty((M, M)), np.empty(M), np.empty((M, 6)), np.empty((M, 6, 6)), np.empty(6),
            np.empty(1), np.empty(1), np.empty(1), np.empty(M))


@nb.njit(cache=True, error_model="numpy", inline="always")
def combine_one(xm, Pm, mu, x, P):
    """The moment-matched estimate of regimes ``xm`` (M, 6), ``Pm`` (M, 6, 6) with odds
    ``mu`` (M,) into ``x`` (6,), ``P`` (6, 6) (:func:`shieldlab.tracking.imm.combine`)."""
    M = mu.shape[0]
    for i in range(6):
        acc = 0.0
        for j in range(M):
            acc += mu[j] * xm[j, i]
        x[i] = acc
    for i in range(6):
        for k in range(6):
            a = 0.0
            for j in range(M):
                a += mu[j] * Pm[j, i, k]
            b = 0.0
            for j in range(M):
                b += mu[j] * (xm[j, i] - x[i]) * (xm[j, k] - x[k])
            P[i, k] = a + b
    symmetrise(P)


@nb.njit(cache=True, error_model="numpy", inline="always")
def predict_one(xm, Pm, mu, dt, n, h, q, sojourn, entry_alt, p, w, c, x0, P0, xc, px, py, pz,
                A, Phi, Tm, k1, k2, k3, k4, tmp):
    """Mix and predict one filter by ``dt`` [s] in ``n`` EKF substeps of ``h`` seconds, in
    place (:func:`shieldlab.tracking.imm.predict`): regimes ``xm`` (M, 6), ``Pm`` (M, 6, 6),
    odds ``mu`` (M,) (become the predicted odds); per regime its noise level ``q``
    [m²/s³], mean sojourn ``sojourn`` [s] and entry altitude ``entry_alt`` [m] (M,); the rest
    is scratch."""
    M = mu.shape[0]
    # the combined estimate's altitude, where the chain may enter a regime
    for i in range(6):
        acc = 0.0
        for j in range(M):
            v = xm[j, i]
            acc += mu[j] * (v if math.isfinite(v) else 0.0)
        xc[i] = acc
    ok = math.isfinite(xc[0]) and math.isfinite(xc[1]) and math.isfinite(xc[2]) \
        and math.sqrt(xc[0] * xc[0] + xc[1] * xc[1] + xc[2] * xc[2]) > 0.0
    px[0], py[0], pz[0] = (xc[0], xc[1], xc[2]) if ok else (WGS84_A, WGS84_A, WGS84_A)
    alt = geodetic_xyz(px, py, pz)[2][0]
    # the one-way chain over dt, a move into a regime shut at this altitude kept in place
    for i in range(M):
        for j in range(M):
            p[i, j] = 0.0
    for i in range(M):
        p[i, i] = math.exp(-abs(dt) / sojourn[i]) if i < M - 1 else 1.0
    for i in range(M - 1):
        p[i, i + 1] = 1.0 - p[i, i]
        if alt > entry_alt[i + 1]:
            p[i, i] += p[i, i + 1]
            p[i, i + 1] = 0.0
    for j in range(M):
        acc = 0.0
        for i in range(M):
            acc += mu[i] * p[i, j]
        c[j] = acc
    for i in range(M):
        for j in range(M):
            # a regime nothing reaches starts from the combined estimate (it weighs nothing)
            w[i, j] = mu[i] * p[i, j] / c[j] if c[j] > 0.0 else mu[i]
    for j in range(M):
        for a in range(6):
            acc = 0.0
            for i in range(M):
                acc += w[i, j] * xm[i, a]
            x0[j, a] = acc
        for a in range(6):
            for b in range(6):
                s1 = 0.0
                for i in range(M):
                    s1 += w[i, j] * Pm[i, a, b]
                s2 = 0.0
                for i in range(M):
                    s2 += w[i, j] * (xm[i, a] - x0[j, a]) * (xm[i, b] - x0[j, b])
                P0[j, a, b] = s1 + s2
    for j in range(M):
        _predict_one(x0[j], P0[j], n, h, q[j], A, Phi, Tm, k1, k2, k3, k4, tmp)
        xm[j] = x0[j]
        Pm[j] = P0[j]
        mu[j] = c[j]


@nb.njit(cache=True, error_model="numpy")
def update_one(xm, Pm, mu, zm, Rm, site, enu, ll, H, PHt, S, Si, K, IKH, T, J, nu):
    """Update every regime of one filter by report ``zm`` (3,) with noise ``Rm`` (3, 3) from
    ``site`` (3,) with local rows ``enu`` (3, 3), and the odds by their likelihoods, in
    place (:func:`shieldlab.tracking.imm.update`); ``ll`` (M,) and the rest are scratch."""
    M = mu.shape[0]
    for j in range(M):
        # ln det S_j of the regime's prior, then its update's NIS
        _measure(xm[j], site, enu, J, H)
        _project(Pm[j], H, PHt, S)
        for a in range(3):
            for b in range(3):
                S[a, b] += Rm[a, b]
        log_det = _inv_spd3(S, Si)
        nis = _update_one(xm[j], Pm[j], zm, Rm, site, enu, H, PHt, S, Si, K, IKH, T, J, nu)
        ll[j] = math.log(max(mu[j], 1e-300)) - 0.5 * (nis + log_det)
    top = ll[0]
    for j in range(1, M):
        top = max(top, ll[j])
    total = 0.0
    for j in range(M):
        ll[j] = math.exp(ll[j] - top)
        total += ll[j]
    for j in range(M):
        mu[j] = ll[j] / total


@nb.njit(cache=True, error_model="numpy")
def predict_rows(xm, Pm, mu, dt, n, h, q, sojourn, entry_alt):
    """:func:`predict_one` of every filter in place: regimes ``xm`` (B, M, 6), ``Pm`` (B, M, 6, 6),
    odds ``mu`` (B, M), by ``dt`` [s] in ``n`` substeps of ``h`` seconds; the regimes' ``q``,
    ``sojourn``, ``entry_alt`` (M,) (:class:`shieldlab.tracking.imm.Regimes`)."""
    p, w, c, x0, P0, xc, px, py, pz, ll = scratch(mu.shape[1])
    A, Phi, Tm, k1, k2, k3, k4, tmp = _predict_scratch()
    for b in range(xm.shape[0]):
        predict_one(xm[b], Pm[b], mu[b], dt, n, h, q, sojourn, entry_alt, p, w, c, x0, P0, xc, px, py, pz,
                    A, Phi, Tm, k1, k2, k3, k4, tmp)


@nb.njit(cache=True, error_model="numpy")
def update_rows(xm, Pm, mu, z, R, site, enu):
    """:func:`update_one` of every filter in place by its report ``z`` (B, 3) of noise ``R``
    (3, 3) from ``site`` (3,) with local rows ``enu`` (3, 3)."""
    ll = np.empty(mu.shape[1])
    H, PHt, S, Si, K, IKH, Tm, J, nu = _update_scratch()
    for b in range(xm.shape[0]):
        update_one(xm[b], Pm[b], mu[b], z[b], R, site, enu, ll, H, PHt, S, Si, K, IKH, Tm, J, nu)
