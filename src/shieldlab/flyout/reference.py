"""NumPy reference of the batched 3-DOF flyout: readable, vectorised over the batch.

The model (see docs/models.md, "Threat flyout"):

    dr/dt = v
    dv/dt = g_J2(r) - 2 w x v - w x (w x r) + (F(p)/m) u_thrust - (rho |v| Cd(M) A / 2m) v

in WGS84 ECEF with the atmosphere at rest in that frame.  Thrust direction
``u_thrust``: local vertical for ``vertical_rise`` seconds, then a linear
pitch-over to the kick angle in the plane of the launch azimuth during
``pitch_over`` seconds, then along the velocity (gravity turn).  Engines stop at
``cutoff`` (thrust termination) or when the last stage burns out.

Integration: classical RK4 on the output grid's step, with each step split at
the vehicle's events (end of vertical rise, end of pitch-over, stage burnouts,
cut-off) so no discontinuity falls inside a sub-step.  Impact is where the cubic
Hermite interpolant of the last sub-step meets the ellipsoid (or the sphere).

This is the reference that :mod:`shieldlab.flyout.kernel` must equal; it is an
order of magnitude slower (bench/flyout.py).
"""

from __future__ import annotations

import numpy as np

from shieldlab import earth
from shieldlab.flyout.forces import ATM_TOP_M, P0, atmosphere_table, interp_rows
from shieldlab.flyout.kernel import H_MAX, NEV, POLAR_CAP_M
from shieldlab.flyout.vehicle import Vehicle

REENTRY_ALT = 100e3


def _geodetic(r: np.ndarray, sphere: bool):
    if sphere:
        rn = np.linalg.norm(r, axis=-1)
        return np.arcsin(r[..., 2] / rn), np.arctan2(r[..., 1], r[..., 0]), rn - earth.R_EARTH_MEAN
    return earth.ecef_to_geodetic(r)


def alt_fast(r: np.ndarray, sphere: bool) -> np.ndarray:
    """Height along the radius above the ellipsoid, ``r - R_ell(geocentric latitude)``:
    within 0.6 m of the geodetic altitude up to 100 km, 5 m at 1,000 km.  Both
    integrators track the apogee with it (the exact altitude is then taken at the
    state it selects) and use it to gate the exact impact and re-entry tests."""
    p2 = r[..., 0] ** 2 + r[..., 1] ** 2
    z2 = r[..., 2] ** 2
    rn = np.sqrt(p2 + z2)
    if sphere:
        return rn - earth.R_EARTH_MEAN
    a, b = earth.WGS84_A, earth.WGS84_B
    return rn - a * b * rn / np.sqrt(b * b * p2 + a * a * z2)


def _path_normal(r, u):
    """Unit normal to the path ``u`` (B, 3) in its vertical plane, geocentric up (kernel._path_normal)."""
    rn = np.linalg.norm(r, axis=-1)
    sg = np.einsum("bi,bi->b", r, u) / rn
    n = r / rn[:, None] - sg[:, None] * u
    nn = np.linalg.norm(n, axis=-1)
    small = nn < 1e-12
    n = np.where(small[:, None], [1.0, 0.0, 0.0], n / np.where(small, 1.0, nn)[:, None])
    return n, sg, rn


def _lift(r, v, speed, qs_m, cd0, tau, lp, veh: Vehicle, alt_hold, dive_t):
    """Lift acceleration (B, 3) and induced drag per unit velocity (B,): kernel._lift, vectorised."""
    from shieldlab.flyout.kernel import LIFT_HOLD_MAX_RAD, LIFT_TAU_GAMMA_S, LIFT_TAU_HOLD_S

    a = veh.aero
    ld = np.where(a[:, 0] > 0, a[:, 0], 1.0)
    sp = np.where(speed > 0, speed, 1.0)
    u = v / sp[:, None]
    n, sg, rn = _path_normal(r, u)
    cg = np.sqrt(np.maximum(1.0 - sg * sg, 0.0))
    gam = np.arcsin(np.clip(sg, -1.0, 1.0))
    g_eff = earth.GM / rn**2 - sp * sp / rn
    hold = np.clip((a[:, 1] - alt_hold) / (sp * LIFT_TAU_HOLD_S), -LIFT_HOLD_MAX_RAD, LIFT_HOLD_MAX_RAD)
    gcmd = np.where(lp == 1, hold, -a[:, 3])
    period = np.where(a[:, 5] > 0, a[:, 5], 1.0)
    since = np.where(np.isfinite(dive_t), tau - dive_t, 0.0)  # (rows not diving are masked below)
    a_lat = np.where(lp == 1, 0.0, a[:, 4] * np.cos(2.0 * np.pi * since / period))
    a_n = g_eff * cg + sp * (gcmd - gam) / LIFT_TAU_GAMMA_S
    a_max = np.minimum(qs_m * 2.0 * cd0 * ld, a[:, 6])
    a_tot = np.hypot(a_n, a_lat)
    f = np.where(a_tot > a_max, a_max / np.where(a_tot > 0, a_tot, 1.0), 1.0)
    a_n, a_lat, a_tot = a_n * f, a_lat * f, np.minimum(a_tot, a_max)
    e = np.cross(u, n)
    cl = np.where(qs_m > 0, a_tot / np.where(qs_m > 0, qs_m, 1.0), 0.0)
    kind = qs_m * cl * cl / (4.0 * cd0 * ld * ld) / sp
    on = lp > 0
    return np.where(on[:, None], a_n[:, None] * n + a_lat[:, None] * e, 0.0), np.where(on, kind, 0.0)


