"""A run's report as one self-contained HTML page: ``DIR/report.html``.

It opens from disk with no server and nothing fetched: styles inline, every chart and map
a PNG embedded as a ``data:`` URI.  Sections: the scenario and the question it asks, the
summary with its 95 % intervals, each threat's fate, track quality, charts (leakers per
run, interceptors spent per run, the engagement timeline of the scene's run), maps (the
scene's run over the ground, each radar's coverage, and the defended footprint where it
was computed), and the source of every catalogue figure the scenario uses.
"""

from __future__ import annotations

import base64
import html
import io
import math
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from shieldlab.analysis.maps import plain_text_figures

plain_text_figures()  # the Agg backend, every text as written (a "$" in a name is no TeX)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from shieldlab import earth  # noqa: E402

_CSS = """
body{font:14px/1.5 system-ui,-apple-system,Segoe UI,sans-serif;color:#1d2128;max-width:1100px;margin:24px auto;
padding:0 16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #dde;padding-bottom:4px}
.meta{color:#667}.question{font-size:16px;background:#f4f6fa;border-left:4px solid #5b7db1;padding:8px 12px}
table{border-collapse:collapse;margin:8px 0}table.many{font-size:13px}
th,td{padding:4px 8px;border-bottom:1px solid #e4e6ea;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f4f6fa;font-weight:600}
figure{margin:12px 0}figure img{max-width:100%;border:1px solid #e4e6ea}figcaption{color:#556;font-size:13px}
.sources td{text-align:left;vertical-align:top;font-size:13px}
.sources td:nth-child(-n+3){white-space:nowrap}.sources th{text-align:left}.ok{color:#1e8449}.bad{color:#c0392b}
"""


def _setting_text(v) -> str:
    """A summary setting as the header shows it: numbers as written in a scenario, a mapping
    (each radar's false alarms per search frame) as ``name value`` pairs."""
    if isinstance(v, dict):
        return "(" + ", ".join(f"{k} {_setting_text(x)}" for k, x in v.items()) + ")"
    if isinstance(v, float):
        # a value as written (0.9999, a gate probability) in full; a computed one (a radar's
        # false alarms per frame) to three figures
        short = f"{v:.6g}"
        return short if float(short) == v else f"{v:.3g}"
    return str(v)


def set_meta(summary: dict) -> str:
    """The fields set on the command line (``shieldlab run --set``), for a report's header line:
    `` · set field = value`` each (HTML); "" without."""
    return "".join(f" · set {html.escape(k)} = {html.escape(_setting_text(v))}"
                   for k, v in (summary.get("set") or {}).items())


def _halo():
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=2.0, foreground="white")]


_HALO = _halo()


def in_frame(ax, handles=None, labels=None) -> tuple[list, list]:
    """The legend entries of ``ax`` (its own, or ``handles`` and ``labels``) whose artist shows
    inside the axes' limits: a line with a vertex there or a segment across them, points or a
    patch there.  A proxy (a marker key drawn elsewhere, on no axes) is kept; an artist on the
    axes with no data is not.  A legend
    listed a radar's circle that lay wholly outside a close-up, and an aim point off the plot."""
    from matplotlib.collections import PathCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    assert labels is not None
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())

    def shows(xy: np.ndarray) -> bool:
        xy = xy[np.isfinite(xy).all(axis=1)]
        if xy.size == 0:
            return False
        inside = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
        if inside.any():
            return True
        # a segment across the frame with both ends outside: sample it (a circle's 2-degree
        # chords, a sector's long sides)
        a, b = xy[:-1], xy[1:]
        f = np.linspace(0.0, 1.0, 33)[None, :, None]
        mid = (a[:, None, :] * (1 - f) + b[:, None, :] * f).reshape(-1, 2)
        return bool(((mid[:, 0] >= x0) & (mid[:, 0] <= x1) & (mid[:, 1] >= y0) & (mid[:, 1] <= y1)).any())

    keep_h, keep_l = [], []
    for h, lab in zip(handles, labels, strict=True):
        # a proxy (a key for markers drawn elsewhere) is on no axes: kept; a line or points
        # drawn on the axes with nothing in them (a radar that located no round) name nothing
        if isinstance(h, Line2D):
            xy = np.column_stack([np.asarray(h.get_xdata(), float), np.asarray(h.get_ydata(), float)])
            ok = h.axes is None if xy.size == 0 else shows(xy)
        elif isinstance(h, PathCollection):
            off = np.asarray(h.get_offsets(), float).reshape(-1, 2)
            ok = h.axes is None if off.size == 0 else shows(off)
        elif isinstance(h, Patch):
            try:  # in data coordinates (a proxy patch has no place: kept)
                v = np.asarray(h.get_path().transformed(h.get_patch_transform()).vertices, float).reshape(-1, 2)
            except NotImplementedError:
                v = np.empty((0, 2))
            ok = v.size == 0 or h.axes is None or shows(v)
        else:
            ok = True
        if ok:
            keep_h.append(h)
            keep_l.append(lab)
    return keep_h, keep_l


def map_aspect(lon0: float, lon1: float, lat0: float, lat1: float) -> float:
    """Height over width of a local plate carrée map of that box [deg]: a degree of longitude
    drawn as long as it is at the box's middle latitude, so the map's frame follows the ground."""
    return (lat1 - lat0) / max((lon1 - lon0) * math.cos(math.radians(0.5 * (lat0 + lat1))), 1e-6)


def _png(fig, trim: bool = False) -> str:
    """``fig`` as a PNG data URI (``trim``: the page cut to what is drawn on it, a small margin
    kept: a map of fixed aspect with its legend beside it leaves slack on one side)."""
    buf = io.BytesIO()
    # the figures lay themselves out (constrained): one draw
    fig.savefig(buf, format="png", dpi=100, **({"bbox_inches": "tight", "pad_inches": 0.1} if trim else {}))
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _file_png(draw) -> str:
    """``draw(path)`` writes a PNG; its bytes as a data URI."""
    with tempfile.TemporaryDirectory(prefix="shieldlab-report-") as d:
        p = Path(d) / "map.png"
        draw(p)
        return "data:image/png;base64," + base64.b64encode(p.read_bytes()).decode("ascii")


