"""The time-stepped kill chain over a chunk of Monte Carlo runs.

Sequences the stages and owns no physics:

    flyout (once per threat) -> sensors -> tracking (per node) -> fire control <-> engage -> outcome

(fire control and kill assessment run as a closed loop: :mod:`shieldlab.engine.fight`).

Each run ``k`` gets its own ``numpy.random.SeedSequence`` child (spawn key ``(k,)``
of the run's seed), and inside it each sensor, the kill draws and the flight
dispersions get their own stream; every random number of run ``k`` comes from
those streams alone, so a run's numbers do not depend on how many runs there are,
how they are cut into chunks, or how many workers run them.

Timing hook: :func:`run_chunk` (and :func:`shieldlab.engine.montecarlo.simulate`) take an
optional ``timings`` dict to which each stage adds its wall-clock seconds
(``time.perf_counter``) under the keys of :data:`STAGES`; it changes nothing else, so a
timed run's numbers are those of an untimed one (``bench/montecarlo.py`` relies on it).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from shieldlab.c2.alerts import correlate, held_reports
from shieldlab.c2.doctrine import compile_doctrine
from shieldlab.c2.firecontrol import track_keys
from shieldlab.c2.network import (
    INTEGRATED,
    StatusLinks,
    Warnings,
    n_fire_controls,
    node_pictures,
    one_picture,
    shares_tracks,
    warning_sources,
    warning_times,
)
from shieldlab.c2.records import REASONS, Decisions
from shieldlab.engage.records import Engagements
from shieldlab.engine.fight import fight, kill_draws
from shieldlab.errors import InputError
from shieldlab.flyout import aim, dispersion
from shieldlab.flyout.integrate import fly
from shieldlab.flyout.records import Trajectories
from shieldlab.flyout.vehicle import Vehicle, vehicle_from_missiles
from shieldlab.outcome import Outcomes, score
from shieldlab.scenario.schema import MAX_ENGAGEMENTS, MAX_SALVO
from shieldlab.sensors.infrared import LaunchReports, observe_launches
from shieldlab.sensors.radar import observe, scan_times
from shieldlab.sensors.records import Detections
from shieldlab.sensors.signature import Signature
from shieldlab.tracking.records import Tracks
from shieldlab.tracking.tracker import track

#: Most runs in a chunk.  A run draws only from its own streams, so its results do not
#: depend on how many runs share its chunk: the size is chosen for memory and speed alone
#: (:func:`chunk_runs`).
CHUNK = 64
#: Fewest (run, threat) pairs in a chunk, where memory would allow fewer: fire control
#: steps every threat of every run of a chunk together, and with fewer its per-step Python
#: costs dominate (epaa-phase-1, 6 threats: 1.9 s for 128 runs at 16 runs a chunk, 3.2 s
#: at 4).  A raid of 96 threats or more may run one run a chunk.
MIN_CHUNK_ROWS = 96
#: The working memory a chunk aims for [bytes]: flights, reports, tracks and track files of
#: its runs (:func:`chunk_bytes`).  128 MiB (42 runs of epaa-phase-1 a chunk) rather than 64
#: (21): the chain 1.16x as fast, fire control's per-tick cost shared by twice the runs, for
#: a 10,000-run peak ~20 MB higher (BENCHMARKS.md, 2026-12-07, eighth session).
CHUNK_BYTES = 128 * 2**20
#: The most a chunk may take to hold :data:`MIN_CHUNK_ROWS` pairs where :data:`CHUNK_BYTES`
#: would hold fewer [bytes]: a heavy run (a day-long grid, a thousand false alarms a frame)
#: runs alone rather than past it.
CHUNK_FLOOR_BYTES = 256 * 2**20
_LANDING_MARGIN_S = 30.0
_DISPERSED_MARGIN_S = 180.0  # dispersed flights may land later than the nominal one

#: Keys of the ``timings`` hook [s]: nominal flyout and steering (once per scenario, in
#: ``simulate``), the per-chunk dispersed flights, sensors, tracking (system and own-radar
#: tracks), the links and the nodes' fused pictures (architectures that share tracks),
#: fire control with kill assessment (and the kill draws), outcome scoring, and the result
#: tables (``simulate``).
STAGES = ("flyout_and_steering_s", "dispersed_flyout_s", "sensors_s", "tracking_s", "links_s", "engage_s",
          "outcome_s", "tables_s")


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
        elif isinstance(e, aim.UnreachableError) and e.max_range_m < aim.GROUNDED_M:
            what = "missile"  # (not the aim: the missile named does not fly)
        raise InputError(str(e), source=world.source, field=f"threats[{t.entry}].{what}") from None
    launch_t = np.array([t.launch_time for t in th])
    dt = world.dt
    T = _grid_size(world, t_max)
    _check_memory(_grid_bytes(world, T), "the threats' nominal flights", source=world.source)
    veh = vehicle_from_missiles([t.missile for t in th])
    traj = fly(veh, np.array([t.launch.ecef for t in th]), launch_t, steer.kick, steer.azimuth, steer.cutoff,
               t0=0.0, dt=dt, T=T, upper_thrust=steer.upper_thrust,
               dive_time=steer.dive_time)
    dispersed = np.array([not t.dispersion.is_zero for t in th])
    # a given duration must hold every threat's flight and the margin the default keeps after
    # the last impact (a dispersed flight lands later than its nominal one: one that outlives
    # the simulated time is neither intercepted nor a leaker, and the leakers are undercounted)
    margin = np.where(dispersed, _DISPERSED_MARGIN_S, _LANDING_MARGIN_S)
    # (against the duration given, not the grid's last sample, which may fall short of it by
    # a step: the time asked for below must pass)
    short = ~(traj.impact_time + margin <= (traj.t[-1] if world.duration is None else world.duration))
    if world.duration is not None and short.any():
        late = np.flatnonzero(short)
        lands = fly(veh.take(late), np.array([th[n].launch.ecef for n in late]), launch_t[late], steer.kick[late],
                    steer.azimuth[late], steer.cutoff[late], t0=0.0, dt=dt, upper_thrust=steer.upper_thrust[late],
                    dive_time=steer.dive_time[late],
                    T=_grid_size(replace(world, duration=None), t_max)).impact_time
        if not np.isfinite(lands).all():
            n = int(late[np.flatnonzero(~np.isfinite(lands))[0]])
            raise InputError(f"threat {th[n].name!r} does not land within the simulated time", source=world.source,
                             field="duration_s")
        need = lands + margin[late]
        n = int(late[np.argmax(need)])
        raise InputError(f"the simulated time ends too soon: {th[n].name!r} lands {lands[np.argmax(need)]:.0f} s "
                         "after the epoch, and the simulation runs on "
                         + (f"{margin[n]:.0f} s after it for its dispersed flights, which land later"
                            if dispersed[n] else f"{margin[n]:.0f} s after a landing")
                         + f": make duration_s at least {np.ceil(need.max()):.0f} or leave it out (until the last "
                         "threat lands)", source=world.source, field="duration_s")
    if world.duration is None:  # keep the grid until shortly after the last impact
        last = np.nanmax(np.where(np.isfinite(traj.impact_time), traj.impact_time, np.nan))
        T2 = min(T, int(np.ceil((last + float(margin.max())) / dt)) + 1)
        traj = replace(traj, t=traj.t[:T2], pos=traj.pos[:, :T2], vel=traj.vel[:, :T2], phase=traj.phase[:, :T2])
    return Flights(steer, traj, veh, dispersed)


def _grid_size(world, t_max: float = 6000.0) -> int:
    """Samples of the scenario's time grid before it is cut after the last impact."""
    if world.duration is not None:
        return int(round(world.duration / world.dt)) + 1
    return int(np.ceil((max(t.launch_time for t in world.threats) + t_max) / world.dt)) + 1


