"""Interceptor kinematics and the engagement planner on constructed cases."""

import numpy as np
import pytest

from shieldlab.engage.interceptor import time_of_flight


def test_time_of_flight_closed_form():
    v, tb = 3000.0, 20.0  # burnout distance v tb / 2 = 30 km
    assert time_of_flight(30e3, v, tb) == pytest.approx(20.0)
    assert time_of_flight(7.5e3, v, tb) == pytest.approx(10.0)  # s = v t^2 / (2 tb)
    assert time_of_flight(330e3, v, tb) == pytest.approx(120.0)  # 20 s + 300 km / 3 km/s
    d = np.linspace(0, 1e6, 101)
    t = time_of_flight(d, v, tb)
    assert np.all(np.diff(t) > 0), "farther takes longer"
    # continuous at burnout, and the inverse of distance(t)
    tt = np.linspace(0.1, 300, 50)
    dist = np.where(tt <= tb, v * tt**2 / (2 * tb), v * tb / 2 + v * (tt - tb))
    np.testing.assert_allclose(time_of_flight(dist, v, tb), tt, rtol=1e-12)


def test_zero_speed_never_arrives():
    assert np.isinf(time_of_flight(1e3, 0.0, 10.0))


# ----------------------------------------------------------------- end-game geometry and kill probability
from types import SimpleNamespace  # noqa: E402

from shieldlab.engage.pk import kill_probability  # noqa: E402
from shieldlab.engage.solver import intercept_geometry  # noqa: E402


def test_closing_speed_and_crossing_angle():
    vt = np.array([[-3000.0, 0, 0], [3000.0, 0, 0], [0, 3000.0, 0]])
    vi = np.array([[2000.0, 0, 0], [4000.0, 0, 0], [4000.0, 0, 0]])
    closing, crossing = intercept_geometry(vt, vi)
    np.testing.assert_allclose(closing, [5000.0, 1000.0, 5000.0])  # head-on adds, tail chase subtracts
    np.testing.assert_allclose(crossing, [0.0, np.pi, np.pi / 2], atol=1e-12)


def test_kill_probability_inside_and_beyond_the_design_envelope():
    spec = SimpleNamespace(sspk=0.8, max_closing_speed_kms=6.0, max_crossing_angle_deg=60.0)
    r = np.radians
    assert kill_probability(spec, 5000.0, r(30.0)) == pytest.approx(0.8)
    assert kill_probability(spec, 6000.0, r(60.0)) == pytest.approx(0.8)  # continuous at the edge
    assert kill_probability(spec, 6600.0, r(30.0)) == pytest.approx(0.8 * np.exp(-0.5))  # one width (10 %)
    assert kill_probability(spec, 5000.0, r(80.0)) == pytest.approx(0.8 * np.exp(-2.0))  # two widths (20 deg)
    both = kill_probability(spec, np.array([6600.0]), np.array([r(70.0)]))
    np.testing.assert_allclose(both, 0.8 * np.exp(-0.5) * np.exp(-0.5))
    p = kill_probability(spec, np.linspace(0, 12e3, 50), r(10.0))
    assert np.all(np.diff(p) <= 0) and p[-1] < 1e-6  # never rises with speed
    free = SimpleNamespace(sspk=0.7, max_closing_speed_kms=None, max_crossing_angle_deg=None)
    assert kill_probability(free, 15e3, r(170.0)) == pytest.approx(0.7)  # no limits: sspk
    assert kill_probability(spec, np.nan, np.nan) == pytest.approx(0.8)  # unknown geometry: no penalty


# ----------------------------------------------------------------- doctrine and cue modes (small constructed world)
from test_chain import BASE, world  # noqa: E402

from shieldlab.engine.montecarlo import simulate  # noqa: E402
from shieldlab.errors import InputError  # noqa: E402

FCR = {"id": "test-fcr", "name": "Test fire-control radar", "origin": "test", "band": "X", "max_range_km": 1500,
       "ref_rcs_m2": 0.1, "az_fov_deg": 360, "el_min_deg": 0, "el_max_deg": 90, "scan_period_s": 2,
       "sigma_range_m": 10, "sigma_angle_mrad": 0.3, "source": "test"}


