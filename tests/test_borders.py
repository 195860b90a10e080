"""shieldlab.airspace.borders: the local projection, territories, crossings and land.

References: pymap3d 3.x ``vincenty.vreckon``/``vdist`` (WGS84 geodesics) for the projection;
closed forms in the projection's plane for straight tracks across squares and rectangles
(the test areas are drawn in the plane and projected back to lon/lat, so the plane holds them
exactly); brute-force dense sampling for tracks across Natural Earth's Turkey.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pymap3d.vincenty import vdist, vreckon

from shieldlab.airspace import borders as B
from shieldlab.errors import InputError

LAT0, LON0 = 37.0, 36.0
PROJ = B.LocalProjection(LAT0, LON0)


def _area(name: str, *rings) -> B.Territory:
    """A territory drawn in the plane about (LAT0, LON0): one polygon per ring of corners (n, 2) [m]."""
    polys = []
    for c in rings:
        c = np.asarray(c, dtype=float)
        lat, lon = PROJ.inverse(c[:, 0], c[:, 1])
        polys.append(shapely.Polygon(np.column_stack([lon, lat])))
    g = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    return B.Territory.from_lonlat(name, g, LAT0, LON0)


SQUARE = _area("square", [[-1e4, -1e4], [1e4, -1e4], [1e4, 1e4], [-1e4, 1e4]])  # 20 km x 20 km


def _track(x, y):
    lat, lon = PROJ.inverse(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return lat, lon


# --------------------------------------------------------------------------- projection
@pytest.mark.parametrize("dist_km", [100.0, 300.0, 600.0])
def test_projection_distance_matches_vincenty(dist_km):
    az = np.arange(0.0, 360.0, 22.5)
    for a in az:
        lat, lon = vreckon(LAT0, LON0, 1e3 * dist_km, a)
        x, y = PROJ.forward(lat, lon)
        d_ref, az_ref = vdist(LAT0, LON0, lat, lon)
        assert abs(np.hypot(x, y) / d_ref - 1.0) < 1e-5  # measured 5e-7 at 600 km (the docstring)
        assert abs((np.degrees(np.arctan2(x, y)) - az_ref + 180.0) % 360.0 - 180.0) < 0.01


def test_projection_round_trip_and_centre():
    rng = np.random.default_rng(3)
    lat = LAT0 + rng.uniform(-25.0, 25.0, (4, 50))
    lon = LON0 + rng.uniform(-30.0, 30.0, (4, 50))
    x, y = PROJ.forward(lat, lon)
    assert x.shape == (4, 50)
    lat2, lon2 = PROJ.inverse(x, y)
    np.testing.assert_allclose(lat2, lat, atol=1e-10)
    np.testing.assert_allclose(lon2, lon, atol=1e-10)
    x0, y0 = PROJ.forward(LAT0, LON0)
    assert abs(x0) < 1e-6 and abs(y0) < 1e-6
    # east is +x, north is +y
    xe, ye = PROJ.forward(LAT0, LON0 + 0.1)
    xn, yn = PROJ.forward(LAT0 + 0.1, LON0)
    assert xe > 8e3 and abs(ye) < 100.0 and yn > 1e4 and abs(xn) < 1e-6


# --------------------------------------------------------------------------- crossings, closed forms
V, DT = 250.0, 1.0  # m/s, s: a sample every 250 m
T = np.arange(0.0, 140.0, DT)


def _straight(x0, y0, heading_deg=90.0):
    h = np.radians(heading_deg)
    return _track(x0 + V * np.sin(h) * T, y0 + V * np.cos(h) * T)


def test_straight_track_through_square_closed_form():
    x0 = -15123.4  # boundaries fall between samples
    lat, lon = _straight(x0, 0.0)
    c = B.crossings(SQUARE, T, lat, lon)
    t_in, t_out = (-1e4 - x0) / V, (1e4 - x0) / V
    tol_t, tol_m = 0.01 * DT, 0.01 * V * DT
    assert c.entered and c.n_entries == 1 and not c.inside_at_end
    assert abs(c.entry_time - t_in) < tol_t and abs(c.exit_time - t_out) < tol_t
    assert abs(c.time_inside_s - (t_out - t_in)) < tol_t
    assert abs(c.distance_inside_m - 2e4) < tol_m
    assert abs(c.max_depth_m - 1e4) < tol_m  # half the width, at the centre
    assert abs(c.deepest_time - (0.0 - x0) / V) < 2.0 * tol_m / V


def test_track_clipping_a_corner_between_samples():
    # 45 deg track whose samples, 2.5 km apart, all lie outside but which cuts the corner (1e4, 1e4)
    s = np.arange(16.0) * 2500.0 - 18750.0
    off = 1e4 * np.sqrt(2.0) - 1000.0  # the path's distance from the centre: 1 km inside the corner
    u = np.array([1.0, -1.0]) / np.sqrt(2.0)  # along the path
    n = np.array([1.0, 1.0]) / np.sqrt(2.0)  # towards the corner
    x, y = off * n[0] + s * u[0], off * n[1] + s * u[1]
    t = np.arange(s.size) * 10.0
    assert not B.contains(SQUARE, *_track(x, y)).any()
    c = B.crossings(SQUARE, t, *_track(x, y))
    # the chord across the corner: 2 km long, its middle 1 km deep along the diagonal, and
    # sqrt(2)/2 km from each side
    assert c.n_entries == 1 and abs(c.distance_inside_m - 2000.0) < 0.01
    assert abs(c.time_inside_s - 2000.0 / 250.0) < 1e-4
    assert abs(c.max_depth_m - 1000.0 / np.sqrt(2.0)) < 1.0


def test_boundary_times_of_a_corner_cut_and_the_heights_inside():
    """boundary_times: the corner cut between two samples outside meets the border at the
    chord's ends (8 s apart at 250 m/s).  The heights inside the airspace then count every
    visit: a path through the square at 1,000 m, out, a corner cut between two samples at
    5,000 m (both outside), and back through: the highest height inside is the corner's
    5,000 m (the first entry, the last exit and the samples inside gave 1,870 m)."""
    from types import SimpleNamespace

    from shieldlab.engine.air import _heights_inside

    s = np.arange(16.0) * 2500.0 - 18750.0
    off = 1e4 * np.sqrt(2.0) - 1000.0
    x, y = off / np.sqrt(2.0) + s / np.sqrt(2.0), off / np.sqrt(2.0) - s / np.sqrt(2.0)
    met = B.boundary_times(SQUARE, np.arange(s.size) * 10.0, *_track(x, y))
    assert met.size == 2 and abs(met[1] - met[0] - 2000.0 / 250.0) < 1e-4
    assert B.boundary_times(SQUARE, np.arange(s.size) * 10.0, *_track(x, y), valid=np.arange(s.size) != 8).size == 0
    #            A        B      C        D        E        F          G
    px = np.array([-15e3, 0.0, 15e3, 11e3, 8e3, -15e3, -20e3])
    py = np.array([0.0, 0.0, 0.0, 8e3, 11e3, -5e3, -5e3])
    alt = np.array([1e3, 1e3, 1e3, 5e3, 5e3, 1e3, 1e3])
    t = np.arange(px.size) * 60.0
    lat, lon = _track(px, py)
    assert B.contains(SQUARE, lat, lon).tolist() == [False, True, False, False, False, False, False]
    c = B.crossings(SQUARE, t, lat, lon)
    assert c.n_entries == 3
    paths = SimpleNamespace(t=t, alt=alt[None], active=np.ones((1, t.size), bool), flown=np.ones((1, t.size), bool),
                            lat=np.radians(lat)[None],
                            lon=np.radians(lon)[None])
    lo, hi = _heights_inside(SQUARE, paths, 0, float(c.entry_time), float(c.exit_time))
    assert lo == 1e3 and hi == pytest.approx(5e3, abs=1e-6)


def test_track_that_never_enters():
    lat, lon = _straight(-15000.0, 15000.0)
    c = B.crossings(SQUARE, T, lat, lon)
    assert not c.entered and c.n_entries == 0 and not c.inside_at_end
    assert np.isnan(c.entry_time) and np.isnan(c.exit_time) and np.isnan(c.deepest_time)
    assert c.time_inside_s == 0.0 and c.distance_inside_m == 0.0 and c.max_depth_m == 0.0


def test_track_starting_inside():
    x0 = -3000.0
    lat, lon = _straight(x0, 2000.0)
    c = B.crossings(SQUARE, T, lat, lon)
    t_out = (1e4 - x0) / V
    assert c.n_entries == 1 and c.entry_time == T[0]
    assert abs(c.exit_time - t_out) < 1e-6 and abs(c.time_inside_s - t_out) < 1e-6
    # deepest: 8 km from the top side, reached from x = -2 km to 2 km (a plateau)
    assert abs(c.max_depth_m - 8000.0) < 1.0
    assert 4.0 - 1e-6 <= c.deepest_time <= 20.0 + 1e-6


def test_track_ending_inside():
    lat, lon = _straight(-V * T[-1], 0.0)  # ends at the centre, 10 km past the west side
    c = B.crossings(SQUARE, T, lat, lon)
    assert c.inside_at_end and np.isnan(c.exit_time) and c.n_entries == 1
    assert abs(c.entry_time - (T[-1] - 40.0)) < 1e-6 and abs(c.distance_inside_m - 1e4) < 1e-3
    assert abs(c.max_depth_m - 1e4) < 1.0  # the last sample, at the centre


def test_depth_at_a_turn():
    """A V-shaped path inside, its ends 500 m from the same side and its apex at the centre:
    the deepest point is the turn, between samples' nearest edges that agree."""
    t = np.array([0.0, 40.0, 80.0])
    x = np.array([-5000.0, 0.0, 5000.0])
    y = np.array([-9500.0, 0.0, -9500.0])
    c = B.crossings(SQUARE, t, *_track(x, y))
    assert c.n_entries == 1 and c.inside_at_end and c.time_inside_s == 80.0
    assert abs(c.max_depth_m - 1e4) < 1.0 and abs(c.deepest_time - 40.0) < 0.01
    assert abs(c.distance_inside_m - 2.0 * np.hypot(5000.0, 9500.0)) < 1e-3


