"""Whether a radar sees a point: the one field-of-regard test of the project, compiled.

A radar at a geodetic site sees an ECEF point [m] when

* its azimuth is within ``half_fov`` of the boresight (a field of ``half_fov >= pi``
  sees all around),
* its elevation above the site's ellipsoid tangent plane is in ``[el_lo, el_hi]``
  (``el_lo`` = the larger of the spec's lowest elevation and the site's mask),
* its slant range is positive, and
* the line of sight from the site to it stays above the Earth.

**Refraction.**  The air's refractive index falls with height, so a radar ray bends down
and reaches beyond the geometric horizon, and a target shows at a higher (apparent)
elevation than its geometric one.  By default the radars look through the standard
exponential atmosphere (:mod:`shieldlab.sensors.atmosphere`): for each radar, a ray trace
gives, at each target height, the farthest ground distance seen above its elevation floor
(no farther than the radio horizon) and the nearest seen below its ceiling; a target is
in the field when its ground distance from the site lies between them (interpolated in the
square root of its height; on the sphere of the Earth's radius of curvature in its azimuth,
``1/R_α = cos²α / M + sin²α / N``).  Strong near the ground, none far above it: 66 km past
the geometric horizon against a target at 100 km, where a 4/3 Earth would put 175 km.

A scenario may instead set one effective-Earth factor ``k`` for every ray (Skolnik,
*Introduction to Radar Systems*, 3rd ed., 2001, ch. 8; ITU-R P.834): heights above the
Earth and distances along it are kept, angles at the Earth's centre shrink by ``k``, and on
the sphere of radius ``k R_α`` the straight line gives

* the *apparent* elevation, the one the elevation limits and mask are compared with, and
* the clearance: the line must stay above the ``k R_α`` sphere (a smooth Earth: no terrain).

``k = 1`` is the geometric test: the same operations as :func:`shieldlab.earth.ecef_to_aer`
and the closed form of :func:`shieldlab.earth.line_of_sight` on the WGS84 ellipsoid, no
margin.  Azimuth is not bent.  Reported angles are the radar's corrected (geometric) ones:
radars remove the standard refraction from their elevation readings, so refraction here
moves only what is seen, not where it is reported.

Written per point so that the scan of a whole path runs in compiled code.
:func:`shieldlab.sensors.radar.visible` (the engine's sensors), the defended footprint's
cue (:mod:`shieldlab.analysis.footprint`, through :func:`expected_confirmation_time`) and
the coverage maps all call it.  Range limits are detection's business (Pd), not
visibility's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from shieldlab.earth import WGS84_A, WGS84_B, WGS84_E2
from shieldlab.sensors import atmosphere
from shieldlab.sensors.signature import rcs_point

_TWO_PI = 2.0 * math.pi

#: The classic effective-Earth radius factor near the ground (Skolnik 2001, ch. 8).
STANDARD_K = 4.0 / 3.0


#: Layout of :func:`refraction_terms`: mode, 1/M, 1/N, site height, then three tables.
_L = atmosphere.HEIGHTS_M.size
# the tables' abscissa: sqrt(height above the site), where they are near linear (a grazing
# ray's reach grows as the square root of the height it climbs)
_SQRT_H = np.sqrt(atmosphere.HEIGHTS_M)
#: Modes (the first term): the standard atmosphere's ray-traced tables; a geometric line of
#: sight; anything else is a constant effective-Earth factor.
STANDARD, GEOMETRIC = 0.0, 1.0


def refraction_terms(lat: float, alt: float, k: float | None, el_lo: float = -math.pi / 2,
                     el_hi: float = math.pi / 2) -> np.ndarray:
    """What the compiled test reads of the atmosphere and the site, (4 + 2 L,): the mode
    (:data:`STANDARD` for ``k`` None, :data:`GEOMETRIC` for ``k`` = 1, else ``k``), 1/M,
    1/N (``M``, ``N`` the WGS84 meridian and prime-vertical radii of curvature [m] at
    geodetic latitude ``lat`` [rad]), the site's height ``alt`` [m]; then, in the standard
    atmosphere, the ray-traced ground distances of :func:`shieldlab.sensors.atmosphere.reach_table`
    for the elevation limits ``el_lo``, ``el_hi`` [rad] at the L heights
    ``atmosphere.HEIGHTS_M`` above the site (the farthest above the floor, the nearest below
    the ceiling), zeros otherwise."""
    w = 1.0 - WGS84_E2 * math.sin(lat) ** 2
    mode = STANDARD if k is None else float(k)
    head = np.array([mode, w**1.5 / (WGS84_A * (1.0 - WGS84_E2)), math.sqrt(w) / WGS84_A, float(alt)])
    tables = atmosphere.reach_table(alt, el_lo, el_hi).ravel() if k is None else np.zeros(2 * _L)
    return np.concatenate([head, tables])


@dataclass(frozen=True)
class FieldOfRegard:
    """A radar's field of regard as plain numbers (SI, radians): what the compiled test reads."""

    site: np.ndarray  # (3,) ECEF [m]
    trig: np.ndarray  # (4,) sin and cos of the site latitude, sin and cos of its longitude
    boresight: float  # azimuth of the boresight [rad], clockwise from north
    half_fov: float  # half the azimuth field [rad]
    el_lo: float  # lowest elevation seen [rad]
    el_hi: float  # highest elevation seen [rad]
    refr: np.ndarray  # refraction and site terms (:func:`refraction_terms`)

    @classmethod
    def of(cls, radar) -> FieldOfRegard:
        """The field of regard of a placed :class:`~shieldlab.sensors.radar.Radar`."""
        spec = radar.spec
        trig = np.array([np.sin(radar.lat), np.cos(radar.lat), np.sin(radar.lon), np.cos(radar.lon)], float)
        return cls(np.asarray(radar.site_ecef, float), trig, float(radar.boresight_az),
                   0.5 * math.radians(spec.az_fov_deg), radar.el_floor,
                   math.radians(spec.el_max_deg),
                   refraction_terms(radar.lat, radar.alt, radar.refraction_k,
                                    radar.el_floor,
                                    math.radians(spec.el_max_deg)))

    def args(self) -> tuple:
        """Arguments of the compiled functions after the points."""
        return (self.site, self.trig, self.boresight, self.half_fov, self.el_lo, self.el_hi, self.refr)


