"""Compiled scalar forms of :mod:`shieldlab.earth`'s dynamics, for row-loop kernels."""

from __future__ import annotations

import math

import numba as nb

from shieldlab.earth import GM, J2, OMEGA_EARTH, WGS84_A


@nb.njit(cache=True, inline="always")
def ballistic_acceleration(rx, ry, rz, vx, vy, vz):
    """Gravity with J2 (:func:`shieldlab.earth.gravity`) plus the rotating-frame terms
    (:func:`shieldlab.earth.rotating_frame_acceleration`) at ECEF position ``r`` [m] and
    velocity ``v`` [m/s]: ``(ax, ay, az)`` [m/s^2], the same operations in the same order."""
    r2 = rx * rx + ry * ry + rz * rz
    inv_r2 = 1.0 / r2
    inv_r3 = inv_r2 / math.sqrt(r2)
    z2 = rz * rz * inv_r2
    c = 1.5 * J2 * WGS84_A * WGS84_A * inv_r2
    fxy = -GM * inv_r3 * (1.0 + c * (1.0 - 5.0 * z2))
    fz = -GM * inv_r3 * (1.0 + c * (3.0 - 5.0 * z2))
    w = OMEGA_EARTH
    return (fxy * rx + (2.0 * w * vy + w * w * rx), fxy * ry + (-2.0 * w * vx + w * w * ry), fz * rz + 0.0)
