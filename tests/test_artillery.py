"""Unguided rounds: the equations of motion against closed forms, the compiled step against the NumPy
reference, the integrator's step, laying, and the catalogue."""

import math
import types

import numpy as np
import pytest

from shieldlab import earth
from shieldlab.artillery import motion
from shieldlab.artillery.laying import TOLERANCE_M, LayingError, lay
from shieldlab.artillery.motion import Airframe, fly, launch_velocity
from shieldlab.artillery.motion_kernel import MACH_STEP, accelerations
from shieldlab.catalog import CatalogError
from shieldlab.catalog.artillery import ROUND_CLASSES, get_locating_radar, get_round, locating_radars, rounds

LAT, LON = math.radians(36.7), math.radians(38.95)


class _FlatWorld:
    """A flat, non-rotating Earth for :func:`motion.acceleration` (the NumPy reference): uniform gravity
    ``g`` along the local up of (LAT, LON), no Coriolis or centrifugal term, height measured along that
    up from the ground point; the rest of :mod:`shieldlab.earth` as it is."""

    def __init__(self, g: float):
        self.g = g
        self.r0 = earth.geodetic_to_ecef(LAT, LON, 0.0)
        self.up = earth.enu_matrix(LAT, LON)[2]

    def namespace(self):
        ns = types.SimpleNamespace(**{k: getattr(earth, k) for k in dir(earth) if not k.startswith("__")})
        ns.gravity = lambda r: np.broadcast_to(-self.g * self.up, np.shape(r)).copy()
        ns.rotating_frame_acceleration = lambda r, v: np.zeros(np.broadcast_shapes(np.shape(r), np.shape(v)))
        ns.ecef_to_geodetic = lambda r: (None, None, (np.asarray(r) - self.r0) @ self.up)
        return ns


def _vacuum(monkeypatch, g=9.81):
    flat = _FlatWorld(g)
    monkeypatch.setattr(motion, "earth", flat.namespace())
    return flat


@pytest.mark.parametrize("elevation_deg", [15.0, 45.0, 70.0])
def test_vacuum_parabola_on_a_flat_non_rotating_earth(monkeypatch, elevation_deg):
    """No drag, uniform gravity, no rotation: range v^2 sin 2q / g, time 2 v sin q / g, apex
    v^2 sin^2 q / (2 g); RK4 is exact on a parabola and the Hermite crossing too."""
    flat = _vacuum(monkeypatch)
    rnd = get_round("m107-155mm-he")
    af = Airframe.of([rnd])
    af = Airframe(**{**af.__dict__, "drag_factor": np.zeros(1)})
    v, q = 300.0, math.radians(elevation_deg)
    v0 = launch_velocity(LAT, LON, v, q, math.radians(30.0))[None]
    p = fly(flat.r0[None], v0, af, 0.05, 4000, ground=np.zeros(1), compiled=False)
    g = flat.g
    assert p.landed[0]
    assert p.end_t[0] == pytest.approx(2 * v * math.sin(q) / g, abs=1e-9)
    d = p.end_pos[0] - flat.r0
    assert np.hypot(*(earth.enu_matrix(LAT, LON)[:2] @ d)) == pytest.approx(v * v * math.sin(2 * q) / g, abs=1e-6)
    heights = (p.pos[0] - flat.r0) @ flat.up
    t = p.times()[0]
    assert heights.max() <= v * v * math.sin(q) ** 2 / (2 * g) + 1e-9
    assert np.allclose(heights, v * math.sin(q) * t - 0.5 * g * t * t, atol=1e-7)


