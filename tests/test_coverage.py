"""Radar coverage (shieldlab.analysis.coverage), its map and the `coverage` command.

Validated against closed forms: the horizon of a target at altitude H, geometric and over
the 4/3 Earth of a standard atmosphere, with and without an elevation floor, the edges of a
sector radar's field, and the Pd = 0.5 range.  Coarse grids keep these fast.
"""

import json
import math
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
from test_cli import cli as run_cli

from shieldlab import earth
from shieldlab.analysis import coverage as C
from shieldlab.analysis.footprint import make_grid
from shieldlab.errors import InputError
from shieldlab.scenario import compile_world
from shieldlab.scenario.loader import parse
from shieldlab.sensors.radar import Radar, scan_gain


def _spec(az_fov_deg=360.0, el_min_deg=0.0, el_max_deg=90.0, max_range_km=1e5, ref_rcs_m2=1.0):
    """A catalogue-like sensor: what the field of regard and the range read."""
    spec = SimpleNamespace(id="test", name="test radar", az_fov_deg=az_fov_deg, el_min_deg=el_min_deg,
                           el_max_deg=el_max_deg, max_range_km=max_range_km, ref_rcs_m2=ref_rcs_m2)
    spec.detection_range_km = lambda rcs: max_range_km * (np.asarray(rcs, float) / ref_rcs_m2) ** 0.25
    return spec


def _world(sensors, threats=None, name="coverage-test", refraction_k=4.0 / 3.0, scan_loss=False):
    """A compiled scenario with these sensors (inline sites) and one Scud-B threat."""
    return compile_world(parse({
        "name": name, "epoch": "2020-01-01T00:00:00Z", "sensors": sensors,
        "sensing": {"refraction_k": refraction_k, "scan_loss": scan_loss},
        "threats": threats or [{"name": "t", "missile": "scud-b", "launch": {"lat": 30.0, "lon": 40.0},
                                "aim": {"lat": 31.0, "lon": 40.0}}],
    }, "test"))


def _euler_radius(lat, az):
    """Radius of curvature of the WGS84 ellipsoid at latitude ``lat`` in the direction ``az`` [m]."""
    w2 = 1.0 - earth.WGS84_E2 * math.sin(lat) ** 2
    n = earth.WGS84_A / math.sqrt(w2)
    m = earth.WGS84_A * (1.0 - earth.WGS84_E2) / w2 ** 1.5
    return 1.0 / (math.cos(az) ** 2 / m + math.sin(az) ** 2 / n)


def _edge(radar, az, alt_m, range_m, far_m=8e6):
    """The farthest ground point along azimuth ``az`` above which a target at ``alt_m`` is
    covered (bisection between a covered point and ``far_m``): (lat, lon) [rad]."""
    def covered(d):
        return bool(C.radar_covers(radar, *earth.destination(radar.lat, radar.lon, az, d), alt_m, range_m))

    lo, hi = 1.0, far_m
    assert not covered(hi)
    while not covered(lo):  # inside the cone over the site (el_max) nothing is seen: step out of it
        lo *= 2.0
        assert lo < hi
    for _ in range(45):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if covered(mid) else (lo, mid)
    return earth.destination(radar.lat, radar.lon, az, lo)


# --- 1. the horizon against the closed form on a sphere -----------------------------------------

@pytest.mark.parametrize("k", [1.0, 4.0 / 3.0])
@pytest.mark.parametrize("lat_deg", [0.0, 38.0, 70.0])
@pytest.mark.parametrize("el_deg", [0.0, 0.5, 5.0])
@pytest.mark.parametrize("alt_km", [10.0, 100.0, 1000.0])
def test_covered_ground_range_is_the_horizon(k, lat_deg, el_deg, alt_km):
    """A 360-degree radar at sea level with unlimited range, refraction factor k: the covered
    ground range along each azimuth is k R (arccos(k R cos e / (k R + H)) - e), the horizon
    of a sphere of k times the ellipsoid's radius of curvature R in that direction (k = 1:
    geometric; 4/3: a standard atmosphere's radio horizon, Skolnik 2001, ch. 8), to 0.2 %
    (measured: under 0.1 %)."""
    radar = Radar("r", _spec(el_min_deg=el_deg), math.radians(lat_deg), math.radians(20.0), 0.0, 0.0,
                  refraction_k=k)
    h, e = 1e3 * alt_km, math.radians(el_deg)
    for az in np.radians([0.0, 45.0, 90.0, 160.0, 250.0, 315.0]):
        lat, lon = _edge(radar, az, h, 1e12)
        got = float(earth.geodesic_distance(radar.lat, radar.lon, lat, lon))
        r = k * _euler_radius(radar.lat, az)
        want = r * (math.acos(r * math.cos(e) / (r + h)) - e)
        assert got == pytest.approx(want, rel=2e-3), (math.degrees(az), got, want)


@pytest.mark.parametrize("k", [1.0, 4.0 / 3.0])
def test_union_area_is_the_spherical_cap(k):
    """On a grid: a 360-degree radar's covered area is the cap 2 pi R^2 (1 - cos theta) out to
    its horizon (theta = k (arccos(k R cos e / (k R + H)) - e) over a k-times Earth), to 2 %
    on a 0.25-degree grid."""
    world = _world([{"name": "spy", "type": "an-spy-1d", "site": {"lat": 10.0, "lon": 20.0}}], refraction_k=k)
    cov = C.compute(world, 100.0, rcs_m2=1e4, grid=make_grid(-2.0, 22.0, 8.0, 32.0, 0.25))
    (r,) = cov.radars
    assert r.detection_range_km == pytest.approx(400.0 * (1e4 / 0.01) ** 0.25)  # far beyond the horizon
    R, H, e = earth.R_EARTH_MEAN, 1e5, math.radians(0.5)
    theta = k * (math.acos(k * R * math.cos(e) / (k * R + H)) - e)
    cap_km2 = 2 * math.pi * (R / 1e3) ** 2 * (1 - math.cos(theta))
    assert r.area_km2 == pytest.approx(cap_km2, rel=0.02)
    assert cov.union_area_km2 == r.area_km2 and cov.union.sum() == r.covered.sum()
    assert r.farthest_km == pytest.approx(R * theta / 1e3, abs=0.25 * 111.2)


# --- 2. a sector radar's field of regard --------------------------------------------------------

def test_sector_radar_covers_its_field_and_nothing_beyond():
    """A 120-degree radar looking east: nothing more than 60 degrees off its boresight, all
    of what is within its field, elevations and range; points just inside the edges are
    covered, points just outside are not."""
    world = _world([{"name": "tpy2", "type": "an-tpy-2", "site": {"lat": 40.0, "lon": 30.0},
                     "boresight_az_deg": 90}])
    radar = world.sensors[0].radar
    assert radar.spec.az_fov_deg == 120.0
    h = 1e5
    d_m = 1e3 * float(radar.spec.detection_range_km(1.0))
    for off, seen in ((-60.5, False), (-59.5, True), (0.0, True), (59.5, True), (60.5, False)):
        la, lo = earth.destination(radar.lat, radar.lon, math.radians(90.0 + off), 6e5)
        assert bool(C.radar_covers(radar, la, lo, h, d_m)) is seen, off
    cov = C.compute(world, 100.0, rcs_m2=1.0, grid=make_grid(30.0, 50.0, 16.0, 46.0, 0.25))
    (rc,) = cov.radars
    la, lo = np.meshgrid(np.radians(cov.grid.lat_deg), np.radians(cov.grid.lon_deg), indexing="ij")
    az, el, rng = earth.ecef_to_aer(earth.geodetic_to_ecef(la, lo, np.full(la.shape, h)), radar.lat, radar.lon,
                                    radar.alt)
    off = np.degrees(np.abs(np.angle(np.exp(1j * (az - radar.boresight_az)))))
    assert rc.covered.sum() > 500
    assert off[rc.covered].max() <= 60.0
    el_lo, el_hi = math.radians(max(radar.spec.el_min_deg, 0.0)), math.radians(radar.spec.el_max_deg)
    inside = (off < 59.9) & (el > el_lo + 1e-3) & (el < el_hi - 1e-3) & (rng < 0.999 * d_m)
    assert inside.sum() > 500 and rc.covered[inside].all()
    assert rc.covered[(off > 55.0) & inside].any()  # up to the edge


