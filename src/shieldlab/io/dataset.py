"""A sweep's results on disk: a partitioned Parquet dataset that is written chunk by chunk.

Layout of a sweep folder::

    sweep.json                          what was run (scenario, its digest, --set values, runs, seed)
    outcomes/point=K/chunk-NNNNN.parquet  one row per run x threat, with the swept values as columns
    events/point=K/chunk-NNNNN.parquet    one row per event, likewise
    track_quality/point=K/chunk-NNNNN.parquet  one row per run x system (where there are tracks)
    tracks/point=K/chunk-NNNNN.parquet  one row per confirmed track (tracking.association gnn only)
    done/point=K/chunk-NNNNN            empty: the chunk's tables are complete
    summaries/point=K.json              summary.json of point K (as ``shieldlab run`` writes it)
    points.parquet                      one row per point: its swept values and headline numbers, and
                                        its leakers against point 0's, raid by raid (:meth:`Sweep.paired`)
    point_quality.parquet               one row per point x system: its track-quality means (where tracks)
    point_threats.parquet               one row per point x threat: P(intercept), P(leak) with their Wilson
                                        intervals, the mean interceptors at it with its t interval
    report.html                         the headline numbers against the swept values (charts)

Every file is written atomically (beside its target, then renamed over it), and a chunk
counts only once its marker in ``done/`` exists, which is written after all of its tables:
a process killed at any moment leaves completed chunks and, at most, files of an unfinished
one that a resumed sweep writes again.  Readers (:func:`query`) read the tables of
completed chunks only.  ``K`` is the point's index in the product of the ``--set`` values
(the first setting varies slowest).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from shieldlab.errors import InputError
from shieldlab.io.atomic import atomic_path, check_parent, writable_folder, write_text
from shieldlab.io.columns import TABLES as TABLE_COLUMNS
from shieldlab.io.columns import described
from shieldlab.io.output import arrow_column

MANIFEST = "sweep.json"
TABLES = ("outcomes", "events", "track_quality", "tracks")
#: Why a folder may hold no rows of a table (said where a query asks for one).
_WHY_NONE = {"track_quality": "a scenario without radars has none",
             "point_quality": "a scenario without radars has none",
             "events": "a raid without engagements may have none",
             "tracks": "a run or sweep point tracked by labels has none: tracks of the multi-target tracker come "
                       "with tracking.association gnn (--set tracking.association=gnn)"}
#: Tables a completed chunk may lack without damage: a point that tracks by labels has no
#: multi-target tracks, and a chunk of one that does may have confirmed none.
_OPTIONAL = ("tracks",)
_NAMES = {MANIFEST, *TABLES, "done", "summaries", "points.parquet", "point_quality.parquet", "point_threats.parquet",
          "report.html"}
#: Headline numbers of summary.json copied into points.parquet.
HEADLINE = ("mean_leakers", "mean_leakers_ci95", "p_no_leaker", "p_no_leaker_ci95", "mean_interceptors_fired",
            "mean_interceptors_fired_ci95", "mean_interceptors_at_boosters", "mean_interceptors_at_false_tracks",
            "mean_assets_hit", "mean_assets_hit_ci95", "mean_value_lost", "mean_value_lost_ci95")
#: Each point against point 0, raid by raid (:meth:`Sweep.paired`), in points.parquet too.
PAIRED = ("leakers_vs_point0", "leakers_vs_point0_ci95", "raids_fewer_leakers", "raids_more_leakers",
          "leakers_alike_in_every_raid")


def digest(data) -> str:
    """SHA-256 of a scenario mapping, canonical JSON (sorted keys): two files that read the
    same have the same digest."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


