"""Independent Kepler reference for the interceptor tests: an arc launched from the
surface of the mean sphere at speed ``v`` [m/s] and flight-path angle ``g`` [rad]
(Bate, Mueller & White, *Fundamentals of Astrodynamics*, ch. 6: range equation and
Kepler's equation).  Shared by tests/test_fan.py and tests/validation/test_kepler_intercept.py;
:func:`ballistic_states` by tests/test_threat_eval.py and tests/validation/test_kepler.py."""

import numpy as np

from shieldlab.earth import GM
from shieldlab.earth import R_EARTH_MEAN as R


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


def ballistic_states(range_km, n=24, seed=0):
    """Ballistic states (n, 6) [ECEF m, m/s relative to the rotating Earth] whose free flight
    is about ``range_km`` long: minimum-energy shots from 50-300 km at 0.9-1.1 times the
    range, their climb angles scaled by 0.6-1.4 (depressed to lofted), anywhere, in any
    direction."""
    from shieldlab import earth
    from shieldlab.flyout import kepler

    rs = np.random.default_rng(seed)
    h = rs.uniform(50e3, 300e3, n)
    shot = kepler.minimum_energy(range_km * 1e3 * rs.uniform(0.9, 1.1, n), h)
    shot = shot._replace(flight_path_angle=shot.flight_path_angle * rs.uniform(0.6, 1.4, n))
    pos, vel = kepler.burnout_state(rs.uniform(-1.2, 1.2, n), rs.uniform(-np.pi, np.pi, n),
                                    rs.uniform(0, 2 * np.pi, n), h, shot)
    return np.concatenate([pos, vel - np.cross([0.0, 0.0, earth.OMEGA_EARTH], pos)], axis=1)
