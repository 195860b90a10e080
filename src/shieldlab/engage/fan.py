"""Interceptor fly-out fan: the earliest time after launch the kill vehicle can be at a point.

Model (docs/interceptors.md has the derivation and the sources)
---------------------------------------------------------------
A point-mass interceptor flies in the vertical plane of its launch azimuth over a
spherical (radius ``earth.R_EARTH_MEAN``), non-rotating Earth.  Coordinates: plane
Cartesian ``(x, y)`` with the origin at the Earth's centre, the launcher at
``(0, R)`` and ``x`` downrange; ground range ``R * atan2(x, y)``, altitude ``|r| - R``.

* **Boost**, ``0 <= t <= t_b``: the velocity keeps the launch elevation ``e`` as its
  flight-path angle (above the local horizontal) and its magnitude grows linearly,
  ``v(t) = v_b t / t_b``.  The catalogue quotes a *burnout speed*, which already
  includes the gravity and drag losses of the real boost, so the thrust is taken to be
  whatever makes up those losses and holds the angle: the burnout speed is met exactly
  and the boost path is the straight-line law of the old kinematic model (a distance
  ``v_b t^2 / (2 t_b)`` along a line of constant flight-path angle).
* **Coast**, ``t > t_b``: inverse-square gravity and drag,
  ``a = -GM r / |r|^3 - rho(h) |v| v / (2 beta)``, ``beta = m / (C_D A)`` the ballistic
  coefficient of the coasting body (catalogue ``ballistic_coefficient_kgm2``, default
  :data:`DEFAULT_BETA_KGM2`) and ``rho`` the US Standard Atmosphere 1976
  (:mod:`shieldlab.flyout.forces` table, zero above 200 km).  No lift, no guidance:
  the kill vehicle's divert is accounted for separately (``divert_m``).

One trajectory per launch elevation (:data:`ELEVATIONS_DEG`, 0.5..90 deg), integrated
with classical RK4 at a fixed step (:data:`DT`; the boost gets its own steps so that
burnout falls on a step), each followed until it is back at the surface or
:data:`T_MAX` has passed.  The trajectories (elevation x time) form a curvilinear mesh;
each quad is split into two triangles that are rasterised onto a regular
:data:`NX` x :data:`NZ` (ground range, altitude) grid, keeping at every node the least
time over all triangles that cover it (linear inside a triangle), with the speed and
flight-path angle of that earliest arrival.  The grid spans
``[0, min(g_reach, max_range)] x [0, min(h_reach, max_alt)]``: ``g_reach`` and
``h_reach`` are the farthest ground range and greatest altitude any trajectory reaches
within ``T_MAX`` (the kinematic reach), ``max_range`` and ``max_alt`` the catalogue
envelope's; an envelope larger than the reach therefore leaves the table as fine as the
reach allows, and the envelope acts only as a mask on the queries.  :class:`Fan`
interpolates the table bilinearly.  Accuracy (docs/interceptors.md, tests/test_fan.py):
against a 1,000-elevation, 0.1 s, 1025^2 reference, < 1 % (or < 1 s) everywhere inside
the catalogue envelopes; with an envelope far beyond the reach (20,000 or 1e5 km) the
times inside the reach stay within 0.15 % of the catalogue-envelope table for PAC-3 MSE
and SM-3 IA.

Limits: no Earth rotation (a ~0.46 km/s eastward launch speed at the equator is
ignored, as is the Coriolis turn), launch from sea level, no out-of-plane dogleg.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numba as nb
import numpy as np

from shieldlab import earth
from shieldlab.flyout.forces import ATM_STEP_M, ATM_TABLE, ATM_TOP_M

__all__ = ["Fan", "FanKey", "FLYOUT_MODELS", "fan_for", "fan_key", "build", "build_fan", "flyout", "DEFAULT_BETA_KGM2",
           "ELEVATIONS_DEG", "DT"]

#: Ballistic coefficient m / (C_D A) [kg/m^2] of a coasting interceptor when the
#: catalogue gives none.  assumption: PAC-3 (CRI) figures (312 kg, 0.25 m diameter:
#: dpa, Zeit 9 Apr 2013) with ~55 % of the launch mass left at burnout and a
#: supersonic C_D ~0.35 give 170 / (0.35 * 0.049) ~ 1e4 kg/m^2.
DEFAULT_BETA_KGM2 = 1.0e4
#: Launch elevations flown [deg]: 120, closer together at low elevation, where the
#: long-range edge of the fan is most sensitive to the angle (spacing 0.07 deg at 0.5 deg,
#: 1.1 deg at 90 deg).  With it the table agrees with a 1,000-elevation, 0.1 s, 1025^2
#: reference to < 1 % (or < 1 s) everywhere inside the catalogue envelopes (docs/interceptors.md).
ELEVATIONS_DEG = 0.5 + 89.5 * np.linspace(0.0, 1.0, 120) ** 1.5
#: Integration step of the coast [s].
DT = 0.5
#: Longest fly-out followed [s].
T_MAX = 3600.0
#: Table nodes along ground range and altitude.
NX, NZ = 257, 257

_R = earth.R_EARTH_MEAN
_GM = earth.GM


# --------------------------------------------------------------------------- fly-out


@nb.njit(cache=True)
def _rho(h, table):
    if h >= ATM_TOP_M:
        return 0.0
    x = max(h, 0.0) / ATM_STEP_M
    i = min(int(x), table.shape[0] - 2)
    f = x - i
    return math.exp(table[i, 0] + (table[i + 1, 0] - table[i, 0]) * f)


@nb.njit(cache=True)
def _coast_acc(x, y, vx, vy, k_drag, table):
    r2 = x * x + y * y
    r = math.sqrt(r2)
    g = -_GM / (r2 * r)
    ax, ay = g * x, g * y
    if k_drag > 0.0:
        d = -k_drag * _rho(r - _R, table) * math.sqrt(vx * vx + vy * vy)
        ax += d * vx
        ay += d * vy
    return ax, ay


@nb.njit(cache=True)
def _boost_vel(x, y, speed, ce, se):
    r = math.sqrt(x * x + y * y)
    ux, uy = x / r, y / r  # local up
    hx, hy = uy, -ux  # local horizontal, downrange
    return speed * (ce * hx + se * ux), speed * (ce * hy + se * uy)


@nb.njit(cache=True)
def _fly(elev, v_b, t_b, k_drag, dt, t_max, x_stop, table):
    """Samples (K,) times and (E, K) x, y, vx, vy; NaN after a trajectory has ended."""
    E = elev.size
    n_b = int(math.ceil(t_b / dt - 1e-9)) if t_b > 0.0 else 0
    h_b = t_b / n_b if n_b > 0 else 0.0
    K = n_b + 1 + int(math.ceil((t_max - t_b) / dt))
    t = np.empty(K)
    for k in range(K):
        t[k] = k * h_b if k <= n_b else t_b + (k - n_b) * dt
    X = np.full((E, K), np.nan)
    Y = np.full((E, K), np.nan)
    VX = np.full((E, K), np.nan)
    VY = np.full((E, K), np.nan)
    a = v_b / t_b if t_b > 0.0 else 0.0
    for e in range(E):
        ce, se = math.cos(elev[e]), math.sin(elev[e])
        x, y = 0.0, _R
        vx, vy = _boost_vel(x, y, 0.0 if n_b > 0 else v_b, ce, se)
        X[e, 0], Y[e, 0], VX[e, 0], VY[e, 0] = x, y, vx, vy
        for k in range(1, K):
            t0 = t[k - 1]
            if k <= n_b:  # boost: prescribed speed and flight-path angle, RK4 on the position
                h = h_b
                k1x, k1y = _boost_vel(x, y, a * t0, ce, se)
                k2x, k2y = _boost_vel(x + 0.5 * h * k1x, y + 0.5 * h * k1y, a * (t0 + 0.5 * h), ce, se)
                k3x, k3y = _boost_vel(x + 0.5 * h * k2x, y + 0.5 * h * k2y, a * (t0 + 0.5 * h), ce, se)
                k4x, k4y = _boost_vel(x + h * k3x, y + h * k3y, a * (t0 + h), ce, se)
                x += h / 6.0 * (k1x + 2 * k2x + 2 * k3x + k4x)
                y += h / 6.0 * (k1y + 2 * k2y + 2 * k3y + k4y)
                vx, vy = _boost_vel(x, y, a * t[k], ce, se)
            else:  # coast: RK4 on position and velocity
                h = dt
                a1x, a1y = _coast_acc(x, y, vx, vy, k_drag, table)
                x2, y2, vx2, vy2 = x + 0.5 * h * vx, y + 0.5 * h * vy, vx + 0.5 * h * a1x, vy + 0.5 * h * a1y
                a2x, a2y = _coast_acc(x2, y2, vx2, vy2, k_drag, table)
                x3, y3, vx3, vy3 = x + 0.5 * h * vx2, y + 0.5 * h * vy2, vx + 0.5 * h * a2x, vy + 0.5 * h * a2y
                a3x, a3y = _coast_acc(x3, y3, vx3, vy3, k_drag, table)
                x4, y4, vx4, vy4 = x + h * vx3, y + h * vy3, vx + h * a3x, vy + h * a3y
                a4x, a4y = _coast_acc(x4, y4, vx4, vy4, k_drag, table)
                x += h / 6.0 * (vx + 2 * vx2 + 2 * vx3 + vx4)
                y += h / 6.0 * (vy + 2 * vy2 + 2 * vy3 + vy4)
                vx += h / 6.0 * (a1x + 2 * a2x + 2 * a3x + a4x)
                vy += h / 6.0 * (a1y + 2 * a2y + 2 * a3y + a4y)
            X[e, k], Y[e, k], VX[e, k], VY[e, k] = x, y, vx, vy
            # ended: back below the surface, or past the table's far edge (the downrange
            # angle only grows: angular momentum keeps its sign under gravity and drag)
            if math.sqrt(x * x + y * y) < _R or _R * math.atan2(x, y) > x_stop:
                break
    return t, X, Y, VX, VY


@dataclass(frozen=True)
class Flyout:
    """Sampled fly-outs, one row per launch elevation; NaN once a trajectory has ended.

    ``t`` (K,) s after launch; ``ground_range``, ``alt`` (E, K) m; ``speed`` (E, K) m/s;
    ``flight_path_angle`` (E, K) rad above the local horizontal.
    """

    elevation: np.ndarray
    t: np.ndarray
    ground_range: np.ndarray
    alt: np.ndarray
    speed: np.ndarray
    flight_path_angle: np.ndarray


def flyout(burnout_speed, burn_time, beta_kgm2=DEFAULT_BETA_KGM2, elevations_deg=ELEVATIONS_DEG,
           dt=DT, t_max=T_MAX, x_stop=np.inf) -> Flyout:
    """Fly the interceptor at every launch elevation (see the module docstring).

    ``burnout_speed`` [m/s], ``burn_time`` [s] (0: the burnout speed at once),
    ``beta_kgm2`` [kg/m^2] (``inf`` or ``None``: vacuum), ``x_stop`` [m]: ground range
    beyond which a trajectory is no longer followed.
    """
    elev = np.radians(np.asarray(elevations_deg, float))
    k_drag = 0.0 if beta_kgm2 is None or not np.isfinite(beta_kgm2) else 0.5 / float(beta_kgm2)
    t, X, Y, VX, VY = _fly(elev, float(burnout_speed), float(burn_time), k_drag, float(dt), float(t_max),
                           float(x_stop), ATM_TABLE)
    r = np.hypot(X, Y)
    with np.errstate(invalid="ignore", divide="ignore"):
        speed = np.hypot(VX, VY)
        sin_g = (X * VX + Y * VY) / (r * speed)
        gamma = np.where(speed > 0, np.arcsin(np.clip(sin_g, -1, 1)), elev[:, None])
    return Flyout(elev, t, _R * np.arctan2(X, Y), r - _R, speed, gamma)


# --------------------------------------------------------------------------- table


@nb.njit(cache=True)
def _raster(X, Z, T, S, G, dx, dz, nx, nz):
    """Least-time rasterisation of the (E, K) mesh onto an (nx, nz) grid from (0, 0)."""
    tab = np.full((nx, nz), np.inf)
    spd = np.full((nx, nz), np.nan)
    fpa = np.full((nx, nz), np.nan)
    E, K = X.shape
    tri = ((0, 0, 1, 0, 1, 1), (0, 0, 1, 1, 0, 1))  # (de, dk) of the three corners
    for e in range(E - 1):
        for k in range(K - 1):
            for q in range(2):
                c = tri[q]
                e0, k0, e1, k1, e2, k2 = e + c[0], k + c[1], e + c[2], k + c[3], e + c[4], k + c[5]
                xa, za, xb, zb, xc, zc = X[e0, k0], Z[e0, k0], X[e1, k1], Z[e1, k1], X[e2, k2], Z[e2, k2]
                if not (np.isfinite(xa) and np.isfinite(xb) and np.isfinite(xc)):
                    continue
                det = (xb - xa) * (zc - za) - (xc - xa) * (zb - za)
                if abs(det) < 1e-6:
                    continue
                i_lo = max(int(math.ceil(min(xa, xb, xc) / dx - 1e-9)), 0)
                i_hi = min(int(math.floor(max(xa, xb, xc) / dx + 1e-9)), nx - 1)
                j_lo = max(int(math.ceil(min(za, zb, zc) / dz - 1e-9)), 0)
                j_hi = min(int(math.floor(max(za, zb, zc) / dz + 1e-9)), nz - 1)
                ta, tb, tc = T[k0], T[k1], T[k2]
                for i in range(i_lo, i_hi + 1):
                    px = i * dx
                    for j in range(j_lo, j_hi + 1):
                        pz = j * dz
                        wb = ((px - xa) * (zc - za) - (xc - xa) * (pz - za)) / det
                        wc = ((xb - xa) * (pz - za) - (px - xa) * (zb - za)) / det
                        wa = 1.0 - wb - wc
                        if wa < -1e-9 or wb < -1e-9 or wc < -1e-9:
                            continue
                        tt = wa * ta + wb * tb + wc * tc
                        if tt < tab[i, j]:
                            tab[i, j] = tt
                            spd[i, j] = wa * S[e0, k0] + wb * S[e1, k1] + wc * S[e2, k2]
                            fpa[i, j] = wa * G[e0, k0] + wb * G[e1, k1] + wc * G[e2, k2]
    return tab, spd, fpa


@dataclass(frozen=True, eq=False)
class Fan:
    """Earliest arrival of the kill vehicle on a (ground range, altitude) grid.

    ``time`` (NX, NZ) s after launch at nodes ``(i dx, j dz)`` [m], ``inf`` where the
    fly-out does not reach; the nodes span the kinematic reach cut to the envelope
    (module docstring).  ``speed`` [m/s] and ``flight_path_angle`` [rad above the
    local horizontal] of that earliest arrival.  ``min/max_range_m`` and
    ``min/max_alt_m`` are the catalogue envelope (ground range from the launcher,
    altitude); queries outside it, or beyond the table, return ``inf`` (``nan`` for
    speed and angle).  The lookup is compiled (:func:`table_value`), the operations of
    the numpy form :meth:`_bilinear` in the same order: the same values to the bit.
    """

    time: np.ndarray
    speed: np.ndarray
    flight_path_angle: np.ndarray
    dx: float
    dz: float
    min_range_m: float
    max_range_m: float
    min_alt_m: float
    max_alt_m_envelope: float
    burnout_speed: float  # m/s
    burn_time: float  # s

    # ---- derived extent of what is reachable inside the envelope
    @functools.cached_property
    def _reachable_nodes(self) -> np.ndarray:
        x = self.dx * np.arange(self.time.shape[0])[:, None]
        z = self.dz * np.arange(self.time.shape[1])[None, :]
        return (np.isfinite(self.time) & (x >= self.min_range_m) & (x <= self.max_range_m)
                & (z >= self.min_alt_m) & (z <= self.max_alt_m_envelope))

    @property
    def max_ground_range_m(self) -> float:
        """Largest ground range [m] at which some altitude of the envelope is reachable (0: none)."""
        i = np.flatnonzero(self._reachable_nodes.any(axis=1))
        return float(i[-1] * self.dx) if i.size else 0.0

    @property
    def max_alt_m(self) -> float:
        """Highest altitude [m] reachable inside the envelope's ground ranges (0: none)."""
        j = np.flatnonzero(self._reachable_nodes.any(axis=0))
        return float(j[-1] * self.dz) if j.size else 0.0

    @functools.cached_property
    def _cells(self):
        """Finite copies of the tables (inf -> 0) and, per cell, whether all four corners are reached."""
        fin = np.isfinite(self.time)
        ok = fin[:-1, :-1] & fin[1:, :-1] & fin[:-1, 1:] & fin[1:, 1:]
        return tuple(np.where(fin, a, 0.0) for a in (self.time, self.speed, self.flight_path_angle)), ok

    @functools.cached_property
    def time_lookup(self) -> tuple:
        """The arguments of the compiled :func:`table_value` before the point, for the time table:
        ``(finite time table, cell_ok, dx, dz, min_range_m, max_range_m, min_alt_m, max_alt_m_envelope)``."""
        (tab, _, _), cell_ok = self._cells
        return (tab, cell_ok, float(self.dx), float(self.dz), self.min_range_m, self.max_range_m, self.min_alt_m,
                self.max_alt_m_envelope)

    def _lookup(self, table, ground_range_m, alt_m, fill) -> np.ndarray:
        """Bilinear lookup of ``table`` (one of the three) at broadcast points; ``fill`` where unreachable."""
        finite, cell_ok = self._cells
        tab = finite[0] if table is self.time else finite[1] if table is self.speed else finite[2]
        g, a = np.asarray(ground_range_m, float), np.asarray(alt_m, float)
        if g.shape != a.shape:
            g, a = np.broadcast_arrays(g, a)
        out = _table_values(tab, cell_ok, float(self.dx), float(self.dz), self.min_range_m, self.max_range_m,
                            self.min_alt_m, self.max_alt_m_envelope, g.ravel(), a.ravel(), fill)
        return out if g.ndim == 1 else out.reshape(g.shape)

    def _bilinear(self, table, ground_range_m, alt_m):
        """Numpy form of the lookup, ``(value, ok)``: the reference of the compiled one."""
        g, a = np.asarray(ground_range_m, float), np.asarray(alt_m, float)
        finite, cell_ok = self._cells
        tab = finite[0] if table is self.time else finite[1] if table is self.speed else finite[2]
        nx, nz = tab.shape
        x, z = g / self.dx, a / self.dz
        ok = ((g >= self.min_range_m) & (g <= self.max_range_m) & (a >= self.min_alt_m)
              & (a <= self.max_alt_m_envelope) & (x <= nx - 1) & (z <= nz - 1))  # also False for nan
        x, z = np.where(ok, x, 0.0), np.where(ok, z, 0.0)
        i = np.minimum(x.astype(np.int64), nx - 2)
        j = np.minimum(z.astype(np.int64), nz - 2)
        fx, fz = x - i, z - j
        # a corner that is not reached makes the cell unreachable (conservative at the fan's edge)
        ok &= cell_ok[i, j]
        v = ((1 - fx) * ((1 - fz) * tab[i, j] + fz * tab[i, j + 1])
             + fx * ((1 - fz) * tab[i + 1, j] + fz * tab[i + 1, j + 1]))
        return v, ok

    def time_to(self, ground_range_m, alt_m) -> np.ndarray:
        """Earliest time [s after launch] to be at (ground range from the launcher, altitude) [m].

        Arrays of any broadcast-compatible shape; ``inf`` where unreachable or outside the
        envelope (ground range, intercept altitude).
        """
        return self._lookup(self.time, ground_range_m, alt_m, np.inf)

    def speed_at(self, ground_range_m, alt_m) -> np.ndarray:
        """Speed [m/s] of the kill vehicle on its earliest arrival there; ``nan`` where unreachable."""
        return self._lookup(self.speed, ground_range_m, alt_m, np.nan)

    def flight_path_angle_at(self, ground_range_m, alt_m) -> np.ndarray:
        """Flight-path angle [rad above the local horizontal] on the earliest arrival; ``nan`` where unreachable."""
        return self._lookup(self.flight_path_angle, ground_range_m, alt_m, np.nan)


