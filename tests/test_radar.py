"""Tests of the radar sensor model (shieldlab.sensors.radar).

Oracles: the Swerling-1 single-pulse closed form against a Monte Carlo of the
square-law detector (Richards, *Fundamentals of Radar Signal Processing*, 2005,
ch. 6), the radar equation's R^-4 law (Skolnik, *Introduction to Radar
Systems*, 3rd ed., 2001), the geometric radio horizon sqrt(2 R h), and sampling
statistics of the Gaussian measurement noise.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.optimize import brentq

from shieldlab import earth
from shieldlab.flyout.records import Phase, Trajectories
from shieldlab.sensors import radar as rd

DEG = np.pi / 180.0
SITE = dict(lat=38.35 * DEG, lon=37.79 * DEG, alt=2_085.0)  # Kürecik (public-figures.md §1)


def _spec(**kw):
    base = dict(
        id="test", name="test radar", band="X", max_range_km=1_000.0, ref_rcs_m2=0.1,
        az_fov_deg=120.0, el_min_deg=0.0, el_max_deg=90.0, scan_period_s=5.0,
        sigma_range_m=20.0, sigma_angle_mrad=1.0, pfa=1e-6, source="test",
    )
    base.update(kw)
    return SimpleNamespace(**base)


def _radar(boresight_deg=90.0, mask_deg=0.0, scan_loss=True, **kw):
    return rd.Radar("r1", _spec(**kw), boresight_az=boresight_deg * DEG,
                    elevation_mask=mask_deg * DEG, scan_loss=scan_loss, **SITE)


def _traj(pos, phase=Phase.MIDCOURSE, dt=1.0, launch_time=-np.inf, impact_time=np.inf):
    """Trajectories around positions (..., T, 3), in flight from ``launch_time`` to ``impact_time``."""
    pos = np.asarray(pos, dtype=float)
    batch, n_t = pos.shape[:-2], pos.shape[-2]
    nan = np.full(batch, np.nan)
    return Trajectories(
        t=np.arange(n_t) * dt, pos=pos, vel=np.zeros_like(pos),
        phase=np.broadcast_to(np.asarray(phase, dtype=np.int8), pos.shape[:-1]).copy(),
        launch_time=np.full(batch, launch_time), burnout_time=nan, burnout_speed=nan, apogee_time=nan,
        apogee_alt=nan, impact_time=np.full(batch, impact_time), impact_pos=pos[..., -1, :].copy(),
    )


def _at(az_deg, el_deg, range_m, n_t=1):
    """ECEF (..., n_t, 3) of a target fixed at (az, el, range) from the site, repeated n_t times."""
    p = earth.aer_to_ecef(np.asarray(az_deg) * DEG, np.asarray(el_deg) * DEG, range_m,
                          SITE["lat"], SITE["lon"], SITE["alt"])
    return np.repeat(p[..., None, :], n_t, axis=-2)


# --------------------------------------------------------------------------- detection law


@pytest.mark.parametrize("pfa", [1e-4, 1e-6, 1e-8])
def test_pd_at_snr50_is_one_half(pfa):
    assert rd.pd_swerling1(rd.snr50(pfa), pfa) == pytest.approx(0.5, abs=1e-12)


def test_snr50_textbook_value():
    """Swerling 1, one pulse, Pfa 1e-6, Pd 0.5: about 12.8 dB (Richards 2005 ch. 6;
    1.5 dB above the 11.2 dB of Albersheim's steady-target formula, the fluctuation loss)."""
    assert 10 * np.log10(rd.snr50(1e-6)) == pytest.approx(12.8, abs=0.05)


def test_pd_against_monte_carlo_square_law_detector():
    """Exponential (Swerling 1) target power plus complex Gaussian noise, threshold -ln(Pfa)."""
    rng = np.random.default_rng(7)
    n, pfa = 400_000, 1e-3
    thr = -np.log(pfa)  # unit noise power, square-law detector
    noise = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2)
    assert np.mean(np.abs(noise) ** 2 > thr) == pytest.approx(pfa, abs=4 * np.sqrt(pfa / n))
    for snr in (1.0, 5.0, 20.0):
        amp = np.sqrt(snr) * (rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2)
        pd_mc = np.mean(np.abs(amp + noise) ** 2 > thr)
        pd = rd.pd_swerling1(snr, pfa)
        assert pd_mc == pytest.approx(pd, abs=4 * np.sqrt(pd * (1 - pd) / n))


