"""Track-to-track fusion at a C2 node: correlation, then fusion of the correlated tracks.

A C2 node holds its own (local) tracks and receives the tracks of other nodes
(remote), each a state ``x (..., 6)`` — WGS84 ECEF position [m] and velocity
[m/s], as in :mod:`shieldlab.tracking` — with covariance ``P (..., 6, 6)``, all
at one common time (the caller predicts them there).  Two tracks of the same
target have correlated errors: the same process noise enters both, and they may
share sensors or earlier fused data.  How correlated is usually unknown.
Every function is batched over leading axes ``...``.

Notation: ``Iᵢ = Pᵢ⁻¹`` (information), ``P₁₂ = E[e₁ e₂ᵀ]`` the cross-covariance
of the errors ``eᵢ = xᵢ − x``, ``P₂₁ = P₁₂ᵀ``, ``d = 6`` the state dimension.

Naive fusion (:func:`naive_fusion`) — the information filter for independent errors:

    P⁻¹ = Σᵢ Iᵢ,      x = P Σᵢ Iᵢ xᵢ.

Exact when ``P₁₂ = 0``; with positively correlated errors it counts the common
part twice and ``P`` is too small (inconsistent).  Two equal tracks with error
correlation ``ρ`` (``P₁₂ = ρ P``) give ``P/2`` against a true ``(1 + ρ) P/2``:
the expected NEES is ``6 (1 + ρ)``.

Covariance intersection (:func:`covariance_intersection`; Julier & Uhlmann 1997):

    P⁻¹ = Σᵢ ωᵢ Iᵢ,    x = P Σᵢ ωᵢ Iᵢ xᵢ,    ωᵢ ≥ 0,  Σᵢ ωᵢ = 1.

For any weights and any cross-correlation, ``P`` bounds the true error
covariance from above (it is consistent).  The weights minimise a size of ``P``:
its trace (default) or its determinant (``criterion="det"``).  Both are convex
in ω (``tr M⁻¹`` and ``−log det M`` are convex on positive-definite ``M``, and
``M = Σ ωᵢ Iᵢ`` is linear in ω), with derivatives

    ∂ tr P / ∂ωᵢ = −tr(P Iᵢ P),       ∂ log det P / ∂ωᵢ = −tr(P Iᵢ).

The determinant is the same whatever the units (m, km, m/s); the trace adds m²
to (m/s)², so in this state it is governed by the position block, which is
what fused position accuracy asks for.
Two tracks: the derivative in ω = ω₁ (ω₂ = 1 − ω) is monotone, and bisection
on its sign finds the minimiser, to 1e-12 in ω (an end point when the
derivative does not change sign there, e.g. ω = 1 when ``P₂ → ∞``).
More than two: the multiplicative algorithm of optimal design (Silvey,
Titterington & Torsney 1978),

    ωᵢ ← ωᵢ (aᵢ / λ)^p / Σⱼ ωⱼ (aⱼ / λ)^p,
    det:   aᵢ = tr(P Iᵢ),    λ = d,      p = 1      (D-optimality; monotone, Yu 2010)
    trace: aᵢ = tr(P Iᵢ P),  λ = tr P,   p = 1/2    (A-optimality)

(Σᵢ ωᵢ aᵢ = λ at every ω).  By convexity ``max aᵢ − λ`` bounds how far the
criterion is above its minimum (the Kiefer–Wolfowitz equivalence theorem:
optimal iff ``aᵢ ≤ λ`` for all i).  Each batch element stops when
``max aᵢ / λ − 1 ≤ 1e-6`` — tr P within 1e-6 of its minimum relative to tr P, or
log det P within 6e-6 of its minimum — or after 5,000 steps.  Typically it
takes about 100 steps; up to about 1,000 when the best weights are near a
face of the simplex or nearly tied.

Bar-Shalom–Campo fusion (:func:`bar_shalom_campo`; Bar-Shalom & Campo 1986), the
best linear unbiased combination of two tracks with known ``P₁₂``:

    U = P₁ + P₂ − P₁₂ − P₂₁                       (covariance of x₁ − x₂)
    x = x₁ + (P₁ − P₁₂) U⁻¹ (x₂ − x₁)
    P = P₁ − (P₁ − P₁₂) U⁻¹ (P₁ − P₂₁).

``P₁₂ = 0`` gives naive fusion.  Where ``U`` is singular (tracks fully correlated
in some direction; ``U = 0`` for identical tracks) ``U⁻¹`` is the Moore–Penrose
inverse, the conditional-Gaussian limit (a generalised inverse serves because
the columns of ``P₁ − P₁₂`` lie in the range of ``U``); identical tracks
fuse to themselves.

Correlation (:func:`correlate`; Bar-Shalom 1981; Blackman & Popoli 1999, ch. 9).
Local track i and remote track j are tested with

    Δ = x_i − x_j,     d²ᵢⱼ = Δᵀ (P_i + P_j)⁻¹ Δ,

χ² with 6 degrees of freedom if they are the same target with independent
errors (a positive cross-covariance makes the true ``cov Δ`` smaller, so the
test then errs towards accepting).  A pair is admissible when
``d² ≤ γ = χ²₆⁻¹(P_G)`` (``P_G = 0.999``: γ = 22.46).  Global nearest
neighbour: the pairing minimises ``Σ_pairs d² + (γ/2) · (number of unpaired
tracks)`` — a pair is kept only if it beats leaving both tracks unpaired.  Up
to a constant this is ``Σ_pairs (d² − γ)``, so
:func:`scipy.optimize.linear_sum_assignment` is run on the cost
``min(d² − γ, 0)`` and the zero-cost (inadmissible) pairs it returns are
dropped.  A greedy nearest neighbour can miss the better global pairing.

Sources: S. J. Julier, J. K. Uhlmann, "A non-divergent estimation algorithm in
the presence of unknown correlations", Proc. American Control Conference 1997;
Y. Bar-Shalom, L. Campo, "The effect of the common process noise on the
two-sensor fused-track covariance", IEEE Trans. AES 22(6), 1986; Y. Bar-Shalom,
"On the track-to-track correlation problem", IEEE Trans. Automatic Control
26(2), 1981; S. Blackman, R. Popoli, *Design and Analysis of Modern Tracking
Systems*, Artech House 1999; S. D. Silvey, D. M. Titterington, B. Torsney, "An
algorithm for optimal designs on a finite design space", Commun. Statist. A 7,
1978; Y. Yu, "Monotonic convergence of a general algorithm for computing
optimal designs", Annals of Statistics 38(3), 2010; D. F. Crouse, "On
implementing 2D rectangular assignment algorithms", IEEE Trans. AES 52(4), 2016.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaincinv

#: State dimension: ECEF position [m] and velocity [m/s].
DIM = 6
#: Default probability that the same target's track pair falls inside the gate.
GATE_PROBABILITY = 0.999
#: Stopping rule of the multiplicative CI weights (relative optimality gap) and its step cap.
CI_GAP_TOL = 1e-6
CI_MAX_ITER = 5000

_CRITERIA = ("trace", "det")
_METHODS = ("ci", "naive")


# --------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackSet:
    """One node's tracks at the fusion time.

    Attributes
    ----------
    node : str
        Name of the node (or system) that holds these tracks.
    x : (..., N, 6) float64
        ECEF position [m] and velocity [m/s] of each of the N tracks; a row
        with any ``nan`` (in ``x`` or ``P``) is an absent track.
    P : (..., N, 6, 6) float64
        Covariance of ``x``.
    """

    node: str
    x: np.ndarray
    P: np.ndarray

    def __post_init__(self):
        x, P = np.asarray(self.x, dtype=float), np.asarray(self.P, dtype=float)
        if x.ndim < 2 or x.shape[-1] != DIM:
            raise ValueError(f"TrackSet {self.node!r}: x must have shape (..., N, 6); got {x.shape}")
        if P.shape != x.shape + (DIM,):
            raise ValueError(f"TrackSet {self.node!r}: P must have shape {x.shape + (DIM,)} to match x; got {P.shape}")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "P", P)

    @property
    def present(self) -> np.ndarray:
        """(..., N) bool: the track's state and covariance are finite."""
        return np.isfinite(self.x).all(axis=-1) & np.isfinite(self.P).all(axis=(-2, -1))


