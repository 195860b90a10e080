"""Compiled loop of :func:`shieldlab.airspace.flight.fly`: each row (a flier in a run) integrated
on its own, step by step, with the same equations as the NumPy reference
(``flight._fly_numpy``); a test holds the two equal.  Written by hand because the flight is a
sequential loop of a few dozen scalar operations a step: NumPy pays ~10 us per array
operation and step whatever the number of rows."""

from __future__ import annotations

import math

import numba as nb

from shieldlab.earth import WGS84_A, WGS84_E2, haversine_point

G = 9.80665
R0_GEOPOTENTIAL = 6_356_766.0
TWO_PI = 2.0 * math.pi


@nb.njit(cache=True, error_model="numpy", inline="always")
def _wrap(a):
    return (a + math.pi) % TWO_PI - math.pi


@nb.njit(cache=True, error_model="numpy", inline="always")
def _bearing(lat1, lon1, lat2, lon2):
    dlon = lon2 - lon1
    y = math.sin(dlon) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(dlon)
    b = math.atan2(y, x) % TWO_PI
    return 0.0 if b >= TWO_PI else b


@nb.njit(cache=True, error_model="numpy", inline="always")
def _distance(lat1, lon1, lat2, lon2):
    return haversine_point(lat1, lon1, lat2, lon2, math.cos(lat1), math.cos(lat2))


@nb.njit(cache=True, error_model="numpy", inline="always")
def _min_tas(min_eas, h):
    h = max(h, 0.0)
    h = R0_GEOPOTENTIAL * h / (R0_GEOPOTENTIAL + h)  # geopotential height
    if h <= 11000.0:
        sigma = max(1.0 - 2.25577e-5 * h, 0.0) ** 4.25588
    else:
        sigma = 0.297076 * math.exp(-(h - 11000.0) / 6341.62)
    return min_eas / math.sqrt(sigma)


@nb.njit(cache=True, error_model="numpy", inline="always")
def _target_alt(ralt, land, land_h, cruise_alt, ceiling, b, w, flown, land_step, S, cm):
    """Height row b flies toward waypoint w: the route's, else over land or sea by the profile."""
    a = ralt[b, w]
    if math.isnan(a):
        over = land[b, min(int(flown / land_step), S - 1)]
        a = land_h[b] if (cm and over) else cruise_alt[b]
    return min(a, ceiling[b])


@nb.njit(cache=True, error_model="numpy", inline="always")
def _target_speed(rspd, cruise, sf, b, w):
    s = rspd[b, w]
    return (cruise[b] if math.isnan(s) else s) * sf[b]


@nb.njit(cache=True, error_model="numpy")
def fly_rows(rlat, rlon, ralt, rspd, rn, cruise, vmax, min_eas, ceiling, climb_max, bank, accel, cruise_alt,
             land_h, start, sf, fail_at, land, land_step, dt, t0,
             o_lat, o_lon, o_alt, o_spd, o_hdg, o_climb, o_act, o_end, o_failed, o_kdone):
    """Fly each row b into the outputs (B, T); ``o_kdone[b]``: one past its last active sample
    (-1 if it did not finish within T samples)."""
    B, T = o_lat.shape
    S = land.shape[1]
    for b in range(B):
        cm = not math.isnan(land_h[b])
        n = rn[b]
        lat, lon = rlat[b, 0], rlon[b, 0]
        w = 1
        flown = 0.0

        alt = ralt[b, 0]
        if math.isnan(alt):
            alt = _target_alt(ralt, land, land_h, cruise_alt, ceiling, b, w, flown, land_step, S, cm)
        spd = min(max(_target_speed(rspd, cruise, sf, b, w), _min_tas(min_eas[b], alt)), vmax[b])
        hdg = _bearing(lat, lon, rlat[b, 1], rlon[b, 1])
        done = False
        o_kdone[b] = -1
        for k in range(T):
            t = t0 + k * dt
            act = (t >= start[b] - 1e-9) and not done
            climb = 0.0
            step = 0.0
            if act:
                wl, wn = rlat[b, w], rlon[b, w]
                h_cmd = _target_alt(ralt, land, land_h, cruise_alt, ceiling, b, w, flown, land_step, S, cm)
                v_cmd = min(max(_target_speed(rspd, cruise, sf, b, w), _min_tas(min_eas[b], alt)), vmax[b])
                brg = _bearing(lat, lon, wl, wn)
                dist = _distance(lat, lon, wl, wn)
                spd += min(max(v_cmd - spd, -accel[b] * dt), accel[b] * dt)
                rate = G * math.tan(bank[b]) / max(spd, 1.0)
                err = _wrap(brg - hdg)
                hdg = (hdg + min(max(err, -rate * dt), rate * dt)) % TWO_PI
                climb = min(max((h_cmd - alt) / dt, -climb_max[b]), climb_max[b])
                gamma = math.asin(min(max(climb / max(spd, 1.0), -1.0), 1.0))
                step = spd * math.cos(gamma) * dt
                nxt = min(w + 1, n - 1)
                last = w >= n - 1
                course_next = _bearing(wl, wn, rlat[b, nxt], rlon[b, nxt])
                delta = abs(_wrap(course_next - brg))
                lead = 0.0 if last else spd * spd / (G * math.tan(bank[b])) * math.tan(min(delta, 2.8) / 2)
                passed = dist <= max(lead, step)
                end_now = passed and last
                if passed and not last:
                    w += 1
                fail_now = (not end_now) and (flown + step >= fail_at[b])
                if end_now or fail_now:
                    o_end[b] = t + dt
                    o_failed[b] = fail_now
                    done = True
                    o_kdone[b] = k + 1
            o_lat[b, k] = lat
            o_lon[b, k] = lon
            o_alt[b, k] = alt
            o_spd[b, k] = spd if act else 0.0
            o_hdg[b, k] = hdg
            o_climb[b, k] = climb
            o_act[b, k] = act
            s2 = math.sin(lat) ** 2
            ww = math.sqrt(1.0 - WGS84_E2 * s2)
            rm = WGS84_A * (1.0 - WGS84_E2) / ww ** 3 + alt
            rn_ = (WGS84_A / ww + alt) * math.cos(lat)
            lat = lat + step * math.cos(hdg) / rm
            lon = _wrap(lon + step * math.sin(hdg) / rn_)
            alt = alt + climb * dt
            flown += step
            if done and not act:
                # the rest of the grid holds the end position, inactive
                for j in range(k + 1, T):
                    o_lat[b, j] = lat
                    o_lon[b, j] = lon
                    o_alt[b, j] = alt
                    o_spd[b, j] = 0.0
                    o_hdg[b, j] = hdg
                    o_climb[b, j] = 0.0
                    o_act[b, j] = False
                break
    return None


__all__ = ["fly_rows"]
