"""No scenario input yields silent nonsense: every problem is named by its exact field, all at once;
names stay unique after salvo expansion; numbers are finite and bounded; presets and paths are
told apart; handover and look times resolve battery -> doctrine -> catalogue."""

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shieldlab import catalog
from shieldlab.errors import InputError
from shieldlab.scenario import compile_world, load, load_world
from shieldlab.scenario.compile import DEFAULT_HANDOVER_S, DEFAULT_LOOK_TIME_S
from shieldlab.scenario.loader import parse
from shieldlab.scenario.reference import json_schema, markdown_reference

ROOT = Path(__file__).resolve().parent.parent

BASE = {
    "name": "checks",
    "epoch": "2012-03-01T00:00:00Z",
    "sites": {"pad": {"lat": 38.0, "lon": 46.0}, "radar": {"lat": 38.3, "lon": 37.8, "alt_m": 2000}},
    "sensors": [{"name": "r1", "type": "an-tpy-2", "site": "radar", "boresight_az_deg": 90}],
    "batteries": [{"name": "b1", "interceptor": "sm-3-block-ia", "site": {"lat": 36.2, "lon": 27.6}, "rounds": 4}],
    "assets": [{"name": "city", "site": {"lat": 41.0, "lon": 29.0}, "radius_km": 20}],
    "threats": [{"name": "t", "missile": "ghadr-1", "launch": "pad", "aim": "city", "count": 2, "spacing_s": 10}],
}


def scenario(**edits):
    """BASE with edits: keys are paths like ``threats__0__spacing_s``; a value of ... deletes."""
    d = copy.deepcopy(BASE)
    for path, value in edits.items():
        node = d
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[int(k)] if k.isdigit() else node.setdefault(k, {})
        last = int(keys[-1]) if keys[-1].isdigit() else keys[-1]
        if value is ...:
            del node[last]
        else:
            node[last] = value
    return d


def problems_of(data, source="s"):
    with pytest.raises(InputError) as e:
        compile_world(parse(data, source), source)
    return e.value


def sensor_entry(**changes):
    entry = catalog.get_sensor("an-tpy-2").model_dump()
    entry.update(id="my-radar", **changes)
    return entry


# --- names unique after salvo expansion ----------------------------------------------------------

def test_threat_named_like_a_salvo_member_is_rejected():
    data = scenario()
    data["threats"].append(dict(data["threats"][0], name="t#1", count=1))
    e = problems_of(data)
    assert e.field == "threats[1].name"
    assert e.message == "'t#1' is also the name of the 1st missile of salvo 't' (threats[0])"
    assert str(e) == "s: threats[1].name: 't#1' is also the name of the 1st missile of salvo 't' (threats[0])"


def test_salvo_expanding_onto_an_earlier_name_is_rejected():
    data = scenario(threats__0__name="t#2", threats__0__count=1)
    data["threats"].append(dict(data["threats"][0], name="t", count=3))
    e = problems_of(data)
    assert e.field == "threats[1].name"
    assert "salvo 't' names its missiles 't#1' .. 't#3'" in e.message and "'t#2'" in e.message


def test_single_and_salvo_with_one_name_is_a_duplicate():
    data = scenario()
    data["threats"].append(dict(data["threats"][0], count=1))
    e = problems_of(data)
    assert (e.field, e.message) == ("threats[1].name", "duplicate name 't' (also threats[0])")


def test_distinct_names_with_hash_are_fine():
    data = scenario()
    data["threats"].append(dict(data["threats"][0], name="t#3", count=1))
    w = compile_world(parse(data, "s"), "s")
    assert [t.name for t in w.threats] == ["t#1", "t#2", "t#3"]


FLIGHT = {"name": "f", "type": "su-24m", "route": ["pad", "radar"]}


def test_two_flight_entries_with_one_name_are_a_duplicate():
    """A salvo 'f' of two (f#1, f#2) and a single 'f': no flier shares a name, but the summary
    adds the figures of both entries under 'f'."""
    data = scenario(flights=[dict(FLIGHT, count=2), dict(FLIGHT)])
    e = problems_of(data)
    assert (e.field, e.message) == ("flights[1].name", "duplicate name 'f' (also flights[0])")


