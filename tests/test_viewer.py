"""The scene viewer and the report in a real browser: Playwright driving Debian's chromium
(``make test`` installs it; never a browser of Playwright's own).

A run's results folder is served as ``shieldlab view`` serves it; the page must load the
scene on its offline globe (the canvas is not blank), list the scene's threats, fly the
camera to a threat when its row is clicked and show its outcome; the report must open from
disk with its images.  With ``SHIELDLAB_SCREENSHOTS=1`` the tests also write the README's
pictures (docs/images/viewer.png and docs/images/report.png).

A row is clicked by dispatching the click event its handler listens for: Playwright's pointer
click first waits for the row to hold still over animation frames, which took 1.4 to 11 s a
click under software WebGL (the handler's own work, 2.4 s with the camera's flight).
"""

import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
#: Chromium's flags on these machines: headless, software WebGL, no calls home.
ARGS = ["--headless", "--no-sandbox", "--enable-unsafe-swiftshader", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"
SHOTS = os.environ.get("SHIELDLAB_SCREENSHOTS") == "1"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    from shieldlab.cli import main

    d = tmp_path_factory.mktemp("viewer") / "run"
    # the README's pictures are of its tour's run (100 runs, seed 1); the checks need a few runs
    runs, seed = ("100", "1") if SHOTS else ("4", "2")
    assert main(["run", "epaa-phase-1", "--runs", runs, "--seed", seed, "--out", str(d), "-q"]) == 0
    return d


@pytest.fixture(scope="module")
def page(browser, results):
    from shieldlab.io import serve

    srv = serve.start(results)  # the built viewer (make viewer): its absence fails here, loudly
    # a smaller page renders faster in software WebGL; the README's picture is taken larger
    pg = browser.new_page(viewport={"width": 1400, "height": 850} if SHOTS else {"width": 1000, "height": 640})
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    outside: list[str] = []
    pg.on("request", lambda r: outside.append(r.url) if not r.url.startswith((srv.url, "data:", "blob:")) else None)
    pg.goto(srv.url + "?play=0")
    pg.wait_for_function("window.shieldlab && (window.shieldlab.ready || window.shieldlab.error)", timeout=90_000)
    pg.wait_for_timeout(1500)  # tiles and entities drawn
    yield pg, errors, outside
    pg.close()
    srv.stop()


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), float)


def test_the_viewer_loads_the_scene_on_an_offline_globe(page, results):
    pg, errors, outside = page
    assert pg.evaluate("window.shieldlab.error") is None, pg.evaluate("window.shieldlab.error")
    assert not errors, errors
    assert not outside, outside[:5]  # nothing asked of the network: imagery and code are local
    globe = pg.locator("#globe canvas").first
    img = _pixels(globe.screenshot())
    # not blank: the globe and its imagery vary across the canvas, and show colour (land, sea)
    assert img.std() > 20.0 and np.ptp(img.reshape(-1, 3), axis=0).min() > 60
    assert (np.abs(img[..., 2] - img[..., 0]) > 30).mean() > 0.05
    doc = json.loads((results / "scene.czml").read_text())
    threats = [p for p in doc if p.get("properties", {}).get("kind") == "threat"]
    rows = pg.locator("#threats li")
    assert rows.count() == len(threats) == 6
    assert [rows.nth(i).get_attribute("data-threat") for i in range(rows.count())] == [p["name"] for p in threats]
    assert [rows.nth(i).get_attribute("data-outcome") for i in range(rows.count())] == \
        [p["properties"]["outcome"] for p in threats]
    # the key names a kill and a miss only where the run has one
    key = pg.locator("#legend").inner_text()
    results_ = {p["properties"]["killed"] for p in doc if p.get("properties", {}).get("kind") == "intercept"}
    assert ("kill (intercept point)" in key) == (True in results_)
    assert ("\nmiss" in "\n" + key) == (False in results_)
    impacts = any(p.get("properties", {}).get("kind") == "impact" for p in doc)
    assert ("impact (in the threat's colour)" in key) == impacts
    # the Aegis ship's radar and battery share a spot: one name with a count, the battery's
    assert "aegis-ship-sm3 +1" in [n["text"] for n in pg.evaluate("window.shieldlab.names")]
    # the opening view holds every flight's start and end and every site inside the canvas, with
    # room for their names (zoomTo's fit had left Tabriz on the right edge, its name cut)
    assert pg.evaluate("window.shieldlab.framed()")
    if SHOTS:
        IMAGES.mkdir(parents=True, exist_ok=True)
        pg.locator("#threats li").nth(2).dispatch_event("click")
        pg.wait_for_function("!window.shieldlab.flying", timeout=30_000)
        pg.wait_for_timeout(1500)  # tiles
        pg.screenshot(path=str(IMAGES / "viewer.png"))


