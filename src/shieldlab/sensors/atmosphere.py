"""Radio refraction in a standard exponential atmosphere, reduced to an effective Earth per height.

The air's refractivity falls off with height, ``N(h) = N0 exp(-h / h0)`` N-units
(``n = 1 + 1e-6 N``), with the ITU-R P.453 mean global reference atmosphere's
``N0 = 315`` and ``h0 = 7.35 km``.  A ray in a spherically stratified medium keeps Bouguer's
invariant ``n(r) r cos(el) = c`` (Born & Wolf, *Principles of Optics*, §3.2; Bean & Dutton,
*Radio Meteorology*, 1966, ch. 3), so the ground angle it covers between two radii is

    φ = ∫ c dr / (r sqrt(n(r)² r² - c²)).

Near the surface the bending is that of the classic 4/3 Earth (the gradient
``dN/dh = -N0 / h0 = -43`` N/km gives ``k = 1 / (1 + a dn/dh) = 1.37``), but above a
few scale heights the ray runs straight: the 4/3 model, applied along the whole ray,
would put a radar's horizon against a target at 100 km 175 km past the geometric one
where the ray trace puts it 66 km past.

What the compiled visibility test reads (:func:`reach_table`, per radar): at each target
height :data:`HEIGHTS_M` above the site, the ground distance of the ray leaving the site at its
elevation floor (no farther than the grazing ray's: the radio horizon) and of the one at
its ceiling.
A ray aimed below the horizontal passes its lowest point first (:func:`ray_angle`).  Where
one number is wanted (the coverage map's grid extent, the aircraft horizon of the
footprint), :func:`effective_k` is the factor whose effective-Earth geometry (heights
kept, central angles divided by ``k``) gives the ray-traced horizon between two heights.
Tests: tests/test_atmosphere.py (the quadrature against an integration of the ray
equations, the surface gradient's factor, the compiled test's horizon and elevation floor
against the ray trace).
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["N0", "H0_M", "HEIGHTS_M", "ground_angle", "ray_angle", "ray_horizon_m", "effective_k", "reach_table"]

#: Surface refractivity [N-units] and its scale height [m]: ITU-R P.453, mean global
#: reference atmosphere.
N0 = 315.0
H0_M = 7350.0
#: Mean Earth radius [m] the ray trace uses.
R_TRACE = 6_371_008.8
#: Target heights [m] above the site of the reach tables: the site's own, then 100 m to
#: 5,000 km above it (nodes above the site: a table of heights above the ground put the
#: site's zero reach at the node below it, and a target just above an elevated radar was
#: seen farther than on a 4/3 Earth).
HEIGHTS_M = np.concatenate([[0.0], np.geomspace(100.0, 5e6, 47)])


def _n(h: float) -> float:
    return 1.0 + 1e-6 * N0 * math.exp(-max(h, 0.0) / H0_M)


def _composite_gauss_legendre(points: int = 16, panels: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights on [0, 1]: ``points``-point Gauss-Legendre on each of the panels
    [2^-(k+1), 2^-k], k < ``panels``, and on [0, 2^-panels].

    Why by hand: :func:`scipy.integrate.quad` did this job, and importing
    :mod:`scipy.integrate` adds ~31 MB to every process that makes a reach table, near a
    tenth of a long run's memory.  Halving panels follow the integrand's one feature of
    small scale, the turn of a ray that leaves at a small elevation (the integrand changes
    over ``u ~ sqrt(r0 (1 - cos el0))``), whatever that scale; on a panel [a, 2a] the
    integrand's nearest singularity lies a or more from it, so 16 points reach float64
    precision (tests/test_atmosphere.py holds it equal to ``quad`` run panel by panel to
    1e-12; ``quad`` left to split [0, 1] itself misses the turn of a ray leaving at 1 µrad).
    """
    x, w = np.polynomial.legendre.leggauss(points)
    lo = np.concatenate([[0.0], 2.0 ** -np.arange(panels, 0, -1)])
    hi = 2.0 ** -np.arange(panels, -1, -1)
    half = 0.5 * (hi - lo)
    nodes = (0.5 * (hi + lo))[:, None] + half[:, None] * x[None, :]
    return nodes.ravel(), (half[:, None] * w[None, :]).ravel()


_GL_NODES, _GL_WEIGHTS = _composite_gauss_legendre()


def _bisect(g, lo: float, hi: float, xtol: float) -> float:
    """The root of ``g`` in [lo, hi] (``g(lo) <= 0 <= g(hi)``, ``g`` increasing) to ``xtol``:
    plain bisection (the two roots wanted here are of monotone functions, cheap to call).
    ValueError where the ends do not bracket a root, as ``scipy.optimize.brentq`` says."""
    if g(lo) > 0.0 or g(hi) < 0.0:
        raise ValueError(f"no root in [{lo}, {hi}]")
    while hi - lo > xtol:
        mid = 0.5 * (lo + hi)
        if g(mid) > 0.0:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def ground_angle(h0_m: float, h1_m: float, el0: float, radius_m: float = R_TRACE) -> float:
    """Ground angle [rad] a ray covers from height ``h0_m`` where its elevation is ``el0``
    [rad, >= 0] up to height ``h1_m`` [m] (``h1_m >= h0_m``), by Bouguer's invariant."""
    r0 = radius_m + h0_m
    n0 = _n(h0_m)
    c = n0 * r0 * math.cos(el0)
    span = h1_m - h0_m
    if span <= 0.0:
        return 0.0
    scale = 1e-6 * N0 * math.exp(-max(h0_m, 0.0) / H0_M)
    lift = n0 * r0 * 2.0 * math.sin(0.5 * el0) ** 2  # n0 r0 (1 - cos el0), without cancellation

    # r = r0 + u²: the integrand stays finite at a grazing start (el0 = 0); n r - c is
    # summed from its small parts, not taken as the difference of two ~6e6 m numbers
    top = math.sqrt(span)
    u = top * _GL_NODES
    uu = u * u
    r = r0 + uu
    nr_minus_c = r * scale * np.expm1(-uu / H0_M) + n0 * uu + lift
    d = nr_minus_c * ((1.0 + 1e-6 * N0 * np.exp(-np.maximum(r - radius_m, 0.0) / H0_M)) * r + c)
    f = np.where(d > 0.0, 2.0 * u * c / (r * np.sqrt(np.where(d > 0.0, d, 1.0))), 0.0)
    return float(top * (_GL_WEIGHTS @ f))


