"""Defended footprint: the ground a scenario's batteries defend against each launch site.

A grid point ``p`` counts as *defended* against a launch site when at least one battery
can put an interceptor on a threat aimed at ``p`` before the threat falls below that
battery's floor (its minimum intercept altitude).  Method (details and equations in
docs/footprint.md):

1. **Launch sites.**  Each distinct (launch point, missile, profile) among the scenario's
   threats is one launch site, named ``<launch>/<missile>`` (``/<profile>`` when not
   min-energy).  A launch point within :data:`POLE_OFFSET_M` (2 km) of a pole, where a
   launch azimuth is undefined, is flown from that distance off the pole on its own
   meridian.
2. **Profile trajectories.**  For each site the steering solver
   (:func:`shieldlab.flyout.aim.solve`, full model by default: rotating WGS84 Earth, J2,
   drag) is run at a few *anchor* ranges on the central bearing of the grid (on three
   bearings for a missile that cuts thrust on a min-energy shot); the kick angle and thrust
   cut-off are interpolated in range between the anchors (PCHIP; a first harmonic in
   bearing), and the whole
   family (``n_ranges`` members on each of ``n_bearings`` launch azimuths covering the
   grid's sector) is flown in one batched :func:`shieldlab.flyout.integrate.fly` call.
   Each flight is stored in the frame of its own launch -> impact great circle
   (downrange fraction, cross-range, altitude) at ``K`` nodes of normalised time
   ``tau = t / time_of_flight``, indexed by its actual impact range and bearing.
3. **Paths to every grid point.**  The path aimed at a point at range ``R`` and bearing
   ``B`` is the bilinear interpolation (range within each azimuth column, then bearing
   between columns) of the stored profiles, placed on the launch -> point great circle.
   Latitudes and longitudes are geodetic and distances are on the mean sphere, as in
   :mod:`shieldlab.analysis.reach`; validated against direct flyouts in
   tests/test_footprint.py.
4. **Sampled as fire control samples.**  Each path is sampled every
   :data:`~shieldlab.c2.firecontrol.PREDICT_DT` (4 s) from launch to impact, on WGS84 ECEF
   (compiled, :func:`_paths`), the step at which fire control extrapolates its tracks.
5. **The engine's cue, reach, solver, Pk and doctrine** (one implementation, no second kill
   chain):

   * *cue*: when the battery's system is expected to confirm a track, by the tracker's
     rule (the ``init_hits``-th detection from any of the system's radars) in
     expectation: each radar's scans that see the path
     (:func:`shieldlab.sensors.visibility.sees`, the engine's field-of-regard test) add
     the engine's Swerling-1 Pd for the missile's RCS
     (:func:`shieldlab.sensors.visibility.expected_confirmation_time`), and the cue is
     the first scan where the sum reaches ``init_hits`` (or a fixed ``cue_delay_s``);
     under coordinated and sectoral a node's picture also holds a linked node's track from
     that link's first send after it plus its latency (:func:`_shared`);
     ``t_ready_b`` = cue + the battery's reaction time (where a launch report of its
     system alerts the battery first: ``max(cue, alert + reaction time)``); a battery
     whose ``cue`` is ``own`` is cued by its own radar alone, and one that launches on
     remote intercepts no earlier than its own radar's cue plus its handover time (it
     guides on that radar's track, :func:`_chunk`);
   * *reach and intercept*: the battery's fly-out fan (:func:`shieldlab.engage.fan.fan_for`,
     read as :class:`~shieldlab.engage.solver.FanTime` reads it) and the engine's intercept
     solver (:func:`shieldlab.engage.solver.intercept_window`): the earliest point of the
     path an interceptor launched no earlier than ``t_ready_b`` reaches;
   * *Pk*: :func:`shieldlab.engage.pk.kill_probability` of the end-game geometry there
     (closing speed, crossing angle), as fire control rates its options;
   * *doctrine*: the compiled :class:`~shieldlab.c2.doctrine.Doctrine` and the batteries'
     compiled salvo and look time.  Engagements follow one another, shoot-look-shoot: the
     first goes to the battery that can intercept earliest (the lower index on a tie, as
     fire control orders its options); the next is decided at the previous intercept plus
     that battery's look time and may launch only a reaction time after that decision
     (:func:`~shieldlab.c2.firecontrol.ready_time`, as fire control readies a battery), up to
     ``max_engagements``; each fires the battery's salvo.  With independent shots
     ``P = 1 - prod_engagements (1 - pk)^salvo``.

   Magazines, other threats, track errors and hand-over are left out: this is the
   kinematic best case for one threat with a perfect prediction.
   tests/test_footprint.py runs the kill chain on a threat aimed at a grid point and
   finds the cue and launch time within a scan, its first intercept no earlier than the
   footprint's, and its kill rate around the footprint's probability.

A scenario without batteries has nothing to map: :func:`compute` raises
:class:`~shieldlab.errors.InputError` on the field ``batteries`` (exit code 2 on the
command line).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numba as nb
import numpy as np
import shapely
from scipy.interpolate import PchipInterpolator

from shieldlab import earth
from shieldlab.c2.doctrine import Doctrine, compile_doctrine
from shieldlab.c2.firecontrol import PREDICT_DT, ready_time
from shieldlab.c2.links import Link, first_try_arrival
from shieldlab.c2.network import earliest_warning, report_links, warning_sources
from shieldlab.catalog.models import Missile
from shieldlab.earth import WGS84_A, WGS84_B
from shieldlab.engage.fan import fan_for
from shieldlab.engage.pk import kill_probability
from shieldlab.engage.solver import (
    fan_time,
    fan_times_geodetic_parallel,
    intercept_geometry,
    intercept_window,
    interceptor_velocity,
)
from shieldlab.errors import InputError
from shieldlab.flyout import aim
from shieldlab.flyout.integrate import FULL, EarthModel, fly, run
from shieldlab.flyout.vehicle import vehicle_from_missiles
from shieldlab.scenario.compile import Point
from shieldlab.sensors import atmosphere, visibility
from shieldlab.sensors.infrared import expected_report_time
from shieldlab.sensors.radar import confirmation_radars
from shieldlab.sensors.signature import Signature

if TYPE_CHECKING:
    from shieldlab.analysis.places import PopulationInside

R0 = earth.R_EARTH_MEAN

#: Named regions: (lat_min, lat_max, lon_min, lon_max) [deg].
REGIONS = {"europe": (34.0, 72.0, -12.0, 45.0)}

#: Nodes of normalised flight time per stored profile.
K_NODES = 320

#: Grid points whose sampled paths are held in memory at once.
CHUNK = 2048
#: Members of a profile family flown and reduced together (bounds the recorded samples held).
_FAMILY_BLOCK = 256
#: The least members per thread when a block is flown (:func:`shieldlab.flyout.integrate.run`):
#: a block's members are whole recorded flights (a few tenths of a ms each), enough work to
#: split one block between the cores (the flyout's default waits for 256 per thread, so a
#: block would fly on one); each flight is flown alone, so the split changes no result.
_FAMILY_MIN_BATCH = 32
#: Headroom of the samples a block passes on to the next one as its guess, over the
#: samples it needed (a fraction): a family's blocks need within about 2 % of one another
#: (the EPAA sites: 1.0-1.7 % more in the second block than in the first), and a guess
#: short by one sample flies the block three times instead of once.  Samples past every
#: impact are never read, so the headroom changes no result, only a little memory.
_SAMPLES_HEADROOM = 0.03


# --------------------------------------------------------------------------- grid
@dataclass(frozen=True)
class Grid:
    """A regular latitude/longitude grid [deg], cell centres on the nodes."""

    lat_deg: np.ndarray  # (n_lat,)
    lon_deg: np.ndarray  # (n_lon,)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.lat_deg.size, self.lon_deg.size)

    @property
    def step_deg(self) -> float:
        return float(self.lat_deg[1] - self.lat_deg[0]) if self.lat_deg.size > 1 else 0.0

    def at_edge(self, mask: np.ndarray) -> bool:
        """Whether ``mask`` (n_lat, n_lon) holds a node on the grid's outermost rows or columns:
        what it marks (ground defended, covered) may run on past the box, so the box's areas
        and ranges are of the box alone.  A pole is no edge, nor is a longitude of a grid
        round the whole Earth."""
        m = np.asarray(mask, bool)
        if not m.any():
            return False
        rows = [r for r, lat in ((0, self.lat_deg[0]), (-1, self.lat_deg[-1])) if abs(lat) < 90.0 - 1e-9]
        whole = self.lon_deg[-1] - self.lon_deg[0] + self.step_deg >= 360.0 - 1e-6
        return bool(any(m[r].any() for r in rows) or (not whole and (m[:, 0].any() or m[:, -1].any())))

    def cell_area_km2(self) -> np.ndarray:
        """(n_lat, n_lon) area of each node's cell on the mean sphere [km^2]."""
        dlat = np.radians(self.lat_deg[1] - self.lat_deg[0]) if self.lat_deg.size > 1 else 0.0
        dlon = np.radians(self.lon_deg[1] - self.lon_deg[0]) if self.lon_deg.size > 1 else 0.0
        a = (R0 / 1e3) ** 2 * dlat * dlon * np.cos(np.radians(self.lat_deg))
        return np.repeat(a[:, None], self.lon_deg.size, axis=1)


def make_grid(lat_min: float, lat_max: float, lon_min: float, lon_max: float, step_deg: float) -> Grid:
    """Nodes ``lat_min, lat_min + step, ... <= lat_max`` (same in longitude) [deg].  A box across
    the antimeridian runs its longitudes on past 180 (``lon_max`` up to ``lon_min + 360``, at
    most 540), as the default boxes do: 156 to 192 is the 36 degrees over Shemya."""
    if not step_deg > 0:
        raise InputError(f"must be > 0, got {step_deg}", field="--step-deg")
    if not (-90 <= lat_min < lat_max <= 90 and -180 <= lon_min < 180 and lon_min < lon_max <= lon_min + 360):
        raise InputError(f"bad box lat {lat_min}..{lat_max}, lon {lon_min}..{lon_max}: need "
                         "-90 <= lat_min < lat_max <= 90 and -180 <= lon_min < 180, lon_min < lon_max <= "
                         "lon_min + 360 (past 180 across the antimeridian: 156,192)", field="--bbox")
    n_lat = int(np.floor((lat_max - lat_min) / step_deg + 1e-9)) + 1
    n_lon = int(np.floor((lon_max - lon_min) / step_deg + 1e-9)) + 1
    if n_lat * n_lon > 4_000_000:
        raise InputError(f"{n_lat} x {n_lon} grid points is too many (at most 4,000,000)", field="--step-deg")
    return Grid(lat_min + step_deg * np.arange(n_lat), lon_min + step_deg * np.arange(n_lon))


def _require_batteries(world) -> None:
    if not world.batteries:
        air = " (a scenario of flights or shelling: `shieldlab coverage` maps its radars)" if not world.threats else ""
        raise InputError(f"no battery to map: the scenario has no batteries{air}", field="batteries")


def _require_sites(sites) -> None:
    """A footprint is against ballistic threats: none to map is an input error."""
    if not sites:
        raise InputError("no ballistic threat to map the footprint against (it maps the ground the batteries "
                         "defend against ballistic missiles; --aircraft maps their reach against aircraft)",
                         field="threats")


def _circle(lat: float, lon: float, r: float) -> tuple[np.ndarray, np.ndarray]:
    """Points of the circle of ground radius ``r`` [m] around (``lat``, ``lon``) [rad] (no
    wider than a hemisphere's), [deg]."""
    b = np.linspace(0, 2 * np.pi, 73)
    la, lo = earth.destination(lat, lon, b, min(r, 0.45 * np.pi * R0))
    return np.degrees(la), np.degrees(lo)


def _missile_reach_m(site) -> float:
    """How far from a launch site [m] its threats may be aimed: 1.05 × the missile's range, the
    margin the flight families cover (:func:`_sector`)."""
    return 1.05e3 * site.missile.max_range_km


def range_box(sites) -> tuple[float, float, float, float]:
    """``(lat0, lat1, lon0, lon1)`` [deg] over the ground the sites' missiles can reach
    (:func:`_missile_reach_m` around each launch point): nothing beyond is threatened."""
    la, lo = zip(*(_circle(s.lat, s.lon, _missile_reach_m(s)) for s in sites))
    lat, lon = np.concatenate(la), np.concatenate(lo)
    return float(lat.min()), float(lat.max()), float(lon.min()), float(lon.max())


