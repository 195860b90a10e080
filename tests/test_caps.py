"""The most interceptors a run can fire (shieldlab.outcome.caps): the bounds of the interceptor
counts' intervals, checked against what fire control fires."""

import numpy as np
import pytest

import shieldlab
from shieldlab.outcome.caps import cap_of, interceptor_caps


def test_caps_follow_the_rounds_and_the_doctrine():
    """Patriot 2013: six batteries of 16 rounds, one fire control, two engagements of a salvo
    of two at each of four Scuds: 16 at most (the rounds' 96 had given 8.00 (6.65-22.82))."""
    w = shieldlab.load_world("patriot-turkey-2013")
    c = interceptor_caps(w)
    assert (c.per_run, c.per_threat, c.at_threats, c.at_boosters, c.at_false_tracks) == (96, 4, 16, 0, 0)
    # reserve kept back; without shoot-look-shoot one engagement; under gnn the rounds bound all
    scn = w.scenario
    doc = scn.doctrine.model_copy(update={"reserve": 4, "shoot_look_shoot": False})
    c = interceptor_caps(shieldlab.load_world(scn.model_copy(update={"doctrine": doc})))
    assert (c.per_run, c.per_threat, c.at_threats) == (72, 2, 8)
    gnn = scn.model_copy(update={"tracking": scn.tracking.model_copy(update={"association": "gnn"})})
    c = interceptor_caps(shieldlab.load_world(gnn))
    assert (c.per_run, c.per_threat, c.at_boosters, c.at_false_tracks) == (96, 96, 96, 96)


def test_a_cap_the_runs_break_is_none():
    assert cap_of([1, 2, 4], 4.0, 96.0) == 4.0
    assert cap_of([1, 5], 4.0, 96.0) == 96.0
    assert cap_of([], 0.0, 96.0) == 0.0


@pytest.mark.parametrize("preset, runs", [("patriot-turkey-2013", 6), ("nato-russia-2011", 4)])
def test_fire_control_never_fires_past_the_caps(preset, runs):
    """The bounds are the doctrine's, not the runs': every run's counts lie within them
    (nato-russia-2011: two nodes, independent fire controls, salvos of one and two)."""
    w = shieldlab.load_world(preset)
    c = interceptor_caps(w)
    res = shieldlab.simulate(w, runs=runs, seed=3)
    pieces = list(res.table("outcomes"))
    oc = {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}
    fired = np.asarray(oc["interceptors_fired"])
    assert fired.max() <= c.per_threat
    per_run = np.bincount(np.asarray(oc["run"]), weights=fired, minlength=runs)
    assert per_run.max() <= c.at_threats
    assert np.asarray(oc["interceptors_at_booster"]).max() <= c.at_boosters
    s = res.summary
    # a count alike in every run: its interval ends at most at the cap, and wider than the point
    hi = s["mean_interceptors_fired_ci95"][1]
    assert hi <= c.at_threats + 1e-9
    assert s["mean_interceptors_at_boosters_ci95"] == [0.0, 0.0]