def test_quadratic_drag_slowing_matches_its_closed_form(monkeypatch):
    """No gravity, constant density and drag coefficient: dv/dt = -k v^2 with k = rho C_D A / (2 m), so
    v(t) = v0 / (1 + k v0 t) and x(t) = ln(1 + k v0 t) / k (a straight line)."""
    flat = _vacuum(monkeypatch, g=0.0)
    rho = 1.2
    monkeypatch.setattr(motion, "atmosphere_table", lambda alt: (np.full(np.shape(alt), rho),
                                                                  np.zeros(np.shape(alt)),
                                                                  np.full(np.shape(alt), 1e12)))
    rnd = get_round("mortar-120mm-he")
    af = Airframe.of([rnd])
    v0, q = 300.0, math.radians(10.0)
    p = fly(flat.r0[None], launch_velocity(LAT, LON, v0, q, 0.0)[None], af, 0.01, 3000, compiled=False)
    cd0 = rnd.drag.cd[0] * rnd.form_factor
    k = rho * cd0 * rnd.area_m2 / (2.0 * rnd.mass_kg)
    t = p.times()[0]
    speed = np.linalg.norm(p.vel[0], axis=1)
    dist = np.linalg.norm(p.pos[0] - flat.r0, axis=1)
    assert np.allclose(speed, v0 / (1.0 + k * v0 * t), rtol=1e-9)
    assert np.allclose(dist, np.log1p(k * v0 * t) / k, rtol=1e-9)
    assert speed[-1] < 0.7 * v0  # slowed by a third: the test has teeth


def test_compiled_step_equals_the_numpy_reference():
    rng = np.random.default_rng(3)
    rr = list(rounds().values())
    n = 24
    rds = [rr[i % len(rr)] for i in range(n)]
    af = Airframe.of(rds, drag_error=rng.normal(0, 0.02, n), impulse_error=rng.normal(0, 0.01, n))
    r = earth.geodetic_to_ecef(rng.uniform(-1, 1, n), rng.uniform(-3, 3, n), rng.uniform(-100, 90_000, n))
    v = rng.normal(0, 400, (n, 3))
    tau = rng.uniform(0, 3, n)
    powered = rng.random(n) < 0.5
    a_np = motion.acceleration(r, v, tau, powered, af)
    a_nb = accelerations(r, v, tau, powered, af.area, af.mass, af.mass_flow, af.burn_time, af.exhaust_speed,
                         af.drag_factor, af.table, af.cd_grid, MACH_STEP)
    assert np.max(np.abs(a_np - a_nb)) <= 1e-12 * np.max(np.abs(a_np))
    q = np.radians(np.linspace(20, 70, n))
    r0 = np.broadcast_to(earth.geodetic_to_ecef(LAT, LON, 300.0), (n, 3))
    v0 = launch_velocity(LAT, LON, np.array([x.muzzle_velocity_ms for x in rds]), q, 1.0)
    p1 = fly(r0, v0, af, af.step(0.05), 3000, ground=np.full(n, 300.0))
    p2 = fly(r0, v0, af, af.step(0.05), 3000, ground=np.full(n, 300.0), compiled=False)
    assert p1.landed.all()
    assert np.max(np.abs(p1.end_pos - p2.end_pos)) < 1e-6
    assert np.max(np.abs(p1.pos - p2.pos)) < 1e-6


@pytest.mark.parametrize("rid", list(rounds()))
def test_the_step_does_not_change_the_flight(rid):
    """0.05 s (the truth's) against 0.01 s: the impact points agree to centimetres."""
    rnd = get_round(rid)
    r0 = earth.geodetic_to_ecef(LAT, LON, 0.0)[None]
    v0 = launch_velocity(LAT, LON, rnd.muzzle_velocity_ms, math.radians(50.0), 0.3)[None]
    af = Airframe.of([rnd])
    a = fly(r0, v0, af, af.step(0.05), 10_000, ground=np.zeros(1), keep=False)
    b = fly(r0, v0, af, af.step(0.01), 50_000, ground=np.zeros(1), keep=False)
    assert np.linalg.norm(a.end_pos - b.end_pos) < 0.05
    assert abs(a.end_t[0] - b.end_t[0]) < 1e-3


def test_a_rocket_burns_then_coasts():
    rnd = get_round("grad-9m22u-122mm")
    af = Airframe.of([rnd])
    h = af.step(0.05)
    assert rnd.motor.burn_time_s / h[0] == pytest.approx(round(rnd.motor.burn_time_s / h[0]))
    r0 = earth.geodetic_to_ecef(LAT, LON, 0.0)[None]
    p = fly(r0, launch_velocity(LAT, LON, rnd.muzzle_velocity_ms, math.radians(49.0), 0.0)[None], af, h, 200)
    speed = np.linalg.norm(p.vel[0], axis=1)
    k = int(round(rnd.motor.burn_time_s / h[0]))
    assert np.all(np.diff(speed[:k + 1]) > 0)  # the motor accelerates it
    assert np.all(np.diff(speed[k:k + 40]) < 0)  # then drag and gravity slow it
    assert speed[k] == pytest.approx(690.0, rel=0.02)  # the catalogue's calibration: ~690 m/s at burnout
    burnt = Airframe.of([rnd], burnt=True)
    assert burnt.mass[0] == pytest.approx(rnd.mass_kg - rnd.motor.propellant_kg) and burnt.burn_time[0] == 0.0


