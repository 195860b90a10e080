"""shieldlab.track_history: one run's tracks and truth over time, as the simulation made them."""

import numpy as np
import pytest

import shieldlab
from shieldlab.io.history import COLUMNS


@pytest.fixture(scope="module")
def phase1():
    return shieldlab.load_world("epaa-phase-1")


def _rmse_on_the_clock(h, outcomes, run: int, step_s: float = 4.0) -> float:
    """Each threat's own-track position RMSE as the user guide defines it, from the history
    alone: on a 4 s clock from the first launch, at each instant where the threat flies, is not
    yet destroyed and its track is confirmed and not past its last report, the track's latest
    update's error against the truth at that update's time."""
    tr, truth = h.tracks, h.truth
    t0 = truth["t_s"].min()
    t_end = min(truth["t_s"].max(), tr["t_s"].max())
    clock = t0 + step_s * np.arange(int(np.floor((t_end - t0) / step_s)) + 1)
    errs = []
    for name in np.unique(truth["threat"]):
        m = tr["object"] == name
        t, e, reports, confirmed = tr["t_s"][m], tr["pos_error_m"][m], tr["reports"][m], tr["confirmed"][m]
        row = (outcomes["run"] == run) & (outcomes["threat"] == name)
        gone = float(outcomes["intercept_time_s"][row][0])
        gone = gone if np.isfinite(gone) else np.inf
        flew = truth["t_s"][truth["threat"] == name]
        # (a destroyed threat's track is held to the kill: the reports past it, which the records
        # hold and the history leaves out, keep it from counting as past its last report)
        last = np.inf if np.isfinite(gone) else t[np.flatnonzero(np.diff(reports, prepend=0) > 0)[-1]] \
            if t.size else -np.inf
        for ti in clock:
            k = np.searchsorted(t, ti, side="right") - 1
            if k >= 0 and confirmed[k] and t[k] <= last and ti < gone and flew.min() <= ti <= flew.max():
                errs.append(e[k])
    return float(np.sqrt(np.mean(np.square(errs))))


def test_a_runs_history_is_the_simulations_own(phase1):
    """The tracks a run's history holds are those the simulation scored: the position RMSE
    computed from them by the user guide's definition equals each run's position_rmse_m (a
    reader who took the RMSE at every update time had been 12 % off, with no public way to
    check it)."""
    res = shieldlab.simulate(phase1, runs=3, seed=2)
    for run in range(3):
        h = shieldlab.track_history(phase1, run=run, seed=2)
        lib = res.track_quality["position_rmse_m"][res.track_quality["run"] == run][0]
        assert _rmse_on_the_clock(h, res.outcomes, run) == pytest.approx(lib, rel=1e-9)
    # the same run of a longer simulation: a run draws from its own streams alone
    again = shieldlab.track_history(phase1, run=2, seed=2)
    assert all(np.array_equal(v, h.tracks[k]) or (v.dtype.kind == "f" and np.array_equal(v, h.tracks[k],
                                                                                        equal_nan=True))
               for k, v in again.tracks.items())


def test_the_history_tables_and_their_columns(phase1):
    h = shieldlab.track_history(phase1, run=0, seed=1)
    tr, truth = h.tracks, h.truth
    assert list(tr) == list(COLUMNS["tracks"]) and list(truth) == list(COLUMNS["truth"])
    assert len({len(v) for v in tr.values()}) == 1 and len(tr["t_s"]) > 1000
    assert np.all(np.diff(tr["t_s"]) >= 0)  # in time order
    names = {t.name for t in phase1.threats}
    assert set(tr["object"]) == names and set(truth["threat"]) == names
    # an error is the distance to the truth columns; a track's reports never go down
    d = np.linalg.norm(np.column_stack([tr[f"{a}_m"] - tr[f"true_{a}_m"] for a in "xyz"]), axis=1)
    ok = np.isfinite(d)
    assert ok.mean() > 0.9 and np.allclose(d[ok], tr["pos_error_m"][ok])
    assert np.median(tr["pos_error_m"][ok & tr["confirmed"]]) < np.median(tr["sigma_pos_m"][ok & tr["confirmed"]]) * 3
    for g in np.unique(tr["track"]):
        assert np.all(np.diff(tr["reports"][tr["track"] == g]) >= 0)
    # the truth's places are the ECEF states', and every column has its meaning in the Arrow schema
    from shieldlab import earth

    lat, lon, alt = earth.ecef_to_geodetic(np.column_stack([truth["x_m"], truth["y_m"], truth["z_m"]]))
    assert np.allclose(np.degrees(lat), truth["lat_deg"]) and np.allclose(alt / 1e3, truth["alt_km"])
    schema = h.to_arrow("tracks").schema
    assert all(schema.field(k).metadata[b"description"].decode() == v for k, v in COLUMNS["tracks"].items())
    assert "run 0, seed 1" in repr(h) and "nato-bmd" in repr(h)
    # a destroyed threat's truth and tracks end at the intercept (the records held both on)
    out = shieldlab.simulate(phase1, runs=1, seed=1).outcomes
    killed = {str(n): float(t) for n, t in zip(out["threat"], out["intercept_time_s"]) if np.isfinite(t)}
    assert killed
    for name, t_kill in killed.items():
        assert truth["t_s"][truth["threat"] == name].max() < t_kill
        assert tr["t_s"][tr["object"] == name].max() < t_kill
        assert truth["t_s"][truth["threat"] == name].max() > t_kill - 2 * phase1.scenario.time_step_s


