"""Early-warning satellites (shieldlab.sensors.infrared): what they see, when they report a
launch, and how the report cues the radars of the kill chain."""

import numpy as np
import pytest
import yaml
from phase1_scene import phase1, phase1_flights

from shieldlab import catalog, earth
from shieldlab.engine.chain import fly_threats, preflight, run_chunk
from shieldlab.errors import InputError
from shieldlab.flyout.interp import state_at
from shieldlab.scenario import compile_world, locate
from shieldlab.scenario.loader import parse
from shieldlab.sensors.infrared import GRAZING_CLEARANCE_M, Satellite, expected_report_time, observe_launches

SBIRS = catalog.get_satellite("sbirs-geo")


@pytest.fixture(scope="module")
def flights():
    return phase1_flights()


def test_frames_candidates_and_the_launch_report(flights):
    """Over the Indian Ocean (57 E) the satellite sees the Iranian launches: detections only
    while the engines burn above the plume floor, at Pd per frame; the report comes at the
    init_frames-th detection plus the latency, with the stated errors (1,000 runs of six
    launches: each sigma to ~1 %, tested to 5 %; the mean launch-time error within 4 of its
    standard errors)."""
    w, truth = flights
    sat = Satellite("sbirs", SBIRS, np.radians(57.0), "nato-bmd")
    runs = 1000
    big = type(truth)(**{k: (np.broadcast_to(v, (runs,) + v.shape).copy() if k != "t" else v)
                         for k, v in truth.__dict__.items()})
    r = observe_launches(sat, big, np.random.default_rng(2))
    t = r.t
    pos, _ = state_at(big, t, velocity=False)
    _, _, alt = earth.ecef_to_geodetic(pos)
    burning = (t >= big.launch_time[..., None]) & (t < big.burnout_time[..., None])
    assert not (r.detected & ~burning).any() and not (r.detected & (alt < 3e3)).any()
    cand = burning & (alt >= 3e3)
    assert r.detected[cand].mean() == pytest.approx(SBIRS.pd, abs=4 * np.sqrt(0.05 * 0.95 / cand.sum()))
    # the report: third detection plus 30 s
    k3 = np.argmax(np.cumsum(r.detected, axis=-1) >= 3, axis=-1)
    np.testing.assert_allclose(r.report_time, t[k3] + 30.0)
    # its errors: launch time, east-west and north-south place, heading, each at its sigma
    dt = r.launch_time - big.launch_time
    assert dt.std() == pytest.approx(3.0, rel=0.05) and abs(dt.mean()) < 4 * 3.0 / np.sqrt(dt.size)
    lat0 = np.radians([th.launch.lat_deg for th in w.threats])
    dn = (r.launch_lat - lat0) * earth.R_EARTH_MEAN / 1e3
    assert dn.std() == pytest.approx(2.0, rel=0.05)
    # line-of-sight reports: unit vectors within a few sigma of the truth
    d = pos - sat.position
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    ang = np.arccos(np.clip(np.sum(r.los * d, axis=-1), -1, 1))[r.detected]
    # the angle between two unit vectors perturbed by N(0, s) on two axes is Rayleigh(s)
    assert ang.mean() == pytest.approx(0.03e-3 * np.sqrt(np.pi / 2), rel=0.05)


def test_a_satellite_over_the_americas_sees_nothing_in_iran(flights):
    _, truth = flights
    r = observe_launches(Satellite("far", SBIRS, np.radians(-100.0)), truth, np.random.default_rng(1))
    assert not r.detected.any() and np.isinf(r.report_time).all() and np.isnan(r.heading).all()


