"""The air picture's summary as Rich tables and lines, for ``shieldlab run`` (the report draws
the same figures as HTML).  Every probability carries its 95 % Wilson interval, every mean
its t interval."""

from __future__ import annotations

from rich.table import Table

from shieldlab.io.output import set_text
from shieldlab.stats import wilson_interval

__all__ = ["tables", "timeline_rows", "runs_with", "p_text", "mean_text", "utc_text"]


def p_text(d: dict | None, none: str = "–") -> str:
    """A probability of the summary (``{p, ci, n}``) as "0.73 (0.66–0.79)"; ``none`` where it has
    no runs."""
    if not d or d.get("n", 0) == 0:
        return none
    lo, hi = d["ci"]

    def bound(b: float) -> str:  # as many decimals as tell a bound from the point (0.997, not 1.00)
        return f"{b:.{decimals_apart(b, d['p'], most=4, none=2)}f}"

    return f"{d['p']:.2f} ({bound(lo)}–{bound(hi)})"


def decimals_apart(x: float, y: float, least: int = 2, most: int = 5, none: int | None = None) -> int:
    """The fewest decimals, from ``least`` to ``most``, at which ``x`` and ``y`` print apart (a
    bound beside its point, a mean beside its band's edge: 0.997 beside 1.00, 2.108 above
    2.105, where two decimals print them alike); ``none`` (default ``most + 1``) where they do
    not print apart at any, ``least`` where they are equal."""
    if x == y:
        return least
    return next((k for k in range(least, most + 1) if round(x, k) != round(y, k)), most + 1 if none is None else none)


def share_format(x: float | None) -> str:
    """The format of a share of a flight: two decimals, three where a share above zero would
    read 0.00 (an airborne radar's 0.2 % of a cruise missile's flight printed as nothing)."""
    return "{:.3f}" if x is not None and 0.0 < x < 0.005 else "{:.2f}"


def mean_text(d: dict | None, fmt: str = "{:,.1f}", scale: float = 1.0, none: str = "–") -> str:
    """A mean of the summary (``{mean, ci}``) times ``scale`` with its interval (left out where it
    is a point); ``none`` where there is no mean."""
    if not d or d.get("mean") is None:
        return none
    text = fmt.format(d["mean"] * scale)
    ci = d.get("ci")
    if ci and ci[0] is not None and ci[1] is not None:
        lo, hi = ci
        if abs(hi - lo) > 1e-9 * max(abs(hi), 1.0):
            a, b = fmt.format(lo * scale), fmt.format(hi * scale)
            # a dash between negative numbers reads as a minus: "(-0.77–-0.68)"
            text += f" ({a} to {b})" if a.startswith("-") or b.startswith("-") else f" ({a}–{b})"
    return text


def utc_text(epoch, t_s: float) -> str:
    """Seconds after ``epoch`` (a UTC datetime) as a UTC clock time, to the tenth of a second."""
    import datetime as dt

    when = epoch + dt.timedelta(seconds=float(t_s))
    return when.strftime("%Y-%m-%d %H:%M:%S.") + f"{when.microsecond // 100_000}"


# short names for the tables below
_p, _m = p_text, mean_text


