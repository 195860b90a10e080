"""`--set FIELD=VALUE` on run, tracks and validate: the scenario as if the file said so."""

from __future__ import annotations

import json
from importlib import resources

import pytest
import yaml
from test_cli import cli

PRESET = "patriot-turkey-2013"


def _preset_with(tmp_path, **sections):
    """The preset's file with fields of ``sections`` set (section -> {field: value}): what
    ``--set`` must equal."""
    raw = yaml.safe_load((resources.files("shieldlab.scenario") / "presets" / f"{PRESET}.yaml").read_text())
    for name, fields in sections.items():
        raw.setdefault(name, {}).update(fields)
    p = tmp_path / "edited.yaml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    return p


def test_run_with_set_is_the_run_of_the_scenario_so_written(tmp_path):
    """`run --set` gives the summary of the file edited so (the same runs, decisions and
    outcomes), and the summary, the table and the report say what was set."""
    edited = _preset_with(tmp_path, tracking={"association": "gnn"}, doctrine={"salvo": 1})
    a = cli("run", PRESET, "--set", "tracking.association=gnn", "--set", "doctrine.salvo=1", "--runs", "3", "--json")
    b = cli("run", edited, "--runs", "3", "--json")
    assert a.returncode == b.returncode == 0, a.stderr + b.stderr
    sa, sb = json.loads(a.stdout), json.loads(b.stdout)
    assert list(sa)[:2] == ["scenario", "set"] and sa.pop("set") == {"tracking.association": "gnn",
                                                                     "doctrine.salvo": 1}
    assert sa == sb and sa["tracking"]["association"] == "gnn"
    r = cli("run", PRESET, "--set", "doctrine.salvo=1", "--runs", "2", "--out", tmp_path / "res")
    assert r.returncode == 0, r.stderr
    assert f"{json.loads((tmp_path / 'res' / 'summary.json').read_text())['scenario']} (set doctrine.salvo=1) — " \
        in r.stdout
    assert json.loads((tmp_path / "res" / "summary.json").read_text())["set"] == {"doctrine.salvo": 1}
    assert "set doctrine.salvo = 1" in (tmp_path / "res" / "report.html").read_text()


def test_a_stopped_run_resumes_only_with_the_same_settings(tmp_path):
    """The settings are part of what a results folder's run is: a resume without them is another run."""
    from shieldlab.engine.sweep import checkpoint, parse_setting, partial_folder, with_settings

    # a run stopped before its first chunk was done: its folder holds the manifest of what it runs
    settings = [parse_setting("doctrine.salvo=1")]
    source, raw, _ = with_settings(PRESET, settings)
    _, folder = checkpoint(source, raw, 4, 1, tmp_path / "res", 2, settings=settings)
    assert folder == partial_folder(tmp_path / "res") and folder.exists()
    r = cli("run", PRESET, "--runs", "4", "--out", tmp_path / "res", "--resume")
    assert r.returncode == 2 and "holds a different run (other scenario contents, --set values: it was given " \
        "doctrine.salvo=1)" in r.stderr, r.stderr
    r = cli("run", PRESET, "--set", "doctrine.salvo=1", "--runs", "4", "--out", tmp_path / "res", "--resume")
    assert r.returncode == 0, r.stderr
    assert not folder.exists() and (tmp_path / "res" / "summary.json").exists()