# --- 3. the range limit -------------------------------------------------------------------------

def test_no_covered_node_lies_farther_on_the_ground_than_the_detection_range():
    """Power-limited coverage (patriot-turkey-2013's AN/MPQ-65s against a target at 5 km, at
    37° N): a covered node's ground distance is below its slant range, so the farthest never
    passes the detection range. On the mean sphere it did (134.7 km against 134.6 km): the
    distance is the ellipsoid's geodesic."""
    import shieldlab

    cov = C.compute(shieldlab.load_world("patriot-turkey-2013"), 5.0)
    assert len(cov.radars) == 6
    for rc in cov.radars:
        assert 0.99 * rc.detection_range_km < rc.farthest_km <= rc.detection_range_km


def test_small_rcs_limits_coverage_to_the_detection_range():
    """AN/SPY-1D (400 km against 0.01 m^2) against 1e-4 m^2: 400 (1e-4 / 0.01)^(1/4) = 126.5 km,
    well inside the horizon of a target at 10 km (~ 300 km): the covered edge lies at that
    slant range, on the ground at the closed form arccos((rs^2 + rt^2 - D^2) / (2 rs rt))."""
    world = _world([{"name": "spy", "type": "an-spy-1d", "site": {"lat": 36.0, "lon": 27.0}}])
    radar = world.sensors[0].radar
    d_km = float(radar.spec.detection_range_km(1e-4))
    assert d_km == pytest.approx(126.49, abs=0.01)
    h = 1e4
    for az in np.radians([0.0, 100.0, 220.0]):
        lat, lon = _edge(radar, az, h, 1e3 * d_km)
        p = earth.geodetic_to_ecef(lat, lon, h)
        assert float(np.linalg.norm(p - radar.site_ecef)) == pytest.approx(1e3 * d_km, rel=1e-6)
        r = _euler_radius(radar.lat, az)
        ground = r * math.acos((r * r + (r + h) ** 2 - (1e3 * d_km) ** 2) / (2 * r * (r + h)))
        got = float(earth.geodesic_distance(radar.lat, radar.lon, lat, lon))
        assert got == pytest.approx(ground, rel=1e-3)
    cov = C.compute(world, 10.0, rcs_m2=1e-4)
    (rc,) = cov.radars
    assert rc.detection_range_km == pytest.approx(d_km)
    assert rc.farthest_km == pytest.approx(math.sqrt(d_km**2 - 10.0**2), abs=2.0)
    # the grid's area is the disc of that radius, to 3 %
    assert rc.area_km2 == pytest.approx(math.pi * (d_km**2 - 10.0**2), rel=0.03)
    # a detection range below the altitude covers nothing
    assert not C.compute(world, 130.0, rcs_m2=1e-4).union.any()


def test_scan_loss_shortens_the_reach_off_each_face_normal():
    """The same AN/SPY-1D with its four faces' scan loss: on a face normal (the boresight, 30°
    here, and 90° on) the covered edge is the full detection range; 45° off (between two faces)
    it is D cos(45°)^(2.5/4), 80.5 % of it, and 20° off D cos(20°)^(2.5/4); the area is that of
    the polar curve D(θ)² - h², to 3 %, below the disc's."""
    world = _world([{"name": "spy", "type": "an-spy-1d", "site": {"lat": 36.0, "lon": 27.0},
                     "boresight_az_deg": 30.0}], scan_loss=True)
    radar = world.sensors[0].radar
    assert radar.spec.faces == 4 and radar.scan_loss
    assert not _world([{"name": "spy", "type": "an-spy-1d", "site": {"lat": 36.0, "lon": 27.0}}]).sensors[0] \
        .radar.scan_loss  # off unless the scenario asks
    d_m = 1e3 * float(radar.spec.detection_range_km(1e-4))
    h = 1e4
    for az_deg, off_deg in ((30.0, 0.0), (120.0, 0.0), (75.0, 45.0), (345.0, 45.0), (50.0, 20.0), (190.0, 20.0)):
        lat, lon = _edge(radar, math.radians(az_deg), h, d_m)
        p = earth.geodetic_to_ecef(lat, lon, h)
        az_seen = float(earth.ecef_to_aer(p, radar.lat, radar.lon, radar.alt)[0])  # the geodesic's end bends
        want = d_m * math.cos(math.radians(off_deg)) ** (2.5 / 4)
        got = float(np.linalg.norm(p - radar.site_ecef))
        assert got == pytest.approx(d_m * float(scan_gain(radar, az_seen)) ** 0.25, rel=1e-6), az_deg
        # the chord's azimuth is within a fifth of a degree of the geodesic's: the nominal to 0.3 %
        assert abs((math.degrees(az_seen) - az_deg + 180.0) % 360.0 - 180.0) < 0.2
        assert got == pytest.approx(want, rel=3e-3), az_deg
    cov = C.compute(world, 10.0, rcs_m2=1e-4)
    (rc,) = cov.radars
    theta = np.linspace(-math.pi / 4, math.pi / 4, 2001)
    reach2 = (d_m / 1e3) ** 2 * np.cos(theta) ** (2 * 2.5 / 4) - 10.0**2  # ground reach squared [km²]
    area = 4 * 0.5 * float(np.mean(reach2)) * (math.pi / 2)  # four faces' sectors of the polar curve
    assert rc.area_km2 == pytest.approx(area, rel=0.03)
    assert area < math.pi * ((d_m / 1e3) ** 2 - 10.0**2)
    # the outputs say it was on (the same maps with it off could not be told apart but by shape)
    assert rc.faces == 4 and C.to_json(cov, include_grid=False)["radars"][0]["scan_loss_faces"] == 4
    assert "scan loss of the array faces (spy;" in C.propagation_text(cov)
    off = C.compute(_world([{"name": "spy", "type": "an-spy-1d", "site": {"lat": 36.0, "lon": 27.0}}]), 10.0,
                    rcs_m2=1e-4)
    assert off.radars[0].faces == 0 and "scan loss" not in C.propagation_text(off)


# --- RCS choice, bounds -------------------------------------------------------------------------

def test_rcs_from_threats_option_missile_or_reference():
    world = _world([{"name": "tpy2", "type": "an-tpy-2", "site": {"lat": 40.0, "lon": 30.0}}],
                   threats=[{"name": "a", "missile": "scud-b", "launch": {"lat": 30.0, "lon": 40.0},
                             "aim": {"lat": 31.0, "lon": 40.0}},
                            {"name": "b", "missile": "sejjil-2", "launch": {"lat": 30.0, "lon": 50.0},
                             "aim": {"lat": 40.0, "lon": 30.0}}])
    from shieldlab import catalog

    assert C.choose_rcs(world) == (catalog.get_missile("sejjil-2").rcs_m2, "threats", "sejjil-2")
    assert C.choose_rcs(world, rcs_m2=2.0) == (2.0, "--rcs-m2", None)
    assert C.choose_rcs(world, missile="scud-b") == (catalog.get_missile("scud-b").rcs_m2, "--missile", "scud-b")
    assert C.choose_rcs(replace(world, threats=())) == (None, "reference", None)
    for kw, field in (({"missile": "nope"}, "--missile"), ({"rcs_m2": 1.0, "missile": "scud-b"}, "--missile"),
                      ({"rcs_m2": 0.0}, "--rcs-m2"), ({"rcs_m2": float("nan")}, "--rcs-m2")):
        with pytest.raises(InputError) as e:
            C.choose_rcs(world, **kw)
        assert e.value.field == field
    # without threats each radar is mapped at its own reference RCS: its catalogue range
    cov = C.compute(replace(world, threats=()), 100.0, step_deg=1.0)
    assert cov.rcs_m2 is None and cov.radars[0].detection_range_km == pytest.approx(1000.0)
    assert "reference" in C.rcs_text(cov)


