"""The weapon-locating radar, the point-of-origin estimator and the error ellipses."""

import dataclasses
import inspect
import math

import numpy as np
import pytest
import shapely
from scipy.stats import norm
from shapely.geometry import Polygon

from shieldlab import earth
from shieldlab.airspace import borders
from shieldlab.artillery import ellipse as ell
from shieldlab.artillery.fire import FireMission, fire
from shieldlab.artillery.laying import lay
from shieldlab.artillery.locating import Locator, Reports, observe, truth_at
from shieldlab.artillery.origin import locate
from shieldlab.catalog.artillery import get_locating_radar, get_round

RADAR = (math.radians(36.78), math.radians(38.95), 395.0)


def _volley(rid="mortar-120mm-he", km=12.0, n=20, seed=1, shot_km=None):
    rnd = get_round(rid)
    wlat, wlon = earth.destination(RADAR[0], RADAR[1], math.pi, 1e3 * km)
    shot = 1e3 * (shot_km if shot_km is not None else min(0.7 * rnd.max_range_km, km - 1.0))
    alat, alon = earth.destination(wlat, wlon, 0.0, shot)
    m = FireMission(name="m", round=rnd, origin=(float(wlat), float(wlon), 390.0),
                    aim=(float(alat), float(alon), 390.0), rounds_per_burst=n, round_interval=5.0,
                    speed=rnd.muzzle_velocity_ms, range_sigma=0.005 * shot, deflection_sigma=0.002 * shot,
                    muzzle_velocity_sigma=rnd.muzzle_velocity_sigma_ms, angle=rnd.angle)
    laying = lay([rnd], tuple(np.array([x]) for x in m.origin), tuple(np.array([x]) for x in m.aim))
    return fire([m], laying, [(0, 0, np.random.default_rng(seed))])


def _radar(spec_id="an-tpq-36", facing=math.pi, quiet=False, **spec_changes):
    spec = get_locating_radar(spec_id)
    if quiet:
        spec_changes.update(sigma_range_m=0.1, sigma_azimuth_mrad=0.01, sigma_elevation_mrad=0.01, pd=1.0)
    if spec_changes:
        spec = spec.model_copy(update=spec_changes)
    return Locator(name="r", spec=spec, lat=RADAR[0], lon=RADAR[1], alt=RADAR[2], facing=facing,
                   fence=math.radians(spec.fence_elevation_deg), ground_alt=390.0)


def _observe(loc, v, seed=2):
    return observe(loc, v, [np.random.default_rng(seed)], [np.arange(v.n)])


def test_reports_start_at_the_fence_and_follow_the_truth():
    v = _volley(n=5)
    loc = _radar(quiet=True)
    rep = _observe(loc, v)
    assert rep.detected.all()
    # the fence crossing: the round's elevation from the radar is the fence's there
    at = truth_at(v, rep.fence_time[:, None])[:, 0]
    _, el, _ = earth.ecef_to_aer(at, loc.lat, loc.lon, loc.alt)
    assert np.allclose(el, loc.fence, atol=2e-6)
    spec = loc.spec
    assert np.allclose(rep.t[:, 0], rep.fence_time + spec.verify_s)
    assert np.allclose(np.diff(rep.t, axis=1), spec.update_s)
    assert rep.valid.sum(axis=1).min() == loc.reports_per_track == int(round(spec.track_s / spec.update_s)) + 1
    az, el, rg = earth.ecef_to_aer(truth_at(v, rep.t), loc.lat, loc.lon, loc.alt)
    assert np.max(np.abs(rep.z[..., 0] - rg)) < 1.0 and np.max(np.abs(rep.z[..., 2] - el)) < 1e-4


def test_no_reports_beyond_reach_outside_the_sector_or_with_bad_luck():
    v = _volley(n=10)
    assert not _observe(_radar(facing=0.0), v).detected.any()  # facing away
    assert not _observe(_radar(mortar_range_km=8.0), v).detected.any()  # 12 km away, reach 8 km
    rep = _observe(_radar(pd=0.5), _volley(n=200))
    assert 0.4 < rep.detected.mean() < 0.6  # one uniform draw per round against pd
    assert not rep.valid[~rep.detected].any() and np.isnan(rep.z[~rep.detected]).all()


def test_the_estimator_reads_only_the_reports():
    """Its one input is the Reports record, which carries no truth: the same reports on another
    truth give the same estimate."""
    assert list(inspect.signature(locate).parameters) == ["rep", "min_reports"]
    truthful = {"pos", "vel", "path", "origin", "truth", "impact", "drag_error", "impulse_error"}
    assert not truthful & {f.name for f in dataclasses.fields(Reports)}
    v = _volley(n=4)
    rep = _observe(_radar(), v)
    a = locate(rep)
    v.path.pos[:] = 0.0  # the truth scrambled after the reports were made
    b = locate(rep)
    assert np.array_equal(a.pos, b.pos, equal_nan=True) and np.array_equal(a.cov, b.cov, equal_nan=True)


