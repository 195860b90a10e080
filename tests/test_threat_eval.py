"""Boost-aware threat evaluation: thrust detection, the impact corridor, and the planner's use of them."""

import numpy as np
import pytest
from kepler_arcs import ballistic_states
from test_chain import world

from shieldlab import earth
from shieldlab.c2 import threat_eval as te
from shieldlab.engine.chain import fly_threats
from shieldlab.engine.montecarlo import simulate
from shieldlab.flyout.integrate import propagate


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


# --------------------------------------------------------------------------- the fast corridor


def _ballistic_states(range_km, n=12, seed=0):
    """See :func:`kepler_arcs.ballistic_states`."""
    return ballistic_states(range_km, n=n, seed=seed)


def _fine_impacts(x, accel, burn):
    """Reference impacts (N, 3) of boost hypotheses: each flown by the flyout in 0.5 s steps."""
    from shieldlab.flyout.integrate import run

    N = x.shape[0]
    z = np.zeros(N)
    _, _, _, ev = run(te._boost_vehicle(accel, burn), x[:, :3], x[:, 3:], z, z, z, np.full(N, np.inf), grid_t0=0.0,
                      dt=0.5, T=int(7300 / 0.5), model=te._MODEL, record=False)
    return np.where(np.isfinite(ev[:, 4])[:, None], ev[:, 5:8], np.nan), ev[:, 4]


@pytest.mark.parametrize("range_km", [300.0, 2_000.0, 9_000.0])
def test_coast_impacts_match_the_flyout_coast(range_km):
    """The closed form plus a few large RK4 steps lands within 0.1 km of the flyout's own
    drag-free coast with J2 in 1 s steps (measured: 4, 5 and 14 m at most; 23 m on 100 other
    9,000 km arcs), where the closed form alone is off by up to ~1, ~7 and ~45 km
    (tests/validation/test_kepler.py)."""
    from shieldlab.flyout.integrate import coast

    x = _ballistic_states(range_km)
    _, _, ev = coast(x, 1.0, 8000, model=te._MODEL)
    p, t = te.coast_impacts(x)
    assert np.max(np.linalg.norm(p - ev[:, 5:8], axis=1)) < 100.0
    assert np.max(np.abs(t - ev[:, 4])) < 0.1


def _boosting(mrbm):
    """The MRBM's true states through its boost (from a window after launch to burnout), with the
    thrust acceleration fire control would measure on them, and their boost hypotheses."""
    w, tr, pos, vel = mrbm
    burnout = float(tr.burnout_time.reshape(-1)[0])
    ks = np.flatnonzero((tr.t >= float(tr.launch_time.reshape(-1)[0]) + te.WINDOW_S) & (tr.t < burnout))
    k0 = np.searchsorted(tr.t, tr.t[ks] - te.WINDOW_S)
    x, x0 = np.concatenate([pos[ks], vel[ks]], 1), np.concatenate([pos[k0], vel[k0]], 1)
    P = np.zeros((ks.size, 6, 6))
    boost, accel = te.thrusting(x, P, x0, P, tr.t[ks] - tr.t[k0])
    assert boost.all()
    burn, valid = te.hypotheses(x, accel)
    return x, accel, burn, valid


def test_impacts_of_a_real_boost_match_flying_each_hypothesis(mrbm):
    """One thrust arc per track, then the fast coast: the impact of every hypothesis (88 states
    through the boost, ~2,900 hypotheses) within 0.05 km of each flown on its own in 0.5 s
    steps (measured: 7 m), and within 2 km of :func:`_impacts_numerical`, the old way, whose
    4 s thrust steps are themselves up to 1.3 km off that reference on this flight."""
    x, accel, burn, valid = _boosting(mrbm)
    new = te.impacts(x, accel, np.where(valid, burn, np.nan))
    assert np.isnan(new[~valid]).all()
    mm, kk = np.nonzero(valid)
    ref, _ = _fine_impacts(x[mm], accel[mm], burn[mm, kk])
    assert np.array_equal(np.isfinite(ref).all(axis=1), np.isfinite(new[mm, kk]).all(axis=1))
    assert np.nanmax(np.linalg.norm(new[mm, kk] - ref, axis=1)) < 50.0
    old = te._impacts_numerical(x, accel, burn)[mm, kk]
    assert np.nanmax(np.linalg.norm(new[mm, kk] - old, axis=1)) < 2e3
    # the burn times need not come sorted, nor valid first
    perm = np.random.default_rng(0).permutation(burn.shape[1])
    shuffled = te.impacts(x, accel, np.where(valid, burn, np.nan)[:, perm])
    np.testing.assert_array_equal(shuffled, new[:, perm])