def auto_box(world, sites=None) -> tuple[float, float, float, float]:
    """``(lat0, lat1, lon0, lon1)`` [deg] of :func:`auto_grid`'s box, before its step: each
    (launch site, battery) pair's shadow (:func:`_shadow`), the batteries and launch points,
    the defended assets and radars within the missiles' reach, and a margin of 3 % of its
    span (at least 0.5°), so that no marker sits on the frame; where no battery's reach meets
    a missile's, the box over the batteries' reach."""
    _require_batteries(world)
    sites = launch_sites(world) if sites is None else sites
    _require_sites(sites)
    lats: list[float] = []
    lons: list[float] = []
    for s in sites:
        for b in world.batteries:
            la, lo = _shadow(s, b)
            lats += list(la)
            lons += list(lo)
    if not lats:
        for b in world.batteries:
            la, lo = _circle(b.site.lat, b.site.lon, 1e3 * b.spec.max_range_km)
            lats += list(la)
            lons += list(lo)

    def in_range(lat: float, lon: float) -> bool:  # a place some site's missile can reach
        return any(float(earth.great_circle_distance(s.lat, s.lon, lat, lon)) <= _missile_reach_m(s) for s in sites)

    marks = [(b.site.lat, b.site.lon) for b in world.batteries] + [(s.lat, s.lon) for s in sites]
    marks += [(a.site.lat, a.site.lon) for a in world.assets if in_range(a.site.lat, a.site.lon)]
    marks += [(ps.radar.lat, ps.radar.lon) for ps in world.sensors if in_range(ps.radar.lat, ps.radar.lon)]
    lats += [float(np.degrees(p[0])) for p in marks]
    lons += [float(np.degrees(p[1])) for p in marks]
    lat0, lat1, lon0, lon1 = min(lats), max(lats), min(lons), max(lons)
    pad = max(0.5, 0.03 * max(lat1 - lat0, lon1 - lon0))
    return max(-89.0, lat0 - pad), min(89.0, lat1 + pad), max(-180.0, lon0 - pad), min(180.0, lon1 + pad)


def _shadow(site, bat) -> tuple[np.ndarray, np.ndarray]:
    """Points [deg] over the ground ``bat`` may defend against ``site`` (none where its reach
    lies beyond the missile's): the aim points whose ground track from the launch point
    crosses the battery's reach (its circle of ``max_range_km``, widened by 5 % and by 2 % of
    the missile's range: a ballistic ground track bends off the great circle as the Earth
    turns), and no further from the battery than the circle and the ground a threat covers
    coming down from the battery's ceiling (``max_intercept_alt_km``) no flatter than 25°;
    out to the missile's reach (:func:`_missile_reach_m`) where the circle also takes in the
    climb from the launch point.
    A bound for the first box, not the answer: :func:`compute` grows its box where the
    defended cells reach the edge."""
    rng = min(_missile_reach_m(site), 0.45 * np.pi * R0)
    reach = 1e3 * bat.spec.max_range_km * 1.05 + 0.02 * rng
    below = 1e3 * bat.spec.max_intercept_alt_km / np.tan(np.radians(25.0))
    d = float(earth.great_circle_distance(site.lat, site.lon, bat.site.lat, bat.site.lon))
    if d - reach > rng:
        return np.zeros(0), np.zeros(0)
    if d <= reach:  # the launch point inside the reach: every direction
        bearings, dist = np.linspace(0.0, 2.0 * np.pi, 73), np.linspace(0.0, rng, 41)
    else:
        half = np.arcsin(min(np.sin(reach / R0) / np.sin(d / R0), 1.0))
        mid = float(earth.initial_bearing(site.lat, site.lon, bat.site.lat, bat.site.lon))
        bearings, dist = mid + np.linspace(-half, half, 41), np.linspace(d - reach, rng, 41)
    la, lo = earth.destination(site.lat, site.lon, bearings[:, None], dist[None, :])
    la, lo = la.ravel(), lo.ravel()
    if d - reach > below:  # not on the climb: the threat comes down within ``below`` past the reach
        near = earth.great_circle_distance(bat.site.lat, bat.site.lon, la, lo) <= reach + below
        la, lo = la[near], lo[near]
    return np.degrees(la), np.degrees(lo)


def auto_step(box: tuple[float, float, float, float]) -> float:
    """The automatic grid step [deg] of a box: the multiple of 0.05 deg giving about 160 nodes
    along its longer side."""
    lat0, lat1, lon0, lon1 = box
    return float(max(0.05, np.ceil(max(lat1 - lat0, lon1 - lon0) / 160 / 0.05) * 0.05))


def box_grid(box: tuple[float, float, float, float], step_deg: float) -> Grid:
    """The grid over ``box`` (lat0, lat1, lon0, lon1) [deg] at ``step_deg``, its first nodes on
    multiples of the step."""
    lat0, lat1, lon0, lon1 = box
    return make_grid(np.floor(lat0 / step_deg) * step_deg, lat1, np.floor(lon0 / step_deg) * step_deg, lon1,
                     step_deg)


def auto_grid(world, step_deg: float | None = None, sites=None) -> Grid:
    """Box over the ground the batteries may defend against the launch sites, plus the sites.

    A battery defends the ground a threat is aimed at, which may lie beyond its reach (a
    threat aimed past it is engaged on its way over): the box covers each (launch site,
    battery) pair's shadow (:func:`_shadow`), every battery and launch point, and the
    defended assets and radars inside some missile's range, with a margin (:func:`auto_box`).
    Default step: :func:`auto_step`.  :func:`compute` with no grid grows this box where the
    defended cells still reach its edge.
    """
    box = auto_box(world, sites)
    return box_grid(box, auto_step(box) if step_deg is None else step_deg)


def region_grid(name: str, step_deg: float = 0.25) -> Grid:
    if name not in REGIONS:
        raise InputError(f"unknown region {name!r} (known: {', '.join(REGIONS)})", field="--region")
    return make_grid(*REGIONS[name], step_deg)


# --------------------------------------------------------------------------- launch sites
#: Launch sites nearer a pole than this [m] are flown from this far off it, on their own
#: meridian.  At the pole a launch azimuth has no meaning (every direction is south), and
#: the flyout steers its pitch-over against the local north of the moving vehicle, which
#: turns through large angles within metres of the pole: the steering solver fails there
#: (measured: it fails for some missiles 110 m from the pole and for all 1 m from it; every
#: catalogue missile steers to within 1 m of its aim from 2 km off it).  2 km is small
#: against the missiles' ranges (300 km and more) and below the automatic grid steps
#: (0.05 deg, 5.6 km, and coarser).
POLE_OFFSET_M = 2e3
POLE_LAT_MAX = 0.5 * np.pi - POLE_OFFSET_M / R0


@dataclass(frozen=True)
class LaunchSite(Point):
    """One (launch point, missile, profile) of the scenario's threats; the point in
    radians and metres, as every compiled place."""

    name: str
    missile: Missile
    profile: str
    threats: tuple[str, ...]  # scenario threat entries that fly it
    apogee: float | None = None  # a shaped shot's apogee [m] (its threats' apogee_km)
    flight_time: float | None = None  # a shaped shot's flight time [s]

    @property
    def shaped(self) -> bool:
        return self.apogee is not None or self.flight_time is not None


def _place_name(world, point, entry_launch) -> str:
    if isinstance(entry_launch, str):
        return entry_launch
    return f"{np.degrees(point.lat):.2f},{np.degrees(point.lon):.2f}"


def launch_sites(world, names=None) -> list[LaunchSite]:
    """Distinct (launch point, missile, profile, shape) of ``world``'s threats, in scenario order.

    ``names``: keep only these (a site's full name ``launch/missile[/profile]``, or just the
    launch name or the missile id, which keep every site that has it).
    """
    seen: dict[tuple, LaunchSite] = {}
    cfg = world.scenario.threats
    for th in world.threats:
        key = (round(th.launch.lat, 9), round(th.launch.lon, 9), th.missile.id, th.profile, th.apogee, th.flight_time)
        if key in seen:
            s = seen[key]
            if th.group not in s.threats:
                seen[key] = replace(s, threats=s.threats + (th.group,))
            continue
        place = _place_name(world, th.launch, cfg[th.entry].launch)
        name = f"{place}/{th.missile.id}" + ("" if th.profile == "min-energy" else f"/{th.profile}")
        if th.apogee is not None:
            name += f"/apogee-{th.apogee / 1e3:g}km"
        if th.flight_time is not None:
            name += f"/{th.flight_time:g}s"
        lat = float(np.clip(th.launch.lat, -POLE_LAT_MAX, POLE_LAT_MAX))
        seen[key] = LaunchSite(lat, th.launch.lon, th.launch.alt, name=name, missile=th.missile,
                               profile=th.profile, threats=(th.group,), apogee=th.apogee,
                               flight_time=th.flight_time)
    out = list(seen.values())
    if names:
        keep = []
        for n in names:
            hit = [s for s in out if n in (s.name, s.name.split("/")[0], s.missile.id)]
            if not hit:
                raise InputError(f"no launch site {n!r} (known: {', '.join(s.name for s in out)})", field="--site")
            keep += [s for s in hit if s not in keep]
        out = keep
    return out


# --------------------------------------------------------------------------- time to reach
# --------------------------------------------------------------------------- profiles
@dataclass(frozen=True)
class ProfileTable:
    """Flown family of one launch site, stored in each flight's launch->impact frame.

    Columns ``j`` are launch azimuths (increasing), rows ``i`` the members in increasing
    impact range.  ``u`` is the downrange angle over the impact range angle, ``c`` the
    cross-range [m] (positive to the left of the launch->impact direction), ``h`` the
    geodetic altitude [m], all at normalised times ``tau`` (K,).
    """

    site: LaunchSite
    azimuth: np.ndarray  # (nB,) launch azimuths [rad]
    range: np.ndarray  # (nB, nR) impact range [m] (mean sphere)
    bearing: np.ndarray  # (nB, nR) impact bearing from the launch point [rad], unwrapped near azimuth
    tof: np.ndarray  # (nB, nR) flight time [s]
    burn: np.ndarray  # (nB, nR) burnout time after launch [s]
    u: np.ndarray  # (nB, nR, K)
    c: np.ndarray  # (nB, nR, K)
    h: np.ndarray  # (nB, nR, K)
    tau: np.ndarray  # (K,)
    full_circle: bool
    solve_s: float = 0.0
    fly_s: float = 0.0


def _north_east(lat, lon):
    lat, lon = float(lat), float(lon)
    n = np.array([-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)])
    e = np.array([-np.sin(lon), np.cos(lon), 0.0])
    return n, e


def _sector(site: LaunchSite, grid: Grid, step_max_deg: float):
    """Launch azimuths covering the grid points within the missile's reach: (az (nB,), full)."""
    lat = np.radians(grid.lat_deg)[:, None]
    lon = np.radians(grid.lon_deg)[None, :]
    R = earth.great_circle_distance(site.lat, site.lon, lat, lon)
    inside = (R <= _missile_reach_m(site)) & (R > 1e3)
    if not inside.any():
        return None, False
    B = np.broadcast_to(earth.initial_bearing(site.lat, site.lon, lat, lon), R.shape)[inside]
    # the smallest arc containing all bearings: complement of the widest gap
    s = np.sort(np.mod(B, 2 * np.pi))
    gaps = np.diff(np.concatenate([s, [s[0] + 2 * np.pi]]))
    k = int(np.argmax(gaps))
    if gaps[k] < np.radians(3 * step_max_deg):  # surrounded: every bearing
        n = int(np.ceil(360.0 / step_max_deg))
        return np.linspace(0.0, 2 * np.pi, n, endpoint=False), True
    start = s[(k + 1) % s.size]
    span = 2 * np.pi - gaps[k]
    margin = np.radians(2.0)  # impact bearings deviate from launch azimuths by Coriolis
    lo, hi = start - margin, start + span + margin
    n = max(2, int(np.ceil(np.degrees(hi - lo) / step_max_deg)) + 1)
    return np.linspace(lo, hi, n), False


# anchor bearings of a trimmed shot, round the circle and over a sector: its kick hangs on the
# Earth's rotation (on a sector of 3 anchors a Shahab-3's interpolated path strayed 2.3 km, on 4 1.2 km)
NB_FULL, NB_SECTOR = 4, 4
_FR_SOLID = np.array([0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.96])
_FR_CUT = np.array([0.05, 0.15, 0.35, 0.6, 0.8, 0.93])
#: A shaped shot's anchors: it flies only part of the ranges (the rest cannot take the shape),
#: and its family spans its first to its last anchor that flies: one step (a twentieth of the
#: maximum range, ~27 km for iskander-m) is how much of the span's ends the map may miss
_FR_SHAPED = np.linspace(0.05, 1.0, 20)[:-1]


