"""The scenario file format as data: its JSON Schema and a field-by-field Markdown reference.

Both are generated from :class:`~shieldlab.scenario.schema.Scenario`, so they cannot drift
from what the loader accepts.  ``docs/scenario-reference.md`` is :func:`markdown_reference`
(regenerate it with ``python tools/scenario_reference.py``).
"""

from __future__ import annotations

from shieldlab.scenario.schema import Scenario

#: Unit of a field, from the suffix of its name (the house rule: units in names at the edges).
_UNITS = (("_tracks_per_s", "tracks/s"),
          ("_kgm2", "kg/m²"), ("_kms", "km/s"), ("_km", "km"), ("_m2", "m²"), ("_kg", "kg"), ("_mrad", "mrad"),
          ("_deg", "deg"), ("_pct", "%"), ("_s", "s"), ("_m", "m"), ("_ms2", "m/s²"), ("_ms", "m/s"),
          ("_kmh", "km/h"), ("_nmi", "nmi"), ("_g", "g"))
_UNIT_OF = {"lat": "deg", "lon": "deg east", "sspk": "—", "pfa": "—", "loss": "—", "sector": "deg"}


def json_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a scenario file, with titles, descriptions and units."""
    schema = Scenario.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "shieldlab scenario"
    return schema


def _unit(name: str) -> str:
    if name in _UNIT_OF:
        return _UNIT_OF[name]
    return next((u for suffix, u in _UNITS if name.endswith(suffix)), "")


def _variants(prop: dict) -> list[dict]:
    """The alternatives of a union, nested unions (an optional place) flattened."""
    for key in ("anyOf", "oneOf"):
        if key in prop:
            return [x for v in prop[key] for x in _variants(v)]
    return [prop]


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type(prop: dict, defs: dict) -> str:
    parts = []
    for v in _variants(prop):
        if "$ref" in v:
            parts.append(_ref_name(v["$ref"]))
        elif "enum" in v:
            parts.append(" | ".join(f"`{x}`" for x in v["enum"]))
        elif "const" in v:
            parts.append(f"`{v['const']}`")
        elif v.get("type") == "array":
            parts.append(f"list of {_type(v.get('items', {}), defs)}")
        elif v.get("type") == "object" and "additionalProperties" in v:
            parts.append(f"map of name → {_type(v['additionalProperties'], defs)}")
        elif v.get("type") == "string" and v.get("format") == "date-time":
            parts.append("date-time")
        elif "type" in v:
            parts.append({"number": "number", "integer": "integer", "string": "text", "boolean": "boolean",
                          "null": "null"}.get(v["type"], v["type"]))
    return " or ".join(parts) or "any"


def _num(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _range(prop: dict) -> str:
    lo = hi = None
    for v in _variants(prop):
        if "minimum" in v:
            lo = f"≥ {_num(v['minimum'])}"
        if "exclusiveMinimum" in v:
            lo = f"> {_num(v['exclusiveMinimum'])}"
        if "maximum" in v:
            hi = f"≤ {_num(v['maximum'])}"
        if "exclusiveMaximum" in v:
            hi = f"< {_num(v['exclusiveMaximum'])}"
        if "minLength" in v:
            lo = f"at least {v['minLength']} character{'s' if v['minLength'] > 1 else ''}"
        if "minItems" in v:
            lo = f"at least {v['minItems']} item{'s' if v['minItems'] > 1 else ''}"
        if "pattern" in v:
            hi = f"pattern `{v['pattern']}`"
    return ", ".join(x for x in (lo, hi) if x)


def _default(prop: dict, required: bool) -> str:
    if required:
        return "required"
    if "default" not in prop:
        return ""
    d = prop["default"]
    if d is None:
        return "null"
    if isinstance(d, (dict, list)):
        return "empty" if not d else "see below"
    if isinstance(d, bool):
        return str(d).lower()
    if d == "":
        return '`""`'
    return f"`{_num(d)}`" if isinstance(d, (int, float)) else f"`{d}`"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _model_refs(prop: dict) -> list[tuple[str, str]]:
    """(model name, path suffix) of the models a property holds: itself, list items, map values."""
    out = []
    for v in _variants(prop):
        if "$ref" in v:
            out.append((_ref_name(v["$ref"]), ""))
        elif v.get("type") == "array" and v.get("items"):
            # list items: one model, or a union holding models (a route's waypoints: a name or a point)
            out += [(_ref_name(w["$ref"]), "[]") for w in _variants(v["items"]) if "$ref" in w]
        elif v.get("type") == "object" and "$ref" in v.get("additionalProperties", {}):
            out.append((_ref_name(v["additionalProperties"]["$ref"]), ".<name>"))
    return out


def markdown_reference() -> str:
    """A Markdown reference of every scenario field: path, type, unit, default, range, description."""
    schema = json_schema()
    defs = schema.get("$defs", {})
    sections: list[tuple[str, str, dict]] = [("(top level)", "", schema)]
    first_path: dict[str, str] = {}
    queue = [("", schema)]
    while queue:  # breadth first: each model documented once, at the first path that holds it
        path, model = queue.pop(0)
        for name, prop in model.get("properties", {}).items():
            for ref, suffix in _model_refs(prop):
                if ref not in first_path:
                    sub = f"{path}.{name}{suffix}" if path else f"{name}{suffix}"
                    first_path[ref] = sub
                    sections.append((sub, ref, defs[ref]))
                    queue.append((sub, defs[ref]))
    lines = [
        "# Scenario file reference",
        "",
        "Every field of a scenario YAML file, generated from the schema that validates it",
        "(`shieldlab.scenario.reference.markdown_reference()`; regenerate this file with",
        "`python tools/scenario_reference.py`). Paths use `[]` for a list item and `<name>` for a",
        "key you choose. Units are those in the field's name; every number must be finite",
        "(`.inf` and `.nan` are rejected) and inside its range, written as a number: `true`,",
        "`false` and quoted text such as `\"8\"` are refused where a number is expected, and",
        "numbers read as in YAML 1.2: `1e-6` and `1.0e4` are numbers (plain YAML 1.1 would read",
        "them as text), `010` is ten (not octal eight), and `2_0` or `1:30` are text, refused (not",
        "20 and 90 as YAML 1.1 has them). A flag",
        "(boolean) is `true` or `false`, unquoted (YAML 1.2 also reads `True`, `TRUE`, `False` and",
        "`FALSE` so): as in YAML 1.2, `yes`, `no`, `on` and `off`",
        "are text (refused for a flag, and a name `no` is the text \"no\"), and a number is no",
        "flag. A field that holds a model documented elsewhere names it in the type column; its",
        "fields are listed once, under the first path that uses it.",
        "",
        "A place (`site`, `launch`, `aim`) is either a name (of an entry under `sites:`, or for",
        "`aim` also of an asset) or an inline point `{lat, lon, alt_m}` with the fields of",
        "`sites.<name>`; a route's waypoint (`flights[].route[]`) is a site name or a point with",
        "the fields listed under `flights[].route[]`. Threat names must be unique after salvo",
        "expansion: a threat `x` with `count: k > 1` becomes the missiles `x#1` .. `x#k`. A",
        "battery's `handover_s` and `look_time_s` resolve: the battery's value, else the",
        "doctrine's, else the interceptor's catalogue value.",
        "",
    ]
    for path, ref, model in sections:
        title = f"`{path}`" if ref else path
        lines += [f"## {title}", ""]
        if ref and model.get("description"):
            lines += [_cell(model["description"]), ""]
        if ref:
            others = [p for _, p in _all_uses(schema, defs, ref) if p != path]
            if others:
                lines += ["Also at " + ", ".join(f"`{p}`" for p in others) + ".", ""]
        lines += ["| field | type | unit | default | allowed | description |",
                  "| --- | --- | --- | --- | --- | --- |"]
        required = set(model.get("required", []))
        for name, prop in model.get("properties", {}).items():
            full = f"{path}.{name}" if ref else name
            typ = _type(prop, defs)
            for held, suffix in _model_refs(prop):
                where = first_path[held]
                typ += f" (fields: `{where}`)" if where != full + suffix else " (fields below)"
            lines.append("| " + " | ".join(_cell(x) for x in (
                f"`{full}`", typ, _unit(name), _default(prop, name in required), _range(prop),
                prop.get("description", ""))) + " |")
        lines.append("")
    return "\n".join(lines)


def _all_uses(schema: dict, defs: dict, target: str) -> list[tuple[str, str]]:
    """Every path at which model ``target`` appears (at most three levels of nesting)."""
    out: list[tuple[str, str]] = []

    def walk(path: str, model: dict, depth: int) -> None:
        for name, prop in model.get("properties", {}).items():
            for ref, suffix in _model_refs(prop):
                sub = f"{path}.{name}{suffix}" if path else f"{name}{suffix}"
                if ref == target:
                    out.append((ref, sub))
                elif depth < 3:
                    walk(sub, defs[ref], depth + 1)

    walk("", schema, 0)
    return out

