"""Defended footprint (shieldlab.analysis.footprint), its maps and the `footprint` command.

Coarse grids keep these fast; the 1/4-degree Europe grid is timed in bench/footprint.py.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from test_cli import cli as run_cli

from shieldlab import earth
from shieldlab.analysis import footprint as F
from shieldlab.engage.fan import fan_for
from shieldlab.errors import InputError
from shieldlab.flyout import aim
from shieldlab.flyout.integrate import EarthModel, fly
from shieldlab.flyout.vehicle import vehicle_from_missiles
from shieldlab.scenario import compile_world, load_world
from shieldlab.scenario.loader import parse

NO_SPIN = EarthModel(rotating=False)  # J2 is zonal and drag is isotropic: mirror-symmetric about a meridian


def _symmetric_world(burnout_speed_kms=None):
    """A Shahab-3 site and an SM-3 IA battery with its radar on the 20 E meridian, the radar looking south."""
    bat = {"name": "sm3", "interceptor": "sm-3-block-ia", "site": "bat", "rounds": 8, "system": "bmd"}
    if burnout_speed_kms is not None:
        bat["burnout_speed_kms"] = burnout_speed_kms
    return compile_world(parse({
        "name": "symmetric", "epoch": "2020-01-01T00:00:00Z",
        "sites": {"bat": {"lat": 44.0, "lon": 20.0}, "launch": {"lat": 37.0, "lon": 20.0}},
        "sensors": [{"name": "tpy2", "type": "an-tpy-2", "site": "bat", "boresight_az_deg": 180, "system": "bmd"}],
        "batteries": [bat],
        "threats": [{"name": "t", "missile": "shahab-3", "launch": "launch", "aim": {"lat": 45.0, "lon": 20.0}}],
    }, "test"))


GRID = F.make_grid(38.0, 47.0, 14.0, 26.0, 0.5)  # 25 longitudes, symmetric about 20 E


@pytest.fixture(scope="module")
def sym():
    return F.compute(_symmetric_world(), GRID, model=NO_SPIN)


def test_symmetric_case_gives_symmetric_footprint(sym):
    s = sym.sites[0]
    assert s.defended.sum() > 20 and (~s.defended & s.threatened).sum() > 20  # a real boundary to test
    mirror = s.defended[:, ::-1]
    # tolerance: profiles are interpolated between azimuth columns placed symmetrically, so
    # the two halves agree cell for cell; allow 1 % of the cells for round-off on the boundary
    assert (mirror != s.defended).sum() <= 0.01 * s.defended.size
    both = s.defended & mirror
    assert np.allclose(s.p_intercept[both], s.p_intercept[:, ::-1][both], atol=1e-9)
    assert np.allclose(s.first_intercept_s[both], s.first_intercept_s[:, ::-1][both], atol=0.5)


def test_zero_burnout_speed_defends_nothing():
    fp = F.compute(_symmetric_world(), GRID, model=NO_SPIN, burnout_speed_scale=0.0)
    assert fp.sites[0].threatened.sum() > 50
    assert not fp.sites[0].defended.any() and fp.defended_area_km2() == 0.0
    assert np.all(fp.sites[0].p_intercept[fp.sites[0].threatened] == 0.0)
    # a crawling interceptor (10 m/s, the schema's floor is > 0) defends nothing either
    fp = F.compute(_symmetric_world(burnout_speed_kms=0.01), GRID, model=NO_SPIN)
    assert not fp.sites[0].defended.any()


def test_probability_follows_doctrine(sym):
    s = sym.sites[0]
    p = s.p_intercept[s.defended]
    pk = 0.8  # sm-3-block-ia sspk; salvo 1, up to 2 engagements shoot-look-shoot
    assert set(np.round(np.unique(p), 9)) <= {pk, round(1 - (1 - pk) ** 2, 9)}
    assert np.all(np.isnan(s.p_intercept[~s.threatened]))


def _direct_path(site, lat, lon, model):
    st = aim.solve([site.missile], site.lat, site.lon, site.alt, lat, lon, model=model)
    tr = fly(vehicle_from_missiles([site.missile]), earth.geodetic_to_ecef(site.lat, site.lon, site.alt)[None],
             np.zeros(1), st.kick, st.azimuth, st.cutoff, t0=0.0, dt=0.25, T=int(3000 / 0.25), model=model,
             upper_thrust=st.upper_thrust, dive_time=st.dive_time)
    n = tr.t < tr.impact_time[0]
    return tr.t[n], tr.pos[0, n], tr.impact_time[0]


def test_interpolated_paths_match_direct_flyouts():
    """Paths to grid points, interpolated from the profile family, against the solver and a
    direct full-model flyout (rotating Earth, J2, drag) to the same points: < 2 km apart."""
    w = _symmetric_world()
    site = F.launch_sites(w)[0]
    tab = F.build_profiles([site], GRID)[0]
    lat = np.radians([41.3, 43.5, 39.7])
    lon = np.radians([23.7, 16.0, 20.4])
    ok, t, la, lo, h = F.threat_path(tab, lat, lon)
    assert ok.all()
    for q in range(lat.size):
        tt, pos, tof = _direct_path(site, lat[q], lon[q], F.FULL)
        assert abs(t[q, -1] - tof) < 1.5
        P = np.stack([np.interp(t[q, :-1], tt, pos[:, c]) for c in range(3)], -1)
        dla, dlo, dh = earth.ecef_to_geodetic(P)
        ground = earth.great_circle_distance(la[q, :-1], lo[q, :-1], dla, dlo)
        assert np.max(np.hypot(ground, h[q, :-1] - dh)) < 2e3


def test_footprint_point_against_flyout_and_fan(sym):
    """The kernel's verdict at grid points against a direct solve + flyout of the threat and
    the interceptor's fan read along it: same verdict, first intercept within 3 s."""
    w = _symmetric_world()
    site = F.launch_sites(w)[0]
    bat = w.batteries[0]
    fan = fan_for(bat.spec)
    s = sym.sites[0]
    picks = [(i, j) for i, j in [(8, 12), (14, 12), (16, 9), (4, 18), (12, 3)] if s.threatened[i, j]]
    assert len(picks) >= 4 and len({bool(s.defended[i, j]) for i, j in picks}) == 2
    for i, j in picks:
        la, lo = np.radians(GRID.lat_deg[i]), np.radians(GRID.lon_deg[j])
        tt, pos, _ = _direct_path(site, la, lo, NO_SPIN)
        plat, plon, alt = earth.ecef_to_geodetic(pos)
        g = earth.great_circle_distance(bat.site.lat, bat.site.lon, plat, plon)
        latest = tt - fan.time_to(g, alt)
        ready = s.cue_s[i, j] + bat.reaction_time
        can = latest >= ready
        # one profile node of slack on either side of the boundary
        if bool(s.defended[i, j]):
            assert can.any()
            assert abs(tt[np.argmax(can)] - s.first_intercept_s[i, j]) < 3.0
        else:
            assert not (latest >= ready + 3.0).any()


