"""Quasi-ballistic flight (lift after burnout), pitch programmes and general energy management:
the compiled flyout against its NumPy reference, and the lift model against its closed forms."""

import numpy as np
import pytest
from test_flyout import fly_both_engines

from shieldlab import catalog, earth
from shieldlab.flyout import aim
from shieldlab.flyout.integrate import fly
from shieldlab.flyout.kernel import LIFT_TAU_GAMMA_S
from shieldlab.flyout.records import Phase
from shieldlab.flyout.vehicle import AERO_DIVE_T, vehicle_from_missiles

LAT0, LON0 = np.radians(54.7), np.radians(20.5)


def _batch():
    """Iskander-M (lift, pitch programme) at three kicks, one with a steered dive time, one with its
    weave off; Topol-M under GEM (upper stages throttled) and with a pitch programme; a Scud-B."""
    isk = catalog.get_missile("iskander-m")
    calm = isk.model_copy(update={"aero": isk.aero.model_copy(update={"weave_g": 0.0})})
    topol = catalog.get_missile("topol-m")
    pitched = topol.model_copy(update={"stages": [s.model_copy(update={"pitch_deg": p})
                                                  for s, p in zip(topol.stages, (0.0, -5.0, 8.0))]})
    ms = [isk, isk, calm, topol, pitched, catalog.get_missile("scud-b")]
    veh = vehicle_from_missiles(ms)
    n = len(ms)
    kw = dict(launch_pos=np.broadcast_to(earth.geodetic_to_ecef(LAT0, LON0, 0.0), (n, 3)).copy(),
              launch_time=np.array([0.0, 3.0, 0.0, 0.0, 7.0, 0.0]),
              kick=np.radians([77.0, 70.0, 80.0, 52.0, 52.0, 40.0]), azimuth=np.radians([260.0, 250.0, 240.0, 0.0,
                                                                                        10.0, 90.0]),
              cutoff=np.full(n, np.inf), upper_thrust=np.array([1.0, 1.0, 1.0, 0.93, 1.0, 1.0]),
              dive_time=np.array([np.inf, 150.0, np.inf, np.inf, np.inf, np.inf]), t0=0.0, dt=1.0, T=2400)
    return veh, kw


def test_lifting_flight_fast_path_equals_reference():
    veh, kw = _batch()
    a, _ = fly_both_engines(veh, kw)
    assert np.isfinite(a.impact_time).all()
    # the vehicle passed in is not changed by the flight (the kernel writes dive starts in a copy)
    assert np.isinf(veh.aero[:, AERO_DIVE_T]).all()


def test_glide_lift_and_drag_follow_the_parabolic_polar():
    """In the glide the aerodynamic acceleration (flown acceleration less gravity and the rotating
    frame's terms) splits into drag along the path and lift across it that obey the polar:
    drag = (q S / m) (C_D0 + C_L^2 / (4 C_D0 (L/D)^2)) with C_L = lift m / (q S), lift / drag
    never above L/D, and equal to it where the lift is at its cap (C_L = 2 C_D0 L/D, the best
    lift-to-drag point) while the missile sinks below the height it cannot hold."""
    isk = catalog.get_missile("iskander-m")
    calm = isk.model_copy(update={"aero": isk.aero.model_copy(update={"weave_g": 0.0})})
    dt = 0.25
    tr = fly(vehicle_from_missiles([calm]), earth.geodetic_to_ecef(LAT0, LON0, 0.0)[None], np.zeros(1),
             np.radians([80.0]), np.radians([260.0]), t0=0.0, dt=dt, T=8000)
    n = int(tr.impact_time[0] / dt)
    pos, vel = tr.pos[0, :n], tr.vel[0, :n]
    _, _, alt = earth.ecef_to_geodetic(pos)
    speed = np.linalg.norm(vel, axis=1)
    t = tr.t[:n]
    glide = (t > tr.apogee_time[0] + 40.0) & (speed > calm.aero.terminal_speed_ms + 30.0) & (alt < 31e3)
    i = np.flatnonzero(glide)[2:-2]
    assert i.size > 200, "a glide of more than 50 s"
    acc = (vel[i + 1] - vel[i - 1]) / (2 * dt)
    aero = acc - earth.gravity(pos[i], j2=True) - earth.rotating_frame_acceleration(pos[i], vel[i])
    u = vel[i] / speed[i, None]
    drag = -np.einsum("ij,ij->i", aero, u)
    lift = np.linalg.norm(aero + drag[:, None] * u, axis=1)
    atm = earth.atmosphere(alt[i])
    m = calm.launch_mass_kg - calm.stages[0].propellant_kg
    qs_m = 0.5 * atm.density * speed[i] ** 2 * (np.pi * calm.diameter_m ** 2 / 4) / m
    cd0 = calm.drag(speed[i] / atm.speed_of_sound)
    ld = calm.aero.lift_to_drag
    cl = lift / qs_m
    np.testing.assert_allclose(drag, qs_m * (cd0 + cl**2 / (4 * cd0 * ld**2)), rtol=0.01)
    assert np.all(lift / drag < ld * 1.01)
    capped = cl > 0.999 * 2 * cd0 * ld
    assert capped.sum() > 50
    np.testing.assert_allclose((lift / drag)[capped], ld, rtol=0.01)