def _grid_bytes(world, T: int, runs: int = 1) -> int:
    """Bytes of ``runs`` copies of the threats' flights on a T-sample grid (position, velocity, phase)."""
    return runs * len(world.threats) * T * (6 * 8 + 1)


#: Resident memory of a process before its first chunk [bytes]: the interpreter with NumPy,
#: SciPy and Numba (~150 MB) and the compiled kernels loaded from Numba's cache (~55 MB);
#: measured on Linux x86-64 (Python 3.11).
PROCESS_BYTES = 200 * 2**20


def _samples(world, flights: Flights | None) -> int:
    """Samples of the grid a simulation runs on: the nominal flights' (cut after the last
    impact), or the longest the scenario allows before they are flown."""
    return flights.truth.t.size if flights is not None else _grid_size(world)


#: Bytes a report slot takes in a scan of reports without labels (range, azimuth, elevation,
#: validity, noise factor, truth id, discrimination call).
REPORT_SLOT_BYTES = 38
#: Bytes a multi-target track slot takes at each update time of its picture, over a chunk's
#: tracking, association and scoring (the track file: state, quality, number, status, hits,
#: lineage; the scan's working arrays and the scoring's temporaries beside them).
#: Calibrated, not derived: the peak of ``shieldlab tracks epaa-phase-1 --false-alarms F`` at
#: 1 and 3 runs, per run, over the slots and updates below (F = 100: 142 B; F = 300: 222 B).
TRACK_SLOT_BYTES = 250


def unlabelled_setting(world, false_alarms=None):
    """The false-alarm setting (``sensing.false_alarms``' values) a tracker on reports without
    labels works under: ``false_alarms`` where given (the tracks command's), else the
    scenario's where its association is gnn; None where the tracks are made from labelled
    reports (no false alarms, no multi-target tracker)."""
    if false_alarms is not None:
        return false_alarms
    return world.scenario.sensing.false_alarms if world.scenario.tracking.association == "gnn" else None


def _unlabelled_bytes(world, C: int, K: dict[str, int], updates, false_alarms) -> tuple[int, int]:
    """(reports, tracks) [bytes] of C runs of a multi-target tracker on reports without labels:
    each scan's report slots (the threats and their boosters, the false alarms: mean plus
    five standard deviations of the Poisson count), and each picture's track slots for the
    false alarms' tentative tracks while they can still be confirmed (``confirm_looks``
    looks; half again for the slots' growth) at each update time."""
    import math

    from shieldlab.sensors.scans import radar_false_alarm_rate, search_every

    N = len(world.threats)
    lam = {s.radar.name: radar_false_alarm_rate(s.radar, false_alarms) / search_every(s.radar.spec)
           for s in world.sensors}
    reports = sum(C * K[r] * (2 * N + lam[r] + 5.0 * math.sqrt(lam[r]) + 1) * REPORT_SLOT_BYTES for r in lam)
    looks = world.scenario.tracking.confirm_looks
    tracks = 0.0
    for sys_ in world.systems:
        mine = [s for s in world.sensors if s.system == sys_]
        # (the objects' own slots are the doubled one-per-threat tracks of chunk_bytes)
        slots = 1.5 * sum(lam[s.radar.name] for s in mine) * looks
        tracks += C * slots * updates([s.radar.spec.scan_period_s for s in mine]) * TRACK_SLOT_BYTES
    return int(reports), int(tracks)


