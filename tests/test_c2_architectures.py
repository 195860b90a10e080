"""The C2 stage: fire control on tracks only, the look through the sensors, and the four architectures."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import shapely
import yaml

from shieldlab import load_world, simulate
from shieldlab.analysis.compare import compare
from shieldlab.c2.records import REASONS
from shieldlab.engine.chain import preflight, run_chunk
from shieldlab.scenario.compile import compile_world
from shieldlab.scenario.loader import parse
from shieldlab.stats import wilson_interval

#: Two national nodes side by side, each a Patriot battery with its own radar, both
#: defending one city against a salvo of Scuds: the case where sharing matters.
TWO_NODES = """
name: two-nodes
epoch: 2013-03-01T00:00:00Z
architecture: {arch}
sites:
  east: {{lat: 37.05, lon: 37.35}}
  west: {{lat: 37.10, lon: 37.30}}
  hama: {{lat: 35.13, lon: 36.75}}
sensors:
  - {{name: a-radar, type: an-mpq-65, site: east, boresight_az_deg: 190, system: a}}
  - {{name: b-radar, type: an-mpq-65, site: west, boresight_az_deg: 190, system: b}}
batteries:
  - {{name: a-1, interceptor: pac-3-mse, site: east, rounds: 16, system: a}}
  - {{name: b-1, interceptor: pac-3-mse, site: west, rounds: 16, system: b}}
nodes:
  - {{name: a, side: A, sector: {sector_a}}}
  - {{name: b, side: B, sector: {sector_b}}}
links:
  - {{from: a, to: b, latency_s: 0.0, update_period_s: 2.0}}
assets:
  - {{name: gaziantep, site: {{lat: 37.07, lon: 37.38}}, radius_km: 10}}
threats:
  - {{name: scud, missile: scud-b, launch: hama, aim: gaziantep, count: 3, spacing_s: 20}}
doctrine: {{salvo: 1, shoot_look_shoot: true, max_engagements: 2, look_time_s: 3, planning_interval_s: 2}}
"""
FAR_AWAY = "[[60.0, 10.0], [60.0, 12.0], [62.0, 12.0], [62.0, 10.0]]"
SAME = "[[36.0, 36.0], [36.0, 38.0], [38.0, 38.0], [38.0, 36.0]]"


def _world(arch: str, sector_b: str = SAME, sector_a: str = SAME):
    scn = parse(yaml.safe_load(TWO_NODES.format(arch=arch, sector_a=sector_a, sector_b=sector_b)), "two-nodes")
    return compile_world(scn, source="two-nodes")


def _chunk(world, runs=8, seed=3):
    flights = preflight(world, runs)
    return run_chunk(world, flights, 0, runs, np.random.SeedSequence(seed))


def test_independent_nodes_double_shoot_and_coordinated_ones_do_not():
    """Two nodes that cannot hear each other both fire at every Scud; told of each other's
    engagements (a lossless link), the second node leaves the threat to the first."""
    ind = _chunk(_world("independent"))
    coo = _chunk(_world("coordinated"))

    def first_salvos(ch):
        return np.bincount(ch.engagements.run * 3 + ch.engagements.threat, minlength=24)

    # independent: both batteries fire at (nearly) every threat
    n_ind = first_salvos(ind)
    assert (n_ind >= 2).mean() > 0.8, n_ind
    assert set(np.unique(ind.engagements.battery)) == {0, 1}
    # two salvos may meet one threat; only the first to kill it is credited, the later finds it gone
    for ch in (ind, coo):
        e = ch.engagements
        kills = np.bincount(e.run[e.killed] * 3 + e.threat[e.killed], minlength=24)
        assert kills.max() <= 1
        late = np.isinf(e.reach_shortfall) & ~e.killed
        first_kill = {(r, t): ti for r, t, ti, k in zip(e.run, e.threat, e.intercept_time, e.killed) if k}
        for r, t, ti in zip(e.run[e.killed], e.threat[e.killed], e.intercept_time[e.killed]):
            assert ch.outcomes.intercept_time[r, t] == ti
        assert late.sum() >= 0 and all(ti >= first_kill.get((r, t), -np.inf)
                                       for r, t, ti in zip(e.run[late], e.threat[late], e.intercept_time[late]))
    # coordinated: node b hears of a's engagements; the shots per threat fall
    assert coo.engagements.rounds.sum() < 0.75 * ind.engagements.rounds.sum()
    # and b's decision log says why it stood back
    code = REASONS.index("engaged-elsewhere")
    assert ((coo.decisions.reason == code).any()
            or (coo.engagements.battery == 1).sum() < (ind.engagements.battery == 1).sum())
    # the pictures: independent nodes read their own tracks, coordinated ones a fused picture
    assert ind.pictures["a"] is ind.tracks["a"]
    assert coo.pictures["b"] is not coo.tracks["b"]


def test_sectoral_node_leaves_threats_outside_its_sector():
    ch = _chunk(_world("sectoral", FAR_AWAY))
    assert (ch.engagements.battery == 1).sum() == 0  # b's sector lies in Norway
    b_rows = (ch.decisions.battery == 1) & (ch.decisions.kind == 1)
    assert b_rows.any()
    assert (ch.decisions.reason[b_rows] == REASONS.index("outside-sector")).all()
    assert (ch.engagements.battery == 0).sum() > 0  # a still fights in its own sector


def test_between_sectors_counts_threats_no_sector_claims():
    w = _world("sectoral", FAR_AWAY, sector_a="[[-10.0, -10.0], [-10.0, -8.0], [-8.0, -8.0], [-8.0, -10.0]]")
    (res,) = compare(w, ["sectoral"], runs=4, seed=1)
    assert res.between_sectors[0] == pytest.approx(3.0)  # all three Scuds, in every raid
    assert res.interceptors[0] == 0.0


def test_one_node_scenarios_are_the_same_under_every_architecture():
    w = load_world("patriot-turkey-2013")
    res = compare(w, ["independent", "coordinated", "integrated"], runs=4, seed=2)
    assert len({r.leakers for r in res}) == 1
    assert len({r.interceptors for r in res}) == 1


def test_compare_counts_the_assets_hit_as_the_run_does():
    """compare's assets hit and value lost per raid (it showed leakers only, which counts a
    threat fire control rightly judged harmless): the same as run's summary of that C2."""
    from shieldlab.scenario import load

    scn = load("epaa-phase-2")
    w = load_world(scn.model_copy(update={"assets": [a.model_copy(update={"value": 3.0}) if i == 0 else a
                                                     for i, a in enumerate(scn.assets)]}))
    assert w.assets[0].value == 3.0
    (res,) = compare(w, ["integrated"], runs=6, seed=3)
    s = simulate(w, runs=6, seed=3).summary
    assert res.assets_hit[0] == pytest.approx(s["mean_assets_hit"]) and res.value_lost[0] == pytest.approx(
        s["mean_value_lost"])
    assert res.value_lost[0] > res.assets_hit[0]  # athens, worth 3, is among the assets hit
    assert res.as_dict()["assets_hit_per_raid"]["mean"] == pytest.approx(s["mean_assets_hit"], abs=1e-4)
    # the probabilities carry run's Wilson intervals too (compare printed a bare P(no leaker))
    assert res.p_no_leaker == pytest.approx(s["p_no_leaker"], abs=1e-6)  # the summary's, to 6 decimals
    assert res.p_no_leaker_ci95 == pytest.approx(tuple(s["p_no_leaker_ci95"]), abs=1e-6)
    d = res.as_dict()
    assert d["p_no_leaker_ci95"] == pytest.approx(list(s["p_no_leaker_ci95"]), abs=1e-4)
    for name, p in d["p_leak"].items():
        lo, hi = d["p_leak_ci95"][name]
        assert lo <= p <= hi and (lo, hi) == pytest.approx(wilson_interval(round(p * 6), 6), abs=1e-4)