def test_impacts_of_a_boost_that_comes_down_while_thrusting():
    """A weak boost low and slow (5-12 m/s^2, less than gravity) falls back to the ground while
    still thrusting: every longer hypothesis lands where that flight does, as when flown one by
    one."""
    rs = np.random.default_rng(3)
    n = 12
    lat, lon, az = rs.uniform(-1, 1, n), rs.uniform(-3, 3, n), rs.uniform(0, 2 * np.pi, n)
    alt, speed, climb = rs.uniform(1e3, 30e3, n), rs.uniform(150, 1500, n), rs.uniform(0.1, 1.5, n)
    E = earth.enu_matrix(lat, lon)
    d = (np.cos(climb)[:, None] * (np.cos(az)[:, None] * E[:, 1] + np.sin(az)[:, None] * E[:, 0])
         + np.sin(climb)[:, None] * E[:, 2])
    x = np.concatenate([earth.geodetic_to_ecef(lat, lon, alt), speed[:, None] * d], 1)
    accel = rs.uniform(5.0, 12.0, n)
    burn, valid = te.hypotheses(x, accel)
    new = te.impacts(x, accel, np.where(valid, burn, np.nan))
    mm, kk = np.nonzero(valid)
    ref, t_ref = _fine_impacts(x[mm], accel[mm], burn[mm, kk])
    down = t_ref < burn[mm, kk]
    assert down.sum() > 100 and (~down).sum() > 10
    assert np.array_equal(np.isfinite(ref).all(axis=1), np.isfinite(new[mm, kk]).all(axis=1))
    assert np.nanmax(np.linalg.norm(new[mm, kk] - ref, axis=1)) < 50.0


def test_the_fast_corridor_decides_as_flying_each_hypothesis(mrbm, monkeypatch):
    """The corridor's decision, with the fast impacts and with each hypothesis flown one by one
    (the old way), for each of 88 states through the boost and each of five assets on and
    beside the threat's ground track (at least 13 km from the corridor's edge, either side):
    the same threatened, and the planned burn within a second."""
    w, tr, pos, vel = mrbm
    x, accel, _, _ = _boosting(mrbm)
    asset = w.assets[0]
    k = x.shape[0] // 2
    brg = np.radians(90.0) + earth.initial_bearing(*earth.ecef_to_geodetic(x[k, :3][None])[:2], asset.site.lat,
                                                   asset.site.lon)
    lat, lon = earth.destination(asset.site.lat, asset.site.lon, brg, np.array([0.0, 20e3, 65e3, 80e3, 300e3]))

    def decide():
        out = [te.corridor(x, accel, [la], [lo], [asset.radius]) for la, lo in zip(lat, lon)]
        return np.stack([o[0] for o in out], 1), np.stack([o[1] for o in out], 1)

    hit, burn = decide()

    def one_by_one(x_, a_, b_, horizon=te._HORIZON):
        return np.where(np.isfinite(b_)[..., None], te._impacts_numerical(x_, a_, np.nan_to_num(b_), horizon), np.nan)

    monkeypatch.setattr(te, "impacts", one_by_one)
    hit0, burn0 = decide()
    assert hit[:, :2].sum() > 150 and not hit[:, 2:].any()  # near the track yes, 65 km off no
    np.testing.assert_array_equal(hit, hit0)
    np.testing.assert_allclose(burn, burn0, atol=1.0)


