"""The time-stepped kill chain over a chunk of Monte Carlo runs.

Sequences the stages and owns no physics:

    flyout (once per threat) -> sensors -> tracking (per system) -> engage -> outcome

Each chunk of runs gets its own ``numpy.random.SeedSequence`` child, and inside
it each sensor and the kill draws get their own stream, so a run's numbers do
not depend on how many chunks or workers there are.

Timing hook: :func:`run_chunk` (and :func:`shieldlab.engine.montecarlo.simulate`) take an
optional ``timings`` dict to which each stage adds its wall-clock seconds
(``time.perf_counter``) under the keys of :data:`STAGES`; it changes nothing else, so a
timed run's numbers are those of an untimed one (``bench/montecarlo.py`` relies on it).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np

from shieldlab.engage.planner import engage
from shieldlab.errors import InputError
from shieldlab.engage.records import Engagements
from shieldlab.flyout import aim
from shieldlab.flyout.integrate import fly
from shieldlab.flyout.records import Trajectories
from shieldlab.flyout import dispersion
from shieldlab.flyout.vehicle import Vehicle, vehicle_from_missiles
from shieldlab.outcome import Outcomes, score
from shieldlab.sensors.radar import observe
from shieldlab.sensors.records import Detections
from shieldlab.tracking.records import Tracks
from shieldlab.tracking.tracker import track

#: Runs per chunk: fixed, so that seeds and results do not depend on parallelism.
CHUNK = 64
_LANDING_MARGIN_S = 30.0
_DISPERSED_MARGIN_S = 180.0  # dispersed flights may land later than the nominal one

#: Keys of the ``timings`` hook [s]: nominal flyout and steering (once per scenario, in
#: ``simulate``), the per-chunk dispersed flights, sensors, tracking (system and own-radar
#: tracks), fire control with kill assessment (and the kill draws), outcome scoring, and
#: the result tables (``simulate``).
STAGES = ("flyout_and_steering_s", "dispersed_flyout_s", "sensors_s", "tracking_s", "engage_s", "outcome_s",
          "tables_s")


@contextmanager
def timed(timings: dict | None, key: str):
    """Add the wall-clock seconds of the ``with`` block to ``timings[key]`` (no-op for ``None``)."""
    if timings is None:
        yield
        return
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[key] = timings.get(key, 0.0) + time.perf_counter() - t0


@dataclass(frozen=True)
class Flights:
    """The threats' nominal flights and what is needed to fly dispersed copies."""

    steering: aim.Steering
    truth: Trajectories  # batch (N,), nominal
    vehicle: Vehicle  # batch (N,), nominal
    dispersed: np.ndarray  # (N,) bool: threats whose flights vary from run to run


def fly_threats(world, t_max: float = 6000.0) -> Flights:
    """Solve the steering of every threat and fly it on the scenario's time grid."""
    th = world.threats
    try:
        steer = aim.solve([t.missile for t in th], [t.launch.lat for t in th], [t.launch.lon for t in th],
                          [t.launch.alt for t in th], [t.aim.lat for t in th], [t.aim.lon for t in th],
                          [t.profile for t in th], dt=world.dt,
                          apogee=[np.nan if t.apogee is None else t.apogee for t in th],
                          flight_time=[np.nan if t.flight_time is None else t.flight_time for t in th])
    except aim.AimError as e:
        t = th[e.index]
        what = "aim"
        if isinstance(e, aim.ShapeError):
            what = "apogee_km" if t.apogee is not None else "flight_time_s"
        raise InputError(str(e), source=world.source, field=f"threats[{t.entry}].{what}") from None
    launch_t = np.array([t.launch_time for t in th])
    dt = world.dt
    if world.duration is not None:
        T = int(round(world.duration / dt)) + 1
    else:
        T = int(np.ceil((launch_t.max() + t_max) / dt)) + 1
    veh = vehicle_from_missiles([t.missile for t in th])
    traj = fly(veh, np.array([t.launch.ecef for t in th]), launch_t, steer.kick, steer.azimuth, steer.cutoff,
               t0=0.0, dt=dt, T=T)
    dispersed = np.array([not t.dispersion.is_zero for t in th])
    if world.duration is None:  # keep the grid until shortly after the last impact
        last = np.nanmax(np.where(np.isfinite(traj.impact_time), traj.impact_time, np.nan))
        margin = _DISPERSED_MARGIN_S if dispersed.any() else _LANDING_MARGIN_S
        T2 = min(T, int(np.ceil((last + margin) / dt)) + 1)
        traj = replace(traj, t=traj.t[:T2], pos=traj.pos[:, :T2], vel=traj.vel[:, :T2], phase=traj.phase[:, :T2])
    return Flights(steer, traj, veh, dispersed)


