"""Tests of shieldlab.earth against outside references.

References:
- pymap3d 3.x (geodetic2ecef, ecef2geodetic, ecef2aer, aer2ecef, vincenty.vdist):
  an independent implementation (You 2000 for ecef->geodetic, Kleder's vectorised
  Vincenty for distances).
- NIMA TR8350.2, 3rd ed. (2000), WGS84: normal gravity gamma_e = 9.7803253359,
  gamma_p = 9.8321849378 m/s^2 (ch. 3, Somigliana eq. 4-1); b, e^2; meridian quadrant.
- U.S. Standard Atmosphere, 1976, NOAA-S/T 76-1562: Table 4 (layer bases),
  Table I (T, p, rho at geometric altitude), Table III (speed of sound).
"""

from __future__ import annotations

import numpy as np
import pymap3d as pm
import pytest
from pymap3d.vincenty import vdist

from shieldlab import earth as E

RNG = np.random.default_rng(20240613)


def _global_grid(n, alt_max):
    """Random geodetic points incl. both poles, the antimeridian and the altitude ends."""
    lat = np.arcsin(RNG.uniform(-1.0, 1.0, n))
    lon = RNG.uniform(-np.pi, np.pi, n)
    alt = RNG.uniform(-1000.0, alt_max, n)
    lat[:6] = [np.pi / 2, -np.pi / 2, np.pi / 2 - 1e-12, 0.0, 0.0, -np.pi / 2 + 1e-9]
    lon[6:10] = [np.pi, -np.pi, np.nextafter(np.pi, 0), 0.0]
    alt[:4] = [-1000.0, alt_max, 0.0, 0.0]
    return lat, lon, alt


# ----------------------------------------------------------------------------- geodesy
def test_geodetic_to_ecef_matches_pymap3d():
    lat, lon, alt = _global_grid(20000, 4.0e7)
    ours = E.geodetic_to_ecef(lat, lon, alt)
    ref = np.stack(pm.geodetic2ecef(lat, lon, alt, deg=False), axis=-1)
    assert np.max(np.abs(ours - ref)) < 1e-3


def test_ecef_to_geodetic_roundtrip_to_40000_km():
    """Inverse of the exact forward transform (pymap3d.geodetic2ecef): 1e-9 rad, 1 mm."""
    lat, lon, alt = _global_grid(50000, 4.0e7)
    r = np.stack(pm.geodetic2ecef(lat, lon, alt, deg=False), axis=-1)
    la, lo, h = E.ecef_to_geodetic(r)
    assert np.max(np.abs(la - lat)) < 1e-9
    # positional error of the latitude at the point's radius, < 1 mm
    assert np.max(np.abs(la - lat) * np.linalg.norm(r, axis=-1)) < 1e-3
    dlon = np.angle(np.exp(1j * (lo - lon)))
    assert np.max(np.abs(dlon[np.cos(lat) > 1e-6])) < 1e-9
    assert np.max(np.abs(h - alt)) < 1e-3


def test_ecef_to_geodetic_matches_pymap3d_where_pymap3d_is_exact():
    """pymap3d's ecef2geodetic (You 2000) is itself approximate at high altitude: its
    latitude drifts by ~9 mm at 1000 km and ~90 m at 40,000 km (its own round trip),
    so the two are compared to 1 mm up to 500 km; above, the round trip above rules."""
    lat, lon, alt = _global_grid(20000, 5.0e5)
    r = E.geodetic_to_ecef(lat, lon, alt)
    la, lo, h = E.ecef_to_geodetic(r)
    pla, plo, ph = pm.ecef2geodetic(r[..., 0], r[..., 1], r[..., 2], deg=False)
    assert np.max(np.abs(la - pla) * np.linalg.norm(r, axis=-1)) < 1e-3
    assert np.max(np.abs(h - ph)) < 1e-3
    ok = np.cos(lat) > 1e-6
    assert np.max(np.abs(np.angle(np.exp(1j * (lo - plo))))[ok]) < 1e-9


