"""A C2 node's air picture: its own tracks and those received over links, fused on a time grid.

At each time of the grid (fire control's planning ticks), every source
(the node's local tracks, then each received picture) offers its latest
confirmed state at or before that time, predicted ballistically to it with the
process noise its filter held (``Tracks.q``, :func:`shieldlab.tracking.tracker.coast`:
a track last updated in boost grows as fast as its own filter would have grown it);
a state predicted
more than :data:`shieldlab.tracking.tracker.IMPACTED_DEPTH_M` into the ground has come
down, and its source no longer holds the threat.  The
states of the sources that hold a threat are fused.  Before any source holds a threat, the
node's own tentative track (its tracker's unconfirmed states, predicted the same way) is the
picture's history of it, unconfirmed: the tracker's own file keeps those states, and fire
control's thrust test reads the detections before a track's confirmation (one picture of all
sensors gives it them; without them every newly shared track looked too young to judge):

``"ci"``     covariance intersection (:func:`shieldlab.c2.fusion.covariance_intersection`,
             trace criterion): consistent whatever the correlation between the
             sources — and they are correlated, through common process noise and
             shared sensors or relayed tracks;
``"naive"``  the information sum (:func:`shieldlab.c2.fusion.naive_fusion`), which
             counts common errors twice; for comparison only;
``"best"``   the source with the smallest covariance trace.

Threats are associated by index (threat n of every source is threat n): no
track-to-track correlation here (see :func:`shieldlab.c2.fusion.correlate`).
States WGS84 ECEF [m, m/s], times in seconds from the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shieldlab.c2.fusion import covariance_intersection, naive_fusion
from shieldlab.c2.links import TIME_TOL_S
from shieldlab.tracking.records import Tracks, compact_history
from shieldlab.tracking.tracker import came_down, coast

METHODS = ("ci", "naive", "best")
#: Batch elements (times × runs × threats) gathered before each fusion call: bounds memory, amortises the calls.
CHUNK_ELEMENTS = 1 << 15


@dataclass(frozen=True)
class NodePicture:
    """A node's fused air picture.

    Attributes
    ----------
    tracks : Tracks
        On the requested time grid; ``x[..., k, :]`` is valid at ``t[k]``.
        ``n_hits`` is the sum of the detection counts of the sources holding the
        threat (it grows while the threat is held, so a rise means new detections);
        ``confirmed`` is true while any source holds the threat: from the first time one does
        until every source's prediction has come down.  ``q`` is the highest noise level
        among the sources in the estimate (what a later prediction of the fused state uses).
    lineage : (C, N, K) uint32
        Bit s set when source s went into the estimate (bit 0: the local
        tracks, bit i: ``remotes[i - 1]``): every source holding the threat for
        ``"ci"`` and ``"naive"``, the chosen one for ``"best"``.
    source_names : tuple of str
        System name of each source, in bit order (``""`` for a missing local picture).
    """

    tracks: Tracks
    lineage: np.ndarray
    source_names: tuple[str, ...]


def _ci_trace_weights_pair(P1: np.ndarray, P2: np.ndarray, iterations: int = 50) -> np.ndarray:
    """Trace-minimising CI weights (ω, 1 − ω) of two tracks, (E, 6, 6) each -> (E, 2).

    The same minimiser as :func:`shieldlab.c2.fusion.covariance_intersection`
    finds, in a fraction of its time: there every bisection step inverts the
    batch of 6 × 6 matrices; here one whitening reduces the trace to a scalar
    rational function.  With P₁ = L Lᵀ and L⁻¹ P₂ L⁻ᵀ = U diag(d) Uᵀ,

        tr (ω P₁⁻¹ + (1 − ω) P₂⁻¹)⁻¹ = Σⱼ cⱼ dⱼ / (1 + ω (dⱼ − 1)),   cⱼ = |(L U)ⱼ|²,

    convex in ω; bisection on the sign of its derivative, end points where it
    does not change sign (as there).
    """
    L = np.linalg.cholesky(P1)
    Linv = np.linalg.inv(L)
    d, U = np.linalg.eigh(Linv @ P2 @ np.swapaxes(Linv, -1, -2))
    cd = np.sum((L @ U) ** 2, axis=-2) * d  # (E, 6)

    def slope(om):
        return -np.sum(cd * (d - 1.0) / (1.0 + om[:, None] * (d - 1.0)) ** 2, axis=-1)

    # slopes within rounding of 0 (e.g. equal covariances, where every ω gives the same P)
    # count as 0, so such ties land in the middle rather than on an end by the sign of noise
    tol = 1e-12 * np.sum(np.abs(cd), axis=-1)
    lo, hi = np.zeros(d.shape[0]), np.ones(d.shape[0])
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        g = slope(mid)
        lo = np.where(g <= tol, mid, lo)
        hi = np.where(g >= -tol, mid, hi)
    om = 0.5 * (lo + hi)
    om = np.where(slope(np.zeros_like(om)) > tol, 0.0, np.where(slope(np.ones_like(om)) < -tol, 1.0, om))
    return np.stack([om, 1.0 - om], axis=-1)


def _fuse(xs: np.ndarray, Ps: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fuse (E, S, 6) states / (E, S, 6, 6) covariances; returns x, P and the (E, S) bool of sources used."""
    used = np.ones(xs.shape[:2], bool)
    if xs.shape[1] == 1:
        return xs[:, 0], Ps[:, 0], used
    if method == "ci":
        if xs.shape[1] == 2:  # the tracks are a filter's own: no checks (the same numbers)
            x, P, _ = covariance_intersection(xs, Ps, weights=_ci_trace_weights_pair(Ps[:, 0], Ps[:, 1]), check=False)
        else:
            x, P, _ = covariance_intersection(xs, Ps)
        return x, P, used
    if method == "naive":
        x, P = naive_fusion(xs, Ps)
        return x, P, used
    j = np.argmin(np.trace(Ps, axis1=-2, axis2=-1), axis=1)
    e = np.arange(xs.shape[0])
    used = np.arange(xs.shape[1])[None, :] == j[:, None]
    return xs[e, j], Ps[e, j], used