def test_bounds(monkeypatch):
    world = _world([{"name": "tpy2", "type": "an-tpy-2", "site": {"lat": 40.0, "lon": 30.0}}])
    for alt in (-1.0, 5001.0, float("nan")):
        with pytest.raises(InputError) as e:
            C.compute(world, alt)
        assert e.value.field == "--alt-km"
    with pytest.raises(InputError) as e:
        C.compute(replace(world, sensors=()))
    assert e.value.field == "sensors"
    # grid points x radars bounded: 11 x 11 points x 2 radars is over a bound of 241
    grid = make_grid(30.0, 40.0, 20.0, 30.0, 1.0)
    monkeypatch.setattr(C, "MAX_WORK", 241)
    C.compute(world, grid=grid)
    with pytest.raises(InputError) as e:
        C.compute(replace(world, sensors=world.sensors * 2), grid=grid)
    assert e.value.field == "--step-deg" and "241" in str(e.value)


def test_auto_grid_holds_every_coverage():
    """The default grid is the box over the radars' reach: no covered node on its edge."""
    world = _world([{"name": "ew", "type": "voronezh-dm", "site": {"lat": 44.9, "lon": 41.0}, "boresight_az_deg": 160},
                    {"name": "spy", "type": "an-spy-1d", "site": {"lat": 36.0, "lon": 27.0}}])
    for alt in (10.0, 100.0, 1000.0):
        cov = C.compute(world, alt, step_deg=0.5)
        for r in cov.radars:
            c = r.covered
            assert not (c[0].any() or c[-1].any() or c[:, 0].any() or c[:, -1].any()), (alt, r.name)
    assert cov.radars[0].farthest_km > 2500  # Voronezh-DM against 1000 km: thousands of km
    # about 160 nodes across (the step is a multiple of 0.05 deg, so fewer where it rounds up)
    assert C.compute(world, 100.0).grid.shape[1] in range(130, 171)


@pytest.mark.parametrize("lat, lon", [(0.0, 170.0), (0.0, -175.0), (52.7, 174.1), (90.0, 0.0), (-88.0, 30.0)])
def test_the_default_grid_across_the_antimeridian_and_over_a_pole(lat, lon):
    """A radar at 170 E took every longitude at a 2.25-degree step (4 % too much area, the map
    split between its two edges); one at the North Pole a 25 x 161 grid whose farthest cover was
    1,001 km of 1,121.  The box is the shortest arc of longitude (past 180 across the
    antimeridian), and a box over a pole is stepped along its latitudes: the area is the
    spherical cap to 1 %, the farthest cover its radius to a grid step, the box no wider than
    needed."""
    world = _world([{"name": "r", "type": "an-spy-1d", "site": {"lat": lat, "lon": lon}}], refraction_k=1.0)
    cov = C.compute(world, 100.0, rcs_m2=1e4)
    (r,) = cov.radars
    R, H, e = earth.R_EARTH_MEAN, 1e5, math.radians(0.5)
    theta = math.acos(R * math.cos(e) / (R + H)) - e
    assert r.area_km2 == pytest.approx(2 * math.pi * (R / 1e3) ** 2 * (1 - math.cos(theta)), rel=0.01)
    # to a grid step (0.1 deg, 11 km, over a pole) and the ellipsoid's flattening there (0.7 %)
    assert r.farthest_km == pytest.approx(R * theta / 1e3, abs=1.1 * 111.2 * cov.grid.step_deg + 0.008 * 1067)
    g = cov.grid
    if abs(lat) < 80:
        assert np.ptp(g.lon_deg) < 40.0
        assert g.lon_deg[0] <= lon % 360.0 <= g.lon_deg[-1] or g.lon_deg[0] <= lon <= g.lon_deg[-1]
        c = r.covered
        assert not (c[:, 0].any() or c[:, -1].any())
    else:
        assert g.step_deg <= 0.1 and g.lon_deg[0] == -180.0


@pytest.mark.parametrize("lat", [45.0, 89.3, 89.5])
def test_a_short_reach_near_a_pole_gets_rows_enough(lat):
    """A Patriot radar against a low target near the pole: its box is wide in degrees of
    longitude and short on the ground; the step from the longer side in degrees gave it 2 or
    3 latitudes and no covered node.  It gets MIN_ROWS latitudes, and covers about what it
    covers at 45 N (its 0.5-degree floor and the same range)."""
    world = _world([{"name": "r", "type": "an-mpq-65", "site": {"lat": lat, "lon": 10.0}}], refraction_k=1.0)
    cov = C.compute(world, 0.3, rcs_m2=1.0)
    assert cov.grid.shape[0] >= C.MIN_ROWS
    ref = C.compute(_world([{"name": "r", "type": "an-mpq-65", "site": {"lat": 45.0, "lon": 10.0}}],
                           refraction_k=1.0), 0.3, rcs_m2=1.0)
    assert cov.radars[0].area_km2 == pytest.approx(ref.radars[0].area_km2, rel=0.15)
    assert cov.radars[0].farthest_km == pytest.approx(ref.radars[0].farthest_km, rel=0.1)


def test_a_box_at_the_antimeridian_never_starts_west_of_180():
    """A radar just east of -180 facing east: the box's west edge, rounded down to a step that
    does not divide 180, fell west of -180 and the export cut those cells to nothing; the box
    is written from past 180 instead."""
    world = _world([{"name": "r", "type": "an-tpy-2", "site": {"lat": 0.0, "lon": -179.9}, "boresight_az_deg": 90}],
                   refraction_k=1.0)
    for step in (None, 0.35):
        g = C.compute(world, 100.0, step_deg=step).grid
        assert g.lon_deg[0] >= -180.0, step


def test_a_box_given_across_the_antimeridian_is_the_default_boxs_coverage():
    """The guide's Shemya radar maps 156 E to 192 E by default; --bbox refused any longitude
    past 180, so that box could not be given by hand.  Given, it covers what the default does;
    a box wider than the whole Earth, or starting past 180, is still refused."""
    world = _world([{"name": "r", "type": "an-spy-1d", "site": {"lat": 52.7, "lon": 174.1}}], refraction_k=1.0)
    auto = C.compute(world, 100.0, rcs_m2=1e4)
    g = auto.grid
    assert g.lon_deg[0] < 180.0 < g.lon_deg[-1]
    given = C.compute(world, 100.0, rcs_m2=1e4, grid=make_grid(g.lat_deg[0], g.lat_deg[-1], g.lon_deg[0],
                                                                 g.lon_deg[-1], g.step_deg))
    assert np.array_equal(given.radars[0].covered, auto.radars[0].covered)
    assert given.radars[0].area_km2 == pytest.approx(auto.radars[0].area_km2, rel=1e-9)
    for box in ((40.0, 60.0, 156.0, 560.0), (40.0, 60.0, 181.0, 192.0)):
        with pytest.raises(InputError, match="past 180 across the antimeridian") as e:
            make_grid(*box, 0.5)
        assert e.value.field == "--bbox"


def test_the_default_box_leaves_room_for_a_site_at_its_east_or_west_edge():
    """A radar at Shemya facing 250 deg, its reach all to the west: the box ended 0.05 deg
    east of its site, and its marker was cut at the frame; now 4 % of the box's width lies
    beyond it, as along the latitudes."""
    world = _world([{"name": "r", "type": "an-tpy-2", "site": {"lat": 52.72, "lon": 174.1},
                     "boresight_az_deg": 250}], refraction_k=1.0)
    g = C.compute(world, 100.0, rcs_m2=0.5).grid
    width = g.lon_deg[-1] - g.lon_deg[0]
    assert g.lon_deg[-1] - 174.1 >= 0.03 * width


