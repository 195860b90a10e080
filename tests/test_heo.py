"""Early-warning satellites on highly elliptical orbits (shieldlab.sensors.infrared with
catalogue orbit heo): the two-body orbit against its closed forms, what such a satellite
sees from where it is at each frame, and how a scenario places it (and is refused)."""

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from phase1_scene import phase1, phase1_flights

from shieldlab import catalog, earth
from shieldlab.cli import main
from shieldlab.engine.chain import preflight, run_chunk
from shieldlab.flyout import kepler
from shieldlab.flyout.interp import state_at
from shieldlab.scenario import compile_world
from shieldlab.scenario.loader import parse
from shieldlab.sensors.infrared import Satellite, expected_report_time, observe_launches

ROOT = Path(__file__).resolve().parents[1]
HEO = catalog.get_satellite("sbirs-heo")
GEO = catalog.get_satellite("sbirs-geo")


@pytest.fixture(scope="module")
def flights():
    return phase1_flights()


# --- the orbit ------------------------------------------------------------------------------------

@pytest.mark.parametrize("e", [0.0, 0.3, 0.72, 0.95, 0.999])
def test_kepler_equation_is_solved(e):
    m = np.linspace(-4 * np.pi, 4 * np.pi, 20_001)
    ecc = kepler.eccentric_anomaly(m, e)
    np.testing.assert_allclose(ecc - e * np.sin(ecc), m, rtol=0, atol=1e-12)
    assert np.all(np.diff(ecc) > 0)  # E grows with M through the whole turns


def test_inertial_to_ecef_turns_with_the_earth():
    """The inertial axes are the Earth-fixed ones at t = 0; a point that turns with the Earth
    (a geostationary orbit seen from inertial space) stays where it is in the Earth frame."""
    t = np.linspace(0.0, 86_400.0, 97)
    r = 42_164e3
    th = earth.OMEGA_EARTH * t + 0.3
    inertial = np.stack([r * np.cos(th), r * np.sin(th), np.full_like(t, 1e5)], axis=-1)
    fixed = earth.inertial_to_ecef(inertial, t)
    np.testing.assert_allclose(fixed, np.broadcast_to(fixed[0], fixed.shape), rtol=0, atol=1e-5)
    np.testing.assert_allclose(fixed[0], inertial[0], rtol=0, atol=1e-9)


def test_the_orbit_has_its_closed_form_period_radii_and_apogee():
    """SBIRS HEO placed with its apogee over 50 E at t = 1,000 s: the radius is a (1 + e) at
    apogee and a (1 - e) half a period T = 2 pi sqrt(a^3/GM) later, the largest and smallest
    over a fine grid; the apogee's geocentric latitude is asin(sin i sin(w + pi)) (63.4 N for
    w = 270 deg) and its longitude the one given; one period later the satellite is back at
    the same inertial place, so in the Earth frame at the same radius and latitude, its
    longitude turned back by OMEGA_EARTH T."""
    el = HEO.elements()
    a, e = el.semi_major_axis, el.eccentricity
    T = 2 * math.pi * math.sqrt(a**3 / earth.GM)
    assert HEO.period_s == pytest.approx(T, rel=1e-14)
    assert T == pytest.approx(43_082, abs=1.0)  # half a sidereal day: a Molniya orbit
    t_a = 1000.0
    sat = Satellite("h", HEO, math.radians(50.0), apogee_time=t_a)
    t = t_a + np.linspace(0.0, T, 200_001)
    p = sat.position_at(t)
    r = np.linalg.norm(p, axis=-1)
    assert r[0] == pytest.approx(a * (1 + e), rel=1e-12)
    assert r[100_000] == pytest.approx(a * (1 - e), rel=1e-12)
    assert r.max() == pytest.approx(a * (1 + e), rel=1e-12) and r.min() == pytest.approx(a * (1 - e), rel=1e-9)
    lat = math.asin(p[0, 2] / r[0])
    assert lat == pytest.approx(math.asin(math.sin(el.inclination) * math.sin(el.arg_perigee + math.pi)), abs=1e-12)
    assert math.degrees(lat) == pytest.approx(63.4, abs=1e-9)
    assert math.atan2(p[0, 1], p[0, 0]) == pytest.approx(math.radians(50.0), abs=1e-12)
    # one period on: the same radius and latitude, the longitude turned back by the Earth's rotation
    assert r[-1] == pytest.approx(r[0], rel=1e-12)
    assert p[-1, 2] == pytest.approx(p[0, 2], rel=1e-11)
    dlon = math.atan2(p[-1, 1], p[-1, 0]) - math.atan2(p[0, 1], p[0, 0])
    assert math.remainder(dlon + earth.OMEGA_EARTH * T, 2 * math.pi) == pytest.approx(0.0, abs=1e-11)
    # and the northern apogee is where it dwells: more than 80 % of the period above the equator
    assert np.mean(p[:, 2] > 0) > 0.8


