"""The Earth: WGS84 ellipsoid and frames, J2 gravity, US-1976 atmosphere, line of sight.

Frame and units: positions are WGS84 ECEF metres, velocities m/s, angles radians,
altitudes metres above the ellipsoid (geometric). Every function broadcasts over
leading batch axes ``...``; vectors carry a trailing component axis of 3.
Python floats are accepted wherever arrays are.

Figures and methods (equations in docs/models.md):

- WGS84 ellipsoid, GM, rotation rate, normal gravity: NIMA TR8350.2, 3rd ed. (2000),
  chapter 3 (defining and derived constants) and eq. 4-1 (Somigliana).
- J2: EGM96 zero-tide C20 = -4.84165371736e-4, J2 = -sqrt(5) C20.
- ECEF -> geodetic: closed form of H. Vermeille, "Direct transformation from
  geocentric coordinates to geodetic coordinates", J. Geodesy 76 (2002) 451-454.
- J2 acceleration: gradient of U = GM/r [1 - J2 (a/r)^2 P2(sin lat)], as in D. A.
  Vallado, Fundamentals of Astrodynamics and Applications, 4th ed. (2013), ch. 8.
- Atmosphere: U.S. Standard Atmosphere, 1976, NOAA-S/T 76-1562 (NOAA, NASA, USAF,
  Washington DC, Oct 1976): the 7 defining layers below 86 km (its Table 4),
  the molecular-weight ratio of Table 8, the kinetic-temperature profile above
  86 km (its four defining segments), and pressure and density above 86 km
  interpolated through the values it prints in Table I.
- Geodesic distance: T. Vincenty, "Direct and inverse solutions of geodesics on
  the ellipsoid...", Survey Review 23 (176), 1975, 88-93.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import numba as nb
import numpy as np

__all__ = [
    "WGS84_A",
    "WGS84_F",
    "WGS84_B",
    "WGS84_E2",
    "GM",
    "J2",
    "OMEGA_EARTH",
    "R_EARTH_MEAN",
    "G0",
    "geodetic_to_ecef",
    "ecef_to_geodetic",
    "enu_matrix",
    "ecef_to_enu",
    "ecef_to_aer",
    "aer_to_ecef",
    "gravity",
    "rotating_frame_acceleration",
    "inertial_to_ecef",
    "normal_gravity",
    "Atmosphere",
    "atmosphere",
    "below_surface",
    "line_of_sight",
    "great_circle_distance",
    "initial_bearing",
    "destination",
    "geodesic_distance",
]

# --------------------------------------------------------------------------- constants
WGS84_A = 6378137.0  # m, semi-major axis (TR8350.2 table 3.1, defining)
WGS84_F = 1.0 / 298.257223563  # flattening (TR8350.2 table 3.1, defining)
WGS84_B = WGS84_A * (1.0 - WGS84_F)  # m, semi-minor axis = 6356752.3142...
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)  # first eccentricity squared = 6.69437999014e-3
GM = 3.986004418e14  # m^3/s^2, WGS84 (TR8350.2 table 3.1)
J2 = 1.08262668e-3  # EGM96 zero-tide, -sqrt(5) * C20
OMEGA_EARTH = 7.292115e-5  # rad/s, WGS84 (TR8350.2 table 3.1)
R_EARTH_MEAN = 6371008.8  # m, WGS84 mean radius R1 = (2a + b)/3 (TR8350.2 ch. 3)
G0 = 9.80665  # m/s^2, standard gravity (definition; also the US-1976 g0)

# Normal (Somigliana) gravity on the ellipsoid, TR8350.2 ch. 3 constants and eq. 4-1.
_GAMMA_E = 9.7803253359  # m/s^2 at the equator
_GAMMA_P = 9.8321849378  # m/s^2 at the poles

_E4 = WGS84_E2 * WGS84_E2


def _vec(x, y, z) -> np.ndarray:
    """Stack three broadcastable arrays into (..., 3)."""
    x, y, z = np.broadcast_arrays(x, y, z)
    return np.stack((x, y, z), axis=-1)


# --------------------------------------------------------------------------- geodesy
def geodetic_to_ecef(lat, lon, alt) -> np.ndarray:
    """Geodetic latitude, longitude [rad] and height above the ellipsoid [m] -> ECEF (..., 3) [m]."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    alt = np.asarray(alt, dtype=float)
    slat, clat = np.sin(lat), np.cos(lat)
    n = WGS84_A / np.sqrt(1.0 - WGS84_E2 * slat * slat)  # prime-vertical radius
    rc = (n + alt) * clat
    return _vec(rc * np.cos(lon), rc * np.sin(lon), (n * (1.0 - WGS84_E2) + alt) * slat)


