"""Scenario schema, loader and compilation: valid presets load; bad input names the field."""

import re
import textwrap

import numpy as np
import pytest
import yaml

from shieldlab.errors import InputError
from shieldlab.scenario import compile_world, load, load_world, preset_names
from shieldlab.scenario.loader import scalar

MINIMAL = textwrap.dedent("""\
    name: mini
    epoch: 2012-03-01T00:00:00Z
    sites:
      pad: {lat: 38.0, lon: 46.0}
      radar: {lat: 38.3, lon: 37.8, alt_m: 2000}
    sensors:
      - {name: r1, type: an-tpy-2, site: radar, boresight_az_deg: 90}
    batteries:
      - {name: b1, interceptor: sm-3-block-ia, site: {lat: 36.2, lon: 27.6}, rounds: 4}
    assets:
      - {name: city, site: {lat: 41.0, lon: 29.0}, radius_km: 20}
    threats:
      - {name: t1, missile: ghadr-1, launch: pad, aim: city, count: 2, spacing_s: 10}
    """)


def write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_presets_load_and_compile():
    assert "epaa-phase-1" in preset_names()
    for name in preset_names():
        w = load_world(name)
        sees = (w.threats or w.flights) and w.sensors
        shells = w.shelling is not None and w.shelling.missions and w.shelling.radars  # fire and its locating radars
        assert sees or shells, name


def test_minimal_compiles_to_si(tmp_path):
    w = load_world(str(write(tmp_path, MINIMAL)))
    assert [t.name for t in w.threats] == ["t1#1", "t1#2"]
    assert w.threats[1].launch_time == 10.0
    assert w.threats[0].aim.lat == pytest.approx(0.715584993, rel=1e-9)  # 41 deg in rad
    assert w.batteries[0].burnout_speed > 1000.0  # km/s in the catalogue, m/s here
    assert w.assets[0].radius == 20e3


