"""Air-breathing flight: aircraft and cruise missiles as batched point masses with limits.

Each flier follows a route of waypoints over the WGS84 ellipsoid: it turns toward the next
waypoint's initial great-circle bearing at up to its turn rate, climbs or descends toward the
height the route (or, for a cruise missile, the ground below) asks for at up to its climb
rate, and changes speed toward the route's speed at up to its acceleration.  Model (equations
and sources in docs/models.md, "Air-breathing flight"):

* Coordinated level turn at bank ``phi``: turn rate ``psi_dot = g tan(phi) / v`` and radius
  ``v^2 / (g tan(phi))`` (any flight-mechanics text, e.g. Anderson, *Introduction to Flight*,
  ch. 6.17); ``phi`` is the catalogue's ``max_bank_deg``.
* Speed limits: the least true airspeed at height ``h`` is the catalogue's least equivalent
  airspeed over ``sqrt(rho(h) / rho0)`` (US Standard Atmosphere 1976,
  :func:`shieldlab.earth.atmosphere`); the greatest is ``max_speed_kmh``.
* Waypoints are flown by: a waypoint is passed when the flier is within the lead distance of
  the turn onto the next leg, ``r tan(delta / 2)`` for a course change ``delta`` and turn
  radius ``r``, or within one step's travel; the last waypoint ends the flight (a cruise
  missile's target, an aircraft's exit from the scene).
* Position moves along the heading on the ellipsoid with the meridian and prime-vertical
  radii of curvature ``M`` and ``N``: ``dlat = v cos(gamma) cos(psi) dt / (M + h)``,
  ``dlon = v cos(gamma) sin(psi) dt / ((N + h) cos(lat))``.
* A cruise missile holds ``land_height_m`` over land and its ``cruise_alt_m`` over the sea
  (:func:`shieldlab.airspace.borders.over_land` on the Natural Earth countries, looked up
  every :data:`LAND_STEP_M` along the route's great-circle legs by the distance flown: the
  route cut short at a turn moves a coastline by at most the turn's lead distance).  No terrain
  model is read: heights are above the ellipsoid, as over a flat sea-level Earth, so a
  missile "50 m above the ground" over the Zagros flies 50 m above sea level here.  That
  favours the radars that see it only where the real ground is low; where the real ground is
  high the missile is higher too, and the radars' horizon against it larger.

Rows (one per flier and Monte Carlo run) are independent.  :func:`fly` integrates each row
in a compiled loop (:mod:`shieldlab.airspace.flight_kernel`); ``compiled=False`` runs the
same equations as NumPy operations over the rows, one Python step at a time (about 30
array operations a step: ~0.5 s for 800 steps), the reference a test holds it equal to.
The least true airspeed uses the ISA density ratio in closed form (troposphere and the
isothermal layer to 20 km, equal to the US Standard Atmosphere 1976 there; above 20 km the
isothermal layer's exponential is continued, a stated approximation for ceilings up to 30 km).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from shieldlab import earth
from shieldlab.earth import WGS84_A, WGS84_E2
from shieldlab.flyout.records import Phase, Trajectories

__all__ = ["Limits", "Routes", "AirPaths", "fly", "min_true_airspeed", "turn_radius", "land_profile",
           "density_ratio", "LAND_STEP_M"]

G = 9.80665  # m/s^2, standard gravity (load factor and turn rate)
RHO0 = 1.225  # kg/m^3, sea-level density of the US Standard Atmosphere 1976
KMH = 1.0 / 3.6  # m/s per km/h
#: Earth radius of the standard atmosphere's geopotential height [m] (US Standard Atmosphere 1976).
R0_GEOPOTENTIAL = 6_356_766.0
#: Spacing of a route's land/sea profile [m].
LAND_STEP_M = 500.0


@dataclass(frozen=True)
class Limits:
    """The flight envelope of each flier, SI, arrays broadcast to the batch ``(B,)``.

    cruise_speed, max_speed : true airspeed [m/s].
    min_eas : least equivalent airspeed [m/s] (true airspeed at sea level).
    ceiling : highest flight height [m].
    max_climb : greatest climb or descent rate [m/s].
    max_bank : greatest bank in a level turn [rad].
    max_accel : greatest change of airspeed [m/s^2].
    cruise_alt : height when the route gives none [m]; a cruise missile's height over the sea.
    land_height : a cruise missile's height over land [m]; nan for aircraft.
    """

    cruise_speed: np.ndarray
    max_speed: np.ndarray
    min_eas: np.ndarray
    ceiling: np.ndarray
    max_climb: np.ndarray
    max_bank: np.ndarray
    max_accel: np.ndarray
    cruise_alt: np.ndarray
    land_height: np.ndarray

    @classmethod
    def of(cls, entries) -> Limits:
        """From catalogue :class:`~shieldlab.catalog.models.Aircraft` entries, one per flier."""
        def col(f):
            return np.array([f(a) for a in entries], float)

        return cls(
            cruise_speed=col(lambda a: a.cruise_speed_kmh * KMH), max_speed=col(lambda a: a.max_speed_kmh * KMH),
            min_eas=col(lambda a: a.min_speed_eas_kmh * KMH), ceiling=col(lambda a: a.ceiling_m),
            max_climb=col(lambda a: a.max_climb_ms), max_bank=col(lambda a: np.radians(a.max_bank_deg)),
            max_accel=col(lambda a: a.max_accel_ms2), cruise_alt=col(lambda a: a.cruise_alt_m),
            land_height=col(lambda a: np.nan if a.land_height_m is None else a.land_height_m))


@dataclass(frozen=True)
class Routes:
    """Waypoint routes, one per flier, padded to ``W`` waypoints.

    lat, lon : (B, W) [rad]; nan past a route's last waypoint.
    alt : (B, W) height to fly toward that waypoint [m]; nan: the flier's default (its cruise
        height, or for a cruise missile the land/sea rule).
    speed : (B, W) true airspeed toward that waypoint [m/s]; nan: cruise speed.
    n : (B,) waypoints of each route (at least 2: the start and the end).
    """

    lat: np.ndarray
    lon: np.ndarray
    alt: np.ndarray
    speed: np.ndarray
    n: np.ndarray


@dataclass(frozen=True)
class AirPaths:
    """Sampled air-breathing flights on one shared time grid.

    t : (T,) [s from epoch], uniform step.
    lat, lon : (B, T) geodetic [rad]; alt (B, T) height above the ellipsoid [m].
    speed : (B, T) true airspeed [m/s]; heading (B, T) [rad from north]; climb (B, T) [m/s].
    active : (B, T) whether the flier is airborne (started, not yet at its last waypoint,
        not failed); before its start it sits at its first waypoint, after its end at its
        last position.
    start_time, end_time : (B,) [s]; end_time is when it reached its last waypoint or failed.
    failed : (B,) whether it came down before its last waypoint (a failure drawn per run).
    """

    t: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    alt: np.ndarray
    speed: np.ndarray
    heading: np.ndarray
    climb: np.ndarray
    active: np.ndarray
    start_time: np.ndarray
    end_time: np.ndarray
    failed: np.ndarray

    @property
    def flown(self) -> np.ndarray:
        """(B, T) the samples on the path flown: the airborne ones and the sample after the
        last of them, where the flier came to its end (its last waypoint, or where it came
        down): that sample is not airborne, but the last step of the path leads to it (a
        flier ending inside a country was counted one step short inside without it)."""
        after = np.zeros_like(self.active)
        after[:, 1:] = self.active[:, :-1]
        return self.active | after

    def ground_track_km(self, rows=slice(None), until: float = np.inf) -> np.ndarray:
        """Distance flown over the ground [km] (great circles between samples) by ``rows`` (all:
        (B,); one index: a scalar), up to time ``until`` [s] (a kill ends a flight early)."""
        lat, lon = self.lat[rows], self.lon[rows]
        act = self.active[rows] & (self.t <= until)
        d = earth.great_circle_distance(lat[..., :-1], lon[..., :-1], lat[..., 1:], lon[..., 1:])
        return np.where(act[..., :-1], d, 0.0).sum(axis=-1) / 1e3

    def trajectories(self) -> Trajectories:
        """The same flights as a :class:`~shieldlab.flyout.records.Trajectories` (ECEF [m, m/s]),
        what the sensor stage observes: ``launch_time`` is the start, ``impact_time`` the end,
        the phase MIDCOURSE while airborne."""
        pos = earth.geodetic_to_ecef(self.lat, self.lon, self.alt)
        vh = self.speed * np.cos(np.arcsin(np.clip(self.climb / np.maximum(self.speed, 1e-9), -1, 1)))
        enu = np.stack([vh * np.sin(self.heading), vh * np.cos(self.heading), self.climb], axis=-1)
        enu = np.where(self.active[..., None], enu, 0.0)
        rot = earth.enu_matrix(self.lat, self.lon)  # (B, T, 3, 3): rows east, north, up in ECEF
        vel = np.einsum("...ij,...i->...j", rot, enu)
        phase = np.where(self.active, Phase.MIDCOURSE, Phase.PRELAUNCH).astype(np.int8)
        phase[self.t[None, :] >= self.end_time[:, None]] = Phase.IMPACTED
        end_pos = pos[np.arange(pos.shape[0]), np.clip(np.searchsorted(self.t, self.end_time), 0,
                                                       self.t.size - 1)]
        return Trajectories(t=self.t, pos=pos, vel=vel, phase=phase, launch_time=self.start_time,
                            burnout_time=self.start_time, burnout_speed=self.speed.max(axis=1),
                            apogee_time=self.t[np.argmax(self.alt, axis=1)], apogee_alt=self.alt.max(axis=1),
                            impact_time=self.end_time, impact_pos=end_pos)


def density_ratio(alt) -> np.ndarray:
    """ISA density over its sea-level value at geometric height ``alt`` [m] (clipped at 0): with the
    geopotential height ``H = r0 h / (r0 + h)`` (r0 = 6,356,766 m), ``(1 - 2.25577e-5 H)^4.25588``
    to H = 11 km, then ``0.297076 exp(-(H - 11000) / 6341.62)``."""
    h = np.maximum(np.asarray(alt, float), 0.0)
    H = R0_GEOPOTENTIAL * h / (R0_GEOPOTENTIAL + h)
    tropo = np.maximum(1.0 - 2.25577e-5 * np.minimum(H, 11000.0), 0.0) ** 4.25588
    return np.where(H <= 11000.0, tropo, 0.297076 * np.exp(-(H - 11000.0) / 6341.62))


def min_true_airspeed(min_eas, alt) -> np.ndarray:
    """Least true airspeed [m/s] at height ``alt`` [m] for a least equivalent airspeed ``min_eas``
    [m/s]: ``EAS / sqrt(rho(h) / rho0)``."""
    return np.asarray(min_eas, float) / np.sqrt(density_ratio(alt))


def land_profile(routes: Routes, land=None, step_m: float = LAND_STEP_M) -> np.ndarray:
    """(B, S) whether the route is over land every ``step_m`` of its great-circle legs from its
    start (the last value holds beyond the end); ``land`` a callable ``(lat_deg, lon_deg) ->
    bool array`` (default :func:`shieldlab.airspace.borders.over_land`)."""
    if land is None:
        from shieldlab.airspace.borders import over_land as land
    B = routes.n.size
    lats, lons, owner, index = [], [], [], []
    S = 1
    for b in range(B):
        n = int(routes.n[b])
        la, lo = routes.lat[b, :n], routes.lon[b, :n]
        legs = earth.great_circle_distance(la[:-1], lo[:-1], la[1:], lo[1:])
        total = float(np.sum(legs))
        s_pts = np.arange(0.0, total + step_m, step_m)
        cum = np.concatenate([[0.0], np.cumsum(legs)])
        j = np.clip(np.searchsorted(cum, s_pts, side="right") - 1, 0, n - 2)
        brg = earth.initial_bearing(la[j], lo[j], la[j + 1], lo[j + 1])
        plat, plon = earth.destination(la[j], lo[j], brg, s_pts - cum[j])
        lats.append(plat)
        lons.append(plon)
        owner.append(np.full(s_pts.size, b))
        index.append(np.arange(s_pts.size))
        S = max(S, s_pts.size)
    flags = np.asarray(land(np.degrees(np.concatenate(lats)), np.degrees(np.concatenate(lons))), bool)
    out = np.zeros((B, S), bool)
    ob, oi = np.concatenate(owner), np.concatenate(index)
    out[ob, oi] = flags
    for b in range(B):  # beyond a route's end: its last value
        last = int(np.sum(ob == b)) - 1
        out[b, last + 1:] = out[b, last]
    return out


def turn_radius(speed, bank) -> np.ndarray:
    """Radius [m] of a coordinated level turn at true airspeed ``speed`` [m/s] and bank [rad]."""
    return np.asarray(speed, float) ** 2 / (G * np.tan(bank))


def _radii(lat, h):
    s2 = np.sin(lat) ** 2
    w = np.sqrt(1.0 - WGS84_E2 * s2)
    n = WGS84_A / w
    m = WGS84_A * (1.0 - WGS84_E2) / w ** 3
    return m + h, (n + h) * np.cos(lat)


def _wrap(a):
    return (a + np.pi) % (2.0 * np.pi) - np.pi


def fly(limits: Limits, routes: Routes, start_time, dt: float, *, speed_factor=None, fail_fraction=None,
        land=None, t_max: float = 40_000.0, t0: float | None = None, n_samples: int | None = None,
        compiled: bool = True) -> AirPaths:
    """Fly every route; returns the sampled paths on a grid of step ``dt`` [s] from the earliest start.

    limits : the flier of each row (:class:`Limits`, arrays (B,)).
    routes : :class:`Routes` (B, W).
    start_time : (B,) [s from epoch].
    speed_factor : optional (B,) factor on every commanded speed (a run's dispersion), clipped
        to the flier's speed limits.
    fail_fraction : optional (B,) fraction of the route's great-circle length after which the
        flier comes down (``inf``/nan: never): a cruise missile's failure drawn per run.
    land : optional (B, S) land profile (:func:`land_profile`), or a callable ``(lat_deg,
        lon_deg) -> bool array`` to build it with; needed only for cruise missiles (default:
        Natural Earth land).
    t_max : longest flight [s]; a route still unfinished then raises ``ValueError`` (a
        waypoint the flier cannot reach, e.g. inside its turn circle at every pass).
    t0, n_samples : the grid's first time [s] (default the earliest start; no start may precede
        it) and its length (default: until the last flier ends, and one sample more).  A fixed
        grid makes a row's samples, and the sensors' scans over them, independent of the other
        rows flown with it; a flight not over within it raises ``ValueError``.
    compiled : the compiled per-row loop (default) or the NumPy reference.
    """
    B = routes.n.size
    start_time = np.ascontiguousarray(np.broadcast_to(np.asarray(start_time, float), (B,)))
    sf = np.ones(B) if speed_factor is None else np.ascontiguousarray(
        np.broadcast_to(np.asarray(speed_factor, float), (B,)))
    cm = ~np.isnan(limits.land_height)
    if cm.any() and (land is None or callable(land)):
        land = land_profile(routes, land)
    elif not cm.any():
        land = np.zeros((B, 1), bool)
    land = np.ascontiguousarray(np.asarray(land, bool))
    leg = earth.great_circle_distance(routes.lat[:, :-1], routes.lon[:, :-1], routes.lat[:, 1:], routes.lon[:, 1:])
    leg = np.where(np.isnan(leg), 0.0, leg)
    fail_at = np.full(B, np.inf)
    if fail_fraction is not None:
        ff = np.broadcast_to(np.asarray(fail_fraction, float), (B,))
        fail_at = np.where(np.isfinite(ff), ff * leg.sum(axis=1), np.inf)
    first = float(start_time.min())
    if t0 is None:
        t0 = first
    elif first < t0 - 1e-9:
        raise ValueError(f"a flier starts at {first:g} s, before the grid's first time {t0:g} s")
    if n_samples is not None:
        t_max = min(t_max, (n_samples - 2) * dt - (float(start_time.max()) - t0))
    args = (limits, routes, start_time, sf, fail_at, land, float(dt), float(t0), float(t_max))
    paths = _fly_compiled(*args) if compiled else _fly_numpy(*args)
    return paths if n_samples is None else _padded(paths, n_samples)


def _padded(p: AirPaths, n: int) -> AirPaths:
    """``p`` on a grid of ``n`` samples (at least its own): the last sample repeated, inactive."""
    extra = n - p.t.size
    if extra < 0:
        raise ValueError(f"the flights need {p.t.size} samples, more than the {n} asked for")
    if extra == 0:
        return p

    def pad(a, zero=False):
        tail = np.zeros_like(a[:, -1:]) if zero else a[:, -1:]
        return np.concatenate([a, np.repeat(tail, extra, axis=1)], axis=1)

    dt = p.t[1] - p.t[0] if p.t.size > 1 else 1.0
    return AirPaths(t=p.t[0] + dt * np.arange(n), lat=pad(p.lat), lon=pad(p.lon), alt=pad(p.alt),
                    speed=pad(p.speed, True), heading=pad(p.heading), climb=pad(p.climb, True),
                    active=pad(p.active, True), start_time=p.start_time, end_time=p.end_time, failed=p.failed)


def _fly_compiled(limits, routes, start_time, sf, fail_at, land, dt, t0, t_max) -> AirPaths:
    from shieldlab.airspace.flight_kernel import fly_rows

    B = routes.n.size
    T = int(math.ceil((float(start_time.max()) - t0 + t_max) / dt)) + 2
    cols = {k: np.zeros((B, T)) for k in ("lat", "lon", "alt", "speed", "heading", "climb")}
    active = np.zeros((B, T), np.bool_)
    end_time = np.full(B, np.inf)
    failed = np.zeros(B, np.bool_)
    k_done = np.zeros(B, np.int64)
    f = np.ascontiguousarray
    args = (f(routes.lat), f(routes.lon), f(routes.alt), f(routes.speed), f(routes.n.astype(np.int64)),
            *(f(np.broadcast_to(getattr(limits, k), (B,)).astype(float)) for k in _LIMIT_FIELDS),
            start_time, sf, f(fail_at), land, LAND_STEP_M, dt, t0,
            cols["lat"], cols["lon"], cols["alt"], cols["speed"], cols["heading"], cols["climb"], active,
            end_time, failed, k_done)
    fly_rows(*args)
    if (k_done < 0).any():
        raise ValueError(f"{int((k_done < 0).sum())} of {B} routes not flown within {t_max:,.0f} s: a waypoint "
                         f"inside the flier's turn circle, or a route too long for its speed")
    n = int(k_done.max()) + 1
    grid = t0 + dt * np.arange(n)
    return AirPaths(t=grid, lat=cols["lat"][:, :n].copy(), lon=cols["lon"][:, :n].copy(),
                    alt=cols["alt"][:, :n].copy(), speed=cols["speed"][:, :n].copy(),
                    heading=cols["heading"][:, :n].copy(), climb=cols["climb"][:, :n].copy(),
                    active=active[:, :n].copy(), start_time=start_time.copy(), end_time=np.minimum(end_time, grid[-1]),
                    failed=failed)


#: The :class:`Limits` fields in the order the compiled loop takes them.
_LIMIT_FIELDS = ("cruise_speed", "max_speed", "min_eas", "ceiling", "max_climb", "max_bank", "max_accel",
                 "cruise_alt", "land_height")


def _fly_numpy(limits, routes, start_time, sf, fail_at, land, dt, t0, t_max) -> AirPaths:
    """The NumPy reference of the compiled loop: the same equations, all rows at each step."""
    B = routes.n.size
    rows = np.arange(B)
    cm = ~np.isnan(limits.land_height)
    S = land.shape[1]

    def target_alt(w, flown):
        alt = routes.alt[rows, w]
        over = land[rows, np.minimum((flown / LAND_STEP_M).astype(np.int64), S - 1)]
        default = np.where(cm & over, limits.land_height, limits.cruise_alt)
        return np.minimum(np.where(np.isnan(alt), default, alt), limits.ceiling)

    def target_speed(w):
        s = routes.speed[rows, w]
        return np.where(np.isnan(s), limits.cruise_speed, s) * sf

    lat = routes.lat[:, 0].copy()
    lon = routes.lon[:, 0].copy()
    w = np.ones(B, np.int64)  # the waypoint flown toward
    flown = np.zeros(B)
    alt = np.where(np.isnan(routes.alt[:, 0]), target_alt(w, flown), routes.alt[:, 0])
    spd = np.clip(target_speed(w), min_true_airspeed(limits.min_eas, alt), limits.max_speed)
    hdg = earth.initial_bearing(lat, lon, routes.lat[:, 1], routes.lon[:, 1])
    done = np.zeros(B, bool)
    failed = np.zeros(B, bool)
    end_time = np.full(B, np.inf)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("lat", "lon", "alt", "speed", "heading", "climb", "active")}
    k = 0
    while True:
        t = t0 + k * dt
        act = (t >= start_time - 1e-9) & ~done
        climb = np.zeros(B)
        step = np.zeros(B)
        if act.any():
            a = act
            # commands toward waypoint w: speed first, then turn at that speed's rate, then climb
            wl, wn = routes.lat[rows, w], routes.lon[rows, w]
            h_cmd = target_alt(w, flown)
            v_cmd = np.clip(target_speed(w), min_true_airspeed(limits.min_eas, alt), limits.max_speed)
            brg = earth.initial_bearing(lat, lon, wl, wn)
            dist = earth.great_circle_distance(lat, lon, wl, wn)
            dv = np.clip(v_cmd - spd, -limits.max_accel * dt, limits.max_accel * dt)
            spd = np.where(a, spd + dv, spd)
            rate = G * np.tan(limits.max_bank) / np.maximum(spd, 1.0)
            err = _wrap(brg - hdg)
            hdg = np.where(a, (hdg + np.clip(err, -rate * dt, rate * dt)) % (2 * np.pi), hdg)
            climb = np.where(a, np.clip((h_cmd - alt) / dt, -limits.max_climb, limits.max_climb), 0.0)
            gamma = np.arcsin(np.clip(climb / np.maximum(spd, 1.0), -1.0, 1.0))
            step = np.where(a, spd * np.cos(gamma) * dt, 0.0)
            # waypoint passage: within the lead distance of the turn onto the next leg, or a step
            nxt = np.minimum(w + 1, routes.n - 1)
            last = w >= routes.n - 1
            course_next = earth.initial_bearing(wl, wn, routes.lat[rows, nxt], routes.lon[rows, nxt])
            delta = np.abs(_wrap(course_next - brg))
            lead = np.where(last, 0.0, turn_radius(spd, limits.max_bank) * np.tan(np.minimum(delta, 2.8) / 2))
            passed = a & (dist <= np.maximum(lead, step))
            end_now = passed & last
            w = np.where(passed & ~last, w + 1, w)
            fail_now = a & ~end_now & (flown + step >= fail_at)
            end_time = np.where(end_now | fail_now, t + dt, end_time)
            failed |= fail_now
            done |= end_now | fail_now
        # the state at t, and the rates flown over [t, t + dt]
        for key, v in (("lat", lat), ("lon", lon), ("alt", alt), ("speed", np.where(act, spd, 0.0)),
                       ("heading", hdg), ("climb", climb), ("active", act)):
            cols[key].append(np.array(v, copy=True))
        rm, rn = _radii(lat, alt)
        lat = lat + step * np.cos(hdg) / rm
        lon = _wrap(lon + step * np.sin(hdg) / rn)
        alt = alt + climb * dt
        flown = flown + step
        k += 1
        if done.all():
            break
        if k * dt > float(start_time.max()) - t0 + t_max:
            raise ValueError(f"{int((~done).sum())} of {B} routes not flown within {t_max:,.0f} s: a waypoint "
                             f"inside the flier's turn circle, or a route too long for its speed")
    # the last sample shows the end position, inactive
    for key, v in (("lat", lat), ("lon", lon), ("alt", alt), ("speed", np.zeros(B)), ("heading", hdg),
                   ("climb", np.zeros(B)), ("active", np.zeros(B, bool))):
        cols[key].append(np.array(v, copy=True))
    grid = t0 + dt * np.arange(k + 1)
    out = {key: np.stack(v, axis=1) for key, v in cols.items()}
    return AirPaths(t=grid, lat=out["lat"], lon=out["lon"], alt=out["alt"], speed=out["speed"],
                    heading=out["heading"], climb=out["climb"], active=out["active"].astype(bool),
                    start_time=start_time.copy(), end_time=np.minimum(end_time, grid[-1]), failed=failed)
