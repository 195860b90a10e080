"""The air picture's report: its run map laid out on the page."""

from __future__ import annotations

import numpy as np
import pytest

import shieldlab
from shieldlab.engine.air import simulate_air
from shieldlab.io import air_report


@pytest.mark.parametrize("preset", ["kalibr-caspian-2015", "turkey-airspace-2015"])
def test_the_run_map_holds_its_legend_and_axes_on_the_page(preset, monkeypatch):
    """The overview's legend stands right of the map, inside the page, and the latitude axis's
    label is on the page too: a 12-inch page held a 9-inch map and a 3.5-inch legend, so the
    legend ran off the page's right edge and the layout cut the latitude label on the left
    (kalibr-caspian-2015)."""
    world = shieldlab.load_world(preset)
    res = simulate_air(world, runs=2, seed=1)
    figures = []
    real = air_report._png

    def keep(fig, **kw):
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        ax = fig.axes[0]
        figures.append((fig.bbox, ax.get_legend().get_window_extent(r), ax.yaxis.label.get_window_extent(r),
                        ax.get_window_extent(r)))
        return real(fig, **kw)

    monkeypatch.setattr(air_report, "_png", keep)
    air_report.build(world, res, 0)
    page, legend, ylabel, axes = figures[0]  # the overview comes first
    assert legend.x0 >= axes.x1 - 1 and legend.x1 <= page.x1 + 1 and legend.y0 >= page.y0 - 1
    assert ylabel.x0 >= page.x0 - 1 and ylabel.width > 0


def test_an_interval_of_negative_numbers_reads_without_a_dash_between_minuses():
    """The air tables printed a margin's interval as "(-0.77–-0.68)": a dash between two minus
    signs; across zero or below it the interval reads "(a to b)"."""
    from shieldlab.io.air_tables import mean_text

    assert mean_text({"mean": -0.72, "ci": [-0.77, -0.68]}, "{:.2f}") == "-0.72 (-0.77 to -0.68)"
    assert mean_text({"mean": 0.1, "ci": [-0.2, 0.4]}, "{:.2f}") == "0.10 (-0.20 to 0.40)"
    assert mean_text({"mean": 1.5, "ci": [1.0, 2.0]}, "{:.1f}") == "1.5 (1.0–2.0)"


def test_the_run_map_frames_the_flights_and_the_radars_that_reported_them(monkeypatch):
    """kalibr-caspian-2015: Armavir (Russia's early-warning radar) reports none of the
    cruise missiles, and the map was drawn out to Armavir at 45 N, the raid in its lower left
    corner; the frame now holds the flights and the radars that reported one, no more."""
    world = shieldlab.load_world("kalibr-caspian-2015")
    res = simulate_air(world, runs=2, seed=1)
    reporters = {d.sensor for er in res.scene for d in er.detections if d.detected.any()}
    assert "armavir" not in reporters and {"mardin", "peace-eagle"} <= reporters
    limits = []
    real = air_report._png

    def keep(fig, **kw):
        limits.append((fig.axes[0].get_xlim(), fig.axes[0].get_ylim()))
        return real(fig, **kw)

    monkeypatch.setattr(air_report, "_png", keep)
    air_report.build(world, res, 0)
    (x0, x1), (y0, y1) = limits[0]
    armavir = next(s.radar for s in world.sensors if s.radar.name == "armavir")
    assert y1 < np.degrees(armavir.lat)  # left off the frame
    for er in res.scene:  # every flier's path inside it
        a = er.paths.active
        assert (np.degrees(er.paths.lat[a]) <= y1).all() and (np.degrees(er.paths.lon[a]) >= x0).all()
    for s in world.sensors:
        if s.radar.name in reporters:
            assert x0 <= np.degrees(s.radar.lon) <= x1 and y0 <= np.degrees(s.radar.lat) <= y1


def test_a_crossing_close_up_is_framed_on_the_crossing_not_on_a_wide_floor():
    # the Su-24's last 50 s near the border (~12 km of path) and the patrol's release point
    lats = np.array([35.852, 35.83, 35.80, 35.7995])
    lons = np.array([36.07, 36.14, 36.26, 36.265])
    lon0, lon1, lat0, lat1 = air_report.crossing_frame(lats, lons)
    coslat = np.cos(np.radians(35.83))
    width_km, height_km = (lon1 - lon0) * 111.2 * coslat, (lat1 - lat0) * 111.2
    assert lon0 < lons.min() and lon1 > lons.max() and lat0 < lats.min() and lat1 > lats.max()
    assert 18.0 < width_km < 30.0  # the path with a fifth on each side: a 0.3 km incursion shows
    assert width_km / height_km == pytest.approx(2.0, rel=1e-3)  # no thinner than 2:1
    # a crossing a few hundred metres long still gets a frame of ~6.7 km, square
    lon0, lon1, lat0, lat1 = air_report.crossing_frame(np.array([35.85, 35.851]), np.array([36.1, 36.101]))
    assert (lat1 - lat0) * 111.2 == pytest.approx(6.67, abs=0.01)
    assert (lon1 - lon0) * np.cos(np.radians(35.85)) == pytest.approx(lat1 - lat0, rel=1e-3)


