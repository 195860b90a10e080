"""The compiled fire-control paths give the answers of the numpy forms they replaced.

:func:`shieldlab.earth.ecef_to_geodetic` and :func:`~shieldlab.earth.great_circle_distance`,
the fan's bilinear lookup (:meth:`shieldlab.engage.fan.Fan.time_to` and the others),
:class:`shieldlab.engage.solver.FanTime` and :func:`~shieldlab.engage.solver.intercept_window`
(its scan over the samples and its bisection) are compiled; each writes the numpy form's
operations in the same order.  Where numpy and numba call the same libm (x86-64 Linux) they
agree to the last bit; elsewhere a transcendental may round differently, so the checks
allow rounding: 1e-13 relative on values, and for the bisection one step (``h / 2**18``)
on a few rows whose midpoint lands on ``g == 0`` to rounding.

The reference intercept window below is the former :func:`intercept_window` verbatim, fed the
former ``fan_time`` closure (numpy geodetic conversion, haversine, bilinear lookup).
The paths are those fire control plans on (epaa-phase-1's geometry): ballistic threats from
north-west Iran towards the defended capitals, coasted as ``FireControl._plan_rows`` does.
"""

import numpy as np
import pytest

from shieldlab import earth
from shieldlab.catalog import get_interceptor
from shieldlab.engage import solver
from shieldlab.engage.fan import fan_for
from shieldlab.flyout.integrate import coast

RTOL = 1e-13


# ----------------------------------------------------------------- the former implementation
# the interpolation helpers are unchanged: the reference uses the solver's own
_ref_hermite, _ref_hermite_vel, _ref_g = solver._hermite, solver._hermite_vel, solver._g


def _ref_refine(t, pos, vel, time_to, t_ready, m, jl, good_at_hi, iterations):
    p0, v0, p1, v1 = pos[m, jl], vel[m, jl], pos[m, jl + 1], vel[m, jl + 1]
    h = (t[jl + 1] - t[jl])[:, None]
    lo, hi = np.zeros(m.size), np.ones(m.size)
    for _ in range(iterations):
        u = 0.5 * (lo + hi)
        good = _ref_g(time_to, t[jl] + u * h[:, 0], _ref_hermite(p0, v0, p1, v1, h, u), t_ready[m]) >= 0
        move_hi = good if good_at_hi else ~good
        lo, hi = np.where(move_hi, lo, u), np.where(move_hi, u, hi)
    u = hi if good_at_hi else lo
    return t[jl] + u * h[:, 0], _ref_hermite(p0, v0, p1, v1, h, u), _ref_hermite_vel(p0, v0, p1, v1, h, u)


def _ref_intercept_window(t, pos, vel, time_to, t_ready, ok=None, iterations=18, latest=True, tau=None):
    M, J = pos.shape[:2]
    ok = np.ones((M, J), bool) if ok is None else ok
    if tau is None:
        g = _ref_g(time_to, t[None, :], pos, t_ready[:, None])
    else:
        with np.errstate(invalid="ignore"):
            g = (t[None, :] - t_ready[:, None]) - tau
    good = ok & (g >= 0)
    found = good.any(axis=1)
    rows = np.arange(M)
    j = np.argmax(good, axis=1)
    out = {"found": found}
    todo = [("first", j)]
    if latest:
        with np.errstate(invalid="ignore"):
            slack = np.where(good, g, -np.inf).max(axis=1)
        out["launch_latest"] = np.where(found, t_ready + slack, np.inf)
        after = good | (np.arange(J)[None, :] < j[:, None])
        jl = np.where(after.all(axis=1), J - 1, np.argmin(after, axis=1) - 1)
        todo.append(("last", np.maximum(jl, j)))
    for key, jj in todo:
        ti, pi, vi = t[jj].astype(float), pos[rows, jj].copy(), vel[rows, jj].copy()
        if key == "first":
            nb = np.maximum(jj - 1, 0)
            ref = found & (jj > 0) & ok[rows, nb] & ~(g[rows, nb] >= 0)
            lo = jj - 1
        else:
            nb = np.minimum(jj + 1, J - 1)
            ref = found & (jj < J - 1) & ok[rows, nb] & ~(g[rows, nb] >= 0)
            lo = jj
        if ref.any():
            m = np.flatnonzero(ref)
            ti[m], pi[m], vi[m] = _ref_refine(t, pos, vel, time_to, t_ready, m, lo[m], key == "first", iterations)
        with np.errstate(invalid="ignore"):
            launch = ti - time_to(pi)
        out[f"t_{key}"] = np.where(found, ti, np.inf)
        out[f"p_{key}"] = pi
        out[f"v_{key}"] = vi
        out[f"launch_{key}"] = np.where(found, launch, np.inf)
    return out


