"""Parameter sweeps: one scenario run at every combination of some of its values.

``--set doctrine.salvo=1,2 --set batteries[0].rounds=8,16`` names scenario fields by their
path in the YAML (keys joined by ``.``, list items by ``[i]``) and the values to try; the
sweep runs the product of the values (here four *points*), each with the same runs and
seed, so two points differ only by what was set.  Each point is validated and compiled
before anything runs: a bad value is an :class:`~shieldlab.errors.InputError` naming the
``--set`` and the field, and nothing is written.

The results are one dataset (:mod:`shieldlab.io.dataset`): per point and chunk of runs a
Parquet file of outcomes, one of events and one of track quality, each row carrying the swept values as columns,
written atomically and then marked complete.  A sweep stopped at any point (even by
SIGKILL) resumes with ``resume=True``: completed chunks are kept, the rest are run again,
and since a chunk's random streams depend only on the seed and its first run
(:func:`shieldlab.engine.chain.run_streams`) the finished dataset is the one an
uninterrupted sweep writes.
"""

from __future__ import annotations

import copy
import datetime
import functools
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import yaml

from shieldlab.engine.chain import CHUNK, chunk_runs, preflight
from shieldlab.engine.montecarlo import chunk_sizes, simulate
from shieldlab.errors import InputError
from shieldlab.io import dataset
from shieldlab.io.dataset import partial_folder
from shieldlab.io.lock import writing
from shieldlab.io.output import set_value_text as as_written
from shieldlab.scenario.compile import World, compile_world
from shieldlab.scenario.loader import locate, parse, read_yaml, scalar

_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)((?:\[(?:0|[1-9]\d*)\])*)")  # (no [01]: one spelling, one column)
#: Most points a sweep may have (a typo such as 1,2,...,1000 on three fields is 10^9).
MAX_POINTS = 10_000
#: The top-level fields whose values may change what a run's random streams deal to each
#: threat: a radar's looks and noise are drawn over the raid's scans, so moving, re-aiming or
#: adding a threat (or a flier) deals the others other numbers too (a threat's count also its
#: dispersions and kill draws); so does a radar's ``type`` (its scan period sets its scans);
#: a time step does so where it changes a sensor's number of scans (:func:`common_draws`
#: counts them).  Every other field (doctrine, batteries, a radar's site or facing,
#: architecture, tracking) leaves each draw where it was.
REDEALING_FIELDS = ("threats", "flights", "time_step_s")


def redealing(fields: list[str]) -> list[str]:
    """The swept ``fields`` (as given: ``threats[0].count``) under which the points do not run
    the same draws (:data:`REDEALING_FIELDS`, and a sensor's ``type``), in their order."""
    def deals(f: str) -> bool:
        parts = re.split(r"[.\[]", f)
        return parts[0] in REDEALING_FIELDS or (parts[0] == "sensors" and parts[-1] == "type")

    return [f for f in fields if deals(f)]


def _by_scans(field: str) -> bool:
    """Whether swept ``field`` re-deals the draws only where it changes how many scans (or
    frames) a sensor deals them over: the time step, which moves the grid's end.  (A
    threat's or a flier's fields change the raid; a radar's type its search frames and
    false alarms as well as its scans.)"""
    return field == "time_step_s"


def scans_of(world, flights) -> tuple[int, ...]:
    """How many scans each radar of ``world`` and frames each early-warning satellite deals
    its draws over, on the grid of the nominal ``flights`` (the chunks' flights, dispersed or
    not, are sampled on it): points of a sweep with the same counts deal each draw alike."""
    from shieldlab.sensors.radar import scan_times

    t = flights.truth.t
    return (tuple(scan_times(t, s.radar.spec.scan_period_s).size for s in world.sensors)
            + tuple(scan_times(t, float(sat.spec.frame_s)).size for sat in world.early_warning))


def common_draws(fields: list[str], scans: list[tuple[int, ...]]) -> bool:
    """Whether the points of a sweep over ``fields`` deal every random draw alike: no swept
    field re-deals them (:func:`redealing`), or the time step, the one that may, left every
    sensor's scans the same at every point (``scans``: :func:`scans_of` of each point; a
    time step of 2 s on a grid whose end stays put, say)."""
    moved = redealing(fields)
    return not moved or (all(_by_scans(f) for f in moved) and len(set(scans)) == 1)


