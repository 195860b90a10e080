"""Fire control: when, from which battery and at what point to engage each threat.

Reads the tracks of the battery's system (never the truth) to plan; reads the
truth only to score the shot (kill assessment).  Per chunk of runs it is an
event-driven loop on a planning clock (``doctrine.planning_interval_s``): each
threat has a next check time; at a check the system extrapolates its track
ballistically (:func:`shieldlab.flyout.integrate.coast`), evaluates the threat
(predicted impact on a defended asset?), and finds for every battery the
earliest intercept point inside the battery's envelope (range, altitude) that an
interceptor launched after the reaction time can reach.  The battery with the
earliest such intercept and rounds left gets the threat.  The salvo is committed
in the last planning interval before its launch time, so the freshest track
sets the aim; until then the threat is re-planned.

Kill assessment: the kill vehicle homes on the threat from the prediction made
with the last in-flight target update (``doctrine.handover_s`` before intercept);
if that prediction misses the true position by more than the interceptor's
divert capability the shot misses, otherwise each interceptor of the salvo kills
with its single-shot kill probability.  With shoot-look-shoot a surviving
threat is re-engaged after the look time.
"""

from __future__ import annotations

import numpy as np

from shieldlab import earth
from shieldlab.engage.solver import earliest_intercept
from shieldlab.engage.records import Engagements
from shieldlab.flyout.integrate import coast, propagate
from shieldlab.flyout.records import Trajectories
from shieldlab.tracking.records import Tracks

PREDICT_DT = 4.0  # s, step of the fire-control extrapolation (RK4: metre-level over minutes)
HORIZON = 2400.0  # s, how far ahead fire control extrapolates
_RECHECK = 4  # planning intervals before an unengageable threat is looked at again


def engage(world, tracks: dict[str, Tracks], truth: Trajectories, uniforms: np.ndarray) -> Engagements:
    """Plan and score every engagement of a chunk.

    ``truth`` has batch shape (C, N); ``tracks`` maps system name to its
    :class:`Tracks` with the same batch shape; ``uniforms`` (C, N, E, S) are the
    kill draws (E engagements, S rounds per salvo).
    """
    doc = world.scenario.doctrine
    C, N = truth.batch_shape
    bats = world.batteries
    if not bats or not tracks:
        return Engagements.empty()
    max_eng = doc.max_engagements if doc.shoot_look_shoot else 1
    interval = doc.planning_interval_s
    magazine = np.tile(np.array([b.rounds for b in bats]), (C, 1))
    site = np.array([b.site.ecef for b in bats])
    sys_of = [b.system for b in bats]
    alive = np.ones((C, N), bool)
    n_eng = np.zeros((C, N), int)
    confirm = np.full((C, N), np.inf)
    for s, tr in tracks.items():
        confirm = np.minimum(confirm, tr.confirm_time)
    next_check = confirm.copy()
    t_end = float(truth.t[-1])
    asset_lat = np.array([a.site.lat for a in world.assets])
    asset_lon = np.array([a.site.lon for a in world.assets])
    asset_r = np.array([a.radius for a in world.assets])
    rows: list[tuple] = []

    tick = float(np.min(next_check)) if np.isfinite(next_check).any() else np.inf
    while tick <= t_end:
        open_ = alive & (n_eng < max_eng)
        due = open_ & (next_check <= tick)
        if not due.any():
            upcoming = np.where(open_, next_check, np.inf)
            nxt = float(upcoming.min())
            if not np.isfinite(nxt):
                break
            tick = max(tick + interval, nxt)
            continue
        best = {}
        for system, tr in tracks.items():
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
            J = int(min(HORIZON, t_end - t_track) / PREDICT_DT) + 2  # no need to look past the scenario's end
            jt = PREDICT_DT * np.arange(J)
            pos, vel, ev = coast(x, PREDICT_DT, J)
            impact_t = t_track + ev[:, 4]
            if doc.engage == "threatening" and len(world.assets):
                ilat, ilon, _ = earth.ecef_to_geodetic(ev[:, 5:8])
                dist = earth.great_circle_distance(ilat[:, None], ilon[:, None], asset_lat, asset_lon)
                threat_ok = np.isfinite(ev[:, 4]) & (dist <= asset_r).any(axis=1)
            else:
                threat_ok = np.ones(cs.size, bool)
            plat, plon, alt = earth.ecef_to_geodetic(pos)
            t_int = t_track + jt  # (J,)
            for b, bat in enumerate(bats):
                if sys_of[b] != system:
                    continue
                spec = bat.spec
                ground = earth.great_circle_distance(bat.site.lat, bat.site.lon, plat, plon)  # the envelope's range
                envelope = ((ground >= 1e3 * spec.min_range_km) & (ground <= 1e3 * spec.max_range_km)
                            & (alt >= 1e3 * spec.min_intercept_alt_km) & (alt <= 1e3 * spec.max_intercept_alt_km)
                            & (t_int < impact_t[:, None]) & (t_int > tick) & threat_ok[:, None])
                found, ti, pi, tl = earliest_intercept(t_int, pos, vel, site[b], bat.burnout_speed,
                                                       spec.burn_time_s, np.full(cs.size, tick + bat.reaction_time),
                                                       envelope)
                for m in np.flatnonzero(found):
                    best.setdefault((cs[m], ns[m]), []).append((ti[m], b, tl[m], pi[m]))
        # allocate rounds: threats in order of their earliest possible intercept (magazines are
        # per run, so only the order within a run matters); a battery that has run dry passes
        # the threat to the next-best battery
        order = sorted(zip(*np.nonzero(due)), key=lambda cn: min((r[0] for r in best.get(cn, ())), default=np.inf))
        commits = []
        for c, n in order:
            cands = sorted(best.get((c, n), ()), key=lambda r: (r[0], r[1]))
            choice = next((r for r in cands if magazine[c, r[1]] > 0), None)
            if choice is None:
                next_check[c, n] = tick + _RECHECK * interval
                continue
            ti, b, tl, p_int = choice
            bat = bats[b]
            if tl - bat.reaction_time > tick + interval:
                # not yet: re-plan with a fresher track just before the launch must go
                next_check[c, n] = max(tick + interval, tl - bat.reaction_time - interval)
                continue
            rounds = int(min(doc.salvo, magazine[c, b]))
            magazine[c, b] -= rounds
            commits.append((c, n, b, rounds, tick, max(tl, tick + bat.reaction_time), ti, p_int, n_eng[c, n],
                            bat.system))
            n_eng[c, n] += 1
            next_check[c, n] = ti + doc.look_time_s
        if commits:
            errs = _handover_errors(tracks, truth, commits, doc.handover_s)
            for (c, n, b, rounds, tk, launch, ti, p_int, e, _), err in zip(commits, errs):
                spec = bats[b].spec
                hit = bool(err <= spec.divert_m) and bool((uniforms[c, n, e, :rounds] < spec.sspk).any())
                rows.append((c, n, b, rounds, tk, launch, ti, p_int, err, hit))
                if hit:
                    alive[c, n] = False
        tick += interval
    if not rows:
        return Engagements.empty()
    cols = list(zip(*rows))
    return Engagements(
        run=np.array(cols[0], np.int64), threat=np.array(cols[1], np.int64), battery=np.array(cols[2], np.int64),
        rounds=np.array(cols[3], np.int64), decision_time=np.array(cols[4], float),
        launch_time=np.array(cols[5], float), intercept_time=np.array(cols[6], float),
        intercept_pos=np.array(cols[7], float).reshape(-1, 3), prediction_error=np.array(cols[8], float),
        killed=np.array(cols[9], bool))


