"""``shieldlab compare``: one scenario under several C2 architectures, side by side."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from shieldlab import MAX_RUNS
from shieldlab.cli.common import (
    _CAPPED,
    _CUT,
    _SET,
    DEFAULT_RUNS,
    _Command,
    _compile_note,
    _err,
    _guard,
    _interval_text,
    _load_world,
    _named_by_settings,
    _one_value_settings,
    _plural,
    _print_line,
    _print_table,
    _progress,
    _set_text,
    _visible,
    _with_set,
    app,
)
from shieldlab.errors import InputError
from shieldlab.scenario.notes import _scenario_notes


def _architectures(text: str) -> list[str]:
    from shieldlab.c2.network import architecture_names

    names = [a.strip() for a in text.split(",")]
    if any(names) and not all(names):
        raise InputError(f"an empty name in {text!r} (a stray comma?)", field="--architectures")
    return architecture_names([a for a in names if a], "--architectures")


@app.command(cls=_Command)
@_guard
def compare(
    scenario: str = typer.Argument(..., help="scenario YAML file or preset name", metavar="SCENARIO"),
    architectures: str | None = typer.Option(
        None, "--architectures", help="comma-separated: independent, coordinated, sectoral, integrated "
                                      "[default: all four; sectoral only where the nodes have sectors]"),
    runs: int = typer.Option(DEFAULT_RUNS, "--runs", min=1, max=MAX_RUNS, help="Monte Carlo runs per architecture"),
    seed: int = typer.Option(1, "--seed", min=0, help="random seed: the same raids under every architecture"),
    settings: list[str] | None = _SET,
    as_json: bool = typer.Option(False, "--json", help="print the comparison as JSON instead of a table"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors (a check that it runs)"),
) -> None:
    """Run one scenario under several C2 architectures (same raids, same seeds), side by side."""
    import time

    from shieldlab.analysis.compare import compare as run_compare

    if as_json and quiet:
        raise InputError("give --json or --quiet, not both", field="--quiet")
    parsed = _one_value_settings(settings)
    if any(st.path == ("architecture",) for st in parsed):
        raise InputError("compare runs the scenario under each architecture of --architectures: name them there, "
                         "not with --set", field="--set")
    world = _load_world(scenario, parsed)
    from shieldlab.engine.chain import require_threats

    require_threats(world)  # before any note: a refusal is the one line printed
    if not (quiet or as_json):
        # what validate notes (the comparison goes on), but for what the file's own architecture does
        for note in _scenario_notes(world, own_architecture=False):
            _err().print(note, markup=False, highlight=False)
    if architectures is None:
        from shieldlab.c2.network import ARCHITECTURES
        from shieldlab.scenario.compile import compile_world
        from shieldlab.scenario.schema import with_architecture

        sectors = all(nd.sector is not None for nd in world.nodes if nd.batteries)
        names = [a for a in ("independent", "coordinated", "sectoral", "integrated") if sectors or a != "sectoral"]
        assert set(names) <= set(ARCHITECTURES)
        if not sectors and not (quiet or as_json):
            _err().print("sectoral left out: not every node with batteries has a sector (nodes[].sector)")
        fit = []
        for a in names:  # the scenario as it is under each: one it cannot be run under is left out, said why
            try:
                compile_world(with_architecture(world.scenario, a, source=world.source), source=world.source)
            except InputError as e:
                if not (quiet or as_json):
                    first = e.message if e.field is None else f"{e.field}: {e.message}"
                    _err().print(f"{a} left out: {_visible(first)}", soft_wrap=True)
                continue
            fit.append(a)
        names = fit
    else:
        names = _architectures(architectures)
    _compile_note("simulate", quiet or as_json)
    from shieldlab.engine.chain import preflight

    # every threat steered first (as run does), its error named by the --set that caused it
    flights = _named_by_settings(scenario, parsed, world, lambda w: preflight(w, runs, can_store=False))
    t0 = time.perf_counter()
    with _progress(len(names) * runs, enabled=not (quiet or as_json)) as progress:
        # one bar over every architecture's runs
        results = run_compare(world, names, runs, seed, flights=flights, progress=None if progress is None else
                              (lambda arch, n: progress(names.index(arch) * runs + n)))
    elapsed = time.perf_counter() - t0
    head = _with_set({"scenario": world.scenario.name}, parsed, world)
    if as_json:
        sys.stdout.write(json.dumps({**head, "runs": runs, "seed": seed,
                                     "nodes": [nd.name for nd in world.nodes],
                                     "architectures": [r.as_dict() for r in results]}, indent=2) + "\n")
        return
    if quiet:
        return

    def ci(v, digits=2):
        return f"{v[0]:.{digits}f} {_interval_text(v[1], v[2], digits)}" if np.isfinite(v[1]) else f"{v[0]:.{digits}f}"

    def signed(v, alike=False):  # a paired difference: its sign always shown, a minus as the sweep's (−)
        if v is None or not np.isfinite(v[0]):  # (None: the first, the one the others are paired with)
            return "—"
        if not np.isfinite(v[1]):  # one run
            return f"{v[0]:+.2f}".replace("-", "−")
        if alike:  # every raid the same: said, the exact bound beside it (it alone read as no evidence)
            return f"0 in every raid (bound ±{v[2]:.2f})"
        return f"{v[0]:+.2f} {_interval_text(v[1], v[2], 2, signed=True)}".replace("-", "−")

    # a file's name where the scenario inside it is named otherwise (a copy of a preset, say)
    where = Path(scenario).name if scenario.endswith((".yaml", ".yml")) else None
    shown = world.scenario.name + (f" ({where})" if where and Path(where).stem != world.scenario.name else "")
    t = Table(title=f"{shown}{_set_text(head)} — {_plural(runs, 'run')} per architecture, seed {seed}")
    t.add_column("per raid", justify="left", overflow="fold")
    for r in results:
        t.add_column(r.architecture, justify="right", overflow="fold")
    t.add_row("leakers", *[ci(r.leakers) for r in results])
    if len(results) > 1:  # the same raids in every column: what changed raid by raid
        base = results[0].architecture
        t.add_row(f"leakers vs {base}, raid by raid",
                  *[signed(r.leakers_difference, r.leakers_alike) for r in results])
        t.add_row("raids with fewer / more leakers",
                  *["—" if r.against is None else f"{r.raids_fewer_leakers} / {r.raids_more_leakers}"
                    for r in results])
    t.add_row("P(no leaker)", *[f"{r.p_no_leaker:.2f} {_interval_text(*r.p_no_leaker_ci95, 2)}" for r in results])
    t.add_row("hits on assets", *[ci(r.assets_hit) for r in results])
    if len({float(a.value) for a in world.assets}) > 1:  # assets of unequal value
        t.add_row("value lost", *[ci(r.value_lost) for r in results])
    t.add_row("interceptors fired", *[ci(r.interceptors) for r in results])
    if len(results) > 1:
        t.add_row(f"interceptors vs {results[0].architecture}",
                  *[signed(r.interceptors_difference, r.interceptors_alike) for r in results])
    # under gnn: what fused tracks of spent boosters and false alarms cost (the interceptors above count them)
    for label, of in (("of them at spent boosters", "at_boosters"), ("of them at false tracks", "at_false_tracks")):
        if any(getattr(r, of)[0] > 0 for r in results):
            t.add_row(label, *[ci(getattr(r, of)) for r in results])
    t.add_row("wasted interceptors", *[ci(r.wasted) for r in results])
    t.add_row("threats between sectors",
              *[ci(r.between_sectors) if r.architecture == "sectoral" else "—" for r in results])
    t.add_row("launch to first engagement [s], mean over the threats engaged",
              *[ci(r.first_engagement_s, 0) if np.isfinite(r.first_engagement_s[0]) else "—" for r in results])
    for key in results[0].track_share:
        # —: B's radars detected no threat, so there is nothing for A to have seen
        t.add_row(f"tracks: {key}", *[f"{v:.2f}" if np.isfinite(v := r.track_share.get(key, float("nan"))) else "—"
                                      for r in results])
    _print_table(t)
    _print_line((f"in parentheses: 95 % intervals over {_plural(runs, 'run')} — P(no leaker): Wilson score; "
                 f"means: Student t ({_CUT}; {_CAPPED})" if runs > 1 else
                 "one run: means without intervals; P(no leaker): Wilson score")
                + f"  ·  took {elapsed:.1f} s")
    if runs > 1:  # the caps those exact bounds reach to, which differ between architectures
        caps = ", ".join(f"{r.architecture} {r.interceptors_cap:g}" for r in results)
        _print_line(f"the most interceptors a raid can fire, the cap of those counts: {caps} (the batteries' rounds "
                    "above reserve or, where fewer, the threats times each fire control's engagements of one "
                    "threat times the largest salvo: each node's fire control engages on its own)")
    if len(results) > 1:
        _print_line(f"vs {results[0].architecture}: the raids are the same in every column, so each raid's "
                    "difference is the C2's; the mean of those differences and its Student t interval, which "
                    "excludes 0 where the runs tell the architectures apart (where every raid came out alike, \"0 in "
                    "every raid\" and the exact bound of a capped count: a raid that did differ could differ by a "
                    "whole raid's leakers, or by the most each side can fire for the interceptors, so no raid "
                    "differing gives a wider interval than one raid differing by one)")
    if results[0].track_share:  # (1.00 under independent read as tracks shared where none are)
        a_sees_b = next(iter(results[0].track_share))
        a, b = a_sees_b.split(" sees ", 1)
        own = (f" (under independent only its own: {a_sees_b} 1.00 means {a}'s radars saw every threat {b}'s did, "
               f"not that {b} shared them)") if any(r.architecture == "independent" for r in results) else ""
        _print_line(f"tracks: A sees B: of the threats B's own sensors detected, the share A's fire control held a "
                    f"track of, its own or one received{own}")
    if len(world.nodes) <= 1:  # (under the table, where the identical columns are read)
        _print_line("one C2 node: every architecture is the same C2 here, so the columns are the same; "
                    "sensors and batteries of different `system`s make several")
