"""Fire control: when, from which battery and at what point to engage each threat.

One :class:`FireControl` is the fire control of one C2 node: it owns some batteries and
reads tracks only (a :class:`~shieldlab.c2.trackview.TrackView`), never the truth.  The
engine's loop (:mod:`shieldlab.engine.fight`) calls :meth:`FireControl.decide` on a
planning clock (``doctrine.planning_interval``); each call returns the salvos committed
at that tick as :class:`~shieldlab.c2.records.Salvo` records, which the engagement stage
flies and kill assessment scores.

At a tick, each threat due for a look is evaluated on the battery's planning track: the
track is extrapolated ballistically (:func:`shieldlab.flyout.integrate.coast`); the threat
evaluation (:mod:`shieldlab.c2.threat_eval`) gives the probability that it lands on a
defended asset (with the track's uncertainty carried to the impact), or, while the track
shows thrust, its impact corridor, and the plan then follows the corridor's path to the
threatened asset.  For every battery the earliest intercept point inside its envelope
that its interceptor (fly-out fan, :mod:`shieldlab.engage.fan`), launched after the
reaction time, can reach is found (:func:`shieldlab.engage.solver.intercept_window`).
The battery with the earliest such intercept and rounds left above its reserve gets the
threat; where rounds run short, threats are served in order of the value at stake (the
defended assets' ``value`` times the probability of hitting each), and a battery keeps a
salvo for each threat with more value at stake that it can also reach (reason
``kept-for-higher-value``).  The salvo is committed in the last planning interval before its launch time,
so the freshest track sets the aim; until then the threat is re-planned.  On a track
still under thrust a battery holds fire to its last chance: the latest launch that still
meets the path inside the envelope (the earliest such deadline seen is kept, so a noisy
estimate cannot push it later), less one interval.

Cue modes (per battery, ``Battery.cue``); "system track" is the track of the battery's
node (its sensors fused), "own track" that of the battery's own radar alone:

* ``engage-on-remote``: launch on the system track and guide on it to the end;
* ``launch-on-remote``: launch on the system track, then the own radar takes over (the
  in-flight updates come from the own track);
* ``own``: plan, launch and guide on the own track only.

Where a battery ends too late for a threat the node never engaged, or its path out of
reach, the log asks whether it had a window at a look that judged the threat harmless
(each such look replayed at the end of the run): if so its reason is ``judged-late``, the
threat evaluation's, not the timing's or the envelope's.

Shoot-look-shoot: after a salvo the threat is looked at again at the planned intercept
time plus the battery's look time.  If its planning track has had a detection since the
intercept time the threat survived and is engaged again; if not it is judged destroyed
(reason ``assessed-killed``) and watched: should a detection come later, it is engaged
again.  Fire control never reads whether a shot killed; it sees what the radars see.

Launch gate (``doctrine.track_quality_sigma`` = k, ``Doctrine.gate_k``): a battery whose launch is due commits only when
``k * sigma <= divert``, sigma being the position uncertainty of the predicted intercept
point (:func:`intercept_point_sigma`).  Where the gate stops the best battery, the next
battery by intercept time that it does not stop is taken; where it stops all, the threat
is re-planned at the next interval with a fresher track.

Cooperation between nodes (the engine sets it up): a node may be told that another node
engaged a threat (:meth:`FireControl.learn`): it leaves the threat to that node until
that engagement's look is over (reason ``engaged-elsewhere``), then looks as after a shot
of its own: unless one of its planning tracks had a detection after that engagement's
intercept time, the threat is judged destroyed and watched (a node that heard of a kill
does not fire at the stale track a destroyed threat leaves); a node with a ``sector``
engages only threats whose predicted path crosses it (reason ``outside-sector``).
"""

from __future__ import annotations

import numpy as np
import shapely

from shieldlab import earth
from shieldlab.c2 import threat_eval
from shieldlab.c2.assignment import SOLVERS, AssignmentProblem
from shieldlab.c2.doctrine import Doctrine
from shieldlab.c2.records import REASONS, Decisions, Option, Salvo, key_array
from shieldlab.c2.track_numbers import GATE_PROBABILITY
from shieldlab.c2.trackview import TrackView
from shieldlab.engage.fan import fan_for
from shieldlab.engage.pk import kill_probability
from shieldlab.engage.solver import (
    fan_time,
    fan_times_geodetic,
    intercept_geometry,
    intercept_window,
    interceptor_velocity,
)
from shieldlab.flyout.integrate import coast
from shieldlab.tracking import association

PREDICT_DT = 4.0  # s, step of the fire-control extrapolation (RK4: metre-level over minutes)
HORIZON = 7200.0  # s, how far ahead fire control extrapolates: longer than any ICBM flight
_RECHECK = 4  # planning intervals before an unengageable threat is looked at again
_R = {name: i for i, name in enumerate(REASONS)}
#: χ²₆⁻¹(0.999), 22.46: two tracks' states this close, for their covariances, are one object (the
#: gate network track numbers join tracks with).
_SAME_OBJECT_GATE = association.gate(GATE_PROBABILITY, dof=6)
_BLOCKING = np.array([_R["magazine-empty"], _R["track-quality"], _R["held-last-chance"], _R["kept-for-higher-value"],
                      _R["same-object"]])
_WAITING, _FIRED = -2, -1  # internal states of a battery for a threat: a shot planned, a shot fired
_IS_BLOCKING = np.isin(np.arange(len(REASONS) + 2), _BLOCKING)  # by state (the negative ones from the end)
#: The reasons a battery had no window on a threat for: kept when its node leaves the threat to another's shot.
_NO_WINDOW = np.isin(np.arange(len(REASONS) + 2), [_R["out-of-envelope"], _R["too-late"], _R["not-threatening"],
                                                   _R["outside-sector"]])
