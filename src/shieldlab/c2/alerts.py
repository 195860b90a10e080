"""Battery alerts from launch reports on tracks without labels: which track a report is about.

An early-warning satellite's launch report (:class:`~shieldlab.sensors.infrared.LaunchReports`:
launch time, launch point and heading, each with its stated error) alerts the batteries of
the nodes that hold it, whose preparation (reaction time) then runs from the report
(:func:`shieldlab.c2.firecontrol.ready_time`).  Where fire control engages the tracks of a
multi-target tracker (``tracking.association: gnn``) a report names a launch, not a track:
the node must decide which of its tracks the report is about.  It does so by where and when
(:func:`correlate`), never by which object the track followed:

* **when**: the track's first state comes after the reported launch, within
  :data:`GATE_SIGMA` sigmas of the launch time;
* **how far**: the ground point of that first state is no farther from the reported launch
  point than :data:`MAX_GROUND_SPEED_MS` times the time since launch, plus the gate's sigmas
  of the launch point's and the track's position errors;
* **which way**: the ground point lies within a gate of the great circle leaving the
  reported launch point on the reported heading: its cross-track distance is at most the
  gate's sigmas of the position errors and of the heading error at that distance, plus the
  bend of a ballistic ground track that the heading (launch point to burnout point) does not
  hold, bounded by the Coriolis acceleration ``2 ω v`` over the time since launch:
  ``ω · d · Δt`` for a distance ``d`` flown in ``Δt`` (``ω`` the Earth's rate).  A point
  behind the launch point must be within the position errors of it.

A track that passes the gate of several reports (a salvo from one site) takes the earliest
of them that the node holds: its batteries were readying from that report on.  A false track
that happens to pass is alerted as well, as it would be.  The report's own content is the
first one issued among the satellites whose reports reach the node (reports of one launch by
two satellites are one launch report: the ground segment's fusion is abstracted, as the
estimate itself is in :mod:`shieldlab.sensors.infrared`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from shieldlab import earth
from shieldlab.tracking.records import Tracks

#: Fastest ground speed of a ballistic threat's sub-point [m/s]: about orbital speed, which
#: no ballistic missile reaches (an ICBM burns out at ~7 km/s; its sub-point moves slower).
MAX_GROUND_SPEED_MS = 7900.0
#: Gate width in sigmas of the report's errors.
GATE_SIGMA = 4.0


@dataclass(frozen=True)
class HeldReports:
    """The launch reports one node holds, one per launch, batch (C, L): when the node holds
    each (``held_time`` [s], ``inf``: never) and what it says (``launch_time`` [s],
    ``lat``/``lon`` [rad], ``heading`` [rad clockwise from north], ``nan`` where none) with
    the reporting satellite's sigmas (``sigma_time_s``, ``sigma_m``, ``sigma_heading``
    [s, m, rad])."""

    held_time: np.ndarray
    launch_time: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    heading: np.ndarray
    sigma_time_s: np.ndarray
    sigma_m: np.ndarray
    sigma_heading: np.ndarray


def held_reports(held_time: np.ndarray, reports: list, satellites: dict) -> HeldReports:
    """The reports a node holds at ``held_time`` (C, L) [s] (its
    :class:`~shieldlab.c2.network.Warnings` times), each with the content of the first one
    issued among ``reports`` (:class:`~shieldlab.sensors.infrared.LaunchReports`, those of
    the satellites that reach the node; ``satellites``: their name to the placed satellite)."""
    held_time = np.asarray(held_time, float)
    issued = np.stack([r.report_time for r in reports])  # (S, C, L)
    first = np.argmin(issued, axis=0)[None]

    def pick(values):
        return np.take_along_axis(np.stack([np.broadcast_to(v, held_time.shape) for v in values]), first, 0)[0]

    specs = [satellites[r.sensor].spec for r in reports]
    return HeldReports(
        held_time=held_time,
        launch_time=pick([r.launch_time for r in reports]), lat=pick([r.launch_lat for r in reports]),
        lon=pick([r.launch_lon for r in reports]), heading=pick([r.heading for r in reports]),
        sigma_time_s=pick([float(s.sigma_launch_time_s) for s in specs]),
        sigma_m=pick([1e3 * float(s.sigma_launch_km) for s in specs]),
        sigma_heading=pick([math.radians(float(s.sigma_heading_deg)) for s in specs]))


def first_states(tracks: Tracks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each track's first state that fire control reads: its time (C, T) [s] (``inf``: none),
    ECEF position (C, T, 3) [m] (``nan``: none) and the radius of its position error, the
    square root of the trace of the position covariance (C, T) [m] (``nan``: none)."""
    x = tracks.x
    has = np.isfinite(x[..., 0])  # (C, T, K)
    k0 = np.argmax(has, axis=-1)
    some = has.any(axis=-1)
    pos = np.take_along_axis(x[..., :3], k0[..., None, None], axis=-2)[..., 0, :]
    sigma = np.full(some.shape, np.nan)
    cc, tt = np.nonzero(some)
    if cc.size:
        P = np.asarray(tracks.P[cc, tt, k0[cc, tt]])  # (M, 6, 6)
        sigma[cc, tt] = np.sqrt(np.trace(P[:, :3, :3], axis1=1, axis2=2))
    return np.where(some, np.asarray(tracks.t, float)[k0], np.inf), np.where(some[..., None], pos, np.nan), sigma


