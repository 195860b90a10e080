"""Intercept solver and fly-out fan: a Kepler threat against a Kepler interceptor.

Spherical, non-rotating Earth, vacuum.  The threat flies a two-body arc (integrated here
with DOP853 at rtol 1e-12, independent of shieldlab's flyout); the interceptor has zero
burn time, so it leaves the site at its burnout speed ``V`` on a Kepler arc.  The earliest
time ``T*(p)`` it can be at a point ``p`` is the least Kepler time of flight over the arcs
from the site through ``p`` (range equation and Kepler's equation, Bate, Mueller & White
ch. 6, solved for the flight-path angle by brentq).  The reference intercept is the first
root of ``t - t_ready - T*(p(t))`` (brentq on the threat's dense output).

The solver, given that exact ``T*`` as its time-to-reach function, must land within
10 m; given the fly-out fan, within the fan's tabulation error (a fine fan: 10 m too).
"""

import numpy as np
import pytest
from kepler_arcs import arc_time, radius_at
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from shieldlab.earth import GM
from shieldlab.earth import R_EARTH_MEAN as R
from shieldlab.engage.fan import build_fan
from shieldlab.engage.solver import intercept_window

V = 3000.0  # interceptor burnout speed [m/s]
SITE = np.array([R, 0.0, 0.0])  # lat 0, lon 0 on the sphere
T_READY = 60.0


_radius_at, _arc_time = radius_at, arc_time


def _ground_alt(p):
    p = np.asarray(p, float)
    r = np.linalg.norm(p, axis=-1)
    cosang = np.einsum("...i,i->...", p, SITE / R) / r
    return R * np.arccos(np.clip(cosang, -1, 1)), r - R


def kepler_time_to(p):
    """Exact earliest arrival [s after launch] at ECEF points p (..., 3); inf if no arc gets there."""
    ground, alt = _ground_alt(p)
    out = np.full(ground.shape, np.inf)
    gs = np.linspace(np.radians(0.05), np.radians(89.999), 1500)
    for idx in np.ndindex(ground.shape):
        psi, target = max(ground[idx], 1.0) / R, R + alt[idx]
        f = lambda g, target=target, psi=psi: 1.0 / target - 1.0 / _radius_at(V, g, psi)  # noqa: E731
        fs = f(gs)
        for i in np.flatnonzero(np.sign(fs[:-1]) != np.sign(fs[1:])):
            g = brentq(f, gs[i], gs[i + 1], xtol=1e-15)
            before = _radius_at(V, g, np.linspace(0, psi, 100)[1:])
            if np.all((before > R - 1e-6) & (before > 0)):
                out[idx] = min(out[idx], _arc_time(V, g, psi))
    return out


def threat(lat0, lon0, az, speed, gamma, t_end=900.0):
    """Two-body arc from the surface point (lat0, lon0) [deg], azimuth az, speed, flight-path angle."""
    la, lo, a, g = np.radians([lat0, lon0, az, gamma])
    up = np.array([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
    east = np.array([-np.sin(lo), np.cos(lo), 0.0])
    north = np.cross(up, east)
    v0 = speed * (np.cos(g) * (np.cos(a) * north + np.sin(a) * east) + np.sin(g) * up)

    def f(_, y):
        r = y[:3]
        return np.concatenate([y[3:], -GM * r / np.linalg.norm(r) ** 3])

    sol = solve_ivp(f, (0, t_end), np.concatenate([R * up, v0]), method="DOP853", rtol=1e-12, atol=1e-6,
                    dense_output=True)
    return sol.sol


def reference(sol, t0, t1):
    h = lambda t: (t - T_READY) - kepler_time_to(sol(t)[:3][None])[0]  # noqa: E731
    ts = np.arange(t0, t1, 2.0)
    hs = np.array([h(t) for t in ts])
    i = int(np.flatnonzero(hs >= 0)[0])
    assert np.isfinite(hs[i - 1]), "the reference must be a smooth root, not an envelope edge"
    ts_ = brentq(h, ts[i - 1], ts[i], xtol=1e-9)
    return ts_, sol(ts_)[:3]


# head-on (threat flying over the site from the east) and crossing (passing to the north)
CASES = [dict(lat0=0.0, lon0=9.0, az=270.0, speed=4000.0, gamma=40.0),
         dict(lat0=-4.0, lon0=6.0, az=315.0, speed=3800.0, gamma=45.0)]


@pytest.fixture(scope="module")
def paths():
    out = []
    for c in CASES:
        sol = threat(**c)
        t = np.arange(0.0, 600.0, 4.0)
        y = sol(t)
        r = np.linalg.norm(y[:3], axis=0)
        keep = r > R + 1.0  # until impact
        keep[0] = True
        n = int(np.argmin(keep)) if not keep.all() else t.size
        out.append((sol, t[:n], y[:3, :n].T, y[3:, :n].T))
    return out


def _solve(paths, time_to):
    res = []
    for _sol, t, pos, vel in paths:
        w = intercept_window(t, pos[None], vel[None], time_to, np.array([T_READY]), latest=False)
        assert w["found"][0]
        res.append((w["t_first"][0], w["p_first"][0]))
    return res


@pytest.fixture(scope="module")
def answers(paths):
    return [reference(sol, T_READY + 1.0, t[-1]) for sol, t, _, _ in paths]


def test_solver_with_exact_kepler_interceptor_to_10_m(paths, answers):
    for (ti, pi), (t_ref, p_ref) in zip(_solve(paths, kepler_time_to), answers):
        assert abs(ti - t_ref) < 0.01
        assert np.linalg.norm(pi - p_ref) < 10.0


def test_solver_with_the_fan(paths, answers):
    def with_fan(fan):
        return lambda p: fan.time_to(*_ground_alt(p))

    coarse = build_fan(V, 0.0, None, max_range_m=700e3, max_alt_m=500e3)  # the default resolution
    for (ti, pi), (t_ref, p_ref) in zip(_solve(paths, with_fan(coarse)), answers):
        # measured: 0.012 s / 34 m (head-on) and 0.047 s / 118 m (crossing)
        assert abs(ti - t_ref) < 0.2 and np.linalg.norm(pi - p_ref) < 500.0
    # a fine fan over a box around the intercepts: the same 10 m (measured 1.5 m and 4.1 m)
    fine = build_fan(V, 0.0, None, max_range_m=220e3, max_alt_m=460e3, nx=1025, nz=1025,
                     elevations_deg=np.linspace(30.0, 89.0, 300))
    for (_ti, pi), (_t_ref, p_ref) in zip(_solve(paths, with_fan(fine)), answers):
        assert np.linalg.norm(pi - p_ref) < 10.0