def test_a_molniya_orbit_of_half_a_sidereal_day_repeats_its_ground_track():
    """With a period of exactly half a sidereal day (pi / OMEGA_EARTH) the next apogee is over
    the opposite longitude and the one after it over the same point again."""
    T = math.pi / earth.OMEGA_EARTH
    a_km = (earth.GM * (T / (2 * math.pi)) ** 2) ** (1 / 3) / 1e3
    spec = HEO.model_copy(update={"semi_major_axis_km": a_km})
    sat = Satellite("h", spec, math.radians(-100.0), apogee_time=-500.0)
    p = sat.position_at(np.array([-500.0, -500.0 + T, -500.0 + 2 * T]))
    lat, lon, _ = earth.ecef_to_geodetic(p)
    np.testing.assert_allclose(np.degrees(lon), [-100.0, 80.0, -100.0], atol=1e-9)
    np.testing.assert_allclose(lat, lat[0], atol=1e-12)
    np.testing.assert_allclose(p[2], p[0], rtol=0, atol=1e-4)


def test_a_geostationary_satellite_is_where_it_was():
    sat = Satellite("g", GEO, math.radians(57.0))
    p = sat.position_at(np.array([0.0, 1e4, 5e4]))
    np.testing.assert_array_equal(p, np.broadcast_to(sat.position, (3, 3)))
    with pytest.raises(ValueError, match="position_at"):
        _ = Satellite("h", HEO, 0.0).position


# --- what it sees ---------------------------------------------------------------------------------

def test_at_apogee_over_the_north_it_sees_what_a_grazing_geostationary_one_does_not(flights):
    """Both over 45 W: the geostationary SBIRS sees the Tabriz launches only past its limb (no
    detection, no report); the HEO payload at apogee over 63.4 N 45 W looks over the pole and
    reports every one.  Half an orbit later (apogee 6 h after the raid, so at the raid it is
    near perigee, low over the southern hemisphere) the same payload sees nothing: the
    satellite is where its orbit puts it at each frame."""
    _, truth = flights
    geo = observe_launches(Satellite("g", GEO, math.radians(-45.0)), truth, np.random.default_rng(1))
    assert not geo.detected.any() and np.isinf(geo.report_time).all()
    heo = observe_launches(Satellite("h", HEO, math.radians(-45.0)), truth, np.random.default_rng(1))
    assert np.isfinite(heo.report_time).all()
    assert np.all(heo.report_time - truth.launch_time < truth.burnout_time - truth.launch_time + HEO.report_latency_s)
    low = Satellite("h", HEO, math.radians(-45.0), apogee_time=HEO.period_s / 2)
    _, _, alt = earth.ecef_to_geodetic(low.position_at(np.array([0.0])))
    assert alt[0] < 2_000e3
    far = observe_launches(low, truth, np.random.default_rng(1))
    assert not far.detected.any() and np.isinf(far.report_time).all()


