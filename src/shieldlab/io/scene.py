"""The 3-D scene of one run as CZML (czml3): ``shieldlab run ... --out DIR`` writes ``DIR/scene.czml``.

CZML is the time-dynamic scene format of Cesium (and of STK's exports): a JSON array of
packets, each an object with a position over time and how to draw it.  The scene holds
one Monte Carlo run (``--scene-run K``, default the first):

* every threat's flight (the truth, sampled every :data:`SAMPLE_S` seconds, with its
  launch, burnout, apogee and end), cut at its intercept, coloured by outcome
  (:data:`COLOURS`), with its path drawn behind it;
* every interceptor salvo's flight, from its battery at the launch time to the planned
  intercept point at the intercept time, along the fly-out of the interceptor's own model
  (:mod:`shieldlab.engage.fan`: the launch elevation whose trajectory passes nearest the
  point, of those about as near the one there soonest, on the great circle towards it, its
  times scaled to arrive at the intercept time);
* intercept points (a kill or a miss) and the impact points of leakers;
* radar sites with their coverage fans (the azimuth field out to the catalogue's range
  against its reference target, drawn on the ground), early-warning satellites where they
  are over the raid, batteries, defended assets (their circles), and the nodes' sectors
  where the scenario has them;
* the document clock over the raid, played at :func:`multiplier` times real time.

Positions are ECEF metres (CZML's ``FIXED`` frame, the same Earth-fixed WGS84 frame the
simulation uses); times are ISO 8601 UTC from the scenario's ``epoch``.  Custom packet
``properties`` carry what a viewer lists beside the globe (``kind``, ``outcome``,
``threat``, ``battery``), so that a front end needs no other file.  A run's records come
from :func:`shieldlab.engine.chain.replay_run`, which runs that one run again: a run's
result depends only on the seed and its index, not on the chunk it ran in.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from czml3 import Clock, Color, Document, Label, Packet, Point, Polygon, Position, PositionList
from czml3 import Path as CzPath
from czml3.enums import ClockRanges, ClockSteps, HorizontalOrigins, InterpolationAlgorithms, LabelStyles
from czml3.properties import Ellipse, Material, PolylineMaterial, SolidColorMaterial
from czml3.types import Cartesian2Value, TimeInterval

from shieldlab import earth
from shieldlab.engage import fan as fan_model

#: File name of the scene in a results folder.
SCENE_FILE = "scene.czml"
#: Spacing of a flight's samples in the scene [s] (Cesium interpolates between them).
SAMPLE_S = 4.0
#: RGBA of each threat outcome, of interceptors and of sites.
COLOURS = {
    "intercepted": (46, 204, 113, 255),
    "leaked": (230, 126, 34, 255),  # orange: apart from a leak on an asset's deep red
    "leaked on an asset": (192, 57, 43, 255),
    "airborne": (241, 196, 15, 255),
    "interceptor": (93, 173, 226, 255),
    "kill": (255, 255, 255, 255),
    "miss": (149, 165, 166, 255),
    "radar": (155, 89, 182, 255),
    "satellite": (236, 112, 99, 255),
    "battery": (52, 152, 219, 255),
    "asset": (241, 196, 15, 255),
    "sector": (236, 240, 241, 255),
    # the air picture (shieldlab.io.air_scene): each flier's fate, fighters, the policed border
    "shot down": (46, 204, 113, 255),
    "reached its target": (231, 76, 60, 255),
    "came down": (149, 165, 166, 255),
    "left the scene": (241, 196, 15, 255),
    "fighter": (93, 173, 226, 255),
    "border": (255, 255, 255, 255),
}
_OFFSET, _OFFSET_LOW = Cartesian2Value(values=[10, 0]), Cartesian2Value(values=[10, 12])  # label offsets [px]
#: Fly-out elevations tried for an interceptor's drawn path [deg] (finer than the fan's table).
_ELEVATIONS_DEG = np.linspace(0.5, 89.5, 179)


def multiplier(duration_s: float) -> float:
    """Playback speed: about a minute of viewing for the raid, in round steps (1, 2, 5 x 10^k)."""
    want = max(duration_s / 60.0, 1.0)
    steps = [m * 10.0**k for k in range(0, 5) for m in (1.0, 2.0, 5.0)]
    return min(steps, key=lambda s: abs(math.log(s / want)))


def _iso(epoch: dt.datetime, t: float) -> dt.datetime:
    return epoch + dt.timedelta(seconds=float(t))


def _rgba(name: str, alpha: int | None = None) -> Color:
    r, g, b, a = COLOURS[name]
    return Color(rgba=[r, g, b, a if alpha is None else alpha])


def _label(text: str, offset: Cartesian2Value | None = None) -> Label:
    """A site's or a threat's name: white with a dark outline (readable on any imagery), to the right."""
    return Label(text=text, font="bold 13px sans-serif", fillColor=Color(rgba=[255, 255, 255, 255]),
                 outlineColor=Color(rgba=[20, 20, 20, 255]), outlineWidth=3, style=LabelStyles.FILL_AND_OUTLINE,
                 horizontalOrigin=HorizontalOrigins.LEFT, pixelOffset=_OFFSET if offset is None else offset)


def _line(name: str, width: float = 2.0) -> dict:
    return {"width": width, "material": PolylineMaterial(solidColor=SolidColorMaterial(color=_rgba(name)))}


def _fill(name: str, alpha: int) -> Material:
    return Material(solidColor=SolidColorMaterial(color=_rgba(name, alpha)))


def _moving(epoch: dt.datetime, samples: list[float], degree: int) -> Position:
    """A sampled position, Lagrange-interpolated between its samples.  (czml3's ``Position``
    takes the epoch and interpolation through a mixin that type checkers do not see: passed as a mapping.)"""
    interp: dict[str, Any] = {"epoch": epoch, "interpolationAlgorithm": InterpolationAlgorithms.LAGRANGE,
                              "interpolationDegree": degree}
    return Position(cartesian=samples, **interp)


def _sampled(epoch_t: float, t: np.ndarray, pos: np.ndarray) -> list[float]:
    """CZML's flat ``[t0, x0, y0, z0, t1, ...]`` with times in seconds after ``epoch_t``."""
    return np.column_stack([t - epoch_t, pos]).ravel().tolist()