def test_track_entering_twice():
    # two rectangles 8 km wide, 4 km apart, crossed by one straight track
    two = _area("two", [[-1e4, -1e4], [-2e3, -1e4], [-2e3, 1e4], [-1e4, 1e4]],
                [[2e3, -1e4], [1e4, -1e4], [1e4, 1e4], [2e3, 1e4]])
    x0 = -15123.4
    c = B.crossings(two, T, *_straight(x0, 1000.0))
    assert c.n_entries == 2
    assert abs(c.entry_time - (-1e4 - x0) / V) < 1e-6 and abs(c.exit_time - (1e4 - x0) / V) < 1e-6
    assert abs(c.time_inside_s - 2 * 8000.0 / V) < 1e-6 and abs(c.distance_inside_m - 16000.0) < 1e-3
    assert abs(c.max_depth_m - 4000.0) < 1.0


def test_valid_mask_hides_part_of_the_track():
    x0 = -15123.4
    lat, lon = _straight(x0, 0.0)
    t_in, t_out = (-1e4 - x0) / V, (1e4 - x0) / V
    valid = np.ones(T.size, dtype=bool)
    valid[50:60] = False  # inside the square: samples 49 and 60 are its last and next
    c = B.crossings(SQUARE, T, lat, lon, valid)
    # broken at the gap: two visits, the segments 49 -> 60 not flown
    assert c.n_entries == 2 and abs(c.entry_time - t_in) < 1e-6 and abs(c.exit_time - t_out) < 1e-6
    assert abs(c.time_inside_s - ((t_out - t_in) - 11.0)) < 1e-6
    assert abs(c.distance_inside_m - (2e4 - 11.0 * V)) < 1e-3
    # bridged: one visit, as the whole track
    cb = B.crossings(SQUARE, T, lat, lon, valid, bridge_gaps=True)
    assert cb.n_entries == 1 and abs(cb.time_inside_s - (t_out - t_in)) < 1e-6
    # invalid samples' positions are never read
    lat2 = np.where(valid, lat, np.nan)
    c2 = B.crossings(SQUARE, T, lat2, lon)
    assert c2.n_entries == 2 and abs(c2.time_inside_s - c.time_inside_s) < 1e-9
    # hidden until well inside: entered at its first valid sample
    valid = T >= 40.0
    c = B.crossings(SQUARE, T, lat, lon, valid)
    assert c.n_entries == 1 and c.entry_time == 40.0 and abs(c.time_inside_s - (t_out - 40.0)) < 1e-6
    # nothing valid
    c = B.crossings(SQUARE, T, lat, lon, np.zeros(T.size, bool))
    assert not c.entered and np.isnan(c.entry_time) and c.time_inside_s == 0.0


