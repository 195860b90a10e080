"""Fast path of the batched 3-DOF flyout: a Numba kernel, one trajectory per thread.

Same model, same event handling and same step sequence as the NumPy reference in
:mod:`shieldlab.flyout.reference`; ``tests/test_flyout.py`` holds the two equal.
Hand-written because the flyout is the heart of every Monte Carlo raid and
footprint map, and a vectorised NumPy step costs ~60 small array operations per
step while this one stays in registers (see bench/flyout.py).

Frame: WGS84 ECEF (rotating) unless ``rotating`` is False, when the same axes are
treated as inertial.  State: position [m], velocity relative to the frame [m/s].
Time: absolute seconds from the scenario epoch; ``tau`` is time since launch.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from shieldlab import earth
from shieldlab.flyout.forces import ATM_STEP_M, ATM_TOP_M, P0

_A = earth.WGS84_A
_E2 = earth.WGS84_E2
_B = _A * math.sqrt(1.0 - _E2)
_EP2 = (_A * _A - _B * _B) / (_B * _B)
_GM = earth.GM
_J2 = earth.J2
_W = earth.OMEGA_EARTH
_RS = earth.R_EARTH_MEAN
_REENTRY_ALT = 100e3

# flags bit field
ROTATING, J2_ON, DRAG_ON, SPHERE = 1, 2, 4, 8

# phases (see shieldlab.flyout.records.Phase)
_PRELAUNCH, _BOOST, _MID, _REENTRY, _IMPACTED = 0, 1, 2, 3, 4

_jit = nb.njit(cache=True, fastmath=False, error_model="numpy")
# Helpers called inside the per-step loop are inlined at Numba-IR level: a call that
# passes arrays costs an atomic reference-count update on them, and with the arrays
# shared by every thread those updates serialised the parallel build (2 threads ran
# no faster than 1).
_inline = nb.njit(cache=True, fastmath=False, error_model="numpy", inline="always")


@_inline
def geodetic(x, y, z, sphere):
    """(lat, lon, alt) of an ECEF point: Heikkinen's closed form, or the mean sphere."""
    p = math.sqrt(x * x + y * y)
    lon = math.atan2(y, x)
    if sphere:
        r = math.sqrt(p * p + z * z)
        return math.atan2(z, p), lon, r - _RS
    a2 = _A * _A
    b2 = _B * _B
    F = 54.0 * b2 * z * z
    G = p * p + (1.0 - _E2) * z * z - _E2 * (a2 - b2)
    c = _E2 * _E2 * F * p * p / (G * G * G)
    s = (1.0 + c + math.sqrt(c * c + 2.0 * c)) ** (1.0 / 3.0)
    k = s + 1.0 + 1.0 / s
    P = F / (3.0 * k * k * G * G)
    Q = math.sqrt(1.0 + 2.0 * _E2 * _E2 * P)
    r0 = -P * _E2 * p / (1.0 + Q) + math.sqrt(
        max(0.5 * a2 * (1.0 + 1.0 / Q) - P * (1.0 - _E2) * z * z / (Q * (1.0 + Q)) - 0.5 * P * p * p, 0.0)
    )
    t = p - _E2 * r0
    U = math.sqrt(t * t + z * z)
    V = math.sqrt(t * t + (1.0 - _E2) * z * z)
    z0 = b2 * z / (_A * V)
    return math.atan2(z + _EP2 * z0, p), lon, U * (1.0 - b2 / (_A * V))


@_inline
def _atm(alt, table):
    if alt > ATM_TOP_M:
        return 0.0, 0.0, table[table.shape[0] - 1, 2]
    x = max(alt, 0.0) / ATM_STEP_M
    i = min(int(x), table.shape[0] - 2)
    f = x - i
    lr = table[i, 0] + (table[i + 1, 0] - table[i, 0]) * f
    lp = table[i, 1] + (table[i + 1, 1] - table[i, 1]) * f
    a = table[i, 2] + (table[i + 1, 2] - table[i, 2]) * f
    return math.exp(lr), math.exp(lp), a


@_inline
def _interp(x, xp, fp):
    M = xp.shape[0]
    if x <= xp[0]:
        return fp[0]
    for j in range(1, M):
        if x <= xp[j]:
            w = (x - xp[j - 1]) / (xp[j] - xp[j - 1])
            return fp[j - 1] + (fp[j] - fp[j - 1]) * w
    return fp[M - 1]


