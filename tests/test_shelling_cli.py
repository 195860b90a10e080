"""Shelling from the command line: run and its files, validate, catalog, bad input, mixed scenarios."""

import json
import textwrap

import pyarrow.parquet as pq
import pytest
import yaml
from test_cli import cli, strict_json


def test_run_writes_the_shelling_results(tmp_path):
    out = tmp_path / "o"
    r = cli("run", "akcakale-2012", "--runs", "3", "--out", str(out), "--explain", "mortar-3-oct",
            "--export", "geojson,kml")
    assert r.returncode == 0, r.stderr
    # the footer says what the NEES column's parentheses hold (not a 95 % interval of runs)
    assert "NEES: the chi-square band" in " ".join(r.stdout.split())
    for name in ("summary.json", "shelling_rounds.parquet", "events.parquet", "scene.czml", "report.html",
                 "scene.geojson", "scene.kml"):
        assert (out / name).exists(), name
    assert not (out / "outcomes.parquet").exists() and not (out / "air_outcomes.parquet").exists()
    s = strict_json((out / "summary.json").read_text())["shelling"]
    assert s["country"] == "Turkey" and [m["mission"] for m in s["missions"]] == ["mortar-3-oct",
                                                                                   "mortar-at-the-border"]
    r36 = s["missions"][0]["radars"]["tpq-36-akcakale"]
    assert {"located", "error_m", "ellipse95_major_m", "side_correct", "p_true_side", "nees", "fused"} <= set(r36)
    t = pq.read_table(out / "shelling_rounds.parquet").to_pydict()
    assert len(t["run"]) == 3 * 6 and {"true_lat_deg", "est_lat_deg", "error_m", "ellipse_major_m", "side_correct",
                                       "p_true_side", "est_country", "ellipse_side"} <= set(t)
    page = (out / "report.html").read_text()
    for words in ("Where the radars put each round", "Each mission", "Timeline of run 0", "an-tpq-36",
                  "mortar-120mm-he", "McCoy"):
        assert words in page, words
    czml = strict_json((out / "scene.czml").read_text())
    kinds = {p.get("properties", {}).get("kind") for p in czml}
    assert {"threat", "estimate", "ellipse", "weapon", "radar", "coverage"} <= kinds
    gj = strict_json((out / "scene.geojson").read_text())
    layers = {f["properties"]["layer"] for f in gj["features"]}
    assert {"Rounds", "Weapons", "Estimated origins", "Error ellipses", "Weapon-locating radars", "Border"} <= layers
    # an estimate is timed when the radar gives it, as the event log's "located" row (a KML TimeStamp)
    ev = pq.read_table(out / "events.parquet").to_pydict()
    located = {(th, a): t for run, t, th, k, a in zip(ev["run"], ev["t_s"], ev["threat"], ev["kind"], ev["actor"])
               if k == "located" and run == 0}
    est = [f["properties"] for f in gj["features"] if f["properties"]["layer"] == "Estimated origins"]
    assert est and all(p["located_time_s"] == pytest.approx(located[(p["round"], p["radar"])], abs=1e-3)
                       and p["located_time_utc"].endswith("Z") for p in est)
    assert "<TimeStamp>" in (out / "scene.kml").read_text().split("Estimated origins")[1].split("</Folder>")[0]
    # each estimate's side of the border, as the rounds table judges it (the export had none)
    side = {(rn, ra): (inside, es) for run, rn, ra, inside, es in zip(t["run"], t["round_name"], t["radar"],
                                                                        t["est_in_country"], t["ellipse_side"])
            if run == 0}
    assert all((p["in_country"], p["ellipse_side"]) == side[(p["round"], p["radar"])] and p["country"] == "Turkey"
               for p in est)
    ellipses = [f["properties"] for f in gj["features"] if f["properties"]["layer"] == "Error ellipses"]
    assert ellipses and all(p["side"] == side[(p["round"], p["radar"])][1] for p in ellipses)
    # the border is the country within the disc it was cut to, and says so
    (border,) = [f["properties"] for f in gj["features"] if f["properties"]["layer"] == "Border"]
    assert border["clipped_to_km"] > 0 and -90 <= border["clip_lat_deg"] <= 90
    assert "mortar-3-oct: run 0" in r.stdout and "located" in r.stdout
    assert "where the weapon-locating radars put each round's origin" in r.stdout