@pytest.mark.parametrize("name, words", [("t", "'t' is also the name of threats[0]"),
                                         ("t#2", "'t#2' is also the name of threats[0]")])
def test_a_flight_may_not_share_a_threats_name(name, words):
    """Threats and flights share the event log's and outcome table's name column."""
    e = problems_of(scenario(flights=[dict(FLIGHT, name=name)]))
    assert (e.field, e.message) == ("flights[0].name", words)


def test_a_flight_salvo_expanding_onto_a_threats_name_is_rejected():
    ok = scenario(flights=[dict(FLIGHT, name="t")], threats__0__name="u")  # 't' is free once the threat is 'u'
    assert [f.name for f in compile_world(parse(ok, "s"), "s").flights] == ["t"]
    data = scenario(flights=[dict(FLIGHT, name="x", count=2)], threats__0__name="x#1", threats__0__count=1)
    e = problems_of(data)
    assert (e.field, e.message) == ("flights[0].name", "'x#1' is also the name of threats[0]")


# --- finite, bounded numbers --------------------------------------------------------------------------

@pytest.mark.parametrize("value", [float("inf"), float("nan"), "nan", "-inf"])
@pytest.mark.parametrize("field", ["launch_time_s", "spacing_s"])
def test_non_finite_launch_times_are_rejected(field, value):
    e = problems_of(scenario(**{f"threats__0__{field}": value}))
    assert e.field == f"threats[0].{field}"
    assert "finite number" in e.message or "greater than or equal to 0" in e.message


@pytest.mark.parametrize("text", [".inf", ".nan", "nan"])
def test_non_finite_yaml_values_are_rejected(tmp_path, text):
    data = yaml.safe_dump(scenario()).replace("spacing_s: 10", f"spacing_s: {text}")
    p = tmp_path / "s.yaml"
    p.write_text(data)
    with pytest.raises(InputError) as e:
        load_world(str(p))
    assert e.value.field == "threats[0].spacing_s" and "finite number" in e.value.message


@pytest.mark.parametrize("value, words", [(float("inf"), "finite number"), (float("nan"), "finite number"),
                                          (0.0, "greater than or equal to 0.01"),
                                          (1e6, "less than or equal to 600")])
def test_catalogue_sensor_scan_period_in_a_scenario(value, words):
    data = scenario(catalog={"sensors": [sensor_entry(scan_period_s=value)]})
    e = problems_of(data)
    assert e.field == "catalog.sensors[0].scan_period_s" and words in e.message


def test_catalogue_interceptor_infinite_figure_is_rejected():
    entry = catalog.get_interceptor("sm-3-block-ia").model_dump()
    entry.update(id="mine", max_range_km=float("inf"))
    e = problems_of(scenario(catalog={"interceptors": [entry]}))
    assert e.field == "catalog.interceptors[0].max_range_km" and "finite number" in e.message


@pytest.mark.parametrize("value", [1e-300, 0.0, 0.05])
def test_planning_interval_has_a_floor(value):
    e = problems_of(scenario(doctrine={"planning_interval_s": value}))
    assert e.field == "doctrine.planning_interval_s" and "greater than or equal to 0.1" in e.message


def test_last_launch_of_a_salvo_at_most_a_day_after_the_epoch():
    e = problems_of(scenario(threats__0__count=3, threats__0__spacing_s=50_000.0))
    assert e.field == "threats[0].spacing_s"
    assert "100,000 s after the epoch" in e.message and "86,400" in e.message
    assert problems_of(scenario(threats__0__launch_time_s=86_401.0)).field == "threats[0].launch_time_s"
    w = compile_world(parse(scenario(threats__0__launch_time_s=86_390.0, threats__0__spacing_s=10.0), "s"))
    assert w.threats[-1].launch_time == 86_400.0


@pytest.mark.parametrize("field, value", [("handover_s", -1.0), ("handover_s", 601.0), ("look_time_s", float("inf")),
                                          ("handover_s", float("nan"))])
