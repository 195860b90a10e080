"""Hardened input: every shipped preset, mutated at random, loads or is refused with an InputError.

Hypothesis parses each preset's YAML into a tree and mutates it one to three times: deletes
a key or list item; gives a value the wrong type, a NaN/infinite/negative/zero/tiny/huge
number, a number at or just beyond an end of its field's range, or an odd string; renames a
key; writes raw YAML no Python value dumps to (``2024-02-30``, ``!!int x``, 5,000 digits,
nesting 2,000 deep); and makes YAML aliases (a node in two places, a list that holds itself,
a "billion laughs" nest, a ``<<`` merge key).  Half the examples first copy the catalogue
entries the preset uses into its ``catalog:`` section, so the catalogue's fields are mutated
too.  The mutant goes the way of ``shieldlab run``: written to a file,
:func:`shieldlab.scenario.load_world`, :func:`~shieldlab.engine.chain.preflight`,
:func:`~shieldlab.engine.montecarlo.simulate`.

The properties: the loader accepts a mutant or raises :class:`~shieldlab.errors.InputError`
naming the file and a field for each problem -- no other exception, and no warning (warnings
are errors here); and a mutant that the loader and the preflight accept runs two Monte Carlo
runs.  The run test mutates each preset cut to its first threat, with mutations that often
leave a valid scenario, so that a run takes about a second.

Profiles (environment variable ``HYPOTHESIS_PROFILE``): ``default`` (``make test``), the same
250 loads and 120 run examples every time, well under a minute; ``fuzz`` (``make fuzz``),
3,000 loads and 1,000 run examples drawn afresh, about ten minutes, failures kept in
``.pytest_cache/hypothesis`` and replayed first on the next run.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import re
import warnings
from importlib import resources
from pathlib import Path
from types import UnionType
from typing import Annotated, Literal, Union, get_args, get_origin

import pytest
import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from shieldlab.engine.chain import preflight
from shieldlab.engine.montecarlo import simulate
from shieldlab.errors import InputError
from shieldlab.scenario import Scenario, load_world, preset_names

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]
# deterministic in the suite (the same examples every run, no database written);
# the fuzz profile explores afresh each time and keeps failures under .pytest_cache to replay
settings.register_profile("default", max_examples=250, deadline=None, derandomize=True, database=None,
                          suppress_health_check=_SLOW_OK)
settings.register_profile(
    "fuzz", max_examples=3000, deadline=None, suppress_health_check=_SLOW_OK,
    database=DirectoryBasedExampleDatabase(Path(__file__).resolve().parents[1] / ".pytest_cache" / "hypothesis"))
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
settings.load_profile(PROFILE)

#: Examples of the run test (a third of them run, a second or so each, many more in the fuzz profile).
RUN_EXAMPLES = {"default": 120, "fuzz": 1000}.get(PROFILE, settings().max_examples)

PRESETS = preset_names()


def _preset_tree(name: str) -> dict:
    text = (resources.files("shieldlab.scenario") / "presets" / f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _catalogue_entries() -> dict[str, dict[str, dict]]:
    """The built-in catalogue as YAML trees: section -> id -> entry."""
    out = {}
    for section in ("missiles", "interceptors", "sensors", "aircraft"):
        text = (resources.files("shieldlab.catalog") / f"{section}.yaml").read_text(encoding="utf-8")
        out[section] = {e["id"]: e for e in yaml.safe_load(text)[section]}
    return out


TREES = {name: _preset_tree(name) for name in PRESETS}
CATALOGUE = _catalogue_entries()


def with_catalogue_copies(tree: dict) -> dict:
    """``tree`` with the catalogue entries it uses copied into its ``catalog:`` section (the same
    figures: it loads as before, and the catalogue's fields are there to mutate)."""
    policing = tree.get("air_policing") or {}
    used = {"missiles": [t.get("missile") for t in tree.get("threats", [])],
            "interceptors": [b.get("interceptor") for b in tree.get("batteries", [])],
            "sensors": [s.get("type") for s in tree.get("sensors", [])],
            "aircraft": [f.get("type") for f in tree.get("flights", [])]
            + [b.get("type") for b in policing.get("patrols", []) + policing.get("bases", [])]}
    tree["catalog"] = {section: [copy.deepcopy(CATALOGUE[section][i]) for i in dict.fromkeys(ids)]
                       for section, ids in used.items()}
    return tree


def with_early_warning(tree: dict) -> dict:
    """``tree`` with the optional sections no preset has written out: the radars' ``sensing``
    and an early-warning satellite cueing the first sensor's system (their fields to mutate)."""
    system = (tree.get("sensors") or [{}])[0].get("system", "defence")
    tree["sensing"] = {"refraction_k": 1.3333, "snr_noise": True}
    tree["early_warning"] = [{"name": "ew-1", "type": "sbirs-geo", "lon_deg": 57.0, "system": system}]
    return tree


def first_threat_only(tree: dict) -> dict:
    """``tree`` with its first threat entry (or its first flight, or its first fire mission) alone, so
    that a run takes about a second."""
    if tree.get("threats"):
        tree["threats"] = tree["threats"][:1]
    elif tree.get("flights"):
        tree["flights"] = tree["flights"][:1]
    elif isinstance(tree.get("shelling"), dict) and tree["shelling"].get("missions"):
        tree["shelling"]["missions"] = tree["shelling"]["missions"][:1]
    return tree


# --- where to mutate ------------------------------------------------------------------------------

def node_paths(tree) -> list[tuple]:
    """The path (keys and indices from the root) of every node below the root."""
    out, todo = [], [((), tree)]
    seen = set()
    while todo:
        path, node = todo.pop()
        if id(node) in seen:  # an earlier alias mutation may have made the tree a graph
            continue
        if isinstance(node, (dict, list)):
            seen.add(id(node))
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                out.append(path + (key,))
                todo.append((path + (key,), child))
    return sorted(out, key=repr)


def _parent(tree, path: tuple):
    node = tree
    for key in path[:-1]:
        node = node[key]
    return node


def _get(tree, path: tuple):
    return _parent(tree, path)[path[-1]]


def _set(tree, path: tuple, value) -> None:
    _parent(tree, path)[path[-1]] = value


WRONG_TYPES = ["text", "", [], [1, 2], {}, {"x": 1}, None, True, False, 0, 1.5]
BAD_NUMBERS = [math.nan, math.inf, -math.inf, -1, -1.5, 0, -0.0, 1e-300, 1e-9, 1e-3, 0.5, 1e9, 1e30, 1e308,
               2**63, -(2**63), 10**40]
ODD_STRINGS = ["", " ", "\t", "nan", "inf", "-inf", "1e400", "-1e400", "NaN", "0x1F", "1_000", "~", "null",
               "true", "2024-02-30T25:61:00Z", "é中文🚀", "\u202etxt", "a\nb", "\x00", "x" * 10_000,
               "*alias", "&anchor", "# not a comment", "{a: 1}", "[1, 2]", "'", '"']
SCALES = [0, 1e-6, 1e-3, 0.1, 0.5, 0.9, 1.1, 2, 10, 100, 1000]
#: Values of the schema's fixed choices (``Literal`` fields).
CHOICES = ["min-energy", "lofted", "depressed", "own", "launch-on-remote", "engage-on-remote", "threatening",
           "all", "earliest", "greedy", "exact", "ekf", "ukf", "imm", "independent", "coordinated", "sectoral",
           "integrated", "SRBM", "MRBM", "IRBM", "ICBM"]
#: YAML text for raw_yaml, one line each.
RAW_YAML = ["2024-02-30", "2024-01-15T25:61:00Z", "2024-01-15 23:00:00 +99:00", "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00", "!!int 12abc", "!!int", "!!float abc", "!!timestamp 2024-99-99",
            "!!binary '#'", "!!set {a, b}", "!!omap [a: 1]", "!!python/name:os.system", "!!null x", "!!bool maybe",
            "!<tag:yaml.org,2002:int> 5", "!local x", "1" + "0" * 5000, "0x" + "f" * 5000, ":".join(["59"] * 2000),
            "1:2:3:4:5", "[" * 2000 + "]" * 2000, "{a: " * 200 + "1" + "}" * 200, "*undefined", "&anchor",
            "'unterminated", '"\\q"', "@reserved", "`reserved", ".NaN", "-.Inf", "0o777", "0b101", "1_000.5e3",
            "[1, 2", "{a: 1, a: 2}", "{<<: 5}", "? [a, b]"]
ODD_KEYS = ["", "x" * 300, "é", "__class__", "<<", 0, -1, None, True, 1.5]


# --- the schema's view of a node: which model a mapping is, and the range of its numbers ----------

def _unwrap(tp):
    """``tp`` without ``Annotated`` and ``Optional``; of a union, the model (a place is a point)."""
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        elif get_origin(tp) in (Union, UnionType):
            args = [a for a in map(_strip_annotated, get_args(tp)) if a is not type(None)]
            tp = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), args[0])
        else:
            return tp