def test_same_seed_same_bytes(tmp_path):
    for d in ("a", "b"):  # the second in a process of its own: the same bytes across processes
        r = cli("run", "akcakale-2012", "--runs", "2", "--out", str(tmp_path / d), "-q", process=d == "b")
        assert r.returncode == 0, r.stderr
    for f in ("summary.json", "shelling_rounds.parquet", "events.parquet", "scene.czml", "report.html"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_validate_and_the_catalogue():
    r = cli("validate", "akcakale-2012", "--json")
    assert r.returncode == 0, r.stderr
    info = strict_json(r.stdout)["shelling"]
    assert info["country"] == "Turkey" and info["missions"][0]["radars"][0]["in_sector"]
    assert 5.0 < info["missions"][0]["range_km"] < 6.5 and info["missions"][0]["elevation_deg"] > 45.0
    r = cli("validate", "akcakale-2012")
    assert r.returncode == 0 and "shelling: mortar-3-oct, 3 rounds of mortar-120mm-he" in r.stdout
    # the headline counts what a shelling scenario holds, not the ballistic raid's empty parts
    assert "valid: akcakale-2012 — 2 fire missions, 1 weapon-locating radar" in r.stdout
    assert "0 threats" not in r.stdout and "note:" not in r.stdout  # the preset sets ground_alt_m
    r = cli("catalog", "artillery", "--json")
    assert r.returncode == 0 and {e["id"] for e in strict_json(r.stdout)} == {"m107-155mm-he", "mortar-120mm-he",
                                                                                "grad-9m22u-122mm"}
    r = cli("catalog", "locating-radars")
    assert r.returncode == 0 and "an-tpq-36" in r.stdout and "18 / 14.5 / 24" in r.stdout


@pytest.mark.parametrize("args", [("tracks", "akcakale-2012", "--runs", "2"), ("compare", "akcakale-2012")])
def test_the_chain_commands_refuse_a_shelling_only_scenario(args):
    r = cli(*args)
    assert r.returncode == 2 and "threats: the scenario has no ballistic threats" in r.stderr, r.stderr


def test_ballistic_flags_are_refused(tmp_path):
    r = cli("run", "akcakale-2012", "--runs", "2", "--out", str(tmp_path / "o"), "--workers", "2")
    assert r.returncode == 2 and "--workers" in r.stderr and "shelling only" in r.stderr
    assert not (tmp_path / "o").exists()


def test_bad_input_exits_2_and_writes_nothing(tmp_path):
    text = cli("presets", "akcakale-2012").stdout
    for bad, words in ((text.replace("lat: 36.660, lon: 38.955", "lat: 95, lon: 38.955"),
                        "sites.mortar-south-of-tell-abyad.lat"),
                       (text.replace("round: mortar-120mm-he", "round: mortar-160mm", 1),
                        "shelling.missions[0].round: unknown round 'mortar-160mm'"),
                       (text.replace("type: an-tpq-36", "type: cobra"), "shelling.radars[0].type"),
                       (text.replace("lat: 36.660, lon: 38.955", "lat: 36.50, lon: 38.955"),
                        "shelling.missions[0].aim: mortar-3-oct: the aim point is")):
        p = tmp_path / "s.yaml"
        p.write_text(bad)
        r = cli("run", str(p), "--runs", "2", "--out", str(tmp_path / "o"))
        assert r.returncode == 2 and words in r.stderr, r.stderr
        assert not (tmp_path / "o").exists()


MIXED = textwrap.dedent("""\
    name: mixed-shelling
    epoch: 2012-10-03T13:30:00Z
    sites:
      pad: {lat: 36.0, lon: 38.5}
      town: {lat: 36.711, lon: 38.948, alt_m: 390}
      radar: {lat: 36.775, lon: 38.960, alt_m: 395}
    sensors:
      - {name: r1, type: an-tpy-2, site: radar, boresight_az_deg: 180}
      - {name: r2, type: air-surveillance-ground, site: radar}
    batteries:
      - {name: b1, interceptor: pac-3-mse, site: town, rounds: 4}
    assets:
      - {name: city, site: town, radius_km: 10}
    threats:
      - {name: t1, missile: scud-b, launch: pad, aim: city}
    flights:
      - {name: f1, type: su-24m, route: [{lat: 36.3, lon: 38.0}, {lat: 36.6, lon: 38.6}]}
    shelling:
      missions:
        - {name: m1, round: mortar-120mm-he, origin: {lat: 36.660, lon: 38.955, alt_m: 390}, aim: town}
      radars:
        - {name: wlr, type: an-tpq-36, site: radar, facing_az_deg: 180}
    """)


@pytest.mark.parametrize("drop", ["flights", "threats"])
def test_shelling_beside_threats_or_flights(tmp_path, drop):
    tree = yaml.safe_load(MIXED)
    for key in (("flights",) if drop == "flights" else ("threats", "batteries", "assets")):
        del tree[key]
    p = tmp_path / "mixed.yaml"
    p.write_text(yaml.safe_dump(tree, sort_keys=False))
    out = tmp_path / "o"
    r = cli("run", str(p), "--runs", "2", "--out", str(out), "--export", "geojson")
    assert r.returncode == 0, r.stderr
    s = strict_json((out / "summary.json").read_text())
    assert s["shelling"]["missions"][0]["mission"] == "m1"
    assert ("per_threat" in s) == (drop == "flights") and ("air" in s) == (drop == "threats")
    assert pq.read_table(out / "shelling_rounds.parquet").num_rows == 2
    events = set(pq.read_table(out / "events.parquet").column("threat").to_pylist())
    assert "m1#1" in events and ("t1" in events or "f1" in events)
    page = (out / "report.html").read_text()
    assert "Where the radars put each round" in page
    ids = [q["id"] for q in strict_json((out / "scene.czml").read_text())]
    assert "shelling-radar/0" in ids and "threat/m1#1" in ids
    layers = {f["properties"]["layer"] for f in strict_json((out / "scene.geojson").read_text())["features"]}
    assert "Estimated origins" in layers or "Rounds" in layers


def test_validate_says_when_the_weapons_ground_is_taken_at_the_radars_height(tmp_path):
    from shieldlab.scenario import locate

    tree = yaml.safe_load(locate("akcakale-2012")[0].read_text())
    for radar in tree["shelling"]["radars"]:
        radar.pop("ground_alt_m", None)
    p = tmp_path / "no-ground.yaml"
    p.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    r = cli("validate", str(p))
    assert r.returncode == 0, r.stderr
    assert "note: tpq-36-akcakale takes the ground the weapons stand on at its own height" in r.stdout
    assert strict_json(cli("validate", str(p), "--json").stdout)["locating_radars"] == 1


def test_validate_notes_a_fire_mission_no_radar_reaches(tmp_path):
    """A weapon-locating radar 300 km from the weapons validated without a word (run then
    located nothing); the preset, whose radar reaches both missions, has no such note."""
    from shieldlab.scenario import locate

    tree = yaml.safe_load(locate("akcakale-2012")[0].read_text())
    for radar in tree["shelling"]["radars"]:
        radar["site"] = {"lat": 39.5, "lon": 39.0}
    p = tmp_path / "far.yaml"
    p.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    r = cli("validate", str(p), "--json")
    assert r.returncode == 0, r.stderr
    notes = [n for n in strict_json(r.stdout)["notes"] if "no weapon-locating radar reaches" in n]
    assert len(notes) == 2 and "reach 18 km" in notes[0] and "nothing locates it" in notes[0]
    assert "no weapon-locating radar reaches" not in cli("validate", "akcakale-2012").stdout


def test_a_nees_outside_its_band_is_named():
    """A mission's mean NEES outside its chi-square band (2.69 beside 1.46–2.62) went by
    unremarked: a line names it and says which way the covariance errs; inside, nothing."""
    from shieldlab.io.shelling_tables import nees_note

    def summary(mean):
        return {"missions": [{"mission": "m", "radars": {"r": {"nees": {"mean": mean, "band": [1.46, 2.62]}}}}]}

    assert nees_note(summary(2.0)) is None
    assert nees_note(summary(2.69)) == "NEES outside its band: m by r 2.69 above 2.62: errors larger than its " \
        "covariance says"
    assert "below 1.46: errors smaller" in nees_note(summary(1.2))
    assert nees_note({"missions": [{"mission": "m", "radars": {"r": {"nees": {"mean": None}}}}]}) is None


def test_the_shelling_table_is_read_whole_in_a_terminal_of_100_columns():
    """Fifteen columns of figures, a row per mission, were ~290 characters wide: at 120
    columns each cell broke into five-letter pieces ("morta / r-3-o / ct", "1.00 / 0").
    Turned, a column per mission and a row per figure, it fits and no name is cut."""
    import io

    from rich.console import Console
    from rich.table import Table

    from shieldlab import load_world
    from shieldlab.engine.shelling import simulate_shelling
    from shieldlab.io.shelling_tables import HEAD, tables

    res = simulate_shelling(load_world("akcakale-2012"), 4, seed=1, scene_run=None)
    (table,) = [t for t in tables(res.summary) if isinstance(t, Table)]
    buf = io.StringIO()
    Console(file=buf, width=100, color_system=None).print(table)
    text = buf.getvalue()
    assert max(map(len, text.splitlines())) <= 100
    for whole in ("mortar-3-oct", "mortar-at-the-border", "tpq-36-akcakale", "P(estimate on true side)"):
        assert whole in text, whole
    assert len([ln for ln in text.splitlines() if ln.startswith("│")]) == len(HEAD) - 1  # a row per figure


def test_the_shelling_overview_has_a_scale_bar_of_true_length():
    """The overview map had no measure of distance (its close-ups carry km axes)."""
    import math

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shieldlab.analysis.maps import scale_bar

    fig, ax = plt.subplots()
    length = scale_bar(ax, 38.844, 39.058, 36.624, 36.795)
    assert length == 2.0  # a round length near a quarter of the 19 km wide map, at most
    (line,) = ax.lines
    (x0, x1), _ = line.get_data()
    km = (x1 - x0) * 111.32 * math.cos(math.radians(0.5 * (36.624 + 36.795)))
    assert km == pytest.approx(length, rel=1e-9)
    assert [t.get_text() for t in ax.texts] == ["2 km"]
    plt.close(fig)
    fig, ax = plt.subplots()  # a world map: its degrees of longitude are no one length, so no bar
    assert scale_bar(ax, -180.0, 180.0, -60.0, 80.0) is None and not ax.lines and not ax.texts
    plt.close(fig)


def test_run_says_when_a_weapon_stands_off_the_ground_its_radar_assumes(tmp_path):
    """A radar on a 650 m hill, its ground left to its own height, and a rocket launcher at 0 m:
    every origin was placed ~1.9 km towards the target with an ellipse of 100 m and
    P(true side) 1.0, and only validate had said anything about the ground."""
    from shieldlab.scenario import locate

    tree = yaml.safe_load(locate("akcakale-2012")[0].read_text())
    radar = tree["shelling"]["radars"][0]
    radar.pop("ground_alt_m", None)
    radar["site"] = {"lat": 36.70, "lon": 38.95, "alt_m": 650.0}  # the town's hill; the weapons stand at 0 m
    for m in tree["shelling"]["missions"]:
        m["origin"] = {"lat": 36.68, "lon": 38.95}
    tree["shelling"]["radars"] = [radar]
    p = tmp_path / "hill.yaml"
    p.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    r = cli("run", str(p), "--runs", "2")
    assert r.returncode == 0, r.stderr
    note = f"weapon stands 650 m below the ground {radar['name']} assumes (650 m, its own site's height"
    assert r.stderr.count(note) == len(tree["shelling"]["missions"]), r.stderr
    assert "towards its target" in r.stderr and "shelling.radars[0].ground_alt_m" in r.stderr
    said = cli("validate", str(p)).stdout
    assert note in said and "takes the ground the weapons stand on" not in said  # (not twice, generically)
    radar["ground_alt_m"] = 0.0  # the weapons' ground: nothing to say
    p.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    assert "weapon stands" not in cli("run", str(p), "--runs", "2").stderr
    assert "weapon stands" not in cli("run", "akcakale-2012", "--runs", "2").stderr


def test_a_charge_no_weapon_fires_is_noted():
    """A 120 mm mortar at 900 m/s, 2.8 times its full charge, validated without a word (and flew
    103 s); its catalogue charge, or one 10 % over it, is not noted."""
    r = cli("validate", "akcakale-2012", "--set", "shelling.missions[0].muzzle_velocity_ms=900", "--json")
    notes = [n for n in json.loads(r.stdout)["notes"] if "muzzle_velocity_ms" in n]
    assert r.returncode == 0 and len(notes) == 1 and "2.8 times" in notes[0] and "325 m/s" in notes[0], notes
    r = cli("validate", "akcakale-2012", "--set", "shelling.missions[0].muzzle_velocity_ms=350", "--json")
    assert not [n for n in json.loads(r.stdout)["notes"] if "muzzle_velocity_ms" in n]


def test_the_ground_note_names_only_the_radars_that_see_the_weapon():
    """Two radars on one site, facing south and north, and a mortar south of them standing
    210 m above the ground both assume: the note on where its origins would be placed named
    the north-facing radar too, which sees none of its rounds."""
    import shieldlab

    scn = {"name": "two-ways", "epoch": "2012-10-03T13:30:00Z",
           "shelling": {"country": "Turkey",
                        "missions": [{"name": "m1", "round": "mortar-120mm-he",
                                      "origin": {"lat": 36.660, "lon": 38.955, "alt_m": 600},
                                      "aim": {"lat": 36.711, "lon": 38.948, "alt_m": 390}}],
                        "radars": [{"name": "south", "type": "an-tpq-36", "facing_az_deg": 180, "ground_alt_m": 390,
                                    "site": {"lat": 36.775, "lon": 38.960, "alt_m": 395}},
                                   {"name": "north", "type": "an-tpq-36", "facing_az_deg": 0, "ground_alt_m": 390,
                                    "site": {"lat": 36.775, "lon": 38.960, "alt_m": 395}}]}}
    said = [n for n in shieldlab.notes(shieldlab.load_world(scn)) if "weapon stands" in n]
    assert len(said) == 1 and "the ground south assumes" in said[0], said
