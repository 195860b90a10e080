"""Launch reports passed on over the links (shieldlab.c2.network.warning_times): under a
sharing architecture a node holds its linked neighbours' early-warning reports, late by the
link's send schedule and latency (and its losses), and its radars and batteries are cued
by them; under the others it holds its own alone."""

import json

import numpy as np
import pytest
import yaml

from shieldlab.c2.links import arrival_time
from shieldlab.c2.network import expected_warning, warning_sources
from shieldlab.engine.chain import battery_alerts, chunk_streams, chunk_truth, fly_threats, preflight, run_chunk, sense
from shieldlab.flyout.interp import state_at
from shieldlab.scenario import compile_world, locate
from shieldlab.scenario.loader import parse

SAT = {"name": "sbirs-1", "type": "sbirs-geo", "lon_deg": 57.0, "system": "nato"}  # over the Indian Ocean


def world(architecture="coordinated", loss=0.0, satellites=(SAT,), launch_reports=True):
    """nato-russia-2011 (NATO and Russia linked both ways: 12 s period, 5 s latency) with a
    NATO early-warning satellite that sees the Iranian launches."""
    data = yaml.safe_load(locate("nato-russia-2011")[0].read_text())
    data["architecture"] = architecture
    data["early_warning"] = [dict(s) for s in satellites]
    for lk in data["links"]:
        lk["loss"] = loss
        lk["launch_reports"] = launch_reports
    return compile_world(parse(data, "nato-russia-2011"))


def sensed(w, runs=6, seed=3, first_run=0):
    flights = preflight(w, runs)
    streams = chunk_streams(w, np.random.SeedSequence(seed), first_run, runs)
    return sense(w, chunk_truth(w, flights, streams), streams)


def first_detection(d):
    return np.where(d.detected, d.t, np.inf).min(axis=-1)


