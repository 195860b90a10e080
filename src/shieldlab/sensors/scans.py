"""Reports without labels: every scan of a radar as the set a tracker receives.

:func:`shieldlab.sensors.radar.observe` says, per threat, whether and how a radar saw it.
A real radar's scan yields a set of reports with no names on them: the threats it
detected, the spent boosters beside them (:mod:`shieldlab.sensors.boosters`) and false
alarms.  :func:`scan_reports` builds that set for every run and scan, in an order drawn at
random, so nothing downstream can learn an object's identity from where its report sits.

False alarms.  A search frame examines ``cells`` resolution cells, each crossing the
threshold by noise alone with probability ``Pfa``:

    cells = (R_max / ΔR) · (Ω / θ²),   ΔR = σ_R √(2 SNR_ref),   θ = σ_θ √(2 SNR_ref),
    Ω = Δaz · (sin el_max − sin el_min)

(range resolution and beamwidth recovered from the catalogue's noise figures, which are
quoted at SNR_ref = 20 dB: catalog/sensors.yaml; the instrumented range taken as the
catalogue's ``max_range_km``, an assumption).  ``false_alarms: raw`` reports every
crossing, ``cells · Pfa`` per frame (~980 for AN/TPY-2 at Pfa 1e-6); ``confirmed`` (the
default) models the alert-confirm search of a phased array, which re-examines each
crossing with a second dwell in the same beam and range cell before reporting it
(Billetter, *Multifunction Array Radar*, 1989), ``cells · Pfa²`` per frame (~1e-3); a
number sets the mean per frame directly.  The count per search frame is Poisson; each
false alarm lies uniformly in range, azimuth and the sine of elevation (uniform over the
frame's cells; elevations above the site's mask) and is reported at the threshold SNR (the
noise of a report that barely crossed it).  Track revisits between search frames look only where tracks are, and bring
no false alarms (their few cells are neglected).

Discrimination.  A radar with a catalogue ``discrimination_error`` p calls each report a
warhead or not (:attr:`Reports.call`).  The threat is a warhead from launch (the missile in
boost, then its re-entry vehicle); its spent booster and false alarms are not.  Per run,
the radar calls each object wrongly with probability p and makes the same call on all its
reports of that object (a radar that confuses a booster with a warhead does so
persistently: its features, not a noise, mislead it); a false alarm's call is a coin toss.
The calls are the radar's output; how a tracker weighs them is its own affair
(:mod:`shieldlab.tracking.mtt`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from shieldlab.flyout.records import Trajectories
from shieldlab.sensors import boosters, scans_kernel
from shieldlab.sensors.radar import (
    REF_SNR,
    Radar,
    aer_visible,
    detect,
    measure,
    noise_variance_scale,
    pd_swerling1,
    search_every,
    snr,
)
from shieldlab.sensors.records import FALSE_ALARM, NO_CALL, NO_REPORT, Detections, Reports
from shieldlab.sensors.signature import Signature

#: The false-alarm models: see the module docstring.
FALSE_ALARM_MODES = ("confirmed", "raw")


def resolution_cells(spec, el_floor: float | None = None) -> float:
    """Resolution cells a search frame of ``spec`` examines (module docstring): from
    ``el_floor`` [rad] up, a placed radar's :attr:`~shieldlab.sensors.radar.Radar.el_floor`
    (the frame searches nothing below it, and :func:`scan_reports` places its false alarms
    above it), or the catalogue's lowest elevation where None."""
    spread = math.sqrt(2.0 * REF_SNR)
    d_r = spec.sigma_range_m * spread
    beam = spec.sigma_angle_mrad * 1e-3 * spread
    el_lo = math.radians(spec.el_min_deg) if el_floor is None else el_floor
    el_hi = math.radians(spec.el_max_deg)
    omega = math.radians(spec.az_fov_deg) * max(math.sin(el_hi) - math.sin(el_lo), 0.0)
    return spec.max_range_km * 1e3 / d_r * omega / beam**2


def radar_false_alarm_rate(radar: Radar, false_alarms: str | float = "confirmed") -> float:
    """:func:`false_alarm_rate` of a placed radar: its frame above its site's elevation mask."""
    return false_alarm_rate(radar.spec, false_alarms, radar.el_floor)


def false_alarm_rate(spec, false_alarms: str | float = "confirmed", el_floor: float | None = None) -> float:
    """Mean false alarms per search frame: ``"confirmed"`` (``cells · Pfa²``), ``"raw"``
    (``cells · Pfa``), the cells above ``el_floor`` (:func:`resolution_cells`), or a number
    (itself, >= 0)."""
    if isinstance(false_alarms, str):
        if false_alarms not in FALSE_ALARM_MODES:
            raise ValueError(f"false_alarms must be one of {FALSE_ALARM_MODES} or a number, not {false_alarms!r}")
        raw = resolution_cells(spec, el_floor) * spec.pfa
        return raw if false_alarms == "raw" else raw * spec.pfa
    rate = float(false_alarms)
    if not (rate >= 0.0 and math.isfinite(rate)):
        raise ValueError(f"false_alarms must be a finite number >= 0, not {false_alarms!r}")
    return rate


