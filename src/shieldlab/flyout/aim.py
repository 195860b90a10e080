"""Steering solver: the launch azimuth, pitch-over (kick) angle and cut-off time
that put a missile's impact on an aim point, on the rotating ellipsoidal Earth
with drag.

Profiles
--------
``min-energy``
    Fly the kick angle that maximises range; shorten the range by thrust
    termination (missiles whose catalogue entry allows it, i.e. liquid engines).
    A solid missile cannot cut thrust, so it flies whichever of the lofted and
    depressed full-burn solutions has the apogee closest to the Kepler
    minimum-energy apogee for that range.
``lofted`` / ``depressed``
    Full burn; the smaller (steeper) or larger (flatter) kick angle that reaches
    the range.

Method: a scan of 24 kick angles, golden-section refinement of the maximum,
bisection on the monotone branch (kick or cut-off) for the ground range, and a
fixed-point correction of the azimuth for Earth rotation and J2 (the cross-range
error is fed back as a bearing change).  Every evaluation is one batched call of
the fast integrator over all threats at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from shieldlab import earth
from shieldlab.flyout import kepler
from shieldlab.flyout.integrate import FULL, EarthModel, run
from shieldlab.flyout.vehicle import Vehicle, vehicle_from_missiles

PROFILES = ("min-energy", "lofted", "depressed")
_KICK_MIN, _KICK_MAX = np.radians(0.5), np.radians(75.0)
_GOLD = (np.sqrt(5.0) - 1.0) / 2.0


class UnreachableError(ValueError):
    """The aim point lies beyond the missile's maximum range on that bearing."""

    def __init__(self, index: int, missile: str, range_m: float, max_range_m: float):
        self.index, self.missile, self.range_m, self.max_range_m = index, missile, range_m, max_range_m
        super().__init__(
            f"aim point {range_m / 1e3:,.0f} km away is out of reach of {missile}: "
            f"its maximum range on that bearing is {max_range_m / 1e3:,.0f} km"
        )


@dataclass(frozen=True)
class Steering:
    """Solved steering per threat, shapes (N,)."""

    azimuth: np.ndarray  # launch azimuth [rad from north]
    kick: np.ndarray  # pitch-over angle [rad from vertical]
    cutoff: np.ndarray  # thrust termination [s after launch]; inf = burn out
    max_range: np.ndarray  # full-burn maximum range on this bearing [m]
    aim_error: np.ndarray  # distance from the solved impact to the aim point [m]


class _Evaluator:
    def __init__(self, veh: Vehicle, r0: np.ndarray, lat0, lon0, model: EarthModel, dt: float, t_max: float):
        self.veh, self.r0, self.lat0, self.lon0 = veh, r0, lat0, lon0
        self.model, self.dt, self.t_max = model, dt, t_max

    def impact(self, idx, kick, az, cutoff):
        """Impact (lat, lon) and apogee for batch elements ``idx`` (with repetition)."""
        veh = self.veh.take(idx)
        _, _, _, ev = run(veh, self.r0[idx], np.zeros((len(idx), 3)), np.zeros(len(idx)), kick, az, cutoff,
                          grid_t0=0.0, dt=self.dt, T=int(self.t_max / self.dt) + 2, model=self.model,
                          record=False, t_max=self.t_max)
        lat, lon, _ = earth.ecef_to_geodetic(ev[:, 5:8])
        landed = np.isfinite(ev[:, 4])
        rng = earth.great_circle_distance(self.lat0[idx], self.lon0[idx], lat, lon)
        rng = np.where(landed, rng, np.inf)  # never came down: treat as beyond any aim point
        return rng, lat, lon, ev[:, 3]


def _max_range_kick(ev: _Evaluator, az: np.ndarray):
    N = az.size
    grid = np.linspace(_KICK_MIN, _KICK_MAX, 24)
    idx = np.repeat(np.arange(N), grid.size)
    kicks = np.tile(grid, N)
    rng = ev.impact(idx, kicks, az[idx], np.full(idx.size, np.inf))[0].reshape(N, grid.size)
    rng = np.where(np.isfinite(rng), rng, -1.0)
    j = np.argmax(rng, axis=1)
    lo = grid[np.maximum(j - 1, 0)]
    hi = grid[np.minimum(j + 1, grid.size - 1)]
    ar = np.arange(N)
    for _ in range(30):  # golden section for the maximum of range(kick)
        a = hi - _GOLD * (hi - lo)
        b = lo + _GOLD * (hi - lo)
        both = np.concatenate([a, b])
        r = ev.impact(np.concatenate([ar, ar]), both, np.concatenate([az, az]), np.full(2 * N, np.inf))[0]
        r = np.where(np.isfinite(r), r, -1.0)
        left = r[:N] >= r[N:]
        hi = np.where(left, b, hi)
        lo = np.where(left, lo, a)
    k = 0.5 * (lo + hi)
    rmax = ev.impact(ar, k, az, np.full(N, np.inf))[0]
    return k, rmax