def test_new_handover_and_look_fields_are_bounded(field, value):
    assert problems_of(scenario(**{f"batteries__0__{field}": value})).field == f"batteries[0].{field}"
    assert problems_of(scenario(doctrine={field: value})).field == f"doctrine.{field}"
    entry = catalog.get_interceptor("sm-3-block-ia").model_dump()
    entry.update(id="mine", **{field: value})
    assert problems_of(scenario(catalog={"interceptors": [entry]})).field == f"catalog.interceptors[0].{field}"


# --- inline points -------------------------------------------------------------------------------------

@pytest.mark.parametrize("where, point, field, words", [
    ("threats__0__launch", {"lat": 95, "lon": 46}, "threats[0].launch.lat", "less than or equal to 90"),
    ("threats__0__aim", {"lat": 40, "lon": 29, "latt": 1}, "threats[0].aim.latt", "unknown field"),
    ("batteries__0__site", {"lon": 27.6}, "batteries[0].site.lat", "Field required"),
    ("sensors__0__site", {"lat": 38, "lon": 37, "alt_m": float("inf")}, "sensors[0].site.alt_m", "finite number"),
    ("assets__0__site", 5, "assets[0].site", "expected a site name or a point {lat, lon, alt_m}"),
    ("sites__pad", {"latt": 38.0, "lon": 46.0}, "sites.pad.latt", "unknown field"),
])
def test_inline_point_errors_name_the_exact_field(where, point, field, words):
    e = problems_of(scenario(**{where: point}))
    assert any(f == field and words in m for f, m in e.problems), e.problems


def test_sites_named_like_union_tags_keep_their_names():
    data = scenario(sites={"point": {"lat": 95, "lon": 0}, "site-name": {"lat": 0, "lon": 0}})
    assert problems_of(data).field == "sites.point.lat"


# --- every problem reported ------------------------------------------------------------------------

def test_three_problems_in_a_file_are_all_reported(tmp_path):
    data = scenario(threats__0__spacing_s=float("inf"), doctrine={"planning_interval_s": 1e-300},
                    sites__pad={"lat": 95, "lon": 46})
    p = tmp_path / "three.yaml"
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as e:
        load_world(str(p))
    fields = [f for f, _ in e.value.problems]
    assert sorted(fields) == ["doctrine.planning_interval_s", "sites.pad.lat", "threats[0].spacing_s"]
    lines = str(e.value).splitlines()
    assert len(lines) == 3 and all(line.startswith(f"{p}: ") for line in lines)
    assert "more problem" not in str(e.value)


def test_reference_problems_are_collected_together():
    data = scenario(threats__0__missile="nope", threats__0__launch="nowhere", batteries__0__interceptor="zz",
                    sensors__0__type="no-radar")
    e = problems_of(data)
    assert [f for f, _ in e.problems] == ["sensors[0].type", "batteries[0].interceptor", "threats[0].missile",
                                         "threats[0].launch"]


def test_single_problem_error_is_unchanged():
    e = InputError("bad", source="f.yaml", field="x.y")
    assert (str(e), e.field, e.message, e.problems) == ("f.yaml: x.y: bad", "x.y", "bad", [("x.y", "bad")])
    assert str(InputError("plain")) == "plain"
    many = InputError(problems=[("a", "one"), ("b", "two")], source="f")
    assert (many.field, many.message, str(many)) == ("a", "one", "f: a: one\nf: b: two")


# --- presets and paths ---------------------------------------------------------------------------

def test_preset_name_wins_over_a_local_folder_or_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "epaa-phase-1").mkdir()
    assert load("epaa-phase-1").name == "epaa-phase-1"
    assert load_world("epaa-phase-1").source == "preset epaa-phase-1"
    with pytest.raises(InputError, match="is a folder, not a scenario file"):
        load("./epaa-phase-1")


def test_local_file_named_like_a_preset_needs_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "epaa-phase-2").write_text(yaml.safe_dump(scenario(name="local")))
    assert load("epaa-phase-2").name == "epaa-phase-2"
    assert load("./epaa-phase-2").name == "local"
    (tmp_path / "epaa-phase-3.yaml").write_text(yaml.safe_dump(scenario(name="local-yaml")))
    assert load("epaa-phase-3.yaml").name == "local-yaml"
    assert load("epaa-phase-3").name == "epaa-phase-3"