#: The opening of a report page's closing line ("Made by shieldlab ..."): a picture's sections
#: appended to the page (:func:`with_sections`) go before it.
FOOTER = "<p class='meta footer'>"


def with_sections(page: str, body: str) -> str:
    """Report ``page`` with ``body`` (another picture's sections) before its closing line, or
    before its end where it has none."""
    at = page.find(FOOTER)
    if at < 0:
        at = page.rindex("</body></html>")
    return page[:at] + body + page[at:]


#: A map's sources, at the end of its caption: the borders drawn and the places named.
MAP_SOURCES = " Borders: Natural Earth (public domain); places: GeoNames (CC BY 4.0)."


def _figure(uri: str, caption: str, alt: str) -> str:
    return (f'<figure><img src="{uri}" alt="{html.escape(alt)}"><figcaption>{html.escape(caption)}'
            f"</figcaption></figure>")


def _scaled(summary: dict, key: str, factor: float) -> dict:
    """``key`` and its interval of ``summary`` times ``factor`` (a share in per cent, metres
    in kilometres), for :func:`_ci`."""
    v, ci = summary.get(key), summary.get(f"{key}_ci95")
    return {key: None if v is None else factor * v,
            f"{key}_ci95": None if ci is None else [None if x is None else factor * x for x in ci]}


def intervals_note(summary: dict) -> str:
    """The report's line naming the intervals' methods (summary.json's ``interval`` and
    ``interval_means``), each after what it bounds: the means' method is a long text that ends
    in a clause of its own, so "... for means" after it read as part of that clause."""
    return (f"<p class='meta'>Intervals of probabilities: {html.escape(str(summary.get('interval', '')))}. "
            f"Intervals of means: {html.escape(str(summary.get('interval_means', '')))}.</p>")


def _ci(summary: dict, key: str, digits: int = 2) -> str:
    v, ci = summary.get(key), summary.get(f"{key}_ci95")
    if v is None:
        return "—"
    text = f"{v:.{digits}f}"
    if ci and all(x is not None for x in ci):
        text += f" ({ci[0]:.{digits}f}–{ci[1]:.{digits}f})"
    return text


def _early_warning_section(summary: dict) -> list[str]:
    """The launch reports where the scenario has early-warning satellites (``summary.json``'s
    ``launch_reports``): who brought them (each satellite, each link that passed them on), the
    share of the launches reported and when."""
    rows = summary.get("launch_reports") or []
    if not rows:
        return []

    def when(r) -> list[str]:
        if not r.get("share_of_launches"):
            return ["—", "—"]
        return [f"{r['median_s_after_launch']:.0f}", f"{r['p10_s_after_launch']:.0f}–{r['p90_s_after_launch']:.0f}"]

    alert = "" if summary.get("launch_report_alert", True) else " They cue the radars only " \
        "(doctrine.launch_report_alert: false): no battery prepares before its decision."
    return ["<h2>Early warning</h2>",
            _table(["launch reports from", "share of the launches", "median [s after launch]", "10–90 % [s]"],
                   [[r["source"] if r["via"] == "satellite" else f"the link {r['source']}",
                     f"{r['share_of_launches']:.0%}" if r.get("share_of_launches") is not None else "—", *when(r)]
                    for r in rows]),
            "<p class='meta'>A satellite's report cues its node's radars and alerts its batteries; under "
            "coordinated and sectoral its node's links pass it on." + alert + "</p>"]


def _c2_section(world) -> list[str]:
    """The C2 laydown where there is more than one node: the architecture, each node's side,
    sensors and batteries (and whether it has a sector), and each link's content (tracks and
    status, launch reports), latency, message interval, capacity and loss — what the run map
    shows only as sites and outlines."""
    nodes = list(getattr(world, "nodes", ()))
    if len(nodes) < 2:
        return []
    sectors = any(nd.sector is not None for nd in nodes)
    unenforced = " (sectors drawn, not enforced)" if sectors and world.architecture != "sectoral" else ""
    # a node's early-warning satellites: their launch reports cue its radars (every node's under
    # integrated) and, coordinated or sectoral, pass over its links
    sats = {nd.name: ", ".join(s.name for s in getattr(world, "early_warning", ()) if s.system == nd.name) or "—"
            for nd in nodes}
    out = ["<h2>Command and control</h2>",
           f"<p class='meta'>Architecture: {html.escape(str(world.architecture))}{unenforced}.</p>",
           _table(["node", "side", "sensors", "satellites", "batteries", "sector"],
                  [[nd.name, nd.side, ", ".join(world.sensors[i].radar.name for i in nd.sensors) or "—",
                    sats[nd.name], ", ".join(world.batteries[i].name for i in nd.batteries) or "—",
                    "yes" if nd.sector is not None else "—"] for nd in nodes])]
    links = list(getattr(world, "links", ()))
    if links:
        def carries(lk) -> str:
            return ", ".join(x for x, on in (("tracks and status", getattr(lk, "tracks", True)),
                                             ("launch reports", getattr(lk, "launch_reports", True))) if on)

        out.append(_table(["link", "carries", "latency [s]", "message every [s]", "capacity [tracks/s]", "loss"],
                          [[f"{lk.source} → {lk.target}", carries(lk), f"{lk.latency:g}", f"{lk.period:g}",
                            "unlimited" if math.isinf(lk.capacity) else f"{lk.capacity:g}", f"{lk.loss:.0%}"]
                           for lk in links]))
    return out


#: Columns from which a report's table is set in a smaller type.
MANY_COLUMNS = 12


def _table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    # (a table of a dozen columns or more in a smaller type: the page's column held the
    # shelling's fourteen at 1,140 px of its 1,100)
    cls = f"{cls} many".strip() if len(head) >= MANY_COLUMNS else cls
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


#: The outcome columns :func:`per_run` reads.
PER_RUN_COLUMNS = ("run", "outcome", "interceptors_fired")