@pytest.mark.parametrize("edit, field, words", [
    (("lat: 38.0, lon: 46.0", "lat: 95, lon: 46.0"), "sites.pad.lat", "less than or equal to 90"),
    (("missile: ghadr-1", "missile: no-such-missile"), "threats[0].missile", "unknown missile 'no-such-missile'"),
    (("interceptor: sm-3-block-ia", "interceptor: zzz"), "batteries[0].interceptor", "unknown interceptor"),
    (("rounds: 4", "rounds: -1"), "batteries[0].rounds", "greater than or equal to 0"),
    (("rounds: 4", "rounds: 4, burnout_speed_kms: -3"), "batteries[0].burnout_speed_kms",
     "greater than or equal to 0.01"),
    (("aim: city", "aim: atlantis"), "threats[0].aim", "unknown site or asset 'atlantis'"),
    (("radius_km: 20", "radius_km: 20, colour: red"), "assets[0].colour", "unknown field"),
    (("name: t1,", "name: t1, launch_time_s: -5,"), "threats[0].launch_time_s", "greater than or equal to 0"),
    # a boolean is not a number (read as 1, it put a site at 1 degree and a battery at 1 round)
    (("lat: 38.0, lon: 46.0", "lat: true, lon: 46.0"), "sites.pad.lat", "expected a number, got true"),
    (("rounds: 4", "rounds: false"), "batteries[0].rounds", "expected a whole number, got false"),
    (("radius_km: 20", "radius_km: true"), "assets[0].radius_km", "expected a number, got true"),
    (("rounds: 4", 'rounds: "4"'), "batteries[0].rounds", "expected a whole number, got the text '4'"),
    (("rounds: 4", "rounds: 4.5"), "batteries[0].rounds", "expected a whole number, got 4.5"),
    (("name: mini", "name: mini\ntracking: {init_hits: 4, confirm_looks: 3}"), "tracking",
     "confirm_looks (3) must be at least init_hits (4)"),
    (("name: mini", "name: mini\ntracking: {delete_probability: 0.7}"), "tracking.delete_probability",
     "less than 0.5"),
    (("name: mini", "name: mini\ntracking: {gate_probability: 1.0}"), "tracking.gate_probability", "less than 1"),
    (("name: mini", "name: mini\ntracking: {confirm_sigma_v_ms: 0}"), "tracking.confirm_sigma_v_ms",
     "greater than or equal to 1"),
    (("name: mini", "name: mini\ntracking: {confirm_sigma_v_ms: .nan}"), "tracking.confirm_sigma_v_ms", ""),
    (("name: mini", "name: mini\nsensing: {false_alarms: often}"), "sensing.false_alarms", "confirmed"),
    (("name: mini", "name: mini\nsensing: {false_alarms: -2}"), "sensing.false_alarms", "greater than or equal to 0"),
    # a name is printed: an escape sequence would drive the terminal, a newline break a table
    (("name: mini", 'name: "\\x1b[31mmini"'), "name", "control characters (found '\\x1b'"),
    (("name: t1,", 'name: "t\\n1",'), "threats[0].name", "control characters (found '\\n'"),
    (("name: b1,", 'name: "b\\t1",'), "batteries[0].name", "control characters"),
    (("pad: {lat", '"pad\\x07": {lat'), "sites (the key 'pad\\x07')", "control characters"),
    # pydantic's words for a key, a mapping and a date-time: the mapping and the key named, what
    # to write said (it printed 'sites..[key]', 'instance of DoctrineCfg', 'input is too short')
    (("pad: {lat", '"": {lat'), "sites (the key '')", "at least 1 character"),
    (("name: mini", "name: mini\ndoctrine: null"), "doctrine", "expected a mapping of fields, got null"),
    (("name: mini", "name: mini\ndoctrine: 5"), "doctrine", "expected a mapping of fields, got 5"),
    (("epoch: 2012-03-01T00:00:00Z", "epoch: yesterday"), "epoch",
     "expected a UTC date-time such as 2012-03-01T00:00:00Z (ISO 8601), got 'yesterday'"),
    # an asset named as a site elsewhere: an aim at the name meant the site, silently
    (("- {name: city, site: {lat: 41.0", "- {name: pad, site: {lat: 41.0"), "assets[0].name",
     "is also the name of a site at another place"),
    # a name of thousands of characters was accepted (tables, labels and file names carry it)
    (("name: mini", "name: " + "a" * 201), "name", "at most 200 characters"),
    # a quoted word where a flag goes was read as one (pydantic's lax "yes", "off")
    (("name: mini", 'name: mini\ndoctrine: {shoot_look_shoot: "yes"}'), "doctrine.shoot_look_shoot",
     "expected true or false, got the text 'yes'"),
    # unquoted, YAML 1.1 read yes, on, off as flags and pydantic read 1 as true: refused by name
    (("name: mini", "name: mini\ndoctrine: {shoot_look_shoot: yes}"), "doctrine.shoot_look_shoot",
     "expected true or false, got the text 'yes'"),
    (("name: mini", "name: mini\nsensing: {scan_loss: off}"), "sensing.scan_loss",
     "expected true or false, got the text 'off'"),
    (("name: mini", "name: mini\nsensing: {scan_loss: 1}"), "sensing.scan_loss",
     "expected true or false, got the number 1"),
    (("name: mini", 'name: mini\nsensing: {snr_noise: "true"}'), "sensing.snr_noise",
     "got the text 'true' (write true or false without quotes)"),
    # text that is no number unquoted either was told to drop quotes it did not have
    (("count: 2, spacing_s: 10}", "count: 2, spacing_s: 0:10}"), "threats[0].spacing_s",
     "got the text '0:10'"),
    (("count: 2, spacing_s: 10}", "count: 2, spacing_s: 1_0}"), "threats[0].spacing_s",
     "got the text '1_0'"),
    (("count: 2, spacing_s: 10}", 'count: 2, spacing_s: "10"}'), "threats[0].spacing_s",
     "got the text '10' (write a number without quotes)"),
    # a reserve that leaves no round names its battery (it was repeated per battery, unnamed)
    (("rounds: 4}", "rounds: 4, reserve: 4}"), "batteries[0].reserve", "leaves none of the 4 rounds of battery 'b1'"),
    # an epoch near year 9999 validated and ran, then failed writing the scene's dates
    (("epoch: 2012-03-01T00:00:00Z", "epoch: 9999-12-31T23:59:00Z"), "epoch", "outside the years 1900 to 2199"),
    (("epoch: 2012-03-01T00:00:00Z", "epoch: 1800-01-01T00:00:00Z"), "epoch", "outside the years 1900 to 2199"),
    (("epoch: 2012-03-01T00:00:00Z", "epoch: 9999-12-31T23:59:00"), "epoch", "outside the years 1900 to 2199"),
    (("epoch: 2012-03-01T00:00:00Z", "epoch: 2500-01-01"), "epoch", "outside the years 1900 to 2199"),
    (("count: 2, spacing_s: 10}", "count: 3, spacing_s: 50000}"), "threats[0].spacing_s", "100,000 s"),
    # an asset at an unknown site is said once, under the asset (an aim at it was blamed first)
    (("site: {lat: 41.0, lon: 29.0}, radius_km: 20", "site: atlantis, radius_km: 20"), "assets[0].site",
     "unknown site 'atlantis'"),
])
def test_bad_fields_are_named(tmp_path, edit, field, words):
    p = write(tmp_path, MINIMAL.replace(*edit))
    with pytest.raises(InputError) as e:
        load_world(str(p))
    assert e.value.source == str(p)
    assert e.value.field == field
    assert words in e.value.message
    if "without quotes" in e.value.message:  # only where the text was a number in quotes
        assert '"' in edit[1]


