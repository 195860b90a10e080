"""The spent booster: a second object near each warhead after staging.

When the last stage burns out the re-entry vehicle separates from it, and from then on a
radar sees two objects where it saw one: the warhead and the empty stage tumbling beside
it.  Model (a stated simplification; no public trajectory of a separated stage exists for
these missiles):

* Separation at burnout pushes the two apart at :data:`SEPARATION_SPEED_MS` along the
  flight path (springs or small retro-rockets give a few metres per second; assumption).
  In vacuum the relative motion of two bodies on nearly the same orbit is, to first order
  over a few hundred seconds, a drift along the path at that speed, so the booster trails
  the warhead by ``SEPARATION_SPEED_MS · (t − t_burnout)`` along the warhead's velocity:

      r_booster(t) = r_rv(t) − Δv (t − t_bo) v̂_rv(t).

* On the way down the empty stage, light for its size, decelerates high in the
  atmosphere and breaks up; it is taken to leave the scene when the warhead descends
  through :data:`BREAKUP_ALT_M` (assumption: the stage's ballistic coefficient is an order
  of magnitude below the warhead's, so drag separates them from ~80-100 km down).
* Its radar cross-section is the missile body's (the catalogue's ``booster_rcs_m2``),
  Swerling 1 like every target.

A missile whose whole body re-enters (the catalogue's ``reentry_vehicle: null``: Scud-B,
Scud-C, Iskander-M; :attr:`~shieldlab.flyout.records.Trajectories.separates` False) drops
nothing: it has no spent booster, and the radar sees the one body (at the signature's
after-burnout figures).
"""

from __future__ import annotations

import numpy as np

from shieldlab import earth
from shieldlab.flyout.interp import state_at
from shieldlab.flyout.records import Trajectories

#: Relative speed of warhead and spent stage after separation [m/s] (assumption).
SEPARATION_SPEED_MS = 3.0
#: Altitude of the warhead on its way down below which the spent stage is gone [m] (assumption).
BREAKUP_ALT_M = 80_000.0


def positions(truth: Trajectories, t, pos: np.ndarray | None = None,
              vel: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Spent-booster positions at times ``t`` (K,) [s from epoch].

    Parameters
    ----------
    truth : Trajectories
        The threats' flights, batch shape ``...``.
    t : (K,) float
        Times [s].
    pos, vel : (..., K, 3), optional
        The warheads' positions [m] and velocities [m/s] at ``t`` if already interpolated
        (both given: no second pass; ``pos`` alone replaces the interpolated positions).

    Returns
    -------
    booster : (..., K, 3) float
        ECEF position [m]; ``nan`` where there is no booster.
    present : (..., K) bool
        After burnout, before impact, and not yet below :data:`BREAKUP_ALT_M` on the way down,
        of a missile whose re-entry vehicle separates.
    """
    t = np.asarray(t, float)
    if pos is None or vel is None:
        p, v = state_at(truth, t)
        assert v is not None  # asked for
        p = p if pos is None else pos
    else:
        p, v = pos, vel
    batch = truth.batch_shape
    bo, apo, imp = (np.broadcast_to(a, batch)[..., None]
                    for a in (truth.burnout_time, truth.apogee_time, truth.impact_time))
    sep = None if truth.separates is None else np.broadcast_to(truth.separates, batch)[..., None]
    return _trailing(p, v, t, bo, apo, imp, sep)


def positions_at(truth: Trajectories, index: tuple[np.ndarray, ...], t) -> tuple[np.ndarray, np.ndarray]:
    """:func:`positions` of single (body, time) elements: the spent boosters of the bodies
    ``index`` (a tuple of integer arrays (E,) into the batch shape, e.g. ``(run, threat)``)
    at their times ``t`` (E,) [s]; returns ``(booster (E, 3), present (E,))``, the same
    numbers as :func:`positions` at those elements, without the whole grid."""
    t = np.asarray(t, float)
    p, v = state_at(truth, t, index=index)
    assert v is not None  # asked for
    batch = truth.batch_shape
    bo, apo, imp = (np.broadcast_to(a, batch)[index] for a in (truth.burnout_time, truth.apogee_time,
                                                              truth.impact_time))
    sep = None if truth.separates is None else np.broadcast_to(truth.separates, batch)[index]
    return _trailing(p, v, t, bo, apo, imp, sep)


def _trailing(p: np.ndarray, v: np.ndarray, t: np.ndarray, bo, apo, imp, separates=None
              ) -> tuple[np.ndarray, np.ndarray]:
    """The booster trailing warheads at ``p`` [m] with velocity ``v`` [m/s] (..., 3) at times
    ``t`` [s], their burnout, apogee and impact times ``bo``, ``apo``, ``imp`` (and whether a
    booster separates at all, ``separates``; None: it does) broadcasting against ``t``:
    ``(booster (..., 3), present (...))`` as :func:`positions` returns them."""
    present = (t > bo) & (t < imp)
    if separates is not None:
        present &= np.asarray(separates, bool)
    if present.any():
        alt = earth.ecef_to_geodetic(np.where(present[..., None], p, earth.WGS84_A))[2]
        present &= ~((t > apo) & (alt < BREAKUP_ALT_M))
    speed = np.linalg.norm(v, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        along = np.where(speed > 0, v / speed, 0.0)
    drift = SEPARATION_SPEED_MS * np.maximum(t - bo, 0.0)[..., None]
    out = np.where(present[..., None], p - drift * along, np.nan)
    return out, present
