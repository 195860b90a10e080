"""The interceptor fly-out fan against closed forms and a finer direct fly-out."""

import numpy as np
import pytest
from kepler_arcs import arc_time, radius_at
from scipy.optimize import brentq

from shieldlab.catalog import get_interceptor
from shieldlab.earth import GM
from shieldlab.earth import R_EARTH_MEAN as R
from shieldlab.engage.fan import build_fan, fan_for, flyout

# ----------------------------------------------------------------- independent Kepler reference
_radius_at, _arc_time = radius_at, arc_time


def kepler_earliest(v, ground, alt):
    """Least time over every Kepler arc from the surface at speed v through the point; inf if none."""
    psi, target = ground / R, R + alt
    gs = np.linspace(np.radians(0.2), np.radians(89.99), 3000)
    f = lambda g: 1.0 / target - 1.0 / _radius_at(v, g, psi)  # noqa: E731
    fs = f(gs)
    best = np.inf
    for i in np.flatnonzero(np.sign(fs[:-1]) != np.sign(fs[1:])):
        g = brentq(f, gs[i], gs[i + 1], xtol=1e-14)
        before = _radius_at(v, g, np.linspace(0, psi, 200)[1:])
        if np.all((before > R - 1e-6) & (before > 0)):  # still in flight: no earlier impact
            best = min(best, _arc_time(v, g, psi))
    return best


# ----------------------------------------------------------------- tests
def test_vacuum_instant_burn_matches_kepler():
    v = 3000.0
    fan = build_fan(v, 0.0, None, max_range_m=700e3, max_alt_m=500e3)
    rng = np.random.default_rng(0)
    g, z = rng.uniform(5e3, 690e3, 80), rng.uniform(5e3, 490e3, 80)
    got = fan.time_to(g, z)
    ref = np.array([kepler_earliest(v, a, b) for a, b in zip(g, z)])
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(ref))
    assert np.isfinite(ref).sum() > 50
    fin = np.isfinite(ref)
    err = np.abs(got[fin] - ref[fin])
    rel = err / ref[fin]
    # measured: 0.7 s and 0.19 % at worst over 300 points (near the fan's outer edge)
    assert err.max() < 1.0 and rel.max() < 0.01


def test_vacuum_speed_is_energy_conserving():
    v = 3000.0
    fan = build_fan(v, 0.0, None, max_range_m=700e3, max_alt_m=500e3)
    g, z = np.array([100e3, 300e3, 200e3]), np.array([50e3, 200e3, 400e3])
    expect = np.sqrt(v**2 - 2 * GM * (1 / R - 1 / (R + z)))  # vis-viva between the surface and z
    np.testing.assert_allclose(fan.speed_at(g, z), expect, rtol=2e-3)
    gam = fan.flight_path_angle_at(g, z)
    assert np.all((gam > -np.pi / 2) & (gam < np.pi / 2))


def test_boost_meets_the_burnout_speed_and_holds_the_angle():
    f = flyout(3000.0, 50.0, 1e4, elevations_deg=[10.0, 45.0, 80.0])
    k = int(np.argmin(np.abs(f.t - 50.0)))
    assert f.t[k] == pytest.approx(50.0)
    np.testing.assert_allclose(f.speed[:, k], 3000.0, rtol=1e-12)
    gam = f.flight_path_angle[:, :k + 1]
    np.testing.assert_allclose(gam, np.broadcast_to(np.radians([[10.0], [45.0], [80.0]]), gam.shape), atol=1e-9)
    # path length v t^2 / (2 t_b) = 75 km at burnout; summed along the samples
    psi, r = f.ground_range[1, :k + 1] / R, R + f.alt[1, :k + 1]
    x, y = r * np.sin(psi), r * np.cos(psi)
    assert np.sum(np.hypot(np.diff(x), np.diff(y))) == pytest.approx(75e3, rel=1e-6)


