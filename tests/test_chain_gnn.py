"""The kill chain on tracks of reports without labels (tracking.association: gnn)."""

import json
import re

import numpy as np
import pytest

import shieldlab
from shieldlab import catalog
from shieldlab.c2.records import REASONS
from shieldlab.engine import chain
from shieldlab.engine.montecarlo import simulate
from shieldlab.errors import InputError
from shieldlab.scenario import load_world

PRESET = "epaa-phase-1"


def _world(tmp_path, extra="tracking: {association: gnn}\n", name=PRESET):
    from importlib import resources

    text = (resources.files("shieldlab.scenario") / "presets" / f"{name}.yaml").read_text()
    assert "\ntracking:" not in text
    p = tmp_path / "gnn.yaml"
    p.write_text(text + "\n" + extra)
    return load_world(str(p))


@pytest.fixture(scope="module")
def gnn(tmp_path_factory):
    w = _world(tmp_path_factory.mktemp("gnn"))
    flights = chain.fly_threats(w)
    return w, flights, chain.run_chunk(w, flights, 0, 4, np.random.SeedSequence(8))


def test_fire_control_engages_tracks_and_kill_assessment_finds_what_they_held(gnn):
    w, _, ch = gnn
    N = len(w.threats)
    e = ch.engagements
    assert e.track is not None and e.target is not None and e.run.size > 0
    tg = ch.targets["nato-bmd"]
    np.testing.assert_array_equal(e.target, tg[e.run, e.track])
    at_threat = (e.target >= 0) & (e.target < N)
    np.testing.assert_array_equal(e.threat, np.where(at_threat, e.target, -1))
    # a salvo at a spent booster or a false track kills nothing
    assert not e.killed[~at_threat].any()
    assert (~at_threat).any()  # without discrimination, boosters draw fire
    # intercepts are credited to the threat behind the track
    k = np.flatnonzero(e.killed)
    assert ch.outcomes.intercepted[e.run[k], e.threat[k]].all()
    # every round is counted against a threat's complex (its warhead or its booster)
    assert ch.outcomes.interceptors.sum() == e.rounds[e.target >= 0].sum()


def _assert_fire_names_its_track_file_number(w, ch) -> int:
    """Each salvo's track file and number are a track of that file (``shieldlab tracks``'s table)
    whose object is the one behind the fire-control track it engaged; the fire row says them.
    Returns how many salvos were checked."""
    from shieldlab.c2.records import REASONS
    from shieldlab.io.results import event_columns
    from shieldlab.outcome.track_table import object_names, track_rows

    e = ch.engagements
    names = object_names([t.name for t in w.threats])  # "false alarm", the threats, their boosters
    checked = 0
    for f in np.unique(e.file[e.file != None]):  # noqa: E711 (an object array)
        tf, mine = ch.files[f]
        rows = track_rows(tf, list(mine), [t.name for t in w.threats])
        table = {(int(r), int(k)): o for r, k, o in zip(rows["run"], rows["track"], rows["object"], strict=True)}
        for i in np.flatnonzero(e.file == f):
            obj = int(ch.targets[f][e.run[i], e.track[i]])
            assert table[(int(e.run[i]), int(e.file_track[i]))] == names[obj + 1]
            checked += 1
    # the event rows of each salvo (fire, intercept, miss) carry them as columns, the fire row in its words too
    ev = event_columns(w, ch)
    salvo = np.isin(ev["kind"], ["fire", "intercept", "miss"])
    logged = np.isin(ev["kind"], ["hold", "no-fire"])
    firm = ev["kind"] == "track"  # a picture's first firm track of the threat: that track, in that picture
    assert firm.any() and (ev["track"][firm] >= 0).all() and (ev["picture"][firm] == ev["actor"][firm]).all()
    rest = ~salvo & ~logged & ~firm
    assert (ev["track"][rest] == -1).all() and set(ev["picture"][rest]) <= {""}
    # fire control's reasons are per track: each hold and no-fire row names the track it is of
    # (a threat's track, as the table labels it), but for a threat no track followed; a
    # judged-booster row names the threat's track that fire control never read (no column)
    d = ch.decisions
    assert d.file is not None and d.file_track is not None
    on = d.file_track >= 0
    judged = d.reason == REASONS.index("judged-booster")
    assert (d.track[on & ~judged] >= 0).all() and (d.track[judged] == -1).all()
    assert (d.file_track[(d.track < 0) & ~judged] == -1).all()
    assert set(REASONS[r] for r in d.reason[~on]) <= {"no-track", "judged-booster"}
    tables = {}
    for f in np.unique(d.file[on]):
        tf, mine = ch.files[f]
        rows = track_rows(tf, list(mine), [t.name for t in w.threats])
        tables[f] = {(int(r), int(k)): o for r, k, o in zip(rows["run"], rows["track"], rows["object"], strict=True)}
    for i in np.flatnonzero(on):  # the object the named file's track followed, as for the salvos
        obj = int(d.threat[i]) if judged[i] else int(ch.targets[d.file[i]][d.run[i], d.track[i]])
        assert tables[d.file[i]][(int(d.run[i]), int(d.file_track[i]))] == names[obj + 1]
    assert sorted(zip(ev["run"][logged].tolist(), ev["track"][logged].tolist(), strict=True)) == sorted(
        zip(d.run.tolist(), d.file_track.tolist(), strict=True))
    pairs = sorted(zip(ev["run"][salvo].tolist(), ev["track"][salvo].tolist(), ev["picture"][salvo].tolist(),
                       strict=True))
    mine = sorted((int(r), int(n), str(f)) for r, n, f in zip(e.run, e.file_track, e.file, strict=True))
    assert pairs == sorted(mine + mine)  # a fire row and an intercept or miss row per salvo
    fire = ev["kind"] == "fire"
    assert all(f", track {n} of {f};" in d
               for d, n, f in zip(ev["detail"][fire], ev["track"][fire], ev["picture"][fire], strict=True))
    return checked


