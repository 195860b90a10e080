"""Compiled assembly of each scan's set of reports (:func:`shieldlab.sensors.scans.scan_reports`).

Each run's reports of a scan are the threats' detections, the spent boosters' and the false
alarms', in an order drawn at random, the empty slots last.  In NumPy that was a dozen calls
on (scans, slots) arrays per run and radar (concatenations, an argsort, five
``take_along_axis``), ~6 ms each, most of ``scan_reports``' time under false alarms.  Here one
pass over the runs and scans does the same with the same draws: the slots of each scan that
hold a report, sorted by their drawn keys (stably: a tie keeps the slot order, as NumPy's stable
argsort does), written to the output in that order.  Every value is copied, none computed,
so the output is the NumPy form's to the bit (:func:`shieldlab.sensors.scans._assemble_numpy`
is kept as the reference; tests).
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def assemble(z_obj, det_obj, scale_obj, z_bst, det_bst, scale_bst, n_fa, fa_z, fa_off, keys, key_off, obj_call,
             fa_call, fa_scale, false_alarm, no_call, use_call, z_out, valid_out, scale_out, tid_out, call_out):
    """Write every run's scans of reports into the output arrays, which come filled as empty
    slots (nan, False, 1, NO_REPORT, NO_CALL) and hold ``M`` slots a scan.

    Per run ``c``: the threats' reports ``z_obj`` (C, N, K, 3) where ``det_obj`` (C, N, K), their
    range-noise factors ``scale_obj``; the boosters' ``z_bst``, ``det_bst``, ``scale_bst`` (the
    same shapes); ``n_fa`` (C, K) false alarms a scan, their measurements ``fa_z`` (sum, 3) and
    discrimination calls ``fa_call`` (sum,) int8, run ``c``'s from ``fa_off[c]``, scan by scan;
    ``keys`` the drawn sort keys, run ``c``'s (K, 2N + F_c) from ``key_off[c]`` (row-major);
    ``obj_call`` (C, 2N) int8 the threats' and boosters' calls; ``use_call``: whether calls are
    made at all (else every slot is ``no_call``).  Outputs ``z_out`` (C, K, M, 3),
    ``valid_out``, ``scale_out``, ``tid_out`` (int32), ``call_out`` (int8) (C, K, M)."""
    C, N, K = det_obj.shape
    M = valid_out.shape[2]
    idx = np.empty(2 * N + M + 1, np.int64)
    for c in range(C):
        W = (key_off[c + 1] - key_off[c]) // K if K > 0 else 0
        if W > idx.size:
            idx = np.empty(W, np.int64)
        fa_at = fa_off[c]
        for k in range(K):
            base = key_off[c] + k * W
            n = 0
            for j in range(W):
                if j < N:
                    v = det_obj[c, j, k]
                elif j < 2 * N:
                    v = det_bst[c, j - N, k]
                else:
                    v = (j - 2 * N) < n_fa[c, k]
                if not v:
                    continue
                key = keys[base + j]
                i = n
                while i > 0 and keys[base + idx[i - 1]] > key:  # insertion: stable on ties
                    idx[i] = idx[i - 1]
                    i -= 1
                idx[i] = j
                n += 1
            for i in range(min(n, M)):
                j = idx[i]
                if j < N:
                    for a in range(3):
                        z_out[c, k, i, a] = z_obj[c, j, k, a]
                    scale_out[c, k, i] = scale_obj[c, j, k]
                    tid_out[c, k, i] = j
                    call = obj_call[c, j]
                elif j < 2 * N:
                    for a in range(3):
                        z_out[c, k, i, a] = z_bst[c, j - N, k, a]
                    scale_out[c, k, i] = scale_bst[c, j - N, k]
                    tid_out[c, k, i] = j  # the booster of threat n is object N + n
                    call = obj_call[c, j]
                else:
                    f = fa_at + (j - 2 * N)
                    for a in range(3):
                        z_out[c, k, i, a] = fa_z[f, a]
                    scale_out[c, k, i] = fa_scale
                    tid_out[c, k, i] = false_alarm
                    call = fa_call[f]
                valid_out[c, k, i] = True
                call_out[c, k, i] = call if use_call else no_call
            fa_at += n_fa[c, k]
