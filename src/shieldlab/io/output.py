"""Writing a run's results to disk: a folder of Parquet tables and the summary JSON.

A results folder is written as a whole: its files go into a temporary folder beside it
(each file itself written atomically), which is then renamed into place.  A failure while
writing leaves the earlier folder untouched, or nothing.  An existing results folder is
replaced only when asked (``force``), and then as a whole, never merged.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from glob import escape as glob_escape
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from shieldlab.errors import InputError
from shieldlab.io.atomic import _umask, atomic_path, check_parent, writable_folder, write_text

#: The files of a results folder, in the order they are written.
RESULT_FILES = ("outcomes.parquet", "events.parquet", "summary.json", "track_quality.parquet", "scene.czml",
                "report.html", "scene.geojson", "scene.kml", "air_outcomes.parquet", "shelling_rounds.parquet",
                "tracks.parquet")


#: A table to write: its columns, or pieces of it with the same columns (a long run's chunks,
#: read one at a time).
Table = dict[str, np.ndarray] | Iterable[dict[str, np.ndarray]]
#: Rows per row group of a table written piece by piece.
ROW_GROUP = 1 << 15


def arrow_column(v: np.ndarray, nan_as_null: bool = False) -> pa.Array:
    """A column as Arrow: text (an object column of strings and None) always as strings, so
    that a piece or chunk where every value is None has the same type as the others; nan
    stays nan, or with ``nan_as_null`` becomes null (a sweep's chunks: SQL's NULL, which
    count() and avg() skip; read back, it is nan again)."""
    if v.dtype == object:
        text = all(x is None or isinstance(x, str) for x in v)
        return pa.array(v.tolist(), type=pa.string() if text else None)
    return pa.array(v, from_pandas=nan_as_null and v.dtype.kind == "f")


def arrow_table(cols: dict[str, np.ndarray]) -> pa.Table:
    """Columns as the Parquet files hold them (:func:`arrow_column`, nan as null)."""
    # a missing number (nan) is written as SQL's NULL, as in a sweep's tables: DuckDB reads
    # nan through the Parquet statistics, which leave nan out (isnan() grouped every row of a
    # column with nan in it as False), and avg() and count() skip a NULL; read back into
    # NumPy or pandas it is nan again
    return pa.table({k: arrow_column(np.asarray(v), nan_as_null=True) for k, v in cols.items()})


def write_parquet(table: Table, path: Path, metadata: dict[str, str] | None = None,
                  descriptions: Mapping[str, str] | None = None) -> None:
    """Write ``table`` as one Parquet file; pieces are converted as they come and written in
    row groups of :data:`ROW_GROUP` rows (the last one shorter), so memory holds about one
    row group and a piece, not the table.  ``metadata``: key-value pairs of the file's schema
    (where a dict ``table`` is written whole: what made it, its columns' units).
    ``descriptions``: each column's meaning and unit, in its field's metadata
    (:func:`shieldlab.io.columns.described`)."""
    from shieldlab.io.columns import described

    if isinstance(table, dict):
        t = described(arrow_table(table), descriptions or {})
        if metadata:
            t = t.replace_schema_metadata({**(t.schema.metadata or {}), **metadata})
        with atomic_path(path) as tmp:
            pq.write_table(t, tmp, compression="zstd")
        return
    if metadata:
        raise ValueError("metadata is written with a whole table, not pieces")
    with atomic_path(path) as tmp:
        writer, held, rows = None, [], 0
        try:
            for cols in table:
                t = described(arrow_table(cols), descriptions or {})
                if writer is None:
                    writer = pq.ParquetWriter(tmp, t.schema, compression="zstd")
                elif t.schema != writer.schema:  # the pieces' columns are the engine's: only types may differ
                    t = t.select(writer.schema.names).cast(writer.schema)
                held.append(t)
                rows += t.num_rows
                if rows >= ROW_GROUP:  # whole groups out, the rest held for the next
                    both = pa.concat_tables(held)
                    full = rows - rows % ROW_GROUP
                    writer.write_table(both.slice(0, full), row_group_size=ROW_GROUP)
                    held, rows = [both.slice(full)], rows - full
                    pa.default_memory_pool().release_unused()  # mimalloc would keep what the groups took
            if writer is None:  # no piece: an empty table
                pq.write_table(pa.table({}), tmp, compression="zstd")
            elif rows:
                writer.write_table(pa.concat_tables(held), row_group_size=ROW_GROUP)
        finally:
            if writer is not None:
                writer.close()


def check_out_dir(out_dir: str | Path, *, force: bool = False, field: str = "--out") -> Path:
    """Raise :class:`InputError` naming ``field`` unless a results folder can be written at
    ``out_dir``: not an existing file, a writable place for it, and, if it exists, empty or
    (with ``force``) holding only results files."""
    p = Path(out_dir)
    if p.exists() or p.is_symlink():
        if not p.is_dir():
            raise InputError(f"{p} exists and is not a folder", field=field)
        try:
            names = sorted(e.name for e in p.iterdir())
        except OSError as e:
            raise InputError(f"cannot read folder {p}: {e.strerror or e}", field=field) from None
        if names:
            foreign = [n for n in names if n not in RESULT_FILES]
            if "sweep.json" in names:  # results, but a sweep's, which a run never replaces
                raise InputError(f"{p} holds a sweep (sweep.json), not a run's results; choose another folder",
                                 field=field)
            if foreign:
                shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
                raise InputError(f"{p} holds files that are not shieldlab results ({shown}); "
                                 "choose another folder", field=field)
            if not force:
                raise InputError(f"{p} already holds results; give --force to replace them", field=field)
        if not writable_folder(p):
            raise InputError(f"cannot write in {p}: permission denied or read-only", field=field)
    check_parent(p, field)
    return p


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2``); False where that is not available."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


def _remove_leftovers(target: Path) -> None:
    """The temporary folders an earlier write of ``target`` left beside it when it was killed
    (SIGKILL runs no cleanup): ``.NAME.<8 characters>.tmp`` or ``.old``, as
    :func:`write_results` and :func:`_move_into_place` name them."""
    import re

    pattern = re.compile(rf"\.{re.escape(target.name)}\.[A-Za-z0-9_]{{8}}\.(?:tmp|old)")
    for p in target.parent.glob(f".{glob_escape(target.name)}.*"):
        if p.is_dir() and pattern.fullmatch(p.name):
            shutil.rmtree(p, ignore_errors=True)


def _move_into_place(tmp: Path, target: Path) -> None:
    """Rename the finished folder ``tmp`` to ``target``, replacing an existing ``target`` whole."""
    if not target.exists():
        os.rename(tmp, target)
        return
    if _exchange(tmp, target):  # tmp now holds the old folder
        shutil.rmtree(tmp, ignore_errors=True)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    os.rename(target, old)  # onto an empty folder: allowed
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_results(out_dir: str | Path, summary: dict, outcomes: Table | None, events: Table, *,
                  track_quality: Table | None = None, tracks: Table | None = None, force: bool = False,
                  extra: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
                  air_outcomes: dict | None = None, shelling_rounds: dict | None = None) -> list[Path]:
    """Write summary.json, outcomes.parquet (the ballistic threats'; None: a scenario without
    them), events.parquet and (when given) track_quality.parquet, tracks.parquet (one row per
    confirmed track of the multi-target tracker) and air_outcomes.parquet (one
    row per run and flier of the air picture) and shelling_rounds.parquet (one row per run, round
    and weapon-locating radar of the shelling) into the folder ``out_dir``, as a whole; an
    existing results folder is replaced only with ``force``.  ``extra``: more files of the
    folder, name -> text (the scene and the report: names among :data:`RESULT_FILES`), or
    ``(name, text)`` pairs made one at a time once the tables are written (a long run's peak
    memory: the tables' writing and the report's figures do not meet).  A table is its
    columns or an iterable of pieces (:data:`Table`)."""
    from shieldlab.io import columns

    target = Path(os.path.abspath(out_dir))
    check_out_dir(out_dir, force=force)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it 0700; give it a plain mkdir's mode
        if outcomes is not None:
            write_parquet(outcomes, tmp / RESULT_FILES[0], descriptions=columns.OUTCOMES)
        write_parquet(events, tmp / RESULT_FILES[1], descriptions=columns.EVENTS)
        if air_outcomes is not None:
            write_parquet(air_outcomes, tmp / RESULT_FILES[8], descriptions=columns.AIR_OUTCOMES)
        if shelling_rounds is not None:
            write_parquet(shelling_rounds, tmp / RESULT_FILES[9], descriptions=columns.SHELLING_ROUNDS)
        write_text(tmp / RESULT_FILES[2], json.dumps(summary, indent=2) + "\n")
        if track_quality is not None:
            write_parquet(track_quality, tmp / RESULT_FILES[3], descriptions=columns.TRACK_QUALITY)
        if tracks is not None:
            write_parquet(tracks, tmp / RESULT_FILES[10], descriptions=columns.TRACKS)
        written: list[str] = []
        for name, text in (extra.items() if isinstance(extra, Mapping) else extra or ()):
            if name not in RESULT_FILES:
                raise ValueError(f"write_results: {name!r} is not a results file")
            write_text(tmp / name, text)
            written.append(name)
            del text
        _move_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    names = ((RESULT_FILES[2],) + ((RESULT_FILES[0],) if outcomes is not None else ()) + (RESULT_FILES[1],)
             + ((RESULT_FILES[3],) if track_quality is not None else ())
             + ((RESULT_FILES[10],) if tracks is not None else ())
             + ((RESULT_FILES[8],) if air_outcomes is not None else ())
             + ((RESULT_FILES[9],) if shelling_rounds is not None else ()) + tuple(written))
    return [Path(out_dir) / name for name in names]


def set_value_text(value) -> str:
    """A ``--set`` value as written on the command line: ``null``, ``true``, ``gnn``, ``0.99``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else repr(value)


def set_text(summary: Mapping) -> str:
    """`` (set field=value, ...)`` of a summary's ``set`` (the ``--set`` of ``run``, ``tracks``,
    ``validate``), for a table's title; "" without."""
    given = summary.get("set") or {}
    return f" (set {', '.join(f'{k}={set_value_text(v)}' for k, v in given.items())})" if given else ""
