"""Tabulated atmosphere and scalar force helpers shared by the two flyout integrators.

The fast path (Numba) cannot call :func:`shieldlab.earth.atmosphere`, so both
integrators read one table built from it at import: US Standard Atmosphere 1976
density, pressure and speed of sound every 100 m from 0 to 200 km (log-linear in
density and pressure, which is exact inside the standard's isothermal layers).
Above 200 km the density (< 3e-10 kg/m^3) is taken as zero: at 7 km/s it gives a
re-entry vehicle less than 1e-4 m/s^2 of drag.
"""

from __future__ import annotations

import numpy as np

from shieldlab import earth

ATM_STEP_M = 100.0
ATM_TOP_M = 200e3
_alt = np.arange(0.0, ATM_TOP_M + ATM_STEP_M, ATM_STEP_M)
_atm = earth.atmosphere(_alt)
#: (A, 3) table: log density, log pressure, speed of sound at 0, 100, 200 m ...
ATM_TABLE = np.ascontiguousarray(
    np.stack([np.log(_atm.density), np.log(_atm.pressure), _atm.speed_of_sound], axis=1)
)
P0 = float(_atm.pressure[0])  # sea-level pressure [Pa]


def atmosphere_table(alt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Density [kg/m^3], pressure [Pa] and speed of sound [m/s] from :data:`ATM_TABLE` (vectorised)."""
    alt = np.asarray(alt, float)
    x = np.clip(alt, 0.0, ATM_TOP_M) / ATM_STEP_M
    i = np.minimum(x.astype(np.int64), ATM_TABLE.shape[0] - 2)
    f = x - i
    row0, row1 = ATM_TABLE[i], ATM_TABLE[i + 1]
    v = row0 + (row1 - row0) * f[..., None]
    above = alt > ATM_TOP_M
    rho = np.where(above, 0.0, np.exp(v[..., 0]))
    p = np.where(above, 0.0, np.exp(v[..., 1]))
    return rho, p, v[..., 2]


def interp_rows(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Row-wise linear interpolation with flat ends: ``x`` (B,), tables ``xp``, ``fp`` (B, M)."""
    M = xp.shape[1]
    j = np.empty(x.shape, np.int64)
    for b in range(x.shape[0]):  # B searchsorted calls on tiny tables; cheap next to the physics
        j[b] = np.searchsorted(xp[b], x[b])
    j = np.clip(j, 1, M - 1)
    r = np.arange(x.shape[0])
    x0, x1 = xp[r, j - 1], xp[r, j]
    f0, f1 = fp[r, j - 1], fp[r, j]
    w = np.clip((x - x0) / (x1 - x0), 0.0, 1.0)
    return f0 + (f1 - f0) * w
