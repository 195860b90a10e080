"""Open formats for GIS tools and Google Earth: GeoJSON (RFC 7946) and KML 2.2.

Each exporter turns what a command has computed into a :class:`FeatureSet`, a list of
:class:`Feature` independent of the format; :func:`write` writes it as
``PATH_BASE.geojson`` and/or ``PATH_BASE.kml``, each atomically
(:func:`shieldlab.io.atomic.atomic_path`).

Frame and units, everywhere: WGS84 geodetic coordinates, x = longitude [deg], y = latitude
[deg], z = altitude above the WGS84 ellipsoid [m] (GeoJSON's position order, RFC 7946
section 3.1.1; KML's ``lon,lat,alt``), from the engine's ECEF positions by
:func:`shieldlab.earth.ecef_to_geodetic`.  Properties carry their unit in their name
(``time_s``, ``alt_km``, ``area_km2``); times are seconds from the scenario's epoch (for
``flyout`` and ``reach``, which have no epoch: seconds from the threat's launch).  Where
an epoch is known, KML features carry ``<TimeStamp>``/``<TimeSpan>`` (and an animated
``gx:Track`` per flight) so that Google Earth's time slider plays the raid, and GeoJSON
features carry ISO 8601 UTC ``*_utc`` properties (QGIS's temporal controller reads them).

Exporters: :func:`run_features` (one Monte Carlo run: trajectories, interceptor flights,
intercept and impact points, radars, batteries, assets; a run's records come from
:func:`shieldlab.engine.chain.replay_run`), :func:`flyout_features`, :func:`reach_features`,
:func:`footprint_features`, :func:`aircraft_features` and :func:`coverage_features`.

Limits: the engine records an interceptor's launch (its battery, the time) and its intercept
point and time (a kill where the threat truly was then, a miss at the planned point), not its
flight: interceptor paths are *drawn* from those (:func:`shieldlab.io.scene.interceptor_path`:
the interceptor's own fly-out model towards the point), as in the 3-D scene.  In GeoJSON a line that
crosses the antimeridian is cut there into a MultiLineString and an area across it is split
into parts within ±180° (RFC 7946 section 3.1.9); KML keeps a line whole (Google Earth
draws it the short way).
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from shieldlab import earth
from shieldlab.errors import InputError
from shieldlab.io.atomic import atomic_path
from shieldlab.io.results import FALSE_TRACK
from shieldlab.io.scene import COLOURS as SCENE_COLOURS
from shieldlab.io.scene import interceptor_path, threat_rows

#: Formats :func:`write` knows, and the suffix of each file.
FORMATS = {"geojson": ".geojson", "kml": ".kml"}

#: Default spacing of the points of a drawn flight [s] (events are added: burnout, apogee, end).
STEP_S = 10.0

KML_NS = "http://www.opengis.net/kml/2.2"
GX_NS = "http://www.google.com/kml/ext/2.2"

#: Decimals written: 1e-7 deg (about 1 cm) and 0.01 m.
_DEG_DIGITS = 7
_ALT_DIGITS = 2

#: What a drawn interceptor path is (the ``path`` property).
INTERCEPTOR_PATH = ("drawn from the records: the interceptor's fly-out model (its launch elevation passing nearest "
                    "its intercept point: a kill where the threat was, a miss the planned point) on the great circle "
                    "towards it, timed from launch to intercept "
                    "(the engine records launch and intercept only)")


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Feature:
    """One geographic feature, independent of the format.

    ``geometry``: shapely, x = lon [deg], y = lat [deg], z (where given) = altitude above
    the WGS84 ellipsoid [m].  ``properties``: JSON-ready values, units in the names.
    ``times_s``: one time per vertex of a line [s from the epoch] (GeoJSON property
    ``times_s``; a KML ``gx:Track``).  ``begin_s``/``end_s``: the time span a feature
    exists in (a point event: ``begin_s == end_s``, a KML ``<TimeStamp>``).
    ``altitude``: ``absolute`` (z above the ellipsoid) or ``clampToGround`` (KML's
    altitude modes; GeoJSON positions carry z either way where it is known).
    """

    layer: str  # KML folder / GeoJSON property "layer"
    name: str
    geometry: BaseGeometry
    style: str  # key of the style (see _style)
    properties: dict = field(default_factory=dict)
    times_s: tuple[float, ...] | None = None
    begin_s: float | None = None
    end_s: float | None = None
    altitude: str = "absolute"


@dataclass(frozen=True)
class FeatureSet:
    """What one command exports: its features in layer order, a title, and the UTC instant
    of time 0 (None where times are only relative: seconds after a launch)."""

    name: str
    features: tuple[Feature, ...]
    epoch: datetime | None = None
    description: str = ""
    properties: dict = field(default_factory=dict)  # document-level facts (GeoJSON member "shieldlab")

    def __post_init__(self) -> None:
        # grouped by layer (in the order the layers first appear), the order kept within each
        order = {name: i for i, name in enumerate(dict.fromkeys(f.layer for f in self.features))}
        object.__setattr__(self, "features", tuple(sorted(self.features, key=lambda f: order[f.layer])))

    def layer(self, name: str) -> list[Feature]:
        return [f for f in self.features if f.layer == name]


# --------------------------------------------------------------------------- helpers
def _num(x, nd: int | None = None):
    """A JSON-ready number: ``None`` for nan/inf, Python int/float, rounded to ``nd``."""
    if x is None:
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    x = float(x)
    if not math.isfinite(x):
        return None
    return (round(x, nd) if nd is not None else x) + 0.0  # (+ 0.0: no -0.0 in a file)


def _clean(v):
    """A property value ready for JSON: nan/inf -> None, NumPy scalars and arrays -> Python."""
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_clean(x) for x in v]
    if isinstance(v, (float, int, np.floating, np.integer, np.bool_)) and not isinstance(v, bool):
        return _num(v)
    return v


def _geodetic(p) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ECEF (..., 3) [m] -> (lon [deg], lat [deg], alt [m])."""
    lat, lon, alt = earth.ecef_to_geodetic(np.asarray(p, float))
    return np.degrees(lon), np.degrees(lat), np.asarray(alt, float)


def _point_ecef(p) -> Point:
    lon, lat, alt = _geodetic(np.asarray(p, float).reshape(1, 3))
    return Point(float(lon[0]), float(lat[0]), float(alt[0]))


def _hermite(t: np.ndarray, pos: np.ndarray, vel: np.ndarray, times) -> np.ndarray:
    """Positions (K, 3) at ``times`` (K,) on a flight sampled at ``t`` (T,) uniform
    [s], ``pos``/``vel`` (T, 3) ECEF [m, m/s]: cubic Hermite between samples (exact on them)."""
    times = np.asarray(times, float)
    if t.size < 2:
        return np.repeat(pos[:1], times.size, axis=0)
    dt = float(t[1] - t[0])
    i = np.clip(np.floor((times - t[0]) / dt).astype(np.int64), 0, t.size - 2)
    s = np.clip((times - t[i]) / dt, 0.0, 1.0)[:, None]
    h00, h10 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s
    h01, h11 = -2 * s**3 + 3 * s**2, s**3 - s**2
    return h00 * pos[i] + h10 * dt * vel[i] + h01 * pos[i + 1] + h11 * dt * vel[i + 1]


def _flight_times(start: float, end: float, step_s: float, events=()) -> np.ndarray:
    """``start, start + step, ...`` before ``end``, the ``events`` inside, and ``end`` [s]."""
    ts = np.arange(start, end, step_s) if end > start else np.array([start])
    ev = [e for e in events if e is not None and math.isfinite(e) and start < e < end]
    ts = np.unique(np.concatenate([ts, ev, [end]]))
    keep = np.concatenate([[True], np.diff(ts) > 1e-6])
    return ts[keep]


def _path(t, pos, vel, start: float, end: float, step_s: float, events=(), end_pos=None):
    """A flight's line: (times (K,), LineString lon/lat/alt) from ``start`` to ``end``,
    every ``step_s`` plus ``events``; the last vertex ``end_pos`` (ECEF) where given."""
    ts = _flight_times(start, end, step_s, events)
    p = _hermite(t, pos, vel, ts)
    if end_pos is not None and np.isfinite(end_pos).all():
        p[-1] = end_pos
    lon, lat, alt = _geodetic(p)
    return ts, _line(lon, lat, alt)


def _line(lon, lat, alt) -> LineString:
    xyz = np.column_stack([lon, lat, alt])
    if len(xyz) == 1:  # a line needs two vertices
        xyz = np.vstack([xyz, xyz])
    return LineString(xyz)


