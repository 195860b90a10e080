"""shieldlab: an open, batched simulator of integrated air and missile defence.

The kill chain, one module per stage, records of arrays between them:

    scenario -> flyout -> sensors -> tracking -> c2 -> engage -> outcome

Public API (everything else may change)::

    import shieldlab
    world = shieldlab.load_world("epaa-phase-1")          # preset name or YAML path
    res = shieldlab.simulate(world, runs=100, seed=1)     # Monte Carlo
    big = shieldlab.simulate(world, runs=10**5, out="big")  # streamed to a results folder, resumable
    res.summary["mean_leakers"]
    res.outcomes["outcome"]                               # a row per run x threat
    shieldlab.flyout.minimum_energy(10_000e3)             # closed-form Kepler shot (a KeplerShot)

and ``simulate_air`` (flights: aircraft, cruise missiles, air policing),
``simulate_shelling`` (unguided fire and weapon-locating radars), ``compare`` (one scenario
under several C2 architectures, the same raids in each), ``sweep`` (a scenario over the
product of a few fields' values, written as a Parquet dataset: a ``SweepResult``) and
``query`` (SQL over a run's or a sweep's folder), ``open_results`` (a results folder as the
``Results`` that made it), ``track_history`` (one run's tracks and
truth over time), ``fly`` (one missile steered and
flown, in degrees: a ``Shot``), ``reach`` (can an interceptor catch one trajectory: a
``Reach``), ``notes`` (what a loaded world may not do as its author meant), ``presets()``
(the built-in scenarios' names), ``MAX_RUNS`` (the most runs one call takes), ``InputError``
(bad input, naming the field), ``earth`` and ``flyout``; ``catalog``, ``scenario`` and
``analysis``, and the result types ``Results``, ``AirResult``, ``ShellingResult``,
``ArchitectureResult``, ``Shot``, ``Reach`` and ``World`` (imported on first use).
"""

__version__ = "0.1.0"

import os as _os


def _choose_numba_cache_dir(package_dir: str, environ) -> str | None:
    """A writable folder for Numba's cache of the compiled kernels where Numba cannot write
    beside the modules (a read-only install); None where it can, or where the user set
    NUMBA_CACHE_DIR.  Numba reads its cache folder when the kernels are imported, so this
    runs before anything of shieldlab imports numba."""
    import tempfile

    if environ.get("NUMBA_CACHE_DIR"):
        return None
    here = _os.path.join(package_dir, "flyout", "__pycache__")
    if not _os.path.isdir(here):
        here = _os.path.dirname(here)
    if _os.access(here, _os.W_OK | _os.X_OK):
        return None
    candidates = []
    if environ.get("XDG_CACHE_HOME"):
        candidates.append(_os.path.join(environ["XDG_CACHE_HOME"], "shieldlab", "numba"))
    home = environ.get("HOME")
    if home and _os.path.isdir(home):
        candidates.append(_os.path.join(home, ".cache", "shieldlab", "numba"))
    uid = getattr(_os, "getuid", lambda: "user")()
    candidates.append(_os.path.join(tempfile.gettempdir(), f"shieldlab-numba-{uid}"))
    for d in candidates:
        try:
            _os.makedirs(d, mode=0o700, exist_ok=True)
        except OSError:
            continue
        if _os.access(d, _os.W_OK | _os.X_OK):
            return d
    return None


_numba_cache = _choose_numba_cache_dir(_os.path.dirname(_os.path.abspath(__file__)), _os.environ)
if _numba_cache is not None:
    _os.environ["NUMBA_CACHE_DIR"] = _numba_cache
    import sys as _sys

    if "numba" in _sys.modules:  # imported before shieldlab: its config has been read already
        _sys.modules["numba"].config.CACHE_DIR = _numba_cache

from shieldlab import earth, flyout  # noqa: E402
from shieldlab.errors import InputError, checked_latlon  # noqa: E402


def load_world(scenario):
    """Load, validate and compile a scenario into a World (SI, ECEF): a built-in preset's
    name, a YAML file's path, a mapping of the YAML's fields, or a
    :class:`shieldlab.scenario.Scenario` (one loaded with :func:`shieldlab.scenario.load`
    and changed with ``model_copy``: validated again here).  Bad input raises
    :class:`InputError` naming the field.  Whether each threat's aim point is within its
    missile's reach is found when it is steered: :func:`simulate` (or ``shieldlab validate``).

    To change a field of a preset::

        from shieldlab.scenario import load
        scn = load("patriot-turkey-2013")
        doctrine = scn.doctrine.model_copy(update={"salvo": 1})
        world = shieldlab.load_world(scn.model_copy(update={"doctrine": doctrine}))
    """
    from collections.abc import Mapping

    from shieldlab.scenario import Scenario, compile_world
    from shieldlab.scenario import load_world as _load
    from shieldlab.scenario.loader import parse

    if isinstance(scenario, Scenario):  # errors name it by its name: it has no file
        source = f"scenario {scenario.name!r}"
        # the fields it sets, as a file would hold them (a dump of every field set the defaults
        # too, and the notes then said unread tracking settings were given)
        return compile_world(parse(_with_unknown_keys(scenario, scenario.model_dump(warnings=False,
                                                                                     exclude_unset=True)), source),
                             source)
    if isinstance(scenario, Mapping):
        source = f"scenario {scenario['name']!r}" if isinstance(scenario.get("name"), str) else "scenario"
        return compile_world(parse(dict(scenario), source), source)
    if not isinstance(scenario, (str, _os.PathLike)):
        raise InputError(f"a preset's name, a YAML file's path, a mapping or a Scenario, not an object of type "
                         f"{type(scenario).__name__}", field="scenario")
    from pathlib import Path

    # a path stays a path: a file named like a preset is the file (the loader's rule)
    try:
        return _load(scenario if isinstance(scenario, str) else Path(scenario))
    except InputError as e:
        if e.field is None and len(e.problems) == 1:  # no such file, a folder, not a mapping: the argument
            e.field, e.problems = "scenario", [("scenario", e.message)]
        raise