def test_corridor_distance_against_dense_sampling():
    """Distance to the polyline and where along it, against the polyline sampled at 2,001
    points a segment (slerp between the vertices' directions, ~70 m apart), for assets beside
    the segments' middles and beside vertices; nan vertices drop their segments."""
    rs = np.random.default_rng(5)
    M, K = 6, 7
    base_lat, base_lon = np.linspace(0.3, 0.4, K), np.linspace(0.5, 0.65, K)  # ~100 km segments
    lat = base_lat + rs.normal(0.0, 0.002, (M, K))  # rows ~13 km apart
    lon = base_lon + rs.normal(0.0, 0.002, (M, K))
    pts = earth.geodetic_to_ecef(lat, lon, np.zeros_like(lat))
    pts[1, 3] = np.nan
    pts[2, :] = np.nan
    pts[3, 1:] = np.nan
    f = np.array([0.5, 1.3, 2.0, 2.7, 4.5, 5.0, 5.5, 7.0])  # along the base, in vertices
    brg = earth.initial_bearing(base_lat[:-1], base_lon[:-1], base_lat[1:], base_lon[1:])
    i = np.minimum(f.astype(int), K - 2)
    a_lat, a_lon = earth.destination(np.interp(f, np.arange(K), base_lat), np.interp(f, np.arange(K), base_lon),
                                     brg[i] + np.pi / 2, rs.uniform(-40e3, 40e3, f.size))
    A = f.size
    d, where = te.corridor_distance(pts, a_lat, a_lon)
    U = earth.unit_vector(lat, lon)
    P = earth.unit_vector(a_lat, a_lon)
    fin = np.isfinite(pts).all(axis=-1)
    s = np.linspace(0.0, 1.0, 2001)
    inside = 0
    for m in range(M):
        best, at = np.full(A, np.inf), np.zeros(A)
        for k in range(K):
            if fin[m, k]:  # the vertex alone
                dk = earth.R_EARTH_MEAN * np.arccos(np.clip(P @ U[m, k], -1, 1))
                at, best = np.where(dk < best, k, at), np.minimum(dk, best)
            if k + 1 < K and fin[m, k] and fin[m, k + 1]:
                om = np.arccos(np.clip(U[m, k] @ U[m, k + 1], -1, 1))
                q = (np.sin((1 - s) * om)[:, None] * U[m, k] + np.sin(s * om)[:, None] * U[m, k + 1]) / np.sin(om)
                dd = earth.R_EARTH_MEAN * np.arccos(np.clip(q @ P.T, -1, 1))  # (S, A)
                j = np.argmin(dd, axis=0)
                dk = dd[j, np.arange(A)]
                at, best = np.where(dk < best, k + s[j], at), np.minimum(dk, best)
        ok = np.isfinite(best)
        inside += np.sum(ok & (np.abs(at - np.round(at)) > 0.05))
        np.testing.assert_allclose(d[m], best, atol=1.0)
        np.testing.assert_allclose(where[m][ok], at[ok], atol=1e-3)
    assert np.isinf(d[2]).all()
    assert inside > 20  # most nearest points lie inside segments, not at vertices


def test_ncx2_cdf_shortcut_is_scipys_to_the_bit():
    from scipy.stats import ncx2

    from shieldlab.c2.threat_eval import _ncx2_cdf_2dof

    rng = np.random.default_rng(0)
    x = 10.0 ** rng.uniform(-6, 4, 20000)
    nc = np.where(rng.random(20000) < 0.1, 0.0, 10.0 ** rng.uniform(-6, 5, 20000))
    assert np.array_equal(_ncx2_cdf_2dof(x, nc), ncx2.cdf(x, 2, nc))


