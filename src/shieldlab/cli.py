"""The ``shieldlab`` command: Typer front end over the library.

Bad input of any kind (file, field, flag) ends with one line on stderr naming
the file and field, exit code 2, and no output file written.  User text (file
names, scenario, threat and battery names) is printed literally, never read as
console markup.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import importlib
import itertools
import json
import math
import os
import sys
import textwrap
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import typer
from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text
from typer.core import TyperCommand

from shieldlab import MAX_RUNS
from shieldlab.catalog.models import MAX_BURNOUT_SPEED_KMS
from shieldlab.errors import InputError, checked_latlon

# rich_markup_mode=None: plain help, so units in brackets ([deg], [km], [s]) are shown as written
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="shieldlab: simulate integrated air and missile defence, threat to outcome.")


class _Command(TyperCommand):
    """A command whose usage line names its arguments plainly (SCENARIO, not {SCENARIO})."""

    def collect_usage_pieces(self, ctx):
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in super().collect_usage_pieces(ctx)]


# markup off: whatever is printed is printed as written; styling goes through Text
out = Console(markup=False, highlight=False, emoji=False)
DEMO_PRESET = "epaa-phase-1"
DEFAULT_RUNS = 100
#: ``flyout --runs``' dispersions where not given (1-sigma: percent, the azimuth in mrad) and seed.
FLYOUT_SPREAD = {"--seed": 1, "--thrust-pct": 0.1, "--isp-pct": 0.1, "--burn-pct": 0.1, "--drag-pct": 3.0,
                 "--azimuth-mrad": 0.5}
COMPILE_NOTE = "compiling the flight kernels, first run only, a few minutes"
#: Said when a kernel the check before a command did not foresee compiles (once a command).
LATE_COMPILE_NOTE = "compiling kernels this command has not used before (once; up to a few minutes)"
# modules holding the Numba kernels each command compiles
_KERNELS = {
    "simulate": ("shieldlab.flyout.kernel", "shieldlab.engage.fan", "shieldlab.tracking.tracker_kernel"),
    "flyout": ("shieldlab.flyout.kernel",),
    "reach": ("shieldlab.flyout.kernel", "shieldlab.engage.fan"),
    "footprint": ("shieldlab.flyout.kernel", "shieldlab.engage.fan", "shieldlab.engage.solver",
                  "shieldlab.sensors.visibility", "shieldlab.analysis.footprint"),
    "coverage": ("shieldlab.sensors.visibility",),
    "tracks": ("shieldlab.flyout.kernel", "shieldlab.sensors.visibility", "shieldlab.tracking.mtt_kernel"),
}


def _err() -> Console:
    return Console(stderr=True, markup=False, highlight=False, soft_wrap=True, emoji=False)


def _visible(text: str) -> str:
    """``text`` with its control characters written as escapes (``\\x1b``): a file name or
    value echoed in an error must not drive the terminal (colours, a cleared screen)."""
    return "".join(c if c.isprintable() or c == "\t" else repr(c)[1:-1] for c in text)


#: What the running command holds until it ends (an output folder's lock: :func:`_hold_folder`);
#: a context variable, so that commands run in threads hold their own.
_HELD: contextvars.ContextVar[contextlib.ExitStack | None] = contextvars.ContextVar("shieldlab_held", default=None)


def _empty_or_absent(folder) -> bool:
    """Whether ``folder`` is missing or an empty folder."""
    p = Path(folder)
    return not p.exists() or (p.is_dir() and not any(p.iterdir()))


def _finished_run(out_dir) -> bool:
    """Whether ``out_dir`` holds a finished run's results (its summary, and no stopped run's
    chunks beside it): nothing for ``--resume`` to do."""
    from shieldlab.engine.sweep import partial_folder

    return (Path(out_dir) / "summary.json").exists() and not partial_folder(out_dir).exists()


def _hold_folder(out_dir) -> None:
    """Hold ``out_dir`` for the running command, against a second writer
    (:func:`shieldlab.io.lock.writing`), until the command ends, however it ends; called just
    before the command writes it, every check having passed.  Outside a command (a function
    of this module called by itself) nothing is held."""
    from shieldlab.io.lock import writing

    held = _HELD.get()
    if held is not None:
        held.enter_context(writing(out_dir))


def _guard(fn):
    """Turn bad input into one line on stderr per problem and exit code 2 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with contextlib.ExitStack() as held:
                token = _HELD.set(held)
                try:
                    return fn(*args, **kwargs)
                finally:
                    _HELD.reset(token)
        except InputError as e:  # (a catalogue's CatalogError among them)
            con = _err()
            for line in (str(e) or type(e).__name__).splitlines():
                con.print(Text.assemble(("error:", "red"), " ", _visible(line)))
            raise typer.Exit(2) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        import shieldlab

        sys.stdout.write(f"shieldlab {shieldlab.__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="print the version and exit")) -> None:
    """shieldlab: simulate integrated air and missile defence, threat to outcome."""


def _latlon(text: str, flag: str) -> tuple[float, float]:
    try:
        lat, lon = (float(x) for x in text.split(","))
    except ValueError:
        raise InputError(f"expected LAT,LON in degrees, got {text!r}", field=flag) from None
    if not (math.isfinite(lat) and math.isfinite(lon)):  # float() reads nan and inf
        raise InputError(f"expected LAT,LON as finite numbers in degrees, got {text!r}", field=flag)
    return checked_latlon(lat, lon, flag)


def _catalog_get(getter, ident: str, field: str):
    """A catalogue entry, or an input error naming the argument and listing the known ids."""
    from shieldlab.catalog import CatalogError

    try:
        return getter(ident)
    except CatalogError as e:
        raise InputError(e.message, field=field) from None


PROFILE_HELP = "trajectory: min-energy, lofted or depressed"


def _check_profile(profile: str) -> None:
    from shieldlab.flyout import aim

    if profile not in aim.PROFILES:
        raise InputError(f"must be one of {', '.join(aim.PROFILES)}, not {profile!r}", field="--profile")


def _range_text(lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> str:
    return f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"


def _float_in(lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False):
    """Parser of a float option: a finite number in its range, else a usage error naming the flag."""

    def parse(text):
        try:
            v = float(text)
        except (TypeError, ValueError):
            raise typer.BadParameter(f"{text!r} is not a number") from None
        if not math.isfinite(v):
            raise typer.BadParameter(f"must be a finite number, got {text}")
        if v < lo or v > hi or (lo_open and v == lo) or (hi_open and v == hi):
            raise typer.BadParameter(f"must be in {_range_text(lo, hi, lo_open, hi_open)}, got {v:g}")
        return v

    return parse


def _path(text) -> Path:
    """Parser of a path option or argument: an empty one is a usage error naming the flag (a
    Path would take "" as the current folder, and ``--out ""`` would write into it)."""
    if isinstance(text, Path):
        return text
    if not str(text).strip():
        raise typer.BadParameter("an empty path: name a file or folder")
    bad = next((ch for ch in str(text) if unicodedata.category(ch) == "Cc"), None)
    if bad is not None:  # it would be printed as written ("wrote ..."): an escape sequence would act
        raise typer.BadParameter(f"{str(text)!r} holds a control character ({bad!r}): name it without")
    return Path(text)


def _base_path(text) -> Path:
    """Parser of ``--export-to BASE``: a file's path without its suffix, never a folder's (a
    trailing separator was dropped by Path, and t2/ wrote t2.geojson beside the folder)."""
    p = _path(text)
    if str(text).endswith(("/", os.sep)):
        raise typer.BadParameter(f"{str(text)!r} names a folder: give a path without suffix inside it, "
                                 f"e.g. {str(text).rstrip('/' + os.sep) or '.'}/raid")
    return p


def _float_option(default, flag: str, help: str, lo: float, hi: float, unit: str = "", *,  # noqa: A002
                  lo_open: bool = False, hi_open: bool = False):
    """A float option checked by :func:`_float_in`; its help ends with the range it enforces."""
    rng = _range_text(lo, hi, lo_open, hi_open) + (f" {unit}" if unit else "")
    return typer.Option(default, flag, parser=_float_in(lo, hi, lo_open=lo_open, hi_open=hi_open), metavar="FLOAT",
                        help=f"{help}; in {rng}")


def _json_option(what: str = "JSON"):
    return typer.Option(False, "--json", help=f"print {what} instead of a table")


def _cue_words(cue: str) -> str:
    """A footprint's cue (``"sensors"`` or ``"fixed S s"``) as its table title says it: the
    scenario's own sensors, or ``--cue-delay-s``'s fixed delay (there is no ``--cue``)."""
    return "the scenario's sensors" if cue == "sensors" else f"{cue} after launch"


def _one_json_target(as_json: bool, json_out: Path | None) -> None:
    """A map command's JSON goes to stdout (``--json``) or to a file (``--json-out``), not both."""
    if as_json and json_out is not None:
        raise InputError("give --json (the JSON on stdout) or --json-out FILE, not both", field="--json-out")


def _load_world(scenario: str, settings: list | None = None):
    """The scenario's world, with ``settings`` (``--set``, one value each) applied where given."""
    if settings:
        from shieldlab.engine.sweep import with_settings

        return with_settings(scenario, settings)[2]
    from shieldlab.scenario import load_world

    return load_world(scenario)


def _named_by_settings(scenario: str, settings: list, world, check):
    """``check(world)``, its error named by the ``--set`` values where they caused it (an aim
    or a fire mission's laying that the settings put out of reach), as a sweep names a point's
    (:func:`shieldlab.engine.sweep.settings_error`)."""
    try:
        return check(world)
    except InputError as e:
        if not settings:
            raise
        from shieldlab.engine.sweep import load, settings_error

        source, raw = load(scenario)
        raise settings_error(e, source, raw, settings, check) from None


def _one_value_settings(texts: list[str] | None) -> list:
    """``--set FIELD=VALUE`` options parsed (:func:`shieldlab.engine.sweep.parse_setting`): a
    value each, checked when the scenario is loaded."""
    from shieldlab.engine.sweep import parse_setting

    return [parse_setting(t) for t in texts or ()]


def _set_text(summary: dict) -> str:
    """`` (set field=value, ...)`` of a summary's ``set`` (``--set``); "" without."""
    from shieldlab.io.output import set_text

    return set_text(summary)


def _with_set(summary: dict, settings: list, world) -> dict:
    """``summary`` with ``set`` (each ``--set`` field and its value as the scenario of
    ``world`` reads it: ``4`` for a count given as ``4.0``) after ``scenario`` (in place, and
    returned), where settings were given."""
    if settings:
        from shieldlab.engine.sweep import validated_value

        items = list(summary.items())
        summary.clear()
        for k, v in items:
            summary[k] = v
            if k == "scenario":
                summary["set"] = {st.field: validated_value(world.scenario, st.path, st.values[0])
                                  for st in settings}
    return summary


# --- first-compile note, progress ---------------------------------------------------------------

def _kernels_cached(modules) -> bool:
    """Whether Numba's cache holds compiled code for each module's kernels (wherever Numba
    caches: ``__pycache__`` beside the module or ``NUMBA_CACHE_DIR``)."""
    from numba.core.dispatcher import Dispatcher

    for name in modules:
        mod = importlib.import_module(name)
        dispatchers = [obj for obj in vars(mod).values() if isinstance(obj, Dispatcher)]
        # _cache: set by Dispatcher.__init__, undeclared in numba's type information
        caches = [c for c in (d._cache for d in dispatchers)  # type: ignore[attr-defined]
                  if type(c).__name__ == "FunctionCache"]
        if not caches:
            continue
        try:
            if not any(c._cache_file._load_index() for c in caches):
                return False
        except Exception:  # the cache's layout is Numba's; fall back to the index files
            if not any(Path(c._cache_file._index_path).exists() for c in caches):
                return False
    return True


def _compile_note(kind: str, quiet: bool) -> None:
    """One line on stderr before the Numba kernels compile for the first time; and, until the
    command ends, one when a kernel compiles that this check did not foresee (a filter, an
    association, a map first used: its module's other kernels were cached)."""
    if quiet:
        return
    try:
        cached = _kernels_cached(_KERNELS[kind])
    except Exception:
        return
    if not cached:
        _err().print(COMPILE_NOTE)
    _note_compiles(said=not cached)


class _CompileListener:
    """Prints :data:`LATE_COMPILE_NOTE` at the first Numba compilation (Numba's
    ``numba:compile`` event fires only where its cache had no code), unless a note was said."""

    def __init__(self, said: bool):
        from numba.core import event

        class Listener(event.Listener):
            def on_start(inner, ev) -> None:  # noqa: N805 (the listener's own self is Numba's)
                if not self.said:
                    self.said = True
                    _err().print(LATE_COMPILE_NOTE)

            def on_end(inner, ev) -> None:  # noqa: N805
                pass

        self.said = said
        self.listener = Listener()
        event.register("numba:compile", self.listener)

    def close(self) -> None:
        from numba.core import event

        event.unregister("numba:compile", self.listener)


_listening: _CompileListener | None = None


def _note_compiles(said: bool) -> None:
    """Listen for compilations until the command ends (:func:`main`)."""
    global _listening
    if _listening is None:
        _listening = _CompileListener(said)


def _stop_noting_compiles() -> None:
    global _listening
    if _listening is not None:
        _listening.close()
        _listening = None


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def _progress(runs: int, enabled: bool):
    """A progress bar with ETA on stderr; yields the ``progress(n_done)`` callback or None."""
    from shieldlab.engine.chain import CHUNK

    if not (enabled and runs > CHUNK and _stderr_is_terminal()):
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TextColumn("runs"),
                  TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                  console=Console(stderr=True, emoji=False), transient=True) as bar:
        yield _Bar(bar, bar.add_task("simulating", total=runs))


class _Bar:
    """A live progress bar's callback: ``bar(n_done)`` moves it on; ``bar.kept(n)`` starts it at
    the runs a resumed run had done before (not counted in the speed its ETA reads: kept chunks
    take no time); ``bar.print(text)`` says something above it (a line printed beside a live
    bar lands on the bar's own line)."""

    def __init__(self, progress, task):
        self._progress, self._task = progress, task

    def __call__(self, n_done: int) -> None:
        # (a kept chunk's call, after kept(), does not move it back)
        done = next(t.completed for t in self._progress.tasks if t.id == self._task)
        self._progress.update(self._task, completed=max(n_done, done))

    def kept(self, n_done: int) -> None:
        self._progress.reset(self._task, completed=n_done)

    def print(self, text: str) -> None:
        self._progress.console.print(text, markup=False, highlight=False)


def _say(progress, text: str) -> None:
    """Print ``text`` on stderr, above the live bar where one is."""
    if isinstance(progress, _Bar):
        progress.print(text)
    else:
        _err().print(text, markup=False, highlight=False)


# --- statistics with fallbacks -------------------------------------------------------------------

def _runs_for_half_width(half_width: float) -> int:
    from shieldlab.stats import runs_for_half_width

    if not 0.0 < half_width < 0.5:
        raise InputError(f"must be between 0 and 0.5 (exclusive), got {half_width:g}", field="--half-width")
    try:
        n: int | None = int(runs_for_half_width(half_width, p=0.5, confidence=0.95))
    except ValueError:  # more runs than a count holds exactly
        n = None
    if n is None or n > MAX_RUNS:
        needs = f"{n:,}" if n is not None else f"about {_power_of_ten(_worst_case_log10_runs(half_width))}"
        raise InputError(f"{half_width:g} needs {needs} runs, more than the {MAX_RUNS:,} allowed",
                         field="--half-width")
    return max(n, 1)


def _worst_case_log10_runs(half_width: float) -> float:
    """log10 of z^2 / (4 h^2), the runs a 95 % Wilson interval of half-width h needs at p = 0.5
    (to within z^2), computed without squaring h."""
    return 2.0 * (math.log10(1.959963984540054) - math.log10(2.0) - math.log10(half_width))


def _power_of_ten(log10: float) -> str:
    exp = math.floor(log10)
    return f"{10 ** (log10 - exp):.1f}e{exp:+d}"


def _interval_text(lo: float, hi: float, digits: int = 2, signed: bool = False) -> str:
    """``(lo–hi)``; ``signed`` (a difference, whose bounds may be negative): ``(-0.12 to +0.05)``."""
    return f"({lo:+.{digits}f} to {hi:+.{digits}f})" if signed else f"({lo:.{digits}f}–{hi:.{digits}f})"


def _p_ci(row: dict, key: str) -> str:
    lo, hi = row[f"{key}_ci95"]
    return f"{float(row[key]):.3f} {_interval_text(lo, hi)}"


def _mean_ci(row: dict, key: str) -> str:
    """A mean with its interval; none when the summary has none (one run has no spread)."""
    text = f"{float(row[key]):.2f}"
    ci: Sequence[Any] = row.get(f"{key}_ci95") or (None, None)
    if None not in ci and all(math.isfinite(float(x)) for x in ci):
        text += " " + _interval_text(*ci)
    return text


def _method(summary: dict, key: str, default: str) -> str:
    """The interval method a summary names under ``key``, without its confidence level or notes."""
    iv = summary.get(key)
    if isinstance(iv, dict):
        iv = iv.get("method") or iv.get("name")
    if not iv:
        return default
    return str(iv).split(", ")[0].split(" (")[0].strip()


#: How the tables' means are bounded, as their footers say it (summary.json's interval_means):
#: counts alike in every run get the bounded mean's exact interval, not the t's point.
_CUT = "cut to the possible range"
_CAPPED = ("a count alike in every run (leakers, hits, interceptors: at most the threats, every battery's "
           "rounds): the exact bound of a capped count")


def _interval_name(summary: dict) -> str:
    means = _method(summary, "interval_means", "Student t").split(" on ")[0]
    if "cut to" in str(summary.get("interval_means", "")):
        capped = "bounded mean" in str(summary.get("interval_means", ""))
        means += f" ({_CUT}; {_CAPPED})" if capped else f" ({_CUT})"
    return f"probabilities: {_method(summary, 'interval', 'Wilson score')}; means: {means}"


def _plural(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


# --- printing ------------------------------------------------------------------------------------

def _table_width(t) -> int | None:
    """The width to print a table at: None (the console's own) on a terminal or when COLUMNS
    is set, else wide enough for the table's widest row, so a file or a pipe gets whole lines."""
    if not _piped():
        return None
    from rich.measure import Measurement

    wide = Console(width=100_000, markup=False, highlight=False, emoji=False, file=open(os.devnull, "w"))
    try:
        need = Measurement.get(wide, wide.options, t).maximum
    finally:
        wide.file.close()
    return max(out.width, need)


def _piped() -> bool:
    """Whether stdout is a file or a pipe with no width given (COLUMNS unset)."""
    return not out.is_terminal and not os.environ.get("COLUMNS")


def _print_table(t) -> None:
    width = _table_width(t)
    if width is None or width <= out.width:
        out.print(t)
    else:  # Console.print never prints wider than its console
        Console(markup=False, highlight=False, emoji=False, width=width, no_color=out.no_color).print(t)


def _setting(value) -> str:
    """A setting as a user writes it: ``300`` for 300.0, words as they are."""
    return f"{value:g}" if isinstance(value, float) else str(value)


#: What a satellite on a highly elliptical orbit is, to reach and footprint: where it is for a
#: launch at the epoch, whatever the scenario's launch times.
_AT_EPOCH = "; placed as for a launch at the epoch (a highly elliptical orbit moves: later launches see it elsewhere)"


def _labelled_cue_note(world) -> str | None:
    """What a sensor cue of ``reach`` or ``footprint`` leaves out for a scenario whose runs track
    reports without labels (``tracking.association: gnn``), or None."""
    if world is None or world.scenario.tracking.association != "gnn":
        return None
    return (f"{world.scenario.name} tracks reports without labels (tracking.association gnn): the expected "
            "tracks here are labelled tracking's M of N on expected detections; its runs' multi-target tracker "
            "may confirm later (associated reports, the velocity test) and judges warheads from boosters: "
            "`shieldlab tracks` or `run` for its first firm tracks")


def _heo_names(world) -> set[str]:
    """The early-warning satellites of ``world`` (None: none) on highly elliptical orbits."""
    return {s.name for s in world.early_warning if s.spec.orbit == "heo"} if world is not None else set()


def _print_line(text) -> None:
    """A line of prose: wrapped on a terminal, whole in a file or a pipe."""
    out.print(text, soft_wrap=_piped())


def _print_summary(summary: dict, elapsed: float | None = None, resumed_runs: int = 0) -> None:
    """The run table and the headline line; ``elapsed`` [s] the simulation's time in this
    process, of which ``resumed_runs`` runs were done before (a resumed run's kept chunks)."""
    runs = int(summary["runs"])
    nodes = summary.get("nodes", [])
    arch = f", {summary['architecture']} C2 over {len(nodes)} nodes" if len(nodes) > 1 else ""
    t = Table(title=f"{summary['scenario']}{_set_text(summary)} — {_plural(runs, 'run')}, seed {summary['seed']}"
                    f"{arch}")
    cols: tuple[tuple[str, JustifyMethod], ...] = (("threat", "left"), ("missile", "left"), ("P(intercept)", "right"),
                                                   ("P(leak)", "right"), ("mean interceptors", "right"))
    # on tracks of reports without labels a salvo may go at a threat's spent booster: said apart
    boosters = any((row.get("mean_interceptors_at_booster") or 0) > 0 for row in summary["per_threat"])
    if boosters:
        cols += (("of them at its booster", "right"),)
    for col, just in cols:
        # names fold onto more lines rather than end in an ellipsis or vanish: two salvo rounds
        # must stay tellable apart; the numbers wrap at their space when the screen is narrow
        t.add_column(col, justify=just, overflow="fold", min_width=8 if just == "left" else None)
    for row in summary["per_threat"]:
        t.add_row(str(row["threat"]), str(row["missile"]), _p_ci(row, "p_intercept"),
                  _p_ci(row, "p_leak"), f"{row['mean_interceptors']:.2f}",
                  *([f"{row['mean_interceptors_at_booster']:.2f}"] if boosters else []))
    _print_table(t)
    wasted = [(f"{label} ", _mean_ci(summary, key)) for label, key in
              (("of them at spent boosters", "mean_interceptors_at_boosters"),
               ("at false tracks", "mean_interceptors_at_false_tracks")) if (summary.get(key) or 0) > 0]
    parts = [("mean leakers per raid ", _mean_ci(summary, "mean_leakers")),
             ("mean interceptors fired ", _mean_ci(summary, "mean_interceptors_fired")), *wasted,
             ("P(no leaker) ", _p_ci(summary, "p_no_leaker")),
             ("mean hits on assets ", _mean_ci(summary, "mean_assets_hit"))]
    if summary.get("mean_value_lost", summary.get("mean_assets_hit")) != summary.get("mean_assets_hit"):
        parts.append(("mean value lost ", _mean_ci(summary, "mean_value_lost")))  # assets of unequal value
    line = Text()
    for i, (label, value) in enumerate(parts):
        line.append(("  ·  " if i else "") + label)
        line.append(value, style="bold")
    _print_line(line)
    done_before = f" (resumed: {resumed_runs:,} of the runs were done before)" if resumed_runs else ""
    _print_line(f"in parentheses: 95 % intervals over {_plural(runs, 'run')} — {_interval_name(summary)}"
                + (f"  ·  took {elapsed:.1f} s{done_before}" if elapsed is not None else ""))


def _print_track_quality(summary: dict) -> None:
    """Per system: GOSPA and its parts, own-track errors, time to first firm track (means over runs)."""
    tq = summary.get("track_quality") or {}
    if not tq:
        return

    def f(v, scale=1.0, fmt="{:,.0f}"):
        return "—" if v is None else fmt.format(v / scale)

    # a track file of reports without labels has its breaks, false and booster tracks too (as
    # the tracks command shows them)
    file_cols = [(key, label, fmt) for key, label, fmt in
                 (("track_breaks", "breaks/run", "{:.1f}"), ("false_tracks_per_hour", "false tracks/h", "{:.1f}"),
                  ("booster_tracks", "booster tracks/run", "{:.1f}"), ("purity", "purity", "{:.1%}"))
                 if any(key in q for q in tq.values())]
    tr = summary.get("tracking") or {}
    how = f"{tr['filter'].upper()} tracks, association {tr['association']}; " if tr.get("filter") else ""
    t = Table(title=f"track quality ({how}means over runs; GOSPA c = 5 km)")
    # (a track file's GOSPA counts false and surplus tracks, as the tracks command heads it)
    # "picture", as the tracks command and the report head it: a system's tracks, or a node's fused picture
    for col in ("picture", "GOSPA km", "localisation m", "missed", "false/surplus" if file_cols else "false tracks",
                "position RMSE m", "velocity RMSE m/s", "NEES", "NEES > χ² 99 %", *(label for _, label, _ in file_cols),
                "first firm track s"):
        t.add_column(col, justify="left" if col == "picture" else "right")
    for name, q in tq.items():
        t.add_row(name, f(q["gospa_m"], 1e3, "{:.2f}"), f(q["localisation_m"]), f(q["missed_targets"], fmt="{:.2f}"),
                  f(q["false_tracks"], fmt="{:.2f}"), f(q["position_rmse_m"]), f(q["velocity_rmse_ms"]),
                  f(q.get("mean_nees"), fmt="{:,.1f}"), f(q.get("nees_over_99"), fmt="{:.2%}"),
                  *(f(q.get(key), fmt=fmt) for key, _, fmt in file_cols),
                  f(q["median_time_to_firm_track_s"], fmt="{:.0f}"))
    _print_table(t)
    note = _nees_note(tq)
    if note:
        _print_line(note)
    if "delete_sigma_km" in tr:  # the multi-target tracker's: what its numbers depend on
        if tr.get("false_alarms_per_search_frame"):  # as the tracks command says them
            _print_line(_false_alarm_text(tr["false_alarms"], tr["false_alarms_per_search_frame"]))
        _print_line(_management_text(tr))


#: Mean NEES above which a picture's tracks are said to be overconfident under the track-quality
#: table: errors about four times what their covariances say (a consistent filter scores ~6,
#: these filters, with their noise floor, ~3).
OVERCONFIDENT_NEES = 100.0


def _nees_note(pictures: dict) -> str | None:
    """A line naming the pictures (name -> track-quality means) whose tracks' covariances
    understate their errors far beyond a consistent filter's (mean NEES above
    :data:`OVERCONFIDENT_NEES`): what fire control's launch gate reads as a track's error."""
    bad = [f"{name} {q['mean_nees']:,.0f}" for name, q in pictures.items()
           if (q.get("mean_nees") or 0.0) > OVERCONFIDENT_NEES]
    if not bad:
        return None
    return (f"overconfident tracks: mean NEES {', '.join(bad)} (a consistent filter: about 6): their covariances "
            "understate their errors, as fire control's launch gate reads them; a mean far above the share over "
            "χ² 99 % means a few updates far off, such as a track that took another object's reports (purity, "
            "breaks; docs/models.md)")


def _print_launch_reports(summary: dict) -> None:
    """A line per early-warning satellite and per link that passed its reports on: the share
    of the launches it reported, and when (median and 10-90 %, s after launch)."""
    for r in summary.get("launch_reports") or ():
        who = r["source"] if r["via"] == "satellite" else f"over the link {r['source']}"
        if not r["share_of_launches"]:
            _print_line(f"launch reports: {who}, none")
            continue
        _print_line(f"launch reports: {who}, {r['share_of_launches']:.0%} of the launches, "
                    f"{r['median_s_after_launch']:.0f} s after launch (median; 10–90 %: "
                    f"{r['p10_s_after_launch']:.0f}–{r['p90_s_after_launch']:.0f} s)")


def _col(events: dict, name: str, default: str = "") -> np.ndarray:
    v = events.get(name)
    return v if v is not None else np.full(len(events["run"]), default, dtype=object)


def _s(x) -> str:
    return "" if x is None else str(x)


def _print_timeline(events: dict, run: int = 0, limit: int = 80, threat: str | None = None,
                    title: str | None = None, epoch=None) -> None:
    """Run ``run``'s events (``threat``'s alone where given): seconds from the scenario's
    epoch, and, given the ``epoch`` (a datetime), the UTC time of day beside them, as the
    shelling's and the air picture's timelines give it."""
    if not events:
        _print_line(f"no events in run {run}")
        return
    m = events["run"] == run
    if threat is not None:
        m &= events["threat"] == threat
    reason = _col(events, "reason")
    # the event log's actor: the missile, sensor, system or battery, or the asset an impact hit
    from shieldlab.io.air_tables import utc_text

    utc = () if epoch is None else ("UTC",)
    cols = ("t [s]",) + utc + (("threat",) if threat is None else ()) + ("event", "by or at", "reason", "detail")
    t = Table(title=title or f"timeline of run {run}")
    for col in cols:
        t.add_column(col)
    for i in np.flatnonzero(m)[:limit]:
        when = [] if epoch is None else [utc_text(epoch, round(float(events["t_s"][i]), 1))]  # (as t is shown)
        row = [f"{events['t_s'][i]:8.1f}", *when, _s(events["threat"][i]), _s(events["kind"][i]),
               _s(events["actor"][i]), _s(reason[i]), _s(events["detail"][i])]
        k = len(when) + 1  # (the threat's column, left out where the table is one threat's)
        t.add_row(*(row if threat is None else row[:k] + row[k + 1:]))
    _print_table(t)


def _reason_counts(events: dict, mask: np.ndarray) -> list[tuple[str, str, str, int, int]]:
    """(kind, battery, reason, runs, of them after a shot) for the no-fire and hold rows under
    ``mask``, most runs first; the last: the runs in which that battery had fired at the threat
    (a fire row under ``mask`` by it) before the row: a no-fire row there is why it did not
    shoot again, not why it never shot."""
    reason, detail = _col(events, "reason"), events["detail"]
    shots: dict[tuple[int, str], float] = {}  # (run, battery) -> its first shot's time
    t = events["t_s"]
    for i in np.flatnonzero(mask & (events["kind"] == "fire")):
        by = (int(events["run"][i]), _s(events["actor"][i]))
        shots[by] = min(shots.get(by, np.inf), float(t[i]))
    seen: dict[tuple[str, str, str], set] = {}
    after: dict[tuple[str, str, str], set] = {}
    for i in np.flatnonzero(mask & np.isin(events["kind"], ("no-fire", "hold"))):
        why = _s(reason[i]) or _s(detail[i]) or "no reason given"
        bat, run = _s(events["actor"][i]) or "—", int(events["run"][i])
        key = (_s(events["kind"][i]), bat, why)
        seen.setdefault(key, set()).add(run)
        if shots.get((run, bat), np.inf) <= float(t[i]):
            after.setdefault(key, set()).add(run)
    rows = [(k, b, r, len(runs), len(after.get((k, b, r), ()))) for (k, b, r), runs in seen.items()]
    return sorted(rows, key=lambda x: (-x[3], x[0], x[1], x[2]))


def _reasons_table(rows, runs: int, title: str) -> Table:
    t = Table(title=title)
    shot = any(r[4] for r in rows)  # a column only where some row came after the battery's own shot
    cols: tuple[tuple[str, JustifyMethod], ...] = (("event", "left"), ("battery", "left"), ("reason", "left"),
                                                   ("runs", "right"), ("share", "right"))
    for col, just in cols + ((("of them after its shot", "right"),) if shot else ()):
        t.add_column(col, justify=just)
    for kind, bat, why, n, n_after in rows:
        t.add_row(kind, bat, why, str(n), f"{n / runs:.0%}", *((str(n_after),) if shot else ()))
    return t


def _print_no_fire(summary: dict, events: dict | None) -> None:
    """Why, when no battery fired in any run (``events``: the no-fire and hold rows; None
    where a battery fired)."""
    if events is None or summary.get("mean_interceptors_fired", 0) > 0:
        return
    runs = int(summary["runs"])
    _print_line(Text("no battery fired in any run", style="bold"))
    rows = [r for r in _reason_counts(events, np.ones(len(events["run"]), bool)) if r[0] == "no-fire"] \
        if events else []
    if not rows:  # the summary's per-threat fractions, if the event log has none
        agg: Counter[str] = Counter()
        for row in summary["per_threat"]:
            for why, frac in (row.get("no_fire") or {}).items():
                agg[why] = max(agg[why], float(frac))  # type: ignore[assignment]  # a Counter of fractions
        if agg:
            for why, frac in agg.most_common():
                _print_line(f"  {why}: up to {frac:.0%} of runs for a threat")
        else:
            _print_line("  the results give no reason (no sensor track reached a battery that could engage)")
        return
    _print_table(_reasons_table(rows, runs, "why no battery fired"))


def _refuse_a_salvo(members, name: str, noun: str) -> None:
    """An ``--explain`` of a salvo's entry name (an entry of count N is N ``noun``, named
    NAME#1 .. NAME#N, each with the entry's name as its ``group``): refused, naming them."""
    salvo = [x.name for x in members if x.group == name and x.name != name]
    if salvo:
        raise InputError(f"{name!r} is a salvo of {len(salvo)} {noun}: name one, {salvo[0]} .. {salvo[-1]}",
                         field="--explain")


def _check_threat(world, name: str) -> None:
    names = [t.name for t in world.threats]
    _refuse_a_salvo(world.threats, name, "threats")
    if name not in names:
        raise InputError(f"no threat {name!r} in {world.scenario.name}; threats: {', '.join(names)}",
                         field="--explain")


@dataclass(frozen=True)
class _Shown:
    """The rows of a run's tables that its printout reads (a stored run's tables are not
    loaded whole): the no-fire and hold rows where no battery fired, one threat's events
    and outcomes for ``--explain``, and run 0's events for ``--timeline``."""

    reasons: dict | None
    explain_events: dict
    explain_outcomes: dict
    timeline: dict

    @classmethod
    def of(cls, res, explain: str | None, timeline: bool) -> _Shown:
        fired = res.summary.get("mean_interceptors_fired", 0) > 0 \
            or any(p["kind"].size for p in res.table("events", ("kind",), where={"kind": ("fire",)}))
        reasons = None if fired else res.read("events", where={"kind": ("no-fire", "hold")})
        mine = {"threat": (explain,)}
        return cls(reasons, res.read("events", where=mine) if explain else {},
                   res.read("outcomes", where=mine) if explain else {},
                   res.read("events", where={"run": (0,)}) if timeline else {})


def _pieces_or_none(pieces):
    """``pieces`` (an iterator of table pieces), or None if it has none."""
    first = next(pieces, None)
    return None if first is None else itertools.chain([first], pieces)


def _print_explain(name: str, summary: dict, ev: dict, oc: dict, scene_run: int = 0, epoch=None) -> None:
    """One threat's story: the timeline of run ``scene_run`` (``--scene-run``, the scene's and
    the report's; the first run it appears in where it has no events there), then counts over
    all runs (``ev``, ``oc``: its event and outcome rows)."""
    runs = int(summary["runs"])
    if not ev:
        ev = {"run": np.zeros(0, int), "threat": np.zeros(0, object)}
    mine = ev["threat"] == name
    first = (scene_run if (mine & (ev["run"] == scene_run)).any() else
             int(ev["run"][mine].min()) if mine.any() else None)
    missile = next((str(r["missile"]) for r in summary["per_threat"] if r["threat"] == name), "")
    _print_line(Text.assemble((name, "bold"), f" ({missile})" if missile else ""))
    if first is None:
        _print_line("no events for this threat in any run")
    else:
        _print_timeline(ev, run=first, limit=200, threat=name, title=f"{name}: timeline of run {first}", epoch=epoch)
    rows = oc["threat"] == name
    counts = Counter(str(x) for x in oc["outcome"][rows])
    line = ", ".join(f"{k} {counts.get(k, 0)} ({counts.get(k, 0) / runs:.0%})"
                     for k in ("intercepted", "leaked", "airborne"))
    _print_line(f"over {_plural(runs, 'run')}: {line}")
    fired = oc["interceptors_fired"][rows]
    _print_line(f"interceptors fired at it: {int(fired.sum())} in all, in {int((fired > 0).sum())} of {runs} runs")
    if "intercepted_by" in oc:
        by = Counter(str(b) for b, o in zip(oc["intercepted_by"][rows], oc["outcome"][rows])
                     if o == "intercepted" and b is not None)
        if by:
            _print_line("intercepted by: " + ", ".join(f"{b} {n}" for b, n in by.most_common()))
    reasons = _reason_counts(ev, mine)
    if reasons:
        _print_table(_reasons_table(reasons, runs, f"{name}: no-fire and hold reasons per battery"))
    elif not (fired > 0).any():
        _print_line("no battery fired at it in any run, and the event log gives no reason")


def _run_summary_note(runs: int, half_width: float) -> str:
    return f"--half-width {half_width:g}: {runs:,} runs (95 % Wilson interval at its widest, p = 0.5)"


# --- run / demo ----------------------------------------------------------------------------------

def _simulate(scenario: str, runs: int | None, seed: int, out_dir: Path | None, *, as_json: bool = False,
              quiet: bool = False, force: bool = False, timeline: bool = False, explain: str | None = None,
              half_width: float | None = None, resume: bool = False, workers: int | None = None,
              scheduler: str | None = None, scene_run: int | None = None, footprint: bool = False,
              export: str | None = None, settings: list | None = None) -> None:
    import shutil
    import time

    from shieldlab.engine.chain import preflight
    from shieldlab.engine.distribute import check_cluster_options, client_for
    from shieldlab.engine.montecarlo import simulate
    from shieldlab.io.output import check_out_dir, write_results

    if as_json and quiet:
        raise InputError("give --json or --quiet, not both", field="--quiet")
    if explain is not None and (as_json or quiet):
        raise InputError("prints a story; give it without --json and --quiet", field="--explain")
    if half_width is not None:
        if runs is not None:
            raise InputError("give --runs or --half-width, not both", field="--half-width")
        runs = _runs_for_half_width(half_width)
    runs = DEFAULT_RUNS if runs is None else runs
    settings = settings or []
    only = _without_threats(scenario, settings)
    air_only = only is not None
    if only is not None:
        what = {"flights": "the air picture", "shelling": "the shelling"}.get(only, "the air picture and the shelling")
        for flag, given, why in (
                ("--workers", workers is not None, f"{what} runs in this one process"),
                ("--scheduler", scheduler is not None, f"{what} runs in this one process"),
                ("--resume", resume, f"a run of {what} keeps no chunks to resume: run it again"),
                ("--footprint", footprint, "the defended footprint is the batteries' against ballistic threats")):
            if given:
                raise InputError(f"applies to ballistic threats; this scenario has {only} only ({why})", field=flag)
    check_cluster_options(workers, scheduler)  # a usage error, before any compiling
    if scene_run is not None and out_dir is None:
        raise InputError("picks the run of the results folder's scene and report: give --out", field="--scene-run")
    scene_run = 0 if scene_run is None else scene_run
    if not 0 <= scene_run < runs:
        raise InputError(f"must name one of the {_plural(runs, 'run')}: 0 to {runs - 1}, not {scene_run}",
                         field="--scene-run")
    if footprint and out_dir is None:
        raise InputError("maps the footprint into the results folder's report: give --out", field="--footprint")
    if export is not None:
        from shieldlab.io import export as X

        export_formats = X.parse_formats(export)
        if out_dir is None:
            raise InputError("writes the scene's run into the results folder: give --out", field="--export")
    else:
        export_formats = ()
    if air_only:
        note = _unread_settings_note(settings, only)
        if note and not quiet:
            _err().print(note, markup=False, highlight=False)
        _simulate_air(scenario, runs, seed, out_dir, as_json=as_json, quiet=quiet, force=force, explain=explain,
                      scene_run=scene_run, half_width=half_width, export_formats=export_formats, settings=settings)
        return
    store, partial = None, None
    if out_dir is not None:
        from shieldlab.engine.sweep import load, partial_folder, with_settings
        from shieldlab.scenario import compile_world
        from shieldlab.scenario.loader import parse

        if resume and _finished_run(out_dir):
            raise InputError(f"{out_dir} holds the results of a finished run: nothing to resume", field="--resume")
        # results a resumed run had written before it stopped are replaced by the same ones
        check_out_dir(out_dir, force=force or resume)
        if resume and not quiet and not partial_folder(out_dir).exists():
            # a misspelt --out, say; said once the folder is known to take a run (a folder of
            # other files is refused above: no note before that refusal)
            _err().print(f"note: --resume: no stopped run of {out_dir} to finish; starting it", markup=False,
                         highlight=False)
        # read once: the checkpoint records the digest of what is run (the settings applied), and
        # of the file as written (a refused resume then tells a file's change from a --set's)
        source, file_raw = load(scenario)
        if settings:
            source, raw, world = with_settings(scenario, settings, loaded=(source, file_raw))
        else:
            raw = file_raw
            world = compile_world(parse(raw, source), source)
    else:
        world = _load_world(scenario, settings)
    if explain is not None and explain not in {f.name for f in world.flights} | _mission_names(world):
        _check_threat(world, explain)
    _compile_note("simulate", quiet)
    if not quiet:
        for note in _scenario_notes(world):  # what validate notes; the run goes on
            _err().print(note, markup=False, highlight=False)
    # aims every threat: an aim out of reach is found here
    flights = _named_by_settings(scenario, settings, world, lambda w: preflight(w, runs, stored=out_dir is not None))
    if not quiet and world.threats:
        for note in _blind_satellite_notes(world, flights.truth):
            _err().print(note, markup=False, highlight=False)
    if world.shelling is not None:
        from shieldlab.engine.shelling import check

        _named_by_settings(scenario, settings, world, check)  # lays every fire mission: an aim out of reach too
    if out_dir is not None:  # every check passed before anything is written
        from shieldlab.engine.chain import chunk_runs
        from shieldlab.engine.sweep import checkpoint

        # one writer at a time, from here to the results: a second run or sweep into it is refused
        _hold_folder(out_dir)
        if resume and _finished_run(out_dir):
            # looked at again under the lock: a run into it that was finishing when this one
            # started (its lock free by now) had been run again from scratch, exit 0
            raise InputError(f"{out_dir} holds the results of a finished run (finished while this command "
                             "started): nothing to resume", field="--resume")
        # finished chunks are kept beside the results folder until it is written: a stopped
        # run goes on with --resume
        store, partial = checkpoint(source, raw, runs, seed, out_dir, chunk_runs(world, flights), resume=resume,
                                    force=force, settings=settings, file_raw=file_raw)
    if half_width is not None and not quiet:
        note = _run_summary_note(runs, half_width)
        _err().print(note) if as_json else _print_line(note)
    engage_note = _engage_note(world)
    if engage_note and not quiet:
        _err().print(engage_note)
    if workers is not None and scheduler is None:  # (with both, client_for refuses them)
        from shieldlab.engine.chain import chunk_runs

        # the chunks the run is cut into: a store's (a resumed run keeps its own), else the engine's
        size = store.runs_per_chunk if store is not None else chunk_runs(world, flights)
        workers = _local_workers(workers, -(-runs // size), quiet)
    # a resumed run's kept chunks: its time is the rest's
    if store is not None and resume:
        from shieldlab.engine.montecarlo import chunk_sizes

        sizes = chunk_sizes(runs, store.runs_per_chunk)
        kept = [i for i in range(len(sizes)) if store.complete(i)]
        resumed_runs = sum(sizes[i] for i in kept)
        if kept and not (quiet or as_json):  # said at once: the progress starts from them
            from shieldlab.io.dataset import resumed_note

            _err().print(resumed_note(len(kept), len(sizes), resumed_runs, runs), markup=False, highlight=False)
    else:
        resumed_runs = 0
    t0 = time.perf_counter()
    try:
        with _progress(runs, enabled=not (quiet or as_json)) as progress:
            if isinstance(progress, _Bar) and resumed_runs:
                progress.kept(resumed_runs)
            with client_for(workers, scheduler) as client:
                res = simulate(world, runs=runs, seed=seed, progress=progress, flights=flights, store=store,
                               client=client)
    except BaseException:
        # stopped before a chunk was finished (a bad --workers/--scheduler, an unreachable
        # cluster, Ctrl-C at once): a new run keeps nothing to resume, so nothing is left behind
        if partial is not None and not resume and not any((partial / "done").glob("point=*/chunk-*")):
            shutil.rmtree(partial, ignore_errors=True)
        raise
    air = None
    if world.flights:  # a scenario of threats and flights: the air picture beside the chain
        from shieldlab.engine.air import simulate_air

        air = simulate_air(world, runs, seed, scene_run=scene_run if (out_dir or explain) else None)
        res.summary["air"] = air.summary
    shelling = None
    if world.shelling is not None:  # threats and shelling: the shelling beside the chain
        from shieldlab.engine.shelling import simulate_shelling

        shelling = simulate_shelling(world, runs, seed, scene_run=scene_run if (out_dir or explain) else None)
        res.summary["shelling"] = shelling.summary
    elapsed = time.perf_counter() - t0
    _with_set(res.summary, settings, world)
    if out_dir is not None:
        # made once the tables are written (a generator), each file in turn: the tables' writing
        # and the report's figures never share the memory
        extra = _scene_and_report(world, res, flights, seed, scene_run, footprint, export_formats, air=air,
                                  shelling=shelling)
        from shieldlab.engine import heap

        heap.release()  # the last chunk's records and the summary's reading, before the tables' writing
        # the tables go from the run's chunks to the results a chunk at a time (an air picture or
        # shelling beside them is merged into the events by run and time, in memory)
        events: Any = res.table("events")
        if air is not None or shelling is not None:
            events = res.read("events")
            events = events if air is None else _merge_events(events, air.events)
            events = events if shelling is None else _merge_events(events, shelling.events)
        write_results(out_dir, res.summary, res.table("outcomes"), events,
                      track_quality=_pieces_or_none(res.table("track_quality")),
                      tracks=_pieces_or_none(res.table("tracks")), force=force or resume, extra=extra,
                      air_outcomes=None if air is None else air.outcomes,
                      shelling_rounds=None if shelling is None else shelling.rounds)
    shown = None
    if not (as_json or quiet):  # what the printout reads of the tables, before a stored run's chunks go
        shown = _Shown.of(res, explain if explain in {t.name for t in world.threats} else None, timeline)
    if partial is not None:
        shutil.rmtree(partial, ignore_errors=True)
    if as_json:
        sys.stdout.write(json.dumps(res.summary, indent=2) + "\n")
        return
    if quiet or shown is None:
        return
    _print_summary(res.summary, elapsed, resumed_runs)
    _print_track_quality(res.summary)
    _print_launch_reports(res.summary)
    _print_no_fire(res.summary, shown.reasons)
    if air is not None:
        _print_air(air.summary)
    if shelling is not None:
        _print_shelling(shelling.summary)
    if explain is not None and air is not None and explain in {f.name for f in world.flights}:
        _print_flight_story(world, air.events, explain, scene_run)
    elif explain is not None and shelling is not None and explain in _mission_names(world):
        _print_mission_story(world, shelling.events, explain, scene_run)
    elif explain is not None:
        _print_explain(explain, res.summary, shown.explain_events, shown.explain_outcomes, scene_run,
                       epoch=world.scenario.epoch)
    if timeline:
        _print_timeline(shown.timeline, epoch=world.scenario.epoch)
    if out_dir is not None:
        _print_line(f"wrote {out_dir}/summary.json, outcomes.parquet, events.parquet"
                    + (", track_quality.parquet" if res.summary.get("track_quality") else "")
                    + (", tracks.parquet" if (Path(out_dir) / "tracks.parquet").exists() else "")
                    + (", air_outcomes.parquet" if air is not None else "")
                    + (", shelling_rounds.parquet" if shelling is not None else "") + ", scene.czml, report.html"
                    + "".join(f", scene.{f}" for f in export_formats))
        _print_line(f"report: {out_dir}/report.html (open it in a browser)  ·  3-D scene of run {scene_run}: "
                    f"shieldlab view {out_dir}")


def _unread_settings_note(settings: list, only: str | None) -> str | None:
    """A note on ``--set`` fields of the ballistic kill chain (doctrine, sensing, tracking but
    tracking.init_hits, which the air picture confirms its tracks on) given to a scenario of
    ``only`` (flights, shelling: :func:`_without_threats`), which never reads them."""
    unread = [st.field for st in settings if st.path[0] in ("doctrine", "sensing")
              or (st.path[0] == "tracking" and st.path[1:2] != ("init_hits",))]
    if not (only and unread):
        return None
    return (f"note: --set {', '.join(unread)}: this scenario has {only} only, and the doctrine, sensing and "
            "tracking fields are the ballistic kill chain's (but tracking.init_hits, which the air picture "
            "reads): the results are as without it")


def _without_threats(scenario: str, settings: list | None = None) -> str | None:
    """What a scenario without ballistic threats holds ("flights", "shelling" or "flights and
    shelling"); None where it has threats (or does not load): the validated file (``settings``
    applied), not yet compiled (its errors, and the compilation, wait for the full load)."""
    from shieldlab.engine import sweep
    from shieldlab.scenario import load
    from shieldlab.scenario.loader import parse

    try:
        if settings:
            source, raw = sweep.load(scenario)
            scn = parse(sweep.applied(raw, settings, [st.values[0] for st in settings]), source)
        else:
            scn = load(scenario)
    except InputError:
        return None
    if scn.threats:
        return None
    parts = [name for name, has in (("flights", bool(scn.flights)), ("shelling", scn.shelling is not None)) if has]
    return " and ".join(parts) or None


def _mission_names(world) -> set[str]:
    return set() if world.shelling is None else {m.name for m in world.shelling.missions}


def _print_shelling(summary: dict) -> None:
    from shieldlab.io.shelling_tables import tables

    for item in tables(summary):
        if isinstance(item, str):
            _print_line(item)
        else:
            _print_table(item)


def _print_mission_story(world, events: dict, mission: str, run: int) -> None:
    """One fire mission's events in one run of the shelling, in UTC."""
    from shieldlab.io.air_tables import utc_text

    t = Table(title=f"{mission}: run {run}")
    for col in ("time (UTC)", "round", "event", "by", "detail"):
        t.add_column(col, overflow="fold")
    sel = np.flatnonzero((events["run"] == run)
                         & np.array([str(x).startswith(f"{mission}#") for x in events["threat"]], bool))
    for k in sel:
        t.add_row(utc_text(world.scenario.epoch, float(events["t_s"][k])), str(events["threat"][k]),
                  str(events["kind"][k]), str(events["actor"][k]), str(events["detail"][k]))
    _print_table(t)


def _merge_events(a: dict, b: dict) -> dict:
    """Two event tables of the same columns as one, by run and time."""
    both = {k: np.concatenate([a[k], b[k]]) for k in a}
    order = np.lexsort((both["t_s"], both["run"]))
    return {k: v[order] for k, v in both.items()}


def _print_air(summary: dict) -> None:
    from shieldlab.io.air_tables import tables

    for item in tables(summary):
        if isinstance(item, str):
            _print_line(item)
        else:
            _print_table(item)


def _simulate_air(scenario: str, runs: int, seed: int, out_dir: Path | None, *, as_json: bool, quiet: bool,
                  force: bool, explain: str | None, scene_run: int, half_width: float | None,
                  export_formats: tuple[str, ...] = (), settings: list | None = None) -> None:
    """``shieldlab run`` of a scenario without ballistic threats: the air picture
    (:mod:`shieldlab.engine.air`) of its flights and the shelling (:mod:`shieldlab.engine.shelling`)."""
    import time

    from shieldlab.io.output import check_out_dir, write_results

    world = _load_world(scenario, settings)
    missions = _mission_names(world)
    if explain is not None and explain not in {f.name for f in world.flights} | missions:
        _refuse_a_salvo(world.flights, explain, "flights")
        names = [f.name for f in world.flights] + sorted(missions)
        listed = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        what = "flight" if not missions else "fire mission" if not world.flights else "flight or fire mission"
        raise InputError(f"no {what} {explain!r} in this scenario ({what.split(' or ')[0]}s: {listed})",
                         field="--explain")
    if out_dir is not None:
        check_out_dir(out_dir, force=force)
    _compile_note("simulate", quiet)
    if not quiet:
        for note in _policing_notes(world) + _ground_height_notes(world) + _charge_notes(world):  # (validate's too)
            _err().print(note, markup=False, highlight=False)
    if half_width is not None and not quiet:
        note = _run_summary_note(runs, half_width)
        _err().print(note) if as_json else _print_line(note)
    t0 = time.perf_counter()
    summary: dict = _with_set({"scenario": world.scenario.name, "runs": runs, "seed": seed}, settings or [], world)
    res = shelling = None
    if world.shelling is not None:
        from shieldlab.engine.shelling import check

        _named_by_settings(scenario, settings or [], world, check)  # an aim out of reach is found before anything runs
    if world.flights:
        from shieldlab.engine.air import simulate_air

        entries = len({f.entry for f in world.flights})
        with _progress(runs * entries, enabled=not (quiet or as_json)) as progress:
            res = simulate_air(world, runs, seed, scene_run=scene_run, progress=progress)
        summary["air"] = _with_set(res.summary, settings or [], world)
    if world.shelling is not None:
        from shieldlab.engine.shelling import simulate_shelling

        with _progress(runs, enabled=not (quiet or as_json)) as progress:
            shelling = simulate_shelling(world, runs, seed, scene_run=scene_run, progress=progress)
        summary["shelling"] = _with_set(shelling.summary, settings or [], world)
    elapsed = time.perf_counter() - t0
    if out_dir is not None:
        from shieldlab.io import shelling_report, shelling_scene

        if res is not None:
            from shieldlab.io import air_report, air_scene

            doc = air_scene.scene(world, res, run=scene_run)
            page = air_report.build(world, res, scene_run)
            if shelling is not None:
                doc = air_scene.merged(doc, shelling_scene.scene(world, shelling, run=scene_run))
                page = shelling_report.appended(page, world, shelling, scene_run)
        else:
            assert shelling is not None
            doc = shelling_scene.scene(world, shelling, run=scene_run)
            page = shelling_report.build(world, shelling, scene_run)
        extra = {"scene.czml": doc.dumps(), "report.html": page}
        if export_formats:
            from shieldlab.io import export as X
            from shieldlab.io.shelling_export import features, joined

            if res is not None:
                fs = X.air_features(world, res, scene_run, seed=seed)
                extra.update(_scene_exports(fs if shelling is None else joined(fs, world, shelling, scene_run),
                                            export_formats))
            else:
                extra.update(_scene_exports(features(world, shelling, scene_run), export_formats))
        events = res.events if res is not None else None
        if shelling is not None:
            events = shelling.events if events is None else _merge_events(events, shelling.events)
        assert events is not None
        _hold_folder(out_dir)  # one writer at a time (a run or sweep writing it now refuses this one)
        write_results(out_dir, summary, None, events, force=force, extra=extra,
                      air_outcomes=None if res is None else res.outcomes,
                      shelling_rounds=None if shelling is None else shelling.rounds)
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return
    if quiet:
        return
    if res is not None:
        _print_air(res.summary)
    if shelling is not None:
        _print_shelling(shelling.summary)
    # (the shelling table's NEES holds the estimator's chi-square band instead, as its notes say)
    band = ("; the shelling's probabilities over its rounds (Wilson score); NEES: the chi-square band a consistent "
            "estimator's mean falls in") if shelling is not None else ""
    # the methods named, as the ballistic run's footer names them (a share alike in every run, as
    # 1.00 (0.40-1.00) after 4, read as neither of the intervals a reader knew)
    how = (" — probabilities: Wilson score; means: Student t (cut to the possible range; a share alike in every "
           "run: the exact bound of a bounded mean)") if res is not None else ""
    _print_line(f"in parentheses: 95 % intervals over {_plural(runs, 'run')}{how}{band}  ·  took {elapsed:.1f} s")
    if explain is not None and res is not None and explain in {f.name for f in world.flights}:
        _print_flight_story(world, res.events, explain, scene_run)
    elif explain is not None and shelling is not None:
        _print_mission_story(world, shelling.events, explain, scene_run)
    if out_dir is not None:
        _print_line(f"wrote {out_dir}/summary.json" + (", air_outcomes.parquet" if res is not None else "")
                    + (", shelling_rounds.parquet" if shelling is not None else "")
                    + ", events.parquet, scene.czml, report.html" + "".join(f", scene.{f}" for f in export_formats))
        _print_line(f"report: {out_dir}/report.html (open it in a browser)  ·  3-D scene of run {scene_run}: "
                    f"shieldlab view {out_dir}")


def _print_flight_story(world, events: dict, flight: str, run: int) -> None:
    """One flight's events in one run of the air picture, in UTC."""
    from shieldlab.io.air_tables import timeline_rows, utc_text

    t = Table(title=f"{flight}: run {run}")
    for col in ("time (UTC)", "event", "by", "detail"):
        t.add_column(col, overflow="fold")
    for ts, kind, actor, detail in timeline_rows(events, flight, run):
        t.add_row(utc_text(world.scenario.epoch, ts), kind, actor, detail)
    _print_table(t)


def _scene_and_report(world, res, flights, seed: int, scene_run: int, footprint: bool,
                      export_formats=(), air=None, shelling=None) -> Iterator[tuple[str, str]]:
    """scene.czml and report.html of a results folder, one file at a time, ``(name, text)``:
    the scene's run run again alone (the same records as in the Monte Carlo), the report
    around it, with the radars' coverage map and, asked for, the defended footprint; and
    the scene's run as scene.geojson and scene.kml where ``export_formats`` ask for them.
    Each file's text and what made it go before the next is made (a long run's peak memory)."""
    from shieldlab.engine import heap
    from shieldlab.engine.chain import replay_run
    from shieldlab.io import scene

    heap.release()  # what the tables' writing left
    chunk = replay_run(world, flights, seed, scene_run)
    doc = scene.scene(world, chunk, 0, run=scene_run)
    if air is not None:  # a scenario of threats and flights: the air picture joins both
        from shieldlab.io import air_scene

        doc = air_scene.merged(doc, air_scene.scene(world, air, run=scene_run))
    if shelling is not None:  # threats and shelling: the shelling joins both
        from shieldlab.io import air_scene, shelling_scene

        doc = air_scene.merged(doc, shelling_scene.scene(world, shelling, run=scene_run))
    text = doc.dumps()
    del doc
    yield scene.SCENE_FILE, text
    del text
    heap.release()
    from shieldlab.analysis import coverage as cov_mod
    from shieldlab.io import report

    cov = cov_mod.compute(world, cov_mod.threat_alt_km(flights.truth.apogee_alt if world.threats else None)) \
        if world.sensors else None
    # and at the lower tier's ceiling, where it lies well below: its radars may see nothing at
    # the first map's height and yet cue their batteries in time
    low = cov_mod.lower_tier_alt_km(world, cov.alt_km) if cov is not None else None
    cov_low = cov_mod.compute(world, low) if low is not None else None
    fp = None
    if footprint:
        from shieldlab.analysis import footprint as fpm

        fp = fpm.compute(world)
    page = report.build(world, res, chunk, 0, footprint=fp, coverage=cov, coverage_low=cov_low)
    if air is not None:
        from shieldlab.io import air_report

        page = air_report.appended(page, world, air, scene_run)
    if shelling is not None:
        from shieldlab.io import shelling_report

        page = shelling_report.appended(page, world, shelling, scene_run)
    yield "report.html", page
    del page
    if export_formats:
        from shieldlab.io import export as X

        fs = X.run_features(world, chunk, scene_run, seed=seed)
        if shelling is not None:
            from shieldlab.io.shelling_export import joined

            fs = joined(fs, world, shelling, scene_run)
        yield from _scene_exports(fs, export_formats).items()


def _scene_exports(features, export_formats) -> dict[str, str]:
    """scene.geojson and/or scene.kml of a results folder, as ``export_formats`` ask."""
    from shieldlab.io import export as X

    out = {}
    if "geojson" in export_formats:
        out["scene.geojson"] = X.geojson_text(features)
    if "kml" in export_formats:
        out["scene.kml"] = X.to_kml(features)
    return out


_QUIET = typer.Option(False, "--quiet", "-q", help="print nothing but errors (files are still written)")
_SET = typer.Option(None, "--set", metavar="FIELD=VALUE",
                    help="set a scenario field for this command, e.g. tracking.association=gnn or "
                         "batteries[0].rounds=8 (repeat for more fields; the file is not changed)")
_EXPORT = typer.Option(None, "--export", metavar="FORMATS",
                       help="also write the result for GIS tools and Google Earth: geojson, kml or geojson,kml")
_EXPORT_TO = typer.Option(None, "--export-to", parser=_base_path, metavar="BASE",
                          help="with --export: the exported files' path without suffix (BASE.geojson, BASE.kml)")
_EXPORT_TO_MAP = typer.Option(None, "--export-to", parser=_base_path, metavar="BASE",
                              help="with --export: the files' path without suffix [default: the --out map's]")


def _export_targets(formats: str | None, base: Path | None, force: bool, default: Path | None = None,
                    taken: dict[str, Path | None] | None = None):
    """The formats and paths of ``--export`` / ``--export-to`` (checked before any work), or
    None without ``--export``; ``default``: the base when ``--export-to`` is not given;
    ``taken``: the command's other output files by option (an export may not be one)."""
    if formats is None:
        if base is not None:
            raise InputError("says where --export writes: give --export too", field="--export-to")
        return None
    # only with --export: the exporters import the scene writers (czml3), ~0.2 s of a run
    from shieldlab.io import export as X
    from shieldlab.io.atomic import check_target

    fmts = X.parse_formats(formats)
    # the option the files come from: --export-to where given, else the --out they sit beside
    field = "--export-to" if base is not None else "--out"
    base = base if base is not None else default
    if base is None:
        raise InputError("give --export-to BASE: where to write BASE.geojson / BASE.kml", field="--export-to")
    if not base.name or base.name in (".", ".."):
        raise InputError(f"{str(base)!r} names no file: give a path without its suffix, e.g. out/raid",
                         field="--export-to")
    if base.is_dir():
        raise InputError(f"{base} is a folder: give a path without suffix inside it, e.g. {base / 'raid'}",
                         field="--export-to")
    paths = X.export_paths(base, fmts)
    for p in paths:
        check_target(p, field, force=force)
        for flag, other in (taken or {}).items():
            if other is not None and Path(p).resolve() == Path(other).resolve():
                raise InputError(f"would write {p}, the same file as {flag}: give two files", field="--export-to")
    return fmts, base


def _export(target, features, quiet: bool = False, stderr: bool = False) -> None:
    """Write ``features`` where :func:`_export_targets` said, and say so (unless ``quiet``; on
    stderr where stdout carries JSON)."""
    from shieldlab.io import export as X

    for p in X.write(features, target[1], target[0]):
        if not quiet:  # (a path is never wrapped)
            (_err() if stderr else out).print(f"wrote {p}", soft_wrap=True)


_SCENE_RUN = typer.Option(None, "--scene-run", metavar="K", help="with --out: the run shown in scene.czml and the "
                                                                  "report's timeline and ground map [default: 0, "
                                                                  "the first]")
_FOOTPRINT = typer.Option(False, "--footprint", help="with --out: also map the defended footprint into the report "
                                                     "(as `shieldlab footprint`; ~10 s more)")
_WORKERS = typer.Option(None, "--workers", min=1, max=1024,
                        help="run the chunks of runs on N local worker processes (Dask); same results")
_SCHEDULER = typer.Option(None, "--scheduler", metavar="tcp://HOST:PORT",
                          help="run the chunks on a running Dask cluster; same results")


@app.command(cls=_Command)
@_guard
def run(
    scenario: str = typer.Argument(..., help="scenario YAML file or preset name", metavar="SCENARIO"),
    runs: int | None = typer.Option(None, "--runs", min=1, max=MAX_RUNS,
                                       help=f"Monte Carlo runs [default: {DEFAULT_RUNS}]"),
    half_width: float | None = typer.Option(None, "--half-width", parser=_float_in(-math.inf, math.inf),
                                               metavar="FLOAT",
                                               help="instead of --runs: as many runs as a 95 % interval this "
                                                    "half-width needs at worst (0 < H < 0.5)"),
    seed: int = typer.Option(1, "--seed", min=0, help="random seed: same seed, same numbers"),
    out_dir: Path | None = typer.Option(None, "--out", parser=_path,
                                           help="results folder: summary.json, outcomes.parquet, events.parquet, "
                                                "track_quality.parquet"),
    force: bool = typer.Option(False, "--force", help="replace an existing results folder (as a whole)"),
    resume: bool = typer.Option(False, "--resume", help="finish a stopped run into --out: keep its finished chunks"),
    workers: int | None = _WORKERS,
    scheduler: str | None = _SCHEDULER,
    as_json: bool = typer.Option(False, "--json", help="print summary.json instead of a table"),
    explain: str | None = typer.Option(None, "--explain", metavar="THREAT",
                                          help="tell that threat's story: a timeline and the reasons, per battery"),
    scene_run: int | None = _SCENE_RUN,
    footprint: bool = _FOOTPRINT,
    export: str | None = typer.Option(None, "--export", metavar="FORMATS",
                                         help="with --out: also the scene's run as scene.geojson and/or scene.kml "
                                              "(geojson, kml or geojson,kml) for GIS tools and Google Earth"),
    quiet: bool = _QUIET,
    settings: list[str] | None = _SET,
) -> None:
    """Run a scenario's kill chain over Monte Carlo runs; with --out, also the run's report
    (report.html) and the 3-D scene of one run (scene.czml, `shieldlab view DIR`)."""
    if force and out_dir is None:
        raise InputError("replaces a results folder: give --out", field="--force")
    if resume and out_dir is None:
        raise InputError("finishes a stopped run into a results folder: give --out", field="--resume")
    if resume and force:
        raise InputError("give --resume or --force, not both", field="--force")
    _simulate(scenario, runs, seed, out_dir, as_json=as_json, quiet=quiet, force=force, explain=explain,
              half_width=half_width, resume=resume, workers=workers, scheduler=scheduler, scene_run=scene_run,
              footprint=footprint, export=export, settings=_one_value_settings(settings))


# --- compare ---------------------------------------------------------------------------------------

def _architectures(text: str) -> list[str]:
    from shieldlab.c2.network import architecture_names

    names = [a.strip() for a in text.split(",")]
    if any(names) and not all(names):
        raise InputError(f"an empty name in {text!r} (a stray comma?)", field="--architectures")
    return architecture_names([a for a in names if a], "--architectures")


@app.command(cls=_Command)
@_guard
def compare(
    scenario: str = typer.Argument(..., help="scenario YAML file or preset name", metavar="SCENARIO"),
    architectures: str | None = typer.Option(
        None, "--architectures", help="comma-separated: independent, coordinated, sectoral, integrated "
                                      "[default: all four; sectoral only where the nodes have sectors]"),
    runs: int = typer.Option(DEFAULT_RUNS, "--runs", min=1, max=MAX_RUNS, help="Monte Carlo runs per architecture"),
    seed: int = typer.Option(1, "--seed", min=0, help="random seed: the same raids under every architecture"),
    settings: list[str] | None = _SET,
    as_json: bool = typer.Option(False, "--json", help="print the comparison as JSON instead of a table"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors (a check that it runs)"),
) -> None:
    """Run one scenario under several C2 architectures (same raids, same seeds), side by side."""
    import time

    from shieldlab.analysis.compare import compare as run_compare

    if as_json and quiet:
        raise InputError("give --json or --quiet, not both", field="--quiet")
    parsed = _one_value_settings(settings)
    if any(st.path == ("architecture",) for st in parsed):
        raise InputError("compare runs the scenario under each architecture of --architectures: name them there, "
                         "not with --set", field="--set")
    world = _load_world(scenario, parsed)
    from shieldlab.engine.chain import require_threats

    require_threats(world)  # before any note: a refusal is the one line printed
    if not (quiet or as_json):
        # what validate notes (the comparison goes on), but for what the file's own architecture does
        for note in _scenario_notes(world, own_architecture=False):
            _err().print(note, markup=False, highlight=False)
    if architectures is None:
        from shieldlab.c2.network import ARCHITECTURES
        from shieldlab.scenario.compile import compile_world
        from shieldlab.scenario.schema import with_architecture

        sectors = all(nd.sector is not None for nd in world.nodes if nd.batteries)
        names = [a for a in ("independent", "coordinated", "sectoral", "integrated") if sectors or a != "sectoral"]
        assert set(names) <= set(ARCHITECTURES)
        if not sectors and not (quiet or as_json):
            _err().print("sectoral left out: not every node with batteries has a sector (nodes[].sector)")
        fit = []
        for a in names:  # the scenario as it is under each: one it cannot be run under is left out, said why
            try:
                compile_world(with_architecture(world.scenario, a, source=world.source), source=world.source)
            except InputError as e:
                if not (quiet or as_json):
                    first = e.message if e.field is None else f"{e.field}: {e.message}"
                    _err().print(f"{a} left out: {_visible(first)}", soft_wrap=True)
                continue
            fit.append(a)
        names = fit
    else:
        names = _architectures(architectures)
    _compile_note("simulate", quiet or as_json)
    from shieldlab.engine.chain import preflight

    # every threat steered first (as run does), its error named by the --set that caused it
    flights = _named_by_settings(scenario, parsed, world, lambda w: preflight(w, runs, can_store=False))
    t0 = time.perf_counter()
    with _progress(len(names) * runs, enabled=not (quiet or as_json)) as progress:
        # one bar over every architecture's runs
        results = run_compare(world, names, runs, seed, flights=flights, progress=None if progress is None else
                              (lambda arch, n: progress(names.index(arch) * runs + n)))
    elapsed = time.perf_counter() - t0
    head = _with_set({"scenario": world.scenario.name}, parsed, world)
    if as_json:
        sys.stdout.write(json.dumps({**head, "runs": runs, "seed": seed,
                                     "nodes": [nd.name for nd in world.nodes],
                                     "architectures": [r.as_dict() for r in results]}, indent=2) + "\n")
        return
    if quiet:
        return

    def ci(v, digits=2):
        return f"{v[0]:.{digits}f} {_interval_text(v[1], v[2], digits)}" if np.isfinite(v[1]) else f"{v[0]:.{digits}f}"

    def signed(v, alike=False):  # a paired difference: its sign always shown, a minus as the sweep's (−)
        if not np.isfinite(v[0]):
            return "—"
        if not np.isfinite(v[1]):  # one run
            return f"{v[0]:+.2f}".replace("-", "−")
        if alike:  # every raid the same: said, the exact bound beside it (it alone read as no evidence)
            return f"0 in every raid (bound ±{v[2]:.2f})"
        return f"{v[0]:+.2f} {_interval_text(v[1], v[2], 2, signed=True)}".replace("-", "−")

    # a file's name where the scenario inside it is named otherwise (a copy of a preset, say)
    where = Path(scenario).name if scenario.endswith((".yaml", ".yml")) else None
    shown = world.scenario.name + (f" ({where})" if where and Path(where).stem != world.scenario.name else "")
    t = Table(title=f"{shown}{_set_text(head)} — {_plural(runs, 'run')} per architecture, seed {seed}")
    t.add_column("per raid", justify="left", overflow="fold")
    for r in results:
        t.add_column(r.architecture, justify="right", overflow="fold")
    t.add_row("leakers", *[ci(r.leakers) for r in results])
    if len(results) > 1:  # the same raids in every column: what changed raid by raid
        base = results[0].architecture
        t.add_row(f"leakers vs {base}, raid by raid",
                  *[signed(r.leakers_difference, r.leakers_alike) for r in results])
        t.add_row("raids with fewer / more leakers",
                  *["—" if r.against is None else f"{r.raids_fewer_leakers} / {r.raids_more_leakers}"
                    for r in results])
    t.add_row("P(no leaker)", *[f"{r.p_no_leaker:.2f} {_interval_text(*r.p_no_leaker_ci95, 2)}" for r in results])
    t.add_row("hits on assets", *[ci(r.assets_hit) for r in results])
    if len({float(a.value) for a in world.assets}) > 1:  # assets of unequal value
        t.add_row("value lost", *[ci(r.value_lost) for r in results])
    t.add_row("interceptors fired", *[ci(r.interceptors) for r in results])
    if len(results) > 1:
        t.add_row(f"interceptors vs {results[0].architecture}",
                  *[signed(r.interceptors_difference, r.interceptors_alike) for r in results])
    # under gnn: what fused tracks of spent boosters and false alarms cost (the interceptors above count them)
    for label, of in (("of them at spent boosters", "at_boosters"), ("of them at false tracks", "at_false_tracks")):
        if any(getattr(r, of)[0] > 0 for r in results):
            t.add_row(label, *[ci(getattr(r, of)) for r in results])
    t.add_row("wasted interceptors", *[ci(r.wasted) for r in results])
    t.add_row("threats between sectors",
              *[ci(r.between_sectors) if r.architecture == "sectoral" else "—" for r in results])
    t.add_row("launch to first engagement [s]",
              *[f"{r.first_engagement_s:.0f}" if np.isfinite(r.first_engagement_s) else "—" for r in results])
    for key in results[0].track_share:
        # —: B's radars detected no threat, so there is nothing for A to have seen
        t.add_row(f"tracks: {key}", *[f"{v:.2f}" if np.isfinite(v := r.track_share.get(key, float("nan"))) else "—"
                                      for r in results])
    _print_table(t)
    _print_line((f"in parentheses: 95 % intervals over {_plural(runs, 'run')} — P(no leaker): Wilson score; "
                 f"means: Student t ({_CUT}; {_CAPPED})" if runs > 1 else
                 "one run: means without intervals; P(no leaker): Wilson score")
                + f"  ·  took {elapsed:.1f} s")
    if len(results) > 1:
        _print_line(f"vs {results[0].architecture}: the raids are the same in every column, so each raid's "
                    "difference is the C2's; the mean of those differences and its Student t interval, which "
                    "excludes 0 where the runs tell the architectures apart (where every raid came out alike, \"0 in "
                    "every raid\" and the exact bound of a capped count: a raid that did differ could differ by a "
                    "whole raid's leakers, or by every battery's rounds for the interceptors, so no raid differing "
                    "gives a wider interval than one raid differing by one)")
    if results[0].track_share:  # (1.00 under independent read as tracks shared where none are)
        a_sees_b = next(iter(results[0].track_share))
        a, b = a_sees_b.split(" sees ", 1)
        own = (f" (under independent only its own: {a_sees_b} 1.00 means {a}'s radars saw every threat {b}'s did, "
               f"not that {b} shared them)") if any(r.architecture == "independent" for r in results) else ""
        _print_line(f"tracks: A sees B: of the threats B's own sensors detected, the share A's fire control held a "
                    f"track of, its own or one received{own}")
    if len(world.nodes) <= 1:  # (under the table, where the identical columns are read)
        _print_line("one C2 node: every architecture is the same C2 here, so the columns are the same; "
                    "sensors and batteries of different `system`s make several")


# --- sweep, query ----------------------------------------------------------------------------------

@app.command(cls=_Command)
@_guard
def sweep(
    scenario: str = typer.Argument(..., help="scenario YAML file or preset name", metavar="SCENARIO"),
    settings: list[str] = typer.Option(..., "--set", metavar="FIELD=V1,V2",
                                       help="a scenario field and the values to try, e.g. doctrine.salvo=1,2 or "
                                            "batteries[0].rounds=8,16 (repeat for more fields: their product is run)"),
    runs: int = typer.Option(DEFAULT_RUNS, "--runs", min=1, max=MAX_RUNS, help="Monte Carlo runs per point"),
    seed: int = typer.Option(1, "--seed", min=0, help="random seed: the same raids at every point"),
    out_dir: Path = typer.Option(..., "--out", parser=_path, help="sweep folder (a partitioned Parquet dataset)"),
    resume: bool = typer.Option(False, "--resume", help="finish the sweep in --out: keep its completed chunks"),
    force: bool = typer.Option(False, "--force", help="replace the sweep in --out (as a whole)"),
    workers: int | None = _WORKERS,
    scheduler: str | None = _SCHEDULER,
    as_json: bool = typer.Option(False, "--json", help="print one row per point as JSON instead of a table"),
    quiet: bool = _QUIET,
) -> None:
    """Run a scenario at every combination of some of its values, into a dataset to query."""
    import time

    from shieldlab.engine import sweep as sw
    from shieldlab.engine.distribute import check_cluster_options, client_for
    from shieldlab.io.dataset import HEADLINE, MANIFEST, PAIRED, Sweep
    from shieldlab.io.sweep_report import PAIRED_HEADING, paired_text, shown

    if as_json and quiet:
        raise InputError("give --json or --quiet, not both", field="--quiet")
    if resume and force:
        raise InputError("give --resume or --force, not both", field="--force")
    parsed = [sw.parse_setting(s) for s in settings]
    n_points = int(np.prod([len(s.values) for s in parsed]))
    check_cluster_options(workers, scheduler)  # a usage error, before any compiling
    if not (quiet or as_json):
        note = _unread_sweep_note(scenario, parsed)
        if note:
            _err().print(note, markup=False, highlight=False)
    # a misspelt --out, say (a folder of other files is refused below: no note before that refusal)
    if resume and not quiet and not (Path(out_dir) / MANIFEST).is_file() and _empty_or_absent(out_dir):
        _err().print(f"note: --resume: no stopped sweep in {out_dir} to finish; starting it", markup=False,
                     highlight=False)
    _compile_note("simulate", quiet or as_json)
    if workers is not None and scheduler is None:  # (with both, client_for refuses them)
        workers = _local_workers(workers, None, quiet)
    resuming = resume and (Path(out_dir) / MANIFEST).is_file()  # (the time taken is then this part's)
    t0 = time.perf_counter()
    with _progress(n_points * runs, enabled=not (quiet or as_json)) as progress:
        with client_for(workers, scheduler) as client:
            done = sw.run_sweep(scenario, parsed, runs, seed, out_dir, resume=resume, force=force, progress=progress,
                                client=client, note=None if quiet else (lambda text: _say(progress, text)),
                                kept=progress.kept if isinstance(progress, _Bar) else None)
    elapsed = time.perf_counter() - t0
    rows = done.summaries()
    for r, p in zip(rows, done.paired(rows)):
        r.update(p)
    cols = [s.column for s in parsed]
    if as_json:
        same = done.manifest.get("common_random_numbers")
        sys.stdout.write(json.dumps([{"point": r["point"], **r["set"], "runs": r["runs"], "common_random_numbers": same,
                                      **{k: r.get(k) for k in HEADLINE + PAIRED},
                                      "track_quality": r.get("track_quality") or {}} for r in rows], indent=2) + "\n")
        return
    if quiet:
        return
    t = Table(title=f"{Sweep.title(rows, scenario)} — {_plural(runs, 'run')} per point, seed {seed}")
    t.add_column("point", justify="right")
    for c in cols:
        t.add_column(c, justify="right", overflow="fold")
    # every column folds: on a narrow terminal an interval wraps instead of ending in "…" (a
    # minimum width for it would crop the table's right-hand columns instead)
    t.add_column("mean leakers per raid", justify="right", overflow="fold")
    t.add_column("P(no leaker)", justify="right", overflow="fold")
    t.add_column("mean interceptors fired", justify="right", overflow="fold")
    # the track quality of each system (C2 node picture) the points have: its mean GOSPA
    if len(rows) > 1:
        t.add_column(PAIRED_HEADING, justify="right", overflow="fold")
    systems = sorted({name for r in rows for name in (r.get("track_quality") or {})})
    for name in systems:
        t.add_column("GOSPA km" if len(systems) == 1 else f"GOSPA {name} km", justify="right", overflow="fold")

    def gospa(r, name: str) -> str:  # (as the run's track-quality table writes it)
        g = ((r.get("track_quality") or {}).get(name) or {}).get("gospa_m")
        return "—" if g is None else f"{g / 1e3:.2f}"

    def with_interval(value: float, ci, lower: float | None = None) -> str:
        lo, hi = ci or (None, None)
        if lo is None or hi is None:  # one run per point has no spread
            return f"{value:.2f} (no interval: one run)"
        return f"{value:.2f} {_interval_text(lo if lower is None else max(lo, lower), hi, 2)}"

    for r in rows:
        t.add_row(str(r["point"]), *[shown(r["set"][c]) for c in cols],
                  with_interval(r["mean_leakers"], r["mean_leakers_ci95"], 0.0),
                  with_interval(r["p_no_leaker"], r["p_no_leaker_ci95"]), f"{r['mean_interceptors_fired']:.2f}",
                  *([paired_text(r)] if len(rows) > 1 else []), *[gospa(r, name) for name in systems])
    _print_table(t)
    # a sweep over the association scores GOSPA two ways (the threats, or every object in the
    # air): said here as the report says it, so the column is not read as one measure
    methods = {r.get("track_quality_method") for r in rows if r.get("track_quality")}
    if len(methods) > 1:
        _print_line("GOSPA is scored in different ways at these points, so its column is not one measure: under "
                    "tracking.association labels against the threats, under gnn against every object in the air, "
                    "spent boosters and false tracks too (each point's summary.json: track_quality_method)")
    from shieldlab.io.sweep_report import alike_points

    alike = alike_points(rows, {s.column: s.field for s in parsed})
    if alike:
        _print_line(alike)
    from shieldlab.engine.sweep import common_draws_note, redealing

    if redealing([s.field for s in parsed]):  # (the same raids at every point goes without saying)
        _print_line(common_draws_note([s.field for s in parsed]))
    _print_line(f"in parentheses: 95 % intervals over {_plural(runs, 'run')} per point — probabilities: Wilson "
                f"score; means: Student t (cut to the possible range; where every run or raid came out alike, the "
                f"exact bound of a bounded mean)  ·  took {elapsed:.1f} s"
                f"{' (resumed: the chunks done before were kept)' if resuming else ''}  ·  wrote {out_dir} "
                f"(charts: "
                f"{out_dir}/report.html) "
                f"(per threat: shieldlab query {out_dir} \"select point, threat, p_intercept, p_intercept_lo, "
                f"p_intercept_hi from point_threats order by all\")")


def _sql_plain(v, as_json: bool):
    """One value of a query's answer as JSON or CSV carry it: an INTERVAL as an ISO 8601
    duration in seconds (``PT259200S``), a date or time in ISO 8601, a BLOB in base64, a
    DECIMAL as a number, lists and structs element by element; in JSON a nan or an
    infinity is null (JSON has neither), in CSV as Python writes it (``nan``, ``inf``)."""
    import base64
    import datetime as dt
    import decimal
    import uuid

    if isinstance(v, float):
        return None if as_json and not math.isfinite(v) else v
    if isinstance(v, dt.timedelta):
        s = v.total_seconds()
        digits = f"{abs(s):.6f}".rstrip("0").rstrip(".")  # fixed point: no exponent (PT5e-06S)
        return f"{'-' if s < 0 else ''}PT{digits}S"
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(v, decimal.Decimal):
        return _sql_plain(float(v), as_json) if as_json else str(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, dict):
        d = {str(k): _sql_plain(x, True) for k, x in v.items()}
        return d if as_json else json.dumps(d, allow_nan=False)
    if isinstance(v, (list, tuple)):
        items = [_sql_plain(x, True) for x in v]
        return items if as_json else json.dumps(items, allow_nan=False)
    return v


def _local_workers(workers: int, chunks: int | None, quiet: bool) -> int:
    """``--workers`` for a local cluster: at most this machine's cores (a worker per core: more
    only share them out) and, where known, the run's chunks (a chunk is a worker's task);
    a note on stderr when it takes fewer than asked."""
    # the cores this process may run on (a container's or a taskset's), where the system says
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    n = max(1, min(workers, cores, chunks if chunks is not None else workers))
    if n < workers and not quiet:
        why = (f"the run has {_plural(n, 'chunk')}, a worker's task" if chunks is not None and n == chunks
               else "one per core of this machine: more would share the cores")
        _err().print(f"--workers {workers}: starting {_plural(n, 'worker')} ({why})")
    return n


@app.command(cls=_Command)
@_guard
def query(
    folder: Path = typer.Argument(..., parser=_path, help="a sweep folder (shieldlab sweep --out), a run's "
                                  "results folder (shieldlab run --out), or one Parquet file (shieldlab tracks "
                                  "--out)", metavar="DIR"),
    sql: str = typer.Argument(..., help="DuckDB SQL over the views outcomes, events, track_quality, tracks "
                                        "(association gnn) and, a sweep's, points, point_threats and point_quality; "
                                        "over a run's folder, a view per .parquet file in it; over a file, the view "
                                        "named by its name without .parquet", metavar="SQL"),
    as_json: bool = typer.Option(False, "--json", help="print the rows as a JSON list of objects"),
    as_csv: bool = typer.Option(False, "--csv", help="print the rows as CSV"),
) -> None:
    """Answer SQL over a sweep's or a run's results, or one Parquet file (DuckDB)."""
    import csv

    from shieldlab.io.dataset import progress_note
    from shieldlab.io.dataset import query as run_query

    if as_json and as_csv:
        raise InputError("give --json or --csv, not both", field="--csv")
    cols, rows = run_query(folder, sql)
    note = progress_note(folder)
    if note:
        _err().print(note)
    if as_json:
        sys.stdout.write(json.dumps([{c: _sql_plain(v, True) for c, v in zip(cols, r)} for r in rows], indent=2,
                                    allow_nan=False) + "\n")
    elif as_csv:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(cols)
        w.writerows([[_sql_plain(v, False) for v in r] for r in rows])
    else:
        t = Table(title=f"{_plural(len(rows), 'row')}")
        numeric = [any(r[i] is not None for r in rows) and all(isinstance(r[i], (int, float)) or r[i] is None
                                                              for r in rows) for i in range(len(cols))]
        for c, num in zip(cols, numeric):
            t.add_column(c, overflow="fold", justify="right" if num else "left")
        for r in rows:  # (SQL's NULL as the tables write a missing value)
            t.add_row(*["–" if v is None else _float_cell(v) if isinstance(v, float) else str(v) for v in r])
        _print_table(t)


def _float_cell(v: float) -> str:
    """A float as a query's table shows it: six significant digits, but a number of a million
    or more to a tenth, not as 4.48689e+06 (seconds since an epoch 52 days back, 30 s apart,
    were unreadable)."""
    text = f"{v:.6g}"
    if "e+" in text and math.isfinite(v) and abs(v) < 1e15:
        text = f"{v:.1f}".removesuffix(".0")
    return text


DEMO_OUT = Path("out/demo")


@app.command(cls=_Command)
@_guard
def demo(
    runs: int = typer.Option(DEFAULT_RUNS, "--runs", min=1, max=MAX_RUNS, help="Monte Carlo runs"),
    seed: int = typer.Option(1, "--seed", min=0, help="random seed: same seed, same numbers"),
    out_dir: Path | None = typer.Option(None, "--out", parser=_path,
                                           help=f"results folder [default: {DEMO_OUT}, replaced on each demo]"),
    force: bool = typer.Option(False, "--force", help="replace an existing results folder given with --out"),
    quiet: bool = _QUIET,
) -> None:
    """The flagship preset (EPAA phase 1) end to end: summary, timeline, files, the report
    and the 3-D scene."""
    if force and out_dir is None:
        raise InputError(f"replaces a results folder given with --out ({DEMO_OUT} is replaced anyway)",
                         field="--force")
    if out_dir is None:  # the demo's own folder: an earlier demo's results are replaced
        out_dir, force = DEMO_OUT, True
    if not quiet:
        _print_line(Text.assemble(("shieldlab demo", "bold"), f": preset {DEMO_PRESET}, {runs} runs"))
    _simulate(DEMO_PRESET, runs, seed, out_dir, quiet=quiet, force=force, timeline=True, footprint=True)


@app.command(cls=_Command)
@_guard
def view(
    results: Path = typer.Argument(..., parser=_path, metavar="DIR",
                                   help="a results folder written by `shieldlab run ... --out DIR`"),
    port: int = typer.Option(0, "--port", min=0, max=65535, show_default=False,
                             help="port on 127.0.0.1 [default: a free one]"),
    open_browser: bool = typer.Option(False, "--open", help="open the address in the default browser"),
) -> None:
    """Play a results folder's 3-D scene (scene.czml) in the browser: serves the folder and
    the offline viewer on 127.0.0.1 until Ctrl-C."""
    from shieldlab.io import serve

    if not results.exists():
        raise InputError(f"{results} does not exist", field="DIR")
    if not results.is_dir():
        raise InputError(f"{results} is not a folder", field="DIR")
    if not (results / "scene.czml").is_file():
        raise InputError(f"{results} holds no scene.czml: write one with `shieldlab run SCENARIO --out {results}`",
                         field="DIR")
    _check_scene(results / "scene.czml")
    try:
        srv = serve.start(results, port, background=False)
    except serve.ViewerMissing as e:
        raise InputError(str(e), field="viewer") from None
    except OSError as e:
        raise InputError(f"cannot serve on 127.0.0.1:{port}: {e.strerror or e}", field="--port") from None
    _print_line(f"serving {results} at {srv.url}  (Ctrl-C stops)")
    if open_browser:
        import webbrowser

        webbrowser.open(srv.url)
    try:
        srv.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.httpd.server_close()


def _check_scene(path: Path) -> None:
    """Refuse ``path`` unless it reads as a CZML document: a JSON list whose first packet is
    the one with the id ``document`` (what the viewer would fail on in the browser)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path} is not JSON ({e})", field="DIR") from None
    if not (isinstance(doc, list) and doc and isinstance(doc[0], dict) and doc[0].get("id") == "document"):
        raise InputError(f"{path} is not a CZML document (a list of packets, the first with the id "
                         "'document'): write one with `shieldlab run SCENARIO --out DIR`", field="DIR")


def _other_profiles(e, m, lat0, lon0, lat1, lon1, profile: str, apogee_km, flight_time_s) -> str:
    """A no-solution error's message (``e``: :class:`~shieldlab.flyout.aim.NoSolutionError`)
    with its advice made true: where it advises another profile, the other profiles are tried
    and those that fly the shot named (the notional ICBM's 17,000 km min-energy shot was refused
    where --profile lofted flies it; at 18,500 km every profile failed, near its greatest range
    where the steering solver finds no shot, and the error still said to try another)."""
    from shieldlab.flyout import aim
    from shieldlab.flyout.shot import fly_shot

    if not e.advises_other_profile or apogee_km is not None or flight_time_s is not None:
        return str(e)
    flies = []
    for other in ("min-energy", "lofted", "depressed"):
        if other == profile:
            continue
        try:
            fly_shot(m, lat0, lon0, lat1, lon1, other)
        except aim.AimError:
            continue
        flies.append(other)
    if flies:
        return e.head + f" (--profile {' or '.join(flies)} flies it)"
    return e.head + (" (no other profile flies it to this aim point; shaping it by apogee or flight time may)"
                     if e.shaping_hint else " (no profile flies it to this aim point)")


def _share_pct(x: float) -> str:
    """A share as a whole per cent, but never rounded to 0 % or 100 % when it is neither
    (0.995 of the cells read "100%" beside a track found in the rest): one decimal then, or
    "<0.1%" / ">99.9%"."""
    x = float(x)
    if 0.0 < x < 0.005 or 0.995 <= x < 1.0:
        if x < 0.001:
            return "<0.1%"
        if x > 0.999:
            return ">99.9%"
        return f"{100 * x:.1f}%"
    return f"{x:.0%}"


def _steering_text(branch: str, profile: str, trims: bool, glides: bool = False) -> str:
    """How flyout's shot was found, in words (``branch`` as :attr:`aim.Steering.branch`;
    ``trims``: whether the missile can trim a minimum-energy shot, :func:`aim.trims`;
    ``glides``: a quasi-ballistic missile, its catalogue ``aero``)."""
    if branch == "trimmed":
        return "trimmed to the minimum-energy shot"
    if branch == "shaped":
        return f"{profile}, shaped to the requested apogee or flight time"
    if profile == "min-energy" and glides:
        return (f"full burn, the {branch} branch: a quasi-ballistic missile flies its flattest full-burn shot, "
                f"gliding{'' if branch == 'depressed' else ' (no depressed shot reaches the aim point)'}; "
                "profile depressed with apogee_km shapes it")
    if profile == "min-energy":
        why = ("no trimmed shot reaches the aim point (near the maximum range)" if trims else
               "the missile cannot cut or manage its thrust")
        return f"full burn, the {branch} branch: {why}, and this branch's apogee is nearer the minimum-energy one"
    return f"full burn, the {branch} branch"


@app.command(cls=_Command)
@_guard
def flyout(
    missile: str = typer.Argument(..., help="catalogue missile id (see `shieldlab catalog missiles`)",
                                  metavar="MISSILE"),
    src: str = typer.Option(..., "--from", help="launch point LAT,LON [deg]"),
    dst: str = typer.Option(..., "--to", help="aim point LAT,LON [deg]"),
    profile: str = typer.Option("min-energy", "--profile", help=PROFILE_HELP),
    apogee_km: float | None = _float_option(None, "--apogee-km", "shape a lofted/depressed shot by its apogee [km]",
                                               1.0, 5000.0, "km"),
    flight_time_s: float | None = _float_option(None, "--flight-time-s",
                                                   "shape a lofted/depressed shot by its flight time [s]",
                                                   1.0, 5000.0, "s"),
    runs: int = typer.Option(0, "--runs", min=0, max=MAX_RUNS, help="dispersed shots for a CEP (0: nominal only)"),
    # the dispersions default to None so that one given without --runs can be refused (they would
    # do nothing); their values apply below
    seed: int | None = typer.Option(None, "--seed", min=0,
                                    help=f"random seed of the dispersed shots [default: {FLYOUT_SPREAD['--seed']}]"),
    thrust_pct: float | None = _float_option(None, "--thrust-pct", "1-sigma thrust dispersion [%] (default "
                                             f"{FLYOUT_SPREAD['--thrust-pct']:g})", 0.0, 20.0),
    isp_pct: float | None = _float_option(None, "--isp-pct", "1-sigma specific impulse dispersion [%] (default "
                                          f"{FLYOUT_SPREAD['--isp-pct']:g})", 0.0, 20.0),
    burn_pct: float | None = _float_option(None, "--burn-pct", "1-sigma burn time dispersion [%] (default "
                                           f"{FLYOUT_SPREAD['--burn-pct']:g})", 0.0, 20.0),
    drag_pct: float | None = _float_option(None, "--drag-pct", "1-sigma drag dispersion [%] (default "
                                           f"{FLYOUT_SPREAD['--drag-pct']:g})", 0.0, 50.0),
    azimuth_mrad: float | None = _float_option(None, "--azimuth-mrad", "1-sigma azimuth error [mrad] (default "
                                               f"{FLYOUT_SPREAD['--azimuth-mrad']:g})", 0.0, 50.0),
    as_json: bool = _json_option(),
    export: str | None = _EXPORT,
    export_to: Path | None = _EXPORT_TO,
    force: bool = typer.Option(False, "--force", help="replace existing --export-to files"),
) -> None:
    """Fly one missile from a launch point to an aim point (rotating Earth, J2, drag);
    with --runs, also the CEP of dispersed shots about the aim point.  The burnout speed is
    inertial (the Earth's rotation included: up to ~0.4 km/s more than the speed over the
    ground for an eastward shot)."""
    from shieldlab import catalog
    from shieldlab.flyout import aim
    from shieldlab.flyout.shot import fly_shot

    lat0, lon0 = _latlon(src, "--from")
    lat1, lon1 = _latlon(dst, "--to")
    _check_profile(profile)
    given = {"--seed": seed, "--thrust-pct": thrust_pct, "--isp-pct": isp_pct, "--burn-pct": burn_pct,
             "--drag-pct": drag_pct, "--azimuth-mrad": azimuth_mrad}
    if not runs:  # a dispersion shapes dispersed shots only: given without them it would do nothing
        for opt in (k for k, v in given.items() if v is not None):
            raise InputError("applies to dispersed shots only: give --runs N (N >= 1) with it", field=opt)
    spread = {k: FLYOUT_SPREAD[k] if v is None else v for k, v in given.items()}
    m = _catalog_get(catalog.get_missile, missile, "MISSILE")
    target = _export_targets(export, export_to, force)
    _compile_note("flyout", False)
    la0, lo0, la1, lo1 = np.radians([lat0, lon0, lat1, lon1])
    try:
        shot = fly_shot(m, lat0, lon0, lat1, lon1, profile, apogee_km=apogee_km, flight_time_s=flight_time_s)
    except aim.ShapeError as e:
        raise InputError(str(e), field="--apogee-km" if apogee_km is not None else "--flight-time-s") from None
    except aim.NoSolutionError as e:
        raise InputError(_other_profiles(e, m, lat0, lon0, lat1, lon1, profile, apogee_km, flight_time_s),
                         field="--to") from None
    except aim.AimError as e:
        raise InputError(str(e), field="--to") from None
    tr = shot.trajectory
    res = {
        "missile": m.id,
        "profile": profile,
        "launch_lat_deg": lat0, "launch_lon_deg": lon0, "aim_lat_deg": lat1, "aim_lon_deg": lon1,
        "burnout_time_s": round(shot.burnout_time_s, 3),
        "burnout_speed_kms": round(shot.burnout_speed_kms, 4),
        "apogee_km": round(shot.apogee_km, 3),
        "time_of_flight_s": round(shot.time_of_flight_s, 3),
        "ground_range_km": round(shot.ground_range_km, 3),
        "impact_lat_deg": round(shot.impact_lat_deg, 5),
        "impact_lon_deg": round(shot.impact_lon_deg, 5),
        "aim_error_km": round(shot.aim_error_km, 3),
        "launch_azimuth_deg": round(shot.launch_azimuth_deg, 4),
        "pitch_over_deg": round(shot.pitch_over_deg, 4),
        "thrust_cutoff_s": None if shot.thrust_cutoff_s is None else round(shot.thrust_cutoff_s, 3),
        "max_range_km": round(shot.max_range_km, 1),
        # which shot the solver chose: a missile that cannot trim flies a full-burn branch even
        # on a minimum-energy shot, and its table would otherwise read like a depressed one's
        "steering": _steering_text(shot.branch, profile, aim.trims(m), getattr(m, "aero", None) is not None),
        # the same for a script: trimmed (to the minimum-energy shot), shaped (to the asked apogee
        # or flight time), lofted or depressed (a full-burn branch); `profile` is what was asked
        "branch": shot.branch,
    }
    # how a solid under general energy management or a quasi-ballistic missile trimmed its shot
    if shot.upper_stage_thrust_along_path < 1.0:
        res["upper_stage_thrust_along_path"] = round(shot.upper_stage_thrust_along_path, 4)
    if shot.dive_time_s is not None:
        res["dive_time_s"] = round(shot.dive_time_s, 3)
    if runs:
        from shieldlab.flyout.dispersion import Dispersion, impact_scatter

        d = Dispersion(thrust=spread["--thrust-pct"] / 100, isp=spread["--isp-pct"] / 100,
                       burn_time=spread["--burn-pct"] / 100, drag=spread["--drag-pct"] / 100,
                       azimuth=spread["--azimuth-mrad"] / 1e3)
        seed = int(spread["--seed"])
        scat_lat, scat_lon, c = impact_scatter(m, la0, lo0, la1, lo1, d, runs, seed, profile,
                                               apogee=None if apogee_km is None else 1e3 * apogee_km,
                                               flight_time=flight_time_s)
        res.update(runs=runs, seed=seed)
        # the circular error probable is a median over shots: one shot has only its miss
        res.update({"cep_km" if runs > 1 else "miss_km": round(c / 1e3, 4)})
    if as_json:
        sys.stdout.write(json.dumps(res, indent=2) + "\n")
    else:
        title = f"{m.name}, {profile}"  # (the points are rows; a table as wide as its title does not wrap it)
        t = Table(title=title, show_header=False, min_width=len(title) + 4)
        for k, v in res.items():  # (JSON's null, a thrust that is never cut, as the tables write a missing value)
            t.add_row(k, "–" if v is None else str(v))
        _print_table(t)
    if target is not None:  # after the table: the files' lines close the printout
        from shieldlab.io import export as X

        _export(target, X.flyout_features(tr, missile=m.id, launch_deg=(lat0, lon0), aim_deg=(lat1, lon1),
                                          profile=profile, impacts_rad=(scat_lat, scat_lon) if runs else None,
                                          cep_m=c if runs > 1 else None), stderr=as_json)


def _print_sensor_cue(cue, t_ready: float, alerted: bool) -> None:
    """The cue line of `reach --sensors`: each system's expected track, the first radar alone."""
    alone = {k: v for k, v in cue.per_radar.items() if k in cue.radars and np.isfinite(v)}
    best = min(alone, key=alone.__getitem__, default=None)
    others = {k: v for k, v in cue.per_system.items() if k != cue.system}
    _print_line(f"cue: {cue.system}'s track ({', '.join(cue.radars)}) expected {cue.time_s:.1f} s after launch"
                + (f" (its first radar alone, {best}: {alone[best]:.1f} s)" if best is not None else "")
                + "".join(f"; {k}'s: " + (f"{v:.1f} s" if np.isfinite(v) else "none") for k, v in others.items())
                + f"; ready at {t_ready:.1f} s (cued by the first system's track, {cue.system}'s, whatever system "
                  f"the battery belongs to"
                + (f"; its batteries alerted by the launch report at {cue.alert_s:.1f} s, their reaction "
                   f"running from then" if alerted else "") + ")")


@app.command(cls=_Command)
@_guard
def reach(
    interceptor: str = typer.Argument(..., help="catalogue interceptor id (see `shieldlab catalog interceptors`)",
                                      metavar="INTERCEPTOR"),
    site: str = typer.Option(..., "--site", help="interceptor site LAT,LON [deg]"),
    missile: str = typer.Option(..., "--missile", help="catalogue missile id"),
    src: str = typer.Option(..., "--from", help="threat launch point LAT,LON [deg]"),
    dst: str = typer.Option(..., "--to", help="threat aim point LAT,LON [deg]"),
    cue_delay_s: float | None = _float_option(None, "--cue-delay-s",
                                                 "fixed delay from the threat's launch until the battery is cued "
                                                 "[s] instead of sensors", 0.0, 3600.0, "s"),
    sensors: str | None = typer.Option(None, "--sensors", metavar="SCENARIO",
                                          help="take the cue from this scenario's (or preset's) sensors: the first "
                                               "system expected to confirm a track on the trajectory, its "
                                               "satellites' launch reports alerting the battery (its own "
                                               "catalog entries stand for the built-in ones of the same id)"),
    profile: str = typer.Option("min-energy", "--profile", help=PROFILE_HELP),
    burnout_speed_kms: float | None = _float_option(None, "--burnout-speed-kms",
                                                       "override the catalogue burnout speed [km/s]", 0.01,
                                                       MAX_BURNOUT_SPEED_KMS,
                                                       "km/s"),  # the catalogue's and the scenario's bound
    as_json: bool = _json_option(),
    export: str | None = _EXPORT,
    export_to: Path | None = _EXPORT_TO,
    force: bool = typer.Option(False, "--force", help="replace existing --export-to files"),
) -> None:
    """Can INTERCEPTOR at --site catch that trajectory? The window, altitudes and closing
    speed — or the burnout speed it would need. The cue, by default: the battery's own
    radar (the interceptor's catalogue `radar`) at --site, facing the launch point, alerted
    by a geostationary early-warning satellite; or a scenario's sensors (--sensors), or a
    fixed delay (--cue-delay-s; 60 s where the interceptor has no radar of its own)."""
    from shieldlab import catalog
    from shieldlab.analysis.reach import DEFAULT_CUE_DELAY_S, analyse, cue_laydown
    from shieldlab.flyout import aim

    slat, slon = _latlon(site, "--site")
    lat0, lon0 = _latlon(src, "--from")
    lat1, lon1 = _latlon(dst, "--to")
    _check_profile(profile)
    if sensors is not None and cue_delay_s is not None:
        raise InputError("give --cue-delay-s or --sensors, not both: each sets the cue", field="--sensors")
    world = None
    if sensors is not None:
        try:
            world = _load_world(sensors)
        except InputError as e:
            if e.field is None and len(e.problems) == 1:  # not found, unreadable: say which option
                raise InputError(f"{sensors}: {e.message}" if sensors.strip() else e.message,
                                 field="--sensors") from None
            raise
        if not world.sensors:
            raise InputError(f"scenario {world.scenario.name!r} has no sensors to give the cue", field="--sensors")
    # the --sensors scenario's own catalogue entries take precedence, as in its runs
    own_i = {} if world is None else {e.id: e for e in world.scenario.catalog.interceptors}
    own_m = {} if world is None else {e.id: e for e in world.scenario.catalog.missiles}
    spec = own_i.get(interceptor) or _catalog_get(catalog.get_interceptor, interceptor, "INTERCEPTOR")
    m = own_m.get(missile) or _catalog_get(catalog.get_missile, missile, "--missile")
    target = _export_targets(export, export_to, force)
    _compile_note("reach", False)
    r = np.radians
    # by default the battery's own radar gives the cue, where the catalogue names one
    world, cue_source = cue_laydown(spec, r(slat), r(slon), m, r(lat0), r(lon0), r(lat1), r(lon1), cue_delay_s, world)
    try:
        res = analyse(spec, r(slat), r(slon), m, r(lat0), r(lon0), r(lat1), r(lon1),
                      DEFAULT_CUE_DELAY_S if cue_delay_s is None else cue_delay_s, profile,
                      None if burnout_speed_kms is None else 1e3 * burnout_speed_kms, sensors=world)
    except aim.AimError as e:
        raise InputError(str(e), field="--to") from None
    cue = res.cue
    untracked = cue is not None and cue.system is None  # no system expected to confirm a track to fire on
    cue_scenario = world.scenario.name if cue_source == "scenario" and world is not None else None
    out_d = {"interceptor": spec.id, "missile": m.id, "site_lat_deg": slat, "site_lon_deg": slon,
             "burnout_speed_kms": burnout_speed_kms or spec.burnout_speed_kms,
             "cue_source": cue_source,
             "cue_delay_s": None if cue is not None else (DEFAULT_CUE_DELAY_S if cue_delay_s is None else cue_delay_s),
             "cue": None if cue is None else {
                 "scenario": cue_scenario, "radar": spec.radar if cue_source == "own-radar" else None,
                 "satellite_lon_deg": lon0 if cue_source == "own-radar" else None,
                 "system": cue.system,
                 "time_s": None if not np.isfinite(cue.time_s) else round(cue.time_s, 1), "radars": list(cue.radars),
                 "per_system_s": {k: (None if not np.isfinite(v) else round(v, 1)) for k, v in cue.per_system.items()},
                 "per_radar_alone_s": {k: (None if not np.isfinite(v) else round(v, 1))
                                       for k, v in cue.per_radar.items()},
                 "launch_report_s": {k: (None if not np.isfinite(v) else round(v, 1))
                                     for k, v in cue.launch_reports.items()},
                 "launch_report_cues": cue.report_system,
                 "launch_report_passed_s": {k: (None if not np.isfinite(v) else round(v, 1))
                                            for k, v in cue.passed_s.items()},
                 "batteries_alerted_s": None if not np.isfinite(cue.alert_s) else round(cue.alert_s, 1)},
             "ready_s": None if not np.isfinite(res.t_ready) else res.t_ready, "feasible": res.feasible,
             "earliest": res.earliest, "latest": res.latest,
             "needed_burnout_speed_kms": res.needed_burnout_speed_kms,
             # where only the readiness is late: the latest it could be ready and still catch it
             "latest_ready_s": res.latest_ready_s,
             # why it cannot catch it: no track to fire on, ready too late, too slow (the speed it
             # would need), or no point of the path within its envelope at any speed
             "why_not": res.why_not,
             "threat": res.threat}
    note = _labelled_cue_note(world) if cue_source == "scenario" else None
    if note is not None:
        out_d["note"] = note
    if as_json:
        sys.stdout.write(json.dumps(out_d, indent=2) + "\n")
    else:
        _print_reach(spec, res, cue_source, lon0, cue_scenario, untracked, _heo_names(world),
                     out_d["cue_delay_s"])
        if note is not None:
            _print_line("note: " + note)
    if target is not None:  # after the verdict: the files' lines close the printout
        from shieldlab.io import export as X

        _export(target, X.reach_features(res, spec, r(slat), r(slon), m, r(lat0), r(lon0), r(lat1), r(lon1), profile,
                                         None if burnout_speed_kms is None else 1e3 * burnout_speed_kms),
                stderr=as_json)


def _print_reach(spec, res, cue_source: str, lon0: float, cue_scenario: str | None, untracked: bool,
                 heo: set[str] | None = None, cue_delay_s: float | None = None) -> None:
    """The printed verdict of ``reach``: the cue, the launch reports, and whether it can catch it
    (``cue_delay_s``: the fixed cue [s after launch] where there is no sensors' cue)."""
    from shieldlab.analysis.reach import DEFAULT_SATELLITE, OWN_SYSTEM

    cue = res.cue
    if cue_source == "own-radar":
        _print_line(f"cue (the default): {spec.id}'s own {spec.radar} at the site, facing the launch point, alerted "
                    f"by a {DEFAULT_SATELLITE} over {abs(lon0):.1f}° {'E' if lon0 >= 0 else 'W'} "
                    "(--sensors SCENARIO or --cue-delay-s S to change)")
    elif cue_source == "fixed-no-radar":
        _print_line(f"cue: {spec.id} has no radar of its own in the catalogue, so a fixed 60 s after launch "
                    "(--sensors SCENARIO to take it from a scenario's sensors, --cue-delay-s S to set it)")
    if cue is None and cue_delay_s is not None:  # a fixed cue: when the battery is ready, as the others say
        ready = f"ready at {res.t_ready:.1f} s (its reaction time, {spec.reaction_time_s:g} s, after the cue)"
        _print_line(ready if cue_source == "fixed-no-radar" else f"cue: {cue_delay_s:g} s after launch (fixed); "
                    + ready)
    if cue is not None:
        for sat, t_rep in cue.launch_reports.items():
            whose = cue.report_system.get(sat)
            whose = "the radars" if whose in (None, OWN_SYSTEM) else \
                "every system's radars" if whose == "every system" else f"{whose}'s radars"
            _print_line(f"launch report: {sat} " + (f"expected {t_rep:.1f} s after launch (it cues {whose})"
                                                    if np.isfinite(t_rep) else "does not see this launch")
                        + (_AT_EPOCH if sat in (heo or ()) else ""))
        for link, t_pass in cue.passed_s.items():
            if np.isfinite(t_pass):
                _print_line(f"launch report passed on over the link {link}: expected {t_pass:.1f} s after launch")
        if untracked:
            _print_line(Text.assemble((f"{spec.name} cannot catch it", "red"),
                                      (f": its own {spec.radar} is not" if cue_source == "own-radar" else
                                       f": no system of {cue_scenario!r} is")
                                      + " expected to confirm a track on this trajectory"))
            return
        alerted = np.isfinite(cue.alert_s) and cue.alert_s < cue.time_s
        if cue_source == "own-radar":
            _print_line(f"cue: its own radar's track expected {cue.time_s:.1f} s after launch; ready at "
                        f"{res.t_ready:.1f} s" + (f" (alerted by the launch report at {cue.alert_s:.1f} s, its "
                                                  "reaction running from then)" if alerted else ""))
        else:
            _print_sensor_cue(cue, res.t_ready, alerted)
    if res.feasible:
        first, last = res.earliest, res.latest
        assert first is not None and last is not None  # a feasible Reach has its window
        _print_line(Text.assemble((f"{spec.name} can catch it", "green"),
                                  f": window {first['time_s']:.0f}–{last['time_s']:.0f} s after launch, earliest "
                                  f"at {first['alt_km']:.0f} km altitude, closing at "
                                  f"{first['closing_speed_kms']:.1f} km/s"))
        _print_line(_reach_pk_text(spec, first, last))
    elif res.why_not == "too-late" and res.latest_ready_s is None:
        _print_line(Text.assemble((f"{spec.name} cannot catch it", "red"),
                                  f": the battery is ready {res.t_ready:.0f} s after launch, once the missile has "
                                  f"landed ({res.threat['time_of_flight_s']:.0f} s)"))
    elif res.why_not == "too-late":
        _print_line(Text.assemble((f"{spec.name} cannot catch it", "red"),
                                  f": the battery is ready {res.t_ready:.1f} s after launch, too late: ready by "
                                  f"{res.latest_ready_s:.1f} s it could"))
    else:
        need = res.needed_burnout_speed_kms
        # where its own speed would do, ready earlier: said too (a late cue read as a slow interceptor)
        sooner = (f" (or, at its own speed, to be ready by {res.latest_ready_s:.1f} s after launch: it is ready at "
                  f"{res.t_ready:.1f} s)" if res.latest_ready_s is not None else "")
        _print_line(Text.assemble((f"{spec.name} cannot catch it", "red"),
                                  f": it would need a burnout speed of "
                                  f"{math.ceil(need * 100 - 1e-9) / 100:.2f} km/s{sooner}" if need
                                  else ": no point of the path after the battery is ready is within its envelope "
                                       f"at any burnout speed up to {MAX_BURNOUT_SPEED_KMS:g} km/s"))


def _reach_pk_text(spec, first: dict, last: dict) -> str:
    """The kill probability of one interceptor at the ends of a reach's window, and why it is
    below the single-shot figure where it is (the end game beyond the catalogue's envelope)."""
    text = (f"kill probability (one interceptor): {first['pk']:.2f} at the earliest point, "
            f"{last['pk']:.2f} at the latest")
    if min(first["pk"], last["pk"]) < spec.sspk - 5e-4:
        why = [f"closing speed beyond {spec.max_closing_speed_kms:g} km/s"] if spec.max_closing_speed_kms else []
        why += [f"crossing angle beyond {spec.max_crossing_angle_deg:g}°"] if spec.max_crossing_angle_deg else []
        text += f" (sspk {spec.sspk:g}, less where the end game is outside its envelope: {' or '.join(why)})"
    return text


AIRCRAFT_ALT_KM = 10.0
AIRCRAFT_COUNTRY = "Syria"


# the grid options of the map commands
_REGION = typer.Option(None, "--region", metavar="NAME", help="named grid region: europe (lat 34..72, lon -12..45)")
_BBOX = typer.Option(None, "--bbox", metavar="BOX", help="grid box LAT_MIN,LAT_MAX,LON_MIN,LON_MAX [deg]")
_STEP_DEG = _float_option(None, "--step-deg", "grid step [deg] (default 0.25 with --region, else about 160 nodes "
                                              "along the box's longer side, the command's own box or --bbox's: "
                                              "the step rounded up to a multiple of 0.05 (coverage: of 0.01 on a "
                                              "box under 8 deg), so 80 to 162 nodes on most boxes, fewer on a "
                                              "small one)", 0.01, 10.0, "deg")


def _map_targets_and_grid(scenario: str, out_png, json_out, force: bool, region, bbox, step_deg,
                          box_step: Callable[[tuple[float, float, float, float]], float]):
    """Check a map command's output files (``--out``, ``--json-out``: formats, existing files,
    not the scenario, not each other) and build its grid from ``--region`` or ``--bbox`` (None:
    the command's own default grid).  ``box_step``: the command's automatic step of a box
    (lat0, lat1, lon0, lon1) [deg], a ``--bbox``'s where no ``--step-deg`` is given, as its own
    box's (a 1-degree box at 0.25 deg was 5 x 5 nodes for a 135 km radar)."""
    from shieldlab.analysis import footprint as fpm
    from shieldlab.analysis import maps
    from shieldlab.io.atomic import check_target

    scenario_file = Path(scenario).resolve() if Path(scenario).is_file() else None
    targets = {}
    if out_png is not None:
        maps.map_format(out_png, "--out")
        targets["--out"] = out_png
    if json_out is not None:
        targets["--json-out"] = json_out
    for flag, path in targets.items():
        check_target(path, flag, force=force, keep=[p for p in (scenario_file,) if p is not None])
    if len(targets) == 2 and Path(out_png).resolve() == Path(json_out).resolve():
        raise InputError("is the same file as --out: give two files", field="--json-out")
    if region is not None and bbox is not None:
        raise InputError("give --region or --bbox, not both", field="--bbox")
    if region is not None:
        return _two_a_side(fpm.region_grid(region, step_deg or _BOX_STEP_DEG), "--region", step_deg)
    if bbox is not None:
        box = _bbox(bbox)
        return _two_a_side(fpm.make_grid(*box, step_deg or box_step(box)), "--bbox", step_deg)
    return None


def _box_edge_note(what: str, figures: str, given: bool) -> str:
    """The line a map command prints where ``what`` it maps reaches the edge of its box: its
    ``figures`` are then of the box alone; ``given``: the box was the user's (``--bbox``,
    ``--region``), not the command's own."""
    wider = "a wider --bbox or --region, or none, maps it whole" if given else \
        "a --bbox or --region round all of it maps it whole"
    return f"the {what} reaches the edge of the map's box: the {figures} above are of the box alone ({wider})"


#: The step of a --region grid where no --step-deg is given [deg].
_BOX_STEP_DEG = 0.25


def _two_a_side(grid, box: str, step_deg: float | None):
    """``grid`` if it has at least two nodes along each side (a map of one node has no step);
    the error names ``--step-deg`` where one was given, else the box (``box``: its option)."""
    if min(grid.shape) < 2:
        if step_deg is not None:
            raise InputError(f"leaves {grid.shape[0]} x {grid.shape[1]} grid nodes in the {box} box: at least 2 a "
                             "side are needed; give a smaller step", field="--step-deg")
        raise InputError(f"holds {grid.shape[0]} x {grid.shape[1]} grid nodes at the default step of "
                         f"{_BOX_STEP_DEG:g}°: at least 2 a side are needed; give a larger box or a smaller "
                         "--step-deg", field=box)
    return grid


def _bbox(text: str) -> tuple[float, float, float, float]:
    try:
        lat0, lat1, lon0, lon1 = (float(x) for x in text.split(","))
    except ValueError:
        raise InputError(f"expected LAT_MIN,LAT_MAX,LON_MIN,LON_MAX in degrees, got {text!r}", field="--bbox") from None
    return lat0, lat1, lon0, lon1


@app.command(cls=_Command)
@_guard
def footprint(
    scenario: str = typer.Argument(..., help="scenario YAML file or preset name", metavar="SCENARIO"),
    out_png: Path | None = typer.Option(None, "--out", parser=_path, metavar="MAP",
                                        help="write the map here: .png, .svg or .pdf"),
    as_json: bool = _json_option("the grid and summary as JSON"),
    json_out: Path | None = typer.Option(None, "--json-out", parser=_path, metavar="FILE",
                                            help="write the JSON here instead of stdout"),
    force: bool = typer.Option(False, "--force", help="replace existing --out / --json-out files"),
    site: list[str] | None = typer.Option(None, "--site", metavar="NAME",
                                             help="only this launch site (name, launch place or missile id); "
                                                  "repeatable"),
    region: str | None = _REGION,
    bbox: str | None = _BBOX,
    step_deg: float | None = _STEP_DEG,
    cue_delay_s: float | None = _float_option(None, "--cue-delay-s", "fixed launch-to-cue delay [s] instead of "
                                                                        "the scenario's sensors", 0.0, 3600.0, "s"),
    aircraft: bool = typer.Option(False, "--aircraft", help="map the batteries' reach against aircraft instead"),
    alt_km: float | None = _float_option(None, "--alt-km", f"with --aircraft: aircraft altitude [km] "
                                                              f"[default: {AIRCRAFT_ALT_KM:g}]", 0.0, 30.0, "km",
                                            lo_open=True),
    country: str | None = typer.Option(None, "--country", metavar="NAME",
                                          help="with --aircraft: report the reach past the border into this country "
                                               f"(Natural Earth name) [default: {AIRCRAFT_COUNTRY}]"),
    export: str | None = _EXPORT,
    export_to: Path | None = _EXPORT_TO_MAP,
    quiet: bool = _QUIET,
) -> None:
    """Map the ground a scenario's batteries defend against each launch site (probability of
    intercept under its doctrine), or with --aircraft their reach against aircraft."""
    from shieldlab.analysis import footprint as fpm
    from shieldlab.analysis import maps

    if as_json and quiet:
        raise InputError("give --json or --quiet, not both", field="--quiet")
    _one_json_target(as_json, json_out)
    if aircraft:
        # `is not None`, not truth: --cue-delay-s 0 is given too
        for flag, given in (("--site", bool(site)), ("--cue-delay-s", cue_delay_s is not None)):
            if given:
                raise InputError("applies to the ballistic footprint, not with --aircraft", field=flag)
        if step_deg is not None and region is None and bbox is None:
            raise InputError("with --aircraft sets the step of a --region or --bbox grid: give one",
                             field="--step-deg")
    else:
        for flag, opt in (("--alt-km", alt_km), ("--country", country)):
            if opt is not None:
                raise InputError("applies only with --aircraft", field=flag)
    grid = _map_targets_and_grid(scenario, out_png, json_out, force, region, bbox, step_deg, fpm.auto_step)
    target = _export_targets(export, export_to, force, default=None if out_png is None else out_png.with_suffix(""),
                             taken={"--out": out_png, "--json-out": json_out})
    world = _load_world(scenario)
    _compile_note("footprint", quiet)
    if aircraft:
        alt_km = AIRCRAFT_ALT_KM if alt_km is None else alt_km
        boxed = region is not None or bbox is not None  # (the areas are then the box's part alone)
        res = fpm.aircraft_reach(world, alt_km, grid=grid, focus=AIRCRAFT_COUNTRY if country is None else country,
                                 clip_to_grid=boxed)
        payload = fpm.aircraft_json(res)
        if out_png is not None:
            maps.aircraft_map(res, out_png)
        # the files first, their "wrote" lines after the table (as the ballistic footprint's)
        wrote = _write_map_files(target, "aircraft_features", res, lambda: payload, as_json, json_out, quiet)
        if not (as_json or quiet):
            t = Table(title=f"{res.scenario}: reach against aircraft at {alt_km:g} km"
                            + (f" into {res.focus}" if res.focus else ""))
            for col in ("battery", "interceptor", "reach km", "limited by", f"area in {res.focus} km²",
                        "past border km"):
                t.add_column(col, justify="left" if col in ("battery", "interceptor", "limited by") else "right")
            for b in res.batteries:
                lim = min(b["limits"], key=b["limits"].get)
                t.add_row(b["name"], b["interceptor"], f"{b['reach_km']:.0f}", lim.replace("_km", "").replace("_", " "),
                          f"{b.get('area_in_focus_km2', 0):,.0f}",
                          "—" if b.get("depth_km") is None else f"{b['depth_km']:.0f}")
            _print_table(t)
            if res.left_out:
                _print_line("left out: " + ", ".join(f"{n} ({i})" for n, i in res.left_out)
                            + ": no range against aircraft in the catalogue (aircraft_max_range_km): "
                            + ("it engages" if len(res.left_out) == 1 else "they engage") + " ballistic missiles only")
            if res.focus and not res.focus_area_km2:
                # the default country is the 2013 question's: elsewhere say so, not "0 km² of Syria"
                _print_line(f"no battery reaches into {res.focus}" + (" inside the box (areas are the box's alone)"
                                                                       if boxed else "") + (
                    " (the default --country): give --country NAME for the reach past another border"
                    if country is None and not boxed else ""))
            elif res.focus:
                _print_line(f"together: {res.focus_area_km2:,.0f} km² of {res.focus} within reach, up to "
                            f"{payload['max_depth_km'] or 0:.0f} km past the {res.home or '?'}–{res.focus} border")
            _say_wrote(wrote + ([out_png] if out_png is not None else []))
        return
    automatic = grid is None  # the box the scenario's batteries and missiles set, grown to what they defend
    if grid is None and step_deg is not None:  # the automatic box at this step: two nodes a side at least
        _two_a_side(fpm.auto_grid(world, step_deg, sites=fpm.launch_sites(world, site or None)), "automatic",
                    step_deg)
    fp = fpm.compute(world, grid=grid, site_names=site or None, cue_delay_s=cue_delay_s, step_deg=step_deg)
    if out_png is not None:
        maps.footprint_map(fp, out_png)

    note = _labelled_cue_note(world) if fp.cue == "sensors" else None
    wrote = _write_map_files(target, "footprint_features", fp,
                             lambda: {**fpm.to_json(fp), **({"note": note} if note else {})}, as_json, json_out, quiet)
    if not (as_json or quiet):
        cell = fp.grid.cell_area_km2()
        t = Table(title=f"{fp.scenario}: defended footprint ({fp.grid.shape[0]} x {fp.grid.shape[1]} grid, "
                        f"step {fp.grid.step_deg:g}°, cue: {_cue_words(fp.cue)})")
        for col in ("launch site", "threats", "in reach km²", "defended km²", "share", "mean P(intercept)"):
            t.add_column(col, justify="left" if col in ("launch site", "threats") else "right")
        for s in fp.sites:
            thr, dfd = cell[s.threatened].sum(), cell[s.defended].sum()
            # a mean over no defended cell is no number (it printed 0.00)
            p = f"{float(np.nanmean(s.p_intercept[s.defended])):.2f}" if s.defended.any() else "—"
            t.add_row(s.site.name, ", ".join(s.site.threats), f"{thr:,.0f}", f"{dfd:,.0f}",
                      f"{dfd / thr:.0%}" if thr else "—", p)
        _print_table(t)
        if automatic and any(s.threatened.any() for s in fp.sites):
            # the share is of the map's cells: a wider box adds reached, undefended ground
            _print_line("in reach: of the map's cells (the batteries' reach inside the missiles' range, grown to "
                        "take in all the ground they defend); --region or --bbox for another box")
        if any(s.defended.any() for s in fp.sites):
            # (a Redzikowo patch at 0.96 beside run's 0.000 at the same shots read as a contradiction)
            _print_line("mean P(intercept): over the defended cells, the kinematic best case (one threat, a "
                        "perfect track once one is confirmed, engaged without threat evaluation); `shieldlab "
                        "run` flies the whole chain")
        if fp.cut_at_box_edge():
            _print_line(_box_edge_note("defended ground", "areas", fp.grid_given))
        if not any(s.threatened.any() for s in fp.sites):
            _print_line("no launch site's threats reach any cell of the map: the grid lies beyond their range "
                        "(give a --region or --bbox around their targets, or none for the scenario's own)")
        for k, s in enumerate(fp.sites):
            ft = fp.first_track(k)
            if ft is not None:
                # two shares of two sets of cells: of those with a track (a choice only among two
                # systems or more), of those the threats reach
                among = "" if len({r["system"] for r in fp.sensors}) < 2 else \
                    f", first in {ft['share_of_cells']:.0%} of the cells where any system confirms a track"
                radars = ft["radars"]
                if ft["first_radar"] is None:  # only their detections together confirm it
                    by = f" (its radars together, none alone: {', '.join(radars)})"
                elif len(radars) == 1:
                    by = f" (its radar {ft['first_radar']})"
                else:  # which radar gives the track: the one that alone would confirm it first
                    by = (f", led by its radar {ft['first_radar']} (alone, the first to confirm in "
                          f"{ft['first_radar_share']:.0%} of the system's cells; its radars: {', '.join(radars)})")
                # (the JSON's tenths as they are: a median of 74.5 s read "74 s")
                _print_line(f"first track against {s.site.name}: the system {ft['system']}{by}{among}, "
                            f"{ft['median_s']:g} s after launch "
                            f"(median; 10–90 %: {ft['p10_s']:g}–{ft['p90_s']:g} s)"
                            + ("" if ft["cued_share_of_threatened"] >= 0.995 else
                               f"; no system is expected to confirm a track in "
                               f"{_share_pct(1 - ft['cued_share_of_threatened'])} of the cells the site's threats "
                               "reach"))
            elif fp.cue == "sensors" and s.threatened.any():
                _print_line(f"first track against {s.site.name}: no system is expected to confirm one")
        if note is not None:
            _print_line("note: " + note)
        heo_names = _heo_names(world)
        for sat in fp.early_warning:  # where the alerts come from (their reports cue and alert)
            whose = "every node's radars and batteries" if sat["system"] == "every" else \
                f"node {sat['system']}'s radars and batteries"
            to = sat["passed_to"]
            over = f", and over the link{'s' if len(to) > 1 else ''} those of {', '.join(to)}" if to else ""
            seen = sat.get("reports_sites", [])
            if not seen:
                _print_line(f"launch reports of {sat['name']}: none expected (it sees no launch of "
                            f"{', '.join(s.site.name for s in fp.sites)} in time to report it)")
                continue
            missed = [s.site.name for s in fp.sites if s.site.name not in seen]
            _print_line(f"launch reports of {sat['name']}: they cue and alert {whose}{over}"
                        + (f" (none expected from {', '.join(missed)})" if missed else "")
                        + (_AT_EPOCH if sat["name"] in heo_names else ""))
        _print_line(f"defended against every launch site that reaches it: {fp.defended_area_km2():,.0f} km²  ·  "
                    f"took {fp.timing_s['total']:.1f} s")
        pop = fpm.defended_population(fp)
        _print_line(f"in the towns and cities inside it: {pop.text(5)}")
        _print_line(f"  (GeoNames places of 15,000+ whose point is in a defended cell, of {fp.grid.step_deg:g}° "
                    f"(~{111.2 * fp.grid.step_deg:,.0f} km): a place near the defended edge counts as its cell does "
                    "(a finer --step-deg settles it); rural people and smaller "
                    "places not counted; figures mix city, municipality and metropolitan counts, and a section of a "
                    "city that GeoNames lists apart (and the list of sections misses) counts again: an upper "
                    "bound on the towns' people, not a census)")
        _say_wrote(wrote + ([out_png] if out_png is not None else []))


@app.command(cls=_Command)
@_guard
def coverage(
    scenario: str = typer.Argument(..., help="scenario YAML file or preset name", metavar="SCENARIO"),
    alt_km: float | None = _float_option(None, "--alt-km", "target altitude above the WGS84 ellipsoid [km] "
                                         "(default: the threats' lowest apogee, at most 100 km, as the run's "
                                         "report maps it; 100 km without threats)", 0.0, 5000.0, "km"),
    rcs_m2: float | None = _float_option(None, "--rcs-m2", "target radar cross-section [m²] (default: the "
                                                              "smallest among the scenario's threats, else each "
                                                              "radar's reference RCS)", 0.0, 1e6, "m²",
                                            lo_open=True),
    missile: str | None = typer.Option(None, "--missile", metavar="ID",
                                          help="take the RCS of this catalogue missile instead"),
    region: str | None = _REGION,
    bbox: str | None = _BBOX,
    step_deg: float | None = _STEP_DEG,
    out_png: Path | None = typer.Option(None, "--out", parser=_path, metavar="MAP",
                                        help="write the map here: .png, .svg or .pdf"),
    as_json: bool = _json_option("the grid and summary as JSON"),
    json_out: Path | None = typer.Option(None, "--json-out", parser=_path, metavar="FILE",
                                            help="write the JSON here instead of stdout"),
    force: bool = typer.Option(False, "--force", help="replace existing --out / --json-out files"),
    export: str | None = _EXPORT,
    export_to: Path | None = _EXPORT_TO_MAP,
    quiet: bool = _QUIET,
    settings: list[str] | None = _SET,
) -> None:
    """Map where each of a scenario's radars detects a target at one altitude (field of
    regard through the scenario's refraction, Pd = 0.5 range for the target's RCS), over country borders."""
    from shieldlab import catalog
    from shieldlab.analysis import coverage as cvm
    from shieldlab.analysis import maps

    if as_json and quiet:
        raise InputError("give --json or --quiet, not both", field="--quiet")
    _one_json_target(as_json, json_out)
    if rcs_m2 is not None and missile is not None:
        raise InputError("give --rcs-m2 or --missile, not both", field="--missile")
    m = _catalog_get(catalog.get_missile, missile, "--missile") if missile is not None else None
    grid = _map_targets_and_grid(scenario, out_png, json_out, force, region, bbox, step_deg,
                                 lambda b: cvm.step_for(max(b[1] - b[0], b[3] - b[2])))
    target = _export_targets(export, export_to, force, default=None if out_png is None else out_png.with_suffix(""),
                             taken={"--out": out_png, "--json-out": json_out})
    parsed = _one_value_settings(settings or [])
    world = _load_world(scenario, parsed)
    _compile_note("coverage", quiet)
    chosen, unflown, lowest_km = alt_km is None, None, np.inf
    if alt_km is None:  # the height the run's report maps: where the threats fly (a Scud's top is 73 km)
        from shieldlab.engine.chain import fly_threats

        try:
            apogees = fly_threats(world).truth.apogee_alt if world.threats else None
            alt_km = cvm.threat_alt_km(apogees)
            lowest_km = cvm.lowest_apogee_km(apogees) or np.inf
        except InputError as e:  # a threat that cannot be flown: the map needs no flight
            alt_km, unflown = cvm.DEFAULT_ALT_KM, e.message
    cov = cvm.compute(world, alt_km, rcs_m2=rcs_m2, missile=m, grid=grid, step_deg=step_deg)
    shown = _set_text(_with_set({"scenario": cov.scenario}, parsed, world))  # " (set field=value)" or ""
    if out_png is not None:
        maps.coverage_map(dataclasses.replace(cov, scenario=cov.scenario + shown), out_png)

    wrote = _write_map_files(target, "coverage_features", cov,
                             lambda: _with_set(cvm.to_json(cov), parsed, world), as_json, json_out, quiet)
    if as_json or quiet:
        return
    g = cov.grid
    t = Table(title=f"{cov.scenario}{shown}: radar coverage of a target at {cov.alt_km:g} km "
                    f"({g.shape[0]} x {g.shape[1]} grid, step {g.step_deg:.4g}°)")
    per_radar_rcs = cov.rcs_m2 is None
    cols = ["radar", "type", "system"] + (["RCS m²"] if per_radar_rcs else []) + ["detection km", "farthest km",
                                                                                 "covered km²"]
    for col in cols:
        # every column folds (rich folds a column whose overflow is None: the numbers always did)
        t.add_column(col, justify="left" if col in ("radar", "type", "system") else "right", overflow="fold")
    for r in cov.radars:
        t.add_row(r.name, r.sensor, r.system, *([f"{r.rcs_m2:g}"] if per_radar_rcs else []),
                  f"{r.detection_range_km:,.0f}", f"{r.farthest_km:,.0f}", f"{r.area_km2:,.0f}")
    _print_table(t)
    _print_line(f"target: {cvm.rcs_text(cov)}  ·  Pd = 0.5 single look, {cvm.propagation_text(cov)}")
    if chosen:
        why = f"the threats' lowest apogee ({lowest_km:,.1f} km) to the whole km" \
            if lowest_km < cvm.DEFAULT_ALT_KM + 0.5 else \
            f"the default (the threats could not be flown: {unflown})" if unflown else \
            "the default, below every threat's apogee" if world.threats else "the default, with no threats"
        _print_line(f"at {cov.alt_km:g} km: {why} (--alt-km for another height)")
    _print_line(f"seen by at least one radar: {cov.union_area_km2:,.0f} km²  ·  took {cov.timing_s['total']:.1f} s")
    if cov.grid.at_edge(cov.union):
        _print_line(_box_edge_note("coverage", "areas and farthest ranges", grid is not None))
    blind = [r for r in cov.radars if r.area_km2 < 0.5]  # rows that print 0 km², where others see the target
    if blind and cov.union_area_km2 >= 0.5:
        short = [r.name for r in blind if r.detection_range_km < cov.alt_km]
        other = [r.name for r in blind if r.detection_range_km >= cov.alt_km]
        if short:
            _print_line(f"{', '.join(short)}: nothing covered: the detection range is short of the target's "
                        f"{cov.alt_km:g} km height")
        if other:
            _print_line(f"{', '.join(other)}: nothing covered in this map (the field of regard, the horizon or the "
                        "grid's spacing)")
    if cov.union_area_km2 < 0.5 and cov.radars:  # prints as 0 km²
        reach = max(r.detection_range_km for r in cov.radars)
        if reach < cov.alt_km:
            _print_line(f"no radar sees a target at {cov.alt_km:g} km: the longest detection range, {reach:,.0f} "
                        "km, is short of the target's height; a lower --alt-km maps aircraft, cruise missiles and "
                        "a missile's last seconds")
        elif _seen_between_nodes(world, cov, rcs_m2, m):
            _print_line(f"no grid node is seen: the nodes, {cov.grid.step_deg * 111.2:,.0f} km apart, are too "
                        f"sparse for a coverage reaching {reach:,.0f} km at most; a finer --step-deg maps it")
        else:
            # each radar's own reason: a range short of the height, or a field of regard (or the
            # horizon) that misses the map (at 5,000 km the SPY-1s' 598 km were said to miss it)
            short = [r.name for r in cov.radars if r.detection_range_km < cov.alt_km]
            why = "their fields of regard miss it" if not short else (
                f"{', '.join(short)}: the detection range is short of its height; the others' fields of regard "
                "miss it")
            _print_line(f"no radar sees a target at {cov.alt_km:g} km inside this map: {why}"
                        + (" (a wider --bbox or --region, or none, maps where they reach)" if grid is not None else ""))
    _say_wrote(wrote + ([out_png] if out_png is not None else []))


def _seen_between_nodes(world, cov, rcs_m2, missile) -> bool:
    """Whether a radar of ``cov`` sees the target somewhere in the map's box between its nodes:
    the coverage again on a grid up to eight times finer (at most ~2 million nodes), through
    the radars' own fields of regard and ranges."""
    from shieldlab.analysis import coverage as cvm
    from shieldlab.analysis.footprint import Grid

    g = cov.grid
    f = int(max(2, min(8, math.sqrt(2e6 / max(g.lat_deg.size * g.lon_deg.size, 1)))))
    step = g.step_deg / f if g.lat_deg.size > 1 else float(g.lon_deg[1] - g.lon_deg[0]) / f
    fine = Grid(np.arange(g.lat_deg[0], g.lat_deg[-1] + 1e-9, step),
                np.arange(g.lon_deg[0], g.lon_deg[-1] + 1e-9, step))
    return bool(cvm.compute(world, cov.alt_km, rcs_m2=rcs_m2, missile=missile, grid=fine).union.any())


# --- tracks ----------------------------------------------------------------------------------------

def _false_alarms(text: str | None):
    if text is None:
        return None
    if text in ("confirmed", "raw"):
        return text
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    from shieldlab.scenario.schema import MAX_FALSE_ALARMS

    if not (0.0 <= v <= MAX_FALSE_ALARMS):
        raise InputError(f"must be confirmed, raw or a number of false alarms per search frame in "
                         f"[0, {MAX_FALSE_ALARMS:g}], "
                         f"not {text!r}", field="--false-alarms")
    return v


@app.command(cls=_Command)
@_guard
def tracks(
    scenario: str = typer.Argument(..., help="scenario YAML file or preset name", metavar="SCENARIO"),
    runs: int = typer.Option(16, "--runs", min=1, max=MAX_RUNS, help="Monte Carlo runs"),
    seed: int = typer.Option(1, "--seed", min=0, help="random seed: same seed, same numbers (and the same "
                                                       "threat reports as shieldlab run)"),
    false_alarms: str | None = typer.Option(None, "--false-alarms", metavar="MODE",
                                               help="confirmed, raw or a mean number per search frame "
                                                    "[default: the scenario's sensing.false_alarms]"),
    as_json: bool = _json_option("the summary as JSON"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors"),
    out: Path | None = typer.Option(None, "--out", parser=_path, metavar="FILE.parquet",
                                   help="write one row per confirmed track (run, picture, track number, the object "
                                        "it followed, when it started, was confirmed, took its last report and "
                                        "ended, its reports, purity and radars) to this Parquet file"),
    force: bool = typer.Option(False, "--force", help="replace an existing --out file"),
    settings: list[str] | None = _SET,
) -> None:
    """Track a scenario's objects from reports without labels (threats, spent boosters, false
    alarms): gating, global-nearest-neighbour association, M-of-N confirmation, deletion;
    print the track quality of each picture (no engagements are fought)."""
    from shieldlab.engine.tracks import track_runs
    from shieldlab.io.atomic import check_target

    if as_json and quiet:
        raise InputError("give --json or --quiet, not both", field="--quiet")
    if force and out is None:
        raise InputError("replaces the --out file: give --out", field="--force")
    fa = _false_alarms(false_alarms)  # (the options' own problems before the file's: --force hid them)
    if out is not None:
        # the name's kind first: --force would only have led to this refusal
        if out.suffix.lower() != ".parquet":  # (".parquet" alone is a hidden file without a suffix)
            raise InputError(f"{out}: the track table is Parquet; give a file name ending in .parquet", field="--out")
        check_target(out, "--out", force=force)
    parsed = _one_value_settings(settings)
    world = _load_world(scenario, parsed)
    from shieldlab.engine.chain import require_threats

    require_threats(world)
    if not world.sensors:  # nothing would report: an empty table said nothing of why
        raise InputError("the scenario has no radars, so nothing reports to be tracked", source=world.source,
                         field="sensors")
    from shieldlab.tracking.mtt import unsupported_filter

    why = unsupported_filter(world.scenario.tracking.filter)  # before the compile note, naming the file
    if why is not None:
        raise InputError(why, source=world.source, field="tracking.filter")
    _compile_note("tracks", quiet or as_json)
    with _progress(runs, enabled=not (quiet or as_json)) as progress:
        res = track_runs(world, runs, seed, fa, progress=progress, keep_tracks=out is not None)
    summ = _with_set(res.summary(), parsed, world)
    if out is not None:
        from shieldlab import __version__
        from shieldlab.io.output import write_parquet
        from shieldlab.outcome.track_table import DESCRIPTIONS, empty_rows

        # (the tracker's own settings: the multi-target tracker's, whatever the scenario's)
        made = _with_set({"scenario": world.scenario.name}, parsed, world) | {
            "runs": runs, "seed": seed, "tracking": summ.get("tracking"), "false_alarms": summ.get("false_alarms"),
            "false_alarms_per_search_frame": summ.get("false_alarms_per_search_frame"), "shieldlab": __version__}
        # what made the file and what its columns hold, in the file itself (a query of it has no summary)
        write_parquet(res.tracks if res.tracks is not None else empty_rows(), out,
                      metadata={"shieldlab.made_by": json.dumps(made, default=str),
                                "shieldlab.columns": json.dumps(DESCRIPTIONS)})
    if as_json:
        if out is not None:  # (as the map commands: stdout holds the JSON alone)
            _err().print(f"wrote {out} (one row per confirmed track)", soft_wrap=True)
        sys.stdout.write(json.dumps(summ, separators=(",", ":")) + "\n")
        return
    if quiet:
        return

    def f(v, scale=1.0, fmt="{:,.0f}"):
        return "—" if v is None else fmt.format(v / scale)

    t = Table(title=f"{world.scenario.name}{_set_text(summ)}: multi-target track quality "
                    f"({summ['tracking']['filter'].upper()} "
                    f"tracks), {_plural(runs, 'run')} "
                    f"(means over runs; GOSPA c = 5 km over threats and boosters)")
    for col in ("picture", "GOSPA km", "localisation m", "missed", "false/surplus", "position RMSE m",
                "velocity RMSE m/s", "NEES", "NEES > χ² 99 %", "breaks/run", "false tracks/h", "booster tracks/run",
                "purity", "first firm track s"):
        t.add_column(col, justify="left" if col == "picture" else "right", overflow="fold")
    for name, q in summ["pictures"].items():
        t.add_row(name, f(q["gospa_m"], 1e3, "{:.2f}"), f(q["localisation_m"]), f(q["missed_targets"], fmt="{:.2f}"),
                  f(q["false_tracks"], fmt="{:.2f}"), f(q["position_rmse_m"]), f(q["velocity_rmse_ms"]),
                  f(q["mean_nees"], fmt="{:,.1f}"), f(q["nees_over_99"], fmt="{:.2%}"),
                  f(q["track_breaks"], fmt="{:.1f}"), f(q["false_tracks_per_hour"], fmt="{:.1f}"),
                  f(q["booster_tracks"], fmt="{:.1f}"), f(q["purity"], fmt="{:.1%}"),
                  f(q["median_time_to_firm_track_s"], fmt="{:.0f}"))
    _print_table(t)
    cfg = world.scenario.tracking
    for name, q in summ["pictures"].items():
        if not q["threats_tracked"]:  # a firm track is the whole point: say what withholds it
            _print_line(f"{name}: no threat got a firm track in any run. A track is confirmed on "
                        f"{cfg.init_hits} reports in its first {cfg.confirm_looks} looks once its velocity "
                        f"is known to {cfg.confirm_sigma_v_ms:g} m/s (tracking.init_hits, confirm_looks, "
                        f"confirm_sigma_v_ms); its radars may not see the threats either (shieldlab coverage)")
    note = _nees_note(summ["pictures"])
    if note:
        _print_line(note)
    _print_line(_false_alarm_text(summ["false_alarms"], summ["false_alarms_per_search_frame"]))
    _print_line(_management_text(summ["tracking"]))
    if summ["tracking"]["init_hits"] == 1:
        _print_line(_one_report_note("tracking.init_hits 1"))
    _print_line(f"took {res.timings['total_s']:.1f} s")
    if out is not None:  # after the table, as run and the map commands say what they wrote
        _say_wrote([f"{out} (one row per confirmed track)"])


def _write_map_files(target, features: str, result, payload, as_json: bool, json_out: Path | None,
                     quiet: bool) -> list:
    """A map command's exports (``shieldlab.io.export.<features>(result)`` where ``target``
    asks) and its JSON (``payload()``: to ``json_out``, or stdout with ``as_json``), written
    before the table is printed (a closed stdout then loses no file); returns the paths
    written, for :func:`_say_wrote` after the table (at once on stderr with ``as_json``)."""
    from shieldlab.io.atomic import write_text

    written: list = []
    if target is not None:
        from shieldlab.io import export as X

        written += list(X.write(getattr(X, features)(result), target[1], target[0]))
    if json_out is not None:
        write_text(json_out, json.dumps(payload(), separators=(",", ":")) + "\n")
        written.append(json_out)
    elif as_json:
        sys.stdout.write(json.dumps(payload(), separators=(",", ":")) + "\n")
    if as_json and not quiet:
        for p in written:
            _err().print(f"wrote {p}", soft_wrap=True)
    return written


def _say_wrote(paths) -> None:
    for p in paths:  # (a path is never wrapped)
        out.print(f"wrote {p}", soft_wrap=True)


@app.command(cls=_Command)
@_guard
def presets(name: str | None = typer.Argument(None, metavar="[NAME]",
                                             help="print this preset's YAML (to copy and edit) instead"),
            as_json: bool = _json_option()) -> None:
    """List the built-in scenarios, or print one's YAML: `shieldlab presets NAME > my.yaml`."""
    from shieldlab.scenario.loader import load, preset_names, preset_text

    if name is not None:
        if as_json:
            raise InputError("prints the YAML file; give it without --json", field="--json")
        try:
            sys.stdout.write(preset_text(name))
        except KeyError:
            raise InputError(f"unknown preset {name!r} (known: {', '.join(preset_names())})", field="NAME") from None
        return
    rows = [{"name": n, "description": load(n).description.strip().split("\n")[0]} for n in preset_names()]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    t = Table(title="presets")
    t.add_column("name", no_wrap=True)
    t.add_column("description", max_width=76)  # wrapped in its cell, a pipe's table too (it was ~1,100 wide)
    for r in rows:
        t.add_row(r["name"], r["description"])
    _print_table(t)


@app.command(cls=_Command)
@_guard
def validate(scenario: str = typer.Argument(..., help="scenario YAML file or preset name", metavar="SCENARIO"),
             runs: int = typer.Option(DEFAULT_RUNS, "--runs", min=1, max=MAX_RUNS,
                                      help="check that this many runs fit in memory"),
             as_json: bool = _json_option("the checks as JSON"), settings: list[str] | None = _SET) -> None:
    """Check a scenario as `run` would before simulating: schema, references, catalogue ids,
    the steering of every threat, the duration and the memory.  Exit 0 if valid, 2 if not."""
    try:
        _validate(scenario, runs, as_json, settings)
    except InputError as e:
        if as_json:  # a script reads the verdict on stdout either way; the lines still go to stderr
            try:  # the settings as given, as a valid scenario's JSON has them (a --set that is no setting: none)
                given = {st.field: st.values[0] if not isinstance(st.values[0], float) or math.isfinite(st.values[0])
                         else st.typed(st.values[0]) for st in _one_value_settings(settings)}  # (JSON has no NaN)
            except InputError:
                given = {}
            sys.stdout.write(json.dumps({"scenario": scenario, **({"set": given} if given else {}), "valid": False,
                                         "source": e.source,
                                         "errors": [{"field": f, "message": m} for f, m in e.problems]},
                                        indent=2, default=str) + "\n")
        raise


def _validate(scenario: str, runs: int, as_json: bool, settings: list[str] | None) -> None:
    from shieldlab.engine.chain import chunk_runs, estimate_memory_bytes, preflight
    from shieldlab.io.summary import tracking_settings

    parsed = _one_value_settings(settings)
    world = _load_world(scenario, parsed)
    _compile_note("flyout", False)
    info = _with_set({"scenario": world.scenario.name}, parsed, world) | {"valid": True, "sensors": len(world.sensors),
            "early_warning": len(world.early_warning), "batteries": len(world.batteries),
            "threats": len(world.threats), "assets": len(world.assets), "flight_entries": len(world.scenario.flights),
            "fire_missions": 0 if world.shelling is None else len(world.shelling.missions),
            "locating_radars": 0 if world.shelling is None else len(world.shelling.radars)}
    mem, chunk = 0, None  # no ballistic threats: no chunks of the kill chain
    if world.threats:
        flights = _named_by_settings(scenario, parsed, world, lambda w: preflight(w, runs))
        mem = estimate_memory_bytes(world, runs, flights)
        chunk = min(runs, chunk_runs(world, flights))
    info.update(runs=runs, memory_bytes=int(mem), runs_per_chunk=chunk, tracking=tracking_settings(world),
                notes=_scenario_notes(world) + (_blind_satellite_notes(world, flights.truth) if world.threats else []))
    if world.flights:
        from shieldlab.engine import air

        info["air"] = air.check(world)
    if world.shelling is not None:
        from shieldlab.engine import shelling

        info["shelling"] = _named_by_settings(scenario, parsed, world, shelling.check)
    info["notes"] += _air_and_shelling_notes(world, info)
    if parsed and not world.threats:  # a ballistic field set on flights or shelling: run notes it too
        unread = _unread_settings_note(parsed, _without_threats(scenario, parsed))
        info["notes"] += [unread] if unread else []
    if world.scenario.tracking.association == "gnn":  # (tracking_settings made them)
        info["false_alarms_per_search_frame"] = info["tracking"]["false_alarms_per_search_frame"]
    if as_json:
        sys.stdout.write(json.dumps(info, indent=2) + "\n")
        return
    # what the scenario holds: the ballistic raid's parts always where it has threats, and of the
    # rest (or of a scenario without threats) what it has
    parts = (("sensors", "sensor", None), ("early_warning", "early-warning satellite", None),
             ("batteries", "battery", "batteries"), ("threats", "threat", None), ("assets", "asset", None),
             ("flight_entries", "flight entry", "flight entries"), ("fire_missions", "fire mission", None),
             ("locating_radars", "weapon-locating radar", None))
    always = {"sensors", "batteries", "threats", "assets"} if world.threats else set()
    counts = ", ".join(_plural(info[k], noun, plural) for k, noun, plural in parts if k in always or info[k])
    _print_line(Text.assemble(("valid", "green"), f": {info['scenario']}{_set_text(info)} — {counts}"))
    if world.scenario.tracking.association == "gnn" and world.threats:  # (the ballistic chain's tracking)
        _print_line(f"fire control on the multi-target tracker's tracks ({info['tracking']['filter'].upper()} "
                    f"tracks, association gnn); "
                    + _false_alarm_text(world.scenario.sensing.false_alarms, info["false_alarms_per_search_frame"]))
        _print_line(_management_text(info["tracking"]))
    elif world.threats:
        tr = info["tracking"]
        _print_line(f"tracking: one {tr['filter'].upper()} per threat on its labelled reports (association "
                    f"{tr['association']}), confirmed after {_plural(tr['init_hits'], 'detection')}")
    if info["notes"]:
        for note in info["notes"]:
            _print_line(note)
    if world.threats:
        _print_line(f"memory for {_plural(runs, 'run')}: about {_gib(mem)}, in chunks of {_plural(chunk or 0, 'run')}")
    if world.flights:
        a = info["air"]
        _print_line(f"air picture: {_plural(a['flights'], 'aircraft or missile', 'aircraft and missiles')} in "
                    f"{_plural(a['entries'], 'flight entry', 'flight entries')}, "
                    f"the longest {a['longest_flight_s'] / 60:,.1f} minutes without dispersions"
                    + (f"; airspace policed: {a['airspace']}" if a["airspace"] else ""))
    if world.shelling is not None:
        sh = info["shelling"]
        for m in sh["missions"]:
            seen = _radars_text(m["radars"])
            _print_line(f"shelling: {m['mission']}, {_plural(m['rounds'], 'round')} of {m['round']} at "
                        f"{m['range_km']:.2f} km, elevation {m['elevation_deg']:.1f} deg, "
                        f"{m['time_of_flight_s']:.1f} s of flight; radars: {seen}")
        # the point of origin is where the backward flight meets the ground height the radar
        # assumes; with no terrain model a default height is worth saying
        specific = {i for i, *_ in _ground_mismatches(world)}  # (radars said among the notes: not twice)
        for i, (cfg, lr) in enumerate(zip(world.scenario.shelling.radars, world.shelling.radars)):
            if cfg.ground_alt_m is None and i not in specific:
                _print_line(f"note: {lr.name} takes the ground the weapons stand on at its own height, "
                            f"{lr.ground_alt:,.0f} m (no terrain model): set ground_alt_m where they stand higher "
                            "or lower, since the point of origin is placed where the backward flight meets it")


def _rate(v: float) -> str:
    """A mean number of false alarms per frame as the tables show it: three figures, whole
    numbers from 1,000 up (not 1e+03)."""
    return f"{v:,.0f}" if v >= 1000 else f"{v:.3g}"


def _false_alarm_text(setting, rates: dict[str, float]) -> str:
    """The false-alarm setting and each radar's mean false alarms per search frame, in one
    line (tracks, validate and run with association gnn)."""
    return f"false alarms ({_setting(setting)}) per search frame: " + ", ".join(f"{k} {_rate(v)}"
                                                                                for k, v in rates.items())


def _management_text(tr: dict) -> str:
    """The multi-target tracker's management settings (``tracking`` of a summary, or
    :func:`~shieldlab.io.summary.tracking_settings`) in one line, for the tables' footers."""
    reports = "report" if tr["init_hits"] == 1 else "reports"
    looks = "look" if tr["confirm_looks"] == 1 else "looks"
    slow = tr.get("min_speed_ms")  # (None: a summary written before the setting)
    speed = ("" if slow is None else f"; a one-point track's second report at least {slow:g} m/s away, and a track "
             f"confirmed only at {slow:g} m/s or faster" if slow > 0
             else "; a one-point track's second report at any distance (no minimum speed)")
    return (f"track management: confirmed on {tr['init_hits']} {reports} in {tr['confirm_looks']} {looks} once the "
            f"velocity is known to {tr['confirm_sigma_v_ms']:g} m/s{speed}; deleted when its silent looks had less "
            f"than {tr['delete_probability']:g} chance were the object there or, confirmed, its position RMS radius "
            f"passes {tr['delete_sigma_km']:g} km; gate {tr['gate_probability']:g} (tracking.init_hits, "
            f"confirm_looks, confirm_sigma_v_ms,{'' if slow is None else ' min_speed_ms,'} delete_probability, "
            "delete_sigma_km, gate_probability)")


def _scenario_notes(world, own_architecture: bool = True) -> list[str]:
    """The notes on a scenario that validates but may not do what a user meant (``validate``
    prints them; ``run`` too, on stderr, before it runs).  ``own_architecture`` False: the
    scenario runs under other architectures than its own (``compare``), and the notes on what
    its own does with its links and sectors are left out."""
    return [n for n in (_engage_note(world), *_battery_notes(world), *_c2_notes(world, own_architecture),
                        _tracking_note(world),
                        _min_speed_note(world), _discrimination_note(world), *_ground_height_notes(world),
                        *_charge_notes(world)) if n]


#: A weapon standing further than this above or below the ground a locating radar assumes is
#: worth a note [m]: its origins are placed ``Δh / tan γ`` downrange, a bias their ellipses do not hold.
GROUND_HEIGHT_NOTE_M = 20.0


def _ground_mismatches(world) -> list[tuple[int, Any, Any, Any, float]]:
    """``(i, radar config, locating radar, mission, Δh)`` for each fire mission whose weapon
    stands more than :data:`GROUND_HEIGHT_NOTE_M` above (Δh > 0) or below the ground locating
    radar ``i`` assumes (``ground_alt_m``, by default the radar's own site's) [m]."""
    if world.shelling is None:
        return []
    return [(i, cfg, lr, m, dh)
            for i, (cfg, lr) in enumerate(zip(world.scenario.shelling.radars, world.shelling.radars, strict=True))
            for m in world.shelling.missions
            if abs(dh := float(m.origin[2]) - lr.ground_alt) > GROUND_HEIGHT_NOTE_M]


#: A charge this many times the catalogue's muzzle velocity (its charge for its range) or more
#: is worth a note: the model flies it, the weapon could not fire it.
CHARGE_NOTE_FACTOR = 1.1


def _charge_notes(world) -> list[str]:
    """A note per fire mission whose ``muzzle_velocity_ms`` passes the catalogue round's by
    :data:`CHARGE_NOTE_FACTOR` (a 120 mm mortar at 900 m/s, 2.8 times its full charge's 325,
    was flown for 103 s without a word)."""
    sh = getattr(world, "shelling", None)
    if sh is None:
        return []
    return [f"note: shelling.missions[{i}] ({m.name}): muzzle_velocity_ms {m.speed:,.0f} m/s is "
            f"{m.speed / m.round.muzzle_velocity_ms:.1f} times the {m.round.id}'s catalogue charge "
            f"({m.round.muzzle_velocity_ms:,.0f} m/s, the one its range refers to): no charge of that weapon "
            "fires it, though the model flies it"
            for i, m in enumerate(sh.missions) if m.speed > CHARGE_NOTE_FACTOR * m.round.muzzle_velocity_ms]


def _ground_height_notes(world) -> list[str]:
    """A note per :func:`_ground_mismatches` entry: with no terrain model the origin is placed
    where the backward flight meets the height the radar assumes, and its ellipse holds no
    error for it."""
    notes = []
    for i, cfg, lr, m, dh in _ground_mismatches(world):
        assumed = "its own site's height" if cfg.ground_alt_m is None else "its ground_alt_m"
        notes.append(f"note: {m.name}'s weapon stands {abs(dh):,.0f} m {'above' if dh > 0 else 'below'} the "
                     f"ground {lr.name} assumes ({lr.ground_alt:,.0f} m, {assumed}; no terrain model): "
                     f"its origins will be placed {abs(dh):,.0f} m / tan γ "
                     f"{'behind the weapon' if dh > 0 else 'towards its target'} (γ the round's angle at "
                     f"the ground: tens of metres for a steep mortar, hundreds for a flat gun shot), a bias "
                     f"their ellipses do not account for; set shelling.radars[{i}].ground_alt_m to the "
                     "weapons' ground")
    return notes


#: Settings only the multi-target tracker reads: ``shieldlab tracks`` always, ``shieldlab run``
#: only with ``tracking.association: gnn``.
MTT_ONLY = ("tracking.confirm_looks", "tracking.confirm_sigma_v_ms", "tracking.min_speed_ms",
            "tracking.delete_probability",
            "tracking.delete_sigma_km", "tracking.gate_probability", "sensing.false_alarms")


def _unread_sweep_note(scenario: str, parsed: list) -> str | None:
    """A note where a sweep varies the multi-target tracker's settings (:data:`MTT_ONLY`) and
    every point tracks by labels (the scenario's association, not swept to gnn): ``run`` reads
    none of them, so the points come out the same."""
    from shieldlab.engine.sweep import load

    swept = [p.field for p in parsed if p.field in MTT_ONLY]
    if not swept:
        return None
    _, raw = load(scenario)
    tracking = raw.get("tracking")
    base = tracking.get("association", "labels") if isinstance(tracking, dict) else "labels"
    assoc = next((p.values for p in parsed if p.field == "tracking.association"), (base,))
    if "gnn" in assoc:
        return None
    return (f"note: --set {', '.join(swept)}: tracking.association is labels at every point, and the kill chain "
            f"tracks each threat by its labelled reports without reading {'it' if len(swept) == 1 else 'them'}: "
            "the points will come out the same (set tracking.association: gnn in the scenario, or sweep it)")


def _one_report_note(setting: str) -> str:
    """The note on a multi-target tracker confirming on one report (``tracks`` and ``validate``
    say it alike; ``setting`` names how the scenario asked for it)."""
    return (f"note: {setting}: every report, a false alarm's too, starts a track that M-of-N can no longer "
            "drop, and only the miss product deletes it (dozens of silent looks for a track of one report): "
            "with false alarms, expect many false tracks, and `run` slow (fire control plans on every confirmed "
            "one: minutes a run at hundreds of false alarms a frame); 2 or more asks for a second report first")


def _tracking_note(world) -> str | None:
    """A note where a scenario sets the multi-target tracker's settings (:data:`MTT_ONLY`)
    and tracks by labels, so that ``run`` would not read them."""
    scn = world.scenario
    if scn.tracking.association == "gnn" and scn.tracking.init_hits == 1:
        return _one_report_note("tracking.init_hits 1 under association gnn")
    if scn.tracking.association != "labels":
        return None
    given = [f for f in MTT_ONLY
             if f.split(".")[1] in getattr(scn, f.split(".")[0]).model_fields_set]
    if not given:
        return None
    return (f"note: {', '.join(given)} {'is' if len(given) == 1 else 'are'} set, but tracking.association is "
            "labels: `shieldlab run` tracks each threat by its labelled reports and reads "
            f"{'it' if len(given) == 1 else 'them'} not at all (`shieldlab tracks` does); set "
            "tracking.association: gnn to run the kill chain on the multi-target tracker")


def _discrimination_note(world) -> str | None:
    """A note where, under ``tracking.association: gnn``, a system's radars make no
    discrimination calls: every track of its picture is taken for a warhead, a spent
    booster's too, by whatever battery fires on it (its own system's, or another node's
    over links that share tracks)."""
    if world.scenario.tracking.association != "gnn" or not world.batteries:
        return None
    calls = {s.system for s in world.sensors if getattr(s.radar.spec, "discrimination_error", None) is not None}
    blind = sorted({s.system for s in world.sensors if s.system is not None} - calls)
    if not blind:
        return None
    names = ", ".join(blind)
    return (f"note: the radars of {names} make no discrimination calls (catalogue discrimination_error): under "
            f"association gnn every track of {'its' if len(blind) == 1 else 'their'} picture is taken for a "
            "warhead, a spent booster's too, by the batteries that fire on it (the system's own, and other "
            "nodes' where links share tracks)")


#: Fastest ``tracking.min_speed_ms`` given without a note: about a Scud-class missile's speed
#: 30 s after launch, when a radar near it may first see it (a Sejjil 40 s after launch: 700 m/s).
MIN_SPEED_NOTE_MS = 500.0


def _min_speed_note(world) -> str | None:
    """A note where the multi-target tracker's minimum-speed gate is set faster than a
    ballistic missile may fly where a radar first sees it (its own second report refused)."""
    v = world.scenario.tracking.min_speed_ms
    if v <= MIN_SPEED_NOTE_MS:
        return None
    return (f"note: tracking.min_speed_ms {v:g} m/s: a track started from one report takes no second report nearer "
            f"than {v:g} m/s of travel, faster than a ballistic missile may fly where a radar first sees it (a "
            f"Scud-class missile 30 s after launch: ~500 m/s), so its own reports may start track after track; "
            f"the default is 300, 0 turns the gate off")


def _engage_note(world) -> str | None:
    """A note where ``doctrine.engage: threatening`` has no defended asset to judge a threat by
    (fire control then engages every confirmed threat, as with ``engage: all``)."""
    if world.threats and world.batteries and not world.assets and world.scenario.doctrine.engage == "threatening":
        return ("note: no defended assets, so doctrine.engage threatening has nothing to judge a threat by: "
                "every confirmed threat is engaged, as with engage: all (give assets to engage only the threats "
                "aimed at them)")
    return None


#: Distance [km] between a battery and its own radar (``batteries[].radar``) past which
#: ``validate`` notes it: a battery's own radar stands at its site (a few km at most).
OWN_RADAR_NOTE_KM = 50.0


def _battery_notes(world) -> list[str]:
    """Notes on a defence that validates but would do nothing a user meant: threats and no
    sensor or no battery, a battery with no round to fire above the reserve, or its own radar
    far from its site or in another system."""
    from shieldlab import earth

    notes = []
    if world.threats and not world.sensors:
        notes.append("note: no sensors: no threat is detected or tracked, so none is engaged (every one leaks); "
                     "give sensors (radars) to see them")
    elif world.threats and not world.batteries:
        notes.append("note: no batteries: no threat is engaged (every one leaks): the run measures detection "
                     "and tracking only")
    placed = {s.radar.name: s for s in world.sensors}
    for b in world.batteries:
        if b.rounds - b.reserve <= 0:
            notes.append(f"note: battery {b.name} has no round to fire (rounds {b.rounds}, reserve {b.reserve}): "
                         "it engages nothing")
        own = placed.get(b.radar) if b.radar is not None else None
        if own is not None:
            r = own.radar
            d_km = float(earth.great_circle_distance(b.site.lat, b.site.lon, r.lat, r.lon)) / 1e3
            if d_km > OWN_RADAR_NOTE_KM:
                notes.append(f"note: battery {b.name} is {d_km:,.0f} km from its own radar {r.name} "
                             "(batteries[].radar), which usually stands at the battery's site")
            if own.system != b.system:
                notes.append(f"note: battery {b.name}'s own radar {r.name} feeds system {own.system!r}, not the "
                             f"battery's {b.system!r} (sensors[].system): a battery's own radar is usually part of "
                             "its system")
            if b.cue == "own" and world.scenario.tracking.association == "gnn" \
                    and getattr(r.spec, "discrimination_error", None) is None:
                notes.append(f"note: battery {b.name} plans on {r.name}'s own tracks (cue own), and an "
                             f"{r.spec.id} makes no discrimination calls (catalogue discrimination_error): "
                             "without labels it takes every track for a warhead, a spent booster's too")
    return notes


def _c2_notes(world, own_architecture: bool = True) -> list[str]:
    """Notes on C2 settings that validate but may not be what a user meant: a sector that holds
    none of its node's batteries (moved away by mistake, or drawn as [lon, lat]), or, for a node
    without batteries, no defended asset; an
    early-warning satellite of a system no radar feeds (accepted under the integrated
    architecture, where every satellite cues every radar, and refused under the others); a
    link for launch reports alone from a node without satellites; links under an architecture
    that uses none."""
    import shapely

    notes = []
    for nd in getattr(world, "nodes", ()):
        if nd.sector is None:
            continue
        # its own batteries: an asset inside says nothing (another node's may be: a NATO sector
        # drawn as [lon, lat] lay over Iraq and Iran and held Russia's Novorossiysk)
        pts = [(world.batteries[i].site.lon, world.batteries[i].site.lat) for i in nd.batteries]
        what = "none of its batteries' sites"
        if not pts:
            pts, what = [(a.site.lon, a.site.lat) for a in world.assets], "no defended asset (it has no battery)"
        if pts and not shapely.contains_xy(nd.sector, *np.array(pts).T).any():
            arch = world.architecture
            notes.append(f"note: node {nd.name}'s sector holds {what} "
                         f"(nodes[].sector, lat, lon in degrees)" + ("" if arch == "sectoral" or not own_architecture
                                                                     else f": it is not enforced under {arch}"))
    systems = {s.system for s in world.sensors}
    for i, sat in enumerate(world.early_warning):
        if sat.system not in systems:
            notes.append(f"note: early_warning[{i}] ({sat.name}) belongs to system {sat.system!r}, which no radar "
                         "feeds: under the integrated architecture it cues every radar, under the others the "
                         "scenario is refused")
    # a link for launch reports alone, where no node it leaves has a satellite, carries nothing
    from shieldlab.c2.network import shares_tracks

    if shares_tracks(world):
        for lk in world.links:
            if not lk.tracks and not world.satellites_cueing(lk.source):
                notes.append(f"note: link {lk.name} carries launch reports only (tracks: false) and node "
                             f"{lk.source} has no early-warning satellite: it carries nothing")
    elif world.links and own_architecture:  # independent nodes share nothing; integrated, one picture needs no links
        notes.append(f"note: architecture {world.architecture} uses no links, so "
                     f"{', '.join(lk.name for lk in world.links)} carr{'ies' if len(world.links) == 1 else 'y'} "
                     "nothing: only coordinated and sectoral nodes send each other tracks, engagement status "
                     "and launch reports over them")
    # a system named by one entry, near another's name: a misspelt system is a node of its own
    # (not under integrated: one C2 over every sensor and battery, whatever their systems)
    from shieldlab.scenario.schema import lone_systems

    if world.architecture != "integrated":
        notes += [f"note: {field}: {name!r} is named by this entry alone, so it is a C2 node of its own, whose "
                  f"tracks reach only its own batteries and links: did you mean {near!r}?"
                  for field, name, near in lone_systems(world.scenario)]
    return notes


def _blind_satellite_notes(world, truth) -> list[str]:
    """A note for each early-warning satellite that can report none of the nominal flights'
    launches (``truth``): too few frames see them burn (out of its view, below its plume
    floor, or, on a highly elliptical orbit, elsewhere at the launch times)."""
    from shieldlab.sensors.infrared import candidate_frames

    notes = []
    for i, sat in enumerate(world.early_warning):
        if not (candidate_frames(sat, truth) >= int(sat.spec.init_frames)).any():
            notes.append(f"note: early_warning[{i}] ({sat.name}) sees none of the threats' launches burn in enough "
                         f"frames ({sat.spec.init_frames}) to report them: it reports nothing")
    return notes


def _air_and_shelling_notes(world, info: dict) -> list[str]:
    """Notes on an air picture or a shelling that validates but that nothing can see: fliers
    and no radar to report them, a fire mission no weapon-locating radar reaches."""
    notes = []
    if world.flights and not world.sensors:
        notes.append("note: no sensors: nothing reports the flights (P(seen) 0"
                     + (", no warning, no shot" if world.scenario.air_policing is not None else "")
                     + "); give sensors (radars or AEW aircraft) to see them")
    if world.flights and world.batteries:  # (the air picture's shots are the policing's fighters')
        whom = "only the ballistic threats" if world.threats else "nothing here"
        notes.append(f"note: batteries engage ballistic threats only, so {whom}: the flights (aircraft, cruise "
                     "missiles) are engaged by air_policing's fighters alone")
    notes += _policing_notes(world)
    ap = world.scenario.air_policing
    if ap is not None:
        own = ap.side or ap.country
        mine = sorted({f.group for f in world.flights if f.side == own})
        if mine:
            notes.append(f"note: {', '.join(mine)} fl{'ies' if len(mine) == 1 else 'y'} for {own}, the policing side: "
                         "not warned or engaged (give the flight another side to police it)")
    for m in (info.get("shelling") or {}).get("missions", []):
        if m["radars"] and not any(r["range_km"] <= r["reach_km"] and r["in_sector"] for r in m["radars"]):
            notes.append(f"note: no weapon-locating radar reaches fire mission {m['mission']}'s weapon "
                         f"({_radars_text(m['radars'])}): nothing locates it")
    return notes


#: Below this height [m above the ellipsoid] a patrol's station reads as one given no height.
LOW_PATROL_M = 300.0


def _policing_notes(world) -> list[str]:
    """Notes on air policing's fighters that validate but may not be what a user meant: a base
    or a patrol station outside the policed airspace (its fighters start abroad, and
    ``pursuit: own-airspace`` holds only a fighter that starts inside), and a patrol station
    with no height (a site's ``alt_m`` is the patrol height; 0 unless given)."""
    pol = world.policing
    if pol is None or not world.flights:
        return []
    import shapely

    from shieldlab.engine.air import air_territory, country_at

    terr = air_territory(world)
    notes = []
    for group, units in (("bases", pol.bases), ("patrols", pol.patrols)):
        for i, u in enumerate(units):
            where = f"air_policing.{group}[{i}].site ({u.name})"
            lat, lon = u.site.lat_deg, u.site.lon_deg
            if terr is not None and not shapely.contains_xy(terr.lonlat, lon, lat):
                over = str(country_at(lat, lon)) or "the sea"
                notes.append(f"note: {where} lies outside {pol.country}'s airspace, over {over}: its fighters start "
                             f"abroad" + (", and pursuit: own-airspace holds at the border only a fighter that "
                                          "starts inside" if pol.pursuit == "own-airspace" else ""))
            if group == "patrols" and u.site.alt < LOW_PATROL_M:
                notes.append(f"note: {where} is at {u.site.alt:,.0f} m: the station's alt_m is the patrol "
                             "height (give it, e.g. alt_m: 6000)")
    return notes


def _radars_text(radars: list[dict]) -> str:
    """A fire mission's weapon-locating radars as :func:`shieldlab.engine.shelling.check` lists
    them: each one's range to the weapon, its reach and whether the weapon is in its sector."""
    return ", ".join(f"{r['radar']} at {r['range_km']:.1f} km (reach {r['reach_km']:g} km"
                     + ("" if r["in_sector"] else ", outside its sector") + ")" for r in radars)


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.2f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.0f} MiB"


@app.command(cls=_Command)
@_guard
def schema() -> None:
    """Print the scenario file's JSON Schema."""
    from shieldlab.scenario.reference import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


@app.command("catalog", cls=_Command)
@_guard
def catalog_cmd(kind: str | None = typer.Argument(None, help="missiles, interceptors, sensors, satellites, "
                                                              "aircraft, artillery (unguided rounds) or "
                                                              "locating-radars (weapon-locating radars) "
                                                              "[default: missiles]", metavar="KIND"),
                entry: str | None = typer.Argument(None, help="one entry's id: all its fields, the source whole",
                                                   metavar="ID"),
                as_json: bool = _json_option()) -> None:
    """List the built-in catalogue with sources, or show one entry (KIND ID)."""
    from shieldlab import catalog
    from shieldlab.catalog import artillery

    tables: dict[str, Callable[[], Mapping[str, catalog.Missile | catalog.Interceptor | catalog.Sensor
                                            | catalog.Satellite | catalog.Aircraft | catalog.Round
                                            | catalog.LocatingRadar]]] = {
        "missiles": catalog.missiles, "interceptors": catalog.interceptors, "sensors": catalog.sensors,
        "satellites": catalog.satellites, "aircraft": catalog.aircraft, "artillery": artillery.rounds,
        "locating-radars": artillery.locating_radars}
    named = kind is not None
    kind = "missiles" if kind is None else kind
    if kind not in tables:  # (an entry's id given alone, catalog scud-b: the kind that holds it)
        raise InputError(f"must be one of {', '.join(tables)}, not {kind!r}{_held_in(kind, tables)}", field="KIND")
    entries = tables[kind]()
    if entry is not None:
        _catalog_entry(kind, entries, entry, as_json, {k: f for k, f in tables.items() if k != kind})
        return
    if as_json:
        sys.stdout.write(json.dumps([e.model_dump() for e in entries.values()], indent=2) + "\n")
        return
    t = Table(title=f"{kind} ({len(entries)})")
    key = {"missiles": "max_range_km", "interceptors": "burnout_speed_kms", "sensors": "max_range_km",
           "satellites": "report_latency_s", "aircraft": "cruise_speed_kmh", "artillery": "max_range_km",
           "locating-radars": "sector_deg"}[kind]
    # a satellite's orbit says how a scenario places it (lon_deg or apogee_lon_deg); an
    # aircraft's kind whether it is piloted or a cruise missile; a round's how it is fired; a
    # weapon-locating radar's reach by class of round
    extra = {"satellites": ("orbit",), "aircraft": ("kind",), "artillery": ("kind",),
             "locating-radars": ("range_km mortar/artillery/rocket",), "missiles": ("flight",),
             "interceptors": ("radar",)}.get(kind, ())
    # a sensor's range is against a stated target: without its RCS the figure says little
    after = ("ref_rcs_m2",) if kind == "sensors" else ()
    for col in ("id", "name", *extra, key, *after, "source"):
        # ids and names fold rather than end in an ellipsis; names and sources wrap between
        # words, in columns at most 40 and 60 wide (a pipe's table had been ~380 columns)
        t.add_column(col, overflow="fold" if col in ("id", "name") else "ellipsis",
                     max_width={"name": 40, "source": 60}.get(col),
                     justify="right" if col in (key, *after) else "left")  # numbers as the other tables
    for e in entries.values():
        orbit: tuple[str, ...] = ()
        if kind in ("aircraft", "artillery"):
            orbit = (cast("catalog.Aircraft | catalog.Round", e).kind,)
        elif kind == "missiles":  # how it flies: ballistic, shedding energy by its thrust, or lifting
            ms = cast("catalog.Missile", e)
            orbit = (", ".join(["quasi-ballistic (aero)" if ms.aero is not None else "ballistic"]
                               + (["energy management (gem)"] if ms.energy_management == "gem" else [])),)
        elif kind == "interceptors":  # the radar that fires it from its own site (reach's default cue)
            orbit = (cast("catalog.Interceptor", e).radar or "—",)
        elif kind == "locating-radars":
            lr = cast("catalog.LocatingRadar", e)
            orbit = (f"{lr.mortar_range_km:g} / {lr.artillery_range_km:g} / {lr.rocket_range_km:g}",)
        elif extra:
            sat = cast("catalog.Satellite", e)
            orbit = ("geo" if sat.orbit == "geo" else
                     f"heo: a {sat.semi_major_axis_km:,.0f} km, e {sat.eccentricity:g}, i {sat.inclination_deg:g}°",)
        t.add_row(e.id, e.name, *orbit, f"{getattr(e, key):,g}", *(f"{getattr(e, c):,g}" for c in after),
                  textwrap.shorten(e.source, 160, placeholder=" …"))
    _print_table(t)
    if not named:
        _print_line(f"other kinds: {', '.join(k for k in tables if k != kind)} (shieldlab catalog KIND)")
    _print_line(f"one entry whole, its source too: shieldlab catalog {kind} ID")


def _held_in(ident: str, tables: Mapping) -> str:
    """`` ('ID' is in KIND: shieldlab catalog KIND ID)`` for the first of ``tables`` (kind to
    its table's function) holding ``ident``; empty where none does."""
    kind = next((k for k, table in tables.items() if ident in table()), None)
    return f" ({ident!r} is in {kind}: shieldlab catalog {kind} {ident})" if kind else ""


def _catalog_entry(kind: str, entries: Mapping, entry: str, as_json: bool, others: Mapping) -> None:
    """``shieldlab catalog KIND ID``: one entry, every field (the list cuts its source short);
    ``others``: the other kinds' tables, to say where an id of another kind is."""
    import difflib

    if entry not in entries:
        near = difflib.get_close_matches(entry, list(entries), n=1)
        hint = _held_in(entry, others) or (f" (did you mean {near[0]!r}?)" if near else "")
        raise InputError(f"no {kind} entry {entry!r}{hint}; the ids: {', '.join(entries)}", field="ID")
    data = entries[entry].model_dump()
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    t = Table(title=f"{kind}: {entry}")
    t.add_column("field", overflow="fold")
    t.add_column("value", overflow="fold", max_width=100)  # (wrapped between words)
    for k, v in data.items():
        t.add_row(k, "–" if v is None else v if isinstance(v, str) else json.dumps(v))
    _print_table(t)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input or usage).

    A usage error (an unknown option, a value out of range) is one line on stderr, like
    any other bad input."""
    try:
        from typer._click import exceptions as click_errors
    except ImportError:  # Typer on the separate click package
        click_errors = importlib.import_module("click.exceptions")
    NoArgsIsHelpError, UsageError = click_errors.NoArgsIsHelpError, click_errors.UsageError
    try:
        return _main(argv, NoArgsIsHelpError, UsageError)
    finally:
        _stop_noting_compiles()  # (a command run in a longer process leaves no listener behind)


def _main(argv, NoArgsIsHelpError, UsageError) -> int:  # noqa: N803 (click's exception classes)
    try:
        rv = app(args=argv, prog_name="shieldlab", standalone_mode=False)
    except NoArgsIsHelpError as e:
        e.show()
        return e.exit_code
    except UsageError as e:
        hint = f" (see {e.ctx.command_path} --help)" if e.ctx is not None else ""
        _suggest_longer_options(e)
        said = " ".join(e.format_message().split())
        got = _given(argv, getattr(e, "param", None))
        if got is not None and " got " not in said and repr(got) not in said:  # (a range's refusal names no value)
            said += f" (got {got if got.strip() else repr(got)})"
        _err().print(Text.assemble(("error:", "red"), " ", said + hint))
        return e.exit_code
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except SystemError as e:
        # SIGTERM's SystemExit raised while a compiled function was being loaded comes out of
        # the C call as a SystemError caused by it ("CPUDispatcher(...) returned a result with an
        # exception set"): the same end, by the same unwinding, so the same exit code
        stop = _system_exit_in(e)
        if stop is None:
            raise
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    return rv if isinstance(rv, int) else 0


def _system_exit_in(e: BaseException) -> SystemExit | None:
    """The SystemExit among ``e``'s causes and contexts, if one is."""
    seen = set()
    at: BaseException | None = e
    while at is not None and id(at) not in seen:
        if isinstance(at, SystemExit):
            return at
        seen.add(id(at))
        at = at.__cause__ or at.__context__
    return None


def _given(argv, param) -> str | None:
    """The value the command line gave option ``param`` (its last, as click reads it), or None."""
    names = set(getattr(param, "opts", ()) or ())
    if not names:
        return None
    args, got = list(sys.argv[1:] if argv is None else argv), None
    for i, a in enumerate(args):
        if a in names and i + 1 < len(args):
            got = args[i + 1]
        elif "=" in a and a.split("=", 1)[0] in names:
            got = a.split("=", 1)[1]
    return got


def _suggest_longer_options(e) -> None:
    """An unknown option that begins a known one (``--cue`` of ``--cue-delay-s``) gets that one
    among click's suggestions (which click prints sorted), which go by likeness alone and may
    leave it out (``--cue`` looks more like ``--force``)."""
    typed, possible = getattr(e, "option_name", None), getattr(e, "possibilities", None)
    if not typed or e.ctx is None or possible is None:
        return
    opts = [o for p in e.ctx.command.params if not getattr(p, "hidden", False) for o in p.opts]
    e.possibilities = sorted(set(possible) | {o for o in opts if o.startswith(typed) and o != typed})


def _terminated(signum, frame) -> None:
    """SIGTERM (a job's wall time, ``timeout``, ``kill``) ends the command as Ctrl-C does:
    by an exception, so that what it was writing is cleaned up (a half-written results
    folder's temporary copy) instead of left behind; exit code 128 + 15."""
    raise SystemExit(143)


def entry() -> None:
    """Console-script entry (``shieldlab``, ``python -m shieldlab``): exit with :func:`main`'s
    code, SIGTERM handled as :func:`_terminated` says."""
    import os
    import signal

    signal.signal(signal.SIGTERM, _terminated)
    # Arrow's buffers (the Parquet chunks written and read back) from the C library's malloc,
    # not its own mimalloc pool: freed, they go back to the system with the rest of the heap
    # (engine.heap.release), and a long run's resident memory is ~7-10 MB lower throughout
    # (BENCHMARKS.md).  A command line's process only, and never over the user's own setting
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    sys.exit(main())


if __name__ == "__main__":
    entry()