def test_tracks_and_validate_take_settings_too(tmp_path):
    r = cli("tracks", PRESET, "--set", "tracking.filter=imm", "--runs", "2", "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["set"] == {"tracking.filter": "imm"} and s["tracking"]["filter"] == "imm"
    r = cli("tracks", PRESET, "--set", "tracking.gate_probability=0.99", "--runs", "2")
    assert r.returncode == 0 and f"{s['scenario']} (set tracking.gate_probability=0.99): multi-target" in r.stdout
    # a value is recorded as the scenario reads it: a count given as 4.0 is 4
    r = cli("validate", PRESET, "--set", "batteries[0].rounds=4.0", "--json")
    assert json.loads(r.stdout)["set"] == {"batteries[0].rounds": 4}
    r = cli("validate", PRESET, "--set", "doctrine.salvo=1")
    assert r.returncode == 0 and "(set doctrine.salvo=1) — " in r.stdout
    r = cli("validate", PRESET, "--set", "doctrine.salvo=1", "--json")
    assert json.loads(r.stdout)["set"] == {"doctrine.salvo": 1}


@pytest.mark.parametrize("args, words", [
    (["--set", "doctrine.salvo=1,2"], "--set: doctrine.salvo: one value here, not 2 (shieldlab sweep runs several)"),
    (["--set", "doctrine.salvo=1", "--set", "doctrine.salvo=2"], "--set: doctrine.salvo set twice"),
    (["--set", "tracking.asociation=gnn"], "--set tracking.asociation=gnn: tracking.asociation: unknown field"),
    (["--set", "tracking.association=gnm"], "--set tracking.association=gnm: tracking.association: Input should be"),
    (["--set", "doctrine.salvo=-1"], "--set doctrine.salvo=-1: doctrine.salvo"),
    # the value as typed, not as read (1e400 reads as inf; the quotes made it a string)
    (["--set", "doctrine.salvo=1e400"], "--set doctrine.salvo=1e400: doctrine.salvo"),
    (["--set", 'tracking.min_speed_ms="300"'], '--set tracking.min_speed_ms="300": tracking.min_speed_ms'),
    (["--set", 'sensing.false_alarms="20"'], "not '20' (write a number without quotes)"),
    (["--set", "batteries[9].rounds=4"],
     f"preset {PRESET}: --set batteries[9].rounds=4: the scenario has no batteries[9] (it has 6 items there)"),
    (["--set", "batteries[0].rounds[0]=4"], "--set batteries[0].rounds[0]=4: batteries[0].rounds is not a list"),
    (["--set", "doctrine.salvo"], "--set: 'doctrine.salvo': give FIELD=VALUE"),
    # a list was read as four values ("one value here, not 4"), or as one given twice
    (["--set", "nodes[0].sector=[[40,20],[41,21],[40,22]]"], "--set takes single values"),
    (["--set", "assets[0]={name: x}"], "not a list or mapping such as '{name: x}'"),
])
@pytest.mark.parametrize("command", ["run", "tracks", "validate", "compare"])
def test_a_bad_setting_is_named_and_nothing_is_written(tmp_path, command, args, words):
    out = ["--out", tmp_path / ("res" if command == "run" else "t.parquet")] if command in ("run", "tracks") else []
    r = cli(command, PRESET, *args, "--runs", "2", *out)
    assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_report_header_writes_a_setting_as_given():
    """0.9999 was written 1 (three figures); a computed rate keeps three."""
    from shieldlab.io.report import _setting_text

    assert _setting_text(0.9999) == "0.9999" and _setting_text(10.0) == "10"
    assert _setting_text({"kurecik": 0.000979207702729}) == "(kurecik 0.000979)"


def test_settings_on_a_scenario_without_ballistic_threats_are_shown_or_noted(tmp_path):
    """The air picture's and the shelling's table titles and reports say what was set; a field of
    the ballistic kill chain, which they never read, is noted (the results are as without it)."""
    r = cli("run", "turkey-airspace-2015", "--set", "flights[0].count=2", "--set", "tracking.association=gnn",
            "--runs", "2", "--out", tmp_path / "air")
    assert r.returncode == 0, r.stderr
    assert "(set flights[0].count=2, tracking.association=gnn) — air picture" in r.stdout
    assert "note: --set tracking.association: this scenario has flights only" in r.stderr
    assert "set flights[0].count = 2" in (tmp_path / "air" / "report.html").read_text()
    assert json.loads((tmp_path / "air" / "summary.json").read_text())["set"]["flights[0].count"] == 2
    r = cli("run", "akcakale-2012", "--set", "tracking.init_hits=2", "--runs", "2", "--out", tmp_path / "sh")
    assert r.returncode == 0, r.stderr
    assert "(set tracking.init_hits=2) — shelling" in r.stdout and "note:" not in r.stderr
    assert "set tracking.init_hits = 2" in (tmp_path / "sh" / "report.html").read_text()
    r = cli("validate", "turkey-airspace-2015", "--set", "doctrine.salvo=2", "--json")
    assert r.returncode == 0 and any(n.startswith("note: --set doctrine.salvo: this scenario has flights only")
                                     for n in json.loads(r.stdout)["notes"])


def test_compare_with_set_is_the_comparison_of_the_scenario_so_written(tmp_path):
    """`compare --set` compares the file edited so, and its JSON and title say what was set;
    the notes validate gives (a link that carries nothing) come on stderr, as run's do."""
    edited = _preset_with(tmp_path, doctrine={"salvo": 1})
    args = ["--runs", "2", "--architectures", "independent,coordinated"]
    a = cli("compare", PRESET, "--set", "doctrine.salvo=1", *args, "--json")
    b = cli("compare", edited, *args, "--json")
    assert a.returncode == b.returncode == 0, a.stderr + b.stderr
    ja, jb = json.loads(a.stdout), json.loads(b.stdout)
    assert list(ja)[:2] == ["scenario", "set"] and ja.pop("set") == {"doctrine.salvo": 1}
    assert ja == jb
    t = cli("compare", edited, *args)
    assert t.returncode == 0 and f"{ja['scenario']} (edited.yaml) — 2 runs per architecture" in t.stdout
    assert "vs independent, raid by raid" in t.stdout
    t = cli("compare", "nato-russia-2011", "--set", "links[0].tracks=false",
            "--runs", "1", "--architectures", "coordinated")
    assert t.returncode == 0, t.stderr
    assert "(set links[0].tracks=false)" in t.stdout
    assert "carries nothing" in t.stderr


def test_compare_refuses_an_architecture_set_and_says_nothing_of_the_files_own(tmp_path):
    """`compare --set architecture=...` would be overridden by every column: refused, naming
    --set.  The note that the file's own architecture leaves its links unused is not printed:
    compare runs it under others."""
    r = cli("compare", "nato-russia-2011", "--set", "architecture=coordinated", "--runs", "1")
    assert r.returncode == 2 and r.stderr.startswith("error: --set: compare runs the scenario"), r.stderr
    raw = yaml.safe_load((resources.files("shieldlab.scenario") / "presets" / "nato-russia-2011.yaml").read_text())
    raw["architecture"] = "independent"
    p = tmp_path / "independent.yaml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert "uses no links" in cli("validate", str(p)).stdout + cli("validate", str(p)).stderr
    r = cli("compare", str(p), "--runs", "1", "--architectures", "independent,coordinated")
    assert r.returncode == 0 and "uses no links" not in r.stderr, r.stderr


def test_a_missing_section_is_made_at_any_depth(tmp_path):
    """`shelling.missions[0].dispersion.range_sigma_m` on a mission without `dispersion:`
    was refused ("the scenario has no ..."), though the docs said a missing section is made;
    a misspelt section is the schema's unknown field."""
    r = cli("validate", "akcakale-2012", "--set", "shelling.missions[0].dispersion.range_sigma_m=30", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["set"] == {"shelling.missions[0].dispersion.range_sigma_m": 30.0}
    r = cli("validate", "akcakale-2012", "--set", "shelling.missions[0].dispersoin.range_sigma_m=30")
    assert r.returncode == 2 and "dispersoin: unknown field (did you mean 'dispersion'?)" in r.stderr, r.stderr


@pytest.mark.parametrize("command", ["run", "validate", "compare"])
def test_an_aim_a_setting_puts_out_of_reach_names_the_setting(tmp_path, command):
    """A fire mission laid, or a threat steered, after the schema: a charge set too weak for
    its aim was refused without the --set that made it, where every other bad value names it;
    an aim out of reach in the scenario as written stays the scenario's own error."""
    out = ["--out", tmp_path / "res"] if command == "run" else []
    if command != "compare":  # (which runs ballistic raids alone)
        r = cli(command, "akcakale-2012", "--set", "shelling.missions[0].muzzle_velocity_ms=100", "--runs", "2", *out)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert "--set shelling.missions[0].muzzle_velocity_ms=100: shelling.missions[0].aim: mortar-3-oct: the " \
               "aim point is 5.69 km away" in r.stderr, r.stderr
    r = cli(command, PRESET, "--set", "sites.hama.lat=30", "--runs", "2", *out)  # 800 km from Gaziantep
    assert r.returncode == 2 and "--set sites.hama.lat=30: threats[0]" in r.stderr, r.stderr
    assert not (tmp_path / "res").exists()
    # a setting beside an aim already out of reach: the error is the scenario's, not the setting's
    raw = yaml.safe_load((resources.files("shieldlab.scenario") / "presets" / f"{PRESET}.yaml").read_text())
    raw["sites"]["hama"]["lat"] = 30.0
    far = tmp_path / "far.yaml"
    far.write_text(yaml.safe_dump(raw, sort_keys=False))
    r = cli(command, far, "--set", "doctrine.salvo=1", "--runs", "2", *out)
    assert r.returncode == 2 and "threats[0]" in r.stderr and "--set" not in r.stderr, r.stderr


def test_validate_json_says_invalid_on_stdout_too():
    """`validate --json` of a valid scenario prints {"valid": true, ...}; of a bad one it
    printed nothing on stdout (the error only on stderr), so a script reading the JSON got none."""
    r = cli("validate", PRESET, "--set", "sites.hama.lat=95", "--json")
    assert r.returncode == 2 and "sites.hama.lat" in r.stderr
    doc = json.loads(r.stdout)
    assert doc["valid"] is False and doc["scenario"] == PRESET and doc["set"] == {"sites.hama.lat": 95}
    assert doc["errors"] == [{"field": "--set sites.hama.lat=95: sites.hama.lat",
                              "message": "Input should be less than or equal to 90 (got 95)"}]


def test_validate_json_of_a_refused_nan_is_strict_json():
    """`validate --set doctrine.salvo=.nan --json` echoed the value as NaN, no JSON value: a
    script's parser failed on the verdict.  The value is given as typed."""
    from test_cli import strict_json

    r = cli("validate", PRESET, "--set", "doctrine.salvo=.nan", "--json")
    assert r.returncode == 2
    doc = strict_json(r.stdout)
    assert doc["valid"] is False and doc["set"] == {"doctrine.salvo": ".nan"}
