"""Can an interceptor, cued by a sensor, catch a given ballistic trajectory?

The threat is steered and flown by the full flyout (rotating WGS84 Earth, J2,
drag).  The interceptor is ready ``cue + reaction_time`` seconds after the
threat's launch (with a sensor cue whose system's satellites alert the battery earlier:
``max(track, alert + reaction_time)``, as fire control in the kill chain) and flies its
fly-out fan (:mod:`shieldlab.engage.fan`).  A point of the threat's
path at time ``t`` can be intercepted if it lies inside the interceptor's
envelope (ground range and altitude) and ``t - t_ready >= T(p(t))``, ``T`` the
fan's earliest arrival time there: the intercept window runs from the first such time to
the last (each stretch's ends refined by :func:`shieldlab.engage.solver.intercept_window`,
the envelope's edges between samples by :func:`_with_edges`; a break in it, the path
passing inside the minimum range, is reported as a gap), each end with its
launch time, closing speed, crossing angle and kill probability.  If there is
none, the burnout speed the interceptor would need is found by bisection.

The cue is either a fixed delay after launch (``cue_delay_s``: detection, track and
decision lumped together) or the sensors of a scenario (:func:`sensor_cue`): each of its
systems' expected confirmation of a track on this trajectory, as the footprint takes it
(:func:`shieldlab.sensors.visibility.expected_confirmation_time`: the system's radars'
single-look Swerling-1 detections, summed, reaching the tracker's ``init_hits``); the
earliest system cues, as if the battery could fire on any system's track.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from shieldlab import earth
from shieldlab.c2.firecontrol import ready_time
from shieldlab.c2.network import earliest_warning, expected_warning, report_links
from shieldlab.catalog.models import MAX_BURNOUT_SPEED_KMS
from shieldlab.engage.fan import build, fan_for, fan_key
from shieldlab.engage.pk import kill_probability
from shieldlab.engage.solver import fan_time, intercept_geometry, intercept_window, interceptor_velocity, refine_edge
from shieldlab.flyout import aim
from shieldlab.flyout.integrate import fly
from shieldlab.flyout.vehicle import vehicle_from_missiles
from shieldlab.sensors import visibility
from shieldlab.sensors.infrared import expected_report_time
from shieldlab.sensors.radar import confirmation_radars
from shieldlab.sensors.signature import Signature

DT = 1.0  # s, sampling of the threat's path
#: The fixed cue where no sensors give one [s after the threat's launch]: detection, track
#: and decision lumped together.
DEFAULT_CUE_DELAY_S = 60.0

#: The early-warning satellite of the default laydown (:func:`own_laydown`): a geostationary
#: one over the launch point's longitude, standing for a constellation that watches every
#: launch area below ~70° latitude (SBIRS GEO, DSP before it).
DEFAULT_SATELLITE = "sbirs-geo"
#: The system (C2 node) of the default laydown.
OWN_SYSTEM = "battery"


@dataclass(frozen=True)
class SensorCue:
    """The cue a scenario's sensors give on one trajectory."""

    system: str | None  # the system whose track is expected first (None: no system's)
    time_s: float  # its expected confirmation, s after the threat's launch (inf: none)
    radars: tuple[str, ...]  # that system's radars
    per_system: dict  # system -> expected confirmation [s after launch] (inf: never)
    per_radar: dict  # radar -> its own expected confirmation, alone [s after launch] (inf: never)
    launch_reports: dict = field(default_factory=dict)  # satellite -> expected launch report [s after launch]
    alert_s: float = np.inf  # the first expected report that alerts that system's batteries [s after launch]
    report_system: dict = field(default_factory=dict)  # satellite -> the system it cues ("every system": integrated)
    passed_s: dict = field(default_factory=dict)  # link -> when it is expected to pass its source's report on [s]

    def ready(self, reaction_time_s: float) -> float:
        """When a battery of the cueing system can launch [s after the threat's launch]: its
        reaction time after the track, or, alerted earlier by a launch report, after the
        alert but not before the track (as fire control in the kill chain)."""
        return float(ready_time(self.time_s, self.alert_s, reaction_time_s))