@pytest.mark.parametrize("rid, km, tol_m", [("mortar-120mm-he", 12.0, 0.5), ("m107-155mm-he", 12.0, 1.0),
                                            ("grad-9m22u-122mm", 15.0, 5.0)])
def test_near_noise_free_reports_find_the_origin(rid, km, tol_m):
    """With a radar of centimetres and hundredths of a milliradian, the fit and the backward flight put
    the origin within ``tol_m`` of the truth (a rocket's within its virtual-origin offset's error)."""
    v = _volley(rid, km, n=6)
    o = locate(_observe(_radar(quiet=True), v))
    assert o.located.all(), o.why
    err = np.linalg.norm(o.pos - v.origin, axis=1)
    assert err.max() < tol_m, err
    assert np.allclose(o.launch_time, v.fire_time, atol=0.05)
    assert np.allclose(o.elevation, v.elevation, atol=math.radians(0.2))


def test_a_wrong_ground_height_moves_the_origin_along_the_line_of_fire():
    """No terrain model: a ground taken 50 m too high stops the backward flight 50 / tan(q) short of
    the weapon, toward the target (q the flight's angle at the ground)."""
    v = _volley(n=6)
    loc = _radar(quiet=True)
    loc = dataclasses.replace(loc, ground_alt=440.0)
    o = locate(_observe(loc, v))
    en = np.einsum("nij,nj->ni", earth.enu_matrix(o.lat, o.lon)[:, :2], o.pos - v.origin)
    ahead = en[:, 0] * np.sin(v.azimuth) + en[:, 1] * np.cos(v.azimuth)
    assert np.allclose(ahead, 50.0 / np.tan(v.elevation), rtol=0.05)


def test_ellipse_axes_orientation_and_scale():
    a, b, th = 30.0, 10.0, math.radians(60.0)  # major axis 60 deg east of north
    u = np.array([math.sin(th), math.cos(th)])
    w = np.array([math.cos(th), -math.sin(th)])
    cov = (a * a * np.outer(u, u) + b * b * np.outer(w, w))[None]
    e = ell.ellipse(cov)
    assert e.major[0] == pytest.approx(a) and e.minor[0] == pytest.approx(b)
    assert math.degrees(e.azimuth[0]) == pytest.approx(60.0)
    assert ell.scale(0.95) == pytest.approx(2.4477, abs=1e-4)
    assert ell.scale(0.5) == pytest.approx(1.1774, abs=1e-4)
    lat, lon, alt = np.array([0.64]), np.array([0.68]), np.array([400.0])
    la, lo = ell.offsets(lat, lon, alt, cov)
    p = earth.geodetic_to_ecef(la, lo, 400.0)
    en = np.einsum("ij,nkj->nki", earth.enu_matrix(0.64, 0.68)[:2], p - earth.geodetic_to_ecef(0.64, 0.68, 400.0))
    inside = ell.nees(en[0], np.broadcast_to(cov[0], (en.shape[1], 2, 2))) <= ell.scale(0.95) ** 2
    assert inside.mean() == pytest.approx(0.95, abs=0.01)
    bla, blo = ell.boundary(lat, lon, alt, cov, 0.95, 36)
    q = earth.geodetic_to_ecef(bla, blo, 400.0)
    enb = np.einsum("ij,nkj->nki", earth.enu_matrix(0.64, 0.68)[:2], q - earth.geodetic_to_ecef(0.64, 0.68, 400.0))
    assert np.allclose(ell.nees(enb[0], np.broadcast_to(cov[0], (36, 2, 2))), ell.scale(0.95) ** 2, rtol=1e-3)


@pytest.mark.parametrize("d_m", [0.0, 10.0, 25.0, -15.0])
def test_the_probability_of_the_true_side_of_a_straight_border(d_m):
    """A border along a parallel, an estimate d north of it with sigma_north 10 m: the share of the
    sample north of the line is Phi(d / 10)."""
    lat0, lon0 = 36.7, 38.95
    area = Polygon([(38.5, lat0), (39.5, lat0), (39.5, 37.5), (38.5, 37.5)])
    terr = borders.Territory.from_lonlat("north", shapely.segmentize(area, 0.001), lat0, lon0)  # kept as drawn
    dlat = d_m / earth.R_EARTH_MEAN
    lat = np.array([math.radians(lat0) + dlat])
    cov = np.diag([40.0 ** 2, 10.0 ** 2])[None]
    la, lo = ell.offsets(lat, np.array([math.radians(lon0)]), np.array([0.0]), cov)
    share = borders.contains(terr, np.degrees(la), np.degrees(lo)).mean()
    assert share == pytest.approx(norm.cdf(d_m / 10.0), abs=0.01)
