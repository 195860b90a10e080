"""Network track numbers: correlation of several nodes' tracks at first contact."""

import numpy as np

from shieldlab.c2 import track_numbers
from shieldlab.tracking import ekf
from shieldlab.tracking.records import Tracks

T_GRID = np.arange(0.0, 120.0, 4.0)


def _truth(n, rng):
    """n ballistic objects 200-300 km up, 50 km apart, on the grid (n, K, 6)."""
    lat, lon = np.radians(40.0), np.radians(35.0)
    from shieldlab import earth

    base = earth.geodetic_to_ecef(lat, lon, 250e3)
    east, north = earth.enu_matrix(lat, lon)[:2]
    x = np.stack([np.r_[base + 50e3 * i * east, 2500.0 * north + 100.0 * rng.normal(size=3)] for i in range(n)])
    out = [x]
    for _ in T_GRID[1:]:
        x = ekf.rk4_step(x, 4.0)
        out.append(x)
    return np.stack(out, axis=1)


def _tracks(truth, order, start, stop, sigma, rng, system):
    """One run's tracks of the objects ``order`` (columns in that order), held from grid
    index ``start[i]`` to ``stop[i]``, with errors of ``sigma`` [m] (velocity sigma/10)."""
    C, T, K = 1, len(order), T_GRID.size
    x = np.full((C, T, K, 6), np.nan)
    P = np.full((C, T, K, 6, 6), np.nan)
    cov = np.diag([sigma**2] * 3 + [(sigma / 10) ** 2] * 3)
    for j, (n, a, b) in enumerate(zip(order, start, stop)):
        x[0, j, a:b] = truth[n, a:b] + rng.normal(size=(b - a, 6)) * np.sqrt(np.diag(cov))
        P[0, j, a:b] = cov
    held = np.isfinite(x).all(axis=-1)
    conf = np.logical_or.accumulate(held, axis=-1)
    ct = np.where(conf.any(-1), T_GRID[np.argmax(conf, -1)], np.inf)
    return Tracks(system=system, t=T_GRID, x=x, P=P, n_hits=np.cumsum(held, -1).astype(np.int32),
                  confirmed=conf, confirm_time=ct, q=np.where(held, 1e-2, np.nan).astype(np.float32))


def test_tracks_of_one_object_share_a_number_and_others_do_not():
    rng = np.random.default_rng(1)
    truth = _truth(4, rng)
    a = _tracks(truth, [0, 1, 2], [0, 1, 2], [30, 30, 30], 300.0, rng, "a")
    # b sees objects 2, 0, 3 (a never sees 3), later and with other errors
    b = _tracks(truth, [2, 0, 3], [5, 6, 7], [30, 30, 30], 800.0, rng, "b")
    net = track_numbers.number({"a": a, "b": b})
    m = net.members[0]
    objects_a, objects_b = [0, 1, 2], [2, 0, 3]
    seen = {}
    for g in range(m.shape[0]):
        objs = {objects_a[m[g, 0]] if m[g, 0] >= 0 else None, objects_b[m[g, 1]] if m[g, 1] >= 0 else None} - {None}
        assert len(objs) == 1, (g, m[g])
        seen[objs.pop()] = g
    assert sorted(seen) == [0, 1, 2, 3] and m.shape[0] == 4
    # each node's tracks moved to their numbers, unchanged
    g0 = seen[0]
    np.testing.assert_array_equal(net.tracks["b"].x[0, g0], b.x[0, 1])
    np.testing.assert_array_equal(net.tracks["a"].x[0, g0], a.x[0, 0])
    assert np.isnan(net.tracks["a"].x[0, seen[3]]).all() and net.tracks["a"].confirm_time[0, seen[3]] == np.inf
    assert net.used().tolist() == [4]


def test_a_second_track_of_one_node_and_a_stale_track_start_their_own_numbers():
    rng = np.random.default_rng(2)
    truth = _truth(2, rng)
    # node a holds object 0 twice (a broken track: the second starts after the first ends)
    a = _tracks(truth, [0, 0], [0, 12], [10, 30], 300.0, rng, "a")
    # node b first sees object 0 long after a's first track ended, while a's second is held
    b = _tracks(truth, [0], [20], [30], 300.0, rng, "b")
    net = track_numbers.number({"a": a, "b": b})
    m = net.members[0]
    assert m.shape[0] == 2  # a's two tracks: two numbers (a node never merges its own)
    # b joins a's second track, the one held when it appeared
    g = int(np.flatnonzero(m[:, 1] == 0)[0])
    assert m[g, 0] == 1


def test_an_old_member_is_not_compared(monkeypatch):
    rng = np.random.default_rng(3)
    truth = _truth(1, rng)
    a = _tracks(truth, [0], [0], [5], 300.0, rng, "a")  # ends at 16 s
    b = _tracks(truth, [0], [25], [30], 300.0, rng, "b")  # appears at 100 s
    assert track_numbers.number({"a": a, "b": b}).members.shape[1] == 2  # 84 s old: not compared
    monkeypatch.setattr(track_numbers, "MAX_AGE_S", 120.0)
    assert track_numbers.number({"a": a, "b": b}).members.shape[1] == 1  # predicted over 84 s: joined


def test_one_node_keeps_its_columns():
    rng = np.random.default_rng(4)
    truth = _truth(3, rng)
    a = _tracks(truth, [2, 0, 1], [0, 3, 3], [30, 30, 30], 300.0, rng, "a")
    net = track_numbers.number({"a": a})
    assert net.members[0, :, 0].tolist() == [0, 1, 2]
    np.testing.assert_array_equal(net.tracks["a"].x, a.x)