def _handover_errors(tracks: dict[str, Tracks], truth: Trajectories, commits: list, handover: float) -> np.ndarray:
    """Distance [m] between each salvo's last predicted intercept point and the truth.

    The prediction extrapolates the battery system's track from its last update
    before ``max(launch, intercept - handover)`` to the intercept time; ``inf`` where
    the threat is gone by then (landed, or beyond the simulated time) or untracked.
    """
    c = np.array([x[0] for x in commits])
    n = np.array([x[1] for x in commits])
    launch = np.array([x[5] for x in commits])
    t_int = np.array([x[6] for x in commits])
    # truth at the intercept time, linear between the uniform samples
    t0, dt = truth.t[0], truth.dt
    f = np.clip((t_int - t0) / dt, 0, truth.t.size - 1)
    i0 = np.minimum(np.floor(f).astype(int), truth.t.size - 2)
    w = (f - i0)[:, None]
    true_pos = truth.pos[c, n, i0] * (1 - w) + truth.pos[c, n, i0 + 1] * w
    gone = ~(t_int < truth.impact_time[c, n]) | (t_int > truth.t[-1])
    err = np.full(len(commits), np.inf)
    systems = [x[9] for x in commits]
    for system in set(systems):
        m = np.array([s == system for s in systems])
        tr = tracks[system]
        t_h = np.maximum(launch[m], t_int[m] - handover)
        k = np.searchsorted(tr.t, t_h, side="right") - 1
        ok = k >= 0
        x = tr.x[c[m], n[m], np.maximum(k, 0)]
        ok &= np.isfinite(x).all(axis=1)
        pred = propagate(np.where(ok[:, None], x, 0.0), np.where(ok, t_int[m] - tr.t[np.maximum(k, 0)], 0.0))[:, :3]
        e = np.linalg.norm(pred - true_pos[m], axis=1)
        err[np.flatnonzero(m)] = np.where(ok, e, np.inf)
    return np.where(gone, np.inf, err)