def test_the_disc_edge_is_the_grazing_clearance():
    """A plume at 30 km on the equator is seen from a geostationary satellite while the line
    of sight clears 20 km above the Earth: the largest longitude offset is the closed form
    arccos((a + 20 km) / r_sat) + arccos((a + 20 km) / (a + 30 km)) on the equator (a circle)."""
    a = earth.WGS84_A
    sat = Satellite("s", SBIRS, 0.0)
    r_sat = a + 1e3 * SBIRS.orbit_alt_km
    rc = a + GRAZING_CLEARANCE_M
    edge = np.arccos(rc / r_sat) + np.arccos(rc / (a + 30e3))
    for off, seen in ((edge - 1e-4, True), (edge + 1e-4, False)):
        p = (a + 30e3) * np.array([np.cos(off), np.sin(off), 0.0])
        assert bool(earth.line_of_sight(sat.position, p, GRAZING_CLEARANCE_M)) is seen


def test_expected_report_time_is_the_runs_typical_report(flights):
    """The deterministic expectation reach and the footprint use lies within the runs' spread
    (frames are in phase with the launch there, with the epoch in the runs: one frame apart)."""
    w, truth = flights
    sat = Satellite("sbirs", SBIRS, np.radians(57.0))
    n = 0
    t = truth.launch_time[n] + np.arange(int(truth.impact_time[n] - truth.launch_time[n]))
    p, _ = state_at(truth, t, velocity=False)
    exp = expected_report_time(sat, p[n], truth.burnout_time[n] - truth.launch_time[n], 1.0)
    runs = 2000
    big = type(truth)(**{k: (np.broadcast_to(v, (runs,) + v.shape).copy() if k != "t" else v)
                         for k, v in truth.__dict__.items()})
    rep = observe_launches(sat, big, np.random.default_rng(3)).report_time[:, n] - truth.launch_time[n]
    assert np.percentile(rep, 10) - SBIRS.frame_s <= exp <= np.percentile(rep, 90) + SBIRS.frame_s


def test_the_report_cues_the_radars_and_is_logged():
    """epaa-phase-1 with SBIRS over the Indian Ocean: the same runs (the satellite's stream
    comes after the others), but the TPY-2 looks every scan from the launch report instead
    of waiting for its 5 s search frame, so no first detection comes later and some come
    earlier; the event log holds one launch report per threat and run."""
    plain, cued = phase1(), phase1([{"name": "sbirs-1", "type": "sbirs-geo", "lon_deg": 57.0,
                                       "system": "nato-bmd"}])
    runs = 24
    a = run_chunk(plain, preflight(plain, runs), 0, runs, np.random.SeedSequence(4))
    b = run_chunk(cued, preflight(cued, runs), 0, runs, np.random.SeedSequence(4))
    np.testing.assert_array_equal(a.truth.impact_time, b.truth.impact_time)
    (rep,) = b.launch_reports
    assert np.isfinite(rep.report_time).all()
    fa = np.where(a.detections[0].detected, a.detections[0].t, np.inf).min(axis=-1)
    fb = np.where(b.detections[0].detected, b.detections[0].t, np.inf).min(axis=-1)
    assert np.all(fb <= fa) and np.any(fb < fa)
    from shieldlab.io.results import event_columns
    ev = event_columns(cued, b)
    kinds = np.asarray(ev["kind"])
    assert (kinds == "launch-report").sum() == runs * len(cued.threats)
    assert np.all(np.asarray(ev["t_s"])[kinds == "launch-report"] <= b.truth.t[-1])


def test_reach_names_the_cue_from_the_satellite(capsys):
    from shieldlab.analysis.reach import sensor_cue
    w = phase1([{"name": "sbirs-1", "type": "sbirs-geo", "lon_deg": 57.0, "system": "nato-bmd"}])
    truth = fly_threats(w).truth
    n = 1
    t = truth.launch_time[n] + np.arange(int(truth.impact_time[n] - truth.launch_time[n]))
    p, v = state_at(truth, t)
    burn = truth.burnout_time[n] - truth.launch_time[n]
    with_sat = sensor_cue(w, w.threats[n].missile, p[n], v[n], burn, 1.0)
    without = sensor_cue(phase1(), w.threats[n].missile, p[n], v[n], burn, 1.0)
    assert with_sat.time_s < without.time_s  # cued: no wait for the 5 s search frame


