"""shieldlab: an open, batched simulator of integrated air and missile defence.

The kill chain, one module per stage, records of arrays between them:

    scenario -> flyout -> sensors -> tracking -> engage -> outcome

Public API (everything else may change)::

    import shieldlab
    world = shieldlab.load_world("epaa-phase-1")          # preset name or YAML path
    res = shieldlab.simulate(world, runs=100, seed=1)     # Monte Carlo
    res.summary["mean_leakers"]
    shieldlab.flyout.minimum_energy(10_000e3)             # closed-form Kepler shot
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
from shieldlab.errors import InputError  # noqa: E402


def load_world(name_or_path):
    """Load, validate and compile a scenario YAML file or built-in preset into a World (SI, ECEF)."""
    from shieldlab.scenario import load_world as _load

    return _load(name_or_path)


def simulate(world, runs: int = 100, seed: int = 1, client=None):
    """Run the kill chain over ``runs`` Monte Carlo replications; returns Results (summary, outcomes, events).

    ``client``: a ``distributed.Client`` whose workers run the chunks of runs (the same
    results, to the bit, as in this process); None runs them here.
    """
    from shieldlab.engine.montecarlo import simulate as _simulate

    return _simulate(world, runs=runs, seed=seed, client=client)


def presets() -> list[str]:
    """Names of the built-in scenario presets."""
    from shieldlab.scenario.loader import preset_names

    return preset_names()


__all__ = ["InputError", "earth", "flyout", "load_world", "presets", "simulate", "__version__"]
