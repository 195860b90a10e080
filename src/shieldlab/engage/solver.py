"""Intercept-point solver: the earliest (and latest) point of a predicted threat path that
an interceptor launched no earlier than a given time can reach, and the geometry there.

The threat path is sampled (times ``t``, ECEF positions and velocities); the interceptor is
described by a *time-to-reach function* ``time_to(p)``: seconds after launch its kill
vehicle needs to be at ECEF point ``p`` (``inf`` where it cannot, or where ``p`` lies
outside its envelope).  The default is the fly-out fan (:func:`fan_time`,
:mod:`shieldlab.engage.fan`); :func:`straight_line_time` is the old kinematic law, kept as a
constructed case for validation.  With the launch no earlier than ``t_ready``, the point
``p(t)`` can be intercepted when

    g(t) = (t - t_ready) - time_to(p(t)) >= 0

and the earliest intercept is the first such sample (also inside the caller's mask
``ok``).  Where ``g`` changed sign just before it, the root is refined between the two
samples by bisection on the cubic Hermite interpolant of the path (positions and
velocities at both ends), so the answer does not depend on the sampling step.  The
bisection also finds an envelope edge, where ``time_to`` jumps from ``inf``.  The launch
time for an intercept at ``(t_i, p_i)`` is ``t_i - time_to(p_i)``: the latest launch that
still makes it, ``t_ready`` where the readiness limited it.

Speed: the scan over the samples (:func:`_scan`), a fan's ``time_to`` (:class:`FanTime`) and
its bisection (:func:`_bisect_fan`) are compiled, written as the numpy operations they
replace, in the same order: where numpy and numba call the same libm the answers are the
same to the bit (tests/test_solver_speed_equivalence.py, against the former numpy code).
Any other ``time_to`` is bisected in numpy (:func:`_bisect`).  The kernels here inline
:func:`shieldlab.earth.geodetic_xyz`, :func:`~shieldlab.earth.haversine_point` and
:func:`shieldlab.engage.fan.table_value`; numba's on-disk cache checks only this file, so
after editing those, clear ``__pycache__`` (or touch this file).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from shieldlab import earth
from shieldlab.earth import geodetic_rows, geodetic_xyz, haversine_point
from shieldlab.engage.fan import table_value
from shieldlab.engage.interceptor import time_of_flight


def straight_line_time(site, burnout_speed, burn_time):
    """``time_to`` of the straight-line kinematic law (:mod:`shieldlab.engage.interceptor`) from ``site`` (ECEF m)."""
    site = np.asarray(site, float)
    return lambda p: time_of_flight(np.linalg.norm(np.asarray(p) - site, axis=-1), burnout_speed, burn_time)


class FanTime:
    """``time_to`` of a fly-out fan launched from geodetic ``site_lat``, ``site_lon`` [rad]
    (what :func:`fan_time` returns): ECEF points (..., 3) -> seconds after launch (...).

    Compiled (one pass: geodetic conversion, great circle, bilinear lookup per point); the
    same operations as :func:`_fan_time_reference`.  :func:`intercept_window` recognises
    it and bisects in compiled code too.
    """

    __slots__ = ("fan", "site_lat", "site_lon")

    def __init__(self, fan, site_lat, site_lon):
        self.fan, self.site_lat, self.site_lon = fan, site_lat, site_lon

    @property
    def compiled(self) -> bool:
        """Whether the compiled path applies (one site, not arrays of them)."""
        return np.ndim(self.site_lat) == 0 and np.ndim(self.site_lon) == 0

    def kernel_args(self) -> tuple:
        """The arguments of the compiled :func:`_fan_times` after the points: the site (latitude,
        its cosine, longitude) and :attr:`Fan.time_lookup`."""
        lat = float(self.site_lat)
        return (lat, math.cos(lat), float(self.site_lon)) + self.fan.time_lookup

    def __call__(self, p):
        p = np.asarray(p, float)
        if p.ndim == 0 or p.shape[-1] != 3 or not self.compiled:
            return _fan_time_reference(self.fan, self.site_lat, self.site_lon, p)
        out = _fan_times(np.ascontiguousarray(p).reshape(-1, 3), *self.kernel_args())
        return out.reshape(p.shape[:-1])


def fan_time(fan, site_lat, site_lon) -> FanTime:
    """``time_to`` of a fly-out fan launched from geodetic ``site_lat``, ``site_lon`` [rad].

    Ground range: great circle on the mean sphere; altitude: geodetic, above the ellipsoid.
    """
    return FanTime(fan, site_lat, site_lon)


def _fan_time_reference(fan, site_lat, site_lon, p):
    """:class:`FanTime` in numpy operations (the former closure of :func:`fan_time`)."""
    lat, lon, alt = earth._ecef_to_geodetic_numpy(np.asarray(p, float))
    v, ok = fan._bilinear(fan.time, earth._great_circle_distance_numpy(site_lat, site_lon, lat, lon), alt)
    return np.where(ok, v, np.inf)


@nb.njit(cache=True, error_model="numpy")
def _fan_times(p, site_lat, cos_site_lat, site_lon, tab, cell_ok, dx, dz, rmin, rmax, amin, amax):
    lat, lon, alt = geodetic_rows(p)
    return fan_times_geodetic(lat, lon, alt, site_lat, cos_site_lat, site_lon, tab, cell_ok, dx, dz, rmin, rmax,
                              amin, amax)


@nb.njit(cache=True, error_model="numpy")
def fan_times_geodetic(lat, lon, alt, site_lat, cos_site_lat, site_lon, tab, cell_ok, dx, dz, rmin, rmax, amin, amax):
    """:class:`FanTime` of points given as geodetic ``lat``, ``lon`` [rad], ``alt`` [m] (M,)
    (the site and table: :meth:`FanTime.kernel_args`): for callers that have the geodetic
    coordinates already.  Writes over ``lon`` and returns it."""
    out = lon  # reused
    for k in range(lat.shape[0]):
        out[k] = _fan_time_at(lat[k], lon[k], alt[k], site_lat, cos_site_lat, site_lon, tab, cell_ok, dx, dz, rmin,
                              rmax, amin, amax)
    return out


@nb.njit(parallel=True, cache=True, error_model="numpy")
def fan_times_geodetic_parallel(lat, lon, alt, site_lat, cos_site_lat, site_lon, tab, cell_ok, dx, dz, rmin, rmax,
                                amin, amax):
    """:func:`fan_times_geodetic` [s] with the points shared among Numba's threads (``prange``;
    ``NUMBA_NUM_THREADS``), for the many samples of a footprint; each point reads and writes
    only its own entry, so the answers are the serial ones to the bit.  Writes over ``lon``
    and returns it."""
    out = lon  # reused
    for k in nb.prange(lat.shape[0]):
        out[k] = _fan_time_at(lat[k], lon[k], alt[k], site_lat, cos_site_lat, site_lon, tab, cell_ok, dx, dz, rmin,
                              rmax, amin, amax)
    return out


@nb.njit(cache=True, error_model="numpy", inline="always")
def _fan_time_at(lat, lon, alt, site_lat, cos_site_lat, site_lon, tab, cell_ok, dx, dz, rmin, rmax, amin, amax):
    """The fan's time [s] at one geodetic point (``inf`` outside it)."""
    ground = haversine_point(site_lat, site_lon, lat, lon, cos_site_lat, math.cos(lat))
    return table_value(tab, cell_ok, dx, dz, rmin, rmax, amin, amax, ground, alt, np.inf)


