"""Intercept-point solver: the earliest point of a predicted threat path that an
interceptor launched at a given time can reach.

The threat path is sampled (times ``t``, positions and velocities, ECEF); the
interceptor covers ``s(tau)`` metres in ``tau`` seconds after launch
(:mod:`shieldlab.engage.interceptor`).  With the launch at ``t_ready`` the
intercept condition is

    g(t) = s(t - t_ready) - |p(t) - site| >= 0

and the earliest intercept is the first root of ``g`` where the point also lies in
the battery's envelope.  The solver finds the first sample where both hold and,
when ``g`` changed sign just before it, refines the root between the two samples
by bisection on the cubic Hermite interpolant of the path (positions and
velocities at both ends), so the answer does not depend on the sampling step.
"""

from __future__ import annotations

import numpy as np

from shieldlab.engage.interceptor import time_of_flight


def reach(tau, burnout_speed, burn_time):
    """Distance [m] the interceptor covers ``tau`` seconds after launch (0 before launch)."""
    tau = np.maximum(np.asarray(tau, float), 0.0)
    v = np.asarray(burnout_speed, float)
    tb = np.asarray(burn_time, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        boost = v * tau**2 / (2 * np.where(tb > 0, tb, 1.0))
    return np.where(tau <= tb, boost, 0.5 * v * tb + v * (tau - tb))


def _hermite(p0, v0, p1, v1, h, u):
    u = u[..., None]
    return ((2 * u**3 - 3 * u**2 + 1) * p0 + (u**3 - 2 * u**2 + u) * h * v0
            + (-2 * u**3 + 3 * u**2) * p1 + (u**3 - u**2) * h * v1)


def earliest_intercept(t, pos, vel, site, burnout_speed, burn_time, t_ready, ok=None, iterations=40):
    """Earliest reachable point of M predicted paths.

    Parameters
    ----------
    t : (J,) sample times [s]; pos, vel : (M, J, 3) ECEF path [m, m/s]; site : (3,) launcher [m].
    t_ready : (M,) earliest launch time [s]; ok : (M, J) bool, samples inside the envelope.

    Returns ``(found (M,), t_int (M,), p_int (M, 3), t_launch (M,))``: the intercept time and
    point, and the latest launch that still makes it (``t_int - time_of_flight``), which is
    ``t_ready`` where the launch time is what limits the intercept.
    """
    M, J = pos.shape[:2]
    ok = np.ones((M, J), bool) if ok is None else ok
    d = np.linalg.norm(pos - site, axis=-1)
    g = reach(t[None, :] - t_ready[:, None], burnout_speed, burn_time) - d
    good = ok & (g >= 0)
    found = good.any(axis=1)
    j = np.argmax(good, axis=1)
    rows = np.arange(M)
    t_int = t[j].astype(float)
    p_int = pos[rows, j].copy()
    # refine where the launch-time condition (not the envelope) decided the sample
    ref = found & (j > 0)
    ref &= (g[rows, np.maximum(j - 1, 0)] < 0) & ok[rows, np.maximum(j - 1, 0)]
    if ref.any():
        m = np.flatnonzero(ref)
        jm = j[m]
        p0, v0, p1, v1 = pos[m, jm - 1], vel[m, jm - 1], pos[m, jm], vel[m, jm]
        h = (t[jm] - t[jm - 1])[:, None]
        lo, hi = np.zeros(m.size), np.ones(m.size)
        for _ in range(iterations):
            u = 0.5 * (lo + hi)
            p = _hermite(p0, v0, p1, v1, h, u)
            tt = t[jm - 1] + u * h[:, 0]
            gg = reach(tt - t_ready[m], burnout_speed, burn_time) - np.linalg.norm(p - site, axis=-1)
            lo, hi = np.where(gg < 0, u, lo), np.where(gg < 0, hi, u)
        u = 0.5 * (lo + hi)
        t_int[m] = t[jm - 1] + u * h[:, 0]
        p_int[m] = _hermite(p0, v0, p1, v1, h, u)
    t_launch = t_int - time_of_flight(np.linalg.norm(p_int - site, axis=-1), burnout_speed, burn_time)
    t_int = np.where(found, t_int, np.inf)
    return found, t_int, p_int, np.where(found, t_launch, np.inf)