@dataclass(frozen=True)
class Gap:
    """A break in an intercept window: from ``from_s`` to ``to_s`` [s after the threat's
    launch, to 0.01 s] no point of the path can be intercepted; ``why``: ``minimum-range``
    (the path passes within the interceptor's minimum range of the site) or ``envelope``
    (it leaves the envelope otherwise, or the interceptor cannot get there in time)."""

    from_s: float
    to_s: float
    why: str


@dataclass(frozen=True)
class Reach:
    """Whether an interceptor can catch one trajectory, and when and where.

    ``earliest`` and ``latest`` are the window's ends where ``feasible``, each a dict of
    ``time_s`` and ``launch_time_s`` (s after the threat's launch), ``lat_deg``, ``lon_deg``,
    ``alt_km``, ``ground_range_km`` (from the site), ``closing_speed_kms``,
    ``crossing_angle_deg`` and ``pk``, rounded for reading; ``threat`` its burnout, apogee,
    time of flight and range in the units its keys name."""

    feasible: bool
    t_ready: float  # s after the threat's launch
    # time_s, launch_time_s, lat_deg, lon_deg, alt_km, ground_range_km, closing_speed_kms,
    # crossing_angle_deg, pk (all times after the threat's launch)
    earliest: dict | None
    latest: dict | None
    needed_burnout_speed_kms: float | None  # when not feasible: the least speed that would do
    threat: dict  # burnout, apogee, flight time, range
    cue: SensorCue | None = None  # the sensors' cue, where the cue came from sensors
    #: the earliest and latest intercepts unrounded, where feasible: (time [s after launch],
    #: ECEF point [m]) each; ``earliest`` and ``latest`` are these, rounded for reading
    ends: tuple[tuple[float, np.ndarray], tuple[float, np.ndarray]] | None = field(default=None, repr=False)
    #: what gave the cue (:func:`cue_laydown`): ``own-radar``, ``scenario``, ``fixed`` or
    #: ``fixed-no-radar`` (the default delay, the interceptor having no radar of its own)
    cue_source: str = "fixed"
    #: where it cannot catch it only because the battery is ready too late: the latest it could
    #: be ready and still catch it [s after the threat's launch, to 0.01 s, rounded down]; None otherwise
    latest_ready_s: float | None = None
    #: where the window is broken (the path passing inside the minimum range, or out of the
    #: envelope and back): each stretch between its reachable parts with no intercept, in order
    gaps: tuple[Gap, ...] = ()
    #: where the window is broken: each stretch's ends as ``ends`` gives the window's (unrounded;
    #: the first stretch starts at ``ends[0]``, the last ends at ``ends[1]``); () where unbroken
    stretches: tuple[tuple[tuple[float, np.ndarray], tuple[float, np.ndarray]], ...] = field(default=(), repr=False)

    def __repr__(self) -> str:
        """A line a notebook can show: whether, and why not or when (the window's ends, s after
        the threat's launch), the unrounded ``ends`` and the cue left out."""
        if self.feasible and self.earliest and self.latest:
            at = (f"window {self.earliest['time_s']}-{self.latest['time_s']} s, launch "
                  f"{self.earliest['launch_time_s']}-{self.latest['launch_time_s']} s")
        else:
            need = self.needed_burnout_speed_kms
            at = f"why_not={self.why_not!r}" + (f", needed_burnout_speed_kms={need}" if need else "")
        return f"Reach(feasible={self.feasible}, {at}, t_ready={self.t_ready:g} s, cue_source={self.cue_source!r})"

    @property
    def why_not(self) -> str | None:
        """Why it cannot catch it (None where it can): ``no-track`` (no system is expected to
        hold a track to fire on), ``burnout-speed`` (too slow: ``needed_burnout_speed_kms``
        would do; ready by ``latest_ready_s``, where given, its own speed would do too),
        ``too-late`` (no speed would do as it is ready, but ready by ``latest_ready_s`` it
        could, or it is ready only once the missile has landed) or ``envelope`` (no point of
        the path lies in its envelope at any speed)."""
        if self.cue is not None and self.cue.system is None:
            return "no-track"
        if self.feasible:
            return None
        if self.needed_burnout_speed_kms:
            return "burnout-speed"
        if self.latest_ready_s is not None or self.t_ready >= float(self.threat.get("time_of_flight_s", np.inf)):
            return "too-late"
        return "envelope"


