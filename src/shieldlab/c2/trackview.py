"""What fire control can read of the tracks: the sensors' reports, ended where a target was destroyed.

The tracks of a chunk are built before the fight, from detections of the threats' full
flights.  A threat destroyed at time ``t_k`` reflects nothing after it, so its reports
(and every track update built from them) end there: :class:`TrackView` is the tracks as
fire control may read them, with the target's end applied.  The engine tells the view
when a target was destroyed (:meth:`TrackView.end`); fire control only reads
(:meth:`index`, :meth:`hits`), so what it learns of a kill it learns as a radar operator
does: the track gets no new detections (the "look" of shoot-look-shoot).

The radars go on looking where the destroyed target's track predicts it, and a tracker
deletes a track its looks no longer find: the view drops the track at the look that would
have brought its ``m``-th report had the target flown on (the tracks built from the full
flight say when that was), ``m`` the silent looks in a row that delete a track held at each
look (:func:`shieldlab.tracking.mtt.silent_looks_to_delete` of its reports by then and the
scenario's ``tracking.delete_probability``: 5 at the default, for a long-held track).  Read
at or after that time the track is gone (:meth:`index` -1), so that no node plans a salvo at
a threat destroyed long ago on a track frozen at its last report.  Counting only the looks
that would have found the target makes the drop no earlier than the tracker's own: its
looks that would have missed count too.  Where the target would have left every radar's
view, no look finds it and the track coasts on, as the tracker's would.
"""

from __future__ import annotations

import numpy as np

from shieldlab.tracking.mtt import silent_looks_to_delete
from shieldlab.tracking.records import Tracks


class TrackView:
    """Read access to several track sources (``key -> Tracks``, all of batch shape (C, N))."""

    def __init__(self, sources: dict, batch_shape: tuple[int, int], delete_probability: float | None = 1e-3):
        """``delete_probability``: the tracker's deletion rule (``tracking.delete_probability``),
        by which a destroyed target's track is dropped (see the module docstring); None keeps
        such a track, frozen at its last report, to the end."""
        self._src = dict(sources)
        self._end = np.full(batch_shape, np.inf)  # s: after this no report of the target exists
        self._p_delete = delete_probability
        # per source: when the track of each target is dropped, its target destroyed (inf: never)
        self._gone = {key: np.full(batch_shape, np.inf) for key in self._src}

    def keys(self):
        return self._src.keys()

    def __contains__(self, key) -> bool:
        return key in self._src

    def tracks(self, key) -> Tracks:
        """The source's tracks (their times, states and covariances); read them at :meth:`index`."""
        return self._src[key]

    def end(self, c: np.ndarray, n: np.ndarray, t: np.ndarray) -> None:
        """Targets ``(c, n)`` stop reflecting at times ``t`` [s] (destroyed): no report after."""
        c, n = np.asarray(c, int), np.asarray(n, int)
        np.minimum.at(self._end, (c, n), np.asarray(t, float))
        if self._p_delete is None or c.size == 0:
            return
        end = self._end[c, n]
        for key, tr in self._src.items():
            hits = tr.n_hits[c, n]  # (R, K): the reports the full flight brought, to each update
            k0 = np.searchsorted(tr.t, end, side="right") - 1
            h0 = np.where(k0 >= 0, np.take_along_axis(hits, np.maximum(k0, 0)[:, None], axis=1)[:, 0], 0)
            m = silent_looks_to_delete(h0, self._p_delete)
            # the first update at which the full flight's track had m reports more than at the end
            after = (np.arange(tr.t.size) > k0[:, None]) & (hits >= (h0 + m)[:, None])
            first = np.argmax(after, axis=1)
            self._gone[key][c, n] = np.where(after.any(axis=1), tr.t[first], np.inf)

    def index(self, key, c: np.ndarray, n: np.ndarray, t) -> np.ndarray:
        """Per row, the index into ``tracks(key).t`` of the last update at or before ``t`` [s]
        that reports of target ``(c, n)`` could have made; -1 where none (before the track's
        first, or the track dropped, its target destroyed)."""
        tr = self._src[key]
        k = np.searchsorted(tr.t, np.minimum(t, self._end[c, n]), side="right") - 1
        return np.where(np.asarray(t) >= self._gone[key][c, n], -1, k)

    def hits(self, key, c: np.ndarray, n: np.ndarray, t) -> np.ndarray:
        """Detections of target ``(c, n)`` the source had assimilated by time ``t`` (0 before any)."""
        k = self.index(key, c, n, t)
        return np.where(k >= 0, self._src[key].n_hits[c, n, np.maximum(k, 0)], 0)