def _iso(epoch: datetime | None, t_s) -> str | None:
    """UTC instant ``t_s`` seconds after ``epoch``: ISO 8601 with milliseconds and ``Z``."""
    if epoch is None or t_s is None or not math.isfinite(float(t_s)):
        return None
    when = epoch + timedelta(milliseconds=round(1e3 * float(t_s)))  # to the millisecond written
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _timed(props: dict, epoch: datetime | None, **times) -> dict:
    """``props`` with each ``NAME_s`` time and, where an epoch is known, its ``NAME_utc``."""
    out = dict(props)
    for key, t in times.items():
        out[f"{key}_s"] = _num(t, 3)
        if epoch is not None:
            out[f"{key}_utc"] = _iso(epoch, t)
    return out


def _circle(lat_rad: float, lon_rad: float, radius_m: float, n: int = 72) -> Polygon:
    """Circle of ``radius_m`` on the mean sphere about a point, as a lon/lat [deg] polygon."""
    brg = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    la, lo = earth.destination(lat_rad, lon_rad, brg, radius_m)
    return Polygon(np.column_stack([np.degrees(lo), np.degrees(la)]))


def mask_polygons(mask: np.ndarray, lat_deg: np.ndarray, lon_deg: np.ndarray,
                  simplify: bool = True) -> BaseGeometry:
    """The cells of a grid where ``mask`` (n_lat, n_lon) holds, as one (multi)polygon
    [lon, lat deg]: each node's cell (the node +- half a step, clipped to the globe's
    bounds) merged along rows, the rows' boxes united (:func:`shapely.union_all`) and,
    with ``simplify``, simplified within half a cell (topology kept)."""
    mask = np.asarray(mask, bool)
    lat_deg, lon_deg = np.asarray(lat_deg, float), np.asarray(lon_deg, float)
    dlat = float(lat_deg[1] - lat_deg[0]) if lat_deg.size > 1 else float(lon_deg[1] - lon_deg[0])
    dlon = float(lon_deg[1] - lon_deg[0]) if lon_deg.size > 1 else dlat
    if not mask.any():
        return Polygon()
    pad = np.zeros((mask.shape[0], 1), np.int8)
    d = np.diff(np.hstack([pad, mask.astype(np.int8), pad]), axis=1)
    rows_a, starts = np.nonzero(d == 1)
    rows_b, ends = np.nonzero(d == -1)  # exclusive; np.nonzero walks rows in order, so they pair up
    assert (rows_a == rows_b).all()
    # cell edges from their index, so that a shared edge is one number in every box (a grid
    # across the antimeridian runs on past 180: its eastern part is moved back below)
    east = 540.0 if lon_deg[-1] > 180.0 else 180.0
    x0 = np.clip(lon_deg[0] + (starts - 0.5) * dlon, -180.0, east)
    x1 = np.clip(lon_deg[0] + (ends - 0.5) * dlon, -180.0, east)
    y0 = np.clip(lat_deg[0] + (rows_a - 0.5) * dlat, -90.0, 90.0)
    y1 = np.clip(lat_deg[0] + (rows_a + 0.5) * dlat, -90.0, 90.0)
    geom = shapely.union_all(shapely.box(x0, y0, x1, y1))
    if simplify:
        geom = geom.simplify(0.5 * min(dlat, dlon), preserve_topology=True)
    if east > 180.0:  # GeoJSON and KML longitudes lie in [-180, 180]: the part past 180 moved west
        from shapely import affinity

        geom = shapely.union(geom.intersection(shapely.box(-180.0, -90.0, 180.0, 90.0)),
                             affinity.translate(geom.intersection(shapely.box(180.0, -90.0, 540.0, 90.0)), -360.0))
    # on the written precision, so that the files' polygons stay valid
    return shapely.set_precision(geom, 10.0**-_DEG_DIGITS)


def territory_clip(terr) -> dict:
    """The disc a country's territory was cut to, as a feature's properties (``clipped_to_km``
    about ``clip_lat_deg``, ``clip_lon_deg``; nothing where it was not cut): the polygon is the
    country's land and sea within it, not the whole country (Turkey's 780,000 km² measured
    57,791 in the Akçakale export, and nothing said so)."""
    if getattr(terr, "clip_radius_m", None) is None:
        return {}
    return {"clipped_to_km": _num(terr.clip_radius_m / 1e3, 1), "clip_lat_deg": _num(terr.lat0_deg, 6),
            "clip_lon_deg": _num(terr.lon0_deg, 6)}


def _area_props(geom: BaseGeometry) -> dict:
    return {"polygons": len(getattr(geom, "geoms", [geom])) if not geom.is_empty else 0}


# --------------------------------------------------------------------------- run
def _threat_layer(world, chunk, c: int, step_s: float) -> list[Feature]:
    """Each threat's true flight in run ``c`` of the chunk: launch to intercept (where
    intercepted), impact (where it landed) or the end of the simulated time."""
    epoch = world.scenario.epoch
    tr, o = chunk.truth, chunk.outcomes
    bnames = [b.name for b in world.batteries]
    anames = [a.name for a in world.assets]
    rows = threat_rows(world, chunk, c)
    out = []
    for n, th in enumerate(world.threats):
        pos, vel = tr.pos[c, n], tr.vel[c, n]
        launch, burnout, apogee, impact = (float(np.broadcast_to(a, o.intercepted.shape)[c, n])
                                           for a in (tr.launch_time, tr.burnout_time, tr.apogee_time, tr.impact_time))
        impact_pos = np.broadcast_to(tr.impact_pos, o.intercepted.shape + (3,))[c, n]
        # the outcome and its time as the scene has them (a leak on an asset is a leak here, its
        # asset in asset_hit)
        row = rows[n]
        outcome = "leaked" if row.outcome.startswith("leaked") else row.outcome
        end, end_pos = row.end_time, (impact_pos if outcome == "leaked" else None)
        ended = {"intercepted": "intercept", "leaked": "impact", "airborne": "end of the simulated time"}[outcome]
        ts, line = _path(tr.t, pos, vel, launch, end, step_s, (burnout, apogee), end_pos)
        alt_km = np.asarray(line.coords)[:, 2] / 1e3
        props = {"kind": "threat", "threat": th.name, "group": th.group, "missile": th.missile.id,
                 "profile": th.profile, "outcome": outcome, "ends_at": ended,
                 "intercepted_by": bnames[o.battery[c, n]] if o.battery[c, n] >= 0 else None,
                 "asset_hit": anames[o.asset_hit[c, n]] if o.asset_hit[c, n] >= 0 else None,
                 "engagements": int(o.engagements[c, n]), "interceptors_fired": int(o.interceptors[c, n]),
                 "apogee_km": _num(np.broadcast_to(tr.apogee_alt, o.intercepted.shape)[c, n] / 1e3, 3),
                 "max_alt_km": _num(alt_km.max(), 3), "points": len(ts)}
        props = _timed(props, epoch, launch_time=launch, burnout_time=burnout, apogee_time=apogee,
                       end_time=end, intercept_time=o.intercept_time[c, n] if o.intercepted[c, n] else None,
                       impact_time=impact if outcome == "leaked" else None)
        style = "threat-leaked-asset" if outcome == "leaked" and props["asset_hit"] else f"threat-{outcome}"
        out.append(Feature("Threats", th.name, line, style, props, tuple(float(x) for x in ts),
                           launch, end))
        if outcome == "leaked":
            pt = _point_ecef(impact_pos)
            out.append(Feature("Impacts", f"{th.name} impact", pt, "impact-asset" if props["asset_hit"] else "impact",
                               _timed({"kind": "impact", "threat": th.name, "asset_hit": props["asset_hit"],
                                       "lat_deg": _num(pt.y, 6), "lon_deg": _num(pt.x, 6)}, epoch, time=impact),
                               None, impact, impact, "clampToGround"))
    return out


