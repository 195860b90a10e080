"""Boost-aware threat evaluation: thrust detection, the impact corridor, and the planner's use of them."""

import numpy as np
import pytest

from shieldlab import earth
from shieldlab.c2 import threat_eval as te
from shieldlab.engine.chain import fly_threats
from shieldlab.engine.montecarlo import simulate
from shieldlab.flyout.integrate import propagate
from test_chain import world


def _coast_pair(dt=8.0):
    """Two states of a ballistic arc ``dt`` seconds apart (ECEF), starting at 300 km, 3 km/s."""
    r = earth.geodetic_to_ecef(np.radians(35.0), np.radians(45.0), 300e3)
    up = r / np.linalg.norm(r)
    east = np.cross([0.0, 0.0, 1.0], up)
    east /= np.linalg.norm(east)
    v = 3000.0 * (np.cos(0.5) * east + np.sin(0.5) * up)
    then = np.concatenate([r, v])[None]
    now = propagate(then, np.array([dt]))
    return then, now


def test_thrust_is_told_from_free_fall():
    then, now = _coast_pair()
    P = np.zeros((1, 6, 6))
    dt = np.array([8.0])
    boost, _ = te.thrusting(now, P, then, P, dt)
    assert not boost[0]  # gravity (with J2 and the rotating-frame terms) explains the change
    pushed = now.copy()
    u = now[0, 3:] / np.linalg.norm(now[0, 3:])
    pushed[0, 3:] += 20.0 * 8.0 * u  # 20 m/s^2 along the velocity for 8 s
    boost, accel = te.thrusting(pushed, P, then, P, dt)
    assert boost[0] and accel[0] == pytest.approx(20.0, abs=0.5)
    # drag slows a threat: a deceleration is not thrust
    braked = now.copy()
    braked[0, 3:] -= 30.0 * 8.0 * u
    assert not te.thrusting(braked, P, then, P, dt)[0][0]
    # a young track (no state a window back) counts as boosting; a noisy one shows no thrust
    assert te.thrusting(now, P, np.full_like(then, np.nan), P, dt)[0][0]
    noisy = np.tile(np.eye(6) * 200.0**2, (1, 1, 1))  # 200 m/s velocity sigma: 2 sigma_a ~ 71 m/s^2
    assert not te.thrusting(pushed, noisy, then, noisy, dt)[0][0]


def test_thrust_is_judged_on_states_backed_by_detections():
    # updates every 2 s; detections at 0, 2, 4, 10, 12 s and 20 s (between them the track coasts
    # on its own ballistic prediction, which can show no thrust)
    t = np.arange(0.0, 24.0, 2.0)
    hits = np.cumsum(np.isin(t, [0, 2, 4, 10, 12, 20]))[None]
    k_now, k_then = te.observed_pair(t, hits, k=8, window_s=8.0)  # t[8] = 16 s: last detection at 12 s
    assert t[k_now[0]] == 12.0 and t[k_then[0]] == 4.0  # the last detection at least 8 s earlier
    k_now, k_then = te.observed_pair(t, hits, k=11, window_s=8.0)
    assert t[k_now[0]] == 20.0 and t[k_then[0]] == 12.0
    k_now, k_then = te.observed_pair(t, hits, k=2, window_s=8.0)
    assert t[k_now[0]] == 4.0 and k_then[0] == -1  # too young
    assert te.observed_pair(t, np.zeros((1, t.size), int), k=5)[0][0] == -1  # never seen


def test_corridor_distance_on_a_constructed_polyline():
    lon = np.radians(np.arange(0.0, 11.0, 2.0))
    pts = earth.geodetic_to_ecef(np.zeros_like(lon), lon, np.zeros_like(lon))[None]
    d, where = te.corridor_distance(pts, np.radians([1.0, 0.0, -0.5]), np.radians([5.0, 12.0, 1.0]))
    deg = np.radians(1.0) * earth.R_EARTH_MEAN
    np.testing.assert_allclose(d[0], [deg, 2 * deg, 0.5 * deg], rtol=1e-9)  # beside, beyond the end, beside
    np.testing.assert_allclose(where[0], [2.5, 5.0, 0.5], atol=1e-9)  # 5 deg E is halfway along segment 2


