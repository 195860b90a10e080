"""Records produced by the tracking stage."""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np
from numba import typed
from numpy.lib.mixins import NDArrayOperatorsMixin


class CovarianceHistory(NDArrayOperatorsMixin):
    """A track history's covariances, (..., K, 6, 6), stored only where a track holds one.

    A history of tracks on an update grid is mostly empty: before a track's first detection
    and after it ends there is no estimate (``nan``), and a (run, threat, update) grid of the
    dense (..., K, 6, 6) float64 form was the largest record of a chunk (99 MB of 64 runs of six
    threats, 41 % of it ``nan``; far more for the fire-control columns of a multi-target
    track file, each alive for a fraction of the grid).  Here ``index`` (..., K) names the row
    of ``data`` (M, 6, 6) that holds each covariance, -1 where there is none (read as ``nan``).

    Reads are those of the dense array, value for value: indexing over the leading
    (..., K) dimensions (integers, slices, integer and boolean arrays) gathers the rows and
    fills the missing ones with ``nan``; further indices apply to the 6 × 6 matrices;
    ``np.asarray`` (and any ufunc or operator) makes the dense array.
    """

    __slots__ = ("index", "data")

    def __init__(self, index: np.ndarray, data: np.ndarray):
        self.index = np.asarray(index, np.int64)
        self.data = np.asarray(data, float).reshape(-1, 6, 6)

    @classmethod
    def of(cls, P) -> CovarianceHistory:
        """``P`` as a history: itself if it is one, else a dense (..., 6, 6) array wrapped
        (every element a row: no gathering, its values as they are)."""
        if isinstance(P, CovarianceHistory):
            return P
        P = np.asarray(P, float)
        if P.shape[-2:] != (6, 6):
            raise ValueError(f"CovarianceHistory.of: need (..., 6, 6) covariances, got shape {P.shape}")
        lead = P.shape[:-2]
        return cls(np.arange(int(np.prod(lead)), dtype=np.int64).reshape(lead), np.ascontiguousarray(P))

    @classmethod
    def from_rows(cls, shape: tuple, where: tuple, values: np.ndarray) -> CovarianceHistory:
        """The history of leading shape ``shape`` holding ``values`` (M, 6, 6) at the index
        arrays ``where`` (a tuple of M-element arrays, one per leading dimension) and nothing
        elsewhere."""
        index = np.full(shape, -1, np.int64)
        index[where] = np.arange(len(values), dtype=np.int64)
        return cls(index, values)

    @classmethod
    def from_steps(cls, shape: tuple, steps: list) -> CovarianceHistory:
        """The history of leading shape ``shape`` = ``batch + (K,)`` from a tracker's steps:
        ``(k, where, values)`` per update, ``k`` (M_k,) the update index, ``where`` a tuple of
        (M_k,) batch index arrays and ``values`` (M_k, 6, 6) the covariances held there.
        Empties ``steps`` as it goes."""
        index = np.full(shape, -1, np.int64)
        data = np.empty((sum(len(s[2]) for s in steps), 6, 6))
        row = 0
        # copied step by step, each step's rows dropped once copied: the pages of ``data`` are
        # touched as the steps' are freed, so the history is not held twice at once
        for i in range(len(steps)):
            k, where, values = steps[i]
            steps[i] = None
            m = len(values)
            index[where + (k,)] = np.arange(row, row + m)
            data[row:row + m] = values
            row += m
        return cls(index, data)

    @property
    def shape(self) -> tuple:
        return self.index.shape + (6, 6)

    @property
    def ndim(self) -> int:
        return self.index.ndim + 2

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def nbytes(self) -> int:
        return self.index.nbytes + self.data.nbytes

    def _gather(self, idx) -> np.ndarray:
        idx = np.asarray(idx)
        if self.data.shape[0] == 0:
            return np.full(idx.shape + (6, 6), np.nan)
        if idx.ndim == 0:  # an integer index would return a view of the stored row
            return self.data[int(idx)].copy() if idx >= 0 else np.full((6, 6), np.nan)
        out = self.data[np.maximum(idx, 0)]
        out[idx < 0] = np.nan
        return out

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        if any(k is Ellipsis or k is None for k in key):
            return np.asarray(self)[key]
        used, split = 0, len(key)
        for i, k in enumerate(key):  # how many leading dimensions each index takes
            if used == self.index.ndim:
                split = i
                break
            a = k if isinstance(k, (slice, int, np.integer)) else np.asarray(k)
            used += a.ndim if isinstance(a, np.ndarray) and a.dtype == bool else 1
        out = self._gather(self.index[key[:split]])
        return out[(Ellipsis,) + key[split:]] if split < len(key) else out

    def __array__(self, dtype=None, copy=None):
        out = self._gather(self.index)
        return out if dtype is None else out.astype(dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        dense = tuple(np.asarray(a) if isinstance(a, CovarianceHistory) else a for a in inputs)
        return getattr(ufunc, method)(*dense, **kwargs)

    def __len__(self) -> int:
        return self.index.shape[0]

    def __repr__(self) -> str:
        return f"CovarianceHistory(shape={self.shape}, rows={self.data.shape[0]})"


def compact_history(P: np.ndarray, axis_first: bool = True) -> CovarianceHistory:
    """A dense history (K, ..., 6, 6) (time first, as a tracker fills it) as a
    :class:`CovarianceHistory` of shape (..., K, 6, 6), keeping the matrices that hold a number."""
    P = np.asarray(P, float)
    held = ~np.isnan(P).all(axis=(-2, -1))
    moved = np.moveaxis(held, 0, -1) if axis_first else held
    where = np.nonzero(moved)
    src = (where[-1],) + where[:-1] if axis_first else where
    return CovarianceHistory.from_rows(moved.shape, where, P[src])


@dataclass(frozen=True)
class Tracks:
    """One system's tracks, one per threat (no association yet), on the update grid.

    Attributes
    ----------
    system : str
        Name of the system (network of sensors) whose picture this is.
    t : (K,) float64
        Update times [s from epoch]: the union of the scan times of the system's sensors.
    x : (..., K, 6) float64
        Posterior state after the update at ``t[k]``: ECEF position [m] and
        velocity [m/s]; ``nan`` before the track's first detection.
    P : (..., K, 6, 6) float64 array or :class:`CovarianceHistory`
        Posterior covariance of ``x`` (the trackers return the history, which stores only
        the covariances a track holds and reads as the dense array does).
    n_hits : (..., K) int32
        Number of detections assimilated up to and including ``t[k]``.
    confirmed : (..., K) bool
        True once ``n_hits`` reached the initiation threshold.
    confirm_time : (...,) float64
        First time the track was confirmed [s from epoch]; ``inf`` if never.
    q : (..., K) float32
        Process-noise level [m²/s³] the track's filter holds after the update at ``t[k]``:
        the white-noise acceleration it would predict the track onward with (the adaptive
        filter's ``q_ballistic · λ``, the IMM's regime levels weighed by their odds), before
        the drag floor (:func:`shieldlab.tracking.tracker.with_drag_floor`, a function of the
        state); ``nan`` where no track is held.  Whoever predicts a track past its last update
        (a link's latency, a fused picture's planning tick) predicts with it: without it a
        track last seen in boost is held as sure as a coasting one.
    """

    system: str
    t: np.ndarray
    x: np.ndarray
    P: np.ndarray | CovarianceHistory
    n_hits: np.ndarray
    confirmed: np.ndarray
    confirm_time: np.ndarray
    q: np.ndarray


@dataclass(frozen=True)
class Schedule:
    """The order in which a compiled tracker applies its sensors' scans over K update times.

    Attributes
    ----------
    dt : (K,) float64
        Seconds from the previous update time (0 at the first).
    n_sub : (K,) int64
        RK4 substeps of the prediction to each time (``ekf_kernel.substeps``) ...
    h_sub : (K,) float64
        ... of this many seconds.
    start : (K + 1,) int64
        The scans ("events") of time ``k`` are ``start[k]:start[k + 1]``, by time, then sensor.
    sensor, scan : (E,) int64
        Each event's sensor (index into the tracker's sensors) and its scan index there.
    """

    dt: np.ndarray
    n_sub: np.ndarray
    h_sub: np.ndarray
    start: np.ndarray
    sensor: np.ndarray
    scan: np.ndarray

    @staticmethod
    def scan_index(t: np.ndarray, scan_times: list) -> list:
        """For each sensor, whose scans are at ``scan_times[s]`` (K_s,) [s, increasing], its scan
        index at each of the update times ``t`` (K,), -1 where it does not scan then."""
        out = []
        for ts in scan_times:
            if ts.size == 0:  # a sensor that never scans
                out.append(np.full(t.size, -1, np.int64))
                continue
            j = np.clip(np.searchsorted(ts, t), 0, ts.size - 1)
            out.append(np.where(ts[j] == t, j, -1))
        return out

    @classmethod
    def of(cls, t: np.ndarray, scan_index: list) -> Schedule:
        """The schedule over the update times ``t`` (K,) [s] of sensors whose scan at each
        time is ``scan_index[s]`` (K,) (-1 where sensor ``s`` does not scan then)."""
        from shieldlab.tracking.ekf_kernel import substeps

        K = t.size
        ev_k = np.concatenate([np.flatnonzero(idx >= 0) for idx in scan_index])
        ev_s = np.concatenate([np.full(int((idx >= 0).sum()), s, np.int64) for s, idx in enumerate(scan_index)])
        order = np.lexsort((ev_s, ev_k))
        ev_k, ev_s = ev_k[order], ev_s[order]
        dt = np.diff(t, prepend=t[:1])
        sub = [substeps(d) for d in dt]
        return cls(dt=dt, n_sub=np.array([n for n, _ in sub], np.int64), h_sub=np.array([h for _, h in sub]),
                   start=np.searchsorted(ev_k, np.arange(K + 1)).astype(np.int64), sensor=ev_s,
                   scan=np.array([scan_index[s][k] for s, k in zip(ev_s, ev_k)], np.int64))


@nb.njit(cache=True)
def _listed(first):
    out = typed.List()
    out.append(first)
    return out


@nb.njit(cache=True)
def _appended(out, a):
    out.append(a)


def kernel_list(arrays: list) -> typed.List:
    """The per-sensor arrays a compiled tracker reads (one or more), as a Numba typed list of
    read-only views (nothing copied).  Numba compiles a kernel once per argument type, and an
    array's type includes whether it is writeable: the same reports built by the chain
    (read-only broadcasts and views) and by a caller's own arrays would otherwise each
    compile the whole tracker (~100 s), and only the first is compiled at install.  The list
    is built by cached kernels, one element at a time: ``typed.List`` called from Python
    compiles its methods anew in every process (~0.4 s per element type), and a kernel taking
    all the arrays at once would be compiled once per number of sensors."""
    views = []
    for a in arrays:
        v = a.view()
        v.flags.writeable = False
        views.append(v)
    if not views:
        raise ValueError("kernel_list: no arrays")
    out = _listed(views[0])
    for v in views[1:]:
        _appended(out, v)
    return out