def _needs_bearing_anchors(site: LaunchSite) -> bool:
    """Whether the steering depends on the bearing enough to solve it on several bearings.

    A missile that cuts thrust on a min-energy shot has an optimum so flat (a 0.08 deg
    change of kick moves the burnout speed by 0.2 m/s but the flight time by 5 s, for
    ghadr-1 at 1,150 km) that the Earth's rotation shifts it visibly from one bearing to
    another.  A full-burn shot is fixed by its kick alone: any kick on the right branch is
    the solver's own answer for wherever it lands, so one bearing of anchors is enough.
    """
    return aim.trims(site.missile) and site.profile == "min-energy" and not site.shaped


def _trim_kind(missile) -> int:
    """The steering solver's kind of trim for ``missile`` (:data:`shieldlab.flyout.aim.TRIM_CUT` ...)."""
    if missile.thrust_termination:
        return aim.TRIM_CUT
    if missile.energy_management == "gem":
        return aim.TRIM_GEM
    return aim.TRIM_DIVE if missile.aero is not None else aim.TRIM_CUT


def _anchors(sites, model: EarthModel, sectors, dt: float):
    """Steering (kick, cutoff) at anchor ranges and bearings for each site, by the solver.

    Returns per site a list over anchor bearings of ``(bearing, ranges (n,), kick (n,),
    cutoff (n,))``, the last range being the full-burn maximum-range shot on that bearing.
    Anchors the profile cannot fly (e.g. a range too short for a solid's full-burn shot)
    are dropped.
    """
    missiles, la0, lo0, al0, la1, lo1, prof, owner, rng, best = [], [], [], [], [], [], [], [], [], []
    apo: list[float] = []
    tof: list[float] = []
    plan = []
    for i, s in enumerate(sites):
        az, full = sectors[i]
        if _needs_bearing_anchors(s) and (full or az[-1] - az[0] > np.radians(30)):
            n = NB_FULL if full else NB_SECTOR
            brg = np.linspace(0, 2 * np.pi, n, endpoint=False) if full else np.linspace(az[0], az[-1], n)
        else:
            brg = np.array([0.0 if full else 0.5 * (az[0] + az[-1])])
        veh = vehicle_from_missiles([s.missile] * brg.size)
        r0 = np.repeat(earth.geodetic_to_ecef(s.lat, s.lon, s.alt)[None], brg.size, 0)
        ev = aim._Evaluator(veh, r0, np.full(brg.size, s.lat), np.full(brg.size, s.lon), model, dt, 6000.0)
        k_star, r_max = aim._max_range_kick(ev, brg)
        fr = _FR_SHAPED if s.shaped else _FR_CUT if _needs_bearing_anchors(s) else _FR_SOLID
        plan.append((brg, k_star, r_max))
        for a, b in enumerate(brg):
            for f in fr:
                la, lo = earth.destination(s.lat, s.lon, b, f * r_max[a])
                missiles.append(s.missile)
                la0.append(s.lat)
                lo0.append(s.lon)
                al0.append(s.alt)
                la1.append(la)
                lo1.append(lo)
                prof.append(s.profile)
                apo.append(np.nan if s.apogee is None else s.apogee)
                tof.append(np.nan if s.flight_time is None else s.flight_time)
                owner.append((i, a))
                rng.append(f * r_max[a])
                best.append((k_star[a], r_max[a]))
    keep = np.ones(len(missiles), bool)
    while True:
        idx = np.flatnonzero(keep)
        try:
            st = aim.solve([missiles[j] for j in idx], np.array(la0)[idx], np.array(lo0)[idx], np.array(al0)[idx],
                           np.array(la1)[idx], np.array(lo1)[idx], [prof[j] for j in idx], model=model, dt=dt,
                           apogee=np.array(apo)[idx], flight_time=np.array(tof)[idx],
                           # the maximum-range shot of each anchor's bearing, flown above
                           max_range_kick=tuple(np.array(best)[idx].T),
                           # a solid's shortest anchor may meet the ground under thrust: kept, so
                           # the family's short end stays as validated (a limit: such a member is
                           # no flyable shot; dropping it moves epaa-phase-3's threatened area by 1 %)
                           under_thrust_ok=True,
                           # a shape an anchor cannot fly drops it with the others, not solved apart
                           shapes_on_first_bearing=True)
            break
        except aim.AimError as e:
            keep[idx[e.indices]] = False
            if not keep.any():
                raise
    owners = [owner[j] for j in idx]
    ranges = np.array(rng)[idx]
    out = []
    for i, s in enumerate(sites):
        total = float(vehicle_from_missiles([s.missile]).total_burn[0])
        brg, k_star, r_max = plan[i]
        per = []
        for a, b in enumerate(brg):
            m = np.array([o == (i, a) for o in owners])
            # the trim: the cut-off time, under GEM the upper stages' thrust factor (1: all of it), or
            # a quasi-ballistic shot's dive time; the full-burn maximum-range shot closes the family
            # unless the shot is shaped (the longest shaped shot is short of the maximum range)
            kind = _trim_kind(s.missile)
            trim = (st.upper_thrust[m] if kind == aim.TRIM_GEM else st.dive_time[m] if kind == aim.TRIM_DIVE
                    else np.minimum(st.cutoff[m], total))
            if s.shaped:
                r, k, c = ranges[m], st.kick[m], trim
            else:
                r, k = np.append(ranges[m], r_max[a]), np.append(st.kick[m], k_star[a])
                c = np.append(trim, 1.0 if kind == aim.TRIM_GEM else total)
            if r.size < 3:
                shape = (f" shaped to an apogee of {s.apogee / 1e3:g} km" if s.apogee is not None else
                         f" shaped to {s.flight_time:g} s of flight" if s.flight_time is not None else "")
                raise InputError(f"cannot map {s.missile.id} from {s.name}: its {s.profile} shot{shape} flies to "
                                 f"{r.size} of the anchor ranges, fewer than 3 (a shape fits only some ranges; a "
                                 f"flight time a narrow band); leave it out with --site (threats: "
                                 f"{', '.join(s.threats)})", field="threats")
            per.append((float(b), r, k, c))
        out.append(per)
    return out


def _family_steering(anchor_list, azimuths, n_ranges: int):
    """Kick, cutoff (nB, n_ranges) of the family on ``azimuths``: PCHIP in range along each
    anchor bearing at the same fractions of its range span, then a first harmonic in bearing."""
    q = np.linspace(0.0, 1.0, n_ranges)
    frac = 1.0 - (1.0 - q) ** 1.3  # denser towards the maximum range, where range changes slowly
    k_rows, c_rows, b_list = [], [], []
    for b, r, k, c in anchor_list:
        rr = r[0] + (r[-1] - r[0]) * frac
        k_rows.append(PchipInterpolator(r, k)(rr))
        c_rows.append(PchipInterpolator(r, c)(rr))
        b_list.append(b)
    ks, cs, bs = np.array(k_rows), np.array(c_rows), np.array(b_list)
    if bs.size == 1:
        return np.repeat(ks, azimuths.size, 0), np.repeat(cs, azimuths.size, 0)
    # the Earth's rotation enters through the launch direction's east and north components:
    # fit k(B) = a + b sin B + c cos B through the anchor bearings (exact for three, least
    # squares for four around the circle); a straight line through two
    basis = (lambda b_: np.stack([np.ones_like(b_), np.sin(b_), np.cos(b_)], -1)) if bs.size >= 3 else (
        lambda b_: np.stack([np.ones_like(b_), b_ - bs[0]], -1))
    coef_k = np.linalg.lstsq(basis(bs), ks, rcond=None)[0]
    coef_c = np.linalg.lstsq(basis(bs), cs, rcond=None)[0]
    return basis(azimuths) @ coef_k, basis(azimuths) @ coef_c


def build_profiles(sites, grid: Grid, model: EarthModel = FULL, n_ranges: int = 40, bearing_step_deg: float = 10.0,
                   dt: float = 1.0, anchor_dt: float = 2.0) -> list[ProfileTable | None]:
    """Flown profile families for ``sites`` over ``grid`` (``None`` for a site that reaches no node)."""
    t0 = time.perf_counter()
    sectors = [_sector(s, grid, bearing_step_deg) for s in sites]
    active = [i for i, (az, _) in enumerate(sectors) if az is not None]
    tables: list[ProfileTable | None] = [None] * len(sites)
    if not active:
        return tables
    anchors = _anchors([sites[i] for i in active], model, [sectors[i] for i in active], anchor_dt)
    solve_s = time.perf_counter() - t0
    # family: per site, per azimuth column, n_ranges members steered between the anchors
    missiles, pos0_l, kick_l, az_l, cut_l, owner_l = [], [], [], [], [], []
    shapes = {}
    for a, i in enumerate(active):
        s = sites[i]
        azs = sectors[i][0]
        kk, cc = _family_steering(anchors[a], azs, n_ranges)
        nB = azs.size
        shapes[i] = (nB, n_ranges)
        missiles += [s.missile] * (nB * n_ranges)
        pos0_l.append(np.broadcast_to(earth.geodetic_to_ecef(s.lat, s.lon, s.alt), (nB * n_ranges, 3)))
        kick_l.append(kk.ravel())
        cut_l.append(cc.ravel())
        az_l.append(np.repeat(azs, n_ranges))
        owner_l += [i] * (nB * n_ranges)
    veh = vehicle_from_missiles(missiles)
    pos0, kick, az, cut = np.concatenate(pos0_l), np.concatenate(kick_l), np.concatenate(az_l), np.concatenate(cut_l)
    owner = np.array(owner_l)
    B = len(missiles)
    f0 = time.perf_counter()
    shaped = np.concatenate([np.full(shapes[i][0] * shapes[i][1], sites[i].shaped) for i in active])
    kind = np.array([_trim_kind(m) for m in missiles])
    gem, dive = kind == aim.TRIM_GEM, (kind == aim.TRIM_DIVE) & shaped
    cut, upper, dive_t = (np.where(gem | dive, np.inf, cut), np.where(gem, np.minimum(cut, 1.0), 1.0),
                          np.where(dive, cut, np.inf))
    steer = (pos0, kick, az, cut, upper, dive_t)
    tof, burn = np.full(B, np.inf), np.full(B, np.inf)  # flight and burnout times [s], block by block below
    tau = np.linspace(0.0, 1.0, K_NODES)
    fly_s = time.perf_counter() - f0
    for i in active:
        s = sites[i]
        m = np.flatnonzero(owner == i)
        nB, nR = shapes[i]
        eL = earth.unit_vector(s.lat, s.lon)
        n_l, e_l = _north_east(s.lat, s.lon)
        R_imp, B_imp = np.empty(m.size), np.empty(m.size)
        U = np.empty((m.size, K_NODES))
        C = np.empty_like(U)
        H = np.empty_like(U)
        # the recorded flights in blocks of members, each reduced to its K_NODES samples at
        # once: the whole family's samples (members x seconds of flight x 3, several arrays
        # of them) would hold hundreds of MB at a time
        T: int | None = None  # the samples of the site's last block (with headroom): the next one's first guess
        for lo in range(0, m.size, _FAMILY_BLOCK):
            q = slice(lo, min(lo + _FAMILY_BLOCK, m.size))
            g = m[q]
            f0 = time.perf_counter()
            tr, tof[g], burn[g], T = _recorded_block(veh.take(g), [a[g] for a in steer], dt, model, T)
            fly_s += time.perf_counter() - f0
            t = tr.t
            # the samples a member's nodes read: np.interp brackets each node's time [0, tof]
            # between two samples, so none past the first one after its impact; the block's
            # grid runs on to its longest flight, and the samples past each impact are not
            # converted (left 0, never read)
            n_read = np.minimum(np.searchsorted(t, tof[g], side="right") + 1, t.size)
            read = np.arange(t.size)[None, :] < n_read[:, None]
            lat_r, lon_r, alt_r = earth.ecef_to_geodetic(tr.pos[read])
            d = np.zeros(tr.pos.shape)  # (block, T, 3)
            d[read] = earth.unit_vector(lat_r, lon_r)
            alt = np.zeros(read.shape)
            alt[read] = alt_r
            ilat, ilon, _ = earth.ecef_to_geodetic(tr.impact_pos)
            R_imp[q] = earth.great_circle_distance(s.lat, s.lon, ilat, ilon)
            b_imp = earth.initial_bearing(s.lat, s.lon, ilat, ilon)
            b_imp = az[g] + np.angle(np.exp(1j * (b_imp - az[g])))  # unwrap next to the launch azimuth
            B_imp[q] = b_imp
            eB = np.cos(b_imp)[:, None] * n_l + np.sin(b_imp)[:, None] * e_l
            nrm = np.cross(eL, eB)
            x = d @ eL
            y = np.einsum("mtk,mk->mt", d, eB)
            z = np.einsum("mtk,mk->mt", d, nrm)
            sig = np.arctan2(y, x)
            cr = R0 * np.arcsin(np.clip(z, -1, 1))
            for k, row in enumerate(range(q.start, q.stop)):
                tt = tau * tof[g[k]]
                U[row] = np.interp(tt, t, sig[k]) / (R_imp[row] / R0)
                C[row] = np.interp(tt, t, cr[k])
                H[row] = np.interp(tt, t, alt[k])
        H[:, -1] = 0.0
        U[:, -1] = 1.0
        C[:, -1] = 0.0
        rng_ = R_imp.reshape(nB, nR)
        # keep each column's members strictly increasing in range (drop any that fell short)
        ok = np.isfinite(tof[m]).reshape(nB, nR)
        for j in range(nB):
            best = -np.inf
            for q_ in range(nR):
                if ok[j, q_] and rng_[j, q_] > best + 1.0:
                    best = rng_[j, q_]
                else:
                    ok[j, q_] = False
        if not ok.all():  # replace dropped members by their neighbour (a duplicate range row)
            for j in range(nB):
                good = np.flatnonzero(ok[j])
                for qd in np.flatnonzero(~ok[j]):
                    src = good[np.argmin(np.abs(good - qd))]
                    rng_[j, qd] = rng_[j, src] + 1e-3 * (qd - src)
                    for arr in (U, C, H):
                        arr[j * nR + qd] = arr[j * nR + src]
                    B_imp[j * nR + qd] = B_imp[j * nR + src]
                    tof[m[j * nR + qd]] = tof[m[j * nR + src]]
            order = np.argsort(rng_, axis=1)
            rng_ = np.take_along_axis(rng_, order, axis=1)
        else:
            order = np.tile(np.arange(nR), (nB, 1))
        flat = (order + np.arange(nB)[:, None] * nR).ravel()
        tables[i] = ProfileTable(
            site=s, azimuth=sectors[i][0], range=np.ascontiguousarray(rng_),
            bearing=np.ascontiguousarray(B_imp[flat].reshape(nB, nR)),
            tof=np.ascontiguousarray(tof[m][flat].reshape(nB, nR)),
            burn=np.ascontiguousarray(burn[m][flat].reshape(nB, nR)),
            u=np.ascontiguousarray(U[flat].reshape(nB, nR, K_NODES)),
            c=np.ascontiguousarray(C[flat].reshape(nB, nR, K_NODES)),
            h=np.ascontiguousarray(H[flat].reshape(nB, nR, K_NODES)),
            tau=tau, full_circle=bool(sectors[i][1]), solve_s=solve_s, fly_s=fly_s)
    return tables