@pytest.fixture(scope="module")
def mrbm():
    w = world()
    tr = fly_threats(w).truth
    pos, vel = tr.pos.reshape(-1, *tr.pos.shape[-2:])[0], tr.vel.reshape(-1, *tr.vel.shape[-2:])[0]
    return w, tr, pos, vel


def test_a_boosting_threat_is_judged_by_where_it_can_still_land(mrbm):
    w, tr, pos, vel = mrbm
    burnout = float(tr.burnout_time.reshape(-1)[0])
    impact = tr.pos.reshape(-1, *tr.pos.shape[-2:])[0, -1]
    asset = w.assets[0]
    k = int(np.searchsorted(tr.t, 0.6 * burnout))
    k0 = int(np.searchsorted(tr.t, tr.t[k] - te.WINDOW_S))
    x, x0 = np.concatenate([pos[k], vel[k]])[None], np.concatenate([pos[k0], vel[k0]])[None]
    P = np.zeros((1, 6, 6))
    boost, accel = te.thrusting(x, P, x0, P, np.array([tr.t[k] - tr.t[k0]]))
    assert boost[0]
    _, _, ev0 = te.predict(x, accel, np.zeros(1), 4.0, 2000, record=False)
    short = earth.great_circle_distance(*earth.ecef_to_geodetic(ev0[:, 5:8])[:2], asset.site.lat, asset.site.lon)[0]
    assert short > 200e3  # the ballistic extrapolation of a boosting track falls far short
    hit, burn = te.corridor(x, accel, [asset.site.lat], [asset.site.lon], [asset.radius])
    assert hit[0] and burn[0] > 0
    _, _, ev = te.predict(x, accel, burn, 4.0, 2000, record=False)
    # the hypothesis planned on lands at the asset (the corridor's nearest point), as the threat does
    assert np.linalg.norm(ev[0, 5:8] - impact) < 40e3
    # an asset 300 km off the threat's ground track is not threatened
    lat, lon = earth.destination(asset.site.lat, asset.site.lon, np.radians(90.0) + earth.initial_bearing(
        *earth.ecef_to_geodetic(pos[k][None])[:2], asset.site.lat, asset.site.lon), 300e3)
    assert not te.corridor(x, accel, np.atleast_1d(lat), np.atleast_1d(lon), [asset.radius])[0][0]


def test_the_planner_flags_boost_phase_plans_and_never_kills_out_of_reach():
    w = world()
    r = simulate(w, runs=4, seed=1)
    late = te.WINDOW_S + w.batteries[0].reaction_time + 2 * w.scenario.doctrine.planning_interval_s
    ev = r.events
    fires = ev["kind"] == "fire"
    ends = np.isin(ev["kind"], ["intercept", "miss"])
    assert fires.sum() == ends.sum() > 0
    burnouts = {(ru, th): t for ru, th, t, k in zip(ev["run"], ev["threat"], ev["t_s"], ev["kind"]) if k == "burnout"}
    for ru, th, t, d in zip(ev["run"][fires], ev["threat"][fires], ev["t_s"][fires], ev["detail"][fires]):
        if "boost-phase" in d:  # decided on a thrusting track: before burnout (+ the window), launched soon after
            assert t <= burnouts[(ru, th)] + late
    kills = ev["kind"] == "intercept"
    assert not any("out of reach" in d for d in ev["detail"][kills])


def _impact_case(sig_m, d_km, R_km=25.0):
    """A track 300 s before a vertical-ish impact whose position covariance at the impact is
    ~ sig_m² in every direction (velocity covariance zero, position covariance sig²), an asset
    d_km east of the predicted impact point."""
    lat0, lon0 = np.radians(45.0), np.radians(10.0)
    imp = earth.geodetic_to_ecef(lat0, lon0, 0.0)
    up = imp / np.linalg.norm(imp)
    v = -3000.0 * up  # straight down: the ground error is the horizontal position error
    P = np.zeros((1, 6, 6))
    P[0, :3, :3] = np.eye(3) * sig_m**2
    a_lat, a_lon = earth.destination(lat0, lon0, np.pi / 2, d_km * 1e3)
    return (P, imp[None], imp[None], v[None], np.array([0.0]), np.atleast_1d(a_lat), np.atleast_1d(a_lon),
            np.array([R_km * 1e3]))


