"""What every command shares: the Typer app, the console, option types and parsers, the compile
note, progress bars, number and table formatting."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib
import math
import os
import sys
import unicodedata
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperCommand

from shieldlab import MAX_RUNS
from shieldlab.errors import InputError, checked_latlon

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
        raise typer.BadParameter("an empty path: give one")  # (a file's or a folder's, as the option says)
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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TextColumn("runs"),
                  TimeElapsedColumn(), TextColumn("eta"), _remaining_column(),
                  console=Console(stderr=True, emoji=False), transient=True) as bar:
        yield _Bar(bar, bar.add_task("simulating", total=runs, kept=0))


def _remaining_column():
    """A progress column: the time left at the mean speed since the bar started (or since a
    resumed run's kept chunks), start-up included. rich's own estimate divides the runs done
    after the first update by the time since it; chunks finishing together (two workers, or a
    resumed run's first chunks) make that time near zero and the estimate a few seconds for
    an hour's work."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Remaining(ProgressColumn):
        def render(self, task) -> Text:
            return Text(_clock(_time_left(task)), style="progress.remaining")

    return Remaining()


def _time_left(task) -> float | None:
    """Seconds left for a rich ``task`` at its mean speed since it started, its ``kept`` runs
    (done before it started) not counted; None before a run is done."""
    if task.finished:
        return 0.0
    done = task.completed - task.fields.get("kept", 0)
    if task.total is None or task.start_time is None or done <= 0:
        return None
    return (task.get_time() - task.start_time) * (task.total - task.completed) / done


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    minutes, secs = divmod(math.ceil(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}"


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
        # (reset restarts the task's clock: the speed counts the runs done after this)
        self._progress.reset(self._task, completed=n_done, kept=n_done)

    def print(self, text: str) -> None:
        self._progress.console.print(text, markup=False, highlight=False)


def _say(progress, text: str) -> None:
    """Print ``text`` on stderr, above the live bar where one is."""
    if isinstance(progress, _Bar):
        progress.print(text)
    else:
        _err().print(text, markup=False, highlight=False)


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


def _mean_ci(row: dict, key: str, scale: float = 1.0) -> str:
    """A mean with its interval (both divided by ``scale``: 1e3 for metres as km); none when
    the summary has none (one run has no spread); "—" where it has no mean."""
    if row.get(key) is None:
        return "—"
    text = f"{float(row[key]) / scale:.2f}"
    ci: Sequence[Any] = row.get(f"{key}_ci95") or (None, None)
    if None not in ci and all(math.isfinite(float(x)) for x in ci):
        text += " " + _interval_text(float(ci[0]) / scale, float(ci[1]) / scale)
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


_CAPPED = ("a count alike in every run (leakers, hits: at most the threats; interceptors: at most what the rounds "
           "and the doctrine allow): the exact bound of a capped count")


def _interval_name(summary: dict) -> str:
    means = _method(summary, "interval_means", "Student t").split(" on ")[0]
    if "cut to" in str(summary.get("interval_means", "")):
        capped = "bounded mean" in str(summary.get("interval_means", ""))
        means += f" ({_CUT}; {_CAPPED})" if capped else f" ({_CUT})"
    return f"probabilities: {_method(summary, 'interval', 'Wilson score')}; means: {means}"


def _plural(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


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