def fuse_picture(local: Tracks | None, remotes: list[Tracks], times, method: str = "ci",
                 node: str | None = None) -> NodePicture:
    """Fuse a node's own tracks with those it received, on the time grid ``times``.

    Parameters
    ----------
    local : Tracks or None
        The node's own tracks, ``x (C, N, K_0, 6)`` etc.; ``None`` for a node without sensors.
    remotes : list of Tracks
        Received pictures (e.g. :func:`shieldlab.c2.links.transmit`), same (C, N).
    times : (K,) float [s]
        Non-decreasing output times.
    method : {"ci", "naive", "best"}
        See the module docstring.
    node : str, optional
        System name of the result (default: the local picture's, else ``"picture"``).

    Returns
    -------
    NodePicture
        Fused picture; before any source holds a threat its state is ``nan``,
        ``n_hits`` 0 and ``confirm_time`` ``inf``; one source passes through
        (predicted to the grid time).
    """
    if method not in METHODS:
        raise ValueError(f"fuse_picture: method must be one of {METHODS}; got {method!r}")
    sources = [local, *remotes]
    if len(sources) > 32:
        raise ValueError(f"fuse_picture: at most 31 remote pictures (32 lineage bits); got {len(remotes)}")
    given = [s for s in sources if s is not None]
    if not given:
        raise ValueError("fuse_picture: no source (local is None and remotes is empty)")
    batch = given[0].x.shape[:2]
    for src in given:
        if src.x.ndim != 4 or src.x.shape[:2] != batch or src.x.shape[-1] != 6:
            raise ValueError(f"fuse_picture: {src.system!r} has x of shape {src.x.shape}; all need (C, N, K, 6) "
                             f"with (C, N) = {batch}")
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or not np.isfinite(times).all() or np.any(np.diff(times) < 0.0):
        raise ValueError("fuse_picture: times must be a finite, non-decreasing 1-D array [s]")
    C, N = batch
    K, S = times.size, len(sources)

    x_out = np.full((K, C, N, 6), np.nan)
    P_out = np.full((K, C, N, 6, 6), np.nan)
    hits_out = np.zeros((K, C, N), np.int32)
    q_out = np.full((K, C, N), np.nan, np.float32)
    lin_out = np.zeros((K, C, N), np.uint32)
    tentative: list[tuple] = []  # (k, c, n, x, P, n_hits, q) of the local source's unconfirmed states
    step = max(1, CHUNK_ELEMENTS // max(1, C * N))
    for k0 in range(0, K, step):
        T = min(K, k0 + step) - k0
        # every source's state predicted to each time of the chunk: (S, T, C, N, ...)
        X = np.full((S, T, C, N, 6), np.nan)
        PP = np.full((S, T, C, N, 6, 6), np.nan)
        QQ = np.full((S, T, C, N), np.nan, np.float32)
        held = np.zeros((T, C, N), np.uint32)
        for s, tr in enumerate(sources):
            if tr is None:
                continue
            # each time's latest update of the source, and every (run, threat) state there at
            # once: one prediction call per source and chunk, each state over its own span
            latest = np.searchsorted(tr.t, times[k0:k0 + T] + TIME_TOL_S, side="right") - 1
            js = np.flatnonzero(latest >= 0)
            if js.size == 0:
                continue
            ii = latest[js]
            span = times[k0 + js] - tr.t[ii]  # (J,)
            xs, Ps, qs = tr.x[:, :, ii], tr.P[:, :, ii], tr.q[:, :, ii]  # (C, N, J, ...)
            finite = np.isfinite(xs).all(axis=-1) & np.isfinite(Ps).all(axis=(-2, -1))
            confirmed = tr.confirmed[:, :, ii]
            if s == 0:
                # the node's own tentative tracks go into its history, unconfirmed (below)
                c_, n_, j_ = np.nonzero(~confirmed & finite)
                if c_.size:
                    xp, Pp = coast(xs[c_, n_, j_], Ps[c_, n_, j_], qs[c_, n_, j_], span[j_])
                    tentative.append((k0 + js[j_], c_, n_, xp, Pp, tr.n_hits[c_, n_, ii[j_]], qs[c_, n_, j_]))
            c_, n_, j_ = np.nonzero(confirmed & finite)
            if c_.size == 0:
                continue
            xp, Pp = coast(xs[c_, n_, j_], Ps[c_, n_, j_], qs[c_, n_, j_], span[j_])
            # a state predicted into the ground has come down: the source no longer holds it
            up = ~came_down(xp)
            c_, n_, j_ = c_[up], n_[up], j_[up]
            j = js[j_]
            X[s, j, c_, n_], PP[s, j, c_, n_], QQ[s, j, c_, n_] = xp[up], Pp[up], qs[c_, n_, j_]
            held[j, c_, n_] |= np.uint32(1 << s)
            hits_out[k0 + j, c_, n_] += tr.n_hits[c_, n_, ii[j_]]
        # fuse each pattern of sources present in one call over the chunk
        # views: written in place
        xf, Pf, qf, lin = x_out[k0:k0 + T], P_out[k0:k0 + T], q_out[k0:k0 + T], lin_out[k0:k0 + T]
        for code in np.unique(held[held != 0]):
            bits = [s for s in range(S) if (int(code) >> s) & 1]
            e = np.nonzero(held == code)
            xs = np.stack([X[s][e] for s in bits], axis=1)
            Ps = np.stack([PP[s][e] for s in bits], axis=1)
            xf[e], Pf[e], used = _fuse(xs, Ps, method)
            qs = np.stack([QQ[s][e] for s in bits], axis=1)
            qf[e] = np.where(used, qs, -np.inf).max(axis=1)
            lin[e] = (used * (np.uint32(1) << np.array(bits, np.uint32))).sum(axis=1, dtype=np.uint32)

    # where no source holds a threat yet, the node's own tentative track is its history, as the
    # tracker's own file keeps it: a track's first firm state then has the detections before
    # it to judge thrust by (threat_eval.observed_pair), as under one picture; unconfirmed, so
    # nothing acts on it
    for k_, c_, n_, xp, Pp, h, qs in tentative:
        free = lin_out[k_, c_, n_] == 0
        e = (k_[free], c_[free], n_[free])
        x_out[e], P_out[e], hits_out[e], q_out[e] = xp[free], Pp[free], h[free], qs[free]
    lineage = np.moveaxis(lin_out, 0, -1)
    confirmed = lineage != 0  # while a source holds the threat (none does once it has come down)
    first = np.argmax(confirmed, axis=-1) if K else np.zeros((C, N), int)
    confirm_time = np.where(confirmed.any(axis=-1), times[first] if K else np.inf, np.inf)
    name = node if node is not None else (local.system if local is not None else "picture")
    fused = Tracks(system=name, t=times, x=np.moveaxis(x_out, 0, -2), P=compact_history(P_out),
                   n_hits=np.moveaxis(hits_out, 0, -1), confirmed=confirmed, confirm_time=confirm_time,
                   q=np.moveaxis(q_out, 0, -1))
    return NodePicture(tracks=fused, lineage=lineage,
                       source_names=tuple("" if s is None else s.system for s in sources))