def test_a_linked_node_holds_the_report_at_the_next_send_plus_latency():
    (rep,), warned, _ = sensed(world())
    assert np.isfinite(rep.report_time).all()
    np.testing.assert_array_equal(warned.held["nato"], rep.report_time)
    lk = next(lk for lk in world().links if lk.source == "nato" and lk.target == "russia")
    expect = np.ceil(rep.report_time / lk.period) * lk.period + lk.latency
    np.testing.assert_allclose(warned.held["russia"], expect, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(warned.passed["nato->russia"], warned.held["russia"])
    assert (warned.held["russia"] > warned.held["nato"]).all()


@pytest.mark.parametrize("architecture", ["independent", "integrated"])
def test_without_sharing_the_report_stays_home_or_is_everyones(architecture):
    (rep,), warned, _ = sensed(world(architecture))
    if architecture == "independent":
        assert set(warned.held) == {"nato"} and not warned.passed
    else:  # one C2 over all: every system holds it at once
        np.testing.assert_array_equal(warned.held["russia"], rep.report_time)


def test_the_shared_report_cues_the_other_nodes_radars():
    """The same runs with and without a Russian satellite (its streams come after the others'):
    NATO's radars, cued by the report Russia passes on, see no threat later and some sooner
    (the AN/TPY-2 and SPY-1Ds no longer wait for their search frames; Russia's own radars,
    early-warning radars, search every scan and gain nothing); independent, they see exactly
    what they saw without it."""
    russian = [dict(SAT, system="russia")]
    plain = sensed(world(satellites=()))
    shared = sensed(world(satellites=russian))
    alone = sensed(world("independent", satellites=russian))
    alone_plain = sensed(world("independent", satellites=()))
    w = world()
    nato = [i for i, s in enumerate(w.sensors) if s.system == "nato"]
    earlier = False
    for i in nato:
        a, b = first_detection(plain[2][i]), first_detection(shared[2][i])
        assert np.all(b <= a)
        earlier |= bool(np.any(b < a))
        np.testing.assert_array_equal(first_detection(alone[2][i]), first_detection(alone_plain[2][i]))
    assert earlier


def test_a_lossy_link_resends_and_each_run_draws_alone():
    """Loss 0.5: a report arrives a whole number of periods after the lossless one (resent
    while lost), some later; a run's arrivals are its own, whatever chunk it ran in."""
    lossless, lossy = sensed(world(loss=0.0), runs=12)[1].held, sensed(world(loss=0.5), runs=12)[1].held
    extra = (lossy["russia"] - lossless["russia"]) / 12.0
    np.testing.assert_allclose(extra, np.round(extra), atol=1e-9)
    assert (extra >= 0).all() and (extra > 0).any()
    alone = sensed(world(loss=0.5), runs=1, first_run=5)[1].held
    np.testing.assert_array_equal(alone["russia"][0], lossy["russia"][5])


def test_the_other_nodes_batteries_are_alerted_by_the_shared_report():
    w = world()
    _, warned, _ = sensed(w)
    alerts = battery_alerts(w, warned)
    for b in w.batteries:
        np.testing.assert_array_equal(alerts[b.name], warned.held[b.system])
    assert any(b.system == "russia" for b in w.batteries)
    alone = world("independent")
    assert {alone.batteries[i].system for i, b in enumerate(alone.batteries)
            if b.name in battery_alerts(alone, sensed(alone)[1])} == {"nato"}


def test_the_expected_analyses_take_the_link_too():
    """reach and footprint read the same sources, without losses: the linked node's expected
    report is the link's arrival of its neighbour's, and its radars confirm no later than
    when they are not told, some sooner."""
    from shieldlab.analysis.reach import sensor_cue

    w = world()
    lk = next(lk for lk in w.links if lk.source == "nato" and lk.target == "russia")
    assert [(s.name, link) for s, link in warning_sources(w, "russia")] == [("sbirs-1", lk)]
    assert warning_sources(world("independent"), "russia") == []
    times = {"sbirs-1": np.array([33.0, 60.0, np.inf])}
    np.testing.assert_array_equal(expected_warning(w, "russia", times), arrival_time(times["sbirs-1"], lk))
    np.testing.assert_array_equal(expected_warning(w, "nato", times), times["sbirs-1"])
    assert np.isinf(expected_warning(world("independent"), "russia", times)).all()
    # a Russian satellite's report cues NATO's radars (Russia's early-warning radars search
    # every scan: a cue gains them nothing)
    russian = [dict(SAT, system="russia")]
    shared, plain = world(satellites=russian), world("independent", satellites=russian)
    truth = fly_threats(w).truth
    later = sooner = 0
    for n in range(len(w.threats)):
        t = truth.launch_time[n] + np.arange(int(truth.impact_time[n] - truth.launch_time[n]))
        p, v = state_at(truth, t)
        burn = truth.burnout_time[n] - truth.launch_time[n]
        a = sensor_cue(plain, w.threats[n].missile, p[n], v[n], burn, 1.0).per_system["nato"]
        b = sensor_cue(shared, w.threats[n].missile, p[n], v[n], burn, 1.0).per_system["nato"]
        later += b > a
        sooner += b < a
    assert later == 0 and sooner > 0


def test_the_event_log_says_when_a_link_passed_a_report_on():
    from shieldlab.io.results import event_columns

    w = world()
    res = run_chunk(w, preflight(w, 4), 0, 4, np.random.SeedSequence(2))
    ev = event_columns(w, res)
    kinds, actors = np.asarray(ev["kind"]), np.asarray(ev["actor"])
    passed = (kinds == "launch-report") & (actors == "nato->russia")
    t = res.warnings.passed["nato->russia"]
    assert passed.sum() == np.isfinite(t).sum() > 0
    np.testing.assert_array_equal(np.sort(np.asarray(ev["t_s"])[passed]), np.sort(t[np.isfinite(t)]))
    assert set(np.asarray(ev["detail"])[passed]) == {"passed on over the link"}
    assert ((kinds == "launch-report") & (actors == "sbirs-1")).sum() == passed.sum()


def test_a_satellites_reports_are_the_same_under_every_architecture():
    """Each run draws a satellite's detections from the same stream whatever the architecture
    (the links' streams are laid out whether the links are used or not): `compare` compares
    the same raids, seen by the same satellites."""
    times = [sensed(world(arch), runs=8)[0][0].report_time for arch in ("coordinated", "independent", "integrated")]
    for t in times[1:]:
        np.testing.assert_array_equal(t, times[0])


def test_reach_says_whose_radars_a_report_cues_and_what_a_link_passes_on(tmp_path):
    """A Russian satellite, NATO's SM-3: reach names the node the report cues and, coordinated,
    when the link passes it to NATO (its next send at or after the report, plus 5 s).
    Independent, nothing is passed on."""
    from test_cli import cli

    for arch in ("coordinated", "independent"):
        data = yaml.safe_load(locate("nato-russia-2011")[0].read_text())
        data.update(architecture=arch, early_warning=[dict(SAT, system="russia")])
        (tmp_path / f"{arch}.yaml").write_text(yaml.safe_dump(data))
    args = ("reach", "sm-3-block-ia", "--site", "36.2,27.6", "--missile", "sejjil-2", "--from", "38.08,46.29",
            "--to", "37.98,23.73", "--sensors")
    r = cli(*args, tmp_path / "coordinated.yaml", "--json")
    assert r.returncode == 0, r.stderr
    sensors = json.loads(r.stdout)["cue"]
    t_rep = sensors["launch_report_s"]["sbirs-1"]
    assert sensors["launch_report_cues"] == {"sbirs-1": "russia"}
    assert sensors["launch_report_passed_s"]["russia->nato"] == pytest.approx(np.ceil(t_rep / 12.0) * 12.0 + 5.0)
    # the first system's batteries are alerted: Russia's by its own report, NATO's by the passed one
    passed = sensors["launch_report_passed_s"]["russia->nato"]
    assert sensors["batteries_alerted_s"] == (t_rep if sensors["system"] == "russia" else passed)
    text = cli(*args, tmp_path / "coordinated.yaml").stdout
    assert "(it cues russia's radars)" in text and "passed on over the link russia->nato: expected" in text
    alone = cli(*args, tmp_path / "independent.yaml", "--json")
    sensors = json.loads(alone.stdout)["cue"]
    assert sensors["launch_report_passed_s"] == {}


def test_the_footprint_counts_the_passed_on_report_and_says_so():
    """Footprint of NATO's ships against Tabriz's Sejjil-2s with a Russian satellite: passed on
    (coordinated), the report cues NATO's radars and alerts its ships, so no cell NATO defends
    alone is lost and some are reached sooner; the record says who the reports reach."""
    from shieldlab.analysis import footprint as fpm

    russian = [dict(SAT, system="russia")]
    grid = fpm.make_grid(40.0, 46.0, 21.0, 29.0, 1.0)
    fps = {arch: fpm.compute(world(arch, satellites=russian), grid=grid, site_names=["tabriz/sejjil-2"])
           for arch in ("coordinated", "independent")}
    assert fps["coordinated"].early_warning == [{"name": "sbirs-1", "system": "russia", "passed_to": ["nato"],
                                                 "reports_sites": ["tabriz/sejjil-2"]}]
    assert fps["independent"].early_warning == [{"name": "sbirs-1", "system": "russia", "passed_to": [],
                                                 "reports_sites": ["tabriz/sejjil-2"]}]
    assert fpm.to_json(fps["coordinated"], include_grid=False)["architecture"] == "coordinated"
    shared, alone = fps["coordinated"].sites[0], fps["independent"].sites[0]
    assert not (alone.defended & ~shared.defended).any()
    both = alone.defended & shared.defended
    assert both.any()
    assert (shared.first_intercept_s[both] <= alone.first_intercept_s[both]).all()
    assert (shared.first_intercept_s[both] < alone.first_intercept_s[both]).any() or \
        (shared.defended & ~alone.defended).any()


def test_a_link_may_keep_the_reports_home():
    """links[].launch_reports: false carries tracks and status only: the report stays with its
    node, in the chain, reach and the footprint's sources; a flag that is no flag is refused."""
    from shieldlab.errors import InputError

    home = world(launch_reports=False)
    (rep,), warned, _ = sensed(home)
    assert set(warned.held) == {"nato"} and not warned.passed
    assert warning_sources(home, "russia") == []
    data = yaml.safe_load(locate("nato-russia-2011")[0].read_text())
    data["links"][0]["launch_reports"] = "no"
    with pytest.raises(InputError) as e:
        parse(data, "x")
    assert e.value.field == "links[0].launch_reports"


def test_a_lossy_link_in_the_expected_analyses_loses_nothing():
    """reach and footprint draw nothing: over a lossy link the first message gets through (a
    loss of 0.2 once made both fail with "a lossy link needs a generator")."""
    from shieldlab.analysis import footprint as fpm
    from shieldlab.c2.links import first_try_arrival

    w = world(loss=0.2, satellites=[dict(SAT, system="russia")])
    lk = next(lk for lk in w.links if lk.source == "russia")
    times = {"sbirs-1": np.array([33.0, 60.0, np.inf])}
    np.testing.assert_array_equal(expected_warning(w, "nato", times), first_try_arrival(times["sbirs-1"], lk))
    np.testing.assert_array_equal(first_try_arrival(times["sbirs-1"], lk), [41.0, 65.0, np.inf])
    fp = fpm.compute(w, grid=fpm.make_grid(41.0, 45.0, 23.0, 27.0, 2.0), site_names=["tabriz/sejjil-2"])
    assert fp.sites[0].threatened.any()


def _nato_radars_in_lisbon(architecture):
    """nato-russia-2011 with NATO's radars moved to Lisbon, beyond the horizon of every threat."""
    data = yaml.safe_load(locate("nato-russia-2011")[0].read_text())
    data["architecture"] = architecture
    for s in data["sensors"]:
        if s.get("system") == "nato":
            s["site"] = {"lat": 38.7, "lon": -9.1}
            s.pop("boresight_az_deg", None)
    return compile_world(parse(data, "nato-russia-2011"))


def test_the_footprint_plans_on_the_tracks_a_link_brings():
    """A node fuses the tracks its links bring (coordinated), so the footprint readies its
    batteries on the first of its own radars' track and each linked node's, that link's next
    send plus its latency later: NATO with its radars out of sight defends nothing alone
    (independent) and, on Russia's Armavir and Gabala tracks, some cells coordinated; Russia's
    batteries, sent no track of these threats (NATO has none), defend the same cells either way."""
    from shieldlab.analysis import footprint as fpm

    grid = fpm.make_grid(38.0, 46.0, 20.0, 42.0, 1.0)
    fps = {arch: fpm.compute(_nato_radars_in_lisbon(arch), grid=grid, site_names=["tabriz/sejjil-2"])
           for arch in ("coordinated", "independent")}
    w = _nato_radars_in_lisbon("coordinated")
    nato = [i for i, b in enumerate(w.batteries) if b.system == "nato"]
    russia = [i for i, b in enumerate(w.batteries) if b.system == "russia"]
    shared, alone = fps["coordinated"].sites[0], fps["independent"].sites[0]
    assert not alone.by_battery[nato].any()
    assert shared.by_battery[nato].any()
    np.testing.assert_array_equal(shared.by_battery[russia], alone.by_battery[russia])


def test_a_link_may_carry_launch_reports_only():
    """links[].tracks: false (an exchange of early warning alone): the launch report passes, no
    track or engagement status does. NATO, its radars out of sight, fires nothing on such a
    link (and defends nothing in the footprint), and on Russia's tracks over a full link it
    fires; a link that would carry nothing, or a flag that is no flag, is refused."""
    from shieldlab.analysis import footprint as fpm
    from shieldlab.errors import InputError

    def lisbon(tracks):
        data = yaml.safe_load(locate("nato-russia-2011")[0].read_text())
        for s in data["sensors"]:
            if s.get("system") == "nato":
                s["site"] = {"lat": 38.7, "lon": -9.1}
                s.pop("boresight_az_deg", None)
        data["early_warning"] = [dict(SAT, system="russia")]
        for lk in data["links"]:
            lk["tracks"] = tracks
        return compile_world(parse(data, "nato-russia-2011"))

    reports_only, full = lisbon(False), lisbon(True)
    assert not any(lk.tracks for lk in reports_only.links)
    (rep,), warned, _ = sensed(reports_only)
    assert np.isfinite(warned.passed["russia->nato"]).any()  # the report still passes
    nato = {i for i, b in enumerate(full.batteries) if b.system == "nato"}
    fired = {}
    for name, w in (("reports only", reports_only), ("full", full)):
        e = run_chunk(w, preflight(w, 4), 0, 4, np.random.SeedSequence(2)).engagements
        fired[name] = int(np.isin(e.battery, list(nato)).sum())
    assert fired["reports only"] == 0 < fired["full"]
    grid = fpm.make_grid(38.0, 46.0, 20.0, 42.0, 1.0)
    fp = fpm.compute(reports_only, grid=grid, site_names=["tabriz/sejjil-2"])
    assert not fp.sites[0].by_battery[sorted(nato)].any()
    data = yaml.safe_load(locate("nato-russia-2011")[0].read_text())
    data["links"][0].update(tracks=False, launch_reports=False)
    with pytest.raises(InputError) as e:
        parse(data, "x")
    assert "links[0]" in str(e.value) and "carry nothing" in str(e.value)
    data["links"][0].update(tracks="no", launch_reports=True)
    with pytest.raises(InputError) as e:
        parse(data, "x")
    assert e.value.field == "links[0].tracks"


def test_validate_notes_a_reports_only_link_from_a_node_without_satellites():
    from shieldlab.scenario.notes import _c2_notes

    data = yaml.safe_load(locate("nato-russia-2011")[0].read_text())
    data["early_warning"] = [dict(SAT, system="russia")]
    data["links"][0]["tracks"] = False
    notes = [n for n in _c2_notes(compile_world(parse(data, "x"))) if "carries launch reports only" in n]
    assert notes == ["note: link nato->russia carries launch reports only (tracks: false) and node nato has no "
                     "early-warning satellite: it carries nothing"]
    data["links"][0]["tracks"] = True
    assert not [n for n in _c2_notes(compile_world(parse(data, "x"))) if "carries launch reports only" in n]


@pytest.mark.parametrize("architecture", ["independent", "integrated"])
def test_validate_notes_links_an_architecture_does_not_use(architecture):
    from shieldlab.scenario.notes import _c2_notes

    data = yaml.safe_load(locate("nato-russia-2011")[0].read_text())
    data["architecture"] = architecture
    notes = [n for n in _c2_notes(compile_world(parse(data, "x"))) if "uses no links" in n]
    assert notes == [f"note: architecture {architecture} uses no links, so nato->russia, russia->nato carry "
                     "nothing: only coordinated and sectoral nodes send each other tracks, engagement status and "
                     "launch reports over them"]
    del data["links"]
    assert not [n for n in _c2_notes(compile_world(parse(data, "x"))) if "uses no links" in n]


def test_the_footprint_says_which_launch_sites_a_satellite_does_not_see(tmp_path):
    """A satellite over the Pacific sees no Iranian launch: the footprint says it expects no
    report from it, where it once said its reports cue and alert the defence."""
    from test_cli import cli

    data = yaml.safe_load(locate("epaa-phase-1")[0].read_text())
    data["early_warning"] = [{"name": "sbirs-pacific", "type": "sbirs-geo", "lon_deg": -120.0, "system": "nato-bmd"},
                             {"name": "sbirs-57", "type": "sbirs-geo", "lon_deg": 57.0, "system": "nato-bmd"}]
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    r = cli("footprint", tmp_path / "s.yaml", "--step-deg", "1", "--json-out", tmp_path / "fp.json")
    assert r.returncode == 0, r.stderr
    assert "launch reports of sbirs-pacific: none expected (it sees no launch of tabriz/" in r.stdout
    assert "launch reports of sbirs-57: they cue and alert every node's radars and batteries\n" in r.stdout
    sats = {s["name"]: s for s in json.loads((tmp_path / "fp.json").read_text())["early_warning"]}
    assert sats["sbirs-pacific"]["reports_sites"] == [] and sats["sbirs-57"]["reports_sites"]


def test_the_summary_says_when_each_satellite_and_link_brought_the_reports(capsys):
    """summary.json's launch_reports: per satellite, then per link that passed reports on, the
    share of the launches reported and the median and 10-90 % time after launch, as the
    engine's own launch reports of the same runs have them; the run table prints a line each."""
    import shieldlab
    from shieldlab.cli.summary import _print_launch_reports

    w = world(satellites=[dict(SAT, system="russia")])
    res = shieldlab.simulate(w, runs=6, seed=4)
    ch = run_chunk(w, preflight(w, 6), 0, 6, np.random.SeedSequence(4))
    after = ch.launch_reports[0].report_time - ch.truth.launch_time
    passed = ch.warnings.passed["russia->nato"] - ch.truth.launch_time
    rows = {r["source"]: r for r in res.summary["launch_reports"]}
    assert [r["via"] for r in res.summary["launch_reports"]] == ["satellite", "link"]
    for name, t in (("sbirs-1", after), ("russia->nato", passed)):
        t = t[np.isfinite(t)]
        assert rows[name]["share_of_launches"] == pytest.approx(t.size / after.size)
        assert rows[name]["median_s_after_launch"] == pytest.approx(np.median(t), abs=0.05)
        assert rows[name]["p90_s_after_launch"] == pytest.approx(np.percentile(t, 90), abs=0.05)
    assert rows["russia->nato"]["median_s_after_launch"] > rows["sbirs-1"]["median_s_after_launch"]
    assert shieldlab.simulate(world(satellites=()), runs=2, seed=4).summary["launch_reports"] == []
    _print_launch_reports(res.summary)
    out = capsys.readouterr().out
    assert "launch reports: sbirs-1, 100% of the launches" in out
    assert "launch reports: over the link russia->nato, 100% of the launches" in out


def test_a_stored_run_summarises_the_launch_reports_as_one_in_memory(tmp_path):
    from test_cli import cli

    data = yaml.safe_load(locate("nato-russia-2011")[0].read_text())
    data["early_warning"] = [dict(SAT, system="russia")]
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    r = cli("run", tmp_path / "s.yaml", "--runs", "3", "--json")
    assert r.returncode == 0, r.stderr
    assert cli("run", tmp_path / "s.yaml", "--runs", "3", "-q", "--out", tmp_path / "out").returncode == 0
    stored = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert stored["launch_reports"] == json.loads(r.stdout)["launch_reports"]
    assert [x["source"] for x in stored["launch_reports"]] == ["sbirs-1", "russia->nato"]