@_inline
def _deriv(s, tau, out, flags, table, stage, m0, mdot, start, fvac, fsl, area, cdm, cd, mass_bal,
           mode, t_vert, t_pitch, kick, az):
    """Time derivative of the 6-state.  The regime — burning stage, drag tables and the
    steering ``mode`` (0 vertical, 1 pitch-over, 2 gravity turn) — is fixed for the whole
    sub-step (taken at its midpoint), so RK4 never straddles a switch."""
    x, y, z, vx, vy, vz = s[0], s[1], s[2], s[3], s[4], s[5]
    r2 = x * x + y * y + z * z
    r = math.sqrt(r2)
    # gravity: point mass + J2
    gm_r3 = _GM / (r2 * r)
    if flags & J2_ON:
        k = 1.5 * _J2 * (_A * _A) / r2
        zz = 5.0 * z * z / r2
        ax = -gm_r3 * x * (1.0 + k * (1.0 - zz))
        ay = -gm_r3 * y * (1.0 + k * (1.0 - zz))
        az_ = -gm_r3 * z * (1.0 + k * (3.0 - zz))
    else:
        ax = -gm_r3 * x
        ay = -gm_r3 * y
        az_ = -gm_r3 * z
    if flags & ROTATING:
        ax += 2.0 * _W * vy + _W * _W * x
        ay += -2.0 * _W * vx + _W * _W * y
    # geodetic position only where it matters: inside the tabulated atmosphere (drag,
    # thrust's pressure term) or while the thrust is steered by the local vertical.
    # Above a + 200 km the geodetic altitude exceeds 200 km, so the air is taken as vacuum.
    low = r < _A + ATM_TOP_M
    v = math.sqrt(vx * vx + vy * vy + vz * vz)
    steered = stage >= 0 and (mode < 2 or v == 0.0)
    rho, p, a_snd = 0.0, 0.0, 1.0
    lat, lon = 0.0, 0.0
    if (low and ((flags & DRAG_ON) or stage >= 0)) or steered:
        lat, lon, alt = geodetic(x, y, z, flags & SPHERE)
        if low:
            rho, p, a_snd = _atm(alt, table)
    if stage >= 0:
        mass = m0 - mdot * (tau - start)
        thrust = fvac - (fvac - fsl) * p / P0
        if not steered:  # gravity turn: thrust along the velocity
            dx, dy, dz = vx / v, vy / v, vz / v
        else:
            cl, sl, co, so = math.cos(lat), math.sin(lat), math.cos(lon), math.sin(lon)
            ux, uy, uz = cl * co, cl * so, sl  # local up (geodetic normal)
            dx, dy, dz = ux, uy, uz
        if steered and mode == 1:
            th = kick * min((tau - t_vert) / t_pitch, 1.0) if t_pitch > 0 else kick
            ca, sa = math.cos(az), math.sin(az)
            # horizontal unit vector along the azimuth: cos(az) North + sin(az) East
            hx = ca * (-sl * co) + sa * (-so)
            hy = ca * (-sl * so) + sa * co
            hz = ca * cl
            c, sn = math.cos(th), math.sin(th)
            dx, dy, dz = c * ux + sn * hx, c * uy + sn * hy, c * uz + sn * hz
        ax += thrust / mass * dx
        ay += thrust / mass * dy
        az_ += thrust / mass * dz
    else:
        mass = mass_bal
    if (flags & DRAG_ON) and rho > 0.0 and v > 0.0 and area > 0.0:
        c_d = _interp(v / a_snd, cdm, cd)
        kd = 0.5 * rho * v * c_d * area / mass
        ax -= kd * vx
        ay -= kd * vy
        az_ -= kd * vz
    out[0], out[1], out[2] = vx, vy, vz
    out[3], out[4], out[5] = ax, ay, az_


@_inline
def _alt_of(s, flags):
    return geodetic(s[0], s[1], s[2], flags & SPHERE)[2]


