"""Air-breathing flight (shieldlab.airspace.flight): closed forms, limits, and the compiled loop
held equal to its NumPy reference."""

import math

import numpy as np
import pytest

from shieldlab import catalog, earth
from shieldlab.airspace import flight
from shieldlab.airspace.flight import KMH, G, Limits, Routes, density_ratio, fly, min_true_airspeed

D = np.radians


def routes(pts, alt=None, speed=None):
    """Routes from a list of [(lat, lon), ...] per flier [deg]."""
    W = max(len(p) for p in pts)
    lat = np.full((len(pts), W), np.nan)
    lon = np.full((len(pts), W), np.nan)
    for i, p in enumerate(pts):
        lat[i, :len(p)] = D([q[0] for q in p])
        lon[i, :len(p)] = D([q[1] for q in p])
    a = np.full(lat.shape, np.nan) if alt is None else np.asarray(alt, float)
    s = np.full(lat.shape, np.nan) if speed is None else np.asarray(speed, float)
    return Routes(lat=lat, lon=lon, alt=a, speed=s, n=np.array([len(p) for p in pts]))


def test_density_ratio_is_the_standard_atmosphere():
    """The closed-form ISA density ratio equals the US Standard Atmosphere 1976 to 20 km."""
    h = np.linspace(0.0, 20_000.0, 81)
    ussa = earth.atmosphere(h).density / flight.RHO0
    assert np.allclose(density_ratio(h), ussa, rtol=1e-5)
    # the tabulated value at the tropopause, 11 km geopotential (11,019 m geometric): 0.36392 kg/m^3
    # (US Standard Atmosphere 1976, table I)
    assert density_ratio(11_019.1) == pytest.approx(0.36392 / 1.225, rel=1e-4)


def test_least_true_airspeed_grows_with_height():
    eas = 385 * KMH
    assert float(min_true_airspeed(eas, 0.0)) == pytest.approx(eas)
    # at 19,000 ft (5,791 m) the Su-24M's estimated least speed is ~519 km/h true
    v = float(min_true_airspeed(eas, 5791.0))
    assert v == pytest.approx(eas / math.sqrt(float(density_ratio(5791.0))))
    assert 500 < v / KMH < 540


def test_straight_level_flight_covers_speed_times_time():
    """Along one meridian at constant true airspeed: distance over the ground equals the
    geodesic between start and end (Vincenty), and the time is distance / speed."""
    a = catalog.get_aircraft("f-16c")
    lim = Limits.of([a])
    r = routes([[(35.0, 36.0), (37.0, 36.0)]], alt=[[a.cruise_alt_m] * 2])
    p = fly(lim, r, 0.0, 1.0)
    v = a.cruise_speed_kmh * KMH
    d = float(earth.geodesic_distance(D(35.0), D(36.0), D(37.0), D(36.0)))
    # at cruise height the path is (R + h) / R longer than on the ellipsoid
    radius = 6.37e6
    assert p.end_time[0] == pytest.approx(d * (1 + a.cruise_alt_m / radius) / v, abs=2.0)
    assert np.degrees(p.lat[0, -1]) == pytest.approx(37.0, abs=v / 111e3)
    assert p.speed[0, 10] == pytest.approx(v)


def test_turns_at_the_bank_limit():
    """At a right-angle waypoint the heading turns at g tan(bank) / v, never faster."""
    a = catalog.get_aircraft("su-24m")
    lim = Limits.of([a])
    r = routes([[(35.0, 36.0), (35.5, 36.0), (35.5, 37.0)]], alt=[[6000.0] * 3])
    p = fly(lim, r, 0.0, 1.0)
    act = p.active[0]
    rate = np.abs(np.angle(np.exp(1j * np.diff(p.heading[0]))))[act[:-1] & act[1:]]
    v = p.speed[0, act]
    expected = G * math.tan(math.radians(a.max_bank_deg)) / v.min()
    assert rate.max() <= expected * (1 + 1e-9)
    assert rate.max() == pytest.approx(G * math.tan(math.radians(a.max_bank_deg)) / v.max(), rel=0.02)
    # and the turn is flown: it ends at the last waypoint, heading east
    assert np.degrees(p.lon[0, -1]) == pytest.approx(37.0, abs=0.01)
    assert np.degrees(p.heading[0, -2]) == pytest.approx(90.0 - 0.5, abs=1.5)  # the great circle's heading


