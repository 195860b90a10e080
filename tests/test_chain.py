"""The kill chain end to end on small constructed scenarios (catalogue entries inline,
so these tests pin the engine, not the built-in data)."""

import copy

import numpy as np
import pytest
import yaml

import shieldlab
from shieldlab.engine.montecarlo import simulate
from shieldlab.scenario import compile_world
from shieldlab.scenario.loader import parse

BASE = {
    "name": "constructed",
    "epoch": "2020-01-01T00:00:00Z",
    "catalog": {
        "missiles": [{
            "id": "test-mrbm", "name": "Test MRBM", "origin": "test", "category": "MRBM",
            "stages": [{"propellant_kg": 15000, "dry_mass_kg": 2000, "isp_vac_s": 265, "isp_sl_s": 240,
                        "burn_time_s": 100, "diameter_m": 1.3, "source": "test vehicle"}],
            "payload_kg": 750, "diameter_m": 1.3,
            "drag": {"mach": [0, 0.85, 1, 1.2, 2, 4.5], "cd": [0.2, 0.2, 0.27, 0.27, 0.2, 0.2], "source": "test"},
            "reentry_vehicle": {"mass_kg": 750, "diameter_m": 0.8, "source": "test",
                                "drag": {"mach": [0, 1, 2, 5], "cd": [0.1, 0.2, 0.15, 0.1], "source": "test"}},
            "thrust_termination": True, "vertical_rise_s": 8, "rcs_m2": 0.1,
            "max_range_km": 2000, "range_source": "test", "source": "test vehicle"}],
        "interceptors": [{
            "id": "test-kv", "name": "Test interceptor", "origin": "test", "burnout_speed_kms": 3.5,
            "burn_time_s": 40, "min_intercept_alt_km": 60, "max_intercept_alt_km": 600, "min_range_km": 0,
            "max_range_km": 900, "sspk": 1.0, "divert_m": 5000, "reaction_time_s": 10, "source": "test"}],
        "sensors": [{
            "id": "test-radar", "name": "Test radar", "origin": "test", "band": "X", "max_range_km": 3000,
            "ref_rcs_m2": 0.1, "az_fov_deg": 360, "el_min_deg": 0, "el_max_deg": 90, "scan_period_s": 2,
            "sigma_range_m": 10, "sigma_angle_mrad": 0.3, "source": "test"}],
    },
    "sites": {"pad": {"lat": 35.0, "lon": 45.0}, "radar": {"lat": 36.0, "lon": 40.0},
              "shooter": {"lat": 36.5, "lon": 36.0}},
    "sensors": [{"name": "r", "type": "test-radar", "site": "radar"}],
    "batteries": [{"name": "b", "interceptor": "test-kv", "site": "shooter", "rounds": 10}],
    "assets": [{"name": "city", "site": {"lat": 37.0, "lon": 30.0}, "radius_km": 20}],
    "threats": [{"name": "m", "missile": "test-mrbm", "launch": "pad", "aim": "city", "count": 2, "spacing_s": 30}],
}


def world(**edits):
    d = copy.deepcopy(BASE)
    for path, value in edits.items():
        node = d
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[int(k)] if k.isdigit() else node[k]
        last = keys[-1]
        node[int(last) if last.isdigit() else last] = value
    return compile_world(parse(yaml.safe_load(yaml.safe_dump(d)), "test"), "test")


def test_perfect_interceptor_kills_everything():
    r = simulate(world(), runs=8, seed=3)
    o = r.outcomes
    assert np.all(o["outcome"] == "intercepted")
    assert np.all(o["intercepted_by"] == "b")
    assert r.summary["mean_leakers"] == 0.0 and r.summary["mean_interceptors_fired"] == 2.0
    # intercepts happen inside the envelope
    assert np.all((o["intercept_alt_km"] >= 60) & (o["intercept_alt_km"] <= 600))
    # a track precedes every intercept, a detection every track
    assert np.all(o["first_detection_s"] <= o["track_confirmed_s"])
    assert np.all(o["track_confirmed_s"] < o["intercept_time_s"])


