"""GeoJSON and KML exports (shieldlab.io.export), read back by real parsers: ``json`` with
shapely's ``shape`` for GeoJSON, fastkml for KML.  Every expected number comes from the run
or analysis exported (the engine's records, the result tables, the footprint's own area),
never from a constant.  Small cases: two runs of epaa-phase-1, a 0.5-degree footprint."""

import json
import math
import warnings
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, shape

from shieldlab import catalog, earth, load_world
from shieldlab.analysis import coverage as C
from shieldlab.analysis import footprint as F
from shieldlab.analysis.footprint import make_grid
from shieldlab.analysis.reach import analyse
from shieldlab.engine.montecarlo import simulate
from shieldlab.errors import InputError
from shieldlab.io import export as X

with warnings.catch_warnings():  # fastkml warns that lxml (pretty printing) is missing
    warnings.simplefilter("ignore")
    from fastkml import kml as fkml

RUN = 1  # the run exported: the second of two
R_KM = earth.R_EARTH_MEAN / 1e3


# --------------------------------------------------------------------------- readers
def read_geojson(path) -> list[dict]:
    """The features of an RFC 7946 file, each geometry checked: valid, lon/lat in range,
    [lon, lat] or [lon, lat, alt] positions, polygons' outer rings counter-clockwise."""
    doc = json.loads(path.read_text(encoding="utf-8"),
                     parse_constant=lambda c: pytest.fail(f"{c} in GeoJSON"))  # NaN/Infinity are not JSON
    assert doc["type"] == "FeatureCollection"
    for f in doc["features"]:
        assert f["type"] == "Feature"
        g = shape(f["geometry"])
        assert g.is_valid and not g.is_empty, f["properties"]["name"]
        xy = shapely.get_coordinates(g)
        assert (np.abs(xy[:, 0]) <= 180).all() and (np.abs(xy[:, 1]) <= 90).all()
        for p in getattr(g, "geoms", [g]):
            if p.geom_type == "Polygon":
                assert p.exterior.is_ccw and not any(h.is_ccw for h in p.interiors)
        f["shape"] = g
    return doc["features"]


def placemarks(obj, folder=None):
    """(folder name, Placemark) of every placemark under a fastkml object."""
    for f in getattr(obj, "features", []) or []:
        if type(f).__name__ == "Placemark":
            yield folder, f
        else:
            yield from placemarks(f, getattr(f, "name", folder))


