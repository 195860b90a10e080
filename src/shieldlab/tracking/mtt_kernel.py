"""Compiled scan step of the multi-target tracker (:mod:`shieldlab.tracking.mtt`), EKF tracks.

The tracker's scan (predict, gate, assign, update, manage, initiate) in NumPy is some sixty
calls on (runs, slots) arrays per radar scan: with a few live tracks per run and ~900 scans
per chunk, the calls' overhead, not the arithmetic, set its cost (~2.7 s of ~3.9 s per 64
runs of epaa-phase-1 under false alarms, profiled).  Here each run is one pass of loops over
its slots and reports, the same rules in the same order as :func:`shieldlab.tracking.mtt._scan`,
calling the same compiled pieces (the EKF's predict and update of
:mod:`~shieldlab.tracking.ekf_kernel`, the field-of-regard test of
:mod:`~shieldlab.sensors.visibility`, the least-cost assignment of
:mod:`~shieldlab.tracking.association`).  Where NumPy's elementwise functions and the C
library's differ in the last bit (``exp``, ``log``), results differ by that much; the NumPy
scan stays the reference (tests: the same tracks, states to 1e-9 relative).

State arrays are those of ``mtt._State`` and are changed in place: ``x`` (C, T, 6), ``P``
(C, T, 6, 6), ``log_lam``, ``log_miss`` (C, T) float64, ``status`` int8, ``tid`` int64,
``hits``, ``looks`` int32, ``sensors`` uint32 (C, T), ``seen``, ``found`` (C, T, S) float64,
``calls`` (C, T, S) int8, ``next_id`` (C,) int64.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from shieldlab.earth import density_rows, geodetic_xyz
from shieldlab.sensors.visibility import sees
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
)
from shieldlab.tracking.tracker_kernel import adapt_one

# the values of mtt's constants (mtt imports this module; tests hold them equal)
_FREE, _TENTATIVE, _CONFIRMED = 0, 1, 2
_NO_CALL = -1
_PD_MEMORY = 0.9


@nb.njit(cache=True, error_model="numpy")
def predict_live(x, P, status, log_lam, n, h, dt_abs, q_ballistic, beta_min):
    """Predict every live track (``status != FREE``) by ``n`` substeps of ``h`` seconds, with
    the process noise ``max(q_ballistic · λ, drag floor)`` (``mtt.drag_noise`` over ``dt_abs``)."""
    C, T = status.shape
    E = 0
    for c in range(C):
        for t in range(T):
            if status[c, t] != _FREE:
                E += 1
    if E == 0:
        return
    px, py, pz = np.empty(E), np.empty(E), np.empty(E)
    e = 0
    for c in range(C):
        for t in range(T):
            if status[c, t] != _FREE:
                px[e], py[e], pz[e] = x[c, t, 0], x[c, t, 1], x[c, t, 2]
                e += 1
    alt = geodetic_xyz(px, py, pz)[2]
    rho = density_rows(alt)
    A, Phi, Tm, k1, k2, k3, k4, tmp = _predict_scratch()
    e = 0
    for c in range(C):
        for t in range(T):
            if status[c, t] == _FREE:
                continue
            v2 = x[c, t, 3] * x[c, t, 3] + x[c, t, 4] * x[c, t, 4] + x[c, t, 5] * x[c, t, 5]
            a = rho[e] * v2 / (2.0 * beta_min)
            q = max(q_ballistic * math.exp(log_lam[c, t]), a * a * dt_abs)
            _predict_one(x[c, t], P[c, t], n, h, q, A, Phi, Tm, k1, k2, k3, k4, tmp)
            e += 1


@nb.njit(cache=True, inline="always")
def _free_slot(c, t, x, P, log_lam, status, tid, hits, looks, log_miss, seen, found, sensors, calls):
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


@nb.njit(cache=True, error_model="numpy")
def scan_rows(x, P, log_lam, status, tid, hits, looks, log_miss, seen, found, sensors, calls, report_k,
              z, valid, R, call, s, rid_base, search, site, enu, fsite, trig, boresight, half_fov, el_lo, el_hi,
              refr, r_ref, snr_ref, pfa, gate, confirm_m, confirm_n, log_delete, log_lam_max, new):
    """One radar scan applied to every run's tracks: gating, global nearest neighbour, the EKF
    update, track management (``mtt._scan`` steps 2-5).  Reports ``z`` (C, M, 3) where
    ``valid`` (C, M), noise ``R`` (C, M, 3, 3), discrimination calls ``call`` (C, M) int8 or
    (C, 0) for none; ``s`` the sensor's index, ``rid_base`` its report ids' high bits for this
    scan, ``search`` whether the scan is a search frame; the radar's site (``site``, ``enu``)
    and field of regard (``fsite`` .. ``refr``, :meth:`FieldOfRegard.args`) and reference target
    (``r_ref`` [m], ``snr_ref``, ``pfa``).  ``report_k`` (C, T) gets the lineage; ``new``
    (C, M) gets the reports no track took (``mtt._scan`` step 6 starts tracks from them)."""
    C, T = status.shape
    M = valid.shape[1]
    has_call = call.shape[1] > 0
    d2 = np.empty((T, M))
    ld = np.empty((T, M))
    cost = np.empty((T, M))
    miss = np.empty(T)
    assign = np.empty(T, np.int64)
    live = np.empty(T, np.bool_)
    per_track = np.empty(T, np.int64)
    per_report = np.empty(M, np.int64)
    Hd, PHtd, HPH, Sd, Sid, Jd, nud = _distance_scratch()
    H, PHt, S, Si, K, IKH, Tm, J, nu = _update_scratch()
    for c in range(C):
        any_live = False
        for t in range(T):
            live[t] = status[c, t] != _FREE
            any_live = any_live or live[t]
            assign[t] = -1
        any_valid = False
        for m in range(M):
            any_valid = any_valid or valid[c, m]
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
                rng, az, el = _measure(x[c, t], site, enu, Jd, Hd)
                _project(P[c, t], Hd, PHtd, HPH)
                for m in range(M):
                    if not valid[c, m]:
                        d2[t, m] = np.inf
                        ld[t, m] = np.nan
                        continue
                    d2[t, m], ld[t, m] = _pair_distance(HPH, R[c, m], z[c, m], rng, az, el, Sd, Sid, nud)
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
                for t in range(T):
                    top = -np.inf
                    for m in range(M):
                        if d2[t, m] <= gate:
                            cost[t, m] = d2[t, m] + ld[t, m]
                            top = max(top, ld[t, m])
                        else:
                            cost[t, m] = np.inf
                    miss[t] = gate + (top if per_track[t] > 0 else 0.0)
                gnn_row(cost, miss, assign)
        # looks, the update, management
        for t in range(T):
            upd = assign[t] >= 0
            holds = math.isfinite(seen[c, t, s])
            looked = False
            pd_pred = 0.0
            # a look matters only to a track that got no report (an update counts as a look
            # wherever it is): the field-of-regard test is skipped for the others
            if live[t] and not upd and (holds or search):
                xt = x[c, t]
                looked = sees(xt[0], xt[1], xt[2], fsite, trig, boresight, half_fov, el_lo, el_hi, refr, np.inf)
                if looked:
                    if holds:
                        pd_pred = (found[c, t, s] + 1.0) / (seen[c, t, s] + 2.0)
                    else:
                        d0, d1, d2_ = xt[0] - site[0], xt[1] - site[1], xt[2] - site[2]
                        ratio = r_ref * r_ref / (d0 * d0 + d1 * d1 + d2_ * d2_)
                        pd_pred = pfa ** (1.0 / (1.0 + snr_ref * (ratio * ratio)))
            if upd:
                m = assign[t]
                nis = _update_one(x[c, t], P[c, t], z[c, m], R[c, m], site, enu, H, PHt, S, Si, K, IKH, Tm, J, nu)
                log_lam[c, t] = adapt_one(log_lam[c, t], nis, log_lam_max)
                hits[c, t] += 1
                sensors[c, t] |= np.uint32(1 << s)
                if has_call:
                    calls[c, t, s] = call[c, m]
                report_k[c, t] = rid_base | m
            tent = status[c, t] == _TENTATIVE
            if tent and (looked or upd or holds):
                looks[c, t] += 1
            if tent and hits[c, t] >= confirm_m:
                status[c, t] = _CONFIRMED
            conf = status[c, t] == _CONFIRMED
            if upd:
                log_miss[c, t] = 0.0
            elif looked:
                log_miss[c, t] += math.log1p(-min(pd_pred, 1.0 - 1e-12))
            if upd and not holds:
                seen[c, t, s] = 1.0
                found[c, t, s] = 1.0
            elif (looked or upd) and holds:
                seen[c, t, s] = _PD_MEMORY * seen[c, t, s] + 1.0
                found[c, t, s] = _PD_MEMORY * found[c, t, s] + (1.0 if upd else 0.0)
            drop = (tent and status[c, t] == _TENTATIVE and looks[c, t] - hits[c, t] > confirm_n - confirm_m) \
                or (conf and log_miss[c, t] < log_delete)
            if drop:
                _free_slot(c, t, x, P, log_lam, status, tid, hits, looks, log_miss, seen, found, sensors, calls)
                report_k[c, t] = -1
                assign[t] = -1  # its report is free to start a track
        for m in range(M):
            new[c, m] = valid[c, m]
        for t in range(T):
            if assign[t] >= 0:
                new[c, assign[t]] = False


@nb.njit(cache=True, error_model="numpy")
def initiate_rows(x, P, log_lam, status, tid, hits, looks, log_miss, seen, found, sensors, calls, next_id,
                  report_k, z, R, call, new, s, rid_base, site0, trig, sigma_v0, log_lam_max):
    """Start a tentative track from every report where ``new`` (C, M), in order of range, in
    the run's free slots in index order (``mtt._scan`` step 6; the slots must suffice): the
    one-point initiation of :func:`shieldlab.tracking.ekf.init_from_detection` from the
    geodetic site ``site0`` (3,) [m ECEF] with ``trig`` (sin, cos of its latitude, sin, cos of
    its longitude)."""
    C, T = status.shape
    M = new.shape[1]
    has_call = call.shape[1] > 0
    key = np.empty(M)
    for c in range(C):
        for m in range(M):
            key[m] = z[c, m, 0] if new[c, m] else np.inf
        order = np.argsort(key, kind="mergesort")
        rank = 0
        for t in range(T):
            if status[c, t] != _FREE:
                continue
            if rank >= M or not new[c, order[rank]]:
                break
            m = order[rank]
            _free_slot(c, t, x, P, log_lam, status, tid, hits, looks, log_miss, seen, found, sensors, calls)
            init_one(z[c, m], R[c, m], site0, trig, sigma_v0, x[c, t], P[c, t])
            log_lam[c, t] = log_lam_max
            status[c, t] = _TENTATIVE
            hits[c, t] = 1
            looks[c, t] = 1
            seen[c, t, s] = 1.0
            found[c, t, s] = 1.0
            sensors[c, t] = np.uint32(1 << s)
            if has_call:
                calls[c, t, s] = call[c, m]
            tid[c, t] = next_id[c] + rank
            report_k[c, t] = rid_base | m
            rank += 1
        next_id[c] += rank