def common_draws_note(fields: list[str], alike: bool | None = None) -> str:
    """What a sweep over ``fields`` compares: the same raids at every point (common random
    numbers), or, where a swept field re-deals the draws (:func:`redealing`; ``alike``: the
    sweep's own finding, :func:`common_draws`), the same seed only."""
    moved = redealing(fields) if alike is None or not alike else []
    if not moved:
        return ("Every point runs the same raids (the same seed, and each random draw dealt alike: the flights' "
                "dispersions, the radars' looks and noise, the kill draws): differences between points are the "
                "swept values', not the dice's.")
    return (f"Every point runs the same seed, but {', '.join(moved)} changes the raid itself or a radar's scans, "
            "which deals the radars' looks and noise over again for every threat (and, where a threat's count is "
            "swept, its "
            "dispersions and kill draws too): the raid-by-raid column still pairs each run with point 0's, "
            "soundly, but the pairing no longer takes the dice out, and a raid with fewer or more leakers may "
            "owe it to them as much as to the swept values.")


@dataclass(frozen=True)
class Setting:
    """One ``--set``: the field's path (keys and list indices), the values to try, and the
    dataset column that carries the value (the path with every non-word character as ``_``)."""

    text: str
    path: tuple[str | int, ...]
    values: tuple

    @property
    def column(self) -> str:
        return re.sub(r"_+", "_", re.sub(r"\W", "_", self.field)).strip("_")

    @property
    def field(self) -> str:
        return self.text.split("=", 1)[0].strip()

    def named(self, raw: dict) -> str:
        """The field as given, each list item followed by the name it has in the scenario
        ``raw`` (``batteries[0] (de-1).rounds``): what a chart or a legend calls it, where
        ``batteries[0]`` alone did not say which battery."""
        node: object = raw
        out = ""
        for step in self.path:
            if isinstance(step, int):
                out += f"[{step}]"
                node = node[step] if isinstance(node, list) and step < len(node) else None
                name = node.get("name") if isinstance(node, dict) else None
                out += f" ({name})" if isinstance(name, str) and name else ""
            else:
                out += f".{step}" if out else step
                node = node.get(step) if isinstance(node, dict) else None
        return out

    def typed(self, value) -> str:
        """``value`` (one of :attr:`values`, itself) as it was typed: ``1e400``, not ``inf``."""
        tokens = self.text.split("=", 1)[1].split(",")
        return next(t.strip() for t, v in zip(tokens, self.values, strict=True) if v is value)


def parse_setting(text: str) -> Setting:
    """``"batteries[0].rounds=8,16"`` -> a :class:`Setting`.  Values are read as YAML scalars
    (``8`` an integer, ``0.5`` a number, ``true`` a boolean, ``sm3-iia`` a string)."""
    if "=" not in text:
        raise InputError(f"{text!r}: give FIELD=VALUE[,VALUE...]", field="--set")
    name, _, vals = text.partition("=")
    name = name.strip()
    path: list[str | int] = []
    for part in name.split("."):
        m = _STEP.fullmatch(part)
        if not m:
            neg = re.search(r"\[\s*(-\d+)\s*\]", part)
            if neg:  # (Python's negative index counts from the end; a scenario's list is counted from 0)
                raise InputError(f"{name!r}: a list item is [i] with i = 0 or more, counted from the first "
                                 f"(got [{neg.group(1)}])", field="--set")
            raise InputError(f"{name!r}: a field path is keys joined by '.', list items as [i] "
                             "(e.g. batteries[0].rounds)", field="--set")
        path.append(m.group(1))
        path += [int(i) for i in re.findall(r"\[(\d+)\]", m.group(2))]
    if vals.strip().startswith(("[", "{")):  # (split at its commas it read as several values, or one twice)
        raise InputError(f"{name}: --set takes single values (numbers, words, true, null), not a list or mapping "
                         f"such as {vals.strip()!r}: change such a field in the scenario file", field="--set")
    values = []
    for v in vals.split(","):
        if not v.strip():
            raise InputError(f"{name}: an empty value in {vals!r}", field="--set")
        try:
            x = scalar(v)  # as the scenario file would read it (1e1 is a number)
        except yaml.YAMLError:
            x = v.strip()
        if isinstance(x, (dict, list)):
            raise InputError(f"{name}: {v.strip()!r} is not a single value", field="--set")
        if isinstance(x, (datetime.date, datetime.datetime)):  # (YAML reads a date: kept as written, a string)
            x = v.strip()
        values.append(x)
    seen: set[str] = set()
    for x in values:
        if repr(x) in seen:
            # (as the scenario file writes it: null, true, not Python's None, True)
            shown = yaml.safe_dump(x, default_flow_style=True).strip().removesuffix("...").strip()
            raise InputError(f"{name}: the value {shown} is given twice", field="--set")
        seen.add(repr(x))
    return Setting(text, tuple(path), tuple(values))


