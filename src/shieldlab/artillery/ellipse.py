"""Error ellipses of estimated points, and the probability that a point lies on the true side of a border.

Frames and units: covariances in the local east-north plane at the estimate [m²]; geodetic
points in radians (lat, lon) and metres; azimuths clockwise from north [rad].

- :func:`ellipse`: the semi-axes [m] and orientation of the one-sigma ellipse of a 2-D covariance;
  the ellipse holding probability ``p`` of a normal distribution is that one scaled by
  ``sqrt(-2 ln(1 - p))`` (:func:`scale`; 2.4477 for 95 %, the chi-square quantile of 2 degrees of
  freedom).
- :func:`boundary`: points of a scaled ellipse on the ground, geodetic.
- :func:`offsets`: a fixed sample of a 2-D normal distribution's points (a scrambled Sobol' set,
  the same for every call), on the ground: the probability that the true point lies in a region
  (inside a country's territory, say) is the share of them in it, to about 1 / sqrt(n).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from shieldlab import earth

__all__ = ["Ellipse", "ellipse", "scale", "boundary", "offsets", "SAMPLE_POINTS", "nees"]

#: Points of the fixed normal sample :func:`offsets` draws (a power of two, for Sobol').
SAMPLE_POINTS = 1024


@dataclass(frozen=True)
class Ellipse:
    """One-sigma error ellipses, each field (N,): ``major``, ``minor`` the semi-axes [m] (major >=
    minor) and ``azimuth`` [rad] of the major axis, clockwise from north in [0, pi)."""

    major: np.ndarray
    minor: np.ndarray
    azimuth: np.ndarray


def scale(p: float) -> float:
    """Factor on a one-sigma ellipse for the ellipse that holds probability ``p`` of a 2-D normal."""
    return math.sqrt(-2.0 * math.log(1.0 - p))


def ellipse(cov: np.ndarray) -> Ellipse:
    """The one-sigma ellipses of east-north covariances ``cov`` (N, 2, 2) [m²]."""
    w, v = np.linalg.eigh(cov)
    major = np.sqrt(np.maximum(w[..., 1], 0.0))
    minor = np.sqrt(np.maximum(w[..., 0], 0.0))
    az = np.mod(np.arctan2(v[..., 0, 1], v[..., 1, 1]), np.pi)  # the major axis's (east, north)
    return Ellipse(major=major, minor=minor, azimuth=az)


def _to_ground(lat, lon, alt, e, n):
    """Geodetic (lat, lon) of points ``e``, ``n`` [m] east and north of (lat, lon, alt) in its tangent
    plane, shapes (N,) and (N, K): (lat, lon) each (N, K)."""
    m = earth.enu_matrix(lat, lon)  # (N, 3, 3), rows E, N, U
    d = e[..., None] * m[:, None, 0, :] + n[..., None] * m[:, None, 1, :]
    p = earth.geodetic_to_ecef(lat, lon, alt)[:, None, :] + d
    la, lo, _ = earth.ecef_to_geodetic(p)
    return la, lo


def boundary(lat, lon, alt, cov, p: float = 0.95, points: int = 72) -> tuple[np.ndarray, np.ndarray]:
    """The ellipse holding probability ``p`` about each estimate (lat, lon [rad], alt [m], (N,)) with
    east-north covariance ``cov`` (N, 2, 2): ``points`` points of it on the ground, (lat, lon) each
    (N, points) [rad]."""
    lat, lon, alt = (np.atleast_1d(np.asarray(x, float)) for x in (lat, lon, alt))
    th = np.linspace(0.0, 2.0 * np.pi, points, endpoint=False)
    circle = np.stack([np.cos(th), np.sin(th)], -1) * scale(p)  # (K, 2)
    chol = np.linalg.cholesky(cov + 1e-9 * np.eye(2))
    en = np.einsum("nij,kj->nki", chol, circle)
    return _to_ground(lat, lon, alt, en[..., 0], en[..., 1])


@functools.cache
def _normal_sample(n: int) -> np.ndarray:
    from scipy.special import ndtri
    from scipy.stats import qmc

    u = qmc.Sobol(d=2, scramble=True, seed=20121003).random(n)
    return ndtri(np.clip(u, 1e-12, 1.0 - 1e-12))


def offsets(lat, lon, alt, cov, n: int = SAMPLE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of the normal distribution about each estimate (lat, lon [rad], alt [m], (N,)) with
    east-north covariance ``cov`` (N, 2, 2) [m²], from one fixed quasi-random sample: (lat, lon),
    each (N, n) [rad]."""
    lat, lon, alt = (np.atleast_1d(np.asarray(x, float)) for x in (lat, lon, alt))
    chol = np.linalg.cholesky(cov + 1e-9 * np.eye(2))
    en = np.einsum("nij,kj->nki", chol, _normal_sample(n))
    return _to_ground(lat, lon, alt, en[..., 0], en[..., 1])


def nees(error_en: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Normalised estimation error squared e^T P^-1 e of east-north errors ``error_en`` (N, 2) [m]
    against covariances ``cov`` (N, 2, 2) [m²] (chi-square with 2 degrees of freedom when the
    covariance is right)."""
    return np.einsum("ni,ni->n", error_en, np.linalg.solve(cov, error_en[..., None])[..., 0])
