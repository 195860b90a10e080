"""The tracks table of a kill-chain run on the multi-target tracker: one row per confirmed
track of every picture and every battery's own radar, the rows ``shieldlab tracks --out``
lists, joined to the event table by ``(run, picture, track)``."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
from test_launch_on_remote_gnn import patriot_on_its_radar

from shieldlab.cli import main
from shieldlab.engine import chain
from shieldlab.errors import InputError
from shieldlab.io import dataset
from shieldlab.io.results import event_columns
from shieldlab.outcome import track_table

KEY = [("run", "ascending"), ("picture", "ascending"), ("track", "ascending")]


def test_run_writes_the_tracks_that_shieldlab_tracks_lists_and_every_event_finds_its_track(tmp_path):
    out, listed = tmp_path / "res", tmp_path / "tracks.parquet"
    args = ["nato-russia-2011", "--runs", "3", "--seed", "2", "-q"]
    assert main(["run", *args, "--set", "tracking.association=gnn", "--out", str(out)]) == 0
    assert main(["tracks", *args, "--out", str(listed)]) == 0
    ran, alone = pq.read_table(out / "tracks.parquet").sort_by(KEY), pq.read_table(listed).sort_by(KEY)
    assert ran.num_rows > 50 and set(ran.column("picture").to_pylist()) == {"nato", "russia"}
    # the same reports, the same tracker: the same tracks, column for column, but for the tracks
    # of threats destroyed in flight, which end at the intercept as fire control's did
    oc = pq.read_table(out / "outcomes.parquet").to_pydict()
    killed = {(r, n): t for r, n, t in zip(oc["run"], oc["threat"], oc["intercept_time_s"]) if t == t}
    a, b = ran.to_pylist(), {(r["run"], r["picture"], r["track"]): r for r in alone.to_pylist()}
    cut = 0
    for row in a:
        other = b.pop((row["run"], row["picture"], row["track"]))
        t_kill = killed.get((row["run"], row["object"]))
        if t_kill is None or other["ended_s"] < t_kill:
            assert row == other
            continue
        cut += 1
        assert row["ended_s"] <= t_kill < other["ended_s"] and row["last_report_s"] <= t_kill
        assert row["reports"] <= other["reports"]
        assert {k: row[k] for k in ("object", "started_s", "confirmed_s")} == \
            {k: other[k] for k in ("object", "started_s", "confirmed_s")}
    assert cut > 3  # the intercepted threats' tracks
    assert all(v["confirmed_s"] >= killed.get((v["run"], v["object"]), float("inf")) for v in b.values())
    # every salvo, hold and no-fire row that names a track finds it in the table
    cols, rows = dataset.query(out, "SELECT e.kind, count(*), count(t.object) FROM events e LEFT JOIN tracks t "
                                    "USING (run, picture, track) WHERE e.track >= 0 GROUP BY e.kind")
    by_kind = {k: (n, joined) for k, n, joined in rows}
    assert by_kind["fire"][0] > 0 and all(n == joined for n, joined in by_kind.values()), by_kind
    # a picture's first firm track of a threat names that track: confirmed by then, of that threat
    cols, rows = dataset.query(out, "SELECT count(*), count(*) FILTER (WHERE t.confirmed_s <= e.t_s AND "
                                    "t.object = e.threat) FROM events e JOIN tracks t USING (run, picture, track) "
                                    "WHERE e.kind = 'track'")
    assert rows[0][0] > 10 and rows[0][0] == rows[0][1], rows
    cols, rows = dataset.query(out, "SELECT count(*) FROM events WHERE kind = 'track' AND track < 0")
    assert rows[0][0] == 0


def test_a_run_on_labels_writes_no_tracks_table(tmp_path):
    out = tmp_path / "res"
    assert main(["run", "epaa-phase-1", "--runs", "2", "-q", "--out", str(out)]) == 0
    assert not (out / "tracks.parquet").exists() and (out / "track_quality.parquet").exists()
    with pytest.raises(InputError, match="tracked by labels.*tracking.association gnn"):
        dataset.query(out, "SELECT * FROM tracks")


def test_a_batterys_own_radar_tracks_are_rows_named_as_the_events_name_them(tmp_path):
    w = patriot_on_its_radar(tmp_path, "own")
    ch = chain.run_chunk(w, chain.fly_threats(w), 5, 3, np.random.SeedSequence(1))
    rows = track_table.chunk_columns(w, ch)
    assert set(rows) == set(track_table.COLUMNS)
    assert {"nato-patriot", "radar nl-1-mpq65"} <= set(rows["picture"])
    assert set(rows["run"].tolist()) <= {5, 6, 7} and np.isfinite(rows["confirmed_s"]).all()
    order = np.lexsort((rows["track"], rows["picture"].astype(str), rows["run"]))
    assert (order == np.arange(order.size)).all()  # by run, picture, track number
    ev = event_columns(w, ch)
    named = (ev["track"] >= 0) & (ev["picture"] == "radar nl-1-mpq65")
    assert named.any()  # the battery on its own radar: its salvos and decisions name that radar's tracks
    assert (named & (ev["kind"] == "track") & (ev["actor"] == "radar nl-1-mpq65")).any()  # and its first firm ones
    have = set(zip(rows["run"].tolist(), rows["picture"].tolist(), rows["track"].tolist()))
    wanted = set(zip(ev["run"][ev["track"] >= 0].tolist(), ev["picture"][ev["track"] >= 0].tolist(),
                     ev["track"][ev["track"] >= 0].tolist()))
    assert wanted <= have
    # the chunk's lineage of each file, made once, is the file's own: the tables read it
    from shieldlab.outcome.file_quality import report_origin

    assert set(ch.origins) == set(ch.track_files)
    for name, (tf, reps) in ch.track_files.items():
        assert np.array_equal(ch.origins[name], report_origin(tf, list(reps)))
    # and the tables made from it equal those made without it
    bare = chain.ChunkResult(**{**ch.__dict__, "origins": {}})
    again = track_table.chunk_columns(w, bare)
    assert all(np.array_equal(rows[k], again[k], equal_nan=rows[k].dtype.kind == "f") for k in rows)


def test_a_sweep_over_the_association_has_tracks_of_its_gnn_points_only(tmp_path, capsys):
    out = tmp_path / "sw"
    assert main(["sweep", "epaa-phase-1", "--set", "tracking.association=labels,gnn", "--runs", "2",
                 "--out", str(out)]) == 0
    # its GOSPA column mixes two scorings: said under the table, as the report says it
    assert "GOSPA is scored in different ways at these points" in " ".join(capsys.readouterr().out.split())
    cols, rows = dataset.query(out, "SELECT tracking_association, count(*) FROM tracks GROUP BY ALL")
    assert [r[0] for r in rows] == ["gnn"] and rows[0][1] > 0


def test_a_look_at_a_dropped_track_says_the_tracker_had_dropped_it(tmp_path):
    """epaa-phase-1 under gnn, run 1 of seed 1: the ship's round at ghadr-istanbul#2's track
    missed; the tracker had dropped that track before the look, so the look saw no detection
    and judged the threat destroyed (wrongly: it flew on, on a new track). The row says the
    track was dropped and when, as the track table has it; a row whose track lived past its
    look says nothing of the kind."""
    out = tmp_path / "res"
    assert main(["run", "epaa-phase-1", "--runs", "4", "--seed", "1", "--set", "tracking.association=gnn",
                 "--out", str(out), "-q"]) == 0
    ev = pq.read_table(out / "events.parquet").to_pylist()
    tracks = pq.read_table(out / "tracks.parquet").to_pylist()
    ended = {(r["run"], r["picture"], r["track"]): r["ended_s"] for r in tracks}
    rows = [r for r in ev if r["reason"] == "assessed-killed" and r["track"] >= 0]
    dropped = [r for r in rows if ended[(r["run"], r["picture"], r["track"])] < r["t_s"]]
    assert dropped  # (seed 1: ghadr-istanbul#2 in run 1)
    for r in rows:
        end = ended[(r["run"], r["picture"], r["track"])]
        said = f"the tracker had dropped that track at {end:.0f} s, before the look"
        assert (said in r["detail"]) == (end < r["t_s"]), r


def test_a_tracks_file_says_what_made_it_and_what_its_columns_hold(tmp_path):
    """`tracks --out` wrote no word of its scenario, seed, runs or tracker settings (which its
    track numbers depend on), nor of its columns' units; and a file of no tracks would have
    written every column as a float.  The file's metadata holds both now, and an empty table
    keeps each column's type: that of a file with tracks."""
    import json

    out = tmp_path / "t.parquet"
    assert main(["tracks", "patriot-turkey-2013", "--runs", "2", "--seed", "3", "--false-alarms", "0",
                 "--out", str(out), "-q"]) == 0
    t = pq.read_table(out)
    meta = t.schema.metadata
    made = json.loads(meta[b"shieldlab.made_by"])
    assert made["scenario"] == "patriot-turkey-2013" and (made["runs"], made["seed"]) == (2, 3)
    assert made["tracking"]["filter"] == "ekf" and "confirm_looks" in made["tracking"]
    cols = json.loads(meta[b"shieldlab.columns"])
    assert list(cols) == list(track_table.COLUMNS) == t.column_names
    assert "[m]" in cols["position_rmse_m"] and "0 to 1" in cols["purity"]
    from shieldlab.io.output import arrow_table

    empty = arrow_table(track_table.empty_rows())
    assert empty.num_rows == 0 and empty.schema.equals(t.schema.remove_metadata())