def _strip_annotated(tp):
    return get_args(tp)[0] if get_origin(tp) is Annotated else tp


def _fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """A model's fields by the key a YAML file uses (``from``, not ``from_``)."""
    return {f.alias or name: f for name, f in model.model_fields.items()}


def model_at(path: tuple) -> type[BaseModel] | None:
    """The schema model of the mapping at ``path`` of a scenario tree (None: no model there)."""
    tp = Scenario
    for key in path:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = _fields(tp).get(key)
            if field is None:
                return None
            tp = field.annotation
        elif get_origin(tp) is list and isinstance(key, int):
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict and isinstance(key, str):
            tp = get_args(tp)[1]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _constraints(field: FieldInfo) -> list:
    """A field's constraints (``Gt(0)`` ...), also those of an optional ``Annotated`` type."""
    out = list(field.metadata)
    for arg in get_args(field.annotation):
        if get_origin(arg) is Annotated:
            out += [m for info in get_args(arg)[1:] for m in getattr(info, "metadata", [info])]
    return out


def edge_values(field: FieldInfo) -> tuple[list[float], list[float]]:
    """The ends of a number field's range: (just inside, just outside); huge numbers where it is open."""
    bounds = {name: getattr(m, name) for m in _constraints(field) for name in ("ge", "gt", "le", "lt")
              if hasattr(m, name)}
    step = 1 if _unwrap(field.annotation) is int else None
    inside: list[float] = []
    outside: list[float] = []
    if "ge" in bounds:
        inside.append(bounds["ge"])
        outside.append(bounds["ge"] - 1)
    if "gt" in bounds:
        g = bounds["gt"]
        inside += [g + 1] if step else [math.nextafter(g, math.inf), g + 1e-9, g + 1e-3]
        outside.append(g)
    if "le" in bounds:
        inside.append(bounds["le"])
        outside.append(bounds["le"] + 1)
    if "lt" in bounds:
        inside.append(bounds["lt"] - 1 if step else math.nextafter(bounds["lt"], -math.inf))
        outside.append(bounds["lt"])
    if "le" not in bounds and "lt" not in bounds:
        inside += [10**6, 10**12] if step else [1e6, 1e12, 1e300]
    return inside, outside