@nb.njit(cache=True, error_model="numpy", inline="always")
def table_value(tab, cell_ok, dx, dz, rmin, rmax, amin, amax, g, a, fill):
    """Bilinear value of finite table ``tab`` at ground range ``g``, altitude ``a`` [m], ``fill``
    where unreachable: :meth:`Fan._bilinear` at one point, the same operations."""
    nx, nz = tab.shape
    x, z = g / dx, a / dz
    if not ((g >= rmin) and (g <= rmax) and (a >= amin) and (a <= amax) and (x <= nx - 1) and (z <= nz - 1)):
        return fill  # also for nan
    i = min(int(x), nx - 2)
    j = min(int(z), nz - 2)
    if not cell_ok[i, j]:
        return fill
    fx, fz = x - i, z - j
    return ((1 - fx) * ((1 - fz) * tab[i, j] + fz * tab[i, j + 1])
            + fx * ((1 - fz) * tab[i + 1, j] + fz * tab[i + 1, j + 1]))


@nb.njit(cache=True, error_model="numpy")
def _table_values(tab, cell_ok, dx, dz, rmin, rmax, amin, amax, g, a, fill):
    out = np.empty(g.size)
    for k in range(g.size):
        out[k] = table_value(tab, cell_ok, dx, dz, rmin, rmax, amin, amax, g[k], a[k], fill)
    return out


