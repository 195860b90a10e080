"""One-track-per-threat tracker: runs the ECEF ballistic EKF over a system's reports.

Input: the :class:`~shieldlab.sensors.records.Detections` of the sensors of one
system, all with the same batch shape ``...`` (in the engine: run × threat).
Output: :class:`~shieldlab.tracking.records.Tracks` on the union of the scan
grids.  It does not associate: batch element ``i`` of every sensor's reports is
the same threat (each filter's ``assimilate``, :class:`_Adaptive` and :class:`_Imm`,
is where an associator would hand over its assignments; the multi-target tracker of
reports without labels is :mod:`shieldlab.tracking.mtt`).

Process noise.  The motion model is ballistic (:mod:`shieldlab.tracking.ekf`),
but threats are also seen boosting (thrust up to ~10 g) and re-entering (drag up
to tens of g).  The spectral density of the white-noise acceleration is adapted
per track from the normalised innovation squared (NIS, χ² with 3 dof when the
filter is consistent), a continuous form of the noise-level adjustment of
Bar-Shalom, Li & Kirubarajan (2001, "BLK"), §11.2 (adjustable-level process noise).  After every update

    L = log(NIS / 3),   log λ ← clip(log λ + γ L, 0, log(q_boost / q_ballistic)),
    γ = 1 if L > 0 else 1/2,   q = q_ballistic · λ.

A manoeuvre makes the innovations large and λ grows geometrically, in a few
reports, until the covariance covers the unmodelled acceleration (one report
with NIS = 300 multiplies q by 100).  In ballistic flight E[γ L] = −0.085 for
χ²₃, so λ drifts back to its floor (faster while q is too large, since NIS is
then small).  The faster rise than decay errs on the conservative side.  A new
track starts at λ = q_boost / q_ballistic (manoeuvring until shown otherwise):
threats are usually first seen in boost.

Levels: the white-noise acceleration model follows an acceleration a sampled
every T seconds for q ≈ a² T (BLK §6.2.2).  The cap q_boost = 1e5 m²/s³ covers
~10 g at T = 10 s and ~30 g at T = 1 s; the floor q_ballistic = 1e-2 m²/s³ covers
~0.1 m/s² of unmodelled acceleration at T = 1 s, 0.03 m/s² at T = 10 s (drag
above 100 km is ≲ 1e-2 m/s²); adaptation covers anything larger, and in the atmosphere
the level never falls below the drag a body of :data:`BETA_MIN_KG_M2` would feel
(:func:`drag_noise`), which the adaptation, one report behind, lagged.
Evidence (tests/test_tracking.py; trials in docs/models.md): the
run-averaged NEES is ≈ 4–8 during a 5–10 g boost (near-consistent) and ≈ 3.5 in
ballistic flight (conservative: that truth has no process noise at all); a drag
ramping 0 → 30 g over 60 s costs a transient lag, up to 1.3× (1 s scans) or
2.8× (5 s scans) a single report's position error, before q has grown, after
which the track recovers.

Impact.  A track whose predicted position goes more than :data:`IMPACTED_DEPTH_M` below the
ellipsoid has come down: it ends there (``nan`` from then on, until a new report starts it
again).  Coasted on, the ballistic prediction would fall through the Earth, where the
point-mass gravity grows without bound and the covariance with it (to ~10²⁵ m² within a
few thousand seconds, no longer positive definite in floating point).
"""

from __future__ import annotations

import numpy as np

from shieldlab import earth
from shieldlab.sensors.records import Detections
from shieldlab.tracking import ekf, ekf_kernel, imm, tracker_kernel, ukf
from shieldlab.tracking.records import CovarianceHistory, Schedule, Tracks, kernel_list

