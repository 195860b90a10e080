"""Weapon–target assignment speed: the greedy solver at raid sizes, the exact solver until it runs out.

    python bench/c2.py [--json] [--repeat 5] [--exact-limit-s 10] [--max-patterns 50000]

Problems (``problem(T, B, seed)``), a plane model of raid geometry: threats'
intercept points and batteries uniform in a unit square; battery ``b``
reaches the threats within a radius ``r_b`` chosen so that its disc covers a
fraction ``f_b ~ U(0.10, 0.30)`` of the square (``π r_b² = f_b``; fewer near the
edges), with ``pk = pk_max,b (1 − 0.5 (d / r_b)²)``, ``pk_max,b ~ U(0.6, 0.9)``,
so pk falls from its best at the battery to half that at the edge of the
envelope; value at stake ``U(1, 10) × U(0.5, 1)`` (asset value × probability of
hitting it); magazines ``U{4..16}`` rounds above reserve; ``max_salvo = 2``,
no shooter limit.  The script reports the measured share of feasible pairs.

* Greedy: 200 threats × 50 batteries and 1,000 × 100, goals 1 s and 10 s.
* Exact: sizes (T, B) = (4k, k) for growing k until one solve takes more than
  ``--exact-limit-s`` (HiGHS runs with a time limit of three times that) or
  needs more patterns than ``--max-patterns`` (default ``DEFAULT_MAX_PATTERNS``); the largest size solved
  within the limit is the exact solver's stated reach on this geometry.
  Greedy's value saved relative to the exact optimum is reported beside it.

Times: median over ``--repeat`` runs (≥ 5) of wall-clock (``time.perf_counter``)
and process CPU (``time.process_time``) time, problem generation excluded.  An
exact size whose first run exceeds the limit is not repeated.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import date

import numpy as np
import scipy
from machine import cpu_model  # bench/machine.py: run as python bench/NAME.py

from shieldlab.c2.assignment import DEFAULT_MAX_PATTERNS, AssignmentProblem, solve_exact, solve_greedy


def problem(T: int, B: int, seed: int = 0, max_salvo: int = 2) -> AssignmentProblem:
    rng = np.random.default_rng(seed)
    threats = rng.uniform(0, 1, (T, 2))
    batteries = rng.uniform(0, 1, (B, 2))
    radius = np.sqrt(rng.uniform(0.10, 0.30, B) / np.pi)
    d = np.linalg.norm(batteries[:, None, :] - threats[None, :, :], axis=-1)  # (B, T)
    feasible = d <= radius[:, None]
    pk_max = rng.uniform(0.6, 0.9, B)
    pk = np.where(feasible, pk_max[:, None] * (1.0 - 0.5 * (d / radius[:, None]) ** 2), 0.0)
    value = rng.uniform(1, 10, T) * rng.uniform(0.5, 1.0, T)
    return AssignmentProblem(value=value, pk=pk, rounds=rng.integers(4, 17, B), max_salvo=max_salvo,
                             feasible=feasible)


def timed(fn, *args, repeat: int, limit_s: float | None = None):
    walls, cpus, out = [], [], None
    for i in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn(*args)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        if limit_s is not None and i == 0 and walls[0] > limit_s:
            break
    return out, {"wall_s": round(statistics.median(walls), 4), "cpu_s": round(statistics.median(cpus), 4),
                 "runs": len(walls)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--exact-limit-s", type=float, default=10.0)
    ap.add_argument("--max-patterns", type=int, default=DEFAULT_MAX_PATTERNS)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    repeat = max(5, a.repeat)
    load_before = os.getloadavg()
    greedy = []
    for T, B, goal in ((200, 50, 1.0), (1000, 100, 10.0)):
        p = problem(T, B, seed=1)
        g, t = timed(solve_greedy, p, repeat=repeat)
        greedy.append({"threats": T, "batteries": B, "feasible_share": round(float(p.feasible.mean()), 3),
                       "rounds": int(p.rounds.sum()), "rounds_fired": int(g.x.sum()),
                       "value_saved": round(g.value_saved, 3), "value_at_stake": round(float(p.value.sum()), 3),
                       **t, "goal_s": goal})
    exact, largest, stop = [], None, "sizes exhausted"
    for k in (2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64):
        T, B = 4 * k, k
        p = problem(T, B, seed=2)
        try:
            e, t = timed(lambda q: solve_exact(q, max_patterns=a.max_patterns, time_limit_s=3 * a.exact_limit_s), p,
                         repeat=repeat, limit_s=a.exact_limit_s)
        except ValueError as err:
            stop = f"{T} x {B}: {err}"
            break
        g = solve_greedy(p)
        row = {"threats": T, "batteries": B, "feasible_share": round(float(p.feasible.mean()), 3),
               "patterns": e.n_patterns, "nodes": e.nodes, "optimal": e.optimal, "gap": e.gap, **t,
               "value_saved": round(e.value_saved, 4),
               "greedy_ratio": round(g.value_saved / e.value_saved, 4) if e.value_saved > 0 else None}
        exact.append(row)
        if not e.optimal or t["wall_s"] > a.exact_limit_s:
            stop = f"{T} x {B}: {t['wall_s']} s (limit {a.exact_limit_s} s), optimal {e.optimal}"
            break
        largest = {"threats": T, "batteries": B, "wall_s": t["wall_s"]}
    res = {
        "bench": "c2-assignment", "date": date.today().isoformat(),
        "greedy": greedy,
        "exact": {"sizes": exact, "largest_solved": largest, "stopped_at": stop,
                  "limit_s": a.exact_limit_s, "max_patterns": a.max_patterns},
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version(),
                    "numpy": np.__version__, "scipy": scipy.__version__},
        "repeat": repeat,
    }
    if a.json:
        print(json.dumps(res, indent=2))
        return
    m = res["machine"]
    print(f"{m['cpu']}, {m['cores']} cores, load average {m['loadavg_before']} -> {m['loadavg_after']}")
    for r in greedy:
        print(f"greedy {r['threats']} x {r['batteries']} (feasible {r['feasible_share']:.0%}): wall {r['wall_s']} s, "
              f"CPU {r['cpu_s']} s (goal {r['goal_s']} s), median of {r['runs']}")
    for r in exact:
        print(f"exact  {r['threats']} x {r['batteries']}: {r['patterns']} patterns, wall {r['wall_s']} s, "
              f"CPU {r['cpu_s']} s, optimal {r['optimal']}, greedy/exact {r['greedy_ratio']}")
    print(f"exact: largest solved {largest}; stopped at {stop}")


if __name__ == "__main__":
    main()