def test_a_launch_late_by_its_time_and_spacing_names_both(tmp_path):
    p = write(tmp_path, MINIMAL.replace("count: 2, spacing_s: 10}", "count: 4, spacing_s: 30, launch_time_s: 86400}"))
    with pytest.raises(InputError) as e:
        load_world(str(p))
    assert [f for f, _ in e.value.problems] == ["threats[0].launch_time_s", "threats[0].spacing_s"]


def test_bad_catalogue_names_come_with_the_schemas_problems(tmp_path):
    """A file with a bad number and a bad name says both at once (the names were checked only
    once every number was right, one fix at a time); a name of the file's own catalogue, or
    one the schema already refuses, is not blamed twice."""
    from shieldlab import catalog

    text = (MINIMAL.replace("rounds: 4", "rounds: -1").replace("missile: ghadr-1", "missile: nope")
            .replace("type: an-tpy-2", "type: an-tpy-9"))
    with pytest.raises(InputError) as e:
        load_world(str(write(tmp_path, text)))
    assert [f for f, _ in e.value.problems] == ["batteries[0].rounds", "sensors[0].type", "threats[0].missile"]
    assert "unknown missile 'nope' (known: " in e.value.problems[2][1]
    import yaml

    own = catalog.get_missile("ghadr-1").model_dump()
    own.update(id="nope")
    with pytest.raises(InputError) as e:
        load_world(str(write(tmp_path, text + yaml.safe_dump({"catalog": {"missiles": [own]}}), "own.yaml")))
    assert [f for f, _ in e.value.problems] == ["batteries[0].rounds", "sensors[0].type"]
    with pytest.raises(InputError) as e:
        load_world(str(write(tmp_path, text.replace("type: an-tpy-9", "type: 7"), "typed.yaml")))
    said = dict(e.value.problems)
    assert list(e.value.problems).count(("sensors[0].type", said["sensors[0].type"])) == 1
    assert "unknown sensor" not in said["sensors[0].type"] and "threats[0].missile" in said


def test_malformed_yaml_and_missing_file(tmp_path):
    p = write(tmp_path, "name: x\nthreats: [1, 2\n")
    with pytest.raises(InputError, match="malformed YAML") as e:
        load(str(p))
    assert e.value.field.startswith("line ")
    with pytest.raises(InputError, match="no such file"):
        load(str(tmp_path / "missing.yaml"))
    with pytest.raises(InputError, match="a YAML mapping"):
        load(str(write(tmp_path, "- 1\n- 2\n", "list.yaml")))
    with pytest.raises(InputError, match="no such file or preset"):
        load("not-a-preset")


def test_duplicate_names_rejected(tmp_path):
    text = MINIMAL.replace("assets:\n", "assets:\n  - {name: city, site: pad, radius_km: 5}\n")
    with pytest.raises(InputError, match="duplicate name 'city'") as e:
        load_world(str(write(tmp_path, text)))
    assert e.value.field == "assets[1].name"



@pytest.mark.parametrize("old, new, field, words", [
    ("{name: b1, interceptor", "{name: r1, interceptor", "batteries[0].name", "also the name of sensors[0]"),
    ("{name: t1, missile: ghadr-1, launch: pad, aim: city, count: 2, spacing_s: 10}",
     "{name: city, missile: ghadr-1, launch: pad, aim: city}", "threats[0].name", "also the name of assets[0]"),
    ("{name: t1, missile: ghadr-1, launch: pad, aim: city, count: 2, spacing_s: 10}",
     "{name: b1, missile: ghadr-1, launch: pad, aim: city}", "threats[0].name", "also the name of batteries[0]"),
])
def test_one_name_one_actor_across_the_lists(tmp_path, old, new, field, words):
    """A battery named as a radar ("detect r1", "fire r1" in the log), a threat named as an
    asset: each name must say which thing it is.  A salvo named as an asset does not clash:
    its missiles are named 'city#1', 'city#2'."""
    with pytest.raises(InputError, match=re.escape(words)) as e:
        load_world(str(write(tmp_path, MINIMAL.replace(old, new))))
    assert e.value.field == field
    salvo = MINIMAL.replace("{name: t1, missile", "{name: city, missile")
    assert [t.name for t in load_world(str(write(tmp_path, salvo))).threats] == ["city#1", "city#2"]