def test_the_run_map_marks_and_names_where_the_fliers_come_from_and_go_to(monkeypatch):
    """kalibr-caspian-2015: the ships' launch point and the eleven targets had no mark; each
    named first and last waypoint of a route is marked (a triangle, a circle) and named once,
    by its own point."""
    world = shieldlab.load_world("kalibr-caspian-2015")
    res = simulate_air(world, runs=2, seed=1)
    texts = []
    real = air_report._png

    def keep(fig, **kw):
        texts.append({t.get_text(): t.xy for t in fig.axes[0].texts if hasattr(t, "xy")})
        return real(fig, **kw)

    monkeypatch.setattr(air_report, "_png", keep)
    air_report.build(world, res, 0)
    names = texts[0]
    ends = {}
    for f in world.flights:
        route = world.scenario.flights[f.entry].route
        ends[route[0]] = (np.degrees(f.route_lon[0]), np.degrees(f.route_lat[0]))
        ends[route[-1]] = (np.degrees(f.route_lon[-1]), np.degrees(f.route_lat[-1]))
    assert "caspian-launch" in ends and len(ends) >= 10
    for wp, at in ends.items():
        assert wp in names, wp
        assert names[wp] == pytest.approx(at), wp


def test_the_run_maps_names_keep_off_the_routes_where_they_can(monkeypatch):
    """kalibr-caspian-2015's 26 routes converge on eleven targets: the names of the route ends
    were placed without regard to the routes (raqqa-2 written under the red lines).  They keep
    off the routes' lines where one of their places allows: the names cover less of the lines
    (counted in :func:`maps.line_boxes`' boxes, stacked routes counted each) than the same map
    named without that regard."""
    from shieldlab.analysis import maps

    world = shieldlab.load_world("kalibr-caspian-2015")
    res = simulate_air(world, runs=1, seed=1)
    ends = {w for f in world.flights for w in (world.scenario.flights[f.entry].route[0],
                                               world.scenario.flights[f.entry].route[-1]) if isinstance(w, str)}
    covered: list[int] = []
    real_png, real_names = air_report._png, maps.name_markers

    def keep(fig, **kw):
        ax = fig.axes[0]
        routes = [np.column_stack(ln.get_data()) for ln in ax.lines
                  if ln.get_linewidth() == 1.6 and len(ln.get_xdata()) > 2]
        lines = maps.line_boxes(ax, routes)
        r = fig.canvas.get_renderer()
        n = 0
        for t in ax.texts:
            if t.get_text() in ends:
                b = t.get_window_extent(r)
                x0, y0, x1, y1 = lines.T
                n += int(np.sum((b.x0 < x1) & (x0 < b.x1) & (b.y0 < y1) & (y0 < b.y1)))
        covered.append(n)
        return real_png(fig, **kw)

    monkeypatch.setattr(air_report, "_png", keep)
    air_report.build(world, res, 0)
    first = len(covered)  # (the run map is each page's first figure)
    monkeypatch.setattr(maps, "name_markers", lambda fig, ax, marks, avoid=(), shapes=None:
                        real_names(fig, ax, marks, (), shapes))
    air_report.build(world, res, 0)
    regard, without = covered[0], covered[first]
    assert regard < 0.9 * without, (regard, without)


def test_the_many_boxes_index_answers_as_testing_every_box():
    """maps._ManyBoxes (the points along a map's lines, sorted by their left edge) must give
    the answer of testing every box, boxes of any width and a box with a nan among them (it
    had made every answer False)."""
    from shieldlab.analysis import maps

    rng = np.random.default_rng(3)
    lo = rng.uniform(0, 500, (2000, 2))
    boxes = np.column_stack([lo, lo + rng.uniform(0.5, 40, (2000, 2))])
    boxes[7] = np.nan
    extra = [(100.0, 100.0, 120.0, 110.0)]
    index = maps._ManyBoxes(boxes).plus(extra)
    ok = boxes[np.isfinite(boxes).all(axis=1)]
    for q in rng.uniform(0, 520, (3000, 2)):
        box = (q[0], q[1], q[0] + rng.uniform(1, 60), q[1] + rng.uniform(1, 20))
        every = bool(np.any((box[0] < ok[:, 2]) & (ok[:, 0] < box[2]) & (box[1] < ok[:, 3]) & (ok[:, 1] < box[3])))
        every |= maps._meets(box, extra[0])
        assert index.meets(box) == every, box
    assert maps._ManyBoxes(np.array([[0, 0, 3, 3], [np.nan] * 4])).meets((1, 1, 2, 2))


