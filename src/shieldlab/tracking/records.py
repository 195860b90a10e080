"""Records produced by the tracking stage."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
    P : (..., K, 6, 6) float64
        Posterior covariance of ``x``.
    n_hits : (..., K) int32
        Number of detections assimilated up to and including ``t[k]``.
    confirmed : (..., K) bool
        True once ``n_hits`` reached the initiation threshold.
    confirm_time : (...,) float64
        First time the track was confirmed [s from epoch]; ``inf`` if never.
    """

    system: str
    t: np.ndarray
    x: np.ndarray
    P: np.ndarray
    n_hits: np.ndarray
    confirmed: np.ndarray
    confirm_time: np.ndarray