def _with_unknown_keys(model, data):
    """``data`` (``model``'s dump) with the keys ``model_copy(update=...)`` set that are no
    field of ``model`` or of a model inside it: a dump drops them, so a misspelt field in an
    update was ignored without a word; given back, validation names them."""
    from pydantic import BaseModel

    fields = type(model).model_fields
    alias_of = {f.alias: name for name, f in fields.items() if f.alias and f.alias != name}
    for k, v in model.__dict__.items():
        if k in alias_of:  # an update by the field's YAML name (``from``): that field's new value
            data[alias_of[k]] = v
            continue
        if k not in fields:
            data[k] = v
            continue
        inner = data.get(k)
        if isinstance(v, BaseModel) and isinstance(inner, dict):
            _with_unknown_keys(v, inner)
        elif isinstance(v, (list, tuple)) and isinstance(inner, list):
            for a, b in zip(v, inner):
                if isinstance(a, BaseModel) and isinstance(b, dict):
                    _with_unknown_keys(a, b)
        elif isinstance(v, dict) and isinstance(inner, dict):
            for kk, a in v.items():
                if isinstance(a, BaseModel) and isinstance(inner.get(kk), dict):
                    _with_unknown_keys(a, inner[kk])
    return data


#: The most runs :func:`simulate` (and ``shieldlab run``) takes.
MAX_RUNS = 1_000_000


def simulate(world, runs: int = 100, seed: int = 1, client=None, *, out=None, resume: bool = False,
             force: bool = False):
    """Run the kill chain over ``runs`` Monte Carlo replications; returns a ``Results``:
    ``summary`` (the dict ``summary.json`` holds), and the tables as dicts of NumPy
    columns: ``outcomes`` (a row per run x threat: ``run``, ``threat``, ``outcome``,
    ``intercepted_by``, ``intercept_time_s``, ``asset_hit``, ...; docs/user-guide.md lists
    them), ``events`` (the timeline), ``track_quality`` (a row per run x picture) and
    ``tracks`` (under ``tracking.association: gnn``, a row per confirmed track);
    ``read(name)`` and ``table(name)`` read any of them by name.

    ``runs``: 1 to :data:`MAX_RUNS`; ``seed``: an integer of at least 0 (the same seed, the same
    numbers).  Every threat is steered first and the memory the run needs is checked against
    what the machine has (the tables of all runs are held in memory: for very many runs give
    ``out``, below, which writes them as it goes): bad input raises
    :class:`InputError` naming the field before anything runs.  ``client``: a
    ``distributed.Client`` whose workers run the chunks of runs (the same results, to the
    bit, as in this process); None runs them here.

    ``out``: a folder to write, as ``shieldlab run --out`` writes it (summary.json, the tables
    as Parquet, scene.czml and report.html of run 0): each chunk of runs is kept on disk as
    it is finished, beside the folder, so memory stays flat in the number of runs, and the
    returned ``Results`` reads its tables back from the folder a piece of whole runs at a time
    (``table``, ``read``, ``to_arrow``; ``outcomes``, ``events``, ``track_quality`` and
    ``tracks`` are None); ``shieldlab.query(out, sql)`` answers SQL over it.  ``resume``
    finishes a stopped call into ``out`` (the same world, runs and seed), keeping its finished
    chunks; ``force`` replaces a results folder there.  The results are the same, to the bit,
    as without ``out``.

    A scenario with flights or shelling beside its threats runs them too, as ``shieldlab run``
    does: ``res.air`` and ``res.shelling`` (their outcomes and events), their summaries under
    ``res.summary["air"]`` and ``["shelling"]``.
    """
    import dataclasses

    from shieldlab.engine.montecarlo import run_beside
    from shieldlab.engine.montecarlo import simulate as _simulate

    _check_run(world, runs, seed)
    _check_client(client)
    if not world.threats:  # (the command line's refusal names its own commands)
        held = [what for what, here in (("aircraft and cruise missiles (flights)", world.flights),
                                        ("shelling", world.shelling is not None)) if here]
        runs_with = {"aircraft and cruise missiles (flights)": "shieldlab.simulate_air(world, runs, seed)",
                     "shelling": "shieldlab.simulate_shelling(world, runs, seed)"}
        raise InputError("the scenario has no ballistic threats for the kill chain that simulate runs"
                         + (": its " + " and its ".join(f"{w} run with {runs_with[w]}" for w in held) if held else ""),
                         source=world.source, field="threats")
    if out is not None or resume or force:
        return _simulate_into(world, int(runs), int(seed), out, resume=resume, force=force, client=client)
    flights = _prepared(world, int(runs))
    res = _simulate(world, runs=int(runs), seed=int(seed), flights=flights, client=client)
    air, shelling = run_beside(world, int(runs), int(seed), res.summary)
    return dataclasses.replace(res, air=air, shelling=shelling)


