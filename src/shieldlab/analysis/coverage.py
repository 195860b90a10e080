"""Radar coverage: where each of a scenario's radars would detect a target at one altitude.

A grid point counts as *covered* by a radar when a target at geodetic altitude ``H`` above
it

1. is in the radar's field of regard: the engine's one field-of-regard test,
   :func:`shieldlab.sensors.visibility.visible_rows` (azimuth within the field about the
   boresight, apparent elevation between ``max(el_min, site mask)`` and ``el_max`` above
   the site's tangent plane, a line of sight clear of the Earth), and
2. is within the radar's single-look Pd = 0.5 detection range for the target's radar
   cross-section, the catalogue figure scaled by the radar equation
   (:meth:`shieldlab.catalog.models.Sensor.detection_range_km`, ``R ∝ RCS^(1/4)``) and, off
   a fixed array face's normal, by the fourth root of its scan loss
   (:func:`shieldlab.sensors.radar.scan_gain`; ``sensing.scan_loss``), measured as slant
   range from the site.

As the engine's radars: refraction of the scenario's atmosphere (``sensing.refraction_k``;
by default the standard atmosphere's, whose radio horizon against a target at 100 km
lies ~6 % past the geometric one), no terrain, no clutter, one look.

The target's RCS is, in this order: the one given (``rcs_m2``); a catalogue missile's
``rcs_m2`` (``missile``); the smallest ``rcs_m2`` among the scenario's threats (the
hardest of them to see); and, in a scenario without threats, each radar's own reference
RCS (``ref_rcs_m2``), so that each radar's range is its catalogue ``max_range_km``.

tests/test_coverage.py holds the covered ground range against the closed-form horizon on
a sphere (geometric and 4/3 Earth), the edges of a sector radar's field against its
boresight and the range limit against the detection range.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shieldlab import earth
from shieldlab.analysis.footprint import Grid, elevation_floor_angle, make_grid
from shieldlab.errors import InputError
from shieldlab.sensors import atmosphere, visibility
from shieldlab.sensors.radar import face_geometry, scan_gain

R0 = earth.R_EARTH_MEAN

#: Default target altitude [km]: a ballistic missile in mid-course is well above it, a
#: re-entry vehicle passes it a minute or so before impact.
DEFAULT_ALT_KM = 100.0

#: Highest target altitude accepted [km].
MAX_ALT_KM = 5000.0

#: At most this many grid points times radars in one map.
MAX_WORK = 40_000_000

#: Nodes along the longer side of the automatic grid.
AUTO_NODES = 160

#: Where the target's RCS came from: the option given, a catalogue missile, the scenario's
#: threats (the smallest RCS among them), or each radar's own reference RCS.
RCS_FROM = ("--rcs-m2", "--missile", "threats", "reference")


@dataclass
class RadarCoverage:
    """One radar's coverage on the grid."""

    name: str
    sensor: str  # catalogue id
    sensor_name: str  # catalogue display name
    system: str
    lat_deg: float
    lon_deg: float
    alt_m: float
    boresight_az_deg: float
    az_fov_deg: float
    el_min_deg: float  # the larger of the spec's lowest elevation and the site's mask
    el_max_deg: float
    rcs_m2: float
    detection_range_km: float  # Pd = 0.5 slant range against rcs_m2
    covered: np.ndarray  # (n_lat, n_lon) bool
    area_km2: float
    farthest_km: float  # geodesic distance (WGS84) from the site to the farthest covered node (0: none)
    refraction_k: float | None = None  # the radar's atmosphere: None standard, else its effective-Earth factor
    faces: int = 0  # array faces losing gain off their normals (0: no scan loss: none, or sensing.scan_loss off)

    def range_ground_km(self, alt_km: float) -> float:
        """The ground distance [km] at which a target at ``alt_km`` is ``detection_range_km``
        away (slant) from the site, over a spherical Earth of the mean radius: how far the
        coverage would reach on the map with neither horizon nor elevation floor to end it
        (0 where the range is short of the height)."""
        a = earth.R_EARTH_MEAN / 1e3 + self.alt_m / 1e3
        b = earth.R_EARTH_MEAN / 1e3 + alt_km
        cos_theta = (a * a + b * b - self.detection_range_km ** 2) / (2.0 * a * b)
        return 0.0 if cos_theta > 1.0 else earth.R_EARTH_MEAN / 1e3 * math.acos(max(-1.0, cos_theta))