#: Least table extent [m] along either axis (a fly-out that barely leaves the launcher).
_MIN_EXTENT_M = 1.0


def _extent(f: Flyout, max_range_m: float, max_alt_m: float) -> tuple[float, float]:
    """Table extent (ground range, altitude) [m]: the farthest and highest samples of the
    fly-out, each at most the envelope's limit."""
    with np.errstate(invalid="ignore"):
        g = float(np.nanmax(f.ground_range, initial=0.0))
        z = float(np.nanmax(f.alt, initial=0.0))
    return (min(max_range_m, max(g, _MIN_EXTENT_M)), min(max_alt_m, max(z, _MIN_EXTENT_M)))


def build_fan(burnout_speed, burn_time, beta_kgm2=DEFAULT_BETA_KGM2, *, min_range_m=0.0, max_range_m,
              min_alt_m=0.0, max_alt_m, nx=NX, nz=NZ, elevations_deg=ELEVATIONS_DEG, dt=DT) -> Fan:
    """Fly out and tabulate (SI units; ``beta_kgm2`` None or inf: vacuum) over the reach cut to
    the envelope ``[min_range_m, max_range_m] x [min_alt_m, max_alt_m]``.  Not cached: see
    :func:`fan_for`."""
    x_ext, z_ext = float(max_range_m), float(max_alt_m)
    if burnout_speed > 0:
        # every trajectory is followed to the ground (or T_MAX): one cut at a far edge ends
        # neighbouring elevations at different samples and drops the mesh between them
        f = flyout(burnout_speed, burn_time, beta_kgm2, elevations_deg, dt)
        # the table spans what the fly-out reaches, cut to the envelope: a wide envelope
        # does not spread the nodes over ground the interceptor never gets to
        x_ext, z_ext = _extent(f, x_ext, z_ext)
        dx, dz = x_ext / (nx - 1), z_ext / (nz - 1)
        tab, spd, fpa = _raster(f.ground_range, f.alt, f.t, f.speed, f.flight_path_angle, dx, dz, nx, nz)
        tab[0, 0], spd[0, 0], fpa[0, 0] = 0.0, 0.0, np.radians(float(np.max(elevations_deg)))
    else:
        dx, dz = x_ext / (nx - 1), z_ext / (nz - 1)
        tab, spd, fpa = np.full((nx, nz), np.inf), np.full((nx, nz), np.nan), np.full((nx, nz), np.nan)
    for a in (tab, spd, fpa):
        a.setflags(write=False)
    return Fan(tab, spd, fpa, dx, dz, float(min_range_m), float(max_range_m), float(min_alt_m), float(max_alt_m),
               float(burnout_speed), float(burn_time))


