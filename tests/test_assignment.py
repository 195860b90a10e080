"""Tests of weapon–target assignment (shieldlab.c2.assignment).

The exact solver is held to brute-force enumeration on many small random
problems; the greedy solver to the exact one, equal where maximum marginal
return is known to be optimal and within the 1/2 bound of Fisher, Nemhauser &
Wolsey elsewhere (with a case that comes within 0.03 of it).  All seeds are
fixed.
"""

from __future__ import annotations

import numpy as np
import pytest

from shieldlab.c2.assignment import (
    Assignment,
    AssignmentProblem,
    brute_force,
    solve_exact,
    solve_greedy,
    survival,
    value_saved,
    violations,
)


def random_small(rng, shooters: bool) -> AssignmentProblem:
    T, B = int(rng.integers(1, 5)), int(rng.integers(1, 4))
    pk = rng.uniform(0, 1, (B, T))
    pk[rng.random((B, T)) < 0.15] = 0.0
    pk[rng.random((B, T)) < 0.05] = 1.0
    salvo = rng.integers(0, 3, B) if rng.random() < 0.5 else int(rng.integers(1, 3))
    return AssignmentProblem(
        value=rng.uniform(0, 10, T) * (rng.random(T) > 0.1), pk=pk, rounds=rng.integers(0, 5, B), max_salvo=salvo,
        max_shooters=rng.integers(0, 3, T) if shooters else None, feasible=rng.random((B, T)) < 0.8)


def check_constraints(p: AssignmentProblem, x: np.ndarray):
    assert x.shape == p.pk.shape and x.dtype.kind == "i"
    assert np.all(x >= 0)
    assert np.all(x.sum(axis=1) <= p.rounds)
    assert np.all(x <= p.max_salvo)
    assert not np.any((x > 0) & ~p.feasible)
    assert np.all((x > 0).sum(axis=0) <= p.max_shooters)
    assert violations(p, x) == []


def test_exact_equals_brute_force_on_200_random_problems():
    rng = np.random.default_rng(20261130)
    worst_ratio = 1.0
    for case in range(200):
        p = random_small(rng, shooters=case % 2 == 1)
        e, bf, g = solve_exact(p), brute_force(p), solve_greedy(p)
        assert e.value_saved == pytest.approx(bf.value_saved, abs=1e-9), case
        assert e.optimal and e.gap == 0.0 and e.bound == pytest.approx(e.value_saved, abs=1e-6)
        for a in (e, bf, g):
            check_constraints(p, a.x)
            assert a.value_saved == pytest.approx(value_saved(p, a.x), abs=1e-12)
        assert g.value_saved <= e.value_saved + 1e-9
        if case % 2 == 0 and e.value_saved > 0:  # the 1/2 bound holds without max_shooters
            worst_ratio = min(worst_ratio, g.value_saved / e.value_saved)
    assert worst_ratio >= 0.5
    assert worst_ratio < 1.0  # the random cases do include ones where greedy is not optimal


def test_greedy_optimal_with_one_battery():
    # one magazine shared by all threats: a separable concave allocation, greedy is optimal (Fox 1966)
    rng = np.random.default_rng(7)
    for case in range(100):
        T = int(rng.integers(1, 7))
        p = AssignmentProblem(value=rng.uniform(0, 10, T), pk=rng.uniform(0, 1, (1, T)),
                              rounds=[int(rng.integers(0, 9))], max_salvo=rng.integers(0, 4, (1, T)))
        g, e = solve_greedy(p), solve_exact(p)
        assert g.value_saved == pytest.approx(e.value_saved, abs=1e-9), case


def test_greedy_fires_every_useful_round_when_magazines_cover_everything():
    rng = np.random.default_rng(11)
    for _case in range(50):
        T, B = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        feasible = rng.random((B, T)) < 0.7
        salvo = rng.integers(1, 4, B)
        p = AssignmentProblem(value=rng.uniform(0.5, 10, T), pk=rng.uniform(0.05, 0.95, (B, T)),
                              rounds=salvo * T, max_salvo=salvo, feasible=feasible)
        full = np.where(feasible, salvo[:, None], 0)
        g, e = solve_greedy(p), solve_exact(p)
        np.testing.assert_array_equal(g.x, full)
        np.testing.assert_array_equal(e.x, full)
        assert g.value_saved == pytest.approx(e.value_saved, abs=1e-12)