@dataclass
class Coverage:
    scenario: str
    grid: Grid
    alt_km: float
    rcs_m2: float | None  # None: each radar's reference RCS
    rcs_from: str  # one of RCS_FROM
    rcs_missile: str | None  # the catalogue missile the RCS is taken from, if any
    radars: list[RadarCoverage]
    union: np.ndarray  # (n_lat, n_lon) bool: covered by at least one radar
    union_area_km2: float
    timing_s: dict = field(default_factory=dict)


def propagation_text(cov: Coverage) -> str:
    """How the radars' line of sight bends, in words; and where array faces lose range off
    their normals (``sensing.scan_loss``), which radars (detection ranges are on a normal)."""
    ks = {None if r.refraction_k is None else round(r.refraction_k, 6) for r in cov.radars}
    if ks <= {None}:
        text = "refraction of the standard atmosphere"
    elif ks == {1.0}:
        text = "geometric line of sight"
    else:
        text = "refraction k = " + ", ".join("standard" if k is None else f"{k:g}" for k in
                                             sorted(ks, key=lambda k: -1.0 if k is None else k))
    lossy = [r.name for r in cov.radars if r.faces]
    if lossy:
        text += (", scan loss of the array faces (" + ", ".join(lossy) + "; ranges given on a face's normal)")
    return text


def rcs_text(cov: Coverage) -> str:
    """How the target's RCS was chosen, in words."""
    if cov.rcs_from == "reference":
        return "each radar's reference RCS (no threats in the scenario)"
    what = f"RCS {cov.rcs_m2:g} m²"
    if cov.rcs_from == "--missile":
        return f"{what} ({cov.rcs_missile})"
    if cov.rcs_from == "threats":
        return f"{what}, the smallest among the threats ({cov.rcs_missile})"
    return what


def choose_rcs(world, rcs_m2: float | None = None, missile=None) -> tuple[float | None, str, str | None]:
    """(rcs_m2 or None, where it came from (one of :data:`RCS_FROM`), missile id or None;
    from the threats, the ids of every missile at the smallest RCS, joined by ", ").

    ``missile``: a catalogue :class:`~shieldlab.catalog.models.Missile` or its id (an
    unknown id raises :class:`InputError` on ``--missile``)."""
    if rcs_m2 is not None and missile is not None:
        raise InputError("give --rcs-m2 or --missile, not both", field="--missile")
    if rcs_m2 is not None:
        rcs = float(rcs_m2)
        if not (math.isfinite(rcs) and rcs > 0):
            raise InputError(f"must be a finite number > 0, got {rcs_m2}", field="--rcs-m2")
        return rcs, "--rcs-m2", None
    if missile is not None:
        if isinstance(missile, str):
            from shieldlab import catalog

            try:
                missile = catalog.get_missile(missile)
            except catalog.CatalogError as e:
                raise InputError(e.message, field="--missile") from None
        return float(missile.rcs_m2), "--missile", missile.id
    if world.threats:
        # every missile at the smallest RCS is named: one of a tie named alone reads as the
        # only one (a sejjil-2 and a ghadr-1 share 0.05 m²)
        least = min(t.missile.rcs_m2 for t in world.threats)
        ids = sorted({t.missile.id for t in world.threats if t.missile.rcs_m2 == least})
        return float(least), "threats", ", ".join(ids)
    return None, "reference", None


def radar_covers(radar, lat, lon, alt_m, range_m: float) -> np.ndarray:
    """Whether ``radar`` sees a target at geodetic (``lat``, ``lon`` [rad], ``alt_m``) within
    slant range ``range_m`` [m]: bool of the broadcast shape.

    The field of regard is :func:`~shieldlab.sensors.visibility.visible_rows`, the engine's
    test; the range is the straight-line distance from the site, as there."""
    p = earth.geodetic_to_ecef(*np.broadcast_arrays(np.asarray(lat, float), np.asarray(lon, float),
                                                    np.asarray(alt_m, float)))
    return _covers_ecef(radar, p, range_m)