def sensor_cue(world, missile, pos: np.ndarray, vel: np.ndarray, burnout_s: float, dt: float) -> SensorCue:
    """When each of ``world``'s systems is expected to confirm a track on the path ``pos``,
    ``vel`` (J, 3) [ECEF m, m/s] sampled every ``dt`` [s] from the threat's launch, its
    engines burning until ``burnout_s`` after launch, and which comes first (the missile's
    catalogue signature by phase and aspect; the scenario's ``tracking.init_hits``)."""
    init_hits = float(world.scenario.tracking.init_hits)
    path = np.ascontiguousarray(pos, float)[None]
    velocity = np.ascontiguousarray(vel, float)[None]
    sg = Signature.of_missiles([missile])
    sig = np.array([sg.nose[0], sg.broadside[0], sg.booster[0]])

    reports = {sat.name: expected_report_time(sat, path[0], burnout_s, dt) for sat in world.early_warning}

    def cue_of(system: str) -> float:  # the first expected launch report the system holds (its own, or linked)
        return float(expected_warning(world, system, reports))

    def confirmation(radars, system) -> float:
        return float(visibility.expected_confirmation_time(
            path, velocity, np.array([path.shape[1]], np.int64), float(dt), np.array([float(burnout_s)]), sig,
            np.array([cue_of(system)]), init_hits, *confirmation_radars(radars))[0])

    # whose radars each report cues, and which links pass a node's reports on (none lost)
    every = "every system" if len(world.systems) != 1 else world.systems[0]  # integrated: one C2 over all
    report_system = {sat.name: every if world.architecture == "integrated" else sat.system
                     for sat in world.early_warning}
    passed = {}
    for lk in report_links(world):
        sources = [(sat, lk) for sat in world.satellites_cueing(lk.source)]
        if sources:
            passed[lk.name] = float(earliest_warning(sources, reports))
    members = {name: [ps.radar for ps in world.sensors if ps.system == name] for name in world.systems}
    per = {name: confirmation(radars, name) for name, radars in members.items() if radars}
    alone = {ps.radar.name: confirmation([ps.radar], ps.system) for ps in world.sensors}
    first = min(per, key=per.__getitem__, default=None)
    if first is None or not np.isfinite(per[first]):
        return SensorCue(None, np.inf, (), per, alone, reports, report_system=report_system, passed_s=passed)
    alert = cue_of(first) if world.scenario.doctrine.launch_report_alert else np.inf  # (false: cues only)
    return SensorCue(first, per[first], tuple(r.name for r in members[first]), per, alone, reports,
                     alert_s=alert, report_system=report_system, passed_s=passed)


