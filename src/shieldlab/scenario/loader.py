"""Load scenarios from YAML files or built-in presets, with errors that name the field.

Every problem pydantic finds in a file is reported, each by its field path
(``threats[0].launch.lat``), in one :class:`~shieldlab.errors.InputError`.
"""

from __future__ import annotations

import os
import re
import types
import typing
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml
from pydantic import ValidationError

from shieldlab.catalog.models import ID_PATTERN
from shieldlab.errors import InputError, shown_value
from shieldlab.scenario.schema import PLACE_TAGS, Scenario, control_character

_PRESETS = resources.files("shieldlab.scenario") / "presets"

#: Fields of type :data:`~shieldlab.scenario.schema.Place`: the union tag pydantic puts after them
#: in an error location is not a user's field.
_PLACE_FIELDS = ("site", "launch", "aim", "origin")


def preset_text(name: str) -> str:
    """The YAML file of built-in preset ``name``, comments and all (KeyError if unknown)."""
    if name not in preset_names():
        raise KeyError(name)
    return (_PRESETS / f"{name}.yaml").read_text()


def preset_names() -> list[str]:
    """Names of the built-in presets (their file names without ``.yaml``)."""
    return sorted(p.name[:-5] for p in _PRESETS.iterdir() if p.name.endswith(".yaml"))


def _field_path(loc: tuple) -> str:
    out = ""
    before: object = None
    prev: object = None
    for i, part in enumerate(loc):
        if part == "[key]" and i > 0:  # a mapping's key itself is wrong: name the mapping and the key
            return (_field_path(loc[:i - 1]) or "(top level)") + f" (the key {str(loc[i - 1])!r})"
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in PLACE_TAGS and (prev in _PLACE_FIELDS or (isinstance(prev, int) and before == "route")):
            pass  # the union branch of a place (or of a route's waypoint), not a user's field
        else:  # a key with control characters (refused as a name) printed escaped, as repr does
            text = str(part)
            if control_character(text) is not None:
                text = repr(text)[1:-1]
            out += ("." if out else "") + text
        before, prev = prev, part
    return out


def _join(prefix: str, field: str | None) -> str:
    if not field:
        return prefix or "(top level)"
    if not prefix:
        return field
    return prefix + (field if field.startswith("[") else "." + field)


def _problems(err: ValidationError) -> list[tuple[str, str]]:
    """(field path, message) for every error pydantic found."""
    out: list[tuple[str, str]] = []
    errors = err.errors()
    hints: dict[int, str] = {}  # an unknown field's error -> the field it may have meant
    for i, e in enumerate(errors):
        if e["type"] == "extra_forbidden":
            try:
                near = _nearest_field(e["loc"])
            except Exception:  # noqa: BLE001 (a hint only: an annotation it cannot walk gives none)
                near = None
            if near:
                hints[i] = near
    # a misspelt required field (missle: for missile:) is one problem, said once: its unknown
    # name with the hint, not also "Field required" before it
    meant = {_field_path(errors[i]["loc"][:-1] + (near,)) for i, near in hints.items()}
    for i, e in enumerate(errors):
        prefix = _field_path(e["loc"])
        if e["type"] == "missing" and prefix in meant:
            continue
        ctx = e.get("ctx") or {}
        cause = ctx.get("error")
        if isinstance(cause, InputError):  # a model validator's own problems, relative to its model
            out.extend((_join(prefix, f), m) for f, m in cause.problems)
            continue
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown field"
            if i in hints:
                msg += f" (did you mean {hints[i]!r}?)"
        elif e["type"] in ("model_type", "dict_type"):  # (pydantic names its class: say what to write)
            msg = f"expected a mapping of fields, got {shown_value(e.get('input'))}"
        elif e["type"].startswith(("datetime_", "date_")):
            msg = ("expected a UTC date-time such as 2012-03-01T00:00:00Z (ISO 8601), got "
                   f"{shown_value(e.get('input'))}")
        elif e["type"] == "value_error" and cause is not None:
            msg = str(cause)
        elif e["type"] in ("int_from_float", "int_parsing", "int_type"):  # a count: rounds, salvo, runs
            msg = f"expected a whole number, got {shown_value(e.get('input'))}"
        elif e["type"] in ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "finite_number"):
            msg += f" (got {shown_value(e.get('input'))})"  # the value, as the catalogue's errors say it
        elif e["type"] in ("too_short", "too_long"):  # ("List should have at least 2 items after validation")
            bound = ctx.get("min_length") if e["type"] == "too_short" else ctx.get("max_length")
            msg = (f"needs at least {bound}" if e["type"] == "too_short" else f"takes at most {bound}") + \
                f" entries, got {ctx.get('actual_length', '?')}"
        elif e["type"] == "literal_error":
            near = ""
            if isinstance(e.get("input"), str):
                # a misspelt choice (sectorial, launch-on-remte): the nearest of the choices
                import difflib

                choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
                close = difflib.get_close_matches(e["input"], choices, n=1, cutoff=0.75)
                near = f"; did you mean {close[0]!r}?" if close else ""
            msg += f" (got {shown_value(e.get('input'))}{near})"
        out.append((prefix or "(top level)", msg))
    return out


