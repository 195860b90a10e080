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

from shieldlab.flyout import interp_kernel
from shieldlab.flyout.records import Trajectories

__all__ = ["state_at", "state_at_numpy", "in_flight"]


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

    Compiled (:mod:`shieldlab.flyout.interp_kernel`): one pass per (body, time), no
    temporaries; the same bits as :func:`state_at_numpy`, the reference, which also serves
    the rare batch whose samples cannot be viewed as (bodies, T, 3) without a copy.
    """
    t = np.asarray(t, float)
    T = traj.t.size
    batch = traj.batch_shape
    compact = _bodies(traj)
    if T < 2 or (index is None and t.ndim != 1) or compact is None:
        return state_at_numpy(traj, t, index, velocity)
    pos3, vel3, rows = compact
    body = None
    if index is not None:  # one body and one time per element: both broadcast to the elements' shape
        idx = tuple(np.where(a < 0, a + d, a) for a, d in zip((np.asarray(a, np.intp) for a in index), batch))
        body, t = np.broadcast_arrays(np.ravel_multi_index(idx, batch), t)
    t0, h = float(traj.t[0]), traj.dt
    f = np.clip((t - t0) / h, 0.0, T - 1.0)
    i = np.minimum(np.floor(f).astype(np.intp), T - 2)
    s = f - i
    if not s.any():  # every time on a sample: the samples are exact (pad and ground included)
        return state_at_numpy(traj, t, index, velocity)
    ti = t0 + i * h
    B = rows.size
    lt = np.ascontiguousarray(np.broadcast_to(traj.launch_time, batch), float).reshape(B)
    it = np.ascontiguousarray(np.broadcast_to(traj.impact_time, batch), float).reshape(B)
    ip = np.ascontiguousarray(np.broadcast_to(traj.impact_pos, batch + (3,)), float).reshape(B, 3)
    if index is None:
        p, v = interp_kernel.states_grid(pos3, vel3, rows, i, s, t, ti, h, lt, it, ip, velocity)
        shape = batch + (t.size, 3)
    else:
        assert body is not None  # set with the index
        flat = lambda a: np.ascontiguousarray(a).reshape(-1)  # noqa: E731
        p, v = interp_kernel.states_rows(pos3, vel3, rows, flat(body).astype(np.intp), flat(i), flat(s), flat(t),
                                         flat(ti), h, lt, it, ip, velocity)
        shape = t.shape + (3,)
    return p.reshape(shape), (v.reshape(shape) if velocity else None)


def _bodies(traj: Trajectories) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The distinct bodies' samples as (R, T, 3) views of ``traj.pos`` and ``traj.vel`` and
    the row of each batch element (B,), without a copy: a batch broadcast along an axis (the
    nominal flights shared by a chunk's runs) is read from its one copy.  None where no such
    view exists (then the NumPy form serves)."""
    batch, T = traj.batch_shape, traj.t.size
    p, v = traj.pos, traj.vel
    if p.dtype != np.float64 or v.dtype != np.float64 or p.shape != v.shape:
        return None
    one = tuple(d for d in range(len(batch)) if batch[d] > 1 and p.strides[d] == 0)
    if one != tuple(d for d in range(len(batch)) if batch[d] > 1 and v.strides[d] == 0):
        return None
    at = tuple(slice(0, 1) if d in one else slice(None) for d in range(len(batch)))
    p, v = p[at], v[at]
    shape = p.shape[:-2]
    R = int(np.prod(shape, dtype=np.int64))
    p3, v3 = p.reshape(R, T, 3), v.reshape(R, T, 3)
    if R and not (np.may_share_memory(p3, traj.pos) and np.may_share_memory(v3, traj.vel)):
        return None  # the batch axes do not merge: a copy would cost more than it saves
    rows = np.broadcast_to(np.arange(R, dtype=np.intp).reshape(shape), batch).reshape(-1)
    return p3, v3, rows


def state_at_numpy(traj: Trajectories, t, index: tuple | None = None,
                   velocity: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`state_at` as whole-array NumPy: the reference the compiled form is held to."""
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
        # the interval holding the launch (a launch on sample i + 1 is that sample's: rounding
        # may still put its instant in interval i, where the quadratic would have no length)
        start = (ti < lt) & (lt < ti + h) & (tq >= lt)
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
