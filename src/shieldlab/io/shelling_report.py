"""The shelling's part of a run's report (``report.html``): the question, each mission and radar's
figures (located, error, ellipse, side of the border, confidence, NEES), an overview map (the
border, the radars with their sectors out to their reach, the weapons and their aim points), a
close-up of each weapon's place (its true position, every run's estimates, the scene's run's 95 %
ellipses, the border), the timeline of the scene's run in UTC, and the catalogue's sources.  No
clock time: the same run gives the same bytes."""

from __future__ import annotations

import datetime as dt
import html
import math

import numpy as np

from shieldlab import earth
from shieldlab.artillery import ellipse as ell
from shieldlab.io.air_tables import utc_text
from shieldlab.io.report import (
    _CSS,
    _HALO,
    FOOTER,
    MAP_SOURCES,
    _figure,
    _png,
    _table,
    in_frame,
    intervals_note,
    plt,
    set_meta,
    with_sections,
)
from shieldlab.io.shelling_tables import HEAD, burning_note, nees_note, not_located_lines, rows

__all__ = ["build", "appended"]

_RADAR = "#8e44ad"
_TRUE = "#1d2128"
_EST = "#c0392b"
_AIM = "#d68910"


def _border(ax, terr, label: str | None) -> None:
    """The territory's border on ``ax`` (its limits set), ``label`` on a part of it in the frame."""
    lines = []
    for g in getattr(terr.lonlat, "geoms", [terr.lonlat]):
        lines.append(ax.plot(*g.exterior.xy, color="#2e86c1", lw=1.4, zorder=4)[0])
        lines += [ax.plot(*hole.xy, color="#2e86c1", lw=1.0, zorder=4)[0] for hole in g.interiors]
    if label is not None and lines:
        (in_frame(ax, lines, [""] * len(lines))[0] or lines)[0].set_label(label)


def _landmarks(ax, sh, lon0: float, lon1: float, lat0: float, lat1: float) -> None:
    """The scenario's landmarks in the frame (lon0, lon1, lat0, lat1) [deg] on ``ax``: a small
    square and the name (towns the gazetteer leaves out: which side of the line they are on)."""
    first = True
    for name, lat, lon in sh.landmarks:
        x, y = math.degrees(lon), math.degrees(lat)
        if not (lon0 <= x <= lon1 and lat0 <= y <= lat1):
            continue
        ax.plot(x, y, "s", mfc="white", mec=_TRUE, ms=6, mew=1.2, zorder=6, ls="none",
                label="landmarks (named in the scenario)" if first else None)
        ax.annotate(name, (x, y), xytext=(6, 4), textcoords="offset points", fontsize=8, color=_TRUE,
                    fontstyle="italic", path_effects=_HALO, zorder=7)
        first = False