def test_a_salvo_names_its_track_by_the_track_files_number(gnn):
    """Fire events name the track engaged by its number in the picture's track file, the
    number `shieldlab tracks --out` lists (a column of fire control's is per run, in order of
    confirmation: another number)."""
    w, _, ch = gnn
    assert set(ch.engagements.file) == {"nato-bmd"}
    assert _assert_fire_names_its_track_file_number(w, ch) == ch.engagements.run.size
    # the numbers are the file's, not the columns': they differ for most salvos here
    assert (ch.engagements.file_track != ch.engagements.track).any()


def test_rounds_at_boosters_and_false_tracks_are_said_apart_and_all_counted(gnn):
    """A threat's row counts the rounds at its booster among its interceptors and says how many;
    the rounds at false tracks are no threat's, and the event log's fire rows carry every
    round: the summary's interceptors fired are all of them."""
    from shieldlab.io import report, results
    from shieldlab.io.results import FALSE_TRACK
    from shieldlab.io.summary import summarise

    w, _, ch = gnn
    N = len(w.threats)
    e = ch.engagements
    at_booster = e.target >= N
    assert ch.outcomes.interceptors_at_booster.sum() == e.rounds[at_booster].sum() > 0
    np.testing.assert_array_less(ch.outcomes.interceptors_at_booster, ch.outcomes.interceptors + 1)
    oc, ev = results.outcome_columns(w, ch), results.event_columns(w, ch)
    fire = ev["kind"] == "fire"
    assert ev["rounds"][fire].sum() == e.rounds.sum() and (ev["rounds"][~fire] == 0).all()
    assert ev["rounds"][fire & (ev["threat"] == FALSE_TRACK)].sum() == e.rounds[e.target < 0].sum()
    C = ch.outcomes.interceptors.shape[0]
    s = summarise(w, oc, ev, C, 2)
    assert s["mean_interceptors_fired"] == pytest.approx(e.rounds.sum() / C)
    assert s["mean_interceptors_at_boosters"] == pytest.approx(e.rounds[at_booster].sum() / C)
    assert s["mean_interceptors_at_false_tracks"] == pytest.approx(e.rounds[e.target < 0].sum() / C)
    # the report's interceptors per run add up to the same
    false_fires = {k: v[fire & (ev["threat"] == FALSE_TRACK)] for k, v in ev.items()}
    _, fired = report.per_run(oc, C, false_fires)
    assert fired.sum() == e.rounds.sum()


