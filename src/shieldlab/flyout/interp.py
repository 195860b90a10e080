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


def state_at(traj: Trajectories, t, index: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
    """ECEF position [m] and velocity [m/s] of the bodies at times ``t`` [s from epoch].

    ``index is None``: ``t`` (K,) is shared by every body; returns ``(..., K, 3)`` arrays
    for the batch shape ``...``.  Otherwise ``index`` is a tuple of integer arrays (E,)
    into the batch shape (e.g. ``(run, threat)``) and ``t`` (E,) holds one time per
    element; returns ``(E, 3)`` arrays.  Times outside the grid are clamped to it.
    """
    t = np.asarray(t, float)
    T = traj.t.size
    t0, h = float(traj.t[0]), traj.dt
    batch = traj.batch_shape
    lt = np.broadcast_to(traj.launch_time, batch)
    it = np.broadcast_to(traj.impact_time, batch)
    ip = np.broadcast_to(traj.impact_pos, batch + (3,))
    if T < 2:  # a single sample: nothing to interpolate
        if index is None:
            p = np.broadcast_to(traj.pos, batch + (t.size, 3))
            return p.copy(), np.zeros_like(p)
        return traj.pos[index + (0,)].copy(), np.zeros(t.shape + (3,))
    f = np.clip((t - t0) / h, 0.0, T - 1.0)
    i = np.minimum(np.floor(f).astype(np.intp), T - 2)
    s = f - i
    if index is None:
        P0, V0 = traj.pos[..., i, :], traj.vel[..., i, :]
        P1, V1 = traj.pos[..., i + 1, :], traj.vel[..., i + 1, :]
        lt, it, ip = lt[..., None], it[..., None], ip[..., None, :]
        ti = np.broadcast_to(traj.t[i], batch + (t.size,))
        tq = np.broadcast_to(t, batch + (t.size,))
    else:
        P0, V0 = traj.pos[index + (i,)], traj.vel[index + (i,)]
        P1, V1 = traj.pos[index + (i + 1,)], traj.vel[index + (i + 1,)]
        lt, it, ip = lt[index], it[index], ip[index]
        ti, tq = traj.t[i], t
    ti = ti + 0.0 * tq  # broadcast to the query shape
    s = np.broadcast_to(s, tq.shape)[..., None]
    s2, s3 = s * s, s * s * s
    pos = (2 * s3 - 3 * s2 + 1) * P0 + (s3 - 2 * s2 + s) * h * V0 + (-2 * s3 + 3 * s2) * P1 + (s3 - s2) * h * V1
    vel = ((6 * s2 - 6 * s) * P0 + (3 * s2 - 4 * s + 1) * h * V0 + (-6 * s2 + 6 * s) * P1
           + (3 * s2 - 2 * s) * h * V1) / h
    # the interval holding the launch: quadratic from the launch point to the sample after it
    t1 = ti + h
    start = (lt > ti) & (lt < t1) & (tq >= lt)
    if start.any():
        L = np.where(start, t1 - lt, 1.0)[..., None]
        tau = (tq - t1)[..., None]  # <= 0
        c = (P0 - P1 + V1 * L) / (L * L)  # P0: the launch point (at rest before launch)
        pos = np.where(start[..., None], P1 + V1 * tau + c * tau * tau, pos)
        vel = np.where(start[..., None], V1 + 2 * c * tau, vel)
    # the interval holding the impact: quadratic from the sample before it to the impact point
    end = (it > ti) & (it <= t1) & (tq < it) & (tq >= ti)
    if end.any():
        L = np.where(end, it - ti, 1.0)[..., None]
        tau = (tq - ti)[..., None]
        c = (np.where(end[..., None], ip, 0.0) - P0 - V0 * L) / (L * L)
        pos = np.where(end[..., None], P0 + V0 * tau + c * tau * tau, pos)
        vel = np.where(end[..., None], V0 + 2 * c * tau, vel)
    # on the pad, or on the ground after the impact: at rest
    before = tq < lt
    after = tq >= it
    if before.any():
        pos = np.where(before[..., None], P0, pos)  # sample i is on the pad too
        vel = np.where(before[..., None], 0.0, vel)
    if after.any():
        pos = np.where(after[..., None], ip, pos)
        vel = np.where(after[..., None], 0.0, vel)
    return pos, vel
