"""Fire control: when, from which battery and at what point to engage each threat.

Reads tracks (never the truth) to plan; reads the truth only to score the shot (kill
assessment).  Per chunk of runs it is an event-driven loop on a planning clock
(``doctrine.planning_interval_s``): each threat has a next check time; at a check the
battery's planning track is extrapolated ballistically
(:func:`shieldlab.flyout.integrate.coast`), the threat is evaluated (predicted impact on a
defended asset?  While the track shows thrust, by its impact corridor instead, and the
plan follows the corridor's path to the asset: :mod:`shieldlab.engage.threat_eval`; a
battery then holds fire to its last chance), and for every battery the earliest intercept point inside its
envelope that its interceptor (fly-out fan, :mod:`shieldlab.engage.fan`), launched after
the reaction time, can reach is found.  The battery with the earliest such intercept and
rounds left above its reserve gets the threat.  The salvo is committed in the last
planning interval before its launch time, so the freshest track sets the aim; until
then the threat is re-planned.

Cue modes (per battery, ``Battery.cue``); "system track" is the track of the battery's
system (all its sensors fused), "own track" that of the battery's own radar alone:

* ``engage-on-remote``: launch on the system track and guide on it to the end (the
  in-flight target updates come from the remote sensors);
* ``launch-on-remote``: launch on the system track, then the own radar takes over: the
  in-flight updates come from the own track, and if the own radar does not hold the
  threat by the handover time the shot misses;
* ``own``: plan, launch and guide on the own track only (no launch before the own radar
  has confirmed a track).

Kill assessment: first, the threat's true path must pass through the interceptor's fly-out
fan near the planned time (:func:`_reach_shortfall`; in-flight updates cannot take it
where the fan does not reach), else the salvo is out of reach.  Then the kill vehicle
homes on the threat from the prediction made with the
last in-flight target update (the battery's handover time before intercept: its own, the
doctrine's or its interceptor's catalogue value) of its guidance
track; if that prediction misses the true position by more than the interceptor's divert
capability the shot misses, otherwise each interceptor of the salvo kills with the kill
probability of the planned end-game geometry (:func:`shieldlab.engage.pk.kill_probability`
of closing speed and crossing angle).  With shoot-look-shoot a surviving threat is
re-engaged after the battery's look time.

Launch gate (track quality, ``doctrine.track_quality_sigma`` = k): a battery whose launch
is due commits only when ``k * sigma <= divert_m``, sigma being the position uncertainty
of the predicted intercept point (:func:`intercept_point_sigma`: the planning track's
covariance carried to the intercept time).  Where the gate stops the best battery, the
next battery by intercept time that it does not stop is taken; where it stops all, the
threat is re-planned at the next interval with a fresher, better track, so poor tracks
launch later (or never).  The sigma of every committed salvo is kept
(``Engagements.pip_sigma``) whether or not the gate is on.
"""

from __future__ import annotations

import numpy as np

from shieldlab import earth
from shieldlab.engage import threat_eval
from shieldlab.engage.fan import fan_for
from shieldlab.engage.pk import kill_probability
from shieldlab.engage.records import REASONS, Decisions, Engagements
from shieldlab.engage.solver import intercept_geometry, intercept_window, fan_time, interceptor_velocity
from shieldlab.flyout.integrate import coast, propagate
from shieldlab.flyout.interp import state_at
from shieldlab.flyout.records import Trajectories
from shieldlab.tracking.records import Tracks

PREDICT_DT = 4.0  # s, step of the fire-control extrapolation (RK4: metre-level over minutes)
HORIZON = 7200.0  # s, how far ahead fire control extrapolates: longer than any ICBM flight
_RECHECK = 4  # planning intervals before an unengageable threat is looked at again
_R = {name: i for i, name in enumerate(REASONS)}
_BLOCKING = np.array([_R["magazine-empty"], _R["track-quality"], _R["held-last-chance"]])
_WAITING, _FIRED = -2, -1  # internal states of a battery for a threat: a shot planned, a shot fired
_SLIP_STEP_S = 0.5  # s, spacing of the true path sampled within the slip by the reach check


