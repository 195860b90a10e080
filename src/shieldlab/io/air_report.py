"""The report of an air-picture run as one self-contained HTML page (``report.html``).

It holds the scenario's question, each flight's figures with their 95 % intervals (seen,
tracked, crossing of the policed airspace, warnings, fighters, shots; arrivals and failures
of cruise missiles), who could see them (each sensor against each type), the stated figures
checked, a map of the scene's run (true paths by fate over Natural Earth borders, radars
with their detection range against the fliers, fighters), a close-up of every crossing of
the policed border (true path, the defender's track, the fighter's course, the kill point),
the timeline of every flier in that run in UTC, and the catalogue's sources.  Like the
ballistic report it carries no clock time: the same run gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import html
import math

import numpy as np

from shieldlab import earth
from shieldlab.io.air_scene import AIR_COLOURS, fate, run_rows
from shieldlab.io.air_tables import mean_text, missiles_text, p_text, share_format, utc_text
from shieldlab.io.report import (
    _CSS,
    _HALO,
    MAP_SOURCES,
    _figure,
    _png,
    _table,
    in_frame,
    intervals_note,
    map_aspect,
    plt,
    set_meta,
    with_sections,
)

__all__ = ["build"]

_AIR_CSS = ".claims td{text-align:left;vertical-align:top;font-size:13px}.claims th{text-align:left}"


def _p(d) -> str:
    return p_text(d, none="—")


def _m(d, fmt: str = "{:,.1f}", scale: float = 1.0) -> str:
    return mean_text(d, fmt, scale, none="—")


def _utc(epoch: dt.datetime, t: float) -> str:
    return utc_text(epoch, t)


def _colour(name: str):
    return np.array(AIR_COLOURS[name][:3]) / 255.0


def _extent(lats, lons, pad: float):
    lat0, lat1 = float(np.nanmin(lats)) - pad, float(np.nanmax(lats)) + pad
    lon0, lon1 = float(np.nanmin(lons)) - pad, float(np.nanmax(lons)) + pad
    return lon0, lon1, max(lat0, -85.0), min(lat1, 85.0)


def lon_reference(lons_deg) -> float:
    """The longitude [deg] a map of points ``lons_deg`` is drawn about: their circular mean,
    moved by 360 where the points about it would run west of -180 (the maps draw a box across
    the antimeridian with its east side past 180, not its west side past -180)."""
    lo = np.radians(np.asarray(lons_deg, float).ravel())
    lo = lo[np.isfinite(lo)]
    if lo.size == 0:
        return 0.0
    ref = math.degrees(math.atan2(float(np.sin(lo).mean()), float(np.cos(lo).mean())))
    return ref + 360.0 if float(np.min(unwrap_lon(np.degrees(lo), ref))) < -180.0 else ref


def unwrap_lon(lon_deg, ref: float):
    """Longitudes [deg] within 180 of ``ref``: a route across the antimeridian drawn as one
    line (from 177.5 to -170 it ran the whole way round the map, the other way)."""
    return ref + np.mod(np.asarray(lon_deg, float) - ref + 180.0, 360.0) - 180.0


def _figsize(lon0, lon1, lat0, lat1, width: float = 9.5):
    return (width, float(np.clip(width * map_aspect(lon0, lon1, lat0, lat1), 3.5, 9.0)) + 0.8)


def report_points(world, res, rows: dict) -> dict[str, np.ndarray]:
    """Per sensor, the true positions (P, 3) [ECEF m] at which it reported a flier of the scene's
    run, each flier's until it left the air (a kill ends it: the truth flies on past it); only
    sensors with a report."""
    out = {}
    for s in world.sensors:
        pts = [d.truth_pos[0, m][d.detected[0, m] & (d.t <= float(rows[name]["end_s"]))]
               for er in res.scene for d in er.detections if d.sensor == s.radar.name
               for m, name in enumerate(er.names)]
        pts = [p for p in pts if p.size]
        if pts:
            out[s.radar.name] = np.concatenate(pts)
    return out


def where_reported_frame(world, res, rows: dict, overview) -> tuple[float, float, float, float] | None:
    """(lon0, lon1, lat0, lat1) [deg] of a map of where the radars reported the fliers: their
    report points and the reporting radars, widened to the routes' last waypoints within a
    degree of that box (the targets the reported routes run to); None
    where nothing was reported, or where that box is more than a fifth of the overview's
    ``(lon0, lon1, lat0, lat1)`` (the overview shows it well enough: turkey-airspace-2015's
    is a third, and its close-up only hid the paths' fates under the dots)."""
    pts = report_points(world, res, rows)
    if not pts:
        return None
    ref = scene_lon_reference(res)
    la, lo, _ = earth.ecef_to_geodetic(np.concatenate(list(pts.values())))
    lats, lons = [np.degrees(la)], [unwrap_lon(np.degrees(lo), ref)]
    for s in world.sensors:
        if s.radar.name in pts:
            lats.append([math.degrees(s.radar.lat)])
            lons.append([float(unwrap_lon(math.degrees(s.radar.lon), ref))])
    lon0, lon1, lat0, lat1 = _extent(np.concatenate(lats), np.concatenate(lons), 0.3)
    for f in world.flights:  # the targets the reported routes run to, where they lie near
        lat_e, lon_e = math.degrees(f.route_lat[-1]), float(unwrap_lon(math.degrees(f.route_lon[-1]), ref))
        if lon0 - 1.0 <= lon_e <= lon1 + 1.0 and lat0 - 1.0 <= lat_e <= lat1 + 1.0:
            lon0, lon1 = min(lon0, lon_e - 0.3), max(lon1, lon_e + 0.3)
            lat0, lat1 = min(lat0, lat_e - 0.3), max(lat1, lat_e + 0.3)
    o_lon0, o_lon1, o_lat0, o_lat1 = overview
    if (lon1 - lon0) * (lat1 - lat0) > (o_lon1 - o_lon0) * (o_lat1 - o_lat0) / 5.0:
        return None
    return lon0, lon1, lat0, lat1


def scene_lon_reference(res) -> float:
    """:func:`lon_reference` of the scene run's fliers' paths: every map of the air picture is
    drawn about it."""
    return lon_reference(np.concatenate([np.degrees(er.paths.lon[er.paths.flown]) for er in res.scene] or
                                        [np.zeros(0)]))


def overview_frame(world, res) -> tuple[float, float, float, float]:
    """(lon0, lon1, lat0, lat1) [deg] of the run's overview map: the flights and the radars that
    reported one of them in this run, a degree round them.  A radar that saw none
    (kalibr-caspian-2015's Armavir) drew the frame out to it and left the raid in a corner; it
    is still drawn where it falls on the map."""
    ref = scene_lon_reference(res)
    lats, lons = [], []
    for er in res.scene:
        a = er.paths.flown
        lats.append(np.degrees(er.paths.lat[a]))
        lons.append(unwrap_lon(np.degrees(er.paths.lon[a]), ref))
    reporters = {d.sensor for er in res.scene for d in er.detections if d.detected.any()}
    for s in world.sensors:
        if s.radar.name in reporters:
            lats.append([math.degrees(s.radar.lat)])
            lons.append([float(unwrap_lon(math.degrees(s.radar.lon), ref))])
    return _extent(np.concatenate(lats), np.concatenate(lons), 1.0)


def _overview(world, res, run: int, rows: dict, frame: tuple[float, float, float, float] | None = None) -> str:
    """Every flier of the scene's run over the ground, where each radar reported it, the radars with
    their range against the smallest flier, the fighters.  ``frame`` (lon0, lon1, lat0, lat1)
    [deg]: a close-up of where the radars reported them (:func:`where_reported_frame`), the
    report dots over thinner routes (on the whole map the routes go over the dots, and where
    many converge, as 26 Kalibrs' do, they hide them)."""
    from matplotlib.lines import Line2D

    from shieldlab.analysis import maps

    lon0, lon1, lat0, lat1 = overview_frame(world, res) if frame is None else frame
    close = frame is not None
    ref = scene_lon_reference(res)

    def ul(lon_deg):  # every longitude drawn, about the scene's reference (across the antimeridian)
        return unwrap_lon(lon_deg, ref)

    # the map and, right of it, the legend: the page is as wide as both (a 12-inch page held a
    # 9-inch map and a 3.5-inch legend, so the legend ran off the page and the latitude axis
    # was cut)
    map_w, map_h = _figsize(lon0, lon1, lat0, lat1, 8.5)
    # a tall map's height is capped: so is its width
    map_w = min(map_w, (map_h - 0.8) / max(map_aspect(lon0, lon1, lat0, lat1), 1e-6))
    fig, ax = plt.subplots(figsize=(map_w + 4.2, map_h))
    ax.set_anchor("W")  # the map at the left of its box, the legend beside it: the slack goes right
    maps.draw_base(ax, lon0, lon1, lat0, lat1)
    seen: dict = {}
    ended: set[str] = set()  # the ends drawn: the legend names only those
    routes = []  # every flier's ground track [deg]: the names keep off them where they can
    for er in res.scene:
        p = er.paths
        for m, name in enumerate(er.names):
            what = fate(rows[name])
            a = p.flown[m] & (p.t <= float(rows[name]["end_s"]))  # a kill ends the flight
            lo, la = ul(np.degrees(p.lon[m, a])), np.degrees(p.lat[m, a])
            # the fate over the report dots, see-through (drawn under them, the lines were buried)
            seen.setdefault(what, ax.plot(lo, la, color=_colour(what), lw=0.9 if close else 1.6,
                                          alpha=0.6 if close else 0.75, zorder=3 if close else 5)[0])
            routes.append(np.column_stack([lo, la]))
            if what in ("shot down", "came down"):  # a kill a star, as on the crossing's close-up
                ax.plot(lo[-1], la[-1], "*" if what == "shot down" else "x", color="#1d2128",
                        ms=10 if what == "shot down" else 7)
                ended.add(what)
    # where each sensor reported a flier in this run (the true position at the report), in hues
    # apart from one another and from the fates' (dark purple, blue and green read alike at 2 px)
    # (no teal: the shot-down path's green read alike under the dots of a teal sensor)
    palette = ["#8e44ad", "#2e86c1", "#e84393", "#d4ac0d", "#6e2c00", "#566573", "#ff00ff", "#000080"]
    reported = report_points(world, res, rows)
    for j, s in enumerate(world.sensors):
        if s.radar.name in reported:
            la, lo, _ = earth.ecef_to_geodetic(reported[s.radar.name])
            seen.setdefault(f"reported by {s.radar.name}",
                            ax.plot(ul(np.degrees(lo)), np.degrees(la), ".", ms=4.0 if close else 3.5,
                                    alpha=0.8 if close else 0.6, color=palette[j % len(palette)],
                                    zorder=6 if close else 4)[0])
    rcs = min(f.spec.rcs_m2 for f in world.flights)
    # the lowest height a flier keeps: a circle of the Pd 0.5 range alone said a TPY-2 saw a
    # Kalibr at 50 m some 1,300 km off, where its horizon is ~60 km
    low_m = max(min(float(np.min(np.where(np.isnan(f.route_alt), f.spec.cruise_alt_m, f.route_alt)))
                    for f in world.flights), 0.0)
    named: list[tuple[str, float, float, str]] = []  # (name, lon, lat, ink): placed once laid out
    off_map = []  # radars whose site the map leaves out: their circles' arcs, unnamed, misled
    blind = []  # radars that see no flier at the lowest height anywhere (under their elevation floor)
    for s in world.sensors:
        rd = s.radar
        rd_lon = float(ul(math.degrees(rd.lon)))
        if not (lon0 <= rd_lon <= lon1 and lat0 <= math.degrees(rd.lat) <= lat1):
            off_map.append(rd.name)
            continue
        la, lo = _reach_outline(rd, float(rd.spec.detection_range_km(rcs)), low_m)
        if la.size:
            seen.setdefault("radar: where it sees the smallest flier at the lowest height (Pd 0.5)",
                            ax.plot(ul(np.degrees(lo)), np.degrees(la), color="#9b59b6", lw=0.8, ls="--")[0])
        else:
            blind.append(rd.name)
        seen.setdefault("radar", ax.plot(rd_lon, math.degrees(rd.lat), "s", color="#9b59b6", ms=6,
                                         ls="none")[0])
        named.append((rd.name, rd_lon, math.degrees(rd.lat), "#6c3483"))
    # where the fliers come from and go to, where the scenario names the places (a route's first
    # and last waypoints: a cruise missile's launch and target, an aircraft's base and turn-back):
    # kalibr-caspian-2015's ships and its eleven targets had no mark
    # A route's start given as a point, not a site, is marked too, with its entry's name, and a
    # named start that one entry alone flies from says which (turkey-airspace-2015's two
    # incidents were told apart by their fates' colours alone)
    ends: dict[str, tuple[float, float, str]] = {}
    starters: dict[str, set[str]] = {}
    for f in world.flights:
        entry = world.scenario.flights[f.entry]
        route = entry.route
        for end, wp, lat_, lon_ in (("route start", route[0], f.route_lat[0], f.route_lon[0]),
                                    ("route end", route[-1], f.route_lat[-1], f.route_lon[-1])):
            if end == "route start":
                wp = wp if isinstance(wp, str) else entry.name
                starters.setdefault(wp, set()).add(entry.name)
            if isinstance(wp, str):
                ends.setdefault(wp, (float(ul(math.degrees(lon_))), math.degrees(lat_), end))
    for wp, (lo_, la_, end) in ends.items():
        who = starters.get(wp, set()) - {wp}
        label = f"{wp} ({next(iter(who))})" if end == "route start" and len(who) == 1 else wp
        start = end == "route start"  # (a cruise missile's launch, an aircraft's base)
        seen.setdefault(end, ax.plot(lo_, la_, "^" if start else "o", ms=7 if start else 6,
                                     mfc="#1d2128" if start else "none", mec="#1d2128", mew=1.2, ls="none",
                                     zorder=6)[0])
        named.append((label, lo_, la_, "#1d2128"))
    pol = world.policing
    if pol is not None:
        for b in list(pol.patrols) + list(pol.bases):
            seen.setdefault("fighters (patrol, alert base)",
                            ax.plot(float(ul(b.site.lon_deg)), b.site.lat_deg, "D", color="#3498db", ms=6)[0])
            named.append((b.name, float(ul(b.site.lon_deg)), b.site.lat_deg, "#1f618d"))
    if pol is not None:
        from shieldlab.engine.air import air_territory

        terr = air_territory(world)
        if terr is not None:
            # over the base map's country borders (zorder 3): under them the land border read
            # brown, and the key's red line matched only the sea edge
            lines = [ax.plot(ul(g.exterior.xy[0]), g.exterior.xy[1], color="#c0392b", lw=1.0, zorder=3.2)[0]
                     for g in getattr(terr.lonlat, "geoms", [terr.lonlat])]
            # the legend's key: a part of the airspace on the map (the first may lie off it)
            shown = in_frame(ax, lines, [""] * len(lines))[0]
            seen[f"{terr.name} airspace (with its territorial sea)"] = (shown or lines)[0]
    if "came down" in ended:
        seen["came down (where)"] = Line2D([], [], marker="x", ls="none", color="#1d2128", ms=7)
    if "shot down" in ended:
        seen["shot down (where)"] = Line2D([], [], marker="*", ls="none", color="#1d2128", ms=9)
    handles, labels = in_frame(ax, list(seen.values()), list(seen.keys()))
    leg = ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize=8,
                    framealpha=0.9)
    circles = (f"radar outlines: {rcs:g} m² at {low_m:,.0f} m" if any(lb.startswith("radar: where") for lb in labels)
               else f"the radars' reach against {rcs:g} m² at {low_m:,.0f} m lies past the map"
               if len(blind) < len(world.sensors) - len(off_map) else f"no radar sees {low_m:,.0f} m")
    if blind:
        circles += f"; blind at {low_m:,.0f} m: {', '.join(blind)}"
    if off_map:  # (a radar that reported nothing in this run does not frame the map)
        circles += f"; off the map: {', '.join(off_map)}"
    what_map = "where the radars reported the fliers" if close else "over the ground"
    ax.set_title(f"{world.scenario.name}: run {run} {what_map} ({circles})", fontsize=10, wrap=True)
    maps.scale_bar(ax, *ax.get_xlim(), *ax.get_ylim())
    fig.tight_layout()
    # the page widened by what the legend still runs past its edge (its labels' widths vary)
    over = (leg.get_window_extent(fig.canvas.get_renderer()).x1 - fig.bbox.x1) / fig.dpi  # type: ignore[attr-defined]
    if over > -0.05:
        fig.set_size_inches(fig.get_size_inches() + np.array([over + 0.15, 0.0]))
        fig.tight_layout()
    # a radar's and a fighter base's names a few km apart were written over each other, and a
    # target's name over the routes converging on it (kalibr-caspian-2015's raqqa-2)
    named = [n for n in named if lon0 <= n[1] <= lon1 and lat0 <= n[2] <= lat1]  # (a close-up's frame)
    # over the routes (zorder 4-6), halo and all: where no room clear of them is left a name had
    # been drawn under them (kalibr-caspian-2015's aleppo-3, under the converging salvo)
    maps.name_markers(fig, ax, [(lo_, la_, name, 6.0, dict(fontsize=7.5, color=ink, fontweight="bold",
                                                           path_effects=_HALO, zorder=7))
                                for name, lo_, la_, ink in named],
                      avoid=maps.line_boxes(ax, routes))
    maps.label_map(fig, ax, (lon0, lon1, lat0, lat1))
    return _png(fig, trim=True)


