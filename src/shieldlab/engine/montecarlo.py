"""Monte Carlo over runs: chunks of :func:`~shieldlab.engine.chain.chunk_runs` runs,
each run with a child of ``SeedSequence(seed)``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from shieldlab.engine import heap
from shieldlab.engine.chain import ChunkResult, Flights, chunk_runs, fly_threats, run_chunk, timed
from shieldlab.engine.distribute import result_tables
from shieldlab.engine.eventlog import require_pandas, result_line
from shieldlab.errors import InputError
from shieldlab.io.results import concat
from shieldlab.io.summary import EVENT_COLUMNS, OUTCOME_COLUMNS, Summariser, event_kinds_read, summarise

#: The result tables of a simulation (:func:`shieldlab.engine.distribute.result_tables`).
TABLES = ("outcomes", "events", "track_quality", "tracks")


class TableStore(Protocol):
    """Where a :class:`Results`' tables are when they are not in memory: a run's stored chunks
    (:class:`ChunkStore`) or a finished results folder
    (:class:`shieldlab.io.run_folder.FolderStore`)."""

    def chunks(self, table: str, columns: Sequence[str] | None = None,
               where: Mapping[str, Sequence] | None = None) -> Iterator[dict[str, np.ndarray]]:
        """Table ``table`` in pieces of whole runs, in run order, one at a time: only
        ``columns`` (those it has; all if None) and the rows whose column ``k`` holds one of
        ``where[k]``."""
        ...

    def columns(self, table: str) -> list[str]:
        """The columns of ``table`` (empty while no chunk is complete)."""
        ...


class ChunkStore(TableStore, Protocol):
    """Where :func:`simulate` keeps each chunk's result tables as it finishes them, so a
    stopped simulation can go on (:class:`shieldlab.io.dataset.PointStore` writes them to a
    sweep folder): chunk ``i`` holds runs ``i * runs_per_chunk`` onwards."""

    @property
    def runs_per_chunk(self) -> int: ...

    def complete(self, chunk: int) -> bool: ...

    def write(self, chunk: int, tables: dict[str, dict[str, np.ndarray]]) -> None: ...


# (eq=False: a result is itself, hashed and compared by identity; compared field by field its
# dicts of arrays made hash() a TypeError and == ambiguous)
@dataclass(frozen=True, eq=False)
class Results:
    """What :func:`simulate` returns.  With a store the result tables stay in it (a long
    run's tables need not fit in memory): ``outcomes``, ``events``, ``track_quality`` and
    ``tracks`` are None, and :meth:`table` reads them a chunk at a time."""

    summary: dict
    outcomes: dict[str, np.ndarray] | None  # columns, one row per run x threat
    events: dict[str, np.ndarray] | None  # columns, one row per event
    last_chunk: ChunkResult | None  # for inspection (records of the final chunk; None: it came from a store)
    track_quality: dict[str, np.ndarray] | None  # columns, one row per run x system (outcome.track_quality)
    store: TableStore | None = None  # where the tables are when they were not read back
    # the air picture and the shelling beside the chain, where the scenario has them (the
    # public simulate fills them; summary["air"] and summary["shelling"] hold their summaries)
    air: Any = None  # shieldlab.engine.air.AirResult
    shelling: Any = None  # shieldlab.engine.shelling.ShellingResult
    # columns, one row per confirmed track of the multi-target tracker (tracking.association
    # gnn; empty under labels): outcome.track_table.chunk_columns
    tracks: dict[str, np.ndarray] | None = None

    def __repr__(self) -> str:
        """A line a notebook can show: the run and its headline, each table's rows (the whole
        record, its tables and last chunk, was 167,000 characters for 4 runs)."""
        leak = self.summary.get("mean_leakers")
        mean = leak.get("mean") if isinstance(leak, dict) else leak
        return result_line("Results", self.summary, {name: getattr(self, name) for name in TABLES},
                           extra=f", mean_leakers={mean:.3g}" if isinstance(mean, (int, float)) else "",
                           empty="; tables in the store: read them with table(name)")

    @property
    def has_tracks(self) -> bool:
        """Whether the run has a ``tracks`` table: its threats were tracked by the
        multi-target tracker (``tracking.association: gnn``), not by their labels."""
        tracking = self.summary.get("tracking") if isinstance(self.summary, dict) else None
        return not (isinstance(tracking, dict) and tracking.get("association") == "labels")

    def table(self, name: str, columns: Sequence[str] | None = None,
              where: Mapping[str, Sequence] | None = None) -> Iterator[dict[str, np.ndarray]]:
        """Result table ``name`` (:data:`TABLES`) in pieces of whole runs, in run order: the
        store's chunks one at a time, or the table in memory as one piece; only ``columns``
        (all if None) and the rows whose column ``k`` holds one of ``where[k]`` (a piece may
        have no rows; a table without columns gives no piece).  A column the table does not
        have, asked for or filtered on, raises :class:`~shieldlab.errors.InputError` (a
        ``ValueError``) naming the table's columns; so does any other bad argument, naming it."""
        if name not in TABLES:
            raise InputError(f"no result table {name!r}: one of {', '.join(TABLES)}", field="name")
        if name == "tracks" and not self.has_tracks:
            # (it read as an empty table, without a word, where `shieldlab query` says it has no such view)
            raise InputError("no tracks table: it lists the multi-target tracker's confirmed tracks, under "
                             "tracking.association: gnn, and this scenario tracks each threat by its label "
                             "(track_quality has the tracks' figures, and shieldlab.track_history(world, run, "
                             "seed) a run's tracks over time)", field="name")
        if isinstance(columns, str):
            raise InputError(f"a sequence of column names, not the string {columns!r}", field="columns")
        if where is not None and not isinstance(where, Mapping):
            raise InputError(f"a mapping of a column to the values to keep (e.g. {{'run': [0]}}), not "
                             f"{type(where).__name__} {where!r}", field="where")
        for k, values in (where or {}).items():
            if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
                raise InputError(f"where[{k!r}] is a sequence of the values to keep, not {values!r}: "
                                 f"[{values!r}] keeps that one", field="where")
        cols = None if self.store is not None else (getattr(self, name) or {})
        have = self.store.columns(name) if self.store is not None else list(cols or {})
        asked = [*(columns or ()), *(where or {})]
        unknown = [c for c in dict.fromkeys(asked) if c not in have]
        if have and unknown:  # (a table without columns has no rows to ask of)
            raise InputError(f"the {name} table has no column {', '.join(map(repr, unknown))}: "
                             f"its columns are {', '.join(have)}",
                             field="columns" if any(c in (columns or ()) for c in unknown) else "where")
        if self.store is not None:
            return _checked_where(self.store.chunks(name, columns, where), name, where, columns)
        if not cols:
            return iter(())
        _check_where_types(name, where, cols)
        keep = np.ones(len(next(iter(cols.values()))), bool)
        for k, values in (where or {}).items():
            keep &= np.isin(cols[k], list(values))
        # (the columns in the order asked)
        return iter([{k: cols[k][keep] for k in (dict.fromkeys(columns) if columns is not None else cols)}])

    def read(self, name: str, columns: Sequence[str] | None = None,
             where: Mapping[str, Sequence] | None = None) -> dict[str, np.ndarray]:
        """:meth:`table` as one table (columns, in the order asked; empty where it has no rows):
        for parts of a long run's tables, such as one run's events."""
        parts = list(self.table(name, columns, where))
        return concat(parts) if parts else {}

    def to_arrow(self, name: str, columns: Sequence[str] | None = None,
                 where: Mapping[str, Sequence] | None = None):
        """:meth:`read` as a ``pyarrow.Table`` (a table with no rows keeps its columns where it
        has any), each field's meaning and unit in its metadata (``description``)."""
        import pyarrow as pa

        from shieldlab.io.columns import TABLES as TABLE_COLUMNS
        from shieldlab.io.columns import described
        from shieldlab.io.output import arrow_table

        parts = [arrow_table(p) for p in self.table(name, columns, where)]
        if not parts:
            return pa.table({})
        return described(pa.concat_tables(parts, promote_options="permissive"), TABLE_COLUMNS[name])

    def to_pandas(self, name: str, columns: Sequence[str] | None = None,
                  where: Mapping[str, Sequence] | None = None):
        """:meth:`to_arrow` as a ``pandas.DataFrame`` (pandas is not a dependency of shieldlab:
        ``pip install pandas``)."""
        require_pandas("Results.to_pandas", "to_arrow or read")
        return self.to_arrow(name, columns, where).to_pandas()


