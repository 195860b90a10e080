"""Records produced by the flyout stage.

All positions and velocities are WGS84 ECEF [m, m/s]; times are seconds from the
scenario epoch.  Arrays carry leading batch axes ``...`` (in the engine: Monte
Carlo run ``R`` and threat ``N``), then time ``T``, then the 3 components.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np


class Phase(IntEnum):
    """Flight phase of a threat at one time sample."""

    PRELAUNCH = 0  # on the pad: position is the launch point, velocity is zero (ECEF)
    BOOST = 1  # an engine is burning
    MIDCOURSE = 2  # unpowered, above the re-entry altitude
    REENTRY = 3  # unpowered, below the re-entry altitude on the way down
    IMPACTED = 4  # on the ground: position held at the impact point


#: Altitude [m] below which a descending unpowered body counts as re-entering.
REENTRY_ALTITUDE_M = 100e3


@dataclass(frozen=True)
class Trajectories:
    """Sampled threat flights on one shared time grid.

    Attributes
    ----------
    t : (T,) float64
        Sample times [s from epoch], uniform step ``dt``.
    pos, vel : (..., T, 3) float64
        ECEF position [m] and velocity [m/s].  Before launch the body sits at the
        launch point with zero velocity; after impact it sits at the impact point.
    phase : (..., T) int8
        :class:`Phase` per sample.
    launch_time, burnout_time, apogee_time, impact_time : (...,) float64
        Event times [s from epoch]; ``impact_time`` is ``inf`` if the body has not
        landed by the end of the grid.
    burnout_speed : (...,) float64
        Speed at burnout in the inertial frame [m/s].
    apogee_alt : (...,) float64
        Highest geodetic altitude reached [m].
    impact_pos : (..., 3) float64
        ECEF point where the body met the ellipsoid surface (``nan`` if not landed).
    separates : (...,) bool or None
        Whether a re-entry vehicle separates from the spent last stage at burnout (the
        catalogue's ``reentry_vehicle``), leaving a second object beside it
        (:mod:`shieldlab.sensors.boosters`); False where the whole missile re-enters
        (Scud-class, Iskander-M).  None: every body separates.
    """

    t: np.ndarray
    pos: np.ndarray
    vel: np.ndarray
    phase: np.ndarray
    launch_time: np.ndarray
    burnout_time: np.ndarray
    burnout_speed: np.ndarray
    apogee_time: np.ndarray
    apogee_alt: np.ndarray
    impact_time: np.ndarray
    impact_pos: np.ndarray
    separates: np.ndarray | None = None

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self.pos.shape[:-2]

    @property
    def dt(self) -> float:
        return float(self.t[1] - self.t[0]) if self.t.size > 1 else 0.0