def test_coriolis_deflects_to_the_right_in_the_northern_hemisphere():
    """Fired north at 36.7 N, a long flight lands east of the meridian of its launch (to the right)."""
    rnd = get_round("m107-155mm-he")
    af = Airframe.of([rnd])
    r0 = earth.geodetic_to_ecef(LAT, LON, 0.0)[None]
    p = fly(r0, launch_velocity(LAT, LON, rnd.muzzle_velocity_ms, math.radians(45.0), 0.0)[None], af, 0.05,
            4000, ground=np.zeros(1), keep=False)
    e, n, _ = earth.ecef_to_enu(p.end_pos[0], LAT, LON, 0.0)
    assert n > 17_000 and 5.0 < e < 100.0


def _point(lat_deg, lon_deg, alt=390.0):
    return (np.array([math.radians(lat_deg)]), np.array([math.radians(lon_deg)]), np.array([alt]))


@pytest.mark.parametrize("rid, angle, km", [("mortar-120mm-he", "high", 5.3), ("m107-155mm-he", "high", 14.0),
                                            ("m107-155mm-he", "low", 12.0), ("grad-9m22u-122mm", "low", 15.0)])
def test_laying_puts_the_nominal_round_on_the_aim(rid, angle, km):
    rnd = get_round(rid)
    origin = _point(36.60, 38.95)
    la, lo = earth.destination(origin[0][0], origin[1][0], 0.3, 1e3 * km)
    aim = (np.array([la]), np.array([lo]), np.array([420.0]))
    lay_ = lay([rnd], origin, aim, angle=[angle])
    assert lay_.miss[0] <= TOLERANCE_M
    q = math.degrees(lay_.elevation[0])
    assert (q > math.degrees(lay_.max_elevation[0])) == (angle == "high")
    # fly it again from scratch: it lands on the aim point
    af = Airframe.of([rnd])
    r0 = earth.geodetic_to_ecef(*(x[0] for x in origin))[None]
    v0 = launch_velocity(origin[0][0], origin[1][0], lay_.speed[0], lay_.elevation[0], lay_.azimuth[0])[None]
    p = fly(r0, v0, af, af.step(0.05), 10_000, ground=aim[2], keep=False)
    assert np.linalg.norm(p.end_pos[0] - earth.geodetic_to_ecef(*(x[0] for x in aim))) < 2 * TOLERANCE_M
    assert p.end_t[0] == pytest.approx(lay_.time_of_flight[0], abs=0.01)


def test_laying_refuses_what_it_cannot_reach():
    rnd = get_round("mortar-120mm-he")
    with pytest.raises(LayingError, match="beyond the mortar-120mm-he's reach of 7.1"):
        lay([rnd], _point(36.60, 38.95), _point(36.70, 38.95))
    with pytest.raises(LayingError, match="nearer than the mortar-120mm-he reaches on its high-angle branch"):
        lay([rnd], _point(36.60, 38.95), _point(36.605, 38.95))
    # a rocket's reach is its motor's, not its 41 m/s leaving the tube
    with pytest.raises(LayingError, match=r"beyond the grad-9m22u-122mm's reach of [\d.]+ km with its motor \(at"):
        lay([get_round("grad-9m22u-122mm")], _point(36.60, 38.95), _point(36.90, 38.95))


def test_the_catalogue_has_sources_and_classes():
    for r in rounds().values():
        assert r.source and r.drag.source and r.range_source and r.form_factor_source
        assert r.locating_class in ROUND_CLASSES
        assert (r.motor is not None) == (r.kind == "rocket")
    for s in locating_radars().values():
        assert s.source and all(s.range_km(c) > 0 for c in ROUND_CLASSES)
    assert get_locating_radar("an-tpq-36").range_km("artillery") == 14.5
    with pytest.raises(CatalogError, match="unknown round 'x'"):
        get_round("x")
    with pytest.raises(CatalogError, match="unknown weapon-locating radar"):
        get_locating_radar("x")
