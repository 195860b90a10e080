"""Load scenarios from YAML files or built-in presets, with errors that name the field."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from shieldlab.errors import InputError
from shieldlab.scenario.schema import Scenario

_PRESETS = resources.files("shieldlab.scenario") / "presets"


def preset_names() -> list[str]:
    """Names of the built-in presets (their file names without ``.yaml``)."""
    return sorted(p.name[:-5] for p in _PRESETS.iterdir() if p.name.endswith(".yaml"))


def _field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("str", "GeoPoint"):  # union branch names pydantic inserts: not a user's field
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _format(err: ValidationError) -> tuple[str, str]:
    first = err.errors()[0]
    field = _field_path(first["loc"]) or "(top level)"
    msg = first["msg"]
    ctx = first.get("ctx") or {}
    if first["type"] == "extra_forbidden":
        msg = "unknown field"
    elif "error" in ctx and first["type"] == "value_error":
        msg = str(ctx["error"])
    more = len(err.errors()) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return field, msg


def parse(data: object, source: str) -> Scenario:
    """Validate a mapping (already read from YAML) as a scenario."""
    if not isinstance(data, dict):
        raise InputError("a scenario must be a YAML mapping of fields", source=source)
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        field, msg = _format(e)
        # model-level validators report their own field path inside the message
        if field == "(top level)" and ": " in msg and msg.split(": ", 1)[0].replace("[", ".").split(".")[0] in (
                "sensors", "batteries", "threats", "assets"):
            field, msg = msg.split(": ", 1)
        raise InputError(msg, source=source, field=field) from None


def read_yaml(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file", source=str(path)) from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read: {e.__class__.__name__}", source=str(path)) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(e, "problem", None) or "malformed YAML"
        raise InputError(f"malformed YAML: {problem}", source=str(path), field=where) from None


def load(name_or_path: str | Path) -> Scenario:
    """A scenario from a YAML file path, or the built-in preset of that name."""
    text = str(name_or_path)
    path = Path(text)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        return parse(read_yaml(path), str(path))
    if text in preset_names():
        res = _PRESETS / f"{text}.yaml"
        return parse(yaml.safe_load(res.read_text(encoding="utf-8")), f"preset {text}")
    raise InputError(f"no such file or preset (presets: {', '.join(preset_names())})", source=text)
