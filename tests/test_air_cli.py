"""The air picture from the command line: run, its files, and bad input naming the field."""

import datetime as dt
import textwrap

import pyarrow.parquet as pq
import pytest
import yaml
from test_cli import cli, strict_json

from shieldlab.errors import InputError
from shieldlab.scenario import load_world

AIR = textwrap.dedent("""\
    name: air-mini
    epoch: 2015-11-24T07:00:00Z
    sites:
      radar: {lat: 36.13, lon: 36.18, alt_m: 800}
      cap: {lat: 36.05, lon: 36.30, alt_m: 6000}
    sensors:
      - {name: r1, type: air-surveillance-ground, site: radar}
    flights:
      - name: intruder
        type: su-24m
        side: Russia
        route: [{lat: 35.60, lon: 36.40, alt_m: 6000}, {lat: 35.95, lon: 36.15}, {lat: 35.70, lon: 35.90}]
    air_policing:
      country: Turkey
      patrols:
        - {name: cap, type: f-16c, site: cap}
    """)


def test_run_writes_the_air_results(tmp_path):
    out = tmp_path / "o"
    r = cli("run", "turkey-airspace-2015", "--runs", "4", "--out", str(out), "--explain", "su-24-24-nov")
    assert r.returncode == 0, r.stderr
    for name in ("summary.json", "air_outcomes.parquet", "events.parquet", "scene.czml", "report.html"):
        assert (out / name).exists(), name
    assert not (out / "outcomes.parquet").exists()  # no ballistic threats
    s = strict_json((out / "summary.json").read_text())
    assert s["air"]["airspace"]["country"] == "Turkey" and len(s["air"]["flights"]) == 2
    o = pq.read_table(out / "air_outcomes.parquet")
    assert o.num_rows == 4 * 2
    czml = strict_json((out / "scene.czml").read_text())
    threats = [p for p in czml if p.get("properties", {}).get("kind") == "threat"]
    assert {p["name"] for p in threats} == {"su-30-3-oct", "su-24-24-nov"}
    su24 = next(p for p in threats if p["name"] == "su-24-24-nov")
    assert su24["properties"]["outcome"] == "shot down" and su24["properties"]["by"] == "f-16-patrol"
    assert "by" not in next(p for p in threats if p["name"] == "su-30-3-oct")["properties"]
    # the kill's mark lasts to the scene's last flight's end (30 s on), not an arbitrary 10^6 s
    def when(iso: str) -> dt.datetime:
        return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))

    last = max(when(p["availability"].split("/")[1]) for p in threats)
    kill = next(p for p in czml if p["id"] == "end/su-24-24-nov")
    assert (when(kill["availability"].split("/")[1]) - last).total_seconds() == pytest.approx(30.0, abs=1.0)
    html = (out / "report.html").read_text()
    for words in ("Stated figures, checked", "Who could see them", "Turkey airspace", "Timeline of run 0"):
        assert words in html
    assert "2015-11-24 07:2" in r.stdout  # the story in UTC
    assert "stated figures, checked" in r.stdout


