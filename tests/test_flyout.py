"""The batched flyout: fast path equals the NumPy reference; physics invariants."""

from types import SimpleNamespace as NS

import numpy as np
import pytest

from shieldlab import earth
from shieldlab.flyout.integrate import FULL, EarthModel, coast, fly, propagate, run
from shieldlab.flyout.records import Phase
from shieldlab.flyout.vehicle import ballistic_vehicle, vehicle_from_missiles

SCUD_DRAG = NS(mach=[0, .85, 1, 1.2, 2, 4.5], cd=[.2, .2, .27, .27, .2, .2])
RV_DRAG = NS(mach=[0, 1, 2, 5, 20], cd=[.1, .2, .15, .1, .09])


def two_stage():
    """A generic two-stage MRBM with a separating RV (test vehicle, not a catalogue entry)."""
    return NS(name="test-2stage", thrust_termination=False, vertical_rise_s=8.0, payload_kg=800.0,
              diameter_m=1.25, drag=SCUD_DRAG,
              reentry_vehicle=NS(mass_kg=700.0, diameter_m=0.8, drag=RV_DRAG),
              stages=[NS(propellant_kg=12000.0, dry_mass_kg=1500.0, isp_vac_s=265.0, isp_sl_s=240.0,
                         burn_time_s=60.0, diameter_m=1.25),
                      NS(propellant_kg=5000.0, dry_mass_kg=700.0, isp_vac_s=280.0, isp_sl_s=None,
                         burn_time_s=50.0, diameter_m=1.25)])


def scud():
    return NS(name="test-scud", thrust_termination=True, vertical_rise_s=5.0, payload_kg=1000.0, diameter_m=0.88,
              drag=SCUD_DRAG, reentry_vehicle=None,
              stages=[NS(propellant_kg=3699.0, dry_mass_kg=1198.0, isp_vac_s=250.0, isp_sl_s=230.0,
                         burn_time_s=75.0, diameter_m=0.88)])


@pytest.fixture(scope="module")
def mixed_batch():
    ms = [two_stage(), scud(), two_stage(), scud(), two_stage(), scud()]
    veh = vehicle_from_missiles(ms).scaled(thrust=[1.0, 1.02, 0.98, 1.0, 1.01, 0.99],
                                           burn=[1.0, 1.0, 1.03, 0.97, 1.0, 1.0], drag=[1, 1.1, .9, 1, 1, 1])
    lat = np.radians([35.0, 35.0, 10.0, -40.0, 60.0, 0.0])
    lon = np.radians([40.0, 40.0, -60.0, 100.0, 10.0, 179.9])
    r0 = earth.geodetic_to_ecef(lat, lon, np.array([0.0, 500.0, 0.0, 1200.0, 0.0, 0.0]))
    kw = dict(launch_pos=r0, launch_time=np.array([0.0, 3.3, 10.0, 0.7, 25.25, 1.0]),
              kick=np.radians([20.0, 30.0, 35.0, 15.0, 25.0, 40.0]), azimuth=np.radians([0, 90, 200, 300, 45, 270]),
              cutoff=np.array([np.inf, 60.0, np.inf, np.inf, 95.0, 74.0]), t0=0.0, dt=1.0, T=2400)
    return veh, kw


def fly_both_engines(veh, kw):
    """The flights of ``veh`` (``fly``'s keywords ``kw``) by the fast path and the NumPy
    reference, held equal: paths to 1 mm and 1 µm/s, phases exactly, events to 1e-9; returns
    both (other test modules call it)."""
    a = fly(veh, **kw, engine="numba")
    b = fly(veh, **kw, engine="numpy")
    np.testing.assert_allclose(a.pos, b.pos, rtol=0, atol=1e-3)
    np.testing.assert_allclose(a.vel, b.vel, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(a.phase, b.phase)
    for f in ("burnout_time", "burnout_speed", "apogee_time", "apogee_alt", "impact_time"):
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-9, atol=1e-6, err_msg=f)
    return a, b


def test_fast_path_equals_reference(mixed_batch):
    a, b = fly_both_engines(*mixed_batch)
    np.testing.assert_allclose(a.impact_pos, b.impact_pos, atol=1e-3)


