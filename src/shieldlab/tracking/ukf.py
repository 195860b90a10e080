"""Batched unscented Kalman filter for ballistic targets in WGS84 ECEF.

The same models as the EKF (:mod:`shieldlab.tracking.ekf`): ballistic motion in the
rotating Earth frame with J2 gravity, a continuous white-noise acceleration of spectral
density ``q`` [m²/s³], and (range, azimuth, elevation) reports from a site.  Instead of
the EKF's Jacobians, the mean and covariance go through the nonlinear functions as
``2n + 1`` sigma points (Julier & Uhlmann, "Unscented filtering and nonlinear
estimation", Proc. IEEE 92(3), 2004; the scaled form of Wan & van der Merwe, "The
unscented Kalman filter for nonlinear estimation", IEEE AS-SPCC 2000):

    λ = α² (n + κ) − n,   χ₀ = x,   χ_i = x ± √(n + λ) L_i   (L Lᵀ = P, Cholesky columns)
    W₀ᵐ = λ / (n + λ),   W₀ᶜ = W₀ᵐ + 1 − α² + β,   W_iᵐ = W_iᶜ = 1 / (2 (n + λ)).

Defaults α = 1, β = 2, κ = 0 (n = 6): every weight is non-negative (W₀ᵐ = 0, W₀ᶜ = 2,
W_i = 1/12), so the predicted covariance stays positive definite; the points lie
√6 σ from the mean.  The small-α choices of the literature put a large negative weight
on the centre point, which a 6-state ballistic filter with kilometre-scale position
errors does not survive.

* **Predict** (:func:`predict`): in the EKF's substeps (at most
  :data:`~shieldlab.tracking.ekf.MAX_SUBSTEP_S`), sigma points of the current
  estimate, each flown one RK4 substep (:func:`~shieldlab.tracking.ekf.rk4_step`), their
  weighted mean and covariance, plus ``Q(h, q)``.
* **Update** (:func:`update`): sigma points of the prior through
  :func:`~shieldlab.tracking.ekf.measure_aer`; the azimuth's mean is the weighted
  circular mean and its deviations are wrapped to (−π, π] (the sigma points of a target
  near north straddle 0 and 2π); ``S = Σ Wᶜ ΔZ ΔZᵀ + R``, ``C = Σ Wᶜ ΔX ΔZᵀ``, ``K = C
  S⁻¹``, ``x⁺ = x + K ν``, ``P⁺ = P − K S Kᵀ`` (symmetrised).

Tested against Stone Soup 1.9.1's ``UnscentedKalmanPredictor`` and
``UnscentedKalmanUpdater`` with the same models and parameters (posterior means and
covariances equal to 1e-6 relative, tests/validation/test_stonesoup_yardstick.py) and for
consistency on a ballistic arc (tests/test_tracking.py).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from shieldlab import earth
from shieldlab.tracking import ekf


class Params(NamedTuple):
    """Sigma-point parameters (see the module docstring)."""

    alpha: float = 1.0
    beta: float = 2.0
    kappa: float = 0.0


DEFAULT = Params()


def weights(n: int, params: Params = DEFAULT) -> tuple[float, np.ndarray, np.ndarray]:
    """``(√(n + λ), Wᵐ (2n+1,), Wᶜ (2n+1,))`` of an ``n``-dimensional state."""
    a2 = params.alpha * params.alpha
    lam = a2 * (n + params.kappa) - n
    c = n + lam
    if not c > 0.0:
        raise ValueError(f"ukf: alpha^2 (n + kappa) must be positive, got {c!r} with {params}")
    wm = np.full(2 * n + 1, 0.5 / c)
    wm[0] = lam / c
    wc = wm.copy()
    wc[0] = lam / c + (1.0 - a2 + params.beta)
    return math.sqrt(c), wm, wc


def sigma_points(x: np.ndarray, P: np.ndarray, params: Params = DEFAULT) -> np.ndarray:
    """Sigma points (..., 2n+1, n) of the Gaussians ``x`` (..., n), ``P`` (..., n, n): the
    mean, then the mean plus and minus the columns of √(n + λ) L, L the lower Cholesky
    factor of ``P``."""
    n = x.shape[-1]
    s, _, _ = weights(n, params)
    L = np.linalg.cholesky(P) * s
    cols = np.swapaxes(L, -1, -2)  # (..., n, n): row i is column i of L
    return np.concatenate([x[..., None, :], x[..., None, :] + cols, x[..., None, :] - cols], axis=-2)


def _moments(chi: np.ndarray, wm: np.ndarray, wc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = np.einsum("k,...ki->...i", wm, chi)
    d = chi - mean[..., None, :]
    return mean, np.einsum("k,...ki,...kj->...ij", wc, d, d)


def predict(x: np.ndarray, P: np.ndarray, dt: float, q, params: Params = DEFAULT) -> tuple[np.ndarray, np.ndarray]:
    """Propagate state and covariance by ``dt`` [s]: the unscented form of
    :func:`shieldlab.tracking.ekf.predict` (the same substeps, RK4 flight and ``Q``).

    ``x`` (..., 6), ``P`` (..., 6, 6); ``q`` [m²/s³] a scalar or (...) array.  A
    non-finite estimate stays non-finite."""
    dt = float(dt)
    n_sub = max(1, math.ceil(abs(dt) / ekf.MAX_SUBSTEP_S))
    h = dt / n_sub
    Q = ekf.white_noise_accel_Q(abs(h), q)
    _, wm, wc = weights(6, params)
    ok = np.isfinite(x).all(axis=-1) & np.isfinite(P).all(axis=(-1, -2))
    if not ok.all():  # nan in, nan out, without the Cholesky factorisation seeing it
        xs = np.where(ok[..., None], x, np.array([earth.WGS84_A + 1e6, 0.0, 0.0, 0.0, 0.0, 0.0]))
        Ps = np.where(ok[..., None, None], P, np.eye(6))
    else:
        xs, Ps = x, P
    for _ in range(n_sub):
        chi = ekf.rk4_step(sigma_points(xs, Ps, params), h)
        xs, Ps = _moments(chi, wm, wc)
        Ps = Ps + Q
        Ps = 0.5 * (Ps + np.swapaxes(Ps, -1, -2))
    if ok.all():
        return xs, Ps
    return np.where(ok[..., None], xs, np.nan), np.where(ok[..., None, None], Ps, np.nan)


def _measurement_moments(x, P, site_ecef, site_enu_matrix, params: Params = DEFAULT):
    """The unscented transform of ``N(x, P)`` (finite) through (range, az, el) from the site:
    the predicted measurement ``z_hat`` (..., 3), its covariance without the noise ``S0``
    (..., 3, 3) and the state-measurement cross-covariance ``C`` (..., 6, 3)."""
    _, wm, wc = weights(6, params)
    chi = sigma_points(x, P, params)
    Z, _ = ekf.measure_aer(chi, site_ecef, site_enu_matrix)  # (..., 13, 3)
    z_hat = np.einsum("k,...ki->...i", wm, Z)
    # the azimuth's weighted circular mean (Stone Soup's Bearing.average), deviations wrapped
    z_hat[..., 1] = np.arctan2(np.einsum("k,...k->...", wm, np.sin(Z[..., 1])) / wm.sum(),
                               np.einsum("k,...k->...", wm, np.cos(Z[..., 1])) / wm.sum())
    dZ = Z - z_hat[..., None, :]
    dZ[..., 1] = ekf.wrap_pi(dZ[..., 1])
    dX = chi - chi[..., :1, :]  # from the centre point (= the prior mean), as Stone Soup does
    return z_hat, np.einsum("k,...ki,...kj->...ij", wc, dZ, dZ), np.einsum("k,...ki,...kj->...ij", wc, dX, dZ)


def report_distances(x: np.ndarray, P: np.ndarray, z: np.ndarray, R: np.ndarray, site_ecef: np.ndarray,
                     site_enu_matrix: np.ndarray, live: np.ndarray, valid: np.ndarray,
                     params: Params = DEFAULT) -> tuple[np.ndarray, np.ndarray]:
    """The unscented form of :func:`shieldlab.tracking.association.report_distances` with
    each report's own noise: tracks ``x`` (C, T, 6), ``P`` (C, T, 6, 6) where ``live``
    (C, T); reports ``z`` (C, M, 3) where ``valid`` (C, M) with ``R`` (C, M, 3, 3).
    ``S = S0 + R_m`` with ``S0`` the unscented covariance of the predicted measurement
    (what :func:`update` uses), so ``d²`` is the NIS :func:`update` would report for the
    pair.  Returns ``d2`` (C, T, M) (``inf`` for a dead track or an empty slot) and
    ``ln det S`` (C, T, M) (``nan`` there)."""
    ok = live & np.isfinite(x).all(axis=-1) & np.isfinite(P).all(axis=(-1, -2))
    xs = np.where(ok[..., None], x, np.array([earth.WGS84_A + 1e6, 0.0, 0.0, 0.0, 0.0, 0.0]))
    Ps = np.where(ok[..., None, None], P, np.eye(6))
    z_hat, S0, _ = _measurement_moments(xs, Ps, site_ecef, site_enu_matrix, params)
    Rm = np.where(valid[..., None, None], R, np.eye(3))
    S = S0[:, :, None] + Rm[:, None]  # (C, T, M, 3, 3)
    nu = np.where(valid[:, None, :, None], z[:, None], 0.0) - z_hat[:, :, None]
    nu[..., 1] = ekf.wrap_pi(nu[..., 1])
    d2 = np.einsum("...i,...ij,...j->...", nu, ekf.inv_spd3(S), nu)
    pair = ok[:, :, None] & valid[:, None, :]
    return np.where(pair, d2, np.inf), np.where(pair, np.linalg.slogdet(S)[1], np.nan)


def update(x: np.ndarray, P: np.ndarray, z: np.ndarray, R: np.ndarray, site_ecef: np.ndarray,
           site_enu_matrix: np.ndarray, mask: np.ndarray, params: Params = DEFAULT):
    """Unscented measurement update with one (range, az, el) report per batch element: the
    contract of :func:`shieldlab.tracking.ekf.update` (``mask`` False: unchanged, ``nis``
    nan).  Returns ``(x, P, nis)``, ``nis = νᵀ S⁻¹ ν``."""
    mask = np.broadcast_to(np.asarray(mask, dtype=bool), x.shape[:-1])
    full = bool(mask.all())
    xs, Ps, zs = x, P, z
    if not full:  # stand-ins where there is no report, as in ekf.update
        up = np.asarray(site_ecef) + 1e6 * np.asarray(site_enu_matrix)[..., 2, :]
        stand_in = np.concatenate([up, np.zeros_like(up)], axis=-1)
        xs = np.where(mask[..., None], x, stand_in)
        Ps = np.where(mask[..., None, None], P, np.eye(6))
    z_hat, S0, C = _measurement_moments(xs, Ps, site_ecef, site_enu_matrix, params)
    S = S0 + R
    S_inv = ekf.inv_spd3(S)
    K = C @ S_inv
    if not full:
        zs = np.where(mask[..., None], z, z_hat)
    nu = zs - z_hat
    nu[..., 1] = ekf.wrap_pi(nu[..., 1])
    nis = np.sum(nu * (S_inv @ nu[..., None])[..., 0], axis=-1)
    x_new = xs + (K @ nu[..., None])[..., 0]
    P_new = Ps - K @ S @ np.swapaxes(K, -1, -2)
    P_new = 0.5 * (P_new + np.swapaxes(P_new, -1, -2))
    if full:
        return x_new, P_new, nis
    return (np.where(mask[..., None], x_new, x), np.where(mask[..., None, None], P_new, P),
            np.where(mask, nis, np.nan))