def apply(raw: dict, setting: Setting, value) -> dict:
    """A copy of scenario mapping ``raw`` with ``setting``'s field set to ``value``.  A missing
    section on the way is made where the schema names it: at the top (``doctrine``) or in a
    list's item (``shelling.missions[0].dispersion``; a misspelt one is then the schema's
    unknown field); not in a mapping of the file's own names (``sites.nosuch``: no such
    site), and a list item must exist."""
    out = copy.deepcopy(raw)
    node: object = out
    shown = ""
    # (the errors' field: the setting as typed, where the value is one of its own)
    named = f"--set {setting.field}=" + (setting.typed(value) if any(v is value for v in setting.values)
                                         else as_written(value))
    in_item = True  # node is the top level or a list's item: its keys are the schema's
    for step, nxt in zip(setting.path, setting.path[1:] + (None,)):
        shown += f"[{step}]" if isinstance(step, int) else (f".{step}" if shown else step)
        last = nxt is None
        if isinstance(step, int):
            if not isinstance(node, list) and node is not None:
                raise InputError(f"{shown[:shown.rindex('[')]} is not a list", field=named)
            if not isinstance(node, list) or step >= len(node):
                n = len(node) if isinstance(node, list) else 0
                raise InputError(f"the scenario has no {shown} (it has {n} item{'' if n == 1 else 's'} there)",
                                 field=named)
            if last:
                node[step] = value
            else:
                node = node[step]
                in_item = True
            continue
        if not isinstance(node, dict):
            raise InputError(f"{shown.rsplit('.', 1)[0] or shown} is not a mapping", field=named)
        if last:
            node[step] = value
        else:
            if node.get(step) is None:  # (a list made here is empty: its item is then missing)
                if not in_item:
                    raise InputError(f"the scenario has no {shown}", field=named)
                node[step] = [] if isinstance(nxt, int) else {}
            node = node[step]
            in_item = False
    return out


@dataclass(frozen=True)
class Point:
    """One combination of the swept values, its index and its compiled world."""

    index: int
    values: dict  # column -> value
    world: World
    label: str = ""  # the --set values that made it, as given ("doctrine.salvo=2, ...")


def _relabelled(e: InputError, label: str, source: str) -> InputError:
    """``e`` with each problem named by the ``--set`` values of the point that raised it."""
    problems = list(dict.fromkeys(("--set " + label + (f": {f}" if f else ""), m) for f, m in e.problems))
    return InputError(problems=problems, source=source)


def preflight_point(p: Point, runs: int, raw: dict | None = None):
    """:func:`~shieldlab.engine.chain.preflight` of a point's world (its threats aimed, its
    duration and memory checked), its errors named by the point's ``--set`` values, unless
    the scenario as written (``raw``, checked only then) is refused the same way: then the
    settings did not cause it, and the error is the scenario's own."""
    try:
        return preflight(p.world, runs, stored=True)
    except InputError as e:
        if raw is not None and _refused_alike(raw, p.world.source, lambda w: preflight(w, runs, stored=True), e):
            raise
        raise _relabelled(e, p.label, p.world.source) from None


def settings_error(e: InputError, source: str, raw: dict, settings: list[Setting], check) -> InputError:
    """``e``, raised by ``check(world)`` on the scenario with one value per ``--set`` (a
    threat's aim, a fire mission's laying), named by the settings' values as typed, unless the
    scenario as written (``raw``) is refused alike by ``check``: then the settings did not cause
    it, and ``e`` is the scenario's own."""
    if _refused_alike(raw, source, check, e):
        return e
    return _relabelled(e, ", ".join(f"{s.field}={s.typed(s.values[0])}" for s in settings), source)