def own_laydown(interceptor, site_lat, site_lon, missile, launch_lat, launch_lon, aim_lat, aim_lon):
    """The default cue's sensors, as a compiled scenario (:class:`shieldlab.scenario.compile.World`):
    the battery's own fire-control radar (the interceptor's catalogue ``radar``) at its site,
    facing the threat's launch point (along the shot from a site within 1 km of it), alerted
    by a :data:`DEFAULT_SATELLITE` over the launch point's longitude; ``None`` when the
    interceptor has no radar of its own in the catalogue.
    Angles in radians; ``missile`` a built-in catalogue entry (the threat the laydown holds, so
    the scenario is whole; :func:`sensor_cue` reads only its sensors)."""
    if interceptor.radar is None:
        return None
    from shieldlab.scenario import compile_world
    from shieldlab.scenario.schema import Scenario

    deg = math.degrees
    # towards the launch point; from (nearly) on it, along the shot
    if earth.great_circle_distance(site_lat, site_lon, launch_lat, launch_lon) > 1e3:
        facing = earth.initial_bearing(site_lat, site_lon, launch_lat, launch_lon)
    else:
        facing = earth.initial_bearing(launch_lat, launch_lon, aim_lat, aim_lon)
    scn = Scenario.model_validate({
        "name": "own-radar", "epoch": "2000-01-01T00:00:00Z",
        "sites": {"battery": {"lat": deg(site_lat), "lon": deg(site_lon)},
                  "launch": {"lat": deg(launch_lat), "lon": deg(launch_lon)},
                  "aim": {"lat": deg(aim_lat), "lon": deg(aim_lon)}},
        "sensors": [{"name": interceptor.radar, "type": interceptor.radar, "site": "battery",
                     "boresight_az_deg": deg(facing) % 360.0, "system": OWN_SYSTEM}],
        "early_warning": [{"name": DEFAULT_SATELLITE, "type": DEFAULT_SATELLITE, "lon_deg": deg(launch_lon),
                           "system": OWN_SYSTEM}],
        "threats": [{"name": "threat", "missile": missile.id, "launch": "launch", "aim": "aim"}]})
    return compile_world(scn, source=f"the default laydown of {interceptor.id}")


def cue_laydown(interceptor, site_lat, site_lon, missile, launch_lat, launch_lon, aim_lat, aim_lon,
                cue_delay_s: float | None = None, sensors=None):
    """What cues the battery, as ``shieldlab reach`` chooses it: the scenario ``sensors``
    where given, else a fixed ``cue_delay_s`` where given, else the battery's own radar
    (:func:`own_laydown`), else the fixed :data:`DEFAULT_CUE_DELAY_S`.  Returns the world whose
    sensors give the cue (None for a fixed delay) and the source's name (:attr:`Reach.cue_source`).
    Angles in radians."""
    if sensors is not None:
        return sensors, "scenario"
    if cue_delay_s is not None:
        return None, "fixed"
    own = own_laydown(interceptor, site_lat, site_lon, missile, launch_lat, launch_lon, aim_lat, aim_lon)
    return (own, "own-radar") if own is not None else (None, "fixed-no-radar")


def _point(t, t_launch, p, v_threat, fan, site_lat, site_lon, spec, latest: bool = False):
    """One end of the window for reading, rounded; ``latest``: the latest end, its launch time
    rounded down (266.675 s printed 266.68 s, which a battery ready then could not meet)."""
    if latest:
        t_launch = math.floor(float(t_launch) * 100.0) / 100.0
    lat, lon, alt = earth.ecef_to_geodetic(p)
    closing, crossing = intercept_geometry(v_threat, interceptor_velocity(fan, site_lat, site_lon, p))
    ground = earth.great_circle_distance(site_lat, site_lon, lat, lon)
    return {"time_s": round(float(t), 2), "launch_time_s": round(float(t_launch), 2),
            "lat_deg": round(float(np.degrees(lat)), 4), "lon_deg": round(float(np.degrees(lon)), 4),
            "alt_km": round(float(alt) / 1e3, 2), "ground_range_km": round(float(ground) / 1e3, 1),
            "closing_speed_kms": round(float(closing) / 1e3, 3),
            "crossing_angle_deg": round(float(np.degrees(crossing)), 1),
            "pk": round(float(kill_probability(spec, closing, crossing)), 3)}


def _feasible(fan, ground, alt, t, t_ready):
    with np.errstate(invalid="ignore"):
        return (t - t_ready) - fan.time_to(ground, alt) >= 0


#: Bisection steps for an envelope edge between two samples (:func:`_with_edges`): a 1 s
#: step to under a microsecond.
EDGE_ITERATIONS = 30


@dataclass(frozen=True)
class _Path:
    """The threat's path as one fan judges it: samples ``t`` (J,) [s after launch], ``pos``,
    ``vel`` (J, 3) [ECEF m, m/s], with the geodetic ``ground`` range from the site and
    ``alt`` (J,) [m] of each."""

    t: np.ndarray
    pos: np.ndarray
    vel: np.ndarray
    ground: np.ndarray
    alt: np.ndarray


