"""``shieldlab run``: the kill chain's Monte Carlo, its results folder, scene and report."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import typer

from shieldlab import MAX_RUNS
from shieldlab.cli.airshell import (
    _mission_names,
    _print_air,
    _print_flight_story,
    _print_mission_story,
    _print_shelling,
    _simulate_air,
)
from shieldlab.cli.common import (
    _FOOTPRINT,
    _QUIET,
    _SCENE_RUN,
    _SCHEDULER,
    _SET,
    _WORKERS,
    DEFAULT_RUNS,
    _Bar,
    _Command,
    _compile_note,
    _err,
    _float_in,
    _guard,
    _hold_folder,
    _load_world,
    _local_workers,
    _named_by_settings,
    _one_value_settings,
    _path,
    _plural,
    _print_line,
    _progress,
    _runs_for_half_width,
    _with_set,
    app,
)
from shieldlab.cli.notes import _unread_settings_note, _without_threats
from shieldlab.cli.summary import (
    _check_threat,
    _print_explain,
    _print_launch_reports,
    _print_no_fire,
    _print_summary,
    _print_timeline,
    _print_track_quality,
    _run_summary_note,
    _Shown,
)
from shieldlab.errors import InputError
from shieldlab.scenario.notes import _blind_satellite_notes, _scenario_notes


def _simulate(scenario: str, runs: int | None, seed: int, out_dir: Path | None, *, as_json: bool = False,
              quiet: bool = False, force: bool = False, timeline: bool = False, explain: str | None = None,
              half_width: float | None = None, resume: bool = False, workers: int | None = None,
              scheduler: str | None = None, scene_run: int | None = None, footprint: bool = False,
              export: str | None = None, settings: list | None = None) -> None:
    import shutil
    import time

    from shieldlab.engine.chain import preflight
    from shieldlab.engine.distribute import check_cluster_options, client_for
    from shieldlab.engine.montecarlo import run_beside, simulate
    from shieldlab.io.output import check_out_dir
    from shieldlab.io.run_folder import discard_if_unstarted, finished_run, write_run_folder

    if as_json and quiet:
        raise InputError("give --json or --quiet, not both", field="--quiet")
    if explain is not None and (as_json or quiet):
        raise InputError("prints a story; give it without --json and --quiet", field="--explain")
    if half_width is not None:
        if runs is not None:
            raise InputError("give --runs or --half-width, not both", field="--half-width")
        runs = _runs_for_half_width(half_width)
    runs = DEFAULT_RUNS if runs is None else runs
    settings = settings or []
    only = _without_threats(scenario, settings)
    air_only = only is not None
    if only is not None:
        what = {"flights": "the air picture", "shelling": "the shelling"}.get(only, "the air picture and the shelling")
        for flag, given, why in (
                ("--workers", workers is not None, f"{what} runs in this one process"),
                ("--scheduler", scheduler is not None, f"{what} runs in this one process"),
                ("--resume", resume, f"a run of {what} keeps no chunks to resume: run it again"),
                ("--footprint", footprint, "the defended footprint is the batteries' against ballistic threats")):
            if given:
                raise InputError(f"applies to ballistic threats; this scenario has {only} only ({why})", field=flag)
    check_cluster_options(workers, scheduler)  # a usage error, before any compiling
    if scene_run is not None and out_dir is None:
        raise InputError("picks the run of the results folder's scene and report: give --out", field="--scene-run")
    scene_run = 0 if scene_run is None else scene_run
    if not 0 <= scene_run < runs:
        raise InputError(f"must name one of the {_plural(runs, 'run')}: 0 to {runs - 1}, not {scene_run}",
                         field="--scene-run")
    if footprint and out_dir is None:
        raise InputError("maps the footprint into the results folder's report: give --out", field="--footprint")
    if export is not None:
        from shieldlab.io import export as X

        export_formats = X.parse_formats(export)
        if out_dir is None:
            raise InputError("writes the scene's run into the results folder: give --out", field="--export")
    else:
        export_formats = ()
    if air_only:
        note = _unread_settings_note(settings, only)
        if note and not quiet:
            _err().print(note, markup=False, highlight=False)
        _simulate_air(scenario, runs, seed, out_dir, as_json=as_json, quiet=quiet, force=force, explain=explain,
                      scene_run=scene_run, half_width=half_width, export_formats=export_formats, settings=settings)
        return
    store, partial = None, None
    if out_dir is not None:
        from shieldlab.engine.sweep import load, partial_folder, with_settings
        from shieldlab.scenario import compile_world
        from shieldlab.scenario.loader import parse

        if resume and finished_run(out_dir):
            raise InputError(f"{out_dir} holds the results of a finished run: nothing to resume", field="--resume")
        # results a resumed run had written before it stopped are replaced by the same ones
        check_out_dir(out_dir, force=force or resume)
        if resume and not quiet and not partial_folder(out_dir).exists():
            # a misspelt --out, say; said once the folder is known to take a run (a folder of
            # other files is refused above: no note before that refusal)
            _err().print(f"note: --resume: no stopped run of {out_dir} to finish; starting it", markup=False,
                         highlight=False)
        # read once: the checkpoint records the digest of what is run (the settings applied), and
        # of the file as written (a refused resume then tells a file's change from a --set's)
        source, file_raw = load(scenario)
        if settings:
            source, raw, world = with_settings(scenario, settings, loaded=(source, file_raw))
        else:
            raw = file_raw
            world = compile_world(parse(raw, source), source)
    else:
        world = _load_world(scenario, settings)
    if explain is not None and explain not in {f.name for f in world.flights} | _mission_names(world):
        _check_threat(world, explain)
    _compile_note("simulate", quiet)
    if not quiet:
        for note in _scenario_notes(world):  # what validate notes; the run goes on
            _err().print(note, markup=False, highlight=False)
    # aims every threat: an aim out of reach is found here
    flights = _named_by_settings(scenario, settings, world, lambda w: preflight(w, runs, stored=out_dir is not None))
    if not quiet and world.threats:
        for note in _blind_satellite_notes(world, flights.truth):
            _err().print(note, markup=False, highlight=False)
    if world.shelling is not None:
        from shieldlab.engine.shelling import check

        _named_by_settings(scenario, settings, world, check)  # lays every fire mission: an aim out of reach too
    if out_dir is not None:  # every check passed before anything is written
        from shieldlab.engine.chain import chunk_runs
        from shieldlab.engine.sweep import checkpoint

        # one writer at a time, from here to the results: a second run or sweep into it is refused
        _hold_folder(out_dir)
        if resume and finished_run(out_dir):
            # looked at again under the lock: a run into it that was finishing when this one
            # started (its lock free by now) had been run again from scratch, exit 0
            raise InputError(f"{out_dir} holds the results of a finished run (finished while this command "
                             "started): nothing to resume", field="--resume")
        # finished chunks are kept beside the results folder until it is written: a stopped
        # run goes on with --resume
        store, partial = checkpoint(source, raw, runs, seed, out_dir, chunk_runs(world, flights), resume=resume,
                                    force=force, settings=settings, file_raw=file_raw)
    if half_width is not None and not quiet:
        note = _run_summary_note(runs, half_width)
        _err().print(note) if as_json else _print_line(note)
    if workers is not None and scheduler is None:  # (with both, client_for refuses them)
        from shieldlab.engine.chain import chunk_runs

        # the chunks the run is cut into: a store's (a resumed run keeps its own), else the engine's
        size = store.runs_per_chunk if store is not None else chunk_runs(world, flights)
        workers = _local_workers(workers, -(-runs // size), quiet)
    # a resumed run's kept chunks: its time is the rest's
    if store is not None and resume:
        from shieldlab.engine.montecarlo import chunk_sizes

        sizes = chunk_sizes(runs, store.runs_per_chunk)
        kept = [i for i in range(len(sizes)) if store.complete(i)]
        resumed_runs = sum(sizes[i] for i in kept)
        if kept and not (quiet or as_json):  # said at once: the progress starts from them
            from shieldlab.io.dataset import resumed_note

            _err().print(resumed_note(len(kept), len(sizes), resumed_runs, runs), markup=False, highlight=False)
    else:
        resumed_runs = 0
    t0 = time.perf_counter()
    try:
        with _progress(runs, enabled=not (quiet or as_json)) as progress:
            if isinstance(progress, _Bar) and resumed_runs:
                progress.kept(resumed_runs)
            with client_for(workers, scheduler) as client:
                res = simulate(world, runs=runs, seed=seed, progress=progress, flights=flights, store=store,
                               client=client)
    except BaseException:
        # stopped before a chunk was finished (a bad --workers/--scheduler, an unreachable
        # cluster, Ctrl-C at once): a new run keeps nothing to resume, so nothing is left behind
        if partial is not None and not resume:
            discard_if_unstarted(partial)
        raise
    # a scenario of threats and flights or shelling: those beside the chain
    air, shelling = run_beside(world, runs, seed, res.summary, scene_run if (out_dir or explain) else None)
    elapsed = time.perf_counter() - t0
    _with_set(res.summary, settings, world)
    if out_dir is not None:
        write_run_folder(out_dir, world, res, flights, seed, scene_run=scene_run, footprint=footprint,
                         export_formats=export_formats, air=air, shelling=shelling, force=force or resume)
    shown = None
    if not (as_json or quiet):  # what the printout reads of the tables, before a stored run's chunks go
        shown = _Shown.of(res, explain if explain in {t.name for t in world.threats} else None, timeline)
    if partial is not None:
        shutil.rmtree(partial, ignore_errors=True)
    if as_json:
        sys.stdout.write(json.dumps(res.summary, indent=2) + "\n")
        return
    if quiet or shown is None:
        return
    _print_summary(res.summary, elapsed, resumed_runs)
    _print_track_quality(res.summary)
    _print_launch_reports(res.summary)
    _print_no_fire(res.summary, shown.reasons)
    if air is not None:
        _print_air(air.summary)
    if shelling is not None:
        _print_shelling(shelling.summary)
    if explain is not None and air is not None and explain in {f.name for f in world.flights}:
        _print_flight_story(world, air.events, explain, scene_run)
    elif explain is not None and shelling is not None and explain in _mission_names(world):
        _print_mission_story(world, shelling.events, explain, scene_run)
    elif explain is not None:
        _print_explain(explain, res.summary, shown.explain_events, shown.explain_outcomes, scene_run,
                       epoch=world.scenario.epoch)
    if timeline:
        _print_timeline(shown.timeline, epoch=world.scenario.epoch)
    if out_dir is not None:
        _print_line(f"wrote {out_dir}/summary.json, outcomes.parquet, events.parquet"
                    + (", track_quality.parquet" if res.summary.get("track_quality") else "")
                    + (", tracks.parquet" if (Path(out_dir) / "tracks.parquet").exists() else "")
                    + (", air_outcomes.parquet" if air is not None else "")
                    + (", shelling_rounds.parquet" if shelling is not None else "") + ", scene.czml, report.html"
                    + "".join(f", scene.{f}" for f in export_formats))
        _print_line(f"report: {out_dir}/report.html (open it in a browser)  ·  3-D scene of run {scene_run}: "
                    f"shieldlab view {out_dir}")


@app.command(cls=_Command)
@_guard
def run(
    scenario: str = typer.Argument(..., help="scenario YAML file or preset name", metavar="SCENARIO"),
    runs: int | None = typer.Option(None, "--runs", min=1, max=MAX_RUNS,
                                       help=f"Monte Carlo runs [default: {DEFAULT_RUNS}]"),
    half_width: float | None = typer.Option(None, "--half-width", parser=_float_in(-math.inf, math.inf),
                                               metavar="FLOAT",
                                               help="instead of --runs: as many runs as a 95 % interval this "
                                                    "half-width needs at worst (0 < H < 0.5)"),
    seed: int = typer.Option(1, "--seed", min=0, help="random seed: same seed, same numbers"),
    out_dir: Path | None = typer.Option(None, "--out", parser=_path,
                                           help="results folder: summary.json, outcomes.parquet, events.parquet, "
                                                "track_quality.parquet"),
    force: bool = typer.Option(False, "--force", help="replace an existing results folder (as a whole)"),
    resume: bool = typer.Option(False, "--resume", help="finish a stopped run into --out: keep its finished chunks"),
    workers: int | None = _WORKERS,
    scheduler: str | None = _SCHEDULER,
    as_json: bool = typer.Option(False, "--json", help="print summary.json instead of a table"),
    explain: str | None = typer.Option(None, "--explain", metavar="THREAT",
                                          help="tell that threat's story: a timeline and the reasons, per battery"),
    scene_run: int | None = _SCENE_RUN,
    footprint: bool = _FOOTPRINT,
    export: str | None = typer.Option(None, "--export", metavar="FORMATS",
                                         help="with --out: also the scene's run as scene.geojson and/or scene.kml "
                                              "(geojson, kml or geojson,kml) for GIS tools and Google Earth"),
    quiet: bool = _QUIET,
    settings: list[str] | None = _SET,
) -> None:
    """Run a scenario's kill chain over Monte Carlo runs; with --out, also the run's report
    (report.html) and the 3-D scene of one run (scene.czml, `shieldlab view DIR`)."""
    if force and out_dir is None:
        raise InputError("replaces a results folder: give --out", field="--force")
    if resume and out_dir is None:
        raise InputError("finishes a stopped run into a results folder: give --out", field="--resume")
    if resume and force:
        raise InputError("give --resume or --force, not both", field="--force")
    _simulate(scenario, runs, seed, out_dir, as_json=as_json, quiet=quiet, force=force, explain=explain,
              half_width=half_width, resume=resume, workers=workers, scheduler=scheduler, scene_run=scene_run,
              footprint=footprint, export=export, settings=_one_value_settings(settings))
