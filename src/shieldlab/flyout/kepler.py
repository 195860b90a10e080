"""Closed-form Kepler ballistics over a spherical, non-rotating Earth.

Models the unpowered free-flight arc of a ballistic missile in an
inverse-square field: from burnout at radius ``r0 = R + h`` (speed ``v``,
flight-path angle ``gamma`` above the local horizontal) to impact on the
sphere ``r = R``.  ``R = earth.R_EARTH_MEAN``, ``GM = earth.GM``.  No drag, no
Earth rotation, no J2: the fast first answer that the batched integrator
refines.  SI throughout (m, s, rad); speeds are inertial, which on this
non-rotating sphere is also the speed relative to the ground.  All functions
broadcast their array arguments.

Equations (derived in docs/models.md):

* free-flight range equation with unequal end radii (Bate, Mueller & White,
  *Fundamentals of Astrodynamics*, Dover 1971, ch. 6; Wheelon, "Free flight
  of a ballistic missile", ARS Journal 29, 1959), with ``nu = r0 v^2 / GM``::

      r0 / r(phi) = (1 - cos phi) / (nu cos^2 gamma) + cos(phi + gamma) / cos gamma

* for ``h = 0`` this gives the textbook minimum-energy shot
  ``nu = 2 sin(psi/2) / (1 + sin(psi/2))``, ``gamma = (pi - psi)/4``
  (Regan & Anandakrishnan, *Dynamics of Atmospheric Re-Entry*, AIAA 1993);
  for ``h > 0`` the same equation, written as ``A cos 2g + B sin 2g = K``,
  gives the minimum-energy shot and the lofted/depressed pair in closed form;
* time of flight from Kepler's equation through the eccentric anomaly.

The range angle ``psi = range_m / R`` is limited to ``(0, pi]`` (at most half
way round the sphere) and speeds to below escape (``nu < 2``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from shieldlab import earth
from shieldlab.earth import GM, R_EARTH_MEAN

__all__ = [
    "KeplerShot",
    "minimum_energy",
    "speed_for_angle",
    "angles_for_speed",
    "lofted",
    "depressed",
    "free_flight_range",
    "burnout_state",
    "impact_point",
]

_TWO_PI = 2.0 * np.pi


class KeplerShot(NamedTuple):
    """One free-flight shot (arrays broadcast to a common batch shape ``...``).

    burnout_speed : (...) m/s, inertial.
    flight_path_angle : (...) rad above the local horizontal at burnout.
    time_of_flight : (...) s from burnout to impact on the sphere ``r = R``.
    apogee : (...) m, highest altitude above the sphere on the arc (the burnout
        altitude when the shot leaves burnout already descending).
    """

    burnout_speed: np.ndarray
    flight_path_angle: np.ndarray
    time_of_flight: np.ndarray
    apogee: np.ndarray


# --------------------------------------------------------------------------- helpers


def _range_angle(range_m) -> np.ndarray:
    psi = np.asarray(range_m, dtype=float) / R_EARTH_MEAN
    if np.any(~(psi > 0.0) | (psi > np.pi)):
        raise ValueError(
            f"range_m: must lie in (0, {np.pi * R_EARTH_MEAN:.0f}] m "
            "(at most half way round the sphere)"
        )
    return psi


def _burnout_radius(burnout_alt_m) -> np.ndarray:
    h = np.asarray(burnout_alt_m, dtype=float)
    if np.any(~(h >= 0.0)):
        raise ValueError("burnout_alt_m: must be >= 0 m")
    return R_EARTH_MEAN + h


def _conic(nu, gamma, r0):
    """Elements of the conic through burnout: (p, e, a, theta0), theta0 in (-pi, pi]."""
    c, s = np.cos(gamma), np.sin(gamma)
    e_cos, e_sin = nu * c * c - 1.0, nu * s * c
    return nu * r0 * c * c, np.hypot(e_cos, e_sin), r0 / (2.0 - nu), np.arctan2(e_sin, e_cos)


def _mean_anomaly(theta, e):
    """Mean anomaly, continuous in the true anomaly ``theta`` (any real value)."""
    n = np.floor((theta + np.pi) / _TWO_PI)
    half = 0.5 * (theta - _TWO_PI * n)  # in [-pi/2, pi/2)
    ecc = 2.0 * np.arctan2(np.sqrt(1.0 - e) * np.sin(half), np.sqrt(1.0 + e) * np.cos(half))
    return ecc - e * np.sin(ecc) + _TWO_PI * n


def _shot(nu, gamma, psi, r0) -> tuple[KeplerShot, np.ndarray]:
    """Speed, time of flight and apogee of the arc; and where it is a valid shot."""
    nu, gamma, psi, r0 = np.broadcast_arrays(nu, gamma, psi, r0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p, e, a, theta0 = _conic(nu, gamma, r0)
        theta1 = theta0 + psi
        tof = np.sqrt(a**3 / GM) * (_mean_anomaly(theta1, e) - _mean_anomaly(theta0, e))
        apogee = np.where(gamma >= 0.0, a * (1.0 + e), r0) - R_EARTH_MEAN
        ok = (
            np.isfinite(nu)
            & (nu > 0.0)
            & (nu < 2.0)
            & (np.abs(gamma) < 0.5 * np.pi)
            & ((gamma > 0.0) | (r0 > R_EARTH_MEAN))  # from the surface, it must climb
            & (np.sin(theta1) < 0.0)  # descending at impact: the first crossing of r = R
        )
    shot = KeplerShot(np.sqrt(nu * GM / r0), gamma.copy(), tof, apogee)
    return shot, ok


def _range_coefficients(psi, r0):
    """``A, B, C = hypot(A, B), delta = atan2(B, A)`` and ``4 sin^2(psi/2)``.

    The range equation at impact, ``r(psi) = R``, reads
    ``A cos 2g + B sin 2g = K = 4 sin^2(psi/2) / nu - A`` with
    ``A = rho - cos psi``, ``B = sin psi``, ``rho = r0 / R``.
    """
    s2 = 2.0 * np.sin(0.5 * psi) ** 2  # 1 - cos psi, without cancellation
    a = (r0 / R_EARTH_MEAN - 1.0) + s2
    b = np.sin(psi)
    return a, b, np.hypot(a, b), np.arctan2(b, a), 2.0 * s2


# --------------------------------------------------------------------------- public API


def minimum_energy(range_m, burnout_alt_m=0.0) -> KeplerShot:
    """The lowest-speed shot reaching ``range_m`` [m] from burnout altitude [m].

    ``nu* = 4 sin^2(psi/2) / (A + C)``, ``gamma* = delta / 2`` (see module
    docstring); for ``h = 0``: ``nu* = 2 s / (1 + s)``, ``s = sin(psi/2)``,
    ``gamma* = (pi - psi)/4``.  Shapes: broadcast of the arguments.
    """
    psi, r0 = _range_angle(range_m), _burnout_radius(burnout_alt_m)
    a, _, c, delta, four_s2 = _range_coefficients(psi, r0)
    shot, _ = _shot(four_s2 / (a + c), 0.5 * delta, psi, r0)
    return shot


def speed_for_angle(range_m, flight_path_angle, burnout_alt_m=0.0) -> KeplerShot:
    """The shot reaching ``range_m`` [m] at ``flight_path_angle`` [rad].

    Above the minimum-energy angle the shot is lofted, below it depressed.
    ``nu = (1 - cos psi) / (cos g (rho cos g - cos(psi + g)))``.
    Raises ValueError if no free-flight arc with that angle lands at that range.
    """
    psi, r0 = _range_angle(range_m), _burnout_radius(burnout_alt_m)
    g = np.asarray(flight_path_angle, dtype=float)
    c = np.cos(g)
    # rho cos g - cos(psi + g), written without cancellation at short range
    den = (r0 / R_EARTH_MEAN - 1.0) * c + 2.0 * np.sin(g + 0.5 * psi) * np.sin(0.5 * psi)
    with np.errstate(invalid="ignore", divide="ignore"):
        nu = 2.0 * np.sin(0.5 * psi) ** 2 / (c * den)
    shot, ok = _shot(nu, g, psi, r0)
    if not np.all(ok):
        raise ValueError(
            "flight_path_angle: no sub-escape free-flight arc lands at range_m with this "
            "angle (from the surface the angle must be in (0, pi/2))"
        )
    return shot


def angles_for_speed(range_m, burnout_speed, burnout_alt_m=0.0) -> tuple[KeplerShot, KeplerShot]:
    """The (lofted, depressed) pair of shots reaching ``range_m`` at ``burnout_speed``.

    ``2 gamma = delta +/- arccos(K / C)``.  Raises ValueError naming
    ``burnout_speed`` below the minimum-energy speed, and where the depressed
    arc would leave the surface below the horizon or a speed reaches escape.
    """
    psi, r0 = _range_angle(range_m), _burnout_radius(burnout_alt_m)
    v = np.asarray(burnout_speed, dtype=float)
    nu = r0 * v * v / GM
    a, _, c, delta, four_s2 = _range_coefficients(psi, r0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (four_s2 / nu - a) / c
    nu_min = four_s2 / (a + c)
    if np.any(~(ratio <= 1.0 + 1e-12)):
        v_min = np.sqrt(nu_min * GM / r0)
        raise ValueError(
            "burnout_speed: below the minimum-energy speed for range_m "
            f"(need >= {np.min(v_min):.1f} .. {np.max(v_min):.1f} m/s)"
        )
    spread = np.arccos(np.clip(ratio, -1.0, 1.0))
    up, ok_up = _shot(nu, 0.5 * (delta + spread), psi, r0)
    down, ok_down = _shot(nu, 0.5 * (delta - spread), psi, r0)
    if not (np.all(ok_up) and np.all(ok_down)):
        raise ValueError(
            "burnout_speed: no lofted/depressed pair at this speed (from the surface the "
            "depressed arc needs a speed below circular; escape speed is the upper limit)"
        )
    exact = np.broadcast_to(v, up.burnout_speed.shape) + 0.0  # the caller's speed, not sqrt(nu GM/r0)
    return up._replace(burnout_speed=exact), down._replace(burnout_speed=exact)


def lofted(range_m, burnout_speed, burnout_alt_m=0.0) -> KeplerShot:
    """The lofted (steeper) shot of :func:`angles_for_speed`."""
    return angles_for_speed(range_m, burnout_speed, burnout_alt_m)[0]


def depressed(range_m, burnout_speed, burnout_alt_m=0.0) -> KeplerShot:
    """The depressed (flatter) shot of :func:`angles_for_speed`."""
    return angles_for_speed(range_m, burnout_speed, burnout_alt_m)[1]


def free_flight_range(burnout_speed, flight_path_angle, burnout_alt_m=0.0) -> np.ndarray:
    """Ground range [m] on the sphere from burnout to impact.

    The impact is the first, descending crossing of ``r = R``, at true anomaly
    ``-theta_R`` with ``cos theta_R = (p/R - 1)/e``.  ``nan`` where the arc
    never meets the sphere, the speed reaches escape (``nu >= 2``), or a shot
    from the surface (``h = 0``) does not climb (``gamma <= 0``).
    """
    r0 = _burnout_radius(burnout_alt_m)
    v = np.asarray(burnout_speed, dtype=float)
    g = np.asarray(flight_path_angle, dtype=float)
    nu = r0 * v * v / GM
    with np.errstate(invalid="ignore", divide="ignore"):
        p, e, _, theta0 = _conic(nu, g, r0)
        theta_r = np.arccos((p / R_EARTH_MEAN - 1.0) / e)
        psi = np.mod(-theta_r - theta0, _TWO_PI)
    ok = (nu < 2.0) & ((g > 0.0) | (r0 > R_EARTH_MEAN))
    return np.where(ok, psi, np.nan) * R_EARTH_MEAN


def burnout_state(lat, lon, azimuth, burnout_alt_m, shot: KeplerShot) -> tuple[np.ndarray, np.ndarray]:
    """Burnout position and velocity (..., 3) in the sphere's Earth-fixed frame.

    ``lat``, ``lon`` [rad] are geocentric (on the sphere), ``azimuth`` [rad]
    clockwise from north, ``burnout_alt_m`` [m] above the sphere.
    Position ``(R + h) * up``; velocity ``v (cos g * horizontal + sin g * up)``,
    with ``horizontal = cos(az) north + sin(az) east``.
    """
    east, north, up = np.moveaxis(earth.enu_matrix(lat, lon), -2, 0)  # on a sphere: geocentric
    az = np.asarray(azimuth, float)[..., None]
    g = np.asarray(shot.flight_path_angle, float)[..., None]
    v = np.asarray(shot.burnout_speed, float)[..., None]
    r0 = R_EARTH_MEAN + np.asarray(burnout_alt_m, float)[..., None]
    horizontal = np.cos(az) * north + np.sin(az) * east
    vel = v * (np.cos(g) * horizontal + np.sin(g) * up)
    return np.broadcast_to(r0 * up, vel.shape).copy(), vel


def impact_point(lat, lon, azimuth, range_m) -> tuple[np.ndarray, np.ndarray]:
    """Great-circle destination (lat2, lon2) [rad] on the sphere, ``lon2`` in [-pi, pi).

    From geocentric ``lat``, ``lon`` [rad] along initial ``azimuth`` [rad,
    clockwise from north] for ``range_m`` [m] of surface distance: the impact
    point of a shot fired from burnout at (lat, lon) along ``azimuth``
    (the free flight stays in the vertical plane of the burnout velocity).
    Delegates to :func:`shieldlab.earth.destination` (the same sphere).
    """
    return earth.destination(lat, lon, azimuth, range_m)
