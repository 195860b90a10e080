"""The point of origin of fire, from a weapon-locating radar's reports alone.

Frames and units: ECEF [m, m/s] inside; reports in the radar's frame (range [m], azimuth,
elevation [rad]); the origin as geodetic (lat, lon [rad], alt [m]) with its covariance in the local
east-north plane at the estimate [m²].

Method (Farina, Ristic & Benvenuti, "Tracking a ballistic target: comparison of several nonlinear
filters", IEEE Trans. AES 38 (3), 2002, who estimate a ballistic state with drag from radar
reports; Shapiro, *The Prediction of Ballistic Missile Trajectories from Radar Observations*,
McGraw-Hill 1958, the batch least-squares fit and its extrapolation; equations in
docs/counter-battery.md):

1. *Fit.*  The unknowns are the state at the first report, position and velocity in ECEF, and
   ``kappa``, the round's relative drag error, ``p = (r1, v1, kappa)``.  The model flies that state
   with :mod:`shieldlab.artillery.motion` (the classified round's drag table, form factor times
   ``1 + kappa``, its mass after any motor's burn) to every report time and measures it from the
   radar.  Levenberg-Marquardt minimises the whitened residuals, reports over their sigmas (the
   azimuth's wrapped) plus the prior ``kappa / sigma_kappa`` (the catalogue's round-to-round drag
   error), batched over the rounds; the Jacobian by forward differences (eight flights per round
   a step).  Start: a quadratic in time fitted to the reports turned into ECEF points.
2. *Back to the ground.*  The fitted state is flown backward in time to the height the radar
   takes for the ground (its ``ground_alt``; there is no terrain model, so a weapon on a hill or
   in a valley is placed along its trajectory's line by the height difference over the tangent
   of its elevation).  For a rocket the arc seen is after burnout: the backward flight reaches the
   ground at a *virtual origin*, and the catalogue's nominal motor gives the offset from there to
   the launcher as a function of the arc's angle at the ground (:func:`rocket_offset`), with
   the spread of that offset over the motor's impulse error added to the covariance.
3. *Covariance.*  ``P_p = (J^T J)^-1`` of the whitened problem at the solution, carried to the
   origin by the Jacobian ``G`` of the origin's east and north against ``p`` (finite differences of
   the same backward flights): ``P = G P_p G^T``.

What the estimator assumes: the radar's classification of the round (its drag table, mass and
motor) is right, the air is the standard atmosphere and still, the ground is at ``ground_alt``;
it reads nothing of the truth but the reports (:class:`~shieldlab.artillery.locating.Reports`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from shieldlab import earth
from shieldlab.artillery.laying import STEP_S
from shieldlab.artillery.locating import Reports
from shieldlab.artillery.motion import Airframe, fly, launch_velocity

__all__ = ["Origins", "locate", "rocket_offset", "MIN_REPORTS", "BACK_S"]

#: Fewest reports a round needs to be located (three coordinates each, seven unknowns).
MIN_REPORTS = 5
#: Longest backward flight from the first report to the ground [s].
BACK_S = 240.0
_MAX_ITERATIONS = 15
# finite-difference steps of p: position [m], velocity [m/s], kappa [-]
_DELTA = np.array([1.0, 1.0, 1.0, 0.05, 0.05, 0.05, 1e-3])
_NP = 7


@dataclass(frozen=True)
class Origins:
    """Estimated points of origin of ``N`` rounds; every field (N,) unless said otherwise.

    ``located``: an estimate exists (``why`` says why not: not detected, too few reports, no
    convergence, no ground crossing).  ``pos`` (N, 3) ECEF, ``lat``, ``lon`` [rad], ``alt`` [m];
    ``cov`` (N, 2, 2) [m²] its east-north covariance at the estimate; ``launch_time`` [s];
    ``elevation`` [rad] the estimated quadrant elevation and ``azimuth`` [rad] the direction of fire;
    ``drag_factor`` the fitted 1 + kappa; ``chi2`` the whitened residuals' sum of squares over
    ``n_reports`` reports; ``t1`` [s] the first report's time, ``state`` (N, 7) the fitted
    ``(r1, v1, kappa)`` and ``state_cov`` (N, 7, 7) its covariance.
    """

    located: np.ndarray
    why: np.ndarray
    pos: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    alt: np.ndarray
    cov: np.ndarray
    launch_time: np.ndarray
    elevation: np.ndarray
    azimuth: np.ndarray
    drag_factor: np.ndarray
    chi2: np.ndarray
    n_reports: np.ndarray
    t1: np.ndarray
    state: np.ndarray
    state_cov: np.ndarray


def _empty(n: int, why: str) -> dict:
    nan = np.full(n, np.nan)
    return dict(located=np.zeros(n, bool), why=np.full(n, why, dtype=object), pos=np.full((n, 3), np.nan),
                lat=nan.copy(), lon=nan.copy(), alt=nan.copy(), cov=np.full((n, 2, 2), np.nan),
                launch_time=nan.copy(), elevation=nan.copy(), azimuth=nan.copy(), drag_factor=nan.copy(),
                chi2=nan.copy(), n_reports=np.zeros(n, np.int64), t1=nan.copy(), state=np.full((n, _NP), np.nan),
                state_cov=np.full((n, _NP, _NP), np.nan))


def _wrap(a):
    return np.mod(a + np.pi, 2.0 * np.pi) - np.pi


def _initial_state(rep: Reports, j1: np.ndarray, t1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position and velocity (M, 3) at ``t1``: a quadratic in time fitted (least squares) to each
    round's reports turned into ECEF points."""
    lat, lon, alt = rep.site
    z = np.where(rep.valid[..., None], rep.z, 0.0)
    pts = earth.aer_to_ecef(z[..., 1], z[..., 2], z[..., 0], lat, lon, alt)
    tau = np.where(rep.valid, rep.t - t1[:, None], 0.0)
    w = rep.valid.astype(float)
    phi = np.stack([np.ones_like(tau), tau, tau * tau], -1) * w[..., None]  # (M, K, 3)
    a = np.einsum("mki,mkj->mij", phi, phi) + 1e-9 * np.eye(3)
    b = np.einsum("mki,mkc->mic", phi, pts * w[..., None])
    coef = np.linalg.solve(a, b)  # (M, 3 basis, 3 coords)
    return coef[:, 0], coef[:, 1]