def test_no_rounds_no_shots_and_threats_hit_the_asset():
    r = simulate(world(batteries__0__rounds=0), runs=4, seed=1)
    o = r.outcomes
    assert np.all(o["outcome"] == "leaked") and np.all(o["interceptors_fired"] == 0)
    assert np.all(o["asset_hit"] == "city")  # the steering put them on the aim point
    assert r.summary["mean_assets_hit"] == 2.0


def test_magazine_limits_shots():
    r = simulate(world(batteries__0__rounds=1), runs=4, seed=1)
    fired = r.outcomes["interceptors_fired"].reshape(4, 2).sum(axis=1)
    assert np.all(fired == 1)
    assert r.summary["mean_leakers"] == 1.0


def test_shoot_look_shoot_fires_again_after_a_miss():
    # sspk 0: every shot misses, so each threat draws max_engagements salvos
    d = world(catalog__interceptors__0__sspk=0.0)
    r = simulate(d, runs=4, seed=1)
    assert np.all(r.outcomes["engagements"] == 2) and np.all(r.outcomes["outcome"] == "leaked")
    ev = r.events
    fires = ev["t_s"][(ev["kind"] == "fire") & (ev["run"] == 0) & (ev["threat"] == "m#1")]
    misses = ev["t_s"][(ev["kind"] == "miss") & (ev["run"] == 0) & (ev["threat"] == "m#1")]
    assert fires.size == 2 and misses.size == 2
    assert fires[1] >= misses[0] + d.batteries[0].look_time - 1e-9, "second shot waits for the look"
    # without shoot-look-shoot: one salvo of two
    d2 = world(catalog__interceptors__0__sspk=0.0, doctrine={"shoot_look_shoot": False, "salvo": 2})
    r2 = simulate(d2, runs=2, seed=1)
    assert np.all(r2.outcomes["engagements"] == 1) and np.all(r2.outcomes["interceptors_fired"] == 2)


def test_out_of_reach_battery_never_fires():
    r = simulate(world(sites__shooter={"lat": 60.0, "lon": 0.0}), runs=2, seed=1)
    assert np.all(r.outcomes["interceptors_fired"] == 0)


def test_zero_burnout_speed_engages_nothing():
    # the schema refuses a zero burnout speed, so go as low as it allows
    r = simulate(world(batteries__0__burnout_speed_kms=0.01), runs=2, seed=1)
    assert np.all(r.outcomes["interceptors_fired"] == 0)


def test_sensor_out_of_range_means_no_track_no_shot():
    r = simulate(world(catalog__sensors__0__max_range_km=50), runs=2, seed=1)
    o = r.outcomes
    assert np.all(np.isnan(o["first_detection_s"])) and np.all(o["interceptors_fired"] == 0)


def test_kill_probability_matches_sspk_statistically():
    p = 0.6
    d = world(catalog__interceptors__0__sspk=p, doctrine={"max_engagements": 1})
    r = simulate(d, runs=200, seed=7)
    rate = np.mean(r.outcomes["outcome"] == "intercepted")
    n = r.outcomes["outcome"].size
    assert abs(rate - p) < 4 * np.sqrt(p * (1 - p) / n)


def test_determinism_and_seed_sensitivity():
    w = world(catalog__interceptors__0__sspk=0.5)
    a = simulate(w, runs=70, seed=11)
    b = simulate(w, runs=70, seed=11)
    c = simulate(w, runs=70, seed=12)
    for k in a.outcomes:
        np.testing.assert_array_equal(a.outcomes[k], b.outcomes[k])
    assert not np.array_equal(a.outcomes["outcome"], c.outcomes["outcome"])


@pytest.mark.parametrize("runs", [(50, 100), (70, 130)])
def test_runs_do_not_depend_on_total_count(runs):
    """Run k draws every random number (radar looks and noise, kill draws, flight
    dispersions) from its own SeedSequence child, so runs 0..49 of a 50-run sweep equal
    those of a 100-run sweep to the bit, inside a partial chunk too (and across a chunk
    boundary for 70 / 130)."""
    w = world(catalog__interceptors__0__sspk=0.5,
              dispersion={"thrust_pct": 0.2, "drag_pct": 3, "azimuth_mrad": 0.5})
    a = simulate(w, runs=runs[0], seed=5)
    b = simulate(w, runs=runs[1], seed=5)
    n = runs[0] * len(w.threats)
    for col, x in a.outcomes.items():
        y = b.outcomes[col][:n]
        if x.dtype == object:
            np.testing.assert_array_equal(x, y, err_msg=col)
        else:
            np.testing.assert_array_equal(np.nan_to_num(x, nan=-1), np.nan_to_num(y, nan=-1), err_msg=col)
    m = b.events["run"] < runs[0]
    for col, x in a.events.items():
        np.testing.assert_array_equal(x.astype(str), b.events[col][m].astype(str), err_msg=col)