@dataclass(frozen=True)
class Correlation:
    """Which remote tracks are the same targets as which local tracks (:func:`correlate`).

    Attributes
    ----------
    local_node, remote_node : str
        Names of the two track sets.
    remote_of_local : (..., N_l) int64
        For each local track, the index of its remote partner, or −1.
    local_of_remote : (..., N_r) int64
        For each remote track, the index of its local partner, or −1.
    d2 : (..., N_l, N_r) float64
        Association statistic Δᵀ (P_l + P_r)⁻¹ Δ; ``inf`` where either track is absent.
    gate_probability : float
        Probability that a true pair lies inside the gate.
    gate_d2 : float
        The gate on ``d2``: the χ²₆ quantile at ``gate_probability``.
    """

    local_node: str
    remote_node: str
    remote_of_local: np.ndarray
    local_of_remote: np.ndarray
    d2: np.ndarray
    gate_probability: float
    gate_d2: float

    def _single(self, what: str):
        if self.remote_of_local.ndim != 1:
            raise ValueError(
                f"Correlation.{what}: defined for one picture; index the batch arrays "
                f"(remote_of_local has shape {self.remote_of_local.shape})"
            )

    def pairs(self) -> np.ndarray:
        """(K, 2) int64: (local index, remote index) of each pair, by local index (unbatched only)."""
        self._single("pairs")
        i = np.flatnonzero(self.remote_of_local >= 0)
        return np.stack([i, self.remote_of_local[i]], axis=-1).astype(np.int64).reshape(-1, 2)

    def unpaired_local(self) -> np.ndarray:
        """Indices of the local tracks without a remote partner (absent tracks included; unbatched only)."""
        self._single("unpaired_local")
        return np.flatnonzero(self.remote_of_local < 0)

    def unpaired_remote(self) -> np.ndarray:
        """Indices of the remote tracks without a local partner (absent tracks included; unbatched only)."""
        self._single("unpaired_remote")
        return np.flatnonzero(self.local_of_remote < 0)