def _residuals(p: np.ndarray, rep: Reports, rounds: list, j1: np.ndarray, t1: np.ndarray, steps: int,
               sigma_kappa: np.ndarray, perturb: bool) -> np.ndarray:
    """Whitened residuals f(p) = (h(p) - z) / sigma of ``M`` rounds at parameters ``p`` (M, 7), and,
    with ``perturb``, at its seven forward-difference neighbours too: (M, 8 or 1, 3K + 1), the
    last entry the drag prior (zeros where a report is missing)."""
    m, k = rep.valid.shape
    c = _NP + 1 if perturb else 1
    pp = np.repeat(p[:, None, :], c, axis=1)
    if perturb:
        pp[:, 1:, :] += np.diag(_DELTA)[None]
    flat = pp.reshape(m * c, _NP)
    rr = [r for r in rounds for _ in range(c)]
    af = Airframe.of(rr, drag_error=flat[:, 6], burnt=True)
    path = fly(flat[:, :3], flat[:, 3:6], af, _update(rep), steps, t0=np.repeat(t1, c), keep=True)
    assert path.pos is not None
    lat, lon, alt = rep.site
    az, el, rg = earth.ecef_to_aer(path.pos, lat, lon, alt)  # (M c, S)
    idx = np.arange(k)[None, :] - j1[:, None]  # sample of each report
    ok = rep.valid & (idx >= 0) & (idx <= steps)
    idx = np.clip(idx, 0, steps)
    rows = np.arange(m * c)[:, None]
    sel = np.repeat(idx, c, axis=0)
    pred = np.stack([rg[rows, sel], az[rows, sel], el[rows, sel]], -1).reshape(m, c, k, 3)
    z = np.where(rep.valid[..., None], rep.z, 0.0)[:, None]
    d = pred - z
    d[..., 1] = _wrap(d[..., 1])
    f = np.where(ok[:, None, :, None], d / rep.sigmas, 0.0).reshape(m, c, 3 * k)
    prior = (pp[:, :, 6] / sigma_kappa[:, None])[..., None]
    return np.concatenate([f, prior], axis=-1)