def test_aircraft_reach_into_syria():
    w = load_world("patriot-turkey-2013")
    r = F.aircraft_reach(w, 10.0)
    assert r.home == "Turkey" and r.focus == "Syria"
    # 4/3-Earth horizon, d = 4.12 km (sqrt(h_a) + sqrt(h_t)) with heights in metres (Skolnik 2001, 8.2)
    assert F.radar_horizon_m(5.0, 10e3) / 1e3 == pytest.approx(4.12 * (np.sqrt(5.0) + 100.0), rel=2e-3)
    by = {b["name"]: b for b in r.batteries}
    assert by["us-2"]["reach_km"] == pytest.approx(np.sqrt(160**2 - 10**2), abs=0.5)  # GEM-T's 160 km, slant
    depths = [b["depth_km"] for b in r.batteries if b["depth_km"] is not None]
    assert 50 < max(depths) < 160  # PAC-2 from Gaziantep reaches well past the border, never 160 km past it
    assert r.focus_area_km2 > 5e3 and r.n_batteries.max() >= 2


def test_a_low_aircraft_is_lost_at_the_radars_elevation_floor_as_coverage_draws_it():
    """At 0.5 km the AN/MPQ-65 (0.5 deg floor) loses an aircraft 44 km out: the aircraft reach
    had used the smooth-Earth horizon alone (~100 km, 6,100 km2 of Syria) where the coverage
    map of the same radar stopped at 44 km.  Closed form: the line at the floor's elevation
    meets the aircraft's height over the effective Earth, ~h / tan(e) on a flat one."""
    from shieldlab.analysis import coverage

    w = load_world("patriot-turkey-2013")
    r = F.aircraft_reach(w, 0.5)
    us2 = {b["name"]: b for b in r.batteries}["us-2"]
    radar = next(ps.radar for ps in w.sensors if ps.radar.name == us2["radar"])
    assert "elevation_floor_km" in us2["limits"]
    assert us2["reach_km"] == pytest.approx(us2["limits"]["elevation_floor_km"])
    flat = (500.0 - 5.0) / np.tan(radar.el_floor) / 1e3  # 56.7 km: the beam's rise alone (antenna 5 m up)
    # the Earth falls away under the beam too (d^2 / 2kR: 0.11 km at 44 km for k = 1.37)
    assert 0.7 * flat < us2["reach_km"] < flat
    cov = coverage.ground_reach_m(radar, 500.0, 1e9) / 1e3
    assert us2["reach_km"] == pytest.approx(cov, abs=3.0)  # the coverage map's figure (its heights above the sea)
    assert r.focus_area_km2 == 0.0


def test_aircraft_reach_names_the_batteries_it_leaves_out(tmp_path):
    """A battery whose interceptor has no range against aircraft (THAAD: ballistic missiles
    only) is left out of the aircraft map, and the table, the JSON and the map's data say so."""
    w = compile_world(parse({
        "name": "mixed", "epoch": "2020-01-01T00:00:00Z",
        "sites": {"a": {"lat": 37.0, "lon": 37.4}, "b": {"lat": 37.1, "lon": 37.6}},
        "sensors": [{"name": "r", "type": "an-mpq-65", "site": "a", "boresight_az_deg": 180}],
        "batteries": [{"name": "pac3", "interceptor": "pac-3-mse", "site": "a", "rounds": 8, "radar": "r"},
                      {"name": "thaad", "interceptor": "thaad", "site": "b", "rounds": 8, "radar": "r"}],
        "threats": [{"name": "t", "missile": "scud-b", "launch": {"lat": 35.0, "lon": 37.0}, "aim": "a"}],
    }, "test"))
    r = F.aircraft_reach(w, 10.0)
    assert [b["name"] for b in r.batteries] == ["pac3"] and r.left_out == [("thaad", "thaad")]
    assert F.aircraft_json(r, include_grid=False)["left_out"][0]["name"] == "thaad"
    # none with a range against aircraft: the error names what interceptors there are
    with pytest.raises(InputError, match=r"its interceptors: sm-3-block-ia;") as e:
        F.aircraft_reach(load_world("epaa-phase-1"), 10.0)
    assert e.value.field == "batteries"


def cli(*args):
    return run_cli("footprint", *args)  # the command as test_cli runs it


def test_cli_writes_png_and_json(tmp_path):
    png, js = tmp_path / "m.png", tmp_path / "g.json"
    r = cli("epaa-phase-1", "--region", "europe", "--step-deg", "3", "--site", "sejjil-2", "--out", str(png),
            "--json-out", str(js))
    assert r.returncode == 0, r.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    d = json.loads(js.read_text())
    assert d["scenario"] == "epaa-phase-1" and len(d["lat_deg"]) == 13 and len(d["lon_deg"]) == 20
    (site,) = d["sites"]
    assert site["name"] == "tabriz/sejjil-2" and 0 < site["defended_km2"] <= site["threatened_km2"]
    # who gives the first track, and when: the phase-1 system (Kurecik's TPY-2 and the ship's SPY-1)
    ft = site["first_track"]
    assert ft["system"] == "nato-bmd" and ft["radars"] == ["kurecik-tpy2", "ship-spy1"]
    assert ft["share_of_cells"] == 1.0 and 60.0 < ft["p10_s"] <= ft["median_s"] <= ft["p90_s"] < 200.0
    assert ft["first_radar"] == "kurecik-tpy2" and 0.5 < ft["first_radar_share"] <= 1.0
    assert ("first track against tabriz/sejjil-2: the system nato-bmd, led by its radar kurecik-tpy2 (alone, the first"
            in " ".join(r.stdout.split()))
    assert np.array(site["defended"]).shape == (13, 20)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind


