"""Multi-target tracking over reports without labels: gating, global nearest neighbour,
M-of-N initiation, deletion after missed looks, batched over the Monte Carlo runs.

Input: the :class:`~shieldlab.sensors.records.Reports` of one system's radars (every scan's
reports as an unordered set, false alarms and spent boosters among them) and the radars
themselves (their fields of regard, to tell a missed look from no look).  Output: a
:class:`TrackFile`, every run's tracks in slots on the union of the scan times, each with
a track number, status, state, quality and lineage.  Nothing here reads which object made
a report (``Reports.truth_id``): scoring does that afterwards, from the lineage
(:mod:`shieldlab.outcome.file_quality`).

At each scan of each radar, for every run at once:

1. **Prediction** of every live track to the scan time: the ECEF ballistic EKF
   (:mod:`shieldlab.tracking.ekf_kernel`) with the NIS-adapted process noise of
   :mod:`shieldlab.tracking.tracker`.
2. **Gating**: report ``m`` may update track ``i`` when the squared Mahalanobis distance
   of its innovation, ``d² = νᵀ S⁻¹ ν`` with ``S = H P Hᵀ + R_m`` (each report its own
   covariance), is within the χ²₃ gate of probability ``gate_probability``
   (:func:`shieldlab.tracking.association.report_distances`, compiled as
   :func:`shieldlab.tracking.ekf_kernel.distances_rows`; :func:`~.association.gate`).
3. **Global nearest neighbour**: each report to at most one track and each track at most
   one report, with the least total cost, a pair costing ``d² + ln det S`` (the negative
   log-likelihood of the report given the track, up to a constant) and a track left
   without a report, every track alike, the gate plus the largest ``ln det S`` of the
   scan's gated pairs
   (:func:`shieldlab.tracking.association.gnn`, compiled as
   :func:`~shieldlab.tracking.association.gnn_rows`).  The log-determinant matters where a
   fresh track, still diffuse, and a settled one compete for a report: by distance alone
   the diffuse track, whose gate is wide, would win it.  Runs where no report falls in two gates
   and no gate holds two reports take the one candidate directly; the others go through
   the exact assignment (:func:`scipy.optimize.linear_sum_assignment`).  Stepping scan by
   scan (EKF tracks, below), a scan with more than :data:`SPARSE_PAIRS` (track slot, report)
   pairs (raw false alarms) is associated run by run on the pairs near enough to pass the gate
   (:func:`shieldlab.tracking.association.associate`): the same assignment, found without
   forming every pair.
4. **Update** of the assigned tracks (Joseph-form EKF update, per-report ``R``).
5. **Track management.**  A *look* is a scan of a radar whose field of regard holds the
   track's predicted position, where the radar looks: it holds the track (it has reported
   into it before, so it revisits it every scan) or the scan is one of its search frames.
   A tentative track is dropped when it can no longer have ``confirm_m`` reports in its
   first ``confirm_n`` looks, its first report included (Blackman & Popoli 1999, §3.3,
   M-of-N logic).  Once it has them the object is taken to exist, and the track is confirmed
   as soon as its velocity is known to ``confirm_sigma_v`` (the RMS over the axes of its
   standard deviation, ``sqrt(trace(P_vv) / 3)``).  The velocity test is a firm-track
   criterion of our own (an assumption, not a published rule): after staging a re-acquired
   warhead and its spent booster, a few kilometres apart, can feed one new track
   alternately, whose three reports then give it a velocity wrong by kilometres a second
   (seen: 5.6 km/s, the track 48 km off after 8 s of coasting); such a track's covariance
   says so, and it stays tentative, unseen by fire control, until it settles.  A track with
   its ``confirm_m`` reports, confirmed or not, is deleted when the looks since its last
   report make it unlikely that the object is still there:

       Π_looks (1 − Pd_look) < delete_probability,

   with each look's detection probability estimated from that radar's record on the track:
   ``(reports + 1) / (looks + 2)`` (Laplace's rule of succession), each earlier look and
   report weighted :data:`PD_MEMORY` per later look; where the radar has not reported into
   the track, the Swerling-1 probability of its reference target at the predicted range
   (Pd 0.5 at the catalogue's ``max_range_km``).  This is the score of a sequential test
   on the track's existence (Blackman & Popoli 1999, §6.2).  The record, not the reports'
   measured SNR, gives Pd: a report exists only where the echo crossed the threshold, so
   its SNR overstates a faint object.  A track a radar held steadily goes after five or
   six silent looks in a row; one it saw on every other look coasts on its ballistic
   prediction for about 25, each silent look costing less as the record fades.  Where no
   radar looks (the object below every horizon, or out of every field) that rule never
   fires, so a confirmed track also ends at the first prediction whose position RMS radius
   ``sqrt(trace P_pos)`` (about √3 times the per-axis sigma) exceeds ``delete_sigma_m`` (Stone Soup's
   ``CovarianceBasedDeleter`` on the position): coasting into the dense air, where the
   drag floor raises its noise, such a track's gate grew to hundreds of kilometres and took
   other threats' reports.  A track
   also ends when its prediction goes more than
   :data:`~shieldlab.tracking.tracker.IMPACTED_DEPTH_M` into the ground.  For a tentative
   track every scan of a radar that reported into it counts as a look, in its field or
   not: a false alarm whose one-point track drifts out of every field still fails its
   M-of-N.
6. **Initiation**: every report left unassigned starts a tentative track (one-point
   initiation, :func:`shieldlab.tracking.ekf.init_from_detection`) in a free slot, taken
   in order of range so that the slots do not depend on the order of the reports.

Several radars scanning at one time are applied in the order given, each with its own
gating and assignment (sequential updates: the hand-over of a track from one radar of
the system to another is the second radar's report falling in its gate).

EKF tracks run through :mod:`shieldlab.tracking.mtt_kernel`: the whole loop over the update
times compiled, one run after another (:func:`~shieldlab.tracking.mtt_kernel.track_runs`;
runs are independent), or, where any radar's scans hold more than :data:`DENSE_REPORTS`
report slots (a hundred and more false alarms a frame), scan by scan (steps 1-6 compiled,
one pass per run; the largest scans associated on candidate pairs in NumPy).  UKF and IMM
tracks always run through the whole compiled loop (:mod:`shieldlab.tracking.ukf_kernel`: a
UKF track whose covariance loses its Cholesky factor is dropped; :mod:`shieldlab.tracking.imm_kernel`:
the IMM gated on its regimes' combination, as in NumPy), weighing every pair of a scan:
they have no candidate-pair association, so stepping scan by scan would gain them nothing.
:func:`_scan` is the NumPy reference (where a UKF covariance has no Cholesky factor it
raises ``numpy.linalg.LinAlgError``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from shieldlab import earth
from shieldlab.sensors import radar as radar_model
from shieldlab.sensors import visibility
from shieldlab.sensors.records import NO_CALL, Reports
from shieldlab.tracking import association, ekf, ekf_kernel, imm, mtt_kernel, ukf
from shieldlab.tracking.records import CovarianceHistory, Schedule, Tracks, kernel_list
from shieldlab.tracking.tracker import (
    BETA_MIN_KG_M2,
    IMPACTED_DEPTH_M,
    KERNEL_FILTERS,
    adapt_noise,
    came_down,
    drag_noise,
)

#: Weight a radar's earlier looks at a track keep per later look, in its detection record
#: (a memory of about ten looks).
PD_MEMORY = 0.9
#: Track slots × reports in a scan above which association runs per run on candidate pairs
#: (:func:`shieldlab.tracking.association.associate`, the same assignment) instead of on every
#: pair of every run at once.
SPARSE_PAIRS = 4096
#: Report slots per scan up to which EKF tracks run through the whole compiled tracker
#: (:func:`shieldlab.tracking.mtt_kernel.track_runs`, every pair of a run's scan weighed);
#: where any radar's scans hold more (hundreds of false alarms a frame) the tracker steps
#: scan by scan, associating the largest scans on candidate pairs (:data:`SPARSE_PAIRS`).
#: Measured on epaa-phase-1: the whole compiled tracker is the faster up to ~140 slots
#: (4.4 s against 5.8 s for 8 runs at 141), the scan by scan one at ~310 (8.7 s against
#: 17.1 s).  UKF and IMM tracks weigh every pair either way and run the whole loop always:
#: stepping scan by scan took them the same time (4 runs at 360 slots, CPU time: UKF
#: 15.1-16.0 s whole, 15.5-15.9 s scan by scan; IMM 19.1-20.5 s, 19.6-23.1 s), so the
#: scan-by-scan kernels serve EKF tracks alone.
DENSE_REPORTS = 160
#: The compiled tracker's first track slots per run and covariance rows per run and update
#: (grown where a run needs more).
FIRST_SLOTS, FIRST_ROWS = 16, 3
#: Track status in :attr:`TrackFile.status`.
FREE, TENTATIVE, CONFIRMED = 0, 1, 2
#: The filters a track can run: the EKF, the unscented filter, or the interacting multiple
#: model over boost, ballistic and re-entry (three EKFs); all three compiled.
FILTERS = ("ekf", "ukf", "imm")


def unsupported_filter(name: str) -> str | None:
    """Why the multi-target tracker cannot run filter ``name`` (one the labelled tracker runs
    but with no place here yet), for the scenario's checks and the tracks command; None where
    it can."""
    if name in FILTERS:
        return None
    return f"{name} runs under association labels only: the multi-target tracker runs {', '.join(FILTERS)}"


#: Bits of a report id: sensor index, scan index, slot within the scan (:func:`report_id`).
_SCAN_BITS, _SLOT_BITS = 24, 20


def report_id(sensor, scan, slot) -> np.ndarray:
    """The id of report ``slot`` of scan ``scan`` of the system's sensor ``sensor`` (int64)."""
    return (np.asarray(sensor, np.int64) << (_SCAN_BITS + _SLOT_BITS)) | (np.asarray(scan, np.int64) << _SLOT_BITS) \
        | np.asarray(slot, np.int64)


