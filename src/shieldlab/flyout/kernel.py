"""Fast path of the batched 3-DOF flyout: a Numba kernel, one trajectory at a time per core.

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
#: A launch point nearer the spin axis than this [m] (the last 0.09 deg of latitude) pitches
#: over in the plane of its launch azimuth held fixed (:func:`_pitch_heading`).  Elsewhere the
#: azimuth is read from the meridian of the missile's current position, a fine stand-in for that
#: plane where the meridian barely turns as the missile moves (by its sideways move over its
#: distance from the axis: 1e-4 rad or less at mid-latitudes).  Near a pole that turn grows
#: without bound and curls the pitch-over into a spiral about the axis, and at the pole itself
#: rounding sets the meridian: the aiming solver loses its shots within about 100 m of the axis,
#: and a Topol-M kicked 20 deg lands ~200 km from the fixed plane's impact when launched 1 km
#: from the axis, ~12 km at 11 km (latitude 89.9 deg).  Beyond the cap launches fly as before.
POLAR_CAP_M = 10e3
#: Longest RK4 step [s] under thrust or in the air.  The output grid step ``dt`` may be
#: longer (up to 10 s); such a step is then split into equal sub-steps, so the physics
#: does not coarsen with the sampling: at dt = 10 s a Sejjil-2 re-entry flown in one
#: RK4 step per sample lands 2 km from the 0.1 s solution, in 1 s sub-steps within
#: metres.  The drag-free coast keeps its Adams steps of the grid size (errors ~h^5).
H_MAX = 1.0

# flags bit field
ROTATING, J2_ON, DRAG_ON, SPHERE, SUB_STEPS = 1, 2, 4, 8, 16

# phases (see shieldlab.flyout.records.Phase)
_PRELAUNCH, _BOOST, _MID, _REENTRY, _IMPACTED = 0, 1, 2, 3, 4

_jit = nb.njit(cache=True, fastmath=False, error_model="numpy")
# Helpers called inside the per-step loop are inlined at Numba-IR level: a call that
# passes arrays costs an atomic reference-count update on them, and with the arrays
# shared by every thread those updates serialised the parallel build (2 threads ran
# no faster than 1).
_inline = nb.njit(cache=True, fastmath=False, error_model="numpy", inline="always")


@_inline
def _bowring(x, y, z):
    """One step of Bowring's (1976) iteration from the parametric latitude, written without
    trigonometry: (p, sin, cos of the geodetic latitude, height [m]).  Against the exact
    (Heikkinen) form it is within 1e-8 m in height and 1e-10 rad in latitude up to 200 km
    altitude, 7e-9 rad at 6,000 km (tests/test_flyout.py), at a third of the cost."""
    p = math.sqrt(x * x + y * y)
    bp, az = _B * p, _A * z
    d = math.sqrt(bp * bp + az * az)
    cb, sb = bp / d, az / d
    num = z + _EP2 * _B * sb * sb * sb
    den = p - _E2 * _A * cb * cb * cb
    n = math.sqrt(num * num + den * den)
    sp, cp = num / n, den / n
    return p, sp, cp, p * cp + z * sp - _A * math.sqrt(1.0 - _E2 * sp * sp)


@_inline
def geodetic(x, y, z, sphere):
    """(lat, lon, alt) of an ECEF point [rad, rad, m]: Bowring's form, or the mean sphere."""
    lon = math.atan2(y, x)
    if sphere:
        p = math.sqrt(x * x + y * y)
        r = math.sqrt(p * p + z * z)
        return math.atan2(z, p), lon, r - _RS
    p, sp, cp, h = _bowring(x, y, z)
    return math.atan2(sp, cp), lon, h


@_inline
def _pitch_heading(x0, y0, z0, az, sphere):
    """The pitch-over's steering ``mode`` and heading for a launch from ECEF ``(x0, y0, z0)``
    [m] on azimuth ``az`` [rad from north]: ``(1, az)``, the azimuth read from each position's
    meridian, or within :data:`POLAR_CAP_M` of the spin axis ``(3, psi)``: the launch heading
    held fixed, as the direction ``psi`` [rad] about the axis (from +x towards +y) of its
    horizontal unit vector at the launch point, ``cos(az) North + sin(az) East`` there.  At a
    pole that is the limit along the launch point's meridian, whose longitude its ECEF position
    keeps (``earth.geodetic_to_ecef`` at latitude +-90 deg leaves it 4e-10 m off the axis): the
    azimuth is the great-circle bearing that ``earth.initial_bearing`` gives from there."""
    if math.sqrt(x0 * x0 + y0 * y0) >= POLAR_CAP_M:
        return 1, az
    lat, lon, _ = geodetic(x0, y0, z0, sphere)
    sl, co, so = math.sin(lat), math.cos(lon), math.sin(lon)
    ca, sa = math.cos(az), math.sin(az)
    return 3, math.atan2(ca * (-sl * so) + sa * co, ca * (-sl * co) + sa * (-so))


@_inline
def height(x, y, z, sphere):
    """Geodetic altitude [m] alone: ``geodetic(...)[2]`` without the arctangents."""
    if sphere:
        return math.sqrt(x * x + y * y + z * z) - _RS
    return _bowring(x, y, z)[3]


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
def _interp(x, xp, fp, row):
    """Linear interpolation in row ``row`` of the tables ``xp``, ``fp`` (flat beyond the ends).
    Rows are indexed here rather than sliced by the caller: a slice is a new array
    view, and views cost reference-count updates on every sub-step."""
    M = xp.shape[1]
    if x <= xp[row, 0]:
        return fp[row, 0]
    for j in range(1, M):
        if x <= xp[row, j]:
            w = (x - xp[row, j - 1]) / (xp[row, j] - xp[row, j - 1])
            return fp[row, j - 1] + (fp[row, j] - fp[row, j - 1]) * w
    return fp[row, M - 1]


@_inline
def _gravity(x, y, z, vx, vy, flags):
    """Acceleration [m/s^2] of free fall in the frame: point mass + J2, and, in the rotating
    frame, the Coriolis and centrifugal terms; also returns the radius r [m]."""
    r2 = x * x + y * y + z * z
    r = math.sqrt(r2)
    gm_r3 = _GM / (r2 * r)
    if flags & J2_ON:
        k = 1.5 * _J2 * (_A * _A) / r2
        zz = 5.0 * z * z / r2
        ax = -gm_r3 * x * (1.0 + k * (1.0 - zz))
        ay = -gm_r3 * y * (1.0 + k * (1.0 - zz))
        az = -gm_r3 * z * (1.0 + k * (3.0 - zz))
    else:
        ax = -gm_r3 * x
        ay = -gm_r3 * y
        az = -gm_r3 * z
    if flags & ROTATING:
        ax += 2.0 * _W * vy + _W * _W * x
        ay += -2.0 * _W * vx + _W * _W * y
    return ax, ay, az, r