def _ecef_to_geodetic_numpy(r) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`ecef_to_geodetic` in numpy operations: the reference of the compiled form, and
    its path for arrays whose last axis is not 3."""
    r = np.asarray(r, dtype=float)
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    rho2 = x * x + y * y
    rho = np.sqrt(rho2)
    p = rho2 / (WGS84_A * WGS84_A)
    q = (1.0 - WGS84_E2) / (WGS84_A * WGS84_A) * z * z
    rr = (p + q - _E4) / 6.0
    s = _E4 * p * q / (4.0 * rr * rr * rr)
    t = np.cbrt(1.0 + s + np.sqrt(s * (2.0 + s)))
    u = rr * (1.0 + t + 1.0 / t)
    v = np.sqrt(u * u + _E4 * q)
    w = WGS84_E2 * (u + v - q) / (2.0 * v)
    k = np.sqrt(u + v + w * w) - w
    d = k * rho / (k + WGS84_E2)
    dz = np.sqrt(d * d + z * z)
    lat = 2.0 * np.arctan2(z, d + dz)
    lon = np.arctan2(y, x)
    alt = (k + WGS84_E2 - 1.0) / k * dz
    return lat, lon, alt


# Compiled forms.  Each writes the numpy form's operations in the same order, so the two
# agree to the last bit where numpy and numba call the same libm (as on the x86-64 Linux
# this was measured on; tests/test_solver_speed_equivalence.py).  haversine_point and
# geodetic_xyz are also called by the kernels of shieldlab.engage.solver; geodetic_xyz runs
# in passes, the libm calls (cbrt, atan2) apart from the arithmetic, which the compiler
# then vectorises (twice as fast as one pass per point).
_inline = nb.njit(cache=True, error_model="numpy", inline="always")
_QZ = (1.0 - WGS84_E2) / (WGS84_A * WGS84_A)


@_inline
def haversine_point(lat1, lon1, lat2, lon2, cos_lat1, cos_lat2):
    """Great-circle distance [m] of one pair, given the cosines of the latitudes:
    :func:`great_circle_distance`, compiled."""
    a = math.sin(0.5 * (lat2 - lat1))
    b = math.sin(0.5 * (lon2 - lon1))
    h = a * a + cos_lat1 * cos_lat2 * (b * b)
    if h < 0.0:
        h = 0.0
    elif h > 1.0:
        h = 1.0
    return 2.0 * R_EARTH_MEAN * math.asin(math.sqrt(h))


@_inline
def altitude_point(x, y, z):
    """Height above the WGS84 ellipsoid [m] of one ECEF point (x, y, z): the height of
    :func:`geodetic_xyz`, in its operations, for a kernel's inner loop (the artillery flyout's)."""
    rho2 = x * x + y * y
    rho = math.sqrt(rho2)
    p = rho2 / (WGS84_A * WGS84_A)
    q = _QZ * z * z
    r = (p + q - _E4) / 6.0
    s = _E4 * p * q / (4.0 * r * r * r)
    t = np.cbrt(1.0 + s + math.sqrt(s * (2.0 + s)))
    u = r * (1.0 + t + 1.0 / t)
    v = math.sqrt(u * u + _E4 * q)
    w = WGS84_E2 * (u + v - q) / (2.0 * v)
    k = math.sqrt(u + v + w * w) - w
    d = k * rho / (k + WGS84_E2)
    dz = math.sqrt(d * d + z * z)
    return (k + WGS84_E2 - 1.0) / k * dz


@nb.njit(cache=True, error_model="numpy")
def geodetic_rows(r):
    """:func:`ecef_to_geodetic` of points ``r`` (n, 3): ``(lat, lon, alt)``, each (n,)."""
    n = r.shape[0]
    x, y, z = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        x[i], y[i], z[i] = r[i, 0], r[i, 1], r[i, 2]
    return geodetic_xyz(x, y, z)


@nb.njit(cache=True, error_model="numpy")
def geodetic_xyz(x, y, z):
    """:func:`ecef_to_geodetic` of points with coordinates ``x``, ``y``, ``z`` (n,): ``(lat, lon, alt)``."""
    n = x.size
    rho, q, rr, c = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        rho2 = x[i] * x[i] + y[i] * y[i]
        rho[i] = math.sqrt(rho2)
        p = rho2 / (WGS84_A * WGS84_A)
        qi = _QZ * z[i] * z[i]
        ri = (p + qi - _E4) / 6.0
        s = _E4 * p * qi / (4.0 * ri * ri * ri)
        q[i], rr[i] = qi, ri
        c[i] = 1.0 + s + math.sqrt(s * (2.0 + s))
    for i in range(n):
        c[i] = np.cbrt(c[i])
    alt = np.empty(n)
    for i in range(n):
        t = c[i]
        u = rr[i] * (1.0 + t + 1.0 / t)
        v = math.sqrt(u * u + _E4 * q[i])
        w = WGS84_E2 * (u + v - q[i]) / (2.0 * v)
        k = math.sqrt(u + v + w * w) - w
        d = k * rho[i] / (k + WGS84_E2)
        dz = math.sqrt(d * d + z[i] * z[i])
        c[i] = d + dz
        alt[i] = (k + WGS84_E2 - 1.0) / k * dz
    lat, lon = rr, q  # reused
    for i in range(n):
        lat[i] = 2.0 * math.atan2(z[i], c[i])
    for i in range(n):
        lon[i] = math.atan2(y[i], x[i])
    return lat, lon, alt


@nb.njit(cache=True, error_model="numpy")
def haversine_from(lat1, lon1, lat2, lon2):
    """:func:`great_circle_distance` from one point ``(lat1, lon1)`` to each of ``lat2``, ``lon2`` (n,)."""
    c1 = math.cos(lat1)
    out = np.empty(lat2.size)
    for i in range(lat2.size):
        out[i] = haversine_point(lat1, lon1, lat2[i], lon2[i], c1, math.cos(lat2[i]))
    return out


@nb.njit(cache=True, error_model="numpy")
def _haversine_pairs(lat1, lon1, lat2, lon2):
    """:func:`great_circle_distance` of pairs, arrays (n,)."""
    out = np.empty(lat1.size)
    for i in range(lat1.size):
        out[i] = haversine_point(lat1[i], lon1[i], lat2[i], lon2[i], math.cos(lat1[i]), math.cos(lat2[i]))
    return out


def ecef_to_geodetic(r) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ECEF (..., 3) [m] -> (lat, lon, alt), each (...): radians, radians, metres.

    Vermeille (2002) closed form, no iteration. Better than 1e-10 rad and 0.1 mm
    from -1 km to beyond 40,000 km altitude, poles included; not valid within about
    43 km of the Earth's centre (inside the evolute of the ellipse), which no
    simulated body reaches.  Compiled (:func:`geodetic_rows`); the same operations as
    :func:`_ecef_to_geodetic_numpy`.
    """
    r = np.asarray(r, dtype=float)
    if r.ndim == 0 or r.shape[-1] != 3:
        return _ecef_to_geodetic_numpy(r)
    lat, lon, alt = geodetic_rows(np.ascontiguousarray(r).reshape(-1, 3))
    if r.ndim == 2:
        return lat, lon, alt
    if r.ndim == 1:
        return lat[0], lon[0], alt[0]  # numpy scalars, as from the numpy form
    shape = r.shape[:-1]
    return lat.reshape(shape), lon.reshape(shape), alt.reshape(shape)


