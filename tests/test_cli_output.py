"""The command as an analyst scripts it: results folders written whole, maps in the format
asked for, user text printed literally, intervals, --half-width, --explain, --version,
--quiet, the progress bar, the first-compile note and a cache folder that can be written."""

import io
import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import test_cli

import shieldlab
from shieldlab.cli import common as cli
from shieldlab.cli import main
from shieldlab.cli.run import _simulate
from shieldlab.cli.summary import _print_summary

EXE = [sys.executable, "-m", "shieldlab"]

# one Scud, one Patriot battery with its radar: the fastest kill chain; names full of markup
TINY = """name: "raid [bold]x[/] [/]"
epoch: 2013-03-01T00:00:00Z
time_step_s: 1.0
sites:
  pad: {lat: 35.13, lon: 36.75}
  bat: {lat: 37.05, lon: 37.35}
sensors:
  - {name: "radar [red]", type: an-mpq-65, site: bat, boresight_az_deg: 190, system: s}
batteries:
  - {name: "bat [/]", interceptor: pac-3-mse, site: bat, rounds: 4, system: s}
assets:
  - {name: "city [bold]", site: {lat: 37.07, lon: 37.38}, radius_km: 10}
threats:
  - {name: "scud [/]", missile: scud-b, launch: pad, aim: "city [bold]", launch_time_s: 0}
"""
# the same raid with the battery and its radar 900 km away: nobody fires
FAR = TINY.replace("bat: {lat: 37.05, lon: 37.35}", "bat: {lat: 41.0, lon: 29.0}")


def cli_run(*args, cwd=None, env=None, process=False):
    """``shieldlab ARGS`` as test_cli runs it: in this process, or in a new one (``process``)."""
    return test_cli.cli(*args, cwd=cwd, env=env, process=process)


@pytest.fixture
def tiny(tmp_path):
    p = tmp_path / "scn[copy].yaml"
    p.write_text(TINY)
    return p


