"""Threat flyout stage: closed-form Kepler ballistics, the batched 3-DOF
integrator (NumPy reference and Numba fast path), and the steering solver."""

from shieldlab.flyout.integrate import FULL, VACUUM_SPHERE, EarthModel, coast, fly, propagate
from shieldlab.flyout.kepler import (
                                     KeplerShot,
                                     angles_for_speed,
                                     depressed,
                                     free_flight_range,
                                     lofted,
                                     minimum_energy,
                                     speed_for_angle,
)
from shieldlab.flyout.records import Phase, Trajectories

__all__ = ["EarthModel", "FULL", "KeplerShot", "Phase", "Trajectories", "VACUUM_SPHERE", "angles_for_speed",
           "coast", "depressed", "fly", "free_flight_range", "lofted", "minimum_energy", "propagate",
           "speed_for_angle"]
