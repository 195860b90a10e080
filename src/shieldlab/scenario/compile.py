"""Compile a validated :class:`Scenario` into a :class:`World`: SI units, ECEF
positions, catalogue entries resolved, salvos expanded into threat instances.

Every reference (site, asset, catalogue id) is checked here, and a bad one
raises :class:`~shieldlab.errors.InputError` naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from shapely.geometry import Polygon

from shieldlab import catalog, earth
from shieldlab.c2.links import Link
from shieldlab.errors import InputError
from shieldlab.flyout.dispersion import Dispersion
from shieldlab.scenario.loader import unknown_message
from shieldlab.scenario.schema import (
    GeoPoint,
    SatelliteCfg,
    Scenario,
    salvo_member,
    sector_polygon,
    with_lone_system_hints,
)
from shieldlab.sensors.infrared import Satellite
from shieldlab.sensors.radar import Radar


@dataclass(frozen=True)
class Point:
    """A geodetic point in SI: radians and metres, with its ECEF position."""

    lat: float
    lon: float
    alt: float

    @property
    def ecef(self) -> np.ndarray:
        return earth.geodetic_to_ecef(self.lat, self.lon, self.alt)

    @property
    def lat_deg(self) -> float:
        return float(np.degrees(self.lat))

    @property
    def lon_deg(self) -> float:
        return float(np.degrees(self.lon))


@dataclass(frozen=True)
class PlacedSensor:
    radar: Radar
    system: str


@dataclass(frozen=True)
class Battery:
    name: str
    spec: object  # catalogue Interceptor
    site: Point
    rounds: int
    reaction_time: float  # s
    burnout_speed: float  # m/s
    system: str
    cue: str = "engage-on-remote"  # own | launch-on-remote | engage-on-remote
    radar: str | None = None  # name of the battery's own sensor
    reserve: int = 0  # rounds never fired
    salvo: int = 1  # interceptors per engagement
    look_time: float = 8.0  # s, kill assessment after an intercept
    handover: float = 20.0  # s before intercept: the interceptor's last in-flight target update


@dataclass(frozen=True)
class Threat:
    name: str  # unique: the salvo's name, with "#k" for k > 1 in a salvo of several
    group: str  # the scenario entry it came from
    entry: int  # index of that entry in the scenario's threats list (for error messages)
    missile: object  # catalogue Missile
    launch: Point
    aim: Point
    launch_time: float  # s from epoch
    profile: str
    dispersion: Dispersion = Dispersion()  # one-sigma, SI (fractions, rad)
    apogee: float | None = None  # m; asked-for apogee of a shaped shot (None: free)
    flight_time: float | None = None  # s; asked-for flight time of a shaped shot (None: free)


@dataclass(frozen=True)
class Asset:
    name: str
    site: Point
    radius: float  # m
    value: float = 1.0  # relative worth: threat ranking by value at stake


@dataclass(frozen=True)
class Node:
    """A C2 node: one system, with the sensors that feed it and the batteries it fires.

    ``sector`` is the node's area of responsibility (architecture ``sectoral``) in radians, like
    :class:`Point`: x = longitude, y = latitude [rad] (``sector.contains(shapely.Point(p.lon, p.lat))``
    tells whether point ``p`` lies in it); None where the scenario gives none.
    """

    name: str
    side: str  # free label (default: the name): what each side sees of the other is reported by it
    site: Point | None = None  # where its C2 sits, for maps
    sector: Polygon | None = None  # x = lon, y = lat [rad]
    sensors: tuple[int, ...] = ()  # indices into World.sensors
    batteries: tuple[int, ...] = ()  # indices into World.batteries


@dataclass(frozen=True)
class Flight:
    """One air-breathing flier (a member of a flight entry), SI.

    route_lat, route_lon : (W,) waypoints [rad]; route_alt (W,) [m] and route_speed (W,) [m/s]
    are nan where the route leaves them to the flier's defaults.
    """

    name: str
    group: str  # the scenario entry it came from
    entry: int  # index of that entry in the scenario's flights list
    spec: Any  # catalogue Aircraft
    side: str
    route_lat: np.ndarray
    route_lon: np.ndarray
    route_alt: np.ndarray
    route_speed: np.ndarray
    start_time: float  # s from epoch
    speed_sigma: float = 0.0  # one-sigma speed error [fraction]
    start_sigma: float = 0.0  # one-sigma start-time error [s]
    failure_probability: float = 0.0
    claims: tuple = ()  # the entry's ClaimCfg: stated figures to check


@dataclass(frozen=True)
class AirBase:
    name: str
    spec: Any  # catalogue Aircraft (the fighters on alert)
    site: Point
    readiness: float  # s, order to airborne
    climb: float  # s, airborne to patrol height and speed


@dataclass(frozen=True)
class Patrol:
    name: str
    spec: Any  # catalogue Aircraft
    site: Point  # the station; alt: patrol height [m]
    start: float  # s from epoch
    end: float  # s from epoch


@dataclass(frozen=True)
class Policing:
    """Air policing of one country's airspace, SI (see the scenario's ``air_policing``)."""

    country: str
    side: str
    waters_nmi: float
    warn_within: float  # m
    warning_interval: float  # s
    scramble: str  # on-warning | on-entry | never
    engage: str  # never | inside
    min_warnings: int
    reaction: float  # s
    engage_from: float = 0.0  # s: fire authorised from
    max_shots: int = 2  # weapons fired at one flier (shoot-look-shoot)
    pursuit: str = "own-airspace"  # own-airspace | international | across: where a vectored fighter may fly
    bases: tuple[AirBase, ...] = ()
    patrols: tuple[Patrol, ...] = ()


@dataclass(frozen=True)
class Shelling:
    """Unguided fire and the weapon-locating radars, SI (see the scenario's ``shelling``).

    ``missions`` (:class:`~shieldlab.artillery.fire.FireMission`), ``radars``
    (:class:`~shieldlab.artillery.locating.Locator`); ``country``: the Natural Earth country whose
    border the estimated origins are judged against, with ``waters_nmi`` of territorial sea;
    ``landmarks``: ``(name, lat, lon)`` [rad] places the maps mark and name.
    """

    missions: tuple
    radars: tuple
    country: str
    waters_nmi: float = 12.0
    landmarks: tuple[tuple[str, float, float], ...] = ()


@dataclass(frozen=True)
class World:
    scenario: Scenario
    sensors: tuple[PlacedSensor, ...]
    batteries: tuple[Battery, ...]
    threats: tuple[Threat, ...]
    assets: tuple[Asset, ...]
    dt: float
    duration: float | None  # s; None: until the last threat lands
    source: str = "scenario"  # the file or preset it came from, for error messages
    nodes: tuple[Node, ...] = ()  # one per system, in order of first appearance (sensors, then batteries)
    links: tuple[Link, ...] = ()  # one-way links (a scenario's two_way link is two of them), SI
    architecture: str = "integrated"  # independent | coordinated | sectoral | integrated
    early_warning: tuple[Satellite, ...] = ()  # early-warning satellites
    flights: tuple[Flight, ...] = ()  # aircraft and cruise missiles, salvos expanded
    policing: Policing | None = None  # air policing of one country's airspace
    shelling: Shelling | None = None  # unguided fire and weapon-locating radars

    def __repr__(self) -> str:
        """A line a notebook can show (the whole record, its scenario and catalogue entries,
        was 31,887 characters for epaa-phase-1): the scenario and what it holds."""
        parts = [f"{k}={len(v)}" for k, v in (("threats", self.threats), ("sensors", self.sensors),
                                               ("batteries", self.batteries), ("assets", self.assets),
                                               ("early_warning", self.early_warning), ("flights", self.flights))
                 if v]
        if self.shelling is not None:
            parts.append(f"missions={len(self.shelling.missions)}")
        if len(self.nodes) > 1:
            parts.append(f"architecture={self.architecture!r}")
        return f"World({self.scenario.name!r}, " + ", ".join(parts) + f", source={self.source!r})"

    @property
    def systems(self) -> list[str]:
        """The systems the sensors feed, sorted (the nodes' names, as every battery's system has a sensor)."""
        return sorted({s.system for s in self.sensors})

    def satellites_cueing(self, system: str) -> tuple[Satellite, ...]:
        """The early-warning satellites whose launch reports cue the radars of ``system``:
        its own, or every one under the integrated architecture (one C2 over all radars)."""
        return tuple(s for s in self.early_warning if self.architecture == "integrated" or s.system == system)

    def node(self, name: str) -> Node:
        """The node of that name (``KeyError`` if none)."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)


def _point(p: GeoPoint) -> Point:
    return Point(float(np.radians(p.lat)), float(np.radians(p.lon)), float(p.alt_m))


def _merged(builtin: dict, extra: list) -> dict:
    out = dict(builtin)
    out.update({e.id: e for e in extra})
    return out


#: Handover time of an interceptor whose catalogue entry gives none [s] (an SM-3-like midcourse
#: uplink; set ``handover_s`` in the entry, the doctrine or the battery instead).
DEFAULT_HANDOVER_S = 20.0
#: Kill-assessment (look) time of an interceptor whose catalogue entry gives none [s].
DEFAULT_LOOK_TIME_S = 8.0


def _first(*values: float | None) -> float:
    """The first value that is not None, as a float."""
    return float(next(v for v in values if v is not None))


def _place_satellite(e: SatelliteCfg, spec: catalog.Satellite, where: str,
                     problems: list[tuple[str, str]]) -> Satellite | None:
    """The early-warning satellite of scenario entry ``e`` with catalogue entry ``spec``, placed by the
    fields of its orbit (lon_deg for geo; apogee_lon_deg, apogee_time_s for heo); None, with the
    problems appended, where the entry gives the other orbit's fields a value (not their
    defaults) or misses its own."""
    if spec.orbit == "geo":
        # the other orbit's fields at their defaults (null, 0) say nothing: as lon_deg: null on a heo one
        wrong = [f for f, default in (("apogee_lon_deg", None), ("apogee_time_s", 0.0))
                 if f in e.model_fields_set and getattr(e, f) != default]
        for f in wrong:
            problems.append((f"{where}.{f}", f"{spec.id} is geostationary (catalogue orbit geo): place it with "
                                             f"lon_deg, the longitude of the equator it hangs over"))
        if e.lon_deg is None and not wrong:
            problems.append((f"{where}.lon_deg", f"Field required: {spec.id} is geostationary (catalogue orbit "
                                                 f"geo), placed by the longitude of the equator it hangs over"))
        if wrong or e.lon_deg is None:
            return None
        return Satellite(name=e.name, spec=spec, lon=float(np.radians(e.lon_deg)), system=e.system)
    if e.lon_deg is not None:
        problems.append((f"{where}.lon_deg", f"{spec.id} is on a highly elliptical orbit (catalogue orbit heo): "
                                             f"place it with apogee_lon_deg and apogee_time_s, its apogee's "
                                             f"longitude and time"))
    elif e.apogee_lon_deg is None:
        problems.append((f"{where}.apogee_lon_deg", f"Field required: {spec.id} is on a highly elliptical orbit "
                                                    f"(catalogue orbit heo), placed by the longitude of its "
                                                    f"apogee's ground point (and apogee_time_s)"))
    if e.lon_deg is not None or e.apogee_lon_deg is None:
        return None
    return Satellite(name=e.name, spec=spec, lon=float(np.radians(e.apogee_lon_deg)), system=e.system,
                     apogee_time=float(e.apogee_time_s))


def compile_world(scn: Scenario, source: str = "scenario") -> World:
    """Resolve and convert; ``source`` names the file in error messages.

    Every bad reference (unknown site, catalogue id, radar, system ...) is collected and all
    are raised together in one :class:`~shieldlab.errors.InputError`.  A battery's handover
    and look times resolve battery value -> doctrine value -> the interceptor's catalogue
    value -> :data:`DEFAULT_HANDOVER_S` / :data:`DEFAULT_LOOK_TIME_S`.
    """
    missiles = _merged(catalog.missiles(), scn.catalog.missiles)
    interceptors = _merged(catalog.interceptors(), scn.catalog.interceptors)
    sensors = _merged(catalog.sensors(), scn.catalog.sensors)
    satellites = _merged(catalog.satellites(), scn.catalog.satellites)
    assets_by_name = {a.name: a for a in scn.assets}
    problems: list[tuple[str, str]] = []

    def lookup(table: dict, key: str, kind: str, field: str):
        if key not in table:
            problems.append((field, unknown_message(kind, key, table)))
            return None
        return table[key]

    def place(value, field: str, allow_asset: bool = False) -> Point | None:
        if isinstance(value, GeoPoint):
            return _point(value)
        if value in scn.sites:
            return _point(scn.sites[value])
        if allow_asset and value in assets_by_name:
            site = assets_by_name[value].site
            if not isinstance(site, GeoPoint) and site not in scn.sites:
                return None  # the asset's own site is unknown: said once, under assets[i].site
            return place(site, field)
        known = sorted(set(scn.sites) | (set(assets_by_name) if allow_asset else set()))
        what = "site or asset" if allow_asset else "site"
        problems.append((field, f"unknown {what} {value!r} (known: {', '.join(known) or 'none'})"))
        return None

    placed = []
    for i, s in enumerate(scn.sensors):
        spec = lookup(sensors, s.type, "sensor", f"sensors[{i}].type")
        p = place(s.site, f"sensors[{i}].site")
        if spec is None or p is None:
            continue
        placed.append(PlacedSensor(Radar(name=s.name, spec=spec, lat=p.lat, lon=p.lon, alt=p.alt,
                                         boresight_az=float(np.radians(s.boresight_az_deg)),
                                         elevation_mask=(-math.pi / 2 if s.elevation_mask_deg is None
                                                         else float(np.radians(s.elevation_mask_deg))),
                                         refraction_k=scn.sensing.refraction_k,
                                         snr_noise=scn.sensing.snr_noise, scan_loss=scn.sensing.scan_loss),
                                   s.system))
    early_warning = []
    radar_systems = {s.system for s in scn.sensors}
    for i, e in enumerate(scn.early_warning):
        if scn.architecture != "integrated" and e.system not in radar_systems:
            problems.append((f"early_warning[{i}].system",
                             f"no radar feeds system {e.system!r}: a satellite belongs to a C2 node with radars "
                             f"of its own, whose radars and batteries its launch reports cue and alert (and, "
                             f"coordinated or sectoral, those of the nodes it links to); systems with radars: "
                             f"{', '.join(sorted(radar_systems)) or 'none'}"))
        spec = lookup(satellites, e.type, "satellite", f"early_warning[{i}].type")
        if spec is not None:
            sat = _place_satellite(e, spec, f"early_warning[{i}]", problems)
            if sat is not None:
                early_warning.append(sat)
    batteries = []
    doc = scn.doctrine
    sensor_names = [s.name for s in scn.sensors]
    systems = {s.system for s in scn.sensors}
    for i, b in enumerate(scn.batteries):
        spec = lookup(interceptors, b.interceptor, "interceptor", f"batteries[{i}].interceptor")
        site = place(b.site, f"batteries[{i}].site")
        if b.radar is not None and b.radar not in sensor_names:
            problems.append((f"batteries[{i}].radar", f"radar {b.radar!r} is not a sensor of this scenario "
                                                      f"(sensors: {', '.join(sensor_names) or 'none'})"))
        if b.cue != "engage-on-remote" and b.radar is None:
            problems.append((f"batteries[{i}].radar",
                             f"cue {b.cue!r} needs the battery's own radar: name one of the sensors"))
        if b.system not in systems and scn.architecture != "integrated":  # (integrated: one picture of all)
            problems.append((f"batteries[{i}].system", f"no sensor feeds system {b.system!r}: a C2 node fires on "
                                                        "its own sensors' tracks (and, coordinated or sectoral, "
                                                        "those its links bring beside them); give it a sensor, "
                                                        "or choose architecture integrated"))
        reserve = b.reserve if b.reserve is not None else doc.reserve
        if reserve > 0 and reserve >= b.rounds:
            field = f"batteries[{i}].reserve" if b.reserve is not None else "doctrine.reserve"
            problems.append((field, f"a reserve of {reserve} leaves none of the {b.rounds} rounds of battery "
                                    f"{b.name!r} (batteries[{i}].rounds) to fire"))
        if spec is None or site is None:
            continue
        batteries.append(Battery(
            name=b.name, spec=spec, site=site, rounds=b.rounds,
            reaction_time=_first(b.reaction_time_s, spec.reaction_time_s),
            burnout_speed=1e3 * float(b.burnout_speed_kms or spec.burnout_speed_kms), system=b.system,
            cue=b.cue, radar=b.radar, reserve=int(reserve), salvo=int(b.salvo or doc.salvo),
            look_time=_first(b.look_time_s, doc.look_time_s, spec.look_time_s, DEFAULT_LOOK_TIME_S),
            handover=_first(b.handover_s, doc.handover_s, spec.handover_s, DEFAULT_HANDOVER_S)))
    threats = []
    for i, t in enumerate(scn.threats):
        m = lookup(missiles, t.missile, "missile", f"threats[{i}].missile")
        launch = place(t.launch, f"threats[{i}].launch")
        aim = place(t.aim, f"threats[{i}].aim", allow_asset=True)
        if m is None or launch is None or aim is None:
            continue
        dcfg = t.dispersion or scn.dispersion
        disp = Dispersion(thrust=dcfg.thrust_pct / 100, isp=dcfg.isp_pct / 100, burn_time=dcfg.burn_time_pct / 100,
                          drag=dcfg.drag_pct / 100, azimuth=dcfg.azimuth_mrad / 1e3)
        for k in range(t.count):
            threats.append(Threat(name=salvo_member(t.name, t.count, k), group=t.name, entry=i, missile=m,
                                  launch=launch, aim=aim, launch_time=t.launch_time_s + k * t.spacing_s,
                                  profile=t.profile, dispersion=disp,
                                  apogee=None if t.apogee_km is None else 1e3 * t.apogee_km,
                                  flight_time=t.flight_time_s))
    assets = []
    for i, a in enumerate(scn.assets):
        p = place(a.site, f"assets[{i}].site")
        if p is not None:
            assets.append(Asset(a.name, p, a.radius_km * 1e3, float(a.value)))
    flights, policing = _air(scn, _merged(catalog.aircraft(), scn.catalog.aircraft), place, lookup, problems)
    shelling = _shelling(scn, place, lookup, problems)
    node_sites = {i: place(n.site, f"nodes[{i}].site") for i, n in enumerate(scn.nodes) if n.site is not None}
    if scn.tracking.association == "gnn":
        # a filter the labelled tracker runs may not have a place in the multi-target tracker
        # yet (a new one added to the schema): said here, not as the tracker's error mid-run
        from shieldlab.tracking.mtt import unsupported_filter

        why = unsupported_filter(scn.tracking.filter)
        if why is not None:
            problems.append(("tracking.filter", why))
    if problems:
        raise InputError(problems=with_lone_system_hints(scn, problems), source=source)
    names = [t.name for t in threats]
    if len(set(names)) != len(names):  # the schema guarantees this; a broken guarantee must not pass
        raise InputError("threat names are not unique after salvo expansion", source=source, field="threats")
    nodes = _nodes(scn, placed, batteries, node_sites)
    links = tuple(link for cfg in scn.links for link in _links(cfg))
    return World(scenario=scn, sensors=tuple(placed), batteries=tuple(batteries), threats=tuple(threats),
                 assets=tuple(assets), dt=scn.time_step_s, duration=scn.duration_s, source=source,
                 nodes=nodes, links=links, architecture=scn.architecture, early_warning=tuple(early_warning),
                 flights=flights, policing=policing, shelling=shelling)


def _shelling(scn: Scenario, place, lookup, problems: list[tuple[str, str]]) -> Shelling | None:
    """The fire missions and weapon-locating radars of ``scn`` in SI; problems appended."""
    cfg = scn.shelling
    if cfg is None:
        return None
    from shieldlab.artillery.fire import FireMission
    from shieldlab.artillery.locating import Locator
    from shieldlab.catalog import artillery

    rounds = _merged(artillery.rounds(), scn.catalog.rounds)
    radars = _merged(artillery.locating_radars(), scn.catalog.locating_radars)
    missions = []
    for i, m in enumerate(cfg.missions):
        where = f"shelling.missions[{i}]"
        rnd = lookup(rounds, m.round, "round", f"{where}.round")
        origin = place(m.origin, f"{where}.origin")
        aim = place(m.aim, f"{where}.aim", allow_asset=True)
        if rnd is None or origin is None or aim is None:
            continue
        dist = float(earth.great_circle_distance(origin.lat, origin.lon, aim.lat, aim.lon))
        if dist < 1.0:
            problems.append((f"{where}.aim", "the same point as the origin: a weapon fires at something else"))
            continue
        d = m.dispersion
        missions.append(FireMission(
            name=m.name, round=rnd, origin=(origin.lat, origin.lon, origin.alt), aim=(aim.lat, aim.lon, aim.alt),
            rounds_per_burst=m.rounds, bursts=m.bursts, round_interval=float(m.round_interval_s),
            burst_interval=float(m.burst_interval_s), start_time=float(m.start_time_s),
            speed=float(m.muzzle_velocity_ms or rnd.muzzle_velocity_ms),
            range_sigma=float(d.range_sigma_m if d.range_sigma_m is not None else rnd.range_sigma_pct / 100 * dist),
            deflection_sigma=float(d.deflection_sigma_m if d.deflection_sigma_m is not None
                                   else rnd.deflection_sigma_mrad / 1e3 * dist),
            muzzle_velocity_sigma=float(d.muzzle_velocity_sigma_ms if d.muzzle_velocity_sigma_ms is not None
                                        else rnd.muzzle_velocity_sigma_ms),
            angle=m.angle or rnd.angle))
    locators = []
    for i, r in enumerate(cfg.radars):
        where = f"shelling.radars[{i}]"
        spec = lookup(radars, r.type, "weapon-locating radar", f"{where}.type")
        site = place(r.site, f"{where}.site")
        if spec is None or site is None:
            continue
        fence = spec.fence_elevation_deg if r.fence_elevation_deg is None else r.fence_elevation_deg
        if fence >= spec.max_elevation_deg:
            problems.append((f"{where}.fence_elevation_deg",
                             f"{fence:g} deg is not below the {spec.id}'s highest elevation, max_elevation_deg "
                             f"{spec.max_elevation_deg:g}"))
            continue
        locators.append(Locator(name=r.name, spec=spec, lat=site.lat, lon=site.lon, alt=site.alt,
                                facing=math.radians(r.facing_az_deg), fence=math.radians(fence),
                                ground_alt=float(site.alt if r.ground_alt_m is None else r.ground_alt_m)))
    landmarks = []
    for i, name in enumerate(cfg.landmarks):
        site = place(name, f"shelling.landmarks[{i}]")
        if site is not None:
            landmarks.append((name, float(site.lat), float(site.lon)))
    from shieldlab.analysis.maps import close_countries, country_names

    country = cfg.country
    if country is not None and country not in country_names():
        near = close_countries(country, 4)
        problems.append(("shelling.country", f"unknown country {country!r} (Natural Earth names"
                                             f"{', e.g. ' + ', '.join(near) if near else ''})"))
        return None
    if country is None and locators:
        from shieldlab.engine.air import country_at

        first = locators[0]
        country = str(country_at(math.degrees(first.lat), math.degrees(first.lon)))
        if not country:
            problems.append(("shelling.country", f"the first radar ({first.name}) stands on no country's land "
                                                 f"(Natural Earth): name the country whose border counts"))
            return None
    if country is None:
        return None
    return Shelling(missions=tuple(missions), radars=tuple(locators), country=country, waters_nmi=float(cfg.waters_nmi),
                    landmarks=tuple(landmarks))


def _nodes(scn: Scenario, placed: list[PlacedSensor], batteries: list[Battery],
           sites: dict[int, Point | None]) -> tuple[Node, ...]:
    """One node per system, in order of first appearance; a ``nodes:`` entry gives its properties."""
    entries = {n.name: (i, n) for i, n in enumerate(scn.nodes)}
    out = []
    for name in scn.node_names():
        i, cfg = entries.get(name, (None, None))
        sector = None if cfg is None or cfg.sector is None else sector_polygon(cfg.sector, math.pi / 180.0)
        out.append(Node(
            name=name, side=(cfg.side if cfg is not None and cfg.side else name),
            site=sites.get(i) if i is not None else None, sector=sector,
            sensors=tuple(k for k, s in enumerate(placed) if s.system == name),
            batteries=tuple(k for k, b in enumerate(batteries) if b.system == name)))
    return tuple(out)


def _links(cfg) -> list[Link]:
    """A scenario link in SI: one :class:`Link`, two if it is two-way."""
    capacity = math.inf if cfg.capacity_tracks_per_s is None else float(cfg.capacity_tracks_per_s)
    ends = [(cfg.from_, cfg.to)] + ([(cfg.to, cfg.from_)] if cfg.two_way else [])
    return [Link(source=a, target=b, latency=float(cfg.latency_s), period=float(cfg.update_period_s),
                 capacity=capacity, loss=float(cfg.loss), launch_reports=bool(cfg.launch_reports),
                 tracks=bool(cfg.tracks)) for a, b in ends]


def _held(values: np.ndarray) -> np.ndarray:
    """Each nan replaced by the last value before it (nan where none is)."""
    out = values.copy()
    for j in range(1, out.size):
        if np.isnan(out[j]):
            out[j] = out[j - 1]
    return out


def _air(scn: Scenario, aircraft: dict, place, lookup, problems: list[tuple[str, str]]):
    """The flights (salvos expanded) and the air policing of ``scn`` in SI; problems appended."""
    from shieldlab.scenario.schema import WaypointCfg

    flights = []
    for i, f in enumerate(scn.flights):
        spec = lookup(aircraft, f.type, "aircraft", f"flights[{i}].type")
        pts = []
        for j, w in enumerate(f.route):
            if isinstance(w, WaypointCfg):
                pts.append((np.radians(w.lat), np.radians(w.lon), np.nan if w.alt_m is None else w.alt_m,
                            np.nan if w.speed_kmh is None else w.speed_kmh / 3.6))
                continue
            p = place(w, f"flights[{i}].route[{j}]")
            if p is not None:
                pts.append((p.lat, p.lon, np.nan, np.nan))
        if spec is None or len(pts) != len(f.route):
            continue
        lat, lon, alt_set, speed_set = (np.array(c, float) for c in zip(*pts, strict=True))
        # a waypoint's height and speed hold for the legs after it until another waypoint sets them
        alt, speed = _held(alt_set), _held(speed_set)
        for j in range(1, lat.size):
            if earth.great_circle_distance(lat[j - 1], lon[j - 1], lat[j], lon[j]) < 1.0:
                problems.append((f"flights[{i}].route[{j}]", "the same point as the waypoint before it: a leg "
                                                              "needs a length"))
        length_km = float(np.sum(earth.great_circle_distance(lat[:-1], lon[:-1], lat[1:], lon[1:]))) / 1e3
        if length_km > spec.range_km:
            problems.append((f"flights[{i}].route", f"the route is {length_km:,.0f} km, longer than the {spec.id}'s "
                                                    f"range_km ({spec.range_km:,.0f})"))
        from shieldlab.airspace.flight import min_true_airspeed

        h_at = np.where(np.isnan(alt), spec.cruise_alt_m, alt)
        v_least = min_true_airspeed(spec.min_speed_eas_kmh / 3.6, h_at)
        for jj in np.flatnonzero(speed_set < v_least - 1e-9):
            problems.append((f"flights[{i}].route[{jj}].speed_kmh",
                             f"{speed[jj] * 3.6:g} km/h is below the least speed the {spec.id} holds in level "
                             f"flight at {h_at[jj]:,.0f} m ({v_least[jj] * 3.6:,.0f} km/h true)"))
        for ii in np.flatnonzero(speed_set > spec.max_speed_kmh / 3.6 + 1e-9):
            problems.append((f"flights[{i}].route[{ii}].speed_kmh",
                             f"{speed[ii] * 3.6:g} km/h is above the {spec.id}'s max_speed_kmh "
                             f"({spec.max_speed_kmh:g})"))
        for kk in np.flatnonzero(alt_set > spec.ceiling_m + 1e-9):
            problems.append((f"flights[{i}].route[{kk}].alt_m",
                             f"{alt[kk]:g} m is above the {spec.id}'s ceiling_m ({spec.ceiling_m:g})"))
        if f.claims and scn.air_policing is None:
            for q, cl in enumerate(f.claims):
                if any(v is not None for v in (cl.time_inside_s, cl.distance_inside_km, cl.max_depth_km)):
                    problems.append((f"flights[{i}].claims[{q}]", "states a crossing of an airspace, and the "
                                                                   "scenario polices none: add air_policing with "
                                                                   "its country"))
        for k in range(f.count):
            flights.append(Flight(name=salvo_member(f.name, f.count, k), group=f.name, entry=i, spec=spec,
                                  side=f.side or f.name, route_lat=lat, route_lon=lon, route_alt=alt,
                                  route_speed=speed, start_time=f.start_time_s + k * f.spacing_s,
                                  speed_sigma=f.speed_pct / 100, start_sigma=f.start_sigma_s,
                                  failure_probability=f.failure_probability, claims=tuple(f.claims)))
    ap = scn.air_policing
    if ap is None:
        return tuple(flights), None
    from shieldlab.analysis.maps import close_countries, country_names

    names = country_names()
    if ap.country not in names:
        near = close_countries(ap.country, 4)
        problems.append(("air_policing.country", f"unknown country {ap.country!r} (Natural Earth names"
                                                 f"{', e.g. ' + ', '.join(near) if near else ''})"))

    def fighter(key: str, field: str):
        # (the known ones are the fighters: a cruise missile listed as known was then refused)
        fighters = {k: v for k, v in aircraft.items()
                    if v.kind == "aircraft" and (v.weapon is not None or ap.engage == "never")}
        if key not in aircraft:
            problems.append((field, unknown_message("fighter", key, fighters)))
            return None
        spec = lookup(aircraft, key, "aircraft", field)
        if spec is not None and spec.kind != "aircraft":
            problems.append((field, f"{key!r} is a {spec.kind}, not an aircraft"))
            return None
        if spec is not None and ap.engage != "never" and spec.weapon is None:
            problems.append((field, f"{key!r} carries no air-to-air weapon in the catalogue, and engage is "
                                    f"{ap.engage!r}: choose a fighter with a weapon, or engage: never"))
            return None
        return spec

    bases, patrols = [], []
    for i, b in enumerate(ap.bases):
        spec = fighter(b.type, f"air_policing.bases[{i}].type")
        site = place(b.site, f"air_policing.bases[{i}].site")
        if spec is not None and site is not None:
            bases.append(AirBase(b.name, spec, site, float(b.readiness_s), float(b.climb_s)))
    for i, c in enumerate(ap.patrols):
        spec = fighter(c.type, f"air_policing.patrols[{i}].type")
        site = place(c.site, f"air_policing.patrols[{i}].site")
        if c.end_time_s <= c.start_time_s:
            problems.append((f"air_policing.patrols[{i}].end_time_s",
                             f"{c.end_time_s:g} s is not after start_time_s ({c.start_time_s:g} s)"))
        if spec is not None and site is not None and site.alt > spec.ceiling_m:
            problems.append((f"air_policing.patrols[{i}].site", f"the station's height, {site.alt:,.0f} m, is above "
                                                                f"the {spec.id}'s ceiling_m ({spec.ceiling_m:,.0f})"))
        elif spec is not None and site is not None:
            patrols.append(Patrol(c.name, spec, site, float(c.start_time_s), float(c.end_time_s)))
    policing = Policing(country=ap.country, side=ap.side or ap.country, waters_nmi=float(ap.waters_nmi),
                        warn_within=1e3 * ap.warn_within_km, warning_interval=float(ap.warning_interval_s),
                        scramble=ap.scramble, engage=ap.engage, min_warnings=int(ap.min_warnings),
                        reaction=float(ap.reaction_s), engage_from=float(ap.engage_from_s),
                        max_shots=int(ap.max_shots), pursuit=ap.pursuit, bases=tuple(bases),
                        patrols=tuple(patrols))
    return tuple(flights), policing