def test_greedy_half_bound_is_nearly_reached():
    # Greedy spends battery 0's only round on threat 0 (pk 1, gain 1.0); battery 1 then has nothing
    # useful to do.  The optimum sends battery 1 at threat 0 and battery 0 at threat 1.
    p = AssignmentProblem(value=[1.0, 0.9], pk=[[1.0, 1.0], [0.999, 0.0]], rounds=[1, 1], max_salvo=1)
    g, e = solve_greedy(p), solve_exact(p)
    np.testing.assert_array_equal(g.x, [[1, 0], [0, 0]])
    np.testing.assert_array_equal(e.x, [[0, 1], [1, 0]])
    assert g.value_saved == pytest.approx(1.0, abs=1e-15)
    assert e.value_saved == pytest.approx(0.999 + 0.9, abs=1e-12)
    assert g.value_saved / e.value_saved == pytest.approx(0.5266, abs=1e-4)


def test_hand_computed_values():
    # one threat, all rounds in: survival 0.5² · 0.2 = 0.05
    p = AssignmentProblem(value=[10.0], pk=[[0.5], [0.8]], rounds=[2, 1], max_salvo=2)
    for solve in (solve_exact, solve_greedy, brute_force):
        a = solve(p)
        np.testing.assert_array_equal(a.x, [[2], [1]])
        assert a.p_kill[0] == pytest.approx(0.95, abs=1e-15)
        assert a.value_saved == pytest.approx(9.5, abs=1e-12)
    # one round, two threats: 10 · 0.5 = 5 beats 4 · 0.9 = 3.6
    p = AssignmentProblem(value=[10.0, 4.0], pk=[[0.5, 0.9]], rounds=[1])
    for solve in (solve_exact, solve_greedy):
        np.testing.assert_array_equal(solve(p).x, [[1, 0]])
        assert solve(p).value_saved == pytest.approx(5.0, abs=1e-12)
    # two rounds: the second is worth 10 · 0.5 · 0.5 = 2.5 on threat 0, 3.6 on threat 1
    p = AssignmentProblem(value=[10.0, 4.0], pk=[[0.5, 0.9]], rounds=[2], max_salvo=2)
    assert solve_exact(p).value_saved == pytest.approx(8.6, abs=1e-12)
    np.testing.assert_array_equal(solve_greedy(p).x, [[1, 1]])
    np.testing.assert_allclose(survival(p, [[1, 1]]), [0.5, 0.1], atol=1e-15)


def test_sure_kill_takes_one_round():
    p = AssignmentProblem(value=[3.0, 1.0], pk=[[1.0, 0.5]], rounds=[4], max_salvo=3)
    assert p.cap.tolist() == [[1, 3]]
    for solve in (solve_exact, solve_greedy):
        np.testing.assert_array_equal(solve(p).x, [[1, 3]])
        assert solve(p).value_saved == pytest.approx(3.0 + 0.875, abs=1e-12)


def test_one_threat_many_batteries_takes_the_best_shooters():
    pk = np.array([0.3, 0.9, 0.5, 0.7, 0.2, 0.8, 0.6, 0.4])
    p = AssignmentProblem(value=[2.0], pk=pk[:, None], rounds=np.ones(8, int), max_salvo=1, max_shooters=3)
    expect = 2.0 * (1 - 0.1 * 0.2 * 0.3)
    for solve in (solve_exact, solve_greedy, brute_force):
        a = solve(p)
        assert set(np.flatnonzero(a.x[:, 0])) == {1, 3, 5}
        assert a.value_saved == pytest.approx(expect, abs=1e-12)
    unlimited = AssignmentProblem(value=[2.0], pk=pk[:, None], rounds=np.ones(8, int), max_salvo=1)
    assert solve_exact(unlimited).value_saved == pytest.approx(2.0 * (1 - np.prod(1 - pk)), abs=1e-12)
    assert solve_greedy(unlimited).x.sum() == 8


@pytest.mark.parametrize("what", ["no rounds", "pk zero", "infeasible", "no value", "no shooters", "no batteries"])
def test_nothing_to_do(what):
    rng = np.random.default_rng(3)
    T, B = 3, 2 if what != "no batteries" else 0
    kw = dict(value=rng.uniform(1, 5, T), pk=rng.uniform(0.2, 0.9, (B, T)), rounds=np.full(B, 4), max_salvo=2)
    if what == "no rounds":
        kw["rounds"] = np.zeros(B, int)
    elif what == "pk zero":
        kw["pk"] = np.zeros((B, T))
    elif what == "infeasible":
        kw["feasible"] = np.zeros((B, T), bool)
    elif what == "no value":
        kw["value"] = np.zeros(T)
    elif what == "no shooters":
        kw["max_shooters"] = 0
    p = AssignmentProblem(**kw)
    for solve in (solve_exact, solve_greedy, brute_force):
        a = solve(p)
        assert a.x.shape == (B, T) and not a.x.any()
        assert a.value_saved == 0.0
        np.testing.assert_array_equal(a.p_kill, np.zeros(T))
    assert solve_exact(p).optimal and solve_exact(p).n_patterns == 0