def test_a_flight_named_as_a_fighter_or_a_radar_is_refused():
    """A flight named as the patrol that shoots it read "fire / kill by f-16-patrol" in its own
    timeline, its fighters table "f-16-patrol | f-16-patrol"; one named as a radar, "detect"."""
    import shieldlab

    scn = load("turkey-airspace-2015")
    for other, where in (("f-16-patrol", "air_policing.patrols[0]"), ("kisecik", "sensors[0]")):
        flights = [f.model_copy(update={"name": other}) if i == 1 else f for i, f in enumerate(scn.flights)]
        with pytest.raises(InputError, match=re.escape(f"also the name of {where}")) as e:
            shieldlab.load_world(scn.model_copy(update={"flights": flights}))
        assert e.value.field == "flights[1].name"

def test_scenario_can_add_catalogue_entries(tmp_path):
    from shieldlab import catalog

    base = catalog.get_interceptor("sm-3-block-ia").model_dump()
    base.update(id="my-interceptor", burnout_speed_kms=4.0)
    import yaml

    extra = yaml.safe_dump({"catalog": {"interceptors": [base]}})
    text = MINIMAL.replace("interceptor: sm-3-block-ia", "interceptor: my-interceptor") + extra
    w = load_world(str(write(tmp_path, text)))
    assert w.batteries[0].burnout_speed == 4000.0
    base["burnout_speed_kms"] = -1.0
    bad = MINIMAL + yaml.safe_dump({"catalog": {"interceptors": [base]}})
    with pytest.raises(InputError) as e:
        load_world(str(write(tmp_path, bad, "bad.yaml")))
    assert e.value.field == "catalog.interceptors[0].burnout_speed_kms"


def test_compile_world_is_reusable():
    scn = load("epaa-phase-1")
    assert compile_world(scn).threats == compile_world(scn).threats


def test_exponents_without_a_dot_are_numbers(tmp_path):
    # YAML 1.1 reads 1e1 and 2e-1 as text (it wants 1.0e1); scenario files read them as YAML 1.2 does
    w = load_world(str(write(tmp_path, MINIMAL.replace("count: 2", "count: 1e1").replace(
        "radius_km: 20", "radius_km: 2e1"))))
    assert len(w.threats) == 10 and w.assets[0].radius == 20e3


@pytest.mark.parametrize("text, value", [("1.0e4", 1e4), ("2.5E1", 25.0), (".5e1", 5.0), ("1.e2", 100.0),
                                         ("-1.5e-3", -1.5e-3), ("1.0e+4", 1e4), ("1e1", 10.0)])
def test_exponents_without_a_sign_are_numbers(text, value):
    # YAML 1.1 wants a sign in the exponent (1.0e+4) and reads 1.0e4 as text
    assert scalar(text) == value and isinstance(scalar(text), float)


@pytest.mark.parametrize("text", ["e4", "1.0e", "1.0.0e4", "1e4x", "..5e1"])
def test_things_that_only_look_like_exponents_stay_text(text):
    assert scalar(text) == text


@pytest.mark.parametrize("text, value", [("010", 10), ("007", 7), ("0o17", 15), ("0x1F", 31), ("-3", -3),
                                         ("2_0", "2_0"), ("1:30", "1:30"), ("0b11", "0b11"), ("1_000.5", "1_000.5")])
def test_integers_are_yaml_1_2s(text, value):
    """YAML 1.1 reads 010 as octal 8, 2_0 as 20 and 1:30 as base-60 90, without a word; a
    scenario file reads them as YAML 1.2 does: ten, and text refused where a number belongs."""
    assert scalar(text) == value and type(scalar(text)) is type(value)


def test_a_base_60_time_is_refused_not_read_as_seconds(tmp_path):
    with pytest.raises(InputError) as e:
        load_world(str(write(tmp_path, MINIMAL.replace("radius_km: 20", "radius_km: 1:30"))))
    assert e.value.field == "assets[0].radius_km" and "1:30" in str(e.value)


def test_a_nested_list_where_a_mapping_belongs_is_named_by_its_size():
    """YAML aliases nest one list in itself many times over; the error named the value by
    printing it whole, which takes exponential time (the fuzz test spent ten minutes on one
    such mutation). It is named by its kind and size."""
    from shieldlab.scenario.loader import parse

    a: list = [1]
    for _ in range(20):
        a = [a, a]
    with pytest.raises(InputError) as e:
        parse({"name": "x", "epoch": "2012-03-01T00:00:00Z", "doctrine": a}, "t")
    assert e.value.problems == [("doctrine", "expected a mapping of fields, got a list of 2 items")]


