"""Kill assessment: how each committed salvo fared against the true threat.

This is the one place after the sensors where the truth is read.  A salvo
(:class:`~shieldlab.c2.records.Salvo`, committed by fire control on a track) is scored in
three steps:

1. **Reach** (:func:`reach_shortfall`): the threat's true path must pass through the
   interceptor's fly-out fan within the battery's handover time of the planned intercept
   (in-flight updates cannot take it where the fan does not reach), else the salvo is out
   of reach.
2. **Handover** (:func:`handover_errors`): the kill vehicle homes on the threat from the
   prediction made with the last in-flight target update (the battery's handover time
   before intercept) of its guidance track; if that prediction misses the true position
   by more than the interceptor's divert, the shot misses.
3. **Kill draw**: otherwise each interceptor of the salvo kills with the kill probability
   of the planned end-game geometry (:func:`shieldlab.engage.pk.kill_probability`).

The result goes back into the simulation only as the end of the threat's flight (its
reports stop): fire control learns it by looking, not from here.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from shieldlab import earth
from shieldlab.flyout.integrate import propagate
from shieldlab.flyout.interp import state_at
from shieldlab.flyout.records import Trajectories

_SLIP_STEP_S = 0.5  # s, spacing of the true path sampled within the slip by the reach check


class Assessment(NamedTuple):
    """Per salvo (E,): the handover prediction's miss [m], the reach shortfall [m], the kill, the
    guidance column, and where the salvo's target truly was at the intercept time."""

    prediction_error: np.ndarray  # m; inf: threat gone or no guidance track
    reach_shortfall: np.ndarray  # m; 0: reachable, inf: threat gone
    killed: np.ndarray  # bool
    guide_track: np.ndarray  # column of the guidance source the interceptor homed on (-1: none)
    true_pos: np.ndarray  # (E, 3) ECEF m: the threat's true position then (nan: gone, or no threat behind it)


def assess(salvos: list, truth: Trajectories, view, batteries, fans, uniforms: np.ndarray,
           targets: np.ndarray | None = None, draw: np.ndarray | None = None) -> Assessment:
    """Score ``salvos`` against ``truth`` (batch (C, N)); ``view`` the track sources (guidance
    tracks, :class:`~shieldlab.c2.trackview.TrackView`), ``batteries`` and ``fans`` the
    world's batteries and their fly-out fans, ``uniforms`` (C, T, D, S) the kill draws
    (salvo ``i`` at track ``t`` uses ``uniforms[c, t, draw[i], :rounds]``; ``draw`` None:
    its engagement number).  ``targets``
    (C, T), or (B, C, T) per battery: the object behind each fire-control track (threat ``n``; anything else, a
    spent booster or a false alarm, cannot be killed to any effect: scored as gone); None
    where the tracks are the threats.  Each salvo is scored as if alone; where two meet one
    threat, :func:`first_kills` says which found it already destroyed."""
    c = np.array([s.run for s in salvos], int)
    hand = np.array([batteries[s.battery].handover for s in salvos], float)
    guide = guidance_columns(view, salvos, hand, correlate=targets is not None)
    col = np.array([s.threat for s in salvos], int)
    n = threat_of(salvos, truth.batch_shape[1], targets, np.where(guide >= 0, guide, col))
    t_int = np.array([s.intercept_time for s in salvos], float)
    true_pos, gone = truth_at(truth, c, np.maximum(n, 0), t_int)
    gone |= n < 0
    err = handover_errors(view, salvos, hand, true_pos, gone, guide)
    short = reach_shortfall(batteries, fans, salvos, truth, true_pos, gone, hand, n)
    divert = np.array([batteries[s.battery].spec.divert_m for s in salvos], float)
    reached = (err <= divert) & (short <= divert)
    d = np.array([s.engagement for s in salvos], int) if draw is None else np.asarray(draw, int)
    killed = np.array([bool(r) and bool((uniforms[s.run, s.threat, k, :s.rounds] < s.pk).any())
                       for s, r, k in zip(salvos, reached, d)], bool)
    return Assessment(err, short, killed, guide, np.where(gone[:, None], np.nan, true_pos))


def threat_of(salvos: list, n_threats: int, targets: np.ndarray | None, cols: np.ndarray | None = None) -> np.ndarray:
    """(E,) the threat behind each salvo's track (of ``n_threats``), -1 where none (a
    booster, a false alarm); the track itself where ``targets`` is None.  ``targets`` (C, T),
    or (B, C, T) where each battery's track of a column may follow another object (network
    track numbers: the object behind the member track the battery reads).  ``cols`` (E,):
    the column each salvo homed on, where not its own (:func:`guidance_columns`)."""
    col = np.array([s.threat for s in salvos], int) if cols is None else np.asarray(cols, int)
    if targets is None or not col.size:
        return col
    n = object_of(targets, np.array([s.battery for s in salvos], int), np.array([s.run for s in salvos], int), col)
    return np.where((n >= 0) & (n < n_threats), n, -1)


