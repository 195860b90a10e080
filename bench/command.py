"""A whole `shieldlab` command as a user runs it: wall, CPU and peak memory of the process.

    python bench/command.py [--against REF] [--pairs 5] [--json] -- footprint epaa-phase-3 -q

Each measurement is one fresh Python process running ``python -m shieldlab ARGS`` in a
temporary folder (imports, loading the compiled kernels from Numba's cache and the work
itself; an untimed first run of each tree fills that cache).  Measured from the parent
with ``os.wait4``: wall time, the child's CPU time (user + system, all its threads) and its
peak resident memory.  With ``--against REF`` the same command runs on a git worktree of
``REF`` too, the two trees alternating (A B, B A, ...); the medians of the rounds and the
median of the rounds' ratios are reported, with the CPU model, cores and load averages.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from alternate import REPO, machine_info, worktree


def once(tree: Path, args: list[str]) -> dict:
    """One run of ``python -m shieldlab ARGS`` on ``tree``'s sources: wall [s], CPU [s], peak RSS [MB]."""
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    with tempfile.TemporaryDirectory(prefix="shieldlab-bench-") as cwd:
        t0 = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-m", "shieldlab", *args], cwd=cwd, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert p.stderr is not None
        err = p.stderr.read()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise SystemExit(f"shieldlab {' '.join(args)} failed on {tree}:\n{err.decode()[-2000:]}")
    return {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "peak_mb": ru.ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--against", metavar="REF", help="git ref to time alternately against the working tree")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("args", nargs=argparse.REMAINDER, help="-- then the shieldlab command line")
    a = ap.parse_args()
    args = a.args[1:] if a.args[:1] == ["--"] else a.args
    if not args:
        ap.error("give the shieldlab command line after --")
    trees = {"tree": REPO}
    if a.against:
        trees[a.against] = worktree(a.against)
    load0 = [round(x, 2) for x in os.getloadavg()]
    for t in trees.values():
        once(t, args)  # fills Numba's cache of that tree
    runs: dict[str, list[dict]] = {n: [] for n in trees}
    names = list(trees)
    for i in range(a.pairs):
        for n in (names if i % 2 == 0 else names[::-1]):
            runs[n].append(once(trees[n], args))
    res: dict = {"date": date.today().isoformat(), **machine_info(), "loadavg_at_start": load0,
                 "command": "shieldlab " + " ".join(args), "pairs": a.pairs}
    for n, rows in runs.items():
        res[n] = {k: round(statistics.median(r[k] for r in rows), 3) for k in ("wall_s", "cpu_s", "peak_mb")}
        res[n]["all"] = rows
    if a.against:
        for k in ("wall_s", "cpu_s", "peak_mb"):
            ratios = [b[k] / t[k] for t, b in zip(runs["tree"], runs[a.against])]
            res[f"{a.against}_over_tree_{k.split('_')[0]}"] = round(statistics.median(ratios), 3)
    if a.json:
        print(json.dumps(res, indent=2))
    else:
        for n in trees:
            r = res[n]
            print(f"{n:>12}: wall {r['wall_s']:.2f} s, CPU {r['cpu_s']:.2f} s, peak {r['peak_mb']:.0f} MB "
                  f"(median of {a.pairs})")
        if a.against:
            print(f"{a.against} / tree: wall {res[f'{a.against}_over_tree_wall']}x, "
                  f"CPU {res[f'{a.against}_over_tree_cpu']}x")
        print(f"{res['cpu']}, {res['cores']} cores, load average {load0} -> {res['loadavg']}")


if __name__ == "__main__":
    main()
