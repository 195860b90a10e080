"""Intercept-point solver against constructed cases with known answers.

Straight-line threat p(t) = p0 + u t and a constant-speed interceptor (speed V,
zero burn time) launched at t_r from the site: the intercept time solves the
quadratic |p0 - site + u t|^2 = V^2 (t - t_r)^2 (the classic constant-bearing
collision triangle, e.g. Zarchan, *Tactical and Strategic Missile Guidance*, ch. 2).
The solver samples the path every 4 s and must still land within 10 m.  The interceptor
enters the solver through its time-to-reach function, here the straight-line law
(:func:`shieldlab.engage.solver.straight_line_time`); the Kepler case, with the fly-out fan,
is in test_kepler_intercept.py.
"""

import numpy as np
import pytest

from shieldlab.engage.interceptor import time_of_flight
from shieldlab.engage.solver import earliest_intercept, intercept_window, straight_line_time


def straight_paths(M, dt=4.0, J=200, seed=0):
    rng = np.random.default_rng(seed)
    p0 = rng.uniform(-400e3, 400e3, (M, 3)) + np.array([0.0, 0.0, 300e3])
    u = rng.normal(0.0, 1.0, (M, 3))
    u *= (rng.uniform(1500.0, 4000.0, M) / np.linalg.norm(u, axis=1))[:, None]
    t = dt * np.arange(J)
    pos = p0[:, None, :] + t[None, :, None] * u[:, None, :]
    vel = np.broadcast_to(u[:, None, :], pos.shape).copy()
    return t, pos, vel, p0, u


def closed_form(p0, u, site, V, t_r):
    a = p0 - site
    A = np.einsum("mi,mi->m", u, u) - V**2
    B = 2 * (np.einsum("mi,mi->m", a, u) + V**2 * t_r)
    C = np.einsum("mi,mi->m", a, a) - V**2 * t_r**2
    disc = B**2 - 4 * A * C
    roots = np.stack([(-B - np.sqrt(disc)) / (2 * A), (-B + np.sqrt(disc)) / (2 * A)], 1)
    roots = np.where(roots >= t_r[:, None], roots, np.inf)
    return roots.min(axis=1)


def test_straight_line_threat_constant_speed_interceptor_to_10_m():
    M, V = 200, 4500.0
    t, pos, vel, p0, u = straight_paths(M)
    site = np.zeros(3)
    t_r = np.full(M, 30.0)
    found, ti, pi, tl = earliest_intercept(t, pos, vel, straight_line_time(site, V, 0.0), t_r)
    expect = closed_form(p0, u, site, V, t_r)
    assert found.sum() > 150  # most are catchable with a faster interceptor
    np.testing.assert_array_equal(found, np.isfinite(expect) & (expect <= t[-1]))
    f = found
    exact_p = p0[f] + expect[f, None] * u[f]
    assert np.max(np.linalg.norm(pi[f] - exact_p, axis=1)) < 10.0
    assert np.max(np.abs(ti[f] - expect[f])) < 0.01
    np.testing.assert_allclose(tl[f], t_r[f], atol=0.01)  # the launch time was what limited it


def test_with_a_boost_phase_the_condition_holds_at_the_answer():
    M = 100
    t, pos, vel, p0, u = straight_paths(M, seed=1)
    site = np.array([50e3, 0.0, 0.0])
    t_r = np.full(M, 10.0)
    found, ti, pi, tl = earliest_intercept(t, pos, vel, straight_line_time(site, 4000.0, 40.0), t_r)
    assert found.sum() > 50
    np.testing.assert_allclose(time_of_flight(np.linalg.norm(pi[found] - site, axis=1), 4000.0, 40.0),
                               ti[found] - t_r[found], atol=0.01)
    np.testing.assert_allclose(tl[found], t_r[found], atol=0.01)


def test_envelope_entry_can_limit_instead():
    M = 1
    t, pos, vel, p0, u = straight_paths(M, seed=2)
    site = np.zeros(3)
    ok = np.zeros((1, t.size), bool)
    ok[0, 120:] = True  # the envelope opens late: the first sample inside it is the answer
    found, ti, pi, tl = earliest_intercept(t, pos, vel, straight_line_time(site, 9000.0, 0.0), np.array([0.0]), ok)
    assert found[0] and ti[0] == t[120]
    assert tl[0] > 0.0  # the launch could wait


def test_zero_speed_reaches_nothing_and_symmetry():
    t, pos, vel, p0, u = straight_paths(5)
    found, *_ = earliest_intercept(t, pos, vel, straight_line_time(np.zeros(3), 0.0, 0.0), np.zeros(5))
    assert not found.any()
    # mirror the world through the site's plane x = 0: the same intercept time
    mirror = np.array([-1.0, 1.0, 1.0])
    law = straight_line_time(np.zeros(3), 4500.0, 0.0)
    a = earliest_intercept(t, pos, vel, law, np.zeros(5))
    b = earliest_intercept(t, pos * mirror, vel * mirror, law, np.zeros(5))
    np.testing.assert_allclose(a[1], b[1], atol=1e-9)


def test_latest_intercept_is_where_the_window_closes():
    """A threat flying straight past: the window closes when the interceptor can no longer catch up.

    Threat at x = x0 + u t (u > 0 along x, offset y = b), constant-speed interceptor V > u from the
    origin launched at t_r: feasible while |p(t)| <= V (t - t_r); with a box envelope |x| <= X the
    window ends at x = X (the last sample inside it, refined to the edge)."""
    t = 4.0 * np.arange(200)
    b, u, V, X = 100e3, 2000.0, 3000.0, 300e3
    x0 = -350e3  # enters the box at t = 25 s, before the interceptor can get there
    pos = np.stack([x0 + u * t, np.full_like(t, b), np.zeros_like(t)], -1)[None]
    vel = np.broadcast_to([u, 0.0, 0.0], pos.shape).copy()
    law = straight_line_time(np.zeros(3), V, 0.0)
    box = lambda p: np.where(np.abs(p[..., 0]) <= X, law(p), np.inf)  # noqa: E731
    w = intercept_window(t, pos, vel, box, np.array([10.0]))
    assert w["found"][0]
    # earliest: |x0 + u t|^2 + b^2 = V^2 (t - t_r)^2
    A, B, C = u**2 - V**2, 2 * (x0 * u + V**2 * 10.0), x0**2 + b**2 - V**2 * 100.0
    t1 = (-B - np.sqrt(B**2 - 4 * A * C)) / (2 * A)
    assert t1 > (-X - x0) / u
    assert w["t_first"][0] == pytest.approx(t1, abs=0.01)
    assert w["t_last"][0] == pytest.approx((X - x0) / u, abs=0.01)
    assert w["p_last"][0, 0] == pytest.approx(X, abs=10.0)
    # the launch for the latest intercept can wait: t_last - |p_last| / V
    assert w["launch_last"][0] == pytest.approx(w["t_last"][0] - np.hypot(X, b) / V, abs=0.01)
    np.testing.assert_allclose(w["v_last"][0], [u, 0.0, 0.0])
