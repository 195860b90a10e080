"""The truth between its samples: a threat's ECEF position and velocity at any time.

Sensors scan on their own clocks and kill assessment asks for the truth at the planned
intercept instant; neither falls on the flyout's sampling grid (``Trajectories.t``,
step ``dt`` up to 10 s).  Everything that reads the truth off the grid goes through
:func:`state_at`, so every stage sees the same continuous trajectory, whatever ``dt``.

Between two in-flight samples ``(p0, v0)`` at ``t_i`` and ``(p1, v1)`` at ``t_i + h`` the
position is the cubic Hermite interpolant (de Boor, *A Practical Guide to Splines*,
1978, ch. IV), ``s = (t - t_i) / h``::

    p(s) = (2s³ - 3s² + 1) p0 + (s³ - 2s² + s) h v0 + (-2s³ + 3s²) p1 + (s³ - s²) h v1

and the velocity its time derivative; its error is ~h⁴ |d⁴p/dt⁴| / 384, metres at
h = 1 s, up to a few hundred metres late in a steep re-entry at h = 10 s.  The launch
and the impact fall between samples and end the flight's smoothness, so the interval
that holds one of them is bridged by the quadratic through the in-flight sample's
position and velocity and the event's position (the launch point, or
``impact_pos`` at ``impact_time``).  Before launch the body is at the launch point at
rest; from the impact on, at the impact point at rest (ECEF).
"""

from __future__ import annotations

import numpy as np

from shieldlab.flyout.records import Trajectories

__all__ = ["state_at", "in_flight"]


def in_flight(traj: Trajectories, t, index: tuple | None = None) -> np.ndarray:
    """Whether each body has launched and not yet landed at ``t`` (same shapes as :func:`state_at`)."""
    t = np.asarray(t, float)
    if index is None:
        lt, it = traj.launch_time[..., None], traj.impact_time[..., None]
        lt, it = np.broadcast_to(lt, traj.batch_shape + (1,)), np.broadcast_to(it, traj.batch_shape + (1,))
    else:
        lt, it = np.broadcast_to(traj.launch_time, traj.batch_shape)[index], \
            np.broadcast_to(traj.impact_time, traj.batch_shape)[index]
    return (t >= lt) & (t < it)


def state_at(traj: Trajectories, t, index: tuple | None = None,
             velocity: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """ECEF position [m] and velocity [m/s] of the bodies at times ``t`` [s from epoch].

    ``index is None``: ``t`` (K,) is shared by every body; returns ``(..., K, 3)`` arrays
    for the batch shape ``...``.  Otherwise ``index`` is a tuple of integer arrays (E,)
    into the batch shape (e.g. ``(run, threat)``) and ``t`` (E,) holds one time per
    element; returns ``(E, 3)`` arrays.  Times outside the grid are clamped to it.
    ``velocity=False`` skips the velocity (returned as None).
    """
    t = np.asarray(t, float)
    T = traj.t.size
    t0, h = float(traj.t[0]), traj.dt
    batch = traj.batch_shape
    if T < 2:  # a single sample: nothing to interpolate
        at = (Ellipsis, np.zeros(t.size, np.intp), slice(None)) if index is None else index + (0,)
        pos = traj.pos[at].copy()
        return pos, (np.zeros_like(pos) if velocity else None)
    f = np.clip((t - t0) / h, 0.0, T - 1.0)
    i = np.minimum(np.floor(f).astype(np.intp), T - 2)
    s = f - i
    at0 = (Ellipsis, i, slice(None)) if index is None else index + (i,)
    at1 = (Ellipsis, i + 1, slice(None)) if index is None else index + (i + 1,)
    P0, V0 = traj.pos[at0], traj.vel[at0]
    if not s.any():  # every time on a sample: the samples are exact (pad and ground included)
        return P0, (V0 if velocity else None)
    P1, V1 = traj.pos[at1], traj.vel[at1]
    c = s[:, None]
    c2, c3 = c * c, c * c * c
    pos = (2 * c3 - 3 * c2 + 1) * P0 + (c3 - 2 * c2 + c) * h * V0 + (-2 * c3 + 3 * c2) * P1 + (c3 - c2) * h * V1
    vel = None
    if velocity:
        vel = ((6 * c2 - 6 * c) * P0 + (3 * c2 - 4 * c + 1) * h * V0 + (-6 * c2 + 6 * c) * P1
               + (3 * c2 - 2 * c) * h * V1) / h
    # the few (body, time) pairs off the smooth flight, fixed one by one
    shape = pos.shape[:-1]
    lt = np.broadcast_to(traj.launch_time, batch)
    it = np.broadcast_to(traj.impact_time, batch)
    ip = np.broadcast_to(traj.impact_pos, batch + (3,))
    if index is None:
        lt, it, ip = lt[..., None], it[..., None], ip[..., None, :]
    else:
        lt, it, ip = lt[index], it[index], ip[index]
    lt, it, ip = np.broadcast_to(lt, shape), np.broadcast_to(it, shape), np.broadcast_to(ip, shape + (3,))
    tq, ti = np.broadcast_to(t, shape), np.broadcast_to(t0 + i * h, shape)
    with np.errstate(invalid="ignore"):
        start = (ti < lt) & (lt <= ti + h) & (tq >= lt)  # the interval holding the launch
        end = (ti < it) & (it <= ti + h) & (tq < it)  # ... and the one holding the impact
    if start.any():  # quadratic from the launch point (sample i, at rest) to sample i + 1
        w = np.nonzero(start)
        L = (ti[w] + h - lt[w])[:, None]
        tau = (tq[w] - ti[w] - h)[:, None]
        q = (P0[w] - P1[w] + V1[w] * L) / (L * L)
        pos[w] = P1[w] + V1[w] * tau + q * tau * tau
        if vel is not None:
            vel[w] = V1[w] + 2 * q * tau
    if end.any():  # quadratic from sample i to the impact point
        w = np.nonzero(end)
        L = (it[w] - ti[w])[:, None]
        tau = (tq[w] - ti[w])[:, None]
        q = (ip[w] - P0[w] - V0[w] * L) / (L * L)
        pos[w] = P0[w] + V0[w] * tau + q * tau * tau
        if vel is not None:
            vel[w] = V0[w] + 2 * q * tau
    before, after = tq < lt, tq >= it
    if before.any():  # on the pad (sample i is there too)
        pos[before] = P0[before]
        if vel is not None:
            vel[before] = 0.0
    if after.any():  # on the ground at the impact point
        pos[after] = ip[after]
        if vel is not None:
            vel[after] = 0.0
    return pos, vel