def number_fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return {k: f for k, f in _fields(model).items() if _unwrap(f.annotation) in (int, float)}


# --- mutations: each draws a place and changes the tree in place, returning what it did -----------

def _edge(draw, tree, outside: bool) -> str:
    places = [p for p in [()] + node_paths(tree)
              if isinstance(_get(tree, p) if p else tree, dict) and (m := model_at(p)) and number_fields(m)]
    path = draw(st.sampled_from(places))
    key, field = draw(st.sampled_from(sorted(number_fields(model_at(path)).items())))
    inside, beyond = edge_values(field)
    value = draw(st.sampled_from(inside + beyond if outside else inside))
    (_get(tree, path) if path else tree)[key] = value
    return f"{path + (key,)} = {value!r}"


def edge_number(draw, tree) -> str:
    """Set a number field of a mapping (given or not) to an end of its range, just inside or
    just outside."""
    return _edge(draw, tree, outside=True)


def inside_edge_number(draw, tree) -> str:
    """Set a number field of a mapping (given or not) to an end of its range, just inside: the
    values a run is likeliest to trip over."""
    return _edge(draw, tree, outside=False)


def delete_key(draw, tree) -> str:
    """Delete a key of a mapping or an item of a list."""
    path = draw(st.sampled_from(node_paths(tree)))
    del _parent(tree, path)[path[-1]]
    return f"delete {path}"


def wrong_type(draw, tree) -> str:
    """Replace a value by one of another type."""
    path = draw(st.sampled_from(node_paths(tree)))
    value = copy.deepcopy(draw(st.sampled_from(WRONG_TYPES)))
    _set(tree, path, value)
    return f"{path} = {value!r}"


def bad_number(draw, tree) -> str:
    """Replace a value by NaN, an infinity, a negative, zero, a tiny or a huge number."""
    paths = node_paths(tree)
    numeric = [p for p in paths if isinstance(_get(tree, p), (int, float))]
    path = draw(st.sampled_from(numeric or paths))
    value = draw(st.one_of(st.sampled_from(BAD_NUMBERS), st.floats(), st.integers()))
    _set(tree, path, value)
    return f"{path} = {value!r}"


