"""End-to-end tests of the ``shieldlab`` command: run, flyout, presets, validate, catalog, bad input."""

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from unittest import mock

import numpy as np
import pyarrow.parquet as pq
import pytest

from shieldlab import catalog, earth
from shieldlab.cli import main

EXE = [sys.executable, "-m", "shieldlab.cli"]


def cli(*args, cwd=None, env=None, process=False):
    """The command as a user runs it, 200 columns wide: ``CompletedProcess`` with its exit code,
    stdout and stderr (other test modules import it).

    By default :func:`shieldlab.cli.main` runs in this process, in folder ``cwd`` with
    ``env``'s variables set, stdout and stderr captured (not terminals, as in a pipe): the
    same code path as the installed command after its imports, without a new interpreter
    importing the package and loading every compiled kernel again (~2 s a command).
    ``process=True`` runs ``python -m shieldlab.cli`` in a subprocess instead (where the
    process itself is tested: its exit, determinism across processes, signals).
    """
    args = [str(a) for a in args]
    if process:
        e = {**os.environ, "COLUMNS": "200", **(env or {})}
        return subprocess.run(EXE + args, capture_output=True, text=True, cwd=cwd, env=e, timeout=600)
    return run_in_process(args, cwd=cwd, env=env)


def run_in_process(args, cwd=None, env=None) -> subprocess.CompletedProcess:
    """:func:`shieldlab.cli.main` on ``args`` in this process: see :func:`cli`."""
    from shieldlab.cli import common as cli_module

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:  # each restored on the way out
        stack.enter_context(mock.patch.dict(os.environ, {"COLUMNS": "200", **(env or {})}))
        # what COLUMNS=200 gives the command's console in a new process
        stack.enter_context(mock.patch.object(cli_module.out, "_width", 200))
        if cwd is not None:
            stack.enter_context(contextlib.chdir(cwd))
        stack.enter_context(contextlib.redirect_stdout(stdout))
        stack.enter_context(contextlib.redirect_stderr(stderr))
        code = main(list(args))
    return subprocess.CompletedProcess(["shieldlab", *args], code, stdout.getvalue(), stderr.getvalue())


def strict_json(text):
    """``json.loads`` that refuses NaN and Infinity: the output must be JSON, not Python's extension."""
    def bad(name):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=bad)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    r = cli("run", "epaa-phase-1", "--runs", "40", "--seed", "1", "--out", str(d / "a"))
    assert r.returncode == 0, r.stderr
    return d, r


def test_run_writes_summary_and_outcomes(run_dir):
    d, r = run_dir
    s = json.loads((d / "a" / "summary.json").read_text())
    assert s["scenario"] == "epaa-phase-1" and s["runs"] == 40 and s["seed"] == 1
    assert s["tracking"] == {"filter": "ekf", "init_hits": 3, "association": "labels"}  # what tracked the threats
    assert len(s["per_threat"]) == 6
    for row in s["per_threat"]:
        assert 0.0 <= row["p_intercept"] <= 1.0
    assert 0.0 <= s["mean_leakers"] <= 6.0
    t = pq.read_table(d / "a" / "outcomes.parquet")
    assert t.num_rows == 40 * 6
    assert set(t.column("outcome").to_pylist()) <= {"intercepted", "leaked", "airborne"}
    ev = pq.read_table(d / "a" / "events.parquet")
    kinds = set(ev.column("kind").to_pylist())
    assert {"launch", "burnout", "detect", "track", "impact"} <= kinds | {"impact"}
    assert "mean leakers" in r.stdout  # the Rich summary


def test_same_seed_same_bytes(run_dir):
    d, _ = run_dir
    # in a process of its own: the same bytes across processes, not only within one
    r = cli("run", "epaa-phase-1", "--runs", "40", "--seed", "1", "--out", str(d / "b"), process=True)
    assert r.returncode == 0, r.stderr
    for f in ("summary.json", "outcomes.parquet", "events.parquet"):
        assert (d / "a" / f).read_bytes() == (d / "b" / f).read_bytes(), f


