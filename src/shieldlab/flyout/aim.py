"""Steering solver: the launch azimuth, pitch-over (kick) angle and cut-off time
that put a missile's impact on an aim point, on the rotating ellipsoidal Earth
with drag.

Profiles
--------
``min-energy``
    For a missile that can shed energy: of all kicks whose trajectory, trimmed to
    the range, reaches it, the one that burns out on the minimum-energy conic for
    the range its coast covers (the closed form's minimum-energy shot, Bate, Mueller
    & White 1971, ch. 6, flown from the real vehicle's burnout point, of its velocity
    relative to the Earth: :func:`conic_angle_error` says why not the inertial one).  A liquid
    missile trims by cutting thrust at the right moment; a multi-stage solid with
    general energy management (``energy_management: gem``) by yawing its upper
    stages' thrust off the path (:meth:`~shieldlab.flyout.vehicle.Vehicle.throttled`:
    the factor of the thrust left along the path is the trim).  A solid without
    either flies whichever of the lofted and depressed full-burn solutions has the
    apogee closest to the Kepler minimum-energy apogee for that range.

    Why the conic and not the least burnout speed along the curve: the speed is flat
    in the burnout angle to second order, and a steeper shot burns out higher, so the
    least speed over the whole vehicle trades a few m/s for a burnout tens of
    kilometres higher and a shot degrees steeper: at 7,400 km a Topol-M under GEM
    would fly a 1,438 km apogee where the conic gives 1,356 km (Gronlund & Wright
    1992: ~1,340 km; tests/validation/test_min_energy_flyout.py).
``lofted`` / ``depressed``
    Full burn; the smaller (steeper) or larger (flatter) kick angle that reaches
    the range — or, given an apogee or a flight time and a missile that can trim
    its energy, the shot of that shape.

Method: a scan of 24 kick angles and golden-section refinement of the maximum
range, Illinois regula falsi on monotone branches (kick or trim) for the
ground range and on the kick for the burnout angle of the minimum-energy conic, and a
fixed-point correction of the azimuth for Earth rotation and J2 (the cross-range
error is fed back as a bearing change; a shot not converged to 5 m after ``solve``'s
``azimuth_iterations`` goes on by secant steps).  Every evaluation is one batched call of
the fast integrator over all threats at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from shieldlab import earth
from shieldlab.flyout import kepler
from shieldlab.flyout.integrate import FULL, EarthModel, run
from shieldlab.flyout.vehicle import Vehicle, vehicle_from_missiles

PROFILES = ("min-energy", "lofted", "depressed")
#: Kinds of trim (how a shot sheds the energy it does not need): cut thrust, general energy
#: management, or an earlier terminal dive (quasi-ballistic missiles, shaped shots only).
TRIM_CUT, TRIM_GEM, TRIM_DIVE = 0, 1, 2
_KICK_MIN, _KICK_MAX = np.radians(0.5), np.radians(85.0)
_GOLD = (np.sqrt(5.0) - 1.0) / 2.0
#: Azimuth iterations beyond ``solve``'s ``azimuth_iterations``, for shots not converged by then
#: (secant steps on the bearing error; see ``solve``).
AZIMUTH_EXTRA = 20
#: A full-burn branch's root that misses the range by more than this is none [m].
FULL_BURN_MISS_M = 1e3


class AimError(ValueError):
    """No steering for threat ``index``; the message says why.  ``indices``: every threat the
    same check failed (``index`` first), so that a caller dropping the failures (a footprint's
    anchors) drops them at once."""

    def __init__(self, index: int, message: str):
        self.index = index
        self.indices: list[int] = [index]
        super().__init__(message)

    def of(self, indices) -> AimError:
        """This error, naming all of ``indices`` as failed."""
        self.indices = [int(i) for i in indices]
        return self


class UnreachableError(AimError):
    """The aim point lies beyond the missile's maximum range on that bearing."""

    def __init__(self, index: int, missile: str, range_m: float, max_range_m: float):
        self.missile, self.range_m, self.max_range_m = missile, range_m, max_range_m
        if max_range_m < GROUNDED_M:
            # (a shot that falls back behind the pad reads as a negative range: no figure to give)
            super().__init__(index, f"aim point {range_m / 1e3:,.0f} km away is out of reach of {missile}: no shot "
                                    f"of it comes down more than {GROUNDED_M / 1e3:g} km from its launch point (it "
                                    "barely leaves the pad, or never comes back down), so its catalogue figures "
                                    "(stage burn times, thrust or specific impulse, masses) do not make a missile "
                                    "that flies to a range")
            return
        super().__init__(index, f"aim point {range_m / 1e3:,.0f} km away is out of reach of {missile}: "
                                f"its maximum range on that bearing is {max_range_m / 1e3:,.0f} km")


#: A missile whose full-burn shots all come down nearer their launch point than this [m], or
#: never come down, does not fly to a range (a burn of a microsecond, a vertical rise of days,
#: a specific impulse of a million seconds): :class:`UnreachableError` says so rather than give
#: its "maximum range" (-5 km, or 0).
GROUNDED_M = 10e3


class ShapeError(AimError):
    """A requested apogee or flight time cannot be flown to that aim point."""