def _recorded_block(veh, steer, dt: float, model: EarthModel, T_guess: int | None, t_max: float = 6000.0):
    """Recorded flights of a block of family members on a grid of samples every ``dt`` [s]
    from launch that holds each landing flight to its impact plus 3 samples, and their flight
    and burnout times [s] (``inf``: no impact within ``t_max``): ``(Trajectories, tof, burn, T)``,
    ``T`` the next block's guess: ``T_guess`` where it held, else the samples this block
    needed plus :data:`_SAMPLES_HEADROOM`.

    ``steer``: the members' launch points (m, 3) (ECEF [m]), kicks, azimuths [rad], cut-offs
    [s], upper-stage thrust factors and dive times [s] (m,).  Flown first on ``T_guess``
    samples (the site's previous block's: a family's blocks span the same ranges); only
    where a member has not landed there (or in its last samples) are the flight times found
    by an unrecorded run and the block flown again on a grid just long enough.  Recorded and
    unrecorded flights share one integrator and agree to the bit, and samples past a flight's
    impact do not enter its profile, so the guess changes nothing but the cost."""
    pos0, kick, az, cut, upper, dive_t = steer
    n = kick.size

    def recorded(T):
        return fly(veh, pos0, np.zeros(n), kick, az, cut, t0=0.0, dt=dt, T=T, model=model, upper_thrust=upper,
                   dive_time=dive_t, min_batch=_FAMILY_MIN_BATCH)

    def samples(tof):
        return int(np.ceil(np.nanmax(np.where(np.isfinite(tof), tof, 0.0)) / dt)) + 3

    def guess(T):  # the next block's guess: these samples and some headroom
        return T + int(np.ceil(_SAMPLES_HEADROOM * T))

    if T_guess is not None:
        tr = recorded(T_guess)
        tof = tr.impact_time
        if np.all(tof <= t_max):  # every member landed, within t_max
            T = samples(tof)
            if T <= T_guess:
                return tr, tof, tr.burnout_time, T_guess
            return recorded(T), tof, tr.burnout_time, guess(T)
    _, _, _, ev = run(veh, pos0, np.zeros((n, 3)), np.zeros(n), kick, az, cut, grid_t0=0.0, dt=dt,
                      T=int(t_max / dt) + 2, model=model, record=False, t_max=t_max, upper_thrust=upper,
                      dive_time=dive_t, min_batch=_FAMILY_MIN_BATCH)
    T = samples(ev[:, 4])
    return recorded(T), ev[:, 4], ev[:, 0], guess(T)


# --------------------------------------------------------------------------- path sampling
@nb.njit(cache=True)
def _col_lookup(rng, R):
    """Row index i and fraction f with rng[i] <= R <= rng[i+1]; (-1, 0) outside."""
    n = rng.size
    if R < rng[0] or R > rng[n - 1]:
        return -1, 0.0
    lo, hi = 0, n - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if rng[mid] <= R:
            lo = mid
        else:
            hi = mid
    f = (R - rng[lo]) / (rng[hi] - rng[lo]) if rng[hi] > rng[lo] else 0.0
    return lo, f


@nb.njit(cache=True)
def _wrap(a):
    return (a + np.pi) % (2 * np.pi) - np.pi


@nb.njit(cache=True)
def _locate(table_rng, table_brg, full_circle, R, B):
    """Bilinear weights of the path at range R, bearing B: (j0, i0, f0, j1, i1, f1, w) or j0 = -1."""
    nB = table_rng.shape[0]
    ncol = nB if full_circle else nB - 1
    for jj in range(ncol):
        j0 = jj
        j1 = (jj + 1) % nB
        i0, f0 = _col_lookup(table_rng[j0], R)
        i1, f1 = _col_lookup(table_rng[j1], R)
        if i0 < 0 or i1 < 0:
            continue
        b0 = table_brg[j0, i0] * (1 - f0) + table_brg[j0, i0 + 1] * f0
        b1 = table_brg[j1, i1] * (1 - f1) + table_brg[j1, i1 + 1] * f1
        d0 = _wrap(b0 - B)
        d1 = _wrap(b1 - B)
        span = _wrap(b1 - b0)
        if span <= 0:
            continue
        if d0 <= 0.0 and d1 >= 0.0:
            w = -d0 / span
            return j0, i0, f0, j1, i1, f1, w
    return -1, 0, 0.0, 0, 0, 0.0, 0.0


@nb.njit(cache=True, inline="always")
def _blend(A, j0, i0, j1, i1, w00, w01, w10, w11, k, a):
    """A stored profile quantity ``A`` (nB, nR, K) at the bilinear weights of a path (azimuth
    columns j0, j1, range rows i0, i1) and a fraction ``a`` of the way from node k to k + 1."""
    at_k = w00 * A[j0, i0, k] + w01 * A[j0, i0 + 1, k] + w10 * A[j1, i1, k] + w11 * A[j1, i1 + 1, k]
    k1 = k + 1
    at_k1 = w00 * A[j0, i0, k1] + w01 * A[j0, i0 + 1, k1] + w10 * A[j1, i1, k1] + w11 * A[j1, i1 + 1, k1]
    return (1.0 - a) * at_k + a * at_k1


@nb.njit(parallel=True, cache=True)
def _paths(plat, plon, eL, nL, aL, tab_rng, tab_brg, tab_tof, tab_burn, U, C, H, tau, full_circle, dt, pos, vel,
           geo, n_valid, tof_out, burn_out):
    """Sample the interpolated path to each point (``plat``, ``plon`` [rad]) every ``dt`` [s]
    from launch: ECEF positions ``pos`` (M, J, 3) [m] on WGS84 and velocities ``vel`` [m/s]
    (central differences), ``geo`` (M, J, 3) the same points' geodetic latitude, longitude
    [rad] and height [m]; ``n_valid`` (M,) samples before impact (0 where the point is out of
    the family's reach), ``tof_out`` (M,) the flight time and ``burn_out`` (M,) the burnout
    time after launch [s], both interpolated as the paths are."""
    M = plat.size
    K = tau.size
    J = pos.shape[1]
    e2 = 1.0 - (WGS84_B / WGS84_A) ** 2
    for q in nb.prange(M):
        la, lo = plat[q], plon[q]
        # range and bearing from the launch point (mean sphere)
        sl, cl = np.sin(la), np.cos(la)
        p = np.array([cl * np.cos(lo), cl * np.sin(lo), sl])
        cosd = p[0] * eL[0] + p[1] * eL[1] + p[2] * eL[2]
        y = p[0] * aL[0] + p[1] * aL[1] + p[2] * aL[2]  # east component at the launch point
        x = p[0] * nL[0] + p[1] * nL[1] + p[2] * nL[2]  # north component
        R = R0 * np.arctan2(np.sqrt(x * x + y * y), cosd)
        B = np.arctan2(y, x)
        j0, i0, f0, j1, i1, f1, w = _locate(tab_rng, tab_brg, full_circle, R, B)
        n_valid[q] = 0
        if j0 < 0:
            continue
        tof = ((tab_tof[j0, i0] * (1 - f0) + tab_tof[j0, i0 + 1] * f0) * (1 - w)
               + (tab_tof[j1, i1] * (1 - f1) + tab_tof[j1, i1 + 1] * f1) * w)
        tof_out[q] = tof
        burn_out[q] = ((tab_burn[j0, i0] * (1 - f0) + tab_burn[j0, i0 + 1] * f0) * (1 - w)
                       + (tab_burn[j1, i1] * (1 - f1) + tab_burn[j1, i1 + 1] * f1) * w)
        eB = np.cos(B) * nL + np.sin(B) * aL
        nrm = np.array([eL[1] * eB[2] - eL[2] * eB[1], eL[2] * eB[0] - eL[0] * eB[2], eL[0] * eB[1] - eL[1] * eB[0]])
        w00, w01, w10, w11 = (1 - w) * (1 - f0), (1 - w) * f0, w * (1 - f1), w * f1
        nj = min(J, int(np.floor(tof / dt)) + 1)  # samples at 0, dt, ... up to the impact
        k = 0
        for j in range(nj):
            # the normalised time of sample j, between nodes k and k + 1
            s_ = j * dt / tof
            while k < K - 2 and tau[k + 1] < s_:
                k += 1
            a = min(max((s_ - tau[k]) / (tau[k + 1] - tau[k]), 0.0), 1.0)
            u = _blend(U, j0, i0, j1, i1, w00, w01, w10, w11, k, a)
            c = _blend(C, j0, i0, j1, i1, w00, w01, w10, w11, k, a)
            h = _blend(H, j0, i0, j1, i1, w00, w01, w10, w11, k, a)
            sg = u * R / R0
            cs, sn = np.cos(sg), np.sin(sg)
            cc, sc = np.cos(c / R0), np.sin(c / R0)
            dx = cc * (cs * eL[0] + sn * eB[0]) + sc * nrm[0]
            dy = cc * (cs * eL[1] + sn * eB[1]) + sc * nrm[1]
            dz = cc * (cs * eL[2] + sn * eB[2]) + sc * nrm[2]
            # the direction's latitude and longitude are the geodetic ones (as stored), h the
            # geodetic height: to WGS84 ECEF
            lat = np.arcsin(min(max(dz, -1.0), 1.0))
            lon = np.arctan2(dy, dx)
            slat, clat = np.sin(lat), np.cos(lat)
            nu = WGS84_A / np.sqrt(1.0 - e2 * slat * slat)
            pos[q, j, 0] = (nu + h) * clat * np.cos(lon)
            pos[q, j, 1] = (nu + h) * clat * np.sin(lon)
            pos[q, j, 2] = (nu * (1.0 - e2) + h) * slat
            geo[q, j, 0], geo[q, j, 1], geo[q, j, 2] = lat, lon, h
        n_valid[q] = nj
        for j in range(nj):
            lo_, hi_ = max(j - 1, 0), min(j + 1, nj - 1)
            span = (hi_ - lo_) * dt
            for m in range(3):
                vel[q, j, m] = (pos[q, hi_, m] - pos[q, lo_, m]) / span if span > 0 else 0.0