def _reach_outline(rd, range_km: float, alt_m: float, n_az: int = 180, n_r: int = 240):
    """(lat, lon) [rad] of the outline of where radar ``rd`` sees a target at height ``alt_m``
    [m] within ``range_km``: per azimuth the farthest ground distance at which the coverage
    map's own test holds (:func:`shieldlab.analysis.coverage.radar_covers`: the engine's field
    of regard, elevation floor and mask, line of sight through the scenario's refraction, and
    the slant range, shrunk off a face's normal), closed back to the radar where it sees
    nothing.  Empty arrays where it sees no such target anywhere (a 20 m cruise missile below
    a hill-top radar's 0.5 deg floor, at any range)."""
    from shieldlab.analysis.coverage import radar_covers

    az = np.linspace(0.0, 2 * np.pi, n_az + 1)
    dist = np.linspace(0.0, 1e3 * range_km, n_r + 1)[1:]  # (a ground distance no longer than the slant range)
    la, lo = earth.destination(rd.lat, rd.lon, az[:, None], dist[None, :])
    seen = radar_covers(rd, la, lo, alt_m, 1e3 * range_km)
    if not seen.any():
        return np.zeros(0), np.zeros(0)
    far = np.where(seen.any(axis=1), dist[seen.shape[1] - 1 - np.argmax(seen[:, ::-1], axis=1)], 0.0)
    out_la, out_lo = earth.destination(rd.lat, rd.lon, az, far)
    return np.asarray(out_la), np.asarray(out_lo)


