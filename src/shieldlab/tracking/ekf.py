"""Batched extended Kalman filter for ballistic targets in WGS84 ECEF.

State ``x (..., 6)``: ECEF position [m] and velocity [m/s]; covariance
``P (..., 6, 6)``.  Every function is batched over arbitrary leading axes
``...`` (in the engine: Monte Carlo run × threat).

Motion model (the ballistic-target model of Li & Jilkov 2010, written in the
rotating Earth-fixed frame):  ṙ = v,  v̇ = g(r) − 2ω×v − ω×(ω×r), with g the WGS84
gravity including J2 (:func:`shieldlab.earth.gravity`).  Thrust and drag are
not modelled: they are absorbed by the process noise, a continuous white-noise
acceleration of spectral density ``q`` [m²/s³] (Bar-Shalom, Li & Kirubarajan
2001, §6.2.2), whose level the tracker adapts (:mod:`shieldlab.tracking.tracker`).

Measurement model: range [m], azimuth [rad, clockwise from north, 0..2π) and
elevation [rad] from a site, with an analytic Jacobian; the update is iterated where
the linearisation does not hold (:func:`update`), in Joseph form with the azimuth
residual wrapped to (−π, π] (BLK 2001, ch. 5 and ch. 10).

Sources: Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications
to Tracking and Navigation*, Wiley 2001 ("BLK"); X. R. Li, V. P. Jilkov, "Survey of
maneuvering target tracking. Part II: motion models of ballistic and space
targets", IEEE Trans. AES 46(1), 2010.
"""

from __future__ import annotations

import math

import numpy as np

from shieldlab import earth

#: Longest RK4 substep [s] used by :func:`predict`.
MAX_SUBSTEP_S = 2.0

_OMEGA = np.array([0.0, 0.0, earth.OMEGA_EARTH])
#: Coriolis part of ∂v̇/∂v: −2[ω×] (3, 3).
_CORIOLIS = -2.0 * np.array([[0.0, -_OMEGA[2], 0.0], [_OMEGA[2], 0.0, 0.0], [0.0, 0.0, 0.0]])
#: Centrifugal part of ∂v̇/∂r: −[ω×]² = ω²I − ωωᵀ (3, 3).
_CENTRIFUGAL = earth.OMEGA_EARTH**2 * np.eye(3) - np.outer(_OMEGA, _OMEGA)
_I3 = np.eye(3)
_I6 = np.eye(6)


def ballistic_derivative(x: np.ndarray) -> np.ndarray:
    """Time derivative of the ECEF state of an unpowered body in vacuum.

    Parameters
    ----------
    x : (..., 6) float64
        ECEF position [m] and velocity [m/s].

    Returns
    -------
    (..., 6) float64
        (velocity [m/s], acceleration [m/s²]): J2 gravity plus Coriolis and
        centrifugal terms of the rotating frame.
    """
    r, v = x[..., :3], x[..., 3:]
    a = earth.gravity(r, j2=True) + earth.rotating_frame_acceleration(r, v)
    return np.concatenate([v, a], axis=-1)


def rk4_step(x: np.ndarray, h: float) -> np.ndarray:
    """One classical Runge–Kutta step of :func:`ballistic_derivative` over ``h`` [s]."""
    k1 = ballistic_derivative(x)
    k2 = ballistic_derivative(x + 0.5 * h * k1)
    k3 = ballistic_derivative(x + 0.5 * h * k2)
    k4 = ballistic_derivative(x + h * k3)
    return x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def dynamics_jacobian(x: np.ndarray) -> np.ndarray:
    """A = ∂f/∂x of the ballistic model, (..., 6, 6).

    The gravity gradient is the point-mass one, GM/|r|³ (3 r̂r̂ᵀ − I); the J2
    part of the gradient (≈ 1e-3 of it) is neglected, as is usual for the
    covariance propagation.  The rotating-frame terms
    are exact: ∂/∂r = ω²I − ωωᵀ, ∂/∂v = −2[ω×].
    """
    r = x[..., :3]
    rn = np.linalg.norm(r, axis=-1)[..., None, None]
    u = r[..., :, None] / rn
    grad = earth.GM / rn**3 * (3.0 * u * np.swapaxes(u, -1, -2) - _I3)
    A = np.zeros(x.shape[:-1] + (6, 6))
    A[..., :3, 3:] = _I3
    A[..., 3:, :3] = grad + _CENTRIFUGAL
    A[..., 3:, 3:] = _CORIOLIS
    return A