def _covers_ecef(radar, p: np.ndarray, range_m: float) -> np.ndarray:
    shape = p.shape[:-1]
    flat = p.reshape(-1, 3)
    site = np.asarray(radar.site_ecef, float)
    d2 = np.einsum("ij,ij->i", flat - site, flat - site)
    out = np.zeros(flat.shape[0], bool)
    near = np.flatnonzero(d2 <= float(range_m) ** 2)  # the range test first: the cheap one
    if near.size and face_geometry(radar)[0] > 0.0:
        # off a face's normal the range shrinks as the fourth root of the scan loss
        az = earth.ecef_to_aer(flat[near], radar.lat, radar.lon, radar.alt)[0]
        near = near[d2[near] <= float(range_m) ** 2 * np.sqrt(scan_gain(radar, az))]
    if near.size:
        fr = visibility.FieldOfRegard.of(radar)
        out[near] = visibility.visible_rows(np.ascontiguousarray(flat[near]), *fr.args())
    return out.reshape(shape)


def ground_reach_m(radar, alt_m: float, range_m: float, radius_m: float = earth.WGS84_A) -> float:
    """Upper estimate of the ground distance [m] at which ``radar`` can see a target at
    ``alt_m``: the smaller of its elevation-floor horizon (over the effective Earth of its
    refraction factor ``k``: a sphere of ``k * radius_m``, heights kept, ground distances
    kept) and its slant range (on the true sphere), on a sphere of ``radius_m`` (the
    equatorial radius by default, the largest)."""
    k = float(atmosphere.effective_k(max(float(radar.alt), 0.0), float(alt_m), radius_m)
              if radar.refraction_k is None else radar.refraction_k)
    rk = k * radius_m
    rs, rt = rk + max(float(radar.alt), 0.0), rk + float(alt_m)
    theta = math.acos(min(rk / rs, 1.0)) + math.acos(min(rk / rt, 1.0))  # the horizon's
    floor = elevation_floor_angle(radar.el_floor, rk, rs, rt)  # (inf where the Earth, not the floor, limits)
    if floor == 0.0:
        return 0.0
    theta = min(theta, floor)
    rs, rt = radius_m + max(float(radar.alt), 0.0), radius_m + float(alt_m)
    c = (rs * rs + rt * rt - range_m * range_m) / (2 * rs * rt)
    if c > 1.0:  # the detection range does not reach the altitude
        return 0.0
    return min(rk * theta, radius_m * math.acos(max(c, -1.0)))


def _step_unit(span_deg: float, nodes: int = AUTO_NODES) -> float:
    """What the automatic step of a box spanning ``span_deg`` is a multiple of [deg]: 0.05, or
    0.01 where ``nodes`` nodes along it are under 0.05 apart (a small box, a Patriot battery's,
    gets a finer step)."""
    return 0.05 if span_deg / nodes > 0.05 else 0.01


def step_for(span_deg: float, nodes: int = AUTO_NODES) -> float:
    """The automatic grid step [deg] of a box whose longer side spans ``span_deg``: the multiple
    of :func:`_step_unit` giving about ``nodes`` nodes along it."""
    unit = _step_unit(span_deg, nodes)
    return max(unit, math.ceil(span_deg / nodes / unit - 1e-9) * unit)