def own_world(fcr_range_km=1500.0, **edits):
    sensors = BASE["sensors"] + [{"name": "fcr", "type": "test-fcr", "site": "shooter", "system": "fcr-net"}]
    return world(catalog__sensors=BASE["catalog"]["sensors"] + [dict(FCR, max_range_km=fcr_range_km)],
                 sensors=sensors, **edits)


def _fire_times(r):
    ev = r.events
    return ev["t_s"][ev["kind"] == "fire"]


def test_engagement_records_carry_the_geometry():
    r = simulate(world(), runs=2, seed=1)
    ev = r.events
    m = np.isin(ev["kind"], ["fire", "intercept", "miss"])
    assert (ev["kind"] == "fire").sum() == np.isin(ev["kind"], ["intercept", "miss"]).sum() >= 4  # 2 threats x 2 runs
    assert np.all((ev["closing_speed_kms"][m] > 3.5) & (ev["closing_speed_kms"][m] < 15.0))
    assert np.all((ev["crossing_angle_deg"][m] >= 0) & (ev["crossing_angle_deg"][m] <= 180))
    np.testing.assert_allclose(ev["pk"][m], 1.0)  # sspk 1, no design limits
    assert np.all(np.isnan(ev["pk"][~m]))


def test_a_tight_crossing_angle_limit_lowers_pk_and_kills():
    r = simulate(world(catalog__interceptors__0__max_crossing_angle_deg=1.0, doctrine={"max_engagements": 1}),
                 runs=4, seed=1)
    ev = r.events
    m = ev["kind"] == "fire"
    assert np.all(ev["pk"][m] < 0.5)  # crossing angles here are tens of degrees
    assert np.mean(r.outcomes["outcome"] == "intercepted") < 0.7


def test_reserve_keeps_rounds_back():
    r = simulate(world(batteries__0__rounds=3, batteries__0__reserve=2), runs=3, seed=1)
    fired = r.outcomes["interceptors_fired"].reshape(3, 2).sum(axis=1)
    assert np.all(fired == 1)  # 3 rounds, 2 kept: one shot per run, one threat leaks
    d = simulate(world(batteries__0__rounds=3, doctrine={"reserve": 1}), runs=2, seed=1)
    assert np.all(d.outcomes["interceptors_fired"].reshape(2, 2).sum(axis=1) == 2)  # the doctrine default


def test_per_battery_look_time_and_salvo():
    r = simulate(world(catalog__interceptors__0__sspk=0.0, batteries__0__look_time_s=40.0), runs=2, seed=1)
    ev = r.events
    sel = (ev["run"] == 0) & (ev["threat"] == "m#1")
    fires, misses = ev["t_s"][sel & (ev["kind"] == "fire")], ev["t_s"][sel & (ev["kind"] == "miss")]
    assert fires.size == 2 and fires[1] >= misses[0] + 40.0 - 1e-9
    s = simulate(world(batteries__0__salvo=3, doctrine={"shoot_look_shoot": False}), runs=2, seed=1)
    assert np.all(s.outcomes["interceptors_fired"] == 3)


def test_cue_modes_change_outcomes_the_expected_way():
    # a fire-control radar at the shooter that sees the threat only late (short range)
    remote = simulate(own_world(300.0), runs=2, seed=1)
    own = simulate(own_world(300.0, batteries__0__cue="own", batteries__0__radar="fcr"), runs=2, seed=1)
    assert np.all(remote.outcomes["outcome"] == "intercepted")
    # own track starts later than the remote one: launches later, intercepts later (or never)
    assert _fire_times(own).min() > _fire_times(remote).min() + 10.0
    hit = own.outcomes["outcome"] == "intercepted"
    assert np.all(own.outcomes["intercept_time_s"][hit] > remote.outcomes["intercept_time_s"][hit])
    # an own radar that never sees the threat: launch-on-remote fires and misses, own never fires
    blind = dict(batteries__0__radar="fcr", doctrine={"max_engagements": 1})
    lor = simulate(own_world(1.0, batteries__0__cue="launch-on-remote", **blind), runs=2, seed=1)
    assert np.all(lor.outcomes["interceptors_fired"] == 1) and np.all(lor.outcomes["outcome"] == "leaked")
    ev = lor.events
    # (the threat flew on: no guidance, not "target gone")
    miss = ev["detail"][ev["kind"] == "miss"]
    assert miss.size and np.all(miss == "no guidance: its guidance track did not hold the threat by the handover")
    o = simulate(own_world(1.0, batteries__0__cue="own", **blind), runs=2, seed=1)
    assert np.all(o.outcomes["interceptors_fired"] == 0)
    # and with a good own radar, launch-on-remote is as good as engage-on-remote here
    good = simulate(own_world(1500.0, batteries__0__cue="launch-on-remote", batteries__0__radar="fcr"), runs=2, seed=1)
    assert np.all(good.outcomes["outcome"] == "intercepted")


