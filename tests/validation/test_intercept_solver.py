"""Intercept-point solver against constructed cases with known answers.

Straight-line threat p(t) = p0 + u t and a constant-speed interceptor (speed V,
zero burn time) launched at t_r from the site: the intercept time solves the
quadratic |p0 - site + u t|^2 = V^2 (t - t_r)^2 (the classic constant-bearing
collision triangle, e.g. Zarchan, *Tactical and Strategic Missile Guidance*, ch. 2).
The solver samples the path every 4 s and must still land within 10 m.
"""

import numpy as np
import pytest

from shieldlab.engage.interceptor import time_of_flight
from shieldlab.engage.solver import earliest_intercept, reach


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
    found, ti, pi, tl = earliest_intercept(t, pos, vel, site, V, 0.0, t_r)
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
    found, ti, pi, tl = earliest_intercept(t, pos, vel, site, 4000.0, 40.0, t_r)
    miss = reach(ti[found] - t_r[found], 4000.0, 40.0) - np.linalg.norm(pi[found] - site, axis=1)
    assert np.max(np.abs(miss)) < 10.0
    np.testing.assert_allclose(time_of_flight(np.linalg.norm(pi[found] - site, axis=1), 4000.0, 40.0),
                               ti[found] - t_r[found], atol=0.01)


def test_envelope_entry_can_limit_instead():
    M = 1
    t, pos, vel, p0, u = straight_paths(M, seed=2)
    site = np.zeros(3)
    ok = np.zeros((1, t.size), bool)
    ok[0, 120:] = True  # the envelope opens late: the first sample inside it is the answer
    found, ti, pi, tl = earliest_intercept(t, pos, vel, site, 9000.0, 0.0, np.array([0.0]), ok)
    assert found[0] and ti[0] == t[120]
    assert tl[0] > 0.0  # the launch could wait


def test_zero_speed_reaches_nothing_and_symmetry():
    t, pos, vel, p0, u = straight_paths(5)
    found, *_ = earliest_intercept(t, pos, vel, np.zeros(3), 0.0, 0.0, np.zeros(5))
    assert not found.any()
    # mirror the world through the site's plane x = 0: the same intercept time
    mirror = np.array([-1.0, 1.0, 1.0])
    a = earliest_intercept(t, pos, vel, np.zeros(3), 4500.0, 0.0, np.zeros(5))
    b = earliest_intercept(t, pos * mirror, vel * mirror, np.zeros(3), 4500.0, 0.0, np.zeros(5))
    np.testing.assert_allclose(a[1], b[1], atol=1e-9)