def test_every_unengaged_threat_says_why():
    """Fire control logs a no-fire row per battery, with a reason code, for every threat it
    never engaged: out of reach, not threatening, no track, empty magazine."""
    from shieldlab.c2.records import REASONS

    far = simulate(world(sites__shooter={"lat": 20.0, "lon": 10.0}), runs=3, seed=1).events
    assert set(far["reason"][far["kind"] == "no-fire"]) == {"out-of-envelope"}
    assert ((far["kind"] == "no-fire") & (far["actor"] == "b")).sum() == 3 * 2
    assert not (far["kind"] == "fire").any()
    miss_asset = simulate(world(threats__0__aim={"lat": 37.0, "lon": 30.0},
                                assets__0__site={"lat": 40.0, "lon": 25.0}), runs=2, seed=1).events
    assert set(miss_asset["reason"][miss_asset["kind"] == "no-fire"]) == {"not-threatening"}
    blind = simulate(world(catalog__sensors__0__max_range_km=1), runs=2, seed=1).events
    assert set(blind["reason"][blind["kind"] == "no-fire"]) == {"no-track"}
    empty = simulate(world(batteries__0__rounds=1, catalog__interceptors__0__sspk=1.0), runs=2, seed=1).events
    nf = empty["kind"] == "no-fire"
    assert set(empty["reason"][nf]) == {"magazine-empty"} and nf.sum() == 2  # one threat per run left
    assert set(far["reason"]) <= set(REASONS) | {""}
    # the reason column is empty on every other row
    assert np.all(far["reason"][far["kind"] != "no-fire"] == "")


def test_unreachable_aim_point_names_the_threat():
    from shieldlab.errors import InputError

    with pytest.raises(InputError, match="maximum range") as e:
        simulate(world(assets__0__site={"lat": 40.0, "lon": -10.0}), runs=1, seed=1)
    assert e.value.field == "threats[0].aim"


def test_flight_dispersions_scatter_impacts_deterministically():
    nominal = simulate(world(batteries__0__rounds=0), runs=6, seed=2)
    assert np.nanmax(nominal.outcomes["aim_miss_km"]) < 0.05  # steering puts every run on the aim point
    assert all(row["cep_km"] < 0.05 for row in nominal.summary["per_threat"])
    disp = {"thrust_pct": 0.3, "isp_pct": 0.2, "burn_time_pct": 0.2, "drag_pct": 5, "azimuth_mrad": 1}
    w = world(batteries__0__rounds=0, dispersion=disp)
    a = simulate(w, runs=40, seed=2)
    b = simulate(w, runs=40, seed=2)
    np.testing.assert_array_equal(a.outcomes["aim_miss_km"], b.outcomes["aim_miss_km"])
    miss = a.outcomes["aim_miss_km"]
    assert np.unique(np.round(miss, 6)).size > 60, "every run flies its own trajectory"
    assert all(row["cep_km"] > 0.5 for row in a.summary["per_threat"])
    # a threat-level dispersion overrides the scenario's: this one flies nominal every run
    w2 = world(batteries__0__rounds=0, dispersion=disp, threats__0__dispersion={})
    assert np.nanmax(simulate(w2, runs=4, seed=2).outcomes["aim_miss_km"]) < 0.05


def test_shaped_threat_flies_its_apogee():
    w = world(batteries__0__rounds=0, threats__0__profile="lofted", threats__0__apogee_km=450.0)
    r = simulate(w, runs=2, seed=1)
    assert np.all(r.outcomes["aim_miss_km"] < 1.0)
    res = __import__("shieldlab.engine.chain", fromlist=["fly_threats"]).fly_threats(w)
    np.testing.assert_allclose(res.truth.apogee_alt, 450e3, atol=1e3)


