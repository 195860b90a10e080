"""Filter consistency: does a track's covariance say how wrong its state is?

Scoring may read the truth; nothing here goes back into the kill chain.  The normalised
estimation error squared of a track update (Bar-Shalom, Li & Kirubarajan, *Estimation with
Applications to Tracking and Navigation*, Wiley 2001, §5.4.2)::

    NEES = (x̂ − x)ᵀ P⁻¹ (x̂ − x)

with ``x̂`` the track's ECEF state (position [m] and velocity [m/s], 6 numbers), ``P`` its
covariance and ``x`` the truth at the update's time.  For a filter whose covariance is
honest and whose errors are Gaussian, NEES follows a chi-square law of 6 degrees of
freedom: its mean (ANEES) is 6, and 1 % of the updates exceed the distribution's 99 % point
(16.81).  A mean well above 6, or many more than 1 % above that point, is a filter that
believes itself better than it is (overconfident), which is what matters downstream: fire
control's launch gate (``doctrine.gate_k``) and the threat evaluation read the covariance
as the truth about the track's error.  A mean well below 6 is a pessimistic filter.

Per run, over the updates scored (the confirmed tracks of a threat while it flies):
``mean_nees`` (ANEES), ``nees_over_99`` (the share of updates above 16.81) and
``nees_updates`` (how many: over M updates a consistent filter's ANEES lies within
``χ²₆ₘ/M``'s band, ~6 ± 2·sqrt(12/M)).
"""

from __future__ import annotations

import numpy as np
from scipy import special

#: Degrees of freedom of the state's NEES (ECEF position and velocity).
NEES_DOF = 6
#: The 99 % point of chi-square with :data:`NEES_DOF` degrees of freedom (16.81).
NEES_99 = 2.0 * float(special.gammaincinv(0.5 * NEES_DOF, 0.99))


def nees(err: np.ndarray, P: np.ndarray) -> np.ndarray:
    """NEES ``eᵀ P⁻¹ e`` of errors ``err`` (M, 6) with covariances ``P`` (M, 6, 6); ``nan``
    where ``P`` holds a ``nan`` or is not positive definite (its symmetric part's eigenvalues
    decide)."""
    err = np.asarray(err, float)
    P = np.asarray(P, float)
    out = np.full(err.shape[0], np.nan)
    ok = np.isfinite(P).all(axis=(1, 2)) & np.isfinite(err).all(axis=1)
    if not ok.any():
        return out
    lam, V = np.linalg.eigh(0.5 * (P[ok] + np.swapaxes(P[ok], 1, 2)))
    proj = np.einsum("mij,mi->mj", V, err[ok])  # the error in P's principal axes
    with np.errstate(divide="ignore", invalid="ignore"):
        val = np.sum(proj * proj / lam, axis=1)
    out[ok] = np.where(lam[:, 0] > 0.0, val, np.nan)
    return out


def per_run(run: np.ndarray, values: np.ndarray, C: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean_nees, nees_over_99, nees_updates)`` (C,) each of NEES ``values`` (M,) scored for
    runs ``run`` (M,) of a chunk of ``C``: the mean, the share above :data:`NEES_99` (``nan``
    where a run has none) and how many were scored (int)."""
    keep = np.isfinite(values)
    run, values = run[keep], values[keep]
    n = np.bincount(run, minlength=C)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(run, values, minlength=C) / n
        over = np.bincount(run, (values > NEES_99).astype(float), minlength=C) / n
    return np.where(n > 0, mean, np.nan), np.where(n > 0, over, np.nan), n
