"""Parameter sweeps: settings, the dataset on disk, queries, and resuming after SIGKILL."""

from __future__ import annotations

import glob
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from test_cli import cli

from shieldlab.engine import sweep as S
from shieldlab.engine.chain import chunk_runs, preflight
from shieldlab.engine.montecarlo import simulate
from shieldlab.errors import InputError
from shieldlab.io import dataset

PRESET = "patriot-turkey-2013"


def _cli(*args):
    """``shieldlab ARGS`` as test_cli runs it (in this process; the kills below start real ones)."""
    return cli(*args)


def _refused(capsys, *args) -> str:
    """Run ``shieldlab ARGS`` in this process (no interpreter to start: it is to be refused
    before any work); its exit code must be 2; returns what it printed on stderr."""
    from shieldlab.cli import main

    capsys.readouterr()
    assert main([str(a) for a in args]) == 2
    return capsys.readouterr().err


# ------------------------------------------------------------------ settings


def test_a_setting_reads_its_path_and_values_as_yaml_scalars():
    s = S.parse_setting("batteries[0].rounds=8,16")
    assert s.path == ("batteries", 0, "rounds") and s.values == (8, 16) and s.column == "batteries_0_rounds"
    s = S.parse_setting("doctrine.threat_probability=0.05, 0.2")
    assert s.values == (0.05, 0.2) and s.column == "doctrine_threat_probability"
    assert S.parse_setting("doctrine.assignment=greedy,exact").values == ("greedy", "exact")
    assert S.parse_setting("tracking.filter=ekf").values == ("ekf",)


@pytest.mark.parametrize("text, words", [
    ("doctrine.salvo", "FIELD=VALUE"),
    ("doctrine..salvo=1", "field path"),
    ("batteries[x].rounds=1", "field path"),
    ("batteries[01].rounds=1", "field path"),  # one spelling of an index, one column
    ("batteries[-1].rounds=1,2", r"a list item is \[i\] with i = 0 or more, counted from the first \(got \[-1\]\)"),
    ("doctrine.salvo=1,,2", "empty value"),
    ("doctrine.salvo=1,1", "the value 1 is given twice"),
    ("doctrine.salvo={a: 1}", "single value"),
])
def test_bad_settings_are_named(text, words):
    with pytest.raises(InputError, match=words) as e:
        S.parse_setting(text)
    assert e.value.field == "--set"


def test_apply_sets_a_copy_and_makes_missing_sections():
    raw = {"batteries": [{"rounds": 4}], "name": "x"}
    out = S.apply(raw, S.parse_setting("batteries[0].rounds=9"), 9)
    assert out["batteries"][0]["rounds"] == 9 and raw["batteries"][0]["rounds"] == 4
    assert S.apply(raw, S.parse_setting("doctrine.salvo=2"), 2)["doctrine"] == {"salvo": 2}
    with pytest.raises(InputError, match=r"no batteries\[3\].*1 item"):
        S.apply(raw, S.parse_setting("batteries[3].rounds=1"), 1)
    with pytest.raises(InputError, match="not a mapping"):
        S.apply(raw, S.parse_setting("name.first=1"), 1)


def test_a_bad_value_names_the_set_and_the_field_before_anything_runs(tmp_path):
    source, raw = S.load(PRESET)
    with pytest.raises(InputError) as e:
        S.points(source, raw, [S.parse_setting("batteries[0].rounds=8,-3")])
    assert "--set batteries[0].rounds=-3" in str(e.value) and "rounds" in str(e.value)
    r = _cli("sweep", PRESET, "--set", "doctrine.salvo=1,0", "--runs", "2", "--out", tmp_path / "sw")
    assert r.returncode == 2 and "doctrine.salvo=0" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "sw").exists()


def test_a_bad_value_in_the_scenario_itself_is_the_scenarios_error_not_the_settings(tmp_path):
    source, raw = S.load(PRESET)
    bad = {**raw, "sites": {**raw["sites"], next(iter(raw["sites"])): {"lat": 95.0, "lon": 36.0}}}
    with pytest.raises(InputError) as e:
        S.points(source, bad, [S.parse_setting("doctrine.salvo=1,2")])
    assert e.value.problems[0][0].endswith(".lat") and "--set" not in str(e.value)
    # where a setting makes the same problem, the error names it
    with pytest.raises(InputError) as e:
        S.points(source, raw, [S.parse_setting(f"sites.{next(iter(raw['sites']))}.lat=95,36")])
    assert e.value.problems[0][0].startswith("--set sites.") and "=95" in e.value.problems[0][0]


def test_an_aim_out_of_reach_at_one_point_writes_nothing(tmp_path):
    """A point whose threat cannot reach its aim is refused before the sweep's folder is
    made, so the fixed sweep then runs into the same --out."""
    sets = [S.parse_setting("threats[2].aim=istanbul,bucharest")]  # a Ghadr-1 from Tabriz reaches Istanbul only
    with pytest.raises(InputError, match="out of reach") as e:
        S.run_sweep("epaa-phase-1", sets, 2, 1, tmp_path / "sw")
    # named by the --set value that made the point, as a value the scenario refuses is
    assert e.value.problems[0][0] == "--set threats[2].aim=bucharest: threats[2].aim"
    assert not (tmp_path / "sw").exists()
    with pytest.raises(InputError, match="the simulated time ends too soon") as e:
        S.run_sweep("epaa-phase-1", [S.parse_setting("duration_s=100,5000")], 2, 1, tmp_path / "sw")
    assert e.value.problems[0][0] == "--set duration_s=100: duration_s"
    assert not (tmp_path / "sw").exists()
    # refused as the scenario is written, whatever the settings: not named by them
    with pytest.raises(InputError, match="no ballistic threats") as e:
        S.run_sweep("turkey-airspace-2015", [S.parse_setting("doctrine.salvo=1,2")], 2, 1, tmp_path / "sw")
    assert e.value.problems[0][0] == "threats"
    assert not (tmp_path / "sw").exists()
    S.run_sweep("epaa-phase-1", [S.parse_setting("doctrine.salvo=1,2")], 2, 1, tmp_path / "sw")
    # the chunk size recorded is one a chunk can have: not more than the runs (it said 53 for 16)
    assert json.loads((tmp_path / "sw" / "sweep.json").read_text())["chunk"] == 2


# ------------------------------------------------------------------ the dataset


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "salvo"
    sets = [S.parse_setting("doctrine.salvo=1,2")]
    S.run_sweep(PRESET, sets, 70, 3, out)
    return out, sets


