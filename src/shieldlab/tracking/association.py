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

import math

import numba as nb
import numpy as np
from scipy import special

from shieldlab.tracking import ekf, ekf_kernel


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
    from scipy import optimize  # (here: scipy.optimize costs an import ~0.3 s)

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
def gnn_row(cost, miss, out):
    """:func:`gnn` compiled for one batch row: ``cost`` (T, M) with ``inf`` outside the gate,
    ``miss`` (T,) finite; writes ``out`` (T,) (-1: no report).  Only the tracks with a report
    they may take and the reports some track may take enter the solver."""
    T, M = cost.shape
    for t in range(T):
        out[t] = -1
    tr = np.empty(T, np.int64)
    nt = 0
    for t in range(T):
        for m in range(M):
            if cost[t, m] < miss[t]:
                tr[nt] = t
                nt += 1
                break
    if nt == 0:
        return
    rp = np.empty(M, np.int64)
    nr = 0
    for m in range(M):
        for i in range(nt):
            if cost[tr[i], m] < miss[tr[i]]:
                rp[nr] = m
                nr += 1
                break
    a = np.full((nt, nr + nt), _FORBIDDEN)
    for i in range(nt):
        for k in range(nr):
            c = cost[tr[i], rp[k]]
            if c < miss[tr[i]]:
                a[i, k] = c
        a[i, nr + i] = miss[tr[i]]
    col = np.empty(nt, np.int64)
    least_cost(a, nt, nr + nt, col)
    for i in range(nt):
        if col[i] < nr:
            out[tr[i]] = rp[col[i]]


@nb.njit(cache=True)
def gnn_rows(cost, miss, rows, out):
    """:func:`gnn_row` for the batch rows listed in ``rows``: ``cost`` (B, T, M), ``miss``
    (B, T), ``out`` (B, T) (other rows untouched)."""
    for b in rows:
        gnn_row(cost[b], miss[b], out[b])


# ---------------------------------------------------------------------------------------
# Sparse association for large scans: candidate pairs from a grid, then GNN per cluster
# ---------------------------------------------------------------------------------------

#: Factor on the gate's radius bound for the linearisation (:func:`gate_radius`).
GATE_MARGIN = 1.25


def report_positions(z: np.ndarray, site_ecef: np.ndarray, site_enu_matrix: np.ndarray) -> np.ndarray:
    """ECEF positions [m] (..., 3) of reports ``z`` (..., 3) (range [m], azimuth, elevation
    [rad]) from the site at ``site_ecef`` with local East-North-Up rows ``site_enu_matrix``
    (``nan`` for a report that is not finite)."""
    z = np.asarray(z, float)
    flat = np.ascontiguousarray(z.reshape(-1, 3))
    _, _, _, zi, rp = _gate_boxes(np.zeros((0, 6)), np.zeros((0, 6, 6)), np.zeros(0, bool), flat,
                                  np.ones(len(flat), bool), np.zeros((1, 3, 3)),
                                  np.ascontiguousarray(site_ecef, float).reshape(3),
                                  np.ascontiguousarray(site_enu_matrix, float).reshape(3, 3), 0.0, 0.0)
    out = np.full(flat.shape, np.nan)
    out[zi] = rp
    return out.reshape(z.shape)


def within_reach(x: np.ndarray, z: np.ndarray, site_ecef: np.ndarray, site_enu_matrix: np.ndarray,
                 reach: np.ndarray) -> np.ndarray:
    """(..., T, M) bool: report ``m`` of ``z`` (..., M, 3) lies less than ``reach[..., t]`` [m]
    from the position of track ``t`` of ``x`` (..., T, 6): the minimum-speed gate of the
    multi-target tracker (``reach`` is how far a one-point track's object has moved at
    least since its report, 0 where no such gate holds; :mod:`shieldlab.tracking.mtt`)."""
    pos = report_positions(z, site_ecef, site_enu_matrix)  # (..., M, 3)
    d2 = np.sum((pos[..., None, :, :] - x[..., :, None, :3]) ** 2, axis=-1)  # (..., T, M)
    with np.errstate(invalid="ignore"):
        return d2 < (np.asarray(reach, float) ** 2)[..., None]