def test_an_asset_named_as_a_site_at_the_same_place_is_accepted(tmp_path):
    """The clash is of places, not names: an asset standing at the same-named site (by that name,
    another site's name at the same point, or the point itself) is what the name means."""
    for site in ("pad", "twin", "{lat: 38.0, lon: 46.0}"):
        text = MINIMAL.replace("  pad: {lat: 38.0, lon: 46.0}\n",
                               "  pad: {lat: 38.0, lon: 46.0}\n  twin: {lat: 38.0, lon: 46.0}\n")
        assert "twin" in text
        text = text.replace("- {name: city, site: {lat: 41.0, lon: 29.0}", f"- {{name: pad, site: {site}")
        load_world(str(write(tmp_path, text.replace("aim: city", "aim: pad"))))


@pytest.mark.parametrize("kw, field, words", [
    ({"runs": 0}, "runs", "1 or more"),
    ({"runs": True}, "runs", "an integer"),
    ({"runs": 2.5}, "runs", "an integer"),
    ({"runs": "4"}, "runs", "an integer"),
    ({"runs": 10**9}, "runs", "at most 1,000,000"),
    ({"seed": None}, "seed", "an integer"),
    ({"seed": -1}, "seed", "0 or more"),
])
def test_the_api_names_a_bad_run_count_or_seed(kw, field, words):
    """shieldlab.simulate had none of the command's checks: runs=10**9 ran on, True and a
    seed of None were taken (an unreproducible run), 2.5 and '4' were TypeErrors."""
    import shieldlab

    world = shieldlab.load_world("patriot-turkey-2013")
    with pytest.raises(InputError, match=words) as e:
        shieldlab.simulate(world, **kw)
    assert e.value.field == field


@pytest.mark.parametrize("world, words", [(None, "not NoneType"),
                                          ("epaa-phase-1", "load it first, shieldlab.load_world('epaa-phase-1')"),
                                          (load("epaa-phase-1"), "not Scenario: compile it first"),
                                          ({"name": "x"}, "not dict: compile it first, shieldlab.load_world")])
def test_the_api_names_a_world_that_is_none(world, words):
    """shieldlab.simulate(None) and simulate('epaa-phase-1') were AttributeErrors; a Scenario
    (shieldlab.scenario.load's) got no hint."""
    import shieldlab

    with pytest.raises(InputError, match=re.escape(words)) as e:
        shieldlab.simulate(world, runs=2)
    assert e.value.field == "world"


@pytest.mark.parametrize("preset, runner", [("turkey-airspace-2015", "simulate_air"),
                                            ("akcakale-2012", "simulate_shelling")])
def test_the_api_names_where_a_scenario_without_threats_runs(preset, runner):
    """A scenario of flights (or shelling) alone: shieldlab.simulate's refusal pointed at the
    command line (`shieldlab run`); it names the public function that runs it, which does, with
    simulate's checks of its arguments (the engine's function it first named took runs=-3 and
    wrote a summary of -3 runs, and runs=2.0 or seed=-1 were a TypeError and NumPy's error)."""
    import shieldlab

    world = shieldlab.load_world(preset)
    with pytest.raises(InputError, match=f"no ballistic threats.*shieldlab.{runner}") as e:
        shieldlab.simulate(world, runs=2)
    assert e.value.field == "threats" and "shieldlab run" not in str(e.value)
    run = getattr(shieldlab, runner)
    assert runner in shieldlab.__all__
    res = run(world, runs=2, seed=1)
    assert res.summary["runs"] == 2
    for kw, field in (({"runs": -3}, "runs"), ({"runs": 0}, "runs"), ({"runs": 2.0}, "runs"), ({"runs": "2"}, "runs"),
                      ({"seed": -1}, "seed"), ({"seed": 2.0}, "seed")):
        with pytest.raises(InputError) as e:
            run(world, **{"runs": 2, "seed": 1, **kw})
        assert e.value.field == field, kw
    with pytest.raises(InputError, match="load_world") as e:
        run(preset, runs=2)
    assert e.value.field == "world"
    # the other kind of scenario: nothing to run
    other = shieldlab.load_world("akcakale-2012" if runner == "simulate_air" else "turkey-airspace-2015")
    with pytest.raises(InputError) as e:
        run(other, runs=2)
    assert e.value.field == ("flights" if runner == "simulate_air" else "shelling")


