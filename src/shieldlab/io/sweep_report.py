"""The report of a sweep as one self-contained HTML page (``DIR/report.html``).

It holds what was swept (the scenario, each ``--set`` field and its values, the runs per
point, the seed), a table of every point's headline figures with their 95 % intervals, and a
chart of each headline figure against the first swept field, one line per combination of the
other fields' values, with the intervals as error bars; where the points have tracks, their
track quality (:data:`QUALITY`: GOSPA, position and velocity errors, the first firm track, and
under ``gnn`` false tracks, breaks and purity) per point and system, tabled and charted the same
way.  The figures are the points' ``summary.json`` (the same numbers ``points.parquet`` and
``point_quality.parquet`` hold); like the run's report it carries no clock time, so the same
sweep gives the same bytes.
"""

from __future__ import annotations

import html
import itertools
import json

import numpy as np

from shieldlab.io.report import _CSS, _figure, _png, _table, plt

__all__ = ["build", "METRICS", "QUALITY"]

#: The figures charted: (summary key, its interval's key, label, clip below, clip above).
METRICS = (
    ("mean_leakers", "mean_leakers_ci95", "mean leakers per raid", 0.0, None),
    ("p_no_leaker", "p_no_leaker_ci95", "P(no leaker)", 0.0, 1.0),
    ("mean_interceptors_fired", "mean_interceptors_fired_ci95", "mean interceptors fired per raid", 0.0, None),
    ("mean_assets_hit", "mean_assets_hit_ci95", "mean hits on defended assets per raid", 0.0, None),
)
#: Charted too where the defended assets differ in value (as the run table shows it).
VALUE_LOST = ("mean_value_lost", "mean_value_lost_ci95", "mean value lost", 0.0, None)
#: Track-quality figures of each point's systems, tabled and charted where a point has them:
#: (summary key, label, digits, scale), labelled and scaled as the run's report tables them.
QUALITY = (
    ("gospa_m", "GOSPA [km]", 2, 1e-3),
    ("position_rmse_m", "position RMSE [m]", 0, 1.0),
    ("velocity_rmse_ms", "velocity RMSE [m/s]", 1, 1.0),
    ("mean_nees", "NEES", 1, 1.0),
    ("nees_over_99", "NEES > χ² 99 % [%]", 1, 100.0),
    ("median_time_to_firm_track_s", "time to firm track [s]", 0, 1.0),
    ("false_tracks_per_hour", "false tracks per hour", 1, 1.0),
    ("track_breaks", "breaks per run", 1, 1.0),
    ("purity", "purity [%]", 1, 100.0),
)


def shown(value) -> str:
    """A swept value as the tables and the report print it (``null`` for None)."""
    return "null" if value is None else str(value)


def _distinct(values: list) -> list:
    """``values`` without repeats, in the order they first come."""
    out: list = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def _numeric(values) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _interval(row: dict, key: str) -> tuple[float, float] | None:
    ci = row.get(key)
    if not ci or ci[0] is None or ci[1] is None:
        return None
    return float(ci[0]), float(ci[1])


#: The heading of a point's leakers against point 0's, raid by raid (:func:`paired_text`).
PAIRED_HEADING = "leakers vs point 0, raid by raid (raids fewer / more)"
#: What that column is.
PAIRED_NOTE = ("leakers vs point 0: the mean over runs of a raid's leakers at the point less the same run's at "
               "point 0 (the same seed), with its 95 % Student t interval, and the raids with fewer and with more "
               "leakers; where every raid came out alike, '0 in every raid' with the exact bound of a bounded mean "
               "(a share of raids up to the Clopper-Pearson bound for 0 of n could differ, each by at most the "
               "raid's threats). On the same raids it tells a difference far smaller than the two points' own "
               "intervals can")


def paired_text(r: dict) -> str:
    """A point's leakers against point 0's, raid by raid (:meth:`~shieldlab.io.dataset.Sweep.paired`'s
    keys in ``r``): ``−0.09 (−0.17 to −0.02) · 6 / 0``; ``—`` for point 0."""
    mean = r.get("leakers_vs_point0")
    if mean is None:
        return "—"
    ci = r.get("leakers_vs_point0_ci95")
    if r.get("leakers_alike_in_every_raid") and ci:  # said, the exact bound beside it (as compare does)
        return f"0 in every raid (bound ±{ci[1]:.2f})"
    text = f"{mean:+.2f}" + (f" ({ci[0]:+.2f} to {ci[1]:+.2f})" if ci else " (one run)")
    return (text + f" · {r.get('raids_fewer_leakers')} / {r.get('raids_more_leakers')}").replace("-", "−")


