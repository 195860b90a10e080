"""Radar cross-section by phase and aspect (shieldlab.sensors.signature), as the radars and
the expected confirmation read it."""

from types import SimpleNamespace

import numpy as np

from shieldlab import catalog, earth
from shieldlab.flyout.records import Phase, Trajectories
from shieldlab.sensors import radar as R
from shieldlab.sensors import visibility as V
from shieldlab.sensors.signature import Signature, rcs

SIG = Signature(np.array(0.01), np.array(1.0), np.array(3.0))
NO_CUE = np.full(1, np.inf)


def test_rcs_by_phase_and_aspect():
    """Boost: the booster figure; after burnout nose-on, side-on and between, the decibel
    interpolation ln σ = cos² θ ln σ_nose + sin² θ ln σ_side (45°: the geometric mean);
    the sign of the cosine does not matter (tail-on is nose-on)."""
    c45 = np.cos(np.pi / 4)
    got = rcs(SIG, np.array([True, False, False, False, False]), np.array([0.3, 1.0, -1.0, 0.0, c45]))
    np.testing.assert_allclose(got, [3.0, 0.01, 0.01, 1.0, np.sqrt(0.01 * 1.0)], rtol=1e-12)
    # monotone from nose-on to side-on
    th = np.linspace(0, np.pi / 2, 50)
    assert np.all(np.diff(rcs(SIG, False, np.cos(th))) > 0)
    # a constant signature is exactly its figure, whatever the aspect
    np.testing.assert_array_equal(rcs(Signature.constant(0.1), False, np.linspace(-1, 1, 7)), 0.1)


def test_catalogue_signature_defaults_to_the_nose_on_figure():
    scud, shahab = catalog.get_missile("scud-b"), catalog.get_missile("shahab-3")
    s = Signature.of_missiles([scud, shahab])
    np.testing.assert_array_equal(s.nose, [0.5, 0.1])
    np.testing.assert_array_equal(s.broadside, [0.5, shahab.rcs_broadside_m2])
    np.testing.assert_array_equal(s.booster, [0.5, shahab.booster_rcs_m2])


def _radar():
    spec = SimpleNamespace(max_range_km=500.0, ref_rcs_m2=1.0, az_fov_deg=360.0, el_min_deg=0.0, el_max_deg=90.0,
                           scan_period_s=1.0, sigma_range_m=10.0, sigma_angle_mrad=1.0, pfa=1e-6)
    return R.Radar("r", spec, np.radians(40.0), np.radians(30.0), 0.0, 0.0)


def _climb(radar, T=120):
    """A body 300 km from the radar climbing at an angle, burning until t = 40 s."""
    lat, lon = earth.destination(radar.lat, radar.lon, 0.5, 300e3)
    up, n = earth.unit_vector(lat, lon), earth.enu_matrix(lat, lon)[1]  # up and north
    v = 1500.0 * (0.6 * up + 0.8 * n)
    t = np.arange(T, dtype=float)
    pos = earth.geodetic_to_ecef(lat, lon, 0.0) + t[:, None] * v
    nan = np.array([np.nan])
    traj = Trajectories(t=t, pos=pos[None], vel=np.broadcast_to(v, pos.shape)[None].copy(),
                        phase=np.full((1, T), Phase.MIDCOURSE, np.int8), launch_time=np.array([0.0]),
                        burnout_time=np.array([40.0]), burnout_speed=nan, apogee_time=nan, apogee_alt=nan,
                        impact_time=np.array([np.inf]), impact_pos=pos[None, -1])
    return traj, v


