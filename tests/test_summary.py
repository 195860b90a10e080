"""summary.json (shieldlab.io.summary) from hand-made outcome and event columns."""

import json

import numpy as np
import pytest
from scipy import stats as st

from shieldlab.io.summary import INTERVAL, Summariser, summarise
from shieldlab.scenario import load_world

RUNS = 10


@pytest.fixture(scope="module")
def world():
    return load_world("epaa-phase-2")  # six threats, batteries aegis-ship-sm3 and deveselu-sm3


def _outcomes(world, status, fired, asset=None, at_booster=None):
    """Outcome columns (the set of shieldlab.io.results.outcome_columns) from (RUNS, N) arrays."""
    names = np.array([t.name for t in world.threats], dtype=object)
    N = names.size
    asset = np.full((RUNS, N), None, dtype=object) if asset is None else asset
    nan = np.full(RUNS * N, np.nan)
    return {
        "run": np.repeat(np.arange(RUNS), N).astype(np.int32),
        "threat": np.tile(names, RUNS),
        "missile": np.tile(np.array([t.missile.id for t in world.threats], dtype=object), RUNS),
        "outcome": np.asarray(status, dtype=object).reshape(-1),
        "intercepted_by": np.full(RUNS * N, None, dtype=object),
        "intercept_time_s": nan, "intercept_lat_deg": nan, "intercept_lon_deg": nan, "intercept_alt_km": nan,
        "engagements": np.asarray(fired).reshape(-1).astype(np.int32),
        "interceptors_fired": np.asarray(fired).reshape(-1).astype(np.int32),
        "interceptors_at_booster": (np.zeros(RUNS * N) if at_booster is None else np.asarray(at_booster))
        .reshape(-1).astype(np.int32),
        "impact_time_s": nan, "impact_lat_deg": nan, "impact_lon_deg": nan,
        "asset_hit": asset.reshape(-1),
        "aim_miss_km": np.tile(np.array([1.0, 2.0, 3.0, 4.0, np.nan, 6.0]), RUNS)[: RUNS * N],
        "first_detection_s": nan, "track_confirmed_s": nan,
    }


def _events(rows, reason=True):
    """Event columns (shieldlab.io.results.event_columns, plus ``reason``) from
    (run, t, threat, kind, actor, reason[, rounds]) tuples."""
    ev = {
        "run": np.array([r[0] for r in rows], np.int32),
        "t_s": np.array([r[1] for r in rows], float),
        "threat": np.array([r[2] for r in rows], dtype=object),
        "kind": np.array([r[3] for r in rows], dtype=object),
        "actor": np.array([r[4] for r in rows], dtype=object),
        "detail": np.full(len(rows), "", dtype=object),
        "closing_speed_kms": np.full(len(rows), np.nan), "crossing_angle_deg": np.full(len(rows), np.nan),
        "pk": np.full(len(rows), np.nan), "pip_sigma_m": np.full(len(rows), np.nan),
        "rounds": np.array([r[6] if len(r) > 6 else 0 for r in rows], np.int32),
    }
    if reason:
        ev["reason"] = np.array([r[5] for r in rows], dtype=object)
    return ev


def _case(world):
    N = len(world.threats)
    status = np.full((RUNS, N), "intercepted", dtype=object)
    status[:3, 0] = "leaked"  # athens#1: 7 of 10 intercepted, 3 leaked
    status[:, 5] = "leaked"  # bucharest: never engaged
    status[9, 2] = "airborne"  # sofia: one run ends with the threat in the air
    fired = np.ones((RUNS, N), int)
    fired[:, 5] = 0
    fired[:3, 0] = 2
    asset = np.full((RUNS, N), None, dtype=object)
    asset[:3, 0] = "athens"
    asset[:, 5] = "bucharest"
    return status, fired, asset


