"""The shelling's summary as Rich tables and lines for ``shieldlab run`` (the report shows the same
figures as HTML).  Probabilities carry their 95 % Wilson intervals; errors are medians over the
located rounds, with the mean's t interval where it helps."""

from __future__ import annotations

from rich.table import Table

from shieldlab.io.air_tables import decimals_apart, p_text
from shieldlab.io.output import set_text

__all__ = ["tables", "rows", "HEAD", "num", "nees_note"]

#: Columns of the per-(mission, radar) table, in the terminal and the report.
HEAD = ["mission", "round", "radar", "radar to weapon [km]", "weapon in", "P(located)", "error [m]", "95th pct [m]",
        "error [% of range]", "95 % ellipse semi-axes [m]", "P(estimate on true side)", "mean P(true side)",
        "NEES (band)", "fused error [m]", "fused P(true side)"]


def num(d: dict | None, key: str = "median", fmt: str = "{:,.0f}", none: str = "–") -> str:
    """One figure of a summary statistic (``{median, mean, p95, ...}``) formatted."""
    if not d or d.get(key) is None:
        return none
    return fmt.format(d[key])


def _ellipse(r: dict) -> str:
    if r["ellipse95_major_m"].get("median") is None:
        return "–"
    return f"{r['ellipse95_major_m']['median']:,.0f} x {r['ellipse95_minor_m']['median']:,.0f}"


def _nees(d: dict) -> str:
    if d.get("mean") is None:
        return "–"
    lo, hi = d["band"]
    return f"{d['mean']:.2f} ({lo:.2f}–{hi:.2f})"


def rows(summary: dict) -> list[list[str]]:
    """One row of :data:`HEAD` per mission and radar of a shelling ``summary``."""
    out = []
    for m in summary["missions"]:
        side = m.get("origin_country") or "–"
        for name, r in m["radars"].items():
            f = r["fused"]
            out.append([m["mission"], m["round"], name, num({"median": r["range_km"]}, fmt="{:.1f}"), side,
                        p_text(r["located"]), num(r["error_m"]), num(r["error_m"], "p95"),
                        num(r["error_pct_of_range"], fmt="{:.2f}"), _ellipse(r), p_text(r["side_correct"]),
                        num(r["p_true_side"], "mean", "{:.3f}"), _nees(r["nees"]), num(f["error_m"]),
                        num(f["p_true_side"], "mean", "{:.3f}")])
    return out


def tables(summary: dict) -> list:
    """Tables and lines for the shelling ``summary`` (``summary["shelling"]`` of a run).  The
    table is turned, a column per mission and radar and a row per figure (the report's is a
    row per mission): fifteen columns of figures were ~290 characters wide, and a terminal of
    120 cut every cell into pieces."""
    title = (f"{summary['scenario']}{set_text(summary)} — shelling, {summary['runs']:,} runs, seed "
             f"{summary['seed']}: where the weapon-locating radars put each round's origin")
    t = Table(title=title, min_width=len(title))  # (the title on one line where the terminal allows)
    body = rows(summary)
    several = len({r[0] for r in body}) < len(body)  # a mission seen by several radars: name both
    t.add_column("", overflow="fold")
    for r in body:
        t.add_column(f"{r[0]} / {r[2]}" if several else r[0], overflow="fold", justify="right")
    for i, col in enumerate(HEAD):
        if col == "mission" or (col == "radar" and several):
            continue
        t.add_row(col, *[r[i] for r in body])
    lines = [t,
             f"radar to weapon: slant range; error: median over the located rounds; "
             f"side: of {summary['country']}'s border "
             f"(Natural Earth 1:50m, {summary['waters_nmi']:g} nmi of sea); ellipse: "
             f"{100 * summary['ellipse_probability']:.0f} % semi-axes; fused: each run's located rounds of a mission "
             f"together (one weapon, one place); NEES: mean over the located rounds against the estimator's "
             f"covariance, its chi-square 95 % band in parentheses"]
    for note in (nees_note(summary), burning_note(summary)):
        if note:
            lines.append(note)
    lines += not_located_lines(summary)
    return lines


def not_located_lines(summary: dict) -> list[str]:
    """Why rounds were not located, per mission and radar that missed any: ``not located by
    RADAR: K of MISSION's N rounds — WHY (count); ...``, the commonest reason first."""
    out = []
    for m in summary["missions"]:
        for name, r in m["radars"].items():
            why = r.get("not_located") or {}
            if why:
                n = (r.get("located") or {}).get("n") or 0
                causes = "; ".join(f"{k} ({c:,})" for k, c in sorted(why.items(), key=lambda kc: -kc[1]))
                out.append(f"not located by {name}: {sum(why.values()):,} of {m['mission']}'s {n:,} rounds — {causes}")
    return out


def burning_note(summary: dict) -> str | None:
    """A line naming each (mission, radar) whose rockets were first reported (fence crossing and
    verification dwell) half a second or more before their motor burnt out: the estimator fits
    an unpowered flight to every report, so the ones under thrust bias it (a Grad seen 0.76 s
    after firing, inside its 2 s burn: chi-square per degree of freedom 2.6 and the NEES above
    its band, unexplained); None where none did."""
    out = []
    for m in summary["missions"]:
        for name, r in m["radars"].items():
            d = r.get("fence_in_burn")
            if d and d.get("n") and d.get("k"):
                out.append(f"{m['mission']} by {name}: {d['k']:,} of {d['n']:,}")
    if not out:
        return None
    from shieldlab.engine.shelling import BURN_NOTE_S  # (the summary counts by it)

    return (f"rockets reported {BURN_NOTE_S:g} s or more while their motor burned (the estimator fits an unpowered "
            "flight, so their reports under thrust bias the origin; a higher fence sees them later): " + "; ".join(out))


def nees_note(summary: dict) -> str | None:
    """A line naming each (mission, radar) whose mean NEES falls outside its chi-square 95 %
    band (its covariance understates the errors above it, overstates them below), or None.  A
    NEES of 2.69 beside a band of 1.46–2.62 went by unremarked."""
    out = []
    for m in summary["missions"]:
        for name, r in m["radars"].items():
            d = r["nees"]
            if d.get("mean") is None or not d.get("band"):
                continue
            lo, hi = d["band"]
            if not lo <= d["mean"] <= hi:
                edge = hi if d["mean"] > hi else lo
                # as many decimals as tell the mean from the edge (2.108 above 2.105, not 2.11 above 2.11)
                nd = decimals_apart(d["mean"], edge)
                out.append(f"{m['mission']} by {name} {d['mean']:.{nd}f} "
                           + (f"above {hi:.{nd}f}: errors larger than its covariance says" if d["mean"] > hi
                              else f"below {lo:.{nd}f}: errors smaller than its covariance says"))
    return ("NEES outside its band: " + "; ".join(out)) if out else None
