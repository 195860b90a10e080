"""The built-in catalogue of missiles, interceptors and sensors, and its YAML loader.

The figures live in ``missiles.yaml``, ``interceptors.yaml``, ``sensors.yaml`` and
``satellites.yaml`` beside this module (unguided rounds and weapon-locating radars in
``artillery.yaml``, :mod:`shieldlab.catalog.artillery`), each a top-level list under ``missiles:`` /
``interceptors:`` / ``sensors:`` / ``satellites:`` of
mappings with a unique lower-case kebab-case ``id`` and a ``source:`` for every figure (see
:mod:`shieldlab.catalog.models` for fields and units, ``docs/models.md`` for the
table of entries, sources and assumptions).  A user's own catalogue file in the same layout
loads with :func:`load_yaml_entries`.

Errors are :class:`CatalogError` and name the file, the entry id and the field path.
"""

from __future__ import annotations

import functools
import os
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from shieldlab.errors import InputError, shown_value

from .artillery import LocatingRadar, Round
from .models import Aircraft, AirWeapon, DragTable, Interceptor, Missile, ReentryVehicle, Satellite, Sensor, Stage

__all__ = [
    "Aircraft",
    "AirWeapon",
    "CatalogError",
    "DragTable",
    "Interceptor",
    "LocatingRadar",
    "Missile",
    "ReentryVehicle",
    "Round",
    "Satellite",
    "Sensor",
    "Stage",
    "aircraft",
    "get_aircraft",
    "get_interceptor",
    "get_missile",
    "get_satellite",
    "get_sensor",
    "interceptors",
    "load_yaml_entries",
    "missiles",
    "satellites",
    "sensors",
]

#: The record types: each has the ``id`` the loader keys its entries by.
M = TypeVar("M", Missile, Interceptor, Sensor, Satellite, Aircraft, Round, LocatingRadar)

#: Top-level YAML key and singular noun for each record type.
_SECTIONS: dict[type[BaseModel], tuple[str, str]] = {
    Missile: ("missiles", "missile"),
    Interceptor: ("interceptors", "interceptor"),
    Sensor: ("sensors", "sensor"),
    Satellite: ("satellites", "satellite"),
    Aircraft: ("aircraft", "aircraft"),
    Round: ("rounds", "round"),
    LocatingRadar: ("locating_radars", "weapon-locating radar"),
}


class CatalogError(InputError):
    """A catalogue file or lookup is invalid; the message names file, entry and field.  An
    :class:`~shieldlab.errors.InputError`, so that ``except shieldlab.InputError`` catches a
    bad catalogue entry or an unknown id as it does any other bad input."""


def _field_path(loc: tuple) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _describe(err: ErrorDetails) -> str:
    msg = err["msg"].removeprefix("Value error, ")
    where = _field_path(err["loc"])
    # (shown_value: a YAML alias nesting a list in itself printed whole took exponential time)
    got = "" if err["type"] in ("missing", "model_type") else f" (got {shown_value(err['input'])})"
    if len(got) > 80:
        got = ""
    return f"field '{where}': {msg}{got}" if where else msg


def load_yaml_entries(
    path: str | os.PathLike | Traversable, model: type[M], key: str | None = None
) -> dict[str, M]:
    """Load and validate one section of a catalogue YAML file.

    Parameters
    ----------
    path : file path (or package resource) of a YAML file with a top-level mapping.
    model : the record type, e.g. :class:`Missile`.
    key : top-level key holding the list of entries; defaults to the model's section
        (``missiles`` / ``interceptors`` / ``sensors``).  Other top-level keys are ignored,
        so one user file may hold several sections.

    Returns
    -------
    dict of id -> validated, frozen record, in file order.

    Raises
    ------
    CatalogError naming the file, the entry id (or its position) and the field path.
    """
    section, noun = _SECTIONS.get(model, (key or "entries", model.__name__.lower()))
    section = key or section
    where = str(path)
    try:
        text = (path if hasattr(path, "read_text") else Path(path)).read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{where}: cannot read catalogue file: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{where}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or section not in data:
        raise CatalogError(f"{where}: expected a top-level '{section}:' list of {noun} entries")
    entries = data[section]
    if not isinstance(entries, list):
        raise CatalogError(f"{where}: '{section}' must be a list of mappings, got {type(entries).__name__}")

    out: dict[str, M] = {}
    first_seen: dict[str, int] = {}
    for i, raw in enumerate(entries, start=1):
        if not isinstance(raw, dict):
            raise CatalogError(f"{where}: {noun} entry #{i} is not a mapping")
        label = f"'{raw['id']}'" if isinstance(raw.get("id"), str) else f"#{i}"
        try:
            record = model.model_validate(raw)
        except ValidationError as exc:
            details = "; ".join(_describe(e) for e in exc.errors())
            raise CatalogError(f"{where}: {noun} {label}: {details}") from None
        if record.id in out:
            raise CatalogError(
                f"{where}: {noun} '{record.id}' (entry #{i}): field 'id': duplicate id, "
                f"first used by entry #{first_seen[record.id]}"
            )
        out[record.id] = record
        first_seen[record.id] = i
    return out