class NoSolutionError(AimError):
    """No trajectory of the requested profile reaches the aim point (e.g. too close for a
    depressed full-burn shot of a missile that cannot cut thrust)."""

    def __init__(self, index: int, missile: str, range_m: float, profile: str, burning: bool = False,
                 max_range_m: float | None = None, other_profile: bool = True, can_shape: bool = True,
                 turned_max_range_m: float | None = None):
        self.missile, self.range_m, self.profile = missile, range_m, profile
        # only what can work is offered: a solid that cannot cut its thrust has one shot per
        # branch, and shaping by apogee or flight time it refuses (the advice had gone round)
        hint = ", or shape it by apogee or flight time" if profile != "min-energy" and can_shape else ""
        #: whether the message's advice is "try another profile" (a caller may try them, and say which flies)
        self.advises_other_profile = not burning and other_profile and (max_range_m is None)
        self.shaping_hint = bool(hint)
        why = (" after its motor burns out: the shot there meets the ground under thrust (too close for a "
               "missile that cannot cut its thrust)" if burning else f" (try another profile{hint})"
               if other_profile else " (too close for a missile that cannot cut its thrust: neither its "
               "lofted nor its depressed full-burn shot comes down this near)")
        if max_range_m is not None and not burning:
            # the maximum range is the great-circle bearing's; the bearing the solver turns to,
            # to allow for the Earth's rotation, can reach less (most near the poles)
            less = "less"
            if turned_max_range_m is not None:
                less = f"at most {turned_max_range_m / 1e3:,.0f} km"
                if range_m <= turned_max_range_m:
                    less += ", and no trimmed or full-burn shot on it comes down there"
            why = (f": it lies within {100.0 * (1.0 - range_m / max_range_m):.1f} % of the maximum range on "
                   f"that bearing ({max_range_m / 1e3:,.0f} km), and the launch bearing turned to allow for "
                   f"the Earth's rotation reaches {less} (aim a little nearer)")
        #: the message without its advice
        self.head = f"no full-burn {profile} trajectory of {missile} comes down {range_m / 1e3:,.0f} km away"
        super().__init__(index, self.head + why)


@dataclass(frozen=True)
class Steering:
    """Solved steering per threat, shapes (N,)."""

    azimuth: np.ndarray  # launch azimuth [rad from north]
    kick: np.ndarray  # pitch-over angle [rad from vertical]
    cutoff: np.ndarray  # thrust termination [s after launch]; inf = burn out
    upper_thrust: np.ndarray  # the upper stages' thrust left along the path (GEM), 0-1; 1 = all
    dive_time: np.ndarray  # a quasi-ballistic shot's terminal dive [s after launch]; inf = when its glide ends
    max_range: np.ndarray  # full-burn maximum range on the first guess's bearing [m] (:func:`max_range_on` for another)
    aim_error: np.ndarray  # distance from the solved impact to the aim point [m]
    #: how the shot was found: ``trimmed`` (the minimum-energy shot of a missile that trims,
    #: :func:`trims`: by its cut-off or energy management), ``lofted`` / ``depressed`` (the
    #: full-burn branch: the profile asked for, or, on a minimum-energy shot, the one whose
    #: apogee is nearer the Kepler minimum-energy apogee where the missile cannot trim or no
    #: trimmed shot reaches the aim point), ``shaped`` (by apogee or flight time)
    branch: np.ndarray


def trims(missile) -> bool:
    """Whether ``missile`` sheds energy on a minimum-energy shot: it cuts its thrust, or yaws its
    upper stages' thrust off the path (GEM).  (A quasi-ballistic missile's dive shapes a lofted
    or depressed shot only.)"""
    return bool(missile.thrust_termination) or getattr(missile, "energy_management", "none") == "gem"


class Shot(NamedTuple):
    """What one evaluation of the flyout returns per shot, shapes (M,)."""

    range: np.ndarray  # ground range [m]; negative: behind the launch point; 0: never came down
    lat: np.ndarray  # impact latitude [rad]
    lon: np.ndarray  # impact longitude [rad]
    apogee: np.ndarray  # apogee altitude [m]
    flight_time: np.ndarray  # launch to impact [s]
    burnout_speed: np.ndarray  # inertial speed at burnout [m/s]
    burnout_state: np.ndarray  # (M, 6) ECEF position [m] and velocity relative to the Earth [m/s] at burnout

    @property
    def conic_error(self) -> np.ndarray:
        """Burnout flight-path angle above the minimum-energy one for its own conic [rad]
        (:func:`conic_angle_error`), computed when asked: most shots the solver flies do not need it."""
        return conic_angle_error(self.burnout_state)


def conic_angle_error(burnout_state: np.ndarray) -> np.ndarray:
    """How far above the minimum-energy flight-path angle a burnout state (M, 6: ECEF position
    [m], velocity relative to the Earth [m/s]) flies, for the range the Kepler conic of that
    velocity covers from that height over a non-rotating sphere [rad]: 0 on the minimum-energy
    conic (Bate, Mueller & White 1971, ch. 6), positive lofted, negative depressed, nan where
    the conic does not come back down.

    The velocity is the Earth-relative one, what the missile's own motor gave it, not the
    inertial one: an inertial conic counts the ground's spin (~380 m/s at 35 deg N) as energy
    the missile has for free, so its "minimum-energy" shot leans with the bearing; a Scud-B
    at 273 km from 35 deg N would top out at 105 km fired east and 57 km fired west, and need
    40-50 m/s more burnout speed of its own either way than the shot on the Earth-relative
    conic (76 km both ways; tests/validation/test_min_energy_flyout.py)."""
    r, v = burnout_state[:, :3], burnout_state[:, 3:]
    rn, vn = np.linalg.norm(r, axis=1), np.linalg.norm(v, axis=1)
    gamma = np.arcsin(np.clip(np.einsum("ij,ij->i", r, v) / (rn * vn), -1.0, 1.0))
    h = np.maximum(np.nan_to_num(rn - earth.R_EARTH_MEAN), 0.0)  # (a burnout below the mean sphere: from it)
    with np.errstate(invalid="ignore", divide="ignore"):
        psi = kepler.free_flight_range(vn, gamma, h)
    out = np.full(rn.shape, np.nan)
    ok = np.isfinite(psi) & (psi > 0.0) & (psi < np.pi * earth.R_EARTH_MEAN)
    if ok.any():
        out[ok] = gamma[ok] - kepler.minimum_energy(psi[ok], h[ok]).flight_path_angle
    return out


