"""Threat evaluation: is a tracked threat aimed at a defended asset, and on what path to plan?

Fire control sees a track (ECEF state and covariance), never the missile.  After burnout
the answer is a ballistic extrapolation of the track: its predicted impact point.  While
the threat is still burning, that extrapolation falls short (the motor is still adding
speed), so a threat aimed at a far asset would be judged harmless until burnout, and an
interceptor that must leave before then (an ICBM met early, EPAA phase 4) would never be
fired.  This module adds the boost-phase half:

* **Boost detection** (:func:`thrusting`).  The non-gravitational acceleration along the
  velocity, ``a = ((v2 - v1) / dt - g_eff(midpoint)) . v_hat`` (``g_eff``: gravity with J2
  and the rotating-frame terms), from the last two track states backed by detections at
  least ``window_s`` apart (:func:`observed_pair`).  Drag only slows a threat, so a clearly
  positive ``a`` is thrust: the track counts as *boosting* when ``a > max(ACCEL_MIN,
  2 sigma_a)`` (sigma_a from the two velocity covariances, taken independent), and so does
  a young track (no such state ``window_s`` back).  A track too noisy to show its thrust
  is judged ballistic, as before burnout.
* **Impact corridor** (:func:`corridor`).  For a possibly boosting track the impact
  point is bracketed by hypotheses of the rest of the boost: the measured thrust
  acceleration ``a`` (floored and capped, :data:`ACCEL_RANGE`) kept along the velocity
  (a gravity turn, which flattens the path as a real one does) for a further 0, tau,
  2 tau, ... seconds (``a tau`` = :data:`DV_STEP`), then a ballistic coast on the rotating
  Earth, up to :data:`MAX_SPEED`.  The polyline of their impact points is the ground
  corridor the threat can still land on, from the ballistic impact (no more thrust) out
  to the catalogue's fastest threat.  The threat is *threatening* if the corridor passes
  within an asset's radius plus ``width_m`` (out-of-plane slack) of it; fire control then
  plans on the hypothesis whose impact lies nearest that asset (the track's predicted aim
  point; of several threatened assets the farthest along the corridor), flown by
  :func:`predict`.

* **Probability of hitting an asset** (:func:`impact_probability`).  A ballistic track's
  predicted impact carries the track's uncertainty: the position covariance is carried to
  the impact time (:func:`predicted_position_covariance`) and onto the ground along the
  impact velocity (a point early or late along the path lands farther or shorter), and
  the chance that the warhead lands inside an asset's radius is that of the circularised
  ground error (Marcum Q).  Fire control engages when it reaches the doctrine's
  ``threat_probability`` — not only when the point estimate falls inside the radius,
  which a stale track 140 km off a city never does, however uncertain.

This is the logic of a launch-point/heading threat evaluation ("impact corridor" or
"threat fan").  The corridor's impact points (:func:`impacts`) come from one thrust arc
per track (the hypotheses share it) and a fast coast to the ground (:func:`coast_impacts`:
closed-form Kepler, :func:`shieldlab.flyout.kepler.state_impact`, around a few large
numerical steps that carry J2): within ~0.05 km of flying each hypothesis through the
flyout in fine steps, at a fraction of the cost.  The path fire control then plans on is
flown by the flyout itself (:func:`predict`).
Limits: a missile that dog-legs out of its plane is not bracketed; the hypotheses hold
the thrust acceleration constant (a real one rises as propellant burns and jumps at
staging), so a track far from burnout is bracketed only roughly; the corridor's spacing
between hypotheses is covered by testing the segments between their impact points, not
the points alone.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from shieldlab import earth
from shieldlab.c2 import evaluation_kernel
from shieldlab.flyout import kepler_kernel, kernel
from shieldlab.flyout.integrate import EarthModel, run
from shieldlab.flyout.vehicle import Vehicle, ballistic_vehicle
from shieldlab.tracking.records import CovarianceHistory

#: Length of the track history used to estimate the thrust [s].
WINDOW_S = 8.0
#: Along-velocity acceleration [m/s^2] below which a track counts as unpowered: a third
#: of the weakest boost in the catalogue's missiles (~1 g at lift-off) and far above
#: drag's ~0.01 m/s^2 at 100 km.
ACCEL_MIN = 3.0
#: Significance of the thrust test, in standard deviations of the estimated acceleration:
#: 2 rather than 3 because a missed boost costs the engagement (the ballistic prediction
#: falls short and the threat looks harmless), a false one only defers the shot.
SIGMAS = 2.0
#: Thrust acceleration [m/s^2] the hypotheses use: the measured one, clipped to this range
#: (a young track's estimate is noisy; ~10 g is the most a catalogue missile reaches).
ACCEL_RANGE = (5.0, 100.0)
#: Speed added per hypothesis [m/s] and the fastest inertial speed considered [m/s]
#: (above an ICBM's ~7.2 km/s burnout the arc no longer comes down within the horizon).
DV_STEP = 200.0
MAX_SPEED = 7400.0
#: Out-of-plane slack of the corridor [m].
WIDTH_M = 25e3
_MODEL = EarthModel(drag=False, sub_steps=False)  # smooth, drag-free hypotheses: 4 s RK4 steps resolve them
_HORIZON = 7200.0
_MASS = 1000.0  # kg: any mass; thrust is set to give the wanted acceleration
#: Longest RK4 step [s] of :func:`impacts`' thrust arcs (the flyout's own H_MAX).
_ARC_STEP = 1.0
#: Longest RK4 step [s] of :func:`coast_impacts`' numerical coast, and how far short of
#: the closed-form impact time it stops (the larger of a time [s] and a fraction of it).
_COAST_STEP = 60.0
_COAST_MARGIN_S = 20.0
_COAST_MARGIN_FRAC = 0.01


def thrusting(x_now: np.ndarray, P_now: np.ndarray, x_then: np.ndarray, P_then: np.ndarray,
              dt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each track shows thrust (M,), and its thrust acceleration [m/s^2] (M,): what
    :func:`_thrusting_numpy` computes (see there), compiled row by row
    (:func:`shieldlab.c2.evaluation_kernel.thrusting_rows`)."""
    f = lambda a: np.ascontiguousarray(a, float)  # noqa: E731
    return evaluation_kernel.thrusting_rows(f(x_now), f(P_now), f(x_then), f(P_then),
                                            f(np.broadcast_to(dt, (np.shape(x_now)[0],))), SIGMAS, ACCEL_MIN,
                                            *ACCEL_RANGE)