def scaled_number(draw, tree) -> str:
    """Multiply a number by a factor from 0 to 1000: many land inside the field's range."""
    numeric = [p for p in node_paths(tree) if type(_get(tree, p)) in (int, float)]
    if not numeric:
        return "no number to scale"
    path = draw(st.sampled_from(numeric))
    factor = draw(st.sampled_from(SCALES))
    old = _get(tree, path)
    value = type(old)(old * factor) if isinstance(old, float) or factor == int(factor) else old * factor
    _set(tree, path, value)
    return f"{path} = {value!r} ({old!r} x {factor})"


def other_choice(draw, tree) -> str:
    """Replace a string by another the scenario could hold: a name or id used elsewhere in the
    preset, or one of the schema's choices (profile, cue, filter, architecture ...)."""
    paths = node_paths(tree)
    strings = [p for p in paths if isinstance(_get(tree, p), str)]
    if not strings:
        return "no string to replace"
    path = draw(st.sampled_from(strings))
    value = draw(st.sampled_from(sorted({_get(tree, p) for p in strings} | set(CHOICES))))
    _set(tree, path, value)
    return f"{path} = {value!r}"


def _kind(tree, path: tuple):
    """What a node holds, for aliasing like with like: its type and, for a mapping, its model."""
    node = _get(tree, path)
    return (type(node), model_at(path) if isinstance(node, dict) else None, path[-1] if isinstance(node, str) else 0)


def same_kind_choice(draw, tree) -> str:
    """Replace a string by another that field could hold: one the preset gives the same key
    elsewhere, a catalogue id of that kind, or one of the field's fixed choices."""
    paths = node_paths(tree)
    strings = [p for p in paths if isinstance(_get(tree, p), str) and isinstance(p[-1], str)]
    path = draw(st.sampled_from(strings))
    model = model_at(path[:-1])
    field = _fields(model).get(path[-1]) if model else None
    literal = get_args(_unwrap(field.annotation)) if field and get_origin(_unwrap(field.annotation)) is Literal else ()
    ids = CATALOGUE.get({"missile": "missiles", "interceptor": "interceptors", "type": "sensors"}.get(path[-1], ""), {})
    values = sorted({_get(tree, p) for p in strings if p[-1] == path[-1]} | set(literal) | set(ids))
    value = draw(st.sampled_from(values))
    _set(tree, path, value)
    return f"{path} = {value!r}"


def alias_of_same_kind(draw, tree) -> str:
    """Put a node in the place of another of the same kind (a site's point for another's, one
    drag table for another): YAML writes it once with an anchor, then an alias."""
    paths = node_paths(tree)
    target = draw(st.sampled_from(paths))
    kind = _kind(tree, target)
    sources = [p for p in paths if _kind(tree, p) == kind and p != target and p[:len(target)] != target]
    if not sources:
        return "no node of the same kind: no change"
    source = draw(st.sampled_from(sources))
    _set(tree, target, _get(tree, source))
    return f"{target} = alias of {source}"


def odd_string(draw, tree) -> str:
    """Replace a value by an odd string: empty, blank, number-like, unicode, control, very long."""
    path = draw(st.sampled_from(node_paths(tree)))
    value = draw(st.one_of(st.sampled_from(ODD_STRINGS), st.text(max_size=20)))
    _set(tree, path, value)
    return f"{path} = {value!r}"


def raw_yaml(draw, tree) -> str:
    """Replace a value by YAML text written as is, which no Python value dumps to: an impossible
    date, a bad or unknown tag, an integer of 5,000 digits, nesting 2,000 deep, a dangling alias."""
    path = draw(st.sampled_from(node_paths(tree)))
    k = draw(st.integers(0, len(RAW_YAML) - 1))
    _set(tree, path, f"RAW_YAML_{k}")  # to_yaml writes RAW_YAML[k] in its place
    return f"{path} = {RAW_YAML[k][:60]}"


def odd_key(draw, tree) -> str:
    """Rename a mapping's key to an odd one (empty, long, unicode, a number, null)."""
    paths = [p for p in node_paths(tree) if isinstance(_parent(tree, p), dict)]
    path = draw(st.sampled_from(paths))
    parent = _parent(tree, path)
    key = draw(st.sampled_from(ODD_KEYS))
    if key in parent:
        return "rename to an existing key: no change"
    parent[key] = parent.pop(path[-1])
    return f"rename {path} to {key!r}"