def test_observe_reads_the_signature_scan_by_scan():
    """The SNR at every scan is the radar equation's for the booster figure before burnout
    and for the aspect's RCS after it (the angle between velocity and line of sight)."""
    radar = _radar()
    traj, v = _climb(radar)
    det = R.observe(radar, traj, SIG, np.random.default_rng(1))
    los = traj.pos[0] - radar.site_ecef
    cos = los @ v / (np.linalg.norm(los, axis=1) * np.linalg.norm(v))
    want_rcs = rcs(SIG, traj.t < 40.0, cos)
    assert want_rcs[0] == 3.0 and 0.01 < want_rcs[-1] < 1.0
    want = R.snr(radar, np.linalg.norm(los, axis=1), want_rcs)
    ok = det.snr[0] > 0
    assert ok.sum() > 100
    np.testing.assert_allclose(det.snr[0][ok], want[ok], rtol=1e-9)
    # the constant signature of the old interface gives the old numbers
    a = R.observe(radar, traj, 0.01, np.random.default_rng(1))
    b = R.observe(radar, traj, Signature.constant(0.01), np.random.default_rng(1))
    np.testing.assert_array_equal(a.snr, b.snr)
    np.testing.assert_array_equal(a.detected, b.detected)


def test_expected_confirmation_reads_the_same_signature():
    """The expected detections the footprint's cue is built on use the same RCS: scan by
    scan, the radar module's Pd for the signature's RCS, summed, reaches init_hits at the
    kernel's confirmation time; with four array faces, 29 deg off the nearest normal, their scan
    loss in both."""
    import dataclasses

    plain = _radar()
    plain = dataclasses.replace(plain, spec=SimpleNamespace(**{**vars(plain.spec), "max_range_km": 420.0}))
    radar = dataclasses.replace(plain, spec=SimpleNamespace(**vars(plain.spec), faces=4), scan_loss=True)
    traj, v = _climb(radar)
    pos, vel = np.ascontiguousarray(traj.pos), np.ascontiguousarray(traj.vel)
    sig = np.array([0.01, 1.0, 3.0])
    fr = V.FieldOfRegard.of(radar)
    args = (np.array([1.0]), np.array([1]), np.array([float(R.snr50(1e-6))]), np.array([420e3]), np.array([1e-6]),
            *[np.array([a]) for a in fr.args()], np.array([R.face_geometry(radar)]))
    los = traj.pos[0] - radar.site_ecef
    cos = los @ v / (np.linalg.norm(los, axis=1) * np.linalg.norm(v))
    az = earth.ecef_to_aer(traj.pos[0], radar.lat, radar.lon, radar.alt)[0]
    pd = R.pd_swerling1(R.snr(radar, np.linalg.norm(los, axis=1), rcs(SIG, traj.t < 40.0, cos), az), 1e-6)
    pd = np.where(R.visible(radar, traj.pos[0]), pd, 0.0)
    gain = R.scan_gain(radar, az)
    assert 0.70 < gain.min() <= gain.max() < 0.9  # 29 to 20 deg off a face normal as it climbs north
    for hits in (3.0, 10.0, 20.0, 29.0):
        t = V.expected_confirmation_time(pos, vel, np.array([traj.t.size]), 1.0, np.array([40.0]), sig, NO_CUE, hits,
                                         *args)[0]
        k = int(t)
        assert np.cumsum(pd)[k] >= hits - 1e-9 > np.cumsum(pd)[k - 1]
    # the loss tells: without it the expected detections cross some of those counts at other scans
    pd_plain = np.where(R.visible(radar, traj.pos[0]),
                        R.pd_swerling1(R.snr(plain, np.linalg.norm(los, axis=1), rcs(SIG, traj.t < 40.0, cos)), 1e-6),
                        0.0)
    crossing = [[int(np.argmax(np.cumsum(p) >= h - 1e-9)) for h in (3.0, 10.0, 20.0, 29.0)] for p in (pd, pd_plain)]
    assert crossing[0] != crossing[1]
    # the booster's 3 m² is seen before burnout: three detections come sooner than for the RV alone
    n = np.array([traj.t.size])
    alone = V.expected_confirmation_time(pos, vel, n, 1.0, np.array([0.0]), sig, NO_CUE, 3.0, *args)[0]
    first = V.expected_confirmation_time(pos, vel, n, 1.0, np.array([40.0]), sig, NO_CUE, 3.0, *args)[0]
    assert first < alone
