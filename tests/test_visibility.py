"""The one field-of-regard test (shieldlab.sensors.visibility) against its definition in
numpy terms (earth.ecef_to_aer, earth.line_of_sight), and the first-look time of a path."""

import math
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
                   rng.uniform(0, 0.05), refraction_k=1.0)


def test_visible_matches_its_definition_everywhere():
    """Without refraction (k = 1): the geometric definition, point for point."""
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


def _all_round(el_min_deg, lat=0.0, alt=0.0, k=V.STANDARD_K):
    spec = SimpleNamespace(az_fov_deg=360.0, el_min_deg=el_min_deg, el_max_deg=90.0)
    return R.Radar("r", spec, lat, 0.0, alt, 0.0, -np.pi / 2, refraction_k=k)


@pytest.mark.parametrize("k", [1.0, 4.0 / 3.0, 2.0])
@pytest.mark.parametrize("h_site, h_target", [(0.0, 10e3), (2_085.0, 100e3), (30.0, 1e3)])
def test_refracted_horizon_is_the_effective_earth_closed_form(k, h_site, h_target):
    """Along the equator the WGS84 Earth is a circle of radius a, so the farthest a radar at
    height h_s sees a target at height h_t (no elevation limit) is exactly the tangent of a
    straight ray over an Earth of radius k a: the central angle k (acos(ka / (ka + h_s)) +
    acos(ka / (ka + h_t))), ≈ sqrt(2 k a h_s) + sqrt(2 k a h_t) on the ground (the 4/3-Earth
    radio horizon: Skolnik 2001, ch. 8).  Found by bisection on the field-of-regard test."""
    a = earth.WGS84_A
    radar = _all_round(-90.0, alt=h_site, k=k)
    ka = k * a
    want = k * (np.arccos(ka / (ka + h_site)) + np.arccos(ka / (ka + h_target)))
    lo, hi = 0.0, 0.5
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        p = (a + h_target) * np.array([np.cos(mid), np.sin(mid), 0.0])
        lo, hi = (mid, hi) if R.visible(radar, p) else (lo, mid)
    # metres on the ground; the line-of-sight test's 1e-10 tolerance on the squared scaled
    # distance lets a radar on the surface see ~0.3 mm deep, ~60 m past its own horizon
    assert a * lo == pytest.approx(a * want, abs=100.0 * k if h_site < 1.0 else 1.0)
    # the small-height form, to its own accuracy (0.6 % at 100 km)
    approx = np.sqrt(2 * ka * h_site) + np.sqrt(2 * ka * h_target)
    assert a * lo == pytest.approx(approx, rel=1e-2)


def _apparent_elevation(k, pos, lat=0.0):
    """The lowest elevation limit [rad] at which an all-round radar at (lat, 0, 0) still sees ``pos``."""
    lo, hi = -20.0, 90.0
    for _ in range(45):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if R.visible(_all_round(mid, lat=lat, k=k), pos) else (lo, mid)
    return np.radians(lo)


@pytest.mark.parametrize("lat_deg, az_deg", [(0.0, 90.0), (40.0, 0.0), (40.0, 135.0), (70.0, 270.0)])
def test_refraction_raises_the_elevation_by_the_rays_bending(lat_deg, az_deg):
    """At low elevation the apparent elevation of a target exceeds the geometric one by
    Δel = r cos(el) (1 - 1/k) / (2 R) / (1 - r sin(el) / (k R)): the textbook
    height-finding equation h = r sin(el) + r² cos²(el) / (2 k R) (Skolnik 2001, ch. 8)
    at k and at 1 for the same height and slant range r, to first order in Δel.  R is the
    Earth's radius of curvature in the target's azimuth (Euler's formula from the meridian
    and prime-vertical radii).  The effective-Earth model, and this equation, are for low
    elevations: above ~10° both depart from the real (smaller) refraction, where it no
    longer decides what is seen."""
    lat = np.radians(lat_deg)
    w = 1 - earth.WGS84_E2 * np.sin(lat) ** 2
    M, N = earth.WGS84_A * (1 - earth.WGS84_E2) / w**1.5, earth.WGS84_A / np.sqrt(w)
    az = np.radians(az_deg)
    R_az = 1 / (np.cos(az) ** 2 / M + np.sin(az) ** 2 / N)
    for rng_km, el_deg in [(50, 1.0), (200, 2.0), (400, 1.0), (800, 5.0), (1000, 3.0), (1500, 1.0)]:
        pos = earth.aer_to_ecef(az, np.radians(el_deg), rng_km * 1e3, lat, 0.0, 0.0)
        el1 = _apparent_elevation(1.0, pos, lat)
        el43 = _apparent_elevation(4 / 3, pos, lat)
        assert el1 == pytest.approx(np.radians(el_deg), abs=1e-9)
        r = rng_km * 1e3
        want = r * np.cos(el1) * (1 - 3 / 4) / (2 * R_az) / (1 - r * np.sin(el1) / (4 / 3 * R_az))
        assert el43 - el1 == pytest.approx(want, rel=0.01), (rng_km, el_deg)