def test_a_map_cut_by_its_box_says_so_under_itself(tmp_path, monkeypatch):
    """The command said a --bbox cut the coverage, the PNG did not: a map passed on alone read
    its areas as the radar's whole. Its footer now says so, and only where it is so."""
    from shieldlab.analysis import maps

    world = _world([{"name": "r", "type": "an-tpy-2", "site": {"lat": 52.72, "lon": 174.1},
                     "boresight_az_deg": 250}], refraction_k=1.0)
    footers = []
    monkeypatch.setattr(maps, "_under_the_axes", lambda fig, axes, footer, legend=None: footers.append(footer))
    for grid in (make_grid(50.0, 58.0, 160.0, 176.0, 0.25), None):
        cov = C.compute(world, 100.0, rcs_m2=0.5, grid=grid)
        maps.coverage_map(cov, tmp_path / "c.png")
    assert ["reaches the box's edge" in f for f in footers] == [True, False]


def test_a_map_across_the_antimeridian_labels_its_longitudes_within_180(tmp_path):
    """The map of a box from 156 E to 192 E labelled its ticks 160 ... 190 "deg E": past 180
    they now read west of Greenwich, negative (190 E is -170)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shieldlab.analysis import maps

    assert [maps.lon_tick_text(v) for v in (170.0, 180.0, 190.0, -190.0, 540.0)] == ["170", "180", "−170", "170",
                                                                                     "180"]
    fig, ax = plt.subplots()
    maps._axes_box(ax, 156.0, 192.0, 40.0, 60.0)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "−170" in labels and not any(t.lstrip("−").isdigit() and int(t.lstrip("−")) > 180 for t in labels)
    plt.close(fig)


def test_a_coverage_across_the_antimeridian_exports_longitudes_within_180():
    """The grid's longitudes run past 180; GeoJSON's may not: the part past 180 is moved west,
    the area kept."""
    from shieldlab.io import export as X

    world = _world([{"name": "r", "type": "an-spy-1d", "site": {"lat": 0.0, "lon": 178.0}}], refraction_k=1.0)
    cov = C.compute(world, 100.0, rcs_m2=1e4)
    assert cov.grid.lon_deg[-1] > 180.0
    geom = X.mask_polygons(cov.union, cov.grid.lat_deg, cov.grid.lon_deg, simplify=False)
    x0, _, x1, _ = geom.bounds
    assert -180.0 <= x0 and x1 <= 180.0 and geom.geom_type == "MultiPolygon"
    cell = cov.grid.step_deg
    assert geom.area == pytest.approx(cov.union.sum() * cell * cell, rel=1e-6)


# --- 4. the command -----------------------------------------------------------------------------

def cli(*args):
    return run_cli("coverage", *args)  # the command as test_cli runs it


def test_cli_says_why_a_radar_covers_nothing(tmp_path):
    """At 1,000 km the SPY-1Ds' 598 km detection range is short of the target's height: their
    rows print 0 km and 0 km², and a line under the table names them and says why."""
    r = cli("nato-russia-2011", "--alt-km", "1000", "--step-deg", "1", "--out", str(tmp_path / "c.png"))
    assert r.returncode == 0, r.stderr
    assert ("ship-spy1, black-sea-spy1: nothing covered: the detection range is short of the target's 1000 km "
            "height") in r.stdout
    assert "kurecik-tpy2: nothing" not in r.stdout and "armavir-voronezh: nothing" not in r.stdout
    r = cli("nato-russia-2011", "--step-deg", "1", "--out", str(tmp_path / "d.png"))
    assert r.returncode == 0 and "nothing covered" not in r.stdout


def test_cli_writes_map_and_json(tmp_path):
    png, js = tmp_path / "cov.png", tmp_path / "cov.json"
    r = cli("nato-russia-2011", "--alt-km", "100", "--step-deg", "0.5", "--out", str(png), "--json-out", str(js))
    assert r.returncode == 0, r.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 50_000
    assert "armavir-voronezh" in r.stdout and "smallest among the threats (sejjil-2)" in r.stdout
    d = json.loads(js.read_text())
    assert d["scenario"] == "nato-russia-2011" and d["alt_km"] == 100.0
    assert d["rcs_m2"] == 0.05 and d["rcs_from"] == "threats" and d["rcs_missile"] == "sejjil-2"
    n_lat, n_lon = len(d["lat_deg"]), len(d["lon_deg"])
    assert d["step_deg"] == 0.5 and len(d["union"]) == n_lat and {len(row) for row in d["union"]} == {n_lon}
    by = {x["name"]: x for x in d["radars"]}
    assert set(by) == {"kurecik-tpy2", "ship-spy1", "black-sea-spy1", "armavir-voronezh", "gabala-daryal"}
    vor = by["armavir-voronezh"]
    assert vor["detection_range_km"] == pytest.approx(4000 * 0.5 ** 0.25, abs=0.1)
    # at 100 km the horizon, not the range, limits: past a 0.5-degree floor through the
    # standard atmosphere, k R (acos(k R cos e / (k R + H)) - e) with its effective factor
    # for a target at 100 km (1.133): about 1,133 km (1,067 geometric, 1,225 over a 4/3 Earth)
    assert 1100 < vor["farthest_km"] < 1160 and vor["area_km2"] > 5e5
    assert vor["refraction_k"] is None  # the standard atmosphere
    cov = np.array([[c == "1" for c in row] for row in vor["covered"]])
    union = np.array([[c == "1" for c in row] for row in d["union"]])
    assert cov.shape == (n_lat, n_lon) and (union | cov).sum() == union.sum()
    assert 0 < max(x["area_km2"] for x in d["radars"]) <= d["union_km2"] <= sum(x["area_km2"] for x in d["radars"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind


def test_cli_json_to_stdout_and_quiet(tmp_path):
    from shieldlab.cli import main

    r = cli("patriot-turkey-2013", "--missile", "scud-c", "--alt-km", "20", "--step-deg", "0.1", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["rcs_from"] == "--missile" and d["rcs_missile"] == "scud-c" and d["alt_km"] == 20.0
    # AN/MPQ-65: 90 km against 0.1 m^2, so 90 (0.5 / 0.1)^(1/4) = 134.6 km against the Scud-C's 0.5 m^2
    assert all(x["detection_range_km"] == pytest.approx(134.6, abs=0.1) for x in d["radars"])
    assert all(120 < x["farthest_km"] < 134.6 for x in d["radars"])
    svg = tmp_path / "m.svg"
    assert main(["coverage", "patriot-turkey-2013", "--quiet", "--step-deg", "0.1", "--out", str(svg)]) == 0
    assert svg.read_text().lstrip().startswith("<?xml")


def _write(tmp_path, name, doc):
    path = tmp_path / f"{name}.yaml"
    path.write_text(json.dumps(doc))  # JSON is YAML
    return str(path)


@pytest.mark.parametrize("args, field", [
    (["--alt-km", "-1"], "--alt-km"),
    (["--alt-km", "5001"], "--alt-km"),
    (["--rcs-m2", "0"], "--rcs-m2"),
    (["--rcs-m2", "-2"], "--rcs-m2"),
    (["--rcs-m2", "inf"], "--rcs-m2"),
    (["--rcs-m2", "nan"], "--rcs-m2"),
    (["--rcs-m2", "1", "--missile", "scud-b"], "--missile"),
    (["--missile", "no-such-missile"], "--missile"),
    (["--bbox", "1,2,3"], "--bbox"),
    (["--bbox", "50,40,10,20"], "--bbox"),
    (["--bbox", "30,40,10,20", "--region", "europe"], "--bbox"),
    (["--region", "asia"], "--region"),
    (["--step-deg", "0"], "--step-deg"),
    (["--bbox", "-89,89,-180,180", "--step-deg", "0.05"], "--step-deg"),
    (["--bbox", "30,31,34,35", "--step-deg", "5"], "--step-deg"),  # a 1 x 1 grid: no step to map
    (["--json", "--quiet"], "--quiet"),
])
def test_cli_bad_input_exit_2_names_field_writes_nothing(tmp_path, capsys, args, field):
    from shieldlab.cli import main

    png = tmp_path / "m.png"
    assert main(["coverage", "epaa-phase-1", *args, "--out", str(png), "--json-out", str(tmp_path / "c.json")]) == 2
    err = capsys.readouterr().err
    assert field in err and "Traceback" not in err, err
    assert not list(tmp_path.iterdir())


def test_cli_bad_outputs_and_scenario_without_sensors(tmp_path, capsys):
    from shieldlab.cli import main

    assert main(["coverage", "epaa-phase-1", "--out", str(tmp_path / "m.txt")]) == 2
    assert "--out" in capsys.readouterr().err and not list(tmp_path.iterdir())
    old = tmp_path / "old.png"
    old.write_bytes(b"old")
    assert main(["coverage", "epaa-phase-1", "--step-deg", "1", "--out", str(old)]) == 2
    assert "--force" in capsys.readouterr().err and old.read_bytes() == b"old"
    assert main(["coverage", "epaa-phase-1", "--step-deg", "1", "--out", str(old), "--force", "--quiet"]) == 0
    assert capsys.readouterr().out == "" and old.read_bytes()[:4] == b"\x89PNG"
    path = _write(tmp_path, "no-sensors", {
        "name": "no-sensors", "epoch": "2020-01-01T00:00:00Z",
        "threats": [{"name": "t", "missile": "shahab-3", "launch": {"lat": 37.0, "lon": 20.0},
                     "aim": {"lat": 45.0, "lon": 20.0}}]})
    png = tmp_path / "n.png"
    assert main(["coverage", path, "--out", str(png)]) == 2
    err = capsys.readouterr().err
    assert "sensors" in err and "no sensor" in err and not png.exists()


def test_cli_says_why_nothing_is_covered():
    """A target above every radar's detection range is seen nowhere: the command says so and
    points at --alt-km, and says nothing of the kind where something is covered."""
    r = cli("patriot-turkey-2013", "--rcs-m2", "0.1", "--alt-km", "95", "--step-deg", "0.5")
    assert r.returncode == 0, r.stderr
    assert "seen by at least one radar: 0 km²" in r.stdout
    assert ("no radar sees a target at 95 km: the longest detection range, 90 km, is short of the target's "
            "height; a lower --alt-km") in r.stdout
    r = cli("patriot-turkey-2013", "--rcs-m2", "0.1", "--alt-km", "10", "--step-deg", "0.5")
    assert r.returncode == 0 and "no radar sees" not in r.stdout
    # in reach of the height, but the map's area lies beyond every radar: a lower altitude would not help
    r = cli("patriot-turkey-2013", "--rcs-m2", "0.1", "--alt-km", "10", "--bbox", "50,51,10,11", "--step-deg", "0.5")
    assert r.returncode == 0, r.stderr
    assert "no radar sees a target at 10 km inside this map: their fields of regard miss it" in r.stdout
    # some short of the height, the others looking elsewhere: each said for what it is (at 5,000 km
    # the SPY-1s' 598 km were said to miss it by their fields of regard)
    r = cli("nato-russia-2011", "--alt-km", "5000")
    assert r.returncode == 0, r.stderr
    assert ("no radar sees a target at 5000 km inside this map: kurecik-tpy2, ship-spy1, black-sea-spy1, "
            "armavir-voronezh: the detection range is short of its height; the others' fields of regard miss "
            "it") in " ".join(r.stdout.split())
    # a grid whose nodes fall either side of the covered area: it blamed the fields of regard and
    # a --bbox nobody gave
    r = cli("patriot-turkey-2013", "--rcs-m2", "0.1", "--alt-km", "80", "--step-deg", "1")
    assert r.returncode == 0, r.stderr
    assert "seen by at least one radar: 0 km²" in r.stdout
    assert "no grid node is seen: the nodes, 111 km apart, are too sparse" in r.stdout and "--bbox" not in r.stdout
    # a coarse box within range but behind the radars (all face south): it was "too sparse" by
    # distance alone; a finer grid would show nothing either
    r = cli("patriot-turkey-2013", "--rcs-m2", "0.1", "--alt-km", "10", "--bbox", "37.9,38.6,36.4,37.6",
            "--step-deg", "0.5")
    assert r.returncode == 0, r.stderr
    assert "their fields of regard miss it" in r.stdout and "too sparse" not in r.stdout


def test_the_report_maps_coverage_where_the_threats_fly():
    """At the lowest nominal apogee, at most 100 km: Iskanders gliding at ~40 km are never at
    the command's default of 100 km."""
    from shieldlab import load_world
    from shieldlab.analysis.coverage import DEFAULT_ALT_KM, threat_alt_km
    from shieldlab.engine import chain

    low = chain.fly_threats(load_world("iskander-kaliningrad")).truth.apogee_alt
    assert 25.0 <= threat_alt_km(low) == math.floor(float(low.min()) / 1e3 + 1e-3) < 60.0
    # rounded down: a height every threat reaches (51.8 km had been mapped at 52 km)
    assert threat_alt_km([51_800.0, 60_000.0]) == 51.0 and threat_alt_km([99_700.0]) == 99.0
    assert threat_alt_km([100_900.0]) == DEFAULT_ALT_KM and threat_alt_km([400.0]) == 1.0
    assert threat_alt_km([34_999.9999]) == threat_alt_km([35_000.0]) == 35.0  # to a metre
    assert threat_alt_km(chain.fly_threats(load_world("epaa-phase-1")).truth.apogee_alt) == DEFAULT_ALT_KM
    assert threat_alt_km(None) == DEFAULT_ALT_KM and threat_alt_km([np.nan]) == DEFAULT_ALT_KM


