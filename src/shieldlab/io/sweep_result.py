"""A sweep's or a run's results folder from Python: the points of a sweep, and SQL over either.

:func:`shieldlab.sweep` returns a :class:`SweepResult`; :func:`query_table` answers SQL
(DuckDB) over a folder as an Arrow table, as ``shieldlab query`` answers it as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from shieldlab.errors import InputError

#: The command line's names of the fields an error may name, and the Python API's.
_ARGUMENTS = {"--set": "settings", "--runs": "runs", "--seed": "seed", "--out": "out", "--resume": "resume",
              "--force": "force", "DIR": "folder", "SQL": "sql", "--workers": "client", "--scheduler": "client"}


def for_python(e: InputError) -> InputError:
    """``e`` as the Python API says it: each problem's field named by the argument
    (``settings``, not ``--set``) and the options its message offers as arguments
    (``force=True``, not ``--force``)."""
    def text(message: str) -> str:
        message = re.sub(r"--(force|resume)\b", r"\1=True", message)
        message = message.replace("--set values", "settings").replace("another --out", "another out")
        return re.sub(r"--(runs|seed|out|set)\b", lambda m: _ARGUMENTS[m.group(0)], message)

    def field(f: str | None) -> str | None:  # (a point's own problem is labelled by its values: "--set F=V: F")
        return f if not f else _ARGUMENTS.get(f, re.sub(r"^--set ", "settings ", f))

    return InputError(problems=[(field(f), text(m)) for f, m in e.problems], source=e.source)


def query_table(folder: str | Path, sql: str):
    """``sql`` over a sweep folder, a run's results folder or one Parquet file
    (:func:`shieldlab.io.dataset.query`: its views), as a ``pyarrow.Table`` whose columns are
    the query's, in its order (SQL's NULL a null)."""
    import pyarrow as pa

    from shieldlab.io.dataset import query

    if not isinstance(sql, str):
        raise InputError(f"must be SQL text, not {type(sql).__name__}", field="sql")
    if not isinstance(folder, (str, Path)):
        raise InputError(f"must be a folder's or a Parquet file's path, not {type(folder).__name__}", field="folder")
    try:
        cols, rows = query(folder, sql)
    except InputError as e:
        raise for_python(e) from None
    # (from columns, not names to values: a query may name two columns alike)
    return pa.Table.from_arrays([pa.array([r[i] for r in rows]) for i in range(len(cols))], names=list(cols))


@dataclass(frozen=True, eq=False)  # (as Results: by identity; its points are dicts)
class SweepResult:
    """A finished sweep (:func:`shieldlab.sweep`): its ``folder`` (a partitioned Parquet dataset,
    as ``shieldlab sweep --out`` writes it, with its ``report.html``), the ``runs`` and ``seed``
    of every point, and ``points``: one dict a point, as ``summaries/point=N.json`` holds it
    (``point``, ``set``: the swept fields' dataset columns to their values, ``mean_leakers``,
    ``p_no_leaker``, ``mean_interceptors_fired`` with their ``_ci95`` intervals, ``per_threat``,
    ``track_quality``, ...), with each point's leakers against point 0's, raid by raid
    (``leakers_vs_point_0`` and its interval; None for point 0)."""

    folder: Path
    runs: int
    seed: int
    points: list[dict]

    def query(self, sql: str):
        """``sql`` over this sweep (:func:`query_table`): the views ``outcomes``, ``events``,
        ``track_quality``, ``points``, ``point_threats``, ``point_quality`` and, where a point
        tracked without labels, ``tracks``; a column per swept field beside ``point``."""
        return query_table(self.folder, sql)

    def __repr__(self) -> str:
        return f"SweepResult({len(self.points)} points of {self.runs} runs, seed {self.seed}, in {str(self.folder)!r})"
