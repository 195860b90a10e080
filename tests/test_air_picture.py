"""The air picture: air tracks, intercept geometry, rules of engagement, claims, the engine and
the two presets (turkey-airspace-2015, kalibr-caspian-2015)."""

import math
from dataclasses import replace

import numpy as np
import pytest
import yaml

from shieldlab import catalog, earth
from shieldlab.airspace import claims, policing, track
from shieldlab.airspace.flight import KMH, Limits, Routes, fly, min_true_airspeed
from shieldlab.engine.air import simulate_air
from shieldlab.scenario import load_world
from shieldlab.scenario.compile import compile_world
from shieldlab.scenario.loader import parse
from shieldlab.sensors import radar as radar_mod
from shieldlab.sensors.radar import Radar

D = np.radians


@pytest.fixture(scope="module")
def straight_tracks():
    """200 runs of an F-16 flying straight past a ground radar, and its tracks."""
    f16 = catalog.get_aircraft("f-16c")
    R = 200
    lat = np.tile(D([[36.0, 36.8]]), (R, 1))
    lon = np.tile(D([[36.0, 36.6]]), (R, 1))
    r = Routes(lat=lat, lon=lon, alt=np.full((R, 2), 6000.0), speed=np.full((R, 2), np.nan), n=np.full(R, 2))
    p = fly(Limits.of([f16] * R), r, np.zeros(R), 1.0)
    traj = p.trajectories()
    traj = replace(traj, **{k: getattr(traj, k)[:, None] for k in ("pos", "vel", "phase", "launch_time",
                                                                   "burnout_time", "burnout_speed", "apogee_time",
                                                                   "apogee_alt", "impact_time", "impact_pos")})
    spec = catalog.get_sensor("air-surveillance-ground")
    rd = Radar("ground", spec, D(36.5), D(35.6), 500.0, 0.0)
    rngs = [np.random.default_rng(i) for i in range(R)]
    det = radar_mod.observe(rd, traj, np.full((R, 1), f16.rcs_m2), rngs)
    # a nearly matched model (straight flight: the Earth's curvature is the only acceleration)
    return p, det, track.track([det], p.t, R, q=0.05)


def test_air_track_is_consistent(straight_tracks):
    """The NCV filter's position error matches its covariance: the mean NEES over 200 runs at
    a late time is near 3 (chi-square with 3 x 200 degrees of freedom, divided by 200: its
    99.9 % band 2.46 .. 3.60)."""
    p, det, tr = straight_tracks
    k = int(np.flatnonzero(tr.firm.all(axis=0))[-1]) - 5
    truth = earth.geodetic_to_ecef(p.lat[:, k], p.lon[:, k], p.alt[:, k])
    e = tr.x[:, k, :3] - truth
    nees = np.einsum("ri,rij,rj->r", e, np.linalg.inv(tr.P_pos[:, k]), e)
    from scipy.stats import chi2

    lo, hi = chi2.ppf([0.0005, 0.9995], 600) / 200
    assert (round(lo, 2), round(hi, 2)) == (2.46, 3.60)
    assert lo < nees.mean() < hi
    # and far better than one report: the filter averages the radar's noise down
    rho = float(np.linalg.norm(truth[0] - det.site_ecef))
    one_report = rho * 1e-3 * catalog.get_sensor("air-surveillance-ground").sigma_angle_mrad
    assert np.sqrt((e ** 2).sum(axis=1).mean()) < one_report


def test_air_track_never_reads_the_truth(straight_tracks):
    """Scrambling the truth the detections carry (for scoring only) leaves the tracks as they were."""
    p, det, tr = straight_tracks
    noisy = replace(det, truth_pos=det.truth_pos + 1e5)
    tr2 = track.track([noisy], p.t, det.detected.shape[0], q=0.05)
    assert np.array_equal(np.nan_to_num(tr.x), np.nan_to_num(tr2.x))


def test_in_range_time_closed_forms():
    """Head-on: the gap closes at vt + vf from D to the weapon's reach R: tau = (D - R) / (vt + vf).
    Tail chase: at vf - vt.  A target that outruns the fighter is never reached."""
    vt, vf, Dm, R = 200.0, 300.0, 100e3, 20e3
    p, v, pf = np.array([Dm, 0, 0]), np.array([-vt, 0, 0]), np.zeros(3)
    tau, closure = policing.in_range_time(p, v, pf, vf, R)
    assert tau == pytest.approx((Dm - R) / (vt + vf))
    assert closure == pytest.approx(vt + vf)
    tau, closure = policing.in_range_time(p, -v, pf, vf, R)
    assert tau == pytest.approx((Dm - R) / (vf - vt))
    assert closure == pytest.approx(vf - vt)
    assert policing.in_range_time(p, -v, pf, 150.0, R)[0] == math.inf
    assert policing.in_range_time(np.array([10e3, 0, 0]), v, pf, vf, R)[0] == 0.0  # already in range


def test_weapon_flight_closed_forms():
    """A weapon at speed s against a target at range R moving at u: head-on it meets the target
    after flying s R / (s + u), in a tail chase s R / (s - u), crossing at right angles
    s R / sqrt(s^2 - u^2); a target as fast as the weapon, receding, is never caught; a row
    with no track (nan) stays nan."""
    s, u, R = 650.0, 250.0, 20e3
    rel = np.array([[R, 0, 0]] * 6, float)
    v = np.array([[-u, 0, 0], [u, 0, 0], [0, u, 0], [s, 0, 0], [2 * s, 0, 0], [0, 0, 0]], float)
    rel[5] = np.nan
    got = policing.weapon_flight_m(rel, v, s)
    assert got[:3] == pytest.approx([s * R / (s + u), s * R / (s - u), s * R / math.sqrt(s * s - u * u)], rel=1e-12)
    assert got[3] == math.inf and got[4] == math.inf and math.isnan(got[5])
    assert policing.weapon_flight_m(np.zeros((1, 3)), np.array([[u, 0, 0]]), s)[0] == 0.0