def _models_in(tp) -> list:
    """The pydantic models an annotation holds at its top: itself, or the members of an
    Optional, a Union or an Annotated (not inside lists or mappings)."""
    from pydantic import BaseModel

    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(tp) for m in _models_in(a)]
    return []


def _step(tp, part):
    """The annotation one step of a pydantic error's location ``part`` leads to from ``tp``; None
    where it cannot tell (a union of several models, say)."""
    if typing.get_origin(tp) is typing.Annotated:
        return _step(typing.get_args(tp)[0], part)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        if part in PLACE_TAGS:  # the branch of a tagged union: stay, the next part names the field
            return tp
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _step(inner[0], part) if len(inner) == 1 else None
    origin = typing.get_origin(tp)
    if origin in (list, tuple) and isinstance(part, int):
        return typing.get_args(tp)[0]
    if origin is dict and isinstance(part, str):
        return typing.get_args(tp)[1]
    models = _models_in(tp)
    if len(models) == 1 and isinstance(part, str):
        f = models[0].model_fields.get(part)
        return f.annotation if f is not None else None
    return None


#: Fields of one meaning named otherwise in two parts of a scenario: a radar's facing is
#: ``boresight_az_deg`` under ``sensors`` and ``facing_az_deg`` under ``shelling.radars``.
_SYNONYMS = {"facing_az_deg": "boresight_az_deg", "boresight_az_deg": "facing_az_deg"}


def _nearest_field(loc: tuple) -> str | None:
    """For an unknown field at ``loc`` (pydantic's location), the closest field name the model
    there has (``salvoo`` -> ``salvo``), if one is close; None where none is, or the model
    cannot be told."""
    import difflib

    tp: object = Scenario
    for part in loc[:-1]:
        tp = _step(tp, part)
        if tp is None:
            return None
    names = {n for m in _models_in(tp) for n in m.model_fields}
    if not names or not isinstance(loc[-1], str):
        return None
    if _SYNONYMS.get(loc[-1]) in names:  # one setting named otherwise in another part of the file
        return _SYNONYMS[loc[-1]]
    near = difflib.get_close_matches(loc[-1], sorted(names), n=1, cutoff=0.75)
    if near:
        return near[0]
    # a name cut short (gate_prob for gate_probability): the one field it begins, if only one
    longer = [n for n in names if len(loc[-1]) >= 4 and n.startswith(loc[-1])]
    if len(longer) == 1:
        return longer[0]
    # a word left out (fence_deg for fence_elevation_deg): the one field holding its words in order
    fuller = [n for n in names if _words_in_order(loc[-1].split("_"), n.split("_"))]
    return fuller[0] if len(fuller) == 1 else None


def _words_in_order(words: list[str], name: list[str]) -> bool:
    """Whether ``words`` (two at least) are ``name``'s words with some left out, in order."""
    if len(words) < 2 or len(words) >= len(name):
        return False
    it = iter(name)
    return all(w in it for w in words)


def parse(data: object, source: str) -> Scenario:
    """Validate a mapping (already read from YAML) as a scenario; every problem is reported."""
    if not isinstance(data, dict):
        raise InputError("a scenario must be a YAML mapping of fields", source=source)
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        problems = _problems(e)
        # the catalogue names are checked only once the file is valid (compile_world): said now,
        # a file's every bad name comes in one answer, not one fix at a time
        flagged = {f for f, _ in problems}
        problems += [p for p in unknown_names(data) if p[0] not in flagged]
        # (a field told already, or a list or entry holding one, is not told again: compile's own
        # "threat names are not unique after salvo expansion" repeats a cross-check's finding)
        told = {f for f, _ in problems} | {a for f, _ in problems if f for a in _ancestors(f)}
        problems += [p for p in reference_problems(data, source) if p[0] not in told]
        raise InputError(problems=problems, source=source) from None


def _ancestors(field: str) -> list[str]:
    """The lists and entries that hold ``field``: ``threats[1].name`` -> ``threats``, ``threats[1]``."""
    return [field[:m.start()] for m in re.finditer(r"[.\[]", field) if m.start() > 0]


