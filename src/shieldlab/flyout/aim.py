"""Steering solver: the launch azimuth, pitch-over (kick) angle and cut-off time
that put a missile's impact on an aim point, on the rotating ellipsoidal Earth
with drag.

Profiles
--------
``min-energy``
    For a missile that can cut thrust (liquid engines): of all kicks whose
    trajectory, cut off at the right moment, reaches the range, the one with the
    least burnout speed — the minimum-energy shot of the closed form, found on
    the real vehicle.  A solid missile cannot cut thrust, so it flies whichever
    of the lofted and depressed full-burn solutions has the apogee closest to the
    Kepler minimum-energy apogee for that range.
``lofted`` / ``depressed``
    Full burn; the smaller (steeper) or larger (flatter) kick angle that reaches
    the range — or, given an apogee or a flight time and a missile that can cut
    thrust, the shot of that shape.

Method: a scan of 24 kick angles and golden-section refinement of the maximum
range, Illinois regula falsi on monotone branches (kick or cut-off) for the
ground range, golden-section search for the least burnout speed, and a
fixed-point correction of the azimuth for Earth rotation and J2 (the cross-range
error is fed back as a bearing change).  Every evaluation is one batched call of
the fast integrator over all threats at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shieldlab import earth
from shieldlab.flyout import kepler
from shieldlab.flyout.integrate import FULL, EarthModel, run
from shieldlab.flyout.vehicle import Vehicle, vehicle_from_missiles

PROFILES = ("min-energy", "lofted", "depressed")
_KICK_MIN, _KICK_MAX = np.radians(0.5), np.radians(85.0)
_GOLD = (np.sqrt(5.0) - 1.0) / 2.0


class AimError(ValueError):
    """No steering for threat ``index``; the message says why."""

    def __init__(self, index: int, message: str):
        self.index = index
        super().__init__(message)


class UnreachableError(AimError):
    """The aim point lies beyond the missile's maximum range on that bearing."""

    def __init__(self, index: int, missile: str, range_m: float, max_range_m: float):
        self.missile, self.range_m, self.max_range_m = missile, range_m, max_range_m
        super().__init__(index, f"aim point {range_m / 1e3:,.0f} km away is out of reach of {missile}: "
                                f"its maximum range on that bearing is {max_range_m / 1e3:,.0f} km")


class ShapeError(AimError):
    """A requested apogee or flight time cannot be flown to that aim point."""


class NoSolutionError(AimError):
    """No trajectory of the requested profile reaches the aim point (e.g. too close for a
    depressed full-burn shot of a missile that cannot cut thrust)."""

    def __init__(self, index: int, missile: str, range_m: float, profile: str):
        self.missile, self.range_m, self.profile = missile, range_m, profile
        hint = ", or shape it by apogee or flight time" if profile != "min-energy" else ""
        super().__init__(index, f"no full-burn {profile} trajectory of {missile} comes down "
                                f"{range_m / 1e3:,.0f} km away (try another profile{hint})")


@dataclass(frozen=True)
class Steering:
    """Solved steering per threat, shapes (N,)."""

    azimuth: np.ndarray  # launch azimuth [rad from north]
    kick: np.ndarray  # pitch-over angle [rad from vertical]
    cutoff: np.ndarray  # thrust termination [s after launch]; inf = burn out
    max_range: np.ndarray  # full-burn maximum range on this bearing [m]
    aim_error: np.ndarray  # distance from the solved impact to the aim point [m]