def test_a_small_share_of_a_flight_is_not_printed_as_nothing():
    """An airborne radar reported a cruise missile on 0.2 % of its scans: two decimals printed
    0.00 beside P(ever reported) 0.70; three decimals where two would read 0.00."""
    from shieldlab.io.air_tables import share_format

    assert share_format(0.002).format(0.002) == "0.002"
    assert share_format(0.0).format(0.0) == "0.00" and share_format(None) == "{:.2f}"
    assert share_format(0.45).format(0.45) == "0.45" and share_format(0.006).format(0.006) == "0.01"


def test_the_run_map_marks_a_kill_with_a_star_as_its_close_up_does(monkeypatch):
    """The overview marked the Su-24M's end with the cross of a flier that came down, its
    crossing's close-up with a star: a kill is a star on both, and the legend says which."""
    world = shieldlab.load_world("turkey-airspace-2015")
    res = simulate_air(world, runs=2, seed=1)
    legends = []
    real = air_report._png

    def keep(fig, **kw):
        leg = fig.axes[0].get_legend()
        legends.append({t.get_text(): h for t, h in zip(leg.get_texts(), leg.legend_handles)} if leg else {})
        return real(fig, **kw)

    monkeypatch.setattr(air_report, "_png", keep)
    air_report.build(world, res, 0)
    overview = legends[0]
    assert "shot down (where)" in overview and overview["shot down (where)"].get_marker() == "*"
    assert not any("/" in k for k in overview)


def test_the_run_maps_radar_outlines_are_where_the_sensor_sees_the_lowest_flier(monkeypatch):
    """kalibr-caspian-2015: a circle of the Pd 0.5 range alone put the TPY-2's 1,300 km round
    Kürecik, over the whole route of missiles it never saw (from its hill top a Kalibr at 20 m
    is always below its 0.5 deg elevation floor), and Armavir's showed as an unnamed arc with
    its radar off the map.  Each outline is where the coverage map's test (the engine's field
    of regard and the Pd 0.5 slant range) holds for a target at the lowest height a flier
    keeps; a radar that sees no such target is named blind in the title, as one off the map is."""
    from shieldlab.analysis.coverage import radar_covers
    from shieldlab.io.air_report import _reach_outline

    world = shieldlab.load_world("kalibr-caspian-2015")
    res = simulate_air(world, runs=2, seed=1)
    kept = []
    real = air_report._png

    def keep(fig, **kw):
        kept.append((fig.axes[0].get_title(), [ln for ln in fig.axes[0].get_lines() if ln.get_linestyle() == "--"]))
        return real(fig, **kw)

    monkeypatch.setattr(air_report, "_png", keep)
    air_report.build(world, res, 0)
    title, outlines = kept[0]
    title = " ".join(title.split())
    assert "at 20 m" in title and "blind at 20 m: kurecik-tpy2" in title and "off the map: armavir" in title
    radars = {s.radar.name: s.radar for s in world.sensors}
    rcs = min(f.spec.rcs_m2 for f in world.flights)
    tpy2 = radars["kurecik-tpy2"]
    assert _reach_outline(tpy2, tpy2.spec.detection_range_km(rcs), 20.0)[0].size == 0
    seeing = [n for n in radars if n != "armavir" and n not in title]
    assert seeing and len(outlines) == len(seeing)
    # an outline's points are seen, and a little farther out is not (or is past the Pd 0.5 range)
    rd = radars["mardin"]
    r_km = rd.spec.detection_range_km(rcs)
    la, lo = _reach_outline(rd, r_km, 20.0)
    d = np.asarray(shieldlab.earth.great_circle_distance(rd.lat, rd.lon, la, lo))
    on = d > 1.0
    assert on.any()
    assert radar_covers(rd, la[on], lo[on], 20.0, 1e3 * r_km).all()
    la2, lo2 = shieldlab.earth.destination(rd.lat, rd.lon, shieldlab.earth.initial_bearing(rd.lat, rd.lon, la[on],
                                                                                           lo[on]), d[on] + 5e3)
    assert not radar_covers(rd, la2, lo2, 20.0, 1e3 * r_km).any()