# --------------------------------------------------------------------------- results
@dataclass
class SiteFootprint:
    """Footprint against one launch site on the grid (arrays (n_lat, n_lon))."""

    site: LaunchSite
    threatened: np.ndarray  # bool: a threat of this site can be aimed here
    defended: np.ndarray  # bool
    n_batteries: np.ndarray  # int8: batteries that can engage
    p_intercept: np.ndarray  # float: nan where not threatened
    first_intercept_s: np.ndarray  # float: inf where not defended, nan where not threatened
    first_intercept_alt_km: np.ndarray
    cue_s: np.ndarray  # first cue after launch (inf: never cued)
    by_battery: np.ndarray  # (n_bat, n_lat, n_lon) bool
    # index into Footprint.systems of the system expected to confirm the first track (-1:
    # none, or a fixed cue)
    cue_system: np.ndarray | None = None
    # index into Footprint.sensors of that system's radar that alone is expected to confirm the
    # track first (-1: none alone, or a fixed cue)
    cue_radar: np.ndarray | None = None


@dataclass
class Footprint:
    scenario: str
    grid: Grid
    sites: list[SiteFootprint]
    batteries: list[dict]
    doctrine: dict
    cue: str
    model: dict
    sensors: list[dict] = field(default_factory=list)
    timing_s: dict = field(default_factory=dict)
    assets: list[dict] = field(default_factory=list)  # defended assets: name, lat_deg, lon_deg, radius_km
    systems: list[str] = field(default_factory=list)  # the C2 nodes, as SiteFootprint.cue_system counts them
    architecture: str = "integrated"  # how the C2 nodes cooperate (the scenario's)
    # the early-warning satellites whose launch reports cue and alert (cue "sensors"): name, the
    # node they belong to ("every" under integrated), the nodes its links pass them on to, the
    # launch sites whose threats it is expected to report (reports_sites; none: it sees none)
    early_warning: list[dict] = field(default_factory=list)
    # the grid was given (--region, --bbox), not grown round the ground defended: what lies past
    # it is not known to be undefended
    grid_given: bool = False

    def first_track(self, site: int) -> dict | None:
        """Who gives the first fire-control-quality track against one site (index), over the
        cells its threats reach: the system (and its radars) expected to confirm it first in
        the most cells, the share of cells where that system is first, the system's radar that
        alone would confirm first in the most of those cells (``first_radar``; None where none
        would alone: their detections together confirm it) and the share of the system's cells
        where it does (``first_radar_share``), and the cue's median
        and 10–90 % range [s after launch] over every cell with a cue; ``None`` under a
        fixed cue or where no system is expected to confirm a track."""
        s = self.sites[site]
        if s.cue_system is None:
            return None
        cued = s.threatened & np.isfinite(s.cue_s) & (s.cue_system >= 0)
        if not cued.any():
            return None
        counts = np.bincount(s.cue_system[cued], minlength=len(self.systems))
        first = int(np.argmax(counts))
        t = s.cue_s[cued]
        name = self.systems[first]
        # its radar that alone is expected to confirm first, in the most of the system's cells
        lead, lead_share = None, 0.0
        if s.cue_radar is not None:
            mine = cued & (s.cue_system == first)
            solo = s.cue_radar[mine]
            if (solo >= 0).any():
                by_radar = np.bincount(solo[solo >= 0], minlength=len(self.sensors))
                k = int(np.argmax(by_radar))
                lead, lead_share = self.sensors[k]["name"], round(float(by_radar[k] / mine.sum()), 3)
        return {"system": name, "radars": [r["name"] for r in self.sensors if r["system"] == name],
                "first_radar": lead, "first_radar_share": lead_share,
                "share_of_cells": round(float(counts[first] / cued.sum()), 3),
                "cued_share_of_threatened": round(float(cued.sum() / max(int(s.threatened.sum()), 1)), 3),
                "median_s": round(float(np.median(t)), 1),
                "p10_s": round(float(np.percentile(t, 10)), 1), "p90_s": round(float(np.percentile(t, 90)), 1)}

    def cut_at_box_edge(self) -> bool:
        """Whether ground defended against some site lies on the grid's edge
        (:meth:`Grid.at_edge`): the areas are then of the box alone."""
        return any(self.grid.at_edge(s.defended) for s in self.sites)

    def defended_area_km2(self, site: int | None = None) -> float:
        """Defended area [km^2] against one site (index) or against all of them at once."""
        cell = self.grid.cell_area_km2()
        if site is not None:
            return float(cell[self.sites[site].defended].sum())
        return float(cell[self.defended_all()].sum())

    def defended_all(self) -> np.ndarray:
        """Defended against every site that threatens the point (and threatened by one)."""
        thr = np.zeros(self.grid.shape, bool)
        ok = np.ones(self.grid.shape, bool)
        for s in self.sites:
            thr |= s.threatened
            ok &= s.defended | ~s.threatened
        return thr & ok


def _picture_of(world, system: str) -> str:
    """The picture a system's radars feed and its batteries read: its own, or under the
    integrated architecture over several nodes the one picture of every sensor
    (:func:`shieldlab.c2.network.one_picture`), as fire control reads them."""
    from shieldlab.c2.network import INTEGRATED, one_picture

    return INTEGRATED if one_picture(world) else system


@dataclass(frozen=True)
class _SystemCue:
    """What cues one system's picture: ``radars``, the arrays
    :func:`shieldlab.sensors.visibility.expected_confirmation_time` reads after the paths and
    ``init_hits`` (:func:`shieldlab.sensors.radar.confirmation_radars`, one row per radar);
    ``sources``, the early-warning satellites whose launch reports reach the system, each with
    the link that brings it or None (:func:`shieldlab.c2.network.warning_sources`: its own,
    all of them under the integrated architecture, and coordinated or sectoral those of the
    nodes linked to it); ``sensors``, the radars' indices in ``world.sensors``."""

    radars: tuple
    sources: list
    sensors: np.ndarray


@dataclass(frozen=True)
class _PathCues:
    """What :func:`_chunk` finds for M sampled paths: ``cue`` (M,) the first system's expected
    track [s after launch], ``can`` (M, B) which batteries can engage, ``p_int`` (M,),
    ``t_first``, ``h_first`` (M,) the first intercept's time [s] and height [m],
    ``first_system`` (M,) the index of the system expected to confirm first (-1: none, or a
    fixed cue), ``first_radar`` (M,) the index in ``world.sensors`` of that system's radar that
    alone is expected to confirm first (-1: none alone, or a fixed cue)."""

    cue: np.ndarray
    can: np.ndarray
    p_int: np.ndarray
    t_first: np.ndarray
    h_first: np.ndarray
    first_system: np.ndarray
    first_radar: np.ndarray


def _cues(world, systems) -> dict[int, _SystemCue]:
    """Per system (its index in ``systems``) that has radars: what cues its picture
    (:class:`_SystemCue`)."""
    out = {}
    for i, name in enumerate(systems):
        mine = [k for k, ps in enumerate(world.sensors) if _picture_of(world, ps.system) == name]
        if mine:
            out[i] = _SystemCue(confirmation_radars([world.sensors[k].radar for k in mine]),
                                warning_sources(world, name), np.array(mine, np.int64))
    return out


def _own_cues(world, systems) -> dict[int, tuple]:
    """Per battery (its index) that plans or guides on its own radar's track (``cue`` own or
    launch-on-remote): that radar's arrays (:func:`confirmation_radars`) and the index in
    ``systems`` of the radar's system, whose satellites' launch reports cue it (as the
    engine cues each radar's own track: :func:`shieldlab.engine.chain.cue_time`)."""
    out = {}
    for b, bat in enumerate(world.batteries):
        if bat.cue == "engage-on-remote" or bat.radar is None:
            continue
        ps = next((ps for ps in world.sensors if ps.radar.name == bat.radar), None)
        if ps is not None:
            out[b] = (confirmation_radars([ps.radar]), systems.index(_picture_of(world, ps.system)))
    return out


def _sectors(world) -> list:
    """Per battery, its node's sector where the architecture is ``sectoral`` (a shapely polygon,
    x = longitude, y = latitude [rad]), else None: as fire control, such a battery engages only
    threats whose predicted path crosses it (:func:`shieldlab.engine.fight.fire_controls`)."""
    out: list = [None] * len(world.batteries)
    if getattr(world, "architecture", "integrated") != "sectoral":
        return out
    for nd in world.nodes:
        for i in nd.batteries:
            out[i] = nd.sector
    return out


def _shared(world, systems) -> list[tuple[int, int, Link]]:
    """The links that bring a node the tracks of another, as (source, target, link) with the
    ends' indices in ``systems``: every link under a sharing architecture
    (:func:`shieldlab.c2.network.shares_tracks`) whose ``tracks`` is true, none under the
    others.  One hop: a node
    sends its own tracks, as :func:`shieldlab.c2.network.node_pictures` fuses them."""
    from shieldlab.c2.network import shares_tracks

    if not shares_tracks(world):
        return []
    return [(systems.index(lk.source), systems.index(lk.target), lk) for lk in world.links
            if lk.tracks and lk.source in systems and lk.target in systems]