def _engagement_layers(world, chunk, c: int, step_s: float) -> list[Feature]:
    """Run ``c``'s salvos: each one's drawn flight (:data:`INTERCEPTOR_PATH`) and where it ended
    (:meth:`~shieldlab.engage.records.Engagements.end_pos`: a kill where the threat was, a miss
    at the planned intercept point)."""
    epoch = world.scenario.epoch
    e = chunk.engagements
    N = len(world.threats)
    owner = e.owner(N)
    lines, points = [], []
    ends = e.end_pos()
    for i in np.flatnonzero(e.run == c):
        bat = world.batteries[e.battery[i]]
        target = "warhead"
        if e.target is not None:
            target = "false track" if e.target[i] < 0 else ("booster" if e.target[i] >= N else "warhead")
        threat = world.threats[owner[i]].name if owner[i] >= 0 else FALSE_TRACK
        p_int = np.asarray(ends[i], float)
        if not np.isfinite(p_int).all():
            continue
        result = "kill" if e.killed[i] else "miss"
        t0, t1 = float(e.launch_time[i]), float(e.intercept_time[i])
        ilon, ilat, ialt = (float(a[0]) for a in _geodetic(p_int[None]))
        common = {"battery": bat.name, "interceptor": bat.spec.id, "system": bat.system, "threat": threat,
                  "target": target, "rounds": int(e.rounds[i]), "result": result,
                  "pk": _num(e.pk[i], 4), "closing_speed_kms": _num(e.closing_speed[i] / 1e3, 4),
                  "crossing_angle_deg": _num(np.degrees(e.crossing_angle[i]), 2),
                  "prediction_error_m": _num(e.prediction_error[i], 1), "pip_sigma_m": _num(e.pip_sigma[i], 1),
                  "boost_track": bool(e.boost_track[i])}
        # the drawn flight: the interceptor's fly-out model towards its end point (the scene's)
        ts, pos = interceptor_path(bat, t0, t1, p_int, samples=max(2, int(math.ceil((t1 - t0) / step_s)) + 1))
        lon_d, lat_d, alt = _geodetic(pos)
        lon_d[-1], lat_d[-1], alt[-1] = ilon, ilat, ialt  # exactly the intercept point
        lines.append(Feature("Interceptors", f"{bat.name} -> {threat} ({result})", _line(lon_d, lat_d, alt),
                             f"interceptor-{result}",
                             _timed({"kind": "interceptor", **common, "path": INTERCEPTOR_PATH}, epoch,
                                    launch_time=t0, intercept_time=t1),
                             tuple(float(x) for x in ts), t0, t1))
        points.append(Feature("Intercepts", f"{threat} {result} by {bat.name}", Point(ilon, ilat, ialt),
                              f"intercept-{result}",
                              _timed({"kind": "intercept", **common, "intercept_lat_deg": _num(ilat, 7),
                                      "intercept_lon_deg": _num(ilon, 7), "intercept_alt_km": _num(ialt / 1e3, 5)},
                                     epoch, launch_time=t0, intercept_time=t1),
                              None, t1, t1))
    return lines + points


def site_features(world) -> list[Feature]:
    """The scenario's radars, batteries and defended assets (points at their sites, lon/lat
    [deg], alt [m]; each asset's defended circle as a polygon on the mean sphere), and its C2
    nodes: where each sits (``nodes[].site``) and its sector (``nodes[].sector``, lon/lat
    [deg]; ``engages_here``: whether the architecture, ``sectoral``, holds the node to it)."""
    out = []
    for ps in world.sensors:
        r = ps.radar
        out.append(Feature("Radars", r.name, Point(math.degrees(r.lon), math.degrees(r.lat), float(r.alt)), "radar",
                           {"kind": "radar", "radar": r.name, "sensor": r.spec.id, "system": ps.system,
                            "boresight_az_deg": _num(math.degrees(r.boresight_az), 2),
                            "az_fov_deg": _num(r.spec.az_fov_deg, 2), "max_range_km": _num(r.spec.max_range_km, 1)},
                           altitude="clampToGround"))
    for b in world.batteries:
        out.append(Feature("Batteries", b.name, Point(b.site.lon_deg, b.site.lat_deg, float(b.site.alt)), "battery",
                           {"kind": "battery", "battery": b.name, "interceptor": b.spec.id, "system": b.system,
                            "rounds": int(b.rounds), "salvo": int(b.salvo), "cue": b.cue,
                            "burnout_speed_kms": _num(b.burnout_speed / 1e3, 4),
                            "reaction_time_s": _num(b.reaction_time, 2)},
                           altitude="clampToGround"))
    for a in world.assets:
        props = {"kind": "asset", "asset": a.name, "radius_km": _num(a.radius / 1e3, 3), "value": _num(a.value)}
        out.append(Feature("Defended assets", a.name, Point(a.site.lon_deg, a.site.lat_deg, float(a.site.alt)),
                           "asset", props, altitude="clampToGround"))
        out.append(Feature("Defended assets", f"{a.name} area", _circle(a.site.lat, a.site.lon, a.radius),
                           "asset-area", {**props, "kind": "asset-area"}, altitude="clampToGround"))
    for nd in world.nodes:
        if nd.site is not None:  # where the node's C2 sits (nodes[].site)
            out.append(Feature("C2 nodes", f"{nd.name} C2", Point(nd.site.lon_deg, nd.site.lat_deg,
                                                                  float(nd.site.alt)), "c2-node",
                               {"kind": "c2-node", "node": nd.name, "side": nd.side}, altitude="clampToGround"))
        if nd.sector is not None:  # its area of responsibility (nodes[].sector; radians inside)
            geom = shapely.set_precision(shapely.transform(nd.sector, np.degrees), 10.0**-_DEG_DIGITS)
            out.append(Feature("C2 nodes", f"{nd.name} sector", geom, "sector",
                               {"kind": "sector", "node": nd.name, "side": nd.side,
                                "engages_here": world.architecture == "sectoral", **_area_props(geom)},
                               altitude="clampToGround"))
    return out


def run_features(world, chunk, run: int, *, step_s: float = STEP_S, seed: int | None = None) -> FeatureSet:
    """One Monte Carlo run (``run``: its index in the whole simulation, held by ``chunk``,
    a :class:`~shieldlab.engine.chain.ChunkResult`) as features:

    * ``Threats``: each threat's true flight (lines, z altitude [m]), launch to its end
      (intercept, impact, or the end of the simulated time), a vertex every ``step_s``
      seconds plus burnout, apogee and the end; style and property ``outcome``
      (intercepted, leaked, airborne); ``times_s`` per vertex;
    * ``Impacts``: where each leaked threat landed;
    * ``Interceptors``: each salvo's flight, drawn (:data:`INTERCEPTOR_PATH`), style by
      result (kill, miss); ``Intercepts``: where each salvo's flight ended (x, y, z; a kill
      where the threat truly was, a miss at the planned intercept point: ``end_pos``);
    * ``Radars``, ``Batteries``, ``Defended assets``, ``C2 nodes`` (their sites and sectors;
      :func:`site_features`).
    """
    c = run - chunk.first_run
    C = chunk.outcomes.intercepted.shape[0]
    if not 0 <= c < C:
        raise ValueError(f"run {run} is not in this chunk (runs {chunk.first_run}..{chunk.first_run + C - 1})")
    feats = (_threat_layer(world, chunk, c, step_s) + _engagement_layers(world, chunk, c, step_s)
             + site_features(world))
    o = chunk.outcomes
    meta = {"command": "run", "scenario": world.scenario.name, "run": int(run), "seed": seed,
            "epoch_utc": _iso(world.scenario.epoch, 0.0), "threats": len(world.threats),
            "intercepted": int(o.intercepted[c].sum()), "leaked": int(o.leaked[c].sum()),
            "step_s": step_s, "interceptor_paths": INTERCEPTOR_PATH}
    return FeatureSet(f"{world.scenario.name}: run {run}", tuple(feats), world.scenario.epoch,
                      f"shieldlab run {run}" + (f" (seed {seed})" if seed is not None else "")
                      + f": {meta['intercepted']} intercepted, {meta['leaked']} leaked of {meta['threats']}", meta)