#: Lift programme constants (assumptions, docs/models.md "Quasi-ballistic flight"): the time
#: constant of the flight-path-angle loop [s], the time constant of the glide's height hold [s]
#: and the steepest climb or descent the hold asks for [rad].
LIFT_TAU_GAMMA_S = 2.0
LIFT_TAU_HOLD_S = 10.0
LIFT_HOLD_MAX_RAD = 0.2


@_inline
def _path_normal(x, y, z, r, ux, uy, uz):
    """Unit vector normal to the flight path (unit ``u``) in its vertical plane, pointing up
    (geocentric up: the radius ``r`` from the centre)."""
    sg = (x * ux + y * uy + z * uz) / r
    nx, ny, nz = x / r - sg * ux, y / r - sg * uy, z / r - sg * uz
    n = math.sqrt(nx * nx + ny * ny + nz * nz)
    if n < 1e-12:  # flying straight up or down: any horizontal direction
        return 1.0, 0.0, 0.0
    return nx / n, ny / n, nz / n


@_inline
def _lift(x, y, z, vx, vy, vz, r, v, qs_m, cd0, tau, lp, row, aero, flags):
    """Lift acceleration [m/s^2] of a quasi-ballistic missile and its induced drag per unit
    velocity [1/s] (added to the zero-lift drag's ``kd``).

    The lift steers the flight-path angle gamma (geocentric) toward gamma_cmd through
    ``a_n = (g - v^2/r) cos(gamma) + v (gamma_cmd - gamma) / LIFT_TAU_GAMMA_S`` in the path's
    vertical plane: lift phase 1 (glide) holds the glide height, gamma_cmd = (h_g - h) /
    (v LIFT_TAU_HOLD_S) within +-LIFT_HOLD_MAX_RAD; phase 2 dives at gamma_cmd = -dive angle
    and weaves sideways at ``weave cos(2 pi (tau - tau_dive) / period)`` from the dive's start
    ``tau_dive`` (a cosine: the sideways speed it gives averages zero, so the weave moves the
    impact by a bounded offset, at most 2 weave (period / 2 pi)^2, not a drift).  The lift is capped by the
    polar's best-L/D lift coefficient ``2 C_D0 L/D`` at dynamic pressure q (``qs_m`` = q S / m)
    and by the load limit; its induced drag is ``q S C_L^2 / (4 C_D0 (L/D)^2) / m``."""
    ld = aero[row, 0]
    ux, uy, uz = vx / v, vy / v, vz / v
    nx, ny, nz = _path_normal(x, y, z, r, ux, uy, uz)
    sg = (x * ux + y * uy + z * uz) / r
    cg = math.sqrt(max(1.0 - sg * sg, 0.0))
    gam = math.asin(max(-1.0, min(1.0, sg)))
    g_eff = _GM / (r * r) - v * v / r
    if lp == 1:
        h = _alt_fast(x, y, z, flags)
        gcmd = max(-LIFT_HOLD_MAX_RAD, min(LIFT_HOLD_MAX_RAD, (aero[row, 1] - h) / (v * LIFT_TAU_HOLD_S)))
        a_lat = 0.0
    else:
        gcmd = -aero[row, 3]
        a_lat = aero[row, 4] * math.cos(2.0 * math.pi * (tau - aero[row, 7]) / aero[row, 5])
    a_n = g_eff * cg + v * (gcmd - gam) / LIFT_TAU_GAMMA_S
    a_max = min(qs_m * 2.0 * cd0 * ld, aero[row, 6])
    a_tot = math.sqrt(a_n * a_n + a_lat * a_lat)
    if a_tot > a_max:
        f = a_max / a_tot
        a_n *= f
        a_lat *= f
        a_tot = a_max
    # sideways: u x n (to the right of the path, seen from above)
    ex, ey, ez = uy * nz - uz * ny, uz * nx - ux * nz, ux * ny - uy * nx
    cl = a_tot / qs_m if qs_m > 0.0 else 0.0
    kind = qs_m * cl * cl / (4.0 * cd0 * ld * ld) / v
    return (a_n * nx + a_lat * ex, a_n * ny + a_lat * ey, a_n * nz + a_lat * ez, kind)


@_inline
def _deriv(x, y, z, vx, vy, vz, tau, flags, table, stage, m0, mdot, start, fvac, fsl, area, use_rv, b,
           boost_mach, boost_cd, rv_mach, rv_cd, mode, t_vert, t_pitch, kick, az, spitch, lp, aero):
    """Time derivative of the 6-state.  The regime — burning stage, drag tables, the
    steering ``mode`` (0 vertical, 1 pitch-over on the azimuth ``az`` [rad from north], 2 gravity
    turn, with the stage's pitch programme ``spitch`` [rad] above the path, 3 pitch-over of a
    launch near a pole towards the fixed direction ``az`` about the spin axis, see
    :func:`_pitch_heading`) and the lift phase ``lp`` (0 none, 1 glide,
    2 terminal dive; see :func:`_lift`) — is fixed for the whole sub-step (taken at its
    midpoint or its start), so RK4 never straddles a switch.  ``m0`` is the stage's mass at
    ignition, or unpowered (``stage`` -1) the mass after powered flight.  Scalars in and out
    (a tuple) so the state stays in registers (at most 30 arguments: a longer call compiles to
    one with ``*args``, which Numba will not inline)."""
    ax, ay, az_, r = _gravity(x, y, z, vx, vy, flags)
    # geodetic position only where it matters: inside the tabulated atmosphere (drag,
    # thrust's pressure term) or while the thrust is steered by the local vertical.
    # Above a + 200 km the geodetic altitude exceeds 200 km, so the air is taken as vacuum.
    low = r < _A + ATM_TOP_M
    v = math.sqrt(vx * vx + vy * vy + vz * vz) if (stage >= 0 or low) else 0.0
    steered = stage >= 0 and (mode != 2 or v == 0.0)
    rho, p, a_snd = 0.0, 0.0, 1.0
    lat, lon = 0.0, 0.0
    if steered:
        lat, lon, alt = geodetic(x, y, z, flags & SPHERE)
        if low:
            rho, p, a_snd = _atm(alt, table)
    elif low and ((flags & DRAG_ON) or stage >= 0):
        rho, p, a_snd = _atm(height(x, y, z, flags & SPHERE), table)
    if stage >= 0:
        mass = m0 - mdot * (tau - start)
        thrust = fvac - (fvac - fsl) * p / P0
        if not steered:  # gravity turn: thrust along the velocity
            dx, dy, dz = vx / v, vy / v, vz / v
            if spitch != 0.0:  # pitch programme: tilted up (or down) from the path in its vertical plane
                nx, ny, nz = _path_normal(x, y, z, r, dx, dy, dz)
                c, sn = math.cos(spitch), math.sin(spitch)
                dx, dy, dz = c * dx + sn * nx, c * dy + sn * ny, c * dz + sn * nz
        else:
            cl, sl, co, so = math.cos(lat), math.sin(lat), math.cos(lon), math.sin(lon)
            ux, uy, uz = cl * co, cl * so, sl  # local up (geodetic normal)
            dx, dy, dz = ux, uy, uz
        if steered and (mode == 1 or mode == 3):
            th = kick * min((tau - t_vert) / t_pitch, 1.0) if t_pitch > 0 else kick
            ca, sa = math.cos(az), math.sin(az)
            if mode == 1:
                # horizontal unit vector along the azimuth: cos(az) North + sin(az) East
                hx = ca * (-sl * co) + sa * (-so)
                hy = ca * (-sl * so) + sa * co
                hz = ca * cl
            else:
                # near a pole: the fixed direction (cos az, sin az, 0), made horizontal here
                k = ca * ux + sa * uy
                hx, hy, hz = ca - k * ux, sa - k * uy, -k * uz
                n = math.sqrt(hx * hx + hy * hy + hz * hz)
                hx, hy, hz = hx / n, hy / n, hz / n
            c, sn = math.cos(th), math.sin(th)
            dx, dy, dz = c * ux + sn * hx, c * uy + sn * hy, c * uz + sn * hz
        ax += thrust / mass * dx
        ay += thrust / mass * dy
        az_ += thrust / mass * dz
    else:
        mass = m0  # unpowered: the mass after powered flight
    if (flags & DRAG_ON) and rho > 0.0 and v > 0.0 and area > 0.0:
        if use_rv:
            c_d = _interp(v / a_snd, rv_mach, rv_cd, b)
        else:
            c_d = _interp(v / a_snd, boost_mach, boost_cd, b)
        kd = 0.5 * rho * v * c_d * area / mass
        if lp > 0:
            lx, ly, lz, kind = _lift(x, y, z, vx, vy, vz, r, v, 0.5 * rho * v * v * area / mass, c_d, tau, lp,
                                     b, aero, flags)
            ax += lx
            ay += ly
            az_ += lz
            kd += kind
        ax -= kd * vx
        ay -= kd * vy
        az_ -= kd * vz
    return vx, vy, vz, ax, ay, az_


