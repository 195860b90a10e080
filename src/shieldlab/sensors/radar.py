"""Ground radar: visibility, radar-equation SNR, Swerling-1 detection, noisy (range, az, el).

A placed :class:`Radar` looks at WGS84 ECEF target positions [m] from a geodetic
site (lat, lon [rad], alt [m]).  Model (equations and sources in docs/models.md):

* SNR from the radar equation scaled to the catalogue figure: the spec's
  ``max_range_km`` is the range at which a target of ``ref_rcs_m2`` is detected
  with Pd = 0.5 at the spec's ``pfa``, so
  ``SNR = SNR50 (R_max / R)^4 (sigma / sigma_ref)``
  (R^-4 law: M. I. Skolnik, *Introduction to Radar Systems*, 3rd ed., 2001, ch. 1-2).
* Scan loss of a fixed phased-array face (``scan_loss``, off by default): the SNR falls as the beam steers
  off the face's normal, ``SNR × cos(θ)^n`` with ``θ`` the azimuth off the normal of the
  face that looks (:func:`scan_gain`; the spec's ``array_faces``) and ``n`` =
  :data:`SCAN_LOSS_EXPONENT`: the aperture's projected area ``A cos θ`` sets the gain on
  transmit and the effective area on receive (``cos² θ`` both ways), and the elements'
  own pattern takes a little more.  In azimuth only: the faces' tilts are not public.
* Single-pulse Swerling case 1 detection, square-law detector:
  ``Pd = Pfa^(1 / (1 + SNR))``, hence ``SNR50 = ln(Pfa) / ln(1/2) - 1``
  (M. A. Richards, *Fundamentals of Radar Signal Processing*, 2005, ch. 6;
  Skolnik 2001, ch. 2).
* Search and track.  A radar looks at an object it does not hold once per search frame
  (``search_period_s``, a whole number ``m`` of scans); from its first detection of the
  object it looks every scan (``scan_period_s``: the confirmation and track revisits of a
  phased array) until the object leaves its field of regard (:func:`looks`).
* Visibility: azimuth within the field of view about the boresight, elevation in
  ``[max(el_min, mask), el_max]`` and a geometric line of sight clear of the
  ellipsoid (:func:`shieldlab.earth.line_of_sight`).
  Refraction, an effective Earth per target height in the standard atmosphere by default
  (``refraction_k``), moves the horizon and the elevation limits
  (:mod:`shieldlab.sensors.visibility`).
* Measurement: true (range, azimuth, elevation) plus independent Gaussian noise.  The
  spec's ``sigma_range_m`` and ``sigma_angle_mrad`` hold at the reference SNR
  :data:`REF_SNR` (20 dB; catalog/sensors.yaml); with ``snr_noise`` each report's
  standard deviations scale as ``sqrt(REF_SNR / SNR')`` (monopulse angle and range
  accuracy ``σ ≈ θ_3dB / sqrt(2 SNR)``, ``ΔR / sqrt(2 SNR)``: Skolnik 2001, ch. 6;
  Richards 2005), where ``SNR'`` is the look's measured SNR (its Swerling-1 echo power,
  from the same draw that decided the detection, less the noise) clipped to
  ``[ln(1 / Pfa), MAX_NOISE_SNR]`` (see :func:`noise_variance_scale`).  The report
  carries its own covariance (``Detections.r_scale``), as a radar's track report does:
  from what the radar measured, not from the target's true range or RCS.

Limits: no clutter, multipath, jamming, resolution or aspect-dependent RCS; one look
per scan (no pulse integration).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numba as nb
import numpy as np

from shieldlab import earth
from shieldlab.flyout.interp import in_flight, state_at
from shieldlab.flyout.records import Trajectories
from shieldlab.sensors import signature, visibility
from shieldlab.sensors.records import Detections, azimuth_variance_factor
from shieldlab.sensors.signature import Signature

__all__ = ["Radar", "snr50", "snr", "scan_gain", "face_geometry", "SCAN_LOSS_EXPONENT", "pd_swerling1",
           "noise_variance_scale", "search_every", "looks", "visible", "observe", "scan_times", "detect", "measure"]

#: Exponent n of the two-way scan loss ``cos(θ)^n`` of a fixed array face (:func:`scan_gain`):
#: 2 from the projected aperture on transmit and on receive, a half more for the elements'
#: own pattern (assumption: two-way exponents of 2 to 3 are the usual range; 2.5 loses 7.5 dB
#: at 60 deg off the normal, where cos² alone loses 6 dB).
SCAN_LOSS_EXPONENT = 2.5

#: SNR (linear) at which the catalogue's noise figures hold: 20 dB (catalog/sensors.yaml).
REF_SNR = 100.0
#: Largest SNR (linear) credited with smaller noise: 40 dB, where the noise is a tenth of the
#: catalogue's figures.  Beyond it fixed errors (calibration, multipath, the platform's
#: own attitude) dominate the thermal noise (assumption).
MAX_NOISE_SNR = 1e4


class RadarSpec(Protocol):
    """The figures of a catalogue sensor the radar model reads (:class:`shieldlab.catalog.models.Sensor`)."""

    @property
    def max_range_km(self) -> float: ...
    @property
    def ref_rcs_m2(self) -> float: ...
    @property
    def az_fov_deg(self) -> float: ...
    @property
    def el_min_deg(self) -> float: ...
    @property
    def el_max_deg(self) -> float: ...
    @property
    def scan_period_s(self) -> float: ...
    @property
    def search_period_s(self) -> float | None: ...
    @property
    def sigma_range_m(self) -> float: ...
    @property
    def sigma_angle_mrad(self) -> float: ...
    @property
    def pfa(self) -> float: ...
    @property
    def id(self) -> str: ...
    @property
    def faces(self) -> int: ...  # fixed array faces losing gain off their normals (0: none)
    @property
    def discrimination_error(self) -> float | None: ...  # None: the radar makes no warhead calls


@dataclass(frozen=True)
class Radar:
    """A catalogue radar placed in a scenario.

    name : scenario name of this sensor.
    spec : the catalogue sensor (``shieldlab.catalog.models.Sensor``, or any object with
        the attributes of :class:`RadarSpec`).
    lat, lon, alt : geodetic site [rad, rad, m].
    boresight_az : centre of the azimuth field of view [rad, clockwise from north].
    elevation_mask : terrain/operator mask [rad]; nothing below it is seen (-pi/2: none, the
        spec's ``el_min_deg`` alone).
    refraction_k : the atmosphere the radar looks through (:mod:`shieldlab.sensors.visibility`):
        None for the standard exponential atmosphere (an effective-Earth factor per target
        height from a ray trace), or one effective-Earth factor (4/3 the classic
        near-ground value, 1 a geometric line of sight).
    snr_noise : whether the measurement noise grows as the SNR falls
        (:func:`noise_variance_scale`); False: the spec's figures at every SNR.
    scan_loss : whether a fixed array face loses SNR off its normal (:func:`scan_gain`);
        False (the default, as the scenario's ``sensing.scan_loss``): the catalogue range in
        every direction of the field.
    """

    name: str
    spec: RadarSpec
    lat: float
    lon: float
    alt: float
    boresight_az: float
    elevation_mask: float = -math.pi / 2
    refraction_k: float | None = None
    snr_noise: bool = True
    scan_loss: bool = False

    @cached_property
    def site_ecef(self) -> np.ndarray:
        """Site position, ECEF (3,) [m]."""
        return earth.geodetic_to_ecef(self.lat, self.lon, self.alt)

    @property
    def el_floor(self) -> float:
        """The lowest elevation it looks at [rad]: the catalogue's ``el_min_deg``, or the site's
        mask where that is higher (one rule for what it sees, what its search frame covers and
        where its false alarms fall)."""
        return max(math.radians(self.spec.el_min_deg), float(self.elevation_mask))


def snr50(pfa) -> np.ndarray:
    """Single-pulse Swerling-1 SNR (linear) giving Pd = 0.5 at false-alarm probability ``pfa``."""
    return np.log(pfa) / np.log(0.5) - 1.0


def snr(radar: Radar, range_m, rcs_m2, az=None) -> np.ndarray:
    """Linear SNR for targets at slant ``range_m`` [m] with ``rcs_m2`` [m^2] (broadcast), seen at
    azimuth ``az`` [rad, clockwise from north] (None: on a face's normal).

    ``SNR50(pfa) * (R_max / R)^4 * (rcs / ref_rcs) * scan_gain(radar, az)``.
    """
    spec = radar.spec
    r = np.asarray(range_m, dtype=float)
    scale = (spec.max_range_km * 1e3 / r) ** 4 * (np.asarray(rcs_m2, dtype=float) / spec.ref_rcs_m2)
    if az is not None:
        scale = scale * scan_gain(radar, az)
    return snr50(spec.pfa) * scale


def face_geometry(radar: Radar) -> tuple[float, float, float]:
    """(face width [rad], field [rad], exponent) of ``radar``'s array faces for :func:`scan_gain`
    and the compiled :func:`shieldlab.sensors.visibility.face_gain`: width 0 where it has no
    scan loss (an antenna turned mechanically, or ``scan_loss`` off)."""
    spec = radar.spec
    faces = int(getattr(spec, "faces", 0))
    if not radar.scan_loss or faces == 0:
        return 0.0, math.radians(spec.az_fov_deg), SCAN_LOSS_EXPONENT
    return math.radians(spec.az_fov_deg) / faces, math.radians(spec.az_fov_deg), SCAN_LOSS_EXPONENT


def scan_gain(radar: Radar, az) -> np.ndarray:
    """Two-way gain factor (linear, at most 1) of ``radar``'s array faces towards azimuth ``az``
    [rad] (any shape): ``cos(θ)^SCAN_LOSS_EXPONENT``, ``θ`` the azimuth off the normal of the face
    that looks there.  The faces tile the field of view: ``k`` faces of a sector of width ``F``
    each cover ``F / k`` with their normals at the middle of each part (one face: its normal
    on the boresight); ``k`` faces all around have their normals ``2π / k`` apart, one on the
    boresight.  1 everywhere where the radar has no scan loss (:func:`face_geometry`)."""
    width, field, n = face_geometry(radar)
    a = np.asarray(az, dtype=float)
    if width == 0.0:
        return np.ones(a.shape)
    d = np.mod(a - radar.boresight_az + np.pi, 2.0 * np.pi) - np.pi  # off the boresight, [-pi, pi)
    start = -0.5 * width if field >= 2.0 * np.pi - 1e-9 else -0.5 * field  # where the first face begins
    off = np.mod(d - start, width) - 0.5 * width
    return np.cos(off) ** n


def pd_swerling1(snr, pfa) -> np.ndarray:
    """Single-pulse Swerling-1 probability of detection, ``Pfa ** (1 / (1 + SNR))`` (broadcast)."""
    return np.asarray(pfa, dtype=float) ** (1.0 / (1.0 + np.asarray(snr, dtype=float)))


def noise_variance_scale(snr, pfa) -> np.ndarray:
    """Factor on the reference noise variances of a report at linear ``snr`` (broadcast):
    ``REF_SNR / clip(snr, ln(1 / pfa), MAX_NOISE_SNR)``.

    Variance falls as 1 / SNR (thermal noise on a monopulse angle or a range estimate).  A
    report is a crossing of the detection threshold, which for a square-law detector in
    unit noise sits at ``ln(1 / Pfa)`` (13.8, 11.4 dB, at Pfa 1e-6), so a report is never
    credited a lower SNR than that.  Above :data:`MAX_NOISE_SNR` fixed errors dominate.
    :func:`observe` passes each look's measured SNR.
    """
    lo = np.log(1.0 / np.asarray(pfa, dtype=float))
    return REF_SNR / np.clip(np.asarray(snr, dtype=float), lo, MAX_NOISE_SNR)


def search_every(spec) -> int:
    """How many scans a search frame spans: ``round(search_period_s / scan_period_s)``, at
    least 1 (1 also where the spec has no ``search_period_s``: every scan searches)."""
    search = getattr(spec, "search_period_s", None)
    if search is None:
        return 1
    return max(1, int(round(float(search) / float(spec.scan_period_s))))


@nb.njit(cache=True)
def looks(candidate, u, pd, m, cued):
    """Which scans detect each object under a search-and-track schedule: ``candidate``
    (E, K) bool (in flight and in the field of regard), ``u`` (E, K) uniform draws, ``pd``
    (E, K) detection probabilities, a search frame of ``m`` scans, ``cued`` (E,) the first
    scan of a cue (an early-warning launch report; ``K`` or more: none).  An object the
    radar does not hold is looked at on the search scans (``k % m == 0``) and, from its cue
    on, every scan; a detection makes the radar hold it, and it is then looked at every
    scan until it is no longer a candidate.  A look detects where ``u < pd``.  Returns (E,
    K) bool."""
    E, K = candidate.shape
    out = np.zeros((E, K), np.bool_)
    for e in range(E):
        held = False
        for k in range(K):
            if not candidate[e, k]:
                held = False
                continue
            if (held or k % m == 0 or k >= cued[e]) and u[e, k] < pd[e, k]:
                out[e, k] = True
                held = True
    return out


def aer_visible(radar: Radar, pos):
    """(az, el, range, visible) of ECEF targets ``pos`` (..., 3); each (...).  Visibility is
    :func:`shieldlab.sensors.visibility.sees`, the one field-of-regard test."""
    pos = np.asarray(pos, dtype=float)
    az, el, rng = earth.ecef_to_aer(pos, radar.lat, radar.lon, radar.alt)
    flat = np.ascontiguousarray(pos.reshape(-1, 3))
    ok = visibility.visible_rows(flat, *visibility.FieldOfRegard.of(radar).args()).reshape(pos.shape[:-1])
    return az, el, rng, ok


def visible(radar: Radar, pos) -> np.ndarray:
    """Whether ECEF targets ``pos`` (..., 3) [m] are in the radar's field of regard: (...) bool.

    Azimuth within ``az_fov_deg / 2`` of the boresight (a 360-degree field sees all
    around), elevation in ``[max(el_min, mask), el_max]``, line of sight clear of
    the ellipsoid.  Range does not enter: detection probability handles it.
    """
    return aer_visible(radar, pos)[3]


def scan_times(t_grid, period_s: float) -> np.ndarray:
    """Scan instants [s]: every ``period_s`` from the first time of ``t_grid`` to its last."""
    t0, t1 = float(t_grid[0]), float(t_grid[-1])
    n = int(np.floor((t1 - t0) / period_s + 1e-9)) + 1
    return t0 + period_s * np.arange(n)


def _draws(rng, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """One uniform and three standard normals per element of ``shape``: from one generator,
    or from one generator per row of the leading axis (stacked)."""
    if isinstance(rng, np.random.Generator):
        return rng.random(shape), rng.standard_normal(shape + (3,))
    rows = [(g.random(shape[1:]), g.standard_normal(shape[1:] + (3,))) for g in rng]
    if len(rows) != shape[0]:
        raise ValueError(f"observe: {len(rows)} generators for a leading batch axis of {shape[0]}")
    return np.stack([a for a, _ in rows]), np.stack([b for _, b in rows])


def observe(radar: Radar, traj: Trajectories, rcs_m2: Signature | np.ndarray | float,
            rng: np.random.Generator | Sequence[np.random.Generator],
            truth_at: dict | None = None, cue_time: np.ndarray | None = None) -> Detections:
    """Scan a batch of trajectories: noisy detections of every in-flight, visible threat.

    Scans run on the radar's own clock, every ``scan_period_s`` from the first grid
    time to the last, whatever the flyout's sampling step: the truth at a scan time is
    interpolated between the samples (:func:`shieldlab.flyout.interp.state_at`), so
    the number and timing of the looks do not change with ``time_step_s``.  A threat
    in flight (launched, not yet landed) that is :func:`visible` is looked at on the
    scans of the search-and-track schedule (:func:`looks`: every scan once the radar
    holds it, every ``search_every`` scans before) and reported with probability
    :func:`pd_swerling1`; the report is the true (range,
    azimuth, elevation) plus Gaussian noise (``sigma_range_m``, ``sigma_angle_mrad *
    1e-3`` in elevation and that over cos(el) in azimuth (an angle in space), times
    ``sqrt(noise_variance_scale(SNR))`` with ``snr_noise``), azimuth wrapped to [0, 2 pi).

    traj : Trajectories with batch shape ``...`` and T samples.
    rcs_m2 : radar cross-section [m^2], broadcast to the batch shape ``...``, or a
        :class:`~shieldlab.sensors.signature.Signature` (by phase and aspect: the whole
        missile from launch to burnout, then what re-enters, by the angle between its
        velocity, from the neighbouring scans' positions, and the line of sight).
    rng : random generator, or a sequence of generators, one per row of the leading
        batch axis (a Monte Carlo run), each drawing that row's numbers alone, so a
        run's reports do not depend on the other runs in its batch.  One uniform and
        three normals are drawn per (element, scan) whether or not it is visible, so
        results depend only on the seed and the shapes.
    truth_at : optional dict from scan period [s] to the truth's positions at those scans,
        shared by the radars of one batch: radars with the same period scan at the same
        instants, so the truth is interpolated once for them all (filled here when missing).
    cue_time : optional (...) time [s from epoch] from which each threat is cued (a launch
        report of an early-warning satellite): looked at every scan from then on, not only
        on the search frames; ``inf``: never.
    Returns Detections with K scans (``z`` (..., K, 3), ``detected`` (..., K)).
    """
    spec = radar.spec
    t_scan = scan_times(traj.t, spec.scan_period_s)
    if truth_at is not None and spec.scan_period_s in truth_at:
        pos = truth_at[spec.scan_period_s]
    else:
        pos, _ = state_at(traj, t_scan, velocity=False)
        if truth_at is not None:
            pos.setflags(write=False)  # shared by the radars' records from here on
            truth_at[spec.scan_period_s] = pos
    batch = traj.batch_shape
    az, el, r, ok = aer_visible(radar, pos)
    ok &= in_flight(traj, t_scan)
    rcs = _rcs_at_scans(traj, t_scan, pos, ok, rcs_m2, radar.site_ecef)
    with np.errstate(divide="ignore", over="ignore"):
        s = np.where(ok, snr(radar, np.where(ok, r, 1.0), rcs, az), 0.0)
    pd = np.where(ok, pd_swerling1(s, spec.pfa), 0.0)

    shape = batch + (t_scan.size,)
    u, noise = _draws(rng, shape)
    detected = detect(spec, ok, u, pd, t_scan, cue_time)
    z, r_scale, R = measure(radar, r, az, el, s, u, noise, detected)

    return Detections(
        sensor=radar.name,
        site_ecef=radar.site_ecef,
        site_lat=float(radar.lat),
        site_lon=float(radar.lon),
        site_alt=float(radar.alt),
        t=t_scan,
        z=z,
        detected=detected,
        R=R,
        r_scale=r_scale,
        snr=s,
        truth_pos=pos,
    )


def detect(spec, candidate, u, pd, t_scan, cue_time=None) -> np.ndarray:
    """Which looks report each object (..., K) bool: the search-and-track schedule of
    :func:`looks` (every scan where the spec has no search frame) over ``candidate``
    (..., K) (in flight and in the field), uniform draws ``u`` and detection probabilities
    ``pd`` (..., K) at scan times ``t_scan`` (K,); ``cue_time`` (...) as in :func:`observe`."""
    m = search_every(spec)
    if m == 1:
        return u < pd
    K = t_scan.size
    shape = np.shape(candidate)
    cued = np.full(int(np.prod(shape[:-1])), K, np.int64)
    if cue_time is not None:
        ct = np.broadcast_to(np.asarray(cue_time, float), shape[:-1]).reshape(-1)
        cued = np.where(np.isfinite(ct), np.searchsorted(t_scan, np.where(np.isfinite(ct), ct, 0.0)), K)
    return looks(np.ascontiguousarray(candidate).reshape(-1, K), np.ascontiguousarray(u).reshape(-1, K),
                 np.ascontiguousarray(pd).reshape(-1, K), m, np.ascontiguousarray(cued, np.int64)).reshape(shape)


def measure(radar: Radar, r, az, el, s, u, noise, detected):
    """The reports of looks at true (range ``r`` [m], azimuth ``az``, elevation ``el`` [rad])
    with linear SNR ``s``: the truth plus the spec's noise (standard normals ``noise``
    (..., 3)), grown as the look's measured SNR falls where the radar has ``snr_noise``;
    the measured SNR comes from the detection draw ``u`` (the Swerling-1 echo power of the
    look).  Returns ``z`` (..., 3) (``nan`` where not ``detected``; azimuth in [0, 2 pi)),
    each report's noise factor ``r_scale`` (...) and the reference covariance ``R`` (3, 3)."""
    spec = radar.spec
    sig = np.array([spec.sigma_range_m, spec.sigma_angle_mrad * 1e-3, spec.sigma_angle_mrad * 1e-3])
    if radar.snr_noise:
        # the echo's measured power (unit noise): the Swerling-1 power of this look, from the
        # draw that decided its detection (x > ln(1/Pfa) exactly where u < Pd); the radar
        # knows it, so the report's noise and the covariance it reports follow it
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            measured = (1.0 + s) * -np.log(u) - 1.0
        r_scale = np.where(detected, noise_variance_scale(np.where(detected, measured, 1.0), spec.pfa), 1.0)
        noise *= np.sqrt(r_scale)[..., None]
    else:
        r_scale = np.ones(np.shape(detected))
    # the angle error is an angle in space: in azimuth it is sigma / cos(el) (records.AZ_COS_MIN)
    noise[..., 1] *= np.sqrt(azimuth_variance_factor(el))
    z = np.stack([r, az, el], axis=-1) + noise * sig
    z[..., 1] = np.mod(z[..., 1], 2.0 * np.pi)
    z[..., 1] = np.where(z[..., 1] >= 2.0 * np.pi, 0.0, z[..., 1])  # mod can round up to 2 pi
    z = np.where(detected[..., None], z, np.nan)
    return z, r_scale, np.diag(sig**2)


def _rcs_at_scans(traj: Trajectories, t_scan, pos, ok, rcs_m2, site) -> np.ndarray:
    """RCS [m²] of every batch element at every scan (..., K), or broadcastable to it; with a
    :class:`Signature`, computed where ``ok`` (in flight and in the field) only."""
    batch = traj.batch_shape
    if not isinstance(rcs_m2, Signature):
        return np.broadcast_to(np.asarray(rcs_m2, dtype=float), batch)[..., None]
    K = t_scan.size

    def rows(a):
        return np.ascontiguousarray(np.broadcast_to(np.asarray(a, float), batch)).reshape(-1)

    out = np.empty(batch + (K,))
    signature.rcs_rows(np.ascontiguousarray(pos).reshape(-1, K, 3), np.ascontiguousarray(ok).reshape(-1, K),
                       np.asarray(t_scan, float), rows(traj.launch_time), rows(traj.burnout_time),
                       rows(rcs_m2.nose), rows(rcs_m2.broadside), rows(rcs_m2.booster),
                       np.asarray(site, float), out.reshape(-1, K))
    return out


def confirmation_radars(radars) -> tuple:
    """The arrays :func:`shieldlab.sensors.visibility.expected_confirmation_time` reads, after
    the paths, their burnout times and signature and ``init_hits``, for one system's
    ``radars`` (compiled :class:`Radar` objects): scan period [s], scans per search frame,
    SNR at Pd = 0.5, the Pd = 0.5 range against 1 m² [m], false-alarm probability, then
    the fields of regard (:class:`shieldlab.sensors.visibility.FieldOfRegard`) and the
    array faces (S, 3) (:func:`face_geometry`)."""
    fields = [visibility.FieldOfRegard.of(r) for r in radars]
    return (np.array([r.spec.scan_period_s for r in radars], float),
            np.array([search_every(r.spec) for r in radars], np.int64),
            np.array([float(snr50(r.spec.pfa)) for r in radars]),
            np.array([1e3 * float(r.spec.detection_range_km(1.0)) for r in radars]),
            np.array([float(r.spec.pfa) for r in radars]),
            *(np.array([getattr(f, k) for f in fields], float)
              for k in ("site", "trig", "boresight", "half_fov", "el_lo", "el_hi", "refr")),
            np.array([face_geometry(r) for r in radars], float).reshape(len(radars), 3))