def test_refraction_brings_the_first_look_at_a_sejjil_forward():
    """The AN/TPY-2 at Kürecik first has a Sejjil-2 from Tabriz in its field of regard
    (above its 0.5° elevation limit) 85 s after launch with a geometric line of sight, a
    few seconds earlier through the standard atmosphere, and earlier still over a 4/3
    Earth (which bends the whole ray as the lowest kilometres do).  At the standard first
    look, the ray traced from the site through the exponential atmosphere reaches the
    missile at an apparent elevation of 0.5°; at the 4/3 one the textbook height-finding
    equation (h = r sin el + r² cos² el / (2 k R)) gives 0.5°."""
    import dataclasses

    from scipy.optimize import brentq

    from shieldlab.engine.chain import fly_threats
    from shieldlab.flyout.interp import in_flight, state_at
    from shieldlab.scenario import load_world
    from shieldlab.sensors import atmosphere

    w = load_world("epaa-phase-1")
    truth = fly_threats(w).truth
    n = [t.name for t in w.threats].index("sejjil-sofia")
    t = np.arange(0.0, 200.0, 0.05) + w.threats[n].launch_time
    pos, _ = state_at(truth, t, velocity=False)
    tpy2 = next(s.radar for s in w.sensors if s.radar.name == "kurecik-tpy2")
    assert tpy2.refraction_k is None  # the preset's radars: the standard atmosphere
    first, at = {}, {}
    for k in (1.0, None, 4.0 / 3.0):
        seen = R.visible(dataclasses.replace(tpy2, refraction_k=k), pos[n]) & in_flight(truth, t)[n]
        at[k] = int(np.argmax(seen))
        first[k] = t[at[k]] - w.threats[n].launch_time
    assert 84.0 < first[1.0] < 86.0
    assert 1.0 < first[1.0] - first[None] < 6.0 < first[1.0] - first[4.0 / 3.0] < 10.0
    # the ray trace at the standard first look: the target's ground angle and height on the
    # sphere of the Earth's curvature towards it, and the elevation whose ray gets there
    e_, n_, u_ = earth.enu_matrix(tpy2.lat, tpy2.lon) @ (pos[n, at[None]] - tpy2.site_ecef)
    horiz = math.hypot(e_, n_)
    w2 = 1 - earth.WGS84_E2 * math.sin(tpy2.lat) ** 2
    M, N = earth.WGS84_A * (1 - earth.WGS84_E2) / w2**1.5, earth.WGS84_A / math.sqrt(w2)
    radius = 1 / ((n_ / horiz) ** 2 / M + (e_ / horiz) ** 2 / N)
    vert = radius + tpy2.alt + u_
    theta, h_t = math.atan2(horiz, vert), math.hypot(horiz, vert) - radius
    el = brentq(lambda x: atmosphere.ray_angle(tpy2.alt, h_t, x, radius) - theta, 0.0, 0.05)
    assert math.degrees(el) == pytest.approx(0.5, abs=0.02)
    # at the 4/3 first look, the height-finding equation
    _, _, r = earth.ecef_to_aer(pos[n, at[4.0 / 3.0]], tpy2.lat, tpy2.lon, tpy2.alt)
    _, _, h43 = earth.ecef_to_geodetic(pos[n, at[4.0 / 3.0]])
    el_app = np.arcsin((h43 - tpy2.alt - r**2 / (2 * 4 / 3 * 6_371e3)) / r)  # cos² el ≈ 1 at these angles
    assert np.degrees(el_app) == pytest.approx(0.5, abs=0.05)


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
            pos, np.zeros_like(pos), np.array([n]), dt, np.zeros(1), np.ones(3), np.full(1, np.inf), hits,
            np.array([r.spec.scan_period_s for r in radars]), np.array([1, 1]),
            np.array([float(R.snr50(1e-6))] * 2), np.array([1e3 * r.spec.max_range_km for r in radars]),
            np.array([1e-6, 1e-6]), arr("site"), arr("trig"), arr("boresight"), arr("half_fov"), arr("el_lo"),
            arr("el_hi"), arr("refr"), np.array([R.face_geometry(r) for r in radars]))[0]

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


