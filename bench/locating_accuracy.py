"""Location error of the weapon-locating radars against range, for each catalogue round.

    python bench/locating_accuracy.py [--rounds 200] [--seed 1] [--fractions 0.25,0.5,0.75,0.95] [--json]
                                      [--plot PNG]

For each catalogue weapon-locating radar and round: a weapon fires ``--rounds`` rounds toward the
radar from ``fraction`` x the radar's reach against that class of round (the geometry of
:func:`shieldlab.artillery.trials.trial`: the radar facing south at 36.78 N, 38.95 E, flat ground at
390 m, the weapon due south firing north at 70 % of its greatest range, or 1 km short of the radar);
the rounds are located from the radar's reports alone.  Printed, as a Markdown table: the range,
P(located), the median radial error (the empirical CEP) in metres and in % of the range, the 90th
percentile, and the mean NEES against the estimator's covariance.  ``--plot`` also draws the
median error in % of the range against the range, a panel per radar, a line per round.
docs/counter-battery.md holds its output (seed 1, 200 rounds) and the plot.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

from shieldlab.artillery.trials import trial
from shieldlab.catalog.artillery import locating_radars, rounds


def rows(n: int, seed: int, fractions: list[float]) -> list[dict]:
    out = []
    for spec in locating_radars().values():
        for rnd in rounds().values():
            reach = 1e3 * spec.range_km(rnd.locating_class)
            for f in fractions:
                t = trial(rnd, spec, f * reach, n=n, seed=seed)
                ok = t.located
                e = t.error[ok]
                out.append({"radar": spec.id, "round": rnd.id, "range_km": f * reach / 1e3,
                            "located": float(ok.mean()),
                            "cep_m": float(np.median(e)) if e.size else math.nan,
                            "cep_pct": 100.0 * float(np.median(e)) / (f * reach) if e.size else math.nan,
                            "p90_m": float(np.percentile(e, 90)) if e.size else math.nan,
                            "nees": float(np.mean(t.nees[ok])) if e.size else math.nan})
    return out


def markdown(table: list[dict]) -> str:
    lines = ["| radar | round | range [km] | P(located) | CEP [m] | CEP [% of range] | 90 % [m] | mean NEES |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in table:
        def f(x, fmt):
            return "—" if not np.isfinite(x) else fmt.format(x)

        lines.append(f"| {r['radar']} | {r['round']} | {r['range_km']:.1f} | {r['located']:.2f} | "
                     f"{f(r['cep_m'], '{:,.0f}')} | {f(r['cep_pct'], '{:.2f}')} | {f(r['p90_m'], '{:,.0f}')} | "
                     f"{f(r['nees'], '{:.2f}')} |")
    return "\n".join(lines)


def plot(table: list[dict], path: str) -> None:
    """Median location error [% of range] against range [km]: a panel per radar, a line per round."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    radars = list(dict.fromkeys(r["radar"] for r in table))
    fig, axes = plt.subplots(1, len(radars), figsize=(4.2 * len(radars), 3.6), sharey=True)
    for ax, radar in zip(np.atleast_1d(axes), radars):
        for rnd in dict.fromkeys(r["round"] for r in table):
            rows_ = [r for r in table if r["radar"] == radar and r["round"] == rnd and np.isfinite(r["cep_pct"])]
            if rows_:
                ax.plot([r["range_km"] for r in rows_], [r["cep_pct"] for r in rows_], marker="o", label=rnd)
        ax.set_title(radar)
        ax.set_xlabel("range from the radar [km]")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("median location error [% of range]")
    np.atleast_1d(axes)[-1].legend(fontsize=8)
    fig.suptitle("Point of origin: median error against range (cases the radar does not see are left out)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fractions", default="0.25,0.5,0.75,0.95")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--plot", metavar="PNG", help="also draw the error against range into this PNG")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    table = rows(a.rounds, a.seed, [float(x) for x in a.fractions.split(",")])
    if a.json:
        sys.stdout.write(json.dumps(table, indent=2) + "\n")
    else:
        print(markdown(table))
        print(f"\n{a.rounds} rounds a case, seed {a.seed}, {time.perf_counter() - t0:.0f} s")
    if a.plot:
        plot(table, a.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