ROWS = [
    # bucharest: every run a no-fire; out of the ship's envelope in runs 0-7, the Deveselu
    # battery held to the last chance (several holds in one run count once) in runs 0-3
    *[(r, 600.0, "sejjil-bucharest", "no-fire", "aegis-ship-sm3", "out-of-envelope") for r in range(8)],
    *[(r, 610.0, "sejjil-bucharest", "no-fire", "", "threat-gone") for r in (8, 9)],
    *[(r, t, "sejjil-bucharest", "hold", "deveselu-sm3", "held-last-chance") for r in range(4) for t in (100.0, 104.0)],
    (0, 620.0, "sejjil-bucharest", "no-fire", "deveselu-sm3", "held-last-chance"),
    # athens#1: not re-engaged after the miss in runs 0 and 1 (the magazine), run 2 no reason given
    (0, 500.0, "sejjil-athens#1", "no-fire", "aegis-ship-sm3", "magazine-empty"),
    (1, 500.0, "sejjil-athens#1", "no-fire", "aegis-ship-sm3", "magazine-empty"),
    (2, 500.0, "sejjil-athens#1", "no-fire", "aegis-ship-sm3", ""),
    # rows of other kinds never count
    (0, 0.0, "sejjil-athens#1", "launch", "sejjil-2", ""),
    (0, 300.0, "sejjil-athens#1", "fire", "aegis-ship-sm3", ""),
]


def test_probabilities_means_and_intervals(world):
    status, fired, asset = _case(world)
    s = summarise(world, _outcomes(world, status, fired, asset), _events(ROWS), RUNS, 7)
    assert s["interval"] == INTERVAL == "Wilson score, 95 %" and "Student t" in s["interval_means"]
    assert (s["scenario"], s["runs"], s["seed"], s["threats"]) == ("epaa-phase-2", RUNS, 7, 6)
    a1 = s["per_threat"][0]
    assert a1["threat"] == "sejjil-athens#1" and a1["missile"] == "sejjil-2"
    assert a1["p_intercept"] == 0.7 and a1["p_leak"] == 0.3
    # Wilson 7/10: closed form (p + z^2/2n)/(1 + z^2/n) -/+ z/(1 + z^2/n) sqrt(p q/n + z^2/4n^2)
    z = st.norm.ppf(0.975)
    c = (0.7 + z**2 / 20) / (1 + z**2 / 10)
    h = z / (1 + z**2 / 10) * np.sqrt(0.21 / 10 + z**2 / 400)
    assert a1["p_intercept_ci95"] == pytest.approx([c - h, c + h], abs=1e-6)
    assert a1["p_intercept_ci95"] == pytest.approx([0.3968, 0.8922], abs=1e-4)
    assert a1["p_leak_ci95"] == pytest.approx([1 - c - h, 1 - c + h], abs=1e-6)  # the mirror image
    assert a1["mean_interceptors"] == 1.3 and a1["cep_km"] == 1.0
    # fired 2,2,2,1,...: mean 1.3, s = sqrt(0.21 * 10 / 9), t_9 = 2.262157
    half = 2.262157 * np.sqrt(0.21 * 10 / 9) / np.sqrt(10)
    assert a1["mean_interceptors_ci95"] == pytest.approx([1.3 - half, 1.3 + half], abs=1e-6)
    sofia, bucharest = s["per_threat"][2], s["per_threat"][5]
    assert sofia["p_intercept"] == 0.9 and sofia["p_leak"] == 0.0 and sofia["p_leak_ci95"][0] == 0.0
    assert bucharest["p_intercept"] == 0.0 and bucharest["p_intercept_ci95"] == pytest.approx([0.0, z**2 / (10 + z**2)],
                                                                                               abs=1e-6)
    assert s["per_threat"][4]["cep_km"] is None  # no finite aim miss
    # per raid: leakers 2 in runs 0-2, 1 after: mean 1.3; P(no leaker) 0 (bucharest always leaks)
    assert s["mean_leakers"] == 1.3 and s["mean_interceptors_fired"] == pytest.approx(5.3)
    assert s["mean_leakers_ci95"] == pytest.approx([1.3 - half, 1.3 + half], abs=1e-6)
    assert s["mean_assets_hit"] == 1.3 and s["mean_assets_hit_ci95"] == s["mean_leakers_ci95"]
    assert s["p_no_leaker"] == 0.0 and s["p_no_leaker_ci95"] == pytest.approx([0.0, z**2 / (10 + z**2)], abs=1e-6)
    json.dumps(s, allow_nan=False)  # valid JSON, every number finite or null


