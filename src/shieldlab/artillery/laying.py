"""Laying a weapon: the quadrant elevation and azimuth that put its nominal round on an aim point.

Frames and units: geodetic points in radians and metres above the ellipsoid, angles in radians
(quadrant elevation above the local horizontal, azimuth clockwise from north), SI inside.

The solver flies the round itself (:func:`shieldlab.artillery.motion.fly`, the same model as the
truth), so a nominal round lands on the aim point to the solver's tolerance (:data:`TOLERANCE_M`):

1. a fan of elevations from the round's least to its greatest, every :data:`FAN_STEP_DEG`, at the
   bearing of the aim point, gives the range against elevation and the elevation of greatest
   range, which splits it into the low-angle branch (guns, rockets) and the high-angle branch
   (mortars); the branch is the round's (or the mission's);
2. on that branch, range is monotone: the two fan elevations about the aim's range bracket it,
   and linear interpolation between them starts
3. Newton's method in (elevation, azimuth) on the miss vector (east, north) at the aim point, the
   Jacobian by finite differences (three rounds per weapon a step), kept inside the bracket.

An aim beyond the greatest range, or nearer than the branch's least range, raises
:class:`LayingError` naming the weapon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from shieldlab import earth
from shieldlab.artillery.motion import Airframe, fly, launch_velocity

__all__ = ["Laying", "LayingError", "lay", "max_steps", "TOLERANCE_M", "FAN_STEP_DEG", "STEP_S"]

#: A nominal round lands this close to the aim point, or the solver says it cannot [m].
TOLERANCE_M = 0.5
#: Spacing of the fan of elevations that brackets the aim [deg].
FAN_STEP_DEG = 0.5
#: Integration step of the laying flights, the truth's [s].
STEP_S = 0.05
_NEWTON_ITERATIONS = 12
_DQ = 1e-4  # rad: finite-difference steps in elevation and azimuth
_DA = 1e-4


class LayingError(ValueError):
    """An aim point that weapon ``index`` cannot reach; ``message`` says why, with the numbers."""

    def __init__(self, index: int, message: str):
        self.index, self.message = index, message
        super().__init__(message)


@dataclass(frozen=True)
class Laying:
    """How each of ``M`` weapons is laid; every field (M,).

    ``elevation`` [rad] quadrant elevation; ``azimuth`` [rad] clockwise from north; ``speed`` [m/s]
    the muzzle (a rocket: tube-exit) speed; ``range`` [m] geodesic distance from the weapon to the
    aim point; ``time_of_flight`` [s] of the nominal round; ``range_slope`` [m/rad] d(range)/d(elevation)
    at the solution (turns a range error of laying into an elevation error); ``miss`` [m] of the
    nominal round from the aim point; ``max_range`` [m] greatest range at this speed (on the fan);
    ``max_elevation`` [rad] the elevation of that greatest range.
    """

    elevation: np.ndarray
    azimuth: np.ndarray
    speed: np.ndarray
    range: np.ndarray
    time_of_flight: np.ndarray
    range_slope: np.ndarray
    miss: np.ndarray
    max_range: np.ndarray
    max_elevation: np.ndarray


def max_steps(rounds, speed) -> int:
    """Steps enough for the longest flight of these rounds (a vacuum flight straight up at the speed
    they leave the launcher with, a rocket's burnout speed taken as 1.2 km/s, and a minute more)."""
    v = max(1200.0 if r.motor is not None else float(s) for r, s in zip(rounds, speed, strict=True))
    return int(math.ceil((2.0 * v / 9.8 + 60.0) / STEP_S))


def _impacts(rounds, lat, lon, alt, ground, speed, elevation, azimuth):
    """Fly one nominal round per row from (lat, lon, alt) [rad, m] at ``speed``, ``elevation``, ``azimuth``
    to the height ``ground``: (impact ECEF (K, 3) with nan where it never came down, time of flight
    (K,) [s])."""
    af = Airframe.of(rounds)
    r0 = earth.geodetic_to_ecef(lat, lon, alt)
    v0 = launch_velocity(lat, lon, speed, elevation, azimuth)
    p = fly(r0, v0, af, af.step(STEP_S), max_steps(rounds, speed), ground=ground, keep=False)
    pos = np.where(p.landed[:, None], p.end_pos, np.nan)
    return pos, np.where(p.landed, p.end_t, np.nan)


def lay(rounds, origin, aim, *, speed=None, angle=None) -> Laying:
    """Lay ``M`` weapons: ``rounds`` the catalogue round of each, ``origin`` and ``aim`` (lat, lon, alt)
    triples of (M,) arrays [rad, rad, m]; ``speed`` (M,) [m/s] the muzzle speed (None: each round's
    catalogue ``muzzle_velocity_ms``); ``angle`` each weapon's branch, "low" or "high" (None: the
    round's).  The aim's height is the ground the round comes down to.  Raises
    :class:`LayingError` for the first weapon that cannot reach its aim."""
    m = len(rounds)
    olat, olon, oalt = (np.broadcast_to(np.asarray(x, float), (m,)) for x in origin)
    alat, alon, aalt = (np.broadcast_to(np.asarray(x, float), (m,)) for x in aim)
    speed = (np.array([r.muzzle_velocity_ms for r in rounds], float) if speed is None
             else np.broadcast_to(np.asarray(speed, float), (m,)).copy())
    angle = [r.angle for r in rounds] if angle is None else list(angle)
    dist = earth.geodesic_distance(olat, olon, alat, alon)
    dist = np.where(np.isfinite(dist), dist, earth.great_circle_distance(olat, olon, alat, alon))  # near-antipodes
    bearing = earth.initial_bearing(olat, olon, alat, alon)
    for i in range(m):
        if dist[i] < 1.0:
            raise LayingError(i, "the aim point is the weapon's own position")
    # 1. the fan
    fans = [np.radians(np.arange(r.min_elevation_deg, r.max_elevation_deg + 1e-9, FAN_STEP_DEG)) for r in rounds]
    for i, r in enumerate(rounds):
        if fans[i][-1] < math.radians(r.max_elevation_deg) - 1e-12:
            fans[i] = np.append(fans[i], math.radians(r.max_elevation_deg))
    row = np.concatenate([np.full(f.size, i) for i, f in enumerate(fans)])
    q = np.concatenate(fans)
    pos, _ = _impacts([rounds[i] for i in row], olat[row], olon[row], oalt[row], aalt[row], speed[row], q, bearing[row])
    la, lo, _ = earth.ecef_to_geodetic(np.where(np.isfinite(pos), pos, 0.0))
    ranges = earth.geodesic_distance(olat[row], olon[row], la, lo)
    ranges = np.where(np.isfinite(ranges), ranges, earth.great_circle_distance(olat[row], olon[row], la, lo))
    ranges = np.where(np.isfinite(pos[:, 0]), ranges, np.nan)
    lo_q, hi_q, q0 = np.empty(m), np.empty(m), np.empty(m)
    max_range, max_el = np.empty(m), np.empty(m)
    start = 0
    for i, f in enumerate(fans):
        rr = ranges[start:start + f.size]
        start += f.size
        ok = np.isfinite(rr)
        if not ok.any():
            raise LayingError(i, f"the {rounds[i].id} never comes down to the aim's height "
                                 f"({aalt[i]:,.0f} m) at any elevation")
        j = int(np.nanargmax(rr))
        max_range[i], max_el[i] = rr[j], f[j]
        name = rounds[i].id
        if dist[i] > rr[j]:
            # a rocket's speed leaving its tube (41 m/s for a Grad) says nothing of its reach: its motor's
            how = "with its motor" if rounds[i].motor is not None else f"at {speed[i]:,.0f} m/s"
            raise LayingError(i, f"the aim point is {dist[i] / 1e3:,.2f} km away, beyond the {name}'s reach of "
                                 f"{rr[j] / 1e3:,.2f} km {how} (at {math.degrees(f[j]):.1f} deg)")
        if angle[i] == "low":
            branch = np.arange(0, j + 1)
        else:
            branch = np.arange(j, f.size)[::-1]  # ranges rising toward the elevation of greatest range
        br = rr[branch]
        good = np.isfinite(br)
        branch, br = branch[good], br[good]
        if dist[i] < br[0]:
            what = "least" if angle[i] == "low" else "greatest"
            raise LayingError(i, f"the aim point is {dist[i] / 1e3:,.2f} km away, nearer than the {name} reaches "
                                 f"on its {angle[i]}-angle branch ({br[0] / 1e3:,.2f} km at its {what} elevation, "
                                 f"{math.degrees(f[branch[0]]):.1f} deg)")
        k = int(np.searchsorted(br, dist[i]))
        k = min(max(k, 1), br.size - 1)
        a, b = branch[k - 1], branch[k]
        w = (dist[i] - rr[a]) / (rr[b] - rr[a]) if rr[b] != rr[a] else 0.0
        q0[i] = f[a] + w * (f[b] - f[a])
        lo_q[i], hi_q[i] = min(f[a], f[b]), max(f[a], f[b])
    # 3. Newton in (elevation, azimuth) on the miss at the aim point
    el, az = q0.copy(), bearing.copy()
    miss = np.full(m, np.inf)
    slope = np.full(m, np.nan)
    tof = np.full(m, np.nan)
    idx3 = np.repeat(np.arange(m), 3)
    rounds3 = [rounds[i] for i in idx3]
    for _ in range(_NEWTON_ITERATIONS):
        q3 = np.repeat(el, 3) + np.tile([0.0, _DQ, 0.0], m)
        a3 = np.repeat(az, 3) + np.tile([0.0, 0.0, _DA], m)
        pos3, t3 = _impacts(rounds3, olat[idx3], olon[idx3], oalt[idx3], aalt[idx3], speed[idx3], q3, a3)
        enu = earth.ecef_to_enu(np.where(np.isfinite(pos3), pos3, 0.0), alat[idx3], alon[idx3], aalt[idx3])
        enu = enu.reshape(m, 3, 3)[:, :, :2]
        base = enu[:, 0]
        ok = np.isfinite(pos3).all(axis=1).reshape(m, 3).all(axis=1)
        miss = np.where(ok, np.hypot(base[:, 0], base[:, 1]), np.inf)
        tof = t3.reshape(m, 3)[:, 0]
        jac = np.stack([(enu[:, 1] - base) / _DQ, (enu[:, 2] - base) / _DA], axis=-1)  # (m, 2, 2)
        along = np.stack([np.sin(bearing), np.cos(bearing)], -1)
        slope = np.einsum("mi,mi->m", jac[:, :, 0], along)
        if np.all(miss < 0.1 * TOLERANCE_M):
            break
        det = np.linalg.det(jac)
        good = ok & (np.abs(det) > 1e-6)
        step = np.zeros((m, 2))
        step[good] = np.linalg.solve(jac[good], -base[good][..., None])[..., 0]
        el = np.clip(el + step[:, 0], lo_q, hi_q)
        az = az + np.clip(step[:, 1], -0.05, 0.05)
    for i in range(m):
        if not miss[i] <= TOLERANCE_M:
            raise LayingError(i, f"no elevation puts the {rounds[i].id} on the aim point (the nearest lands "
                                 f"{miss[i]:,.0f} m from it)")
    return Laying(elevation=el, azimuth=np.mod(az, 2.0 * np.pi), speed=speed, range=dist, time_of_flight=tof,
                  range_slope=slope, miss=miss, max_range=max_range, max_elevation=max_el)