@_inline
def _alt_of(x, y, z, flags):
    return height(x, y, z, flags & SPHERE)


@_inline
def _alt_fast(x, y, z, flags):
    """Height above the ellipsoid along the radius, r - R_ellipsoid(geocentric latitude):
    within 0.6 m of the geodetic altitude up to 100 km and 5 m at 1,000 km, for a
    fraction of the cost.  Used to track the apogee and to gate the exact tests."""
    p2 = x * x + y * y
    r = math.sqrt(p2 + z * z)
    if flags & SPHERE:
        return r - _RS
    return r - _A * _B * r / math.sqrt(_B * _B * p2 + _A * _A * z * z)


@_inline
def _clear_of_air(r, u, v, q, h):
    """True if a step of ``h`` seconds from radius ``r`` at speed |(u, v, q)| cannot reach the
    tabulated air (radius below a + 200 km, where _deriv starts looking up drag)."""
    clear = r - (_A + ATM_TOP_M)
    return clear > 0.0 and 2.25 * (u * u + v * v + q * q) * h * h < clear * clear


@_inline
def _ground_crossing(px, py, pz, pu, pv, pw, x, y, z, u, v, w, h, flags):
    """Where in a step of ``h`` [s] from (p, pu) to (x, u) the path meets the ground: bisection
    (40 halvings) of the cubic Hermite interpolant of the position built from the end
    positions and velocities.  Returns the fraction of the step and the crossing point."""
    lo, hi = 0.0, 1.0
    ix, iy, iz = x, y, z
    for _ in range(40):
        s_ = 0.5 * (lo + hi)
        h00 = 2 * s_ ** 3 - 3 * s_ ** 2 + 1
        h10 = s_ ** 3 - 2 * s_ ** 2 + s_
        h01 = -2 * s_ ** 3 + 3 * s_ ** 2
        h11 = s_ ** 3 - s_ ** 2
        ix = h00 * px + h10 * h * pu + h01 * x + h11 * h * u
        iy = h00 * py + h10 * h * pv + h01 * y + h11 * h * v
        iz = h00 * pz + h10 * h * pw + h01 * z + h11 * h * w
        if height(ix, iy, iz, flags & SPHERE) > 0.0:
            lo = s_
        else:
            hi = s_
    return 0.5 * (lo + hi), ix, iy, iz


@_inline
def _adams_step(h, x, y, z, u, v, q, gx, gy, gz, ga1, gb1, gc1, ga2, gb2, gc2, ga3, gb3, gc3,
                hu1, hv1, hq1, hu2, hv2, hq2):
    """One drag-free coast step: Adams-Bashforth 4 for the velocity, then Adams-Moulton 4 for
    the position (its implicit term is the new velocity, already known): 4th order, with local
    errors ~ h^5 |d5x/dt5|, ~1e-8 m per 1 s step on a ballistic arc.  (g*) is the acceleration
    now, (ga, gb, gc)k and (hu, hv, hq)k the accelerations and velocities k steps back.
    _fly_one and _coast_lanes both step through here, so they agree to the bit."""
    k = h / 24.0
    nu = u + k * (55.0 * gx - 59.0 * ga1 + 37.0 * ga2 - 9.0 * ga3)
    nv = v + k * (55.0 * gy - 59.0 * gb1 + 37.0 * gb2 - 9.0 * gb3)
    nq = q + k * (55.0 * gz - 59.0 * gc1 + 37.0 * gc2 - 9.0 * gc3)
    return (x + k * (9.0 * nu + 19.0 * u - 5.0 * hu1 + hu2), y + k * (9.0 * nv + 19.0 * v - 5.0 * hv1 + hv2),
            z + k * (9.0 * nq + 19.0 * q - 5.0 * hq1 + hq2), nu, nv, nq)


#: Columns of a flight's events (``ev``): burnout time, burnout inertial speed, apogee time, apogee
#: altitude, impact time, impact x, y, z, then the burnout state: ECEF position [m] and inertial
#: velocity in ECEF axes [m/s] (nan until burnout).
NEV = 14

# Layout of a parked trajectory (see _fly_one's pass_ and _coast_lanes): state (0-5),
# multistep history (6-20), history length, time, next grid index, apogee tracking,
# event index, status (1: parked, to be resumed).
_P_STATUS = 29
NPARK = 30
_LANES = 8