def _random_tracks(rng, M, lat=(-1.2, 1.2), lon=(-np.pi, np.pi)):
    """Track-like rows: states 50-1,500 km up at 0.5-7 km/s, covariances from 10 m / 1 m/s to
    5 km / 100 m/s, a second state up to 12 s earlier, some missing.  (Far larger, strongly
    correlated covariances make the ground error's 2x2 determinant lose digits to
    cancellation, and the two summation orders then part in the 4th digit.)"""
    lat, lon = rng.uniform(*lat, M), rng.uniform(*lon, M)
    r = earth.geodetic_to_ecef(lat, lon, rng.uniform(50e3, 1500e3, M))
    v = rng.normal(size=(M, 3))
    v *= (rng.uniform(500.0, 7000.0, M) / np.linalg.norm(v, axis=1))[:, None]
    x = np.concatenate([r, v], axis=1)
    dt = rng.uniform(-1.0, 12.0, M)  # some not after the other
    then = x - dt[:, None] * np.concatenate([v, rng.normal(0.0, 30.0, (M, 3))], axis=1)
    then[rng.random(M) < 0.2] = np.nan  # young tracks

    def cov():  # position and velocity errors each in a random orientation, correlated 0.5
        Q = np.zeros((M, 6, 6))
        Q[:, :3, :3] = Q[:, 3:, 3:] = np.linalg.qr(rng.normal(size=(M, 3, 3)))[0]
        s = np.concatenate([10 ** rng.uniform(1, 3.7, (M, 3)), 10 ** rng.uniform(0, 2, (M, 3))], axis=1)
        C = np.eye(6) + 0.5 * (np.eye(6, k=3) + np.eye(6, k=-3))
        return Q @ (s[:, :, None] * C * s[:, None, :]) @ np.swapaxes(Q, 1, 2)

    return x, cov(), then, cov(), dt


def test_compiled_thrust_test_equals_its_numpy_reference():
    rng = np.random.default_rng(7)
    args = _random_tracks(rng, 2000)
    b1, a1 = te.thrusting(*args)
    b0, a0 = te._thrusting_numpy(*args)
    assert 0.1 < b1.mean() < 0.9  # both kinds of row are exercised
    assert np.array_equal(b1, b0)
    np.testing.assert_allclose(a1, a0, rtol=1e-12, atol=1e-12)