#: The filters ``track`` can run: name -> (predict, update).
# the EKF's predict and update compiled row by row (ekf_kernel; equal to ekf's NumPy forms to 1e-9)
FILTERS = {"ekf": (ekf_kernel.predict, ekf_kernel.update), "ukf": (ukf.predict, ukf.update), "imm": None}
#: The filters the compiled loops (tracker_kernel.track_rows, mtt_kernel.track_runs) run, and
#: their code for each; another entry of FILTERS runs through the NumPy steps.
KERNEL_FILTERS = {"ekf": tracker_kernel.EKF, "ukf": tracker_kernel.UKF, "imm": tracker_kernel.IMM}

#: Gains γ of the NIS-driven process-noise adaptation when NIS > 3 (up) and
#: NIS < 3 (down); see the module docstring.
NIS_GAIN_UP = 1.0
NIS_GAIN_DOWN = 0.5

#: Smallest ballistic coefficient m / (C_D A) [kg/m²] of a body the tracker follows through
#: the atmosphere: the drag it could feel sets a floor on the process noise
#: (:func:`drag_noise`).  Below every re-entering body of the catalogue at its drag table's
#: highest-Mach coefficient (the lowest, shahab-3's RV, 7,300 kg/m² at C_D 0.1, Mach 10 and
#: up; as a weight per area, 5,000 kg/m² is 49 kPa); slower, the RVs' C_D rises (0.16 at
#: Mach 3, 0.35 at Mach 1) and those of shahab-3, rs-18 and scud-d fall below it from about
#: Mach 3-4 down (2,100-2,600 kg/m² at the transonic peak): the last stretch before impact.
BETA_MIN_KG_M2 = 5_000.0

#: Depth below the WGS84 ellipsoid [m] past which a predicted track has come down (the
#: lowest land is ~430 m below it; a kilometre clears a low target's estimate by several σ).
IMPACTED_DEPTH_M = 1000.0


