"""Scenario stage: YAML schema, loader, built-in presets, compilation to a World."""

from shieldlab.scenario.compile import World, compile_world
from shieldlab.scenario.loader import load, preset_names
from shieldlab.scenario.schema import Scenario


def load_world(name_or_path: str) -> World:
    """Load, validate and compile a scenario file or preset."""
    from pathlib import Path

    scn = load(name_or_path)
    text = str(name_or_path)
    source = text if Path(text).suffix.lower() in (".yaml", ".yml") or Path(text).exists() else f"preset {text}"
    return compile_world(scn, source)


__all__ = ["Scenario", "World", "compile_world", "load", "load_world", "preset_names"]