def test_the_weapon_flies_to_where_it_meets_the_true_path():
    """Kill assessment on a straight true path: the time of flight is the closed form's (to the
    bisection's tolerance), not range / speed; a tail chase longer than the weapon's reach never
    meets the flier: no kill whatever the draw, and the weapon flies out its reach."""
    from types import SimpleNamespace

    s, u = 650.0, 250.0
    weapon = SimpleNamespace(mean_speed_kms=s / 1e3, max_range_km=25.0, min_range_km=0.5, pk=1.0)
    for R, v, tof in ((20e3, -u, 20e3 / (s + u)), (12e3, u, 12e3 / (s - u))):
        def truth_at(t, R=R, v=v):
            return np.array([R + v * (t - 100.0), 0.0, 0.0]) if t <= 400.0 else None
        shot = policing.assess(policing.Shot("f", 100.0, np.nan, np.nan, False, np.nan), np.zeros(3), truth_at,
                               weapon, np.random.default_rng(0))
        assert shot.met and shot.killed and shot.range_m == pytest.approx(R)
        assert shot.tof == pytest.approx(tof, abs=policing.FLIGHT_TOL_S)
    # 20 km receding at 250 m/s: 32.5 km of flight against a 25 km reach
    shot = policing.assess(policing.Shot("f", 100.0, np.nan, np.nan, False, np.nan), np.zeros(3),
                           lambda t: np.array([20e3 + u * (t - 100.0), 0.0, 0.0]), weapon,
                           np.random.default_rng(0))
    assert not shot.met and not shot.killed and math.isnan(shot.hit_time)
    assert shot.tof == pytest.approx(25e3 / s)


def test_the_next_decision_to_fire_follows_the_miss():
    """After a miss seen at t, the next shot is the release of the first decision at or after t
    (released ``reaction`` later), not the first release after t (a decision taken before the
    miss was seen)."""
    rp = policing.RowPolicing(fire_times=np.array([102.0, 104.0, 106.0, 108.0]), reaction=5.0)
    assert policing.next_shot(rp, 100.0).time == 106.0  # decisions at 97, 99, 101, 103: 101 is the first
    assert policing.next_shot(rp, 103.0).time == 108.0
    assert policing.next_shot(rp, 103.5) is None


def test_claims_check_the_envelope():
    """Turkey's 1.85 km in 17 s (392 km/h) is below the Su-24M's least speed at 19,000 ft; the
    video's 980 km/h is inside the envelope and takes 6.8 s."""
    from shieldlab.scenario.schema import ClaimCfg

    su24 = catalog.get_aircraft("su-24m")
    out = claims.check(ClaimCfg(by="Turkey", time_inside_s=17, distance_inside_km=1.85, alt_m=5791), su24, {})
    assert out["implied_speed_kmh"] == pytest.approx(1850 / 17 * 3.6)
    vmin = float(min_true_airspeed(su24.min_speed_eas_kmh * KMH, 5791.0)) / KMH
    assert out["min_speed_kmh"] == pytest.approx(vmin)
    assert "below the least speed" in out["notes"][0]
    deep = claims.check(ClaimCfg(by="Turkey", distance_inside_km=1.85, max_depth_km=2.19), su24, {})
    assert any("at least 4.38 km inside" in n for n in deep["notes"])  # in and out: twice the depth
    ok = claims.check(ClaimCfg(by="x", distance_inside_km=5.0, max_depth_km=2.0), su24, {})
    assert not any("twice" in n for n in ok["notes"])
    fast = claims.check(ClaimCfg(by="video", speed_kmh=980, distance_inside_km=1.85, alt_m=5791), su24, {})
    assert "within" in fast["notes"][0]
    assert fast["time_at_stated_speed_s"] == pytest.approx(1850 / (980 / 3.6))
    # a stated depth and distance are set beside the model's route, as the time inside is (they
    # were kept and never compared: a table row of '-')
    model = {"entered": {"p": 1.0}, "time_inside_s": {"mean": 59.0}, "distance_inside_km": {"mean": 13.1},
             "max_depth_km": {"mean": 7.69}}
    both = claims.check(ClaimCfg(by="Poland", time_inside_s=120, max_depth_km=10, distance_inside_km=90), su24, model)
    assert "stated 120 s inside; the model's route: 59 s" in both["notes"]
    assert "stated 90 km inside; the model's route: 13.1 km" in both["notes"]
    assert "stated 10 km deep; the model's route: 7.69 km" in both["notes"]
    # a crossing a kill inside ended is that far only: said (180 s stated beside 170 s of a route
    # shot down in every run had read as the route's own time)
    shot = claims.check(ClaimCfg(by="x", time_inside_s=180, distance_inside_km=30), su24,
                        model | {"killed_inside": {"p": 0.25}})
    cut = " (cut short by a kill inside in 25% of the runs that entered)"
    assert f"stated 180 s inside; the model's route: 59 s{cut}" in shot["notes"]
    assert f"stated 30 km inside; the model's route: 13.1 km{cut}" in shot["notes"]