def crossing_frame(lats: np.ndarray, lons: np.ndarray) -> tuple[float, float, float, float]:
    """(lon0, lon1, lat0, lat1) [deg] of a crossing's close-up around points ``lats``, ``lons``
    [deg]: their extent and a fifth again on each side, at least ~3.3 km from the middle each way
    (a floor of 20 km made the Su-24's 0.3 km incursion a hair's breadth on the border line), and
    no thinner than 2:1 either way on the ground."""
    lat_c, lon_c = 0.5 * (lats.min() + lats.max()), 0.5 * (lons.min() + lons.max())
    coslat = math.cos(math.radians(lat_c))
    half_x = max(0.03, 0.6 * (lons.max() - lons.min()) * coslat)  # [deg of latitude's length]
    half_y = max(0.03, 0.6 * (lats.max() - lats.min()))
    half_x, half_y = max(half_x, half_y / 2.0), max(half_y, half_x / 2.0)
    return lon_c - half_x / coslat, lon_c + half_x / coslat, lat_c - half_y, lat_c + half_y


def _close_up(world, er, m: int, row: dict, terr, epoch) -> str:
    """One crossing: the true path and the track near the entry point, the border, the fighter's
    course (where it fired no shot too) and every shot: each release, a miss hollow, and the hit."""
    from shieldlab.analysis import maps

    p, tr = er.paths, er.tracks
    t_in = float(row["entry_s"])
    t_out = float(row["exit_s"]) if np.isfinite(row["exit_s"]) else float(row["end_s"])
    near = (p.t >= t_in - 20.0) & (p.t <= t_out + 20.0)
    ref = lon_reference(np.degrees(p.lon[m, near]))

    def ul(lon_deg):  # about the crossing (one across the antimeridian drawn as one)
        return unwrap_lon(lon_deg, ref)

    lats, lons = np.degrees(p.lat[m, near]), ul(np.degrees(p.lon[m, near]))
    rp = er.policing[m]
    vectored = rp is not None and rp.pf is not None
    hit = None  # the flier's place at the hit: shot down, it belongs in the picture
    releases: list[tuple[float, float]] = []  # (lon, lat) [deg] where each shot left, in order
    if vectored and rp.shots:  # every shot belongs in the picture: where it left (a miss too)
        la, lo, _ = earth.ecef_to_geodetic(np.array([rp.shooter_at(sh.time) for sh in rp.shots], float))
        releases = list(zip(ul(np.degrees(lo)).tolist(), np.degrees(la).tolist(), strict=True))
        lats, lons = np.append(lats, [r[1] for r in releases]), np.append(lons, [r[0] for r in releases])
        if rp.shots[-1].killed:
            # where the flier was at the hit, between its samples (the sample after it put the
            # star a time step past the path's end: 2.5 km on a 10 s grid at 250 m/s)
            f = p.flown[m]
            lon_f = ul(np.degrees(p.lon[m, f]))
            hit = (float(np.interp(rp.shots[-1].hit_time, p.t[f], lon_f)),
                   float(np.interp(rp.shots[-1].hit_time, p.t[f], np.degrees(p.lat[m, f]))))
            lats, lons = np.append(lats, hit[1]), np.append(lons, hit[0])
    lon0, lon1, lat0, lat1 = crossing_frame(lats, lons)
    fig, ax = plt.subplots(figsize=_figsize(lon0, lon1, lat0, lat1, 7.5))
    maps.draw_base(ax, lon0, lon1, lat0, lat1)
    lines = []
    for g in getattr(terr.lonlat, "geoms", [terr.lonlat]):
        x, y = g.exterior.xy
        x = ul(x)
        ax.fill(x, y, color="#c0392b", alpha=0.08, lw=0)
        lines.append(ax.plot(x, y, color="#c0392b", lw=1.6, zorder=3.2)[0])
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    # the legend's key: a part of the airspace in the close-up (the first may lie off it)
    (in_frame(ax, lines, [""] * len(lines))[0] or lines)[0].set_label(
        f"{terr.name} airspace, shaded (Natural Earth 1:50m)")
    a = p.flown[m] & (p.t <= float(row["end_s"]))  # a kill ends the flight, at the hit
    what = fate(row)
    px_, py_ = ul(np.degrees(p.lon[m, a])), np.degrees(p.lat[m, a])
    if hit is not None:
        px_, py_ = np.append(px_, hit[0]), np.append(py_, hit[1])
    ax.plot(px_, py_, color=_colour(what), lw=2.0, label=f"{er.names[m]}: true path ({what})")
    firm = tr.firm[m] & (p.t <= float(row["end_s"]))  # after a kill the track coasts on, on nothing
    if firm.any():
        la, lo, _ = earth.ecef_to_geodetic(tr.x[m, firm, :3])
        ax.plot(ul(np.degrees(lo)), np.degrees(la), color="#1d2128", lw=0.9, ls="--", label="the defender's track")
    if vectored:
        # the vectored fighter's course: to its last shot, or, where it fired none, while the
        # flier was inside and after (what it flew without firing is the picture's point)
        assert rp is not None
        last = rp.shots[-1] if rp.shots else None
        until = last.time if last is not None else t_out + 20.0
        ts = np.linspace(rp.t_v, max(until, rp.t_v), 60)
        la, lo, _ = earth.ecef_to_geodetic(np.array([rp.shooter_at(t) for t in ts]))
        ax.plot(ul(np.degrees(lo)), np.degrees(la), color=_colour("fighter"), lw=1.4,
                label=f"{last.fighter if last is not None else rp.vectored} course"
                      + ("" if last is not None else " (it fired no shot)"))
        n = len(rp.shots)
        for k, (sh, (x, y)) in enumerate(zip(rp.shots, releases, strict=True)):
            said = ([f"shot {k + 1} of {n}"] if n > 1 else []) + ([] if sh.killed else ["missed"])
            # a miss's marker hollow: the release of the shot that hit is the one filled
            ax.plot(x, y, ">", color=_colour("fighter"), ms=8, mfc=_colour("fighter") if sh.killed else "white",
                    label=f"weapon released {_utc(epoch, sh.time)[11:]}" + (f" ({', '.join(said)})" if said else ""))
        if hit is not None and last is not None:
            # release to hit: where the weapon flew (drawn straight; the claim of a kill inside the
            # other country rests on it)
            x, y = releases[-1]
            ax.plot([x, hit[0]], [y, hit[1]], color=_colour("fighter"), lw=1.0,
                    ls=":", label=f"weapon, release to hit ({last.hit_time - last.time:,.0f} s)")
            ax.plot(*hit, "*", color="#1d2128", ms=12, label=f"hit {_utc(epoch, last.hit_time)[11:]}")
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    maps.scale_bar(ax, lon0, lon1, lat0, lat1)
    ax.legend(*in_frame(ax), loc="best", fontsize=7.5, framealpha=0.9)
    ax.set_title(f"{er.names[m]}: crossing at {_utc(epoch, float(row['entry_s']))} UTC, "
                 f"{float(row['time_inside_s']):.1f} s inside", fontsize=10)
    fig.tight_layout()
    return _png(fig)