def test_looks_search_then_track():
    """The search-and-track schedule, by hand: a frame of 4 scans; the object becomes
    detectable (Pd = 1) at scan 2, is first looked at on the search scan 4 and then every
    scan; it leaves the field at scan 8 and is found again on the next search scan, 12."""
    K = 16
    cand = np.ones((1, K), bool)
    cand[0, 8] = False
    pd = np.where(np.arange(K) >= 2, 1.0, 0.0)[None]
    none = np.array([K])
    got = R.looks(cand, np.zeros((1, K)), pd, 4, none)[0]
    assert np.flatnonzero(got).tolist() == [4, 5, 6, 7, 12, 13, 14, 15]
    assert R.looks(cand, np.zeros((1, K)), pd, 1, none)[0].tolist() == (cand[0] & (pd[0] > 0)).tolist()
    # cued at scan 3: looked at from then on, not only from the search scan 4 (nor, before
    # the cue, on a non-search scan)
    assert np.flatnonzero(R.looks(cand, np.zeros((1, K)), pd, 4, np.array([3]))[0]).tolist() == \
        [3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15]
    # a miss while held does not let go: Pd 0.5 scan by scan, u alternating
    u = np.tile([0.2, 0.7], K // 2)[None]
    got = R.looks(np.ones((1, K), bool), u, np.full((1, K), 0.5), 4, none)[0]
    assert np.flatnonzero(got).tolist() == list(range(0, K, 2))


def test_expected_confirmation_with_search_frames_is_the_mean_of_the_looks():
    """One radar searching every 5th scan: the expected detections the confirmation time is
    built on are the mean of the search-and-track looks over 40,000 draws (4 sigma), scan by
    scan, for the target climbing through the radar's range."""
    dt, J = 1.0, 200
    spec = SimpleNamespace(az_fov_deg=360.0, el_min_deg=0.0, el_max_deg=90.0, max_range_km=330.0, ref_rcs_m2=1.0,
                           pfa=1e-6, scan_period_s=1.0, search_period_s=5.0)
    radar = R.Radar("r", spec, np.radians(40.0), np.radians(30.0), 0.0, 0.0)
    lat, lon = earth.destination(radar.lat, radar.lon, 0.3, 400e3)
    base, up = earth.geodetic_to_ecef(lat, lon, 0.0), earth.unit_vector(lat, lon)
    pos = np.ascontiguousarray((base + (1500.0 * dt * np.arange(J))[:, None] * up)[None])
    args = (np.array([1.0]), np.array([R.search_every(spec)]), np.array([float(R.snr50(1e-6))]),
            np.array([330e3]), np.array([1e-6]), *[np.array([a]) for a in V.FieldOfRegard.of(radar).args()],
            np.array([R.face_geometry(radar)]))
    assert R.search_every(spec) == 5
    # Monte Carlo of the schedule on the same scans (one per sample)
    ok = R.visible(radar, pos[0])
    pd = np.where(ok, R.pd_swerling1(R.snr(radar, np.linalg.norm(pos[0] - radar.site_ecef, axis=-1), 1.0), 1e-6), 0)
    n = 40_000
    u = np.random.default_rng(3).random((n, J))
    hits = np.cumsum(R.looks(np.broadcast_to(ok, (n, J)).copy(), u, np.broadcast_to(pd, (n, J)).copy(), 5,
                             np.full(n, J)), axis=1)
    mean, sd = hits.mean(0), hits.std(0) / np.sqrt(n)
    for h in (1.0, 2.0, 3.0, 5.0):
        t = V.expected_confirmation_time(pos, np.zeros_like(pos), np.array([J]), dt, np.zeros(1), np.ones(3),
                                         np.full(1, np.inf), h, *args)[0]
        k = int(round(t / dt))
        assert 0 < k < J - 1
        assert mean[k] >= h - 4 * sd[k] and mean[k - 1] < h + 4 * sd[k - 1], (h, k, mean[k - 1], mean[k])


def test_the_radar_that_leads_a_track_is_the_first_to_confirm_alone():
    """Two radars (330 km and 1 s scans, 300 km and 0.7 s) and targets climbing straight up at
    ranges and bearings around them: the threaded function's times are the serial ones to
    the bit, and the radar it names as leading each track is the one whose own run, alone,
    confirms first (-1 where neither would alone); both lead somewhere."""
    dt, J, init_hits = 4.0, 60, 3.0
    radars = [R.Radar(f"r{i}", SimpleNamespace(az_fov_deg=360.0, el_min_deg=0.0, el_max_deg=90.0, max_range_km=rmax,
                                                ref_rcs_m2=1.0, pfa=1e-6, scan_period_s=per),
                      np.radians(40.0 + 1.5 * i), np.radians(30.0), 0.0, 0.0)
              for i, (rmax, per) in enumerate([(330.0, 1.0), (300.0, 0.7)])]
    paths = []
    for bearing in np.radians([0.0, 60.0, 150.0, 240.0]):
        for reach_km in (150.0, 250.0, 320.0, 420.0):
            lat, lon = earth.destination(radars[0].lat, radars[0].lon, bearing, reach_km * 1e3)
            up, base = earth.unit_vector(lat, lon), earth.geodetic_to_ecef(lat, lon, 0.0)
            paths.append(base + (200.0 * dt * np.arange(J))[:, None] * up)
    pos = np.ascontiguousarray(np.stack(paths))
    M = pos.shape[0]
    fields = [V.FieldOfRegard.of(r) for r in radars]

    def args(keep):
        f = [fields[i] for i in keep]
        return (np.array([radars[i].spec.scan_period_s for i in keep]), np.ones(len(keep), np.int64),
                np.array([float(R.snr50(1e-6))] * len(keep)),
                np.array([1e3 * radars[i].spec.max_range_km for i in keep]), np.full(len(keep), 1e-6),
                *(np.array([getattr(x, a) for x in f]) for a in ("site", "trig", "boresight", "half_fov", "el_lo",
                                                                  "el_hi", "refr")),
                np.array([R.face_geometry(radars[i]) for i in keep]))

    common = (pos, np.zeros_like(pos), np.full(M, J), dt, np.zeros(M), np.ones(3), np.full(M, np.inf), init_hits)
    serial = V.expected_confirmation_time(*common, *args([0, 1]))
    t, lead = V.expected_confirmation_times(*common, *args([0, 1]), True)
    assert np.array_equal(t, serial)
    assert np.array_equal(V.expected_confirmation_times(*common, *args([0, 1]), False)[0], serial)
    assert (V.expected_confirmation_times(*common, *args([0, 1]), False)[1] == -1).all()
    alone = np.stack([V.expected_confirmation_time(*common, *args([i])) for i in (0, 1)], axis=1)
    want = np.where(np.isfinite(alone).any(axis=1), np.argmin(alone, axis=1), -1)
    assert np.array_equal(lead, want)
    assert set(lead) >= {0, 1} and np.all(alone.min(axis=1) >= t)  # the sum comes no later than either