def test_the_leakers_interval_stays_within_the_raid():
    """Two runs of a raid of eight threats, 5 and 6 leakers: the Student t interval
    (5.5 +- 6.4, t = 12.7 with one degree of freedom) is cut to what a raid can leak, 0 to 8,
    as run's is."""
    w = load_world("nato-russia-2011")
    (res,) = compare(w, ["independent"], runs=2, seed=3)
    mean, lo, hi = res.leakers
    assert mean == 5.5  # the two runs differ, or the interval is another (the exact one of alike runs)
    assert (lo, hi) == (0.0, len(w.threats))  # the uncut interval reaches past both ends here


def test_compare_runs_on_tracks_of_reports_without_labels():
    """Under ``tracking.association: gnn`` each node's picture is tracks of its own (columns
    (C, T), not threats): compare crashed unioning a side's nodes' tracks with a traceback.
    It now tells each track by the threat behind it as its node reads it, received tracks
    included: NATO's coordinated picture, which receives Russia's tracks, holds a track of
    every threat Russia detected, where its own radars alone (independent) miss some (the
    table first counted a node's own tracks only, and the two architectures came out equal)."""
    from shieldlab.scenario import load

    scn = load("nato-russia-2011")
    w = load_world(scn.model_copy(update={"tracking": scn.tracking.model_copy(update={"association": "gnn"})}))
    ind, coo = compare(w, ["independent", "coordinated"], runs=2, seed=1)
    for r in (ind, coo):
        assert set(r.track_share) == {"NATO sees Russia", "Russia sees NATO"}
        assert all(0.0 < v <= 1.0 for v in r.track_share.values()), r.track_share
    assert all(coo.track_share[k] >= ind.track_share[k] for k in ind.track_share)
    assert ind.track_share["NATO sees Russia"] < 1.0 == coo.track_share["NATO sees Russia"]


def test_shoot_look_shoot_looks_through_the_sensors():
    """A second salvo at a threat follows a detection after the first salvo's planned
    intercept; a destroyed threat is never shot at again; survivors not seen again are
    logged as judged destroyed."""
    w = load_world("epaa-phase-2")
    ch = _chunk(w, runs=32, seed=5)
    e = ch.engagements
    tr = ch.tracks[next(iter(ch.tracks))]
    seconds = 0
    for c, n in set(zip(e.run.tolist(), e.threat.tolist())):
        m = np.flatnonzero((e.run == c) & (e.threat == n))
        m = m[np.argsort(e.decision_time[m])]
        for i, j in zip(m[:-1], m[1:]):
            assert not e.killed[i], "a destroyed threat was shot at again"
            k0 = np.searchsorted(tr.t, e.intercept_time[i], side="right") - 1
            k1 = np.searchsorted(tr.t, e.decision_time[j], side="right") - 1
            assert tr.n_hits[c, n, k1] > tr.n_hits[c, n, k0], "re-engaged without a new detection"
            seconds += 1
    assert seconds > 0  # the test saw re-engagements
    codes = set(ch.decisions.reason[ch.decisions.kind == 1].tolist())
    assert codes <= set(range(len(REASONS)))


def test_fire_control_never_receives_the_truth():
    """Fire control's constructor and decide() take tracks only: the truth stays in the engine."""
    import inspect

    from shieldlab.c2.firecontrol import FireControl

    params = set(inspect.signature(FireControl.__init__).parameters) | set(
        inspect.signature(FireControl.decide).parameters)
    assert not params & {"truth", "trajectories", "alive", "killed"}


def test_sector_polygons_are_in_radians_lon_lat():
    w = _world("sectoral")
    poly = w.nodes[0].sector
    assert poly.contains(shapely.Point(np.radians(37.0), np.radians(37.0)))
    assert not poly.contains(shapely.Point(37.0, 37.0))