def _prepared(world, runs: int, stored: bool = False):
    """What :func:`simulate` checks before anything runs: every threat steered and the memory
    the runs need (:func:`shieldlab.engine.chain.preflight`; ``stored``: its chunks kept on
    disk), every fire mission laid; the nominal flights."""
    from shieldlab.engine.chain import preflight

    flights = preflight(world, runs, stored=stored)
    if world.shelling is not None:
        from shieldlab.engine.shelling import check

        check(world)
    return flights


def _simulate_into(world, runs: int, seed: int, out, *, resume, force, client):
    """:func:`simulate` into the results folder ``out`` (checked, held against a second
    writer, its chunks kept beside it until the folder is written): ``shieldlab run --out``'s
    work, without its printout; its errors name the arguments (``out``, ``resume=True``), not
    the command's options."""
    from shieldlab.io.sweep_result import for_python

    try:
        return _simulate_into_folder(world, runs, seed, out, resume=resume, force=force, client=client)
    except InputError as e:
        raise for_python(e) from None


def _simulate_into_folder(world, runs: int, seed: int, out, *, resume, force, client):
    """:func:`_simulate_into`'s work."""
    import dataclasses
    import shutil

    from shieldlab.engine.chain import chunk_runs
    from shieldlab.engine.montecarlo import run_beside
    from shieldlab.engine.montecarlo import simulate as _simulate
    from shieldlab.engine.sweep import checkpoint
    from shieldlab.io.lock import writing
    from shieldlab.io.output import check_out_dir
    from shieldlab.io.run_folder import FolderStore, discard_if_unstarted, finished_run, write_run_folder
    from shieldlab.scenario import to_mapping

    if out is None:
        raise InputError("finishes or replaces a results folder: give out", field="resume" if resume else "force")
    _check_folder_arguments(out, resume, force)
    out = _os.fspath(out)
    if resume and finished_run(out):
        raise InputError(f"{out} holds the results of a finished run: nothing to resume", field="resume")
    check_out_dir(out, force=bool(force or resume), field="out")
    flights = _prepared(world, runs, stored=True)
    # the scenario as a file would hold it: the checkpoint's digest, so that a resume with
    # another world is refused
    raw = to_mapping(world.scenario)
    with writing(out, field="out"):
        store, partial = checkpoint(world.source, raw, runs, seed, out, chunk_runs(world, flights),
                                    resume=bool(resume), force=bool(force))
        try:
            res = _simulate(world, runs=runs, seed=seed, flights=flights, store=store, client=client)
        except BaseException:
            if not resume:  # stopped before a chunk was finished: nothing worth resuming is left behind
                discard_if_unstarted(partial)
            raise
        air, shelling = run_beside(world, runs, seed, res.summary, scene_run=0)
        write_run_folder(out, world, res, flights, seed, air=air, shelling=shelling, force=bool(force or resume))
        shutil.rmtree(partial, ignore_errors=True)
    return dataclasses.replace(res, store=FolderStore(out), air=air, shelling=shelling)


def open_results(out):
    """A finished results folder (``shieldlab run --out``, ``simulate(..., out=)``) as the
    ``Results`` that made it, in a later session: its ``summary`` (summary.json) and its
    tables read back from its Parquet files a piece of whole runs at a time (``table``,
    ``read``, ``to_arrow``; ``outcomes`` and the others None); ``res.air`` and
    ``res.shelling`` are None (their tables are the folder's ``air_outcomes`` and
    ``shelling_rounds``: ``shieldlab.query``).  A folder without a finished run's summary
    raises :class:`InputError` (field ``out``)."""
    import json

    from shieldlab.engine.montecarlo import Results
    from shieldlab.io.run_folder import FolderStore, finished_run

    if not isinstance(out, (str, _os.PathLike)):
        raise InputError(f"must be a folder's path, not {type(out).__name__}", field="out")
    folder = _os.fspath(out)
    if not finished_run(folder):
        from shieldlab.engine.sweep import partial_folder

        why = (f"{folder} holds a stopped run: finish it with simulate(..., out={folder!r}, resume=True)"
               if partial_folder(folder).exists() else f"{folder} holds no finished run's results (no summary.json)")
        raise InputError(why, field="out")
    try:
        with open(_os.path.join(folder, "summary.json"), encoding="utf-8") as f:
            summary = json.load(f)
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read {folder}/summary.json: {e}", field="out") from None
    if not isinstance(summary, dict) or "runs" not in summary or not _os.path.exists(
            _os.path.join(folder, "outcomes.parquet")):
        raise InputError(f"{folder} is not the results folder of a kill chain's run (no outcomes.parquet)",
                         field="out")
    return Results(summary, None, None, None, None, FolderStore(folder))