def _overview(world, res) -> str:
    """The radars with their sectors out to their reach against the classes fired, the weapons and
    their aim points, and the border."""
    from shieldlab.analysis import maps

    sh = world.shelling
    lats, lons = [], []
    for m in sh.missions:
        lats += [m.origin[0], m.aim[0]]
        lons += [m.origin[1], m.aim[1]]
    for r in sh.radars:
        lats.append(r.lat)
        lons.append(r.lon)
    lat_c, lon_c = math.degrees(float(np.mean(lats))), math.degrees(float(np.mean(lons)))
    far = max(float(earth.great_circle_distance(math.radians(lat_c), math.radians(lon_c), la, lo))
              for la, lo in zip(lats, lons, strict=True))
    half = max(far / 111e3 * 1.3, 0.08)
    coslat = math.cos(math.radians(lat_c))
    lon0, lon1, lat0, lat1 = lon_c - half / coslat, lon_c + half / coslat, lat_c - half, lat_c + half
    fig, ax = plt.subplots(figsize=(8.5, 8.0))
    maps.draw_base(ax, lon0, lon1, lat0, lat1)
    # (Natural Earth's 1:50 million line is generalised: at Akçakale it runs ~1 km south of the town
    # line, and Tell Abyad's centre falls on its Turkish side)
    _border(ax, res.territory, f"{sh.country} (Natural Earth 1:50m border, generalised: can be ~1 km off)")
    classes = sorted({m.round.locating_class for m in sh.missions})
    inks = [_RADAR, "#1f618d", "#117864", "#9a7d0a"]
    placed: list[tuple[float, float]] = []  # the radars' places named so far [rad]
    for j, r in enumerate(sh.radars):
        ink = inks[j % len(inks)]
        half_sec = math.radians(r.spec.sector_deg) / 2.0
        az = r.facing + np.linspace(-half_sec, half_sec, 60)
        for k, cls in enumerate(classes):
            la, lo = earth.destination(r.lat, r.lon, az, 1e3 * r.spec.range_km(cls))
            xs = np.concatenate([[math.degrees(r.lon)], np.degrees(lo), [math.degrees(r.lon)]])
            ys = np.concatenate([[math.degrees(r.lat)], np.degrees(la), [math.degrees(r.lat)]])
            ax.plot(xs, ys, color=ink, lw=0.9, ls=("--", ":", "-.")[k % 3], zorder=5,
                    label=f"{r.name}: sector and reach against {cls} rounds")
        ax.plot(math.degrees(r.lon), math.degrees(r.lat), "s", color=ink, ms=8, zorder=6, ls="none",
                label="weapon-locating radars" if j == 0 else None)
        # a radar at the place of one named before (within 50 m): its name a line above that one's
        # (written over each other, the second radar's name and marker were lost)
        below = sum(1 for la0, lo0 in placed
                    if float(earth.great_circle_distance(la0, lo0, r.lat, r.lon)) < 50.0)
        placed.append((r.lat, r.lon))
        ax.annotate(f"{r.name} ({r.spec.id}), fence {math.degrees(r.fence):.1f}°",
                    (math.degrees(r.lon), math.degrees(r.lat)), xytext=(6, 6 + 11 * below), textcoords="offset points",
                    fontsize=8, color=ink, fontweight="bold", path_effects=_HALO, zorder=7)
    for i, m in enumerate(sh.missions):
        ox, oy = math.degrees(m.origin[1]), math.degrees(m.origin[0])
        ax_, ay_ = math.degrees(m.aim[1]), math.degrees(m.aim[0])
        ax.annotate("", (ax_, ay_), (ox, oy), arrowprops={"arrowstyle": "->", "color": _AIM, "lw": 1.2}, zorder=5)
        ax.plot(ox, oy, "^", color=_TRUE, ms=8, zorder=6, label="weapons (true places)" if i == 0 else None)
        ax.plot(ax_, ay_, "o", mfc="none", mec=_AIM, ms=9, mew=1.6, zorder=6, label="aim points" if i == 0 else None)
        ax.annotate(m.name, (ox, oy), xytext=(6, -11), textcoords="offset points", fontsize=8, color=_TRUE,
                    path_effects=_HALO, zorder=7)
    _landmarks(ax, sh, lon0, lon1, lat0, lat1)
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    maps.scale_bar(ax, lon0, lon1, lat0, lat1)
    ax.legend(*in_frame(ax), loc="upper left", fontsize=7.5, framealpha=0.9)
    ax.set_title(f"{world.scenario.name}: weapons, aim points and weapon-locating radars", fontsize=10)
    fig.tight_layout()
    maps.label_map(fig, ax, (lon0, lon1, lat0, lat1))
    return _png(fig)