def test_a_binary_file_is_named_not_text(tmp_path):
    f = tmp_path / "raid.yaml"
    f.write_bytes(b"name: x\n\xff\xfe\x00binary")
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 8\)") as e:
        load(str(f))
    assert "UnicodeDecodeError" not in str(e.value)


def test_bare_name_that_is_no_preset(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "myraid").write_text(yaml.safe_dump(scenario(name="mine")))
    assert load("myraid").name == "mine"
    assert load_world("myraid").source == "myraid"
    (tmp_path / "somedir").mkdir()
    with pytest.raises(InputError, match="is a folder, not a scenario file") as e:
        load("somedir")
    assert e.value.source == "somedir"
    with pytest.raises(InputError, match="no such file or preset"):
        load("absent")
    with pytest.raises(InputError, match="no such file"):
        load("sub/absent")


# --- per-interceptor doctrine defaults -----------------------------------------------------------------

def test_handover_and_look_time_resolve_battery_then_doctrine_then_catalogue():
    spec = catalog.get_interceptor("sm-3-block-ia")
    second = dict(BASE["batteries"][0], name="b2", interceptor="pac-3-mse")
    data = scenario(batteries=[BASE["batteries"][0], second])
    b1, b2 = compile_world(parse(data, "s")).batteries
    assert (b1.handover, b1.look_time) == (spec.handover_s, spec.look_time_s)
    pac = catalog.get_interceptor("pac-3-mse")
    assert (b2.handover, b2.look_time) == (pac.handover_s, pac.look_time_s) and b2.handover < b1.handover
    data["doctrine"] = {"handover_s": 12.0, "look_time_s": 7.0}
    b1, b2 = compile_world(parse(data, "s")).batteries
    assert (b1.handover, b1.look_time, b2.handover, b2.look_time) == (12.0, 7.0, 12.0, 7.0)
    data["batteries"][1] = dict(second, handover_s=2.5, look_time_s=1.5)
    b1, b2 = compile_world(parse(data, "s")).batteries
    assert (b1.handover, b1.look_time, b2.handover, b2.look_time) == (12.0, 7.0, 2.5, 1.5)
    assert parse(data, "s").doctrine.handover_s == 12.0 and parse(scenario(), "s").doctrine.handover_s is None


def test_interceptor_without_catalogue_times_gets_the_generic_defaults():
    entry = catalog.get_interceptor("sm-3-block-ia").model_dump(exclude={"handover_s", "look_time_s"})
    entry.update(id="mine")
    data = scenario(batteries__0__interceptor="mine", catalog={"interceptors": [entry]})
    (b,) = compile_world(parse(data, "s")).batteries
    assert (b.handover, b.look_time) == (DEFAULT_HANDOVER_S, DEFAULT_LOOK_TIME_S)


def test_patriot_preset_uses_terminal_homing_handover():
    w = load_world("patriot-turkey-2013")
    assert all(b.handover <= 5.0 for b in w.batteries)
    assert {b.spec.id for b in w.batteries} == {"pac-3-mse", "pac-2-gem-t"}


def test_every_preset_carries_a_dispersion():
    from shieldlab.scenario import preset_names

    for name in preset_names():
        scn = load(name)
        if scn.threats:
            d = scn.dispersion
            assert d.thrust_pct > 0 and d.drag_pct > 0 and d.azimuth_mrad > 0, name
        for f in scn.flights:  # air-breathing flights disperse their speed
            assert f.speed_pct > 0, (name, f.name)


# --- schema and reference ------------------------------------------------------------------------

def test_json_schema_describes_every_field_with_units():
    s = json_schema()
    assert s["title"] == "shieldlab scenario"
    json.dumps(s)  # serialisable
    defs = s["$defs"]
    for model in ("ThreatCfg", "BatteryCfg", "DoctrineCfg", "SensorCfg", "AssetCfg", "DispersionCfg", "GeoPoint"):
        for name, prop in defs[model]["properties"].items():
            assert prop.get("description"), f"{model}.{name}"
            if name.endswith(("_s", "_km", "_m", "_deg", "_kms", "_pct", "_mrad")):
                assert "[" in prop["description"], f"{model}.{name} gives no unit"
    assert defs["DoctrineCfg"]["properties"]["planning_interval_s"]["minimum"] == 0.1