def shared_node(draw, tree) -> str:
    """Put one node in a second place too: YAML writes it once with an anchor, then an alias."""
    paths = node_paths(tree)
    source = draw(st.sampled_from(paths))
    target = draw(st.sampled_from(paths))
    if target[:len(source)] == source:  # inside itself: a cycle, which self_reference covers
        return "share a node into itself: no change"
    _set(tree, target, _get(tree, source))
    return f"{target} = alias of {source}"


def self_reference(draw, tree) -> str:
    """Make a list or mapping contain itself (a recursive YAML alias)."""
    containers = [p for p in node_paths(tree) if isinstance(_get(tree, p), (dict, list))]
    path = draw(st.sampled_from(containers))
    node = _get(tree, path)
    if isinstance(node, list):
        node.append(node)
    else:
        node[draw(st.sampled_from(["self", "site", "sector", "threats"]))] = node
    return f"{path} holds itself"


def alias_bomb(draw, tree) -> str:
    """Replace a value by a "billion laughs" nest: 9 levels of 9 aliases of the level below."""
    path = draw(st.sampled_from(node_paths(tree)))
    node = draw(st.sampled_from(["lol", 1.0, {"lat": 1.0, "lon": 2.0}]))
    for _ in range(9):
        node = [node] * 9
    if draw(st.booleans()):
        node = {"lat": node, "lon": node}
    _set(tree, path, node)
    return f"{path} = alias bomb"


def merge_key(draw, tree) -> str:
    """Add a ``<<`` merge key to a mapping that pulls in another mapping by alias."""
    dicts = [p for p in node_paths(tree) if isinstance(_get(tree, p), dict)]
    target = _get(tree, draw(st.sampled_from(dicts)))
    source = draw(st.sampled_from(dicts))
    target["<<"] = _get(tree, source)  # written as '<<' and turned into a merge key by to_yaml
    return f"merge {source} into a mapping"


MUTATIONS = [delete_key, wrong_type, bad_number, edge_number, scaled_number, other_choice, odd_string, raw_yaml,
             odd_key, shared_node, self_reference, alias_bomb, merge_key]
#: For runs: mutations that often leave a scenario the loader accepts, with odd but allowed values.
PLAUSIBLE_MUTATIONS = [inside_edge_number, inside_edge_number, inside_edge_number, scaled_number,
                       same_kind_choice, alias_of_same_kind, delete_key, odd_string, wrong_type]


def to_yaml(tree) -> str:
    """The tree as YAML text; shared nodes become anchors and aliases, a ``'<<'`` key a merge key
    and a ``RAW_YAML_k`` string the text ``RAW_YAML[k]``."""
    text = yaml.safe_dump(tree, sort_keys=False, allow_unicode=True, width=120)
    text = re.sub(r"RAW_YAML_(\d+)", lambda m: RAW_YAML[int(m.group(1))], text)
    return text.replace("'<<':", "<<:")


@dataclasses.dataclass(frozen=True)
class Mutant:
    """A mutated preset: what was done to it (all a failure report shows) and its YAML text."""

    done: str
    text: str = dataclasses.field(repr=False)

    def __repr__(self) -> str:
        return f"Mutant({self.done!r})"


@st.composite
def mutated_presets(draw, mutations=MUTATIONS, cut=lambda tree: tree, after=lambda tree: tree) -> Mutant:
    """A preset after ``cut``, one to three ``mutations``, then ``after``."""
    name = draw(st.sampled_from(PRESETS))
    tree = cut(copy.deepcopy(TREES[name]))
    if draw(st.booleans()):
        tree = with_catalogue_copies(tree)
    if draw(st.booleans()):
        tree = with_early_warning(tree)
    done = [name]
    for _ in range(draw(st.integers(1, 3))):
        mutation = draw(st.sampled_from(mutations))
        done.append(f"{mutation.__name__}: {mutation(draw, tree)}")
    return Mutant("; ".join(done), to_yaml(after(tree)))