def test_the_api_runs_the_flights_beside_the_threats():
    """A scenario of a Scud and an Su-24: shieldlab.simulate ran the kill chain and dropped the
    flight without a word; it runs the air picture too, as `shieldlab run` does."""
    import shieldlab

    raw = yaml.safe_load(MINIMAL)
    raw["flights"] = [{"name": "su24", "type": "su-24m", "route": [{"lat": 36.0, "lon": 36.0},
                                                                   {"lat": 36.5, "lon": 36.6}]}]
    res = shieldlab.simulate(shieldlab.load_world(raw), runs=3, seed=1)
    assert res.shelling is None and "shelling" not in res.summary
    assert res.air is not None and res.summary["air"] is res.air.summary
    assert [f["flight"] for f in res.summary["air"]["flights"]] == ["su24"]
    assert sorted(res.air.outcomes["run"]) == [0, 1, 2]
    assert len(res.outcomes["run"]) == 3 * 2  # the chain's rows as before: 3 runs of a salvo of two


def test_the_api_names_a_misspelt_field_in_a_changed_scenario():
    """model_copy(update=...) takes any key and a dump drops the unknown ones: a misspelt field
    ran the preset unchanged without a word.  load_world names it, at any depth."""
    import shieldlab

    scn = load("patriot-turkey-2013")
    cases = [(scn.model_copy(update={"typo": 1}), "typo"),
             (scn.model_copy(update={"doctrine": scn.doctrine.model_copy(update={"salvoo": 1})}), "doctrine.salvoo"),
             (scn.model_copy(update={"batteries": [b.model_copy(update={"roundz": 3}) if i == 1 else b
                                                   for i, b in enumerate(scn.batteries)]}), "batteries[1].roundz")]
    for bad, field in cases:
        with pytest.raises(InputError, match="unknown field") as e:
            shieldlab.load_world(bad)
        assert e.value.field == field
    # an update by a field's YAML name (links[].from, the field from_) is that field's new value
    nr = load("nato-russia-2011")
    link = nr.links[0].model_copy(update={"from": "zzz"})
    with pytest.raises(InputError, match="'zzz' is no C2 node") as e:
        shieldlab.load_world(nr.model_copy(update={"links": [link, *nr.links[1:]]}))
    assert e.value.field == "links[0].from"


def test_the_api_loads_a_changed_scenario_and_checks_it_again(tmp_path):
    """load_world takes a Scenario changed with model_copy (validated again) and a mapping; it
    took only names and paths (a Scenario gave its 3,000-character repr "no such file")."""
    import shieldlab

    scn = load("patriot-turkey-2013")
    assert scn.doctrine.salvo == 2  # the preset's: the copy changes it
    w = shieldlab.load_world(scn.model_copy(update={"doctrine": scn.doctrine.model_copy(update={"salvo": 1})}))
    assert w.scenario.doctrine.salvo == 1 and w.scenario.name == scn.name
    bad = scn.model_copy(update={"doctrine": scn.doctrine.model_copy(update={"salvo": -3})})
    with pytest.raises(InputError) as e:
        shieldlab.load_world(bad)
    assert e.value.field == "doctrine.salvo" and e.value.source == "scenario 'patriot-turkey-2013'"
    assert shieldlab.load_world(yaml.safe_load(MINIMAL)).scenario.name == yaml.safe_load(MINIMAL)["name"]
    with pytest.raises(InputError, match="not an object of type int"):
        shieldlab.load_world(3)
    p = tmp_path / "s.yaml"
    p.write_text(MINIMAL)
    assert shieldlab.load_world(p).scenario.name == shieldlab.load_world(str(p)).scenario.name
    # a Path is a path, even named like a preset (as the loader's rule has it)
    like = tmp_path / "epaa-phase-1"
    like.write_text(MINIMAL)
    assert shieldlab.load_world(like).scenario.name == "mini"


def test_every_preset_dumps_without_serializer_warnings():
    """A flight's inline waypoint was a tagged union member the dump could not tag: Pydantic
    warned on every model_dump of turkey-airspace-2015.  Every preset dumps silently and loads
    back the same."""
    import warnings

    import shieldlab

    for name in preset_names():
        scn = load(name)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            data = scn.model_dump()
        assert shieldlab.load_world(data).scenario == scn


