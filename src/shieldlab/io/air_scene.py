"""The 3-D scene of one run of the air picture as CZML (the viewer's format, :mod:`shieldlab.io.scene`).

One run (``--scene-run K``) of every flight entry: each flier's true path, sampled every
:data:`SAMPLE_S` seconds and coloured by its fate (:data:`AIR_COLOURS`), the vectored
fighter's straight course from where it was vectored to its shot, the shots' kill points,
the points where failed cruise missiles came down, the radars with their coverage fans,
the fighters' patrol stations and alert bases, and the policed airspace's border.  The
fliers are ``kind: threat`` packets (the viewer lists them), with an ``outcome`` and a
``missile`` property holding the aircraft or missile type; entries weeks apart share the
one clock, and a click on a flier in the list moves the clock into its flight.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from czml3 import Clock, Document, Packet, Point, Polygon, Position, PositionList
from czml3 import Path as CzPath
from czml3.enums import ClockRanges, ClockSteps
from czml3.properties import Material, PolylineMaterial, SolidColorMaterial
from czml3.types import TimeInterval

from shieldlab import earth
from shieldlab.io.scene import (
    _OFFSET_LOW,
    COLOURS,
    _html_table,
    _iso,
    _label,
    _moving,
    _rgba,
    _sampled,
    multiplier,
    radar_packets,
)

__all__ = ["scene", "merged", "AIR_COLOURS", "SAMPLE_S", "fate", "flier_samples", "run_rows"]

#: Spacing of a flier's samples in the scene [s]: short, as an incursion may last seconds.
SAMPLE_S = 2.0
#: Entries starting this long after the first are left out of the document clock [s].
CLOCK_SPAN_S = 6 * 3600.0
#: RGBA of each fate of a flier, of fighters and of the border (the scene's one colour table).
AIR_COLOURS = {k: COLOURS[k] for k in ("shot down", "reached its target", "came down", "left the scene", "fighter",
                                       "border")}
_c = _rgba


def run_rows(outcomes: dict, run: int) -> dict[str, dict]:
    """Each flier's outcome row (``air_outcomes`` columns) in run ``run``, by flier name."""
    o = outcomes
    return {str(o["flight"][i]): {k: o[k][i] for k in o} for i in np.flatnonzero(o["run"] == run)}


