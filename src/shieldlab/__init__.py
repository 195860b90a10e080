"""shieldlab: an open, batched simulator of integrated air and missile defence.

The kill chain, one module per stage, records of arrays between them:

    scenario -> flyout -> sensors -> tracking -> c2 -> engage -> outcome

Public API (everything else may change)::

    import shieldlab
    world = shieldlab.load_world("epaa-phase-1")          # preset name or YAML path
    res = shieldlab.simulate(world, runs=100, seed=1)     # Monte Carlo
    res.summary["mean_leakers"]
    res.outcomes["outcome"]                               # a row per run x threat
    shieldlab.flyout.minimum_energy(10_000e3)             # closed-form Kepler shot (a KeplerShot)

and ``simulate_air`` (flights: aircraft, cruise missiles, air policing),
``simulate_shelling`` (unguided fire and weapon-locating radars), ``compare`` (one scenario
under several C2 architectures, the same raids in each), ``fly`` (one missile steered and
flown, in degrees: a ``Shot``), ``presets()`` (the built-in scenarios' names), ``MAX_RUNS``
(the most runs one call takes), ``InputError`` (bad input, naming the field), ``earth`` and
``flyout``; ``catalog``, ``scenario`` and ``analysis``, and the result types ``Results``,
``AirResult``, ``ShellingResult``, ``ArchitectureResult``, ``Shot`` and ``World`` (imported
on first use).
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
        return compile_world(parse(_with_unknown_keys(scenario, scenario.model_dump(warnings=False)), source),
                             source)
    if isinstance(scenario, Mapping):
        source = f"scenario {scenario['name']!r}" if isinstance(scenario.get("name"), str) else "scenario"
        return compile_world(parse(dict(scenario), source), source)
    if not isinstance(scenario, (str, _os.PathLike)):
        raise InputError(f"a preset's name, a YAML file's path, a mapping or a Scenario, not an object of type "
                         f"{type(scenario).__name__}", field="scenario")
    from pathlib import Path

    # a path stays a path: a file named like a preset is the file (the loader's rule)
    return _load(scenario if isinstance(scenario, str) else Path(scenario))


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


def simulate(world, runs: int = 100, seed: int = 1, client=None):
    """Run the kill chain over ``runs`` Monte Carlo replications; returns a ``Results``:
    ``summary`` (the dict ``summary.json`` holds), and the tables as dicts of NumPy
    columns: ``outcomes`` (a row per run x threat: ``run``, ``threat``, ``outcome``,
    ``intercepted_by``, ``intercept_time_s``, ``asset_hit``, ...; docs/user-guide.md lists
    them), ``events`` (the timeline), ``track_quality`` (a row per run x picture) and
    ``tracks`` (under ``tracking.association: gnn``, a row per confirmed track);
    ``read(name)`` and ``table(name)`` read any of them by name.

    ``runs``: 1 to :data:`MAX_RUNS`; ``seed``: an integer of at least 0 (the same seed, the same
    numbers).  Every threat is steered first and the memory the run needs is checked against
    what the machine has (the tables of all runs are held in memory: for very many runs use
    ``shieldlab run --out``, which writes them as it goes): bad input raises
    :class:`InputError` naming the field before anything runs.  ``client``: a
    ``distributed.Client`` whose workers run the chunks of runs (the same results, to the
    bit, as in this process); None runs them here.

    A scenario with flights or shelling beside its threats runs them too, as ``shieldlab run``
    does: ``res.air`` and ``res.shelling`` (their outcomes and events), their summaries under
    ``res.summary["air"]`` and ``["shelling"]``.
    """
    import dataclasses

    from shieldlab.engine.chain import preflight
    from shieldlab.engine.montecarlo import simulate as _simulate

    _check_run(world, runs, seed)
    if not world.threats:  # (the command line's refusal names its own commands)
        held = [what for what, here in (("aircraft and cruise missiles (flights)", world.flights),
                                        ("shelling", world.shelling is not None)) if here]
        runs_with = {"aircraft and cruise missiles (flights)": "shieldlab.simulate_air(world, runs, seed)",
                     "shelling": "shieldlab.simulate_shelling(world, runs, seed)"}
        raise InputError("the scenario has no ballistic threats for the kill chain that simulate runs"
                         + (": its " + " and its ".join(f"{w} run with {runs_with[w]}" for w in held) if held else ""),
                         source=world.source, field="threats")
    flights = preflight(world, int(runs))  # steers every threat, checks the memory
    if world.shelling is not None:
        from shieldlab.engine.shelling import check

        check(world)  # lays every fire mission, before anything runs
    res = _simulate(world, runs=int(runs), seed=int(seed), flights=flights, client=client)
    air = shelling = None
    if world.flights:
        from shieldlab.engine.air import simulate_air

        air = simulate_air(world, int(runs), int(seed), scene_run=None)
        res.summary["air"] = air.summary
    if world.shelling is not None:
        from shieldlab.engine.shelling import simulate_shelling

        shelling = simulate_shelling(world, int(runs), int(seed), scene_run=None)
        res.summary["shelling"] = shelling.summary
    return dataclasses.replace(res, air=air, shelling=shelling)


def _check_run(world, runs, seed) -> None:
    """The API's checks of a Monte Carlo's arguments: a compiled world, ``runs`` an integer from
    1 to :data:`MAX_RUNS`, ``seed`` an integer of at least 0 (:class:`InputError` naming the
    field)."""
    import numbers

    from shieldlab.scenario.compile import World

    if not isinstance(world, World):
        from collections.abc import Mapping

        from shieldlab.scenario import Scenario

        hint = (f": load it first, shieldlab.load_world({world!r})" if isinstance(world, (str, _os.PathLike))
                else ": compile it first, shieldlab.load_world(scenario)" if isinstance(world, (Scenario, Mapping))
                else "")
        raise InputError(f"must be a scenario from shieldlab.load_world, not {type(world).__name__}{hint}",
                         field="world")
    for name, value, lo, hi in (("runs", runs, 1, MAX_RUNS), ("seed", seed, 0, None)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise InputError(f"must be an integer, not {value!r}", field=name)
        if int(value) < lo or (hi is not None and int(value) > hi):
            raise InputError(f"must be {lo} or more" + (f" and at most {hi:,}" if hi is not None else "")
                             + f", not {value}", field=name)


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
    """Run ``world`` under each of the C2 ``architectures`` (names of ``independent``,
    ``coordinated``, ``sectoral``, ``integrated``; a node needs a sector for ``sectoral``)
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
    names = architecture_names([architectures] if isinstance(architectures, str) else architectures, "architectures")
    require_threats(world)
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
    from shieldlab.flyout.shot import fly_shot

    m = catalog.get_missile(missile) if isinstance(missile, str) else missile
    if not isinstance(m, catalog.Missile):
        raise InputError(f"a catalogue missile id or a shieldlab.catalog.Missile, not {type(missile).__name__}",
                         field="missile")
    points: list[float] = []
    for name, value in (("launch", launch), ("aim", aim)):
        try:
            lat, lon = (float(v) for v in value)
        except (TypeError, ValueError):
            raise InputError(f"a (lat_deg, lon_deg) pair, not {value!r}", field=name) from None
        points += checked_latlon(lat, lon, name)
    if profile not in _aim.PROFILES:
        raise InputError(f"must be one of {', '.join(_aim.PROFILES)}, not {profile!r}", field="profile")
    if apogee_km is not None and flight_time_s is not None:
        raise InputError("give an apogee or a flight time, not both", field="flight_time_s")
    for name, value in (("apogee_km", apogee_km), ("flight_time_s", flight_time_s)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise InputError(f"must be a positive number, not {value!r}", field=name)
    try:
        return fly_shot(m, points[0], points[1], points[2], points[3], profile=profile, apogee_km=apogee_km,
                        flight_time_s=flight_time_s)
    except _aim.ShapeError as e:
        raise InputError(str(e), field="apogee_km" if apogee_km is not None else "flight_time_s") from None
    except _aim.AimError as e:
        raise InputError(str(e), field="aim") from None


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
         "Shot": ("shieldlab.flyout.shot", "Shot")}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        found = importlib.import_module(module)
        return found if attr is None else getattr(found, attr)
    raise AttributeError(f"module 'shieldlab' has no attribute {name!r}")


__all__ = ["AirResult", "ArchitectureResult", "InputError", "MAX_RUNS", "Results", "ShellingResult", "Shot", "World",
           "analysis", "catalog", "compare", "earth", "fly", "flyout", "load_world", "presets", "scenario",
           "simulate", "simulate_air", "simulate_shelling", "__version__"]


def _kernels_true_to_the_code() -> None:
    """Empty the compiled kernels' cache where the code that compiled it changed since
    (:mod:`shieldlab.kernel_cache`): before any kernel is first called."""
    from shieldlab import kernel_cache

    kernel_cache.check()


_kernels_true_to_the_code()
