"""Refraction in the standard exponential atmosphere (shieldlab.sensors.atmosphere) and the
field-of-regard test that reads it (shieldlab.sensors.visibility).

Oracles: an independent integration of the ray equations (solve_ivp in polar
coordinates) for Bouguer's quadrature; the surface gradient's effective-Earth factor
1 / (1 + a dn/dh); the ray-traced horizon and apparent elevation for the compiled test."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from shieldlab import earth
from shieldlab.sensors import atmosphere as A
from shieldlab.sensors import radar as R


def _ray_ode(h0, h1, el0, radius):
    """Ground angle from height h0 at elevation el0 up to height h1, by integrating the ray
    (dr/ds = sin e, dphi/ds = cos e / r, de/ds = cos e (1/r + n'/n)) to r = radius + h1."""
    def n(r):
        return 1 + 1e-6 * A.N0 * math.exp(-(r - radius) / A.H0_M)

    def f(s, y):
        r, phi, e = y
        dn = -1e-6 * A.N0 / A.H0_M * math.exp(-(r - radius) / A.H0_M)
        return [math.sin(e), math.cos(e) / r, math.cos(e) * (1 / r + dn / n(r))]

    hit = lambda s, y: y[0] - (radius + h1)  # noqa: E731
    hit.terminal = True
    sol = solve_ivp(f, (0, 2e7), [radius + h0, 0.0, el0], events=hit, rtol=1e-11, atol=1e-9, max_step=2e3)
    return sol.y_events[0][0][1]


@pytest.mark.parametrize("h0, h1, el_deg", [(0.0, 10e3, 0.5), (2085.0, 100e3, 1.0), (0.0, 300e3, 3.0),
                                            (500.0, 1000e3, 10.0)])
def test_bouguer_quadrature_matches_the_ray_equations(h0, h1, el_deg):
    got = A.ground_angle(h0, h1, math.radians(el_deg), A.R_TRACE)
    want = _ray_ode(h0, h1, math.radians(el_deg), A.R_TRACE)
    assert got == pytest.approx(want, rel=1e-6)


def _quadpack_integrand(h0, el0, radius):
    """Bouguer's integrand in u = sqrt(r - r0), with n r - c = (n - n0) r + n0 (r - r0) +
    n0 r0 (1 - cos el0), each part computed without cancellation."""
    r0 = radius + h0
    n0 = 1 + 1e-6 * A.N0 * math.exp(-h0 / A.H0_M)
    c = n0 * r0 * math.cos(el0)

    def f(u):
        r = r0 + u * u
        n = 1 + 1e-6 * A.N0 * math.exp(-(r - radius) / A.H0_M)
        dn = 1e-6 * A.N0 * math.exp(-h0 / A.H0_M) * math.expm1(-u * u / A.H0_M)
        return 2 * u * c / (r * math.sqrt((dn * r + n0 * u * u + 2 * n0 * r0 * math.sin(el0 / 2) ** 2) * (n * r + c)))
    return f


def _quadpack(h0, h1, el0, radius):
    """Bouguer's integral by QUADPACK (scipy.integrate.quad) on panels [U 2^-(k+1), U 2^-k]
    of [0, U]: left to choose its own points over the whole [0, U], quad reports an error
    of 1e-11 where it is 7e-6 wrong (a ray leaving at 1 µrad)."""
    from scipy.integrate import quad
    f = _quadpack_integrand(h0, el0, radius)
    top = math.sqrt(h1 - h0)
    edges = [0.0] + [top * 2.0 ** -k for k in range(40, -1, -1)]
    return sum(quad(f, a, b, epsabs=0.0, epsrel=1e-12, limit=200)[0] for a, b in zip(edges[:-1], edges[1:]))


@pytest.mark.parametrize("h0", [0.0, 2085.0, 20e3])
@pytest.mark.parametrize("dh", [10.0, 1e3, 100e3, 5e6])
@pytest.mark.parametrize("el0", [1e-6, 1e-3, 0.05, 1.2])
def test_the_composite_gauss_legendre_rule_equals_quadpack(h0, dh, el0):
    """The hand-written quadrature (16 points on each halving panel) against QUADPACK, panel
    by panel, on the same integrand: equal to 1e-12 relative (4e-16 seen)."""
    assert A.ground_angle(h0, h0 + dh, el0) == pytest.approx(_quadpack(h0, h0 + dh, el0, A.R_TRACE), rel=1e-12)


def test_a_ray_leaving_a_microradian_up_is_not_missed():
    """The feature of a nearly grazing ray lies at u ~ 2e-3 of [0, 316]: the 16-point panels
    resolve it, where quad over the whole [0, 316] is 7e-6 (9 m) off and reports 1e-11."""
    from scipy.integrate import quad
    want = _quadpack(0.0, 1e5, 1e-6, A.R_TRACE)
    assert A.ground_angle(0.0, 1e5, 1e-6) == pytest.approx(want, rel=1e-12)
    whole = quad(_quadpack_integrand(0.0, 1e-6, A.R_TRACE), 0.0, math.sqrt(1e5), epsabs=1e-13,
                 epsrel=1e-10, limit=200)[0]
    assert abs(whole / want - 1) > 1e-6
    assert A.ground_angle(0.0, 1e5, 1e-6) < A.ground_angle(0.0, 1e5, 0.0)


def test_a_root_not_bracketed_is_refused():
    """The bisection refuses ends that do not bracket a root rather than return an end."""
    with pytest.raises(ValueError, match="no root"):
        A._bisect(lambda k: k - 3.0, 0.9, 2.0, 1e-12)
    assert A._bisect(lambda k: k - 1.25, 0.9, 2.0, 1e-12) == pytest.approx(1.25, abs=1e-12)


def test_near_the_ground_the_effective_earth_is_the_surface_gradients():
    """A grazing ray to a low target bends as the surface gradient says: k = 1/(1 + a dn/dh)
    = 1.376 (dN/dh = -43 N/km; the classic 4/3 belongs to -40 N/km); far above the air the
    ray runs straight and k falls towards 1."""
    k0 = 1 / (1 - A.R_TRACE * 1e-6 * A.N0 / A.H0_M)
    assert A.effective_k(0.0, 0.0) == pytest.approx(k0)
    assert A.effective_k(0.0, 50.0) == pytest.approx(k0, rel=2e-3)
    ks = [A.effective_k(0.0, h) for h in (1e3, 10e3, 100e3, 1000e3)]
    assert ks[0] > ks[1] > ks[2] > ks[3] > 1.0 and ks[2] < 1.2 and ks[3] < 1.06


def _radar(h_site, el_min_deg=-90.0, mask=-math.pi / 2):
    spec = SimpleNamespace(az_fov_deg=360.0, el_min_deg=el_min_deg, el_max_deg=90.0)
    return R.Radar("r", spec, 0.0, 0.0, h_site, 0.0, mask, refraction_k=None)


@pytest.mark.parametrize("h_site, h_target", [(0.0, 10e3), (0.0, 100e3), (2085.0, 100e3), (30.0, 1000e3),
                                              (0.0, 37e3)])
def test_the_standard_horizon_is_the_ray_traced_one(h_site, h_target):
    """Along the equator (a circle of radius a): the farthest a radar sees a target is the
    grazing ray's reach, traced both ways from its tangent point, to 0.2 %; between the
    geometric horizon and the 4/3 Earth's."""
    a = earth.WGS84_A
    radar = _radar(h_site)
    lo, hi = 0.0, 1.0
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        p = (a + h_target) * np.array([np.cos(mid), np.sin(mid), 0.0])
        lo, hi = (mid, hi) if R.visible(radar, p) else (lo, mid)
    want = A.ray_horizon_m(h_site, h_target, a)
    assert a * lo == pytest.approx(want, rel=2e-3)
    geometric = a * (math.acos(a / (a + h_site)) + math.acos(a / (a + h_target)))
    ka = 4 / 3 * a
    four_thirds = ka * (math.acos(ka / (ka + h_site)) + math.acos(ka / (ka + h_target)))
    assert geometric < a * lo < four_thirds


@pytest.mark.parametrize("h_site", [0.0, 2085.0])
@pytest.mark.parametrize("el_deg", [0.5, 1.0, 2.0, 5.0])
@pytest.mark.parametrize("h_target", [15e3, 80e3, 300e3])
def test_the_elevation_floor_is_met_where_the_ray_trace_says(h_site, el_deg, h_target):
    """A target placed where the ray leaving the site at apparent elevation e reaches its
    height is seen with an elevation floor just below e and not just above it (0.02 deg)."""
    a = earth.WGS84_A
    phi = A.ground_angle(h_site, h_target, math.radians(el_deg), a)
    p = (a + h_target) * np.array([np.cos(phi), np.sin(phi), 0.0])
    assert R.visible(_radar(h_site, el_deg - 0.02, 0.0), p)
    assert not R.visible(_radar(h_site, el_deg + 0.02, 0.0), p)


@pytest.mark.parametrize("h_site, h_target", [(9150.0, 10e3), (9150.0, 9200.0), (2085.0, 2200.0),
                                              (100e3, 100.5e3), (30.0, 130.0)])
def test_a_target_just_above_an_elevated_radar_is_seen_where_the_ray_trace_says(h_site, h_target):
    """A 0-degree floor, the target a little above the radar: the farthest it is seen is where
    the horizontal ray reaches the target's height, between the straight line's and the 4/3
    Earth's (the surface gradient's k = 1.37 near the ground, where it bends rays more).  The
    tables' nodes were heights above the ground, those below the site holding its values: the
    site's zero reach sat at the node below it, and a target 50 m above a radar at 9,150 m was
    seen out to 35 km (4/3 Earth: 29 km); one at 100.5 km above a radar at 100 km far past the
    straight line."""
    a = earth.WGS84_A
    radar = _radar(h_site, 0.0, 0.0)
    lo, hi = 0.0, 0.2
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        p = (a + h_target) * np.array([np.cos(mid), np.sin(mid), 0.0])
        lo, hi = (mid, hi) if R.visible(radar, p) else (lo, mid)
    want = a * A.ray_angle(h_site, h_target, 0.0, a)
    assert a * lo == pytest.approx(want, rel=0.02)
    geometric = a * math.acos((a + h_site) / (a + h_target))
    ka = A.effective_k(0.0, 0.0, a) * a  # the surface gradient's: the most any layer bends
    bent = ka * math.acos((ka + h_site) / (ka + h_target))
    assert geometric * 0.999 < a * lo < bent * 1.001