class _Evaluator:
    def __init__(self, veh: Vehicle, r0: np.ndarray, lat0, lon0, model: EarthModel, dt: float, t_max: float,
                 trim_kind: np.ndarray | None = None):
        self.veh, self.r0, self.lat0, self.lon0 = veh, r0, lat0, lon0
        self.model, self.dt, self.t_max = model, dt, t_max
        # the trim that sheds energy (TRIM_*): the cut-off time [s], under GEM the upper stages'
        # thrust factor, or for a quasi-ballistic missile the time its dive begins [s]
        kind = np.full(veh.batch_size, TRIM_CUT) if trim_kind is None else trim_kind
        self.kind = kind
        self.trim_lo = np.select([kind == TRIM_GEM, kind == TRIM_DIVE],
                                 [0.0, veh.total_burn + 1.0], veh.vertical_rise + veh.pitch_over + 1.0)
        self.trim_hi = np.select([kind == TRIM_GEM, kind == TRIM_DIVE], [1.0, t_max], veh.total_burn)
        self.untrimmed = np.where(kind == TRIM_GEM, 1.0, np.inf)

    def impact(self, idx, kick, az, cutoff, upper_thrust=None, dive_time=None) -> Shot:
        """The :class:`Shot` of batch elements ``idx`` (with repetition)."""
        veh = self.veh.take(idx)
        if upper_thrust is not None:
            veh = veh.throttled(upper_thrust)
        if dive_time is not None:
            veh = veh.diving_at(dive_time)
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
        state = ev[:, 8:14]
        if self.model.rotating:  # the kernel gives the inertial velocity; the conic is the Earth-relative one's
            state = state.copy()
            state[:, 3:] -= np.cross([0.0, 0.0, earth.OMEGA_EARTH], state[:, :3])
        return Shot(rng, lat, lon, ev[:, 3], ev[:, 4], ev[:, 1], state)

    def trimmed(self, idx, kick, az, trim) -> Shot:
        """:meth:`impact` of shots trimmed by ``trim``: the cut-off time [s], under GEM the upper
        stages' thrust factor, or the dive time [s]."""
        k = self.kind[idx]
        return self.impact(idx, kick, az, np.where(k == TRIM_CUT, trim, np.inf), np.where(k == TRIM_GEM, trim, 1.0),
                           np.where(k == TRIM_DIVE, trim, np.inf))

    def cut_for_range(self, idx, kick, az, target):
        """Trim (cut-off time [s], GEM thrust factor or dive time [s]) at which a shot with
        ``kick`` reaches ``target`` range (``nan`` where none does), and :meth:`impact` of that
        shot (untrimmed where there is none).  Range grows with the trim on every kind."""
        kick, az = np.broadcast_to(kick, idx.shape), np.broadcast_to(az, idx.shape)
        # each element's last shot flown by the root finder: where the root is found, that is
        # the shot at the answer (the root returns its last iterate), so it is not flown again
        # (a shot's flight does not depend on the batch it flies in)
        last: list[np.ndarray] = []

        def trimmed_range(r, c):
            shot = self.trimmed(idx[r], kick[r], az[r], c)
            if not last:
                last.extend(np.empty((idx.size,) + a.shape[1:], a.dtype) for a in shot)
            for buf, a in zip(last, shot):
                buf[r] = a
            return shot[0]

        cut = _root(trimmed_range, self.trim_lo[idx], self.trim_hi[idx].copy(), target)
        miss = np.flatnonzero(~np.isfinite(cut))
        if miss.size:  # no root: the untrimmed shot
            for buf, a in zip(last, self.trimmed(idx[miss], kick[miss], az[miss], self.untrimmed[idx[miss]])):
                buf[miss] = a
        return cut, Shot(*last)


def max_range_on(missile, launch_lat: float, launch_lon: float, launch_alt: float, azimuth: float,
                 model: EarthModel = FULL, dt: float = 1.0, t_max: float = 6000.0) -> float:
    """The full-burn maximum range [m] of catalogue ``missile`` launched from the geodetic point
    [rad, m] on ``azimuth`` [rad]: :func:`solve` reports it on its first guess's bearing (the
    great circle's), which a long shot's bearing leaves to allow for the Earth's turn (a
    Minuteman III over the pole to Moscow flies 7° off it, and reaches 158 km less)."""
    veh = vehicle_from_missiles([missile])
    lat0, lon0 = np.array([launch_lat], float), np.array([launch_lon], float)
    ev = _Evaluator(veh, earth.geodetic_to_ecef(lat0, lon0, np.array([launch_alt], float)), lat0, lon0, model, dt,
                    t_max)
    return float(_max_range_kick(ev, np.array([azimuth], float))[1][0])


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

    def keep_best(k, r):
        nonlocal best_k, best_r
        better = r > best_r
        best_k, best_r = np.where(better, k, best_k), np.where(better, r, best_r)

    # golden section for the maximum of range(kick) (range is flat there), 20 brackets: the
    # interior point kept from the last bracket is not flown again (G^2 = 1 - G puts it on the
    # new bracket's other golden point), so each bracket after the first flies one new shot
    a = hi - _GOLD * (hi - lo)
    b = lo + _GOLD * (hi - lo)
    r = ev.impact(np.concatenate([ar, ar]), np.concatenate([a, b]), np.concatenate([az, az]), np.full(2 * N, np.inf))[0]
    ra, rb = r[:N], r[N:]
    keep_best(a, ra)
    keep_best(b, rb)
    for _ in range(19):
        left = ra >= rb
        hi = np.where(left, b, hi)
        lo = np.where(left, lo, a)
        # left: the old lower point becomes the upper one; else the old upper point the lower one
        x = np.where(left, hi - _GOLD * (hi - lo), lo + _GOLD * (hi - lo))
        rx = ev.impact(ar, x, az, np.full(N, np.inf))[0]
        keep_best(x, rx)
        a, ra, b, rb = (np.where(left, x, b), np.where(left, rx, rb), np.where(left, a, x), np.where(left, ra, rx))
    return best_k, best_r