def enu_matrix(lat, lon) -> np.ndarray:
    """Rotation ECEF -> local East-North-Up at (lat, lon) [rad]: (..., 3, 3).

    Rows are the East, North and Up unit vectors in ECEF, so ``enu = M @ (r - r0)``
    and ``r - r0 = M.T @ enu``.
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    sl, cl = np.sin(lat), np.cos(lat)
    so, co = np.sin(lon), np.cos(lon)
    zero = np.zeros(np.broadcast(lat, lon).shape)
    east = _vec(-so, co, zero)
    north = _vec(-sl * co, -sl * so, cl)
    up = _vec(cl * co, cl * so, sl)
    return np.stack((east, north, up), axis=-2)


def _enu_components(d, lat, lon):
    """East, North, Up components of ECEF offsets d (..., 3) at (lat, lon)."""
    sl, cl = np.sin(lat), np.cos(lat)
    so, co = np.sin(lon), np.cos(lon)
    dx, dy, dz = d[..., 0], d[..., 1], d[..., 2]
    t = co * dx + so * dy
    e = -so * dx + co * dy
    n = -sl * t + cl * dz
    u = cl * t + sl * dz
    return e, n, u


def ecef_to_enu(r, site_lat, site_lon, site_alt) -> np.ndarray:
    """ECEF points (..., 3) [m] -> local ENU (..., 3) [m] at a geodetic site."""
    site_lat = np.asarray(site_lat, dtype=float)
    site_lon = np.asarray(site_lon, dtype=float)
    d = np.asarray(r, dtype=float) - geodetic_to_ecef(site_lat, site_lon, site_alt)
    return _vec(*_enu_components(d, site_lat, site_lon))


def ecef_to_aer(r, site_lat, site_lon, site_alt) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ECEF target (..., 3) [m] seen from a geodetic site -> (azimuth, elevation, slant range).

    Azimuth [rad] clockwise from north in [0, 2 pi); elevation [rad] above the
    local ellipsoid tangent plane; range [m]. Site and target batch axes broadcast
    (site arrays (...), target (..., 3)). No refraction.
    """
    site_lat = np.asarray(site_lat, dtype=float)
    site_lon = np.asarray(site_lon, dtype=float)
    d = np.asarray(r, dtype=float) - geodetic_to_ecef(site_lat, site_lon, site_alt)
    e, n, u = _enu_components(d, site_lat, site_lon)
    horiz = np.hypot(e, n)
    az = np.mod(np.arctan2(e, n), 2.0 * np.pi)
    az = np.where(az >= 2.0 * np.pi, 0.0, az)[()]  # mod can round -tiny up to 2 pi
    return az, np.arctan2(u, horiz), np.hypot(horiz, u)


def aer_to_ecef(az, el, rng, site_lat, site_lon, site_alt) -> np.ndarray:
    """Azimuth, elevation [rad], slant range [m] from a geodetic site -> ECEF (..., 3) [m]."""
    az = np.asarray(az, dtype=float)
    el = np.asarray(el, dtype=float)
    rng = np.asarray(rng, dtype=float)
    site_lat = np.asarray(site_lat, dtype=float)
    site_lon = np.asarray(site_lon, dtype=float)
    ce = rng * np.cos(el)
    e, n, u = ce * np.sin(az), ce * np.cos(az), rng * np.sin(el)
    sl, cl = np.sin(site_lat), np.cos(site_lat)
    so, co = np.sin(site_lon), np.cos(site_lon)
    t = -sl * n + cl * u  # component along the equatorial projection of Up
    d = _vec(co * t - so * e, so * t + co * e, cl * n + sl * u)
    return geodetic_to_ecef(site_lat, site_lon, site_alt) + d