def test_docs_scenario_reference_is_up_to_date():
    doc = ROOT / "docs" / "scenario-reference.md"
    assert doc.read_text(encoding="utf-8") == markdown_reference(), \
        "docs/scenario-reference.md is stale: run python tools/scenario_reference.py"
    text = markdown_reference()
    for path in ("`threats[].spacing_s`", "`doctrine.handover_s`", "`batteries[].handover_s`",
                 "`catalog.interceptors[].look_time_s`", "`sites.<name>.lat`"):
        assert path in text


def test_every_field_with_a_unit_in_its_name_has_it_in_the_reference():
    """The reference's unit column was empty for muzzle_velocity_ms, speed_kmh, max_climb_ms
    (m/s and km/h were not read from the names), max_load_g and waters_nmi."""
    units = {"_ms": "m/s", "_ms2": "m/s²", "_kmh": "km/h", "_g": "g", "_nmi": "nmi", "_km": "km", "_s": "s",
             "_tracks_per_s": "tracks/s"}
    rows = [r.split("|") for r in markdown_reference().splitlines() if r.startswith("| `")]
    seen = set()
    for row in rows:
        name = row[1].strip().strip("`").split(".")[-1]
        for suffix, unit in units.items():
            if name.endswith(suffix) and not any(name.endswith(u) for u in units if len(u) > len(suffix)):
                assert row[3].strip() == unit, row[1]
                seen.add(suffix)
    assert seen == set(units)


def test_reference_tool_check_mode():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "scenario_reference.py"), "--check"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr


