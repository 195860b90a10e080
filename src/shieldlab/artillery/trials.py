"""Controlled trials of a weapon-locating radar: one weapon firing toward the radar from a chosen
distance, its rounds located, the errors measured against the truth.

The geometry (docs/counter-battery.md, "Accuracy against range"): the radar at 36.78 N, 38.95 E,
390 m above the ellipsoid on flat ground at that height, facing south; the weapon ``distance``
due south of it; it fires north, toward the radar, at a point ``aim_fraction`` of its greatest
catalogue range away (mortars on the high-angle branch, guns and rockets on the low) -- or
``distance`` less 1 km if that is shorter.  Its rounds have the catalogue's dispersions.  Used by
``bench/locating_accuracy.py`` (the table of location error against range) and the validation
tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from shieldlab import earth
from shieldlab.artillery import ellipse as ell
from shieldlab.artillery.fire import FireMission, fire
from shieldlab.artillery.laying import lay
from shieldlab.artillery.locating import Locator, observe
from shieldlab.artillery.origin import locate

__all__ = ["Trial", "trial", "SITE"]

#: The radar's site in the trials: (lat, lon [deg], alt [m]).
SITE = (36.78, 38.95, 390.0)


@dataclass(frozen=True)
class Trial:
    """What one trial measured; arrays over the rounds fired (N,).

    ``distance`` [m] radar to weapon; ``located`` (N,); ``error`` [m] the located rounds' horizontal
    miss of the origin (nan elsewhere), ``error_en`` (N, 2) its east and north [m]; ``nees`` (N,)
    against the estimator's own covariance; ``cov`` (N, 2, 2) [m²]; ``elevation`` [rad] the laying.
    """

    distance: float
    located: np.ndarray
    error: np.ndarray
    error_en: np.ndarray
    nees: np.ndarray
    cov: np.ndarray
    elevation: float

    @property
    def cep(self) -> float:
        """Median radial error of the located rounds [m] (the empirical CEP)."""
        e = self.error[self.located]
        return float(np.median(e)) if e.size else math.nan


def trial(rnd, spec, distance: float, n: int = 200, seed: int = 1, *, aim_fraction: float = 0.7,
          fence_deg: float | None = None, ground_error: float = 0.0) -> Trial:
    """Fire ``n`` rounds of catalogue round ``rnd`` from ``distance`` [m] south of a radar of catalogue
    type ``spec`` (see the module) and locate them.  ``fence_deg``: the fence's elevation (None: the
    catalogue's); ``ground_error`` [m]: the radar's assumed ground height less the true one."""
    lat0, lon0, alt = math.radians(SITE[0]), math.radians(SITE[1]), SITE[2]
    wlat, wlon = earth.destination(lat0, lon0, math.pi, distance)
    shot = min(aim_fraction * 1e3 * rnd.max_range_km, distance - 1000.0)
    alat, alon = earth.destination(wlat, wlon, 0.0, shot)
    origin = (float(wlat), float(wlon), alt)
    aim = (float(alat), float(alon), alt)
    m = FireMission(name="trial", round=rnd, origin=origin, aim=aim, rounds_per_burst=n, bursts=1,
                    round_interval=1.0, speed=rnd.muzzle_velocity_ms, range_sigma=rnd.range_sigma_pct / 100 * shot,
                    deflection_sigma=rnd.deflection_sigma_mrad / 1e3 * shot,
                    muzzle_velocity_sigma=rnd.muzzle_velocity_sigma_ms, angle=rnd.angle)
    laying = lay([rnd], tuple(np.array([x]) for x in origin), tuple(np.array([x]) for x in aim))
    ss = np.random.SeedSequence(seed)
    g_fire, g_radar = (np.random.default_rng(c) for c in ss.spawn(2))
    volley = fire([m], laying, [(0, 0, g_fire)])
    fence = spec.fence_elevation_deg if fence_deg is None else fence_deg
    loc = Locator(name=spec.id, spec=spec, lat=lat0, lon=lon0, alt=alt + 5.0, facing=math.pi,
                  fence=math.radians(fence), ground_alt=alt + ground_error)
    rep = observe(loc, volley, [g_radar], [np.arange(volley.n)])
    o = locate(rep)
    ok = o.located
    err_en = np.full((volley.n, 2), np.nan)
    nees = np.full(volley.n, np.nan)
    if ok.any():
        men = earth.enu_matrix(o.lat[ok], o.lon[ok])[:, :2, :]
        err_en[ok] = np.einsum("nij,nj->ni", men, o.pos[ok] - volley.origin[ok])
        nees[ok] = ell.nees(err_en[ok], o.cov[ok])
    return Trial(distance=float(distance), located=ok, error=np.hypot(err_en[:, 0], err_en[:, 1]), error_en=err_en,
                 nees=nees, cov=o.cov, elevation=float(laying.elevation[0]))
