"""A weapon-locating radar: the search fence a round crosses, then noisy track reports on its rising arc.

Frames and units: the radar's site is geodetic (lat, lon [rad], alt [m]); reports are in its own
frame: slant range [m], azimuth clockwise from true north [rad] and elevation above the site's
horizontal (the ellipsoid's tangent plane) [rad], as :func:`shieldlab.earth.ecef_to_aer` measures
them (no refraction: at these ranges and elevations the bending is a fraction of a milliradian,
below the noise, and it is left out).

The model (docs/counter-battery.md):

1. *Fence.*  The radar searches a thin beam at ``fence`` elevation across its azimuth sector (the
   catalogue's ``sector_deg`` centred on where it faces).  A round is seen when its elevation from
   the radar first rises through the fence, inside the sector, between the catalogue's least range
   and its greatest range for the round's class (mortar, artillery, rocket), with probability
   ``pd`` (one uniform draw per round).
2. *Track.*  From ``verify_s`` after the crossing, the radar reports the round every ``update_s``
   for ``track_s``: the truth interpolated at the report's time (cubic Hermite on the flight's
   steps), plus independent normal noise of the catalogue's sigmas in range, azimuth and elevation.
   A report exists while the round is still flying, inside the sector, below the radar's highest
   elevation and within its range for the class.
3. *Classification.*  The radar tells the round's type (the estimator's drag and mass come from
   it): perfect here, an assumption.

Each round is tracked as if it were alone: the radar's capacity (rounds tracked at once) and its
scheduling are not modelled; nor are clutter, terrain masking beyond the fence, or multipath.
The truth reaches the estimator only through these reports (:class:`Reports` carries no truth).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from shieldlab import earth
from shieldlab.artillery.fire import Volley
from shieldlab.artillery.motion import hermite
from shieldlab.catalog.artillery import LocatingRadar

__all__ = ["Locator", "Reports", "observe", "truth_at"]


@dataclass(frozen=True)
class Locator:
    """A weapon-locating radar placed in a scenario, SI.

    ``spec``: the catalogue :class:`~shieldlab.catalog.artillery.LocatingRadar`; ``lat``, ``lon``
    [rad], ``alt`` [m]: the antenna; ``facing`` [rad] the centre of its sector, clockwise from
    north; ``fence`` [rad] the search fence's elevation; ``ground_alt`` [m above the ellipsoid] the
    height the estimator takes for the weapons' ground (no terrain model).
    """

    name: str
    spec: LocatingRadar
    lat: float
    lon: float
    alt: float
    facing: float = 0.0
    fence: float = 0.0
    ground_alt: float = 0.0

    @property
    def sigmas(self) -> np.ndarray:
        """(3,) one-sigma noise of a report: range [m], azimuth [rad], elevation [rad]."""
        s = self.spec
        return np.array([s.sigma_range_m, s.sigma_azimuth_mrad / 1e3, s.sigma_elevation_mrad / 1e3])

    @property
    def reports_per_track(self) -> int:
        s = self.spec
        return int(math.floor(s.track_s / s.update_s + 1e-9)) + 1

    def max_range(self, rounds) -> np.ndarray:
        """(N,) greatest range [m] against each of ``rounds`` (catalogue entries), by its class."""
        return np.array([1e3 * self.spec.range_km(r.locating_class) for r in rounds])

    def in_sector(self, az) -> np.ndarray:
        """Whether each azimuth ``az`` [rad] lies in the radar's sector."""
        half = math.radians(self.spec.sector_deg) / 2.0
        if half >= math.pi:
            return np.ones(np.shape(az), bool)
        d = np.mod(np.asarray(az, float) - self.facing + math.pi, 2.0 * math.pi) - math.pi
        return np.abs(d) <= half


@dataclass(frozen=True)
class Reports:
    """One radar's reports on ``N`` rounds, up to ``K`` each: what the estimator may read.

    ``radar``: its name; ``site``: (lat, lon [rad], alt [m]); ``sigmas`` (3,): range [m], azimuth,
    elevation [rad]; ``ground_alt`` [m]: the ground height the estimator assumes.  ``detected`` (N,):
    the round crossed the fence and was tracked; ``fence_time`` (N,) [s] that crossing (nan where
    not); ``t`` (N, K) [s] the report times, ``z`` (N, K, 3) the reports (range [m], azimuth [rad],
    elevation [rad]), ``valid`` (N, K) which exist; ``classified`` (N,): the catalogue round the radar
    says each is.
    """

    radar: str
    site: tuple[float, float, float]
    sigmas: np.ndarray
    ground_alt: float
    detected: np.ndarray
    fence_time: np.ndarray
    t: np.ndarray
    z: np.ndarray
    valid: np.ndarray
    classified: list

    @property
    def n(self) -> int:
        return int(self.detected.size)

    def rows(self, idx) -> Reports:
        idx = np.asarray(idx)
        return Reports(radar=self.radar, site=self.site, sigmas=self.sigmas, ground_alt=self.ground_alt,
                       detected=self.detected[idx], fence_time=self.fence_time[idx], t=self.t[idx], z=self.z[idx],
                       valid=self.valid[idx], classified=[self.classified[i] for i in np.atleast_1d(idx)])