def _scenario_error(raw: dict, source: str) -> InputError | None:
    """The error the scenario as written (``raw``) is refused with by the schema and its
    compilation, or None where it loads."""
    try:
        compile_world(parse(raw, source), source)
    except InputError as e:
        return e
    return None


def _refused_alike(raw: dict, source: str, check, e: InputError) -> bool:
    """Whether the scenario as written is refused by ``check(world)`` with ``e``'s problems."""
    try:
        check(compile_world(parse(raw, source), source))
    except InputError as base:
        return base.problems == e.problems
    return False


def points(source: str, raw: dict, settings: list[Setting]) -> list[Point]:
    """Every combination of the settings' values, validated and compiled; the errors of a bad
    combination name the ``--set`` values that made it.  A point's values are the validated
    scenario's (``2`` for a count given as ``2.0``), so a
    column has one type, and two values that validate to the same one are refused."""
    if not settings:
        raise InputError("give at least one --set FIELD=VALUE[,VALUE...]", field="--set")
    cols = _once_each(settings)
    # a sweep runs the ballistic raid's kill chain: a flight's field would change nothing
    flown = sorted({s.field for s in settings if s.path and s.path[0] == "flights"})
    if flown and raw.get("threats"):
        raise InputError(f"{', '.join(flown)}: a sweep runs the ballistic threats' kill chain only, and the "
                         "scenario's flights are not flown, so a flight's field changes nothing (shieldlab run "
                         "flies them)", field="--set")
    n = int(np.prod([len(s.values) for s in settings]))
    if n > MAX_POINTS:
        raise InputError(f"{n:,} combinations; at most {MAX_POINTS:,}", field="--set")
    combos, worlds, labels = [], [], []
    validated: list[dict] = [{} for _ in settings]  # per setting: value as given -> as validated
    for combo in itertools.product(*(s.values for s in settings)):
        _, label, scn, world = _compiled(source, raw, settings, combo)
        for k, (s, v) in enumerate(zip(settings, combo)):
            validated[k].setdefault(repr(v), validated_value(scn, s.path, v))
        combos.append(combo)
        worlds.append(world)
        labels.append(label)
    for s, seen in zip(settings, validated):
        inv: dict = {}
        for given, v in seen.items():
            if repr(v) in inv:
                raise InputError(f"{s.field}: {inv[repr(v)]} and {given} are the same value ({v!r})", field="--set")
            inv[repr(v)] = given
    # a column's type is its values' (null, a field's "none" or "its default", stays null)
    kinds = [_column_kind([x for x in seen.values() if x is not None]) for seen in validated]
    return [Point(i, {c: None if validated[k][repr(v)] is None else kind(validated[k][repr(v)])
                      for k, (c, v, kind) in enumerate(zip(cols, combo, kinds))},
                  world, label) for i, (combo, world, label) in enumerate(zip(combos, worlds, labels))]


def applied(raw: dict, settings: list[Setting], values) -> dict:
    """A copy of scenario mapping ``raw`` with each setting's field set to its value in ``values``
    (:func:`apply`, one after the other)."""
    data = raw
    for s, v in zip(settings, values, strict=True):
        data = apply(data, s, v)
    return data


def _once_each(settings: list[Setting]) -> list[str]:
    """The settings' columns; a field set twice (or two fields of one column name) is refused."""
    cols = [s.column for s in settings]
    twice = sorted({s.field for s in settings if cols.count(s.column) > 1})
    if twice:
        raise InputError(f"{', '.join(twice)} set twice (or two fields with one column name)", field="--set")
    return cols


