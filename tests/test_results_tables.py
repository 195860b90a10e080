"""Reading a simulation's result tables (Results.table / read): in memory and from a chunk
store, a column the table lacks is named, asked for or filtered on."""

import numpy as np
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
        with pytest.raises(shieldlab.InputError, match=f"the outcomes table has no column {missing}: its columns "
                                                       "are run, ") as e:
            res.read("outcomes", **kw)
        assert e.value.field == ("columns" if "columns" in kw else "where")


def test_a_bad_argument_to_read_is_an_input_error_naming_it(both):
    """where=[("run", [0])] was an AttributeError ('list' object has no attribute 'items'), and
    every other refusal a bare ValueError, which `except shieldlab.InputError` let through."""
    for res in both:
        for kw, field in (({"name": "outcome"}, "name"), ({"name": "outcomes", "columns": "run"}, "columns"),
                          ({"name": "outcomes", "where": [("run", [0])]}, "where"),
                          ({"name": "outcomes", "where": {"run": 0}}, "where")):
            with pytest.raises(shieldlab.InputError) as e:
                res.read(**kw)
            assert e.value.field == field, kw
            assert isinstance(e.value, ValueError)  # (what it raised before, still caught so)


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
    # a value no row can hold matches nothing, alike: 0.5 was cut to run 0 from a store
    a, b = mem.read("outcomes", ["run"], where={"run": [0.5]}), kept.read("outcomes", ["run"], where={"run": [0.5]})
    assert a["run"].size == 0 and b["run"].size == 0
    # a value of another type is refused, alike: "1" had named the good chunk damaged, and
    # then kept no row without a word (a notebook's where={"run": ["0"]})
    for where, words in (({"run": ["1"]}, "holds '1', of type str: the outcomes table's 'run' column holds numbers"),
                         ({"threat": [1]}, "holds 1, of type int: the outcomes table's 'threat' column holds text")):
        for res in both:
            with pytest.raises(ValueError, match=words):
                res.read("outcomes", ["run", "threat"], where=where)


def test_tables_as_arrow_and_columns_in_the_order_asked(both):
    """A notebook's tables: Results.to_arrow (pyarrow is a dependency) and to_pandas; read gave
    the columns in the table's order, not the order asked."""
    import pyarrow as pa

    for res in both:
        assert list(res.read("events", ["kind", "t_s", "run"])) == ["kind", "t_s", "run"]
        t = res.to_arrow("outcomes", where={"run": [1, 2]})
        assert isinstance(t, pa.Table) and set(t.column("run").to_pylist()) == {1, 2}
        got = res.read("outcomes", where={"run": [1, 2]})
        assert t.num_rows == got["run"].size and t.column_names == list(got)
        # text and None (a threat no battery intercepted) as strings and nulls, NaN as null too
        assert t.column("intercepted_by").to_pylist() == [None if v is None else str(v) for v in got["intercepted_by"]]
        nan = np.isnan(got["intercept_time_s"])
        assert t.column("intercept_time_s").null_count == nan.sum()
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install pandas"):
            both[0].to_pandas("outcomes")


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


def test_a_run_tracked_by_labels_has_no_tracks_table_and_says_so(both):
    """read("tracks") on a run tracked by labels gave {} without a word, where `shieldlab query`
    says it has no such view: now an InputError says why (the table is the multi-target
    tracker's); a run tracked by association has one."""
    for res in both:
        assert not res.has_tracks
        for how in (res.read, res.to_arrow, lambda name, r=res: list(r.table(name))):
            with pytest.raises(shieldlab.InputError, match="no tracks table: it lists the multi-target tracker") as e:
                how("tracks")
            assert e.value.field == "name"
    from shieldlab.scenario import load

    scn = load("patriot-turkey-2013")
    gnn = shieldlab.load_world(scn.model_copy(update={"tracking": scn.tracking.model_copy(
        update={"association": "gnn"})}))
    res = shieldlab.simulate(gnn, runs=2, seed=1)
    assert res.has_tracks and res.read("tracks")["run"].size > 0
