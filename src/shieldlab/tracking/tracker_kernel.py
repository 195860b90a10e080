"""Compiled steps of the labelled tracker (:func:`shieldlab.tracking.tracker.track`), EKF.

One filter per (run, threat), a predict per update time and an assimilation per sensor
scan: in NumPy each is a dozen calls on (runs, threats) arrays, whose overhead set the
tracker's cost.  Here each is one pass over the rows, with the EKF's compiled predict,
update and one-point initiation (:mod:`shieldlab.tracking.ekf_kernel`) and the NIS
adaptation of :func:`shieldlab.tracking.tracker.adapt_noise`.  NumPy's ``exp`` and ``log``
and the C library's may differ in the last bit; the NumPy steps stay the reference
(``track(..., compiled=False)``; a test holds the two to 1e-9).
"""

from __future__ import annotations

import math

import numba as nb

from shieldlab.tracking.ekf_kernel import _predict_one, _predict_scratch, _update_one, _update_scratch, init_one

# tracker.NIS_GAIN_UP and NIS_GAIN_DOWN (tracker imports this module; a test holds them equal)
_NIS_GAIN_UP, _NIS_GAIN_DOWN = 1.0, 0.5


@nb.njit(cache=True, error_model="numpy", inline="always")
def adapt_one(log_lam, nis, log_lam_max):
    """:func:`shieldlab.tracking.tracker.adapt_noise` of one updated filter: the noise level
    ``ln λ`` after an update of normalised innovation squared ``nis``."""
    step = math.log(max(nis, 1e-12) / 3.0)
    step = (_NIS_GAIN_UP if step > 0 else _NIS_GAIN_DOWN) * step
    return min(max(log_lam + step, 0.0), log_lam_max)


@nb.njit(cache=True, error_model="numpy")
def predict_started(x, P, log_lam, n, h, q_ballistic):
    """Predict the rows of ``x`` (B, 6), ``P`` (B, 6, 6) that hold a track (a finite state) by
    ``n`` substeps of ``h`` seconds, with process noise ``q_ballistic · exp(log_lam)``."""
    A, Phi, T, k1, k2, k3, k4, tmp = _predict_scratch()
    for b in range(x.shape[0]):
        if math.isfinite(x[b, 0]):
            _predict_one(x[b], P[b], n, h, q_ballistic * math.exp(log_lam[b]), A, Phi, T, k1, k2, k3, k4, tmp)


@nb.njit(cache=True, error_model="numpy")
def assimilate_rows(x, P, started, log_lam, n_hits, z, R, det, site, enu, site0, trig, sigma_v0, log_lam_max):
    """One sensor's reports at one time: where ``det`` (B,), a track not yet started starts
    from its report ``z`` (B, 3) with noise ``R`` (B, 3, 3) (one-point initiation from the
    geodetic site ``site0`` with ``trig``, at the top noise level ``log_lam_max``), a started
    one is updated and its noise level adapted; ``n_hits`` counts the reports."""
    H, PHt, S, Si, K, IKH, T, J, nu = _update_scratch()
    for b in range(x.shape[0]):
        if not det[b]:
            continue
        if not started[b]:
            init_one(z[b], R[b], site0, trig, sigma_v0, x[b], P[b])
            log_lam[b] = log_lam_max
        else:
            nis = _update_one(x[b], P[b], z[b], R[b], site, enu, H, PHt, S, Si, K, IKH, T, J, nu)
            log_lam[b] = adapt_one(log_lam[b], nis, log_lam_max)
        started[b] = True
        n_hits[b] += 1