def _compiled(source: str, raw: dict, settings: list[Setting], combo: tuple):
    """The scenario ``raw`` with ``settings`` set to ``combo``: ``(the mapping, its label, the
    validated scenario, its world)``; an error names the ``--set`` values (the label), unless
    the scenario as written is refused for the same reasons: then it is the scenario's own."""
    try:
        data = applied(raw, settings, combo)
    except InputError as e:  # (apply names the setting; the file is named here)
        raise InputError(e.message, field=e.field, source=source) from None
    label = ", ".join(f"{s.field}={as_written(v)}" for s, v in zip(settings, combo, strict=True))
    typed = ", ".join(f"{s.field}={s.typed(v)}" for s, v in zip(settings, combo, strict=True))
    try:
        scn = parse(data, source)
        world = compile_world(scn, source)
    except InputError as e:
        base = _scenario_error(raw, source)
        if base is not None and set(e.problems) <= set(base.problems):
            raise base from None
        raise _relabelled(e, typed, source) from None  # the values as typed: 1e400, not inf
    return data, label, scn, world


def with_settings(scenario: str, settings: list[Setting],
                  loaded: tuple[str, dict] | None = None) -> tuple[str, dict, World]:
    """A scenario with one value set per ``--set`` (``shieldlab run``, ``tracks`` and
    ``validate``): ``(source, the mapping as run, its world)``, the errors as a sweep point's.
    A setting of several values is refused (a sweep runs them), as is a field set twice.
    ``loaded``: ``(source, mapping)`` as :func:`load` read the scenario already."""
    source, raw = load(scenario) if loaded is None else loaded
    for s in settings:
        if len(s.values) != 1:
            raise InputError(f"{s.field}: one value here, not {len(s.values)} (shieldlab sweep runs several)",
                             field="--set")
    _once_each(settings)
    data, _, _, world = _compiled(source, raw, settings, tuple(s.values[0] for s in settings))
    return source, data, world


def validated_value(scn, path: tuple[str | int, ...], given):
    """The value at ``path`` of the validated scenario (a scalar), or ``given`` where the path
    does not read back as one."""
    node: object = scn
    try:
        for step in path:
            if isinstance(node, dict):
                node = node[step]
            elif isinstance(node, (list, tuple)) and isinstance(step, int):
                node = node[step]
            else:
                node = getattr(node, str(step))
    except (KeyError, IndexError, AttributeError, TypeError):
        return given
    if isinstance(node, datetime.datetime):  # an epoch: one spelling (UTC, ISO 8601) for one instant
        return node.isoformat()
    return node if isinstance(node, (bool, int, float, str)) else given


def _column_kind(values: list):
    """One type for a column: bool, int, float (ints and floats mixed) or str."""
    if all(isinstance(v, bool) for v in values):
        return bool
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return int
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return float
    return str


def load(scenario: str) -> tuple[str, dict]:
    """A scenario's source name and its YAML mapping, as read (before validation)."""
    where, source = locate(scenario)
    raw = read_yaml(where, source)
    if not isinstance(raw, dict):
        raise InputError("a scenario must be a YAML mapping of fields", source=source)
    return source, raw


def stored_chunk(folder: str | Path, resume: bool) -> int | None:
    """The chunk size of the stopped sweep (or run) in ``folder`` that ``resume`` goes on
    with, as its manifest says; None for a new one.  A run's results do not depend on its
    chunk's size, so a resumed sweep keeps its own even where this version would choose
    another."""
    if not (resume and (Path(folder) / dataset.MANIFEST).is_file()):
        return None
    try:
        chunk = dataset.Sweep.read_manifest(folder, "--out")["chunk"]
    except (InputError, KeyError, TypeError):
        return None  # Sweep.open says what is wrong with it
    # only a size this version could have chosen: another (an edited manifest) would read
    # the stored chunks as other runs; Sweep.open then refuses the folder
    if type(chunk) is not int or not 1 <= chunk <= CHUNK:
        return None
    return chunk