def test_climbs_at_most_at_the_climb_rate_and_holds_the_least_speed():
    a = catalog.get_aircraft("su-24m")
    lim = Limits.of([a])
    slow = 100.0  # m/s asked for: below the least speed at any height
    r = routes([[(35.0, 36.0), (36.0, 36.0)]], alt=[[0.0, 9000.0]], speed=[[np.nan, slow]])
    p = fly(lim, r, 0.0, 1.0)
    act = p.active[0]
    assert np.abs(p.climb[0, act]).max() <= a.max_climb_ms + 1e-9
    assert np.diff(p.alt[0])[act[:-1]].max() <= a.max_climb_ms * 1.0 + 1e-9
    assert p.alt[0, act].max() == pytest.approx(9000.0)
    vmin = min_true_airspeed(a.min_speed_eas_kmh * KMH, p.alt[0])
    assert (p.speed[0, act] >= vmin[act] - a.max_accel_ms2 - 1e-9).all()  # one step of lag at most


def test_cruise_missile_flies_low_over_land_and_lower_over_the_sea():
    """A Kalibr from the Caspian to Iran: its sea height over the water, its land height over Iran,
    the change where the route meets Natural Earth's coast."""
    from shieldlab.airspace.borders import over_land

    k = catalog.get_aircraft("kalibr-3m-14")
    r = routes([[(40.3, 51.2), (37.75, 49.05), (38.05, 46.4)]])
    p = fly(Limits.of([k]), r, 0.0, 1.0)
    act = p.active[0]
    alt = p.alt[0, act]
    assert alt[:100].max() == pytest.approx(k.cruise_alt_m)
    assert alt[-100:].min() == pytest.approx(k.land_height_m)
    land = over_land(np.degrees(p.lat[0, act]), np.degrees(p.lon[0, act]))
    coast = int(np.argmax(land))
    climb = int(np.argmax(alt > k.cruise_alt_m + 1e-6))
    # the climb starts where the flier reaches land, within the route cut at turns (a few km)
    assert abs(climb - coast) * k.cruise_speed_kmh * KMH < 5e3


def test_a_failure_ends_the_flight_part_way():
    k = catalog.get_aircraft("kalibr-3m-14")
    r = routes([[(40.3, 51.2), (37.75, 49.05), (38.05, 46.4)]] * 2)
    p = fly(Limits.of([k, k]), r, [0.0, 0.0], 1.0, fail_fraction=[0.5, np.inf])
    assert p.failed.tolist() == [True, False]
    total = p.ground_track_km()
    assert total[0] == pytest.approx(0.5 * total[1], rel=0.02)


def test_compiled_equals_the_numpy_reference():
    specs = [catalog.get_aircraft(i) for i in ("su-24m", "f-16c", "kalibr-3m-14", "su-30sm")]
    r = routes([[(36.0, 35.0), (36.0, 36.0), (37.0, 36.0)],
                [(36.0, 35.0), (36.5, 35.0), (36.4, 35.5), (36.0, 35.2)],
                [(40.3, 51.2), (37.75, 49.05), (38.05, 46.4)],
                [(35.4, 35.9), (35.8, 35.95), (35.93, 36.1)]],
               alt=[[np.nan, 8000.0, np.nan, np.nan], [np.nan] * 4, [np.nan] * 4, [np.nan, 5000.0, np.nan, np.nan]],
               speed=[[np.nan, 200.0, np.nan, np.nan], [np.nan] * 4, [np.nan] * 4, [np.nan] * 4])
    kw = dict(speed_factor=[1.0, 1.05, 0.97, 1.0], fail_fraction=[np.inf, np.inf, 0.6, np.inf])
    a = fly(Limits.of(specs), r, [0.0, 10.0, 5.0, 30.0], 1.0, **kw)
    b = fly(Limits.of(specs), r, [0.0, 10.0, 5.0, 30.0], 1.0, compiled=False, **kw)
    assert a.t.size == b.t.size
    for name in ("lat", "lon", "alt", "speed", "heading", "climb"):
        assert np.allclose(getattr(a, name), getattr(b, name), rtol=0, atol=1e-9), name
    assert (a.active == b.active).all()
    assert np.array_equal(a.end_time, b.end_time) and np.array_equal(a.failed, b.failed)


def test_a_route_it_cannot_finish_raises():
    a = catalog.get_aircraft("su-24m")
    with pytest.raises(ValueError, match="not flown within"):
        fly(Limits.of([a]), routes([[(35.0, 36.0), (40.0, 36.0)]]), 0.0, 1.0, t_max=60.0)


def test_trajectories_hold_the_same_flight_in_ecef():
    a = catalog.get_aircraft("f-16c")
    p = fly(Limits.of([a]), routes([[(35.0, 36.0), (35.5, 36.5)]]), 20.0, 1.0)
    tr = p.trajectories()
    k = int(np.argmax(p.active[0])) + 50
    # the velocity is the finite difference of the positions over the step
    assert np.allclose(tr.pos[0, k + 1] - tr.pos[0, k], tr.vel[0, k], atol=0.05)
    assert tr.launch_time[0] == 20.0 and tr.impact_time[0] == p.end_time[0]