class _Evaluator:
    def __init__(self, veh: Vehicle, r0: np.ndarray, lat0, lon0, model: EarthModel, dt: float, t_max: float):
        self.veh, self.r0, self.lat0, self.lon0 = veh, r0, lat0, lon0
        self.model, self.dt, self.t_max = model, dt, t_max

    def impact(self, idx, kick, az, cutoff):
        """Ground range, impact (lat, lon), apogee altitude, flight time and burnout speed for
        batch elements ``idx`` (with repetition)."""
        veh = self.veh.take(idx)
        _, _, _, ev = run(veh, self.r0[idx], np.zeros((len(idx), 3)), np.zeros(len(idx)), kick, az, cutoff,
                          grid_t0=0.0, dt=self.dt, T=int(self.t_max / self.dt) + 2, model=self.model,
                          record=False, t_max=self.t_max)
        lat, lon, _ = earth.ecef_to_geodetic(ev[:, 5:8])
        landed = np.isfinite(ev[:, 4])
        rng = earth.great_circle_distance(self.lat0[idx], self.lon0[idx], lat, lon)
        # an impact behind the launch point counts as negative range: a near-vertical shot
        # that the Earth turned under, or one that flew the long way round the globe, is
        # never mistaken for a forward shot of the same great-circle distance
        ahead = np.cos(earth.initial_bearing(self.lat0[idx], self.lon0[idx], lat, lon) - az) >= 0.0
        rng = np.where(ahead, rng, -rng)
        # never came down within t_max (a shot into space or into orbit): no range
        rng = np.where(landed, rng, 0.0)
        return rng, lat, lon, ev[:, 3], ev[:, 4], ev[:, 1]

    def cut_for_range(self, idx, kick, az, target, burn_start, total_burn):
        """Cut-off time [s] at which a shot with ``kick`` reaches ``target`` range (``nan`` where
        no cut-off does), and :meth:`impact` of that shot (full burn where there is none)."""
        cut = _root(lambda c: self.impact(idx, kick, az, c)[0], burn_start + 1.0, total_burn.copy(), target)
        return cut, self.impact(idx, kick, az, np.where(np.isfinite(cut), cut, np.inf))


def _max_range_kick(ev: _Evaluator, az: np.ndarray):
    """Kick angle of maximum range on each bearing: a scan, then golden-section refinement.

    The best kick evaluated anywhere is kept, so a range that jumps (a shot that passes
    the antipode counts as landing behind the launch point) cannot pull the answer onto
    the wrong side of the jump.
    """
    N = az.size
    grid = np.linspace(_KICK_MIN, _KICK_MAX, 24)
    idx = np.repeat(np.arange(N), grid.size)
    kicks = np.tile(grid, N)
    rng = ev.impact(idx, kicks, az[idx], np.full(idx.size, np.inf))[0].reshape(N, grid.size)
    j = np.argmax(rng, axis=1)
    ar = np.arange(N)
    best_k, best_r = grid[j], rng[ar, j]
    lo = grid[np.maximum(j - 1, 0)]
    hi = grid[np.minimum(j + 1, grid.size - 1)]
    for _ in range(20):  # golden section for the maximum of range(kick); range is flat there
        a = hi - _GOLD * (hi - lo)
        b = lo + _GOLD * (hi - lo)
        r = ev.impact(np.concatenate([ar, ar]), np.concatenate([a, b]), np.concatenate([az, az]),
                      np.full(2 * N, np.inf))[0]
        for k, rr in ((a, r[:N]), (b, r[N:])):
            better = rr > best_r
            best_k, best_r = np.where(better, k, best_k), np.where(better, rr, best_r)
        left = r[:N] >= r[N:]
        hi = np.where(left, b, hi)
        lo = np.where(left, lo, a)
    return best_k, best_r


def _root(f, lo, hi, target, tol=0.5, iters=40):
    """Vectorised Illinois (modified regula falsi) root of ``f(x) = target`` on brackets [lo, hi].

    ``f`` maps an (M,) array of parameters to ranges; the bracket must straddle the
    target; where it does not, the result is ``nan`` (no solution on that branch).
    Converges superlinearly; stops when every element is within ``tol`` metres.
    """
    a, b = lo.copy(), hi.copy()
    fa, fb = f(a) - target, f(b) - target
    ok = np.sign(fa) != np.sign(fb)
    x = np.where(np.abs(fa) < np.abs(fb), a, b)
    side = np.zeros(a.shape, int)
    for _ in range(iters):
        denom = fb - fa
        x = np.where(denom != 0, b - fb * (b - a) / np.where(denom != 0, denom, 1.0), 0.5 * (a + b))
        x = np.where((x <= np.minimum(a, b)) | (x >= np.maximum(a, b)), 0.5 * (a + b), x)
        fx = f(x) - target
        if np.all(np.abs(fx) < tol):
            break
        same = np.sign(fx) == np.sign(fb)
        # replace the endpoint on fx's side; halve the stale one (Illinois) when it repeats
        a_new = np.where(same, a, b)
        fa_new = np.where(same, np.where(side == 1, 0.5 * fa, fa), fb)
        side = np.where(same, 1, -1)
        a, fa, b, fb = a_new, fa_new, x, fx
    return np.where(ok, x, np.nan)


