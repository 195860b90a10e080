"""Association at scale: the spatial pre-gate, the distances of candidate pairs only and GNN
per cluster, each held equal to the full-matrix references of tests/test_association.py."""

import numpy as np
import pytest
from scipy.spatial import cKDTree

from shieldlab import earth
from shieldlab.tracking import association as assoc
from shieldlab.tracking import ekf, ekf_kernel

LAT, LON = np.radians(40.0), np.radians(30.0)
SITE = earth.geodetic_to_ecef(LAT, LON, 0.0)
ENU = earth.enu_matrix(LAT, LON)
R = np.diag([150.0**2, 1.5e-3**2, 1.5e-3**2])
GATE = assoc.gate(0.999)


def _scene(rng, T, clutter_per_track=2.0, spread=0.08):
    """Tracks in a tight bunch (they compete for reports), 70 % of them reported, clutter
    over the same box; every report in a random order."""
    az = rng.uniform(-spread, spread, T)
    rng_m, up = rng.uniform(400e3, 420e3, T), rng.uniform(100e3, 120e3, T)
    p = SITE + np.stack([rng_m * np.sin(az), rng_m * np.cos(az), up], 1) @ ENU
    x = np.concatenate([p, rng.normal(0.0, 2000.0, (T, 3))], axis=1)
    P = np.stack([np.diag(np.r_[rng.uniform(300.0, 3000.0, 3) ** 2, [50.0**2] * 3]) for _ in range(T)])
    truth = x + rng.normal(0.0, 1.0, (T, 6)) * np.sqrt(np.diagonal(P, axis1=1, axis2=2))
    seen = rng.random(T) < 0.7
    z = ekf.measure_aer(truth[seen], SITE, ENU)[0] + rng.normal(0.0, 1.0, (seen.sum(), 3)) * np.sqrt(np.diag(R))
    clutter = rng.uniform([390e3, -spread - 0.02, 0.2], [430e3, spread + 0.02, 0.3], (int(clutter_per_track * T), 3))
    Z = np.concatenate([z, clutter])
    Z = Z[rng.permutation(len(Z))]
    Z[:, 1] = np.mod(Z[:, 1], 2 * np.pi)
    return x, P, Z


def _pairs(pt, pm):
    return set(zip(pt.tolist(), pm.tolist()))