def object_of(targets: np.ndarray, battery: np.ndarray, run: np.ndarray, col: np.ndarray) -> np.ndarray:
    """The object behind fire-control column ``col`` of run ``run`` as battery ``battery``'s
    track says (threat ``n``, booster ``N + n``, -1 a false track): ``targets`` (C, T), the
    same for every battery, or (B, C, T) per battery."""
    return targets[battery, run, col] if targets.ndim == 3 else targets[run, col]


def first_kills(run: np.ndarray, threat: np.ndarray, t_int: np.ndarray, killed: np.ndarray) -> np.ndarray:
    """Which salvos met their threat after another salvo had destroyed it (E,) bool: of the
    salvos that would kill a threat, the one with the earliest intercept does; the later
    ones, whenever they were committed, find it gone."""
    late = np.zeros(run.size, bool)
    first: dict[tuple, float] = {}  # (run, threat) -> its first killing intercept time
    for i in np.argsort(t_int, kind="stable"):
        key = (run[i], threat[i])
        if key in first and t_int[i] > first[key]:
            late[i] = True
        elif killed[i]:
            first.setdefault(key, t_int[i])
    return late


def truth_at(truth: Trajectories, c: np.ndarray, n: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True positions (E, 3) [ECEF m] of threats ``(c, n)`` at times ``t`` (E,), interpolated
    between the samples (:func:`shieldlab.flyout.interp.state_at`), and whether each is gone
    by then (landed, or past the simulated time)."""
    pos, _ = state_at(truth, t, index=(c, n), velocity=False)
    gone = ~(t < truth.impact_time[c, n]) | (t > truth.t[-1])
    return pos, gone


def reach_shortfall(batteries, fans, salvos: list, truth: Trajectories, true_pos: np.ndarray, gone: np.ndarray,
                    slip: np.ndarray, threat: np.ndarray | None = None) -> np.ndarray:
    """How far [m] each salvo's interceptor falls short of the threat's true path: 0 where the
    truth passes through the interceptor's fly-out fan within ``slip`` (per salvo: its
    battery's handover) seconds of the planned intercept time (the plan of an earliest
    intercept lies on the fan's front, so a threat a little ahead of its prediction is met a
    little later), else the distance at the planned time from the planned point to the
    truth (the kill vehicle's divert must make that up); ``inf`` where the threat is gone.
    Plans made on a boost-phase track are the ones this bites.  ``threat`` (E,): the threat
    index of each salvo's target where its track is not the threat itself.

    All salvos' samples are taken in one pass (per battery one fan lookup): the same
    element-wise operations as scoring each salvo alone."""
    E = len(salvos)
    out = np.full(E, np.inf)
    live = np.flatnonzero(~np.asarray(gone, bool))
    if live.size == 0:
        return out
    c = np.array([salvos[i].run for i in live], np.intp)
    n = (np.array([salvos[i].threat for i in live], np.intp) if threat is None
         else np.asarray(threat, np.intp)[live])
    t_int = np.array([salvos[i].intercept_time for i in live], float)
    launch = np.array([salvos[i].launch_time for i in live], float)
    bat = np.array([salvos[i].battery for i in live], np.intp)
    # the true path within the slip, on its own clock (not the flyout's sampling grid): the
    # planned instant itself (its true position is known), then 2 m + 1 times across the slip
    m = np.ceil(slip[live] / _SLIP_STEP_S).astype(np.intp)
    counts = 2 * m + 1
    row = np.repeat(np.arange(live.size), counts)
    start = np.cumsum(counts) - counts
    j = np.arange(row.size) - start[row]
    # np.linspace(-slip, slip, 2 m + 1) as numpy computes it: j step - slip, the last one slip
    sl = slip[live][row]
    y = j * ((sl - -sl) / np.maximum(2 * m[row], 1)) + -sl
    y = np.where((j == 2 * m[row]) & (m[row] > 0), sl, y)
    when = t_int[row] + y
    keep = (when >= truth.t[0]) & (when < truth.impact_time[c[row], n[row]]) & (when <= truth.t[-1])
    row, when = row[keep], when[keep]
    path, _ = state_at(truth, when, index=(c[row], n[row]), velocity=False)
    rows = np.concatenate([np.arange(live.size), row])
    pts = np.concatenate([true_pos[live], path])
    when = np.concatenate([t_int, when])
    lat, lon, alt = earth.ecef_to_geodetic(pts)
    reached = np.zeros(pts.shape[0], bool)
    for b in np.unique(bat):
        k = bat[rows] == b
        site = batteries[b].site
        tau = fans[b].time_to(earth.great_circle_distance(site.lat, site.lon, lat[k], lon[k]), alt[k])
        reached[k] = tau <= when[k] - launch[rows[k]]
    hit = np.bincount(rows, weights=reached, minlength=live.size) > 0
    miss = np.linalg.norm(true_pos[live] - np.array([salvos[i].intercept_pos for i in live], float), axis=1)
    out[live] = np.where(hit, 0.0, miss)
    return out


def guidance_columns(view, salvos: list, handover: np.ndarray, correlate: bool = True) -> np.ndarray:
    """(E,) the column of each salvo's guidance source (``guide_key``) its interceptor homes on.

    The salvo's own column, except where it was planned on another source (``plan_key``,
    launch-on-remote) and the columns are track numbers (``correlate``: tracks of reports
    without labels, whose numbering joins a radar's track and the picture's only at first
    contact): there the battery's radar acquires the target at handover
    (``max(launch, intercept - handover)``) by position, as a battery cued by a remote
    track does.  Of the guidance source's tracks held then, the one whose state, predicted
    ballistically to the planning track's latest update by then, is nearest it,
    ``d² = Δᵀ (P_plan + P_own)⁻¹ Δ`` within the gate of :mod:`shieldlab.c2.track_numbers`;
    -1 where none is (no guidance)."""
    from shieldlab.c2.track_numbers import GATE_PROBABILITY
    from shieldlab.tracking import association, ekf_kernel

    col = np.array([s.threat for s in salvos], int)
    if not correlate:
        return col
    gate = association.gate(GATE_PROBABILITY, dof=6)
    for i, s in enumerate(salvos):
        if s.plan_key is None or s.plan_key == s.guide_key:
            continue
        col[i] = -1
        t_h = max(s.launch_time, s.intercept_time - float(handover[i]))
        pt, gt = view.tracks(s.plan_key), view.tracks(s.guide_key)
        kp = int(view.index(s.plan_key, np.array([s.run]), np.array([s.threat]), t_h)[0])
        held = np.flatnonzero(np.isfinite(pt.x[s.run, s.threat, :kp + 1]).all(axis=-1))
        if held.size == 0:
            continue
        kp = int(held[-1])
        xp, Pp, tp = pt.x[s.run, s.threat, kp], pt.P[s.run, s.threat, kp], float(pt.t[kp])
        J = gt.x.shape[1]
        kg = view.index(s.guide_key, np.full(J, s.run), np.arange(J), t_h)
        best = gate
        for j in np.flatnonzero((kg >= 0) & np.isfinite(gt.x[s.run, np.arange(J), np.maximum(kg, 0)]).all(axis=-1)):
            k = int(kg[j])
            xo, Po = ekf_kernel.predict(gt.x[s.run, j, k][None], gt.P[s.run, j, k][None], tp - float(gt.t[k]), 0.0)
            d = xp - xo[0]
            d2 = float(d @ np.linalg.solve(Pp + Po[0], d))
            if d2 <= best:
                col[i], best = int(j), d2
    return col


def handover_errors(view, salvos: list, handover: np.ndarray, true_pos: np.ndarray, gone: np.ndarray,
                    cols: np.ndarray | None = None) -> np.ndarray:
    """Distance [m] between each salvo's last predicted intercept point and the truth
    ``true_pos`` (E, 3) at the intercept time.

    The prediction extrapolates the salvo's guidance track (``view.tracks(salvo.guide_key)``)
    from its last update before ``max(launch, intercept - handover)`` to the intercept time;
    ``inf`` where the threat is gone by then (``gone``) or that track does not hold it yet.
    ``cols`` (E,): the guidance source's column of each salvo (:func:`guidance_columns`;
    default its own, -1 none).
    """
    c = np.array([s.run for s in salvos], int)
    n = np.array([s.threat for s in salvos], int) if cols is None else np.asarray(cols, int)
    launch = np.array([s.launch_time for s in salvos], float)
    t_int = np.array([s.intercept_time for s in salvos], float)
    err = np.full(len(salvos), np.inf)
    keys = [s.guide_key for s in salvos]
    for key in set(keys):
        m = np.array([k == key for k in keys])
        tr = view.tracks(key)
        t_h = np.maximum(launch[m], t_int[m] - handover[m])
        k = view.index(key, c[m], np.maximum(n[m], 0), t_h)
        ok = (k >= 0) & (n[m] >= 0)
        x = tr.x[c[m], np.maximum(n[m], 0), np.maximum(k, 0)]
        ok &= np.isfinite(x).all(axis=1)
        # rows without a track propagate a harmless placeholder (a point on the surface, at rest)
        dummy = np.array([earth.WGS84_A, 0.0, 0.0, 0.0, 0.0, 0.0])
        pred = propagate(np.where(ok[:, None], x, dummy), np.where(ok, t_int[m] - tr.t[np.maximum(k, 0)], 0.0))[:, :3]
        e = np.linalg.norm(pred - true_pos[m], axis=1)
        err[np.flatnonzero(m)] = np.where(ok, e, np.inf)
    return np.where(gone, np.inf, err)