def test_tracks_of_reports_without_labels_name_what_they_follow(phase1):
    """Under gnn a picture's tracks are its track file's confirmed ones, spent boosters among
    them, told apart for scoring by the object behind them (with no truth to score them by)."""
    scn = phase1.scenario
    from shieldlab.scenario import compile_world

    gnn = compile_world(scn.model_copy(update={"tracking": scn.tracking.model_copy(update={"association": "gnn"})}))
    tr = shieldlab.track_history(gnn, run=0, seed=1).tracks
    objects = set(tr["object"])
    assert {t.name for t in phase1.threats} <= objects
    assert any(o.startswith("booster of ") for o in objects)  # (as tracks.parquet names them)
    not_threat = ~np.isin(tr["object"], [t.name for t in phase1.threats])
    assert not_threat.any() and np.isnan(tr["pos_error_m"][not_threat]).all() and tr["confirmed"].all()


@pytest.mark.parametrize("preset", ["epaa-phase-1", "nato-russia-2011"])
def test_a_track_is_numbered_as_the_events_and_the_track_table_number_it(preset, tmp_path):
    """The history's tracks were numbered by their column in the picture, which under gnn is
    not the track file's number that the events and tracks.parquet give (a join on it matched
    other tracks, or none). Each salvo's track (file, number) in run 0 is in the history under
    the same object; each history track is a row of tracks.parquet with the same object. Two
    pictures sharing tracks over a link (nato-russia-2011) number theirs on the network."""
    from shieldlab.scenario import load

    sc = load(preset)
    w = shieldlab.load_world(sc.model_copy(update={"tracking": sc.tracking.model_copy(update={"association": "gnn"})}))
    tr = shieldlab.track_history(w, run=0, seed=1).tracks
    assert tr["track"].dtype == np.int32 and (tr["file"] != "").all()
    res = shieldlab.simulate(w, runs=1, seed=1, out=tmp_path / "res")
    ev = res.read("events", where={"kind": ["fire"]})
    assert ev["track"].size
    held = {(f, int(k)): o for f, k, o in zip(tr["file"], tr["track"], tr["object"], strict=True)}
    for f, k, threat in zip(ev["picture"], ev["track"], ev["threat"], strict=True):
        if k >= 0 and threat in held.values():
            assert held.get((f, int(k))) in (threat, f"booster of {threat}", "false alarm"), (f, k, threat)
    rows = res.read("tracks")
    table = {(f, int(k)): o for f, k, o in zip(rows["picture"], rows["track"], rows["object"], strict=True)}
    assert all(key in table for key in held)
    # the picture's own tracks: the same object (a network track the picture held from another
    # node's track is labelled as the picture sees it, which may be that track's booster)
    own = {(f, int(k)): o for p, f, k, o in zip(tr["picture"], tr["file"], tr["track"], tr["object"], strict=True)
           if p == f}
    assert own and all(table[key] == obj for key, obj in own.items())


@pytest.mark.parametrize("kw, field", [({"run": -1}, "run"), ({"run": 1.0}, "run"), ({"run": True}, "run"),
                                       ({"seed": -2}, "seed"), ({"world": "epaa-phase-1"}, "world")])
def test_a_bad_argument_is_named(phase1, kw, field):
    args = {"world": phase1, "run": 0, "seed": 1} | kw
    with pytest.raises(shieldlab.InputError) as e:
        shieldlab.track_history(**args)
    assert e.value.field == field


def test_an_unknown_table_is_named(phase1):
    h = shieldlab.track_history(phase1, run=0, seed=1)
    with pytest.raises(shieldlab.InputError, match="tracks or truth"):
        h.to_arrow("events")