def gate_radius(x: np.ndarray, P: np.ndarray, R: np.ndarray, site_ecef: np.ndarray, gate_d2: float,
                margin: float | None = None) -> np.ndarray:
    """Distance [m] (T,) beyond which no report can pass a track's gate ``d² <= gate_d2``: a
    bound for a spatial pre-gate, so that only nearby (track, report) pairs need a
    Mahalanobis distance.

    To first order ``ν = H Δ`` with ``Δ`` the report's position minus the track's predicted
    one, so ``d² = Δᵀ C⁻¹ Δ`` with ``C = P_pos + H⁻¹ R H⁻ᵀ`` and ``d² <= g`` implies
    ``|Δ|² <= g λmax(C) <= g trace(C)``.  ``trace(H⁻¹ R H⁻ᵀ) <= σ_r² + r² (σ_az² cos² el + σ_el²)``
    (an azimuth error moves a report ``r cos(el) δaz``, an elevation error ``r δel``), with
    the largest variances of ``R`` ((3, 3) or (M, 3, 3)); here with no reports' elevations,
    cos el is taken as 1 (a bound).  ``margin`` (default
    :data:`GATE_MARGIN`) covers the linearisation (second-order terms are ~``|Δ| / r`` of
    ``|Δ|``: 1 % for a 5 km gate at 500 km).  A track whose state is not finite gets radius 0."""
    margin = GATE_MARGIN if margin is None else float(margin)
    x, P = np.ascontiguousarray(x, float), np.ascontiguousarray(P, float)
    R = np.ascontiguousarray(np.asarray(R, float).reshape(-1, 3, 3))
    ti, _, rad, _, _ = _gate_boxes(x, P, np.ones(len(x), bool), np.zeros((len(R), 3)), np.ones(len(R), bool), R,
                                   np.ascontiguousarray(site_ecef, float).reshape(3), np.eye(3), gate_d2, margin)
    out = np.zeros(len(x))
    out[ti] = rad
    return out