# --------------------------------------------------------------------------- air picture
def air_features(world, res, run: int, *, step_s: float = STEP_S, seed: int | None = None) -> FeatureSet:
    """One run of the air picture (``res``: an :class:`~shieldlab.engine.air.AirResult` whose
    scene holds run ``run``) as features:

    * ``Aircraft and cruise missiles``: each flier's true path (lines, z altitude [m]), a
      vertex every ``step_s`` seconds and at its end, style and property ``fate`` (shot down,
      reached its target, came down, left the scene), ``times_s`` per vertex;
    * ``Kills and failures``: where a flier was shot down or came down;
    * ``Fighters``: each vectored fighter's straight course from its vectoring to its shot,
      and the patrol stations and alert bases;
    * ``Radars`` (:func:`site_features`), and ``Airspace``: the policed country's territory
      with its territorial sea (the polygon the crossings are measured against).
    """
    from shieldlab.engine.air import air_territory
    from shieldlab.io.air_scene import fate, flier_samples, run_rows

    epoch = world.scenario.epoch
    o = res.outcomes
    rows = run_rows(o, run)
    feats: list[Feature] = []
    for er in res.scene:
        for m, name in enumerate(er.names):
            row = rows[name]
            f = next(x for x in world.flights if x.name == name)
            t0, t1 = float(row["start_s"]), float(row["end_s"])
            ts, geo = flier_samples(er, m, row, step_s)
            line = _line(np.degrees(geo[:, 1]), np.degrees(geo[:, 0]), geo[:, 2])
            what = fate(row)
            style = "air-" + what.replace(" ", "-")
            props = _timed({"kind": "flier", "flight": name, "type": f.spec.id, "side": f.side, "fate": what,
                            # (null where no airspace is policed: there is nothing to be inside)
                            "time_inside_s": _num(row["time_inside_s"], 2) if world.policing is not None else None,
                            "ground_km": _num(row["ground_km"], 3),
                            "points": len(ts)}, epoch, start_time=t0, end_time=t1)
            feats.append(Feature("Aircraft and cruise missiles", name, line, style, props,
                                 tuple(float(x) for x in ts), t0, t1))
            if what in ("shot down", "came down"):
                end = Point(*np.asarray(line.coords)[-1])
                feats.append(Feature("Kills and failures", f"{name} {what}", end, style,
                                     _timed({"kind": what, "flight": name, "lat_deg": _num(end.y, 6),
                                             "lon_deg": _num(end.x, 6)}, epoch, time=t1), None, t1, t1))
            rp = er.policing[m]
            if rp is not None and rp.shots and rp.pf is not None:
                shot = rp.shots[-1]
                tf = np.unique(np.concatenate([np.arange(rp.t_v, shot.time, step_s), [shot.time]]))
                lo, la, al = _geodetic(np.array([rp.shooter_at(x) for x in tf]))
                feats.append(Feature("Fighters", f"{shot.fighter} → {name}", _line(lo, la, al), "fighter",
                                     _timed({"kind": "fighter-course", "fighter": shot.fighter, "flight": name,
                                             "killed": bool(shot.killed)}, epoch, vectored_time=rp.t_v,
                                            release_time=shot.time), tuple(float(x) for x in tf), rp.t_v, shot.time))
    pol = world.policing
    if pol is not None:
        for kind, group in (("patrol", pol.patrols), ("alert base", pol.bases)):
            for b in group:
                feats.append(Feature("Fighters", b.name, Point(b.site.lon_deg, b.site.lat_deg, float(b.site.alt)),
                                     "fighter", {"kind": kind, "aircraft": b.spec.id,
                                                 "weapon": b.spec.weapon.name if b.spec.weapon else None},
                                     altitude="clampToGround"))
    feats += site_features(world)
    terr = air_territory(world)
    if terr is not None:
        feats.append(Feature("Airspace", f"{terr.name} airspace", terr.lonlat, "airspace",
                             {"kind": "airspace", "country": terr.name, "waters_nmi": terr.waters_nmi,
                              **territory_clip(terr)},
                             altitude="clampToGround"))
    meta = {"command": "run", "scenario": world.scenario.name, "run": int(run), "seed": seed,
            "epoch_utc": _iso(epoch, 0.0), "fliers": len(rows), "step_s": step_s}
    return FeatureSet(f"{world.scenario.name}: run {run}", tuple(feats), epoch,
                      f"shieldlab run {run}" + (f" (seed {seed})" if seed is not None else "")
                      + f": {len(rows)} aircraft and cruise missiles", meta)


# --------------------------------------------------------------------------- flyout
def flyout_features(traj, *, missile: str, launch_deg: tuple[float, float], aim_deg: tuple[float, float],
                    profile: str = "min-energy", impacts_rad: tuple[np.ndarray, np.ndarray] | None = None,
                    cep_m: float | None = None, step_s: float = STEP_S, epoch: datetime | None = None) -> FeatureSet:
    """A ``flyout``: the nominal flight ``traj`` (:class:`~shieldlab.flyout.records.Trajectories`,
    batch (1,), times [s after launch]) as a line (z altitude [m]) from launch to impact, the
    launch, aim and impact points, and with dispersed shots their impact points
    (``impacts_rad``: latitudes, longitudes [rad], nan for a shot that did not land, as
    :func:`~shieldlab.flyout.dispersion.impact_scatter` returns them) and the CEP circle
    (``cep_m`` [m] about the aim point, on the mean sphere).  ``epoch``: the UTC instant of
    the launch, for KML's time slider (none: no KML times)."""
    t, pos, vel = traj.t, traj.pos[0], traj.vel[0]
    launch, impact = float(traj.launch_time[0]), float(traj.impact_time[0])
    end = impact if math.isfinite(impact) else float(t[-1])
    ts, line = _path(t, pos, vel, launch, end, step_s, (float(traj.burnout_time[0]), float(traj.apogee_time[0])),
                     traj.impact_pos[0] if math.isfinite(impact) else None)
    props = _timed({"kind": "threat", "missile": missile, "profile": profile,
                    "burnout_speed_kms": _num(traj.burnout_speed[0] / 1e3, 4),
                    "apogee_km": _num(traj.apogee_alt[0] / 1e3, 3), "points": len(ts)}, epoch,
                   launch_time=launch, burnout_time=traj.burnout_time[0], apogee_time=traj.apogee_time[0],
                   impact_time=impact if math.isfinite(impact) else None)
    feats = [Feature("Trajectory", f"{missile} ({profile})", line, "threat-nominal", props,
                     tuple(float(x) for x in ts), launch, end)]
    feats.append(Feature("Points", "launch", Point(launch_deg[1], launch_deg[0], 0.0), "launch",
                         {"kind": "launch", "lat_deg": launch_deg[0], "lon_deg": launch_deg[1]},
                         altitude="clampToGround"))
    feats.append(Feature("Points", "aim", Point(aim_deg[1], aim_deg[0], 0.0), "aim",
                         {"kind": "aim", "lat_deg": aim_deg[0], "lon_deg": aim_deg[1]}, altitude="clampToGround"))
    if math.isfinite(impact):
        pt = _point_ecef(traj.impact_pos[0])
        aim_miss = earth.great_circle_distance(math.radians(pt.y), math.radians(pt.x), math.radians(aim_deg[0]),
                                               math.radians(aim_deg[1]))
        feats.append(Feature("Points", "impact (nominal)", pt, "impact",
                             _timed({"kind": "impact", "lat_deg": _num(pt.y, 7), "lon_deg": _num(pt.x, 7),
                                     "aim_miss_km": _num(aim_miss / 1e3, 4)}, epoch, time=impact),
                             None, impact, impact, "clampToGround"))
    if impacts_rad is not None:
        la, lo = (np.asarray(a, float) for a in impacts_rad)
        miss = earth.great_circle_distance(la, lo, math.radians(aim_deg[0]), math.radians(aim_deg[1]))
        for k in np.flatnonzero(np.isfinite(la) & np.isfinite(lo)):
            feats.append(Feature("Dispersed impacts", f"shot {k}",
                                 Point(math.degrees(lo[k]), math.degrees(la[k]), 0.0), "dispersed-impact",
                                 {"kind": "dispersed-impact", "shot": int(k), "lat_deg": _num(np.degrees(la[k]), 7),
                                  "lon_deg": _num(np.degrees(lo[k]), 7), "aim_miss_km": _num(miss[k] / 1e3, 4)},
                                 altitude="clampToGround"))
    if cep_m is not None and math.isfinite(cep_m) and cep_m > 0:
        feats.append(Feature("CEP", "CEP", _circle(math.radians(aim_deg[0]), math.radians(aim_deg[1]),
                                                                 cep_m),
                             "cep", {"kind": "cep", "cep_km": _num(cep_m / 1e3, 4),
                                     "shots": None if impacts_rad is None else int(np.size(impacts_rad[0]))},
                             altitude="clampToGround"))
    meta = {"command": "flyout", "missile": missile, "profile": profile, "launch_lat_deg": launch_deg[0],
            "launch_lon_deg": launch_deg[1], "aim_lat_deg": aim_deg[0], "aim_lon_deg": aim_deg[1],
            "times": "s after launch", "step_s": step_s}
    return FeatureSet(f"flyout {missile}", tuple(feats), epoch, f"{missile} ({profile}) from "
                      f"{launch_deg[0]:.4f},{launch_deg[1]:.4f} at {aim_deg[0]:.4f},{aim_deg[1]:.4f}", meta)