def white_noise_accel_Q(h: float, q) -> np.ndarray:
    """Discretised continuous white-noise acceleration over ``h`` [s] (BLK 2001, §6.2.2).

    Q = [[h³/3, h²/2], [h²/2, h]] ⊗ q I₃, with ``q`` [m²/s³] a scalar or (...) array;
    returns (..., 6, 6).
    """
    B = np.array([[h**3 / 3.0, h**2 / 2.0], [h**2 / 2.0, h]])
    return np.asarray(q, dtype=float)[..., None, None] * np.kron(B, _I3)


def predict(x: np.ndarray, P: np.ndarray, dt: float, q) -> tuple[np.ndarray, np.ndarray]:
    """Propagate state and covariance by ``dt`` [s].

    The state is integrated by RK4 in ``ceil(|dt| / MAX_SUBSTEP_S)`` equal
    substeps.  Over each substep ``h`` the covariance goes through
    Φ = I + A h + (A h)²/2 with A = :func:`dynamics_jacobian` at the substep's
    start, plus the white-noise acceleration ``Q(h, q)``.

    Parameters
    ----------
    x : (..., 6), P : (..., 6, 6)
        State [m, m/s] and covariance.
    dt : float
        Time step [s], the same for the whole batch (may be 0 or negative).
    q : float or (...) array
        Process-noise spectral density [m²/s³].

    Returns
    -------
    x, P : (..., 6), (..., 6, 6)
        Predicted state and covariance (``nan`` in, ``nan`` out).
    """
    dt = float(dt)
    n = max(1, math.ceil(abs(dt) / MAX_SUBSTEP_S))
    h = dt / n
    Q = white_noise_accel_Q(abs(h), q)
    for _ in range(n):
        Ah = dynamics_jacobian(x) * h
        Phi = _I6 + Ah + 0.5 * (Ah @ Ah)
        P = Phi @ P @ np.swapaxes(Phi, -1, -2) + Q
        x = rk4_step(x, h)
    return x, 0.5 * (P + np.swapaxes(P, -1, -2))