def test_claim_without_height_is_judged_at_the_routes_height():
    """A claim that states no height, where the model's path never entered, is judged over the
    heights its route flies, the catalogue's cruise height only where neither says one;
    ``alt_from`` says which."""
    from shieldlab.scenario.schema import ClaimCfg

    su24 = catalog.get_aircraft("su-24m")
    c = ClaimCfg(by="x", speed_kmh=480)

    def vmin(h):
        return float(min_true_airspeed(su24.min_speed_eas_kmh * KMH, h)) / KMH

    low = claims.check(c, su24, {}, np.array([3000.0, 3000.0]))
    assert (low["alt_m"], low["alt_max_m"], low["alt_from"]) == (3000.0, 3000.0, "route")
    assert low["min_speed_kmh"] == pytest.approx(vmin(3000.0))
    assert "at 3,000 m (the route's height)" in low["notes"][0]
    cruise = claims.check(c, su24, {}, np.array([np.nan, np.nan]))  # nan: the cruise height
    assert (cruise["alt_m"], cruise["alt_from"]) == (su24.cruise_alt_m, "route")
    none = claims.check(c, su24, {})
    assert (none["alt_m"], none["alt_from"]) == (su24.cruise_alt_m, "cruise")
    stated = claims.check(ClaimCfg(by="x", speed_kmh=480, alt_m=9000), su24, {"alt_inside_m": {"lo": 3e3, "hi": 3e3}},
                          np.array([3000.0]))
    assert (stated["alt_m"], stated["alt_from"]) == (9000.0, "claim")
    # the verdict turns on the height: 480 km/h is flyable at 3 km and not at 9 km
    assert vmin(3000.0) < 480 < vmin(9000.0)
    assert "within" in low["notes"][0] and "below the least speed" in stated["notes"][0]


def test_claim_over_a_span_of_heights_is_judged_at_both_ends():
    """Over heights that differ (the route's legs, or the model's path inside the airspace) a
    speed is within the envelope only if above the least speed at the highest, not flyable
    only if below it at the lowest, and in between flyable below the height where it is the
    least speed: a route starting at 500 m that crosses at 8,000 m is not judged at 500 m."""
    from shieldlab.scenario.schema import ClaimCfg

    su24 = catalog.get_aircraft("su-24m")

    def vmin(h):
        return float(min_true_airspeed(su24.min_speed_eas_kmh * KMH, h)) / KMH

    mid = claims.check(ClaimCfg(by="x", speed_kmh=480), su24, {}, np.array([np.nan, 2000.0, 500.0]))
    assert (mid["alt_m"], mid["alt_max_m"], mid["alt_from"]) == (500.0, su24.cruise_alt_m, "route")
    assert mid["min_speed_at_alt_max_kmh"] == pytest.approx(vmin(su24.cruise_alt_m))
    assert vmin(500.0) < 480 < vmin(su24.cruise_alt_m)
    note = mid["notes"][0]
    assert "only below" in note and "not flyable clean above it" in note
    top = float(note.split("only below ")[1].split(" m")[0].replace(",", ""))
    assert vmin(top) == pytest.approx(480, abs=0.2)  # the height where 480 km/h is the least speed
    # the model's path inside the airspace outranks the route: judged where it crossed
    modelled = {"alt_inside_m": {"lo": 7800.0, "hi": 8200.0}}
    crossed = claims.check(ClaimCfg(by="x", speed_kmh=480), su24, modelled, np.array([500.0, 8000.0]))
    assert (crossed["alt_m"], crossed["alt_max_m"], crossed["alt_from"]) == (7800.0, 8200.0, "model-inside")
    assert vmin(7800.0) > 480
    assert "below the least speed" in crossed["notes"][0]
    assert "at every height from 7,800 to 8,200 m inside the airspace (the model's path)" in crossed["notes"][0]
    fast = claims.check(ClaimCfg(by="x", speed_kmh=700), su24, modelled)
    assert "within the su-24m's envelope at every height from 7,800 to 8,200 m" in fast["notes"][0]
    assert vmin(8200.0) < 700


@pytest.fixture(scope="module")
def turkey():
    w = load_world("turkey-airspace-2015")
    return w, simulate_air(w, 24, seed=3)


def test_a_patrol_in_range_before_the_entry_may_be_out_of_reach_while_inside():
    """At the first assumed station (36.05 N 36.30 E) the patrol is in weapon range of the Su-24M
    minutes before the entry, then trails it by ~22 km as it turns away over the tip: the
    AIM-9X would fly more than its 25 km to meet it, so it is never in reach while inside, no
    shot is fired, and the fighters table says so rather than 'in range before the exit'."""
    w = load_world("turkey-airspace-2015")
    sites = {**w.scenario.sites}
    scn = w.scenario.model_copy(update={"sites": {**sites, "hatay-cap": sites["hatay-cap"].model_copy(
        update={"lat": 36.05, "lon": 36.30})}})
    from shieldlab.scenario import compile_world

    res = simulate_air(compile_world(scn), 6, seed=3)
    nov24 = {f["flight"]: f for f in res.summary["flights"]}["su-24-24-nov"]
    patrol = nov24["fighters"]["f-16-patrol"]
    assert patrol["in_range_after_entry_s"]["mean"] < -60.0  # in range well before the entry
    assert patrol["in_range_while_inside"]["p"] == 0.0
    assert nov24["fired"]["p"] == 0.0