def reference_problems(data: dict, source: str) -> list[tuple[str, str]]:
    """The bad references (an unknown site, radar, system ...) that
    :func:`~shieldlab.scenario.compile.compile_world` finds in the raw mapping ``data``, where
    only the scenario's cross-checks between fields refused it (a duplicate name): so that one
    answer lists every problem (a duplicate name had hidden six unknown sites).  None where its
    fields are wrong one by one (their problems are told first)."""
    from shieldlab.scenario.compile import compile_world
    from shieldlab.scenario.schema import NO_CROSS_CHECKS

    try:
        scn = Scenario.model_validate(data, context={NO_CROSS_CHECKS: True})
    except ValidationError:
        return []
    try:
        compile_world(scn, source)
    except InputError as e:
        return [(f or "", m) for f, m in e.problems]
    except Exception:  # noqa: BLE001 (a scenario its cross-checks refuse may not compile at all: its problems stand)
        return []
    return []


#: Scenario lists whose entries name a catalogue entry: (list, field, kind, catalogue section).
_NAMED = (("sensors", "type", "sensor", "sensors"), ("early_warning", "type", "satellite", "satellites"),
          ("batteries", "interceptor", "interceptor", "interceptors"), ("threats", "missile", "missile", "missiles"))


def unknown_names(data: dict) -> list[tuple[str, str]]:
    """``(field, message)`` for every catalogue name in the raw mapping ``data`` that neither
    the built-in catalogue nor the file's own ``catalog:`` holds, worded as
    :func:`~shieldlab.scenario.compile.compile_world` words it; entries too malformed to
    read are left to the schema's messages."""
    from shieldlab import catalog

    tables: dict[str, typing.Callable[[], dict]] = {
        "sensors": catalog.sensors, "satellites": catalog.satellites, "interceptors": catalog.interceptors,
        "missiles": catalog.missiles}
    given = data.get("catalog")
    extra: dict = given if isinstance(given, dict) else {}
    out = []
    for section, key, kind, table in _NAMED:
        entries = data.get(section)
        if not isinstance(entries, list):
            continue
        listed = extra.get(table)
        own: list = listed if isinstance(listed, list) else []
        # the file's own entries whose id the schema accepts (a rejected id is said there, not listed as known)
        known = set(tables[table]()) | {e["id"] for e in own if isinstance(e, dict) and isinstance(e.get("id"), str)
                                        and re.fullmatch(ID_PATTERN, e["id"])}
        for i, entry in enumerate(entries):
            name = entry.get(key) if isinstance(entry, dict) else None
            if isinstance(name, str) and name not in known:
                out.append((f"{section}[{i}].{key}", unknown_message(kind, name, known)))
    return out


def unknown_message(kind: str, name: str, known) -> str:
    """The message for a name the catalogue does not hold, with the names it does."""
    from shieldlab.catalog import elsewhere

    return f"unknown {kind} {name!r}{elsewhere(name, kind)} (known: {', '.join(sorted(known))})"


#: Deepest nesting of lists and mappings a scenario file may have (a scenario needs six or so);
#: YAML's composer recurses once per level and would hit Python's recursion limit near 1,000.
MAX_YAML_DEPTH = 100


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key given twice in one mapping is an error (plain
    YAML keeps the last, so a battery's rounds could change without a word), that nesting
    deeper than :data:`MAX_YAML_DEPTH` is an error, that a scalar its tag cannot read
    (``2024-02-30``, ``!!int x``, an integer of 5,000 digits) is a YAML error at its line,
    and that numbers and booleans are YAML 1.2's (its core schema): ``1e-6``, ``1e1``,
    ``1.0e4`` and ``.5E1`` are numbers (YAML 1.1 wants a dot in the mantissa and a sign in
    the exponent, ``1.0e+4``, and reads the others as text), ``010`` is ten (1.1: octal
    eight), ``2_0`` and ``1:30`` are text (1.1: 20 and base-60 90), and only true and false
    are booleans."""

    _depth = 0

    def compose_node(self, parent, index):
        if self._depth >= MAX_YAML_DEPTH:
            raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_YAML_DEPTH} levels deep",
                                              self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, IndexError, KeyError, OverflowError) as e:
            # PyYAML's constructors let Python's own errors through (datetime, int, bool, base64)
            text = node.value if isinstance(node.value, str) else ""
            text = text if len(text) <= 40 else text[:40] + "..."
            kind = node.tag.rsplit(":", 1)[-1]
            why = f"{e}" if not isinstance(e, KeyError) else "not a value of that type"
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {text!r} as {kind}: {why}", node.start_mark) from None

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                dup = key in seen
            except TypeError:  # an unhashable key: the base class reports it
                break
            if dup:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (YAML would keep only the last)", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# numbers and booleans as YAML 1.2's core schema reads them.  Numbers: 1e-6, 1.0e4 and .5E1
# are numbers (YAML 1.1 wants a dot and a signed exponent); 010 is ten, not octal eight; 2_0,
# 1:30 (YAML 1.1's base 60) and 0b11 are text, refused by name where a number belongs rather
# than read as 20, 90 or 3.  Booleans: true and false only; YAML 1.1's yes, no, on, off (and
# y, n) stay text, so a flag written `yes` is refused by name rather than taken, and a name
# `no` is the text "no", not false.
_YAML11 = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_UniqueKeyLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _YAML11]
    for first, resolvers in _UniqueKeyLoader.yaml_implicit_resolvers.items()}
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"))


def _int_12(loader, node) -> int:
    """An integer as YAML 1.2 reads it: decimal (leading zeros and all), 0o octal, 0x hex."""
    text = loader.construct_scalar(node)
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text, 10)


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _int_12)


def scalar(text: str):
    """One YAML scalar read as a scenario file's values are (e.g. a ``--set`` value)."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def read_yaml(path: Path | Traversable, source: str | None = None) -> object:
    """The YAML document in ``path``; ``source`` (default: the path) names it in errors."""
    source = str(path) if source is None else source
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file", source=source) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a scenario file", source=source) from None
    except PermissionError:
        raise InputError("cannot read: permission denied", source=source) from None
    except UnicodeDecodeError as e:
        raise InputError(f"cannot read: not UTF-8 text (byte {e.start}); a scenario is a YAML text file",
                         source=source) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(e, "problem", None) or "malformed YAML"
        raise InputError(f"malformed YAML: {problem}", source=source, field=where) from None


