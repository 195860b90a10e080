"""The air picture over Monte Carlo runs: fly the aircraft and cruise missiles, see them with
the scenario's radars, track them, measure their crossings of the policed airspace, police
them, and score.

Each flight entry (a flier, or a salvo of them on one route) is simulated on its own clock,
so one scenario may hold incidents weeks apart; entries do not interact (a patrol vectored
on one flier is free for the next).  Runs are independent: run ``r`` of entry ``e`` draws
from the child ``(AIR_KEY, e, r)`` of the seed, so its numbers do not depend on how the runs
are chunked.  Truth flows one way: the tracks see the radars' reports only, the policing
cell the tracks only; the truth returns in the kill assessment and the scoring.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from shieldlab import earth
from shieldlab.airspace import borders, claims, policing, track
from shieldlab.airspace.flight import AirPaths, Limits, Routes, fly
from shieldlab.engine.eventlog import TableResult, event_table, plain, probability, result_line
from shieldlab.errors import InputError
from shieldlab.sensors import radar as radar_mod
from shieldlab.stats import mean_interval

__all__ = ["AirResult", "EntryRun", "simulate_air", "check", "AIR_KEY", "air_territory", "country_at"]

#: First element of every air-picture stream's spawn key (the ballistic chain's are run numbers).
AIR_KEY = 0xA1
#: Most runs simulated together.
CHUNK_RUNS = 16
#: A chunk's fliers x time samples x radars at most this many: its memory (some 140 bytes each:
#: the flights, each radar's looks, the tracks).  At 16 runs a chunk a Kalibr salvo's entry (3
#: missiles on a 12,600-sample grid, 5 radars) held 26 MB a run, and 50 runs of
#: kalibr-caspian-2015 peaked at 578 MB; at 4 runs a chunk, 299 MB, the same results, the same
#: time (the tables equal to the bit).  A run's results do not depend on the runs beside it
#: in its chunk, to the bit (the border's depth search sums each visit's arc length on its own).
CHUNK_RADAR_SAMPLES = 800_000


def chunk_runs(members: int, samples: int, radars: int) -> int:
    """Runs a chunk of one flight entry takes: at most :data:`CHUNK_RUNS`, and
    :data:`CHUNK_RADAR_SAMPLES` over the entry's fliers x samples x radars, one at least."""
    per_run = members * samples * max(radars, 1)
    return int(max(1, min(CHUNK_RUNS, CHUNK_RADAR_SAMPLES // max(per_run, 1))))
#: Draws of a track's error used for the uncertainty of its airspace figures.
UNCERTAINTY_DRAWS = 64


@dataclass
class EntryRun:
    """One run of one flight entry, kept for the scene and the report: the true paths, the
    tracks, and the policing of each flier."""

    entry: int
    names: list[str]
    paths: AirPaths
    tracks: track.AirTracks
    policing: list[policing.RowPolicing | None]
    detections: list  # the sensors' Detections of this run, batch (1, count)


@dataclass
class AirResult(TableResult):
    TABLES = ("outcomes", "events")
    summary: dict
    outcomes: dict[str, np.ndarray]
    events: dict[str, np.ndarray]
    scene: list[EntryRun] = field(default_factory=list)

    def __repr__(self) -> str:
        """A line a notebook can show (the whole record was 66,000 to 93,000 characters)."""
        return result_line("AirResult", self.summary, {"outcomes": self.outcomes, "events": self.events})


def air_territory(world) -> borders.Territory | None:
    """The policed airspace of ``world`` (None without air policing), projected about the middle
    of the flights' waypoints."""
    pol = world.policing
    if pol is None:
        return None
    lat = np.concatenate([f.route_lat for f in world.flights])
    lon = np.concatenate([f.route_lon for f in world.flights])
    lat0, lon0, far = borders.spread(lat, lon)
    radius_km = float(min(max(far + 400.0, 300.0), 3000.0))
    try:
        return borders.territory(pol.country, waters_nmi=pol.waters_nmi, around_deg=(lat0, lon0),
                                 radius_km=radius_km)
    except InputError as e:
        if e.field != "around_deg":
            raise
        raise InputError(f"{pol.country} has no land within {radius_km:,.0f} km of the flights' routes (about "
                         f"{lat0:.2f}, {lon0:.2f}): police a country the flights come near", source=world.source,
                         field="air_policing.country") from None


def country_at(lat_deg, lon_deg) -> np.ndarray:
    """The Natural Earth country under each point (object array; "" at sea)."""
    from shapely import contains_xy

    from shieldlab.analysis.maps import _country_parts

    shape = np.shape(lat_deg)
    lat_deg, lon_deg = np.atleast_1d(np.asarray(lat_deg, float)), np.atleast_1d(np.asarray(lon_deg, float))
    out = np.full(lat_deg.shape, "", dtype=object)
    ok = np.isfinite(lat_deg) & np.isfinite(lon_deg)
    if not ok.any():
        return out.reshape(shape)
    x0, x1, y0, y1 = lon_deg[ok].min(), lon_deg[ok].max(), lat_deg[ok].min(), lat_deg[ok].max()
    for name, poly, (bx0, by0, bx1, by1) in _country_parts():
        if bx1 < x0 or bx0 > x1 or by1 < y0 or by0 > y1:
            continue
        hit = ok & (out == "")
        hit[hit] = contains_xy(poly, lon_deg[hit], lat_deg[hit])
        out[hit] = name
    return out.reshape(shape)


def check(world) -> dict:
    """Every check a simulation of the air picture hits before it starts: each entry's nominal
    flight (a route its flier cannot fly raises :class:`~shieldlab.errors.InputError` naming it)
    and the policed airspace.  Returns what ``shieldlab validate`` prints: the flights, the
    longest nominal flight [s] and the airspace."""
    longest = max(_entry_grid(world, members)[2] for members in _entries(world))
    terr = air_territory(world)
    return {"flights": len(world.flights), "entries": len(_entries(world)), "longest_flight_s": longest,
            "airspace": None if terr is None else terr.name}


def _streams(seed: int, entry: int, run: int, n: int) -> list[np.random.Generator]:
    ss = np.random.SeedSequence(seed, spawn_key=(AIR_KEY, entry, run))
    return [np.random.default_rng(c) for c in ss.spawn(n)]


def _entries(world) -> list[list[int]]:
    """Indices into world.flights of each flight entry, in scenario order."""
    groups: dict[int, list[int]] = {}
    for i, f in enumerate(world.flights):
        groups.setdefault(f.entry, []).append(i)
    return [groups[k] for k in sorted(groups)]


def _entry_routes(fl) -> Routes:
    """The routes of one entry's fliers, padded to the longest: (n, W) arrays."""
    W = max(f.route_lat.size for f in fl)

    def col(name: str) -> np.ndarray:
        return np.array([np.pad(getattr(f, name), (0, W - getattr(f, name).size), constant_values=np.nan)
                         for f in fl])

    return Routes(lat=col("route_lat"), lon=col("route_lon"), alt=col("route_alt"), speed=col("route_speed"),
                  n=np.array([f.route_lat.size for f in fl]))


def _fly_entry(world, members: list[int], runs: list[int], seed: int, grid: tuple[float, int]):
    """Fly one entry's fliers for ``runs`` on the entry's ``grid`` (:func:`_entry_grid`): (paths
    (C * n rows), streams per run)."""
    fl = [world.flights[i] for i in members]
    n, C = len(fl), len(runs)
    n_sensors = len(world.sensors)
    # per run: the flights' dispersions and failures, one stream per sensor, then one per flier
    # (its kill draws and the draws of its track's errors), so that no flier's draws depend on
    # what happened to another
    streams = [_streams(seed, fl[0].entry, r, 1 + n_sensors + n) for r in runs]
    speed = np.empty((C, n))
    start = np.empty((C, n))
    fail = np.full((C, n), np.inf)
    for c, s in enumerate(streams):
        g = s[0]
        z = g.standard_normal((2, n))
        u = g.random((2, n))
        speed[c] = 1.0 + np.array([f.speed_sigma for f in fl]) * z[0]
        start[c] = np.array([f.start_time for f in fl]) + np.array([f.start_sigma for f in fl]) * z[1]
        fail[c] = np.where(u[0] < np.array([f.failure_probability for f in fl]), u[1], np.inf)
    start = np.maximum(start, 0.0)
    one = _entry_routes(fl)
    routes = Routes(lat=np.tile(one.lat, (C, 1)), lon=np.tile(one.lon, (C, 1)), alt=np.tile(one.alt, (C, 1)),
                    speed=np.tile(one.speed, (C, 1)), n=np.tile(one.n, C))
    limits = Limits.of([f.spec for f in fl] * C)
    t0, n_samples = grid
    paths = fly(limits, routes, np.maximum(start.reshape(-1), t0), world.dt,
                speed_factor=np.clip(speed.reshape(-1), SPEED_FACTOR[0], SPEED_FACTOR[1]),
                fail_fraction=fail.reshape(-1), t0=t0, n_samples=n_samples, t_max=1e9)
    return paths, streams


#: Bounds of a run's speed factor (1 + speed_pct / 100 x a normal draw).
SPEED_FACTOR = (0.5, 1.5)


def _entry_grid(world, members: list[int]) -> tuple[float, int, float]:
    """The time grid of one flight entry, the same for every chunk of runs: from the earliest start
    less six sigmas of its start error, long enough for the slowest speed factor on the nominal
    flight (a run's samples, and the radars' scans over them, then depend on that run alone).
    Returns (first time [s], samples, the longest nominal flight [s])."""
    fl = [world.flights[i] for i in members]
    starts = np.array([f.start_time for f in fl])
    sig = max(f.start_sigma for f in fl)
    routes = _entry_routes(fl)
    # the longest flight it may take: its route at half its least speed, an hour of turns more
    legs = earth.great_circle_distance(routes.lat[:, :-1], routes.lon[:, :-1], routes.lat[:, 1:], routes.lon[:, 1:])
    slowest = min(min(f.spec.min_speed_eas_kmh / 3.6, float(np.nanmin(f.route_speed, initial=np.inf))) for f in fl)
    t_max = 2.0 * float(np.nansum(legs, axis=1).max()) / slowest + 3600.0
    try:
        nominal = fly(Limits.of([f.spec for f in fl]), routes, starts, world.dt, t_max=t_max)
    except ValueError as e:
        raise InputError(f"{fl[0].group}: {e}", source=world.source, field=f"flights[{fl[0].entry}].route") from None
    t0 = max(float(starts.min()) - 6.0 * sig, 0.0)
    nominal_s = float((nominal.end_time - nominal.start_time).max())
    span = float(starts.max()) + 6.0 * sig - t0 + nominal_s / SPEED_FACTOR[0] + 600.0
    return t0, int(math.ceil(span / world.dt)) + 2, nominal_s


def _reshape_traj(traj, C: int, n: int):
    from dataclasses import replace

    def r(a):
        return a.reshape((C, n) + a.shape[1:])

    return replace(traj, pos=r(traj.pos), vel=r(traj.vel), phase=r(traj.phase), launch_time=r(traj.launch_time),
                   burnout_time=r(traj.burnout_time), burnout_speed=r(traj.burnout_speed),
                   apogee_time=r(traj.apogee_time), apogee_alt=r(traj.apogee_alt), impact_time=r(traj.impact_time),
                   impact_pos=r(traj.impact_pos), separates=None if traj.separates is None else r(traj.separates))


def _near_and_inside(terr, pol, lat, lon, valid):
    """(inside, near): the points inside the airspace, and within ``warn_within`` of it, (B, T)."""
    inside = np.zeros(lat.shape, bool)
    near = np.zeros(lat.shape, bool)
    if terr is None or not valid.any():
        return inside, near
    la, lo = np.degrees(lat[valid]), np.degrees(lon[valid])
    ins = borders.contains(terr, la, lo)
    x, y = terr.projection.forward(la, lo)
    d = np.full(la.shape, np.inf)
    # the border distance only where it can matter: inside a box of the airspace widened by the warning distance
    bx0, by0, bx1, by1 = terr.shape.bounds
    w = pol.warn_within
    box = (x > bx0 - w) & (x < bx1 + w) & (y > by0 - w) & (y < by1 + w) & ~ins
    if box.any():
        d[box] = borders.border_distance(terr, la[box], lo[box])
    inside[valid] = ins
    near[valid] = ins | (d <= w)
    return inside, near


def _track_uncertainty(terr, tracks, row: int, rng: np.random.Generator, until: float = np.inf):
    """Draws of the track's airspace figures for one row: a common standard-normal offset per
    draw scaled by each sample's position covariance (the track's errors over a crossing of
    seconds are correlated, not white).  Returns (time_inside_s, max_depth_m, distance_inside_m)
    arrays of UNCERTAINTY_DRAWS each."""
    firm = tracks.firm[row] & (tracks.t <= until)
    k = np.flatnonzero(firm)
    P = tracks.P_pos[row, k]
    L = np.linalg.cholesky(P + 1e-6 * np.eye(3))
    w = rng.standard_normal((UNCERTAINTY_DRAWS, 3))
    pos = tracks.x[row, k, :3][None] + np.einsum("kij,dj->dki", L, w)
    lat, lon, _ = earth.ecef_to_geodetic(pos)
    valid = np.ones(lat.shape, bool)
    cr = borders.crossings(terr, tracks.t[k], np.degrees(lat), np.degrees(lon), valid)
    return cr.time_inside_s, cr.max_depth_m, cr.distance_inside_m


def pursuit_area(pol, terr: borders.Territory | None) -> Callable[[np.ndarray], np.ndarray] | None:
    """Where ``pol.pursuit`` lets a vectored fighter fly, as a test of ECEF points (M, 3) [m]:
    ``own-airspace``, the policed airspace ``terr``; ``international``, that or any point in
    no other country's airspace (:func:`shieldlab.airspace.borders.foreign_airspace`, drawn
    over the same disc with the same territorial sea); None (anywhere) for ``across``."""
    pursuit = getattr(pol, "pursuit", "across")
    if terr is None or pursuit not in ("own-airspace", "international"):
        return None
    foreign = None if pursuit == "own-airspace" else borders.foreign_airspace(
        terr.name, waters_nmi=terr.waters_nmi, around_deg=(terr.lat0_deg, terr.lon0_deg),
        radius_km=(terr.clip_radius_m or 6e5) / 1e3)

    def area(p: np.ndarray) -> np.ndarray:
        la, lo, _ = earth.ecef_to_geodetic(p)
        la, lo = np.degrees(la), np.degrees(lo)
        inside = borders.contains(terr, la, lo)
        return inside if foreign is None else inside | ~borders.contains(foreign, la, lo)

    return area


def simulate_air(world, runs: int, seed: int = 1, *, scene_run: int | None = 0,
                 progress: Callable[[int], None] | None = None) -> AirResult:
    """The air picture of ``world`` over ``runs`` Monte Carlo runs (see the module's docstring).
    ``progress(n)`` is told the runs done so far, of ``runs`` x the number of flight entries."""
    pol = world.policing
    terr = air_territory(world)
    fighters_ = policing.fighters(pol) if pol is not None else []
    own = pursuit_area(pol, terr)
    radars = [s.radar for s in world.sensors]
    init_hits = world.scenario.tracking.init_hits
    rows_out: dict[str, list] = {k: [] for k in _OUTCOME_COLUMNS}
    events: list[tuple] = []
    # (flight group, sensor) -> per-row [seen, share of the flight in its field, share with reports]
    sensing: dict[tuple[str, str], list[tuple[bool, float, float]]] = {}
    # (flight group, fighter) -> per-row (time in weapon range after the true entry [s] (inf: never),
    # true time inside [s])
    reach: dict[tuple[str, str], list[tuple[float, float, float, float]]] = {}
    scene: list[EntryRun] = []
    entries = _entries(world)
    for e, members in enumerate(entries):
        fl = [world.flights[i] for i in members]
        n = len(fl)
        grid = _entry_grid(world, members)[:2]  # the nominal flight, flown once for every chunk
        step = chunk_runs(n, grid[1], len(radars))
        for first in range(0, runs, step):
            run_ids = list(range(first, min(first + step, runs)))
            C = len(run_ids)
            paths, streams = _fly_entry(world, members, run_ids, seed, grid)
            traj = _reshape_traj(paths.trajectories(), C, n)
            rcs = np.broadcast_to(np.array([f.spec.rcs_m2 for f in fl]), (C, n))
            dets = []
            truth_at: dict = {}
            for j, rd in enumerate(radars):
                dets.append(radar_mod.observe(rd, traj, rcs, [s[1 + j] for s in streams], truth_at=truth_at))
            tr = track.track(dets, paths.t, C * n, init_hits=init_hits)
            tlat, tlon, _ = tr.geodetic()
            inside_t, near_t = (_near_and_inside(terr, pol, tlat, tlon, tr.firm) if pol is not None
                                else (None, None))
            cr = (borders.crossings(terr, paths.t, np.degrees(paths.lat), np.degrees(paths.lon), paths.flown)
                  if terr is not None else None)
            kept: dict[int, policing.RowPolicing | None] = {}
            for c, run in enumerate(run_ids):
                for m in range(n):
                    row = c * n + m
                    rng = streams[c][1 + len(radars) + m]
                    rp = None
                    if pol is not None and inside_t is not None and near_t is not None and fl[m].side != pol.side:
                        rp = policing.police_row(pol, paths.t, tr.x[row], inside_t[row], near_t[row], fighters_,
                                                 own=own)
                        rp = _assess_row(rp, paths, row, fighters_, rng, pol.max_shots)
                    elif pol is not None:
                        rp = policing.RowPolicing(no_shot=f"not policed: {fl[m].side} is the defender's side")
                    kept[row] = rp
                    ending = _ending(paths, row, rp)
                    _sensing_row(fl[m], traj, dets, c, m, sensing, ending[2])
                    if rp is not None and cr is not None and cr.entered[row] and fl[m].side != pol.side:
                        _reach_row(fl[m].group, rp, paths, row, cr, fighters_, reach)
                    _score_row(world, terr, fl[m], run, row, paths, dets, tr, cr, rp, c, m, rows_out, events, rng,
                               ending)
                if scene_run is not None and run == scene_run:
                    rows = slice(c * n, (c + 1) * n)
                    scene.append(EntryRun(e, [f.name for f in fl], _rows_of(paths, rows), _track_rows(tr, rows),
                                          [kept[c * n + m] for m in range(n)], [_det_rows(d, c) for d in dets]))
            if progress is not None:  # runs done, counting each flight entry's runs
                progress(e * runs + first + C)
    outcomes = {k: np.array(v, dtype=_OUTCOME_COLUMNS[k]) for k, v in rows_out.items()}  # type: ignore[call-overload]
    ev = event_table(events, _KIND_ORDER)
    summary = _summary(world, runs, seed, outcomes, terr)
    _sensing_summary(summary, sensing, reach, outcomes)
    summary = plain(summary)
    return AirResult(summary=summary, outcomes=outcomes, events=ev, scene=scene)


def _ending(paths: AirPaths, row: int, rp) -> tuple[bool, float, float]:
    """Whether flier ``row`` was shot down, when it was first hit [s] (nan: never), and when
    it left the air [s]: at that hit, or at its route's end (or where it came down)."""
    end = float(paths.end_time[row])
    killed = rp is not None and any(s.killed for s in rp.shots)
    hit_t = min((s.hit_time for s in rp.shots if s.killed), default=np.nan) if rp is not None else np.nan
    return killed, hit_t, (hit_t if killed and hit_t < end else end)


def _sensing_row(f, traj, dets, c: int, m: int, acc: dict, end: float) -> None:
    """What each sensor made of flier (c, m): ever reported, the share of its airborne scans with
    the flier in the sensor's field (a positive SNR: in view, in range of the horizon), and the
    share with a report.  Airborne: from launch to ``end`` [s] (a kill ends it; the truth's
    path goes on past it)."""
    for d in dets:
        flying = (d.t >= traj.launch_time[c, m]) & (d.t < min(traj.impact_time[c, m], end))
        n = max(int(flying.sum()), 1)
        det = d.detected[c, m] & flying
        acc.setdefault((f.group, d.sensor), []).append(
            (bool(det.any()), float(((d.snr[c, m] > 0) & flying).sum() / n), float(det.sum() / n)))


def _sensing_summary(summary: dict, sensing: dict, reach: dict, o: dict) -> None:
    """Add each flight entry's per-sensor and per-fighter figures to ``summary``."""
    for row in summary["flights"]:
        g = row["flight"]
        row["sensors"] = {}
        for (grp, sensor), vals in sensing.items():
            if grp != g:
                continue
            seen = np.array([v[0] for v in vals])
            row["sensors"][sensor] = {"seen": probability(int(seen.sum()), seen.size),
                                      "in_view_share": _m([v[1] for v in vals], lower=0.0, upper=1.0),
                                      "reported_share": _m([v[2] for v in vals], lower=0.0, upper=1.0)}
        fighters_ = {name: np.array(v, float).reshape(-1, 5) for (grp, name), v in reach.items() if grp == g}
        if fighters_:
            row["fighters"] = {}
            for name, cols in fighters_.items():
                after, inside, to_range, warned, flown = cols.T
                # in range while inside: the flown course's verdict where there is one, else the
                # collision course's (in range before the time inside ran out)
                while_inside = np.where(np.isnan(flown), np.isfinite(after) & (after <= inside), np.isfinite(flown))
                row["fighters"][name] = {"in_range_after_entry_s": _m(after),
                                         "in_range_while_inside": probability(int(while_inside.sum()), after.size),
                                         "order_to_entry_range_s": _m(to_range),
                                         "order_before_entry_s": _m(warned)}


def _rows_of(paths: AirPaths, rows: slice) -> AirPaths:
    return AirPaths(t=paths.t, lat=paths.lat[rows], lon=paths.lon[rows], alt=paths.alt[rows],
                    speed=paths.speed[rows], heading=paths.heading[rows], climb=paths.climb[rows],
                    active=paths.active[rows], start_time=paths.start_time[rows], end_time=paths.end_time[rows],
                    failed=paths.failed[rows])


def _track_rows(tr: track.AirTracks, rows: slice) -> track.AirTracks:
    return track.AirTracks(t=tr.t, x=tr.x[rows], P_pos=tr.P_pos[rows], firm=tr.firm[rows],
                           first_firm=tr.first_firm[rows], breaks=tr.breaks[rows], updates=tr.updates[rows])


def _det_rows(d, c: int):
    from dataclasses import replace

    return replace(d, z=d.z[c:c + 1], detected=d.detected[c:c + 1], r_scale=d.r_scale[c:c + 1],
                   snr=d.snr[c:c + 1], truth_pos=d.truth_pos[c:c + 1])


def _reach_row(group: str, rp, paths: AirPaths, row: int, cr, fighters_, reach: dict) -> None:
    """Each fighter against one true crossing (scoring, not a decision): when it was, or would have
    been, in weapon range after the entry, the time inside, the time from the order to weapon range of
    the true entry point, and how long before the entry the order came."""
    entry = float(cr.entry_time[row])
    k_in = min(int(np.searchsorted(paths.t, entry)), paths.t.size - 1)
    p_in = earth.geodetic_to_ecef(paths.lat[row, k_in], paths.lon[row, k_in], paths.alt[row, k_in])
    for fg in fighters_:
        far = max(float(np.linalg.norm(p_in - fg.pos)) - policing.reach_m(fg.spec), 0.0)
        to_range = (fg.ready if fg.base else 0.0) + far / (fg.spec.cruise_speed_kmh / 3.6)
        # the vectored fighter's course was flown: whether the track was in its weapon's reach
        # while inside is known (a patrol in range before the entry may fall behind as the
        # intruder turns away); another fighter's, from its collision course alone
        inside = (rp.reach_inside if fg.name == rp.vectored else np.nan)
        reach.setdefault((group, fg.name), []).append(
            (rp.reach.get(fg.name, np.inf) - entry, float(cr.time_inside_s[row]), to_range, entry - rp.order,
             inside))


def _assess_row(rp: policing.RowPolicing, paths: AirPaths, row: int, fighters_, rng,
                max_shots: int = 1) -> policing.RowPolicing:
    """Kill assessment of the row's shots, with the truth: the first, then after each miss the
    next the rules allow, up to ``max_shots``."""
    if not rp.shots:
        rng.random()  # the same draws whatever was decided
        return rp
    f = next(x for x in fighters_ if x.name == rp.shots[0].fighter)
    t = paths.t

    def truth_at(tt: float):  # between samples, along the chord (the weapon's flight is solved on it)
        if tt > paths.end_time[row] or tt < paths.start_time[row]:
            return None
        k = min(max(int(np.searchsorted(t, tt)), 1), t.size - 1)
        a, b = (earth.geodetic_to_ecef(paths.lat[row, j], paths.lon[row, j], paths.alt[row, j]) for j in (k - 1, k))
        if not (np.isfinite(a).all() and t[k] > t[k - 1]):
            return b
        w = min(max((tt - t[k - 1]) / (t[k] - t[k - 1]), 0.0), 1.0)
        return a + w * (b - a)

    # shoot, look (the weapon's flight, then LOOK_S), shoot again while the rules allow, up to max_shots;
    # one kill draw per shot fired
    shots: list[policing.Shot] = []
    nxt: policing.Shot | None = rp.shots[0]
    while nxt is not None and len(shots) < max_shots:
        s = policing.assess(nxt, rp.shooter_at(nxt.time), truth_at, f.spec.weapon, rng)
        shots.append(s)
        if s.killed or not np.isfinite(s.tof):
            break
        nxt = policing.next_shot(rp, s.time + s.tof + policing.LOOK_S)
    rp.shots = shots
    return rp


_OUTCOME_COLUMNS: dict[str, object] = {
    "run": np.int32, "flight": object, "type": object, "side": object,
    "start_s": float, "end_s": float, "failed": bool, "failure_country": object, "arrived": bool,
    "flight_time_s": float, "ground_km": float,
    "seen": bool, "first_detect_s": float, "first_detect_by": object, "firm_track_s": float,
    "tracked_share": float, "track_breaks": np.int32,
    "entered": bool, "entry_s": float, "exit_s": float, "time_inside_s": float, "max_depth_km": float,
    "distance_inside_km": float, "alt_inside_lo_m": float, "alt_inside_hi_m": float,
    "declared_entry_s": float, "est_time_inside_s": float, "est_time_inside_lo_s": float,
    "est_time_inside_hi_s": float, "est_max_depth_km": float, "est_max_depth_lo_km": float,
    "est_max_depth_hi_km": float,
    "warnings": np.int32, "warnings_before_entry": np.int32, "scramble_s": float, "in_range_s": float,
    "in_range_by": object, "closure_ms": float, "fired": bool, "fire_s": float, "shots": np.int32, "killed": bool,
    "hit_s": float, "hit_depth_km": float, "no_shot": object,
}


def _heights_inside(terr, paths, row: int, entry_s: float, exit_s: float) -> tuple[float, float]:
    """The lowest and highest height [m] of row ``row``'s true path inside ``terr`` between its
    first entry and its last exit (times [s]): its samples inside, and its heights where the
    path meets the border (:func:`shieldlab.airspace.borders.boundary_times`, interpolated in
    time), so every visit counts, one shorter than a sample or between two samples outside
    too.  The height is linear in time between samples, so on the path inside its extremes
    lie at these points: the lowest and highest are exact for the sampled path."""
    t, alt = paths.t, paths.alt[row]
    k = np.flatnonzero(paths.flown[row] & (t > entry_s) & (t < exit_s))
    ins = k[borders.contains(terr, np.degrees(paths.lat[row, k]), np.degrees(paths.lon[row, k]))]
    met = borders.boundary_times(terr, t, np.degrees(paths.lat[row]), np.degrees(paths.lon[row]), paths.flown[row])
    met = met[(met >= entry_s) & (met <= exit_s)]
    h = np.concatenate([alt[ins], np.interp(np.concatenate([[entry_s, exit_s], met]), t, alt)])
    return float(h.min()), float(h.max())


def _score_row(world, terr, f, run, row, paths, dets, tr, cr, rp, c, m, out, events, rng, ending) -> None:
    """One (run, flier) outcome row and its events; ``rng`` draws the track's errors for the
    uncertainty of its airspace figures; ``ending``: :func:`_ending` of the row."""
    t = paths.t
    start, end = float(paths.start_time[row]), float(paths.end_time[row])
    killed, hit_t, end_eff = ending
    failed = bool(paths.failed[row]) and not (killed and hit_t < end)
    k_end = min(int(np.searchsorted(t, end_eff)), t.size - 1)
    fail_country = str(country_at(np.degrees(paths.lat[row, k_end]), np.degrees(paths.lon[row, k_end]))) \
        if failed else ""

    def ev(time, kind, actor="", detail=""):
        if np.isfinite(time):
            events.append((run, float(time), f.name, kind, actor, detail))

    ev(start, "start", f.spec.id)
    first, by = np.inf, ""
    for d in dets:
        det = d.detected[c, m]
        if det.any():
            t1 = float(d.t[np.argmax(det)])
            ev(t1, "detect", d.sensor)
            if t1 < first:
                first, by = t1, d.sensor
    firm_t = float(tr.first_firm[row])
    ev(firm_t, "track", "air picture")
    airborne = paths.active[row] & (t < end_eff)
    share = float((tr.firm[row] & airborne).sum() / max(airborne.sum(), 1))
    # the true crossing, cut at a kill (the flier is gone from there on)
    c_row: dict = {}
    kill_at = None  # where the flier was when the kill came: (lat, lon) [rad]
    if killed:
        # the path ends at the kill itself, between two samples: the crossing's time and depth
        # and the depth at the hit read one place (the sample after the kill, a place the flier
        # never reached, put the hit 1 km deeper than the deepest point on a 10 s grid)
        k = min(int(np.searchsorted(t, end_eff)), t.size - 1)
        t_row, lat_row, lon_row = t.copy(), paths.lat[row].copy(), paths.lon[row].copy()
        if k > 0 and t[k] > end_eff:
            frac = (end_eff - t[k - 1]) / (t[k] - t[k - 1])
            lat_row[k] = lat_row[k - 1] + frac * (lat_row[k] - lat_row[k - 1])
            lon_row[k] = lon_row[k - 1] + frac * np.angle(np.exp(1j * (lon_row[k] - lon_row[k - 1])))
            t_row[k] = end_eff
        kill_at = (float(lat_row[k]), float(lon_row[k]))
    if cr is not None and killed:
        cut = paths.flown[row] & (t_row <= end_eff)
        one = borders.crossings(terr, t_row, np.degrees(lat_row)[None], np.degrees(lon_row)[None], cut[None])
        c_row = {k: getattr(one, k)[0] for k in ("entered", "entry_time", "exit_time", "time_inside_s",
                                                   "max_depth_m", "distance_inside_m")}
    elif cr is not None:
        c_row = {k: getattr(cr, k)[row] for k in ("entered", "entry_time", "exit_time", "time_inside_s",
                                                    "max_depth_m", "distance_inside_m")}
    entered = bool(c_row["entered"]) if cr is not None else False
    entry_s = float(c_row["entry_time"]) if entered else np.nan
    exit_s = float(c_row["exit_time"]) if entered else np.nan
    alt_in = (np.nan, np.nan)
    if entered:
        ev(entry_s, "entry", terr.name, f"true position: {terr.name} airspace")
        ev(exit_s, "exit", terr.name)
        alt_in = _heights_inside(terr, paths, row, entry_s, exit_s if np.isfinite(exit_s) else end_eff)
    est_inside = est_depth = np.nan
    est_ci = (np.nan, np.nan, np.nan, np.nan)
    if rp is not None:
        # the policing cell stops at the flier's end (a kill, a failure): what it would have done
        # after is not scored
        rp.warnings = [tw for tw in rp.warnings if tw <= end_eff]
        for k, tw in enumerate(rp.warnings):
            ev(tw, "warning", "air policing", f"warning {k + 1}")
        ev(rp.declared_entry, "declared-entry", "air policing", "the track is inside")
        ev(rp.order, "scramble", "air policing",
           ", ".join(x for x in ("quick-reaction alert up" if rp.airborne else "",
                                 "patrols vectored" if world.policing.patrols else "") if x))
        for b, ta in rp.airborne.items():
            if ta <= end_eff:  # (a base's fighters airborne after the flier's end: not its story)
                ev(ta, "airborne", b)
        ev(rp.in_range, "in-range", rp.vectored, f"closure {rp.closure:,.0f} m/s" if np.isfinite(rp.closure) else "")
        for s in rp.shots:
            d = "" if not np.isfinite(s.range_m) else (
                f"range {s.range_m / 1e3:.1f} km, time of flight {s.tof:.0f} s" if s.met else
                f"range {s.range_m / 1e3:.1f} km: the weapon never caught it (flew out its reach, {s.tof:.0f} s)")
            ev(s.time, "fire", s.fighter, d)
            if s.killed:
                ev(s.hit_time, "kill", s.fighter)
            elif np.isfinite(s.tof):
                ev(s.time + s.tof, "miss", s.fighter)
        if not rp.shots and rp.no_shot:
            ev(max(start, min(end_eff, t[-1])), "no-shot", "air policing", rp.no_shot)
        # the track's figures over the flight only: after the flier's end the track coasts on,
        # but what it showed then is not the crossing being scored
        firm = tr.firm[row] & (t <= end_eff)
        if firm.any() and terr is not None:
            lat, lon, _ = earth.ecef_to_geodetic(np.where(firm[:, None], tr.x[row, :, :3], earth.WGS84_A))
            ecr = borders.crossings(terr, t, np.degrees(lat)[None], np.degrees(lon)[None], firm[None])
            est_inside, est_depth = float(ecr.time_inside_s[0]), float(ecr.max_depth_m[0]) / 1e3
            if entered or np.isfinite(rp.declared_entry):
                ti, md, _ = _track_uncertainty(terr, tr, row, rng, end_eff)
                lo_t, hi_t = np.percentile(ti, [2.5, 97.5])
                lo_d, hi_d = np.percentile(md, [2.5, 97.5]) / 1e3
                est_ci = (float(lo_t), float(hi_t), float(lo_d), float(hi_d))
    hit_depth = np.nan
    if killed and terr is not None and kill_at is not None:
        la, lo = np.degrees(kill_at[0]), np.degrees(kill_at[1])
        dist = float(borders.border_distance(terr, la, lo)) / 1e3
        hit_depth = dist if bool(borders.contains(terr, np.array([la]), np.array([lo]))[0]) else -dist
    if failed:
        ev(end_eff, "failure", f.spec.id, f"came down{' in ' + fail_country if fail_country else ' at sea'}")
    elif not killed:
        ev(end, "end", f.spec.id, "reached its target" if f.spec.kind == "cruise-missile" else "left the scene")
    vals: dict[str, object] = {
        "run": run, "flight": f.name, "type": f.spec.id, "side": f.side, "start_s": start, "end_s": end_eff,
        "failed": failed, "failure_country": fail_country,
        "arrived": (not failed) and (not killed) and f.spec.kind == "cruise-missile",
        "flight_time_s": end_eff - start, "ground_km": float(paths.ground_track_km(row, end_eff)),
        "seen": bool(np.isfinite(first)), "first_detect_s": _or_nan(first), "first_detect_by": by,
        "firm_track_s": _or_nan(firm_t),
        "tracked_share": share, "track_breaks": int(tr.breaks[row]),
        "entered": entered, "entry_s": entry_s, "exit_s": exit_s,
        "time_inside_s": float(c_row["time_inside_s"]) if entered else 0.0,
        "max_depth_km": float(c_row["max_depth_m"]) / 1e3 if entered else 0.0,
        "distance_inside_km": float(c_row["distance_inside_m"]) / 1e3 if entered else 0.0,
        "alt_inside_lo_m": alt_in[0], "alt_inside_hi_m": alt_in[1],
        "declared_entry_s": rp.declared_entry if rp is not None else np.nan,
        "est_time_inside_s": est_inside, "est_time_inside_lo_s": est_ci[0], "est_time_inside_hi_s": est_ci[1],
        "est_max_depth_km": est_depth, "est_max_depth_lo_km": est_ci[2], "est_max_depth_hi_km": est_ci[3],
        "warnings": len(rp.warnings) if rp is not None else 0,
        "warnings_before_entry": (sum(1 for w in rp.warnings if not entered or w < entry_s) if rp is not None else 0),
        "scramble_s": rp.order if rp is not None else np.nan,
        "in_range_s": rp.in_range if rp is not None else np.nan,
        "in_range_by": rp.vectored if rp is not None else "",
        "closure_ms": rp.closure if rp is not None else np.nan,
        "fired": bool(rp is not None and rp.shots),
        "fire_s": rp.shots[0].time if rp is not None and rp.shots else np.nan,
        "shots": len(rp.shots) if rp is not None else 0,
        "killed": killed, "hit_s": hit_t, "hit_depth_km": hit_depth,
        "no_shot": rp.no_shot if rp is not None else "",
    }
    for key, v in vals.items():
        out[key].append(v)


_KIND_ORDER = ("start", "detect", "track", "warning", "scramble", "airborne", "entry", "declared-entry", "in-range",
               "fire", "exit", "kill", "miss", "no-shot", "failure", "end")






def _or_nan(t: float) -> float:
    """A time [s] as the tables hold it: NaN (null in Parquet) for one that never came (inf),
    as every other column has it."""
    return t if np.isfinite(t) else np.nan


def _m(x, lower: float | None = None, upper: float | None = None) -> dict:
    """Mean and 95 % t interval of the finite values of ``x`` (cut at ``lower``, ``upper``)."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return {"mean": None, "ci": None, "n": 0}
    if x.size == 1:
        return {"mean": float(x[0]), "ci": None, "n": 1}
    mean, lo, hi = mean_interval(x, lower=lower, upper=upper)
    return {"mean": mean, "ci": [lo, hi], "n": int(x.size)}


#: How the air picture's means' intervals are made, as its summary and footer name them (its
#: probabilities' are the run summary's, :data:`shieldlab.io.summary.INTERVAL`).
INTERVAL_MEANS_AIR = (
    "Student t on the per-row values (sample standard deviation), 95 %, cut to the range the values can "
    "take (times and distances at 0 where they cannot be negative, shares at 0 and 1); where every row "
    "gave the same share, the exact interval of a bounded mean (a share of rows up to the Clopper-Pearson "
    "bound for 0 of n could differ, each at worst on a bound: 1.00 in 4 of 4 rows, 0.40-1.00); another "
    "mean alike in every row: the point")


def _summary(world, runs: int, seed: int, o: dict, terr) -> dict:
    """Per flight entry: detection, tracking, airspace and policing figures with 95 % intervals
    (``interval``, ``interval_means`` name the two methods)."""
    from shieldlab.io.summary import INTERVAL  # (as shelling's summary names it: the io module, imported late)

    out: dict = {"scenario": world.scenario.name, "runs": runs, "seed": seed,
                 "interval": INTERVAL, "interval_means": INTERVAL_MEANS_AIR,
                 "airspace": None if terr is None else {"country": terr.name, "waters_nmi": terr.waters_nmi},
                 "flights": []}
    groups = list(dict.fromkeys(f.group for f in world.flights))
    flights_of = {g: [f.name for f in world.flights if f.group == g] for g in groups}
    for g in groups:
        sel = np.isin(o["flight"], flights_of[g])
        n = int(sel.sum())
        spec = next(f.spec for f in world.flights if f.group == g)
        row = {"flight": g, "type": spec.id, "kind": spec.kind, "fliers": len(flights_of[g]), "rows": n,
               "seen": probability(int(o["seen"][sel].sum()), n),
               "first_detect_s": _m(o["first_detect_s"][sel]),
               "first_detect_by": _counts(o["first_detect_by"][sel & o["seen"]]),
               "tracked_share": _m(o["tracked_share"][sel], lower=0.0, upper=1.0),
               # a cruise missile's flight: of those that reached their target (a failure cuts it short)
               "flight_time_s": _m(o["flight_time_s"][sel & (o["arrived"] | (spec.kind != "cruise-missile"))],
                                   lower=0.0),
               "ground_km": _m(o["ground_km"][sel & (o["arrived"] | (spec.kind != "cruise-missile"))], lower=0.0)}
        if spec.kind == "cruise-missile":
            per_run = np.array([(o["arrived"][sel & (o["run"] == r)]).sum() for r in range(runs)])
            row["arrived_per_run"] = _m(per_run, lower=0.0, upper=len(flights_of[g]))
            row["arrived_per_run"]["of"] = len(flights_of[g])
            row["failed"] = probability(int(o["failed"][sel].sum()), n)
            where = o["failure_country"][sel & o["failed"]]
            row["failure_countries"] = _counts(np.where(where == "", "sea", where))
        if terr is not None:
            ent = sel & o["entered"]
            row["entered"] = probability(int(ent.sum()), n)
            # times, distances and counts cannot go below 0, whatever the t interval of a few runs says
            row["time_inside_s"] = _m(o["time_inside_s"][ent], lower=0.0)
            row["max_depth_km"] = _m(o["max_depth_km"][ent], lower=0.0)
            row["distance_inside_km"] = _m(o["distance_inside_km"][ent], lower=0.0)
            # the heights the true path flew inside, over every run that entered (claims are judged there)
            row["alt_inside_m"] = ({"lo": float(o["alt_inside_lo_m"][ent].min()),
                                    "hi": float(o["alt_inside_hi_m"][ent].max())} if ent.any() else None)
            row["est_time_inside_s"] = _m(o["est_time_inside_s"][ent], lower=0.0)
            row["est_max_depth_km"] = _m(o["est_max_depth_km"][ent], lower=0.0)
            row["warnings"] = _m(o["warnings"][sel], lower=0.0)
            row["warnings_before_entry"] = _m(o["warnings_before_entry"][ent], lower=0.0)
            row["fired"] = probability(int(o["fired"][sel].sum()), n)
            row["killed"] = probability(int(o["killed"][sel].sum()), n)
            row["hit_depth_km"] = _m(o["hit_depth_km"][sel & o["killed"]])
            # of the runs that entered, those whose crossing a kill inside ended (the time and
            # distance inside are then as far as the kill: claims say so)
            row["killed_inside"] = probability(int((ent & o["killed"] & (o["hit_depth_km"] > 0)).sum()), int(ent.sum()))
            row["in_range_after_entry_s"] = _m((o["in_range_s"] - o["entry_s"])[ent])
            row["no_shot"] = _counts(o["no_shot"][sel & ~o["fired"] & (o["no_shot"] != "")])
        first = next(f for f in world.flights if f.group == g)
        if first.claims:
            row["claims"] = [claims.check(c, spec, row, first.route_alt) for c in first.claims]
        out["flights"].append(row)
    kinds = {f.name: f.spec.kind for f in world.flights}
    cm = np.array([kinds[str(n)] == "cruise-missile" for n in o["flight"]], bool)
    if cm.any():
        shooters = world.policing is not None and bool(policing.fighters(world.policing))
        out["cruise_missiles"] = _missile_totals(o, cm, runs, shooters)
    return out


def _missile_totals(o: dict, cm: np.ndarray, runs: int, shooters: bool = True) -> dict:
    """Every cruise missile of the scenario together: launched, arrived per run, shot down per
    run, and where the failures came down per run (by country, "sea" off the land).
    ``shooters``: whether the scenario has fighters that could shoot one down; without them
    none is, by construction, and the shot down per run is 0 with no interval around it."""
    run = np.asarray(o["run"], np.int64)

    def per_run(mask: np.ndarray) -> np.ndarray:  # the missiles of ``mask`` in each run
        return np.bincount(run[mask], minlength=runs)

    launched = int(cm.sum()) // max(runs, 1)
    failed = cm & o["failed"]
    where = np.where(o["failure_country"] == "", "sea", o["failure_country"]).astype(str)
    by: dict = {}
    for country in sorted(set(where[failed])):
        n = per_run(failed & (where == country))
        hist = np.bincount(n)
        by[country] = {**_m(n, lower=0.0), "runs_with": {str(k): int(v) for k, v in enumerate(hist) if v}}
    return {"launched": launched, "arrived_per_run": _m(per_run(o["arrived"] & cm), lower=0.0, upper=launched),
            "failed_per_run": _m(per_run(failed), lower=0.0, upper=launched),
            # (a missile hit after it failed came down of its failure: counted there, not twice)
            "shot_down_per_run": _m(per_run(o["killed"] & ~o["failed"] & cm), lower=0.0,
                                    upper=launched if shooters else 0.0),
            "failures_per_run_by_country": by}



def _counts(values) -> dict[str, int]:
    keys, counts = np.unique(np.asarray(values, dtype=str), return_counts=True)
    return {str(k): int(c) for k, c in sorted(zip(keys, counts, strict=True), key=lambda kc: -kc[1]) if k != ""}