def _update(rep: Reports) -> float:
    """The report period [s] of ``rep`` (the spacing of its report times)."""
    dt = np.diff(rep.t, axis=1)
    dt = dt[np.isfinite(dt)]
    return float(np.median(dt)) if dt.size else 1.0


@functools.cache
def _rocket_table(key: str, round_json: str) -> tuple[np.ndarray, ...]:
    from shieldlab.catalog.artillery import Round

    return _offset_table(Round.model_validate_json(round_json))


def rocket_offset(rnd) -> tuple[np.ndarray, ...]:
    """The launcher's place relative to the *virtual origin* of a rocket (the module's step 2), from
    its nominal flights: ``(gamma, along, cross, dt, elevation, along_sigma)``, each
    over a grid of the arc's angle ``gamma`` [rad] at the virtual origin (ascending).  ``along`` [m]:
    the launcher's distance from the virtual origin along the horizontal direction of fire
    (negative: behind it), ``cross`` [m] to the right of it, ``dt`` [s] the launch's time minus the
    virtual origin's, ``elevation`` [rad] the launcher's quadrant elevation; ``along_sigma`` [m]: the
    spread of ``along`` over one sigma of the motor's impulse error."""
    return _rocket_table(rnd.id, rnd.model_dump_json())


def _offset_table(rnd) -> tuple[np.ndarray, ...]:
    lat, lon = math.radians(36.7), math.radians(38.95)  # where the flights are flown; the offsets barely vary
    q = np.radians(np.arange(max(rnd.min_elevation_deg, 2.0), rnd.max_elevation_deg + 1e-9, 0.5))
    sig = rnd.motor.impulse_sigma_pct / 100.0 if rnd.motor.impulse_sigma_pct > 0 else 0.01
    out = []
    for ie in (0.0, sig):
        n = q.size
        af = Airframe.of([rnd] * n, impulse_error=np.full(n, ie))
        h = af.step(STEP_S)
        k_bo = int(round(rnd.motor.burn_time_s / h[0]))
        r0 = np.broadcast_to(earth.geodetic_to_ecef(lat, lon, 0.0), (n, 3))
        v0 = launch_velocity(lat, lon, rnd.muzzle_velocity_ms, q, 0.0)
        up = fly(r0, v0, af, h, k_bo, keep=True)
        assert up.pos is not None and up.vel is not None
        burnt = Airframe.of([rnd] * n, burnt=True)
        back = fly(up.pos[:, -1], up.vel[:, -1], burnt, -STEP_S, int(BACK_S / STEP_S), t0=k_bo * h[0],
                   ground=np.zeros(n), keep=False)
        vlat, vlon, _ = earth.ecef_to_geodetic(back.end_pos)
        enu_v = np.einsum("nij,nj->ni", earth.enu_matrix(vlat, vlon), back.end_vel)
        gamma = np.arctan2(enu_v[:, 2], np.hypot(enu_v[:, 0], enu_v[:, 1]))
        a = np.arctan2(enu_v[:, 0], enu_v[:, 1])
        d = earth.ecef_to_enu(r0, vlat, vlon, 0.0)
        along = d[:, 0] * np.sin(a) + d[:, 1] * np.cos(a)
        cross = d[:, 0] * np.cos(a) - d[:, 1] * np.sin(a)
        out.append((gamma, along, cross, 0.0 - back.end_t, q))
    (g, along, cross, dt, qq), (_, along_s, _, _, _) = out
    order = np.argsort(g)
    sigma = np.abs(along_s - along) * (rnd.motor.impulse_sigma_pct / 100.0) / sig
    return g[order], along[order], cross[order], dt[order], qq[order], sigma[order]