@pytest.mark.parametrize("args, field", [
    (["--step-deg", "0"], "--step-deg"),
    (["--site", "nowhere"], "--site"),
    (["--bbox", "1,2,3"], "--bbox"),
    (["--region", "asia"], "--region"),
    (["--cue-delay-s", "-5"], "--cue-delay-s"),
    (["--aircraft", "--alt-km", "99"], "--alt-km"),
])
def test_cli_bad_input_exit_2_names_field_writes_nothing(tmp_path, args, field):
    png = tmp_path / "m.png"
    r = cli("epaa-phase-1", *args, "--out", str(png))
    assert r.returncode == 2 and field in r.stderr, r.stderr
    assert not png.exists() and not list(tmp_path.iterdir())


def _write(tmp_path, name, doc):
    path = tmp_path / f"{name}.yaml"
    path.write_text(json.dumps(doc))  # JSON is YAML
    return str(path)


def test_cli_scenario_without_batteries_exit_2(tmp_path, capsys):
    from shieldlab.cli import main

    path = _write(tmp_path, "no-batteries", {
        "name": "no-batteries", "epoch": "2020-01-01T00:00:00Z",
        "sensors": [{"name": "tpy2", "type": "an-tpy-2", "site": {"lat": 44.0, "lon": 20.0}, "boresight_az_deg": 180,
                     "system": "bmd"}],
        "threats": [{"name": "t", "missile": "shahab-3", "launch": {"lat": 37.0, "lon": 20.0},
                     "aim": {"lat": 45.0, "lon": 20.0}}]})
    png = tmp_path / "m.png"
    for extra in ([], ["--region", "europe", "--step-deg", "3"], ["--step-deg", "0.5"]):  # (the last: a traceback)
        assert main(["footprint", path, "--out", str(png), *extra]) == 2
        err = capsys.readouterr().err
        assert "batteries" in err and "no battery to map" in err
        assert not png.exists()
        assert "coverage" not in err  # it has ballistic threats: no word of flights
    # an air picture's scenario (no batteries, flights only): pointed at the command that maps it
    assert main(["footprint", "turkey-airspace-2015", "--out", str(png)]) == 2
    err = capsys.readouterr().err
    assert "no battery to map" in err and "shieldlab coverage" in err and not png.exists()


def test_cli_launch_at_the_north_pole(tmp_path, capsys):
    """A launch from 90 N: flown 2 km off the pole; the threatened ground is the ring out to
    the missile's range (Shahab-3, ~1,000 km: down to ~81 N) all round, and a battery at 85 N
    defends part of it."""
    from shieldlab.cli import main

    path = _write(tmp_path, "pole", {
        "name": "pole", "epoch": "2020-01-01T00:00:00Z",
        "sites": {"bat": {"lat": 85.0, "lon": 20.0}},
        "sensors": [{"name": "tpy2", "type": "an-tpy-2", "site": "bat", "boresight_az_deg": 0, "system": "bmd"}],
        "batteries": [{"name": "sm3", "interceptor": "sm-3-block-ia", "site": "bat", "rounds": 8, "system": "bmd"}],
        "threats": [{"name": "t", "missile": "shahab-3", "launch": {"lat": 90.0, "lon": 0.0},
                     "aim": {"lat": 83.0, "lon": 20.0}}]})
    js = tmp_path / "fp.json"
    assert main(["footprint", path, "--bbox", "78,89,-180,180", "--step-deg", "1", "--json-out", str(js)]) == 0, \
        capsys.readouterr().err
    d = json.loads(js.read_text())
    (site,) = d["sites"]
    assert site["lat_deg"] == pytest.approx(90.0 - np.degrees(2e3 / earth.R_EARTH_MEAN))
    thr = np.array(site["threatened"], bool)
    lat = np.array(d["lat_deg"])
    # every longitude is threatened at 85 N; nothing beyond the missile's reach (~9 deg of arc)
    assert thr[lat == 85.0].all() and not thr[lat <= 80.0].any()
    assert 0 < site["defended_km2"] < site["threatened_km2"]