RANKING = """
name: ranking
epoch: 2013-03-01T00:00:00Z
sites:
  east: {{lat: 37.05, lon: 37.35}}
  hama: {{lat: 35.13, lon: 36.75}}
sensors:
  - {{name: radar, type: an-mpq-65, site: east, boresight_az_deg: 190}}
batteries:
  - {{name: one-round, interceptor: pac-3-mse, site: east, rounds: 1}}
assets:
  - {{name: city, site: {{lat: 37.07, lon: 37.38}}, radius_km: 5, value: {city}}}
  - {{name: depot, site: {{lat: 36.90, lon: 37.20}}, radius_km: 5, value: {depot}}}
threats:
  - {{name: at-city, missile: scud-b, launch: hama, aim: city}}
  - {{name: at-depot, missile: scud-b, launch: hama, aim: depot}}
doctrine: {{salvo: 1, shoot_look_shoot: false, planning_interval_s: 2}}
"""


@pytest.mark.parametrize("city, depot, served", [(10.0, 1.0, 0), (1.0, 10.0, 1)])
def test_the_last_round_goes_to_the_threat_with_most_value_at_stake(city, depot, served):
    scn = parse(yaml.safe_load(RANKING.format(city=city, depot=depot)), "ranking")
    ch = _chunk(compile_world(scn, source="ranking"), runs=4, seed=1)
    e = ch.engagements
    assert e.run.size == 4  # one round per run
    assert (e.threat == served).all()


def test_the_summary_says_which_c2_ran():
    from shieldlab.engine.montecarlo import simulate

    res = simulate(_world("independent"), runs=2, seed=1)
    assert res.summary["architecture"] == "independent"
    assert res.summary["nodes"] == ["a", "b"]


#: A forward radar and a long-reach battery (node usfk) kill a Scud-C salvo early; the city's
#: Patriot (node rok), linked to it, sees the threats only minutes later with its own radar.
FORWARD_AND_POINT = """
name: forward-and-point
epoch: 2024-05-01T03:00:00Z
architecture: {arch}
sites:
  seongju: {{lat: 35.94, lon: 128.16, alt_m: 680}}
  daegu-pat: {{lat: 35.90, lon: 128.65, alt_m: 50}}
  pad: {{lat: 39.10, lon: 125.90}}
sensors:
  - {{name: tpy2, type: an-tpy-2, site: seongju, boresight_az_deg: 330, elevation_mask_deg: 0.5, system: usfk}}
  - {{name: mpq65, type: an-mpq-65, site: daegu-pat, boresight_az_deg: 320, system: rok}}
batteries:
  - {{name: thaad, interceptor: thaad, site: seongju, rounds: 8, system: usfk, radar: tpy2}}
  - {{name: pac3, interceptor: pac-3-mse, site: daegu-pat, rounds: 12, system: rok, radar: mpq65}}
assets:
  - {{name: daegu, site: {{lat: 35.87, lon: 128.60}}, radius_km: 15, value: 3}}
  - {{name: base, site: seongju, radius_km: 5}}
threats:
  - {{name: scud, missile: scud-c, launch: pad, aim: daegu, count: 3, spacing_s: 30}}
  - {{name: scud-base, missile: scud-c, launch: pad, aim: base, launch_time_s: 60}}
doctrine: {{engage: threatening, salvo: 1, shoot_look_shoot: true}}
links:
  - {{from: usfk, to: rok, two_way: true, latency_s: 2, update_period_s: 4}}
"""


def test_a_node_told_of_a_kill_does_not_fire_at_the_stale_track():
    """Told of the other node's engagement, a node left the threat alone until that
    engagement's look and then planned on its picture's last update before the kill, the
    track a destroyed threat leaves: 23 of 62 salvos launched after their threat was
    destroyed.  It now looks first, as after its own shot: no detection since that intercept,
    and the threat is judged destroyed."""
    def chunk(arch):
        scn = parse(yaml.safe_load(FORWARD_AND_POINT.format(arch=arch)), "forward-and-point")
        return _chunk(compile_world(scn, source="forward-and-point"))

    coo, ind = chunk("coordinated"), chunk("independent")
    for ch in (coo, ind):
        e = ch.engagements
        assert e.run.size > 10
    e = coo.engagements
    assert not (e.launch_time > coo.outcomes.intercept_time[e.run, e.threat]).any()
    assert coo.engagements.rounds.sum() < ind.engagements.rounds.sum()



def test_a_node_told_nothing_drops_a_destroyed_threats_track_at_its_silent_looks():
    """An independent node, told nothing of the other's kill, planned on the track the
    destroyed threat left, frozen at its last report, for as long as the threat would have
    flown: a PAC-3 salvo was decided 36 s after THAAD's kill.  Its view now drops that track
    when the looks that would have found the threat (5 for a long-held track) came back
    silent, as the tracker's deletion rule would: what is still fired after a kill is fired
    within a few looks of it, before the radars could tell."""
    scn = parse(yaml.safe_load(FORWARD_AND_POINT.format(arch="independent")), "forward-and-point")
    ch = _chunk(compile_world(scn, source="forward-and-point"))
    e, o = ch.engagements, ch.outcomes
    assert e.run.size > 10
    gone = np.where(o.intercepted[e.run, e.threat], o.intercept_time[e.run, e.threat], np.inf)
    late = e.launch_time > gone
    assert late.any()  # the case exists: salvos decided before the node could tell
    assert (e.decision_time[late] - gone[late]).max() < 10.0