def test_fast_path_equals_reference_with_sub_steps(mixed_batch):
    """At a 5 s sampling step both paths split thrust and air into 1 s sub-steps alike.  The
    single-stage Scuds, in the air throughout, agree to the micrometre; the two-stage flights
    coast above the air in 5 s Adams steps, where the two implementations' algebraically
    different but equivalent fourth-order formulas part by O(h^5): ~1e-8 m a step at 1 s,
    ~3e-5 m at 5 s, 0.1 m over the flight."""
    veh, kw = mixed_batch
    kw = {**kw, "dt": 5.0, "T": 480}
    a = fly(veh, **kw, engine="numba")
    b = fly(veh, **kw, engine="numpy")
    scuds = [1, 3, 5]
    np.testing.assert_allclose(a.pos[scuds], b.pos[scuds], rtol=0, atol=1e-6)
    np.testing.assert_allclose(a.pos, b.pos, rtol=0, atol=0.5)
    np.testing.assert_allclose(a.impact_time, b.impact_time, rtol=1e-9, atol=1e-3)
    np.testing.assert_allclose(a.impact_pos, b.impact_pos, atol=0.5)
    c = fly(veh, **{**kw, "dt": 1.0, "T": 2400}, engine="numba")
    assert np.all(np.linalg.norm(a.impact_pos - c.impact_pos, axis=-1) < 30.0)  # the physics does not coarsen


def test_pitch_over_from_a_pole_heads_down_the_aimed_meridian():
    """At a pole the azimuth is measured from the launch longitude's meridian (the limit along
    it: what earth.initial_bearing gives there), and the pitch-over holds that heading
    (kernel.POLAR_CAP_M): the initial great-circle bearing to a point sends the missile down the
    point's meridian, whatever the launch longitude, and a launch 11 m off the pole on the same
    meridian flies the same path.  Fast path and reference alike.  (Read from each position's
    meridian, the heading curled the pitch-over into a spiral about the axis.)"""
    lat = np.radians([90.0, 90.0, -90.0, -90.0, 89.9999, -89.9999])
    lon0 = np.radians([0.0, 123.0, -45.0, 170.0, 0.0, -45.0])
    lon1 = np.radians([-100.0, -100.0, 30.0, 30.0, -100.0, 30.0])
    az = earth.initial_bearing(lat, lon0, np.sign(lat) * np.radians(40.0), lon1)
    veh = vehicle_from_missiles([two_stage()] * 6)
    kw = dict(launch_pos=earth.geodetic_to_ecef(lat, lon0, 0.0), launch_time=np.zeros(6), kick=np.radians(45.0),
              azimuth=az, cutoff=np.inf, t0=0.0, dt=1.0, T=2400)
    tr, _ = fly_both_engines(veh, kw)
    assert np.all(np.isfinite(tr.impact_time))
    # past the pitch-over (8 s vertical, 10 s pitch-over) the ground track follows the meridian
    _, lon, _ = earth.ecef_to_geodetic(tr.pos[:4, 30])
    np.testing.assert_allclose(np.angle(np.exp(1j * (lon - lon1[:4]))), 0.0, atol=np.radians(0.1))
    lat_i, lon_i, _ = earth.ecef_to_geodetic(tr.impact_pos)
    rng = earth.great_circle_distance(lat, lon0, lat_i, lon_i)
    # the Earth turns the same under every shot from a pole: the same range, the same drift west
    np.testing.assert_allclose(rng, rng[0], rtol=1e-6)
    drift = np.angle(np.exp(1j * (lon_i - lon1)))
    assert drift[0] < 0.0
    np.testing.assert_allclose(drift, drift[0], rtol=0, atol=1e-5)
    # 11 m off the pole: the same flight
    for pole, near in ((0, 4), (2, 5)):
        assert np.max(np.linalg.norm(tr.pos[near] - tr.pos[pole], axis=-1)) < 100.0