def read_kml(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k = fkml.KML.parse(str(path), strict=True)
    (doc,) = k.features
    return doc, list(placemarks(doc))


def kml_data(pm) -> dict:
    return {d.name: d.value for d in pm.extended_data.elements} if pm.extended_data else {}


def equal_area_km2(geom) -> float:
    """Area [km^2] on the mean sphere of a lon/lat [deg] geometry whose edges are straight in
    lon/lat (grid cells): its area in Lambert's cylindrical equal-area projection."""
    return shapely.transform(geom, lambda xy: np.column_stack(
        [R_KM * np.radians(xy[:, 0]), R_KM * np.sin(np.radians(xy[:, 1]))])).area


def by_name(features, layer):
    return {f["properties"]["name"]: f for f in features if f["properties"]["layer"] == layer}


def coords(f) -> np.ndarray:
    return np.asarray(f["geometry"]["coordinates"], float)


def utc(epoch, t_s):
    return epoch + timedelta(seconds=float(t_s))


# --------------------------------------------------------------------------- a run
@pytest.fixture(scope="module")
def world():
    return load_world("epaa-phase-1")


@pytest.fixture(scope="module")
def sim(world):
    chunks = []
    res = simulate(world, runs=2, seed=1, on_chunk=chunks.append)
    return chunks[0], res


@pytest.fixture(scope="module")
def run_export(world, sim, tmp_path_factory):
    chunk, _ = sim
    fs = X.run_features(world, chunk, RUN, seed=1)
    paths = X.write(fs, tmp_path_factory.mktemp("run") / "run1", ["geojson", "kml"])
    assert [p.suffix for p in paths] == [".geojson", ".kml"]
    return fs, read_geojson(paths[0]), read_kml(paths[1])


def _row(res, threat):
    o = res.outcomes
    (i,) = np.flatnonzero((o["run"] == RUN) & (o["threat"] == threat))
    return {k: v[i] for k, v in o.items()}


def test_run_trajectories_from_launch_to_their_end(world, sim, run_export):
    """Each threat's line starts at its launch point (lon, lat order) and ends where the
    outcome table says it ended: its impact point (leaked) or its true position at the
    intercept time (intercepted); its outcome, times and apogee are the run's."""
    chunk, res = sim
    _, gj, _ = run_export
    c = RUN - chunk.first_run
    tr = chunk.truth
    lines = by_name(gj, "Threats")
    assert set(lines) == {t.name for t in world.threats}
    outcomes = set()
    for n, th in enumerate(world.threats):
        f, row = lines[th.name], _row(res, th.name)
        xyz, p = coords(f), f["properties"]
        times = np.asarray(p["times_s"])
        assert xyz.shape == (times.size, 3) and (np.diff(times) > 0).all() and np.diff(times).max() <= X.STEP_S + 1e-9
        assert xyz[0, 0] == pytest.approx(th.launch.lon_deg, abs=0.01)  # lon first
        assert xyz[0, 1] == pytest.approx(th.launch.lat_deg, abs=0.01)
        assert times[0] == pytest.approx(tr.launch_time[c, n]) and p["launch_time_s"] == pytest.approx(times[0])
        assert p["outcome"] == row["outcome"] and p["threat"] == th.name and p["missile"] == row["missile"]
        outcomes.add(p["outcome"])
        if row["outcome"] == "leaked":
            assert xyz[-1, 0] == pytest.approx(row["impact_lon_deg"], abs=1e-6)
            assert xyz[-1, 1] == pytest.approx(row["impact_lat_deg"], abs=1e-6)
            assert abs(xyz[-1, 2]) < 1.0  # on the ellipsoid
            assert times[-1] == pytest.approx(row["impact_time_s"], abs=1e-3)
            # the whole flight: its highest vertex is the apogee (a vertex at the apogee time)
            assert xyz[:, 2].max() == pytest.approx(tr.apogee_alt[c, n], abs=50.0)
            assert p["asset_hit"] == row["asset_hit"]
        else:
            assert row["outcome"] == "intercepted"
            assert times[-1] == pytest.approx(row["intercept_time_s"], abs=1e-3)
            assert p["intercepted_by"] == row["intercepted_by"]
            # the true position then, by linear interpolation of the 1 s samples (to ~1 m)
            truth = np.array([np.interp(times[-1], tr.t, tr.pos[c, n, :, k]) for k in range(3)])
            lat, lon, alt = earth.ecef_to_geodetic(truth)
            end = earth.geodetic_to_ecef(*np.radians(xyz[-1, [1, 0]]), xyz[-1, 2])
            assert np.linalg.norm(end - truth) < 20.0, th.name
            assert xyz[-1, 2] == pytest.approx(float(alt), abs=20.0)
        # burnout is a vertex, with its time
        assert np.min(np.abs(times - tr.burnout_time[c, n])) < 1e-3
    assert outcomes == {"intercepted", "leaked"}  # the case covers both ends


def test_run_intercept_points_and_interceptor_paths(world, sim, run_export):
    """Each salvo of the run has an intercept point where its flight ended (a kill where the
    threat was, a miss at its planned point; z equal to that altitude within a metre; the
    killing one equal to the outcome table's) and a drawn flight from its battery's site to that point, in time from
    launch to intercept."""
    chunk, res = sim
    _, gj, _ = run_export
    e = chunk.engagements
    rows = np.flatnonzero(e.run == RUN - chunk.first_run)
    assert rows.size >= 2
    pts = [f for f in gj if f["properties"]["layer"] == "Intercepts"]
    lines = [f for f in gj if f["properties"]["layer"] == "Interceptors"]
    assert len(pts) == len(lines) == rows.size
    for i, pt, ln in zip(rows, pts, lines):
        lat, lon, alt = earth.ecef_to_geodetic(e.end_pos()[i])
        xyz, p = coords(pt), pt["properties"]
        assert xyz[2] == pytest.approx(float(alt), abs=1.0)
        assert xyz[0] == pytest.approx(math.degrees(lon), abs=1e-6) and xyz[1] == pytest.approx(math.degrees(lat),
                                                                                               abs=1e-6)
        assert p["result"] == ("kill" if e.killed[i] else "miss")
        assert p["intercept_time_s"] == pytest.approx(e.intercept_time[i], abs=1e-3)
        assert p["threat"] == world.threats[e.threat[i]].name
        bat = world.batteries[e.battery[i]]
        assert p["battery"] == bat.name
        if e.killed[i]:
            row = _row(res, p["threat"])
            assert row["outcome"] == "intercepted" and row["intercepted_by"] == bat.name
            assert xyz[2] == pytest.approx(1e3 * row["intercept_alt_km"], abs=1.0)
            assert xyz[1] == pytest.approx(row["intercept_lat_deg"], abs=1e-6)
        path, q = coords(ln), ln["properties"]
        assert path[0, 0] == pytest.approx(bat.site.lon_deg, abs=1e-6)
        assert path[0, 1] == pytest.approx(bat.site.lat_deg, abs=1e-6)
        assert path[-1] == pytest.approx(xyz, abs=1e-6)
        assert q["times_s"][0] == pytest.approx(e.launch_time[i], abs=1e-3)
        assert q["times_s"][-1] == pytest.approx(e.intercept_time[i], abs=1e-3)
        assert len(q["times_s"]) == len(path) and "drawn" in q["path"]


def test_run_sites(world, run_export):
    _, gj, _ = run_export
    radars, bats = by_name(gj, "Radars"), by_name(gj, "Batteries")
    for ps in world.sensors:
        x, y, z = coords(radars[ps.radar.name])
        assert (x, y, z) == pytest.approx((math.degrees(ps.radar.lon), math.degrees(ps.radar.lat), ps.radar.alt),
                                          abs=1e-6)
    for b in world.batteries:
        assert coords(bats[b.name])[:2] == pytest.approx([b.site.lon_deg, b.site.lat_deg], abs=1e-6)
    assets = by_name(gj, "Defended assets")
    for a in world.assets:
        pt, area = assets[a.name], assets[f"{a.name} area"]
        assert coords(pt)[:2] == pytest.approx([a.site.lon_deg, a.site.lat_deg], abs=1e-6)
        assert area["shape"].contains(Point(coords(pt)[:2]))
        assert equal_area_km2(area["shape"]) == pytest.approx(math.pi * (a.radius / 1e3) ** 2, rel=0.01)


def test_c2_nodes_sites_and_sectors(tmp_path):
    """Each node's C2 site is a point and its sector a polygon, in the files as the scenario
    wrote them ([lat, lon] in the YAML: lon, lat here), outlined, not filled, and
    ``engages_here`` only where the architecture holds the nodes to their sectors (the scene
    drew the sectors; the GIS files left them out)."""
    import yaml

    from shieldlab.scenario import compile_world
    from shieldlab.scenario.loader import preset_text

    raw = yaml.safe_load(preset_text("nato-russia-2011"))
    for architecture in ("coordinated", "sectoral"):
        w = load_world("nato-russia-2011")
        if architecture != w.architecture:
            w = compile_world(w.scenario.model_copy(update={"architecture": architecture}))
        fs = X.FeatureSet("sites", tuple(X.site_features(w)))
        gp, kp = X.write(fs, tmp_path / architecture, ["geojson", "kml"])
        nodes = by_name(read_geojson(gp), "C2 nodes")
        for nd in raw["nodes"]:
            sector = nodes[f"{nd['name']} sector"]
            ring = np.array(sector["shape"].exterior.coords)[:-1]
            lat_lon = np.array(nd["sector"], float)
            # the same vertices (the ring may start elsewhere and turn the other way)
            assert {tuple(np.round(v, 6)) for v in ring} == {tuple(np.round(v[::-1], 6)) for v in lat_lon}
            p = sector["properties"]
            assert p["kind"] == "sector" and p["node"] == nd["name"] and p["fill-opacity"] == 0
            assert p["engages_here"] is (architecture == "sectoral")
            site = next(n for n in w.nodes if n.name == nd["name"]).site
            assert coords(nodes[f"{nd['name']} C2"])[:2] == pytest.approx([site.lon_deg, site.lat_deg], abs=1e-6)
        doc, pms = read_kml(kp)
        in_kml = {pm.name: pm for folder, pm in pms if folder == "C2 nodes"}
        assert set(in_kml) == set(nodes)
        for name, f in nodes.items():
            assert shape(in_kml[name].geometry).symmetric_difference(f["shape"]).area < 1e-9
    # a scenario without nodes' sites or sectors has no such layer
    assert not [f for f in X.site_features(load_world("epaa-phase-1")) if f.layer == "C2 nodes"]


def test_run_kml_matches_geojson(world, run_export):
    """The KML holds the same placemarks at the same coordinates: flights in the air
    (altitudeMode absolute) with their time spans, intercepts with their time stamps, a style
    per outcome; and each flight as a gx:Track whose instants are the line's."""
    _, gj, (doc, pms) = run_export
    epoch = world.scenario.epoch
    assert doc.name == f"{world.scenario.name}: run {RUN}"
    styles = {s.id for s in doc.styles}
    static = [(folder, pm) for folder, pm in pms if folder != "Animated flights"]
    assert [pm.name for _, pm in static] == [f["properties"]["name"] for f in gj]
    assert [folder for folder, _ in static] == [f["properties"]["layer"] for f in gj]
    flights = 0
    for (folder, pm), f in zip(static, gj):
        g = shape(pm.geometry)
        assert g.geom_type == f["shape"].geom_type
        if g.geom_type in ("Point", "LineString"):
            a, b = shapely.get_coordinates(g, include_z=True), shapely.get_coordinates(f["shape"], include_z=True)
            if pm.kml_geometry.altitude_mode.value == "absolute":
                assert a == pytest.approx(b, abs=1e-6)
            else:
                assert a[:, :2] == pytest.approx(b[:, :2], abs=1e-6)
        else:
            assert g.symmetric_difference(f["shape"]).area < 1e-9
        assert pm.style_url.url.lstrip("#") in styles
        data, p = kml_data(pm), f["properties"]
        assert data["threat" if "threat" in p else "kind"] == str(p["threat" if "threat" in p else "kind"])
        if folder in ("Threats", "Interceptors"):
            flights += 1
            assert pm.kml_geometry.altitude_mode.value == "absolute"
            assert pm.times.begin.dt == utc(epoch, p["times_s"][0])
            assert abs(pm.times.end.dt - utc(epoch, p["times_s"][-1])) <= timedelta(milliseconds=1)
        if folder == "Threats":
            assert pm.style_url.url == f"#threat-{p['outcome']}" + ("-asset" if p["asset_hit"] else "")
        if folder == "Intercepts":
            assert abs(pm.times.timestamp.dt - utc(epoch, p["intercept_time_s"])) <= timedelta(milliseconds=1)
            assert float(data["intercept_alt_km"]) == pytest.approx(coords(f)[2] / 1e3, abs=1e-5)
    anim = {pm.name: pm for folder, pm in pms if folder == "Animated flights"}
    assert len(anim) == flights
    for f in gj:
        if f["properties"]["layer"] == "Threats":
            items = anim[f["properties"]["name"]].kml_geometry.track_items
            assert len(items) == len(f["properties"]["times_s"])
            assert abs(items[-1].when.dt - utc(epoch, f["properties"]["times_s"][-1])) <= timedelta(milliseconds=1)
            assert np.array(items[-1].coord.coords[0]) == pytest.approx(coords(f)[-1], abs=1e-6)


def test_replay_run_is_the_simulated_run(world, sim):
    """A run replayed alone has the simulation's records: the same export."""
    chunk, _ = sim
    from shieldlab.engine.chain import fly_threats, replay_run

    again = replay_run(world, fly_threats(world), 1, RUN)
    assert again.first_run == RUN and again.outcomes.intercepted.shape[0] == 1
    c = RUN - chunk.first_run
    assert (again.outcomes.intercepted[0] == chunk.outcomes.intercepted[c]).all()
    assert X.geojson_text(X.run_features(world, again, RUN)) == X.geojson_text(X.run_features(world, chunk, RUN))
    with pytest.raises(ValueError, match="not in this chunk"):
        X.run_features(world, again, RUN + 1)


# --------------------------------------------------------------------------- flyout
def test_flyout_nominal_path_impacts_and_cep(tmp_path):
    """As `shieldlab flyout scud-b --from 35,38 --to 36.5,38.5 --runs 40`: the nominal line
    from the launch point to its impact; the dispersed shots' impacts where they landed; half
    of them within the CEP circle; KML times only with an epoch."""
    from shieldlab.flyout import aim
    from shieldlab.flyout.dispersion import Dispersion, impact_scatter
    from shieldlab.flyout.integrate import fly
    from shieldlab.flyout.vehicle import vehicle_from_missiles

    m = catalog.get_missile("scud-b")
    (lat0, lon0), (lat1, lon1) = (35.0, 38.0), (36.5, 38.5)
    la0, lo0, la1, lo1 = np.radians([lat0, lon0, lat1, lon1])
    st = aim.solve([m], la0, lo0, 0.0, la1, lo1, "min-energy")
    tr = fly(vehicle_from_missiles([m]), earth.geodetic_to_ecef(la0, lo0, 0.0)[None], np.zeros(1), st.kick,
             st.azimuth, st.cutoff, t0=0.0, dt=0.5, T=int(6000 / 0.5),
             upper_thrust=st.upper_thrust, dive_time=st.dive_time)
    runs = 40
    ilat, ilon, cep = impact_scatter(m, la0, lo0, la1, lo1, Dispersion(0.001, 0.001, 0.001, 0.03, 5e-4), runs, 1)
    fs = X.flyout_features(tr, missile=m.id, launch_deg=(lat0, lon0), aim_deg=(lat1, lon1), impacts_rad=(ilat, ilon),
                           cep_m=cep)
    gp, kp = X.write(fs, tmp_path / "flyout", ["geojson", "kml"])
    gj = read_geojson(gp)
    (line,) = [f for f in gj if f["properties"]["layer"] == "Trajectory"]
    xyz = coords(line)
    assert xyz[0] == pytest.approx([lon0, lat0, 0.0], abs=1e-6)
    plat, plon, _ = earth.ecef_to_geodetic(tr.impact_pos[0])
    assert xyz[-1, :2] == pytest.approx([math.degrees(plon), math.degrees(plat)], abs=1e-6)
    assert line["properties"]["times_s"][-1] == pytest.approx(tr.impact_time[0], abs=1e-3)
    assert xyz[:, 2].max() == pytest.approx(tr.apogee_alt[0], abs=50.0)
    shots = [f for f in gj if f["properties"]["kind"] == "dispersed-impact"]
    landed = np.isfinite(ilat)
    assert len(shots) == landed.sum() > 30
    for f in shots:
        k = f["properties"]["shot"]
        assert coords(f)[:2] == pytest.approx([math.degrees(ilon[k]), math.degrees(ilat[k])], abs=1e-6)
    (circle,) = [f for f in gj if f["properties"]["kind"] == "cep"]
    assert equal_area_km2(circle["shape"]) == pytest.approx(math.pi * (cep / 1e3) ** 2, rel=0.01)
    inside = sum(circle["shape"].contains(f["shape"]) for f in shots)
    assert abs(inside - len(shots) / 2) <= 2  # the CEP is the median miss distance
    _, pms = read_kml(kp)
    (pm,) = [pm for folder, pm in pms if folder == "Trajectory"]
    assert pm.times is None  # no epoch, no time primitives
    assert shapely.get_coordinates(shape(pm.geometry), include_z=True) == pytest.approx(xyz, abs=1e-6)
    epoch = datetime(2020, 1, 1, tzinfo=UTC)
    timed = X.to_kml(replace(fs, epoch=epoch))
    assert "<TimeSpan>" in timed and f"<begin>{X._iso(epoch, 0.0)}</begin>" in timed


# --------------------------------------------------------------------------- reach
def test_reach_window_and_best_point(tmp_path):
    """As `shieldlab reach sm-3-block-ia --site 36.2,27.6 --missile sejjil-2 --from
    38.08,46.29 --to 37.98,23.73 --cue-delay-s 100`: the threat's line from its launch
    point, the site, the window between the earliest and latest intercept the analysis found
    and the best point in it (no lower Pk than either end)."""
    ia, sejjil = catalog.get_interceptor("sm-3-block-ia"), catalog.get_missile("sejjil-2")
    site, src, dst = np.radians([36.2, 27.6]), np.radians([38.08, 46.29]), np.radians([37.98, 23.73])
    res = analyse(ia, *site, sejjil, *src, *dst, cue_delay_s=100.0)
    assert res.feasible
    fs = X.reach_features(res, ia, *site, sejjil, *src, *dst)
    gp, kp = X.write(fs, tmp_path / "reach", ["geojson", "kml"])
    gj = read_geojson(gp)
    (threat,) = [f for f in gj if f["properties"]["layer"] == "Threat"]
    assert coords(threat)[0, :2] == pytest.approx([46.29, 38.08], abs=0.01)
    assert threat["properties"]["times_s"][-1] == pytest.approx(res.threat["time_of_flight_s"], abs=0.1)
    assert coords(by_name(gj, "Sites")[ia.id])[:2] == pytest.approx([27.6, 36.2], abs=1e-9)
    win = by_name(gj, "Intercept window")
    line, first, last, best = (win[k] for k in ("intercept window", "earliest intercept", "latest intercept",
                                                "best intercept"))
    w = coords(line)
    for end, d, k in ((first, res.earliest, 0), (last, res.latest, -1)):
        xyz = coords(end)
        assert xyz == pytest.approx(w[k], abs=1e-9)
        # the point the analysis found, as its figures say it (rounded to 1e-4 deg and 10 m): the
        # latest had been 23 m off them (rounded times read back through another interpolation)
        assert xyz[:2] == pytest.approx([d["lon_deg"], d["lat_deg"]], abs=5.1e-5)
        assert xyz[2] / 1e3 == pytest.approx(d["alt_km"], abs=0.0051)
        assert end["properties"]["time_s"] == d["time_s"] and end["properties"]["pk"] == d["pk"]
    times = line["properties"]["times_s"]
    # (the window's own times, unrounded; the analysis's figures round them to 0.01 s)
    assert times[0] == pytest.approx(res.earliest["time_s"], abs=0.0051) and len(times) == len(w)
    assert times[-1] == pytest.approx(res.latest["time_s"], abs=0.0051)
    bp = best["properties"]
    assert res.earliest["time_s"] <= bp["time_s"] <= res.latest["time_s"]
    assert bp["pk"] >= max(res.earliest["pk"], res.latest["pk"]) - 1e-3
    # the window lies on the threat's path: each vertex within a step's chord of the line
    path = shapely.LineString(coords(threat)[:, :2])
    assert max(path.distance(Point(p[:2])) for p in w) < 0.05
    _, pms = read_kml(kp)
    (pm,) = [pm for _, pm in pms if pm.name == "intercept window"]
    assert pm.kml_geometry.altitude_mode.value == "absolute"
    assert shapely.get_coordinates(shape(pm.geometry), include_z=True) == pytest.approx(w, abs=1e-6)
    # a reach without a window exports the path and the site, and says it cannot catch it
    none = X.reach_features(replace(res, feasible=False, earliest=None, latest=None, needed_burnout_speed_kms=4.2),
                            ia, *site, sejjil, *src, *dst)
    assert not none.layer("Intercept window")
    assert none.layer("Sites")[0].properties["needed_burnout_speed_kms"] == 4.2


def test_a_broken_reach_window_is_one_line_per_stretch(tmp_path):
    """A Scud passing over an S-400 inside its 3 km minimum range breaks the window in two
    (tests/test_reach.py): the export drew one line through the break, as if the path could be
    caught there; now each stretch is a line of its own, ending where reach says the break
    begins and ends, and no vertex lies inside the break."""
    s400, scud = catalog.get_interceptor("s-400"), catalog.get_missile("scud-b")
    args = (s400, *np.radians([33.154, 36.115]), scud, *np.radians([35.0, 37.5]), *np.radians([33.0, 36.0]))
    res = analyse(*args, cue_delay_s=60.0)
    (gap,) = res.gaps
    gp, kp = X.write(X.reach_features(res, *args), tmp_path / "reach", ["geojson", "kml"])
    win = by_name(read_geojson(gp), "Intercept window")
    assert "intercept window" not in win
    one, two = win["intercept window 1 of 2"], win["intercept window 2 of 2"]
    t1, t2 = one["properties"]["times_s"], two["properties"]["times_s"]
    assert t1[0] == pytest.approx(res.earliest["time_s"], abs=0.0051)
    assert t1[-1] == pytest.approx(gap.from_s, abs=0.0051) and t2[0] == pytest.approx(gap.to_s, abs=0.0051)
    assert t2[-1] == pytest.approx(res.latest["time_s"], abs=0.0051)
    assert not any(gap.from_s + 0.01 < t < gap.to_s - 0.01 for t in t1 + t2)
    for f, k in ((one, 1), (two, 2)):
        p = f["properties"]
        assert (p["stretch"], p["stretches"]) == (k, 2) and len(coords(f)) == len(p["times_s"])
        assert p["gaps_s"] == f"{gap.from_s:.2f}-{gap.to_s:.2f} (minimum-range)"
    # the ends still sit at the first vertex of the first stretch and the last of the last
    assert coords(win["earliest intercept"]) == pytest.approx(coords(one)[0], abs=1e-9)
    assert coords(win["latest intercept"]) == pytest.approx(coords(two)[-1], abs=1e-9)
    # the stretch ends lie on either side of the break, closer to the site than its edges are far
    site = Point(36.115, 33.154)
    near = [Point(coords(one)[-1][:2]).distance(site), Point(coords(two)[0][:2]).distance(site)]
    assert max(near) < 0.1  # degrees: both within ~10 km of the site, either side of its 3 km
    _, pms = read_kml(kp)
    assert sorted(pm.name for _, pm in pms if pm.name.startswith("intercept window")) == [
        "intercept window 1 of 2", "intercept window 2 of 2"]


# --------------------------------------------------------------------------- footprint, coverage
@pytest.fixture(scope="module")
def footprint():
    from test_footprint import NO_SPIN, _symmetric_world

    return F.compute(_symmetric_world(), make_grid(38.0, 47.0, 14.0, 26.5, 0.5), model=NO_SPIN)


def test_footprint_polygons_hold_the_defended_cells(footprint, tmp_path):
    """The defended area against each site as polygons: every defended node inside, every
    other outside (the grid is 19 x 26: lon/lat swapped would not fit), the area on the sphere
    that of the footprint (to 0.1 %; 3 % simplified within half a cell), its mean P(intercept)."""
    fp = footprint
    s = fp.sites[0]
    assert 20 < s.defended.sum() < s.defended.size - 20
    fs = X.footprint_features(fp, simplify=False)
    gp, kp = X.write(fs, tmp_path / "fp", ["geojson", "kml"])
    gj = read_geojson(gp)
    polys = by_name(gj, "Defended footprint")
    f = polys[f"defended against {s.site.name}"]
    poly = f["shape"]
    LA, LO = np.meshgrid(fp.grid.lat_deg, fp.grid.lon_deg, indexing="ij")
    inside = shapely.contains_xy(poly, LO, LA)
    assert (inside == s.defended).all()
    area = equal_area_km2(poly)
    assert area == pytest.approx(fp.defended_area_km2(0), rel=1e-3)
    p = f["properties"]
    assert p["area_km2"] == pytest.approx(fp.defended_area_km2(0), abs=0.1)
    assert p["mean_p_intercept"] == pytest.approx(np.nanmean(s.p_intercept[s.defended]), abs=1e-4)
    assert p["launch_site"] == s.site.name
    every = polys["defended against every launch site"]["shape"]
    assert equal_area_km2(every) == pytest.approx(fp.defended_area_km2(), rel=1e-3)
    simple = X.footprint_features(fp).layer("Defended footprint")[0].geometry
    assert simple.is_valid and equal_area_km2(simple) == pytest.approx(area, rel=0.03)
    assert equal_area_km2(simple.symmetric_difference(poly)) < 0.05 * area
    assert len(shapely.get_coordinates(simple)) <= len(shapely.get_coordinates(poly))
    _, pms = read_kml(kp)
    (pm,) = [pm for folder, pm in pms if pm.name == f"defended against {s.site.name}"]
    assert shape(pm.geometry).symmetric_difference(poly).area < 1e-9
    assert float(kml_data(pm)["area_km2"]) == p["area_km2"]
    sites = by_name(gj, "Launch sites")
    assert coords(sites[s.site.name])[:2] == pytest.approx([s.site.lon_deg, s.site.lat_deg], abs=1e-6)


def test_mask_polygons_edges():
    lat, lon = np.arange(-89.0, 90.0, 2.0), np.arange(-179.0, 180.0, 2.0)
    full = X.mask_polygons(np.ones((lat.size, lon.size), bool), lat, lon)
    assert full.bounds == (-180.0, -90.0, 180.0, 90.0)  # clipped to the globe
    assert equal_area_km2(full) == pytest.approx(4 * math.pi * R_KM**2, rel=1e-9)
    assert X.mask_polygons(np.zeros((lat.size, lon.size), bool), lat, lon).is_empty
    ring = np.ones((5, 5), bool)
    ring[2, 2] = False
    g = X.mask_polygons(ring, np.arange(5.0), np.arange(5.0), simplify=False)
    assert g.geom_type == "Polygon" and len(g.interiors) == 1 and g.area == pytest.approx(24.0)
    holed = X.to_geojson(X.FeatureSet("t", (X.Feature("a", "a", g, "area-0"),)))["features"][0]["geometry"]
    assert shapely.geometry.shape(holed).equals(g)


def test_coverage_polygons(tmp_path):
    """A radar's coverage at 100 km: the polygon's area that of the coverage's cells, centred on
    the radar's site, with its name; the KML polygon the same."""
    from test_coverage import _world

    world = _world([{"name": "spy", "type": "an-spy-1d", "site": {"lat": 10.0, "lon": 20.0}, "boresight_az_deg": 90}])
    cov = C.compute(world, 100.0, rcs_m2=1.0, grid=make_grid(2.0, 18.0, 10.0, 30.0, 0.25))
    (r,) = cov.radars
    gp, kp = X.write(X.coverage_features(cov, simplify=False), tmp_path / "cov", ["geojson", "kml"])
    gj = read_geojson(gp)
    f = by_name(gj, "Radar coverage")[f"spy at {cov.alt_km:g} km"]
    assert f["properties"]["radar"] == "spy" and f["properties"]["area_km2"] == pytest.approx(r.area_km2, abs=0.1)
    assert equal_area_km2(f["shape"]) == pytest.approx(r.area_km2, rel=1e-3)
    LA, LO = np.meshgrid(cov.grid.lat_deg, cov.grid.lon_deg, indexing="ij")
    assert (shapely.contains_xy(f["shape"], LO, LA) == r.covered).all()
    assert coords(by_name(gj, "Radars")["spy"])[:2] == pytest.approx([20.0, 10.0], abs=1e-6)
    _, pms = read_kml(kp)
    (pm,) = [pm for _, pm in pms if pm.name == f"spy at {cov.alt_km:g} km"]
    assert shape(pm.geometry).symmetric_difference(f["shape"]).area < 1e-9
    assert pm.kml_geometry.altitude_mode.value == "clampToGround"
    simple = X.coverage_features(cov).layer("Radar coverage")[0].geometry
    assert equal_area_km2(simple) == pytest.approx(r.area_km2, rel=0.03)
    # the file says what it is, as footprint's does (it had an empty description)
    said = json.loads(gp.read_text())["shieldlab"]["description"]
    assert "1 m²" in said and f"{cov.alt_km:g} km" in said


def test_aircraft_reach_polygons(tmp_path):
    """`footprint --aircraft`: each battery's reach polygon around its site out to its reach;
    the ground any battery reaches as the grid's cells."""
    res = F.aircraft_reach(load_world("patriot-turkey-2013"), 10.0)
    gp = X.write(X.aircraft_features(res, simplify=False), tmp_path / "air", ["geojson"])[0]
    gj = read_geojson(gp)
    polys = by_name(gj, "Aircraft reach")
    for b in res.batteries:
        g = polys[f"{b['name']} reach"]["shape"]
        ring = shapely.get_coordinates(g)
        far = earth.great_circle_distance(math.radians(b["lat_deg"]), math.radians(b["lon_deg"]),
                                          np.radians(ring[:, 1]), np.radians(ring[:, 0])).max() / 1e3
        assert far == pytest.approx(b["reach_km"], rel=1e-3)
        assert g.buffer(1e-6).contains(Point(b["lon_deg"], b["lat_deg"]))
    allg = polys["within reach of a battery"]
    cell = res.grid.cell_area_km2()
    assert equal_area_km2(allg["shape"]) == pytest.approx(cell[res.n_batteries > 0].sum(), rel=1e-3)
    assert "against aircraft at 10 km" in json.loads(gp.read_text())["shieldlab"]["description"]


# --------------------------------------------------------------------------- files
def test_formats_paths_and_atomic_write(tmp_path):
    assert X.parse_formats("kml, GeoJSON") == ("geojson", "kml")
    assert X.parse_formats("kml") == ("kml",)
    for bad in ("shp", "", "geojson,"):
        with pytest.raises(InputError) as e:
            X.parse_formats(bad)
        assert e.value.field == "--export"
    assert X.export_paths(tmp_path / "a.b" / "run.kml", ["kml", "geojson"]) == [
        tmp_path / "a.b" / "run.geojson", tmp_path / "a.b" / "run.kml"]
    fs = X.FeatureSet("t", (X.Feature("L", "p", Point(1.5, 2.5, 3.0), "radar", {"x_m": float("nan")}),))
    out = tmp_path / "new" / "p"
    for _ in range(2):  # creates the folder; replaces the files
        paths = X.write(fs, out, ["kml", "geojson"])
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["p.geojson", "p.kml"]  # no temporary left
    (f,) = read_geojson(paths[0])
    assert f["geometry"]["coordinates"] == [1.5, 2.5, 3.0] and f["properties"]["x_m"] is None


def test_a_fighters_course_is_written_longitude_first():
    """The vectored fighter's course had latitude and longitude swapped (it started ~28 km from
    its patrol station, heading the wrong way): it now starts at the station, in the x = lon,
    y = lat order of every other feature, and ends near the flier it shot at."""
    from shieldlab.engine.air import simulate_air

    world = load_world("turkey-airspace-2015")
    res = simulate_air(world, 2, seed=3)
    fs = X.air_features(world, res, 0)
    course = next(f for f in fs.features if f.layer == "Fighters" and f.name == "f-16-patrol → su-24-24-nov")
    station = next(f for f in fs.features if f.layer == "Fighters" and f.name == "f-16-patrol")
    xyz = np.asarray(course.geometry.coords)
    start_km = float(earth.great_circle_distance(*np.radians([xyz[0, 1], xyz[0, 0], station.geometry.y,
                                                              station.geometry.x]))) / 1e3
    assert start_km < 15.0  # (the fighter flies its racetrack about the station)
    su24 = next(f for f in fs.features if f.layer == "Aircraft and cruise missiles" and f.name == "su-24-24-nov")
    path = np.asarray(su24.geometry.coords)
    miss_km = np.min(earth.great_circle_distance(np.radians(xyz[-1, 1]), np.radians(xyz[-1, 0]),
                                                 np.radians(path[:, 1]), np.radians(path[:, 0])))
    reach_km = catalog.get_aircraft("f-16c").weapon.max_range_km
    assert miss_km / 1e3 < reach_km  # the shot is released within weapon range of the flier


def test_a_flier_with_no_airspace_policed_has_no_time_inside():
    """kalibr-caspian-2015 polices no airspace: its fliers' features said time_inside_s 0.0,
    as if each had been measured outside one; now null there, a number where one is policed."""
    from shieldlab.engine.air import simulate_air

    kal = load_world("kalibr-caspian-2015")
    fs = X.air_features(kal, simulate_air(kal, 1, seed=1), 0)
    fliers = [f for f in fs.features if f.layer == "Aircraft and cruise missiles"]
    assert fliers and all(f.properties["time_inside_s"] is None for f in fliers)
    tur = load_world("turkey-airspace-2015")
    fs = X.air_features(tur, simulate_air(tur, 1, seed=1), 0)
    su24 = next(f for f in fs.features if f.layer == "Aircraft and cruise missiles" and f.name == "su-24-24-nov")
    assert su24.properties["time_inside_s"] > 0.0


def test_a_line_across_the_antimeridian_is_cut_there_in_geojson():
    """A flight from 178 E to 176 W was one LineString jumping from 179.9 to -179.9, drawn
    across the whole world by GIS tools (RFC 7946 3.1.9 asks for the cut): now two pieces that
    meet at +-180 at the interpolated latitude and height; a line that does not cross stays one."""
    from shapely.geometry import LineString

    from shieldlab.io.export import _geojson_geometry, _split_at_antimeridian

    g = _geojson_geometry(LineString([(178.0, 52.0, 0.0), (179.0, 52.1, 1000.0), (-179.0, 52.3, 3000.0),
                                      (-176.0, 52.5, 0.0)]))
    assert g["type"] == "MultiLineString"
    a, b = g["coordinates"]
    assert a[-1] == [180.0, 52.2, 2000.0] and b[0] == [-180.0, 52.2, 2000.0]
    assert all(-180.0 <= p[0] <= 180.0 for piece in g["coordinates"] for p in piece)
    westward = _split_at_antimeridian([(-179.5, 0.0), (179.5, 1.0)])
    assert westward == [[(-179.5, 0.0), (-180.0, 0.5)], [(180.0, 0.5), (179.5, 1.0)]]
    assert _geojson_geometry(LineString([(10.0, 1.0), (20.0, 2.0)]))["type"] == "LineString"
    # a launch height a hair below the ellipsoid was written -0.0
    from shieldlab.io.export import _num, _round_coords

    assert str(_num(-1e-9, 3)) == "0.0" and str(_round_coords([1.0, 2.0, -1e-9])[2]) == "0.0"


def test_an_export_beside_out_names_out_when_its_file_exists(tmp_path, monkeypatch, capsys):
    """coverage --out map.png --export kml, with map.kml already there, said "--export-to:
    ... already exists", an option not given: it names --out, whose sibling the file is."""
    from shieldlab.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "c5.kml").write_text("")
    args = ["coverage", "patriot-turkey-2013", "--step-deg", "0.5", "--export", "geojson,kml", "--out", "c5.png"]
    assert main(args) == 2
    assert "error: --out: c5.kml already exists" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c5.kml"]