def test_the_tracks_fire_control_read_came_from_reports_without_labels(gnn):
    w, _, ch = gnn
    tr = ch.tracks["nato-bmd"]
    tf, reps = ch.files["nato-bmd"]
    assert tr.x.shape[:2] == ch.targets["nato-bmd"].shape
    assert tr.x.shape[1] > len(w.threats)  # boosters and broken tracks have their own columns
    assert any((r.truth_id >= len(w.threats)).any() for r in reps)
    # decisions name threats only; threats no track followed get a no-track row
    d = ch.decisions
    assert ((d.threat >= 0) & (d.threat < len(w.threats))).all()


def test_a_run_is_the_same_whatever_its_chunk(gnn):
    w, flights, ch = gnn
    alone = chain.run_chunk(w, flights, 2, 1, np.random.SeedSequence(8))
    np.testing.assert_array_equal(alone.outcomes.intercepted[0], ch.outcomes.intercepted[2])
    np.testing.assert_array_equal(alone.outcomes.interceptors[0], ch.outcomes.interceptors[2])


def test_simulate_writes_track_file_quality(tmp_path):
    w = _world(tmp_path)
    r = simulate(w, runs=3, seed=4)
    q = r.track_quality
    assert set(q["system"]) == {"nato-bmd"}
    for key in ("track_breaks", "false_tracks_per_hour", "booster_tracks", "gospa_m"):
        assert key in q and len(q[key]) == 3
    assert (np.asarray(q["booster_tracks"]) >= 1).all()
    assert r.summary["track_quality"]["nato-bmd"]["booster_tracks"] >= 1
    fired = r.events["kind"] == "fire"
    assert fired.any() and set(r.events["threat"][fired]) <= {t.name for t in w.threats} | {"(false track)"}


def test_labels_stay_the_default():
    assert shieldlab.load_world(PRESET).scenario.tracking.association == "labels"


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory):
    w = _world(tmp_path_factory.mktemp("gnn2"), name="nato-russia-2011")
    flights = chain.fly_threats(w)
    return w, flights, chain.run_chunk(w, flights, 0, 4, np.random.SeedSequence(3))


def test_two_nodes_share_network_track_numbers(two_nodes):
    """nato-russia-2011 (two nodes, coordinated over links): each node's pictures are on
    common network track numbers, and a number's members from the two nodes follow one
    threat's complex (its warhead or its spent booster, a few hundred metres apart)."""
    w, _, ch = two_nodes
    N = len(w.threats)
    assert set(ch.tracks) == {"nato", "russia"} and set(ch.targets) == {"nato", "russia"}
    G = ch.tracks["nato"].x.shape[1]
    assert ch.tracks["russia"].x.shape[1] == G
    a, b = ch.targets["nato"], ch.targets["russia"]
    both = (a >= 0) & (b >= 0)
    assert both.sum() >= 4 * 5  # most threats were seen and numbered by both sides
    same_complex = (a[both] % N) == (b[both] % N)
    assert same_complex.mean() >= 0.9, same_complex.mean()
    # a node holds at most one of its tracks under a number: its columns map one to one
    held = {n: np.isfinite(ch.tracks[n].x).all(axis=-1).any(axis=-1) for n in ch.tracks}
    assert (held["nato"] | held["russia"]).any(axis=0).sum() > N


def test_two_nodes_engage_their_numbers_and_a_run_is_the_same_whatever_its_chunk(two_nodes):
    w, flights, ch = two_nodes
    e = ch.engagements
    assert e.run.size > 0 and e.track is not None
    systems = {w.batteries[i].system for i in np.unique(e.battery)}
    assert systems == {"nato", "russia"}
    # each salvo's track named in the file of a node that holds it: the battery's own node's
    # where that holds the number, else the node that confirmed it first (received over a link)
    assert _assert_fire_names_its_track_file_number(w, ch) == e.run.size
    # and no salvo is decided on a track its node's track file had ended: a received track
    # ends at the target when the source's drop arrives (it was flown on from a boost-phase
    # state for minutes, and engaged, before)
    from shieldlab.outcome.track_table import track_rows

    for f in np.unique(e.file):
        tf, mine = ch.files[f]
        rows = track_rows(tf, list(mine), [t.name for t in w.threats])
        ended = {(int(r), int(k)): x for r, k, x in zip(rows["run"], rows["track"], rows["ended_s"], strict=True)}
        for i in np.flatnonzero(e.file == f):
            assert e.decision_time[i] <= ended[(int(e.run[i]), int(e.file_track[i]))], (f, i)
    alone = chain.run_chunk(w, flights, 3, 1, np.random.SeedSequence(3))
    np.testing.assert_array_equal(alone.outcomes.intercepted[0], ch.outcomes.intercepted[3])
    np.testing.assert_array_equal(alone.outcomes.interceptors[0], ch.outcomes.interceptors[3])


