"""Air policing: warnings, scrambles and patrols, intercept geometry and the rules of engagement.

Every decision here reads the defender's track (:class:`~shieldlab.airspace.track.AirTracks`)
only: a warning is called when the *track* is within ``warn_within`` of the border or
inside it, an entry is declared when the *track* is inside, a fighter is vectored on the
*track*.  The truth comes back only in :func:`assess`, the kill assessment (is the target
really within the weapon's reach; where does it fall).

Model (docs/models.md, "Air policing"):

* Warnings on the emergency channels every ``warning_interval`` while the condition holds,
  counted from its first instant; a lapse and a return start a new series.
* Scramble from quick-reaction alert: airborne ``readiness`` after the order (NATO's QRA-15:
  15 minutes), then ``climb`` at the base to patrol height and speed; a combat air patrol
  is on station, airborne, from the start.
* Intercept geometry: the fighter flies a straight collision course at its cruise speed from
  where it is when vectored, against the track's position and velocity then (a constant-
  velocity target).  It is in weapon range at the first ``tau >= 0`` with
  ``|p + v tau - p_f| <= v_f tau + R_w``: a quadratic in ``tau`` (Shneydor, *Missile
  Guidance and Pursuit*, 1998, ch. 2, collision course).  Closure is the rate at which that
  distance falls.  From then on the fighter follows the track at its cruise speed, closing to
  no nearer than half its weapon's reach (:func:`_course`).  Under ``pursuit: own-airspace``
  (the default) a fighter inside the defended airspace does not leave it: a step that would
  take it across the border ends at the border (to ~10 m), and it holds there while the
  track is beyond; its weapon's reach still runs across.  Under ``international`` the same
  holds at another country's border: the fighter flies in its own and in international
  airspace (a Baltic patrol meeting a flier over the high seas), never in a third country's.
* Rules of engagement ``inside``: fire at the first decision instant at or after the fighter
  is in range and the track within its weapon's reach of where the fighter is, with
  ``min_warnings`` warnings given, the track inside and fire authorised
  (``engage_from``), after ``reaction``.  After a miss, seen when the weapon's flight ends, the
  next decision to fire is the first allowed instant :data:`LOOK_S` later or after (its shot
  goes ``reaction`` after it), up to ``max_shots``.
* A fighter without an air-to-air weapon intercepts (identifies, escorts) at
  :data:`VISUAL_ID_M`; it cannot fire.
* Kill assessment: the weapon flies at its mean speed straight to where it meets the flier's
  true path (a tail chase is a longer flight than the range at release, a head-on shot a
  shorter one); it can kill only if the true range at release is at least its least range and
  the distance it flies at most its greatest, then with its catalogue ``pk``.  The cell fires
  on the same rule read from the track (:func:`weapon_flight_m`, the track's velocity held).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shieldlab import earth

__all__ = ["Fighter", "Shot", "RowPolicing", "fighters", "police_row", "in_range_time", "assess", "next_shot",
           "reach_m", "weapon_flight_m", "weapon_flight_time", "DECISION_STEP_S", "VISUAL_ID_M", "LOOK_S"]

#: Decision cadence of the air-policing cell [s]: how often it looks at the picture.
DECISION_STEP_S = 2.0
#: From a weapon's miss (the end of its flight) to the shooter's next decision [s] (assumption).
LOOK_S = 2.0
#: How close a fighter without an air-to-air weapon must come to intercept (identify and
#: escort) a flier [m]: visual identification range (assumption).
VISUAL_ID_M = 1_000.0


def reach_m(spec) -> float:
    """How close fighter type ``spec`` must come to a flier to intercept it [m]: its weapon's
    greatest range, or :data:`VISUAL_ID_M` without a weapon."""
    return 1e3 * spec.weapon.max_range_km if spec.weapon is not None else VISUAL_ID_M


@dataclass(frozen=True)
class Fighter:
    """A fighter (pair) that can be vectored: where it is and from when, SI/ECEF."""

    name: str
    spec: Any  # catalogue Aircraft with a weapon
    pos: np.ndarray  # (3,) ECEF [m]: the station, or the base at patrol height
    ready: float  # s: on station from (patrol) or ready after airborne + climb, from the order (base: relative)
    until: float  # s: on station until (patrol); inf for a base
    base: bool  # True: scrambled from quick-reaction alert (ready counts from the order)
    climb: float = 0.0  # s: a base's climb to patrol height, the last part of ready


@dataclass(frozen=True)
class Shot:
    fighter: str
    time: float  # release [s]
    range_m: float  # true range at release
    tof: float  # s: to where it met the flier, or (met False) its whole flight, reach over speed
    killed: bool
    hit_time: float  # s (nan: no kill)
    met: bool = True  # whether the weapon met the flier within its reach (False: a tail chase it lost)


@dataclass
class RowPolicing:
    """What the policing cell did about one flier in one run (times in s; nan: never)."""

    warnings: list[float] = field(default_factory=list)
    declared_entry: float = np.nan
    declared_exit: float = np.nan
    order: float = np.nan  # scramble order
    airborne: dict[str, float] = field(default_factory=dict)  # base -> airborne time
    vectored: str = ""  # the fighter vectored first into range
    reach: dict[str, float] = field(default_factory=dict)  # each fighter -> when it would be in weapon range
    # the vectored fighter's first decision instant with the track inside and in its weapon's reach
    # (inf: never; nan: its course was not flown)
    reach_inside: float = np.nan
    in_range: float = np.nan
    closure: float = np.nan  # m/s at in-range
    shots: list[Shot] = field(default_factory=list)
    no_shot: str = ""  # why no shot was fired, where none was
    # releases the rules allow (decision instants with the track inside and a fighter in range,
    # plus the reaction time): the first shot's and, after a miss, the next ones' [s]
    fire_times: np.ndarray = field(default_factory=lambda: np.empty(0))
    reaction: float = 0.0  # s from a decision to fire to the release (fire_times less it: the decisions)
    # the vectored fighter's course: from pf at time t_v with velocity vel on its collision
    # course until tau, then after the track (path_t [s], path_p (K, 3) ECEF [m])
    t_v: float = np.nan
    pf: np.ndarray | None = None
    vel: np.ndarray | None = None
    tau: float = np.nan
    path_t: np.ndarray = field(default_factory=lambda: np.empty(0))
    path_p: np.ndarray = field(default_factory=lambda: np.empty((0, 3)))

    def shooter_at(self, t: float) -> np.ndarray:
        """The vectored fighter's ECEF position at ``t`` [m] (where it was vectored before
        ``t_v``, its last place after its course ends)."""
        assert self.pf is not None and self.vel is not None
        if self.path_t.size == 0:
            return self.pf + self.vel * min(max(t - self.t_v, 0.0), self.tau)
        return np.array([np.interp(t, self.path_t, self.path_p[:, i]) for i in range(3)])


def fighters(policing) -> list[Fighter]:
    """The patrols and QRA bases of a compiled :class:`~shieldlab.scenario.compile.Policing`."""
    out = []
    for p in policing.patrols:
        out.append(Fighter(p.name, p.spec, p.site.ecef, p.start, p.end, False))
    for b in policing.bases:
        site = earth.geodetic_to_ecef(b.site.lat, b.site.lon, b.site.alt + b.spec.cruise_alt_m)
        out.append(Fighter(b.name, b.spec, site, b.readiness + b.climb, np.inf, True, b.climb))
    return out


def in_range_time(p, v, pf, vf: float, reach: float) -> tuple[float, float]:
    """(tau, closure): the least ``tau >= 0`` [s] at which a fighter at ``pf`` flying a straight
    collision course at speed ``vf`` comes within ``reach`` [m] of a target at ``p`` moving at
    constant velocity ``v`` (ECEF, m and m/s), and the closing speed then [m/s]; (inf, nan)
    if it never does.  Solves ``|d + v tau| = vf tau + reach`` with ``d = p - pf``."""
    d = np.asarray(p, float) - np.asarray(pf, float)
    dist = float(np.linalg.norm(d))
    if dist <= reach:
        return 0.0, float(vf - np.dot(d, v) / max(dist, 1e-9))
    # (v.v - vf^2) tau^2 + 2 (d.v - vf reach) tau + (d.d - reach^2) = 0
    a = float(v @ v - vf * vf)
    b = 2.0 * float(d @ v - vf * reach)
    c = dist * dist - reach * reach
    roots = []
    if abs(a) < 1e-9:
        if b < 0:
            roots = [-c / b]
    else:
        disc = b * b - 4 * a * c
        if disc >= 0:
            s = np.sqrt(disc)
            roots = [r for r in ((-b - s) / (2 * a), (-b + s) / (2 * a)) if r >= 0]
    if not roots:
        return np.inf, np.nan
    tau = float(min(roots))
    rel = d + v * tau  # target relative to the fighter's start at tau; the fighter flies along it
    u = rel / max(np.linalg.norm(rel), 1e-9)
    closure = float(vf - np.dot(u, v))
    return tau, closure


def police_row(pol, tracks_t, tx, inside, near, fighters_: list[Fighter], own=None) -> RowPolicing:
    """The policing cell's decisions about one flier from its track alone.

    tracks_t : (T,) grid [s]; tx (T, 6) the track's ECEF state (nan: no firm track);
    inside : (T,) the track is inside the airspace; near : (T,) within warn distance of it
    (or inside).  ``pol``: the compiled policing; ``fighters_``: :func:`fighters`.
    ``own``: where ``pol.pursuit`` keeps fighters (own-airspace: the airspace; international:
    anywhere but another country's), a function of ECEF points (M, 3) [m] saying which are
    there (None: fighters go anywhere).
    """
    out = RowPolicing()
    t = tracks_t
    step = max(1, int(round(DECISION_STEP_S / max(t[1] - t[0], 1e-9)))) if t.size > 1 else 1
    k = np.arange(0, t.size, step)
    tk, ins, nr = t[k], inside[k], near[k] | inside[k]
    # warnings: every interval while the condition holds, a new series after a lapse
    last = -np.inf
    prev = False
    for i in range(tk.size):
        if nr[i] and (not prev or tk[i] - last >= pol.warning_interval - 1e-9):
            out.warnings.append(float(tk[i]))
            last = tk[i]
        prev = bool(nr[i])
    if ins.any():
        j = int(np.argmax(ins))
        out.declared_entry = float(tk[j])
        after = np.flatnonzero(~ins[j:])
        if after.size:
            out.declared_exit = float(tk[j + after[0]])
    if pol.scramble == "on-warning" and out.warnings:
        out.order = out.warnings[0]
    elif pol.scramble == "on-entry" and np.isfinite(out.declared_entry):
        out.order = out.declared_entry
    if not np.isfinite(tx[:, 0]).any():
        out.no_shot = "no track: no radar held the flier"
        return out
    if not np.isfinite(out.order) or not fighters_:
        out.no_shot = ("no fighter" if np.isfinite(out.order) else
                       "no order: scramble is never" if pol.scramble == "never" else
                       "no order: the track never came near" if pol.scramble == "on-warning" else
                       "no order: the track never went inside")
        return out
    # vector every available fighter at the order (a base's at airborne + climb) on the track then
    best: tuple = (np.inf, np.nan, "", None)
    for f in fighters_:
        if f.base:
            out.airborne[f.name] = out.order + f.ready - f.climb
            t_v = out.order + f.ready
        else:
            if not (f.ready <= out.order <= f.until):
                continue
            t_v = out.order
        kv = int(np.searchsorted(t, t_v))
        if kv >= t.size:  # the flight is over before this fighter can be vectored
            out.reach[f.name] = np.inf
            continue
        # the track when the fighter is vectored (none held then: it is vectored on nothing)
        if not np.isfinite(tx[kv, 0]):
            out.reach[f.name] = np.inf
            continue
        x = tx[kv]
        p = x[:3] + x[3:] * (t_v - t[kv])
        held = np.flatnonzero(np.isfinite(tx[:, 0]))
        vf = f.spec.cruise_speed_kmh / 3.6
        tau, closure = in_range_time(p, x[3:], f.pos, vf, reach_m(f.spec))
        if t_v + tau > t[held[-1]]:  # in range only after the last of the track: never, as far as it knows
            tau = np.inf
        out.reach[f.name] = t_v + tau
        if t_v + tau < best[0]:
            rel = p + x[3:] * tau - f.pos
            best = (t_v + tau, closure, f.name, (t_v, f.pos, rel / max(np.linalg.norm(rel), 1e-9) * vf, tau))
    out.in_range, out.closure, out.vectored, path = best
    if path is not None:
        out.t_v, out.pf, out.vel, out.tau = path
    if not np.isfinite(out.in_range):
        out.no_shot = "no fighter could reach weapon range"
        return out
    spec = next(f for f in fighters_ if f.name == out.vectored).spec
    R = reach_m(spec)
    assert out.pf is not None and out.vel is not None
    kept = getattr(pol, "pursuit", "across") in ("own-airspace", "international")
    out.path_t, out.path_p = _course(tk, tx[k], out.t_v, out.pf, out.vel, out.tau, spec.cruise_speed_kmh / 3.6, R,
                                     own if kept else None)
    # the track within weapon range of the fighter where it is at each decision instant: the
    # weapon's flight to meet the track (constant velocity, as the cell predicts it) no longer
    # than its reach; a fighter without a weapon closes to its visual-identification distance
    def reaches(path_t, path_p):  # whether the track is within weapon range of a course, (len(tk),)
        at = np.column_stack([np.interp(tk, path_t, path_p[:, i]) for i in range(3)])
        if spec.weapon is not None:
            flown = weapon_flight_m(tx[k, :3] - at, tx[k, 3:], 1e3 * spec.weapon.mean_speed_kms)
        else:
            flown = np.linalg.norm(tx[k, :3] - at, axis=1)
        return np.isfinite(flown) & (flown <= R * (1 + 1e-9))

    in_reach = reaches(out.path_t, out.path_p)
    both = in_reach & ins & (tk >= out.t_v)
    out.reach_inside = float(tk[both][0]) if both.any() else np.inf
    # in range where the fighter's course puts it, not only where its collision course would
    # have: a fighter kept to its own airspace stops at the border, and a patrol was logged in
    # range (and counted so) while the track stayed beyond its weapon's reach
    after = tk >= out.in_range
    if not (in_reach & after).any():
        out.in_range = out.reach[out.vectored] = np.inf
        pursuit = getattr(pol, "pursuit", "across")
        # the pursuit rule is named only where it was the cause: a course free to cross the
        # border would have brought the track within range (a tail chase over the fighter's own
        # country had been blamed on it)
        blamed = kept and bool((reaches(*_course(tk, tx[k], out.t_v, out.pf, out.vel, out.tau,
                                                spec.cruise_speed_kmh / 3.6, R, None)) & after).any())
        out.no_shot = ("the fighter's course never brought the track within its weapon's range"
                       + ("" if not blamed else " (pursuit own-airspace: it stops at the border)"
                          if pursuit == "own-airspace" else
                          " (pursuit international: it stops at another country's border)"))
        return out
    if not in_reach[int(np.argmax(after))]:  # in reach only later than the collision course said
        out.in_range = out.reach[out.vectored] = float(tk[in_reach & after][0])
    if pol.engage == "never":
        out.no_shot = "rules of engagement: never fire"
        return out
    if spec.weapon is None:
        out.no_shot = "the fighter in range carries no weapon"
        return out
    if t[-1] < pol.engage_from:
        out.no_shot = "fire not yet authorised: intercept and escort only"
        return out
    if len(out.warnings) < pol.min_warnings:
        out.no_shot = f"fewer than {pol.min_warnings} warnings were given"
        return out
    enough = out.warnings[pol.min_warnings - 1] if pol.min_warnings > 0 else -np.inf
    allowed = ins & (tk >= out.in_range) & (tk >= enough) & (tk >= pol.engage_from)
    if not (allowed & in_reach).any():
        out.no_shot = ("the track was never inside" if not ins.any() else
                       "left the airspace before a fighter was in range" if tk[ins].max() < out.in_range else
                       "not inside after the last required warning" if not allowed.any() else
                       "the track was never within weapon range of the fighter while the rules allowed fire")
        return out
    allowed &= in_reach
    out.fire_times = tk[allowed] + pol.reaction
    out.reaction = float(pol.reaction)
    out.shots.append(Shot(out.vectored, float(out.fire_times[0]), np.nan, np.nan, False, np.nan))
    # the warnings end with the decision to fire (a tenth came 17 s after the Su-24M's shot)
    out.warnings = [w for w in out.warnings if w <= float(tk[allowed][0])]
    return out


def weapon_flight_m(rel: np.ndarray, v: np.ndarray, speed: float) -> np.ndarray:
    """Distance [m] a weapon released at the shooter flies at ``speed`` [m/s] on a straight
    collision course to meet targets at ``rel`` (K, 3) [m] from the shooter moving at constant
    velocity ``v`` (K, 3) [m/s] (ECEF axes): ``speed * tau`` with ``tau`` the least root
    ``>= 0`` of ``|rel + v tau| = speed tau``; inf where the weapon never catches the target
    (a receding target as fast as the weapon), nan where ``rel`` is.  A receding target
    (tail chase) makes the flight longer than the range at release, an approaching one
    (head-on) shorter (Shneydor 1998, ch. 2; :func:`in_range_time` with no reach)."""
    rel, v = np.atleast_2d(np.asarray(rel, float)), np.atleast_2d(np.asarray(v, float))
    # (v.v - s^2) tau^2 + 2 rel.v tau + rel.rel = 0
    a = np.einsum("ij,ij->i", v, v) - speed * speed
    b = 2.0 * np.einsum("ij,ij->i", rel, v)
    c = np.einsum("ij,ij->i", rel, rel)
    with np.errstate(divide="ignore", invalid="ignore"):
        disc = b * b - 4.0 * a * c
        sq = np.sqrt(np.maximum(disc, 0.0))
        # a < 0 (the weapon faster): one root >= 0, (-b - sq) / (2a), written without cancellation
        fast = 2.0 * c / (-b + sq)
        lin = np.where(b < 0, -c / b, np.inf)  # a == 0: as fast as the target
        r1, r2 = (-b - sq) / (2.0 * a), (-b + sq) / (2.0 * a)  # a > 0 (slower): the least root >= 0
        slow = np.where((disc >= 0) & (b < 0), np.minimum(np.where(r1 >= 0, r1, np.inf),
                                                           np.where(r2 >= 0, r2, np.inf)), np.inf)
        tau = np.where(a < -1e-9, np.where(c > 0, fast, 0.0), np.where(a > 1e-9, slow, lin))
    tau = np.where(c == 0.0, 0.0, tau)
    return np.where(np.isfinite(c), speed * tau, np.nan)


def _course(tk, txk, t_v: float, pf, vel, tau: float, vf: float, reach: float, own=None):
    """(times [s], (K, 3) ECEF positions [m]) of a vectored fighter's course: from ``pf`` at
    ``t_v`` along ``vel`` until ``t_v + tau`` (its collision course), then after the track
    ``txk`` (its state at the decision instants ``tk``): between instants it flies at ``vf``
    straight at where the track was, closing to no nearer than half its ``reach`` (it keeps
    the target in its weapon's envelope); while no track is held it holds where it is.
    ``own`` (optional, ECEF points (M, 3) to bool (M,)): a fighter that starts inside never
    leaves: a step across the border ends at it (:func:`_to_border`)."""
    arrive = t_v + tau
    nodes = np.unique(np.concatenate([[t_v], [arrive] if arrive <= tk[-1] else [], tk[tk > t_v]]))
    P = np.empty((nodes.size, 3))
    kept = own is not None and bool(own(np.asarray(pf, float)[None])[0])  # starts inside: stays
    for i, ti in enumerate(nodes):
        if ti <= arrive:
            P[i] = pf + vel * min(max(ti - t_v, 0.0), tau)
        else:
            prev, dt = P[i - 1], ti - nodes[i - 1]
            j = int(np.searchsorted(tk, nodes[i - 1], "right")) - 1  # the latest picture by then
            x = txk[max(j, 0), :3]
            d = x - prev
            dist = float(np.linalg.norm(d))
            if not np.isfinite(dist) or dist <= 0.5 * reach:
                P[i] = prev
                continue
            P[i] = prev + d / dist * min(vf * dt, dist - 0.5 * reach)
        if kept and i > 0:
            P[i] = _to_border(P[i - 1], P[i], own)
    return nodes, P


#: How close to the border a fighter kept inside stops [m] (the bisection's tolerance).
BORDER_TOL_M = 10.0


def _to_border(inside_pt: np.ndarray, to_pt: np.ndarray, own) -> np.ndarray:
    """Where a step from ``inside_pt`` (in the airspace) towards ``to_pt`` ends for a fighter
    kept inside (ECEF [m]): ``to_pt`` itself if it is inside, else the last point inside to
    :data:`BORDER_TOL_M`: of the points a bisection to that tolerance could visit (the segment
    cut in ``2^L`` equal parts), the last before the first one outside.  The step's end and
    those points are asked of ``own`` in one call (a fighter held at the border asks at every
    decision instant: point by point, then the end and the bisection in two calls, had made
    the air picture 2.8 and 2 times slower than a fighter free to cross)."""
    a, b = np.asarray(inside_pt, float), np.asarray(to_pt, float)
    length = float(np.linalg.norm(b - a))
    levels = max(0, math.ceil(math.log2(length / BORDER_TOL_M))) if length > BORDER_TOL_M else 0
    f = np.arange(2 ** levels + 1) / 2 ** levels
    pts = a + f[:, None] * (b - a)
    pts[-1] = b  # (the step's end itself, as flown)
    inside = np.asarray(own(pts), bool)
    if inside[-1]:
        return b
    inside[0] = True  # (as given: the start is not asked)
    return pts[int(np.argmin(inside)) - 1]


def next_shot(rp: RowPolicing, after: float) -> Shot | None:
    """The next shot of ``rp``'s fighter: the release of the first decision to fire the rules
    allow at or after ``after`` [s] (a decision, not a release: a miss seen at ``after`` is
    known to the decision that follows it, and the shot goes ``reaction`` later); None if the
    rules allow none."""
    later = rp.fire_times[rp.fire_times - rp.reaction >= after - 1e-9]
    if later.size == 0:
        return None
    return Shot(rp.vectored, float(later[0]), np.nan, np.nan, False, np.nan)


def assess(shot: Shot, shooter_pos: np.ndarray, truth_at, weapon, rng: np.random.Generator) -> Shot:
    """Kill assessment of one shot, with the truth: ``truth_at(t)`` gives the flier's true ECEF
    position at ``t`` (None once it is down).  The weapon flies at its mean speed straight to
    where it meets the flier's true path (:func:`weapon_flight_time`); it can kill if the true
    range at release is at least its least range and the distance it flies to meet the flier
    at most its greatest; the kill is a ``pk`` draw (drawn whatever the geometry, so the
    random stream does not depend on it)."""
    u = rng.random()
    p = truth_at(shot.time)
    if p is None:
        return Shot(shot.fighter, shot.time, np.nan, np.nan, False, np.nan)
    rng_m = float(np.linalg.norm(p - shooter_pos))
    speed = 1e3 * weapon.mean_speed_kms
    most = 1e3 * weapon.max_range_km / speed
    tof = weapon_flight_time(shot.time, shooter_pos, truth_at, speed, most)
    met = bool(np.isfinite(tof))
    killed = bool(met and 1e3 * weapon.min_range_km <= rng_m and u < weapon.pk)
    # a weapon that never met the flier flies out its reach: the miss is seen then
    tof = tof if met else most
    return Shot(shot.fighter, shot.time, rng_m, tof, killed, shot.time + tof if killed else np.nan, met)


#: Tolerance of the weapon's time of flight [s] (:func:`weapon_flight_time`).
FLIGHT_TOL_S = 1e-3


def weapon_flight_time(t_release: float, shooter_pos: np.ndarray, truth_at, speed: float, most: float) -> float:
    """Time [s] a weapon released at ``t_release`` from ``shooter_pos`` (ECEF [m]) flying straight
    at ``speed`` [m/s] takes to meet the flier whose true position is ``truth_at(t)`` (ECEF [m];
    None once it is down): the least ``tau`` with ``|p(t_release + tau) - shooter_pos| <= speed
    tau``, found by bisection to :data:`FLIGHT_TOL_S` over ``[0, most]`` (``most``: the weapon's
    greatest flight time, its reach over its speed); inf where it does not meet the flier by then
    (a tail chase beyond its reach, a flier that comes down first).  The gap
    ``|p(t) - shooter| - speed tau`` falls with ``tau`` wherever the flier is slower than the
    weapon, so the first crossing is the one bisection finds."""
    def gap(tau: float) -> float:
        p = truth_at(t_release + tau)
        return np.inf if p is None else float(np.linalg.norm(p - shooter_pos)) - speed * tau

    if not gap(most) <= 0.0:
        return np.inf
    lo, hi = 0.0, most
    while hi - lo > FLIGHT_TOL_S:
        mid = 0.5 * (lo + hi)
        if gap(mid) <= 0.0:
            hi = mid
        else:
            lo = mid
    return hi