@nb.njit(cache=True, error_model="numpy", inline="always")
def _osculating(e, n, u, horiz, inv_m, inv_n, h_site):
    """The target at (east, north, up) = (e, n, u) [m] from the site on the sphere of the
    Earth's radius of curvature in its azimuth (Euler): (radius, central angle, height)."""
    if horiz > 0.0:
        ca, sa = n / horiz, e / horiz
        radius = 1.0 / (ca * ca * inv_m + sa * sa * inv_n)
    else:
        radius = 1.0 / inv_m
    vert = radius + h_site + u  # the target, from the centre of curvature, along the site's vertical
    return radius, math.atan2(horiz, vert), math.hypot(horiz, vert) - radius


@nb.njit(cache=True, error_model="numpy", inline="always")
def _in_azimuth(e, n, boresight, half_fov):
    if half_fov >= math.pi:
        return True
    az = math.atan2(e, n) % _TWO_PI
    return abs((az - boresight + math.pi) % _TWO_PI - math.pi) <= half_fov


@nb.njit(cache=True, error_model="numpy", inline="always")
def _sees_effective(e, n, horiz, boresight, half_fov, el_lo, el_hi, k, radius, theta, h_site, h_target):
    """The field-of-regard test over an effective Earth of ``k`` times ``radius`` (module
    docstring): heights kept, the central angle ``theta`` divided by ``k``."""
    rk = k * radius
    rs, rt, th = rk + h_site, rk + h_target, theta / k
    dh, dv = rt * math.sin(th), rt * math.cos(th) - rs
    el = math.atan2(dv, dh)  # apparent elevation
    if el < el_lo or el > el_hi or not _in_azimuth(e, n, boresight, half_fov):
        return False
    # the straight line (0, rs) -> (dh, rs + dv) must stay above the sphere of radius rk
    dd = dh * dh + dv * dv
    s = -rs * dv / (dd if dd > 0.0 else 1.0)
    return not (0.0 < s < 1.0 and (s * dh) ** 2 + (rs + s * dv) ** 2 < rk * rk * (1.0 - 1e-10))