def test_a_battery_does_not_engage_one_object_twice_through_two_tracks(two_nodes):
    """Two nodes' tracks of one missile under two network numbers, or a broad track beside an
    engaged one, were each engaged: a battery fired two salvos at one warhead a tick apart.  A
    track that is the same object by the track-to-track test (chi-square 6, 99.9 %) as one with
    a salvo at it, and no better, waits for that shot's look: no two salvos of a battery decided
    within a planning interval are at tracks that pass the test with the later one no better,
    and the log says `same-object` where it held one."""
    from shieldlab.c2.records import REASONS

    w, _, ch = two_nodes
    e = ch.engagements
    doc_interval = w.scenario.doctrine.planning_interval_s
    checked = 0
    for i in range(e.run.size):
        for j in range(i + 1, e.run.size):  # (salvos are listed as committed: j after i)
            if not (e.run[i] == e.run[j] and e.battery[i] == e.battery[j] and e.track[i] != e.track[j]
                    and 0 <= e.decision_time[j] - e.decision_time[i] <= doc_interval
                    and e.source[i] == e.source[j] and e.source[i][0] == "system"):
                continue
            pic = ch.pictures[e.source[i][1]]
            k = np.searchsorted(pic.t, e.decision_time[j], side="right") - 1
            c = e.run[i]
            xi, xj, Pi, Pj = pic.x[c, e.track[i], k], pic.x[c, e.track[j], k], pic.P[c, e.track[i], k], \
                pic.P[c, e.track[j], k]
            if not (np.isfinite(xi).all() and np.isfinite(xj).all()):
                continue
            d = xj - xi
            d2 = d @ np.linalg.solve(Pi + Pj, d)
            assert d2 > 22.4577 or np.trace(Pj[:3, :3]) < np.trace(Pi[:3, :3]), (i, j, d2)
            checked += 1
    assert checked > 0  # pairs of one battery's salvos a tick apart, at distinct objects (or better tracks)
    assert "same-object" in {REASONS[r] for r in ch.decisions.reason}


def test_gnn_summarises_its_settings(tmp_path):
    w = _world(tmp_path, extra="tracking: {association: gnn, delete_probability: 0.01}\nsensing: {false_alarms: 3}\n")
    r = simulate(w, runs=2, seed=1)
    assert r.summary["tracking"] == {"filter": "ekf", "init_hits": 3, "association": "gnn", "confirm_looks": 5,
                                     "confirm_sigma_v_ms": 300.0, "min_speed_ms": 300.0, "delete_probability": 0.01,
                                     "delete_sigma_km": 10.0,
                                     "gate_probability": 0.9999, "false_alarms": 3.0,
                                     "false_alarms_per_search_frame": {s.radar.name: 3.0 for s in w.sensors}}
    assert w.sensors
    assert "spent boosters" in r.summary["track_quality_method"]


def test_a_threat_fire_control_had_no_track_of_gets_a_row_per_battery(gnn):
    w, _, ch = gnn
    d = ch.decisions
    untracked = np.isin(d.reason, [REASONS.index("no-track"), REASONS.index("judged-booster")])
    assert untracked.any()  # seed 8, 4 runs: warheads whose confirmed tracks were judged boosters
    assert (d.battery[untracked] >= 0).all()
    for c, n in set(zip(d.run[untracked], d.threat[untracked])):
        rows = untracked & (d.run == c) & (d.threat == n)
        assert sorted(d.battery[rows]) == list(range(len(w.batteries)))