def _with_edges(fan, site_lat, site_lon, t, pos, vel) -> _Path:
    """The path's samples with the fan's envelope edges added: where the envelope begins or
    ends between two samples, the point just inside it, bisected on the cubic Hermite path
    between them (as :func:`~shieldlab.engage.solver.intercept_window` refines a window's
    ends).  Feasibility, the latest ready time and the window are then judged on the same
    points: on the samples alone, the latest launch at the window's refined end (a path
    descending through the envelope's floor gains more than a second of slack in a 1 s
    step) could be refused to a battery ready before it.  Angles in radians."""
    time_to = fan_time(fan, site_lat, site_lon)
    with np.errstate(invalid="ignore"):
        inside = np.isfinite(time_to(pos))
    t_new, p_new, v_new = [t], [pos], [vel]
    for entering in (True, False):
        j = np.flatnonzero((inside[:-1] != inside[1:]) & (inside[1:] == entering))
        if j.size:
            # "ready" long before the path: the edge of g >= 0 is the edge of the envelope
            te, pe, ve = refine_edge(t, pos[None], vel[None], time_to, np.array([-1e12]), np.zeros(j.size, int), j,
                                 entering, EDGE_ITERATIONS)
            new = (te > t[j]) & (te < t[j + 1])  # an edge on a sample is that sample
            t_new.append(te[new])
            p_new.append(pe[new])
            v_new.append(ve[new])
    order = np.argsort(np.concatenate(t_new), kind="stable")
    tt, pp, vv = (np.concatenate(a)[order] for a in (t_new, p_new, v_new))
    lat, lon, alt = earth.ecef_to_geodetic(pp)
    return _Path(tt, pp, vv, earth.great_circle_distance(site_lat, site_lon, lat, lon), alt)


def _stretches(good: np.ndarray) -> list[tuple[int, int]]:
    """The runs of True in ``good`` (J,): ``(first, last)`` sample of each, in order."""
    d = np.diff(np.concatenate([[False], good, [False]]).astype(np.int8))
    return list(zip(np.flatnonzero(d == 1).tolist(), (np.flatnonzero(d == -1) - 1).tolist()))


