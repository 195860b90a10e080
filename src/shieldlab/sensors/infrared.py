"""Early-warning satellites: infrared sensors that see a burning missile and report the launch.

A satellite (:class:`Satellite`: a catalogue :class:`~shieldlab.catalog.models.Satellite`
placed in the scenario) looks at the whole disc of the Earth below it.  A geostationary one
(catalogue ``orbit: geo``) hangs over one longitude of the equator.  One on a highly
elliptical orbit (``orbit: heo``, a Molniya orbit for SBIRS HEO and Russia's Tundra) moves:
the scenario gives the longitude of its apogee's ground point and the time of that apogee
passage, and :meth:`Satellite.position_at` places it at each frame time by the two-body
problem (:func:`shieldlab.flyout.kepler.orbit_position`, Kepler's equation, in an inertial
frame that is the Earth-fixed one at t = 0, turned into the Earth frame by
:func:`shieldlab.earth.inertial_to_ecef`).  J2 is left out: it turns a Molniya orbit's plane
by about 0.13 deg a day and, at the critical inclination, leaves its apogee where it is, so
over the hour or so of a raid the satellite is some 0.1 km (a day from the epoch, ~50 km)
from its two-body place at apogee, which moves the edge of the disc it sees by about a
seventh of that.  Model (figures and assumptions in catalog/satellites.yaml):

* **Frames.**  Every ``frame_s`` from the first grid time.  A threat is a *candidate* in a
  frame while its engines burn (from launch to burnout), its plume is above
  ``min_plume_alt_km`` (cloud and water vapour hide lower plumes) and the straight line
  from the satellite, where it is at that frame, clears the Earth
  (:func:`shieldlab.earth.line_of_sight`, 20 km above the ellipsoid: the lower atmosphere
  absorbs the plume's band along a grazing path, an assumption).  A candidate is detected
  with probability ``pd``.
* **Line-of-sight reports** (angles only): the unit vector from the satellite to the threat,
  perturbed by ``sigma_los_mrad`` on each of two axes across it.
* **Launch report**, ``report_latency_s`` after the frame of the ``init_frames``-th
  detection: the launch time, the launch point and the heading of the ground track (from
  the launch point to the burnout point), each the truth plus Gaussian error of the stated
  sigma.  A real system estimates them from its line-of-sight reports (and a second
  satellite's); here the estimator is abstracted into those errors, which are assumptions.

What the report does (:mod:`shieldlab.engine.chain`): it *cues* the radars of the
satellite's system (every radar under ``architecture: integrated``; under ``coordinated`` and
``sectoral`` also those of the nodes linked from it, when the link brings the report:
:func:`shieldlab.c2.network.warning_times`): from the report on, a
radar in whose field the threat is looks at it every scan, as if it held it, rather than
waiting for its search frame (:func:`shieldlab.sensors.radar.looks`); and it alerts the
batteries of those systems, whose preparation (reaction time) then runs from the report
(:func:`shieldlab.engine.chain.battery_alerts`; on tracks of reports without labels, those
tracks the report fits by where and when: :mod:`shieldlab.c2.alerts`).  The trackers do not
take the angles-only reports; fire control needs a radar's track.

Limits: geostationary and two-body elliptical orbits (no J2, drag or station-keeping of a
HEO satellite), no sun glint, clouds or background clutter beyond the altitude floor, no
false alarms, no stereo estimation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from shieldlab import earth
from shieldlab.catalog.models import Satellite as SatelliteSpec
from shieldlab.flyout.interp import state_at
from shieldlab.flyout.kepler import orbit_position
from shieldlab.flyout.records import Trajectories
from shieldlab.sensors.radar import scan_times

__all__ = ["Satellite", "LaunchReports", "observe_launches", "expected_report_time", "GRAZING_CLEARANCE_M"]

#: Height above the ellipsoid [m] a satellite's line of sight must clear to see a plume: along
#: a grazing path the lower atmosphere absorbs the plume's band (assumption).
GRAZING_CLEARANCE_M = 20e3


@dataclass(frozen=True)
class Satellite:
    """A catalogue early-warning satellite placed in the scenario.

    name : scenario name; spec : :class:`shieldlab.catalog.models.Satellite`;
    lon : [rad] geostationary (``spec.orbit == "geo"``): the longitude of the equator it
    hangs over; highly elliptical (``"heo"``): the longitude of its apogee's ground point at
    the apogee passage ``apogee_time``; system : the C2 node whose radars its launch reports
    cue; apogee_time : [s from the epoch] the time of that apogee passage (``heo`` only).
    """

    name: str
    spec: SatelliteSpec
    lon: float
    system: str = "defence"
    apogee_time: float = 0.0

    @cached_property
    def position(self) -> np.ndarray:
        """ECEF position (3,) [m] of a geostationary satellite, fixed in the Earth frame (one on a
        highly elliptical orbit moves: :meth:`position_at`)."""
        if self.spec.orbit != "geo":
            raise ValueError(f"satellite {self.name!r} is on a highly elliptical orbit: it has a position at "
                             f"each time (position_at), not one")
        r = earth.WGS84_A + 1e3 * self.spec.geo_alt_km
        return np.array([r * math.cos(self.lon), r * math.sin(self.lon), 0.0])

    @cached_property
    def raan(self) -> float:
        """Right ascension of the ascending node [rad] in the inertial frame (the Earth-fixed
        axes at t = 0) that puts the apogee over ``lon`` at ``apogee_time`` (``heo``).

        At apogee the argument of latitude is ``u = arg_perigee + pi``; the apogee's inertial
        longitude is then ``raan + atan2(sin u cos i, cos u)``, and its Earth-fixed longitude
        that less ``OMEGA_EARTH apogee_time``."""
        el = self.spec.elements()
        u, inc = el.arg_perigee + math.pi, el.inclination
        return self.lon + earth.OMEGA_EARTH * self.apogee_time - math.atan2(math.sin(u) * math.cos(inc), math.cos(u))

    def position_at(self, t: np.ndarray | float) -> np.ndarray:
        """ECEF position (..., 3) [m] at times ``t`` (...) [s from the epoch].

        Geostationary: :attr:`position` at every time.  Highly elliptical: the two-body orbit
        of the catalogue elements, mean anomaly ``pi + n (t - apogee_time)`` with the mean
        motion ``n = sqrt(GM / a^3)``, from :func:`shieldlab.flyout.kepler.orbit_position` in the
        inertial frame, turned into the Earth frame of time ``t``."""
        t = np.asarray(t, dtype=float)
        if self.spec.orbit == "geo":
            return np.broadcast_to(self.position, t.shape + (3,))
        el = self.spec.elements()
        n = math.sqrt(earth.GM / el.semi_major_axis**3)
        r = orbit_position(*el, self.raan, math.pi + n * (t - self.apogee_time))
        return earth.inertial_to_ecef(r, t)


@dataclass(frozen=True)
class LaunchReports:
    """What one satellite saw of a batch of threats (batch shape ``...``).

    t : (K,) frame times [s from epoch]; detected : (..., K); los : (..., K, 3) measured
    unit lines of sight from the satellite (ECEF; ``nan`` where not detected);
    report_time : (...) when the launch report is issued [s from epoch], ``inf`` if never;
    launch_time, launch_lat, launch_lon, heading : (...) the report [s, rad, rad, rad
    clockwise from north], ``nan`` where there is none.
    """

    sensor: str
    system: str
    t: np.ndarray
    detected: np.ndarray
    los: np.ndarray
    report_time: np.ndarray
    launch_time: np.ndarray
    launch_lat: np.ndarray
    launch_lon: np.ndarray
    heading: np.ndarray


def _candidates(sat: Satellite, traj: Trajectories, t: np.ndarray, pos: np.ndarray,
                sat_pos: np.ndarray) -> np.ndarray:
    """(..., K) bool: burning, plume above the floor, line of sight from ``sat_pos`` (K, 3) clear."""
    burning = (t >= traj.launch_time[..., None]) & (t < traj.burnout_time[..., None])
    _, _, alt = earth.ecef_to_geodetic(pos)
    high = alt >= 1e3 * float(sat.spec.min_plume_alt_km)
    clear = earth.line_of_sight(np.broadcast_to(sat_pos, pos.shape), pos, GRAZING_CLEARANCE_M)
    return burning & high & clear


def observe_launches(sat: Satellite, traj: Trajectories,
                     rng: np.random.Generator | Sequence[np.random.Generator]) -> LaunchReports:
    """Frames, line-of-sight reports and the launch report of every threat of ``traj``.

    ``rng``: one generator, or one per row of the leading batch axis (a Monte Carlo run).
    Per (element, frame) one uniform and two normals are drawn, and per element four
    normals for the launch report, whatever is seen, so results depend only on the seed and
    the shapes."""
    spec = sat.spec
    t = scan_times(traj.t, float(spec.frame_s))
    pos, _ = state_at(traj, t, velocity=False)
    batch, K = traj.batch_shape, t.size
    sat_pos = sat.position_at(t)  # (K, 3): where the satellite is at each frame
    cand = _candidates(sat, traj, t, pos, sat_pos)
    if isinstance(rng, np.random.Generator):
        u, n2, n4 = rng.random(batch + (K,)), rng.standard_normal(batch + (K, 2)), rng.standard_normal(batch + (4,))
    else:
        rows = [(g.random(batch[1:] + (K,)), g.standard_normal(batch[1:] + (K, 2)), g.standard_normal(batch[1:] + (4,)))
                for g in rng]
        u, n2, n4 = (np.stack([r[i] for r in rows]) for i in range(3))
    detected = cand & (u < float(spec.pd))
    # angles-only reports: the true line of sight turned by the noise on two axes across it
    d = pos - sat_pos
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    a = np.cross(d, np.array([0.0, 0.0, 1.0]))
    a /= np.linalg.norm(a, axis=-1, keepdims=True)
    b = np.cross(d, a)
    sig = 1e-3 * float(spec.sigma_los_mrad)
    los = d + sig * (n2[..., :1] * a + n2[..., 1:] * b)
    los /= np.linalg.norm(los, axis=-1, keepdims=True)
    los = np.where(detected[..., None], los, np.nan)
    # the launch report: at the init_frames-th detection, plus the latency
    count = np.cumsum(detected, axis=-1)
    reached = count >= int(spec.init_frames)
    k = np.argmax(reached, axis=-1)
    report_time = np.where(reached.any(axis=-1), t[k] + float(spec.report_latency_s), np.inf)
    has = np.isfinite(report_time)
    # the truth it estimates: launch time and point, heading from the launch to the burnout point
    launch_pos = _at_times(traj, traj.launch_time)
    burnout_pos = _at_times(traj, traj.burnout_time)
    lat0, lon0, _ = earth.ecef_to_geodetic(launch_pos)
    lat1, lon1, _ = earth.ecef_to_geodetic(burnout_pos)
    heading = earth.initial_bearing(lat0, lon0, lat1, lon1)
    R0 = earth.R_EARTH_MEAN
    err_km = float(spec.sigma_launch_km) * 1e3
    r_lat = lat0 + n4[..., 1] * err_km / R0
    r_lon = lon0 + n4[..., 2] * err_km / (R0 * np.maximum(np.cos(lat0), 1e-6))
    nan = np.full(batch, np.nan)
    return LaunchReports(
        sensor=sat.name, system=sat.system, t=t, detected=detected, los=los, report_time=report_time,
        launch_time=np.where(has, traj.launch_time + n4[..., 0] * float(spec.sigma_launch_time_s), nan),
        launch_lat=np.where(has, r_lat, nan), launch_lon=np.where(has, r_lon, nan),
        heading=np.where(has, np.mod(heading + n4[..., 3] * math.radians(float(spec.sigma_heading_deg)), 2 * np.pi),
                         nan))


def candidate_frames(sat: Satellite, traj: Trajectories) -> np.ndarray:
    """How many of the satellite's frames may detect each threat of ``traj`` (batch ``...``):
    burning, the plume above the floor, the line of sight clear (the frames of
    :func:`observe_launches` before the ``pd`` draw); a threat with fewer than ``init_frames``
    is never reported."""
    t = scan_times(traj.t, float(sat.spec.frame_s))
    pos, _ = state_at(traj, t, velocity=False)
    return _candidates(sat, traj, t, pos, sat.position_at(t)).sum(axis=-1)


def _at_times(traj: Trajectories, times: np.ndarray) -> np.ndarray:
    """ECEF position (..., 3) of each element at its own time ``times`` (...) (clamped to the grid)."""
    batch = traj.batch_shape
    idx = tuple(np.indices(batch).reshape(len(batch), -1))
    tt = np.nan_to_num(np.asarray(times, float).reshape(-1), nan=float(traj.t[0]))
    p, _ = state_at(traj, tt, index=idx, velocity=False)
    return p.reshape(batch + (3,))


def expected_report_time(sat: Satellite, pos: np.ndarray, burnout_s: float, dt: float,
                         launch_time_s: float = 0.0) -> float:
    """When ``sat`` is expected to report the launch of one path ``pos`` (J, 3) [ECEF m]
    sampled every ``dt`` [s] from launch, burning until ``burnout_s`` [s after launch]: the
    first frame at which the expected detections (``pd`` per candidate frame) reach
    ``init_frames``, plus the latency [s after launch]; ``inf`` if never.  Frames are in
    phase with the launch (the engine's runs are in phase with the epoch).  The launch is at
    ``launch_time_s`` [s from the epoch], which places a satellite on a highly elliptical
    orbit (reach and the footprint launch at the epoch)."""
    spec = sat.spec
    J = pos.shape[0]
    t_end = min((J - 1) * dt, float(burnout_s))
    t = np.arange(0.0, t_end, float(spec.frame_s))
    if t.size == 0:
        return math.inf
    f = t / dt
    j = np.minimum(f.astype(int), J - 1)
    j1 = np.minimum(j + 1, J - 1)
    p = pos[j] + (f - j)[:, None] * (pos[j1] - pos[j])
    _, _, alt = earth.ecef_to_geodetic(p)
    clear = earth.line_of_sight(np.broadcast_to(sat.position_at(launch_time_s + t), p.shape), p, GRAZING_CLEARANCE_M)
    cand = (alt >= 1e3 * float(spec.min_plume_alt_km)) & clear
    hits = np.cumsum(cand * float(spec.pd))
    k = np.flatnonzero(hits >= int(spec.init_frames) - 1e-9)
    return math.inf if k.size == 0 else float(t[k[0]] + float(spec.report_latency_s))
