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
  that object made (the rest came from other objects).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from shieldlab.outcome.file_quality import after_kills, labels, report_origin
from shieldlab.sensors.records import Reports
from shieldlab.tracking.mtt import CONFIRMED, FREE, TrackFile

#: The columns of :func:`track_rows`, in order.
COLUMNS = ("run", "picture", "track", "object", "started_s", "confirmed_s", "last_report_s", "ended_s",
           "reports", "purity", "sensors", "judged_warhead")


def object_names(threats: list[str]) -> list[str]:
    """The name of each label (index ``label + 1``): a false alarm, each threat, then each
    threat's spent booster (``"booster of NAME"``)."""
    return ["false alarm", *threats, *(f"booster of {n}" for n in threats)]


def track_rows(tf: TrackFile, reports: list[Reports], threats: list[str], first_run: int = 0,
               origin: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """One row per (run, track number) of ``tf`` (runs numbered from ``first_run``), the
    columns of :data:`COLUMNS` (module docstring), sorted by run and track number.
    ``threats``: the threats' names, in the reports' order; ``origin``:
    :func:`~shieldlab.outcome.file_quality.report_origin`, where already made."""
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
    return {
        "run": (uniq // span + first_run).astype(np.int32),
        "picture": np.full(R, tf.system, dtype=object),
        "track": (uniq % span).astype(np.int32),
        "object": names[track_lab + 1],  # a false track (-1) is the first name
        "started_s": time(k_start), "confirmed_s": time(k_conf), "last_report_s": time(k_rep),
        "ended_s": time(k_end), "reports": n_rep.astype(np.int32), "purity": purity,
        "sensors": sensors, "judged_warhead": warhead,
    }


def chunk_columns(world, chunk) -> dict[str, np.ndarray]:
    """The confirmed tracks of a kill-chain chunk run on the multi-target tracker
    (``tracking.association: gnn``): :func:`track_rows` of every picture's track file and of
    every battery's own radar's (``picture`` as the event tables name it: the node, or
    ``"radar NAME"``), runs numbered from the chunk's first, sorted by run, picture and track
    number; tentative tracks left out, as ``shieldlab tracks --out`` leaves them.  Each track
    ends where fire control's did: a track whose object is a threat destroyed in flight is cut
    at the intercept (:func:`cut_at_kills`), as the fight ends it.  Empty (no columns) where
    the chunk tracked by labels or no track was confirmed."""
    files = {**chunk.files, **chunk.own_files}
    threats = [t.name for t in world.threats]
    destroyed = np.asarray(chunk.outcomes.intercept_time, float)
    parts = []
    for name in sorted(files):
        tf, mine = files[name]
        tf = cut_at_kills(tf, list(mine), destroyed)
        rows = track_rows(tf, list(mine), threats, chunk.first_run)  # (the lineage of the cut file)
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


def cut_at_kills(tf: TrackFile, reports: list[Reports], destroyed: np.ndarray) -> TrackFile:
    """``tf`` with every track whose object (its label, :func:`labels`) is a threat destroyed
    in flight ended at the intercept: its slot free from ``destroyed[c, n]`` [s] on (``nan``
    or ``inf``: never destroyed), as the fight ends a destroyed threat's tracks and as the
    track quality stops scoring them (:func:`~shieldlab.outcome.file_quality.after_kills`)."""
    after = after_kills(labels(tf, reports), tf.t, destroyed)
    if not after.any():
        return tf
    return replace(tf, track_id=np.where(after, -1, tf.track_id), status=np.where(after, FREE, tf.status),
                   report=np.where(after, -1, tf.report))