def test_nothing_is_detected_or_tracked_after_its_destruction():
    """The sensors and trackers run on the whole flights before the fight: the event log
    showed a Patriot radar's first detection (and its system's track) of a Scud 73 s after
    THAAD destroyed it.  The log, the outcome table and the track quality now end at the kill."""
    from shieldlab.io.results import event_columns, outcome_columns
    from shieldlab.outcome.track_quality import evaluate

    world = compile_world(parse(yaml.safe_load(FORWARD_AND_POINT.format(arch="independent")), "fp"), source="fp")
    ch = _chunk(world)
    o = ch.outcomes
    gone = np.where(o.intercepted, o.intercept_time, np.inf)
    # the case exists: the point radar's own first report comes after THAAD's kill
    late = [np.where(d.detected, d.t, np.inf).min(axis=-1) > gone for d in ch.detections]
    assert any((x & o.intercepted).any() for x in late)
    ev = event_columns(world, ch)
    seen = np.isin(ev["kind"], ["detect", "track"])
    names = [t.name for t in world.threats]
    n = np.array([names.index(t) for t in ev["threat"][seen]])
    assert seen.sum() > 8 and (ev["t_s"][seen] <= gone[ev["run"][seen], n]).all()
    oc = outcome_columns(world, ch)
    for col in ("first_detection_s", "track_confirmed_s"):
        v = oc[col].reshape(o.intercepted.shape)
        assert not (np.isfinite(v) & (v > gone)).any()
    launch = np.broadcast_to(ch.truth.launch_time, gone.shape)
    late_tracks = 0
    for tr in ch.tracks.values():
        q = evaluate(tr, ch.truth, o.intercept_time)
        firm = q.time_to_firm_track_s
        assert not (np.isfinite(firm) & (firm > gone - launch)).any()
        late_tracks += int((tr.confirm_time > gone).sum())
    assert late_tracks > 0  # (and there were such confirmations to drop)


class _Hits:
    """A track source for the look: one threat's detections at ``det`` [s], none after ``end``."""

    def __init__(self, det, end):
        self.det, self.end = np.array(det, float), end

    def hits(self, key, c, n, t):
        t = np.minimum(np.broadcast_to(np.asarray(t, float), np.shape(c)), self.end)
        return np.array([(self.det <= tt).sum() for tt in t])


def _bare_fire_control(view):
    from types import SimpleNamespace

    from shieldlab.c2.firecontrol import FireControl

    fc = object.__new__(FireControl)
    fc._foreign, fc.view, fc.plan = {}, view, [("system", "b")]
    fc.assessed_at, fc.last_look = np.full((1, 1), np.nan), np.full((1, 1), np.nan)
    fc.next_check, fc.reason = np.zeros((1, 1)), np.zeros((1, 1, 1), np.int8)
    fc.doc, fc.sector = SimpleNamespace(planning_interval=4.0), None
    return fc


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_the_look_after_other_nodes_engagements_reads_the_last_intercept(order):
    """Two engagements heard of: A's (intercept 240 s, look over at 300 s) and C's (intercept
    250 s, which destroys the threat; look over at 260 s).  The threat was seen at 244 and
    248 s (it survived A's shot) and never after 250 s: at 304 s the node judges it destroyed,
    in whichever order it heard of them (a node that kept one record per threat, the one
    with the later look, read A's 240 s and planned on the stale track)."""
    fc = _bare_fire_control(_Hits([10, 50, 100, 200, 244, 248], end=250.0))
    heard = [(100.0, 300.0, 240.0), (110.0, 260.0, 250.0)]
    for i in order:
        fc.learn(0, 0, *heard[i])
    due = np.ones((1, 1), bool)
    assert not fc._deconflict(due, 290.0)[0, 0]  # A's look is not over: left to it
    assert not fc._deconflict(due, 304.0)[0, 0] and fc.assessed_at[0, 0] == 304.0
    # a report not heard of yet changes nothing; once seen again, the threat is planned
    fc = _bare_fire_control(_Hits([10, 244, 248, 320], end=np.inf))
    fc.learn(0, 0, 100.0, 260.0, 250.0)
    fc.learn(0, 0, 400.0, 500.0, 450.0)
    assert not fc._deconflict(due, 304.0)[0, 0]  # no detection since 250 s: judged destroyed
    assert fc._deconflict(due, 324.0)[0, 0] and np.isnan(fc.assessed_at[0, 0])  # seen at 320 s


def test_the_decision_log_names_a_threat_judged_destroyed_after_another_nodes_shot():
    """Left to another node's engagement and judged destroyed at the look after it (no
    detection since that intercept), a threat that in truth survived gets the no-fire row
    ``assessed-killed`` at the look's time, not ``engaged-elsewhere``; one seen again after the
    intercept is planned again (its row is then the planner's, here not yet set), not judged."""
    from types import SimpleNamespace

    from shieldlab.c2.records import REASONS

    def log(det):
        fc = _bare_fire_control(_Hits(det, end=np.inf))
        fc.n_eng, fc.doc.max_engagements = np.zeros((1, 1), int), 2
        fc.bats, fc.holds, fc.index, fc.t_end = [SimpleNamespace(salvo=1)], [], np.array([0]), 900.0
        fc.learn(0, 0, 100.0, 260.0, 250.0)
        due = np.ones((1, 1), bool)
        assert not fc._deconflict(due, 200.0)[0, 0]  # the other node's look is not over
        assert REASONS[fc.reason[0, 0, 0]] == "engaged-elsewhere"
        planned = bool(fc._deconflict(due, 290.0)[0, 0])
        d = fc.decisions(np.ones((1, 1), bool))
        return planned, [(REASONS[r], t) for r, t in zip(d.reason, d.time, strict=True)]

    planned, rows = log([10, 50, 244])  # last seen before the intercept at 250 s
    assert not planned and rows == [("assessed-killed", 290.0)]
    planned, rows = log([10, 50, 244, 270])  # seen again at 270 s: it survived, and is planned
    assert planned and rows == [("engaged-elsewhere", 290.0)]


THAAD_PAC3 = """
name: two-nodes
epoch: 2013-03-01T00:00:00Z
sites:
  kurecik: {lat: 38.35, lon: 37.79, alt_m: 2085}
  adana-airport: {lat: 36.98, lon: 35.28}
  incirlik: {lat: 37.00, lon: 35.43}
  damascus-north: {lat: 33.70, lon: 36.40}
sensors:
  - {name: tpy2, type: an-tpy-2, site: kurecik, boresight_az_deg: 210, system: us}
  - {name: mpq65, type: an-mpq-65, site: adana-airport, boresight_az_deg: 150, system: tr}
batteries:
  - {name: thaad, interceptor: thaad, site: incirlik, rounds: 8, system: us}
  - {name: pac3, interceptor: pac-3-mse, site: adana-airport, rounds: 16, system: tr}
nodes:
  - {name: us, site: incirlik}
  - {name: tr, site: adana-airport}
links:
  - {from: us, to: tr, latency_s: 2, update_period_s: 4}
architecture: coordinated
assets:
  - {name: adana, site: {lat: 37.00, lon: 35.32}, radius_km: 12}
threats:
  - {name: scud-c-adana, missile: scud-c, launch: damascus-north, aim: adana, count: 4, spacing_s: 20}
doctrine: {salvo: 1, reserve: 4}
"""