def test_turkey_2015_incidents(turkey):
    """What the preset answers (its patrol station calibrated so that the shot is possible):
    both routes enter; on 3 Oct no shot (fire not yet authorised), on 24 Nov the patrol fires
    while the track is inside and a kill falls outside the border (the weapon flies ~27 s, the
    Su-24 crosses the tip in ~11 s); the quick-reaction alert at Incirlik needs ~24 minutes to
    reach weapon range of the entry point."""
    w, res = turkey
    s = {f["flight"]: f for f in res.summary["flights"]}
    oct3, nov24 = s["su-30-3-oct"], s["su-24-24-nov"]
    assert oct3["entered"]["p"] == 1.0 and nov24["entered"]["p"] == 1.0
    assert oct3["fired"]["p"] == 0.0 and list(oct3["no_shot"]) == ["fire not yet authorised: intercept and "
                                                                    "escort only"]
    assert nov24["fired"]["p"] == 1.0
    assert 5.0 < nov24["time_inside_s"]["mean"] < 20.0
    assert nov24["hit_depth_km"]["mean"] < 0.0  # the kills fall in Syria
    qra = nov24["fighters"]["incirlik-qra"]
    assert qra["in_range_while_inside"]["p"] == 0.0
    assert qra["order_to_entry_range_s"]["mean"] > 900.0 + 120.0  # readiness and climb at least
    assert nov24["fighters"]["f-16-patrol"]["in_range_while_inside"]["p"] == 1.0
    # the track's time inside is close to the truth's, inside its own interval most of the time
    o = res.outcomes
    sel = (o["flight"] == "su-24-24-nov")
    inside = (o["est_time_inside_lo_s"][sel] <= o["time_inside_s"][sel]) & \
             (o["time_inside_s"][sel] <= o["est_time_inside_hi_s"][sel] + 2.0)  # + the 2 s decision step
    assert inside.mean() >= 0.75
    assert [c["by"] for c in nov24["claims"]][0].startswith("Turkey")
    # a claim without a height is judged where the model's path crossed: the route's height there
    assert nov24["alt_inside_m"] == {"lo": 5791.0, "hi": 5791.0}
    assert {c["alt_from"] for c in oct3["claims"]} == {"model-inside"}
    assert oct3["claims"][0]["alt_m"] == oct3["alt_inside_m"]["lo"]
    ent = o["entered"]
    assert np.isfinite(o["alt_inside_lo_m"][ent]).all() and np.isnan(o["alt_inside_lo_m"][~ent]).all()


def test_a_claim_without_a_height_is_judged_where_the_modelled_path_crossed():
    """End to end: a stated speed with no height, on the 3 October route, is judged over the
    heights the simulated Su-30 flew inside Turkish airspace, named in the verdict."""
    import yaml

    from shieldlab.scenario.loader import preset_text

    raw = yaml.safe_load(preset_text("turkey-airspace-2015"))
    oct3 = next(f for f in raw["flights"] if f["name"] == "su-30-3-oct")
    oct3["claims"][0]["speed_kmh"] = 900.0
    w = compile_world(parse(raw, "t"), "t")
    row = next(f for f in simulate_air(w, 2, seed=3, scene_run=None).summary["flights"]
               if f["flight"] == "su-30-3-oct")
    c = row["claims"][0]
    assert c["alt_from"] == "model-inside"
    assert (c["alt_m"], c["alt_max_m"]) == (row["alt_inside_m"]["lo"], row["alt_inside_m"]["hi"])
    assert any("900 km/h: within the su-30sm's envelope" in n and "inside the airspace (the model's path)" in n
               for n in c["notes"])


def test_runs_do_not_depend_on_chunking(turkey):
    """Run k's numbers are the same whether 24 runs or 3 are simulated."""
    w, res = turkey
    few = simulate_air(w, 3, seed=3, scene_run=None)
    o, f = res.outcomes, few.outcomes
    sel = o["run"] < 3
    for k in ("time_inside_s", "first_detect_s", "fire_s", "hit_s", "warnings"):
        assert np.array_equal(np.nan_to_num(o[k][sel]), np.nan_to_num(f[k])), k


def test_policing_rules_of_engagement(turkey):
    """engage never: no shot; more warnings required than are given: no shot."""
    w, _ = turkey
    never = replace(w, policing=replace(w.policing, engage="never"))
    res = simulate_air(never, 2, seed=3, scene_run=None)
    assert not res.outcomes["fired"].any()
    assert set(res.outcomes["no_shot"]) == {"rules of engagement: never fire"}
    strict = replace(w, policing=replace(w.policing, min_warnings=100))
    res = simulate_air(strict, 2, seed=3, scene_run=None)
    assert not res.outcomes["fired"].any()


KALIBR_ONE = """
name: one-kalibr
epoch: 2015-10-07T05:00:00Z
sites:
  caspian: {lat: 40.3, lon: 51.2}
  coast: {lat: 37.75, lon: 49.05}
  tabriz: {lat: 38.05, lon: 46.4}
flights:
  - {name: k, type: kalibr-3m-14, count: 26, route: [caspian, coast, tabriz], failure_probability: 0.15,
     spacing_s: 5}
"""


def test_failure_rate_sets_the_arrivals():
    """26 missiles, each failing with probability 0.15: the mean arriving per run is 26 x 0.85 within
    its interval, and the failures fall where the route runs (the sea, then Iran) in proportion
    to the route's length over each."""
    import yaml

    w = compile_world(parse(yaml.safe_load(KALIBR_ONE), "test"), "test")
    res = simulate_air(w, 40, seed=1, scene_run=None)
    f = res.summary["flights"][0]
    a = f["arrived_per_run"]
    assert a["ci"][0] <= 26 * 0.85 <= a["ci"][1]
    assert f["failed"]["ci"][0] <= 0.15 <= f["failed"]["ci"][1]
    # share of the route over the sea: ~340 of ~570 km
    where = f["failure_countries"]
    n = sum(where.values())
    sea = where.get("sea", 0)
    p_sea = 340 / 570
    assert abs(sea / n - p_sea) < 4 * math.sqrt(p_sea * (1 - p_sea) / n) + 0.05
    assert set(where) <= {"Iran", "sea"}  # nothing else under that route


