"""The event log's columns, the summary's probabilities and its JSON-safe values, shared by the
engines that are not the ballistic chain (the air picture, shelling): one layout, so the report,
``--explain`` and the Parquet table read every engine's events alike; and the one line each
engine's result shows as (:func:`result_line`, the ballistic chain's too)."""

from __future__ import annotations

import math

import numpy as np

from shieldlab.stats import wilson_interval


def result_line(kind: str, summary: dict, tables: dict[str, dict | None], extra: str = "",
                empty: str = "") -> str:
    """``Kind(scenario=..., runs=..., seed=...EXTRA; outcomes: N rows; ...)``: a result's repr
    (the whole record ran to tens of thousands of characters); ``empty`` where no table is in
    memory."""
    head = ", ".join(f"{k}={summary[k]!r}" for k in ("scenario", "runs", "seed") if k in summary)
    rows = [f"{name}: {len(next(iter(t.values()))):,} rows" for name, t in tables.items() if t]
    return f"{kind}({head}{extra}" + (f"; {'; '.join(rows)}" if rows else empty) + ")"


class TableResult:
    """``to_arrow(name)`` and ``to_pandas(name)`` for a result whose tables are in memory as
    attributes named in :attr:`TABLES` (columns of NumPy arrays), as :class:`Results` has
    them for the kill chain."""

    TABLES: tuple[str, ...] = ()

    def to_arrow(self, name: str):
        """Table ``name`` as a ``pyarrow.Table`` (text as strings, NaN as null, as the Parquet
        files hold it)."""
        from shieldlab.errors import InputError
        from shieldlab.io.output import arrow_table

        if name not in self.TABLES:
            raise InputError(f"no result table {name!r}: one of {', '.join(self.TABLES)}", field="name")
        return arrow_table(getattr(self, name))

    def to_pandas(self, name: str):
        """:meth:`to_arrow` as a ``pandas.DataFrame`` (pandas is not a dependency of shieldlab:
        ``pip install pandas``)."""
        require_pandas(f"{type(self).__name__}.to_pandas", "to_arrow")
        return self.to_arrow(name).to_pandas()


def require_pandas(what: str, instead: str) -> None:
    """An ImportError saying ``what`` needs pandas, which shieldlab does not install, and to read
    the table with ``instead``, where pandas is missing."""
    try:
        import pandas  # noqa: F401
    except ImportError:
        raise ImportError(f"{what} needs pandas, which shieldlab does not install: pip install pandas (or read "
                          f"the table with {instead})") from None


def event_table(events: list[tuple], kind_order: tuple[str, ...], by_actor: bool = False) -> dict[str, np.ndarray]:
    """Rows ``(run, t_s, threat, kind, actor, detail)`` as the columns of the ballistic event
    log, sorted by run, time, ``kind_order`` and name (and actor where ``by_actor``); the
    ballistic columns this engine does not fill are nan or empty.  Sorts ``events`` in place."""
    order = {k: i for i, k in enumerate(kind_order)}
    if by_actor:
        events.sort(key=lambda r: (r[0], r[1], order[r[3]], r[2], r[4]))
    else:
        events.sort(key=lambda r: (r[0], r[1], order[r[3]], r[2]))
    n = len(events)
    return {
        "run": np.array([r[0] for r in events], np.int32), "t_s": np.array([r[1] for r in events], float),
        "threat": np.array([r[2] for r in events], dtype=object),
        "kind": np.array([r[3] for r in events], dtype=object),
        "actor": np.array([r[4] for r in events], dtype=object),
        "detail": np.array([r[5] for r in events], dtype=object),
        "closing_speed_kms": np.full(n, np.nan), "crossing_angle_deg": np.full(n, np.nan), "pk": np.full(n, np.nan),
        "pip_sigma_m": np.full(n, np.nan), "reason": np.array([""] * n, dtype=object),
        "rounds": np.zeros(n, np.int32), "track": np.full(n, -1, np.int32),
        "picture": np.array([""] * n, dtype=object),
    }


def probability(k: int, n: int) -> dict:
    """``k`` of ``n`` as the summary writes a probability: the share, its 95 % Wilson interval, k, n."""
    lo, hi = wilson_interval(k, n)
    return {"p": k / n if n else float("nan"), "ci": [float(lo), float(hi)], "k": int(k), "n": int(n)}


def plain(v):
    """``v`` with every non-finite float as None and NumPy scalars as Python's: valid JSON."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (np.floating, float)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v