@pytest.mark.parametrize("entry, field", [
    ({"name": "x", "type": "no-such", "lon_deg": 57.0}, "early_warning[0].type"),
    ({"name": "x", "type": "dsp", "lon_deg": 200.0}, "early_warning[0].lon_deg"),
    ({"name": "x", "type": "dsp", "lon_deg": "57"}, "early_warning[0].lon_deg"),
    ({"name": "x", "type": "dsp"}, "early_warning[0].lon_deg"),
    ({"name": "x", "type": "dsp", "lon_deg": 57.0, "alt_km": 3}, "early_warning[0].alt_km"),
])
def test_bad_early_warning_entries_name_their_field(entry, field):
    with pytest.raises(InputError) as e:
        phase1([entry])
    assert field in str(e.value)


def test_a_satellite_must_cue_a_system_with_radars():
    """Under an architecture of several nodes a satellite's system must have radars (a typo
    or the default 'defence' would silently cue nothing); integrated cues every radar."""
    data = yaml.safe_load(locate("nato-russia-2011")[0].read_text())
    data["early_warning"] = [{"name": "x", "type": "dsp", "lon_deg": 57.0}]  # system: the default, defence
    with pytest.raises(InputError) as e:
        compile_world(parse(data, "nato-russia-2011"))
    assert "early_warning[0].system" in str(e.value)
    data["architecture"] = "integrated"
    assert compile_world(parse(data, "nato-russia-2011")).early_warning[0].system == "defence"


def test_duplicate_satellite_names_are_refused():
    with pytest.raises(InputError) as e:
        phase1([{"name": "x", "type": "dsp", "lon_deg": 57.0}, {"name": "x", "type": "sbirs-geo", "lon_deg": 60.0}])
    assert "early_warning[1].name" in str(e.value)


def test_a_launch_report_alerts_the_batteries_of_its_system(monkeypatch):
    """A battery alerted by its system's launch report has prepared since the alert: it may
    launch sooner after its decision than its reaction time, never sooner than the alert
    plus that time; without the alert every launch waits the whole reaction time."""
    from shieldlab.engine import chain

    w = phase1([{"name": "sbirs-1", "type": "sbirs-geo", "lon_deg": 57.0, "system": "nato-bmd"}])
    flights = preflight(w, 16)
    seen = {}
    real = chain.battery_alerts

    def keep(world, reports):
        seen.update(real(world, reports))
        return seen

    monkeypatch.setattr(chain, "battery_alerts", keep)
    e = run_chunk(w, flights, 0, 16, np.random.SeedSequence(1)).engagements
    assert set(seen) == {b.name for b in w.batteries}
    react = np.array([w.batteries[b].reaction_time for b in e.battery])
    alert = np.array([seen[w.batteries[b].name][c, n] for b, c, n in zip(e.battery, e.run, e.threat)])
    assert (e.launch_time >= alert + react - 1e-9).all()
    assert (e.launch_time < e.decision_time + react - 1.0).any()  # the alert saved time
    monkeypatch.setattr(chain, "battery_alerts", lambda world, reports: {})
    e0 = run_chunk(w, flights, 0, 16, np.random.SeedSequence(1)).engagements
    react0 = np.array([w.batteries[b].reaction_time for b in e0.battery])
    assert (e0.launch_time >= e0.decision_time + react0 - 1e-9).all()
    assert np.median(e.launch_time) < np.median(e0.launch_time)


@pytest.mark.parametrize("entry, words", [
    ({"name": "kurecik-tpy2", "type": "dsp", "lon_deg": 57.0}, "also the name of sensors[0]"),
    ({"name": "nato->russia", "type": "dsp", "lon_deg": 57.0}, "names a link in the event log"),
])
def test_a_satellite_is_named_apart_from_the_radars_and_the_links(entry, words):
    """Radars, satellites and links ("from->to") are the event log's actors: one name, one actor."""
    with pytest.raises(InputError) as e:
        phase1([dict(entry, system="nato-bmd")])
    assert e.value.field == "early_warning[0].name" and words in str(e.value)


