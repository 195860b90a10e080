"""Air tracks: every sensor's reports of an aircraft or cruise missile fused into one track.

A batched nearly-constant-velocity (NCV) Kalman filter in ECEF [m, m/s] over converted
measurements (Bar-Shalom, Li & Kirubarajan, *Estimation with Applications to Tracking and
Navigation*, 2001, sec. 6.2 (white-noise acceleration model) and 10.4 (converted
measurements); Lerro & Bar-Shalom, IEEE TAES 29(3), 1993):

* Motion: ``x = [r, v]``, ``F(dt) = [[I, dt I], [0, I]]``, process noise of a white
  acceleration with spectral density ``q`` per axis,
  ``Q = q [[dt^3/3 I, dt^2/2 I], [dt^2/2 I, dt I]]``.  By the NCV rule of thumb (ibid.
  sec. 6.2.2) ``q ~ (a / 2)^2 T`` for a manoeuvre of acceleration ``a`` over ``T`` seconds:
  the default 40 m^2/s^3 is a 4 m/s^2 (0.4 g) manoeuvre over 10 s, the turns of a
  transiting aircraft, not a fighter's hard turn (a 2 g turn over 10 s would want ~960).
  No gate is applied: reports are paired with their flier by label (below).
  The Earth's curvature bends a level flight's velocity by ``v^2 / R`` (0.01 m/s^2 at
  250 m/s): far inside that noise.
* Measurement: each report (range, azimuth, elevation) becomes an ECEF point with the
  covariance ``J R J^T`` of the spherical-to-Cartesian Jacobian at the measured point.  The
  conversion bias ``r sigma_angle^2 / 2`` is under a metre for the radars here (2 mrad at
  300 km: 0.6 m), so the unbiased form is not needed.
* Initiation: the first report gives the position, the velocity starts at zero with a
  one-sigma of :data:`INIT_SPEED` per axis.  The track is firm after ``init_hits`` reports.
  It is dropped when no report has come for ``coast_s`` (a track break); the next report
  starts a new track.
* Association: reports are paired with their flier by the truth label, as in the ballistic
  chain's labels mode: one flier, one track; air tracks make no association errors.

The filter only reads :class:`~shieldlab.sensors.records.Detections`' measurements and
covariances; the truth they carry (``truth_pos``) is never read here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shieldlab import earth
from shieldlab.sensors.records import report_covariance

__all__ = ["AirTracks", "track", "INIT_SPEED", "DEFAULT_Q"]

#: One-sigma of each velocity component of a new track [m/s].
INIT_SPEED = 300.0
#: Default white-acceleration spectral density [m^2/s^3].
DEFAULT_Q = 40.0


@dataclass(frozen=True)
class AirTracks:
    """The defender's estimate of each flier on the truth's time grid.

    t : (T,) [s].
    x : (B, T, 6) the track's state predicted to t from its latest update, ECEF [m, m/s]; nan
        where there is no firm track.
    P_pos : (B, T, 3, 3) its position covariance [m^2]; nan where no firm track.
    firm : (B, T) whether a firm track is held at t.
    first_firm : (B,) time the first track went firm [s]; inf if never.
    breaks : (B,) tracks dropped for want of reports and started again.
    updates : (B,) reports used.
    """

    t: np.ndarray
    x: np.ndarray
    P_pos: np.ndarray
    firm: np.ndarray
    first_firm: np.ndarray
    breaks: np.ndarray
    updates: np.ndarray

    def geodetic(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The tracks' positions as geodetic (lat, lon [rad], alt [m]), nan where no firm track."""
        p = np.where(self.firm[..., None], self.x[..., :3], earth.WGS84_A)
        lat, lon, alt = earth.ecef_to_geodetic(p)
        bad = ~self.firm
        return np.where(bad, np.nan, lat), np.where(bad, np.nan, lon), np.where(bad, np.nan, alt)


def _converted(det, rows: int, scans: np.ndarray):
    """The reports of one sensor's ``scans`` (indices) as ECEF points and covariances: (B, K, 3),
    (B, K, 3, 3), and which there are (B, K)."""
    z = det.z.reshape(rows, det.t.size, 3)[:, scans]
    ok = det.detected.reshape(rows, det.t.size)[:, scans]
    r, az, el = (np.where(ok, z[..., i], 0.0) for i in range(3))
    p = earth.aer_to_ecef(az, el, r, det.site_lat, det.site_lon, det.site_alt)
    ca, sa, ce, se = np.cos(az), np.sin(az), np.cos(el), np.sin(el)
    # d(e, n, u) / d(r, az, el): e = r ce sa, n = r ce ca, u = r se
    J = np.stack([np.stack([ce * sa, r * ce * ca, -r * se * sa], -1),
                  np.stack([ce * ca, -r * ce * sa, -r * se * ca], -1),
                  np.stack([se, np.zeros_like(r), r * ce], -1)], -2)
    scale = det.r_scale.reshape(rows, det.t.size)[:, scans]
    Raer = report_covariance(det.R, scale, np.where(ok, z[..., 2], np.nan))
    C = J @ Raer @ np.swapaxes(J, -1, -2)
    M = earth.enu_matrix(det.site_lat, det.site_lon)  # rows: e, n, u in ECEF
    Cx = M.T @ C @ M
    return p, Cx, ok