def _ref_fan_time(fan, site_lat, site_lon):
    return lambda p: solver._fan_time_reference(fan, site_lat, site_lon, p)


# ----------------------------------------------------------------- realistic inputs
SITES = {"aegis-ship": (36.20, 27.60), "kurecik": (38.3494, 37.7936), "istanbul": (41.01, 28.98)}
TARGETS = [(37.98, 23.73), (42.70, 23.32), (41.01, 28.98), (44.43, 26.10)]  # athens, sofia, istanbul, bucharest


def threat_paths(M=240, J=260, dt=4.0, seed=3):
    """Ballistic paths from around Tabriz towards the capitals, from states part-way along
    (as tracks are at a planning tick): ``t`` (J,), ``pos``, ``vel`` (M, J, 3), impact time (M,)."""
    rng = np.random.default_rng(seed)
    lat0 = np.radians(38.08 + rng.uniform(-1.0, 1.0, M))
    lon0 = np.radians(46.29 + rng.uniform(-1.0, 1.0, M))
    tgt = np.radians(np.array(TARGETS))[rng.integers(0, len(TARGETS), M)]
    az = earth.initial_bearing(lat0, lon0, tgt[:, 0], tgt[:, 1])
    # along the way, climbing or already descending
    lat, lon = earth.destination(lat0, lon0, az, rng.uniform(50e3, 900e3, M))
    az = earth.initial_bearing(lat, lon, tgt[:, 0], tgt[:, 1])
    return _coast(lat, lon, rng.uniform(40e3, 450e3, M), az, rng.uniform(-30.0, 45.0, M),
                  rng.uniform(2200.0, 4200.0, M), dt, J)


def terminal_paths(site, M=300, J=80, dt=4.0, seed=5):
    """Threats descending on ``site`` (deg) from 20-150 km away, 15-120 km up: the point
    defence's (PAC-3, THAAD) paths."""
    rng = np.random.default_rng(seed)
    s_lat, s_lon = np.radians(site)
    lat, lon = earth.destination(s_lat, s_lon, rng.uniform(0.0, 2 * np.pi, M), rng.uniform(20e3, 150e3, M))
    az = earth.initial_bearing(lat, lon, s_lat, s_lon) + np.radians(rng.normal(0.0, 5.0, M))
    return _coast(lat, lon, rng.uniform(15e3, 120e3, M), az, rng.uniform(-60.0, -15.0, M),
                  rng.uniform(1200.0, 3000.0, M), dt, J)


def _coast(lat, lon, alt, az, gam_deg, speed, dt, J):
    r = earth.geodetic_to_ecef(lat, lon, alt)
    east, north, up = np.moveaxis(earth.enu_matrix(lat, lon), -2, 0)
    gam = np.radians(gam_deg)
    horiz = np.cos(az)[:, None] * north + np.sin(az)[:, None] * east
    v = speed[:, None] * (np.cos(gam)[:, None] * horiz + np.sin(gam)[:, None] * up)
    pos, vel, ev = coast(np.concatenate([r, v], axis=1), dt, J)
    return dt * np.arange(J), pos, vel, ev[:, 4]


@pytest.fixture(scope="module")
def paths():
    return threat_paths()


def assert_close(a, b, rtol=RTOL, atol=0.0):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


# ----------------------------------------------------------------- earth
def test_geodetic_equals_the_numpy_form(paths):
    _, pos, _, _ = paths
    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(-np.pi / 2, np.pi / 2, 5000), rng.uniform(-np.pi, np.pi, 5000)
    lat[:4] = [np.pi / 2, -np.pi / 2, 0.0, 0.0]  # poles, equator
    pts = earth.geodetic_to_ecef(lat, lon, rng.uniform(-1e3, 4e7, 5000))
    for r in (pts, pos, pos[:, ::3], pts[7], pts[:0], pts.reshape(50, 100, 3), pts.T.copy().T, pts.tolist()[:5],
              np.full((2, 3), np.nan), np.concatenate([pts[:10], pts[:10]], axis=1)):  # the last: (n, 6)
        got, ref = earth.ecef_to_geodetic(r), earth._ecef_to_geodetic_numpy(r)
        for a, b, atol in zip(got, ref, (1e-15, 1e-15, 1e-6)):  # rad, rad, m (a height near 0 has no rtol)
            assert type(a) is type(b)
            assert_close(a, b, atol=atol)
    assert earth.ecef_to_geodetic(pts[0])[0].shape == ()


