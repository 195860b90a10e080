"""Compiled steps of the labelled tracker (:func:`shieldlab.tracking.tracker.track`): EKF, UKF or IMM.

One filter per (run, threat), a predict per update time and an assimilation per sensor
scan: in NumPy each is a dozen calls on (runs, threats) arrays, whose overhead set the
tracker's cost.  Here the whole loop over the update times runs filter after filter
(:func:`track_rows`; the filters are independent), with the EKF's, the UKF's or the IMM's
compiled steps (:mod:`shieldlab.tracking.ekf_kernel`, :mod:`shieldlab.tracking.ukf_kernel`,
:mod:`shieldlab.tracking.imm_kernel`), the one-point initiation and the NIS
adaptation of :func:`shieldlab.tracking.tracker.adapt_noise`.  NumPy's ``exp`` and ``log``
and the C library's may differ in the last bit; the NumPy steps stay the reference
(``track(..., compiled=False)``; a test holds the two to 1e-9).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from shieldlab.earth import altitude_point, below_surface_point, density_point
from shieldlab.sensors.records import azimuth_variance_factor_one
from shieldlab.tracking import imm_kernel, ukf_kernel
from shieldlab.tracking.ekf_kernel import _predict_one, _predict_scratch, _update_one, _update_scratch, init_one

#: ``track_rows``'s filters.
EKF, UKF, IMM = 0, 1, 2

#: Geocentric radius [m] above which the trackers skip the drag floor: 120 km above the
#: equator, so every point beyond it is more than 120 km up, where the US-1976 density is
#: below 2.3e-8 kg/m³ and the floor ``(ρ v² / 2β)² Δt`` below 2e-8 Δt m²/s³ at 8 km/s,
#: beneath ``q_ballistic`` (1e-2) for any prediction shorter than days: skipping it changes
#: no bit (``max(q, floor)`` is ``q``), and saves the altitude and density of most predictions.
DRAG_FLOOR_RADIUS_M = 6_378_137.0 + 120e3


@nb.njit(cache=True, inline="always")
def drag_accel(x, beta_min):
    """The drag deceleration [m/s²] a body of ballistic coefficient ``beta_min`` [kg/m²] would
    feel at state ``x`` (6,) [ECEF m, m/s], ``ρ(h) v² / (2β)`` (``tracker.drag_noise``'s, whose
    square times Δt is the trackers' noise floor); 0 beyond :data:`DRAG_FLOOR_RADIUS_M` (and
    for a ``nan`` state), where the floor never reaches the noise level."""
    if not x[0] * x[0] + x[1] * x[1] + x[2] * x[2] < DRAG_FLOOR_RADIUS_M * DRAG_FLOOR_RADIUS_M:
        return 0.0
    return density_point(altitude_point(x[0], x[1], x[2])) * (x[3] * x[3] + x[4] * x[4] + x[5] * x[5]) \
        / (2.0 * beta_min)

@nb.njit(cache=True, error_model="numpy")
def coast_rows(x, P, q, dt, max_substep, beta_min):
    """``tracker.coast`` in place, row by row: states ``x`` (E, 6) [ECEF m, m/s] and
    covariances ``P`` (E, 6, 6) predicted by ``dt`` (E,) [s] each, in ``ceil(|dt| /
    max_substep)`` RK4 substeps (at least one, as ``ekf_kernel.substeps``), with the noise
    level ``q`` (E,) [m²/s³] raised to the drag floor ``a² |dt|`` (:func:`drag_accel`) where
    the state holds a number."""
    A, Phi, Tm, k1, k2, k3, k4, tmp = _predict_scratch()
    for m in range(x.shape[0]):
        d = dt[m]
        n = max(1, math.ceil(abs(d) / max_substep))
        qm = q[m]
        xm = x[m]
        if math.isfinite(xm[0] + xm[1] + xm[2] + xm[3] + xm[4] + xm[5]):
            a = drag_accel(xm, beta_min)
            qm = max(qm, a * a * abs(d))
        _predict_one(xm, P[m], n, d / n, qm, A, Phi, Tm, k1, k2, k3, k4, tmp)


@nb.njit(cache=True, inline="always")
def held_level(kind, mu, imm_q, q_ballistic, log_lam):
    """The noise level [m²/s³] a held track's filter holds (``Tracks.q``): the IMM's regime
    levels ``imm_q`` weighed by their odds ``mu`` (M,), else ``q_ballistic · exp(log_lam)``;
    before the drag floor."""
    if kind == IMM:
        q = 0.0
        for g in range(imm_q.shape[0]):
            q += mu[g] * imm_q[g]
        return q
    return q_ballistic * math.exp(log_lam)


# tracker.NIS_GAIN_UP and NIS_GAIN_DOWN (tracker imports this module; a test holds them equal)
_NIS_GAIN_UP, _NIS_GAIN_DOWN = 1.0, 0.5


@nb.njit(cache=True, error_model="numpy", inline="always")
def adapt_one(log_lam, nis, log_lam_max):
    """:func:`shieldlab.tracking.tracker.adapt_noise` of one updated filter: the noise level
    ``ln λ`` after an update of normalised innovation squared ``nis``."""
    step = math.log(max(nis, 1e-12) / 3.0)
    step = (_NIS_GAIN_UP if step > 0 else _NIS_GAIN_DOWN) * step
    return min(max(log_lam + step, 0.0), log_lam_max)


@nb.njit(cache=True, error_model="numpy")
def track_rows(dt, nsub, hsub, ev_start, ev_s, ev_j, Zs, DETs, SCs, R3, site, enu, org, otrig, q_ballistic,
               beta_min, sigma_v0, log_lam_max, down_m, x_out, hits_out, q_out, pidx, pbuf, kind, s_ut, wm, wc, imm_q,
               imm_sojourn, imm_mu0, imm_entry):
    """The labelled tracker over every update time, one filter (row) after another: the EKF
    (``kind`` :data:`EKF`), the UKF (:data:`UKF`, sigma-point scale ``s_ut`` and weights
    ``wm``, ``wc`` (13,) of :func:`shieldlab.tracking.ukf.weights`) or the IMM (:data:`IMM`,
    its regimes' noise levels ``imm_q`` [m²/s³], mean sojourns ``imm_sojourn`` [s], starting
    odds ``imm_mu0`` and entry altitudes ``imm_entry`` [m] (M,), :class:`shieldlab.tracking.imm.Regimes`;
    no noise adaptation: the regimes have their own levels).  Each filter reads only its own
    arguments.  Every level is raised to the drag floor of a body of ballistic coefficient
    ``beta_min`` [kg/m²] at the estimate (``tracker.drag_noise``, as the multi-target tracker).

    Times: ``dt`` (K,) [s] from the previous update time, predicted in ``nsub`` (K,) substeps
    of ``hsub`` (K,) seconds.  Scans, in the order applied: those of time ``k`` are
    ``ev_start[k]:ev_start[k + 1]``, each scan ``ev_j[e]`` of sensor ``ev_s[e]``; sensor ``s``'s
    reports are ``Zs[s]`` (B, K_s, 3) where ``DETs[s]`` (B, K_s), of noise ``R3[s]`` (S, 3, 3)
    times ``SCs[s]`` (B, K_s) (typed lists, one array per sensor).  Per
    sensor: its site (``site`` (S, 3), ``enu`` (S, 3, 3)) and geodetic origin (``org`` (S, 3),
    ``otrig`` (S, 4)) for the one-point initiation.  A row's first report starts its filter
    at the top noise level ``log_lam_max``, later ones update it and adapt the noise; a track
    predicted more than ``down_m`` [m] below the ellipsoid has come down and
    ends (``nan``, restarted by its next report).

    Writes the state after each time to ``x_out`` (K, B, 6), the reports counted so far to
    ``hits_out`` (K, B), the noise level the filter holds to ``q_out`` (K, B) float32
    (``Tracks.q``: ``q_ballistic · λ``, or the IMM's regime levels weighed by their odds;
    ``nan`` without a track), and every covariance a track holds to the next row of ``pbuf``
    (R, 6, 6), named by ``pidx`` (B, K) (-1: none).  Returns the rows of ``pbuf`` used, or -1
    if it holds too few (nothing else then is complete)."""
    K, B = hits_out.shape
    A, Phi, Tm, k1, k2, k3, k4, tmp = _predict_scratch()
    H, PHt, S, Si, Kg, IKH, T, J, nu = _update_scratch()
    L, chi, Zu, Su, Siu, Cu, Ku, u1, u2, u3, u4, utmp, umean = ukf_kernel.scratch()
    M = imm_q.shape[0]
    xm = np.empty((M, 6))
    Pm = np.empty((M, 6, 6))
    mu = np.empty(M)
    qd = np.empty(M)  # the regimes' levels with the drag floor
    ip, iw, ic, ix0, iP0, ixc, ipx, ipy, ipz, ill = imm_kernel.scratch(M)
    x = np.empty(6)
    P = np.empty((6, 6))
    Rb = np.empty((3, 3))
    r = 0
    for b in range(B):
        x[:] = np.nan
        P[:, :] = np.nan
        started = False
        log_lam = log_lam_max
        n_hits = 0
        for k in range(K):
            floor = 0.0
            if k > 0:  # the drag floor, read at the (combined) estimate
                a = drag_accel(x, beta_min)
                floor = a * a * abs(dt[k])
            if k > 0 and kind == IMM and started:
                for g in range(M):
                    qd[g] = max(imm_q[g], floor)
                imm_kernel.predict_one(xm, Pm, mu, dt[k], nsub[k], hsub[k], qd, imm_sojourn, imm_entry, ip, iw, ic,
                                       ix0, iP0, ixc, ipx, ipy, ipz, A, Phi, Tm, k1, k2, k3, k4, tmp)
            elif k > 0 and kind != IMM and math.isfinite(x[0]):
                qm = max(q_ballistic * math.exp(log_lam), floor)
                if kind == UKF:
                    if not ukf_kernel.predict_one(x, P, nsub[k], hsub[k], qm, s_ut, wm, wc, L, chi, u1, u2, u3, u4,
                                                  utmp, umean):
                        started = False  # no Cholesky factor: the track ends, its next report starts it
                else:
                    _predict_one(x, P, nsub[k], hsub[k], qm, A, Phi, Tm, k1, k2, k3, k4, tmp)
            for e in range(ev_start[k], ev_start[k + 1]):
                s = ev_s[e]
                j = ev_j[e]
                if not DETs[s][b, j]:
                    continue
                z = Zs[s][b, j]
                f = SCs[s][b, j]
                for i in range(3):
                    for i2 in range(3):
                        Rb[i, i2] = R3[s, i, i2] * f
                Rb[1, 1] *= azimuth_variance_factor_one(z[2])  # (records.report_covariance)
                if started and kind == IMM:
                    imm_kernel.update_one(xm, Pm, mu, z, Rb, site[s], enu[s], ill, H, PHt, S, Si, Kg, IKH, T, J, nu)
                elif started and kind == UKF:
                    nis = ukf_kernel.update_one(x, P, z, Rb, site[s], enu[s], s_ut, wm, wc, L, chi, Zu, Su, Siu, Cu,
                                                Ku, utmp)
                    # no Cholesky factor: the track ends, and this report starts it again
                    started = not math.isnan(nis)
                    if started:
                        log_lam = adapt_one(log_lam, nis, log_lam_max)
                elif started:
                    nis = _update_one(x, P, z, Rb, site[s], enu[s], H, PHt, S, Si, Kg, IKH, T, J, nu)
                    log_lam = adapt_one(log_lam, nis, log_lam_max)
                if not started:
                    init_one(z, Rb, org[s], otrig[s], sigma_v0, x, P)
                    log_lam = log_lam_max
                    if kind == IMM:  # every regime from the one-point initiation
                        for g in range(M):
                            xm[g] = x
                            Pm[g] = P
                            mu[g] = imm_mu0[g]
                started = True
                n_hits += 1
            if kind == IMM and started:  # the regimes' moment-matched estimate
                imm_kernel.combine_one(xm, Pm, mu, x, P)
            if below_surface_point(x[0], x[1], x[2], down_m):  # as tracker.came_down
                x[:] = np.nan
                P[:, :] = np.nan
                started = False
            x_out[k, b] = x
            hits_out[k, b] = n_hits
            q_out[k, b] = held_level(kind, mu, imm_q, q_ballistic, log_lam) if math.isfinite(x[0]) else np.nan
            held = False
            for i in range(6):
                for j in range(6):
                    held = held or not math.isnan(P[i, j])
            if not held:
                pidx[b, k] = -1
                continue
            if r >= pbuf.shape[0]:
                return -1
            pbuf[r] = P
            pidx[b, k] = r
            r += 1
    return r
