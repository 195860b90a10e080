"""Scenario stage: YAML schema, loader, built-in presets, compilation to a World."""

from pathlib import Path

from shieldlab.scenario.compile import World, compile_world
from shieldlab.scenario.loader import load, locate, preset_names, to_mapping, to_yaml
from shieldlab.scenario.schema import Scenario


def load_world(name_or_path: str | Path) -> World:
    """Load, validate and compile a scenario file or preset (the rule: :func:`load`)."""
    _, source = locate(name_or_path)
    return compile_world(load(name_or_path), source)


__all__ = ["Scenario", "World", "compile_world", "load", "load_world", "locate", "preset_names", "to_mapping",
           "to_yaml"]