@_jit
def _park(park, b, x, y, z, u, v, q, hu1, hv1, hq1, hu2, hv2, hq2, ga1, gb1, gc1, ga2, gb2, gc2,
          ga3, gb3, gc3, nh, t_cur, kk, best, ax_, ay_, az2, ie):
    park[b, 0], park[b, 1], park[b, 2], park[b, 3], park[b, 4], park[b, 5] = x, y, z, u, v, q
    park[b, 6], park[b, 7], park[b, 8], park[b, 9], park[b, 10], park[b, 11] = hu1, hv1, hq1, hu2, hv2, hq2
    park[b, 12], park[b, 13], park[b, 14] = ga1, gb1, gc1
    park[b, 15], park[b, 16], park[b, 17] = ga2, gb2, gc2
    park[b, 18], park[b, 19], park[b, 20] = ga3, gb3, gc3
    park[b, 21], park[b, 22], park[b, 23], park[b, 24] = nh, t_cur, kk, best
    park[b, 25], park[b, 26], park[b, 27], park[b, 28] = ax_, ay_, az2, ie
    park[b, _P_STATUS] = 1.0


# Rows of the lane block (see _coast_lanes) past the parked layout's first 29 columns.
_W_TL, _W_ACT, _W_APT, _W_GO, _W_ROWS = 29, 30, 31, 32, 33


@_inline
def _lanes_step(W, grid_t0, dt, T, t_max, j2, w, sphere):
    """One coast step of every lane in the block ``W`` (rows of _LANES, see _coast_lanes), written
    as one branch-free loop over the lanes so that LLVM turns it into vector instructions (the
    lanes are the vector's elements: 4 doubles to a 256-bit register, two registers a row).  A lane whose step may not
    be taken (off the grid, past t_max, or into the air) keeps its state and gets GO = 0.
    The apogee is tracked on the state before the step, so the state a lane stops in is counted.
    Every operation is _gravity's, _clear_of_air's, _alt_fast's and _adams_step's in the same
    order, so the results are _fly_one's to the bit (tested); ``j2`` is 1 or 0 and ``w`` the spin
    or 0 in place of their flag tests (x * 1.0, 1.0 + 0.0 * y and a + (0.0 + 0.0) are exact).
    Returns the number of lanes that stepped."""
    L = _LANES
    n_go = 0
    for lane in range(L):
        x, y, z = W[lane], W[L + lane], W[2 * L + lane]
        u, v, q = W[3 * L + lane], W[4 * L + lane], W[5 * L + lane]
        kk = W[23 * L + lane]
        t_cur = W[22 * L + lane]
        act = W[_W_ACT * L + lane] != 0.0
        g = grid_t0 + kk * dt
        h = g - t_cur
        # free fall (_gravity)
        p2 = x * x + y * y
        r2 = p2 + z * z
        r = math.sqrt(r2)
        gm_r3 = _GM / (r2 * r)
        kj = 1.5 * _J2 * j2 * (_A * _A) / r2
        zz = 5.0 * z * z / r2
        gx = -gm_r3 * x * (1.0 + kj * (1.0 - zz)) + (2.0 * w * v + w * w * x)
        gy = -gm_r3 * y * (1.0 + kj * (1.0 - zz)) + (-2.0 * w * u + w * w * y)
        gz = -gm_r3 * z * (1.0 + kj * (3.0 - zz))
        # the apogee, on the state before the step (_alt_fast)
        fa = r - _RS if sphere else r - _A * _B * r / math.sqrt(_B * _B * p2 + _A * _A * z * z)
        up = act & (fa > W[24 * L + lane])
        W[24 * L + lane] = fa if up else W[24 * L + lane]
        W[_W_APT * L + lane] = t_cur if up else W[_W_APT * L + lane]
        W[25 * L + lane] = x if up else W[25 * L + lane]
        W[26 * L + lane] = y if up else W[26 * L + lane]
        W[27 * L + lane] = z if up else W[27 * L + lane]
        # may the step be taken?  (_fly_one's grid test and _clear_of_air)
        clear = r - (_A + ATM_TOP_M)
        go = (act & (kk < T) & (g - W[_W_TL * L + lane] <= t_max) & (abs(h - dt) < 1e-9)
              & (clear > 0.0) & (2.25 * (u * u + v * v + q * q) * h * h < clear * clear))
        n_go += 1 if go else 0
        W[_W_GO * L + lane] = 1.0 if go else 0.0
        # the step, kept only where it may be taken
        ga1, gb1, gc1 = W[12 * L + lane], W[13 * L + lane], W[14 * L + lane]
        ga2, gb2, gc2 = W[15 * L + lane], W[16 * L + lane], W[17 * L + lane]
        ga3, gb3, gc3 = W[18 * L + lane], W[19 * L + lane], W[20 * L + lane]
        hu1, hv1, hq1 = W[6 * L + lane], W[7 * L + lane], W[8 * L + lane]
        hu2, hv2, hq2 = W[9 * L + lane], W[10 * L + lane], W[11 * L + lane]
        nx, ny, nz, nu, nv, nq = _adams_step(h, x, y, z, u, v, q, gx, gy, gz, ga1, gb1, gc1, ga2, gb2, gc2,
                                             ga3, gb3, gc3, hu1, hv1, hq1, hu2, hv2, hq2)
        W[lane] = nx if go else x
        W[L + lane] = ny if go else y
        W[2 * L + lane] = nz if go else z
        W[3 * L + lane] = nu if go else u
        W[4 * L + lane] = nv if go else v
        W[5 * L + lane] = nq if go else q
        W[6 * L + lane] = u if go else hu1
        W[7 * L + lane] = v if go else hv1
        W[8 * L + lane] = q if go else hq1
        W[9 * L + lane] = hu1 if go else hu2
        W[10 * L + lane] = hv1 if go else hv2
        W[11 * L + lane] = hq1 if go else hq2
        W[12 * L + lane] = gx if go else ga1
        W[13 * L + lane] = gy if go else gb1
        W[14 * L + lane] = gz if go else gc1
        W[15 * L + lane] = ga1 if go else ga2
        W[16 * L + lane] = gb1 if go else gb2
        W[17 * L + lane] = gc1 if go else gc2
        W[18 * L + lane] = ga2 if go else ga3
        W[19 * L + lane] = gb2 if go else gb3
        W[20 * L + lane] = gc2 if go else gc3
        W[21 * L + lane] += 1.0 if go else 0.0
        W[22 * L + lane] = g if go else t_cur
        W[23 * L + lane] = kk + 1.0 if go else kk
    return n_go


@_inline
def _lane_load(W, lane, b, park, ev, t_launch):
    """Put parked trajectory ``b`` in lane ``lane`` of the block ``W``."""
    L = _LANES
    for i in range(_W_TL):
        W[i * L + lane] = park[b, i]
    W[_W_TL * L + lane] = t_launch[b]
    W[_W_ACT * L + lane] = 1.0
    W[_W_APT * L + lane] = ev[b, 2]