# --------------------------------------------------------------------------- reach
def reach_features(res, interceptor, site_lat: float, site_lon: float, missile, launch_lat: float,
                   launch_lon: float, aim_lat: float, aim_lon: float, profile: str = "min-energy",
                   burnout_speed: float | None = None, *, step_s: float = STEP_S,
                   epoch: datetime | None = None) -> FeatureSet:
    """A ``reach`` (``res``, a :class:`~shieldlab.analysis.reach.Reach`; the same arguments
    :func:`~shieldlab.analysis.reach.analyse` took, angles in radians, ``burnout_speed``
    [m/s]): the threat's flight (flown again as ``analyse`` flies it; line, z altitude [m],
    times [s after launch]), the interceptor's site, and where the interceptor can catch
    it: the intercept window (the part of the path between the earliest and latest
    intercept, a line), its two ends and the best intercept point (the highest single-shot
    Pk in the window, the earlier on a tie), each with its time, altitude, closing speed,
    crossing angle and Pk."""
    from shieldlab.analysis.reach import DT
    from shieldlab.engage.fan import fan_for
    from shieldlab.engage.pk import kill_probability
    from shieldlab.engage.solver import intercept_geometry, interceptor_velocity
    from shieldlab.flyout import aim
    from shieldlab.flyout.integrate import fly
    from shieldlab.flyout.vehicle import vehicle_from_missiles

    st = aim.solve([missile], launch_lat, launch_lon, 0.0, aim_lat, aim_lon, profile)
    T = int(6000 / DT)
    tr = fly(vehicle_from_missiles([missile]), earth.geodetic_to_ecef(launch_lat, launch_lon, 0.0)[None],
             np.zeros(1), st.kick, st.azimuth, st.cutoff, t0=0.0, dt=DT, T=T,
             upper_thrust=st.upper_thrust, dive_time=st.dive_time)
    t, pos, vel = tr.t, tr.pos[0], tr.vel[0]
    impact = float(tr.impact_time[0])
    end = impact if math.isfinite(impact) else float(t[-1])
    ts, line = _path(t, pos, vel, 0.0, end, step_s, (float(tr.burnout_time[0]), float(tr.apogee_time[0])),
                     tr.impact_pos[0] if math.isfinite(impact) else None)
    feats = [Feature("Threat", missile.id, line, "threat-nominal",
                     _timed({"kind": "threat", "missile": missile.id, "profile": profile, "points": len(ts),
                             **{k: _num(v) for k, v in res.threat.items()}}, epoch, launch_time=0.0,
                            # (impact_time_s as flyout's export names it, where it lands)
                            **({"impact_time": end} if math.isfinite(impact) else {"end_time": end})),
                     tuple(float(x) for x in ts), 0.0, end)]
    feats.append(Feature("Sites", interceptor.id, Point(math.degrees(site_lon), math.degrees(site_lat), 0.0), "battery",
                         _timed({"kind": "interceptor-site", "interceptor": interceptor.id,
                                 "feasible": bool(res.feasible),
                                 "needed_burnout_speed_kms": _num(res.needed_burnout_speed_kms),
                                 "why_not": res.why_not}, epoch, ready_time=res.t_ready,
                                **({} if res.latest_ready_s is None else {"latest_ready": res.latest_ready_s})),
                         altitude="clampToGround"))
    feats.append(Feature("Sites", "threat launch", Point(math.degrees(launch_lon), math.degrees(launch_lat), 0.0),
                         "launch", {"kind": "launch"}, altitude="clampToGround"))
    feats.append(Feature("Sites", "threat aim", Point(math.degrees(aim_lon), math.degrees(aim_lat), 0.0), "aim",
                         {"kind": "aim"}, altitude="clampToGround"))
    if res.feasible and res.earliest is not None and res.latest is not None:
        # the window's ends as reach found them, unrounded (the rounded times, read back through
        # another interpolation, had put the latest point 23 m from the figures it carries); a
        # window broken by a gap (the path inside the minimum range, or out of the envelope and
        # back) is drawn as one line per stretch: one line through the gap showed intercepts
        # where there are none
        spans = res.stretches or ((res.ends if res.ends is not None else (
            (float(res.earliest["time_s"]), None), (float(res.latest["time_s"]), None))),)
        cuts, pieces = [], []
        for (a, pa), (b, pb) in spans:
            ta = _flight_times(a, b, DT) if b > a else np.array([a])
            pp = _hermite(t, pos, vel, ta)
            if pa is not None and pb is not None:
                pp[0], pp[-1] = pa, pb
            cuts.append(ta.size)
            pieces.append((ta, pp))
        tw = np.concatenate([q[0] for q in pieces])
        p = np.concatenate([q[1] for q in pieces])
        # the threat's velocity at each window time: the samples' own, linearly interpolated
        v = np.column_stack([np.interp(tw, t, vel[:, k]) for k in range(3)])
        fan = fan_for(interceptor, burnout_speed if burnout_speed is not None
                      else 1e3 * interceptor.burnout_speed_kms)
        closing, crossing = intercept_geometry(v, interceptor_velocity(fan, site_lat, site_lon, p))
        pk = np.asarray(kill_probability(interceptor, closing, crossing), float)
        lon, lat, alt = _geodetic(p)
        bounds = np.concatenate([[0], np.cumsum(cuts)])
        for i, (lo, hi) in enumerate(zip(bounds, bounds[1:])):
            sl = slice(int(lo), int(hi))
            ta, pka, alta = tw[sl], pk[sl], alt[sl]
            one = len(cuts) == 1
            feats.append(Feature(
                "Intercept window", "intercept window" if one else f"intercept window {i + 1} of {len(cuts)}",
                _line(lon[sl], lat[sl], alt[sl]), "window",
                _timed({"kind": "window", "interceptor": interceptor.id, "points": int(ta.size),
                        "min_alt_km": _num(alta.min() / 1e3, 3), "max_alt_km": _num(alta.max() / 1e3, 3),
                        "max_pk": _num(np.nanmax(pka) if np.isfinite(pka).any() else None, 4),
                        # the breaks between the stretches (each stretch a line of its own)
                        **({} if one else {"stretch": i + 1, "stretches": len(cuts),
                                           "gaps_s": "; ".join(f"{g.from_s:.2f}-{g.to_s:.2f} ({g.why})"
                                                               for g in res.gaps)})},
                       epoch, first_time=float(ta[0]), last_time=float(ta[-1])),
                tuple(float(x) for x in ta), float(ta[0]), float(ta[-1])))
        ends = [("earliest intercept", res.earliest, 0), ("latest intercept", res.latest, len(tw) - 1)]
        for label, d, k in ends:
            props = {k2: v2 for k2, v2 in d.items() if k2 not in ("time_s", "launch_time_s")}
            feats.append(Feature("Intercept window", label, Point(float(lon[k]), float(lat[k]), float(alt[k])),
                                 "window-point",
                                 # (the interceptor's launch, named so: the threat's is its own)
                                 _timed({"kind": label.replace(" ", "-"), **props}, epoch, time=d["time_s"],
                                        interceptor_launch_time=d["launch_time_s"]),
                                 None, float(d["time_s"]), float(d["time_s"])))
        kb = int(np.nanargmax(np.where(np.isfinite(pk), pk, -1.0)))
        ground = earth.great_circle_distance(site_lat, site_lon, np.radians(lat[kb]), np.radians(lon[kb]))
        best = Point(float(lon[kb]), float(lat[kb]), float(alt[kb]))
        feats.append(Feature("Intercept window", "best intercept", best, "best-point",
                             _timed({"kind": "best-intercept", "criterion": "highest single-shot pk, earliest on a tie",
                                     "lat_deg": _num(lat[kb], 5), "lon_deg": _num(lon[kb], 5),
                                     "alt_km": _num(alt[kb] / 1e3, 3), "ground_range_km": _num(ground / 1e3, 2),
                                     "closing_speed_kms": _num(closing[kb] / 1e3, 4),
                                     "crossing_angle_deg": _num(np.degrees(crossing[kb]), 2), "pk": _num(pk[kb], 4)},
                                    epoch, time=tw[kb]),
                             None, float(tw[kb]), float(tw[kb])))
    meta = {"command": "reach", "interceptor": interceptor.id, "missile": missile.id, "profile": profile,
            "feasible": bool(res.feasible), "ready_time_s": _num(res.t_ready, 2), "times": "s after launch"}
    return FeatureSet(f"reach {interceptor.id} vs {missile.id}", tuple(feats), epoch,
                      f"{interceptor.id} at {math.degrees(site_lat):.4f},{math.degrees(site_lon):.4f} against "
                      f"{missile.id}: " + ("can catch it" if res.feasible else "cannot catch it"), meta)


# --------------------------------------------------------------------------- maps
def _people(pop) -> dict:
    """The people in a defended area (:class:`shieldlab.analysis.places.PopulationInside`) as
    properties: how many, in how many places, the largest, and the source."""
    from shieldlab.analysis import places

    return {"population": int(pop.population), "population_places": int(pop.n_places),
            "population_largest": ", ".join(name for name, _ in pop.largest[:5]),
            "population_source": places.CREDIT}