@dataclass(frozen=True)
class FanKey:
    """What an interceptor's fan is built from (SI): its fly-out ``model`` (a name of
    :data:`FLYOUT_MODELS`), burnout speed [m/s], total burn time [s], ballistic coefficient
    [kg/m²] and envelope (ground range and altitude of the intercept point [m]).  Two
    interceptors of one key share one fan."""

    model: str
    burnout_speed: float
    burn_time: float
    beta: float
    min_range_m: float
    max_range_m: float
    min_alt_m: float
    max_alt_m: float


def _point_mass(key: FanKey) -> Fan:
    """The point-mass fly-out of this module (:func:`build_fan`)."""
    return build_fan(key.burnout_speed, key.burn_time, key.beta, min_range_m=key.min_range_m,
                     max_range_m=key.max_range_m, min_alt_m=key.min_alt_m, max_alt_m=key.max_alt_m)


#: The interceptor fly-out models: a catalogue entry's ``flyout_model`` to the function that
#: builds its :class:`Fan` from a :class:`FanKey`.  A new model is one entry here (a builder
#: in another module adds that module's source to :func:`_code_digest`, or stored fans of
#: an older version of it are read back).
FLYOUT_MODELS: dict[str, Callable[[FanKey], Fan]] = {"point-mass": _point_mass}