def test_reasons_per_threat_and_battery(world):
    status, fired, asset = _case(world)
    s = summarise(world, _outcomes(world, status, fired, asset), _events(ROWS), RUNS, 1)
    b = s["per_threat"][5]
    assert b["no_fire"] == {"out-of-envelope": 0.8, "threat-gone": 0.2, "held-last-chance": 0.1}
    assert list(b["no_fire"]) == ["out-of-envelope", "threat-gone", "held-last-chance"]  # most frequent first
    assert b["holds"] == {"held-last-chance": 0.4}  # two holds in each of runs 0-3: four runs
    assert b["holds_ci95"]["held-last-chance"] == pytest.approx(
        list(st.binomtest(4, 10).proportion_ci(method="wilson")), abs=1e-6)
    # by battery: the ship's no-fire reasons; Deveselu's holds and no-fire of the same
    # reason in run 0 count that run once; the battery-less threat-gone rows are left out
    assert b["by_battery"] == {"aegis-ship-sm3": {"out-of-envelope": 0.8},
                               "deveselu-sm3": {"held-last-chance": 0.4}}
    a1 = s["per_threat"][0]
    assert a1["no_fire"] == {"magazine-empty": 0.2, "unspecified": 0.1} and a1["holds"] == {}
    assert a1["by_battery"] == {"aegis-ship-sm3": {"magazine-empty": 0.2, "unspecified": 0.1}}
    for row in s["per_threat"][1:5]:
        assert row["no_fire"] == {} and row["holds"] == {} and row["by_battery"] == {}


def test_event_logs_without_reasons(world):
    status, fired, asset = _case(world)
    o = _outcomes(world, status, fired, asset)
    older = _events(ROWS, reason=False)  # no reason column: every reason unspecified
    s = summarise(world, o, older, RUNS, 1)
    b = s["per_threat"][5]
    assert b["no_fire"] == {"unspecified": 1.0} and b["holds"] == {"unspecified": 0.4}
    assert b["by_battery"] == {"aegis-ship-sm3": {"unspecified": 0.8}, "deveselu-sm3": {"unspecified": 0.4}}
    plain = _events([r for r in ROWS if r[3] not in ("hold", "no-fire")])
    for ev in (plain, {}, None, _events([])):
        s2 = summarise(world, o, ev, RUNS, 1)
        assert all(r["no_fire"] == {} and r["holds"] == {} and r["by_battery"] == {} for r in s2["per_threat"])
        assert s2["mean_leakers"] == s["mean_leakers"]


def test_one_run_has_no_mean_interval(world):
    N = len(world.threats)
    o = _outcomes(world, np.full((RUNS, N), "intercepted", dtype=object), np.ones((RUNS, N), int))
    one = {k: v[:N] for k, v in o.items()}
    s = summarise(world, one, {}, 1, 1)
    assert s["mean_leakers"] == 0.0 and s["mean_leakers_ci95"] == [None, None]
    assert s["p_no_leaker"] == 1.0 and s["p_no_leaker_ci95"] == pytest.approx([1 / (1 + st.norm.ppf(0.975) ** 2), 1.0],
                                                                             abs=1e-6)
    json.dumps(s, allow_nan=False)