def test_great_circle_equals_the_numpy_form(paths):
    _, pos, _, _ = paths
    lat, lon, _ = earth.ecef_to_geodetic(pos)
    rng = np.random.default_rng(1)
    a = rng.uniform(-1.5, 1.5, (4, lat.shape[1]))
    cases = [(0.6, 0.5, lat, lon), (np.float64(0.6), 0.5, lat[0], lon[0]), (0.6, 0.5, 0.61, 0.52),
             (lat, lon, lat[::-1], lon), (a, a[::-1], 0.1, 0.2), (0.6, 0.5, lat[:, :1], lon[:1]),
             (0.6, 0.5, np.array([np.nan, 0.6]), np.array([0.1, 0.5])), ([0.1, 0.2], 0.3, [0.4, 0.5], 0.6),
             (0.6, 0.5, lat.astype(np.float32), lon)]
    for args in cases:
        got, ref = earth.great_circle_distance(*args), earth._great_circle_distance_numpy(*args)
        assert type(got) is type(ref)
        assert_close(got, ref, atol=1e-6)


# ----------------------------------------------------------------- fan
@pytest.mark.parametrize("iid", ["sm-3-block-ia", "pac-3-mse"])
def test_fan_lookup_equals_the_numpy_form(iid):
    fan = fan_for(get_interceptor(iid))
    rng = np.random.default_rng(2)
    nx, nz = fan.time.shape
    g = rng.uniform(-0.05, 1.05, 20000) * fan.dx * (nx - 1)
    z = rng.uniform(-0.05, 1.05, 20000) * fan.dz * (nz - 1)
    g[:nx], z[:nx] = fan.dx * np.arange(nx), fan.dz * (nz - 1)  # on the nodes, the last row included
    g[::101], z[::103] = np.nan, np.inf
    for table, method, fill in ((fan.time, fan.time_to, np.inf), (fan.speed, fan.speed_at, np.nan),
                                (fan.flight_path_angle, fan.flight_path_angle_at, np.nan)):
        v, ok = fan._bilinear(table, g, z)
        np.testing.assert_array_equal(method(g, z), np.where(ok, v, fill))
        v, ok = fan._bilinear(table, g.reshape(100, 200), z[:200])  # broadcasting
        np.testing.assert_array_equal(method(g.reshape(100, 200), z[:200]), np.where(ok, v, fill))
        v, ok = fan._bilinear(table, g[5], z[5])
        np.testing.assert_array_equal(method(g[5], z[5]), np.where(ok, v, fill))
        assert method(g[5], z[5]).shape == ()


@pytest.mark.parametrize("site", list(SITES))
def test_fan_time_equals_the_former_closure(paths, site):
    _, pos, _, _ = paths
    fan = fan_for(get_interceptor("sm-3-block-ia"))
    lat, lon = np.radians(SITES[site])
    got, ref = solver.fan_time(fan, lat, lon)(pos), _ref_fan_time(fan, lat, lon)(pos)
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(ref))
    assert np.isfinite(ref).sum() > 1000
    assert_close(got, ref)
    assert solver.fan_time(fan, lat, lon)(pos[0, 0]).shape == ()


# ----------------------------------------------------------------- the intercept window
def _compare_windows(new, old, t, iterations=18):
    assert new.keys() == old.keys()
    np.testing.assert_array_equal(new["found"], old["found"])
    step = np.max(np.diff(t)) / 2**iterations  # one bisection step
    exact = []
    for key in ("first", "last"):
        if f"t_{key}" not in old:
            continue
        ta, tb = new[f"t_{key}"], old[f"t_{key}"]
        np.testing.assert_array_equal(np.isfinite(ta), np.isfinite(tb))
        f = np.isfinite(tb)
        assert np.all(np.abs(ta[f] - tb[f]) <= 1.01 * step)
        same = ta[f] == tb[f]  # the bisection took the same turns
        exact.append(same)
        assert_close(new[f"p_{key}"][f][same], old[f"p_{key}"][f][same], atol=1e-6)
        assert_close(new[f"v_{key}"][f][same], old[f"v_{key}"][f][same], atol=1e-9)
        np.testing.assert_allclose(new[f"p_{key}"], old[f"p_{key}"], atol=0.2)  # 5 cm at 3 km/s a step
        la, lb = new[f"launch_{key}"], old[f"launch_{key}"]
        np.testing.assert_array_equal(np.isfinite(la), np.isfinite(lb))
        g = np.isfinite(lb)
        np.testing.assert_allclose(la[g], lb[g], rtol=0, atol=0.05)  # a step, less its time of flight's change
        assert_close(la[f][same], lb[f][same], atol=1e-9)
    if "launch_latest" in old:
        assert_close(new["launch_latest"], old["launch_latest"], atol=1e-9)
    return np.concatenate(exact) if exact else np.zeros(0, bool)