def fan_key(spec, burnout_speed=None) -> FanKey:
    """The :class:`FanKey` of catalogue interceptor ``spec``; ``burnout_speed`` [m/s] overrides its own."""
    v = float(burnout_speed if burnout_speed is not None else 1e3 * spec.burnout_speed_kms)
    beta = getattr(spec, "ballistic_coefficient_kgm2", None) or DEFAULT_BETA_KGM2
    return FanKey(getattr(spec, "flyout_model", "point-mass"), v, float(spec.burn_time_s), float(beta),
                  1e3 * spec.min_range_km, 1e3 * spec.max_range_km, 1e3 * spec.min_intercept_alt_km,
                  1e3 * spec.max_intercept_alt_km)


def build(key: FanKey) -> Fan:
    """The fan of ``key``, built by its model (not cached: :func:`fan_for` caches)."""
    if key.model not in FLYOUT_MODELS:
        raise ValueError(f"no fly-out model {key.model!r}; the models: {', '.join(FLYOUT_MODELS)}")
    return FLYOUT_MODELS[key.model](key)


@functools.lru_cache(maxsize=64)
def _cached(key: FanKey) -> Fan:
    path = _stored_path(key)
    fan = _load(path) if path is not None else None
    if fan is None:
        fan = build(key)
        if path is not None:
            _store(path, fan)
    return fan