def _close_up(world, res, i: int) -> str:
    """Mission ``i``'s weapon, two panels: in its setting (the border, the aim, every run's estimates)
    and close (the truth, every run's estimates, the scene's run's 95 % ellipses; the border where it
    passes)."""
    from shieldlab.analysis import maps

    sh = world.shelling
    m = sh.missions[i]
    t = res.rounds
    mine = t["mission"] == m.name
    sel = mine & t["located"]
    lat_c, lon_c = math.degrees(m.origin[0]), math.degrees(m.origin[1])
    coslat = math.cos(math.radians(lat_c))
    border_m = 1e3 * float(np.min(t["true_border_km"][mine])) if mine.any() else 0.0
    spread = np.hypot(t["error_east_m"][sel], t["error_north_m"][sel])
    near_m = max(float(np.percentile(spread, 99)) * 1.6 if spread.size else 0.0, 60.0)
    sc = res.scene
    if sc is not None:  # the close panel holds the scene run's 95 % ellipses too (they ran off its top)
        for o in sc.origins:
            k = np.flatnonzero(o.located & (sc.volley.mission == i))
            if k.size:
                la, lo = ell.boundary(o.lat[k], o.lon[k], o.alt[k], o.cov[k], 0.95, 90)
                d = np.hypot((np.degrees(lo) - lon_c) * 111_000.0 * coslat, (np.degrees(la) - lat_c) * 111_000.0)
                near_m = max(near_m, 1.1 * float(np.nanmax(d)))
    aim_m = float(earth.great_circle_distance(m.origin[0], m.origin[1], m.aim[0], m.aim[1]))
    wide_m = max(border_m * 1.4, 1500.0, near_m * 3.0, aim_m * 1.15)  # the setting: border and aim
    fig, axes = plt.subplots(1, 2, figsize=(12.0, 6.2))
    colours = [_EST, "#117864", "#1f618d", "#9a7d0a"]
    k_e = 111_000.0 * coslat  # m per degree of longitude here
    for ax, half_m, close in ((axes[0], wide_m, False), (axes[1], near_m, True)):
        dlat, dlon = half_m / 111_000.0, half_m / k_e
        lon0, lon1, lat0, lat1 = lon_c - dlon, lon_c + dlon, lat_c - dlat, lat_c + dlat
        maps.draw_base(ax, lon0, lon1, lat0, lat1)
        _border(ax, res.territory, f"{sh.country}'s border (Natural Earth)")
        # at the wide scale estimates within ~2 % of the panel lie under the weapon's triangle:
        # drawn, but not named in that panel's legend (it listed dots no one could see)
        hidden = not close and near_m / wide_m <= 0.02
        for j, r in enumerate(sh.radars):
            s = sel & (t["radar"] == r.name)
            ax.plot(t["est_lon_deg"][s], t["est_lat_deg"][s], ".", ms=3 if close else 2, alpha=0.5,
                    color=colours[j % 4], zorder=5,
                    label=None if hidden else f"{r.name}: estimates, {res.summary['runs']:,} runs")
        if close and sc is not None:
            for j, (r, o) in enumerate(zip(sh.radars, sc.origins, strict=True)):
                k = np.flatnonzero(o.located & (sc.volley.mission == i))
                if k.size:
                    la, lo = ell.boundary(o.lat[k], o.lon[k], o.alt[k], o.cov[k], 0.95, 90)
                    for q in range(k.size):
                        x, y = np.degrees(np.append(lo[q], lo[q, 0])), np.degrees(np.append(la[q], la[q, 0]))
                        ax.plot(x, y, color=colours[j % 4], lw=1.1, zorder=6,
                                label=f"{r.name}: 95 % ellipses, run {sc.run}" if q == 0 else None)
        if not close:
            ax.plot(math.degrees(m.aim[1]), math.degrees(m.aim[0]), "o", mfc="none", mec=_AIM, ms=9, mew=1.6,
                    zorder=6, label="aim point")
            w = 2 * near_m
            ax.add_patch(plt.Rectangle((lon_c - w / 2 / (111_000.0 * coslat), lat_c - w / 2 / 111_000.0),
                                       w / (111_000.0 * coslat), w / 111_000.0, fill=False, ec="#555", lw=0.8,
                                       zorder=6))
            _landmarks(ax, sh, lon0, lon1, lat0, lat1)
        ax.plot(lon_c, lat_c, "^", color=_TRUE, ms=10 if close else 8, zorder=7, label="the weapon (truth)")
        ax.set_xlim(lon0, lon1)
        ax.set_ylim(lat0, lat1)
        ax.legend(*in_frame(ax), loc="upper left", fontsize=7, framealpha=0.9)
        # the box drawn at left is the close panel's ground; under ~2 % of the wide panel it is
        # hidden by the weapon's triangle, and the title says where it is instead
        where = "the box at left" if near_m / wide_m > 0.02 else "around the weapon at left"
        ax.set_title(f"the setting: {half_m / 1e3:.2f} km each way from the weapon" if not close else
                     f"close: {half_m:,.0f} m each way from the weapon ({where})", fontsize=9)
        ax.ticklabel_format(useOffset=False)
        ax.set_xlabel("longitude [deg E]", fontsize=8)
        ax.set_ylabel("latitude [deg N]", fontsize=8)
        # metres from the weapon on the opposite edges: the ellipses and errors are quoted in
        # metres, and ticks of 38.9546° said nothing of a cloud's size
        sx = ax.secondary_xaxis("top", functions=(lambda x: (x - lon_c) * k_e, lambda d: lon_c + d / k_e))
        sy = ax.secondary_yaxis("right", functions=(lambda y: (y - lat_c) * 111_000.0,
                                                    lambda d: lat_c + d / 111_000.0))
        unit, scale = ("km", 1e3) if not close else ("m", 1.0)
        for a, name in ((sx.xaxis, "east"), (sy.yaxis, "north")):
            # whole numbers from 100 up ("-3e+03" was -3,000 m)
            a.set_major_formatter(plt.FuncFormatter(
                lambda v, _p, s=scale: f"{v / s:,.0f}" if abs(v / s) >= 100 else f"{v / s:.3g}"))
            a.set_label_text(f"{name} of the weapon [{unit}]", fontsize=8)
        sx.tick_params(labelsize=7)
        sy.tick_params(labelsize=7)
    fig.suptitle(f"{m.name}: {m.round.id}; the weapon {border_m / 1e3:.2f} km from the border", fontsize=10)
    fig.tight_layout()
    # the wide panel's countries and towns: which side of the border is which (the border line
    # alone did not say)
    lo0, lo1 = axes[0].get_xlim()
    la0, la1 = axes[0].get_ylim()
    maps.label_map(fig, axes[0], (lo0, lo1, la0, la1), n_cities=4)
    return _png(fig)