def test_same_seed_same_bytes(tmp_path):
    for d in ("a", "b"):  # the second in a process of its own: the same bytes across processes
        r = cli("run", "turkey-airspace-2015", "--runs", "3", "--out", str(tmp_path / d), "-q", process=d == "b")
        assert r.returncode == 0, r.stderr
    for f in ("summary.json", "air_outcomes.parquet", "events.parquet", "scene.czml", "report.html"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_json_is_strict(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(AIR)
    r = cli("run", str(p), "--runs", "3", "--json")
    assert r.returncode == 0, r.stderr
    s = strict_json(r.stdout)
    assert s["air"]["flights"][0]["flight"] == "intruder"
    # the interval methods named, as the ballistic summary names them; the footer says them too
    air = s["air"]
    assert air["interval"].startswith("Wilson") and "exact interval of a bounded mean" in air["interval_means"]
    r = cli("run", str(p), "--runs", "3")
    assert "probabilities: Wilson score; means: Student t (cut to the possible range; a share alike in every run: " \
           "the exact bound of a bounded mean)" in " ".join(r.stdout.split())


@pytest.mark.parametrize("flag", [["--workers", "2"], ["--footprint"], ["--resume"]])
def test_ballistic_flags_are_refused(tmp_path, flag):
    r = cli("run", "turkey-airspace-2015", "--runs", "2", "--out", str(tmp_path / "o"), *flag)
    assert r.returncode == 2
    assert flag[0] in r.stderr and "flights only" in r.stderr
    assert not (tmp_path / "o").exists()


def test_export_writes_the_fliers_for_gis_tools(tmp_path):
    """--export geojson,kml: each flier's true path (z, times per vertex) and its fate, the fighters, the
    radars and the policed airspace; read back with shapely and fastkml."""
    import warnings

    from shapely.geometry import shape

    out = tmp_path / "o"
    r = cli("run", "turkey-airspace-2015", "--runs", "2", "--out", str(out), "--export", "geojson,kml", "-q")
    assert r.returncode == 0, r.stderr
    gj = strict_json((out / "scene.geojson").read_text())
    fliers = [f for f in gj["features"] if f["properties"].get("kind") == "flier"]
    assert {f["properties"]["flight"] for f in fliers} == {"su-30-3-oct", "su-24-24-nov"}
    o = pq.read_table(out / "air_outcomes.parquet").to_pydict()
    for f in fliers:
        line = shape(f["geometry"])
        assert line.has_z and len(f["properties"]["times_s"]) == len(line.coords)
        i = [k for k in range(len(o["run"])) if o["run"][k] == 0 and o["flight"][k] == f["properties"]["flight"]][0]
        assert f["properties"]["times_s"][0] == pytest.approx(o["start_s"][i])
        assert f["properties"]["times_s"][-1] == pytest.approx(o["end_s"][i])
    airspace = [f for f in gj["features"] if f["properties"].get("kind") == "airspace"]
    assert len(airspace) == 1 and shape(airspace[0]["geometry"]).contains(shape({"type": "Point",
                                                                                   "coordinates": [36.2, 36.4]}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastkml import kml

        doc = kml.KML.parse(str(out / "scene.kml"))
    assert doc is not None and "su-24-24-nov" in (out / "scene.kml").read_text()


def test_unknown_flight_to_explain():
    r = cli("run", "turkey-airspace-2015", "--runs", "2", "--explain", "mig-29")
    assert r.returncode == 2 and "--explain" in r.stderr and "su-24-24-nov" in r.stderr
    # a salvo's entry name is no flight of its own: its flights are named (it read "no flight 'raqqa-1'")
    r = cli("run", "kalibr-caspian-2015", "--runs", "2", "--explain", "raqqa-1")
    assert r.returncode == 2
    assert "--explain: 'raqqa-1' is a salvo of 3 flights: name one, raqqa-1#1 .. raqqa-1#3" in r.stderr


MIG = ("{id: mig, name: MiG, origin: x, kind: aircraft, cruise_speed_kmh: 900, max_speed_kmh: 1000, "
       "min_speed_eas_kmh: %d, ceiling_m: 10000, cruise_alt_m: 6000, max_climb_ms: 100, max_bank_deg: 60, "
       "max_accel_ms2: 5, range_km: 1000, rcs_m2: 1, source: assumption}")


@pytest.mark.parametrize("edit, field, words", [
    (("type: su-24m", "type: tu-95"), "flights[0].type", "unknown aircraft 'tu-95'"),
    (("type: su-24m", "type: iskander-m"), "flights[0].type",
     "unknown aircraft 'iskander-m' (iskander-m is a missile of the catalogue, not an aircraft)"),
    (("lat: 35.60, lon: 36.40", "lat: 95, lon: 36.40"), "flights[0].route[0].lat", "less than or equal to 90"),
    (("{lat: 35.95, lon: 36.15}", "{lat: 35.95, lon: 36.15, speed_kmh: -5}"), "flights[0].route[1].speed_kmh",
     "greater than 0"),
    (("{lat: 35.95, lon: 36.15}", "{lat: 35.95, lon: 36.15, speed_kmh: 3000}"), "flights[0].route[1].speed_kmh",
     "above the su-24m's max_speed_kmh"),
    (("{lat: 35.95, lon: 36.15}", "{lat: 35.95, lon: 36.15, alt_m: 20000}"), "flights[0].route[1].alt_m",
     "above the su-24m's ceiling_m"),
    (("side: Russia", "side: Russia\n    failure_probability: 1.5"), "flights[0].failure_probability",
     "less than or equal to 1"),
    (("country: Turkey", "country: Turky"), "air_policing.country", "Turkey"),
    (("country: Turkey", "country: turkey"), "air_policing.country", "e.g. Turkey"),
    (("type: f-16c", "type: kalibr-3m-14"), "air_policing.patrols[0].type", "not an aircraft"),
    # the known ones a misspelt fighter is offered are fighters (a cruise missile was among them)
    (("type: f-16c", "type: f-99"), "air_policing.patrols[0].type", "unknown fighter 'f-99' (known: f-16c)"),
    (("type: f-16c", "type: su-24m"), "air_policing.patrols[0].type", "carries no air-to-air weapon"),
    (("route: [{lat: 35.60, lon: 36.40, alt_m: 6000}, {lat: 35.95, lon: 36.15}, {lat: 35.70, lon: 35.90}]",
      "route: [{lat: 35.60, lon: 36.40}]"), "flights[0].route", "at least 2"),
    (("route: [", "route: [nowhere, "), "flights[0].route[0]", "unknown site 'nowhere'"),
    (("{lat: 35.95, lon: 36.15}", "{lat: 35.60, lon: 36.40}"), "flights[0].route[1]", "the same point"),
    (("  country: Turkey", "  country: Turkey\n  warning_interval_s: 0"), "air_policing.warning_interval_s",
     "greater than 0"),
    (("{name: cap, type: f-16c, site: cap}", "{name: cap, type: f-16c, site: cap, start_time_s: 50, "
      "end_time_s: 10}"), "air_policing.patrols[0].end_time_s", "not after start_time_s"),
    (("{lat: 35.95, lon: 36.15}", "{lat: 35.95, lon: 36.15, speed_kmh: 100}"), "flights[0].route[1].speed_kmh",
     "below the least speed the su-24m holds in level flight at 6,000 m"),
    (("cap: {lat: 36.05, lon: 36.30, alt_m: 6000}", "cap: {lat: 36.05, lon: 36.30, alt_m: 20000}"),
     "air_policing.patrols[0].site", "above the f-16c's ceiling_m"),
    (("side: Russia", "side: Russia\n    claims: [{by: someone}]"), "flights[0].claims[0]",
     "a claim states at least one of"),
    (("name: air-mini", "name: air-mini\ncatalog:\n  aircraft:\n    - " + "{MIG}\n    - {MIG}"),
     "catalog.aircraft[1].id", "duplicate id 'mig'"),
    (("name: air-mini", "name: air-mini\ncatalog:\n  aircraft:\n    - " + "{SLOW}"), "catalog.aircraft[0]",
     "no level flight at cruise_alt_m 6000"),
])
def test_bad_air_fields_are_named(tmp_path, edit, field, words):
    p = tmp_path / "s.yaml"
    assert edit[0] in AIR, edit[0]
    edit = (edit[0], edit[1].replace("{MIG}", MIG % 300).replace("{SLOW}", MIG % 800))
    p.write_text(AIR.replace(*edit, 1))
    with pytest.raises(InputError) as e:
        load_world(str(p))
    assert e.value.field == field, e.value.message
    assert words in e.value.message


def test_a_scenario_needs_threats_or_flights(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("name: empty\nepoch: 2015-01-01T00:00:00Z\n")
    with pytest.raises(InputError) as e:
        load_world(str(p))
    assert e.value.field == "threats" and "threat (ballistic) or flight" in e.value.message


def test_bad_scenario_exits_2_and_writes_nothing(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(AIR.replace("type: su-24m", "type: tu-95"))
    r = cli("run", str(p), "--runs", "2", "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "flights[0].type" in r.stderr
    assert not (tmp_path / "o").exists()


def test_validate_checks_the_flights_and_chain_commands_refuse_them():
    r = cli("validate", "kalibr-caspian-2015", "--json")
    assert r.returncode == 0, r.stderr
    info = strict_json(r.stdout)
    assert info["air"]["flights"] == 26 and info["air"]["entries"] == 11 and info["air"]["airspace"] is None
    assert info["flight_entries"] == 11  # entries, as the air picture's count says: not the 26 fliers
    assert 85 * 60 < info["air"]["longest_flight_s"] < 110 * 60
    for args in (("tracks", "turkey-airspace-2015", "--runs", "2"), ("compare", "turkey-airspace-2015")):
        r = cli(*args)
        assert r.returncode == 2 and "threats: the scenario has no ballistic threats" in r.stderr, args
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr  # the refusal alone, no note before it


def test_validate_notes_flights_that_no_sensor_sees(tmp_path):
    """An air scenario with ``sensors: []`` validated without a word (run then reported P(seen) 0)."""
    p = tmp_path / "blind.yaml"
    tree = yaml.safe_load(AIR)
    tree["sensors"] = []
    p.write_text(yaml.safe_dump(tree))
    r = cli("validate", str(p))
    assert r.returncode == 0, r.stderr
    assert "note: no sensors: nothing reports the flights (P(seen) 0, no warning, no shot)" in r.stdout
    q = tmp_path / "seen.yaml"
    q.write_text(AIR)
    assert "no sensors" not in cli("validate", str(q)).stdout


def test_validate_notes_batteries_beside_flights(tmp_path):
    """A PAC-3 battery beside a cruise missile validated without a word, as if it defended the
    city; batteries engage ballistic threats only, and validate says so (and that the
    policing's fighters engage the flights); a scenario without batteries gets no such note."""
    tree = yaml.safe_load(AIR)
    site = next(iter(tree["sites"]))
    tree["batteries"] = [{"name": "pac3", "interceptor": "pac-3-mse", "site": site, "rounds": 8}]
    p = tmp_path / "guarded.yaml"
    p.write_text(yaml.safe_dump(tree))
    r = cli("validate", str(p))
    assert r.returncode == 0, r.stderr
    said = " ".join(r.stdout.split())
    assert "note: batteries engage ballistic threats only, so they engage nothing here: " in said
    assert "air_policing" in tree and "air_policing's fighters alone engage the flights" in said, said
    # without air policing nothing engages the flights (it had said the policing's fighters did)
    del tree["air_policing"]
    p.write_text(yaml.safe_dump(tree))
    said = " ".join(cli("validate", str(p)).stdout.split())
    assert "with no air_policing nothing engages the flights" in said and "fighters alone" not in said, said
    q = tmp_path / "plain.yaml"
    q.write_text(AIR)
    assert "batteries engage" not in cli("validate", str(q)).stdout


def test_validate_notes_a_flight_of_the_policing_side(tmp_path):
    """A flier of the defender's own side is never warned or engaged: validate says so."""
    tree = yaml.safe_load(AIR)
    tree["flights"][0]["side"] = tree["air_policing"].get("side") or tree["air_policing"]["country"]
    p = tmp_path / "own.yaml"
    p.write_text(yaml.safe_dump(tree))
    r = cli("validate", str(p))
    assert r.returncode == 0, r.stderr
    assert f"note: {tree['flights'][0]['name']} flies for " in r.stdout and "the policing side" in r.stdout


def test_a_patrol_abroad_or_on_the_ground_is_noted_by_validate_and_run(tmp_path):
    """A patrol station over Syria was accepted without a word (its F-16 fired from inside
    Syria under pursuit: own-airspace, which holds at the border only a fighter that starts
    inside), as was a station without alt_m (the patrol flew at 0 m); validate and run say
    both, naming the field, and the run goes on.  The station as given says nothing."""
    tree = yaml.safe_load(AIR)
    quiet = cli("validate", _written(tmp_path / "fine.yaml", tree))
    assert quiet.returncode == 0 and "air_policing" not in quiet.stdout
    tree["sites"]["cap"] = {"lat": 35.60, "lon": 36.30}
    p = _written(tmp_path / "abroad.yaml", tree)
    r = cli("validate", p)
    assert r.returncode == 0, r.stderr
    assert ("note: air_policing.patrols[0].site (cap) lies outside Turkey's airspace, over Syria: its fighters "
            "start abroad, and pursuit: own-airspace holds") in r.stdout
    assert "note: air_policing.patrols[0].site (cap) is at 0 m: the station's alt_m is the patrol height" in r.stdout
    run = cli("run", p, "--runs", "1")
    assert run.returncode == 0 and run.stderr.count("note: air_policing.patrols[0].site (cap)") == 2
    assert "note:" not in cli("run", p, "--runs", "1", "-q").stderr


def _written(path, tree) -> str:
    path.write_text(yaml.safe_dump(tree))
    return str(path)


def test_claims_of_a_crossing_need_an_airspace(tmp_path):
    text = AIR.split("air_policing:")[0].replace(
        "side: Russia", "side: Russia\n    claims: [{by: someone, time_inside_s: 17}]")
    p = tmp_path / "s.yaml"
    p.write_text(text)
    with pytest.raises(InputError) as e:
        load_world(str(p))
    assert e.value.field == "flights[0].claims[0]" and "polices none" in e.value.message


MIXED = textwrap.dedent("""\
    name: mixed
    epoch: 2012-03-01T00:00:00Z
    sites:
      pad: {lat: 38.0, lon: 46.0}
      radar: {lat: 38.3, lon: 37.8, alt_m: 2000}
    sensors:
      - {name: r1, type: an-tpy-2, site: radar, boresight_az_deg: 90}
      - {name: r2, type: air-surveillance-ground, site: radar}
    batteries:
      - {name: b1, interceptor: sm-3-block-ia, site: {lat: 36.2, lon: 27.6}, rounds: 4}
    assets:
      - {name: city, site: {lat: 41.0, lon: 29.0}, radius_km: 20}
    threats:
      - {name: t1, missile: ghadr-1, launch: pad, aim: city}
    flights:
      - {name: f1, type: su-24m, route: [{lat: 37.0, lon: 40.0}, {lat: 38.0, lon: 38.5}]}
    """)


def test_threats_and_flights_in_one_scenario(tmp_path):
    """Both run: the air picture joins the summary, the tables, the event log, the report, the scene
    and --explain."""
    p = tmp_path / "mixed.yaml"
    p.write_text(MIXED)
    out = tmp_path / "o"
    r = cli("run", str(p), "--runs", "3", "--out", str(out), "--explain", "f1")
    assert r.returncode == 0, r.stderr
    s = strict_json((out / "summary.json").read_text())
    assert s["per_threat"][0]["threat"] == "t1" and s["air"]["flights"][0]["flight"] == "f1"
    assert pq.read_table(out / "air_outcomes.parquet").num_rows == 3
    assert {"t1", "f1"} <= set(pq.read_table(out / "events.parquet").column("threat").to_pylist())
    page = (out / "report.html").read_text()
    assert "The air picture" in page and "su-24m" in page.split("The air picture")[1]  # with its source
    doc = strict_json((out / "scene.czml").read_text())
    ids = [q["id"] for q in doc]
    assert "threat/0" in ids and "threat/f1" in ids and ids.count("radar/0") == 1
    # one clock over both: it runs to the flight's end, past the ballistic raid's
    f1_end = next(q for q in doc if q["id"] == "threat/f1")["availability"].split("/")[1]
    assert doc[0]["clock"]["interval"].split("/")[1] >= f1_end
    assert "f1: run 0" in r.stdout and "left the scene" in r.stdout
