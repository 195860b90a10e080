"""``shieldlab presets``, ``validate``, ``schema`` and ``catalog``: what the scenarios and the catalogue hold."""

from __future__ import annotations

import json
import math
import sys
import textwrap
from collections.abc import Callable, Mapping
from typing import cast

import typer
from rich.table import Table
from rich.text import Text

from shieldlab import MAX_RUNS
from shieldlab.cli.common import (
    _SET,
    DEFAULT_RUNS,
    _Command,
    _compile_note,
    _guard,
    _json_option,
    _load_world,
    _named_by_settings,
    _one_value_settings,
    _plural,
    _print_line,
    _print_table,
    _set_text,
    _with_set,
    app,
)
from shieldlab.cli.notes import (
    _air_and_shelling_notes,
    _false_alarm_text,
    _gib,
    _management_text,
    _radars_text,
    _unread_settings_note,
    _without_threats,
)
from shieldlab.errors import InputError
from shieldlab.scenario.notes import _blind_satellite_notes, _ground_mismatches, _scenario_notes


@app.command(cls=_Command)
@_guard
def presets(name: str | None = typer.Argument(None, metavar="[NAME]",
                                             help="print this preset's YAML (to copy and edit) instead"),
            as_json: bool = _json_option()) -> None:
    """List the built-in scenarios, or print one's YAML: `shieldlab presets NAME > my.yaml`."""
    from shieldlab.scenario.loader import load, preset_names, preset_text

    if name is not None:
        if as_json:
            raise InputError("prints the YAML file; give it without --json", field="--json")
        try:
            sys.stdout.write(preset_text(name))
        except KeyError:
            raise InputError(f"unknown preset {name!r} (known: {', '.join(preset_names())})", field="NAME") from None
        return
    rows = [{"name": n, "description": load(n).description.strip().split("\n")[0]} for n in preset_names()]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    t = Table(title="presets")
    t.add_column("name", no_wrap=True)
    t.add_column("description", max_width=76)  # wrapped in its cell, a pipe's table too (it was ~1,100 wide)
    for r in rows:
        t.add_row(r["name"], r["description"])
    _print_table(t)


@app.command(cls=_Command)
@_guard
def validate(scenario: str = typer.Argument(..., help="scenario YAML file or preset name", metavar="SCENARIO"),
             runs: int = typer.Option(DEFAULT_RUNS, "--runs", min=1, max=MAX_RUNS,
                                      help="check that this many runs fit in memory"),
             as_json: bool = _json_option("the checks as JSON"), settings: list[str] | None = _SET) -> None:
    """Check a scenario as `run` would before simulating: schema, references, catalogue ids,
    the steering of every threat, the duration and the memory.  Exit 0 if valid, 2 if not."""
    try:
        _validate(scenario, runs, as_json, settings)
    except InputError as e:
        if as_json:  # a script reads the verdict on stdout either way; the lines still go to stderr
            try:  # the settings as given, as a valid scenario's JSON has them (a --set that is no setting: none)
                given = {st.field: st.values[0] if not isinstance(st.values[0], float) or math.isfinite(st.values[0])
                         else st.typed(st.values[0]) for st in _one_value_settings(settings)}  # (JSON has no NaN)
            except InputError:
                given = {}
            sys.stdout.write(json.dumps({"scenario": scenario, **({"set": given} if given else {}), "valid": False,
                                         "source": e.source,
                                         "errors": [{"field": f, "message": m} for f, m in e.problems]},
                                        indent=2, default=str) + "\n")
        raise