def test_unflyable_shape_names_the_threat():
    from shieldlab.errors import InputError

    with pytest.raises(InputError, match="cannot be flown") as e:
        simulate(world(threats__0__profile="lofted", threats__0__apogee_km=4000.0), runs=1, seed=1)
    assert e.value.field == "threats[0].apogee_km"


def test_patriot_turkey_2013_preset_defends_its_cities():
    """The 2013 Patriot deployment preset: the batteries engage Syrian Scuds over the three
    cities, inside the PAC-3 MSE envelope, each battery covering its own city."""
    from shieldlab import load_world

    w = load_world("patriot-turkey-2013")
    assert len(w.batteries) == 6 and len(w.threats) == 4
    r = simulate(w, runs=10, seed=1)
    o = r.outcomes
    assert all(row["p_intercept"] >= 0.7 for row in r.summary["per_threat"]), r.summary["per_threat"]
    hit = o["outcome"] == "intercepted"
    # where the threat was destroyed: inside the envelope (3-30 km), up to the divert (0.5 km) that
    # the kill vehicle makes up beyond the fan's reach (plans at the ceiling meet threats a few
    # tens of metres above it)
    assert np.all((o["intercept_alt_km"][hit] >= 3 - 0.5) & (o["intercept_alt_km"][hit] <= 30 + 0.5))
    by = {t: set(o["intercepted_by"][hit & (o["threat"] == t)]) for t in set(o["threat"])}
    assert by["scud-b-gaziantep#1"] <= {"us-1", "us-2"} and by["scud-c-adana"] <= {"nl-1", "nl-2"}


def test_epaa_phases_close_the_gaps():
    """Phase 1's ship cannot reach the Sejjil-2 aimed at Bucharest; phase 2's Deveselu site
    can; phase 3's Redzikowo site engages IRBMs aimed at Warsaw and Berlin.  Warsaw is a
    short-warning shot for Redzikowo: it is intercepted in most runs, but a 3-sigma
    track-quality launch gate holds the launch until the track is good enough, and in
    some runs that is too late."""
    from dataclasses import replace

    from shieldlab import load_world

    def p(preset, threat, gate=None):
        w = load_world(preset)
        if gate is not None:
            doc = w.scenario.doctrine.model_copy(update={"track_quality_sigma": gate})
            w = replace(w, scenario=w.scenario.model_copy(update={"doctrine": doc}))
        r = simulate(w, runs=12, seed=3)
        return next(row["p_intercept"] for row in r.summary["per_threat"] if row["threat"] == threat)

    assert p("epaa-phase-1", "sejjil-bucharest") == 0.0
    assert p("epaa-phase-2", "sejjil-bucharest") >= 0.5
    ungated = p("epaa-phase-3", "irbm-warsaw")  # the presets' doctrine: no launch gate
    assert ungated >= 0.5
    assert 0.1 < p("epaa-phase-3", "irbm-warsaw", gate=3.0) < ungated


def test_the_timing_hook_times_every_stage_and_changes_nothing():
    from shieldlab.engine.chain import STAGES

    w = world(dispersion={"thrust_pct": 1.0}, batteries__0__rounds=3)
    plain = simulate(w, runs=3, seed=5)
    t = {}
    timed = simulate(w, runs=3, seed=5, timings=t)
    assert set(t) == set(STAGES)
    assert all(v >= 0.0 for v in t.values()) and t["tracking_s"] > 0.0 and t["dispersed_flyout_s"] > 0.0
    for k, v in plain.outcomes.items():
        np.testing.assert_array_equal(v, timed.outcomes[k], err_msg=k)
    for k, v in plain.events.items():
        np.testing.assert_array_equal(v, timed.events[k], err_msg=k)