def candidate_pairs(track_pos: np.ndarray, radius: np.ndarray, report_pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (track, report) pairs whose positions [m] lie within the track's ``radius`` [m]
    of each other, grouped by track: ``pair_track``, ``pair_report`` (K,) int64.

    A uniform grid over the reports (cells about the median radius, coarser where the
    reports would need more than :data:`MAX_CELLS_PER_REPORT` cells each), filled by a counting sort, and
    for each track a look into the cells its sphere's box touches (a track whose box covers
    more cells than there are reports checks every report).  Written by hand (compiled)
    rather than :class:`scipy.spatial.cKDTree`'s ``query_ball_point``, which returns a
    Python list per track: at 10,000 tracks that took 20 ms a scan, more than the filters
    (``bench/tracking.py``); tests hold the two to the same pairs."""
    tp = np.ascontiguousarray(track_pos, float).reshape(-1, 3)
    rp = np.ascontiguousarray(report_pos, float).reshape(-1, 3)
    rad = np.ascontiguousarray(radius, float).reshape(-1)
    if tp.shape[0] == 0 or rp.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    positive = rad[rad > 0]
    cell = max(float(np.median(positive)) if positive.size else 1.0, 1.0)
    extent = np.ptp(rp, axis=0)
    cap = max(MAX_CELLS_PER_REPORT * rp.shape[0], 4096)
    while np.prod(np.floor(extent / cell) + 1.0) > cap:
        cell *= 1.5
    return _grid_pairs(tp, rad, rp, cell)


#: Grid cells per report at most (with at least 4,096): bounds the grid's memory and set-up.
MAX_CELLS_PER_REPORT = 8


@nb.njit(cache=True)
def _grid_pairs(tp, rad, rp, cell):
    T, M = tp.shape[0], rp.shape[0]
    lo = np.empty(3)
    n = np.empty(3, np.int64)
    for a in range(3):
        lo[a] = rp[:, a].min()
        n[a] = int((rp[:, a].max() - lo[a]) / cell) + 1
    ncell = n[0] * n[1] * n[2]
    key = np.empty(M, np.int64)
    first = np.zeros(ncell + 1, np.int64)  # first[c]: where cell c's reports start
    for m in range(M):
        ix = min(int((rp[m, 0] - lo[0]) / cell), n[0] - 1)
        iy = min(int((rp[m, 1] - lo[1]) / cell), n[1] - 1)
        iz = min(int((rp[m, 2] - lo[2]) / cell), n[2] - 1)
        key[m] = (ix * n[1] + iy) * n[2] + iz
        first[key[m] + 1] += 1
    for c in range(ncell):
        first[c + 1] += first[c]
    fill = first[:-1].copy()
    order = np.empty(M, np.int64)
    srp = np.empty((M, 3))  # the reports in cell order: a cell's reports lie side by side
    for m in range(M):
        j = fill[key[m]]
        fill[key[m]] += 1
        order[j] = m
        srp[j, 0], srp[j, 1], srp[j, 2] = rp[m, 0], rp[m, 1], rp[m, 2]
    counts = np.zeros(T, np.int64)
    b0 = np.empty(3, np.int64)
    b1 = np.empty(3, np.int64)
    pair_track = np.empty(0, np.int64)
    pair_report = np.empty(0, np.int64)
    k = 0
    for sweep in range(2):  # count, then fill
        if sweep == 1:
            total = counts.sum()
            pair_track = np.empty(total, np.int64)
            pair_report = np.empty(total, np.int64)
        for t in range(T):
            r = rad[t]
            if not r > 0.0:
                continue
            r2 = r * r
            cells = 1
            for a in range(3):
                b0[a] = max(0, int(math.floor((tp[t, a] - r - lo[a]) / cell)))
                b1[a] = min(n[a] - 1, int(math.floor((tp[t, a] + r - lo[a]) / cell)))
                cells *= max(0, b1[a] - b0[a] + 1)
            if cells == 0:
                continue
            whole = cells > M  # a box wider than the reports: check them all
            for ix in range(b0[0], b1[0] + 1):
                for iy in range(b0[1], b1[1] + 1):
                    base = (ix * n[1] + iy) * n[2]
                    j0, j1 = first[base + b0[2]], first[base + b1[2] + 1]
                    if whole:
                        j0, j1 = 0, M
                    for j in range(j0, j1):
                        d0, d1, d2 = srp[j, 0] - tp[t, 0], srp[j, 1] - tp[t, 1], srp[j, 2] - tp[t, 2]
                        if d0 * d0 + d1 * d1 + d2 * d2 <= r2:
                            if sweep == 0:
                                counts[t] += 1
                            else:
                                pair_track[k] = t
                                pair_report[k] = order[j]
                                k += 1
                    if whole:
                        break
                if whole:
                    break
    return pair_track, pair_report


@nb.njit(cache=True)
def _root(parent, i):
    while parent[i] != i:
        parent[i] = parent[parent[i]]  # path halving
        i = parent[i]
    return i


@nb.njit(cache=True)
def gnn_pairs(pair_track, pair_report, cost, miss, T, M, out):
    """:func:`gnn` on a sparse cost: ``cost`` (K,) of the listed pairs (any pair not listed
    is forbidden), ``miss`` (T,) finite; writes ``out`` (T,) (-1: no report).  Tracks and
    reports linked by an allowed pair (cost below the track's miss) form clusters; each
    cluster is solved exactly by :func:`least_cost` on its own small matrix, which is the
    global optimum because clusters share nothing.  Cost grows with the clusters, not with
    ``T × M``."""
    for t in range(T):
        out[t] = -1
    K = pair_track.shape[0]
    parent = np.arange(T + M)
    keep = np.empty(K, np.bool_)
    for k in range(K):
        t = pair_track[k]
        keep[k] = cost[k] < miss[t]
        if keep[k]:
            a, b = _root(parent, t), _root(parent, T + pair_report[k])
            if a != b:
                parent[b] = a
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return
    roots = np.empty(idx.size, np.int64)
    for i in range(idx.size):
        roots[i] = _root(parent, pair_track[idx[i]])
    order = np.argsort(roots, kind="mergesort")
    loc = np.full(T + M, -1, np.int64)
    tracks = np.empty(T, np.int64)
    reports = np.empty(M, np.int64)
    start = 0
    while start < idx.size:
        stop = start
        while stop < idx.size and roots[order[stop]] == roots[order[start]]:
            stop += 1
        nt = nr = 0
        for i in range(start, stop):
            k = idx[order[i]]
            t, m = pair_track[k], T + pair_report[k]
            if loc[t] < 0:
                loc[t] = nt
                tracks[nt] = t
                nt += 1
            if loc[m] < 0:
                loc[m] = nr
                reports[nr] = m - T
                nr += 1
        if nt == 1:  # one track: its cheapest allowed report (all beat its miss)
            best, pick = np.inf, -1
            for i in range(start, stop):
                k = idx[order[i]]
                if cost[k] < best:
                    best, pick = cost[k], pair_report[k]
            out[tracks[0]] = pick
            loc[tracks[0]] = -1
            for i in range(nr):
                loc[T + reports[i]] = -1
            start = stop
            continue
        a = np.full((nt, nr + nt), _FORBIDDEN)
        for i in range(start, stop):
            k = idx[order[i]]
            a[loc[pair_track[k]], loc[T + pair_report[k]]] = cost[k]
        for i in range(nt):
            a[i, nr + i] = miss[tracks[i]]
        col = np.empty(nt, np.int64)
        least_cost(a, nt, nr + nt, col)
        for i in range(nt):
            if col[i] < nr:
                out[tracks[i]] = reports[col[i]]
            loc[tracks[i]] = -1
        for i in range(nr):
            loc[T + reports[i]] = -1
        start = stop


@nb.njit(cache=True)
def _gate_boxes(x, P, live, z, valid, R, site, enu, gate_d2, margin):
    """:func:`gate_radius` and :func:`report_positions` for one scan, compiled: the live
    tracks with finite state and covariance (indices, positions, radii) and the valid
    finite reports (indices, ECEF positions); ``R`` (1 or M, 3, 3), its largest variances
    over the valid reports bound the gate (the azimuth's times cos² of the report's elevation)."""
    T, M = x.shape[0], z.shape[0]
    zi = np.empty(M, np.int64)
    nz = 0
    var = np.zeros(3)
    for m in range(M):
        if valid[m] and np.isfinite(z[m, 0]) and np.isfinite(z[m, 1]) and np.isfinite(z[m, 2]):
            zi[nz] = m
            nz += 1
            Rk = R[m if R.shape[0] > 1 else 0]
            # an azimuth error moves a report r cos(el) daz: its variance (sigma² / cos² el,
            # records.report_covariance) times cos² el bounds it; the largest azimuth variance
            # alone, a report's near the zenith, had grown every gate ~14 times
            ce = math.cos(z[m, 2])
            var[0] = max(var[0], Rk[0, 0])
            var[1] = max(var[1], Rk[1, 1] * ce * ce)
            var[2] = max(var[2], Rk[2, 2])
    rp = np.empty((nz, 3))
    for k in range(nz):
        r, az, el = z[zi[k], 0], z[zi[k], 1], z[zi[k], 2]
        e, n_, u = r * math.cos(el) * math.sin(az), r * math.cos(el) * math.cos(az), r * math.sin(el)
        for a in range(3):
            rp[k, a] = site[a] + e * enu[0, a] + n_ * enu[1, a] + u * enu[2, a]
    ti = np.empty(T, np.int64)
    nt = 0
    for t in range(T):
        if not live[t]:
            continue
        good = True
        for i in range(6):
            if not np.isfinite(x[t, i]):
                good = False
            for j in range(6):
                if not np.isfinite(P[t, i, j]):
                    good = False
        if good:
            ti[nt] = t
            nt += 1
    tp = np.empty((nt, 3))
    rad = np.empty(nt)
    for k in range(nt):
        t = ti[k]
        r2 = 0.0
        for a in range(3):
            tp[k, a] = x[t, a]
            r2 += (x[t, a] - site[a]) ** 2
        tr = P[t, 0, 0] + P[t, 1, 1] + P[t, 2, 2] + var[0] + r2 * (var[1] + var[2])
        rad[k] = margin * math.sqrt(gate_d2 * tr) if tr >= 0.0 else 0.0
    return ti[:nt], tp, rad, zi[:nz], rp


def associate(x: np.ndarray, P: np.ndarray, z: np.ndarray, R: np.ndarray, site_ecef: np.ndarray,
              site_enu_matrix: np.ndarray, gate_d2: float, cost: str = "distance",
              live: np.ndarray | None = None, valid: np.ndarray | None = None,
              reach: np.ndarray | None = None) -> np.ndarray:
    """Gate and assign one scan's reports to tracks without forming every pair: the
    scalable path for scans of thousands of objects.

    Parameters
    ----------
    x, P : (T, 6), (T, 6, 6)
        Tracks predicted to the scan time (ECEF [m, m/s]); a non-finite one takes nothing.
    z : (M, 3)
        Reports: range [m], azimuth, elevation [rad].
    R : (3, 3) or (M, 3, 3)
        Measurement-noise covariance, one for all or each report's own.
    site_ecef, site_enu_matrix : (3,), (3, 3)
        The sensor's position [m] and local East-North-Up rows.
    gate_d2 : float
        χ² gate on ``d²`` (:func:`gate`).
    cost : ``"distance"`` or ``"likelihood"``
        ``"distance"``: the Mahalanobis distance ``d`` with ``sqrt(gate_d2)`` for no
        report (Stone Soup's ``DistanceHypothesiser`` with ``GNNWith2DAssignment``);
        ``"likelihood"``: ``d² + ln det S`` with, for no report, the gate plus the
        largest ``ln det S`` of all gated pairs, the same for every track (the
        multi-target tracker's: the tighter of two tracks takes a report both gate).
    live, valid : (T,), (M,) bool, optional
        Which track slots hold a track and which report slots a report; default: the
        finite ones (a slot must also be finite to count).
    reach : (T,) float, optional
        The minimum-speed gate (:func:`within_reach`): a track takes no report nearer to it
        than this [m]; default none.

    Returns
    -------
    (T,) int
        The report each track takes, -1 for none: the same assignment as :func:`gnn` on
        the full cost matrix (tests), found by a grid pre-gate (:func:`gate_radius`,
        :func:`candidate_pairs`), distances of the candidate pairs only
        (:func:`shieldlab.tracking.ekf_kernel.distances_pairs`) and GNN per cluster
        (:func:`gnn_pairs`).
    """
    x = np.ascontiguousarray(x, float)
    P = np.ascontiguousarray(P, float)
    z = np.ascontiguousarray(z, float).reshape(-1, 3)
    T, M = x.shape[0], z.shape[0]
    out = np.full(T, -1, np.int64)
    if cost not in ("distance", "likelihood"):
        raise ValueError(f"associate: cost must be 'distance' or 'likelihood', not {cost!r}")
    if T == 0 or M == 0:
        return out
    site = np.ascontiguousarray(site_ecef, float).reshape(3)
    enu = np.ascontiguousarray(site_enu_matrix, float).reshape(3, 3)
    R = np.asarray(R, float)
    Rm = np.ascontiguousarray(R.reshape(1, 3, 3) if R.ndim == 2 else np.broadcast_to(R, (M, 3, 3)))
    live_in = np.ones(T, bool) if live is None else np.ascontiguousarray(live, bool)
    ok_in = np.ones(M, bool) if valid is None else np.ascontiguousarray(valid, bool)
    ti, tp, radius, zi, rp = _gate_boxes(x, P, live_in, z, ok_in, Rm, site, enu, gate_d2, GATE_MARGIN)
    if ti.size == 0 or zi.size == 0:
        return out
    pt, pm = candidate_pairs(tp, radius, rp)
    pt, pm = ti[pt], zi[pm]
    d2, log_det = np.empty(pt.size), np.empty(pt.size)
    ekf_kernel.distances_pairs(x, P, pt, pm, z, Rm, site, enu, d2, log_det)  # Rm (1, 3, 3): shared
    inside = d2 <= gate_d2
    if reach is not None:  # (computed on the candidate pairs only)
        near = np.sum((report_positions(z[pm], site, enu) - x[pt, :3]) ** 2, axis=-1) < np.asarray(reach)[pt] ** 2
        inside &= ~near
    pt, pm, d2, log_det = pt[inside], pm[inside], d2[inside], log_det[inside]
    if cost == "distance":
        c, miss = np.sqrt(d2), np.full(T, np.sqrt(gate_d2))
    else:
        c = d2 + log_det
        miss = np.full(T, gate_d2 + (log_det.max() if log_det.size else 0.0))
    gnn_pairs(pt, pm, c, miss, T, M, out)
    return out