# --------------------------------------------------------------------------- dynamics
def gravity(r, j2: bool = True) -> np.ndarray:
    """Gravitational acceleration (no centrifugal term) at ECEF r (..., 3) [m] -> (..., 3) [m/s^2].

    Point mass plus, when ``j2``, the J2 zonal term (gradient of the J2 potential):
    a = -GM r / |r|^3 - 1.5 J2 GM a^2 / |r|^5 * (x (1 - 5 z^2/|r|^2), y (...), z (3 - 5 z^2/|r|^2)).
    """
    r = np.asarray(r, dtype=float)
    r2 = np.einsum("...i,...i->...", r, r)
    inv_r2 = 1.0 / r2
    inv_r3 = inv_r2 / np.sqrt(r2)
    if not j2:
        return (-GM * inv_r3)[..., None] * r
    z2 = r[..., 2] * r[..., 2] * inv_r2
    c = 1.5 * J2 * WGS84_A * WGS84_A * inv_r2
    fxy = -GM * inv_r3 * (1.0 + c * (1.0 - 5.0 * z2))
    fz = -GM * inv_r3 * (1.0 + c * (3.0 - 5.0 * z2))
    return _vec(fxy * r[..., 0], fxy * r[..., 1], fz * r[..., 2])


def rotating_frame_acceleration(r, v) -> np.ndarray:
    """Coriolis plus centrifugal acceleration in ECEF: -2 w x v - w x (w x r), w = (0, 0, OMEGA_EARTH).

    r (..., 3) [m], v (..., 3) [m/s] relative to ECEF -> (..., 3) [m/s^2].
    """
    r = np.asarray(r, dtype=float)
    v = np.asarray(v, dtype=float)
    w, w2 = OMEGA_EARTH, OMEGA_EARTH * OMEGA_EARTH
    ax = 2.0 * w * v[..., 1] + w2 * r[..., 0]
    ay = -2.0 * w * v[..., 0] + w2 * r[..., 1]
    az = np.zeros(np.broadcast_shapes(r.shape, v.shape)[:-1])
    return _vec(ax, ay, az)


def inertial_to_ecef(r, t) -> np.ndarray:
    """Earth-fixed position (..., 3) [m] of the inertial position ``r`` (..., 3) [m] at time ``t`` (...) [s].

    The inertial axes are the Earth-fixed ones at t = 0 (the scenario's epoch), and the Earth
    turns about z at ``OMEGA_EARTH``: with ``th = OMEGA_EARTH t``, ``x_e = cos(th) x + sin(th) y``,
    ``y_e = -sin(th) x + cos(th) y``, ``z_e = z`` (Vallado 2013, ch. 3, the rotation about the
    pole; precession, nutation and polar motion are left out: within a day of the epoch none
    turns the axes by as much as an arc second).
    """
    r = np.asarray(r, dtype=float)
    th = OMEGA_EARTH * np.asarray(t, dtype=float)
    c, s = np.cos(th), np.sin(th)
    return _vec(c * r[..., 0] + s * r[..., 1], c * r[..., 1] - s * r[..., 0], r[..., 2])


def normal_gravity(lat) -> np.ndarray:
    """Somigliana normal gravity magnitude on the WGS84 ellipsoid [m/s^2] (TR8350.2 eq. 4-1).

    Gravitation plus centrifugal, at height zero; a reference for ``gravity``.
    """
    s2 = np.sin(np.asarray(lat, dtype=float)) ** 2
    k = (WGS84_B * _GAMMA_P) / (WGS84_A * _GAMMA_E) - 1.0
    return _GAMMA_E * (1.0 + k * s2) / np.sqrt(1.0 - WGS84_E2 * s2)


# --------------------------------------------------------------------------- atmosphere
class Atmosphere(NamedTuple):
    """US-1976 state at given altitudes; each field has the altitudes' shape."""

    density: np.ndarray  # kg/m^3
    pressure: np.ndarray  # Pa
    temperature: np.ndarray  # K (kinetic temperature)
    speed_of_sound: np.ndarray  # m/s


# Defining constants of NOAA-S/T 76-1562 (section 1.2, Table 4).
_R_STAR = 8314.32  # N m / (kmol K)
_M0 = 28.9644  # kg/kmol, sea-level mean molecular weight
_R0_US76 = 6356766.0  # m, the standard's Earth radius for geopotential height
_GAMMA_AIR = 1.40
_GMR = G0 * _M0 / _R_STAR  # K per geopotential metre
_H_B = np.array([0.0, 11000.0, 20000.0, 32000.0, 47000.0, 51000.0, 71000.0, 84852.0])  # m'
_L_B = np.array([-6.5e-3, 0.0, 1.0e-3, 2.8e-3, 0.0, -2.8e-3, -2.0e-3])  # K/m'
_T_B = np.empty(7)
_P_B = np.empty(7)
_T_B[0], _P_B[0] = 288.15, 101325.0
for _i in range(6):  # layer base values, reproduces Table 4's P_b to its printed digits
    _dh = _H_B[_i + 1] - _H_B[_i]
    _T_B[_i + 1] = _T_B[_i] + _L_B[_i] * _dh
    if _L_B[_i] == 0.0:
        _P_B[_i + 1] = _P_B[_i] * np.exp(-_GMR * _dh / _T_B[_i])
    else:
        _P_B[_i + 1] = _P_B[_i] * (_T_B[_i] / _T_B[_i + 1]) ** (_GMR / _L_B[_i])
_Z7 = 86000.0  # m, geometric altitude of H = 84852 m'

