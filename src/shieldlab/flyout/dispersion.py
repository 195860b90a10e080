"""Monte Carlo dispersions of a threat's flight and the accuracy they give.

Each run draws, per threat, independent Gaussian factors on the vehicle's
thrust, specific impulse, burn time and drag coefficient, and an error on the
launch azimuth; the steering (kick, cut-off, nominal azimuth) stays the one
solved for the nominal missile, as for an open-loop guidance programme.  The
spread of impact points about the aim point is summarised by the circular error
probable (CEP): the radius about the aim point that holds half the impacts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shieldlab import earth


@dataclass(frozen=True)
class Dispersion:
    """One-sigma dispersions: fractions (0.01 = 1 %) and the azimuth error in radians; each a
    number, or an array (one per threat) broadcast against the elements :func:`draw` draws for."""

    thrust: float | np.ndarray = 0.0
    isp: float | np.ndarray = 0.0
    burn_time: float | np.ndarray = 0.0
    drag: float | np.ndarray = 0.0
    azimuth: float | np.ndarray = 0.0

    @property
    def is_zero(self) -> bool:
        return not any((self.thrust, self.isp, self.burn_time, self.drag, self.azimuth))

    def scaled(self, k: float) -> Dispersion:
        return Dispersion(*(k * getattr(self, f) for f in self.__dataclass_fields__))


@dataclass(frozen=True)
class Draws:
    """Per-element factors (shape ``batch``): multiply the nominal values; ``azimuth`` adds [rad]."""

    thrust: np.ndarray
    isp: np.ndarray
    burn_time: np.ndarray
    drag: np.ndarray
    azimuth: np.ndarray


def draw(d: Dispersion, shape: tuple[int, ...], rng: np.random.Generator) -> Draws:
    """Draw the factors for ``shape`` elements; always five normal draws per element, in a fixed
    order, so the stream's use depends only on the shape."""
    z = rng.standard_normal((5,) + tuple(shape))
    # factors are clipped at 50 % so a wild draw cannot make a negative thrust or burn time
    f = lambda sigma, row: np.clip(1.0 + sigma * z[row], 0.5, 1.5)  # noqa: E731
    return Draws(f(d.thrust, 0), f(d.isp, 1), f(d.burn_time, 2), f(d.drag, 3), d.azimuth * z[4])


def cep(impact_lat, impact_lon, aim_lat, aim_lon, axis=None) -> np.ndarray:
    """Circular error probable [m]: the median distance of the impacts from the aim point
    (radians in; great-circle distance on the mean sphere)."""
    miss = earth.great_circle_distance(impact_lat, impact_lon, aim_lat, aim_lon)
    return np.nanmedian(miss, axis=axis)


def impact_scatter(missile, launch_lat, launch_lon, aim_lat, aim_lon, d: Dispersion, runs: int, seed: int,
                   profile: str = "min-energy", launch_alt: float = 0.0, dt: float = 1.0, apogee=None,
                   flight_time=None):
    """Fly ``runs`` dispersed shots of one catalogue missile at an aim point (radians in).

    Returns ``(impact_lat, impact_lon, cep_m)``; the steering is solved once for the
    nominal missile.  Shots that have not landed after 6,000 s are ``nan``.
    """
    from shieldlab.flyout import aim
    from shieldlab.flyout.integrate import run
    from shieldlab.flyout.vehicle import vehicle_from_missiles

    st = aim.solve([missile], launch_lat, launch_lon, launch_alt, aim_lat, aim_lon, profile, dt=dt, apogee=apogee,
                   flight_time=flight_time)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    f = draw(d, (runs,), rng)
    veh = vehicle_from_missiles([missile]).take(np.zeros(runs, int)).scaled(
        thrust=f.thrust, isp=f.isp, burn=f.burn_time, drag=f.drag)
    r0 = np.broadcast_to(earth.geodetic_to_ecef(launch_lat, launch_lon, launch_alt), (runs, 3))
    _, _, _, ev = run(veh, r0, np.zeros((runs, 3)), np.zeros(runs), np.full(runs, st.kick[0]),
                      st.azimuth[0] + f.azimuth, np.full(runs, st.cutoff[0]), grid_t0=0.0, dt=dt,
                      upper_thrust=np.full(runs, st.upper_thrust[0]), dive_time=np.full(runs, st.dive_time[0]),
                      T=int(6000 / dt) + 2, record=False, t_max=6000.0)
    lat, lon, _ = earth.ecef_to_geodetic(np.where(np.isfinite(ev[:, 5:8]), ev[:, 5:8], earth.WGS84_A))
    landed = np.isfinite(ev[:, 4])
    lat, lon = np.where(landed, lat, np.nan), np.where(landed, lon, np.nan)
    return lat, lon, float(cep(lat, lon, aim_lat, aim_lon))