def test_phases_and_events_are_consistent(mixed_batch):
    veh, kw = mixed_batch
    tr = fly(veh, **kw)
    assert tr.pos.shape == (6, 2400, 3) and tr.phase.shape == (6, 2400)
    for b in range(6):
        ph = tr.phase[b]
        assert np.all(np.diff(ph.astype(int)) >= 0), "phases never go back"
        pre = tr.t < tr.launch_time[b]
        assert np.all(ph[pre] == Phase.PRELAUNCH)
        if pre.any():
            np.testing.assert_allclose(tr.pos[b, pre], np.broadcast_to(kw["launch_pos"][b], (pre.sum(), 3)))
        assert np.isfinite(tr.impact_time[b])
        landed = tr.t >= tr.impact_time[b]
        assert np.all(ph[landed] == Phase.IMPACTED)
        _, _, alt = earth.ecef_to_geodetic(tr.impact_pos[b])
        assert abs(alt) < 0.01, "impact is on the ellipsoid"
        boost = ph == Phase.BOOST
        assert np.all(tr.t[boost] < tr.burnout_time[b] + 1e-9)
        assert tr.launch_time[b] < tr.burnout_time[b] < tr.apogee_time[b] < tr.impact_time[b]
    # thrust termination shortens the burn: element 1 cut at 60 s after launch
    assert tr.burnout_time[1] == pytest.approx(kw["launch_time"][1] + 60.0)
    # cut-off after the last stage changes nothing: element 5 burns 74 s of 75 s scaled by 1.0
    assert tr.burnout_time[5] == pytest.approx(kw["launch_time"][5] + 74.0)


def test_cutoff_shortens_range():
    veh = vehicle_from_missiles([scud()] * 3)
    r0 = earth.geodetic_to_ecef(np.radians(30.0), 0.0, 0.0)
    tr = fly(veh, r0, np.zeros(3), np.radians([30.0] * 3), np.zeros(3), np.array([np.inf, 70.0, 60.0]),
             t0=0.0, dt=1.0, T=800)
    lat, lon, _ = earth.ecef_to_geodetic(tr.impact_pos)
    rng = earth.great_circle_distance(np.radians(30.0), 0.0, lat, lon)
    assert rng[0] > rng[1] > rng[2] > 0
    assert tr.burnout_speed[0] > tr.burnout_speed[1] > tr.burnout_speed[2]


def test_rocket_equation_in_vacuum_without_gravity_losses():
    """Vertical burn, no drag: burnout speed = Tsiolkovsky delta-v minus gravity loss.

    With thrust along the vertical for the whole burn, the gravity loss is the
    integral of g over the burn (g varies < 1 % over a Scud's ~70 km boost), so
    v_bo = Isp g0 ln(m0/m1) - g_mean t_b within 1 %.
    """
    m = scud()
    veh = vehicle_from_missiles([m])
    veh = veh.__class__(**{**veh.__dict__, "stage_thrust_sl": veh.stage_thrust_vac.copy(),
                           "vertical_rise": np.array([1e6])})
    r0 = earth.geodetic_to_ecef(0.0, 0.0, 0.0)
    model = EarthModel(rotating=False, j2=False, drag=False)
    tr = fly(veh, r0[None], np.zeros(1), np.zeros(1), np.zeros(1), t0=0.0, dt=0.5, T=400, model=model)
    s = m.stages[0]
    m0 = s.propellant_kg + s.dry_mass_kg + m.payload_kg
    dv = s.isp_vac_s * earth.G0 * np.log(m0 / (m0 - s.propellant_kg))
    g_mean = earth.GM / (earth.WGS84_A + 35e3) ** 2
    assert tr.burnout_speed[0] == pytest.approx(dv - g_mean * s.burn_time_s, rel=0.01)


def test_jacobi_integral_conserved_in_rotating_frame():
    """Coasting in ECEF with rotation and point-mass gravity conserves the Jacobi
    integral  C = |v|^2/2 - GM/|r| - |w x r|^2/2  (Vallado, Fundamentals of
    Astrodynamics and Applications, 4th ed., sec. 12.?; any restricted-problem text)."""
    B = 4
    lat = np.radians([0.0, 30.0, -45.0, 70.0])
    r = earth.geodetic_to_ecef(lat, np.radians([0, 50, 120, -30]), 200e3)
    enu = earth.enu_matrix(lat, np.radians([0, 50, 120, -30]))
    v = np.einsum("bij,bi->bj", enu, np.array([[3000.0, 1000.0, 1500.0]] * B))
    model = EarthModel(rotating=True, j2=False, drag=False)
    pos, vel, _, ev = run(ballistic_vehicle(B), r, v, np.zeros(B), np.zeros(B), np.zeros(B), np.zeros(B),
                          grid_t0=0.0, dt=1.0, T=200, model=model)
    w = np.array([0, 0, earth.OMEGA_EARTH])

    def jacobi(p, u):
        return 0.5 * (u * u).sum(-1) - earth.GM / np.linalg.norm(p, axis=-1) - 0.5 * (np.cross(w, p) ** 2).sum(-1)

    live = np.arange(200) < 150
    c = jacobi(pos[:, live], vel[:, live])
    assert np.max(np.abs(c - c[:, :1])) < 1e-3  # J/kg, of ~6e7