def test_impact_probability_matches_the_circular_normal():
    """P(inside R) of a circular normal ground error: at the centre 1 - exp(-R²/2σ²) (Rayleigh),
    and off-centre the Rice distribution's CDF, checked by sampling."""
    p, sig, d = te.impact_probability(*_impact_case(20e3, 0.0))
    # (the case's "down" is geocentric, 0.19 deg off the geodetic vertical at 45 N: 3e-6 in sigma)
    assert sig[0] == pytest.approx(20e3, rel=1e-5)
    assert p[0, 0] == pytest.approx(1 - np.exp(-25.0**2 / (2 * 20.0**2)), rel=1e-5)
    p, sig, d = te.impact_probability(*_impact_case(50e3, 100.0))
    rng = np.random.default_rng(3)
    xy = rng.normal(0.0, 50e3, (200_000, 2)) - np.array([100e3, 0.0])
    mc = np.mean(np.hypot(xy[:, 0], xy[:, 1]) <= 25e3)
    assert p[0, 0] == pytest.approx(mc, abs=4 * np.sqrt(mc * (1 - mc) / 200_000))
    assert d[0, 0] == pytest.approx(100e3, rel=1e-3)


def test_impact_probability_of_a_precise_track_is_the_point_test():
    """With metre-level uncertainty the probability is 1 inside the radius and 0 outside:
    the old point-estimate test, recovered."""
    assert te.impact_probability(*_impact_case(1.0, 24.0))[0][0, 0] == pytest.approx(1.0)
    assert te.impact_probability(*_impact_case(1.0, 26.0))[0][0, 0] == pytest.approx(0.0, abs=1e-12)


def test_a_stale_track_far_off_still_may_threaten():
    """A prediction 143 km off a city with a 25 km radius: with a 1 km error it cannot hit
    (P ~ 0); with the ~100 km error of a track that lost its radars it can (P of a few %),
    and the city lies inside the 3-sigma circle, which keeps a declared threat declared."""
    p_sharp = te.impact_probability(*_impact_case(1e3, 143.0))[0][0, 0]
    p_stale, sig, d = te.impact_probability(*_impact_case(100e3, 143.0))
    assert p_sharp < 1e-12 and 0.01 < p_stale[0, 0] < 0.1
    assert d[0, 0] - 25e3 <= 3 * sig[0]


def test_the_last_chance_is_the_latest_launch_that_meets_the_path():
    """``launch_latest`` is max over the allowed samples of t - tau (the latest launch that
    still meets the path), not the launch for the window's latest intercept.  With a fly-out
    time tau(t) = 60 + 0.02 (t - 100)² the latest launch is at t = 125 (d(t - tau)/dt = 0):
    52.5 s; the window (ready at 0) closes where t - tau = 0, a launch at 0."""
    from shieldlab.engage.solver import intercept_window

    def time_to(p):
        return 60.0 + 0.02 * (p[..., 0] - 100.0) ** 2  # the path's x coordinate is its time

    t = np.arange(0.0, 300.0, 1.0)
    pos = np.zeros((1, t.size, 3))
    pos[0, :, 0] = t
    w = intercept_window(t, pos, np.zeros_like(pos), time_to, np.array([0.0]), latest=True)
    assert w["found"][0]
    assert w["launch_latest"][0] == pytest.approx(52.5, abs=1e-9)
    assert abs(w["launch_last"][0]) < 0.5  # the latest intercept needs a launch at once


def test_a_young_track_on_the_way_down_is_not_boosting():
    """A track too young to show its thrust counts as boosting — unless it is clearly
    descending: a Scud first seen in re-entry must not be held to a 'last chance'."""
    then, now = _coast_pair()
    P = np.tile(np.eye(6) * 100.0, (1, 1, 1))  # 10 m, 10 m/s
    nan = np.full_like(then, np.nan)
    climbing = now.copy()
    falling = now.copy()
    falling[:, 3:] *= -1.0  # the same speed, downward
    b_up, _ = te.thrusting(climbing, P, nan, P, np.array([8.0]))
    b_down, _ = te.thrusting(falling, P, nan, P, np.array([8.0]))
    assert b_up[0] and not b_down[0]
    vague = np.tile(np.eye(6) * 1e8, (1, 1, 1))  # 10 km/s velocity sigma: cannot tell
    assert te.thrusting(falling, vague, nan, vague, np.array([8.0]))[0][0]
