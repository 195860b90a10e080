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

from shieldlab import earth, flyout  # noqa: E402
from shieldlab.errors import InputError  # noqa: E402


def load_world(name_or_path):
    """Load, validate and compile a scenario YAML file or built-in preset into a World (SI, ECEF)."""
    from shieldlab.scenario import load_world as _load

    return _load(name_or_path)


def simulate(world, runs: int = 100, seed: int = 1):
    """Run the kill chain over ``runs`` Monte Carlo replications; returns Results (summary, outcomes, events)."""
    from shieldlab.engine.montecarlo import simulate as _simulate

    return _simulate(world, runs=runs, seed=seed)


def presets() -> list[str]:
    """Names of the built-in scenario presets."""
    from shieldlab.scenario.loader import preset_names

    return preset_names()


__all__ = ["InputError", "earth", "flyout", "load_world", "presets", "simulate", "__version__"]
