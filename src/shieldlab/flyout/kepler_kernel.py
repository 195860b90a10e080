"""Compiled row loop of :func:`shieldlab.flyout.kepler.state_impact`.

Fire control's impact corridor (:func:`shieldlab.c2.threat_eval.coast_impacts`) asks
where a few thousand boost hypotheses come down at every look; in NumPy each of the
closed form's ~60 steps is a call on a whole array, and those calls' overhead and
temporaries cost more than the arithmetic.  Here each state is one pass over scalars: the
same equations in the same order (see :func:`~shieldlab.flyout.kepler.state_impact` for
them and their sources), which stays the reference (tests: agreement to 1e-9 relative;
the transcendental functions may differ from NumPy's in the last bit).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from shieldlab.earth import GM

_TWO_PI = 2.0 * math.pi


@nb.njit(cache=True, error_model="numpy")
def state_impact_rows(x, a_ax, b_ax, w, iterations):
    """``state_impact`` of states ``x`` (M, 6) [m, m/s, Earth-fixed] on the ellipsoid of
    semi-axes ``a_ax``, ``b_ax`` [m] turning at ``w`` [rad/s]: ``(impact (M, 3) [m],
    time_of_flight (M,) [s])``, nan where the state does not come down."""
    M = x.shape[0]
    out = np.empty((M, 3))
    tof_out = np.empty(M)
    k2 = (a_ax * a_ax - b_ax * b_ax) / (b_ax * b_ax)
    for m in range(M):
        rx, ry, rz = x[m, 0], x[m, 1], x[m, 2]
        vx, vy, vz = x[m, 3] - w * x[m, 1], x[m, 4] + w * x[m, 0], x[m, 5]  # inertial velocity
        r0 = math.sqrt(rx * rx + ry * ry + rz * rz)
        hx, hy, hz = ry * vz - rz * vy, rz * vx - rx * vz, rx * vy - ry * vx
        h = math.sqrt(hx * hx + hy * hy + hz * hz)
        p = h * h / GM
        ec = p / r0 - 1.0
        es = h * (rx * vx + ry * vy + rz * vz) / (r0 * GM)
        e2 = ec * ec + es * es
        e = math.sqrt(e2)
        u_rz, u_tz = rz / r0, (hx * ry - hy * rx) / (h * r0)
        R = a_ax / math.sqrt(1.0 + k2 * u_rz * u_rz)
        below = r0 < R
        q = sq = cd = sd = 0.0
        now = False
        for i in range(max(iterations, 0) + 1):
            q = p / R - 1.0
            sq = -math.sqrt(max(e2 - q * q, 0.0))
            cd, sd = (q * ec + sq * es) / e2, (sq * ec - q * es) / e2
            now = ((es <= 0.0) and (ec >= q)) or (q < -e)
            if now:
                cd, sd = 1.0, 0.0
            if i < iterations:
                c = cd * u_rz + sd * u_tz
                R = a_ax / math.sqrt(1.0 + k2 * c * c)
        sqe = math.sqrt(1.0 - e2) if e2 <= 1.0 else np.nan
        E0 = math.atan2(sqe * es, e2 + ec)
        if E0 < 0.0:
            E0 += _TWO_PI
        Ed = _TWO_PI + math.atan2(sqe * sq, e2 + q)
        esin0, esind = sqe * es / (ec + 1.0), sqe * sq / (q + 1.0)
        a = r0 / (2.0 - r0 * (vx * vx + vy * vy + vz * vz) / GM)
        tof = 0.0 if now else math.sqrt(a * a * a / GM) * ((Ed - esind) - (E0 - esin0))
        lands = ((e2 < 1.0) and (q <= e)) or (below and (es <= 0.0))
        fr, ft = R * cd / r0, R * sd / (h * r0)
        ix = fr * rx + ft * (hy * rz - hz * ry)
        iy = fr * ry + ft * (hz * rx - hx * rz)
        iz = fr * rz + ft * (hx * ry - hy * rx)
        ca, sa = math.cos(w * tof), math.sin(w * tof)
        nan = 0.0 if lands else np.nan
        out[m, 0] = ca * ix + sa * iy + nan
        out[m, 1] = ca * iy - sa * ix + nan
        out[m, 2] = iz + nan
        tof_out[m] = tof + nan
    return out, tof_out