def per_run(outcomes, runs: int, false_fires=()) -> tuple[np.ndarray, np.ndarray]:
    """Leakers and interceptors fired in each run (runs,), from the outcome table (columns,
    or an iterable of pieces of it: a stored run's chunks, read one at a time), and the
    event log's ``fire`` rows at false tracks (``false_fires``, pieces with ``run`` and
    ``rounds``: rounds no threat's row counts), as the summary's ``mean_interceptors_fired``
    counts every round.  A leaker is a threat whose outcome is ``leaked``, as in the
    summary's ``mean_leakers``: one still airborne when the simulated time ends is neither
    intercepted nor a leaker."""
    leakers, fired = np.zeros(runs), np.zeros(runs)
    for part in [outcomes] if isinstance(outcomes, dict) else outcomes:
        run = np.asarray(part["run"], np.int64)
        leaked = np.asarray(part["outcome"]) == "leaked"
        leakers += np.bincount(run, weights=leaked.astype(float), minlength=runs)
        fired += np.bincount(run, weights=np.asarray(part["interceptors_fired"], float), minlength=runs)
    for part in [false_fires] if isinstance(false_fires, dict) else false_fires:
        fired += np.bincount(np.asarray(part["run"], np.int64), weights=np.asarray(part["rounds"], float),
                             minlength=runs)
    return leakers, fired


def _histogram(values: np.ndarray, xlabel: str, colour: str) -> str:
    fig, ax = plt.subplots(figsize=(5.2, 3.0), layout="constrained")
    top = int(np.max(values, initial=0))
    ax.hist(values, bins=list(np.arange(-0.5, top + 1.5, 1.0)), color=colour, edgecolor="white")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("runs")
    ax.axvline(float(np.mean(values)), color="#1d2128", lw=1, ls="--", label=f"mean {np.mean(values):.2f}")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def _running_mean(values: np.ndarray, ylabel: str, colour: str, upper: float = np.inf) -> str:
    """The mean of ``values`` over the first n runs against n, with its 95 % Student t band
    cut at 0 and ``upper`` (as the summary's): how the estimate settles as runs are added."""
    # scipy.special's quantile, as shieldlab.stats (importing scipy.stats takes ~0.7 s)
    from matplotlib.ticker import MaxNLocator
    from scipy.special import stdtrit

    from shieldlab.stats import clopper_pearson_interval

    # the running form of shieldlab.stats.mean_interval (cumulative sums, one pass), cut at 0
    n = np.arange(1, values.size + 1, dtype=float)
    mean = np.cumsum(values) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.maximum(np.cumsum(values**2) - n * mean**2, 0.0) / (n - 1.0)
        half = stdtrit(n - 1.0, 0.975) * np.sqrt(var / n)
    band = np.column_stack([mean, np.maximum(mean - half, 0.0), np.minimum(mean + half, upper)])
    # while the runs so far are all alike the t interval is of no width: not a certain answer
    # (epaa-phase-1's first five runs read as settled); there, as the summary's, the exact
    # bound of a bounded mean (shieldlab.stats.mean_interval: a share u = 1 - (alpha/2)^(1/n)
    # of runs could differ, at worst on a bound), its mean dotted; without an upper bound, none
    spread = var > 0.0
    alike = ~spread & (n > 1)
    if np.isfinite(upper):
        u = clopper_pearson_interval(0.0, n)[1]  # (mean_interval's share: 1 - (alpha/2)^(1/n))
        band[alike, 1] = (mean - mean * u)[alike]
        band[alike, 2] = (mean + (upper - mean) * u)[alike]
    banded = spread | (alike & np.isfinite(upper))
    fig, ax = plt.subplots(figsize=(5.2, 3.4), layout="constrained")
    ax.fill_between(n, band[:, 1], band[:, 2], where=banded, color=colour, alpha=0.25, lw=0,
                    label="95 % interval")
    ax.plot(n, np.where(spread | np.roll(spread, -1), mean, np.nan), color=colour, lw=1.5,
            label="mean so far" if spread.any() else None)  # (no entry for a line not drawn)
    if (~spread).sum() > 1:  # (the first run alone has no interval either: joined to the rest)
        ax.plot(n, np.where(spread, np.nan, mean), color=colour, lw=1.5, ls=":",
                label=("runs all alike so far: the exact bound of a capped count" if np.isfinite(upper)
                       else "runs all alike so far: no interval yet"))
    ax.set_xlabel("runs")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # (a few runs had ticks at 1.5, 2.5)
    ax.set_ylabel(ylabel)
    # the axis for the settled part: the first few runs' wide bands are cut at the frame
    # (where there are more runs than those few: four runs' bands were cut whole)
    settled = band[min(4, len(band) - 1):] if len(band) > 8 else band
    top = float(np.nanmax(settled[:, 1:])) if np.isfinite(settled[:, 1:]).any() else float(mean.max())
    y1 = max(1.05 * top, 0.1)
    ax.set_ylim(0.0, y1)
    cut = np.flatnonzero(banded & (band[:, 2] > y1))
    if cut.size:  # said, not left for the reader to take the frame for the interval's end
        ax.annotate(f"↑ runs 1–{int(n[cut[-1]])}: interval above the frame", (n[cut[0]], y1), xytext=(4, -10),
                    textcoords="offset points", fontsize=7, color="#555555", va="top")
    # below the plot: inside, it sat on the band it names
    fig.legend(frameon=False, fontsize=8, loc="outside lower center", ncols=2)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


#: How a salvo's end is drawn on the ground map and the timeline: (marker, colour, legend).
_SHOT_ENDS = {"kill": ("*", "#1d2128", "kill"), "miss": ("x", "#1d2128", "miss"),
              "booster": ("X", "#95a5a6", "miss: at the spent booster"),
              "false track": ("+", "#95a5a6", "miss: at a false track")}


def _shot_end(eng, e: int, n_threats: int) -> str:
    """What salvo ``e`` ended in (a key of :data:`_SHOT_ENDS`): a kill, or a miss, told apart
    where it went at a threat's spent booster or a false track (tracks of reports without
    labels; no warhead was there to kill)."""
    if eng.killed[e]:
        return "kill"
    target = None if eng.target is None else int(eng.target[e])
    if target is None or 0 <= target < n_threats:
        return "miss"
    return "false track" if target < 0 else "booster"