def _package_file(name: str) -> Traversable:
    return resources.files(__name__) / name


@functools.cache
def _load(model: type[M]) -> dict[str, M]:
    section, _ = _SECTIONS[model]
    return load_yaml_entries(_package_file(f"{section}.yaml"), model)


def missiles() -> dict[str, Missile]:
    """Built-in missiles by id (loaded once; a fresh dict of the shared frozen records)."""
    return dict(_load(Missile))


def interceptors() -> dict[str, Interceptor]:
    """Built-in interceptors by id."""
    return dict(_load(Interceptor))


def sensors() -> dict[str, Sensor]:
    """Built-in sensors by id."""
    return dict(_load(Sensor))


def satellites() -> dict[str, Satellite]:
    """Built-in early-warning satellites by id."""
    return dict(_load(Satellite))


def aircraft() -> dict[str, Aircraft]:
    """Built-in aircraft and cruise missiles by id."""
    return dict(_load(Aircraft))


def _get(model: type[M], ident: str) -> M:
    table = _load(model)
    try:
        return table[ident]
    except (KeyError, TypeError):
        noun = _SECTIONS[model][1]
        # (named by what is looked up: the Python API's argument, a command names its own)
        raise CatalogError(f"unknown {noun} {ident!r}{elsewhere(ident, noun)} (known: {', '.join(sorted(table))})",
                           field=noun) from None


def elsewhere(ident, noun: str) -> str:
    """`` (ID is a missile of the catalogue, not an aircraft)`` where ``ident``, unknown as a
    ``noun``, is an entry of another section of the built-in catalogue (a ballistic missile
    given as a flier's type); "" otherwise."""
    def a(word: str) -> str:
        return ("an " if word[:1] in "aeiou" else "a ") + word

    other = [n for m, (_, n) in _SECTIONS.items() if n != noun and isinstance(ident, str) and ident in _ids(m)]
    return f" ({ident} is {a(other[0])} of the catalogue, not {a(noun)})" if other else ""


def _ids(model: type[BaseModel]) -> set[str]:
    """The ids of a catalogue section (none where its file does not load on its own)."""
    try:
        return set(_load(model))
    except (CatalogError, KeyError, TypeError):
        return set()


def get_missile(id: str) -> Missile:  # noqa: A002 - the public name the brief fixes
    """The built-in missile ``id``; :class:`CatalogError` listing the known ids otherwise."""
    return _get(Missile, id)


def get_interceptor(id: str) -> Interceptor:  # noqa: A002
    """The built-in interceptor ``id``; :class:`CatalogError` listing the known ids otherwise."""
    return _get(Interceptor, id)


def get_sensor(id: str) -> Sensor:  # noqa: A002
    """The built-in sensor ``id``; :class:`CatalogError` listing the known ids otherwise."""
    return _get(Sensor, id)


def get_satellite(id: str) -> Satellite:  # noqa: A002
    """The built-in early-warning satellite ``id``; :class:`CatalogError` listing the known ids otherwise."""
    return _get(Satellite, id)


def get_aircraft(id: str) -> Aircraft:  # noqa: A002
    """The built-in aircraft or cruise missile ``id``; :class:`CatalogError` listing the known ids otherwise."""
    return _get(Aircraft, id)
