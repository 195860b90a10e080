"""One row per track of a multi-target track file: what each track was and what it followed.

The track-quality figures (:mod:`shieldlab.outcome.file_quality`) are means over runs; a
tracking engineer chasing a break, a swap or a ghost wants the tracks themselves.  Per
run, picture and track number (tentative tracks included), from the
:class:`~shieldlab.tracking.mtt.TrackFile` and, for scoring only, the reports' truth:

* when it started, was confirmed (``nan``: never), took its last report and ended
  (scenario time [s]; "ended" is the last update time the track held its slot);
* how many reports it took, which radars made them, and whether the radars' calls judged
  it a warhead when it ended;
* its label (the object behind most of its reports, as the quality scores it: a threat,
  a threat's spent booster, or a false alarm) and its purity: the share of its reports
  that object made (the rest came from other objects);
* given the truth, its position RMSE against that object and its mean NEES, over its
  confirmed updates that took a report (the track quality's figures, per track).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from shieldlab.flyout.interp import state_at
from shieldlab.flyout.records import Trajectories
from shieldlab.io.columns import TRACKS
from shieldlab.outcome import consistency
from shieldlab.outcome.file_quality import after_kills, labels, report_origin
from shieldlab.sensors import boosters
from shieldlab.sensors.records import Reports
from shieldlab.tracking.mtt import CONFIRMED, FREE, TrackFile

#: The columns of :func:`track_rows`, in order.
COLUMNS = ("run", "picture", "track", "object", "started_s", "confirmed_s", "last_report_s", "ended_s",
           "reports", "purity", "sensors", "judged_warhead", "position_rmse_m", "mean_nees")

#: Each column's meaning and unit, as a file of them states it (``tracks --out``'s metadata).
DESCRIPTIONS = TRACKS

#: Each column's NumPy type, for a table of no rows (an empty file keeps the columns' types).
DTYPES = {"run": np.int32, "picture": object, "track": np.int32, "object": object, "started_s": np.float64,
          "confirmed_s": np.float64, "last_report_s": np.float64, "ended_s": np.float64, "reports": np.int32,
          "purity": np.float64, "sensors": object, "judged_warhead": np.bool_, "position_rmse_m": np.float64,
          "mean_nees": np.float64}


def empty_rows() -> dict[str, np.ndarray]:
    """A table of :data:`COLUMNS` with no rows, each column of its type (:data:`DTYPES`)."""
    return {k: np.empty(0, DTYPES[k]) for k in COLUMNS}


def object_names(threats: list[str]) -> list[str]:
    """The name of each label (index ``label + 1``): a false alarm, each threat, then each
    threat's spent booster (``"booster of NAME"``)."""
    return ["false alarm", *threats, *(f"booster of {n}" for n in threats)]