@_jit
def _coast_lanes(todo, n, park, ev, t_launch, grid_t0, dt, T, t_max, flags):
    """Advance the parked trajectories ``todo[:n]`` through their drag-free coast, _LANES at a
    time in lock-step, and park them again where the coast ends (or the grid or ``t_max``
    does).  One trajectory's multistep step is a chain of dependent operations (a square
    root and a division on it) that leaves the core mostly idle; stepping independent
    trajectories side by side as the elements of vector instructions fills it (bench/flyout.py).
    The block ``W`` holds row ``i`` of the lanes at ``W[i * _LANES : (i + 1) * _LANES]``: rows
    0-28 are the parked layout's columns, then launch time, active flag, apogee time and the
    step's go flag.  A flat array with rows a constant stride apart is what lets LLVM prove
    the rows apart and vectorise (separate arrays, or a 2-D one, stayed scalar)."""
    L = _LANES
    W = np.zeros(_W_ROWS * L)
    for lane in range(L):
        W[lane] = 2.0 * _A  # an idle lane computes on a harmless point
    j2 = 1.0 if flags & J2_ON else 0.0
    w = _W if flags & ROTATING else 0.0
    sphere = (flags & SPHERE) != 0
    lane_b = np.full(L, -1)
    nxt = 0
    busy = 0
    for lane in range(L):
        if nxt < n:
            _lane_load(W, lane, todo[nxt], park, ev, t_launch)
            lane_b[lane] = todo[nxt]
            nxt += 1
            busy += 1
    while busy > 0:
        if _lanes_step(W, grid_t0, dt, T, t_max, j2, w, sphere) == busy:
            continue
        for lane in range(L):
            b = lane_b[lane]
            if b < 0 or W[_W_GO * L + lane] != 0.0:
                continue
            # the coast ends here: hand back to _fly_one, and take the next waiting trajectory
            for i in range(_W_TL):
                park[b, i] = W[i * L + lane]
            ev[b, 2] = W[_W_APT * L + lane]
            if nxt < n:
                _lane_load(W, lane, todo[nxt], park, ev, t_launch)
                lane_b[lane] = todo[nxt]
                nxt += 1
            else:
                W[_W_ACT * L + lane] = 0.0
                lane_b[lane] = -1
                busy -= 1