# --------------------------------------------------------------------------- the fans on disk
#
# A fan takes ~0.1-0.3 s to fly and tabulate, and the first one of a process ~0.5 s more to
# load its compiled kernels: every command that engages pays it per interceptor type.  Built
# fans are kept on disk beside Numba's cache (``__pycache__/fans`` here, or under
# NUMBA_CACHE_DIR), keyed by the fan's parameters and the code and data that make it, and
# read back exactly (the arrays as stored): the same fan to the bit.  A folder that cannot be
# written, or a file that cannot be read, only costs the time.  The fans of one version of the
# code lie in a folder named by (16 hex digits of) its digest, touched whenever a fan is read
# from it or written to it; each store removes the other versions' folders untouched for
# :data:`STALE_DAYS` days (two checkouts sharing a cache, each in use, keep theirs), fans of
# the older flat layout as old, and temporary files of writes killed over an hour ago.

#: Days after which another code version's stored fans are removed.
STALE_DAYS = 7.0

_FAN_FIELDS = ("dx", "dz", "min_range_m", "max_range_m", "min_alt_m", "max_alt_m_envelope", "burnout_speed",
               "burn_time")


def _fan_dir() -> Path:
    base = os.environ.get("NUMBA_CACHE_DIR")
    return Path(base) / "shieldlab-fans" if base else Path(__file__).resolve().parent / "__pycache__" / "fans"