@pytest.mark.parametrize("arch", ["coordinated", "independent"])
def test_two_nodes_draw_their_kills_apart(arch):
    """A THAAD node and a PAC-3 node (Pk 0.8) at one Scud: each node's first engagement of a
    threat drew the same kill draw, so a PAC-3 shot after THAAD's failed draw failed too (28
    of 28).  Now PAC-3 kills after a THAAD draw-miss as often
    as its Pk says (to a wide binomial margin).  The k-th salvo at a threat, whichever node
    fires it, draws the k-th draw: a single node's draws, and nodes' that never share a
    threat, are as before."""
    raw = yaml.safe_load(THAAD_PAC3)
    raw["architecture"] = arch
    w = compile_world(parse(raw, "two"), "two")
    ev = simulate(w, runs=40, seed=1).events
    by = {}
    for run, threat, kind, actor, detail, t in zip(ev["run"], ev["threat"], ev["kind"], ev["actor"], ev["detail"],
                                                   ev["t_s"]):
        if kind in ("intercept", "miss"):
            by.setdefault((run, threat), []).append((t, actor, kind, detail))
    after = [k for shots in by.values() for i, (_, actor, k, _) in enumerate(sorted(shots))
             if actor == "pac3" and any(a == "thaad" and "kill draw failed" in d for _, a, _, d in sorted(shots)[:i])]
    assert len(after) >= 8
    assert sum(k == "intercept" for k in after) >= 0.5 * len(after)


def test_a_nodes_track_quality_is_that_of_the_picture_it_fires_on():
    """The PAC-3 node's radar faces away (north): coordinated, it fires on the tracks its link
    brings, yet the track-quality table scored its own tracker alone (no threat tracked).  It
    scores the node's picture, relayed tracks fused in; independent, still nothing."""
    raw = yaml.safe_load(THAAD_PAC3)
    raw["sensors"][1]["boresight_az_deg"] = 330
    out = {}
    for arch in ("coordinated", "independent"):
        raw["architecture"] = arch
        res = simulate(compile_world(parse(raw, "two"), "two"), runs=4, seed=1)
        tq = res.track_quality
        tr = tq["system"] == "tr"
        fired = (res.events["kind"] == "fire") & (res.events["actor"] == "pac3")
        out[arch] = (int(tq["threats_tracked"][tr].sum()), int(fired.sum()))
    assert out["independent"] == (0, 0)
    assert out["coordinated"][0] > 0 and out["coordinated"][1] > 0


#: An Aegis ship (node west) and a radar far north that sees nothing (node east), linked: a
#: Sejjil-2 at Athens is first seen by the ship some 300 s after launch, long after burnout.
SHIP_AND_NORTH = """
name: ship-and-north
epoch: 2011-09-01T00:00:00Z
architecture: {arch}
sites:
  aegis-ship: {{lat: 36.20, lon: 27.60}}
  tabriz: {{lat: 38.08, lon: 46.29, alt_m: 1350}}
  far-north: {{lat: 69.0, lon: 20.0}}
sensors:
  - {{name: ship-spy1, type: an-spy-1d, site: aegis-ship, boresight_az_deg: 60, system: west}}
  - {{name: north-tpy2, type: an-tpy-2, site: far-north, boresight_az_deg: 0, system: east}}
batteries:
  - {{name: ship-sm3, interceptor: sm-3-block-ia, site: aegis-ship, rounds: 8, system: west}}
nodes:
  - {{name: west}}
  - {{name: east}}
links:
  - {{from: east, to: west, latency_s: 5, update_period_s: 12}}
assets:
  - {{name: athens, site: {{lat: 37.98, lon: 23.73}}, radius_km: 25}}
threats:
  - {{name: sejjil-athens, missile: sejjil-2, launch: tabriz, aim: athens}}
"""


def test_a_shared_picture_keeps_the_tentative_history_its_thrust_test_reads():
    """A node whose linked neighbour sees nothing fires as one C2 over both would: same track,
    same decisions.  Its fused picture had started each threat at the track's confirmation, so
    fire control's thrust test found no detection 8 s before the first firm state, judged the
    new track too young to be ballistic and held fire to a boost path's last chance (run 0:
    decided at 316 s coordinated, 368 s integrated, 300 s after launch, long after burnout);
    the picture now carries the node's own tentative states, unconfirmed."""
    runs = 4
    fired = {}
    for arch in ("coordinated", "integrated"):
        w = compile_world(parse(yaml.safe_load(SHIP_AND_NORTH.format(arch=arch)), "ship-and-north"))
        ch = run_chunk(w, preflight(w, runs), 0, runs, np.random.SeedSequence(1))
        e = ch.engagements
        fired[arch] = sorted(zip(e.run.tolist(), e.decision_time.tolist(), e.launch_time.tolist()))
        if arch == "coordinated":
            pic, own = ch.pictures["west"], ch.tracks["west"]
            held = np.isfinite(pic.x).all(axis=-1)
            assert (held & ~pic.confirmed).any()  # the tentative history, unconfirmed
            first = np.searchsorted(pic.t, own.confirm_time - 1e-9).clip(max=pic.t.size - 1)
            np.testing.assert_array_equal(pic.confirm_time, np.where(np.isfinite(own.confirm_time), pic.t[first],
                                                                     np.inf))
            assert (ch.decisions.reason != REASONS.index("held-last-chance")).all()
    assert len(fired["coordinated"]) == runs and fired["coordinated"] == fired["integrated"]


