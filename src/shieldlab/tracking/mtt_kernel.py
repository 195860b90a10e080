"""Compiled multi-target tracker (:mod:`shieldlab.tracking.mtt`): EKF, UKF and IMM tracks.

The tracker's scan (predict, gate, assign, update, manage, initiate) in NumPy is some sixty
calls on (runs, slots) arrays per radar scan: with a few live tracks per run and ~900 scans
per chunk, the calls' overhead, not the arithmetic, set its cost (~2.7 s of ~3.9 s per 64
runs of epaa-phase-1 under false alarms, profiled).  Here each run is one pass of loops over
its slots and reports, the same rules in the same order as :func:`shieldlab.tracking.mtt._scan`,
calling the same compiled pieces (the EKF's predict and update of
:mod:`~shieldlab.tracking.ekf_kernel`, the UKF's of :mod:`~shieldlab.tracking.ukf_kernel`,
the IMM's of :mod:`~shieldlab.tracking.imm_kernel`, the field-of-regard test of
:mod:`~shieldlab.sensors.visibility`, the least-cost assignment of
:mod:`~shieldlab.tracking.association`).  Where NumPy's elementwise functions and the C
library's differ in the last bit (``exp``, ``log``), results differ by that much; the NumPy
scan stays the reference (tests: the same tracks, states to 1e-8 relative; the IMM's odds,
exponentials of its regimes' likelihoods, carry those last bits further: within 5 mm and
1 cm/s, early in a track).

State arrays are those of ``mtt._State`` and are changed in place: ``x`` (C, T, 6), ``P``
(C, T, 6, 6), ``log_lam``, ``log_miss`` (C, T) float64, ``status`` int8, ``tid`` int64,
``hits``, ``looks`` int32, ``sensors`` uint32 (C, T), ``seen`` (its sign the sensor's hold on
the track), ``found`` (C, T, S) float64,
``calls`` (C, T, S) int8, ``t_hit`` (C, T) float64 (the time of each track's latest report [s]),
``next_id`` (C,) int64; the IMM's regimes ``xm`` (C, T, M, 6),
``Pm`` (C, T, M, 6, 6) and odds ``mu`` (C, T, M) float64 (M = 0 for the other filters).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from shieldlab.earth import below_surface_point
from shieldlab.sensors.records import azimuth_variance_factor_one
from shieldlab.sensors.visibility import sees
from shieldlab.tracking import imm_kernel, ukf_kernel
from shieldlab.tracking.association import gnn_row
from shieldlab.tracking.ekf_kernel import (
    _distance_scratch,
    _measure,
    _pair_distance,
    _predict_one,
    _predict_scratch,
    _project,
    _update_one,
    _update_scratch,
    init_one,
    outside_gate,
)
from shieldlab.tracking.tracker_kernel import EKF, IMM, UKF, adapt_one, drag_accel, held_level

# the values of mtt's constants (mtt imports this module; tests hold them equal)
_FREE, _TENTATIVE, _CONFIRMED = 0, 1, 2
_NO_CALL = -1
_PD_MEMORY = 0.9


@nb.njit(cache=True, inline="always")
def _filter_scratch(kind, s_ut, wm, wc, imm_q, imm_sojourn, imm_mu0, imm_entry):
    """What a scan or prediction reads of the track filter: its code (``tracker_kernel.EKF``,
    ``UKF`` or ``IMM``), the UKF's sigma-point scale and weights (13,) and scratch
    (:func:`shieldlab.tracking.ukf_kernel.scratch`), the IMM's regimes (their noise levels
    [m²/s³], mean sojourns [s], starting odds and entry altitudes [m], (M,) each: (0,) for
    the other filters), a (M,) for the noise levels with the drag floor, and the IMM's
    scratch (:func:`shieldlab.tracking.imm_kernel.scratch`)."""
    return ((kind, s_ut, wm, wc) + ukf_kernel.scratch()
            + (imm_q, imm_sojourn, imm_mu0, imm_entry, np.empty(imm_q.shape[0])) + imm_kernel.scratch(imm_q.shape[0]))


@nb.njit(cache=True, inline="always")
def _no_imm(C, T):
    """The IMM's state arrays for EKF or UKF tracks: no regimes (``xm`` (C, T, 0, 6), ``Pm``
    (C, T, 0, 6, 6), ``mu`` (C, T, 0)) and no regime parameters (0,)."""
    return np.empty((C, T, 0, 6)), np.empty((C, T, 0, 6, 6)), np.empty((C, T, 0)), np.empty(0)


@nb.njit(cache=True, error_model="numpy", inline="always")
def _ekf_noise(xt, log_lam, dt_abs, q_ballistic, beta_min):
    """The process noise [m²/s³] of a track at ``xt`` (6,) over ``dt_abs`` [s]:
    ``max(q_ballistic · λ, drag floor)`` (``mtt.drag_noise``)."""
    a = drag_accel(xt, beta_min)
    return max(q_ballistic * math.exp(log_lam), a * a * dt_abs)


@nb.njit(cache=True, error_model="numpy", inline="always")
def _predict_run(c, x, P, status, log_lam, xm, Pm, mu, n, h, dt_abs, q_ballistic, beta_min, psc, ut):
    """Predict run ``c``'s live tracks by ``n`` substeps of ``h`` seconds, with the process
    noise ``max(q_ballistic · λ, drag floor)`` (``mtt.drag_noise`` over ``dt_abs``), or, IMM
    tracks, each regime's own level with the drag floor, then their combination (regimes
    ``xm``, ``Pm``, odds ``mu``); ``psc`` the scratch of
    :func:`~shieldlab.tracking.ekf_kernel._predict_one`, ``ut`` the filter's
    (:func:`_filter_scratch`).  A UKF track whose covariance has no Cholesky factor is left
    ``nan`` (its caller frees the slot)."""
    A, Phi, Tm, k1, k2, k3, k4, tmp = psc
    (kind, s_ut, wm, wc, L, chi, Zu, Su, Siu, Cu, Ku, u1, u2, u3, u4, utmp, umean,
     iq, isoj, imu0, ient, qm, ip, iw, ic, ix0, iP0, ixc, ipx, ipy, ipz, ill) = ut
    for t in range(status.shape[1]):
        if status[c, t] == _FREE:
            continue
        xt = x[c, t]
        if kind == IMM:  # the regimes' own noise levels, no adaptation; the drag floor
            a = drag_accel(xt, beta_min)
            for g in range(iq.shape[0]):
                qm[g] = max(iq[g], a * a * dt_abs)
            imm_kernel.predict_one(xm[c, t], Pm[c, t], mu[c, t], dt_abs, n, h, qm, isoj, ient, ip, iw, ic, ix0, iP0,
                                   ixc, ipx, ipy, ipz, A, Phi, Tm, k1, k2, k3, k4, tmp)
            imm_kernel.combine_one(xm[c, t], Pm[c, t], mu[c, t], xt, P[c, t])
            continue
        q = _ekf_noise(xt, log_lam[c, t], dt_abs, q_ballistic, beta_min)
        if kind == UKF:
            ukf_kernel.predict_one(xt, P[c, t], n, h, q, s_ut, wm, wc, L, chi, u1, u2, u3, u4, utmp, umean)
        else:
            _predict_one(xt, P[c, t], n, h, q, A, Phi, Tm, k1, k2, k3, k4, tmp)


@nb.njit(cache=True, error_model="numpy")
def predict_live(x, P, status, log_lam, n, h, dt_abs, q_ballistic, beta_min):
    """Predict every live track (``status != FREE``) by ``n`` substeps of ``h`` seconds, with
    the process noise ``max(q_ballistic · λ, drag floor)`` (``mtt.drag_noise`` over ``dt_abs``);
    EKF tracks."""
    # the EKF's branch of _predict_run alone: inlining that whole would compile the other
    # filters' predictions here too, never run
    A, Phi, Tm, k1, k2, k3, k4, tmp = _predict_scratch()
    for c in range(status.shape[0]):
        for t in range(status.shape[1]):
            if status[c, t] != _FREE:
                q = _ekf_noise(x[c, t], log_lam[c, t], dt_abs, q_ballistic, beta_min)
                _predict_one(x[c, t], P[c, t], n, h, q, A, Phi, Tm, k1, k2, k3, k4, tmp)


@nb.njit(cache=True, inline="always")
def _free_slot(c, t, state):
    """Empty slot ``t`` of run ``c`` (``state`` as :func:`_scan_run`'s)."""
    x, P, log_lam, status, tid, hits, looks, log_miss, seen, found, sensors, calls, xm, Pm, mu, t_hit = state
    for i in range(6):
        x[c, t, i] = np.nan
        for j in range(6):
            P[c, t, i, j] = np.nan
    status[c, t] = _FREE
    tid[c, t] = -1
    hits[c, t] = 0
    looks[c, t] = 0
    log_miss[c, t] = 0.0
    for k in range(seen.shape[2]):
        seen[c, t, k] = np.nan
        found[c, t, k] = np.nan
        calls[c, t, k] = _NO_CALL
    sensors[c, t] = 0
    log_lam[c, t] = 0.0
    t_hit[c, t] = np.nan
    for g in range(mu.shape[2]):
        mu[c, t, g] = 0.0
        for i in range(6):
            xm[c, t, g, i] = np.nan
            for j in range(6):
                Pm[c, t, g, i, j] = np.nan


@nb.njit(cache=True, inline="always")
def _report_within(z, site, enu, x, reach):
    """Whether report ``z`` (range [m], azimuth, elevation [rad]) of a radar at ``site`` (3,)
    [m ECEF] with East-North-Up rows ``enu`` (3, 3) lies within ``reach`` [m] of the position
    of state ``x`` (6,) (geometric, as the one-point initiation converts a report)."""
    ce = math.cos(z[2])
    e, n, u = z[0] * ce * math.sin(z[1]), z[0] * ce * math.cos(z[1]), z[0] * math.sin(z[2])
    d2 = 0.0
    for i in range(3):
        d = site[i] + e * enu[0, i] + n * enu[1, i] + u * enu[2, i] - x[i]
        d2 += d * d
    return d2 < reach * reach


@nb.njit(cache=True)
def _scan_scratch(T, M):
    """Scratch of :func:`_scan_run` for T slots and M reports: d², ln det S, cost (T, M), the
    miss costs (T,), the assignment (T,), the live slots (T,), the gated pairs per track (T,)
    and per report (M,)."""
    return (np.empty((T, M)), np.empty((T, M)), np.empty((T, M)), np.empty(T), np.empty(T, np.int64),
            np.empty(T, np.bool_), np.empty(T, np.int64), np.empty(M, np.int64))


# inlined where called (a call per run and scan cost ~40 % of the scan's time); its callers
# pass at most 30 arguments, beyond which Python calls through a tuple that Numba cannot inline
@nb.njit(cache=True, error_model="numpy", inline="always")
def _scan_run(c, state, report_k, z, valid, R, call, s, rid_base, search, radar, mg, new, scr, dsc, usc, ut,
              t_now):
    """One radar scan applied to run ``c``'s tracks (:func:`scan_rows` for one run).  ``state``:
    the state arrays ``(x, P, log_lam, status, tid, hits, looks, log_miss, seen, found, sensors,
    calls, xm, Pm, mu, t_hit)`` (``xm``, ``Pm``, ``mu`` the IMM's regimes and odds,
    :func:`track_runs`; ``t_hit`` the time of each track's latest report [s]);
    reports ``z`` (M, 3) where ``valid`` (M,), noise ``R`` (M, 3, 3), calls ``call`` (M,) or
    (0,), the run's lineage ``report_k`` (T,) and unassigned reports ``new`` (M,);
    ``radar``: ``(site, enu, fsite, trig, boresight, half_fov, el_lo, el_hi, refr, r_ref,
    snr_ref, pfa)``; ``mg``: ``(gate, confirm_m, confirm_n, confirm_var_v, log_delete,
    log_lam_max, min_speed)``; ``t_now`` the scan's time [s]; ``scr``, ``dsc``, ``usc`` the
    scratch of :func:`_scan_scratch`, the distance and the update kernels; ``ut`` the track
    filter's (:func:`_filter_scratch`): the UKF gates on its unscented ``S = S0 + R_m``
    (``ukf.report_distances``) and updates by sigma points, and a UKF track whose covariance
    has no Cholesky factor is dropped."""
    x, P, log_lam, status, tid, hits, looks, log_miss, seen, found, sensors, calls, xm, Pm, mu, t_hit = state
    site, enu, fsite, trig, boresight, half_fov, el_lo, el_hi, refr, r_ref, snr_ref, pfa = radar
    gate, confirm_m, confirm_n, confirm_var_v, log_delete, log_lam_max, min_speed = mg
    T = status.shape[1]
    M = valid.shape[0]
    has_call = call.shape[0] > 0
    d2, ld, cost, miss, assign, live, per_track, per_report = scr
    Hd, PHtd, HPH, Sd, Sid, Jd, nud = dsc
    H, PHt, S, Si, K, IKH, Tm, J, nu = usc
    (kind, s_ut, wm, wc, L, chi, Zu, Su, Siu, Cu, Ku, u1, u2, u3, u4, utmp, umean,
     iq, isoj, imu0, ient, qm, ip, iw, ic, ix0, iP0, ixc, ipx, ipy, ipz, ill) = ut
    any_live = False
    for t in range(T):
        live[t] = status[c, t] != _FREE
        any_live = any_live or live[t]
        assign[t] = -1
    any_valid = False
    for m in range(M):
        any_valid = any_valid or valid[m]
    # gating and assignment
    if any_live and any_valid:
        contested = False
        for m in range(M):
            per_report[m] = 0
        for t in range(T):
            per_track[t] = 0
            if not live[t]:
                for m in range(M):
                    d2[t, m] = np.inf
                    ld[t, m] = np.nan
                continue
            if kind == UKF:  # the unscented predicted measurement, and S0 in HPH's place
                ok, rng, az, el = ukf_kernel.measurement_moments(x[c, t], P[c, t], site, enu, s_ut, wm, wc, L, chi,
                                                                 Zu, HPH)
                if not ok:  # no Cholesky factor: gates nothing, and goes at its next prediction
                    for m in range(M):
                        d2[t, m] = np.inf
                        ld[t, m] = np.nan
                    continue
            else:
                rng, az, el = _measure(x[c, t], site, enu, Jd, Hd)
                _project(P[c, t], Hd, PHtd, HPH)
            # a one-point track takes no report nearer than the slowest object tracked could
            # have moved since its first (mtt: the minimum-speed gate)
            reach = min_speed * (t_now - t_hit[c, t]) if hits[c, t] == 1 else 0.0
            for m in range(M):
                # an empty slot, or a report surely outside the gate (its distance would not be read)
                if not valid[m] or outside_gate(HPH, R[m], z[m], rng, az, el, gate) \
                        or (reach > 0.0 and _report_within(z[m], site, enu, x[c, t], reach)):
                    d2[t, m] = np.inf
                    ld[t, m] = np.nan
                    continue
                d2[t, m], ld[t, m] = _pair_distance(HPH, R[m], z[m], rng, az, el, Sd, Sid, nud)
                if d2[t, m] <= gate:
                    per_track[t] += 1
                    per_report[m] += 1
            if per_track[t] > 1:
                contested = True
        for m in range(M):
            if per_report[m] > 1:
                contested = True
        if not contested:  # each gate holds at most one report, no report in two gates
            for t in range(T):
                if per_track[t] == 1:
                    for m in range(M):
                        if d2[t, m] <= gate:
                            assign[t] = m
                            break
        else:
            # one cost of no report for every track (mtt._assign): the tighter of two tracks
            # wins a report they both gate, whether or not the other gets one
            top = -np.inf
            for t in range(T):
                for m in range(M):
                    if d2[t, m] <= gate:
                        cost[t, m] = d2[t, m] + ld[t, m]
                        top = max(top, ld[t, m])
                    else:
                        cost[t, m] = np.inf
            for t in range(T):
                miss[t] = gate + top
            gnn_row(cost[:, :M], miss, assign)  # the scratch may have more reports' columns
    # looks, the update, management
    for t in range(T):
        upd = assign[t] >= 0
        record = math.isfinite(seen[c, t, s])  # the radar has reported into the track
        holds = record and seen[c, t, s] > 0.0  # and holds it (the sign: mtt._State.seen)
        looked = False
        pd_pred = 0.0
        # a look matters only to a track that got no report (an update counts as a look
        # wherever it is): the field-of-regard test is skipped for the others
        if live[t] and not upd and (holds or search):
            xt = x[c, t]
            looked = sees(xt[0], xt[1], xt[2], fsite, trig, boresight, half_fov, el_lo, el_hi, refr, np.inf)
            if looked:
                if record:
                    pd_pred = (found[c, t, s] + 1.0) / (abs(seen[c, t, s]) + 2.0)
                else:
                    d0, d1, d2_ = xt[0] - site[0], xt[1] - site[1], xt[2] - site[2]
                    ratio = r_ref * r_ref / (d0 * d0 + d1 * d1 + d2_ * d2_)
                    pd_pred = pfa ** (1.0 / (1.0 + snr_ref * (ratio * ratio)))
        # a UKF track whose covariance has no Cholesky factor (its prediction failed, or now its
        # update) is dropped, its report free to start a track
        failed = live[t] and kind == UKF and not math.isfinite(P[c, t, 0, 0] + P[c, t, 5, 5])
        nis = np.nan
        if upd and not failed:
            m = assign[t]
            if kind == UKF:
                # (the EKF's scratch lent: its work rows' first holds a (3,) innovation)
                nis = ukf_kernel.update_one(x[c, t], P[c, t], z[m], R[m], site, enu, s_ut, wm, wc, L, chi, Zu, S, Si,
                                            PHt, K, nu[0, :3])
                failed = math.isnan(nis)
            elif kind == IMM:  # every regime and the odds, then their combination
                imm_kernel.update_one(xm[c, t], Pm[c, t], mu[c, t], z[m], R[m], site, enu, ill, H, PHt, S, Si, K, IKH,
                                      Tm, J, nu)
                imm_kernel.combine_one(xm[c, t], Pm[c, t], mu[c, t], x[c, t], P[c, t])
            else:
                nis = _update_one(x[c, t], P[c, t], z[m], R[m], site, enu, H, PHt, S, Si, K, IKH, Tm, J, nu)
        if failed:
            _free_slot(c, t, state)
            report_k[t] = -1
            assign[t] = -1
            continue
        if upd:
            m = assign[t]
            if kind != IMM:  # the IMM's regimes have their own noise levels
                log_lam[c, t] = adapt_one(log_lam[c, t], nis, log_lam_max)
            hits[c, t] += 1
            t_hit[c, t] = t_now
            sensors[c, t] |= np.uint32(1 << s)
            if has_call:
                calls[c, t, s] = call[m]
            report_k[t] = rid_base | m
        tent = status[c, t] == _TENTATIVE
        if tent and (looked or upd or record):  # (as mtt._scan: the record, not the hold)
            looks[c, t] += 1
        # M-of-N decides whether the object exists, the deletion rule whether it still does: a
        # track with its M reports is confirmed once its velocity is known, and goes by the second
        established = hits[c, t] >= confirm_m
        if tent and established and P[c, t, 3, 3] + P[c, t, 4, 4] + P[c, t, 5, 5] <= confirm_var_v \
                and x[c, t, 3] ** 2 + x[c, t, 4] ** 2 + x[c, t, 5] ** 2 >= min_speed * min_speed:
            status[c, t] = _CONFIRMED
        if upd:
            log_miss[c, t] = 0.0
        elif looked:
            log_miss[c, t] += math.log1p(-min(pd_pred, 1.0 - 1e-12))
        if upd and not record:
            seen[c, t, s] = 1.0
            found[c, t, s] = 1.0
        elif (looked or upd) and record:
            seen[c, t, s] = _PD_MEMORY * abs(seen[c, t, s]) + 1.0
            found[c, t, s] = _PD_MEMORY * found[c, t, s] + (1.0 if upd else 0.0)
        # the hold: taken by a report, kept while the track stays in the field, given up when
        # it leaves (the radar then searches for it again, as radar.looks has it)
        if record and not upd and (not (holds and looked)) and live[t]:
            seen[c, t, s] = -abs(seen[c, t, s])
        drop = (tent and not established and looks[c, t] - hits[c, t] > confirm_n - confirm_m) \
            or (established and status[c, t] != _FREE and log_miss[c, t] < log_delete)
        if drop:
            _free_slot(c, t, state)
            report_k[t] = -1
            assign[t] = -1  # its report is free to start a track
    for m in range(M):
        new[m] = valid[m]
    for t in range(T):
        if assign[t] >= 0:
            new[assign[t]] = False




@nb.njit(cache=True, error_model="numpy")
def scan_rows(x, P, log_lam, status, tid, hits, looks, log_miss, seen, found, sensors, calls, t_hit, report_k,
              z, valid, R, call, s, rid_base, search, site, enu, fsite, trig, boresight, half_fov, el_lo, el_hi,
              refr, r_ref, snr_ref, pfa, gate, confirm_m, confirm_n, confirm_var_v, log_delete, log_lam_max, min_speed,
              t_now, new):
    """One radar scan applied to every run's tracks: gating, global nearest neighbour, the EKF
    update, track management (``mtt._scan`` steps 2-5).  Reports ``z`` (C, M, 3) where
    ``valid`` (C, M), noise ``R`` (C, M, 3, 3), discrimination calls ``call`` (C, M) int8 or
    (C, 0) for none; ``s`` the sensor's index, ``rid_base`` its report ids' high bits for this
    scan, ``search`` whether the scan is a search frame; the radar's site (``site``, ``enu``)
    and field of regard (``fsite`` .. ``refr``, :meth:`FieldOfRegard.args`) and reference target
    (``r_ref`` [m], ``snr_ref``, ``pfa``); the scan's time ``t_now`` [s] and the tracks' latest
    reports' ``t_hit`` (C, T) for the minimum-speed gate ``min_speed`` [m/s] (0: none).
    ``report_k`` (C, T) gets the lineage; ``new`` (C, M) gets the reports no track took
    (``mtt._scan`` step 6 starts tracks from them)."""
    scr = _scan_scratch(status.shape[1], valid.shape[1])
    dsc = _distance_scratch()
    usc = _update_scratch()
    xm, Pm, mu, none = _no_imm(status.shape[0], status.shape[1])
    ut = _filter_scratch(EKF, 1.0, np.ones(13), np.ones(13), none, none, none, none)  # EKF tracks
    state = (x, P, log_lam, status, tid, hits, looks, log_miss, seen, found, sensors, calls, xm, Pm, mu, t_hit)
    radar = (site, enu, fsite, trig, boresight, half_fov, el_lo, el_hi, refr, r_ref, snr_ref, pfa)
    mg = (gate, confirm_m, confirm_n, confirm_var_v, log_delete, log_lam_max, min_speed)
    for c in range(status.shape[0]):
        _scan_run(c, state, report_k[c], z[c], valid[c], R[c], call[c], s, rid_base, search, radar, mg, new[c],
                  scr, dsc, usc, ut, t_now)


@nb.njit(cache=True, error_model="numpy", inline="always")
def _initiate_run(c, state, next_id, report_k, z, R, call, new, s, rid_base, site0, trig, sigma_v0, log_lam_max,
                  key, mu0, t_now):
    """:func:`initiate_rows` for run ``c`` (``state`` as :func:`_scan_run`'s): reports ``z``
    (M, 3), ``R`` (M, 3, 3), calls ``call`` (M,) or (0,), where ``new`` (M,); the run's lineage
    ``report_k`` (T,); ``key`` (M,) scratch; IMM tracks start every regime from the
    one-point initiation, with the odds ``mu0`` (the regimes' (0,) for other filters)."""
    x, P, log_lam, status, tid, hits, looks, log_miss, seen, found, sensors, calls, xm, Pm, mu, t_hit = state
    T = status.shape[1]
    M = new.shape[0]
    has_call = call.shape[0] > 0
    for m in range(M):
        key[m] = z[m, 0] if new[m] else np.inf
    order = np.argsort(key, kind="mergesort")
    rank = 0
    for t in range(T):
        if status[c, t] != _FREE:
            continue
        if rank >= M or not new[order[rank]]:
            break
        m = order[rank]
        _free_slot(c, t, state)
        init_one(z[m], R[m], site0, trig, sigma_v0, x[c, t], P[c, t])
        for g in range(mu0.shape[0]):
            xm[c, t, g] = x[c, t]
            Pm[c, t, g] = P[c, t]
            mu[c, t, g] = mu0[g]
        log_lam[c, t] = log_lam_max
        status[c, t] = _TENTATIVE
        hits[c, t] = 1
        t_hit[c, t] = t_now
        looks[c, t] = 1
        seen[c, t, s] = 1.0
        found[c, t, s] = 1.0
        sensors[c, t] = np.uint32(1 << s)
        if has_call:
            calls[c, t, s] = call[m]
        tid[c, t] = next_id[c] + rank
        report_k[t] = rid_base | m
        rank += 1
    next_id[c] += rank


@nb.njit(cache=True, error_model="numpy")
def initiate_rows(x, P, log_lam, status, tid, hits, looks, log_miss, seen, found, sensors, calls, t_hit, next_id,
                  report_k, z, R, call, new, s, rid_base, site0, trig, sigma_v0, log_lam_max, t_now):
    """Start a tentative track from every report where ``new`` (C, M), in order of range, in
    the run's free slots in index order (``mtt._scan`` step 6; the slots must suffice): the
    one-point initiation of :func:`shieldlab.tracking.ekf.init_from_detection` from the
    geodetic site ``site0`` (3,) [m ECEF] with ``trig`` (sin, cos of its latitude, sin, cos of
    its longitude)."""
    key = np.empty(new.shape[1])
    xm, Pm, mu, none = _no_imm(status.shape[0], status.shape[1])  # EKF tracks
    state = (x, P, log_lam, status, tid, hits, looks, log_miss, seen, found, sensors, calls, xm, Pm, mu, t_hit)
    for c in range(status.shape[0]):
        _initiate_run(c, state, next_id, report_k[c], z[c], R[c], call[c], new[c], s, rid_base, site0, trig, sigma_v0,
                      log_lam_max, key, none, t_now)


#: :func:`track_runs` stopped at a run: it needs more track slots, more covariance rows.
NEED_SLOTS, NEED_ROWS = 1, 2


@nb.njit(cache=True, error_model="numpy")
def track_runs(c_start, t_abs, dt, nsub, hsub, ev_start, ev_s, ev_j, Zs, Vs, SCs, CLs,
               site, enu, fsite, trig, fov, refr, ref, org, otrig, R3, search_every, has_call, weights,
               gate, confirm_m, confirm_n, confirm_var_v, log_delete, log_lam_max, min_speed, q_ballistic, beta_min,
               sigma_v0, down_m, lost_var,
               x, P, log_lam, status, tid, hits, looks, log_miss, seen, found, sensors, calls, xm, Pm, mu, t_hit,
               next_id,
               hx, hsig, htid, hstatus, hhits, hsensors, hreport, hwarhead, hq, keep, pidx, pbuf, nrows, row_start,
               kind, s_ut, wm, wc, imm_q, imm_sojourn, imm_mu0, imm_entry):
    """The whole multi-target tracker over the update times, one run after another from run
    ``c_start`` (``mtt.track_reports``: each run is independent, so no Python step per
    scan).

    Times: ``t_abs`` (K,) the update times [s], ``dt`` (K,) [s] from the previous one, the prediction's ``nsub`` (K,)
    substeps of ``hsub`` (K,) seconds.  Scans ("events", in the order applied): those of time
    ``k`` are ``ev_start[k]:ev_start[k + 1]``, each of sensor ``ev_s[e]``, its scan
    ``ev_j[e]``.  Sensor ``s``'s reports (typed lists, an array per sensor) are ``Zs[s]``
    (C, K_s, M_s, 3) where ``Vs[s]`` (C, K_s, M_s), the factor ``SCs[s]`` (C, K_s, M_s) on its
    ``R3[s]`` (S, 3, 3) and calls ``CLs[s]`` (C, K_s, M_s) int8 (any shape where
    ``has_call[s]`` is False).  Per sensor:
    its site (``site`` (S, 3), ``enu`` (S, 3, 3)), field of regard (``fsite``, ``trig``,
    ``fov`` (S, 4): boresight, half field, lowest and highest elevation; ``refr``), reference
    target ``ref`` (S, 3): range [m], SNR, Pfa; geodetic origin ``org`` (S, 3), ``otrig`` (S, 4);
    ``search_every`` (S,), ``has_call`` (S,), the log-odds ``weights`` (S,) of its calls.
    ``down_m``: the depth [m] below the ellipsoid at which a track has come down; ``lost_var``
    [m²]: a confirmed track whose predicted position variance (the trace) exceeds it ends.  The track
    filter: ``kind`` (``tracker_kernel.EKF``, ``UKF`` or ``IMM``), the UKF's sigma-point scale
    ``s_ut`` and weights ``wm``, ``wc`` (13,), and the IMM's regimes (``imm_q`` [m²/s³],
    ``imm_sojourn`` [s], ``imm_mu0``, ``imm_entry`` [m], (M,) each,
    :class:`shieldlab.tracking.imm.Regimes`; (0,) for the other filters).

    ``min_speed`` [m/s]: the minimum-speed gate of a one-point track (0: none).

    The state arrays (``x`` .. ``next_id``, as :func:`scan_rows`, and the IMM's regimes
    ``xm`` (C, T, M, 6), ``Pm`` (C, T, M, 6, 6) and odds ``mu`` (C, T, M), whose
    combination ``x`` and ``P`` then hold) are changed in place; each
    update time's are written to the histories (C, T, K): ``hx`` (.., 6), ``hsig`` float32,
    ``htid``, ``hstatus``, ``hhits``, ``hsensors``, ``hreport``, ``hwarhead``, and ``hq`` float32, the
    noise level each track's filter holds (``q_ballistic · λ``, or the IMM's regime levels
    weighed by their odds; ``nan`` where the slot is free: ``mtt.TrackFile.q``).  With ``keep``,
    the covariance of every confirmed track judged a warhead goes to row ``nrows[0]`` of
    ``pbuf`` (R, 6, 6), named by ``pidx`` (C, T, K) (-1 elsewhere); ``row_start`` (C,) gets
    each run's first row.

    Returns ``(c, why)``: ``(C, 0)`` when every run is done, else the run it stopped at, its
    state and rows half-made, because it needed more slots (:data:`NEED_SLOTS`) or more rows
    (:data:`NEED_ROWS`)."""
    C, T = status.shape
    K = dt.size
    S = weights.size
    M = 0
    for s in range(S):
        M = max(M, Vs[s].shape[2])
    scr = _scan_scratch(T, M)
    dsc = _distance_scratch()
    usc = _update_scratch()
    psc = _predict_scratch()
    ut = _filter_scratch(kind, s_ut, wm, wc, imm_q, imm_sojourn, imm_mu0, imm_entry)
    Rc = np.empty((M, 3, 3))
    new = np.empty(M, np.bool_)
    key = np.empty(M)
    report_k = np.empty(T, np.int64)
    no_call = np.empty(0, np.int8)
    state = (x, P, log_lam, status, tid, hits, looks, log_miss, seen, found, sensors, calls, xm, Pm, mu, t_hit)
    mg = (gate, confirm_m, confirm_n, confirm_var_v, log_delete, log_lam_max, min_speed)
    for c in range(c_start, C):
        row_start[c] = nrows[0]
        for k in range(K):
            if k > 0 and dt[k] != 0.0:
                _predict_run(c, x, P, status, log_lam, xm, Pm, mu, nsub[k], hsub[k], abs(dt[k]), q_ballistic, beta_min,
                             psc, ut)
                for t in range(T):  # as mtt._State.lost: a prediction too wide to gate by
                    if status[c, t] == _CONFIRMED and P[c, t, 0, 0] + P[c, t, 1, 1] + P[c, t, 2, 2] > lost_var:
                        _free_slot(c, t, state)
            for t in range(T):
                report_k[t] = -1
            for e in range(ev_start[k], ev_start[k + 1]):
                s = ev_s[e]
                j = ev_j[e]
                Ms = Vs[s].shape[2]
                z = Zs[s][c, j]
                sc = SCs[s][c, j]
                for m in range(Ms):
                    for a in range(3):
                        for b in range(3):
                            Rc[m, a, b] = R3[s, a, b] * sc[m]
                    Rc[m, 1, 1] *= azimuth_variance_factor_one(z[m, 2])  # (records.report_covariance)
                call = CLs[s][c, j] if has_call[s] else no_call
                rid = (np.int64(s) << 44) | (np.int64(j) << 20)
                radar = (site[s], enu[s], fsite[s], trig[s], fov[s, 0], fov[s, 1], fov[s, 2], fov[s, 3], refr[s],
                         ref[s, 0], ref[s, 1], ref[s, 2])
                _scan_run(c, state, report_k, z, Vs[s][c, j], Rc[:Ms], call, s, rid, j % search_every[s] == 0, radar,
                          mg, new[:Ms], scr, dsc, usc, ut, t_abs[k])
                n_new = 0
                for m in range(Ms):
                    if new[m]:
                        n_new += 1
                if n_new == 0:
                    continue
                n_free = 0
                for t in range(T):
                    if status[c, t] == _FREE:
                        n_free += 1
                if n_free < n_new:
                    return c, NEED_SLOTS
                _initiate_run(c, state, next_id, report_k, z, Rc[:Ms], call, new[:Ms], s, rid, org[s], otrig[s],
                              sigma_v0, log_lam_max, key[:Ms], imm_mu0, t_abs[k])
            for t in range(T):
                if status[c, t] == _FREE:
                    continue
                # as tracker.came_down; or a UKF prediction that had no Cholesky factor
                if below_surface_point(x[c, t, 0], x[c, t, 1], x[c, t, 2], down_m) \
                        or (kind == UKF and not math.isfinite(x[c, t, 0])):
                    _free_slot(c, t, state)
            for t in range(T):
                on = status[c, t] != _FREE
                for i in range(6):
                    hx[c, t, k, i] = x[c, t, i]
                hsig[c, t, k] = np.float32(math.sqrt(P[c, t, 0, 0] + P[c, t, 1, 1] + P[c, t, 2, 2]))
                htid[c, t, k] = tid[c, t]
                hstatus[c, t, k] = status[c, t]
                hhits[c, t, k] = hits[c, t]
                hsensors[c, t, k] = sensors[c, t]
                hreport[c, t, k] = report_k[t] if on else -1
                vote = 0.0
                for q in range(S):
                    vote += (2.0 * calls[c, t, q] - 1.0 if calls[c, t, q] >= 0 else 0.0) * weights[q]
                warhead = on and vote >= 0.0
                hwarhead[c, t, k] = warhead
                hq[c, t, k] = held_level(kind, mu[c, t], imm_q, q_ballistic, log_lam[c, t]) if on else np.nan
                if not keep:
                    continue
                if status[c, t] == _CONFIRMED and warhead:
                    r = nrows[0]
                    if r >= pbuf.shape[0]:
                        return c, NEED_ROWS
                    for a in range(6):
                        for b in range(6):
                            pbuf[r, a, b] = P[c, t, a, b]
                    pidx[c, t, k] = r
                    nrows[0] = r + 1
                else:
                    pidx[c, t, k] = -1
    return C, 0