def test_a_fighter_without_weapon_intercepts_at_visual_range(turkey):
    """A patrol of Su-30s (no air-to-air weapon in the catalogue) under engage: never comes within
    visual identification range; no shot, no crash."""
    w, _ = turkey
    su30 = catalog.get_aircraft("su-30sm")
    pat = replace(w.policing.patrols[0], spec=su30)
    w2 = replace(w, policing=replace(w.policing, engage="never", patrols=(pat,), bases=()))
    res = simulate_air(w2, 2, seed=3, scene_run=None)
    assert not res.outcomes["fired"].any()
    f = {x["flight"]: x for x in res.summary["flights"]}["su-24-24-nov"]
    assert f["fighters"]["f-16-patrol"]["order_to_entry_range_s"]["mean"] > 0.0
    assert policing.reach_m(su30) == policing.VISUAL_ID_M


def test_a_waypoint_height_holds_until_another_is_given(turkey):
    w, _ = turkey
    su24 = next(f for f in w.flights if f.name == "su-24-24-nov")
    assert np.all(su24.route_alt == 5791.0)  # set once, on the first waypoint
    su30 = next(f for f in w.flights if f.name == "su-30-3-oct")
    assert np.isnan(su30.route_alt[0]) and np.all(su30.route_alt[1:] == 5000.0)


def test_shoot_look_shoot_while_the_rules_allow(turkey):
    """A weapon that always misses (pk 0.001): the patrol shoots again after each miss while the
    Su-30's track is still inside, up to max_shots; every shot after the first at least its
    predecessor's flight time plus the look plus the reaction later (the decision to fire again
    follows the miss it saw)."""
    w, _ = turkey
    pat = w.policing.patrols[0]
    spec = pat.spec.model_copy(update={"weapon": pat.spec.weapon.model_copy(update={"pk": 0.001})})
    for max_shots in (1, 3):
        w2 = replace(w, policing=replace(w.policing, engage_from=0.0, max_shots=max_shots, bases=(),
                                         patrols=(replace(pat, spec=spec),)))
        res = simulate_air(w2, 6, seed=3, scene_run=None)
        o = res.outcomes
        sel = o["flight"] == "su-30-3-oct"  # 62 s inside: room for two or three shots
        shots = o["shots"][sel]
        assert (shots == 1).all() if max_shots == 1 else ((shots >= 2).all() and (shots == 3).any()), shots
        ev = res.events
        for run in range(6):
            fires = [ev["t_s"][i] for i in range(len(ev["run"])) if ev["run"][i] == run
                     and ev["threat"][i] == "su-30-3-oct" and ev["kind"][i] == "fire"]
            misses = [ev["t_s"][i] for i in range(len(ev["run"])) if ev["run"][i] == run
                      and ev["threat"][i] == "su-30-3-oct" and ev["kind"][i] == "miss"]
            assert len(fires) == len(misses) == shots[run]
            for k in range(1, len(fires)):
                assert fires[k] >= misses[k - 1] + policing.LOOK_S + w.policing.reaction - 1e-9


def test_a_sensors_shares_end_where_the_flier_was_shot_down():
    """What a sensor made of a flier counts its scans while it was in the air: up to a kill,
    not along the rest of its route (the path flown on past the kill is the truth's only)."""
    from types import SimpleNamespace

    from shieldlab.engine import air

    t = np.arange(0.0, 100.0, 10.0)  # scans at 0, 10, ..., 90 s
    det = SimpleNamespace(t=t, sensor="r", detected=np.ones((1, 1, t.size), bool), snr=np.ones((1, 1, t.size)))
    det.detected[0, 0, :5] = False  # seen only from 50 s on
    traj = SimpleNamespace(launch_time=np.array([[0.0]]), impact_time=np.array([[100.0]]))
    f = SimpleNamespace(group="g")
    whole, cut = {}, {}
    air._sensing_row(f, traj, [det], 0, 0, whole, 100.0)
    air._sensing_row(f, traj, [det], 0, 0, cut, 50.0)  # shot down at 50 s, before its first report
    assert whole[("g", "r")] == [(True, 1.0, 0.5)]
    assert cut[("g", "r")] == [(False, 1.0, 0.0)]


def _turning_track(turn_s: float, speed_after: float, T: float = 600.0):
    """A track on a 2 s grid over (37 N, 36 E) at 6 km: east at 250 m/s, from ``turn_s`` on
    west at ``speed_after`` [m/s]; ECEF states (T, 6)."""
    lat0, lon0 = D(37.0), D(36.0)
    o = earth.geodetic_to_ecef(lat0, lon0, 6000.0)
    east = np.array([-np.sin(lon0), np.cos(lon0), 0.0])
    north = np.array([-np.sin(lat0) * np.cos(lon0), -np.sin(lat0) * np.sin(lon0), np.cos(lat0)])
    t = np.arange(0.0, T + 1e-9, 2.0)
    x_e = np.where(t < turn_s, 250.0 * t, 250.0 * turn_s - speed_after * (t - turn_s))
    v_e = np.where(t < turn_s, 250.0, -speed_after)
    tx = np.column_stack([o + np.outer(x_e, east), np.outer(v_e, east)])
    return t, tx, o, east, north