def _check_where_types(name: str, where: Mapping[str, Sequence] | None, cols: Mapping[str, np.ndarray]) -> None:
    """Refuse a ``where`` whose values cannot be in its column: text in a column of numbers
    (``run: ["0"]`` kept no row, without a word), or a number in a column of text."""
    for k, values in (where or {}).items():
        col = cols.get(k)
        if col is None:
            continue
        numbers = np.asarray(col).dtype.kind in "iuf"
        number = (int, float, np.integer, np.floating)
        odd = [v for v in values if (not isinstance(v, number) or isinstance(v, bool)) == numbers
               and (numbers or isinstance(v, number))]
        if odd:
            raise InputError(f"where[{k!r}] holds {odd[0]!r}, of type {type(odd[0]).__name__}: the {name} table's "
                             f"{k!r} column holds {'numbers' if numbers else 'text'}", field="where")


def _checked_where(chunks, name, where, columns):
    """The store's chunks, the first one's columns checked against ``where`` (:func:`_check_where_types`)."""
    first = True
    for c in chunks:
        if first:
            _check_where_types(name, where, c)
            first = False
        yield {k: c[k] for k in dict.fromkeys(columns)} if columns is not None else c


def simulate(world, runs: int, seed: int, progress: Callable[[int], None] | None = None,
             timings: dict | None = None, flights: Flights | None = None,
             on_chunk: Callable[[ChunkResult], None] | None = None, store: ChunkStore | None = None,
             client=None) -> Results:
    """Run ``runs`` Monte Carlo replications of ``world``; ``progress(n_done)`` is called after each chunk.

    ``timings``, if given, accumulates wall-clock seconds per stage
    (:data:`shieldlab.engine.chain.STAGES`); the results do not depend on it.  ``flights``:
    the nominal flights from :func:`~shieldlab.engine.chain.preflight` (flown here if None).
    ``on_chunk(chunk)`` is called with each chunk's records (tracks, pictures, engagements,
    decisions) before they are dropped: analyses that need more than the result tables.
    ``store``: each chunk's tables are written there as it finishes, chunks it holds already
    are not run again (nor passed to ``on_chunk``), in chunks of its ``runs_per_chunk``; the
    summary is made from the stored chunks one at a time, the same as without (a chunk's
    random streams depend only on ``seed`` and its first run), and the tables stay there
    (``Results.table`` reads them; ``outcomes``, ``events``, ``track_quality`` and ``tracks``
    are None).
    ``last_chunk`` is None with a store (its records are dropped once its tables are written, so
    that what comes after the loop does not hold a chunk's memory beside its own).
    ``client``: a ``distributed.Client`` whose workers run the chunks
    (:mod:`shieldlab.engine.distribute`); the results are the same to the bit
    (``timings`` and ``on_chunk`` need the chunks in this process, and ``last_chunk`` is None).
    """
    if runs < 1:
        raise ValueError("runs must be at least 1")
    if client is not None and (timings is not None or on_chunk is not None):
        raise ValueError("timings and on_chunk need the chunks run in this process, not on a cluster")
    with timed(timings, "flyout_and_steering_s"):
        if flights is None:
            flights = fly_threats(world)
    size = store.runs_per_chunk if store is not None else chunk_runs(world, flights)
    n_chunks = (runs + size - 1) // size
    root = np.random.SeedSequence(seed)
    parts: dict[str, list[dict]] = {name: [] for name in TABLES}  # each table's chunks, in memory
    chunk = None
    if client is not None:
        parts = _on_cluster(client, world, flights, runs, size, seed, store, progress)
    for i in range(n_chunks if client is None else 0):
        first = i * size
        C = min(size, runs - first)
        if store is not None and store.complete(i):
            chunk = None
            if progress:
                progress(first + C)
            continue
        chunk = None  # the previous chunk's records are freed before the next one's are made
        chunk = run_chunk(world, flights, first, C, root, timings)
        if on_chunk is not None:
            on_chunk(chunk)
        with timed(timings, "tables_s"):
            tables = result_tables(world, chunk)
            if store is not None:
                store.write(i, tables)
                chunk = None  # written: a stored run keeps no records of its chunks
            else:
                for name in TABLES:
                    parts[name].append(tables[name])
        if progress:
            progress(first + C)
    with timed(timings, "tables_s"):
        if store is not None:  # the summary from the stored chunks, one at a time
            s = Summariser(world)
            for part in store.chunks("outcomes", OUTCOME_COLUMNS):
                s.add_outcomes(part)
            for part in store.chunks("events", EVENT_COLUMNS, where={"kind": event_kinds_read(world)}):
                s.add_events(part)
            for part in store.chunks("track_quality"):
                s.add_quality(part)
            summary = s.summary(runs, seed)
            # the chunks' freed arrays and what reading them back took, back to the system
            # before the report and the tables' writing (the loop's own peak is one chunk's;
            # trimming after every chunk cost ~1.5 % of the time and lowered no peak)
            heap.release()
            return Results(summary, None, None, None, None, store)
        outcomes = concat(parts["outcomes"])
        events = concat(parts["events"])
        quality, tracks = ({} if not any(parts[name]) else concat([q for q in parts[name] if q])
                           for name in ("track_quality", "tracks"))
        summary = summarise(world, outcomes, events, runs, seed, quality)
    return Results(summary, outcomes, events, chunk, quality, tracks=tracks)


