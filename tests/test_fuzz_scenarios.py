"""Hardened input: every shipped preset, mutated at random, loads or is refused with an InputError.

Hypothesis parses each preset's YAML into a tree and mutates it: deletes keys and list
items, gives a value the wrong type, a NaN/infinite/negative/zero/tiny/huge number or an odd
string, renames keys, and makes YAML aliases (a node shared by two places, a list that
holds itself, a "billion laughs" nest of aliases, a ``<<`` merge key).  Half the examples
first copy the catalogue entries the preset uses into its ``catalog:`` section, so that the
catalogue's own fields are mutated too.  The mutated tree is written back as YAML and goes
through the path of ``shieldlab run``: :func:`shieldlab.scenario.load_world` on the file,
:func:`~shieldlab.engine.chain.preflight`, :func:`~shieldlab.engine.montecarlo.simulate`.

Bad input must end in :class:`~shieldlab.errors.InputError` naming a field: never another
exception, nor a warning (warnings are errors here).  A scenario that passes the loader
and the preflight must run two Monte Carlo runs.

Profiles (``HYPOTHESIS_PROFILE``): ``default``, a few hundred loads and a dozen runs with
fixed seeds, for ``make test``; ``fuzz``, thousands of random examples, for ``make fuzz``.
"""

from __future__ import annotations

import copy
import math
import os
import warnings
from importlib import resources
from pathlib import Path
from types import UnionType
from typing import Annotated, Union, get_args, get_origin

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
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
settings.register_profile("default", max_examples=150, deadline=None, derandomize=True, database=None,
                          suppress_health_check=_SLOW_OK)
settings.register_profile(
    "fuzz", max_examples=3000, deadline=None, suppress_health_check=_SLOW_OK,
    database=DirectoryBasedExampleDatabase(Path(__file__).resolve().parents[1] / ".pytest_cache" / "hypothesis"))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

