"""Timing two source trees against each other in one run: fresh processes, alternating.

A speed claim "faster than commit X" is a ratio measured side by side, not two numbers
from two days: the machine's load drifts by tens of percent over minutes on a shared
host.  :func:`alternate` runs a worker script once per tree per pair, the order flipped
every pair (A B, B A, A B, ...), each in a fresh Python process (the same interpreter and
packages; only ``PYTHONPATH`` names the tree), and keeps every measurement; the caller
compares medians.  :func:`worktree` makes a git worktree of a ref to time against.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from machine import cpu_model

REPO = Path(__file__).resolve().parents[1]


def machine_info() -> dict:
    """What a result is printed with: CPU model, cores, load averages (1, 5, 15 min), Python."""
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "loadavg": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version()}


def worktree(ref: str) -> Path:
    """A git worktree of ``ref`` (a commit, tag or branch of this repository), made once in the
    temporary directory and reused: ``<tmp>/shieldlab-bench-<sha>``."""
    sha = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                         capture_output=True, text=True, check=False)
    if sha.returncode:
        raise SystemExit(f"--against: {ref!r} is not a commit of {REPO}: {sha.stderr.strip()}")
    path = Path(tempfile.gettempdir()) / f"shieldlab-bench-{sha.stdout.strip()[:12]}"
    if not (path / "src" / "shieldlab").is_dir():
        p = subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-f", str(path),
                            sha.stdout.strip()], capture_output=True, text=True, check=False)
        if p.returncode:
            raise SystemExit(f"--against: could not make a worktree of {ref!r}: {p.stderr.strip()}")
    return path


def run_in(tree: Path, code: str, args: Sequence[str]) -> dict:
    """Run worker ``code`` (Python source printing one JSON object as its last line, with
    ``"tree": shieldlab.__file__``) on ``tree``'s sources; returns that object."""
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    p = subprocess.run([sys.executable, "-c", code, *map(str, args)], env=env, capture_output=True, text=True,
                       check=False)
    if p.returncode:
        raise SystemExit(f"the run in {tree} failed:\n{p.stderr[-3000:]}")
    out = json.loads(p.stdout.strip().splitlines()[-1])
    if not out["tree"].startswith(str(tree)):
        raise SystemExit(f"the run meant for {tree} imported {out['tree']}")
    return out


def alternate(trees: dict[str, Path], pairs: int, code: str, args: Sequence[str]) -> dict[str, list[dict]]:
    """``pairs`` rounds of one :func:`run_in` per tree, the order reversed every other round;
    returns every measurement per tree name."""
    names = list(trees)
    out: dict[str, list[dict]] = {n: [] for n in names}
    for i in range(pairs):
        for n in (names if i % 2 == 0 else names[::-1]):
            out[n].append(run_in(trees[n], code, args))
    return out


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)