def footprint_features(fp, *, simplify: bool = True) -> FeatureSet:
    """A ``footprint`` (:class:`~shieldlab.analysis.footprint.Footprint`): the ground
    defended against each launch site and against all of them (``defended_all``) as
    (multi)polygons, lon/lat [deg], the grid's cells united (:func:`mask_polygons`);
    properties ``launch_site``, ``area_km2`` (the footprint's own figure: its cells' area
    on the mean sphere), ``threatened_km2``, ``mean_p_intercept`` over the defended
    cells, ``step_deg``; plus the launch sites, batteries and radars as points."""
    from shieldlab.analysis.places import population_in_grid

    g = fp.grid
    cell = g.cell_area_km2()
    feats = []
    for i, s in enumerate(fp.sites):
        geom = mask_polygons(s.defended, g.lat_deg, g.lon_deg, simplify)
        p = float(np.nanmean(s.p_intercept[s.defended])) if s.defended.any() else None
        feats.append(Feature("Defended footprint", f"defended against {s.site.name}", geom, f"area-{i}",
                             {"kind": "footprint", "launch_site": s.site.name, "missile": s.site.missile.id,
                              "profile": s.site.profile, "threats": ", ".join(s.site.threats),
                              "area_km2": _num(fp.defended_area_km2(i), 1),
                              "threatened_km2": _num(cell[s.threatened].sum(), 1),
                              "mean_p_intercept": _num(p, 4), "step_deg": _num(g.step_deg, 6), "cue": fp.cue,
                              **_people(population_in_grid(g, s.defended)), **_area_props(geom)},
                             altitude="clampToGround"))
    allm = fp.defended_all()
    geom = mask_polygons(allm, g.lat_deg, g.lon_deg, simplify)
    feats.append(Feature("Defended footprint", "defended against every launch site", geom, "area-all",
                         {"kind": "footprint", "launch_site": "all", "area_km2": _num(fp.defended_area_km2(), 1),
                          "step_deg": _num(g.step_deg, 6), "cue": fp.cue, **_people(population_in_grid(g, allm)),
                          **_area_props(geom)}, altitude="clampToGround"))
    for s in fp.sites:
        feats.append(Feature("Launch sites", s.site.name, Point(s.site.lon_deg, s.site.lat_deg, float(s.site.alt)),
                             "launch", {"kind": "launch-site", "launch_site": s.site.name, "missile": s.site.missile.id,
                                        "profile": s.site.profile, "threats": ", ".join(s.site.threats)},
                             altitude="clampToGround"))
    for b in fp.batteries:
        feats.append(Feature("Batteries", b["name"], Point(b["lon_deg"], b["lat_deg"]), "battery",
                             {"kind": "battery", "battery": b["name"], "interceptor": b["interceptor"],
                              "system": b["system"], "salvo": b["salvo"]}, altitude="clampToGround"))
    for r in fp.sensors:
        feats.append(Feature("Radars", r["name"], Point(r["lon_deg"], r["lat_deg"]), "radar",
                             {"kind": "radar", "radar": r["name"], "sensor": r["type"], "system": r["system"]},
                             altitude="clampToGround"))
    meta = {"command": "footprint", "scenario": fp.scenario, "step_deg": _num(g.step_deg, 6), "cue": fp.cue,
            "grid": list(g.shape), "simplified_deg": 0.5 * g.step_deg if simplify else 0.0}
    return FeatureSet(f"{fp.scenario}: defended footprint", tuple(feats), None,
                      f"defended footprint of {fp.scenario} (cue: {fp.cue}, grid step {g.step_deg:g} deg)", meta)


def aircraft_features(res, *, simplify: bool = True) -> FeatureSet:
    """A ``footprint --aircraft`` (:class:`~shieldlab.analysis.footprint.AircraftReach`):
    each battery's reach against aircraft at ``res.alt_km`` as a polygon (its circle or
    sector, lon/lat [deg]) with its limits [km], the ground any battery reaches (the grid's
    cells, :func:`mask_polygons`), and the batteries and their deepest points past the
    border as points."""
    g = res.grid
    cell = g.cell_area_km2()
    feats = []
    for i, b in enumerate(res.batteries):
        geom = Polygon(np.asarray(b["circle_lonlat"], float)).buffer(0)
        props = {"kind": "aircraft-reach", "battery": b["name"], "interceptor": b["interceptor"],
                 "alt_km": res.alt_km, "reach_km": _num(b["reach_km"], 2), "radar": b.get("radar"),
                 "az_fov_deg": _num(b.get("az_fov_deg"), 2), "boresight_az_deg": _num(b.get("boresight_az_deg"), 2),
                 **{f"limit_{k}": _num(v, 2) for k, v in b["limits"].items()}}
        if res.focus:
            props.update(focus=res.focus, area_in_focus_km2=_num(b.get("area_in_focus_km2"), 1),
                         depth_km=_num(b.get("depth_km"), 2))
        feats.append(Feature("Aircraft reach", f"{b['name']} reach", geom, f"area-{i}", props,
                             altitude="clampToGround"))
        feats.append(Feature("Batteries", b["name"], Point(b["lon_deg"], b["lat_deg"]), "battery",
                             {"kind": "battery", "battery": b["name"], "interceptor": b["interceptor"]},
                             altitude="clampToGround"))
        if b.get("deepest_lonlat") is not None:
            x, y = b["deepest_lonlat"]
            feats.append(Feature("Aircraft reach", f"{b['name']} deepest point", Point(float(x), float(y)),
                                 "best-point", {"kind": "deepest-point", "battery": b["name"],
                                                "depth_km": _num(b.get("depth_km"), 2)}, altitude="clampToGround"))
    any_b = res.n_batteries > 0
    geom = mask_polygons(any_b, g.lat_deg, g.lon_deg, simplify)
    feats.append(Feature("Aircraft reach", "within reach of a battery", geom, "area-all",
                         {"kind": "aircraft-reach-all", "alt_km": res.alt_km,
                          "area_km2": _num(cell[any_b].sum(), 1), "step_deg": _num(g.step_deg, 6),
                          "focus": res.focus, "focus_area_km2": _num(res.focus_area_km2, 1), **_area_props(geom)},
                         altitude="clampToGround"))
    meta = {"command": "footprint --aircraft", "scenario": res.scenario, "alt_km": res.alt_km, "focus": res.focus,
            "step_deg": _num(g.step_deg, 6)}
    return FeatureSet(f"{res.scenario}: reach against aircraft at {res.alt_km:g} km", tuple(feats), None,
                      f"each battery's reach against aircraft at {res.alt_km:g} km of {res.scenario}"
                      + (f", and how far it extends into {res.focus}" if res.focus else "")
                      + f" (grid step {g.step_deg:g} deg)", meta)


def coverage_features(cov, *, simplify: bool = True) -> FeatureSet:
    """A ``coverage`` (:class:`~shieldlab.analysis.coverage.Coverage`): where each radar
    detects the target at ``cov.alt_km`` (the ground under it, lon/lat [deg]; the grid's
    cells, :func:`mask_polygons`) with the radar's name, type, system, site and range
    [km], ``area_km2`` (the coverage's own figure); the union of all radars; each radar's
    site as a point (z: its altitude [m])."""
    g = cov.grid
    feats = []
    for i, r in enumerate(cov.radars):
        geom = mask_polygons(r.covered, g.lat_deg, g.lon_deg, simplify)
        feats.append(Feature("Radar coverage", f"{r.name} at {cov.alt_km:g} km", geom, f"area-{i}",
                             {"kind": "coverage", "radar": r.name, "sensor": r.sensor, "sensor_name": r.sensor_name,
                              "system": r.system, "site_lat_deg": _num(r.lat_deg, 6),
                              "site_lon_deg": _num(r.lon_deg, 6), "site_alt_m": _num(r.alt_m, 1),
                              "alt_km": cov.alt_km, "rcs_m2": _num(r.rcs_m2),
                              "boresight_az_deg": _num(r.boresight_az_deg, 2),
                              "az_fov_deg": _num(r.az_fov_deg, 2), "detection_range_km": _num(r.detection_range_km, 1),
                              "farthest_km": _num(r.farthest_km, 1), "area_km2": _num(r.area_km2, 1),
                              "step_deg": _num(g.step_deg, 6), **_area_props(geom)},
                             altitude="clampToGround"))
    geom = mask_polygons(cov.union, g.lat_deg, g.lon_deg, simplify)
    feats.append(Feature("Radar coverage", f"seen by at least one radar at {cov.alt_km:g} km", geom, "area-all",
                         {"kind": "coverage-union", "alt_km": cov.alt_km, "area_km2": _num(cov.union_area_km2, 1),
                          "step_deg": _num(g.step_deg, 6), **_area_props(geom)}, altitude="clampToGround"))
    for r in cov.radars:
        feats.append(Feature("Radars", r.name, Point(r.lon_deg, r.lat_deg, r.alt_m), "radar",
                             {"kind": "radar", "radar": r.name, "sensor": r.sensor, "system": r.system},
                             altitude="clampToGround"))
    meta = {"command": "coverage", "scenario": cov.scenario, "alt_km": cov.alt_km, "rcs_m2": cov.rcs_m2,
            "rcs_from": cov.rcs_from, "step_deg": _num(g.step_deg, 6)}
    return FeatureSet(f"{cov.scenario}: radar coverage at {cov.alt_km:g} km", tuple(feats), None,
                      f"where each radar of {cov.scenario} detects a target of "
                      + ("its reference RCS" if cov.rcs_m2 is None else f"{cov.rcs_m2:g} m²")
                      + f" at {cov.alt_km:g} km (grid step {g.step_deg:g} deg)", meta)