def chunk_bytes(world, C: int, T: int, false_alarms=None) -> int:
    """Working memory [bytes] of one chunk of ``C`` runs on a ``T``-sample grid: its flights,
    reports, interpolation temporaries and tracks (state and covariance at every report
    time), and where the tracks are made from reports without labels
    (:func:`unlabelled_setting`; ``false_alarms`` overrides the scenario's), the false alarms'
    reports and tentative tracks; linear in ``C``."""
    N = len(world.threats)
    span = T * world.dt
    flights_b = _grid_bytes(world, T, C)
    K = {s.radar.name: int(span / s.radar.spec.scan_period_s) + 1 for s in world.sensors}
    reports = sum(C * N * k * (7 * 8 + 9) for k in K.values())  # z, truth, snr, noise factor; detected
    # satellites: per frame the truth's position and the measured line of sight, a draw, a flag
    frames = [int(span / float(sat.spec.frame_s)) + 1 for sat in world.early_warning]
    reports += sum(C * N * k * (9 * 8 + 1) for k in frames)
    # the truth at the scan times: positions and (spent boosters) velocities; the compiled
    # interpolation makes no temporaries beside them
    interp = max(K.values(), default=0) * C * N * 3 * 8 * 2

    def updates(periods) -> int:  # a tracker's update times: the union of its radars' scan times
        times = [scan_times(np.array([0.0, span]), p) for p in periods]
        return int(np.unique(np.concatenate(times)).size) if times else 0

    tracked = [updates([s.radar.spec.scan_period_s for s in world.sensors if s.system == sys_])
               for sys_ in world.systems]
    tracked += [K[b.radar] for b in world.batteries if b.cue != "engage-on-remote" and b.radar in K]
    tracks = sum(C * N * k * (42 * 8 + 5) for k in tracked)
    unl = unlabelled_setting(world, false_alarms)
    if unl is not None:
        # a column per track judged a warhead (warheads, some boosters, the breaks) beside the
        # track file: about twice the one-per-threat tracks (epaa-phase-1); and the
        # multi-target tracker's reports and track slots, false alarms and all
        tracks *= 2
        more_reports, mtt = _unlabelled_bytes(world, C, K, updates, unl)
        reports += more_reports
        tracks += mtt
    return int(flights_b + reports + interp + tracks)