# Table 8: M/M0 from 80 to 86 km (kinetic T = molecular-scale T_M * M/M0).
_Z_MRATIO = np.arange(80000.0, 86001.0, 500.0)
_MRATIO = np.array(
    [1.0, 0.999996, 0.999989, 0.999971, 0.999941, 0.999909, 0.999870,
     0.999829, 0.999786, 0.999741, 0.999694, 0.999641, 0.999579]
)  # fmt: skip
_T_M7 = _T_B[6] + _L_B[6] * (_H_B[7] - _H_B[6])  # 186.946 K, T_M at 86 km
_SOUND_86 = float(np.sqrt(_GAMMA_AIR * _R_STAR * _T_M7 / _M0))  # 274.10 m/s, held above 86 km

# Table I of NOAA-S/T 76-1562 above 86 km: geometric altitude [km], pressure [Pa],
# density [kg/m^3], at the standard's printed precision (5 and 4-5 digits).
_UPPER = np.array(
    [
        (86.0, 3.7338e-1, 6.958e-6),
        (93.0, 1.0801e-1, 1.9997e-6),
        (100.0, 3.2011e-2, 5.6041e-7),
        (107.0, 1.0751e-2, 1.6426e-7),
        (110.0, 7.1042e-3, 9.7080e-8),
        (114.0, 4.4473e-3, 4.9752e-8),
        (121.0, 2.3402e-3, 1.9768e-8),
        (128.0, 1.4183e-3, 9.7173e-9),
        (135.0, 9.3572e-4, 5.4652e-9),
        (142.0, 6.5297e-4, 3.3580e-9),
        (150.0, 4.5422e-4, 2.0757e-9),
        (160.0, 3.0397e-4, 1.2332e-9),
        (170.0, 2.1212e-4, 7.8155e-10),
        (180.0, 1.5273e-4, 5.1944e-10),
        (190.0, 1.1267e-4, 3.5808e-10),
        (200.0, 8.4736e-5, 2.5409e-10),
        (250.0, 2.4767e-5, 6.0732e-11),
        (300.0, 8.7704e-6, 1.9160e-11),
        (400.0, 1.4518e-6, 2.8031e-12),
        (500.0, 3.0236e-7, 5.2159e-13),
        (600.0, 8.2130e-8, 1.1369e-13),
        (700.0, 3.1908e-8, 3.0698e-14),
        (800.0, 1.7036e-8, 1.1361e-14),
        (900.0, 1.0873e-8, 5.759e-15),
        (1000.0, 7.5138e-9, 3.5614e-15),
    ]
)
_Z_UP = _UPPER[:, 0] * 1000.0
_Z12 = _Z_UP[-1]


def _kinetic_temperature_upper(z):
    """Kinetic temperature [K] from 86 to 1000 km geometric (NOAA-S/T 76-1562, Part 1)."""
    zk = z / 1000.0
    t_ellipse = 263.1905 - 76.3232 * np.sqrt(np.clip(1.0 - ((zk - 91.0) / 19.9429) ** 2, 0.0, None))
    t_linear = 240.0 + 12.0 * (zk - 110.0)
    xi = (zk - 120.0) * (6356.766 + 120.0) / (6356.766 + zk)
    t_exp = 1000.0 - (1000.0 - 360.0) * np.exp(-0.01875 * xi)
    return np.select(
        [zk <= 91.0, zk < 110.0, zk <= 120.0], [186.8673, t_ellipse, t_linear], t_exp
    )


#: The upper atmosphere's two piecewise cubics as stored (:func:`upper_interpolants` builds
#: them with SciPy; a test holds the file equal to it, bit for bit): importing
#: ``scipy.interpolate`` cost every command ~0.4 s.
UPPER_TABLE_FILE = Path(__file__).parent / "data" / "us76_upper.npz"


def upper_interpolants() -> dict[str, np.ndarray]:
    """The piecewise cubics of the upper atmosphere (86-1000 km), as SciPy ``PPoly``
    breakpoints ``x_*`` (n + 1,) [m] and coefficients ``c_*`` (4, n): ln p, a cubic Hermite
    with the hydrostatic slope d ln p/dz = -g rho/p at each node, which the table fixes
    exactly (``*_p``); mean molecular weight M = rho R* T / p, a not-a-knot cubic spline in
    ln M (``*_m``); density then follows from the gas law with the exact T.  What
    :data:`UPPER_TABLE_FILE` stores (``python tools/us76_upper_to_npz.py`` writes it)."""
    from scipy.interpolate import CubicHermiteSpline, CubicSpline

    p, rho = _UPPER[:, 1], _UPPER[:, 2]
    g = G0 * (_R0_US76 / (_R0_US76 + _Z_UP)) ** 2
    ln_p = CubicHermiteSpline(_Z_UP, np.log(p), -g * rho / p)
    ln_m = CubicSpline(_Z_UP, np.log(rho * _R_STAR * _kinetic_temperature_upper(_Z_UP) / p))
    return {"x_p": ln_p.x, "c_p": ln_p.c, "x_m": ln_m.x, "c_m": ln_m.c}


def _ppoly(c, xb, x):
    """A piecewise polynomial (coefficients ``c`` (k, n), breakpoints ``xb`` (n + 1,)) at
    ``x`` (any shape) within its breakpoints: the interval and the sum of powers, in the same
    order, of SciPy's ``PPoly`` evaluation (so the same bits)."""
    i = np.clip(np.searchsorted(xb, x, side="right") - 1, 0, xb.size - 2)
    s = x - xb[i]
    res, z = np.zeros_like(s), np.ones_like(s)
    k = c.shape[0]
    for kp in range(k):
        res = res + c[k - kp - 1, i] * z
        if kp < k - 1:
            z = z * s
    return res


