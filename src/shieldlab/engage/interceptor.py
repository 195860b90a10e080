"""Straight-line kinematic interceptor law: how long an interceptor needs to reach a point.

No longer what the planner and ``shieldlab reach`` use (they fly the fan of
:mod:`shieldlab.engage.fan`: gravity, drag, a curved path); kept as a constructed case for the
intercept-solver validation (:func:`shieldlab.engage.solver.straight_line_time`).

Model: constant acceleration along the line of sight to the burnout speed ``v``
during the burn time ``t_b``, then constant speed ``v`` in a straight line (no
gravity, no drag, no turn):

    s(t) = v t^2 / (2 t_b)           for t <= t_b   (distance s_b = v t_b / 2 at burnout)
    t(d) = sqrt(2 d t_b / v)         for d <= s_b
    t(d) = t_b + (d - s_b) / v       for d >  s_b

It is the envelope-level model that open analyses of missile defence use for
exo-atmospheric interceptors (e.g. Wilkening 2012, Survival 54(1), which flies a
burnout speed along a straight line); the envelope limits (minimum and maximum
range and intercept altitude) come from the catalogue.
"""

from __future__ import annotations

import numpy as np


def time_of_flight(distance_m, burnout_speed, burn_time):
    """Seconds for the interceptor to cover ``distance_m`` (arrays broadcast)."""
    d = np.asarray(distance_m, float)
    v = np.asarray(burnout_speed, float)
    tb = np.asarray(burn_time, float)
    s_b = 0.5 * v * tb
    with np.errstate(divide="ignore", invalid="ignore"):
        boost = np.sqrt(2.0 * d * tb / v)
        coast = tb + (d - s_b) / v
    return np.where(v > 0, np.where(d <= s_b, boost, coast), np.inf)