def test_coast_and_propagate_agree():
    r = earth.geodetic_to_ecef(np.radians(40.0), np.radians(30.0), 300e3)
    enu = earth.enu_matrix(np.radians(40.0), np.radians(30.0))
    v = enu.T @ np.array([2500.0, 500.0, 800.0])
    x = np.concatenate([r, v])[None]
    pos, _, ev = coast(x, 2.0, 100)
    p2 = propagate(x, np.array([120.0]), steps=60)
    np.testing.assert_allclose(pos[0, 60], p2[0, :3], atol=0.01)


def test_batch_shape_and_broadcast():
    veh = vehicle_from_missiles([scud()] * 6)
    r0 = earth.geodetic_to_ecef(np.radians(30.0), 0.0, 0.0)
    tr = fly(veh, r0, np.zeros((2, 3)), np.full((2, 3), 0.4), np.zeros((2, 3)), t0=0.0, dt=1.0, T=500)
    assert tr.pos.shape == (2, 3, 500, 3) and tr.impact_time.shape == (2, 3) and tr.impact_pos.shape == (2, 3, 3)
    assert np.allclose(tr.pos[0, 0], tr.pos[1, 2])


def test_bad_engine_name():
    veh = vehicle_from_missiles([scud()])
    with pytest.raises(ValueError, match="engine"):
        run(veh, np.zeros((1, 3)), np.zeros((1, 3)), [0.0], [0.0], [0.0], [np.inf], grid_t0=0, dt=1, T=2,
            engine="fortran")


def test_powered_flight_converges_with_step_size():
    """Halving the step changes a two-stage flight's impact by metres, not kilometres:
    the steering mode and the stage are held fixed over each sub-step, so RK4 keeps its
    order through the pitch-over and staging (a switch inside a sub-step made the
    error first-order in the step)."""
    veh = vehicle_from_missiles([two_stage()])
    r0 = earth.geodetic_to_ecef(np.radians(38.0), np.radians(46.0), 0.0)[None]
    out = {}
    for dt in (2.0, 1.0, 0.5, 0.25):
        tr = fly(veh, r0, np.zeros(1), np.radians([35.0]), np.radians([275.0]), t0=0.0, dt=dt, T=int(3000 / dt))
        out[dt] = tr.impact_pos[0]
    for dt in (2.0, 1.0, 0.5):
        assert np.linalg.norm(out[dt] - out[0.25]) < 30.0, dt


def test_thread_pool_gives_the_same_flights(monkeypatch):
    """A big batch is flown in blocks on a thread pool: same numbers as one thread."""
    from shieldlab.flyout import kernel

    B = 2 * kernel.PARALLEL_MIN_BATCH + 37
    rng = np.random.default_rng(4)
    veh = vehicle_from_missiles([scud()]).take(np.zeros(B, int))
    r0 = earth.geodetic_to_ecef(np.radians(rng.uniform(-60, 60, B)), np.radians(rng.uniform(-180, 180, B)), 0.0)
    args = (veh, r0, np.zeros((B, 3)), np.zeros(B), np.radians(rng.uniform(10, 50, B)), rng.uniform(0, 6.28, B),
            np.full(B, np.inf))
    _, _, _, pooled = run(*args, grid_t0=0.0, dt=1.0, T=800, record=False)
    monkeypatch.setattr(kernel, "PARALLEL_MIN_BATCH", 10**9)
    _, _, _, single = run(*args, grid_t0=0.0, dt=1.0, T=800, record=False)
    np.testing.assert_array_equal(pooled, single)