def locate(rep: Reports, *, min_reports: int = MIN_REPORTS) -> Origins:
    """Estimate the point of origin of every round of ``rep`` (see the module)."""
    n = rep.n
    out = _empty(n, "not detected")
    nrep = rep.valid.sum(axis=1)
    out["n_reports"] = nrep.astype(np.int64)
    few = rep.detected & (nrep < min_reports)
    out["why"][few] = f"fewer than {min_reports} reports"
    todo = np.flatnonzero(rep.detected & (nrep >= min_reports))
    if todo.size == 0:
        return Origins(**out)
    sub = rep.rows(todo)
    rounds = sub.classified
    m, k = sub.valid.shape
    j1 = np.argmax(sub.valid, axis=1)
    t1 = sub.t[np.arange(m), j1]
    last = k - 1 - np.argmax(sub.valid[:, ::-1], axis=1)
    steps = int(np.max(last - j1))
    sigma_kappa = np.array([max(r.drag_sigma_pct / 100.0, 1e-6) for r in rounds])
    r1, v1 = _initial_state(sub, j1, t1)
    p = np.concatenate([r1, v1, np.zeros((m, 1))], axis=1)
    f_all = _residuals(p, sub, rounds, j1, t1, steps, sigma_kappa, perturb=True)
    f = f_all[:, 0]
    jac = (f_all[:, 1:] - f[:, None]) / _DELTA[None, :, None]  # (M, 7, R)
    cost = np.einsum("mr,mr->m", f, f)
    lam = np.full(m, 1e-3)
    active = np.ones(m, bool)
    converged = np.zeros(m, bool)
    for _ in range(_MAX_ITERATIONS):
        ids = np.flatnonzero(active)
        if ids.size == 0:
            break
        jj = jac[ids]
        a = np.einsum("mir,mjr->mij", jj, jj)
        g = np.einsum("mir,mr->mi", jj, f[ids])
        damp = a + lam[ids, None, None] * (a * np.eye(_NP)[None])
        step = -np.linalg.solve(damp, g[..., None])[..., 0]
        p_try = p[ids] + step
        f_try_all = _residuals(p_try, sub.rows(ids), [rounds[i] for i in ids], j1[ids], t1[ids], steps,
                               sigma_kappa[ids], perturb=True)
        f_try = f_try_all[:, 0]
        c_try = np.einsum("mr,mr->m", f_try, f_try)
        better = np.isfinite(c_try) & (c_try <= cost[ids])
        acc = ids[better]
        small = better & (cost[ids] - c_try <= 1e-9 * cost[ids] + 1e-9)
        p[acc] = p_try[better]
        f[acc] = f_try[better]
        jac[acc] = (f_try_all[better, 1:] - f_try[better, None]) / _DELTA[None, :, None]
        cost[acc] = c_try[better]
        lam[acc] = np.maximum(lam[acc] / 5.0, 1e-9)
        lam[ids[~better]] *= 10.0
        tiny = np.max(np.abs(step) / _DELTA, axis=1) < 1e-4
        done = ids[small | tiny]
        converged[done] = True
        active[done] = False
        active[ids[lam[ids] > 1e8]] = False
    a = np.einsum("mir,mjr->mij", jac, jac)
    ok = converged & np.isfinite(a).all(axis=(1, 2)) & (np.linalg.cond(a) < 1e14)
    pcov = np.full((m, _NP, _NP), np.nan)
    pcov[ok] = np.linalg.inv(a[ok])
    # 2.-3. back to the ground, with the seven neighbours for the Jacobian
    ids = np.flatnonzero(ok)
    why = np.full(m, "did not converge", dtype=object)
    res = _back(p[ids], [rounds[i] for i in ids], t1[ids], sub.ground_alt)
    landed, origin, t_origin, gamma, azimuth, q, extra_var = res
    good = landed.all(axis=1)
    why[ids[~good]] = "no ground crossing"
    g_ids = ids[good]
    o = origin[good]  # (G, 8, 3)
    la, lo, al = earth.ecef_to_geodetic(o[:, 0])
    en = earth.enu_matrix(la, lo)[:, :2, :]  # (G, 2, 3)
    dxy = np.einsum("gij,gkj->gki", en, o[:, 1:] - o[:, :1]) / _DELTA[None, :, None]  # (G, 7, 2)
    gmat = np.swapaxes(dxy, 1, 2)  # (G, 2, 7)
    cov = gmat @ pcov[g_ids] @ np.swapaxes(gmat, 1, 2)
    az0 = azimuth[good, 0]
    u = np.stack([np.sin(az0), np.cos(az0)], -1)
    cov = cov + extra_var[good, None, None] * np.einsum("gi,gj->gij", u, u)
    w, vec = np.linalg.eigh(0.5 * (cov + np.swapaxes(cov, 1, 2)))  # symmetric, positive definite
    cov = np.einsum("gij,gj,gkj->gik", vec, np.maximum(w, 1e-6), vec)
    why[g_ids] = ""
    rows = todo
    loc_rows = rows[g_ids]
    out["located"][loc_rows] = True
    out["pos"][loc_rows] = o[:, 0]
    out["lat"][loc_rows], out["lon"][loc_rows], out["alt"][loc_rows] = la, lo, al
    out["cov"][loc_rows] = cov
    out["launch_time"][loc_rows] = t_origin[good, 0]
    out["elevation"][loc_rows] = q[good, 0]
    out["azimuth"][loc_rows] = np.mod(az0, 2.0 * np.pi)
    out["why"][rows] = why
    out["drag_factor"][rows] = 1.0 + p[:, 6]
    out["chi2"][rows] = cost - (p[:, 6] / sigma_kappa) ** 2
    out["t1"][rows] = t1
    out["state"][rows] = p
    out["state_cov"][rows] = pcov
    return Origins(**out)


