"""Radar cross-section of a threat by object and aspect.

What a radar sees of a ballistic missile changes over its flight:

* **Boost.**  While its engines burn (from launch to burnout) the radar sees the whole
  missile, a body metres wide and tens of metres long: ``booster`` [m²], one figure
  whatever the aspect (the body's broadside and tail flashes average out over a scan).
* **After burnout** it sees what re-enters: the separated re-entry vehicle, or the whole
  missile where nothing separates.  A cone presents its small nose nose-on and its side
  broadside; with ``θ`` the angle between its axis and the line of sight,

      ln σ(θ) = cos²θ · ln σ_nose + sin²θ · ln σ_broadside

  a smooth interpolation in decibels between the two (an assumption: a real cone has a
  specular flash where the line of sight is normal to its side, Knott, Shaeffer & Tuley,
  *Radar Cross Section*, 2nd ed., 2004).  The axis is taken along the velocity
  (nose forward: a spin-stabilised vehicle keeps the attitude it had at separation,
  along its velocity then, and re-entry aligns it).

Figures come from the catalogue (:class:`shieldlab.catalog.models.Missile`: ``rcs_m2``
nose-on, ``rcs_broadside_m2``, ``booster_rcs_m2``; each defaults to ``rcs_m2``, so a
missile without them is the constant target it always was).  No dependence on the
radar's band, no plasma sheath, and the spent stage after separation is not a second
object here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

__all__ = ["Signature", "rcs", "rcs_rows"]


@dataclass(frozen=True)
class Signature:
    """Radar cross-sections [m²] of a batch of threats, each (...) or broadcastable to it."""

    nose: np.ndarray  # what re-enters, nose-on
    broadside: np.ndarray  # what re-enters, side-on
    booster: np.ndarray  # the whole missile while its engines burn

    @classmethod
    def constant(cls, rcs_m2) -> Signature:
        """The same RCS in every phase and at every aspect."""
        a = np.asarray(rcs_m2, dtype=float)
        return cls(a, a, a)

    @classmethod
    def of_missiles(cls, missiles) -> Signature:
        """From catalogue missiles (one per batch element along the last axis)."""
        nose = np.array([m.rcs_m2 for m in missiles], float)
        side = np.array([m.rcs_m2 if m.rcs_broadside_m2 is None else m.rcs_broadside_m2 for m in missiles], float)
        boost = np.array([m.rcs_m2 if m.booster_rcs_m2 is None else m.booster_rcs_m2 for m in missiles], float)
        return cls(nose, side, boost)


def rcs(sig: Signature, boosting, cos_aspect) -> np.ndarray:
    """RCS [m²] of threats that are ``boosting`` (bool) or, after burnout, seen at an
    angle whose cosine from their axis is ``cos_aspect`` (sign ignored; ``nan`` where
    unknown reads as nose-on).  All broadcast together."""
    c2 = np.nan_to_num(np.asarray(cos_aspect, dtype=float) ** 2, nan=1.0)
    c2 = np.clip(c2, 0.0, 1.0)
    nose, side = np.asarray(sig.nose, float), np.asarray(sig.broadside, float)
    with np.errstate(invalid="ignore"):
        # exactly the figure where it does not depend on aspect (exp(log x) may differ from x)
        after = np.where(nose == side, nose, np.exp(c2 * np.log(nose) + (1.0 - c2) * np.log(side)))
    return np.where(boosting, sig.booster, after)


@nb.njit(cache=True, error_model="numpy", inline="always")
def rcs_point(boosting, vx, vy, vz, lx, ly, lz, nose, side, boost):
    """:func:`rcs` of one threat, compiled: ``boosting`` or, after burnout, moving along
    (vx, vy, vz) and seen along the line of sight (lx, ly, lz) (any lengths; either zero
    reads as nose-on), with figures ``nose``, ``side``, ``boost`` [m²]."""
    if boosting:
        return boost
    if nose == side:
        return nose
    vv, ll = vx * vx + vy * vy + vz * vz, lx * lx + ly * ly + lz * lz
    c2 = 1.0
    if vv > 0.0 and ll > 0.0:
        c2 = min((vx * lx + vy * ly + vz * lz) ** 2 / (vv * ll), 1.0)
    return math.exp(c2 * math.log(nose) + (1.0 - c2) * math.log(side))


@nb.njit(cache=True, error_model="numpy")
def rcs_rows(pos, ok, t, launch, burnout, nose, side, boost, site, out):
    """:func:`rcs` of E paths at K scans, compiled, where ``ok`` (E, K) (``nose`` elsewhere):
    ``pos`` (E, K, 3) ECEF positions [m] at the scan times ``t`` (K,) [s], each path's
    ``launch`` and ``burnout`` times (E,) [s] and figures ``nose``, ``side``, ``boost`` (E,)
    [m²], seen from ``site`` (3,).  The axis is along the velocity, taken as the difference
    of the neighbouring scans' positions (central; one-sided at the ends).  Fills ``out``."""
    E, K = ok.shape
    for e in range(E):
        for k in range(K):
            if not ok[e, k]:
                out[e, k] = nose[e]
                continue
            k0, k1 = max(k - 1, 0), min(k + 1, K - 1)
            out[e, k] = rcs_point(launch[e] <= t[k] < burnout[e], pos[e, k1, 0] - pos[e, k0, 0],
                                  pos[e, k1, 1] - pos[e, k0, 1], pos[e, k1, 2] - pos[e, k0, 2], pos[e, k, 0] - site[0],
                                  pos[e, k, 1] - site[1], pos[e, k, 2] - site[2], nose[e], side[e], boost[e])
