"""Score a chunk of runs: intercepted (by which battery, when, where) or leaked
(impact point, defended asset hit or not).  All arrays (C, N): run, threat."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shieldlab import earth
from shieldlab.engage.records import Engagements
from shieldlab.flyout.records import Trajectories


@dataclass(frozen=True)
class Outcomes:
    intercepted: np.ndarray  # bool
    battery: np.ndarray  # int: index of the battery that killed it, -1 if none
    intercept_time: np.ndarray  # s from epoch, nan if not intercepted
    intercept_pos: np.ndarray  # (C,N,3) ECEF m: where it was destroyed (its true place then), nan if not intercepted
    engagements: np.ndarray  # int: salvos fired at it
    interceptors: np.ndarray  # int: interceptors fired at it (its warhead or its spent booster)
    leaked: np.ndarray  # bool: landed (not intercepted)
    impact_time: np.ndarray  # s, nan unless leaked
    impact_pos: np.ndarray  # (C,N,3) ECEF m, nan unless leaked
    asset_hit: np.ndarray  # int: index of the defended asset it landed on, -1 if none or not leaked
    interceptors_at_booster: np.ndarray  # int: of ``interceptors``, those fired at its spent booster


def score(world, truth: Trajectories, eng: Engagements) -> Outcomes:
    C, N = truth.batch_shape
    intercepted = np.zeros((C, N), bool)
    battery = np.full((C, N), -1)
    t_int = np.full((C, N), np.nan)
    p_int = np.full((C, N, 3), np.nan)
    n_eng = np.zeros((C, N), int)
    n_int = np.zeros((C, N), int)
    # rounds spent count against the threat whose complex they went at: its warhead, or its
    # spent booster where a track of reports without labels held that (none for a false track)
    owner = eng.owner(N)
    spent = owner >= 0
    np.add.at(n_eng, (eng.run[spent], owner[spent]), 1)
    np.add.at(n_int, (eng.run[spent], owner[spent]), eng.rounds[spent])
    n_bst = np.zeros((C, N), int)
    at_booster = spent & (eng.threat < 0)  # a track of its booster held the salvo's aim
    np.add.at(n_bst, (eng.run[at_booster], owner[at_booster]), eng.rounds[at_booster])
    # the first salvo to kill a threat is credited (assignment in decreasing time: the earliest wins)
    k = np.flatnonzero(eng.killed & (eng.threat >= 0))
    k = k[np.argsort(-eng.intercept_time[k], kind="stable")]
    intercepted[eng.run[k], eng.threat[k]] = True
    battery[eng.run[k], eng.threat[k]] = eng.battery[k]
    t_int[eng.run[k], eng.threat[k]] = eng.intercept_time[k]
    p_int[eng.run[k], eng.threat[k]] = eng.end_pos()[k]  # where the threat was destroyed
    landed = np.broadcast_to(np.isfinite(truth.impact_time), (C, N))
    leaked = ~intercepted & landed
    impact_t = np.where(leaked, np.broadcast_to(truth.impact_time, (C, N)), np.nan)
    impact_p = np.where(leaked[..., None], np.broadcast_to(truth.impact_pos, (C, N, 3)), np.nan)
    hit = np.full((C, N), -1)
    if world.assets:
        lat, lon, _ = earth.ecef_to_geodetic(np.where(np.isfinite(impact_p), impact_p, earth.WGS84_A))
        a_lat = np.array([a.site.lat for a in world.assets])
        a_lon = np.array([a.site.lon for a in world.assets])
        a_r = np.array([a.radius for a in world.assets])
        d = earth.great_circle_distance(lat[..., None], lon[..., None], a_lat, a_lon)  # (C,N,A)
        inside = (d <= a_r) & leaked[..., None]
        hit = np.where(inside.any(-1), np.argmin(np.where(inside, d, np.inf), axis=-1), -1)
    return Outcomes(intercepted, battery, t_int, p_int, n_eng, n_int, leaked, impact_t, impact_p, hit, n_bst)