def test_batch_matches_element_by_element():
    rng = np.random.default_rng(11)
    x0 = rng.uniform(-2e4, 0.0, (2, 3))
    y0 = rng.uniform(-1.2e4, 1.2e4, (2, 3))
    hd = rng.uniform(0.0, 180.0, (2, 3))
    h = np.radians(hd)[..., None]
    x = x0[..., None] + V * np.sin(h) * T
    y = y0[..., None] + V * np.cos(h) * T
    lat, lon = _track(x, y)
    valid = rng.uniform(size=(2, 3, T.size)) > 0.05
    c = B.crossings(SQUARE, T, lat, lon, valid)
    assert c.entry_time.shape == (2, 3) and c.n_entries.shape == (2, 3)
    assert c.entered.any() and (c.n_entries > 1).any()
    for i in range(2):
        for j in range(3):
            e = B.crossings(SQUARE, T, lat[i, j], lon[i, j], valid[i, j])
            for f in ("entered", "n_entries", "entry_time", "exit_time", "inside_at_end", "time_inside_s",
                      "distance_inside_m", "max_depth_m", "deepest_time"):
                np.testing.assert_allclose(getattr(c, f)[i, j], getattr(e, f), rtol=0, atol=1e-9, err_msg=f)
    np.testing.assert_array_equal(B.contains(SQUARE, lat, lon)[0, 1], B.contains(SQUARE, lat[0, 1], lon[0, 1]))


