"""``shieldlab sweep`` and ``shieldlab query``: parameter sweeps into one Parquet dataset, and SQL over it."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from shieldlab import MAX_RUNS
from shieldlab.cli.common import (
    _QUIET,
    _SCHEDULER,
    _WORKERS,
    DEFAULT_RUNS,
    _Bar,
    _Command,
    _compile_note,
    _empty_or_absent,
    _err,
    _guard,
    _interval_text,
    _local_workers,
    _mean_ci,
    _path,
    _plural,
    _print_line,
    _print_table,
    _progress,
    _say,
    app,
)
from shieldlab.cli.notes import _unread_sweep_note
from shieldlab.errors import InputError


@app.command(cls=_Command)
@_guard
def sweep(
    scenario: str = typer.Argument(..., help="scenario YAML file or preset name", metavar="SCENARIO"),
    settings: list[str] = typer.Option(..., "--set", metavar="FIELD=V1,V2",
                                       help="a scenario field and the values to try, e.g. doctrine.salvo=1,2 or "
                                            "batteries[0].rounds=8,16 (repeat for more fields: their product is run)"),
    runs: int = typer.Option(DEFAULT_RUNS, "--runs", min=1, max=MAX_RUNS, help="Monte Carlo runs per point"),
    seed: int = typer.Option(1, "--seed", min=0, help="random seed: the same raids at every point"),
    out_dir: Path = typer.Option(..., "--out", parser=_path, help="sweep folder (a partitioned Parquet dataset)"),
    resume: bool = typer.Option(False, "--resume", help="finish the sweep in --out: keep its completed chunks"),
    force: bool = typer.Option(False, "--force", help="replace the sweep in --out (as a whole)"),
    workers: int | None = _WORKERS,
    scheduler: str | None = _SCHEDULER,
    as_json: bool = typer.Option(False, "--json", help="print one row per point as JSON instead of a table"),
    quiet: bool = _QUIET,
) -> None:
    """Run a scenario at every combination of some of its values, into a dataset to query."""
    import time

    from shieldlab.engine import sweep as sw
    from shieldlab.engine.distribute import check_cluster_options, client_for
    from shieldlab.io.dataset import HEADLINE, MANIFEST, PAIRED, Sweep
    from shieldlab.io.sweep_report import PAIRED_HEADING, paired_text, shown

    if as_json and quiet:
        raise InputError("give --json or --quiet, not both", field="--quiet")
    if resume and force:
        raise InputError("give --resume or --force, not both", field="--force")
    parsed = [sw.parse_setting(s) for s in settings]
    n_points = int(np.prod([len(s.values) for s in parsed]))
    check_cluster_options(workers, scheduler)  # a usage error, before any compiling
    if not (quiet or as_json):
        note = _unread_sweep_note(scenario, parsed)
        if note:
            _err().print(note, markup=False, highlight=False)
    # a misspelt --out, say (a folder of other files is refused below: no note before that refusal)
    if resume and not quiet and not (Path(out_dir) / MANIFEST).is_file() and _empty_or_absent(out_dir):
        _err().print(f"note: --resume: no stopped sweep in {out_dir} to finish; starting it", markup=False,
                     highlight=False)
    if force and not quiet and (Path(out_dir) / MANIFEST).is_file():
        from shieldlab.io.dataset import replaced_folder

        _err().print(f"note: --force: the sweep in {out_dir} is kept in {replaced_folder(out_dir)} until this one "
                     "is finished", markup=False, highlight=False)
    _compile_note("simulate", quiet or as_json)
    if workers is not None and scheduler is None:  # (with both, client_for refuses them)
        workers = _local_workers(workers, None, quiet)
    resuming = resume and (Path(out_dir) / MANIFEST).is_file()  # (the time taken is then this part's)
    t0 = time.perf_counter()
    with _progress(n_points * runs, enabled=not (quiet or as_json)) as progress:
        with client_for(workers, scheduler) as client:
            done = sw.run_sweep(scenario, parsed, runs, seed, out_dir, resume=resume, force=force, progress=progress,
                                client=client, note=None if quiet else (lambda text: _say(progress, text)),
                                kept=progress.kept if isinstance(progress, _Bar) else None)
    elapsed = time.perf_counter() - t0
    rows = done.summaries()
    for r, p in zip(rows, done.paired(rows)):
        r.update(p)
    cols = [s.column for s in parsed]
    if as_json:
        same = done.manifest.get("common_random_numbers")
        sys.stdout.write(json.dumps([{"point": r["point"], **r["set"], "runs": r["runs"], "common_random_numbers": same,
                                      **{k: r.get(k) for k in HEADLINE + PAIRED},
                                      "track_quality": r.get("track_quality") or {}} for r in rows], indent=2) + "\n")
        return
    if quiet:
        return
    t = Table(title=f"{Sweep.title(rows, scenario)} — {_plural(runs, 'run')} per point, seed {seed}")
    t.add_column("point", justify="right")
    for c in cols:
        t.add_column(c, justify="right", overflow="fold")
    # every column folds: on a narrow terminal an interval wraps instead of ending in "…" (a
    # minimum width for it would crop the table's right-hand columns instead)
    t.add_column("mean leakers per raid", justify="right", overflow="fold")
    t.add_column("P(no leaker)", justify="right", overflow="fold")
    t.add_column("mean interceptors fired", justify="right", overflow="fold")
    # the track quality of each system (C2 node picture) the points have: its mean GOSPA
    if len(rows) > 1:
        t.add_column(PAIRED_HEADING, justify="right", overflow="fold")
    systems = sorted({name for r in rows for name in (r.get("track_quality") or {})})
    for name in systems:
        t.add_column("GOSPA km" if len(systems) == 1 else f"GOSPA {name} km", justify="right", overflow="fold")

    def gospa(r, name: str) -> str:  # (as the run's track-quality table writes it)
        return _mean_ci((r.get("track_quality") or {}).get(name) or {}, "gospa_m", 1e3)

    def with_interval(value: float, ci, lower: float | None = None) -> str:
        lo, hi = ci or (None, None)
        if lo is None or hi is None:  # one run per point has no spread
            return f"{value:.2f} (no interval: one run)"
        return f"{value:.2f} {_interval_text(lo if lower is None else max(lo, lower), hi, 2)}"

    for r in rows:
        t.add_row(str(r["point"]), *[shown(r["set"][c]) for c in cols],
                  with_interval(r["mean_leakers"], r["mean_leakers_ci95"], 0.0),
                  with_interval(r["p_no_leaker"], r["p_no_leaker_ci95"]),
                  with_interval(r["mean_interceptors_fired"], r["mean_interceptors_fired_ci95"], 0.0),
                  *([paired_text(r)] if len(rows) > 1 else []), *[gospa(r, name) for name in systems])
    _print_table(t)
    # a sweep over the association scores GOSPA two ways (the threats, or every object in the
    # air): said here as the report says it, so the column is not read as one measure
    methods = {r.get("track_quality_method") for r in rows if r.get("track_quality")}
    if len(methods) > 1:
        _print_line("GOSPA is scored in different ways at these points, so its column is not one measure: under "
                    "tracking.association labels against the threats, under gnn against every object in the air, "
                    "spent boosters and false tracks too (each point's summary.json: track_quality_method)")
    from shieldlab.io.sweep_report import alike_points

    alike = alike_points(rows, {s.column: s.field for s in parsed})
    if alike:
        _print_line(alike)
    from shieldlab.engine.sweep import common_draws_note

    if done.manifest.get("common_random_numbers") is False:  # (the same raids at every point goes without saying)
        _print_line(common_draws_note([s.field for s in parsed], False))
    _print_line(f"in parentheses: 95 % intervals over {_plural(runs, 'run')} per point — probabilities: Wilson "
                f"score; means: Student t (cut to the possible range; where every run or raid came out alike, the "
                f"exact bound of a bounded mean)  ·  took {elapsed:.1f} s"
                f"{' (resumed: the chunks done before were kept)' if resuming else ''}  ·  wrote {out_dir} "
                f"(charts: "
                f"{out_dir}/report.html) "
                f"(per threat: shieldlab query {out_dir} \"select point, threat, p_intercept, p_intercept_lo, "
                f"p_intercept_hi from point_threats order by all\")")


def _sql_plain(v, as_json: bool):
    """One value of a query's answer as JSON or CSV carry it: an INTERVAL as an ISO 8601
    duration in seconds (``PT259200S``), a date or time in ISO 8601, a BLOB in base64, a
    DECIMAL as a number, lists and structs element by element; in JSON a nan or an
    infinity is null (JSON has neither), in CSV as Python writes it (``nan``, ``inf``)."""
    import base64
    import datetime as dt
    import decimal
    import uuid

    if isinstance(v, float):
        return None if as_json and not math.isfinite(v) else v
    if isinstance(v, dt.timedelta):
        s = v.total_seconds()
        digits = f"{abs(s):.6f}".rstrip("0").rstrip(".")  # fixed point: no exponent (PT5e-06S)
        return f"{'-' if s < 0 else ''}PT{digits}S"
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(v, decimal.Decimal):
        return _sql_plain(float(v), as_json) if as_json else str(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, dict):
        d = {str(k): _sql_plain(x, True) for k, x in v.items()}
        return d if as_json else json.dumps(d, allow_nan=False)
    if isinstance(v, (list, tuple)):
        items = [_sql_plain(x, True) for x in v]
        return items if as_json else json.dumps(items, allow_nan=False)
    return v


@app.command(cls=_Command)
@_guard
def query(
    folder: Path = typer.Argument(..., parser=_path, help="a sweep folder (shieldlab sweep --out), a run's "
                                  "results folder (shieldlab run --out), or one Parquet file (shieldlab tracks "
                                  "--out)", metavar="DIR"),
    sql: str = typer.Argument(..., help="DuckDB SQL over the views outcomes, events, track_quality, tracks "
                                        "(association gnn) and, a sweep's, points, point_threats and point_quality; "
                                        "over a run's folder, a view per .parquet file in it; over a file, the view "
                                        "named by its name without .parquet", metavar="SQL"),
    as_json: bool = typer.Option(False, "--json", help="print the rows as a JSON list of objects"),
    as_csv: bool = typer.Option(False, "--csv", help="print the rows as CSV"),
) -> None:
    """Answer SQL over a sweep's or a run's results, or one Parquet file (DuckDB)."""
    import csv
    import io

    from shieldlab.io.dataset import progress_note
    from shieldlab.io.dataset import query as run_query

    if as_json and as_csv:
        raise InputError("give --json or --csv, not both", field="--csv")
    cols, rows = run_query(folder, sql)
    note = progress_note(folder)
    if note:
        _err().print(note)
    if as_json:
        sys.stdout.write(json.dumps([{c: _sql_plain(v, True) for c, v in zip(cols, r)} for r in rows], indent=2,
                                    allow_nan=False) + "\n")
    elif as_csv:
        # (the text made first and written at once, as --json's: written row by row into a
        # pipe whose reader had gone, `| head -1`, click ended the command with 1 and no word)
        text = io.StringIO()
        w = csv.writer(text, lineterminator="\n")
        w.writerow(cols)
        w.writerows([[_sql_plain(v, False) for v in r] for r in rows])
        sys.stdout.write(text.getvalue())
    else:
        t = Table(title=f"{_plural(len(rows), 'row')}")
        numeric = [any(r[i] is not None for r in rows) and all(isinstance(r[i], (int, float)) or r[i] is None
                                                              for r in rows) for i in range(len(cols))]
        for c, num in zip(cols, numeric):
            t.add_column(c, overflow="fold", justify="right" if num else "left")
        for r in rows:  # (SQL's NULL as the tables write a missing value)
            t.add_row(*["–" if v is None else _float_cell(v) if isinstance(v, float) else str(v) for v in r])
        _print_table(t)


def _float_cell(v: float) -> str:
    """A float as a query's table shows it: six significant digits, but a number of a million
    or more to a tenth, not as 4.48689e+06 (seconds since an epoch 52 days back, 30 s apart,
    were unreadable)."""
    text = f"{v:.6g}"
    if "e+" in text and math.isfinite(v) and abs(v) < 1e15:
        text = f"{v:.1f}".removesuffix(".0")
    return text