def test_judged_booster_rows_are_threats_whose_only_confirmed_tracks_were_called_boosters(gnn):
    from shieldlab.outcome.file_quality import judged_boosters, label_of
    from shieldlab.tracking.mtt import CONFIRMED

    w, _, ch = gnn
    N = len(w.threats)
    tf, reps = ch.files["nato-bmd"]
    # by hand: each confirmed (run, track number), its label, and whether it was ever judged a warhead
    confirmed: dict[tuple[int, int], bool] = {}
    for c, t, k in zip(*np.nonzero(tf.status == CONFIRMED)):
        key = (int(c), int(tf.track_id[c, t, k]))
        confirmed[key] = confirmed.get(key, False) or bool(tf.warhead[c, t, k])
    followed, called = np.zeros((4, N), bool), np.zeros((4, N), bool)
    keys = list(confirmed)
    labels = label_of(tf, list(reps), np.array([c for c, _ in keys]), np.array([t for _, t in keys]))
    label = dict(zip(keys, labels.tolist()))  # (one call: one per confirmed update took 40 s)
    for (c, tid), lab in label.items():
        if 0 <= lab < N:
            followed[c, lab] = True
            called[c, lab] |= confirmed[(c, tid)]
    np.testing.assert_array_equal(judged_boosters(tf, list(reps), N), followed & ~called)
    assert (followed & ~called).any()  # seed 8, 4 runs: two warheads tracked under a booster's call
    d = ch.decisions
    for reason, expect in (("judged-booster", True), ("no-track", False)):
        rows = d.reason == REASONS.index(reason)
        for c, n in zip(d.run[rows], d.threat[rows]):
            assert (followed & ~called)[c, n] == expect
    # a judged-booster row names the track fire control never read: the threat's first
    # confirmed track in the file (the earliest confirmed), never judged a warhead
    first: dict[tuple[int, int], tuple[int, int]] = {}
    for c, t, k in sorted(zip(*np.nonzero(tf.status == CONFIRMED)), key=lambda e: (e[2], tf.track_id[e])):
        tid = int(tf.track_id[c, t, k])
        first.setdefault((int(c), label[(int(c), tid)]), (int(k), tid))
    rows = np.flatnonzero(d.reason == REASONS.index("judged-booster"))
    assert rows.size
    for i in rows:
        c, n = int(d.run[i]), int(d.threat[i])
        assert d.file[i] == "nato-bmd" and d.file_track[i] == first[(c, n)][1]
        assert d.track[i] == -1  # (no fire-control column: fire control never read it)
        assert not confirmed[(c, int(d.file_track[i]))]


def test_a_threat_no_track_followed_is_no_track_and_one_called_a_booster_judged_booster():
    from shieldlab.c2.records import Decisions
    from shieldlab.engine.fight import _by_threat

    # 2 runs, 3 threats, 2 batteries; the fire-control tracks' objects: run 0 holds threat 0
    # and threat 1's booster, run 1 threat 2 and a false track
    targets = np.array([[0, 4, -2], [2, -1, -2]])
    called_off = np.zeros((2, 2, 3), bool)
    called_off[:, 0, 2] = True  # run 0's threat 2: a confirmed track, judged a booster
    called_off[1, 1, 0] = True  # run 1's threat 0: so on battery 1's sources only
    d = _by_threat(Decisions.empty(), targets, 3, 900.0, 2, called_off)
    got = {(int(c), int(n), int(b)): REASONS[r] for c, n, b, r in zip(d.run, d.threat, d.battery, d.reason)}
    assert got == {(0, 1, 0): "no-track", (0, 1, 1): "no-track", (0, 2, 0): "judged-booster",
                   (0, 2, 1): "judged-booster", (1, 0, 0): "no-track", (1, 0, 1): "judged-booster",
                   (1, 1, 0): "no-track", (1, 1, 1): "no-track"}
    assert (d.time == 900.0).all() and (d.kind == 1).all()