def test_each_radar_label_points_at_its_own_marker(monkeypatch, tmp_path):
    """Labels of radars close on the page were stacked beside one of them; on a zoomed-out map
    such a stack spanned degrees, and the Black Sea ship's label stood by Armavir's marker with
    nothing to say whose it was.  Each name now stands by its own radar (its annotation's
    point), clear of the others and inside the frame, tied by a line only where it stands
    further out than beside it."""
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    from shieldlab.analysis import maps
    from shieldlab.scenario import load_world

    figs = []
    monkeypatch.setattr(maps, "_save", lambda fig, path, dpi: figs.append(fig))
    monkeypatch.setattr(plt, "close", lambda fig=None: None)
    cov = C.compute(load_world("nato-russia-2011"), alt_km=1000.0)
    maps.coverage_map(cov, tmp_path / "c.png")
    fig = figs[0]
    ax = fig.axes[0]
    notes = {a.get_text(): a for a in ax.texts if a.get_text() in {r.name for r in cov.radars}}
    assert set(notes) == {r.name for r in cov.radars}
    r = fig.canvas.get_renderer()
    frame = ax.get_window_extent(r)
    boxes = []
    for rad in cov.radars:
        note = notes[rad.name]
        assert note.xy == pytest.approx((rad.lon_deg, rad.lat_deg))
        note.update_positions(r)
        b = Text.get_window_extent(note, r)
        assert frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1, rad.name
        # beside its marker (within a few points), or tied to it by a line
        x, y = ax.transData.transform(note.xy)
        gap = max(b.x0 - x, x - b.x1, b.y0 - y, y - b.y1, 0.0) * 72.0 / fig.dpi
        assert gap < 8.0 or note.arrow_patch is not None, (rad.name, gap)
        boxes.append((rad.name, b))
    assert [(a, b) for k, (a, ba) in enumerate(boxes) for b, bb in boxes[k + 1:]
            if ba.x0 < bb.x1 and bb.x0 < ba.x1 and ba.y0 < bb.y1 and bb.y0 < ba.y1] == []
    # the legend's areas in one unit: "1.31 M km²" stood beside "974,499 km²"
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(r.area_km2 < 1e6 for r in cov.radars) and cov.union_area_km2 >= 1e6
    assert all(t.endswith((" M km²", "nothing covered")) for t in texts), texts
    # a radar the horizon or its elevation floor ends short of the ground its Pd = 0.5 range
    # reaches at the target's height says how far its drawn coverage reaches (Daryal's 5,045 km
    # legend beside a fan of ~3,400 km); a radar that covers nothing says so
    for rad, text in zip(cov.radars, texts):
        short = 0.0 < rad.farthest_km < 0.97 * rad.range_ground_km(cov.alt_km)
        assert (f"(covered to {rad.farthest_km:,.0f} km)" in text) == short, text
        assert text.endswith("nothing covered") == (rad.area_km2 < 0.5), text
    assert any(0.0 < rad.farthest_km < 0.97 * rad.range_ground_km(cov.alt_km) for rad in cov.radars)
    assert any(rad.area_km2 < 0.5 for rad in cov.radars)  # the SPY-1s: 598 km, short of 1,000 km up
    monkeypatch.undo()
    plt.close("all")