def boost_test(t: np.ndarray, last: np.ndarray, X: np.ndarray, P: np.ndarray, cs: np.ndarray, ns: np.ndarray,
               k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The thrust test of track rows ``(cs, ns)`` at update ``k`` of a whole track history
    (update times ``t`` (K,), states ``X`` (C, N, K, 6), covariances ``P`` (C, N, K, 6, 6),
    ``last`` (C, N, K) their :func:`last_detection`): :func:`thrusting` of the states
    :func:`observed_pair` names, in one compiled pass
    (:func:`shieldlab.c2.evaluation_kernel.boost_test_rows`); a row with no detection yet is
    not boosting.  Returns ``(boost (M,), accel (M,) [m/s^2], k_now (M,))``."""
    # the track arrays as they are (the tracker stores them update-major: a copy would cost
    # more than the test); the covariances as the history stores them
    h = CovarianceHistory.of(P)
    return evaluation_kernel.boost_test_rows(
        np.ascontiguousarray(t, float), np.asarray(last, np.int64), np.asarray(X, float), h.data, h.index,
        np.ascontiguousarray(cs, np.int64), np.ascontiguousarray(ns, np.int64), int(k), WINDOW_S, SIGMAS,
        ACCEL_MIN, *ACCEL_RANGE)


def _thrusting_numpy(x_now: np.ndarray, P_now: np.ndarray, x_then: np.ndarray, P_then: np.ndarray,
                     dt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each track shows thrust (M,), and its thrust acceleration [m/s^2]
    clipped to :data:`ACCEL_RANGE` (M,), from its states ``x_now`` and ``x_then`` (M, 6)
    ``dt`` (M,) seconds apart [ECEF m, m/s] and their covariances (M, 6, 6).
    ``x_then`` may be nan (track too young): then True, at the lowest acceleration —
    unless the track is clearly descending (radial velocity below minus twice its standard
    deviation): no missile thrusts on the way down, so a threat first seen in re-entry is
    judged ballistic at once."""
    ok = np.isfinite(x_then).all(axis=1) & (dt > 0)
    dts = np.where(ok, dt, 1.0)
    xt = np.where(ok[:, None], x_then, x_now)
    Pt = np.where(ok[:, None, None], P_then, P_now)
    rm = 0.5 * (x_now[:, :3] + xt[:, :3])
    vm = 0.5 * (x_now[:, 3:] + xt[:, 3:])
    g = earth.gravity(rm) + earth.rotating_frame_acceleration(rm, vm)
    a = (x_now[:, 3:] - xt[:, 3:]) / dts[:, None] - g
    u = vm / np.maximum(np.linalg.norm(vm, axis=1), 1e-9)[:, None]
    along = np.where(ok, np.einsum("mi,mi->m", a, u), 0.0)
    var = np.einsum("mi,mij,mj->m", u, P_now[:, 3:, 3:], u) + np.einsum("mi,mij,mj->m", u, Pt[:, 3:, 3:], u)
    sig = np.sqrt(np.maximum(var, 0.0)) / dts
    up = x_now[:, :3] / np.linalg.norm(x_now[:, :3], axis=1)[:, None]
    v_up = np.einsum("mi,mi->m", x_now[:, 3:], up)
    sig_up = np.sqrt(np.maximum(np.einsum("mi,mij,mj->m", up, P_now[:, 3:, 3:], up), 0.0))
    descending = v_up < -SIGMAS * sig_up
    young = ~ok & ~descending
    return young | (along > np.maximum(ACCEL_MIN, SIGMAS * sig)), np.clip(along, *ACCEL_RANGE)


def _boost_vehicle(accel: np.ndarray, burn: np.ndarray) -> Vehicle:
    """A body thrusting along its velocity at ``accel`` [m/s^2] for ``burn`` [s], no drag."""
    B = accel.size
    v = ballistic_vehicle(B, _MASS)
    f = (accel * _MASS)[:, None]
    return replace(v, stage_burn=np.asarray(burn, float)[:, None], stage_thrust_vac=f, stage_thrust_sl=f.copy())


def predict(x: np.ndarray, accel: np.ndarray, burn: np.ndarray, dt: float, T: int, record: bool = True,
            t_state=None):
    """Fly states ``x`` (M, 6) [ECEF m, m/s] thrusting at ``accel`` (M,) [m/s^2] along the
    velocity for ``burn`` (M,) [s], then coasting: ``(pos (M,T,3), vel (M,T,3), ev (M,8))`` as
    :func:`shieldlab.flyout.integrate.coast` returns them (``pos``, ``vel`` None unless
    ``record``), sampled at ``k dt``, k < T.  ``t_state`` (M,) [s, <= 0] is the time of each
    state on that grid (default 0): a state observed before the grid starts is flown up to it."""
    x = np.ascontiguousarray(x, float)
    M = x.shape[0]
    z = np.zeros(M)
    t0 = z if t_state is None else np.asarray(t_state, float)
    pos, vel, _, ev = run(_boost_vehicle(np.asarray(accel, float), burn), x[:, :3], x[:, 3:], t0, z, z,
                          np.full(M, np.inf), grid_t0=0.0, dt=dt, T=T, model=_MODEL, record=record,
                          t_max=(T - 1) * dt - float(np.min(t0, initial=0.0)))
    return pos, vel, ev


def predicted_position_covariance(P: np.ndarray, r_track: np.ndarray, r_pred: np.ndarray,
                                  dt: np.ndarray) -> np.ndarray:
    """Position covariance (M, 3, 3) [m²] of a ballistic prediction ``dt`` (M,) seconds ahead.

    The track covariance ``P`` (M, 6, 6) (ECEF position [m] and velocity [m/s]) is carried
    through the linearised ballistic transition Phi = exp(A dt), A = [[0, I], [G, 0]], with
    the point-mass gravity gradient G = GM/r³ (3 uuᵀ - I) held constant at the midpoint of
    the track position ``r_track`` and the predicted point ``r_pred`` (M, 3) (Zarchan,
    *Tactical and Strategic Missile Guidance*, the ballistic-target chapters; Bar-Shalom, Li
    & Kirubarajan 2001, §4.2 for P' = Phi P Phiᵀ).  With ω² = GM/r³ the exponential is closed
    form: along u (radial) cosh(√2 ωt) and sinh(√2 ωt)/(√2 ω), across it cos(ωt) and
    sin(ωt)/ω (radial errors grow, horizontal ones are bounded).  Neglected: the
    rotating-frame terms (Coriolis, < 2 Ω t ≈ 5 % over 300 s), J2, drag and process noise.
    """
    P = np.asarray(P, float)
    dt = np.asarray(dt, float)
    rm = 0.5 * (np.asarray(r_track, float) + np.asarray(r_pred, float))
    rn = np.linalg.norm(rm, axis=-1)
    u = rm / rn[:, None]
    om = np.sqrt(earth.GM / rn**3)
    s2 = np.sqrt(2.0)
    uu = u[:, :, None] * u[:, None, :]
    tt = np.eye(3) - uu
    a_r, b_r = np.cosh(s2 * om * dt), np.sinh(s2 * om * dt) / (s2 * om)
    a_t, b_t = np.cos(om * dt), np.sin(om * dt) / om
    M = np.concatenate([a_r[:, None, None] * uu + a_t[:, None, None] * tt,
                        b_r[:, None, None] * uu + b_t[:, None, None] * tt], axis=-1)  # (M, 3, 6)
    Pp = M @ P @ np.swapaxes(M, -1, -2)
    return 0.5 * (Pp + np.swapaxes(Pp, -1, -2))


#: Distance beyond an asset's radius, in ground sigmas, past which the probability of a hit
#: is taken as 0 without evaluating it (SciPy's ``chndtr`` already returns exactly 0 from
#: about 30 sigmas on).
FAR_SIGMAS = 40.0


def _ncx2_cdf_2dof(x: np.ndarray, nc: np.ndarray) -> np.ndarray:
    """``scipy.stats.ncx2.cdf(x, 2, nc)`` for finite ``x > 0``, ``nc >= 0``: the special functions
    it calls (``chndtr``; ``chdtr`` where ``nc == 0``) without the distribution's argument
    handling, which costs fire control more than the values (tests: the same to the bit)."""
    from scipy import special

    with np.errstate(over="ignore"):
        return np.where(nc != 0, special.chndtr(x, 2.0, nc), special.chdtr(2.0, x))


def impact_probability(P: np.ndarray, r_track: np.ndarray, impact_pos: np.ndarray, impact_vel: np.ndarray,
                       dt: np.ndarray, asset_lat: np.ndarray, asset_lon: np.ndarray,
                       asset_r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probability (M, A) that each of M predicted impacts lands inside each of A assets, with
    the circularised 1-sigma ground error (M,) [m] and the distances (M, A) [m] it used:
    what :func:`_impact_probability_numpy` computes (see there for the model), its ground
    error compiled row by row (:func:`shieldlab.c2.evaluation_kernel.ground_sigma_rows`)."""
    f = lambda a: np.ascontiguousarray(a, float)  # noqa: E731
    sigma, ok, d = evaluation_kernel.ground_sigma_rows(
        f(P), f(r_track), f(impact_pos), f(impact_vel), f(np.broadcast_to(dt, (np.shape(P)[0],))),
        f(np.reshape(asset_lat, -1)), f(np.reshape(asset_lon, -1)))
    return _hit_probability(sigma, ok, d, asset_r)


def _hit_probability(sigma, ok, d, asset_r):
    """The second half of :func:`impact_probability`: from the ground error and the distances
    (M, A) [m] to the assets to the probability of landing within each asset's radius."""
    R = np.broadcast_to(np.asarray(asset_r, float)[None, :], d.shape)
    S = np.broadcast_to(sigma[:, None], d.shape)
    # an asset more than FAR_SIGMAS ground sigmas beyond its radius: SciPy's CDF is exactly 0
    # there (tests), and computing it costs fire control more than the rest of the evaluation
    near = ~((d - R) > FAR_SIGMAS * S)  # (a nan sigma is evaluated, as before)
    p = np.zeros(d.shape)
    p[near] = _ncx2_cdf_2dof((R[near] / S[near]) ** 2, (d[near] / S[near]) ** 2)
    return np.where(ok[:, None], p, 0.0), np.where(ok, sigma, np.inf), np.where(ok[:, None], d, np.inf)


def _impact_probability_numpy(P: np.ndarray, r_track: np.ndarray, impact_pos: np.ndarray, impact_vel: np.ndarray,
                              dt: np.ndarray, asset_lat: np.ndarray, asset_lon: np.ndarray,
                              asset_r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probability (M, A) that each of M predicted impacts lands inside each of A assets, with
    the circularised 1-sigma ground error (M,) [m] and the distances (M, A) [m] it used.

    ``P`` (M, 6, 6) track covariance at ``r_track`` (M, 3); ``impact_pos``, ``impact_vel``
    (M, 3) the predicted impact point [ECEF m] and the velocity there [m/s], ``dt`` (M,) [s]
    from the track to the impact; assets at ``asset_lat``, ``asset_lon`` (A,) [rad] with
    radius ``asset_r`` (A,) [m].

    The position error at the impact time, δr, moves the impact point on the ground by
    ``δg = δr_h - v_h (δr_u / v_u)`` (local east-north-up at the impact; a point early on
    the path still has ``δr_u / |v_u|`` seconds to fly).  Its 2×2 covariance is
    circularised to σ = (det Σ_g)^(1/4) (the geometric mean of the ellipse's axes), and the
    probability that a circular normal error about the predicted point falls within R of an
    asset at distance d is ``1 - Q_1(d/σ, R/σ)`` = the CDF of a non-central χ² with two
    degrees of freedom, non-centrality (d/σ)², at (R/σ)² (Marcum; e.g. Richards, *Fundamentals
    of Radar Signal Processing*, 2005, §6.3).  Predictions that never land (``nan`` impact)
    give 0.
    """
    impact_pos = np.asarray(impact_pos, float)
    ok = np.isfinite(impact_pos).all(axis=-1) & np.isfinite(np.asarray(dt, float))
    pos = np.where(ok[:, None], impact_pos, np.array([earth.WGS84_A, 0.0, 0.0]))
    Pp = predicted_position_covariance(P, r_track, pos, np.where(ok, dt, 0.0))
    lat, lon, _ = earth.ecef_to_geodetic(pos)
    E = earth.enu_matrix(lat, lon)  # (M, 3, 3), rows east, north, up
    v = np.einsum("mij,mj->mi", E, np.where(ok[:, None], impact_vel, 0.0))
    vu = np.minimum(v[:, 2], -0.05 * np.linalg.norm(v, axis=-1) - 1e-9)  # descending; not grazing
    H = np.zeros((pos.shape[0], 2, 3))
    H[:, 0, 0] = H[:, 1, 1] = 1.0
    H[:, 0, 2] = -v[:, 0] / vu
    H[:, 1, 2] = -v[:, 1] / vu
    H = H @ E
    Sg = H @ Pp @ np.swapaxes(H, -1, -2)
    sigma = np.maximum(np.sqrt(np.sqrt(np.maximum(np.linalg.det(Sg), 0.0))), 1.0)  # m; >= 1 m
    d = earth.great_circle_distance(lat[:, None], lon[:, None], np.asarray(asset_lat), np.asarray(asset_lon))
    return _hit_probability(sigma, ok, d, asset_r)


def last_detection(n_hits: np.ndarray) -> np.ndarray:
    """Per update, the index of the last update at or before it that assimilated a detection
    (-1 before the first): ``n_hits`` (..., K) detections assimilated so far -> (..., K).
    Computed once for a whole track history; :func:`observed_pair` reads it."""
    nh = np.asarray(n_hits)
    new = np.concatenate([nh[..., :1] > 0, np.diff(nh, axis=-1) > 0], axis=-1)
    return np.maximum.accumulate(np.where(new, np.arange(nh.shape[-1]), -1), axis=-1)


def observed_pair(t: np.ndarray, n_hits: np.ndarray, k: int, window_s: float = WINDOW_S):
    """Indices of the track states to judge thrust by: the last update at or before ``t[k]``
    that assimilated a detection, and the last such update at least ``window_s`` before it.

    Between detections a track's state is its own ballistic prediction, which shows no
    thrust whatever the threat does: only states backed by detections may be compared.
    ``t`` (K,) update times, ``n_hits`` (M, K) detections assimilated so far.  Returns
    ``(k_now (M,), k_then (M,))``, -1 where there is none.  (Fire control does the same in
    compiled code, :func:`boost_test`.)"""
    last = last_detection(np.asarray(n_hits)[:, :k + 1])
    k_now = last[:, k]
    j = np.searchsorted(t, t[np.maximum(k_now, 0)] - window_s, side="right") - 1
    k_then = np.where((j >= 0) & (k_now >= 0), last[np.arange(last.shape[0]), np.clip(j, 0, k)], -1)
    return k_now, k_then


def hypotheses(x: np.ndarray, accel: np.ndarray, dv_step: float = DV_STEP,
               max_speed: float = MAX_SPEED) -> tuple[np.ndarray, np.ndarray]:
    """Further burn times [s] of the boost hypotheses: 0, tau, 2 tau, ... with ``accel tau =
    dv_step``, while the inertial speed stays below ``max_speed`` [m/s].

    Returns ``(burn (M, K), valid (M, K))``; K is the same for all rows."""
    s = np.linalg.norm(x[:, 3:] + np.cross([0.0, 0.0, earth.OMEGA_EARTH], x[:, :3]), axis=1)
    K = max(1, int(np.ceil((max_speed - np.min(s, initial=max_speed)) / dv_step)) + 1)
    add = dv_step * np.arange(K)
    valid = (s[:, None] + add[None, :] <= max_speed) | (add[None, :] == 0)
    return add[None, :] / accel[:, None], valid


def coast_impacts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Impact points (M, 3) [ECEF m] and times of flight (M,) [s] of ballistic states ``x``
    (M, 6) [ECEF m, m/s] on the rotating WGS84 Earth with J2, no drag; nan where none
    (see :func:`~shieldlab.flyout.kepler.state_impact`, also for states below the ground).

    The coast of :func:`predict` without its 4 s steps: the closed-form two-body impact
    (:func:`shieldlab.flyout.kepler.state_impact`, compiled row by row in
    :mod:`shieldlab.flyout.kepler_kernel`) gives the time of flight t0; the state is
    flown numerically (RK4, J2 and the rotating frame, steps of at most :data:`_COAST_STEP`)
    to ``t0 - max(20 s, 1 % t0)``, short of the ground whatever J2 does to the time of
    flight (at most ~0.4 %), and the rest of the way is closed form again.  What J2 would
    do over that last stretch is all that is neglected: against the flyout's own coast
    (``shieldlab.flyout.integrate.coast``, 1 s steps) the impact points agree within 0.1 km
    on 300 to 9,000 km arcs (tests/test_threat_eval.py), where the closed form alone is off
    by up to ~1, ~7 and ~45 km on 300, 2,000 and 9,000 km arcs (the J2 it leaves out).
    """
    x = np.asarray(x, float)
    s = np.array(x, float, order="C", copy=True).reshape(-1, 6)
    # the closed form compiled row by row (kepler_kernel; equal to kepler.state_impact to 1e-9)
    _, t0 = kepler_kernel.state_impact_rows(s, earth.WGS84_A, earth.WGS84_B, earth.OMEGA_EARTH, 3)
    span = np.where(np.isfinite(t0), np.maximum(t0 - np.maximum(_COAST_MARGIN_S, _COAST_MARGIN_FRAC * t0), 0.0), 0.0)
    kernel.coast_rk4(s, span, _COAST_STEP, _MODEL.flags)
    p, t1 = kepler_kernel.state_impact_rows(s, earth.WGS84_A, earth.WGS84_B, earth.OMEGA_EARTH, 3)
    return p.reshape(x.shape[:-1] + (3,)), (span + t1).reshape(x.shape[:-1])


def impacts(x: np.ndarray, accel: np.ndarray, burn: np.ndarray, horizon: float = _HORIZON) -> np.ndarray:
    """Impact points (M, K, 3) [ECEF m] of states ``x`` (M, 6) boosting ``burn`` (M, K) more
    seconds at ``accel`` (M,); nan where none within ``horizon`` s, and where ``burn`` is nan.

    What :func:`_impacts_numerical` (:func:`predict` for each hypothesis) computes, without
    flying each hypothesis's thrust and coast step by step: the hypotheses of a row share
    their thrust arc, so ONE thrusting flight per row is flown (RK4 in steps of at most
    :data:`_ARC_STEP`, :func:`shieldlab.flyout.kernel.thrust_arc_states`) and its state taken
    at each burn time; each such burnout state comes down where :func:`coast_impacts` says.
    A flight that meets the ground while still thrusting lands there for all its longer burns.
    On boosting states of real flights the impact points lie within 0.05 km of each
    hypothesis flown on its own by the flyout in 0.5 s steps (measured: 19 m at most over
    12,000 hypotheses of the epaa-phase-1 threats' boosts, 7 m on the test MRBM's;
    tests/test_threat_eval.py).  :func:`_impacts_numerical`, the old way, is itself up to
    ~3 km off that reference (its 4 s RK4 steps under thrust, on a steep early climb).
    """
    x = np.ascontiguousarray(x, float)
    accel = np.ascontiguousarray(np.broadcast_to(np.asarray(accel, float), (x.shape[0],)))
    burn = np.asarray(burn, float)
    M, K = burn.shape
    order = np.argsort(burn, axis=1)  # nan last
    b = np.ascontiguousarray(np.take_along_axis(burn, order, axis=1))
    states = np.full((M, K, 6), np.nan)
    land_k = np.full(M, K, np.int64)
    land = np.full((M, 4), np.nan)
    kernel.thrust_arc_states(x, accel, b, _ARC_STEP, _MODEL.flags, states, land_k, land)
    ok = np.isfinite(states).all(axis=-1)
    pts = np.full((M, K, 3), np.nan)
    t = np.full((M, K), np.nan)
    if ok.any():
        pts[ok], tof = coast_impacts(states[ok])
        t[ok] = b[ok] + tof
    down = (np.arange(K)[None, :] >= land_k[:, None]) & np.isfinite(b)  # landed while thrusting
    if down.any():
        m = np.nonzero(down)[0]
        pts[down], t[down] = land[m, 1:], land[m, 0]
    pts[~(t <= horizon)] = np.nan
    out = np.empty_like(pts)
    np.put_along_axis(out, order[..., None], pts, axis=1)
    return out


def _impacts_numerical(x: np.ndarray, accel: np.ndarray, burn: np.ndarray, horizon: float = _HORIZON) -> np.ndarray:
    """:func:`impacts` the slow way, kept as its reference: each hypothesis flown by
    :func:`predict` (4 s RK4 steps under thrust, the flyout's 4 s Adams steps on the coast)."""
    M, K = burn.shape
    rep = np.repeat(np.arange(M), K)
    _, _, ev = predict(x[rep], accel[rep], burn.reshape(-1), 4.0, int(horizon / 4.0) + 2, record=False)
    p = np.where(np.isfinite(ev[:, 4])[:, None], ev[:, 5:8], np.nan)
    return p.reshape(M, K, 3)


def corridor_distance(points: np.ndarray, asset_lat, asset_lon) -> tuple[np.ndarray, np.ndarray]:
    """Great-circle distance [m] from each asset to the polyline of impact points, and where
    along it the nearest point lies: what :func:`_corridor_distance_numpy` computes (see
    there), compiled (:func:`shieldlab.c2.evaluation_kernel.corridor_distance_rows`)."""
    points = np.asarray(points, float)
    lat, lon, _ = earth.ecef_to_geodetic(np.nan_to_num(points, nan=earth.WGS84_A))
    U = np.ascontiguousarray(earth.unit_vector(lat, lon))
    fin = np.isfinite(points).all(axis=-1)
    P = np.ascontiguousarray(earth.unit_vector(asset_lat, asset_lon).reshape(-1, 3))
    return evaluation_kernel.corridor_distance_rows(U, fin, P, earth.R_EARTH_MEAN)


def _corridor_distance_numpy(points: np.ndarray, asset_lat, asset_lon) -> tuple[np.ndarray, np.ndarray]:
    """Great-circle distance [m] from each asset to the polyline of impact points.

    ``points`` (M, K, 3) ECEF (nan vertices are skipped with their segments); assets (A,)
    [rad].  Returns ``(distance (M, A), where (M, A))``, ``where`` the position along the
    polyline of its point nearest the asset, in vertices (k + fraction of segment k).
    Distances on the mean sphere.

    The foot of asset P on the great circle of the segment from A to B (unit normal
    n = A x B / |A x B|) lies on the segment when ``(n x A) . foot >= 0`` and
    ``(B x n) . foot >= 0`` (within 1e-9); its cross-track distance is ``R asin |n . P|``.
    Vector components are kept as separate (M, K, A) arrays, and angles are taken only of
    the nearest vertex and segment: numpy's cross products and norms over a last axis of 3,
    and its inverse trigonometry, are slow."""
    lat, lon, _ = earth.ecef_to_geodetic(np.nan_to_num(points, nan=earth.WGS84_A))
    U = earth.unit_vector(lat, lon)  # (M, K, 3)
    fin = np.isfinite(points).all(axis=-1)
    P = earth.unit_vector(asset_lat, asset_lon)  # (A, 3)
    R = earth.R_EARTH_MEAN
    M, K = fin.shape
    ux, uy, uz = (U[..., i, None] for i in range(3))  # (M, K, 1)
    px, py, pz = P[:, 0], P[:, 1], P[:, 2]  # (A,)
    cos_v = np.where(fin[..., None], np.clip(ux * px + uy * py + uz * pz, -1.0, 1.0), -np.inf)  # (M, K, A)
    kv = np.argmax(cos_v, axis=1)  # the nearest vertex (M, A)
    cb = np.take_along_axis(cos_v, kv[:, None], axis=1)[:, 0]
    best = np.where(np.isfinite(cb), R * np.arccos(np.maximum(cb, -1.0)), np.inf)  # inf: no vertex
    where = kv.astype(float)
    if K > 1:
        ax, ay, az, bx, by, bz = ux[:, :-1], uy[:, :-1], uz[:, :-1], ux[:, 1:], uy[:, 1:], uz[:, 1:]  # (M, K-1, 1)

        def cross(x1, y1, z1, x2, y2, z2):
            return y1 * z2 - z1 * y2, z1 * x2 - x1 * z2, x1 * y2 - y1 * x2

        nx, ny, nz = cross(ax, ay, az, bx, by, bz)
        nn = np.sqrt(nx * nx + ny * ny + nz * nz)
        inv = 1.0 / np.maximum(nn, 1e-15)
        nx, ny, nz = nx * inv, ny * inv, nz * inv
        sin_x = nx * px + ny * py + nz * pz  # (M, K-1, A): sine of the cross-track angle
        fx, fy, fz = px - sin_x * nx, py - sin_x * ny, pz - sin_x * nz  # P on the segment's circle
        fn = np.sqrt(fx * fx + fy * fy + fz * fz)
        tx, ty, tz = cross(nx, ny, nz, ax, ay, az)  # n x A: A's forward direction on the circle
        sx, sy, sz = cross(bx, by, bz, nx, ny, nz)  # B x n: B's backward direction
        tol = 1e-9 * fn
        between = (tx * fx + ty * fy + tz * fz >= -tol) & (sx * fx + sy * fy + sz * fz >= -tol)
        ok = fin[:, :-1, None] & fin[:, 1:, None] & between & (nn > 1e-12)
        off = np.where(ok, np.abs(sin_x), np.inf)  # sine of the distance to the segment
        k = np.argmin(off, axis=1)  # the nearest segment (M, A)
        sk = np.take_along_axis(off, k[:, None], axis=1)[:, 0]
        dk = np.where(np.isfinite(sk), R * np.arcsin(np.clip(sk, 0.0, 1.0)), np.inf)  # inf: no segment
        # the fraction of segment k to the foot: the angle A-foot over the angle A-B
        m_ = np.arange(M)[:, None]
        a_ = U[m_, k]  # (M, A, 3)
        b_ = U[m_, k + 1]
        n_ = np.stack([nx[m_, k, 0], ny[m_, k, 0], nz[m_, k, 0]], axis=-1)
        s_ = np.take_along_axis(sin_x, k[:, None], axis=1)[:, 0]
        f_ = P - s_[..., None] * n_
        f_ /= np.maximum(np.linalg.norm(f_, axis=-1, keepdims=True), 1e-15)

        def ang(a, b):
            return np.arctan2(np.linalg.norm(np.cross(a, b), axis=-1), np.sum(a * b, axis=-1))

        fk = ang(a_, f_) / np.maximum(ang(a_, b_), 1e-15)
        use = dk < best
        best = np.where(use, dk, best)
        where = np.where(use, k + fk, where)
    return best, where


def corridor(x: np.ndarray, accel: np.ndarray, asset_lat, asset_lon, asset_radius_m, width_m: float = WIDTH_M):
    """Boost-phase threat evaluation of tracks ``x`` (M, 6) thrusting at ``accel`` (M,) [m/s^2]
    against assets (A,).

    Returns ``(threatening (M,), burn (M,))``: whether the impact corridor passes within an
    asset's radius plus ``width_m``, and the further burn time [s] of the hypothesis whose
    impact lies nearest the threatened asset (the farthest along the corridor where several
    are; interpolated between hypotheses; 0 where none is threatened): :func:`predict` flies it."""
    M = x.shape[0]
    burn, valid = hypotheses(x, accel)
    pts = impacts(x, accel, np.where(valid, burn, np.nan))
    # the corridor ends at the first hypothesis with no impact (it went round the Earth)
    gone = np.cumsum(~np.isfinite(pts).all(axis=-1), axis=1) > 0
    pts = np.where(gone[..., None], np.nan, pts)
    d, where = corridor_distance(pts, asset_lat, asset_lon)
    margin = d - (np.asarray(asset_radius_m, float) + width_m)
    threatening = (margin <= 0).any(axis=1)
    # of several threatened assets, the one farthest along the corridor: the threat is still
    # speeding up, and planning for the farthest holds fire longest (a nearer aim shows itself
    # at burnout, when the track turns ballistic and is planned as such)
    a = np.argmax(np.where(margin <= 0, where, -np.inf), axis=1)
    plan = DV_STEP * where[np.arange(M), a] / accel
    return threatening, np.where(threatening, plan, 0.0)