def test_kernel_geodetic_matches_exact_form():
    # The fast path takes geodetic coordinates from one Bowring step (no trigonometry);
    # earth.ecef_to_geodetic is the exact form, itself held to pymap3d by tests/test_earth.py.
    from shieldlab.flyout import kernel

    rng = np.random.default_rng(7)
    lat = rng.uniform(-np.pi / 2, np.pi / 2, 400)
    lon = rng.uniform(-np.pi, np.pi, 400)
    for top, lat_tol in ((200e3, 1e-10), (6000e3, 1e-8)):
        h = rng.uniform(-1e3, top, 400)
        r = earth.geodetic_to_ecef(lat, lon, h)
        got = np.array([kernel.geodetic(*p, False) for p in r])
        assert np.max(np.abs(got[:, 2] - h)) < 1e-6
        assert np.max(np.abs(got[:, 0] - lat)) < lat_tol
        np.testing.assert_allclose(np.array([kernel.height(*p, False) for p in r]), got[:, 2], rtol=0, atol=0)


@pytest.mark.parametrize("model", [FULL, EarthModel(drag=False), EarthModel(rotating=False, j2=False, sphere=True)])
def test_interleaved_coast_gives_the_same_bits(mixed_batch, model):
    # Impact-only runs fly the drag-free coast kernel._LANES trajectories at a time (kernel._coast_lanes);
    # recorded runs fly each trajectory alone.  Same arithmetic, so the same events to the bit.
    veh, kw = mixed_batch
    idx = np.arange(300) % 6
    args = (veh.take(idx), kw["launch_pos"][idx], np.zeros((300, 3)), kw["launch_time"][idx], kw["kick"][idx],
            kw["azimuth"][idx], kw["cutoff"][idx])
    ev = [run(*args, grid_t0=0.0, dt=1.0, T=2400, model=model, record=rec)[3] for rec in (True, False)]
    assert np.isfinite(ev[1][:, 4]).sum() >= 250  # most land inside the grid
    np.testing.assert_array_equal(ev[0], ev[1])


def test_a_long_shot_east_past_the_slow_azimuth_fixed_point_converges():
    """The notional ICBM 18,500 km east of Tehran: each azimuth correction (turn by the bearing
    error) closed under 30 % of the error, and ten left the impact kilometres off, refused
    ("no full-burn ... trajectory") under every profile.  Secant steps after the ten converge
    it; its flatter full burns pass the antipode, where the signed ground range jumps from
    about +20,000 to -20,000 km: a root finder closing on that jump is no depressed shot."""
    from shieldlab import catalog
    from shieldlab.flyout import aim

    m = catalog.missiles()["notional-iran-icbm"]
    lat0, lon0, lat1, lon1 = np.radians([35.7, 51.4, -34.599, -145.315])
    for profile in ("min-energy", "lofted"):
        s = aim.solve([m], lat0, lon0, 0.0, lat1, lon1, profile=profile)
        assert s.branch[0] == "lofted" and s.aim_error[0] < 5.0, (profile, s.aim_error)
    with pytest.raises(aim.NoSolutionError):
        aim.solve([m], lat0, lon0, 0.0, lat1, lon1, profile="depressed")


def test_the_root_finder_refuses_a_jump_it_closes_on():
    """``aim._root`` on a bracket straddling the target across a jump (not a root) returns the
    jump's place unless told how far from the target its answer may miss."""
    from shieldlab.flyout import aim

    def f(rows, x):
        return np.where(x < 0.3, 1.0, -1.0) * 1e4 + x  # jumps from about +1e4 to -1e4 at 0.3

    # the first bracket straddles 0 across the jump; the second holds a root, at 0.5
    lo, hi, target = np.array([0.0, 0.4]), np.ones(2), np.array([0.0, -1e4 + 0.5])
    jump = aim._root(f, lo, hi, target)
    assert abs(jump[0] - 0.3) < 1e-6 and abs(jump[1] - 0.5) < 1e-6
    kept = aim._root(f, lo, hi, target, max_miss=1.0)
    assert np.isnan(kept[0]) and abs(kept[1] - 0.5) < 1e-6