def adapt_noise(log_lam: np.ndarray, nis: np.ndarray, updated: np.ndarray, log_lam_max: float) -> np.ndarray:
    """The process-noise level ``ln λ`` after an update with normalised innovation squared
    ``nis`` where ``updated`` (elsewhere unchanged): the module docstring's adaptation,
    clipped to ``[0, log_lam_max]``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        step = np.log(np.maximum(nis, 1e-12) / 3.0)
        step = np.where(step > 0, NIS_GAIN_UP, NIS_GAIN_DOWN) * step
    return np.where(updated, np.clip(log_lam + step, 0.0, log_lam_max), log_lam)


def came_down(x) -> np.ndarray:
    """Where ECEF states ``x`` (..., 6) lie more than :data:`IMPACTED_DEPTH_M` below the
    ellipsoid: a threat that has come down (False for ``nan``).  The one rule the tracker,
    the C2 links and the fused pictures end a track by."""
    return earth.below_surface(x, IMPACTED_DEPTH_M)


def track(
    detections: list[Detections],
    system: str,
    init_hits: int = 3,
    q_boost: float = 1e5,
    q_ballistic: float = 1e-2,
    sigma_v0: float = 5e3,
    filter: str = "ekf",
    compiled: bool = True,
) -> Tracks:
    """Filter every threat's reports from one system's sensors.

    Parameters
    ----------
    detections : list of Detections
        One per sensor of the system; each has its own scan grid ``t (K_s,)``
        and ``z (..., K_s, 3)``, ``detected (..., K_s)`` with a common batch shape.
    system : str
        Name of the system, copied into the record.
    init_hits : int
        Number of detections that confirm a track.
    q_boost, q_ballistic : float
        Upper and lower bound of the adapted process-noise spectral density
        [m²/s³]; a track starts at ``q_boost``.
    sigma_v0 : float
        Prior standard deviation of each ECEF velocity component at initiation [m/s].
    filter : {"ekf", "ukf", "imm"}
        The extended (:mod:`shieldlab.tracking.ekf`) or unscented
        (:mod:`shieldlab.tracking.ukf`) Kalman filter, both with the NIS-adapted
        process noise below (the same models, prediction and update by Jacobians or by
        sigma points), or the interacting multiple model (:mod:`shieldlab.tracking.imm`):
        one EKF per motion regime, with fixed noise levels, mixed by their odds.
    compiled : bool
        Run the filter through the compiled loop over the update times, filter after filter
        (:mod:`shieldlab.tracking.tracker_kernel`; the EKF, the UKF and the IMM); False: the
        NumPy steps, their reference.

    Returns
    -------
    Tracks
        On the sorted union of the scan times.  At each time, every sensor that
        scanned then is applied in the order of ``detections``; the state is
        predicted between times.  A track starts at its first detection
        (one-point initiation, :func:`ekf.init_from_detection`) and is
        ``nan`` before it.
    """
    if not detections:
        raise ValueError("track: detections is empty; a system needs at least one sensor")
    if not (init_hits >= 1 and 0.0 < q_ballistic <= q_boost and sigma_v0 > 0.0):
        raise ValueError(
            f"track: need init_hits >= 1, 0 < q_ballistic <= q_boost and sigma_v0 > 0; got "
            f"init_hits={init_hits}, q_ballistic={q_ballistic}, q_boost={q_boost}, sigma_v0={sigma_v0}"
        )
    if filter not in FILTERS:
        raise ValueError(f"track: filter must be one of {sorted(FILTERS)}, not {filter!r}")
    batch = detections[0].detected.shape[:-1]
    for d in detections:
        if d.detected.shape[:-1] != batch or d.z.shape != batch + (d.t.size, 3):
            raise ValueError(
                f"track: sensor {d.sensor!r} has batch shape {d.detected.shape[:-1]} / z {d.z.shape}, "
                f"expected {batch} and z {batch + (d.t.size, 3)}"
            )
        if np.any(np.diff(d.t) <= 0):
            raise ValueError(f"track: sensor {d.sensor!r} scan times t must be strictly increasing")
    t = np.unique(np.concatenate([np.asarray(d.t, dtype=float) for d in detections]))
    sites = [(d, np.asarray(d.site_ecef, float), earth.enu_matrix(d.site_lat, d.site_lon)) for d in detections]
    # For each sensor and union time: the sensor's scan index there, or -1.
    scan_index = Schedule.scan_index(t, [np.asarray(d.t, float) for d in detections])

    if compiled and filter in KERNEL_FILTERS:
        x_out, P_out, hits_out, q_out = _track_compiled(detections, t, scan_index, sites, batch, q_ballistic, q_boost,
                                                        sigma_v0, filter)
    else:
        x_out, P_out, hits_out, q_out = _track_steps(detections, t, scan_index, sites, batch, q_ballistic, q_boost,
                                                     sigma_v0, filter)
    confirmed = hits_out >= init_hits
    first = np.argmax(confirmed, axis=-1)
    confirm_time = np.where(confirmed.any(axis=-1), t[first], np.inf)
    return Tracks(system=system, t=t, x=x_out, P=P_out, n_hits=hits_out, confirmed=confirmed, confirm_time=confirm_time,
                  q=q_out)


def _track_steps(detections, t, scan_index, sites, batch, q_ballistic, q_boost, sigma_v0, filter):
    """:func:`track`'s loop over the update times, a NumPy step per time and scan (the other
    filters, and the EKF's reference): the states (..., K, 6), covariances, hits (..., K) and
    noise levels (..., K) float32 (``Tracks.q``)."""
    K = t.size
    state: _Imm | _Adaptive
    if filter == "imm":
        state = _Imm(batch, sigma_v0)
    else:
        steps = FILTERS[filter]
        assert steps is not None  # only "imm" has none
        predict_fn, update_fn = steps
        state = _Adaptive(batch, predict_fn, update_fn, q_ballistic, q_boost, sigma_v0)
    n_hits = np.zeros(batch, np.int32)

    # Time-major while filling (contiguous writes), batch-major views on return; the
    # covariances only where a track holds one (CovarianceHistory): most of a dense history is nan
    x_out = np.empty((K,) + batch + (6,))
    P_rows: list[tuple] = []
    hits_out = np.empty((K,) + batch, np.int32)
    q_out = np.empty((K,) + batch, np.float32)

    for k in range(K):
        if k > 0:
            state.predict(t[k] - t[k - 1])
        for (d, site, enu), idx in zip(sites, scan_index):
            j = idx[k]
            if j < 0:
                continue
            det = d.detected[..., j]
            state.assimilate(d.z[..., j, :], d.R_at(j), det, d, site, enu)
            n_hits += det
        x_k, P_k = state.estimate()
        gone = came_down(x_k)
        if gone.any():
            state.end(gone)
            x_k, P_k = state.estimate()
        x_out[k] = x_k
        held = np.nonzero(~np.isnan(P_k).all(axis=(-2, -1)))
        P_rows.append((np.full(held[0].size, k), held, P_k[held]))
        hits_out[k] = n_hits
        q_out[k] = np.where(np.isfinite(x_k).all(axis=-1), state.noise_level(), np.nan)
    return (np.moveaxis(x_out, 0, -2), CovarianceHistory.from_steps(batch + (K,), P_rows),
            np.moveaxis(hits_out, 0, -1), np.moveaxis(q_out, 0, -1))


def drag_noise(x: np.ndarray, dt: float) -> np.ndarray:
    """Process-noise floor [m²/s³] for states ``x`` (E, 6) [ECEF m, m/s] over ``dt`` [s]: the
    drag deceleration a body of ballistic coefficient :data:`BETA_MIN_KG_M2` would feel at the
    state's altitude and speed, ``a = ρ(h) v² / (2 β)`` (US-1976 density), as white noise of
    level ``q = a² dt`` (BLK §6.2.2).  The motion model has no drag; above ~80 km this floor
    is far below the adapted noise's, lower down it widens the gate by about the distance
    the drag moves the object between looks."""
    alt = earth.ecef_to_geodetic(x[:, :3])[2]
    rho = earth.atmosphere(alt).density
    v2 = np.sum(x[:, 3:] ** 2, axis=1)
    return (rho * v2 / (2.0 * BETA_MIN_KG_M2)) ** 2 * dt


def _track_compiled(detections, t, scan_index, sites, batch, q_ballistic, q_boost, sigma_v0, filter="ekf"):
    """:func:`_track_steps` through the compiled loop
    (:func:`shieldlab.tracking.tracker_kernel.track_rows`), filter after filter."""
    K = t.size
    B = int(np.prod(batch, dtype=np.int64))
    sch = Schedule.of(t, scan_index)
    ev_s, ev_j = sch.sensor, sch.scan

    def rows(a, tail=()):  # (..., K_s, *tail) as (B, K_s, *tail)
        return np.ascontiguousarray(np.broadcast_to(a, batch + a.shape[len(a.shape) - 1 - len(tail):]),
                                    float if a.dtype != bool else bool).reshape((B, -1) + tail)

    # each sensor's reports as they are (views where they are contiguous rows already): a
    # typed list, so the kernel is compiled once whatever the number of sensors
    Zs, DETs, SCs = (kernel_list([rows(getattr(d, name), tail) for d in detections])
                     for name, tail in (("z", (3,)), ("detected", ()), ("r_scale", ())))
    origins = [ekf_kernel.site_origin(d.site_lat, d.site_lon, d.site_alt) for d in detections]
    R3 = np.array([np.broadcast_to(d.R, (3, 3)) for d in detections], float)
    x_out = np.empty((K, B, 6))
    hits_out = np.empty((K, B), np.int32)
    q_out = np.empty((K, B), np.float32)
    pidx = np.empty((B, K), np.int64)
    # room for a covariance at every (row, time): only the pages written become resident
    pbuf = np.empty((B * K, 6, 6))
    s_ut, wm, wc = ukf.weights(6)
    reg = imm.DEFAULT  # the regimes _Imm runs
    used = tracker_kernel.track_rows(sch.dt, sch.n_sub, sch.h_sub, sch.start, ev_s, ev_j, Zs, DETs, SCs, R3,
                                     np.array([site for _, site, _ in sites]), np.array([enu for _, _, enu in sites]),
                                     np.array([o[0] for o in origins]), np.array([o[1] for o in origins]),
                                     q_ballistic, BETA_MIN_KG_M2, sigma_v0, float(np.log(q_boost / q_ballistic)),
                                     IMPACTED_DEPTH_M,
                                     x_out, hits_out, q_out, pidx, pbuf,
                                     KERNEL_FILTERS[filter], s_ut, wm, wc, *reg.kernel_args())
    assert used >= 0  # a row per (filter, time) suffices
    P_out = CovarianceHistory(pidx.reshape(batch + (K,)), pbuf[:used])
    return (np.moveaxis(x_out.reshape((K,) + batch + (6,)), 0, -2), P_out,
            np.moveaxis(hits_out.reshape((K,) + batch), 0, -1), np.moveaxis(q_out.reshape((K,) + batch), 0, -1))


class _Adaptive:
    """The state of a single filter (EKF or UKF) with the NIS-adapted process noise."""

    def __init__(self, batch, predict, update, q_ballistic, q_boost, sigma_v0):
        self.x = np.full(batch + (6,), np.nan)
        self.P = np.full(batch + (6, 6), np.nan)
        self.started = np.zeros(batch, bool)
        self.log_lam_max = np.log(q_boost / q_ballistic)
        self.log_lam = np.full(batch, self.log_lam_max)
        self._predict, self._update, self.q_ballistic, self.sigma_v0 = predict, update, q_ballistic, sigma_v0

    def noise_level(self) -> np.ndarray:
        """The level (...) [m²/s³] the next prediction starts from, before the drag floor."""
        return self.q_ballistic * np.exp(self.log_lam)

    def predict(self, dt: float) -> None:
        q = with_drag_floor(self.noise_level(), self.x, dt)
        self.x, self.P = self._predict(self.x, self.P, dt, q)

    def end(self, gone) -> None:
        """End the tracks where ``gone`` (...): ``nan`` state, restarted by the next report."""
        if gone.any():
            self.x = np.where(gone[..., None], np.nan, self.x)
            self.P = np.where(gone[..., None, None], np.nan, self.P)
            self.started &= ~gone

    def assimilate(self, z, R, det, d: Detections, site, enu) -> None:
        """Apply one sensor's reports at one time: initiate new tracks, update the others.

        ``det`` (...) says which batch elements have a report ``z`` (..., 3) of noise
        covariance ``R`` (..., 3, 3); the association seam: a future associator passes the
        report assigned to each track.
        """
        new = det & ~self.started
        old = det & self.started
        if new.any():
            x0, P0 = _initiate(z, R, new, d, self.sigma_v0)
            self.x = np.where(new[..., None], x0, self.x)
            self.P = np.where(new[..., None, None], P0, self.P)
            self.log_lam = np.where(new, self.log_lam_max, self.log_lam)
        if old.any():
            self.x, self.P, nis = self._update(self.x, self.P, z, R, site, enu, old)
            self.log_lam = adapt_noise(self.log_lam, nis, old, self.log_lam_max)
        self.started |= det

    def estimate(self):
        return self.x, self.P


class _Imm:
    """The state of the interacting-multiple-model filter (:mod:`shieldlab.tracking.imm`):
    one EKF per motion regime and the regimes' probabilities."""

    def __init__(self, batch, sigma_v0, regimes: imm.Regimes = imm.DEFAULT):
        M = len(regimes.q)
        self.regimes, self.sigma_v0 = regimes, sigma_v0
        self.xm = np.full(batch + (M, 6), np.nan)
        self.Pm = np.full(batch + (M, 6, 6), np.nan)
        self.mu = np.broadcast_to(np.asarray(regimes.mu0, float), batch + (M,)).copy()
        self.started = np.zeros(batch, bool)

    def noise_level(self) -> np.ndarray:
        """The regimes' levels weighed by their odds (...) [m²/s³], before the drag floor: the
        one level that stands for the mixture where a single filter predicts the track."""
        return self.mu @ np.asarray(self.regimes.q, float)

    def predict(self, dt: float) -> None:
        x = self.estimate()[0]  # the combined estimate: where the drag floor is read
        q = with_drag_floor(np.broadcast_to(np.asarray(self.regimes.q, float), self.mu.shape), x, dt, regimes=True)
        self.xm, self.Pm, self.mu = imm.predict(self.xm, self.Pm, self.mu, dt, self.regimes, q=q)

    def end(self, gone) -> None:
        """End the tracks where ``gone`` (...), in every regime."""
        if gone.any():
            self.xm = np.where(gone[..., None, None], np.nan, self.xm)
            self.Pm = np.where(gone[..., None, None, None], np.nan, self.Pm)
            self.started &= ~gone

    def assimilate(self, z, R, det, d: Detections, site, enu) -> None:
        new = det & ~self.started
        old = det & self.started
        if new.any():  # every regime starts from the one-point initiation
            x0, P0 = _initiate(z, R, new, d, self.sigma_v0)
            self.xm = np.where(new[..., None, None], x0[..., None, :], self.xm)
            self.Pm = np.where(new[..., None, None, None], P0[..., None, :, :], self.Pm)
            self.mu = np.where(new[..., None], np.asarray(self.regimes.mu0, float), self.mu)
        if old.any():
            self.xm, self.Pm, self.mu = imm.update(self.xm, self.Pm, self.mu, z, R[..., None, :, :], site, enu, old)
        self.started |= det

    def estimate(self):
        return imm.combine(self.xm, self.Pm, self.mu)