def _upper_table() -> dict[str, np.ndarray]:
    try:
        with np.load(UPPER_TABLE_FILE) as f:
            return {k: f[k] for k in f.files}
    except FileNotFoundError:  # a source tree without the file: built here (imports SciPy)
        return upper_interpolants()


_TABLE = _upper_table()
_PPOLY_X_P, _PPOLY_C_P, _PPOLY_X_M, _PPOLY_C_M = (np.ascontiguousarray(_TABLE[k], float)
                                                    for k in ("x_p", "c_p", "x_m", "c_m"))


def atmosphere(alt) -> Atmosphere:
    """U.S. Standard Atmosphere 1976 at geometric altitude ``alt`` [m] (any shape).

    0-86 km: the standard's 7 layers in geopotential height, exact. 86-1000 km:
    kinetic temperature from the standard's closed form; pressure and mean
    molecular weight interpolated (log-cubic) through the standard's Table I and
    density from the gas law; within 0.2% of its printed values between nodes.
    Speed of sound is defined by the standard only to 86 km: above, the 86 km
    value (274.10 m/s) is held. Above 1000 km density and pressure are 0 and
    temperature keeps its 1000 km value (999.9997 K). Below 0 m the sea-level
    values are returned.
    """
    z = np.clip(np.asarray(alt, dtype=float), 0.0, None)
    # -- lower atmosphere (evaluated everywhere, selected below 86 km)
    zl = np.minimum(z, _Z7)
    h = _R0_US76 * zl / (_R0_US76 + zl)  # geopotential height, m'
    i = np.clip(np.searchsorted(_H_B, h, side="right") - 1, 0, 6)
    tb, lb, pb, dh = _T_B[i], _L_B[i], _P_B[i], h - _H_B[i]
    tm = tb + lb * dh
    iso = lb == 0.0
    lsafe = np.where(iso, 1.0, lb)
    p_low = pb * np.where(iso, np.exp(-_GMR * dh / tb), (tb / tm) ** (_GMR / lsafe))
    rho_low = p_low * _M0 / (_R_STAR * tm)
    t_low = tm * np.interp(zl, _Z_MRATIO, _MRATIO, left=1.0)
    a_low = np.sqrt(_GAMMA_AIR * _R_STAR / _M0 * tm)

    upper = z > _Z7
    if not np.any(upper):
        return Atmosphere(rho_low, p_low, t_low, a_low)
    # -- upper atmosphere, 86-1000 km, evaluated on those altitudes only
    zu = np.minimum(z[upper], _Z12)
    t_up = _kinetic_temperature_upper(zu)
    p_up = np.exp(_ppoly(_PPOLY_C_P, _PPOLY_X_P, zu))
    rho_up = p_up * np.exp(_ppoly(_PPOLY_C_M, _PPOLY_X_M, zu)) / (_R_STAR * t_up)
    space = z[upper] > _Z12
    p_up[space] = 0.0
    rho_up[space] = 0.0
    rho, p, t, a = (np.asarray(x) for x in (rho_low, p_low, t_low, a_low))  # fresh arrays
    rho[upper], p[upper], t[upper], a[upper] = rho_up, p_up, t_up, _SOUND_86
    return Atmosphere(rho[()], p[()], t[()], a[()])




@nb.njit(cache=True, inline="always")
def _ppoly_at(c, xb, x):
    """A SciPy ``PPoly`` (coefficients ``c`` (k, n), breakpoints ``xb`` (n + 1,)) at ``x``
    within its breakpoints: the same interval and the same sum of powers, in the same order,
    as SciPy's evaluation."""
    i = np.searchsorted(xb, x, side="right") - 1
    i = min(max(i, 0), xb.size - 2)
    s = x - xb[i]
    res, z = 0.0, 1.0
    k = c.shape[0]
    for kp in range(k):
        res = res + c[k - kp - 1, i] * z
        if kp < k - 1:
            z *= s
    return res


@_inline
def density_point(alt):
    """Density [kg/m^3] of :func:`atmosphere` at altitude ``alt`` [m], compiled, for a kernel's
    inner loop (the tracker's drag floor); the same operations."""
    z = max(alt, 0.0)
    if z > _Z12:
        return 0.0
    if z > _Z7:
        zk = z / 1000.0
        if zk <= 91.0:
            t = 186.8673
        elif zk < 110.0:
            r = (zk - 91.0) / 19.9429
            t = 263.1905 - 76.3232 * math.sqrt(max(1.0 - r * r, 0.0))
        elif zk <= 120.0:
            t = 240.0 + 12.0 * (zk - 110.0)
        else:
            xi = (zk - 120.0) * (6356.766 + 120.0) / (6356.766 + zk)
            t = 1000.0 - (1000.0 - 360.0) * math.exp(-0.01875 * xi)
        p = math.exp(_ppoly_at(_PPOLY_C_P, _PPOLY_X_P, z))
        return p * math.exp(_ppoly_at(_PPOLY_C_M, _PPOLY_X_M, z)) / (_R_STAR * t)
    h = _R0_US76 * z / (_R0_US76 + z)
    j = min(max(np.searchsorted(_H_B, h, side="right") - 1, 0), 6)
    tb, lb, dh = _T_B[j], _L_B[j], h - _H_B[j]
    tm = tb + lb * dh
    if lb == 0.0:
        p = _P_B[j] * math.exp(-_GMR * dh / tb)
    else:
        p = _P_B[j] * (tb / tm) ** (_GMR / lb)
    return p * _M0 / (_R_STAR * tm)


