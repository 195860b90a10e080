"""Timing several contenders in one process: wall and CPU time, alternating order, every measurement kept.

A ratio between two codes is measured side by side, not from two runs on two days: on a
shared machine the load drifts by tens of percent over minutes.  :func:`rounds` times every
contender once per round, the order reversed every other round (A B, B A, A B, ...), and
keeps every measurement; the callers compare medians.  Each measurement carries wall time
(``time.perf_counter``) and the CPU time of the whole process (``time.process_time``: all
threads), so a result can be given per core (work per CPU-second) as well as for the
whole machine (work per wall-second).
"""

from __future__ import annotations

import importlib.metadata as md
import os
import statistics
import time
from collections.abc import Callable
from datetime import datetime

from alternate import machine_info


def clock(fn: Callable[[], float]) -> dict:
    """Run ``fn`` (which returns the work it did, e.g. trajectory-steps); returns
    ``{"work", "wall_s", "cpu_s", "per_wall_s", "per_cpu_s"}``."""
    w0, c0 = time.perf_counter(), time.process_time()
    work = float(fn())
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return {"work": work, "wall_s": wall, "cpu_s": cpu, "per_wall_s": work / wall,
            "per_cpu_s": work / cpu if cpu > 0 else float("nan")}


def rounds(jobs: dict[str, Callable[[], dict]], pairs: int, log: Callable[[str], None] | None = None
           ) -> dict[str, list[dict]]:
    """``pairs`` rounds of one call of every job, the order reversed every other round;
    returns every measurement per job name (in round order)."""
    names = list(jobs)
    out: dict[str, list[dict]] = {n: [] for n in names}
    for i in range(pairs):
        for n in (names if i % 2 == 0 else names[::-1]):
            m = jobs[n]()
            out[n].append(m)
            if log:
                log(f"round {i + 1}/{pairs} {n}: {m['per_wall_s']:.4g}/wall-s, {m['per_cpu_s']:.4g}/CPU-s")
    return out


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def summary(rows: list[dict]) -> dict:
    """Medians of a job's measurements (rates per wall- and CPU-second, wall and CPU seconds)."""
    return {k: median(rows, k) for k in ("per_wall_s", "per_cpu_s", "wall_s", "cpu_s", "work")}


def paired_ratio(fast: list[dict], slow: list[dict]) -> dict:
    """Median over rounds of fast's rate / slow's rate, whole machine (wall) and per core (CPU),
    with the per-round ratios."""
    wall = [f["per_wall_s"] / s["per_wall_s"] for f, s in zip(fast, slow)]
    cpu = [f["per_cpu_s"] / s["per_cpu_s"] for f, s in zip(fast, slow)]
    return {"wall": statistics.median(wall), "cpu": statistics.median(cpu),
            "wall_rounds": wall, "cpu_rounds": cpu}


def run_info(packages: tuple[str, ...] = ("numpy", "numba", "scipy")) -> dict:
    """What every result is printed with: date and time, CPU model, cores, load averages
    (1, 5, 15 min), Python and package versions, Numba's thread count."""
    import numba

    versions: dict[str, str | None] = {}
    for p in packages:
        try:
            versions[p] = md.version(p)
        except md.PackageNotFoundError:
            versions[p] = None
    return {"date": datetime.now().isoformat(timespec="seconds"), **machine_info(),
            "numba_threads": numba.get_num_threads(), "versions": versions}


def machine_line(info: dict) -> str:
    v = ", ".join(f"{k} {x}" for k, x in info["versions"].items())
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{info['date']} · {info['cpu']}, {info['cores']} cores, Numba threads {info['numba_threads']} · "
            f"load average at start {' / '.join(f'{x:.2f}' for x in info['loadavg'])}, now {load} · "
            f"Python {info['python']}, {v}")