def test_poles_and_equator_closed_forms():
    r = np.array([[0.0, 0.0, E.WGS84_B + 5.0], [0.0, 0.0, -E.WGS84_B], [E.WGS84_A + 7.0, 0.0, 0.0]])
    lat, lon, alt = E.ecef_to_geodetic(r)
    np.testing.assert_allclose(lat, [np.pi / 2, -np.pi / 2, 0.0], atol=1e-15)
    np.testing.assert_allclose(alt, [5.0, 0.0, 7.0], atol=1e-6)
    assert E.WGS84_B == pytest.approx(6356752.3142, abs=1e-4)  # TR8350.2 ch. 3
    assert E.WGS84_E2 == pytest.approx(6.69437999014e-3, rel=1e-11)


def test_enu_matrix_is_a_rotation_with_up_along_the_normal():
    lat, lon, _ = _global_grid(1000, 0.0)
    m = E.enu_matrix(lat, lon)
    eye = np.broadcast_to(np.eye(3), m.shape)
    np.testing.assert_allclose(m @ np.swapaxes(m, -1, -2), eye, atol=1e-15)
    np.testing.assert_allclose(np.linalg.det(m), 1.0, atol=1e-14)
    # Up is the ellipsoid normal: moving 1 m along it changes only the height
    r0 = E.geodetic_to_ecef(lat, lon, 100.0)
    la, lo, h = E.ecef_to_geodetic(r0 + m[..., 2, :])
    np.testing.assert_allclose(h, 101.0, atol=1e-6)
    np.testing.assert_allclose(la, lat, atol=1e-12)


def test_aer_matches_pymap3d_and_roundtrips():
    n = 20000
    slat, slon, salt = _global_grid(n, 3000.0)
    tlat, tlon, talt = _global_grid(n, 4.0e7)
    tlon = np.roll(tlon, 7)  # decouple target from site
    r = E.geodetic_to_ecef(np.roll(tlat, 11), tlon, talt)
    az, el, rng = E.ecef_to_aer(r, slat, slon, salt)
    paz, pel, prng = pm.ecef2aer(r[..., 0], r[..., 1], r[..., 2], slat, slon, salt, deg=False)
    dz = np.angle(np.exp(1j * (az - paz)))
    assert np.max(np.abs(dz)) < 1e-9 and np.max(np.abs(el - pel)) < 1e-9
    assert np.max(np.abs(rng - prng)) < 1e-3
    assert np.all((az >= 0.0) & (az < 2.0 * np.pi))
    back = E.aer_to_ecef(az, el, rng, slat, slon, salt)
    assert np.max(np.abs(back - r)) < 1e-3
    ref = np.stack(pm.aer2ecef(az, el, rng, slat, slon, salt, deg=False), axis=-1)
    assert np.max(np.abs(back - ref)) < 1e-3


def test_aer_cardinal_directions():
    """A target 1 km due north/east/up of a site at 45 N, 10 E."""
    lat, lon, alt = np.radians(45.0), np.radians(10.0), 50.0
    m = E.enu_matrix(lat, lon)
    r0 = E.geodetic_to_ecef(lat, lon, alt)
    az, el, rng = E.ecef_to_aer(r0 + 1000.0 * m, lat, lon, alt)  # rows: E, N, U
    np.testing.assert_allclose(az[:2], [np.pi / 2, 0.0], atol=1e-12)
    np.testing.assert_allclose(el, [0.0, 0.0, np.pi / 2], atol=1e-12)
    np.testing.assert_allclose(rng, 1000.0, rtol=1e-12)


# ----------------------------------------------------------------------------- dynamics
def test_gravity_plus_centrifugal_matches_somigliana_normal_gravity():
    """Surface normal gravity (TR8350.2 eq. 4-1) holds all even zonals of the normal
    field; the model keeps J2 only. The largest omitted term, J4 = -2.37e-6, moves the
    surface radial acceleration by 5 |J4| P4(sin lat) g <= 1.2e-5 g, so 1.5e-5 relative
    in magnitude and 3 arcsec in direction bound the model's error."""
    lat = np.radians(np.linspace(-90.0, 90.0, 37))
    r = E.geodetic_to_ecef(lat, 0.7, 0.0)
    g = E.gravity(r) + E.rotating_frame_acceleration(r, np.zeros(3))
    gm = np.linalg.norm(g, axis=-1)
    np.testing.assert_allclose(gm, E.normal_gravity(lat), rtol=1.5e-5)
    up = E.enu_matrix(lat, 0.7)[..., 2, :]
    cosang = -np.einsum("...i,...i->...", g, up) / gm
    assert np.all(np.arccos(np.clip(cosang, -1, 1)) < np.radians(3.0 / 3600.0))
    # textbook values: 9.7803 at the equator, 9.8322 at the poles (TR8350.2 ch. 3)
    assert E.normal_gravity(0.0) == pytest.approx(9.7803253359, rel=1e-12)
    assert E.normal_gravity(np.pi / 2) == pytest.approx(9.8321849378, rel=1e-12)
    # gravitation alone at the equator, ~9.814 m/s^2
    assert np.linalg.norm(E.gravity([E.WGS84_A, 0.0, 0.0])) == pytest.approx(9.8142, abs=1e-3)


