"""The 3-D scene of one run of the shelling as CZML (the viewer's format, :mod:`shieldlab.io.scene`).

The scene's run: each round's true flight (``kind: threat`` packets, which the viewer lists, with
``outcome`` located or not located and ``missile`` the round type), the weapons' true places, each
radar's estimates of the origins with their 95 % ellipses on the ground, the weapon-locating
radars with their sectors out to their reach, and the shelled country's territory (``kind:
territory``), so that the side of the border each is on shows.  Packet ids start with ``shelling-`` (so a merged
scene keeps them beside the other pictures' radars).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from czml3 import Clock, Color, Document, Packet, Point, Polygon, Position, PositionList
from czml3 import Path as CzPath
from czml3.enums import ClockRanges, ClockSteps
from czml3.properties import Material, PolylineMaterial, SolidColorMaterial
from czml3.types import TimeInterval

from shieldlab import earth
from shieldlab.artillery import ellipse as ell
from shieldlab.artillery.locating import truth_at
from shieldlab.engine.shelling import round_name, volley_rows
from shieldlab.io.air_scene import territory_packets
from shieldlab.io.scene import _html_table, _iso, _label, _moving, _sampled, multiplier

__all__ = ["scene", "SAMPLE_S"]

#: Spacing of a round's samples in the scene [s].
SAMPLE_S = 1.0
_COLOURS = {"located": (231, 76, 60, 255), "not located": (149, 165, 166, 255), "radar": (155, 89, 182, 255),
            "weapon": (30, 30, 30, 255), "estimate": (231, 76, 60, 255), "white": (255, 255, 255, 255)}


def _c(name: str, alpha: int | None = None) -> Color:
    r, g, b, a = _COLOURS[name]
    return Color(rgba=[r, g, b, a if alpha is None else alpha])


def _ring(lat, lon) -> list[float]:
    return [v for la, lo in zip(np.degrees(lat), np.degrees(lon), strict=True) for v in (float(lo), float(la), 0.0)]


def round_paths(world, v, step_s: float):
    """Each landed round of the volley ``v`` (:class:`~shieldlab.engine.shelling`'s scene run)
    with its true path sampled every ``step_s`` [s] from firing to impact, both ends exact:
    ``(i, name, t0, t1, ts, pos)``, ``pos`` (len(ts), 3) ECEF [m]; the scene and the GIS
    export draw the same paths."""
    for i in range(v.n):
        t0, t1 = float(v.fire_time[i]), float(v.impact_time[i])
        if not np.isfinite(t1):
            continue
        ts = np.unique(np.concatenate([np.arange(t0, t1, step_s), [t1]]))
        pos = truth_at(volley_rows(v, np.array([i])), ts[None])[0]
        pos[0], pos[-1] = v.origin[i], v.impact[i]
        yield i, round_name(world.shelling.missions[v.mission[i]].name, int(v.number[i])), t0, t1, ts, pos


def scene(world, res, run: int = 0) -> Document:
    """The CZML document of the scene's run of :class:`~shieldlab.engine.shelling.ShellingResult` ``res``."""
    sc = world.scenario
    epoch = sc.epoch if sc.epoch.tzinfo else sc.epoch.replace(tzinfo=dt.UTC)
    sh = world.shelling
    srun = res.scene
    v = srun.volley if srun is not None else None
    if v is not None and v.n:
        t_start, t_stop = float(v.fire_time.min()), float(np.nanmax(v.impact_time)) + 30.0
    else:
        t_start, t_stop = 0.0, 60.0
    packets = [Packet(id="document", name=f"{sc.name} — run {run}", version="1.0",
                      clock=Clock(interval=TimeInterval(start=_iso(epoch, t_start), end=_iso(epoch, t_stop)),
                                  currentTime=_iso(epoch, t_start), multiplier=multiplier(t_stop - t_start),
                                  range=ClockRanges.LOOP_STOP, step=ClockSteps.SYSTEM_CLOCK_MULTIPLIER))]
    if v is not None and srun is not None:
        located = np.zeros(v.n, bool)
        for o in srun.origins:
            located |= o.located
        for i, name, t0, t1, ts, pos in round_paths(world, v, SAMPLE_S):
            what = "located" if located[i] else "not located"
            desc = _html_table([("round", v.rounds[i].id), ("mission", sh.missions[v.mission[i]].name),
                                ("fired", f"t = {t0:,.1f} s"), ("impact", f"t = {t1:,.1f} s"), ("origin", what)])
            packets.append(Packet(
                id=f"threat/{name}", name=name, description=desc,
                availability=TimeInterval(start=_iso(epoch, t0), end=_iso(epoch, t1)),
                properties={"kind": "threat", "outcome": what, "missile": v.rounds[i].id, "end_time_s": t1},
                position=_moving(_iso(epoch, t_start), _sampled(t_start, ts, pos), 3),
                point=Point(pixelSize=6, color=_c(what), outlineColor=_c("white"), outlineWidth=1),
                path=CzPath(show=True, leadTime=0, trailTime=1e7, resolution=SAMPLE_S, width=1.5,
                            material=PolylineMaterial(solidColor=SolidColorMaterial(color=_c(what))))))
        for j, (loc, o) in enumerate(zip(sh.radars, srun.origins, strict=True)):
            k = np.flatnonzero(o.located)
            if not k.size:
                continue
            la, lo = ell.boundary(o.lat[k], o.lon[k], o.alt[k], o.cov[k], 0.95, 48)
            for q, i in enumerate(k.tolist()):
                name = round_name(sh.missions[v.mission[i]].name, int(v.number[i]))
                e = ell.ellipse(o.cov[i][None])
                packets.append(Packet(
                    id=f"shelling-estimate/{j}/{name}", name=f"{name}: origin by {loc.name}",
                    description=_html_table([("radar", loc.name), ("95 % ellipse", f"{2.4477 * e.major[0]:,.0f} x "
                                                                                   f"{2.4477 * e.minor[0]:,.0f} m")]),
                    availability=TimeInterval(start=_iso(epoch, float(o.t1[i])), end=_iso(epoch, t_stop + 1e6)),
                    properties={"kind": "estimate", "radar": loc.name, "threat": name},
                    position=Position(cartesian=[float(x) for x in o.pos[i]]),
                    point=Point(pixelSize=7, color=_c("estimate"), outlineColor=_c("white"), outlineWidth=1)))
                packets.append(Packet(
                    id=f"shelling-ellipse/{j}/{name}", name=f"{name}: 95 % ellipse by {loc.name}",
                    availability=TimeInterval(start=_iso(epoch, float(o.t1[i])), end=_iso(epoch, t_stop + 1e6)),
                    properties={"kind": "ellipse", "radar": loc.name, "threat": name},
                    polygon=Polygon(positions=PositionList(cartographicDegrees=_ring(la[q], lo[q])),
                                    material=Material(solidColor=SolidColorMaterial(color=_c("estimate", 50))),
                                    outline=True, outlineColor=_c("estimate", 220), height=0)))
    for i, m in enumerate(sh.missions):
        packets.append(Packet(
            id=f"shelling-weapon/{i}", name=f"{m.name} (weapon)", properties={"kind": "weapon", "mission": m.name},
            description=_html_table([("round", m.round.id), ("rounds", str(m.n_rounds))]),
            position=Position(cartesian=[float(x) for x in earth.geodetic_to_ecef(*m.origin)]),
            point=Point(pixelSize=9, color=_c("weapon"), outlineColor=_c("white"), outlineWidth=2),
            label=_label(m.name)))
    if res.territory is not None:  # which side of the border each round and estimate is on
        packets += territory_packets(res.territory, "territory", f"{res.territory.name} (its territory)",
                                     prefix="shelling-")
    classes = sorted({m.round.locating_class for m in sh.missions})
    for j, r in enumerate(sh.radars):
        reach = max(r.spec.range_km(c) for c in classes)
        half = math.radians(r.spec.sector_deg) / 2.0
        az = r.facing + np.linspace(-half, half, 48)
        la, lo = earth.destination(r.lat, r.lon, az, 1e3 * reach)
        ring = [math.degrees(r.lon), math.degrees(r.lat), 0.0] + _ring(la, lo)
        packets += [
            Packet(id=f"shelling-radar/{j}", name=r.name, properties={"kind": "radar", "system": "shelling"},
                   description=_html_table([("radar", r.spec.id), ("facing", f"{math.degrees(r.facing):.0f}°"),
                                            ("fence", f"{math.degrees(r.fence):.1f}°"),
                                            ("reach drawn", f"{reach:g} km")]),
                   position=Position(cartesian=[float(x) for x in earth.geodetic_to_ecef(r.lat, r.lon, r.alt)]),
                   point=Point(pixelSize=9, color=_c("radar"), outlineColor=_c("white"), outlineWidth=1),
                   label=_label(r.name)),
            Packet(id=f"shelling-sector/{j}", name=f"{r.name} sector", properties={"kind": "coverage",
                                                                                   "radar": r.name},
                   polygon=Polygon(positions=PositionList(cartographicDegrees=ring),
                                   material=Material(solidColor=SolidColorMaterial(color=_c("radar", 30))),
                                   outline=True, outlineColor=_c("radar", 160), height=0))]
    return Document(packets=packets)