def test_greedy_stops_only_when_no_round_gains():
    rng = np.random.default_rng(5)
    for _ in range(30):
        T, B = 30, 8
        p = AssignmentProblem(value=rng.uniform(0, 10, T), pk=rng.uniform(0, 1, (B, T)),
                              rounds=rng.integers(0, 8, B), max_salvo=rng.integers(1, 3, B),
                              max_shooters=rng.integers(1, 4, T), feasible=rng.random((B, T)) < 0.4)
        g = solve_greedy(p)
        check_constraints(p, g.x)
        S = survival(p, g.x)
        left = p.rounds - g.x.sum(axis=1)
        open_ = ((left[:, None] > 0) & (g.x < p.max_salvo) & p.feasible
                 & ((g.x > 0) | ((g.x > 0).sum(axis=0) < p.max_shooters)[None, :]))
        assert not np.any(open_ & (p.value * S * p.pk > 0))
        e = solve_exact(p)
        assert e.optimal
        assert g.value_saved <= e.value_saved + 1e-9


def test_greedy_at_1000_threats_100_batteries():
    """A large problem solved within its constraints (speed: bench/c2.py)."""
    rng = np.random.default_rng(1)
    T, B = 1000, 100
    d = np.linalg.norm(rng.uniform(0, 1, (B, 1, 2)) - rng.uniform(0, 1, (1, T, 2)), axis=-1)
    r = np.sqrt(rng.uniform(0.1, 0.3, B) / np.pi)[:, None]
    feasible = d <= r
    p = AssignmentProblem(value=rng.uniform(1, 10, T), pk=np.where(feasible, 0.8 * (1 - 0.5 * (d / r) ** 2), 0.0),
                          rounds=rng.integers(4, 17, B), max_salvo=2, feasible=feasible)
    g = solve_greedy(p)
    check_constraints(p, g.x)
    assert g.x.sum() == p.rounds.sum()  # rounds are scarce here: every one is worth firing


def test_pattern_cap():
    p = AssignmentProblem(value=[1.0], pk=np.full((12, 1), 0.5), rounds=np.full(12, 2), max_salvo=2)
    with pytest.raises(ValueError, match=r"531,440 engagement patterns.*max_patterns = 50,000"):
        solve_exact(p)
    with pytest.raises(ValueError, match="max_patterns = 100"):
        solve_exact(AssignmentProblem(value=[1.0], pk=np.full((5, 1), 0.5), rounds=np.full(5, 2), max_salvo=2),
                    max_patterns=100)  # 3^5 - 1 = 242
    with pytest.raises(ValueError, match=r"531,441 plans \(more than max_plans = 1,000\)"):
        brute_force(p, max_plans=1000)
    assert solve_greedy(p).x.sum() == 24


def test_records_are_read_only():
    p = AssignmentProblem(value=[1.0, 2.0], pk=[[0.5, 0.5]], rounds=[1], max_salvo=[3])
    assert p.max_salvo.shape == (1, 2) and p.max_shooters.tolist() == [1, 1] and p.feasible.all()
    with pytest.raises(ValueError):
        p.pk[0, 0] = 1.0
    a = solve_greedy(p)
    assert isinstance(a, Assignment) and a.solver == "greedy" and a.optimal is None
    with pytest.raises(ValueError):
        a.x[0, 0] = 5
    assert a.rounds_used.tolist() == [1]


@pytest.mark.parametrize("field, kw", [
    ("pk", dict(pk=np.full((2, 4), 0.5))),  # T mismatch with value (3,)
    ("pk", dict(pk=[[0.5, 1.2, 0.1], [0.1, 0.1, 0.1]])),
    ("pk", dict(pk=[[0.5, -0.1, 0.1], [0.1, 0.1, 0.1]])),
    ("pk", dict(pk=[[0.5, np.nan, 0.1], [0.1, 0.1, 0.1]])),
    ("value", dict(value=[1.0, -2.0, 3.0])),
    ("value", dict(value=[[1.0, 2.0, 3.0]])),
    ("rounds", dict(rounds=[2, -1])),
    ("rounds", dict(rounds=[2, 2, 2])),
    ("rounds", dict(rounds=[2.5, 1])),
    ("max_salvo", dict(max_salvo=[1, 2, 3])),
    ("max_salvo", dict(max_salvo=-1)),
    ("max_shooters", dict(max_shooters=[1, 2])),
    ("max_shooters", dict(max_shooters=-1)),
    ("feasible", dict(feasible=np.ones((3, 2), bool))),
    ("feasible", dict(feasible=np.ones((2, 3)))),
])
def test_invalid_inputs_name_the_field(field, kw):
    base = dict(value=[1.0, 2.0, 3.0], pk=np.full((2, 3), 0.5), rounds=[2, 2], max_salvo=1)
    with pytest.raises(ValueError, match=rf"^{field}: ") as err:
        AssignmentProblem(**{**base, **kw})
    assert err.value.field == field