def analyse(interceptor, site_lat, site_lon, missile, launch_lat, launch_lon, aim_lat, aim_lon,
            cue_delay_s: float = DEFAULT_CUE_DELAY_S, profile: str = "min-energy", burnout_speed=None,
            sensors=None) -> Reach:
    """All angles in radians; ``burnout_speed`` [m/s] overrides the catalogue's; ``sensors``
    (a compiled scenario, :class:`shieldlab.scenario.compile.World`) replaces the fixed
    ``cue_delay_s`` by its sensors' cue (:func:`sensor_cue`)."""
    st = aim.solve([missile], launch_lat, launch_lon, 0.0, aim_lat, aim_lon, profile)
    T = int(6000 / DT)
    tr = fly(vehicle_from_missiles([missile]), earth.geodetic_to_ecef(launch_lat, launch_lon, 0.0)[None],
             np.zeros(1), st.kick, st.azimuth, st.cutoff, t0=0.0, dt=DT, T=T, upper_thrust=st.upper_thrust,
             dive_time=st.dive_time)
    n = int(min(T, np.ceil(tr.impact_time[0] / DT)))
    t, pos, vel = tr.t[:n], tr.pos[0, :n], tr.vel[0, :n]
    sp = interceptor
    v = float(burnout_speed or 1e3 * sp.burnout_speed_kms)
    cue = None if sensors is None else sensor_cue(sensors, missile, pos, vel, float(tr.burnout_time[0]), DT)
    t_ready = cue_delay_s + sp.reaction_time_s if cue is None else cue.ready(sp.reaction_time_s)
    ilat, ilon, _ = earth.ecef_to_geodetic(tr.impact_pos[0])
    threat = {"burnout_time_s": round(float(tr.burnout_time[0]), 2),
              "burnout_speed_kms": round(float(tr.burnout_speed[0]) / 1e3, 4),
              "apogee_km": round(float(tr.apogee_alt[0]) / 1e3, 1),
              "time_of_flight_s": round(float(tr.impact_time[0]), 1),
              "ground_range_km": round(float(earth.great_circle_distance(launch_lat, launch_lon, ilat, ilon)) / 1e3, 1)}
    if not np.isfinite(t_ready):  # no track, no shot: no burnout speed would help
        return Reach(False, t_ready, None, None, None, threat, cue)
    fan = fan_for(sp, v)
    path = _with_edges(fan, site_lat, site_lon, t, pos, vel)
    good = _feasible(fan, path.ground, path.alt, path.t, t_ready)
    if not good.any():
        latest_ready = None
        if _feasible(fan, path.ground, path.alt, path.t, 0.0).any():  # ready at launch it could: the cue is late
            lo_r, hi_r = 0.0, float(t_ready)
            # the latest ready time that still leaves a window, to 0.01 s as the window's times
            # (to 0.1 s it named 275.3 s where 275.41 s was accepted, and its launch printed)
            while hi_r - lo_r > 0.002:
                mid = 0.5 * (lo_r + hi_r)
                lo_r, hi_r = (mid, hi_r) if _feasible(fan, path.ground, path.alt, path.t, mid).any() else (lo_r, mid)
            latest_ready = math.floor(lo_r * 100.0) / 100.0
        def enough(speed):  # uncached fans: the bisection would flush the cache
            f = build(fan_key(sp, speed))
            q = _with_edges(f, site_lat, site_lon, t, pos, vel)
            return _feasible(f, q.ground, q.alt, q.t, t_ready).any()

        lo, hi = v, 1e3 * MAX_BURNOUT_SPEED_KMS
        if not enough(hi):
            need = None  # the envelope itself never meets the trajectory
        else:
            while hi - lo > 1.0:  # to 1 m/s
                mid = 0.5 * (lo + hi)
                lo, hi = (lo, mid) if enough(mid) else (mid, hi)
            need = math.ceil(hi) / 1e3  # rounded up: the speed named must be enough
        return Reach(False, t_ready, None, None, need, threat, cue, latest_ready_s=latest_ready)
    # each stretch of reachable points on its own (allowed from the sample before it, so that
    # its start is refined): the window runs from the first's start to the last's end, and
    # between stretches (the path passing inside the minimum range, or above the ceiling) no
    # intercept is possible
    time_to = fan_time(fan, site_lat, site_lon)
    spans = []  # per stretch: its first and last point, each (time, launch time, point, velocity)
    for a, b in _stretches(good):
        ok = np.zeros(path.t.size, bool)
        ok[max(a - 1, 0):b + 2] = True
        w = intercept_window(path.t, path.pos[None], path.vel[None], time_to, np.array([t_ready]), ok=ok[None])
        spans.append([(w[f"t_{e}"][0], w[f"launch_{e}"][0], w[f"p_{e}"][0], w[f"v_{e}"][0]) for e in ("first", "last")])
    start, end = spans[0][0], spans[-1][1]
    gaps = []
    for x, y in zip(spans, spans[1:]):
        inner = (path.t > x[1][0]) & (path.t < y[0][0])
        close = bool((path.ground[inner] < 1e3 * sp.min_range_km).any())
        gaps.append(Gap(round(float(x[1][0]), 2), round(float(y[0][0]), 2), "minimum-range" if close else "envelope"))
    pieces = tuple(((float(a[0]), np.asarray(a[2], float)), (float(b[0]), np.asarray(b[2], float))) for a, b in spans)
    ends = (pieces[0][0], pieces[-1][1])
    return Reach(True, t_ready, _point(*start, fan, site_lat, site_lon, sp),
                 _point(*end, fan, site_lat, site_lon, sp, latest=True), None, threat, cue, ends, gaps=tuple(gaps),
                 stretches=pieces if len(pieces) > 1 else ())
