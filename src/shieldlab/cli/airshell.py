"""The air picture and shelling of ``shieldlab run``: their Monte Carlo, tables and stories."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from rich.table import Table

from shieldlab.cli.common import (
    _compile_note,
    _err,
    _hold_folder,
    _load_world,
    _named_by_settings,
    _plural,
    _print_line,
    _print_table,
    _progress,
    _with_set,
)
from shieldlab.cli.summary import _refuse_a_salvo, _run_summary_note
from shieldlab.errors import InputError
from shieldlab.io.run_folder import merge_events, scene_exports
from shieldlab.scenario.notes import _charge_notes, _ground_height_notes, _policing_notes


def _mission_names(world) -> set[str]:
    return set() if world.shelling is None else {m.name for m in world.shelling.missions}


def _print_shelling(summary: dict) -> None:
    from shieldlab.io.shelling_tables import tables

    for item in tables(summary):
        if isinstance(item, str):
            _print_line(item)
        else:
            _print_table(item)


def _print_mission_story(world, events: dict, mission: str, run: int) -> None:
    """One fire mission's events in one run of the shelling, in UTC."""
    from shieldlab.io.air_tables import utc_text

    t = Table(title=f"{mission}: run {run}")
    for col in ("time (UTC)", "round", "event", "by", "detail"):
        t.add_column(col, overflow="fold")
    sel = np.flatnonzero((events["run"] == run)
                         & np.array([str(x).startswith(f"{mission}#") for x in events["threat"]], bool))
    for k in sel:
        t.add_row(utc_text(world.scenario.epoch, float(events["t_s"][k])), str(events["threat"][k]),
                  str(events["kind"][k]), str(events["actor"][k]), str(events["detail"][k]))
    _print_table(t)


def _print_air(summary: dict) -> None:
    from shieldlab.io.air_tables import tables

    for item in tables(summary):
        if isinstance(item, str):
            _print_line(item)
        else:
            _print_table(item)


