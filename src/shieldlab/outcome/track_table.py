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

import numpy as np

from shieldlab.outcome.file_quality import labels, report_origin
from shieldlab.sensors.records import Reports
from shieldlab.tracking.mtt import CONFIRMED, TrackFile

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