def _is_path(text: str) -> bool:
    seps = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return text.lower().endswith((".yaml", ".yml")) or any(s in text for s in seps)


def locate(name_or_path: str | Path) -> tuple[Path | Traversable, str]:
    """Where a scenario argument points: ``(file, source)``, ``source`` naming it in messages.

    The rule: an argument that ends in ``.yaml``/``.yml`` or contains a path separator is a
    path; otherwise it is a preset name if a preset of that name exists; a bare name that is no
    preset but an existing file is that file.  A folder is an error ("is a folder, not a
    scenario file"), and so is anything else.  So ``epaa-phase-1`` is always the preset, and
    ``./epaa-phase-1`` or ``epaa-phase-1.yaml`` a local file.
    """
    if not isinstance(name_or_path, (str, os.PathLike)):  # (a mapping's str had been taken for a file name)
        raise InputError(f"a preset's name or a YAML file's path, not {type(name_or_path).__name__} (shieldlab."
                         "load_world takes a mapping of the YAML's fields)", field="scenario")
    text = str(name_or_path)
    path = Path(text)
    if not text.strip():
        raise InputError("a scenario file or preset name is needed", source=repr(text))
    if isinstance(name_or_path, Path) or _is_path(text):
        if path.is_dir():
            raise InputError("is a folder, not a scenario file", source=text)
        return path, text
    if text in preset_names():
        return _PRESETS / f"{text}.yaml", f"preset {text}"
    if path.is_dir():
        raise InputError("is a folder, not a scenario file", source=text)
    if path.is_file():
        return path, text
    raise InputError(f"no such file or preset (presets: {', '.join(preset_names())})", source=text)


def load(name_or_path: str | Path) -> Scenario:
    """A scenario from a YAML file, or the built-in preset of that name.

    A string that ends in ``.yaml``/``.yml`` or contains a path separator (``/``) is a file
    path; any other string is the preset of that name if there is one, else a file of that
    name if there is one (a :class:`~pathlib.Path` is always a path).  A folder is an error.
    Every problem in the file is reported in one :class:`~shieldlab.errors.InputError`.
    """
    where, source = locate(name_or_path)
    return parse(read_yaml(where, source), source)


def to_mapping(scenario: Scenario) -> dict:
    """``scenario`` as the mapping of fields a scenario file holds: every field it sets,
    defaults and nulls left out (as the presets leave them), in plain YAML types;
    :func:`parse` of it gives ``scenario`` again (a test holds it for every preset)."""
    if not isinstance(scenario, Scenario):
        raise InputError(f"must be a Scenario, not {type(scenario).__name__}", field="scenario")
    return scenario.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def to_yaml(scenario: Scenario) -> str:
    """``scenario`` as a scenario file's text (:func:`to_mapping`, in YAML): a scenario changed
    in Python written out, to run from the command line or to keep."""
    return yaml.safe_dump(to_mapping(scenario), sort_keys=False, allow_unicode=True)