def run_beside(world, runs: int, seed: int, summary: dict, scene_run: int | None = None) -> tuple[Any, Any]:
    """The air picture and the shelling a scenario holds beside its ballistic threats, run as
    ``shieldlab run`` runs them: ``(air, shelling)`` (an
    :class:`~shieldlab.engine.air.AirResult` and a
    :class:`~shieldlab.engine.shelling.ShellingResult`, None where the scenario has none),
    their summaries put under ``summary["air"]`` and ``summary["shelling"]``.  ``scene_run``:
    the run whose scene each keeps (None: none)."""
    air = shelling = None
    if world.flights:
        from shieldlab.engine.air import simulate_air

        air = simulate_air(world, runs, seed, scene_run=scene_run)
        summary["air"] = air.summary
    if world.shelling is not None:
        from shieldlab.engine.shelling import simulate_shelling

        shelling = simulate_shelling(world, runs, seed, scene_run=scene_run)
        summary["shelling"] = shelling.summary
    return air, shelling


def chunk_sizes(runs: int, size: int) -> list[int]:
    """Runs in each chunk of a simulation of ``runs`` runs, ``size`` a chunk."""
    return [min(size, runs - first) for first in range(0, runs, size)]


def _on_cluster(client, world, flights: Flights, runs: int, size: int, seed: int, store: ChunkStore | None,
                progress: Callable[[int], None] | None) -> dict[str, list[dict]]:
    """The chunks a store does not hold, run on ``client``'s workers: into the store, or
    returned as each table's chunks (:data:`TABLES`) in chunk order."""
    from shieldlab.engine import distribute

    sizes = chunk_sizes(runs, size)
    todo = [i for i in range(len(sizes)) if store is None or not store.complete(i)]
    parts: dict[int, dict] = {}

    def sink(i: int) -> Callable[[dict], None]:
        if store is not None:
            return lambda tables: store.write(i, tables)
        return lambda tables: parts.__setitem__(i, tables)

    w, f = distribute.scatter(client, world, flights)
    jobs = [distribute.Job(w, f, i * size, sizes[i], seed, sink(i)) for i in todo]
    already = runs - sum(sizes[i] for i in todo)
    if progress:
        progress(already)
    distribute.run_chunks(client, jobs, None if progress is None else (lambda n: progress(already + n)))
    if store is not None:
        return {name: [] for name in TABLES}
    return {name: [parts[i][name] for i in range(len(sizes))] for name in TABLES}