@nb.njit(cache=True, error_model="numpy", inline="always")
def _sees_refracted(e, n, u, horiz, boresight, half_fov, el_lo, el_hi, refr):
    """The field-of-regard test through the atmosphere of ``refr`` (module docstring), the
    target at (east, north, up) = (e, n, u) [m] from the site, ``horiz`` = hypot(e, n)."""
    h_site = refr[3]
    radius, theta, h_target = _osculating(e, n, u, horiz, refr[1], refr[2], h_site)
    if refr[0] != STANDARD:  # one effective-Earth factor for every ray
        return _sees_effective(e, n, horiz, boresight, half_fov, el_lo, el_hi, refr[0], radius, theta, h_site,
                               h_target)
    if h_target < h_site or h_target - h_site > atmosphere.HEIGHTS_M[-1]:
        # below the site (the ray trace follows rising rays) or beyond the tables: the
        # near-ground 4/3 Earth, or a straight line far above the air
        k = STANDARD_K if h_target < h_site else 1.0
        return _sees_effective(e, n, horiz, boresight, half_fov, el_lo, el_hi, k, radius, theta, h_site, h_target)
    if not _in_azimuth(e, n, boresight, half_fov):  # the cheap test first
        return False
    # the ray trace's ground distances for this height, on the sphere of this azimuth (a
    # grazing ray's reach grows as the square root of the radius); one index for both tables
    x = math.sqrt(h_target - h_site)
    j = min(max(int(np.searchsorted(_SQRT_H, x, side="right")) - 1, 0), _L - 2)
    f = (x - _SQRT_H[j]) / (_SQRT_H[j + 1] - _SQRT_H[j])
    lo, hi = 4 + j, 4 + _L + j
    far = refr[lo] + f * (refr[lo + 1] - refr[lo])
    near = refr[hi] + f * (refr[hi + 1] - refr[hi])
    ground = radius * theta * math.sqrt(atmosphere.R_TRACE / radius)
    return near <= ground <= far


@nb.njit(cache=True, error_model="numpy", inline="always")
def sees(x, y, z, site, trig, boresight, half_fov, el_lo, el_hi, refr, max_range):
    """Whether ECEF point (x, y, z) [m] is in the field of regard and within ``max_range`` [m]
    (slant range), through the atmosphere of ``refr`` (:func:`refraction_terms`)."""
    dx, dy, dz = x - site[0], y - site[1], z - site[2]
    sl, cl, so, co = trig[0], trig[1], trig[2], trig[3]
    # east, north, up as earth._enu_components forms them
    t = co * dx + so * dy
    e = -so * dx + co * dy
    n = -sl * t + cl * dz
    u = cl * t + sl * dz
    horiz = math.hypot(e, n)
    rng = math.hypot(horiz, u)
    if not rng > 0.0 or rng > max_range:
        return False
    if refr[0] != GEOMETRIC:
        return _sees_refracted(e, n, u, horiz, boresight, half_fov, el_lo, el_hi, refr)
    el = math.atan2(u, horiz)
    if el < el_lo or el > el_hi:
        return False
    if not _in_azimuth(e, n, boresight, half_fov):
        return False
    # line of sight: the segment site -> point, scaled so the ellipsoid is the unit sphere
    ie, ip = 1.0 / WGS84_A, 1.0 / WGS84_B
    ax, ay, az_ = site[0] * ie, site[1] * ie, site[2] * ip
    qx, qy, qz = x * ie - ax, y * ie - ay, z * ip - az_
    dd = qx * qx + qy * qy + qz * qz
    ad = ax * qx + ay * qy + az_ * qz
    s = -ad / (dd if dd > 0.0 else 1.0)
    if 0.0 < s < 1.0 and (ax * ax + ay * ay + az_ * az_) - s * s * dd < 1.0 - 1e-10:
        return False
    return True


@nb.njit(cache=True, error_model="numpy", inline="always")
def face_gain(az, boresight, width, field, n):
    """Two-way gain factor of array faces of azimuth ``width`` [rad] tiling a ``field`` [rad]
    about ``boresight`` [rad] towards azimuth ``az`` [rad]: ``cos(θ)^n``, θ off the normal of
    the face that looks there (:func:`shieldlab.sensors.radar.scan_gain`, its NumPy twin)."""
    two_pi = 2.0 * math.pi
    d = (az - boresight + math.pi) % two_pi - math.pi
    start = -0.5 * width if field >= two_pi - 1e-9 else -0.5 * field
    off = (d - start) % width - 0.5 * width
    return math.cos(off) ** n