def split_report_id(rid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sensor, scan, slot) of report ids made by :func:`report_id`."""
    rid = np.asarray(rid, np.int64)
    return (rid >> (_SCAN_BITS + _SLOT_BITS), (rid >> _SLOT_BITS) & ((1 << _SCAN_BITS) - 1),
            rid & ((1 << _SLOT_BITS) - 1))


@dataclass(frozen=True)
class TrackManagement:
    """How tracks are gated, confirmed and deleted; see the module docstring."""

    gate_probability: float = 0.9999  # χ²₃ gate 21.1 (a right report falls outside once in 10,000)
    confirm_m: int = 3
    confirm_n: int = 5
    confirm_sigma_v: float = 300.0  # m/s, RMS over the axes: confirmed only once its velocity is known this well
    delete_probability: float = 1e-3  # P(object there, every look since the last report missed it)
    delete_sigma_m: float = 10e3  # m: a confirmed track whose predicted sqrt(trace P_pos) exceeds it ends
    q_boost: float = 1e5  # m²/s³: a new track's process noise (boost until shown otherwise)
    q_ballistic: float = 1e-2  # m²/s³: the adapted noise's floor
    sigma_v0: float = 5e3  # m/s: a new track's velocity prior, per axis
    # m/s: a one-point track takes no report implying a slower object, nor is a slower track confirmed (0: any)
    min_speed: float = 0.0
    filter: str = "ekf"  # "ekf", "ukf" or "imm": the filter every track runs (:data:`FILTERS`)

    @property
    def confirm_var_v(self) -> float:
        """The largest trace of the velocity covariance [m²/s²] of a track confirmed:
        ``3 · confirm_sigma_v²`` (the RMS over the axes)."""
        return 3.0 * self.confirm_sigma_v ** 2

    def __post_init__(self):
        if self.filter not in FILTERS:
            raise ValueError(f"filter must be one of {', '.join(FILTERS)}, not {self.filter!r}")
        if not 0.0 < self.gate_probability < 1.0:
            raise ValueError(f"gate_probability must be in (0, 1), not {self.gate_probability!r}")
        if not 1 <= self.confirm_m <= self.confirm_n:
            raise ValueError(f"need 1 <= confirm_m <= confirm_n, got {self.confirm_m} of {self.confirm_n}")
        if not 0.0 < self.delete_probability < 0.5:
            raise ValueError(f"delete_probability must be in (0, 0.5), not {self.delete_probability!r}")
        if not self.confirm_sigma_v > 0.0:
            raise ValueError(f"confirm_sigma_v must be > 0, not {self.confirm_sigma_v!r}")
        if not self.delete_sigma_m > 0.0:
            raise ValueError(f"delete_sigma_m must be > 0, not {self.delete_sigma_m!r}")
        if not (0.0 < self.q_ballistic <= self.q_boost and self.sigma_v0 > 0.0):
            raise ValueError("need 0 < q_ballistic <= q_boost and sigma_v0 > 0")
        if not 0.0 <= self.min_speed < np.inf:
            raise ValueError(f"min_speed must be >= 0 and finite, not {self.min_speed!r}")


def silent_looks_to_delete(reports, delete_probability: float = 1e-3, memory: float = PD_MEMORY) -> np.ndarray:
    """How many silent looks in a row delete a track that one radar reported at each of its
    ``reports`` looks (int array, broadcast), by the deletion rule of the module docstring:
    Laplace's ``(found + 1) / (seen + 2)`` over the record faded by ``memory`` per later
    look, each silent look adding ``ln(1 - Pd)`` until the sum falls below
    ``ln(delete_probability)``.  At the default: 5 for a long-held track (its record
    saturated), 6 after ten reports, 15 after three, 36 after one (a short record's Pd is
    lower); fewer than one count as one."""
    n = np.maximum(np.asarray(reports, int), 1)
    # (fire control asks at every kill, for every source: each distinct count once)
    counts, inverse = np.unique(np.minimum(n, 400), return_inverse=True)
    return np.array([_silent_looks(int(r), float(delete_probability), float(memory)) for r in counts],
                    int)[inverse].reshape(n.shape)


@functools.lru_cache(maxsize=4096)
def _silent_looks(reports: int, delete_probability: float, memory: float) -> int:
    """:func:`silent_looks_to_delete` of one count of reports (at most 400: the record has
    long saturated by then)."""
    # the record of r reports, the first of which started it: seen = found = Σ memory^j
    seen = found = float(np.sum(memory ** np.arange(reports)))
    log_miss, k, log_p = 0.0, 0, math.log(delete_probability)
    while log_miss >= log_p:
        log_miss += math.log1p(-(found + 1.0) / (seen + 2.0))
        seen, found = memory * seen + 1.0, memory * found
        k += 1
    return k


@dataclass(frozen=True)
class TrackFile:
    """A system's tracks over a chunk of C runs, in T slots, on the union of its radars' scan times.

    A slot holds one track at a time; a track keeps its number (``track_id``, unique within
    its run) from initiation to deletion, after which the slot may take a new one.

    Attributes
    ----------
    system : str
    t : (K,) float64
        Update times [s from epoch].
    x : (C, T, K, 6) float64
        Posterior ECEF state [m, m/s] after the updates at ``t[k]``; ``nan`` where the slot is free.
    sigma_pos : (C, T, K) float32
        Square root of the trace of the position covariance [m]: the track's quality.
    track_id : (C, T, K) int64
        Track number, -1 where the slot is free.
    status : (C, T, K) int8
        :data:`FREE`, :data:`TENTATIVE` or :data:`CONFIRMED`.
    n_hits : (C, T, K) int32
        Reports the track has assimilated so far.
    sensors : (C, T, K) uint32
        Lineage: bit ``s`` set once sensor ``s`` (``sensor_names[s]``) reported into the track.
    report : (C, T, K) int64
        Lineage: the report (:func:`report_id`) the track assimilated at ``t[k]``, -1 none
        (the last sensor's where several updated it at one time).
    sensor_names : tuple of str
    q : (C, T, K) float32
        The process-noise level [m²/s³] each track's filter holds after ``t[k]``
        (:attr:`shieldlab.tracking.records.Tracks.q`); ``nan`` where the slot is free.
    warhead : (C, T, K) bool or None
        Discrimination: the track is judged a warhead (its sensors' latest calls, weighed by
        their log-odds of being right, sum to zero or more; a track no discriminating sensor
        has called is taken for a warhead).
    confirmed_P : CovarianceHistory (C, T, K, 6, 6) or None
        When asked for, the covariance wherever a track is confirmed and judged a warhead
        (what fire control reads: :func:`fire_control_tracks`), ``nan`` elsewhere.

    The slots are those some track used: T is the most tracks a run held at once.
    """

    system: str
    t: np.ndarray
    x: np.ndarray
    sigma_pos: np.ndarray
    track_id: np.ndarray
    status: np.ndarray
    n_hits: np.ndarray
    sensors: np.ndarray
    report: np.ndarray
    sensor_names: tuple[str, ...]
    q: np.ndarray
    warhead: np.ndarray | None = None
    confirmed_P: CovarianceHistory | None = None


class _State:
    """The live tracks of C runs in T slots (grown on demand)."""

    def __init__(self, C: int, T: int, mgmt: TrackManagement, S: int = 1, compiled: bool = True):
        self.mgmt = mgmt
        # EKF tracks step through the compiled scan (mtt_kernel) unless asked for NumPy's
        self.compiled = compiled and mgmt.filter == "ekf"
        self.log_lam_max = np.log(mgmt.q_boost / mgmt.q_ballistic)
        self.x = np.full((C, T, 6), np.nan)
        self.P = np.full((C, T, 6, 6), np.nan)
        self.log_lam = np.zeros((C, T))
        self.status = np.zeros((C, T), np.int8)
        self.tid = np.full((C, T), -1, np.int64)
        self.hits = np.zeros((C, T), np.int32)  # reports assimilated
        self.looks = np.zeros((C, T), np.int32)  # looks so far (tentative tracks)
        self.log_miss = np.zeros((C, T))  # ln Π (1 - Pd) over the looks since the last report
        # per sensor: its looks at the track and the reports they brought, each weighed by
        # PD_MEMORY per later look (nan: the sensor has not reported into the track); the sign
        # of ``seen`` is the sensor's hold on the track: positive from a report while the track
        # stays in its field (looked at every scan), negative once it has left (looked at on
        # the search frames only, as the radar does: sensors.radar.looks)
        self.seen = np.full((C, T, S), np.nan)
        self.found = np.full((C, T, S), np.nan)
        self.sensors = np.zeros((C, T), np.uint32)
        self.calls = np.full((C, T, S), NO_CALL, np.int8)  # each sensor's latest discrimination call
        self.t_hit = np.full((C, T), np.nan)  # s: the time of each track's latest report
        self.next_id = np.zeros(C, np.int64)
        # filter imm: each regime's estimate and the regimes' probabilities; x and P above
        # then hold their moment-matched combination (what gating and the record read)
        M = len(imm.DEFAULT.q) if mgmt.filter == "imm" else 0
        self.xm = np.full((C, T, M, 6), np.nan)
        self.Pm = np.full((C, T, M, 6, 6), np.nan)
        self.mu = np.zeros((C, T, M))
        # what the whole compiled loop reads of the filter: its code, the UKF's sigma-point
        # scale and weights, the IMM's regimes ((0,) each for the other filters)
        regimes = imm.DEFAULT.kernel_args() if mgmt.filter == "imm" else (np.empty(0),) * 4
        # the kernel indexes the slots' regimes by these (no bounds checks there)
        assert all(a.shape == (M,) for a in regimes), (M, [a.shape for a in regimes])
        self.kernel_filter = (KERNEL_FILTERS[mgmt.filter], *ukf.weights(6), *regimes)

    @property
    def T(self) -> int:
        return self.x.shape[1]

    def grow(self, T_new: int) -> None:
        extra = T_new - self.T
        if extra <= 0:
            return
        C = self.x.shape[0]

        def pad(a, fill):
            return np.concatenate([a, np.full((C, extra) + a.shape[2:], fill, a.dtype)], axis=1)

        self.x, self.P = pad(self.x, np.nan), pad(self.P, np.nan)
        self.log_lam, self.status, self.tid = pad(self.log_lam, 0.0), pad(self.status, FREE), pad(self.tid, -1)
        self.hits, self.looks, self.log_miss = pad(self.hits, 0), pad(self.looks, 0), pad(self.log_miss, 0.0)
        self.seen, self.found = pad(self.seen, np.nan), pad(self.found, np.nan)
        self.sensors, self.calls = pad(self.sensors, 0), pad(self.calls, NO_CALL)
        self.t_hit = pad(self.t_hit, np.nan)
        self.xm, self.Pm, self.mu = pad(self.xm, np.nan), pad(self.Pm, np.nan), pad(self.mu, 0.0)

    def make_room(self, n_new: np.ndarray, report_k: np.ndarray) -> np.ndarray:
        """Grow the slots so that every run has ``n_new`` (C,) free ones (by half again at
        least, so that growing is rare); returns the time's report lineage ``report_k``
        (C, T) grown with them."""
        need = int((n_new - (self.status == FREE).sum(axis=1)).max())
        if need <= 0:
            return report_k
        self.grow(self.T + max(need, self.T // 2))
        return np.concatenate([report_k, np.full((report_k.shape[0], self.T - report_k.shape[1]), -1, np.int64)],
                              axis=1)

    def free(self, gone: np.ndarray) -> None:
        if gone.any():
            self.x[gone], self.P[gone] = np.nan, np.nan
            self.status[gone], self.tid[gone] = FREE, -1
            self.hits[gone] = self.looks[gone] = 0
            self.log_miss[gone], self.seen[gone], self.found[gone] = 0.0, np.nan, np.nan
            self.sensors[gone], self.log_lam[gone] = 0, 0.0
            self.calls[gone] = NO_CALL
            self.t_hit[gone] = np.nan
            self.xm[gone], self.Pm[gone], self.mu[gone] = np.nan, np.nan, 0.0

    def warhead(self, weights: np.ndarray) -> np.ndarray:
        """(C, T) whether each track is judged a warhead: the sensors' latest calls weighed by
        their log-odds ``weights`` (S,) sum to zero or more (no call at all: a warhead)."""
        vote = np.where(self.calls >= 0, 2.0 * self.calls - 1.0, 0.0)
        return (vote * weights).sum(axis=-1) >= 0.0

    def noise_level(self) -> np.ndarray:
        """(C, T) float32: the level [m²/s³] each live track's filter holds (``q_ballistic · λ``,
        or the IMM's regime levels weighed by their odds), before the drag floor; ``nan`` where
        the slot is free (``TrackFile.q``)."""
        if self.mgmt.filter == "imm":
            q = self.mu @ np.asarray(imm.DEFAULT.q, float)
        else:
            q = self.mgmt.q_ballistic * np.exp(self.log_lam)
        return np.where(self.status != FREE, q, np.nan).astype(np.float32)

    def predict(self, dt: float) -> None:
        live = self.status != FREE
        if dt == 0.0 or not live.any():
            return
        if self.mgmt.filter == "imm":  # the regimes' own noise levels, no adaptation; the drag floor
            q = np.maximum(np.asarray(imm.DEFAULT.q, float), drag_noise(self.x[live], abs(dt))[:, None])
            xm, Pm, mu = imm.predict(self.xm[live], self.Pm[live], self.mu[live], dt, q=q)
            self.xm[live], self.Pm[live], self.mu[live] = xm, Pm, mu
            self.x[live], self.P[live] = imm.combine(xm, Pm, mu)
            return
        if self.compiled:
            n, h = ekf_kernel.substeps(dt)
            mtt_kernel.predict_live(self.x, self.P, self.status, self.log_lam, n, h, abs(dt),
                                    self.mgmt.q_ballistic, BETA_MIN_KG_M2)
            return
        q = np.maximum(self.mgmt.q_ballistic * np.exp(self.log_lam[live]), drag_noise(self.x[live], abs(dt)))
        step = ukf.predict if self.mgmt.filter == "ukf" else ekf_kernel.predict
        self.x[live], self.P[live] = step(self.x[live], self.P[live], dt, q)

    def lost(self) -> np.ndarray:
        """(C, T) bool: confirmed tracks whose position RMS radius,
        ``sqrt(trace P_pos)``, exceeds ``delete_sigma_m`` (as the compiled tracker)."""
        var = np.trace(self.P[..., :3, :3], axis1=-2, axis2=-1)
        return (self.status == CONFIRMED) & (var > self.mgmt.delete_sigma_m ** 2)

    def update(self, z, R, site_ecef, enu, upd) -> None:
        """Update the tracks where ``upd`` (C, T) with their reports ``z`` (C, T, 3), noise ``R``
        (C, T, 3, 3), by the track filter; the EKF's and UKF's NIS adapts their noise."""
        if self.mgmt.filter == "imm":
            cc, tt = np.nonzero(upd)
            xm, Pm, mu = imm.update(self.xm[cc, tt], self.Pm[cc, tt], self.mu[cc, tt], z[cc, tt],
                                    R[cc, tt][:, None], site_ecef, enu, np.ones(cc.size, bool))
            self.xm[cc, tt], self.Pm[cc, tt], self.mu[cc, tt] = xm, Pm, mu
            self.x[cc, tt], self.P[cc, tt] = imm.combine(xm, Pm, mu)
            return
        step = ukf.update if self.mgmt.filter == "ukf" else ekf_kernel.update
        self.x, self.P, nis = step(self.x, self.P, z, R, site_ecef, enu, upd)
        self.log_lam = adapt_noise(self.log_lam, nis, upd, self.log_lam_max)

    def start(self, rows, tt, x0, P0) -> None:
        """New tracks in slots ``(rows, tt)`` from their first report's estimate."""
        self.x[rows, tt], self.P[rows, tt] = x0, P0
        if self.mgmt.filter == "imm":  # every regime from the one-point initiation
            self.xm[rows, tt] = x0[:, None]
            self.Pm[rows, tt] = P0[:, None]
            self.mu[rows, tt] = np.asarray(imm.DEFAULT.mu0, float)


def _assign(d2: np.ndarray, log_det: np.ndarray, gate: float) -> np.ndarray:
    """GNN over (C, T, M) squared distances ``d2`` with ``ln det S`` per pair ``log_det``:
    (C, T) the report each track takes, -1 none.  Cost of a pair: ``d² + ln det S`` (the
    negative log-likelihood, up to a constant); of a track left without, the same for every
    track of the run's scan: the gate plus the largest ``ln det S`` among the scan's gated
    pairs, so every gated pair beats a miss, and where two tracks gate one report the
    tighter (smaller ``d² + ln det S``) takes it, whether or not the other gets another (a
    cost of no report of each track's own would cancel the log-determinant there, and a
    track diffuse along the radar's line of sight would take another object's report)."""
    C, T, M = d2.shape
    out = np.full((C, T), -1, np.int64)
    if T == 0 or M == 0:
        return out
    inside = d2 <= gate
    per_track = inside.sum(axis=2)
    per_report = inside.sum(axis=1)
    contested = (per_track > 1).any(axis=1) | (per_report > 1).any(axis=1)
    simple = ~contested[:, None] & (per_track == 1)
    out[simple] = np.argmax(inside, axis=2)[simple]
    rows = np.flatnonzero(contested)
    if rows.size:
        ld = np.where(inside[rows], log_det[rows], -np.inf)
        miss = np.zeros((C, T))
        miss[rows] = gate + ld.max(axis=(1, 2))[:, None]  # (a contested run gates some pair)
        cost = np.where(inside, d2 + np.where(inside, log_det, 0.0), np.inf)
        association.gnn_rows(cost, miss, rows.astype(np.int64), out)
    return out


def track_reports(reports: list[Reports], radars: list, system: str,
                  management: TrackManagement | None = None, keep_covariance: bool = False,
                  compiled: bool = True) -> TrackFile:
    """Track every run's objects from one system's unlabelled reports.

    Parameters
    ----------
    reports : list of Reports
        One per radar of the system, each with its own scan times and the same runs C.
    radars : list of Radar
        The placed radars, in the order of ``reports`` (their fields of regard say which
        scans were looks at a track).
    system : str
        Name copied into the record.
    management : TrackManagement, optional
        Gate, confirmation and deletion; the defaults of :class:`TrackManagement`.
    keep_covariance : bool
        Keep the covariance of the confirmed tracks judged warheads at every update
        (``TrackFile.confirmed_P``, what :func:`fire_control_tracks` needs).
    compiled : bool
        Run the tracks through the compiled tracker (:mod:`shieldlab.tracking.mtt_kernel`: the
        whole time loop, run by run, where no scan has more than :data:`DENSE_REPORTS` report
        slots or the tracks are UKF or IMM tracks; else scan by scan); False: the NumPy scan,
        its reference.
    """
    mgmt = management or TrackManagement()
    if not reports:
        raise ValueError("track_reports: a system needs at least one sensor's reports")
    if len(radars) != len(reports):
        raise ValueError(f"track_reports: {len(radars)} radars for {len(reports)} sensors' reports")
    C = reports[0].z.shape[0]
    for rep in reports:
        if rep.z.shape[0] != C:
            raise ValueError(f"track_reports: sensor {rep.sensor!r} has {rep.z.shape[0]} runs, expected {C}")
    gate = association.gate(mgmt.gate_probability)
    t = np.unique(np.concatenate([rep.t for rep in reports]))
    K = t.size
    scan_of = Schedule.scan_index(t, [rep.t for rep in reports])
    sites = [(np.asarray(rep.site_ecef, float), earth.enu_matrix(rep.site_lat, rep.site_lon)) for rep in reports]
    fields = [visibility.FieldOfRegard.of(r).args() for r in radars]
    # what a radar is expected to see of an object it has measured nothing of: its reference
    # target (catalogue range at Pd 0.5), the smallest it is specified against
    reference = [(r.spec.max_range_km * 1e3, float(radar_model.snr50(r.spec.pfa)), float(r.spec.pfa)) for r in radars]

    # UKF and IMM tracks weigh every pair on either path: the whole loop always
    whole = compiled and (mgmt.filter != "ekf" or max(rep.valid.shape[2] for rep in reports) <= DENSE_REPORTS)
    st = _State(C, FIRST_SLOTS if whole else 4, mgmt, len(reports), compiled)
    # the geodetic sites as the one-point initiation reads them (earth.aer_to_ecef)
    origins = [ekf_kernel.site_origin(rep.site_lat, rep.site_lon, rep.site_alt) for rep in reports]
    # a sensor's call weighs its log-odds of being right
    p_wrong = np.array([np.nan if r.discrimination_error is None else r.discrimination_error for r in reports])
    weights = np.where(np.isfinite(p_wrong), np.log((1.0 - p_wrong) / np.maximum(p_wrong, 1e-6)), 0.0)
    if whole:
        return _track_runs(st, reports, system, t, scan_of, sites, fields, reference, origins, weights, gate,
                           keep_covariance)
    hist: dict[str, list] = {k: [] for k in ("x", "sigma", "tid", "status", "hits", "sensors", "report", "Pc",
                                             "warhead", "q")}
    for k in range(K):
        if k > 0:
            st.predict(float(t[k] - t[k - 1]))
            st.free(st.lost())
        report_k = np.full((C, st.T), -1, np.int64)
        for s, (rep, idx) in enumerate(zip(reports, scan_of)):
            j = idx[k]
            if j < 0:
                continue
            if st.compiled and st.T * rep.valid.shape[2] <= SPARSE_PAIRS:
                report_k = _scan_compiled(st, rep, j, s, sites[s], fields[s], reference[s], gate, report_k,
                                          origins[s])
            else:
                report_k = _scan(st, rep, j, s, sites[s], fields[s], reference[s], gate, report_k)
        down = (st.status != FREE) & came_down(st.x)
        st.free(down)
        hist["x"].append(st.x.copy())
        pos_var = np.trace(st.P[..., :3, :3], axis1=-2, axis2=-1)
        with np.errstate(invalid="ignore"):  # nan where a bad report left no variance, as compiled
            hist["sigma"].append(np.sqrt(pos_var).astype(np.float32))
        hist["tid"].append(st.tid.copy())
        hist["status"].append(st.status.copy())
        hist["hits"].append(st.hits.copy())
        hist["sensors"].append(st.sensors.copy())
        hist["report"].append(np.where(st.status != FREE, report_k, -1))
        warhead = st.warhead(weights) & (st.status != FREE)
        hist["warhead"].append(warhead)
        hist["q"].append(st.noise_level())
        if keep_covariance:
            on = np.nonzero((st.status == CONFIRMED) & warhead)
            hist["Pc"].append((np.full(on[0].size, k), on, st.P[on]))

    T = st.T

    def stack(name, fill, dtype):
        out = np.full((C, T, K) + ((6,) if name == "x" else ()), fill, dtype)
        for i, a in enumerate(hist[name]):
            out[:, :a.shape[1], i] = a
        return out

    P_hist = CovarianceHistory.from_steps((C, T, K), hist.pop("Pc")) if keep_covariance else None
    return _trimmed(TrackFile(system=system, t=t, x=stack("x", np.nan, float),
                              sigma_pos=stack("sigma", np.nan, np.float32), track_id=stack("tid", -1, np.int64),
                              status=stack("status", FREE, np.int8), n_hits=stack("hits", 0, np.int32),
                              sensors=stack("sensors", 0, np.uint32), report=stack("report", -1, np.int64),
                              sensor_names=tuple(r.sensor for r in reports), warhead=stack("warhead", False, bool),
                              confirmed_P=P_hist, q=stack("q", np.nan, np.float32)))


def _trimmed(tf: TrackFile) -> TrackFile:
    """``tf`` on the slots some track used: views, or copies where a quarter of the slots or
    more went unused (a view would keep the whole buffer alive)."""
    used = np.flatnonzero((tf.status != FREE).any(axis=(0, 2)))
    T = int(used[-1]) + 1 if used.size else 0
    T_all = tf.status.shape[1]
    if T == T_all:
        return tf

    def cut(a):
        return a[:, :T].copy() if 4 * T <= 3 * T_all else a[:, :T]

    P = tf.confirmed_P
    if P is not None:
        P = CovarianceHistory(cut(P.index), P.data)
    return TrackFile(system=tf.system, t=tf.t, x=cut(tf.x), sigma_pos=cut(tf.sigma_pos), track_id=cut(tf.track_id),
                     status=cut(tf.status), n_hits=cut(tf.n_hits), sensors=cut(tf.sensors), report=cut(tf.report),
                     sensor_names=tf.sensor_names, warhead=None if tf.warhead is None else cut(tf.warhead),
                     confirmed_P=P, q=cut(tf.q))


def _track_runs(st: _State, reports: list[Reports], system: str, t: np.ndarray, scan_of: list, sites: list,
                fields: list, reference: list, origins: list, weights: np.ndarray, gate: float,
                keep_covariance: bool) -> TrackFile:
    """:func:`track_reports` through the compiled tracker
    (:func:`shieldlab.tracking.mtt_kernel.track_runs`), run after run; the slots and the
    covariance rows grow where a run needs more, that run then tracked again from its start
    (runs are independent and a track takes the lowest free slot, so more slots change nothing)."""
    mgmt = st.mgmt
    C, K = st.x.shape[0], t.size
    sch = Schedule.of(t, scan_of)
    ev_s, ev_j = sch.sensor, sch.scan
    # each radar's reports as they are, in typed lists: the kernel is compiled once whatever
    # the number of radars, and nothing is copied
    Zs, Vs, SCs = (kernel_list([np.ascontiguousarray(getattr(rep, name)) for rep in reports])
                   for name in ("z", "valid", "r_scale"))
    CLs = kernel_list([np.ascontiguousarray(rep.call) if rep.call is not None else np.zeros((1, 1, 1), np.int8)
                      for rep in reports])
    site = np.array([a for a, _ in sites])
    enu = np.array([b for _, b in sites])
    fsite, trig = np.array([f[0] for f in fields]), np.array([f[1] for f in fields])
    fov = np.array([f[2:6] for f in fields], float)
    refr = np.array([f[6] for f in fields])
    ref = np.array(reference, float)
    org, otrig = np.array([o[0] for o in origins]), np.array([o[1] for o in origins])
    R3 = np.array([np.broadcast_to(rep.R, (3, 3)) for rep in reports], float)
    every = np.array([rep.search_every for rep in reports], np.int64)
    has_call = np.array([rep.call is not None for rep in reports])

    T = st.T
    fills = {"x": np.nan, "sigma": np.nan, "tid": -1, "status": FREE, "hits": 0, "sensors": 0, "report": -1,
             "warhead": False, "q": np.nan, "pidx": -1}
    dtypes = {"x": float, "sigma": np.float32, "tid": np.int64, "status": np.int8, "hits": np.int32,
              "sensors": np.uint32, "report": np.int64, "warhead": bool, "q": np.float32, "pidx": np.int64}
    h = {name: np.empty((C, T, K) + ((6,) if name == "x" else ()), dtypes[name]) for name in fills}
    if not keep_covariance:
        h["pidx"] = np.empty((0, 0, 0), np.int64)
    pbuf = np.empty((int(FIRST_ROWS * C * K) if keep_covariance else 0, 6, 6))
    nrows, row_start = np.zeros(1, np.int64), np.zeros(C, np.int64)
    c = 0
    while True:
        c, why = mtt_kernel.track_runs(
            c, t, sch.dt, sch.n_sub, sch.h_sub, sch.start, ev_s, ev_j, Zs, Vs, SCs, CLs, site, enu, fsite, trig, fov,
            refr, ref, org, otrig, R3, every, has_call, weights, gate, mgmt.confirm_m, mgmt.confirm_n,
            mgmt.confirm_var_v, float(np.log(mgmt.delete_probability)), st.log_lam_max, mgmt.min_speed,
            mgmt.q_ballistic, BETA_MIN_KG_M2, mgmt.sigma_v0, IMPACTED_DEPTH_M, mgmt.delete_sigma_m ** 2, st.x, st.P,
            st.log_lam, st.status, st.tid, st.hits, st.looks, st.log_miss, st.seen, st.found, st.sensors, st.calls,
            st.xm, st.Pm, st.mu, st.t_hit, st.next_id, h["x"],
            h["sigma"], h["tid"], h["status"], h["hits"], h["sensors"], h["report"], h["warhead"], h["q"],
            keep_covariance, h["pidx"], pbuf, nrows, row_start, *st.kernel_filter)
        if c == C:
            break
        # run c again from its start, with room
        gone = np.zeros(st.status.shape, bool)
        gone[c] = True
        st.free(gone)
        st.next_id[c] = 0
        nrows[0] = row_start[c]
        if why == mtt_kernel.NEED_SLOTS:
            T += max(T // 2, 1)
            st.grow(T)
            for name, a in h.items():
                if a.size or name != "pidx":
                    pad = np.full((C, T - a.shape[1]) + a.shape[2:], fills[name], a.dtype)
                    h[name] = np.concatenate([a, pad], axis=1)
        else:
            grown = np.empty((2 * max(len(pbuf), 1), 6, 6))
            grown[:nrows[0]] = pbuf[:nrows[0]]
            pbuf = grown
    rows = pbuf[:nrows[0]]
    if 4 * len(rows) < 3 * len(pbuf):  # not a view that holds the unused rows' memory
        rows = rows.copy()
    P_hist = CovarianceHistory(h["pidx"], rows) if keep_covariance else None
    return _trimmed(TrackFile(system=system, t=t, x=h["x"], sigma_pos=h["sigma"], track_id=h["tid"],
                              status=h["status"], n_hits=h["hits"], sensors=h["sensors"], report=h["report"],
                              sensor_names=tuple(r.sensor for r in reports), warhead=h["warhead"],
                              confirmed_P=P_hist, q=h["q"]))


def _scan_compiled(st: _State, rep: Reports, j: int, s: int, site, field, reference, gate: float,
                   report_k: np.ndarray, origin) -> np.ndarray:
    """:func:`_scan` for EKF tracks through :mod:`~shieldlab.tracking.mtt_kernel`: the same
    steps, one compiled pass per run."""
    mgmt = st.mgmt
    site_ecef, enu = site
    z = np.ascontiguousarray(rep.z[:, j])
    valid = np.ascontiguousarray(rep.valid[:, j])
    R = np.ascontiguousarray(rep.R_at(j))
    C, M = valid.shape
    call = np.ascontiguousarray(rep.call[:, j]) if rep.call is not None else np.zeros((C, 0), np.int8)
    rid = int(report_id(s, j, 0))
    new = np.empty((C, M), bool)
    f_site, trig, boresight, half_fov, el_lo, el_hi, refr = field
    r_ref, snr_ref, pfa = reference
    t_now = float(rep.t[j])
    mtt_kernel.scan_rows(st.x, st.P, st.log_lam, st.status, st.tid, st.hits, st.looks, st.log_miss, st.seen,
                         st.found, st.sensors, st.calls, st.t_hit, report_k, z, valid, R, call, s, rid,
                         j % rep.search_every == 0, site_ecef, enu, f_site, trig, boresight, half_fov, el_lo, el_hi,
                         refr, r_ref, snr_ref, pfa, gate, mgmt.confirm_m, mgmt.confirm_n, mgmt.confirm_var_v,
                         float(np.log(mgmt.delete_probability)), st.log_lam_max, mgmt.min_speed, t_now, new)
    n_new = new.sum(axis=1)
    if n_new.any():
        report_k = st.make_room(n_new, report_k)
        mtt_kernel.initiate_rows(st.x, st.P, st.log_lam, st.status, st.tid, st.hits, st.looks, st.log_miss,
                                 st.seen, st.found, st.sensors, st.calls, st.t_hit, st.next_id, report_k, z, R, call,
                                 new, s, rid, origin[0], origin[1], mgmt.sigma_v0, st.log_lam_max, t_now)
    return report_k


def _scan(st: _State, rep: Reports, j: int, s: int, site, field, reference, gate: float,
          report_k: np.ndarray) -> np.ndarray:
    """Apply scan ``j`` of sensor ``s`` to the tracks; returns the (grown) report lineage of this time."""
    mgmt = st.mgmt
    site_ecef, enu = site
    z, valid = rep.z[:, j], rep.valid[:, j]
    R = rep.R_at(j)
    C, M = valid.shape
    t_now = float(rep.t[j])
    live = st.status != FREE
    assign = np.full((C, st.T), -1, np.int64)
    # the minimum-speed gate: how far each one-point track's object has moved at least
    reach = np.where(st.hits == 1, mgmt.min_speed * (t_now - st.t_hit), 0.0)
    if live.any() and valid.any():
        if mgmt.filter == "ukf":  # gated on the unscented S, every pair (NumPy)
            d2, log_det = ukf.report_distances(st.x, st.P, z, R, site_ecef, enu, live, valid)
            d2[association.within_reach(st.x, z, site_ecef, enu, reach)] = np.inf
            assign = _assign(d2, log_det, gate)
        elif st.T * M > SPARSE_PAIRS:  # many tracks and reports (raw false alarms): by position first, per run
            for c in range(C):
                assign[c] = association.associate(st.x[c], st.P[c], z[c], R[c], site_ecef, enu, gate, "likelihood",
                                                  live=live[c], valid=valid[c], reach=reach[c])
        else:
            d2 = np.empty((C, st.T, M))
            log_det = np.empty((C, st.T, M))
            ekf_kernel.distances_rows(st.x, st.P, live, np.ascontiguousarray(z), np.ascontiguousarray(valid),
                                      np.ascontiguousarray(R), site_ecef, enu, d2, log_det)
            d2[association.within_reach(st.x, z, site_ecef, enu, reach)] = np.inf
            assign = _assign(d2, log_det, gate)
    upd = assign >= 0
    # looks: the radar's field of regard holds the track's prediction, and the radar looks
    # there this scan: it holds the track (it has reported into it), or it searches
    in_field = np.zeros_like(live)
    if live.any():
        pts = np.ascontiguousarray(st.x[live][:, :3])
        in_field[live] = visibility.visible_rows(pts, *field)
    record = np.isfinite(st.seen[..., s])  # the radar has reported into the track
    holds = st.seen[..., s] > 0.0  # and holds it (the sign: _State.seen)
    looked = in_field & (holds | (j % rep.search_every == 0))
    # the chance this look sees the object: the radar's record on it (Laplace's rule over its
    # looks, the recent ones weighing more), else what it sees of its reference target there
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        r_ref, snr_ref, pfa = reference
        snr_ref_here = snr_ref * (r_ref**2 / np.sum((st.x[..., :3] - site_ecef) ** 2, axis=-1)) ** 2
        pd_pred = np.where(record, (st.found[..., s] + 1.0) / (np.abs(st.seen[..., s]) + 2.0),
                           pfa ** (1.0 / (1.0 + snr_ref_here)))
    if upd.any():
        cc, tt = np.nonzero(upd)
        mm = assign[cc, tt]
        zs = np.zeros((C, st.T, 3))
        Rs = np.broadcast_to(np.eye(3), (C, st.T, 3, 3)).copy()
        zs[cc, tt], Rs[cc, tt] = z[cc, mm], R[cc, mm]
        st.update(zs, Rs, site_ecef, enu, upd)
        st.hits += upd
        st.t_hit[upd] = t_now
        st.sensors[upd] |= np.uint32(1 << s)
        if rep.call is not None:
            st.calls[cc, tt, s] = rep.call[cc, j, mm]
        report_k[cc, tt] = report_id(s, j, mm)
    # track management
    tent = st.status == TENTATIVE
    # (every scan of a radar that reported into a tentative track, in its field or not: the hold
    # does not enter, so a one-point track that falls out of every field still fails M-of-N)
    st.looks += (tent & (looked | upd | record)).astype(np.int32)
    # M-of-N decides whether the object exists, the deletion rule whether it still does: a track
    # with its M reports is confirmed once its velocity is known, and goes by the second
    established = st.hits >= mgmt.confirm_m
    settled = np.trace(st.P[..., 3:, 3:], axis1=-2, axis2=-1) <= mgmt.confirm_var_v
    # and moving as fast as the minimum-speed gate says an object of interest does: three
    # missiles' first reports, each from where the last rose, make a slow track the gate's
    # pairwise test lets through (its third report is tested against a two-point track)
    fast = np.einsum("...i,...i->...", st.x[..., 3:], st.x[..., 3:]) >= mgmt.min_speed ** 2
    st.status[tent & established & settled & fast] = CONFIRMED
    missed = looked & ~upd
    st.log_miss = np.where(upd, 0.0, st.log_miss + np.where(missed, np.log1p(-np.minimum(pd_pred, 1.0 - 1e-12)),
                                                               0.0))
    # the radar's record: this look (or report) counted, the older ones fading
    counted = looked | upd
    first = upd & ~record
    seen = np.abs(st.seen[..., s])
    seen = np.where(first, 1.0, np.where(counted & record, PD_MEMORY * seen + 1.0, seen))
    st.found[..., s] = np.where(first, 1.0, np.where(counted & record, PD_MEMORY * st.found[..., s] + upd,
                                                     st.found[..., s]))
    # the hold: taken by a report, kept while the track stays in the field, given up when it
    # leaves (the radar then searches for it again, as radar.looks has it)
    lapse = record & ~upd & ~(holds & in_field) & live
    st.seen[..., s] = np.where(lapse, -seen, np.where(record | upd, seen, st.seen[..., s]))
    drop = (tent & ~established & (st.looks - st.hits > mgmt.confirm_n - mgmt.confirm_m)) \
        | (established & (st.status != FREE) & (st.log_miss < np.log(mgmt.delete_probability)))
    st.free(drop)
    report_k[drop] = -1
    # initiation: the reports no track took, in order of range
    taken = np.zeros((C, M), bool)
    cc, tt = np.nonzero(upd & ~drop)
    taken[cc, assign[cc, tt]] = True
    new = valid & ~taken
    n_new = new.sum(axis=1)
    if n_new.any():
        report_k = st.make_room(n_new, report_k)
        order = np.argsort(np.where(new, z[..., 0], np.inf), axis=1, kind="stable")
        free_first = np.argsort(st.status != FREE, axis=1, kind="stable")
        rows, ranks = np.nonzero(np.arange(M)[None, :] < n_new[:, None])
        mm, tt = order[rows, ranks], free_first[rows, ranks]
        x0, P0 = ekf.init_from_detection(z[rows, mm], R[rows, mm], rep.site_lat, rep.site_lon, rep.site_alt,
                                         mgmt.sigma_v0)
        st.start(rows, tt, x0, P0)
        st.log_lam[rows, tt] = st.log_lam_max
        st.status[rows, tt] = TENTATIVE
        st.hits[rows, tt] = st.looks[rows, tt] = 1
        st.t_hit[rows, tt] = t_now
        st.log_miss[rows, tt] = 0.0
        st.seen[rows, tt], st.found[rows, tt] = np.nan, np.nan
        st.seen[rows, tt, s], st.found[rows, tt, s] = 1.0, 1.0
        st.sensors[rows, tt] = np.uint32(1 << s)
        st.calls[rows, tt] = NO_CALL
        if rep.call is not None:
            st.calls[rows, tt, s] = rep.call[rows, j, mm]
        st.tid[rows, tt] = st.next_id[rows] + ranks  # numbered in order within each run
        st.next_id += n_new
        report_k[rows, tt] = report_id(s, j, mm)
    return report_k



def fire_control_tracks(tf: TrackFile) -> tuple[Tracks, np.ndarray]:
    """The confirmed tracks of a track file as fire control reads them: one column per
    track (per run, in order of confirmation), ``nan`` outside the time it was confirmed,
    alive and judged a warhead (``TrackFile.warhead``: what the sensors pass on as a
    threat).  Needs ``track_reports(..., keep_covariance=True)``.

    Returns the :class:`~shieldlab.tracking.records.Tracks` (batch (C, Tc)) and the track
    number of each column (C, Tc) (-1 for columns a run does not use)."""
    if tf.confirmed_P is None:
        raise ValueError("fire_control_tracks: track with keep_covariance=True")
    C, T, K = tf.track_id.shape
    conf = tf.status == CONFIRMED
    if tf.warhead is not None:
        conf = conf & tf.warhead
    # columns: each run's confirmed track numbers, in order of first confirmation
    cc, ss, kk = np.nonzero(conf)
    key = cc * (int(tf.track_id.max(initial=0)) + 1) + tf.track_id[cc, ss, kk]
    uniq, first = np.unique(key, return_index=True)
    order = np.lexsort((uniq, kk[first], cc[first]))  # by run, then by confirmation time
    run_of = cc[first][order]
    rank = np.arange(order.size) - np.searchsorted(run_of, run_of, side="left")
    Tc = int(rank.max(initial=-1)) + 1
    column_tid = np.full((C, Tc), -1, np.int64)
    column_tid[run_of, rank] = (uniq[order] % (int(tf.track_id.max(initial=0)) + 1))
    col_of_key = np.empty(uniq.size, np.int64)
    col_of_key[order] = rank
    col = col_of_key[np.searchsorted(uniq, key)]  # per confirmed (c, slot, k)
    x = np.full((C, Tc, K, 6), np.nan)
    hits = np.zeros((C, Tc, K), np.int32)
    q = np.full((C, Tc, K), np.nan, np.float32)
    x[cc, col, kk] = tf.x[cc, ss, kk]
    q[cc, col, kk] = tf.q[cc, ss, kk]
    hits[cc, col, kk] = tf.n_hits[cc, ss, kk]
    # the covariances where the track file keeps them (every confirmed warhead's): an index
    # into its rows, no copy
    P_index = np.full((C, Tc, K), -1, np.int64)
    P_index[cc, col, kk] = tf.confirmed_P.index[cc, ss, kk]
    P = CovarianceHistory(P_index, tf.confirmed_P.data)
    held = np.isfinite(x).all(axis=-1)
    # n_hits only grows while the track lives (fire control reads a rise as a new detection)
    hits = np.maximum.accumulate(hits, axis=-1)
    confirmed = np.logical_or.accumulate(held, axis=-1)  # as the one-per-threat tracker's: from confirmation on
    anyk = confirmed.any(axis=-1)
    confirm_time = np.where(anyk, tf.t[np.argmax(confirmed, axis=-1)] if K else np.inf, np.inf)
    return Tracks(system=tf.system, t=tf.t, x=x, P=P, n_hits=hits, confirmed=confirmed,
                  confirm_time=confirm_time, q=q), column_tid
