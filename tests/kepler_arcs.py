"""Independent Kepler reference for the interceptor tests: an arc launched from the
surface of the mean sphere at speed ``v`` [m/s] and flight-path angle ``g`` [rad]
(Bate, Mueller & White, *Fundamentals of Astrodynamics*, ch. 6: range equation and
Kepler's equation).  Shared by tests/test_fan.py and tests/validation/test_kepler_intercept.py."""

import numpy as np

from shieldlab.earth import GM, R_EARTH_MEAN as R


def radius_at(v, g, psi):
    """Radius [m] at downrange angle psi [rad] of the arc from the surface."""
    nu = R * v * v / GM
    return R / ((1 - np.cos(psi)) / (nu * np.cos(g) ** 2) + np.cos(psi + g) / np.cos(g))


def arc_time(v, g, psi):
    """Time [s] along that arc from launch to downrange angle psi."""
    nu = R * v * v / GM
    c, s = np.cos(g), np.sin(g)
    e = np.hypot(nu * c * c - 1, nu * s * c)
    a = R / (2 - nu)
    th0 = np.arctan2(nu * s * c, nu * c * c - 1)

    def mean_anomaly(th):
        E = 2 * np.arctan2(np.sqrt(1 - e) * np.sin(th / 2), np.sqrt(1 + e) * np.cos(th / 2))
        return E - e * np.sin(E)

    dm = mean_anomaly(th0 + psi) - mean_anomaly(th0)
    return np.sqrt(a**3 / GM) * (dm + 2 * np.pi * (dm < 0))
