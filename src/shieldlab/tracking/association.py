"""Data association: which report of a scan belongs to which track.

A scan of a radar yields a set of reports (range, azimuth, elevation) without labels:
detections of the objects in view and false alarms.  Before a tracker can update its
tracks it must decide which report, if any, each track takes.  This module holds that
step, batched over the Monte Carlo runs (leading axes ``...``):

* :func:`report_distances`: the squared Mahalanobis distance of every report from every
  track's predicted measurement, ``d² = νᵀ S⁻¹ ν`` with ``ν = z - h(x)`` (azimuth wrapped
  to (−π, π]) and ``S = H P Hᵀ + R`` (the EKF's innovation covariance,
  :func:`shieldlab.tracking.ekf.measure_aer`), and ``ln det S``.  For a consistent
  filter d² of the right report is χ² with 3 degrees of freedom; :func:`gate` gives the
  threshold that keeps it with a stated probability (Bar-Shalom, Li & Kirubarajan 2001,
  §3.7, "validation gate").
* :func:`gnn`: global nearest neighbour, the assignment of reports to tracks (each report
  to at most one track, each track at most one report) with the least total cost, where a
  track may go without a report at a stated cost (Blackman & Popoli, *Design and Analysis
  of Modern Tracking Systems*, 1999, §6.4).  Solved exactly, per batch element, by
  :func:`scipy.optimize.linear_sum_assignment` on the cost matrix extended with one
  "no report" column per track.

Costs: the caller chooses.  The Mahalanobis distance ``sqrt(d²)`` with the gate as the
cost of no report is Stone Soup's ``DistanceHypothesiser`` with ``GNNWith2DAssignment``
(tests: the same assignments on a cluttered scene); ``d² + ln det S`` (the negative log
likelihood, up to a constant) favours the tighter track where two compete.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from scipy import optimize, special

from shieldlab.tracking import ekf


def gate(probability: float, dof: int = 3) -> float:
    """Squared-distance threshold that the right report passes with ``probability``: the
    χ² quantile with ``dof`` degrees of freedom (e.g. 0.999 → 16.27 for a 3-D report)."""
    if not 0.0 < probability < 1.0:
        raise ValueError(f"gate: probability must be in (0, 1), not {probability!r}")
    return 2.0 * float(special.gammaincinv(0.5 * dof, probability))  # as scipy.stats.chi2.ppf


def report_distances(x: np.ndarray, P: np.ndarray, z: np.ndarray, R: np.ndarray, site_ecef: np.ndarray,
                     site_enu_matrix: np.ndarray, z_valid: np.ndarray | None = None):
    """Squared Mahalanobis distance of every report from every track.

    Parameters
    ----------
    x, P : (..., T, 6), (..., T, 6, 6)
        Tracks predicted to the scan time: ECEF state [m, m/s] and covariance.  A track
        whose state is not finite gets no finite distance.
    z : (..., M, 3)
        The scan's reports: range [m], azimuth [rad], elevation [rad].
    R : (3, 3) or (..., M, 3, 3)
        The sensor's measurement-noise covariance, one for all reports or each report's own.
    site_ecef, site_enu_matrix : (3,), (3, 3)
        The sensor's position [m] and local East-North-Up rows.
    z_valid : (..., M) bool, optional
        Which report slots hold a report (padding for scans with fewer); default: the
        finite ones.

    Returns
    -------
    d2 : (..., T, M)
        ``νᵀ S⁻¹ ν``; ``inf`` for an invalid report or track.
    log_det_S : (..., T) or (..., T, M)
        ``ln det S`` of each track's innovation covariance (``nan`` for an invalid track);
        per (track, report) where each report has its own ``R``.
    """
    x, P, z = np.asarray(x, float), np.asarray(P, float), np.asarray(z, float)
    track_ok = np.isfinite(x).all(axis=-1) & np.isfinite(P).all(axis=(-1, -2))
    ok = np.isfinite(z).all(axis=-1) if z_valid is None else np.asarray(z_valid, bool) & np.isfinite(z).all(axis=-1)
    # invalid tracks get a harmless stand-in (as ekf.update does): the batched algebra sees no nan
    up = np.asarray(site_ecef, float) + 1e6 * np.asarray(site_enu_matrix, float)[2]
    xs = np.where(track_ok[..., None], x, np.concatenate([up, np.zeros(3)]))
    Ps = np.where(track_ok[..., None, None], P, np.eye(6))
    hz, H = ekf.measure_aer(xs, site_enu_matrix=site_enu_matrix, site_ecef=site_ecef)
    HPH = H @ Ps @ np.swapaxes(H, -1, -2)
    R = np.asarray(R, float)
    nu = np.where(ok[..., None, :, None], z[..., None, :, :], 0.0) - hz[..., :, None, :]  # (..., T, M, 3)
    nu[..., 1] = ekf.wrap_pi(nu[..., 1])
    if R.ndim == 2:  # one covariance for all reports: one S per track
        S = HPH + R
        d2 = np.einsum("...tmi,...tij,...tmj->...tm", nu, ekf.inv_spd3(S), nu)
    else:  # each report its own: one S per (track, report); empty slots get a harmless identity
        Rm = np.where(ok[..., None, None], R, np.eye(3))
        S = HPH[..., :, None, :, :] + Rm[..., None, :, :, :]
        d2 = np.einsum("...tmi,...tmij,...tmj->...tm", nu, ekf.inv_spd3(S), nu)
    d2 = np.where(ok[..., None, :] & track_ok[..., :, None], d2, np.inf)
    log_det = np.linalg.slogdet(S)[1]
    log_det = np.where(track_ok, log_det, np.nan) if R.ndim == 2 else np.where(
        ok[..., None, :] & track_ok[..., :, None], log_det, np.nan)
    return d2, log_det


def gnn(cost: np.ndarray, miss_cost) -> np.ndarray:
    """Global-nearest-neighbour assignment of reports to tracks.

    Parameters
    ----------
    cost : (..., T, M)
        Cost of giving report ``m`` to track ``t``; ``inf`` where not allowed (outside the
        gate).
    miss_cost : float or (..., T)
        Finite cost of leaving a track without a report.

    Returns
    -------
    (..., T) int
        The report each track takes, -1 for none: of all assignments (each report to at
        most one track) the one with the least total cost, the missed tracks' costs
        included.  A report that costs a track at least its miss is never given to it.
    """
    cost = np.asarray(cost, float)
    *batch, T, M = cost.shape
    miss = np.broadcast_to(np.asarray(miss_cost, float), tuple(batch) + (T,))
    if not np.isfinite(miss).all():
        raise ValueError("gnn: miss_cost must be finite (a track can always go without a report)")
    out = np.full(tuple(batch) + (T,), -1, np.int64)
    if T == 0 or M == 0:
        return out
    flat_cost, flat_miss, flat_out = cost.reshape(-1, T, M), miss.reshape(-1, T), out.reshape(-1, T)
    diag = np.arange(T)
    for i in range(flat_cost.shape[0]):
        c = flat_cost[i]
        # only reports some track may take, and only tracks with such a report, enter the solver
        rows = np.flatnonzero(np.isfinite(c).any(axis=1) & (c.min(axis=1, initial=np.inf) < flat_miss[i]))
        if rows.size == 0:
            continue
        cols = np.flatnonzero(np.isfinite(c[rows]).any(axis=0))
        sub = c[np.ix_(rows, cols)]
        big = np.full((rows.size, cols.size + rows.size), np.inf)
        big[:, :cols.size] = np.where(sub < flat_miss[i][rows, None], sub, np.inf)
        big[diag[:rows.size], cols.size + diag[:rows.size]] = flat_miss[i][rows]
        r, k = optimize.linear_sum_assignment(big)
        took = k < cols.size
        flat_out[i, rows[r[took]]] = cols[k[took]]
    return out


#: Cost standing in for a forbidden pair in the compiled assignment (costs are O(10-100)).
_FORBIDDEN = 1e12


@nb.njit(cache=True)
def least_cost(a, n, m, out):
    """Exact least-cost assignment of the ``n`` rows of ``a[:n, :m]`` (``n <= m``, finite
    costs) to distinct columns, by shortest augmenting paths with potentials (the Hungarian
    method in the form of Jonker & Volgenant 1987, as :func:`scipy.optimize.linear_sum_assignment`
    solves it); ``out[i]`` gets row i's column."""
    inf = np.inf
    u = np.zeros(n + 1)
    v = np.zeros(m + 1)
    p = np.zeros(m + 1, np.int64)  # p[j]: row (1-based) holding column j, 0: none
    way = np.zeros(m + 1, np.int64)
    minv = np.empty(m + 1)
    used = np.empty(m + 1, np.bool_)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv[:] = inf
        used[:] = False
        while True:
            used[j0] = True
            i0 = p[j0]
            delta = inf
            j1 = 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = a[i0 - 1, j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j] = cur
                        way[j] = j0
                    if minv[j] < delta:
                        delta = minv[j]
                        j1 = j
            for j in range(m + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    for j in range(1, m + 1):
        if p[j] != 0:
            out[p[j] - 1] = j - 1


@nb.njit(cache=True)
def gnn_rows(cost, miss, rows, out):
    """:func:`gnn` compiled, for the batch rows listed in ``rows``: ``cost`` (B, T, M) with
    ``inf`` outside the gate, ``miss`` (B, T) finite; writes ``out[b]`` (T,) (-1: no report)
    for each ``b`` in ``rows`` (other rows untouched).  Only the tracks with a report they
    may take and the reports some track may take enter the solver."""
    B, T, M = cost.shape
    for b in rows:
        for t in range(T):
            out[b, t] = -1
        tr = np.empty(T, np.int64)
        nt = 0
        for t in range(T):
            for m in range(M):
                if cost[b, t, m] < miss[b, t]:
                    tr[nt] = t
                    nt += 1
                    break
        if nt == 0:
            continue
        rp = np.empty(M, np.int64)
        nr = 0
        for m in range(M):
            for i in range(nt):
                if cost[b, tr[i], m] < miss[b, tr[i]]:
                    rp[nr] = m
                    nr += 1
                    break
        a = np.full((nt, nr + nt), _FORBIDDEN)
        for i in range(nt):
            for k in range(nr):
                c = cost[b, tr[i], rp[k]]
                if c < miss[b, tr[i]]:
                    a[i, k] = c
            a[i, nr + i] = miss[b, tr[i]]
        col = np.empty(nt, np.int64)
        least_cost(a, nt, nr + nt, col)
        for i in range(nt):
            if col[i] < nr:
                out[b, tr[i]] = rp[col[i]]
