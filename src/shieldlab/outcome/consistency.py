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
control's launch gate (``doctrine.track_quality_sigma``) and the threat evaluation read the covariance
as the truth about the track's error.  A mean well below 6 is a pessimistic filter.

Per run, over the updates scored (the confirmed tracks of a threat while it flies):
``mean_nees`` (ANEES), ``nees_over_99`` (the share of updates above 16.81) and
``nees_updates`` (how many: over M updates a consistent filter's ANEES lies within
``χ²₆ₘ/M``'s band, ~6 ± 2·sqrt(12/M)).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from scipy import special

from shieldlab.tracking.records import CovarianceHistory

#: Degrees of freedom of the state's NEES (ECEF position and velocity).
NEES_DOF = 6
#: The 99 % point of chi-square with :data:`NEES_DOF` degrees of freedom (16.81).
NEES_99 = 2.0 * float(special.gammaincinv(0.5 * NEES_DOF, 0.99))


def nees(err: np.ndarray, P, where: tuple | None = None) -> np.ndarray:
    """NEES ``eᵀ P⁻¹ e`` of errors ``err`` (M, 6) with covariances ``P``: (M, 6, 6), or, with
    ``where`` (a tuple of M-element index arrays), the covariances ``P[where]`` of a larger
    array or :class:`~shieldlab.tracking.records.CovarianceHistory` (read where they are
    stored, not gathered first).  ``nan`` where the covariance holds a ``nan`` or is not
    positive definite (its Cholesky factorisation, of the lower triangle, fails)."""
    err = np.ascontiguousarray(err, float)
    if where is None:
        data = np.ascontiguousarray(P, float).reshape(-1, 6, 6)
        rows = np.arange(err.shape[0], dtype=np.int64)
    elif isinstance(P, CovarianceHistory):
        data, rows = P.data, np.ascontiguousarray(P.index[where], np.int64)
    else:
        data = np.ascontiguousarray(np.asarray(P, float)[where]).reshape(-1, 6, 6)
        rows = np.arange(err.shape[0], dtype=np.int64)
    out = np.empty(err.shape[0])
    _nees_rows(err, np.ascontiguousarray(data), rows, out)
    return out


@nb.njit(cache=True, error_model="numpy")
def _nees_rows(err, data, rows, out):
    """``out[m] = err[m]ᵀ data[rows[m]]⁻¹ err[m]`` by a Cholesky factor of the 6 × 6 matrix
    (``nan`` where ``rows[m] < 0``, a number is not finite, or a pivot is not positive):
    compiled, as a run scores some 1,700 updates a run (``numpy.linalg`` on 6 × 6 batches
    cost a tenth of the chain)."""
    L = np.empty((6, 6))
    y = np.empty(6)
    for m in range(err.shape[0]):
        out[m] = np.nan
        r = rows[m]
        if r < 0:
            continue
        A = data[r]
        ok = True
        for i in range(6):
            if not math.isfinite(err[m, i]):
                ok = False
            for j in range(i + 1):
                s = A[i, j]
                if not math.isfinite(s):
                    ok = False
                for k in range(j):
                    s -= L[i, k] * L[j, k]
                if i == j:
                    if not s > 0.0:
                        ok = False
                        break
                    L[i, i] = math.sqrt(s)
                else:
                    L[i, j] = s / L[j, j]
            if not ok:
                break
        if not ok:
            continue
        total = 0.0
        for i in range(6):  # L y = e, NEES = y·y
            s = err[m, i]
            for k in range(i):
                s -= L[i, k] * y[k]
            y[i] = s / L[i, i]
            total += y[i] * y[i]
        out[m] = total


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
