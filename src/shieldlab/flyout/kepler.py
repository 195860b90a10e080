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

:func:`state_impact` answers the inverse question for any state, on the real Earth's
shape: where the two-body conic through an Earth-fixed position and velocity comes
down on the rotating WGS84 ellipsoid (still without J2 or drag).

:func:`eccentric_anomaly` solves Kepler's equation ``E - e sin E = M`` and
:func:`orbit_position` places a body on a closed two-body orbit from its classical
elements (the early-warning satellites on highly elliptical orbits,
:mod:`shieldlab.sensors.infrared`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from shieldlab import earth
from shieldlab.earth import GM, R_EARTH_MEAN
from shieldlab.errors import InputError, shown_value

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
    "state_impact",
    "eccentric_anomaly",
    "orbit_position",
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

    def __repr__(self) -> str:
        """The fields with their units (a notebook showed ``np.float64(7198.07...)`` and no
        unit); a batch of shots by its shape."""
        if np.ndim(self.burnout_speed) == 0:
            gamma = float(self.flight_path_angle)
            return (f"KeplerShot(burnout_speed={float(self.burnout_speed):.1f} m/s, flight_path_angle={gamma:.4f} rad "
                    f"({np.degrees(gamma):.2f} deg), time_of_flight={float(self.time_of_flight):.1f} s, "
                    f"apogee={float(self.apogee):.0f} m)")
        return f"KeplerShot(a batch of shape {np.shape(self.burnout_speed)}: burnout_speed m/s, flight_path_angle " \
               "rad, time_of_flight s, apogee m)"


# --------------------------------------------------------------------------- helpers


def _numbers(x, field: str) -> np.ndarray:
    """``x`` as an array of floats, or an :class:`InputError` naming ``field`` where it holds
    anything but numbers (``"1e6"`` was read as a million metres, ``True`` as one)."""
    a = np.asarray(x)
    if a.dtype.kind not in "iuf":
        raise InputError(f"a number or an array of numbers, not {shown_value(x)}", field=field)
    return a.astype(float)


def _range_angle(range_m) -> np.ndarray:
    psi = _numbers(range_m, "range_m") / R_EARTH_MEAN
    if np.any(~(psi > 0.0) | (psi > np.pi)):
        raise InputError(f"must lie in (0, {np.pi * R_EARTH_MEAN:.0f}] m (at most half way round the sphere), "
                         f"got {shown_value(range_m)}", field="range_m")
    return psi


def _speed(burnout_speed) -> np.ndarray:
    """``burnout_speed`` [m/s] as an array; a negative one is refused (its square, all the conic
    reads, passed it as the speed it negates).  nan passes: a batch's missing rows."""
    v = _numbers(burnout_speed, "burnout_speed")
    if np.any(v < 0.0):
        raise InputError(f"must be >= 0 m/s, got {np.nanmin(v):g}", field="burnout_speed")
    return v


def _angle(flight_path_angle) -> np.ndarray:
    """``flight_path_angle`` [rad] as an array, within [-pi/2, pi/2] (degrees given by
    mistake, 40 for 40 deg, went round the sphere).  nan passes."""
    g = _numbers(flight_path_angle, "flight_path_angle")
    if np.any(np.abs(g) > 0.5 * np.pi + 1e-12):
        raise InputError(f"must lie in [-pi/2, pi/2] rad (radians, not degrees), got {np.nanmax(np.abs(g)):g}",
                         field="flight_path_angle")
    return g


def _burnout_radius(burnout_alt_m) -> np.ndarray:
    h = _numbers(burnout_alt_m, "burnout_alt_m")
    if np.any(~(h >= 0.0)):
        raise InputError(f"must be >= 0 m, got {shown_value(burnout_alt_m)}", field="burnout_alt_m")
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
    # gamma * 1.0: a copy, and for a scalar shot a NumPy scalar like the other fields (not a 0-d array)
    shot = KeplerShot(np.sqrt(nu * GM / r0), gamma * 1.0, tof, apogee)
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
    g = _angle(flight_path_angle)
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
    v = _speed(burnout_speed)
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
    v, g = _speed(burnout_speed), _angle(flight_path_angle)
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


def state_impact(x, *, rotating: bool = True, surface: str = "wgs84", iterations: int = 3):
    """Where a ballistic state comes down: the closed-form two-body impact of Earth-fixed states.

    ``x`` (..., 6): position [m] and velocity [m/s] in the Earth-fixed frame (relative to
    the rotating Earth when ``rotating``; else the axes are taken as inertial).  Returns
    ``(impact (..., 3), time_of_flight (...))``: the impact point [m, in the Earth-fixed
    frame of the impact time] on the WGS84 ellipsoid (``surface="wgs84"``) or on the mean
    sphere (``"sphere"``), and the time [s] to reach it, along the state's own conic
    (point-mass gravity; no J2, no drag), without integration:

    * the inertial velocity ``v = v_rel + omega x r`` (omega: the Earth's rate about z, 0
      unless ``rotating``); the Earth-fixed axes at the state's time are the inertial frame;
    * angular momentum ``h = r x v``, semi-latus rectum ``p = h^2 / GM``, and the true
      anomaly theta0 of the state from ``e cos theta0 = p / r0 - 1``, ``e sin theta0 =
      h v_r / GM`` (``v_r``: the radial speed); semi-major axis ``a = r0 / (2 - r0 v^2/GM)``;
    * the conic ``r = p / (1 + e cos theta)`` comes down through the radius ``R`` (sin theta
      < 0) at ``e cos theta_d = p/R - 1``, ``e sin theta_d = -sqrt(e^2 - (p/R - 1)^2)``; the
      range angle ``dth = theta_d - theta0`` (its cosine and sine from those of theta_d and
      theta0, without inverse trigonometry) puts the impact at ``R (cos dth u_r + sin dth
      u_t)``, ``u_r = r / r0``, ``u_t = h/|h| x u_r`` (the flight stays in the plane of r, v);
    * ``R`` is the ellipsoid's radius ``a_e / sqrt(1 + (a_e^2 - b_e^2)/b_e^2 sin^2 phi)`` at the
      impact's geocentric latitude phi (which the Earth's turning about z leaves as it is),
      by fixed-point iteration from the state's own latitude: ``iterations`` rounds, each
      ~100 times closer (on 9,000 km arcs: 60 km off with none, 3 m after 2, ~2 cm after 3);
    * the time of flight from Kepler's equation, ``t = sqrt(a^3/GM) ((E_d - e sin E_d) -
      (E0 - e sin E0))``, the eccentric anomaly from ``cos E = (e + cos theta) / (1 + e cos
      theta)``, ``sqrt(1 - e^2) sin theta = (1 + e cos theta) sin E`` (E0 in [0, 2 pi), E_d in
      [pi, 2 pi]: the impact is the first descending crossing);
    * the inertial impact point, turned back by ``omega t`` about z: the Earth-fixed point.

    (Bate, Mueller & White, *Fundamentals of Astrodynamics*, Dover 1971: ch. 2 for the
    elements from r and v, ch. 4 for Kepler's equation, ch. 6 "Ballistic missile
    trajectories" for the free-flight range angle and the correction for the Earth's
    rotation as here; Regan & Anandakrishnan, *Dynamics of Atmospheric Re-Entry*, AIAA 1993,
    ch. 3.)

    Exact for the two-body problem: against the flyout's numerical drag-free coast without
    J2 (``shieldlab.flyout.integrate.run``, rotating WGS84 Earth) it agrees within a metre.
    Neglecting J2 (the oblate Earth's extra pull), which the flyout includes, moves the
    impact by up to ~1 km on 300 km arcs, ~7 km on 2,000 km arcs and ~45 km on 9,000 km
    arcs (medians 0.4, 3 and 25 km; tests/validation/test_kepler.py):
    :func:`shieldlab.c2.threat_eval.coast_impacts` adds J2 back by flying most of the arc
    numerically in a few large steps.

    ``nan`` (both outputs) where the state does not come down: its conic stays above the
    surface or is unbound (at or above escape speed); also for a purely radial inertial
    velocity (no plane of flight; a rotating-frame state always has one).  A state below
    the surface and not climbing has landed already: it gets the surface point above it
    and time 0.
    """
    x = np.asarray(x, dtype=float)
    if x.shape[-1:] != (6,):
        raise ValueError(f"x: the last axis must hold the 6 numbers of a state, not shape {x.shape}")
    if surface == "wgs84":
        a_ax, b_ax = earth.WGS84_A, earth.WGS84_B
    elif surface == "sphere":
        a_ax = b_ax = R_EARTH_MEAN
    else:
        raise ValueError(f"surface must be 'wgs84' or 'sphere', not {surface!r}")
    w = earth.OMEGA_EARTH if rotating else 0.0
    k2 = (a_ax * a_ax - b_ax * b_ax) / (b_ax * b_ax)
    # components as separate arrays, and no inverse trigonometry inside the iteration: numpy's
    # transcendental functions cost 30-60 multiplications each
    rx, ry, rz, vx, vy, vz = np.moveaxis(x, -1, 0)
    vx, vy = vx - w * ry, vy + w * rx  # inertial velocity
    with np.errstate(invalid="ignore", divide="ignore"):
        r0 = np.sqrt(rx * rx + ry * ry + rz * rz)
        hx, hy, hz = ry * vz - rz * vy, rz * vx - rx * vz, rx * vy - ry * vx  # h = r x v
        h = np.sqrt(hx * hx + hy * hy + hz * hz)
        p = h * h / GM
        ec = p / r0 - 1.0  # e cos theta0
        es = h * (rx * vx + ry * vy + rz * vz) / (r0 * GM)  # e sin theta0
        e2 = ec * ec + es * es
        e = np.sqrt(e2)
        u_rz, u_tz = rz / r0, (hx * ry - hy * rx) / (h * r0)  # z of the in-plane unit vectors
        R = a_ax / np.sqrt(1.0 + k2 * u_rz * u_rz)
        below = r0 < R
        for i in range(max(int(iterations), 0) + 1):
            q = p / R - 1.0  # e cos theta_d
            sq = -np.sqrt(np.maximum(e2 - q * q, 0.0))  # e sin theta_d
            cd, sd = (q * ec + sq * es) / e2, (sq * ec - q * es) / e2  # cos, sin (theta_d - theta0)
            # range angle 0 where the state is below the surface and not climbing back through
            # it (theta0 past theta_d), or the whole conic is below the surface
            now = ((es <= 0.0) & (ec >= q)) | (q < -e)
            cd, sd = np.where(now, 1.0, cd), np.where(now, 0.0, sd)
            if i < iterations:
                R = a_ax / np.sqrt(1.0 + k2 * (cd * u_rz + sd * u_tz) ** 2)
        # Kepler's equation (elliptic conics; the others are nan below)
        sqe = np.sqrt(1.0 - e2)
        E0 = np.arctan2(sqe * es, e2 + ec)  # scaled by e (1 + e cos theta0) > 0
        E0 = np.where(E0 < 0.0, E0 + _TWO_PI, E0)
        Ed = _TWO_PI + np.arctan2(sqe * sq, e2 + q)  # sin E_d <= 0: in [pi, 2 pi]
        esin0, esind = sqe * es / (ec + 1.0), sqe * sq / (q + 1.0)  # e sin E
        a = r0 / (2.0 - r0 * (vx * vx + vy * vy + vz * vz) / GM)
        tof = np.where(now, 0.0, np.sqrt(a * a * a / GM) * ((Ed - esind) - (E0 - esin0)))
        lands = ((e2 < 1.0) & (q <= e)) | (below & (es <= 0.0))
        # the impact R (cos dth u_r + sin dth u_t), turned back by the Earth's rotation
        fr, ft = R * cd / r0, R * sd / (h * r0)
        ix = fr * rx + ft * (hy * rz - hz * ry)
        iy = fr * ry + ft * (hz * rx - hx * rz)
        iz = fr * rz + ft * (hx * ry - hy * rx)
        ca, sa = np.cos(w * tof), np.sin(w * tof)
        nan = np.where(lands, 0.0, np.nan)  # (1-D wheres: a broadcast one costs 20 times more)
        out = np.stack([ca * ix + sa * iy + nan, ca * iy - sa * ix + nan, iz + nan], axis=-1)
    return out, tof + nan


def eccentric_anomaly(mean_anomaly, e) -> np.ndarray:
    """The eccentric anomaly ``E`` [rad] that solves Kepler's equation ``E - e sin E = M``.

    ``mean_anomaly`` ``M`` [rad, any real value] and the eccentricity ``e`` (in [0, 1))
    broadcast.  Newton's iteration ``E <- E - (E - e sin E - M) / (1 - e cos E)`` from
    ``E0 = M + e sign(M)`` (M reduced to [-pi, pi); Vallado, *Fundamentals of Astrodynamics
    and Applications*, 4th ed. 2013, algorithm 2), until no step exceeds 1e-15 rad (a few
    steps; at most 50).  ``E`` keeps the whole turns of ``M``.
    """
    m = np.asarray(mean_anomaly, dtype=float)
    e = np.asarray(e, dtype=float)
    turns = np.floor((m + np.pi) / _TWO_PI)
    mr = m - _TWO_PI * turns  # in [-pi, pi)
    ecc = mr + e * np.sign(mr)
    for _ in range(50):
        step = (ecc - e * np.sin(ecc) - mr) / (1.0 - e * np.cos(ecc))
        ecc = ecc - step
        if not np.any(np.abs(step) > 1e-15):
            break
    return ecc + _TWO_PI * turns


def orbit_position(semi_major_axis, e, inclination, arg_perigee, raan, mean_anomaly) -> np.ndarray:
    """Inertial position (..., 3) [m] on a closed two-body orbit.

    ``semi_major_axis`` [m], eccentricity ``e`` in [0, 1), ``inclination``, argument of
    perigee ``arg_perigee``, right ascension of the ascending node ``raan`` and
    ``mean_anomaly`` [rad] broadcast.  In the orbit's plane (perigee along p, q ahead of it)
    ``r = a (cos E - e) p + a sqrt(1 - e^2) sin E q`` with ``E`` from
    :func:`eccentric_anomaly`; ``p`` and ``q`` are turned into the inertial frame by the
    rotations ``R3(-raan) R1(-inclination) R3(-arg_perigee)`` (Bate, Mueller & White,
    *Fundamentals of Astrodynamics*, Dover 1971, sec. 2.6 and ch. 4; Vallado, *Fundamentals
    of Astrodynamics and Applications*, 4th ed. 2013, ch. 2).
    """
    a = np.asarray(semi_major_axis, dtype=float)
    e = np.asarray(e, dtype=float)
    ecc = eccentric_anomaly(mean_anomaly, e)
    xp, yp = a * (np.cos(ecc) - e), a * np.sqrt(1.0 - e * e) * np.sin(ecc)
    cO, sO = np.cos(raan), np.sin(raan)
    cw, sw = np.cos(arg_perigee), np.sin(arg_perigee)
    ci, si = np.cos(inclination), np.sin(inclination)
    p = (cO * cw - sO * sw * ci, sO * cw + cO * sw * ci, sw * si)
    q = (-cO * sw - sO * cw * ci, -sO * sw + cO * cw * ci, cw * si)
    return np.stack(np.broadcast_arrays(*(xp * pk + yp * qk for pk, qk in zip(p, q, strict=True))), axis=-1)