def test_a_hold_on_a_boost_track_does_not_outlive_a_threat_judged_harmless():
    """nato-russia-2011, run 14 of seed 2: the Black Sea ship holds fire to its last chance on
    the first Bucharest Sejjil-2's boost track, and after burnout judges it no threat to the
    city; it comes down outside Bucharest's radius.  The log's last word was the hold
    (held-last-chance, sticky as a blocking reason); it is why the battery did not fire:
    not-threatening.  (Run 3 of seed 1, Sofia's, showed it until the fused picture predicted
    its sources with their own process noise; the ship now fires there.)"""
    from shieldlab.engine.chain import replay_run

    w = load_world("nato-russia-2011")
    ch = replay_run(w, preflight(w, 4), 2, 14)
    n = [t.name for t in w.threats].index("sejjil-bucharest#1")
    b = [bt.name for bt in w.batteries].index("black-sea-sm3")
    d = ch.decisions
    mine = (d.threat == n) & (d.battery == b)
    holds = d.reason[mine & (d.kind == 0)]
    last = d.reason[mine & (d.kind == 1)]
    assert (holds == REASONS.index("held-last-chance")).any()  # it held during boost ...
    assert list(last) == [REASONS.index("not-threatening")]  # ... and did not fire for this reason
    assert ch.outcomes.asset_hit[0, n] < 0 and not ch.outcomes.intercepted[0, n]


def test_a_threat_judged_destroyed_in_the_log_flew_on():
    """A no-fire row is only ever of a threat that was not destroyed, so an assessed-killed
    reason is a wrong judgement every time, and its words say so (they read as a kill: on
    nato-russia-2011 Sejjil-2s judged destroyed went on to hit Rostov)."""
    from shieldlab.io.results import REASON_TEXT

    r = simulate(load_world("nato-russia-2011"), runs=8, seed=1)
    ev, o = r.events, r.outcomes
    rows = (ev["kind"] == "no-fire") & (ev["reason"] == "assessed-killed")
    assert rows.sum() >= 5 and all("wrongly" in d for d in ev["detail"][rows])
    fate = {(run, t): out for run, t, out in zip(o["run"].tolist(), o["threat"].tolist(), o["outcome"].tolist())}
    assert {fate[(run, t)] for run, t in zip(ev["run"][rows].tolist(), ev["threat"][rows].tolist())} <= \
        {"leaked", "leaked on an asset", "airborne"}
    assert "wrongly" in REASON_TEXT["assessed-killed"]


@pytest.mark.parametrize("arch, want", [("sectoral", {"outside-sector"}),
                                         ("coordinated", {"out-of-envelope", "not-threatening"})])
def test_a_node_that_left_a_threat_to_another_gives_the_reason_it_could_not_engage_it(arch, want):
    """nato-russia-2011: the Iranian missiles at Krasnodar, Novorossiysk and Rostov cross only
    Russia's sector and lie beyond NATO's ships' reach.  NATO's node hears of the S-400s'
    engagements and stands back; its no-fire rows for those threats give the reason it could
    not have engaged them whoever did (``outside-sector`` under sectoral; under coordinated its
    batteries had no window: ``out-of-envelope``, or ``not-threatening`` for NATO's assets), not
    ``assessed-killed``: it had judged them destroyed at the look after the Russian shots only
    because its radars no longer saw them, which read as if coordination had kept it from
    firing."""
    from shieldlab.scenario import load

    w = load_world(load("nato-russia-2011").model_copy(update={"architecture": arch}))
    ch = _chunk(w, runs=4, seed=5)
    node = {b.name: b.system for b in w.batteries}
    names = [b.name for b in w.batteries]
    e, d = ch.engagements, ch.decisions
    shooters: dict[tuple[int, int], set] = {}
    for r, t, b in zip(e.run.tolist(), e.threat.tolist(), e.battery.tolist(), strict=True):
        shooters.setdefault((r, t), set()).add(node[names[b]])
    rows = [REASONS[why] for r, t, b, k, why in zip(d.run.tolist(), d.threat.tolist(), d.battery.tolist(),
                                                    d.kind.tolist(), d.reason.tolist(), strict=True)
            if k == 1 and node[names[b]] == "nato" and shooters.get((r, t)) == {"russia"}]
    assert len(rows) >= 4, rows
    assert set(rows) <= want, rows


def test_engage_all_plans_a_boosting_track_as_engage_threatening_does():
    """The boost test is not threat evaluation's alone: under ``engage: all`` a track that may
    still be under thrust is planned on its predicted powered path and held to its last chance
    too, as under ``engage: threatening`` (before, ``engage: all`` planned boosting tracks as
    if they coasted and fired without a hold).  On epaa-phase-1, where every missile threatens
    an asset, ``engage: all`` holds on every threat ``threatening`` holds on; where it holds on
    one more, ``threatening`` fired at it too, without a hold (its threat evaluation judged the
    track only once the last chance had come: seed 4, run 1, threat 3); with no assets at all
    (every threat engaged) holds remain."""
    from shieldlab.scenario import load

    scn = load("epaa-phase-1")

    def chunk(assets: bool = True, **update):
        w = compile_world(scn.model_copy(update=update), source="epaa-phase-1")
        return _chunk(w if assets else dataclasses.replace(w, assets=()), runs=6, seed=4)

    hold = REASONS.index("held-last-chance")

    def held(ch):
        d = ch.decisions
        m = (d.kind == 0) & (d.reason == hold)
        return set(zip(d.run[m].tolist(), d.threat[m].tolist()))

    base = chunk()
    every = chunk(doctrine=scn.doctrine.model_copy(update={"engage": "all"}))
    assert len(held(base)) >= 6
    assert held(base) <= held(every)
    extra = held(every) - held(base)
    assert len(extra) <= 1, extra
    fired = set(zip(base.engagements.run.tolist(), base.engagements.threat.tolist()))
    assert extra <= fired, (extra, fired)
    bare = chunk(assets=False)  # nothing defended: every threat engaged
    # (a boosting track is planned on as if it coasted where no corridor names an asset: some
    # of those paths are out of reach until burnout, then no hold is needed)
    assert len(held(bare)) >= 3 and held(bare) <= held(every)
    assert bare.engagements.run.size > 0


