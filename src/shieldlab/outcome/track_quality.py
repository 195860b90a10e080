"""Track quality of every run: how well each system's picture matched the truth.

Scoring, like kill assessment, may read the truth; nothing computed here goes back into
the kill chain.  Per run and per system (C2 node picture), on an evaluation clock every
:data:`EVAL_STEP_S` seconds from the first launch:

* the **truth set** at time ``t``: the threats in flight (launched, not yet landed) and
  not yet destroyed;
* the **track set**: the system's confirmed tracks, each from its confirmation to its
  last detection (the tracker deletes no track yet: a track counts until the last report
  it assimilated, or until its threat is destroyed, where the engine ends the reports),
  read at its latest update at or before ``t``;
* **GOSPA** (generalised optimal sub-pattern assignment; Rahmathullah, García-Fernández
  & Svensson, *Generalized optimal sub-pattern assignment metric*, FUSION 2017) with
  ``alpha = 2``, cut-off ``c`` = :data:`GOSPA_C_M` and order ``p`` = :data:`GOSPA_P`::

      GOSPA(X, Y) = ( min_gamma sum_(i,j in gamma) d(x_i, y_j)^p + c^p / 2 (|X| + |Y| - 2 |gamma|) )^(1/p)

  over assignments ``gamma`` of tracks to targets with ``d < c`` (Euclidean ECEF
  position error); the minimum is a linear assignment on ``min(d, c)^p``
  (:func:`scipy.optimize.linear_sum_assignment`), a pair at ``d >= c`` counting as one
  missed target and one false track.  Reported per run: the mean GOSPA over the clock
  instants where either set is non-empty, and its parts: the localisation RMS error of
  the assigned pairs, the mean number of missed targets and of false tracks;
* **position and velocity RMSE** of each threat's own track (the truth label rides along
  for scoring only), over the instants where the threat flies and its track is present;
* **filter consistency** of each threat's own track at its updates that assimilated a
  detection, while it flew: the mean NEES and the share above its 99 % point
  (:mod:`shieldlab.outcome.consistency`);
* **time to first firm track** of each threat after its launch (the first confirmation).

Each track is read at its latest update at or before the clock instant and compared with
the truth at that update's time: the error of the estimate, not the staleness of a slow
radar's last update.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from shieldlab.flyout.interp import in_flight, state_at
from shieldlab.flyout.records import Trajectories
from shieldlab.outcome import consistency
from shieldlab.tracking.records import Tracks

#: GOSPA cut-off [m]: an error beyond it counts as a missed target plus a false track.
GOSPA_C_M = 5000.0
#: GOSPA order.
GOSPA_P = 2.0
#: Evaluation clock [s].
EVAL_STEP_S = 4.0


@dataclass(frozen=True)
class TrackQuality:
    """Track quality of one system over a chunk of C runs (arrays (C,); ``nan`` where undefined)."""

    system: str
    gospa_m: np.ndarray  # mean GOSPA [m] over the evaluation instants
    localisation_m: np.ndarray  # RMS position error of the GOSPA-assigned pairs [m]
    missed: np.ndarray  # mean number of missed targets per instant
    false: np.ndarray  # mean number of false tracks per instant
    position_rmse_m: np.ndarray  # each threat's own track against it [m]
    velocity_rmse_ms: np.ndarray  # [m/s]
    time_to_firm_track_s: np.ndarray  # (C, N): first confirmation after launch [s]; inf: never
    instants: np.ndarray  # evaluation instants counted
    mean_nees: np.ndarray  # mean NEES of each threat's own track (6 for a consistent filter)
    nees_over_99: np.ndarray  # share of those NEES above chi-square(6)'s 99 % point (0.01 if consistent)
    nees_updates: np.ndarray  # int: the updates those two were scored over


class Gospa(NamedTuple):
    """GOSPA between two sets and its parts."""

    value: float  # [m]
    localisation: float  # sum over assigned pairs of d^p [m^p]
    assigned: int
    missed: int
    false: int


def gospa(X: np.ndarray, Y: np.ndarray, c: float = GOSPA_C_M, p: float = GOSPA_P) -> Gospa:
    """GOSPA (alpha = 2) between truth positions ``X`` (n, 3) and estimates ``Y`` (m, 3) [m]."""
    n, m = len(X), len(Y)
    if n == 0 or m == 0:
        return Gospa(float((0.5 * c**p * (n + m)) ** (1 / p)), 0.0, 0, n, m)
    d = np.linalg.norm(X[:, None, :] - Y[None, :, :], axis=-1)
    cost = np.minimum(d, c) ** p
    from scipy.optimize import linear_sum_assignment  # (here: scipy.optimize costs an import ~0.3 s)

    r, k = linear_sum_assignment(cost)
    real = d[r, k] < c
    loc = float(np.sum(cost[r, k][real]))
    assigned = int(real.sum())
    missed, false = n - assigned, m - assigned
    return Gospa(float((loc + 0.5 * c**p * (missed + false)) ** (1 / p)), loc, assigned, missed, false)


#: Most (instant, truth, track) distances :func:`_gospa_instants` holds at once: its
#: temporaries are quadratic in the threats (a 96-threat raid over 225 instants took
#: 200 MB at once); each instant is scored alone, so blocks of instants give the same bits.
_GOSPA_BLOCK = 1 << 18


def _gospa_instants(X, Y, fx, fy, c: float = GOSPA_C_M, p: float = GOSPA_P):
    """:func:`gospa` at every instant of one run: truth ``X`` and tracks ``Y`` (N, E, 3) by
    threat label, present where ``fx``, ``fy`` (N, E).  Returns arrays (E,): value,
    localisation sum, assigned, missed, false, and whether either set is non-empty.

    Fast path, exact: where every member of the smaller set has its own label in the other
    set and no other member of the other set is closer to it (under the cut-off), the
    label pairing attains the lower bound sum of row minima of any assignment, so it is
    optimal; elsewhere the linear assignment of :func:`gospa` decides.  Computed in blocks
    of instants (:data:`_GOSPA_BLOCK`)."""
    N, E = fx.shape
    step = max(1, _GOSPA_BLOCK // max(N * N, 1))
    if E > step:
        parts = [_gospa_instants(X[:, e:e + step], Y[:, e:e + step], fx[:, e:e + step], fy[:, e:e + step], c, p)
                 for e in range(0, E, step)]
        return tuple(np.concatenate(q) for q in zip(*parts))
    d = np.linalg.norm(X.transpose(1, 0, 2)[:, :, None, :] - Y.transpose(1, 0, 2)[:, None, :, :], axis=-1)  # (E,N,N)
    cost = np.minimum(np.nan_to_num(d, nan=np.inf), c) ** p
    fxe, fye = fx.T, fy.T  # (E, N)
    n, m = fxe.sum(axis=1), fye.sum(axis=1)
    both = fxe & fye
    diag = np.diagonal(cost, axis1=1, axis2=2)  # (E, N)
    row_min = np.min(np.where(fye[:, None, :], cost, np.inf), axis=2)  # per truth, over present tracks
    col_min = np.min(np.where(fxe[:, :, None], cost, np.inf), axis=1)  # per track, over flying truths
    # (E,) each; annotated, or numpy's stubs take the np.where below for its one-argument form
    rows_ok: np.ndarray = np.all(~fxe | (both & (diag <= row_min)), axis=1)
    cols_ok: np.ndarray = np.all(~fye | (both & (diag <= col_min)), axis=1)
    fast = np.where(n <= m, rows_ok, cols_ok)
    real = both & (np.nan_to_num(np.diagonal(d, axis1=1, axis2=2), nan=np.inf) < c)
    assigned = real.sum(axis=1)
    loc = np.where(real, diag, 0.0).sum(axis=1)
    missed, false = n - assigned, m - assigned
    value = (loc + 0.5 * c**p * (missed + false)) ** (1 / p)
    for e in np.flatnonzero(~fast & ((n > 0) | (m > 0))):
        r = gospa(X[fxe[e], e], Y[fye[e], e], c, p)
        value[e], loc[e], assigned[e], missed[e], false[e] = r
    return value, loc, assigned, missed, false, (n > 0) | (m > 0)


def _present(tr: Tracks, k: np.ndarray) -> np.ndarray:
    """(..., E) whether each track is present at update indices ``k`` (E,): confirmed and not
    past its last detection."""
    hits = tr.n_hits
    last = np.max(np.where(np.diff(hits, axis=-1, prepend=0) > 0, np.arange(hits.shape[-1]), -1), axis=-1)
    kk = np.maximum(k, 0)
    return tr.confirmed[..., kk] & (kk <= last[..., None]) & (k >= 0)


def evaluate(tr: Tracks, truth: Trajectories, destroyed: np.ndarray, step_s: float = EVAL_STEP_S) -> TrackQuality:
    """Track quality of system ``tr`` against ``truth`` (batch (C, N)); ``destroyed`` (C, N) the
    time each threat was destroyed [s] (``nan`` or ``inf``: never)."""
    C, N = truth.batch_shape
    launch = np.broadcast_to(truth.launch_time, (C, N))
    t0 = float(np.min(launch))
    t_end = float(min(truth.t[-1], tr.t[-1]))
    t = t0 + step_s * np.arange(max(int(np.floor((t_end - t0) / step_s)) + 1, 0))
    k = np.searchsorted(tr.t, t, side="right") - 1
    kk = np.maximum(k, 0)
    gone = np.where(np.isfinite(destroyed), destroyed, np.inf)
    flying = in_flight(truth, t) & (t < gone[..., None])  # (C, N, E)
    # each track is compared with the truth at its own update time: the estimation error,
    # without the staleness of a slow radar's last update
    pos_true, vel_true = state_at(truth, tr.t[kk])  # (C, N, E, 3)
    # the engine ends a destroyed threat's reports at the intercept (what fire control sees);
    # the tracks record was built before the fight, on every report: cut it there too
    present = _present(tr, k) & (t < gone[..., None])  # (C, N, E)
    x = tr.x[:, :, kk]  # (C, N, E, 6)
    g = np.full(C, np.nan)
    loc_rms = np.full(C, np.nan)
    missed, false = np.full(C, np.nan), np.full(C, np.nan)
    count = np.zeros(C, int)
    for c in range(C):
        parts = _gospa_instants(pos_true[c], x[c, ..., :3], flying[c], present[c])
        val, loc, assigned, mi, fa, used = parts
        n = int(used.sum())
        if n:
            g[c], missed[c], false[c] = val[used].mean(), mi[used].mean(), fa[used].mean()
            n_pair = assigned[used].sum()
            loc_rms[c] = np.sqrt(loc[used].sum() / n_pair) if n_pair else np.nan
        count[c] = n
    both = flying & present
    err_p = np.linalg.norm(x[..., :3] - pos_true, axis=-1)
    err_v = np.linalg.norm(x[..., 3:] - vel_true, axis=-1)
    n_both = both.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p_rmse = np.sqrt(np.where(both, err_p**2, 0.0).sum(axis=(1, 2)) / n_both)
        v_rmse = np.sqrt(np.where(both, err_v**2, 0.0).sum(axis=(1, 2)) / n_both)
    mean_nees, over_99, n_nees = _consistency(tr, truth, gone)
    return TrackQuality(system=tr.system, gospa_m=g, localisation_m=loc_rms, missed=missed, false=false,
                        position_rmse_m=np.where(n_both > 0, p_rmse, np.nan),
                        velocity_rmse_ms=np.where(n_both > 0, v_rmse, np.nan),
                        # (a confirmation after the threat's destruction is of nothing)
                        time_to_firm_track_s=np.where(tr.confirm_time <= gone, tr.confirm_time - launch, np.inf),
                        instants=count, mean_nees=mean_nees, nees_over_99=over_99, nees_updates=n_nees)


def _consistency(tr: Tracks, truth: Trajectories, gone: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per run, the mean NEES of each threat's own track, the share above its 99 % point and
    the number scored (:func:`shieldlab.outcome.consistency.per_run`), over the updates that assimilated a detection
    while the track was present and its threat flew (``gone`` (C, N): destroyed at [s])."""
    C = truth.batch_shape[0]
    K = tr.t.size
    detected = np.diff(tr.n_hits, axis=-1, prepend=0) > 0
    scored = detected & _present(tr, np.arange(K)) & in_flight(truth, tr.t) & (tr.t < gone[..., None])
    cc, nn, kk = np.nonzero(scored)
    pos, vel = state_at(truth, tr.t[kk], index=(cc, nn))
    assert vel is not None  # asked for
    err = tr.x[cc, nn, kk] - np.concatenate([pos, vel], axis=1)
    return consistency.per_run(cc, consistency.nees(err, tr.P, (cc, nn, kk)), C)


