"""Reports without labels: the spent booster, false alarms, and each scan as a shuffled set."""

import dataclasses
import math

import numpy as np
import pytest

import shieldlab
from shieldlab import catalog, earth
from shieldlab.engine import chain
from shieldlab.flyout.interp import state_at
from shieldlab.sensors import boosters, scans
from shieldlab.sensors.radar import observe, search_every
from shieldlab.sensors.records import FALSE_ALARM, NO_REPORT
from shieldlab.sensors.signature import Signature

C = 3


@pytest.fixture(scope="module")
def scene():
    w = shieldlab.load_world("epaa-phase-1")
    truth = chain._broadcast(chain.fly_threats(w).truth, C)
    sig = Signature.of_missiles([t.missile for t in w.threats])
    return w, truth, sig


def _reports(scene, i=0, false_alarms="confirmed", seed=1):
    w, truth, sig = scene
    s = w.sensors[i]
    rngs = chain.run_streams(np.random.SeedSequence(seed), 0, C, 1)[0]
    det = observe(s.radar, truth, sig, rngs)
    return det, scans.scan_reports(s.radar, det, truth, sig, rngs, false_alarms)


def test_threat_reports_are_the_radars_detections(scene):
    det, rep = _reports(scene)
    N = rep.n_threats
    assert ((rep.truth_id >= 0) & (rep.truth_id < N)).sum() == det.detected.sum()
    c, k, m = np.nonzero((rep.truth_id >= 0) & (rep.truth_id < N))
    n = rep.truth_id[c, k, m]
    np.testing.assert_array_equal(rep.z[c, k, m], det.z[c, n, k])
    np.testing.assert_array_equal(rep.r_scale[c, k, m], det.r_scale[c, n, k])
    assert det.detected[c, n, k].all()


def test_each_scan_is_a_shuffled_padded_set(scene):
    _, rep = _reports(scene)
    # the reports first, the empty slots after; empty slots hold nothing
    assert (rep.valid[..., :-1] >= rep.valid[..., 1:]).all()
    assert np.isnan(rep.z[~rep.valid]).all() and np.isfinite(rep.z[rep.valid]).all()
    assert (rep.truth_id[~rep.valid] == NO_REPORT).all() and (rep.truth_id[rep.valid] != NO_REPORT).all()
    # where a threat's report sits says nothing: threat 0's report takes many slots
    where0 = np.nonzero(rep.truth_id == 0)[2]
    busy = rep.count >= 3
    assert busy.sum() > 50 and np.unique(where0).size >= 3


def test_spent_boosters_are_reported_after_burnout(scene):
    w, truth, _ = scene
    _, rep = _reports(scene)
    N = rep.n_threats
    c, k, m = np.nonzero(rep.truth_id >= N)
    assert c.size > 100
    n = rep.truth_id[c, k, m] - N
    assert (rep.t[k] > truth.burnout_time[c, n]).all()



def test_a_missile_that_re_enters_whole_leaves_no_booster():
    """Scud-B, Scud-C and Iskander-M carry no separating re-entry vehicle (the catalogue's
    reentry_vehicle null): the whole missile re-enters, so no radar reports a spent booster
    of them (there had been two booster tracks a run of a Scud pair), while the Shahab-3's
    separates as before."""
    w = shieldlab.load_world("patriot-turkey-2013")
    truth = chain._broadcast(chain.fly_threats(w).truth, C)
    assert truth.separates is not None and not truth.separates.any()
    assert not catalog.get_missile("scud-b").reentry_vehicle and catalog.get_missile("shahab-3").reentry_vehicle
    sig = Signature.of_missiles([t.missile for t in w.threats])
    s = next(s for s in w.sensors if s.radar is not None)
    rngs = chain.run_streams(np.random.SeedSequence(1), 0, C, 1)[0]
    det = observe(s.radar, truth, sig, rngs)
    rep = scans.scan_reports(s.radar, det, truth, sig, rngs, 0.0)
    assert det.detected.sum() > 50 and not (rep.truth_id >= rep.n_threats).any()
    assert not boosters.positions(truth, truth.t)[1].any()
    # the separating kind keeps its booster: Shahab-3 in nato-russia-2011
    sep = chain.fly_threats(shieldlab.load_world("nato-russia-2011")).truth
    assert sep.separates.all() and boosters.positions(sep, sep.t)[1].any()

