"""The closed loop of a chunk: fire control decides, the engagement stage scores, the sensors see.

On the planning clock (whole multiples of ``doctrine.planning_interval`` from the epoch,
so a run's decisions do not depend on which other runs share its chunk):

1. every C2 node's fire control (:class:`shieldlab.c2.firecontrol.FireControl`) reads its
   tracks and commits salvos;
2. kill assessment (:func:`shieldlab.engage.assess.assess`) scores them on the truth;
3. a destroyed threat's reports end at the intercept (:meth:`TrackView.end`), which is all
   that any fire control learns of it; where nodes cooperate, each salvo is reported to
   the other nodes over their links (:mod:`shieldlab.c2.links`), late or not at all.

How the nodes cooperate is the scenario's ``architecture`` (see :func:`fire_controls`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shieldlab.c2.doctrine import Doctrine
from shieldlab.c2.firecontrol import FireControl
from shieldlab.c2.network import INTEGRATED, n_fire_controls, one_fire_control, one_picture
from shieldlab.c2.records import REASONS, Decisions, key_array
from shieldlab.c2.trackview import TrackView
from shieldlab.engage.assess import assess, first_kills, object_of, threat_of
from shieldlab.engage.fan import fan_for
from shieldlab.engage.records import Engagements
from shieldlab.flyout.records import Trajectories
from shieldlab.scenario.schema import MAX_ENGAGEMENTS, MAX_SALVO
from shieldlab.tracking.records import Tracks

_R = {name: i for i, name in enumerate(REASONS)}


def track_sources(tracks: dict[str, Tracks], own_tracks: dict[str, Tracks] | None) -> dict:
    """The track sources fire control may read: ``("system", node)`` and ``("radar", sensor)``."""
    src = {("system", s): tr for s, tr in tracks.items()}
    src.update({("radar", r): tr for r, tr in (own_tracks or {}).items()})
    return src


def fire_controls(world, view: TrackView, doctrine, batch_shape, t_end: float,
                  alerts: dict[str, np.ndarray] | None = None, same_object_test: bool = False) -> list[FireControl]:
    """One fire control per C2 node that commands batteries; ``architecture: integrated``
    (or a single node): one over all batteries, planning on the one picture of all sensors
    (``("system", INTEGRATED)``) where the scenario has several nodes.  ``alerts``: battery
    name to the time (C, N) a launch report alerted it to each threat (absent: never)."""
    bats = world.batteries
    alerts = alerts or {}

    def alert(idx):
        return np.stack([alerts.get(bats[i].name, np.full(batch_shape, np.inf)) for i in idx], axis=-1) \
            if alerts else None

    if one_fire_control(world):
        return [FireControl(doctrine, bats, range(len(bats)), view, world.assets, batch_shape, t_end,
                            system=INTEGRATED if one_picture(world) else None, name=INTEGRATED,
                            alert=alert(range(len(bats))), same_object_test=same_object_test)]
    sectoral = world.architecture == "sectoral"
    return [FireControl(doctrine, [bats[i] for i in nd.batteries], nd.batteries, view, world.assets, batch_shape,
                        t_end, sector=nd.sector if sectoral else None, name=nd.name, alert=alert(nd.batteries),
                        same_object_test=same_object_test)
            for nd in world.nodes if nd.batteries]


def kill_draws(world, g: np.random.Generator, rows: int) -> np.ndarray:
    """One run's kill draws (rows, F x E, S) from its generator ``g``, with E and S the
    schema's most engagements of a threat and rounds of a salvo
    (:data:`~shieldlab.scenario.schema.MAX_ENGAGEMENTS`, ``MAX_SALVO``): room for E
    engagements of each of F fire controls at a threat, drawn a fire control's block at a
    time, so that the first block is what a single node draws.  Dealt for the maxima
    rather than the scenario's doctrine so that runs with another salvo, number of
    engagements or look policy are common random numbers: the k-th salvo at a threat
    draws the same numbers whichever of them is set."""
    return np.concatenate([g.random((rows, MAX_ENGAGEMENTS, MAX_SALVO)) for _ in range(n_fire_controls(world))],
                          axis=1)


def fight(world, doc: Doctrine, tracks: dict[str, Tracks], truth: Trajectories, uniforms: np.ndarray,
          own_tracks: dict[str, Tracks] | None = None, status=None,
          targets: np.ndarray | None = None, alerts: dict[str, np.ndarray] | None = None,
          judged_boosters: np.ndarray | None = None) -> tuple[Engagements, Decisions]:
    """Every engagement of a chunk, and fire control's log of holds and no-fire reasons.

    ``doc`` is the scenario's compiled doctrine; ``truth`` has batch shape (C, N); ``tracks`` maps node (system)
    name to its :class:`Tracks` with the same batch shape; ``own_tracks`` maps sensor name to the track
    built from that sensor's detections alone (batteries whose cue is not
    engage-on-remote need it); ``uniforms`` (C, N, F x E, S) are the kill draws (E
    engagements of each of the F fire controls, :func:`kill_draws`; S >= the largest
    salvo): the k-th salvo at a threat, whichever node fires it, draws ``uniforms[c, n, k]``.
    ``status`` (optional) is called as ``status(salvo, node, fire_controls)`` after each
    committed salvo: how cooperating nodes hear of it.
    ``alerts`` (optional): battery name to the time (C, N) an early-warning launch report
    alerted it to each threat (its reaction then runs from that time).

    ``targets`` (C, T): where the tracks come from reports without labels, their batch is
    (C, T) fire-control tracks, not threats, and ``targets[c, t]`` is the object behind
    track ``t`` (or (B, C, T): battery ``b``'s object behind it, where the tracks carry
    network numbers joining several nodes' tracks) (threat ``n``, spent booster ``N + n``, -1 a false alarm; from the
    tracks' lineage, for kill assessment and scoring only: fire control never reads it).
    The kill draws are then per track, ``uniforms`` (C, T, F x E, S); a destroyed threat ends
    every track it fed; ``Decisions`` and ``Engagements`` name threats (``threat`` -1 where
    a salvo went at something else, its object in ``Engagements.target``).
    ``judged_boosters`` (B, C, N) bool, with ``targets``: the threats whose warhead a
    confirmed track of battery ``b``'s sources followed that the radars' calls judged a
    spent booster (:func:`shieldlab.outcome.file_quality.judged_boosters`, scoring only):
    their no-fire rows say ``judged-booster`` rather than ``no-track``.
    """
    C, N = truth.batch_shape
    T = N if targets is None else targets.shape[-1]
    bats = world.batteries
    t_end = float(truth.t[-1])
    if not bats or not tracks:
        code = _R["no-battery"] if not bats else _R["no-track"]
        cc, nn = (a.reshape(-1) for a in np.meshgrid(np.arange(C), np.arange(N), indexing="ij"))
        return Engagements.empty(), Decisions(run=cc, threat=nn, battery=np.full(cc.size, -1),
                                              time=np.full(cc.size, t_end), kind=np.ones(cc.size, np.int8),
                                              reason=np.full(cc.size, code, np.int8))
    # a destroyed threat's track is dropped as the tracker's deletion rule would drop it
    view = TrackView(track_sources(tracks, own_tracks), (C, T),
                     delete_probability=world.scenario.tracking.delete_probability)
    # tracks of reports without labels may hold one object twice: tested before a second shot
    fcs = fire_controls(world, view, doc, (C, T), t_end, alerts, same_object_test=targets is not None)
    # a threat's engagements by every node are counted together for the kill draws: the
    # k-th salvo at it, whichever node fires it, draws the k-th (each node counting its own,
    # a second node's first shot drew the first node's first draw, so it failed where that
    # one had: 28 of 28 PAC-3 shots after THAAD's failed draws)
    if uniforms.shape[2] < doc.max_engagements * len(fcs):
        raise ValueError(f"{uniforms.shape[2]} kill draws a threat for {len(fcs)} fire controls of "
                         f"{doc.max_engagements} engagements")
    drawn = np.zeros((C, T), int)  # salvos drawn so far at each track
    fans = [fan_for(b.spec, b.burnout_speed) for b in bats]  # cached: the fire controls' own
    destroyed = np.full((C, N), np.inf)  # s: when each threat was destroyed
    salvos_all, assessed = [], []
    interval = doc.planning_interval
    first = min(fc.next_due() for fc in fcs)
    tick = interval * np.ceil(first / interval) if np.isfinite(first) else np.inf
    while tick <= t_end:
        salvos = []
        for fc in fcs:
            new = fc.decide(tick)
            salvos += new
            if status is not None:
                for s in new:
                    status(s, fc, fcs)
        if salvos:
            draw = np.empty(len(salvos), int)
            for i, x in enumerate(salvos):  # in the fire controls' order: the same every run
                draw[i] = drawn[x.run, x.threat]
                drawn[x.run, x.threat] += 1
            a = assess(salvos, truth, view, bats, fans, uniforms, targets, draw=draw)
            salvos_all += salvos
            assessed.append(a)
            k = np.flatnonzero(a.killed)
            if k.size:
                c = np.array([salvos[i].run for i in k])
                n = threat_of([salvos[i] for i in k], N, targets, np.where(a.guide_track[k] >= 0, a.guide_track[k],
                                                                           [salvos[i].threat for i in k]))
                t_k = np.array([salvos[i].intercept_time for i in k])
                np.minimum.at(destroyed, (c, n), t_k)
                view.end(*_tracks_of(c, n, t_k, targets))
        nxt = min(fc.next_due() for fc in fcs)
        if not np.isfinite(nxt):
            break
        # whole multiples of the interval, free of rounding drift
        tick = interval * max(np.round(tick / interval) + 1, np.ceil(nxt / interval - 1e-9))
    if targets is None:
        decisions = _concat_decisions([fc.decisions(np.isinf(destroyed)) for fc in fcs])
        return _engagements(salvos_all, assessed), decisions
    views = targets if targets.ndim == 3 else targets[None]
    is_threat = (views >= 0) & (views < N)
    # a column survived unless some battery's object behind it was destroyed
    survived = (~is_threat | np.isinf(np.stack([np.take_along_axis(destroyed, np.where(t, v, 0), axis=1)
                                                for t, v in zip(is_threat, views)]))).all(axis=0)
    decisions = _by_threat(_concat_decisions([fc.decisions(survived) for fc in fcs]), targets, N, t_end, len(bats),
                           judged_boosters)
    return _engagements(salvos_all, assessed, targets, N), decisions


def _tracks_of(c: np.ndarray, n: np.ndarray, t: np.ndarray, targets: np.ndarray | None):
    """The (run, track, time) triples that a destroyed threat ends: itself where the tracks are
    the threats, else every track of its run that it fed."""
    if targets is None:
        return c, n, t
    views = targets if targets.ndim == 3 else targets[None]
    rows = [(ci, col, ti) for ci, ni, ti in zip(c, n, t) for col in np.flatnonzero((views[:, ci] == ni).any(axis=0))]
    if not rows:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    cc, tt, ww = zip(*rows)
    return np.array(cc), np.array(tt), np.array(ww, float)


def _by_threat(d: Decisions, targets: np.ndarray, N: int, t_end: float, B: int,
               judged_boosters: np.ndarray | None = None) -> Decisions:
    """Fire control's log on tracks, told by threat: rows on a track of something else (a
    booster, a false alarm) dropped, and a no-track row per battery (of the ``B``) for every
    threat no track followed, at the end of the simulated time (as fire control logs the
    threats it never had a track of); ``judged-booster`` instead where ``judged_boosters``
    (B, C, N) says that battery's sources had one, judged a spent booster."""
    views = targets if targets.ndim == 3 else targets[None]
    obj = object_of(targets, np.maximum(d.battery, 0), d.run, d.threat) if d.run.size else d.threat
    keep = (obj >= 0) & (obj < N)
    C = views.shape[1]
    tracked = np.zeros((C, N), bool)
    b_, c_, t_ = np.nonzero((views >= 0) & (views < N))
    tracked[c_, views[b_, c_, t_]] = True
    cc, nn = np.nonzero(~tracked)
    cc, nn, bb = np.repeat(cc, B), np.repeat(nn, B), np.tile(np.arange(B), cc.size)
    why = np.full(cc.size, _R["no-track"], np.int8)
    if judged_boosters is not None:
        why[judged_boosters[bb, cc, nn]] = _R["judged-booster"]
    return Decisions(run=np.concatenate([d.run[keep], cc]).astype(np.int64),
                     threat=np.concatenate([obj[keep], nn]).astype(np.int64),
                     battery=np.concatenate([d.battery[keep], bb]).astype(np.int64),
                     time=np.concatenate([d.time[keep], np.full(cc.size, t_end)]),
                     kind=np.concatenate([d.kind[keep], np.ones(cc.size, np.int8)]).astype(np.int8),
                     reason=np.concatenate([d.reason[keep], why]).astype(np.int8),
                     # a threat no track followed: no track, no source
                     source=None if d.source is None else np.concatenate([d.source[keep], key_array([None] * cc.size)]),
                     track=np.concatenate([d.threat[keep], np.full(cc.size, -1)]).astype(np.int64))