def track_rows(tf: TrackFile, reports: list[Reports], threats: list[str], first_run: int = 0,
               origin: np.ndarray | None = None, truth: Trajectories | None = None) -> dict[str, np.ndarray]:
    """One row per (run, track number) of ``tf`` (runs numbered from ``first_run``), the
    columns of :data:`COLUMNS` (module docstring), sorted by run and track number.
    ``threats``: the threats' names, in the reports' order; ``origin``:
    :func:`~shieldlab.outcome.file_quality.report_origin`, where already made; ``truth``
    (the flights, batch (C, N)): for each track's errors against its object (``nan``
    without)."""
    C, T, K = tf.track_id.shape
    origin = report_origin(tf, reports) if origin is None else origin
    lab = labels(tf, reports, origin)
    held = tf.track_id >= 0
    span = int(tf.track_id.max(initial=0)) + 1
    run = np.broadcast_to(np.arange(C)[:, None, None], tf.track_id.shape)
    kk = np.broadcast_to(np.arange(K), tf.track_id.shape)
    key = (run * span + tf.track_id)[held]
    uniq, row = np.unique(key, return_inverse=True)
    R = uniq.size
    k_held = kk[held]

    def first(where: np.ndarray) -> np.ndarray:  # earliest update index per track where ``where``, else -1
        out = np.full(R, K, np.int64)
        np.minimum.at(out, row[where], k_held[where])
        return np.where(out < K, out, -1)

    def last(where: np.ndarray) -> np.ndarray:
        out = np.full(R, -1, np.int64)
        np.maximum.at(out, row[where], k_held[where])
        return out

    every = np.ones(row.size, bool)
    took = (tf.report >= 0)[held]
    k_start, k_end = first(every), last(every)
    k_conf = first((tf.status == CONFIRMED)[held])
    k_rep = last(took)
    n_rep = np.bincount(row[took], minlength=R)
    track_lab = np.empty(R, np.int64)
    track_lab[row] = lab[held]
    own = took & (origin[held] == track_lab[row])
    n_own = np.bincount(row[own], minlength=R)
    bits = np.zeros(R, np.int64)
    np.bitwise_or.at(bits, row, tf.sensors[held].astype(np.int64))
    end_idx = np.flatnonzero(held.reshape(-1))  # the flat (run, slot, k) of each held entry
    at_end = np.empty(R, np.int64)
    last_held = k_held == k_end[row]
    at_end[row[last_held]] = end_idx[last_held]
    warhead = (np.ones(R, bool) if tf.warhead is None
               else np.asarray(tf.warhead).reshape(-1)[at_end].astype(bool))

    def time(k: np.ndarray) -> np.ndarray:
        return np.where(k >= 0, tf.t[np.maximum(k, 0)], np.nan)

    names = np.array(object_names(threats), dtype=object)
    sensors = np.array([", ".join(n for i, n in enumerate(tf.sensor_names) if b >> i & 1) for b in bits], dtype=object)
    with np.errstate(invalid="ignore", divide="ignore"):
        purity = np.where(n_rep > 0, n_own / np.maximum(n_rep, 1), np.nan)
    rmse, mean_nees = _errors(tf, truth, held, row, R, track_lab, took)
    return {
        "run": (uniq // span + first_run).astype(np.int32),
        "picture": np.full(R, tf.system, dtype=object),
        "track": (uniq % span).astype(np.int32),
        "object": names[track_lab + 1],  # a false track (-1) is the first name
        "started_s": time(k_start), "confirmed_s": time(k_conf), "last_report_s": time(k_rep),
        "ended_s": time(k_end), "reports": n_rep.astype(np.int32), "purity": purity,
        "sensors": sensors, "judged_warhead": warhead, "position_rmse_m": rmse, "mean_nees": mean_nees,
    }


def _errors(tf: TrackFile, truth: Trajectories | None, held: np.ndarray, row: np.ndarray, R: int,
            track_lab: np.ndarray, took: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per track (R,): the RMS position error [m] against its object (a threat, or a threat's
    spent booster) over its updates that took a report while it was confirmed, as the track
    quality's RMSE counts them, and the mean NEES (6 states) of those of them whose
    covariance the file keeps (confirmed and judged a warhead) where its object is a threat;
    ``nan`` where none, for a false track, or without ``truth``."""
    rmse, mean_nees = np.full(R, np.nan), np.full(R, np.nan)
    if truth is None or not R:
        return rmse, mean_nees
    N = truth.batch_shape[1]
    cc, ss, kk = np.nonzero(held)  # (the order of held's entries)
    obj = track_lab[row]
    use = took & (tf.status[cc, ss, kk] == CONFIRMED) & (obj >= 0)
    c, s_, k, r, n = cc[use], ss[use], kk[use], row[use], obj[use]
    # the truth at these updates alone, not the whole (runs, threats, updates) grid
    warhead = n < N
    true_pos, true_vel = state_at(truth, tf.t[k], index=(c, np.minimum(n, N - 1)))
    assert true_vel is not None  # asked for
    b = ~warhead  # a booster's, where a track followed one
    true_pos[b] = boosters.positions_at(truth, (c[b], n[b] - N), tf.t[k[b]])[0]
    d2 = np.sum((tf.x[c, s_, k, :3] - true_pos) ** 2, axis=-1)
    ok = np.isfinite(d2)
    cnt = np.bincount(r[ok], minlength=R)
    with np.errstate(invalid="ignore", divide="ignore"):
        rmse = np.where(cnt > 0, np.sqrt(np.bincount(r[ok], d2[ok], minlength=R) / np.maximum(cnt, 1)), np.nan)
    P = tf.confirmed_P
    if P is not None:
        kept = warhead & (P.index[c, s_, k] >= 0)
        err = np.concatenate([tf.x[c, s_, k][kept, :3] - true_pos[kept], tf.x[c, s_, k][kept, 3:]
                              - true_vel[kept]], axis=1)
        e = consistency.nees(err, P, (c[kept], s_[kept], k[kept]))
        good = np.isfinite(e)
        m = np.bincount(r[kept][good], minlength=R)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_nees = np.where(m > 0, np.bincount(r[kept][good], e[good], minlength=R) / np.maximum(m, 1), np.nan)
    return rmse, mean_nees


def chunk_columns(world, chunk) -> dict[str, np.ndarray]:
    """The confirmed tracks of a kill-chain chunk run on the multi-target tracker
    (``tracking.association: gnn``): :func:`track_rows` of every picture's track file and of
    every battery's own radar's (``picture`` as the event tables name it: the node, or
    ``"radar NAME"``), runs numbered from the chunk's first, sorted by run, picture and track
    number; tentative tracks left out, as ``shieldlab tracks --out`` leaves them.  Each track
    ends where fire control's did: a track whose object is a threat destroyed in flight is cut
    at the intercept (:func:`cut_at_kills`), as the fight ends it.  Empty (no columns) where
    the chunk tracked by labels or no track was confirmed."""
    files = chunk.track_files
    threats = [t.name for t in world.threats]
    destroyed = np.asarray(chunk.outcomes.intercept_time, float)
    parts = []
    for name in sorted(files):
        tf, mine = files[name]
        tf, origin = cut_at_kills(tf, list(mine), destroyed, chunk.origins.get(name))
        rows = track_rows(tf, list(mine), threats, chunk.first_run, origin=origin, truth=chunk.truth)
        keep = np.isfinite(rows["confirmed_s"])
        rows = {k: v[keep] for k, v in rows.items()}
        rows["picture"] = np.full(int(keep.sum()), name, dtype=object)
        parts.append(rows)
    if not parts or not any(p["run"].size for p in parts):
        return {}
    out = {k: np.concatenate([p[k] for p in parts]) for k in COLUMNS}
    which = np.concatenate([np.full(p["run"].size, i) for i, p in enumerate(parts)])
    order = np.lexsort((out["track"], which, out["run"]))  # by run, picture (by name), track number
    return {k: v[order] for k, v in out.items()}


def cut_at_kills(tf: TrackFile, reports: list[Reports], destroyed: np.ndarray,
                 origin: np.ndarray | None = None) -> tuple[TrackFile, np.ndarray]:
    """``tf`` with every track whose object (its label, :func:`labels`) is a threat destroyed
    in flight ended at the intercept: its slot free from ``destroyed[c, n]`` [s] on (``nan``
    or ``inf``: never destroyed), as the fight ends a destroyed threat's tracks and as the
    track quality stops scoring them (:func:`~shieldlab.outcome.file_quality.after_kills`);
    and the cut file's :func:`~shieldlab.outcome.file_quality.report_origin` (``origin``: the
    whole file's, where already made; a cut slot took no report)."""
    origin = report_origin(tf, reports) if origin is None else origin
    after = after_kills(labels(tf, reports, origin), tf.t, destroyed)
    if not after.any():
        return tf, origin
    return replace(tf, track_id=np.where(after, -1, tf.track_id), status=np.where(after, FREE, tf.status),
                   report=np.where(after, -1, tf.report)), np.where(after, -2, origin)