def test_booster_trails_the_warhead_and_breaks_up(scene):
    _, truth, _ = scene
    t = np.arange(0.0, float(truth.t[-1]), 2.0)
    pos, present = boosters.positions(truth, t)
    rv, _ = state_at(truth, t)
    bo = truth.burnout_time[..., None]
    assert not (present & (t <= bo)).any()
    gap = np.linalg.norm(pos - rv, axis=-1)
    want = boosters.SEPARATION_SPEED_MS * (t - bo)
    np.testing.assert_allclose(gap[present], np.broadcast_to(want, gap.shape)[present], rtol=1e-9)
    assert np.isnan(pos[~present]).all()
    # gone once the warhead comes down through the break-up altitude
    alt = earth.ecef_to_geodetic(rv)[2]
    down = (t > truth.apogee_time[..., None]) & (alt < boosters.BREAKUP_ALT_M)
    assert down.any() and not (present & down).any()
    up = (t > bo) & (t < truth.apogee_time[..., None])
    assert present[up].all()


def test_booster_at_single_elements_is_the_grids(scene):
    """positions_at (the tracks table's errors) gives the grid's numbers, bit for bit, at
    the (run, threat, time) elements asked; and the warheads' states handed in (pos and
    vel) give what positions interpolates itself."""
    _, truth, _ = scene
    t = np.arange(0.0, float(truth.t[-1]), 3.7)
    grid, present = boosters.positions(truth, t)
    rng = np.random.default_rng(4)
    c, n, k = (rng.integers(0, d, 400) for d in (*truth.batch_shape, t.size))
    one, one_present = boosters.positions_at(truth, (c, n), t[k])
    np.testing.assert_array_equal(one_present, present[c, n, k])
    assert one_present.sum() > 100 and (~one_present).sum() > 20
    np.testing.assert_array_equal(one, grid[c, n, k])
    pos, vel = state_at(truth, t)
    again, again_present = boosters.positions(truth, t, pos=pos, vel=vel)
    np.testing.assert_array_equal(again, grid)
    np.testing.assert_array_equal(again_present, present)


def test_false_alarm_rate_from_the_resolution_cells():
    spec = catalog.get_sensor("an-tpy-2")
    spread = math.sqrt(200.0)
    omega = math.radians(spec.az_fov_deg) * (math.sin(math.radians(spec.el_max_deg))
                                             - math.sin(math.radians(spec.el_min_deg)))  # sr
    beam = spec.sigma_angle_mrad * 1e-3 * spread  # rad
    cells = (spec.max_range_km * 1e3 / (spec.sigma_range_m * spread)) * omega / beam**2
    assert scans.resolution_cells(spec) == pytest.approx(cells, rel=1e-12)
    assert 5e8 < cells < 2e9  # ~1e9 cells: ~980 threshold crossings a frame at Pfa 1e-6
    assert scans.false_alarm_rate(spec, "raw") == pytest.approx(cells * spec.pfa)
    assert scans.false_alarm_rate(spec, "confirmed") == pytest.approx(cells * spec.pfa**2)
    assert scans.false_alarm_rate(spec, 2.5) == 2.5
    for bad in ("often", -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="false_alarms"):
            scans.false_alarm_rate(spec, bad)


def test_false_alarms_fall_on_search_frames_inside_the_field(scene):
    w, _, _ = scene
    radar = w.sensors[0].radar
    spec = radar.spec
    _, rep = _reports(scene, false_alarms=4.0)
    fa = rep.truth_id == FALSE_ALARM
    per_scan = fa.sum(axis=2)  # (C, K)
    search = np.arange(rep.t.size) % search_every(spec) == 0
    assert (per_scan[:, ~search] == 0).all()
    n = per_scan[:, search]
    assert abs(n.mean() - 4.0) < 4 * math.sqrt(4.0 / n.size)  # Poisson mean 4 a frame
    assert abs(n.var() - 4.0) < 0.2 * 4.0  # Poisson: variance = mean
    z = rep.z[fa]
    assert (z[:, 0] >= 0).all() and (z[:, 0] <= spec.max_range_km * 1e3).all()
    off = np.angle(np.exp(1j * (z[:, 1] - radar.boresight_az)))
    assert np.abs(off).max() <= math.radians(spec.az_fov_deg) / 2 + 1e-12
    assert (z[:, 2] >= math.radians(spec.el_min_deg) - 1e-12).all()
    assert (z[:, 2] <= math.radians(spec.el_max_deg) + 1e-12).all()
    # the threats' reports are the same whatever the false alarms
    det, rep0 = _reports(scene, false_alarms=0.0)
    assert not (rep0.truth_id == FALSE_ALARM).any()
    keep = (rep.truth_id >= 0) & (rep.truth_id < rep.n_threats)
    assert keep.sum() == det.detected.sum()