def test_footprint_equals_a_run_at_its_grid_point():
    """One implementation: at the grid point a threat is aimed at, the footprint's cue, launch
    readiness, first intercept and probability of intercept agree with the kill chain's runs
    of that threat (same sensors' field of regard, same confirmation rule, same fly-out fan,
    intercept solver, Pk and doctrine).  The footprint flies the true path (a perfect
    prediction), fire control a track's: its first intercept is the best case of theirs."""
    from shieldlab.engine.montecarlo import simulate
    from shieldlab.stats import wilson_interval

    w = _symmetric_world()  # aimed at 45 N, 20 E: the centre of this grid
    grid = F.make_grid(44.5, 45.5, 19.5, 20.5, 0.5)
    s = F.compute(w, grid).sites[0]
    cue, t_first, p = s.cue_s[1, 1], s.first_intercept_s[1, 1], s.p_intercept[1, 1]
    assert s.defended[1, 1] and np.isfinite(t_first)
    chunks = []
    runs = 48
    simulate(w, runs=runs, seed=3, on_chunk=chunks.append)
    confirm = np.concatenate([next(iter(c.tracks.values())).confirm_time.ravel() for c in chunks])
    eng = [c.engagements for c in chunks]
    run = np.concatenate([e.run for e in eng])
    t_int = np.concatenate([e.intercept_time for e in eng])
    launch = np.concatenate([e.launch_time for e in eng])
    order = np.lexsort((t_int, run))
    first = order[np.r_[True, run[order][1:] != run[order][:-1]]]  # each run's first engagement
    assert first.size == runs  # every run engages, as the footprint says
    # the cue is the tracker's confirmation in expectation (the init_hits-th expected detection):
    # within one scan of the runs' median confirmation
    period = w.sensors[0].radar.spec.scan_period_s
    assert abs(np.median(confirm) - cue) <= period
    # fire control launches at the earliest at its first planning tick after the confirmation
    # plus the reaction time, the footprint's launch readiness; a run may wait for a re-check
    # (of these 48 runs all launch at that tick through the standard atmosphere and through a
    # geometric line of sight; through a constant 4/3 Earth 20 then and 28 after a 16 s
    # re-check: its first look came earliest, and the track was younger at that tick)
    bat = w.batteries[0]
    ready, tick = cue + bat.reaction_time, w.scenario.doctrine.planning_interval_s
    assert np.all(launch[first] >= ready - period)
    # and the boost test holds a track younger than its window (it cannot yet tell a coast from
    # thrust) to its last chance, as it does under every doctrine: here 15 of 48 runs 6 s after
    # readiness, the rest 18 s (before the boost test ran with assets only, and all 48 fired at
    # the first tick on a prediction that would have missed a boosting threat); which runs do
    # depends on when each track's reports fell, so the test holds that both kinds occur
    from shieldlab.c2.threat_eval import WINDOW_S

    early = launch[first] - ready <= tick + period + WINDOW_S
    assert early.any() and not early.all(), early.mean()
    assert np.all(launch[first] - ready <= tick + period + WINDOW_S + 2 * tick)
    # the first intercept: the footprint's on the true path is the best case of the runs' on tracks
    assert np.median(t_int[first]) == pytest.approx(t_first, abs=15.0)
    assert t_first <= np.median(t_int[first])
    # probability of intercept: the runs' kill rate inside the footprint's doctrine figure's reach
    killed = np.zeros(runs, bool)
    for e in eng:
        killed[e.run[e.killed]] = True
    lo, hi = wilson_interval(int(killed.sum()), runs, 0.99)
    assert lo <= p <= hi


def _scud_at_amman(reaction_time_s=None):
    """A Scud-C from western Iraq at Amman and one PAC-3 MSE battery with its MPQ-65 beside
    the city: the radar sees the warhead only in its last ~120 s of flight."""
    bat = {"name": "pac3", "interceptor": "pac-3-mse", "site": "bat", "rounds": 8, "system": "s", "radar": "mpq65"}
    if reaction_time_s is not None:
        bat["reaction_time_s"] = reaction_time_s
    return compile_world(parse({
        "name": "amman", "epoch": "2024-03-01T00:00:00Z",
        "sites": {"launch": {"lat": 32.6, "lon": 39.6}, "bat": {"lat": 31.90, "lon": 36.05, "alt_m": 900}},
        "sensors": [{"name": "mpq65", "type": "an-mpq-65", "site": "bat", "boresight_az_deg": 80, "system": "s"}],
        "batteries": [bat],
        "assets": [{"name": "amman", "site": {"lat": 31.95, "lon": 35.93}, "radius_km": 15}],
        "threats": [{"name": "t", "missile": "scud-c", "launch": "launch", "aim": "amman"}],
        "doctrine": {"salvo": 1, "shoot_look_shoot": True},
    }, "test"))


def test_a_second_engagement_waits_for_the_look_and_the_reaction_time():
    """After a look, fire control decides at a planning tick and the battery launches its
    reaction time later; the footprint's next engagement waits for both.  Against a Scud-C
    that a PAC-3 MSE meets ~30 s before impact, a second shot fits only without the
    reaction time: the footprint gives one engagement (it gave two, P 0.96, while every
    run of the chain fired once at most), and two where the battery's reaction time is 0."""
    from shieldlab.engine.montecarlo import simulate
    from shieldlab.stats import wilson_interval

    grid = F.make_grid(31.90, 32.0, 35.88, 35.98, 0.05)  # the aim point in the middle
    w = _scud_at_amman()
    p = F.compute(w, grid).sites[0].p_intercept[1, 1]
    instant = F.compute(_scud_at_amman(reaction_time_s=0.0), grid).sites[0].p_intercept[1, 1]
    pk = 1.0 - np.sqrt(1.0 - instant)  # two equal engagements: 1 - (1 - pk)^2
    assert 0.5 < pk < 0.95 and instant > p
    assert p == pytest.approx(pk, abs=1e-9)  # one engagement
    chunks = []
    runs = 24
    simulate(w, runs=runs, seed=2, on_chunk=chunks.append)
    eng = [c.engagements for c in chunks]
    shots = np.bincount(np.concatenate([e.run for e in eng]), minlength=runs)
    assert shots.max() == 1 and shots.sum() >= 0.9 * runs  # nearly every run fires, never twice
    killed = sum(int(e.killed.sum()) for e in eng)
    lo, hi = wilson_interval(killed, runs, 0.99)
    assert lo <= p <= hi

def test_sampled_paths_follow_the_interpolated_profiles():
    """The path sampler (every 4 s, WGS84 ECEF) against the profile interpolation at its nodes:
    the same place at the same time, to metres; velocities match the nodes' finite differences."""
    w = _symmetric_world()
    site = F.launch_sites(w)[0]
    tab = F._cached_profiles([site], GRID, NO_SPIN, 40, 10.0)[0]
    lat = np.radians(np.array([40.0, 43.5, 45.0, 45.5]))
    lon = np.radians(np.array([20.0, 18.0, 21.5, 21.0]))
    ok, t_nodes, la, lo, h = F.threat_path(tab, lat, lon)
    assert ok.all()
    J = int(np.max(tab.tof) / F.PREDICT_DT) + 1
    pos, vel, geo = (np.full((lat.size, J, 3), np.nan) for _ in range(3))
    n_valid, tof, burn = np.zeros(lat.size, np.int64), np.full(lat.size, np.nan), np.full(lat.size, np.nan)
    eL = earth.unit_vector(site.lat, site.lon)
    nL, aL = F._north_east(site.lat, site.lon)
    F._paths(lat, lon, eL, nL, aL, tab.range, tab.bearing, tab.tof, tab.burn, tab.u, tab.c, tab.h, tab.tau,
             tab.full_circle, F.PREDICT_DT, pos, vel, geo, n_valid, tof, burn)
    assert np.all((burn > 0) & (burn < tof))
    assert np.allclose(tof, t_nodes[:, -1])
    for q in range(lat.size):
        ts = F.PREDICT_DT * np.arange(n_valid[q])
        assert ts[-1] <= tof[q] < ts[-1] + F.PREDICT_DT  # sampled up to the impact
        want = earth.geodetic_to_ecef(np.interp(ts, t_nodes[q], la[q]), np.interp(ts, t_nodes[q], lo[q]),
                                      np.interp(ts, t_nodes[q], h[q]))
        assert np.max(np.linalg.norm(pos[q, :n_valid[q]] - want, axis=1)) < 50.0
        slope = np.gradient(want, ts, axis=0)
        assert np.max(np.linalg.norm(vel[q, 1:n_valid[q] - 1] - slope[1:-1], axis=1)) < 20.0