def test_compare_pairs_each_architecture_with_the_first_raid_by_raid():
    """The raids are the same in every column, so compare gives each later architecture the
    per-raid differences from the first: their mean and Student t interval, and the raids with
    fewer and with more leakers, equal to those of the two simulations run apart."""
    from shieldlab.stats import mean_interval

    w = _world("independent")
    ind, coo = compare(w, ["independent", "coordinated"], runs=8, seed=3)
    runs = {a: simulate(_world(a), runs=8, seed=3) for a in ("independent", "coordinated")}

    def per_raid(r, values):  # per run, the sum over its threats
        return np.bincount(r.outcomes["run"], weights=np.asarray(values, float), minlength=8)

    def leaked(r):
        return per_raid(r, r.outcomes["outcome"] == "leaked")

    def fired(r):
        return per_raid(r, r.outcomes["interceptors_fired"])

    d = leaked(runs["coordinated"]) - leaked(runs["independent"])
    f = fired(runs["coordinated"]) - fired(runs["independent"])
    assert (ind.against, coo.against) == (None, "independent")
    # the first has nothing to be paired with: no difference (it had nan and zero raids)
    assert (ind.leakers_difference, ind.interceptors_difference, ind.raids_fewer_leakers,
            ind.raids_more_leakers, ind.leakers_alike) == (None,) * 5
    from shieldlab.outcome.caps import interceptor_caps

    # a raid's difference lies within these: its threats; the most each side's raid can fire
    n = len(w.threats)
    caps = {a: interceptor_caps(_world(a)) for a in ("independent", "coordinated")}
    most = {a: c.fired for a, c in caps.items()}
    np.testing.assert_allclose(coo.leakers_difference, mean_interval(d, lower=-n, upper=n), rtol=1e-12)
    np.testing.assert_allclose(coo.interceptors_difference,
                               mean_interval(f, lower=-most["independent"], upper=most["coordinated"]), rtol=1e-12)
    assert (coo.raids_fewer_leakers, coo.raids_more_leakers) == (int((d < 0).sum()), int((d > 0).sum()))
    assert coo.interceptors_difference[0] < 0  # told of each other's shots, the nodes fire less
    js = coo.as_dict()
    assert js["paired"]["against"] == "independent" and ind.as_dict()["paired"] is None
    assert js["between_sectors_per_raid"] is None  # no sector here: not a zero
    # an architecture against itself: every raid alike and none counted, and the interval the
    # exact bound of a bounded mean (a point would claim a certainty four raids cannot give)
    a, b = compare(w, ["independent", "independent"], runs=4, seed=3)
    mean, lo, hi = b.leakers_difference
    assert mean == 0.0 and lo == -hi and hi > 0.5 and (b.raids_fewer_leakers, b.raids_more_leakers) == (0, 0)
    # and it is said so: the bound alone (interceptors ±58 on four raids of patriot-turkey-2013)
    # read as no evidence where it is the strongest there is
    assert b.leakers_alike and b.interceptors_alike and not coo.interceptors_alike
    assert b.as_dict()["paired"]["interceptors_alike_in_every_raid"] is True
    from test_cli import cli

    r = cli("compare", "patriot-turkey-2013", "--runs", "2", "--architectures", "independent,integrated")
    assert r.returncode == 0 and "0 in every raid (bound ±" in r.stdout, r.stdout
    # and the caps those bounds reach to, per column: a reader had taken a bound for an estimate
    # and could not tell why it was twice as wide under one architecture as another
    from shieldlab import load_world
    from shieldlab.scenario.schema import with_architecture

    pt = load_world("patriot-turkey-2013")
    want = [interceptor_caps(compile_world(with_architecture(pt.scenario, x))).fired
            for x in ("independent", "integrated")]
    said = " ".join(r.stdout.split())
    assert (f"the most interceptors a raid can fire, the cap of those counts: independent {want[0]:g}, "
            f"integrated {want[1]:g} (") in said
    assert a.as_dict()["interceptors_cap_per_raid"] == a.interceptors_cap == caps["independent"].fired


def test_compare_steers_and_flies_the_threats_once(monkeypatch):
    """C2 changes nothing the threats fly: compare steered and flew them once per architecture,
    and the command once more before it (to name a --set that put an aim out of reach).  Now one
    set of nominal flights serves every column, and the columns are those of the runs apart
    (the test above)."""
    from shieldlab.engine import chain

    flown = []
    real = chain.fly_threats
    monkeypatch.setattr(chain, "fly_threats", lambda world, *a, **k: flown.append(world) or real(world, *a, **k))
    w = _world("independent")
    compare(w, ["independent", "coordinated", "integrated"], runs=2, seed=1)
    assert len(flown) == 1
    given = preflight(w, 2, can_store=False)
    flown.clear()
    ind, coo = compare(w, ["independent", "coordinated"], runs=2, seed=1, flights=given)
    assert flown == []
    apart = simulate(_world("coordinated"), runs=2, seed=1)
    assert coo.interceptors[0] == apart.outcomes["interceptors_fired"].sum() / 2


