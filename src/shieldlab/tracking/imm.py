"""Interacting multiple model (IMM) filter: one EKF per motion regime, mixed by their odds.

A ballistic missile is seen boosting (thrust up to ~10 g), coasting (gravity alone) and
re-entering (drag up to tens of g).  The EKF's single motion model
(:mod:`shieldlab.tracking.ekf`) absorbs thrust and drag in its white-noise acceleration;
the tracker's default adapts that noise level from the innovations.  The IMM instead runs
one EKF per regime, the regimes differing in the level ``q_j`` of that noise (Bar-Shalom,
Li & Kirubarajan 2001, "BLK", §11.6: the IMM estimator, and §11.7 for its use with
different process-noise levels), and weighs them by how well each predicted the reports.
A cycle over a step ``dt``:

* **Mixing.** The regime switches as a Markov chain that only goes forward, boost →
  ballistic → re-entry: it stays in regime ``i`` with probability ``p_ii = exp(-dt / τ_i)``
  (``τ_i`` its mean sojourn) and otherwise moves to the next; re-entry lasts.  (A chain
  that may return to boost keeps, through every gap between reports, a share of the
  estimate on the noisy boost filter: on epaa-phase-1 the re-entry error doubled.)
  ``c_j = Σ_i μ_i p_ij``, ``μ_i|j = μ_i p_ij / c_j``; each filter starts the step from
  ``x0_j = Σ_i μ_i|j x_i``, ``P0_j = Σ_i μ_i|j (P_i + (x_i − x0_j)(x_i − x0_j)ᵀ)``.
* **Prediction** of each filter with its own ``q_j`` (:func:`shieldlab.tracking.ekf.predict`);
  the regime probabilities become ``c_j``.
* **Update** of each filter with the report (:func:`shieldlab.tracking.ekf.update`); each
  regime's likelihood is ``N(ν_j; 0, S_j)``, ``μ_j ∝ c_j N(ν_j; 0, S_j)`` (in logarithms,
  so that a report far from every prediction does not underflow).
* **Output**: the moment-matched combination ``x = Σ μ_j x_j``, ``P = Σ μ_j (P_j + (x_j −
  x)(x_j − x)ᵀ)``.

Regimes (:data:`DEFAULT`): boost ``q = 1e5`` m²/s³ (the adaptive filter's ceiling, ~10 g
at 10 s scans), ballistic ``1e-2`` (its floor) and re-entry ``1e2`` (~10 m/s² of
unmodelled drag at 1 s scans); mean sojourns 60 s in boost and 400 s in ballistic flight
(assumptions); a new track starts 70 % boost, 20 % ballistic, 10 % re-entry (threats are
usually first seen boosting).  Re-entry is entered only below 100 km (``entry_alt_m``, at
the combined estimate): above it there is no air, and a chain free to enter it there is
drawn in by one stray report (a spent booster's, a few hundred metres from the warhead)
and, one-way, never leaves (docs/models.md, the multi-target tracker).  These are noise
levels, not different equations of motion: a drag or thrust model with its own state (ballistic coefficient, thrust
acceleration) would be the next step.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from shieldlab import earth
from shieldlab.tracking import ekf


class Regimes(NamedTuple):
    """The IMM's motion regimes: names, white-noise acceleration levels ``q`` [m²/s³],
    mean sojourn times [s], the probabilities a new track starts with, and the altitude
    [m] below which the chain may enter each regime (``inf``: anywhere)."""

    names: tuple[str, ...] = ("boost", "ballistic", "re-entry")
    q: tuple[float, ...] = (1e5, 1e-2, 1e2)
    sojourn_s: tuple[float, ...] = (60.0, 400.0, np.inf)
    mu0: tuple[float, ...] = (0.7, 0.2, 0.1)
    entry_alt_m: tuple[float, ...] = (np.inf, np.inf, 100e3)

    def kernel_args(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``q``, ``sojourn_s``, ``mu0``, ``entry_alt_m`` as float arrays (M,), the order the
        trackers' kernels take them in."""
        f = np.asarray
        return f(self.q, float), f(self.sojourn_s, float), f(self.mu0, float), f(self.entry_alt_m, float)


DEFAULT = Regimes()