#: Modules of the package that draw or print what the chunks hold and make none of their
#: numbers: a change to them leaves a stopped sweep's chunks good (the command line, the
#: reports' pages and maps; a name ending in "/" is a folder, all of it).  Everything else counts.
PRESENTATION = ("cli/", "scenario/notes.py", "io/report.py", "io/sweep_report.py", "io/air_report.py",
                "io/shelling_report.py", "analysis/maps.py")


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 of the code and data the numbers come from: every module and data file of the
    installed shieldlab package (by path and contents) but the :data:`PRESENTATION` ones, and
    NumPy's and Numba's versions.  A stopped sweep resumes only under the same: chunks made
    by other code would not be the same numbers."""
    import numba

    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(repr((np.__version__, numba.__version__)).encode())
    for f in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                    and p.suffix not in (".pyc", ".md")  # modules, presets, catalogue, tables (.npz)
                    and not _presentation(p.relative_to(root).as_posix())):
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _presentation(path: str) -> bool:
    """Whether the package's file ``path`` (relative, with "/") is one of :data:`PRESENTATION`'s."""
    return any(path == f or (f.endswith("/") and path.startswith(f)) for f in PRESENTATION)


class Sweep:
    """A sweep folder being written (or read): see the module's notes."""

    def __init__(self, root: Path, manifest: dict):
        self.root, self.manifest = Path(root), manifest
        #: the Arrow type of each swept column, where a point's value is null (``--set F=null``):
        #: the type the other points' values have, so that every chunk's column reads as one
        self.column_types: dict[str, pa.DataType] = {}

    @classmethod
    def open(cls, out_dir: str | Path, manifest: dict, *, resume: bool = False, force: bool = False,
             busy: str | None = None, kind: str = "sweep") -> Sweep:
        """Start a sweep in ``out_dir``, or with ``resume`` go on with the one there (it must
        be the same sweep: same scenario contents, settings, runs and seed).  A folder that
        holds another sweep is replaced only with ``force``; one that holds other files never.
        ``busy``: what the error says of a folder that holds a sweep already; ``kind``: what it
        calls the sweep ("sweep", or "run" for a run's kept chunks)."""
        root = Path(out_dir)
        text = json.dumps(dict(manifest, complete=False), indent=2) + "\n"  # (first: a failure leaves all as it was)
        busy = busy or f"{root} already holds a sweep"
        if root.exists() and not root.is_dir():
            raise InputError(f"{root} exists and is not a folder", field="--out")
        names = sorted(p.name for p in root.iterdir()) if root.is_dir() else []
        foreign = [n for n in names if n not in _NAMES and not n.startswith(".")]
        if foreign:
            raise InputError(f"{root} holds files that are not a shieldlab sweep ({', '.join(foreign[:5])}); "
                             "choose another folder", field="--out")
        if root.is_dir() and not writable_folder(root):
            raise InputError(f"cannot write in {root}: permission denied or read-only", field="--out")
        check_parent(root, "--out")
        try:
            old = cls.read_manifest(root, "--out") if MANIFEST in names else None
        except InputError:
            if not force or resume:
                raise
            old = None  # a damaged manifest: --force replaces the folder all the same
        # a finished sweep has nothing for --resume to do: it is replaced (--force) or left alone
        finished = isinstance(old, dict) and old.get("complete") is True
        if old is not None and resume:
            # the scenario is its contents: the same file named by another path (from another
            # folder, or absolute) is the same scenario
            # (common_random_numbers follows from the settings: compared through them)
            same = {"complete", "file_sha256", "common_random_numbers"} | (
                {"scenario"} if "scenario_sha256" in manifest else set())
            mine = {k: v for k, v in manifest.items() if k not in same}
            theirs = {k: v for k, v in old.items() if k not in same}
            # the stopped one's scenario named, as its --runs and --seed are (it said "other
            # scenario contents" and left the user to guess which)
            was = (f": it was {old.get('scenario')}" if old.get("scenario")
                   and old.get("scenario") != manifest.get("scenario") else "")
            labels = {"scenario_sha256": f"scenario contents{was}", "scenario": f"scenario{was}",
                      "code_sha256": "shieldlab code or data (its chunks might not match this version's)",
                      "settings": "--set values", "runs": f"--runs (it was given {old.get('runs')!r})",
                      "seed": f"--seed (it was given {old.get('seed')!r})",
                      "chunk": f"chunk size (its {MANIFEST} says {old.get('chunk')!r}, this version would use "
                               f"{manifest.get('chunk')!r})"}
            keys = [k for k in sorted(set(mine) | set(theirs)) if mine.get(k) != theirs.get(k)]
            if "settings" in keys and manifest.get("file_sha256") is not None \
                    and manifest.get("file_sha256") == old.get("file_sha256"):
                # a run's digest is of the scenario with its --set values applied: the same file
                # given other values differs by those alone (it read "other scenario contents")
                keys = [k for k in keys if k != "scenario_sha256"]
            differ = [labels.get(k, k) for k in keys]
            if mine.get("settings") != theirs.get("settings"):  # what the stopped one was given
                given = ", ".join(f"{st.get('field')}={','.join(map(str, st.get('values', [])))}"
                                  for st in theirs.get("settings") or [] if isinstance(st, dict))
                differ[differ.index("--set values")] += f": it was given {given or 'none'}"
            if finished and differ == [labels["code_sha256"]]:  # the same sweep, made by another version
                raise InputError(f"{root} holds a finished {kind}: nothing to resume (made by other shieldlab code or "
                                 "data; give --force to run it again with this version)", field="--resume")
            if differ:
                raise InputError(f"{root} holds a different {kind} (other {', '.join(differ)}); "
                                 + ("give --force to replace it, or another --out" if finished else
                                    "resume it with the same scenario and options, or give another --out"),
                                 field="--resume")
            if finished:  # as a finished run
                raise InputError(f"{root} holds a finished {kind}: nothing to resume", field="--resume")
        elif names and not force:
            if finished:
                raise InputError(f"{root} holds a finished {kind}; give --force to replace it", field="--out")
            raise InputError(f"{busy}; give --resume to finish it or --force to replace it", field="--out")
        elif names and kind == "sweep":
            # force: the old sweep goes as a whole, but only once the new one is finished (a
            # forced overnight sweep killed midway had already deleted last night's): until then
            # it waits beside the folder.  One there already is the sweep a stopped forced one
            # was replacing: kept, and that one's unfinished chunks go instead
            aside = replaced_folder(root)
            if aside.exists():
                for n in names:
                    p = root / n
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
            else:
                root.rename(aside)
                root.mkdir()
        elif names:  # force: the old chunks go as a whole
            for n in names:
                p = root / n
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        if resume and root.is_dir():  # what a killed writer left half-made goes (its chunk is done again)
            for p in root.rglob(".*.tmp"):
                if p.is_file():
                    p.unlink(missing_ok=True)
        root.mkdir(parents=True, exist_ok=True)
        write_text(root / MANIFEST, text)
        return cls(root, dict(manifest, complete=False))

    @staticmethod
    def title(rows: list[dict], given: str) -> str:
        """What a sweep's table and report call it: the name its points share, or the scenario
        as ``given`` (its file or preset) where the name itself was swept."""
        names = {r.get("scenario") for r in rows}
        return str(names.pop()) if len(names) == 1 and None not in names else given

    @staticmethod
    def read_manifest(root: str | Path, field: str = "DIR") -> dict:
        """The folder's manifest; errors name ``field`` (the option or argument that gave it)."""
        p = Path(root) / MANIFEST
        try:
            manifest = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{root} is not a sweep folder (no {MANIFEST})", field=field) from None
        except (OSError, ValueError) as e:
            raise InputError(f"cannot read {p}: {e}", field=field) from None
        if not isinstance(manifest, dict):
            raise InputError(f"{p} is not a sweep's manifest (a JSON object): the folder is damaged", field=field)
        return manifest

    # ------------------------------------------------------------------ chunks
    def _file(self, table: str, point: int, chunk: int) -> Path:
        return self.root / table / f"point={point}" / f"chunk-{chunk:05d}.parquet"

    def _marker(self, point: int, chunk: int) -> Path:
        return self.root / "done" / f"point={point}" / f"chunk-{chunk:05d}"

    def complete(self, point: int, chunk: int) -> bool:
        """Whether chunk ``chunk`` of point ``point`` is written and marked complete."""
        return self._marker(point, chunk).exists()

    def write_chunk(self, point: int, chunk: int, values: dict, tables: dict[str, dict]) -> None:
        """Write one chunk's tables (``tables``: name -> columns, :data:`TABLES`; the swept
        ``values`` added as columns; an empty table is not written), then its marker."""
        for table, cols in tables.items():
            if not cols:
                continue
            n = len(next(iter(cols.values())))
            full = {k: pa.nulls(n, self.column_types.get(k, pa.null())) if v is None else
                    arrow_column(np.full(n, v, dtype=object if isinstance(v, str) else None), nan_as_null=True)
                    for k, v in values.items()}
            with atomic_path(self._file(table, point, chunk)) as tmp:
                arrow = pa.table({**full, **{k: arrow_column(v, nan_as_null=True) for k, v in cols.items()}})
                arrow = described(arrow, TABLE_COLUMNS.get(table, {}))
                pq.write_table(arrow, tmp, compression="zstd")
        with atomic_path(self._marker(point, chunk)) as tmp:
            tmp.write_bytes(b"")

    def done_markers(self) -> list[Path]:
        """The markers of every completed chunk, in point and chunk order."""
        return sorted(self.root.glob("done/point=*/chunk-*"), key=lambda p: (int(p.parent.name[6:]), int(p.name[6:])))

    def chunk_files(self, table: str, done: list[Path] | None = None) -> list[Path]:
        """The files of ``table`` of every completed chunk (``done``: :meth:`done_markers`, read
        again if None), in point and chunk order."""
        files = [self.root / table / m.parent.name / f"{m.name}.parquet"
                 for m in (self.done_markers() if done is None else done)]
        return [f for f in files if f.exists()]

    def point_files(self, point: int, table: str) -> list[Path]:
        """The files of ``table`` of a point's completed chunks, in run order (the chunks of
        its runs only: ``runs`` and ``chunk`` of the manifest)."""
        n_chunks = -(-int(self.manifest["runs"]) // int(self.manifest["chunk"]))
        numbered = [(int(f.stem[6:]), f) for f in (self.root / table / f"point={point}").glob("chunk-*.parquet")]
        # by number: 100000 comes after 99999
        return [f for i, f in sorted(numbered) if i < n_chunks and self.complete(point, i)]

    def point_chunks(self, point: int, table: str, columns: Sequence[str] | None = None,
                     where: Mapping[str, Sequence] | None = None) -> Iterator[dict[str, np.ndarray]]:
        """A point's ``table`` chunk by chunk (columns as the engine makes them): only
        ``columns`` (those a chunk has; all if None) and the rows whose column ``k`` holds
        one of ``where[k]`` (Parquet's row-group statistics skip what cannot match)."""
        for f in self.point_files(point, table):
            try:
                pf = pq.ParquetFile(f)
                have = pf.schema_arrow.names
                cols = have if columns is None else [c for c in columns if c in have]
                # read and filtered by hand: pq.read_table's filters load pyarrow.dataset (~7 MB
                # of a 10,000-run command's peak); a chunk is a few MB, read whole either way
                t = pf.read(columns=list(dict.fromkeys([*cols, *(k for k in (where or {}) if k in have)])))
                if where:  # as the tables in memory are filtered: np.isin on the engine's columns
                    keep = np.ones(t.num_rows, bool)
                    for k, v in where.items():
                        keep &= np.isin(_numpy(t.column(k)), list(v))
                    t = t.filter(pa.array(keep))
                t = t.select(cols)
            except (OSError, pa.ArrowException) as e:  # a damaged chunk (the writes are atomic)
                raise InputError(f"cannot read {f}: {e}; delete it and its marker {self._marker(point, 0).parent}/"
                                 f"{f.stem} to have --resume run that chunk again", field="--out") from None
            yield {c: _numpy(t.column(c)) for c in t.column_names}

    def point(self, index: int, values: dict) -> PointStore:
        """The chunk store of point ``index`` (swept ``values``) for
        :func:`shieldlab.engine.montecarlo.simulate`."""
        return PointStore(self, index, values)

    # ------------------------------------------------------------------ summaries
    def has_summary(self, point: int) -> bool:
        """Whether point ``point``'s summary is written (one that cannot be read is made again
        from its chunks)."""
        try:
            return isinstance(json.loads((self.root / "summaries" / f"point={point}.json").read_text("utf-8")), dict)
        except (OSError, ValueError):
            return False

    def write_summary(self, point: int, values: dict, summary: dict) -> None:
        write_text(self.root / "summaries" / f"point={point}.json",
                   json.dumps({"point": point, "set": values, **summary}, indent=2) + "\n")

    def summaries(self) -> list[dict]:
        files = sorted(self.root.glob("summaries/point=*.json"), key=lambda p: int(p.stem[6:]))
        out = []
        for f in files:
            try:
                row = json.loads(f.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                row = e
            if not isinstance(row, dict):
                raise InputError(f"cannot read {f} ({row}): delete it and give --resume to make it again", field="DIR")
            out.append(row)
        return out

    def paired(self, rows: list[dict] | None = None) -> list[dict]:
        """Each point's leakers against point 0's, raid by raid (the same seed gives the same
        raids: run ``r`` of one point against run ``r`` of the other), one dict a point of
        :data:`PAIRED` keys: the mean difference of a raid's leakers with its Student t
        interval (:func:`~shieldlab.stats.mean_interval`, cut at what a raid can leak; where
        every raid came out alike, the exact bound of a bounded mean, and
        ``leakers_alike_in_every_raid`` true; None for point 0 itself and where a point has
        one run), and the raids with fewer and more leakers.  Read from the completed chunks'
        outcomes (``rows``: :meth:`summaries`, for each point's number of threats)."""
        import duckdb

        from shieldlab.stats import mean_interval

        rows = self.summaries() if rows is None else rows
        files = self.chunk_files("outcomes")
        per: dict[int, np.ndarray] = {}
        if files:
            con = duckdb.connect()
            try:
                got = con.execute(f"SELECT point, run, count(*) FILTER (WHERE outcome = 'leaked') AS leak FROM "
                                  f"read_parquet({_sql_list(files)}, hive_partitioning = true) GROUP BY point, run "
                                  "ORDER BY point, run").fetchnumpy()
            finally:
                con.close()
            for k in np.unique(got["point"]):
                per[int(k)] = np.asarray(got["leak"][got["point"] == k], float)
        first = per.get(0)
        out: list[dict] = []
        for r in rows:
            mine = per.get(int(r["point"]))
            none: dict = {"leakers_vs_point0": None, "leakers_vs_point0_ci95": None, "raids_fewer_leakers": None,
                          "raids_more_leakers": None, "leakers_alike_in_every_raid": None}
            if int(r["point"]) == 0 or first is None or mine is None or mine.size != first.size:
                out.append(none)
                continue
            d = mine - first
            n_first = float(rows[0].get("threats") or 0)
            mean, lo, hi = mean_interval(d, lower=-n_first, upper=float(r.get("threats") or 0))
            # (rounded as summary.json's figures are)
            out.append({"leakers_vs_point0": round(float(mean), 6),
                        "leakers_vs_point0_ci95": None if d.size < 2 else [round(float(lo), 6), round(float(hi), 6)],
                        "raids_fewer_leakers": int((d < 0).sum()), "raids_more_leakers": int((d > 0).sum()),
                        "leakers_alike_in_every_raid": bool((d == 0).all())})
        return out

    def finish(self) -> None:
        """Write points.parquet, point_threats.parquet, point_quality.parquet (where there are
        tracks) and report.html, and mark the sweep complete in its manifest."""
        rows = self.summaries()
        for r, p in zip(rows, self.paired(rows)):
            r.update(p)
        cols: dict[str, list] = {"point": [r["point"] for r in rows]}
        for s in self.manifest["settings"]:
            cols[s["column"]] = [r["set"][s["column"]] for r in rows]
        cols["runs"] = [r.get("runs") for r in rows]
        cols["common_random_numbers"] = [self.manifest.get("common_random_numbers")] * len(rows)
        for k in HEADLINE + PAIRED:
            if k.endswith("_ci95"):  # an interval as two columns: ..._lo, ..._hi
                cols[k[:-5] + "_lo"], cols[k[:-5] + "_hi"] = _bounds([r.get(k) for r in rows])
            else:
                cols[k] = [r.get(k) for r in rows]
        with atomic_path(self.root / "points.parquet") as tmp:
            pq.write_table(pa.table(cols), tmp, compression="zstd")
        with atomic_path(self.root / "point_threats.parquet") as tmp:
            pq.write_table(point_threats(rows, [s["column"] for s in self.manifest["settings"]]), tmp,
                           compression="zstd")
        quality = point_quality(rows, [s["column"] for s in self.manifest["settings"]])
        if quality is not None:
            with atomic_path(self.root / "point_quality.parquet") as tmp:
                pq.write_table(quality, tmp, compression="zstd")
        from shieldlab.io import sweep_report

        write_text(self.root / "report.html", sweep_report.build(self.manifest, rows))
        self.manifest["complete"] = True
        write_text(self.root / MANIFEST, json.dumps(self.manifest, indent=2) + "\n")
        # the sweep this one replaced (--force), kept until now
        shutil.rmtree(replaced_folder(self.root), ignore_errors=True)


def _bounds(intervals: list) -> tuple[list, list]:
    """Summaries' ``[lo, hi]`` intervals as two columns (None where a summary has none)."""
    pairs = [iv or [None, None] for iv in intervals]
    return [p[0] for p in pairs], [p[1] for p in pairs]


#: The per-threat figures of a point's summary that ``point_threats`` holds (each with its interval).
THREAT_KEYS = ("p_intercept", "p_leak", "mean_interceptors")


def point_threats(rows: list[dict], columns: Sequence[str]) -> pa.Table:
    """The points' per-threat figures as one table: a row per point and threat, the swept values
    (``columns``), ``threat``, ``missile``, ``runs`` and each of :data:`THREAT_KEYS` with its
    95 % interval (``key_lo``, ``key_hi``: Wilson's for the probabilities, Student t's for the
    mean), from the points' summaries (``rows``): what an analyst asks first (a threat's
    P(intercept) at each point), which the SQL over ``outcomes`` gives without its interval."""
    flat = [(r, t) for r in rows for t in r.get("per_threat") or []]
    cols: dict[str, list] = {"point": [r["point"] for r, _ in flat]}
    for c in columns:
        cols[c] = [r["set"][c] for r, _ in flat]
    cols["threat"] = [t.get("threat") for _, t in flat]
    cols["missile"] = [t.get("missile") for _, t in flat]
    cols["runs"] = [r.get("runs") for r, _ in flat]
    for k in THREAT_KEYS:
        cols[k] = [t.get(k) for _, t in flat]
        cols[k + "_lo"], cols[k + "_hi"] = _bounds([t.get(k + "_ci95") for _, t in flat])
    return pa.table({k: pa.array(v, pa.float64()) if k not in ("point", "threat", "missile", "runs", *columns) else
                     pa.array(v) for k, v in cols.items()})


def point_quality(rows: list[dict], columns: Sequence[str]) -> pa.Table | None:
    """The points' track quality as one table: a row per point and system (C2 node picture),
    the swept values (``columns``), ``system``, its ``runs`` and the mean over runs of every
    track-quality figure of :data:`shieldlab.io.summary.TRACK_QUALITY_KEYS` and
    :data:`~shieldlab.io.summary.TRACK_QUALITY_FILE_KEYS` (``key``, ``key_lo``, ``key_hi``: its
    95 % interval), from the points' summaries (``rows``); null where a point has no such
    figure (the file's keys under labels).  None where no point has tracks."""
    from shieldlab.io.summary import TRACK_QUALITY_FILE_KEYS, TRACK_QUALITY_KEYS

    flat = [(r, name, q) for r in rows for name, q in sorted((r.get("track_quality") or {}).items())]
    if not flat:
        return None
    cols: dict[str, list] = {"point": [r["point"] for r, _, _ in flat]}
    for c in columns:
        cols[c] = [r["set"][c] for r, _, _ in flat]
    cols["system"] = [name for _, name, _ in flat]
    cols["runs"] = [q.get("runs") for _, _, q in flat]
    for k in TRACK_QUALITY_KEYS + TRACK_QUALITY_FILE_KEYS:
        cols[k] = [q.get(k) for _, _, q in flat]
        cols[k + "_lo"], cols[k + "_hi"] = _bounds([q.get(k + "_ci95") for _, _, q in flat])
    return pa.table({k: pa.array(v, pa.float64()) if k not in ("point", "system", "runs", *columns) else v
                     for k, v in cols.items()})


class PointStore:
    """One point's chunks in a sweep folder, as :class:`shieldlab.engine.montecarlo.ChunkStore`:
    tables are written with the swept values as columns and read back without them."""

    def __init__(self, sweep: Sweep, index: int, values: dict):
        self.sweep, self.index, self.values = sweep, index, values

    @property
    def runs_per_chunk(self) -> int:
        """The sweep's chunk size (its manifest's ``chunk``): chunk ``i`` holds runs ``i * size`` onwards."""
        return int(self.sweep.manifest["chunk"])

    def complete(self, chunk: int) -> bool:
        return self.sweep.complete(self.index, chunk)

    def write(self, chunk: int, tables: dict[str, dict[str, np.ndarray]]) -> None:
        self.sweep.write_chunk(self.index, chunk, self.values, tables)

    def columns(self, table: str) -> list[str]:
        """The columns of the point's ``table`` (its first completed chunk's), without the
        swept values' columns; empty while no chunk is complete."""
        files = self.sweep.point_files(self.index, table)
        if not files:
            return []
        try:
            names = pq.read_schema(files[0]).names
        except (OSError, pa.ArrowException):
            return []  # a damaged chunk: reading it names the file (point_chunks)
        return [c for c in names if c not in self.values]

    def chunks(self, table: str, columns: Sequence[str] | None = None,
               where: Mapping[str, Sequence] | None = None) -> Iterator[dict[str, np.ndarray]]:
        """The point's ``table`` chunk by chunk, without the swept values' columns
        (:meth:`Sweep.point_chunks`)."""
        cols = None if columns is None else [c for c in columns if c not in self.values]
        for part in self.sweep.point_chunks(self.index, table, cols, where):
            yield {k: v for k, v in part.items() if k not in self.values}


def _numpy(col) -> np.ndarray:
    """A Parquet column as the NumPy column the engine makes: text as an object array whose
    equal values are one Python string (through Arrow's dictionary encoding), so that the
    event table of 10,000 runs (~500,000 rows, a dozen distinct kinds and actors) holds a
    pointer per row, not a string object."""
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        enc = col.combine_chunks().dictionary_encode()  # one dictionary over every chunk
        words = np.array(enc.dictionary.to_pylist() + [None], dtype=object)
        idx = enc.indices.fill_null(len(enc.dictionary)).to_numpy(zero_copy_only=False)
        return words[idx]
    a = col.to_numpy(zero_copy_only=False)
    return a.astype(object) if a.dtype.kind in "OUS" else a


def query(root: str | Path, sql: str) -> tuple[list[str], list[tuple]]:
    """Answer ``sql`` over a sweep folder, or a run's results folder, with DuckDB: ``(column
    names, rows)``.

    Over a sweep the query sees the views ``outcomes``, ``events``, ``track_quality`` and,
    where some point ran the multi-target tracker (``tracking.association: gnn``), ``tracks``
    (completed chunks only, a ``point`` column from the folder names beside the swept values'
    own columns), ``points`` (one row per point, once the sweep is complete) and
    ``point_threats`` (one row per point and threat, once complete) and ``point_quality`` (one row
    per point and system, once complete, where there are tracks).  Over the
    folder of ``shieldlab run --out`` it sees a view per Parquet file in the folder, named by
    its file: the tables the run wrote, ``outcomes``, ``events``, ``track_quality`` (and
    ``tracks`` under ``tracking.association: gnn``, ``air_outcomes``, ``shelling_rounds``
    where the scenario has them), and any other ``.parquet`` file put there.  Over one Parquet file (``shieldlab
    tracks --out FILE``, say) it sees that file as a view named by the file's name without
    ``.parquet``."""
    root = Path(root)
    if not root.exists():
        kept = partial_folder(root)
        if kept.is_dir():  # a run stopped before it wrote its folder: its finished chunks are there
            raise InputError(f"{root}: no such folder or file; a stopped shieldlab run into it keeps its finished "
                             f"chunks in {kept}: finish it with {finish_command(kept)}, or query those chunks "
                             "there", field="DIR")
        raise InputError(f"{root}: no such folder or file", field="DIR")
    if not root.is_dir() and root.suffix.lower() != ".parquet":
        raise InputError(f"{root} is a file, not a sweep or results folder or a .parquet file", field="DIR")
    if not sql.strip():
        raise InputError("the query is empty", field="SQL")
    if not root.is_dir():
        return _answer(sql, {root.stem: [root]}, [], "the file's", complete=True)
    if not (root / MANIFEST).exists():
        files = sorted(root.glob("*.parquet"))
        if not files:
            raise InputError(f"{root} is neither a sweep folder (no {MANIFEST}) nor a run's results (no .parquet "
                             "tables: shieldlab run ... --out DIR writes them)", field="DIR")
        # (a run tracked by labels writes no tracks.parquet: said so where a query asks for it, as over a sweep)
        return _answer(sql, {p.stem: [p] for p in files}, [] if (root / "tracks.parquet").exists() else ["tracks"],
                       "the run's", complete=True)
    sweep = Sweep(root, Sweep.read_manifest(root))
    views: dict[str, list[Path]] = {}
    missing = []
    done = sweep.done_markers()
    n_done = len(done)
    for table in TABLES:
        files = sweep.chunk_files(table, done)
        if files:
            views[table] = files
        else:
            missing.append(table)
        # a table every chunk writes, or none (a scenario without radars): some chunks without
        # it lost their file after they were marked done, and the answer would leave them out
        if 0 < len(files) < n_done and table not in _OPTIONAL:
            raise InputError(f"{root} is damaged: {n_done - len(files)} of its {n_done} completed chunks have no "
                             f"{table} file; run the sweep again with --force", field="DIR")
    complete = bool(sweep.manifest.get("complete"))
    if complete:
        for name in ("points", "point_threats", "point_quality"):
            if (root / f"{name}.parquet").exists():
                views[name] = [root / f"{name}.parquet"]
            elif name == "point_quality":  # no point has tracks: as track_quality, named in the error
                missing.append(name)
    what = "run" if stopped_run_of(root) else "sweep"
    return _answer(sql, views, missing, f"the {what}'s", complete, finish=finish_command(root, sweep.manifest))


def _answer(sql: str, views: dict[str, list[Path]], missing: list[str], whose: str,
            complete: bool, finish: str = "") -> tuple[list[str], list[tuple]]:
    """``sql`` over DuckDB views of Parquet files (``views``: name to files, read together by
    their names' hive partitions), read-only: ``(column names, rows)``.  ``missing``: tables
    the folder has no rows of (named in the error where a query asks for one); ``whose``: how
    the errors name the tables (``the sweep's``); ``complete``: whether the folder is finished;
    ``finish``: the command that finishes it where it is not."""
    import duckdb

    quoted = [_sql_name(v) for v in views if _sql_name(v) != v]
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as e:
        msg = str(e).splitlines()[0]
        if quoted:
            msg += f" (a view whose name is not a plain SQL name is written in double quotes: {', '.join(quoted)})"
        raise InputError(msg, field="SQL") from None
    if not statements:  # only a ';' or a comment: DuckDB would answer nothing, without a word
        raise InputError("holds no statement (only comments or ';')", field="SQL")
    if len(statements) > 1:  # DuckDB would run them all and answer the last
        raise InputError(f"holds {len(statements)} statements: give one", field="SQL")
    kind, T = statements[0].type, duckdb.StatementType
    # the statements that answer with rows (DESCRIBE, SHOW and SUMMARIZE are SELECTs to DuckDB;
    # a PIVOT is several in one, as is a CREATE ... AS PIVOT); CREATE TABLE answered "Count 1",
    # as if something were kept
    pivot = kind == T.MULTI and statements[0].query.lstrip().lower().startswith("pivot")
    if kind not in (T.SELECT, T.EXPLAIN, T.PRAGMA, T.CALL) and not pivot:
        # (named by its own first word: INSTALL is a LOAD statement to DuckDB)
        word = (statements[0].query.split() or [kind.name])[0].upper()
        # (a PRAGMA that sets a value is a SET to DuckDB; one that answers, PRAGMA version, is asked)
        what = "a PRAGMA that sets a value" if word == "PRAGMA" else word
        raise InputError(f"{what} is not asked here: a query reads {whose} own tables and writes nothing; "
                         "ask with SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, PIVOT, CALL, EXPLAIN "
                         "or a PRAGMA that answers (PRAGMA table_info('outcomes'))", field="SQL")
    stopped = whose.removesuffix("'s")  # (the sweep, the run)
    finish = finish or "--resume"
    ends = ("the points, point_threats and point_quality views come" if stopped == "the sweep"
            else "its summary and results folder come")
    con = duckdb.connect()
    try:
        read: list[Path] = []
        try:
            for table, files in views.items():
                con.execute(f"CREATE VIEW {_sql_name(table)} AS SELECT * FROM read_parquet({_sql_list(files)}, "
                            "hive_partitioning = true, union_by_name = true)")
                read += files
        except duckdb.Error as e:  # a damaged table file (the writes are atomic)
            raise InputError(f"cannot read {whose} tables: {str(e).splitlines()[0]}", field="DIR") from None
        # read-only, and only the folder's tables: no COPY ... TO, no other file read; locked
        con.execute(f"SET allowed_paths = {_sql_list(read)}")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        try:
            cur = con.execute(sql)
        except duckdb.Error as e:
            lines = str(e).splitlines()
            msg = lines[0]
            # DuckDB's next line names the columns it might have meant ("Candidate bindings: ...")
            hint = next((ln for ln in lines[1:2] if ln.startswith("Candidate bindings")), None)
            if hint:
                msg += f" ({hint[0].lower()}{hint[1:]})"
            if isinstance(e, duckdb.PermissionException) or "configuration has been locked" in msg:
                msg += f" (a query reads {whose} own tables and writes nothing)"
            elif any(f"name {t} does not exist" in msg for t in missing) and not complete and not views:
                msg += f" ({stopped} is not complete and no chunk of it finished: finish it with {finish})"
            elif asked := [t for t in missing if f"name {t} does not exist" in msg]:
                msg += (f" (this folder has no rows of {', '.join(asked)}: "
                        + "; ".join(_WHY_NONE.get(t, "it wrote none") for t in asked)
                        + f"; {whose} tables here: {', '.join(map(_sql_name, views)) or 'none'}"
                        + (f"; {stopped} is not complete: finish it with {finish})" if not complete else ")"))
            elif "does not exist" in msg and "Table with name" in msg:
                msg += f" ({whose} tables here: {', '.join(map(_sql_name, views))}"
                msg += (f"; {stopped} is not complete: {ends} at the end)" if not complete else ")")
            elif "does not exist" in msg and whose in ("the run's", "the file's"):
                msg += f" ({whose} tables here: {', '.join(map(_sql_name, views))})"
            elif not complete:
                msg += f" ({stopped} is not complete: finish it with {finish}; {ends} at the end)"
            raise InputError(msg, field="SQL") from None
        if cur is None or cur.description is None:
            return [], []
        rows = cur.fetchall()
        # single-precision columns (the tables store many as FLOAT) as the shortest decimal that
        # is that float32, not the float64 it widens to (239.2576, not 239.25759887695312)
        single = [i for i, d in enumerate(cur.description) if str(d[1]) == "FLOAT"]
        if single:
            def short(v):
                return float(str(np.float32(v))) if isinstance(v, float) and np.isfinite(v) else v

            rows = [tuple(short(v) if i in single else v for i, v in enumerate(r)) for r in rows]
        return [d[0] for d in cur.description], rows
    finally:
        con.close()


def _sql_name(name: str) -> str:
    """A view's name as a query writes it: as it is where it is a plain SQL name, else in
    double quotes."""
    import re

    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else '"' + name.replace('"', '""') + '"'


def _sql_list(paths: Sequence[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def replaced_folder(out_dir: str | Path) -> Path:
    """Where ``shieldlab sweep --force`` keeps the sweep it replaces in DIR until the new one
    is finished (``.DIR.replaced`` beside it)."""
    out = Path(os.path.abspath(out_dir))
    return out.parent / f".{out.name}.replaced"


def partial_folder(out_dir: str | Path) -> Path:
    """Where ``shieldlab run --out DIR`` keeps its finished chunks until DIR is written."""
    out = Path(os.path.abspath(out_dir))  # (``--out .`` names the folder it is in)
    return out.parent / f".{out.name}.partial"


def stopped_run_of(root: str | Path) -> Path | None:
    """The results folder a stopped ``shieldlab run --out DIR`` was writing, where ``root``
    is its :func:`partial_folder` (``.DIR.partial``); None for a sweep's folder."""
    name = Path(os.path.abspath(root)).name
    if name.startswith(".") and name.endswith(".partial") and len(name) > len("..partial"):
        return Path(root).parent / name[1:-len(".partial")]
    return None


def finish_command(root: str | Path, manifest: Mapping | None = None) -> str:
    """The command that finishes the stopped sweep or run kept in ``root``, written out from
    its manifest (the scenario, runs, seed and ``--set`` values it was given; ``...`` where
    the manifest cannot be read); ``manifest``: that manifest, where already read."""
    import shlex

    from shieldlab.io.output import set_value_text

    out = stopped_run_of(root)
    try:
        m = json.loads((Path(root) / MANIFEST).read_text(encoding="utf-8")) if manifest is None else manifest
        scenario = str(m["scenario"]).removeprefix("preset ")
        given = [f"--runs {int(m['runs'])}", f"--seed {int(m['seed'])}"]
        given += ["--set " + shlex.quote(f"{st['field']}=" + ",".join(set_value_text(v) for v in st["values"]))
                  for st in m.get("settings") or []]
        what = " ".join([shlex.quote(scenario), *given])
    except (OSError, ValueError, KeyError, TypeError):
        what = "..."
    if out:
        return f"shieldlab run {what} --out {shlex.quote(str(out))} --resume"
    return f"shieldlab sweep {what} --out {shlex.quote(str(root))} --resume"


def resumed_note(kept: int, total: int, kept_runs: int, runs: int) -> str:
    """The line a resume says of the chunks it keeps (``kept`` of ``total``, ``kept_runs``
    of ``runs`` runs)."""
    if kept == total:  # stopped after the last chunk, before the results were written
        return f"--resume: all {total} chunks were done ({runs:,} runs), kept; writing the results"
    return f"--resume: {kept} of {total} chunks were done ({kept_runs:,} of {runs:,} runs), kept; running the rest"


def progress_note(root: str | Path) -> str | None:
    """A line to say that a sweep folder is not complete, with the share of chunks done; None
    when it is (or the folder is a run's results, not a sweep's)."""
    root = Path(root)
    if not (root / MANIFEST).exists():
        return None
    m = Sweep.read_manifest(root)
    if m.get("complete"):
        return None
    runs, chunk = int(m["runs"]), int(m["chunk"])
    n_points = 1
    for s in m["settings"]:
        n_points *= len(s["values"])
    total = n_points * ((runs + chunk - 1) // chunk)
    done = len(list(root.glob("done/point=*/chunk-*")))
    what = "run" if stopped_run_of(root) else "sweep"
    from shieldlab.io.lock import held_by

    writer = held_by(stopped_run_of(root) or root)  # (a run holds its results folder, not the kept chunks)
    if writer is not None:  # (its --resume would be refused while it runs)
        return (f"{root}: the {what} is being written (process {writer}; {done} of {total} chunks done): the views "
                "hold what is done so far")
    if m.get("code_sha256") != code_digest():
        return (f"{root}: the {what} is not complete ({done} of {total} chunks), and was made by other shieldlab code "
                f"or data, so this version cannot finish it (its chunks might not match this version's); the views "
                f"hold what is done; {finish_command(root, m).replace(' --resume', ' --force')} runs it again")
    if done >= total:
        return (f"{root}: every chunk of the {what} is done ({total} of {total}) but it stopped before it wrote its "
                f"results; the views hold every run; {finish_command(root, m)} writes them")
    return (f"{root}: the {what} is not complete ({done} of {total} chunks); the views hold what is done, "
            f"finish it with {finish_command(root, m)}")

