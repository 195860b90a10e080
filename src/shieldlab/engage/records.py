"""Records produced by the engagement stage: the salvos fired and how each fared."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Engagements:
    """Every interceptor salvo fired, one row per salvo (flat arrays of length E).

    ``run`` is the index within the chunk's batch, ``threat`` the threat index and
    ``battery`` the index into the world's batteries.  Times are seconds from the
    epoch; ``intercept_pos`` is the planned intercept point (ECEF m); ``met_pos`` where the
    salvo's target truly was at the intercept time (ECEF m; nan where it was gone, or where no
    threat was behind the salvo's track, a spent booster or a false track under gnn: kill
    assessment's truth, for the record and the maps, never read by a decision), and
    :meth:`end_pos` where each salvo's flight ended.  ``closing_speed``
    (relative speed |v_I - v_T|, m/s) and ``crossing_angle`` (between the interceptor's
    velocity and the reversed threat velocity, rad: 0 head-on, pi tail chase) are those of
    the plan (predicted threat velocity, the fan's kill-vehicle velocity); ``pk`` is the
    single-interceptor kill probability they give (:mod:`shieldlab.engage.pk`).
    ``pip_sigma`` is the launch gate's 1-sigma position uncertainty [m] of the predicted
    intercept point at the decision (:func:`shieldlab.c2.firecontrol.intercept_point_sigma`).
    ``boost_track`` says the plan was made on a track that may still have been under thrust
    (:mod:`shieldlab.c2.threat_eval`); ``reach_shortfall`` [m] is 0 where the threat's
    true position at the intercept time lay inside the interceptor's fly-out fan, else its
    distance from the planned point (more than the divert: out of reach, a miss).
    """

    run: np.ndarray  # (E,) int
    threat: np.ndarray  # (E,) int
    battery: np.ndarray  # (E,) int
    rounds: np.ndarray  # (E,) interceptors in the salvo
    decision_time: np.ndarray  # (E,)
    launch_time: np.ndarray  # (E,)
    intercept_time: np.ndarray  # (E,)
    intercept_pos: np.ndarray  # (E, 3)
    prediction_error: np.ndarray  # (E,) m: handover prediction vs truth at intercept (inf: threat gone)
    killed: np.ndarray  # (E,) bool
    closing_speed: np.ndarray  # (E,) m/s
    crossing_angle: np.ndarray  # (E,) rad
    pk: np.ndarray  # (E,) single-interceptor kill probability
    pip_sigma: np.ndarray  # (E,) m: track quality at the intercept point when the salvo was committed
    boost_track: np.ndarray  # (E,) bool: planned on a track possibly still under thrust
    reach_shortfall: np.ndarray  # (E,) m: 0 if the true intercept point was reachable (inf: threat gone)
    track: np.ndarray | None = None  # (E,) int: the fire-control track (column) engaged; None: the threat itself
    target: np.ndarray | None = None  # (E,) int: the object behind that track (scoring): threat n, booster N + n, -1
    source: np.ndarray | None = None  # (E,) object: the track source planned on, fire control's key ("system", name)
    #: where ``track`` is a track of reports without labels: the track file (a picture's name, or
    #: ``radar NAME`` for a battery's own radar's) and its number there, as ``shieldlab tracks`` lists it
    file: np.ndarray | None = None  # (E,) object
    file_track: np.ndarray | None = None  # (E,) int
    met_pos: np.ndarray | None = None  # (E, 3) ECEF m: the threat's true place then (nan: gone, or no threat)

    def end_pos(self) -> np.ndarray:
        """(E, 3) ECEF m: where each salvo's flight ended. A kill is where the threat truly was
        at the intercept time: the kill vehicle homed on it, up to its divert (and the fly-out
        fan's reach within the handover time) from the point planned on the track; a miss is
        drawn at the planned point."""
        if self.met_pos is None:
            return self.intercept_pos
        return np.where(self.killed[:, None] & np.isfinite(self.met_pos).all(axis=1)[:, None], self.met_pos,
                        self.intercept_pos)

    def owner(self, n_threats: int) -> np.ndarray:
        """(E,) the threat whose complex each salvo went at: its warhead, or where a track of
        reports without labels held that, its spent booster; -1 for a false track."""
        if self.target is None:
            return self.threat
        return np.where(self.target >= 0, self.target % max(n_threats, 1), -1)

    @classmethod
    def empty(cls) -> Engagements:
        z = np.zeros(0)
        i = np.zeros(0, np.int64)
        return cls(i, i, i, i, z, z, z, np.zeros((0, 3)), z, np.zeros(0, bool), z, z, z, z, np.zeros(0, bool), z)