def auto_grid(radars, reach_m, step_deg: float | None = None, nodes: int = AUTO_NODES) -> Grid:
    """A box over every radar's site and the ground out to its reach ``reach_m`` (in its
    azimuth field), padded.  Its longitudes are the shortest arc holding them all, which may
    run past 180 deg across the antimeridian (the nodes' longitudes then go on past 180); a
    reach over a pole takes every longitude.  Default step: the multiple of 0.05 deg (0.01 deg
    under 0.05) giving about ``nodes`` nodes along the longer side (over a pole, along the
    latitudes: the longitudes' side is short there on the ground), at most
    :data:`POLAR_NODES` nodes in all.  A radar that can see nothing at the height (reach 0)
    is left out of the box where another can see something: a Voronezh-DM's site 800 km off,
    seeing nothing at 100 m, had stretched a map of Turkey's low-level cover to southern
    Russia (the table and the legend still name it)."""
    lats, lons = [], []
    polar = False
    reach_m = list(reach_m)
    if any(r > 0 for r in reach_m):
        radars, reach_m = zip(*[(r, d) for r, d in zip(radars, reach_m) if d > 0])
    for radar, reach in zip(radars, reach_m):
        lat, lon = float(radar.lat), float(radar.lon)
        lats.append(math.degrees(lat))
        lons.append(math.degrees(lon))
        if reach <= 0:
            continue
        theta = 1.03 * reach / R0 + math.radians(0.05)
        half = 0.5 * math.radians(radar.spec.az_fov_deg)
        if half >= math.pi - math.radians(3):
            b = np.linspace(0, 2 * np.pi, 145)
        else:
            b = radar.boresight_az + np.linspace(-half - math.radians(3), half + math.radians(3), 73)
        r = np.linspace(0.0, theta * R0, 6)[1:]
        la, lo = earth.destination(lat, lon, b[:, None], r[None, :])
        lats += list(np.degrees(la).ravel())
        lons += list(np.degrees(lo).ravel())
        if theta >= 0.5 * math.pi - lat:  # over the north pole
            lats.append(90.0)
            polar = True
        if theta >= 0.5 * math.pi + lat:  # over the south pole
            lats.append(-90.0)
            polar = True
    pad = 0.1
    lat0, lat1 = max(-90.0, min(lats) - pad), min(90.0, max(lats) + pad)
    # room for a site's marker and name inside the box (a radar at the box's edge, its reach
    # all on one side, had its name written over the title)
    room = 0.04 * (lat1 - lat0)
    site_lats = [math.degrees(float(r.lat)) for r in radars]
    lat0, lat1 = max(-90.0, min(lat0, min(site_lats) - room)), min(90.0, max(lat1, max(site_lats) + room))
    lon0, lon1 = _lon_arc(np.asarray(lons, float), pad)
    # and along the longitudes (Shemya's radar, its reach all to the west, sat on the east edge)
    room = 0.04 * (lon1 - lon0)
    for site in (math.degrees(float(r.lon)) for r in radars):
        site = lon0 + (site - lon0) % 360.0  # (on the arc's own count, past 180 where it runs so)
        lon0, lon1 = min(lon0, site - room), max(lon1, site + room)
    if polar or lon1 - lon0 >= 359.0:
        lon0, lon1 = -180.0, 180.0
    full = (lon0, lon1) == (-180.0, 180.0)
    if step_deg is None:
        span = lat1 - lat0 if polar else max(lat1 - lat0, lon1 - lon0)
        step_deg, unit = step_for(span, nodes), _step_unit(span, nodes)
        # at least MIN_ROWS latitudes: near a pole a box is wide in degrees of longitude and
        # short on the ground (a radar at 89.5 N got 2 rows and covered nothing)
        rows_step = (lat1 - lat0) / MIN_ROWS
        if rows_step < step_deg:
            unit = 0.05 if rows_step >= 0.05 else 0.01
            step_deg = max(0.01, math.floor(rows_step / unit) * unit)
        while ((lat1 - lat0) / step_deg + 2) * ((lon1 - lon0) / step_deg + 2) > POLAR_NODES:
            step_deg += unit
    lat0 = max(-90.0, math.floor(lat0 / step_deg) * step_deg)
    if not full:  # (every longitude: from -180 itself)
        lon0 = math.floor(lon0 / step_deg) * step_deg
        if lon0 < -180.0:  # west of -180 after the rounding: the same box from past 180
            lon0, lon1 = lon0 + 360.0, lon1 + 360.0
    lat1, lon1 = max(lat1, lat0 + step_deg), max(lon1, lon0 + step_deg)
    if lon0 >= -180.0 and lon1 <= 180.0:
        return make_grid(lat0, min(lat1, 90.0), lon0, lon1, step_deg)
    # across the antimeridian: the nodes' longitudes run on past 180 (or start below -180)
    n_lat = int(np.floor((min(lat1, 90.0) - lat0) / step_deg + 1e-9)) + 1
    n_lon = int(np.floor((lon1 - lon0) / step_deg + 1e-9)) + 1
    return Grid(lat0 + step_deg * np.arange(n_lat), lon0 + step_deg * np.arange(n_lon))


#: The most nodes the automatic grid takes [count] (a box over a pole is 360 deg wide).
POLAR_NODES = 1_000_000
#: The fewest latitudes the automatic grid takes, where its step allows [count].
MIN_ROWS = 20