def test_footprint_cue_sums_the_systems_radars():
    """Six MPQ-65s scanning every 0.5 s (patriot-turkey-2013) each see a Scud from Hama at
    Gaziantep with a small Pd long before it comes within their Pd = 0.5 range; the tracker
    confirms at the system's third detection from any of them.  The footprint's cue (the
    third expected detection over all six) lies inside the runs' 10-90 % band of
    confirmation times; a cue at the Pd = 0.5 range of one radar would be ~100 s late."""
    from shieldlab.engine.montecarlo import simulate

    w = load_world("patriot-turkey-2013")
    g = F.make_grid(37.07, 37.17, 37.38, 37.48, 0.1)
    cue = F.compute(w, g, site_names=["hama/scud-b"]).sites[0].cue_s[0, 0]
    chunks = []
    simulate(w, runs=32, seed=1, on_chunk=chunks.append)
    i = [t.name for t in w.threats].index("scud-b-gaziantep#1")
    confirm = np.concatenate([next(iter(c.tracks.values())).confirm_time[:, i] for c in chunks])
    confirm = confirm - w.threats[i].launch_time
    lo, hi = np.percentile(confirm, [10, 90])
    assert lo <= cue <= hi, (cue, lo, hi)


def test_the_first_track_names_the_system_that_confirms_first():
    """Two systems over one grid: the footprint names, per launch site, the system expected to
    confirm a track first in most cells, with its radars and the cue's spread; the cue it
    reports is the per-cell minimum over the systems; a fixed cue names none."""
    w = load_world("nato-russia-2011")
    g = F.make_grid(40.0, 44.0, 20.0, 30.0, 2.0)
    fp = F.compute(w, g)
    for k, s in enumerate(fp.sites):
        ft = fp.first_track(k)
        cued = s.threatened & np.isfinite(s.cue_s)
        if ft is None:
            assert not cued.any()
            continue
        assert ft["system"] in fp.systems and set(ft["radars"]) <= {r["name"] for r in fp.sensors}
        i = fp.systems.index(ft["system"])
        assert ft["share_of_cells"] == pytest.approx((s.cue_system[cued] == i).mean(), abs=1e-3)
        assert ft["median_s"] == pytest.approx(float(np.median(s.cue_s[cued])), abs=0.051)
    assert any(fp.first_track(k) is not None for k in range(len(fp.sites)))
    fixed = F.compute(w, g, cue_delay_s=60.0)
    assert all(fixed.first_track(k) is None for k in range(len(fixed.sites)))


def test_the_first_track_names_the_radar_that_alone_confirms_first():
    """Of the first system's radars, each cell names the one that alone is expected to confirm
    a track first: the same answer as the footprints with each radar left alone in the
    scenario.  NATO's three radars of nato-russia-2011 (no satellites cue them), Kürecik's
    TPY-2 turned to face 150°, so that each of the three is first somewhere; a fixed cue
    names none."""
    from shieldlab.scenario import compile_world

    scn = load_world("nato-russia-2011").scenario
    ours = ["kurecik-tpy2", "ship-spy1", "black-sea-spy1"]
    sensors = [s.model_copy(update={"boresight_az_deg": 150.0}) if s.name == "kurecik-tpy2" else s
               for s in scn.sensors if s.name in ours]

    def world(names):  # (one picture: integrated, no node left without a sensor)
        return compile_world(scn.model_copy(update={"sensors": [s for s in sensors if s.name in names],
                                                    "architecture": "integrated", "links": []}))

    g = F.make_grid(30.0, 48.0, 20.0, 50.0, 2.0)
    fp = F.compute(world(ours), g)
    names = [r["name"] for r in fp.sensors]
    assert names == ours
    solo_t = {r: [site.cue_s for site in F.compute(world([r]), g).sites] for r in ours}
    named = set()
    for k, s in enumerate(fp.sites):
        mine = s.threatened & np.isfinite(s.cue_s)
        t = np.stack([solo_t[r][k] for r in ours])  # (radar, lat, lon), nan where not threatened
        t = np.where(np.isnan(t), np.inf, t)
        for cell in zip(*np.nonzero(mine)):
            tc = t[(slice(None), *cell)]
            if not np.isfinite(tc).any():
                assert s.cue_radar[cell] == -1  # only their detections together confirm it
            elif np.sort(tc)[1] - np.sort(tc)[0] > 1e-9:  # (a tie may name either)
                assert names[s.cue_radar[cell]] == ours[int(np.argmin(tc))]
                named.add(names[s.cue_radar[cell]])
        ft = fp.first_track(k)
        assert ft is not None and ft["first_radar"] in ours
        assert ft["first_radar_share"] == pytest.approx((s.cue_radar[mine] == names.index(ft["first_radar"])).mean(),
                                                        abs=1e-3)
    assert named == set(ours)  # each radar is first somewhere: the test can tell them apart
    assert all(s.cue_radar is None for s in F.compute(world(ours), g, cue_delay_s=60.0).sites)


