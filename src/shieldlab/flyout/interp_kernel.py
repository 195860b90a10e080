"""Compiled loops of :func:`shieldlab.flyout.interp.state_at`.

The sensors read the truth at every scan of every run and threat of a chunk.  In NumPy the
cubic Hermite interpolant gathers both neighbouring samples' positions and velocities and
builds the polynomial's terms as whole arrays: about ten temporaries the size of the
answer, the largest transient of a chunk's sensing.  Here each (body, time) is one pass
over scalars, written with the same operations in the same order as
:func:`shieldlab.flyout.interp.state_at_numpy` (the reference: a test holds them equal to
the bit), the launch and impact intervals and the pad and ground handled in place.

The sample index ``i``, the fraction ``s`` and the interval start ``ti`` come from the
caller (computed once per time in NumPy, so both forms share them).
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, inline="always", error_model="numpy")
def _one(pos, vel, b, i, s, tq, ti, h, lt, it, ipx, ipy, ipz, out_p, out_v, e, want_vel):
    """The state of the body sampled in row ``b`` of ``pos``, ``vel`` at time ``tq`` into row
    ``e`` of ``out_p`` (and ``out_v``)."""
    c = s
    c2 = c * c
    c3 = c * c * c
    a0 = 2 * c3 - 3 * c2 + 1
    a1 = (c3 - 2 * c2 + c) * h
    a2 = -2 * c3 + 3 * c2
    a3 = (c3 - c2) * h
    d0 = 6 * c2 - 6 * c
    d1 = (3 * c2 - 4 * c + 1) * h
    d2 = -6 * c2 + 6 * c
    d3 = (3 * c2 - 2 * c) * h
    start = (ti < lt) and (lt < ti + h) and (tq >= lt)
    end = (ti < it) and (it <= ti + h) and (tq < it)
    before = tq < lt
    after = tq >= it
    ip = (ipx, ipy, ipz)
    for j in range(3):
        p0, v0 = pos[b, i, j], vel[b, i, j]
        p1, v1 = pos[b, i + 1, j], vel[b, i + 1, j]
        p = a0 * p0 + a1 * v0 + a2 * p1 + a3 * v1
        v = 0.0
        if want_vel:
            v = (d0 * p0 + d1 * v0 + d2 * p1 + d3 * v1) / h
        if start:  # quadratic from the launch point (sample i, at rest) to sample i + 1
            L = ti + h - lt
            tau = tq - ti - h
            q = (p0 - p1 + v1 * L) / (L * L)
            p = p1 + v1 * tau + q * tau * tau
            v = v1 + 2 * q * tau
        if end:  # quadratic from sample i to the impact point
            L = it - ti
            tau = tq - ti
            q = (ip[j] - p0 - v0 * L) / (L * L)
            p = p0 + v0 * tau + q * tau * tau
            v = v0 + 2 * q * tau
        if before:  # on the pad
            p = p0
            v = 0.0
        if after:  # on the ground at the impact point
            p = ip[j]
            v = 0.0
        out_p[e, j] = p
        if want_vel:
            out_v[e, j] = v


@nb.njit(cache=True, error_model="numpy")
def states_grid(pos, vel, rows, idx, S, T, TI, h, lt, it, ip, want_vel):
    """States of every body ``b`` (B,) at the shared times ``T`` (K,) [s] (sample index
    ``idx``, fraction ``S``, interval start ``TI``, each (K,)): body ``b`` is sampled in row
    ``rows[b]`` of ``pos``, ``vel`` (R, T, 3) [m, m/s]; ``lt``, ``it`` (B,) are its launch and
    impact times [s], ``ip`` (B, 3) its impact point [m].  Returns ``(pos (B*K, 3), vel
    (B*K, 3) or (0, 3))``, body-major."""
    B, K = rows.shape[0], T.shape[0]
    out_p = np.empty((B * K, 3))
    out_v = np.empty((B * K if want_vel else 0, 3))
    for b in range(B):
        r = rows[b]
        for k in range(K):
            _one(pos, vel, r, idx[k], S[k], T[k], TI[k], h, lt[b], it[b], ip[b, 0], ip[b, 1], ip[b, 2], out_p,
                 out_v, b * K + k, want_vel)
    return out_p, out_v


@nb.njit(cache=True, error_model="numpy")
def states_rows(pos, vel, rows, body, idx, S, T, TI, h, lt, it, ip, want_vel):
    """States of bodies ``body`` (E,) each at its own time ``T`` (E,) [s] (``rows``, ``idx``,
    ``S``, ``TI``, ``lt``, ``it``, ``ip`` as in :func:`states_grid`).  Returns ``(pos (E, 3),
    vel (E, 3) or (0, 3))``."""
    E = T.shape[0]
    out_p = np.empty((E, 3))
    out_v = np.empty((E if want_vel else 0, 3))
    for e in range(E):
        b = body[e]
        _one(pos, vel, rows[b], idx[e], S[e], T[e], TI[e], h, lt[b], it[b], ip[b, 0], ip[b, 1], ip[b, 2], out_p,
             out_v, e, want_vel)
    return out_p, out_v
