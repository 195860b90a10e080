"""Kill probability of one interceptor as a function of the end-game geometry.

    Pk = sspk * f(v_c; v_max, 0.1 v_max) * f(theta; theta_max, 10 deg)
    f(x; x_max, w) = 1 for x <= x_max,  exp(-((x - x_max) / w)^2 / 2) beyond

``v_c`` is the closing speed and ``theta`` the crossing angle at intercept (definitions in
:func:`shieldlab.engage.solver.intercept_geometry`); ``v_max`` and ``theta_max`` are the
interceptor's end-game envelope (catalogue ``max_closing_speed_kms``,
``max_crossing_angle_deg``; ``None``: no limit, Pk = sspk; no design figure is public, so a
catalogued limit is the edge of what tests have shown).  Inside the envelope the
single-shot kill probability holds; outside it falls off smoothly (continuous, with a
continuous first derivative), to 61 % of sspk one width beyond the limit and 14 % two
widths beyond.  Why: a hit-to-kill vehicle's seeker, divert and fuzing are designed
for a band of end-game geometries -- above its design closing speed the time left to
remove the last heading error shrinks, at large crossing angles the target crosses the
seeker's field of view fast and the divert needed grows (Zarchan, *Tactical and
Strategic Missile Guidance*, ch. on miss distance; a blast-fragmentation fuze has a
similar window).  The widths (10 % of the speed limit, 10 deg) are assumptions, to be
swept.
"""

from __future__ import annotations

import numpy as np

#: Width of the fall-off beyond the closing-speed limit, as a fraction of the limit.
SPEED_WIDTH = 0.10
#: Width of the fall-off beyond the crossing-angle limit [rad].
ANGLE_WIDTH = np.radians(10.0)


def _falloff(x, limit, width):
    over = np.maximum(np.asarray(x, float) - limit, 0.0)
    return np.exp(-0.5 * (over / width) ** 2)


def envelope_factor(spec, closing_speed, crossing_angle) -> np.ndarray:
    """The factor multiplying sspk, in [0, 1] (arrays broadcast; m/s and rad)."""
    f = np.ones(np.broadcast(np.asarray(closing_speed), np.asarray(crossing_angle)).shape)
    vmax = getattr(spec, "max_closing_speed_kms", None)
    if vmax is not None:
        f = f * _falloff(closing_speed, 1e3 * vmax, SPEED_WIDTH * 1e3 * vmax)
    amax = getattr(spec, "max_crossing_angle_deg", None)
    if amax is not None:
        f = f * _falloff(crossing_angle, np.radians(amax), ANGLE_WIDTH)
    # unknown geometry (nan): no penalty, the single-shot figure stands
    return np.where(np.isfinite(f), f, 1.0)


def kill_probability(spec, closing_speed, crossing_angle) -> np.ndarray:
    """Single-interceptor kill probability for closing speed [m/s] and crossing angle [rad]."""
    return spec.sspk * envelope_factor(spec, closing_speed, crossing_angle)