def _min_energy_kick(ev: _Evaluator, idx, lo, hi, az, target, burn_start, total_burn):
    """Kick whose trajectory reaches ``target`` with the least burnout speed (energy).

    Along the curve of constant range (cut-off solved per kick) the burnout speed has one
    minimum, between the steepest and the flattest full-burn shots: golden-section search.
    """
    def speed(k):
        c, shot = ev.cut_for_range(idx, k, az, target, burn_start, total_burn)
        return np.where(np.isfinite(c), shot[5], np.inf)

    # keep the best kick evaluated anywhere (the ends included: the full-burn shots are on
    # the curve too), so an optimum at an end of the bracket, where the cut-off solve can
    # just miss, still yields a kick that flies
    best_k = lo.copy()
    best_v = speed(lo)
    v_hi = speed(hi)
    better = v_hi < best_v
    best_k, best_v = np.where(better, hi, best_k), np.where(better, v_hi, best_v)
    # golden section proper: the interior point kept from the last step is not flown again
    # (one new shot per step instead of two: the same brackets, half the flights)
    a, b = lo.copy(), hi.copy()
    x1 = b - _GOLD * (b - a)
    x2 = a + _GOLD * (b - a)
    v1, v2 = speed(x1), speed(x2)
    for k, v in ((x1, v1), (x2, v2)):
        better = v < best_v
        best_k, best_v = np.where(better, k, best_k), np.where(better, v, best_v)
    for _ in range(23):
        left = v1 <= v2
        b = np.where(left, x2, b)
        a = np.where(left, a, x1)
        # left: the new upper point is the old lower one; else the new lower point is the old upper one
        x_new = np.where(left, b - _GOLD * (b - a), a + _GOLD * (b - a))
        v_new = speed(x_new)
        better = v_new < best_v
        best_k, best_v = np.where(better, x_new, best_k), np.where(better, v_new, best_v)
        x1, v1, x2, v2 = (np.where(left, x_new, x2), np.where(left, v_new, v2),
                          np.where(left, x1, x_new), np.where(left, v1, v_new))
    return best_k


def _shape(ev: _Evaluator, idx, k_full, k_star, az, target, burn_start, total_burn, apogee, flight_time, check):
    """Kick and cut-off reaching ``target`` range with the asked apogee or flight time.

    Along the curve of constant range the kick runs from the full-burn solution
    (``k_full``: the steepest lofted or flattest depressed shot) to the range-optimal
    kick ``k_star`` with the range trimmed by the cut-off; the apogee and the flight
    time change monotonically along it, so an outer root finder on the kick with an
    inner one on the cut-off hits both the range and the shape.
    """
    use_apogee = np.isfinite(apogee)
    goal = np.where(use_apogee, apogee, flight_time)

    def metric(k):
        c, (_, _, _, apo, tof, _) = ev.cut_for_range(idx, k, az, target, burn_start, total_burn)
        return np.where(use_apogee, apo, tof), c

    m_full, _ = metric(k_full)
    m_star, _ = metric(k_star)
    if check:
        lo_m, hi_m = np.minimum(m_full, m_star), np.maximum(m_full, m_star)
        bad = np.flatnonzero(~((goal >= lo_m) & (goal <= hi_m)))
        if bad.size:
            j = int(bad[0])
            what, unit, scale = ("apogee", "km", 1e3) if use_apogee[j] else ("flight time", "s", 1.0)
            raise ShapeError(int(idx[j]), f"{what} {goal[j] / scale:,.0f} {unit} cannot be flown to this aim point: "
                                          f"between {lo_m[j] / scale:,.0f} and {hi_m[j] / scale:,.0f} {unit}")
    # tolerance 0.5 m of apogee or 0.5 s of flight time
    k = _root(lambda kk: metric(kk)[0], k_full.copy(), k_star.copy(), goal, tol=0.5)
    return k, metric(k)[1]


