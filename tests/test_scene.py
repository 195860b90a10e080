"""The results folder's 3-D scene (scene.czml), its report (report.html) and the server
that shows them (``shieldlab view``), without a browser: tests/test_viewer.py drives one."""

import base64
import http.client
import json
import re

import numpy as np
import pytest

import shieldlab
from shieldlab import earth
from shieldlab.engine import chain
from shieldlab.engine.montecarlo import simulate
from shieldlab.io import report, scene, serve
from shieldlab.io.output import write_results

RUNS, SEED, K = 6, 3, 4


@pytest.fixture(scope="module")
def raid():
    w = shieldlab.load_world("epaa-phase-1")
    res = simulate(w, runs=RUNS, seed=SEED)
    flights = chain.preflight(w, RUNS)
    ch = chain.replay_run(w, flights, SEED, K)
    doc = json.loads(scene.scene(w, ch, 0, run=K).dumps())
    return w, res, ch, doc


def _packets(doc, kind):
    return [p for p in doc if p.get("properties", {}).get("kind") == kind]


def test_the_scene_run_is_that_run_of_the_monte_carlo(raid):
    """The scene's run, run again alone, has the outcomes the Monte Carlo gave run K."""
    w, res, ch, doc = raid
    o = res.outcomes
    mine = np.asarray(o["run"]) == K
    table = dict(zip(np.asarray(o["threat"])[mine], np.asarray(o["outcome"])[mine]))
    threats = _packets(doc, "threat")
    assert [p["name"] for p in threats] == [t.name for t in w.threats]
    for p in threats:
        assert p["properties"]["outcome"].split(" ")[0] == table[p["name"]], p["name"]
    # intercept times too (the kill chain's own, not redrawn)
    t_int = dict(zip(np.asarray(o["threat"])[mine], np.asarray(o["intercept_time_s"])[mine]))
    for p in threats:
        if p["properties"]["outcome"] == "intercepted":
            assert p["properties"]["end_time_s"] == pytest.approx(t_int[p["name"]], abs=1e-6)


def test_the_scene_is_czml_with_a_clock_and_every_part(raid):
    w, res, ch, doc = raid
    assert doc[0]["id"] == "document" and doc[0]["version"] == "1.0"
    start, end = doc[0]["clock"]["interval"].split("/")
    assert start.startswith(w.scenario.epoch.strftime("%Y-%m-%dT")) and end > start
    assert len(_packets(doc, "radar")) == len(w.sensors) == len(_packets(doc, "coverage"))
    assert len(_packets(doc, "battery")) == len(w.batteries)
    assert len(_packets(doc, "asset")) == len(w.assets)
    eng = ch.engagements
    assert len(_packets(doc, "interceptor")) == eng.run.size == len(_packets(doc, "intercept")) > 0
    ids = [p["id"] for p in doc]
    assert len(ids) == len(set(ids))


def test_flights_start_at_launch_and_interceptors_end_at_their_intercept_point(raid):
    w, res, ch, doc = raid
    epoch_s = None
    for p in _packets(doc, "threat"):
        n = [t.name for t in w.threats].index(p["name"])
        c = np.asarray(p["position"]["cartesian"]).reshape(-1, 4)
        launch = w.threats[n].launch.ecef
        assert np.linalg.norm(c[0, 1:] - launch) < 50.0  # the launch point, to the sampling
        epoch_s = c[0, 0] - ch.truth.launch_time[0, n]
        assert c[-1, 0] - epoch_s == pytest.approx(p["properties"]["end_time_s"], abs=1e-6)
    eng = ch.engagements
    for p in _packets(doc, "interceptor"):
        e = int(p["id"].split("/")[1])
        c = np.asarray(p["position"]["cartesian"]).reshape(-1, 4)
        b = w.batteries[int(eng.battery[e])]
        assert np.linalg.norm(c[0, 1:] - b.site.ecef) < 1.0
        np.testing.assert_allclose(c[-1, 1:], eng.end_pos()[e], atol=1e-3)
        assert c[0, 0] - epoch_s == pytest.approx(eng.launch_time[e], abs=1e-6)
        assert c[-1, 0] - epoch_s == pytest.approx(eng.intercept_time[e], abs=1e-6)
        assert np.all(np.diff(c[:, 0]) > 0)
        if not eng.killed[e]:  # a miss ends at the point planned on the track
            np.testing.assert_allclose(c[-1, 1:], eng.intercept_pos[e], atol=1e-3)


def test_a_kill_is_drawn_and_tabled_where_the_threat_was_destroyed():
    """epaa-phase-2, seed 1: kill markers and the outcomes' intercept places were the point
    planned on the track, up to 22 km from where the threat truly was when it was destroyed
    (ghadr-istanbul#2 in run 0: its flight ended 21.8 km from the white kill dot).  A kill is
    where the threat was: the threat's flight, the interceptor's and the marker end together,
    and the table's place is that point."""
    from shieldlab.flyout.interp import state_at

    w = shieldlab.load_world("epaa-phase-2")
    res = simulate(w, runs=2, seed=1)
    ch = chain.replay_run(w, chain.preflight(w, 2), 1, 0)
    doc = json.loads(scene.scene(w, ch, 0, run=0).dumps())
    eng = ch.engagements
    kills = np.flatnonzero(eng.killed & (eng.threat >= 0))
    assert kills.size >= 3
    truth, _ = state_at(ch.truth, eng.intercept_time[kills], index=(eng.run[kills], eng.threat[kills]),
                        velocity=False)
    np.testing.assert_allclose(eng.end_pos()[kills], truth, atol=1e-6)
    assert np.linalg.norm(eng.intercept_pos[kills] - truth, axis=1).max() > 3e3  # the plan was off
    by_id = {p["id"]: p for p in doc}
    for e in kills:
        mark = np.asarray(by_id[f"intercept/{e}"]["position"]["cartesian"], float)
        name = w.threats[int(eng.threat[e])].name
        flight = np.asarray(next(p for p in _packets(doc, "threat") if p["name"] == name)["position"]["cartesian"])
        assert np.linalg.norm(mark - flight.reshape(-1, 4)[-1, 1:]) < 5.0, name  # (its own sampling)
    o = res.outcomes
    mine = (np.asarray(o["run"]) == 0) & (np.asarray(o["outcome"]) == "intercepted")
    lat, lon, alt = earth.ecef_to_geodetic(truth)
    got = {n: (a, b, h) for n, a, b, h in zip(np.asarray(o["threat"])[mine], np.asarray(o["intercept_lat_deg"])[mine],
                                             np.asarray(o["intercept_lon_deg"])[mine],
                                             np.asarray(o["intercept_alt_km"])[mine])}
    for j, e in enumerate(kills):
        a, b, h = got[w.threats[int(eng.threat[e])].name]
        assert (a, b, h) == pytest.approx((np.degrees(lat[j]), np.degrees(lon[j]), alt[j] / 1e3), abs=1e-6)