def test_pd_monotone_in_range():
    radar = _radar()
    r = np.linspace(10e3, 3_000e3, 500)
    pd = rd.pd_swerling1(rd.snr(radar, r, 0.1), radar.spec.pfa)
    assert np.all(np.diff(pd) < 0)
    assert pd[0] > 0.99 and pd[-1] < 0.05


def test_range_scales_with_rcs_to_the_quarter():
    """Pd = 0.5 at R_max for the reference RCS and at 2 R_max for 16x the RCS."""
    radar = _radar()
    r_max = radar.spec.max_range_km * 1e3
    for rcs, expect in ((0.1, r_max), (1.6, 2 * r_max), (0.1 / 81, r_max / 3)):
        r50 = brentq(lambda r, rcs=rcs: rd.pd_swerling1(rd.snr(radar, r, rcs), radar.spec.pfa) - 0.5,
                     1e3, 1e8, xtol=1e-6)
        assert r50 == pytest.approx(expect, rel=1e-9)


# --------------------------------------------------------------------------- geometry


def test_behind_the_horizon_never_detected():
    """1 km altitude at 400 km is beyond the geometric horizons sqrt(2 R h) of the 2,085 m site
    (163 km) and of the target (113 km): the Earth blocks it, whatever the RCS.  Elevation
    limits are opened to -5 deg so that only the line of sight decides (it sits at -2 deg)."""
    radar = _radar(az_fov_deg=360.0, el_min_deg=-5.0, mask_deg=-5.0)
    lat2, lon2 = earth.destination(SITE["lat"], SITE["lon"], 90 * DEG, np.array([400e3, 200e3]))
    pos = earth.geodetic_to_ecef(lat2, lon2, 1_000.0)
    pos = np.repeat(pos[:, None, :], 200, axis=1)
    det = rd.observe(radar, _traj(pos), 1e4, np.random.default_rng(0))
    assert not det.detected[0].any() and np.all(det.snr[0] == 0)
    assert det.detected[1].all()  # the same target at 200 km is within the horizon


def test_outside_azimuth_fov_never_detected():
    radar = _radar(boresight_deg=90.0, az_fov_deg=120.0)
    pos = _at(np.array([270.0, 155.0, 25.0, 35.0, 145.0]), 10.0, 300e3, n_t=200)
    det = rd.observe(radar, _traj(pos), 1e3, np.random.default_rng(1))
    assert not det.detected[:3].any()  # behind, and just outside the 30..150 deg sector
    assert det.detected[3:].all()  # just inside on both edges


def test_above_el_max_and_below_mask_never_detected():
    radar = _radar(az_fov_deg=360.0, el_max_deg=60.0, mask_deg=5.0)
    pos = _at(90.0, np.array([80.0, 61.0, 4.0, 59.0, 6.0]), 200e3, n_t=200)
    det = rd.observe(radar, _traj(pos), 1e3, np.random.default_rng(2))
    assert not det.detected[:3].any()
    assert det.detected[3:].all()
    np.testing.assert_array_equal(rd.visible(radar, pos[:, 0]), [False, False, False, True, True])


def test_el_min_of_the_spec_also_applies():
    radar = _radar(az_fov_deg=360.0, el_min_deg=3.0, mask_deg=1.0)
    np.testing.assert_array_equal(rd.visible(radar, _at(0.0, np.array([2.0, 4.0]), 100e3)[:, 0]),
                                  [False, True])