@_jit
def _fly_one(b, r0, v0, t_launch, grid_t0, dt, T, record, t_max, flags, table,
             burn, mdot, fvac, fsl, m0, boost_area, boost_mach, boost_cd, rv_sep, rv_mass, rv_area,
             rv_mach, rv_cd, t_vert, t_pitch, kick, az, cutoff, pitch, aero,
             out_pos, out_vel, out_phase, ev, pass_, park):
    """Fly trajectory ``b``.  ``pass_`` 0: the whole flight.  1: stop ("park" the state in
    ``park[b]``) where the drag-free coast begins, for :func:`_coast_lanes`.  2: resume a
    parked trajectory from ``park[b]`` to the end."""
    if pass_ == 2 and park[b, _P_STATUS] != 1.0:
        return
    S = burn.shape[1]
    tl = t_launch[b]
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
    tv, tp, kk_ = t_vert[b], t_pitch[b], kick[b]
    # the pitch-over's mode and heading: 1 and the azimuth, or near a pole 3 and a fixed direction
    m_pitch, azb = _pitch_heading(r0[b, 0], r0[b, 1], r0[b, 2], az[b], flags & SPHERE)
    lifting = aero[b, 0] > 0.0 and (flags & DRAG_ON) != 0  # no air, no lift
    # lift phase (see _lift); a trajectory parked for the coast is above the air, so it
    # resumes without lift (the glide holds it below 80 km)
    lp = 0
    t_evt = -1.0  # a located switch of the lift phase still to be reached [s after launch]
    w = _W if flags & ROTATING else 0.0

    kk0 = 0
    landed = False
    if pass_ == 2:
        x, y, z, u, v, q = park[b, 0], park[b, 1], park[b, 2], park[b, 3], park[b, 4], park[b, 5]
        hu1, hv1, hq1, hu2, hv2, hq2 = park[b, 6], park[b, 7], park[b, 8], park[b, 9], park[b, 10], park[b, 11]
        ga1, gb1, gc1 = park[b, 12], park[b, 13], park[b, 14]
        ga2, gb2, gc2 = park[b, 15], park[b, 16], park[b, 17]
        ga3, gb3, gc3 = park[b, 18], park[b, 19], park[b, 20]
        nh, t_cur, kk0, best = int(park[b, 21]), park[b, 22], int(park[b, 23]), park[b, 24]
        ax_, ay_, az2, ie = park[b, 25], park[b, 26], park[b, 27], int(park[b, 28])
        gx = gy = gz = 0.0
        park[b, _P_STATUS] = 0.0
    else:
        x, y, z = r0[b, 0], r0[b, 1], r0[b, 2]
        u, v, q = v0[b, 0], v0[b, 1], v0[b, 2]
        t_cur = tl
        ev[b, 0] = np.inf if t_pow > 0 else tl  # burnout time
        ev[b, 1] = 0.0  # burnout speed (inertial)
        ev[b, 2] = tl  # apogee time
        best = _alt_fast(x, y, z, flags)
        ax_, ay_, az2 = x, y, z  # apogee state; its exact altitude is taken at the end
        ev[b, 4] = np.inf  # impact time
        ev[b, 5] = np.nan
        ev[b, 6] = np.nan
        ev[b, 7] = np.nan
        for i in range(8, NEV):
            ev[b, i] = np.nan
        if t_pow <= 0.0:
            ux = u - w * y
            uy = v + w * x
            ev[b, 1] = math.sqrt(ux * ux + uy * uy + q * q)
            ev[b, 8], ev[b, 9], ev[b, 10], ev[b, 11], ev[b, 12], ev[b, 13] = x, y, z, ux, uy, q
        ie = 0  # index of the next event
        # multistep history of the coast (see below) and its length
        nh = 0
        gx = gy = gz = 0.0
        hu1 = hv1 = hq1 = hu2 = hv2 = hq2 = 0.0
        ga1 = gb1 = gc1 = ga2 = gb2 = gc2 = ga3 = gb3 = gc3 = 0.0
        if pass_ == 1:
            park[b, _P_STATUS] = 0.0
    for kk in range(kk0, T):
        g = grid_t0 + kk * dt
        if g - tl > t_max:
            break
        while (not landed) and t_cur < g:
            tau = t_cur - tl
            while ie < nev and tl + events[ie] <= t_cur + 1e-9:
                ie += 1
            t_next = g
            if ie < nev and tl + events[ie] < t_next:
                t_next = tl + events[ie]
            if lifting:  # the lift programme's events: the steering's dive time, a located switch
                for e in (aero[b, 7], t_evt):
                    if e > tau + 1e-9 and tl + e < t_next:
                        t_next = tl + e
            h = t_next - t_cur
            tm = tau + 0.5 * h  # regime at the sub-step midpoint
            mode = 0 if tm < tv else (m_pitch if tm < tv + tp else 2)
            stage = -1
            if tm < t_pow:
                for j in range(S):
                    if starts[j] <= tm < ends[j]:
                        stage = j
                        break
            if stage >= 0:
                sm0, smd, sst, sfv, sfs = m0[b, stage], mdot[b, stage], starts[stage], fvac[b, stage], fsl[b, stage]
                use_rv = False
                spt = pitch[b, stage]
            else:
                sm0, smd, sst, sfv, sfs = m_bal, 0.0, 0.0, 0.0, 0.0
                use_rv = rv_sep[b]
                spt = 0.0
            area = rv_area[b] if use_rv else boost_area[b]
            px, py, pz, pu, pv, pq = x, y, z, u, v, q
            t_start = t_cur
            # Drag-free coast (unpowered, and with drag off or clear of the tabulated air for
            # the whole step): free fall depends on the state alone, so a multistep method
            # needs one force evaluation per step where RK4 needs four.  Steps of the grid
            # size only, so the history is equally spaced; RK4 starts it.
            eligible = False
            above = False
            if stage < 0 and abs(h - dt) < 1e-9:
                gx, gy, gz, r = _gravity(x, y, z, u, v, flags)
                above = _clear_of_air(r, u, v, q, h)
                eligible = (flags & DRAG_ON) == 0 or above
            if not eligible:
                nh = 0
                if h > H_MAX and flags & SUB_STEPS:  # thrust or air: equal sub-steps of at most H_MAX
                    h = h / math.ceil(h / H_MAX - 1e-9)
                    t_next = t_cur + h
            if pass_ == 1 and above and nh >= 3:
                _park(park, b, x, y, z, u, v, q, hu1, hv1, hq1, hu2, hv2, hq2, ga1, gb1, gc1, ga2, gb2, gc2,
                      ga3, gb3, gc3, nh, t_cur, kk, best, ax_, ay_, az2, ie)
                return
            if eligible and nh >= 3:
                x, y, z, u, v, q = _adams_step(h, x, y, z, u, v, q, gx, gy, gz, ga1, gb1, gc1, ga2, gb2, gc2,
                                               ga3, gb3, gc3, hu1, hv1, hq1, hu2, hv2, hq2)
            else:
                h2 = 0.5 * h
                a1, a2, a3, a4, a5, a6 = _deriv(x, y, z, u, v, q, tau, flags, table, stage, sm0, smd, sst, sfv, sfs,
                                                area, use_rv, b, boost_mach, boost_cd, rv_mach, rv_cd,
                                                mode, tv, tp, kk_, azb, spt, lp, aero)
                b1, b2, b3, b4, b5, b6 = _deriv(x + h2 * a1, y + h2 * a2, z + h2 * a3, u + h2 * a4, v + h2 * a5,
                                                q + h2 * a6, tau + h2, flags, table, stage, sm0, smd, sst, sfv, sfs,
                                                area, use_rv, b, boost_mach, boost_cd, rv_mach, rv_cd,
                                                mode, tv, tp, kk_, azb, spt, lp, aero)
                c1, c2, c3, c4, c5, c6 = _deriv(x + h2 * b1, y + h2 * b2, z + h2 * b3, u + h2 * b4, v + h2 * b5,
                                                q + h2 * b6, tau + h2, flags, table, stage, sm0, smd, sst, sfv, sfs,
                                                area, use_rv, b, boost_mach, boost_cd, rv_mach, rv_cd,
                                                mode, tv, tp, kk_, azb, spt, lp, aero)
                d1, d2, d3, d4, d5, d6 = _deriv(x + h * c1, y + h * c2, z + h * c3, u + h * c4, v + h * c5,
                                                q + h * c6, tau + h, flags, table, stage, sm0, smd, sst, sfv, sfs,
                                                area, use_rv, b, boost_mach, boost_cd, rv_mach, rv_cd,
                                                mode, tv, tp, kk_, azb, spt, lp, aero)
                h6 = h / 6.0
                x += h6 * (a1 + 2.0 * b1 + 2.0 * c1 + d1)
                y += h6 * (a2 + 2.0 * b2 + 2.0 * c2 + d2)
                z += h6 * (a3 + 2.0 * b3 + 2.0 * c3 + d3)
                u += h6 * (a4 + 2.0 * b4 + 2.0 * c4 + d4)
                v += h6 * (a5 + 2.0 * b5 + 2.0 * c5 + d5)
                q += h6 * (a6 + 2.0 * b6 + 2.0 * c6 + d6)
            if eligible:
                # history: velocities at n-1, n-2 and accelerations at n-1 .. n-3
                hu2, hv2, hq2 = hu1, hv1, hq1
                hu1, hv1, hq1 = pu, pv, pq
                ga3, gb3, gc3 = ga2, gb2, gc2
                ga2, gb2, gc2 = ga1, gb1, gc1
                ga1, gb1, gc1 = gx, gy, gz
                nh += 1
            t_cur = t_next
            tau_new = t_cur - tl
            if abs(tau_new - t_pow) < 1e-9 and t_pow > 0.0:
                ux = u - w * y
                uy = v + w * x
                ev[b, 0] = t_cur
                ev[b, 1] = math.sqrt(ux * ux + uy * uy + q * q)
                ev[b, 8], ev[b, 9], ev[b, 10], ev[b, 11], ev[b, 12], ev[b, 13] = x, y, z, ux, uy, q
            fast = _alt_fast(x, y, z, flags)
            if lifting and tau_new >= t_pow:
                # The lift phase moves on where its condition is met: glide once below the glide
                # height on the way down, dive once the glide has bled the speed to the terminal
                # one, or at the steering's dive time (an event the sub-steps end on).  A
                # condition met inside a sub-step is located by linear interpolation and the
                # sub-step flown again to end there (t_evt), so the switch, and with it the
                # range, moves smoothly with the steering (a switch at the next step's end moved
                # the impact by up to a kilometre).
                at_evt = abs(tau_new - t_evt) < 1e-9
                whole = t_start - tl >= t_pow - 1e-9  # the sub-step was unpowered throughout
                redo = -1.0
                if lp < 2 and tau_new >= aero[b, 7] - 1e-9:
                    lp = 2
                elif lp == 0 and fast < aero[b, 1] and x * u + y * v + z * q < 0.0:
                    f_prev = _alt_fast(px, py, pz, flags)
                    if at_evt or not whole or not (f_prev > aero[b, 1]):
                        lp = 1
                    else:
                        redo = (f_prev - aero[b, 1]) / (f_prev - fast)
                elif lp == 1:
                    s_new = math.sqrt(u * u + v * v + q * q)
                    if s_new < aero[b, 2]:
                        s_prev = math.sqrt(pu * pu + pv * pv + pq * pq)
                        if at_evt or not whole or not (s_prev > aero[b, 2]):
                            lp = 2
                            aero[b, 7] = tau_new  # the weave's phase counts from here (run() passes a copy)
                        else:
                            redo = (s_prev - aero[b, 2]) / (s_prev - s_new)
                if redo >= 0.0:
                    if redo * h < 1e-6:  # at the step's start: switch there
                        lp = lp + 1
                        if lp == 2:
                            aero[b, 7] = tau_new
                    else:
                        t_evt = t_start - tl + redo * h
                        x, y, z, u, v, q = px, py, pz, pu, pv, pq
                        t_cur = t_start
                        continue
            if fast > best:
                best = fast
                ev[b, 2] = t_cur
                ax_, ay_, az2 = x, y, z
            # the exact altitude only near the ground (_alt_fast is within 1e-5 m there)
            if fast < 1.0 and tau_new > 0.0 and _alt_of(x, y, z, flags) < 0.0:
                # impact inside this sub-step: bisect the cubic Hermite interpolant of the
                # position, built from the end positions and velocities
                frac, ix, iy, iz = _ground_crossing(px, py, pz, pu, pv, pq, x, y, z, u, v, q, h, flags)
                ev[b, 4] = t_cur - h + frac * h
                ev[b, 5], ev[b, 6], ev[b, 7] = ix, iy, iz
                landed = True
        if record:
            if g < tl:
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
                out_pos[b, kk, 0], out_pos[b, kk, 1], out_pos[b, kk, 2] = x, y, z
                out_vel[b, kk, 0], out_vel[b, kk, 1], out_vel[b, kk, 2] = u, v, q
                if g - tl < t_pow:
                    out_phase[b, kk] = _BOOST
                else:
                    alt = _alt_fast(x, y, z, flags)
                    if abs(alt - _REENTRY_ALT) < 10.0:  # settle the boundary exactly
                        alt = _alt_of(x, y, z, flags)
                    vr = x * u + y * v + z * q
                    out_phase[b, kk] = _REENTRY if (alt < _REENTRY_ALT and vr < 0.0) else _MID
        if landed and not record:
            break
    ev[b, 3] = height(ax_, ay_, az2, flags & SPHERE)


