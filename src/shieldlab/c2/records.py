"""Records of the command-and-control stage: fire control's working records and its log.

Fire control works from tracks only.  Its working data are named records:
:class:`Option` (one battery's best intercept of one threat at one planning tick) and
:class:`Salvo` (a committed engagement, handed to the engagement stage to fly and to
kill assessment to score); what it decided not to do is logged in :class:`Decisions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np


class Option(NamedTuple):
    """One battery's earliest intercept of one threat, planned at one tick (SI, ECEF)."""

    intercept_time: float  # s from epoch
    battery: int  # index into the world's batteries
    launch_time: float  # s: launch for that intercept (at the earliest, after the reaction time)
    intercept_pos: np.ndarray  # (3,) m ECEF, predicted from the track
    closing_speed: float  # m/s
    crossing_angle: float  # rad
    pk: float  # single-interceptor kill probability of the planned geometry
    pip_sigma: float  # m: 1-sigma uncertainty of the predicted intercept point (worst direction)
    boost_track: bool  # planned on a track that may still be under thrust
    hold_until: float  # s: on a boosting track, launch no earlier than this (the last chance less an interval)


class Salvo(NamedTuple):
    """An engagement fire control committed: what the engagement stage flies and kill assessment scores."""

    run: int  # index within the chunk
    threat: int
    battery: int
    rounds: int  # interceptors in the salvo
    decision_time: float  # s from epoch
    launch_time: float  # s
    intercept_time: float  # s, planned
    intercept_pos: np.ndarray  # (3,) m ECEF, planned
    engagement: int  # 0 for the first salvo at this threat, 1 for the second...
    guide_key: tuple  # the track source guiding the interceptor (its in-flight target updates)
    closing_speed: float  # m/s
    crossing_angle: float  # rad
    pk: float
    pip_sigma: float  # m
    boost_track: bool
    plan_key: tuple | None = None  # the track source it was planned on (None: the guidance source)


def key_array(keys: list) -> np.ndarray:
    """Track-source keys (tuples such as ``("system", name)``) as a 1-D object array, one key a
    cell (``np.array`` would unpack the tuples into a second axis)."""
    out = np.empty(len(keys), object)
    for i, key in enumerate(keys):
        out[i] = key
    return out


#: Why fire control did not shoot, or waited (``Decisions.reason`` codes).
REASONS = (
    "no-track",  # no fire-control track of the threat (never confirmed, or not on this battery's source)
    "not-threatening",  # its predicted impact threatens no defended asset (doctrine engage: threatening)
    "out-of-envelope",  # no point of the predicted path inside the battery's envelope that its fly-out fan reaches
    "held-last-chance",  # on a track that may still be under thrust, holding fire to the last chance
    "track-quality",  # the launch gate: the predicted intercept point is too uncertain for the divert
    "magazine-empty",  # no rounds left above the battery's reserve
    "no-battery",  # no battery can be given the threat (none in the scenario, or no system tracks it)
    "threat-gone",  # a shot was planned, but the threat landed (or the simulated time ended) first
    "assessed-killed",  # the look after a shot showed no detection of the threat: judged destroyed
    "outside-sector",  # architecture sectoral: its predicted path does not cross this node's sector
    "engaged-elsewhere",  # another node reported engaging it (coordinated or sectoral deconfliction)
    "kept-for-higher-value",  # the battery keeps its last rounds for threats with more value at stake
    # the fan reaches points of the predicted path, but none launching after the battery is ready
    # (its track, alert or reaction came too late; or, after a shot, the look at it left no time
    # for another); last, so that the codes before keep their numbers
    "too-late",
    # tracks of reports without labels: the threat's warhead had a confirmed track, but the
    # radars' discrimination calls judged it a spent booster, so fire control never read it
    # (from the tracks' lineage, for the log only); after "too-late", for the same reason
    "judged-booster",
    # tracks of reports without labels: a track this node already has a salvo at is statistically
    # the same object (track-to-track test) and no worse: this one waits for that shot's look
    "same-object",
    # judged a threat only when no window was left (too late, or the path out of reach by then):
    # at an earlier look the battery had a window on the predicted path, but the track did not
    # show the threat threatening a defended asset (``doctrine.threat_probability``); from the
    # end of the run, for the log only
    "judged-late",
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
    source: np.ndarray | None = None  # (D,) object: the track source the battery plans on (fire control's key)
    #: where fire control reads tracks of reports without labels: the fire-control track (column)
    #: a row is of (-1: none, as for a threat no track followed), and the track file and number
    #: there (as ``shieldlab tracks`` lists them; None and -1 where none)
    track: np.ndarray | None = None  # (D,) int
    file: np.ndarray | None = None  # (D,) object
    file_track: np.ndarray | None = None  # (D,) int

    @classmethod
    def empty(cls) -> Decisions:
        i = np.zeros(0, np.int64)
        return cls(i, i, i, np.zeros(0), np.zeros(0, np.int8), np.zeros(0, np.int8))