def _named(fig, ax, sites):
    """Each of ``sites`` (name, lon, lat) drawn as a marker and named by maps.name_markers: the
    names' texts by name, and their boxes on the page."""
    from matplotlib.text import Text

    from shieldlab.analysis import maps

    for _, lo, la in sites:
        ax.plot(lo, la, "s", ms=6)
    maps.name_markers(fig, ax, [(lo, la, n, 6.0, dict(fontsize=7.5, fontweight="bold")) for n, lo, la in sites])
    r = fig.canvas.get_renderer()
    notes = {t.get_text(): t for t in ax.texts}
    for t in notes.values():
        t.update_positions(r)
    return notes, {n: Text.get_window_extent(t, r) for n, t in notes.items()}


def test_names_of_sites_at_one_place_stand_apart_each_tied_to_its_own():
    """maps.name_markers (every map's sites): names of sites at one place (a battery, its two
    radars and the asset it defends) stand apart, none over another, each pointing at its own
    site, tied to it by a line where it stands out; a site elsewhere keeps its name beside
    it.  The report had written a battery's, its radars' and its asset's names over each
    other."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    ax.set_xlim(34.0, 40.0)
    ax.set_ylim(34.0, 40.0)
    sites = [("de-1-mpq65", 37.0, 37.6), ("de-2-mpq65", 36.8, 37.5), ("de-1", 36.85, 37.55),
             ("kahramanmaras", 36.9, 37.45), ("adana", 35.3, 37.0)]  # (1° ~ 72 points here)
    notes, boxes = _named(fig, ax, sites)
    assert set(notes) == {n for n, _, _ in sites}
    for n, lo, la in sites:
        assert notes[n].xy == pytest.approx((lo, la))
    names = list(boxes)
    for i in range(len(names)):
        for j in range(i):
            a, b = boxes[names[i]], boxes[names[j]]
            assert not (a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1), (names[i], names[j])
    for n, _, _ in sites:  # beside its own marker (within a few points), or tied to it by a line
        x, y = ax.transData.transform(notes[n].xy)
        b = boxes[n]
        gap = max(b.x0 - x, x - b.x1, b.y0 - y, y - b.y1, 0.0) * 72.0 / fig.dpi
        assert gap < 8.0 or notes[n].arrow_patch is not None, (n, gap)
    assert notes["adana"].arrow_patch is None
    plt.close(fig)


def test_the_names_of_two_near_clusters_do_not_meet():
    """Two batteries' clusters ~60 km apart on a map of 6 degrees (patriot-turkey-2013's
    Kahramanmaras and Gaziantep): their names had run into each other; no two names' boxes
    meet, and each is inside the frame."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9.5, 10.0), dpi=100)
    ax.set_xlim(33.2, 39.5)
    ax.set_ylim(31.7, 39.6)
    ax.set_aspect(1.0 / np.cos(np.radians(35.6)))
    names = ["de-1-mpq65", "de-2-mpq65", "us-1-mpq65", "us-2-mpq65", "de-1", "de-2", "us-1", "us-2",
             "kahramanmaras", "gaziantep"]
    where = [(36.95, 37.6), (36.9, 37.55), (37.4, 37.07), (37.35, 37.05), (36.92, 37.58), (36.93, 37.57),
             (37.38, 37.06), (37.37, 37.06), (36.92, 37.58), (37.38, 37.07)]
    _, boxes = _named(fig, ax, [(n, lo, la) for n, (lo, la) in zip(names, where)])
    frame = ax.get_window_extent(fig.canvas.get_renderer())
    for i in range(len(names)):
        a = boxes[names[i]]
        assert frame.x0 <= a.x0 and a.x1 <= frame.x1 and frame.y0 <= a.y0 and a.y1 <= frame.y1, names[i]
        for j in range(i):
            b = boxes[names[j]]
            assert not (a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1), (names[i], names[j])
    plt.close(fig)


def test_a_small_area_beside_a_large_one_keeps_its_figures():
    """A legend's areas share one unit; a radar's 3,100 km² beside 1.3 M km² read 0.00 M km²."""
    from shieldlab.analysis.maps import _short_area

    assert _short_area(3_100.0, 1.3e6) == "3,100 km²"  # (then 0.0031 M km², and 220 km² 0.00022 M km²)
    assert _short_area(1.31e6, 1.31e6) == "1.31 M km²" and _short_area(0.0, 2e6) == "0.00 M km²"
    assert _short_area(974_499.0, 974_499.0) == "974,499 km²"


def test_a_radar_at_the_edge_of_its_reach_keeps_its_name_inside_the_map(tmp_path, monkeypatch):
    """A radar facing south-west, its reach all on one side: the box ended at its site and its
    name was written over the title.  The box keeps room round every site: each text of the
    map lies inside its frame."""
    from shieldlab.analysis import maps

    world = _world([{"name": "tpy2", "type": "an-tpy-2", "site": {"lat": 38.35, "lon": 37.79},
                     "boresight_az_deg": 210}], refraction_k=None)
    cov = C.compute(world, 100.0)
    outside = []

    def check(fig, path, dpi=120):
        ax = fig.axes[0]
        r = fig.canvas.get_renderer()
        fr = ax.get_window_extent(r)
        for t in ax.texts:
            b = t.get_window_extent(r)
            if b.x1 > fr.x1 + 1 or b.y1 > fr.y1 + 1 or b.x0 < fr.x0 - 1 or b.y0 < fr.y0 - 1:
                outside.append(t.get_text())

    monkeypatch.setattr(maps, "_save", check)
    maps.coverage_map(cov, tmp_path / "c.png")
    assert "tpy2" not in outside


def test_a_report_maps_coverage_again_at_the_lower_tiers_ceiling():
    """A PAC-3 MSE (ceiling 30 km) beside SM-3s: the report's coverage at 100 km shows its
    MPQ-65 blind, so it maps the coverage again at 30 km; a scenario of SM-3s alone does not."""
    from shieldlab.analysis import coverage as cov
    from shieldlab.scenario import load_world

    w = load_world("epaa-phase-1")  # SM-3 IA alone
    assert cov.lower_tier_alt_km(w, 100.0) is None
    w = load_world("iskander-kaliningrad")  # SM-3 IIA and PAC-3 MSE
    assert cov.lower_tier_alt_km(w, 100.0) == 30.0
    assert cov.lower_tier_alt_km(w, 35.0) is None  # not well below the first map's height


