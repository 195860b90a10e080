"""One missile steered and flown from a launch point to an aim point: what ``shieldlab flyout``
does and :func:`shieldlab.fly` gives Python, in degrees and the units of each field's name."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from shieldlab import earth
from shieldlab.flyout import aim
from shieldlab.flyout.integrate import fly
from shieldlab.flyout.records import Trajectories
from shieldlab.flyout.vehicle import vehicle_from_missiles

#: Integration step [s] of a single shot: steered on the step it is flown on (a lofted
#: quasi-ballistic shot aimed on 1 s steps came down 1.07 km off its aim point when flown on
#: 0.5 s steps, 0.39 km on its own).
DT_S = 0.5


@dataclass(frozen=True)
class FlightPath:
    """A shot's flight from launch to impact, sample by sample (arrays (N,), the last sample at
    the impact): seconds from launch, geodetic degrees, kilometres above the ellipsoid."""

    t_s: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_km: np.ndarray

    def __repr__(self) -> str:
        return (f"FlightPath({self.t_s.size:,} samples, {self.t_s[0]:g}-{self.t_s[-1]:g} s, "
                f"top {self.alt_km.max():,.1f} km)")


@dataclass(frozen=True)
class Shot:
    """A missile's shot from ``launch`` to ``aim`` (geodetic degrees), the figures of
    ``shieldlab flyout --json`` unrounded: burnout (its time and inertial speed, the Earth's
    rotation included), apogee above the ellipsoid, time of flight from launch, where it came
    down and how far from the aim point, how it was steered (launch azimuth from north,
    pitch-over, thrust cut-off where the missile cut it, the dive's start for a quasi-ballistic
    one), the most this missile reaches on that bearing, and the flight itself
    (``trajectory``: ECEF metres, seconds from launch, one batch row)."""

    missile: str
    profile: str
    launch_lat_deg: float
    launch_lon_deg: float
    aim_lat_deg: float
    aim_lon_deg: float
    burnout_time_s: float
    burnout_speed_kms: float
    apogee_km: float
    time_of_flight_s: float
    ground_range_km: float
    impact_lat_deg: float
    impact_lon_deg: float
    aim_error_km: float
    launch_azimuth_deg: float
    pitch_over_deg: float
    thrust_cutoff_s: float | None  # None: it burned out (no cut)
    dive_time_s: float | None  # a quasi-ballistic missile's dive start, s from launch; None: none
    upper_stage_thrust_along_path: float  # general energy management's share (1: none)
    max_range_km: float  # this model's on the shot's bearing (the catalogue's is the source's)
    branch: str  # how it was steered: trimmed, shaped, lofted or depressed (aim.Steering.branch)
    steering: str  # the same in words, and why (a full burn where a trimmed shot was asked)
    trajectory: Trajectories

    def __repr__(self) -> str:
        """A line a notebook can show (the trajectory's arrays left out: :meth:`path` has them)."""
        return (f"Shot({self.missile!r}, {self.profile}, {self.ground_range_km:,.1f} km, apogee "
                f"{self.apogee_km:,.1f} km, {self.time_of_flight_s:,.1f} s, aim error {self.aim_error_km:.3f} km, "
                f"branch {self.branch})")

    @cached_property
    def boost_max_q_kpa(self) -> float:
        """The greatest dynamic pressure under thrust, ``rho(h) |v|^2 / 2`` with ``v`` the
        velocity relative to the (co-rotating) air, up to burnout [kPa]: what the airframe
        bears in boost.  The model sets no structural limit: a depressed full burn of a solid
        can burn out low and fast in dense air (a Sejjil-2 at 300 km: 18 km, 3.85 km/s)."""
        tr = self.trajectory
        t = self._t_s()
        burning = (t >= 0.0) & (t <= self.burnout_time_s)
        pos = np.asarray(tr.pos).reshape(-1, 3)[burning]
        vel = np.asarray(tr.vel).reshape(-1, 3)[burning]
        if not len(pos):
            return 0.0
        alt = earth.ecef_to_geodetic(pos)[2]
        q = 0.5 * earth.density_rows(np.maximum(alt, 0.0)) * np.einsum("ij,ij->i", vel, vel)
        return float(q.max()) / 1e3

    def _t_s(self) -> np.ndarray:
        """The trajectory's sample times, s from launch."""
        tr = self.trajectory
        return np.asarray(tr.t, float) - float(np.asarray(tr.launch_time).reshape(-1)[0])

    def path(self) -> FlightPath:
        """The flight from launch to impact in degrees and kilometres (``trajectory`` holds the
        whole 6,000 s grid, in ECEF metres, the body at the impact point after it lands)."""
        tr = self.trajectory
        t = self._t_s()
        pos = np.asarray(tr.pos).reshape(-1, 3)
        n = int(np.searchsorted(t, self.time_of_flight_s, side="left"))  # samples before the impact
        pts = np.vstack([pos[:n], np.asarray(tr.impact_pos).reshape(1, 3)])
        lat, lon, alt = earth.ecef_to_geodetic(pts)
        return FlightPath(t_s=np.append(t[:n], self.time_of_flight_s), lat_deg=np.degrees(lat),
                          lon_deg=np.degrees(lon), alt_km=np.maximum(alt, 0.0) / 1e3)


def profile_advice(e: aim.NoSolutionError, missile, launch_lat_deg: float, launch_lon_deg: float,
                   aim_lat_deg: float, aim_lon_deg: float, profile: str, apogee_km: float | None = None,
                   flight_time_s: float | None = None,
                   named=lambda profiles: f"--profile {' or '.join(profiles)}") -> str:
    """A no-solution error's message with its advice made true: where it advises another
    profile, the other profiles are tried and those that fly the shot named, as ``named(profiles)``
    writes them (the command line's ``--profile min-energy or lofted``, the API's
    ``profile='min-energy' or profile='lofted'``).  The
    advice had gone unchecked: the notional ICBM 18,500 km east was refused under every
    profile, and the error still said to try another."""
    if not e.advises_other_profile or apogee_km is not None or flight_time_s is not None:
        return str(e)
    flies = []
    for other in aim.PROFILES:
        if other == profile:
            continue
        try:
            fly_shot(missile, launch_lat_deg, launch_lon_deg, aim_lat_deg, aim_lon_deg, other)
        except aim.AimError:
            continue
        flies.append(other)
    if flies:
        return e.head + f" ({named(flies)} flies it)"
    return e.head + (" (no other profile flies it to this aim point; shaping it by apogee or flight time may)"
                     if e.shaping_hint else " (no profile flies it to this aim point)")


def steering_text(branch: str, profile: str, trims: bool, glides: bool = False) -> str:
    """How a shot was found, in words (``branch`` as :attr:`aim.Steering.branch`;
    ``trims``: whether the missile can trim a minimum-energy shot, :func:`aim.trims`;
    ``glides``: a quasi-ballistic missile, its catalogue ``aero``)."""
    if branch == "trimmed":
        return "trimmed to the minimum-energy shot"
    if branch == "shaped":
        return f"{profile}, shaped to the requested apogee or flight time"
    if profile == "min-energy" and glides:
        return (f"full burn, the {branch} branch: a quasi-ballistic missile flies its flattest full-burn shot, "
                f"gliding{'' if branch == 'depressed' else ' (no depressed shot reaches the aim point)'}; "
                "profile depressed with apogee_km shapes it")
    if profile == "min-energy":
        why = ("no trimmed shot reaches the aim point (near the maximum range)" if trims else
               "the missile cannot cut or manage its thrust")
        return (f"full burn, the {branch} branch: {why}; of the full-burn branches that reach it, the one whose "
                "apogee is nearer the minimum-energy one")
    return f"full burn, the {branch} branch"


def fly_shot(missile, launch_lat_deg: float, launch_lon_deg: float, aim_lat_deg: float, aim_lon_deg: float,
             profile: str = "min-energy", apogee_km: float | None = None,
             flight_time_s: float | None = None) -> Shot:
    """Steer ``missile`` (a catalogue :class:`~shieldlab.catalog.Missile`) from the launch point to
    the aim point (degrees; launched from the ellipsoid's surface) on ``profile``, shaped to
    ``apogee_km`` or ``flight_time_s`` where given, and fly it on the full model.  Raises
    :class:`~shieldlab.flyout.aim.AimError` (an unreachable aim, a shape it cannot fly)."""
    la0, lo0, la1, lo1 = np.radians([launch_lat_deg, launch_lon_deg, aim_lat_deg, aim_lon_deg])
    st = aim.solve([missile], la0, lo0, 0.0, la1, lo1, profile, dt=DT_S,
                   apogee=None if apogee_km is None else 1e3 * apogee_km, flight_time=flight_time_s)
    tr = fly(vehicle_from_missiles([missile]), earth.geodetic_to_ecef(la0, lo0, 0.0)[None], np.zeros(1), st.kick,
             st.azimuth, st.cutoff, t0=0.0, dt=DT_S, T=int(6000 / DT_S), upper_thrust=st.upper_thrust,
             dive_time=st.dive_time)
    ilat, ilon, _ = earth.ecef_to_geodetic(tr.impact_pos[0])
    return Shot(
        missile=missile.id, profile=profile, launch_lat_deg=float(launch_lat_deg),
        launch_lon_deg=float(launch_lon_deg), aim_lat_deg=float(aim_lat_deg), aim_lon_deg=float(aim_lon_deg),
        burnout_time_s=float(tr.burnout_time[0]), burnout_speed_kms=float(tr.burnout_speed[0]) / 1e3,
        apogee_km=float(tr.apogee_alt[0]) / 1e3, time_of_flight_s=float(tr.impact_time[0]),
        ground_range_km=float(earth.great_circle_distance(la0, lo0, ilat, ilon)) / 1e3,
        impact_lat_deg=float(np.degrees(ilat)), impact_lon_deg=float(np.degrees(ilon)),
        aim_error_km=float(earth.great_circle_distance(ilat, ilon, la1, lo1)) / 1e3,
        launch_azimuth_deg=float(np.degrees(st.azimuth[0])), pitch_over_deg=float(np.degrees(st.kick[0])),
        thrust_cutoff_s=float(st.cutoff[0]) if np.isfinite(st.cutoff[0]) else None,
        dive_time_s=float(st.dive_time[0]) if np.isfinite(st.dive_time[0]) else None,
        upper_stage_thrust_along_path=float(st.upper_thrust[0]),
        # on the bearing flown (the solver's is on its first guess's, the great circle's)
        max_range_km=aim.max_range_on(missile, la0, lo0, 0.0, float(st.azimuth[0]), dt=DT_S) / 1e3,
        branch=str(st.branch[0]),
        steering=steering_text(str(st.branch[0]), profile, aim.trims(missile),
                               getattr(missile, "aero", None) is not None),
        trajectory=tr)
