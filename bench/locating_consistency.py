"""Is the point-of-origin estimator's covariance honest? Its NEES over many seeds of a preset.

    python bench/locating_consistency.py [--preset akcakale-2012] [--runs 16] [--seeds 40] [--json]

Runs the shelling of ``--preset`` (:func:`shieldlab.simulate_shelling`) ``--seeds`` times, seeds
1, 2, ..., ``--runs`` runs each, and per fire mission reports from the located rounds:

* the pooled mean NEES (2 degrees of freedom: the horizontal error against the estimator's
  covariance) with its chi-square 95 % band for that many rounds: the bias test;
* the variance of a round's NEES against chi-square's 4: heavier tails than a Gaussian
  error's widen every band built on chi-square;
* how many seeds' means (``--runs`` runs each, as one ``shieldlab run`` of that size prints it)
  fall outside their own chi-square band, against the 5 % a consistent estimator would give;
* the correlation of the east errors of a run's first two rounds (the band assumes rounds
  independent).

A consistent estimator gives a pooled mean inside its band, a variance near 4, about 5 % of
the seeds outside their band and no correlation.  The seeds' means are not one sample
repeated: each seed draws its own noise (a table of many cases under one seed, as
``bench/locating_accuracy.py`` prints, shares one draw and moves as one).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from scipy.stats import binom, chi2

import shieldlab


def band(m: int) -> tuple[float, float]:
    """The chi-square 95 % band of the mean of ``m`` NEES values of 2 degrees of freedom."""
    return float(chi2.ppf(0.025, 2 * m) / m), float(chi2.ppf(0.975, 2 * m) / m)


def measure(preset: str, runs: int, seeds: int) -> dict:
    world = shieldlab.load_world(preset)
    per: dict[str, dict[str, list]] = {}
    for seed in range(1, seeds + 1):
        t = shieldlab.simulate_shelling(world, runs, seed).rounds
        for m in dict.fromkeys(t["mission"].tolist()):
            s = t["located"].astype(bool) & (t["mission"] == m)
            d = per.setdefault(m, {"nees": [], "seed_means": [], "first_two": []})
            n = t["nees"][s]
            d["nees"].append(n)
            d["seed_means"].append((float(n.mean()), *band(n.size)) if n.size else (np.nan, np.nan, np.nan))
            run, east = t["run"][s] + seed * runs, t["error_east_m"][s]  # runs told apart across seeds
            for r in np.unique(run):
                e = east[run == r]
                if e.size >= 2:
                    d["first_two"].append((float(e[0]), float(e[1])))
    out = {"preset": preset, "runs": runs, "seeds": seeds, "missions": {}}
    for m, d in per.items():
        n = np.concatenate(d["nees"])
        sm = np.array(d["seed_means"])
        outside = int(((sm[:, 0] < sm[:, 1]) | (sm[:, 0] > sm[:, 2])).sum())
        pairs = np.array(d["first_two"])
        lo, hi = band(n.size)
        out["missions"][m] = {
            "rounds": int(n.size), "mean_nees": round(float(n.mean()), 3), "band": [round(lo, 3), round(hi, 3)],
            "inside": bool(lo <= n.mean() <= hi), "nees_variance": round(float(n.var(ddof=1)), 2),
            "seeds_outside_band": outside,
            # the chance of at least this many of the seeds outside, were each out with 5 %
            "p_at_least_that_many": round(float(binom.sf(outside - 1, seeds, 0.05)), 3),
            "first_two_rounds_east_corr": round(float(np.corrcoef(pairs[:, 0], pairs[:, 1])[0, 1]), 3)
            if len(pairs) > 2 else None}
    return out


def _at_least_one(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="akcakale-2012", help="a scenario with shelling")
    ap.add_argument("--runs", type=_at_least_one, default=16)
    ap.add_argument("--seeds", type=_at_least_one, default=40)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    if shieldlab.load_world(a.preset).shelling is None:
        ap.error(f"--preset: {a.preset} has no shelling to locate")
    t0 = time.perf_counter()
    res = measure(a.preset, a.runs, a.seeds)
    res["took_s"] = round(time.perf_counter() - t0, 1)
    if a.json:
        sys.stdout.write(json.dumps(res, indent=2) + "\n")
        return 0
    print(f"{a.preset}: {a.seeds} seeds x {a.runs} runs, {res['took_s']} s")
    print("| mission | rounds | mean NEES | chi-square 95 % band | NEES variance (chi-square: 4) | seeds outside "
          "their band (5 % expected) | P(at least that many) | corr. of a run's first two rounds' east errors |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |")
    for m, r in res["missions"].items():
        print(f"| {m} | {r['rounds']:,} | {r['mean_nees']:.3f} | {r['band'][0]:.3f}-{r['band'][1]:.3f} | "
              f"{r['nees_variance']:.2f} | {r['seeds_outside_band']} of {a.seeds} | {r['p_at_least_that_many']:.3f} | "
              f"{r['first_two_rounds_east_corr']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