def truth_at(volley: Volley, t: np.ndarray) -> np.ndarray:
    """True ECEF position (N, K, 3) [m] of each round at times ``t`` (N, K) [s] (nan outside its
    flight or where ``t`` is nan): cubic Hermite between the flight's steps."""
    p = volley.path
    assert p.pos is not None and p.vel is not None
    n, s = p.pos.shape[:2]
    x = (t - p.t0[:, None]) / p.h[:, None]
    ok = np.isfinite(x) & (x >= 0.0) & (x <= s - 1)
    k = np.clip(np.floor(np.where(ok, x, 0.0)).astype(np.int64), 0, max(s - 2, 0))
    frac = np.where(ok, x, 0.0) - k
    rows = np.arange(n)[:, None]
    k1 = np.minimum(k + 1, s - 1)
    pos, _ = hermite(p.pos[rows, k], p.vel[rows, k], p.pos[rows, k1], p.vel[rows, k1], p.h[:, None], frac)
    flying = ok & (t <= volley.impact_time[:, None])
    return np.where(flying[..., None], pos, np.nan)


def _upward(loc: Locator, end_step: np.ndarray, el: np.ndarray) -> np.ndarray:
    """(R, S-1) whether each round's path rises through ``loc``'s fence between samples k and
    k+1 while it flies (``el`` (R, S) its elevation from the radar at the samples [rad],
    ``end_step`` (R,) its last sample in flight)."""
    flying = np.arange(el.shape[1])[None, :] < end_step[:, None]
    return (el[:, :-1] < loc.fence) & (el[:, 1:] >= loc.fence) & flying[:, 1:]


def rises_through_fence(loc: Locator, volley: Volley, rows: np.ndarray) -> np.ndarray:
    """(R,) whether each round ``rows`` of ``volley`` rises through radar ``loc``'s search fence
    at all (the geometry alone, seen or not; for the log of why a round went unseen: one fired
    from a weapon above the fence, or flying under it, never does)."""
    p = volley.path
    assert p.pos is not None
    el = earth.ecef_to_aer(p.pos[rows], loc.lat, loc.lon, loc.alt)[1]
    return np.asarray(_upward(loc, p.end_step[rows], el).any(axis=1), bool)


def observe(loc: Locator, volley: Volley, rngs: list[np.random.Generator], groups: list[np.ndarray]) -> Reports:
    """The reports of radar ``loc`` on the rounds of ``volley``.  ``groups``: the row indices of
    each block of rounds drawn from one generator (a mission's rounds in one run), ``rngs`` those
    generators: each draws a uniform number per round (detection), then standard normals for the
    (range, azimuth, elevation) noise of every report a round could have, whether or not it is
    seen, so that no round's draws depend on another's fate."""
    p = volley.path
    assert p.pos is not None
    n, s = p.pos.shape[:2]
    kk = loc.reports_per_track
    spec = loc.spec
    u = np.empty(n)
    noise = np.empty((n, kk, 3))
    for g, rows in zip(rngs, groups, strict=True):
        u[rows] = g.random(rows.size)
        noise[rows] = g.standard_normal((rows.size, kk, 3))
    az, el, rg = earth.ecef_to_aer(p.pos, loc.lat, loc.lon, loc.alt)
    up = _upward(loc, p.end_step, el)
    has = up.any(axis=1)
    k = np.argmax(up, axis=1)
    rows = np.arange(n)
    e0, e1 = el[rows, k], el[rows, np.minimum(k + 1, s - 1)]
    frac = np.where(has, (loc.fence - e0) / np.where(e1 > e0, e1 - e0, 1.0), 0.0)
    t_cross = p.t0 + (k + frac) * p.h
    a_c = az[rows, k] + frac * (np.mod(az[rows, np.minimum(k + 1, s - 1)] - az[rows, k] + math.pi, 2 * math.pi)
                                - math.pi)
    r_c = rg[rows, k] + frac * (rg[rows, np.minimum(k + 1, s - 1)] - rg[rows, k])
    reach = loc.max_range(volley.rounds)
    min_r = 1e3 * spec.min_range_km
    detected = has & loc.in_sector(a_c) & (r_c <= reach) & (r_c >= min_r) & (u < spec.pd)
    fence_time = np.where(detected, t_cross, np.nan)
    t = fence_time[:, None] + spec.verify_s + spec.update_s * np.arange(kk)[None, :]
    truth = truth_at(volley, t)
    ta, te, tr = earth.ecef_to_aer(np.where(np.isfinite(truth), truth, 0.0), loc.lat, loc.lon, loc.alt)
    valid = (detected[:, None] & np.isfinite(truth[..., 0]) & loc.in_sector(ta) & (te >= 0.0)
             & (te <= math.radians(spec.max_elevation_deg)) & (tr <= reach[:, None]) & (tr >= min_r))
    sig = loc.sigmas
    z = np.stack([tr + sig[0] * noise[..., 0], np.mod(ta + sig[1] * noise[..., 1], 2 * math.pi),
                  te + sig[2] * noise[..., 2]], axis=-1)
    z = np.where(valid[..., None], z, np.nan)
    return Reports(radar=loc.name, site=(loc.lat, loc.lon, loc.alt), sigmas=sig, ground_alt=loc.ground_alt,
                   detected=detected, fence_time=fence_time, t=np.where(valid, t, np.nan), z=z, valid=valid,
                   classified=list(volley.rounds))