def _html_table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                    for k, v in rows)
    return f"<table>{cells}</table>"


@dataclass(frozen=True)
class ThreatRow:
    """What the scene says of one threat (also the viewer's list)."""

    index: int
    name: str
    missile: str
    outcome: str  # "intercepted", "leaked", "leaked on an asset", "airborne"
    battery: str | None  # the battery that killed it
    end_time: float  # s from epoch: intercept, impact or the end of the simulation
    asset: str | None = None  # the defended asset it landed on ("leaked on an asset")


def threat_rows(world, chunk, c: int) -> list[ThreatRow]:
    """Each threat's outcome in run ``c`` of ``chunk`` (kill assessment's, from the truth)."""
    o, tr = chunk.outcomes, chunk.truth
    rows = []
    for n, th in enumerate(world.threats):
        if o.intercepted[c, n]:
            outcome, end = "intercepted", float(o.intercept_time[c, n])
        elif o.leaked[c, n]:
            outcome = "leaked on an asset" if o.asset_hit[c, n] >= 0 else "leaked"
            end = float(o.impact_time[c, n])
        else:
            outcome, end = "airborne", float(tr.t[-1])
        b, hit = int(o.battery[c, n]), int(o.asset_hit[c, n])
        rows.append(ThreatRow(n, th.name, str(getattr(th.missile, "id", th.missile)), outcome,
                              world.batteries[b].name if b >= 0 else None, end,
                              world.assets[hit].name if outcome == "leaked on an asset" else None))
    return rows