def test_clicking_a_threat_flies_to_it_and_shows_its_outcome(page, results):
    pg, errors, _ = page
    doc = json.loads((results / "scene.czml").read_text())
    threats = [p for p in doc if p.get("properties", {}).get("kind") == "threat"]
    cam = "(() => { const c = window.shieldlab.viewer.camera.positionWC; return [c.x, c.y, c.z]; })()"
    for i in (0, len(threats) - 1):
        before = np.array(pg.evaluate(cam))
        pg.locator("#threats li").nth(i).dispatch_event("click")
        pg.wait_for_function(f"window.shieldlab.selected === {json.dumps(threats[i]['name'])} "
                             "&& !window.shieldlab.flying", timeout=30_000)  # the camera's flight ended
        after = np.array(pg.evaluate(cam))
        assert np.linalg.norm(after - before) > 50e3  # the camera moved
        details = pg.locator("#details")
        assert details.is_visible()
        assert details.get_attribute("data-outcome") == threats[i]["properties"]["outcome"]
        assert threats[i]["name"] in details.inner_text()
        # its end in UTC, and in seconds after the epoch as the tables give it
        end = threats[i]["availability"].split("/")[1][:19].replace("T", " ")
        assert f"{end} UTC (t = " in details.inner_text()
        # the camera is near the threat: within the 1,600 km offset (plus the flight's altitude)
        pos = np.asarray(threats[i]["position"]["cartesian"]).reshape(-1, 4)[:, 1:]
        assert np.min(np.linalg.norm(pos - after, axis=1)) < 2.5e6
        # how far it looks from: 1.2 times the flight's span (the farthest it gets from its
        # start, sampled a hair inside its ends), between 250 and 1,600 km (a Scud's 270 km
        # flight was a 50-pixel speck from the old fixed 1,600 km)
        span = np.linalg.norm(pos - pos[0], axis=1).max()
        assert pg.evaluate("window.shieldlab.range") == pytest.approx(min(max(1.2 * span, 2.5e5), 1.6e6), rel=5e-3)
        assert pg.evaluate("window.shieldlab.viewer.selectedEntity.name") == threats[i]["name"]
    assert not errors, errors


def test_moving_threats_names_are_not_printed_over_each_other(page, results):
    """Two minutes into the raid the salvos fly close together seen from afar: one name
    each such group, with the count of the others ("sejjil-athens#1 +2"), no two names'
    boxes overlapping, and every threat in the air counted once."""
    pg, errors, _ = page
    pg.evaluate("(async () => { const v = window.shieldlab.viewer; await v.zoomTo(v.dataSources.get(0)); "
                "v.clock.currentTime = Cesium.JulianDate.addSeconds(v.clock.startTime, 120, new Cesium.JulianDate()); "
                "v.scene.requestRender(); })()")
    pg.wait_for_timeout(1500)
    names = pg.evaluate("window.shieldlab.names")
    in_air = pg.evaluate("(() => { const v = window.shieldlab.viewer; const t = v.clock.currentTime; "
                         "return v.dataSources.get(0).entities.values.filter((e) => e.properties && "
                         "e.properties.kind && e.properties.kind.getValue(t) === 'threat' "
                         "&& e.isAvailable(t)).length; })()")
    boxes = [n["box"] for n in names]
    assert all(b["x1"] - b["x0"] > 50 and b["y1"] - b["y0"] > 13 for b in boxes)  # a name with its count
    for i, a in enumerate(boxes):  # no two names' boxes overlap, of any kind
        for b in boxes[:i]:
            assert not (a["x0"] < b["x1"] and b["x0"] < a["x1"] and a["y0"] < b["y1"] and b["y0"] < a["y1"]), (a, b)
    threats = [n for n in names if n["kind"] == "threat"]  # (a threat's name comes first)
    assert in_air >= 3 and len(threats) < in_air and any(n["others"] for n in threats)
    assert sum(1 + n["others"] for n in threats) == in_air  # every threat in the air counted once
    assert not errors, errors


def test_the_report_opens_from_disk_with_its_images(browser, results, tmp_path):
    # a copy elsewhere: the page needs nothing beside it
    copy = tmp_path / "report.html"
    shutil.copy(results / "report.html", copy)
    pg = browser.new_page(viewport={"width": 1100, "height": 900})
    requests: list[str] = []
    pg.on("request", lambda r: requests.append(r.url))
    pg.goto(copy.as_uri())
    pg.wait_for_load_state("load")
    imgs = pg.locator("img")
    assert imgs.count() >= 5
    sizes = pg.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
    assert all(ok and w > 200 and h > 100 for ok, w, h in sizes), sizes
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    assert "epaa-phase-1" in pg.title()
    if SHOTS:
        IMAGES.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(IMAGES / "report.png"))
    pg.close()