def scan_reports(radar: Radar, det: Detections, truth: Trajectories, sig: Signature,
                 rngs: Sequence[np.random.Generator], false_alarms: str | float = "confirmed",
                 cue_time: np.ndarray | None = None) -> Reports:
    """Every scan's reports of ``radar`` as a set without labels, per run.

    ``det`` is what :func:`~shieldlab.sensors.radar.observe` made of the threats (batch
    (C, N)) with the generators ``rngs`` (one per run); this draws, from the same
    generators after those draws (so the threats' reports stay as they were), per run:
    the boosters' looks (a uniform and three normals per booster and scan), each object's
    discrimination call, the order of each scan's reports (a uniform per candidate slot),
    and last what the false-alarm rate sets: the number of false alarms of each scan
    (Poisson, on search frames), their places (three uniforms each) and calls, so that two
    rates share every other draw.  ``sig``:
    the threats' signatures (the booster is seen at ``sig.booster``); ``cue_time`` as in
    ``observe`` (a cued radar looks for the booster where it looks for the warhead).
    """
    spec = radar.spec
    C, N = truth.batch_shape
    if len(rngs) != C:
        raise ValueError(f"scan_reports: {len(rngs)} generators for {C} runs")
    t = det.t
    K = t.size
    rate = radar_false_alarm_rate(radar, false_alarms)  # over the frame's elevations, as they are placed below
    p_wrong = getattr(spec, "discrimination_error", None)

    # the boosters, seen by the radar's own rules
    bpos, present = boosters.positions(truth, t, pos=det.truth_pos)
    az, el, r, ok = aer_visible(radar, np.where(present[..., None], bpos, radar.site_ecef * 2.0))
    ok &= present
    rcs = np.broadcast_to(np.asarray(sig.booster, float), (C, N))[..., None]
    with np.errstate(divide="ignore", over="ignore"):
        s = np.where(ok, snr(radar, np.where(ok, r, 1.0), rcs, az), 0.0)
    pd = np.where(ok, pd_swerling1(s, spec.pfa), 0.0)
    u = np.empty((C, N, K))
    noise = np.empty((C, N, K, 3))
    for c, g in enumerate(rngs):
        u[c], noise[c] = g.random((N, K)), g.standard_normal((N, K, 3))
    seen = detect(spec, ok, u, pd, t, cue_time)
    zb, rsb, _ = measure(radar, r, az, el, s, u, noise, seen)

    search = (np.arange(K) % search_every(spec)) == 0
    fa_scale = float(noise_variance_scale(np.log(1.0 / spec.pfa), spec.pfa)) if radar.snr_noise else 1.0
    half = math.radians(spec.az_fov_deg) / 2.0
    # the frame's elevations: the catalogue's, above the site's mask
    el_lo = radar.el_floor
    s_lo, s_hi = math.sin(el_lo), math.sin(math.radians(spec.el_max_deg))

    # per run, in this order: the objects' discrimination calls, the sort keys of the threats'
    # and boosters' slots, then the false alarms (their counts, places, sort keys and coin
    # tosses). Whatever depends on the false-alarm rate is drawn last, so that two settings of
    # the rate share every other draw (common random numbers): the same calls of the same
    # objects, the same order of their reports.
    draws = []
    for g in rngs:
        wrong = g.random(2 * N) < (p_wrong if p_wrong is not None else 0.0)
        keys_obj = g.random((K, 2 * N))
        n_fa = np.where(search, g.poisson(rate, K), 0)
        F = int(n_fa.max(initial=0))
        w = g.random((int(n_fa.sum()), 3))
        keys = np.concatenate([keys_obj, g.random((K, F))], axis=1)
        toss = g.random(int(n_fa.sum())) < 0.5
        fa_z = np.stack([w[:, 0] * spec.max_range_km * 1e3,
                         np.mod(radar.boresight_az + (2.0 * w[:, 1] - 1.0) * half, 2.0 * np.pi),
                         np.arcsin(s_lo + w[:, 2] * (s_hi - s_lo))], axis=-1)
        is_warhead = np.arange(2 * N) < N
        draws.append((n_fa, fa_z, keys, np.where(wrong, ~is_warhead, is_warhead).astype(np.int8),
                      toss.astype(np.int8)))
    out = _assemble(det, zb, seen, rsb, draws, fa_scale, p_wrong is not None)
    return Reports(sensor=det.sensor, site_ecef=det.site_ecef, site_lat=det.site_lat, site_lon=det.site_lon,
                   site_alt=det.site_alt, t=t, z=out[0], valid=out[1], R=det.R, r_scale=out[2],
                   truth_id=out[3], n_threats=N, false_alarm_rate=rate, call=out[4],
                   discrimination_error=p_wrong, search_every=search_every(spec))