def _fly_all(r0, v0, t_launch, grid_t0, dt, T, record, t_max, flags, table,
             burn, mdot, fvac, fsl, m0, boost_area, boost_mach, boost_cd, rv_sep, rv_mass, rv_area,
             rv_mach, rv_cd, t_vert, t_pitch, kick, az, cutoff, pitch, aero,
             out_pos, out_vel, out_phase, ev, park, lo, hi):
    """Fly trajectories ``lo <= b < hi``; writes ``out_*`` (if ``record``) and ``ev`` (B, NEV):
    burnout time, burnout inertial speed, apogee time, apogee altitude, impact time, impact x, y, z,
    burnout position and inertial velocity.
    Without ``record`` the drag-free coasts run interleaved (:func:`_coast_lanes`); ``park``
    (B, NPARK) is their scratch space."""
    # The pass numbers are run-time values, not literals: Numba would compile _fly_one once
    # per literal argument (three ~40 s compilations of the same code instead of one).
    first = int(park.shape[1] == NPARK)
    normal, resume = first - 1, first + 1
    if record:
        for b in range(lo, hi):
            _fly_one(b, r0, v0, t_launch, grid_t0, dt, T, record, t_max, flags, table,
                     burn, mdot, fvac, fsl, m0, boost_area, boost_mach, boost_cd, rv_sep, rv_mass, rv_area,
                     rv_mach, rv_cd, t_vert, t_pitch, kick, az, cutoff, pitch, aero,
                     out_pos, out_vel, out_phase, ev, normal, park)
        return
    todo = np.empty(hi - lo, np.int64)
    n = 0
    for b in range(lo, hi):
        _fly_one(b, r0, v0, t_launch, grid_t0, dt, T, record, t_max, flags, table,
                 burn, mdot, fvac, fsl, m0, boost_area, boost_mach, boost_cd, rv_sep, rv_mass, rv_area,
                 rv_mach, rv_cd, t_vert, t_pitch, kick, az, cutoff, pitch, aero,
                 out_pos, out_vel, out_phase, ev, first, park)
        if park[b, _P_STATUS] == 1.0:
            todo[n] = b
            n += 1
    _coast_lanes(todo, n, park, ev, t_launch, grid_t0, dt, T, t_max, flags)
    for i in range(n):
        _fly_one(todo[i], r0, v0, t_launch, grid_t0, dt, T, record, t_max, flags, table,
                 burn, mdot, fvac, fsl, m0, boost_area, boost_mach, boost_cd, rv_sep, rv_mass, rv_area,
                 rv_mach, rv_cd, t_vert, t_pitch, kick, az, cutoff, pitch, aero,
                 out_pos, out_vel, out_phase, ev, resume, park)


#: The compiled loop.  ``nogil``: :func:`shieldlab.flyout.integrate.run` flies blocks of a
#: big batch on a pool of Python threads, one per core.  (A Numba ``prange`` over the
#: trajectories ran no faster on two threads than on one, and its OpenMP workers spin
#: after each parallel region, stealing the core the Python thread needs.)
fly_range = nb.njit(cache=True, nogil=True)(_fly_all)
#: Batches smaller than this run on the calling thread alone.
PARALLEL_MIN_BATCH = 256


@_jit
def propagate_rk4(s, span, steps, flags):
    """Ballistic RK4 in place: each state ``s[i]`` (ECEF position [m], velocity [m/s]) flown
    ``span[i]`` seconds in ``steps`` equal steps (gravity with J2 and the rotating-frame
    terms as ``flags`` say; no drag).  The compiled twin of
    :func:`shieldlab.flyout.integrate.propagate`'s NumPy loop, term for term."""
    for i in range(s.shape[0]):
        h = span[i] / steps
        x, y, z, u, v, w = s[i, 0], s[i, 1], s[i, 2], s[i, 3], s[i, 4], s[i, 5]
        for _ in range(steps):
            a1x, a1y, a1z, _r = _gravity(x, y, z, u, v, flags)
            x2, y2, z2 = x + 0.5 * h * u, y + 0.5 * h * v, z + 0.5 * h * w
            u2, v2, w2 = u + 0.5 * h * a1x, v + 0.5 * h * a1y, w + 0.5 * h * a1z
            a2x, a2y, a2z, _r = _gravity(x2, y2, z2, u2, v2, flags)
            x3, y3, z3 = x + 0.5 * h * u2, y + 0.5 * h * v2, z + 0.5 * h * w2
            u3, v3, w3 = u + 0.5 * h * a2x, v + 0.5 * h * a2y, w + 0.5 * h * a2z
            a3x, a3y, a3z, _r = _gravity(x3, y3, z3, u3, v3, flags)
            x4, y4, z4 = x + h * u3, y + h * v3, z + h * w3
            u4, v4, w4 = u + h * a3x, v + h * a3y, w + h * a3z
            a4x, a4y, a4z, _r = _gravity(x4, y4, z4, u4, v4, flags)
            x += h / 6.0 * (u + 2.0 * u2 + 2.0 * u3 + u4)
            y += h / 6.0 * (v + 2.0 * v2 + 2.0 * v3 + v4)
            z += h / 6.0 * (w + 2.0 * w2 + 2.0 * w3 + w4)
            u += h / 6.0 * (a1x + 2.0 * a2x + 2.0 * a3x + a4x)
            v += h / 6.0 * (a1y + 2.0 * a2y + 2.0 * a3y + a4y)
            w += h / 6.0 * (a1z + 2.0 * a2z + 2.0 * a3z + a4z)
        s[i, 0], s[i, 1], s[i, 2], s[i, 3], s[i, 4], s[i, 5] = x, y, z, u, v, w


