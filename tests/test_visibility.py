"""The one field-of-regard test (shieldlab.sensors.visibility) against its definition in
numpy terms (earth.ecef_to_aer, earth.line_of_sight), and the first-look time of a path."""

from types import SimpleNamespace

import numpy as np

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


def test_first_seen_time_finds_the_edge_between_samples():
    """A target climbing straight up 300 km down range: it comes into view when it clears the
    horizon (elevation 0 and the ellipsoid); found to microseconds from 4 s samples."""
    spec = SimpleNamespace(az_fov_deg=360.0, el_min_deg=0.0, el_max_deg=90.0)
    radar = R.Radar("r", spec, np.radians(40.0), np.radians(30.0), 0.0, 0.0)
    lat, lon = earth.destination(radar.lat, radar.lon, 0.3, 300e3)
    dt, J = 4.0, 60
    t_fine = np.linspace(0, dt * (J - 1), 200_001)
    up = earth.unit_vector(lat, lon)
    base = earth.geodetic_to_ecef(lat, lon, 0.0)

    def path(t):
        return base + (200.0 * np.asarray(t))[..., None] * up  # 200 m/s straight up

    seen = R.visible(radar, path(t_fine)) & (np.linalg.norm(path(t_fine) - radar.site_ecef, axis=-1) <= 1e6)
    want = t_fine[np.argmax(seen)]
    assert seen.any() and not seen[0]
    pos = np.ascontiguousarray(path(dt * np.arange(J))[None])
    fr = V.FieldOfRegard.of(radar)
    got = V.first_seen_time(pos, np.array([J]), dt, *fr.args(), 1e6)[0]
    assert abs(got - want) < 2 * (t_fine[1] - t_fine[0])
    # out of range: never seen; fewer real samples than the edge needs: never seen
    assert np.isinf(V.first_seen_time(pos, np.array([J]), dt, *fr.args(), 1e3)[0])
    assert np.isinf(V.first_seen_time(pos, np.array([int(want // dt)]), dt, *fr.args(), 1e6)[0])