def track(dets, t: np.ndarray, rows: int, *, init_hits: int = 3, coast_s: float = 60.0,
          q: float = DEFAULT_Q) -> AirTracks:
    """Fuse every sensor's reports of ``rows`` fliers into tracks sampled on the grid ``t``.

    dets : :class:`~shieldlab.sensors.records.Detections` of each sensor, batch shape
        reshapable to ``(rows,)``.
    t : (T,) the grid [s] the tracks are reported on (the truth's grid).
    """
    T = t.size
    # every scan of every sensor that brought a report, sorted in time: (time, sensor, scan)
    used = [np.flatnonzero(d.detected.reshape(rows, d.t.size).any(axis=0)) for d in dets]
    conv = [_converted(d, rows, u) for d, u in zip(dets, used, strict=True)]
    times = np.concatenate([d.t[u] for d, u in zip(dets, used, strict=True)]) if dets else np.empty(0)
    src = np.concatenate([np.full(u.size, i) for i, u in enumerate(used)]) if dets else np.empty(0, int)
    scan = np.concatenate([np.arange(u.size) for u in used]) if dets else np.empty(0, int)  # into conv
    order = np.argsort(times, kind="stable")
    times, src, scan = times[order], src[order], scan[order]

    x = np.full((rows, 6), np.nan)
    P = np.full((rows, 6, 6), np.nan)
    t_upd = np.full(rows, -np.inf)
    hits = np.zeros(rows, int)
    live = np.zeros(rows, bool)
    first_firm = np.full(rows, np.inf)
    breaks = np.zeros(rows, int)
    updates = np.zeros(rows, int)
    out_x = np.full((rows, T, 6), np.nan)
    out_P = np.full((rows, T, 3, 3), np.nan)
    firm = np.zeros((rows, T), bool)
    eye3 = np.eye(3)

    def predict(xs, Ps, dt):
        dt = dt[:, None]
        xn = xs.copy()
        xn[:, :3] += dt * xs[:, 3:]
        d = dt[:, :, None]
        F = np.broadcast_to(np.eye(6), Ps.shape).copy()
        F[:, :3, 3:] = d * eye3
        Q = np.empty_like(Ps)
        Q[:, :3, :3] = q * d ** 3 / 3 * eye3
        Q[:, :3, 3:] = Q[:, 3:, :3] = q * d ** 2 / 2 * eye3
        Q[:, 3:, 3:] = q * d * eye3
        return xn, F @ Ps @ np.swapaxes(F, -1, -2) + Q

    def sample(k_lo: int, k_hi: int) -> None:
        """Write the prediction of every firm track to grid samples k_lo .. k_hi - 1 (the motion
        model's closed form for each gap since the track's last update)."""
        if k_hi <= k_lo:
            return
        ok = live & (hits >= init_hits)
        if not ok.any():
            return
        idx = np.flatnonzero(ok)
        dt = t[None, k_lo:k_hi] - t_upd[idx, None]  # (n, K)
        alive = dt <= coast_s
        if not alive.any():
            return
        d = dt[..., None]
        xs = x[idx, None, :3] + d * x[idx, None, 3:]
        Pr, Prv, Pv = P[idx, None, :3, :3], P[idx, None, :3, 3:], P[idx, None, 3:, 3:]
        dd = dt[..., None, None]
        Pp = Pr + dd * (Prv + np.swapaxes(Prv, -1, -2)) + dd ** 2 * Pv + (q * dd ** 3 / 3) * eye3
        rows_, cols_ = np.nonzero(alive)
        out_x[idx[rows_], k_lo + cols_, :3] = xs[rows_, cols_]
        out_x[idx[rows_], k_lo + cols_, 3:] = x[idx[rows_], 3:]
        out_P[idx[rows_], k_lo + cols_] = Pp[rows_, cols_]
        firm[idx[rows_], k_lo + cols_] = True

    k_done = 0
    i = 0
    n = times.size
    while i < n:
        tk = times[i]
        # grid samples before this report time see the state before it
        k_next = int(np.searchsorted(t, tk, side="left"))
        sample(k_done, k_next)
        k_done = max(k_done, k_next)
        s, j = int(src[i]), int(scan[i])
        p, C, ok = conv[s][0][:, j], conv[s][1][:, j], conv[s][2][:, j]
        i += 1
        if not ok.any():
            continue
        # tracks silent too long are dropped (a break) before this report is used
        stale = live & ok & (tk - t_upd > coast_s)
        breaks += stale & (hits >= init_hits)
        live &= ~stale
        new = ok & ~live
        if new.any():
            x[new, :3] = p[new]
            x[new, 3:] = 0.0
            P[new] = 0.0
            P[new, :3, :3] = C[new]
            P[new, 3:, 3:] = INIT_SPEED ** 2 * eye3
            t_upd[new] = tk
            hits[new] = 1
            live[new] = True
        upd = ok & live & ~new
        if upd.any():
            u = np.flatnonzero(upd)
            xs, Ps = predict(x[u], P[u], tk - t_upd[u])
            S = Ps[:, :3, :3] + C[u]
            K = Ps[:, :, :3] @ np.linalg.inv(S)
            x[u] = xs + (K @ (p[u] - xs[:, :3])[..., None])[..., 0]
            KH = np.zeros_like(Ps)
            KH[:, :, :3] = K
            IKH = np.eye(6) - KH
            # Joseph form: stays symmetric and positive definite with large initial velocity variance
            P[u] = IKH @ Ps @ np.swapaxes(IKH, -1, -2) + K @ C[u] @ np.swapaxes(K, -1, -2)
            t_upd[u] = tk
            hits[u] += 1
        updates += ok
        became = ok & (hits == init_hits) & ~np.isfinite(first_firm)
        first_firm[became] = tk
    sample(k_done, T)
    return AirTracks(t=t, x=out_x, P_pos=out_P, firm=firm, first_firm=first_firm, breaks=breaks, updates=updates)