#: The reasons a window judged harmless may explain (see FireControl.decisions).
_IS_LATE = np.isin(np.arange(len(REASONS) + 2), [_R["too-late"], _R["out-of-envelope"]])


def intercept_point_sigma(P: np.ndarray, r_track: np.ndarray, r_int: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """Position uncertainty [m] of a predicted intercept point, from the track covariance.

    The track covariance ``P`` (M, 6, 6) at the track's time is carried over ``dt`` (M,) [s]
    to the intercept point ``r_int`` (M, 3) [m ECEF] by
    :func:`shieldlab.c2.threat_eval.predicted_position_covariance` (linearised ballistic
    transition, closed form).  Returns sqrt of the largest eigenvalue of the 3x3 position
    block: the 1-sigma error along the worst direction (the kill vehicle must cover that one).
    """
    Pp = threat_eval.predicted_position_covariance(P, r_track, r_int, dt)
    lam = np.linalg.eigvalsh(Pp)[:, -1]
    return np.sqrt(np.maximum(lam, 0.0))


def track_keys(batteries, system: str | None = None) -> tuple[list, list]:
    """Per battery the keys of its planning and guidance track sources: ``("system", node)``
    for the node's picture (``system``, if given, for every battery: one picture over all),
    ``("radar", name)`` for the battery's own radar's track."""
    plan, guide = [], []
    for b in batteries:
        own = ("radar", b.radar) if b.cue != "engage-on-remote" else None
        node = ("system", system or b.system)
        plan.append(own if b.cue == "own" else node)
        guide.append(node if b.cue == "engage-on-remote" else own)
    return plan, guide


def ready_time(t, alert, reaction_time):
    """Earliest launch [s] of a battery whose decision (or track) comes at ``t``: its
    reaction time later, or, where a launch report alerted it at ``alert <= t``, its
    preparation ran from then: ``max(t, min(t, alert) + reaction_time)`` (broadcast;
    ``alert`` inf: never).  Fire control, ``reach`` and ``footprint`` all ready a battery so."""
    return np.maximum(t, np.minimum(t, alert) + reaction_time)


class FireControl:
    """The fire control of one C2 node over a chunk of C runs and N threats.

    ``batteries`` are the world's batteries this node commands (``index`` their indices in
    the world, which salvos carry); ``view`` the tracks it may read, keyed as
    :func:`track_keys` says (``system``: the one picture every battery reads, where one C2
    holds a picture over all sensors).  ``assets`` the defended assets; ``sector`` an
    optional shapely polygon in (lon, lat) radians: the node engages only threats whose
    predicted path crosses it.
    """

    def __init__(self, doctrine: Doctrine, batteries, index, view: TrackView, assets, batch_shape, t_end: float,
                 sector=None, system: str | None = None, name: str = "defence", alert: np.ndarray | None = None,
                 same_object_test: bool = False):
        self.doc, self.name = doctrine, name
        self.bats = list(batteries)
        self.index = np.asarray(index, int)
        self.view = view
        C, N = batch_shape
        self.t_end = float(t_end)
        self.plan, self.guide = track_keys(self.bats, system)
        for key in set(self.plan) | {g for g in self.guide if g is not None}:
            if key not in view:
                raise ValueError(f"fire control {name!r}: no track source {key!r}")
        B = len(self.bats)
        self.fans = [fan_for(b.spec, b.burnout_speed) for b in self.bats]
        # when a launch report alerted each battery to each threat (inf: never): an alerted
        # battery's reaction (its preparation) runs from the alert, not from the decision
        self.alert = np.full((C, N, B), np.inf) if alert is None else np.asarray(alert, float)
        self.reaction = np.array([b.reaction_time for b in self.bats], float)
        self.magazine = np.tile(np.array([b.rounds for b in self.bats], int), (C, 1))
        self.reserve = np.array([b.reserve for b in self.bats], int)
        self.asset_lat = np.array([a.site.lat for a in assets])
        self.asset_lon = np.array([a.site.lon for a in assets])
        self.asset_r = np.array([a.radius for a in assets])
        self.asset_value = np.array([a.value for a in assets], float)
        self.sector = sector
        if sector is not None:
            shapely.prepare(sector)
        self.n_eng = np.zeros((C, N), int)
        confirm = np.full((C, N), np.inf)
        for key in set(self.plan):
            confirm = np.minimum(confirm, view.tracks(key).confirm_time)
        self.next_check = confirm
        self.reason = np.full((C, N, B), _R["no-track"], np.int8)
        self.in_hold = np.full((C, N, B), -1, np.int8)
        self.last_look = np.full((C, N), np.nan)
        self.declared = np.zeros((C, N), bool)  # judged a threat to a defended asset at some look
        self.stake = np.zeros((C, N))  # value at stake: sum over assets of value x P(hit), at the latest look
        self.deadline = np.full((C, N, B), np.inf)  # per battery: earliest last chance seen on a boost track
        # the looks that judged a threat harmless (run, threat, update, tick, source): read at the
        # end, where a battery was too late for a threat, for whether it had a window at one
        self._harmless: list[tuple[np.ndarray, np.ndarray, int, float, object]] = []
        self.shot_at = np.full((C, N), np.nan)  # planned intercept time of the latest salvo (the look waits)
        self.look_src = np.zeros((C, N), int)  # battery whose planning track the look reads
        self.assessed_at = np.full((C, N), np.nan)  # when the look saw no detection: judged destroyed (nan: not)
        # other nodes' engagements of each threat as learned: (known at, look over at, intercept time)
        self._foreign: dict[tuple[int, int], list[tuple[float, float, float]]] = {}
        self.holds: list[tuple] = []
        self.tick = np.nan
        self._planned: dict[tuple[int, int], list[Option]] = {}  # latest options of each threat (assignment)
        self._most_kept = (N - 1) * np.array([b.salvo for b in self.bats], int)  # what _kept can at most say
        self._last_detection: dict = {}  # per track source: threat_eval.last_detection of its n_hits
        # tracks of reports without labels may hold one object twice (two nodes' tracks under two
        # network numbers, a warhead's track and a broad one beside it): test before a second shot
        self.same_object_test = same_object_test

    # ------------------------------------------------------------------ cooperation
    def learn(self, c: int, n: int, known_at: float, until: float, intercept_time: float) -> None:
        """Another node engaged threat ``(c, n)`` with a planned intercept at
        ``intercept_time`` [s]; this node learns it at ``known_at`` [s] and leaves the threat
        to it until ``until`` [s] (that engagement's look)."""
        self._foreign.setdefault((int(c), int(n)), []).append((float(known_at), float(until), float(intercept_time)))

    # ------------------------------------------------------------------ the clock
    def open(self) -> np.ndarray:
        """Threats this node may still engage (engagements left)."""
        return self.n_eng < self.doc.max_engagements

    def next_due(self) -> float:
        """The earliest time a threat is due for a look [s] (inf: none)."""
        return float(np.min(np.where(self.open(), self.next_check, np.inf), initial=np.inf))

    # ------------------------------------------------------------------ deciding
    def ready(self, cs, ns, b: int, tick: float) -> np.ndarray:
        """Earliest launch [s] of battery ``b`` at threats ``(cs, ns)`` decided at ``tick``
        (:func:`ready_time`)."""
        return ready_time(tick, self.alert[cs, ns, b], self.reaction[b])

    def lead(self, c: int, n: int, b: int, tick: float) -> float:
        """Time [s] battery ``b`` needs from a decision at ``tick`` to a launch at threat
        ``(c, n)``: ``ready - tick``, written so that without an alert it is the reaction
        time to the last bit (``(tick + r) - tick`` need not be ``r``)."""
        alert, reaction = float(self.alert[c, n, b]), float(self.reaction[b])
        return reaction if not alert < tick else max(0.0, alert + reaction - tick)

    def decide(self, tick: float) -> list[Salvo]:
        """The salvos this node commits at planning tick ``tick`` [s]."""
        self.tick = tick
        due = self.open() & (self.next_check <= tick)
        if not due.any():
            return []
        due &= self._look(due, tick)
        due &= self._deconflict(due, tick)
        if not due.any():
            return []
        options: dict[tuple[int, int], list[Option]] = {}
        for key in sorted(set(self.plan), key=str):
            self._plan_source(key, due, tick, options)
        salvos = []
        # threats ranked by the value at stake, then by their earliest possible intercept: where
        # rounds run short the most valuable go first (magazines are per run, so only the order
        # within a run matters); a battery that has run dry passes the threat on
        dc, dn = np.nonzero(due)
        first = [min((o.intercept_time for o in options[cn]), default=np.inf) if cn in options else np.inf
                 for cn in zip(dc.tolist(), dn.tolist())]
        # (lexsort is stable, as sorted() is: ties keep the row order)
        rank = np.lexsort((np.array(first, float), -self.stake[dc, dn]))
        order = list(zip(dc[rank].tolist(), dn[rank].tolist()))
        if self.doc.assignment == "earliest":
            recheck = tick + _RECHECK * self.doc.planning_interval
            for c, n in order:
                if (c, n) not in options:  # no battery can reach it: look again later (as _allocate says)
                    self.next_check[c, n] = recheck
                    continue
                s = self._allocate(c, n, sorted(options[(c, n)], key=lambda o: (o.intercept_time, o.battery)), tick)
                if s is not None:
                    salvos.append(s)
        else:
            salvos += self._assign([(int(c), int(n)) for c, n in order], options, tick)
        # a battery that stopped waiting ends its hold: a later one is logged again
        self.in_hold = np.where(self.reason == self.in_hold, self.in_hold, -1).astype(np.int8)
        return salvos

    def _look(self, due: np.ndarray, tick: float) -> np.ndarray:
        """Shoot-look-shoot: a threat shot at is engaged again only if its track had a detection
        after the planned intercept; else it is judged destroyed and watched.  Returns the rows
        of ``due`` that may be planned."""
        cs, ns = np.nonzero(due & np.isfinite(self.shot_at))
        keep = np.ones(due.shape, bool)
        if cs.size == 0:
            return keep
        seen = np.zeros(cs.size, bool)
        src = self.look_src[cs, ns]
        for b in np.unique(src):
            m = src == b
            key = self.plan[b]
            seen[m] = self.view.hits(key, cs[m], ns[m], tick) > self.view.hits(key, cs[m], ns[m],
                                                                                  self.shot_at[cs[m], ns[m]])
        self._verdict(cs, ns, seen, tick, self.shot_at, keep)
        return keep

    def _verdict(self, cs, ns, seen, tick: float, shot: np.ndarray, keep: np.ndarray) -> None:
        """A look's verdict on threats ``(cs, ns)``: ``seen`` (a detection since the intercept)
        are planned again and the shot they were looked at for (in ``shot``, (C, N)) is
        forgotten; the others are judged destroyed (when first), kept from planning (``keep``)
        and watched from the next interval."""
        gone = ~seen
        keep[cs[gone], ns[gone]] = False
        first = gone & np.isnan(self.assessed_at[cs, ns])
        self.assessed_at[cs[first], ns[first]] = tick
        self.next_check[cs[gone], ns[gone]] = tick + self.doc.planning_interval
        self.assessed_at[cs[seen], ns[seen]] = np.nan
        shot[cs[seen], ns[seen]] = np.nan

    def _deconflict(self, due: np.ndarray, tick: float) -> np.ndarray:
        """Leave to another node the threats it reported engaging, until that engagement's look;
        then look as :meth:`_look` does after a shot of this node's own, on its own planning
        tracks: no detection since that engagement's intercept, and the threat is judged
        destroyed and watched.  Returns the rows of ``due`` that may be planned."""
        keep = np.ones(due.shape, bool)
        if not self._foreign:
            return keep
        # per due threat, over the engagements heard of by now: the last look, the last intercept
        until, shot = np.full(due.shape, -np.inf), np.full(due.shape, np.nan)
        for (c, n), reports in self._foreign.items():
            if due[c, n]:
                heard = [r for r in reports if r[0] <= tick]
                if heard:
                    until[c, n] = max(r[1] for r in heard)
                    shot[c, n] = max(r[2] for r in heard)
        other = tick < until
        if other.any():
            cs, ns = np.nonzero(other)
            # a battery with no window on the threat when its node left it to the other keeps
            # that reason: the other node's shot took nothing from it (NATO's ships logged
            # missiles at Krasnodar they could not reach "judged destroyed" after the S-400s' looks)
            was = self.reason[cs, ns]
            self.reason[cs, ns] = np.where(_IS_BLOCKING[was] | _NO_WINDOW[was], was, _R["engaged-elsewhere"])
            self._note_outside_sector(cs, ns, tick)
            self.next_check[cs, ns] = until[cs, ns]
        keep &= ~other
        cs, ns = np.nonzero(~other & np.isfinite(shot))
        if cs.size:
            self._note_outside_sector(cs, ns, tick)
            seen = np.zeros(cs.size, bool)
            for key in sorted(set(self.plan), key=str):
                seen |= self.view.hits(key, cs, ns, tick) > self.view.hits(key, cs, ns, shot[cs, ns])
            self._verdict(cs, ns, seen, tick, shot, keep)
            self.last_look[cs, ns] = tick
            for c, n in zip(cs[seen].tolist(), ns[seen].tolist()):  # seen since: those engagements are done with
                rest = [r for r in self._foreign[(c, n)] if r[0] > tick]
                if rest:
                    self._foreign[(c, n)] = rest
                else:
                    del self._foreign[(c, n)]
        return keep

    def _note_outside_sector(self, cs, ns, tick: float) -> None:
        """Threats ``(cs, ns)`` this node leaves to another without planning them: where the node
        has a sector and a battery's planning source has a ballistic track of the threat whose
        predicted path stays outside it, that battery's reason is ``outside-sector``, the reason
        it would have given had it planned them (this node would not have engaged them
        whoever did).  A battery with no such track (none, or one that may still be under
        thrust, whose coasted path falls short of where it goes) keeps its reason, as does one
        that planned or fired a shot at the threat, or is held."""
        if self.sector is None:
            return
        for key in sorted(set(self.plan), key=str):
            tr = self.view.tracks(key)
            k = self.view.index(key, cs, ns, tick)
            rows = np.flatnonzero((k >= 0) & (tr.confirm_time[cs, ns] <= tick))
            x = tr.x[cs[rows], ns[rows], k[rows]]
            rows = rows[np.isfinite(x).all(axis=1)]
            ballistic = np.zeros(rows.size, bool)
            for kk in np.unique(k[rows]).tolist():  # (the boost test reads one update at a time)
                m = k[rows] == kk
                ballistic[m] = ~self._boosting(key, tr, kk, cs[rows[m]], ns[rows[m]])[0]
            rows = rows[ballistic]
            if rows.size == 0:
                continue
            J = int(min(HORIZON, max(self.t_end - tick, 0.0)) / PREDICT_DT) + 2
            pos, _, _ = coast(tr.x[cs[rows], ns[rows], k[rows]], PREDICT_DT, J)
            out = rows[~self._crosses_sector(pos)]
            c, n = cs[out], ns[out]
            for b in [b for b in range(len(self.bats)) if self.plan[b] == key]:
                was = self.reason[c, n, b]
                self.reason[c, n, b] = np.where((was >= 0) & ~_IS_BLOCKING[was], _R["outside-sector"], was)

    def _crosses_sector(self, pos: np.ndarray) -> np.ndarray:
        """Whether each predicted path ``pos`` (M, J, 3) [ECEF m] passes over the node's sector."""
        plat, plon, _ = earth.ecef_to_geodetic(pos)
        return shapely.contains_xy(self.sector, plon, plat).any(axis=1)

    def _held_as_duplicate(self, c: int, n: int, tick: float, b: int) -> bool:
        """Whether track ``(c, n)``, about to be engaged, is the same object as a track this node
        has a salvo at (one committed at an earlier tick, or earlier at this one), and no
        better: both read on that salvo's planning source at their latest update, the
        track-to-track test
        ``Δᵀ (P₁ + P₂)⁻¹ Δ ≤ χ²₆⁻¹(0.999)`` (22.46; as track fusion correlates,
        :mod:`shieldlab.c2.fusion`) and a position covariance trace no smaller than the engaged
        track's.  If so battery ``b``'s shot waits for that shot's look (its reason
        ``same-object``); a better track of the object is engaged (its shot may be the one that
        counts)."""
        if not self.same_object_test:
            return False
        for m in np.flatnonzero(np.isfinite(self.shot_at[c])).tolist():
            if m == n:
                continue
            shooter = int(self.look_src[c, m])
            key = self.plan[shooter]
            tr = self.view.tracks(key)
            k = self.view.index(key, np.array([c, c]), np.array([n, m]), tick)
            if (k < 0).any():
                continue
            xn, xm = tr.x[c, n, k[0]], tr.x[c, m, k[1]]
            if not (np.isfinite(xn).all() and np.isfinite(xm).all()):
                continue
            Pn, Pm = tr.P[c, n, k[0]], tr.P[c, m, k[1]]
            d = xn - xm
            try:
                d2 = float(d @ np.linalg.solve(Pn + Pm, d))
            except np.linalg.LinAlgError:
                continue
            if d2 <= _SAME_OBJECT_GATE and np.trace(Pn[:3, :3]) >= np.trace(Pm[:3, :3]):
                self.reason[c, n, b] = _R["same-object"]
                self.next_check[c, n] = max(tick + self.doc.planning_interval,
                                            float(self.shot_at[c, m]) + self.bats[shooter].look_time)
                return True
        return False

    def _log_hold(self, c: int, n: int, b: int, code: int) -> None:
        self.reason[c, n, b] = code
        if self.in_hold[c, n, b] != code:  # log a hold when it begins, not at every look
            self.in_hold[c, n, b] = code
            self.holds.append((c, n, b, self.tick, code))

    def _plan_source(self, key, due: np.ndarray, tick: float, options: dict) -> None:
        """Evaluate the due threats on one track source and add every battery's option."""
        tr = self.view.tracks(key)
        cs, ns = np.nonzero(due & (tr.confirm_time <= tick))
        if cs.size == 0:
            return
        k_row = self.view.index(key, cs, ns, tick)
        # a destroyed target's track ends early: rows are read at their own last update
        for k in np.unique(k_row[k_row >= 0]):
            m = k_row == k
            self._plan_rows(key, tr, int(k), cs[m], ns[m], tick, options)

    def _plan_rows(self, key, tr, k: int, cs, ns, tick: float, options: dict) -> None:
        doc = self.doc
        x = tr.x[cs, ns, k]
        good = np.isfinite(x).all(axis=1)
        cs, ns, x = cs[good], ns[good], x[good]
        if cs.size == 0:
            return
        t_track = tr.t[k]
        P = tr.P[cs, ns, k]
        J = int(min(HORIZON, self.t_end - t_track) / PREDICT_DT) + 2  # no need to look past the end
        jt = PREDICT_DT * np.arange(J)
        pos, vel, ev = coast(x, PREDICT_DT, J)
        if self.asset_lat.size:
            threat_ok, boost = self._evaluate(key, tr, k, cs, ns, x, P, pos, vel, ev, t_track)
            if doc.engage_all:  # every threat is engaged, on the path the evaluation predicts
                threat_ok = np.ones(cs.size, bool)
        else:  # nothing to defend: every threat is engaged, a boosting one at its last chance
            threat_ok = np.ones(cs.size, bool)
            boost = self._boosting(key, tr, k, cs, ns)[0]
        impact_t = t_track + ev[:, 4]
        # the decision log judges only looks at a track that still says the threat flies
        live = (impact_t > tick) & (earth.ecef_to_geodetic(x[:, :3])[2] > 0.0)
        self.last_look[cs[live], ns[live]] = tick
        in_sector = np.ones(cs.size, bool)
        if self.sector is not None:
            in_sector = self._crosses_sector(pos)
        t_int = t_track + jt  # (J,)
        # the predicted points an intercept may be planned at (the same for every battery), and
        # where they are over the ground: intercept_window reads the time to reach nowhere else
        allowed = (t_int < impact_t[:, None]) & (t_int > tick) & (threat_ok & in_sector)[:, None]
        a_lat, a_lon, a_alt = earth.ecef_to_geodetic(pos[allowed])
        # only rows with a point to plan at can have a window (most looks are re-looks at threats
        # no battery can reach, or that threaten nothing)
        rows = np.flatnonzero(allowed.any(axis=1))
        allowed_rows = allowed[rows]
        why = np.where(~in_sector, _R["outside-sector"],
                       np.where(threat_ok, _R["out-of-envelope"], _R["not-threatening"]))
        harmless = live & in_sector & ~threat_ok
        if harmless.any():  # (kept for the log: see decisions)
            self._harmless.append((cs[harmless], ns[harmless], k, tick, key))
        for b, bat in enumerate(self.bats):
            if self.plan[b] != key:
                continue
            fan = self.fans[b]
            reach, found, fi, w = self._windows(b, cs, ns, tick, t_int, pos, vel, rows, allowed_rows,
                                                (a_lat, a_lon, a_alt), bool(boost.any()))
            # a window that closes does not hide what kept the battery from using it, unless the
            # threat has left the node's sector, or is no longer judged a threat: then that is why
            # (a hold on a boost track was the last word on threats judged harmless after burnout)
            was = self.reason[cs[live], ns[live], b]
            # reached, yet no window: every point it reaches needs a launch before the battery is ready
            why_b = np.where((why == _R["out-of-envelope"]) & reach, _R["too-late"], why)[live]
            # and a path that has since passed out of reach was missed for that: too late it stays
            why_b = np.where((why_b == _R["out-of-envelope"]) & (was == _R["too-late"]), was, why_b)
            self.reason[cs[live], ns[live], b] = np.where(_IS_BLOCKING[was] & (in_sector & threat_ok)[live], was,
                                                          why_b)
            self.reason[cs[found], ns[found], b] = _WAITING
            if found.size == 0:
                continue
            assert w is not None  # something found: the window was computed
            cf, nf = cs[found], ns[found]
            hold = w["launch_first"][fi]
            if boost.any():
                bm = boost[found]
                self.deadline[cf[bm], nf[bm], b] = np.minimum(self.deadline[cf[bm], nf[bm], b],
                                                              w["launch_latest"][fi[bm]])
                hold = np.where(bm, self.deadline[cf, nf, b] - doc.planning_interval, hold)
            pi, vt = w["p_first"][fi], w["v_first"][fi]
            closing, crossing = intercept_geometry(vt, interceptor_velocity(fan, bat.site.lat, bat.site.lon, pi))
            pk = kill_probability(bat.spec, closing, crossing)
            t_first, l_first = w["t_first"][fi], w["launch_first"][fi]
            sig = intercept_point_sigma(P[found], x[found, :3], pi, t_first - t_track)
            for j, m in enumerate(found):
                options.setdefault((int(cs[m]), int(ns[m])), []).append(Option(
                    float(t_first[j]), b, float(l_first[j]), pi[j], float(closing[j]), float(crossing[j]),
                    float(pk[j]), float(sig[j]), bool(boost[m]), float(hold[j])))

    def _windows(self, b: int, cs, ns, tick: float, t_int, pos, vel, rows, allowed_rows, geo, latest: bool):
        """Battery ``b``'s intercept windows on the predicted paths ``pos``, ``vel`` (R, J, 3)
        of threats ``(cs, ns)`` at times ``t_int`` (J,) [s], planned at ``tick``: over the
        ``rows`` with points ``allowed_rows`` (their geodetic places ``geo``).  Returns
        ``(reach, found, fi, w)``: which rows the fly-out fan reaches anywhere (R,), the rows
        with a window, their places in ``w``, and the windows
        (:func:`~shieldlab.engage.solver.intercept_window`; None where none was computed)."""
        bat = self.bats[b]
        ft = fan_time(self.fans[b], bat.site.lat, bat.site.lon)
        found, fi, w = np.zeros(0, int), np.zeros(0, int), None
        reach = np.zeros(cs.size, bool)  # the fan reaches some point of the path (in time or not)
        if rows.size:
            # time to reach (inf outside the envelope or the fan)
            tau = np.full(allowed_rows.shape, np.inf)
            tau[allowed_rows] = fan_times_geodetic(geo[0], geo[1].copy(), geo[2], *ft.kernel_args())
            # only the rows the fan reaches somewhere can have a window (most of a wide
            # laydown's batteries reach none of a threat's path); each row's window is its own
            sub = np.flatnonzero(np.isfinite(tau).any(axis=1))  # of rows
            reach[rows[sub]] = True
            if sub.size:
                rs = rows[sub]
                w = intercept_window(t_int, pos[rs], vel[rs], ft, self.ready(cs[rs], ns[rs], b, tick),
                                     allowed_rows[sub], latest=latest, tau=tau[sub])
                fi = np.flatnonzero(w["found"])  # of rs
                found = rs[fi]
        return reach, found, fi, w

    def _windows_while_harmless(self, cs, ns, bs) -> np.ndarray:
        """Which of the (run, threat, battery) rows ``(cs, ns, bs)`` had an intercept window at
        a look that judged the threat harmless (each look replayed from the track as it read it:
        the ballistic path, the battery's readiness at that tick), (R,) bool."""
        out = np.zeros(cs.size, bool)
        pending: dict[tuple[int, int], dict[int, int]] = {}  # (run, threat) -> battery -> row
        for i, (c, n, b) in enumerate(zip(cs.tolist(), ns.tolist(), bs.tolist())):
            pending.setdefault((c, n), {})[b] = i
        for lc, ln, k, tick, key in self._harmless:
            m = np.array([any(self.plan[b] == key for b in pending.get(cn, ()))
                          for cn in zip(lc.tolist(), ln.tolist())], bool)
            if not m.any():
                continue
            rc, rn = lc[m], ln[m]
            tr = self.view.tracks(key)
            t_track = tr.t[k]
            J = int(min(HORIZON, self.t_end - t_track) / PREDICT_DT) + 2
            t_int = t_track + PREDICT_DT * np.arange(J)
            pos, vel, ev = coast(tr.x[rc, rn, k], PREDICT_DT, J)
            allowed = (t_int < t_track + ev[:, 4:5]) & (t_int > tick)
            rows = np.flatnonzero(allowed.any(axis=1))
            if rows.size == 0:
                continue
            geo = earth.ecef_to_geodetic(pos[rows][allowed[rows]])
            for b in sorted({b for cn in zip(rc.tolist(), rn.tolist()) for b in pending.get(cn, ())
                             if self.plan[b] == key}):
                found = self._windows(b, rc, rn, tick, t_int, pos, vel, rows, allowed[rows], geo, False)[1]
                for c, n in zip(rc[found].tolist(), rn[found].tolist()):
                    row = pending.get((c, n), {}).pop(b, None)
                    if row is not None:
                        out[row] = True
            if not any(pending.values()):
                break
        return out

    def _evaluate(self, key, tr, k, cs, ns, x, P, pos, vel, ev, t_track):
        """Threat evaluation of rows on one source at update ``k``: which threaten a defended
        asset, and which may still be boosting (their predictions, in ``pos``, ``vel``, ``ev``,
        are replaced by the corridor path to the threatened asset)."""
        J = pos.shape[1]
        j_imp = np.clip(np.floor(np.where(np.isfinite(ev[:, 4]), ev[:, 4], 0.0) / PREDICT_DT).astype(int), 0, J - 1)
        p_hit, sig_g, d_a = threat_eval.impact_probability(
            P, x[:, :3], ev[:, 5:8], vel[np.arange(cs.size), j_imp], ev[:, 4], self.asset_lat, self.asset_lon,
            self.asset_r)
        # a threat once declared stays declared while an asset lies inside its impact's 3-sigma
        # circle: a track that loses its radars at burnout grows uncertain, and that is no
        # evidence that the threat turned away
        plausible = (d_a - self.asset_r <= 3.0 * sig_g[:, None]).any(axis=1)
        threat_ok = np.isfinite(ev[:, 4]) & ((p_hit >= self.doc.threat_probability).any(axis=1)
                                             | (self.declared[cs, ns] & plausible))
        stake = np.where(np.isfinite(ev[:, 4]), p_hit @ self.asset_value, 0.0)
        # a track that may still be under thrust: judge it by its impact corridor, and plan on
        # the path that lands nearest the asset it threatens, from its last state backed by a
        # detection
        boost, accel, k_now = self._boosting(key, tr, k, cs, ns)
        if boost.any():
            ib = np.flatnonzero(boost)
            seen = tr.x[cs[ib], ns[ib], k_now[ib]]  # the last state backed by a detection
            hit, burn = threat_eval.corridor(seen, accel[ib], self.asset_lat, self.asset_lon, self.asset_r)
            threat_ok[ib] |= hit
            # the corridor names no single asset: the most valuable one is at stake
            stake[ib[hit]] = np.max(self.asset_value)
            re = ib[hit]
            if re.size:
                pos[re], vel[re], ev[re] = threat_eval.predict(seen[hit], accel[re], burn[hit], PREDICT_DT, J,
                                                               t_state=tr.t[k_now[re]] - t_track)
        self.declared[cs, ns] |= threat_ok
        self.stake[cs, ns] = stake
        return threat_ok, boost

    def _boosting(self, key, tr, k, cs, ns):
        """The boost test of rows ``(cs, ns)`` on one source at update ``k``
        (:func:`shieldlab.c2.threat_eval.boost_test`: which tracks may still be under thrust,
        their acceleration, and the update of their last detection)."""
        if key not in self._last_detection:
            self._last_detection[key] = threat_eval.last_detection(tr.n_hits)
        return threat_eval.boost_test(tr.t, self._last_detection[key], tr.x, tr.P, cs, ns, k)

    def _assign(self, order: list[tuple[int, int]], options: dict, tick: float) -> list[Salvo]:
        """Weapon–target assignment (``doctrine.assignment`` greedy or exact): per run, the due
        threats and those still waiting for a planned launch compete for the rounds above
        reserve; the plan that maximises the expected value saved
        (:mod:`shieldlab.c2.assignment`, one battery per engagement, the battery's salvo at
        most) names each due threat's battery, whose launch then follows the same timing,
        gate and hold rules as :meth:`_allocate`.  A due threat the plan leaves out is
        re-planned at the next interval (reason ``kept-for-higher-value`` where the battery
        had rounds)."""
        for cn in order:
            if cn in options:
                self._planned[cn] = options[cn]
        salvos = []
        runs: dict[int, list[int]] = {}
        for c, n in order:
            if (c, n) in options:
                runs.setdefault(c, []).append(n)
            else:  # no battery can reach it: look again later, as _allocate does
                self._planned.pop((c, n), None)
                self.next_check[c, n] = tick + _RECHECK * self.doc.planning_interval
        interval = self.doc.planning_interval
        floor = 1e-3 * max(float(np.max(self.asset_value, initial=0.0)), 1.0)
        open_ = self.open()
        for c, due in runs.items():
            # threats of this run waiting for a launch planned at an earlier look hold their claim
            waiting = [n for (cc, n), opts in self._planned.items()
                       if cc == c and n not in due and open_[c, n] and np.isnan(self.shot_at[c, n])
                       and (self.reason[c, n] == _WAITING).any() and any(o.intercept_time > tick for o in opts)]
            threats = due + waiting
            B, T = len(self.bats), len(threats)
            pk, feasible = np.zeros((B, T)), np.zeros((B, T), bool)
            for t, n in enumerate(threats):
                for o in options.get((c, n), self._planned.get((c, n), ())):
                    if t >= len(due) and o.intercept_time <= tick:
                        continue
                    pk[o.battery, t], feasible[o.battery, t] = max(pk[o.battery, t], o.pk), True
            rounds = np.maximum(self.magazine[c] - self.reserve, 0)
            problem = AssignmentProblem(value=np.maximum(self.stake[c, threats], floor), pk=pk, rounds=rounds,
                                        max_salvo=np.array([b.salvo for b in self.bats]), max_shooters=1,
                                        feasible=feasible)
            solve = SOLVERS.get(self.doc.assignment)
            if solve is None:  # a name with no solver: refused, not run greedy unsaid
                raise ValueError(f"no assignment solver for {self.doc.assignment!r} in c2.assignment.SOLVERS")
            plan = solve(problem)
            for t, n in enumerate(due):
                b = np.flatnonzero(plan.x[:, t])
                if b.size == 0:
                    for o in options[(c, n)]:
                        self.reason[c, n, o.battery] = _R["kept-for-higher-value"] if rounds[o.battery] > 0 \
                            else _R["magazine-empty"]
                    self.next_check[c, n] = tick + interval
                    continue
                cand = [o for o in options[(c, n)] if o.battery == int(b[0])]
                s = self._allocate(c, n, cand, tick, keep=False)
                if s is not None:
                    salvos.append(s)
                    self._planned.pop((c, n), None)
        return salvos

    def _allocate(self, c: int, n: int, cands: list[Option], tick: float, keep: bool = True) -> Salvo | None:
        """Give threat ``(c, n)`` to the best battery that has rounds and passes the launch gate,
        or decide to wait; returns the salvo when one is committed now."""
        interval = self.doc.planning_interval
        usable = []
        for o in cands:  # a battery does not fire its last `reserve` rounds ...
            b = o.battery
            if self.magazine[c, b] <= self.reserve[b]:
                self.reason[c, n, b] = _R["magazine-empty"]
            elif keep and self.magazine[c, b] - self.reserve[b] <= self._most_kept[b] \
                    and self.magazine[c, b] - self.reserve[b] <= self._kept(c, n, b):
                # ... nor those it keeps for threats with more value at stake that it can also reach
                self.reason[c, n, b] = _R["kept-for-higher-value"]
            else:
                usable.append(o)
        cands = usable
        if not cands:
            self.next_check[c, n] = tick + _RECHECK * interval
            return None
        # launch gate: a battery whose launch is due now commits only on a fire-control quality
        # track; the earliest-intercept battery that is not stopped by it is chosen
        choice, gated = None, False
        for o in cands:
            bat = self.bats[o.battery]
            due_now = max(o.launch_time, o.hold_until) - self.lead(c, n, o.battery, tick) <= tick + interval
            if due_now and self.doc.gate_k and self.doc.gate_k * o.pip_sigma > bat.spec.divert_m:
                gated = True
                self._log_hold(c, n, o.battery, _R["track-quality"])
                continue
            choice = o
            break
        if choice is None:
            self.next_check[c, n] = tick + interval  # the track improves: look again next interval
            return None
        b = choice.battery
        bat = self.bats[b]
        lead = self.lead(c, n, b, tick)
        if max(choice.launch_time, choice.hold_until) - lead > tick + interval:
            if choice.boost_track and choice.hold_until > choice.launch_time:
                self._log_hold(c, n, b, _R["held-last-chance"])
            # not yet: re-plan with a fresher track just before the launch must go (at the next
            # interval if a better-placed battery is waiting for the track to improve)
            self.next_check[c, n] = tick + interval if gated or choice.boost_track else \
                max(tick + interval, choice.launch_time - lead - interval)
            return None
        # a track of an object this node has a salvo at (tested only here, where a salvo would go:
        # before planning, every look at every track cost the whole chain 7 %)
        if self._held_as_duplicate(c, n, tick, b):
            return None
        rounds = int(min(bat.salvo, self.magazine[c, b] - self.reserve[b]))
        self.magazine[c, b] -= rounds
        self.reason[c, n, b] = _FIRED
        salvo = Salvo(c, n, int(self.index[b]), rounds, tick, max(choice.launch_time, tick + lead),
                      choice.intercept_time, choice.intercept_pos, int(self.n_eng[c, n]), self.guide[b],
                      choice.closing_speed, choice.crossing_angle, choice.pk, choice.pip_sigma, choice.boost_track,
                      self.plan[b])
        self.n_eng[c, n] += 1
        self.shot_at[c, n] = choice.intercept_time
        self.look_src[c, n] = b
        self.next_check[c, n] = choice.intercept_time + bat.look_time
        return salvo

    def _kept(self, c: int, n: int, b: int) -> int:
        """Rounds battery ``b`` keeps, in run ``c``, for threats with more value at stake than
        threat ``n`` that it has an intercept for and has not yet engaged (one salvo each)."""
        waiting = (self.reason[c, :, b] == _WAITING) & (self.stake[c] > self.stake[c, n]) & self.open()[c]
        waiting &= np.isnan(self.shot_at[c])
        waiting[n] = False
        return int(waiting.sum()) * int(self.bats[b].salvo)

    # ------------------------------------------------------------------ the log
    def decisions(self, survived: np.ndarray) -> Decisions:
        """The holds as logged, then a no-fire row per battery for every threat that
        ``survived`` (C, N) (from kill assessment, after the fight) with engagements left; a
        battery's last state "waiting" or "fired" (a planned shot that never went, or a miss
        never followed up) means the threat was gone before the next shot — or, where the
        look saw no detection, that it was judged destroyed."""
        c, n = np.nonzero(survived & self.open())
        B = len(self.bats)
        cb, nb = np.repeat(c, B), np.repeat(n, B)
        bb = np.tile(np.arange(B), c.size)
        code = self.reason[cb, nb, bb]
        # too late, or out of reach, because the threat was judged harmless while a window was open
        # (a threat this node engaged was judged a threat in time for that: its second shot's
        # too-late is the look's)
        late = np.flatnonzero(_IS_LATE[code] & (self.n_eng[cb, nb] == 0))
        if late.size and self._harmless:
            code[late[self._windows_while_harmless(cb[late], nb[late], bb[late])]] = _R["judged-late"]
        judged = np.isfinite(self.assessed_at[cb, nb])
        code = np.where(code < 0, np.where(judged, _R["assessed-killed"], _R["threat-gone"]), code)
        # left to another node and then judged destroyed at the look after its engagement
        code = np.where((code == _R["engaged-elsewhere"]) & judged, _R["assessed-killed"], code)
        # the time of a no-fire row: when the threat was judged destroyed, else the last look
        t = np.where(code == _R["assessed-killed"], self.assessed_at[cb, nb], self.last_look[cb, nb])
        t = np.where(np.isfinite(t), t, self.t_end)
        h = np.array(self.holds, float).reshape(-1, 5)
        local = np.concatenate([h[:, 2], bb]).astype(np.int64)
        return Decisions(run=np.concatenate([h[:, 0], cb]).astype(np.int64),
                         threat=np.concatenate([h[:, 1], nb]).astype(np.int64),
                         battery=self.index[local],
                         time=np.concatenate([h[:, 3], t]),
                         kind=np.concatenate([np.zeros(len(self.holds), np.int8), np.ones(cb.size, np.int8)]),
                         reason=np.concatenate([h[:, 4], code]).astype(np.int8),
                         source=key_array([self.plan[b] for b in local.tolist()]))