def test_every_mark_says_what_it_is_when_clicked(raid):
    """Assets, impacts and intercept marks had no description (a click showed nothing), a
    leaker's did not name the asset it hit, and a radar's range did not say against what."""
    w, res, ch, doc = raid
    o = ch.outcomes
    for kind in ("asset", "intercept", "radar", "battery", "threat", "impact"):
        for p in _packets(doc, kind):
            assert p.get("description"), (kind, p["id"])
    for i, p in enumerate(_packets(doc, "asset")):
        n = int(np.sum(o.asset_hit[0] == i))
        assert f"warheads landed on it, this run</th><td>{n}</td>" in p["description"]
    for p in _packets(doc, "radar"):
        assert "m² (the fan drawn" in p["description"]
    for p in _packets(doc, "intercept"):
        assert ("where the threat was" if p["properties"]["killed"] else "planned on the track") in p["description"]
    for p in _packets(doc, "threat"):
        n = [t.name for t in w.threats].index(p["name"])
        if p["properties"]["outcome"] == "leaked on an asset":
            assert f"leaked on an asset: {w.assets[int(o.asset_hit[0, n])].name}" in p["description"]
    for p in _packets(doc, "impact"):
        n = [t.name for t in w.threats].index(p["properties"]["threat"])
        hit = int(o.asset_hit[0, n])
        assert f"defended asset hit</th><td>{w.assets[hit].name if hit >= 0 else 'none'}</td>" in p["description"]


def test_interceptor_path_follows_the_fly_out_to_the_point():
    w = shieldlab.load_world("epaa-phase-1")
    b = w.batteries[0]
    lat, lon = earth.destination(b.site.lat, b.site.lon, 0.7, 400e3)
    point = earth.geodetic_to_ecef(lat, lon, 200e3)
    t, pos = scene.interceptor_path(b, 100.0, 300.0, point)
    assert t[0] == 100.0 and t[-1] == 300.0
    np.testing.assert_allclose(pos[-1], point)
    la, lo, alt = earth.ecef_to_geodetic(pos)
    g = earth.great_circle_distance(b.site.lat, b.site.lon, la, lo)
    assert np.all(np.diff(g) >= -1.0)  # outward along the great circle
    assert alt.max() > 200e3 - 1.0  # a ballistic arc, not below the point


def test_interceptor_path_is_the_direct_arc_not_a_lofted_one():
    """Of the fly-outs that pass about as near the intercept point, the one there soonest (the
    fan's least time): an SM-3 IA at a ~250 km intercept was drawn on a lofted arc 534 km high,
    above its ceiling, for one salvo and on the direct arc for a near-identical other.  Every
    drawn flight of epaa-phase-1's first eight runs stays within its ceiling and near the point."""
    from shieldlab.engine.chain import preflight, run_chunk

    w = shieldlab.load_world("epaa-phase-1")
    ch = run_chunk(w, preflight(w, 8), 0, 8, np.random.SeedSequence(1))
    e = ch.engagements
    assert np.isfinite(e.intercept_time).sum() > 20
    for i in np.flatnonzero(np.isfinite(e.intercept_time)):
        b = w.batteries[int(e.battery[i])]
        _, pos = scene.interceptor_path(b, float(e.launch_time[i]), float(e.intercept_time[i]), e.intercept_pos[i])
        alt = earth.ecef_to_geodetic(pos)[2]
        assert alt.max() <= 1e3 * b.spec.max_intercept_alt_km
        assert alt.max() - alt[-1] < 50e3, (b.name, alt.max(), alt[-1])


def test_the_report_is_self_contained_and_says_what_the_summary_says(raid):
    w, res, ch, doc = raid
    page = report.build(w, res, ch, 0)
    assert "<h1>epaa-phase-1</h1>" in page
    # nothing fetched: every image is an embedded PNG, no script, no external style or link
    srcs = re.findall(r'<img src="([^"]+)"', page)
    assert len(srcs) >= 4
    for s in srcs:
        assert s.startswith("data:image/png;base64,")
        assert base64.b64decode(s.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r'<(script|link|iframe)\b', page)
    assert not re.search(r'(src|href)="(https?:)?//', page)
    # the summary's numbers, its intervals, every threat and every catalogue entry with its source
    s = res.summary
    lo, hi = s["mean_leakers_ci95"]
    assert f"{s['mean_leakers']:.2f} ({lo:.2f}–{hi:.2f})" in page
    for t in w.threats:
        assert t.name in page
    for _kind, id_, _, source in report.catalogue_sources(w):
        assert f"<td>{id_}</td>" in page and source[:40].replace("&", "&amp;").replace('"', "&quot;")[:20] in page
    ids = {r[1] for r in report.catalogue_sources(w)}
    assert {"sejjil-2", "ghadr-1", "sm-3-block-ia", "an-tpy-2"} <= ids