def _timeline(world, chunk, c: int, rows) -> str:
    """Each threat's flight in run ``c`` (launch to its end, coloured by outcome) with the
    salvos fired at it (launch to intercept)."""
    from shieldlab.io.scene import COLOURS

    tr, eng = chunk.truth, chunk.engagements
    fig, ax = plt.subplots(figsize=(9.5, 0.9 + 0.42 * len(rows)), layout="constrained")
    for i, r in enumerate(rows):
        t0 = float(tr.launch_time[c, r.index])
        colour = np.array(COLOURS[r.outcome][:3]) / 255.0
        ax.barh(i, r.end_time - t0, left=t0, height=0.35, color=colour)
        # 3 points right of the launch: a flight launched at the axis's left end had its first
        # letter under the spine ("eaked on an asset"); hung from just under the bar (the axis
        # runs down the page), whose lower edge it had crossed
        ax.annotate(r.outcome, (t0, i + 0.19), xytext=(3, 0), textcoords="offset points", fontsize=7, va="top",
                    color="#334")
    owner = eng.owner(len(rows))  # the threat whose complex each salvo went at, -1: a false track
    legend: dict = {}  # what the marks mean (the ground map says it; the timeline did not)
    for e in np.flatnonzero(eng.run == c):
        n = int(owner[e])
        y = n if 0 <= n < len(rows) else -1
        if y < 0:
            continue
        t0, t1 = float(eng.launch_time[e]), float(eng.intercept_time[e])
        legend.setdefault("a salvo: launch to intercept",
                          ax.plot([t0, t1], [y - 0.28, y - 0.28], color="#5dade2", lw=2)[0])
        marker, ink, label = _SHOT_ENDS[_shot_end(eng, int(e), len(rows))]
        legend.setdefault(label, ax.plot([t1], [y - 0.28], marker=marker, color=ink, ms=8, ls="none")[0])
    ax.set_yticks(range(len(rows)), [r.name for r in rows], fontsize=8)
    ax.invert_yaxis()
    epoch = world.scenario.epoch
    ax.set_xlabel(f"seconds after the scenario's epoch, {epoch:%Y-%m-%d %H:%M} UTC (run {chunk.first_run + c}; "
                  "a bar: a threat's flight, from launch)")
    if legend:
        ax.legend(legend.values(), legend.keys(), loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                  fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


#: Legend places in the order matplotlib's ``loc="best"`` tries them.
_Corner = Literal["upper right", "upper left", "lower left", "lower right"]
_CORNERS: dict[_Corner, tuple[int, int]] = {"upper right": (1, 1), "upper left": (0, 1), "lower left": (0, 0),
                                           "lower right": (1, 0)}


def _quiet_corner(ax, drawn: Sequence[np.ndarray]) -> _Corner:
    """The corner of ``ax`` (a legend ``loc``) that the fewest of the ``drawn`` things reach
    into (each an (n, 2) array of its points in data coordinates: a ground track, a site), its
    outer 40 % each way; ties go to the fewer points, then matplotlib's order.  Things, not
    points: a corner with two sites was chosen over one a track's hundred vertices crossed,
    and the legend hid the sites and their labels, where over the track it would have hidden
    a stretch of a line drawn whole elsewhere.  (matplotlib's ``loc="best"`` also weighs
    every vertex of the base map's coasts and borders, which took ~0.6 s a map.)"""
    return min(_CORNERS, key=lambda k: _crowd(ax, k, drawn))  # ties: matplotlib's order


def _crowd(ax, corner: _Corner, drawn: Sequence[np.ndarray]) -> tuple[int, int]:
    """(things, points) of ``drawn`` in ``corner``'s outer 40 % of ``ax`` each way."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    right, top = _CORNERS[corner]
    counts = []
    for d in drawn:
        pts = np.asarray(d, float).reshape(-1, 2)
        u, v = (pts[:, 0] - x0) / (x1 - x0), (pts[:, 1] - y0) / (y1 - y0)
        near = (u > 0.6 if right else u < 0.4) & (v > 0.6 if top else v < 0.4)
        counts.append(int(np.count_nonzero(near)))
    return sum(n > 0 for n in counts), sum(counts)


def _reach_into(ax, corner: _Corner, drawn: Sequence[np.ndarray]) -> int:
    """How many of the ``drawn`` things reach into ``corner`` of ``ax`` (:func:`_crowd`)."""
    return _crowd(ax, corner, drawn)[0]


#: The end game gets a close-up map where its box spans at most this share of the run's map.
CLOSE_UP_SHARE = 0.12
#: The run's map reaches this far [deg] past its flights and sites each way.
_MAP_PAD_DEG = 2.0


def _run_frame(world, chunk, c: int, rows):
    """The run's map: each threat's ground track ``(lon, lat [deg], row)``, the defended assets
    drawn on it, the names of those far past it, and its box ``(lon0, lon1, lat0, lat1)``
    [deg] (the tracks, radars, batteries and near assets, :data:`_MAP_PAD_DEG` past them)."""
    tr = chunk.truth
    lats, lons = [], []
    tracks = []
    for r in rows:
        sel = (tr.t >= tr.launch_time[c, r.index]) & (tr.t <= r.end_time)
        la, lo, _ = earth.ecef_to_geodetic(tr.pos[c, r.index][sel])
        tracks.append((np.degrees(lo), np.degrees(la), r))
        lats += [np.degrees(la)]
        lons += [np.degrees(lo)]
    sites = [(math.degrees(s.radar.lat), math.degrees(s.radar.lon)) for s in world.sensors]
    sites += [(b.site.lat_deg, b.site.lon_deg) for b in world.batteries]
    core_lat = np.concatenate(lats + [np.array([s[0] for s in sites])])
    core_lon = np.concatenate(lons + [np.array([s[1] for s in sites])])
    # an asset far past the run's tracks and sites (New York, where the ICBMs were shot down over
    # Europe) is said in the title, not drawn: it had stretched the map over the Atlantic and
    # squeezed the fight into a strip
    span = max(float(np.ptp(core_lat)), float(np.ptp(core_lon)), 1.0)
    near = [a for a in world.assets
            if core_lat.min() - 0.5 * span <= a.site.lat_deg <= core_lat.max() + 0.5 * span
            and core_lon.min() - 0.5 * span <= a.site.lon_deg <= core_lon.max() + 0.5 * span]
    off = [a.name for a in world.assets if a not in near]
    all_lat = np.concatenate([core_lat, np.array([a.site.lat_deg for a in near])])
    all_lon = np.concatenate([core_lon, np.array([a.site.lon_deg for a in near])])
    pad = _MAP_PAD_DEG
    box = (float(all_lon.min()) - pad, float(all_lon.max()) + pad, max(float(all_lat.min()) - pad, -85.0),
           min(float(all_lat.max()) + pad, 85.0))
    return tracks, near, off, box


def _end_game_view(world, chunk, c: int, rows) -> tuple[float, float, float, float] | None:
    """``(lon0, lon1, lat0, lat1)`` [deg] round run ``c``'s end game (its intercept points and
    the batteries that fired), where that spans at most :data:`CLOSE_UP_SHARE` of the run's
    map (:func:`_run_frame`); else None.  A Patriot's kills and misses a few kilometres from
    its site had been drawn in a pile on its marker, on a map of the whole missile flight."""
    eng = chunk.engagements
    mine = np.flatnonzero((eng.run == c) & np.isfinite(eng.intercept_time))
    if mine.size == 0:
        return None
    la, lo, _ = earth.ecef_to_geodetic(np.asarray(eng.end_pos()[mine], float).reshape(-1, 3))
    lats = list(np.degrees(la)) + [world.batteries[int(b)].site.lat_deg for b in eng.battery[mine]]
    lons = list(np.degrees(lo)) + [world.batteries[int(b)].site.lon_deg for b in eng.battery[mine]]
    m0, m1, n0, n1 = _run_frame(world, chunk, c, rows)[3]
    whole = max(m1 - m0, n1 - n0)
    lat0, lat1, lon0, lon1 = min(lats), max(lats), min(lons), max(lons)
    pad = max(0.25 * max(lat1 - lat0, lon1 - lon0), 0.15)
    lat0, lat1, lon0, lon1 = lat0 - pad, lat1 + pad, lon0 - pad, lon1 + pad
    if max(lat1 - lat0, lon1 - lon0) > CLOSE_UP_SHARE * whole:
        return None
    return lon0, lon1, lat0, lat1


def _one_name_a_place(named: list[tuple[str, float, float, str]]) -> list[tuple[str, float, float, str]]:
    """The names of things at one place (a battery and its radar on one ship) as one label,
    "aegis-ship-sm3 / ship-spy1", in the first one's ink: placed apart, the two were written
    end to end across the marker and read as one name."""
    out: dict[tuple[float, float], tuple[list[str], str]] = {}
    for name, lo_, la_, ink in named:
        key = (round(lo_, 6), round(la_, 6))
        if key in out:
            if name not in out[key][0]:
                out[key][0].append(name)
        else:
            out[key] = ([name], ink)
    return [(" / ".join(names), lo_, la_, ink) for (lo_, la_), (names, ink) in out.items()]


def _ground_map(world, chunk, c: int, rows, view: tuple[float, float, float, float] | None = None) -> str:
    """The scene's run over the ground: threat ground tracks by outcome, interceptor ground
    tracks, radars, batteries and assets, the C2 nodes' sites and sectors, on the Natural
    Earth base; or, ``view`` (lon0, lon1, lat0, lat1) [deg], that part of it close up."""
    from shieldlab.analysis import maps
    from shieldlab.io.scene import COLOURS, interceptor_path

    eng = chunk.engagements
    tracks, near, off, (lon0, lon1, lat0, lat1) = _run_frame(world, chunk, c, rows)
    if view is not None:  # a close-up: what lies in it
        lon0, lon1, lat0, lat1 = view
        near = [a for a in world.assets if lon0 <= a.site.lon_deg <= lon1 and lat0 <= a.site.lat_deg <= lat1]
        off = []
    # the frame's shape follows the ground it shows (a local plate carree), so the map fills it
    aspect = map_aspect(lon0, lon1, lat0, lat1)
    fig, ax = plt.subplots(figsize=(9.5, float(np.clip(9.5 * aspect, 3.5, 9.0)) + 0.8))
    maps.draw_base(ax, lon0, lon1, lat0, lat1)
    from matplotlib.lines import Line2D

    seen: dict[str, Any] = {}
    for lo, la, r in tracks:
        colour = np.array(COLOURS[r.outcome][:3]) / 255.0
        leaked = r.outcome.startswith("leaked")
        # a salvo's rounds fly one ground track: a leaker's is drawn wide under the intercepted
        # ones' narrow lines, so that each shows where they run together (the one on top had
        # hidden the other: a Sejjil shot down under its twin that leaked)
        seen.setdefault(r.outcome, ax.plot(lo, la, color=colour, lw=3.0 if leaked else 1.4,
                                           zorder=2.0 if leaked else 2.2)[0])
        ax.plot(lo[0], la[0], "^", color="#1d2128", ms=5)
        if leaked:
            ax.plot(lo[-1], la[-1], "o", color=colour, ms=6, zorder=2.3)
    paths: list[np.ndarray] = []  # the interceptors' ground tracks (lon, lat) [deg]
    ended: set[str] = set()  # the ends drawn (kill, miss): the legend names only those
    ends = eng.end_pos()
    for e in np.flatnonzero(eng.run == c):
        b = world.batteries[int(eng.battery[e])]
        if np.isfinite(eng.intercept_time[e]) and eng.intercept_time[e] > eng.launch_time[e]:
            _, p = interceptor_path(b, float(eng.launch_time[e]), float(eng.intercept_time[e]),
                                    np.asarray(ends[e], float), samples=20)
            la, lo, _ = earth.ecef_to_geodetic(p)
            path = np.degrees(np.column_stack([lo, la]))
            paths.append(path)
            seen.setdefault("interceptor", ax.plot(path[:, 0], path[:, 1], color="#5dade2", lw=1.2)[0])
            mark = _shot_end(eng, int(e), len(world.threats))
            marker, ink, _ = _SHOT_ENDS[mark]
            ax.plot(path[-1, 0], path[-1, 1], marker, color=ink, ms=8)
            ended.add(mark)
    named = []
    for s in world.sensors:
        # an open square over the battery's diamond: a battery's own radar stands at its site, and a
        # filled one hid under the diamond
        seen.setdefault("radar", ax.plot(math.degrees(s.radar.lon), math.degrees(s.radar.lat), "s", mfc="none",
                                         mec="#9b59b6", mew=1.6, ms=10, zorder=3.1)[0])
        named.append((s.radar.name, math.degrees(s.radar.lon), math.degrees(s.radar.lat), "#6c3483"))
    for b in world.batteries:
        seen.setdefault("battery", ax.plot(b.site.lon_deg, b.site.lat_deg, "D", color="#3498db", ms=6)[0])
        named.append((b.name, b.site.lon_deg, b.site.lat_deg, "#1f618d"))
    for a in near:
        seen.setdefault("defended asset", ax.plot(a.site.lon_deg, a.site.lat_deg, "o", mfc="none", mec="#b7950b",
                                                  ms=9, mew=1.5)[0])
        seen.setdefault("defended asset's radius", maps.asset_ring(ax, a.site.lat_deg, a.site.lon_deg,
                                                                   a.radius / 1e3, "#b7950b"))
        named.append((a.name, a.site.lon_deg, a.site.lat_deg, "#7d6608"))
    # each launch point the scenario names (a place, not coordinates), once: its triangle sat
    # unnamed under the tracks' ends
    launches: dict[str, tuple[float, float]] = {}
    for th in world.threats:
        place = world.scenario.threats[th.entry].launch
        if isinstance(place, str):
            launches.setdefault(place, (math.degrees(th.launch.lon), math.degrees(th.launch.lat)))
    named += [(place, lo_, la_, "#1d2128") for place, (lo_, la_) in launches.items()]
    # a node's sector, told apart (none the radars' purple, the batteries' blue or a fate's red or green)
    sector_inks = ("#566573", "#b9770e", "#0e6655", "#873600", "#1b2631")
    held = world.architecture == "sectoral"
    for k, nd in enumerate(world.nodes):  # C2: where each node sits, and its sector (nodes[].site, nodes[].sector)
        # (a node's site does not widen the map: NATO's at Ramstein would take in half of Europe)
        if nd.site is not None and lon0 <= nd.site.lon_deg <= lon1 and lat0 <= nd.site.lat_deg <= lat1:
            seen.setdefault("C2 node", ax.plot(nd.site.lon_deg, nd.site.lat_deg, "P", color="#566573", ms=7)[0])
            named.append((f"{nd.name} C2", nd.site.lon_deg, nd.site.lat_deg, "#34495e"))
        ink = sector_inks[k % len(sector_inks)]
        for poly in getattr(nd.sector, "geoms", [nd.sector] if nd.sector is not None else []):
            ring = np.degrees(np.asarray(poly.exterior.coords))
            # under another architecture a sector is drawn for comparison: the node engages anywhere
            key = f"{nd.name}'s sector" + ("" if held else f" (not enforced: {world.architecture})")
            line = ax.plot(ring[:, 0], ring[:, 1], color=ink, lw=1.3, ls="--")[0]
            seen.setdefault(key, line)
    if any(lon0 <= lo[0] <= lon1 and lat0 <= la[0] <= lat1 for lo, la, _ in tracks):  # (a close-up's may not)
        seen["launch point"] = Line2D([], [], marker="^", ls="none", color="#1d2128", ms=7)
    for key, (marker, ink, label) in _SHOT_ENDS.items():
        if key in ended:
            seen[label] = Line2D([], [], marker=marker, ls="none", color=ink, ms=7)
    drawn = [np.column_stack([lo, la]) for lo, la, _ in tracks] + paths
    drawn += [np.array([[lo_, la_]]) for _, lo_, la_, _ in named]  # each site (and its label) one thing
    corner = _quiet_corner(ax, drawn)
    keys = in_frame(ax, list(seen.values()), list(seen.keys()))
    if _reach_into(ax, corner, drawn) and len(keys[0]) > 4:
        # every corner holds a site or a track and the legend is long: beside the map, the
        # page widened by it, so that it hides nothing (it sat over two ships and their labels)
        w_in, h_in = fig.get_size_inches()
        fig.set_size_inches(w_in + 2.6, h_in)
        ax.legend(*keys, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize=8,
                  framealpha=0.9)
    else:
        ax.legend(*keys, loc=corner, fontsize=8, framealpha=0.9)
    ax.set_title(f"{world.scenario.name}: run {chunk.first_run + c} over the ground"
                 + (f" (off the map: {', '.join(off)})" if off else "")
                 + (": the end game close up" if view is not None else ""), fontsize=11)
    if view is not None:  # names of what is in it (a launch point far off, a track's middle)
        named = [m for m in named if lon0 <= m[1] <= lon1 and lat0 <= m[2] <= lat1]
    # the sites' names (a battery, its radars, the asset it defends at one place were written
    # over each other), then each threat's by the middle of its ground track, each clear of the
    # names, the markers and where it can of the tracks (a name over another's track read as
    # that one's), tied to its point where it stands away; placed on the page as laid out (twice:
    # one pass, with the map's fixed aspect and a legend beside it, left the latitude labels and
    # the legend's end off the page)
    fig.tight_layout()
    fig.tight_layout()
    on_tracks = maps.line_boxes(ax, [np.column_stack([lo, la]) for lo, la, _ in tracks] + paths)
    named = _one_name_a_place(named)
    maps.name_markers(fig, ax, [(lo_, la_, name, 9.0, dict(fontsize=7.5, color=ink, fontweight="bold",
                                                           path_effects=_HALO))
                                for name, lo_, la_, ink in named], avoid=on_tracks)
    shown = tracks
    if view is not None:  # each track named by its part in the close-up, if it has one
        shown = [(lo[m], la[m], r) for lo, la, r in tracks
                 if (m := (lo >= lon0) & (lo <= lon1) & (la >= lat0) & (la <= lat1)).sum() >= 2]
    along = (len(lo) * np.array([0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8]) for lo, _, _ in shown)
    maps.name_markers(fig, ax, [(lo[k.astype(int)], la[k.astype(int)], r.name, 2.0,
                                 dict(fontsize=7, color="#333", path_effects=_HALO))
                                for (lo, la, r), k in zip(shown, along)], avoid=on_tracks,
                      shapes=[np.column_stack([lo, la]) for lo, la, _ in shown])
    maps.label_map(fig, ax, (lon0, lon1, lat0, lat1))
    return _png(fig)


def catalogue_sources(world) -> list[list[str]]:
    """(kind, id, name, source) of every catalogue entry the scenario uses, once each."""
    rows: list[list[str]] = []
    seen = set()

    def add(kind, entry):
        key = (kind, getattr(entry, "id", str(entry)))
        if key in seen:
            return
        seen.add(key)
        rows.append([kind, str(getattr(entry, "id", "")), str(getattr(entry, "name", "")),
                     str(getattr(entry, "source", "")).strip()])

    for t in world.threats:
        add("missile", t.missile)
    for b in world.batteries:
        add("interceptor", b.spec)
    for s in world.sensors:
        add("radar", s.radar.spec)
    for s in world.early_warning:
        spec = getattr(s, "spec", None)
        if spec is not None:
            add("satellite", spec)
    return rows


def build(world, res, chunk, c: int = 0, *, footprint=None, coverage=None, coverage_low=None) -> str:
    """The report of ``res`` (:class:`~shieldlab.engine.montecarlo.Results`) with the scene's
    run ``c`` of ``chunk`` (its records: :func:`shieldlab.engine.chain.replay_run`);
    ``footprint`` and ``coverage``: results of :mod:`shieldlab.analysis.footprint` and
    :mod:`shieldlab.analysis.coverage` to map, where computed (``coverage_low``: again at the
    lower tier's ceiling, :func:`shieldlab.analysis.coverage.lower_tier_alt_km`)."""
    from shieldlab import __version__
    from shieldlab.analysis import maps
    from shieldlab.io.scene import threat_rows

    sc, s = world.scenario, res.summary
    runs = int(s["runs"])
    rows = threat_rows(world, chunk, c)
    scene_run = chunk.first_run + c
    from shieldlab.io.results import FALSE_TRACK

    false_fires = res.table("events", ("run", "rounds"), where={"kind": ["fire"], "threat": [FALSE_TRACK]})
    leakers, fired = per_run(res.table("outcomes", PER_RUN_COLUMNS), runs, false_fires)
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(sc.name)} — shieldlab "
             f"report</title><style>{_CSS}</style></head><body>"]
    parts.append(f"<h1>{html.escape(sc.name)}</h1>")
    trk = s.get("tracking") or {}
    tracking = ", ".join(f"{k} {_setting_text(v)}" for k, v in trk.items()) if isinstance(trk, dict) else str(trk)
    given = set_meta(s)
    parts.append(f"<p class='meta'>{runs:,} Monte Carlo runs, seed {s['seed']} · architecture "
                 f"{html.escape(str(s.get('architecture', '')))} · tracking: {html.escape(tracking)}{given}"
                 f" · epoch {sc.epoch:%Y-%m-%d %H:%M} UTC · shieldlab {__version__}</p>")
    if sc.description:
        parts.append(f"<p class='question'>{html.escape(sc.description)}</p>")
    parts.append("<h2>Summary</h2>")
    parts.append(_table(["per raid", "mean (95 % interval)"], [
        ["leakers", _ci(s, "mean_leakers")],
        ["P(no leaker)", _ci(s, "p_no_leaker", 3)],
        ["interceptors fired", _ci(s, "mean_interceptors_fired")],
        *([["of them at spent boosters", _ci(s, "mean_interceptors_at_boosters")]]
          if (s.get("mean_interceptors_at_boosters") or 0) > 0 else []),
        *([["of them at false tracks", _ci(s, "mean_interceptors_at_false_tracks")]]
          if (s.get("mean_interceptors_at_false_tracks") or 0) > 0 else []),
        ["defended assets hit", _ci(s, "mean_assets_hit")],
        # (where every asset is worth 1 the value lost is the assets hit again: said once)
        *([["value lost", _ci(s, "mean_value_lost")]] if any(float(a.value) != 1.0 for a in world.assets) else []),
    ]))
    parts.append(intervals_note(s))
    if world.assets:  # what is defended, its radius and worth, and how often it was hit
        parts.append("<h2>Defended assets</h2>")
        hits: Counter[str] = Counter()
        for piece in res.table("outcomes", ["asset_hit"]):
            hits.update(str(x) for x in piece["asset_hit"] if x is not None and str(x))
        parts.append(_table(["asset", "radius [km]", "value", "warheads landed on it per run"], [
            [a.name, f"{a.radius / 1e3:g}", f"{float(a.value):g}", f"{hits.get(a.name, 0) / runs:.2f}"]
            for a in world.assets]))
    parts.append("<h2>Each threat</h2>")
    per = s.get("per_threat", [])
    # as the run table: the rounds at a threat's booster said apart where any went there
    boosters = any((t.get("mean_interceptors_at_booster") or 0) > 0 for t in per)

    def why_not(t: dict) -> str:  # every reason a threat went without a (further) shot, commonest first
        nf = t.get("no_fire") or {}
        return ", ".join(f"{k} {v:.0%}" for k, v in nf.items()) or "—"

    parts.append(_table(["threat", "missile", "P(intercept)", "P(leak)", "mean interceptors",
                         *(["of them at its booster"] if boosters else []), "CEP [km]",
                         "no-fire reasons (share of runs)", f"run {scene_run}"], [
        [t["threat"], t["missile"], _ci(t, "p_intercept", 3), _ci(t, "p_leak", 3), _ci(t, "mean_interceptors"),
         *([_ci(t, "mean_interceptors_at_booster")] if boosters else []),
         "—" if t.get("cep_km") is None else f"{t['cep_km']:.1f}", why_not(t),
         next((r.outcome + (f" by {r.battery}" if r.battery else "") for r in rows if r.name == t["threat"]), "")]
        for t in per]))
    if any(t.get("no_fire") for t in per):
        from shieldlab.io.results import REASON_TEXT

        parts.append("<p class='meta'>No-fire reasons: why no battery fired at the threat at the end of a run "
                     "(or fired again after a miss), every one given, commonest first, in the share of runs "
                     "each was given (each battery gives its own, so a run may give several: the shares need "
                     "not add up to 100 %); <code>shieldlab run … --explain THREAT</code> gives them per "
                     "battery.</p>")
        # the codes the table shows, in words (the report had left them to the user guide)
        codes = dict.fromkeys(k for t in per for k in (t.get("no_fire") or {}))
        parts.append("<ul class='meta reasons'>" + "".join(
            f"<li><code>{html.escape(k)}</code>: {html.escape(REASON_TEXT.get(k, k))}</li>" for k in codes)
            + "</ul>")
    tq = s.get("track_quality") or {}
    if tq:
        parts.append("<h2>Track quality</h2>")
        # the run table's columns, in its order (a track file of reports without labels: its
        # breaks, false and booster tracks too)
        file_cols = [(k, label, d, x) for k, label, d, x in (("track_breaks", "breaks per run", 1, 1.0),
                                                            ("false_tracks_per_hour", "false tracks per hour", 1, 1.0),
                                                            ("booster_tracks", "booster tracks per run", 1, 1.0),
                                                            ("purity", "purity [%]", 1, 100.0))
                     if any(k in q for q in tq.values())]
        # a track file's GOSPA counts every object in the air and surplus tracks too (as the run
        # table and the tracks command head them)
        parts.append(_table(["picture", "GOSPA [km]", "localisation [m]",
                             *(["missed objects", "false or surplus tracks"] if file_cols
                               else ["missed targets", "false tracks"]),
                             "position RMSE [m]", "velocity RMSE [m/s]",
                             "mean NEES (6 if consistent; under 6: cautious)",
                             "updates with NEES above χ² 99 % [%] (1 if consistent)",
                             *(label for _, label, _, _ in file_cols),
                             "time to firm track [s]"],
                            [[name, _ci(_scaled(q, "gospa_m", 1e-3), "gospa_m", 2), _ci(q, "localisation_m", 0),
                              _ci(q, "missed_targets"),
                              _ci(q, "false_tracks"), _ci(q, "position_rmse_m", 0), _ci(q, "velocity_rmse_ms", 1),
                              _ci(q, "mean_nees", 1), _ci(_scaled(q, "nees_over_99", 100.0), "nees_over_99", 2),
                              *(_ci(_scaled(q, k, x), k, d) for k, _, d, x in file_cols),
                              _ci(q, "median_time_to_firm_track_s", 0)] for name, q in tq.items()]))
        parts.append(f"<p class='meta'>{html.escape(str(s.get('track_quality_method', '')))}</p>")
    parts += _early_warning_section(s)
    parts += _c2_section(world)
    parts.append("<h2>Charts</h2>")
    parts.append(_figure(_histogram(leakers, "leakers in the run", "#e74c3c"),
                         f"Leakers per run over {runs:,} runs.", "leakers per run"))
    if runs > 1:
        parts.append(_figure(_running_mean(leakers, "mean leakers per raid", "#e74c3c", len(world.threats)),
                             "Leakers over runs: the mean of the first n runs, with its 95 % interval as the "
                             "summary's (Student t; while the runs are all alike, the exact bound of a capped count), "
                             "as runs are added.", "leakers over runs"))
    parts.append(_figure(_histogram(fired, "interceptors fired in the run", "#5dade2"),
                         f"Interceptors spent per run over {runs:,} runs.", "interceptors per run"))
    parts.append(_figure(_timeline(world, chunk, c, rows),
                         f"Engagement timeline of run {scene_run} (the scene's run): each threat from launch to "
                         "its end, coloured by outcome; blue, each salvo from launch to intercept (star: kill, "
                         "cross: miss; grey, a miss at the threat's spent booster or a false track, where no "
                         "warhead was).", "engagement timeline"))
    parts.append("<h2>Maps</h2>")
    parts.append(_figure(_ground_map(world, chunk, c, rows),
                         f"Run {scene_run} over the ground: threat ground tracks by outcome, interceptor flights, "
                         "radars, batteries and defended assets." + MAP_SOURCES, "the run over the ground"))
    close = _end_game_view(world, chunk, c, rows)
    if close is not None:
        parts.append(_figure(_ground_map(world, chunk, c, rows, view=close),
                             f"The end game of run {scene_run} close up: the intercept points and the batteries "
                             "that fired, close together on the map above." + MAP_SOURCES, "the end game close up"))
    if coverage is not None:
        parts.append(_figure(_file_png(lambda p: maps.coverage_map(coverage, p)),
                             f"Each radar's detection coverage of a target at {coverage.alt_km:g} km (the "
                             "lowest threat's apogee, at most 100 km; shieldlab coverage --alt-km).",
                             "radar coverage"))
    if coverage_low is not None:
        low = min(world.batteries, key=lambda b: b.spec.max_intercept_alt_km)
        parts.append(_figure(_file_png(lambda p: maps.coverage_map(coverage_low, p)),
                             f"The same at {coverage_low.alt_km:g} km, the highest a lower-tier battery engages "
                             f"({html.escape(low.name)}, {html.escape(low.spec.id)}): a radar blind at "
                             f"{coverage.alt_km:g} km may see the threat here in time for it.",
                             f"radar coverage at {coverage_low.alt_km:g} km"))
    if footprint is not None:
        parts.append(_figure(_file_png(lambda p: maps.footprint_map(footprint, p)),
                             "The defended footprint against each launch site (shieldlab footprint).",
                             "defended footprint"))
    parts.append("<h2>Sources of the catalogue figures</h2>")
    parts.append(_table(["kind", "id", "name", "source (assumptions marked)"], catalogue_sources(world), "sources"))
    parts.append(f"{FOOTER}Made by shieldlab from open physics and the public figures cited above. "
                 "The 3-D scene of the run is scene.czml in the same folder (<code>shieldlab view</code>).</p>")
    parts.append("</body></html>\n")
    return "".join(parts)