def test_gravity_point_mass_and_j2_structure():
    r = E.geodetic_to_ecef(*_global_grid(1000, 4.0e7))
    rn = np.linalg.norm(r, axis=-1)
    g0 = E.gravity(r, j2=False)
    np.testing.assert_allclose(g0, -E.GM * r / rn[..., None] ** 3, rtol=1e-14)
    np.testing.assert_allclose(np.linalg.norm(g0, axis=-1), E.GM / rn**2, rtol=1e-14)
    # the J2 part falls off as (a/r)^2 relative to the point mass: far field is GM/r^2
    k = np.array([1.0, 2.0, 10.0, 60.0])
    eq = np.stack([k * E.WGS84_A, 0 * k, 0 * k], axis=-1)
    rel = np.linalg.norm(E.gravity(eq), axis=-1) * (k * E.WGS84_A) ** 2 / E.GM - 1.0
    np.testing.assert_allclose(rel, 1.5 * E.J2 / k**2, rtol=1e-9)
    # closed forms from U = GM/r (1 - J2 (a/r)^2 P2(sin lat)) at r = a:
    # equator 1 + 1.5 J2 (P2 = -1/2), pole 1 - 3 J2 (P2 = 1)
    for pt, k in (([E.WGS84_A, 0, 0], 1.5), ([0, 0, E.WGS84_A], -3.0)):
        ratio = np.linalg.norm(E.gravity(pt)) / np.linalg.norm(E.gravity(pt, j2=False))
        assert ratio == pytest.approx(1.0 + k * E.J2, rel=1e-13)
    # axisymmetric and equatorially symmetric: no east component, mirror in z
    g = E.gravity(r)
    mirror = E.gravity(r * [1, 1, -1])
    np.testing.assert_allclose(mirror, g * [1, 1, -1], rtol=1e-13, atol=1e-20)


