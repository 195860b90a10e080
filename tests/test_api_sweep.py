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


def test_a_scenario_changed_in_python_is_swept_as_its_file_would_be(swept, tmp_path):
    """A Scenario changed in Python was refused ("must be a preset's name or a scenario
    file's path, not Scenario"), so a notebook had to write it out by hand first; now it is
    swept as the file of its fields, and equals the sweep of that file written out
    (shieldlab.scenario.to_yaml) and, for the preset unchanged, the preset's sweep."""
    from shieldlab import scenario as S

    base = S.load("patriot-turkey-2013")
    same = shieldlab.sweep(base, {"doctrine.salvo": [1, 2]}, runs=4, seed=3, out=tmp_path / "same")
    sql = "select point, run, threat, outcome, interceptors_fired from outcomes order by all"
    assert same.query(sql) == swept.query(sql)
    assert [p["mean_leakers"] for p in same.points] == [p["mean_leakers"] for p in swept.points]
    one = base.model_copy(update={"doctrine": base.doctrine.model_copy(update={"salvo": 1})})
    mine = shieldlab.sweep(one, {"batteries[0].rounds": [4, 16]}, runs=3, seed=2, out=tmp_path / "py")
    (tmp_path / "one.yaml").write_text(S.to_yaml(one))
    filed = shieldlab.sweep(tmp_path / "one.yaml", {"batteries[0].rounds": [4, 16]}, runs=3, seed=2,
                            out=tmp_path / "file")
    assert mine.query(sql) == filed.query(sql)
    assert json.loads((mine.folder / "sweep.json").read_text())["scenario"] == "patriot-turkey-2013 (made in Python)"
    # resumed with another Scenario: refused, naming the scenario's contents, nothing changed
    with pytest.raises(shieldlab.InputError, match="scenario contents"):
        shieldlab.sweep(base, {"batteries[0].rounds": [4, 16]}, runs=3, seed=2, out=tmp_path / "py", resume=True)
    assert mine.query(sql) == shieldlab.query(tmp_path / "py", sql)


@pytest.mark.parametrize("preset", shieldlab.presets())
def test_a_scenario_written_out_reads_back_the_same(preset):
    """shieldlab.scenario.to_yaml: the fields a scenario sets, as a file holds them; read back,
    the same Scenario (defaults and nulls left out, as the presets leave them)."""
    import yaml

    from shieldlab import scenario as S
    from shieldlab.scenario.loader import parse

    scn = S.load(preset)
    text = S.to_yaml(scn)
    assert parse(yaml.safe_load(text), preset) == scn
    assert len(text) < 1.2 * len(S.loader.preset_text(preset))  # no defaults spelt out
    with pytest.raises(shieldlab.InputError, match="must be a Scenario"):
        S.to_yaml({"name": "x"})


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