@pytest.mark.parametrize("speed_after", [300.0, 150.0])
def test_a_fighter_fires_only_with_the_track_within_its_weapons_range(speed_after):
    """A fighter vectored on a track flying east that turns back west 40 s later: it was fired
    at the predicted in-range point against a target then 40-55 km away (the AIM-9X reaches
    25 km).  Now it follows the track after its collision course and fires only with the track
    within reach: never against a target that outruns it (300 m/s against 258), and within
    25 km, by the truth's measure too, against one it catches (150 m/s).  Its time in range is
    where its course puts the track within reach, not the collision course's prediction (a
    patrol was logged in range of a target it never came near)."""
    from types import SimpleNamespace

    t, tx, o, east, north = _turning_track(40.0, speed_after)
    spec = catalog.get_aircraft("f-16c")
    pos = o + 60e3 * east + 60e3 * north
    f = policing.Fighter("patrol", spec, pos, 0.0, np.inf, False)
    pol = SimpleNamespace(warning_interval=30.0, scramble="on-warning", engage="inside", min_warnings=0,
                          reaction=2.0, engage_from=0.0, max_shots=1)
    ins = np.ones(t.size, bool)
    rp = policing.police_row(pol, t, tx, ins, ins, [f])
    assert rp.vectored == "patrol"
    reach = 1e3 * spec.weapon.max_range_km
    if speed_after > 258.0:
        assert rp.shots == [] and rp.fire_times.size == 0
        assert rp.no_shot == "the fighter's course never brought the track within its weapon's range"
        assert rp.in_range == np.inf and rp.reach["patrol"] == np.inf  # never in range: nor logged so
        # kept to its own airspace where the whole chase is: the same reason, and the pursuit
        # rule not blamed for a tail chase it never cut short (it had been)
        for rule in ("own-airspace", "international"):
            kept = SimpleNamespace(**vars(pol), pursuit=rule)
            rk = policing.police_row(kept, t, tx, ins, ins, [policing.Fighter("patrol", spec, pos, 0.0, np.inf, False)],
                                     own=lambda p: np.ones(len(np.atleast_2d(p)), bool))
            assert rk.no_shot == "the fighter's course never brought the track within its weapon's range"
        return
    assert 40.0 < rp.in_range == rp.reach["patrol"] < t[-1]
    assert rp.shots and rp.shots[0].time > rp.in_range
    for ft in rp.fire_times:  # the track, as of the decision instant, within reach of the fighter
        k = int(np.searchsorted(t, ft - pol.reaction))
        assert np.linalg.norm(tx[k, :3] - rp.shooter_at(t[k])) <= reach * (1 + 1e-9)

    def truth_at(tt):
        return tx[min(int(np.searchsorted(t, tt)), t.size - 1), :3]

    s = policing.assess(rp.shots[0], rp.shooter_at(rp.shots[0].time), truth_at, spec.weapon,
                        np.random.default_rng(0))
    assert 0.0 < s.range_m <= reach
    # the fighter never flies faster than its cruise speed
    v = np.linalg.norm(np.diff(rp.path_p, axis=0), axis=1) / np.diff(rp.path_t)
    assert v.max() <= spec.cruise_speed_kmh / 3.6 * (1 + 1e-6)



@pytest.mark.parametrize("pursuit", ["own-airspace", "across"])
def test_a_fighter_kept_in_its_airspace_stops_at_the_border(pursuit):
    """The track flies east out of the airspace (a half-space: east of 40 km from the start is
    abroad) and the fighter, vectored from inside, follows it.  Under ``own-airspace`` its
    course never leaves: it stops at the border, to 10 m, and holds there; under ``across`` it
    follows the track over the border."""
    from types import SimpleNamespace

    t, tx, o, east, north = _turning_track(1e9, 0.0)  # east at 250 m/s throughout

    def own(p):
        return (np.atleast_2d(p) - o) @ east < 40e3

    spec = catalog.get_aircraft("f-16c")
    f = policing.Fighter("patrol", spec, o + 10e3 * east + 20e3 * north, 0.0, np.inf, False)
    pol = SimpleNamespace(warning_interval=30.0, scramble="on-warning", engage="inside", min_warnings=0,
                          reaction=2.0, engage_from=0.0, max_shots=1, pursuit=pursuit)
    ins = own(tx[:, :3])
    rp = policing.police_row(pol, t, tx, ins, ins, [f], own=own)
    depth = (rp.path_p - o) @ east - 40e3  # > 0: abroad
    if pursuit == "across":
        assert depth.max() > 20e3
        return
    assert depth.max() <= 0.0 and depth.max() > -policing.BORDER_TOL_M
    assert (depth[-5:] > -policing.BORDER_TOL_M).all()  # it holds at the border while the track flies on


def test_on_24_november_the_patrol_fires_from_turkish_airspace(turkey):
    """The patrol had chased the Su-24's track into Syria and released 10 km beyond the border;
    kept in Turkey's airspace it fires from inside, the AIM-9X reaching across."""
    from shieldlab.airspace import borders
    from shieldlab.engine.air import air_territory

    w, res = turkey
    terr = air_territory(w)
    shots = [(rp, s) for er in res.scene for rp in er.policing if rp is not None for s in rp.shots]
    assert shots
    for rp, s in shots:
        la, lo, _ = earth.ecef_to_geodetic(rp.shooter_at(s.time)[None])
        assert borders.contains(terr, np.degrees(la), np.degrees(lo))[0]

def test_policing_a_country_far_from_the_flights_names_the_field():
    """Policing Chile over a route in southern Turkey: the error named an internal argument
    (around_deg) with no file; it names air_policing.country and the scenario."""
    from shieldlab.errors import InputError

    raw = {"name": "far", "epoch": "2015-10-03T00:00:00Z",
           "sites": {"a": {"lat": 36.0, "lon": 36.0}, "b": {"lat": 36.5, "lon": 36.5}},
           "sensors": [{"name": "r", "type": "an-mpq-65", "site": "a"}],
           "flights": [{"name": "f", "type": "su-24m", "route": ["a", "b"]}],
           "air_policing": {"country": "Chile"}}
    w = compile_world(parse(raw, "far.yaml"), "far.yaml")
    with pytest.raises(InputError) as e:
        simulate_air(w, 1, seed=0, scene_run=None)
    assert (e.value.source, e.value.field) == ("far.yaml", "air_policing.country")
    assert e.value.message.startswith("Chile has no land within 436 km of the flights' routes")