#: Fields whose far ends make a run slow, not wrong (a salvo of 100, a launch a day after the
#: epoch, a radar revisit of 10 ms ...): the default profile's runs keep them inside these
#: (least, greatest) values, so that a run takes seconds; the fuzz profile runs their whole range.
SLOW_ENDS = {"count": (None, 2), "bursts": (None, 2), "launch_time_s": (None, 60), "spacing_s": (None, 60),
             "duration_s": (None, 3000),
             "time_step_s": (0.5, None), "scan_period_s": (0.5, None), "planning_interval_s": (1.0, None),
             "update_period_s": (1.0, None), "latency_s": (None, 60)}


def within_run_budget(tree: dict) -> dict:
    """``tree`` with every finite number of a :data:`SLOW_ENDS` field moved inside its limits."""
    for path in [()] + node_paths(tree):
        node = _get(tree, path) if path else tree
        if not isinstance(node, dict):
            continue
        for key, (least, greatest) in SLOW_ENDS.items():
            value = node.get(key)
            if type(value) in (int, float) and math.isfinite(value):
                if least is not None and value < least:
                    node[key] = least
                if greatest is not None and value > greatest:
                    node[key] = greatest
    return tree


# --- the properties -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "mutated.yaml"


def load_or_refuse(path: Path, text: str):
    """The compiled world of ``text`` written to ``path``, or None where the loader refuses it
    with an InputError that names the file and, for each problem, a field."""
    path.write_text(text, encoding="utf-8")
    try:
        return load_world(str(path))
    except InputError as e:
        assert e.source == str(path), str(e)
        assert e.problems and all(field and message for field, message in e.problems), e.problems
        return None


def test_unmutated_presets_are_accepted(scenario_file):
    # the baseline of the properties below: as shipped, and with their catalogue entries copied
    for name in PRESETS:
        assert load_or_refuse(scenario_file, to_yaml(TREES[name])) is not None, name
        tree = with_catalogue_copies(copy.deepcopy(TREES[name]))
        assert load_or_refuse(scenario_file, to_yaml(tree)) is not None, name
        tree = with_early_warning(copy.deepcopy(TREES[name]))
        assert load_or_refuse(scenario_file, to_yaml(tree)) is not None, name


@given(mutated_presets())
def test_mutated_preset_loads_or_raises_input_error(scenario_file, mutant):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        world = load_or_refuse(scenario_file, mutant.text)
    event("refused by the loader" if world is None else "accepted by the loader")


def _long_run() -> Mutant:
    """A defect the fuzzer found: a run ten times longer than the threats' flights coasted the
    tracks on through the Earth until their covariances were no longer positive definite."""
    tree = first_threat_only(copy.deepcopy(TREES["nato-russia-2011"]))
    tree["duration_s"] = 10000
    return Mutant("nato-russia-2011; duration_s: 10000", to_yaml(tree))


@settings(max_examples=RUN_EXAMPLES)
@example(_long_run())
@given(mutated_presets(PLAUSIBLE_MUTATIONS, cut=first_threat_only,
                       after=(lambda tree: tree) if PROFILE == "fuzz" else within_run_budget))
def test_accepted_mutation_runs_two_runs(scenario_file, mutant):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        world = load_or_refuse(scenario_file, mutant.text)
        if world is None:
            event("refused by the loader")
            return
        if not world.threats and world.flights:  # a scenario of flights: the air picture
            from shieldlab.engine.air import simulate_air

            air = simulate_air(world, 2, seed=0, scene_run=None)
            event("ran (air picture)")
            assert all(len(col) == 2 * len(world.flights) for col in air.outcomes.values())
            return
        if not world.threats and world.shelling is not None:  # shelling: fired, seen and located
            from shieldlab.engine.shelling import simulate_shelling

            try:
                sh = simulate_shelling(world, 2, seed=0, scene_run=None)
            except InputError as e:  # an aim out of reach: the check `shieldlab run` makes first
                event("refused by the preflight")
                assert e.problems and all(message for _, message in e.problems), e.problems
                return
            event("ran (shelling)")
            rows = 2 * sum(m.n_rounds for m in world.shelling.missions) * len(world.shelling.radars)
            assert all(len(col) == rows for col in sh.rounds.values())
            return
        try:
            flights = preflight(world, 2)  # the checks `shieldlab run` makes before it starts
        except InputError as e:
            event("refused by the preflight")
            assert e.problems and all(message for _, message in e.problems), e.problems
            return
        res = simulate(world, runs=2, seed=0, flights=flights)
    event("ran")
    assert res.summary["runs"] == 2
    assert all(len(col) == 2 * len(world.threats) for col in res.outcomes.values())
