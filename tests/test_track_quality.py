"""Track quality (shieldlab.outcome.track_quality): GOSPA against its definition, the fast
label path against the assignment, and the per-run figures of a Monte Carlo run."""

import itertools

import numpy as np
import pytest

from shieldlab.outcome import track_quality as TQ


def _gospa_by_definition(X, Y, c, p):
    """Minimum over every partial assignment of tracks to targets (alpha = 2)."""
    n, m = len(X), len(Y)
    best = np.inf
    for k in range(min(n, m) + 1):
        for rows in itertools.combinations(range(n), k):
            for cols in itertools.permutations(range(m), k):
                d = np.array([np.linalg.norm(X[i] - Y[j]) for i, j in zip(rows, cols)])
                if (d >= c).any():
                    continue  # such a pair is better left unassigned: counted below as missed + false
                best = min(best, np.sum(d**p) + 0.5 * c**p * (n + m - 2 * k))
    return best ** (1 / p)


def test_gospa_equals_its_definition():
    rng = np.random.default_rng(7)
    for _ in range(300):
        n, m = rng.integers(0, 5, 2)
        c = rng.uniform(50.0, 500.0)
        X = rng.normal(0, 200, (n, 3))
        Y = np.concatenate([X[: min(n, m)] + rng.normal(0, 80, (min(n, m), 3)), rng.normal(0, 300, (m - min(n, m), 3))])
        Y = Y[rng.permutation(m)] if m else Y
        got = TQ.gospa(X, Y, c=c)
        assert got.value == pytest.approx(_gospa_by_definition(X, Y, c, 2.0), rel=1e-12, abs=1e-9)
        assert got.missed - got.false == n - m


def test_gospa_of_a_hand_case():
    X = np.array([[0.0, 0, 0], [10e3, 0, 0]])
    Y = np.array([[300.0, 0, 0]])
    r = TQ.gospa(X, Y, c=5000.0)
    assert (r.assigned, r.missed, r.false) == (1, 1, 0)
    assert r.value == pytest.approx(np.sqrt(300.0**2 + 5000.0**2 / 2))


def test_label_fast_path_equals_the_assignment():
    """Crossing tracks, far errors, missing and extra members: every instant's GOSPA from the
    fast path (label pairing where it is provably optimal) equals the assignment's."""
    rng = np.random.default_rng(3)
    N, E = 5, 400
    X = rng.normal(0, 3000, (N, E, 3))
    Y = X + rng.normal(0, 1, (N, E, 1)) * rng.choice([10.0, 2000.0, 8000.0], (N, E, 1)) * rng.normal(0, 1, (N, E, 3))
    fx, fy = rng.random((N, E)) < 0.8, rng.random((N, E)) < 0.7
    value, loc, assigned, missed, false, used = TQ._gospa_instants(X, Y, fx, fy)
    for e in range(E):
        r = TQ.gospa(X[fx[:, e], e], Y[fy[:, e], e])
        assert value[e] == pytest.approx(r.value, rel=1e-12)
        assert (assigned[e], missed[e], false[e]) == (r.assigned, r.missed, r.false)
    assert used.sum() == ((fx | fy).any(axis=0)).sum()


def test_gospa_in_blocks_of_instants_is_the_same(monkeypatch):
    """The instants are scored in blocks that bound the (instant, truth, track) temporaries;
    blocks of 7 instants (an uneven last one) give every instant's numbers to the bit."""
    rng = np.random.default_rng(5)
    N, E = 6, 100
    X = rng.normal(0, 3000, (N, E, 3))
    Y = X + rng.normal(0, 4000, (N, E, 3)) * (rng.random((N, E, 1)) < 0.3)
    fx, fy = rng.random((N, E)) < 0.8, rng.random((N, E)) < 0.7
    whole = TQ._gospa_instants(X, Y, fx, fy)
    monkeypatch.setattr(TQ, "_GOSPA_BLOCK", 7 * N * N)
    blocks = TQ._gospa_instants(X, Y, fx, fy)
    for a_, b_ in zip(whole, blocks, strict=True):
        assert a_.shape == (E,)
        np.testing.assert_array_equal(a_, b_)


def test_run_reports_track_quality_per_system():
    from shieldlab import load_world
    from shieldlab.engine.montecarlo import simulate

    chunks = []
    r = simulate(load_world("epaa-phase-1"), runs=4, seed=1, on_chunk=chunks.append)
    q = r.track_quality
    assert list(q["system"]) == ["nato-bmd"] * 4 and list(q["run"]) == [0, 1, 2, 3]
    ch = chunks[0]
    tr = ch.tracks["nato-bmd"]
    # time to firm track: confirmation after launch, as the tracks say
    launch = np.broadcast_to(ch.truth.launch_time, tr.confirm_time.shape)
    firm = tr.confirm_time - launch
    assert np.allclose(q["median_time_to_firm_track_s"], np.median(firm, axis=1))
    # the tracker pairs reports by threat and starts no track without a threat: no false tracks
    assert (q["false_tracks"] == 0).all()
    # position RMSE: each threat's own track against the truth at the track's update times
    assert np.all((q["position_rmse_m"] > 10) & (q["position_rmse_m"] < 2000))
    assert np.all(q["gospa_m"] >= q["localisation_m"])
    s = r.summary["track_quality"]["nato-bmd"]
    assert s["runs"] == 4 and s["gospa_m"] == pytest.approx(np.mean(q["gospa_m"]), rel=1e-5)
    assert "GOSPA" in r.summary["track_quality_method"]