def track_history(world, run: int = 0, seed: int = 1):
    """Run ``run`` of ``simulate(world, runs, seed)`` (any ``runs`` above ``run``: a run draws
    from its own streams alone) again alone, and return its tracks and truth over time: a
    :class:`shieldlab.io.history.TrackHistory` whose ``tracks`` hold a row per track and update
    of each picture fire control read (state in ECEF and degrees, its position sigma, the
    reports taken, whether confirmed, and, for scoring only, the threat behind it, the truth
    then and the errors) and ``truth`` a row per threat and flight sample, each to the threat's
    landing or destruction; ``to_pandas(name)``
    and ``to_arrow(name)`` (with each column's meaning and unit) as for ``Results``.  Times are
    scenario time [s after the epoch].  Bad input raises :class:`InputError` naming the field."""
    from shieldlab.engine.chain import preflight, replay_run
    from shieldlab.io.history import TrackHistory, tables

    _check_world(world)
    _check_int("run", run, 0, MAX_RUNS - 1)
    _check_int("seed", seed, 0, None)
    if not world.threats:
        raise InputError("the scenario has no ballistic threats to track", source=world.source, field="threats")
    chunk = replay_run(world, preflight(world, 1), int(seed), int(run))
    tracks, truth = tables(world, chunk)
    return TrackHistory(int(run), int(seed), tracks, truth)


def _check_run(world, runs, seed) -> None:
    """The API's checks of a Monte Carlo's arguments: a compiled world, ``runs`` an integer from
    1 to :data:`MAX_RUNS`, ``seed`` an integer of at least 0 (:class:`InputError` naming the
    field)."""
    _check_world(world)
    _check_counts(runs, seed)


def _check_counts(runs, seed) -> None:
    """``runs`` an integer from 1 to :data:`MAX_RUNS`, ``seed`` one of at least 0, else an
    :class:`InputError` naming the field (a Monte Carlo's and a sweep's alike)."""
    _check_int("runs", runs, 1, MAX_RUNS)
    _check_int("seed", seed, 0, None)