def with_drag_floor(q, x: np.ndarray, dt: float, regimes: bool = False) -> np.ndarray:
    """The process-noise levels ``q`` (..., or (..., M) with ``regimes``) [m²/s³] raised to
    :func:`drag_noise` of the estimates ``x`` (..., 6) over ``dt`` [s] where they hold one."""
    q = np.array(q, float)
    held = np.isfinite(x).all(axis=-1)
    if held.any():
        floor = drag_noise(x[held], abs(dt))
        q[held] = np.maximum(q[held], floor[:, None] if regimes else floor)
    return q


def coast(x: np.ndarray, P: np.ndarray, q: np.ndarray, dt) -> tuple[np.ndarray, np.ndarray]:
    """Predict tracks past their last update, as their own filter would: states ``x`` (E, 6)
    [ECEF m, m/s] and covariances ``P`` (E, 6, 6) by ``dt`` [s] (a number, or (E,): each its
    own) (:func:`shieldlab.tracking.ekf.predict`) with the noise level ``q`` (E,) [m²/s³]
    their filter held (``Tracks.q``) raised to the drag floor (:func:`with_drag_floor`).  A
    link's latency and a fused picture's planning tick predict with it: a track last updated
    in boost stays as uncertain as its filter knew it was.  Compiled
    (:func:`shieldlab.tracking.tracker_kernel.coast_rows`, one call for any mix of spans);
    equal to the NumPy steps to rounding (tested)."""
    xs, Ps, qs = ekf_kernel.predict_rows_args(x, P, q)
    dts = np.ascontiguousarray(np.broadcast_to(np.asarray(dt, float), x.shape[:-1]), float).reshape(-1)
    tracker_kernel.coast_rows(xs, Ps, qs, dts, ekf.MAX_SUBSTEP_S, BETA_MIN_KG_M2)
    return xs.reshape(x.shape[:-1] + (6,)), Ps.reshape(x.shape[:-1] + (6, 6))


def _initiate(z, R, new, d: Detections, sigma_v0):
    """One-point initiation where ``new``; a harmless placeholder report elsewhere."""
    z_safe = np.where(new[..., None], z, np.array([1e6, 0.0, 0.5]))
    return ekf.init_from_detection(z_safe, R, d.site_lat, d.site_lon, d.site_alt, sigma_v0)
