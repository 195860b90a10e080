"""Can an interceptor, cued by a sensor, catch a given ballistic trajectory?

The threat is steered and flown by the full flyout (rotating WGS84 Earth, J2,
drag).  The interceptor is ready ``cue_delay + reaction_time`` seconds after the
threat's launch (the cue delay stands for detection, track and decision) and
flies the kinematic law of :mod:`shieldlab.engage.interceptor`.  A point of the
threat's path at time ``t`` can be intercepted if it lies inside the
interceptor's envelope (ground range and altitude) and ``s(t - t_ready) >=
|p(t) - site|``: the intercept window is the span of such times.  If there is
none, the burnout speed the interceptor would need is found by bisection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shieldlab import earth
from shieldlab.engage.solver import earliest_intercept, reach as reach_distance
from shieldlab.flyout import aim
from shieldlab.flyout.integrate import fly
from shieldlab.flyout.vehicle import vehicle_from_missiles

DT = 1.0  # s, sampling of the threat's path


@dataclass(frozen=True)
class Reach:
    feasible: bool
    t_ready: float  # s after the threat's launch
    earliest: dict | None  # time_s, lat_deg, lon_deg, alt_km, closing_speed_kms, ground_range_km
    latest: dict | None
    needed_burnout_speed_kms: float | None  # when not feasible: the least speed that would do
    threat: dict  # burnout, apogee, flight time, range


def _point(t, p, v_threat, site, v_int):
    lat, lon, alt = earth.ecef_to_geodetic(p)
    los = (p - site) / np.linalg.norm(p - site)
    closing = np.linalg.norm(v_threat - v_int * los)
    return {"time_s": round(float(t), 2), "lat_deg": round(float(np.degrees(lat)), 4),
            "lon_deg": round(float(np.degrees(lon)), 4), "alt_km": round(float(alt) / 1e3, 2),
            "closing_speed_kms": round(float(closing) / 1e3, 3)}


def _window(t, pos, env, site, speed, burn, t_ready):
    d = np.linalg.norm(pos - site, axis=-1)
    return env & (reach_distance(t - t_ready, speed, burn) >= d)


def analyse(interceptor, site_lat, site_lon, missile, launch_lat, launch_lon, aim_lat, aim_lon,
            cue_delay_s: float = 60.0, profile: str = "min-energy", burnout_speed=None) -> Reach:
    """All angles in radians; ``burnout_speed`` [m/s] overrides the catalogue's."""
    st = aim.solve([missile], launch_lat, launch_lon, 0.0, aim_lat, aim_lon, profile)
    T = int(6000 / DT)
    tr = fly(vehicle_from_missiles([missile]), earth.geodetic_to_ecef(launch_lat, launch_lon, 0.0)[None],
             np.zeros(1), st.kick, st.azimuth, st.cutoff, t0=0.0, dt=DT, T=T)
    n = int(min(T, np.ceil(tr.impact_time[0] / DT)))
    t, pos, vel = tr.t[:n], tr.pos[0, :n], tr.vel[0, :n]
    lat, lon, alt = earth.ecef_to_geodetic(pos)
    site = earth.geodetic_to_ecef(site_lat, site_lon, 0.0)
    ground = earth.great_circle_distance(site_lat, site_lon, lat, lon)
    sp = interceptor
    env = ((ground >= 1e3 * sp.min_range_km) & (ground <= 1e3 * sp.max_range_km)
           & (alt >= 1e3 * sp.min_intercept_alt_km) & (alt <= 1e3 * sp.max_intercept_alt_km))
    v = float(burnout_speed or 1e3 * sp.burnout_speed_kms)
    t_ready = cue_delay_s + sp.reaction_time_s
    ilat, ilon, _ = earth.ecef_to_geodetic(tr.impact_pos[0])
    threat = {"burnout_time_s": round(float(tr.burnout_time[0]), 2),
              "burnout_speed_kms": round(float(tr.burnout_speed[0]) / 1e3, 4),
              "apogee_km": round(float(tr.apogee_alt[0]) / 1e3, 1),
              "time_of_flight_s": round(float(tr.impact_time[0]), 1),
              "ground_range_km": round(float(earth.great_circle_distance(launch_lat, launch_lon, ilat, ilon)) / 1e3, 1)}
    ok = _window(t, pos, env, site, v, sp.burn_time_s, t_ready)
    if not ok.any():
        lo, hi = v, 20e3
        if not _window(t, pos, env, site, hi, sp.burn_time_s, t_ready).any():
            need = None  # the envelope itself never meets the trajectory
        else:
            for _ in range(40):
                mid = 0.5 * (lo + hi)
                lo, hi = (lo, mid) if _window(t, pos, env, site, mid, sp.burn_time_s, t_ready).any() else (mid, hi)
            need = round(hi / 1e3, 3)
        return Reach(False, t_ready, None, None, need, threat)
    found, ti, pi, _ = earliest_intercept(t, pos[None], vel[None], site, v, sp.burn_time_s, np.array([t_ready]),
                                          env[None])
    k_last = int(np.flatnonzero(ok)[-1])
    earliest = _point(ti[0], pi[0], np.array([np.interp(ti[0], t, vel[:, i]) for i in range(3)]), site, v)
    latest = _point(t[k_last], pos[k_last], vel[k_last], site, v)
    return Reach(True, t_ready, earliest, latest, None, threat)