def test_a_duration_shorter_than_the_flights_is_an_input_error():
    """A simulated time that ends before a threat lands left every threat airborne and
    printed P(no leaker) 1.000; now preflight names duration_s and the time needed."""
    from shieldlab.engine import chain
    from shieldlab.engine.chain import preflight
    from shieldlab.errors import InputError

    with pytest.raises(InputError) as e:
        preflight(world(duration_s=200), runs=2)
    assert e.value.field == "duration_s" and "at least" in str(e.value)
    flights = preflight(world(), runs=2)
    assert np.isfinite(flights.truth.impact_time).all()
    # a duration that holds the nominal flights but not the margin a dispersed one needs: its
    # late runs ended airborne, neither intercepted nor leakers (the error had asked for more)
    last = float(flights.truth.impact_time.max())
    dispersed = {"dispersion": {"thrust_pct": 1.0}}
    for edits, margin in (({}, chain._LANDING_MARGIN_S), (dispersed, chain._DISPERSED_MARGIN_S)):
        with pytest.raises(InputError) as e:
            preflight(world(duration_s=float(np.ceil(last)) + 10.0, **edits), runs=2)
        need = int(str(e.value).split("at least ")[1].split()[0])
        assert need == np.ceil(last + margin)
        preflight(world(duration_s=float(need), **edits), runs=2)  # what it asks for is enough
    # on a coarse grid too, whose last sample may fall short of the duration by a step
    with pytest.raises(InputError) as e:
        preflight(world(time_step_s=10.0, duration_s=100.0), runs=2)
    need = int(str(e.value).split("at least ")[1].split()[0])
    preflight(world(time_step_s=10.0, duration_s=float(need)), runs=2)


def test_a_run_that_would_not_fit_in_memory_is_refused(monkeypatch):
    from shieldlab.engine import chain
    from shieldlab.errors import InputError

    w = world()
    small, big = chain.estimate_memory_bytes(w, 10), chain.estimate_memory_bytes(w, 10_000)
    assert chain.PROCESS_BYTES < small < big
    fl = chain.fly_threats(w)  # as preflight estimates: the grid cut after the last impact
    small, big = chain.estimate_memory_bytes(w, 10, fl), chain.estimate_memory_bytes(w, 10_000, fl)
    # more runs per chunk and more result rows cost more; a longer grid costs more
    assert (chain.estimate_memory_bytes(world(duration_s=3000), 10)
            > chain.estimate_memory_bytes(world(duration_s=1500), 10))
    # a second radar of the system scanning at the same times adds its reports, not tracker
    # updates (a tracker's update times are the union of its radars' scan times)
    two = world(sensors=[{"name": "r", "type": "test-radar", "site": "radar"},
                         {"name": "r2", "type": "test-radar", "site": "radar"}])
    fl2 = chain.fly_threats(two)
    N, K = len(w.threats), int(fl.truth.t.size * w.dt / 2.0) + 1  # the test radar scans every 2 s
    assert chain.estimate_memory_bytes(two, 10, fl2) - small == 10 * N * K * (7 * 8 + 9)
    monkeypatch.setattr(chain, "available_memory_bytes", lambda: int((small + big) / 2 / 0.8))
    chain.preflight(w, 10)
    with pytest.raises(InputError) as e:
        chain.preflight(w, 10_000)
    assert e.value.field == "--runs" and "GiB" in str(e.value)
    assert "--out DIR" in str(e.value)  # the run's tables could go to disk as it runs
    with pytest.raises(InputError) as e:  # a command with no chunk store (tracks, compare): no such advice
        chain.preflight(w, 10_000, can_store=False)
    assert e.value.field == "--runs" and "--out" not in str(e.value)