@dataclass(frozen=True)
class FusedTrack:
    """A node's fused picture, with the lineage of every estimate.

    Slot layout after :func:`fuse`: slots ``0 … N_l−1`` are the local tracks
    (fused with their remote partner where they have one), slots
    ``N_l … N_l+N_r−1`` the remote tracks that no local track took (``nan``
    where the remote track was paired or absent).

    Attributes
    ----------
    nodes : tuple of str
        The source nodes, one per column of ``source_index``.
    source_index : (..., M, n) int64
        For each fused slot and source node, the index of the node's track
        that went into it, or −1 if none.
    x : (..., M, 6) float64
        Fused ECEF state [m, m/s]; ``nan`` in empty slots.
    P : (..., M, 6, 6) float64
        Its covariance.
    method : str
        ``"ci"`` (covariance intersection) or ``"naive"`` (independent errors);
        single-source slots are the source track unchanged.
    weights : (..., M, n) float64
        Weight ω of each source: the CI weights; for ``"naive"`` 1 for every
        contributing source (information added as is); 0 where none.
    """

    nodes: tuple[str, ...]
    source_index: np.ndarray
    x: np.ndarray
    P: np.ndarray
    method: str
    weights: np.ndarray

    @property
    def present(self) -> np.ndarray:
        """(..., M) bool: the slot holds an estimate."""
        return (self.source_index >= 0).any(axis=-1)  # type: ignore[return-value]  # stubs: over an axis, an array

    @property
    def n_sources(self) -> np.ndarray:
        """(..., M) int: number of source tracks fused into each slot."""
        return (self.source_index >= 0).sum(axis=-1)

    def lineage(self, m: int, batch_index: tuple = ()) -> tuple[tuple[str, int], ...]:
        """The (node, track index) pairs that went into slot ``m`` (at ``batch_index``)."""
        row = self.source_index[tuple(batch_index) + (m,)]
        if row.ndim != 1:
            raise ValueError(f"FusedTrack.lineage: batch_index must index all {self.source_index.ndim - 2} batch axes")
        return tuple((node, int(k)) for node, k in zip(self.nodes, row) if k >= 0)


# --------------------------------------------------------------------------------------
# Checks and linear algebra
# --------------------------------------------------------------------------------------


def _state(x, name: str, extra_axes: int = 0) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim < 1 + extra_axes or x.shape[-1] != DIM:
        want = "(..., " + "n, " * extra_axes + "6)"
        raise ValueError(f"{name} must have shape {want}; got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite")
    return x


def _cov(P, name: str, extra_axes: int = 0) -> np.ndarray:
    P = np.asarray(P, dtype=float)
    if P.ndim < 2 + extra_axes or P.shape[-2:] != (DIM, DIM):
        want = "(..., " + "n, " * extra_axes + "6, 6)"
        raise ValueError(f"{name} must have shape {want}; got {P.shape}")
    if not np.isfinite(P).all():
        raise ValueError(f"{name} must be finite")
    d = np.diagonal(P, axis1=-2, axis2=-1)
    scale = np.sqrt(np.abs(d[..., :, None] * d[..., None, :]))
    if np.any(np.abs(P - np.swapaxes(P, -1, -2)) > 1e-8 * scale + 1e-300):
        raise ValueError(f"{name} must be symmetric")
    _inv_spd(P, name)  # positive definiteness
    return P


