"""The truth between samples: the compiled interpolation gives the NumPy reference's bits."""

import dataclasses

import numpy as np
import pytest

import shieldlab
from shieldlab.engine import chain
from shieldlab.flyout import interp
from shieldlab.flyout.interp import state_at, state_at_numpy


@pytest.fixture(scope="module")
def flights():
    w = shieldlab.load_world("epaa-phase-1")
    return chain.fly_threats(w).truth  # (N, T): six threats launched at different times


def _times(tr, rng, n):
    """Times that hit every case: inside the flights, inside the intervals that hold a launch or
    an impact, on samples, before the grid and past it."""
    lt, it = tr.launch_time.ravel(), tr.impact_time.ravel()
    special = np.concatenate([lt, lt + 0.3, lt - 0.2, it, it - 0.4, it + 0.1, tr.t[[0, 5, -1]], [-50.0, 1e6]])
    return np.concatenate([special, rng.uniform(tr.t[0], tr.t[-1], n)])


def _same(a, b):
    assert a.shape == b.shape
    np.testing.assert_array_equal(a, b)  # nan where nan, every other value to the bit


def test_shared_times_match_the_reference(flights):
    rng = np.random.default_rng(3)
    t = _times(flights, rng, 500)
    for velocity in (True, False):
        p, v = state_at(flights, t, velocity=velocity)
        p0, v0 = state_at_numpy(flights, t, velocity=velocity)
        _same(p, p0)
        if velocity:
            _same(v, v0)
        else:
            assert v is None and v0 is None
    # the launch and impact intervals were exercised (the quadratics, the pad and the ground)
    lt, it = flights.launch_time[:, None], flights.impact_time[:, None]
    assert ((t > lt) & (t < lt + flights.dt)).any() and ((t < it) & (t > it - flights.dt)).any()


def test_a_chunk_of_runs_reads_the_nominal_flights_once(flights):
    """A chunk without dispersions is the nominal flights broadcast over its runs: read from
    the one copy (no (C, N, T, 3) copy), the same numbers as the reference."""
    C = 4
    tr = chain._broadcast(flights, C)
    pos3, _, rows = interp._bodies(tr)
    assert pos3.shape[0] == flights.pos.shape[0] and np.shares_memory(pos3, flights.pos)
    np.testing.assert_array_equal(rows, np.tile(np.arange(flights.pos.shape[0]), C))
    t = _times(flights, np.random.default_rng(4), 200)
    p, v = state_at(tr, t)
    p0, v0 = state_at_numpy(tr, t)
    assert p.shape == (C,) + flights.pos.shape[:1] + (t.size, 3)
    _same(p, p0)
    _same(v, v0)


def test_one_time_per_element_matches_the_reference(flights):
    rng = np.random.default_rng(5)
    C, N = 3, flights.pos.shape[0]
    # distinct runs: each run's flights shifted a little, so a wrong row would show
    shift = np.array([0.0, 40.0, -25.0])[:, None, None, None]
    tr = dataclasses.replace(flights, pos=flights.pos[None] + shift,
                             vel=np.broadcast_to(flights.vel, (C,) + flights.vel.shape).copy(),
                             launch_time=np.broadcast_to(flights.launch_time, (C, N)),
                             impact_time=np.broadcast_to(flights.impact_time, (C, N)),
                             impact_pos=np.broadcast_to(flights.impact_pos, (C, N, 3)))
    E = 400
    c, n = rng.integers(0, C, E), rng.integers(0, N, E)
    t = np.concatenate([tr.launch_time[c[:50], n[:50]] + 0.5, tr.impact_time[c[50:100], n[50:100]] - 0.5,
                        rng.uniform(0.0, tr.t[-1], E - 100)])
    p, v = state_at(tr, t, index=(c, n))
    p0, v0 = state_at_numpy(tr, t, index=(c, n))
    _same(p, p0)
    _same(v, v0)
    # negative indices count from the end, as NumPy's do
    p1, _ = state_at(tr, t, index=(c - C, n - N), velocity=False)
    _same(p1, p0)
    # one time for all elements broadcasts over them
    p2, _ = state_at(tr, 700.5, index=(c, n), velocity=False)
    _same(p2, state_at_numpy(tr, np.full(E, 700.5), index=(c, n), velocity=False)[0])


