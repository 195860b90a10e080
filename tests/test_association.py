"""Data association: the gate, the report distances and the global-nearest-neighbour assignment."""

import itertools

import numpy as np
import pytest

from shieldlab import earth
from shieldlab.tracking import association as assoc
from shieldlab.tracking import ekf


def _brute_force(cost, miss):
    """Least total cost over every assignment (each report at most once; -1: no report)."""
    T, M = cost.shape
    best, arg = np.inf, None
    for choice in itertools.product(range(-1, M), repeat=T):
        used = [m for m in choice if m >= 0]
        if len(used) != len(set(used)):
            continue
        total = sum(miss[t] if m < 0 else cost[t, m] for t, m in enumerate(choice))
        if total < best:
            best, arg = total, choice
    return best, np.array(arg)


def test_gnn_is_the_least_cost_assignment():
    rng = np.random.default_rng(1)
    checked = with_misses = 0
    for _ in range(300):
        T, M = rng.integers(0, 5), rng.integers(0, 6)
        cost = rng.uniform(0.0, 10.0, (T, M))
        cost[rng.random((T, M)) < 0.3] = np.inf  # outside the gate
        miss = rng.uniform(2.0, 8.0, T)
        got = assoc.gnn(cost, miss)
        best, arg = _brute_force(cost, miss)
        total = sum(miss[t] if m < 0 else cost[t, m] for t, m in enumerate(got))
        assert total == pytest.approx(best, abs=1e-12)
        np.testing.assert_array_equal(got, arg)  # continuous random costs: one optimum
        taken = got[got >= 0]
        assert taken.size == np.unique(taken).size and np.isfinite(cost[np.flatnonzero(got >= 0), taken]).all()
        checked += 1
        with_misses += (got < 0).any() and (got >= 0).any()
    assert checked == 300 and with_misses > 50


def test_gnn_is_batched_and_takes_a_global_view():
    # two tracks, two reports: track 0's nearest report is also track 1's only one; the
    # greedy choice (track 0 first) would leave track 1 without a report
    cost = np.array([[1.0, 2.0], [1.5, np.inf]])
    assert assoc.gnn(cost, 10.0).tolist() == [1, 0]
    batch = np.stack([cost, cost[::-1]])  # (2, T, M)
    assert assoc.gnn(batch, np.full((2, 2), 10.0)).tolist() == [[1, 0], [0, 1]]
    assert assoc.gnn(np.zeros((3, 0, 4)), 1.0).shape == (3, 0)
    with pytest.raises(ValueError, match="miss_cost"):
        assoc.gnn(cost, np.inf)


def test_gate_is_the_chi2_quantile():
    assert assoc.gate(0.99, 3) == pytest.approx(11.345, abs=1e-3)  # chi2 table, 3 dof
    assert assoc.gate(0.999, 3) == pytest.approx(16.266, abs=1e-3)
    for bad in (0.0, 1.0, -0.5, float("nan")):
        with pytest.raises(ValueError, match="probability"):
            assoc.gate(bad)


def _scene(rng, T=5, M_clutter=10):
    lat, lon = np.radians(40.0), np.radians(30.0)
    site = earth.geodetic_to_ecef(lat, lon, 0.0)
    enu = earth.enu_matrix(lat, lon)
    R = np.diag([150.0**2, 1.5e-3**2, 1.5e-3**2])
    # targets 300-600 km out, 50-300 km up, in a 30 deg sector around north (azimuths near 0
    # and 2 pi: the wrap is exercised)
    az = rng.uniform(-0.25, 0.25, T)
    rng_m, up = rng.uniform(300e3, 600e3, T), rng.uniform(50e3, 300e3, T)
    p = site + np.stack([rng_m * np.sin(az), rng_m * np.cos(az), up], 1) @ enu
    x = np.concatenate([p, rng.normal(0.0, 2000.0, (T, 3))], axis=1)
    P = np.stack([np.diag(np.r_[rng.uniform(200.0, 2000.0, 3) ** 2, rng.uniform(20.0, 100.0, 3) ** 2])
                  for _ in range(T)])
    truth = x + np.concatenate([rng.normal(0.0, 1.0, (T, 6)) * np.sqrt(np.diagonal(P, axis1=1, axis2=2))], 0)
    z_true = ekf.measure_aer(truth, site, enu)[0]
    seen = rng.random(T) < 0.8
    z = z_true[seen] + rng.normal(0.0, 1.0, (seen.sum(), 3)) * np.sqrt(np.diag(R))
    lo, hi = z_true.min(axis=0), z_true.max(axis=0)
    clutter = rng.uniform(lo - [20e3, 0.02, 0.02], hi + [20e3, 0.02, 0.02], (M_clutter, 3))
    Z = np.concatenate([z, clutter])
    Z = Z[rng.permutation(len(Z))]
    Z[:, 1] = np.mod(Z[:, 1], 2 * np.pi)
    return site, enu, R, x, P, Z


def test_report_distances_are_the_filters_nis():
    rng = np.random.default_rng(2)
    site, enu, R, x, P, Z = _scene(rng)
    d2, log_det = assoc.report_distances(x, P, Z, R, site, enu)
    assert d2.shape == (len(x), len(Z)) and log_det.shape == (len(x),)
    for t in range(len(x)):
        for m in range(len(Z)):
            _, _, nis = ekf.update(x[t], P[t], Z[m], R, site, enu, np.array(True))
            assert d2[t, m] == pytest.approx(float(nis), rel=1e-9)
        _, H = ekf.measure_aer(x[t], site, enu)
        assert log_det[t] == pytest.approx(np.log(np.linalg.det(H @ P[t] @ H.T + R)), rel=1e-9)
    # padding and a lost track give no finite distance
    x2 = x.copy()
    x2[0] = np.nan
    d2b, log_det_b = assoc.report_distances(x2, P, Z, R, site, enu, z_valid=np.arange(len(Z)) < 3)
    assert np.isinf(d2b[0]).all() and np.isnan(log_det_b[0])
    assert np.isinf(d2b[1:, 3:]).all() and np.allclose(d2b[1:, :3], d2[1:, :3])
    # batched over runs: the same numbers
    d2c, _ = assoc.report_distances(np.stack([x, x]), np.stack([P, P]), np.stack([Z, Z]), R, site, enu)
    np.testing.assert_allclose(d2c[1], d2, rtol=1e-12)