def gate(t0: np.ndarray, pos: np.ndarray, sigma: np.ndarray, rep: HeldReports) -> np.ndarray:
    """Whether each track (first state at ``t0`` (C, T) [s], ``pos`` (C, T, 3) ECEF [m], its
    position error ``sigma`` (C, T) [m]) may be the launch of each report ``rep`` (C, L):
    (C, T, L) bool (the module's three tests, the track's error added to the report's)."""
    lat, lon, _ = earth.ecef_to_geodetic(pos)
    lat, lon, t0 = lat[..., :, None], lon[..., :, None], t0[..., :, None]  # (C, T, 1)
    s_x = sigma[..., :, None]
    r_lat, r_lon, r_t = rep.lat[..., None, :], rep.lon[..., None, :], rep.launch_time[..., None, :]  # (C, 1, L)
    s_t, s_m, s_h = (a[..., None, :] for a in (rep.sigma_time_s, rep.sigma_m, rep.sigma_heading))
    with np.errstate(invalid="ignore"):
        lat, lon, r_lat, r_lon = np.broadcast_arrays(lat, lon, r_lat, r_lon)
        d = earth.great_circle_distance(r_lat, r_lon, lat, lon)  # (C, T, L) m
        since = t0 - r_t
        when = since >= -GATE_SIGMA * s_t
        s_p = np.hypot(s_m, s_x)  # the launch point's and the track's position errors
        far = d <= MAX_GROUND_SPEED_MS * np.maximum(since + GATE_SIGMA * s_t, 0.0) + GATE_SIGMA * s_p
        off = np.angle(np.exp(1j * (earth.initial_bearing(r_lat, r_lon, lat, lon) - rep.heading[..., None, :])))
        cross = np.abs(earth.R_EARTH_MEAN * np.arcsin(np.sin(d / earth.R_EARTH_MEAN) * np.sin(off)))
        behind = np.abs(off) > 0.5 * np.pi  # the great circle's other half: the launch point's error alone
        bend = earth.OMEGA_EARTH * d * np.maximum(since, 0.0)
        room = GATE_SIGMA * np.hypot(s_p, d * s_h) + bend
        way = np.where(behind, d <= GATE_SIGMA * s_p, cross <= room)
        ok = when & far & way
    return ok & np.isfinite(d) & np.isfinite(rep.held_time[..., None, :])


def correlate(tracks: Tracks, rep: HeldReports) -> np.ndarray:
    """When a launch report alerted the node to each track (C, T) [s]: the earliest held time
    of the reports whose gate the track's first state passes (:func:`gate`); ``inf``: none."""
    t0, pos, sigma = first_states(tracks)
    if t0.shape[-1] == 0 or rep.held_time.shape[-1] == 0:
        return np.full(t0.shape, np.inf)
    ok = gate(t0, pos, sigma, rep)
    return np.where(ok, rep.held_time[..., None, :], np.inf).min(axis=-1)