INCURSION = """
name: incursion
epoch: 2023-03-01T04:00:00Z
time_step_s: 10
sites:
  radar-lublin: {lat: 51.25, lon: 22.57, alt_m: 200}
  rzeszow: {lat: 50.11, lon: 22.02, alt_m: 200}
  cap-station: {lat: 51.0, lon: 23.2, alt_m: 8000}
  lviv: {lat: 49.84, lon: 24.03, alt_m: 300}
sensors:
  - {name: lublin, type: air-surveillance-ground, site: radar-lublin, system: poland}
  - {name: awacs, type: e-3a-apy-2, site: {lat: 51.6, lon: 21.5, alt_m: 9150}, system: poland}
flights:
  - name: kalibr
    type: kalibr-3m-14
    side: Russia
    count: 4
    spacing_s: 20
    route:
      - {lat: 52.20, lon: 24.60, alt_m: 100}
      - {lat: 51.30, lon: 23.60, alt_m: 50}
      - {lat: 50.80, lon: 23.70, alt_m: 30, speed_kmh: 850}
      - lviv
air_policing:
  country: Poland
  side: NATO
  warn_within_km: 30
  min_warnings: 1
  patrols:
    - {name: cap, type: f-16c, site: cap-station}
"""


def test_a_kill_inside_ends_the_crossing_where_the_hit_is():
    """On a 10 s grid the hit's depth was read at the sample after the kill (a place the flier
    never reached: 10.6 km against a deepest point of 9.6) and the crossing was cut at the
    sample before it (time inside 4-7 s short).  Both now end at the kill's own place."""
    w = compile_world(parse(yaml.safe_load(INCURSION), "incursion"), "incursion")
    res = simulate_air(w, 12, seed=1, scene_run=None)
    o = res.outcomes
    inside = o["killed"] & o["entered"] & (o["hit_depth_km"] > 0)
    assert inside.sum() >= 10
    assert (o["hit_depth_km"][inside] <= o["max_depth_km"][inside] + 1e-6).all()
    np.testing.assert_allclose(o["time_inside_s"][inside], o["hit_s"][inside] - o["entry_s"][inside], atol=1e-6)
    # the policing's story ends with the flier: no fighter airborne after it came down
    ev = res.events
    for run, fl, t_s, kind in zip(ev["run"], ev["threat"], ev["t_s"], ev["kind"]):
        if kind == "airborne":
            row = (o["run"] == run) & (o["flight"] == fl)
            assert t_s <= o["end_s"][row][0] + 1e-6


def test_the_warnings_end_with_the_decision_to_fire(turkey):
    """The policing cell stops warning once it has decided to fire: a tenth warning came 17 s
    after the Su-24M's shot and after its exit.  A flier no one fires at is warned while it
    stays near (the Su-30 of 3 October, never fired at under that day's rules)."""
    w, res = turkey
    ev = res.events
    fired = 0
    for run in range(24):
        mine = (ev["run"] == run) & (ev["threat"] == "su-24-24-nov")
        fires = ev["t_s"][mine & (ev["kind"] == "fire")]
        warns = ev["t_s"][mine & (ev["kind"] == "warning")]
        if fires.size:
            fired += 1
            assert warns.size and warns.max() <= fires.min()
    assert fired >= 20
    su30 = (ev["threat"] == "su-30-3-oct") & (ev["kind"] == "warning") & (ev["run"] == 0)
    assert su30.sum() >= 5 and not ((ev["threat"] == "su-30-3-oct") & (ev["kind"] == "fire")).any()


KALIBR_AT_TALLINN = """
name: kalibr-at-tallinn
epoch: 2024-06-01T10:00:00Z
sites:
  tallinn-radar: {lat: 59.40, lon: 24.80, alt_m: 60}
  tartu-radar: {lat: 58.38, lon: 26.72, alt_m: 80}
  cap-station: {lat: 59.0, lon: 26.5, alt_m: 7500}
  tallinn: {lat: 59.437, lon: 24.745}
  pskov-launch: {lat: 57.80, lon: 28.60}
sensors:
  - {name: tallinn, type: air-surveillance-ground, site: tallinn-radar, system: estonia}
  - {name: tartu, type: air-surveillance-ground, site: tartu-radar, system: estonia}
flights:
  - {name: kalibr, type: kalibr-3m-14, side: Russia, start_time_s: 120, failure_probability: 0.1,
     route: [pskov-launch, {lat: 58.9, lon: 26.0}, tallinn]}
air_policing:
  country: Estonia
  side: NATO
  engage: inside
  min_warnings: 0
  patrols:
    - {name: cap, type: f-16c, site: cap-station}
"""


def test_the_cruise_missiles_totals_count_those_shot_down():
    """A Kalibr at Tallinn that Estonia's patrol shoots down inside its airspace: every missile
    launched arrives, fails or is shot down, and the totals say all three (they said what
    arrived and what failed only: 0.1 and 0.0 of 1 per run, the rest unaccounted for)."""
    w = compile_world(parse(yaml.safe_load(KALIBR_AT_TALLINN), "test"), "test")
    runs = 8
    res = simulate_air(w, runs, seed=1, scene_run=None)
    tot = res.summary["cruise_missiles"]
    assert tot["launched"] == 1
    down = tot["shot_down_per_run"]["mean"]
    assert down >= 0.5
    assert tot["arrived_per_run"]["mean"] + tot["failed_per_run"]["mean"] + down == pytest.approx(1.0)
    o = res.outcomes
    assert down == pytest.approx((o["killed"] & ~o["failed"]).sum() / runs)
    from shieldlab.io.air_tables import tables

    said = " ".join(str(x) for x in tables(res.summary) if isinstance(x, str))
    assert "the 1 cruise missile: " in said and "shot down" in said