# --------------------------------------------------------------------------- styles
#: Colours as RGB hex (GeoJSON simplestyle); KML's are aabbggrr.
def _hex(name: str) -> str:
    """A colour of the 3-D scene (:data:`shieldlab.io.scene.COLOURS`) as RGB hex: the exports
    draw threats, interceptors and sites as the scene and the viewer do."""
    return "".join(f"{v:02x}" for v in SCENE_COLOURS[name][:3])


_COLOURS = {
    "threat-intercepted": _hex("intercepted"), "threat-leaked": _hex("leaked"),
    "threat-leaked-asset": _hex("leaked on an asset"), "threat-airborne": _hex("airborne"),
    "threat-nominal": "ffbf00", "interceptor-kill": _hex("interceptor"), "interceptor-miss": "9e9e9e",
    "intercept-kill": "17becf", "intercept-miss": "9e9e9e", "impact": _hex("leaked"),
    "impact-asset": _hex("leaked on an asset"), "radar": _hex("radar"), "battery": _hex("battery"),
    "asset": _hex("asset"), "asset-area": _hex("asset"), "launch": "8c564b",
    "aim": "000000", "dispersed-impact": "d62728", "cep": "ff7f0e", "window": "e377c2", "window-point": "e377c2",
    "best-point": "ffd700", "area-all": "000080",
    # the air picture: fliers by fate, as the scene draws them (shieldlab.io.air_scene.AIR_COLOURS)
    "air-shot-down": "2ecc71", "air-reached-its-target": "e74c3c", "air-came-down": "95a5a6",
    "air-left-the-scene": "f1c40f", "fighter": "5dade2", "airspace": "c0392b",
    # C2: where a node sits, and its sector (darker than the scene's: drawn on light maps too)
    "c2-node": "566573", "sector": "566573",
}
_PALETTE = ("1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd", "8c564b", "e377c2", "7f7f7f", "bcbd22", "17becf")
_ICONS = {
    "intercept-kill": "star", "intercept-miss": "forbidden", "impact": "placemark_circle",
    "impact-asset": "caution", "radar": "target", "battery": "triangle", "asset": "square", "launch": "flag",
    "aim": "cross-hairs", "dispersed-impact": "shaded_dot", "window-point": "placemark_circle",
    "best-point": "star", "c2-node": "square",
}
_ICON_BASE = "https://maps.google.com/mapfiles/kml/shapes/"


def _colour(style: str) -> str:
    if style in _COLOURS:
        return _COLOURS[style]
    if style.startswith("area-"):
        return _PALETTE[int(style[5:]) % len(_PALETTE)]
    return "ffffff"


def _kml_colour(rgb: str, alpha: int = 255) -> str:
    return f"{alpha:02x}{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}"


def _simplestyle(f: Feature) -> dict:
    """simplestyle-spec 1.1 properties (geojson.io, GitHub's map preview)."""
    rgb = "#" + _colour(f.style)
    kind = f.geometry.geom_type
    if kind in ("Point", "MultiPoint"):
        return {"marker-color": rgb, "marker-size": "small"}
    if kind in ("LineString", "MultiLineString"):
        return {"stroke": rgb, "stroke-width": 2}
    # an outline only where the area is a frame of reference, not a result (a CEP, a sector)
    return {"stroke": rgb, "stroke-width": 1 if f.style not in _OUTLINED else 2, "fill": rgb,
            "fill-opacity": 0.0 if f.style in _OUTLINED else 0.3}


#: Area styles drawn as outlines (no fill).
_OUTLINED = ("cep", "sector")


# --------------------------------------------------------------------------- GeoJSON
def _round_coords(obj, nd_xy: int = _DEG_DIGITS, nd_z: int = _ALT_DIGITS):
    """The ``coordinates`` of a mapping: nested tuples -> lists, rounded (x, y [deg]; z [m])."""
    if isinstance(obj, (tuple, list)) and obj and isinstance(obj[0], (int, float)):
        # (+ 0.0: a height rounded from a hair below zero read -0.0)
        out = [round(float(obj[0]), nd_xy) + 0.0, round(float(obj[1]), nd_xy) + 0.0]
        if len(obj) > 2:
            out.append(round(float(obj[2]), nd_z) + 0.0)
        return out
    return [_round_coords(o, nd_xy, nd_z) for o in obj]


def _split_at_antimeridian(coords) -> list[list[tuple]]:
    """A line's vertices (lon, lat[, z]) as the pieces RFC 7946 section 3.1.9 asks for: cut
    where a step between vertices crosses the 180° meridian (a jump of more than 180° in
    longitude), the crossing point interpolated and put on both sides (+180 and -180)."""
    pieces: list[list[tuple]] = [[tuple(coords[0])]]
    for a, b in zip(coords[:-1], coords[1:]):
        a, b = tuple(a), tuple(b)
        if abs(b[0] - a[0]) > 180.0:
            east = a[0] > 0.0  # leaving across +180 (east) or -180 (west)
            span = (180.0 - a[0]) + (180.0 + b[0]) if east else (a[0] + 180.0) + (180.0 - b[0])
            f = ((180.0 - a[0]) if east else (a[0] + 180.0)) / span if span > 0 else 0.5
            mid = tuple(x + f * (y - x) for x, y in zip(a[1:], b[1:]))
            pieces[-1].append((180.0 if east else -180.0, *mid))
            pieces.append([(-180.0 if east else 180.0, *mid)])
        pieces[-1].append(b)
    return pieces


def _geojson_geometry(geom: BaseGeometry) -> dict | None:
    if geom.is_empty:
        return None
    if geom.geom_type in ("LineString", "MultiLineString"):
        lines = [list(geom.coords)] if geom.geom_type == "LineString" else [list(g.coords) for g in geom.geoms]
        pieces = [p for line in lines for p in _split_at_antimeridian(line)]
        if len(pieces) > len(lines):  # it crosses: a MultiLineString, each piece within +-180
            return {"type": "MultiLineString", "coordinates": _round_coords([[list(c) for c in p] for p in pieces])}
    if isinstance(geom, Polygon):
        geom = orient(geom, 1.0)  # RFC 7946 3.1.6: exterior counter-clockwise, holes clockwise
    elif isinstance(geom, MultiPolygon):
        geom = MultiPolygon([orient(p, 1.0) for p in geom.geoms])
    elif geom.geom_type == "GeometryCollection":
        geoms = [g for g in (_geojson_geometry(x) for x in geom.geoms) if g is not None]
        return {"type": "GeometryCollection", "geometries": geoms}
    m = mapping(geom)
    return {"type": m["type"], "coordinates": _round_coords(m["coordinates"])}


def to_geojson(fs: FeatureSet) -> dict:
    """The features as an RFC 7946 FeatureCollection (a dict for :func:`json.dumps`): lon,
    lat [deg], alt [m above the ellipsoid]; properties: ``layer``, ``name``, the feature's
    own, ``times_s`` per vertex of a flight, and simplestyle colours.  Foreign members
    ``name`` and ``shieldlab`` (the document's facts)."""
    feats = []
    for f in fs.features:
        props: dict[str, Any] = {"layer": f.layer, "name": f.name, **_clean(f.properties)}
        if f.times_s is not None:
            props["times_s"] = [round(t, 3) for t in f.times_s]
        props.update(_simplestyle(f))
        feats.append({"type": "Feature", "geometry": _geojson_geometry(f.geometry), "properties": props})
    return {"type": "FeatureCollection", "name": fs.name,
            "shieldlab": _clean({"description": fs.description, **fs.properties}), "features": feats}


def geojson_text(fs: FeatureSet) -> str:
    """:func:`to_geojson` as text, one feature per line (no NaN: they are ``null``)."""
    d = to_geojson(fs)
    head = {k: v for k, v in d.items() if k != "features"}
    body = ",\n".join(json.dumps(f, ensure_ascii=False, allow_nan=False) for f in d["features"])
    return json.dumps(head, ensure_ascii=False, allow_nan=False)[:-1] + ', "features": [\n' + body + "\n]}\n"