def test_the_api_compares_architectures_as_the_command_does():
    """shieldlab.compare: the comparison `shieldlab compare` prints, from Python (it was the
    command line's alone), with the API's checks of its arguments."""
    import shieldlab

    world = shieldlab.load_world("nato-russia-2011")
    assert "compare" in shieldlab.__all__
    ind, coo = shieldlab.compare(world, ["independent", "coordinated"], runs=2, seed=1)
    assert (ind.architecture, coo.architecture, coo.against, coo.runs) == ("independent", "coordinated",
                                                                           "independent", 2)
    assert 0.0 <= ind.leakers[0] <= len(world.threats)
    # named, not bare (mean, lo, hi) tuples; nothing between sectors where there are none
    assert ind.leakers.mean == ind.leakers[0] and ind.leakers.lo <= ind.leakers.mean <= ind.leakers.hi
    assert ind.between_sectors is None and coo.between_sectors is None
    for kw, field in (({"architectures": ["nope"]}, "architectures"), ({"architectures": []}, "architectures"),
                      ({"architectures": ["integrated", "integrated"]}, "architectures"),
                      ({"architectures": 5}, "architectures"),  # (a TypeError from deep inside)
                      ({"runs": 0}, "runs"), ({"seed": -1}, "seed")):
        with pytest.raises(InputError) as e:
            shieldlab.compare(world, **{"runs": 2, **kw})
        assert e.value.field == field, kw
    with pytest.raises(InputError) as e:
        shieldlab.compare("nato-russia-2011", runs=2)
    assert e.value.field == "world"
    # a shelling has no kill chain to compare: said in the API's words, not the command line's
    with pytest.raises(InputError, match=r"runs with shieldlab.simulate_air or simulate_shelling\)") as e:
        shieldlab.compare(shieldlab.load_world("akcakale-2012"), runs=2)
    assert e.value.field == "threats"


def test_the_api_flies_one_missile_in_degrees_as_flyout_does(capsys):
    """Flying one missile took five internal calls in radians (degrees by mistake: "aim point
    14,502 km away is out of reach", a ValueError): shieldlab.fly takes degrees, gives the
    figures `shieldlab flyout --json` prints, and names a bad argument."""
    import json
    import subprocess
    import sys

    import shieldlab

    shot = shieldlab.fly("scud-b", (35.0, 38.0), (37.4, 38.3))
    assert isinstance(shot, shieldlab.Shot) and "fly" in shieldlab.__all__
    r = subprocess.run([sys.executable, "-m", "shieldlab", "flyout", "scud-b", "--from", "35,38", "--to", "37.4,38.3",
                        "--json"], capture_output=True, text=True, check=True)
    cli = json.loads(r.stdout)
    for k in ("apogee_km", "time_of_flight_s", "ground_range_km", "impact_lat_deg", "burnout_speed_kms",
              "launch_azimuth_deg", "max_range_km", "aim_error_km"):
        assert getattr(shot, k) == pytest.approx(cli[k], abs=0.051 if k == "max_range_km" else 0.001), k  # (rounded)
    # how it was steered, in a word and in words, as the command says it
    assert (shot.branch, shot.steering) == (cli["branch"], cli["steering"]) \
        == ("trimmed", "trimmed to the minimum-energy shot")
    assert shot.trajectory.pos.shape[0] == 1 and shot.trajectory.pos.shape[-1] == 3 and 60.0 < shot.apogee_km < 90.0
    # the flight alone, to plot (the trajectory's grid runs 6,000 s, the body at rest after impact)
    p = shot.path()
    assert p.t_s[0] == 0.0 and p.t_s[-1] == pytest.approx(shot.time_of_flight_s)
    assert np.all(np.diff(p.t_s) > 0) and p.lat_deg.size == p.t_s.size == p.alt_km.size
    assert (p.lat_deg[0], p.lon_deg[0]) == pytest.approx((35.0, 38.0), abs=1e-6)
    assert (p.lat_deg[-1], p.lon_deg[-1]) == pytest.approx((shot.impact_lat_deg, shot.impact_lon_deg), abs=1e-9)
    assert p.alt_km.max() == pytest.approx(shot.apogee_km, abs=0.5) and p.alt_km[-1] == pytest.approx(0.0, abs=1e-6)
    assert len(repr(shot)) < 200 and "scud-b" in repr(shot)
    for kw, field in (({"missile": "nope"}, "missile"), ({"missile": 3}, "missile"), ({"launch": (95, 38)}, "launch"),
                      ({"aim": (37.4,)}, "aim"), ({"aim": (37.4, float("nan"))}, "aim"),
                      ({"profile": "flat"}, "profile"), ({"aim": (60.0, 38.0)}, "aim"),
                      ({"profile": "lofted", "apogee_km": 500.0}, "apogee_km"),
                      ({"profile": "lofted", "apogee_km": float("nan")}, "apogee_km"),
                      ({"profile": "lofted", "apogee_km": "50"}, "apogee_km"),
                      ({"profile": "lofted", "flight_time_s": -1.0}, "flight_time_s")):
        args = {"missile": "scud-b", "launch": (35.0, 38.0), "aim": (37.4, 38.3), **kw}
        with pytest.raises(InputError) as e:
            shieldlab.fly(**args)
        assert e.value.field == field, kw