def test_compiled_distances_equal_the_reference():
    from shieldlab.tracking import ekf_kernel

    rng = np.random.default_rng(5)
    site_lat, site_lon = 0.7, 0.6
    site = earth.geodetic_to_ecef(site_lat, site_lon, 100.0)
    enu = earth.enu_matrix(site_lat, site_lon)
    B, T, M = 3, 4, 5
    up = enu[2]
    x = np.concatenate([site + (300e3 + 1e5 * rng.random((B, T, 1))) * (up + 0.3 * rng.standard_normal((B, T, 3))),
                        rng.normal(0, 2e3, (B, T, 3))], axis=-1)
    A = rng.standard_normal((B, T, 6, 6))
    P = A @ np.swapaxes(A, -1, -2) * 1e4 + np.eye(6) * 1e2
    live = rng.random((B, T)) < 0.8
    hz, _ = ekf.measure_aer(x, site_ecef=site, site_enu_matrix=enu)
    z = hz[:, rng.integers(0, T, M)] + rng.normal(0, 1e-3, (B, M, 3)) * np.array([1e5, 1, 1])
    valid = rng.random((B, M)) < 0.8
    R = np.diag([25.0, 1e-6, 1e-6]) * rng.uniform(0.5, 8.0, (B, M))[..., None, None]
    want, want_ld = assoc.report_distances(np.where(live[..., None], x, np.nan), P, z, R, site, enu, valid)
    d2, ld = np.empty((B, T, M)), np.empty((B, T, M))
    ekf_kernel.distances_rows(x, P, live, z, valid, R, site, enu, d2, ld)
    fin = np.isfinite(want)
    assert fin.sum() > 20
    np.testing.assert_array_equal(np.isfinite(d2), fin)
    np.testing.assert_allclose(d2[fin], want[fin], rtol=1e-9)
    np.testing.assert_allclose(ld[fin], want_ld[fin], rtol=1e-9)


def test_compiled_gnn_equals_the_reference():
    rng = np.random.default_rng(11)
    B, T, M = 400, 6, 7
    cost = rng.uniform(0.0, 10.0, (B, T, M))
    cost[rng.random((B, T, M)) < 0.5] = np.inf
    miss = rng.uniform(2.0, 9.0, (B, T))
    want = assoc.gnn(cost, miss)
    rows = np.flatnonzero(rng.random(B) < 0.9)
    out = np.full((B, T), -7, np.int64)
    assoc.gnn_rows(cost, miss, rows, out)
    np.testing.assert_array_equal(out[rows], want[rows])
    assert (out[np.setdiff1d(np.arange(B), rows)] == -7).all()  # the rows not asked for: untouched
    assert (want >= 0).sum() > 500 and (want < 0).sum() > 300


def test_the_cheap_gate_test_never_drops_a_report_inside_the_gate():
    """``outside_gate`` (one innovation component against its own variance) answers True only
    for pairs whose full distance is beyond the gate, and it does answer True for far pairs:
    the compiled tracker then skips their inverse without changing an association."""
    from shieldlab.tracking import ekf_kernel

    rng = np.random.default_rng(11)
    site_lat, site_lon = 0.7, 0.6
    site = earth.geodetic_to_ecef(site_lat, site_lon, 100.0)
    enu = earth.enu_matrix(site_lat, site_lon)
    gate = assoc.gate(0.999)
    S, Si, nu = np.empty((3, 3)), np.empty((3, 3)), np.empty(3)
    said_outside = inside = 0
    for _ in range(3000):
        x = np.concatenate([site + 4e5 * (enu[2] + 0.5 * rng.standard_normal(3)), rng.normal(0, 2e3, 3)])
        A = rng.standard_normal((6, 6)) * rng.uniform(1.0, 300.0)
        P = A @ A.T + np.eye(6) * rng.uniform(1e-2, 1e3)  # some nearly singular, some wide
        hz, H = ekf.measure_aer(x[None], site_ecef=site, site_enu_matrix=enu)
        HPH = H[0] @ P @ H[0].T
        R = np.diag([rng.uniform(1.0, 400.0), 10 ** rng.uniform(-8, -5), 10 ** rng.uniform(-8, -5)])
        scale = 10 ** rng.uniform(-1, 1.5)  # from deep inside the gate to far outside it
        z = hz[0] + scale * np.sqrt(np.diag(HPH + R)) * rng.standard_normal(3)
        z[1] = (z[1] + np.pi) % (2 * np.pi) - np.pi
        d2, _ = ekf_kernel._pair_distance(HPH, R, z, *hz[0], S, Si, nu)
        out = ekf_kernel.outside_gate(HPH, R, z, *hz[0], gate)
        inside += d2 <= gate
        if out:
            said_outside += 1
            assert d2 > gate, (d2, gate)
    assert inside > 300 and said_outside > 300
    nan = np.full(3, np.nan)
    assert not ekf_kernel.outside_gate(np.eye(3), np.eye(3), nan, 0.0, 0.0, 0.0, gate)  # left to the full test