def transition(dt: float, regimes: Regimes = DEFAULT, alt: np.ndarray | None = None) -> np.ndarray:
    """Regime transition probabilities over ``dt`` [s], ``p[i, j]`` from ``i`` to ``j``: a
    missile's flight goes one way, boost → ballistic → re-entry, so ``p_ii = exp(-|dt| /
    τ_i)`` and the rest goes to the next regime; the last one stays.  With ``alt`` (...,)
    [m], the estimates' altitudes: (..., M, M), a regime not entered above its
    ``entry_alt_m`` (the chain stays where it is instead)."""
    M = len(regimes.q)
    stay = np.exp(-abs(float(dt)) / np.asarray(regimes.sojourn_s, float))
    stay[-1] = 1.0
    p = np.zeros((M, M))
    p[np.arange(M), np.arange(M)] = stay
    p[np.arange(M - 1), np.arange(1, M)] = 1.0 - stay[:-1]
    if alt is None:
        return p
    alt = np.asarray(alt, float)
    closed = alt[..., None] > np.asarray(regimes.entry_alt_m, float)  # (..., M): regime j not enterable
    p = np.broadcast_to(p, alt.shape + (M, M)).copy()
    nxt = np.arange(1, M)
    shut = closed[..., 1:]  # the move from i to i + 1 where i + 1 is shut
    p[..., np.arange(M - 1), np.arange(M - 1)] += np.where(shut, p[..., np.arange(M - 1), nxt], 0.0)
    p[..., np.arange(M - 1), nxt] = np.where(shut, 0.0, p[..., np.arange(M - 1), nxt])
    return p


def combine(xm: np.ndarray, Pm: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The moment-matched estimate (x (..., 6), P (..., 6, 6)) of the regimes' estimates
    ``xm`` (..., M, 6), ``Pm`` (..., M, 6, 6) with probabilities ``mu`` (..., M)."""
    x = np.einsum("...j,...jk->...k", mu, xm)
    d = xm - x[..., None, :]
    P = np.einsum("...j,...jkl->...kl", mu, Pm) + np.einsum("...j,...jk,...jl->...kl", mu, d, d)
    return x, 0.5 * (P + np.swapaxes(P, -1, -2))


def predict(xm: np.ndarray, Pm: np.ndarray, mu: np.ndarray, dt: float, regimes: Regimes = DEFAULT,
            q: np.ndarray | None = None):
    """Mix and predict by ``dt`` [s]: ``(xm, Pm, mu)`` with the predicted regime probabilities.
    ``q`` (..., M) [m²/s³], optional: each regime's noise level per estimate instead of
    ``regimes.q`` (a floor raised where drag acts, as the multi-target tracker does).  A
    regime is entered only below its ``entry_alt_m``, read at the combined estimate."""
    x = np.einsum("...j,...jk->...k", mu, np.nan_to_num(xm))
    alt = earth.ecef_to_geodetic(np.where(np.isfinite(x[..., :3]).all(-1, keepdims=True) &
                                          (np.linalg.norm(x[..., :3], axis=-1, keepdims=True) > 0),
                                          x[..., :3], earth.WGS84_A))[2]
    p = transition(dt, regimes, alt)
    c = np.einsum("...i,...ij->...j", mu, p)  # (..., M)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = mu[..., :, None] * p / c[..., None, :]  # mu_{i|j} (..., i, j)
    # a regime nothing can reach (its odds underflowed to zero, and no regime moves into it:
    # boost after burnout, re-entry above its altitude) starts from the combined estimate; it
    # weighs nothing, but 0/0 would make its filter nan, and 0 * nan the whole track
    w = np.where((c > 0.0)[..., None, :], w, mu[..., :, None])
    x0 = np.einsum("...ij,...ik->...jk", w, xm)
    d = xm[..., :, None, :] - x0[..., None, :, :]  # (..., i, j, 6)
    P0 = np.einsum("...ij,...ikl->...jkl", w, Pm) + np.einsum("...ij,...ijk,...ijl->...jkl", w, d, d)
    xm, Pm = ekf.predict(x0, P0, dt, np.asarray(regimes.q, float) if q is None else q)
    return xm, Pm, c


def update(xm: np.ndarray, Pm: np.ndarray, mu: np.ndarray, z: np.ndarray, R: np.ndarray, site_ecef: np.ndarray,
           site_enu_matrix: np.ndarray, mask: np.ndarray):
    """Update every regime's filter with one (range, az, el) report per batch element and
    the regime probabilities with their likelihoods; ``mask`` False: unchanged.  Returns
    ``(xm, Pm, mu)``."""
    mask = np.broadcast_to(np.asarray(mask, bool), mu.shape[:-1])
    m = mask[..., None]
    # each regime's innovation covariance, for its likelihood (the stand-in where masked is
    # harmless: those rows keep their probabilities)
    xs = np.where(m[..., None], xm, np.nan_to_num(xm))
    _, H = ekf.measure_aer(xs, site_ecef, site_enu_matrix)
    S = H @ np.where(m[..., None, None], Pm, np.eye(6)) @ np.swapaxes(H, -1, -2) + R
    log_det = np.linalg.slogdet(S)[1]
    xm_new, Pm_new, nis = ekf.update(xm, Pm, z[..., None, :], R, site_ecef, site_enu_matrix, m)
    log_like = -0.5 * (nis + log_det)
    log_post = np.log(np.maximum(mu, 1e-300)) + np.where(m, log_like, 0.0)
    log_post -= np.max(log_post, axis=-1, keepdims=True)
    post = np.exp(log_post)
    post /= post.sum(axis=-1, keepdims=True)
    return xm_new, Pm_new, np.where(m, post, mu)