def appended(page: str, world, res, run: int = 0) -> str:
    """A ballistic run's report ``page`` with the air picture's sections added before its end
    (a scenario of threats and flights)."""
    body = build(world, res, run, sections_only=True)
    return with_sections(page, f"<h1>The air picture</h1>{body}")


def build(world, res, run: int = 0, *, sections_only: bool = False) -> str:
    """The report page of :class:`~shieldlab.engine.air.AirResult` ``res`` around its scene's
    run ``run``; ``sections_only``: its sections alone, no page around them and no catalogue
    sources (to join a ballistic run's report)."""
    from shieldlab import __version__
    from shieldlab.engine.air import air_territory
    from shieldlab.io.report import catalogue_sources

    sc, s = world.scenario, res.summary
    epoch = sc.epoch if sc.epoch.tzinfo else sc.epoch.replace(tzinfo=dt.UTC)
    o = res.outcomes
    rows = run_rows(o, run)
    parts = [] if sections_only else [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(sc.name)} — shieldlab "
        f"report</title><style>{_CSS}{_AIR_CSS}</style></head><body>", f"<h1>{html.escape(sc.name)}</h1>",
        f"<p class='meta'>{s['runs']:,} Monte Carlo runs, seed {s['seed']}{set_meta(s)} · epoch "
        f"{sc.epoch:%Y-%m-%d %H:%M} UTC · shieldlab {__version__}</p>"]
    if sc.description and not sections_only:
        parts.append(f"<p class='question'>{html.escape(sc.description)}</p>")
    parts.append("<h2>Each flight</h2>")
    if s.get("interval_means"):  # (a summary written before the methods were named has none)
        parts.append(intervals_note(s))
    parts.append(_table(["flight", "type", "P(seen)", "first report by", "tracked share", "flight time [min]",
                         "route [km]"],
                        [[f["flight"] + (f" (x{f['fliers']})" if f["fliers"] > 1 else ""), f["type"], _p(f["seen"]),
                          ", ".join(f"{k} {v}" for k, v in f["first_detect_by"].items()) or "—",
                          _m(f["tracked_share"], "{:.2f}"), _m(f["flight_time_s"], "{:.1f}", 1 / 60),
                          _m(f["ground_km"], "{:,.0f}")] for f in s["flights"]]))
    missiles = [f for f in s["flights"] if f["kind"] == "cruise-missile"]
    if missiles:
        parts.append("<p class='meta'>A cruise missile's flight time and route are those of the missiles that "
                     "reach their target.</p>")
        parts.append("<h2>Arrivals and failures</h2>")
        parts.append(_table(["flight", "arrived per run", "P(failed)", "came down in"],
                            [[f["flight"], f"{_m(f['arrived_per_run'], '{:.2f}')} of {f['arrived_per_run']['of']}",
                              _p(f["failed"]),
                              ", ".join(f"{k} {v}" for k, v in f["failure_countries"].items()) or "—"]
                             for f in missiles]))
        tot = s.get("cruise_missiles")
        if tot:
            from shieldlab.io.air_tables import runs_with

            parts.append(f"<p>{missiles_text(tot['launched']).capitalize()}: {_m(tot['arrived_per_run'], '{:.1f}')} "
                         f"arrive per run, {_m(tot['failed_per_run'], '{:.1f}')} come down (failures), "
                         f"{_m(tot['shot_down_per_run'], '{:.1f}')} shot down.</p>")
            if tot["failures_per_run_by_country"]:  # (none came down: no table of where)
                parts.append(_table(["came down in", "per run", "runs"],
                                    [[c, _m(v, "{:.2f}"), runs_with(v["runs_with"])]
                                     for c, v in tot["failures_per_run_by_country"].items()]))
    # per flight entry, each with its own runs (the terminal's table pools every flier of a type)
    parts.append("<h2>Who could see them</h2><p class='meta'>Each sensor against each flight entry (the "
                 "command's table pools all fliers of one type).</p>")
    srows = []
    for f in s["flights"]:
        for name, v in f.get("sensors", {}).items():
            srows.append([f["flight"], name, _p(v["seen"]),
                          *(_m(v[k], share_format((v[k] or {}).get("mean"))) for k in ("in_view_share",
                                                                                      "reported_share"))])
    parts.append(_table(["flight", "sensor", "P(ever reported)", "share of flight in view",
                         "share of flight reported"], srows))
    parts.append("<p class='meta'>In view: above the sensor's radio horizon, inside its field of regard; reported: "
                 "detected on that scan (Swerling 1 against the flier's catalogue RCS).</p>")
    if s.get("airspace"):
        parts.append(f"<h2>{html.escape(s['airspace']['country'])} airspace</h2>")
        parts.append(_table(["flight", "P(entered)", "time inside [s]", "track: time inside [s]", "deepest [km]",
                             "inside [km]", "warnings before entry", "P(fired)", "P(killed)", "hit from border [km]"],
                            [[f["flight"], _p(f["entered"]), _m(f["time_inside_s"]), _m(f["est_time_inside_s"]),
                              _m(f["max_depth_km"], "{:.2f}"), _m(f["distance_inside_km"], "{:.2f}"),
                              _m(f["warnings_before_entry"], "{:.1f}"), _p(f["fired"]), _p(f["killed"]),
                              _m(f["hit_depth_km"], "{:+.2f}")] for f in s["flights"]]))
        parts.append("<p class='meta'>Hit from border: positive inside the airspace, negative outside. The track's "
                     "time inside is what the defender's radar track showed.</p>")
        frows = [[f["flight"], n, _p(v["in_range_while_inside"]), _m(v["in_range_after_entry_s"], "{:,.0f}"),
                  _m(v["order_to_entry_range_s"], "{:,.0f}"), _m(v["order_before_entry_s"], "{:,.0f}")]
                 for f in s["flights"] for n, v in f.get("fighters", {}).items()]
        if frows:
            parts.append("<h3>Fighters</h3>")
            parts.append(_table(["flight", "fighter", "P(in weapon range while inside)", "in range after entry [s]",
                                 "order to weapon range of the entry point [s]", "order before entry [s]"], frows))
    claims = [[f["flight"], c["by"], "; ".join(c["notes"]) or "—", c.get("source", "")]
              for f in s["flights"] for c in f.get("claims", [])]
    if claims:
        parts.append("<h2>Stated figures, checked</h2>")
        parts.append(_table(["flight", "who", "check", "source"], claims, "claims"))
    if res.scene:
        parts.append(f"<h2>Run {run} over the ground</h2>")
        parts.append(_figure(_overview(world, res, run, rows),
                             f"Run {run}: every flier's true path by its fate." + MAP_SOURCES, "map of the run"))
        close = where_reported_frame(world, res, rows, overview_frame(world, res))
        if close is not None:
            parts.append(_figure(_overview(world, res, run, rows, frame=close),
                                 f"Run {run}, closer: where each radar reported a flier (the true position at "
                                 "each report), over the routes." + MAP_SOURCES, "map of the reports"))
        terr = air_territory(world)
        if terr is not None:
            for er in res.scene:
                for m, name in enumerate(er.names):
                    if rows[name]["entered"]:
                        parts.append(_figure(_close_up(world, er, m, rows[name], terr, epoch),
                                             f"{name}: the crossing of the border in run {run}." + MAP_SOURCES,
                                             f"{name} crossing"))
        parts.append(f"<h2>Timeline of run {run} (UTC)</h2>")
        ev = res.events
        sel = np.flatnonzero(ev["run"] == run)
        parts.append(_table(["time (UTC)", "flight", "event", "by", "detail"],
                            [[_utc(epoch, float(ev["t_s"][i])), str(ev["threat"][i]), str(ev["kind"][i]),
                              str(ev["actor"][i]), str(ev["detail"][i])] for i in sel[:400]]))
        if sel.size > 400:
            parts.append(f"<p class='meta'>{sel.size - 400} more events in events.parquet.</p>")
    src = [] if sections_only else catalogue_sources(world)  # the ballistic report lists those
    seen: set = set()
    for f in world.flights:
        if f.spec.id not in seen:
            seen.add(f.spec.id)
            src.append([f.spec.kind, f.spec.id, f.spec.name, f.spec.source.strip()])
    if world.policing is not None:
        for b in list(world.policing.patrols) + list(world.policing.bases):
            if b.spec.id not in seen:
                seen.add(b.spec.id)
                src.append([b.spec.kind, b.spec.id, b.spec.name, b.spec.source.strip()])
    parts.append("<h2>Sources of the catalogue entries</h2>" if not sections_only else
                 "<h2>Sources of the aircraft and cruise-missile entries</h2>")
    parts.append(_table(["kind", "id", "name", "source"], src, "sources"))
    if sections_only:
        return f"<style>{_AIR_CSS}</style>" + "".join(parts)
    parts.append("</body></html>\n")
    return "".join(parts)
