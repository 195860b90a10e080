"""Confidence intervals for the probabilities and means a Monte Carlo run prints.

Binomial proportions (``k`` successes in ``n`` runs, point estimate ``p = k / n``;
``z = Phi^-1(1 - alpha / 2)``, ``alpha = 1 - confidence``):

* **Wilson score** (E. B. Wilson, "Probable inference, the law of succession, and
  statistical inference", J. Amer. Statist. Assoc. 22, 1927; recommended by L. D. Brown,
  T. T. Cai & A. DasGupta, "Interval estimation for a binomial proportion", Statist. Sci.
  16(2), 2001)::

      centre = (p + z^2 / (2 n)) / (1 + z^2 / n)
      half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / (4 n^2))

  the interval ``centre -/+ half``: never outside [0, 1], never of zero width at
  ``k = 0`` or ``k = n``, and close to its nominal coverage down to small ``n``.
* **Clopper-Pearson** (C. J. Clopper & E. S. Pearson, Biometrika 26, 1934), the exact
  interval from the beta quantiles ``B``::

      lo = B(alpha / 2; k, n - k + 1)       (0 when k = 0)
      hi = B(1 - alpha / 2; k + 1, n - k)   (1 when k = n)

  conservative: its coverage is never below the nominal level.  At ``k = 0`` the upper
  end is ``1 - (alpha / 2)^(1 / n)``.

:func:`runs_for_half_width` inverts the Wilson half-width: it decreases in ``n`` for
every ``p`` (its derivative has the sign of ``-a n / 2 + z^2 (a / 2 - 1 / 4) <= 0``,
``a = p (1 - p) <= 1/4``), so the least ``n`` is the larger root of
``z^2 (a n + z^2 / 4) = h^2 (n + z^2)^2``, rounded up.  At ``p = 1/2`` (the worst case)
the half-width is ``z / (2 sqrt(n + z^2))``, so ``n >= z^2 (1 / (4 h^2) - 1)``: 381 runs
for +/- 0.05 at 95 % (the Wald formula ``z^2 / (4 h^2)`` would say 385).

Means of per-run values (leakers per raid, ...): ``mean -/+ t s / sqrt(n)``, ``s`` the
sample standard deviation (``n - 1`` in the denominator) and ``t`` the Student-t quantile
with ``n - 1`` degrees of freedom (it tends to the normal ``z`` for large ``n``): the
normal approximation of the sampling distribution of the mean (central limit theorem)
with Student's small-sample correction.  Quantiles come from :mod:`scipy.special` (``ndtri``,
``betaincinv``, ``stdtrit``: what :mod:`scipy.stats` computes them with, equal to the bit,
without importing all of :mod:`scipy.stats`, which weighs ~20 MB in every process).

Means over items that runs hold several of (the delay to the first engagement of each
threat engaged, pooled over raids): the items of one run are not independent, the runs
are.  :func:`ratio_interval` takes each run's sum ``y_r`` and count ``m_r``; the pooled mean
is the ratio ``R = sum y / sum m`` and its standard error the linearised (delta-method,
cluster) one, ``se^2 = sum (y_r - R m_r)^2 / (n (n - 1) mbar^2)`` over the ``n`` runs with
``mbar = sum m / n`` (the ratio estimator's variance estimate of W. G. Cochran, *Sampling
Techniques*, 3rd ed., Wiley 1977, ch. 6, without the finite-population factor), with the Student-t quantile of ``n - 1``
degrees of freedom as above.  Where every run holds the same number of items it is the t
interval of the runs' own means; runs with no item add to ``n`` alone.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from scipy import special as _sp

__all__ = ["wilson_interval", "clopper_pearson_interval", "runs_for_half_width", "mean_interval", "ratio_interval"]


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return float(_sp.ndtri(0.5 + 0.5 * confidence))


def _counts(k, n):
    k, n = np.asarray(k), np.asarray(n)
    kf, nf = np.broadcast_arrays(k.astype(float), n.astype(float))
    if np.any(nf < 0) or np.any(kf < 0) or np.any(kf > nf) or not np.all(np.isfinite(kf) & np.isfinite(nf)):
        raise ValueError("need 0 <= k <= n (finite counts)")
    return kf, nf


def _out(lo, hi):
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def wilson_interval(k, n, confidence: float = 0.95):
    """Wilson score interval ``(lo, hi)`` for ``k`` successes in ``n`` trials.

    ``k``, ``n`` broadcast together (arrays give arrays, scalars give floats); ``n = 0``
    gives the vacuous ``(0, 1)``.  Raises ``ValueError`` unless ``0 <= k <= n``.
    """
    z = _z(confidence)
    k, n = _counts(k, n)
    z2 = z * z
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1.0 + z2 / n
        centre = (p + z2 / (2.0 * n)) / den
        half = z / den * np.sqrt(np.maximum(p * (1.0 - p) / n, 0.0) + z2 / (4.0 * n * n))
        lo = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), 0.0)
        hi = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), 1.0)
    # exact ends at the edges (the formula gives them up to round-off)
    lo = np.where(k == 0, 0.0, lo)
    hi = np.where((k == n) & (n > 0), 1.0, hi)
    return _out(lo, hi)


def clopper_pearson_interval(k, n, confidence: float = 0.95):
    """Exact (Clopper-Pearson) interval ``(lo, hi)`` for ``k`` successes in ``n`` trials.

    Same conventions as :func:`wilson_interval`.
    """
    alpha = 1.0 - confidence
    _z(confidence)
    k, n = _counts(k, n)
    with np.errstate(invalid="ignore"):
        lo = np.where(k > 0, _sp.betaincinv(np.maximum(k, 1.0), n - k + 1.0, 0.5 * alpha), 0.0)
        hi = np.where(k < n, _sp.betaincinv(k + 1.0, np.maximum(n - k, 1.0), 1.0 - 0.5 * alpha), 1.0)
    return _out(lo, hi)


def _wilson_half_width(n: float, p: float, z: float) -> float:
    return z * math.sqrt(n * p * (1.0 - p) + 0.25 * z * z) / (n + z * z)


MAX_COUNT = 2**53  # the largest run count runs_for_half_width returns


def runs_for_half_width(half_width: float, p: float = 0.5, confidence: float = 0.95) -> int:
    """Least number of runs whose Wilson interval at proportion ``p`` has half-width <= ``half_width``.

    ``p = 0.5`` is the worst case (the widest interval for a given ``n``).  Raises
    ``ValueError`` unless ``0 < half_width < 0.5`` and ``0 <= p <= 1``, and for a
    half-width so small that it needs more than :data:`MAX_COUNT` (2^53) runs.
    """
    h, p = float(half_width), float(p)
    if not 0.0 < h < 0.5:
        raise ValueError(f"half_width must be in (0, 0.5), got {half_width}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    z = _z(confidence)
    # past 2^53 runs a count is no longer exact in floating point: refuse such half-widths
    # (checked with the half-width itself, which neither divides by h nor overflows)
    if _wilson_half_width(float(MAX_COUNT), p, z) > h:
        raise ValueError(f"half_width {half_width:g} needs more than {MAX_COUNT:,} runs")
    z2, a = z * z, p * (1.0 - p)
    # h^2 n^2 + (2 h^2 z^2 - z^2 a) n + h^2 z^4 - z^4 / 4 >= 0: the larger root
    A, B, C = h * h, 2.0 * h * h * z2 - z2 * a, h * h * z2 * z2 - 0.25 * z2 * z2
    disc = max(B * B - 4.0 * A * C, 0.0)
    n = max(1, math.ceil((-B + math.sqrt(disc)) / (2.0 * A)))
    # guard the rounding of the root: step to the exact least n
    while n > 1 and _wilson_half_width(n - 1, p, z) <= h:
        n -= 1
    while _wilson_half_width(n, p, z) > h:
        n += 1
    return int(n)


class MeanCI(NamedTuple):
    """A mean and its interval (a tuple: ``mean, lo, hi = ...`` as before it had names)."""

    mean: Any  # float, or an array for an array's axis
    lo: Any
    hi: Any


def mean_interval(x, confidence: float = 0.95, axis: int = 0, lower: float | None = None,
                  upper: float | None = None) -> MeanCI:
    """Mean of per-run values and its interval: ``MeanCI(mean, lo, hi)``.

    ``mean -/+ t_{n-1} s / sqrt(n)`` along ``axis`` (module docstring); scalars for 1-D
    input.  With one value the interval is undefined: ``lo = hi = nan``.  ``lower``,
    ``upper``: the bounds no value can pass (0 for a count, the number of threats for the
    leakers of a raid); the interval is cut at them, since the symmetric t interval of a few
    runs can reach past them (−1.85 leakers).

    All values equal (``x`` in every run): the t interval shrinks to the point, which claims
    a certainty n runs cannot give (32 runs without a leaker beside "P(no leaker) 0.89-1.00").
    Where both bounds are given the interval is then the exact one of a bounded mean: the
    share of runs that would differ from ``x`` is at most ``u = 1 - (α/2)^(1/n)`` (the
    Clopper-Pearson bound for 0 of n; α = 1 - confidence), and such a run lies at worst on a
    bound, so ``lo = x - (x - lower) u`` and ``hi = x + (upper - x) u`` (0 to 0.22 leakers of 2
    after 32 clean runs).  Without both bounds the interval stays the point.
    """
    _z(confidence)
    x = np.asarray(x, float)
    n = x.shape[axis]
    if n == 0:
        raise ValueError("mean_interval needs at least one value")
    mean = x.mean(axis=axis)
    if n == 1:
        nan = np.full_like(mean, np.nan)
        lo, hi = nan, nan.copy()
    else:
        sem = x.std(axis=axis, ddof=1) / math.sqrt(n)
        half = float(_sp.stdtrit(n - 1, 0.5 + 0.5 * confidence)) * sem
        lo, hi = mean - half, mean + half
        if lower is not None:
            lo = np.maximum(lo, lower)
        if upper is not None:
            hi = np.minimum(hi, upper)
        if lower is not None and upper is not None:
            same = np.ptp(x, axis=axis) == 0.0
            if np.any(same):
                u = clopper_pearson_interval(0, n, confidence)[1]
                lo = np.where(same, mean - (mean - lower) * u, lo)
                hi = np.where(same, mean + (upper - mean) * u, hi)
    if np.ndim(mean) == 0:
        return MeanCI(float(mean), float(lo), float(hi))
    return MeanCI(mean, lo, hi)


def ratio_interval(sums, counts, confidence: float = 0.95) -> MeanCI:
    """The mean of items pooled over runs, ``sum(sums) / sum(counts)``, and its interval
    (module docstring: the ratio estimator's linearised standard error with the runs as
    clusters, Student t on ``n - 1`` degrees of freedom).  ``sums``, ``counts`` (n,): each
    run's sum of its items and their number.  nan without items; ``lo = hi = nan`` from
    fewer than two runs with items, where no spread between runs is seen."""
    _z(confidence)
    y, m = np.asarray(sums, float).ravel(), np.asarray(counts, float).ravel()
    if y.shape != m.shape or (m < 0).any():
        raise ValueError("sums and counts must be of the same length, counts not negative")
    n, total = y.size, float(m.sum())
    nan = float("nan")
    if total == 0:
        return MeanCI(nan, nan, nan)
    r = float(y.sum()) / total
    if n < 2 or int((m > 0).sum()) < 2:
        return MeanCI(r, nan, nan)
    mbar = total / n
    se = math.sqrt(float(np.sum((y - r * m) ** 2)) / (n * (n - 1) * mbar**2))
    half = float(_sp.stdtrit(n - 1, 0.5 + 0.5 * confidence)) * se
    return MeanCI(r, r - half, r + half)