def test_only_bodies_in_flight_are_detected():
    """From the launch (inclusive) to the impact (exclusive), between grid samples too."""
    pos = _at(90.0, 10.0, 100e3, n_t=200)
    det = rd.observe(_radar(scan_period_s=0.5), _traj(pos, launch_time=3.5, impact_time=150.2), 1e3,
                     np.random.default_rng(3))
    flying = (det.t >= 3.5) & (det.t < 150.2)
    assert flying.sum() == 294  # scans at 3.5, 4.0, ..., 150.0
    np.testing.assert_array_equal(det.detected, flying)
    assert np.all(det.snr[~flying] == 0) and np.all(det.snr[flying] > 0)
    assert np.all(np.isnan(det.z[~flying]))


# --------------------------------------------------------------------------- observe


def test_detection_frequency_matches_pd():
    """At R_max with the reference RCS half the looks detect (binomial bounds)."""
    radar = _radar()
    n = 20_000
    pos = _at(90.0, 5.0, radar.spec.max_range_km * 1e3, n_t=1)
    pos = np.broadcast_to(pos, (n, 1, 3))
    det = rd.observe(radar, _traj(pos), 0.1, np.random.default_rng(4))
    np.testing.assert_allclose(det.snr, rd.snr50(1e-6), rtol=1e-9)
    assert det.detected.mean() == pytest.approx(0.5, abs=4 * np.sqrt(0.25 / n))


def _residuals(det, radar):
    a, e, r = earth.ecef_to_aer(det.truth_pos, radar.lat, radar.lon, radar.alt)
    res = det.z - np.stack([r, a, e], -1)
    res[..., 1] = np.mod(res[..., 1] + np.pi, 2 * np.pi) - np.pi
    return res