@pytest.mark.parametrize("speed", [0.0, 1.0])
def test_zero_or_tiny_burnout_speed_reaches_nothing(speed):
    fan = fan_for(get_interceptor("pac-3-mse"), burnout_speed=speed)
    g, z = np.meshgrid(np.linspace(0, 40e3, 41), np.linspace(0, 30e3, 31))
    assert np.isinf(fan.time_to(g, z)).all()
    assert fan.max_ground_range_m == 0.0 and fan.max_alt_m == 0.0


def test_drag_costs_time_and_reach():
    kw = dict(max_range_m=60e3, max_alt_m=40e3)
    vac = build_fan(2000.0, 12.0, None, **kw)
    dragged = build_fan(2000.0, 12.0, 3e3, **kw)
    g, z = np.meshgrid(np.linspace(1e3, 59e3, 30), np.linspace(1e3, 39e3, 20))
    a, b = vac.time_to(g, z), dragged.time_to(g, z)
    assert not (np.isfinite(b) & ~np.isfinite(a)).any()  # drag reaches nothing vacuum does not
    both = np.isfinite(a) & np.isfinite(b)
    assert both.sum() > 100 and np.all(b[both] >= a[both] - 1e-6)
    assert np.mean(b[both] - a[both]) > 1.0  # and it matters at 2 km/s in the low atmosphere


def test_table_against_a_finer_direct_flyout():
    """Bilinear table vs 480 elevations, 0.25 s step, 769^2 nodes: < 1 s or < 1 % (thaad)."""
    sp = get_interceptor("thaad")
    kw = dict(min_range_m=0.0, max_range_m=200e3, min_alt_m=40e3, max_alt_m=150e3)
    coarse = fan_for(sp)
    fine = build_fan(2800.0, 17.0, 1e4, nx=769, nz=769, elevations_deg=np.linspace(0.25, 90, 480), dt=0.25, **kw)
    rng = np.random.default_rng(1)
    g, z = rng.uniform(0, 200e3, 2000), rng.uniform(40e3, 150e3, 2000)
    a, b = coarse.time_to(g, z), fine.time_to(g, z)
    both = np.isfinite(a) & np.isfinite(b)
    assert both.sum() > 1900
    err = np.abs(a - b)[both]
    assert np.all((err < 1.0) | (err / b[both] < 0.01))
    assert err.max() < 0.1  # measured 0.03 s


def test_envelope_cache_and_speed_order():
    sp = get_interceptor("sm-3-block-ia")
    fan = fan_for(sp)
    assert fan is fan_for(sp)  # cached
    assert fan_for(sp, burnout_speed=4000.0) is not fan
    assert np.isinf(fan.time_to([300e3, 300e3, 710e3], [60e3, 510e3, 200e3])).all()  # below/above/beyond
    assert fan.max_ground_range_m == pytest.approx(700e3) and 400e3 < fan.max_alt_m <= 500e3
    fast = fan_for(sp, burnout_speed=4000.0)
    g, z = np.meshgrid(np.linspace(0, 600e3, 25), np.linspace(80e3, 400e3, 17))
    a, b = fan.time_to(g, z), fast.time_to(g, z)
    assert np.all(b[np.isfinite(a)] < a[np.isfinite(a)])  # faster arrives sooner, reaches as much
    assert np.isfinite(b).sum() >= np.isfinite(a).sum()
    assert fan.time_to(np.zeros((2, 3)), np.full((2, 3), 100e3)).shape == (2, 3)


