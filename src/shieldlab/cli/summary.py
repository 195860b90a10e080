"""Printing a kill-chain run's summary: the outcome table, track quality, launch reports, the
timeline and ``--explain``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from rich.console import JustifyMethod
from rich.table import Table
from rich.text import Text

from shieldlab.cli.common import (
    _interval_name,
    _mean_ci,
    _p_ci,
    _plural,
    _print_line,
    _print_table,
    _set_text,
)
from shieldlab.cli.notes import _false_alarm_text, _management_text
from shieldlab.errors import InputError


def _print_summary(summary: dict, elapsed: float | None = None, resumed_runs: int = 0) -> None:
    """The run table and the headline line; ``elapsed`` [s] the simulation's time in this
    process, of which ``resumed_runs`` runs were done before (a resumed run's kept chunks)."""
    runs = int(summary["runs"])
    nodes = summary.get("nodes", [])
    arch = f", {summary['architecture']} C2 over {len(nodes)} nodes" if len(nodes) > 1 else ""
    t = Table(title=f"{summary['scenario']}{_set_text(summary)} — {_plural(runs, 'run')}, seed {summary['seed']}"
                    f"{arch}")
    cols: tuple[tuple[str, JustifyMethod], ...] = (("threat", "left"), ("missile", "left"), ("P(intercept)", "right"),
                                                   ("P(leak)", "right"), ("mean interceptors", "right"))
    # on tracks of reports without labels a salvo may go at a threat's spent booster: said apart
    boosters = any((row.get("mean_interceptors_at_booster") or 0) > 0 for row in summary["per_threat"])
    if boosters:
        cols += (("of them at its booster", "right"),)
    for col, just in cols:
        # names fold onto more lines rather than end in an ellipsis or vanish: two salvo rounds
        # must stay tellable apart; the numbers wrap at their space when the screen is narrow
        t.add_column(col, justify=just, overflow="fold", min_width=8 if just == "left" else None)
    for row in summary["per_threat"]:
        t.add_row(str(row["threat"]), str(row["missile"]), _p_ci(row, "p_intercept"),
                  _p_ci(row, "p_leak"), _mean_ci(row, "mean_interceptors"),
                  *([_mean_ci(row, "mean_interceptors_at_booster")] if boosters else []))
    _print_table(t)
    wasted = [(f"{label} ", _mean_ci(summary, key)) for label, key in
              (("of them at spent boosters", "mean_interceptors_at_boosters"),
               ("at false tracks", "mean_interceptors_at_false_tracks")) if (summary.get(key) or 0) > 0]
    parts = [("mean leakers per raid ", _mean_ci(summary, "mean_leakers")),
             ("mean interceptors fired ", _mean_ci(summary, "mean_interceptors_fired")), *wasted,
             ("P(no leaker) ", _p_ci(summary, "p_no_leaker")),
             ("mean hits on assets ", _mean_ci(summary, "mean_assets_hit"))]
    if summary.get("mean_value_lost", summary.get("mean_assets_hit")) != summary.get("mean_assets_hit"):
        parts.append(("mean value lost ", _mean_ci(summary, "mean_value_lost")))  # assets of unequal value
    line = Text()
    for i, (label, value) in enumerate(parts):
        line.append(("  ·  " if i else "") + label)
        line.append(value, style="bold")
    _print_line(line)
    done_before = f" (resumed: {resumed_runs:,} of the runs were done before)" if resumed_runs else ""
    _print_line(f"in parentheses: 95 % intervals over {_plural(runs, 'run')} — {_interval_name(summary)}"
                + (f"  ·  took {elapsed:.1f} s{done_before}" if elapsed is not None else ""))


def _print_track_quality(summary: dict) -> None:
    """Per system: GOSPA and its parts, own-track errors, time to first firm track (means over runs)."""
    tq = summary.get("track_quality") or {}
    if not tq:
        return

    def f(v, scale=1.0, fmt="{:,.0f}"):
        return "—" if v is None else fmt.format(v / scale)

    # a track file of reports without labels has its breaks, false and booster tracks too (as
    # the tracks command shows them)
    file_cols = [(key, label, fmt) for key, label, fmt in
                 (("track_breaks", "breaks/run", "{:.1f}"), ("false_tracks_per_hour", "false tracks/h", "{:.1f}"),
                  ("booster_tracks", "booster tracks/run", "{:.1f}"), ("purity", "purity", "{:.1%}"))
                 if any(key in q for q in tq.values())]
    tr = summary.get("tracking") or {}
    how = f"{tr['filter'].upper()} tracks, association {tr['association']}; " if tr.get("filter") else ""
    t = Table(title=f"track quality ({how}means over runs, GOSPA's with its 95 % interval, the others' in "
                    f"summary.json; GOSPA c = 5 km)")

    # (a track file's GOSPA counts false and surplus tracks, as the tracks command heads it)
    # "picture", as the tracks command and the report head it: a system's tracks, or a node's fused picture
    for col in ("picture", "GOSPA km", "localisation m", "missed", "false/surplus" if file_cols else "false tracks",
                "position RMSE m", "velocity RMSE m/s", "NEES", "NEES > χ² 99 %", *(label for _, label, _ in file_cols),
                "first firm track s"):
        t.add_column(col, justify="left" if col == "picture" else "right")
    for name, q in tq.items():
        t.add_row(name, _mean_ci(q, "gospa_m", 1e3), f(q["localisation_m"]), f(q["missed_targets"], fmt="{:.2f}"),
                  f(q["false_tracks"], fmt="{:.2f}"), f(q["position_rmse_m"]), f(q["velocity_rmse_ms"]),
                  f(q.get("mean_nees"), fmt="{:,.1f}"), f(q.get("nees_over_99"), fmt="{:.2%}"),
                  *(f(q.get(key), fmt=fmt) for key, _, fmt in file_cols),
                  f(q["median_time_to_firm_track_s"], fmt="{:.0f}"))
    _print_table(t)
    note = _nees_note(tq)
    if note:
        _print_line(note)
    if "delete_sigma_km" in tr:  # the multi-target tracker's: what its numbers depend on
        if tr.get("false_alarms_per_search_frame"):  # as the tracks command says them
            _print_line(_false_alarm_text(tr["false_alarms"], tr["false_alarms_per_search_frame"]))
        _print_line(_management_text(tr))


#: Mean NEES above which a picture's tracks are said to be overconfident under the track-quality
#: table: errors about four times what their covariances say (a consistent filter scores ~6,
#: these filters, with their noise floor, ~3).
OVERCONFIDENT_NEES = 100.0


def _nees_note(pictures: dict) -> str | None:
    """A line naming the pictures (name -> track-quality means) whose tracks' covariances
    understate their errors far beyond a consistent filter's (mean NEES above
    :data:`OVERCONFIDENT_NEES`): what fire control's launch gate reads as a track's error."""
    bad = [f"{name} {q['mean_nees']:,.0f}" for name, q in pictures.items()
           if (q.get("mean_nees") or 0.0) > OVERCONFIDENT_NEES]
    if not bad:
        return None
    return (f"overconfident tracks: mean NEES {', '.join(bad)} (a consistent filter: about 6): their covariances "
            "understate their errors, as fire control's launch gate reads them; a mean far above the share over "
            "χ² 99 % means a few updates far off, such as a track that took another object's reports (purity, "
            "breaks; docs/models.md)")


def _print_launch_reports(summary: dict) -> None:
    """A line per early-warning satellite and per link that passed its reports on: the share
    of the launches it reported, and when (median and 10-90 %, s after launch)."""
    for r in summary.get("launch_reports") or ():
        who = r["source"] if r["via"] == "satellite" else f"over the link {r['source']}"
        if not r["share_of_launches"]:
            _print_line(f"launch reports: {who}, none")
            continue
        _print_line(f"launch reports: {who}, {r['share_of_launches']:.0%} of the launches, "
                    f"{r['median_s_after_launch']:.0f} s after launch (median; 10–90 %: "
                    f"{r['p10_s_after_launch']:.0f}–{r['p90_s_after_launch']:.0f} s)")


def _col(events: dict, name: str, default: str = "") -> np.ndarray:
    v = events.get(name)
    return v if v is not None else np.full(len(events["run"]), default, dtype=object)


def _s(x) -> str:
    return "" if x is None else str(x)


def _print_timeline(events: dict, run: int = 0, limit: int = 80, threat: str | None = None,
                    title: str | None = None, epoch=None) -> None:
    """Run ``run``'s events (``threat``'s alone where given): seconds from the scenario's
    epoch, and, given the ``epoch`` (a datetime), the UTC time of day beside them, as the
    shelling's and the air picture's timelines give it."""
    if not events:
        _print_line(f"no events in run {run}")
        return
    m = events["run"] == run
    if threat is not None:
        m &= events["threat"] == threat
    reason = _col(events, "reason")
    # the event log's actor: the missile, sensor, system or battery, or the asset an impact hit
    from shieldlab.io.air_tables import utc_text

    utc = () if epoch is None else ("UTC",)
    cols = ("t [s]",) + utc + (("threat",) if threat is None else ()) + ("event", "by or at", "reason", "detail")
    t = Table(title=title or f"timeline of run {run}")
    for col in cols:
        t.add_column(col)
    for i in np.flatnonzero(m)[:limit]:
        when = [] if epoch is None else [utc_text(epoch, round(float(events["t_s"][i]), 1))]  # (as t is shown)
        row = [f"{events['t_s'][i]:8.1f}", *when, _s(events["threat"][i]), _s(events["kind"][i]),
               _s(events["actor"][i]), _s(reason[i]), _s(events["detail"][i])]
        k = len(when) + 1  # (the threat's column, left out where the table is one threat's)
        t.add_row(*(row if threat is None else row[:k] + row[k + 1:]))
    _print_table(t)


def _reason_counts(events: dict, mask: np.ndarray) -> list[tuple[str, str, str, int, int]]:
    """(kind, battery, reason, runs, of them after a shot) for the no-fire and hold rows under
    ``mask``, most runs first; the last: the runs in which that battery had fired at the threat
    (a fire row under ``mask`` by it) before the row: a no-fire row there is why it did not
    shoot again, not why it never shot."""
    reason, detail = _col(events, "reason"), events["detail"]
    shots: dict[tuple[int, str], float] = {}  # (run, battery) -> its first shot's time
    t = events["t_s"]
    for i in np.flatnonzero(mask & (events["kind"] == "fire")):
        by = (int(events["run"][i]), _s(events["actor"][i]))
        shots[by] = min(shots.get(by, np.inf), float(t[i]))
    seen: dict[tuple[str, str, str], set] = {}
    after: dict[tuple[str, str, str], set] = {}
    for i in np.flatnonzero(mask & np.isin(events["kind"], ("no-fire", "hold"))):
        why = _s(reason[i]) or _s(detail[i]) or "no reason given"
        bat, run = _s(events["actor"][i]) or "—", int(events["run"][i])
        key = (_s(events["kind"][i]), bat, why)
        seen.setdefault(key, set()).add(run)
        if shots.get((run, bat), np.inf) <= float(t[i]):
            after.setdefault(key, set()).add(run)
    rows = [(k, b, r, len(runs), len(after.get((k, b, r), ()))) for (k, b, r), runs in seen.items()]
    return sorted(rows, key=lambda x: (-x[3], x[0], x[1], x[2]))


def _reasons_table(rows, runs: int, title: str) -> Table:
    t = Table(title=title)
    shot = any(r[4] for r in rows)  # a column only where some row came after the battery's own shot
    cols: tuple[tuple[str, JustifyMethod], ...] = (("event", "left"), ("battery", "left"), ("reason", "left"),
                                                   ("runs", "right"), ("share", "right"))
    for col, just in cols + ((("of them after its shot", "right"),) if shot else ()):
        t.add_column(col, justify=just)
    for kind, bat, why, n, n_after in rows:
        t.add_row(kind, bat, why, str(n), f"{n / runs:.0%}", *((str(n_after),) if shot else ()))
    return t


def _print_no_fire(summary: dict, events: dict | None) -> None:
    """Why, when no battery fired in any run (``events``: the no-fire and hold rows; None
    where a battery fired)."""
    if events is None or summary.get("mean_interceptors_fired", 0) > 0:
        return
    runs = int(summary["runs"])
    _print_line(Text("no battery fired in any run", style="bold"))
    rows = [r for r in _reason_counts(events, np.ones(len(events["run"]), bool)) if r[0] == "no-fire"] \
        if events else []
    if not rows:  # the summary's per-threat fractions, if the event log has none
        agg: Counter[str] = Counter()
        for row in summary["per_threat"]:
            for why, frac in (row.get("no_fire") or {}).items():
                agg[why] = max(agg[why], float(frac))  # type: ignore[assignment]  # a Counter of fractions
        if agg:
            for why, frac in agg.most_common():
                _print_line(f"  {why}: up to {frac:.0%} of runs for a threat")
        else:
            _print_line("  the results give no reason (no sensor track reached a battery that could engage)")
        return
    _print_table(_reasons_table(rows, runs, "why no battery fired"))


def _refuse_a_salvo(members, name: str, noun: str) -> None:
    """An ``--explain`` of a salvo's entry name (an entry of count N is N ``noun``, named
    NAME#1 .. NAME#N, each with the entry's name as its ``group``): refused, naming them."""
    salvo = [x.name for x in members if x.group == name and x.name != name]
    if salvo:
        raise InputError(f"{name!r} is a salvo of {len(salvo)} {noun}: name one, {salvo[0]} .. {salvo[-1]}",
                         field="--explain")


def _check_threat(world, name: str) -> None:
    names = [t.name for t in world.threats]
    _refuse_a_salvo(world.threats, name, "threats")
    if name not in names:
        raise InputError(f"no threat {name!r} in {world.scenario.name}; threats: {', '.join(names)}",
                         field="--explain")


@dataclass(frozen=True)
class _Shown:
    """The rows of a run's tables that its printout reads (a stored run's tables are not
    loaded whole): the no-fire and hold rows where no battery fired, one threat's events
    and outcomes for ``--explain``, and run 0's events for ``--timeline``."""

    reasons: dict | None
    explain_events: dict
    explain_outcomes: dict
    timeline: dict

    @classmethod
    def of(cls, res, explain: str | None, timeline: bool) -> _Shown:
        fired = res.summary.get("mean_interceptors_fired", 0) > 0 \
            or any(p["kind"].size for p in res.table("events", ("kind",), where={"kind": ("fire",)}))
        reasons = None if fired else res.read("events", where={"kind": ("no-fire", "hold")})
        mine = {"threat": (explain,)}
        return cls(reasons, res.read("events", where=mine) if explain else {},
                   res.read("outcomes", where=mine) if explain else {},
                   res.read("events", where={"run": (0,)}) if timeline else {})


def _print_explain(name: str, summary: dict, ev: dict, oc: dict, scene_run: int = 0, epoch=None) -> None:
    """One threat's story: the timeline of run ``scene_run`` (``--scene-run``, the scene's and
    the report's; the first run it appears in where it has no events there), then counts over
    all runs (``ev``, ``oc``: its event and outcome rows)."""
    runs = int(summary["runs"])
    if not ev:
        ev = {"run": np.zeros(0, int), "threat": np.zeros(0, object)}
    mine = ev["threat"] == name
    first = (scene_run if (mine & (ev["run"] == scene_run)).any() else
             int(ev["run"][mine].min()) if mine.any() else None)
    missile = next((str(r["missile"]) for r in summary["per_threat"] if r["threat"] == name), "")
    _print_line(Text.assemble((name, "bold"), f" ({missile})" if missile else ""))
    if first is None:
        _print_line("no events for this threat in any run")
    else:
        _print_timeline(ev, run=first, limit=200, threat=name, title=f"{name}: timeline of run {first}", epoch=epoch)
    rows = oc["threat"] == name
    counts = Counter(str(x) for x in oc["outcome"][rows])
    line = ", ".join(f"{k} {counts.get(k, 0)} ({counts.get(k, 0) / runs:.0%})"
                     for k in ("intercepted", "leaked", "airborne"))
    _print_line(f"over {_plural(runs, 'run')}: {line}")
    fired = oc["interceptors_fired"][rows]
    _print_line(f"interceptors fired at it: {int(fired.sum())} in all, in {int((fired > 0).sum())} of {runs} runs")
    if "intercepted_by" in oc:
        by = Counter(str(b) for b, o in zip(oc["intercepted_by"][rows], oc["outcome"][rows])
                     if o == "intercepted" and b is not None)
        if by:
            _print_line("intercepted by: " + ", ".join(f"{b} {n}" for b, n in by.most_common()))
    reasons = _reason_counts(ev, mine)
    if reasons:
        _print_table(_reasons_table(reasons, runs, f"{name}: no-fire and hold reasons per battery"))
    elif not (fired > 0).any():
        _print_line("no battery fired at it in any run, and the event log gives no reason")


def _run_summary_note(runs: int, half_width: float) -> str:
    return f"--half-width {half_width:g}: {runs:,} runs (95 % Wilson interval at its widest, p = 0.5)"
