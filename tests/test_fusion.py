"""Tests of track-to-track fusion and correlation (shieldlab.c2.fusion).

Tracks are built here: a target 300 km above 45°N 35°E, seen by two radars
whose lines of sight are 90° apart in azimuth, so each track is sharp along its
own line of sight (σ = 30 m) and loose across it (σ = 800 m), with the velocity
block of a two-point difference over T = 5 s.  Errors with a common component
are drawn as

    eᵢ = Lᵢ (√ρ z_c + √(1 − ρ) zᵢ),    z ~ N(0, I₆),   Pᵢ = Lᵢ Lᵢᵀ,

so P₁₂ = ρ L₁ L₂ᵀ.  Any fusion rule linear in the tracks, x = Σ Kᵢ xᵢ with
Σ Kᵢ = I, has the true error covariance Σ = Σᵢⱼ Kᵢ Pᵢⱼ Kⱼᵀ and an expected
NEES tr(P⁻¹ Σ); Monte Carlo means are checked against these closed forms.
All seeds are fixed.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import minimize

from shieldlab import earth
from shieldlab.c2 import fusion
from shieldlab.c2.fusion import (
    Correlation,
    FusedTrack,
    TrackSet,
    bar_shalom_campo,
    correlate,
    covariance_intersection,
    fuse,
    naive_fusion,
)

D2R = np.pi / 180.0
LAT, LON, ALT = 45.0 * D2R, 35.0 * D2R, 300e3
X_TRUE = np.concatenate([earth.geodetic_to_ecef(LAT, LON, ALT),
                         earth.enu_matrix(LAT, LON).T @ [-2500.0, -1500.0, 800.0]])
N_MC = 5000


def radar_cov(az_deg: float, el_deg: float = 10.0, sig_r: float = 30.0, sig_c: float = 800.0, T: float = 5.0):
    """6 × 6 ECEF covariance of a track seen along (az, el) from the target: σ_r along, σ_c across.

    Position block Pp; velocity from differencing two such fixes T apart:
    [[Pp, Pp/T], [Pp/T, 2 Pp/T²]].
    """
    a, e = az_deg * D2R, el_deg * D2R
    los = np.array([np.cos(e) * np.sin(a), np.cos(e) * np.cos(a), np.sin(e)])
    h = np.array([np.cos(a), -np.sin(a), 0.0])
    v = np.cross(los, h)
    B = np.stack([los, h, v], axis=-1)  # ENU columns
    Pp_enu = B @ np.diag([sig_r**2, sig_c**2, sig_c**2]) @ B.T
    M = earth.enu_matrix(LAT, LON)
    Pp = M.T @ Pp_enu @ M
    return np.block([[Pp, Pp / T], [Pp / T, 2.0 * Pp / T**2]])


P_A = radar_cov(0.0)
P_B = radar_cov(90.0, el_deg=25.0, sig_r=40.0, sig_c=600.0)
L_A, L_B = np.linalg.cholesky(P_A), np.linalg.cholesky(P_B)


def draw(rho: float, n: int, seed: int, L2=L_B):
    """(x_A, x_2) (n, 6) track states with errors correlated by ρ (module docstring); P₂ = L2 L2ᵀ."""
    rng = np.random.default_rng(seed)
    zc, z1, z2 = rng.standard_normal((3, n, 6))
    e1 = (np.sqrt(rho) * zc + np.sqrt(1 - rho) * z1) @ L_A.T
    e2 = (np.sqrt(rho) * zc + np.sqrt(1 - rho) * z2) @ L2.T
    return X_TRUE + e1, X_TRUE + e2


def true_cov(K1, K2, P1, P2, P12):
    """Error covariance of K1 x1 + K2 x2 (K1 + K2 = I)."""
    return K1 @ P1 @ K1.T + K1 @ P12 @ K2.T + K2 @ P12.T @ K1.T + K2 @ P2 @ K2.T


def nees(x, P):
    d = x - X_TRUE
    return np.einsum("...i,...ij,...j->...", d, np.linalg.inv(P), d)


def is_psd(A, scale, tol=1e-9):
    """A ⪰ 0, to ``tol`` after scaling by the diagonal of the covariance ``scale``."""
    s = 1.0 / np.sqrt(np.diagonal(scale, axis1=-2, axis2=-1))
    return np.linalg.eigvalsh(A * s[..., :, None] * s[..., None, :]).min() >= -tol


# --------------------------------------------------------------------------------------
# Closed-form cases
# --------------------------------------------------------------------------------------


def test_ci_returns_the_dominant_input():
    x1, x2 = X_TRUE, X_TRUE + np.array([500.0, -300.0, 200.0, 5.0, 1.0, -2.0])
    for scale in (1e12, 1e4):
        x, P, w = covariance_intersection([x1, x2], [P_A, scale * P_B])
        # ω = 1 exactly when the derivative of tr P at ω = 1, −tr(P₁ (I₁ − I₂) P₁), is negative.
        assert np.trace(P_A @ np.linalg.inv(scale * P_B) @ P_A) < np.trace(P_A)
        np.testing.assert_array_equal(w, [1.0, 0.0])
        np.testing.assert_array_equal(x, x1)
        np.testing.assert_array_equal(P, P_A)
        # The same holds for the determinant (ω = 1 when tr(P₁ I₂) ≤ 6), and in either order.
        x, P, w = covariance_intersection([x2, x1], [scale * P_B, P_A], criterion="det")
        np.testing.assert_array_equal(w, [0.0, 1.0])
        np.testing.assert_array_equal(P, P_A)
    # Naive fusion tends to the dominant input too, but only in the limit.
    x, P = naive_fusion([x1, x2], [P_A, 1e12 * P_B])
    np.testing.assert_allclose(P, P_A, rtol=1e-6, atol=1e-9 * np.abs(P_A).max())
    np.testing.assert_allclose(x, x1, rtol=0, atol=1e-6)


def test_two_equal_independent_tracks():
    x1, x2 = X_TRUE, X_TRUE + np.array([100.0, 200.0, -50.0, 1.0, 2.0, 3.0])
    x, P, w = covariance_intersection([x1, x2], [P_A, P_A])
    np.testing.assert_allclose(w, [0.5, 0.5])
    np.testing.assert_allclose(P, P_A, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(x, 0.5 * (x1 + x2), rtol=0, atol=1e-6)
    assert is_psd(P - P_A, P_A)  # no smaller than either input
    xn, Pn = naive_fusion([x1, x2], [P_A, P_A])
    np.testing.assert_allclose(Pn, P_A / 2, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(xn, 0.5 * (x1 + x2), rtol=0, atol=1e-6)


def test_ci_weights_minimise_the_criterion():
    """Bisection (n = 2) and the multiplicative algorithm meet a general-purpose optimiser."""
    P_C = radar_cov(45.0, el_deg=60.0, sig_r=50.0, sig_c=300.0)
    info = np.linalg.inv(np.stack([P_A, P_B, P_C]))

    def crit(w, c):
        P = np.linalg.inv(np.tensordot(w, info[: w.size], axes=1))
        return np.trace(P) if c == "trace" else np.linalg.slogdet(P)[1]

    for c in ("trace", "det"):
        for n in (2, 3):
            _, P, w = covariance_intersection([X_TRUE] * n, [P_A, P_B, P_C][:n], criterion=c)
            # ω = |v| / Σ|v| puts any v on the simplex.
            ref = minimize(
                lambda v, c=c: crit(np.abs(v) / np.abs(v).sum(), c), np.full(n, 1.0 / n),
                method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000},
            )
            best = ref.fun
            got = np.trace(P) if c == "trace" else np.linalg.slogdet(P)[1]
            assert got <= best + 1e-7 * abs(best), (c, n, got, best)
            assert np.isclose(w.sum(), 1.0) and np.all(w >= 0)
        # n = 2: the multiplicative algorithm agrees with bisection.
        w_bis = fusion._ci_weights_two(info[:2], c)
        w_mul = fusion._ci_weights_multiplicative(info[:2], c)
        np.testing.assert_allclose(w_mul, w_bis, atol=1e-4)


def test_ci_is_consistent_for_any_cross_covariance():
    """P_CI − Σ_true is positive semi-definite for random admissible P₁₂ (closed form)."""
    rng = np.random.default_rng(7)
    x, P, w = covariance_intersection([X_TRUE, X_TRUE], [P_A, P_B])
    K1, K2 = w[0] * P @ np.linalg.inv(P_A), w[1] * P @ np.linalg.inv(P_B)
    for _ in range(50):
        Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
        C = Q * rng.uniform(-1, 1, 6)  # a contraction: singular values ≤ 1
        P12 = L_A @ C @ L_B.T
        assert is_psd(P - true_cov(K1, K2, P_A, P_B, P12), P)
    # Naive fusion is not: with P₁₂ = 0.9 L₁L₂ᵀ its P is too small in some direction.
    _, Pn = naive_fusion([X_TRUE, X_TRUE], [P_A, P_B])
    Kn1, Kn2 = Pn @ np.linalg.inv(P_A), Pn @ np.linalg.inv(P_B)
    assert not is_psd(Pn - true_cov(Kn1, Kn2, P_A, P_B, 0.9 * L_A @ L_B.T), Pn, tol=1e-3)


def test_bar_shalom_campo_closed_forms():
    x1, x2 = X_TRUE, X_TRUE + np.array([300.0, -700.0, 250.0, 3.0, -1.0, 4.0])
    # P₁₂ = 0 is naive fusion.
    xb, Pb = bar_shalom_campo(x1, P_A, x2, P_B, np.zeros((6, 6)))
    xn, Pn = naive_fusion([x1, x2], [P_A, P_B])
    np.testing.assert_allclose(Pb, Pn, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(xb, xn, rtol=0, atol=1e-6)
    # Identical tracks (full correlation, U = 0) fuse to themselves.
    xb, Pb = bar_shalom_campo(x1, P_A, x1, P_A, P_A)
    np.testing.assert_allclose(xb, x1, rtol=0, atol=1e-9)
    np.testing.assert_allclose(Pb, P_A, rtol=1e-12, atol=1e-9)
    # General P₁₂: generalised least squares on the stacked tracks, z = H x + e, H = [I; I].
    for rho in (0.3, 0.9):
        P12 = rho * L_A @ L_B.T
        S = np.block([[P_A, P12], [P12.T, P_B]])
        H = np.vstack([np.eye(6), np.eye(6)])
        Si = np.linalg.inv(S)
        P_gls = np.linalg.inv(H.T @ Si @ H)
        x_gls = X_TRUE + P_gls @ H.T @ Si @ np.concatenate([x1, x2] - X_TRUE)
        xb, Pb = bar_shalom_campo(x1, P_A, x2, P_B, P12)
        np.testing.assert_allclose(Pb, P_gls, rtol=1e-6, atol=1e-6 * np.abs(P_gls).max())
        np.testing.assert_allclose(xb, x_gls, rtol=0, atol=1e-3)


# --------------------------------------------------------------------------------------
# Monte Carlo
# --------------------------------------------------------------------------------------

# Measured over 5,000 trials; expected values from the closed form in brackets.
# "same": both tracks have covariance P_A, so P₁₂ = ρ P_A, naive NEES → 6 (1 + ρ) and
# CI (ω = ½, P = P_A) → 3 (1 + ρ); all three rules return the mean of the two tracks.
# "crossed": tracks A and B (lines of sight 90° apart), P₁₂ = ρ L_A L_Bᵀ.
#   geometry  ρ    NEES: CI       naive         BSC    position RMSE: CI     naive   BSC
#   same      0.5        4.45 [4.50]  8.89 [9.00]   5.93           979 m  979 m   979 m
#   same      0.9        5.69 [5.70] 11.39 [11.40]  5.99          1096 m 1096 m  1096 m
#   crossed   0.5        3.94 [3.94]  6.71 [6.74]   5.98           596 m  563 m   516 m
#   crossed   0.9        4.01 [4.01]  7.33 [7.33]   5.97           593 m  608 m   357 m
# (a single track's position RMSE is about 1130 m for A, 850 m for B).
@pytest.mark.parametrize(
    "geometry, rho, seed, naive_min",
    [("same", 0.5, 1, 8.5), ("same", 0.9, 2, 11.0), ("crossed", 0.5, 3, 6.4), ("crossed", 0.9, 4, 7.0)],
)
def test_consistency_with_correlated_errors(geometry, rho, seed, naive_min):
    P2, L2 = (P_A, L_A) if geometry == "same" else (P_B, L_B)
    x1, x2 = draw(rho, N_MC, seed, L2)
    P12 = rho * L_A @ L2.T
    xc, Pc, w = covariance_intersection([x1, x2], [P_A, P2])
    xn, Pn = naive_fusion([x1, x2], [P_A, P2])
    xb, Pb = bar_shalom_campo(x1, P_A, x2, P2, P12)
    assert Pc.shape == (N_MC, 6, 6) and np.allclose(w, w[0])

    nees_c, nees_n, nees_b = nees(xc, Pc).mean(), nees(xn, Pn).mean(), nees(xb, Pb[0]).mean()
    # Expected NEES in closed form.
    Pc0, Pn0 = Pc[0], Pn[0]
    Kc1, Kc2 = w[0, 0] * Pc0 @ np.linalg.inv(P_A), w[0, 1] * Pc0 @ np.linalg.inv(P2)
    Kn1, Kn2 = Pn0 @ np.linalg.inv(P_A), Pn0 @ np.linalg.inv(P2)
    Sc, Sn = true_cov(Kc1, Kc2, P_A, P2, P12), true_cov(Kn1, Kn2, P_A, P2, P12)
    exp_c, exp_n = np.trace(np.linalg.solve(Pc0, Sc)), np.trace(np.linalg.solve(Pn0, Sn))
    if geometry == "same":
        assert exp_n == pytest.approx(6.0 * (1.0 + rho), rel=1e-9)
        assert exp_c == pytest.approx(6.0 * (1.0 + rho) / 2.0, rel=1e-9)  # CI keeps P, true cov (1+ρ)P/2

    def rmse(x):
        return np.sqrt(np.mean(np.sum((x[:, :3] - X_TRUE[:3]) ** 2, axis=-1)))

    r_c, r_n, r_b = rmse(xc), rmse(xn), rmse(xb)
    print(
        f"\n{geometry} rho={rho}: NEES CI {nees_c:.2f} [{exp_c:.2f}] naive {nees_n:.2f} [{exp_n:.2f}] "
        f"BSC {nees_b:.2f} [6]; RMSE CI {r_c:.0f} naive {r_n:.0f} BSC {r_b:.0f} A {rmse(x1):.0f} m"
    )
    # CI: consistent (conservative), and its NEES is what the closed form says.
    assert nees_c <= 6.0 and exp_c <= 6.0
    assert abs(nees_c - exp_c) < 0.05 * exp_c
    # Naive: overconfident.
    assert nees_n > naive_min
    assert abs(nees_n - exp_n) < 0.05 * exp_n
    # Bar-Shalom–Campo with the true P₁₂: NEES·N is χ² with 6N dof (two-sided 99 % band).
    lo, hi = stats.chi2.ppf([0.005, 0.995], 6 * N_MC) / N_MC
    assert lo <= nees_b <= hi
    # It is the best linear unbiased combination: the smallest error (same draws for all).
    assert np.trace(Pb[0][:3, :3]) <= min(np.trace(Sc[:3, :3]), np.trace(Sn[:3, :3])) * (1 + 1e-9)
    assert r_b <= r_n * (1 + 1e-9) and r_b <= r_c * (1 + 1e-9)
    assert abs(r_b / np.sqrt(np.trace(Pb[0][:3, :3])) - 1.0) < 0.03


# Measured (5,000 trials, seed 5): position RMSE A alone 1128 m, B alone 851 m,
# naive 479 m [closed form 483 m], CI 572 m [579 m].
def test_two_radars_fused_track_beats_either_alone():
    x1, x2 = draw(0.0, N_MC, 5)
    xc, Pc, w = covariance_intersection([x1, x2], [P_A, P_B])
    xn, Pn = naive_fusion([x1, x2], [P_A, P_B])

    def rmse(x):
        return np.sqrt(np.mean(np.sum((x[:, :3] - X_TRUE[:3]) ** 2, axis=-1)))

    r1, r2, rn, rc = rmse(x1), rmse(x2), rmse(xn), rmse(xc)
    Kc1 = w[0, 0] * Pc[0] @ np.linalg.inv(P_A)
    Sc = true_cov(Kc1, np.eye(6) - Kc1, P_A, P_B, np.zeros((6, 6)))
    print(f"RMSE A {r1:.0f} B {r2:.0f} naive {rn:.0f} [{np.sqrt(np.trace(Pn[0][:3, :3])):.0f}] "
          f"CI {rc:.0f} [{np.sqrt(np.trace(Sc[:3, :3])):.0f}] m")
    assert rn < 0.6 * min(r1, r2)
    assert rc < 0.75 * min(r1, r2)
    assert abs(rn / np.sqrt(np.trace(Pn[0][:3, :3])) - 1.0) < 0.03  # naive is exact here
    assert abs(rc / np.sqrt(np.trace(Sc[:3, :3])) - 1.0) < 0.03
    assert rn <= rc  # with independent errors the information filter is optimal


# --------------------------------------------------------------------------------------
# Correlation
# --------------------------------------------------------------------------------------


def scene(seed: int, n_batch: int | None = None):
    """20 targets; local sees 0–16, remote sees 3–19 in shuffled order; targets 5 and 6 are 3 km apart.

    Returns local, remote TrackSets, the target of each remote track and the true states (20, 6).
    """
    rng = np.random.default_rng(seed)
    n = 20
    M = earth.enu_matrix(LAT, LON)
    enu = np.column_stack([rng.uniform(-150e3, 150e3, (n, 2)), rng.uniform(-100e3, 100e3, n)])
    enu[6] = enu[5] + [2e3, 2e3, 1e3]
    vel = rng.normal(0.0, 1500.0, (n, 3))
    vel[6] = vel[5] + [20.0, -10.0, 0.0]
    truth = np.concatenate([X_TRUE[:3] + enu @ M, X_TRUE[3:] + vel @ M], axis=-1)
    seen_l = np.arange(0, 17)
    seen_r = rng.permutation(np.arange(3, 20))
    shape = () if n_batch is None else (n_batch,)
    xl = truth[seen_l] + rng.standard_normal(shape + (17, 6)) @ L_A.T
    xr = truth[seen_r] + rng.standard_normal(shape + (17, 6)) @ L_B.T
    Pl = np.broadcast_to(P_A, shape + (17, 6, 6))
    Pr = np.broadcast_to(P_B, shape + (17, 6, 6))
    return TrackSet("battalion", xl, Pl), TrackSet("ship", xr, Pr), seen_r, truth


def test_correlate_pairs_the_same_targets():
    local, remote, seen_r, truth = scene(11)
    c = correlate(local, remote)
    assert isinstance(c, Correlation) and c.gate_d2 == pytest.approx(22.4577, abs=1e-4)
    expected = sorted((int(t), int(j)) for j, t in enumerate(seen_r) if t < 17)  # local index == target
    assert [tuple(p) for p in c.pairs()] == expected
    assert list(c.unpaired_local()) == [0, 1, 2]
    assert sorted(seen_r[c.unpaired_remote()]) == [17, 18, 19]
    np.testing.assert_array_equal(c.local_of_remote[c.remote_of_local[3:]], np.arange(3, 17))

    # Gate: a remote track moved 20 km away finds no partner, nor does its local track.
    j = int(np.flatnonzero(seen_r == 8)[0])
    x_far = remote.x.copy()
    x_far[j, :3] += 20e3 * earth.enu_matrix(LAT, LON)[1]
    c2 = correlate(local, TrackSet("ship", x_far, remote.P))
    assert c2.d2[8, j] > c2.gate_d2
    assert c2.remote_of_local[8] == -1 and c2.local_of_remote[j] == -1
    assert len(c2.pairs()) == len(expected) - 1


def test_correlate_batched_rate():
    """Over 200 noisy pictures, the true pairs are found at about the gate probability."""
    local, remote, seen_r, truth = scene(12, n_batch=200)
    c = correlate(local, remote)
    truth_r_of_l = np.full(17, -1)
    for j, t in enumerate(seen_r):
        if t < 17:
            truth_r_of_l[t] = j
    correct = (c.remote_of_local == truth_r_of_l).mean()
    print(f"correct local decisions {correct:.4f}")
    assert correct >= 0.995
    # Element b of the batch is the unbatched problem.
    b = 17
    cb = correlate(TrackSet("battalion", local.x[b], local.P[b]), TrackSet("ship", remote.x[b], remote.P[b]))
    np.testing.assert_array_equal(cb.remote_of_local, c.remote_of_local[b])
    np.testing.assert_allclose(cb.d2, c.d2[b])
    with pytest.raises(ValueError, match="one picture"):
        c.pairs()
    # Fusing the batch keeps each element's lineage.
    f = fuse(local, remote, c)
    fb = fuse(TrackSet("battalion", local.x[b], local.P[b]), TrackSet("ship", remote.x[b], remote.P[b]), cb)
    assert f.x.shape == (200, 34, 6)
    for m in range(34):
        assert f.lineage(m, (b,)) == fb.lineage(m)
    np.testing.assert_allclose(f.x[b], fb.x, rtol=0, atol=1e-6, equal_nan=True)


def test_global_nearest_neighbour_beats_greedy():
    """Local A, B and remote 1, 2 on a line, identity covariances, d² = |Δ|²/2.

    d²(A,1) = 1, d²(A,2) = 2, d²(B,1) = 2, d²(B,2) = 14.66 > γ(0.9) = 10.64.
    Greedy takes A–1 and leaves B alone; GNN pairs A–2 and B–1 (Σ(d² − γ) −17.3 < −9.6).
    """
    e = np.eye(6)[0]
    eye = np.broadcast_to(np.eye(6), (2, 6, 6))
    local = TrackSet("l", np.stack([0 * e, (np.sqrt(2) + 2) * e]), eye)
    remote = TrackSet("r", np.stack([np.sqrt(2) * e, -2 * e]), eye)
    c = correlate(local, remote, gate=0.9)
    np.testing.assert_allclose(c.d2, [[1.0, 2.0], [2.0, (np.sqrt(2) + 4) ** 2 / 2]])
    np.testing.assert_array_equal(c.remote_of_local, [1, 0])
    # With a wide gate the same pairs stay the cheaper ones.
    np.testing.assert_array_equal(correlate(local, remote, gate=0.999).remote_of_local, [1, 0])


def test_fuse_keeps_lineage():
    local, remote, seen_r, truth = scene(11)
    xl = local.x.copy()
    xl[2] = np.nan  # an absent local track
    local = TrackSet("battalion", xl, local.P)
    c = correlate(local, remote)
    f = fuse(local, remote, c)
    assert isinstance(f, FusedTrack) and f.method == "ci" and f.nodes == ("battalion", "ship")
    assert f.x.shape == (34, 6) and f.P.shape == (34, 6, 6)
    j = int(c.remote_of_local[10])
    assert f.lineage(10) == (("battalion", 10), ("ship", j))
    x, P, w = covariance_intersection([local.x[10], remote.x[j]], [local.P[10], remote.P[j]])
    np.testing.assert_array_equal(f.x[10], x)
    np.testing.assert_array_equal(f.P[10], P)
    np.testing.assert_array_equal(f.weights[10], w)
    assert f.lineage(0) == (("battalion", 0),)
    np.testing.assert_array_equal(f.x[0], local.x[0])
    assert f.lineage(2) == () and not f.present[2] and np.isnan(f.x[2]).all()
    alone = [int(k) for k in c.unpaired_remote()]
    assert sorted(seen_r[alone]) == [17, 18, 19]
    for k in range(17):
        assert f.present[17 + k] == (k in alone)
        if k in alone:
            assert f.lineage(17 + k) == (("ship", k),)
            np.testing.assert_array_equal(f.x[17 + k], remote.x[k])
    assert f.n_sources.sum() == 2 * 14 + 2 + 3
    fn = fuse(local, remote, c, method="naive")
    x, P = naive_fusion([local.x[10], remote.x[j]], [local.P[10], remote.P[j]])
    np.testing.assert_allclose(fn.x[10], x, rtol=0, atol=1e-6)
    # On the 14 shared targets the fused picture is better than either node's.
    err_f = np.linalg.norm(f.x[3:17, :3] - truth[3:17, :3], axis=-1)
    err_l = np.linalg.norm(local.x[3:17, :3] - truth[3:17, :3], axis=-1)
    err_r = np.linalg.norm(remote.x[c.remote_of_local[3:17], :3] - truth[3:17, :3], axis=-1)
    assert np.sqrt(np.mean(err_f**2)) < 0.7 * min(np.sqrt(np.mean(err_l**2)), np.sqrt(np.mean(err_r**2)))


# --------------------------------------------------------------------------------------
# Shapes and checks
# --------------------------------------------------------------------------------------


def test_batch_axes_broadcast():
    rng = np.random.default_rng(5)
    x1 = X_TRUE + rng.normal(0, 300, (4, 1, 6))
    x2 = X_TRUE + rng.normal(0, 300, (1, 3, 6))
    P2 = np.stack([radar_cov(az) for az in (60.0, 90.0, 120.0)])  # (3, 6, 6)
    x, P, w = covariance_intersection([x1, x2], [P_A, P2])
    assert x.shape == (4, 3, 6) and P.shape == (4, 3, 6, 6) and w.shape == (4, 3, 2)
    xn, Pn = naive_fusion([x1, x2], [P_A, P2])
    xb, Pb = bar_shalom_campo(x1, P_A, x2, P2, np.zeros((6, 6)))
    assert xn.shape == xb.shape == (4, 3, 6) and Pb.shape == (4, 3, 6, 6)
    for i in range(4):
        for k in range(3):
            xi, Pi, wi = covariance_intersection([x1[i, 0], x2[0, k]], [P_A, P2[k]])
            np.testing.assert_allclose(x[i, k], xi, rtol=0, atol=1e-6)
            np.testing.assert_allclose(P[i, k], Pi, rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(w[i, k], wi, atol=1e-12)
    # Stacked input (..., n, 6) is the same as a sequence; fixed weights are applied as given.
    xs = np.stack(np.broadcast_arrays(x1, x2), axis=-2)
    Ps = np.stack(np.broadcast_arrays(P_A, P2), axis=-3)
    xs_, Ps_, _ = covariance_intersection(xs, Ps, weights=[0.25, 0.75])
    xq, Pq = naive_fusion(xs, np.concatenate([Ps[..., :1, :, :] / 0.25, Ps[..., 1:, :, :] / 0.75], axis=-3))
    np.testing.assert_allclose(Ps_, Pq, rtol=1e-9)
    np.testing.assert_allclose(xs_, xq, rtol=0, atol=1e-6)


def test_bad_input_names_the_argument():
    P = P_A
    bad = P.copy()
    bad[0, 0] = -1.0
    not_pd = P.copy()
    not_pd[0, 1] = not_pd[1, 0] = 2.0 * np.sqrt(P[0, 0] * P[1, 1])
    asym = P.copy()
    asym[0, 1] += 1.0
    x = X_TRUE
    cases = [
        (lambda: covariance_intersection([x, x[:5]], [P, P]), r"xs\[1\]"),
        (lambda: covariance_intersection([x, x], [P, P[:5, :5]]), r"Ps\[1\]"),
        (lambda: covariance_intersection([x, x], [P, bad]), "Ps must be positive definite"),
        (lambda: covariance_intersection([x, x], [P, not_pd]), "Ps must be positive definite"),
        (lambda: covariance_intersection([x, x], [P, asym]), "Ps must be symmetric"),
        (lambda: covariance_intersection([x, x], [P, P, P]), "Ps holds 3 covariances for 2"),
        (lambda: covariance_intersection([np.tile(x, (2, 1)), np.tile(x, (3, 1))], [P, P]), "xs: batch axes"),
        (lambda: naive_fusion(np.tile(x, (2, 2, 1)), np.tile(P, (3, 2, 1, 1))), "batch axes of xs"),
        (lambda: covariance_intersection([x, x], [P, P], weights=[0.7, 0.7]), "weights"),
        (lambda: covariance_intersection([x, x], [P, P], weights=[1.2, -0.2]), "weights"),
        (lambda: covariance_intersection([x, x], [P, P], criterion="volume"), "criterion"),
        (lambda: covariance_intersection([np.full(6, np.nan), x], [P, P]), "xs must be finite"),
        (lambda: naive_fusion([x, x], [P, not_pd]), "naive_fusion: Ps must be positive definite"),
        (lambda: bar_shalom_campo(x[:3], P, x, P, P), "x1"),
        (lambda: bar_shalom_campo(x, P, x, not_pd, P), "P2 must be positive definite"),
        (lambda: bar_shalom_campo(x, P, x, P, np.zeros((3, 3))), "P12 must have shape"),
        (lambda: bar_shalom_campo(x, P, x, P, 2.0 * P), "P12 is not a cross-covariance"),
        (lambda: bar_shalom_campo(x, P_A, x, P_B, L_A @ L_B.T + 0.5 * P_A), "P12 is not a cross-covariance"),
        (lambda: TrackSet("n", np.zeros((3, 5)), np.zeros((3, 5, 5))), "x must have shape"),
        (lambda: TrackSet("n", np.zeros((3, 6)), np.zeros((2, 6, 6))), "P must have shape"),
        (lambda: correlate(TrackSet("a", x[None], P[None]), TrackSet("b", x[None], not_pd[None])), "remote.P"),
        (lambda: correlate(TrackSet("a", x[None], P[None]), TrackSet("b", x[None], P[None]), gate=22.46), "gate"),
        (lambda: fuse(TrackSet("a", x[None], P[None]), TrackSet("b", x[None], P[None]), method="mean"), "method"),
    ]
    for call, msg in cases:
        with pytest.raises(ValueError, match=msg):
            call()


def test_unchecked_intersection_is_the_checked_one():
    """``check=False`` (a fused picture's call on its own filters' tracks) skips the checks,
    not the arithmetic: the same bits as the checked call with the same weights, a weight of
    1 returning that track; without weights it refuses."""
    rng = np.random.default_rng(5)
    E = 50
    a = rng.normal(size=(E, 2, 6, 6)) * np.array([200.0] * 3 + [20.0] * 3)
    Ps = a @ np.swapaxes(a, -1, -2) + np.diag([10.0] * 3 + [0.1] * 3)
    xs = rng.normal(0.0, 1e3, (E, 2, 6)) + np.array([4e6, 3e6, 3e6, 0.0, 0.0, 0.0])
    om = rng.uniform(0.0, 1.0, E)
    om[:3] = 1.0
    w = np.stack([om, 1.0 - om], axis=-1)
    x1, P1, _ = fusion.covariance_intersection(xs, Ps, weights=w)
    x2, P2, w2 = fusion.covariance_intersection(xs, Ps, weights=w, check=False)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(P1, P2)
    np.testing.assert_array_equal(w2, w)
    np.testing.assert_array_equal(P2[:3], Ps[:3, 0])
    with pytest.raises(ValueError, match="needs the weights"):
        fusion.covariance_intersection(xs, Ps, check=False)