def _open(browser, d):
    from shieldlab.io import serve

    srv = serve.start(d)
    pg = browser.new_page(viewport={"width": 1000, "height": 640})
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(srv.url + "?play=0")
    pg.wait_for_function("window.shieldlab && (window.shieldlab.ready || window.shieldlab.error)", timeout=90_000)
    return srv, pg, errors


@pytest.fixture(scope="module")
def air_page(browser, tmp_path_factory):
    """The viewer over an air-picture run (turkey-airspace-2015): fliers by fate, fighters, airspace."""
    from shieldlab.cli import main

    d = tmp_path_factory.mktemp("viewer-air") / "run"
    assert main(["run", "turkey-airspace-2015", "--runs", "2", "--seed", "1", "--out", str(d), "-q"]) == 0
    srv, pg, errors = _open(browser, d)
    yield pg, errors, d
    pg.close()
    srv.stop()


def test_the_viewer_shows_aircraft_by_their_fate(air_page):
    pg, errors, d = air_page
    assert pg.evaluate("window.shieldlab.error") is None, pg.evaluate("window.shieldlab.error")
    doc = json.loads((d / "scene.czml").read_text())
    fliers = [p for p in doc if p.get("properties", {}).get("kind") == "threat"]
    rows = pg.locator("#threats li")
    assert rows.count() == len(fliers) == 2
    fates = [rows.nth(i).get_attribute("data-outcome") for i in range(rows.count())]
    assert fates == [p["properties"]["outcome"] for p in fliers]
    assert set(fates) <= {"shot down", "reached its target", "came down", "left the scene"}
    assert "fliers" in pg.locator("#status").inner_text()
    legend = pg.locator("#legend").inner_text()
    assert "policed airspace" in legend and "fighter patrol station or alert base" in legend
    # the 24 November flight is 52 days after the clock's start: a click moves the clock into it
    i = [p["name"] for p in fliers].index("su-24-24-nov")
    rows.nth(i).dispatch_event("click")
    pg.wait_for_function("window.shieldlab.selected === 'su-24-24-nov' && !window.shieldlab.flying", timeout=30_000)
    now = pg.evaluate("Cesium.JulianDate.toIso8601(window.shieldlab.viewer.clock.currentTime)")
    assert now.startswith("2015-11-24")
    assert "su-24m" in pg.locator("#details").inner_text()
    assert "f-16-patrol" in pg.locator("#details").inner_text()  # by whom: the fighter that shot
    # the clock's range moved there too: played, the clock stays in that incident (its range
    # had spanned 3 October alone, and a playing clock looped back there at the next tick)
    iso = "Cesium.JulianDate.toIso8601(window.shieldlab.viewer.clock.{})"
    assert pg.evaluate(iso.format("startTime")).startswith("2015-11-24")
    assert pg.evaluate(iso.format("stopTime")).startswith("2015-11-24")
    pg.evaluate("window.shieldlab.viewer.clock.shouldAnimate = true")
    pg.wait_for_timeout(2000)
    assert pg.evaluate(iso.format("currentTime")).startswith("2015-11-24")
    # and back: the other incident's flier brings the clock and its range back to 3 October
    rows.nth(1 - i).dispatch_event("click")
    pg.wait_for_function("window.shieldlab.selected === 'su-30-3-oct' && !window.shieldlab.flying", timeout=30_000)
    pg.wait_for_timeout(1000)
    assert all(pg.evaluate(iso.format(k)).startswith("2015-10-03") for k in ("currentTime", "startTime", "stopTime"))
    pg.evaluate("window.shieldlab.viewer.clock.shouldAnimate = false")
    assert not errors, errors