@_jit
def _fly_one(b, r0, v0, t_launch, grid_t0, dt, T, record, t_max, flags, table,
             burn, mdot, fvac, fsl, m0, boost_area, boost_mach, boost_cd, rv_sep, rv_mass, rv_area,
             rv_mach, rv_cd, t_vert, t_pitch, kick, az, cutoff,
             out_pos, out_vel, out_phase, ev):
    S = burn.shape[1]
    # stage timetable (tau)
    starts = np.zeros(S)
    ends = np.zeros(S)
    acc = 0.0
    for j in range(S):
        starts[j] = acc
        acc += burn[b, j]
        ends[j] = acc
    t_pow = min(cutoff[b], acc)
    # mass after powered flight
    last = -1
    for j in range(S):
        if burn[b, j] > 0.0 and starts[j] < t_pow:
            last = j
    if rv_sep[b]:
        m_bal = rv_mass[b]
    elif last >= 0:
        m_bal = m0[b, last] - mdot[b, last] * (t_pow - starts[last])
    else:
        m_bal = rv_mass[b]
    # event list (tau): vertical end, pitch end, stage ends, power end
    nev = 0
    events = np.empty(S + 3)
    for e in (t_vert[b], t_vert[b] + t_pitch[b], t_pow):
        if 0.0 < e <= t_pow:
            events[nev] = e
            nev += 1
    for j in range(S):
        if 0.0 < ends[j] < t_pow:
            events[nev] = ends[j]
            nev += 1
    events[:nev] = np.sort(events[:nev])

    s = np.empty(6)
    for i in range(3):
        s[i] = r0[b, i]
        s[3 + i] = v0[b, i]
    k1 = np.empty(6); k2 = np.empty(6); k3 = np.empty(6); k4 = np.empty(6); tmp = np.empty(6)
    s_prev = np.empty(6)
    d_prev = np.empty(6)
    d_new = np.empty(6)
    t_cur = t_launch[b]
    landed = False
    ev[b, 0] = np.inf if t_pow > 0 else t_launch[b]  # burnout time
    ev[b, 1] = 0.0  # burnout speed
    ev[b, 2] = t_launch[b]  # apogee time
    alt0 = _alt_of(s, flags)
    ev[b, 3] = alt0  # apogee alt
    ev[b, 4] = np.inf  # impact time
    ev[b, 5] = np.nan
    ev[b, 6] = np.nan
    ev[b, 7] = np.nan
    if t_pow <= 0.0:
        w = _W if flags & ROTATING else 0.0
        ux = s[3] - w * s[1]
        uy = s[4] + w * s[0]
        ev[b, 1] = math.sqrt(ux * ux + uy * uy + s[5] * s[5])
    for kk in range(T):
        g = grid_t0 + kk * dt
        if g - t_launch[b] > t_max:
            break
        while (not landed) and t_cur < g:
            tau = t_cur - t_launch[b]
            t_next = g
            for e in range(nev):
                te = t_launch[b] + events[e]
                if te > t_cur + 1e-9:
                    if te < t_next:
                        t_next = te
                    break
            h = t_next - t_cur
            tm = tau + 0.5 * h  # regime at the sub-step midpoint
            mode = 0 if tm < t_vert[b] else (1 if tm < t_vert[b] + t_pitch[b] else 2)
            stage = -1
            if tm < t_pow:
                for j in range(S):
                    if starts[j] <= tm < ends[j]:
                        stage = j
                        break
            if stage >= 0:
                sm0, smd, sst, sfv, sfs = m0[b, stage], mdot[b, stage], starts[stage], fvac[b, stage], fsl[b, stage]
                area, cdm, cd = boost_area[b], boost_mach[b], boost_cd[b]
            else:
                sm0, smd, sst, sfv, sfs = 0.0, 0.0, 0.0, 0.0, 0.0
                if rv_sep[b]:
                    area, cdm, cd = rv_area[b], rv_mach[b], rv_cd[b]
                else:
                    area, cdm, cd = boost_area[b], boost_mach[b], boost_cd[b]
            for i in range(6):
                s_prev[i] = s[i]
            _deriv(s, tau, k1, flags, table, stage, sm0, smd, sst, sfv, sfs, area, cdm, cd, m_bal,
                   mode, t_vert[b], t_pitch[b], kick[b], az[b])
            for i in range(6):
                d_prev[i] = k1[i]
                tmp[i] = s[i] + 0.5 * h * k1[i]
            _deriv(tmp, tau + 0.5 * h, k2, flags, table, stage, sm0, smd, sst, sfv, sfs, area, cdm, cd, m_bal,
                   mode, t_vert[b], t_pitch[b], kick[b], az[b])
            for i in range(6):
                tmp[i] = s[i] + 0.5 * h * k2[i]
            _deriv(tmp, tau + 0.5 * h, k3, flags, table, stage, sm0, smd, sst, sfv, sfs, area, cdm, cd, m_bal,
                   mode, t_vert[b], t_pitch[b], kick[b], az[b])
            for i in range(6):
                tmp[i] = s[i] + h * k3[i]
            _deriv(tmp, tau + h, k4, flags, table, stage, sm0, smd, sst, sfv, sfs, area, cdm, cd, m_bal,
                   mode, t_vert[b], t_pitch[b], kick[b], az[b])
            for i in range(6):
                s[i] = s[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
            t_cur = t_next
            tau_new = t_cur - t_launch[b]
            if abs(tau_new - t_pow) < 1e-9 and t_pow > 0.0:
                w = _W if flags & ROTATING else 0.0
                ux = s[3] - w * s[1]
                uy = s[4] + w * s[0]
                ev[b, 0] = t_cur
                ev[b, 1] = math.sqrt(ux * ux + uy * uy + s[5] * s[5])
            alt = _alt_of(s, flags)
            if alt > ev[b, 3]:
                ev[b, 2] = t_cur
                ev[b, 3] = alt
            if alt < 0.0 and tau_new > 0.0:
                # impact inside this sub-step: bisect the cubic Hermite interpolant of the position
                _deriv(s, tau_new, d_new, flags, table, stage, sm0, smd, sst, sfv, sfs, area, cdm, cd, m_bal,
                       mode, t_vert[b], t_pitch[b], kick[b], az[b])
                lo, hi = 0.0, 1.0
                px, py, pz = s[0], s[1], s[2]
                for _ in range(40):
                    u = 0.5 * (lo + hi)
                    h00 = 2 * u ** 3 - 3 * u ** 2 + 1
                    h10 = u ** 3 - 2 * u ** 2 + u
                    h01 = -2 * u ** 3 + 3 * u ** 2
                    h11 = u ** 3 - u ** 2
                    px = h00 * s_prev[0] + h10 * h * d_prev[0] + h01 * s[0] + h11 * h * d_new[0]
                    py = h00 * s_prev[1] + h10 * h * d_prev[1] + h01 * s[1] + h11 * h * d_new[1]
                    pz = h00 * s_prev[2] + h10 * h * d_prev[2] + h01 * s[2] + h11 * h * d_new[2]
                    if geodetic(px, py, pz, flags & SPHERE)[2] > 0.0:
                        lo = u
                    else:
                        hi = u
                ev[b, 4] = t_cur - h + 0.5 * (lo + hi) * h
                ev[b, 5], ev[b, 6], ev[b, 7] = px, py, pz
                landed = True
        if record:
            if g < t_launch[b]:
                for i in range(3):
                    out_pos[b, kk, i] = r0[b, i]
                    out_vel[b, kk, i] = 0.0
                out_phase[b, kk] = _PRELAUNCH
            elif landed:
                for i in range(3):
                    out_pos[b, kk, i] = ev[b, 5 + i]
                    out_vel[b, kk, i] = 0.0
                out_phase[b, kk] = _IMPACTED
            else:
                for i in range(3):
                    out_pos[b, kk, i] = s[i]
                    out_vel[b, kk, i] = s[3 + i]
                tau_g = g - t_launch[b]
                if tau_g < t_pow:
                    out_phase[b, kk] = _BOOST
                else:
                    alt = _alt_of(s, flags)
                    vr = s[0] * s[3] + s[1] * s[4] + s[2] * s[5]
                    out_phase[b, kk] = _REENTRY if (alt < _REENTRY_ALT and vr < 0.0) else _MID
        if landed and not record:
            break


def _fly_all(r0, v0, t_launch, grid_t0, dt, T, record, t_max, flags, table,
               burn, mdot, fvac, fsl, m0, boost_area, boost_mach, boost_cd, rv_sep, rv_mass, rv_area,
               rv_mach, rv_cd, t_vert, t_pitch, kick, az, cutoff,
               out_pos, out_vel, out_phase, ev):
    """Fly ``B`` trajectories; writes ``out_*`` (if ``record``) and ``ev`` (B, 8):
    burnout time, burnout inertial speed, apogee time, apogee altitude, impact time, impact x, y, z."""
    for b in nb.prange(r0.shape[0]):  # prange is a plain range in the serial build
        _fly_one(b, r0, v0, t_launch, grid_t0, dt, T, record, t_max, flags, table,
                 burn, mdot, fvac, fsl, m0, boost_area, boost_mach, boost_cd, rv_sep, rv_mass, rv_area,
                 rv_mach, rv_cd, t_vert, t_pitch, kick, az, cutoff,
                 out_pos, out_vel, out_phase, ev)


# Two builds of one loop: threads pay off for big batches; for the small batches of
# the aiming solver and fire control the serial build avoids the OpenMP workers,
# which spin after each parallel region and steal the core the Python thread needs.
fly_kernel = nb.njit(cache=True, parallel=True)(_fly_all)
fly_kernel_serial = nb.njit(cache=True)(_fly_all)
#: Batches smaller than this run on the serial build.
PARALLEL_MIN_BATCH = 512
