"""Small dense linear algebra for compiled row loops (covariances of one filter or track)."""

from __future__ import annotations

import numba as nb


@nb.njit(cache=True, inline="always")
def sandwich(A, P, T, out):
    """``out = A P Aᵀ`` for ``A`` (r, n), ``P`` (n, n), with ``T`` (r, n) as scratch; sums in
    index order.  ``out`` may be ``P`` itself (``T`` holds ``A P`` before it is written)."""
    r, n = A.shape
    for i in range(r):
        for j in range(n):
            acc = 0.0
            for k in range(n):
                acc += A[i, k] * P[k, j]
            T[i, j] = acc
    for i in range(r):
        for j in range(r):
            acc = 0.0
            for k in range(n):
                acc += T[i, k] * A[j, k]
            out[i, j] = acc


@nb.njit(cache=True, inline="always")
def symmetrise(P):
    """``P = (P + Pᵀ) / 2`` in place, for square ``P``."""
    n = P.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            s = 0.5 * (P[i, j] + P[j, i])
            P[i, j] = s
            P[j, i] = s