# --------------------------------------------------------------------------- Natural Earth
@pytest.fixture(scope="module")
def turkey():
    return B.territory("Turkey", waters_nmi=12.0, around_deg=(37.5, 35.0), radius_km=700.0)


@pytest.fixture(scope="module")
def turkey_land():
    return B.territory("Turkey", waters_nmi=0.0, around_deg=(37.5, 35.0), radius_km=700.0)


def test_cities(turkey):
    assert B.contains(turkey, 39.93, 32.86)  # Ankara
    assert not B.contains(turkey, 36.2, 37.16)  # Aleppo
    assert B.contains(turkey, [39.93, 36.2], [32.86, 37.16]).tolist() == [True, False]
    assert turkey.lonlat.contains(shapely.Point(32.86, 39.93))
    assert turkey.shape.geom_type in ("Polygon", "MultiPolygon") and turkey.shape.is_valid


def test_territorial_sea_off_mersin(turkey, turkey_land):
    lat, lon = 36.70, 34.64  # south of Mersin
    assert not B.over_land(lat, lon)
    x, y = turkey.projection.forward(lat, lon)
    off = turkey_land.shape.distance(shapely.Point(x, y))
    assert 8e3 < off < 12e3  # at sea, ~10 km out (9.6 km on Natural Earth's coast)
    assert B.contains(turkey, lat, lon) and not B.contains(turkey_land, lat, lon)
    # ~35 km out is beyond 12 nmi
    far = 36.45, 34.64
    x, y = turkey.projection.forward(*far)
    assert turkey_land.shape.distance(shapely.Point(x, y)) > 12 * B.NMI_M + 2e3
    assert not B.contains(turkey, *far)


def test_territorial_sea_does_not_spill_into_syria(turkey, turkey_land):
    from shieldlab.analysis import maps

    syria = maps.country_shape("Syria")
    lon = 38.5
    lats = np.arange(36.95, 36.40, -0.0005)
    x, y = turkey.projection.forward(lats, lon)
    d = shapely.distance(turkey_land.shape, shapely.points(x, y))
    in_syria = shapely.contains_xy(syria, lon, lats)
    k = np.flatnonzero(in_syria & (np.abs(d - 5e3) < 300.0))
    assert k.size, "no point of Syria 5 km from Turkey found along 38.5 E"
    assert not B.contains(turkey, lats[k], lon).any()
    # while the same distance out to sea is inside (the buffer itself works there)
    assert B.contains(turkey, 36.70, 34.64)