def alike_points(rows: list[dict], fields: dict[str, str]) -> str | None:
    """A line naming the sweep's points that came out alike in every mean and probability of
    its summary (leakers, interceptors, assets hit, each threat's P(intercept) and interceptors,
    the track quality), and the settings that differ between them: a swept value that changed
    nothing in these runs (a battery's rounds beyond what it ever fires) read as a finding; None
    where every point differs (``fields``: each swept column's field as given).  The intervals
    are left out: a setting can move their bounds with no run changed (a battery's rounds cap
    the interceptor counts' interval, :mod:`shieldlab.outcome.caps`)."""
    from shieldlab.io.dataset import HEADLINE

    def points(d: dict) -> dict:
        return {k: (points(v) if isinstance(v, dict) else v) for k, v in d.items() if not k.endswith("_ci95")}

    def fingerprint(r: dict) -> str:
        per = [(t.get("threat"), t.get("p_intercept"), t.get("mean_interceptors")) for t in r.get("per_threat") or []]
        return json.dumps([[r.get(k) for k in HEADLINE if not k.endswith("_ci95")], per,
                           points(r.get("track_quality") or {})], sort_keys=True, default=str)

    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(fingerprint(r), []).append(r)
    said = []
    for g in groups.values():
        if len(g) < 2:
            continue
        moved = [c for c in fields if len({json.dumps(r["set"][c], default=str) for r in g}) > 1]
        said.append(f"points {', '.join(str(r['point']) for r in g)} ("
                    + "; ".join(f"{fields[c]} = {', '.join(str(shown(r['set'][c])) for r in g)}" for c in moved) + ")")
    if not said:
        return None
    return ("alike in every mean and probability of their summaries: " + "; ".join(said)
            + ": what differs between them changed nothing in these runs")


def _named(setting: dict) -> str:
    """A swept field as a chart names it: with its list items' names (``batteries[0] (de-1).rounds``)
    where the sweep recorded them, else as given, else its column."""
    return str(setting.get("named") or setting.get("field") or setting["column"])