def _concat_decisions(parts: list[Decisions]) -> Decisions:
    if len(parts) == 1:
        return parts[0]
    # (a field some part leaves out, None, is left out of the whole)
    fields: dict[str, Any] = {f: None if any(getattr(p, f) is None for p in parts)
                              else np.concatenate([getattr(p, f) for p in parts])
                              for f in Decisions.__dataclass_fields__}
    return Decisions(**fields)


def _engagements(salvos: list, assessed: list, targets: np.ndarray | None = None, N: int = 0) -> Engagements:
    if not salvos:
        return Engagements.empty()

    def col(name, dtype):
        return np.array([getattr(s, name) for s in salvos], dtype)

    cat = {f: np.concatenate([getattr(a, f) for a in assessed]) for f in ("prediction_error", "reach_shortfall",
                                                                          "killed", "guide_track", "true_pos")}
    run, track = col("run", np.int64), col("threat", np.int64)
    # the object a salvo flew at: behind the track it homed on (found at handover), else its own
    homed = np.where(cat["guide_track"] >= 0, cat["guide_track"], track)
    target = None if targets is None else object_of(targets, col("battery", np.int64), run, homed).astype(np.int64)
    threat = track if target is None else np.where((target >= 0) & (target < N), target, -1)
    # a salvo committed later may meet the threat earlier: the first to kill it is the one
    late = first_kills(run, threat, col("intercept_time", float), cat["killed"])
    cat["killed"] = cat["killed"] & ~late
    cat["prediction_error"] = np.where(late, np.inf, cat["prediction_error"])
    cat["reach_shortfall"] = np.where(late, np.inf, cat["reach_shortfall"])
    cat["true_pos"] = np.where(late[:, None], np.nan, cat["true_pos"])  # it was gone by then
    return Engagements(
        run=run, threat=threat, battery=col("battery", np.int64),
        rounds=col("rounds", np.int64), decision_time=col("decision_time", float),
        launch_time=col("launch_time", float), intercept_time=col("intercept_time", float),
        intercept_pos=np.array([s.intercept_pos for s in salvos], float).reshape(-1, 3),
        met_pos=np.asarray(cat["true_pos"], float).reshape(-1, 3),
        prediction_error=cat["prediction_error"].astype(float), killed=cat["killed"].astype(bool),
        closing_speed=col("closing_speed", float), crossing_angle=col("crossing_angle", float),
        pk=col("pk", float), pip_sigma=col("pip_sigma", float), boost_track=col("boost_track", bool),
        reach_shortfall=cat["reach_shortfall"].astype(float),
        track=None if targets is None else track, target=target,
        source=None if targets is None else key_array([s.plan_key or s.guide_key for s in salvos]))