def chunk_runs(world, flights: Flights | None = None, false_alarms=None) -> int:
    """Runs in each chunk of a simulation of ``world``: as many as fit in :data:`CHUNK_BYTES`
    (:func:`chunk_bytes`), at most :data:`CHUNK`, and at least enough for
    :data:`MIN_CHUNK_ROWS` (run, threat) pairs unless that would take more than
    :data:`CHUNK_FLOOR_BYTES` on the flown grid; so a raid of many threats, or a long one, runs in
    smaller chunks and its memory stays near the same.  ``flights``: the nominal flights, whose
    grid sets the samples (the longest grid the scenario allows if None); ``false_alarms``: as
    :func:`chunk_bytes`."""
    T = _samples(world, flights)
    per_run = max(chunk_bytes(world, 1, T, false_alarms), 1)
    fewest = min(CHUNK, -(-MIN_CHUNK_ROWS // max(len(world.threats), 1)))
    # the floor serves speed, not at any price: a threat launched a day after the epoch flies
    # on a day-long grid (~60 MB a run), where 64 runs a chunk took 3.8 GB.  Only on the flown
    # grid: before the flights, the longest grid the scenario allows overstates a run's bytes
    if flights is not None:
        fewest = max(1, min(fewest, CHUNK_FLOOR_BYTES // per_run))
    return int(np.clip(CHUNK_BYTES // per_run, fewest, CHUNK))


def estimate_memory_bytes(world, runs: int, flights: Flights | None = None, stored: bool = False,
                          false_alarms=None) -> int:
    """Peak memory [bytes] a :func:`~shieldlab.engine.montecarlo.simulate` of ``runs`` runs will
    need, to within a factor of about two: the process itself (:data:`PROCESS_BYTES`), the
    nominal flights, one chunk (:func:`chunk_bytes`, of :func:`chunk_runs` runs), and the
    result tables of all runs (~4 kB per run and threat: outcomes and the event log); or,
    ``stored`` (the chunks' tables go to a store as they finish: ``run --out``, sweeps), the
    few numbers per run and threat the summary keeps (:class:`shieldlab.io.summary.Summariser`).
    ``false_alarms``: as :func:`chunk_bytes`."""
    T = _samples(world, flights)
    C = min(runs, chunk_runs(world, flights, false_alarms))
    N = len(world.threats)
    tables = runs * (N * 16 + 4 * 8 + len(world.systems) * 12 * 8) if stored else runs * N * 4096
    return int(PROCESS_BYTES + _grid_bytes(world, T) + chunk_bytes(world, C, T, false_alarms) + tables)


def available_memory_bytes() -> int | None:
    """Memory the system can still give [bytes] (``MemAvailable`` in /proc/meminfo), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _short_of_memory(need: int) -> int | None:
    """The memory available [bytes] where ``need`` [bytes] takes more than 80 % of it; None
    where it fits (or the memory available is unknown)."""
    avail = available_memory_bytes()
    return avail if avail is not None and need > 0.8 * avail else None


def _check_memory(need: int, what: str, field: str = "duration_s", source: str | None = None,
                  hint: str | None = None, advice: str | None = None) -> None:
    """Raise :class:`~shieldlab.errors.InputError` naming ``field`` where ``need`` [bytes] takes
    more than 80 % of the memory available; ``advice`` replaces the default one (shorten the
    scenario, or fewer runs), ``hint`` is added to it."""
    avail = _short_of_memory(need)
    if avail is not None:
        advice = advice or ("shorten the scenario (duration_s, launch times), lengthen time_step_s or ask for "
                            "fewer runs")
        raise InputError(f"{what} would need about {need / 2**30:.1f} GiB of memory, more than the "
                         f"{avail / 2**30:.1f} GiB available: {advice}" + (f", {hint}" if hint else ""),
                         source=source, field=field)


def _check_false_alarm_rates(world, false_alarms=None) -> None:
    """Raise :class:`~shieldlab.errors.InputError` where a radar's false alarms per search frame
    under the tracker's setting (:func:`unlabelled_setting`) exceed what a scenario may ask
    for as a number (:data:`shieldlab.scenario.schema.MAX_FALSE_ALARMS`): ``raw`` with a
    catalogue ``pfa`` far above a real radar's makes millions a frame."""
    from shieldlab.scenario.schema import MAX_FALSE_ALARMS
    from shieldlab.sensors.scans import radar_false_alarm_rate

    unl = unlabelled_setting(world, false_alarms)
    if unl is None or not isinstance(unl, str):
        return
    for s in world.sensors:
        spec = s.radar.spec
        rate = radar_false_alarm_rate(s.radar, unl)
        if rate > MAX_FALSE_ALARMS:
            form = "cells x Pfa" if unl == "raw" else "cells x Pfa^2"
            raise InputError(f"{unl} false alarms of radar {s.radar.name} would be {rate:.4g} per search frame "
                             f"({form}, its catalogue pfa {spec.pfa:g} over {spec.id}'s resolution cells), more "
                             f"than the {MAX_FALSE_ALARMS:g} the tracker takes: lower the pfa, use confirmed, or "
                             f"give a mean number per frame", source=world.source,
                             field="--false-alarms" if false_alarms is not None else "sensing.false_alarms")


def require_threats(world, elsewhere: str = "`shieldlab run`") -> None:
    """Raise :class:`~shieldlab.errors.InputError` (field ``threats``) where ``world`` has no
    ballistic threat for the kill chain to run on; ``elsewhere``: what runs a scenario of
    other pictures, in the caller's words (the command line's, or the API's)."""
    if not world.threats:
        raise InputError("the scenario has no ballistic threats: this runs their kill chain (a scenario of "
                         f"aircraft, cruise missiles or shelling runs with {elsewhere})", source=world.source,
                         field="threats")


def preflight(world, runs: int, stored: bool = False, false_alarms=None, can_store: bool = True,
              flights: Flights | None = None) -> Flights:
    """Every check a simulation of ``runs`` runs would hit, before it starts: steering of every
    threat to its aim point, a simulated time long enough for the flights, and the memory
    the run needs (``stored``: its tables go to a chunk store, see
    :func:`estimate_memory_bytes`; ``false_alarms``: the tracks command's setting, see
    :func:`chunk_bytes`; ``can_store`` False: the command has no chunk store to offer, as
    ``tracks`` and ``compare``); raises :class:`~shieldlab.errors.InputError` naming the field.
    ``flights``: the nominal flights already flown for a world of the same threats and time
    (the same scenario under another C2 architecture): not steered and flown again.
    Returns the nominal flights, for :func:`~shieldlab.engine.montecarlo.simulate`."""
    if runs < 1:
        raise InputError(f"must be at least 1, not {runs}", field="--runs")
    require_threats(world)
    _check_false_alarm_rates(world, false_alarms)
    if flights is None:
        flights = fly_threats(world)
    need = estimate_memory_bytes(world, runs, flights, stored, false_alarms)
    hint = None
    short = _short_of_memory(need) is not None
    if short and unlabelled_setting(world, false_alarms) not in (None, 0.0) \
            and _short_of_memory(estimate_memory_bytes(world, runs, flights, stored, 0.0)) is None:
        # without them it would fit: the false alarms' reports and tentative tracks are the cause
        _check_memory(need, f"{runs} runs", source=world.source,
                      field="--false-alarms" if false_alarms is not None else "sensing.false_alarms",
                      advice="the false alarms' reports and tentative tracks take it: ask for fewer false alarms "
                             "per search frame, or fewer runs")
    if not stored and short and can_store:  # it may fit with its tables going to disk
        on_disk = estimate_memory_bytes(world, runs, flights, stored=True, false_alarms=false_alarms)
        if _short_of_memory(on_disk) is None:
            hint = (f"or write the tables to disk as the run goes (`shieldlab run ... --out DIR`: about "
                    f"{on_disk / 2**30:.1f} GiB)")
    _check_memory(need, f"{runs} runs", field="--runs", source=world.source, hint=hint)
    return flights


def _dispersed_truth(world, flights: Flights, rngs: list[np.random.Generator]) -> Trajectories:
    """(C, N) flights with per-run dispersions, run ``j`` drawn from ``rngs[j]`` (nominal
    where a threat has none)."""
    th = world.threats
    N, C = len(th), len(rngs)
    sig = dispersion.Dispersion(**{f: np.array([getattr(t.dispersion, f) for t in th])
                                   for f in dispersion.Dispersion.__dataclass_fields__})
    per_run = [dispersion.draw(sig, (N,), g) for g in rngs]
    d = dispersion.Draws(*(np.stack([getattr(x, f) for x in per_run]) for f in dispersion.Draws.__dataclass_fields__))
    idx = np.tile(np.arange(N), C)
    veh = flights.vehicle.take(idx).scaled(thrust=d.thrust.reshape(-1), isp=d.isp.reshape(-1),
                                           burn=d.burn_time.reshape(-1), drag=d.drag.reshape(-1))
    tr, st = flights.truth, flights.steering
    launch_pos = np.array([t.launch.ecef for t in th])
    return fly(veh, launch_pos, tr.launch_time, st.kick, st.azimuth[None] + d.azimuth, st.cutoff,
               t0=float(tr.t[0]), dt=tr.dt, T=tr.t.size, batch_shape=(C, N), upper_thrust=st.upper_thrust,
               dive_time=st.dive_time)


def _broadcast(traj: Trajectories, C: int) -> Trajectories:
    def b(a):
        return np.broadcast_to(a, (C,) + a.shape)

    fields: dict[str, Any] = {f: None if getattr(traj, f) is None else b(getattr(traj, f))
                              for f in traj.__dataclass_fields__ if f != "t"}
    return Trajectories(t=traj.t, **fields)


@dataclass(frozen=True)
class ChunkResult:
    first_run: int
    truth: Trajectories  # (C, N, ...)
    detections: tuple[Detections, ...]
    tracks: dict[str, Tracks]
    engagements: Engagements
    outcomes: Outcomes
    own_tracks: dict[str, Tracks] = field(default_factory=dict)  # sensor name -> track from it alone
    decisions: Decisions = field(default_factory=Decisions.empty)  # fire control's holds and no-fire reasons
    pictures: dict[str, Tracks] = field(default_factory=dict)  # node -> the picture its fire control read
    launch_reports: tuple[LaunchReports, ...] = ()  # one per early-warning satellite
    warnings: Warnings = field(default_factory=lambda: Warnings({}))  # when each node held a report, and how
    # tracking.association gnn: per picture its track file and the reports it was built from,
    # and the object behind each fire-control track (C, T) (lineage; for scoring only)
    files: dict[str, tuple] = field(default_factory=dict)
    targets: dict[str, np.ndarray] = field(default_factory=dict)
    # and each battery's own radar's track file, by the name the event tables give it
    # (``"radar NAME"``), with that radar's reports
    own_files: dict[str, tuple] = field(default_factory=dict)
    # per track file (of either kind), the object behind the report each slot took at each
    # time (:func:`shieldlab.outcome.file_quality.report_origin`; scoring only), made once
    origins: dict[str, np.ndarray] = field(default_factory=dict)
    # the object behind each track (C, T) of each node's picture as that node reads it: its own
    # track's where it holds the number, else the object of the node whose track it received
    # (``targets`` keeps a node's own tracks only; scoring only)
    picture_targets: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def track_files(self) -> dict[str, tuple]:
        """Every track file fire control read (``tracking.association: gnn``): the pictures'
        (:attr:`files`) and the batteries' own radars' (:attr:`own_files`), by name."""
        return {**self.files, **self.own_files}


def run_streams(seed: np.random.SeedSequence, first_run: int, C: int, n: int) -> list[list[np.random.Generator]]:
    """``n`` generators for each of runs ``first_run .. first_run + C - 1``: ``out[i][j]`` is
    stream ``i`` of run ``first_run + j``, from child ``(first_run + j,)`` of ``seed``."""
    per_run = [np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + (first_run + j,)).spawn(n)
               for j in range(C)]
    return [[np.random.default_rng(per_run[j][i]) for j in range(C)] for i in range(n)]


def battery_alerts(world, warned: Warnings) -> dict[str, np.ndarray]:
    """When the launch reports of the early-warning satellites alert each battery to each
    (run, threat): when its system holds one (``warned``, :func:`shieldlab.c2.network.warning_times`;
    batteries whose system holds none are left out; none under ``doctrine.launch_report_alert:
    false``).  The report names the launch, so the alert is per threat; with tracks of reports
    without labels see :func:`track_alerts`."""
    if not world.scenario.doctrine.launch_report_alert:
        return {}
    return {b.name: warned.held[b.system] for b in world.batteries if b.system in warned.held}


def track_alerts(world, warned: Warnings, launch: list[LaunchReports], pictures: dict[str, Tracks],
                 own_tracks: dict[str, Tracks]) -> dict[str, np.ndarray]:
    """When the launch reports alert each battery to each of the tracks it plans on (C, T) [s],
    where those are tracks of reports without labels: a report names a launch, so the battery's
    node correlates it with its tracks by where and when (:func:`shieldlab.c2.alerts.correlate`;
    the report's content, never the object a track followed).  A battery plans on its own
    radar's track (cue own) or its node's picture (the one picture under integrated);
    batteries whose node holds no report, or that have no such tracks, are left out."""
    if not world.early_warning or not world.scenario.doctrine.launch_report_alert:
        return {}
    sats = {s.name: s for s in world.early_warning}
    done: dict[tuple, np.ndarray] = {}
    out = {}
    plan, _ = track_keys(world.batteries, INTEGRATED if one_picture(world) else None)  # as fire control plans
    for b, source in zip(world.batteries, plan):
        held = warned.get(b.system)
        tracks = (own_tracks if source[0] == "radar" else pictures).get(source[1])
        if held is None or tracks is None:
            continue
        key = (source, b.system)
        if key not in done:
            reach = {sat.name for sat, _ in warning_sources(world, b.system)}
            done[key] = correlate(tracks, held_reports(held, [r for r in launch if r.sensor in reach], sats))
        out[b.name] = done[key]
    return out


@dataclass(frozen=True)
class StreamLayout:
    """Which of a run's random streams (:func:`chunk_streams`) each draw takes, by name: one per
    sensor, then the kill draws, the flight dispersions, two per link (track messages, status
    messages), one per early-warning satellite and one per link (launch reports passed on).
    The order is fixed: a stream inserted before others moves every later one and changes
    every run's numbers, so a new kind of draw takes streams after the last (``total``)."""

    sensors: int
    links: int
    satellites: int

    @classmethod
    def of(cls, world) -> StreamLayout:
        return cls(len(world.sensors), len(world.links), len(world.early_warning))

    def sensor(self, i: int) -> int:
        return i

    @property
    def kill(self) -> int:
        return self.sensors

    @property
    def dispersion(self) -> int:
        return self.sensors + 1

    def link_tracks(self, i: int) -> int:
        return self.sensors + 2 + 2 * i

    def link_status(self, i: int) -> int:
        return self.sensors + 3 + 2 * i

    def satellite(self, i: int) -> int:
        return self.sensors + 2 + 2 * self.links + i

    def link_reports(self, i: int) -> int:
        return self.sensors + 2 + 2 * self.links + self.satellites + i

    @property
    def total(self) -> int:
        return self.sensors + 2 + 3 * self.links + self.satellites


def chunk_streams(world, seed: np.random.SeedSequence, first_run: int, C: int) -> list[list[np.random.Generator]]:
    """The random streams of runs ``first_run .. first_run + C - 1``, ``out[i][j]`` stream ``i``
    of run ``j``, in the order of :class:`StreamLayout`; spawning more streams leaves the first
    ones as they were.  The links' streams are there whether the architecture uses the links
    or not, so that every other stream (a satellite's) is the same stream under every
    architecture."""
    return run_streams(seed, first_run, C, StreamLayout.of(world).total)


def chunk_truth(world, flights: Flights, streams, timings: dict | None = None) -> Trajectories:
    """The (C, N) flights of a chunk: dispersed by each run's stream, or the nominal ones."""
    C = len(streams[0])
    if flights.dispersed.any():
        with timed(timings, "dispersed_flyout_s"):
            return _dispersed_truth(world, flights, streams[StreamLayout.of(world).dispersion])
    return _broadcast(flights.truth, C)


def sense(world, truth: Trajectories, streams) -> tuple[tuple[LaunchReports, ...], Warnings, tuple[Detections, ...]]:
    """The sensor stage of a chunk: every early-warning satellite's launch reports, when each
    system holds one (:func:`shieldlab.c2.network.warning_times`: its own satellites', and
    those passed on over its links), then every radar's detections of the threats (cued by the
    launch reports its system holds)."""
    at = StreamLayout.of(world)
    rcs = Signature.of_missiles([t.missile for t in world.threats])  # by phase and aspect
    reports = tuple(observe_launches(sat, truth, streams[at.satellite(i)]) for i, sat in enumerate(world.early_warning))
    warned = warning_times(world, reports, {lk: streams[at.link_reports(i)] for i, lk in enumerate(world.links)})
    truth_at: dict = {}  # the truth at each scan period's instants, interpolated once
    dets = tuple(observe(s.radar, truth, rcs, streams[at.sensor(i)], truth_at, cue_time=warned.get(s.system))
                 for i, s in enumerate(world.sensors))
    return reports, warned, dets


def run_chunk(world, flights: Flights, first_run: int, C: int, seed: np.random.SeedSequence,
              timings: dict | None = None) -> ChunkResult:
    """Runs ``first_run .. first_run + C - 1`` of the kill chain; ``seed`` is the whole
    Monte Carlo's :class:`~numpy.random.SeedSequence` (run ``k`` uses its child ``(k,)``);
    ``timings``: see :data:`STAGES`."""
    at = StreamLayout.of(world)
    links = world.links if shares_tracks(world) else ()
    streams = chunk_streams(world, seed, first_run, C)
    truth = chunk_truth(world, flights, streams, timings)
    with timed(timings, "sensors_s"):
        reports, warned, dets = sense(world, truth, streams)
    doc = compile_doctrine(world.scenario.doctrine)
    if world.scenario.tracking.association == "gnn":
        return _run_chunk_gnn(world, first_run, truth, streams, reports, warned, dets, doc, timings)
    tracks = {}
    own_tracks = {}
    init_hits, kf = world.scenario.tracking.init_hits, world.scenario.tracking.filter
    with timed(timings, "tracking_s"):
        if one_picture(world):  # one picture of all sensors
            tracks[INTEGRATED] = track(list(dets), INTEGRATED, init_hits=init_hits, filter=kf)
        else:
            for system in world.systems:
                mine = [d for d, s in zip(dets, world.sensors) if s.system == system]
                tracks[system] = track(mine, system, init_hits=init_hits, filter=kf)
        # the own-radar tracks that batteries launching on, or guided by, their own radar need
        for name in sorted({b.radar for b in world.batteries if b.cue != "engage-on-remote"}):
            i = next(i for i, s in enumerate(world.sensors) if s.radar.name == name)
            own_tracks[name] = track([dets[i]], name, init_hits=init_hits, filter=kf)
    pictures = tracks
    with timed(timings, "links_s"):  # timed even when empty: the hook times every stage
        if links:
            interval = doc.planning_interval
            times = interval * np.arange(int(np.floor(float(truth.t[-1]) / interval)) + 1)
            pictures = node_pictures(world, tracks, {lk: streams[at.link_tracks(i)] for i, lk in enumerate(links)},
                                     times)
    with timed(timings, "engage_s"):
        u = np.stack([kill_draws(world, g, len(world.threats)) for g in streams[at.kill]])
        status = StatusLinks(world, {lk: streams[at.link_status(i)] for i, lk in enumerate(links)}) if links else None
        alerts = battery_alerts(world, warned)
        eng, decisions = fight(world, doc, pictures, truth, u, own_tracks, status=status, alerts=alerts)
    with timed(timings, "outcome_s"):
        outcomes = score(world, truth, eng)
    return ChunkResult(first_run, truth, dets, tracks, eng, outcomes, own_tracks, decisions, pictures, reports, warned)


def replay_run(world, flights: Flights, seed: int, run: int) -> ChunkResult:
    """The records of Monte Carlo run ``run`` of a simulation with ``seed``, run again alone: a
    chunk of that one run (``first_run == run``, batch index 0).  A run draws only from the
    streams of child ``(run,)`` of ``SeedSequence(seed)`` (:func:`run_streams`), so these are
    the records the simulation made of it, however its runs were cut into chunks or spread
    over workers, and whether its tables came from a store (tests compare them)."""
    if run < 0:
        raise ValueError(f"replay_run: run must be >= 0, not {run}")
    return run_chunk(world, flights, run, 1, np.random.SeedSequence(seed))


def _time_off(tr: Tracks, c: int, g: int, t: float) -> float:
    """How far ``t`` [s] lies outside the time track ``g`` of run ``c`` was held (0 inside; inf
    where it never was)."""
    held = np.isfinite(tr.x[c, g]).all(axis=-1)
    if not held.any():
        return np.inf
    times = tr.t[held]
    return float(max(times[0] - t, t - times[-1], 0.0))


def file_numbers(run: np.ndarray, track: np.ndarray, source: np.ndarray, time: np.ndarray,
                  column_tid: dict[str, np.ndarray], own_key: dict[str, str],
                  net=None) -> tuple[np.ndarray, np.ndarray]:
    """The track file and the number there (as ``shieldlab tracks`` lists them) of fire-control
    tracks ``track`` of runs ``run``, read from sources ``source`` (fire control's keys) at
    times ``time`` [s]: the file of the source (a picture, or ``own_key[radar]`` for a
    battery's own radar), whose column (or, over several sources, network number ``net``) it
    is.  Where that source's own track under the number was not held at that time (the node's
    picture held it from a track received over a link), the file of the node whose track was
    held nearest that time (one held then, if any; the first in ``net.nodes`` of equals).
    ``column_tid``: per file, the track number behind each of its fire-control columns.  Rows
    without a track (-1) or a source get None and -1."""
    file, number = np.empty(run.size, object), np.full(run.size, -1, np.int64)
    for i in range(run.size):
        if track[i] < 0 or source[i] is None:
            continue
        kind, name = source[i]
        key = own_key[name] if kind == "radar" else name
        c, g = int(run[i]), int(track[i])
        if net is None:
            file[i], number[i] = key, column_tid[key][c, g]
            continue
        members = net.members[c, g]
        # how far the time lies outside each node's track under the number (0: held then)
        off = np.array([_time_off(net.tracks[name], c, g, time[i]) if members[j] >= 0 else np.inf
                        for j, name in enumerate(net.nodes)])
        a = net.nodes.index(key)
        if off[a] != 0.0:  # not the source's own: the node's track nearest in time (held, if one was)
            a = int(np.argmin(off)) if np.isfinite(off).any() else (a if members[a] >= 0 else
                                                                      int(np.argmax(members >= 0)))
        file[i], number[i] = net.nodes[a], column_tid[net.nodes[a]][c, members[a]]
    return file, number


def _run_chunk_gnn(world, first_run: int, truth: Trajectories, streams, launch, warned, dets, doc,
                   timings: dict | None) -> ChunkResult:
    """The rest of :func:`run_chunk` where fire control reads the multi-target tracker's
    tracks (``tracking.association: gnn``): every radar's scans become reports without
    labels (spent boosters and false alarms among them, drawn after the threats' reports
    from the sensor's stream), each picture tracks them, and fire control engages its
    confirmed tracks; which object a track followed (its lineage) is read only by kill
    assessment and scoring.  Several pictures (nodes) get network track numbers
    (:mod:`shieldlab.c2.track_numbers`) and then share them over their links as under
    labels."""
    from shieldlab.c2 import track_numbers
    from shieldlab.engine.tracks import management, track_pictures, unlabelled_reports
    from shieldlab.outcome.file_quality import judged_booster_tracks, label_of, report_origin
    from shieldlab.tracking.mtt import fire_control_tracks, track_reports

    C, N = truth.batch_shape
    at = StreamLayout.of(world)
    with timed(timings, "sensors_s"):
        reps = unlabelled_reports(world, truth, streams, warned, dets)
    local, labels, used, miscalled, column_tid, origins = {}, {}, {}, {}, {}, {}
    # the object behind each fire-control column, (C, T) or per battery (B, C, T) (scoring only)
    tg: np.ndarray

    def columns(key, tf, mine) -> None:  # a track file's fire-control columns and the object behind each
        local[key], column_tid[key] = fire_control_tracks(tf)
        cols = column_tid[key] >= 0
        obj = np.full(cols.shape, -1, np.int64)
        origin = origins[key] = report_origin(tf, list(mine))  # (lineage, for scoring and the log only)
        obj[cols] = label_of(tf, list(mine), np.nonzero(cols)[0], column_tid[key][cols], origin)
        labels[key], used[key] = obj, cols.sum(axis=1)
        miscalled[key] = judged_booster_tracks(tf, list(mine), N, origin)  # -1: not judged a booster

    with timed(timings, "tracking_s"):
        files = track_pictures(world, reps, keep_covariance=True)
        for name, (tf, mine) in files.items():
            columns(name, tf, mine)
        # a battery on its own radar (cue own or launch-on-remote) reads that radar's own
        # track file, numbered with the pictures' tracks so that "its track of that
        # object" means one column everywhere
        own_radars = sorted({b.radar for b in world.batteries if b.cue != "engage-on-remote"})
        own_key = {name: f"radar {name}" for name in own_radars}
        own_files = {}
        for name in own_radars:
            i = next(i for i, s in enumerate(world.sensors) if s.radar.name == name)
            tf = track_reports([reps[i]], [world.sensors[i].radar], name, management(world), keep_covariance=True)
            columns(own_key[name], tf, [reps[i]])
            own_files[own_key[name]] = (tf, [reps[i]])
        net = None
        if len(local) > 1:
            net = track_numbers.number(local)
            own_tracks = {name: net.tracks[own_key[name]] for name in own_radars}
            tracks = {name: tr for name, tr in net.tracks.items() if name in files}
            # a network track's object: its first member's (the node that confirmed it first)
            first = np.argmax(net.members >= 0, axis=2)
            col = np.take_along_axis(net.members, first[..., None], axis=2)[..., 0]
            tg = np.full(col.shape, -1, np.int64)
            for a, name in enumerate(net.nodes):
                here = (first == a) & (col >= 0)
                tg[here] = labels[name][np.nonzero(here)[0], col[here]]

            def seen_by(names):  # the object behind each number as these sources' tracks say, later ones first
                view = tg.copy()
                for name in names:
                    a = net.nodes.index(name)
                    cc, gg = np.nonzero(net.members[:, :, a] >= 0)
                    view[cc, gg] = labels[name][cc, net.members[cc, gg, a]]
                return view

            # each node's own view of the objects (its first firm track of each, for the tables)
            picture_targets = {name: seen_by([name]) for name in files}
            targets = {name: np.where((net.members[:, :, net.nodes.index(name)] >= 0), picture_targets[name], -1)
                       for name in files}
            # what a battery's interceptors fly at: the track it reads (its own radar's, else its
            # node's; a number only another node holds: the first member's object)
            picture_of = {b.name: b.system if b.system in files else next(iter(files)) for b in world.batteries}
            tg = np.stack([seen_by([picture_of[b.name]] + ([own_key[b.radar]] if b.cue != "engage-on-remote" else []))
                           for b in world.batteries]) if world.batteries else tg
            n_cols = net.used()
            # the threats each battery's sources tracked only under a booster's call (the log's
            # reason), and the track: its picture's, else its own radar's
            called_file = np.full((len(world.batteries), C, N), None, object)
            called_track = np.full((len(world.batteries), C, N), -1, np.int64)
            for i, b in enumerate(world.batteries):
                keys = [own_key[b.radar]] if b.cue != "engage-on-remote" else []
                for key in keys + [picture_of[b.name]]:  # (the picture's written last: it wins)
                    on = miscalled[key] >= 0
                    called_file[i][on], called_track[i][on] = key, miscalled[key][on]
            called_off = called_track >= 0
        else:
            tracks, targets, own_tracks = local, labels, {}
            picture_targets = targets
            tg = next(iter(labels.values())) if labels else np.zeros((C, 0), np.int64)
            n_cols = next(iter(used.values())) if used else np.zeros(C, np.int64)
            key = next(iter(miscalled), None)
            one = miscalled[key] if key is not None else np.full((C, N), -1, np.int64)
            called_track = np.broadcast_to(one, (len(world.batteries), C, N))
            called_file = np.full(called_track.shape, key, object)
            called_off = called_track >= 0
    links = world.links if shares_tracks(world) else ()
    pictures = tracks
    with timed(timings, "links_s"):
        if links:
            interval = doc.planning_interval
            times = interval * np.arange(int(np.floor(float(truth.t[-1]) / interval)) + 1)
            pictures = node_pictures(world, tracks, {lk: streams[at.link_tracks(i)] for i, lk in enumerate(links)},
                                     times)
    with timed(timings, "engage_s"):
        T = tg.shape[-1]
        # kill draws per track: run c draws its own tracks' (as many as it has), padded
        u = np.ones((C, T, MAX_ENGAGEMENTS * n_fire_controls(world), MAX_SALVO))
        for c, g in enumerate(streams[at.kill]):
            n_c = int(n_cols[c])  # its tracks, false ones included: they come first
            u[c, :n_c] = kill_draws(world, g, n_c)
        status = StatusLinks(world, {lk: streams[at.link_status(i)] for i, lk in enumerate(links)}) if links else None
        alerts = track_alerts(world, warned, launch, pictures, own_tracks)
        eng, decisions = fight(world, doc, pictures, truth, u, own_tracks, status=status, targets=tg, alerts=alerts,
                               judged_boosters=called_off)
        # each salvo's and each logged decision's track as the track files number it
        if eng.track is not None and eng.source is not None:
            file, number = file_numbers(eng.run, eng.track, eng.source, eng.decision_time, column_tid, own_key, net)
            eng = replace(eng, file=file, file_track=number)
        if decisions.track is not None and decisions.source is not None:
            file, number = file_numbers(decisions.run, decisions.track, decisions.source, decisions.time, column_tid,
                                         own_key, net)
            # a threat tracked only under a booster's call: the track fire control never read
            jb = (decisions.reason == REASONS.index("judged-booster")) & (decisions.battery >= 0)
            rows = (decisions.battery[jb], decisions.run[jb], decisions.threat[jb])
            file[jb], number[jb] = called_file[rows], called_track[rows]
            decisions = replace(decisions, file=file, file_track=number)
    with timed(timings, "outcome_s"):
        outcomes = score(world, truth, eng)
    return ChunkResult(first_run, truth, dets, tracks, eng, outcomes, own_tracks, decisions, pictures, launch,
                       warned, files=files, targets=targets, own_files=own_files, origins=origins,
                       picture_targets=picture_targets)