def test_discrimination_calls_each_object_once_and_wrongly_at_the_catalogue_rate(scene):
    w, truth1, sig = scene
    radar = w.sensors[0].radar  # AN/TPY-2: discrimination_error 0.1
    assert radar.spec.discrimination_error == pytest.approx(0.1)
    C2 = 60
    truth = chain._broadcast(chain.fly_threats(w).truth, C2)
    rngs = chain.run_streams(np.random.SeedSequence(9), 0, C2, 1)[0]
    det = observe(radar, truth, sig, rngs)
    rep = scans.scan_reports(radar, det, truth, sig, rngs, 0.0)
    N = rep.n_threats
    wrong, calls = 0, 0
    for c in range(C2):
        for obj in range(2 * N):
            got = rep.call[c][rep.truth_id[c] == obj]
            if got.size:
                assert (got == got[0]).all()  # one call per object, on every report
                wrong += int(got[0] != (obj < N))
                calls += 1
    assert calls > 400
    assert abs(wrong / calls - 0.1) < 4 * math.sqrt(0.1 * 0.9 / calls)
    assert (rep.call[~rep.valid] == -1).all()
    # a radar that does not discriminate makes no call
    plain = dataclasses.replace(radar, spec=radar.spec.model_copy(update={"discrimination_error": None}))
    rep0 = scans.scan_reports(plain, det, truth, sig, chain.run_streams(np.random.SeedSequence(9), 0, C2, 1)[0], 0.0)
    assert (rep0.call == -1).all()


def _objects(rep):
    """Each (run, scan, object)'s report and call, keyed by the truth label (not by slot)."""
    c, k, m = np.nonzero(rep.valid & (rep.truth_id >= 0))
    order = np.lexsort((rep.truth_id[c, k, m], k, c))
    c, k, m = c[order], k[order], m[order]
    return np.stack([c, k, rep.truth_id[c, k, m]]), rep.z[c, k, m], rep.call[c, k, m]


def test_false_alarm_rate_leaves_every_other_draw_alone(scene):
    """Common random numbers: two false-alarm rates see the same threats and boosters, with the
    same calls; a rate that brings no false alarm gives the same scans to the bit."""
    w, truth, sig = scene
    radar = w.sensors[0].radar  # discriminates: its calls are drawn
    def reps(rate):
        rngs = chain.run_streams(np.random.SeedSequence(5), 0, C, 1)[0]
        return scans.scan_reports(radar, observe(radar, truth, sig, rngs), truth, sig, rngs, rate)
    none, rare, many = reps(0.0), reps(1e-9), reps(3.0)
    assert not (rare.truth_id == FALSE_ALARM).any()
    for a, b in zip(dataclasses.astuple(none), dataclasses.astuple(rare)):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
    assert (many.truth_id == FALSE_ALARM).sum() > 100
    for a, b in zip(_objects(none), _objects(many)):
        np.testing.assert_array_equal(a, b)
    assert (none.call[none.valid] >= 0).all()


@pytest.mark.parametrize("false_alarms, radar", [("confirmed", 0), (20.0, 1)])
def test_compiled_assembly_is_the_numpy_one_to_the_bit(scene, monkeypatch, false_alarms, radar):
    calls = []
    monkeypatch.setattr(scans, "_assemble", lambda *a: calls.append(a) or scans._assemble_numpy(*a))
    _reports(scene, radar, false_alarms)
    monkeypatch.undo()
    (det, zb, seen, rsb, draws, fa_scale, calls_made), = calls
    assert sum(d[1].shape[0] for d in draws) > (100 if false_alarms == 20.0 else -1)
    # every key drawn (no ties), then every key equal (a tie keeps the slot order), calls on and off
    tied = [(d[0], d[1], np.full_like(d[2], 0.5), d[3], d[4]) for d in draws]
    for dr in (draws, tied):
        for made in (calls_made, not calls_made):
            got = scans._assemble(det, zb, seen, rsb, dr, fa_scale, made)
            want = scans._assemble_numpy(det, zb, seen, rsb, dr, fa_scale, made)
            for g, w in zip(got, want):
                assert g.dtype == w.dtype and g.shape == w.shape
                np.testing.assert_array_equal(g, w)


def test_a_frame_above_its_sites_mask_counts_the_cells_it_searches(scene):
    """The false alarms were counted over the catalogue's elevations from el_min and placed
    above the site's mask where it was higher: the same number packed into a smaller volume.
    Both now read the frame above the mask; a mask below el_min changes nothing."""
    w, _, _ = scene
    radar = w.sensors[0].radar
    spec = radar.spec
    lo, hi = math.radians(spec.el_min_deg), math.radians(spec.el_max_deg)
    high = dataclasses.replace(radar, elevation_mask=math.radians(10.0))
    share = (math.sin(hi) - math.sin(math.radians(10.0))) / (math.sin(hi) - math.sin(lo))
    assert scans.radar_false_alarm_rate(high, "raw") == pytest.approx(share * scans.false_alarm_rate(spec, "raw"),
                                                                       rel=1e-12)
    low = dataclasses.replace(radar, elevation_mask=lo - 0.01)
    assert scans.radar_false_alarm_rate(low, "confirmed") == scans.false_alarm_rate(spec, "confirmed")
    assert scans.resolution_cells(spec, math.radians(spec.el_max_deg) + 0.1) == 0.0  # nothing left to search