#: Runs of an accepted scenario: a tenth of the load examples (a run takes a second or two).
RUN_EXAMPLES = max(10, settings().max_examples // 10)

PRESETS = preset_names()


def _preset_tree(name: str) -> dict:
    text = (resources.files("shieldlab.scenario") / "presets" / f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _catalogue_entries() -> dict[str, dict[str, dict]]:
    """The built-in catalogue as YAML trees: section -> id -> entry."""
    out = {}
    for section in ("missiles", "interceptors", "sensors"):
        text = (resources.files("shieldlab.catalog") / f"{section}.yaml").read_text(encoding="utf-8")
        out[section] = {e["id"]: e for e in yaml.safe_load(text)[section]}
    return out


TREES = {name: _preset_tree(name) for name in PRESETS}
CATALOGUE = _catalogue_entries()


def with_catalogue_copies(tree: dict) -> dict:
    """``tree`` with the catalogue entries it uses copied into its ``catalog:`` section (the same
    figures: it loads as before, and the catalogue's fields are there to mutate)."""
    used = {"missiles": [t.get("missile") for t in tree["threats"]],
            "interceptors": [b.get("interceptor") for b in tree.get("batteries", [])],
            "sensors": [s.get("type") for s in tree.get("sensors", [])]}
    tree["catalog"] = {section: [copy.deepcopy(CATALOGUE[section][i]) for i in dict.fromkeys(ids)]
                       for section, ids in used.items()}
    return tree


def first_threat_only(tree: dict) -> dict:
    """``tree`` with its first threat entry alone, so that a run takes about a second."""
    tree["threats"] = tree["threats"][:1]
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


def edge_values(field: FieldInfo) -> list[float]:
    """The ends of a number field's range, just inside and just outside, or huge where it is open."""
    bounds = {name.capitalize(): getattr(m, name) for m in _constraints(field) for name in ("ge", "gt", "le", "lt")
              if hasattr(m, name)}
    is_int = _unwrap(field.annotation) is int
    out: list[float] = []
    if "Ge" in bounds:
        out += [bounds["Ge"], bounds["Ge"] - 1]
    if "Gt" in bounds:
        g = bounds["Gt"]
        out += [g + 1] if is_int else [math.nextafter(g, math.inf), g + 1e-9, g + 1e-3, g]
    if "Le" in bounds:
        out += [bounds["Le"], bounds["Le"] + 1]
    if "Lt" in bounds:
        out += [bounds["Lt"] - 1] if is_int else [math.nextafter(bounds["Lt"], -math.inf), bounds["Lt"]]
    if "Le" not in bounds and "Lt" not in bounds:
        out += [10**6, 10**12] if is_int else [1e6, 1e12, 1e300]
    return out


def number_fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return {k: f for k, f in _fields(model).items() if _unwrap(f.annotation) in (int, float)}


# --- mutations: each draws a place and changes the tree in place, returning what it did -----------

def edge_number(draw, tree) -> str:
    """Set a number field of a mapping (given or not) to an end of its range, just inside or
    just outside: the values a run is likeliest to trip over."""
    places = [p for p in [()] + node_paths(tree)
              if isinstance(_get(tree, p) if p else tree, dict) and (m := model_at(p)) and number_fields(m)]
    path = draw(st.sampled_from(places))
    key, field = draw(st.sampled_from(sorted(number_fields(model_at(path)).items())))
    value = draw(st.sampled_from(edge_values(field)))
    (_get(tree, path) if path else tree)[key] = value
    return f"{path + (key,)} = {value!r}"


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


def odd_string(draw, tree) -> str:
    """Replace a value by an odd string: empty, blank, number-like, unicode, control, very long."""
    path = draw(st.sampled_from(node_paths(tree)))
    value = draw(st.one_of(st.sampled_from(ODD_STRINGS), st.text(max_size=20)))
    _set(tree, path, value)
    return f"{path} = {value!r}"


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


MUTATIONS = [delete_key, wrong_type, bad_number, edge_number, scaled_number, other_choice, odd_string, odd_key,
             shared_node, self_reference, alias_bomb, merge_key]
#: For runs: mutations that often leave a scenario the loader accepts, with odd but allowed values.
PLAUSIBLE_MUTATIONS = [delete_key, edge_number, edge_number, edge_number, scaled_number, scaled_number,
                       other_choice, shared_node]


def to_yaml(tree) -> str:
    """The tree as YAML text; shared nodes become anchors and aliases, a ``'<<'`` key a merge key."""
    text = yaml.safe_dump(tree, sort_keys=False, allow_unicode=True, width=120)
    return text.replace("'<<':", "<<:")


@st.composite
def mutated_presets(draw, mutations=MUTATIONS, cut=lambda tree: tree):
    """(what was done, YAML text) of a preset after ``cut`` and one to three ``mutations``."""
    name = draw(st.sampled_from(PRESETS))
    tree = cut(copy.deepcopy(TREES[name]))
    if draw(st.booleans()):
        tree = with_catalogue_copies(tree)
    done = [name]
    for _ in range(draw(st.integers(1, 3))):
        mutation = draw(st.sampled_from(mutations))
        done.append(f"{mutation.__name__}: {mutation(draw, tree)}")
    return "; ".join(done), to_yaml(tree)


# --- the properties -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "mutated.yaml"


def load_or_refuse(path: Path, text: str):
    """The compiled world of ``text`` written to ``path``, or None where the loader refuses it
    with an InputError that names the file and, for each problem, a field."""
    path.write_text(text, encoding="utf-8")
    try:
        world = load_world(str(path))
    except InputError as e:
        event("refused by the loader")
        assert e.source == str(path), str(e)
        assert e.problems and all(field and message for field, message in e.problems), e.problems
        return None
    event("accepted by the loader")
    return world


def test_unmutated_presets_are_accepted(scenario_file):
    # the baseline of the properties below: as shipped, and with their catalogue entries copied
    for name in PRESETS:
        assert load_or_refuse(scenario_file, to_yaml(TREES[name])) is not None, name
        tree = with_catalogue_copies(copy.deepcopy(TREES[name]))
        assert load_or_refuse(scenario_file, to_yaml(tree)) is not None, name


@given(mutated_presets())
def test_mutated_preset_loads_or_raises_input_error(scenario_file, mutated):
    done, text = mutated
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            load_or_refuse(scenario_file, text)
        except AssertionError:
            raise
        except Exception as e:
            raise AssertionError(f"{done}: {type(e).__name__}: {e}") from e


@settings(max_examples=RUN_EXAMPLES)
@given(mutated_presets(PLAUSIBLE_MUTATIONS, cut=first_threat_only))
def test_accepted_mutation_runs_two_runs(scenario_file, mutated):
    done, text = mutated
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            world = load_or_refuse(scenario_file, text)
            if world is None:
                return
            try:
                flights = preflight(world, 2)  # the checks `shieldlab run` makes before it starts
            except InputError as e:
                event("refused by the preflight")
                assert e.problems and all(message for _, message in e.problems), e.problems
                return
            res = simulate(world, runs=2, seed=0, flights=flights)
        except AssertionError:
            raise
        except Exception as e:
            raise AssertionError(f"{done}: {type(e).__name__}: {e}") from e
    assert res.summary["runs"] == 2
    assert all(len(col) == 2 * len(world.threats) for col in res.outcomes.values())