def _lon_arc(lons_deg: np.ndarray, pad: float) -> tuple[float, float]:
    """(west, east) [deg] of the shortest arc of longitude that holds every one of
    ``lons_deg``, padded by ``pad``: west in [-180, 180), east > west, past 180 where the arc
    crosses the antimeridian."""
    s = np.sort(np.mod(lons_deg + 180.0, 360.0) - 180.0)
    gaps = np.diff(np.concatenate([s, [s[0] + 360.0]]))
    i = int(np.argmax(gaps))
    west = float(s[(i + 1) % s.size])
    east = west + 360.0 - float(gaps[i])
    west, east = west - pad, east + pad
    if west < -180.0 and east <= 180.0 - 1e-9 and east - west < 360.0:
        # an arc that starts just west of -180: written from east of 180 instead
        west, east = west + 360.0, east + 360.0
    if west < -180.0 or east > 180.0:
        if east - west >= 359.0:
            return -180.0, 180.0
    return west, east


def lowest_apogee_km(apogee_alt_m) -> float | None:
    """The lowest finite nominal apogee of ``apogee_alt_m`` [m], in km; None where there is none."""
    apo = np.asarray([] if apogee_alt_m is None else apogee_alt_m, float)
    apo = apo[np.isfinite(apo)]
    return float(apo.min()) / 1e3 if apo.size else None


def threat_alt_km(apogee_alt_m) -> float:
    """The altitude [km] a scenario's report maps coverage at: its threats' lowest nominal
    apogee (``apogee_alt_m``, [m]) rounded down to whole kilometres (a height every threat
    reaches, to a metre: rounded to the nearest, a 51.8 km apogee was mapped at 52 km; an
    Iskander's glide flown at 35 km less 0.1 mm stays at 35 km), at most
    :data:`DEFAULT_ALT_KM` (a quasi-ballistic missile gliding at 40 km is never at 100 km),
    at least 1 km; the default without threats."""
    low = lowest_apogee_km(apogee_alt_m)
    return DEFAULT_ALT_KM if low is None else min(DEFAULT_ALT_KM, max(1.0, float(math.floor(low + 1e-3))))


def lower_tier_alt_km(world, alt_km: float) -> float | None:
    """The altitude [km] at which a report maps coverage a second time: the lowest ceiling
    (``max_intercept_alt_km``) of the scenario's interceptors, where it lies well below
    ``alt_km`` (under 60 % of it): a lower-tier battery's radar that sees nothing at the
    upper tier's height may still see a threat in time at its own; None where no battery is
    that much lower."""
    ceilings = [float(b.spec.max_intercept_alt_km) for b in getattr(world, "batteries", ())]
    if not ceilings or min(ceilings) >= 0.6 * alt_km:
        return None
    return max(1.0, float(round(min(ceilings))))