def test_validate_says_how_the_threats_will_be_tracked(tmp_path, capsys):
    from shieldlab.cli import main

    p = tmp_path / "gnn.yaml"
    _world(tmp_path)  # writes gnn.yaml
    assert main(["validate", str(p), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["tracking"]["association"] == "gnn" and info["tracking"]["false_alarms"] == "confirmed"
    assert set(info["false_alarms_per_search_frame"]) == {"kurecik-tpy2", "ship-spy1"}


def test_a_battery_on_its_own_radar_reads_that_radars_own_tracks(tmp_path):
    """patriot-turkey-2013 with de-1 on its own MPQ-65 (cue own): under gnn that radar's
    own track file, on the network's numbers, is what de-1 engages."""
    from importlib import resources

    text = (resources.files("shieldlab.scenario") / "presets" / "patriot-turkey-2013.yaml").read_text()
    old = "{name: de-1, interceptor: pac-3-mse, site: kahramanmaras-1, rounds: 16, system: nato-patriot}"
    assert old in text
    text = text.replace(old, old[:-1] + ", cue: own, radar: de-1-mpq65}")
    p = tmp_path / "own.yaml"
    p.write_text(text + "\ntracking: {association: gnn}\n")
    w = load_world(str(p))
    ch = chain.run_chunk(w, chain.fly_threats(w), 0, 4, np.random.SeedSequence(1))
    own, pic = ch.own_tracks["de-1-mpq65"], ch.tracks["nato-patriot"]
    assert own.x.shape[:2] == pic.x.shape[:2] == ch.targets["nato-patriot"].shape
    held = np.isfinite(own.x).all(axis=-1).any(axis=-1)
    assert held.any() and (held.sum(axis=1) < np.isfinite(pic.x).all(axis=-1).any(axis=-1).sum(axis=1)).all()
    e = ch.engagements
    de1 = e.battery == [b.name for b in w.batteries].index("de-1")
    assert de1.any()
    # de-1 fired only at numbers its own radar held
    assert held[e.run[de1], e.track[de1]].all()
    assert set(e.file[de1]) == {"radar de-1-mpq65"}  # the track file of its own radar
    # and is scored against what its radar's track followed (the warhead it engages under
    # labels), not the first member's object under that number (often the booster's)
    assert (e.target[de1] == 2).all()


@pytest.mark.parametrize("kf", ["ukf", "imm"])
def test_gnn_with_the_other_filters(tmp_path, kf):
    w = _world(tmp_path, extra=f"tracking: {{association: gnn, filter: {kf}}}\n")
    r = simulate(w, runs=2, seed=1)
    assert r.summary["tracking"]["filter"] == kf
    assert np.asarray(r.outcomes["interceptors_fired"]).sum() > 0
    assert np.isfinite(np.asarray(r.track_quality["gospa_m"], float)).all()



def test_a_threat_is_tracked_no_earlier_than_it_is_first_reported():
    """Two Scud-Bs at one Patriot under gnn: in run 1 (seed 1) a track started on the first
    Scud's spent booster at 103 s was confirmed at 109 s and took the warhead's reports from
    its first detection, 129 s, on; the outcome table said the threat was tracked 20 s before
    any sensor reported it.  It counts from the first time a firm track (confirmed, judged a
    warhead) takes one of the threat's reports, never before the threat's first report.
    (The Scud-B re-enters whole and leaves no booster: here a variant whose warhead separates.)"""
    rv = catalog.get_missile("scud-b").model_dump(mode="json", exclude_none=True)
    rv.update(id="scud-b-rv", name="Scud-B, separating warhead (test)", origin="test",
              reentry_vehicle={"mass_kg": 985.0, "diameter_m": 0.88, "drag": rv["drag"], "source": "test"})
    scn = {
        "name": "two-scuds", "epoch": "2013-06-01T00:00:00Z",
        "sites": {"radar-site": {"lat": 37.10, "lon": 37.35, "alt_m": 900}},
        "assets": [{"name": "gaziantep", "site": {"lat": 37.066, "lon": 37.383}, "radius_km": 15}],
        "sensors": [{"name": "mpq65", "type": "an-mpq-65", "site": "radar-site", "boresight_az_deg": 180,
                     "system": "turkey"}],
        "batteries": [{"name": "pac3", "interceptor": "pac-3-mse", "site": "radar-site", "rounds": 8,
                       "system": "turkey", "radar": "mpq65"}],
        "threats": [{"name": "scud-a", "missile": "scud-b-rv", "launch": {"lat": 35.0, "lon": 37.5},
                     "aim": "gaziantep"},
                    {"name": "scud-b2", "missile": "scud-b-rv", "launch": {"lat": 35.2, "lon": 36.9},
                     "aim": "gaziantep", "launch_time_s": 30}],
        "dispersion": {"thrust_pct": 0.1, "isp_pct": 0.1, "burn_time_pct": 0.1, "drag_pct": 3, "azimuth_mrad": 0.5},
        "sensing": {"false_alarms": 600},
        "tracking": {"association": "gnn"},
        "catalog": {"missiles": [rv]},
    }
    # (runs 0 and 1 alone: a run draws from its own streams, so run 1 is the case above whatever
    # the runs; eight took 12 s of the suite)
    res = simulate(shieldlab.load_world(scn), runs=2, seed=1)
    o, ev = res.outcomes, res.events
    for run, threat in zip(o["run"], o["threat"]):  # the event log's track and detect rows agree
        mine = (ev["run"] == run) & (ev["threat"] == threat)
        t_track, t_detect = ev["t_s"][mine & (ev["kind"] == "track")], ev["t_s"][mine & (ev["kind"] == "detect")]
        assert t_track.size == 0 or t_track.min() >= t_detect.min()
    tracked = np.isfinite(o["track_confirmed_s"])
    assert tracked.sum() >= 3
    assert (o["track_confirmed_s"][tracked] >= o["first_detection_s"][tracked]).all()
    assert (o["track_confirmed_s"][tracked] == o["first_detection_s"][tracked]).any()  # the case above


def test_the_run_table_and_report_say_how_many_rounds_went_at_boosters(tmp_path):
    """Where rounds went at spent boosters, the run table and the report say so per threat and
    per raid, and the track-quality tables show the track file's breaks and booster tracks."""
    from test_cli import cli

    _world(tmp_path)  # writes gnn.yaml
    r = cli("run", tmp_path / "gnn.yaml", "--runs", "4", "--seed", "8", "--out", tmp_path / "res", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "of them at its booster" in r.stdout and "of them at spent boosters" in r.stdout
    # (at 200 columns the wide table wraps its headers: "booster" over "tracks/run")
    assert "tracks/run" in r.stdout and "breaks/run" in r.stdout and "purity" in r.stdout
    page = (tmp_path / "res" / "report.html").read_text()
    assert "<th>of them at its booster</th>" in page and "<td>of them at spent boosters</td>" in page
    assert "<th>booster tracks per run</th>" in page and "<th>purity [%]</th>" in page
    assert "<th>missed objects</th>" in page and "<th>false or surplus tracks</th>" in page
    # the header's settings as a scenario writes them, each radar's false alarms as name value pairs
    assert "false_alarms_per_search_frame (kurecik-tpy2 0.000979, ship-spy1 9.51e-05)" in page
    assert "association gnn" in page and "{" not in page.split("tracking:", 1)[1].split("</p>", 1)[0]
    s = json.loads((tmp_path / "res" / "summary.json").read_text())
    assert s["mean_interceptors_at_boosters"] > 0


def test_raw_false_alarms_beyond_what_the_tracker_takes_name_the_setting(tmp_path, capsys):
    from shieldlab.cli import main
    from shieldlab.errors import InputError

    # AN/TPY-2's resolution cells at a Pfa of 1e-4 (a hundred times the catalogue's): ~98,000 raw
    # false alarms a frame; the memory they would need is not the cause to name
    radar = ("catalog:\n  sensors:\n    - {id: my-radar, name: My radar, origin: test, band: X, max_range_km: 1000,"
             " ref_rcs_m2: 0.01, az_fov_deg: 120, el_min_deg: 0.5, el_max_deg: 70, scan_period_s: 1,"
             " search_period_s: 5, sigma_range_m: 1.1, sigma_angle_mrad: 0.8, pfa: 1.0e-4, source: test}\n")
    _world(tmp_path, extra="tracking: {association: gnn}\nsensing: {false_alarms: raw}\n" + radar)
    text = (tmp_path / "gnn.yaml").read_text().replace("type: an-tpy-2", "type: my-radar")
    (tmp_path / "gnn.yaml").write_text(text)
    with pytest.raises(InputError, match=r"raw false alarms of radar kurecik-tpy2 would be 9\.\d+e\+04") as e:
        chain.preflight(load_world(str(tmp_path / "gnn.yaml")), 1)
    assert e.value.field == "sensing.false_alarms"
    # confirmed (cells x Pfa^2) is ~10 a frame: it runs
    chain.preflight(load_world(str(tmp_path / "gnn.yaml")), 1, false_alarms="confirmed")
    assert main(["tracks", str(tmp_path / "gnn.yaml"), "--runs", "1", "--false-alarms", "raw", "-q"]) == 2
    assert "--false-alarms" in capsys.readouterr().err


def test_a_track_row_says_when_an_earlier_track_followed_the_booster(gnn):
    """A threat detected at 75 s and first tracked firm at 97 s: the gap read unexplained in
    ``--explain``; the first track confirmed on it had followed its spent booster.  A ``track``
    row names that earlier track where there was one, as the tracks table lists it (its object
    the booster, confirmed before the firm track), and says nothing where there was none."""
    from shieldlab.io.results import event_columns
    from shieldlab.outcome.track_table import chunk_columns

    w, _, ch = gnn
    ev = event_columns(w, ch)
    tracks = chunk_columns(w, ch)
    names = [t.name for t in w.threats]
    said = [(int(r), str(th), str(a), float(t), str(d)) for r, th, k, a, t, d in
            zip(ev["run"], ev["threat"], ev["kind"], ev["actor"], ev["t_s"], ev["detail"], strict=True)
            if k == "track"]
    told = [x for x in said if x[4]]
    assert told, "no threat of epaa-phase-1 under gnn had a booster track before its firm one"
    assert any(not x[4] for x in said) or len(said) == len(told)
    for run, threat, picture, t_firm, detail in told:
        m = re.fullmatch(r"earlier, track (\d+) \(confirmed at ([\d.]+) s\) followed its spent booster", detail)
        assert m, detail
        k, t_b = int(m.group(1)), float(m.group(2))
        assert t_b < t_firm
        row = [i for i in range(tracks["run"].size) if tracks["run"][i] == run and tracks["track"][i] == k
               and tracks["picture"][i] == picture]
        assert len(row) == 1, (run, picture, k)
        assert tracks["object"][row[0]] == f"booster of {threat}" and threat in names
        assert tracks["confirmed_s"][row[0]] == pytest.approx(t_b, abs=0.05)


def test_a_filter_without_a_place_in_the_multi_target_tracker_is_refused_at_load(monkeypatch, tmp_path):
    """A filter the schema knows but the multi-target tracker does not run yet (a new one, as
    docs/architecture.md adds) is a scenario problem at tracking.filter under association
    gnn, not the tracker's ValueError mid-run; under labels it loads."""
    from shieldlab.tracking import mtt

    monkeypatch.setattr(mtt, "FILTERS", ("ekf", "ukf"))
    with pytest.raises(InputError) as e:
        _world(tmp_path, "tracking: {association: gnn, filter: imm}\n")
    assert "tracking.filter" in str(e.value) and "runs ekf, ukf" in str(e.value)
    w = _world(tmp_path, "tracking: {association: labels, filter: imm}\n")
    assert w.scenario.tracking.filter == "imm"
    from shieldlab.engine import tracks

    with pytest.raises(InputError, match="tracking.filter"):  # the tracks command's tracker says so too
        tracks.management(w)


def test_tracks_refuses_a_filter_the_multi_target_tracker_lacks_before_compiling(monkeypatch, capsys):
    """A filter the labelled tracker runs but the multi-target tracker has no place for yet was
    refused by ``shieldlab tracks`` only after its compile note, without the scenario named."""
    from shieldlab.cli import main
    from shieldlab.tracking import mtt

    monkeypatch.setattr(mtt, "unsupported_filter", lambda name: "no place yet" if name == "ukf" else None)
    assert main(["tracks", "epaa-phase-1", "--runs", "1", "--set", "tracking.filter=ukf"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "epaa-phase-1" in err and "tracking.filter: no place yet" in err and "compiling" not in err