def test_false_alarms_count_in_the_memory_a_run_needs(monkeypatch):
    """The estimate left out the false alarms' reports and tentative tracks: `validate` said
    265 MiB for 16 runs that needed ~29 GB (1,000 false alarms a frame under gnn), and `tracks`
    (which had no memory check of its setting) was killed by the kernel at 24 GB.  Their bytes
    grow with the false-alarm rate, chunks shrink to fit, and a run that cannot fit is refused
    before it starts, the tracks command's own setting counted; where it would fit without
    the false alarms, the error names the false-alarm setting, not the runs."""
    from shieldlab.engine import chain, tracks
    from shieldlab.errors import InputError

    w = shieldlab.load_world("epaa-phase-1")  # association labels: no false alarms in its chain
    fl = chain.fly_threats(w)
    T = fl.truth.t.size
    assert chain.unlabelled_setting(w) is None and chain.chunk_bytes(w, 1, T) == chain.chunk_bytes(w, 1, T, None)
    per_run = [chain.chunk_bytes(w, 1, T, fa) for fa in (0.0, 100.0, 300.0, 1000.0)]
    assert per_run == sorted(per_run) and per_run[0] > chain.chunk_bytes(w, 1, T)
    # calibrated against the measured peaks (tracks epaa-phase-1, 1 and 3 runs): 48 and 205 MB a run
    assert 48e6 < per_run[1] < 2 * 48e6 and 205e6 < per_run[2] < 2 * 205e6
    assert chain.chunk_runs(w, fl, 300.0) == 1 < chain.chunk_runs(w, fl, 0.0)
    gnn = shieldlab.load_world(
        w.scenario.model_copy(update={"tracking": w.scenario.tracking.model_copy(update={"association": "gnn"}),
                                      "sensing": w.scenario.sensing.model_copy(update={"false_alarms": 300.0})}))
    assert chain.unlabelled_setting(gnn) == 300.0
    assert chain.chunk_bytes(gnn, 1, T) == chain.chunk_bytes(w, 1, T, 300.0)
    monkeypatch.setattr(chain, "available_memory_bytes", lambda: chain.PROCESS_BYTES + 100 * 2**20)
    with pytest.raises(InputError, match="GiB.*false alarms' reports") as e:
        tracks.track_runs(w, 2, 1, 300.0)
    assert e.value.field == "--false-alarms"
    with pytest.raises(InputError, match="GiB") as e:
        chain.preflight(gnn, 2)
    assert e.value.field == "sensing.false_alarms"
    # too many runs for the memory even without false alarms: the runs are named
    monkeypatch.setattr(chain, "available_memory_bytes", lambda: chain.PROCESS_BYTES)
    with pytest.raises(InputError, match="GiB") as e:
        chain.preflight(gnn, 2)
    assert e.value.field == "--runs"