def _validate(scenario: str, runs: int, as_json: bool, settings: list[str] | None) -> None:
    from shieldlab.engine.chain import chunk_runs, estimate_memory_bytes, preflight
    from shieldlab.io.summary import tracking_settings

    parsed = _one_value_settings(settings)
    world = _load_world(scenario, parsed)
    _compile_note("flyout", False)
    info = _with_set({"scenario": world.scenario.name}, parsed, world) | {"valid": True, "sensors": len(world.sensors),
            "early_warning": len(world.early_warning), "batteries": len(world.batteries),
            "threats": len(world.threats), "assets": len(world.assets), "flight_entries": len(world.scenario.flights),
            "fire_missions": 0 if world.shelling is None else len(world.shelling.missions),
            "locating_radars": 0 if world.shelling is None else len(world.shelling.radars)}
    mem, chunk = 0, None  # no ballistic threats: no chunks of the kill chain
    if world.threats:
        flights = _named_by_settings(scenario, parsed, world, lambda w: preflight(w, runs))
        mem = estimate_memory_bytes(world, runs, flights)
        chunk = min(runs, chunk_runs(world, flights))
    info.update(runs=runs, memory_bytes=int(mem), runs_per_chunk=chunk, tracking=tracking_settings(world),
                notes=_scenario_notes(world) + (_blind_satellite_notes(world, flights.truth) if world.threats else []))
    if world.flights:
        from shieldlab.engine import air

        info["air"] = air.check(world)
    if world.shelling is not None:
        from shieldlab.engine import shelling

        info["shelling"] = _named_by_settings(scenario, parsed, world, shelling.check)
    info["notes"] += _air_and_shelling_notes(world, info)
    if parsed and not world.threats:  # a ballistic field set on flights or shelling: run notes it too
        unread = _unread_settings_note(parsed, _without_threats(scenario, parsed))
        info["notes"] += [unread] if unread else []
    if world.scenario.tracking.association == "gnn":  # (tracking_settings made them)
        info["false_alarms_per_search_frame"] = info["tracking"]["false_alarms_per_search_frame"]
    if as_json:
        sys.stdout.write(json.dumps(info, indent=2) + "\n")
        return
    # what the scenario holds: the ballistic raid's parts always where it has threats, and of the
    # rest (or of a scenario without threats) what it has
    parts = (("sensors", "sensor", None), ("early_warning", "early-warning satellite", None),
             ("batteries", "battery", "batteries"), ("threats", "threat", None), ("assets", "asset", None),
             ("flight_entries", "flight entry", "flight entries"), ("fire_missions", "fire mission", None),
             ("locating_radars", "weapon-locating radar", None))
    always = {"sensors", "batteries", "threats", "assets"} if world.threats else set()
    counts = ", ".join(_plural(info[k], noun, plural) for k, noun, plural in parts if k in always or info[k])
    _print_line(Text.assemble(("valid", "green"), f": {info['scenario']}{_set_text(info)} — {counts}"))
    if world.scenario.tracking.association == "gnn" and world.threats:  # (the ballistic chain's tracking)
        _print_line(f"fire control on the multi-target tracker's tracks ({info['tracking']['filter'].upper()} "
                    f"tracks, association gnn); "
                    + _false_alarm_text(world.scenario.sensing.false_alarms, info["false_alarms_per_search_frame"]))
        _print_line(_management_text(info["tracking"]))
    elif world.threats:
        tr = info["tracking"]
        _print_line(f"tracking: one {tr['filter'].upper()} per threat on its labelled reports (association "
                    f"{tr['association']}), confirmed after {_plural(tr['init_hits'], 'detection')}")
    if info["notes"]:
        for note in info["notes"]:
            _print_line(note)
    if world.threats:
        _print_line(f"memory for {_plural(runs, 'run')}: about {_gib(mem)}, in chunks of {_plural(chunk or 0, 'run')}")
    if world.flights:
        a = info["air"]
        _print_line(f"air picture: {_plural(a['flights'], 'aircraft or missile', 'aircraft and missiles')} in "
                    f"{_plural(a['entries'], 'flight entry', 'flight entries')}, "
                    f"the longest {a['longest_flight_s'] / 60:,.1f} minutes without dispersions"
                    + (f"; airspace policed: {a['airspace']}" if a["airspace"] else ""))
    if world.shelling is not None:
        sh = info["shelling"]
        for m in sh["missions"]:
            seen = _radars_text(m["radars"])
            _print_line(f"shelling: {m['mission']}, {_plural(m['rounds'], 'round')} of {m['round']} at "
                        f"{m['range_km']:.2f} km, elevation {m['elevation_deg']:.1f} deg, "
                        f"{m['time_of_flight_s']:.1f} s of flight; radars: {seen}")
        # the point of origin is where the backward flight meets the ground height the radar
        # assumes; with no terrain model a default height is worth saying
        specific = {i for i, *_ in _ground_mismatches(world)}  # (radars said among the notes: not twice)
        for i, (cfg, lr) in enumerate(zip(world.scenario.shelling.radars, world.shelling.radars)):
            if cfg.ground_alt_m is None and i not in specific:
                _print_line(f"note: {lr.name} takes the ground the weapons stand on at its own height, "
                            f"{lr.ground_alt:,.0f} m (no terrain model): set ground_alt_m where they stand higher "
                            "or lower, since the point of origin is placed where the backward flight meets it")


@app.command(cls=_Command)
@_guard
def schema() -> None:
    """Print the scenario file's JSON Schema."""
    from shieldlab.scenario.reference import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