def test_the_crossing_close_up_holds_the_kill_and_the_maps_a_scale(monkeypatch):
    """turkey-airspace-2015: the Su-24M's close-up framed the crossing and the release point but
    not the hit, ~5 km west, so its star and legend entry were off the map; both air maps had
    axes in degrees and no measure of distance; and the overview marked the Su-30's start
    (a named site) but not the Su-24M's (a point), its flights told apart by colour alone."""
    world = shieldlab.load_world("turkey-airspace-2015")
    res = simulate_air(world, runs=1, seed=1)
    figs = []
    real = air_report._png

    def keep(fig, **kw):
        ax = fig.axes[0]
        figs.append((ax.get_xlim(), ax.get_ylim(), [(ln.get_marker(), ln.get_xydata()) for ln in ax.lines],
                     [t.get_text() for t in ax.texts], ax.get_title()))
        return real(fig, **kw)

    monkeypatch.setattr(air_report, "_png", keep)
    air_report.build(world, res, 0)
    close = [f for f in figs if f[4].startswith("su-24-24-nov: crossing")]
    assert len(close) == 1
    (x0, x1), (y0, y1), lines, texts, _ = close[0]
    stars = [xy for marker, xy in lines if marker == "*"]
    assert len(stars) == 1 and x0 <= stars[0][0, 0] <= x1 and y0 <= stars[0][0, 1] <= y1
    for *_, texts, title in figs:
        assert any(t.endswith(" km") for t in texts), title  # the scale bar's label
    overview = figs[0][3]
    assert "su-24-24-nov" in overview and "hmeimim (su-30-3-oct)" in overview


def test_a_closer_map_shows_where_the_radars_reported_the_fliers(monkeypatch):
    """kalibr-caspian-2015: on the whole map the 26 routes converge over the report dots and
    hide them (where the radars saw the missiles is the scenario's question); a second map
    frames the reports, their dots over thinner routes.  turkey-airspace-2015's overview is
    close enough already: no second map there."""
    frames = []
    real = air_report._png

    def keep(fig, **kw):
        ax = fig.axes[0]
        dots = [ln for ln in ax.lines if ln.get_marker() == "."]
        routes = [ln for ln in ax.lines if ln.get_marker() in ("None", "", None) and ln.get_linestyle() == "-"
                  and len(ln.get_xdata()) > 50]  # (the flown paths: solid, many points; not the outlines)
        frames.append((ax.get_title(), ax.get_xlim(), ax.get_ylim(), dots, routes))
        return real(fig, **kw)

    monkeypatch.setattr(air_report, "_png", keep)
    world = shieldlab.load_world("kalibr-caspian-2015")
    air_report.build(world, simulate_air(world, runs=1, seed=1), 0)
    assert len(frames) == 2 and "where the radars reported the fliers" in frames[1][0]
    (wide, wx, wy, _, _), (_, cx, cy, dots, routes) = frames
    assert (cx[1] - cx[0]) * (cy[1] - cy[0]) <= (wx[1] - wx[0]) * (wy[1] - wy[0]) / 5.0
    assert dots and routes and min(d.get_zorder() for d in dots) > max(r.get_zorder() for r in routes)
    for d in dots:  # every report inside the closer frame
        x, y = d.get_xdata(), d.get_ydata()
        assert (x >= cx[0]).all() and (x <= cx[1]).all() and (y >= cy[0]).all() and (y <= cy[1]).all()
    world = shieldlab.load_world("turkey-airspace-2015")
    res = simulate_air(world, runs=1, seed=1)
    rows = air_report.run_rows(res.outcomes, 0)
    assert air_report.where_reported_frame(world, res, rows, air_report.overview_frame(world, res)) is None


