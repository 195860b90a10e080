"""Batched flyout: the public entry point over the two integrators.

``fly`` takes launch states and steering parameters with any leading batch shape
``...`` and returns :class:`~shieldlab.flyout.records.Trajectories` sampled on a
shared time grid (seconds from the scenario epoch).
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np

from shieldlab import earth
from shieldlab.flyout import kernel
from shieldlab.flyout.forces import ATM_TABLE
from shieldlab.flyout.records import Trajectories
from shieldlab.flyout.reference import fly_reference
from shieldlab.flyout.vehicle import Vehicle


@dataclass(frozen=True)
class EarthModel:
    """Which physics the flyout includes.

    The default is the full model: rotating WGS84 Earth, J2 gravity, US-1976 drag.
    ``sphere=True`` flies over the non-rotating mean sphere (point-mass gravity,
    altitude above ``R_EARTH_MEAN``), the world of the Kepler closed forms.
    ``sub_steps=False`` integrates thrust and air in steps of the grid size instead of
    sub-steps of at most :data:`~shieldlab.flyout.kernel.H_MAX` (fire control's smooth,
    drag-free boost hypotheses, which a 4 s RK4 step resolves).
    """

    rotating: bool = True
    j2: bool = True
    drag: bool = True
    sphere: bool = False
    sub_steps: bool = True

    @property
    def flags(self) -> int:
        return ((kernel.ROTATING if self.rotating else 0) | (kernel.J2_ON if self.j2 and not self.sphere else 0)
                | (kernel.DRAG_ON if self.drag else 0) | (kernel.SPHERE if self.sphere else 0)
                | (kernel.SUB_STEPS if self.sub_steps else 0))

    def as_dict(self) -> dict:
        return {"rotating": self.rotating, "j2": self.j2, "drag": self.drag, "sphere": self.sphere,
                "sub_steps": self.sub_steps}


FULL = EarthModel()
VACUUM_SPHERE = EarthModel(rotating=False, j2=False, drag=False, sphere=True)

_EV_FIELDS = ("burnout_time", "burnout_speed", "apogee_time", "apogee_alt", "impact_time")


def _flat(a, batch, tail=()):
    # writeable as well as contiguous: a read-only view (what broadcast_to gives when no copy is
    # needed) is another Numba type, and the kernel would be compiled a second time for it.
    # (The kernel only reads these inputs: an array already in that form is passed as it is.)
    shape = batch + tail
    if (type(a) is np.ndarray and a.dtype == np.float64 and a.shape == shape and a.flags.c_contiguous
            and a.flags.writeable):
        return a.reshape((-1,) + tail)
    return np.require(np.broadcast_to(np.asarray(a, float), shape).reshape((-1,) + tail), float, ["C", "W"])


def run(vehicle: Vehicle, r0, v0, t_launch, kick, azimuth, cutoff, *, grid_t0: float, dt: float, T: int,
        model: EarthModel = FULL, record: bool = True, t_max: float = np.inf, engine: str = "numba",
        upper_thrust=None, dive_time=None, min_batch: int | None = None):
    """Fly a flat batch of ``B`` trajectories (``vehicle.batch_size == B``).

    Returns ``(pos (B,T,3), vel (B,T,3), phase (B,T) int8, ev (B,8))``; ``ev``
    columns: burnout time, burnout inertial speed, apogee time, apogee altitude,
    impact time, impact x, y, z, burnout position x, y, z and inertial velocity in ECEF axes
    (nan until burnout) (times in s from epoch, SI).  With
    ``record=False`` no samples are kept and each trajectory stops at impact or
    ``t_max`` seconds after launch (the cheap mode used by the aiming solver).  ``upper_thrust`` (B,) is the
    steering's energy management (:meth:`Vehicle.throttled`; ``None``: none) and ``dive_time``
    (B,) the terminal dive's start of a quasi-ballistic shot (:meth:`Vehicle.diving_at`).
    ``min_batch``: the least trajectories per thread (default
    :data:`~shieldlab.flyout.kernel.PARALLEL_MIN_BATCH`); each trajectory is flown alone, so
    the split changes no result, only the cost.
    """
    B = vehicle.batch_size
    if upper_thrust is not None:
        vehicle = vehicle.throttled(_flat(upper_thrust, (B,)))
    if dive_time is not None:
        vehicle = vehicle.diving_at(_flat(dive_time, (B,)))
    r0, v0 = _flat(r0, (B,), (3,)), _flat(v0, (B,), (3,))
    t_launch, kick, azimuth, cutoff = (_flat(x, (B,)) for x in (t_launch, kick, azimuth, cutoff))
    if engine == "numpy":
        return fly_reference(vehicle, r0, v0, t_launch, grid_t0, dt, T, t_max, kick, azimuth, cutoff,
                             model.as_dict(), record=record)
    if engine != "numba":
        raise ValueError(f"engine must be 'numba' or 'numpy', not {engine!r}")
    Tr = T if record else 1
    pos: np.ndarray | None = np.zeros((B, Tr, 3))  # None when not recorded
    vel: np.ndarray | None = np.zeros((B, Tr, 3))
    phase: np.ndarray | None = np.zeros((B, Tr), np.int8)
    ev = np.zeros((B, kernel.NEV))
    v = vehicle
    args = (r0, v0, t_launch, float(grid_t0), float(dt), int(T), bool(record), float(t_max),
            model.flags, ATM_TABLE, v.stage_burn, v.stage_mdot, v.stage_thrust_vac, v.stage_thrust_sl,
            v.stage_m0, v.boost_area, v.boost_mach, v.boost_cd, v.rv_separates, v.rv_mass,
            v.rv_area, v.rv_mach, v.rv_cd, v.vertical_rise, v.pitch_over, kick, azimuth, cutoff, v.stage_pitch,
            v.aero.copy(),  # (the kernel writes each lifting flight's dive start in its row)
            pos, vel, phase, ev, np.zeros((B if not record else 1, kernel.NPARK)))
    # as many threads as Numba is set to use (NUMBA_NUM_THREADS, numba.set_num_threads; default all cores)
    workers = min(numba.get_num_threads(), max(1, B // (min_batch or kernel.PARALLEL_MIN_BATCH)))
    if workers == 1:
        kernel.fly_range(*args, 0, B)
    else:  # blocks of trajectories on a thread pool; the kernel releases the GIL
        edges = np.linspace(0, B, 4 * workers + 1).astype(int)
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda k: kernel.fly_range(*args, edges[k], edges[k + 1]), range(len(edges) - 1)))
    if not record:
        pos = vel = phase = None
    return pos, vel, phase, ev


def fly(vehicle: Vehicle, launch_pos, launch_time, kick, azimuth, cutoff=np.inf, *, t0: float, dt: float,
        T: int, model: EarthModel = FULL, v0=None, batch_shape: tuple[int, ...] | None = None,
        engine: str = "numba", upper_thrust=None, dive_time=None, min_batch: int | None = None) -> Trajectories:
    """Fly a batch and sample it on the grid ``t = t0 + k dt``, ``k < T``.

    Parameters
    ----------
    vehicle : Vehicle with ``B = prod(batch_shape)`` elements (row-major order).
    launch_pos : (..., 3) ECEF [m].  launch_time : (...,) [s from epoch].
    kick : (...,) pitch-over angle from the vertical [rad].  azimuth : (...,) launch azimuth [rad].
    cutoff : (...,) thrust termination time after launch [s] (``inf``: burn to depletion).
    v0 : (..., 3) initial ECEF velocity [m/s] (default zero: a launch from rest).
    upper_thrust : (...,) the upper stages' thrust along the path, 0-1 (general energy
    management, :attr:`shieldlab.flyout.aim.Steering.upper_thrust`; default: all of it).
    dive_time : (...,) seconds after launch at which a quasi-ballistic missile begins its dive
    (:attr:`shieldlab.flyout.aim.Steering.dive_time`; default: when its glide has bled the speed).
    min_batch : the least trajectories per thread (:func:`run`).
    """
    if batch_shape is None:
        batch_shape = np.shape(launch_time) or (vehicle.batch_size,)
    batch_shape = tuple(batch_shape)
    if int(np.prod(batch_shape)) != vehicle.batch_size:
        raise ValueError(f"vehicle batch {vehicle.batch_size} does not match batch shape {batch_shape}")
    v0 = np.zeros(3) if v0 is None else v0
    pos, vel, phase, ev = run(vehicle, _flat(launch_pos, batch_shape, (3,)), _flat(v0, batch_shape, (3,)),
                              _flat(launch_time, batch_shape), _flat(kick, batch_shape), _flat(azimuth, batch_shape),
                              _flat(cutoff, batch_shape), grid_t0=t0, dt=dt, T=T, model=model, engine=engine,
                              upper_thrust=None if upper_thrust is None else _flat(upper_thrust, batch_shape),
                              dive_time=None if dive_time is None else _flat(dive_time, batch_shape),
                              min_batch=min_batch)
    shp = batch_shape
    return Trajectories(
        t=t0 + dt * np.arange(T),
        pos=pos.reshape(shp + (T, 3)),
        vel=vel.reshape(shp + (T, 3)),
        phase=phase.reshape(shp + (T,)),
        launch_time=_flat(launch_time, batch_shape).reshape(shp),
        **{name: ev[:, i].reshape(shp) for i, name in enumerate(_EV_FIELDS)},
        impact_pos=ev[:, 5:8].reshape(shp + (3,)),
        separates=np.asarray(vehicle.rv_separates, bool).reshape(shp),
    )


def coast(x, dt: float, T: int, model: EarthModel = EarthModel(drag=False)):
    """Ballistic prediction of states ``x`` (M, 6) (ECEF position, velocity) over ``T`` steps of ``dt``.

    Used by fire control to extrapolate a track.  Returns ``(pos (M,T,3), vel (M,T,3),
    ev (M,8))`` with times relative to the start (sample k at ``k dt``); samples after the
    predicted impact hold the impact point (and zero velocity), ``ev[:, 4]`` is the predicted impact time
    (``inf`` if beyond the horizon) and ``ev[:, 5:8]`` the predicted impact point.
    """
    x = np.ascontiguousarray(x, float)
    M = x.shape[0]
    vehicle, z = _ballistic(M)
    pos, vel, _, ev = run(vehicle, np.ascontiguousarray(x[:, :3]), np.ascontiguousarray(x[:, 3:]), z, z, z, z,
                          grid_t0=0.0, dt=dt, T=T, model=model)
    return pos, vel, ev


@functools.lru_cache(maxsize=32)
def _ballistic(M: int):
    """The unpowered body and a zero array of batch ``M``, built once per batch size: fire
    control coasts a few dozen tracks at every planning tick (the kernel only reads them)."""
    from shieldlab.flyout.vehicle import ballistic_vehicle

    return ballistic_vehicle(M), np.zeros(M)


def propagate(x, span, steps: int = 64, model: EarthModel = EarthModel(drag=False), engine: str = "numba"):
    """Ballistic state after ``span`` seconds (per element, (M,)) from states ``x`` (M, 6).

    RK4 with ``steps`` equal sub-steps per element (gravity with J2 and the rotating-frame
    terms, no drag): the short extrapolations fire control makes from a track to an
    intercept time.  ``engine="numba"`` runs the compiled loop
    (:func:`shieldlab.flyout.kernel.propagate_rk4`), ``"numpy"`` the vectorised reference;
    they agree to rounding (tested).
    """
    s = np.array(x, float, copy=True).reshape(-1, 6)
    span = np.broadcast_to(np.asarray(span, float), (s.shape[0],))
    if engine == "numba":
        flags = (kernel.J2_ON if model.j2 and not model.sphere else 0) | (kernel.ROTATING if model.rotating else 0)
        kernel.propagate_rk4(s, np.ascontiguousarray(span), int(steps), flags)
        return s
    if engine != "numpy":
        raise ValueError(f"engine must be 'numba' or 'numpy', not {engine!r}")
    h = (span / steps)[:, None]

    def f(state):
        r, v = state[:, :3], state[:, 3:]
        a = earth.gravity(r, j2=model.j2 and not model.sphere)
        if model.rotating:
            a = a + earth.rotating_frame_acceleration(r, v)
        return np.concatenate([v, a], axis=1)

    for _ in range(steps):
        k1 = f(s)
        k2 = f(s + 0.5 * h * k1)
        k3 = f(s + 0.5 * h * k2)
        k4 = f(s + h * k3)
        s = s + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return s