def test_a_point_is_the_run_of_its_scenario(swept):
    """Each point's summary is what `simulate` gives for the scenario with that value set,
    and its outcome rows are the same rows (plus the swept column)."""
    out, sets = swept
    source, raw = S.load(PRESET)
    pts = S.points(source, raw, sets)
    size = json.loads((out / "sweep.json").read_text())["chunk"]  # the smallest the points' memory asks for
    assert size == min(chunk_runs(p.world, preflight(p.world, 70)) for p in pts)
    for p in pts:
        res = simulate(p.world, runs=70, seed=3)
        summ = json.loads((out / "summaries" / f"point={p.index}.json").read_text())
        assert summ.pop("point") == p.index and summ.pop("set") == {"doctrine_salvo": p.index + 1}
        assert summ == res.summary
        files = sorted((out / "outcomes" / f"point={p.index}").glob("*.parquet"))
        assert len(files) == -(-70 // size)
        t = pq.read_table(files[0]).to_pydict()
        assert set(t["doctrine_salvo"]) == {p.index + 1}
        n = len(t["run"])
        np.testing.assert_array_equal(t["run"], res.outcomes["run"][:n])
        assert list(t["outcome"]) == list(res.outcomes["outcome"][:n])


def test_each_point_is_paired_with_point_0_raid_by_raid(swept):
    """points.parquet, the report and the command's table give each point's leakers against
    point 0's on the same raids: the mean of the per-run differences, its t interval and the
    raids with fewer and more leakers, as counted here from the outcomes; with the kill draws
    common to both salvos, a second round only ever saves a raid's threats (no raid has more)."""
    from shieldlab.stats import mean_interval

    out, _ = swept
    leak = {}
    for k in (0, 1):
        t = pq.read_table(out / "outcomes" / f"point={k}").to_pydict()
        runs = np.array(t["run"])
        leak[k] = np.array([sum(o == "leaked" for o, r in zip(t["outcome"], runs) if r == run)
                            for run in range(70)], float)
    d = leak[1] - leak[0]
    points = pq.read_table(out / "points.parquet").to_pydict()
    assert points["leakers_vs_point0"][0] is None and points["raids_fewer_leakers"][0] is None
    mean, lo, hi = mean_interval(d, lower=-4.0, upper=4.0)
    assert points["leakers_vs_point0"][1] == pytest.approx(mean) and mean < 0
    assert (points["leakers_vs_point0_lo"][1], points["leakers_vs_point0_hi"][1]) == pytest.approx((lo, hi))
    assert points["raids_fewer_leakers"][1] == int((d < 0).sum()) > 0 and points["raids_more_leakers"][1] == 0
    assert points["leakers_alike_in_every_raid"] == [None, False] and points["common_random_numbers"] == [True, True]
    # narrower than the two points' own intervals: what pairing the raids is for
    assert hi - lo < points["mean_leakers_hi"][0] - points["mean_leakers_lo"][0]
    page = (out / "report.html").read_text()
    assert "leakers vs point 0, raid by raid" in page and f"{mean:+.2f}".replace("-", "−") in page
    # every raid alike: said so, with the exact bound (a bare ±1.24 read as a wide doubt)
    from shieldlab.io.sweep_report import paired_text

    alike = {"leakers_vs_point0": 0.0, "leakers_vs_point0_ci95": [-1.235443, 1.235443],
             "leakers_alike_in_every_raid": True, "raids_fewer_leakers": 0, "raids_more_leakers": 0}
    assert paired_text(alike) == "0 in every raid (bound ±1.24)"
    assert paired_text(dict(alike, leakers_alike_in_every_raid=False)) == "+0.00 (−1.24 to +1.24) · 0 / 0"


def test_the_report_charts_the_swept_figures(swept):
    """report.html: what was swept, each point's figures as summary.json has them, and a chart of
    each headline figure against the swept value; no clock time in it."""
    import base64
    import re

    out, _ = swept
    page = (out / "report.html").read_text()
    assert "doctrine.salvo" in page and "doctrine_salvo" in page
    for k in (0, 1):
        summ = json.loads((out / "summaries" / f"point={k}.json").read_text())
        assert f"{summ['mean_leakers']:.2f}" in page and f"{summ['p_no_leaker']:.2f}" in page
    charts = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    # leakers, P(no leaker), interceptors fired, assets hit; and the track quality under labels:
    # GOSPA, position and velocity RMSE, NEES and its share above chi-square's 99 % point, first
    # firm track (no false tracks, breaks or purity)
    assert len(charts) == 4 + 6
    for k in (0, 1):
        (q,) = json.loads((out / "summaries" / f"point={k}.json").read_text())["track_quality"].values()
        g, (lo, hi) = q["gospa_m"] / 1e3, q["gospa_m_ci95"]
        assert f"{g:,.2f} ({lo / 1e3:,.2f}–{hi / 1e3:,.2f})" in page  # in km, as the run's report
    assert "GOSPA [km] against doctrine.salvo" in page and "purity" not in page
    assert "NEES against doctrine.salvo" in page and "NEES &gt; χ² 99 % [%] against" in page
    assert "score their tracks in" not in page  # one way, at every point
    assert "Every point runs the same raids" in page and "changes the raid itself" not in page
    assert all(base64.b64decode(c)[:8] == b"\x89PNG\r\n\x1a\n" for c in charts)
    assert not re.search(r"20\d\d-\d\d-\d\d[ T]\d\d:\d\d", page)  # no clock time


def test_query_answers_sql_over_the_points_and_tables(swept):
    out, _ = swept
    cols, rows = dataset.query(out, "SELECT doctrine_salvo, count(*) AS n, sum(CASE WHEN outcome = 'leaked' "
                                    "THEN 1 ELSE 0 END) AS leaked FROM outcomes GROUP BY 1 ORDER BY 1")
    assert cols == ["doctrine_salvo", "n", "leaked"]
    summ = [json.loads((out / "summaries" / f"point={i}.json").read_text()) for i in (0, 1)]
    threats = summ[0]["threats"]
    assert [r[1] for r in rows] == [70 * threats] * 2
    assert [r[2] / 70 for r in rows] == pytest.approx([s["mean_leakers"] for s in summ], abs=1e-6)
    cols, rows = dataset.query(out, "SELECT point, doctrine_salvo, mean_leakers FROM points ORDER BY point")
    assert rows == [(i, i + 1, summ[i]["mean_leakers"]) for i in (0, 1)]
    r = _cli("query", out, "SELECT doctrine_salvo, count(*) AS n FROM outcomes GROUP BY 1 ORDER BY 1", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [{"doctrine_salvo": 1, "n": 70 * threats}, {"doctrine_salvo": 2, "n": 70 * threats}]
    r = _cli("query", out, "SELECT point, mean_leakers FROM points ORDER BY point", "--csv")
    assert r.stdout.splitlines()[0] == "point,mean_leakers" and len(r.stdout.splitlines()) == 3
    # types JSON and CSV lack, written as data, not as Python's text ("3 days, 0:00:00", "b'ab'")
    odd = ("SELECT INTERVAL 3 DAY AS i, 'ab'::BLOB AS b, DATE '2015-11-24' AS d, 1.25::DECIMAL(5, 2) AS m, "
           "[1.0, 'nan'::DOUBLE] AS l, {'x': 'inf'::DOUBLE} AS s, 'nan'::DOUBLE AS f")
    r = _cli("query", out, odd, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [{"i": "PT259200S", "b": "YWI=", "d": "2015-11-24", "m": 1.25, "l": [1.0, None],
                                     "s": {"x": None}, "f": None}]
    r = _cli("query", out, odd, "--csv")
    assert r.stdout.splitlines() == ["i,b,d,m,l,s,f",
                                     'PT259200S,YWI=,2015-11-24,1.25,"[1.0, null]","{""x"": null}",nan']
    r = _cli("query", out, "SELEKT 1")
    assert r.returncode == 2 and "SQL" in r.stderr and "Traceback" not in r.stderr
    r = _cli("query", out.parent, "SELECT 1")
    assert r.returncode == 2 and "neither a sweep folder" in r.stderr


def test_point_quality_holds_each_points_track_quality_by_system(swept):
    """point_quality.parquet: a row per point and system, the summaries' track-quality means and
    intervals as columns (null where the tracking has no such figure), a view for queries."""
    from shieldlab.io.summary import TRACK_QUALITY_FILE_KEYS, TRACK_QUALITY_KEYS

    out, _ = swept
    t = pq.read_table(out / "point_quality.parquet").to_pylist()
    (system,) = json.loads((out / "summaries" / "point=0.json").read_text())["track_quality"]
    assert [(r["point"], r["doctrine_salvo"], r["system"]) for r in t] == [(0, 1, system), (1, 2, system)]
    for r in t:
        q = json.loads((out / "summaries" / f"point={r['point']}.json").read_text())["track_quality"][r["system"]]
        assert r["runs"] == q["runs"] == 70
        for k in TRACK_QUALITY_KEYS:
            assert (r[k], [r[k + "_lo"], r[k + "_hi"]]) == (q[k], q[k + "_ci95"]), k
        assert all(r[k] is None for k in TRACK_QUALITY_FILE_KEYS)  # labels: no track file to score
    cols, rows = dataset.query(out, "SELECT doctrine_salvo, gospa_m FROM point_quality ORDER BY point")
    assert rows == [(r["doctrine_salvo"], r["gospa_m"]) for r in t]


def test_point_quality_and_the_report_name_each_system_and_leave_out_what_no_point_has(monkeypatch):
    """Two systems are two rows a point and two lines a chart; figures no point has are neither
    columns of the report nor charts; points without tracks make no table and no section."""
    from shieldlab.io import sweep_report as R

    monkeypatch.setattr(R, "_png", lambda fig: (R.plt.close(fig), "")[1])
    manifest = {"settings": [{"field": "doctrine.salvo", "column": "doctrine_salvo", "values": [1, 2]}],
                "runs": 8, "seed": 1, "scenario": "preset x"}

    def quality(g):
        return {"gospa_m": g, "gospa_m_ci95": [g - 10.0, g + 10.0], "purity": 0.5, "purity_ci95": [0.4, 0.6],
                "runs": 8}

    rows = [{"point": i, "scenario": "x", "set": {"doctrine_salvo": v}, "mean_leakers": 1.0, "mean_assets_hit": 1.0,
             "p_no_leaker": 0.5, "mean_interceptors_fired": 2.0, "track_quality_method": f"method {v}",
             "track_quality": {"west": quality(1000.0 * v), "east": quality(2000.0 * v)}} for i, v in enumerate((1, 2))]
    t = dataset.point_quality(rows, ["doctrine_salvo"]).to_pylist()
    assert [(r["point"], r["system"], r["gospa_m"], r["gospa_m_lo"]) for r in t] == [
        (0, "east", 2000.0, 1990.0), (0, "west", 1000.0, 990.0), (1, "east", 4000.0, 3990.0),
        (1, "west", 2000.0, 1990.0)]
    assert t[0]["position_rmse_m"] is None and t[0]["purity_hi"] == 0.6
    page = R.build(manifest, rows)
    section = page[page.index("<h2>Track quality"):]
    assert "<th>system</th>" in section and "4.00 (3.99–4.01)" in section and "50.0 (40.0–60.0)" in section
    assert "GOSPA [km] against" in section and "purity [%] against" in section and "position RMSE" not in section
    # two ways of scoring among the points: said, with the points of each
    assert "score their tracks in 2 ways" in section and "point 0: method 1; point 1: method 2" in section
    # and each chart's caption says so too (read alone, a chart of GOSPA did not)
    assert "(95 % intervals as bars) — the points score their tracks in different ways (above): not one measure" \
        in section
    for r in rows:
        del r["track_quality"]
    assert dataset.point_quality(rows, ["doctrine_salvo"]) is None
    assert "Track quality" not in R.build(manifest, rows)


def test_a_line_no_point_of_has_the_figure_is_not_drawn(monkeypatch):
    """A figure only some points have (a track file's purity, in a sweep over the association)
    charts their lines alone: no legend entry for a line without points."""
    from shieldlab.io import sweep_report as R

    legends = []

    def keep(fig):
        legends.append(fig.axes[0].get_legend_handles_labels()[1])
        R.plt.close(fig)
        return ""

    monkeypatch.setattr(R, "_png", keep)
    settings = [{"column": "doctrine_salvo", "values": [1, 2]}, {"column": "assoc", "values": ["labels", "gnn"]}]
    rows = [{"set": {"doctrine_salvo": s, "assoc": a}, "purity": None if a == "labels" else 0.9}
            for s in (1, 2) for a in ("labels", "gnn")]
    R._chart(settings, rows, "purity", "purity_ci95", "purity", 0.0, 1.0)
    assert legends == [["assoc = gnn"]]


def test_a_charts_axis_spans_what_its_figure_can_be(monkeypatch):
    """A probability is charted on 0 to 1 and a count from 0, whatever the points: GOSPA of
    3.12 and 3.24 km (a difference well inside the intervals) on an axis fitted to them read
    as a steep climb."""
    from shieldlab.io import sweep_report as R

    spans = []

    def keep(fig):
        spans.append(fig.axes[0].get_ylim())
        R.plt.close(fig)
        return ""

    monkeypatch.setattr(R, "_png", keep)
    settings = [{"column": "doctrine_salvo", "values": [1, 2]}]
    rows = [{"set": {"doctrine_salvo": s}, "gospa": g, "gospa_ci95": [g - 0.1, g + 0.1], "p": p,
             "p_ci95": [p - 0.05, p + 0.05]} for s, g, p in ((1, 3.12, 0.62), (2, 3.24, 0.66))]
    R._chart(settings, rows, "gospa", "gospa_ci95", "GOSPA [km]", 0.0, None)
    R._chart(settings, rows, "p", "p_ci95", "P(no leaker)", 0.0, 1.0)
    (g_lo, g_hi), (p_lo, p_hi) = spans
    assert -0.2 < g_lo <= 0.0 and 3.34 <= g_hi < 4.0
    assert -0.05 < p_lo <= 0.0 and 1.0 <= p_hi < 1.05


def test_a_run_does_not_take_a_sweeps_folder(swept, capsys):
    """`run --out` on a sweep's folder is refused, with or without --force, as a sweep's, and the
    sweep is left as it was."""
    out, _ = swept
    before = sorted(p.name for p in out.iterdir())
    for force in ((), ("--force",)):
        err = _refused(capsys, "run", PRESET, "--runs", "2", "--out", out, *force)
        assert "holds a sweep (sweep.json), not a run's results" in err
    assert sorted(p.name for p in out.iterdir()) == before


def test_a_query_reads_the_sweeps_tables_only_and_writes_nothing(swept, tmp_path):
    """COPY ... TO (outside the folder or into it), another file read, a change of the
    settings that lock it, a statement that would change a table (CREATE TABLE answered
    "Count 1" as if kept): each refused as the query's error (InputError, field SQL), nothing
    written; questions in every form DuckDB answers them are answered."""
    out, _ = swept
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    for sql in (f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'", f"COPY (SELECT * FROM outcomes) TO '{out / 'x.csv'}'",
                "SELECT * FROM read_csv('/etc/passwd')", "SET enable_external_access = true",
                "CREATE TABLE z AS SELECT 1", "DROP VIEW outcomes", "INSERT INTO outcomes SELECT * FROM outcomes",
                "CREATE TABLE p AS PIVOT (SELECT point FROM outcomes) ON point"):
        with pytest.raises(InputError, match="reads the sweep's own tables and writes nothing") as e:
            dataset.query(out, sql)
        assert e.value.field == "SQL", sql
    assert not (tmp_path / "x.csv").exists()
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert dataset.query(out, "SELECT count(*) FROM outcomes")[1][0][0] > 0  # and reading still works
    for sql in ("DESCRIBE outcomes", "SUMMARIZE outcomes", "FROM outcomes LIMIT 1", "EXPLAIN SELECT 1",
                "PIVOT (SELECT point FROM outcomes) ON point", "WITH a AS (SELECT 1 AS x) SELECT x FROM a",
                "CALL pragma_table_info('outcomes')"):
        assert dataset.query(out, sql)[1], sql


def test_a_sweep_folder_is_not_overwritten_or_mixed(swept, tmp_path):
    out, sets = swept
    with pytest.raises(InputError, match="holds a finished sweep; give --force to replace it"):
        S.run_sweep(PRESET, sets, 70, 3, out)
    with pytest.raises(InputError, match="different sweep .other --seed.*give --force to replace it") as e:
        S.run_sweep(PRESET, sets, 70, 4, out, resume=True)
    assert e.value.field == "--resume"
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not a shieldlab sweep"):
        S.run_sweep(PRESET, sets, 2, 3, tmp_path, force=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"


# ------------------------------------------------------------------ resume


def _tables(root: Path) -> dict:
    """Every table of a sweep folder, chunk by chunk in order: name -> list of column dicts."""
    sw = dataset.Sweep(root, dataset.Sweep.read_manifest(root))
    out = {t: [pq.read_table(f).to_pydict() for f in sw.chunk_files(t)] for t in dataset.TABLES}
    out["points"] = [pq.read_table(root / "points.parquet").to_pydict()]
    return out


def _assert_same_rows(a: dict, b: dict) -> None:
    """Equal table for table, chunk for chunk, column for column, row for row (nan equal to nan)."""
    assert a.keys() == b.keys()
    for name in a:
        assert len(a[name]) == len(b[name]), name
        for ca, cb in zip(a[name], b[name]):
            assert list(ca) == list(cb), name
            for col in ca:
                x, y = ca[col], cb[col]
                assert len(x) == len(y), (name, col)
                assert all(u == v or (isinstance(u, float) and isinstance(v, float) and u != u and v != v)
                           for u, v in zip(x, y)), (name, col)


def test_a_sweep_killed_midway_resumes_to_the_same_dataset(tmp_path, capsys):
    """SIGKILL a real sweep once its first chunk is marked complete; --resume finishes it, and
    every table equals an uninterrupted sweep's, row for row; the killed chunk is not doubled."""
    args = ["sweep", PRESET, "--set", "doctrine.salvo=1,2", "--runs", "45", "--seed", "5", "--quiet"]
    whole = tmp_path / "whole"
    r = _cli(*args, "--out", whole)
    assert r.returncode == 0, r.stderr
    cut = tmp_path / "cut"
    _kill_after_first_chunk([*args, "--out", cut], cut / "done" / "point=*" / "chunk-*")
    manifest = json.loads((cut / "sweep.json").read_text())
    assert manifest["complete"] is False and not (cut / "points.parquet").exists()
    assert manifest["chunk"] < 45
    chunks = 2 * -(-45 // manifest["chunk"])  # two points, two chunks or more each
    done = len(list(cut.glob("done/point=*/chunk-*")))
    assert 1 <= done < chunks
    assert "--resume" in _refused(capsys, *args, "--out", cut)  # without --resume: refused, nothing touched
    r = _cli(*args[:-1], "--out", cut, "--resume")  # (not quiet: it says what it kept, at once)
    assert r.returncode == 0, r.stderr
    said = re.search(r"--resume: (\d+) of (\d+) chunks were done \(([\d,]+) of 90 runs\), kept", r.stderr)
    assert said and int(said.group(1)) == done and int(said.group(2)) == chunks, r.stderr
    assert json.loads((cut / "sweep.json").read_text())["complete"] is True
    _assert_same_rows(_tables(cut), _tables(whole))
    assert (cut / "report.html").read_bytes() == (whole / "report.html").read_bytes()
    bad = _tables(whole)
    bad["events"][-1]["t_s"][-1] += 1e-9  # the comparison sees a change in the last bit of the last row
    with pytest.raises(AssertionError):
        _assert_same_rows(bad, _tables(whole))
    assert len(list(cut.glob("outcomes/point=*/*.parquet"))) == chunks
    # finished: a sweep, like a run, has nothing left to resume, and is left as it is
    assert "nothing to resume" in _refused(capsys, *args, "--out", cut, "--resume")
    err = _refused(capsys, *args, "--out", cut)  # nor is --resume offered for it
    assert "finished sweep; give --force" in err and "--resume" not in err
    assert json.loads((cut / "sweep.json").read_text())["complete"] is True


def _kill_after_first_chunk(args: list, marker_glob: Path, after: Path | None = None) -> None:
    """Start ``shieldlab ARGS``, SIGKILL it as soon as a chunk marker matches the glob (and
    the path ``after`` exists, where given)."""
    p = subprocess.Popen([sys.executable, "-m", "shieldlab", *map(str, args)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        t0 = time.monotonic()
        # (``after`` first: once it exists, the markers found are those made since)
        while not ((after is None or after.exists()) and glob.glob(str(marker_glob))):
            assert p.poll() is None, "the command ended before it could be killed"
            assert time.monotonic() - t0 < 300
            time.sleep(0.05)
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()


def test_a_run_killed_midway_resumes_to_the_same_results(tmp_path, capsys):
    """`run --out` keeps finished chunks beside the results folder: SIGKILLed after its first
    chunk, the run is refused again without --resume, and with it writes the same summary
    and tables as an uninterrupted run, and removes what it kept."""
    args = ["run", PRESET, "--runs", "50", "--seed", "2", "--quiet"]  # several chunks
    r = _cli(*args, "--out", tmp_path / "whole")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["whole"]  # nothing kept after a finished run
    cut = tmp_path / "cut"
    _kill_after_first_chunk([*args, "--out", cut], tmp_path / ".cut.partial" / "done" / "point=0" / "chunk-*")
    assert not cut.exists()
    err = _refused(capsys, *args, "--out", cut)
    assert "--resume" in err and ".cut.partial" in err
    # a query of the folder it was writing points at what it kept (it said "no such folder or
    # file"); one of what it kept calls it a run, finished by shieldlab run (it said "the sweep")
    # (the command written out from what the stopped run was given)
    finish = f"shieldlab run {PRESET} --runs 50 --seed 2 --out {cut} --resume"
    err = " ".join(_refused(capsys, "query", cut, "select count(*) from outcomes").split())
    assert ".cut.partial" in err and finish in err, err
    r = _cli("query", tmp_path / ".cut.partial", "select count(*) as n from outcomes", "--json")
    assert r.returncode == 0 and 0 < json.loads(r.stdout)[0]["n"] < 50 * 4, r.stderr
    said = " ".join(r.stderr.split())
    assert "the run is not complete" in said and finish in said, said
    # another run count: not this run
    assert "different run (other --runs (it was given 50))" in _refused(capsys, *args[:-1], "--runs", "51", "--out",
                                                                       cut, "--resume")
    # other --set values alone: the scenario file is the same (it read "other scenario contents, --set values")
    other = _refused(capsys, *args[:-1], "--set", "doctrine.salvo=2", "--out", cut, "--resume")
    assert "other --set values: it was given none" in other and "scenario contents" not in other
    r = _cli(*args[:-1], "--out", cut, "--resume")  # (not quiet: its time is the rest's, and it says so)
    assert r.returncode == 0, r.stderr
    kept = re.search(r"\(resumed: ([\d,]+) of the runs were done before\)", " ".join(r.stdout.split()))
    assert kept and 0 < int(kept.group(1).replace(",", "")) < 50, r.stdout
    said = re.search(r"--resume: \d+ of \d+ chunks were done \(([\d,]+) of 50 runs\), kept", r.stderr)
    assert said and said.group(1) == kept.group(1), r.stderr
    assert not (tmp_path / ".cut.partial").exists()
    assert (json.loads((cut / "summary.json").read_text())
            == json.loads((tmp_path / "whole" / "summary.json").read_text()))
    for name in ("outcomes", "events", "track_quality"):
        _assert_same_rows({name: [pq.read_table(cut / f"{name}.parquet").to_pydict()]},
                          {name: [pq.read_table(tmp_path / "whole" / f"{name}.parquet").to_pydict()]})
    assert "nothing to resume" in _refused(capsys, *args, "--out", cut, "--resume")


def test_values_are_read_as_the_scenario_reads_them(tmp_path):
    """A count given as 2.0 is 2: the column has the field's type, and two values that validate
    alike are refused before anything runs; a flag given as 1 (or yes) is refused by name, as in
    a scenario file (it was taken as true)."""
    source, raw = S.load(PRESET)
    pts = S.points(source, raw, [S.parse_setting("doctrine.salvo=1.0,2")])
    assert [p.values["doctrine_salvo"] for p in pts] == [1, 2]
    assert all(type(p.values["doctrine_salvo"]) is int for p in pts)
    with pytest.raises(InputError, match="same value"):
        S.points(source, raw, [S.parse_setting("doctrine.salvo=2,2.0")])
    for flag in ("1", "yes"):
        with pytest.raises(InputError, match="expected true or false") as e:
            S.points(source, raw, [S.parse_setting(f"doctrine.shoot_look_shoot={flag},true")])
        assert "doctrine.shoot_look_shoot" in str(e.value)
    with pytest.raises(InputError, match="no sites.nosuch"):
        S.points(source, raw, [S.parse_setting("sites.nosuch.lat=37.1")])
    with pytest.raises(InputError, match="doctrine.salvo set twice"):
        S.points(source, raw, [S.parse_setting("doctrine.salvo=1"), S.parse_setting("doctrine.salvo=2")])
    r = _cli("query", tmp_path, "  ")
    assert r.returncode == 2 and "the query is empty" in r.stderr and "Traceback" not in r.stderr


def test_a_sweep_over_the_epoch_keeps_its_dates_as_written(tmp_path):
    """YAML reads an ISO 8601 date as a date, which no manifest can hold: a sweep over
    ``epoch`` crashed writing its manifest and left an empty folder.  The dates are kept as
    written (text, as the scenario file gives them), each point's column holding its instant in
    one spelling (UTC, ISO 8601), so one instant given twice is refused; and a manifest that
    cannot be written leaves nothing."""
    s = S.parse_setting("epoch=2013-01-01T00:00:00Z,2013-06-01")
    assert s.values == ("2013-01-01T00:00:00Z", "2013-06-01")
    source, raw = S.load(PRESET)
    pts = S.points(source, raw, [s])
    assert [str(p.world.scenario.epoch.date()) for p in pts] == ["2013-01-01", "2013-06-01"]
    assert [p.values["epoch"] for p in pts] == ["2013-01-01T00:00:00+00:00", "2013-06-01T00:00:00+00:00"]
    with pytest.raises(InputError, match="same value"):  # one instant spelt twice
        S.points(source, raw, [S.parse_setting("epoch=2013-06-01,2013-06-01T00:00:00Z")])
    with pytest.raises(TypeError):
        dataset.Sweep.open(tmp_path / "bad", {"runs": 1, "when": object()})
    assert not (tmp_path / "bad").exists()


def test_null_is_a_value_a_sweep_may_set(tmp_path):
    """``null`` is a YAML scalar, and some fields take it ("none", or the default): it was refused
    as "not a single value".  Its point's column holds a null, the others keep their type;
    query prints a null as the tables print a missing value."""
    source, raw = S.load(PRESET)
    pts = S.points(source, raw, [S.parse_setting("doctrine.look_time_s=null,3")])
    assert [p.values["doctrine_look_time_s"] for p in pts] == [None, 3.0]
    assert pts[0].world.scenario.doctrine.look_time_s is None
    S.run_sweep(PRESET, [S.parse_setting("doctrine.look_time_s=null,3")], 2, 1, tmp_path / "n")
    assert pq.read_table(tmp_path / "n" / "points.parquet").column("doctrine_look_time_s").to_pylist() == [None, 3.0]
    r = cli("query", str(tmp_path / "n"), "select doctrine_look_time_s from points order by point")
    assert r.returncode == 0
    assert [ln.split("│")[1].strip() for ln in r.stdout.splitlines() if ln.startswith("│")] == ["–", "3"]
    # the tables' chunks: the null point's column has the others' type (it was text, and avg() failed)
    r = cli("query", str(tmp_path / "n"), "select typeof(doctrine_look_time_s), avg(doctrine_look_time_s) from "
            "outcomes group by 1", "--json")
    assert r.returncode == 0, r.stderr
    assert [list(row.values()) for row in json.loads(r.stdout)] == [["DOUBLE", 3.0]]
    assert "null, 3" in (tmp_path / "n" / "report.html").read_text()  # (what was swept: not "None")


def test_text_columns_read_back_share_their_strings():
    """A text column read back from Parquet is the engine's object column: the same values
    (None for null), over several files' chunks, each distinct value one Python string, so
    10,000 runs' events do not hold a string object per row."""
    import pyarrow as pa

    col = pa.chunked_array([pa.array(["detect", None, "launch"]), pa.array(["launch", "detect", "detect"])])
    got = dataset._numpy(col)
    assert got.dtype == object and got.tolist() == ["detect", None, "launch", "launch", "detect", "detect"]
    assert got[0] is got[4] is got[5] and got[2] is got[3]
    np.testing.assert_array_equal(dataset._numpy(pa.chunked_array([pa.array([1.5, 2.5])])), [1.5, 2.5])
    assert dataset._numpy(pa.chunked_array([], type=pa.string())).size == 0


@pytest.mark.parametrize("chunk", [-3, 0, 1000, True, "abc", 17.5, None])
def test_a_resume_refuses_a_chunk_size_it_could_not_have_chosen(tmp_path, chunk):
    """An edited manifest's chunk size would read the stored chunks as other runs: --resume
    refuses it, naming the size, before anything runs or is rewritten."""
    out = tmp_path / "sw"
    S.run_sweep(PRESET, [S.parse_setting("doctrine.salvo=1")], 12, 2, out)
    manifest = json.loads((out / "sweep.json").read_text())
    manifest["chunk"] = chunk
    (out / "sweep.json").write_text(json.dumps(manifest))
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    with pytest.raises(InputError) as e:
        S.run_sweep(PRESET, [S.parse_setting("doctrine.salvo=1")], 12, 2, out, resume=True)
    assert e.value.field == "--resume" and "chunk size" in str(e.value)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_chunks_are_read_in_number_order(tmp_path):
    """Chunk files are named with five digits; a point of 100,000 chunks or more still reads
    them in run order, and only the chunks its runs make."""
    sw = dataset.Sweep.open(tmp_path / "sw", {"scenario": "x", "runs": 200_000, "seed": 1, "chunk": 1,
                                              "settings": []})
    for i in (100_000, 99_999, 10_000, 200_000):  # the last is past the runs: not read
        sw.write_chunk(0, i, {}, {"outcomes": {"run": np.array([i], np.int32)}, "events": {},
                                  "track_quality": {}})
    assert [int(c["run"][0]) for c in sw.point_chunks(0, "outcomes")] == [10_000, 99_999, 100_000]
    names = [f.stem for f in sw.chunk_files("outcomes")]
    assert names == ["chunk-10000", "chunk-99999", "chunk-100000", "chunk-200000"]


def test_a_run_that_fails_before_its_first_chunk_leaves_nothing(tmp_path):
    """Options found wrong only when the workers start (--workers with --scheduler) leave no
    stopped run behind: a second try is not told to --resume."""
    r = _cli("run", PRESET, "--runs", "3", "--out", tmp_path / "o", "--workers", "2", "--scheduler", "tcp://x:1")
    assert r.returncode == 2 and "--scheduler" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_sweep_over_the_name_is_titled_by_the_scenario_given(tmp_path, capsys):
    """The table's title names the scenario: its name where every point has the same one, the
    scenario as given where the name itself is swept (not point 0's)."""
    from shieldlab.cli import main

    assert main(["sweep", PRESET, "--set", "name=alpha,beta", "--runs", "2", "--out", str(tmp_path / "sw")]) == 0
    title = capsys.readouterr().out.strip().splitlines()[0]
    assert title.strip().startswith(f"{PRESET} —") and "alpha" not in title, title
    rows = [json.loads((tmp_path / "sw" / "summaries" / f"point={i}.json").read_text()) for i in (0, 1)]
    assert [r["scenario"] for r in rows] == ["alpha", "beta"]
    page = (tmp_path / "sw" / "report.html").read_text()
    assert f"<h1>{PRESET}: a sweep</h1>" in page and "alpha sweep" not in page


def test_sweep_chart_lines_stand_apart_and_names_are_not_joined(monkeypatch):
    """Two equal series hid each other in a sweep's chart, and text values (names, dates) on the
    x axis were joined by lines as if numbers lay between them: each series now stands a little
    aside, and categories get markers alone."""
    from shieldlab.io import sweep_report as R

    figs = []
    monkeypatch.setattr(R, "_png", lambda fig: figs.append(fig) or "")
    rows = [{"set": {"a": a, "b": b}, "m": 1.0, "m_ci95": [0.5, 1.5]} for a in (1, 2) for b in ("x", "y")]
    settings = [{"column": "a", "values": [1, 2]}, {"column": "b", "values": ["x", "y"]}]
    R._chart(settings, rows, "m", "m_ci95", "m", 0.0, None)
    lines = [ln for ln in figs[0].axes[0].get_lines() if ln.get_marker() == "o"]  # (not the caps)
    xs = [tuple(ln.get_xdata()) for ln in lines]
    assert len(set(xs)) == 2 and all(ln.get_linestyle() == "-" for ln in lines)  # numeric: joined, apart
    R._chart(settings[::-1], [{**r, "set": r["set"]} for r in rows], "m", "m_ci95", "m", 0.0, None)
    lines = [ln for ln in figs[1].axes[0].get_lines() if ln.get_marker() == "o"]
    assert lines and all(ln.get_linestyle() == "None" for ln in lines)  # names: markers alone
    assert len({tuple(ln.get_xdata()) for ln in lines}) == 2
    assert [t.get_text() for t in figs[1].axes[0].get_xticklabels()] == ["x", "y"]
    for f in figs:
        R.plt.close(f)


def test_a_sweep_over_values_its_columns_spell_otherwise_finishes_and_charts_them(tmp_path, monkeypatch):
    """A sweep's points hold an epoch in one spelling (UTC, ISO 8601) and a column of words and
    numbers as text ("5.0"), while its manifest keeps the values as given: the report matched
    the two and the sweep crashed at its end, every time it was resumed ("... is not in list"),
    or drew series without points where such a column came second.  It charts the values as
    the points hold them."""
    from shieldlab.io import sweep_report as R

    figs = []
    monkeypatch.setattr(R, "_png", lambda fig: figs.append(fig) or "")
    settings = [S.parse_setting("epoch=2013-06-01,2014-06-01"), S.parse_setting("sensing.false_alarms=confirmed,5")]
    sw = S.run_sweep(PRESET, settings, 1, 1, tmp_path / "s")
    assert dataset.Sweep.read_manifest(tmp_path / "s")["complete"] is True
    assert (tmp_path / "s" / "report.html").is_file()
    assert figs
    for f in figs:
        lines = [ln for ln in f.axes[0].get_lines() if ln.get_marker() == "o"]
        assert len(lines) == 2 and all(len(ln.get_xdata()) == 2 for ln in lines)  # two series of two points
        R.plt.close(f)
    assert sw.root == tmp_path / "s"


def test_a_stopped_sweep_resumes_from_its_scenario_named_another_way(tmp_path):
    """--resume compared the scenario's path as typed: the same file named from another folder,
    or by its absolute path, was "a different sweep (other scenario)".  The contents decide."""
    m = {"scenario": "mine.yaml", "scenario_sha256": "abc", "runs": 4, "seed": 1, "chunk": 4, "settings": []}
    dataset.Sweep.open(tmp_path / "s", m)  # stopped before it finished
    sw = dataset.Sweep.open(tmp_path / "s", dict(m, scenario="/elsewhere/mine.yaml"), resume=True)
    assert sw.manifest["scenario"] == "/elsewhere/mine.yaml"
    # other contents: the stopped one's scenario is named, as its --runs and --seed are (the
    # resume above recorded the path it was given)
    with pytest.raises(InputError, match=r"other scenario contents: it was /elsewhere/mine.yaml\)") as e:
        dataset.Sweep.open(tmp_path / "s", dict(m, scenario_sha256="abd"), resume=True)
    assert e.value.field == "--resume"
    with pytest.raises(InputError, match=r"other scenario contents\)"):  # (the same name: not said again)
        dataset.Sweep.open(tmp_path / "s", dict(m, scenario="/elsewhere/mine.yaml", scenario_sha256="abd"),
                           resume=True)


def test_a_sweep_resumes_only_under_the_code_that_started_it(tmp_path, monkeypatch):
    """The manifest recorded no code: a sweep stopped under one version resumed under another,
    its finished chunks beside chunks of other numbers.  It records the code's digest, and a
    resume under other code is refused, naming why."""
    from shieldlab.engine import sweep as S

    d = dataset.code_digest()
    assert len(d) == 64 and d == dataset.code_digest()
    S.checkpoint("patriot-turkey-2013", {"name": "x"}, 4, 1, tmp_path / "out", 4)  # a run stopped midway
    folder = S.partial_folder(tmp_path / "out")
    assert dataset.Sweep.read_manifest(folder)["code_sha256"] == d
    S.checkpoint("patriot-turkey-2013", {"name": "x"}, 4, 1, tmp_path / "out", 4, resume=True)  # the same code
    monkeypatch.setattr(dataset, "code_digest", lambda: "0" * 64)
    with pytest.raises(InputError, match=r"other shieldlab code or data") as e:
        S.checkpoint("patriot-turkey-2013", {"name": "x"}, 4, 1, tmp_path / "out", 4, resume=True)
    assert e.value.field == "--resume"


def test_a_damaged_sweep_folder_is_an_input_error_not_a_traceback(swept, tmp_path):
    """A manifest that is no JSON object, a truncated chunk, an unreadable point summary: each
    was a traceback (exit 1).  Each is an error naming the file; a summary that cannot be read
    is made again by --resume from its point's chunks."""
    import shutil

    src, sets = swept

    def copy(name):
        shutil.copytree(src, tmp_path / name)
        return tmp_path / name

    d = copy("manifest")
    (d / "sweep.json").write_text("[]")
    r = _cli("query", str(d), "select count(*) from outcomes")
    assert r.returncode == 2 and "not a sweep's manifest" in r.stderr and "Traceback" not in r.stderr
    d = copy("chunk")
    f = sorted((d / "outcomes").rglob("chunk-*.parquet"))[0]
    f.write_bytes(f.read_bytes()[:100])
    r = _cli("query", str(d), "select count(*) from outcomes")
    assert r.returncode == 2 and "cannot read the sweep's tables" in r.stderr and "Traceback" not in r.stderr
    d = copy("summary")
    m = json.loads((d / "sweep.json").read_text())
    (d / "sweep.json").write_text(json.dumps(dict(m, complete=False)))  # stopped just before its end
    (d / "summaries" / "point=0.json").write_text("{not json")
    S.run_sweep(PRESET, sets, 70, 3, d, resume=True)
    assert json.loads((d / "summaries" / "point=0.json").read_text()) == json.loads(
        (src / "summaries" / "point=0.json").read_text())


def test_a_query_is_one_statement_and_names_tables_the_sweep_lacks(swept, tmp_path):
    out, _ = swept
    r = _cli("query", str(out), "select 1; select 2")
    assert r.returncode == 2 and "holds 2 statements: give one" in r.stderr
    for nothing in (";", "/* a comment */"):  # answered nothing, exit 0
        r = _cli("query", str(out), nothing)
        assert r.returncode == 2 and "holds no statement" in r.stderr, nothing
    # a name the sweep has no table of: its tables listed; a column it lacks: DuckDB's candidates
    r = _cli("query", str(out), "select * from trakcs")
    assert r.returncode == 2 and "(the sweep's tables here: outcomes, events, track_quality, points, " \
        "point_threats, point_quality)" in r.stderr, r.stderr
    r = _cli("query", str(out), "select * from tracks")  # a labels sweep: no multi-target tracks
    assert r.returncode == 2 and "no rows of tracks" in r.stderr and "tracking.association gnn" in r.stderr
    r = _cli("query", str(out), "select gospa from point_quality")
    assert r.returncode == 2 and '(candidate bindings: "gospa_m"' in r.stderr, r.stderr
    blind = tmp_path / "blind"
    import shutil

    shutil.copytree(out, blind)
    shutil.rmtree(blind / "track_quality", ignore_errors=True)
    r = _cli("query", str(blind), "select * from track_quality")
    assert r.returncode == 2 and "this folder has no rows of track_quality" in r.stderr


def test_a_sweep_of_one_run_per_point_prints_its_table(tmp_path):
    """One run per point has no interval for a mean: the table's printing was a TypeError after
    the whole sweep was written (exit 1).  It says there is none."""
    r = _cli("sweep", PRESET, "--set", "doctrine.salvo=1,2", "--runs", "1", "--out", str(tmp_path / "s"))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and r.stdout.count("(no interval: one run)") == 4  # two means a row
    # each point's mean GOSPA beside its leakers, as its summary has it; --json: the whole track quality
    summ = [json.loads((tmp_path / "s" / "summaries" / f"point={k}.json").read_text()) for k in (0, 1)]
    assert "GOSPA km" in r.stdout
    for sm in summ:
        (q,) = sm["track_quality"].values()
        assert f"{q['gospa_m'] / 1e3:.2f} │" in r.stdout
    r = _cli("sweep", PRESET, "--set", "doctrine.salvo=1,2", "--runs", "1", "--out", str(tmp_path / "j"), "--json")
    assert r.returncode == 0, r.stderr
    assert [p["track_quality"] for p in json.loads(r.stdout)] == [sm["track_quality"] for sm in summ]


def test_a_sweeps_table_on_a_narrow_terminal_hides_no_number(tmp_path):
    """At 80 columns, two swept settings and the intervals: a cell too narrow wraps; none
    ends in "…" (the upper ends of the intervals were cut off)."""
    r = subprocess.run([sys.executable, "-m", "shieldlab", "sweep", PRESET, "--set", "doctrine.salvo=1,2",
                        "--set", "batteries[0].rounds=4,16", "--runs", "3", "--out", str(tmp_path / "s")],
                       capture_output=True, text=True, env={**os.environ, "COLUMNS": "80"}, timeout=600)
    assert r.returncode == 0, r.stderr
    table = r.stdout[:r.stdout.index("in parentheses")]
    assert "(" in table and "…" not in table
    assert max(len(line) for line in table.splitlines()) <= 80


def test_a_query_answers_over_a_runs_results_folder_too(tmp_path):
    """``shieldlab query`` over ``shieldlab run --out``'s folder: a view per table it wrote,
    read-only as over a sweep; a folder with neither a sweep nor a run's tables is refused."""
    out = tmp_path / "res"
    assert _cli("run", PRESET, "--runs", "2", "-q", "--out", out).returncode == 0
    N = len(json.loads((out / "summary.json").read_text())["per_threat"])
    cols, rows = dataset.query(out, "SELECT count(*) AS n, count(DISTINCT run) AS runs FROM outcomes")
    assert cols == ["n", "runs"] and rows == [(2 * N, 2)]
    assert dataset.query(out, "SELECT count(*) FROM events WHERE kind = 'fire'")[1][0][0] > 0
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(InputError, match="reads the run's own tables and writes nothing"):
        dataset.query(out, f"COPY (SELECT * FROM outcomes) TO '{out / 'x.csv'}'")
    with pytest.raises(InputError, match="the run's tables here: events, outcomes, track_quality") as e:
        dataset.query(out, "SELECT * FROM points")
    assert e.value.field == "SQL" and sorted(p.name for p in out.iterdir()) == before
    r = _cli("query", out, "SELECT count(*) AS n FROM outcomes", "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == [{"n": 2 * N}]
    # a refusal names the statement as written (INSTALL is a LOAD statement to DuckDB)
    with pytest.raises(InputError, match="SQL: INSTALL is not asked here"):
        dataset.query(out, "install httpfs")
    # a PRAGMA that answers is asked; one that sets a value is refused as that, not as "PRAGMA"
    # (the list of what may be asked left PRAGMA out, yet PRAGMA version answered)
    assert dataset.query(out, "PRAGMA table_info('outcomes')")[1]
    with pytest.raises(InputError, match="SQL: a PRAGMA that sets a value is not asked here.*a PRAGMA that answers"):
        dataset.query(out, "pragma memory_limit='1GB'")
    # single-precision columns come back as the float32's shortest decimal, not widened
    v = dataset.query(out, "SELECT CAST(239.2576 AS FLOAT) AS f, CAST(239.2576 AS FLOAT)::DOUBLE AS d")[1][0]
    assert v[0] == 239.2576 and v[1] != 239.2576
    # a missing number is NULL, as in a sweep: grouped by isnan() (nan went through the Parquet
    # statistics, which leave it out, and every row read False), counted and averaged alike
    rows = dataset.query(out, "SELECT count(*) FROM events")[1][0][0]
    missing = dataset.query(out, "SELECT count(*) FROM events WHERE closing_speed_kms IS NULL")[1][0][0]
    assert 0 < missing < rows  # (the closing speed of an intercept or a miss only)
    groups = dict(dataset.query(out, "SELECT closing_speed_kms IS NULL, count(*) FROM events GROUP BY 1")[1])
    assert groups == {True: missing, False: rows - missing}
    n, mean = dataset.query(out, "SELECT count(closing_speed_kms), avg(closing_speed_kms) FROM events")[1][0]
    assert n == rows - missing and np.isfinite(mean)
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _cli("query", empty, "SELECT 1")
    assert r.returncode == 2 and "neither a sweep folder" in r.stderr and "DIR" in r.stderr


def test_a_sweep_report_charts_value_lost_where_the_assets_differ_in_value(monkeypatch):
    """Where assets differ in value the run table shows the value lost; the sweep's report
    charts and tabulates it then, and leaves it out where it is the assets hit again."""
    from shieldlab.io import sweep_report as R

    monkeypatch.setattr(R, "_png", lambda fig: (R.plt.close(fig), "")[1])
    manifest = {"settings": [{"field": "doctrine.salvo", "column": "doctrine_salvo", "values": [1, 2]}],
                "runs": 8, "seed": 1, "scenario": "preset x"}

    def rows(lost_factor):
        return [{"point": i, "scenario": "x", "set": {"doctrine_salvo": v}, "mean_leakers": 1.0 / v,
                 "mean_assets_hit": 1.0 / v, "mean_value_lost": lost_factor / v, "p_no_leaker": 0.5,
                 "mean_interceptors_fired": 2.0 * v} for i, v in enumerate((1, 2))]

    assert "mean value lost" in R.build(manifest, rows(3.0))
    assert "mean value lost" not in R.build(manifest, rows(1.0))


@pytest.mark.parametrize("value, text", [(None, "null"), (True, "true"), (False, "false"),
                                         ("bucharest", "bucharest"), (2, "2"), (2.5, "2.5"), (1e-6, "1e-06")])
def test_a_point_is_labelled_by_its_values_as_written(value, text):
    assert S.as_written(value) == text


def test_a_mixed_scenarios_flights_are_named_not_silently_left_out(tmp_path):
    """A sweep runs the ballistic kill chain only: a scenario with flights beside its threats
    says so, and a --set on a flight's field, which would change nothing, is refused."""
    from test_air_cli import MIXED

    scn = tmp_path / "mixed.yaml"
    scn.write_text(MIXED)
    r = cli("sweep", str(scn), "--set", "doctrine.salvo=1,2", "--runs", "2", "--out", str(tmp_path / "a"))
    assert r.returncode == 0, r.stderr
    assert "note: a sweep runs the ballistic threats' kill chain only: the scenario's 1 flight entry is not flown" \
        in " ".join(r.stderr.split())
    r = cli("sweep", str(scn), "--set", "flights[0].failure_probability=0,0.5", "--runs", "2",
            "--out", str(tmp_path / "b"))
    assert r.returncode == 2 and "--set: flights[0].failure_probability: a sweep runs the ballistic threats'" \
        in " ".join(r.stderr.split())
    assert not (tmp_path / "b").exists()


def test_workers_and_scheduler_together_are_refused_before_compiling(tmp_path):
    for cmd in (["sweep", PRESET, "--set", "doctrine.salvo=1,2"], ["run", PRESET]):
        r = cli(*cmd, "--runs", "2", "--out", str(tmp_path / cmd[0]), "--workers", "2",
                "--scheduler", "tcp://127.0.0.1:1")
        assert r.returncode == 2 and "--scheduler: give --workers or --scheduler, not both" in r.stderr
        assert "compiling" not in r.stderr


def test_out_dot_is_the_folder_it_names_and_leftovers_of_a_killed_write_go(tmp_path):
    """``--out .`` keeps its chunks beside the folder, as any --out (it made ``./..partial``
    inside it and then refused its own leftovers); a results folder's temporary copy that a
    killed write left beside it is removed by the next write of that folder, nothing else."""
    here = tmp_path / "here"
    here.mkdir()
    r = cli("run", PRESET, "--runs", "2", "--out", ".", "-q", cwd=here)
    assert r.returncode == 0, r.stderr
    assert (here / "summary.json").exists() and sorted(p.name for p in here.iterdir() if p.name.startswith("."))== []
    stale = tmp_path / ".res.ab_cd123.tmp"
    stale.mkdir()
    (stale / "events.parquet").write_bytes(b"half")
    other = tmp_path / ".res.keep"
    other.mkdir()
    r = cli("run", PRESET, "--runs", "2", "--out", str(tmp_path / "res"), "-q")
    assert r.returncode == 0, r.stderr
    assert not stale.exists() and other.exists() and (tmp_path / "res" / "summary.json").exists()


def test_resume_with_nothing_to_finish_says_so_and_force_replaces_a_damaged_sweep(tmp_path):
    r = cli("sweep", PRESET, "--set", "doctrine.salvo=1,2", "--runs", "2", "--out", str(tmp_path / "nothere"),
            "--resume")
    assert r.returncode == 0 and "note: --resume: no stopped sweep in" in r.stderr
    r = cli("run", PRESET, "--runs", "2", "--out", str(tmp_path / "norun"), "--resume")
    assert r.returncode == 0 and "note: --resume: no stopped run of" in r.stderr
    # a run's folder given to a sweep's --resume: the refusal alone, not "starting it" before it
    r = cli("sweep", PRESET, "--set", "doctrine.salvo=1,2", "--runs", "2", "--out", str(tmp_path / "norun"),
            "--resume")
    assert r.returncode == 2 and "holds files that are not a shieldlab sweep" in r.stderr
    assert "note:" not in r.stderr, r.stderr
    # a run's folder of results without its summary (nothing to resume there either): the note
    # is said before it starts again (the folder is one a run writes)
    (tmp_path / "norun" / "summary.json").unlink()
    r = cli("run", PRESET, "--runs", "2", "--out", str(tmp_path / "norun"), "--resume")
    assert r.returncode == 0 and "note: --resume: no stopped run of" in r.stderr, r.stderr
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / dataset.MANIFEST).write_text("{bad json")
    r = cli("sweep", PRESET, "--set", "doctrine.salvo=1,2", "--runs", "2", "--out", str(bad))
    assert r.returncode == 2 and "--out: cannot read" in r.stderr
    r = cli("sweep", PRESET, "--set", "doctrine.salvo=1,2", "--runs", "2", "--out", str(bad), "--force")
    assert r.returncode == 0, r.stderr
    assert json.loads((bad / dataset.MANIFEST).read_text())["complete"] is True


def test_a_resumed_sweep_drops_the_half_written_files_of_a_killed_writer(tmp_path):
    manifest = {"scenario": "x", "runs": 2, "seed": 1, "chunk": 2, "settings": []}
    root = tmp_path / "sw"
    dataset.Sweep.open(root, manifest)
    half = root / "outcomes" / "point=0" / ".chunk-00000.parquet.fk_p77ps.tmp"
    half.parent.mkdir(parents=True)
    half.write_bytes(b"half")
    kept = root / "outcomes" / "point=0" / "chunk-00000.parquet"
    kept.write_bytes(b"a chunk")
    dataset.Sweep.open(root, manifest, resume=True)
    assert not half.exists() and kept.exists()


def test_sigterm_ends_a_run_as_ctrl_c_does(tmp_path):
    """A job's wall time or ``timeout`` sends SIGTERM: the command ends by an exception, so
    its cleanups run, with exit code 143; the chunks it finished are kept for --resume."""
    out = tmp_path / "big"
    p = subprocess.Popen([sys.executable, "-m", "shieldlab", "run", PRESET, "--runs", "20000", "--out", str(out),
                          "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # signalled once it is running its chunks (its folder's lock taken): a fixed 4 s sleep sent
    # it, on a loaded machine, while Python was still starting (exit -15, no handler yet)
    lock = tmp_path / ".big.lock"
    deadline = time.monotonic() + 120.0
    while not lock.exists() and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 143, err
    assert "Traceback" not in err and not out.exists()
    assert not [q for q in tmp_path.iterdir() if q.name.endswith(".tmp")]


def test_sigterm_inside_a_compiled_call_still_ends_with_143(monkeypatch):
    """SIGTERM's SystemExit raised while Numba unpickled a cached kernel came out of the C call
    as "SystemError: CPUDispatcher(...) returned a result with an exception set" caused by it:
    a traceback and exit code 1 (the test above, once in three clean clones).  The command line
    ends with the SystemExit's code; another SystemError is still raised."""
    from shieldlab import cli as C

    def stopped(**kw):
        try:
            raise SystemExit(143)
        except SystemExit as e:
            raise SystemError("CPUDispatcher(<function f>) returned a result with an exception set") from e

    monkeypatch.setattr(C, "app", stopped)
    assert C.main(["run", "x"]) == 143

    def broken(**kw):
        raise SystemError("something else")

    monkeypatch.setattr(C, "app", broken)
    with pytest.raises(SystemError, match="something else"):
        C.main(["run", "x"])


def test_the_sweeps_record_holds_values_as_the_scenario_reads_them(tmp_path):
    """``doctrine.salvo=2.0,1`` is recorded (and reported) as 2 and 1, the column's values,
    so a resume given ``2,1`` finds the same sweep and the record does not change spelling."""
    out = tmp_path / "c"
    r = cli("sweep", PRESET, "--set", "doctrine.salvo=2.0,1", "--runs", "2", "--out", str(out), "-q")
    assert r.returncode == 0, r.stderr
    manifest = json.loads((out / dataset.MANIFEST).read_text())
    assert manifest["settings"][0]["values"] == [2, 1]
    assert all(type(v) is int for v in manifest["settings"][0]["values"])


def test_a_chunk_whose_table_was_lost_is_a_damaged_sweep_not_a_missing_point(tmp_path):
    out = tmp_path / "k3"
    r = cli("sweep", PRESET, "--set", "doctrine.salvo=1,2", "--runs", "2", "--out", str(out), "-q")
    assert r.returncode == 0, r.stderr
    assert cli("query", str(out), "select count(distinct point) from outcomes", "--json").returncode == 0
    next((out / "outcomes" / "point=1").glob("chunk-*.parquet")).unlink()
    r = cli("query", str(out), "select point, count(*) from outcomes group by 1")
    assert r.returncode == 2 and "is damaged: 1 of its 2 completed chunks have no outcomes file" in r.stderr


def test_a_sweep_of_settings_run_does_not_read_under_labels_is_told_so():
    from shieldlab.cli.notes import _unread_sweep_note

    note = _unread_sweep_note("epaa-phase-1", [S.parse_setting("sensing.false_alarms=0,20"),
                                              S.parse_setting("doctrine.salvo=1,2")])
    assert note is not None and "sensing.false_alarms" in note and "come out the same" in note
    assert "doctrine.salvo" not in note
    assert _unread_sweep_note("epaa-phase-1", [S.parse_setting("doctrine.salvo=1,2")]) is None
    # a point that tracks with gnn reads them
    assert _unread_sweep_note("epaa-phase-1", [S.parse_setting("sensing.false_alarms=0,20"),
                                              S.parse_setting("tracking.association=labels,gnn")]) is None


def test_a_sweep_chart_names_the_fields_as_the_sweep_spelled_them(monkeypatch):
    """The charts' axis and legend read the columns (doctrine_salvo, batteries_0_rounds): they
    name the fields as --set spelled them; a share of about 0.1 % is drawn on its own scale,
    not flat on zero of a 0-100 axis."""
    from shieldlab.io import sweep_report as R

    figs = []
    monkeypatch.setattr(R, "_png", lambda fig: figs.append(fig) or "")
    settings = [{"field": "doctrine.salvo", "column": "doctrine_salvo", "values": [1, 2]},
                {"field": "batteries[0].rounds", "column": "batteries_0_rounds", "values": [4, 16]}]
    rows = [{"set": {"doctrine_salvo": s, "batteries_0_rounds": r}, "nees_over_99": 0.1 * s,
             "nees_over_99_ci95": [0.0, 0.2 * s]} for s in (1, 2) for r in (4, 16)]
    R._chart(settings, rows, "nees_over_99", "nees_over_99_ci95", "NEES > χ² 99 % [%]", 0.0, None)
    (ax,) = figs[0].axes
    assert ax.get_xlabel() == "doctrine.salvo"
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["batteries[0].rounds = 16",
                                                                          "batteries[0].rounds = 4"]
    assert ax.get_ylim()[1] < 5.0


def test_a_finished_sweep_made_by_other_code_has_nothing_to_resume(tmp_path, monkeypatch):
    """A finished sweep, resumed after any change to the package, was "a different sweep
    (other shieldlab code or data)": it is the same sweep, finished, with nothing to resume."""
    m = {"scenario": "mine.yaml", "scenario_sha256": "abc", "runs": 4, "seed": 1, "chunk": 4, "settings": [],
         "code_sha256": "a" * 64}
    sw = dataset.Sweep.open(tmp_path / "s", m)
    dataset.write_text(sw.root / dataset.MANIFEST, json.dumps(dict(m, complete=True)))
    with pytest.raises(InputError, match=r"holds a finished sweep: nothing to resume \(made by other shieldlab") as e:
        dataset.Sweep.open(tmp_path / "s", dict(m, code_sha256="b" * 64), resume=True)
    assert e.value.field == "--resume"
    with pytest.raises(InputError, match=r"holds a different sweep .*--seed \(it was given 1\)\)"):  # another sweep
        dataset.Sweep.open(tmp_path / "s", dict(m, code_sha256="b" * 64, seed=2), resume=True)


def test_points_that_came_out_alike_are_named_under_the_table():
    """The user guide's sweep over a battery's rounds (4 and 16) changed nothing: that battery
    never fires more than two rounds a raid, and the table's rows came in identical pairs
    without a word.  The points alike in every mean and probability of their summaries are named,
    with what differs between them; points that differ are not.  The intervals are not compared:
    the rounds cap the interceptor counts' interval, so the pair's bounds differed with nothing
    else (a review's sweep over rounds 1 and 16 named no points)."""
    from shieldlab.io.sweep_report import alike_points as _alike_points

    def row(point, salvo, rounds, leakers, p_kahraman):
        return {"point": point, "set": {"doctrine_salvo": salvo, "batteries_0_rounds": rounds},
                "mean_leakers": leakers, "mean_leakers_ci95": [0.0, 1.0], "p_no_leaker": 0.5,
                "per_threat": [{"threat": "k", "p_intercept": p_kahraman, "mean_interceptors": 1.0}]}

    fields = {"doctrine_salvo": "doctrine.salvo", "batteries_0_rounds": "batteries[0].rounds"}
    rows = [row(0, 1, 1, 0.75, 0.5), row(1, 1, 16, 0.75, 0.5), row(2, 2, 1, 0.38, 0.6), row(3, 2, 16, 0.19, 0.9)]
    rows[1]["mean_leakers_ci95"] = [0.0, 1.5]  # another cap, the same runs
    assert _alike_points(rows, fields) == ("alike in every mean and probability of their summaries: points 0, 1 "
                                           "(batteries[0].rounds = 1, 16): what differs between them changed "
                                           "nothing in these runs")
    manifest = {"scenario": "x", "runs": 16, "seed": 1, "settings": [
        {"field": f, "column": c, "values": sorted({r["set"][c] for r in rows})} for c, f in fields.items()]}
    from shieldlab.io import sweep_report as R

    assert "Alike in every mean and probability of their summaries: points 0, 1 (batteries[0].rounds = 1, 16)" \
        in R.build(manifest, rows)
    rows[1]["per_threat"][0]["p_intercept"] = 0.56  # one threat's figure apart: not alike
    assert _alike_points(rows, fields) is None


def test_a_swept_list_item_is_named_by_its_name_in_charts():
    """A chart's legend read `batteries[0].rounds = 16` and nothing said which battery that is:
    the sweep records each field with its list items' names, as the charts show them."""
    from shieldlab.io import sweep_report as R

    source, raw = S.load(PRESET)
    battery, threat = raw["batteries"][0]["name"], raw["threats"][0]["name"]
    assert S.parse_setting("batteries[0].rounds=1,16").named(raw) == f"batteries[0] ({battery}).rounds"
    assert S.parse_setting("doctrine.salvo=1,2").named(raw) == "doctrine.salvo"
    assert S.parse_setting("threats[0].launch_time_s=5").named(raw) == f"threats[0] ({threat}).launch_time_s"
    assert R._named({"column": "x_0_y", "field": "x[0].y"}) == "x[0].y"  # a sweep recorded before the names


def test_each_threats_p_intercept_at_each_point_is_a_view_with_its_interval(swept):
    """An analyst's first question, a threat's P(intercept) at each point with its interval,
    was in each point's summary.json only: the SQL over outcomes gave the share without its
    Wilson interval.  point_threats holds it, equal to the summaries and to the outcomes."""
    out, _ = swept
    cols, rows = dataset.query(out, "select point, doctrine_salvo, threat, p_intercept, p_intercept_lo, "
                                    "p_intercept_hi, runs from point_threats order by point, threat")
    summ = {p: json.loads((out / "summaries" / f"point={p}.json").read_text()) for p in (0, 1)}
    want = [(p, p + 1, t["threat"], t["p_intercept"], *t["p_intercept_ci95"], 70)
            for p in (0, 1) for t in sorted(summ[p]["per_threat"], key=lambda t: t["threat"])]
    assert [tuple(r) for r in rows] == want
    _, share = dataset.query(out, "select point, threat, avg((outcome = 'intercepted')::int) from outcomes "
                                  "group by all order by all")
    assert [(p, t, pytest.approx(v)) for p, t, v in share] == [(r[0], r[2], r[3]) for r in rows]


def test_points_hold_every_interval_the_report_shows(swept):
    """The report showed intervals of the interceptors fired, the assets hit and the value lost
    that points.parquet and `sweep --json` did not have."""
    out, _ = swept
    t = pq.read_table(out / "points.parquet").to_pydict()
    for p in (0, 1):
        s = json.loads((out / "summaries" / f"point={p}.json").read_text())
        for k in ("mean_leakers", "mean_interceptors_fired", "mean_assets_hit", "mean_value_lost"):
            assert [t[k + "_lo"][p], t[k + "_hi"][p]] == s[k + "_ci95"], k


def test_the_code_digest_leaves_out_only_modules_that_make_no_chunk_numbers():
    """Any change to the package, the command line's wording too, made a stopped sweep
    unresumable.  The digest leaves out the modules that only draw or print (each one a file
    or folder of the package), and the modules that make a chunk's numbers load none of them."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(dataset.__file__).resolve().parents[1]
    assert all((root / f).is_dir() if f.endswith("/") else (root / f).is_file() for f in dataset.PRESENTATION)
    names = ["shieldlab." + (f.rstrip("/") if f.endswith("/") else f[:-3]).replace("/", ".")
             for f in dataset.PRESENTATION]
    code = ("import sys; import shieldlab.engine.sweep, shieldlab.engine.distribute, shieldlab.engine.montecarlo, "
            f"shieldlab.io.dataset; print(sorted(m for m in sys.modules for n in {names!r} "
            "if m == n or m.startswith(n + '.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_folder_being_written_is_refused_to_a_second_writer(tmp_path):
    """Two commands on one --out at once (a job submitted again while the first still ran): a
    second sweep with --force emptied the folder under the first, and finished 'complete' with
    chunks of both.  Each run or sweep into a folder now holds it; a second is refused, naming
    the first one's process, exit 2, the folder untouched; once the holder is gone (even by
    SIGKILL), the folder is free again."""
    out = tmp_path / "busy"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from shieldlab.io.lock import writing\n"
        f"with writing({str(out)!r}):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        for args in (["sweep", PRESET, "--set", "doctrine.salvo=1,2", "--runs", "2", "--force"],
                     ["run", PRESET, "--runs", "2", "--force"],
                     ["run", "turkey-airspace-2015", "--runs", "1", "--force"]):  # (an air picture's run too)
            r = _cli(*args, "--out", out)
            assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
            assert f"is being written by another shieldlab command (process {holder.pid})" in r.stderr
            assert not out.exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    r = _cli("run", PRESET, "--runs", "2", "--out", out, "-q")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy"]  # no lock file left behind
    # one folder named two ways (through a link) is one folder, with one lock
    from shieldlab.io.lock import lock_path, writing

    (tmp_path / "link").symlink_to(out)
    assert lock_path(tmp_path / "link") == lock_path(out)
    with writing(out), pytest.raises(InputError, match="being written by another"):
        with writing(tmp_path / "link"):
            pass


@pytest.mark.parametrize("field, value", [("doctrine.salvo", 2), ("batteries[0].rounds", 4),
                                          ("sensors[0].boresight_az_deg", 150), ("architecture", "independent"),
                                          ("threats[1].launch_time_s", 100), ("threats[2].aim", "gaziantep")])
def test_a_sweep_says_when_its_points_do_not_run_the_same_raids(field, value):
    """A sweep's report said every point runs the same raids, yet a swept threat (its launch
    time, its aim) deals every other threat's radar looks and noise over again: scud-c-adana's
    first detection moved from 243 to 222 s in run 0 under threats[1].launch_time_s = 100.
    engine.sweep.redealing names the fields that do so; this holds its list to the model:
    under the others each threat's dispersed flight and first detection are as they were."""
    from shieldlab.scenario import load_world

    def per_threat(world):
        o = simulate(world, runs=6, seed=1).outcomes
        # the swept threat itself aside: it flies, and is seen, otherwise
        swept = re.match(r"threats\[(\d+)\]", field)
        changed = world.threats[int(swept.group(1))].name if swept else None
        return {(int(r), str(t)): (float(a), float(d)) for r, t, a, d in
                zip(o["run"], o["threat"], o["aim_miss_km"], o["first_detection_s"]) if t != changed}

    world = S.with_settings(PRESET, [S.parse_setting(f"{field}={value}")])[2]
    other = per_threat(world)
    base = per_threat(load_world(PRESET))
    assert set(other) == set(base)
    alike = other == base
    assert alike == (not S.redealing([field])), field
    note = S.common_draws_note([field])
    assert ("same raids" in note) == alike and (field in note) == (not alike)
    # a radar's type sets its scan period, so its scans: its looks are dealt over again (its
    # first detections move by its own merit too, so this test's measure cannot tell it)
    assert S.redealing(["sensors[2].type", "sensors[2].boresight_az_deg"]) == ["sensors[2].type"]


def test_a_sweep_stopped_after_its_last_chunk_says_so(tmp_path):
    """Killed after its last chunk but before its summaries, a sweep's folder read "not
    complete (12 of 12 chunks)" and its resume "12 of 12 chunks were done ... running the
    rest": now both say every chunk is done and only the results are left to write."""
    from shieldlab.io.dataset import progress_note, resumed_note

    args = ["sweep", PRESET, "--set", "doctrine.salvo=1,2", "--runs", "4", "--quiet"]
    out = tmp_path / "sw"
    assert _cli(*args, "--out", out).returncode == 0
    manifest = json.loads((out / "sweep.json").read_text())
    (out / "sweep.json").write_text(json.dumps(dict(manifest, complete=False)))  # as if killed before the end
    note = " ".join((progress_note(out) or "").split())
    assert "every chunk of the sweep is done (2 of 2)" in note, note
    assert f"shieldlab sweep {PRESET} --runs 4 --seed 1 --set doctrine.salvo=1,2 --out {out} --resume" in note
    assert resumed_note(2, 2, 4, 4) == "--resume: all 2 chunks were done (4 runs), kept; writing the results"
    assert resumed_note(1, 2, 2, 4) == "--resume: 1 of 2 chunks were done (2 of 4 runs), kept; running the rest"
    # while a command writes it, its --resume would be refused: not offered, the writer named
    from shieldlab.io.lock import held_by, writing

    assert held_by(out) is None
    with writing(out):
        assert held_by(out) == str(os.getpid())
        note = " ".join((progress_note(out) or "").split())
        assert f"the sweep is being written (process {os.getpid()}; 2 of 2 chunks done)" in note
        assert "--resume" not in note
    assert held_by(out) is None and not (tmp_path / ".sw.lock").exists()
    # made by other code, it cannot be resumed (refused so): a run again is offered instead
    (out / "sweep.json").write_text(json.dumps(dict(manifest, complete=False, code_sha256="0" * 64)))
    note = " ".join((progress_note(out) or "").split())
    assert "made by other shieldlab code or data, so this version cannot finish it" in note, note
    assert f"--out {out} --force runs it again" in note and "--resume" not in note
    assert "other shieldlab code" in _cli(*args, "--out", out, "--resume").stderr


def test_a_swept_time_step_runs_the_same_raids_where_it_leaves_the_scans_alike(tmp_path):
    """A sweep over time_step_s said its points no longer share their draws, yet with 1 s and
    2 s every run and threat came out the same: the radars deal their looks and noise over
    their scans, and these two steps end the grid, and so the scans, at the same time.  The
    sweep now counts each point's scans (engine.sweep.scans_of): alike, its points run the
    same raids (the outcomes equal, row for row); 3 s ends the grid 2 s later, four more
    scans, and the draws are dealt over again, which it then says."""
    out = tmp_path / "alike"
    r = _cli("sweep", "patriot-turkey-2013", "--set", "time_step_s=1,2", "--runs", "4", "--out", out)
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "sweep.json").read_text())["common_random_numbers"] is True
    assert "deals the radars' looks and noise over again" not in " ".join(r.stdout.split())
    from shieldlab.io.dataset import query

    _, rows = query(out, "select point, run, threat, outcome, first_detection_s, track_confirmed_s, intercept_time_s "
                         "from outcomes order by run, threat, point")
    assert len(rows) == 2 * 4 * 4 and all(a[1:] == b[1:] for a, b in zip(rows[::2], rows[1::2]))
    out = tmp_path / "redealt"
    r = _cli("sweep", "patriot-turkey-2013", "--set", "time_step_s=1,3", "--runs", "2", "--out", out)
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "sweep.json").read_text())["common_random_numbers"] is False
    assert "time_step_s changes the raid itself or a radar's scans" in " ".join(r.stdout.split())
    assert "time_step_s changes the raid itself" in (out / "report.html").read_text()
    # a threat's field re-deals whatever the scans: the raid itself changed
    assert not S.common_draws(["threats[0].launch_time_s"], [(5,), (5,)])
    # a radar's type re-deals too (its search frames, its false alarms), its scans alike or not
    assert not S.common_draws(["sensors[1].type"], [(5, 7), (5, 7)])
    assert S.common_draws(["time_step_s"], [(5, 7), (5, 7)]) and not S.common_draws(["time_step_s"], [(5, 7), (5, 9)])


def test_a_forced_sweep_killed_midway_keeps_the_sweep_it_was_replacing(tmp_path):
    """`sweep --force` deleted the finished sweep in its folder before the new one had run: a
    forced overnight sweep killed midway lost the night before's.  Now the old one waits in
    .DIR.replaced beside it until the new one is finished (a second --force keeps that one,
    not the unfinished chunks); --resume finishes the new one and the old one goes then."""
    base = ["sweep", PRESET, "--set", "doctrine.salvo=1,2", "--quiet"]
    out = tmp_path / "sw"
    assert _cli(*base, "--runs", "2", "--seed", "1", "--out", out).returncode == 0
    old = (out / "points.parquet").read_bytes()
    aside = tmp_path / ".sw.replaced"
    whole = [*base, "--runs", "30", "--seed", "9"]
    assert _cli(*whole, "--out", tmp_path / "first").returncode == 0  # the same sweep, uninterrupted
    args = [*whole, "--out", out, "--force"]
    # (the old sweep's markers lie in the folder until it is moved aside: the new one's first
    # is waited for in the folder moved, as the old one's runs had one chunk a point)
    _kill_after_first_chunk(args, out / "done" / "point=*" / "chunk-*", after=aside)
    assert (aside / "points.parquet").read_bytes() == old
    assert json.loads((out / "sweep.json").read_text())["seed"] == 9 and not (out / "points.parquet").exists()
    for f in out.glob("done/point=*/chunk-*"):  # (so that the next marker is the new run's)
        f.unlink()
    _kill_after_first_chunk(args, out / "done" / "point=*" / "chunk-*")  # forced again, killed again
    assert (aside / "points.parquet").read_bytes() == old
    r = _cli(*whole, "--out", out, "--resume")
    assert r.returncode == 0, r.stderr
    assert not aside.exists() and json.loads((out / "sweep.json").read_text())["complete"] is True
    _assert_same_rows(_tables(out), _tables(tmp_path / "first"))
    r = _cli(*base[:-1], "--runs", "2", "--out", out, "--force")  # said, where it is said
    assert r.returncode == 0 and f"is kept in {aside} until this one is finished" in " ".join(r.stderr.split())
    assert not aside.exists()