def test_names_in_a_crowd_stand_nearer_their_own_marker_and_their_lines_do_not_cross():
    """epaa-phase-4's European markers on a continental map (the IRBM's panel, 6 inches for 95
    degrees): a name beside a marker is nearer it than any marker elsewhere (Sofia's name west
    of Istanbul's circle, its line across that one's, read as Istanbul's), and leader lines
    do not cross where there is room."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shieldlab.analysis import maps

    fig, ax = plt.subplots(figsize=(6, 5), dpi=100)
    ax.set_xlim(0.0, 95.0)
    ax.set_ylim(5.0, 75.0)
    ax.set_aspect(1.0 / np.cos(np.radians(40.0)))
    sites = [("redzikowo-sm3", 17.1, 54.48), ("redzikowo-sm3-iib", 17.12, 54.47), ("deveselu-sm3", 24.4, 44.08),
             ("aegis-ship-sm3", 26.0, 35.9), ("kurecik-tpy2", 37.8, 38.35), ("deveselu-spy1", 24.45, 44.1),
             ("redzikowo-spy1", 17.15, 54.5), ("ship-spy1", 26.05, 35.92), ("athens", 23.73, 37.98),
             ("sofia", 23.32, 42.7), ("bucharest", 26.1, 44.43), ("istanbul", 28.98, 41.01),
             ("warsaw", 21.01, 52.23), ("berlin", 13.4, 52.52)]
    notes, boxes = _named(fig, ax, sites)
    where = {n: ax.transData.transform((lo, la)) for n, lo, la in sites}
    segs = []
    for n, note in notes.items():
        b = boxes[n]
        x, y = where[n]
        # the markers elsewhere (not at this one's place: a battery on its radar's site)
        others = np.array([p for m, p in where.items() if np.hypot(*(p - (x, y))) > 2.0])
        if note.arrow_patch is None:
            mine = maps._box_distance((b.x0, b.y0, b.x1, b.y1), np.array([[x, y]]))[0]
            assert mine <= maps._box_distance((b.x0, b.y0, b.x1, b.y1), others).min() + 1.0, n
            # nor level with another marker just past its end ("sofia ◎ istanbul")
            assert not maps._beside_another((b.x0, b.y0, b.x1, b.y1), np.array([[x, y]]), others), n
        else:
            end = note.arrow_patch.get_path().vertices
            segs.append((n, (x, y, *note.arrow_patch.get_transform().transform(end)[0])))
    # where room runs out, a line may still cross one (berlin's warsaw's, the two furthest out):
    # at most one pair does
    crossing = [(a[0], b[0]) for i, a in enumerate(segs) for b in segs[:i] if maps._crosses(a[1], b[1])]
    assert len(crossing) <= 1, crossing
    assert maps._crosses((0, 0, 2, 2), (0, 2, 2, 0)) and not maps._crosses((0, 0, 1, 1), (1, 1, 2, 0))
    # a 40 x 10 px name above its marker at (20, -12): a marker level with it 20 px past its
    # left end reads as the name's, one 40 px off or a name level with its own does not
    box, own = (0.0, 0.0, 40.0, 10.0), np.array([[20.0, -12.0]])
    assert maps._beside_another(box, own, np.array([[-20.0, 5.0]]))
    assert not maps._beside_another(box, own, np.array([[-40.0, 5.0]]))
    assert not maps._beside_another(box, np.array([[-8.0, 5.0]]), np.array([[60.0, 5.0]]))
    plt.close(fig)


def test_cli_maps_by_default_where_the_threats_fly(tmp_path):
    """Without --alt-km the command maps the height the run's report maps: the threats' lowest
    apogee, at most 100 km (a Scud-B's 73 km on patriot-turkey-2013; it mapped 100 km, above
    every threat of the raid, while the report said 73), and says why; 100 km where every
    apogee is higher."""
    from shieldlab import load_world
    from shieldlab.analysis import coverage as cvm
    from shieldlab.engine.chain import fly_threats

    world = load_world("patriot-turkey-2013")
    want = cvm.threat_alt_km(fly_threats(world).truth.apogee_alt)
    assert 50 < want < 100
    r = cli("patriot-turkey-2013", "--step-deg", "0.2", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["alt_km"] == want
    r = cli("patriot-turkey-2013", "--step-deg", "0.2")
    lowest = float(np.min(fly_threats(world).truth.apogee_alt)) / 1e3
    said = " ".join(r.stdout.split())
    assert f"at {want:g} km: the threats' lowest apogee ({lowest:,.1f} km) rounded down to the whole km" in said
    r = cli("epaa-phase-1", "--step-deg", "1")
    assert "at 100 km: the default, below every threat's apogee" in " ".join(r.stdout.split())
    # a Scud-C over 362 km tops out at 99.7 km: mapped at 99 km, and not "below every apogee"
    scud_c = tmp_path / "scud-c.yaml"
    scud_c.write_text("""
name: scud-c-at-100-km
epoch: 2020-06-01T00:00:00Z
sites:
  radar-site: {lat: 32.0, lon: 35.2, alt_m: 800}
  launch-area: {lat: 33.855, lon: 38.096}
sensors:
  - {name: tpy2, type: an-tpy-2, site: radar-site, boresight_az_deg: 50}
assets:
  - {name: city, site: {lat: 31.9, lon: 35.0}, radius_km: 15}
threats:
  - {name: scud, missile: scud-c, launch: launch-area, aim: city}
""")
    apogee = float(np.min(fly_threats(load_world(str(scud_c))).truth.apogee_alt)) / 1e3
    assert 99.5 <= apogee < 100.0
    r = cli(str(scud_c), "--step-deg", "1")
    assert r.returncode == 0, r.stderr
    assert f"at 99 km: the threats' lowest apogee ({apogee:,.1f} km) rounded down to the whole km" in " ".join(
        r.stdout.split())
    # a threat that cannot be flown does not stop a map that needs no flight: the default, and why
    import yaml

    from shieldlab.scenario.loader import preset_text

    d = yaml.safe_load(preset_text("patriot-turkey-2013"))
    d["threats"][0]["aim"] = {"lat": 60.0, "lon": 10.0}
    far = tmp_path / "far.yaml"
    far.write_text(yaml.safe_dump(d))
    r = cli(str(far), "--step-deg", "0.2")
    assert r.returncode == 0, r.stderr
    assert "at 100 km: the default (the threats could not be flown: aim point" in " ".join(r.stdout.split())


def test_a_tie_for_the_smallest_rcs_names_every_missile_in_it():
    """epaa-phase-2 flies Sejjil-2s and Ghadr-1s, both 0.05 m²: the coverage names both, not
    whichever came first (a reader of another scenario's map, naming the Sejjil alone, took
    the two maps to disagree); nato-russia-2011, with Sejjil-2s and no Ghadr, names one."""
    from shieldlab import load_world

    rcs, src, ids = C.choose_rcs(load_world("epaa-phase-2"))
    assert (rcs, src, ids) == (0.05, "threats", "ghadr-1, sejjil-2")
    assert C.choose_rcs(load_world("nato-russia-2011"))[2] == "sejjil-2"


def test_a_box_that_cuts_the_coverage_says_so_and_is_mapped_at_the_boxs_own_step():
    """A 1-degree --bbox round a Patriot radar was mapped at 0.25 deg (5 x 5 nodes for a 135 km
    radar) and its covered area and farthest range, cut by the box, were printed as the
    radar's, without a word.  The box now gets the automatic step the command's own box gets,
    and a coverage reaching the box's edge is said, in the text and the JSON."""
    box = ["--bbox", "36.5,37.5,36.5,37.5"]  # round Gaziantep's Patriot radars, cut on every side
    r = cli("patriot-turkey-2013", "--rcs-m2", "0.5", "--alt-km", "10", *box)
    assert r.returncode == 0, r.stderr
    assert "(101 x 101 grid, step" in r.stdout
    assert "the coverage reaches the edge of the map's box: the areas and farthest ranges above are of the box alone" \
        in r.stdout
    js = json.loads(cli("patriot-turkey-2013", "--rcs-m2", "0.5", "--alt-km", "10", *box, "--json").stdout)
    assert js["cut_at_box_edge"] is True and js["step_deg"] == 0.01
    whole = json.loads(cli("patriot-turkey-2013", "--rcs-m2", "0.5", "--alt-km", "10", "--json").stdout)
    assert whole["cut_at_box_edge"] is False
    assert "reaches the edge" not in cli("patriot-turkey-2013", "--rcs-m2", "0.5", "--alt-km", "10").stdout