def measure_aer(x: np.ndarray, site_ecef: np.ndarray, site_enu_matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Predicted measurement (range, azimuth, elevation) and its Jacobian.

    Parameters
    ----------
    x : (..., 6)
        ECEF state [m, m/s].
    site_ecef : (..., 3)
        Sensor position, ECEF [m].
    site_enu_matrix : (..., 3, 3)
        Rows E, N, U of the site's local frame (:func:`shieldlab.earth.enu_matrix`).

    Returns
    -------
    h : (..., 3)
        Range [m], azimuth [rad, clockwise from north, in [0, 2π)], elevation [rad].
    H : (..., 3, 6)
        ∂h/∂x; zero in the velocity columns.  Singular at zero range and at
        the zenith (horizontal range 0), where azimuth is undefined.
    """
    M = np.asarray(site_enu_matrix, dtype=float)
    enu = (M @ (x[..., :3] - site_ecef)[..., None])[..., 0]
    e, n, u = enu[..., 0], enu[..., 1], enu[..., 2]
    rho2 = e * e + n * n
    rho = np.sqrt(rho2)
    rng = np.sqrt(rho2 + u * u)
    az = np.mod(np.arctan2(e, n), 2.0 * np.pi)
    az = np.where(az >= 2.0 * np.pi, 0.0, az)  # mod can round -tiny up to 2π
    el = np.arctan2(u, rho)
    h = np.stack([rng, az, el], axis=-1)

    J = np.empty(h.shape[:-1] + (3, 3))  # ∂(rng, az, el)/∂(E, N, U)
    J[..., 0, :] = enu / rng[..., None]
    J[..., 1, 0] = n / rho2
    J[..., 1, 1] = -e / rho2
    J[..., 1, 2] = 0.0
    c = -u / (rng * rng * rho)
    J[..., 2, 0] = c * e
    J[..., 2, 1] = c * n
    J[..., 2, 2] = rho / (rng * rng)
    H = np.zeros(h.shape[:-1] + (3, 6))
    H[..., :3] = J @ M
    return h, H


def wrap_pi(a: np.ndarray) -> np.ndarray:
    """Wrap angles [rad] to (−π, π]."""
    return np.pi - np.mod(np.pi - a, 2.0 * np.pi)


#: The iterated update stops once the measurement departs from its linearisation between
#: two iterates by less than this, ``δᵀ R⁻¹ δ`` (a hundredth of a noise sigma).
ITERATE_TOL = 1e-4
#: At most this many relinearisations per update.
MAX_ITERATIONS = 10


def update(
    x: np.ndarray,
    P: np.ndarray,
    z: np.ndarray,
    R: np.ndarray,
    site_ecef: np.ndarray,
    site_enu_matrix: np.ndarray,
    mask: np.ndarray,
    iterate: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Iterated EKF measurement update with one (range, az, el) report per batch element.

    The first step is the EKF's, linearised at the prior ``x₀``; where the measurement then
    departs from that linearisation at the update by more than :data:`ITERATE_TOL` (``δᵀ R⁻¹
    δ``, δ the measurement at the new state less its first-order prediction), the update is
    relinearised there, ``x ← x₀ + K(x) [z − h(x) − H(x) (x₀ − x)]`` with ``K(x) = P H(x)ᵀ
    (H(x) P H(x)ᵀ + R)⁻¹``, until it does not (at most :data:`MAX_ITERATIONS` times): the
    iterated EKF, a Gauss-Newton search for the posterior mode (B. M. Bell, F. W. Cathey,
    "The iterated Kalman filter update as a Gauss-Newton method", IEEE Trans. AC 38(2),
    1993; BLK §10.3.3).  It matters over a spread prior: a young track seen again after a
    long revisit, whose position spread bends the range sphere by ``d²/2r`` (0.8 km for 50
    km at 1,500 km) against metres of range noise; the EKF's single step then takes more
    from the range than it holds and its covariance comes out too small.  Where the first
    step's linearisation holds (nearly every update of a track held), the result is the
    EKF's to the bit.

    Parameters
    ----------
    x, P : (..., 6), (..., 6, 6)
        Prior state [m, m/s] and covariance.
    z : (..., 3)
        Measurement (range [m], azimuth [rad], elevation [rad]).
    R : (..., 3, 3) or (3, 3)
        Measurement noise covariance.
    site_ecef, site_enu_matrix : (..., 3), (..., 3, 3)
        Sensor position [m] and local-frame rows (see :func:`measure_aer`).
    mask : (...) bool
        Where False, there is no report: ``x`` and ``P`` are returned unchanged
        and ``nis`` is ``nan`` (``x``, ``P``, ``z`` may be ``nan`` there).
    iterate : bool
        False: the EKF's single step only (for comparison; the trackers iterate).

    Returns
    -------
    x, P : (..., 6), (..., 6, 6)
        Posterior; P from the Joseph form (I−KH) P (I−KH)ᵀ + K R Kᵀ with the last
        iterate's gain and linearisation, symmetrised.
    nis : (...)
        Normalised innovation squared νᵀ S⁻¹ ν of the prior (χ² with 3 dof when consistent).
    """
    mask = np.broadcast_to(np.asarray(mask, dtype=bool), x.shape[:-1])
    full = bool(mask.all())
    xs, Ps, zs = x, P, z
    if not full:
        # Masked-out elements get a harmless stand-in (a point 1000 km above the
        # site, identity covariance) so the batched linear algebra never sees nan.
        up = np.asarray(site_ecef) + 1e6 * np.asarray(site_enu_matrix)[..., 2, :]
        stand_in = np.concatenate([up, np.zeros_like(up)], axis=-1)
        xs = np.where(mask[..., None], x, stand_in)
        Ps = np.where(mask[..., None, None], P, _I6)
    hz, H = measure_aer(xs, site_ecef, site_enu_matrix)
    if not full:
        zs = np.where(mask[..., None], z, hz)

    nu = zs - hz
    nu[..., 1] = wrap_pi(nu[..., 1])
    PHt = Ps @ np.swapaxes(H, -1, -2)
    S_inv = inv_spd3(H @ PHt + R)
    K = PHt @ S_inv
    nis = np.sum(nu * (S_inv @ nu[..., None])[..., 0], axis=-1)

    x_new = xs + (K @ nu[..., None])[..., 0]
    # relinearised at the update while the measurement departs from its linearisation by
    # more than ITERATE_TOL (R's metric) between two iterates: x ← x₀ + K(x) [z − h(x) − H(x) (x₀ − x)]
    R_inv = inv_spd3(np.broadcast_to(R, nu.shape + (3,)))
    x_prev, h_prev, H_prev = xs, hz, H
    for _ in range(MAX_ITERATIONS if iterate else 0):
        h_i, H_i = measure_aer(x_new, site_ecef, site_enu_matrix)
        dev = h_i - h_prev
        dev[..., 1] = wrap_pi(dev[..., 1])
        dev = dev - (H_prev @ (x_new - x_prev)[..., None])[..., 0]
        go = np.sum(dev * (R_inv @ dev[..., None])[..., 0], axis=-1) > ITERATE_TOL
        if not go.any():
            break
        r = zs - h_i
        r[..., 1] = wrap_pi(r[..., 1])
        r = r - (H_i @ (xs - x_new)[..., None])[..., 0]
        PHt_i = Ps @ np.swapaxes(H_i, -1, -2)
        K_i = PHt_i @ inv_spd3(H_i @ PHt_i + R)
        g = go[..., None]
        x_prev, h_prev = np.where(g, x_new, x_prev), np.where(g, h_i, h_prev)
        H_prev, K = np.where(g[..., None], H_i, H_prev), np.where(g[..., None], K_i, K)
        x_new = np.where(g, xs + (K_i @ r[..., None])[..., 0], x_new)
    H = H_prev
    IKH = _I6 - K @ H
    P_new = IKH @ Ps @ np.swapaxes(IKH, -1, -2) + K @ R @ np.swapaxes(K, -1, -2)
    P_new = 0.5 * (P_new + np.swapaxes(P_new, -1, -2))
    if full:
        return x_new, P_new, nis
    return (
        np.where(mask[..., None], x_new, x),
        np.where(mask[..., None, None], P_new, P),
        np.where(mask, nis, np.nan),
    )


def inv_spd3(S: np.ndarray) -> np.ndarray:
    """Inverse of symmetric positive-definite (..., 3, 3) matrices, in closed form.

    The matrix is first scaled to unit diagonal (a correlation matrix), so the
    adjugate formula stays accurate when the diagonal spans many orders of
    magnitude (range m² beside angle rad²).  About 10× faster than
    ``np.linalg.solve`` on a batch of small matrices.
    """
    d = 1.0 / np.sqrt(np.diagonal(S, axis1=-2, axis2=-1))
    C = S * d[..., :, None] * d[..., None, :]
    a, b, c = C[..., 0, 0], 0.5 * (C[..., 0, 1] + C[..., 1, 0]), 0.5 * (C[..., 0, 2] + C[..., 2, 0])
    e, f, i = C[..., 1, 1], 0.5 * (C[..., 1, 2] + C[..., 2, 1]), C[..., 2, 2]
    A = np.empty(S.shape)
    A[..., 0, 0] = e * i - f * f
    A[..., 0, 1] = A[..., 1, 0] = c * f - b * i
    A[..., 0, 2] = A[..., 2, 0] = b * f - c * e
    A[..., 1, 1] = a * i - c * c
    A[..., 1, 2] = A[..., 2, 1] = b * c - a * f
    A[..., 2, 2] = a * e - b * b
    det = a * A[..., 0, 0] + b * A[..., 0, 1] + c * A[..., 0, 2]
    return A * (d[..., :, None] * d[..., None, :] / det[..., None, None])


def init_from_detection(
    z: np.ndarray, R: np.ndarray, site_lat: float, site_lon: float, site_alt: float, sigma_v: float
) -> tuple[np.ndarray, np.ndarray]:
    """One-point track initiation from a single (range, az, el) report.

    Position is the report converted to ECEF (:func:`shieldlab.earth.aer_to_ecef`)
    with covariance J R Jᵀ, J = ∂r/∂(range, az, el); velocity is 0 (ECEF) with
    variance ``sigma_v²`` per axis, uncorrelated — a diffuse prior that the next
    reports overwrite (one-point initiation).

    Parameters
    ----------
    z : (..., 3)
        Range [m], azimuth [rad], elevation [rad].
    R : (..., 3, 3) or (3, 3)
        Measurement noise covariance.
    site_lat, site_lon, site_alt : float
        Sensor geodetic position [rad, rad, m].
    sigma_v : float
        Prior standard deviation of each velocity component [m/s].

    Returns
    -------
    x : (..., 6), P : (..., 6, 6)
    """
    rng, az, el = z[..., 0], z[..., 1], z[..., 2]
    pos = earth.aer_to_ecef(az, el, rng, site_lat, site_lon, site_alt)
    ca, sa, ce, se = np.cos(az), np.sin(az), np.cos(el), np.sin(el)
    J_enu = np.stack(
        [
            np.stack([ce * sa, rng * ce * ca, -rng * se * sa], axis=-1),
            np.stack([ce * ca, -rng * ce * sa, -rng * se * ca], axis=-1),
            np.stack([se, np.zeros_like(se), rng * ce], axis=-1),
        ],
        axis=-2,
    )  # ∂(E, N, U)/∂(range, az, el)
    J = np.swapaxes(earth.enu_matrix(site_lat, site_lon), -1, -2) @ J_enu
    P = np.zeros(z.shape[:-1] + (6, 6))
    P[..., :3, :3] = J @ R @ np.swapaxes(J, -1, -2)
    P[..., 3:, 3:] = sigma_v**2 * _I3
    x = np.concatenate([pos, np.zeros_like(pos)], axis=-1)
    return x, P