def test_the_viewer_tells_a_shelling_in_its_own_words(browser, tmp_path):
    """Akcakale 2012: the header had read "6 threats, 0 leaked · 0 salvos · 0 batteries" of
    six rounds every one of which landed, and the key named only the radar beside the
    estimates, their ellipses and the weapons drawn."""
    from shieldlab.cli import main

    d = tmp_path / "run"
    assert main(["run", "akcakale-2012", "--runs", "2", "--seed", "1", "--out", str(d), "-q"]) == 0
    srv, pg, errors = _open(browser, d)
    try:
        assert pg.evaluate("window.shieldlab.error") is None, pg.evaluate("window.shieldlab.error")
        doc = json.loads((d / "scene.czml").read_text())
        rounds = [p for p in doc if p.get("properties", {}).get("kind") == "threat"]
        located = sum(p["properties"]["outcome"] == "located" for p in rounds)
        status = pg.locator("#status").inner_text()
        assert status.startswith(f"{len(rounds)} rounds, {located} located · "), status
        assert "leaked" not in status and "salvo" not in status and "batter" not in status, status
        assert "2 weapons" in status, status
        assert pg.locator("#list-title").text_content() == "Rounds"
        key = pg.locator("#legend").inner_text()
        assert "estimated origin and its 95 % ellipse" in key and "weapon" in key, key
        # and the border: which side each round and estimate is on (the scene had none)
        assert "border" in key and any(p.get("properties", {}).get("kind") == "territory" for p in doc)
        assert not errors, errors
    finally:
        pg.close()
        srv.stop()
    # its report's tables fit the page's column (the fourteen columns of "where the radars put
    # each round's origin" ran 40 px past it)
    rp = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        rp.goto((d / "report.html").as_uri())
        widths = rp.evaluate("[...document.querySelectorAll('table')].map(t => t.getBoundingClientRect().right)")
        right = rp.evaluate("(() => { const b = document.body.getBoundingClientRect(); "
                            "return b.right - parseFloat(getComputedStyle(document.body).paddingRight); })()")
        assert widths and max(widths) <= right + 0.5, (widths, right)
    finally:
        rp.close()


MIXED = """name: mixed
epoch: 2024-04-01T00:00:00Z
sites:
  patriot-riyadh: {lat: 24.75, lon: 46.80, alt_m: 600}
  shiraz: {lat: 29.60, lon: 52.50}
  bushehr: {lat: 28.95, lon: 50.90}
sensors:
  - {name: mpq-riyadh, type: an-mpq-65, site: patriot-riyadh, boresight_az_deg: 60, system: gulf}
  - {name: awacs, type: e-3a-apy-2, site: {lat: 26.8, lon: 49.0, alt_m: 9000}, system: gulf}
early_warning:
  - {name: sbirs-east, type: sbirs-geo, lon_deg: 57.0, system: gulf}
batteries:
  - {name: pac-riyadh, interceptor: pac-3-mse, site: patriot-riyadh, rounds: 4, system: gulf, radar: mpq-riyadh}
assets:
  - {name: riyadh, site: {lat: 24.71, lon: 46.68}, radius_km: 20}
threats:
  - {name: shahab-riyadh, missile: shahab-3, launch: shiraz, aim: riyadh}
flights:
  - name: lacm-riyadh
    type: generic-lacm
    side: Iran
    start_time_s: 0
    route: [bushehr, {lat: 24.71, lon: 46.68}]
"""


def test_a_mixed_scene_opens_on_the_raid_and_counts_each_kind_apart(browser, tmp_path):
    """A geostationary early-warning satellite (36,000 km up) in the scene: the opening view had
    framed it, the raid one dot on the globe; and a cruise missile that reached its target was
    a "threat" of the header's count but not "leaked"."""
    from shieldlab.cli import main

    scn = tmp_path / "mixed.yaml"
    scn.write_text(MIXED)
    d = tmp_path / "run"
    assert main(["run", str(scn), "--runs", "2", "--seed", "1", "--out", str(d), "-q"]) == 0
    srv, pg, errors = _open(browser, d)
    try:
        assert pg.evaluate("window.shieldlab.error") is None, pg.evaluate("window.shieldlab.error")
        # the opening view: the launch point and the target fill a good part of the canvas
        pts = pg.evaluate("""() => {
            const v = window.shieldlab.viewer;
            return [[29.60, 52.50], [24.71, 46.68]].map(([la, lo]) => {
                const q = Cesium.SceneTransforms.worldToWindowCoordinates(v.scene,
                    Cesium.Cartesian3.fromDegrees(lo, la, 0));
                return q ? [q.x, q.y] : null; }); }""")
        assert all(pts), pts
        assert np.hypot(pts[0][0] - pts[1][0], pts[0][1] - pts[1][1]) > 150, pts
        status = pg.locator("#status").inner_text()
        doc = json.loads((d / "scene.czml").read_text())
        fate = next(p["properties"]["outcome"] for p in doc if p.get("name") == "lacm-riyadh")
        assert status.startswith("1 threat, "), status
        assert "1 flier, " in status, status
        assert ("1 reached its target" in status) == (fate == "reached its target"), (status, fate)
        assert pg.locator("#list-title").text_content() == "Threats and fliers"
        assert not errors, errors
    finally:
        pg.close()
        srv.stop()
