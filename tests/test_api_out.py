"""shieldlab.simulate(..., out=DIR): a run streamed to a results folder from Python, as
``shieldlab run --out`` writes it, resumable, its tables read back a piece of whole runs at a
time."""

import json

import numpy as np
import pytest

import shieldlab
from shieldlab.errors import InputError

RUNS, SEED = 7, 4


@pytest.fixture(scope="module")
def world():
    return shieldlab.load_world("epaa-phase-1")


@pytest.fixture(scope="module")
def in_memory(world):
    return shieldlab.simulate(world, runs=RUNS, seed=SEED)


def _same(a: dict, b: dict, what: str) -> None:
    assert list(a) == list(b), what
    for k in a:
        assert a[k].dtype.kind == b[k].dtype.kind, (what, k, a[k].dtype, b[k].dtype)
        assert np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f"), (what, k)


def _small_pieces(monkeypatch) -> None:
    """Chunks of 2 runs and row groups of 5 rows: a run's rows cross row groups, and a piece of
    whole runs must be put together from several."""
    from shieldlab.engine import chain
    from shieldlab.io import output

    monkeypatch.setattr(chain, "chunk_runs", lambda world, flights=None, *a: 2)
    monkeypatch.setattr(output, "ROW_GROUP", 5)


def test_a_run_into_a_folder_is_the_run_in_memory(world, in_memory, tmp_path, monkeypatch):
    _small_pieces(monkeypatch)
    out = tmp_path / "res"
    res = shieldlab.simulate(world, runs=RUNS, seed=SEED, out=out)
    assert sorted(p.name for p in out.iterdir()) == ["events.parquet", "outcomes.parquet", "report.html",
                                                   "scene.czml", "summary.json", "track_quality.parquet"]
    assert [p.name for p in tmp_path.iterdir()] == ["res"]  # the chunks and the lock are gone
    assert res.summary == in_memory.summary == json.loads((out / "summary.json").read_text())
    assert res.outcomes is None and res.events is None and "tables in the store" in repr(res)
    for name in ("outcomes", "events", "track_quality"):
        _same(getattr(in_memory, name), res.read(name), name)
        # in pieces of whole runs, in run order
        pieces = list(res.table(name, ["run"]))
        runs = [np.unique(p["run"]) for p in pieces]
        assert len(pieces) > 1 and all(np.all(np.diff(r) == 1) for r in runs)
        assert np.array_equal(np.concatenate(runs), np.arange(RUNS))
    # columns and rows asked for, as from memory
    ask = dict(columns=["t_s", "kind", "threat"], where={"run": [3], "kind": ["fire", "launch"]})
    _same(in_memory.read("events", **ask), res.read("events", **ask), "events of run 3")
    assert res.to_arrow("outcomes").num_rows == RUNS * len(world.threats)
    with pytest.raises(InputError) as e:
        res.read("outcomes", columns=["nonesuch"])
    assert e.value.field == "columns"
    assert shieldlab.query(out, "select count(*) as n from outcomes")["n"].to_pylist() == [RUNS * len(world.threats)]


def test_a_stopped_run_resumes_to_the_same_folder(world, in_memory, tmp_path, monkeypatch):
    """Stopped after its first chunk (Ctrl-C), the call leaves that chunk beside the folder;
    ``resume=True`` runs the rest and the folder is the uninterrupted run's."""
    from shieldlab.engine import montecarlo

    _small_pieces(monkeypatch)
    real, calls = montecarlo.run_chunk, []

    def stop_second(*a, **k):
        calls.append(a[2])  # (the chunk's first run)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(montecarlo, "run_chunk", stop_second)
    out = tmp_path / "res"
    with pytest.raises(KeyboardInterrupt):
        shieldlab.simulate(world, runs=RUNS, seed=SEED, out=out)
    assert not out.exists() and (tmp_path / ".res.partial").is_dir()
    with pytest.raises(InputError) as e:  # a new run is refused: the stopped one is kept for resume
        shieldlab.simulate(world, runs=RUNS, seed=SEED, out=out)
    # in Python's words: the arguments, not the command's options (it said "--out: ... give --resume")
    assert e.value.field == "out" and "resume=True" in e.value.message and "--" not in e.value.message
    with pytest.raises(InputError) as e:  # another seed: named as the argument
        shieldlab.simulate(world, runs=RUNS, seed=SEED + 1, out=out, resume=True)
    assert "--" not in e.value.message and "seed" in e.value.message
    with pytest.raises(InputError) as e:  # not yet a results folder to open
        shieldlab.open_results(out)
    assert e.value.field == "out" and "resume=True" in e.value.message
    monkeypatch.setattr(montecarlo, "run_chunk", real)
    res = shieldlab.simulate(world, runs=RUNS, seed=SEED, out=out, resume=True)
    assert calls == [0, 2]  # the first chunk was not run again
    assert res.summary == in_memory.summary
    _same(in_memory.outcomes, res.read("outcomes"), "outcomes")
    assert not (tmp_path / ".res.partial").exists()
    with pytest.raises(InputError) as e:  # finished: nothing to resume
        shieldlab.simulate(world, runs=RUNS, seed=SEED, out=out, resume=True)
    assert e.value.field == "resume"
    # opened again later (another session): the same summary and tables
    again = shieldlab.open_results(out)
    assert again.summary == in_memory.summary and again.outcomes is None
    _same(in_memory.read("events", where={"run": [2]}), again.read("events", where={"run": [2]}), "events")
    # with force the folder is replaced
    again = shieldlab.simulate(world, runs=2, seed=SEED, out=out, force=True)
    assert again.summary["runs"] == 2 and json.loads((out / "summary.json").read_text())["runs"] == 2


@pytest.mark.parametrize("kwargs, field", [
    (dict(out=3), "out"),
    (dict(resume=True), "resume"),
    (dict(force=True), "force"),
    (dict(out="x", resume="no"), "resume"),
    (dict(out="x", resume=True, force=True), "force"),
])
def test_a_bad_folder_argument_is_named(world, tmp_path, monkeypatch, kwargs, field):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as e:
        shieldlab.simulate(world, runs=2, seed=1, **kwargs)
    assert e.value.field == field
    assert list(tmp_path.iterdir()) == []


def test_a_folder_of_other_files_is_refused_whole(world, tmp_path):
    d = tmp_path / "papers"
    d.mkdir()
    (d / "thesis.tex").write_text("years of work")
    with pytest.raises(InputError) as e:
        shieldlab.simulate(world, runs=2, seed=1, out=d, force=True)
    assert e.value.field == "out" and "thesis.tex" in e.value.message
    assert [p.name for p in d.iterdir()] == ["thesis.tex"]


def test_open_results_names_a_folder_that_is_no_run(tmp_path):
    with pytest.raises(InputError) as e:
        shieldlab.open_results(tmp_path / "nothing")
    assert e.value.field == "out" and "no finished run" in e.value.message
    with pytest.raises(InputError) as e:
        shieldlab.open_results(3)
    assert e.value.field == "out"