def columns(world, chunk) -> dict[str, np.ndarray]:
    """One row per (run, system) of a chunk (:class:`TrackQuality` of each C2 node's picture;
    where the tracks came from reports without labels, the track file's quality,
    :mod:`shieldlab.outcome.file_quality`, with its breaks, false and booster tracks, of each
    picture and of each battery's own radar's file, system ``"radar NAME"``)."""
    destroyed = chunk.outcomes.intercept_time
    if chunk.files:
        return _file_columns(chunk, destroyed)
    parts = []
    # each C2 node's picture, the tracks its fire control read: its own, or with the tracks
    # its links brought in fused (coordinated, sectoral); a node that fired on relayed tracks
    # alone showed no threat tracked
    pictures = chunk.pictures or chunk.tracks
    for name in sorted(pictures):
        q = evaluate(pictures[name], chunk.truth, destroyed)
        parts.append({**_row(chunk, name, q), "instants": q.instants.astype(np.int32)})
    if not parts:
        return {}
    return {k: np.concatenate([p_[k] for p_ in parts]) for k in parts[0]}


def _row(chunk, name: str, q) -> dict[str, np.ndarray]:
    """The columns every kind of track quality ``q`` of picture ``name`` has, one row per run."""
    C = q.gospa_m.shape[0]
    firm = np.where(np.isfinite(q.time_to_firm_track_s), q.time_to_firm_track_s, np.nan)
    with warnings.catch_warnings():  # a run whose threats were never tracked: nan
        warnings.simplefilter("ignore", RuntimeWarning)
        median_firm = np.nanmedian(firm, axis=1)
    return {
        "run": np.arange(chunk.first_run, chunk.first_run + C, dtype=np.int32),
        "system": np.full(C, name, dtype=object),
        "gospa_m": q.gospa_m, "localisation_m": q.localisation_m,
        "missed_targets": q.missed, "false_tracks": q.false,
        "position_rmse_m": q.position_rmse_m, "velocity_rmse_ms": q.velocity_rmse_ms,
        "mean_nees": q.mean_nees, "nees_over_99": q.nees_over_99, "nees_updates": q.nees_updates.astype(np.int32),
        "threats_tracked": np.isfinite(firm).sum(axis=1).astype(np.int32),
        "median_time_to_firm_track_s": median_firm,
    }


def _file_columns(chunk, destroyed) -> dict[str, np.ndarray]:
    from shieldlab.outcome import file_quality

    parts = []
    # every track file fire control read: the pictures', and a battery's own radar's ("radar NAME")
    files = chunk.track_files
    for name in sorted(files):
        tf, reps = files[name]
        q = file_quality.evaluate(tf, reps, chunk.truth, destroyed, origin=chunk.origins.get(name))
        parts.append({**_row(chunk, name, q), "track_breaks": q.track_breaks.astype(np.int32),
                      "false_tracks_per_hour": q.false_tracks_per_hour,
                      "booster_tracks": q.booster_tracks.astype(np.int32), "purity": q.purity,
                      "own_booster_share": q.own_booster_share})
    return {k: np.concatenate([p_[k] for p_ in parts]) for k in parts[0]}