def test_lines_of_sight_start_where_the_satellite_is_at_each_frame(flights):
    """The angles-only reports point from the moving satellite's place at each frame: their
    error about that line is Rayleigh(sigma_los); about a fixed place it would hold the
    satellite's motion, ~1.3 km/s in the Earth frame, some 6 mrad over 200 s of burn."""
    _, truth = flights
    runs = 400
    big = type(truth)(**{k: (np.broadcast_to(v, (runs,) + v.shape).copy() if k != "t" else v)
                         for k, v in truth.__dict__.items()})
    sat = Satellite("h", HEO, math.radians(45.0), apogee_time=2 * 3600.0)  # 2 h before apogee: climbing
    r = observe_launches(sat, big, np.random.default_rng(5))
    pos, _ = state_at(big, r.t, velocity=False)
    d = pos - sat.position_at(r.t)
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    ang = np.arccos(np.clip(np.sum(r.los * d, axis=-1), -1, 1))[r.detected]
    assert ang.size > 1000
    assert ang.mean() == pytest.approx(1e-3 * HEO.sigma_los_mrad * np.sqrt(np.pi / 2), rel=0.05)


def test_expected_report_time_places_the_satellite_at_the_launch_time(flights):
    """The deterministic expectation (reach, footprint) lies within the runs' spread, and a
    launch at another time finds the satellite elsewhere on its orbit."""
    _, truth = flights
    sat = Satellite("h", HEO, math.radians(45.0))
    n = 0
    t = truth.launch_time[n] + np.arange(int(truth.impact_time[n] - truth.launch_time[n]))
    p, _ = state_at(truth, t, velocity=False)
    burn = truth.burnout_time[n] - truth.launch_time[n]
    exp = expected_report_time(sat, p[n], burn, 1.0, float(truth.launch_time[n]))
    runs = 1000
    big = type(truth)(**{k: (np.broadcast_to(v, (runs,) + v.shape).copy() if k != "t" else v)
                         for k, v in truth.__dict__.items()})
    rep = observe_launches(sat, big, np.random.default_rng(3)).report_time[:, n] - truth.launch_time[n]
    assert np.percentile(rep, 10) - HEO.frame_s <= exp <= np.percentile(rep, 90) + HEO.frame_s
    assert math.isinf(expected_report_time(sat, p[n], burn, 1.0, HEO.period_s / 2))  # near perigee


def test_a_heo_satellite_cues_the_radars_in_the_kill_chain():
    """epaa-phase-1 with SBIRS HEO at apogee over the north: the same runs as without it (its
    stream comes after the others), a launch report for every threat, and no first radar
    detection later."""
    plain = phase1()
    cued = phase1([{"name": "heo-1", "type": "sbirs-heo", "apogee_lon_deg": 45.0, "apogee_time_s": 600.0,
                     "system": "nato-bmd"}])
    sat = cued.early_warning[0]
    assert sat.apogee_time == 600.0 and sat.lon == pytest.approx(math.radians(45.0))
    runs = 8
    a = run_chunk(plain, preflight(plain, runs), 0, runs, np.random.SeedSequence(4))
    b = run_chunk(cued, preflight(cued, runs), 0, runs, np.random.SeedSequence(4))
    np.testing.assert_array_equal(a.truth.impact_time, b.truth.impact_time)
    (rep,) = b.launch_reports
    assert np.isfinite(rep.report_time).all()
    fa = np.where(a.detections[0].detected, a.detections[0].t, np.inf).min(axis=-1)
    fb = np.where(b.detections[0].detected, b.detections[0].t, np.inf).min(axis=-1)
    assert np.all(fb <= fa)


# --- the catalogue and the scenario ---------------------------------------------------------------

def test_the_heo_catalogue_entries():
    tundra = catalog.get_satellite("tundra")
    for spec in (HEO, tundra):
        el = spec.elements()
        assert spec.orbit == "heo" and 0.6 < el.eccentricity < 0.75
        assert 63.0 < math.degrees(el.inclination) < 64.0 and math.degrees(el.arg_perigee) == 270.0
        assert 11.5 * 3600 < spec.period_s < 12.1 * 3600  # Molniya orbits, 12 h
        assert "assumption" in spec.source
    # Tundra's elements are Kosmos 2541's reported 1,645 x 38,540 km
    el = tundra.elements()
    assert el.semi_major_axis * (1 - el.eccentricity) - earth.WGS84_A == pytest.approx(1_645e3, abs=10e3)
    assert el.semi_major_axis * (1 + el.eccentricity) - earth.WGS84_A == pytest.approx(38_540e3, abs=10e3)
    for spec in catalog.satellites().values():
        if spec.orbit == "geo":
            assert spec.semi_major_axis_km is None
            with pytest.raises(ValueError, match="no orbital elements"):
                spec.elements()