def _check_int(name: str, value, lo: int, hi: int | None) -> None:
    """``value`` an integer (not a bool) from ``lo`` to ``hi`` (no upper bound where None),
    else an :class:`InputError` naming ``name``."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"must be an integer, not {value!r}", field=name)
    if int(value) < lo or (hi is not None and int(value) > hi):
        raise InputError(f"must be {lo} or more" + (f" and at most {hi:,}" if hi is not None else "")
                         + f", not {value}", field=name)


def _check_client(client) -> None:
    """:class:`InputError` (field ``client``) unless ``client`` is None or a
    ``distributed.Client`` (its ``submit`` and ``scatter``): a Monte Carlo's and a sweep's alike."""
    if client is not None and not all(callable(getattr(client, m, None)) for m in ("submit", "scatter")):
        raise InputError(f"a distributed.Client (or None, to run here), not {type(client).__name__} {client!r}",
                         field="client")


def _check_folder_arguments(out, resume, force) -> None:
    """``out`` a folder's path, ``resume`` and ``force`` True or False and not both, else an
    :class:`InputError` naming the argument (a sweep's and a run into a folder's alike)."""
    import numpy as np

    if not isinstance(out, (str, _os.PathLike)):
        raise InputError(f"must be a folder's path, not {type(out).__name__}", field="out")
    for name, value in (("resume", resume), ("force", force)):
        if not isinstance(value, (bool, np.bool_)):  # (bool("false") is True: a folder replaced unasked)
            raise InputError(f"must be True or False, not {value!r}", field=name)
    if resume and force:
        raise InputError("give resume or force, not both", field="force")


def _check_world(world) -> None:
    """:class:`InputError` (field ``world``) unless ``world`` is a compiled world."""
    from shieldlab.scenario.compile import World

    if not isinstance(world, World):
        from collections.abc import Mapping

        from shieldlab.scenario import Scenario

        hint = (f": load it first, shieldlab.load_world({world!r})" if isinstance(world, (str, _os.PathLike))
                else ": compile it first, shieldlab.load_world(scenario)" if isinstance(world, (Scenario, Mapping))
                else "")
        raise InputError(f"must be a scenario from shieldlab.load_world, not {type(world).__name__}{hint}",
                         field="world")


def notes(world) -> list[str]:
    """The notes on a world that loads but may not do what its author meant, one line of text
    each, beginning ``note:``: threats and no sensor or no battery, a battery with no round
    above its reserve, ``engage: threatening`` with no defended asset, tracking settings the
    chosen association does not read, a C2 sector holding none of its node's batteries, a link
    that carries nothing, a weapon standing off the ground its locating radar assumes, a
    fighter base abroad.  They are what ``shieldlab validate`` prints, but for two that need
    more than the world: an early-warning satellite that sees no launch burn (the threats
    flown first) and a fire mission no weapon-locating radar reaches (the shelling's checks).
    Nothing is simulated; an empty list where there is nothing to note."""
    from shieldlab.scenario.notes import notes as _notes

    _check_world(world)
    return _notes(world)


def simulate_air(world, runs: int = 100, seed: int = 1):
    """The air picture of a scenario's ``flights`` (aircraft, cruise missiles; air policing where
    the scenario has it) over ``runs`` Monte Carlo runs, as ``shieldlab run`` flies it: an
    ``AirResult`` with ``summary`` (``summary["flights"]``: each entry's fates and how it was
    seen), ``outcomes`` and ``events`` (columns as NumPy arrays).  ``runs`` and ``seed`` as
    :func:`simulate`; a scenario without flights raises :class:`InputError` (field ``flights``)."""
    from shieldlab.engine.air import simulate_air as _simulate_air

    _check_run(world, runs, seed)
    if not world.flights:
        raise InputError("the scenario has no flights (aircraft or cruise missiles) to fly", source=world.source,
                         field="flights")
    return _simulate_air(world, int(runs), int(seed), scene_run=None)


def simulate_shelling(world, runs: int = 100, seed: int = 1):
    """A scenario's ``shelling`` (fire missions and the weapon-locating radars that watch them)
    over ``runs`` Monte Carlo runs, as ``shieldlab run`` fires it: a ``ShellingResult`` with
    ``summary``, ``rounds`` and ``events`` (columns as NumPy arrays).  ``runs`` and ``seed`` as
    :func:`simulate`; every mission is laid first (an aim out of reach raises
    :class:`InputError` naming it); a scenario without shelling raises :class:`InputError`
    (field ``shelling``)."""
    from shieldlab.engine.shelling import check
    from shieldlab.engine.shelling import simulate_shelling as _simulate_shelling

    _check_run(world, runs, seed)
    if world.shelling is None:
        raise InputError("the scenario has no shelling to fire", source=world.source, field="shelling")
    check(world)
    return _simulate_shelling(world, int(runs), int(seed), scene_run=None)


def compare(world, architectures=("independent", "coordinated", "integrated"), runs: int = 100, seed: int = 1):
    """Run ``world`` under each of the C2 ``architectures`` (a sequence of names of ``independent``,
    ``coordinated``, ``sectoral``, ``integrated``, or one name alone; a node needs a sector for ``sectoral``)
    with the same raids: the same ``runs`` and ``seed``, so the same dispersed flights and
    sensor noise in each.  Returns a list of
    :class:`shieldlab.analysis.compare.ArchitectureResult`, one per architecture in the order
    given: per raid, the mean leakers, interceptors fired, hits on defended assets and the rest
    with 95 % intervals, and for each after the first its raid-by-raid differences from the
    first (``leakers_difference``, ``interceptors_difference``, ``raids_fewer_leakers``,
    ``raids_more_leakers``), as ``shieldlab compare`` prints them.  Bad input raises
    :class:`InputError` naming the field."""
    from shieldlab.analysis.compare import compare as _compare
    from shieldlab.c2.network import architecture_names
    from shieldlab.engine.chain import require_threats

    _check_run(world, runs, seed)
    from collections.abc import Iterable

    if not isinstance(architectures, str) and not isinstance(architectures, Iterable):
        raise InputError(f"a sequence of architecture names, not {architectures!r}", field="architectures")
    names = architecture_names([architectures] if isinstance(architectures, str) else architectures, "architectures")
    require_threats(world, "shieldlab.simulate_air or simulate_shelling")
    return _compare(world, names, int(runs), int(seed))


def fly(missile, launch, aim, profile: str = "min-energy", apogee_km: float | None = None,
        flight_time_s: float | None = None):
    """Steer and fly one missile, as ``shieldlab flyout`` does: ``missile`` a catalogue id (or a
    :class:`shieldlab.catalog.Missile`), ``launch`` and ``aim`` ``(lat_deg, lon_deg)`` geodetic
    degrees, ``profile`` ``min-energy``, ``lofted`` or ``depressed``, shaped to ``apogee_km`` or
    ``flight_time_s`` where the missile can be.  Returns a :class:`shieldlab.flyout.shot.Shot`:
    burnout, apogee, time of flight, impact and its miss of the aim point, how it was steered
    (in the units their names carry) and the flight itself (``trajectory``, ECEF metres).  Bad
    input, an aim beyond reach or a shape it cannot fly raise :class:`InputError` naming the
    argument."""
    import math

    from shieldlab import catalog
    from shieldlab.flyout import aim as _aim
    from shieldlab.flyout.shot import fly_shot, profile_advice

    m = _entry(missile, catalog.get_missile, catalog.Missile, "missile")
    points = _latlon_pairs(launch=launch, aim=aim)
    _check_profile(profile)
    if apogee_km is not None and flight_time_s is not None:
        raise InputError("give an apogee or a flight time, not both", field="flight_time_s")
    for name, value in (("apogee_km", apogee_km), ("flight_time_s", flight_time_s)):
        if value is not None:
            _number(name, value, 0.0, math.inf, lo_open=True)
    try:
        return fly_shot(m, points[0], points[1], points[2], points[3], profile=profile, apogee_km=apogee_km,
                        flight_time_s=flight_time_s)
    except _aim.ShapeError as e:
        raise InputError(str(e), field="apogee_km" if apogee_km is not None else "flight_time_s") from None
    except _aim.NoSolutionError as e:  # its advice checked: the profiles that fly it, named
        raise InputError(profile_advice(e, m, points[0], points[1], points[2], points[3], profile, apogee_km,
                                        flight_time_s, named=lambda ps: " or ".join(f"profile={p!r}" for p in ps)),
                         field="aim") from None
    except _aim.AimError as e:
        raise InputError(str(e), field="aim") from None


def reach(interceptor, site, missile, launch, aim, profile: str = "min-energy", *,
          cue_delay_s: float | None = None, sensors=None, burnout_speed_kms: float | None = None):
    """Can ``interceptor`` at ``site`` catch ``missile`` flown from ``launch`` to ``aim``? As
    ``shieldlab reach`` answers it: ``interceptor`` and ``missile`` catalogue ids (or
    :class:`shieldlab.catalog.Interceptor` and :class:`shieldlab.catalog.Missile` entries),
    ``site``, ``launch`` and ``aim`` ``(lat_deg, lon_deg)`` geodetic degrees, ``profile`` as
    :func:`fly`'s.  The cue, as the command's: by default the battery's own radar at its site,
    alerted by a geostationary early-warning satellite; ``sensors`` (a scenario as
    :func:`load_world` takes it, or a ``World``) takes it from that scenario's sensors, its own
    catalogue entries standing for the built-in ones of the same id; ``cue_delay_s`` is a fixed
    delay from the threat's launch instead (0 to 3,600 s; 60 s where the interceptor has no
    radar).  ``burnout_speed_kms`` overrides the interceptor's.  Returns a
    :class:`shieldlab.analysis.reach.Reach`: ``feasible``, the window's ``earliest`` and
    ``latest`` intercepts and the ``gaps`` between them where the window is broken, the
    ``needed_burnout_speed_kms`` where it cannot and ``why_not``,
    ``latest_ready_s`` where it is ready too late, ``t_ready`` [s after launch], the
    sensors' ``cue`` and ``cue_source``.  Bad input or an aim beyond reach
    raises :class:`InputError` naming the argument."""
    import dataclasses
    import math

    from shieldlab import catalog
    from shieldlab.analysis.reach import DEFAULT_CUE_DELAY_S, analyse, cue_laydown
    from shieldlab.catalog.models import MAX_BURNOUT_SPEED_KMS
    from shieldlab.flyout import aim as _aim
    from shieldlab.scenario.compile import World

    slat, slon, lat0, lon0, lat1, lon1 = _latlon_pairs(site=site, launch=launch, aim=aim)
    _check_profile(profile)
    if cue_delay_s is not None:
        _number("cue_delay_s", cue_delay_s, 0.0, 3600.0)
    if burnout_speed_kms is not None:
        _number("burnout_speed_kms", burnout_speed_kms, 0.01, MAX_BURNOUT_SPEED_KMS)
    world = None
    if sensors is not None:
        if cue_delay_s is not None:
            raise InputError("give cue_delay_s or sensors, not both: each sets the cue", field="sensors")
        try:
            world = sensors if isinstance(sensors, World) else load_world(sensors)
        except InputError as e:
            if e.field in (None, "scenario") and len(e.problems) <= 1:  # not found, not a scenario: say which
                raise InputError(f"{e.source}: {e.message}" if e.source else e.message, field="sensors") from None
            # a bad field of that scenario, named under the argument (its epoch is sensors.epoch)
            raise InputError(problems=[(f"sensors.{f}" if f else "sensors", m) for f, m in e.problems],
                             source=e.source) from None
        if not world.sensors:
            raise InputError(f"scenario {world.scenario.name!r} has no sensors to give the cue", field="sensors")
    own_i = {} if world is None else {e.id: e for e in world.scenario.catalog.interceptors}
    own_m = {} if world is None else {e.id: e for e in world.scenario.catalog.missiles}
    spec = own_i.get(interceptor) if isinstance(interceptor, str) else None
    spec = spec or _entry(interceptor, catalog.get_interceptor, catalog.Interceptor, "interceptor")
    m = (own_m.get(missile) if isinstance(missile, str) else None) or _entry(missile, catalog.get_missile,
                                                                             catalog.Missile, "missile")
    r = math.radians
    cue_world, source = cue_laydown(spec, r(slat), r(slon), m, r(lat0), r(lon0), r(lat1), r(lon1), cue_delay_s,
                                    world)
    try:
        res = analyse(spec, r(slat), r(slon), m, r(lat0), r(lon0), r(lat1), r(lon1),
                      DEFAULT_CUE_DELAY_S if cue_delay_s is None else float(cue_delay_s), profile,
                      None if burnout_speed_kms is None else 1e3 * float(burnout_speed_kms), sensors=cue_world)
    except _aim.AimError as e:
        raise InputError(str(e), field="aim") from None
    return dataclasses.replace(res, cue_source=source)


def sweep(scenario, settings, runs: int = 100, seed: int = 1, *, out, resume: bool = False, force: bool = False,
          client=None):
    """Run ``scenario`` at every combination of some of its values, as ``shieldlab sweep`` does,
    into the folder ``out``; returns a :class:`shieldlab.io.sweep_result.SweepResult` (its
    ``points``, one summary a point, and ``query(sql)``).

    ``scenario``: a preset's name, a scenario file's path, or a
    :class:`~shieldlab.scenario.Scenario` (``shieldlab.scenario.load(...)``, changed with
    ``model_copy``); a sweep changes its fields before it compiles each point, so not a
    compiled ``World``.  ``settings``: a mapping of each field to sweep (its path
    as ``--set`` writes it: ``"doctrine.salvo"``, ``"batteries[0].rounds"``) to the values to
    try, or a list of ``"FIELD=V1,V2"`` texts as ``--set`` takes them; the product is run.
    ``runs`` per point (1 to :data:`MAX_RUNS`) from ``seed``: every point flies the same raids.
    ``out`` is written as the command writes it (a partitioned Parquet dataset, one summary
    per point, ``report.html``); ``resume`` finishes a stopped sweep there, keeping its
    completed chunks, ``force`` replaces the one there once the new one is finished (until
    then it waits beside it in ``.OUT.replaced``).  ``client``: a ``distributed.Client``
    whose workers run the points' chunks (the same results, to the bit).  Bad input raises
    :class:`InputError` naming the argument (``settings``, ``runs``, ``seed``, ``out``,
    ``resume``, ``client``; a point's bad value names the field and the point) before a point
    runs."""
    from shieldlab.engine import sweep as sw
    from shieldlab.io.sweep_result import SweepResult, for_python
    from shieldlab.scenario import Scenario, to_mapping
    from shieldlab.scenario.compile import World

    if isinstance(scenario, World):
        raise InputError("a sweep changes the scenario's fields before it compiles each point: give the preset's "
                         "name, the scenario file's path or its Scenario (shieldlab.scenario.load), not a compiled "
                         "World", field="scenario")
    if not isinstance(scenario, (str, _os.PathLike, Scenario)):
        raise InputError(f"must be a preset's name, a scenario file's path or a Scenario, not "
                         f"{type(scenario).__name__}", field="scenario")
    # a Scenario is swept as the file that holds its fields would be (its manifest's scenario
    # digest is of them: a resume with the same Scenario finds the same sweep)
    given = ((f"{scenario.name} (made in Python)", to_mapping(scenario)) if isinstance(scenario, Scenario)
             else _os.fspath(scenario))
    _check_counts(runs, seed)
    _check_folder_arguments(out, resume, force)
    _check_client(client)
    try:
        parsed = [sw.parse_setting(t) for t in _setting_texts(settings)]
        done = sw.run_sweep(given, parsed, int(runs), int(seed), _os.fspath(out), resume=bool(resume),
                            force=bool(force), client=client)
        rows = done.summaries()
        for r, p in zip(rows, done.paired(rows)):
            r.update(p)
    except InputError as e:
        said = for_python(e)
        if all(f is None for f, _ in said.problems) and isinstance(given, str) and said.source == given:
            # (the scenario itself refused, "no such file or preset": named as the argument)
            said = InputError(problems=[("scenario", m) for _, m in said.problems], source=said.source)
        raise said from None
    return SweepResult(done.root, int(runs), int(seed), rows)


def _setting_texts(settings) -> list[str]:
    """``sweep``'s ``settings`` as ``--set`` texts: a mapping's values written as a scenario
    file writes them (YAML: ``true``, ``null``, ``0.5``), or the texts as given."""
    from collections.abc import Mapping

    import yaml

    if isinstance(settings, str):
        settings = [settings]
    if isinstance(settings, Mapping):
        texts = []
        for field_, values in settings.items():
            if not isinstance(field_, str):
                raise InputError(f"a field's path is text (\"doctrine.salvo\"), not {field_!r}", field="settings")
            if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
                raise InputError(f"{field_}: give the values to try as a list, not {values!r}", field="settings")
            shown = []
            for v in values:
                if isinstance(v, str) and ("," in v or not v.strip()):
                    raise InputError(f"{field_}: a value is one word or number, not {v!r}", field="settings")
                shown.append(v if isinstance(v, str) else
                             yaml.safe_dump(v, default_flow_style=True).strip().removesuffix("...").strip())
            if not shown:
                raise InputError(f"{field_}: no values to try", field="settings")
            texts.append(f"{field_}={','.join(shown)}")
    elif isinstance(settings, (list, tuple)) and all(isinstance(t, str) for t in settings):
        texts = list(settings)
    else:
        raise InputError("a mapping of field to values ({\"doctrine.salvo\": [1, 2]}) or a list of "
                         f"\"FIELD=V1,V2\" texts, not {type(settings).__name__}", field="settings")
    if not texts:
        raise InputError("no field to sweep", field="settings")
    return texts


def query(folder, sql: str):
    """Answer ``sql`` (DuckDB) over a sweep's folder (:func:`sweep`, ``shieldlab sweep --out``), a
    run's results folder (``shieldlab run --out``) or one Parquet file, as ``shieldlab query``
    does: a ``pyarrow.Table`` (``.to_pandas()`` where pandas is installed).  The views are the
    command's (docs/user-guide.md); bad input raises :class:`InputError` naming ``folder`` or
    ``sql``."""
    from shieldlab.io.sweep_result import query_table

    return query_table(folder, sql)


def _entry(value, getter, kind, name: str):
    """A catalogue entry given by its id or as itself; else an InputError naming the argument."""
    if isinstance(value, str):
        return getter(value)  # an unknown id raises the catalogue's InputError, listing the ids
    if not isinstance(value, kind):
        raise InputError(f"a catalogue {name} id or a shieldlab.catalog.{kind.__name__}, not {type(value).__name__}",
                         field=name)
    return value


def _latlon_pairs(**pairs) -> list[float]:
    """The ``(lat_deg, lon_deg)`` pairs given, checked and flattened, in their order."""
    import numpy as np

    out: list[float] = []
    for name, value in pairs.items():
        try:
            # ("1,2" unpacks; True is 1; float("35") is 35): not a pair of numbers
            if isinstance(value, (str, bytes)) or any(isinstance(v, (bool, np.bool_, str, bytes)) for v in value):
                raise TypeError
            lat, lon = (float(v) for v in value)
        except (TypeError, ValueError):
            raise InputError(f"a (lat_deg, lon_deg) pair, not {value!r}", field=name) from None
        out += checked_latlon(lat, lon, name)
    return out


def _check_profile(profile) -> None:
    from shieldlab.flyout.aim import PROFILES

    if profile not in PROFILES:
        raise InputError(f"must be one of {', '.join(PROFILES)}, not {profile!r}", field="profile")


def _number(name: str, value, lo: float, hi: float, *, lo_open: bool = False) -> float:
    """A finite real number within [lo, hi] (above lo where ``lo_open``), else an InputError."""
    import math
    import numbers

    # (a NumPy integer is a number too; a bool, though an int, is not meant as one)
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value)
    if not ok or value < lo or value > hi or (lo_open and value == lo):
        want = "a positive number" if lo_open and lo == 0 and hi == math.inf else f"a number from {lo:g} to {hi:g}"
        raise InputError(f"must be {want}, not {value!r}", field=name)
    return float(value)


def presets() -> list[str]:
    """Names of the built-in scenario presets."""
    from shieldlab.scenario.loader import preset_names

    return preset_names()


#: Subpackages and result types read as attributes of ``shieldlab`` (``shieldlab.catalog``,
#: ``shieldlab.Results``) and imported on first use: ``import shieldlab`` stays light, and
#: ``shieldlab.catalog`` no longer depends on something else having imported it first.
_LAZY = {"catalog": ("shieldlab.catalog", None), "scenario": ("shieldlab.scenario", None),
         "analysis": ("shieldlab.analysis", None), "World": ("shieldlab.scenario.compile", "World"),
         "Results": ("shieldlab.engine.montecarlo", "Results"), "AirResult": ("shieldlab.engine.air", "AirResult"),
         "ShellingResult": ("shieldlab.engine.shelling", "ShellingResult"),
         "ArchitectureResult": ("shieldlab.analysis.compare", "ArchitectureResult"),
         "Shot": ("shieldlab.flyout.shot", "Shot"), "Reach": ("shieldlab.analysis.reach", "Reach"),
         "SweepResult": ("shieldlab.io.sweep_result", "SweepResult")}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        found = importlib.import_module(module)
        return found if attr is None else getattr(found, attr)
    raise AttributeError(f"module 'shieldlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names, those imported on first use too (what a notebook's completion offers),
    and the module's own dunders; not the submodules and helpers imported along the way."""
    return sorted(set(__all__) | {n for n in globals() if n.startswith("__") and n.endswith("__")})


__all__ = ["AirResult", "ArchitectureResult", "InputError", "MAX_RUNS", "Reach", "Results", "ShellingResult", "Shot",
           "SweepResult",
           "World", "analysis", "catalog", "compare", "earth", "fly", "flyout", "load_world", "notes", "open_results",
           "presets",
           "query", "reach", "scenario", "simulate", "simulate_air", "simulate_shelling", "sweep", "track_history",
           "__version__"]


def _kernels_true_to_the_code() -> None:
    """Empty the compiled kernels' cache where the code that compiled it changed since
    (:mod:`shieldlab.kernel_cache`): before any kernel is first called."""
    from shieldlab import kernel_cache

    kernel_cache.check()


_kernels_true_to_the_code()