def test_validate_notes_a_satellite_that_sees_no_launch(tmp_path, capsys):
    """A satellite over the Pacific cannot report an Iranian launch: validate says so; the one
    over the Indian Ocean gets no such note."""
    from shieldlab.cli import main

    data = yaml.safe_load(locate("epaa-phase-1")[0].read_text())
    data["early_warning"] = [{"name": "pacific", "type": "sbirs-geo", "lon_deg": -120.0, "system": "nato-bmd"},
                             {"name": "indian", "type": "sbirs-geo", "lon_deg": 57.0, "system": "nato-bmd"}]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "note: early_warning[0] (pacific) sees none of the threats' launches" in out
    assert "(indian)" not in out


def test_a_doctrine_may_take_the_report_as_a_cue_only():
    """doctrine.launch_report_alert: false: the report still cues the radars (the same
    detections as with the alert) but no battery prepares before its decision: every launch
    waits the whole reaction time; reach readies the battery on the track alone and the
    footprint's intercepts come no sooner than with the alert."""
    from shieldlab.analysis import footprint as fpm
    from shieldlab.engine import chain

    sat = [{"name": "sbirs-1", "type": "sbirs-geo", "lon_deg": 57.0, "system": "nato-bmd"}]
    data = yaml.safe_load(locate("epaa-phase-1")[0].read_text())
    data["early_warning"] = sat
    alerted = compile_world(parse(data, "x"))
    data.setdefault("doctrine", {})["launch_report_alert"] = False
    cue_only = compile_world(parse(data, "x"))
    flights = preflight(alerted, 8)
    a = run_chunk(alerted, flights, 0, 8, np.random.SeedSequence(1))
    b = run_chunk(cue_only, flights, 0, 8, np.random.SeedSequence(1))
    for da, db in zip(a.detections, b.detections):  # the same cue, the same looks
        np.testing.assert_array_equal(da.detected, db.detected)
    assert chain.battery_alerts(cue_only, b.warnings) == {} and chain.battery_alerts(alerted, a.warnings)
    e = b.engagements
    react = np.array([cue_only.batteries[i].reaction_time for i in e.battery])
    assert len(e.run) and (e.launch_time >= e.decision_time + react - 1e-9).all()
    ea = a.engagements
    react_a = np.array([alerted.batteries[i].reaction_time for i in ea.battery])
    assert (ea.launch_time < ea.decision_time + react_a - 1.0).any()
    from shieldlab.analysis.reach import sensor_cue

    truth = fly_threats(alerted).truth
    t = truth.launch_time[0] + np.arange(int(truth.impact_time[0] - truth.launch_time[0]))
    p, v = state_at(truth, t)
    burn = truth.burnout_time[0] - truth.launch_time[0]
    ca, cb = (sensor_cue(w, alerted.threats[0].missile, p[0], v[0], burn, 1.0) for w in (alerted, cue_only))
    assert np.isfinite(ca.alert_s) and np.isinf(cb.alert_s) and ca.time_s == cb.time_s
    assert cb.ready(30.0) == ca.time_s + 30.0 and ca.ready(30.0) <= cb.ready(30.0)
    grid = fpm.make_grid(36.0, 46.0, 20.0, 32.0, 1.0)
    fa = fpm.compute(alerted, grid=grid, site_names=["tabriz/sejjil-2"]).sites[0]
    fb = fpm.compute(cue_only, grid=grid, site_names=["tabriz/sejjil-2"]).sites[0]
    both = fa.defended & fb.defended
    assert both.any() and not (fb.defended & ~fa.defended).any()
    assert (fb.first_intercept_s[both] >= fa.first_intercept_s[both]).all()
    assert (fb.first_intercept_s[both] > fa.first_intercept_s[both]).any()
