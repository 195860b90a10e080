"""The C2 network of a scenario: what each node sees and hears, per architecture.

Four ways for the nodes to cooperate (``architecture:``):

* ``integrated``: one C2 over all: every sensor feeds one picture (measurement-level
  fusion in the tracker) and one fire control commands every battery;
* ``independent``: each node sees with its own sensors and shoots alone;
* ``coordinated``: nodes send each other their tracks over their links (late, sometimes
  not at all, :mod:`shieldlab.c2.links`); each node fuses its own and the received
  tracks (covariance intersection, :mod:`shieldlab.c2.picture`), and tells the others of
  each engagement, which they then leave alone until its look is over; each keeps its
  own fire decision; a launch report of a node's early-warning satellites is passed on
  over its links as well (:func:`warning_times`); a link may carry launch reports only
  (``tracks`` false: its nodes then see and fire alone) or no launch reports;
* ``sectoral``: as coordinated, and each node answers only for threats whose predicted
  path crosses its sector.

Tracks and launch reports are relayed one hop: a node hears the nodes linked to it, not their neighbours'
neighbours.  Randomness (link losses) comes from per-run streams the engine passes in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shieldlab.c2.links import Link, arrival_time, first_try_arrival, transmit
from shieldlab.c2.picture import fuse_picture
from shieldlab.tracking.records import Tracks

ARCHITECTURES = ("integrated", "independent", "coordinated", "sectoral")
SHARING = ("coordinated", "sectoral")  # architectures whose nodes exchange tracks and engagement status
#: Name of the one picture (and fire control) of ``architecture: integrated`` over several nodes.
INTEGRATED = "integrated"


def shares_tracks(world) -> bool:
    """Whether the nodes of ``world`` send each other tracks and engagement status."""
    return world.architecture in SHARING and len(world.nodes) > 1


def one_picture(world) -> bool:
    """Whether every sensor of ``world`` feeds one picture (:data:`INTEGRATED`) that replaces
    the nodes' own: architecture integrated over several nodes."""
    return world.architecture == "integrated" and len(world.nodes) > 1


def one_fire_control(world) -> bool:
    """Whether one fire control commands every battery: architecture integrated, or one node."""
    return world.architecture == "integrated" or len(world.nodes) <= 1


def n_fire_controls(world) -> int:
    """How many fire controls the fight makes for ``world`` (:func:`shieldlab.engine.fight.fire_controls`)."""
    return 1 if one_fire_control(world) else sum(1 for nd in world.nodes if nd.batteries)


def node_pictures(world, tracks: dict[str, Tracks], rngs: dict[Link, list], times: np.ndarray) -> dict[str, Tracks]:
    """Each node's picture under a sharing architecture: its own tracks fused with those its
    linked neighbours send it, on the time grid ``times`` [s] (fire control's planning
    ticks).  ``tracks`` maps node name to the node's own tracks (nodes without sensors have
    none); ``rngs[link]`` holds one generator per run for that link's losses; a link whose
    ``tracks`` is false carries none."""
    out = {}
    for node in world.nodes:
        remotes = [transmit(tracks[lk.source], lk, rngs[lk]) for lk in world.links
                   if lk.target == node.name and lk.source in tracks and lk.tracks]
        local = tracks.get(node.name)
        if local is None and not remotes:
            continue
        out[node.name] = fuse_picture(local, remotes, times, method="ci", node=node.name).tracks
    return out


@dataclass(frozen=True)
class Warnings:
    """When each system first holds a launch report of each (run, threat), and how.

    ``held``: system name to (C, N) times [s], from its own satellites or over a link
    (systems that hold none are left out); ``passed``: link name (``"source->target"``) to
    the (C, N) times [s] that link brought its source's first report; ``inf``: never."""

    held: dict[str, np.ndarray]
    passed: dict[str, np.ndarray] = field(default_factory=dict)

    def get(self, system: str) -> np.ndarray | None:
        """When ``system`` holds a report of each (run, threat) [s]; None where it holds none."""
        return self.held.get(system)


def report_links(world) -> list[Link]:
    """The links that pass launch reports on: under a sharing architecture (:func:`shares_tracks`)
    each link whose ``launch_reports`` is true; none under the others."""
    return [lk for lk in world.links if lk.launch_reports] if shares_tracks(world) else []