def _deriv(s, tau, stage, mode, veh: Vehicle, starts, m_bal, kick, az, model, lp, dive_t):
    B = s.shape[0]
    r, v = s[:, :3], s[:, 3:]
    rows = np.arange(B)
    acc = earth.gravity(r, j2=model["j2"] and not model["sphere"])
    if model["rotating"]:
        acc = acc + earth.rotating_frame_acceleration(r, v)
    lat, lon, alt = _geodetic(r, model["sphere"])
    rho, p, a_snd = atmosphere_table(alt)
    speed = np.linalg.norm(v, axis=-1)
    powered = stage >= 0
    st = np.where(powered, stage, 0)
    m0, mdot, start = veh.stage_m0[rows, st], veh.stage_mdot[rows, st], starts[rows, st]
    fvac, fsl = veh.stage_thrust_vac[rows, st], veh.stage_thrust_sl[rows, st]
    mass = np.where(powered, m0 - mdot * (tau - start), m_bal)
    thrust = np.where(powered, fvac - (fvac - fsl) * p / P0, 0.0)
    # thrust direction
    M = earth.enu_matrix(lat, lon)  # rows E, N, U
    east, north, up = M[:, 0], M[:, 1], M[:, 2]
    th = kick * np.clip((tau - veh.vertical_rise) / np.where(veh.pitch_over > 0, veh.pitch_over, 1.0), 0.0, 1.0)
    horiz = np.cos(az)[:, None] * north + np.sin(az)[:, None] * east
    polar = mode == 3
    if polar.any():  # near a pole: the fixed direction (cos az, sin az, 0), made horizontal here
        fixed = np.stack([np.cos(az), np.sin(az), np.zeros(B)], axis=1)
        fixed = fixed - np.einsum("bi,bi->b", fixed, up)[:, None] * up
        fixed = fixed / np.linalg.norm(fixed, axis=1)[:, None]
        horiz = np.where(polar[:, None], fixed, horiz)
    tilted = np.cos(th)[:, None] * up + np.sin(th)[:, None] * horiz
    along_v = v / np.where(speed > 0, speed, 1.0)[:, None]
    # the stage's pitch programme: tilted from the path in its vertical plane
    spitch = np.where(powered, veh.stage_pitch[rows, st], 0.0)
    if np.any(spitch != 0):
        normal = _path_normal(r, along_v)[0]
        along_v = np.where((spitch != 0)[:, None],
                           np.cos(spitch)[:, None] * along_v + np.sin(spitch)[:, None] * normal, along_v)
    vertical = mode == 0
    pitching = (mode == 1) | polar | (speed == 0)
    u = np.where(vertical[:, None], up, np.where(pitching[:, None], tilted, along_v))
    acc = acc + (thrust / mass)[:, None] * u
    if model["drag"]:
        use_rv = (~powered) & veh.rv_separates
        area = np.where(use_rv, veh.rv_area, veh.boost_area)
        mach = speed / a_snd
        cd = np.where(use_rv, interp_rows(mach, veh.rv_mach, veh.rv_cd),
                      interp_rows(mach, veh.boost_mach, veh.boost_cd))
        kd = 0.5 * rho * speed * cd * area / mass
        lifting = (lp > 0) & (rho > 0) & (speed > 0) & (area > 0)
        if lifting.any():
            la, kind = _lift(r, v, speed, 0.5 * rho * speed * speed * area / mass, cd, tau,
                             np.where(lifting, lp, 0), veh, alt_fast(r, model["sphere"]), dive_t)
            acc = acc + la
            kd = kd + kind
        acc = acc - kd[:, None] * v
    return np.concatenate([v, acc], axis=1)