def test_compare_counts_every_interceptor_and_the_boosters_shot_under_gnn():
    """Under tracking.association gnn a fused picture takes spent boosters for warheads:
    compare counted only the interceptors at threats (run counts the false tracks' too), had
    no row for the boosters' and the false tracks' shares, and read a salvo at a booster or
    a false track (threat -1) as one at the last threat, in the wasted rounds and the time to
    first engagement.  Now its figures are run's, and those two come from the salvos at
    warheads only."""
    from shieldlab.engine import montecarlo
    from shieldlab.engine.sweep import parse_setting, with_settings

    _, _, w = with_settings("nato-russia-2011", [parse_setting("tracking.association=gnn")])
    (res,) = compare(w, ["coordinated"], runs=2, seed=1)
    chunks = []
    s = montecarlo.simulate(w, runs=2, seed=1, on_chunk=chunks.append).summary
    assert res.interceptors[0] == pytest.approx(s["mean_interceptors_fired"])
    assert res.at_boosters[0] == pytest.approx(s["mean_interceptors_at_boosters"]) and res.at_boosters[0] > 0
    assert res.at_false_tracks[0] == pytest.approx(s["mean_interceptors_at_false_tracks"])
    js = res.as_dict()
    assert js["interceptors_at_boosters_per_raid"]["mean"] == pytest.approx(res.at_boosters[0])
    first = {}
    for ch in chunks:
        e = ch.engagements
        for r, n, t in zip(e.run.tolist(), e.threat.tolist(), e.launch_time.tolist()):
            if n >= 0:
                first[(ch.first_run + r, n)] = min(t, first.get((ch.first_run + r, n), np.inf))
    delays = [t - w.threats[n].launch_time for (_, n), t in first.items()]
    assert res.first_engagement_s.mean == pytest.approx(np.mean(delays))
    # its interval takes the raids as independent, not the threats: each raid's sum and count
    per_raid = [[t - w.threats[n].launch_time for (c, n), t in first.items() if c == run] for run in (0, 1)]
    from shieldlab.stats import ratio_interval

    want = ratio_interval([sum(d) for d in per_raid], [len(d) for d in per_raid])
    assert tuple(res.first_engagement_s) == pytest.approx(tuple(want), nan_ok=True)
    assert js["first_engagement_s"]["mean"] == pytest.approx(res.first_engagement_s.mean, abs=1e-4)


def test_compare_json_of_one_run_is_strict_json():
    """One run has no interval: `compare --json` wrote NaN (no JSON value) in every ci95 and in
    the paired differences; null now, as a figure that does not apply."""
    from test_cli import cli, strict_json

    r = cli("compare", "patriot-turkey-2013", "--runs", "1", "--architectures", "independent,integrated", "--json")
    assert r.returncode == 0, r.stderr
    doc = strict_json(r.stdout)
    second = doc["architectures"][1]
    assert second["leakers_per_raid"]["ci95"] == [None, None]
    assert second["paired"]["leakers_difference"]["ci95"] == [None, None]


_TWO_NODES = """
name: two-nodes
epoch: 2017-06-01T00:00:00Z
architecture: coordinated
sites:
  seongju: {lat: 35.92, lon: 128.28, alt_m: 680}
  daegu-pat: {lat: 35.90, lon: 128.62}
  wonsan: {lat: 39.15, lon: 127.44}
sensors:
  - {name: tpy2-seongju, type: an-tpy-2, site: seongju, boresight_az_deg: 350, system: usfk}
  - {name: mpq65-daegu, type: an-mpq-65, site: daegu-pat, boresight_az_deg: 350, system: rok}
batteries:
  - {name: thaad-seongju, interceptor: thaad, site: seongju, rounds: 8, system: usfk}
  - {name: pac3-daegu, interceptor: pac-3-mse, site: daegu-pat, rounds: 8, system: rok}
links:
  - {from: usfk, to: rok, two_way: true, latency_s: 2, update_period_s: 4}
assets:
  - {name: daegu, site: {lat: 35.87, lon: 128.60}, radius_km: 15}
threats:
  - {name: scud-daegu, missile: scud-c, launch: wonsan, aim: daegu}
"""


@pytest.mark.parametrize("architecture", ["coordinated", "independent"])
def test_a_misspelt_system_is_told_the_system_it_is_near(architecture):
    """``system: usfkk`` for ``usfk`` made a C2 node of its own: refused for a missing link
    (coordinated) or a battery no sensor feeds (independent), the spelling never named."""
    from shieldlab.errors import InputError

    tree = yaml.safe_load(_TWO_NODES)
    tree["architecture"] = architecture
    compile_world(parse(tree, "s"), "s")  # as written: accepted
    tree["sensors"][0]["system"] = "usfkk"
    with pytest.raises(InputError) as e:
        compile_world(parse(tree, "s"), "s")
    hints = dict(e.value.problems)
    assert hints["sensors[0].system"] == \
        "'usfkk' is named by this entry alone, so it is a C2 node of its own: did you mean 'usfk'?"
    # and the problems it made: a node with no sensor (and, coordinated, the link missing)
    fields = sorted(f for f, _ in e.value.problems)
    assert fields == sorted(["sensors[0].system", "batteries[0].system"]
                            + (["links"] if architecture == "coordinated" else [])), e.value.problems
    # a battery's misspelt system: its own problem (no sensor feeds it) says the near name too
    tree["sensors"][0]["system"] = "usfk"
    tree["batteries"][0]["system"] = "usfkk"
    with pytest.raises(InputError) as e:
        compile_world(parse(tree, "s"), "s")
    said = dict(e.value.problems)["batteries[0].system"]
    assert "did you mean 'usfk'?" in said
    if architecture == "independent":  # (one problem of the field, the hint at its end)
        assert said.startswith("no sensor feeds system 'usfkk'") and said.endswith("did you mean 'usfk'?)"), said


def test_an_accepted_scenario_with_a_system_near_another_is_noted(capsys):
    """One NATO radar's ``system: natto`` left the scenario valid (the node's other radars feed
    its batteries) and the radar feeding a node of its own, with no battery and no link."""
    from shieldlab.cli import main

    assert main(["validate", "nato-russia-2011", "--set", "sensors[0].system=natto"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # (as wrapped to the terminal's width)
    assert "note: sensors[0].system: 'natto' is named by this entry alone, so it is a C2 node of its own, whose " \
           "tracks reach only its own batteries and links: did you mean 'nato'?" in out
    assert main(["validate", "nato-russia-2011"]) == 0
    assert "entry alone" not in capsys.readouterr().out
    # integrated: one C2 over every sensor whatever its system, and the same runs: nothing to say
    assert main(["validate", "nato-russia-2011", "--set", "sensors[0].system=natto", "--set",
                 "architecture=integrated"]) == 0
    assert "entry alone" not in capsys.readouterr().out