@functools.lru_cache(maxsize=1)
def _code_digest() -> str:
    """What a stored fan depends on besides its parameters: this module, the Earth's constants
    and the atmosphere (source and table), the table and fly-out settings, NumPy's and Numba's
    versions (the fly-out is compiled)."""
    from shieldlab.flyout import forces

    h = hashlib.sha256()
    for mod in (__file__, earth.__file__, forces.__file__):
        h.update(Path(mod).read_bytes())
    h.update(np.ascontiguousarray(ATM_TABLE).tobytes())
    h.update(repr((NX, NZ, DT, T_MAX, ELEVATIONS_DEG.tolist(), np.__version__, nb.__version__)).encode())
    return h.hexdigest()


def _stored_path(key: FanKey) -> Path | None:
    try:
        digest = _code_digest()
    except OSError:  # a module's source not readable: no store
        return None
    numbers = tuple(float(getattr(key, f)) for f in key.__dataclass_fields__ if f != "model")
    name = hashlib.sha256((digest + repr((key.model,) + numbers)).encode()).hexdigest()[:32]
    return _fan_dir() / digest[:16] / f"{name}.npz"


def _prune(folder: Path) -> None:
    """Remove, beside ``folder`` (this code version's fans), other versions' fan folders (16
    hex digits) untouched for :data:`STALE_DAYS` days and fans of the flat layout as old, and,
    there and in ``folder``, temporary files older than an hour (a killed write).  Nothing else
    in the fans' folder is removed."""
    now = time.time()
    stale = STALE_DAYS * 86400.0
    with contextlib.suppress(OSError):
        for old in folder.parent.iterdir():
            with contextlib.suppress(OSError):
                age = now - old.lstat().st_mtime
                if old.is_dir() and not old.is_symlink():
                    if old != folder and _VERSION_FOLDER.fullmatch(old.name) and age > stale:
                        shutil.rmtree(old, ignore_errors=True)
                elif old.is_file() and (_FLAT_FAN.fullmatch(old.name) and age > stale
                                        or old.name.startswith(".fan-") and age > 3600.0):
                    old.unlink()
        for tmp in folder.glob(".fan-*"):
            with contextlib.suppress(OSError):
                if now - tmp.stat().st_mtime > 3600.0:
                    tmp.unlink()


