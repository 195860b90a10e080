"""Fire control with a weapon-target assignment (doctrine.assignment): a constructed raid
where the earliest-intercept rule spends the only round that could reach one threat on
another that a second battery could also have taken."""

import numpy as np
import pytest
import yaml

from shieldlab.c2.records import REASONS
from shieldlab.engine.chain import preflight, run_chunk
from shieldlab.errors import InputError
from shieldlab.scenario import compile_world
from shieldlab.scenario.loader import parse

# Two Scud-Bs from Hama, at the same moment, at two assets 45 km apart.  Battery "wide" (south
# of both, one round) reaches both threats and is the earlier interceptor of each; battery
# "point" (north of the eastern asset, one round) reaches only the threat to the eastern one,
# which is worth twice as much.
SCN = """
name: two-assets
epoch: 2013-03-01T00:00:00Z
time_step_s: 1.0
sites:
  wide: {{lat: 36.85, lon: 37.12}}
  point: {{lat: 37.20, lon: 37.38}}
  hama: {{lat: 35.13, lon: 36.75}}
sensors:
  - {{name: r-wide, type: an-mpq-65, site: wide, boresight_az_deg: 190, system: s}}
  - {{name: r-point, type: an-mpq-65, site: point, boresight_az_deg: 190, system: s}}
batteries:
  - {{name: wide, interceptor: pac-3-mse, site: wide, rounds: 1, system: s}}
  - {{name: point, interceptor: pac-3-mse, site: point, rounds: 1, system: s}}
assets:
  - {{name: east, site: {{lat: 37.07, lon: 37.38}}, radius_km: 10, value: 2}}
  - {{name: west, site: {{lat: 37.07, lon: 36.87}}, radius_km: 10}}
threats:
  - {{name: to-east, missile: scud-b, launch: hama, aim: east}}
  - {{name: to-west, missile: scud-b, launch: hama, aim: west}}
doctrine: {{salvo: 1, shoot_look_shoot: false, assignment: {assignment}}}
"""
RUNS = 24


def _chunk(assignment: str):
    w = compile_world(parse(yaml.safe_load(SCN.format(assignment=assignment)), "two-assets"))
    return run_chunk(w, preflight(w, RUNS), 0, RUNS, np.random.SeedSequence(5))


def _engaged(ch) -> np.ndarray:
    e = ch.engagements
    per = np.zeros((RUNS, 2), bool)
    per[e.run, e.threat] = True
    return per


def test_exact_assignment_engages_both_threats_where_earliest_first_does_not():
    early, exact = _chunk("earliest"), _chunk("exact")
    both_early, both_exact = _engaged(early).all(axis=1), _engaged(exact).all(axis=1)
    assert both_exact.all()
    assert not both_early.all()  # earliest-first spends "wide" on the eastern threat in some runs
    e = exact.engagements
    # each battery fires its one round, "point" at the eastern threat and "wide" at the western
    assert sorted(zip(e.battery.tolist(), e.threat.tolist())) == sorted([(0, 1), (1, 0)] * RUNS)
    # where earliest-first left a threat, its battery log says why: no round left for it, the
    # magazine empty or its last round kept for the threat of higher value
    d = early.decisions
    no_round = np.isin(d.reason, [REASONS.index("magazine-empty"), REASONS.index("kept-for-higher-value")])
    for run in np.flatnonzero(~both_early):
        left = np.flatnonzero(~_engaged(early)[run])
        assert np.any(no_round & (d.run == run) & np.isin(d.threat, left)), run


def test_greedy_assignment_respects_magazines_and_is_logged():
    ch = _chunk("greedy")
    e = ch.engagements
    fired = np.zeros((RUNS, 2), int)
    np.add.at(fired, (e.run, e.battery), e.rounds)
    assert fired.max() <= 1 and _engaged(ch).any(axis=1).all()


def test_assignment_must_be_known():
    with pytest.raises(InputError, match="assignment"):
        compile_world(parse(yaml.safe_load(SCN.format(assignment="auction")), "two-assets"))


def test_an_assignment_named_without_a_solver_is_refused_not_run_greedy(monkeypatch):
    """A solver named in c2.doctrine.ASSIGNMENTS (and the schema) but given no branch in
    FireControl._assign had run greedy without a word; it is refused, named."""
    import dataclasses

    from shieldlab.c2 import doctrine as doctrine_module
    from shieldlab.engine import fight

    monkeypatch.setattr(doctrine_module, "ASSIGNMENTS", (*doctrine_module.ASSIGNMENTS, "auction"))
    w = compile_world(parse(yaml.safe_load(SCN.format(assignment="greedy")), "two-assets"))
    real = fight.fire_controls

    def auction(world, view, doctrine, *a, **k):  # the doctrine as a new name would compile it
        return real(world, view, dataclasses.replace(doctrine, assignment="auction"), *a, **k)

    monkeypatch.setattr(fight, "fire_controls", auction)
    with pytest.raises(ValueError, match="no assignment solver for 'auction'"):
        run_chunk(w, preflight(w, 2), 0, 2, np.random.SeedSequence(5))


def test_a_new_assignment_solver_is_one_entry_in_the_solvers(monkeypatch):
    """The seam a newcomer swaps: a function of an AssignmentProblem returning an Assignment,
    registered in c2.assignment.SOLVERS (and named where the doctrine and the schema list the
    names), runs in fire control with nothing else changed.  One that gives threats to the
    battery listed first only is obeyed (the other battery, which exact fires too, never
    fires), and one that plans nothing fires nothing and says why."""
    import dataclasses

    from shieldlab.c2 import assignment
    from shieldlab.c2 import doctrine as doctrine_module
    from shieldlab.engine import fight

    calls = []

    def first_battery(problem):
        calls.append(problem.pk.shape)
        x = np.zeros(problem.pk.shape, np.int64)
        for t in np.flatnonzero(problem.feasible[0])[:int(problem.rounds[0])].tolist():
            x[0, t] = 1
        return assignment._result(problem, x, "first", 0.0, optimal=False)

    def nothing(problem):
        return assignment._result(problem, np.zeros(problem.pk.shape, np.int64), "none", 0.0, optimal=False)

    monkeypatch.setattr(doctrine_module, "ASSIGNMENTS", (*doctrine_module.ASSIGNMENTS, "first", "none"))
    monkeypatch.setitem(assignment.SOLVERS, "first", first_battery)
    monkeypatch.setitem(assignment.SOLVERS, "none", nothing)
    w = compile_world(parse(yaml.safe_load(SCN.format(assignment="greedy")), "two-assets"))
    real = fight.fire_controls
    chosen = {"name": "first"}

    def named(world, view, doctrine, *a, **k):  # the doctrine as the new name would compile it
        return real(world, view, dataclasses.replace(doctrine, assignment=chosen["name"]), *a, **k)

    monkeypatch.setattr(fight, "fire_controls", named)
    first = run_chunk(w, preflight(w, RUNS), 0, RUNS, np.random.SeedSequence(5))
    # (exact fires both batteries here: the first test of this file)
    assert calls and set(first.engagements.battery.tolist()) == {0}
    chosen["name"] = "none"
    idle = run_chunk(w, preflight(w, RUNS), 0, RUNS, np.random.SeedSequence(5))
    assert idle.engagements.run.size == 0
    assert (idle.decisions.reason == REASONS.index("kept-for-higher-value")).any()