def test_value_lost_weighs_each_hit_by_its_assets_value(world):
    """mean_value_lost: athens (value 1) hit in 3 of 10 runs, bucharest (value 5 here) in all
    10: (3 x 1 + 10 x 5) / 10 = 5.3 a raid; with every value 1 it is mean_assets_hit."""
    from dataclasses import replace

    status, fired, asset = _case(world)
    o = _outcomes(world, status, fired, asset)
    s = summarise(world, o, _events(ROWS), RUNS, 1)
    assert s["mean_value_lost"] == s["mean_assets_hit"] == 1.3
    w5 = replace(world, assets=[replace(a, value=5.0) if a.name == "bucharest" else a for a in world.assets])
    s5 = summarise(w5, o, _events(ROWS), RUNS, 1)
    assert s5["mean_value_lost"] == pytest.approx(5.3)
    lost = np.array([5.0 + (1.0 if r < 3 else 0.0) for r in range(RUNS)])
    half = st.t.ppf(0.975, RUNS - 1) * lost.std(ddof=1) / np.sqrt(RUNS)
    assert s5["mean_value_lost_ci95"] == pytest.approx([5.3 - half, 5.3 + half], abs=1e-6)


def test_value_lost_interval_stays_within_what_a_raid_can_lose(world):
    """Each warhead hits one asset at most, so a raid of N loses at most N times the dearest
    asset's value: the t interval of runs near that maximum is cut there (9.50 (8.58-10.42)
    had been printed where 10 was the most)."""
    N = len(world.threats)
    name = world.assets[0].name
    status = np.full((RUNS, N), "leaked", dtype=object)
    asset = np.full((RUNS, N), name, dtype=object)
    asset[0, 0] = None  # one warhead of one run misses: the mean is just below the maximum
    s = summarise(world, _outcomes(world, status, np.zeros((RUNS, N), int), asset), {}, RUNS, 1)
    most = N * max(a.value for a in world.assets)
    assert s["mean_value_lost"] == pytest.approx(N - 0.1 * world.assets[0].value)
    assert s["mean_value_lost_ci95"][1] == pytest.approx(most) and s["mean_value_lost_ci95"][0] < s["mean_value_lost"]
    assert s["mean_assets_hit_ci95"][1] == N


def test_pieces_of_runs_give_the_summary_of_the_whole(world):
    """A long run is summarised a chunk at a time: pieces of whole runs, in run order, give
    the summary of the whole tables to the bit (counts of distinct runs add up across pieces,
    the per-run values are kept)."""
    status, fired, asset = _case(world)
    oc, ev = _outcomes(world, status, fired, asset), _events(ROWS)
    quality = {"system": np.array(["nato"] * RUNS, dtype=object), **{k: np.linspace(1.0, 2.0, RUNS) * (i + 1)
               for i, k in enumerate(("gospa_m", "localisation_m", "missed_targets", "false_tracks",
                                      "position_rmse_m", "velocity_rmse_ms", "mean_nees", "nees_over_99",
                                      "nees_updates", "threats_tracked", "median_time_to_firm_track_s"))}}
    whole = summarise(world, oc, ev, RUNS, 3, quality)
    N = len(world.threats)
    for cuts in ([0, 3, 7, 10], [0, 1, 2, 9, 10], [0, 10]):
        s = Summariser(world)
        for a, b in zip(cuts[:-1], cuts[1:]):
            s.add_outcomes({k: v[a * N:b * N] for k, v in oc.items()})
            m = (ev["run"] >= a) & (ev["run"] < b)
            s.add_events({k: v[m] for k, v in ev.items()})
            s.add_quality({k: v[a:b] for k, v in quality.items()})
        assert s.summary(RUNS, 3) == whole
    # the reasons were counted: the pieces did not just agree on empty maps
    bucharest = next(r for r in whole["per_threat"] if r["threat"] == "sejjil-bucharest")
    assert bucharest["no_fire"]["out-of-envelope"] == 0.8 and bucharest["holds"]["held-last-chance"] == 0.4
    assert whole["track_quality"]["nato"]["runs"] == RUNS
    assert whole["track_quality"]["nato"]["mean_nees"] == pytest.approx(np.mean(quality["mean_nees"]))