def _empty_scans(C: int, K: int, M: int):
    return (np.full((C, K, M, 3), np.nan), np.zeros((C, K, M), bool), np.ones((C, K, M)),
            np.full((C, K, M), NO_REPORT, np.int32), np.full((C, K, M), NO_CALL, np.int8))


def _assemble(det: Detections, zb, seen, rsb, draws, fa_scale: float, calls: bool):
    """Each run's scans as sets of reports in the drawn order, the empty slots last: ``(z (C, K, M,
    3), valid, r_scale, truth_id, call (C, K, M))``, M the most reports of any scan of any run;
    from the threats' detections ``det``, the boosters' measurements ``zb``, detections ``seen``
    and range-noise factors ``rsb`` (C, N, K), and per run its ``draws`` (false alarms a scan,
    their measurements, the slots' sort keys, the objects' and the false alarms' calls).
    Compiled (:func:`shieldlab.sensors.scans_kernel.assemble`); :func:`_assemble_numpy` is
    the reference."""
    C, N, K = det.detected.shape
    n_fa = np.array([d[0] for d in draws], np.int64).reshape(C, K)
    counts = det.detected.sum(axis=1) + seen.sum(axis=1) + n_fa  # (C, K)
    M = int(counts.max(initial=0))
    out = _empty_scans(C, K, M)
    fa_off = np.concatenate([[0], np.cumsum([d[1].shape[0] for d in draws])]).astype(np.int64)
    key_off = np.concatenate([[0], np.cumsum([d[2].size for d in draws])]).astype(np.int64)
    f = lambda a: np.ascontiguousarray(a, float)  # noqa: E731
    scans_kernel.assemble(
        f(det.z), np.ascontiguousarray(det.detected), f(det.r_scale), f(zb), np.ascontiguousarray(seen), f(rsb),
        n_fa, f(np.concatenate([d[1] for d in draws]).reshape(-1, 3)), fa_off,
        f(np.concatenate([d[2].reshape(-1) for d in draws])), key_off,
        np.array([d[3] for d in draws], np.int8).reshape(C, 2 * N),
        np.concatenate([d[4] for d in draws]).astype(np.int8), float(fa_scale), FALSE_ALARM, NO_CALL, bool(calls),
        *out)
    return out


def _assemble_numpy(det: Detections, zb, seen, rsb, draws, fa_scale: float, calls: bool):
    """:func:`_assemble` in NumPy, run by run: the reference the compiled form is held to."""
    C, N, K = det.detected.shape
    runs = []
    for c, (n_fa, fa_vals, keys, obj_call, toss) in enumerate(draws):
        F = int(n_fa.max(initial=0))
        fa_z = np.full((K, F, 3), np.nan)
        slot = np.arange(F)[None, :] < n_fa[:, None]  # (K, F): the scan's first n_fa slots
        fa_z[slot] = fa_vals
        z = np.concatenate([np.swapaxes(det.z[c], 0, 1), np.swapaxes(zb[c], 0, 1), fa_z], axis=1)  # (K, W, 3)
        valid = np.concatenate([det.detected[c].T, seen[c].T, slot], axis=1)
        scale = np.concatenate([det.r_scale[c].T, rsb[c].T, np.full((K, F), fa_scale)], axis=1)
        tid = np.concatenate([np.broadcast_to(np.arange(N), (K, N)), np.broadcast_to(N + np.arange(N), (K, N)),
                              np.full((K, F), FALSE_ALARM)], axis=1)
        order = np.argsort(np.where(valid, keys, 2.0), axis=1, kind="stable")
        fa_call = np.zeros((K, F), np.int8)
        fa_call[slot] = toss
        call = np.concatenate([np.broadcast_to(obj_call, (K, 2 * N)), fa_call], axis=1)
        if not calls:
            call = np.full_like(call, NO_CALL)
        runs.append(tuple(np.take_along_axis(a, order if a.ndim == 2 else order[..., None], axis=1)
                          for a in (z, valid, scale, tid, call)))
    M = max([int(v.sum(axis=1).max(initial=0)) for _, v, _, _, _ in runs] + [0])
    z_out, valid_out, scale_out, tid_out, call_out = _empty_scans(C, K, M)
    for c, (z, v, sc, tid, call) in enumerate(runs):
        m = min(M, v.shape[1])
        z_out[c, :, :m], valid_out[c, :, :m] = z[:, :m], v[:, :m]
        scale_out[c, :, :m] = np.where(v[:, :m], sc[:, :m], 1.0)
        tid_out[c, :, :m] = np.where(v[:, :m], tid[:, :m], NO_REPORT)
        call_out[c, :, :m] = np.where(v[:, :m], call[:, :m], NO_CALL)
    z_out[~valid_out] = np.nan
    return z_out, valid_out, scale_out, tid_out, call_out