def _inv_spd(P: np.ndarray, name: str = "covariance") -> np.ndarray:
    """Inverse of symmetric positive-definite (..., 6, 6) matrices; ValueError naming ``name`` otherwise.

    Scaled to unit diagonal first, so metres² beside (m/s)² cost no accuracy.
    """
    d = np.diagonal(P, axis1=-2, axis2=-1)
    if not np.all(d > 0.0):
        raise ValueError(f"{name} must be positive definite (a diagonal element is <= 0)")
    s = 1.0 / np.sqrt(d)
    ss = s[..., :, None] * s[..., None, :]
    C = P * ss
    try:
        L = np.linalg.cholesky(C)
    except np.linalg.LinAlgError:
        raise ValueError(f"{name} must be positive definite") from None
    Linv = np.linalg.inv(L)
    return (np.swapaxes(Linv, -1, -2) @ Linv) * ss


def _sym(A: np.ndarray) -> np.ndarray:
    return 0.5 * (A + np.swapaxes(A, -1, -2))


def _stack_broadcast(arrays: list, axis: int, name: str) -> np.ndarray:
    try:
        return np.stack(np.broadcast_arrays(*arrays), axis=axis)
    except ValueError:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(f"{name}: batch axes do not broadcast: {shapes}") from None


def _stack(xs, Ps, fn: str) -> tuple[np.ndarray, np.ndarray]:
    """Sources on axis −2 (states) / −3 (covariances), batch axes broadcast."""
    if isinstance(xs, np.ndarray):
        x = xs
    else:
        xs = [np.asarray(v, dtype=float) for v in xs]
        for i, v in enumerate(xs):
            if v.ndim < 1 or v.shape[-1] != DIM:
                raise ValueError(f"{fn}: xs[{i}] must have shape (..., 6); got {v.shape}")
        x = _stack_broadcast(xs, -2, f"{fn}: xs") if xs else np.zeros((0, DIM))
    if isinstance(Ps, np.ndarray):
        P = Ps
    else:
        Ps = [np.asarray(v, dtype=float) for v in Ps]
        for i, v in enumerate(Ps):
            if v.ndim < 2 or v.shape[-2:] != (DIM, DIM):
                raise ValueError(f"{fn}: Ps[{i}] must have shape (..., 6, 6); got {v.shape}")
        P = _stack_broadcast(Ps, -3, f"{fn}: Ps") if Ps else np.zeros((0, DIM, DIM))
    x = _state(x, f"{fn}: xs", extra_axes=1)
    P = _cov(P, f"{fn}: Ps", extra_axes=1)
    n = x.shape[-2]
    if n < 1:
        raise ValueError(f"{fn}: xs holds no track")
    if P.shape[-3] != n:
        raise ValueError(f"{fn}: Ps holds {P.shape[-3]} covariances for {n} states in xs")
    try:
        batch = np.broadcast_shapes(x.shape[:-2], P.shape[:-3])
    except ValueError:
        raise ValueError(
            f"{fn}: batch axes of xs {x.shape[:-2]} and Ps {P.shape[:-3]} do not broadcast"
        ) from None
    return np.broadcast_to(x, batch + (n, DIM)), np.broadcast_to(P, batch + (n, DIM, DIM))


