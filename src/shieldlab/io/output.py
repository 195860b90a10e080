"""Writing a run's results to disk: Parquet tables and the summary JSON, each atomic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from shieldlab.io.atomic import atomic_path, write_text


def _write_parquet(columns: dict[str, np.ndarray], path: Path) -> None:
    table = pa.table({k: pa.array(v.tolist() if v.dtype == object else v) for k, v in columns.items()})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def write_results(out_dir: str | Path, summary: dict, outcomes: dict, events: dict) -> list[Path]:
    """Write summary.json, outcomes.parquet and events.parquet, each atomically."""
    out = Path(out_dir)
    paths = [out / "outcomes.parquet", out / "events.parquet", out / "summary.json"]
    _write_parquet(outcomes, paths[0])
    _write_parquet(events, paths[1])
    write_text(paths[2], json.dumps(summary, indent=2) + "\n")
    return paths