@nb.njit(cache=True, error_model="numpy")
def density_rows(alt):
    """:func:`density_point` at altitudes ``alt`` (n,) [m]: the density [kg/m^3] of
    :func:`atmosphere`, compiled for the loops that need only the density."""
    out = np.empty(alt.size)
    for i in range(alt.size):
        out[i] = density_point(alt[i])
    return out


# --------------------------------------------------------------------------- line of sight
def line_of_sight(a, b, margin_m=0.0) -> np.ndarray:
    """True where the straight segment a -> b (ECEF (..., 3) [m]) stays above the ellipsoid.

    The ellipsoid is inflated to semi-axes (a + margin_m, b + margin_m); scaling
    x, y by 1/(a + m) and z by 1/(b + m) turns it into the unit sphere, where the
    segment's closest approach to the centre is a closed form. The segment is
    blocked only when that closest approach lies strictly between the endpoints
    and inside the sphere (0.3 mm tolerance). So an endpoint on the surface sees
    every direction above its tangent plane, and an endpoint below the inflated
    surface (a ground radar with margin_m > 0) is not blocked by the layer it
    sits in: rays that rise from it are clear, the margin acts on grazing paths
    between elevated points. Geometric only: no refraction, no terrain.
    Symmetric in a and b. margin_m broadcasts like the batch axes.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    m = np.asarray(margin_m, dtype=float)
    ie = 1.0 / (WGS84_A + m)
    ip = 1.0 / (WGS84_B + m)
    ax, ay, az = a[..., 0] * ie, a[..., 1] * ie, a[..., 2] * ip
    dx, dy, dz = b[..., 0] * ie - ax, b[..., 1] * ie - ay, b[..., 2] * ip - az
    dd = dx * dx + dy * dy + dz * dz
    ad = ax * dx + ay * dy + az * dz
    t = -ad / np.where(dd > 0.0, dd, 1.0)
    interior = (t > 0.0) & (t < 1.0)
    closest2 = (ax * ax + ay * ay + az * az) - t * t * dd  # |a + t d|^2 at t = -ad/dd
    return ~(interior & (closest2 < 1.0 - 1e-10))


def below_surface(r, depth_m) -> np.ndarray:
    """True where ECEF points ``r`` (..., 3) [m] lie inside the WGS84 ellipsoid shrunk to
    semi-axes (a - depth_m, b - depth_m): more than about ``depth_m`` below the surface.

    False for ``nan`` points.  A cheap test (no geodetic conversion) for states that can only
    be a missile that has already come down.  :func:`below_surface_point` is its compiled
    twin for one point, in the same operations.
    """
    r = np.asarray(r, dtype=float)
    ie, ip = 1.0 / (WGS84_A - depth_m), 1.0 / (WGS84_B - depth_m)
    x, y, z = r[..., 0] * ie, r[..., 1] * ie, r[..., 2] * ip
    return x * x + y * y + z * z < 1.0


@_inline
def below_surface_point(x, y, z, depth_m):
    """:func:`below_surface` of one ECEF point (x, y, z) [m], in its operations, for a kernel's
    inner loop (the trackers' end of a track that came down)."""
    ie, ip = 1.0 / (WGS84_A - depth_m), 1.0 / (WGS84_B - depth_m)
    px, py, pz = x * ie, y * ie, z * ip
    return px * px + py * py + pz * pz < 1.0


# --------------------------------------------------------------------------- sphere & ellipsoid
def unit_vector(lat, lon) -> np.ndarray:
    """Unit vector (..., 3) along the direction of latitude ``lat``, longitude ``lon`` [rad]
    (on the sphere: the local up; ECEF axes)."""
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    cl = np.cos(lat)
    return np.stack([cl * np.cos(lon), cl * np.sin(lon), np.sin(lat)], axis=-1)


def great_circle_distance(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance [m] on the mean sphere (R_EARTH_MEAN), haversine form."""
    # compiled (haversine_point); numba kernels, not a numba ufunc: numpy would report the
    # floating-point flags of its vectorised comparisons with nan as warnings
    lat2, lon2 = np.asarray(lat2, dtype=float), np.asarray(lon2, dtype=float)
    if np.ndim(lat1) == 0 and np.ndim(lon1) == 0 and lat2.ndim:  # from one point (a site): cos(lat1) once
        if lat2.shape != lon2.shape:
            lat2, lon2 = np.broadcast_arrays(lat2, lon2)
        d = haversine_from(float(lat1), float(lon1), lat2.ravel(), lon2.ravel())
        return d if lat2.ndim == 1 else d.reshape(lat2.shape)
    lat1, lon1 = np.asarray(lat1, dtype=float), np.asarray(lon1, dtype=float)
    shape = lat1.shape
    if lon1.shape == shape and lat2.shape == shape and lon2.shape == shape and lat1.size <= 4096:
        return _haversine_pairs(lat1.ravel(), lon1.ravel(), lat2.ravel(), lon2.ravel()).reshape(shape)[()]
    # pairs that broadcast (the numpy form takes each cosine once, before broadcasting), or
    # many pairs (where numpy's loops are as fast)
    return _great_circle_distance_numpy(lat1, lon1, lat2, lon2)


def _great_circle_distance_numpy(lat1, lon1, lat2, lon2) -> np.ndarray:
    """:func:`great_circle_distance` in numpy operations: the reference of the compiled form."""
    lat1, lon1, lat2, lon2 = (np.asarray(x, dtype=float) for x in (lat1, lon1, lat2, lon2))
    h = np.sin(0.5 * (lat2 - lat1)) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(0.5 * (lon2 - lon1)) ** 2
    return 2.0 * R_EARTH_MEAN * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def initial_bearing(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Initial great-circle bearing from point 1 to point 2 [rad], clockwise from north in [0, 2 pi)."""
    lat1, lon1, lat2, lon2 = (np.asarray(x, dtype=float) for x in (lat1, lon1, lat2, lon2))
    dlon = lon2 - lon1
    y = np.sin(dlon) * np.cos(lat2)
    x = np.cos(lat1) * np.sin(lat2) - np.sin(lat1) * np.cos(lat2) * np.cos(dlon)
    brg = np.mod(np.arctan2(y, x), 2.0 * np.pi)
    return np.where(brg >= 2.0 * np.pi, 0.0, brg)[()]


def destination(lat, lon, bearing, distance) -> tuple[np.ndarray, np.ndarray]:
    """Point reached along a great circle on the mean sphere: (lat2, lon2) [rad], lon2 in [-pi, pi)."""
    lat, lon, bearing, distance = (np.asarray(x, dtype=float) for x in (lat, lon, bearing, distance))
    d = distance / R_EARTH_MEAN
    sl, cl = np.sin(lat), np.cos(lat)
    sd, cd = np.sin(d), np.cos(d)
    lat2 = np.arcsin(np.clip(sl * cd + cl * sd * np.cos(bearing), -1.0, 1.0))
    lon2 = lon + np.arctan2(np.sin(bearing) * sd * cl, cd - sl * np.sin(lat2))
    return lat2, np.mod(lon2 + np.pi, 2.0 * np.pi) - np.pi


def _vincenty_terms(lam, su1, cu1, su2, cu2):
    """sin/cos sigma, sigma, sin alpha, cos^2 alpha, cos 2 sigma_m of Vincenty's inverse."""
    sl, cl = np.sin(lam), np.cos(lam)
    ss = np.hypot(cu2 * sl, cu1 * su2 - su1 * cu2 * cl)
    cs = su1 * su2 + cu1 * cu2 * cl
    sigma = np.arctan2(ss, cs)
    sa = cu1 * cu2 * sl / np.where(ss > 0.0, ss, 1.0)
    c2a = 1.0 - sa * sa
    c2sm = np.where(c2a > 0.0, cs - 2.0 * su1 * su2 / np.where(c2a > 0.0, c2a, 1.0), 0.0)
    return ss, cs, sigma, sa, c2a, c2sm


def geodesic_distance(lat1, lon1, lat2, lon2, *, max_iter: int = 200) -> np.ndarray:
    """Shortest distance [m] on the WGS84 ellipsoid: Vincenty's inverse method, vectorised.

    Sub-millimetre wherever the iteration converges, i.e. everywhere except
    nearly antipodal pairs (within about half a degree of each other's antipode),
    which return NaN. Iterates over the whole batch at once, then only over the
    pairs not yet converged.
    """
    args = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (lat1, lon1, lat2, lon2)))
    shape = args[0].shape
    lat1, lon1, lat2, lon2 = (x.ravel() for x in args)
    f, b = WGS84_F, WGS84_B
    big_l = np.mod(lon2 - lon1 + np.pi, 2.0 * np.pi) - np.pi
    u1 = np.arctan((1.0 - f) * np.tan(lat1))
    u2 = np.arctan((1.0 - f) * np.tan(lat2))
    su1, cu1, su2, cu2 = np.sin(u1), np.cos(u1), np.sin(u2), np.cos(u2)
    lam = big_l.copy()
    converged = np.zeros(lam.shape, dtype=bool)
    act = np.arange(lam.size)
    for _ in range(max_iter):  # sweeps over the batch, shrinking to the unconverged pairs
        ss, cs, sigma, sa, c2a, c2sm = _vincenty_terms(lam[act], su1[act], cu1[act], su2[act], cu2[act])
        c = f / 16.0 * c2a * (4.0 + f * (4.0 - 3.0 * c2a))
        new = big_l[act] + (1.0 - c) * f * sa * (
            sigma + c * ss * (c2sm + c * cs * (-1.0 + 2.0 * c2sm * c2sm))
        )
        ok = np.abs(new - lam[act]) < 1e-12
        lam[act] = new
        converged[act[ok]] = True
        act = act[~ok & (np.abs(new) <= np.pi)]
        if act.size == 0:
            break
    ss, cs, sigma, sa, c2a, c2sm = _vincenty_terms(lam, su1, cu1, su2, cu2)
    usq = c2a * (WGS84_A * WGS84_A - b * b) / (b * b)
    big_a = 1.0 + usq / 16384.0 * (4096.0 + usq * (-768.0 + usq * (320.0 - 175.0 * usq)))
    big_b = usq / 1024.0 * (256.0 + usq * (-128.0 + usq * (74.0 - 47.0 * usq)))
    c2sm2 = c2sm * c2sm
    dsig = big_b * ss * (
        c2sm
        + big_b / 4.0 * (
            cs * (-1.0 + 2.0 * c2sm2) - big_b / 6.0 * c2sm * (-3.0 + 4.0 * ss * ss) * (-3.0 + 4.0 * c2sm2)
        )
    )
    s = b * big_a * (sigma - dsig)
    return np.where(converged, s, np.nan).reshape(shape)