def checkpoint(source: str, raw: dict, runs: int, seed: int, out_dir: str | Path, chunk: int, *,
               resume: bool = False, force: bool = False, settings: list[Setting] | None = None,
               file_raw: dict | None = None):
    """What ``shieldlab run --out DIR`` simulates into: ``(store, folder)``, the chunk store
    of a one-point sweep folder beside DIR, ``.DIR.partial``, that keeps each finished
    chunk of ``chunk`` runs until the results folder is written (then the caller removes
    it).  ``source``, ``raw``: the scenario as :func:`load` read it (its digest goes into
    the manifest, and ``settings``, the run's ``--set`` values, one each, so that a refused
    resume can say what the stopped run was given).  With ``resume`` a stopped run's chunks
    there are kept, in its own chunk size.  ``file_raw``: the scenario as written, before
    the settings (its digest too, so that a refused resume can tell a change of the file from
    one of the ``--set`` values)."""
    out = Path(out_dir)
    folder = partial_folder(out)
    chunk = stored_chunk(folder, resume) or min(chunk, int(runs))  # (no chunk holds more than the runs)
    manifest = {"scenario": source, "scenario_sha256": dataset.digest(raw),
                "file_sha256": dataset.digest(raw if file_raw is None else file_raw),
                "code_sha256": dataset.code_digest(), "runs": int(runs), "seed": int(seed),
                "chunk": int(chunk),
                # (by field: the same settings given in another order are the same run)
                "settings": [{"field": st.field, "column": st.column, "values": list(st.values)}
                             for st in sorted(settings or (), key=lambda st: st.field)]}
    sweep = dataset.Sweep.open(folder, manifest, resume=resume, force=force,
                               busy=f"a stopped run into {out} is kept in {folder}", kind="run")
    return sweep.point(0, {}), folder


def run_sweep(scenario: str | tuple[str, dict], settings: list[Setting], runs: int, seed: int,
              out_dir: str | Path, *, resume: bool = False, force: bool = False,
              progress: Callable[[int], None] | None = None, client=None, note: Callable[[str], None] | None = None,
              kept: Callable[[int], None] | None = None) -> dataset.Sweep:
    """Run a sweep into ``out_dir`` (see the module's notes); returns the finished dataset.
    ``progress(n_done)`` is called with the runs done so far (over all points, those of a
    resumed sweep's completed chunks included).  ``client``: a ``distributed.Client`` whose
    workers run every point's chunks at once (:mod:`shieldlab.engine.distribute`).
    ``note(text)``: told what the sweep leaves out (a mixed scenario's flights), and what a
    resumed sweep keeps; ``kept(n)``: told, before any run, the runs a resumed sweep had done.
    ``scenario``: a preset's name or a file's path, or ``(source, mapping)``: a scenario's name
    and its fields as a file would hold them (one made in Python: :func:`shieldlab.scenario.to_mapping`)."""
    if runs < 1:
        raise InputError("must be at least 1", field="--runs")
    source, raw = load(scenario) if isinstance(scenario, str) else scenario
    pts = points(source, raw, settings)
    if note is not None and raw.get("threats") and raw.get("flights"):
        note(f"note: a sweep runs the ballistic threats' kill chain only: the scenario's "
             f"{len(raw['flights'])} flight entr{'y is' if len(raw['flights']) == 1 else 'ies are'} not flown "
             "(shieldlab run flies them)")
    # a new sweep aims every point's threats before its folder is made: an aim out of reach
    # is refused with nothing written (a resumed one was aimed when it started)
    aimed = {} if resume else {p.index: preflight_point(p, runs, raw) for p in pts}
    # one writer at a time: the folder is held from here to the end (io.lock; a second sweep
    # or run into it is refused), every check before this one having passed
    with writing(out_dir):
        return _sweep_into(out_dir, source, raw, settings, pts, aimed, runs, seed, resume, force, progress, client,
                           note, kept)


