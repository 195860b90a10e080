"""Track quality of a multi-target track file: what association made of the objects.

Scoring may read the truth; nothing here goes back into the kill chain.  A
:class:`~shieldlab.tracking.mtt.TrackFile` knows, per update, which report each track
assimilated (its lineage); the sensors' :class:`~shieldlab.sensors.records.Reports` know
which object made each report.  Together they give each track its **label**: the object
that made most of its reports over its life (a threat ``n``, the spent booster ``N + n``
of threat ``n``, or a false alarm).  Per run:

A confirmed track's errors and GOSPA count from its confirmation to its last report (after
it, a track coasts on a prediction no radar holds), as the one-per-threat tracks are scored;
the counts of tracks (false, booster, breaks) take every track ever confirmed, as the tracks
table lists them (one confirmed only after its last report included).

* **GOSPA** against every real object in the air, threats in flight and spent boosters
  present (a track on a booster is a good track of a real object; telling it from the
  warhead is discrimination, not association), as in
  :mod:`shieldlab.outcome.track_quality` (α = 2, cut-off ``c`` = 5 km, ``p`` = 2), on a
  clock every 4 s from the first launch, each confirmed track read at its latest update.
* **Position and velocity RMSE** of the confirmed tracks labelled with a threat, against
  that threat at each update.
* **Filter consistency** of the same tracks at the updates that assimilated a report, where
  the file holds their covariance (the fire-control columns: confirmed tracks judged a
  warhead): the mean NEES and the share above its 99 % point
  (:mod:`shieldlab.outcome.consistency`).
* **Track breaks**: per threat, the number of track numbers its confirmed tracks carried,
  less one (0 for a threat followed by one track from first confirmation to the end, or
  never tracked); summed over the threats.  A track that lost the warhead and was started
  again, or a warhead whose track jumped to its booster and back, counts here.
* **False tracks per hour**: confirmed tracks labelled a false alarm, per hour of
  tracking (from the first launch to the end of the track file).
* **Booster tracks**: confirmed tracks labelled a spent booster.
* **Time to first firm track** of each threat: its first confirmed track, from launch.
* **Purity**: of the reports the confirmed threat-labelled tracks took (while scored, as
  for the RMSE), the share their own threat made; and the share its spent booster made
  (``own_booster_share``). The rest came from other threats, their boosters or false
  alarms: a track that took another missile's report (a swap) or mixed a warhead with
  its booster (a ghost) lowers it where the RMSE may not show it.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numba as nb
import numpy as np

from shieldlab.flyout.interp import in_flight, state_at
from shieldlab.flyout.records import Trajectories
from shieldlab.outcome import consistency
from shieldlab.outcome.track_quality import EVAL_STEP_S, GOSPA_C_M, GOSPA_P
from shieldlab.sensors import boosters
from shieldlab.sensors.records import FALSE_ALARM, Reports
from shieldlab.tracking.association import least_cost
from shieldlab.tracking.mtt import CONFIRMED, TrackFile, split_report_id

#: Label of a track none of whose reports had an object behind it (a false track).
FALSE_TRACK = FALSE_ALARM
#: The fields of :class:`FileQuality` that are shares (their intervals cut at 1 as well as at 0).
SHARES = ("purity", "own_booster_share")


def labels(tf: TrackFile, reports: list[Reports], origin: np.ndarray | None = None) -> np.ndarray:
    """(C, T, K) int: the label of the track holding each slot at each time (the object
    behind most of its reports over its life), -2 where the slot is free; ``origin``, where
    given, is :func:`report_origin` of the same file and reports."""
    C = tf.track_id.shape[0]
    out = np.full(tf.track_id.shape, -2, np.int64)
    held = tf.track_id >= 0
    run = np.broadcast_to(np.arange(C)[:, None, None], tf.track_id.shape)
    out[held] = label_of(tf, reports, run[held], tf.track_id[held], origin)
    return out


def report_origin(tf: TrackFile, reports: list[Reports]) -> np.ndarray:
    """(C, T, K) int: the object behind the report each slot took at each time (the
    reports' ``truth_id``: threat ``n``, its booster ``N + n``, -1 a false alarm), -2 where
    it took none (scoring only)."""
    C = tf.track_id.shape[0]
    truth_of = np.full(tf.report.shape, -2, np.int64)
    have = tf.report >= 0
    s, k, m = split_report_id(np.where(have, tf.report, 0))
    cc = np.broadcast_to(np.arange(C)[:, None, None], tf.report.shape)
    for i, rep in enumerate(reports):
        sel = have & (s == i)
        truth_of[sel] = rep.truth_id[cc[sel], k[sel], m[sel]]
    return truth_of


#: The last few majority tables :func:`_majority` made, with weak references to the file and
#: origin they are of (a table is theirs while both live; holding them would keep a finished
#: chunk's track file in memory): a chunk asks for a file's labels about seven times (fire
#: control's targets, the tables, the track quality), each time over the whole file.
_MAJORITY_MEMO: list[tuple] = []
_MAJORITY_KEPT = 4


def _majority(tf: TrackFile, reports: list[Reports], truth_of: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """``(span, best_key, best_lab)``: each (run, track number) of ``tf`` as ``run * span +
    number`` (sorted) and the object behind most of its reports (ties: the lowest id), from
    ``truth_of`` (:func:`report_origin`).  Made once per file and origin (the same objects,
    unchanged: neither is written after it is made)."""
    for held_tf, held_origin, held_n, out in list(_MAJORITY_MEMO):
        if held_tf() is tf and held_origin() is truth_of and held_n == len(reports):
            return out
    C = tf.track_id.shape[0]
    cc = np.broadcast_to(np.arange(C)[:, None, None], tf.report.shape)
    # majority per (run, track number): count (run, track, label) triples
    sel = truth_of != -2
    span = int(tf.track_id.max(initial=0)) + 1
    L = max(r.n_threats for r in reports) * 2 + 1  # labels -1 .. 2N-1, shifted by one
    key = (cc[sel] * span + tf.track_id[sel]) * L + (truth_of[sel] + 1)
    uniq, counts = np.unique(key, return_counts=True)
    track_key, lab = uniq // L, uniq % L - 1
    order = np.lexsort((-counts, track_key))  # per track, the most frequent label first (ties: lowest)
    first = np.ones(order.size, bool)
    first[1:] = track_key[order][1:] != track_key[order][:-1]
    out = (span, track_key[order][first], lab[order][first])
    _MAJORITY_MEMO.insert(0, (weakref.ref(tf), weakref.ref(truth_of), len(reports), out))
    del _MAJORITY_MEMO[_MAJORITY_KEPT:]
    return out


def label_of(tf: TrackFile, reports: list[Reports], run: np.ndarray, track_id: np.ndarray,
             origin: np.ndarray | None = None) -> np.ndarray:
    """The label of track number ``track_id`` of run ``run`` (broadcast together): the object
    behind most of the reports in its lineage (ties: the lowest id); a track none of whose
    reports is in ``tf`` reads as :data:`FALSE_TRACK`.  ``origin``: :func:`report_origin`,
    where already made."""
    truth_of = report_origin(tf, reports) if origin is None else origin
    span, best_key, best_lab = _majority(tf, reports, truth_of)
    want = np.asarray(run, np.int64) * span + np.asarray(track_id, np.int64)
    if best_key.size == 0:
        return np.full(want.shape, FALSE_TRACK, np.int64)
    pos = np.minimum(np.searchsorted(best_key, want), best_key.size - 1)
    return np.where(best_key[pos] == want, best_lab[pos], FALSE_TRACK)


def judged_boosters(tf: TrackFile, reports: list[Reports], n_threats: int,
                    origin: np.ndarray | None = None) -> np.ndarray:
    """(C, N) bool: the threats a confirmed track of ``tf`` followed (its label) that the
    radars' discrimination calls never judged a warhead while it was confirmed, and that no
    other confirmed track judged a warhead followed: fire control, which reads only tracks
    judged warheads, never had one of them (scoring only: the decision log says so rather
    than "no track").  All False where the file holds no calls (every track a warhead)."""
    return judged_booster_tracks(tf, reports, n_threats, origin) >= 0


def judged_booster_tracks(tf: TrackFile, reports: list[Reports], n_threats: int,
                          origin: np.ndarray | None = None) -> np.ndarray:
    """(C, N) int: for each threat :func:`judged_boosters` names, the number of its first
    confirmed track in ``tf`` (the earliest confirmed; of two at once, the lower number): the
    track the log's ``judged-booster`` rows are of; -1 for the other threats."""
    C = tf.track_id.shape[0]
    if tf.warhead is None:
        return np.full((C, n_threats), -1, np.int64)
    lab = labels(tf, reports, origin)
    K = tf.track_id.shape[2]
    none = np.iinfo(np.int64).max

    def first(where: np.ndarray) -> np.ndarray:  # (C, N): the earliest track where ``where`` labelled each threat
        cc, ss, kk = np.nonzero(where)
        obj = lab[cc, ss, kk]
        ok = (obj >= 0) & (obj < n_threats)
        cc, ss, kk, obj = cc[ok], ss[ok], kk[ok], obj[ok]
        k0 = np.full((C, n_threats), K, np.int64)
        np.minimum.at(k0, (cc, obj), kk)
        at = kk == k0[cc, obj]
        tid = np.full((C, n_threats), none, np.int64)
        np.minimum.at(tid, (cc[at], obj[at]), tf.track_id[cc[at], ss[at], kk[at]])
        return np.where(tid == none, -1, tid)

    confirmed = tf.status == CONFIRMED
    return np.where(first(confirmed & tf.warhead) >= 0, -1, first(confirmed))


def after_kills(lab: np.ndarray, t: np.ndarray, destroyed: np.ndarray) -> np.ndarray:
    """(C, T, K) bool: the entries of a track file, labelled ``lab`` (:func:`labels`) at update
    times ``t`` (K,), of tracks whose object is a threat destroyed in flight, from its
    destruction on (``destroyed`` (C, N) [s]; ``nan`` or ``inf``: never): where the fight
    ended that threat's tracks (it is no longer an object in the air)."""
    C, N = destroyed.shape
    gone = np.where(np.isfinite(destroyed), destroyed, np.inf)
    fed = (lab >= 0) & (lab < N)
    cut = np.take_along_axis(gone, np.where(fed, lab, 0).reshape(C, -1), axis=1).reshape(lab.shape)
    return fed & (t >= cut)


def _until_last_report(tf: TrackFile) -> np.ndarray:
    """(C, T, K) bool: at or before the last report of the track holding the slot (a track
    coasting after it is a prediction no radar holds: scored as the one-per-threat tracks
    are, from confirmation to last detection)."""
    C, T, K = tf.track_id.shape
    span = int(tf.track_id.max(initial=0)) + 1
    run = np.broadcast_to(np.arange(C)[:, None, None], tf.track_id.shape)
    kk = np.broadcast_to(np.arange(K), tf.track_id.shape)
    held = tf.track_id >= 0
    key = np.where(held, run * span + tf.track_id, 0)
    last = np.full(C * span, -1)
    hit = held & (tf.report >= 0)
    np.maximum.at(last, key[hit], kk[hit])
    return held & (kk <= last[key])


@nb.njit(cache=True)
def gospa_instants(X, fx, Y, fy, c, p, out):
    """:func:`shieldlab.outcome.track_quality.gospa` at every instant of one run, compiled:
    objects ``X`` (n, E, 3) present where ``fx`` (n, E), tracks ``Y`` (m, E, 3) present where
    ``fy`` (m, E); ``out`` (E, 5) gets the value, the localisation sum, and the numbers of
    assigned pairs, missed objects and false tracks.  The least-cost assignment of
    ``min(d, c)^p`` is exact (:func:`shieldlab.tracking.association.least_cost`)."""
    E = fx.shape[1]
    cp = c**p
    for e in range(E):
        xi = np.flatnonzero(fx[:, e])
        yi = np.flatnonzero(fy[:, e])
        n, m = xi.size, yi.size
        loc = 0.0
        assigned = 0
        if n > 0 and m > 0:
            rows, cols = (n, m) if n <= m else (m, n)
            a = np.empty((rows, cols))
            dist = np.empty((rows, cols))
            for i in range(n):
                for j in range(m):
                    dx = X[xi[i], e, 0] - Y[yi[j], e, 0]
                    dy = X[xi[i], e, 1] - Y[yi[j], e, 1]
                    dz = X[xi[i], e, 2] - Y[yi[j], e, 2]
                    d = np.sqrt(dx * dx + dy * dy + dz * dz)
                    r, k = (i, j) if n <= m else (j, i)
                    dist[r, k] = d
                    a[r, k] = min(d, c) ** p
            col = np.empty(rows, np.int64)
            least_cost(a, rows, cols, col)
            for r in range(rows):
                if dist[r, col[r]] < c:
                    loc += a[r, col[r]]
                    assigned += 1
        missed, false = n - assigned, m - assigned
        out[e, 0] = (loc + 0.5 * cp * (missed + false)) ** (1.0 / p)
        out[e, 1] = loc
        out[e, 2] = assigned
        out[e, 3] = missed
        out[e, 4] = false


@dataclass(frozen=True)
class FileQuality:
    """Track quality of one system's track file over C runs (arrays (C,), ``nan`` where undefined)."""

    system: str
    gospa_m: np.ndarray
    localisation_m: np.ndarray
    missed: np.ndarray  # mean missed objects per instant
    false: np.ndarray  # mean false or surplus tracks per instant
    position_rmse_m: np.ndarray
    velocity_rmse_ms: np.ndarray
    track_breaks: np.ndarray  # int, summed over threats
    false_tracks: np.ndarray  # int: confirmed tracks labelled a false alarm
    false_tracks_per_hour: np.ndarray
    booster_tracks: np.ndarray  # int
    time_to_firm_track_s: np.ndarray  # (C, N); inf: never
    hours: float  # tracking time the rates are per
    mean_nees: np.ndarray  # of the threat-labelled updates with a covariance; 6 if consistent
    nees_over_99: np.ndarray  # their share above chi-square(6)'s 99 % point; 0.01 if consistent
    nees_updates: np.ndarray  # int: how many
    # of the reports the threat-labelled tracks took: the share their own threat made (1 for
    # a pure track file), and the share its spent booster made; the rest came from other
    # threats, their boosters or false alarms
    purity: np.ndarray
    own_booster_share: np.ndarray


def evaluate(tf: TrackFile, reports: list[Reports], truth: Trajectories, destroyed: np.ndarray | None = None,
             step_s: float = EVAL_STEP_S, c_m: float = GOSPA_C_M, p: float = GOSPA_P,
             origin: np.ndarray | None = None) -> FileQuality:
    """Score the track file ``tf`` of reports ``reports`` against ``truth`` (batch (C, N));
    ``destroyed`` (C, N): when each threat was destroyed [s] (``nan``/``inf``: never): from
    then on it is no longer an object in the air, and the tracks it fed (built from its full
    flight, before the fight) no longer count.  ``origin``: :func:`report_origin` of ``tf``
    and ``reports``, where already made."""
    C, N = truth.batch_shape
    origin = report_origin(tf, reports) if origin is None else origin
    lab = labels(tf, reports, origin)
    conf = tf.status == CONFIRMED
    gone = np.full((C, N), np.inf) if destroyed is None else np.where(np.isfinite(destroyed), destroyed, np.inf)
    conf &= ~after_kills(lab, tf.t, gone)
    # a track is counted (false, booster, a break) if it was ever confirmed, as the tracks
    # table lists it (one confirmed only after its last report is a track fire control could
    # engage); its errors, GOSPA and a first firm track count to its last report only
    ever = conf.copy()
    conf &= _until_last_report(tf)
    launch = np.broadcast_to(truth.launch_time, (C, N))
    t0 = float(np.min(launch))
    t_end = float(tf.t[-1]) if tf.t.size else t0
    hours = max(t_end - t0, 0.0) / 3600.0

    # per track number: its label and whether it was ever confirmed
    run = np.broadcast_to(np.arange(C)[:, None, None], tf.track_id.shape)
    seen = ever & (tf.track_id >= 0)
    span = int(tf.track_id.max(initial=0)) + 1
    tk = np.unique(run[seen] * span + tf.track_id[seen])
    tk_run = tk // span
    tk_lab = np.zeros(tk.size, np.int64)
    if tk.size:
        key = run[seen] * span + tf.track_id[seen]
        tk_lab[np.searchsorted(tk, key)] = lab[seen]
    false_tracks = np.bincount(tk_run[tk_lab == FALSE_TRACK], minlength=C)
    booster_tracks = np.bincount(tk_run[tk_lab >= N], minlength=C)
    is_threat = (tk_lab >= 0) & (tk_lab < N)
    per_threat = np.zeros((C, N), int)
    np.add.at(per_threat, (tk_run[is_threat], tk_lab[is_threat]), 1)
    breaks = np.maximum(per_threat - 1, 0).sum(axis=1)

    # first firm track of each threat
    firm = np.full((C, N), np.inf)
    for n in range(N):
        on = conf & (lab == n)  # (C, T, K)
        anyk = on.any(axis=1)  # (C, K)
        first = np.argmax(anyk, axis=1)
        firm[:, n] = np.where(anyk.any(axis=1), tf.t[first] - launch[:, n], np.inf)

    # errors of the threat-labelled tracks at every update
    pos_t, vel_t = state_at(truth, tf.t)  # (C, N, K, 3)
    assert vel_t is not None  # asked for
    thr = conf & (lab >= 0) & (lab < N)
    cc, ss, kk = np.nonzero(thr)
    nn = lab[cc, ss, kk]
    ep = np.linalg.norm(tf.x[cc, ss, kk, :3] - pos_t[cc, nn, kk], axis=-1)
    ev = np.linalg.norm(tf.x[cc, ss, kk, 3:] - vel_t[cc, nn, kk], axis=-1)
    cnt = np.bincount(cc, minlength=C)
    # whose reports those tracks took: their own threat's, its booster's, or another object's
    src = origin[cc, ss, kk]
    took = src != -2
    n_took = np.bincount(cc[took], minlength=C)
    n_own = np.bincount(cc[took & (src == nn)], minlength=C)
    n_boost = np.bincount(cc[took & (src == nn + N)], minlength=C)
    mean_nees, over_99, n_nees = np.full(C, np.nan), np.full(C, np.nan), np.zeros(C, np.int64)
    if tf.confirmed_P is not None:  # at the updates that assimilated a report (the posterior)
        u = tf.report[cc, ss, kk] >= 0
        cu, su, ku, nu = cc[u], ss[u], kk[u], nn[u]
        err = tf.x[cu, su, ku] - np.concatenate([pos_t[cu, nu, ku], vel_t[cu, nu, ku]], axis=1)
        mean_nees, over_99, n_nees = consistency.per_run(cu, consistency.nees(err, tf.confirmed_P, (cu, su, ku)), C)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_rmse = np.sqrt(np.bincount(cc, ep**2, minlength=C) / cnt)
        v_rmse = np.sqrt(np.bincount(cc, ev**2, minlength=C) / cnt)

    # GOSPA against every object in the air
    t = t0 + step_s * np.arange(max(int(np.floor((t_end - t0) / step_s)) + 1, 0))
    k = np.searchsorted(tf.t, t, side="right") - 1
    g, loc, mi, fa = (np.full(C, np.nan) for _ in range(4))
    if t.size:
        kk_ = np.maximum(k, 0)
        b_pos, b_present = boosters.positions(truth, tf.t[kk_], pos=pos_t[:, :, kk_], vel=vel_t[:, :, kk_])
        obj = np.concatenate([pos_t[:, :, kk_], b_pos], axis=1)  # (C, 2N, E, 3)
        flying = np.concatenate([in_flight(truth, tf.t[kk_]) & (tf.t[kk_] < gone[..., None]), b_present], axis=1)
        trk = conf[:, :, kk_] & (k >= 0)
        xs = tf.x[:, :, kk_, :3]
        for c in range(C):
            parts = np.empty((t.size, 5))
            gospa_instants(np.ascontiguousarray(obj[c]), np.ascontiguousarray(flying[c]),
                           np.ascontiguousarray(xs[c]), np.ascontiguousarray(trk[c]), c_m, p, parts)
            used = (flying[c].any(axis=0) | trk[c].any(axis=0))
            if used.any():
                val, locs, pairs, miss, false_ = parts[used].T
                g[c], mi[c], fa[c] = val.mean(), miss.mean(), false_.mean()
                loc[c] = np.sqrt(locs.sum() / pairs.sum()) if pairs.sum() else np.nan
    return FileQuality(system=tf.system, gospa_m=g, localisation_m=loc, missed=mi, false=fa,
                       position_rmse_m=np.where(cnt > 0, p_rmse, np.nan),
                       velocity_rmse_ms=np.where(cnt > 0, v_rmse, np.nan), track_breaks=breaks,
                       false_tracks=false_tracks,
                       false_tracks_per_hour=false_tracks / hours if hours > 0 else np.full(C, np.nan),
                       booster_tracks=booster_tracks, time_to_firm_track_s=firm, hours=hours,
                       mean_nees=mean_nees, nees_over_99=over_99, nees_updates=n_nees,
                       purity=np.where(n_took > 0, n_own / np.maximum(n_took, 1), np.nan),
                       own_booster_share=np.where(n_took > 0, n_boost / np.maximum(n_took, 1), np.nan))

