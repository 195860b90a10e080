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
"""

from __future__ import annotations

import numpy as np

from shieldlab import earth
from shieldlab.engage.interceptor import time_of_flight


def straight_line_time(site, burnout_speed, burn_time):
    """``time_to`` of the straight-line kinematic law (:mod:`shieldlab.engage.interceptor`) from ``site`` (ECEF m)."""
    site = np.asarray(site, float)
    return lambda p: time_of_flight(np.linalg.norm(np.asarray(p) - site, axis=-1), burnout_speed, burn_time)


def fan_time(fan, site_lat, site_lon):
    """``time_to`` of a fly-out fan launched from geodetic ``site_lat``, ``site_lon`` [rad].

    Ground range: great circle on the mean sphere; altitude: geodetic, above the ellipsoid.
    """
    def time_to(p):
        lat, lon, alt = earth.ecef_to_geodetic(np.asarray(p, float))
        return fan.time_to(earth.great_circle_distance(site_lat, site_lon, lat, lon), alt)
    return time_to


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


def _refine(t, pos, vel, time_to, t_ready, m, jl, good_at_hi, iterations):
    """Bisect between samples ``jl`` and ``jl + 1`` of rows ``m`` for the edge of ``g >= 0``.

    ``good_at_hi``: the later sample is the good one (an earliest intercept); else the
    earlier one (a latest).  Returns the time, point and velocity on the good side.
    """
    p0, v0, p1, v1 = pos[m, jl], vel[m, jl], pos[m, jl + 1], vel[m, jl + 1]
    h = (t[jl + 1] - t[jl])[:, None]
    lo, hi = np.zeros(m.size), np.ones(m.size)
    for _ in range(iterations):
        u = 0.5 * (lo + hi)
        good = _g(time_to, t[jl] + u * h[:, 0], _hermite(p0, v0, p1, v1, h, u), t_ready[m]) >= 0
        move_hi = good if good_at_hi else ~good
        lo, hi = np.where(move_hi, lo, u), np.where(move_hi, u, hi)
    u = hi if good_at_hi else lo
    return t[jl] + u * h[:, 0], _hermite(p0, v0, p1, v1, h, u), _hermite_vel(p0, v0, p1, v1, h, u)


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
    ok = np.ones((M, J), bool) if ok is None else ok
    if tau is None:
        g = _g(time_to, t[None, :], pos, t_ready[:, None])
    else:
        with np.errstate(invalid="ignore"):
            g = (t[None, :] - t_ready[:, None]) - tau
    good = ok & (g >= 0)
    found = good.any(axis=1)
    rows = np.arange(M)
    j = np.argmax(good, axis=1)
    # the end of the first run of good samples
    out = {"found": found}
    todo = [("first", j)]
    if latest:
        with np.errstate(invalid="ignore"):
            slack = np.where(good, g, -np.inf).max(axis=1)  # launch at t_ready + slack still meets it
        out["launch_latest"] = np.where(found, t_ready + slack, np.inf)
        after = good | (np.arange(J)[None, :] < j[:, None])
        jl = np.where(after.all(axis=1), J - 1, np.argmin(after, axis=1) - 1)
        todo.append(("last", np.maximum(jl, j)))
    for key, jj in todo:
        ti, pi, vi = t[jj].astype(float), pos[rows, jj].copy(), vel[rows, jj].copy()
        if key == "first":
            nb = np.maximum(jj - 1, 0)
            ref = found & (jj > 0) & ok[rows, nb] & ~(g[rows, nb] >= 0)
            lo = jj - 1
        else:
            nb = np.minimum(jj + 1, J - 1)
            ref = found & (jj < J - 1) & ok[rows, nb] & ~(g[rows, nb] >= 0)
            lo = jj
        if ref.any():
            m = np.flatnonzero(ref)
            ti[m], pi[m], vi[m] = _refine(t, pos, vel, time_to, t_ready, m, lo[m], key == "first", iterations)
        with np.errstate(invalid="ignore"):
            launch = ti - time_to(pi)
        out[f"t_{key}"] = np.where(found, ti, np.inf)
        out[f"p_{key}"] = pi
        out[f"v_{key}"] = vi
        out[f"launch_{key}"] = np.where(found, launch, np.inf)
    return out


def earliest_intercept(t, pos, vel, time_to, t_ready, ok=None, iterations=18):
    """Earliest reachable point of M predicted paths (see :func:`intercept_window`).

    Returns ``(found (M,), t_int (M,), p_int (M, 3), t_launch (M,))``.
    """
    w = intercept_window(t, pos, vel, time_to, t_ready, ok, iterations, latest=False)
    return w["found"], w["t_first"], w["p_first"], w["launch_first"]