def test_reach_export_names_whose_times_they_are(tmp_path, capsys):
    """The intercept points' launch_time_s was the interceptor's, the Threat's the threat's;
    the Threat ended at end_time_s where flyout says impact_time_s: now interceptor_launch_time_s
    and impact_time_s, and the site carries why_not and, ready too late, latest_ready_s."""
    from shieldlab.cli import main

    base = ["reach", "thaad", "--site", "37.0,37.0", "--missile", "ghadr-1", "--from", "32.6,51.7", "--to",
            "37.0,37.0", "--export", "geojson"]
    assert main([*base, "--export-to", str(tmp_path / "ok")]) == 0
    props = {f["properties"]["kind"]: f["properties"] for f in json.loads((tmp_path / "ok.geojson").read_text())
             ["features"]}
    assert props["threat"]["launch_time_s"] == 0.0 and props["threat"]["impact_time_s"] > 600
    early = props["earliest-intercept"]
    assert "launch_time_s" not in early and 0 < early["interceptor_launch_time_s"] < early["time_s"]
    # the apogee under one name in every export, as flyout's and reach's JSON name it
    assert props["threat"]["apogee_km"] > 100
    assert main(["flyout", "ghadr-1", "--from", "32.6,51.7", "--to", "37.0,37.0", "--export", "geojson",
                 "--export-to", str(tmp_path / "fly")]) == 0
    (traj,) = [f["properties"] for f in json.loads((tmp_path / "fly.geojson").read_text())["features"]
               if f["properties"]["kind"] == "threat"]
    assert traj["apogee_km"] == pytest.approx(props["threat"]["apogee_km"], abs=0.1) and "apogee_alt_km" not in traj
    assert main([*base, "--cue-delay-s", "620", "--export-to", str(tmp_path / "late")]) == 0
    site = next(f["properties"] for f in json.loads((tmp_path / "late.geojson").read_text())["features"]
                if f["properties"]["kind"] == "interceptor-site")
    assert site["why_not"] == "burnout-speed" and 600 < site["latest_ready_s"] < site["ready_time_s"]
    capsys.readouterr()