@pytest.mark.parametrize("iid", ["pac-3-mse", "sm-3-block-ia"])
def test_table_spans_the_reach_not_the_envelope(iid):
    """An envelope far beyond the fly-out's reach leaves the table where the interceptor
    flies as it was: the same times (measured: within 0.07 % for PAC-3 MSE, 0.15 % for
    SM-3 IA) at points well inside the reach; outside the envelope still inf."""
    sp = get_interceptor(iid)
    base = fan_for(sp)
    wide = {R: fan_for(sp.model_copy(update={"max_range_km": R})) for R in (20_000.0, 1e5)}
    assert wide[20_000.0] is not base and wide[20_000.0] is not wide[1e5]  # cached per envelope
    # the table's extent is the kinematic reach, whatever the envelope beyond it
    ext = wide[20_000.0].dx * (wide[20_000.0].time.shape[0] - 1)
    assert ext == wide[1e5].dx * (wide[1e5].time.shape[0] - 1)
    assert 1e3 * sp.max_range_km < ext < 2_000e3
    g0, g1 = 1e3 * sp.min_range_km, 1e3 * sp.max_range_km
    z0, z1 = 1e3 * sp.min_intercept_alt_km, 1e3 * sp.max_intercept_alt_km
    g, z = np.meshgrid(np.linspace(g0, g1, 60), np.linspace(z0, z1, 40), indexing="ij")
    # well inside the reach: reached there and 3 % of the envelope away on every side
    dg, dz = 0.03 * (g1 - g0), 0.03 * (z1 - z0)
    inside = np.isfinite(base.time_to(g, z))
    for sg, sz in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        inside &= np.isfinite(base.time_to(g + sg * dg, z + sz * dz))
    assert inside.sum() > 500
    a = base.time_to(g[inside], z[inside])
    for fan in wide.values():
        b = fan.time_to(g[inside], z[inside])
        assert np.isfinite(b).all()
        np.testing.assert_allclose(b, a, rtol=0.01)
        # the envelope is still a mask: above its ceiling and below its floor, inf
        assert np.isinf(fan.time_to([0.5 * (g0 + g1)] * 2, [z1 + 1e3, z0 - 1e3])).all()
        # and beyond the reach, inf
        assert np.isinf(fan.time_to(ext + 10e3, 0.5 * (z0 + z1)))
    # just past the catalogue's range: inf with the catalogue envelope, reached with the wide one
    p = (g1 + 2e3, z0 + 0.2 * (z1 - z0))
    assert np.isinf(base.time_to(*p)) and np.isfinite(wide[1e5].time_to(*p))


def test_fans_are_kept_on_disk_and_read_back_to_the_bit(tmp_path, monkeypatch):
    """A built fan is stored under the cache folder and a later process (here: the in-memory
    cache cleared) reads it back instead of flying it again, the same arrays and numbers;
    a damaged file is rebuilt, and a folder that cannot be written only costs the time."""
    from shieldlab.engage import fan as F

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    F._cached.cache_clear()
    spec = get_interceptor("pac-3-mse")
    built = fan_for(spec)
    files = list((tmp_path / "shieldlab-fans").glob("*/*.npz"))
    assert len(files) == 1
    assert files[0].stat().st_mode & 0o044 == 0o044  # readable by the other users of a shared cache

    def fields(f):
        return [f.time, f.speed, f.flight_path_angle] + [getattr(f, k) for k in F._FAN_FIELDS]

    F._cached.cache_clear()
    monkeypatch.setattr(F, "build_fan", lambda *a, **k: pytest.fail("flown again instead of read"))
    read = fan_for(spec)
    assert read is not built
    for a, b in zip(fields(read), fields(built), strict=True):
        assert np.array_equal(a, b, equal_nan=True) and np.asarray(a).dtype == np.asarray(b).dtype
    assert not read.time.flags.writeable
    # another burnout speed is another fan, not the stored one
    monkeypatch.undo()
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    F._cached.cache_clear()
    assert fan_for(spec, 0.9 * 1e3 * spec.burnout_speed_kms).burnout_speed != built.burnout_speed
    assert len(list((tmp_path / "shieldlab-fans").glob("*/*.npz"))) == 2
    # a damaged file: flown again, and the same fan
    files[0].write_bytes(b"not a fan")
    F._cached.cache_clear()
    again = fan_for(spec)
    assert np.array_equal(again.time, built.time) and files[0].stat().st_size > 1000
    # nowhere to write: still a fan
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "file"))
    (tmp_path / "file").write_text("a file, not a folder")
    F._cached.cache_clear()
    assert np.array_equal(fan_for(spec).time, built.time)
    F._cached.cache_clear()