def test_a_flier_ending_inside_counts_its_last_step_inside():
    """A Kalibr that reaches Tallinn ends inside Estonia: its time inside runs from its entry to
    its end.  The path's last step, from the last airborne sample to the end position (a sample
    not airborne), was left out: one time step short (1 s here), and a flier that crossed in its
    last step was not counted as entering at all."""
    held_fire = KALIBR_AT_TALLINN.replace("engage: inside", "engage: never")
    w = compile_world(parse(yaml.safe_load(held_fire), "test"), "test")
    res = simulate_air(w, 8, seed=2, scene_run=None)
    o = res.outcomes
    ends_inside = o["entered"] & ~o["killed"] & ~o["failed"]
    assert ends_inside.sum() >= 1
    np.testing.assert_allclose(o["time_inside_s"][ends_inside], o["end_s"][ends_inside] - o["entry_s"][ends_inside],
                               atol=1e-6)


def test_a_misspelt_country_is_offered_the_one_it_begins_like():
    """``Estland`` was offered Åland, Poland, Ireland and Iceland (difflib's likeness alone),
    not Estonia: names that begin as it does come first."""
    from shieldlab.analysis.maps import close_countries

    assert close_countries("Estland")[0] == "Estonia"
    assert close_countries("syria")[0] == "Syria" and close_countries("Grmany")[0] == "Germany"
    assert set(close_countries("Irak")[:2]) == {"Iran", "Iraq"}


def test_an_international_pursuit_keeps_out_of_other_countries_only():
    """Estonia's Baltic air policing: under ``own-airspace`` a fighter keeps to Estonia's land
    and territorial sea; under ``international`` it may also fly over the high seas (where
    most intercepts of unannounced fliers happen), never over Finland, Russia or their
    territorial seas; under ``across``, anywhere."""
    from types import SimpleNamespace

    from shieldlab.airspace import borders
    from shieldlab.engine.air import pursuit_area

    terr = borders.territory("Estonia", around_deg=(59.0, 24.0), radius_km=400.0)
    pts = {"Tallinn": (59.44, 24.75), "high seas west of Saaremaa": (58.0, 20.8), "Helsinki": (60.17, 24.94),
           "Finland's territorial sea off Helsinki": (60.1, 25.0), "Russia, east of Narva": (59.45, 28.6)}
    xyz = np.array([earth.geodetic_to_ecef(np.radians(a), np.radians(b), 8000.0) for a, b in pts.values()])
    own = pursuit_area(SimpleNamespace(pursuit="own-airspace"), terr)(xyz)
    intl = pursuit_area(SimpleNamespace(pursuit="international"), terr)(xyz)
    assert own.tolist() == [True, False, False, False, False]
    assert intl.tolist() == [True, True, False, False, False]
    assert pursuit_area(SimpleNamespace(pursuit="across"), terr) is None
    foreign = borders.foreign_airspace("Estonia", around_deg=(59.0, 24.0), radius_km=400.0)
    assert not borders.contains(foreign, np.array([59.44]), np.array([24.75]))[0]  # Estonia is not foreign


def test_an_entrys_chunk_follows_its_size_and_changes_no_result(monkeypatch):
    """50 runs of kalibr-caspian-2015 peaked at 578 MB in chunks of 16 runs (3 missiles on a
    12,600-sample grid, 5 radars: 26 MB a run); chunks are now sized by fliers x samples x
    radars, and a run's results do not depend on the runs beside it, to the bit (the deepest point
    inside the airspace had differed in its last digits: its search summed arc lengths over the
    whole chunk)."""
    import shieldlab
    from shieldlab.engine import air

    assert air.chunk_runs(3, 12_638, 5) == 4 and air.chunk_runs(1, 1_500, 2) == air.CHUNK_RUNS
    assert air.chunk_runs(50, 100_000, 10) == 1
    w = shieldlab.load_world("turkey-airspace-2015")
    whole = air.simulate_air(w, runs=3, seed=2)
    monkeypatch.setattr(air, "CHUNK_RADAR_SAMPLES", 1)  # one run a chunk
    alone = air.simulate_air(w, runs=3, seed=2)
    for a, b in ((whole.outcomes, alone.outcomes), (whole.events, alone.events)):
        assert a.keys() == b.keys()
        for k in a:
            assert np.asarray(a[k]).astype(str).tolist() == np.asarray(b[k]).astype(str).tolist(), k


def test_a_flier_never_seen_has_no_first_report_time_not_an_infinite_one(tmp_path):
    """A time that never came is NaN (null in Parquet) in every air-outcome column: the first
    report's and the firm track's were inf, so ``avg(first_detect_s)`` over the file read inf."""
    import pyarrow.parquet as pq

    from shieldlab.cli import main

    res = simulate_air(load_world("kalibr-caspian-2015"), 2, seed=1, scene_run=None)
    o = res.outcomes
    assert (~o["seen"]).any()  # Kalibrs low over the sea that no radar reports
    assert np.array_equal(o["seen"], np.isfinite(o["first_detect_s"]))
    assert np.isnan(o["firm_track_s"][~o["seen"]]).all()
    for k, v in o.items():
        if np.asarray(v).dtype.kind == "f":
            assert not np.isinf(v).any(), k
    assert main(["run", "kalibr-caspian-2015", "--runs", "2", "--seed", "1", "--out", str(tmp_path / "r"), "-q"]) == 0
    t = pq.read_table(tmp_path / "r" / "air_outcomes.parquet")
    assert t["first_detect_s"].null_count == int((~o["seen"]).sum())