def test_over_land():
    lat = np.array([[42.0, 34.0], [35.69, 33.31]])  # Caspian, Mediterranean; Tehran, Baghdad
    lon = np.array([[50.5, 33.0], [51.39, 44.36]])
    np.testing.assert_array_equal(B.over_land(lat, lon), [[False, False], [True, True]])
    assert not B.over_land(np.nan, 0.0)
    assert B.over_land(39.93, 32.86 + 360.0)  # longitudes wrap


def test_crossings_across_turkey_match_dense_sampling(turkey):
    """Wiggly tracks with 10 km steps across the south coast and the Syrian border: entries,
    times inside and depth against 2,000 sub-samples a step (5 m apart)."""
    rng = np.random.default_rng(7)
    nb, nt, dt = 12, 60, 10.0
    proj = turkey.projection
    x0, y0 = proj.forward(rng.uniform(35.8, 37.5, nb), rng.uniform(33.0, 38.0, nb))
    hd = rng.uniform(0.0, 2.0 * np.pi, nb)[:, None] + np.cumsum(rng.normal(0.0, 0.15, (nb, nt)), axis=1)
    x = x0[:, None] + np.cumsum(1e4 * np.sin(hd), axis=1)
    y = y0[:, None] + np.cumsum(1e4 * np.cos(hd), axis=1)
    t = np.arange(nt) * dt
    c = B.crossings(turkey, t, *proj.inverse(x, y))
    f = np.linspace(0.0, 1.0, 2001)[:-1]
    xd = np.concatenate([(x[:, :-1, None] + f * np.diff(x)[..., None]).reshape(nb, -1), x[:, -1:]], axis=1)
    yd = np.concatenate([(y[:, :-1, None] + f * np.diff(y)[..., None]).reshape(nb, -1), y[:, -1:]], axis=1)
    td = np.concatenate([(t[:-1, None] + f * dt).ravel(), t[-1:]])
    ins = shapely.contains_xy(turkey.shape, xd, yd)
    h = dt / 2000.0
    assert (c.n_entries >= 2).any()
    np.testing.assert_array_equal(c.n_entries, (ins[:, 1:] & ~ins[:, :-1]).sum(axis=1) + ins[:, 0])
    np.testing.assert_allclose(c.time_inside_s, ins[:, :-1].sum(axis=1) * h, atol=2 * h)
    first = np.where(ins.any(axis=1), td[np.argmax(ins, axis=1)], np.nan)
    np.testing.assert_allclose(c.entry_time, first, atol=h)
    border = shapely.union_all(shapely.get_rings(shapely.get_parts(turkey.shape)))
    shapely.prepare(border)
    checked = 0
    for b in range(nb):
        xi, yi = xd[b, ins[b]], yd[b, ins[b]]
        if xi.size == 0:
            continue
        # every 20th sub-sample (50 m apart), then all (5 m) within 100 m of any of them within
        # 60 m of the deepest: the dense maximum to within 2.5 m
        coarse = shapely.distance(border, shapely.points(xi[::20], yi[::20]))
        near = np.flatnonzero(coarse >= coarse.max() - 60.0) * 20
        idx = np.unique(np.clip(near[:, None] + np.arange(-20, 21), 0, xi.size - 1))
        dense = shapely.distance(border, shapely.points(xi[idx], yi[idx])).max()
        # the disc's edge is no border for depth: compared where it is farther than the depth
        if dense < 700e3 - np.hypot(xd[b], yd[b]).max():
            assert dense - 1.0 <= c.max_depth_m[b] <= dense + 2.6  # 1 m search, 2.5 m sub-sampling
            checked += 1
    assert checked >= 6


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(("kwargs", "field"), [
    (dict(country="Turkye"), "country"),
    (dict(country="Turkey", waters_nmi=-1.0), "waters_nmi"),
    (dict(country="Turkey", waters_nmi=30.0), "waters_nmi"),
    (dict(country="Turkey", radius_km=0.0), "radius_km"),
    (dict(country="Turkey", radius_km=5000.0), "radius_km"),
    (dict(country="Turkey", around_deg=(95.0, 30.0)), "around_deg"),
])
def test_bad_input(kwargs, field):
    with pytest.raises(InputError) as e:
        B.territory(**kwargs)
    assert e.value.field == field