def test_pieces_that_miss_runs_are_refused(world):
    """Outcomes of fewer runs than the summary counts (a stored chunk's file gone) raise,
    rather than dividing the runs that are there by the runs that should be."""
    status, fired, asset = _case(world)
    oc = _outcomes(world, status, fired, asset)
    N = len(world.threats)
    s = Summariser(world)
    s.add_outcomes({k: v[: 7 * N] for k, v in oc.items()})
    with pytest.raises(ValueError, match="hold 7 runs, not 10"):
        s.summary(RUNS, 3)


def test_interceptors_at_boosters_and_false_tracks_are_said_apart_and_all_counted(world):
    """On tracks of reports without labels a salvo may go at a threat's spent booster (its
    outcome row counts it, and says so) or at a false track (no threat's row: the event log's
    fire rows count it); the raid's interceptors fired are all of them."""
    status, fired, asset = _case(world)
    N = len(world.threats)
    at_booster = np.zeros((RUNS, N), int)
    at_booster[:3, 0] = 1  # athens#1: one of its two rounds in runs 0-2 went at its booster
    rows = [*ROWS, (4, 200.0, "(false track)", "fire", "aegis-ship-sm3", "", 2),
            (7, 210.0, "(false track)", "fire", "deveselu-sm3", "", 1),
            (7, 260.0, "(false track)", "miss", "deveselu-sm3", "", 0)]
    oc, ev = _outcomes(world, status, fired, asset, at_booster), _events(rows)
    s = summarise(world, oc, ev, RUNS, 3)
    plain = summarise(world, _outcomes(world, status, fired, asset), _events(ROWS), RUNS, 3)
    assert s["mean_interceptors_fired"] == pytest.approx(plain["mean_interceptors_fired"] + 3 / RUNS)
    assert s["mean_interceptors_at_false_tracks"] == pytest.approx(3 / RUNS)
    assert s["mean_interceptors_at_boosters"] == pytest.approx(3 / RUNS)
    athens = next(r for r in s["per_threat"] if r["threat"] == "sejjil-athens#1")
    assert athens["mean_interceptors_at_booster"] == pytest.approx(0.3)
    assert plain["mean_interceptors_at_false_tracks"] == 0.0 and plain["mean_interceptors_at_boosters"] == 0.0
    # and from pieces of whole runs, the same
    piece = Summariser(world)
    for a, b in ((0, 5), (5, 10)):
        piece.add_outcomes({k: v[a * N:b * N] for k, v in oc.items()})
        m = (ev["run"] >= a) & (ev["run"] < b)
        piece.add_events({k: v[m] for k, v in ev.items()})
    assert piece.summary(RUNS, 3) == s


def test_the_summary_says_the_doctrine_and_sensing_the_run_used(world):
    """summary.json named the tracking but not the doctrine or the sensing: a reader had to
    read them back from the events and the report.  Every field is there, as the scenario
    compiled them (epaa-phase-2: salvo 1, shoot-look-shoot, the confirmed false alarms)."""
    status, fired, asset = _case(world)
    s = summarise(world, _outcomes(world, status, fired, asset), _events(ROWS), RUNS, 7)
    doc, sens = world.scenario.doctrine, world.scenario.sensing
    assert s["doctrine"] == doc.model_dump(mode="json") and set(s["doctrine"]) == set(type(doc).model_fields)
    assert s["sensing"] == sens.model_dump(mode="json") and set(s["sensing"]) == set(type(sens).model_fields)
    assert s["doctrine"]["salvo"] == doc.salvo and s["sensing"]["false_alarms"] == "confirmed"
    json.dumps(s)  # written as JSON as it stands