def _amman_with_remote_radar(cue: str, mpq_az_deg: float):
    """A Scud-C at Amman seen early by a forward TPY-2 of the battery's system, and a PAC-3
    MSE battery whose own MPQ-65 looks along ``mpq_az_deg`` (80: at the threat; 260: away)."""
    return compile_world(parse({
        "name": "amman-remote", "epoch": "2024-03-01T00:00:00Z",
        "sites": {"launch": {"lat": 32.6, "lon": 39.6}, "bat": {"lat": 31.90, "lon": 36.05, "alt_m": 900},
                  "fwd": {"lat": 32.3, "lon": 37.3}},
        "sensors": [{"name": "mpq65", "type": "an-mpq-65", "site": "bat", "boresight_az_deg": mpq_az_deg,
                     "system": "s"},
                    {"name": "tpy2", "type": "an-tpy-2", "site": "fwd", "boresight_az_deg": 80, "system": "s"}],
        "batteries": [{"name": "pac3", "interceptor": "pac-3-mse", "site": "bat", "rounds": 8, "system": "s",
                       "radar": "mpq65", "cue": cue}],
        "assets": [{"name": "amman", "site": {"lat": 31.95, "lon": 35.93}, "radius_km": 15}],
        "threats": [{"name": "t", "missile": "scud-c", "launch": "launch", "aim": "amman"}],
        "doctrine": {"salvo": 1, "shoot_look_shoot": True},
    }, "test"))


@pytest.mark.parametrize("cue, mpq_az_deg, defended", [
    ("engage-on-remote", 260.0, True),  # the forward radar's track serves from launch to intercept
    ("own", 260.0, False),  # its own radar looks away: never readied
    ("launch-on-remote", 260.0, False),  # launched on the system's track, but no own track to guide on
    ("own", 80.0, True),
    ("launch-on-remote", 80.0, True),
])
def test_the_footprint_reads_the_track_each_battery_fires_on(cue, mpq_az_deg, defended):
    """A battery's ``cue`` says which track readies and guides it, in the footprint as in fire
    control: against a Scud-C at Amman that a forward TPY-2 tracks early, a PAC-3 MSE whose own
    MPQ-65 looks away defends Amman only where it engages on remote; and the runs agree."""
    from shieldlab.engine.montecarlo import simulate

    w = _amman_with_remote_radar(cue, mpq_az_deg)
    g = F.make_grid(31.85, 32.05, 35.83, 36.03, 0.1)  # Amman at the middle point
    fp = F.compute(w, g)
    s = fp.sites[0]
    assert bool(s.defended[1, 1]) is defended
    assert fp.batteries[0]["cue"] == cue and fp.batteries[0]["radar"] == "mpq65"
    res = simulate(w, runs=8, seed=2)
    assert bool(np.mean(res.outcomes["outcome"] == "intercepted") > 0.25) is defended


def test_a_sectoral_footprint_gives_each_node_only_the_paths_through_its_sector(monkeypatch):
    """Architecture sectoral: a node engages only threats whose predicted path crosses its
    sector, in the footprint as in fire control.  Each battery defends no cell under sectoral
    that it does not defend under coordinated, some fewer; a node whose sector lies far away
    defends nothing."""
    import shapely

    w = load_world("nato-russia-2011")  # coordinated, with a sector per node
    g = F.auto_grid(w, step_deg=1.0)
    coord = F.compute(w, g)
    sect_world = compile_world(w.scenario.model_copy(update={"architecture": "sectoral"}))
    assert all(F._sectors(sect_world)) and not any(F._sectors(w))
    sect = F.compute(sect_world, g)
    fewer = False
    for sc, ss in zip(coord.sites, sect.sites):
        assert not (ss.by_battery & ~sc.by_battery).any()  # never more than coordinated
        fewer |= bool((sc.by_battery & ~ss.by_battery).any())
    assert fewer
    # one node's sector moved to the South Atlantic: its batteries defend nothing there
    far = shapely.Polygon([(-0.6, -0.6), (-0.5, -0.6), (-0.5, -0.5)])  # (lon, lat) [rad]
    node = sect_world.nodes[0]
    moved = F._sectors(sect_world)
    for i in node.batteries:
        moved[i] = far
    monkeypatch.setattr(F, "_sectors", lambda world: moved)
    away = F.compute(sect_world, g)
    for s in away.sites:
        assert not s.by_battery[list(node.batteries)].any()


@pytest.mark.parametrize("architecture, rounds, defended", [
    ("integrated", 8, True),  # one picture of every sensor: the other node's TPY-2 cues it
    ("independent", 8, False),  # its own node's radar alone, looking away
    ("integrated", 0, False),  # no round to fire: fire control never fires it
])
def test_the_footprint_reads_the_picture_its_architecture_gives(architecture, rounds, defended):
    """Under the integrated architecture over several nodes every sensor feeds one picture that
    every battery reads (as fire control has it): a PAC-3 whose own node's radar looks away is
    cued by the other node's TPY-2.  Independent, it is not; and a battery with no round
    above its reserve defends nothing.  The runs agree."""
    from shieldlab.engine.montecarlo import simulate

    w = compile_world(parse({
        "name": "two-nodes", "epoch": "2024-03-01T00:00:00Z", "architecture": architecture,
        "sites": {"launch": {"lat": 32.6, "lon": 39.6}, "bat": {"lat": 31.90, "lon": 36.05, "alt_m": 900},
                  "fwd": {"lat": 32.3, "lon": 37.3}},
        "sensors": [{"name": "mpq65", "type": "an-mpq-65", "site": "bat", "boresight_az_deg": 260, "system": "s"},
                    {"name": "tpy2", "type": "an-tpy-2", "site": "fwd", "boresight_az_deg": 80, "system": "n"}],
        "batteries": [{"name": "pac3", "interceptor": "pac-3-mse", "site": "bat", "rounds": rounds, "system": "s",
                       "radar": "mpq65"}],
        "assets": [{"name": "amman", "site": {"lat": 31.95, "lon": 35.93}, "radius_km": 15}],
        "threats": [{"name": "t", "missile": "scud-c", "launch": "launch", "aim": "amman"}],
        "doctrine": {"salvo": 1, "shoot_look_shoot": True},
    }, "test"))
    fp = F.compute(w, F.make_grid(31.85, 32.05, 35.83, 36.03, 0.1))
    assert bool(fp.sites[0].defended[1, 1]) is defended
    res = simulate(w, runs=8, seed=2)
    assert bool(np.mean(res.outcomes["outcome"] == "intercepted") > 0.25) is defended


