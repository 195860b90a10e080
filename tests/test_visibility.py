"""The one field-of-regard test (shieldlab.sensors.visibility) against its definition in
numpy terms (earth.ecef_to_aer, earth.line_of_sight), and the first-look time of a path."""

from types import SimpleNamespace

import numpy as np
import pytest

from shieldlab import earth
from shieldlab.sensors import radar as R
from shieldlab.sensors import visibility as V


def _by_definition(radar, pos):
    spec = radar.spec
    az, el, rng = earth.ecef_to_aer(pos, radar.lat, radar.lon, radar.alt)
    half_fov = 0.5 * np.deg2rad(spec.az_fov_deg)
    off = np.abs(np.mod(az - radar.boresight_az + np.pi, 2.0 * np.pi) - np.pi)
    el_low = max(np.deg2rad(spec.el_min_deg), radar.elevation_mask)
    return (((off <= half_fov) | (half_fov >= np.pi)) & (el >= el_low) & (el <= np.deg2rad(spec.el_max_deg))
            & (rng > 0.0) & earth.line_of_sight(radar.site_ecef, pos))


def _random_radar(rng):
    spec = SimpleNamespace(az_fov_deg=float(rng.choice([90.0, 120.0, 360.0])), el_min_deg=rng.uniform(-2, 5),
                           el_max_deg=rng.uniform(30, 90))
    return R.Radar("r", spec, rng.uniform(-1.5, 1.5), rng.uniform(-3, 3), rng.uniform(0, 3000), rng.uniform(0, 6.28),
                   rng.uniform(0, 0.05))


def test_visible_matches_its_definition_everywhere():
    rng = np.random.default_rng(1)
    n_in = 0
    for _ in range(40):
        radar = _random_radar(rng)
        lat = np.r_[radar.lat + rng.normal(0, 0.1, 4000), rng.uniform(-1.5, 1.5, 4000)]
        lon = np.r_[radar.lon + rng.normal(0, 0.1, 4000), rng.uniform(-3, 3, 4000)]
        pos = earth.geodetic_to_ecef(lat, lon, rng.uniform(-1000, 2e6, 8000))
        want = _by_definition(radar, pos)
        assert np.array_equal(R.visible(radar, pos), want)
        n_in += want.sum()
    assert 0.05 < n_in / (40 * 8000) < 0.95  # both verdicts are exercised


def test_expected_confirmation_is_the_radars_pd_summed_over_scans():
    """A target climbing straight up 300 km down range, seen by two radars (1 s and 0.7 s
    scans): the expected confirmation time is the first scan at which the radar module's
    Swerling-1 Pd, summed over both radars' scans in time order, reaches init_hits."""
    dt, J, init_hits = 4.0, 60, 3.0
    radars = [R.Radar(f"r{i}", SimpleNamespace(az_fov_deg=360.0, el_min_deg=0.0, el_max_deg=90.0, max_range_km=rmax,
                                                ref_rcs_m2=1.0, pfa=1e-6, scan_period_s=per),
                      np.radians(40.0 + 0.2 * i), np.radians(30.0), 0.0, 0.0)
              for i, (rmax, per) in enumerate([(330.0, 1.0), (300.0, 0.7)])]
    lat, lon = earth.destination(radars[0].lat, radars[0].lon, 0.3, 300e3)
    up = earth.unit_vector(lat, lon)
    base = earth.geodetic_to_ecef(lat, lon, 0.0)
    path = lambda t: base + (200.0 * np.asarray(t))[..., None] * up  # 200 m/s straight up  # noqa: E731
    pos = np.ascontiguousarray(path(dt * np.arange(J))[None])
    fields = [V.FieldOfRegard.of(r) for r in radars]

    def arr(attr):
        return np.array([getattr(f, attr) for f in fields])

    def run(hits, n=J):
        return V.expected_confirmation_time(
            pos, np.array([n]), dt, hits, np.array([r.spec.scan_period_s for r in radars]),
            np.array([float(R.snr50(1e-6))] * 2), np.array([1e3 * r.spec.max_range_km for r in radars]),
            np.array([1e-6, 1e-6]), arr("site"), arr("trig"), arr("boresight"), arr("half_fov"), arr("el_lo"),
            arr("el_hi"))[0]

    # by the radar module, scan by scan
    scans = sorted((k * r.spec.scan_period_s, i) for i, r in enumerate(radars)
                   for k in range(int(dt * (J - 1) / r.spec.scan_period_s) + 1))
    total, want = 0.0, np.inf
    for ts, i in scans:
        p = path(ts)
        if R.visible(radars[i], p):
            total += float(R.pd_swerling1(R.snr(radars[i], np.linalg.norm(p - radars[i].site_ecef), 1.0), 1e-6))
            if total >= init_hits:
                want = ts
                break
    assert 0 < want < dt * (J - 1)
    assert run(init_hits) == pytest.approx(want, abs=1e-9)
    assert np.isinf(run(init_hits, n=int(want // dt)))  # the path ends before: never confirmed