def _chart(settings: list[dict], rows: list[dict], key: str, ci_key: str, label: str, lo_clip, hi_clip) -> str:
    """``key`` against the first swept field, a line per combination of the others."""
    first, others = settings[0], settings[1:]
    xs_all = list(first["values"])
    numeric = _numeric(xs_all)
    fig, ax = plt.subplots(figsize=(7.0, 3.8), layout="constrained")
    combos = list(itertools.product(*[s["values"] for s in others])) or [()]
    # each line a little aside from the others, so that equal ones do not hide each other
    span = (max(float(v) for v in xs_all) - min(float(v) for v in xs_all) or 1.0) if numeric else 1.0
    step = (0.012 if numeric else 0.06) * span
    for n, combo in enumerate(combos):
        sel = [r for r in rows if all(r["set"][s["column"]] == v for s, v in zip(others, combo, strict=True))]
        sel.sort(key=lambda r: xs_all.index(r["set"][first["column"]]))
        x = [r["set"][first["column"]] for r in sel]
        xp = (np.array(x, float) if numeric else np.array([xs_all.index(v) for v in x], float)) \
            + step * (n - 0.5 * (len(combos) - 1))
        y = np.array([np.nan if r.get(key) is None else float(r[key]) for r in sel])
        if np.isnan(y).all():  # no point of this line has the figure (a track file's, under labels): no line
            continue
        cis = [_interval(r, ci_key) for r in sel]
        lo = np.array([y[i] - c[0] if c else 0.0 for i, c in enumerate(cis)])
        hi = np.array([c[1] - y[i] if c else 0.0 for i, c in enumerate(cis)])
        if lo_clip is not None:
            lo = np.minimum(lo, y - lo_clip)
        if hi_clip is not None:
            hi = np.minimum(hi, hi_clip - y)
        # (named as the sweep's --set spelled them: doctrine.salvo, not its column doctrine_salvo)
        name = ", ".join(f"{_named(s)} = {shown(v)}"
                         for s, v in zip(others, combo, strict=True)) or None
        # values that are no numbers (names, dates) are categories: nothing lies between them to draw
        ax.errorbar(xp, y, yerr=[np.maximum(lo, 0.0), np.maximum(hi, 0.0)], marker="o", capsize=3, label=name,
                    linestyle="-" if numeric else "none")
    # the axis spans what the figure can be (a probability 0 to 1, a count from 0): a scale fitted
    # to the points makes a difference well inside their intervals look like a steep climb
    if lo_clip is not None:
        top = hi_clip if hi_clip is not None else max(ax.get_ylim()[1], lo_clip + 1e-9)
        pad = 0.03 * (top - lo_clip)  # the markers and bars at the bounds drawn whole
        ax.set_ylim(lo_clip - pad, top + pad)
    if not numeric:
        ax.set_xticks(range(len(xs_all)), [shown(v) for v in xs_all])
        ax.set_xlim(-0.5, len(xs_all) - 0.5)  # room for the lines set aside at the first and last
    elif len(xs_all) <= 12:
        ax.set_xticks([float(v) for v in xs_all], [str(v) for v in xs_all])
    ax.set_xlabel(_named(first))
    ax.set_ylabel(label)
    if any(len(s["values"]) > 1 for s in others):
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def build(manifest: dict, rows: list[dict]) -> str:
    """The page of a finished sweep: its manifest (``sweep.json``) and its points' summaries."""
    from shieldlab import __version__

    settings = manifest["settings"]
    # each swept column's values as its points hold them (an epoch in one spelling, a mixed
    # column's numbers as text), in the order of the points: what the charts match rows by
    # (the manifest keeps them as they were given)
    held = [dict(s, values=_distinct([r["set"][s["column"]] for r in rows])) for s in settings]
    from shieldlab.engine.sweep import common_draws_note
    from shieldlab.io.dataset import Sweep

    name = Sweep.title(rows, str(manifest["scenario"]).removeprefix("preset "))
    # (the sweep's own finding of whether its points dealt the draws alike, where it made one)
    draws = common_draws_note([str(s.get("field") or s["column"]) for s in settings],
                              manifest.get("common_random_numbers"))
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(str(name))} sweep — "
             f"shieldlab report</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(str(name))}: a sweep</h1>",
             f"<p class='meta'>{len(rows)} points × {manifest['runs']:,} Monte Carlo runs, seed {manifest['seed']} · "
             f"scenario {html.escape(str(manifest['scenario']))} · shieldlab {__version__}</p>",
             "<h2>What was swept</h2>",
             _table(["field", "column", "values"],
                    [[s["field"], s["column"], ", ".join(shown(v) for v in s["values"])] for s in settings]),
             f"<p class='meta'>{html.escape(draws)}"
             "</p>", "<h2>Each point</h2>"]
    alike = alike_points(rows, {s["column"]: str(s.get("field") or s["column"]) for s in settings})
    if alike:  # (as under the command's table: a swept value that changed nothing is no finding)
        parts.append(f"<p class='meta'>{html.escape(alike[0].upper() + alike[1:])}.</p>")

    def cell(r, key, ci_key, digits=2):
        v = r.get(key)
        if v is None:
            return "—"
        ci = _interval(r, ci_key)
        return f"{v:.{digits}f}" + (f" ({ci[0]:.{digits}f}–{ci[1]:.{digits}f})" if ci else "")

    metrics = METRICS + ((VALUE_LOST,) if any(r.get("mean_value_lost") != r.get("mean_assets_hit") for r in rows)
                         else ())
    paired = len(rows) > 1
    parts.append(_table(["point", *[s["column"] for s in settings], *[m[2] for m in metrics]]
                        + ([PAIRED_HEADING] if paired else []),
                        [[str(r["point"]), *[shown(r["set"][s["column"]]) for s in settings],
                          *[cell(r, m[0], m[1]) for m in metrics]] + ([paired_text(r)] if paired else [])
                         for r in rows]))
    if paired:
        parts.append(f"<p class='meta'>{html.escape(PAIRED_NOTE)}</p>")
    parts.append("<h2>Against the swept values</h2>")
    for key, ci_key, label, lo, hi in metrics:
        if all(r.get(key) is None for r in rows):
            continue
        uri = _chart(held, rows, key, ci_key, label, lo, hi)
        parts.append(_figure(uri, f"{label} against {_named(settings[0])} "
                                  "(95 % intervals as bars)",
                             f"{label} against the swept values"))
    parts += _quality(held, rows)
    parts.append("<p class='meta'>The same numbers are in points.parquet (and the track quality in "
                 "point_quality.parquet); <code>shieldlab query DIR \"select * from points\"</code> answers SQL "
                 "over them and over every run's outcomes, events and track quality.</p>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _points(numbers: list) -> str:
    """``point 3`` or ``points 0, 1``."""
    return ("point " if len(numbers) == 1 else "points ") + ", ".join(map(str, numbers))


def _quality(held: list[dict], rows: list[dict]) -> list[str]:
    """The track-quality section: a row per point and system (C2 node picture) of the
    :data:`QUALITY` figures any point has, and a chart of each against the first swept field
    (systems as more lines where there are several); a note where the points score their
    tracks in different ways (a sweep over the association).  Nothing where no point has tracks."""

    def scaled(q: dict) -> dict:
        out = dict(q)
        for key, _, _, x in QUALITY:
            if q.get(key) is not None:
                out[key] = q[key] * x
                ci = _interval(q, key + "_ci95")
                out[key + "_ci95"] = None if ci is None else [ci[0] * x, ci[1] * x]
        return out

    flat = [dict(scaled(q), point=r["point"], set=dict(r["set"], system=name))
            for r in rows for name, q in sorted((r.get("track_quality") or {}).items())]
    if not flat:
        return []
    systems = _distinct([f["set"]["system"] for f in flat])
    keys = [m for m in QUALITY if any(f.get(m[0]) is not None for f in flat)]
    settings = held + ([{"column": "system", "values": systems}] if len(systems) > 1 else [])
    head = ["point", *[s["column"] for s in held], *(["system"] if len(systems) > 1 else []), *[m[1] for m in keys]]

    def cell(f, key, digits):
        v = f.get(key)
        if v is None:
            return "—"
        ci = _interval(f, key + "_ci95")
        return f"{v:,.{digits}f}" + (f" ({ci[0]:,.{digits}f}–{ci[1]:,.{digits}f})" if ci else "")

    parts = ["<h2>Track quality</h2>",
             "<p class='meta'>Per point and system, the mean over runs with its 95 % interval (the figures of each "
             "point's summary.json, <code>track_quality</code>; how they are scored is its "
             "<code>track_quality_method</code>).</p>"]
    # a sweep over the association scores two ways: GOSPA against the threats (labels) or against
    # every object in the air, boosters too (a track file): said, so the two are not compared blind
    methods = _distinct([r.get("track_quality_method") for r in rows if r.get("track_quality")])
    if len(methods) > 1:
        parts.append("<p class='meta'>The points score their tracks in " + str(len(methods)) + " ways, so their "
                     "figures are not all alike: " + "; ".join(
                         f"{_points([r['point'] for r in rows if r.get('track_quality_method') == m])}: "
                         f"{html.escape(str(m))}" for m in methods) + ".</p>")
    parts.append(_table(head, [[str(f["point"]), *[shown(f["set"][s["column"]]) for s in settings], *[
        cell(f, k, d) for k, _, d, _ in keys]] for f in flat]))
    for key, label, _, _ in keys:
        # purity, a share near 100 %, on its whole scale; the share of NEES above the 99 % point,
        # ~0.1 %, on its own (on 0-100 it lay flat on zero, its bars unseen)
        top = 100.0 if key == "purity" else None
        uri = _chart(settings, flat, key, key + "_ci95", label, 0.0, top)
        # (the chart itself, read alone, did not say that its points were scored two ways)
        apart = " — the points score their tracks in different ways (above): not one measure" if len(methods) > 1 \
            else ""
        parts.append(_figure(uri, f"{label} against {_named(held[0])} "
                                  f"(95 % intervals as bars){apart}",
                             f"{label} against the swept values"))
    return parts