def ray_horizon_m(h_site_m: float, h_target_m: float, radius_m: float = R_TRACE) -> float:
    """The farthest ground distance [m] over which a site at ``h_site_m`` sees a target at
    ``h_target_m``: the ray that grazes the surface, traced both ways from its tangent point."""
    return radius_m * (ground_angle(0.0, h_site_m, 0.0, radius_m) + ground_angle(0.0, h_target_m, 0.0, radius_m))


def _effective_horizon(k: float, h_site: float, h_target: float, radius_m: float) -> float:
    rk = k * radius_m
    return rk * (math.acos(rk / (rk + h_site)) + math.acos(rk / (rk + h_target)))


def effective_k(h_site_m: float, h_target_m: float, radius_m: float = R_TRACE) -> float:
    """The effective-Earth factor whose horizon between these heights is the ray-traced one."""
    if h_site_m + h_target_m <= 0.0:  # both on the surface: the surface gradient's factor
        return 1.0 / (1.0 - radius_m * 1e-6 * N0 / H0_M)
    d = ray_horizon_m(h_site_m, h_target_m, radius_m)
    # the horizon grows with k
    return _bisect(lambda k: _effective_horizon(k, h_site_m, h_target_m, radius_m) - d, 0.9, 2.0, 1e-12)


def _perigee(h0_m: float, el0: float, radius_m: float) -> float:
    """Height [m] of the lowest point of a ray leaving height ``h0_m`` at elevation ``el0`` < 0
    (where n r = n0 r0 cos el0); below 0 where it would meet the surface first."""
    c = _n(h0_m) * (radius_m + h0_m) * math.cos(el0)

    def g(h: float) -> float:
        return _n(h) * (radius_m + h) - c

    if g(0.0) > 0.0:  # the surface is above the ray's lowest point: it hits the ground
        return -1.0
    # n r grows with height (d(n r)/dh = n + r dn/dh ≈ 1 - 0.27 at the surface, nearer 1 above)
    return _bisect(g, 0.0, h0_m, 1e-6)


def ray_angle(h_site_m: float, h_target_m: float, el: float, radius_m: float = R_TRACE) -> float:
    """Ground angle [rad] from a site at ``h_site_m`` to where its ray of apparent elevation
    ``el`` [rad] reaches ``h_target_m`` (>= the site's height) on its way up: ``-inf`` if
    the ray meets the surface first.  A ray aimed down passes its lowest point first."""
    if el >= 0.0:
        return ground_angle(h_site_m, h_target_m, el, radius_m)
    hp = _perigee(h_site_m, el, radius_m)
    if hp < 0.0:
        return -math.inf
    return ground_angle(hp, h_site_m, 0.0, radius_m) + ground_angle(hp, h_target_m, 0.0, radius_m)


@functools.lru_cache(maxsize=256)
def _reach(h_site_dm: int, el_lo_urad: int, el_hi_urad: int) -> np.ndarray:
    h_site, el_lo, el_hi = 10.0 * h_site_dm, 1e-6 * el_lo_urad, 1e-6 * el_hi_urad
    out = np.empty((2, HEIGHTS_M.size))
    for i, d in enumerate(HEIGHTS_M):
        h = h_site + d
        horizon = ground_angle(0.0, h_site, 0.0) + ground_angle(0.0, h, 0.0)
        lo = ray_angle(h_site, h, el_lo) if el_lo > -math.pi / 2 else horizon
        out[0, i] = R_TRACE * min(horizon, lo if math.isfinite(lo) else horizon)
        out[1, i] = R_TRACE * (ray_angle(h_site, h, el_hi) if el_hi < math.pi / 2 else 0.0)
    out.setflags(write=False)
    return out


def reach_table(h_site_m: float, el_lo: float, el_hi: float) -> np.ndarray:
    """(2, len(HEIGHTS_M)) ground distances [m, on the mean sphere] from a site at
    ``h_site_m`` to a target at each height :data:`HEIGHTS_M` above it: the farthest seen
    above the elevation floor ``el_lo`` (no farther than the radio horizon) and the nearest
    seen below the ceiling ``el_hi`` [rad].  Rounded to 10 m of height and a microradian of
    angle, and cached."""
    return _reach(int(round(max(float(h_site_m), 0.0) / 10.0)), int(round(float(el_lo) * 1e6)),
                  int(round(float(el_hi) * 1e6)))