@pytest.mark.parametrize("edits, field, words", [
    ({"batteries__0__radar": "nope"}, "batteries[0].radar", "not a sensor"),
    ({"batteries__0__cue": "own"}, "batteries[0].radar", "needs the battery's own radar"),
    ({"batteries__0__reserve": 10}, "batteries[0].reserve", "leaves none"),
    ({"doctrine": {"reserve": 12}}, "doctrine.reserve", "leaves none"),
])
def test_doctrine_errors_name_the_field(edits, field, words):
    with pytest.raises(InputError, match=words) as e:
        world(**edits)
    assert e.value.field == field


# ----------------------------------------------------------------- launch gate: track quality at the intercept point
from shieldlab import earth  # noqa: E402
from shieldlab.c2.firecontrol import intercept_point_sigma  # noqa: E402
from shieldlab.tracking import ekf  # noqa: E402


def test_intercept_point_sigma_against_the_filter_prediction():
    # a coasting body 300 km up; the reference carries P with the EKF's own prediction (q = 0:
    # RK4 state, substepped Phi with J2-free gravity gradient and the rotating-frame terms)
    rng = np.random.default_rng(4)
    x = np.array([[earth.WGS84_A + 300e3, 0.0, 0.0, 500.0, 3000.0, 1000.0]])
    L = rng.normal(size=(6, 6)) * np.array([100.0] * 3 + [5.0] * 3)[:, None]
    P = (L @ L.T)[None]
    assert intercept_point_sigma(P, x[:, :3], x[:, :3], np.zeros(1))[0] == pytest.approx(
        np.sqrt(np.linalg.eigvalsh(P[0, :3, :3])[-1]), rel=1e-12)  # dt = 0: the track's own position sigma
    for dt, tol in [(60.0, 1e-4), (200.0, 1e-3), (400.0, 5e-3)]:  # measured: 8e-6, 2e-4, 3e-3
        x1, P1 = ekf.predict(x, P, dt, 0.0)
        ref = np.sqrt(np.linalg.eigvalsh(P1[0, :3, :3])[-1])
        assert intercept_point_sigma(P, x[:, :3], x1[:, :3], np.array([dt]))[0] == pytest.approx(ref, rel=tol)
    # pure velocity error, radial: grows as sinh(sqrt2 w t)/(sqrt2 w), faster than sigma_v t
    Pv = np.diag([0.0, 0.0, 0.0, 10.0**2, 0.0, 0.0])[None]
    w = np.sqrt(earth.GM / x[0, 0] ** 3)
    s = intercept_point_sigma(Pv, x[:, :3], x[:, :3], np.array([300.0]))[0]
    assert s == pytest.approx(10.0 * np.sinh(np.sqrt(2) * w * 300.0) / (np.sqrt(2) * w), rel=1e-12)
    assert s > 10.0 * 300.0


def _first_fires(r):
    ev = r.events
    f = ev["kind"] == "fire"
    key = [(a, b) for a, b in zip(ev["run"][f], ev["threat"][f])]
    t, sig = ev["t_s"][f], ev["pip_sigma_m"][f]
    first = {}
    for kk, tt, ss in zip(key, t, sig):
        first.setdefault(kk, (tt, ss))
    first = [first[kk] for kk in sorted(first)]  # by (run, threat)
    return np.array([v[0] for v in first]), np.array([v[1] for v in first])