def _sections(world, res, run: int) -> list[str]:
    sc, s = world.scenario, res.summary
    epoch = sc.epoch if sc.epoch.tzinfo else sc.epoch.replace(tzinfo=dt.UTC)
    parts = ["<h2>Where the radars put each round's origin</h2>",
             _table(HEAD, rows(s)),
             f"<p class='meta'>Side: of {html.escape(s['country'])}'s border (Natural Earth 1:50m, "
             f"{s['waters_nmi']:g} nmi of territorial sea). Errors: horizontal distance from the true weapon to "
             f"the estimate, medians and 95th percentiles over the located rounds. Ellipse: the "
             f"{100 * s['ellipse_probability']:.0f} % semi-axes (median). Mean P(true side): the estimator's own "
             f"probability mass on the side of the border where the weapon truly stood. Fused: per run, the "
             f"mission's located rounds together (information-weighted; one weapon in one place). NEES: the "
             f"mean normalised error squared of the located rounds against the estimator's covariance, with "
             f"its chi-square 95 % band.</p>",
             intervals_note(s)]
    for note in (nees_note(s), burning_note(s)):
        if note:
            parts.append(f"<p class='bad'>{html.escape(note)}</p>")
    for line in not_located_lines(s):
        parts.append(f"<p class='meta'>{html.escape(line)}</p>")
    parts.append("<h2>Each mission</h2>")
    parts.append(_table(["mission", "round", "weapon to aim [km]", "elevation [deg]", "time of flight [s]",
                         "rounds per run", "weapon in", "from the border [km]"],
                        [[m["mission"], m["round"], f"{m['range_km']:.2f}", f"{m['elevation_deg']:.1f}",
                          f"{m['time_of_flight_s']:.1f}", str(m["rounds_per_run"]), str(m["origin_country"]),
                          "–" if m["origin_border_km"] is None else f"{m['origin_border_km']:.2f}"]
                         for m in s["missions"]]))
    parts.append("<h2>Maps</h2>")
    parts.append(_figure(_overview(world, res), "The weapons (triangles) firing at their aim points, the "
                                                "weapon-locating radars with their sectors out to their reach, and "
                                                "the border." + MAP_SOURCES, "overview"))
    for i, m in enumerate(world.shelling.missions):
        ms = next((x for x in s["missions"] if x["mission"] == m.name), None)
        seen = ms is None or any((r.get("located") or {}).get("k", 0) for r in ms["radars"].values())
        # (a caption of estimates and ellipses over a map that has none read as a drawing lost)
        caption = (f"{m.name}: the weapon's true place, the estimates of every run and the 95 % ellipses of run "
                   f"{run}." if seen else f"{m.name}: the weapon's true place; no radar located a round of it "
                                          "in any run (why: under the first table).")
        parts.append(_figure(_close_up(world, res, i), caption + MAP_SOURCES, f"{m.name} close-up"))
    ev = res.events
    sel = np.flatnonzero(ev["run"] == run)
    parts.append(f"<h2>Timeline of run {run} (UTC)</h2>")
    parts.append(_table(["time (UTC)", "round", "event", "by", "detail"],
                        [[utc_text(epoch, float(ev["t_s"][k])), str(ev["threat"][k]), str(ev["kind"][k]),
                          str(ev["actor"][k]), str(ev["detail"][k])] for k in sel[:400]]))
    if sel.size > 400:
        parts.append(f"<p class='meta'>{sel.size - 400} more events in events.parquet.</p>")
    return parts


