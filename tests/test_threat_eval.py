"""Boost-aware threat evaluation: thrust detection, the impact corridor, and the planner's use of them."""

import numpy as np
import pytest

from shieldlab import earth
from shieldlab.engage import threat_eval as te
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