def test_batches_that_cannot_be_viewed_flat_take_the_reference(flights):
    """Batch axes that do not merge (a transposed batch) fall back to the NumPy form, which
    still gives the right answer."""
    C, N = 2, flights.pos.shape[0]
    pos = np.ascontiguousarray(np.broadcast_to(flights.pos, (C,) + flights.pos.shape).transpose(1, 0, 2, 3))
    pos = pos.transpose(1, 0, 2, 3)  # (C, N, T, 3) with N the outer axis in memory
    vel = pos * 0.0 + flights.vel[None]
    tr = dataclasses.replace(flights, pos=pos, vel=vel, launch_time=np.broadcast_to(flights.launch_time, (C, N)),
                             impact_time=np.broadcast_to(flights.impact_time, (C, N)),
                             impact_pos=np.broadcast_to(flights.impact_pos, (C, N, 3)))
    assert interp._bodies(tr) is None
    t = _times(flights, np.random.default_rng(6), 50)
    p, v = state_at(tr, t)
    _same(p, state_at_numpy(tr, t)[0])
    # and that answer is the flights' own, run by run
    _same(p[1], state_at(flights, t)[0])


def _degenerate_launches():
    """(t0, h, i) where a launch on sample i + 1 (t0 + i h + h, as the interpolation adds it)
    still falls in interval i by rounding: floor((lt - t0) / h) == i."""
    found = []
    for t0 in (0.0, 0.01):
        for h in (1.1, 0.7, 1.3, 0.3):
            for i in range(1, 40):
                lt = (t0 + i * h) + h
                if np.floor((lt - t0) / h) == i:
                    found.append((t0, h, i))
    return found


def test_a_launch_on_a_sample_that_rounding_puts_in_the_interval_before():
    """Such a launch made the launch quadratic divide by a zero length: the compiled form raised
    ZeroDivisionError mid-run (a preset with time_step_s 1.1 and a launch at 33 s) and the
    NumPy form gave -inf.  The launch is that sample's: both give finite states, equal."""
    cases = _degenerate_launches()
    assert len(cases) > 5  # the case is common, not contrived
    for t0, h, i in cases[:8]:
        T = 60
        t = t0 + h * np.arange(T)
        lt = (t0 + i * h) + h
        k = np.arange(T)[:, None]
        rng = np.random.default_rng(i)
        pos = 6.4e6 + 100.0 * np.maximum(k - i - 1, 0) ** 2 * rng.uniform(0.5, 1.5, 3)
        vel = 200.0 * np.maximum(k - i - 1, 0) * rng.uniform(0.5, 1.5, 3)
        tr = interp.Trajectories(t=t, pos=pos[None], vel=vel[None], phase=np.zeros((1, T), np.int8),
                                 launch_time=np.array([lt]), burnout_time=np.array([np.inf]),
                                 burnout_speed=np.zeros(1), apogee_time=np.array([np.inf]), apogee_alt=np.zeros(1),
                                 impact_time=np.array([np.inf]), impact_pos=np.full((1, 3), np.nan))
        q = np.array([lt, lt + 0.25 * h, lt - 0.25 * h])
        p, v = state_at(tr, q)
        p0, v0 = state_at_numpy(tr, q)
        assert np.isfinite(p).all() and np.isfinite(v).all()
        _same(p, p0)
        _same(v, v0)
        np.testing.assert_allclose(p[0, 0], pos[i + 1], rtol=1e-12)  # at the launch: on the pad