def test_unknown_country_lists_close_names():
    with pytest.raises(InputError, match="Turkey"):
        B.territory("Turkye")


def test_bad_crossings_input():
    lat, lon = _straight(0.0, 0.0)
    with pytest.raises(InputError) as e:
        B.crossings(SQUARE, T[:-1], lat, lon)
    assert e.value.field == "lat_deg"
    with pytest.raises(InputError) as e:
        B.crossings(SQUARE, T[::-1], lat, lon)
    assert e.value.field == "t"
    with pytest.raises(InputError) as e:
        B.crossings(SQUARE, T, lat, lon, valid=np.ones(3, bool))
    assert e.value.field == "valid"


def test_a_territory_in_longitude_and_latitude_is_a_valid_polygon():
    """Mapped vertex by vertex from the plane, Turkey's airspace (clipped at 600 km about the
    2015 incidents) crossed itself near the clip edge at 40.68 E, 37.09 N: an invalid GeoJSON
    polygon.  It is mended, its area kept."""
    import shapely

    from shieldlab.engine.air import air_territory
    from shieldlab.scenario import load_world

    t = air_territory(load_world("turkey-airspace-2015"))
    assert t.shape.is_valid and t.lonlat.is_valid
    raw = shapely.transform(t.shape, lambda xy: np.column_stack(t.projection.inverse(xy[:, 0], xy[:, 1])[::-1]))
    assert not raw.is_valid  # (the case exists)
    assert t.lonlat.area == pytest.approx(raw.area, rel=1e-9)


def test_a_neighbour_across_the_antimeridian_keeps_its_land_out_of_the_territorial_sea():
    """Russia's mainland crosses the antimeridian and is given twice, 360 degrees apart; both
    copies fell in a disc's clip boxes and, projected, on each other, and the invalid union
    lost their overlap: Russian land by Narva and by the Norwegian border counted as Estonia's
    and Norway's territorial sea.  Every point checked is on Russian land within 12 nmi of
    the neighbour's coast or border."""
    from shieldlab.airspace import borders as B

    est = B.territory("Estonia", waters_nmi=12)
    assert not B.contains(est, 59.25, 28.40) and not B.contains(est, 59.365, 28.26)  # east of the Narva
    assert B.contains(est, 59.55, 24.75)  # the sea off Tallinn is Estonia's
    assert B.contains(est, 59.3, 27.5)  # and its own land
    nor = B.territory("Norway", waters_nmi=12, around_deg=(69.5, 30.0), radius_km=300)
    assert not B.contains(nor, 69.45, 31.20) and B.contains(nor, 69.7, 30.0)
    # the land alone is the same with or without the sea: only the sea lost Russia's land
    assert B.territory("Estonia", waters_nmi=12).shape.area < 67_000e6


def test_the_airspace_outline_in_lon_lat_has_no_sliver_polygons():
    """Mending a lon/lat outline whose edges swapped near the clip disc left a zero-area
    polygon (1e-10 deg²) in Turkey's airspace, exported as such to GeoJSON and KML, where GIS
    tools flag it; the outline is one valid polygon of real ground."""
    import shieldlab
    from shieldlab.engine.air import air_territory

    t = air_territory(shieldlab.load_world("turkey-airspace-2015"))
    parts = shapely.get_parts(t.lonlat)
    assert t.lonlat.is_valid and min(p.area for p in parts) > 1e-4
    # the mending keeps the ground: the outline's area is the plane's, to 0.5 %
    plane_km2 = t.shape.area / 1e6
    lat = np.radians(t.lat0_deg)
    approx_km2 = t.lonlat.area * (111.195 ** 2) * np.cos(lat)
    assert approx_km2 == pytest.approx(plane_km2, rel=0.05)