def _bisect(f, lo, hi, increasing, target, iters=48):
    """Vectorised bisection for f(x) = target on [lo, hi]; ``increasing`` per element."""
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        above = f(mid) > target
        go_left = above == increasing
        hi = np.where(go_left, mid, hi)
        lo = np.where(go_left, lo, mid)
    return 0.5 * (lo + hi)


def solve(missiles: Sequence, launch_lat, launch_lon, launch_alt, aim_lat, aim_lon, profile="min-energy",
          model: EarthModel = FULL, dt: float = 1.0, t_max: float = 6000.0, azimuth_iterations: int = 4) -> Steering:
    """Steering for N threats: catalogue missiles and geodetic launch/aim points [rad, m], shapes (N,).

    ``profile`` is one of :data:`PROFILES` or a sequence of them, one per threat.
    Raises :class:`UnreachableError` for the first aim point beyond reach.
    """
    N = len(missiles)
    lat0, lon0, alt0, lat1, lon1 = (np.broadcast_to(np.asarray(x, float), (N,)).copy()
                                    for x in (launch_lat, launch_lon, launch_alt, aim_lat, aim_lon))
    profiles = [profile] * N if isinstance(profile, str) else list(profile)
    for p in profiles:
        if p not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {p!r}")
    veh = vehicle_from_missiles(missiles)
    r0 = earth.geodetic_to_ecef(lat0, lon0, alt0)
    ev = _Evaluator(veh, r0, lat0, lon0, model, dt, t_max)
    target = earth.great_circle_distance(lat0, lon0, lat1, lon1)
    bearing = earth.initial_bearing(lat0, lon0, lat1, lon1)
    can_cut = np.array([bool(m.thrust_termination) for m in missiles])
    want = np.array(profiles)
    ar = np.arange(N)
    burn_start = veh.vertical_rise + veh.pitch_over
    apogee_me = kepler.minimum_energy(target).apogee
    az = bearing.copy()
    for it in range(azimuth_iterations):
        k_star, rmax = _max_range_kick(ev, az)
        if it == 0:
            bad = np.flatnonzero(rmax < target)
            if bad.size:
                i = int(bad[0])
                raise UnreachableError(i, missiles[i].name, float(target[i]), float(rmax[i]))
        inf = np.full(N, np.inf)

        def rng_kick(k):
            return ev.impact(ar, k, az, inf)[0]

        k_loft = _bisect(rng_kick, np.full(N, _KICK_MIN), k_star.copy(), True, target)
        k_dep = _bisect(rng_kick, k_star.copy(), np.full(N, np.radians(89.0)), False, target)
        cut = _bisect(lambda c: ev.impact(ar, k_star, az, c)[0], burn_start + 1.0, veh.total_burn, True, target)
        use_cut = (want == "min-energy") & can_cut
        ap_l = ev.impact(ar, k_loft, az, inf)[3]
        ap_d = ev.impact(ar, k_dep, az, inf)[3]
        loft = (want == "lofted") | ((want == "min-energy") & ~can_cut & (abs(ap_l - apogee_me) < abs(ap_d - apogee_me)))
        kick = np.where(use_cut, k_star, np.where(loft, k_loft, k_dep))
        cutoff = np.where(use_cut, cut, np.inf)
        _, ilat, ilon, _ = ev.impact(ar, kick, az, cutoff)
        b_hit = earth.initial_bearing(lat0, lon0, ilat, ilon)
        az = np.mod(az + np.angle(np.exp(1j * (bearing - b_hit))), 2 * np.pi)
    _, ilat, ilon, _ = ev.impact(ar, kick, az, cutoff)
    err = earth.great_circle_distance(ilat, ilon, lat1, lon1)
    return Steering(azimuth=az, kick=kick, cutoff=cutoff, max_range=rmax, aim_error=err)