@pytest.mark.parametrize("iid,site", [("sm-3-block-ia", "aegis-ship"), ("sm-3-block-ia", "istanbul"),
                                      ("pac-3-mse", "istanbul"), ("thaad", "kurecik")])
def test_intercept_window_equals_the_former_one(paths, iid, site):
    """As fire control calls it: ``tau`` from the path's geodetic samples, samples after the
    tick and before impact allowed, readiness spread over the rows."""
    t, pos, vel, impact = paths if iid == "sm-3-block-ia" else terminal_paths(SITES[site])
    fan = fan_for(get_interceptor(iid))
    lat, lon = np.radians(SITES[site])
    M = pos.shape[0]
    rng = np.random.default_rng(4)
    tick = 8.0
    t_ready = tick + rng.uniform(0.0, 0.1 * t[-1], M)
    allowed = (t[None, :] < impact[:, None]) & (t[None, :] > tick)
    allowed[rng.uniform(size=M) < 0.1, 10:20] = False  # a gap: a second window opening later
    plat, plon, alt = earth.ecef_to_geodetic(pos)
    tau = fan.time_to(earth.great_circle_distance(lat, lon, plat, plon), alt)
    p_lat, p_lon, p_alt = earth._ecef_to_geodetic_numpy(pos)
    v, ok = fan._bilinear(fan.time, earth._great_circle_distance_numpy(lat, lon, p_lat, p_lon), p_alt)
    tau_ref = np.where(ok, v, np.inf)
    assert_close(tau, tau_ref)
    exact = []
    for latest in (True, False):
        new = solver.intercept_window(t, pos, vel, solver.fan_time(fan, lat, lon), t_ready, allowed, latest=latest,
                                      tau=tau)
        old = _ref_intercept_window(t, pos, vel, _ref_fan_time(fan, lat, lon), t_ready, allowed, latest=latest,
                                    tau=tau_ref)
        exact.append(_compare_windows(new, old, t))
        # without tau, and without a mask
        new = solver.intercept_window(t, pos, vel, solver.fan_time(fan, lat, lon), t_ready, latest=latest)
        old = _ref_intercept_window(t, pos, vel, _ref_fan_time(fan, lat, lon), t_ready, latest=latest)
        exact.append(_compare_windows(new, old, t))
    exact = np.concatenate(exact)
    assert exact.size > 100  # many rows meet the path: the bisection ran on them
    assert exact.mean() >= 0.99  # and took the same turns on (nearly) all


def test_intercept_window_refines_most_rows(paths):
    """The realistic case does exercise the bisection (not just sample hits)."""
    t, pos, vel, impact = paths
    fan = fan_for(get_interceptor("sm-3-block-ia"))
    lat, lon = np.radians(SITES["aegis-ship"])
    w = solver.intercept_window(t, pos, vel, solver.fan_time(fan, lat, lon), np.full(pos.shape[0], 8.0))
    f = w["found"]
    assert f.sum() > 50
    off_grid = (w["t_first"][f] % (t[1] - t[0])) != 0.0
    assert off_grid.mean() > 0.8


def test_generic_time_to_and_odd_inputs_match(paths):
    """A plain callable (not a fan) takes the numpy bisection: the same answers; a list of
    readiness times and no rows at all are taken too."""
    t, pos, vel, impact = paths
    fan = fan_for(get_interceptor("sm-3-block-ia"))
    lat, lon = np.radians(SITES["aegis-ship"])
    law = _ref_fan_time(fan, lat, lon)
    t_ready = np.full(pos.shape[0], 20.0)
    ok = t[None, :] < impact[:, None]
    new = solver.intercept_window(t, pos, vel, law, t_ready, ok)
    old = _ref_intercept_window(t, pos, vel, law, t_ready, ok)
    for k in old:
        np.testing.assert_array_equal(new[k], old[k])
    new = solver.intercept_window(t, pos[:3], vel[:3], solver.fan_time(fan, lat, lon), [20.0, 20.0, 20.0])
    old = _ref_intercept_window(t, pos[:3], vel[:3], law, np.full(3, 20.0))
    _compare_windows(new, old, t)
    # no rows
    w = solver.intercept_window(t, pos[:0], vel[:0], solver.fan_time(fan, lat, lon), np.zeros(0))
    assert w["found"].shape == (0,) and w["p_first"].shape == (0, 3)