@_inline
def _push_deriv(x, y, z, u, v, w, acc, flags):
    """Acceleration of free fall (``_gravity``) plus ``acc`` [m/s^2] along the velocity relative
    to the frame, as ``_deriv`` directs a gravity turn's thrust (radially up at zero speed)."""
    ax, ay, az, r = _gravity(x, y, z, u, v, flags)
    if acc != 0.0:
        s = math.sqrt(u * u + v * v + w * w)
        if s > 0.0:
            ax += acc * u / s
            ay += acc * v / s
            az += acc * w / s
        else:
            ax += acc * x / r
            ay += acc * y / r
            az += acc * z / r
    return ax, ay, az


@_inline
def _push_step(x, y, z, u, v, w, h, acc, flags):
    """One classical RK4 step of ``h`` seconds under :func:`_push_deriv`."""
    a1x, a1y, a1z = _push_deriv(x, y, z, u, v, w, acc, flags)
    x2, y2, z2 = x + 0.5 * h * u, y + 0.5 * h * v, z + 0.5 * h * w
    u2, v2, w2 = u + 0.5 * h * a1x, v + 0.5 * h * a1y, w + 0.5 * h * a1z
    a2x, a2y, a2z = _push_deriv(x2, y2, z2, u2, v2, w2, acc, flags)
    x3, y3, z3 = x + 0.5 * h * u2, y + 0.5 * h * v2, z + 0.5 * h * w2
    u3, v3, w3 = u + 0.5 * h * a2x, v + 0.5 * h * a2y, w + 0.5 * h * a2z
    a3x, a3y, a3z = _push_deriv(x3, y3, z3, u3, v3, w3, acc, flags)
    x4, y4, z4 = x + h * u3, y + h * v3, z + h * w3
    u4, v4, w4 = u + h * a3x, v + h * a3y, w + h * a3z
    a4x, a4y, a4z = _push_deriv(x4, y4, z4, u4, v4, w4, acc, flags)
    h6 = h / 6.0
    return (x + h6 * (u + 2.0 * u2 + 2.0 * u3 + u4), y + h6 * (v + 2.0 * v2 + 2.0 * v3 + v4),
            z + h6 * (w + 2.0 * w2 + 2.0 * w3 + w4), u + h6 * (a1x + 2.0 * a2x + 2.0 * a3x + a4x),
            v + h6 * (a1y + 2.0 * a2y + 2.0 * a3y + a4y), w + h6 * (a1z + 2.0 * a2z + 2.0 * a3z + a4z))


@_jit
def thrust_arc_states(s, accel, burn, h_max, flags, out, land_k, land):
    """States of one thrusting flight per row, at several burn times: the burnout states of a
    family of boost hypotheses that share their thrust arc (fire control's impact corridor).

    Row ``m`` starts from ``s[m]`` (ECEF position [m], velocity relative to the frame [m/s])
    and thrusts at ``accel[m]`` [m/s^2] along that velocity (the flyout's gravity turn, no
    drag, gravity as ``flags`` say) in RK4 steps of at most ``h_max`` s, ending exactly on
    each of ``burn[m, :]`` [s] (non-decreasing; nan: not wanted), where its state is written
    to ``out[m, k]`` (M, K, 6; left as the caller filled it where not reached).  Where the
    flight meets the ground (the flyout's test: geodetic height below 0 at the end of a step,
    the crossing found by bisecting the step's cubic Hermite interpolant) the row stops:
    ``land_k[m]`` is the index of the first burn time past the crossing (the caller's initial
    value, K, where none is) and ``land[m]`` its time [s] and ECEF point [m]."""
    M, K = burn.shape
    for m in range(M):
        x, y, z, u, v, w = s[m, 0], s[m, 1], s[m, 2], s[m, 3], s[m, 4], s[m, 5]
        acc = accel[m]
        t = 0.0
        landed = False
        for k in range(K):
            b = burn[m, k]
            if not (b >= t):
                continue
            n = int(math.ceil((b - t) / h_max - 1e-9))
            h = (b - t) / n if n > 0 else 0.0
            for i in range(n):
                px, py, pz, pu, pv, pw = x, y, z, u, v, w
                x, y, z, u, v, w = _push_step(x, y, z, u, v, w, h, acc, flags)
                if _alt_fast(x, y, z, flags) < 1.0 and _alt_of(x, y, z, flags) < 0.0:
                    frac, ix, iy, iz = _ground_crossing(px, py, pz, pu, pv, pw, x, y, z, u, v, w, h, flags)
                    land_k[m] = k
                    land[m, 0] = t + (i + frac) * h
                    land[m, 1], land[m, 2], land[m, 3] = ix, iy, iz
                    landed = True
                    break
            if landed:
                break
            out[m, k, 0], out[m, k, 1], out[m, k, 2] = x, y, z
            out[m, k, 3], out[m, k, 4], out[m, k, 5] = u, v, w
            t = b


@_jit
def coast_rk4(s, span, h_max, flags):
    """Ballistic RK4 in place, like :func:`propagate_rk4` but in steps of at most ``h_max`` s:
    each state ``s[i]`` flown ``span[i]`` seconds in ``ceil(span[i] / h_max)`` equal steps
    (rows whose span is not positive, or nan, are left as they are)."""
    for i in range(s.shape[0]):
        if not (span[i] > 0.0):
            continue
        n = int(math.ceil(span[i] / h_max - 1e-9))
        h = span[i] / n
        x, y, z, u, v, w = s[i, 0], s[i, 1], s[i, 2], s[i, 3], s[i, 4], s[i, 5]
        for _ in range(n):
            x, y, z, u, v, w = _push_step(x, y, z, u, v, w, h, 0.0, flags)
        s[i, 0], s[i, 1], s[i, 2], s[i, 3], s[i, 4], s[i, 5] = x, y, z, u, v, w