def test_a_grid_edge_is_neither_a_pole_nor_a_longitude_of_the_whole_earth():
    g = make_grid(-90, 90, -180, 179, 1.0)
    m = np.zeros(g.shape, bool)
    m[0, :] = m[-1, :] = True  # the poles' rows
    m[90, 0] = m[90, -1] = True  # the antimeridian's columns
    assert not g.at_edge(m)
    box = make_grid(30, 40, 10, 20, 1.0)
    inner = np.zeros(box.shape, bool)
    inner[3:7, 3:7] = True
    assert not box.at_edge(inner)
    for r, c in ((0, 5), (-1, 5), (5, 0), (5, -1)):
        e = inner.copy()
        e[r, c] = True
        assert box.at_edge(e), (r, c)


def test_the_coverage_shade_lies_inside_the_radars_outlines(tmp_path, monkeypatch):
    """The union was shaded as whole grid cells and the radars outlined by contours between the
    nodes, so the shading stuck out past the outlines; both are contours of the nodes now: the
    shaded area and the area inside the one radar's outline are the same polygon."""
    import shapely

    from shieldlab import load_world
    from shieldlab.analysis import maps

    axes = []
    monkeypatch.setattr(maps, "_save", lambda fig, path, dpi: axes.append(fig.axes[0]))
    world = load_world("patriot-turkey-2013")
    one = replace(world, sensors=world.sensors[:1])
    cov = C.compute(one, 10.0, rcs_m2=0.5)
    maps.coverage_map(cov, tmp_path / "c.png")
    (ax,) = axes
    assert not ax.images
    assert any(t.get_text().endswith(" km") and t.get_text()[:-3].isdigit() for t in ax.texts)  # a scale bar

    def area(cs):  # the polygons of a contour set's paths, unioned
        polys = [shapely.Polygon(p) for path in cs.get_paths() for p in path.to_polygons() if len(p) >= 3]
        return shapely.union_all([q.buffer(0) for q in polys])

    filled = [c for c in ax.collections if hasattr(c, "get_paths") and getattr(c, "filled", False)]
    lines = [c for c in ax.collections if hasattr(c, "levels") and not getattr(c, "filled", True)]
    shade, outline = area(filled[0]), area(lines[0])
    assert shade.area > 0 and shade.symmetric_difference(outline).area < 1e-6 * shade.area


@pytest.mark.parametrize("range_km, alt_km, site_m", [(135.0, 63.0, 0.0), (1495.0, 100.0, 2085.0),
                                                     (598.0, 1000.0, 0.0), (4000.0, 300.0, 0.0)])
def test_the_ground_a_slant_range_reaches_at_a_height(range_km, alt_km, site_m):
    """The ground distance at which a target ``alt_km`` up is ``range_km`` away, against the
    law of cosines on the sphere solved the other way (the slant range of that ground
    distance); a range short of the height reaches no ground.  A 135 km Patriot's coverage
    of a target 63 km up ends 119 km out over the ground, the range, not the horizon, ending it
    (its legend had said 'covered to 118 km' as if the horizon had)."""
    import math

    rad = C.RadarCoverage("r", "x", "x", "s", 0.0, 0.0, site_m, 0.0, 360.0, 0.0, 90.0, 1.0, range_km,
                          np.zeros((1, 1), bool), 0.0, 0.0)
    g = rad.range_ground_km(alt_km)
    if range_km < alt_km:
        assert g == 0.0
        return
    R = 6371.0088
    a, b, th = R + site_m / 1e3, R + alt_km, g / R
    assert math.sqrt(a * a + b * b - 2 * a * b * math.cos(th)) == pytest.approx(range_km, rel=1e-9)
    if range_km == 135.0:
        assert 118.0 < g < 120.0 and g < math.sqrt(135.0 ** 2 - 63.0 ** 2)


def test_coverage_takes_set_as_the_other_commands_do(tmp_path):
    """The guide varies ``sensing.refraction_k``; coverage had no --set (a copied preset was the
    only way).  A flat Earth's radio horizon ends a low target's coverage sooner."""
    std = cli("nato-russia-2011", "--alt-km", "10", "--json", "--step-deg", "0.5")
    flat = cli("nato-russia-2011", "--alt-km", "10", "--json", "--step-deg", "0.5", "--set", "sensing.refraction_k=1")
    assert std.returncode == 0 and flat.returncode == 0, flat.stderr
    a, b = json.loads(std.stdout), json.loads(flat.stdout)
    assert "set" not in a and b["set"] == {"sensing.refraction_k": 1.0}
    assert b["union_km2"] < a["union_km2"]
    r = cli("nato-russia-2011", "--set", "sensing.refraction_k=-1", "--out", str(tmp_path / "m.png"))
    assert r.returncode == 2 and "sensing.refraction_k" in r.stderr and not (tmp_path / "m.png").exists()


def test_a_radar_that_sees_nothing_at_the_height_does_not_stretch_the_map():
    """kalibr-caspian-2015 at 100 m: the Voronezh-DM at Armavir sees nothing that low, and its
    site, 800 km north, had stretched the map of Turkey's low-level cover over the Black Sea to
    southern Russia. The box now holds the radars that see something; the one that does not is
    still in the table, covering nothing."""
    from shieldlab import load_world

    world = load_world("kalibr-caspian-2015")
    low = C.compute(world, 0.1, rcs_m2=0.03)
    armavir = next(r for r in low.radars if r.name == "armavir")
    assert armavir.area_km2 == 0.0 and low.union_area_km2 > 50_000
    assert low.grid.lat_deg[-1] < 40.0 < math.degrees(next(s.radar.lat for s in world.sensors
                                                            if s.radar.name == "armavir"))
    for r in low.radars:  # no cover cut by the smaller box
        c = r.covered
        assert not (c[0].any() or c[-1].any() or c[:, 0].any() or c[:, -1].any()), r.name
    # where it sees something, its site is in the box again
    high = C.compute(world, 100.0, rcs_m2=0.03, step_deg=0.5)
    assert high.grid.lat_deg[-1] > 44.9


def test_radars_whose_markers_overlap_share_one_name(tmp_path, monkeypatch):
    """iskander-kaliningrad: the SPY-1D and the MPQ-65 stand 1.5 km apart, one marker over the
    other on a map 1,400 km across, and the hidden one's name stood by the other's marker as if
    it were its own. Markers that overlap get one name between them, each radar still keyed in
    the legend; radars apart keep their own."""
    import matplotlib.pyplot as plt

    from shieldlab.analysis import maps
    from shieldlab.scenario import load_world

    figs = []
    monkeypatch.setattr(maps, "_save", lambda fig, path, dpi: figs.append(fig))
    monkeypatch.setattr(plt, "close", lambda fig=None: None)
    cov = C.compute(load_world("iskander-kaliningrad"), alt_km=35.0)
    maps.coverage_map(cov, tmp_path / "c.png")
    texts = [t.get_text() for t in figs[0].axes[0].texts]
    assert "redzikowo-spy1 / redzikowo-mpq65" in texts
    assert "redzikowo-spy1" not in texts and "redzikowo-mpq65" not in texts
    legend = [t.get_text() for t in figs[0].axes[0].get_legend().get_texts()]
    assert sum(t.startswith(("redzikowo-spy1:", "redzikowo-mpq65:")) for t in legend) == 2