def intercept_point_sigma(P: np.ndarray, r_track: np.ndarray, r_int: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """Position uncertainty [m] of a predicted intercept point, from the track covariance.

    The track covariance ``P`` (M, 6, 6) at the track's time is carried over ``dt`` (M,) [s]
    to the intercept point ``r_int`` (M, 3) [m ECEF] by
    :func:`shieldlab.engage.threat_eval.predicted_position_covariance` (linearised ballistic
    transition, closed form).  Returns sqrt of the largest eigenvalue of the 3x3 position
    block: the 1-sigma error along the worst direction (the kill vehicle must cover that one).
    """
    Pp = threat_eval.predicted_position_covariance(P, r_track, r_int, dt)
    lam = np.linalg.eigvalsh(Pp)[:, -1]
    return np.sqrt(np.maximum(lam, 0.0))


def _sources(bats, tracks, own_tracks):
    """Per battery the keys of its planning and guidance tracks, and the key -> Tracks map."""
    src = {("system", s): tr for s, tr in tracks.items()}
    src.update({("radar", r): tr for r, tr in own_tracks.items()})
    plan, guide = [], []
    for b in bats:
        cue = getattr(b, "cue", "engage-on-remote")
        own = ("radar", b.radar) if cue != "engage-on-remote" else None
        if own is not None and own not in src:
            raise ValueError(f"battery {b.name!r}: cue {cue!r} needs the own-radar track of {b.radar!r}")
        plan.append(own if cue == "own" else ("system", b.system))
        guide.append(("system", b.system) if cue == "engage-on-remote" else own)
    return plan, guide, src


def engage(world, tracks: dict[str, Tracks], truth: Trajectories, uniforms: np.ndarray,
           own_tracks: dict[str, Tracks] | None = None) -> Engagements:
    """Plan and score every engagement of a chunk (see :func:`engage_with_log`)."""
    return engage_with_log(world, tracks, truth, uniforms, own_tracks)[0]


def engage_with_log(world, tracks: dict[str, Tracks], truth: Trajectories, uniforms: np.ndarray,
                    own_tracks: dict[str, Tracks] | None = None) -> tuple[Engagements, Decisions]:
    """Plan and score every engagement of a chunk; also log why fire control held or did not fire.

    ``truth`` has batch shape (C, N); ``tracks`` maps system name to its :class:`Tracks`
    with the same batch shape; ``own_tracks`` maps sensor name to the track built from that
    sensor's detections alone (needed for the batteries whose cue is not
    engage-on-remote); ``uniforms`` (C, N, E, S) are the kill draws (E engagements, S >=
    the largest salvo).  The :class:`~shieldlab.engage.records.Decisions` log holds a
    ``hold`` row when a battery begins to wait (last chance on a boosting track, launch
    gate) and, at the end, a ``no-fire`` row per battery for every threat left unengaged
    (or not re-engaged after a miss) with the battery's last reason.
    """
    doc = world.scenario.doctrine
    C, N = truth.batch_shape
    bats = world.batteries
    t_end = float(truth.t[-1])
    if not bats or not tracks:
        code = _R["no-battery"] if not bats else _R["no-track"]
        cc, nn = (a.reshape(-1) for a in np.meshgrid(np.arange(C), np.arange(N), indexing="ij"))
        return Engagements.empty(), Decisions(run=cc, threat=nn, battery=np.full(cc.size, -1),
                                              time=np.full(cc.size, t_end), kind=np.ones(cc.size, np.int8),
                                              reason=np.full(cc.size, code, np.int8))
    plan_src, guide_src, sources = _sources(bats, tracks, own_tracks or {})
    max_eng = doc.max_engagements if doc.shoot_look_shoot else 1
    interval = doc.planning_interval_s
    gate_k = float(getattr(doc, "track_quality_sigma", None) or 0.0)  # 0: no launch gate
    threat_p = float(doc.threat_probability)  # engage a threat this likely to hit a defended asset
    magazine = np.tile(np.array([b.rounds for b in bats]), (C, 1))
    reserve = np.array([getattr(b, "reserve", 0) for b in bats])
    fans = [fan_for(b.spec, b.burnout_speed) for b in bats]
    handover = [float(b.handover) for b in bats]  # s, last in-flight target update before intercept
    alive = np.ones((C, N), bool)
    n_eng = np.zeros((C, N), int)
    confirm = np.full((C, N), np.inf)
    for key in set(plan_src):
        confirm = np.minimum(confirm, sources[key].confirm_time)
    next_check = confirm.copy()
    # the decision log: each battery's latest reason per threat, and the hold it is in
    reason = np.full((C, N, len(bats)), _R["no-track"], np.int8)
    in_hold = np.full((C, N, len(bats)), -1, np.int8)
    last_look = np.full((C, N), np.nan)
    declared = np.zeros((C, N), bool)  # judged a threat to a defended asset at some look
    deadline = np.full((C, N, len(bats)), np.inf)  # per battery: the earliest last chance seen on a boost track
    holds: list[tuple] = []

    def log_hold(c, n, b, code):
        reason[c, n, b] = code
        if in_hold[c, n, b] != code:  # log a hold when it begins, not at every look
            in_hold[c, n, b] = code
            holds.append((c, n, b, tick, code))
    asset_lat = np.array([a.site.lat for a in world.assets])
    asset_lon = np.array([a.site.lon for a in world.assets])
    asset_r = np.array([a.radius for a in world.assets])
    rows: list[tuple] = []

    # the planning clock ticks at whole multiples of the interval from the epoch, so a run's
    # decisions do not depend on which other runs share its chunk
    tick = interval * np.ceil(float(np.min(next_check)) / interval) if np.isfinite(next_check).any() else np.inf
    while tick <= t_end:
        open_ = alive & (n_eng < max_eng)
        due = open_ & (next_check <= tick)
        if not due.any():
            upcoming = np.where(open_, next_check, np.inf)
            nxt = float(upcoming.min())
            if not np.isfinite(nxt):
                break
            tick = max(tick + interval, interval * np.ceil(nxt / interval))
            continue
        best = {}
        for key in sorted(set(plan_src)):
            tr = sources[key]
            mask = due & (tr.confirm_time <= tick)
            cs, ns = np.nonzero(mask)
            if cs.size == 0:
                continue
            k = np.searchsorted(tr.t, tick, side="right") - 1
            x = tr.x[cs, ns, k]
            good = np.isfinite(x).all(axis=1)
            cs, ns, x = cs[good], ns[good], x[good]
            if cs.size == 0:
                continue
            t_track = tr.t[k]
            P = tr.P[cs, ns, k]
            J = int(min(HORIZON, t_end - t_track) / PREDICT_DT) + 2  # no need to look past the scenario's end
            jt = PREDICT_DT * np.arange(J)
            pos, vel, ev = coast(x, PREDICT_DT, J)
            boost = np.zeros(cs.size, bool)
            if doc.engage == "threatening" and len(world.assets):
                # the chance that the ballistic prediction lands on an asset, with the track's
                # uncertainty carried to the impact (threat_eval.impact_probability)
                j_imp = np.clip(np.floor(np.nan_to_num(ev[:, 4], posinf=0.0) / PREDICT_DT).astype(int), 0, J - 1)
                p_hit, sig_g, d_a = threat_eval.impact_probability(
                    P, x[:, :3], ev[:, 5:8], vel[np.arange(cs.size), j_imp], ev[:, 4], asset_lat, asset_lon, asset_r)
                # a threat once declared stays declared while an asset lies inside its impact's
                # 3-sigma circle: a track that loses its radars at burnout grows uncertain, and
                # that is no evidence that the threat turned away
                plausible = (d_a - asset_r <= 3.0 * sig_g[:, None]).any(axis=1)
                threat_ok = np.isfinite(ev[:, 4]) & ((p_hit >= threat_p).any(axis=1)
                                                     | (declared[cs, ns] & plausible))
                # a track that may still be under thrust: judge it by its impact corridor, and
                # plan on the path that lands nearest the asset it threatens (threat_eval), from
                # its last state backed by a detection
                k_now, k_then = threat_eval.observed_pair(tr.t, tr.n_hits[cs, ns], k)
                seen = tr.x[cs, ns, np.maximum(k_now, 0)]
                then = np.where((k_then >= 0)[:, None], tr.x[cs, ns, np.maximum(k_then, 0)], np.nan)
                boost, accel = threat_eval.thrusting(seen, tr.P[cs, ns, np.maximum(k_now, 0)], then,
                                                     tr.P[cs, ns, np.maximum(k_then, 0)],
                                                     tr.t[np.maximum(k_now, 0)] - tr.t[np.maximum(k_then, 0)])
                boost &= k_now >= 0
                if boost.any():
                    ib = np.flatnonzero(boost)
                    hit, burn = threat_eval.corridor(seen[ib], accel[ib], asset_lat, asset_lon, asset_r)
                    threat_ok[ib] |= hit
                    re = ib[hit]
                    if re.size:
                        pos[re], vel[re], ev[re] = threat_eval.predict(seen[re], accel[re], burn[hit], PREDICT_DT, J,
                                                                       t_state=tr.t[k_now[re]] - t_track)
                declared[cs, ns] |= threat_ok
            else:
                threat_ok = np.ones(cs.size, bool)
            impact_t = t_track + ev[:, 4]
            # the decision log judges only looks at a track that still says the threat flies
            # (no track deletion yet: a track left without reports is extrapolated underground)
            live = (impact_t > tick) & (earth.ecef_to_geodetic(x[:, :3])[2] > 0.0)
            last_look[cs[live], ns[live]] = tick
            plat, plon, alt = earth.ecef_to_geodetic(pos)
            t_int = t_track + jt  # (J,)
            for b, bat in enumerate(bats):
                if plan_src[b] != key:
                    continue
                spec, fan = bat.spec, fans[b]
                ground = earth.great_circle_distance(bat.site.lat, bat.site.lon, plat, plon)  # the envelope's range
                tau = fan.time_to(ground, alt)  # inf outside the envelope (range, altitude) or the fan
                allowed = (t_int < impact_t[:, None]) & (t_int > tick) & threat_ok[:, None]
                w = intercept_window(t_int, pos, vel, fan_time(fan, bat.site.lat, bat.site.lon),
                                     np.full(cs.size, tick + bat.reaction_time), allowed, latest=bool(boost.any()),
                                     tau=tau)
                found = np.flatnonzero(w["found"])
                # a window that closes does not hide what kept the battery from using it
                was = reason[cs[live], ns[live], b]
                reason[cs[live], ns[live], b] = np.where(
                    np.isin(was, _BLOCKING), was,
                    np.where(threat_ok, _R["out-of-envelope"], _R["not-threatening"])[live])
                reason[cs[found], ns[found], b] = _WAITING
                if found.size == 0:
                    continue
                # on a track still under thrust, hold fire to the last chance: the latest launch
                # that still meets the path anywhere inside the envelope, less one interval (the
                # prediction improves, often to a ballistic one, and the salvo then takes the
                # earliest intercept still open).  The earliest such deadline seen for a threat is
                # kept, so a noisy prediction cannot push the last chance later.
                hold = w["launch_first"]
                if boost.any():
                    bf = found[boost[found]]
                    deadline[cs[bf], ns[bf], b] = np.minimum(deadline[cs[bf], ns[bf], b], w["launch_latest"][bf])
                    hold = np.where(boost, deadline[cs, ns, b] - interval, hold)
                pi, vt = w["p_first"][found], w["v_first"][found]
                closing, crossing = intercept_geometry(vt, interceptor_velocity(fan, bat.site.lat, bat.site.lon, pi))
                pk = kill_probability(spec, closing, crossing)
                # the track quality at the predicted intercept point (the launch gate's sigma)
                sig = intercept_point_sigma(P[found], x[found, :3], pi, w["t_first"][found] - t_track)
                for j, m in enumerate(found):
                    best.setdefault((cs[m], ns[m]), []).append(
                        (w["t_first"][m], b, w["launch_first"][m], pi[j], closing[j], crossing[j], pk[j], sig[j],
                         bool(boost[m]), hold[m]))
        # allocate rounds: threats in order of their earliest possible intercept (magazines are
        # per run, so only the order within a run matters); a battery that has run dry passes
        # the threat to the next-best battery
        order = sorted(zip(*np.nonzero(due)), key=lambda cn: min((r[0] for r in best.get(cn, ())), default=np.inf))
        commits = []
        for c, n in order:
            cands = sorted(best.get((c, n), ()), key=lambda r: (r[0], r[1]))
            # a battery does not fire its last `reserve` rounds
            for r in cands:
                if magazine[c, r[1]] <= reserve[r[1]]:
                    reason[c, n, r[1]] = _R["magazine-empty"]
            cands = [r for r in cands if magazine[c, r[1]] > reserve[r[1]]]
            if not cands:
                next_check[c, n] = tick + _RECHECK * interval
                continue
            # launch gate: a battery whose launch is due now commits only on a fire-control
            # quality track; the earliest-intercept battery that is not stopped by it is chosen
            choice, gated = None, False
            for r in cands:
                due_now = max(r[2], r[9]) - bats[r[1]].reaction_time <= tick + interval
                if due_now and gate_k and gate_k * r[7] > bats[r[1]].spec.divert_m:
                    gated = True
                    log_hold(c, n, r[1], _R["track-quality"])
                    continue
                choice = r
                break
            if choice is None:
                next_check[c, n] = tick + interval  # the track improves: look again next interval
                continue
            ti, b, tl, p_int, closing, crossing, pk, sig, boosting, hold_until = choice
            bat = bats[b]
            if max(tl, hold_until) - bat.reaction_time > tick + interval:
                if boosting and hold_until > tl:
                    log_hold(c, n, b, _R["held-last-chance"])
                # not yet: re-plan with a fresher track just before the launch must go (at the
                # next interval if a better-placed battery is waiting for the track to improve)
                next_check[c, n] = tick + interval if gated or boosting else \
                    max(tick + interval, tl - bat.reaction_time - interval)
                continue
            rounds = int(min(getattr(bat, "salvo", doc.salvo), magazine[c, b] - reserve[b]))
            magazine[c, b] -= rounds
            reason[c, n, b] = _FIRED
            commits.append((c, n, b, rounds, tick, max(tl, tick + bat.reaction_time), ti, p_int, n_eng[c, n],
                            guide_src[b], closing, crossing, pk, sig, boosting))
            n_eng[c, n] += 1
            next_check[c, n] = ti + getattr(bat, "look_time", doc.look_time_s)
        if commits:
            true_pos, gone = _truth_at(truth, np.array([x[0] for x in commits]), np.array([x[1] for x in commits]),
                                       np.array([x[6] for x in commits]))
            hand = np.array([handover[x[2]] for x in commits])
            errs = _handover_errors(sources, commits, hand, true_pos, gone)
            shortfall = _reach_shortfall(bats, fans, commits, truth, true_pos, gone, hand)
            for (c, n, b, rounds, tk, launch, ti, p_int, e, _, closing, crossing, pk, sig, boosting), err, rt in zip(
                    commits, errs, shortfall):
                spec = bats[b].spec
                reached = err <= spec.divert_m and rt <= spec.divert_m
                hit = bool(reached) and bool((uniforms[c, n, e, :rounds] < pk).any())
                rows.append((c, n, b, rounds, tk, launch, ti, p_int, err, hit, closing, crossing, pk, sig, boosting,
                             rt))
                if hit:
                    alive[c, n] = False
        # a battery that stopped waiting ends its hold: a later one is logged again
        in_hold = np.where(reason == in_hold, in_hold, -1).astype(np.int8)
        tick = interval * (np.round(tick / interval) + 1)  # whole multiples, free of rounding drift
    decisions = _decision_log(holds, reason, alive, n_eng < max_eng, last_look, t_end)
    if not rows:
        return Engagements.empty(), decisions
    cols = list(zip(*rows))
    return Engagements(
        run=np.array(cols[0], np.int64), threat=np.array(cols[1], np.int64), battery=np.array(cols[2], np.int64),
        rounds=np.array(cols[3], np.int64), decision_time=np.array(cols[4], float),
        launch_time=np.array(cols[5], float), intercept_time=np.array(cols[6], float),
        intercept_pos=np.array(cols[7], float).reshape(-1, 3), prediction_error=np.array(cols[8], float),
        killed=np.array(cols[9], bool), closing_speed=np.array(cols[10], float),
        crossing_angle=np.array(cols[11], float), pk=np.array(cols[12], float), pip_sigma=np.array(cols[13], float),
        boost_track=np.array(cols[14], bool), reach_shortfall=np.array(cols[15], float)), decisions


def _decision_log(holds: list, reason: np.ndarray, alive: np.ndarray, open_: np.ndarray, last_look: np.ndarray,
                  t_end: float) -> Decisions:
    """The holds as logged, then a no-fire row per battery for every threat still alive with
    engagements left; a battery's last state "waiting" or "fired" (a planned shot that never
    went, or a miss never followed up) means the threat was gone before the next shot."""
    c, n = np.nonzero(alive & open_)
    B = reason.shape[-1]
    cb, nb = np.repeat(c, B), np.repeat(n, B)
    bb = np.tile(np.arange(B), c.size)
    code = reason[cb, nb, bb]
    code = np.where(code < 0, _R["threat-gone"], code)
    t = last_look[cb, nb]
    t = np.where(np.isfinite(t), t, t_end)
    h = np.array(holds, float).reshape(-1, 5)
    return Decisions(run=np.concatenate([h[:, 0], cb]).astype(np.int64),
                     threat=np.concatenate([h[:, 1], nb]).astype(np.int64),
                     battery=np.concatenate([h[:, 2], bb]).astype(np.int64),
                     time=np.concatenate([h[:, 3], t]),
                     kind=np.concatenate([np.zeros(len(holds), np.int8), np.ones(cb.size, np.int8)]),
                     reason=np.concatenate([h[:, 4], code]).astype(np.int8))


def _truth_at(truth: Trajectories, c: np.ndarray, n: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True positions (E, 3) [ECEF m] of threats ``(c, n)`` at times ``t`` (E,), interpolated
    between the samples (:func:`shieldlab.flyout.interp.state_at`), and whether each is gone
    by then (landed, or past the simulated time)."""
    pos, _ = state_at(truth, t, index=(c, n), velocity=False)
    gone = ~(t < truth.impact_time[c, n]) | (t > truth.t[-1])
    return pos, gone


def _reach_shortfall(bats, fans, commits: list, truth: Trajectories, true_pos: np.ndarray, gone: np.ndarray,
                     slip: np.ndarray) -> np.ndarray:
    """How far [m] each salvo's interceptor falls short of the threat's true path: 0 where the
    truth passes through the interceptor's fly-out fan within ``slip`` (per salvo: its battery's
    handover) seconds of the planned intercept time (in-flight target updates steer it
    there; the plan of an earliest intercept
    lies on the fan's front, so a threat a little ahead of its prediction is met a little
    later), else the distance at the planned time from the planned point to the truth (the
    kill vehicle's divert must make that up); ``inf`` where the threat is gone.

    The plan aims at a point predicted from a track; in-flight updates move the aim, but no
    update lets an interceptor be where its fan cannot reach in the time it has flown.
    Plans made on a boost-phase track are the ones this bites."""
    out = np.zeros(len(commits))
    for i, x in enumerate(commits):
        c, n, b, launch, t_int, p_int = x[0], x[1], x[2], x[5], x[6], x[7]
        if gone[i]:
            out[i] = np.inf
            continue
        # the true path within the slip, on its own clock (not the flyout's sampling grid)
        when = t_int + np.linspace(-slip[i], slip[i], 2 * int(np.ceil(slip[i] / _SLIP_STEP_S)) + 1)
        when = when[(when >= truth.t[0]) & (when < truth.impact_time[c, n]) & (when <= truth.t[-1])]
        path, _ = state_at(truth, when, index=(np.full(when.size, c), np.full(when.size, n)), velocity=False)
        pts = np.concatenate([true_pos[i][None], path])
        when = np.concatenate([[t_int], when])
        site = bats[b].site
        lat, lon, alt = earth.ecef_to_geodetic(pts)
        tau = fans[b].time_to(earth.great_circle_distance(site.lat, site.lon, lat, lon), alt)
        out[i] = 0.0 if np.any(tau <= when - launch) else float(np.linalg.norm(true_pos[i] - p_int))
    return out


def _handover_errors(sources: dict, commits: list, handover: np.ndarray, true_pos: np.ndarray,
                     gone: np.ndarray) -> np.ndarray:
    """Distance [m] between each salvo's last predicted intercept point and the truth
    ``true_pos`` (E, 3) at the intercept time.

    The prediction extrapolates the battery's guidance track (``sources[key]``, key in
    the commit) from its last update before ``max(launch, intercept - handover)`` to the
    intercept time; ``inf`` where the threat is gone by then (``gone``) or that track does
    not hold it yet.
    """
    c = np.array([x[0] for x in commits])
    n = np.array([x[1] for x in commits])
    launch = np.array([x[5] for x in commits])
    t_int = np.array([x[6] for x in commits])
    err = np.full(len(commits), np.inf)
    keys = [x[9] for x in commits]
    for key in set(keys):
        m = np.array([k == key for k in keys])
        tr = sources[key]
        t_h = np.maximum(launch[m], t_int[m] - handover[m])
        k = np.searchsorted(tr.t, t_h, side="right") - 1
        ok = k >= 0
        x = tr.x[c[m], n[m], np.maximum(k, 0)]
        ok &= np.isfinite(x).all(axis=1)
        # rows without a track propagate a harmless placeholder (a point on the surface, at rest)
        dummy = np.array([earth.WGS84_A, 0.0, 0.0, 0.0, 0.0, 0.0])
        pred = propagate(np.where(ok[:, None], x, dummy), np.where(ok, t_int[m] - tr.t[np.maximum(k, 0)], 0.0))[:, :3]
        e = np.linalg.norm(pred - true_pos[m], axis=1)
        err[np.flatnonzero(m)] = np.where(ok, e, np.inf)
    return np.where(gone, np.inf, err)