def interceptor_velocity(fan, site_lat, site_lon, p) -> np.ndarray:
    """ECEF velocity [m/s] (..., 3) of the kill vehicle arriving at ECEF ``p`` (..., 3) on its earliest arrival.

    Speed and flight-path angle from the fan; the horizontal part points along the great
    circle from the site through ``p``, away from the site.  ``nan`` where unreachable.
    """
    p = np.asarray(p, float)
    lat, lon, alt = earth.ecef_to_geodetic(p)
    ground = earth.great_circle_distance(site_lat, site_lon, lat, lon)
    speed = fan.speed_at(ground, alt)
    gam = fan.flight_path_angle_at(ground, alt)
    az = earth.initial_bearing(lat, lon, site_lat, site_lon) + np.pi  # continuing away from the site
    east, north, up = np.moveaxis(earth.enu_matrix(lat, lon), -2, 0)
    horiz = np.cos(az)[..., None] * north + np.sin(az)[..., None] * east
    return speed[..., None] * (np.cos(gam)[..., None] * horiz + np.sin(gam)[..., None] * up)


def intercept_geometry(v_threat, v_interceptor) -> tuple[np.ndarray, np.ndarray]:
    """Closing speed [m/s] and crossing angle [rad] at intercept, arrays (..., 3) -> (...).

    * closing speed ``|v_I - v_T|``: the speed at which the two close at the moment of
      impact (the relative speed; for a head-on collision the sum of the speeds);
    * crossing angle: the angle between the interceptor's velocity and the *reversed*
      threat velocity, ``acos(v_I . (-v_T) / (|v_I| |v_T|))``: 0 head-on, 90 deg a
      right-angle crossing, 180 deg a tail chase (the convention of e.g. Zarchan,
      *Tactical and Strategic Missile Guidance*, where a head-on engagement has zero
      heading error).
    ``nan`` where either velocity is unknown.
    """
    vt, vi = np.asarray(v_threat, float), np.asarray(v_interceptor, float)
    closing = np.linalg.norm(vi - vt, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = -np.einsum("...i,...i->...", vi, vt) / (np.linalg.norm(vi, axis=-1) * np.linalg.norm(vt, axis=-1))
    return closing, np.arccos(np.clip(c, -1.0, 1.0))


def _hermite(p0, v0, p1, v1, h, u):
    u = u[..., None]
    return ((2 * u**3 - 3 * u**2 + 1) * p0 + (u**3 - 2 * u**2 + u) * h * v0
            + (-2 * u**3 + 3 * u**2) * p1 + (u**3 - u**2) * h * v1)


def _hermite_vel(p0, v0, p1, v1, h, u):
    u = u[..., None]
    return ((6 * u**2 - 6 * u) * p0 / h + (3 * u**2 - 4 * u + 1) * v0
            + (-6 * u**2 + 6 * u) * p1 / h + (3 * u**2 - 2 * u) * v1)


def _g(time_to, tt, p, t_ready):
    with np.errstate(invalid="ignore"):
        return (tt - t_ready) - time_to(p)


def refine_edge(t, pos, vel, time_to, t_ready, m, jl, good_at_hi, iterations):
    """Bisect between samples ``jl`` and ``jl + 1`` of rows ``m`` for the edge of ``g >= 0``,
    ``g = (t - t_ready[m]) - time_to(p(t))`` on the cubic Hermite path between the samples
    (``t`` (J,) [s], ``pos``, ``vel`` (M, J, 3) [ECEF m, m/s]).

    ``good_at_hi``: the later sample is the good one (an earliest intercept); else the
    earlier one (a latest).  Returns the time, point and velocity on the good side.
    A :class:`FanTime` is bisected in compiled code (:func:`_bisect_fan`, the same
    operations); any other ``time_to`` by :func:`_bisect`.
    """
    p0, v0, p1, v1 = pos[m, jl], vel[m, jl], pos[m, jl + 1], vel[m, jl + 1]
    h = (t[jl + 1] - t[jl])[:, None]
    if isinstance(time_to, FanTime) and time_to.compiled:
        u = _bisect_fan(np.ascontiguousarray(t[jl], float), np.ascontiguousarray(h[:, 0], float),
                        np.ascontiguousarray(p0, float), np.ascontiguousarray(v0, float),
                        np.ascontiguousarray(p1, float), np.ascontiguousarray(v1, float),
                        np.ascontiguousarray(t_ready[m], float), bool(good_at_hi), int(iterations),
                        *time_to.kernel_args())
    else:
        u = _bisect(t[jl], h, p0, v0, p1, v1, time_to, t_ready[m], good_at_hi, iterations)
    return t[jl] + u * h[:, 0], _hermite(p0, v0, p1, v1, h, u), _hermite_vel(p0, v0, p1, v1, h, u)


def _bisect(t0, h, p0, v0, p1, v1, time_to, t_ready, good_at_hi, iterations):
    """Bisection of :func:`refine_edge` in numpy operations: the fraction ``u`` (m,) of the step."""
    lo, hi = np.zeros(t0.size), np.ones(t0.size)
    for _ in range(iterations):
        u = 0.5 * (lo + hi)
        good = _g(time_to, t0 + u * h[:, 0], _hermite(p0, v0, p1, v1, h, u), t_ready) >= 0
        move_hi = good if good_at_hi else ~good
        lo, hi = np.where(move_hi, lo, u), np.where(move_hi, u, hi)
    return hi if good_at_hi else lo


@nb.njit(cache=True, error_model="numpy")
def _bisect_fan(t0, h, p0, v0, p1, v1, t_ready, good_at_hi, iterations, site_lat, cos_site_lat, site_lon, tab,
                cell_ok, dx, dz, rmin, rmax, amin, amax):
    """:func:`_bisect` for a :class:`FanTime`, written as its numpy operations (:func:`_hermite`:
    ``u**3`` is ``pow(u, 3)`` there, ``u**2`` ``u * u``).  All rows step together, each step
    in passes over the rows (the geodetic conversion in :func:`geodetic_xyz`'s)."""
    m = t0.size
    lo, hi = np.zeros(m), np.ones(m)
    x, y, z, tt = np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    for _ in range(iterations):
        for r in range(m):
            u = 0.5 * (lo[r] + hi[r])
            hr = h[r]
            u2, u3 = u * u, math.pow(u, 3.0)
            ca = 2 * u3 - 3 * u2 + 1
            cb = (u3 - 2 * u2 + u) * hr
            cc = -2 * u3 + 3 * u2
            cd = (u3 - u2) * hr
            x[r] = ca * p0[r, 0] + cb * v0[r, 0] + cc * p1[r, 0] + cd * v1[r, 0]
            y[r] = ca * p0[r, 1] + cb * v0[r, 1] + cc * p1[r, 1] + cd * v1[r, 1]
            z[r] = ca * p0[r, 2] + cb * v0[r, 2] + cc * p1[r, 2] + cd * v1[r, 2]
            tt[r] = t0[r] + u * hr
        lat, lon, alt = geodetic_xyz(x, y, z)
        for r in range(m):
            u = 0.5 * (lo[r] + hi[r])
            ground = haversine_point(site_lat, site_lon, lat[r], lon[r], cos_site_lat, math.cos(lat[r]))
            g = (tt[r] - t_ready[r]) - table_value(tab, cell_ok, dx, dz, rmin, rmax, amin, amax, ground, alt[r], np.inf)
            if (g >= 0.0) == good_at_hi:
                hi[r] = u
            else:
                lo[r] = u
    return hi if good_at_hi else lo


def intercept_window(t, pos, vel, time_to, t_ready, ok=None, iterations=18, latest=True, tau=None):
    """Earliest and latest reachable points of M predicted paths.

    ``iterations`` of bisection between samples: 18 resolve a 4 s step to 15 us (5 cm at 3 km/s).

    Parameters
    ----------
    t : (J,) sample times [s]; pos, vel : (M, J, 3) ECEF path [m, m/s].
    time_to : callable, ECEF points (..., 3) -> seconds after launch (..., ``inf``: unreachable).
    t_ready : (M,) earliest launch time [s]; ok : (M, J) bool, samples the caller allows.
    tau : (M, J) ``time_to(pos)`` when the caller has it already (saves a geodetic conversion).

    Returns a dict of (M,) / (M, 3) arrays: ``found``; ``t_first``, ``p_first``, ``v_first``
    (threat velocity), ``launch_first``; ``t_last``, ``p_last``, ``v_last``, ``launch_last``
    (``inf``/unspecified where not found); ``launch_latest``, the latest launch time that
    still meets the path at an allowed sample (``t_j - tau_j`` at its largest: the last
    chance to fire, which need not be the launch for the latest intercept).  The latest
    intercept is the last point of the first continuous stretch of feasible samples
    (``latest=False``: not computed, no ``*_last`` or ``launch_latest`` keys).
    """
    M, J = pos.shape[:2]
    t_ready = np.asarray(t_ready, float)
    if tau is None:
        with np.errstate(invalid="ignore"):
            tau = time_to(pos)
    ok = np.ones((M, J), bool) if ok is None else _contiguous(ok, bool, (M, J))
    # per row: the first good sample (g = t - t_ready - tau >= 0 where ok), the end of the
    # first run of good samples, whether the sample before / after them is a sign change to
    # refine, and the largest g over the good samples
    found, j_first, j_last, ref_first, ref_last, launch_latest = _scan(
        _contiguous(t, float, (J,)), _contiguous(t_ready, float, (M,)), _contiguous(tau, float, (M, J)), ok)
    rows = np.arange(M)
    out = {"found": found}
    todo = [("first", j_first, ref_first, j_first - 1)]
    if latest:
        out["launch_latest"] = launch_latest  # launch at t_ready + slack still meets it
        todo.append(("last", j_last, ref_last, j_last))
    for key, jj, ref, lo in todo:
        ti, pi, vi = t[jj].astype(float), pos[rows, jj].copy(), vel[rows, jj].copy()
        if ref.any():
            m = np.flatnonzero(ref)
            ti[m], pi[m], vi[m] = refine_edge(t, pos, vel, time_to, t_ready, m, lo[m], key == "first", iterations)
        with np.errstate(invalid="ignore"):
            launch = ti - time_to(pi)
        out[f"t_{key}"] = np.where(found, ti, np.inf)
        out[f"p_{key}"] = pi
        out[f"v_{key}"] = vi
        out[f"launch_{key}"] = np.where(found, launch, np.inf)
    return out


def _contiguous(a, dtype, shape) -> np.ndarray:
    a = np.asarray(a, dtype)
    return np.ascontiguousarray(a if a.shape == shape else np.broadcast_to(a, shape))


@nb.njit(cache=True, error_model="numpy")
def _scan(t, t_ready, tau, ok):
    """One pass over the samples of each row for :func:`intercept_window`: ``found``, the
    first good sample, the last of the first run of good ones (both 0 where none), whether
    the sample before the first / after the last is to be refined to (allowed, ``g`` not
    ``>= 0``), and ``t_ready`` plus the largest ``g`` over the good samples (``inf`` where none)."""
    M, J = tau.shape
    found = np.zeros(M, np.bool_)
    j_first = np.zeros(M, np.int64)
    j_last = np.zeros(M, np.int64)
    ref_first = np.zeros(M, np.bool_)
    ref_last = np.zeros(M, np.bool_)
    launch_latest = np.full(M, np.inf)
    for m in range(M):
        first, last, slack = -1, -1, -np.inf
        for j in range(J):
            g = (t[j] - t_ready[m]) - tau[m, j]
            if ok[m, j] and g >= 0:
                if first < 0:
                    first = last = j
                elif last == j - 1:
                    last = j  # still in the first run
                if g > slack:
                    slack = g
        if first < 0:
            continue
        found[m] = True
        j_first[m], j_last[m] = first, last
        launch_latest[m] = t_ready[m] + slack
        if first > 0:
            ref_first[m] = ok[m, first - 1] and not ((t[first - 1] - t_ready[m]) - tau[m, first - 1] >= 0)
        if last < J - 1:
            ref_last[m] = ok[m, last + 1] and not ((t[last + 1] - t_ready[m]) - tau[m, last + 1] >= 0)
    return found, j_first, j_last, ref_first, ref_last, launch_latest


def earliest_intercept(t, pos, vel, time_to, t_ready, ok=None, iterations=18):
    """Earliest reachable point of M predicted paths (see :func:`intercept_window`).

    Returns ``(found (M,), t_int (M,), p_int (M, 3), t_launch (M,))``.
    """
    w = intercept_window(t, pos, vel, time_to, t_ready, ok, iterations, latest=False)
    return w["found"], w["t_first"], w["p_first"], w["launch_first"]