def _full_burn(ev: _Evaluator, need_loft, need_dep, k_star, az, target, out) -> None:
    """Kicks of the lofted and depressed full-burn shots reaching ``target`` where asked (N,)
    bool, and their apogees, written into ``out`` = (k_loft, k_dep, apogee_loft, apogee_dep)."""
    N = az.size
    inf = np.full(N, np.inf)
    k_loft, k_dep, ap_l, ap_d = out
    for need, lo, hi, k_out, ap_out in ((need_loft, np.full(N, _KICK_MIN), k_star, k_loft, ap_l),
                                        (need_dep, k_star, np.full(N, np.radians(89.0)), k_dep, ap_d)):
        idx = np.flatnonzero(need)
        if idx.size:
            k_out[idx] = _root(lambda k, i=idx: ev.impact(i, k, az[i], inf[i])[0], lo[idx], hi[idx], target[idx])
            ap_out[idx] = ev.impact(idx, k_out[idx], az[idx], inf[idx])[3]


def solve(missiles: Sequence, launch_lat, launch_lon, launch_alt, aim_lat, aim_lon, profile="min-energy",
          model: EarthModel = FULL, dt: float = 1.0, t_max: float = 6000.0, azimuth_iterations: int = 10,
          apogee=None, flight_time=None) -> Steering:
    """Steering for N threats: catalogue missiles and geodetic launch/aim points [rad, m], shapes (N,).

    ``profile`` is one of :data:`PROFILES` or a sequence of them, one per threat.
    ``apogee`` [m] or ``flight_time`` [s] (arrays, ``nan`` where free) shape a lofted or
    depressed shot of a missile that can cut thrust: the kick moves along the curve of
    constant range (the cut-off re-solved at each kick) until the apogee or the flight time
    is the one asked for.  Raises :class:`UnreachableError` for the first aim point beyond
    reach, :class:`NoSolutionError` where the profile has no trajectory to it and
    :class:`ShapeError` where the shape cannot be flown.
    """
    N = len(missiles)
    lat0, lon0, alt0, lat1, lon1 = (np.broadcast_to(np.asarray(x, float), (N,)).copy()
                                    for x in (launch_lat, launch_lon, launch_alt, aim_lat, aim_lon))
    profiles = [profile] * N if isinstance(profile, str) else list(profile)
    for p in profiles:
        if p not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {p!r}")
    veh = vehicle_from_missiles(missiles)
    r0 = earth.geodetic_to_ecef(lat0, lon0, alt0)
    ev = _Evaluator(veh, r0, lat0, lon0, model, dt, t_max)
    target = earth.great_circle_distance(lat0, lon0, lat1, lon1)
    close = np.flatnonzero(target < 1e3)
    if close.size:
        raise AimError(int(close[0]), "the aim point is less than 1 km from the launch point")
    bearing = earth.initial_bearing(lat0, lon0, lat1, lon1)
    can_cut = np.array([bool(m.thrust_termination) for m in missiles])
    want = np.array(profiles)
    ar = np.arange(N)
    burn_start = veh.vertical_rise + veh.pitch_over
    apogee_me = kepler.minimum_energy(target).apogee
    az = bearing.copy()
    inf = np.full(N, np.inf)
    use_cut = (want == "min-energy") & can_cut
    # the full-burn branches: the answer for solids, the bracket of the minimum-energy search
    need_loft = use_cut | (want != "depressed")
    need_dep = use_cut | (want != "lofted")
    kick, cutoff = np.zeros(N), inf.copy()
    apogee = np.broadcast_to(np.nan if apogee is None else np.asarray(apogee, float), (N,))
    flight_time = np.broadcast_to(np.nan if flight_time is None else np.asarray(flight_time, float), (N,))
    shaped = np.isfinite(apogee) | np.isfinite(flight_time)
    for i in np.flatnonzero(shaped).tolist():
        if np.isfinite(apogee[i]) and np.isfinite(flight_time[i]):
            raise ShapeError(i, "give an apogee or a flight time, not both")
        if want[i] == "min-energy":
            raise ShapeError(i, "an apogee or flight time shapes a lofted or depressed shot, not min-energy")
        if not can_cut[i]:
            raise ShapeError(i, f"{missiles[i].name} cannot cut thrust, so its {want[i]} shot to this aim point "
                                f"is fixed; drop the apogee/flight time")
    for it in range(azimuth_iterations):
        if it == 0:  # the range-optimal kick barely moves with the small azimuth corrections
            k_star, rmax = _max_range_kick(ev, az)
            bad = np.flatnonzero(rmax < target)
            if bad.size:
                i = int(bad[0])
                raise UnreachableError(i, missiles[i].name, float(target[i]), float(rmax[i]))
        k_loft, k_dep, ap_l, ap_d = (np.full(N, np.nan) for _ in range(4))
        # after the first pass a shot cut for range flies k_me: its full-burn branches (the
        # bracket of that search) are not flown again, unless its cut-off solve fails below
        branches = (k_loft, k_dep, ap_l, ap_d)
        fly_full = ~use_cut if it > 0 else np.ones(N, bool)
        _full_burn(ev, need_loft & fly_full, need_dep & fly_full, k_star, az, target, branches)
        idx = np.flatnonzero(use_cut)
        if idx.size:
            if it == 0:  # like k_star, the minimum-energy kick barely moves with the azimuth
                lo_k = np.where(np.isfinite(k_loft), k_loft, _KICK_MIN)[idx]
                hi_k = np.where(np.isfinite(k_dep), k_dep, np.radians(89.0))[idx]
                k_me = k_star.copy()
                k_me[idx] = _min_energy_kick(ev, idx, lo_k, hi_k, az[idx], target[idx], burn_start[idx],
                                             veh.total_burn[idx])
            cutoff[idx] = ev.cut_for_range(idx, k_me[idx], az[idx], target[idx], burn_start[idx],
                                           veh.total_burn[idx])[0]
            # where the least-energy shot sits at a full-burn end of the curve the cut-off
            # solve can miss after an azimuth correction: fly that full-burn shot instead
            failed = use_cut & ~np.isfinite(cutoff)
            use_cut &= ~failed
            cutoff[failed] = np.inf
            if it > 0 and failed.any():
                _full_burn(ev, need_loft & failed, need_dep & failed, k_star, az, target, branches)
        # a solid on a min-energy shot flies the branch whose apogee is nearer the Kepler one
        d_l = np.where(np.isfinite(k_loft), np.abs(ap_l - apogee_me), np.inf)
        d_d = np.where(np.isfinite(k_dep), np.abs(ap_d - apogee_me), np.inf)
        loft = (want == "lofted") | ((want == "min-energy") & ~use_cut & (d_l <= d_d))
        kick = np.where(use_cut, k_me if use_cut.any() else k_star, np.where(loft, k_loft, k_dep))
        if it == 0 and not np.all(np.isfinite(kick) | use_cut):
            i = int(np.flatnonzero(~np.isfinite(kick))[0])
            raise NoSolutionError(i, missiles[i].name, float(target[i]), want[i])
        idx = np.flatnonzero(shaped)
        if idx.size:
            k_s, c_s = _shape(ev, idx, kick[idx], k_star[idx], az[idx], target[idx], burn_start[idx],
                              veh.total_burn[idx], apogee[idx], flight_time[idx], it == 0)
            kick[idx], cutoff[idx] = k_s, c_s
        _, ilat, ilon, _, _, _ = ev.impact(ar, kick, az, cutoff)
        b_hit = earth.initial_bearing(lat0, lon0, ilat, ilon)
        turn = np.angle(np.exp(1j * (bearing - b_hit)))
        az = np.mod(az + turn, 2 * np.pi)
        if np.all(np.abs(turn) * target < 5.0):  # cross-range error under 5 m: converged
            break
    _, ilat, ilon, _, _, _ = ev.impact(ar, kick, az, cutoff)
    err = earth.great_circle_distance(ilat, ilon, lat1, lon1)
    bad = np.flatnonzero(~(err < 1e3))  # nan: the solution never came down
    if bad.size:
        i = int(bad[0])
        raise NoSolutionError(i, missiles[i].name, float(target[i]), want[i])
    return Steering(azimuth=az, kick=kick, cutoff=cutoff, max_range=rmax, aim_error=err)