def test_rotating_frame_acceleration():
    r = np.array([E.WGS84_A, 0.0, 0.0])
    a = E.rotating_frame_acceleration(r, np.zeros(3))
    np.testing.assert_allclose(a, [E.OMEGA_EARTH**2 * E.WGS84_A, 0.0, 0.0], rtol=1e-15)
    assert a[0] == pytest.approx(0.033916, abs=1e-6)
    v = RNG.normal(0.0, 3000.0, (1000, 3))
    cor = E.rotating_frame_acceleration(np.zeros(3), v)
    np.testing.assert_allclose(np.einsum("...i,...i->...", cor, v), 0.0, atol=1e-9)
    np.testing.assert_allclose(
        np.linalg.norm(cor, axis=-1), 2 * E.OMEGA_EARTH * np.hypot(v[:, 0], v[:, 1]), rtol=1e-12
    )
    # against the explicit cross products
    rr = RNG.normal(0.0, 7e6, (1000, 3))
    w = np.array([0.0, 0.0, E.OMEGA_EARTH])
    ref = -2 * np.cross(w, v) - np.cross(w, np.cross(w, rr))
    np.testing.assert_allclose(E.rotating_frame_acceleration(rr, v), ref, rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------------- atmosphere
# NOAA-S/T 76-1562 Table I (geometric altitude): z [km], T [K], p [Pa], rho [kg/m^3].
US76_TABLE_I = [
    (0.0, 288.15, 1.01325e5, 1.2250),
    (0.5, 284.90, 9.5461e4, 1.1673),
    (1.0, 281.651, 8.9876e4, 1.1117),
    (5.0, 255.676, 5.4048e4, 7.3643e-1),
    (10.0, 223.252, 2.6499e4, 4.1351e-1),
    (11.0, 216.774, 2.2700e4, 3.6480e-1),
    (20.0, 216.65, 5.5293e3, 8.8910e-2),
    (50.0, 270.65, 7.9779e1, 1.0269e-3),
    (77.0, 204.493, 1.7286, 2.9448e-5),
    (86.0, 186.87, 3.7338e-1, 6.958e-6),
    (100.0, 195.08, 3.2011e-2, 5.604e-7),
    (200.0, 854.56, 8.4736e-5, 2.541e-10),
    (300.0, 976.01, 8.7704e-6, 1.916e-11),
    (500.0, 999.24, 3.0236e-7, 5.215e-13),
    (1000.0, 1000.0, 7.5138e-9, 3.561e-15),
]
# Table I values that are NOT nodes of the model's 86-1000 km interpolation: they
# test the interpolation itself.
US76_HELD_OUT = [
    (92.0, 186.96, 1.2887e-1, 2.393e-6),
    (115.0, 300.00, 4.0096e-3, 4.289e-8),
    (120.0, 360.00, 2.5382e-3, 2.222e-8),
    (130.0, 469.27, 1.2505e-3, 8.152e-9),
    (175.0, 769.81, 1.7936e-4, 6.339e-10),
    (230.0, 915.78, 3.9276e-5, 1.029e-10),
]
# Table III speed of sound [m/s]
US76_SOUND = [
    (0.0, 340.29), (0.5, 338.37), (10.0, 299.53), (24.0, 297.72), (41.0, 318.94),
    (50.0, 329.80), (67.0, 302.57), (85.0, 275.52), (86.0, 274.10),
]  # fmt: skip


@pytest.mark.parametrize("z_km,t,p,rho", US76_TABLE_I)
def test_atmosphere_table_i(z_km, t, p, rho):
    a = E.atmosphere(z_km * 1e3)
    assert a.temperature == pytest.approx(t, abs=0.006)
    assert a.pressure == pytest.approx(p, rel=1e-4)
    assert a.density == pytest.approx(rho, rel=2e-4)


@pytest.mark.parametrize("z_km,t,p,rho", US76_HELD_OUT)
def test_atmosphere_between_table_nodes(z_km, t, p, rho):
    a = E.atmosphere(z_km * 1e3)
    assert a.temperature == pytest.approx(t, abs=0.006)  # closed form, exact
    assert a.pressure == pytest.approx(p, rel=1e-3)
    assert a.density == pytest.approx(rho, rel=1e-3)


@pytest.mark.parametrize("z_km,c", US76_SOUND)
def test_atmosphere_speed_of_sound(z_km, c):
    assert E.atmosphere(z_km * 1e3).speed_of_sound == pytest.approx(c, abs=0.006)


def test_atmosphere_layer_bases_table_4():
    """Pressure and molecular-scale temperature at the geopotential layer bases."""
    h = np.array([11000.0, 20000.0, 32000.0, 47000.0, 51000.0, 71000.0])
    p_b = [22632.06, 5474.889, 868.0187, 110.9063, 66.93887, 3.956420]
    t_b = [216.65, 216.65, 228.65, 270.65, 270.65, 214.65]
    z = 6356766.0 * h / (6356766.0 - h)
    a = E.atmosphere(z)
    np.testing.assert_allclose(a.pressure, p_b, rtol=2e-7)
    np.testing.assert_allclose(a.temperature, t_b, atol=1e-9)  # below 80 km T = T_M


def test_atmosphere_shape_limits_and_monotone():
    z = np.linspace(-2000.0, 1.2e6, 200001)
    a = E.atmosphere(z)
    inside = (z >= 0.0) & (z <= 1.0e6)
    assert np.all(np.diff(a.density[inside]) < 0.0) and np.all(np.diff(a.pressure[inside]) < 0.0)
    assert np.all(a.density[z > 1.0e6] == 0.0) and np.all(a.pressure[z > 1.0e6] == 0.0)
    sea = E.atmosphere(0.0)
    assert E.atmosphere(-500.0) == sea
    assert np.all(a.speed_of_sound[z > 86e3] == pytest.approx(274.10, abs=0.005))
    # continuity at 86 km, the seam between the layered and the tabulated parts
    lo, hi = E.atmosphere(86e3 - 1e-3), E.atmosphere(86e3 + 1e-3)
    for f in ("density", "pressure", "temperature", "speed_of_sound"):
        assert getattr(hi, f) == pytest.approx(getattr(lo, f), rel=1e-4)
    # ideal gas below 86 km where M = M0: p = rho R* T_M / M0
    low = z < 80e3
    gas = a.density[low] * 8314.32 / 28.9644 * a.temperature[low]
    np.testing.assert_allclose(a.pressure[low], gas, rtol=1e-12)


def test_stored_upper_atmosphere_is_scipys_build():
    """The piecewise cubics read at import (data/us76_upper.npz, so that no command imports
    scipy.interpolate) are SciPy's build from Table I, and atmosphere() evaluates them as
    SciPy's PPoly does, at the nodes too.  Bit for bit on the x86-64 machine that wrote the
    file (measured); another platform's LAPACK (the spline's solve) or fused multiply-adds
    may change the last bit, so the test allows 1e-14."""
    from scipy.interpolate import PPoly

    fresh = E.upper_interpolants()
    with np.load(E.UPPER_TABLE_FILE) as stored:
        assert sorted(stored.files) == sorted(fresh)
        for k in fresh:
            np.testing.assert_allclose(stored[k], fresh[k], rtol=1e-14, atol=0, err_msg=k)
    rng = np.random.default_rng(1)
    zu = np.concatenate([rng.uniform(E._Z7 + 1e-3, E._Z12, 5000), E._Z_UP[1:], [E._Z12]])
    a = E.atmosphere(zu)
    p = np.exp(PPoly(fresh["c_p"], fresh["x_p"])(zu))
    rho = p * np.exp(PPoly(fresh["c_m"], fresh["x_m"])(zu)) / (E._R_STAR * E._kinetic_temperature_upper(zu))
    np.testing.assert_allclose(a.pressure, p, rtol=1e-14, atol=0)
    np.testing.assert_allclose(a.density, rho, rtol=1e-14, atol=0)
    assert (E.atmosphere(E._Z12 * np.array([1.0 + 1e-9, 2.0])).density == 0.0).all()  # beyond the table


def test_importing_shieldlab_does_not_import_scipy_interpolate():
    import subprocess
    import sys

    code = "import sys, shieldlab.cli; print(any(m.startswith('scipy.interpolate') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ----------------------------------------------------------------------------- line of sight
def test_compiled_density_is_the_atmospheres():
    """earth.density_rows (the tracker's compiled drag floor) equals atmosphere().density
    to the last bits, across the layers, the table's nodes and beyond 1000 km."""
    rng = np.random.default_rng(0)
    nodes = np.concatenate([E._H_B, E._Z_UP, [86000.0, 91000.0, 110000.0, 120000.0, 1e6 + 1.0, -5.0, 0.0]])
    alt = np.concatenate([rng.uniform(-1e3, 1.3e6, 20000), rng.uniform(0.0, 1.5e5, 20000), nodes])
    ref = E.atmosphere(alt).density
    got = E.density_rows(alt)
    np.testing.assert_allclose(got, ref, rtol=4e-15, atol=0)
    assert (got[alt > 1e6] == 0).all() and got[alt <= 0].tolist() == [got[alt <= 0][0]] * (alt <= 0).sum()


def test_line_of_sight_blocked_through_the_earth():
    a = E.geodetic_to_ecef(0.3, 0.2, 1000.0)
    assert not E.line_of_sight(a, -a)
    assert E.line_of_sight(a, 2.0 * a)  # straight up


def test_line_of_sight_horizon_on_the_equator():
    """Sea-level radar on the equator, target at 100 km on the equator: the equatorial
    section is a circle of radius a, so the target is visible while cos(theta) >=
    a / (a + h); the ground distance there is about sqrt(2 a h)."""
    h = 100e3
    radar = E.geodetic_to_ecef(0.0, 0.0, 0.0)
    theta_h = np.arccos(E.WGS84_A / (E.WGS84_A + h))
    assert E.WGS84_A * theta_h == pytest.approx(np.sqrt(2 * E.WGS84_A * h), rel=0.01)
    theta = theta_h * np.array([0.5, 0.999, 1.001, 1.5])
    tgt = E.geodetic_to_ecef(0.0, theta, h)
    np.testing.assert_array_equal(E.line_of_sight(radar, tgt), [True, True, False, False])
    np.testing.assert_array_equal(E.line_of_sight(tgt, radar), [True, True, False, False])
    # margin: two targets at h seeing each other across an equatorial sphere of radius a + m
    m = 20e3
    half = np.arccos((E.WGS84_A + m) / (E.WGS84_A + h))
    pair = E.geodetic_to_ecef(0.0, np.array([-1, -1]) * half * np.array([0.999, 1.001]), h)
    other = E.geodetic_to_ecef(0.0, np.array([1, 1]) * half * np.array([0.999, 1.001]), h)
    np.testing.assert_array_equal(E.line_of_sight(pair, other, margin_m=m), [True, False])


def test_line_of_sight_matches_dense_sampling():
    """Brute-force reference: the geodetic height along 2001 points of each segment."""
    n = 1000
    lat, lon, alt = _global_grid(2 * n, 2.0e6)
    alt = np.abs(alt)
    p = E.geodetic_to_ecef(lat, lon, alt)
    a, b = p[:n], p[n:]
    s = np.linspace(0.0, 1.0, 2001)[:, None, None]
    _, _, hh = E.ecef_to_geodetic(a + s * (b - a))
    hmin = hh[1:-1].min(axis=0)
    clear = np.abs(hmin) > 200.0  # leave out grazing segments the sampling cannot resolve
    los = E.line_of_sight(a, b)
    np.testing.assert_array_equal(los[clear], (hmin > 0.0)[clear])
    assert clear.sum() > 0.9 * n and 0.1 * n < los.sum() < 0.9 * n
    np.testing.assert_array_equal(los, E.line_of_sight(b, a))  # symmetric


# ----------------------------------------------------------------------------- distances
def test_great_circle_closed_forms_and_roundtrip():
    quarter = E.great_circle_distance(0.0, 0.3, np.pi / 2, 0.3)
    assert quarter == pytest.approx(np.pi / 2 * E.R_EARTH_MEAN, rel=1e-15)
    lat1, lon1, _ = _global_grid(5000, 0.0)
    lat2, lon2, _ = _global_grid(5000, 0.0)
    lat2, lon2 = np.roll(lat2, 3), np.roll(lon2, 5)
    d = E.great_circle_distance(lat1, lon1, lat2, lon2)
    u1 = np.stack([np.cos(lat1) * np.cos(lon1), np.cos(lat1) * np.sin(lon1), np.sin(lat1)], -1)
    u2 = np.stack([np.cos(lat2) * np.cos(lon2), np.cos(lat2) * np.sin(lon2), np.sin(lat2)], -1)
    ang = np.arctan2(np.linalg.norm(np.cross(u1, u2), axis=-1), np.einsum("...i,...i->...", u1, u2))
    np.testing.assert_allclose(d, ang * E.R_EARTH_MEAN, rtol=1e-9, atol=1e-6)
    brg = E.initial_bearing(lat1, lon1, lat2, lon2)
    assert np.all((brg >= 0) & (brg < 2 * np.pi))
    ok = (np.cos(lat1) > 1e-6) & (d < 0.999 * np.pi * E.R_EARTH_MEAN)
    la, lo = E.destination(lat1, lon1, brg, d)
    np.testing.assert_allclose(la[ok], lat2[ok], atol=1e-9)
    assert np.max(np.abs(np.angle(np.exp(1j * (lo - lon2))))[ok & (np.cos(lat2) > 1e-6)]) < 1e-9
    assert E.initial_bearing(0.0, 0.0, 0.0, 0.1) == pytest.approx(np.pi / 2)
    assert E.initial_bearing(0.5, 0.0, 0.2, 0.0) == pytest.approx(np.pi)


def test_geodesic_distance():
    # meridian quadrant of WGS84: 10,001,965.729 m
    assert E.geodesic_distance(0.0, 0.4, np.pi / 2, 0.4) == pytest.approx(10001965.729, abs=1e-3)
    # along the equator (geodesic while dlon < (1 - f) pi): a dlon
    assert E.geodesic_distance(0.0, -0.5, 0.0, 0.5) == pytest.approx(E.WGS84_A, rel=1e-14)
    n = 20000
    lat1, lon1, _ = _global_grid(n, 0.0)
    lat2, lon2 = np.arcsin(RNG.uniform(-1, 1, n)), RNG.uniform(-np.pi, np.pi, n)
    s = E.geodesic_distance(lat1, lon1, lat2, lon2)
    assert np.isfinite(s).mean() > 0.999
    # pymap3d's vdist sets lambda = pi for the WHOLE batch once any pair is nearly
    # antipodal, so the comparison keeps to pairs less than 170 deg apart
    keep = E.great_circle_distance(lat1, lon1, lat2, lon2) < np.radians(170.0) * E.R_EARTH_MEAN
    ref, _ = vdist(*np.degrees([lat1[keep], lon1[keep], lat2[keep], lon2[keep]]))
    assert np.max(np.abs(s[keep] - ref)) < 1e-3
    # nearly antipodal pairs are not converged: NaN, never a wrong number
    assert np.isnan(E.geodesic_distance(0.0, 0.0, 0.0, np.pi - 1e-4))


# ----------------------------------------------------------------------------- broadcasting
SHAPES = [(), (5,), (2, 3)]


@pytest.mark.parametrize("shape", SHAPES)
def test_every_public_function_broadcasts(shape):
    """One code path for one value and for a batch (the Skyfield habit)."""
    lat = np.full(shape, 0.4) if shape else 0.4
    lon = np.full(shape, -1.2) if shape else -1.2
    alt = np.full(shape, 1000.0) if shape else 1000.0
    r = E.geodetic_to_ecef(lat, lon, alt)
    assert r.shape == shape + (3,)
    for out in E.ecef_to_geodetic(r):
        assert np.shape(out) == shape
    assert E.enu_matrix(lat, lon).shape == shape + (3, 3)
    tgt = r * 1.1
    aer = E.ecef_to_aer(tgt, lat, lon, alt)
    assert all(np.shape(x) == shape for x in aer)
    assert E.aer_to_ecef(*aer, lat, lon, alt).shape == shape + (3,)
    assert E.ecef_to_enu(tgt, lat, lon, alt).shape == shape + (3,)
    assert E.gravity(r).shape == shape + (3,)
    assert E.gravity(r, j2=False).shape == shape + (3,)
    assert E.rotating_frame_acceleration(r, r * 1e-3).shape == shape + (3,)
    assert all(np.shape(x) == shape for x in E.atmosphere(alt))
    assert np.shape(E.line_of_sight(r, tgt)) == shape
    assert np.shape(E.normal_gravity(lat)) == shape
    for f in (E.great_circle_distance, E.initial_bearing, E.geodesic_distance):
        assert np.shape(f(lat, lon, lon, lat)) == shape
    assert all(np.shape(x) == shape for x in E.destination(lat, lon, lat, alt))
    # a scalar and a batch give the same numbers
    if shape:
        np.testing.assert_array_equal(E.geodetic_to_ecef(0.4, -1.2, 1000.0), r[(0,) * len(shape)])


def test_site_and_target_batch_axes_broadcast():
    sites_lat = np.radians([40.0, 50.0, 60.0])[:, None]  # (3, 1)
    tgts = E.geodetic_to_ecef(np.radians([41.0, 45.0, 52.0, 58.0]), 0.3, 1e5)  # (4, 3)
    az, el, rng = E.ecef_to_aer(tgts, sites_lat, 0.3, 0.0)
    assert az.shape == (3, 4)
    for i in range(3):
        az_i, el_i, _ = E.ecef_to_aer(tgts, sites_lat[i, 0], 0.3, 0.0)
        np.testing.assert_array_equal(az[i], az_i)
    los = E.line_of_sight(E.geodetic_to_ecef(sites_lat, 0.3, 0.0), tgts)  # (3, 1, 3) with (4, 3)
    assert los.shape == (3, 4)
    margins = np.array([0.0, 1e4])[:, None, None]
    assert E.line_of_sight(tgts[:, None, :], tgts[None, :, :], margin_m=margins).shape == (2, 4, 4)