@nb.njit(cache=True, error_model="numpy")
def visible_rows(p, site, trig, boresight, half_fov, el_lo, el_hi, refr):
    """:func:`sees` over ECEF points ``p`` (M, 3) [m], no range limit: (M,) bool."""
    out = np.empty(p.shape[0], np.bool_)
    for k in range(p.shape[0]):
        out[k] = sees(p[k, 0], p[k, 1], p[k, 2], site, trig, boresight, half_fov, el_lo, el_hi, refr, np.inf)
    return out


@nb.njit(cache=True, error_model="numpy")
def expected_confirmation_time(pos, vel, n_valid, dt, burnout, sig, cue, init_hits, period, search, snr50, range50,
                               pfa, site, trig, boresight, half_fov, el_lo, el_hi, refr, faces):
    """When a system of S radars is expected to confirm a track on each path [s]: the first
    scan at which the radars' expected detections, summed, reach ``init_hits`` (the
    tracker confirms at its ``init_hits``-th detection from any of the system's radars).

    Radar ``s`` scans every ``period[s]`` [s] from time 0; at each scan a path in its field
    of regard (:func:`sees`) at slant range ``R`` is detected with the single-look
    Swerling-1 probability of :mod:`shieldlab.sensors.radar`: ``SNR = snr50[s] (R50 /
    R)^4``, ``R50 = range50[s] σ^(1/4)`` (``range50``: the Pd = 0.5 range against 1 m²
    [m]; ``σ`` the path's RCS there, :mod:`shieldlab.sensors.signature`: ``sig`` (3,) =
    nose-on, broadside and booster [m²], the booster before ``burnout[m]`` [s], after it by
    the angle between the velocity and the line of sight), ``Pd = pfa[s]^(1 / (1 + SNR))``,
    if looked at: radar ``s`` searches every ``search[s]``-th scan and, once it holds the
    path (from its first detection, until the path leaves its field) or is cued to it (from
    ``cue[m]`` [s], an early-warning launch report; ``inf``: never), looks every scan
    (:func:`shieldlab.sensors.radar.looks`).  In expectation a search scan adds Pd and a
    track revisit Pd times the probability that the radar holds the path, ``1 - Π(1 -
    Pd)`` over its search scans so far.  Scans of all radars are taken in time order (ties
    in radar order).  ``pos``, ``vel`` (M, J, 3) ECEF paths [m, m/s] sampled every ``dt``
    [s], the first ``n_valid[m]`` real; a scan between samples reads the straight segment
    between them.  The radars' fields: ``site`` (S, 3), ``trig`` (S, 4), ``refr`` (S, 4 + 2 L)
    and the rest (S,) as :meth:`FieldOfRegard.args`; ``faces`` (S, 3) their array faces, the
    SNR times :func:`face_gain` (:func:`shieldlab.sensors.radar.face_geometry`).  Returns
    (M,), ``inf`` where the sum never gets there."""
    M = pos.shape[0]
    out = np.full(M, np.inf)
    nxt = np.zeros(period.size, np.int64)
    free = np.ones(period.size)
    got = np.zeros(period.size)
    for m in range(M):
        out[m] = _confirmation_time(m, pos, vel, n_valid, dt, burnout, sig, cue, init_hits, period, search, snr50,
                                    range50, pfa, site, trig, boresight, half_fov, el_lo, el_hi, refr, faces, nxt,
                                    free, got, False)[0]
    return out


@nb.njit(parallel=True, cache=True, error_model="numpy")
def expected_confirmation_times(pos, vel, n_valid, dt, burnout, sig, cue, init_hits, period, search, snr50,
                                range50, pfa, site, trig, boresight, half_fov, el_lo, el_hi, refr, faces, lead):
    """:func:`expected_confirmation_time` with the paths shared among Numba's threads
    (``prange``; ``NUMBA_NUM_THREADS``), for the many paths of a footprint [s], (M,).  Each
    path is the serial function's own loop, on its own scratch rows, and writes only its own
    entry: the answers are the serial ones to the bit, whatever the thread count.

    With ``lead`` true, also which radar leads each path's track: the one that alone would
    confirm it first, the first whose own expected detections reach ``init_hits`` (each
    radar's scans, detections and hold of the path are its own, so its sum is the one it
    makes alone: the scans go on past the system's confirmation until one gets there; the
    same index as the smallest of S one-radar runs, to the bit, without them).  Returns
    ``(times (M,), lead (M,) int)``, the lead -1 where no radar alone gets there (or
    ``lead`` false)."""
    M = pos.shape[0]
    S = period.size
    out = np.full(M, np.inf)
    first = np.full(M, -1, np.int64)
    # per path, its radars' scan counters, hold probabilities and detections (the serial loop's scratch)
    nxt = np.zeros((M, S), np.int64)
    free = np.ones((M, S))
    got = np.zeros((M, S))
    for m in nb.prange(M):
        out[m], first[m] = _confirmation_time(m, pos, vel, n_valid, dt, burnout, sig, cue, init_hits, period, search,
                                              snr50, range50, pfa, site, trig, boresight, half_fov, el_lo, el_hi, refr,
                                              faces, nxt[m], free[m], got[m], lead)
    return out, first