@app.command("catalog", cls=_Command)
@_guard
def catalog_cmd(kind: str | None = typer.Argument(None, help="missiles, interceptors, sensors, satellites, "
                                                              "aircraft, artillery (unguided rounds) or "
                                                              "locating-radars (weapon-locating radars) "
                                                              "[default: missiles]", metavar="KIND"),
                entry: str | None = typer.Argument(None, help="one entry's id: all its fields, the source whole",
                                                   metavar="ID"),
                as_json: bool = _json_option()) -> None:
    """List the built-in catalogue with sources, or show one entry (KIND ID)."""
    from shieldlab import catalog
    from shieldlab.catalog import artillery

    tables: dict[str, Callable[[], Mapping[str, catalog.Missile | catalog.Interceptor | catalog.Sensor
                                            | catalog.Satellite | catalog.Aircraft | catalog.Round
                                            | catalog.LocatingRadar]]] = {
        "missiles": catalog.missiles, "interceptors": catalog.interceptors, "sensors": catalog.sensors,
        "satellites": catalog.satellites, "aircraft": catalog.aircraft, "artillery": artillery.rounds,
        "locating-radars": artillery.locating_radars}
    named = kind is not None
    kind = "missiles" if kind is None else kind
    if kind not in tables:  # (an entry's id given alone, catalog scud-b: the kind that holds it)
        raise InputError(f"must be one of {', '.join(tables)}, not {kind!r}{_held_in(kind, tables)}", field="KIND")
    entries = tables[kind]()
    if entry is not None:
        _catalog_entry(kind, entries, entry, as_json, {k: f for k, f in tables.items() if k != kind})
        return
    if as_json:
        sys.stdout.write(json.dumps([e.model_dump() for e in entries.values()], indent=2) + "\n")
        return
    t = Table(title=f"{kind} ({len(entries)})")
    key = {"missiles": "max_range_km", "interceptors": "burnout_speed_kms", "sensors": "max_range_km",
           "satellites": "report_latency_s", "aircraft": "cruise_speed_kmh", "artillery": "max_range_km",
           "locating-radars": "sector_deg"}[kind]
    # a satellite's orbit says how a scenario places it (lon_deg or apogee_lon_deg); an
    # aircraft's kind whether it is piloted or a cruise missile; a round's how it is fired; a
    # weapon-locating radar's reach by class of round
    extra = {"satellites": ("orbit",), "aircraft": ("kind",), "artillery": ("kind",),
             "locating-radars": ("range_km mortar/artillery/rocket",), "missiles": ("flight",),
             "interceptors": ("radar",)}.get(kind, ())
    # a sensor's range is against a stated target: without its RCS the figure says little
    after = ("ref_rcs_m2",) if kind == "sensors" else ()
    for col in ("id", "name", *extra, key, *after, "source"):
        # ids and names fold rather than end in an ellipsis; names and sources wrap between
        # words, in columns at most 40 and 60 wide (a pipe's table had been ~380 columns)
        t.add_column(col, overflow="fold" if col in ("id", "name") else "ellipsis",
                     max_width={"name": 40, "source": 60}.get(col),
                     justify="right" if col in (key, *after) else "left")  # numbers as the other tables
    for e in entries.values():
        orbit: tuple[str, ...] = ()
        if kind in ("aircraft", "artillery"):
            orbit = (cast("catalog.Aircraft | catalog.Round", e).kind,)
        elif kind == "missiles":  # how it flies: ballistic, shedding energy by its thrust, or lifting
            ms = cast("catalog.Missile", e)
            orbit = (", ".join(["quasi-ballistic (aero)" if ms.aero is not None else "ballistic"]
                               + (["energy management (gem)"] if ms.energy_management == "gem" else [])),)
        elif kind == "interceptors":  # the radar that fires it from its own site (reach's default cue)
            orbit = (cast("catalog.Interceptor", e).radar or "—",)
        elif kind == "locating-radars":
            lr = cast("catalog.LocatingRadar", e)
            orbit = (f"{lr.mortar_range_km:g} / {lr.artillery_range_km:g} / {lr.rocket_range_km:g}",)
        elif extra:
            sat = cast("catalog.Satellite", e)
            orbit = ("geo" if sat.orbit == "geo" else
                     f"heo: a {sat.semi_major_axis_km:,.0f} km, e {sat.eccentricity:g}, i {sat.inclination_deg:g}°",)
        t.add_row(e.id, e.name, *orbit, f"{getattr(e, key):,g}", *(f"{getattr(e, c):,g}" for c in after),
                  textwrap.shorten(e.source, 160, placeholder=" …"))
    _print_table(t)
    if not named:
        _print_line(f"other kinds: {', '.join(k for k in tables if k != kind)} (shieldlab catalog KIND)")
    _print_line(f"one entry whole, its source too: shieldlab catalog {kind} ID")


def _held_in(ident: str, tables: Mapping) -> str:
    """`` ('ID' is in KIND: shieldlab catalog KIND ID)`` for the first of ``tables`` (kind to
    its table's function) holding ``ident``; empty where none does."""
    kind = next((k for k, table in tables.items() if ident in table()), None)
    return f" ({ident!r} is in {kind}: shieldlab catalog {kind} {ident})" if kind else ""


def _catalog_entry(kind: str, entries: Mapping, entry: str, as_json: bool, others: Mapping) -> None:
    """``shieldlab catalog KIND ID``: one entry, every field (the list cuts its source short);
    ``others``: the other kinds' tables, to say where an id of another kind is."""
    import difflib

    if entry not in entries:
        near = difflib.get_close_matches(entry, list(entries), n=1)
        hint = _held_in(entry, others) or (f" (did you mean {near[0]!r}?)" if near else "")
        raise InputError(f"no {kind} entry {entry!r}{hint}; the ids: {', '.join(entries)}", field="ID")
    data = entries[entry].model_dump()
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    t = Table(title=f"{kind}: {entry}")
    t.add_column("field", overflow="fold")
    t.add_column("value", overflow="fold", max_width=100)  # (wrapped between words)
    for k, v in data.items():
        t.add_row(k, "–" if v is None else v if isinstance(v, str) else json.dumps(v))
    _print_table(t)
