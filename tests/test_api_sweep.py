"""shieldlab.sweep and shieldlab.query: the command line's sweep and query from Python."""

import json

import pyarrow as pa
import pytest

import shieldlab
from shieldlab.cli import main


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api") / "sw"
    return shieldlab.sweep("patriot-turkey-2013", {"doctrine.salvo": [1, 2]}, runs=4, seed=3, out=folder)


def test_a_sweep_from_python_is_the_commands(swept, tmp_path, capsys):
    """The same points, summaries and rows as ``shieldlab sweep`` with the same settings and
    seed: the folder it writes is the command's dataset."""
    assert main(["sweep", "patriot-turkey-2013", "--set", "doctrine.salvo=1,2", "--runs", "4", "--seed", "3",
                 "--out", str(tmp_path / "cli"), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert [p["point"] for p in swept.points] == [0, 1] and swept.runs == 4 and swept.seed == 3
    assert (swept.folder / "report.html").is_file()
    for mine, theirs in zip(swept.points, cli, strict=True):
        assert mine["set"] == {"doctrine_salvo": theirs["doctrine_salvo"]}
        for k in ("mean_leakers", "mean_leakers_ci95", "p_no_leaker", "mean_interceptors_fired", "leakers_vs_point0",
                  "raids_fewer_leakers", "raids_more_leakers"):
            assert mine[k] == theirs[k], k
    sql = "select point, run, threat, outcome from outcomes order by all"
    assert swept.query(sql) == shieldlab.query(tmp_path / "cli", sql)
    assert "points of 4 runs, seed 3" in repr(swept)


def test_a_query_from_python_is_an_arrow_table_with_the_querys_columns(swept):
    t = shieldlab.query(swept.folder, "select doctrine_salvo, doctrine_salvo, count(*) as n from outcomes "
                                      "group by all order by 1")
    assert isinstance(t, pa.Table) and t.column_names == ["doctrine_salvo", "doctrine_salvo", "n"]
    assert t.column(0).to_pylist() == [1, 2] and t.column("n").to_pylist() == [16, 16]  # 4 runs x 4 Scuds


def test_settings_are_written_as_a_scenario_file_writes_them(tmp_path):
    """A mapping's values are read as the scenario file would read them: True is YAML's true,
    None its null, 0.5 a number; texts as --set takes them work too."""
    r = shieldlab.sweep("patriot-turkey-2013", {"doctrine.shoot_look_shoot": [True, False]}, runs=2, out=tmp_path / "a")
    assert [p["set"] for p in r.points] == [{"doctrine_shoot_look_shoot": True}, {"doctrine_shoot_look_shoot": False}]
    r = shieldlab.sweep("patriot-turkey-2013", ["doctrine.threat_probability=0.5,0.9"], runs=2, out=tmp_path / "b")
    assert [p["set"]["doctrine_threat_probability"] for p in r.points] == [0.5, 0.9]


@pytest.mark.parametrize("change, field, said", [
    ({"settings": {"doctrine.salvo": 1}}, "settings", "as a list"),
    ({"settings": {"doctrine.salvo": []}}, "settings", "no values"),
    ({"settings": {"doctrine.salvo": ["1,2"]}}, "settings", "one word or number"),
    ({"settings": {}}, "settings", "no field"),
    ({"settings": 5}, "settings", "mapping of field to values"),
    ({"settings": ["doctrine.salvo"]}, "settings", "FIELD=VALUE"),
    ({"runs": 0}, "runs", "1 or more"),
    ({"runs": 2.0}, "runs", "integer"),
    ({"seed": -1}, "seed", "0 or more"),
    ({"out": 3}, "out", "folder's path"),
    ({"resume": True, "force": True}, "force", "not both"),
    ({"force": "false"}, "force", "True or False"),  # (bool("false") is True: it replaced a finished sweep)
    ({"resume": 1}, "resume", "True or False"),
    ({"client": "tcp://x"}, "client", "distributed.Client"),
    ({"scenario": 7}, "scenario", "preset's name"),
])
def test_a_sweeps_bad_argument_is_named(tmp_path, change, field, said):
    kw = {"scenario": "patriot-turkey-2013", "settings": {"doctrine.salvo": [1, 2]}, "runs": 2, "out": tmp_path / "x"}
    kw.update(change)
    with pytest.raises(shieldlab.InputError) as e:
        shieldlab.sweep(**kw)
    assert e.value.field == field and said in str(e.value)
    assert not (tmp_path / "x").exists()  # nothing written


def test_a_sweep_from_python_names_the_options_as_arguments(swept, tmp_path):
    """The engine's errors name the command's options (--out, --force, --resume); from Python
    they name the arguments, and offer force=True, not --force."""
    with pytest.raises(shieldlab.InputError) as e:
        shieldlab.sweep("patriot-turkey-2013", {"doctrine.salvo": [1, 2]}, runs=4, seed=3, out=swept.folder)
    assert e.value.field == "out" and "force=True" in str(e.value) and "--" not in str(e.value)
    with pytest.raises(shieldlab.InputError) as e:
        shieldlab.sweep("patriot-turkey-2013", {"doctrine.salvo": [1, 2]}, runs=4, seed=3, out=swept.folder,
                        resume=True)
    assert e.value.field == "resume" and "nothing to resume" in str(e.value)
    with pytest.raises(shieldlab.InputError) as e:  # a bad value names the point's field
        shieldlab.sweep("patriot-turkey-2013", {"doctrine.salvo": [1, 99]}, runs=2, out=tmp_path / "y")
    assert "doctrine.salvo" in str(e.value) and not (tmp_path / "y").exists()
    assert e.value.field.startswith("settings doctrine.salvo=99") and "--set" not in str(e.value), e.value.field
    with pytest.raises(shieldlab.InputError) as e:  # no such preset or file
        shieldlab.sweep("nope-preset", {"doctrine.salvo": [1, 2]}, runs=2, out=tmp_path / "y")
    assert e.value.field == "scenario" and "no such file or preset" in str(e.value)
    with pytest.raises(shieldlab.InputError) as e:
        shieldlab.sweep(shieldlab.load_world("patriot-turkey-2013"), {"doctrine.salvo": [1, 2]}, out=tmp_path / "z")
    assert e.value.field == "scenario" and "compiled World" in str(e.value)


@pytest.mark.parametrize("folder, sql, field", [("nowhere", "select 1", "folder"), (None, "selec 1", "sql"),
                                                (None, "", "sql"), (None, 5, "sql"), (5, "select 1", "folder")])
def test_a_querys_bad_argument_is_named(swept, tmp_path, folder, sql, field):
    where = swept.folder if folder is None else (tmp_path / folder if isinstance(folder, str) else folder)
    with pytest.raises(shieldlab.InputError) as e:
        shieldlab.query(where, sql)
    assert e.value.field == field