def test_chunks_are_sized_by_memory():
    """A chunk holds as many runs as fit in CHUNK_BYTES, at most CHUNK and at least enough for
    MIN_CHUNK_ROWS (run, threat) pairs: a raid of more threats, or a longer one, runs in
    smaller chunks, so its memory stays near the same."""
    from shieldlab.engine import chain

    sizes = {}
    for count in (2, 20, 100):
        w = world(threats__0__count=count, threats__0__spacing_s=1)
        fl = chain.fly_threats(w)
        C = chain.chunk_runs(w, fl)
        b, one = chain.chunk_bytes(w, C, fl.truth.t.size), chain.chunk_bytes(w, 1, fl.truth.t.size)
        sizes[count] = C
        fewest = max(1, min(-(-chain.MIN_CHUNK_ROWS // count), chain.CHUNK_FLOOR_BYTES // one))
        assert min(fewest, chain.CHUNK) <= C <= chain.CHUNK
        assert b == C * one  # linear in the runs
        # the most runs within the budget, unless the fewest a chunk takes are over it already
        assert b <= max(chain.CHUNK_BYTES, fewest * one)
        assert C == chain.CHUNK or (C + 1) * one > chain.CHUNK_BYTES or C == fewest
    assert sizes[2] == chain.CHUNK > sizes[20] > sizes[100]
    # a threat launched most of a day after the epoch flies on a grid that long: the floor of
    # MIN_CHUNK_ROWS gives way to memory (64 runs a chunk had taken 3.8 GB)
    w = world(threats__0__launch_time_s=80_000.0)
    fl = chain.fly_threats(w)
    C, one = chain.chunk_runs(w, fl), chain.chunk_bytes(w, 1, fl.truth.t.size)
    assert one * chain.MIN_CHUNK_ROWS > chain.CHUNK_FLOOR_BYTES  # the floor would be over its cap
    assert 1 <= C < chain.CHUNK and C * one <= chain.CHUNK_FLOOR_BYTES
    # the memory check counts one chunk of that size, and the tables of every run
    w = world(threats__0__count=20, threats__0__spacing_s=1)
    fl = chain.fly_threats(w)
    C = chain.chunk_runs(w, fl)
    T = fl.truth.t.size
    assert (chain.estimate_memory_bytes(w, 10_000, fl) - chain.PROCESS_BYTES - 10_000 * 20 * 4096
            == chain.chunk_bytes(w, C, T) + 20 * T * (6 * 8 + 1))  # and the nominal flights


@pytest.mark.parametrize("association", ["labels", "gnn"])
def test_results_do_not_depend_on_the_chunk_size(monkeypatch, association):
    """A run draws only from its own streams and is tracked and engaged alone, so the result
    tables are the same to the bit whatever the runs a chunk holds."""
    from shieldlab.engine import montecarlo

    w = world(catalog__interceptors__0__sspk=0.5, tracking={"association": association},
              dispersion={"thrust_pct": 0.2, "drag_pct": 3, "azimuth_mrad": 0.5})
    res = {}
    for size in (64, 7, 3):
        monkeypatch.setattr(montecarlo, "chunk_runs", lambda world, flights=None, size=size: size)
        res[size] = simulate(w, runs=20, seed=4)
    for size in (7, 3):
        assert res[size].summary == res[64].summary
        for table in ("outcomes", "events", "track_quality"):
            a, b = getattr(res[64], table), getattr(res[size], table)
            assert a.keys() == b.keys()
            for col in a:
                np.testing.assert_array_equal(np.asarray(a[col]).astype(str), np.asarray(b[col]).astype(str),
                                              err_msg=f"{table}.{col}")


def test_a_larger_envelope_never_lowers_p_intercept():
    """The fly-out table spans what the interceptor reaches, not its envelope: widening the
    envelope to 20,000 or 100,000 km changes nothing where the interceptor can fly (it used
    to stretch a fixed grid over the envelope: P(intercept) fell, and at 1e5 km nothing fired)."""
    p = {}
    for r in (900, 20_000, 100_000):
        res = simulate(world(catalog__interceptors__0__max_range_km=r, catalog__interceptors__0__sspk=0.7),
                       runs=16, seed=2)
        p[r] = [row["p_intercept"] for row in res.summary["per_threat"]]
    assert min(p[900]) > 0.5
    assert p[20_000] >= p[900] and p[100_000] >= p[900], p


def test_a_battery_that_reaches_the_path_but_only_before_it_is_ready_says_too_late():
    """A battery whose fly-out reaches the threat's predicted path, but only launching before
    it can (its reaction time too long for the track it gets), logs too-late, not
    out-of-envelope; and too-late it stays once the path has passed out of reach."""
    slow = simulate(world(batteries__0__reaction_time_s=590.0), runs=3, seed=1).events
    no_fire = slow["kind"] == "no-fire"
    assert no_fire.any() and set(slow["reason"][no_fire]) == {"too-late"}
    assert not (slow["kind"] == "fire").any()
    # its detail says which of the two causes: no salvo had gone at the threat (it said both)
    assert all("(no salvo had gone at it: its track or alert came too late" in d for d in slow["detail"][no_fire])
    quick = simulate(world(), runs=3, seed=1).events
    assert (quick["kind"] == "fire").any() and "too-late" not in set(quick["reason"])


def test_a_too_late_after_a_salvo_says_a_salvo_had_gone_at_it():
    """nato-russia-2011: every too-late row of a threat some salvo went at before the row's
    time says so, and every other says none had (the detail named both causes at once)."""
    ev = simulate(shieldlab.load_world("nato-russia-2011"), runs=8, seed=1).events
    fired: dict = {}
    for r, n, k, t in zip(ev["run"], ev["threat"], ev["kind"], ev["t_s"]):
        if k == "fire":
            fired.setdefault((int(r), str(n)), []).append(float(t))
    late = np.flatnonzero(ev["reason"] == "too-late")
    assert late.size
    after = 0
    for i in late:
        before = any(t <= ev["t_s"][i] for t in fired.get((int(ev["run"][i]), str(ev["threat"][i])), []))
        after += before
        assert ("(a salvo had gone at it" in ev["detail"][i]) == before, ev["detail"][i]
    assert after > 0


def test_a_threat_judged_harmless_until_too_late_says_judged_late():
    """A battery by the launch point has its window early, while a noisy track cannot yet
    show a threat hitting a small asset at P(hit) >= 0.9: the threat is judged a threat only
    when no window is left.  The log says judged-late (it said too-late, which blamed the
    track's timing or the reaction); engaging every threat, the battery fires at each of them
    (so a window was there), and no judged-late is left.  A threat it did engage keeps
    too-late for the second shot it had no time for."""
    kw = dict(sites__shooter={"lat": 35.5, "lon": 43.5}, assets__0__radius_km=5,
              catalog__sensors__0__sigma_angle_mrad=3.0)
    ev = simulate(world(**kw, doctrine={"threat_probability": 0.9}), runs=16, seed=1).events

    def pairs(ev, rows):
        return set(zip(ev["run"][rows].tolist(), ev["threat"][rows].tolist()))

    no_fire = ev["kind"] == "no-fire"
    late, fired = pairs(ev, no_fire & (ev["reason"] == "judged-late")), pairs(ev, ev["kind"] == "fire")
    assert len(late) >= 3 and not late & fired
    assert pairs(ev, no_fire & (ev["reason"] == "too-late")) <= fired
    every = simulate(world(**kw, doctrine={"threat_probability": 0.9, "engage": "all"}), runs=16, seed=1).events
    assert late <= pairs(every, every["kind"] == "fire") and "judged-late" not in set(every["reason"])


def test_the_stream_layout_names_every_stream_once():
    """Each random stream a run draws is found by name (engine.chain.StreamLayout), every index
    from 0 to the count chunk_streams spawns taken exactly once, in the documented order; the
    indices had been written out by hand in four places."""
    from shieldlab.engine.chain import StreamLayout, chunk_streams

    for preset in ("epaa-phase-1", "nato-russia-2011", "epaa-phase-4"):
        w = shieldlab.load_world(preset)
        at = StreamLayout.of(w)
        idx = ([at.sensor(i) for i in range(len(w.sensors))] + [at.kill, at.dispersion]
               + [f(i) for i in range(len(w.links)) for f in (at.link_tracks, at.link_status)]
               + [at.satellite(i) for i in range(len(w.early_warning))]
               + [at.link_reports(i) for i in range(len(w.links))])
        assert idx == list(range(at.total)), preset
        assert len(chunk_streams(w, np.random.SeedSequence(1), 0, 2)) == at.total
    assert StreamLayout.of(shieldlab.load_world("nato-russia-2011")).links  # links' streams among them


@pytest.mark.parametrize("association", ["labels", "gnn"])
def test_doctrine_settings_share_their_kill_draws(association):
    """Changing the salvo or the engagements per threat re-dealt every kill draw (a run drew
    (threats, engagements, salvo) uniforms in one block, so the k-th salvo at a threat drew
    another number under another setting): epaa-phase-1's 8 runs fired the same shots under
    max_engagements 1, 2 and 3 and leaked 1.75, 1.88 and 1.50 threats a run.  Now the draws
    are dealt for the schema's maxima: a first shot that killed under one setting kills, at
    the same instant, under the others, and one that missed misses again."""
    kw = dict(catalog__interceptors__0__sspk=0.5, threats__0__count=4, batteries__0__rounds=40)
    kw["tracking"] = {"association": association}

    def first_shots(**doctrine):
        ev = simulate(world(**kw, doctrine={"shoot_look_shoot": True, **doctrine}), runs=12, seed=2).events
        first = {}
        for run, threat, kind, t in zip(ev["run"], ev["threat"], ev["kind"], ev["t_s"]):
            if kind in ("intercept", "miss"):
                first.setdefault((int(run), str(threat)), (kind, round(float(t), 6)))
        return first

    one = first_shots(max_engagements=1, salvo=1)
    assert {k for k, _ in one.values()} == {"intercept", "miss"}  # both outcomes, or the test shows nothing
    assert first_shots(max_engagements=3, salvo=1) == one
    two_rounds = first_shots(max_engagements=1, salvo=2)
    # a second round per salvo only adds kills: every first-shot kill of one round stays one
    assert {k: v for k, v in two_rounds.items() if one[k][0] == "intercept"} == \
        {k: v for k, v in one.items() if v[0] == "intercept"}
    assert sum(v[0] == "intercept" for v in two_rounds.values()) > sum(v[0] == "intercept" for v in one.values())