def test_noise_statistics_at_the_specs_sigmas_without_snr_noise():
    """Residuals have zero mean and the spec's sigmas, within sampling error (n = 20,000):
    the azimuth's over cos(el) (an angle in space at 20° of elevation)."""
    radar = _radar(az_fov_deg=360.0, sigma_range_m=35.0, sigma_angle_mrad=0.7)
    radar = rd.Radar(**{**radar.__dict__, "snr_noise": False})
    n = 20_000
    az = np.array([0.01, 90.0, 200.0, 359.99])  # both sides of north: azimuth wraps
    pos = np.broadcast_to(_at(az, 20.0, 400e3, n_t=5), (n // 20, 4, 5, 3))
    det = rd.observe(radar, _traj(pos), 1e3, np.random.default_rng(5))
    assert det.detected.all()
    assert np.all((det.z[..., 1] >= 0) & (det.z[..., 1] < 2 * np.pi))
    res = _residuals(det, radar).reshape(-1, 3)
    sig = np.array([35.0, 0.7e-3 / np.cos(np.radians(20.0)), 0.7e-3])
    m = res.shape[0]
    assert np.all(np.abs(res.mean(0)) < 4 * sig / np.sqrt(m))
    assert np.all(np.abs(res.std(0) / sig - 1) < 4 / np.sqrt(2 * m))
    np.testing.assert_allclose(det.R, np.diag([35.0**2, 0.7e-6**2 * 1e6, 0.7e-6**2 * 1e6]))
    np.testing.assert_array_equal(det.r_scale, 1.0)


def test_the_angle_error_is_an_angle_in_space_at_every_elevation():
    """A monopulse angle error is an angle in space: the report's error across the line of
    sight is R sigma in both directions, at any elevation, so in azimuth it is sigma / cos(el)
    (it had been sigma, which put the horizontal error at R sigma cos(el): 29 m for 85 m at
    70°).  n = 20,000 per elevation; 5° to 80°; and the records' covariance says the same."""
    radar = _radar(az_fov_deg=360.0, sigma_range_m=35.0, sigma_angle_mrad=1.7, el_max_deg=85.0)
    radar = rd.Radar(**{**radar.__dict__, "snr_noise": False})
    n, R = 20_000, 50e3
    els = np.array([5.0, 30.0, 60.0, 70.0, 80.0])
    pos = np.stack([np.broadcast_to(_at(90.0, e, R, n_t=1), (n, 1, 3)) for e in els], axis=1)
    det = rd.observe(radar, _traj(pos), 1e3, np.random.default_rng(9))
    assert det.detected.all()
    # the report's position against the truth in the radar's east-north-up frame: the target is
    # due east, so north is horizontal across the line of sight
    a, e, r = det.z[..., 0, 1], det.z[..., 0, 2], det.z[..., 0, 0]
    north = r * np.cos(e) * np.cos(a)
    want = R * 1.7e-3
    assert np.all(np.abs(north.std(axis=0) / want - 1) < 4 / np.sqrt(2 * n)), north.std(axis=0)
    res = _residuals(det, radar)[..., 0, :]
    assert np.all(np.abs(res[..., 2].std(axis=0) / 1.7e-3 - 1) < 4 / np.sqrt(2 * n))
    cov = det.R_at(0)
    np.testing.assert_allclose(cov[..., 1, 1], (1.7e-3 / np.cos(e)) ** 2, rtol=1e-12)
    np.testing.assert_allclose(cov[..., 2, 2], 1.7e-3**2, rtol=1e-12)


@pytest.mark.parametrize("snr_db", [5.0, 15.0, 20.0, 30.0, 45.0])
def test_noise_grows_as_the_measured_snr_falls(snr_db):
    """With SNR-dependent noise a report's sigmas are the spec's times sqrt(100 / SNR') (the
    catalogue's figures hold at 20 dB; sigma ~ beamwidth / sqrt(2 SNR)), SNR' the look's
    measured SNR clipped to [ln(1/Pfa), 1e4]: the Swerling-1 echo power x less the noise.
    Given a detection x exceeds the threshold T = ln(1/Pfa) by an exponential of mean
    1 + SNR (memoryless), so the measured SNR averages T + SNR; the residuals divided by
    their reported sigmas are standard normal; the record's R_at is R times r_scale, its
    azimuth's variance over cos² of the measured elevation."""
    radar = _radar(az_fov_deg=360.0, sigma_range_m=35.0, sigma_angle_mrad=0.7, max_range_km=1000.0,
                   ref_rcs_m2=1.0, scan_period_s=1.0)
    snr = 10 ** (snr_db / 10)
    # the range at which a 1 m² target has this SNR: SNR50 (R_max / R)^4 = snr
    rng_m = 1e6 * (float(rd.snr50(1e-6)) / snr) ** 0.25
    n = 40_000
    pos = np.broadcast_to(_at(np.array([10.0, 250.0]), 20.0, rng_m, n_t=4), (n // 8, 2, 4, 3))
    det = rd.observe(radar, _traj(pos), 1.0, np.random.default_rng(7))
    np.testing.assert_allclose(det.snr, snr, rtol=1e-9)
    ok = det.detected
    m = ok.sum()
    assert m > 1000
    measured = 100.0 / det.r_scale[ok]  # the clipped measured SNR
    T = np.log(1e6)
    assert measured.min() >= T * (1 - 1e-12) and measured.max() <= 1e4 * (1 + 1e-12)
    if snr_db < 35.0:  # below the upper clip the mean is T + SNR (the clip at T binds only just above T - 1)
        assert measured.mean() == pytest.approx(T + snr, rel=4 * (1 + snr) / (T + snr) / np.sqrt(m) + 0.01)
    np.testing.assert_array_equal(det.r_scale[~ok], 1.0)
    j = 2
    rows = ok[..., j]
    want = det.R * det.r_scale[rows, j][:, None, None]
    want[:, 1, 1] /= np.cos(det.z[rows, j, 2]) ** 2
    np.testing.assert_allclose(det.R_at(j)[rows], want, rtol=1e-12)
    sig = np.array([35.0, 0.7e-3 / np.cos(np.radians(20.0)), 0.7e-3])
    res = _residuals(det, radar)[ok] / (sig * np.sqrt(det.r_scale[ok])[:, None])
    assert np.all(np.abs(res.std(0) - 1) < 4 / np.sqrt(2 * m))


def test_search_frames_then_track_revisits():
    """A radar that searches every 5 s and revisits every 1 s: an object at Pd = 0.5 is first
    detected on a search scan (a multiple of 5), then looked at every scan; it is detected
    on about half of all scans after that, and the search costs the expected delay."""
    radar = _radar(scan_period_s=1.0, search_period_s=5.0)
    assert rd.search_every(radar.spec) == 5
    n = 4000
    pos = np.broadcast_to(_at(90.0, 5.0, radar.spec.max_range_km * 1e3, n_t=60), (n, 60, 3))
    det = rd.observe(radar, _traj(pos), 0.1, np.random.default_rng(8))
    seen = det.detected.any(axis=-1)
    assert seen.mean() > 0.998  # 12 search looks at Pd 0.5 all miss with probability 2.4e-4
    first = np.argmax(det.detected[seen], axis=-1)
    assert np.all(first % 5 == 0)
    # search looks to the first detection at Pd 0.5: geometric, so the first falls at 5 (1/p - 1) = 5 s
    assert first.mean() == pytest.approx(5.0, abs=4 * 5 * np.sqrt(2.0) / np.sqrt(n))
    after = np.arange(60)[None, :] > first[:, None]
    assert det.detected[seen][after].mean() == pytest.approx(0.5, abs=0.01)
    # every scan searching: detections on every scan from the start
    every = rd.observe(_radar(scan_period_s=1.0), _traj(pos), 0.1, np.random.default_rng(8))
    assert every.detected.mean() == pytest.approx(0.5, abs=0.01)
    assert np.argmax(every.detected, axis=-1).mean() == pytest.approx(1.0, abs=0.1)


def test_determinism_and_seed_dependence():
    radar = _radar()
    az, rng_m = np.linspace(40, 140, 30)[:, None], np.linspace(500e3, 1500e3, 7)
    pos = _at(az, 3.0, rng_m, n_t=10)  # (30, 7, 10, 3)
    traj = _traj(pos)
    a = rd.observe(radar, traj, 0.1, np.random.default_rng(42))
    b = rd.observe(radar, traj, 0.1, np.random.default_rng(42))
    c = rd.observe(radar, traj, 0.1, np.random.default_rng(43))
    np.testing.assert_array_equal(a.detected, b.detected)
    np.testing.assert_array_equal(a.z, b.z)  # nan positions equal too
    assert not np.array_equal(a.detected, c.detected)


def test_scan_clock_and_shapes():
    """Scans every scan_period_s on the radar's own clock, whatever the sampling step; batch
    axes and rcs broadcast; the truth at the scans is interpolated between samples."""
    pos = _at(np.array([[60.0], [90.0]]), np.array([10.0, 20.0, 30.0]), 100e3, n_t=50)  # (2,3,50,3)
    traj = _traj(pos, dt=0.5)  # grid 0 .. 24.5 s
    rcs = np.array([1.0, 2.0, 4.0])
    det = rd.observe(_radar(scan_period_s=2.2), traj, rcs, np.random.default_rng(6))
    np.testing.assert_allclose(det.t, np.arange(12) * 2.2)
    assert det.z.shape == (2, 3, 12, 3) and det.detected.shape == det.snr.shape == (2, 3, 12)
    np.testing.assert_allclose(det.truth_pos, pos[..., :12, :], rtol=0, atol=1e-6)  # at rest: the same point
    np.testing.assert_allclose(det.snr[:, 1] / det.snr[:, 0], 2.0, rtol=1e-12)  # SNR ∝ rcs
    site = earth.geodetic_to_ecef(SITE["lat"], SITE["lon"], SITE["alt"])
    np.testing.assert_allclose(det.site_ecef, site)


def test_scans_do_not_depend_on_the_sampling_step():
    """The same straight-line flight sampled every 0.5 s and every 5 s: the same scan times
    and (to the interpolation's exactness on a cubic path) the same truth at the scans."""
    radar = _radar(scan_period_s=1.0, az_fov_deg=360.0)
    p0 = _at(90.0, 10.0, 200e3)[0]
    v = np.array([300.0, -200.0, 100.0])

    def flight(dt):
        t = np.arange(0.0, 100.0 + 1e-9, dt)
        pos = p0 + t[:, None] * v
        tr = _traj(pos, dt=dt)
        return Trajectories(**{**tr.__dict__, "vel": np.broadcast_to(v, pos.shape).copy()})

    a = rd.observe(radar, flight(0.5), 1e3, np.random.default_rng(7))
    b = rd.observe(radar, flight(5.0), 1e3, np.random.default_rng(7))
    np.testing.assert_array_equal(a.t, b.t)
    np.testing.assert_allclose(a.truth_pos, b.truth_pos, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(a.detected, b.detected)


def test_one_generator_per_run_draws_each_run_alone():
    """With a generator per row of the leading axis, row j's reports depend on its generator
    only: the same with 3 rows or with 5."""
    radar = _radar()
    pos = _at(np.linspace(40, 140, 4)[:, None], 3.0, np.linspace(500e3, 1500e3, 5), n_t=10)  # (4, 5, 10, 3)
    seeds = [np.random.SeedSequence(9, spawn_key=(k,)) for k in range(5)]
    big = rd.observe(radar, _traj(np.broadcast_to(pos, (5,) + pos.shape)), 0.1,
                     [np.random.default_rng(s) for s in seeds])
    small = rd.observe(radar, _traj(np.broadcast_to(pos, (3,) + pos.shape)), 0.1,
                       [np.random.default_rng(s) for s in seeds[:3]])
    np.testing.assert_array_equal(big.detected[:3], small.detected)
    np.testing.assert_array_equal(big.z[:3], small.z)
    assert not np.array_equal(big.detected[3], big.detected[4])


def test_the_compiled_trackers_azimuth_factor_is_the_records_one():
    """records.azimuth_variance_factor_one (what the compiled trackers call) gives the NumPy
    factor's bits at every elevation, past the zenith and for no report (nan) too."""
    from shieldlab.sensors.records import azimuth_variance_factor, azimuth_variance_factor_one

    el = np.concatenate([np.linspace(-1.6, 1.6, 2001), [np.nan, np.inf, -np.inf]])
    np.testing.assert_array_equal(azimuth_variance_factor(el), [azimuth_variance_factor_one(e) for e in el])


# --------------------------------------------------------------------------- scan loss


def test_scan_gain_is_cos_to_the_exponent_off_the_face_normal():
    """One face: cos(θ)^2.5 of the azimuth off the boresight (7.5 dB at 60°, the range 0.648 of
    the catalogue's); four faces all around: the normal nearest the azimuth (45° off at most,
    none off at 90° from the boresight); two faces over a 160° sector: normals at ±40°; no faces
    (turned mechanically) or scan_loss off: 1.  The compiled twin (reach and footprint's
    expected confirmation) gives the same numbers."""
    from shieldlab.sensors.visibility import face_gain

    n = rd.SCAN_LOSS_EXPONENT
    assert n == 2.5
    one = _radar(faces=1)
    off = np.array([-60.0, -30.0, 0.0, 10.0, 59.0])
    np.testing.assert_allclose(rd.scan_gain(one, (90.0 + off) * DEG), np.cos(off * DEG) ** n, rtol=1e-12)
    assert 10 * np.log10(float(rd.scan_gain(one, 150.0 * DEG))) == pytest.approx(-7.526, abs=1e-3)
    assert float(rd.scan_gain(one, 150.0 * DEG)) ** 0.25 == pytest.approx(0.6484, abs=1e-4)
    four = _radar(faces=4, az_fov_deg=360.0)
    az = np.array([90.0, 135.0, 180.0, 200.0, 270.0, 330.0, 45.0]) * DEG  # boresight 90
    nearest = np.array([0.0, 45.0, 0.0, 20.0, 0.0, 30.0, 45.0]) * DEG
    np.testing.assert_allclose(rd.scan_gain(four, az), np.cos(nearest) ** n, rtol=1e-12)
    two = _radar(faces=2, az_fov_deg=160.0)
    np.testing.assert_allclose(rd.scan_gain(two, np.array([50.0, 130.0, 90.0, 10.0]) * DEG),
                               np.cos(np.array([0.0, 0.0, 40.0, 40.0]) * DEG) ** n, rtol=1e-12)
    assert (rd.scan_gain(_radar(faces=0, az_fov_deg=360.0), az) == 1.0).all()
    quiet = rd.Radar("r1", _spec(faces=1), boresight_az=90 * DEG, scan_loss=False, **SITE)
    assert (rd.scan_gain(quiet, off * DEG) == 1.0).all()
    for r in (one, four, two):
        w, field, exp = rd.face_geometry(r)
        grid = np.linspace(-np.pi, 3 * np.pi, 777)
        inside = np.abs(np.mod(grid - r.boresight_az + np.pi, 2 * np.pi) - np.pi) <= field / 2
        ref = rd.scan_gain(r, grid)
        got = np.array([face_gain(a, r.boresight_az, w, field, exp) for a in grid])
        np.testing.assert_allclose(got[inside], ref[inside], rtol=1e-12)


def test_observe_loses_snr_off_the_face_normal():
    """A look 50° off a single face's normal has the closed-form SNR times cos(50°)^2.5; the
    Pd = 0.5 range there is R_max cos(50°)^(2.5/4)."""
    radar = _radar(faces=1)
    r_max = radar.spec.max_range_km * 1e3
    pos = np.concatenate([_at(90.0, 5.0, 0.5 * r_max), _at(140.0, 5.0, 0.5 * r_max)])[:, None]
    det = rd.observe(radar, _traj(pos), 0.1, np.random.default_rng(1))
    expect = rd.snr50(1e-6) * 16.0 * np.array([1.0, np.cos(50 * DEG) ** 2.5])
    np.testing.assert_allclose(det.snr[:, 0], expect, rtol=1e-6)
    r50 = brentq(lambda r: rd.pd_swerling1(rd.snr(radar, r, 0.1, 140.0 * DEG), 1e-6) - 0.5, 1e3, 1e8, xtol=1e-6)
    assert r50 == pytest.approx(r_max * np.cos(50 * DEG) ** (2.5 / 4), rel=1e-9)


def test_the_catalogue_refuses_faces_that_would_look_past_90_degrees():
    from shieldlab.catalog.models import Sensor

    base = dict(id="x-radar", name="x", origin="x", band="X", max_range_km=500.0, ref_rcs_m2=1.0,
                el_min_deg=0.0, el_max_deg=60.0, scan_period_s=1.0, sigma_range_m=10.0, sigma_angle_mrad=1.0,
                source="test")
    assert Sensor(**base, az_fov_deg=120.0).faces == 1  # a sector: one face by default
    assert Sensor(**base, az_fov_deg=360.0).faces == 0  # all around: turned mechanically by default
    assert Sensor(**base, az_fov_deg=360.0, array_faces=3).face_width_deg == 120.0
    for fov, faces in ((200.0, 1), (360.0, 2)):
        with pytest.raises(ValueError, match="array_faces"):
            Sensor(**base, az_fov_deg=fov, array_faces=faces)