SCENARIO = """name: heo-check
epoch: 2012-03-01T00:00:00Z
sites: {{pad: {{lat: 38.08, lon: 46.29}}}}
early_warning: [{entry}]
threats: [{{name: t, missile: ghadr-1, launch: pad, aim: {{lat: 41.01, lon: 28.98}}}}]
{extra}"""

def _my_heo(eccentricity: str, more: str = "", orbit: str = "orbit: heo, ") -> str:
    """A scenario's catalog section with one HEO satellite entry, my-heo."""
    return ("catalog: {satellites: [{id: my-heo, name: x, origin: x, " + orbit + "semi_major_axis_km: 26562, "
            "eccentricity: " + eccentricity + ", inclination_deg: 63.4, arg_perigee_deg: 270, frame_s: 5, pd: 0.9, "
            "min_plume_alt_km: 5, init_frames: 3, report_latency_s: 45, sigma_los_mrad: 0.05, sigma_launch_time_s: 5, "
            "sigma_launch_km: 3, sigma_heading_deg: 3, source: test" + more + "}]}")


MINE = "{name: x, type: my-heo, apogee_lon_deg: 45}"


@pytest.mark.parametrize("entry, extra, field, words", [
    ("{name: x, type: sbirs-heo, apogee_lon_deg: 200}", "", "early_warning[0].apogee_lon_deg",
     "less than or equal to 180"),
    ("{name: x, type: sbirs-heo, apogee_lon_deg: 45, apogee_time_s: 1e6}", "", "early_warning[0].apogee_time_s",
     "less than or equal to 86400"),
    ("{name: x, type: sbirs-geo, lon_deg: 57, apogee_lon_deg: 45}", "", "early_warning[0].apogee_lon_deg",
     "sbirs-geo is geostationary"),
    ("{name: x, type: dsp, lon_deg: 57, apogee_time_s: 30}", "", "early_warning[0].apogee_time_s",
     "dsp is geostationary"),
    ("{name: x, type: sbirs-geo}", "", "early_warning[0].lon_deg", "Field required"),
    ("{name: x, type: tundra, lon_deg: 57}", "", "early_warning[0].lon_deg", "highly elliptical orbit"),
    ("{name: x, type: sbirs-heo, apogee_time_s: 0}", "", "early_warning[0].apogee_lon_deg", "Field required"),
    (MINE, _my_heo("1.0"), "catalog.satellites[0].eccentricity", "less than 1"),
    (MINE, _my_heo("0.8"), "catalog.satellites[0].eccentricity", "below the equator's surface"),
    (MINE, _my_heo("0.7", ", orbit_alt_km: 35786"), "catalog.satellites[0].orbit_alt_km", "orbit geo"),
    (MINE, _my_heo("0.7", orbit=""), "catalog.satellites[0].arg_perigee_deg", "orbit heo only"),
])
def test_validate_names_the_bad_orbit_field(tmp_path, capsys, entry, extra, field, words):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(entry=entry, extra=extra))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert field in err and words in err, err
    assert "Traceback" not in err


def test_the_worked_example_is_valid_and_places_both_kinds(capsys):
    path = ROOT / "docs" / "examples" / "early-warning-heo.yaml"
    assert main(["validate", str(path)]) == 0
    capsys.readouterr()
    w = compile_world(parse(yaml.safe_load(path.read_text()), str(path)))
    assert sorted(s.spec.orbit for s in w.early_warning) == ["geo", "heo"]


def test_the_other_orbits_fields_at_their_defaults_are_accepted():
    """apogee_lon_deg: null and apogee_time_s: 0 on a geostationary entry, lon_deg: null on a
    highly elliptical one, say nothing: each is the field's documented default."""
    entries = ["{name: g, type: sbirs-geo, lon_deg: 57, apogee_lon_deg: null, apogee_time_s: 0}",
               "{name: h, type: sbirs-heo, apogee_lon_deg: 45, lon_deg: null}"]
    for entry in entries:
        data = yaml.safe_load(SCENARIO.format(entry=entry, extra=""))
        w = compile_world(parse(data, "s"))
        assert len(w.early_warning) == 1