#: A code version's fan folder, and a fan file of the flat layout before such folders.
_VERSION_FOLDER = re.compile(r"[0-9a-f]{16}")
_FLAT_FAN = re.compile(r"[0-9a-f]{32}\.npz")


def _load(path: Path) -> Fan | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            tab, spd, fpa = (z[k] for k in ("time", "speed", "flight_path_angle"))
            dx, dz, rmin, rmax, zmin, zmax, v, tb = (float(z[k]) for k in _FAN_FIELDS)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    for a in (tab, spd, fpa):
        a.setflags(write=False)
    with contextlib.suppress(OSError):  # in use: not pruned (a read-only cache cannot be touched, nor pruned)
        os.utime(path.parent)
    return Fan(tab, spd, fpa, dx, dz, rmin, rmax, zmin, zmax, v, tb)


def _store(path: Path, fan: Fan) -> None:
    """Write ``fan`` at ``path`` atomically (a temporary file renamed); nothing on failure."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".fan-", suffix=".npz")
        os.chmod(tmp, 0o644)  # (mkstemp makes it 0600: other users of a shared cache could not read it)
        with os.fdopen(fd, "wb") as f:
            arrays = {k: np.asarray(getattr(fan, k), float) for k in ("time", "speed", "flight_path_angle",
                                                                       *_FAN_FIELDS)}
            np.savez(f, **arrays)  # type: ignore[arg-type]  # (numpy's stub types **kwds as allow_pickle)
        os.replace(tmp, path)
        _prune(path.parent)
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def fan_for(spec, burnout_speed=None) -> Fan:
    """The (cached) fan of catalogue interceptor ``spec`` (:func:`fan_key`, built by its
    ``flyout_model``); ``burnout_speed`` [m/s] overrides its own."""
    return _cached(fan_key(spec, burnout_speed))