def test_candidate_pairs_are_the_k_d_trees():
    rng = np.random.default_rng(5)
    box = np.array([1e6, 1e6, 2e5])
    for n in (1, 7, 300, 3000):
        tp = rng.uniform(0, 1, (n, 3)) * box
        rp = np.concatenate([tp + rng.normal(0, 1500, (n, 3)), rng.uniform(0, 1, (n // 3 + 1, 3)) * box])
        rad = rng.uniform(2000, 4000, n)
        rad[0] = 5e5  # a box wider than the reports: every report is checked
        if n > 2:
            rad[1], rad[2] = 0.0, np.nan  # no pairs
        pt, pm = assoc.candidate_pairs(tp, rad, rp)
        assert np.all(np.diff(pt) >= 0)  # grouped by track
        near = cKDTree(rp).query_ball_point(tp, np.nan_to_num(rad))
        ref = {(t, m) for t, v in enumerate(near) for m in v}
        assert _pairs(pt, pm) == ref
        assert len(ref) >= n // 2
    e = np.zeros((0, 3))
    assert assoc.candidate_pairs(e, np.zeros(0), rp)[0].size == 0
    assert assoc.candidate_pairs(tp, rad, e)[0].size == 0


def test_candidate_pairs_grid_is_coarsened_for_widely_spread_reports():
    """Reports 10,000 km apart with 1 m radii: the grid must not hold 10^21 cells."""
    rng = np.random.default_rng(2)
    rp = rng.uniform(-1e7, 1e7, (50, 3))
    tp = rp[:10] + 0.1
    pt, pm = assoc.candidate_pairs(tp, np.ones(10), rp)
    assert _pairs(pt, pm) == {(i, i) for i in range(10)}


def test_gate_radius_holds_every_gated_report():
    """Every report that passes a track's χ² gate lies within its radius (the bound is
    conservative), over tracks whose covariances span a factor 100."""
    rng = np.random.default_rng(8)
    inside = 0
    for _ in range(30):
        x, P, Z = _scene(rng, 40, clutter_per_track=20.0, spread=0.02)
        d2, _ = assoc.report_distances(x, P, Z, R, SITE, ENU)
        gap = np.linalg.norm(x[:, None, :3] - assoc.report_positions(Z, SITE, ENU)[None], axis=-1)
        rad = assoc.gate_radius(x, P, R, SITE, GATE)
        gated = d2 <= GATE
        inside += gated.sum()
        assert np.all(gap[gated] <= rad[np.nonzero(gated)[0]])
        assert np.median(rad) < 20e3  # and not so loose that it gates nothing out
    assert inside > 500


def test_report_positions_invert_the_measurement():
    rng = np.random.default_rng(3)
    p = SITE + rng.uniform(-5e5, 5e5, (20, 3)) + 3e5 * ENU[2]
    z = ekf.measure_aer(np.concatenate([p, np.zeros_like(p)], 1), SITE, ENU)[0]
    np.testing.assert_allclose(assoc.report_positions(z, SITE, ENU), p, rtol=0, atol=1e-6)


def test_distances_of_pairs_equal_the_full_matrix():
    rng = np.random.default_rng(4)
    x, P, Z = _scene(rng, 12)
    d2, log_det = assoc.report_distances(x, P, Z, R, SITE, ENU)
    T, M = d2.shape
    pt, pm = np.repeat(np.arange(T), M), np.tile(np.arange(M), T)
    got_d2, got_ld = np.empty(pt.size), np.empty(pt.size)
    ekf_kernel.distances_pairs(x, P, pt, pm, Z, np.repeat(R[None], M, 0), SITE, ENU, got_d2, got_ld)
    np.testing.assert_allclose(got_d2, d2.ravel(), rtol=1e-9)
    np.testing.assert_allclose(got_ld, np.repeat(log_det, M), rtol=1e-12)


def test_gnn_on_pairs_equals_gnn_on_the_matrix():
    """Random costs with forbidden entries, every allowed pair listed (in a shuffled order):
    the same assignment as the SciPy-solved reference, clusters of one track included."""
    rng = np.random.default_rng(6)
    contested = 0
    for _ in range(400):
        T, M = rng.integers(1, 9), rng.integers(0, 9)
        cost = rng.uniform(0.0, 10.0, (T, M))
        cost[rng.random((T, M)) < 0.6] = np.inf
        miss = rng.uniform(2.0, 9.0, T)
        ref = assoc.gnn(cost, miss)
        t, m = np.nonzero(np.isfinite(cost))
        order = rng.permutation(t.size)
        out = np.empty(T, np.int64)
        assoc.gnn_pairs(t[order], m[order], cost[t, m][order], miss, T, M, out)
        np.testing.assert_array_equal(out, ref)
        contested += int(((cost < miss[:, None]).sum(axis=0) > 1).any())
    assert contested > 50


@pytest.mark.parametrize("cost", ["distance", "likelihood"])
def test_associate_equals_gnn_on_the_full_matrix(cost):
    """The sparse path (pre-gate, pair distances, GNN per cluster) against the full cost
    matrix solved by SciPy, for both costs, on bunched tracks among clutter."""
    rng = np.random.default_rng(7)
    taken = 0
    for T in (3, 30, 200):
        for _ in range(6):
            x, P, Z = _scene(rng, T)
            x[0, 0] = np.nan  # a dead track takes nothing
            d2, ld = assoc.report_distances(x, P, Z, R, SITE, ENU)
            inside = d2 <= GATE
            if cost == "distance":
                ref = assoc.gnn(np.where(inside, np.sqrt(d2), np.inf), np.sqrt(GATE))
            else:
                ld2 = np.broadcast_to(ld[:, None], d2.shape)
                # one cost of no report for every track: the gate plus the largest gated ln det S
                top = np.where(inside, ld2, -np.inf).max(initial=-np.inf)
                miss = GATE + (top if np.isfinite(top) else 0.0)
                ref = assoc.gnn(np.where(inside, d2 + ld2, np.inf), miss)
            got = assoc.associate(x, P, Z, R, SITE, ENU, GATE, cost=cost)
            np.testing.assert_array_equal(got, ref)
            assert got[0] == -1
            taken += int((got >= 0).sum())
    assert taken > 100


def test_associate_leaves_out_the_reports_within_a_tracks_reach():
    """The minimum-speed gate on the sparse path: a track takes no report nearer to it than
    its ``reach``; the same assignment as the full matrix with those pairs left out (the
    cost of no report then weighs only the pairs left), on bunched tracks among clutter."""
    rng = np.random.default_rng(11)
    left_out = 0
    for T in (3, 30):
        for _ in range(6):
            x, P, Z = _scene(rng, T)
            reach = np.where(rng.random(T) < 0.5, rng.uniform(0.0, 4000.0, T), 0.0)
            near = assoc.within_reach(x, Z, SITE, ENU, reach)
            d2, ld = assoc.report_distances(x, P, Z, R, SITE, ENU)
            inside = (d2 <= GATE) & ~near
            left_out += int(((d2 <= GATE) & near).sum())
            ld2 = np.broadcast_to(ld[:, None], d2.shape)
            top = np.where(inside, ld2, -np.inf).max(initial=-np.inf)
            ref = assoc.gnn(np.where(inside, d2 + ld2, np.inf), GATE + (top if np.isfinite(top) else 0.0))
            got = assoc.associate(x, P, Z, R, SITE, ENU, GATE, cost="likelihood", reach=reach)
            np.testing.assert_array_equal(got, ref)
            dist = np.linalg.norm(assoc.report_positions(Z, SITE, ENU)[None] - x[:, None, :3], axis=-1)
            np.testing.assert_array_equal(near, dist < reach[:, None])
    assert left_out > 10  # the gate left out pairs that the χ² gate held


def test_associate_refuses_an_unknown_cost():
    with pytest.raises(ValueError, match="cost"):
        assoc.associate(np.zeros((1, 6)), np.eye(6)[None], np.zeros((1, 3)), R, SITE, ENU, GATE, cost="nearest")


def test_a_report_near_the_zenith_does_not_widen_every_gate():
    """The pre-gate's radius bounds a report's position error: an azimuth error moves it
    r cos(el) daz, so a report's azimuth variance (sigma² / cos² el) counts times cos² el.  A
    single report at 89° had grown every track's radius ~14 times (4.6 -> 63 km at 300 km)."""
    from shieldlab import earth
    from shieldlab.sensors.records import report_covariance
    from shieldlab.tracking import association as A

    site = earth.geodetic_to_ecef(0.65, 0.7, 100.0)
    enu = earth.enu_matrix(0.65, 0.7)
    x = np.zeros((1, 6))
    x[0, :3] = earth.aer_to_ecef(0.5, np.radians(10.0), 300e3, 0.65, 0.7, 100.0)
    P = np.eye(6)[None] * 100.0
    R = np.diag([50.0**2, 1e-6, 1e-6])
    z = np.array([[300e3, 0.5, np.radians(10.0)], [300e3, 0.5, np.radians(89.0)]])

    def radius(zz):
        Rs = report_covariance(R, np.ones(len(zz)), zz[:, 2])
        return A._gate_boxes(x, P, np.ones(1, bool), np.ascontiguousarray(zz), np.ones(len(zz), bool), Rs, site,
                             enu, 16.0, A.GATE_MARGIN)[2][0]

    one, both = radius(z[:1]), radius(z)
    assert both == pytest.approx(one, rel=1e-9)
    # and the bound holds: 300 km x 1 mrad on each angle, 50 m in range, the track's 10 m
    want = A.GATE_MARGIN * np.sqrt(16.0 * (300.0 + 50.0**2 + 2 * (300e3 * 1e-3) ** 2))
    assert one == pytest.approx(want, rel=1e-9)