def _chunk(pos, vel, geo, n_valid, burn, sig, cues, init_hits, n_sys, cue_fixed, bats, fans, bat_sys,
           doc: Doctrine, own_cues: dict | None = None, sectors: list | None = None,
           shared: list | None = None, reporting: set | None = None):
    """Cue, per-battery reach and the engagement sequence for M sampled paths.

    ``pos``, ``vel`` (M, J, 3) ECEF paths sampled every :data:`~shieldlab.c2.firecontrol.PREDICT_DT`
    from launch (``n_valid`` real samples each), as fire control samples its predictions,
    ``burn`` (M,) their burnout times after launch [s], ``sig`` (3,) the missile's RCS
    nose-on, broadside and in boost [m²]; ``cues`` per system its radars (:func:`_cues`),
    ``init_hits`` the detections that confirm a track; ``sectors`` per battery its node's sector
    or None (:func:`_sectors`): a battery with one is readied only for paths that cross it
    after its track's cue (fire control's prediction is the path still to fly); ``own_cues``
    per battery that reads its own
    radar's track (:func:`_own_cues`); ``shared`` the links that bring a node another's tracks
    (:func:`_shared`): a node's picture holds a track from the first of its own radars'
    confirmation and each linked node's, that link's first send time after it plus its
    latency (none lost); ``reporting``, where given, gains the name of each satellite expected
    to report a launch of some path.  As fire control, a battery whose ``cue`` is ``own`` is
    readied by that track alone, and one that launches on remote needs it to hold the threat
    by its handover before the intercept (:func:`shieldlab.engage.assess.handover_errors`),
    so its intercepts come no earlier than that track's cue plus its handover time.  Returns
    a :class:`_PathCues`.
    """
    M, J = pos.shape[:2]
    dt = PREDICT_DT
    t = dt * np.arange(J)
    allowed = np.arange(J)[None, :] < n_valid[:, None]
    # the cue: each system's expected confirmation of a track (its radars' expected
    # detections summed); a battery is cued by its own system
    cue = np.full((M, n_sys), np.inf)
    radar_cue = np.full((M, n_sys), np.inf)  # the first expected launch report reaching the system
    alone: dict[int, np.ndarray] = {}  # per system: the radar that alone confirms first (-1: none)
    if cue_fixed is not None:
        cue[:] = cue_fixed
    else:
        # the tracker confirms a system's track at its init_hits-th detection from any of the
        # system's radars: their expected detections, summed
        reported: dict[str, np.ndarray] = {}  # each satellite's expected launch report of each path

        def report(sat) -> np.ndarray:
            if sat.name not in reported:
                reported[sat.name] = np.array([expected_report_time(sat, pos[m, :max(int(n_valid[m]), 1)], burn[m], dt)
                                               if n_valid[m] > 0 else np.inf for m in range(M)])
                if reporting is not None and np.isfinite(reported[sat.name]).any():
                    reporting.add(sat.name)
            return reported[sat.name]

        for sys_, sc in cues.items():
            # the first expected launch report that reaches the system: its own satellites', or a
            # linked node's at that link's next send time plus its latency (none lost)
            # (a contiguous copy: the compiled kernel below is compiled for contiguous arrays)
            cued = np.broadcast_to(earliest_warning(sc.sources, {sat.name: report(sat) for sat, _ in sc.sources}),
                                   (M,)).astype(float)
            # the paths on all of Numba's threads (the serial function's answers to the bit), and
            # which of its radars leads the track: the one that alone would confirm it first
            # (as `reach --sensors` names it)
            args = (pos, vel, n_valid, dt, burn, sig, cued, float(init_hits), *sc.radars, True)
            cue[:, sys_], lead = visibility.expected_confirmation_times(*args)
            radar_cue[:, sys_] = cued
            alone[sys_] = np.where(lead >= 0, sc.sensors[np.maximum(lead, 0)], -1)
    B = len(bats)
    # a battery's own radar's track, where it reads one: that radar's expected confirmation
    # (cued by the launch reports that cue the radar's system)
    own_cue = np.full((M, B), np.inf)
    for b, (radar, rsys) in (own_cues or {}).items():
        args = (pos, vel, n_valid, dt, burn, sig, radar_cue[:, rsys], float(init_hits), *radar, False)
        own_cue[:, b] = cue_fixed if cue_fixed is not None else visibility.expected_confirmation_times(*args)[0]
    # the report alerts the system's batteries too, unless doctrine.launch_report_alert is false
    alert = radar_cue if doc.launch_report_alert else np.full((M, n_sys), np.inf)
    # a node's picture: its own radars' track, or a linked node's when its link brings it
    picture = cue.copy()
    for src, dst, lk in shared or ():
        picture[:, dst] = np.minimum(picture[:, dst], first_try_arrival(cue[:, src], lk))
    # each battery's planning track: its own radar's (cue own), else its system's picture
    planning = [own_cue[:, b] if bats[b].cue == "own" else picture[:, bat_sys[b]] for b in range(B)]
    # as fire control: the reaction time after the planning track, or after an earlier alert
    # (not before the track)
    ready = np.stack([ready_time(planning[b], alert[:, bat_sys[b]], bats[b].reaction_time) for b in range(B)],
                     axis=1) if B else np.zeros((M, 0))
    # sectoral: a node engages only threats whose predicted path (the rest of the path, from the
    # track on) crosses its sector
    for b, sector in enumerate(sectors or ()):
        if sector is None:
            continue
        after = allowed & (t[None, :] >= planning[b][:, None])
        inside = np.zeros(after.shape, bool)
        inside[after] = shapely.contains_xy(sector, geo[..., 1][after], geo[..., 0][after])
        ready[~inside.any(axis=1), b] = np.inf
    # launch on remote: the own radar's track must hold the threat by the handover
    not_before_int = {b: own_cue[:, b] + bats[b].handover for b in range(B)
                      if bats[b].cue == "launch-on-remote" and b in (own_cues or {})}
    times = [None if fans[b] is None else fan_time(fans[b], bats[b].site.lat, bats[b].site.lon) for b in range(B)]
    # time to reach every sample, as FanTime reads it, from the samples' geodetic coordinates
    inside = allowed.ravel()
    flat = geo.reshape(-1, 3)[inside]
    taus: list[np.ndarray | None] = []  # None: a battery without a fan
    for ft in times:
        if ft is None:
            taus.append(None)
            continue
        tau = np.full(M * J, np.inf)
        tau[inside] = fan_times_geodetic_parallel(flat[:, 0].copy(), flat[:, 1].copy(), flat[:, 2].copy(),
                                                  *ft.kernel_args())
        taus.append(tau.reshape(M, J))

    def paths_of(rows):
        """The samples of paths ``rows`` (sorted): ``(pos, vel, allowed, rows)``, taken once for
        every battery's window, and not copied at all where ``rows`` is every path (``rows``
        then None): a copy of a chunk's samples is tens of MB."""
        if rows.size == M:
            return pos, vel, allowed, None
        return pos[rows], vel[rows], allowed[rows], rows

    def window(b, t_ready, paths):
        """Battery b's earliest intercept on ``paths`` (:func:`paths_of`) launching no earlier than
        ``t_ready``: (found, t, altitude, pk) through the engine's solver and Pk."""
        fan, bat = fans[b], bats[b]
        p_, v_, ok_, rows_ = paths
        if b in not_before_int:
            t_min = not_before_int[b] if rows_ is None else not_before_int[b][rows_]
            ok_ = ok_ & (t[None, :] >= t_min[:, None])
        w = intercept_window(t, p_, v_, times[b], t_ready, ok_, latest=False,
                             tau=taus[b] if rows_ is None else taus[b][rows_])
        closing, crossing = intercept_geometry(w["v_first"], interceptor_velocity(fan, bat.site.lat, bat.site.lon,
                                                                                  w["p_first"]))
        pk = kill_probability(bat.spec, closing, crossing)
        return w["found"], w["t_first"], earth.ecef_to_geodetic(w["p_first"])[2], pk

    rows = np.flatnonzero(n_valid > 0)
    on_rows = paths_of(rows)
    first = {b: window(b, ready[rows, b], on_rows) for b in range(B) if fans[b] is not None}
    can = np.zeros((M, B), bool)
    for b, (found, *_rest) in first.items():
        can[rows, b] = found
    p_int = np.where(n_valid > 0, 0.0, np.nan)
    t_first = np.full(M, np.inf)
    h_first = np.full(M, np.nan)
    # engagements in sequence, as fire control makes them for one threat: each to the battery
    # with the earliest intercept (the lower index on a tie), the next decided no earlier than
    # the previous intercept plus that battery's look time and launched a reaction time after
    # the decision; a salvo of the battery's size each
    miss = np.ones(M)
    not_before = np.full(M, -np.inf)
    active: np.ndarray = can.any(axis=1)  # type: ignore[assignment]  # numpy's stubs: over an axis, an array
    for e in range(doc.max_engagements):
        r = np.flatnonzero(active)
        if r.size == 0:
            break
        best_t = np.full(r.size, np.inf)
        best_b = np.full(r.size, -1)
        best_h, best_pk = np.full(r.size, np.nan), np.zeros(r.size)
        on_r = paths_of(r) if e > 0 else None
        for b in first:
            if e == 0:
                found, tb, hb, pkb = (a[np.searchsorted(rows, r)] for a in first[b])
            else:
                # the look decides at the previous intercept plus its look time; the battery then
                # launches its reaction time after that decision, as fire control readies it
                # (sooner only where a launch report alerted it long before)
                again = ready_time(not_before[r], alert[r, bat_sys[b]], bats[b].reaction_time)
                found, tb, hb, pkb = window(b, np.maximum(ready[r, b], again), on_r)
            better = found & (tb < best_t)
            best_t, best_b = np.where(better, tb, best_t), np.where(better, b, best_b)
            best_h, best_pk = np.where(better, hb, best_h), np.where(better, pkb, best_pk)
        hit = best_b >= 0
        r, best_t, best_b, best_h, best_pk = r[hit], best_t[hit], best_b[hit], best_h[hit], best_pk[hit]
        if e == 0:
            t_first[r], h_first[r] = best_t, best_h
        salvo = np.array([bats[b].salvo for b in best_b], float)
        look = np.array([bats[b].look_time for b in best_b], float)
        miss[r] *= (1.0 - best_pk) ** salvo
        not_before[r] = best_t + look
        active[:] = False
        active[r] = True
    p_int = np.where(can.any(axis=1), 1.0 - miss, p_int)
    confirmed = np.isfinite(cue).any(axis=1) if cue_fixed is None else np.zeros(M, bool)
    first_system = np.where(confirmed, np.argmin(cue, axis=1), -1)
    first_radar = np.full(M, -1, np.int64)
    for sys_, lead in alone.items():
        first_radar = np.where(first_system == sys_, lead, first_radar)
    return _PathCues(cue.min(axis=1), can, p_int, t_first, h_first, first_system, first_radar)


_PROFILE_CACHE: dict = {}
_PROFILE_CACHE_MAX = 32


def clear_cache() -> None:
    """Forget the profile families kept between calls of :func:`compute` in this process."""
    _PROFILE_CACHE.clear()


def _cached_profiles(sites, grid: Grid, model: EarthModel, n_ranges: int, bearing_step_deg: float):
    """:func:`build_profiles`, keeping each site's family for later calls on the same grid
    (the EPAA phases share their launch sites: the family is flown once)."""
    gkey = (grid.lat_deg.tobytes(), grid.lon_deg.tobytes(), tuple(model.as_dict().items()), n_ranges,
            bearing_step_deg)
    keys = [(s.missile.model_dump_json(), s.lat, s.lon, s.alt, s.profile, s.apogee, s.flight_time) + gkey
            for s in sites]
    todo = [i for i, k in enumerate(keys) if k not in _PROFILE_CACHE]
    if todo:
        built = build_profiles([sites[i] for i in todo], grid, model=model, n_ranges=n_ranges,
                               bearing_step_deg=bearing_step_deg)
        if len(_PROFILE_CACHE) + len(todo) > _PROFILE_CACHE_MAX:
            _PROFILE_CACHE.clear()
        for i, t in zip(todo, built):
            _PROFILE_CACHE[keys[i]] = t
    out = []
    for s, k in zip(sites, keys):
        t = _PROFILE_CACHE[k]
        # the cached family may belong to an equal site of another scenario: relabel it
        out.append(None if t is None else ProfileTable(**{**t.__dict__, "site": s}))
    return out


#: Most times :func:`compute` grows its automatic box.
GROWTHS = 3


def compute(world, grid: Grid | None = None, site_names=None, cue_delay_s: float | None = None,
            model: EarthModel = FULL, n_ranges: int = 40, bearing_step_deg: float = 10.0,
            burnout_speed_scale: float = 1.0, step_deg: float | None = None) -> Footprint:
    """Defended footprint of ``world``'s batteries against each launch site, on ``grid``.

    ``grid`` None: the automatic box (:func:`auto_grid`, at ``step_deg`` or its own step),
    grown where the defended cells reach its edge: a battery defends the ground a threat
    is aimed at, which may lie well past its reach (a threat engaged on its way over).  Each
    such edge moves out by half the box's span, no further than the missiles' range
    (:func:`range_box`), and the footprint is computed again, at most :data:`GROWTHS`
    times; the step is the grown box's own (:func:`auto_step`) unless ``step_deg`` is given.

    ``cue_delay_s``: fixed time from threat launch to cue [s] instead of the sensor-based
    cue.  ``model``: the flyout physics of the threats (the symmetric test flies a
    non-rotating Earth).  ``burnout_speed_scale`` multiplies every battery's burnout speed
    (0 gives the zero-speed interceptor that defends nothing).
    """
    if cue_delay_s is not None and not (0 <= cue_delay_s <= 3600):
        raise InputError(f"must be in [0, 3600] s, got {cue_delay_s}", field="--cue-delay-s")
    _require_batteries(world)
    sites = launch_sites(world, site_names)
    _require_sites(sites)
    def on(g: Grid) -> Footprint:
        return _compute_on(world, g, sites=sites, cue_delay_s=cue_delay_s, model=model, n_ranges=n_ranges,
                           bearing_step_deg=bearing_step_deg, burnout_speed_scale=burnout_speed_scale)

    if grid is not None:  # the user's box: the ground past it was not computed (the maps say so)
        return replace(on(grid), grid_given=True)
    box = auto_box(world, sites)
    limit = range_box(sites)
    for growth in range(GROWTHS + 1):
        fp = on(box_grid(box, auto_step(box) if step_deg is None else step_deg))
        edges = _defended_edges(fp)
        lat0, lat1, lon0, lon1 = box
        half_lat, half_lon = 0.5 * (lat1 - lat0), 0.5 * (lon1 - lon0)
        # (never inwards: the first box may already reach past the missiles' range)
        grown = (min(lat0, max(lat0 - half_lat, limit[0], -89.0)) if "south" in edges else lat0,
                 max(lat1, min(lat1 + half_lat, limit[1], 89.0)) if "north" in edges else lat1,
                 min(lon0, max(lon0 - half_lon, limit[2], -180.0)) if "west" in edges else lon0,
                 max(lon1, min(lon1 + half_lon, limit[3], 180.0)) if "east" in edges else lon1)
        if growth == GROWTHS or all(abs(g - b) < 1e-9 for g, b in zip(grown, box)):
            break
        box = grown
    return fp


def _defended_edges(fp: Footprint) -> set[str]:
    """The edges of the footprint's grid (``south``, ``north``, ``west``, ``east``) that a cell
    defended against some launch site lies on."""
    out = set()
    for s in fp.sites:
        d = s.defended
        for name, line in (("south", d[0]), ("north", d[-1]), ("west", d[:, 0]), ("east", d[:, -1])):
            if line.any():
                out.add(name)
    return out


