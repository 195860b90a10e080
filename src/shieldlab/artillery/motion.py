"""Point-mass flight of unguided rounds in WGS84 ECEF: equations of motion and batched RK4.

Frame and units: positions ECEF [m], velocities relative to the rotating Earth (ECEF) [m/s],
times [s].  Every array has a leading round axis ``N``; vectors a trailing axis of 3.

Equations (docs/counter-battery.md):

    dr/dt = v
    dv/dt = g_J2(r) - 2 w x v - w x (w x r) - (rho(h) |v| C_D(M) f A / (2 m)) v + (T / m) v/|v|

with ``g_J2`` and the Coriolis and centrifugal terms of :mod:`shieldlab.earth`, the air at rest
on the rotating Earth (no wind), density ``rho`` and speed of sound of the US Standard Atmosphere
1976 at the height above the ellipsoid (the table of :mod:`shieldlab.flyout.forces`), the
round's drag table ``C_D`` at Mach ``M = |v| / a(h)`` times a factor ``f`` (form factor times the
round's own drag error), reference area ``A``, mass ``m`` (a rocket's falls at a constant mass
flow while its motor burns) and a motor's thrust ``T`` along the velocity.

Integration is classical fourth-order Runge-Kutta with a fixed step per round; a rocket's step
divides its burn time, so that burnout falls on a step's end, and a step is powered or not as a
whole.  The ground is a height above the ellipsoid per round (no terrain model); its crossing
is found on the cubic Hermite interpolant of the last step.

The step is compiled (:mod:`shieldlab.artillery.motion_kernel`): in NumPy over the round axis
(:func:`acceleration`, kept as the reference, ``fly(..., compiled=False)``) a step cost ~1 ms
whatever the number of rows, too slow for the laying solver's few rounds flown many times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shieldlab import earth
from shieldlab.artillery.motion_kernel import MACH_STEP, MACH_TOP, rk4_step
from shieldlab.flyout.forces import atmosphere_table

__all__ = ["Airframe", "Path", "acceleration", "fly", "hermite", "ground_crossing", "launch_velocity",
           "MACH_STEP", "MACH_TOP"]

_MACH = np.arange(0.0, MACH_TOP + 0.5 * MACH_STEP, MACH_STEP)


def _resampled(table) -> np.ndarray:
    return np.interp(_MACH, np.asarray(table.mach, float), np.asarray(table.cd, float))


@dataclass(frozen=True)
class Airframe:
    """The physical constants of ``N`` rounds, SI; every field (N,) unless said otherwise.

    ``cd_grid`` (K, G): drag coefficient of each distinct table on the Mach grid ``MACH_STEP``
    apart; ``table`` (N,) the row of each round's.  ``drag_factor`` multiplies it (form factor
    and the round's own drag error).  ``mass`` is the mass at launch; a motor (``burn_time`` > 0)
    burns ``mass_flow`` [kg/s] for ``burn_time`` [s] with exhaust speed ``exhaust_speed`` [m/s]
    (thrust = mass_flow x exhaust_speed).
    """

    area: np.ndarray
    mass: np.ndarray
    drag_factor: np.ndarray
    table: np.ndarray
    cd_grid: np.ndarray
    burn_time: np.ndarray
    mass_flow: np.ndarray
    exhaust_speed: np.ndarray

    @property
    def n(self) -> int:
        return int(self.area.size)

    @classmethod
    def of(cls, rounds, *, drag_error=None, impulse_error=None, burnt: bool = False) -> Airframe:
        """The airframes of catalogue ``rounds`` (a list of :class:`~shieldlab.catalog.artillery.Round`,
        one per row).  ``drag_error``, ``impulse_error`` (N,): each round's relative error of drag
        and of total impulse (0: nominal); ``burnt``: a rocket after its burn (mass without
        propellant, no motor), as the point-of-origin estimator models the arc it sees."""
        n = len(rounds)
        ids = list(dict.fromkeys(r.id for r in rounds))
        first = {i: next(r for r in rounds if r.id == i) for i in ids}
        grid = np.stack([_resampled(first[i].drag) for i in ids])
        table = np.array([ids.index(r.id) for r in rounds], np.int64)
        de = np.zeros(n) if drag_error is None else np.asarray(drag_error, float)
        ie = np.zeros(n) if impulse_error is None else np.asarray(impulse_error, float)
        factor = np.array([r.form_factor for r in rounds]) * (1.0 + de)
        burn = np.zeros(n)
        flow = np.zeros(n)
        exhaust = np.zeros(n)
        mass = np.array([r.burnt_mass_kg if burnt else r.mass_kg for r in rounds], float)
        if not burnt:
            for k, r in enumerate(rounds):
                if r.motor is not None:
                    burn[k] = r.motor.burn_time_s
                    flow[k] = r.motor.propellant_kg / r.motor.burn_time_s
                    exhaust[k] = r.motor.isp_s * earth.G0 * (1.0 + ie[k])
        return cls(area=np.array([r.area_m2 for r in rounds]), mass=mass, drag_factor=factor, table=table,
                   cd_grid=grid, burn_time=burn, mass_flow=flow, exhaust_speed=exhaust)

    def rows(self, idx) -> Airframe:
        """The airframes of rows ``idx`` (an index array or slice)."""
        return Airframe(area=self.area[idx], mass=self.mass[idx], drag_factor=self.drag_factor[idx],
                        table=self.table[idx], cd_grid=self.cd_grid, burn_time=self.burn_time[idx],
                        mass_flow=self.mass_flow[idx], exhaust_speed=self.exhaust_speed[idx])

    def cd(self, mach: np.ndarray) -> np.ndarray:
        """Drag coefficient (times nothing) of each row at ``mach`` (N,), linear on the Mach grid."""
        x = np.clip(mach, 0.0, MACH_TOP) / MACH_STEP
        i = np.minimum(x.astype(np.int64), _MACH.size - 2)
        f = x - i
        g = self.cd_grid
        return g[self.table, i] * (1.0 - f) + g[self.table, i + 1] * f

    def step(self, h: float) -> np.ndarray:
        """Each row's RK4 step [s] near ``h``: ``h`` itself, or for a motor the step that divides its
        burn time (burnout on a step's end)."""
        out = np.full(self.n, float(h))
        m = self.burn_time > 0.0
        out[m] = self.burn_time[m] / np.ceil(self.burn_time[m] / h - 1e-9)
        return out


def launch_velocity(lat, lon, speed, elevation, azimuth) -> np.ndarray:
    """ECEF velocity (..., 3) [m/s] of ``speed`` [m/s] at quadrant ``elevation`` above the local
    horizontal (the ellipsoid's tangent plane) and ``azimuth`` clockwise from north [rad], at the
    geodetic point ``lat``, ``lon`` [rad]."""
    ce = np.cos(elevation)
    enu = np.stack(np.broadcast_arrays(ce * np.sin(azimuth), ce * np.cos(azimuth), np.sin(elevation)), -1)
    m = earth.enu_matrix(lat, lon)  # rows E, N, U
    return np.asarray(speed, float)[..., None] * np.einsum("...ji,...j->...i", m, enu)


def acceleration(r: np.ndarray, v: np.ndarray, tau: np.ndarray, powered: np.ndarray, af: Airframe) -> np.ndarray:
    """Acceleration (N, 3) [m/s²] in ECEF of rounds at ``r``, ``v`` (N, 3), ``tau`` (N,) [s] after
    launch; ``powered`` (N,) whether the motor burns (decided per step, see the module)."""
    _, _, alt = earth.ecef_to_geodetic(r)
    rho, _, sound = atmosphere_table(alt)
    speed = np.sqrt(np.einsum("ni,ni->n", v, v))
    mass = af.mass - af.mass_flow * np.clip(tau, 0.0, af.burn_time)
    k = 0.5 * rho * af.cd(speed / sound) * af.drag_factor * af.area / mass
    a = earth.gravity(r) + earth.rotating_frame_acceleration(r, v)
    push = np.where(powered, af.mass_flow * af.exhaust_speed / mass, 0.0) / np.maximum(speed, 1e-9)
    return a + ((push - k * speed)[:, None]) * v


@dataclass(frozen=True)
class Path:
    """Flights of ``N`` rounds on per-round time grids ``t0 + k h`` (k = 0 .. S-1).

    ``t0`` (N,) first time [s, on the caller's clock], ``tau0`` (N,) the time since launch then,
    ``h`` (N,) step [s] (negative: integrated backward).  ``pos``, ``vel`` (N, S, 3): states at the
    steps (None where not kept).  ``landed`` (N,): whether the round crossed its ground height;
    then ``end_t`` [s], ``end_pos``, ``end_vel`` (N, 3) are that crossing (else the last state),
    and ``end_step`` the first step past it (S where none).
    """

    t0: np.ndarray
    tau0: np.ndarray
    h: np.ndarray
    pos: np.ndarray | None
    vel: np.ndarray | None
    landed: np.ndarray
    end_t: np.ndarray
    end_pos: np.ndarray
    end_vel: np.ndarray
    end_step: np.ndarray

    def times(self) -> np.ndarray:
        """(N, S) time of each kept step [s]."""
        s = 0 if self.pos is None else self.pos.shape[1]
        return self.t0[:, None] + self.h[:, None] * np.arange(s)[None, :]


def _rk4(r, v, tau, h, powered, af):
    hh = h[:, None]
    a1 = acceleration(r, v, tau, powered, af)
    r2, v2 = r + 0.5 * hh * v, v + 0.5 * hh * a1
    a2 = acceleration(r2, v2, tau + 0.5 * h, powered, af)
    r3, v3 = r + 0.5 * hh * v2, v + 0.5 * hh * a2
    a3 = acceleration(r3, v3, tau + 0.5 * h, powered, af)
    r4, v4 = r + hh * v3, v + hh * a3
    a4 = acceleration(r4, v4, tau + h, powered, af)
    return (r + hh / 6.0 * (v + 2.0 * v2 + 2.0 * v3 + v4),
            v + hh / 6.0 * (a1 + 2.0 * a2 + 2.0 * a3 + a4))


def hermite(p0, v0, p1, v1, dt, s):
    """Cubic Hermite interpolant between states (p0, v0) and (p1, v1) ``dt`` [s] apart (broadcast
    (..., 3) and (...,)), at fraction ``s`` (...,) of the interval: (position, velocity)."""
    s = np.asarray(s, float)[..., None]
    dt = np.asarray(dt, float)[..., None]
    s2, s3 = s * s, s * s * s
    h00, h10, h01, h11 = 2 * s3 - 3 * s2 + 1, s3 - 2 * s2 + s, -2 * s3 + 3 * s2, s3 - s2
    pos = h00 * p0 + h10 * dt * v0 + h01 * p1 + h11 * dt * v1
    d00, d10, d01, d11 = 6 * s2 - 6 * s, 3 * s2 - 4 * s + 1, -6 * s2 + 6 * s, 3 * s2 - 2 * s
    vel = (d00 * p0 + d01 * p1) / dt + d10 * v0 + d11 * v1
    return pos, vel


def ground_crossing(p0, v0, p1, v1, dt, alt0, alt1, ground, iterations: int = 6):
    """Where the Hermite interpolant of a step (states (M, 3), step ``dt`` (M,)) meets height
    ``ground`` (M,) [m], the step's heights being ``alt0`` >= ground > ``alt1``: (fraction (M,),
    position, velocity).  Secant iterations on the height, from the linear guess."""
    lo, hi = np.zeros(alt0.shape), np.ones(alt0.shape)
    f_lo, f_hi = alt0 - ground, alt1 - ground
    s = f_lo / np.where(f_lo - f_hi > 0.0, f_lo - f_hi, 1.0)
    for _ in range(iterations):
        pos, _ = hermite(p0, v0, p1, v1, dt, s)
        f = earth.ecef_to_geodetic(pos)[2] - ground
        above = f > 0.0
        lo, f_lo = np.where(above, s, lo), np.where(above, f, f_lo)
        hi, f_hi = np.where(above, hi, s), np.where(above, f_hi, f)
        s = np.clip(lo + (hi - lo) * f_lo / np.where(f_lo - f_hi > 0.0, f_lo - f_hi, 1.0), lo, hi)
    pos, vel = hermite(p0, v0, p1, v1, dt, s)
    return s, pos, vel


def _step_numpy(r, v, tau, h, active, af, r_out, v_out, alt_out) -> None:
    """:func:`~shieldlab.artillery.motion_kernel.rk4_step` in NumPy (the reference)."""
    idx = np.flatnonzero(active)
    r_out[:], v_out[:] = r, v
    if idx.size:
        sub = af.rows(idx)
        hk = h[idx]
        powered = (tau[idx] + 0.5 * hk < sub.burn_time) & (hk > 0.0)
        r_out[idx], v_out[idx] = _rk4(r[idx], v[idx], tau[idx], hk, powered, sub)
        alt_out[idx] = earth.ecef_to_geodetic(r_out[idx])[2]


def fly(r0: np.ndarray, v0: np.ndarray, af: Airframe, h, n_steps: int, *, t0=0.0, tau0=0.0, ground=None,
        keep: bool = True, compiled: bool = True) -> Path:
    """Integrate ``N`` rounds from states ``r0``, ``v0`` (N, 3) at times ``t0`` (N,) [s], ``tau0``
    (N,) [s] after their launch, with steps ``h`` (N,) [s] (negative: backward in time), for at most
    ``n_steps`` steps.

    ``ground`` (N,) [m above the ellipsoid] or None: a round stops where its path goes down
    through that height (from at or above it to below it; a round launched from the ground
    first rises), and the integration ends when every round has stopped.  ``keep``: keep the
    states at every step (else only the crossings).  A stopped round's later states repeat its
    last one.  ``compiled``: the compiled step (False: the NumPy reference).
    """
    r = np.array(r0, float, copy=True)
    v = np.array(v0, float, copy=True)
    n = r.shape[0]
    h = np.broadcast_to(np.asarray(h, float), (n,)).copy()
    t0 = np.broadcast_to(np.asarray(t0, float), (n,)).copy()
    tau = np.broadcast_to(np.asarray(tau0, float), (n,)).copy()
    tau_start = tau.copy()
    pos = np.empty((n, n_steps + 1, 3)) if keep else None
    vel = np.empty((n, n_steps + 1, 3)) if keep else None
    if pos is not None and vel is not None:
        pos[:, 0], vel[:, 0] = r, v
    alt = earth.ecef_to_geodetic(r)[2] if ground is not None else None
    g = None if ground is None else np.broadcast_to(np.asarray(ground, float), (n,))
    active = np.ones(n, bool)
    landed = np.zeros(n, bool)
    end_t = np.full(n, np.nan)
    end_pos = np.full((n, 3), np.nan)
    end_vel = np.full((n, 3), np.nan)
    end_step = np.full(n, n_steps + 1, np.int64)
    last = n_steps
    rn, vn, alt_new = np.empty_like(r), np.empty_like(v), np.full(n, np.nan)
    if alt is None:
        alt = np.full(n, np.nan)
    args = (af.area, af.mass, af.mass_flow, af.burn_time, af.exhaust_speed, af.drag_factor, af.table, af.cd_grid,
            MACH_STEP)
    for k in range(1, n_steps + 1):
        if not active.any():
            last = k - 1
            break
        if compiled:
            rk4_step(r, v, tau, h, active, *args, rn, vn, alt_new)
        else:
            _step_numpy(r, v, tau, h, active, af, rn, vn, alt_new)
        if g is not None:
            down = active & (alt >= g) & (alt_new < g)
            if down.any():
                j = np.flatnonzero(down)
                s, p_c, v_c = ground_crossing(r[j], v[j], rn[j], vn[j], h[j], alt[j], alt_new[j], g[j])
                landed[j] = True
                end_t[j] = t0[j] + (tau[j] - tau_start[j]) + s * h[j]
                end_pos[j], end_vel[j] = p_c, v_c
                end_step[j] = k
            alt = np.where(active, alt_new, alt)
        tau = np.where(active, tau + h, tau)
        r, rn = rn, r
        v, vn = vn, v
        if g is not None:
            active &= ~landed
        if keep:
            assert pos is not None and vel is not None
            pos[:, k], vel[:, k] = r, v
    if keep:
        assert pos is not None and vel is not None
        pos, vel = pos[:, :last + 1], vel[:, :last + 1]
    rest = ~landed
    end_t[rest] = t0[rest] + tau[rest] - tau_start[rest]
    end_pos[rest], end_vel[rest] = r[rest], v[rest]
    end_step = np.minimum(end_step, last + 1)
    return Path(t0=t0, tau0=tau_start, h=h, pos=pos, vel=vel, landed=landed, end_t=end_t, end_pos=end_pos,
                end_vel=end_vel, end_step=end_step)