def _root(f, lo, hi, target, tol=0.5, iters=40, f_lo=None, f_hi=None, max_miss=np.inf):
    """Vectorised Illinois (modified regula falsi) root of ``f(rows, x) = target`` on brackets [lo, hi].

    ``f`` maps the parameters ``x`` (m,) of the elements ``rows`` (m,) (indices into the
    batch) to ranges; the bracket must straddle the target; where it does not, the result
    is ``nan`` (no solution on that branch) and the element is never flown again.
    Converges superlinearly; each element stops once ``|f - target|`` is below ``tol / 1000``
    (0.5 mm of range at the default ``tol``; the others go on alone: a batch's flights shrink
    as its elements converge).  ``f_lo``,
    ``f_hi``: ``f`` at the bracket's ends where the caller has it already (not evaluated
    again).  Each element's last evaluation of ``f`` is at its answer (where there is one).
    ``max_miss``: where the last iterate's ``f`` is further than this from the target, the
    result is ``nan`` too: a bracket that straddles the target across a jump of ``f`` (the
    ground range of a shot that passes the antipode flips sign) closes on the jump, not on a
    root.
    """
    a, b = lo.copy(), hi.copy()
    every = np.arange(a.size)
    fa = (f(every, a) if f_lo is None else f_lo) - target
    fb = (f(every, b) if f_hi is None else f_hi) - target
    ok = np.sign(fa) != np.sign(fb)
    x = np.where(np.abs(fa) < np.abs(fb), a, b)
    side = np.zeros(a.shape, int)
    miss = np.where(np.abs(fa) < np.abs(fb), fa, fb)
    act = np.flatnonzero(ok)
    for _ in range(iters):
        if not act.size:
            break
        aa, bb, fa_, fb_ = a[act], b[act], fa[act], fb[act]
        denom = fb_ - fa_
        xx = np.where(denom != 0, bb - fb_ * (bb - aa) / np.where(denom != 0, denom, 1.0), 0.5 * (aa + bb))
        xx = np.where((xx <= np.minimum(aa, bb)) | (xx >= np.maximum(aa, bb)), 0.5 * (aa + bb), xx)
        fx = f(act, xx) - target[act]
        x[act] = xx
        miss[act] = fx
        same = np.sign(fx) == np.sign(fb_)
        # replace the endpoint on fx's side; halve the stale one (Illinois) when it repeats
        a[act] = np.where(same, aa, bb)
        fa[act] = np.where(same, np.where(side[act] == 1, 0.5 * fa_, fa_), fb_)
        side[act] = np.where(same, 1, -1)
        b[act], fb[act] = xx, fx
        act = act[~(np.abs(fx) < tol * 1e-3)]
    return np.where(ok & (np.abs(miss) <= max_miss), x, np.nan)


def _scan_root(ev: _Evaluator, idx, lo, hi, az, target, value, goal, tol, n=12):
    """Kick on the curve of constant range (the trim re-solved at each kick) where ``value(shot)``
    equals ``goal``, between kicks ``lo`` and ``hi`` (M,).

    A scan of ``n`` kicks just inside the ends (where the trim that reaches the range is still
    bracketed) finds the first pair of shots that fly and straddle the goal, then Illinois
    regula falsi refines it (:func:`_root` with ``tol``): the trim fails to reach the range on
    parts of the curve for some vehicles, which a root finder on the whole bracket would trip
    on.  Returns
    the kick (nan where no scanned pair straddles the goal) and the values scanned (M, n),
    nan where the trim failed.
    """
    M = idx.size
    f = np.linspace(1e-4, 1.0 - 1e-4, n)
    grid = lo[:, None] + (hi - lo)[:, None] * f[None, :]

    def val(sel, k):
        c, shot = ev.cut_for_range(idx[sel], k, az[sel], target[sel])
        return np.where(np.isfinite(c), value(shot), np.nan)

    v = val(np.repeat(np.arange(M), n), grid.ravel()).reshape(M, n)
    d = v - goal[:, None]
    straddle = np.isfinite(d[:, :-1]) & np.isfinite(d[:, 1:]) & (np.sign(d[:, :-1]) != np.sign(d[:, 1:]))
    k = np.full(M, np.nan)
    sel = np.flatnonzero(straddle.any(axis=1))
    if sel.size:
        j = np.argmax(straddle[sel], axis=1)
        # the bracket's ends are scanned shots: their values are known
        k[sel] = _root(lambda r, kk: val(sel[r], kk), grid[sel, j], grid[sel, j + 1], goal[sel], tol=tol,
                       f_lo=v[sel, j], f_hi=v[sel, j + 1])
    return k, v, grid