def _radar(sigma_angle_mrad, gate):
    return world(catalog__sensors__0__sigma_angle_mrad=sigma_angle_mrad, doctrine={"track_quality_sigma": gate})


def test_a_poor_track_launches_later_behind_the_gate():
    good = simulate(_radar(0.3, 3.0), runs=4, seed=1)
    poor = simulate(_radar(5.0, 3.0), runs=4, seed=1)
    poor_off = simulate(_radar(5.0, 0), runs=4, seed=1)
    tg, sg = _first_fires(good)
    tp, sp = _first_fires(poor)
    to, so = _first_fires(poor_off)
    assert tg.size == tp.size == to.size == 8
    divert = 5000.0  # test-kv
    assert np.all(3.0 * sg <= divert) and np.all(3.0 * sp <= divert)  # every commit passed the gate
    assert np.any(3.0 * so > divert)  # ungated, the poor track fires on a worse prediction
    assert np.all(tp > tg) and tp.mean() > tg.mean() + 25.0  # a poor track launches later than a good one
    assert np.all(tp >= to) and tp.mean() > to.mean() + 30.0  # and later than without the gate
    assert np.all(poor.outcomes["outcome"] == "intercepted")  # here late is still in time
    # a gate the kill vehicle can never meet: no launch at all (ungated, it fires and misses)
    never = dict(catalog__interceptors__0__divert_m=10.0)
    shut = simulate(world(doctrine={"track_quality_sigma": 10.0}, **never), runs=2, seed=1)
    assert np.all(shut.outcomes["interceptors_fired"] == 0)
    open_ = simulate(world(doctrine={"track_quality_sigma": 0}, **never), runs=2, seed=1)
    assert np.all(open_.outcomes["interceptors_fired"] > 0)


def test_the_gate_off_is_the_ungated_planner():
    ref = simulate(_radar(5.0, 0), runs=3, seed=2)
    for gate in (None, 1e-9):  # null, and a gate too loose to ever bind
        r = simulate(_radar(5.0, gate), runs=3, seed=2)
        assert r.events.keys() == ref.events.keys()
        for k in ref.events:
            np.testing.assert_array_equal(r.events[k], ref.events[k], err_msg=k)
    f = ref.events["kind"] == "fire"
    assert np.all(np.isfinite(ref.events["pip_sigma_m"][f]) & (ref.events["pip_sigma_m"][f] > 0))  # kept when off
    assert np.all(np.isnan(ref.events["pip_sigma_m"][~np.isin(ref.events["kind"], ["fire", "intercept", "miss"])]))


def test_track_quality_sigma_must_not_be_negative():
    with pytest.raises(InputError) as e:
        world(doctrine={"track_quality_sigma": -1.0})
    assert e.value.field == "doctrine.track_quality_sigma"


def test_catalogue_envelopes_from_test_closing_speeds():
    # sm-3-block-ia: 9.8 km/s (USA-193, 2008), the edge of what its tests showed; the GBI, built
    # for ICBMs met head-on, none: its tests' 7.2-8.0 km/s are floors -- docs/interceptors.md
    from shieldlab import catalog

    ia, gbi = catalog.get_interceptor("sm-3-block-ia"), catalog.get_interceptor("gbi")
    assert (ia.max_closing_speed_kms, gbi.max_closing_speed_kms) == (9.8, None)
    assert kill_probability(ia, 9000.0, 0.5) == pytest.approx(ia.sspk)  # inside: sspk
    assert kill_probability(ia, 10780.0, 0.5) == pytest.approx(ia.sspk * np.exp(-0.5))  # one width beyond
    # a Minuteman III from North Korea's coast met from Fort Greely closes at ~10.9 km/s
    assert kill_probability(gbi, 10900.0, 0.5) == pytest.approx(gbi.sspk)
    limited = {k for k, i in catalog.interceptors().items() if i.max_closing_speed_kms is not None}
    assert limited == {"sm-3-block-ia"}