def test_stored_fans_of_other_code_versions_and_killed_writes_are_pruned(tmp_path, monkeypatch):
    """A store removes other code versions' fan folders neither read nor written for a week (a
    recent one, or an old one a second checkout still reads, stays), fans of the flat layout
    as old, and temporary files of killed writes older than an hour; nothing else there."""
    import os
    import time

    from shieldlab.engage import fan as F

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    root = tmp_path / "shieldlab-fans"
    old, recent, read, mine = (root / n for n in ("0123456789abcdef", "fedcba9876543210", "00000000000000aa",
                                                  "my-notes"))
    F._cached.cache_clear()
    built = fan_for(get_interceptor("pac-3-mse"))
    here = F._stored_path(F.fan_key(get_interceptor("pac-3-mse"))).parent
    for f in here.glob("*.npz"):  # (so that the fan is built and stored again below)
        f.unlink()
    F._store(read / "1.npz", built)  # another checkout's fan, still read by it
    week_ago = time.time() - (F.STALE_DAYS + 1) * 86400
    for d in (old, recent, mine):
        d.mkdir(parents=True)
        (d / ("0" * 32 + ".npz")).write_bytes(b"an old fan")
    flat, flat_new, killed_flat = root / ("a" * 32 + ".npz"), root / ("b" * 32 + ".npz"), root / ".fan-x.npz"
    for f in (flat, flat_new, killed_flat):
        f.write_bytes(b"a fan of the flat layout")
    for p in (old, read, mine, flat, killed_flat):
        os.utime(p, (week_ago, week_ago))
    assert F._load(read / "1.npz") is not None and time.time() - read.stat().st_mtime < 60  # touched
    killed, fresh = here / ".fan-killed.npz", here / ".fan-writing.npz"
    for f in (killed, fresh):
        f.write_bytes(b"half a fan")
    os.utime(killed, (time.time() - 7200, time.time() - 7200))
    F._cached.cache_clear()
    fan_for(get_interceptor("pac-3-mse"))
    assert not old.exists() and recent.exists() and read.exists() and mine.exists()
    assert not flat.exists() and flat_new.exists() and not killed_flat.exists()
    assert not killed.exists() and fresh.exists()
    assert len([f for f in here.glob("*.npz") if not f.name.startswith(".")]) == 1
    F._cached.cache_clear()


def test_a_new_fly_out_model_is_one_entry_that_a_catalogue_entry_names(tmp_path, monkeypatch):
    """The seam for another fly-out (a guided, two-pulse or air-breathing one): a builder in
    ``FLYOUT_MODELS`` and its name in the entry's ``flyout_model``; everything that asks
    ``fan_for`` for a fan gets that model's, stored apart from the point-mass one.  An entry
    naming no model is refused, the field named."""
    import dataclasses

    from pydantic import ValidationError

    from shieldlab.catalog.models import Interceptor
    from shieldlab.engage import fan as F

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    spec = get_interceptor("pac-3-mse")
    asked = []

    def slow_motor(key):  # a stand-in model: the point-mass fly-out at 80 % of the speed
        asked.append(key)
        return F.build(dataclasses.replace(key, model="point-mass", burnout_speed=0.8 * key.burnout_speed))

    monkeypatch.setitem(F.FLYOUT_MODELS, "slow-motor", slow_motor)
    F._cached.cache_clear()
    other = Interceptor.model_validate({**spec.model_dump(), "flyout_model": "slow-motor"})
    assert other.flyout_model == "slow-motor" and spec.flyout_model == "point-mass"
    fan, own = fan_for(other), fan_for(spec)
    assert [k.model for k in asked] == ["slow-motor"] and asked[0] == dataclasses.replace(F.fan_key(spec),
                                                                                          model="slow-motor")
    assert fan.burnout_speed == pytest.approx(0.8 * own.burnout_speed)
    assert len(list((tmp_path / "shieldlab-fans").glob("*/*.npz"))) == 2  # stored apart
    F._cached.cache_clear()
    with pytest.raises(ValidationError) as e:
        Interceptor.model_validate({**spec.model_dump(), "flyout_model": "six-dof"})
    assert "flyout_model" in str(e.value) and "point-mass" in str(e.value)
    with pytest.raises(ValueError, match="no fly-out model"):
        F.build(dataclasses.replace(F.fan_key(spec), model="six-dof"))