def _conic_kick(ev: _Evaluator, idx, lo, hi, az, target):
    """Kick whose trajectory, trimmed to reach ``target``, burns out on the minimum-energy conic
    for the range its coast covers (:func:`conic_angle_error` zero), to 1e-5 rad.

    Along the curve of constant range the burnout flight-path angle falls from the steepest
    (lofted) to the flattest (depressed) shot; the angle is what pins the apogee and the flight
    time (the burnout speed is flat there to second order).  Where the error keeps one sign
    over the whole curve (a gravity turn that cannot loft or flatten its burnout angle enough,
    at the longest ranges: a notional Iranian ICBM at 9,800 km stays 0.5-15 deg below the
    conic's angle) the shot of least burnout speed along the curve is taken
    (:func:`_least_speed_kick`); the end nearest the conic would be a full burn.
    """
    k, _, _ = _scan_root(ev, idx, lo, hi, az, target, lambda shot: shot.conic_error, np.zeros(idx.size), 1e-5)
    miss = np.flatnonzero(~np.isfinite(k))
    if miss.size:
        k[miss] = _least_speed_kick(ev, idx[miss], lo[miss], hi[miss], az[miss], target[miss])
    return k


def _least_speed_kick(ev: _Evaluator, idx, lo, hi, az, target):
    """Kick whose trajectory reaches ``target`` with the least burnout speed: the fallback of
    :func:`_conic_kick` where no shot of the curve reaches the minimum-energy conic.

    Along the curve of constant range (trim solved per kick) the burnout speed has one
    minimum, between the steepest and the flattest full-burn shots: golden-section search.
    """
    def speed(k):
        c, shot = ev.cut_for_range(idx, k, az, target)
        return np.where(np.isfinite(c), shot.burnout_speed, np.inf)

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



def _shape(ev: _Evaluator, idx, k_full, k_split, az, target, apogee, flight_time, check, near=None):
    """Kick and trim reaching ``target`` range with the asked apogee or flight time.

    Along the curve of constant range the kick runs from the full-burn solution
    (``k_full``: the steepest lofted or flattest depressed shot, or the steepest or flattest
    kick where there is none) to the minimum-energy shot's kick ``k_split`` with the range
    trimmed (cut-off, GEM or dive): a lofted shot tops out above that shot, a depressed one
    below; the apogee and the flight time change monotonically along it, so
    a root finder on the kick (:func:`_scan_root`) with an inner one on the trim hits both the
    range and the shape, to 0.5 m of apogee or 0.5 s of flight time.  ``check``: a shape not
    found raises :class:`ShapeError` with what the curve holds (``near``, (M,) bool: the aim
    point is near the missile's greatest range on its bearing, which is then why).
    """
    use_apogee = np.isfinite(apogee)
    goal = np.where(use_apogee, apogee, flight_time)

    k = np.full(idx.size, np.nan)
    for want_apogee in (True, False):
        rows = np.flatnonzero(use_apogee == want_apogee)
        if not rows.size:
            continue
        pick = (lambda shot: shot.apogee) if want_apogee else (lambda shot: shot.flight_time)
        kk, v, _ = _scan_root(ev, idx[rows], k_full[rows], k_split[rows], az[rows], target[rows], pick, goal[rows],
                              0.5)
        k[rows] = kk
        if check:
            bad = np.flatnonzero(~np.isfinite(kk))
            if bad.size:
                j = int(bad[0])
                what, unit, scale = ("apogee", "km", 1e3) if want_apogee else ("flight time", "s", 1.0)
                fin = v[j][np.isfinite(v[j])]
                is_near = near is not None and bool(near[rows[j]])
                # the span the scan found, to a tenth of the unit, rounded inward, so that it
                # never seems to hold the refused value (241.2 had been refused "between 241.2
                # and 291.9 s"); beyond the scan, between it and the full-burn end, a value is
                # refused as well, so that end is named only where the scan found no span
                lo_t, hi_t = ((np.ceil(10.0 * fin.min() / scale) / 10.0, np.floor(10.0 * fin.max() / scale) / 10.0)
                              if fin.size else (np.nan, np.nan))
                if fin.size and hi_t > lo_t:
                    span = f"between {lo_t:,.1f} and {hi_t:,.1f} {unit}"
                else:
                    # the curve's full-burn end is a shot of it too, where it reaches the range
                    # (the scan stops just inside it, where the trim can fail to be solved)
                    end = ev.impact(idx[rows[[j]]], k_full[rows[[j]]], az[rows[[j]]], np.full(1, np.inf))
                    if abs(float(end.range[0]) - float(target[rows[j]])) < FULL_BURN_MISS_M:  # one shot: it
                        verb = "tops out at" if want_apogee else "flies for"
                        shot = np.append(fin, pick(end)).mean()
                        span = (f"its one shot of this profile that reaches it {verb} {shot / scale:,.1f} {unit}"
                                + (" (near the missile's greatest range on this bearing no trim of its thrust "
                                   f"reaches the aim point another way): drop the {what}" if is_near else ""))
                    elif fin.size:
                        span = "no shot of this profile to it can be shaped" + (
                            " (near the missile's greatest range on this bearing)" if is_near else "")
                    else:
                        span = "no shot of this profile reaches it"
                raise ShapeError(int(idx[rows[j]]), f"{what} {goal[rows[j]] / scale:,.6g} {unit} cannot be flown to "
                                                    f"this aim point: {span}").of(idx[rows[bad]])
    c = ev.cut_for_range(idx, np.where(np.isfinite(k), k, k_full), az, target)[0]
    return k, c


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
            # (a bracket ending at the range-optimal kick of a missile that can fly past the
            # antipode straddles the target across the range's jump there: no root)
            k_out[idx] = _root(lambda r, k, i=idx: ev.impact(i[r], k, az[i[r]], inf[i[r]])[0], lo[idx], hi[idx],
                               target[idx], max_miss=FULL_BURN_MISS_M)
            ap_out[idx] = ev.impact(idx, k_out[idx], az[idx], inf[idx]).apogee