# --------------------------------------------------------------------------- KML
def _k(tag: str) -> str:
    return f"{{{KML_NS}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, ns: str = KML_NS) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ns}}}{tag}")
    if text is not None:
        el.text = text
    return el


def _xyz(c, with_z: bool) -> str:
    x, y = round(float(c[0]), _DEG_DIGITS), round(float(c[1]), _DEG_DIGITS)
    if with_z and len(c) > 2:
        return f"{x!r},{y!r},{round(float(c[2]), _ALT_DIGITS)!r}"
    return f"{x!r},{y!r}"


def _coords(seq, with_z: bool) -> str:
    return " ".join(_xyz(c, with_z) for c in seq)


def _kml_geometry(parent: ET.Element, geom: BaseGeometry, altitude: str) -> None:
    absolute = altitude == "absolute"
    kind = geom.geom_type
    if kind == "Point":
        el = _sub(parent, "Point")
        _sub(el, "altitudeMode", altitude)
        _sub(el, "coordinates", _coords(geom.coords, absolute))
    elif kind == "LineString":
        el = _sub(parent, "LineString")
        _sub(el, "tessellate", "0" if absolute else "1")
        _sub(el, "altitudeMode", altitude)
        _sub(el, "coordinates", _coords(geom.coords, absolute))
    elif kind == "Polygon":
        geom = orient(geom, 1.0)
        el = _sub(parent, "Polygon")
        _sub(el, "tessellate", "1")
        _sub(el, "altitudeMode", altitude)
        ring = _sub(_sub(el, "outerBoundaryIs"), "LinearRing")
        _sub(ring, "coordinates", _coords(geom.exterior.coords, absolute))
        for hole in geom.interiors:
            ring = _sub(_sub(el, "innerBoundaryIs"), "LinearRing")
            _sub(ring, "coordinates", _coords(hole.coords, absolute))
    elif kind in ("MultiPolygon", "MultiLineString", "MultiPoint", "GeometryCollection"):
        el = _sub(parent, "MultiGeometry")
        for g in geom.geoms:
            _kml_geometry(el, g, altitude)
    else:  # pragma: no cover - the exporters make none other
        raise ValueError(f"no KML for a {kind}")


def _kml_style(doc: ET.Element, key: str, kind: str) -> None:
    rgb = _colour(key)
    st = _sub(doc, "Style")
    st.set("id", key)
    if kind == "point":
        ic = _sub(st, "IconStyle")
        _sub(ic, "color", _kml_colour(rgb))
        _sub(ic, "scale", "0.6" if key == "dispersed-impact" else "1.0")
        _sub(_sub(ic, "Icon"), "href", _ICON_BASE + _ICONS.get(key, "placemark_circle") + ".png")
        _sub(_sub(st, "LabelStyle"), "scale", "0" if key in ("dispersed-impact",) else "0.8")
    else:
        ls = _sub(st, "LineStyle")
        _sub(ls, "color", _kml_colour(rgb))
        _sub(ls, "width", "3" if key.startswith(("threat", "window")) else "2")
        ps = _sub(st, "PolyStyle")
        _sub(ps, "color", _kml_colour(rgb, 0x50))
        if key in _OUTLINED:
            _sub(ps, "fill", "0")


def _time_element(parent: ET.Element, epoch: datetime | None, begin, end) -> None:
    if epoch is None or begin is None:
        return
    if end is None or end == begin:
        _sub(_sub(parent, "TimeStamp"), "when", _iso(epoch, begin))
    else:
        ts = _sub(parent, "TimeSpan")
        _sub(ts, "begin", _iso(epoch, begin))
        _sub(ts, "end", _iso(epoch, end))


def _extended_data(parent: ET.Element, props: dict) -> None:
    ed = _sub(parent, "ExtendedData")
    for k, v in props.items():
        d = _sub(ed, "Data")
        d.set("name", k)
        if isinstance(v, (list, tuple, dict)):
            text = json.dumps(v)
        elif v is None:
            text = ""
        elif isinstance(v, bool):
            text = "true" if v else "false"
        else:
            text = str(v)
        _sub(d, "value", text)


def to_kml(fs: FeatureSet) -> str:
    """The features as a KML 2.2 document (text): a ``<Folder>`` per layer, a ``<Style>`` per
    outcome/kind, ``<ExtendedData>`` for the properties; lines and points in the air with
    ``<altitudeMode>absolute</altitudeMode>`` (z above the WGS84 ellipsoid [m]; KML's
    absolute altitude is above sea level: the geoid's tens of metres are not applied),
    sites and areas ``clampToGround``; ``<TimeStamp>``/``<TimeSpan>`` where the set has an
    epoch, and then also a folder ``Animated flights`` (hidden; turn it on and play the time
    slider) of ``gx:Track`` per flight."""
    ET.register_namespace("", KML_NS)
    ET.register_namespace("gx", GX_NS)
    root = ET.Element(_k("kml"))
    doc = _sub(root, "Document")
    _sub(doc, "name", fs.name)
    _sub(doc, "open", "1")
    if fs.description:
        _sub(doc, "description", fs.description)
    kinds: dict[str, str] = {}
    for f in fs.features:
        kinds.setdefault(f.style, "point" if f.geometry.geom_type in ("Point", "MultiPoint") else "area")
    for key, kind in kinds.items():
        _kml_style(doc, key, kind)
    folders: dict[str, ET.Element] = {}
    for f in fs.features:
        if f.layer not in folders:
            folders[f.layer] = _sub(doc, "Folder")
            _sub(folders[f.layer], "name", f.layer)
        pm = _sub(folders[f.layer], "Placemark")
        _sub(pm, "name", f.name)
        _time_element(pm, fs.epoch, f.begin_s, f.end_s)
        _sub(pm, "styleUrl", f"#{f.style}")
        _extended_data(pm, _clean(f.properties))
        if not f.geometry.is_empty:
            _kml_geometry(pm, f.geometry, f.altitude)
    flights = [f for f in fs.features if f.times_s is not None and f.geometry.geom_type == "LineString"]
    if fs.epoch is not None and flights:
        anim = _sub(doc, "Folder")
        _sub(anim, "name", "Animated flights")
        _sub(anim, "visibility", "0")
        _sub(anim, "description", "each flight as a gx:Track: turn this folder on and play the time slider")
        for f in flights:
            pm = _sub(anim, "Placemark")
            _sub(pm, "name", f.name)
            _sub(pm, "visibility", "0")
            _sub(pm, "styleUrl", f"#{f.style}")
            tr = _sub(pm, "Track", ns=GX_NS)
            _sub(tr, "altitudeMode", f.altitude)
            coords = list(f.geometry.coords)
            assert f.times_s is not None
            for t in f.times_s:
                _sub(tr, "when", _iso(fs.epoch, t))
            for c in coords[:len(f.times_s)]:
                _sub(tr, "coord", _xyz(c, True).replace(",", " "), ns=GX_NS)
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# --------------------------------------------------------------------------- files
def parse_formats(text: str | Sequence[str], field: str = "--export") -> tuple[str, ...]:
    """``"geojson,kml"`` (or a list of names) -> the formats, in :data:`FORMATS` order, each
    once; raises :class:`InputError` on ``field`` for an unknown or empty one."""
    items = text.split(",") if isinstance(text, str) else list(text)
    names = [s.strip().lower() for s in items]
    bad = [s for s in names if s not in FORMATS]
    if bad or not names:
        raise InputError(f"unknown format {bad[0]!r}: give geojson, kml or both (geojson,kml)" if bad
                         else "give geojson, kml or both (geojson,kml)", field=field)
    return tuple(f for f in FORMATS if f in names)


def export_paths(path_base: str | Path, formats: Iterable[str]) -> list[Path]:
    """The files :func:`write` would write: ``PATH_BASE.geojson``, ``PATH_BASE.kml``
    (a suffix of a format already on ``path_base`` is not doubled)."""
    base = str(path_base)
    for suffix in FORMATS.values():
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
            break
    return [Path(base + FORMATS[f]) for f in parse_formats(list(formats))]


def write(features: FeatureSet, path_base: str | Path, formats: Iterable[str]) -> list[Path]:
    """Write ``features`` as ``PATH_BASE.geojson`` and/or ``PATH_BASE.kml`` (``formats``),
    each atomically (written beside, then renamed over); returns the paths written."""
    formats = parse_formats(list(formats))
    paths = export_paths(path_base, formats)
    for fmt, path in zip(formats, paths):
        text = geojson_text(features) if fmt == "geojson" else to_kml(features)
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    return paths