def warning_times(world, reports, rngs: dict[Link, list] | None = None) -> Warnings:
    """When each system first holds a launch report of each (run, threat) [s], (C, N).

    A system holds the reports of the early-warning satellites that cue it
    (:meth:`~shieldlab.scenario.compile.World.satellites_cueing`: its own; every one under
    ``integrated``), from their report times (``reports``, one
    :class:`~shieldlab.sensors.infrared.LaunchReports` per satellite).  Under a sharing
    architecture (:func:`shares_tracks`) a node also holds those of each node linked to it:
    the source's first report goes out as a status message does
    (:func:`~shieldlab.c2.links.arrival_time`: at the link's next send time, resent while
    lost, arriving its latency later), one hop, as tracks, over every link whose
    ``launch_reports`` is true.  ``rngs[link]`` holds one
    generator per run for a lossy link's resends (one draw per threat and run)."""
    systems = sorted({s.system for s in world.sensors} | {b.system for b in world.batteries})
    own = {}
    for system in systems:
        cueing = {s.name for s in world.satellites_cueing(system)}
        mine = [r.report_time for r in reports if r.sensor in cueing]
        if mine:
            own[system] = np.minimum.reduce(mine)
    held, passed = dict(own), {}
    for lk in report_links(world):
        sent = own.get(lk.source)
        if sent is None:
            continue
        gens = (rngs or {}).get(lk)
        got = np.stack([arrival_time(sent[c], lk, None if gens is None else gens[c]) for c in range(sent.shape[0])])
        passed[lk.name] = got
        held[lk.target] = np.minimum(held[lk.target], got) if lk.target in held else got
    return Warnings(held, passed)


def warning_sources(world, system: str) -> list[tuple]:
    """The early-warning satellites whose launch reports reach ``system``, each with the link
    that brings it: its own (link ``None``; every satellite under ``integrated``), and under a
    sharing architecture each linked node's own, with that link (:func:`warning_times`)."""
    return [(sat, None) for sat in world.satellites_cueing(system)] + [
        (sat, lk) for lk in report_links(world) if lk.target == system for sat in world.satellites_cueing(lk.source)]


def expected_warning(world, system: str, report_times: dict) -> np.ndarray:
    """When ``system`` is expected to hold a launch report [s], from each satellite's expected
    report time (``report_times``: satellite name to time(s), broadcast): the first of its
    :func:`warning_sources`, a linked one at that link's next send time plus its latency (no
    message lost: the expected analyses, ``reach`` and ``footprint``, draw nothing); ``inf``:
    none reaches it."""
    return earliest_warning(warning_sources(world, system), report_times)


def earliest_warning(sources, report_times: dict) -> np.ndarray:
    """The first of ``sources`` (:func:`warning_sources`: (satellite, link or None) pairs) to
    bring a launch report, from each satellite's report time(s) (``report_times``, by name,
    broadcast): its own at once, a linked one at the link's next send time plus its latency
    (none lost) [s]; ``inf`` where there is none."""
    out = np.asarray(np.inf)
    for sat, lk in sources:
        t = np.asarray(report_times[sat.name], float)
        out = np.minimum(out, t if lk is None else first_try_arrival(t, lk))
    return out


class StatusLinks:
    """Engagement status over the links: after a node commits a salvo, each node linked from it
    learns of it when the status message arrives (:func:`shieldlab.c2.links.arrival_time`)
    and leaves the threat alone until that engagement's look time is over (then judges it
    destroyed unless its own tracks saw it after the intercept time)."""

    def __init__(self, world, rngs: dict[Link, list]):
        self.links = [lk for lk in world.links if lk.tracks]  # (launch reports only: no status)
        self.rngs = rngs
        self.bats = world.batteries

    def __call__(self, salvo, sender, fire_controls) -> None:
        until = salvo.intercept_time + self.bats[salvo.battery].look_time
        for lk in self.links:
            if lk.source != sender.name:
                continue
            for fc in fire_controls:
                if fc.name == lk.target:
                    known = float(arrival_time(np.array([salvo.decision_time]), lk, self.rngs[lk][salvo.run])[0])
                    fc.learn(salvo.run, salvo.threat, known, until, salvo.intercept_time)


def architecture_names(names, field: str) -> list[str]:
    """``names`` (a sequence of architecture names) checked: at least one, each known, none
    twice; :class:`~shieldlab.errors.InputError` naming ``field`` otherwise (the command line's
    ``--architectures``, the API's ``architectures``)."""
    from shieldlab.errors import InputError

    names = list(names)
    if not names:
        raise InputError("name at least one architecture", field=field)
    for a in names:
        if a not in ARCHITECTURES:
            raise InputError(f"unknown architecture {a!r}: one of {', '.join(ARCHITECTURES)}", field=field)
    twice = sorted({a for a in names if names.count(a) > 1})
    if twice:
        raise InputError(f"names {', '.join(twice)} twice", field=field)
    return names
