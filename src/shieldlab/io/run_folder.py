"""A run's results folder (``shieldlab run --out DIR``, ``shieldlab.simulate(..., out=DIR)``):
its tables written from the run's stored chunks, its scene and report made one file at a
time, and read back a whole run at a time (:class:`FolderStore`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def finished_run(out_dir) -> bool:
    """Whether ``out_dir`` holds a finished run's results (its summary, and no stopped run's
    chunks beside it): nothing for a resume to do."""
    from shieldlab.engine.sweep import partial_folder

    return (Path(out_dir) / "summary.json").exists() and not partial_folder(out_dir).exists()


def discard_if_unstarted(partial: Path) -> None:
    """Remove a run's chunk folder ``partial`` (:func:`shieldlab.engine.sweep.checkpoint`)
    where it holds no finished chunk: a run stopped before its first one (Ctrl-C at once, a
    cluster not reached) leaves nothing behind that a resume could keep."""
    import shutil

    if not any((Path(partial) / "done").glob("point=*/chunk-*")):
        shutil.rmtree(partial, ignore_errors=True)


def merge_events(a: dict, b: dict) -> dict:
    """Two event tables of the same columns as one, by run and time."""
    both = {k: np.concatenate([a[k], b[k]]) for k in a}
    order = np.lexsort((both["t_s"], both["run"]))
    return {k: v[order] for k, v in both.items()}


def scene_exports(features, export_formats) -> dict[str, str]:
    """scene.geojson and/or scene.kml of a results folder, as ``export_formats`` ask."""
    from shieldlab.io import export as X

    out = {}
    if "geojson" in export_formats:
        out["scene.geojson"] = X.geojson_text(features)
    if "kml" in export_formats:
        out["scene.kml"] = X.to_kml(features)
    return out


def scene_and_report(world, res, flights, seed: int, scene_run: int, footprint: bool,
                      export_formats=(), air=None, shelling=None) -> Iterator[tuple[str, str]]:
    """scene.czml and report.html of a results folder, one file at a time, ``(name, text)``:
    the scene's run run again alone (the same records as in the Monte Carlo), the report
    around it, with the radars' coverage map and, asked for, the defended footprint; and
    the scene's run as scene.geojson and scene.kml where ``export_formats`` ask for them.
    Each file's text and what made it go before the next is made (a long run's peak memory)."""
    from shieldlab.engine import heap
    from shieldlab.engine.chain import replay_run
    from shieldlab.io import scene

    heap.release()  # what the tables' writing left
    chunk = replay_run(world, flights, seed, scene_run)
    doc = scene.scene(world, chunk, 0, run=scene_run)
    if air is not None:  # a scenario of threats and flights: the air picture joins both
        from shieldlab.io import air_scene

        doc = air_scene.merged(doc, air_scene.scene(world, air, run=scene_run))
    if shelling is not None:  # threats and shelling: the shelling joins both
        from shieldlab.io import air_scene, shelling_scene

        doc = air_scene.merged(doc, shelling_scene.scene(world, shelling, run=scene_run))
    text = doc.dumps()
    del doc
    yield scene.SCENE_FILE, text
    del text
    heap.release()
    from shieldlab.analysis import coverage as cov_mod
    from shieldlab.io import report

    cov = cov_mod.compute(world, cov_mod.threat_alt_km(flights.truth.apogee_alt if world.threats else None)) \
        if world.sensors else None
    # and at the lower tier's ceiling, where it lies well below: its radars may see nothing at
    # the first map's height and yet cue their batteries in time
    low = cov_mod.lower_tier_alt_km(world, cov.alt_km) if cov is not None else None
    cov_low = cov_mod.compute(world, low) if low is not None else None
    fp = None
    if footprint:
        from shieldlab.analysis import footprint as fpm

        fp = fpm.compute(world)
    page = report.build(world, res, chunk, 0, footprint=fp, coverage=cov, coverage_low=cov_low)
    if air is not None:
        from shieldlab.io import air_report

        page = air_report.appended(page, world, air, scene_run)
    if shelling is not None:
        from shieldlab.io import shelling_report

        page = shelling_report.appended(page, world, shelling, scene_run)
    yield "report.html", page
    del page
    if export_formats:
        from shieldlab.io import export as X

        fs = X.run_features(world, chunk, scene_run, seed=seed)
        if shelling is not None:
            from shieldlab.io.shelling_export import joined

            fs = joined(fs, world, shelling, scene_run)
        yield from scene_exports(fs, export_formats).items()


def write_run_folder(out_dir, world, res, flights, seed: int, *, scene_run: int = 0, footprint: bool = False,
                     export_formats: Sequence[str] = (), air=None, shelling=None, force: bool = False) -> None:
    """Write the results folder of a run's :class:`~shieldlab.engine.montecarlo.Results`
    ``res`` (its tables in memory or in its store): summary.json, the tables, scene.czml and
    report.html of run ``scene_run`` (and, asked for, the footprint in the report and the scene
    as GeoJSON/KML), the air picture's and the shelling's beside them where given."""
    from shieldlab.engine import heap
    from shieldlab.io.output import write_results

    # made once the tables are written (a generator), each file in turn: the tables' writing
    # and the report's figures never share the memory
    extra = scene_and_report(world, res, flights, seed, scene_run, footprint, tuple(export_formats), air=air,
                             shelling=shelling)
    heap.release()  # the last chunk's records and the summary's reading, before the tables' writing
    # the tables go from the run's chunks to the results a chunk at a time (an air picture or
    # shelling beside them is merged into the events by run and time, in memory)
    events: Any = res.table("events")
    if air is not None or shelling is not None:
        events = res.read("events")
        events = events if air is None else merge_events(events, air.events)
        events = events if shelling is None else merge_events(events, shelling.events)
    write_results(out_dir, res.summary, res.table("outcomes"), events,
                  track_quality=_pieces_or_none(res.table("track_quality")),
                  tracks=_pieces_or_none(res.table("tracks")) if res.has_tracks else None,
                  force=force, extra=extra,
                  air_outcomes=None if air is None else air.outcomes,
                  shelling_rounds=None if shelling is None else shelling.rounds)


def _pieces_or_none(pieces):
    """``pieces`` (an iterator of table pieces), or None if it has none."""
    import itertools

    first = next(pieces, None)
    return None if first is None else itertools.chain([first], pieces)


class FolderStore:
    """The result tables of a finished results folder, read back from its Parquet files a
    piece of whole runs at a time (what :class:`~shieldlab.engine.montecarlo.Results` reads
    through ``table``): a run's rows follow one another in each file, and a run that a row
    group's end cuts is put together before its piece is given.  Read only."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _file(self, table: str) -> Path:
        return self.root / f"{table}.parquet"

    def columns(self, table: str) -> list[str]:
        """The columns of ``table`` (none where the folder has no such file)."""
        import pyarrow.parquet as pq

        f = self._file(table)
        return list(pq.read_schema(f).names) if f.exists() else []

    def chunks(self, table: str, columns: Sequence[str] | None = None,
               where: Mapping[str, Sequence] | None = None) -> Iterator[dict[str, np.ndarray]]:
        """Table ``table`` in pieces of whole runs, in run order: only ``columns`` (all if None),
        in the order asked, and the rows whose column ``k`` holds one of ``where[k]``."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        f = self._file(table)
        if not f.exists():
            return
        have = pq.read_schema(f).names
        keep = list(dict.fromkeys(columns)) if columns is not None else list(have)
        read = list(dict.fromkeys([*keep, *(where or {}), "run"]))
        held: pa.Table | None = None
        for batch in pq.ParquetFile(f).iter_batches(columns=read):
            t = pa.Table.from_batches([batch])
            t = t if held is None else pa.concat_tables([held, t])
            runs = t.column("run").to_numpy()
            if runs.size == 0:
                continue
            # the last run may go on in the next batch: held back until it does not
            other = np.flatnonzero(runs != runs[-1])
            cut = int(other[-1]) + 1 if other.size else 0
            held = t.slice(cut)
            if cut:
                yield _piece(t.slice(0, cut), keep, where)
        if held is not None and held.num_rows:
            yield _piece(held, keep, where)


def _piece(t, keep: list[str], where: Mapping[str, Sequence] | None) -> dict[str, np.ndarray]:
    """Arrow table ``t`` as NumPy columns ``keep``, its rows filtered by ``where`` (a missing
    number, NULL in the file, is nan again)."""
    cols = {k: _numpy(t.column(k)) for k in dict.fromkeys([*keep, *(where or {})])}
    if where:
        ok = np.ones(t.num_rows, bool)
        for k, values in where.items():
            ok &= np.isin(cols[k], list(values))
        cols = {k: v[ok] for k, v in cols.items()}
    return {k: cols[k] for k in keep}


def _numpy(col) -> np.ndarray:
    """An Arrow column as the engine's NumPy column: numbers (NULL as nan), bools, text as objects."""
    import pyarrow as pa

    if pa.types.is_floating(col.type):
        return col.to_numpy(zero_copy_only=False)  # (a null is nan, in the column's own width)
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return np.asarray(col.to_pylist(), dtype=object)
    return col.to_numpy(zero_copy_only=False)