def test_a_launch_on_remote_without_its_own_track_misses_for_want_of_guidance():
    """Launched on the forward radar's track, a PAC-3 whose own radar looks away has nothing
    to guide on: its misses say so, not "target gone" (the threat flew on and landed)."""
    from shieldlab.engine.montecarlo import simulate

    ev = simulate(_amman_with_remote_radar("launch-on-remote", 260.0), runs=4, seed=2).events
    miss = ev["detail"][ev["kind"] == "miss"]
    assert miss.size and all(d.startswith("no guidance: its guidance track did not hold") for d in miss)


@pytest.mark.parametrize("preset", ["epaa-phase-1", "patriot-turkey-2013"])
def test_the_automatic_box_holds_all_the_ground_defended(preset):
    """A battery defends the ground a threat is aimed at, past its own reach: the automatic
    box grows where the defended cells reach its edge, and then holds every cell that a box
    over the missiles' whole reach, at the same step and on the same nodes, finds defended
    (epaa-phase-1's box over the batteries' reach had cut off 5 % of the area defended
    against Sejjil-2s, north of Sofia and south of Crete)."""
    w = load_world(preset)
    step = 1.0
    fp = F.compute(w, step_deg=step)
    r = F.range_box(F.launch_sites(w))  # (and the markers' margin past it)
    g = fp.grid
    wide = F.compute(w, F.box_grid((min(r[0], g.lat_deg[0]), max(r[1], g.lat_deg[-1]), min(r[2], g.lon_deg[0]),
                                    max(r[3], g.lon_deg[-1])), step))
    assert fp.grid.step_deg == pytest.approx(step) and wide.grid.step_deg == pytest.approx(step)
    lat, lon = np.round(fp.grid.lat_deg / step).astype(int), np.round(fp.grid.lon_deg / step).astype(int)
    wlat, wlon = np.round(wide.grid.lat_deg / step).astype(int), np.round(wide.grid.lon_deg / step).astype(int)
    assert set(lat) <= set(wlat) and set(lon) <= set(wlon)  # the same nodes
    i0, j0 = int(np.searchsorted(wlat, lat[0])), int(np.searchsorted(wlon, lon[0]))
    for s, ws in zip(fp.sites, wide.sites):
        inside = np.zeros(ws.defended.shape, bool)
        inside[i0:i0 + lat.size, j0:j0 + lon.size] = True
        assert ws.defended.any() and not (ws.defended & ~inside).any(), s.site.name  # nothing defended outside
        # (each grid's threat paths are interpolated from a family flown for it: a cell on the
        # defended area's rim may fall either way)
        differ = (s.defended != ws.defended[i0:i0 + lat.size, j0:j0 + lon.size]).sum()
        assert differ <= 0.03 * ws.defended.sum(), (s.site.name, int(differ), int(ws.defended.sum()))


def test_the_automatic_box_grows_where_the_defended_cells_reach_its_edge(monkeypatch):
    """A first box that cuts the defended ground (epaa-phase-1's over the batteries' reach
    alone, lat 29.4..42.8, which cut off 5 % of the area defended against Sejjil-2s) grows
    on the sides the defended cells reach, until none does, and ends with the same defended
    area as the box made to hold it all."""
    w = load_world("epaa-phase-1")
    whole = F.compute(w, step_deg=1.0)
    small = (29.4, 42.8, 19.2, 46.6)
    monkeypatch.setattr(F, "auto_box", lambda world, sites=None: small)
    cut = F.compute(w, F.box_grid(small, 1.0))
    assert {"north", "south"} <= F._defended_edges(cut)
    grown = F.compute(w, step_deg=1.0)
    assert grown.grid.lat_deg[0] < small[0] and grown.grid.lat_deg[-1] > small[1]
    assert not {"north", "south"} & F._defended_edges(grown)
    assert grown.defended_area_km2(0) > 1.03 * cut.defended_area_km2(0)  # Sejjil-2s
    for k in range(len(whole.sites)):  # (on 1° cells, ~10,000 km² each, a rim cell may fall either way)
        assert grown.defended_area_km2(k) == pytest.approx(whole.defended_area_km2(k), rel=0.06)


def test_the_automatic_box_never_grows_inwards():
    """epaa-phase-4's first box (the ICBM's path to the US north-east and the assets there)
    reaches past the missiles' range: a defended edge moved it in to the range, and the map
    lost the ground it had."""
    w = load_world("epaa-phase-4")
    first = F.auto_grid(w, step_deg=5.0)
    fp = F.compute(w, step_deg=5.0)
    g = fp.grid
    assert g.lat_deg[0] <= first.lat_deg[0] and g.lat_deg[-1] >= first.lat_deg[-1]
    assert g.lon_deg[0] <= first.lon_deg[0] and g.lon_deg[-1] >= first.lon_deg[-1]


def test_a_scenario_without_ballistic_threats_has_no_footprint_to_map(tmp_path):
    """Batteries and a flight, no ballistic threat: a clear error naming the field, exit code
    2, nothing written (it raised a ValueError from an empty list of launch sites)."""
    import yaml

    d = yaml.safe_load((Path(F.__file__).parents[1] / "scenario" / "presets" / "patriot-turkey-2013.yaml").read_text())
    d["threats"] = []
    d["flights"] = [{"name": "f1", "type": "su-30sm", "side": "Russia",
                     "route": [{"lat": 36.5, "lon": 36.0, "alt_m": 5000}, {"lat": 36.9, "lon": 36.6}]}]
    scn = tmp_path / "air-only.yaml"
    scn.write_text(yaml.safe_dump(d))
    out = tmp_path / "fp.json"
    for extra in ([], ["--bbox", "35,38,34,38"]):
        r = cli(str(scn), *extra, "--json-out", str(out))
        assert r.returncode == 2 and "threats: no ballistic threat to map" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr and not out.exists()
    assert cli(str(scn), "--aircraft", "--json-out", str(out)).returncode == 0


