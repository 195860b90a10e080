"""What fire control can read of the tracks: the sensors' reports, ended where a target was destroyed.

The tracks of a chunk are built before the fight, from detections of the threats' full
flights.  A threat destroyed at time ``t_k`` reflects nothing after it, so its reports
(and every track update built from them) end there: :class:`TrackView` is the tracks as
fire control may read them, with the target's end applied.  The engine tells the view
when a target was destroyed (:meth:`TrackView.end`); fire control only reads
(:meth:`index`, :meth:`hits`), so what it learns of a kill it learns as a radar operator
does: the track gets no new detections (the "look" of shoot-look-shoot).
"""

from __future__ import annotations

import numpy as np

from shieldlab.tracking.records import Tracks


class TrackView:
    """Read access to several track sources (``key -> Tracks``, all of batch shape (C, N))."""

    def __init__(self, sources: dict, batch_shape: tuple[int, int]):
        self._src = dict(sources)
        self._end = np.full(batch_shape, np.inf)  # s: after this no report of the target exists

    def keys(self):
        return self._src.keys()

    def __contains__(self, key) -> bool:
        return key in self._src

    def tracks(self, key) -> Tracks:
        """The source's tracks (their times, states and covariances); read them at :meth:`index`."""
        return self._src[key]

    def end(self, c: np.ndarray, n: np.ndarray, t: np.ndarray) -> None:
        """Targets ``(c, n)`` stop reflecting at times ``t`` [s] (destroyed): no report after."""
        np.minimum.at(self._end, (np.asarray(c), np.asarray(n)), np.asarray(t, float))

    def index(self, key, c: np.ndarray, n: np.ndarray, t) -> np.ndarray:
        """Per row, the index into ``tracks(key).t`` of the last update at or before ``t`` [s]
        that reports of target ``(c, n)`` could have made; -1 where none."""
        tr = self._src[key]
        return np.searchsorted(tr.t, np.minimum(t, self._end[c, n]), side="right") - 1

    def hits(self, key, c: np.ndarray, n: np.ndarray, t) -> np.ndarray:
        """Detections of target ``(c, n)`` the source had assimilated by time ``t`` (0 before any)."""
        k = self.index(key, c, n, t)
        return np.where(k >= 0, self._src[key].n_hits[c, n, np.maximum(k, 0)], 0)