def _compute_on(world, grid: Grid, sites: list[LaunchSite], cue_delay_s: float | None, model: EarthModel,
                n_ranges: int, bearing_step_deg: float, burnout_speed_scale: float) -> Footprint:
    """:func:`compute` on one grid, against launch sites ``sites`` (:func:`launch_sites`, not
    empty)."""
    t0 = time.perf_counter()
    systems = sorted({_picture_of(world, b.system) for b in world.batteries}
                     | {_picture_of(world, s.system) for s in world.sensors})
    bats = world.batteries
    nbat = len(bats)
    # the engine's fly-out fans (a zero burnout speed reaches nothing; nor does a battery with
    # no round above its reserve: fire control never fires it)
    fans = [fan_for(b.spec, b.burnout_speed * burnout_speed_scale)
            if b.burnout_speed * burnout_speed_scale > 0 and b.rounds > b.reserve else None for b in bats]
    bat_sys = [systems.index(_picture_of(world, b.system)) for b in bats]
    doc = compile_doctrine(world.scenario.doctrine)
    init_hits = world.scenario.tracking.init_hits
    t_setup = time.perf_counter() - t0
    tables = _cached_profiles(sites, grid, model, n_ranges, bearing_step_deg)
    t_prof = time.perf_counter() - t0 - t_setup
    LA, LO = np.meshgrid(np.radians(grid.lat_deg), np.radians(grid.lon_deg), indexing="ij")
    plat, plon = np.ascontiguousarray(LA.ravel()), np.ascontiguousarray(LO.ravel())
    N = plat.size
    # who cues whom, and the sectors: the same for every launch site
    cues, own_cues, sectors = _cues(world, systems), _own_cues(world, systems), _sectors(world)
    shared = _shared(world, systems)
    out_sites = []
    reports_from: dict[str, list[str]] = {sat.name: [] for sat in world.early_warning}  # satellite -> sites it sees
    for s, tab in zip(sites, tables):
        reporting: set[str] = set()
        threatened = np.zeros(N, bool)
        can = np.zeros((N, nbat), bool)
        p = np.full(N, np.nan)
        tf = np.full(N, np.inf)
        hf = np.full(N, np.nan)
        cue = np.full(N, np.nan)
        first_sys = np.full(N, -1, np.int16)
        first_radar = np.full(N, -1, np.int16)
        if tab is not None:
            sg = Signature.of_missiles([s.missile])
            sig = np.array([sg.nose[0], sg.broadside[0], sg.booster[0]])
            eL = earth.unit_vector(s.lat, s.lon)
            nL, aL = _north_east(s.lat, s.lon)
            J = int(np.floor(float(np.max(tab.tof)) / PREDICT_DT)) + 1
            for lo in range(0, N, CHUNK):
                q = slice(lo, min(lo + CHUNK, N))
                m = q.stop - q.start
                pos, vel, geo = (np.full((m, J, 3), np.nan) for _ in range(3))
                n_valid, tof, burn = np.zeros(m, np.int64), np.full(m, np.nan), np.full(m, np.nan)
                _paths(plat[q], plon[q], eL, nL, aL, tab.range, tab.bearing, tab.tof, tab.burn, tab.u, tab.c, tab.h,
                       tab.tau, tab.full_circle, PREDICT_DT, pos, vel, geo, n_valid, tof, burn)
                threatened[q] = n_valid > 0
                if not threatened[q].any():
                    continue
                # only the paths in reach go on (their samples copied once here, not in each
                # battery's window); the others keep the values set above
                keep = np.flatnonzero(n_valid > 0)
                if keep.size < m:
                    pos, vel, geo, n_valid, burn = pos[keep], vel[keep], geo[keep], n_valid[keep], burn[keep]
                at = lo + keep
                pc = _chunk(pos, vel, geo, n_valid, burn, sig, cues, init_hits, len(systems), cue_delay_s, bats,
                            fans, bat_sys, doc, own_cues, sectors, shared, reporting)
                cue[at], can[at], p[at], tf[at], hf[at] = pc.cue, pc.can, pc.p_int, pc.t_first, pc.h_first
                first_sys[at], first_radar[at] = pc.first_system, pc.first_radar
        for name in sorted(reporting):
            reports_from[name].append(s.name)
        tf = np.where(threatened, tf, np.nan)
        cue = np.where(threatened, cue, np.nan)
        shp = grid.shape
        out_sites.append(SiteFootprint(
            site=s, threatened=threatened.reshape(shp), defended=can.any(axis=1).reshape(shp),
            n_batteries=can.sum(axis=1).astype(np.int8).reshape(shp), p_intercept=p.reshape(shp),
            first_intercept_s=tf.reshape(shp), first_intercept_alt_km=(hf / 1e3).reshape(shp),
            cue_s=cue.reshape(shp), by_battery=can.T.reshape((nbat,) + shp),
            cue_system=None if cue_delay_s is not None else np.where(threatened, first_sys, -1).reshape(shp),
            cue_radar=None if cue_delay_s is not None else np.where(threatened, first_radar, -1).reshape(shp)))
    t_grid = time.perf_counter() - t0 - t_setup - t_prof
    return Footprint(
        scenario=world.scenario.name, grid=grid, sites=out_sites,
        # (places to a micro-degree, ~0.1 m: a degree from radians read 36.20000000000001)
        batteries=[{"name": b.name, "interceptor": b.spec.id, "lat_deg": round(b.site.lat_deg, 6),
                    "lon_deg": round(b.site.lon_deg, 6),
                    "burnout_speed_kms": b.burnout_speed * burnout_speed_scale / 1e3,
                    "reaction_time_s": b.reaction_time, "look_time_s": b.look_time, "salvo": b.salvo,
                    "pk": float(kill_probability(b.spec, np.nan, np.nan)), "system": b.system, "cue": b.cue,
                    "radar": b.radar}
                   for b in bats],
        doctrine={"salvo": doc.salvo, "shoot_look_shoot": world.scenario.doctrine.shoot_look_shoot,
                  "engagements": doc.max_engagements, "look_time_s": world.scenario.doctrine.look_time_s},
        cue=f"fixed {cue_delay_s:g} s" if cue_delay_s is not None else "sensors",
        model=model.as_dict(),
        sensors=[{"name": ps.radar.name, "type": ps.radar.spec.id, "lat_deg": round(float(np.degrees(ps.radar.lat)), 6),
                  "lon_deg": round(float(np.degrees(ps.radar.lon)), 6), "system": _picture_of(world, ps.system)}
                 for ps in world.sensors],
        timing_s={"setup": round(t_setup, 3), "profiles": round(t_prof, 3), "grid": round(t_grid, 3),
                  "total": round(time.perf_counter() - t0, 3)},
        assets=[{"name": a.name, "lat_deg": round(a.site.lat_deg, 6), "lon_deg": round(a.site.lon_deg, 6),
                 "radius_km": a.radius / 1e3} for a in world.assets],
        systems=list(systems), architecture=world.architecture,
        early_warning=[] if cue_delay_s is not None else [
            {"name": sat.name, "system": "every" if world.architecture == "integrated" else sat.system,
             "passed_to": [lk.target for lk in report_links(world) if lk.source == sat.system],
             "reports_sites": reports_from[sat.name]}
            for sat in world.early_warning])


def threat_path(table: ProfileTable, lat, lon):
    """Interpolated paths to points (lat, lon) [rad] (N,): ``(ok (N,), t (N,K), lat, lon, alt)``.

    The NumPy reading of :func:`_paths`' interpolation at the stored nodes (before it
    resamples them every :data:`~shieldlab.c2.firecontrol.PREDICT_DT`), used to check the
    interpolation against direct flyouts.
    """
    s = table.site
    eL = earth.unit_vector(s.lat, s.lon)
    nL, aL = _north_east(s.lat, s.lon)
    lat, lon = np.atleast_1d(np.asarray(lat, float)), np.atleast_1d(np.asarray(lon, float))
    R = earth.great_circle_distance(s.lat, s.lon, lat, lon)
    B = earth.initial_bearing(s.lat, s.lon, lat, lon)
    N, K = lat.size, table.tau.size
    ok = np.zeros(N, bool)
    t = np.full((N, K), np.nan)
    la, lo, h = (np.full((N, K), np.nan) for _ in range(3))
    for q in range(N):
        j0, i0, f0, j1, i1, f1, w = _locate(table.range, table.bearing, table.full_circle, R[q], B[q])
        if j0 < 0:
            continue
        ok[q] = True
        wts = ((j0, i0, (1 - w) * (1 - f0)), (j0, i0 + 1, (1 - w) * f0), (j1, i1, w * (1 - f1)), (j1, i1 + 1, w * f1))
        u = sum(wt * table.u[j, i] for j, i, wt in wts)
        c = sum(wt * table.c[j, i] for j, i, wt in wts)
        h[q] = sum(wt * table.h[j, i] for j, i, wt in wts)
        t[q] = table.tau * sum(wt * table.tof[j, i] for j, i, wt in wts)
        eB = np.cos(B[q]) * nL + np.sin(B[q]) * aL
        nrm = np.cross(eL, eB)
        sg = (u * R[q] / R0)[:, None]
        d = np.cos(c / R0)[:, None] * (np.cos(sg) * eL + np.sin(sg) * eB) + np.sin(c / R0)[:, None] * nrm
        la[q] = np.arcsin(np.clip(d[:, 2], -1, 1))
        lo[q] = np.arctan2(d[:, 1], d[:, 0])
    return ok, t, la, lo, h


def defended_population(fp: Footprint, site: int | None = None, min_population: int = 0) -> PopulationInside:
    """The people in the gazetteer's places inside the defended area: against one site
    (index) or against every site that reaches the place (:meth:`Footprint.defended_all`),
    as a :class:`shieldlab.analysis.places.PopulationInside`.

    The sum of the GeoNames populations (places of more than 15,000 people, and capitals) of
    the places whose point lies in a defended cell: people outside such places are not
    counted and the figures mix city and metropolitan definitions (method and limits:
    :mod:`shieldlab.analysis.places`)."""
    from shieldlab.analysis import places

    mask = fp.defended_all() if site is None else fp.sites[site].defended
    return places.population_in_grid(fp.grid, mask, min_population)


def to_json(fp: Footprint, include_grid: bool = True) -> dict:
    """JSON-ready dict: axes, per-site summaries and (optionally) per-site arrays.

    ``defended_all_population`` and each site's ``defended_population``: the people in the
    gazetteer's places inside the defended area (:func:`defended_population`; ``population``,
    ``places``, ``largest`` places with their populations); ``population_method`` says how
    they are counted."""
    from shieldlab.analysis import places

    def arr(a, nd=3):
        a = np.asarray(a, float)
        return [[None if not np.isfinite(v) else round(float(v), nd) for v in row] for row in a]

    cell = fp.grid.cell_area_km2()
    gaz = places.gazetteer()
    out: dict[str, Any]  # values of mixed types; "sites" filled below
    out = {"scenario": fp.scenario, "lat_deg": [round(float(x), 6) for x in fp.grid.lat_deg],
           "lon_deg": [round(float(x), 6) for x in fp.grid.lon_deg], "step_deg": round(float(fp.grid.step_deg), 9),
           "batteries": fp.batteries, "assets": fp.assets, "doctrine": fp.doctrine, "cue": fp.cue,
           "architecture": fp.architecture, "early_warning": fp.early_warning,
           "earth_model": fp.model,
           "defended_all_km2": round(fp.defended_area_km2(), 0),
           # defended ground on the box's edge: the areas above are of the box alone
           "cut_at_box_edge": fp.cut_at_box_edge(),
           "defended_all_population": defended_population(fp).as_dict(),
           "population_method": places.METHOD, "population_source": f"{gaz.source}; {gaz.licence}",
           "timing_s": fp.timing_s, "sites": []}
    for k, s in enumerate(fp.sites):
        d = {"name": s.site.name, "missile": s.site.missile.id, "profile": s.site.profile,
             "lat_deg": round(float(s.site.lat_deg), 6), "lon_deg": round(float(s.site.lon_deg), 6),
             "threats": list(s.site.threats),
             "threatened_km2": round(float(cell[s.threatened].sum()), 0),
             "defended_km2": round(float(cell[s.defended].sum()), 0),
             "defended_population": defended_population(fp, k).as_dict(),
             "defended_by_battery_km2": {b["name"]: round(float(cell[s.by_battery[i]].sum()), 0)
                                         for i, b in enumerate(fp.batteries)},
             "first_track": fp.first_track(k)}
        if include_grid:
            d.update(threatened=s.threatened.astype(int).tolist(), defended=s.defended.astype(int).tolist(),
                     n_batteries=s.n_batteries.astype(int).tolist(), p_intercept=arr(s.p_intercept),
                     first_intercept_s=arr(s.first_intercept_s, 1),
                     first_intercept_alt_km=arr(s.first_intercept_alt_km, 1))
        out["sites"].append(d)
    return out


# --------------------------------------------------------------------------- aircraft
#: 4/3-Earth radius factor for the radar horizon in a standard atmosphere, the engine's
#: (:data:`shieldlab.sensors.visibility.STANDARD_K`; d = sqrt(2 k R h): Skolnik,
#: Introduction to Radar Systems, 3rd ed., 2001, ch. 8).
K_REFRACTION = visibility.STANDARD_K


def radar_horizon_m(antenna_height_m, target_height_m, k: float = K_REFRACTION):
    """Radar horizon distance [m] between an antenna and a target over a smooth Earth of
    ``k`` times its radius (4/3 by default)."""
    kR = k * R0
    return np.sqrt(2 * kR * np.maximum(antenna_height_m, 0.0)) + np.sqrt(2 * kR * np.maximum(target_height_m, 0.0))