def _dispersed_truth(world, flights: Flights, C: int, rng: np.random.Generator) -> Trajectories:
    """(C, N) flights with per-run dispersions drawn from ``rng`` (nominal where a threat has none)."""
    th = world.threats
    N = len(th)
    sig = {f: np.array([getattr(t.dispersion, f) for t in th]) for f in dispersion.Dispersion.__dataclass_fields__}
    d = dispersion.draw(dispersion.Dispersion(**sig), (C, N), rng)
    idx = np.tile(np.arange(N), C)
    veh = flights.vehicle.take(idx).scaled(thrust=d.thrust.reshape(-1), isp=d.isp.reshape(-1),
                                           burn=d.burn_time.reshape(-1), drag=d.drag.reshape(-1))
    tr, st = flights.truth, flights.steering
    launch_pos = np.array([t.launch.ecef for t in th])
    return fly(veh, launch_pos, tr.launch_time, st.kick, st.azimuth[None] + d.azimuth, st.cutoff,
               t0=float(tr.t[0]), dt=tr.dt, T=tr.t.size, batch_shape=(C, N))


def _broadcast(traj: Trajectories, C: int) -> Trajectories:
    def b(a):
        return np.broadcast_to(a, (C,) + a.shape)

    return Trajectories(t=traj.t, **{f: b(getattr(traj, f)) for f in traj.__dataclass_fields__ if f != "t"})


@dataclass(frozen=True)
class ChunkResult:
    first_run: int
    truth: Trajectories  # (C, N, ...)
    detections: tuple[Detections, ...]
    tracks: dict[str, Tracks]
    engagements: Engagements
    outcomes: Outcomes
    own_tracks: dict[str, Tracks] = field(default_factory=dict)  # sensor name -> track from it alone


def run_chunk(world, flights: Flights, first_run: int, C: int, seed: np.random.SeedSequence,
              timings: dict | None = None) -> ChunkResult:
    """Runs ``first_run .. first_run + C - 1`` of the kill chain; ``timings``: see :data:`STAGES`."""
    # one stream per sensor, then the kill draws, then the flight dispersions
    streams = seed.spawn(len(world.sensors) + 2)
    if flights.dispersed.any():
        with timed(timings, "dispersed_flyout_s"):
            truth = _dispersed_truth(world, flights, C, np.random.default_rng(streams[-1]))
    else:
        truth = _broadcast(flights.truth, C)
    rcs = np.array([t.missile.rcs_m2 for t in world.threats])
    with timed(timings, "sensors_s"):
        dets = tuple(observe(s.radar, truth, rcs, np.random.default_rng(streams[i]))
                     for i, s in enumerate(world.sensors))
    doc = world.scenario.doctrine
    tracks = {}
    own_tracks = {}
    with timed(timings, "tracking_s"):
        for system in world.systems:
            mine = [d for d, s in zip(dets, world.sensors) if s.system == system]
            tracks[system] = track(mine, system, init_hits=world.scenario.tracking.init_hits)
        # the own-radar tracks that batteries launching on, or guided by, their own radar need
        for name in sorted({b.radar for b in world.batteries if b.cue != "engage-on-remote"}):
            i = next(i for i, s in enumerate(world.sensors) if s.radar.name == name)
            own_tracks[name] = track([dets[i]], name, init_hits=world.scenario.tracking.init_hits)
    with timed(timings, "engage_s"):
        max_eng = doc.max_engagements if doc.shoot_look_shoot else 1
        salvo = max([doc.salvo] + [b.salvo for b in world.batteries])
        u = np.random.default_rng(streams[len(world.sensors)]).random((C, len(world.threats), max_eng, salvo))
        eng = engage(world, tracks, truth, u, own_tracks)
    with timed(timings, "outcome_s"):
        outcomes = score(world, truth, eng)
    return ChunkResult(first_run, truth, dets, tracks, eng, outcomes, own_tracks)
