"""Records produced by the sensor stage.

One :class:`Detections` per sensor: the sensor scans on its own time grid and,
for every batch element (run, threat) and scan, either reports a noisy
measurement of range, azimuth and elevation or nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

#: The least cos(elevation) the azimuth's noise is divided by (an elevation of ~87°): a
#: radar's angle error is an angle in space, so in azimuth it is sigma / cos(el), which
#: grows without bound towards the zenith.  The compiled trackers read this constant when
#: they are compiled: change it, and clear Numba's cache.
AZ_COS_MIN = 0.05


def azimuth_variance_factor(el) -> np.ndarray:
    """The factor on a report's azimuth variance at elevation ``el`` [rad]: 1 / cos²(el),
    cos(el) at least :data:`AZ_COS_MIN` (1 where ``el`` is not finite: no report)."""
    el = np.asarray(el, float)
    c = np.maximum(np.cos(np.where(np.isfinite(el), el, 0.0)), AZ_COS_MIN)
    return 1.0 / (c * c)


@nb.njit(cache=True)
def azimuth_variance_factor_one(el: float) -> float:
    """:func:`azimuth_variance_factor` of one elevation [rad], for the compiled trackers (the
    same operations, so the same bits)."""
    c = max(math.cos(el), AZ_COS_MIN) if math.isfinite(el) else 1.0
    return 1.0 / (c * c)


def report_covariance(R: np.ndarray, r_scale, el) -> np.ndarray:
    """Each report's measurement-noise covariance (..., 3, 3): ``R * r_scale`` with its azimuth
    variance times :func:`azimuth_variance_factor` of its measured elevation ``el``."""
    out = R * np.asarray(r_scale, float)[..., None, None]
    out[..., 1, 1] *= azimuth_variance_factor(el)
    return out


@dataclass(frozen=True)
class Detections:
    """Measurements of one sensor.

    Attributes
    ----------
    sensor : str
        Sensor name from the scenario.
    site_ecef : (3,) float64
        Sensor position, ECEF [m].
    site_lat, site_lon, site_alt : float
        Sensor geodetic position [rad, rad, m].
    t : (K,) float64
        Scan times [s from epoch].
    z : (..., K, 3) float64
        Measured (range [m], azimuth [rad, clockwise from north, 0..2π),
        elevation [rad]); ``nan`` where ``detected`` is False.
    detected : (..., K) bool
        Whether the target was reported at that scan.
    R : (3, 3) float64
        Measurement noise covariance of ``z`` at the sensor's reference SNR, on the horizon
        (diagonal: σ_r², σ_θ², σ_θ²); each report's own is ``R * r_scale`` with its azimuth
        variance over cos² of its elevation (:meth:`R_at`, :func:`report_covariance`).
    r_scale : (..., K) float64
        Factor on ``R`` of each report: the noise grows as the SNR falls (1 where the
        sensor's noise does not depend on SNR, and where nothing was reported).
    snr : (..., K) float64
        Signal-to-noise ratio (linear) at that scan; 0 where not visible.
    truth_pos : (..., K, 3) float64
        True target position at the scan, for scoring only: a tracker must not
        read it.
    """

    sensor: str
    site_ecef: np.ndarray
    site_lat: float
    site_lon: float
    site_alt: float
    t: np.ndarray
    z: np.ndarray
    detected: np.ndarray
    R: np.ndarray
    r_scale: np.ndarray
    snr: np.ndarray
    truth_pos: np.ndarray

    def R_at(self, j: int) -> np.ndarray:
        """The measurement-noise covariance of every report of scan ``j``: (..., 3, 3)."""
        return report_covariance(self.R, self.r_scale[..., j], self.z[..., j, 2])


#: Truth id of a false alarm in :attr:`Reports.truth_id`.
FALSE_ALARM = -1
#: Truth id of an empty report slot (padding) in :attr:`Reports.truth_id`.
NO_REPORT = -2
#: :attr:`Reports.call` where the radar makes none.
NO_CALL = -1


@dataclass(frozen=True)
class Reports:
    """One sensor's reports as a tracker receives them: per run and scan, a set without labels.

    Every scan of run ``c`` yields the reports in ``z[c, k, :count[c, k]]`` in an order
    that says nothing about which object made them (shuffled): detections of the threats,
    of their spent boosters (:mod:`shieldlab.sensors.boosters`) and false alarms.  A tracker
    reads ``z``, ``valid`` and each report's covariance (:meth:`R_at`); ``truth_id`` rides
    along for scoring only.

    Attributes
    ----------
    sensor, site_ecef, site_lat, site_lon, site_alt, t, R
        As :class:`Detections`.
    z : (C, K, M, 3) float64
        Range [m], azimuth [rad, 0..2π), elevation [rad]; ``nan`` in empty slots.
    valid : (C, K, M) bool
        Which slots hold a report.
    r_scale : (C, K, M) float64
        Factor on ``R`` of each report (1 in empty slots).
    truth_id : (C, K, M) int32
        For scoring only: ``n`` for threat ``n``, ``N + n`` for the spent booster of threat
        ``n``, :data:`FALSE_ALARM` (-1), :data:`NO_REPORT` (-2) in empty slots.
    n_threats : int
        N, the number of threats (``truth_id`` of boosters start there).
    false_alarm_rate : float
        Mean false alarms per search frame the reports were drawn with.
    search_every : int
        Scans per search frame (1: every scan searches).
    call : (C, K, M) int8 or None
        The radar's discrimination of each report: 1 a warhead, 0 not, :data:`NO_CALL` (-1)
        where the radar does not discriminate (and in empty slots).
    discrimination_error : float or None
        Probability the radar calls an object wrongly (None: no calls).
    """

    sensor: str
    site_ecef: np.ndarray
    site_lat: float
    site_lon: float
    site_alt: float
    t: np.ndarray
    z: np.ndarray
    valid: np.ndarray
    R: np.ndarray
    r_scale: np.ndarray
    truth_id: np.ndarray
    n_threats: int
    false_alarm_rate: float
    call: np.ndarray | None = None
    discrimination_error: float | None = None
    search_every: int = 1

    @property
    def count(self) -> np.ndarray:
        """(C, K) number of reports of each scan."""
        return self.valid.sum(axis=-1)

    def R_at(self, k: int) -> np.ndarray:
        """The covariance of every report of scan ``k``: (C, M, 3, 3)."""
        return report_covariance(self.R, self.r_scale[:, k, :], self.z[:, k, :, 2])