@nb.njit(cache=True, error_model="numpy")
def _confirmation_time(m, pos, vel, n_valid, dt, burnout, sig, cue, init_hits, period, search, snr50, range50, pfa,
                       site, trig, boresight, half_fov, el_lo, el_hi, refr, faces, nxt, free, got, lead):
    """Path ``m``'s expected confirmation time [s] (``inf``: never) for
    :func:`expected_confirmation_time`, and with ``lead`` the radar that alone would confirm
    first (:func:`expected_confirmation_times`; -1: none, or ``lead`` false): ``(t, radar)``.
    ``nxt`` (S,) int, ``free`` and ``got`` (S,) are scratch."""
    S = period.size
    if n_valid[m] < 1 or S == 0:
        return np.inf, -1
    t_last = (n_valid[m] - 1) * dt
    nxt[:] = 0
    free[:] = 1.0  # per radar, the probability that it does not hold the path yet
    got[:] = 0.0  # per radar, its own expected detections
    hits = 0.0
    t_sys = np.inf
    while True:
        # the radar whose next scan comes first
        s, ts = -1, np.inf
        for k in range(S):
            tk = nxt[k] * period[k]
            if tk < ts:
                s, ts = k, tk
        if ts > t_last + 1e-9:
            return t_sys, -1
        k_s = nxt[s]
        nxt[s] += 1
        j = min(int(ts / dt), n_valid[m] - 1)
        f = ts / dt - j
        j1 = min(j + 1, n_valid[m] - 1)
        x = pos[m, j, 0] + f * (pos[m, j1, 0] - pos[m, j, 0])
        y = pos[m, j, 1] + f * (pos[m, j1, 1] - pos[m, j, 1])
        z = pos[m, j, 2] + f * (pos[m, j1, 2] - pos[m, j, 2])
        if sees(x, y, z, site[s], trig[s], boresight[s], half_fov[s], el_lo[s], el_hi[s], refr[s], np.inf):
            r = math.sqrt((x - site[s, 0]) ** 2 + (y - site[s, 1]) ** 2 + (z - site[s, 2]) ** 2)
            vx = vel[m, j, 0] + f * (vel[m, j1, 0] - vel[m, j, 0])
            vy = vel[m, j, 1] + f * (vel[m, j1, 1] - vel[m, j, 1])
            vz = vel[m, j, 2] + f * (vel[m, j1, 2] - vel[m, j, 2])
            sigma = rcs_point(ts < burnout[m], vx, vy, vz, x - site[s, 0], y - site[s, 1], z - site[s, 2],
                              sig[0], sig[1], sig[2])
            r50 = range50[s] * sigma**0.25
            gain = 1.0
            if faces[s, 0] > 0.0:
                dx, dy, dz = x - site[s, 0], y - site[s, 1], z - site[s, 2]
                east = -trig[s, 2] * dx + trig[s, 3] * dy
                north = -trig[s, 0] * (trig[s, 3] * dx + trig[s, 2] * dy) + trig[s, 1] * dz
                gain = face_gain(math.atan2(east, north), boresight[s], faces[s, 0], faces[s, 1], faces[s, 2])
            pd = pfa[s] ** (1.0 / (1.0 + snr50[s] * gain * (r50 / r) ** 4))
            if k_s % search[s] == 0 or ts >= cue[m]:  # a search scan or cued: looked at, held or not
                add = pd
                free[s] *= 1.0 - pd
            else:  # a track revisit: looked at only if held
                add = pd * (1.0 - free[s])
            hits += add
            got[s] += add
            if t_sys == np.inf and hits >= init_hits - 1e-9:
                t_sys = ts
                if not lead:
                    return ts, -1
            if lead and got[s] >= init_hits - 1e-9:  # (the system's sum got there no later)
                return t_sys, s
        else:
            free[s] = 1.0  # out of the field: the radar lets go