def compute(world, alt_km: float = DEFAULT_ALT_KM, *, rcs_m2: float | None = None, missile=None,
            grid: Grid | None = None, step_deg: float | None = None) -> Coverage:
    """Each radar's coverage of a target at ``alt_km`` on ``grid`` (default: :func:`auto_grid`).

    The RCS is chosen by :func:`choose_rcs`.  Raises :class:`InputError` for a scenario
    without sensors (field ``sensors``), an altitude outside [0, :data:`MAX_ALT_KM`]
    (``--alt-km``) or a grid over :data:`MAX_WORK` points times radars (``--step-deg``)."""
    t0 = time.perf_counter()
    if not world.sensors:
        raise InputError("the scenario has no sensor: no radar coverage to map", field="sensors")
    alt_km = float(alt_km)
    if not (math.isfinite(alt_km) and 0.0 <= alt_km <= MAX_ALT_KM):
        raise InputError(f"must be in [0, {MAX_ALT_KM:g}] km, got {alt_km:g}", field="--alt-km")
    rcs, rcs_from, rcs_missile = choose_rcs(world, rcs_m2, missile)
    alt_m = 1e3 * alt_km
    radars = [ps.radar for ps in world.sensors]
    rcs_each = [float(r.spec.ref_rcs_m2) if rcs is None else rcs for r in radars]
    det_km = [float(r.spec.detection_range_km(s)) for r, s in zip(radars, rcs_each)]
    if grid is None:
        grid = auto_grid(radars, [ground_reach_m(r, alt_m, 1e3 * d) for r, d in zip(radars, det_km)], step_deg)
    n = grid.shape[0] * grid.shape[1]
    if n * len(radars) > MAX_WORK:
        raise InputError(f"{grid.shape[0]} x {grid.shape[1]} grid points x {len(radars)} radars is too much "
                         f"(at most {MAX_WORK:,}): give a coarser step", field="--step-deg")
    la, lo = np.meshgrid(np.radians(grid.lat_deg), np.radians(grid.lon_deg), indexing="ij")
    p = earth.geodetic_to_ecef(la, lo, np.full(la.shape, alt_m))
    cell = grid.cell_area_km2()
    union = np.zeros(grid.shape, bool)
    rows = []
    for ps, radar, s, d in zip(world.sensors, radars, rcs_each, det_km):
        cov = _covers_ecef(radar, p, 1e3 * d)
        union |= cov
        far = 0.0
        if cov.any():
            # on the ellipsoid, not the mean sphere: a sphere's distance runs up to ~0.3 % long
            # (134.7 km to a node a 134.6 km detection range reaches, at 37° N)
            lat_c, lon_c = la[cov], lo[cov]
            d_m = earth.geodesic_distance(radar.lat, radar.lon, lat_c, lon_c)
            bad = np.isnan(d_m)  # Vincenty does not converge near the antipode: the sphere's there
            if bad.any():
                d_m[bad] = earth.great_circle_distance(radar.lat, radar.lon, lat_c[bad], lon_c[bad])
            far = float(d_m.max()) / 1e3
        spec = radar.spec
        rows.append(RadarCoverage(
            name=radar.name, sensor=spec.id, sensor_name=spec.name, system=ps.system,
            lat_deg=math.degrees(radar.lat), lon_deg=math.degrees(radar.lon), alt_m=float(radar.alt),
            boresight_az_deg=math.degrees(radar.boresight_az), az_fov_deg=float(spec.az_fov_deg),
            el_min_deg=math.degrees(radar.el_floor),
            el_max_deg=float(spec.el_max_deg), rcs_m2=s, detection_range_km=d, covered=cov,
            area_km2=float(cell[cov].sum()), farthest_km=far, refraction_k=radar.refraction_k,
            faces=int(spec.faces) if face_geometry(radar)[0] > 0.0 else 0))
    return Coverage(scenario=world.scenario.name, grid=grid, alt_km=alt_km, rcs_m2=rcs, rcs_from=rcs_from,
                    rcs_missile=rcs_missile, radars=rows, union=union, union_area_km2=float(cell[union].sum()),
                    timing_s={"total": time.perf_counter() - t0})


def _rows(a: np.ndarray) -> list[str]:
    """A boolean grid as one string per latitude row, south to north: '1' covered, '0' not."""
    return ["".join("1" if v else "0" for v in row) for row in a]


def to_json(cov: Coverage, include_grid: bool = True) -> dict:
    """JSON-ready dict: the target, the grid's axes, per-radar summaries and (optionally) the
    covered grids, one string per latitude row (south to north) of '0' and '1'."""
    out: dict[str, Any]  # values of mixed types; "radars" filled below
    out = {"scenario": cov.scenario, "alt_km": cov.alt_km, "rcs_m2": cov.rcs_m2, "rcs_from": cov.rcs_from,
           "rcs_missile": cov.rcs_missile, "lat_deg": [round(float(x), 6) for x in cov.grid.lat_deg],
           "lon_deg": [round(float(x), 6) for x in cov.grid.lon_deg], "step_deg": round(cov.grid.step_deg, 6),
           "union_km2": round(cov.union_area_km2, 0),
           # covered ground on the box's edge: the areas and farthest ranges are of the box alone
           "cut_at_box_edge": cov.grid.at_edge(cov.union), "radars": []}
    for r in cov.radars:
        d = {"name": r.name, "sensor": r.sensor, "sensor_name": r.sensor_name, "system": r.system,
             "lat_deg": round(r.lat_deg, 6), "lon_deg": round(r.lon_deg, 6), "alt_m": round(r.alt_m, 1),
             "boresight_az_deg": round(r.boresight_az_deg, 3), "az_fov_deg": r.az_fov_deg,
             "el_min_deg": round(r.el_min_deg, 3), "el_max_deg": r.el_max_deg, "rcs_m2": r.rcs_m2,
             "detection_range_km": round(r.detection_range_km, 1), "area_km2": round(r.area_km2, 0),
             "farthest_km": round(r.farthest_km, 1),
             "refraction_k": None if r.refraction_k is None else round(r.refraction_k, 6),
             "scan_loss_faces": r.faces}
        if include_grid:
            d["covered"] = _rows(r.covered)
        out["radars"].append(d)
    if include_grid:
        out["union"] = _rows(cov.union)
    return out