def tables(summary: dict) -> list:
    """Tables and lines for the air picture ``summary`` (``summary["air"]`` of a run)."""
    air = summary
    runs = air["runs"]
    out: list = []
    policed = air.get("airspace") is not None
    t = Table(title=f"{air['scenario']}{set_text(air)} — air picture, {runs:,} runs, seed {air['seed']}")
    for col in ("flight", "type", "P(seen)", "first report by", "tracked share of flight"):
        t.add_column(col, overflow="fold", justify="left" if col in ("flight", "type", "first report by") else "right")
    for f in air["flights"]:
        by = ", ".join(f"{k} {v}" for k, v in list(f["first_detect_by"].items())[:2]) or "–"
        t.add_row(f["flight"] + (f" (x{f['fliers']})" if f["fliers"] > 1 else ""), f["type"], _p(f["seen"]), by,
                  _m(f["tracked_share"], "{:.2f}"))
    out.append(t)
    missiles = [f for f in air["flights"] if f["kind"] == "cruise-missile"]
    if missiles:
        t = Table(title="cruise missiles: arrivals and failures")
        for col in ("flight", "arrived per run", "P(failed)", "came down in", "flight time of arrivals [min]",
                    "route of arrivals [km]"):
            t.add_column(col, overflow="fold", justify="left" if col in ("flight", "came down in") else "right")
        for f in missiles:
            where = ", ".join(f"{k} {v}" for k, v in f["failure_countries"].items()) or "–"
            t.add_row(f["flight"], f"{_m(f['arrived_per_run'], '{:.2f}')} of {f['arrived_per_run']['of']}",
                      _p(f["failed"]), where, _m(f["flight_time_s"], "{:.1f}", 1 / 60), _m(f["ground_km"], "{:,.0f}"))
        out.append(t)
        tot = air.get("cruise_missiles")
        if tot:
            out.append(f"{missiles_text(tot['launched'])}: {_m(tot['arrived_per_run'], '{:.1f}')} arrive per run, "
                       f"{_m(tot['failed_per_run'], '{:.1f}')} come down (failures), "
                       f"{_m(tot['shot_down_per_run'], '{:.1f}')} shot down")
            for country, v in tot["failures_per_run_by_country"].items():
                out.append(f"  came down in {country}: {_m(v, '{:.2f}')} per run; {runs_with(v['runs_with'])}")
    out.append(_sensor_table(air))
    if policed:
        t = Table(title=f"{air['airspace']['country']} airspace (territorial sea {air['airspace']['waters_nmi']:g} "
                        f"nmi): true crossing, and as the track saw it")
        for col in ("flight", "P(entered)", "time inside [s]", "track: time inside [s]", "deepest [km]",
                    "inside [km]", "warnings before entry", "P(fired)", "P(killed)", "hit from border [km]"):
            t.add_column(col, overflow="fold", justify="left" if col == "flight" else "right")
        for f in air["flights"]:
            t.add_row(f["flight"], _p(f["entered"]), _m(f["time_inside_s"]), _m(f["est_time_inside_s"]),
                      _m(f["max_depth_km"], "{:.2f}"), _m(f["distance_inside_km"], "{:.2f}"),
                      _m(f["warnings_before_entry"], "{:.1f}"), _p(f["fired"]), _p(f["killed"]),
                      _m(f["hit_depth_km"], "{:+.2f}"))
        out.append(t)
        out.append("hit from border: + inside the airspace, − outside it; the track's time inside is the "
                   "defender's estimate from its radar track")
        fighters = [(f["flight"], n, v) for f in air["flights"] for n, v in f.get("fighters", {}).items()]
        if fighters:
            t = Table(title="fighters: could they reach the intruder while it was inside?")
            for col in ("flight", "fighter", "P(in weapon range while inside)", "in range after entry [s]",
                        "order to weapon range of the entry point [s]", "order before entry [s]"):
                t.add_column(col, overflow="fold", justify="left" if col in ("flight", "fighter") else "right")
            for flight, name, v in fighters:
                t.add_row(flight, name, _p(v["in_range_while_inside"]), _m(v["in_range_after_entry_s"], "{:,.0f}"),
                          _m(v["order_to_entry_range_s"], "{:,.0f}"), _m(v["order_before_entry_s"], "{:,.0f}"))
            out.append(t)
            out.append("in range after entry: − before the entry (a patrol already in weapon range as the "
                       "flier crossed)")
        for f in air["flights"]:
            for no, n in f.get("no_shot", {}).items():
                what = "runs" if f["fliers"] == 1 else "flier-runs"
                out.append(f"{f['flight']}: no shot in {n} of {f['rows']} {what}: {no}")
    claims = [(f["flight"], c) for f in air["flights"] for c in f.get("claims", [])]
    if claims:
        t = Table(title="stated figures, checked")
        t.add_column("flight", overflow="fold")
        t.add_column("who", overflow="fold")
        t.add_column("check", overflow="fold")
        for flight, c in claims:
            t.add_row(flight, c["by"], "\n".join(c["notes"]) or "–")
        out.append(t)
    return out


def _sensor_table(air: dict) -> Table:
    """Each sensor against each flight type: P(ever reported), the share of the flight in its
    field (in view, above its horizon, within its field of regard) and with a report."""
    acc: dict[tuple[str, str], list] = {}
    for f in air["flights"]:
        for sensor, v in f.get("sensors", {}).items():
            acc.setdefault((f["type"], sensor), []).append((v["seen"], v["in_view_share"], v["reported_share"],
                                                            f["rows"]))
    t = Table(title="who could see them: each sensor against each type (all fliers of the type)")
    for col in ("type", "sensor", "P(ever reported)", "share of flight in view", "share of flight reported"):
        t.add_column(col, overflow="fold", justify="left" if col in ("type", "sensor") else "right")
    for (typ, sensor), vals in acc.items():
        n = sum(v[0]["n"] for v in vals)
        k = sum(v[0]["k"] for v in vals)
        rows = sum(v[3] for v in vals)
        view, rep = (sum((v[i]["mean"] or 0.0) * v[3] for v in vals) / max(rows, 1) for i in (1, 2))
        lo, hi = wilson_interval(k, n)
        t.add_row(typ, sensor, f"{k / n:.2f} ({lo:.2f}–{hi:.2f})" if n else "–", share_format(view).format(view),
                  share_format(rep).format(rep))
    return t


def missiles_text(n: int) -> str:
    """The scenario's cruise missiles, counted: "the 1 cruise missile", "all 26 cruise missiles"."""
    return "the 1 cruise missile" if n == 1 else f"all {n} cruise missiles"


def runs_with(hist: dict[str, int], top: int = 4) -> str:
    """"runs with 0, 1, 2, 3, 4+ of them: a, b, c, d, e" from a histogram {count: runs}."""
    n = [0] * (top + 1)
    for k, v in hist.items():
        n[min(int(k), top)] += v
    return (f"runs with {', '.join(str(i) for i in range(top))}, {top}+ of them: "
            f"{', '.join(str(x) for x in n)}")


def timeline_rows(events: dict, flight: str, run: int = 0) -> list[tuple[float, str, str, str]]:
    """(time [s], kind, actor, detail) of one flight's events in one run."""
    rows = []
    for i in range(len(events["run"])):
        if int(events["run"][i]) == run and str(events["threat"][i]) == flight:
            rows.append((float(events["t_s"][i]), str(events["kind"][i]), str(events["actor"][i]),
                         str(events["detail"][i])))
    return rows