def _back(p: np.ndarray, rounds: list, t1: np.ndarray, ground_alt: float):
    """Fly fitted states ``p`` (G, 7) and their seven neighbours backward to the ground: (landed
    (G, 8), origin (G, 8, 3) ECEF, its time (G, 8) [s], the arc's angle at the origin (G, 8) [rad],
    the direction of fire (G, 8) [rad], the quadrant elevation (G, 8) [rad], the variance added
    along the direction of fire (G,) [m²])."""
    g = p.shape[0]
    c = _NP + 1
    pp = np.repeat(p[:, None, :], c, axis=1)
    pp[:, 1:, :] += np.diag(_DELTA)[None]
    flat = pp.reshape(g * c, _NP)
    rr = [r for r in rounds for _ in range(c)]
    af = Airframe.of(rr, drag_error=flat[:, 6], burnt=True)
    back = fly(flat[:, :3], flat[:, 3:6], af, -STEP_S, int(BACK_S / STEP_S), t0=np.repeat(t1, c),
               ground=np.full(g * c, float(ground_alt)), keep=False)
    pos, vel = back.end_pos, back.end_vel
    la, lo, _ = earth.ecef_to_geodetic(pos)
    enu_v = np.einsum("nij,nj->ni", earth.enu_matrix(la, lo), vel)
    gamma = np.arctan2(enu_v[:, 2], np.hypot(enu_v[:, 0], enu_v[:, 1]))
    azimuth = np.arctan2(enu_v[:, 0], enu_v[:, 1])
    t = back.end_t.copy()
    q = gamma.copy()
    extra = np.zeros(g * c)
    rocket = np.array([r.motor is not None for r in rr])
    for rid in {r.id for r in rr if r.motor is not None}:
        sel = np.flatnonzero(rocket & np.array([r.id == rid for r in rr]))
        tab_g, along, cross, dt, qq, sig = rocket_offset(next(r for r in rr if r.id == rid))
        a = np.interp(gamma[sel], tab_g, along)
        cr = np.interp(gamma[sel], tab_g, cross)
        s, c_ = np.sin(azimuth[sel]), np.cos(azimuth[sel])
        e, nn = a * s + cr * c_, a * c_ - cr * s
        enu = np.stack([e, nn, np.zeros_like(e)], -1)
        moved = np.einsum("nji,nj->ni", earth.enu_matrix(la[sel], lo[sel]), enu) + pos[sel]
        mla, mlo, _ = earth.ecef_to_geodetic(moved)
        pos[sel] = earth.geodetic_to_ecef(mla, mlo, float(ground_alt))
        t[sel] = t[sel] + np.interp(gamma[sel], tab_g, dt)
        q[sel] = np.interp(gamma[sel], tab_g, qq)
        extra[sel] = np.interp(gamma[sel], tab_g, sig) ** 2
    shape = (g, c)
    return (back.landed.reshape(shape), pos.reshape(g, c, 3), t.reshape(shape), gamma.reshape(shape),
            azimuth.reshape(shape), q.reshape(shape), extra.reshape(shape)[:, 0])
