"""Reading a simulation's result tables (Results.table / read): in memory and from a chunk
store, a column the table lacks is named, asked for or filtered on."""

import pytest

import shieldlab
from shieldlab.engine.chain import preflight
from shieldlab.engine.montecarlo import simulate
from shieldlab.engine.sweep import checkpoint, load


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """patriot-turkey-2013, 3 runs: held in memory, and kept in a chunk store of 2 runs a chunk."""
    world = shieldlab.load_world("patriot-turkey-2013")
    mem = shieldlab.simulate(world, runs=3, seed=1)
    source, raw = load("patriot-turkey-2013")
    store, _ = checkpoint(source, raw, 3, 1, tmp_path_factory.mktemp("r") / "out", 2)
    kept = simulate(world, runs=3, seed=1, flights=preflight(world, 3), store=store)
    return mem, kept


@pytest.mark.parametrize("kw, missing", [({"columns": ["nope"]}, "'nope'"),
                                         ({"columns": ["run", "nope"]}, "'nope'"),
                                         ({"where": {"nope": [1]}}, "'nope'"),
                                         ({"columns": ["runz"], "where": {"threatt": ["x"]}}, "'runz', 'threatt'")])
def test_a_column_the_table_lacks_is_named(both, kw, missing):
    """In memory a missing column read as {} or was dropped, and a filter on one was a bare
    KeyError; from a store both were dropped without a word."""
    for res in both:
        with pytest.raises(ValueError, match=f"the outcomes table has no column {missing}: its columns are run, "):
            res.read("outcomes", **kw)


def test_memory_and_store_read_the_same_rows(both):
    mem, kept = both
    a = mem.read("outcomes", ["run", "threat", "outcome"], where={"run": [1, 2]})
    b = kept.read("outcomes", ["run", "threat", "outcome"], where={"run": [1, 2]})
    assert list(a) == list(b) == ["run", "threat", "outcome"]
    assert sorted(set(a["run"])) == [1, 2]
    for k in a:
        assert list(a[k]) == list(b[k]), k
    with pytest.raises(ValueError, match="not the string 'run'"):
        mem.read("outcomes", "run")
    # values of another type match nothing, alike: 0.5 was cut to run 0 from a store, and "1"
    # named the good chunk damaged
    for where in ({"run": [0.5]}, {"run": ["1"]}, {"threat": [1]}):
        a, b = mem.read("outcomes", ["run"], where=where), kept.read("outcomes", ["run"], where=where)
        assert a["run"].size == 0 and b["run"].size == 0, where


@pytest.mark.parametrize("value, words", [("t1", "not 't1': \\['t1'\\] keeps that one"), (3, "not 3: \\[3\\]")])
def test_a_filter_takes_a_sequence_of_values(both, value, words):
    """where={'threat': 'x'} kept the rows whose threat was one of the string's characters (none),
    and where={'run': 3} was a bare TypeError."""
    for res in both:
        with pytest.raises(ValueError, match=words):
            res.read("outcomes", where={"threat": value})


def test_the_outcomes_carry_each_flights_launch_time():
    """A time of flight or to intercept needed a join to the events for the launch: the
    outcomes now carry ``launch_time_s``, each salvo member's own (patriot-turkey-2013: the
    Gaziantep pair at 0 and 30 s, the Kahramanmaras Scud at 15, the Adana Scud-C at 40)."""
    import numpy as np

    o = shieldlab.simulate(shieldlab.load_world("patriot-turkey-2013"), 3, seed=1).outcomes
    launch = dict(zip(o["threat"][:4], o["launch_time_s"][:4]))
    assert launch == {"scud-b-gaziantep#1": 0.0, "scud-b-gaziantep#2": 30.0, "scud-b-kahramanmaras": 15.0,
                      "scud-c-adana": 40.0}
    hit = np.isfinite(o["intercept_time_s"])
    assert hit.any() and (o["intercept_time_s"][hit] > o["launch_time_s"][hit] + 60.0).all()