def test_a_route_across_the_antimeridian_is_drawn_as_one_line(monkeypatch, tmp_path):
    """A flight from Anadyr (177.5 E) to St Lawrence Island (170 W): the overview spanned the
    whole world, -180 to 180, a strip labelled with Norway's and Siberia's towns, and the map of
    the reports drew a line round the globe.  The frame is now a few degrees about the route,
    past 180 on its east side, and every line drawn is continuous (no step near 360 degrees)."""
    path = tmp_path / "bering.yaml"
    path.write_text("""name: bering
epoch: 2023-06-01T10:00:00Z
sites:
  gambell-radar: {lat: 63.78, lon: -171.74, alt_m: 100}
  cap: {lat: 64.5, lon: -166.0, alt_m: 7500}
sensors:
  - {name: gambell, type: air-surveillance-ground, site: gambell-radar, system: usa}
flights:
  - name: bear-escort
    type: su-30sm
    side: Russia
    route:
      - {lat: 64.73, lon: 177.50, alt_m: 8000}
      - {lat: 64.0, lon: -174.0}
      - {lat: 63.3, lon: -170.0}
      - {lat: 62.0, lon: -172.0}
air_policing:
  country: United States of America
  side: usa
  patrols:
    - {name: f16-cap, type: f-16c, site: cap}
""")
    world = shieldlab.load_world(str(path))
    res = simulate_air(world, runs=1, seed=1)
    lon0, lon1, lat0, lat1 = air_report.overview_frame(world, res)
    assert 175.0 < lon0 < 177.5 and 190.0 < lon1 < 192.0 and lon1 - lon0 < 20.0
    lines = []
    real = air_report._png

    def keep(fig, **kw):
        lines.extend(ln.get_xdata() for ln in fig.axes[0].get_lines() if len(ln.get_xdata()) > 1)
        return real(fig, **kw)

    monkeypatch.setattr(air_report, "_png", keep)
    air_report.build(world, res, 0)
    assert lines and all(np.abs(np.diff(np.asarray(x, float))).max(initial=0.0) < 30.0 for x in lines)


def test_a_mixed_report_ends_with_its_closing_line_and_shows_no_empty_table(tmp_path):
    """Threats and a cruise missile in one scenario: the air picture's sections were added after
    the ballistic page's closing line ("Made by shieldlab ..."), which then stood mid-page, and
    "where the cruise missiles came down" was a header without rows where none came down."""
    import re
    import sys
    from pathlib import Path

    from shieldlab.cli import main

    sys.path.insert(0, str(Path(__file__).parent))
    from test_viewer import MIXED

    scn = tmp_path / "mixed.yaml"
    scn.write_text(MIXED)
    d = tmp_path / "run"
    assert main(["run", str(scn), "--runs", "2", "--seed", "1", "--out", str(d), "-q"]) == 0
    page = (d / "report.html").read_text()
    assert page.count("Made by shieldlab") == 1
    assert page.index("The air picture") < page.index("Made by shieldlab")
    rows = [len(re.findall(r"<tr>", t)) for t in re.findall(r"<table.*?</table>", page, re.S)]
    assert rows and min(rows) >= 2, rows  # a header row and at least one row


def test_a_crossing_close_up_draws_every_shot_and_a_course_that_fired_none(monkeypatch, tmp_path):
    """A close-up drew the last shot alone (a patrol's missed first shot was nowhere) and no
    course for a fighter vectored that never fired (the Su-30's escort of 3 October); the hit's
    star stood at the flier's sample after the hit, a time step past its path's end."""
    from test_air_picture import INCURSION

    scenario = tmp_path / "incursion.yaml"
    scenario.write_text(INCURSION)
    figs = []
    real = air_report._png

    def keep(fig, **kw):
        ax = fig.axes[0]
        figs.append((ax.get_title(), [(ln.get_label(), ln.get_marker(), ln.get_xydata()) for ln in ax.lines]))
        return real(fig, **kw)

    monkeypatch.setattr(air_report, "_png", keep)
    world = shieldlab.load_world(str(scenario))
    res = simulate_air(world, runs=1, seed=1)
    air_report.build(world, res, 0)
    o = res.outcomes
    twice = [str(f) for f, n, k in zip(o["flight"], o["shots"], o["killed"], strict=True) if n == 2 and k]
    assert twice
    title, lines = next(f for f in figs if f[0].startswith(f"{twice[0]}: crossing"))
    released = [label for label, marker, _ in lines if marker == ">"]
    assert len(released) == 2
    assert released[0].endswith("(shot 1 of 2, missed)") and released[1].endswith("(shot 2 of 2)")
    # the star at the path's end: the flier's place at the hit
    path = next(xy for label, _, xy in lines if label.startswith(f"{twice[0]}: true path"))
    star = next(xy for _, marker, xy in lines if marker == "*")
    np.testing.assert_allclose(path[-1], star[0])
    # a fighter vectored that fired none: its course is drawn, and said to have fired none
    figs.clear()
    world = shieldlab.load_world("turkey-airspace-2015")
    res = simulate_air(world, runs=1, seed=1)
    air_report.build(world, res, 0)
    assert not res.outcomes["fired"][res.outcomes["flight"] == "su-30-3-oct"].any()
    _, lines = next(f for f in figs if f[0].startswith("su-30-3-oct: crossing"))
    assert any(label == "f-16-patrol course (it fired no shot)" for label, _, _ in lines)