def flier_samples(er, m: int, row: dict, step_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Times [s] every ``step_s`` from the flier's start to its end (``row``: its outcome row) and
    its true geodetic samples then, (K,) and (K, 3) lat [rad], lon [rad], height [m]."""
    t0, t1 = float(row["start_s"]), float(row["end_s"])
    ts = np.unique(np.concatenate([np.arange(t0, t1, step_s), [t1]]))
    p = er.paths
    k = np.clip(np.searchsorted(p.t, ts), 0, p.t.size - 1)
    return ts, np.stack([p.lat[m, k], p.lon[m, k], p.alt[m, k]], axis=-1)


def fate(row: dict) -> str:
    """A flier's fate from its outcome row (``air_outcomes`` columns)."""
    if row["killed"]:
        return "shot down"
    if row["failed"]:
        return "came down"
    return "reached its target" if row["arrived"] else "left the scene"


def scene(world, res, run: int = 0) -> Document:
    """The CZML document of run ``run`` of an :class:`~shieldlab.engine.air.AirResult` (its
    ``scene`` holds that run's entries)."""
    sc = world.scenario
    epoch = sc.epoch if sc.epoch.tzinfo else sc.epoch.replace(tzinfo=dt.UTC)
    rows = run_rows(res.outcomes, run)
    # the clock over the first flights: every entry that starts within CLOCK_SPAN_S of the first
    # (entries weeks apart are reached by a click in the viewer's list)
    starts = [float(er.paths.start_time.min()) for er in res.scene]
    t_start = min(starts) if starts else 0.0
    ends = [float(er.paths.end_time.max()) for er, s0 in zip(res.scene, starts, strict=True)
            if s0 <= t_start + CLOCK_SPAN_S]
    t_stop = max(ends) + 30.0 if ends else 60.0
    # a kill or a fall is marked until the scene's last flight ends, in whichever incident
    t_last = max((float(rows[name]["end_s"]) for er in res.scene for name in er.names), default=t_stop) + 30.0
    packets = [Packet(id="document", name=f"{sc.name} — run {run}", version="1.0",
                      clock=Clock(interval=TimeInterval(start=_iso(epoch, t_start), end=_iso(epoch, t_stop)),
                                  currentTime=_iso(epoch, t_start), multiplier=multiplier(t_stop - t_start),
                                  range=ClockRanges.LOOP_STOP, step=ClockSteps.SYSTEM_CLOCK_MULTIPLIER))]
    ref_t = t_start
    for er in res.scene:
        for m, name in enumerate(er.names):
            row = rows[name]
            f = next(x for x in world.flights if x.name == name)
            t0, t1 = float(row["start_s"]), float(row["end_s"])
            ts, geo = flier_samples(er, m, row, SAMPLE_S)
            pos = earth.geodetic_to_ecef(geo[:, 0], geo[:, 1], geo[:, 2])
            what = fate(row)
            rp = er.policing[m]
            # who shot it down: the fighter of the last shot (the viewer's details say "by")
            by = ({"by": rp.shots[-1].fighter}
                  if what == "shot down" and rp is not None and rp.shots else {})
            desc = _html_table([("type", f.spec.id), ("side", f.side), ("fate", what), *by.items(),
                                ("start", f"t = {t0:,.0f} s"), ("end", f"t = {t1:,.0f} s")]
                               + ([("inside the airspace", f"{float(row['time_inside_s']):.1f} s")]
                                  if world.policing is not None else []))
            packets.append(Packet(
                id=f"threat/{name}", name=name, description=desc,
                availability=TimeInterval(start=_iso(epoch, ts[0]), end=_iso(epoch, ts[-1])),
                properties={"kind": "threat", "outcome": what, "missile": f.spec.id, "end_time_s": t1, **by},
                position=_moving(_iso(epoch, ref_t), _sampled(ref_t, ts, pos), 3),
                point=Point(pixelSize=8, color=_c(what), outlineColor=_c("border"), outlineWidth=1),
                path=CzPath(show=True, leadTime=0, trailTime=1e7, resolution=SAMPLE_S,
                            width=2.0, material=PolylineMaterial(solidColor=SolidColorMaterial(color=_c(what)))),
                label=_label(name)))
            if what in ("shot down", "came down"):
                packets.append(Packet(
                    id=f"end/{name}", name=f"{name} {what}",
                    availability=TimeInterval(start=_iso(epoch, t1), end=_iso(epoch, max(t1, t_last))),
                    properties={"kind": "kill" if what == "shot down" else "impact", "threat": name},
                    position=Position(cartesian=[float(v) for v in pos[-1]]),
                    point=Point(pixelSize=10, color=_c(what), outlineColor=_c("border"), outlineWidth=2)))
            if rp is not None and rp.shots and rp.pf is not None:
                s = rp.shots[-1]
                tf = np.unique(np.concatenate([np.arange(rp.t_v, s.time, SAMPLE_S), [s.time]]))
                fpos = np.array([rp.shooter_at(x) for x in tf])
                packets.append(Packet(
                    id=f"fighter-course/{name}", name=f"{s.fighter} → {name}",
                    availability=TimeInterval(start=_iso(epoch, tf[0]), end=_iso(epoch, tf[-1])),
                    properties={"kind": "fighter", "fighter": s.fighter, "threat": name, "killed": s.killed},
                    position=_moving(_iso(epoch, ref_t), _sampled(ref_t, tf, fpos), 1),
                    point=Point(pixelSize=6, color=_c("fighter")),
                    path=CzPath(show=True, leadTime=0, trailTime=1e7, width=1.5,
                                material=PolylineMaterial(solidColor=SolidColorMaterial(color=_c("fighter"))))))
    # each radar's fan out to its Pd 0.5 range against the smallest flier (not its reference target)
    rcs = min((f.spec.rcs_m2 for f in world.flights), default=None)
    for i, s in enumerate(world.sensors):
        rd = s.radar
        reach_km = float(rd.spec.detection_range_km(rcs)) if rcs is not None else float(rd.spec.max_range_km)
        packets += radar_packets(i, s, [("radar", str(rd.spec.id)), ("system", s.system),
                                        ("height", f"{rd.alt:,.0f} m"),
                                        ("range", f"{float(rd.spec.max_range_km):,.0f} km against "
                                                  f"{float(rd.spec.ref_rcs_m2):g} m²; {reach_km:,.0f} km against "
                                                  f"{rcs:g} m², the fan drawn")], range_km=reach_km, alpha=30)
    pol = world.policing
    if pol is not None:
        for kind, group in (("patrol", pol.patrols), ("base", pol.bases)):
            for i, b in enumerate(group):
                packets.append(Packet(
                    id=f"{kind}/{i}", name=b.name, properties={"kind": "fighter-base", "system": kind},
                    description=_html_table([("aircraft", str(b.spec.id)), ("kind", kind),
                                             ("weapon", b.spec.weapon.name if b.spec.weapon else "none")]),
                    position=Position(cartesian=[float(v) for v in b.site.ecef]),
                    point=Point(pixelSize=9, color=_c("fighter"), outlineColor=_c("border"), outlineWidth=1),
                    label=_label(b.name, _OFFSET_LOW)))
        from shieldlab.engine.air import air_territory

        terr = air_territory(world)
        if terr is not None:
            packets += territory_packets(terr, "airspace", f"{terr.name} airspace")
    return Document(packets=packets)


def territory_packets(terr, kind: str, name: str, prefix: str = "") -> list[Packet]:
    """A country's territory (:class:`shieldlab.airspace.borders.Territory`: its land and
    waters) as ground polygons, lightly shaded with its border drawn: ``kind`` the viewer's
    (``airspace``, ``territory``), packet ids ``{prefix}{kind}/{j}``."""
    out = []
    for j, poly in enumerate(getattr(terr.lonlat, "geoms", [terr.lonlat])):
        ring = np.asarray(poly.exterior.coords)
        if ring.shape[0] > 4000:  # the viewer needs no more than this
            ring = ring[:: ring.shape[0] // 4000 + 1]
        out.append(Packet(
            id=f"{prefix}{kind}/{j}", name=name, properties={"kind": kind, "country": terr.name},
            polygon=Polygon(positions=PositionList(cartographicDegrees=[
                v for lo, la in ring for v in (float(lo), float(la), 0.0)]),
                material=Material(solidColor=SolidColorMaterial(color=_c("border", 20))),
                outline=True, outlineColor=_c("border", 200), height=0)))
    return out


def _when(x) -> dt.datetime:
    """A CZML time (a datetime, or ISO 8601 text as czml3 keeps it) as an aware datetime."""
    if isinstance(x, dt.datetime):
        return x if x.tzinfo else x.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(x).replace("Z", "+00:00"))


def merged(ballistic: Document, air: Document) -> Document:
    """One scene of a scenario of threats and flights: the ballistic run's packets (its radars)
    and the air picture's fliers, fighters and airspace (its radars are the same), under one
    clock from the earlier start to the later end of the two."""
    extra = [p for p in air.packets[1:] if not str(p.id).startswith(("radar/", "coverage/"))]
    def interval(doc: Document) -> tuple[dt.datetime, dt.datetime]:
        iv: Any = getattr(getattr(doc.packets[0], "clock", None), "interval", None)
        return _when(iv.start), _when(iv.end)

    (b0, b1), (a0, a1) = interval(ballistic), interval(air)
    start, end = min(b0, a0), max(b1, a1)
    span = (end - start).total_seconds()
    head = Packet(id="document", name=ballistic.packets[0].name, version="1.0",
                  clock=Clock(interval=TimeInterval(start=start, end=end), currentTime=start,
                              multiplier=multiplier(span), range=ClockRanges.LOOP_STOP,
                              step=ClockSteps.SYSTEM_CLOCK_MULTIPLIER))
    return Document(packets=[head] + list(ballistic.packets[1:]) + extra)