@pytest.fixture
def wide():
    """Print the in-process tables 200 columns wide."""
    old = cli.out._width
    cli.out.width = 200
    yield
    cli.out._width = old


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if anything is simulated."""
    from shieldlab.engine import montecarlo

    def boom(*a, **k):
        raise AssertionError("simulated although the input was bad")

    monkeypatch.setattr(montecarlo, "simulate", boom)


def _error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


# --- results folders -----------------------------------------------------------------------------

def test_out_existing_file_refused_before_simulating(tiny, tmp_path, capsys, no_simulation):
    f = tmp_path / "taken"
    f.write_text("keep me")
    assert main(["run", str(tiny), "--runs", "4", "--out", str(f)]) == 2
    line = _error_line(capsys.readouterr().err)
    assert "--out" in line and "not a folder" in line
    assert f.read_text() == "keep me"


def test_out_under_a_file_refused_before_simulating(tiny, tmp_path, capsys, no_simulation):
    (tmp_path / "file").write_text("x")
    assert main(["run", str(tiny), "--runs", "4", "--out", str(tmp_path / "file" / "res")]) == 2
    assert "--out" in _error_line(capsys.readouterr().err)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc, a folder nobody can write in")
def test_out_unwritable_parent_refused_before_simulating(tiny, capsys, no_simulation):
    assert main(["run", str(tiny), "--runs", "4", "--out", "/proc/shieldlab-results/run1"]) == 2
    line = _error_line(capsys.readouterr().err)
    assert "--out" in line and "cannot write" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in read-only folders")
def test_out_read_only_folder_refused_before_simulating(tiny, tmp_path, capsys, no_simulation):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o555)
    try:
        assert main(["run", str(tiny), "--runs", "4", "--out", str(d)]) == 2
    finally:
        d.chmod(0o755)
    assert "--out" in _error_line(capsys.readouterr().err)


def test_read_only_folder_refused_where_writing_fails(tiny, tmp_path, capsys, monkeypatch, no_simulation):
    """Whether a folder is writable is tried, not read from mode bits: a failing try refuses it."""
    import tempfile

    d = tmp_path / "ro"
    d.mkdir()
    real = tempfile.mkstemp

    def mkstemp(*a, dir=None, **k):
        if dir is not None and Path(dir) == d:
            raise PermissionError(13, "Permission denied")
        return real(*a, dir=dir, **k)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    assert main(["run", str(tiny), "--runs", "4", "--out", str(d)]) == 2
    assert "--out" in _error_line(capsys.readouterr().err)


def test_existing_results_need_force_and_are_replaced_whole(tiny, tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", str(tiny), "--runs", "4", "--out", str(out), "--quiet"]) == 0
    first = {f: (out / f).read_bytes() for f in ("summary.json", "outcomes.parquet", "events.parquet")}
    capsys.readouterr()
    # a second run into the same folder: refused, the folder untouched
    assert main(["run", str(tiny), "--runs", "5", "--out", str(out), "--quiet"]) == 2
    assert "--force" in _error_line(capsys.readouterr().err)
    assert {f: (out / f).read_bytes() for f in first} == first
    # with --force: a new folder, not a merge (a stale file of the old one does not survive)
    (out / "events.parquet").unlink()
    assert main(["run", str(tiny), "--runs", "5", "--out", str(out), "--quiet", "--force"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["events.parquet", "outcomes.parquet", "report.html",
                                                       "scene.czml", "summary.json", "track_quality.parquet"]
    assert json.loads((out / "summary.json").read_text())["runs"] == 5
    assert pq.read_table(out / "outcomes.parquet").num_rows == 5
    # the report's track quality has the run table's columns (it left out the localisation)
    page = (out / "report.html").read_text()
    table = page.split("<h2>Track quality</h2>")[1].split("</table>")[0]
    heads = re.findall(r"<th>([^<]*)</th>", table)
    assert heads == ["picture", "GOSPA [km]", "localisation [m]", "missed targets", "false tracks",
                     "position RMSE [m]", "velocity RMSE [m/s]", "mean NEES (6 if consistent; under 6: cautious)",
                     "updates with NEES above χ² 99 % [%] (1 if consistent)", "time to firm track [s]"]
    # GOSPA in km, as the terminal's table gives it (summary.json keeps metres)
    (name, q), = json.loads((out / "summary.json").read_text())["track_quality"].items()
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", table)
    assert cells[0] == name and cells[1].startswith(f"{q['gospa_m'] / 1e3:.2f} (")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    # the intervals' methods, each after what it bounds (the means' long text, which ends in a
    # clause of its own, had run into "... for means")
    import html

    from shieldlab.io.report import MAP_SOURCES

    s = json.loads((out / "summary.json").read_text())
    assert (f"Intervals of probabilities: {html.escape(s['interval'])}. Intervals of means: "
            f"{html.escape(s['interval_means'])}.") in page
    # the run's map names the sources of its borders and places
    assert html.escape(MAP_SOURCES.strip()) in page


def test_force_never_replaces_a_folder_of_other_files(tiny, tmp_path, capsys, no_simulation):
    d = tmp_path / "papers"
    d.mkdir()
    (d / "thesis.tex").write_text("years of work")
    assert main(["run", str(tiny), "--runs", "4", "--out", str(d), "--force"]) == 2
    line = _error_line(capsys.readouterr().err)
    assert "--out" in line and "thesis.tex" in line
    assert (d / "thesis.tex").read_text() == "years of work"


def test_empty_existing_folder_is_used(tiny, tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    assert main(["run", str(tiny), "--runs", "4", "--out", str(d), "--quiet"]) == 0
    assert (d / "summary.json").exists()


# --- maps ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, magic", [("map.pdf", b"%PDF"), ("map.svg", b"<?xml"), ("map.png", b"\x89PNG")])
def test_map_format_follows_extension(tmp_path, name, magic):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shieldlab.analysis import maps

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    maps._save(fig, tmp_path / name)
    data = (tmp_path / name).read_bytes()
    assert data.startswith(magic)
    # the same figure, the same bytes (no creation date in the file)
    maps._save(fig, tmp_path / ("again" + Path(name).suffix))
    assert (tmp_path / ("again" + Path(name).suffix)).read_bytes() == data
    plt.close(fig)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "again" + Path(name).suffix])


def test_footprint_pdf_map(tiny, tmp_path, capsys):
    out = tmp_path / "air.pdf"
    assert main(["footprint", str(tiny), "--aircraft", "--out", str(out), "--quiet"]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert capsys.readouterr().out == ""


def test_footprint_table_says_its_p_intercept_is_the_kinematic_best_case(tiny, tmp_path, capsys, wide):
    """The table's mean P(intercept) over the defended cells (0.96 round Redzikowo) read as
    contradicting run's 0.000 at the same shots: the line under it says whose number it is."""
    assert main(["footprint", str(tiny), "--out", str(tmp_path / "m.png"), "--step-deg", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "mean P(intercept)" in out
    assert "mean P(intercept): over the defended cells, the kinematic best case" in out

@pytest.mark.parametrize("name", ["map.jpg", "map", "map.png.txt"])
def test_footprint_other_extensions_refused_before_computing(tiny, tmp_path, capsys, monkeypatch, name):
    from shieldlab.analysis import footprint as fpm

    def boom(*a, **k):
        raise AssertionError("computed although --out was bad")

    monkeypatch.setattr(fpm, "compute", boom)
    monkeypatch.setattr(fpm, "aircraft_reach", boom)
    for extra in ([], ["--aircraft"]):
        assert main(["footprint", str(tiny), "--out", str(tmp_path / name), *extra]) == 2
        line = _error_line(capsys.readouterr().err)
        assert line.startswith("error: --out:") and ".png" in line
    assert list(tmp_path.iterdir()) == [tiny]


def test_footprint_out_folder_refused(tiny, tmp_path, capsys):
    d = tmp_path / "maps.png"
    d.mkdir()
    assert main(["footprint", str(tiny), "--aircraft", "--out", str(d)]) == 2
    assert "--out" in _error_line(capsys.readouterr().err)


# --- user text is printed literally --------------------------------------------------------------

def test_markup_in_names_printed_literally(tiny, tmp_path):
    r = cli_run("run", tiny.name, "--runs", "4", "--out", "res[1]", "--explain", "scud [/]", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for text in ("raid [bold]x[/] [/]", "scud [/]", "bat [/]", "radar [red]", "res[1]/summary.json"):
        assert text in r.stdout, text
    assert (tmp_path / "res[1]" / "summary.json").exists()
    v = cli_run("validate", tiny.name, cwd=tmp_path)
    assert v.returncode == 0 and "raid [bold]x[/] [/]" in v.stdout


def test_a_dollar_in_a_name_is_drawn_as_written(tiny, tmp_path):
    """A "$" in a name was read by matplotlib as TeX: the report, the coverage map and the
    footprint crashed (exit 1, a half-made results folder left behind), and a pair of them
    set the words between in italics.  Names are drawn as written."""
    text = TINY.replace('name: "raid [bold]x[/] [/]"', "name: 'raid a$\\x$ $1 and $2'").replace(
        'name: "radar [red]"', "name: 'radar $\\x$'").replace('name: "bat [/]"', "name: 'bat $\\x$'")
    (tmp_path / "d.yaml").write_text(text)
    r = cli_run("run", "d.yaml", "--runs", "2", "--out", "res", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "raid a$\\x$ $1 and $2" in (tmp_path / "res" / "report.html").read_text()
    for args in (("coverage", "d.yaml", "--out", "c.png"), ("footprint", "d.yaml", "--out", "f.png", "-q"),
                 ("footprint", "d.yaml", "--aircraft", "--out", "a.png", "-q")):
        r = cli_run(*args, cwd=tmp_path)
        assert r.returncode == 0 and "Traceback" not in r.stderr, (args, r.stderr[-800:])
        assert (tmp_path / args[args.index("--out") + 1]).stat().st_size > 10_000


def test_markup_in_file_name_and_error_printed_literally(tmp_path):
    (tmp_path / "scn[copy].yaml").write_text(TINY.replace("lat: 35.13", "lat: 95"))
    r = cli_run("run", "scn[copy].yaml", "--runs", "4", cwd=tmp_path)
    assert r.returncode == 2
    assert _error_line(r.stderr) == \
        "error: scn[copy].yaml: sites.pad.lat: Input should be less than or equal to 90 (got 95)"


def test_markup_in_error_message_printed_literally(capsys):
    @cli._guard
    def bad():
        from shieldlab.errors import InputError

        raise InputError("[/] and [bold]x", source="a[b].yaml", field="threats[0].name")

    with pytest.raises(cli.typer.Exit) as e:
        bad()
    assert e.value.exit_code == 2
    assert _error_line(capsys.readouterr().err) == "error: a[b].yaml: threats[0].name: [/] and [bold]x"


@pytest.mark.parametrize("command, unit", [("footprint", "[deg]"), ("flyout", "[%]"), ("flyout", "[deg]"),
                                           ("reach", "[s]"), ("footprint", "[km]")])
def test_help_shows_units_in_brackets(command, unit, capsys):
    assert main([command, "--help"]) == 0
    assert unit in capsys.readouterr().out


# --- intervals, --half-width -------------------------------------------------------------------

def test_table_shows_intervals_and_names_the_method(tiny, capsys, wide):
    from shieldlab.stats import wilson_interval

    assert main(["run", str(tiny), "--runs", "4", "--seed", "3"]) == 0
    text = capsys.readouterr().out
    assert main(["run", str(tiny), "--runs", "4", "--seed", "3", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    row = s["per_threat"][0]
    for key in ("p_intercept", "p_leak"):
        lo, hi = row.get(f"{key}_ci95") or wilson_interval(round(row[key] * 4), 4)
        assert f"{row[key]:.3f} ({lo:.2f}–{hi:.2f})" in text, key
    lo, hi = s.get("p_no_leaker_ci95") or wilson_interval(round(s["p_no_leaker"] * 4), 4)
    assert f"P(no leaker) {s['p_no_leaker']:.3f} ({lo:.2f}–{hi:.2f})" in text
    # a threat's mean interceptors has its interval too, as the summary holds it
    lo, hi = row["mean_interceptors_ci95"]
    line = next(x for x in text.splitlines() if x.startswith(f"│ {row['threat']} "))
    assert line.split("│")[-2].strip() == f"{row['mean_interceptors']:.2f} ({lo:.2f}–{hi:.2f})", line
    # and the track quality's GOSPA (the headline of tracking) its interval, in km
    q = next(iter(s["track_quality"].values()))
    lo, hi = q["gospa_m_ci95"]
    assert f"{q['gospa_m'] / 1e3:.2f} ({lo / 1e3:.2f}–{hi / 1e3:.2f})" in text
    assert "95 % intervals" in text and "over 4 runs" in text


def test_half_width_chooses_the_runs(tiny, capsys):
    from shieldlab.stats import runs_for_half_width

    n = runs_for_half_width(0.3)
    assert main(["run", str(tiny), "--half-width", "0.3", "--json"]) == 0
    cap = capsys.readouterr()
    assert json.loads(cap.out)["runs"] == n
    assert f"{n} runs" in cap.err
    assert main(["run", str(tiny), "--half-width", "0.3"]) == 0
    assert f"--half-width 0.3: {n} runs" in capsys.readouterr().out


@pytest.mark.parametrize("args, field", [
    (["--half-width", "0.1", "--runs", "4"], "--half-width"),
    (["--half-width", "0.5"], "--half-width"),
    (["--half-width", "0"], "--half-width"),
    (["--half-width", "-0.1"], "--half-width"),
    (["--half-width", "0.0001"], "--half-width"),  # more runs than allowed
    (["--json", "--quiet"], "--quiet"),
    (["--explain", "scud [/]", "--json"], "--explain"),
])
def test_conflicting_or_bad_flags(tiny, capsys, no_simulation, args, field):
    assert main(["run", str(tiny), *args]) == 2
    assert _error_line(capsys.readouterr().err).startswith(f"error: {field}:")


# --- --explain, no fire --------------------------------------------------------------------------

def test_explain_tells_the_threats_story(tiny, capsys, wide):
    assert main(["run", str(tiny), "--runs", "4", "--explain", "scud [/]"]) == 0
    text = capsys.readouterr().out
    assert "scud [/]: timeline of run 0" in text
    for kind in ("launch", "detect", "track", "fire"):
        assert kind in text
    # seconds from the epoch and the UTC time beside them, as a flight's and a mission's
    # timelines give it (the ballistic one gave t [s] alone)
    launch = next(line for line in text.splitlines() if "│ launch" in line)
    t_s = float(launch.split("│")[1])
    import datetime as dt

    when = dt.datetime(2013, 3, 1) + dt.timedelta(seconds=round(t_s, 1))
    assert when.strftime("%Y-%m-%d %H:%M:%S") in launch and "UTC" in text
    assert "over 4 runs: intercepted" in text and "leaked" in text
    # with a results folder the story follows the scene's run, as a flight's does
    assert main(["run", str(tiny), "--runs", "4", "--out", str(tiny.parent / "o"), "--scene-run", "2",
                 "--explain", "scud [/]"]) == 0
    assert "scud [/]: timeline of run 2" in capsys.readouterr().out


def test_explain_of_one_run_says_one_run(tiny, capsys, wide):
    """--runs 1 printed "over 1 runs"."""
    assert main(["run", str(tiny), "--runs", "1", "--explain", "scud [/]"]) == 0
    text = capsys.readouterr().out
    assert "over 1 run: intercepted" in text and "over 1 runs" not in text


def test_explain_unknown_threat_lists_the_names(tiny, capsys, no_simulation):
    assert main(["run", str(tiny), "--runs", "4", "--explain", "nope"]) == 2
    line = _error_line(capsys.readouterr().err)
    assert line.startswith("error: --explain:") and "'nope'" in line and "scud [/]" in line
    # a salvo's entry name is no threat of its own: its threats are named
    assert main(["run", "epaa-phase-1", "--runs", "4", "--explain", "sejjil-athens"]) == 2
    line = _error_line(capsys.readouterr().err)
    assert "'sejjil-athens' is a salvo of 2 threats: name one, sejjil-athens#1 .. sejjil-athens#2" in line


def test_why_no_battery_fired(tmp_path, capsys, wide):
    p = tmp_path / "far.yaml"
    p.write_text(FAR)
    assert main(["run", str(p), "--runs", "4", "--explain", "scud [/]"]) == 0
    text = capsys.readouterr().out
    assert "no battery fired in any run" in text
    assert "over 4 runs: intercepted 0 (0%), leaked 4 (100%)" in text


@pytest.mark.parametrize("raid", ["tiny", "far"])
def test_a_stored_run_prints_and_writes_what_a_run_in_memory_does(tiny, tmp_path, capsys, wide, monkeypatch,
                                                                  raid):
    """``run --out`` keeps its chunks on disk and never loads its tables whole: the summary,
    the printout (--explain, --timeline, why no battery fired) and the Parquet tables are
    those of the same run held in memory, whatever the chunk and row-group sizes."""
    from shieldlab.engine import montecarlo
    from shieldlab.io import output

    p = tiny
    if raid == "far":
        p = tmp_path / "far.yaml"
        p.write_text(FAR)
    # the command's body, as `run` and `demo` call it (--timeline is the demo's)
    _simulate(str(p), 9, 5, None, explain="scud [/]", timeline=True)
    in_memory = capsys.readouterr().out
    res = shieldlab.simulate(shieldlab.load_world(str(p)), runs=9, seed=5)
    monkeypatch.setattr(montecarlo, "chunk_runs", lambda world, flights=None: 2)  # five chunks
    monkeypatch.setattr(output, "ROW_GROUP", 10)  # and many row groups
    _simulate(str(p), 9, 5, tmp_path / "out", explain="scud [/]", timeline=True)
    stored = capsys.readouterr().out
    assert "timeline of run 0" in stored and "over 9 runs" in stored
    def body(text):  # the printout before the files written, without the time taken
        # (a long footer wraps: "took" may end one line and the seconds begin the next)
        return re.sub(r"·\s+(took\s+)?[\d.]+\s+s", "", text.split("\nwrote ")[0].rstrip("\n"))

    assert body(stored) == body(in_memory)
    assert ("no battery fired in any run" in stored) == (raid == "far")
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == res.summary
    for table in ("outcomes", "events", "track_quality"):
        f = pq.ParquetFile(tmp_path / "out" / f"{table}.parquet")
        got = f.read().to_pydict()
        want = {k: v.tolist() for k, v in getattr(res, table).items()}
        assert got.keys() == want.keys()
        for k in want:  # NULL where nan (SQL's missing number), every other value equal
            assert [x if x == x else None for x in want[k]] == got[k], k
        groups = [f.metadata.row_group(i).num_rows for i in range(f.metadata.num_row_groups)]
        assert all(n == 10 for n in groups[:-1]) and 0 < groups[-1] <= 10, groups  # whole groups, the last short
        if table == "events":
            assert len(groups) > 1


# --- --version, --quiet, progress, compile note --------------------------------------------------

def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"shieldlab {shieldlab.__version__}\n"
    r = cli_run("--version", process=True)
    assert r.returncode == 0 and r.stdout == f"shieldlab {shieldlab.__version__}\n"


def test_quiet_prints_nothing_but_writes(tiny, tmp_path):
    # in a process of its own: a warning, or anything written to file descriptor 2, reaches stderr
    r = cli_run("run", tiny, "--runs", "4", "--out", tmp_path / "res", "--quiet", process=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == ""
    assert (tmp_path / "res" / "events.parquet").exists()


def _run_with_terminal_stderr(args, tmp_path) -> tuple[int, str, str]:
    """Run the command with stderr on a pseudo-terminal; (exit code, stdout, what the terminal got)."""
    master, slave = pty.openpty()
    env = dict(os.environ, COLUMNS="120", TERM="xterm")
    p = subprocess.Popen(EXE + [str(a) for a in args], stdout=subprocess.PIPE, stderr=slave, cwd=tmp_path, env=env)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 600)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # the other side closed
            break
        if not data:
            break
        chunks.append(data)
    out = p.stdout.read().decode()
    p.wait(timeout=600)
    os.close(master)
    return p.returncode, out, b"".join(chunks).decode(errors="replace")


def test_progress_bar_on_a_terminal_only_for_tables(tiny, tmp_path):
    code, out, term = _run_with_terminal_stderr(["run", tiny, "--runs", "70"], tmp_path)
    assert code == 0
    assert "simulating" in term and "70/70" in term
    assert "mean leakers" in out
    code, out, term = _run_with_terminal_stderr(["run", tiny, "--runs", "70", "--json"], tmp_path)
    assert code == 0 and json.loads(out)["runs"] == 70
    assert "simulating" not in term
    code, out, term = _run_with_terminal_stderr(["run", tiny, "--runs", "70", "--quiet"], tmp_path)
    assert code == 0 and out == "" and term.strip() == ""


def test_progress_bar_for_the_air_picture(tmp_path):
    # 40 runs of 2 flight entries: the bar counts both entries' runs
    code, out, term = _run_with_terminal_stderr(["run", "turkey-airspace-2015", "--runs", "40"], tmp_path)
    assert code == 0
    assert "simulating" in term and "80/80" in term
    assert "air picture" in out


def test_a_resumed_runs_bar_starts_at_its_kept_runs_and_prints_above_itself():
    """A resumed run's bar starts at the runs it kept, and they count in no speed (its ETA
    read them as done in no time); a kept chunk's own call does not move it back; a note goes
    above the bar, not onto its line."""
    from rich.console import Console
    from rich.progress import Progress

    out = io.StringIO()
    now = [100.0]
    progress = Progress(console=Console(file=out, force_terminal=False, width=100), auto_refresh=False,
                        get_time=lambda: now[0])
    bar = cli._Bar(progress, progress.add_task("simulating", total=160, kept=0))
    task = progress.tasks[0]
    now[0] = 130.0
    bar.kept(24)
    assert task.completed == 24 and cli._time_left(task) is None
    bar(16)  # a kept chunk, reported as the run passes it
    assert task.completed == 24 and cli._time_left(task) is None
    now[0] = 142.0
    bar(48)
    assert task.completed == 48
    # 24 runs in the 12 s since the kept ones: 112 left take 56 s
    assert cli._time_left(task) == pytest.approx(56.0)
    assert cli._clock(cli._time_left(task)) == "0:00:56"
    bar.print("--resume: 3 of 20 chunks were done (24 of 160 runs), kept; running the rest")
    assert "--resume: 3 of 20 chunks" in out.getvalue()


def test_the_eta_counts_the_time_before_the_first_chunk_finished():
    """Two workers finish their first chunks a moment apart: the time left is the runs still
    to do at the mean speed since the start, not at the speed between those two moments."""
    from rich.console import Console
    from rich.progress import Progress

    now = [0.0]
    progress = Progress(console=Console(file=io.StringIO(), force_terminal=False), auto_refresh=False,
                        get_time=lambda: now[0])
    bar = cli._Bar(progress, progress.add_task("simulating", total=1000, kept=0))
    task = progress.tasks[0]
    assert cli._clock(cli._time_left(task)) == "-:--:--"
    now[0] = 20.0
    bar(50)
    now[0] = 20.1
    bar(100)
    assert task.time_remaining is not None and task.time_remaining < 5  # rich's own: 2 s for 900 runs
    assert cli._time_left(task) == pytest.approx(180.9)  # 900 runs at 100 runs per 20.1 s
    bar(1000)
    assert cli._time_left(task) == 0.0


def test_no_progress_bar_without_a_terminal(tiny):
    r = cli_run("run", tiny, "--runs", "70")
    assert r.returncode == 0 and "simulating" not in r.stderr


def test_compile_note_before_first_compile(tiny, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_kernels_cached", lambda modules: False)
    assert main(["run", str(tiny), "--runs", "2", "--json"]) == 0
    assert cli.COMPILE_NOTE in capsys.readouterr().err
    assert main(["run", str(tiny), "--runs", "2", "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(cli, "_kernels_cached", lambda modules: True)
    assert main(["run", str(tiny), "--runs", "2", "--json"]) == 0
    assert cli.COMPILE_NOTE not in capsys.readouterr().err


def test_a_compile_the_check_did_not_foresee_is_said_once_while_the_command_runs(tiny, capsys, monkeypatch):
    """A kernel whose module had others cached compiled silently for minutes (a filter first used
    under gnn): Numba's compile event says it, once, and only while a command runs."""
    import numba

    cli._note_compiles(said=False)
    try:
        numba.njit(lambda x: x + 1)(1)  # a new function: Numba compiles it
        numba.njit(lambda x: x + 2)(1)
        assert capsys.readouterr().err.count(cli.LATE_COMPILE_NOTE) == 1
    finally:
        cli._stop_noting_compiles()
    numba.njit(lambda x: x + 3)(1)
    assert cli.LATE_COMPILE_NOTE not in capsys.readouterr().err
    # the note before the first compile counts: no second one; a command leaves no listener behind
    monkeypatch.setattr(cli, "_kernels_cached", lambda modules: False)
    assert main(["run", str(tiny), "--runs", "2", "--json"]) == 0
    err = capsys.readouterr().err
    assert cli.COMPILE_NOTE in err and cli.LATE_COMPILE_NOTE not in err and cli._listening is None


def test_every_command_that_compiles_names_its_kernels(monkeypatch, capsys):
    # a command missing from _KERNELS never showed its compile note (the lookup failed quietly)
    kinds = {k for f in Path(cli.__file__).parent.glob("*.py")
             for k in re.findall(r'_compile_note\("(\w+)"', f.read_text())}
    assert kinds and kinds <= set(cli._KERNELS), kinds - set(cli._KERNELS)
    monkeypatch.setattr(cli, "_kernels_cached", lambda modules: False)
    try:
        for kind in sorted(kinds):
            cli._compile_note(kind, quiet=False)
            assert cli.COMPILE_NOTE in capsys.readouterr().err, kind
    finally:
        cli._stop_noting_compiles()  # (main does it after a command)


def test_kernels_cached_reads_numbas_cache(tiny, tmp_path, capsys):
    # the in-tree cache is warm once a run has compiled the kernels
    assert main(["run", str(tiny), "--runs", "2", "--quiet"]) == 0
    assert cli._kernels_cached(cli._KERNELS["simulate"]) is True
    # an empty NUMBA_CACHE_DIR holds nothing: the next run would compile
    code = "from shieldlab.cli import common as cli; print(cli._kernels_cached(cli._KERNELS['simulate']))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "empty-cache")))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


# --- a cache folder that can be written ----------------------------------------------------------

def test_kernels_cache_in_numba_cache_dir_without_home(tmp_path):
    """With no writable HOME, Numba caches the kernels in NUMBA_CACHE_DIR."""
    cache = tmp_path / "cache"
    code = "import numpy as np; from shieldlab.engage import fan; print(fan._rho(1e3, np.zeros((100, 2))))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                       env=dict(os.environ, HOME="/nonexistent", NUMBA_CACHE_DIR=str(cache)))
    assert r.returncode == 0, r.stderr
    assert float(r.stdout) > 0
    assert any(cache.rglob("fan._rho-*.nbi")) and any(cache.rglob("fan._rho-*.nbc"))


@pytest.mark.skipif(not hasattr(shieldlab, "_choose_numba_cache_dir"),
                    reason="shieldlab does not choose a Numba cache folder itself")
def test_cache_folder_chosen_for_a_read_only_install(tmp_path, monkeypatch):
    pkg = Path(shieldlab.__file__).parent
    real_access = os.access

    def access(path, mode, *a, **k):  # the package's folders read-only, as in a system install
        if str(path).startswith(str(pkg)) and mode & os.W_OK:
            return False
        return real_access(path, mode, *a, **k)

    import tempfile

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    no_home = str(tmp_path / "no-such-home")
    choose = shieldlab._choose_numba_cache_dir
    assert choose(str(pkg), {"NUMBA_CACHE_DIR": str(tmp_path)}) is None  # the user's choice stands
    d = choose(str(pkg), {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "HOME": no_home})
    assert d is not None and Path(d).is_dir() and Path(d).is_relative_to(tmp_path / "xdg")
    d = choose(str(pkg), {"HOME": no_home})  # no home to cache in: a temporary folder
    assert d is not None and Path(d).is_dir() and Path(d).is_relative_to(tmp_path / "tmp")
    assert not Path(no_home).exists()
    monkeypatch.setattr(os, "access", real_access)
    assert choose(str(pkg), {}) is None  # a writable install caches beside the modules


# --- schema, validate ----------------------------------------------------------------------------

def test_schema_prints_the_json_schema(capsys):
    from shieldlab.scenario.schema import Scenario

    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert set(Scenario.model_fields) <= set(schema["properties"])


def test_validate_refuses_what_run_refuses(tmp_path, capsys):
    # an aim point out of the missile's reach: the schema accepts it, the steering does not
    p = tmp_path / "far-aim.yaml"
    p.write_text(TINY.replace("{lat: 37.07, lon: 37.38}", "{lat: 52.5, lon: 13.4}"))
    assert main(["validate", str(p)]) == 2
    v = _error_line(capsys.readouterr().err)
    assert main(["run", str(p), "--runs", "2"]) == 2
    assert _error_line(capsys.readouterr().err) == v
    assert "threats[0]" in v


def test_validate_accepts_what_run_accepts(tiny, capsys):
    assert main(["validate", str(tiny), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True


@pytest.mark.skipif(not hasattr(__import__("shieldlab.engine.chain").engine.chain, "estimate_memory_bytes"),
                    reason="the engine does not estimate memory")
def test_run_that_does_not_fit_in_memory_is_refused(tiny, capsys, monkeypatch, no_simulation):
    from shieldlab.engine import chain

    monkeypatch.setattr(chain, "estimate_memory_bytes", lambda world, runs, *a, **k: 1e18)
    assert main(["run", str(tiny), "--runs", "4"]) == 2
    assert "memory" in _error_line(capsys.readouterr().err).lower()


def test_a_long_run_that_fits_only_with_its_tables_on_disk(tiny, tmp_path, capsys, monkeypatch):
    """A million runs' tables do not fit in memory, but with --out they go to disk as the run
    goes and the end reads them a chunk at a time: refused without --out (the error says
    so), let through with it."""
    from shieldlab.engine import chain, montecarlo

    w = shieldlab.load_world(str(tiny))
    fl = chain.fly_threats(w)
    mem, disk = (chain.estimate_memory_bytes(w, 1_000_000, fl, stored=s) for s in (False, True))
    assert mem > 4e9 and disk < 1e9  # 1e6 runs: gigabytes of tables; on disk, the summary's few numbers a run
    monkeypatch.setattr(chain, "available_memory_bytes", lambda: 2 * 2**30)
    assert main(["run", str(tiny), "--runs", "1000000", "-q"]) == 2
    line = _error_line(capsys.readouterr().err)
    assert "memory" in line and "--out DIR" in line

    reached = []

    def stop(*a, **k):  # the checks passed: stop before simulating a million runs
        reached.append(k.get("store"))
        raise RuntimeError("stop here")

    monkeypatch.setattr(montecarlo, "simulate", stop)
    with pytest.raises(RuntimeError, match="stop here"):
        main(["run", str(tiny), "--runs", "1000000", "-q", "--out", str(tmp_path / "out")])
    assert len(reached) == 1 and reached[0] is not None  # simulated into the chunk store
    assert "memory" not in capsys.readouterr().err


def test_demo_replaces_its_own_folder_but_not_one_given(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--runs", "2", "--quiet"]) == 0  # the whole demo once: report, footprint, scene
    page = (tmp_path / "out" / "demo" / "report.html").read_text()
    assert "The defended footprint" in page and (tmp_path / "out" / "demo" / "scene.czml").is_file()
    # the folder rules: the report's maps and the footprint (most of a demo's time) are not
    # what they are about
    from shieldlab.analysis import footprint as fpm
    from shieldlab.io import report

    monkeypatch.setattr(fpm, "compute", lambda world: None)
    monkeypatch.setattr(report, "build", lambda *a, **k: "<html>stand-in</html>")
    (tmp_path / "out" / "demo" / "scene.geojson").write_text("{}")  # a results file this demo does not write
    assert main(["demo", "--runs", "2", "--quiet"]) == 0  # out/demo is the demo's own: replaced each time
    assert not (tmp_path / "out" / "demo" / "scene.geojson").exists()
    assert (tmp_path / "out" / "demo" / "report.html").read_text() == "<html>stand-in</html>"
    assert json.loads((tmp_path / "out" / "demo" / "summary.json").read_text())["runs"] == 2
    assert main(["demo", "--runs", "2", "--quiet", "--out", "mine"]) == 0
    assert main(["demo", "--runs", "3", "--quiet", "--out", "mine"]) == 2
    assert "--force" in _error_line(capsys.readouterr().err)
    assert main(["demo", "--runs", "3", "--quiet", "--out", "mine", "--force"]) == 0
    assert json.loads((tmp_path / "mine" / "summary.json").read_text())["runs"] == 3


@pytest.mark.parametrize("args, words", [
    # a bad option value is named as every other bad value is, not in click's words
    (["run", "epaa-phase-1", "--runs", "-3"], "error: --runs: "),
    (["reach", "sm-3-block-ia", "--site", "36,27", "--missile", "scud-b", "--from", "38,46", "--to", "38,23",
      "--burnout-speed-kms", "-2"], "error: --burnout-speed-kms: must be in [0.01, 12], got -2 "),
    (["run", "epaa-phase-1", "--runs=-3"], "(got -3)"),  # the value refused, as every other error says it
    (["sweep", "epaa-phase-1", "--set", "doctrine.salvo=1", "--runs", "0"], "(got 0)"),
    (["run", "epaa-phase-1", "--bogus"], "--bogus"),
    (["run"], "'SCENARIO'"),
    (["no-such-command"], "'no-such-command'"),
])
def test_usage_errors_are_one_line(args, words, capsys, no_simulation):
    assert main(args) == 2
    line = _error_line(capsys.readouterr().err)
    assert words in line and "--help" in line and "Invalid value" not in line


# --- output files: never an existing file unasked, never the scenario itself ---------------------

@pytest.fixture
def no_footprint(monkeypatch):
    """Fail the test if a footprint is computed."""
    from shieldlab.analysis import footprint as fpm

    def boom(*a, **k):
        raise AssertionError("computed although the input was bad")

    monkeypatch.setattr(fpm, "compute", boom)
    monkeypatch.setattr(fpm, "aircraft_reach", boom)


@pytest.mark.parametrize("flag", ["--json-out", "--out"])
def test_footprint_never_writes_over_its_scenario(tiny, tmp_path, capsys, monkeypatch, no_footprint, flag):
    scn = tmp_path / "victim.png"  # a scenario file whose name is a valid map name too
    scn.write_text(TINY)
    monkeypatch.chdir(tmp_path)
    for target in (scn, Path("victim.png"), tmp_path / "sub" / ".." / "victim.png"):
        for force in ([], ["--force"]):
            assert main(["footprint", str(scn), flag, str(target), *force]) == 2
            assert _error_line(capsys.readouterr().err).startswith(f"error: {flag}:")
    assert scn.read_text() == TINY


@pytest.mark.parametrize("flag, name", [("--json-out", "fp.json"), ("--out", "map.svg")])
def test_footprint_refuses_an_existing_file_without_force(tiny, tmp_path, capsys, no_footprint, flag, name):
    target = tmp_path / name
    target.write_text("keep me")
    assert main(["footprint", str(tiny), flag, str(target)]) == 2
    line = _error_line(capsys.readouterr().err)
    assert line.startswith(f"error: {flag}:") and "--force" in line
    assert target.read_text() == "keep me"


def test_footprint_force_replaces_an_existing_file(tiny, tmp_path):
    target = tmp_path / "fp.json"
    target.write_text("old")
    assert main(["footprint", str(tiny), "--json-out", str(target), "--force", "--quiet"]) == 0
    assert "lat_deg" in json.loads(target.read_text())


def test_footprint_title_says_where_the_cue_comes_from(tiny, capsys):
    """The title names the cue in words a user can act on: the scenario's sensors by default,
    or --cue-delay-s's fixed delay (a bare "cue: sensors" read like an option --cue)."""
    def title_words():  # (a narrow table wraps its title)
        return " ".join(capsys.readouterr().out.split())

    assert main(["footprint", str(tiny)]) == 0
    assert "cue: the scenario's sensors)" in title_words()
    assert main(["footprint", str(tiny), "--cue-delay-s", "90"]) == 0
    assert "cue: fixed 90 s after launch)" in title_words()
    assert main(["footprint", str(tiny)]) == 0
    assert "tracks reports without labels" not in title_words()  # (labelled tracking: what it models)
    # a scenario whose runs track reports without labels is told the cue models labelled tracking
    gnn = tiny.with_name("gnn.yaml")
    gnn.write_text(tiny.read_text() + "tracking: {association: gnn}\n")
    assert main(["footprint", str(gnn)]) == 0
    assert "tracks reports without labels (tracking.association gnn)" in title_words()
    assert main(["footprint", str(gnn), "--json"]) == 0
    assert "tracking.association gnn" in json.loads(capsys.readouterr().out)["note"]
    assert main(["footprint", str(gnn), "--cue-delay-s", "90", "--json"]) == 0
    assert "note" not in json.loads(capsys.readouterr().out)


def test_a_country_in_the_wrong_case_is_refused_with_its_name(tiny, capsys):
    """--country syria: exit code 2, and the suggestion leads with the Natural Earth name."""
    assert main(["footprint", str(tiny), "--aircraft", "--country", "syria"]) == 2
    line = _error_line(capsys.readouterr().err)
    assert line.startswith("error: --country: unknown country 'syria'") and "close: Syria," in line


def test_footprint_refuses_one_file_for_map_and_json(tiny, tmp_path, capsys, no_footprint):
    assert main(["footprint", str(tiny), "--out", str(tmp_path / "a.svg"), "--json-out", str(tmp_path / "a.svg")]) == 2
    assert _error_line(capsys.readouterr().err).startswith("error: --json-out:")


@pytest.mark.parametrize("command", ["footprint", "coverage"])
def test_json_on_stdout_and_json_out_are_refused_together(tiny, tmp_path, capsys, no_footprint, command):
    """--json and --json-out are alternatives (the usage line's [--json | --json-out FILE]):
    both given, the command says so, exit code 2, before computing or writing anything."""
    target = tmp_path / "both.json"
    assert main([command, str(tiny), "--json", "--json-out", str(target)]) == 2
    assert _error_line(capsys.readouterr().err).startswith("error: --json-out: give --json")
    assert not target.exists()


@pytest.mark.parametrize("command", ["footprint", "coverage"])
def test_an_export_may_not_be_the_json_or_the_map(tiny, tmp_path, capsys, no_footprint, command):
    """--json-out c.geojson with --export geojson wrote both to one file, the JSON last, and said
    it had written the GeoJSON: refused before any work; the JSON's own file is reported."""
    for extra in (["--json-out", str(tmp_path / "c.geojson"), "--export", "geojson,kml"],
                  ["--json-out", str(tmp_path / "c.kml"), "--export", "kml", "--export-to", str(tmp_path / "c")]):
        assert main([command, str(tiny), "--out", str(tmp_path / "c.png"), *extra]) == 2
        line = _error_line(capsys.readouterr().err)
        assert line.startswith("error: --export-to:") and "same file as --json-out" in line, line
    assert not list(tmp_path.glob("c*"))
    if command == "coverage":
        assert main([command, str(tiny), "--json-out", str(tmp_path / "c.json")]) == 0
        assert f"wrote {tmp_path / 'c.json'}" in capsys.readouterr().out


# --- --half-width too small, --force alone, options that do not apply -----------------------------

@pytest.mark.parametrize("h", ["1e-300", "5e-324", "1e-9"])
def test_tiny_half_width_is_refused_not_a_crash(tiny, capsys, no_simulation, h):
    assert main(["run", str(tiny), "--half-width", h]) == 2
    line = _error_line(capsys.readouterr().err)
    assert line.startswith("error: --half-width:") and "more than the 1,000,000 allowed" in line


def test_force_without_out_is_refused(tiny, capsys, no_simulation):
    assert main(["run", str(tiny), "--force"]) == 2
    line = _error_line(capsys.readouterr().err)
    assert line.startswith("error: --force:") and "--out" in line


@pytest.mark.parametrize("args, field", [
    (["--aircraft", "--site", "pad"], "--site"),
    (["--aircraft", "--cue-delay-s", "30"], "--cue-delay-s"),
    (["--aircraft", "--cue-delay-s", "0"], "--cue-delay-s"),  # zero is given too
    (["--aircraft", "--step-deg", "0.5"], "--step-deg"),  # no grid to set the step of
    (["--alt-km", "10"], "--alt-km"),
    (["--country", "Syria"], "--country"),
])
def test_footprint_refuses_options_that_do_not_apply(tiny, capsys, no_footprint, args, field):
    assert main(["footprint", str(tiny), *args]) == 2
    assert _error_line(capsys.readouterr().err).startswith(f"error: {field}:")


def test_footprint_aircraft_step_applies_to_a_box(tiny, capsys, monkeypatch):
    from shieldlab.analysis import footprint as fpm

    seen = {}

    def fake(world, alt_km, grid=None, focus=None, clip_to_grid=False):
        seen.update(alt_km=alt_km, step=grid.step_deg, focus=focus, clip=clip_to_grid)
        raise AssertionError("stop here")

    monkeypatch.setattr(fpm, "aircraft_reach", fake)
    with pytest.raises(AssertionError, match="stop here"):
        main(["footprint", str(tiny), "--aircraft", "--bbox", "35,37,35,38", "--step-deg", "0.5"])
    assert seen == {"alt_km": 10.0, "step": 0.5, "focus": "Syria", "clip": True}  # the box's areas alone


# --- the footer, means' intervals, plurals -------------------------------------------------------

def test_footer_names_both_interval_methods_and_means_intervals(tiny, capsys, wide):
    assert main(["run", str(tiny), "--runs", "6", "--seed", "3"]) == 0
    text = capsys.readouterr().out
    assert main(["run", str(tiny), "--runs", "6", "--seed", "3", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert "probabilities: Wilson score; means: Student t" in text
    assert "Wilson score, 95 %" not in text
    # a leaker count alike in every run gets the bounded mean's exact interval, not the t's
    # point: the footer says so, as summary.json's interval_means does (three rules had read
    # as one, "Student t", for 6.00 (5.57-6.00) beside 8.00 (8.00-8.00))
    assert "a count alike in every run (leakers, hits: at most the threats; interceptors: at most what the rounds " \
           "and the doctrine allow): the exact bound of a capped count" in " ".join(text.split())
    assert "exact interval of a bounded mean" in s["interval_means"]
    for label, key in (("mean interceptors fired", "mean_interceptors_fired"),
                       ("mean hits on assets", "mean_assets_hit")):
        lo, hi = s[f"{key}_ci95"]
        assert f"{label} {s[key]:.2f} ({lo:.2f}–{hi:.2f})" in text, key


def test_one_run_is_singular_and_has_no_means_interval(tiny, capsys, wide):
    assert main(["run", str(tiny), "--runs", "1"]) == 0
    text = capsys.readouterr().out
    assert "— 1 run," in text and "over 1 run " in text and "1 runs" not in text
    assert "mean hits on assets 0.00" in text or "mean hits on assets 1.00" in text
    assert "mean hits on assets 0.00 (" not in text and "mean hits on assets 1.00 (" not in text


def test_validate_counts_in_the_singular(tiny, capsys):
    assert main(["validate", str(tiny)]) == 0
    assert "1 sensor, 1 battery, 1 threat, 1 asset" in capsys.readouterr().out


def test_validate_says_how_threats_are_tracked_and_notes_a_doctrine_without_assets(tiny, tmp_path, capsys, wide):
    """validate names the labelled tracking (not only gnn's); with no defended assets it notes
    that engage: threatening engages every threat, in text, in JSON, and run says so on stderr."""
    assert main(["validate", str(tiny)]) == 0
    text = capsys.readouterr().out
    assert "tracking: one EKF per threat on its labelled reports (association labels), confirmed after" in text
    assert "note:" not in text
    bare = tmp_path / "bare.yaml"
    bare.write_text(TINY.split("assets:")[0] + 'threats:\n  - {name: s, missile: scud-b, launch: pad, '
                    'aim: {lat: 37.07, lon: 37.38}, launch_time_s: 0}\n')
    assert main(["validate", str(bare)]) == 0
    assert "note: no defended assets, so doctrine.engage threatening has nothing to judge" in capsys.readouterr().out
    assert main(["validate", str(bare), "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert len(notes) == 1 and "every confirmed threat is engaged" in notes[0]
    assert main(["run", str(bare), "--runs", "2"]) == 0
    assert capsys.readouterr().err.count("note: no defended assets") == 1  # (run printed it twice)
    bare.write_text(bare.read_text().replace("batteries:", "doctrine: {engage: all}\nbatteries:"))
    assert main(["validate", str(bare)]) == 0
    assert "note:" not in capsys.readouterr().out



def test_validate_notes_a_battery_that_cannot_fire_or_stands_far_from_its_radar(tmp_path, capsys, wide):
    """A battery with no round above its reserve, or whose own radar stands far from it, is
    valid but not what a user means: validate says so, in text and JSON; the tiny raid has no note."""
    odd = tmp_path / "odd.yaml"
    odd.write_text(TINY.replace("rounds: 4, system: s}", 'rounds: 0, system: s, radar: "radar [red]"}')
                   .replace("bat: {lat: 37.05, lon: 37.35}",
                            "bat: {lat: 37.05, lon: 37.35}\n  far: {lat: 39.0, lon: 37.35}")
                   .replace("site: bat, rounds: 0", "site: far, rounds: 0"))
    assert main(["validate", str(odd), "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert notes == ["note: battery bat [/] has no round to fire (rounds 0, reserve 0): it engages nothing",
                     "note: battery bat [/] is 217 km from its own radar radar [red] (batteries[].radar), which "
                     "usually stands at the battery's site"]
    assert main(["validate", str(odd)]) == 0
    assert "is 217 km from its own radar radar [red]" in capsys.readouterr().out
    # its own radar feeding another system (a C2 node's) than the battery's
    other = tmp_path / "other.yaml"
    other.write_text(TINY.replace("rounds: 4, system: s}", 'rounds: 4, system: t, radar: "radar [red]"}')
                     .replace("batteries:", "  - {name: r2, type: an-mpq-65, site: bat, boresight_az_deg: 190, "
                                            "system: t}\nbatteries:"))
    assert main(["validate", str(other), "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert any("own radar radar [red] feeds system 's', not the battery's 't'" in n for n in notes), notes
    # planning on its own tracks of reports without labels, from a radar that makes no discrimination calls
    blind = tmp_path / "blind.yaml"
    own = TINY.replace("rounds: 4, system: s}", 'rounds: 4, system: s, radar: "radar [red]", cue: own}')
    for association, noted in (("gnn", True), ("labels", False)):
        blind.write_text(own + f"tracking: {{association: {association}}}\n")
        assert main(["validate", str(blind), "--json"]) == 0
        notes = json.loads(capsys.readouterr().out)["notes"]
        said = [n for n in notes if "makes no discrimination calls" in n]
        assert bool(said) is noted, notes
        if noted:
            assert said[0].startswith("note: battery bat [/] plans on radar [red]'s own tracks (cue own)")



def test_validate_notes_a_sector_far_from_its_node_and_a_satellite_of_no_radars_system(tmp_path, capsys, wide):
    """A sector that holds none of its node's batteries (moved away by mistake, or drawn as
    [lon, lat]), and, under integrated, an early-warning satellite of a system no radar feeds: valid, noted."""
    odd = tmp_path / "odd.yaml"
    here = "nodes:\n  - {name: s, sector: [[36, 36], [36, 39], [38.5, 39], [38.5, 36]]}\n"
    away = "nodes:\n  - {name: s, sector: [[50, 0], [50, 10], [55, 10]]}\n"
    sat = "early_warning:\n  - {name: eye, type: sbirs-geo, lon_deg: 40.0, system: nobody}\n"
    # a sector about an asset but none of the node's batteries: a NATO sector given as [lon, lat]
    # lay over Iraq and Iran and held Novorossiysk, a Russian asset, so no note was given
    asset_only = "nodes:\n  - {name: s, sector: [[37.06, 37.37], [37.06, 37.39], [37.08, 37.39], [37.08, 37.37]]}\n"
    # (a satellite of no radar's system is refused under the other architectures: integrated there)
    for arch, extra, sector_noted, sat_noted in (("sectoral", here, False, False), ("sectoral", away, True, False),
                                                 ("sectoral", asset_only, True, False),
                                                 ("integrated", here + sat, False, True)):
        odd.write_text(TINY + f"architecture: {arch}\n" + extra)
        assert main(["validate", str(odd), "--json"]) == 0, extra
        notes = json.loads(capsys.readouterr().out)["notes"]
        assert any("node s's sector holds none of its batteries' sites" in n for n in notes) is sector_noted, notes
        assert any("early_warning[0] (eye) belongs to system 'nobody'" in n for n in notes) is sat_noted, notes


def test_validate_notes_threats_no_sensor_sees_or_no_battery_engages(tmp_path, capsys, wide):
    """Threats and no sensor (or no battery) validated without a word, and every threat leaks."""
    blind = tmp_path / "blind.yaml"
    blind.write_text(TINY.split("sensors:")[0] + "assets:" + TINY.split("assets:")[1])
    assert main(["validate", str(blind), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["notes"] == [
        "note: no sensors: no threat is detected or tracked, so none is engaged (every one leaks); give sensors "
        "(radars) to see them"]
    unarmed = tmp_path / "unarmed.yaml"
    unarmed.write_text(TINY.replace('  - {name: "bat [/]", interceptor: pac-3-mse, site: bat, rounds: 4, system: s}\n',
                                    "").replace("batteries:\n", "batteries: []\n"))
    assert main(["validate", str(unarmed), "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert any(n.startswith("note: no batteries: no threat is engaged") for n in notes)


def test_the_api_gives_a_worlds_notes_as_validate_prints_them(tiny, tmp_path, capsys):
    """``shieldlab.notes(world)``: the notes ``validate`` prints, without the command line."""
    blind = tmp_path / "blind.yaml"
    blind.write_text(TINY.split("sensors:")[0] + "assets:" + TINY.split("assets:")[1])
    odd = tmp_path / "odd.yaml"
    odd.write_text(TINY + "tracking: {min_speed_ms: 900, confirm_looks: 3}\n")
    counts = []
    for path in (blind, odd, tiny):
        assert main(["validate", str(path), "--json"]) == 0
        printed = json.loads(capsys.readouterr().out)["notes"]
        assert shieldlab.notes(shieldlab.load_world(path)) == printed
        counts.append(len(printed))
    assert counts[0] == 1 and counts[1] >= 2 and counts[2] == 0, counts
    with pytest.raises(shieldlab.InputError, match="load it first") as e:
        shieldlab.notes(str(odd))
    assert e.value.field == "world"
    assert "notes" in shieldlab.__all__


# --- piped tables ---------------------------------------------------------------------------------

def test_piped_tables_keep_names_whole(tmp_path):
    """Piped, a table is as wide as its widest row, names are printed as written (":x:" is no
    emoji), and the lines that name the files written are whole, however long the path."""
    name = "sejjil-athens-salvo / ensemble#1 :x: a-name-long-enough-to-make-the-table-wider-than-eighty"
    scn = tmp_path / "s.yaml"
    scn.write_text(TINY.replace('"scud [/]"', f'"{name}"'))
    out = tmp_path / ("a-results-folder-with-a-name-long-enough-to-wrap-at-eighty-columns-" * 2 + "end")
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    r = subprocess.run(EXE + ["run", str(scn), "--runs", "2", "--out", str(out)], capture_output=True, text=True,
                       env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    assert name in r.stdout and "\u274c" not in r.stdout
    lines = r.stdout.splitlines()
    assert any(ln.startswith(f"wrote {out}/summary.json, ") and ln.endswith("report.html") for ln in lines)
    assert any(ln.startswith(f"report: {out}/report.html ") and ln.endswith(f"shieldlab view {out}") for ln in lines)
    assert any(ln.startswith("mean leakers per raid") and "mean hits on assets" in ln for ln in r.stdout.splitlines())
    r = subprocess.run(EXE + ["catalog", "missiles"], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0 and "Scud-B (R-17 / 8K14, SS-1C)" in r.stdout
    # prose is whole too: a threat's explanation starts with its name, longer than 80 columns
    r = subprocess.run(EXE + ["run", str(scn), "--runs", "2", "--explain", name], capture_output=True,
                       text=True, env=env, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert any(ln.startswith(name) for ln in r.stdout.splitlines()), r.stdout


def test_terminal_tables_fold_names_instead_of_cutting_them(tmp_path, capsys):
    from rich.console import Console

    name = "a-very-long-threat-name-that-cannot-fit-in-the-column-x1"
    summary = {"scenario": "s", "runs": 2, "seed": 1, "mean_leakers": 0.0, "mean_leakers_ci95": [0, 0],
               "mean_interceptors_fired": 1.0, "mean_interceptors_fired_ci95": [1, 1], "p_no_leaker": 1.0,
               "p_no_leaker_ci95": [0.3, 1.0], "mean_assets_hit": 0.0, "mean_assets_hit_ci95": None,
               "per_threat": [{"threat": name, "missile": "scud-b", "p_intercept": 1.0, "p_intercept_ci95": [0.3, 1],
                               "p_leak": 0.0, "p_leak_ci95": [0, 0.7], "mean_interceptors": 1.0}]}
    old = cli.out
    cli.out = Console(markup=False, highlight=False, width=80, force_terminal=True, color_system=None)
    try:
        _print_summary(summary)
    finally:
        cli.out = old
    text = capsys.readouterr().out
    assert "…" not in text
    assert "".join(ln.split("│")[1].strip() for ln in text.splitlines() if ln.count("│") > 3).startswith(name)


# --- errors name the argument; non-finite floats ---------------------------------------------------

@pytest.mark.parametrize("args, field", [
    (["flyout", "scud-z", "--from", "35,36", "--to", "37,37"], "MISSILE"),
    (["reach", "pac-4", "--site", "37,37", "--missile", "scud-b", "--from", "35,36", "--to", "37,37"], "INTERCEPTOR"),
    (["reach", "pac-3-mse", "--site", "37,37", "--missile", "scud-z", "--from", "35,36", "--to", "37,37"],
     "--missile"),
])
def test_unknown_catalogue_ids_name_the_argument(capsys, args, field):
    assert main(args) == 2
    line = _error_line(capsys.readouterr().err)
    assert line.startswith(f"error: {field}:") and "known:" in line


FLY = ["flyout", "scud-b", "--from", "35,36", "--to", "37,37"]
REACH = ["reach", "pac-3-mse", "--site", "37,37", "--missile", "scud-b", "--from", "35,36", "--to", "37,37"]


@pytest.mark.parametrize("args", [
    FLY + ["--apogee-km", "nan"], FLY + ["--thrust-pct", "nan"], FLY + ["--drag-pct", "inf"],
    REACH + ["--cue-delay-s", "nan"], REACH + ["--burnout-speed-kms", "nan"],
    ["footprint", "x.yaml", "--step-deg", "nan"], ["footprint", "x.yaml", "--aircraft", "--alt-km", "-inf"],
    ["run", "x.yaml", "--half-width", "nan"],
])
def test_non_finite_floats_are_refused_by_name(capsys, args):
    assert main(args) == 2
    line = _error_line(capsys.readouterr().err)
    flag = next(a for a in args if a.startswith("--") and args[args.index(a) + 1].lstrip("-") in ("nan", "inf"))
    assert f"error: {flag}: " in line and "must be a finite number" in line


@pytest.mark.parametrize("args, words", [
    (FLY + ["--apogee-km", "6000"], "[1, 5000]"),
    (["footprint", "x.yaml", "--step-deg", "20"], "[0.01, 10]"),
    (["footprint", "x.yaml", "--aircraft", "--alt-km", "0"], "(0, 30]"),
])
def test_float_ranges_are_enforced(capsys, args, words):
    assert main(args) == 2
    assert words in _error_line(capsys.readouterr().err)


# --- help ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command, words", [
    ("footprint", ["[0.01, 10] deg", "(0, 30] km", "[0, 3600] s", "--site NAME", "--force"]),
    ("reach", ["min-energy, lofted or depressed", "print JSON instead of a table"]),
    ("flyout", ["min-energy, lofted or depressed", "[mrad]", "print JSON instead of a table"]),
    ("demo", ["Monte Carlo runs", "random seed"]),
    ("presets", ["print JSON instead of a table"]),
    ("catalog", ["print JSON instead of a table"]),
    ("validate", ["instead of a table"]),
])
def test_help_describes_every_option(command, words, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    assert main([command, "--help"]) == 0
    text = capsys.readouterr().out
    for w in words:
        assert w in text, (command, w)
    assert "<list[str]>" not in text and "{" not in text.splitlines()[0]


def test_usage_line_names_arguments_plainly(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    for command, arg in (("run", "SCENARIO"), ("footprint", "SCENARIO"), ("flyout", "MISSILE"),
                         ("reach", "INTERCEPTOR")):
        assert main([command, "--help"]) == 0
        usage = capsys.readouterr().out.splitlines()[0]
        assert usage.endswith(f"[OPTIONS] {arg}"), usage


def test_map_titles_choose_the_area_unit_by_size():
    from shieldlab.analysis.maps import area_pair_text

    assert area_pair_text(1234.4, 270_000) == "1,234 km² of 270,000 km²"
    assert area_pair_text(0, 270_000) == "0 km² of 270,000 km²"
    assert area_pair_text(400_000, 2_500_000) == "0.40 M km² of 2.50 M km²"
    assert area_pair_text(74_496.2, 1_070_000) == "74,496 km² of 1.07 M km²"  # (it read 0.07 M km²)
    assert area_pair_text(0, 1_070_000) == "0 km² of 1.07 M km²"


@pytest.mark.parametrize("field, value", [("burn_time_s", 1e-6), ("isp_vac_s", 1e6)])
def test_a_catalogue_missile_that_cannot_fly_is_blamed_not_the_aim(tmp_path, capsys, field, value):
    """A scenario's own missile with a burn of a microsecond (or a specific impulse of a
    million seconds) was refused under threats[0].aim, its "maximum range on that bearing"
    -5 km (or 0): now under threats[0].missile, saying that the entry does not fly."""
    import yaml

    from shieldlab.catalog import get_missile

    entry = get_missile("scud-b").model_dump(mode="json", exclude_none=True)
    entry["id"] = "my-scud"
    entry["stages"][0][field] = value
    scn = yaml.safe_load(TINY)
    scn["catalog"] = {"missiles": [entry]}
    scn["threats"][0]["missile"] = "my-scud"
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(scn, sort_keys=False))
    assert main(["validate", str(tmp_path / "m.yaml")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "threats[0].missile: aim point" in err and "no shot of it comes down more than 10 km" in err, err
    assert "-5 km" not in err and "on that bearing is" not in err


def test_an_aim_out_of_reach_leaves_no_results_folder_behind(tmp_path, capsys):
    """The aim is checked after --out is (the threats are aimed before any run): a refused
    scenario leaves no stopped-run folder, and the fixed one then runs into the same --out."""
    from importlib import resources

    text = (resources.files("shieldlab.scenario") / "presets" / "epaa-phase-1.yaml").read_text()
    bad = text.replace("aim: istanbul", "aim: {lat: 52.5, lon: 13.4}", 1)  # Berlin: beyond a Ghadr-1
    assert bad != text
    p = tmp_path / "bad.yaml"
    p.write_text(bad)
    out = tmp_path / "o"
    assert main(["run", str(p), "--runs", "2", "--out", str(out), "-q"]) == 2
    assert "out of reach" in capsys.readouterr().err
    assert sorted(x.name for x in tmp_path.iterdir()) == ["bad.yaml"]
    p.write_text(text)
    assert main(["run", str(p), "--runs", "2", "--out", str(out), "-q"]) == 0
    assert (out / "summary.json").exists()


def test_presets_prints_a_presets_yaml_to_copy(tmp_path, capsys):
    assert main(["presets", "epaa-phase-1"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("name: epaa-phase-1") and "source" in text.lower()
    p = tmp_path / "mine.yaml"
    p.write_text(text.replace("name: epaa-phase-1", "name: mine", 1))
    assert shieldlab.load_world(str(p)).scenario.name == "mine"
    assert main(["presets", "epaa-phase-9"]) == 2
    err = capsys.readouterr().err
    assert "NAME" in err and "epaa-phase-1" in err


def test_progress_bar_for_tracks_and_compare(tiny, tmp_path):
    code, out, term = _run_with_terminal_stderr(["tracks", tiny, "--runs", "70"], tmp_path)
    assert code == 0 and "simulating" in term and "70/70" in term and "GOSPA" in out
    # compare: one bar over every architecture's runs
    code, out, term = _run_with_terminal_stderr(["compare", tiny, "--runs", "35", "--architectures",
                                                 "independent,integrated"], tmp_path)
    assert code == 0 and "simulating" in term and "70/70" in term


def test_tracks_says_why_no_threat_got_a_firm_track(tmp_path, tiny, capsys, wide):
    far = tmp_path / "far.yaml"
    far.write_text(FAR)  # the radar 900 km away: nothing to track
    assert main(["tracks", str(far), "--runs", "2"]) == 0
    out = capsys.readouterr().out
    assert "no threat got a firm track" in out and "confirm_sigma_v_ms" in out and "shieldlab coverage" in out
    assert main(["tracks", str(tiny), "--runs", "2"]) == 0
    assert "no threat got a firm track" not in capsys.readouterr().out


def test_the_bare_catalogue_names_the_other_kinds(capsys, wide):
    assert main(["catalog"]) == 0
    out = capsys.readouterr().out
    assert "scud-b" in out and "other kinds: interceptors, sensors" in out
    assert main(["catalog", "missiles"]) == 0
    assert "other kinds" not in capsys.readouterr().out



def test_one_catalogue_entry_whole(capsys, wide):
    """The list cuts each source to a line; KIND ID shows one entry, every field, its source
    whole (--json the one object); an unknown id is refused, named, with the nearest id."""
    from shieldlab import catalog

    assert main(["catalog", "interceptors", "sm-3-block-iib", "--json"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert one == catalog.get_interceptor("sm-3-block-iib").model_dump()
    assert main(["catalog", "interceptors", "sm-3-block-iib"]) == 0
    out = " ".join(ln.strip("│ ") for ln in capsys.readouterr().out.splitlines())
    tail = " ".join(one["source"].split()[-6:])
    assert tail in " ".join(out.replace("│", " ").split()), tail  # the source to its last words
    assert main(["catalog", "missiles", "scud-x"]) == 2
    err = capsys.readouterr().err
    assert "ID: no missiles entry 'scud-x' (did you mean 'scud-d'?)" in err
    assert main(["catalog", "missiles", "f-16c"]) == 2
    assert "'f-16c' is in aircraft: shieldlab catalog aircraft f-16c" in capsys.readouterr().err
    assert main(["catalog", "missiles"]) == 0
    assert "one entry whole, its source too: shieldlab catalog missiles ID" in capsys.readouterr().out

def test_the_catalogue_lists_how_missiles_fly_and_which_radar_fires_an_interceptor(capsys, wide):
    assert main(["catalog", "missiles"]) == 0
    rows = {ln.split("│")[1].strip(): ln for ln in capsys.readouterr().out.splitlines() if ln.count("│") > 3}
    assert "quasi-ballistic (aero)" in rows["iskander-m"] and "energy management (gem)" in rows["topol-m"]
    assert "ballistic" in rows["scud-b"] and "aero" not in rows["scud-b"] and "gem" not in rows["scud-b"]
    assert main(["catalog", "interceptors"]) == 0
    rows = {ln.split("│")[1].strip(): ln for ln in capsys.readouterr().out.splitlines() if ln.count("│") > 3}
    assert "an-spy-1d" in rows["sm-3-block-iia"] and "an-mpq-65" in rows["pac-3-mse"] and "—" in rows["gbi"]
    # a sensor's range with the target it is against (SPY-1D 400 km at 0.01 m², the E-3A 400 km at 5 m²)
    assert main(["catalog", "sensors"]) == 0
    lines = capsys.readouterr().out.splitlines()
    head = next(ln for ln in lines if "max_range_km" in ln).split("┃")
    rows = {ln.split("│")[1].strip(): [c.strip() for c in ln.split("│")] for ln in lines if ln.count("│") > 3}
    col = [c.strip() for c in head].index("ref_rcs_m2")
    assert rows["an-spy-1d"][col] == "0.01" and rows["e-3a-apy-2"][col] == "5"


def test_compare_with_one_run_names_no_intervals_and_refuses_a_stray_comma(tiny, capsys, wide):
    """One run has no Student t interval: the table prints bare means and the last line says so
    (it said "in parentheses: 95 % ... intervals" over none); an empty architecture name
    between commas is refused, named."""
    assert main(["compare", str(tiny), "--runs", "1", "--architectures", "independent,integrated"]) == 0
    out = capsys.readouterr().out
    assert "one run: means without intervals" in out and "in parentheses" not in out
    assert main(["compare", str(tiny), "--runs", "2", "--architectures", "independent,integrated"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "in parentheses: 95 % intervals over 2 runs — P(no leaker): Wilson score; means: Student t (cut to " \
           "the possible range; a count alike in every run (leakers, hits: at most the threats; interceptors: at " \
           "most what the rounds and the doctrine allow): the exact bound of a capped count)" in out
    # the interceptors fired alike in both runs: the exact bound, not a point (8.00 (8.00-8.00))
    fired = re.search(r"interceptors fired [│ ]*([0-9.]+) \(([0-9.]+)–([0-9.]+)\)", out)
    assert fired and float(fired[2]) < float(fired[1]) < float(fired[3]), out
    assert main(["compare", str(tiny), "--runs", "1", "--architectures", "independent,"]) == 2
    assert "--architectures: an empty name in 'independent,'" in capsys.readouterr().err



def test_compare_shows_a_dash_where_a_side_saw_no_threat(tmp_path, capsys, wide):
    """Russia's radars turned north see none of the Iranian launches: what NATO saw of Russia's
    threats is no share at all (0 of 0), a dash, not nan."""
    import yaml

    from shieldlab.scenario import locate

    data = yaml.safe_load(locate("nato-russia-2011")[0].read_text())
    for s in data["sensors"]:
        if s["system"] == "russia":
            s["boresight_az_deg"] = 0
    data["threats"] = data["threats"][:1]
    p = tmp_path / "north.yaml"
    p.write_text(yaml.safe_dump(data))
    assert main(["compare", str(p), "--runs", "1", "--architectures", "independent"]) == 0
    out = capsys.readouterr().out
    rows = {ln.split("│")[1].strip(): ln for ln in out.splitlines() if ln.count("│") > 2}
    assert "—" in rows["tracks: NATO sees Russia"] and "nan" not in rows["tracks: NATO sees Russia"]
    assert "—" not in rows["tracks: Russia sees NATO"]
    # and the rows are said under the table: under independent a side's own radars, nothing shared
    said = " ".join(out.split())
    assert "tracks: A sees B: of the threats B's own sensors detected, the share A's fire control held" in said
    assert "(under independent only its own: NATO sees Russia 1.00 means NATO's radars saw every threat" in said


def test_compare_of_a_one_node_scenario_says_so_under_its_table(tiny, capsys, wide):
    """A scenario of one C2 node runs the same C2 under every architecture: the note that the
    identical columns are no finding is printed under the table (it went to stderr only, before
    the run, and was lost from a saved table); JSON names the nodes."""
    assert main(["compare", str(tiny), "--runs", "1", "--architectures", "independent,integrated"]) == 0
    out = capsys.readouterr()
    assert "one C2 node: every architecture is the same C2 here" in out.out
    assert "one C2 node" not in out.err
    assert main(["compare", str(tiny), "--runs", "1", "--architectures", "independent", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["nodes"]) == 1


def test_footprint_aircraft_says_when_the_default_country_is_out_of_reach(tiny, tmp_path, capsys, wide):
    """The reach against aircraft is told into Syria by default (the 2013 question): a
    scenario elsewhere printed "0 km² of Syria within reach, up to 0 km past the ?–Syria
    border"; it now says none reaches there and names --country.  A --country the batteries
    stand in is refused, named."""
    assert main(["footprint", str(tiny), "--aircraft"]) == 0
    assert "km² of Syria within reach" in capsys.readouterr().out
    far = tmp_path / "far.yaml"
    far.write_text(FAR)
    assert main(["footprint", str(far), "--aircraft"]) == 0
    out = capsys.readouterr().out
    assert "no battery reaches into Syria (the default --country)" in out and "0 km² of Syria" not in out
    assert main(["footprint", str(tiny), "--aircraft", "--country", "Turkey"]) == 2
    assert "--country: bat [/] stands in Turkey" in capsys.readouterr().err
    # a country given that no battery reaches: said so too (it printed "0 km² ... up to 0 km past")
    assert main(["footprint", str(far), "--aircraft", "--country", "Iraq"]) == 0
    out = capsys.readouterr().out
    assert "no battery reaches into Iraq" in out and "--country" not in out.split("no battery")[1]
    assert "0 km² of Iraq" not in out


def test_footprint_of_a_map_beyond_the_threats_says_so(tiny, capsys, wide):
    """A map its threats reach nowhere printed 0 km² with a mean P(intercept) of 0.00 (a mean
    over no cell); it now prints '—' and says why."""
    assert main(["footprint", str(tiny), "--bbox", "60,62,10,13", "--step-deg", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "no launch site's threats reach any cell of the map" in out
    row = next(ln for ln in out.splitlines() if "pad/scud-b" in ln)
    assert row.rstrip().rstrip("│").split("│")[-1].strip() == "—"
    assert main(["footprint", str(tiny)]) == 0
    assert "reach any cell" not in capsys.readouterr().out


def test_footprint_step_sets_the_automatic_box_and_is_computed_once(tiny, capsys, wide, monkeypatch):
    """``--step-deg`` without a box: the automatic box at that step, the footprint computed
    first on it (it was computed on the automatic grid at its own step first, then again at
    the given one), and on a grown box only at that step."""
    from shieldlab.analysis import footprint as fpm

    grids = []
    compute_on = fpm._compute_on
    monkeypatch.setattr(fpm, "_compute_on", lambda world, grid, **k: grids.append(grid) or compute_on(world, grid, **k))
    assert main(["footprint", str(tiny), "--step-deg", "0.5", "--json"]) == 0
    assert grids and all(g.step_deg == pytest.approx(0.5) for g in grids)
    auto = fpm.auto_grid(shieldlab.load_world(str(tiny)), step_deg=0.5)
    assert (grids[0].lat_deg[0], grids[0].lon_deg[0], grids[0].shape) == (auto.lat_deg[0], auto.lon_deg[0],
                                                                            auto.shape)
    d = json.loads(capsys.readouterr().out)
    assert d["step_deg"] == pytest.approx(0.5)
    assert main(["footprint", str(tiny), "--step-deg", "0.15", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["step_deg"] == 0.15  # it was 0.14999999999999858
    site = d["sites"][0]
    assert len(str(site["lat_deg"])) <= 12 and len(site["first_intercept_s"]) == len(d["lat_deg"])
    times = [v for row in site["first_intercept_s"] for v in row if v is not None]
    assert times and min(times) > 0.0  # the grid's time of first intercept, beside its altitude


def test_an_empty_catalogue_kind_is_refused(capsys):
    assert main(["catalog", ""]) == 2
    assert "KIND: must be one of missiles" in capsys.readouterr().err
    # an entry's id in the kind's place is told the kind that holds it
    assert main(["catalog", "scud-b"]) == 2
    assert "not 'scud-b' ('scud-b' is in missiles: shieldlab catalog missiles scud-b)" in capsys.readouterr().err
    assert main(["catalog", "zzz"]) == 2
    assert "is a" not in capsys.readouterr().err


def test_aircraft_footprint_says_what_it_wrote_after_its_table(tmp_path, capsys):
    """footprint --aircraft prints every "wrote" line after its table, as the ballistic footprint
    does (its JSON's line came before the table, its map's after)."""
    js, png = tmp_path / "air.json", tmp_path / "air.png"
    assert main(["footprint", "patriot-turkey-2013", "--aircraft", "--bbox", "35,38,35,40", "--step-deg", "1",
                 "--json-out", str(js), "--out", str(png)]) == 0
    lines = capsys.readouterr().out.splitlines()
    wrote = [i for i, ln in enumerate(lines) if ln.startswith("wrote ")]
    table_end = max(i for i, ln in enumerate(lines) if ln.startswith("└"))
    assert [lines[i] for i in wrote] == [f"wrote {js}", f"wrote {png}"] and min(wrote) > table_end
    assert json.loads(js.read_text())["batteries"] and png.read_bytes()[:4] == b"\x89PNG"


def test_aircraft_footprint_json_rounds_its_figures(tmp_path):
    """footprint --aircraft --json-out: every figure rounded (the batteries' limits and the
    deepest reach came as 413.72264777440193)."""
    out = tmp_path / "air.json"
    assert main(["footprint", "patriot-turkey-2013", "--aircraft", "--bbox", "35,38,35,40", "--step-deg", "1",
                 "-q", "--json-out", str(out)]) == 0
    d = json.loads(out.read_text())
    long = []

    def walk(v, path):
        if isinstance(v, float) and v != round(v, 6):
            long.append((path, v))
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(x, f"{path}.{k}")
        elif isinstance(v, list):
            for x in v:
                walk(x, f"{path}[]")

    walk(d, "")
    assert d["batteries"] and not long, long[:5]
    assert all(v == round(v, 2) for b in d["batteries"] for v in b["limits"].values())


def test_a_burnout_speed_override_is_held_to_the_catalogues_bound(capsys):
    """reach --burnout-speed-kms took up to 20 km/s (a 22.9 km/s closing speed came back) where
    the catalogue and a scenario's batteries[].burnout_speed_kms stop at 12."""
    assert main(REACH + ["--burnout-speed-kms", "15"]) == 2
    line = _error_line(capsys.readouterr().err)
    assert "--burnout-speed-kms" in line and "12" in line


def test_an_error_writes_control_characters_as_escapes(capsys):
    """A scenario named with an escape sequence was echoed raw in its error, driving the
    terminal (colours, a bell); it is written as escapes, other letters kept."""
    assert main(["run", "bad\x1b[31mname\x07.yaml", "--runs", "2"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "bad\\x1b[31mname\\x07.yaml" in err
    assert main(["run", "naïve ünïcode.yaml", "--runs", "2"]) == 2
    assert "naïve ünïcode.yaml" in capsys.readouterr().err


INTEGRATED_ONLY = """
name: integ
epoch: 2013-03-01T00:00:00Z
architecture: integrated
sites:
  kurecik: {lat: 38.35, lon: 37.79, alt_m: 2085}
  incirlik: {lat: 37.00, lon: 35.43}
  damascus-north: {lat: 33.70, lon: 36.40}
sensors:
  - {name: tpy2, type: an-tpy-2, site: kurecik, boresight_az_deg: 210, system: us}
batteries:
  - {name: thaad, interceptor: thaad, site: incirlik, rounds: 8, system: tr}
assets:
  - {name: adana, site: {lat: 37.00, lon: 35.32}, radius_km: 12}
threats:
  - {name: scud, missile: scud-c, launch: damascus-north, aim: adana}
"""


def test_compare_leaves_out_an_architecture_the_scenario_cannot_run_under(tmp_path, capsys, wide):
    """A battery of a system without sensors runs only integrated: compare with no list was
    refused outright at the first other architecture; it leaves each out and says why."""
    p = tmp_path / "integ.yaml"
    p.write_text(INTEGRATED_ONLY)
    assert main(["compare", str(p), "--runs", "2"]) == 0
    out = capsys.readouterr()
    assert "independent left out: batteries[0].system: no sensor feeds system 'tr'" in out.err
    assert "coordinated left out: links:" in out.err
    assert "integrated" in out.out and "independent" not in out.out
    assert main(["compare", str(p), "--runs", "2", "--architectures", "independent"]) == 2  # asked for: refused


def test_run_prints_what_validate_notes(tmp_path):
    """A scenario that validates with a note (here a satellite of a system no radar feeds,
    accepted under integrated) said so only under validate: run says it too, on stderr, and
    runs; --quiet does not."""
    import yaml

    from shieldlab.scenario import locate

    data = yaml.safe_load(locate("epaa-phase-1")[0].read_text())
    data["early_warning"] = [{"name": "sbirs-1", "type": "sbirs-geo", "lon_deg": 57.0, "system": "nato-bmdd"}]
    p = tmp_path / "noted.yaml"
    p.write_text(yaml.safe_dump(data))
    note = "note: early_warning[0] (sbirs-1) belongs to system 'nato-bmdd', which no radar feeds"
    assert note in cli_run("validate", p).stdout
    r = cli_run("run", p, "--runs", "1")
    assert r.returncode == 0 and note in r.stderr and note not in r.stdout
    q = cli_run("run", p, "--runs", "1", "-q")
    assert q.returncode == 0 and note not in q.stderr


def test_validate_notes_multi_target_settings_the_run_would_not_read(tmp_path, capsys):
    """The multi-target tracker's settings under tracking by labels change nothing `run` does:
    validate names them; with association gnn, or with none set, there is no such note."""
    scn = tmp_path / "s.yaml"
    scn.write_text(TINY + "tracking: {delete_sigma_km: 5, gate_probability: 0.99}\n")
    assert main(["validate", str(scn), "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert notes == ["note: tracking.delete_sigma_km, tracking.gate_probability are set, but tracking.association "
                     "is labels: `shieldlab run` tracks each threat by its labelled reports and reads them not at "
                     "all (`shieldlab tracks` does); set tracking.association: gnn to run the kill chain on the "
                     "multi-target tracker"]
    scn.write_text(TINY + "sensing: {false_alarms: raw}\n")
    assert main(["validate", str(scn)]) == 0
    assert "note: sensing.false_alarms is set, but tracking.association is labels" in capsys.readouterr().out
    scn.write_text(TINY + "tracking: {association: gnn, delete_sigma_km: 5}\n")
    assert main(["validate", str(scn), "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]  # (its radar makes no calls: that note only)
    assert not any("is set, but" in n for n in notes) and all("no discrimination calls" in n for n in notes)
    scn.write_text(TINY + "tracking: {init_hits: 2}\n")  # labels read init_hits
    assert main(["validate", str(scn), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["notes"] == []
    # one report confirms under gnn: false alarms become tracks M-of-N cannot drop
    scn.write_text(TINY + "tracking: {association: gnn, init_hits: 1}\n")
    assert main(["validate", str(scn), "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert len(notes) == 2 and notes[0].startswith("note: tracking.init_hits 1 under association gnn: every report")
    assert "`run` slow (fire control plans on every confirmed one" in notes[0]
    assert "no discrimination calls" in notes[1]  # (its radar's)


def test_a_querys_table_shows_a_large_float_without_an_exponent():
    """Seconds since an epoch 52 days back (4,486,893 s), 30 s apart, read 4.48689e+06 and
    4.48692e+06 in a query's table: a number of a million or more is shown to a tenth."""
    from shieldlab.cli.sweep import _float_cell

    assert [_float_cell(v) for v in (4486893.0, 4486925.25, -2.5e6)] == ["4486893", "4486925.2", "-2500000"]
    assert [_float_cell(v) for v in (0.1234567, 123456.7, 1e-7, 1e20)] == ["0.123457", "123457", "1e-07", "1e+20"]
    assert [_float_cell(v) for v in (float("nan"), float("inf"))] == ["nan", "inf"]


def test_explain_counts_the_no_fire_rows_that_came_after_the_batterys_own_shot():
    """--explain said "out-of-envelope 32 of 32 runs" of a threat the battery had fired at in
    every run: the reason was why it did not shoot again.  The table says in how many of
    those runs the row came after that battery's shot."""
    import numpy as np

    from shieldlab.cli.summary import _reason_counts, _reasons_table

    ev = {"run": np.array([0, 0, 0, 1, 1, 2]),
          "threat": np.array(["t"] * 6, object),
          "kind": np.array(["fire", "no-fire", "no-fire", "no-fire", "fire", "hold"], object),
          "actor": np.array(["a", "a", "b", "a", "b", "a"], object),
          "reason": np.array(["", "out-of-envelope", "out-of-envelope", "out-of-envelope", "", "held-last-chance"],
                             object),
          "detail": np.array([""] * 6, object),
          "t_s": np.array([10.0, 50.0, 50.0, 60.0, 20.0, 5.0])}
    rows = _reason_counts(ev, np.ones(6, bool))
    assert rows == [("no-fire", "a", "out-of-envelope", 2, 1), ("hold", "a", "held-last-chance", 1, 0),
                    ("no-fire", "b", "out-of-envelope", 1, 0)]
    t = _reasons_table(rows, 3, "x")
    assert [c.header for c in t.columns][-1] == "of them after its shot"
    assert [c.header for c in _reasons_table([r[:4] + (0,) for r in rows], 3, "x").columns][-1] == "share"


@pytest.mark.parametrize("fmt", [["--json"], ["--csv"]])
def test_a_query_whose_reader_goes_away_ends_quietly(tmp_path, fmt):
    """`shieldlab query ... --csv | head -1` ended with exit code 1 and no word (click's
    answer to a broken pipe, the CSV written row by row), where the table and --json ended
    with 0: every format now ends as if it had been read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"k": list(range(50_000)), "v": [0.5] * 50_000}), tmp_path / "big.parquet")
    p = subprocess.Popen([sys.executable, "-m", "shieldlab", "query", str(tmp_path / "big.parquet"),
                          "select * from big", *fmt], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.readline()
    p.stdout.close()  # the reader goes
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 0 and err == "", err