def _split_kick(ev: _Evaluator, rows, k_star, k_loft, k_dep, can_cut, az, target) -> np.ndarray:
    """Where the halves of ``rows``' curves of constant range meet: a lofted shot tops out
    above the minimum-energy shot, a depressed one below; a quasi-ballistic missile's
    minimum-energy shot is a full burn, an end of the curve: its halves meet at the
    range-optimal kick ``k_star``."""
    k = k_star[rows].copy()
    sc = can_cut[rows]
    if sc.any():
        r = rows[sc]
        lo_k = np.where(np.isfinite(k_loft), k_loft, _KICK_MIN)[r]
        hi_k = np.where(np.isfinite(k_dep), k_dep, np.radians(89.0))[r]
        k[sc] = _conic_kick(ev, r, lo_k, hi_k, az[r], target[r])
    return np.where(np.isfinite(k), k, k_star[rows])


def _shaped_apart(missile, lat0, lon0, alt0, lat1, lon1, profile, apogee, flight_time, max_range_kick, index,
                  **kw) -> Steering:
    """Threat ``index``'s shaped shot steered on its own, from the bearing its profile's own
    full-burn shot converges to (the minimum-energy shot's where it has none: the curve's
    other end), and judged there: :class:`ShapeError` (naming ``index``) with what the curve
    holds on that bearing."""
    mrk = (np.array([max_range_kick[0]]), np.array([max_range_kick[1]]))
    az0 = None
    # the profile's own shot (a full burn), else the minimum-energy shot: an end of the curve
    for own in (profile, "min-energy"):
        try:
            az0 = solve([missile], lat0, lon0, alt0, lat1, lon1, own, max_range_kick=mrk, **kw).azimuth
            break
        except AimError:
            continue
    try:
        return solve([missile], lat0, lon0, alt0, lat1, lon1, profile, apogee=np.array([apogee]),
                     flight_time=np.array([flight_time]), max_range_kick=mrk, azimuth0=az0,
                     shapes_on_first_bearing=True, **kw)
    except AimError as e:
        raise _renumbered(e, index) from None


def _renumbered(e: AimError, index: int) -> AimError:
    """``e``, raised by a solve of one threat, as threat ``index``'s."""
    e.index, e.indices = index, [index]
    return e