def test_dive_steers_down_to_its_angle_and_weaves():
    """After the glide the missile dives: its flight-path angle comes within a few degrees of
    -80 deg (the loop's time constant is LIFT_TAU_GAMMA_S) and it weaves sideways with the
    programme's period; without the weave it does not."""
    isk = catalog.get_missile("iskander-m")
    calm = isk.model_copy(update={"aero": isk.aero.model_copy(update={"weave_g": 0.0})})
    out = {}
    for name, m in (("weave", isk), ("calm", calm)):
        tr = fly(vehicle_from_missiles([m]), earth.geodetic_to_ecef(LAT0, LON0, 0.0)[None], np.zeros(1),
                 np.radians([80.0]), np.radians([260.0]), t0=0.0, dt=0.25, T=8000)
        n = int(tr.impact_time[0] / 0.25)
        pos, vel = tr.pos[0, 1:n], tr.vel[0, 1:n]  # (from the first sample after lift-off)
        r = np.linalg.norm(pos, axis=1)
        gamma = np.degrees(np.arcsin(np.einsum("ij,ij->i", pos, vel) / (r * np.linalg.norm(vel, axis=1))))
        out[name] = (gamma, pos, vel)
    gamma = out["calm"][0]
    assert gamma[-8:].max() < -70.0  # the last two seconds steep
    assert gamma[-8:].min() > -88.0
    # sideways acceleration: normal to the path and to the local vertical plane of motion
    def side(pos, vel):
        u = vel / np.linalg.norm(vel, axis=1)[:, None]
        e = np.cross(u, pos / np.linalg.norm(pos, axis=1)[:, None])
        return np.einsum("ij,ij->i", np.gradient(vel, 0.25, axis=0), e / np.linalg.norm(e, axis=1)[:, None])
    dive = out["weave"][0] < -60.0
    a_w = np.abs(side(*out["weave"][1:])[dive]).max()
    a_c = np.abs(side(*out["calm"][1:])[out["calm"][0] < -60.0]).max()
    assert a_w > 5 * 9.8 and a_c < 0.2 * a_w
    assert LIFT_TAU_GAMMA_S > 0


def test_quasi_ballistic_shot_is_shaped_to_its_apogee():
    """iskander-m shaped to a 50 km apogee at 400 km: the solver finds the kick and the dive time
    (its trim), the shot lands on the aim point and tops out at 50 km; a 60 km shot at 200 km
    cannot be flown (the message says what can)."""
    m = catalog.get_missile("iskander-m")
    lat1, lon1 = earth.destination(LAT0, LON0, np.radians(260.0), 400e3)
    st = aim.solve([m], LAT0, LON0, 0.0, lat1, lon1, "depressed", apogee=50e3)
    assert np.isfinite(st.dive_time[0]) and np.isinf(st.cutoff[0])
    tr = fly(vehicle_from_missiles([m]), earth.geodetic_to_ecef(LAT0, LON0, 0.0)[None], np.zeros(1), st.kick,
             st.azimuth, st.cutoff, t0=0.0, dt=1.0, T=1000, dive_time=st.dive_time)
    lat, lon, _ = earth.ecef_to_geodetic(tr.impact_pos[0])
    assert earth.great_circle_distance(lat, lon, lat1, lon1) < 50.0
    assert tr.apogee_alt[0] == pytest.approx(50e3, abs=50.0)
    assert np.all(tr.phase[0][tr.t > tr.burnout_time[0] + 1][:10] != Phase.BOOST)
    lat1, lon1 = earth.destination(LAT0, LON0, np.radians(260.0), 200e3)
    with pytest.raises(aim.ShapeError, match="apogee 60 km cannot be flown to this aim point: between"):
        aim.solve([m], LAT0, LON0, 0.0, lat1, lon1, "depressed", apogee=60e3)


def test_a_quasi_ballistic_min_energy_shot_stays_low_as_its_range_grows():
    """iskander-m's default (min-energy) shot took the full-burn branch whose apogee was nearer
    the Kepler shot's: 43 km at 411 km, then 153 km at 456 km, a ballistic arc the quasi-ballistic
    9M723 is not built to fly.  It flies its depressed (gliding) branch, so its apogee grows
    smoothly with the range, and stays well under the Kepler one (a quarter of the range)."""
    m = catalog.get_missile("iskander-m")
    apogees = []
    for km in (280.0, 345.0, 411.0, 456.0, 489.0):
        lat1, lon1 = earth.destination(LAT0, LON0, np.radians(180.0), km * 1e3)
        st = aim.solve([m], LAT0, LON0, 0.0, lat1, lon1, "min-energy")
        assert st.branch[0] == "depressed", km
        tr = fly(vehicle_from_missiles([m]), earth.geodetic_to_ecef(LAT0, LON0, 0.0)[None], np.zeros(1), st.kick,
                 st.azimuth, st.cutoff, t0=0.0, dt=1.0, T=1000, dive_time=st.dive_time)
        apogees.append(tr.apogee_alt[0] / 1e3)
    assert np.all(np.diff(apogees) > 0) and np.all(np.diff(apogees) < 12.0), apogees
    assert apogees[-1] < 0.15 * 489.0, apogees  # (the Kepler shot's: ~120 km)


def test_gem_throttles_only_the_upper_stages():
    veh = vehicle_from_missiles([catalog.get_missile("topol-m")] * 2)
    t = veh.throttled(np.array([1.0, 0.8]))
    np.testing.assert_array_equal(t.stage_thrust_vac[0], veh.stage_thrust_vac[0])
    np.testing.assert_array_equal(t.stage_thrust_vac[1, 0], veh.stage_thrust_vac[1, 0])
    np.testing.assert_allclose(t.stage_thrust_vac[1, 1:], 0.8 * veh.stage_thrust_vac[1, 1:])
    np.testing.assert_array_equal(t.stage_mdot, veh.stage_mdot)  # the propellant burns as before
    assert veh.throttled(1.0) is veh