@dataclass
class AircraftReach:
    scenario: str
    grid: Grid
    alt_km: float
    n_batteries: np.ndarray  # (n_lat, n_lon) int: batteries that can engage an aircraft there
    batteries: list[dict]
    focus: str | None
    focus_area_km2: float
    home: str | None
    #: batteries left out: their interceptor has no range against aircraft in the catalogue
    #: (``aircraft_max_range_km``: it engages ballistic missiles only), (name, interceptor)
    left_out: list[tuple[str, str]] = field(default_factory=list)


def _local_xy(lon, lat, lon0, lat0):
    """Local equirectangular projection about (lon0, lat0) [deg] -> km (good to ~1 % within 300 km)."""
    k = np.pi / 180 * R0 / 1e3
    return (np.asarray(lon) - lon0) * k * np.cos(np.radians(lat0)), (np.asarray(lat) - lat0) * k


def elevation_floor_angle(el_floor: float, rk: float, rs: float, rt: float) -> float:
    """Earth-central angle [rad] out to which a beam looking no lower than ``el_floor`` [rad]
    from ``rs`` [m] reaches a target at ``rt`` [m] from the centre of an effective Earth of
    radius ``rk`` [m]: inf where the floor lies below the grazing line (the horizon limits),
    0 where the line never meets the target's height.  The line at the floor's elevation
    meets it at slant ``d``: ``(rs + d sin e)^2 + (d cos e)^2 = rt^2``; the angle is
    ``atan2(d cos e, rs + d sin e)``.  The coverage map's and the aircraft reach's floor."""
    if el_floor <= -math.acos(min(rk / rs, 1.0)):
        return math.inf
    disc = (rs * math.sin(el_floor)) ** 2 - rs * rs + rt * rt
    if disc < 0.0:
        return 0.0
    d = -rs * math.sin(el_floor) + math.sqrt(disc)
    return 0.0 if d <= 0.0 else math.atan2(d * math.cos(el_floor), rs + d * math.sin(el_floor))


def elevation_floor_reach_m(el_floor: float, antenna_m: float, target_m: float, k: float,
                            radius_m: float = earth.R_EARTH_MEAN) -> float:
    """Ground distance [m] out to which a radar whose beam looks no lower than ``el_floor``
    [rad] sees a target ``target_m`` above its site (antenna ``antenna_m`` up), over a smooth
    Earth of effective radius ``k * radius_m`` (the refraction's): :func:`elevation_floor_angle`
    times that radius (inf where the horizon, :func:`radar_horizon_m`, limits instead)."""
    rk = k * radius_m
    return rk * elevation_floor_angle(el_floor, rk, rk + max(antenna_m, 0.0), rk + max(target_m, 0.0))


def aircraft_reach(world, alt_km: float = 10.0, grid: Grid | None = None, focus: str | None = "Syria",
                   antenna_m: float = 5.0, rcs_m2: float = 3.0, clip_to_grid: bool = False) -> AircraftReach:
    """Where each battery can engage an aircraft flying at ``alt_km``, and how far past the
    border into ``focus`` (a Natural Earth country name) that reaches.

    A battery reaches a point when the aircraft above it is (a) within the interceptor's
    ``aircraft_max_range_km`` (slant range), (b) above its radar's horizon over a smooth
    smooth Earth through the scenario's atmosphere (the standard one's effective factor for
    these heights by default; antenna ``antenna_m`` above the site) and above the radar's elevation
    floor (:func:`elevation_floor_reach_m`), (c) within the radar's detection range
    for an aircraft of ``rcs_m2`` (Pd = 0.5, radar equation) and (d) inside the radar's
    azimuth field of view.  The radar is the sensor of the battery's system on the same
    site (within 5 km); without one only (a) and (b) apply, from the battery's site.
    Terrain masking is ignored.  ``clip_to_grid``: the areas and depths are of the part of
    ``focus`` inside the grid's box alone (a --bbox or --region asked for), as the ballistic
    footprint's are.
    """
    from shapely.geometry import Point as SPoint
    from shapely.geometry import Polygon
    from shapely.ops import unary_union

    from shieldlab.analysis import maps

    if not 0 < alt_km <= 30:
        raise InputError(f"must be in (0, 30] km, got {alt_km}", field="--alt-km")
    if focus is not None:
        maps.require_country(focus, "--country")
    h_t = 1e3 * alt_km
    rows = []
    left_out = []
    for b in world.batteries:
        rng_km = getattr(b.spec, "aircraft_max_range_km", None)
        if rng_km is None:
            left_out.append((b.name, b.spec.id))
            continue
        radar = None
        for ps in world.sensors:
            if ps.system == b.system:
                d = earth.great_circle_distance(b.site.lat, b.site.lon, ps.radar.lat, ps.radar.lon)
                if d < 5e3 and (radar is None or d < radar[0]):
                    radar = (float(d), ps.radar)
        # the scenario's atmosphere (the standard one's factor for these heights by default)
        k_radar = None if radar is None else radar[1].refraction_k
        k = atmosphere.effective_k(antenna_m, max(h_t - b.site.alt, 0.0)) if k_radar is None else k_radar
        horizon = float(radar_horizon_m(antenna_m, h_t - b.site.alt, k))
        slant = 1e3 * float(rng_km)
        lim = {"interceptor_km": float(rng_km), "horizon_km": horizon / 1e3}
        if radar is not None:
            # the radar looks no lower than its elevation floor (coverage's test too): a low flier
            # is lost where the line at that elevation passes over it, short of the horizon
            floor = elevation_floor_reach_m(radar[1].el_floor, antenna_m, h_t - b.site.alt, k)
            if floor < horizon:
                lim["elevation_floor_km"] = floor / 1e3
                horizon = floor
            det = 1e3 * float(radar[1].spec.detection_range_km(rcs_m2))
            lim["detection_km"] = det / 1e3
            slant = min(slant, det)
            half = 0.5 * np.radians(radar[1].spec.az_fov_deg)
            bore = radar[1].boresight_az
        else:
            half, bore = np.pi, 0.0
        ground = min(np.sqrt(max(slant**2 - (h_t - b.site.alt) ** 2, 0.0)), horizon)
        az = np.radians(np.linspace(0, 360, 361)) if half >= np.pi else bore + np.linspace(-half, half, 181)
        la, lo = earth.destination(b.site.lat, b.site.lon, az, ground)
        ring = np.column_stack([np.degrees(lo), np.degrees(la)])
        if half < np.pi:
            ring = np.vstack([[b.site.lon_deg, b.site.lat_deg], ring, [b.site.lon_deg, b.site.lat_deg]])
        rows.append({"name": b.name, "interceptor": b.spec.id, "lat_deg": b.site.lat_deg, "lon_deg": b.site.lon_deg,
                     "reach_km": ground / 1e3, "limits": lim, "radar": radar[1].name if radar else None,
                     "az_fov_deg": float(np.degrees(2 * half)), "boresight_az_deg": float(np.degrees(bore)),
                     "circle_lonlat": ring, "_ground": ground, "_half": half, "_bore": bore})
    if not rows:
        kinds = ", ".join(sorted({b.spec.id for b in world.batteries}))
        raise InputError(f"no battery of this scenario has an interceptor with aircraft_max_range_km (its "
                         f"interceptors: {kinds or 'none'}; --aircraft maps a reach against aircraft, as "
                         "Patriot's)", field="batteries")
    if grid is None:
        pad = max(r["reach_km"] for r in rows) / 111.0 + 0.6
        lat_min = min(r["lat_deg"] for r in rows) - pad
        lat_max = max(r["lat_deg"] for r in rows) + pad
        lat_mid = 0.5 * (lat_min + lat_max)
        lon_pad = pad / max(np.cos(np.radians(lat_mid)), 0.2)
        grid = make_grid(np.floor(lat_min * 20) / 20, lat_max,
                         np.floor((min(r["lon_deg"] for r in rows) - lon_pad) * 20) / 20,
                         max(r["lon_deg"] for r in rows) + lon_pad, 0.05)
    LA, LO = np.meshgrid(np.radians(grid.lat_deg), np.radians(grid.lon_deg), indexing="ij")
    n = np.zeros(grid.shape, np.int16)
    for r in rows:
        la, lo = np.radians(r["lat_deg"]), np.radians(r["lon_deg"])
        d = earth.great_circle_distance(la, lo, LA, LO)
        ok = d <= r["_ground"]
        if r["_half"] < np.pi:
            a = earth.initial_bearing(la, lo, LA, LO)
            ok &= np.abs(np.angle(np.exp(1j * (a - r["_bore"])))) <= r["_half"]
        n += ok
    home = None
    focus_area = 0.0
    if focus is not None:
        target = maps.country_shape(focus)
        inside = [r["name"] for r in rows if target.contains(SPoint(r["lon_deg"], r["lat_deg"]))]
        if clip_to_grid:  # (half a step past the outer nodes: the cells' edges)
            import shapely

            h = 0.5 * grid.step_deg
            target = target.intersection(shapely.box(float(grid.lon_deg[0]) - h, float(grid.lat_deg[0]) - h,
                                                     float(grid.lon_deg[-1]) + h, float(grid.lat_deg[-1]) + h))
        if inside:  # its reach inside its own country would count as "past the border"
            raise InputError(f"{', '.join(inside)} stand{'s' if len(inside) == 1 else ''} in {focus}: name the "
                             "country across the border whose airspace the batteries' reach extends into",
                             field="--country")
        for c in maps.country_names():
            if c == focus:
                continue
            shp = maps.country_shape(c)
            if all(shp.contains(SPoint(r["lon_deg"], r["lat_deg"])) for r in rows):
                home = c
                break
        lon0 = float(np.mean([r["lon_deg"] for r in rows]))
        lat0 = float(np.mean([r["lat_deg"] for r in rows]))

        def proj(geom):
            import shapely

            return shapely.transform(geom, lambda xy: np.column_stack(_local_xy(xy[:, 0], xy[:, 1], lon0, lat0)))

        target_xy = proj(target)
        home_xy = proj(maps.country_shape(home)) if home else None
        covers = []
        for r in rows:
            reach = Polygon(r["circle_lonlat"]).buffer(0)
            inside = proj(reach).intersection(target_xy)
            covers.append(inside)
            r["area_in_focus_km2"] = float(inside.area)
            r["depth_km"], r["deepest_lonlat"] = None, None
            if inside.is_empty:
                continue
            pts = []
            for gpart in getattr(inside, "geoms", [inside]):
                if hasattr(gpart, "exterior"):
                    pts += list(gpart.exterior.coords)
            if home_xy is not None and pts:
                dist = [home_xy.distance(SPoint(p)) for p in pts]
                k = int(np.argmax(dist))
                r["depth_km"] = float(dist[k])
                x, y = pts[k]
                kk = np.pi / 180 * R0 / 1e3
                r["deepest_lonlat"] = (lon0 + x / (kk * np.cos(np.radians(lat0))), lat0 + y / kk)
        focus_area = float(unary_union(covers).area) if covers else 0.0
    for r in rows:
        for key in ("_ground", "_half", "_bore"):
            r.pop(key)
    return AircraftReach(scenario=world.scenario.name, grid=grid, alt_km=float(alt_km), n_batteries=n,
                         batteries=rows, focus=focus, focus_area_km2=focus_area, home=home, left_out=left_out)


def _rounded(v, nd: int = 2):
    """``v`` with every float in it (nested in dicts and lists too) rounded to ``nd`` places."""
    if isinstance(v, float):
        return round(v, nd)
    if isinstance(v, dict):
        return {k: _rounded(x, nd) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_rounded(x, nd) for x in v]
    return v


def aircraft_json(res: AircraftReach, include_grid: bool = True) -> dict:
    out = {"scenario": res.scenario, "alt_km": res.alt_km, "focus": res.focus, "home": res.home,
           "focus_area_km2": round(res.focus_area_km2, 0),
           "max_depth_km": _rounded(max((b["depth_km"] for b in res.batteries if b.get("depth_km") is not None),
                                        default=None)),
           "batteries": [{k: _rounded(v) for k, v in b.items() if k not in ("circle_lonlat", "deepest_lonlat")}
                         | {"deepest_lat_lon_deg": None if b.get("deepest_lonlat") is None else
                            [round(b["deepest_lonlat"][1], 4), round(b["deepest_lonlat"][0], 4)]}
                         for b in res.batteries],
           "left_out": [{"name": n, "interceptor": i, "why": "no range against aircraft in the catalogue"}
                        for n, i in res.left_out]}
    if include_grid:
        out.update(lat_deg=[round(float(x), 6) for x in res.grid.lat_deg],
                   lon_deg=[round(float(x), 6) for x in res.grid.lon_deg], n_batteries=res.n_batteries.tolist())
    return out