def fly_reference(veh: Vehicle, r0, v0, t_launch, grid_t0, dt, T, t_max, kick, az, cutoff, model, record=True):
    """Vectorised reference flyout; same arguments and outputs as the fast path (see
    :func:`shieldlab.flyout.integrate.fly`).  Returns ``(pos, vel, phase, ev)``."""
    B, S = veh.stage_burn.shape
    rows = np.arange(B)
    ends = np.cumsum(veh.stage_burn, axis=1)
    starts = ends - veh.stage_burn
    total = ends[:, -1]
    t_pow = np.minimum(cutoff, total)
    # mass after powered flight
    burning = (veh.stage_burn > 0) & (starts < t_pow[:, None])
    last = np.where(burning.any(axis=1), S - 1 - np.argmax(burning[:, ::-1], axis=1), -1)
    lst = np.maximum(last, 0)
    m_whole = veh.stage_m0[rows, lst] - veh.stage_mdot[rows, lst] * (t_pow - starts[rows, lst])
    m_bal = np.where(veh.rv_separates | (last < 0), veh.rv_mass, m_whole)
    # events (tau), padded with +inf
    cand = np.concatenate([veh.vertical_rise[:, None], (veh.vertical_rise + veh.pitch_over)[:, None],
                           t_pow[:, None], ends], axis=1)
    ok = (cand > 0) & (cand <= t_pow[:, None])
    ok[:, 3:] &= ends < t_pow[:, None]
    events = np.sort(np.where(ok, cand, np.inf), axis=1)
    # the pitch-over: on the azimuth read from each position's meridian (mode 1), or within
    # POLAR_CAP_M of the spin axis (mode 3) towards the launch heading's fixed direction about
    # the axis (kernel._pitch_heading)
    r0 = np.asarray(r0, float)
    az = np.asarray(az, float)
    near_pole = np.hypot(r0[:, 0], r0[:, 1]) < POLAR_CAP_M
    pitch_mode = np.where(near_pole, 3, 1)
    if near_pole.any():
        lat0, lon0, _ = _geodetic(r0, model["sphere"])
        M0 = earth.enu_matrix(lat0, lon0)  # rows E, N, U
        h0 = np.cos(az)[:, None] * M0[:, 1] + np.sin(az)[:, None] * M0[:, 0]
        az = np.where(near_pole, np.arctan2(h0[:, 1], h0[:, 0]), az)

    s = np.concatenate([r0, v0], axis=1).astype(float)
    t_cur = np.asarray(t_launch, float).copy()
    landed = np.zeros(B, bool)
    ev = np.full((B, NEV), np.nan)
    ev[:, 0] = np.where(t_pow > 0, np.inf, t_launch)
    w = earth.OMEGA_EARTH if model["rotating"] else 0.0

    def inertial_velocity(st):
        return st[:, 3:] + np.cross([0.0, 0.0, w], st[:, :3])

    def inertial_speed(st):
        return np.linalg.norm(inertial_velocity(st), axis=-1)

    ev[:, 1] = np.where(t_pow > 0, 0.0, inertial_speed(s))
    now = t_pow <= 0
    ev[now, 8:11], ev[now, 11:14] = s[now, :3], inertial_velocity(s)[now]
    ev[:, 2] = t_launch
    best = alt_fast(s[:, :3], model["sphere"])
    apo = s[:, :3].copy()
    ev[:, 4] = np.inf
    pos = np.zeros((B, T, 3)) if record else None
    vel = np.zeros((B, T, 3)) if record else None
    phase = np.zeros((B, T), np.int8) if record else None
    tl = np.asarray(t_launch, float)
    lp = np.zeros(B, int)  # lift phase: 0 none, 1 glide, 2 terminal dive (kernel._lift)
    dive_t = veh.aero[:, 7].copy()  # when the dive begins [s after launch]: the steering's, or when the glide ends
    t_evt = np.full(B, -1.0)  # a located switch of the lift phase still to be reached [s after launch]
    lifting = (veh.aero[:, 0] > 0) & bool(model["drag"])
    nh = np.zeros(B, int)  # length of each trajectory's multistep history
    hist = [np.zeros((B, 6)) for _ in range(3)]  # derivatives at steps n-1, n-2, n-3

    for k in range(T):
        g = grid_t0 + k * dt
        live = g - tl <= t_max
        if not live.any():
            break
        while True:
            act = (~landed) & (t_cur < g) & live
            if not act.any():
                break
            tau = t_cur - tl
            nxt = np.where(events > (tau + 1e-9)[:, None], events, np.inf).min(axis=1) + tl
            for e in (dive_t, t_evt):  # the lift programme's events (kernel._fly_one)
                nxt = np.minimum(nxt, np.where(lifting & (e > tau + 1e-9), e + tl, np.inf))
            t_next = np.minimum(g, nxt)
            h = np.where(act, t_next - t_cur, 0.0)
            # thrust or air: equal sub-steps of at most H_MAX (kernel.H_MAX; the Adams coast keeps dt)
            in_stage = (starts <= (tau + 0.5 * h)[:, None]) & ((tau + 0.5 * h)[:, None] < ends) \
                & ((tau + 0.5 * h) < t_pow)[:, None]
            clear = np.linalg.norm(s[:, :3], axis=1) - (earth.WGS84_A + ATM_TOP_M)
            free = ~np.bool_(model["drag"]) | ((clear > 0) & (2.25 * np.sum(s[:, 3:] ** 2, axis=1) * h**2 < clear**2))
            sub = act & ~(~in_stage.any(axis=1) & (np.abs(h - dt) < 1e-9) & free) & (h > H_MAX) \
                & model.get("sub_steps", True)
            h = np.where(sub, h / np.ceil(np.where(sub, h, 1.0) / H_MAX - 1e-9), h)
            t_next = np.where(sub, t_cur + h, t_next)
            tm = tau + 0.5 * h
            in_stage = (starts <= tm[:, None]) & (tm[:, None] < ends) & (tm < t_pow)[:, None]
            stage = np.where(in_stage.any(axis=1), np.argmax(in_stage, axis=1), -1)
            # steering mode fixed for the sub-step, like the stage: 0 vertical, 1 (3 near a pole)
            # pitch-over, 2 gravity turn
            mode = np.where(tm < veh.vertical_rise, 0, np.where(tm < veh.vertical_rise + veh.pitch_over, pitch_mode, 2))
            args = (stage, mode, veh, starts, m_bal, np.asarray(kick, float), az, model, lp,
                    dive_t.copy())
            k1 = _deriv(s, tau, *args)
            k2 = _deriv(s + 0.5 * h[:, None] * k1, tau + 0.5 * h, *args)
            k3 = _deriv(s + 0.5 * h[:, None] * k2, tau + 0.5 * h, *args)
            k4 = _deriv(s + h[:, None] * k3, tau + h, *args)
            s_prev = s
            s_new = s + (h / 6.0)[:, None] * (k1 + 2 * k2 + 2 * k3 + k4)
            # drag-free coast: Adams-Bashforth 4 (velocity) / Adams-Moulton 4 (position) on
            # equal grid steps once RK4 has filled a history of three (see kernel._fly_one)
            clear = np.linalg.norm(s[:, :3], axis=1) - (earth.WGS84_A + ATM_TOP_M)
            free = ~np.bool_(model["drag"]) | ((clear > 0) & (2.25 * np.sum(s[:, 3:] ** 2, axis=1) * h**2 < clear**2))
            elig = act & (stage < 0) & (np.abs(h - dt) < 1e-9) & free
            nh = np.where(elig, nh, 0)
            ms = elig & (nh >= 3)
            c = (h / 24.0)[:, None]
            v_ms = s[:, 3:] + c * (55 * k1[:, 3:] - 59 * hist[0][:, 3:] + 37 * hist[1][:, 3:] - 9 * hist[2][:, 3:])
            p_ms = s[:, :3] + c * (9 * v_ms + 19 * s[:, 3:] - 5 * hist[0][:, :3] + hist[1][:, :3])
            s_new = np.where(ms[:, None], np.concatenate([p_ms, v_ms], axis=1), s_new)
            hist = [np.where(elig[:, None], k1, hist[0]), np.where(elig[:, None], hist[0], hist[1]),
                    np.where(elig[:, None], hist[1], hist[2])]
            nh = nh + elig
            s = np.where(act[:, None], s_new, s)
            t_start = t_cur
            t_cur = np.where(act, t_next, t_cur)
            tau_new = t_cur - tl
            bo = act & (np.abs(tau_new - t_pow) < 1e-9) & (t_pow > 0)
            ev[bo, 0] = t_cur[bo]
            ev[bo, 1] = inertial_speed(s)[bo]
            ev[bo, 8:11], ev[bo, 11:14] = s[bo, :3], inertial_velocity(s)[bo]
            fast = alt_fast(s[:, :3], model["sphere"])
            # the lift phase moves on where its condition is met, a switch inside a sub-step
            # located and the sub-step flown again to end there (kernel._fly_one)
            lift_on = act & lifting & (tau_new >= t_pow)
            at_evt = np.abs(tau_new - t_evt) < 1e-9
            whole = t_start - tl >= t_pow - 1e-9
            timed = lift_on & (lp < 2) & (tau_new >= dive_t - 1e-9)
            down = np.einsum("bi,bi->b", s[:, :3], s[:, 3:]) < 0
            f_prev = alt_fast(s_prev[:, :3], model["sphere"])
            glide = lift_on & ~timed & (lp == 0) & (fast < veh.aero[:, 1]) & down
            glide_redo = glide & ~at_evt & whole & (f_prev > veh.aero[:, 1])
            s_new_n, s_prev_n = np.linalg.norm(s[:, 3:], axis=1), np.linalg.norm(s_prev[:, 3:], axis=1)
            dive = lift_on & ~timed & (lp == 1) & (s_new_n < veh.aero[:, 2])
            dive_redo = dive & ~at_evt & whole & (s_prev_n > veh.aero[:, 2])
            with np.errstate(invalid="ignore", divide="ignore"):
                frac = np.where(glide_redo, (f_prev - veh.aero[:, 1]) / (f_prev - fast),
                                (s_prev_n - veh.aero[:, 2]) / (s_prev_n - s_new_n))
            hh = tau_new - (t_start - tl)
            redo = (glide_redo | dive_redo) & (np.nan_to_num(frac) * hh >= 1e-6)
            frac = np.where(redo, frac, 0.0)
            now_glide = glide & ~redo
            now_dive = dive & ~redo
            dive_t = np.where(now_dive, tau_new, dive_t)  # the weave's phase counts from the dive's start
            lp = np.where(timed | now_dive, 2, np.where(now_glide, 1, lp))
            t_evt = np.where(redo, t_start - tl + frac * hh, t_evt)
            s = np.where(redo[:, None], s_prev, s)
            t_cur = np.where(redo, t_start, t_cur)
            act = act & ~redo
            fast = np.where(redo, alt_fast(s[:, :3], model["sphere"]), fast)
            up = act & (fast > best)
            best = np.where(up, fast, best)
            ev[up, 2] = t_cur[up]
            apo[up] = s[up, :3]
            alt = _geodetic(s[:, :3], model["sphere"])[2]
            hit = act & (fast < 1.0) & (alt < 0.0) & (tau_new > 0.0)
            if hit.any():
                d0 = k1[hit]
                d1 = _deriv(s, tau_new, *args)[hit]
                p0, p1, hh = s_prev[hit, :3], s[hit, :3], h[hit][:, None]
                lo, hi = np.zeros(hit.sum()), np.ones(hit.sum())
                for _ in range(40):
                    u = (0.5 * (lo + hi))[:, None]
                    p = ((2 * u**3 - 3 * u**2 + 1) * p0 + (u**3 - 2 * u**2 + u) * hh * d0[:, :3]
                         + (-2 * u**3 + 3 * u**2) * p1 + (u**3 - u**2) * hh * d1[:, :3])
                    above = _geodetic(p, model["sphere"])[2] > 0.0
                    lo, hi = np.where(above, u[:, 0], lo), np.where(above, hi, u[:, 0])
                ev[hit, 4] = t_cur[hit] - h[hit] + 0.5 * (lo + hi) * h[hit]
                ev[hit, 5:8] = p
                landed |= hit
        if record:
            assert pos is not None and vel is not None and phase is not None  # allocated when recording
            pre = g < tl
            tau_g = g - tl
            alt = alt_fast(s[:, :3], model["sphere"])
            alt = np.where(np.abs(alt - REENTRY_ALT) < 10.0, _geodetic(s[:, :3], model["sphere"])[2], alt)
            vr = np.einsum("bi,bi->b", s[:, :3], s[:, 3:])
            ph = np.where(tau_g < t_pow, 1, np.where((alt < REENTRY_ALT) & (vr < 0), 3, 2))
            ph = np.where(landed, 4, np.where(pre, 0, ph))
            pos[:, k] = np.where(pre[:, None], r0, np.where(landed[:, None], ev[:, 5:8], s[:, :3]))
            vel[:, k] = np.where((pre | landed)[:, None], 0.0, s[:, 3:])
            phase[:, k] = ph
        elif landed.all():
            break
    ev[:, 3] = _geodetic(apo, model["sphere"])[2]
    return pos, vel, phase, ev