def test_compiled_impact_probability_equals_its_numpy_reference():
    rng = np.random.default_rng(8)
    # tracks over the region their impacts and the assets lie in
    x, P, _, _, _ = _random_tracks(rng, 2000, lat=(0.4, 1.1), lon=(-0.1, 0.9))
    lat, lon = rng.uniform(0.5, 1.0, 2000), rng.uniform(0.0, 0.8, 2000)
    impact = earth.geodetic_to_ecef(lat, lon, 0.0)
    enu = np.stack([rng.uniform(-3e3, 3e3, 2000), rng.uniform(-3e3, 3e3, 2000), -rng.uniform(300.0, 4e3, 2000)], 1)
    vel = np.einsum("mji,mj->mi", earth.enu_matrix(lat, lon), enu)  # descending at the impact
    dt = rng.uniform(0.0, 900.0, 2000)
    impact[:50] = np.nan  # never lands
    dt[50:60] = np.inf
    assets = (np.array([0.7, 0.75]), np.array([0.4, 0.45]), np.array([25e3, 300e3]))
    p1, s1, d1 = te.impact_probability(P, x[:, :3], impact, vel, dt, *assets)
    p0, s0, d0 = te._impact_probability_numpy(P, x[:, :3], impact, vel, dt, *assets)
    assert (p0 > 0.01).sum() > 50 and (p0 < 0.99).sum() > 50
    np.testing.assert_allclose(s1, s0, rtol=1e-9)
    np.testing.assert_allclose(p1, p0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(d1, d0, rtol=1e-12)


def test_compiled_corridor_distance_equals_its_numpy_reference():
    rng = np.random.default_rng(9)
    M, K = 300, 12
    # wandering polylines over Europe, some vertices missing, some segments degenerate
    lat = np.radians(45.0) + np.cumsum(rng.normal(0.0, 0.02, (M, K)), axis=1)
    lon = np.radians(20.0) + np.cumsum(rng.normal(0.01, 0.02, (M, K)), axis=1)
    pts = earth.geodetic_to_ecef(lat, lon, 0.0)
    pts[rng.random((M, K)) < 0.1] = np.nan
    pts[:5, 3] = pts[:5, 2]  # a repeated vertex
    pts[5:8] = np.nan  # no vertex at all
    a_lat, a_lon = np.radians([44.0, 45.5, 47.0, 50.0]), np.radians([19.0, 21.0, 23.0, 10.0])
    d1, w1 = te.corridor_distance(pts, a_lat, a_lon)
    d0, w0 = te._corridor_distance_numpy(pts, a_lat, a_lon)
    assert np.isinf(d0[5:8]).all() and np.isfinite(d0[8:]).all()
    np.testing.assert_allclose(d1, d0, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(w1, w0, rtol=0, atol=1e-9)


def test_boost_test_is_the_thrust_test_of_the_observed_pair():
    rng = np.random.default_rng(10)
    C, N, K = 3, 4, 40
    x, P, _, _, _ = _random_tracks(rng, C * N * K)
    # update-major in memory, as the tracker stores them
    X, PP = np.moveaxis(x.reshape(K, C, N, 6), 0, 2), np.moveaxis(P.reshape(K, C, N, 6, 6), 0, 2)
    X = X + np.arange(K)[:, None] * np.r_[np.zeros(3), rng.normal(0.0, 20.0, 3)]  # speeds that change
    t = 2.0 * np.arange(K)
    hits = rng.random((C, N, K)) < 0.4  # detections at some updates only ...
    hits[0, 0, :10] = False  # ... and none yet for one target
    n_hits = np.cumsum(hits, axis=-1)
    last = te.last_detection(n_hits)
    cs, ns = (a.ravel() for a in np.meshgrid(np.arange(C), np.arange(N), indexing="ij"))
    for k in (0, 3, 17, K - 1):
        boost, accel, k_now = te.boost_test(t, last, X, PP, cs, ns, k)
        kn, kt = te.observed_pair(t, n_hits[cs, ns], k)
        np.testing.assert_array_equal(k_now, kn)
        a, b = np.maximum(kn, 0), np.maximum(kt, 0)
        then = np.where((kt >= 0)[:, None], X[cs, ns, b], np.nan)
        b0, a0 = te._thrusting_numpy(X[cs, ns, a], PP[cs, ns, a], then, PP[cs, ns, b], t[a] - t[b])
        np.testing.assert_array_equal(boost, b0 & (kn >= 0))
        np.testing.assert_allclose(accel, a0, rtol=1e-12, atol=1e-12)
        if k < 10:
            assert k_now[0] == -1 and not boost[0]  # not yet detected: no thrust to judge


def test_a_far_asset_has_exactly_zero_hit_probability_in_scipy_too():
    """The impact probability skips SciPy's CDF beyond FAR_SIGMAS: it must be 0 there anyway."""
    from scipy import special

    rng = np.random.default_rng(11)
    r_over_sigma = 10 ** rng.uniform(-3, 6.5, 200_000)
    gap = te.FAR_SIGMAS * (1.0 + rng.exponential(1.0, r_over_sigma.size))
    assert not special.chndtr(r_over_sigma**2, 2.0, (r_over_sigma + gap) ** 2).any()
    # ... while well inside the cut it is not
    assert special.chndtr(100.0**2, 2.0, (100.0 + 10.0) ** 2) > 0


def test_a_gliding_missile_defeats_the_threat_evaluation_not_the_intercept():
    """docs/iskander-kaliningrad.md: the Patriot beside Aegis Ashore meets none of the four
    Redzikowo shots under ``engage: threatening`` (the impact predicted ballistically from a
    gliding track lies off the 3 km asset until the dive, so the battery judges the threat too
    late), and most of them with every missile engaged: the same tracks, the same battery.
    Changing the doctrine alone moves P(intercept) from 0 to near 1."""
    import shieldlab
    from shieldlab.scenario import load

    sc = load("iskander-kaliningrad")
    redzikowo = ["iskander-redzikowo-west#1", "iskander-redzikowo-west#2", "iskander-redzikowo-east#1",
                 "iskander-redzikowo-east#2"]
    p = {}
    for engage in ("threatening", "all"):
        w = shieldlab.load_world(sc.model_copy(update={"doctrine": sc.doctrine.model_copy(update={"engage": engage})}))
        o = shieldlab.simulate(w, runs=12, seed=1).outcomes
        hit = np.isin(o["threat"], redzikowo)
        p[engage] = float((o["outcome"][hit] == "intercepted").mean())
        assert not (o["intercepted_by"][hit & (o["outcome"] == "intercepted")] == "redzikowo-sm3").any()
    assert p["threatening"] == 0.0
    assert p["all"] >= 0.8