def _combine(x: np.ndarray, info: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P = (Σ wᵢ Iᵢ)⁻¹, x = x₀ + P Σ wᵢ Iᵢ (xᵢ − x₀) (differences keep ECEF-size states exact)."""
    wI = w[..., :, None, None] * info
    P = _sym(_inv_spd(wI.sum(axis=-3), "fused information"))
    dx = x - x[..., :1, :]
    xf = x[..., 0, :] + (P @ (wI @ dx[..., None]).sum(axis=-3))[..., 0]
    return xf, P


# --------------------------------------------------------------------------------------
# Fusion
# --------------------------------------------------------------------------------------


def naive_fusion(xs, Ps) -> tuple[np.ndarray, np.ndarray]:
    """Information-filter fusion assuming independent errors: P⁻¹ = Σ Pᵢ⁻¹, x = P Σ Pᵢ⁻¹ xᵢ.

    Parameters
    ----------
    xs : sequence of n arrays (..., 6), or one array (..., n, 6)
        Track states, ECEF [m, m/s], at a common time; batch axes broadcast.
    Ps : sequence of n arrays (..., 6, 6), or one array (..., n, 6, 6)
        Their covariances (symmetric positive definite).

    Returns
    -------
    x : (..., 6), P : (..., 6, 6)
        Overconfident when the errors are positively correlated (see module docstring).
    """
    x, P = _stack(xs, Ps, "naive_fusion")
    info = _inv_spd(P, "naive_fusion: Ps")
    return _combine(x, info, np.ones(x.shape[:-1]))


def covariance_intersection(xs, Ps, weights=None, criterion: str = "trace",
                            check: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Covariance intersection (Julier & Uhlmann 1997): consistent whatever the cross-correlation.

    P⁻¹ = Σ ωᵢ Pᵢ⁻¹, x = P Σ ωᵢ Pᵢ⁻¹ xᵢ with ω on the simplex.

    Parameters
    ----------
    xs : sequence of n arrays (..., 6), or one array (..., n, 6)
        Track states, ECEF [m, m/s], at a common time; batch axes broadcast.
    Ps : sequence of n arrays (..., 6, 6), or one array (..., n, 6, 6)
        Their covariances (symmetric positive definite).
    weights : (..., n) array, optional
        Fixed weights (≥ 0, summing to 1).  By default they minimise ``criterion``.
    criterion : {"trace", "det"}
        Size of P that the weights minimise: its trace (m² and (m/s)² added, so
        governed by position) or its determinant (independent of units).
    check : bool
        False: ``xs`` (E, n, 6) and ``Ps`` (E, n, 6, 6) are arrays a filter made, and
        ``weights`` (E, n) given, so the checks of shape, finiteness, symmetry and
        positive definiteness (a Cholesky factor and an inverse per matrix, a quarter of the
        time) are skipped; a fused picture's call on its own tracks.  Same results.

    Returns
    -------
    x : (..., 6), P : (..., 6, 6), weights : (..., n)
    """
    fn = "covariance_intersection"
    if not check:
        if weights is None:
            raise ValueError(f"{fn}: check=False needs the weights")
        x, P, w = np.asarray(xs, float), np.asarray(Ps, float), np.asarray(weights, float)
        return (*_intersect(x, P, _inv_spd(P, f"{fn}: Ps"), w), w)
    if criterion not in _CRITERIA:
        raise ValueError(f"{fn}: criterion must be one of {_CRITERIA}; got {criterion!r}")
    x, P = _stack(xs, Ps, fn)
    n = x.shape[-2]
    info = _inv_spd(P, f"{fn}: Ps")
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if w.ndim < 1 or w.shape[-1] != n:
            raise ValueError(f"{fn}: weights must have shape (..., {n}); got {w.shape}")
        if not (np.isfinite(w).all() and np.all(w >= 0.0)) or np.any(np.abs(w.sum(axis=-1) - 1.0) > 1e-9):
            raise ValueError(f"{fn}: weights must be >= 0 and sum to 1 over the last axis")
        try:
            shape = np.broadcast_shapes(w.shape[:-1], x.shape[:-2])
        except ValueError:
            raise ValueError(f"{fn}: weights batch axes {w.shape[:-1]} do not broadcast with {x.shape[:-2]}") from None
        w = np.broadcast_to(w, shape + (n,))
        x, info = np.broadcast_to(x, shape + (n, DIM)), np.broadcast_to(info, shape + (n, DIM, DIM))
    elif n == 1:
        w = np.ones(x.shape[:-1])
    elif n == 2:
        w = _ci_weights_two(info, criterion)
    else:
        w = _ci_weights_multiplicative(info, criterion)
    return (*_intersect(x, P, info, w), w)


def _intersect(x: np.ndarray, P: np.ndarray, info: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The CI estimate of states ``x`` (..., n, 6), covariances ``P`` and their inverses
    ``info`` (..., n, 6, 6) with weights ``w`` (..., n): ``(x, P)``."""
    xf, Pf = _combine(x, info, w)
    # A weight of exactly 1 returns that track itself (not its twice-inverted covariance).
    one = w == 1.0
    if one.any():
        k = np.argmax(one, axis=-1)[..., None]
        hit = one.any(axis=-1)
        x_one = np.take_along_axis(x, k[..., None], axis=-2)[..., 0, :]
        P_one = np.take_along_axis(np.broadcast_to(P, x.shape + (DIM,)), k[..., None, None], axis=-3)[..., 0, :, :]
        xf = np.where(hit[..., None], x_one, xf)
        Pf = np.where(hit[..., None, None], P_one, Pf)
    return xf, Pf


def _ci_criterion_slope(info: np.ndarray, w: np.ndarray, criterion: str) -> tuple[np.ndarray, np.ndarray]:
    """(a, λ): aᵢ = −∂(criterion)/∂ωᵢ (..., n) — tr(P Iᵢ P) for the trace, tr(P Iᵢ) for log det —
    and λ = Σᵢ ωᵢ aᵢ (...) — tr P, or 6."""
    P = _inv_spd((w[..., :, None, None] * info).sum(axis=-3), "fused information")
    if criterion == "trace":
        PP = P @ P
        return np.einsum("...ij,...nji->...n", PP, info), np.trace(P, axis1=-2, axis2=-1)
    return np.einsum("...ij,...nji->...n", P, info), np.full(P.shape[:-2], float(DIM))


def _ci_weights_two(info: np.ndarray, criterion: str) -> np.ndarray:
    """Minimising ω = ω₁ for two tracks by bisection on the sign of the (monotone) derivative."""
    shape = info.shape[:-3]

    def slope(om):  # ∂ criterion / ∂ω₁ along ω₂ = 1 − ω₁
        a, _ = _ci_criterion_slope(info, np.stack([om, 1.0 - om], axis=-1), criterion)
        return a[..., 1] - a[..., 0]

    lo, hi = np.zeros(shape), np.ones(shape)
    at0, at1 = slope(lo), slope(hi)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        g = slope(mid)
        lo = np.where(g <= 0.0, mid, lo)
        hi = np.where(g >= 0.0, mid, hi)
        if np.all(hi - lo < 1e-12):
            break
    om = 0.5 * (lo + hi)
    om = np.where(at0 > 0.0, 0.0, np.where(at1 < 0.0, 1.0, om))
    return np.stack([om, 1.0 - om], axis=-1)


def _ci_weights_multiplicative(info: np.ndarray, criterion: str) -> np.ndarray:
    """Optimal-design multiplicative algorithm on the simplex (module docstring); any n ≥ 2.

    Each batch element stops on its own once its optimality gap is below
    :data:`CI_GAP_TOL`; only the others are iterated further.
    """
    n = info.shape[-3]
    shape = info.shape[:-3]
    info = info.reshape((-1, n, DIM, DIM))
    w: np.ndarray = np.full(info.shape[:2], 1.0 / n)  # annotated: numpy's stubs take the sliced shape for 0-d
    power = 0.5 if criterion == "trace" else 1.0
    todo = np.arange(w.shape[0])
    for _ in range(CI_MAX_ITER):
        a, lam = _ci_criterion_slope(info[todo], w[todo], criterion)
        r = np.maximum(a / lam[..., None], 0.0)
        busy = r.max(axis=-1) - 1.0 > CI_GAP_TOL
        todo, r = todo[busy], r[busy]
        if todo.size == 0:
            break
        wt = w[todo] * r**power
        w[todo] = wt / wt.sum(axis=-1, keepdims=True)
    return w.reshape(shape + (n,))


def bar_shalom_campo(x1, P1, x2, P2, P12) -> tuple[np.ndarray, np.ndarray]:
    """Optimal two-track fusion with known cross-covariance (Bar-Shalom & Campo 1986).

    x = x₁ + (P₁ − P₁₂) U⁻¹ (x₂ − x₁),  P = P₁ − (P₁ − P₁₂) U⁻¹ (P₁ − P₂₁),
    U = P₁ + P₂ − P₁₂ − P₂₁ (a Moore–Penrose inverse where U is singular).

    Parameters
    ----------
    x1, x2 : (..., 6)
        Track states, ECEF [m, m/s], at a common time.
    P1, P2 : (..., 6, 6)
        Their covariances (symmetric positive definite).
    P12 : (..., 6, 6)
        Cross-covariance E[e₁ e₂ᵀ] of their errors; the joint covariance
        [[P1, P12], [P12ᵀ, P2]] must be positive semi-definite.

    Returns
    -------
    x : (..., 6), P : (..., 6, 6)
    """
    fn = "bar_shalom_campo"
    x1, x2 = _state(x1, f"{fn}: x1"), _state(x2, f"{fn}: x2")
    P1, P2 = _cov(P1, f"{fn}: P1"), _cov(P2, f"{fn}: P2")
    P12 = np.asarray(P12, dtype=float)
    if P12.ndim < 2 or P12.shape[-2:] != (DIM, DIM):
        raise ValueError(f"{fn}: P12 must have shape (..., 6, 6); got {P12.shape}")
    if not np.isfinite(P12).all():
        raise ValueError(f"{fn}: P12 must be finite")
    try:
        batch = np.broadcast_shapes(x1.shape[:-1], x2.shape[:-1], P1.shape[:-2], P2.shape[:-2], P12.shape[:-2])
    except ValueError:
        raise ValueError(f"{fn}: batch axes of x1, P1, x2, P2, P12 do not broadcast") from None
    P1, P2, P12 = (np.broadcast_to(A, batch + (DIM, DIM)) for A in (P1, P2, P12))
    P21 = np.swapaxes(P12, -1, -2)
    # Joint covariance must be PSD: check it scaled to unit diagonal.
    s = np.concatenate([np.diagonal(P1, axis1=-2, axis2=-1), np.diagonal(P2, axis1=-2, axis2=-1)], axis=-1) ** -0.5
    s1, s2 = s[..., :DIM], s[..., DIM:]
    C12 = P12 * s1[..., :, None] * s2[..., None, :]
    if np.any(np.abs(C12) > 1.0 + 1e-9):
        raise ValueError(f"{fn}: P12 is not a cross-covariance of P1 and P2 (a correlation exceeds 1)")
    top = np.concatenate(np.broadcast_arrays(P1 * s1[..., :, None] * s1[..., None, :], C12), axis=-1)
    bot = np.concatenate(np.broadcast_arrays(np.swapaxes(C12, -1, -2), P2 * s2[..., :, None] * s2[..., None, :]),
                         axis=-1)
    if np.any(np.linalg.eigvalsh(np.concatenate([top, bot], axis=-2)).min(axis=-1) < -1e-9):
        raise ValueError(f"{fn}: P12 is not a cross-covariance of P1 and P2 "
                         f"(joint covariance not positive semi-definite)")
    U = _sym(P1 + P2 - P12 - P21)
    # Moore–Penrose inverse of U scaled by the diagonal of P1 + P2 (always > 0).
    t = 1.0 / np.sqrt(np.diagonal(P1 + P2, axis1=-2, axis2=-1))
    tt = t[..., :, None] * t[..., None, :]
    U_inv = np.linalg.pinv(U * tt, rcond=1e-12, hermitian=True) * tt
    K = (P1 - P12) @ U_inv
    x = x1 + (K @ (x2 - x1)[..., None])[..., 0]
    P = _sym(P1 - K @ (P1 - P21))
    return np.broadcast_to(x, batch + (DIM,)), np.broadcast_to(P, batch + (DIM, DIM))


# --------------------------------------------------------------------------------------
# Correlation and fusion of two nodes' pictures
# --------------------------------------------------------------------------------------


def correlate(local: TrackSet, remote: TrackSet, gate: float = GATE_PROBABILITY) -> Correlation:
    """Pair the remote tracks with the local tracks of the same targets (global nearest neighbour).

    Parameters
    ----------
    local, remote : TrackSet
        Tracks of two nodes at a common time, ``x (..., N_l, 6)`` and
        ``(..., N_r, 6)`` with the same batch axes ``...``.  Absent tracks
        (``nan`` rows) are never paired.
    gate : float
        Gate probability P_G in (0, 1): a pair is admissible when its statistic
        d² ≤ χ²₆⁻¹(P_G) (22.46 for 0.999).

    Returns
    -------
    Correlation
        Pairs minimise Σ_pairs (d² − γ) (module docstring); one assignment
        problem per batch element (a Python loop over the batch).
    """
    fn = "correlate"
    if not isinstance(local, TrackSet) or not isinstance(remote, TrackSet):
        raise ValueError(f"{fn}: local and remote must be TrackSet records")
    if not (0.0 < gate < 1.0):
        raise ValueError(f"{fn}: gate is a probability in (0, 1); got {gate}")
    if local.x.shape[:-2] != remote.x.shape[:-2]:
        raise ValueError(
            f"{fn}: local and remote batch axes differ: {local.x.shape[:-2]} and {remote.x.shape[:-2]}"
        )
    gamma = 2.0 * float(gammaincinv(0.5 * DIM, gate))  # the χ² quantile, as scipy.stats.chi2.ppf
    ok_l, ok_r = local.present, remote.present
    xl, Pl = _present_or_standin(local, ok_l, f"{fn}: local.P")
    xr, Pr = _present_or_standin(remote, ok_r, f"{fn}: remote.P")
    dx = xl[..., :, None, :] - xr[..., None, :, :]  # (..., N_l, N_r, 6)
    S_inv = _inv_spd(Pl[..., :, None, :, :] + Pr[..., None, :, :, :])
    d2 = np.einsum("...i,...ij,...j->...", dx, S_inv, dx)
    d2 = np.where(ok_l[..., :, None] & ok_r[..., None, :], d2, np.inf)

    batch, n_l, n_r = d2.shape[:-2], d2.shape[-2], d2.shape[-1]
    r_of_l = np.full(batch + (n_l,), -1, np.int64)
    l_of_r = np.full(batch + (n_r,), -1, np.int64)
    if n_l and n_r:
        from scipy.optimize import linear_sum_assignment  # (here: scipy.optimize costs an import ~0.3 s)

        for b in np.ndindex(*batch):
            D = d2[b]
            cost = np.minimum(D - gamma, 0.0)  # inadmissible pairs cost what leaving both unpaired does
            rows, cols = linear_sum_assignment(cost)
            keep = D[rows, cols] <= gamma
            r_of_l[b][rows[keep]] = cols[keep]
            l_of_r[b][cols[keep]] = rows[keep]
    return Correlation(
        local_node=local.node, remote_node=remote.node, remote_of_local=r_of_l, local_of_remote=l_of_r,
        d2=d2, gate_probability=float(gate), gate_d2=gamma,
    )


def _present_or_standin(ts: TrackSet, ok: np.ndarray, name: str):
    """States and covariances with absent rows replaced by (0, I); present covariances checked."""
    x = np.where(ok[..., None], ts.x, 0.0)
    P = np.where(ok[..., None, None], ts.P, np.eye(DIM))
    if ok.any():
        _cov(P, name)
    return x, P


def fuse(
    local: TrackSet,
    remote: TrackSet,
    correlation: Correlation | None = None,
    method: str = "ci",
    criterion: str = "trace",
    gate: float = GATE_PROBABILITY,
) -> FusedTrack:
    """Fuse two nodes' pictures: each correlated pair into one track, the others passed on.

    Parameters
    ----------
    local, remote : TrackSet
        As for :func:`correlate`.
    correlation : Correlation, optional
        From :func:`correlate`; computed with ``gate`` if not given.
    method : {"ci", "naive"}
        :func:`covariance_intersection` (consistent for unknown correlation) or
        :func:`naive_fusion` (independent errors).  Known cross-covariances call
        for :func:`bar_shalom_campo` directly.
    criterion : {"trace", "det"}
        CI criterion.

    Returns
    -------
    FusedTrack
        ``M = N_l + N_r`` slots; lineage nodes ``(local.node, remote.node)``.
    """
    fn = "fuse"
    if method not in _METHODS:
        raise ValueError(f"{fn}: method must be one of {_METHODS}; got {method!r}")
    if correlation is None:
        correlation = correlate(local, remote, gate)
    batch, n_l, n_r = correlation.d2.shape[:-2], local.x.shape[-2], remote.x.shape[-2]
    if correlation.d2.shape != batch + (n_l, n_r) or local.x.shape[:-2] != batch:
        raise ValueError(f"{fn}: correlation has shape {correlation.d2.shape}, not that of these track sets")
    ok_l, ok_r = local.present, remote.present
    xl, Pl = _present_or_standin(local, ok_l, f"{fn}: local.P")
    xr, Pr = _present_or_standin(remote, ok_r, f"{fn}: remote.P")

    # Local slots: the local track and (stand-in: itself) its partner.
    partner = correlation.remote_of_local
    paired = partner >= 0
    j = np.maximum(partner, 0)
    xp = np.take_along_axis(xr, j[..., None], axis=-2) if n_r else xl
    Pp = np.take_along_axis(Pr, j[..., None, None], axis=-3) if n_r else Pl
    xp = np.where(paired[..., None], xp, xl)
    Pp = np.where(paired[..., None, None], Pp, Pl)
    xs, Ps = np.stack([xl, xp], axis=-2), np.stack([Pl, Pp], axis=-3)
    if method == "ci":
        xf, Pf, w = covariance_intersection(xs, Ps, criterion=criterion)
    else:
        xf, Pf = naive_fusion(xs, Ps)
        w = np.ones(xs.shape[:-1])
    w = np.where(paired[..., None], w, np.array([1.0, 0.0]))
    x_loc = np.where(paired[..., None], xf, local.x)
    P_loc = np.where(paired[..., None, None], Pf, local.P)
    idx_loc = np.stack([np.where(ok_l, np.arange(n_l), -1), np.where(paired, partner, -1)], axis=-1)
    w = np.where(ok_l[..., None], w, 0.0)

    # Remote slots: the remote tracks no local track took.
    alone = ok_r & (correlation.local_of_remote < 0)
    x_rem = np.where(alone[..., None], remote.x, np.nan)
    P_rem = np.where(alone[..., None, None], remote.P, np.nan)
    idx_rem = np.stack(np.broadcast_arrays(np.full(alone.shape, -1), np.where(alone, np.arange(n_r), -1)), axis=-1)
    w_rem = np.stack([np.zeros(alone.shape), alone.astype(float)], axis=-1)

    return FusedTrack(
        nodes=(local.node, remote.node),
        source_index=np.concatenate([idx_loc, idx_rem], axis=-2).astype(np.int64),
        x=np.concatenate([x_loc, x_rem], axis=-2),
        P=np.concatenate([P_loc, P_rem], axis=-3),
        method=method,
        weights=np.concatenate([w, w_rem], axis=-2),
    )