def _sweep_into(out_dir, source: str, raw: dict, settings: list[Setting], pts: list[Point], aimed: dict, runs: int,
                seed: int, resume: bool, force: bool, progress, client, note, kept) -> dataset.Sweep:
    """:func:`run_sweep`'s work once the folder is held: the manifest, the chunks, the summaries."""
    # one chunk size for every point: the smallest any point's memory asks for
    chunk = stored_chunk(out_dir, resume) or min([runs] + [chunk_runs(p.world, aimed.get(p.index)) for p in pts])
    manifest = {"scenario": source, "scenario_sha256": dataset.digest(raw),
                "code_sha256": dataset.code_digest(), "runs": int(runs), "seed": int(seed),
                # each setting's values as the scenario reads them (2, not 2.0 as given): the
                # record, the report and a resume's comparison see one spelling
                "chunk": int(chunk), "settings": [{"field": s.field, "column": s.column, "named": s.named(raw),
                                                   "values": list(dict.fromkeys(p.values[s.column] for p in pts))}
                                                  for s in settings],
                # whether the points share every draw (common_draws): a script reads it in points too
                "common_random_numbers": _common_draws(out_dir, settings, pts, aimed, runs, raw, resume)}
    sweep = dataset.Sweep.open(out_dir, manifest, resume=resume, force=force)
    # a null value's column in the tables takes the type of the others (not text)
    sweep.column_types = {c: pa.array([p.values[c] for p in pts if p.values[c] is not None]).type
                          for c in (s.column for s in settings)}
    n_chunks = (runs + chunk - 1) // chunk
    if resume and (note is not None or kept is not None):
        sizes = chunk_sizes(runs, chunk)
        done = [sizes[i] for p in pts for i in range(n_chunks) if sweep.point(p.index, p.values).complete(i)]
        if done and note is not None:
            note(dataset.resumed_note(len(done), n_chunks * len(pts), sum(done), runs * len(pts)))
        if done and kept is not None:
            kept(sum(done))
    if client is not None:
        _chunks_on_cluster(client, sweep, pts, runs, chunk, seed, progress,
                           lambda p: aimed[p.index] if p.index in aimed else preflight_point(p, runs, raw))
    offset = 0  # runs of the earlier points
    for p in pts:
        store = sweep.point(p.index, p.values)
        stored = all(store.complete(i) for i in range(n_chunks))
        if not (stored and sweep.has_summary(p.index)):
            flights = None if stored else aimed[p.index] if p.index in aimed else preflight_point(p, runs, raw)
            # (on a cluster every chunk is stored already, and progress was told so)
            report = None if progress is None or client is not None else (lambda n, o=offset: progress(o + n))
            res = simulate(p.world, runs, seed, progress=report, flights=flights, store=store)
            sweep.write_summary(p.index, p.values, res.summary)
        offset += runs
        if progress and client is None:
            progress(offset)
    sweep.finish()
    return sweep


def _common_draws(out_dir, settings: list[Setting], pts: list[Point], aimed: dict, runs: int, raw: dict,
                  resume: bool) -> bool:
    """:func:`common_draws` of a sweep's points: a resumed sweep's as its manifest says (its
    points are aimed only where a chunk is left to run), else counted from each point's
    flights (aimed here where they were not yet)."""
    fields = [s.field for s in settings]
    moved = redealing(fields)
    if not moved or not all(_by_scans(f) for f in moved):
        return not moved
    if resume and (Path(out_dir) / dataset.MANIFEST).is_file():
        try:
            kept = dataset.Sweep.read_manifest(out_dir, "--out").get("common_random_numbers")
        except InputError:
            kept = None  # (Sweep.open says what is wrong with it)
        if isinstance(kept, bool):
            return kept
    for p in pts:
        if p.index not in aimed:
            aimed[p.index] = preflight_point(p, runs, raw)
    return common_draws(fields, [scans_of(p.world, aimed[p.index]) for p in pts])


def _chunks_on_cluster(client, sweep: dataset.Sweep, pts: list[Point], runs: int, chunk: int, seed: int,
                       progress: Callable[[int], None] | None, flights_of: Callable[[Point], object]) -> None:
    """Every point's missing chunks, all submitted at once to ``client``'s workers and written
    to the sweep folder as they arrive (a point's summary then reads them back).
    ``flights_of(point)``: its preflight, as on one machine (aimed already, or aimed now with
    its errors named as there)."""
    from shieldlab.engine import distribute

    sizes = chunk_sizes(runs, chunk)
    jobs = []
    for p in pts:
        store = sweep.point(p.index, p.values)
        todo = [i for i in range(len(sizes)) if not store.complete(i)]
        if not todo:
            continue
        w, f = distribute.scatter(client, p.world, flights_of(p))
        jobs += [distribute.Job(w, f, i * chunk, sizes[i], seed, functools.partial(store.write, i)) for i in todo]
    already = runs * len(pts) - sum(j.size for j in jobs)
    if progress:  # the kept chunks at once, not when the first new one lands
        progress(already)
    distribute.run_chunks(client, jobs, None if progress is None else (lambda n: progress(already + n)))