def _simulate_air(scenario: str, runs: int, seed: int, out_dir: Path | None, *, as_json: bool, quiet: bool,
                  force: bool, explain: str | None, scene_run: int, half_width: float | None,
                  export_formats: tuple[str, ...] = (), settings: list | None = None) -> None:
    """``shieldlab run`` of a scenario without ballistic threats: the air picture
    (:mod:`shieldlab.engine.air`) of its flights and the shelling (:mod:`shieldlab.engine.shelling`)."""
    import time

    from shieldlab.io.output import check_out_dir, write_results

    world = _load_world(scenario, settings)
    missions = _mission_names(world)
    if explain is not None and explain not in {f.name for f in world.flights} | missions:
        _refuse_a_salvo(world.flights, explain, "flights")
        names = [f.name for f in world.flights] + sorted(missions)
        listed = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        what = "flight" if not missions else "fire mission" if not world.flights else "flight or fire mission"
        raise InputError(f"no {what} {explain!r} in this scenario ({what.split(' or ')[0]}s: {listed})",
                         field="--explain")
    if out_dir is not None:
        check_out_dir(out_dir, force=force)
    _compile_note("simulate", quiet)
    if not quiet:
        for note in _policing_notes(world) + _ground_height_notes(world) + _charge_notes(world):  # (validate's too)
            _err().print(note, markup=False, highlight=False)
    if half_width is not None and not quiet:
        note = _run_summary_note(runs, half_width)
        _err().print(note) if as_json else _print_line(note)
    t0 = time.perf_counter()
    summary: dict = _with_set({"scenario": world.scenario.name, "runs": runs, "seed": seed}, settings or [], world)
    res = shelling = None
    if world.shelling is not None:
        from shieldlab.engine.shelling import check

        _named_by_settings(scenario, settings or [], world, check)  # an aim out of reach is found before anything runs
    if world.flights:
        from shieldlab.engine.air import simulate_air

        entries = len({f.entry for f in world.flights})
        with _progress(runs * entries, enabled=not (quiet or as_json)) as progress:
            res = simulate_air(world, runs, seed, scene_run=scene_run, progress=progress)
        summary["air"] = _with_set(res.summary, settings or [], world)
    if world.shelling is not None:
        from shieldlab.engine.shelling import simulate_shelling

        with _progress(runs, enabled=not (quiet or as_json)) as progress:
            shelling = simulate_shelling(world, runs, seed, scene_run=scene_run, progress=progress)
        summary["shelling"] = _with_set(shelling.summary, settings or [], world)
    elapsed = time.perf_counter() - t0
    if out_dir is not None:
        from shieldlab.io import shelling_report, shelling_scene

        if res is not None:
            from shieldlab.io import air_report, air_scene

            doc = air_scene.scene(world, res, run=scene_run)
            page = air_report.build(world, res, scene_run)
            if shelling is not None:
                doc = air_scene.merged(doc, shelling_scene.scene(world, shelling, run=scene_run))
                page = shelling_report.appended(page, world, shelling, scene_run)
        else:
            assert shelling is not None
            doc = shelling_scene.scene(world, shelling, run=scene_run)
            page = shelling_report.build(world, shelling, scene_run)
        extra = {"scene.czml": doc.dumps(), "report.html": page}
        if export_formats:
            from shieldlab.io import export as X
            from shieldlab.io.shelling_export import features, joined

            if res is not None:
                fs = X.air_features(world, res, scene_run, seed=seed)
                extra.update(scene_exports(fs if shelling is None else joined(fs, world, shelling, scene_run),
                                            export_formats))
            else:
                extra.update(scene_exports(features(world, shelling, scene_run), export_formats))
        events = res.events if res is not None else None
        if shelling is not None:
            events = shelling.events if events is None else merge_events(events, shelling.events)
        assert events is not None
        _hold_folder(out_dir)  # one writer at a time (a run or sweep writing it now refuses this one)
        write_results(out_dir, summary, None, events, force=force, extra=extra,
                      air_outcomes=None if res is None else res.outcomes,
                      shelling_rounds=None if shelling is None else shelling.rounds)
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return
    if quiet:
        return
    if res is not None:
        _print_air(res.summary)
    if shelling is not None:
        _print_shelling(shelling.summary)
    # (the shelling table's NEES holds the estimator's chi-square band instead, as its notes say)
    band = ("; the shelling's probabilities over its rounds (Wilson score); NEES: the chi-square band a consistent "
            "estimator's mean falls in") if shelling is not None else ""
    # the methods named, as the ballistic run's footer names them (a share alike in every run, as
    # 1.00 (0.40-1.00) after 4, read as neither of the intervals a reader knew)
    how = (" — probabilities: Wilson score; means: Student t (cut to the possible range; a share alike in every "
           "run: the exact bound of a bounded mean)") if res is not None else ""
    _print_line(f"in parentheses: 95 % intervals over {_plural(runs, 'run')}{how}{band}  ·  took {elapsed:.1f} s")
    if explain is not None and res is not None and explain in {f.name for f in world.flights}:
        _print_flight_story(world, res.events, explain, scene_run)
    elif explain is not None and shelling is not None:
        _print_mission_story(world, shelling.events, explain, scene_run)
    if out_dir is not None:
        _print_line(f"wrote {out_dir}/summary.json" + (", air_outcomes.parquet" if res is not None else "")
                    + (", shelling_rounds.parquet" if shelling is not None else "")
                    + ", events.parquet, scene.czml, report.html" + "".join(f", scene.{f}" for f in export_formats))
        _print_line(f"report: {out_dir}/report.html (open it in a browser)  ·  3-D scene of run {scene_run}: "
                    f"shieldlab view {out_dir}")


def _print_flight_story(world, events: dict, flight: str, run: int) -> None:
    """One flight's events in one run of the air picture, in UTC."""
    from shieldlab.io.air_tables import timeline_rows, utc_text

    t = Table(title=f"{flight}: run {run}")
    for col in ("time (UTC)", "event", "by", "detail"):
        t.add_column(col, overflow="fold")
    for ts, kind, actor, detail in timeline_rows(events, flight, run):
        t.add_row(utc_text(world.scenario.epoch, ts), kind, actor, detail)
    _print_table(t)