def test_a_key_given_twice_is_an_error(tmp_path):
    """Plain YAML keeps the last of two equal keys, so a battery's rounds could change
    without a word: the loader refuses, naming the line."""
    from shieldlab.errors import InputError
    from shieldlab.scenario.loader import load

    f = tmp_path / "dup.yaml"
    f.write_text("name: a\nname: b\nepoch: 2020-01-01T00:00:00Z\nthreats: []\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        load(str(f))
    assert "duplicate key 'name'" in str(e.value) and "line 2" in str(e.value)


def test_tracking_filter_is_a_named_choice():
    for kind in ("ukf", "imm"):
        assert compile_world(parse(scenario(tracking__filter=kind), "s"), "s").scenario.tracking.filter == kind
    assert compile_world(parse(scenario(), "s"), "s").scenario.tracking.filter == "ekf"  # the default
    e = problems_of(scenario(tracking__filter="particle"))
    assert "tracking.filter" in str(e) and "ukf" in str(e)


@pytest.mark.parametrize("where, value, field, words", [
    ("doctrine", {"salvoo": 1}, "doctrine.salvoo", "unknown field (did you mean 'salvo'?)"),
    ("threats__0__aim", {"lat": 40, "lon": 29, "latt": 1}, "threats[0].aim.latt", "(did you mean 'lat'?)"),
    ("sites__pad", {"latt": 38.0, "lon": 46.0}, "sites.pad.latt", "(did you mean 'lat'?)"),
    ("batteries__0__roundz", 8, "batteries[0].roundz", "(did you mean 'rounds'?)"),
    ("tracking__gate_prob", 0.99, "tracking.gate_prob", "(did you mean 'gate_probability'?)"),
    # a word left out: the one field holding the others in order
    ("tracking__delete_km", 5.0, "tracking.delete_km", "(did you mean 'delete_sigma_km'?)"),
    ("sensors__0__az_deg", 90.0, "sensors[0].az_deg", "(did you mean 'boresight_az_deg'?)"),
    ("doctrine", {"colour": "red"}, "doctrine.colour", "unknown field"),  # nothing near: no guess
])
def test_a_misspelt_field_is_told_the_field_it_is_near(where, value, field, words):
    e = problems_of(scenario(**{where: value}))
    msg = dict(e.problems)[field]
    assert msg.startswith("unknown field") and words in msg
    if "did you mean" not in words:
        assert "did you mean" not in msg


def test_a_list_too_short_or_too_long_says_how_many_it_takes():
    """A one-point route was "List should have at least 2 items after validation, not 1"."""
    e = problems_of(scenario(nodes=[{"name": "defence", "sector": [[36.0, 36.0]]}]))
    assert dict(e.problems)["nodes[0].sector"] == "needs at least 3 entries, got 1"
    e = problems_of(scenario(nodes=[{"name": "defence", "sector": [[36.0, 36.0, 1.0], [37, 37], [38, 36]]}]))
    assert dict(e.problems)["nodes[0].sector[0]"] == "takes at most 2 entries, got 3"


def test_a_radars_facing_is_told_by_its_other_name():
    """A radar faces by ``boresight_az_deg`` under ``sensors`` and by ``facing_az_deg`` under
    ``shelling.radars``: the one written in the other's place is told the name it has there."""
    data = scenario(sensors__0__boresight_az_deg=..., sensors__0__facing_az_deg=190)
    assert dict(problems_of(data).problems)["sensors[0].facing_az_deg"] == \
        "unknown field (did you mean 'boresight_az_deg'?)"


def test_a_misspelt_required_field_is_one_problem():
    """``missle: ghadr-1`` was two problems, "threats[0].missile: Field required" first and the
    unknown ``missle`` with its hint after; it is one, the hint.  A required field missing
    without a near name is still said."""
    e = problems_of(scenario(threats__0__missile=..., threats__0__missle="ghadr-1"))
    assert e.problems == [("threats[0].missle", "unknown field (did you mean 'missile'?)")]
    e = problems_of(scenario(threats__0__missile=..., threats__0__colour="red"))
    assert dict(e.problems)["threats[0].missile"] == "Field required"


@pytest.mark.parametrize("where, value, field, number", [
    ("sites__pad", {"lat": None, "lon": 46.0}, "sites.pad.lat", "a number"),
    ("batteries__0__rounds", None, "batteries[0].rounds", "a whole number"),
    ("doctrine", {"planning_interval_s": None}, "doctrine.planning_interval_s", "a number"),
])
def test_an_empty_number_is_called_null_in_the_projects_words(where, value, field, number):
    e = problems_of(scenario(**{where: value}))
    assert dict(e.problems)[field] == f"expected {number}, got null (an empty value)"


@pytest.mark.parametrize("where, value, field, near", [
    ("architecture", "sectorial", "architecture", "sectoral"),
    ("batteries__0__cue", "launch-on-remte", "batteries[0].cue", "launch-on-remote"),
])
def test_a_misspelt_choice_is_told_the_choice_it_is_near(where, value, field, near):
    msg = dict(problems_of(scenario(**{where: value})).problems)[field]
    assert msg.endswith(f"(got {value!r}; did you mean {near!r}?)")
    far = dict(problems_of(scenario(**{where: "zzzz"})).problems)[field]
    assert "did you mean" not in far and far.endswith("(got 'zzzz')")
    assert dict(problems_of(scenario(**{where: 3})).problems)[field].endswith("(got 3)")


def test_a_catalogue_id_the_schema_refuses_is_not_listed_as_known():
    from shieldlab.scenario.loader import unknown_names

    data = {"sensors": [{"type": "my-radar"}], "catalog": {"sensors": [{"id": "My_Radar"}, {"id": "our-radar"}]}}
    (field, msg), = unknown_names(data)
    assert field == "sensors[0].type" and "'my-radar'" in msg
    assert "our-radar" in msg and "My_Radar" not in msg


def test_a_huge_whole_number_is_shown_as_written():
    """``rounds: 1e9`` read "(got 1000000000.0)"; now as the file wrote it, and small numbers
    as they were."""
    from shieldlab.errors import shown_value

    msg = dict(problems_of(scenario(batteries__0__rounds=1e9)).problems)["batteries[0].rounds"]
    assert msg.endswith("(got 1e+09)"), msg
    assert [shown_value(v) for v in (2.5, 3.0, 1e6, -2e7, 123456.0)] == ["2.5", "3.0", "1e+06", "-2e+07", "123456.0"]