def test_leakers_and_interceptors_per_run_add_up(raid):
    w, res, ch, doc = raid
    leakers, fired = report.per_run(res.outcomes, RUNS)
    assert leakers.shape == (RUNS,) and leakers.mean() == pytest.approx(res.summary["mean_leakers"])
    assert fired.mean() == pytest.approx(res.summary["mean_interceptors_fired"])


def test_a_threat_still_airborne_is_no_leaker_in_the_report_as_in_the_summary(raid):
    """The report's leakers per run count what the summary's mean_leakers counts: a threat
    still flying when the simulated time ends is neither intercepted nor leaked."""
    from shieldlab.io.summary import summarise

    w, res, ch, doc = raid
    out = {k: np.array(v, copy=True) for k, v in res.outcomes.items()}
    leaked = np.flatnonzero(out["outcome"] == "leaked")
    assert leaked.size >= 2  # the raid has leakers to turn into airborne threats
    out["outcome"][leaked[:2]] = "airborne"
    s = summarise(w, out, res.events, RUNS, SEED)
    leakers, _ = report.per_run(out, RUNS)
    assert leakers.sum() == pytest.approx(res.summary["mean_leakers"] * RUNS - 2)
    assert leakers.mean() == pytest.approx(s["mean_leakers"])


@pytest.fixture(scope="module")
def served(tmp_path_factory, raid):
    w, res, ch, doc = raid
    d = tmp_path_factory.mktemp("served") / "results"
    write_results(d, res.summary, res.outcomes, res.events, extra={"scene.czml": json.dumps(doc)})
    viewer = tmp_path_factory.mktemp("viewer")
    (viewer / "index.html").write_text("<!doctype html><title>viewer</title>")
    (viewer / "cesium").mkdir()
    (viewer / "cesium" / "Cesium.js").write_text("// stand-in")
    (d.parent / "secret.txt").write_text("outside")
    (viewer.parent / "secret.txt").write_text("outside")
    srv = serve.start(d, viewer=viewer)
    yield srv, d
    srv.stop()


def _get(srv, raw_path):
    host, port = srv.httpd.server_address[:2]
    c = http.client.HTTPConnection(host, port, timeout=10)
    c.putrequest("GET", raw_path, skip_accept_encoding=True)
    c.endheaders()
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def test_the_server_serves_the_viewer_and_the_folder_only(served):
    srv, d = served
    assert srv.httpd.server_address[0] == "127.0.0.1"
    assert _get(srv, "/")[0] == 200 and _get(srv, "/cesium/Cesium.js")[0] == 200
    status, body = _get(srv, "/data/scene.czml")
    assert status == 200 and json.loads(body)[0]["id"] == "document"
    assert _get(srv, "/data/summary.json")[0] == 200
    for bad in ("/../secret.txt", "/data/../secret.txt", "/data/../../secret.txt", "/%2e%2e/secret.txt",
                "/data/%2e%2e/secret.txt", "/data/%2E%2E/%2E%2E/secret.txt", "/data/..%2fsecret.txt",
                "/data/%252e%252e/secret.txt", "/..%5csecret.txt", "/data/..\\secret.txt", "//etc/passwd",
                "/data//etc/passwd", "/data/", "/cesium/", "/data/%00", "/data/scene.czml%00.txt",
                "/etc/passwd", "/data/./scene.czml", "/data/%ff"):
        status, body = _get(srv, bad)
        assert status == 404, (bad, status)
        assert b"outside" not in body


def test_a_link_out_of_the_folder_is_not_followed(served, tmp_path):
    srv, d = served
    (d / "escape.json").symlink_to(d.parent / "secret.txt")
    try:
        assert _get(srv, "/data/escape.json")[0] == 404
    finally:
        (d / "escape.json").unlink()


def test_a_missing_viewer_is_said(tmp_path, monkeypatch):
    monkeypatch.setenv(serve.VIEWER_ENV, str(tmp_path))  # the user's own path: named as theirs
    with pytest.raises(serve.ViewerMissing, match=f"SHIELDLAB_VIEWER={tmp_path} is no built viewer"):
        serve.viewer_dir()
    monkeypatch.delenv(serve.VIEWER_ENV)
    monkeypatch.setattr(serve, "__file__", str(tmp_path / "a" / "b" / "c" / "serve.py"))  # a tree not built
    with pytest.raises(serve.ViewerMissing, match="make viewer"):
        serve.viewer_dir()


@pytest.mark.parametrize("args, field", [
    (["run", "epaa-phase-1", "--runs", "4", "--scene-run", "4", "--out", "{d}/r"], "--scene-run"),
    (["run", "epaa-phase-1", "--runs", "4", "--scene-run", "-1", "--out", "{d}/r"], "--scene-run"),
    (["run", "epaa-phase-1", "--runs", "4", "--export", "kml"], "--export"),
    (["run", "epaa-phase-1", "--runs", "4", "--export", "shp", "--out", "{d}/r"], "--export"),
    (["run", "epaa-phase-1", "--runs", "4", "--footprint"], "--footprint"),
    (["flyout", "scud-b", "--from", "35,38", "--to", "37.4,38.3", "--export-to", "{d}/f"], "--export-to"),
    (["flyout", "scud-b", "--from", "35,38", "--to", "37.4,38.3", "--export", "kml"], "--export-to"),
    (["coverage", "epaa-phase-1", "--export", "geojson"], "--export-to"),
    (["view", "{d}"], "DIR"),
    (["view", "{d}/missing"], "DIR"),
])
def test_bad_scene_and_export_options_are_refused_before_anything_is_written(tmp_path, capsys, args, field):
    from shieldlab.cli import main

    rc = main([a.format(d=tmp_path) for a in args])
    err = capsys.readouterr().err
    assert rc == 2 and f"error: {field}:" in err, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("base", ["{d}/t2/", "{d}/t2"])
