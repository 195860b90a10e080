"""Records produced by the engagement stage."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Engagements:
    """Every interceptor salvo fired, one row per salvo (flat arrays of length E).

    ``run`` is the index within the chunk's batch, ``threat`` the threat index and
    ``battery`` the index into the world's batteries.  Times are seconds from the
    epoch; ``intercept_pos`` is the planned intercept point (ECEF m).  ``closing_speed``
    (relative speed |v_I - v_T|, m/s) and ``crossing_angle`` (between the interceptor's
    velocity and the reversed threat velocity, rad: 0 head-on, pi tail chase) are those of
    the plan (predicted threat velocity, the fan's kill-vehicle velocity); ``pk`` is the
    single-interceptor kill probability they give (:mod:`shieldlab.engage.pk`).
    ``pip_sigma`` is the launch gate's 1-sigma position uncertainty [m] of the predicted
    intercept point at the decision (:func:`shieldlab.engage.planner.intercept_point_sigma`).
    ``boost_track`` says the plan was made on a track that may still have been under thrust
    (:mod:`shieldlab.engage.threat_eval`); ``reach_shortfall`` [m] is 0 where the threat's
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

    @classmethod
    def empty(cls) -> "Engagements":
        z = np.zeros(0)
        i = np.zeros(0, np.int64)
        return cls(i, i, i, i, z, z, z, np.zeros((0, 3)), z, np.zeros(0, bool), z, z, z, z, np.zeros(0, bool), z)


#: Why fire control did not shoot, or waited (``Decisions.reason`` codes).
REASONS = (
    "no-track",  # no fire-control track of the threat (never confirmed, or not on this battery's source)
    "not-threatening",  # its predicted impact threatens no defended asset (doctrine engage: threatening)
    "out-of-envelope",  # no intercept point inside the battery's envelope that its fly-out fan reaches in time
    "held-last-chance",  # on a track that may still be under thrust, holding fire to the last chance
    "track-quality",  # the launch gate: the predicted intercept point is too uncertain for the divert
    "magazine-empty",  # no rounds left above the battery's reserve
    "no-battery",  # no battery can be given the threat (none in the scenario, or no system tracks it)
    "threat-gone",  # a shot was planned, but the threat landed (or the simulated time ended) first
)
#: Codes that describe waiting rather than giving up (logged as ``hold`` when they begin).
HOLD_REASONS = ("held-last-chance", "track-quality")


@dataclass(frozen=True)
class Decisions:
    """Fire control's log of not shooting, one row per decision (flat arrays of length D).

    ``kind`` 0 is a *hold* (a battery began to wait: the reason is one of
    :data:`HOLD_REASONS`, the time when it began); 1 is a *no-fire*: at the end of the run
    the threat had not been engaged (or not re-engaged after a miss, with engagements
    left), and ``reason`` says why for each battery (``battery`` -1: for no battery in
    particular); its time is the last time fire control looked at the threat, or its
    impact.  ``reason`` indexes :data:`REASONS`; ``run`` is the index within the chunk.
    """

    run: np.ndarray  # (D,) int
    threat: np.ndarray  # (D,) int
    battery: np.ndarray  # (D,) int, -1: none
    time: np.ndarray  # (D,) s from epoch
    kind: np.ndarray  # (D,) int8: 0 hold, 1 no-fire
    reason: np.ndarray  # (D,) int8 index into REASONS

    @classmethod
    def empty(cls) -> "Decisions":
        i = np.zeros(0, np.int64)
        return cls(i, i, i, np.zeros(0), np.zeros(0, np.int8), np.zeros(0, np.int8))