def test_a_box_that_cuts_the_defended_ground_says_so_and_is_mapped_at_the_boxs_own_step(tmp_path):
    """patriot-turkey-2013 in a --bbox round Gaziantep alone: the defended area was the box's
    share, printed as the footprint's without a word, on a 0.25-degree grid where the
    command's own box gets 0.05.  The box gets the automatic step now, and defended ground at
    its edge is said (text and JSON); the scenario's own box cuts nothing."""
    cut, whole = tmp_path / "cut.json", tmp_path / "whole.json"
    r = cli("patriot-turkey-2013", "--bbox", "36.8,37.3,37.1,37.7", "--json-out", cut)
    assert r.returncode == 0 and "the defended ground reaches the edge of the map's box" in r.stdout, r.stdout
    js = json.loads(cut.read_text())
    assert js["step_deg"] == 0.05 and js["cut_at_box_edge"] is True
    r = cli("patriot-turkey-2013", "--json-out", whole)
    assert r.returncode == 0 and "reaches the edge" not in r.stdout
    assert json.loads(whole.read_text())["cut_at_box_edge"] is False


def test_the_aircraft_map_names_the_country_it_measures_and_no_mark_it_lacks(tmp_path, monkeypatch):
    """The aircraft map's footer spoke of the crosses of the deepest points and the focus
    country's bold outline where neither was on the map (a battery far from Syria), and on
    patriot-turkey-2013 Syria, the country the map measures into, went unnamed where Turkey
    was named."""
    from shieldlab import load_world
    from shieldlab.analysis import maps

    texts = {}

    def keep(fig, path, dpi):
        texts[Path(path).name] = [t.get_text() for a in fig.axes for t in a.texts] + \
            [t.get_text() for t in fig.texts]

    monkeypatch.setattr(maps, "_save", keep)
    maps.aircraft_map(F.aircraft_reach(load_world("patriot-turkey-2013"), 10.0), tmp_path / "turkey.png")
    near = " ".join(texts["turkey.png"])
    assert "SYRIA" in texts["turkey.png"] and "x: deepest point" in near and "Syria's outline" in near
    import re

    assert any(re.fullmatch(r"\d+ km", t) for t in texts["turkey.png"])  # a scale bar: degrees measure nothing
    far = F.aircraft_reach(load_world("patriot-turkey-2013"), 10.0, grid=F.make_grid(38.5, 40.0, 29.0, 31.0, 0.05))
    maps.aircraft_map(far, tmp_path / "far.png")
    footer = " ".join(texts["far.png"])
    assert "x: deepest point" not in footer and "Syria's outline" not in footer and "SYRIA" not in texts["far.png"]


def test_the_aircraft_map_says_when_no_battery_reaches_the_country_and_shades_within_the_outlines(tmp_path,
                                                                                                   monkeypatch):
    """`footprint --aircraft --country Iraq` printed "no battery reaches into Iraq" and drew a
    map that said nothing of Iraq (off the map); and the shading, counted on the analysis's
    0.05-degree grid, spilled past the battery outlines drawn over it in blocks."""
    import shapely

    from shieldlab import load_world
    from shieldlab.analysis import maps

    titles = {}
    monkeypatch.setattr(maps, "_save", lambda fig, path, dpi: titles.update(
        {Path(path).name: fig.axes[0].get_title()}))
    w = load_world("patriot-turkey-2013")
    iraq = F.aircraft_reach(w, 10.0, focus="Iraq")
    assert iraq.focus_area_km2 == 0.0
    maps.aircraft_map(iraq, tmp_path / "iraq.png")
    assert titles["iraq.png"].endswith("\nno battery reaches into Iraq")
    syria = F.aircraft_reach(w, 10.0, focus="Syria")
    maps.aircraft_map(syria, tmp_path / "syria.png")
    assert "no battery" not in titles["syria.png"] and "reach into Syria: up to" in titles["syria.png"]
    # the shaded pixels cover the outlines' union, to a pixel's width along its edge
    g = syria.grid
    h = 0.5 * g.step_deg
    extent = (g.lon_deg[0] - h, g.lon_deg[-1] + h, g.lat_deg[0] - h, g.lat_deg[-1] + h)
    n = maps._reach_count(syria.batteries, extent)
    px = max(extent[1] - extent[0], extent[3] - extent[2]) / 800
    union = shapely.union_all([shapely.Polygon(b["circle_lonlat"]).buffer(0) for b in syria.batteries])
    assert (n > 0).sum() * px**2 == pytest.approx(union.area, abs=union.length * px)
    assert n.max() == syria.n_batteries.max() == 4  # the most batteries over one place, as the grid counts them


def test_the_aircraft_reach_of_a_box_is_of_the_box_alone():
    """`footprint --aircraft --bbox` drew the box's grid but printed all of Syria's area in reach
    (18,222 km2 for a 0.2-degree box on the border); the areas are the box's part now."""
    w = load_world("patriot-turkey-2013")
    whole = F.aircraft_reach(w, 10.0)
    box = F.aircraft_reach(w, 10.0, grid=F.make_grid(36.0, 36.2, 36.0, 36.2, 0.05), clip_to_grid=True)
    wide = F.aircraft_reach(w, 10.0, grid=F.make_grid(35.0, 38.0, 35.0, 39.0, 0.05), clip_to_grid=True)
    assert whole.focus_area_km2 > 15e3 and box.focus_area_km2 == 0.0
    assert wide.focus_area_km2 == pytest.approx(whole.focus_area_km2, rel=0.02)  # the box holds it all


def test_a_share_is_never_rounded_to_none_or_all():
    from shieldlab.cli.common import _share_pct

    assert [_share_pct(x) for x in (0.0, 0.0004, 0.004, 0.3, 0.995, 0.9996, 1.0)] == \
        ["0%", "<0.1%", "0.4%", "30%", "99.5%", ">99.9%", "100%"]