def test_json_prints_the_summary(run_dir, capsys):
    d, _ = run_dir
    assert main(["run", "epaa-phase-1", "--runs", "40", "--seed", "1", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((d / "a" / "summary.json").read_text())


def test_flyout_json(capsys):
    assert main(["flyout", "ghadr-1", "--from", "38.08,46.29", "--to", "41.01,28.98", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    for k in ("burnout_time_s", "burnout_speed_kms", "apogee_km", "time_of_flight_s", "ground_range_km",
              "impact_lat_deg", "impact_lon_deg"):
        assert k in r
    assert r["aim_error_km"] < 1.0
    assert abs(r["ground_range_km"] - 1517) < 5


@pytest.mark.parametrize("missile, to, profile, steering", [
    ("shahab-3", "36.5,46.0", "min-energy", "trimmed to the minimum-energy shot"),
    # a solid that cannot trim: min-energy and depressed are the same shot, and it says so
    ("sejjil-2", "36.5,46.0", "min-energy",
     "full burn, the depressed branch: the missile cannot cut or manage its thrust"),
    ("sejjil-2", "36.5,46.0", "depressed", "full burn, the depressed branch"),
    ("sejjil-2", "36.5,46.0", "lofted", "full burn, the lofted branch"),
    # a missile that can cut its thrust, near its maximum range: no cut-off reaches the aim point
    ("shahab-3", "35.5,57.3", "min-energy", "full burn, the lofted branch: no trimmed shot reaches the aim point"),
])
def test_flyout_says_which_shot_it_flies(capsys, missile, to, profile, steering):
    start = "35.5,46.0" if to == "35.5,57.3" else "38.08,46.29"
    assert main(["flyout", missile, "--from", start, "--to", to, "--profile", profile, "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["steering"].startswith(steering)
    assert (r["steering"] == steering) == (profile != "min-energy" or steering.startswith("trimmed"))


def test_flyout_lands_where_it_was_steered(capsys):
    """The shot flyout reports is steered on the step it is flown on: a lofted Iskander-M,
    whose dive makes its flight sensitive to the step, came down 1.07 km off the aim point
    when steered on 1 s steps and flown on 0.5 s ones."""
    assert main(["flyout", "iskander-m", "--from", "54.64,21.82", "--to", "54.48,17.11", "--profile", "lofted",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["aim_error_km"] < 0.05


@pytest.mark.parametrize("runs, key", [(1, "miss_km"), (3, "cep_km")])
def test_flyout_names_one_dispersed_shot_a_miss_not_a_cep(capsys, runs, key):
    # a circular error probable is a median over shots: one shot has only its own miss
    args = ["flyout", "scud-b", "--from", "35,38", "--to", "37.4,38.3", "--runs", str(runs), "--json"]
    assert main(args) == 0
    r = json.loads(capsys.readouterr().out)
    assert {"cep_km", "miss_km"} & set(r) == {key} and r[key] > 0.0




@pytest.mark.parametrize("cmd, typed, suggested", [
    (["footprint", "epaa-phase-1"], "--cue", "--cue-delay-s"),  # click alone offered --force
    (["reach", "thaad"], "--sens", "--sensors"),
])
def test_an_unknown_option_that_begins_a_known_one_suggests_it(capsys, cmd, typed, suggested):
    assert main([*cmd, typed, "x"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"No such option: {typed} (Possible options:" in err and suggested in err


@pytest.mark.parametrize("opt", [["--thrust-pct", "2"], ["--seed", "3"], ["--runs", "0", "--azimuth-mrad", "1"]])
def test_flyout_refuses_a_dispersion_without_dispersed_shots(capsys, opt):
    """A dispersion (or seed) without --runs changed nothing and exited 0: now refused, named."""
    assert main(["flyout", "scud-b", "--from", "35,38", "--to", "37.4,38.3", *opt]) == 2
    err = capsys.readouterr().err
    assert f"{opt[-2]}: applies to dispersed shots only" in err and "--runs" in err


def test_flyout_near_the_maximum_range_by_the_pole_says_why_it_cannot_steer(capsys):
    """A Minuteman III from 0 N 0 E flies 9,952 km to 89.5 N, but 89.7 N (9,974 km, inside the
    10,064 km maximum range of the great-circle bearing) was refused with "no trajectory comes
    down ... (try another profile)", which no profile helps: the bearing turned to allow for the
    Earth's rotation, large so near the pole, reaches less.  The error says that, exit code 2."""
    assert main(["flyout", "minuteman-iii", "--from", "0,0", "--to", "89.5,0", "--json"]) == 0
    capsys.readouterr()
    assert main(["flyout", "minuteman-iii", "--from", "0,0", "--to", "89.7,0"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "within 0.9 % of the maximum range on that bearing (10,064 km)" in err, err
    assert "aim a little nearer" in err and "try another profile" not in err
    # and how far the turned bearing reaches, in figures: more than the 9,952 km flown, less than the aim
    turned = re.search(r"the Earth's rotation reaches at most ([\d,]+) km", err)
    assert turned and 9_952 <= int(turned.group(1).replace(",", "")) < 9_974, err



def test_flyout_gives_the_maximum_range_on_the_bearing_it_flies(capsys):
    """flyout's max_range_km was the full-burn range on the great circle's bearing, where the
    solver starts: a Minuteman III over the pole to Moscow flies 16.3° (7° off it, for the
    Earth's turn) and printed 10,466 km; on the bearing flown it reaches 158 km less.  Now it
    is the maximum on the flown bearing: the most any kick reaches there, and a shot flown
    there at the range the command names comes no farther than it."""
    from shieldlab.flyout import aim

    assert main(["flyout", "minuteman-iii", "--from", "48.4,-101.3", "--to", "55.75,37.6", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    m = catalog.get_missile("minuteman-iii")
    la, lo = np.radians([48.4, -101.3])
    first = aim.max_range_on(m, la, lo, 0.0, earth.initial_bearing(la, lo, *np.radians([55.75, 37.6])))
    assert 10_250 < r["max_range_km"] < first / 1e3 - 100.0
    assert r["max_range_km"] == pytest.approx(aim.max_range_on(m, la, lo, 0.0, np.radians(r["launch_azimuth_deg"]))
                                              / 1e3, abs=0.2)
    assert r["ground_range_km"] < r["max_range_km"]


def test_flyout_names_the_profile_that_flies_a_refused_shot(capsys):
    """A refused shot's "try another profile" was unchecked advice; the profiles are tried and
    those that fly it named.  The notional ICBM 17,000 km east has no depressed full-burn
    shot (a flatter full burn passes the antipode); its min-energy shot, refused too until
    its solver stopped taking the range's jump at the antipode for a root, flies its lofted
    full burn, as --profile lofted does."""
    to = ["--from", "35,52", "--to", "-30.69942,-160.01032"]
    assert main(["flyout", "notional-iran-icbm", *to, "--profile", "depressed"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "(--profile min-energy or lofted flies it)" in err and "try another profile" not in err, err
    for profile in ("min-energy", "lofted"):
        assert main(["flyout", "notional-iran-icbm", *to, "--profile", profile, "--json"]) == 0
        shot = json.loads(capsys.readouterr().out)
        assert shot["branch"] == "lofted" and shot["aim_error_km"] < 0.01, shot
    # and from Python, in its own words (the API's error had kept the unchecked "try another profile")
    import shieldlab

    with pytest.raises(shieldlab.InputError, match=r"\(profile='min-energy' or profile='lofted' flies it\)") as e:
        shieldlab.fly("notional-iran-icbm", (35, 52), (-30.69942, -160.01032), profile="depressed")
    assert e.value.field == "aim"


def test_a_shape_refused_near_the_greatest_range_names_the_shot_that_flies(capsys):
    """The notional ICBM 17,000 km east: its only lofted shot is the full burn (apogee 855.5 km).
    Asked for another apogee, the refusal gave a span the full burn lay outside ("between 874.7
    and 875.1 km": scanned on the first guess's azimuth, 20 km of apogee off, and just inside
    the full-burn end); the depressed one, a span of one value, for a profile with no shot.
    A refused shape now reads the bearing the azimuth converged to and the full-burn end."""
    to = ["--from", "35,52", "--to", "-30.69942,-160.01032"]
    assert main(["flyout", "notional-iran-icbm", *to, "--profile", "lofted", "--json"]) == 0
    shot = json.loads(capsys.readouterr().out)
    for option, key, unit in (("--apogee-km", "apogee_km", "km"), ("--flight-time-s", "time_of_flight_s", "s")):
        assert main(["flyout", "notional-iran-icbm", *to, "--profile", "lofted", option, "1000"]) == 2
        err = " ".join(capsys.readouterr().err.split())
        assert "its one shot of this profile" in err and f"{shot[key]:,.1f} {unit}" in err, (err, shot[key])
        assert "between" not in err
        assert main(["flyout", "notional-iran-icbm", *to, "--profile", "depressed", option, "1000"]) == 2
        err = " ".join(capsys.readouterr().err.split())
        assert "no shot of this profile to it can be shaped" in err and "between" not in err, err


def test_a_refused_shape_names_one_span_for_every_request_and_what_lies_inside_flies(capsys):
    """A Minuteman III from North Dakota to Moscow, depressed: 1,500 s was refused "between
    1,510.3 and 1,897.2 s", 1,890 s then "between 1,501.3 and 1,883.4 s" (spans scanned on
    different azimuths: the first guess's, 7 degrees off the converged one on this polar
    flight, and wherever the corrections had got to). Both are judged now on the bearing an
    end of the curve converges to; a value inside flies. And a span is rounded inward: a
    Scud-B's 241.2 s was refused "between 241.2 and 291.9 s"."""
    mm = ["flyout", "minuteman-iii", "--from", "48.4,-101.3", "--to", "55.75,37.6", "--profile", "depressed"]
    spans = []
    for t in ("1500", "1890"):
        assert main([*mm, "--flight-time-s", t]) == 2
        err = " ".join(capsys.readouterr().err.split())
        spans.append(err.split("this aim point: ")[1])
    assert spans[0] == spans[1] and spans[0].startswith("between"), spans
    lo, hi = (float(x.replace(",", "")) for x in spans[0].removeprefix("between ").removesuffix(" s").split(" and "))
    assert lo > 1500 and hi < 1890
    assert main([*mm, "--flight-time-s", str(round(hi - 5)), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["time_of_flight_s"] == pytest.approx(round(hi - 5), abs=0.01)
    assert main(["flyout", "scud-b", "--from", "35,38", "--to", "37.4,38.3", "--profile", "depressed",
                 "--flight-time-s", "241.2"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    low = float(err.split("between ")[1].split(" and ")[0])
    assert low > 241.2, err
    # the span is the scan's: a Shahab-3's 444.3 km had been refused "between 139.9 and 444.3"
    # (the full-burn end past the scan named as its end)
    sh = ["flyout", "shahab-3", "--from", "35.0,50.0", "--to", "37.0,45.0", "--profile", "lofted", "--apogee-km"]
    assert main([*sh, "444.3"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    high = float(err.split(" and ")[1].split(" km")[0].replace(",", ""))
    assert high < 444.3, err
    assert main([*sh, str(high - 0.5), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["apogee_km"] == pytest.approx(high - 0.5, abs=0.01)


@pytest.mark.parametrize("extra", [[], ["--profile", "lofted"], ["--profile", "depressed"]])
def test_flyout_too_close_for_a_solid_offers_no_dead_end(capsys, extra):
    """A generic IRBM (solid, no thrust cut-off, no energy management) aimed 111 km away: the
    error said "try another profile", the other profile "or shape it by apogee or flight
    time", and shaping was refused as the missile cannot trim: every piece of advice a dead
    end.  It says why instead: neither full-burn shot comes down that near."""
    assert main(["flyout", "generic-irbm", "--from", "35,40", "--to", "36,40", *extra]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "too close for a missile that cannot cut its thrust" in err, err
    assert "try another profile" not in err and "shape it" not in err

def test_flyout_dispersion_defaults_and_table(capsys):
    """The defaults of the dispersions are those the help states (the same CEP given or not);
    the table writes a thrust that is never cut as '–', not Python's None."""
    base = ["flyout", "scud-b", "--from", "35,38", "--to", "37.4,38.3", "--runs", "20", "--json"]
    assert main(base) == 0
    default = json.loads(capsys.readouterr().out)["cep_km"]
    assert main(base + ["--seed", "1", "--thrust-pct", "0.1", "--isp-pct", "0.1", "--burn-pct", "0.1",
                        "--drag-pct", "3", "--azimuth-mrad", "0.5"]) == 0
    assert json.loads(capsys.readouterr().out)["cep_km"] == default
    assert main(["flyout", "sejjil-2", "--from", "38.08,46.29", "--to", "37.98,23.73"]) == 0
    out = capsys.readouterr().out
    assert "None" not in out and re.search(r"thrust_cutoff_s\s*│\s*–", out)
def test_presets_validate_catalog(capsys):
    assert main(["presets", "--json"]) == 0
    assert any(p["name"] == "epaa-phase-1" for p in json.loads(capsys.readouterr().out))
    assert main(["validate", "epaa-phase-1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True
    # the table wraps its descriptions in their cells, in a pipe too (one line each made it ~1,100 wide)
    assert main(["presets"]) == 0
    table = capsys.readouterr().out
    assert max(len(ln) for ln in table.splitlines()) <= 110
    assert "eastern Mediterranean" in table and "epaa-phase-1" in table
    for kind in ("missiles", "interceptors", "sensors"):  # names and sources wrap too (they were ~380 wide)
        assert main(["catalog", kind]) == 0
        assert max(len(ln) for ln in capsys.readouterr().out.splitlines()) <= 200, kind
    assert main(["catalog", "missiles", "--json"]) == 0
    assert {m["id"] for m in json.loads(capsys.readouterr().out)} >= {"scud-b", "shahab-3", "sejjil-2"}


BAD_SCENARIO = """name: bad
epoch: 2012-03-01T00:00:00Z
sites: {pad: {lat: 95, lon: 46}}
threats: [{name: t, missile: ghadr-1, launch: pad, aim: pad}]
"""


@pytest.mark.parametrize("args, words", [
    (["flyout", "no-such-missile", "--from", "38,46", "--to", "41,29"], "unknown missile 'no-such-missile'"),
    (["flyout", "su-24m", "--from", "38,46", "--to", "41,29"],
     "unknown missile 'su-24m' (su-24m is an aircraft of the catalogue, not a missile)"),
    (["flyout", "ghadr-1", "--from", "95,46", "--to", "41,29"], "--from"),
    (["flyout", "scud-b", "--from", "38,46", "--to", "41,29"], "maximum range"),
    (["flyout", "scud-b", "--from", "38,46", "--to", "38,46"], "less than 1 km"),
    # the exact antipode: every bearing leads there (it was a traceback from the closed forms)
    (["flyout", "topol-m", "--from", "54,35.8", "--to", "-54,-144.2"], "antipode"),
    (["reach", "gbi", "--site", "40,-100", "--missile", "topol-m", "--from", "54,35.8", "--to", "-54,-144.2"],
     "antipode"),
    (["flyout", "scud-c", "--from", "35,38", "--to", "38.5,38.3", "--profile", "lofted", "--apogee-km", "2000"],
     "cannot be flown"),
    (["flyout", "scud-b", "--from", "38,46", "--to", "39,46", "--profile", "sideways"], "--profile"),
    # a solid's flat full-burn shot that meets the ground at the aim point with its motor burning
    # (a Sejjil-2 "landed" 44 km away at 68 s of its 115 s burn; burnout Infinity in the JSON)
    (["flyout", "sejjil-2", "--from", "38,46", "--to", "38,46.5", "--json"], "meets the ground under thrust"),
    (["validate", "{tmp}/close.yaml"], "meets the ground under thrust"),
    (["run", "{tmp}/bad.yaml", "--out", "{tmp}/out"], "sites.pad.lat"),
    (["run", "{tmp}/broken.yaml", "--out", "{tmp}/out"], "malformed YAML"),
    (["run", "{tmp}/missing.yaml", "--out", "{tmp}/out"], "no such file"),
    (["validate", "{tmp}/bad.yaml"], "less than or equal to 90"),
    (["run", "epaa-phase-1", "--runs", "-3", "--out", "{tmp}/out"], "--runs"),
    (["tracks", "epaa-phase-1", "--false-alarms", "lots"], "--false-alarms"),
    (["tracks", "epaa-phase-1", "--false-alarms", "-1"], "--false-alarms"),
    # the option's own problem before the file's (an existing --out had hidden it until --force)
    (["tracks", "epaa-phase-1", "--false-alarms", "-1", "--out", "{tmp}/bad.yaml"], "--false-alarms"),
    (["tracks", "{tmp}/bad.yaml"], "sites.pad.lat"),
    # the name's kind before its existence: an existing file asked for --force, which then refused the name
    (["tracks", "epaa-phase-1", "--out", "{tmp}/bad.yaml"], "give a file name ending in .parquet"),
    # an empty path was taken as the current folder (written into it)
    (["run", "epaa-phase-1", "--runs", "2", "--out", ""], "error: --out: an empty path"),
    (["footprint", "epaa-phase-1", "--out", " "], "error: --out: an empty path"),
    (["query", "", "select 1"], "'DIR': an empty path"),
    # a path is printed as written: an escape sequence in it acted on the terminal
    (["run", "epaa-phase-1", "--runs", "2", "--out", "{tmp}/out\x1b[31mX"], "holds a control character"),
    (["coverage", "epaa-phase-1", "--out", "{tmp}/out\nmap.png"], "holds a control character"),
])
def test_bad_input_exit_2_no_traceback_no_files(tmp_path, args, words):
    (tmp_path / "bad.yaml").write_text(BAD_SCENARIO)
    (tmp_path / "broken.yaml").write_text("name: [unclosed\n")
    (tmp_path / "close.yaml").write_text(BAD_SCENARIO.replace("lat: 95, lon: 46}}", "lat: 38, lon: 46}, "
                                                              "city: {lat: 38, lon: 46.5}}")
                                         .replace("missile: ghadr-1, launch: pad, aim: pad",
                                                  "missile: sejjil-2, launch: pad, aim: city"))
    r = cli(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert words in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()
    if args[1].endswith(".yaml"):
        assert str(tmp_path) in r.stderr  # the message names the scenario's file


def test_help_exits_zero():
    r = cli("--help", process=True)  # the module run as a program: its exit code
    assert r.returncode == 0 and "flyout" in r.stdout


@pytest.mark.parametrize("job", __import__("shieldlab.warmup", fromlist=["JOBS"]).JOBS, ids=lambda j: " ".join(j[:2]))
def test_every_warmup_job_is_a_valid_command_line(job, tmp_path):
    # the install's warm-up runs these; a renamed option would stop `make install` there
    import typer

    from shieldlab.cli import app

    group = typer.main.get_command(app)
    args = [a.format(out=tmp_path) for a in job]
    ctx = group.make_context("shieldlab", list(args), resilient_parsing=False)
    sub = group.get_command(ctx, args[0])
    assert sub is not None, args[0]
    sub.make_context(args[0], args[1:], parent=ctx)  # raises click.UsageError on an unknown option


def test_tracks_echoes_the_false_alarm_setting_as_given(capsys):
    assert main(["tracks", "epaa-phase-1", "--runs", "2", "--seed", "4", "--false-alarms", "3"]) == 0
    assert "false alarms (3) per search frame: kurecik-tpy2 3, ship-spy1 3" in capsys.readouterr().out


def test_the_multi_target_tables_say_the_track_management_they_ran(tmp_path, capsys):
    """tracks, validate and run (association gnn) print the settings the track numbers depend
    on, as the scenario gives them; run under labels does not (it reads none of them)."""
    scn = tmp_path / "g.yaml"
    from shieldlab.scenario.loader import preset_text

    scn.write_text(preset_text("epaa-phase-1")
                   + "tracking: {association: gnn, delete_sigma_km: 7.5, confirm_looks: 6, min_speed_ms: 250}\n")
    want = ("track management: confirmed on 3 reports in 6 looks once the velocity is known to 300 m/s; a one-point "
            "track's second report at least 250 m/s away, and a track confirmed only at 250 m/s or faster; deleted "
            "when its silent looks had less than 0.001 chance "
            "were the object there or, confirmed, its position RMS radius passes 7.5 km; gate 0.9999")
    for args in (["tracks", str(scn), "--runs", "2"], ["validate", str(scn)], ["run", str(scn), "--runs", "2"]):
        assert main(args) == 0
        printed = " ".join(capsys.readouterr().out.split())
        assert want in printed, args
        assert "false alarms (confirmed) per search frame: kurecik-tpy2 0.000979, ship-spy1 9.51e-05" in printed, args
    assert main(["run", "epaa-phase-1", "--runs", "2"]) == 0
    assert "track management" not in capsys.readouterr().out


def test_the_track_management_line_counts_one_report_and_one_look():
    from shieldlab.cli.notes import _management_text

    one = {"init_hits": 1, "confirm_looks": 1, "confirm_sigma_v_ms": 300.0, "min_speed_ms": 300.0,
           "delete_probability": 1e-3, "delete_sigma_km": 20.0, "gate_probability": 0.9999}
    assert "confirmed on 1 report in 1 look once" in _management_text(one)
    assert "confirmed on 2 reports in 3 looks once" in _management_text({**one, "init_hits": 2, "confirm_looks": 3})


def test_tracks_without_radars_is_an_input_error(tmp_path, capsys):
    """A scenario without radars printed an empty table and exit 0."""
    from test_cli_output import TINY

    scn = tmp_path / "blind.yaml"
    blind = TINY.split("sensors:")[0] + "assets:" + TINY.split("assets:")[1]  # no radars, no batteries
    assert "sensors" not in blind and "batteries" not in blind and "threats" in blind
    scn.write_text(blind)
    assert main(["tracks", str(scn), "--runs", "2"]) == 2
    err = capsys.readouterr().err
    assert "sensors: the scenario has no radars" in err and "Traceback" not in err


def test_tracks_json(capsys):
    assert main(["tracks", "epaa-phase-1", "--runs", "2", "--seed", "4", "--false-alarms", "1", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["runs"] == 2 and s["false_alarms"] == 1.0
    assert s["tracking"]["filter"] == "ekf" and s["tracking"]["confirm_looks"] == 5  # the scenario's tracking.*
    assert s["false_alarms_per_search_frame"] == {"kurecik-tpy2": 1.0, "ship-spy1": 1.0}
    assert s["gospa"] == {"c_m": 5000.0, "p": 2.0, "alpha": 2, "step_s": 4.0}
    q = s["pictures"]["nato-bmd"]
    assert q["threats_tracked"] == 6.0 and 60 < q["median_time_to_firm_track_s"] < 200
    assert q["false_tracks_per_hour"] >= 0 and q["booster_tracks"] >= 1
    # the keys of run's track quality, with the same meanings
    assert {"missed_targets", "false_tracks", "track_breaks"} <= set(q)
    assert q["runs"] == 2  # the runs each picture's means are over, as run's summary says
    lo, hi = q["position_rmse_m_ci95"]
    assert lo <= q["position_rmse_m"] <= hi  # two runs: an interval


def test_tracks_out_writes_a_row_per_confirmed_track(tmp_path, capsys):
    """--out: one row per confirmed track; its counts agree with the quality table (the
    boosters' tracks, the threats followed), and it is written only when asked, atomically."""
    out = tmp_path / "tracks.parquet"
    assert main(["tracks", "epaa-phase-1", "--runs", "3", "--seed", "4", "--out", str(out), "--json"]) == 0
    q = json.loads(capsys.readouterr().out)["pictures"]["nato-bmd"]
    t = pq.read_table(out).to_pydict()
    from shieldlab.outcome.track_table import COLUMNS

    assert tuple(t) == COLUMNS
    assert sorted(set(t["run"])) == [0, 1, 2] and set(t["picture"]) == {"nato-bmd"}
    boosters = sum(o.startswith("booster of ") for o in t["object"])
    assert boosters == pytest.approx(3 * q["booster_tracks"])
    threats = {(r, o) for r, o in zip(t["run"], t["object"]) if not o.startswith(("booster of ", "false alarm"))}
    assert len(threats) == pytest.approx(3 * q["threats_tracked"])
    for row in zip(t["started_s"], t["confirmed_s"], t["last_report_s"], t["ended_s"]):
        assert row[0] <= row[1] <= row[2] <= row[3]
    assert all(0.5 <= p <= 1.0 for p in t["purity"]) and all(n >= 3 for n in t["reports"])
    assert all(s and set(s.split(", ")) <= {"kurecik-tpy2", "ship-spy1"} for s in t["sensors"])
    # an existing file is kept without --force; --force needs --out; only Parquet
    before = out.read_bytes()
    for args, field in ((["--out", str(out)], "--out"), (["--force"], "--force"),
                        (["--out", str(tmp_path / "t.csv")], "--out"), (["--out", str(tmp_path / ".parquet")], "--out"),
                        (["--out", str(tmp_path)], "--out"), (["--out", str(tmp_path / "a\nb.parquet")], "--out")):
        assert main(["tracks", "epaa-phase-1", "--runs", "1", *args]) == 2
        assert f"error: {field}:" in capsys.readouterr().err
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["tracks.parquet"]
    # what it wrote is said after the table, on stdout, as run says it (on stderr under --json)
    assert main(["tracks", "epaa-phase-1", "--runs", "1", "--out", str(out), "--force"]) == 0
    printed = capsys.readouterr()
    assert printed.out.rstrip().endswith(f"wrote {out} (one row per confirmed track)") and "wrote" not in printed.err
    assert main(["tracks", "epaa-phase-1", "--runs", "1", "--out", str(tmp_path / "my-t.PARQUET"), "-q"]) == 0
    # the query reads the file as a view named by it, and says how to write a name that is not plain
    assert main(["query", str(tmp_path / "my-t.PARQUET"), "select count(*) from my-t"]) == 2
    assert '"my-t"' in capsys.readouterr().err
    assert main(["query", str(tmp_path / "my-t.PARQUET"), 'select count(distinct run) as n from "my-t"', "--csv"]) == 0
    assert capsys.readouterr().out.split() == ["n", "1"]


def test_validate_imports_no_optimiser_or_integrator():
    """scipy.optimize and scipy.integrate (~0.3-0.6 s of a command's start) are imported where
    an assignment is solved or a ray traced, not when the modules that use them load: checking
    a scenario needs neither."""
    import subprocess
    import sys

    code = ("import sys; from shieldlab.cli import main\n"
            "try:\n    main(['validate', 'epaa-phase-1'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('scipy.optimize', 'scipy.integrate', 'scipy.sparse') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_query_values_in_json_and_csv_are_data():
    """An INTERVAL as an ISO 8601 duration in fixed point, its sign before the P (PT5e-06S and
    PT-5400S were written), a nan null in JSON and nan in CSV."""
    import datetime as dt

    from shieldlab.cli.sweep import _sql_plain

    assert _sql_plain(dt.timedelta(microseconds=5), True) == "PT0.000005S"
    assert _sql_plain(-dt.timedelta(minutes=90), True) == "-PT5400S"
    assert _sql_plain(dt.timedelta(days=3), False) == "PT259200S"
    assert _sql_plain(float("nan"), True) is None and str(_sql_plain(float("nan"), False)) == "nan"


def test_a_minimum_speed_faster_than_a_missile_where_first_seen_gets_a_note(capsys):
    assert main(["validate", "nato-russia-2011", "--set", "tracking.association=gnn"]) == 0
    assert "note: tracking.min_speed_ms" not in capsys.readouterr().out  # the default 300 m/s: no note
    assert main(["validate", "nato-russia-2011", "--set", "tracking.association=gnn",
                 "--set", "tracking.min_speed_ms=3000"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "note: tracking.min_speed_ms 3000 m/s" in out and "0 turns the gate off" in out


def test_overconfident_tracks_are_said_under_the_track_quality_table(capsys):
    """A picture whose mean NEES is far above a consistent filter's gets a line naming it."""
    from shieldlab.cli.summary import OVERCONFIDENT_NEES, _nees_note

    assert _nees_note({"a": {"mean_nees": 3.0}, "b": {"mean_nees": None}}) is None
    assert "b 1,234" in _nees_note({"a": {"mean_nees": 3.0}, "b": {"mean_nees": 1234.0}})
    assert _nees_note({"a": {"mean_nees": OVERCONFIDENT_NEES}}) is None
    assert main(["tracks", "epaa-phase-1", "--runs", "2"]) == 0
    assert "overconfident" not in capsys.readouterr().out
    assert main(["tracks", "nato-russia-2011", "--runs", "2"]) == 0  # its Russian picture's swaps
    out = " ".join(capsys.readouterr().out.split())
    assert "overconfident tracks: mean NEES russia" in out and "nato" not in out.split("overconfident")[1][:40]


def test_a_system_without_discrimination_calls_gets_a_note_under_gnn(capsys):
    """nato-russia-2011's Russian radars make no calls: under gnn NATO's batteries fired at
    boosters on the tracks the link brought (every one taken for a warhead); said by validate."""
    assert main(["validate", "nato-russia-2011", "--set", "tracking.association=gnn"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "note: the radars of russia make no discrimination calls" in out
    for args in (["nato-russia-2011"], ["epaa-phase-1", "--set", "tracking.association=gnn"]):
        assert main(["validate", *args]) == 0  # labels (no tracks to misjudge); radars that call
        assert "make no discrimination calls" not in capsys.readouterr().out
    # integrated, one picture of every radar: Russia's tracks are NATO's too, and NATO's radars
    # call (the note named "russia" as if it had a picture of its own)
    assert main(["validate", "nato-russia-2011", "--set", "tracking.association=gnn", "--set",
                 "architecture=integrated"]) == 0
    assert "discrimination calls" not in capsys.readouterr().out
    none_call = [a for i in range(3) for a in ("--set", f"sensors[{i}].type=voronezh-dm")]  # (NATO's too)
    assert main(["validate", "nato-russia-2011", "--set", "tracking.association=gnn", "--set",
                 "architecture=integrated", *none_call]) == 0
    assert "no radar of the scenario makes discrimination calls" in " ".join(capsys.readouterr().out.split())


def test_flyout_says_when_a_shot_bears_a_dynamic_pressure_no_airframe_is_built_for(capsys):
    """A Sejjil-2 aimed 300 km away flies its depressed full burn, burning out at 18 km at
    3.85 km/s: 854 kPa in boost, where the catalogue's ballistic missiles bear ~100 kPa on
    their minimum-energy shots; it was flown without a word."""
    import numpy as np

    import shieldlab
    from shieldlab import earth

    near = ["flyout", "sejjil-2", "--from", "35,52", "--to", "37.698,52"]
    assert main([*near, "--json"]) == 0
    q = json.loads(capsys.readouterr().out)["boost_max_q_kpa"]
    shot = shieldlab.fly("sejjil-2", (35, 52), (37.698, 52))
    assert q == pytest.approx(shot.boost_max_q_kpa, abs=0.06) and q > 500
    # at least what burnout alone gives: rho(h) v^2 / 2 there, v relative to the air
    p = shot.path()
    k = int(np.searchsorted(p.t_s, shot.burnout_time_s))
    v = np.linalg.norm(shot.trajectory.vel.reshape(-1, 3)[k - 1])
    at_burnout = 0.5 * float(earth.density_rows(np.array([p.alt_km[k - 1] * 1e3]))[0]) * v * v / 1e3
    assert at_burnout <= q < 1.2 * at_burnout
    assert main(near) == 0
    assert "note: the airframe bears 854 kPa of dynamic pressure in boost" in " ".join(capsys.readouterr().out.split())
    assert main(["flyout", "scud-b", "--from", "35,38", "--to", "37.4,38.3"]) == 0
    assert "dynamic pressure" not in capsys.readouterr().out
    assert 50 < shieldlab.fly("scud-b", (35, 38), (37.4, 38.3)).boost_max_q_kpa < 200