def solve(missiles: Sequence, launch_lat, launch_lon, launch_alt, aim_lat, aim_lon, profile="min-energy",
          model: EarthModel = FULL, dt: float = 1.0, t_max: float = 6000.0, azimuth_iterations: int = 10,
          apogee=None, flight_time=None, max_range_kick=None, under_thrust_ok: bool = False,
          azimuth0=None, shapes_on_first_bearing: bool = False) -> Steering:
    """Steering for N threats: catalogue missiles and geodetic launch/aim points [rad, m], shapes (N,).

    ``profile`` is one of :data:`PROFILES` or a sequence of them, one per threat.
    ``apogee`` [m] or ``flight_time`` [s] (arrays, ``nan`` where free) shape a lofted or
    depressed shot of a missile that can trim its energy (cut thrust, or GEM): the kick moves
    along the curve of constant range (the trim re-solved at each kick) until the apogee or the flight time
    is the one asked for.  Raises :class:`UnreachableError` for the first aim point beyond
    reach, :class:`NoSolutionError` where the profile has no trajectory to it and
    :class:`ShapeError` where the shape cannot be flown.

    ``max_range_kick``: ``(kick [rad], range [m])`` (N,) of each threat's full-burn
    maximum-range shot on its bearing (:func:`_max_range_kick`) where the caller has flown
    them already (the defended footprint's anchors share a few bearings): not searched again.

    A shot that meets the ground at the aim point with its motor still burning is refused
    (:class:`NoSolutionError`), unless ``under_thrust_ok`` (the defended footprint's
    anchors, whose families keep their short end as they were validated).

    ``azimuth0`` (N,) [rad]: the launch azimuths to start from (the bearings to the aim points
    if None).  A shape not found on an azimuth of the corrections is judged again on the
    bearing an end of its curve converges to (a solve of its own, started there), and refused
    with what the curve of constant range holds on that bearing: the first guess's is off by
    the Earth's turn under the flight (20 km of apogee at 17,000 km).
    ``shapes_on_first_bearing``: judged on the first azimuth instead, and every shape not
    found there refused at once (the defended footprint's anchors, dropped together).
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
    gem = np.array([getattr(m, "energy_management", "none") == "gem" for m in missiles])
    cuts = np.array([bool(m.thrust_termination) for m in missiles])
    lifts = np.array([getattr(m, "aero", None) is not None for m in missiles]) & ~cuts & ~gem
    kind = np.select([gem, lifts], [TRIM_GEM, TRIM_DIVE], TRIM_CUT)
    ev = _Evaluator(veh, r0, lat0, lon0, model, dt, t_max, kind)
    target = earth.great_circle_distance(lat0, lon0, lat1, lon1)
    close = np.flatnonzero(target < 1e3)
    if close.size:
        raise AimError(int(close[0]), "the aim point is less than 1 km from the launch point")
    # at the antipode every bearing leads there (and the closed forms hold to half way round)
    across = np.flatnonzero(target > np.pi * earth.R_EARTH_MEAN - 1e3)
    if across.size:
        raise AimError(int(across[0]), f"the aim point is {target[across[0]] / 1e3:,.0f} km away, the launch "
                                       "point's antipode (within 1 km): no bearing leads there, and no missile "
                                       "reaches half way round the Earth")
    bearing = earth.initial_bearing(lat0, lon0, lat1, lon1)
    can_cut = cuts | gem  # a quasi-ballistic missile trims by its dive only to shape a shot
    can_shape = can_cut | lifts
    want = np.array(profiles)
    ar = np.arange(N)
    apogee_me = kepler.minimum_energy(target).apogee
    az = bearing.copy() if azimuth0 is None else np.broadcast_to(np.asarray(azimuth0, float), (N,)).copy()
    use_cut = (want == "min-energy") & can_cut
    kick, cutoff = np.zeros(N), ev.untrimmed.copy()  # cutoff: the trim (see _Evaluator.trimmed)
    apogee = np.broadcast_to(np.nan if apogee is None else np.asarray(apogee, float), (N,))
    flight_time = np.broadcast_to(np.nan if flight_time is None else np.asarray(flight_time, float), (N,))
    shaped = np.isfinite(apogee) | np.isfinite(flight_time)
    # the full-burn branches: the answer for solids, the bracket of the minimum-energy search
    # (a shaped shot's too: its lofted and depressed halves meet at the minimum-energy shot)
    need_loft = use_cut | (want != "depressed") | (shaped & can_cut)
    need_dep = use_cut | (want != "lofted") | (shaped & can_cut)
    for i in np.flatnonzero(shaped).tolist():
        if np.isfinite(apogee[i]) and np.isfinite(flight_time[i]):
            raise ShapeError(i, "give an apogee or a flight time, not both")
        if want[i] == "min-energy":
            raise ShapeError(i, "an apogee or flight time shapes a lofted or depressed shot, not min-energy")
        if not can_shape[i]:
            raise ShapeError(i, f"{missiles[i].name} cannot cut thrust or manage its energy, so its {want[i]} "
                                f"shot to this aim point is fixed, where it has one; drop the apogee/flight time")
    prev_az = prev_turn = None
    steered = az.copy()  # the latest finite azimuth of each row (a refusal names what it reaches)
    apart: dict[int, Steering] = {}  # shaped rows solved on their own bearing (see the docstring)
    for it in range(azimuth_iterations + AZIMUTH_EXTRA):
        if it == 0:  # the range-optimal kick barely moves with the small azimuth corrections
            k_star, rmax = (_max_range_kick(ev, az) if max_range_kick is None else
                            (np.asarray(x, float).copy() for x in max_range_kick))
            bad = np.flatnonzero(rmax < target)
            if bad.size:
                i = int(bad[0])
                raise UnreachableError(i, missiles[i].name, float(target[i]), float(rmax[i])).of(bad)
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
                k_me[idx] = _conic_kick(ev, idx, lo_k, hi_k, az[idx], target[idx])
            cutoff[idx] = ev.cut_for_range(idx, k_me[idx], az[idx], target[idx])[0]
            # where the least-energy shot sits at a full-burn end of the curve the cut-off
            # solve can miss after an azimuth correction: fly that full-burn shot instead
            failed = use_cut & ~np.isfinite(cutoff)
            use_cut &= ~failed
            cutoff[failed] = ev.untrimmed[failed]
            if it > 0 and failed.any():
                _full_burn(ev, need_loft & failed, need_dep & failed, k_star, az, target, branches)
        # a solid on a min-energy shot flies the branch whose apogee is nearer the Kepler one; a
        # quasi-ballistic one its depressed branch where it has one (its gliding flight: the
        # nearer-apogee rule had sent an Iskander-M at 456 km up to 153 km, at 411 km 43 km)
        d_l = np.where(np.isfinite(k_loft), np.abs(ap_l - apogee_me), np.inf)
        d_d = np.where(np.isfinite(k_dep), np.abs(ap_d - apogee_me), np.inf)
        nearer_loft = np.where(lifts, ~np.isfinite(k_dep), d_l <= d_d)
        loft = (want == "lofted") | ((want == "min-energy") & ~use_cut & nearer_loft)
        kick = np.where(use_cut, k_me if use_cut.any() else k_star, np.where(loft, k_loft, k_dep))
        # a shaped shot that can trim needs no full-burn shot to the range: its curve of constant
        # range then starts from the steepest or flattest kick, where the full burn overshoots
        fill = shaped & can_shape & ~np.isfinite(kick)
        kick = np.where(fill, np.where(want == "lofted", _KICK_MIN, np.radians(89.0)), kick)
        if it == 0 and not np.all(np.isfinite(kick) | use_cut):
            bad = np.flatnonzero(~np.isfinite(kick) & ~use_cut)
            i = int(bad[0])
            # whether the other branch would come down there (it was not flown where not asked)
            row = np.zeros(N, bool)
            row[i] = True
            _full_burn(ev, row & ~need_loft, row & ~need_dep, k_star, az, target, branches)
            other = bool(np.isfinite(k_loft[i]) or np.isfinite(k_dep[i])) and want[i] != "min-energy"
            raise NoSolutionError(i, missiles[i].name, float(target[i]), want[i], other_profile=other,
                                  can_shape=bool(can_shape[i])).of(bad)
        idx = np.flatnonzero(shaped)
        idx = idx[~np.isin(idx, list(apart))]  # (those steered on their own are not shaped here again)
        if idx.size:
            if it == 0:
                k_split = k_star.copy()
                k_split[idx] = _split_kick(ev, idx, k_star, k_loft, k_dep, can_cut, az, target)
            k_s, c_s = _shape(ev, idx, kick[idx], k_split[idx], az[idx], target[idx], apogee[idx], flight_time[idx],
                              it == 0 and shapes_on_first_bearing, near=target[idx] > 0.97 * rmax[idx])
            lost = np.flatnonzero(~np.isfinite(k_s))
            if it > 0 and lost.size:
                # the split moves with the azimuth: a value near that end of the curve can fall
                # outside the first pass's bracket as the azimuth is corrected
                r = idx[lost]
                k_split[r] = _split_kick(ev, r, k_star, k_loft, k_dep, can_cut, az, target)
                k_s[lost], c_s[lost] = _shape(ev, r, kick[r], k_split[r], az[r], target[r], apogee[r],
                                              flight_time[r], False)
            if not shapes_on_first_bearing:
                for i in idx[~np.isfinite(k_s)].tolist():
                    apart[i] = _shaped_apart(missiles[i], lat0[i], lon0[i], alt0[i], lat1[i], lon1[i], want[i],
                                             apogee[i], flight_time[i], (k_star[i], rmax[i]), i, model=model, dt=dt,
                                             t_max=t_max, azimuth_iterations=azimuth_iterations,
                                             under_thrust_ok=under_thrust_ok)
            kick[idx], cutoff[idx] = k_s, c_s
        hit = ev.trimmed(ar, kick, az, cutoff)
        ilat, ilon = hit.lat, hit.lon
        b_hit = earth.initial_bearing(lat0, lon0, ilat, ilon)
        turn = np.angle(np.exp(1j * (bearing - b_hit)))
        far = np.abs(turn) * target >= 5.0  # cross-range error of 5 m or more: not converged
        far[list(apart)] = False  # (steered on their own)
        if it < azimuth_iterations:
            step = turn
        else:
            # the fixed point (turn by the bearing error) converges slowly where the impact's
            # bearing follows the launch azimuth weakly (a long flight the Earth turns far
            # under: at 18,500 km each turn closed only 30 % of the error): secant steps on the
            # bearing error instead, only for the shots not yet converged
            with np.errstate(divide="ignore", invalid="ignore"):  # (a converged shot's azimuth did not move)
                slope = (turn - prev_turn) / np.angle(np.exp(1j * (az - prev_az)))
            step = np.where(far & np.isfinite(slope) & (slope < 0.0), -turn / np.where(slope < 0.0, slope, -1.0), turn)
            step = np.where(far, np.clip(step, -0.2, 0.2), 0.0)
        step[list(apart)] = 0.0
        prev_az, prev_turn = az, turn
        az = np.mod(az + step, 2 * np.pi)
        steered = np.where(np.isfinite(az), az, steered)
        if not far.any():
            break
    for i, st in apart.items():
        az[i], kick[i], cutoff[i] = st.azimuth[0], st.kick[0], {TRIM_CUT: st.cutoff, TRIM_GEM: st.upper_thrust,
                                                                   TRIM_DIVE: st.dive_time}[int(kind[i])][0]
    hit = ev.trimmed(ar, kick, az, cutoff)
    ilat, ilon = hit.lat, hit.lon
    err = earth.great_circle_distance(ilat, ilon, lat1, lon1)
    bad = np.flatnonzero(~(err < 1e3))  # nan: the solution never came down
    # a shaped shot that misses: a value at the very edge of the curve, where the bearing and
    # the shape pull apart as the azimuth is corrected
    edge = bad[shaped[bad]]
    if edge.size:
        i = int(edge[0])
        what, value = (("apogee", f"{apogee[i] / 1e3:,.6g} km") if np.isfinite(apogee[i])
                       else ("flight time", f"{flight_time[i]:,.6g} s"))
        raise ShapeError(i, f"{what} {value} lies at the edge of what a {want[i]} shot can fly to this aim point, "
                            "where no shot steered there reaches it: ask for one a little further inside").of(edge)
    if bad.size:
        i = int(bad[0])
        near = float(rmax[i]) if target[i] > 0.97 * rmax[i] else None
        # the bearing the solver turned to reaches less than the great circle's: said in figures
        turned = None if near is None else max_range_on(missiles[i], float(lat0[i]), float(lon0[i]), float(alt0[i]),
                                                        float(steered[i]), model, dt, t_max)
        turned = None if turned is None or turned < GROUNDED_M else turned
        raise NoSolutionError(i, missiles[i].name, float(target[i]), want[i], max_range_m=near,
                              turned_max_range_m=turned).of(bad)
    # a flat full-burn shot of a solid can meet the ground at the aim point with its motor
    # still burning (a Sejjil-2 aimed 44 km away "landed" at 68 s of a 115 s burn, with no
    # burnout at all): no missile flies that, and what it would report has no burnout
    bad = np.flatnonzero(~np.isfinite(hit.burnout_state).all(axis=1))
    if bad.size and not under_thrust_ok:
        i = int(bad[0])
        raise NoSolutionError(i, missiles[i].name, float(target[i]), want[i], burning=True).of(bad)
    return Steering(azimuth=az, kick=kick, cutoff=np.where(kind == TRIM_CUT, cutoff, np.inf),
                    upper_thrust=np.where(kind == TRIM_GEM, cutoff, 1.0),
                    dive_time=np.where(kind == TRIM_DIVE, cutoff, np.inf), max_range=rmax, aim_error=err,
                    branch=np.where(shaped, "shaped", np.where(use_cut, "trimmed",
                                                                np.where(loft, "lofted", "depressed"))))