def test_an_export_base_that_is_a_folder_is_refused(tmp_path, capsys, base):
    """``--export-to t2/`` wrote t2.geojson beside the folder t2 (Path drops the separator) and
    said nothing: a folder is refused, with the path to give instead."""
    from shieldlab.cli import main

    (tmp_path / "t2").mkdir()
    rc = main(["flyout", "scud-b", "--from", "35,38", "--to", "37.4,38.3", "--export", "geojson",
               "--export-to", base.format(d=tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "--export-to" in err and f"{tmp_path / 't2' / 'raid'}" in err, err
    assert [p.name for p in tmp_path.iterdir()] == ["t2"] and not any((tmp_path / "t2").iterdir())


@pytest.mark.parametrize("text, words", [("not json", "not JSON"), ('{"id": "document"}', "not a CZML document"),
                                         ("[]", "not a CZML document"), ('[{"id": "x"}]', "not a CZML document")])
def test_view_refuses_a_scene_that_is_no_czml_before_serving(tmp_path, capsys, text, words):
    """A broken scene.czml is told at the command line (exit 2), not as 'could not load the
    scene' in a browser tab."""
    from shieldlab.cli import main

    (tmp_path / "scene.czml").write_text(text)
    rc = main(["view", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "error: DIR:" in err and "scene.czml" in err and words in err, err


def test_flyout_and_run_export_where_they_say(tmp_path, capsys):
    from shieldlab.cli import main

    assert main(["flyout", "scud-b", "--from", "35,38", "--to", "37.4,38.3", "--export", "geojson,kml",
                 "--export-to", str(tmp_path / "fly"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    fc = json.loads((tmp_path / "fly.geojson").read_text())
    line = next(f for f in fc["features"] if f["geometry"]["type"] == "LineString")
    lon, lat = line["geometry"]["coordinates"][-1][:2]
    assert (lat, lon) == pytest.approx((out["impact_lat_deg"], out["impact_lon_deg"]), abs=1e-4)
    assert (tmp_path / "fly.kml").read_text().startswith("<?xml")
    # a second time needs --force
    assert main(["flyout", "scud-b", "--from", "35,38", "--to", "37.4,38.3", "--export", "kml",
                 "--export-to", str(tmp_path / "fly")]) == 2
    assert main(["run", "epaa-phase-1", "--runs", "2", "--out", str(tmp_path / "r"), "--export", "kml",
                 "--scene-run", "1", "-q"]) == 0
    names = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert names == ["events.parquet", "outcomes.parquet", "report.html", "scene.czml", "scene.kml", "summary.json",
                     "track_quality.parquet"]
    doc = json.loads((tmp_path / "r" / "scene.czml").read_text())
    assert doc[0]["name"].endswith("run 1")


def test_early_warning_satellites_are_where_their_orbits_put_them():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from phase1_scene import phase1

    w = phase1([{"name": "geo-1", "type": "sbirs-geo", "lon_deg": 50.0},
                {"name": "heo-1", "type": "sbirs-heo", "apogee_lon_deg": 40.0}])
    ch = chain.replay_run(w, chain.fly_threats(w), 1, 0)
    doc = json.loads(scene.scene(w, ch, 0).dumps())
    sats = _packets(doc, "satellite")
    assert [p["name"] for p in sats] == ["geo-1", "heo-1"]
    epoch_s = ch.truth.launch_time[0].min()  # the scene's clock starts at the first launch (or 0)
    epoch_s = min(epoch_s, 0.0)
    for p, sat in zip(sats, w.early_warning):
        c = np.asarray(p["position"]["cartesian"]).reshape(-1, 4)
        np.testing.assert_allclose(c[:, 1:], sat.position_at(c[:, 0] + epoch_s), rtol=1e-12)
    geo = np.asarray(sats[0]["position"]["cartesian"]).reshape(-1, 4)[:, 1:]
    heo = np.asarray(sats[1]["position"]["cartesian"]).reshape(-1, 4)[:, 1:]
    # one hangs over the equator; the other moves, slowly near its apogee (tens of km in the raid)
    assert np.ptp(geo, axis=0).max() < 1.0 and np.ptp(heo, axis=0).max() > 1e4


def test_the_running_mean_chart_reads_the_summarys_interval(raid, monkeypatch):
    """The 'leakers over runs' band ends at the summary's own interval (same Student t)."""
    w, res, ch, doc = raid
    drawn = {}
    orig = report.plt.Axes.fill_between

    def spy(self, x, lo, hi, *a, **k):
        drawn["band"] = (np.asarray(lo), np.asarray(hi))
        return orig(self, x, lo, hi, *a, **k)

    monkeypatch.setattr(report.plt.Axes, "fill_between", spy)
    leakers, _ = report.per_run(res.outcomes, RUNS)
    report._running_mean(leakers, "leakers", "#e74c3c")
    lo, hi = drawn["band"]
    assert (lo[-1], hi[-1]) == pytest.approx(tuple(res.summary["mean_leakers_ci95"]), abs=1e-5)



def test_a_running_mean_band_cut_at_the_frame_says_so(monkeypatch):
    """The first runs' wide intervals are cut at the frame, which read as where they end: a note
    says which runs' intervals go on above it; a band inside the frame has none."""
    notes = []
    orig = report.plt.Axes.annotate

    def spy(self, text, *a, **k):
        notes.append(text)
        return orig(self, text, *a, **k)

    monkeypatch.setattr(report.plt.Axes, "annotate", spy)
    rng = np.random.default_rng(3)
    wide = np.concatenate([[0.0, 6.0], rng.integers(1, 3, 40).astype(float)])  # runs 1-2 far apart
    report._running_mean(wide, "leakers", "#e74c3c", 6)
    assert len(notes) == 1 and notes[0].startswith("↑ runs 1–") and "above the frame" in notes[0]
    notes.clear()
    report._running_mean(np.full(3, 2.0) + np.array([0.0, 0.1, -0.1]), "leakers", "#e74c3c", 6)
    assert notes == []


def test_the_running_mean_band_is_the_summarys_at_every_n_alike_runs_too(monkeypatch):
    """Five alike runs have a Student t interval of no width: drawn, it read as a certain
    answer.  There the band is the summary's exact bound of a capped count (as
    :func:`stats.mean_interval` with both bounds), its mean dotted and the legend saying so;
    without an upper bound no band is drawn there, as the summary has none."""
    from shieldlab import stats

    lines, bands = [], []
    orig_plot, orig_fill = report.plt.Axes.plot, report.plt.Axes.fill_between

    def plot(self, x, y, *a, **k):
        lines.append((k.get("ls", "-"), np.asarray(y, float), k.get("label")))
        return orig_plot(self, x, y, *a, **k)

    def fill(self, x, lo, hi, *a, **k):
        bands.append((np.asarray(k["where"]), np.asarray(lo, float), np.asarray(hi, float)))
        return orig_fill(self, x, lo, hi, *a, **k)

    monkeypatch.setattr(report.plt.Axes, "plot", plot)
    monkeypatch.setattr(report.plt.Axes, "fill_between", fill)
    values = np.array([2.0, 2, 2, 2, 2, 1, 3, 2])
    report._running_mean(values, "leakers", "#e74c3c", 6)
    (where, lo, hi), = bands
    assert not where[0] and where[1:].all()  # one run: no interval
    for n in range(2, values.size + 1):
        _, elo, ehi = stats.mean_interval(values[:n], lower=0.0, upper=6.0)
        assert (lo[n - 1], hi[n - 1]) == pytest.approx((elo, ehi), abs=1e-12), n
    assert hi[4] > 2.0 + 0.5  # five alike runs of a raid of 6: not a certain 2
    (dotted,) = [y for ls, y, _ in lines if ls == ":"]
    assert np.isfinite(dotted[:5]).all() and np.isnan(dotted[5:]).all()
    assert any(label and "exact bound" in label for _, _, label in lines)
    lines.clear()
    bands.clear()
    report._running_mean(values, "leakers", "#e74c3c")  # no upper bound: no band while alike
    (where, _, _), = bands
    assert not where[:5].any() and where[5:].all()
    lines.clear()
    bands.clear()
    report._running_mean(np.array([2.0, 1, 3, 2]), "leakers", "#e74c3c", 6)  # spread from the second run
    assert [ls for ls, _, _ in lines] == ["-"] and not bands[0][0][0] and bands[0][0][1:].all()


def test_a_few_runs_chart_holds_its_band_whole_and_counts_runs_in_whole_numbers(monkeypatch):
    """Four alike runs: the band ran past the top of the frame (cut as the first runs of a long
    run are), the runs axis had ticks at 1.5 and 2.5, the legend named a 'mean so far' line
    that was not drawn, and sat on the band."""
    figs = []
    orig = report._png

    def keep(fig, **kw):
        ax = fig.axes[0]
        figs.append((ax.get_ylim(), list(ax.get_xticks()), fig.legends, ax.get_legend(),
                     [c.get_paths()[0].vertices for c in ax.collections]))
        return orig(fig, **kw)

    monkeypatch.setattr(report, "_png", keep)
    report._running_mean(np.array([2.0, 2, 2, 2]), "leakers", "#e74c3c", 6)
    (y0, y1), ticks, legends, inside, bands = figs[0]
    assert max(v[:, 1].max() for v in bands) <= y1
    assert all(float(t) == int(t) for t in ticks)
    assert inside is None and len(legends) == 1
    labels = [t.get_text() for t in legends[0].get_texts()]
    assert "mean so far" not in labels and "95 % interval" in labels


def test_the_timeline_says_what_its_marks_mean(raid, monkeypatch):
    """The engagement timeline drew salvos, kills and misses without a legend (the ground map
    had one), over an axis of 'time after the epoch' without the epoch."""
    w, res, ch, doc = raid
    axes = []
    orig = report._png

    def keep(fig, **kw):
        axes.append(fig.axes[0])
        return orig(fig, **kw)

    monkeypatch.setattr(report, "_png", keep)
    from shieldlab.io.scene import threat_rows

    report._timeline(w, ch, 0, threat_rows(w, ch, 0))
    ax = axes[-1]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "a salvo: launch to intercept" in labels and ({"kill", "miss"} & set(labels))
    assert f"{w.scenario.epoch:%Y-%m-%d %H:%M} UTC" in ax.get_xlabel()


def test_the_report_is_the_same_bytes_for_the_same_run(raid):
    """Same scenario and seed, same files: the report carries no clock time."""
    w, res, ch, doc = raid
    assert report.build(w, res, ch, 0) == report.build(w, res, ch, 0)


def test_the_ground_maps_legend_names_only_the_ends_drawn(raid, monkeypatch):
    """The ground map's legend names a kill or a miss only where the run has one: a run whose
    every salvo kills shows no "miss" in its legend, one whose every salvo misses no "kill"."""
    import dataclasses

    from matplotlib.axes import Axes

    w, res, ch, _ = raid
    legends = []
    real = Axes.legend

    def legend(ax, *args, **kw):
        legends.append(list(args[1]) if len(args) > 1 else [])  # the ground map's: (handles, labels)
        return real(ax, *args, **kw)

    monkeypatch.setattr(Axes, "legend", legend)
    eng = ch.engagements
    mine = (eng.run == 0) & np.isfinite(eng.intercept_time) & (eng.intercept_time > eng.launch_time)
    assert mine.any()
    for killed, shown, hidden in ((True, "kill", "miss"), (False, "miss", "kill")):
        legends.clear()
        forced = dataclasses.replace(ch, engagements=dataclasses.replace(eng, killed=np.full_like(eng.killed, killed)))
        report.build(w, res, forced, 0)
        ground = [labels for labels in legends if "launch point" in labels]
        assert len(ground) == 1 and shown in ground[0] and hidden not in ground[0], ground


def test_the_ground_maps_legend_sits_in_the_corner_with_the_fewest_tracks_and_sites():
    """The legend goes to the corner the fewest drawn things (tracks, sites) reach into; with a
    tie, the fewer points, then matplotlib's own order (upper right, upper left, lower left,
    lower right).  Things, not points: two sites in a corner outweigh one track's many vertices
    (the legend hid two ships and their labels, the nato-russia-2011 report)."""
    fig, ax = report.plt.subplots()
    ax.set_xlim(30.0, 40.0)
    ax.set_ylim(30.0, 40.0)
    try:
        crowd = np.column_stack([np.linspace(36.5, 39.5, 50), np.linspace(36.5, 39.5, 50)])  # upper right
        assert report._quiet_corner(ax, [crowd]) == "upper left"
        other = [np.array([p]) for p in ([31.0, 39.0], [31.5, 31.0], [38.0, 31.0])]  # one in each of the others
        assert report._quiet_corner(ax, [crowd, *other, np.array([[32.0, 32.0]])]) == "upper left"
        assert report._quiet_corner(ax, [crowd, *other, np.array([[32.0, 32.0]]), np.array([[31.0, 38.0]])]) \
            == "lower right"
        # one track of 50 vertices through the lower right against two sites in each other corner
        sites = [np.array([p]) for p in ([31.0, 39.0], [32.0, 38.0], [31.0, 31.0], [32.0, 32.0],
                                          [38.0, 39.0], [39.0, 38.0])]
        track = np.column_stack([np.linspace(36.5, 39.5, 50), np.linspace(30.5, 33.5, 50)])
        assert report._quiet_corner(ax, [*sites, track]) == "lower right"
        assert report._quiet_corner(ax, []) == "upper right"
    finally:
        report.plt.close(fig)


def test_each_c2_node_with_a_site_is_drawn():
    """nodes[].site is documented "for maps" and no map drew it: the scene marks it."""
    w = shieldlab.load_world("nato-russia-2011")
    flights = chain.preflight(w, 1)
    doc = json.loads(scene.scene(w, chain.replay_run(w, flights, 1, 0), 0, run=0).dumps())
    nodes = _packets(doc, "c2-node")
    sited = [nd for nd in w.nodes if nd.site is not None]
    assert sited and [p["properties"]["node"]["string"] if isinstance(p["properties"]["node"], dict)
                      else p["properties"]["node"] for p in nodes] == [nd.name for nd in sited]
    for p, nd in zip(nodes, sited):
        np.testing.assert_allclose(p["position"]["cartesian"], nd.site.ecef, atol=1e-3)


def test_the_ground_map_draws_the_c2_sectors_and_keeps_its_legend_off_the_sites(monkeypatch):
    """nato-russia-2011: both nodes' sectors are drawn (their outlines, in degrees, as the scenario
    gives them) and named in the legend; every corner of that map holds a site or a track, so the
    legend goes beside the map, where it hides nothing (in a corner it sat over two ships and
    their labels)."""
    from matplotlib.axes import Axes

    w = shieldlab.load_world("nato-russia-2011")
    res = simulate(w, runs=2, seed=1)
    ch = chain.replay_run(w, chain.preflight(w, 2), 1, 0)
    placed, lines = [], []
    real_legend, real_plot = Axes.legend, Axes.plot

    def legend(ax, *args, **kw):
        placed.append((list(args[1]) if len(args) > 1 else [], kw.get("loc"), kw.get("bbox_to_anchor")))
        return real_legend(ax, *args, **kw)

    def plot(ax, *args, **kw):
        out = real_plot(ax, *args, **kw)
        if kw.get("ls") == "--":
            lines.append(np.column_stack([np.asarray(args[0], float), np.asarray(args[1], float)]))
        return out

    monkeypatch.setattr(Axes, "legend", legend)
    monkeypatch.setattr(Axes, "plot", plot)
    report.build(w, res, ch, 0)
    ground = [p for p in placed if "launch point" in p[0]]
    assert len(ground) == 1
    labels, loc, anchor = ground[0]
    assert {"nato's sector (not enforced: coordinated)", "russia's sector (not enforced: coordinated)"} <= set(labels)
    assert loc == "upper left" and anchor is not None and anchor[0] > 1.0  # beside the axes
    sectors = [n.sector for n in w.nodes if n.sector is not None]
    assert len(lines) == len(sectors) == 2
    for ring, sector in zip(lines, sectors):
        assert ring == pytest.approx(np.degrees(np.asarray(sector.exterior.coords)))


def test_the_ground_map_shows_twin_tracks_and_names_threats_off_the_tracks(raid, monkeypatch):
    """A salvo's twins fly one ground track: a leaker's line is drawn wide under the
    intercepted ones' narrow lines, so both show where they run together (the leaker on top
    had hidden its intercepted twin).  Each threat is named once, by a point of its own track
    (its annotation's point lies on a track), clear of every other name and of the drawn
    tracks (a name over another's track read as that one's); the launch point is named."""
    from matplotlib.colors import to_hex
    from matplotlib.text import Text

    from shieldlab.analysis import maps

    w, res, ch, _ = raid
    figs = []
    real = report._png

    def keep(fig, trim=False):
        figs.append(fig)
        return real(fig, trim)

    monkeypatch.setattr(report, "_png", keep)
    monkeypatch.setattr(report.plt, "close", lambda fig=None: None)
    report.build(w, res, ch, 0)
    (fig,) = [f for f in figs if f.axes and "over the ground" in f.axes[0].get_title()]
    ax = fig.axes[0]
    lines = [ln for ln in ax.lines if ln.get_xydata().shape[0] > 2 and ln.get_linestyle() == "-"]
    tracks = [ln for ln in lines if to_hex(ln.get_color()) != "#5dade2"]  # not the interceptors'
    wide = [ln for ln in tracks if ln.get_linewidth() > 2.0]
    narrow = [ln for ln in tracks if ln.get_linewidth() <= 2.0]
    assert wide and narrow, "the run has leakers and intercepted threats"
    assert max(ln.get_zorder() for ln in wide) < min(ln.get_zorder() for ln in narrow)
    r = maps._renderer(fig)
    texts = [t for t in ax.texts if t.get_visible() and t.get_text()]
    for t in texts:
        if hasattr(t, "update_positions"):
            t.update_positions(r)  # (an annotation's text is placed when drawn or measured whole)
    boxes = {t.get_text(): Text.get_window_extent(t, r) for t in texts}
    # the launch point the scenario names, named once by its triangle (it sat unnamed)
    (launch,) = [t for t in texts if t.get_text() == "tabriz"]
    assert launch.xy == pytest.approx((np.degrees(w.threats[0].launch.lon), np.degrees(w.threats[0].launch.lat)))
    on_lines = np.array(maps.line_boxes(ax, [ln.get_xydata() for ln in lines]))
    for th in w.threats:
        (note,) = [t for t in texts if t.get_text() == th.name]
        assert any(np.min(np.hypot(*(ln.get_xydata() - np.asarray(note.xy)).T)) < 1e-9 for ln in tracks), th.name
        b = boxes[th.name]
        for other, ob in boxes.items():
            if other != th.name:
                assert not (b.x0 < ob.x1 and ob.x0 < b.x1 and b.y0 < ob.y1 and ob.y0 < b.y1), (th.name, other)
        assert not np.any((b.x0 < on_lines[:, 2]) & (on_lines[:, 0] < b.x1) & (b.y0 < on_lines[:, 3])
                          & (on_lines[:, 1] < b.y1)), th.name
    monkeypatch.undo()
    report.plt.close("all")


def test_the_ground_map_names_each_threat_nearer_its_own_track_than_any_other(monkeypatch):
    """patriot-turkey-2013: four Scuds from two launch points on close, crossing tracks.  Each
    threat's name is nearer its own ground track than any other threat's (a salvo's twin on
    the same track aside): "scud-b-kahramanmaras" had stood against the Scud-C's track to
    Adana, its far end by its own."""
    from matplotlib.colors import to_hex
    from matplotlib.text import Text

    from shieldlab.analysis import maps

    w = shieldlab.load_world("patriot-turkey-2013")
    fig = _ground_map_of(w, monkeypatch)
    ax = fig.axes[0]
    r = maps._renderer(fig)
    tracks = [ln for ln in ax.lines if ln.get_xydata().shape[0] > 2 and ln.get_linestyle() == "-"
              and to_hex(ln.get_color()) != "#5dade2"]
    pts = [ax.transData.transform(ln.get_xydata()) for ln in tracks]
    checked = 0
    for th in w.threats:
        (note,) = [t for t in ax.texts if t.get_text() == th.name]
        note.update_positions(r)
        b = Text.get_window_extent(note, r)
        box = (b.x0, b.y0, b.x1, b.y1)
        anchor = ax.transData.transform(note.xy)
        own = [p for p in pts if np.hypot(*(p - anchor).T).min() < 1e-6]
        assert own, th.name
        mine = min(maps._box_distance(box, p).min() for p in own)
        # another track: one not on this one's path (a twin's points lie on it)
        others = [p for p in pts if not any(np.hypot(*(p[:, None, :] - o[None, :, :]).T).min(axis=0).max() < 2.0
                                            for o in own)]
        if others and note.arrow_patch is None:
            assert mine + 1.0 <= min(maps._box_distance(box, p).min() for p in others), th.name
            checked += 1
    assert checked >= 2
    monkeypatch.undo()
    report.plt.close("all")


def test_the_ground_map_leaves_far_assets_to_its_title(monkeypatch):
    """epaa-phase-4: the ICBMs aimed at New York and Boston are shot down over Europe; the two
    cities, far past the run's tracks and sites, had stretched the map over the Atlantic and
    squeezed the fight into a strip.  They are named in the title instead; the map keeps to
    the fight and the assets near it."""
    w = shieldlab.load_world("epaa-phase-4")
    ax = _ground_map_of(w, monkeypatch).axes[0]
    assert ax.get_title().endswith("(off the map: new-york, boston)")
    lon0, lon1 = ax.get_xlim()
    assert lon0 > 0.0  # Europe's west, not the Atlantic
    names = [t.get_text() for t in ax.texts]
    assert "warsaw" in names and "athens" in names and "new-york" not in names
    monkeypatch.undo()
    report.plt.close("all")


def _ground_map_of(w, monkeypatch):
    """The report's ground map of run 0 of a 2-run simulation of ``w`` (seed 1), as a figure."""
    res = simulate(w, runs=2, seed=1)
    ch = chain.replay_run(w, chain.preflight(w, 2), 1, 0)
    figs = []
    real = report._png
    monkeypatch.setattr(report, "_png", lambda fig, trim=False: (figs.append(fig), real(fig, trim))[1])
    monkeypatch.setattr(report.plt, "close", lambda fig=None: None)
    report.build(w, res, ch, 0)
    (fig,) = [f for f in figs if f.axes and "over the ground" in f.axes[0].get_title()]
    return fig


def test_an_interceptor_at_a_spent_booster_is_named_so():
    """Under gnn a salvo may go at a track of the threat's spent booster: the scene names it
    "... → <threat>'s spent booster" (it read as a salvo at the threat), its ``threat``
    property still the threat's name."""
    from pathlib import Path

    import yaml

    path = Path(__file__).resolve().parents[1] / "docs" / "examples" / "early-warning-heo.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["tracking"] = {"association": "gnn"}
    w = shieldlab.load_world(raw)
    flights = chain.preflight(w, 2)
    ch = chain.replay_run(w, flights, 6, 0)  # seed 6: a salvo at a booster in run 0
    doc = json.loads(scene.scene(w, ch, 0, run=0).dumps())
    shots = _packets(doc, "interceptor")
    target = ch.engagements.target
    at_booster = [p for p in shots if p["name"].endswith("'s spent booster")]
    assert at_booster and len(at_booster) == int((target[ch.engagements.run == 0] >= len(w.threats)).sum())
    assert {p["properties"]["threat"] for p in at_booster} <= {t.name for t in w.threats}


def test_a_close_end_game_gets_a_close_up_map(raid, monkeypatch):
    """A Patriot's kills and misses a few kilometres from its site piled on its marker on the
    map of the whole flight: where the intercept points and the firing batteries span under
    CLOSE_UP_SHARE of the run's map, the report adds a close-up of them; an end game spread
    over the map (epaa-phase-1's ships and radars) gets none."""
    w, _, ch, _ = raid
    assert report._end_game_view(w, ch, 0, scene.threat_rows(w, ch, 0)) is None
    scn = {"name": "close", "epoch": "2013-02-01T06:00:00Z", "time_step_s": 1.0,
           "sites": {"pad": {"lat": 35.2, "lon": 38.6}, "city": {"lat": 37.07, "lon": 37.38},
                     "bat": {"lat": 37.02, "lon": 37.45}},
           "sensors": [{"name": "r", "type": "an-mpq-65", "site": "bat", "boresight_az_deg": 150, "system": "d"}],
           "batteries": [{"name": "b", "interceptor": "pac-2-gem-t", "site": "bat", "rounds": 8, "radar": "r",
                          "cue": "own", "system": "d"}],
           "assets": [{"name": "city", "site": "city", "radius_km": 10}],
           "threats": [{"name": "scud", "missile": "scud-b", "launch": "pad", "aim": "city", "count": 2,
                        "spacing_s": 20}]}
    pw = shieldlab.load_world(scn)
    pch = chain.replay_run(pw, chain.preflight(pw, 2), 1, 0)
    view = report._end_game_view(pw, pch, 0, scene.threat_rows(pw, pch, 0))
    assert view is not None
    lon0, lon1, lat0, lat1 = view
    hit = (pch.engagements.run == 0) & np.isfinite(pch.engagements.intercept_time)
    la, lo, _ = earth.ecef_to_geodetic(np.asarray(pch.engagements.intercept_pos[hit], float))
    assert hit.any() and ((np.degrees(lo) > lon0) & (np.degrees(lo) < lon1)).all()
    assert ((np.degrees(la) > lat0) & (np.degrees(la) < lat1)).all() and lat0 < 37.02 < lat1
    assert max(lon1 - lon0, lat1 - lat0) < 1.0
    titles = []
    monkeypatch.setattr(report, "_png", lambda fig: titles.append(fig.axes[0].get_title()) or "")
    report._ground_map(pw, pch, 0, scene.threat_rows(pw, pch, 0), view=view)
    assert titles == ["close: run 0 over the ground: the end game close up"]


def test_a_defended_assets_ring_is_drawn_at_its_own_radius():
    """The run map and the footprint map drew every defended asset as one marker size, so
    Bucharest's 20 km and Constanța's 12 km looked alike; each now has its radius as a ring."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shieldlab import earth
    from shieldlab.analysis.maps import asset_ring

    fig, ax = plt.subplots()
    for r_km in (12.0, 20.0):
        line = asset_ring(ax, 44.43, 26.10, r_km, "#b7950b")
        lon, lat = line.get_data()
        d = earth.great_circle_distance(np.radians(44.43), np.radians(26.10), np.radians(lat), np.radians(lon))
        np.testing.assert_allclose(d, 1e3 * r_km, rtol=1e-9)
        assert line.get_linestyle() == ":"  # (dashed: a C2 node's sector)
    plt.close(fig)


def test_the_report_lists_the_defended_assets_and_why_threats_went_unengaged(raid):
    """The report gave the value lost but not the assets it was lost on (their radius and
    value), nor why a threat went without a shot: both as the run's own tables say them."""
    w, res, ch, doc = raid
    page = report.build(w, res, ch, 0)
    assert "<h2>Defended assets</h2>" in page
    hit = res.outcomes["asset_hit"]
    for a in w.assets:
        n = sum(1 for x in hit if x == a.name)
        assert f"<td>{a.name}</td><td>{a.radius / 1e3:g}</td><td>{float(a.value):g}</td><td>{n / RUNS:.2f}</td>" \
            in page
    assert "no-fire reasons (share of runs)" in page
    # every asset worth 1: the value lost is the assets hit again, and not printed twice
    assert {float(a.value) for a in w.assets} == {1.0} and "<td>value lost</td>" not in page
    for t in res.summary["per_threat"]:
        for why, share in (t.get("no_fire") or {}).items():
            assert f"{why} {share:.0%}" in page
    # every reason, not the first two: iskander-kaliningrad's third (not-threatening, 25 %) was
    # the scene run's own, and the table left it out
    import copy
    import dataclasses

    summary = copy.deepcopy(res.summary)
    reasons = {"out-of-envelope": 0.75, "judged-late": 0.25, "not-threatening": 0.25}
    summary["per_threat"][0]["no_fire"] = reasons
    page = report.build(w, dataclasses.replace(res, summary=summary), ch, 0)
    assert "<td>out-of-envelope 75%, judged-late 25%, not-threatening 25%</td>" in page
    # each code the table gives, in words under it (the report had left them to the user guide)
    import html

    from shieldlab.io.results import REASON_TEXT

    for code in reasons:
        assert f"<li><code>{code}</code>: {html.escape(REASON_TEXT[code])}</li>" in page