def test_subpackages_and_result_types_are_attributes_of_the_package():
    """``shieldlab.catalog.get_missile`` right after ``import shieldlab`` raised AttributeError
    (it worked only once something else had imported the subpackage); the result types had no
    public name to write in a type hint."""
    import subprocess
    import sys

    code = ("import shieldlab; print(shieldlab.catalog.get_missile('scud-b').id, shieldlab.Results.__name__, "
            "shieldlab.World.__name__, shieldlab.scenario.load('epaa-phase-1').name)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.split() == ["scud-b", "Results", "World", "epaa-phase-1"]
    import shieldlab

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        shieldlab.nope  # noqa: B018


def test_a_result_shows_as_one_line_in_a_notebook():
    """A notebook cell ending in ``res`` printed the whole record: 167,016 characters for 4 runs."""
    import shieldlab

    res = shieldlab.simulate(shieldlab.load_world("epaa-phase-1"), runs=2, seed=1)
    text = repr(res)
    assert len(text) < 300 and "\n" not in text
    assert text.startswith("Results(scenario='epaa-phase-1', runs=2, seed=1, mean_leakers=")
    assert f"outcomes: {len(res.outcomes['run'])} rows" in text


def test_an_unknown_catalogue_id_is_the_projects_input_error():
    """catalog.get_missile('nope') raised a CatalogError that `except shieldlab.InputError`
    did not catch."""
    import shieldlab
    from shieldlab import catalog

    with pytest.raises(shieldlab.InputError, match="unknown missile 'nope'"):
        catalog.get_missile("nope")


def test_the_api_objects_show_as_one_line_in_a_notebook():
    """A World's repr was 31,887 characters, an AirResult's 66,000 to 93,000, a
    ShellingResult's 67,000; a Reach that cannot catch said feasible=False and not why."""
    import shieldlab

    w = shieldlab.load_world("nato-russia-2011")
    assert repr(w) == ("World('nato-russia-2011', threats=8, sensors=5, batteries=5, assets=6, "
                       "architecture='coordinated', source='preset nato-russia-2011')")
    air = shieldlab.simulate_air(shieldlab.load_world("turkey-airspace-2015"), runs=2, seed=1)
    assert repr(air).startswith("AirResult(scenario='turkey-airspace-2015', runs=2, seed=1; outcomes: 4 rows; ")
    sh = shieldlab.simulate_shelling(shieldlab.load_world("akcakale-2012"), runs=2, seed=1)
    assert repr(sh).startswith("ShellingResult(scenario='akcakale-2012', runs=2, seed=1; rounds: 12 rows; ")
    assert all(len(repr(x)) < 200 for x in (w, air, sh))
    no = shieldlab.reach("pac-3-mse", (35.9, 34.95), "ghadr-1", (34.3, 47.1), (32.08, 34.78))
    assert repr(no) == f"Reach(feasible=False, why_not={no.why_not!r}, t_ready=inf s, cue_source='own-radar')"


def test_a_duplicate_name_does_not_hide_the_files_other_bad_references(tmp_path):
    """A duplicate name was the only problem told (the schema's cross-checks refused the file
    before its references were looked up): renamed, six unknown sites and radars followed, one
    fix at a time.  Now one answer lists them all; a file whose fields are wrong one by one
    keeps its own problems."""
    text = textwrap.dedent("""\
        name: refs
        epoch: 2024-06-01T00:00:00Z
        sites:
          a: {lat: 35, lon: 127}
        sensors:
          - {name: r1, type: an-tpy-2, site: a}
          - {name: r1, type: an-tpy-2, site: nowhere}
        batteries:
          - {name: b1, interceptor: thaad, site: elsewhere, rounds: 4, radar: ghost, cue: own}
        threats:
          - {name: t, missile: scud-b, launch: nolaunch, aim: zzz}
        assets:
          - {name: x, site: nosite, radius_km: 5}
        """)
    (tmp_path / "r.yaml").write_text(text)
    with pytest.raises(InputError) as e:
        load_world(str(tmp_path / "r.yaml"))
    fields = [f for f, _ in e.value.problems]
    assert fields == ["sensors[1].name", "sensors[1].site", "batteries[0].site", "batteries[0].radar",
                      "threats[0].launch", "threats[0].aim", "assets[0].site"], e.value.problems
    assert "duplicate name 'r1'" in dict(e.value.problems)["sensors[1].name"]
    # a field wrong by itself (a latitude of 95): its problem, and the duplicate, as before
    (tmp_path / "r.yaml").write_text(text.replace("lat: 35", "lat: 95"))
    with pytest.raises(InputError) as e:
        load_world(str(tmp_path / "r.yaml"))
    assert [f for f, _ in e.value.problems] == ["sites.a.lat"]