def _flight_samples(tr, c: int, n: int, t_end: float) -> tuple[np.ndarray, np.ndarray]:
    """Times and ECEF positions of threat ``n`` of run ``c`` from launch to ``t_end`` every
    :data:`SAMPLE_S` s, with its burnout and apogee and the end itself."""
    t0 = float(tr.launch_time[c, n])
    t_end = min(t_end, float(tr.t[-1]))
    marks = [t for t in (float(tr.burnout_time[c, n]), float(tr.apogee_time[c, n])) if t0 < t < t_end]
    t = np.unique(np.concatenate([np.arange(t0, t_end, SAMPLE_S), marks, [t_end]]))
    pos = np.column_stack([np.interp(t, tr.t, tr.pos[c, n, :, i]) for i in range(3)])
    return t, pos


def interceptor_path(battery, launch_time: float, intercept_time: float, point: np.ndarray,
                     samples: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Times and ECEF positions [m] of an interceptor's drawn flight from ``battery`` to the ECEF
    ``point``: the fly-out (:func:`shieldlab.engage.fan.flyout`, the interceptor's burnout
    speed, burn time and ballistic coefficient) at the launch elevation whose trajectory
    passes nearest the point in (ground range, altitude) (of those within 1 % of the distance
    of the nearest, the one there soonest), on the great circle towards the point, its times
    scaled to arrive at ``intercept_time``; a straight line where no trajectory comes within
    10 % of the distance."""
    lat_i, lon_i, alt_i = (float(v) for v in earth.ecef_to_geodetic(point))
    site = battery.site
    g = float(earth.great_circle_distance(site.lat, site.lon, lat_i, lon_i))
    brg = float(earth.initial_bearing(site.lat, site.lon, lat_i, lon_i))
    spec = battery.spec
    beta = getattr(spec, "ballistic_coefficient_kgm2", None) or fan_model.DEFAULT_BETA_KGM2
    f = fan_model.flyout(battery.burnout_speed, float(spec.burn_time_s), beta, elevations_deg=_ELEVATIONS_DEG,
                         dt=1.0, t_max=max(60.0, 3.0 * (intercept_time - launch_time)), x_stop=1.5 * g + 1e4)
    d2 = (f.ground_range - g) ** 2 + (f.alt - alt_i) ** 2
    d2 = np.where(np.isfinite(d2), d2, np.inf)
    scale = max(math.hypot(g, alt_i), 1.0)
    # per elevation its nearest sample; of those about as near as the nearest (within 1 % of
    # the distance), the soonest there: the fan's intercept time is the least time to the point,
    # and a lofted arc that dives onto it (an SM-3 drawn 534 km high, above its ceiling, for an
    # intercept at 249 km) is not the shot the engagement fired
    k_e = np.argmin(d2, axis=1)
    d_e = d2[np.arange(d2.shape[0]), k_e]
    near = np.flatnonzero(np.sqrt(d_e) <= np.sqrt(np.min(d_e)) + 0.01 * scale)
    e = int(near[np.argmin(f.t[k_e[near]])])  # (never empty: the nearest is within its own distance)
    k = int(k_e[e])
    s = np.linspace(0.0, 1.0, samples)
    if math.sqrt(d2[e, k]) < 0.1 * scale and k > 0:
        kk = np.arange(k + 1)
        gr, al = f.ground_range[e, kk], f.alt[e, kk]
        frac = f.t[kk] / f.t[k]
        gr, al = np.interp(s, frac, gr), np.interp(s, frac, al)
        gr[-1], al[-1] = g, alt_i
    else:  # straight in ground range and altitude
        gr, al = s * g, s * alt_i
    lat, lon = earth.destination(site.lat, site.lon, brg, gr)
    pos = earth.geodetic_to_ecef(lat, lon, np.maximum(al, site.alt))
    pos[-1] = point
    return launch_time + s * (intercept_time - launch_time), pos


def _fan_ring(radar, samples: int = 48, range_km: float | None = None) -> list[float]:
    """The radar's coverage fan on the ground: its azimuth field out to ``range_km`` (default its
    ``max_range_km``), as cartographic degrees ``[lon, lat, h, ...]`` (a full circle for a 360° radar)."""
    spec = radar.spec
    r = 1e3 * float(spec.max_range_km if range_km is None else range_km)
    half = math.radians(float(spec.az_fov_deg)) / 2.0
    full = half >= math.pi - 1e-9
    az = radar.boresight_az + (np.linspace(-math.pi, math.pi, samples, endpoint=False) if full
                               else np.linspace(-half, half, samples))
    lat, lon = earth.destination(radar.lat, radar.lon, az, r)
    pts = list(zip(np.degrees(lon), np.degrees(lat)))
    if not full:
        pts = [(math.degrees(radar.lon), math.degrees(radar.lat))] + pts
    return [v for lo, la in pts for v in (float(lo), float(la), 0.0)]


def radar_packets(i: int, placed, rows: list[tuple[str, str]], range_km: float | None = None,
                  alpha: int = 40) -> list[Packet]:
    """A placed radar's site (its description ``rows``) and its coverage fan out to ``range_km``
    (default its catalogue range) as CZML packets ``radar/i`` and ``coverage/i``."""
    rd = placed.radar
    return [
        Packet(id=f"radar/{i}", name=rd.name, description=_html_table(rows),
               properties={"kind": "radar", "system": placed.system},
               position=Position(cartesian=[float(v) for v in rd.site_ecef]),
               point=Point(pixelSize=9, color=_rgba("radar"), outlineColor=_rgba("kill"), outlineWidth=1),
               label=_label(rd.name)),
        Packet(id=f"coverage/{i}", name=f"{rd.name} coverage", properties={"kind": "coverage", "radar": rd.name},
               polygon=Polygon(positions=PositionList(cartographicDegrees=_fan_ring(rd, range_km=range_km)),
                               material=_fill("radar", alpha), outline=True, outlineColor=_rgba("radar", 160),
                               height=0)),
    ]


def scene(world, chunk, c: int = 0, run: int | None = None) -> Document:
    """The CZML document of run ``c`` of ``chunk`` (``run``: its number in the Monte Carlo,
    for the title; default ``chunk.first_run + c``)."""
    run = chunk.first_run + c if run is None else run
    sc = world.scenario
    epoch = sc.epoch if sc.epoch.tzinfo else sc.epoch.replace(tzinfo=dt.UTC)
    tr, eng = chunk.truth, chunk.engagements
    rows = threat_rows(world, chunk, c)
    t_start = min(float(tr.launch_time[c].min()), 0.0)
    t_stop = max([r.end_time for r in rows] + [float(t) for t in eng.intercept_time[eng.run == c]])
    t_stop = min(t_stop + 30.0, float(tr.t[-1]))
    packets = [Packet(id="document", name=f"{sc.name} — run {run}", version="1.0",
                      clock=Clock(interval=TimeInterval(start=_iso(epoch, t_start), end=_iso(epoch, t_stop)),
                                  currentTime=_iso(epoch, t_start), multiplier=multiplier(t_stop - t_start),
                                  range=ClockRanges.LOOP_STOP, step=ClockSteps.SYSTEM_CLOCK_MULTIPLIER))]
    ref_t = t_start

    for r in rows:
        t, pos = _flight_samples(tr, c, r.index, r.end_time)
        th = world.threats[r.index]
        desc = _html_table([("missile", r.missile),
                            ("outcome", r.outcome + (f": {r.asset}" if r.asset else "")
                             + (f" by {r.battery}" if r.battery else "")),
                            ("launch", f"{th.launch.lat_deg:.3f}°, {th.launch.lon_deg:.3f}° at t = {t[0]:.0f} s"),
                            ("aim", f"{th.aim.lat_deg:.3f}°, {th.aim.lon_deg:.3f}°"),
                            ("apogee", f"{float(tr.apogee_alt[c, r.index]) / 1e3:.0f} km"),
                            ("end", f"t = {r.end_time:.0f} s")])
        packets.append(Packet(
            id=f"threat/{r.index}", name=r.name, description=desc,
            availability=TimeInterval(start=_iso(epoch, t[0]), end=_iso(epoch, t[-1])),
            properties={"kind": "threat", "outcome": r.outcome, "missile": r.missile, "end_time_s": r.end_time,
                        **({"battery": r.battery} if r.battery else {})},  # CZML has no null
            position=_moving(_iso(epoch, ref_t), _sampled(ref_t, t, pos), 3),
            point=Point(pixelSize=8, color=_rgba(r.outcome), outlineColor=_rgba("kill"), outlineWidth=1),
            path=CzPath(show=True, leadTime=0, trailTime=1e6, resolution=SAMPLE_S, **_line(r.outcome, 2.5)),
            label=_label(r.name)))
        if r.outcome.startswith("leaked"):
            p = chunk.outcomes.impact_pos[c, r.index]
            la, lo, _ = earth.ecef_to_geodetic(np.asarray(p, float))
            packets.append(Packet(
                id=f"impact/{r.index}", name=f"{r.name} impact",
                description=_html_table([("threat", r.name), ("landed", f"{math.degrees(float(la)):.3f}°, "
                                                                         f"{math.degrees(float(lo)):.3f}° at t = "
                                                                         f"{r.end_time:.0f} s"),
                                         ("defended asset hit", r.asset or "none")]),
                availability=TimeInterval(start=_iso(epoch, r.end_time), end=_iso(epoch, t_stop)),
                properties={"kind": "impact", "threat": r.name}, position=Position(cartesian=[float(v) for v in p]),
                point=Point(pixelSize=11, color=_rgba(r.outcome))))

    owner = eng.owner(len(world.threats))
    ends = eng.end_pos()
    for e in np.flatnonzero(eng.run == c):
        b = world.batteries[int(eng.battery[e])]
        t0, t1 = float(eng.launch_time[e]), float(eng.intercept_time[e])
        if not (np.isfinite(t0) and np.isfinite(t1) and t1 > t0):
            continue
        pt = np.asarray(ends[e], float)  # a kill where the threat was; a miss at the planned point
        t, pos = interceptor_path(b, t0, t1, pt)
        n = int(owner[e])  # the threat whose complex it went at (warhead or booster), -1: a false track
        killed = bool(eng.killed[e])
        target = world.threats[n].name if 0 <= n < len(world.threats) else "a false track"
        # where the salvo went: the threat's spent booster under gnn held no warhead to kill
        at = f"{target}'s spent booster" if eng.target is not None and int(eng.target[e]) >= len(world.threats) \
            else target
        desc = _html_table([("battery", b.name), ("interceptor", str(getattr(b.spec, "id", ""))),
                            ("rounds", str(int(eng.rounds[e]))), ("at", at),
                            ("launch", f"t = {t0:.0f} s"), ("intercept", f"t = {t1:.0f} s"),
                            ("Pk (one round)", f"{float(eng.pk[e]):.2f}"), ("result", "kill" if killed else "miss")])
        packets.append(Packet(
            id=f"interceptor/{e}", name=f"{b.name} → {at}", description=desc,
            availability=TimeInterval(start=_iso(epoch, t0), end=_iso(epoch, t1)),
            properties={"kind": "interceptor", "battery": b.name, "threat": target, "killed": killed},
            position=_moving(_iso(epoch, ref_t), _sampled(ref_t, t, pos), 2),
            point=Point(pixelSize=6, color=_rgba("interceptor")),
            path=CzPath(show=True, leadTime=0, trailTime=1e6, **_line("interceptor", 1.5))))
        la, lo, alt = earth.ecef_to_geodetic(pt)
        packets.append(Packet(
            id=f"intercept/{e}", name=f"{'kill' if killed else 'miss'}: {target}",
            description=_html_table([("battery", b.name), ("at", at), ("result", "kill" if killed else "miss"),
                                     ("where", f"{math.degrees(float(la)):.3f}°, {math.degrees(float(lo)):.3f}°, "
                                               f"{float(alt) / 1e3:.1f} km up at t = {t1:.0f} s"),
                                     ("point", "where the threat was" if killed else "planned on the track")]),
            availability=TimeInterval(start=_iso(epoch, t1), end=_iso(epoch, t_stop)),
            properties={"kind": "intercept", "threat": target, "killed": killed},
            position=Position(cartesian=[float(v) for v in pt]),
            point=Point(pixelSize=10 if killed else 7, color=_rgba("kill" if killed else "miss"),
                        outlineColor=_rgba("interceptor"), outlineWidth=2)))

    for i, s in enumerate(world.sensors):
        rd = s.radar
        spec = rd.spec
        packets += radar_packets(i, s, [("radar", str(getattr(spec, "id", ""))), ("system", s.system),
                                        ("range", f"{float(spec.max_range_km):,.0f} km against its reference "
                                                  f"target of {float(spec.ref_rcs_m2):g} m² (the fan drawn; "
                                                  f"a smaller target is seen nearer)"),
                                        ("azimuth field", f"{float(spec.az_fov_deg):g}°")])
    for i, sat in enumerate(world.early_warning):
        ts = np.unique(np.concatenate([np.arange(t_start, t_stop, 30.0), [t_stop]]))
        packets.append(Packet(
            id=f"satellite/{i}", name=sat.name,
            description=_html_table([("satellite", str(getattr(sat.spec, "id", ""))), ("orbit", sat.spec.orbit),
                                     ("system", sat.system)]),
            properties={"kind": "satellite", "system": sat.system, "orbit": sat.spec.orbit},
            position=_moving(_iso(epoch, ref_t), _sampled(ref_t, ts, sat.position_at(ts)), 5),
            point=Point(pixelSize=8, color=_rgba("satellite"), outlineColor=_rgba("kill"), outlineWidth=1),
            label=_label(sat.name)))
    for i, b in enumerate(world.batteries):
        packets.append(Packet(
            id=f"battery/{i}", name=b.name,
            description=_html_table([("interceptor", str(getattr(b.spec, "id", ""))), ("rounds", str(b.rounds)),
                                     ("system", b.system), ("cue", b.cue)]),
            properties={"kind": "battery", "system": b.system},
            position=Position(cartesian=[float(v) for v in b.site.ecef]),
            point=Point(pixelSize=9, color=_rgba("battery"), outlineColor=_rgba("kill"), outlineWidth=1),
            label=_label(b.name, _OFFSET_LOW)))
    for i, a in enumerate(world.assets):
        landed = int(np.sum(chunk.outcomes.asset_hit[c] == i))
        packets.append(Packet(
            id=f"asset/{i}", name=a.name, properties={"kind": "asset", "radius_km": a.radius / 1e3},
            description=_html_table([("defended asset", a.name), ("radius", f"{a.radius / 1e3:g} km"),
                                     ("value", f"{float(a.value):g}"),
                                     ("warheads landed on it, this run", str(landed))]),
            position=Position(cartesian=[float(v) for v in a.site.ecef]),
            ellipse=Ellipse(semiMajorAxis=float(a.radius), semiMinorAxis=float(a.radius), material=_fill("asset", 70),
                            outline=True, outlineColor=_rgba("asset"), height=0),
            label=_label(a.name)))
    for i, nd in enumerate(world.nodes):
        if nd.site is not None:  # where the node's C2 sits (nodes[].site)
            packets.append(Packet(
                id=f"node/{i}", name=f"{nd.name} C2", properties={"kind": "c2-node", "node": nd.name, "side": nd.side},
                position=Position(cartesian=[float(v) for v in nd.site.ecef]),
                point=Point(pixelSize=8, color=_rgba("sector", 230), outlineColor=_rgba("kill"), outlineWidth=1),
                label=_label(f"{nd.name} C2", _OFFSET_LOW)))
        if nd.sector is None:
            continue
        for j, poly in enumerate(getattr(nd.sector, "geoms", [nd.sector])):
            ring = [v for lo, la in np.degrees(np.asarray(poly.exterior.coords)) for v in (float(lo), float(la), 0.0)]
            packets.append(Packet(
                id=f"sector/{i}/{j}", name=f"{nd.name} sector", properties={"kind": "sector", "node": nd.name},
                polygon=Polygon(positions=PositionList(cartographicDegrees=ring), material=_fill("sector", 25),
                                outline=True, outlineColor=_rgba("sector", 200), height=0)))
    return Document(packets=packets)


def write_scene(path: str | Path, doc: Document) -> None:
    """Write ``doc`` to ``path`` atomically (a temporary file beside it, then renamed)."""
    from shieldlab.io.atomic import write_text

    write_text(Path(path), doc.dumps())