def _sources(world) -> list[list[str]]:
    sh = world.shelling
    out, seen = [], set()
    for kind, spec in [("round", m.round) for m in sh.missions] + [("weapon-locating radar", r.spec)
                                                                    for r in sh.radars]:
        if spec.id not in seen:
            seen.add(spec.id)
            text = spec.source.strip()
            if kind == "round":
                text = (f"{text} Drag: {spec.drag.source.strip()} Form factor: {spec.form_factor_source.strip()} "
                        f"Range: {spec.range_source.strip()}")
                if spec.motor is not None:
                    text += f" Motor: {spec.motor.source.strip()}"
            out.append([kind, spec.id, spec.name, text])
    return out


def appended(page: str, world, res, run: int = 0) -> str:
    """A report ``page`` (ballistic or air picture) with the shelling's sections added before its end."""
    body = "".join(["<h1>Shelling</h1>", *_sections(world, res, run), "<h2>Sources of the rounds and radars</h2>",
                    _table(["kind", "id", "name", "source"], _sources(world), "sources")])
    return with_sections(page, body)


def build(world, res, run: int = 0) -> str:
    """The report page of :class:`~shieldlab.engine.shelling.ShellingResult` ``res`` around its scene's
    run ``run`` (a scenario of shelling only)."""
    from shieldlab import __version__

    sc, s = world.scenario, res.summary
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(sc.name)} — shieldlab "
             f"report</title><style>{_CSS}</style></head><body>", f"<h1>{html.escape(sc.name)}</h1>",
             f"<p class='meta'>{s['runs']:,} Monte Carlo runs, seed {s['seed']}{set_meta(s)} · epoch "
             f"{sc.epoch:%Y-%m-%d %H:%M} UTC · shieldlab {__version__}</p>"]
    if sc.description:
        parts.append(f"<p class='question'>{html.escape(sc.description)}</p>")
    parts += _sections(world, res, run)
    parts.append("<h2>Sources of the catalogue entries</h2>")
    parts.append(_table(["kind", "id", "name", "source (assumptions marked)"], _sources(world), "sources"))
    parts.append(f"{FOOTER}Made by shieldlab from open physics and the public figures cited above. Model "
                 "notes: docs/counter-battery.md. The 3-D scene of the run is scene.czml in the same folder "
                 "(<code>shieldlab view</code>).</p>")
    parts.append("</body></html>\n")
    return "".join(parts)
