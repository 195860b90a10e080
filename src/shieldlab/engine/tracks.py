"""Multi-target tracking of a scenario's runs: the sensors' unlabelled reports through
gating, association and track management, scored against the truth.

The same runs as the kill chain's (:mod:`shieldlab.engine.chain`): the same flights, the
same streams, so the threats' reports of run ``k`` are those ``shieldlab run`` makes of run
``k``; the spent boosters' reports, the false alarms and the order of each scan's reports
are drawn after them from the sensors' streams.  Each system (or, under an integrated
architecture, all sensors at once) tracks its own radars' reports
(:func:`shieldlab.tracking.mtt.track_reports`); :mod:`shieldlab.outcome.file_quality`
scores the result.  No engagement is fought here: every threat flies to impact.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shieldlab.c2.network import INTEGRATED, one_picture
from shieldlab.engine import chain
from shieldlab.errors import InputError
from shieldlab.outcome import file_quality
from shieldlab.sensors.records import Reports
from shieldlab.sensors.scans import scan_reports
from shieldlab.sensors.signature import Signature
from shieldlab.stats import mean_interval
from shieldlab.tracking import mtt
from shieldlab.tracking.mtt import TrackFile, TrackManagement, track_reports


def management(world) -> TrackManagement:
    """The scenario's track management (``tracking``: init_hits of confirm_looks, confirm_sigma_v_ms,
    min_speed_ms, delete_probability, delete_sigma_km, gate)."""
    cfg = world.scenario.tracking
    why = mtt.unsupported_filter(cfg.filter)  # (under association gnn the scenario's checks said so already)
    if why is not None:
        raise InputError(why, field="tracking.filter")
    return TrackManagement(gate_probability=cfg.gate_probability, confirm_m=cfg.init_hits,
                           confirm_n=cfg.confirm_looks, confirm_sigma_v=cfg.confirm_sigma_v_ms,
                           delete_probability=cfg.delete_probability, filter=cfg.filter,
                           delete_sigma_m=cfg.delete_sigma_km * 1e3, min_speed=cfg.min_speed_ms)


def systems(world) -> dict[str, list[int]]:
    """Which sensors (indices into ``world.sensors``) each tracking picture is built from."""
    if one_picture(world):
        return {INTEGRATED: list(range(len(world.sensors)))}
    return {sy: [i for i, s in enumerate(world.sensors) if s.system == sy] for sy in world.systems
            if any(s.system == sy for s in world.sensors)}


def unlabelled_reports(world, truth, streams, warned, dets, false_alarms=None) -> list[Reports]:
    """Every radar's scans of a chunk as reports without labels (:func:`scan_reports`), drawn
    after its detections ``dets`` from its own stream, cued as the chain cues it (``warned``:
    when each system holds a launch report, :func:`shieldlab.c2.network.warning_times`);
    ``false_alarms`` overrides ``sensing.false_alarms``."""
    fa = world.scenario.sensing.false_alarms if false_alarms is None else false_alarms
    sig = Signature.of_missiles([t.missile for t in world.threats])
    at = chain.StreamLayout.of(world)
    return [scan_reports(s.radar, d, truth, sig, streams[at.sensor(i)], fa, cue_time=warned.get(s.system))
            for i, (s, d) in enumerate(zip(world.sensors, dets))]


def track_pictures(world, reports: list[Reports], keep_covariance: bool = False) -> dict[str, tuple]:
    """Each picture's track file (:func:`track_reports` with the scenario's management) and
    the reports it was built from: ``{picture: (TrackFile, reports)}``."""
    mgmt = management(world)
    out = {}
    for name, idx in systems(world).items():
        mine = tuple(reports[i] for i in idx)
        out[name] = (track_reports(list(mine), [world.sensors[i].radar for i in idx], name, mgmt,
                                   keep_covariance=keep_covariance), mine)
    return out


@dataclass(frozen=True)
class ChunkTracks:
    """One chunk's track files and their quality, per picture."""

    first_run: int
    files: dict[str, TrackFile]
    quality: dict[str, file_quality.FileQuality]
    # a row per confirmed track of every file (:func:`shieldlab.outcome.track_table.track_rows`), where asked for
    tracks: list[dict[str, np.ndarray]] | None = None


def track_chunk(world, flights: chain.Flights, first_run: int, C: int, seed: np.random.SeedSequence,
                false_alarms=None, timings: dict | None = None, keep_tracks: bool = False) -> ChunkTracks:
    """Runs ``first_run .. first_run + C - 1``: reports, tracks, quality (and, with
    ``keep_tracks``, a row per confirmed track, tentative ones left out: with raw false alarms
    they are thousands a run).  ``false_alarms`` overrides the scenario's
    ``sensing.false_alarms``."""
    from shieldlab.outcome.track_table import track_rows

    streams = chain.chunk_streams(world, seed, first_run, C)
    truth = chain.chunk_truth(world, flights, streams, timings)
    with chain.timed(timings, "sensors_s"):
        _, warned, dets = chain.sense(world, truth, streams)
        reports = unlabelled_reports(world, truth, streams, warned, dets, false_alarms)
    with chain.timed(timings, "tracking_s"):
        pictures = track_pictures(world, reports, keep_covariance=True)  # the consistency reads them
    quality, rows = {}, {}
    with chain.timed(timings, "outcome_s"):
        for name, (tf, mine) in pictures.items():
            origin = file_quality.report_origin(tf, list(mine))  # the labels' source, made once for both
            quality[name] = file_quality.evaluate(tf, list(mine), truth, origin=origin)
            if keep_tracks:
                r = track_rows(tf, list(mine), [th.name for th in world.threats], first_run, origin, truth)
                rows[name] = {k: v[np.isfinite(r["confirmed_s"])] for k, v in r.items()}
    return ChunkTracks(first_run, {name: tf for name, (tf, _) in pictures.items()}, quality,
                       [rows[name] for name in sorted(rows)] if keep_tracks else None)


@dataclass
class TrackRuns:
    """Track quality of every run, per picture: the fields of
    :class:`~shieldlab.outcome.file_quality.FileQuality` concatenated over the chunks."""

    scenario: str
    settings: dict  # the scenario's track management (tracking.*)
    runs: int
    seed: int
    false_alarms: str | float
    false_alarm_rates: dict[str, float]  # sensor -> mean false alarms per search frame
    quality: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    # one row per confirmed track (:func:`shieldlab.outcome.track_table.track_rows`), where asked for
    tracks: dict[str, np.ndarray] | None = None
    hours: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict:
        """Means over runs per picture, each with its 95 % interval under ``<key>_ci95``
        (Student t over the runs, cut at 0, and shares at 1, :func:`shieldlab.stats.mean_interval`); JSON-ready,
        ``None`` where undefined."""
        def with_ci(row: dict) -> dict:
            out: dict[str, Any] = {}
            for key, values in row.items():
                v = np.asarray(values, float)
                v = v[np.isfinite(v)]
                m, lo, hi = (mean_interval(v, lower=0.0, upper=1.0 if key in file_quality.SHARES else None)
                             if v.size else (np.nan, np.nan, np.nan))
                out[key] = None if not np.isfinite(m) else float(m)
                out[f"{key}_ci95"] = [None if not np.isfinite(x) else float(x) for x in (lo, hi)]
            return out

        out = {}
        for name, q in self.quality.items():
            firm = np.where(np.isfinite(q["time_to_firm_track_s"]), q["time_to_firm_track_s"], np.nan)
            with warnings.catch_warnings():  # a run none of whose threats was tracked: nan
                warnings.simplefilter("ignore", RuntimeWarning)
                per_run = np.nanmedian(firm, axis=1)  # as shieldlab run's track quality: per run, then the mean
            out[name] = with_ci({
                "gospa_m": q["gospa_m"], "localisation_m": q["localisation_m"],
                "missed_targets": q["missed"], "false_tracks": q["false"],
                "position_rmse_m": q["position_rmse_m"], "velocity_rmse_ms": q["velocity_rmse_ms"],
                "track_breaks": q["track_breaks"], "false_tracks_per_hour": q["false_tracks_per_hour"],
                "booster_tracks": q["booster_tracks"], "mean_nees": q["mean_nees"], "nees_over_99": q["nees_over_99"],
                "nees_updates": q["nees_updates"], "purity": q["purity"], "own_booster_share": q["own_booster_share"],
                "threats_tracked": np.isfinite(q["time_to_firm_track_s"]).sum(axis=1),
                "median_time_to_firm_track_s": per_run,
            })
            out[name]["runs"] = self.runs  # as run's summary: the runs each picture's means are over
        return {"scenario": self.scenario, "tracking": self.settings,
                "runs": self.runs, "seed": self.seed, "false_alarms": self.false_alarms,
                "false_alarms_per_search_frame": self.false_alarm_rates, "hours_per_run": self.hours,
                "gospa": {"c_m": file_quality.GOSPA_C_M, "p": file_quality.GOSPA_P, "alpha": 2,
                          "step_s": file_quality.EVAL_STEP_S},
                "pictures": out, "timings_s": self.timings}


def track_runs(world, runs: int, seed: int = 1, false_alarms=None, progress=None,
               keep_tracks: bool = False) -> TrackRuns:
    """Track ``runs`` runs of ``world`` in chunks of :func:`~shieldlab.engine.chain.chunk_runs`;
    ``progress(n)`` (optional) is called with the runs done after each chunk.  With
    ``keep_tracks``, :attr:`TrackRuns.tracks` holds a row per track that was ever confirmed
    (:func:`track_chunk`)."""
    from shieldlab.sensors.scans import radar_false_alarm_rate

    fa = world.scenario.sensing.false_alarms if false_alarms is None else false_alarms
    flights = chain.preflight(world, runs, false_alarms=fa, can_store=False)  # its false alarms' tracks' memory too
    rates = {s.radar.name: radar_false_alarm_rate(s.radar, fa) for s in world.sensors}
    ss = np.random.SeedSequence(seed)
    timings: dict[str, float] = {}
    parts: dict[str, list] = {}
    rows: list[dict[str, np.ndarray]] = []
    hours = 0.0
    t0 = time.perf_counter()
    size = chain.chunk_runs(world, flights, fa)
    for first in range(0, runs, size):
        C = min(size, runs - first)
        ch = track_chunk(world, flights, first, C, ss, fa, timings, keep_tracks=keep_tracks)
        rows += ch.tracks or []
        for name, q in ch.quality.items():
            parts.setdefault(name, []).append(q)
            hours = q.hours
        if progress is not None:
            progress(first + C)
    timings["total_s"] = time.perf_counter() - t0
    quality = {name: {f: np.concatenate([getattr(q, f) for q in qs])
                      for f in file_quality.FileQuality.__dataclass_fields__ if f not in ("system", "hours")}
               for name, qs in parts.items()}
    cfg = world.scenario.tracking
    settings = {"filter": cfg.filter, "init_hits": cfg.init_hits, "confirm_looks": cfg.confirm_looks,
                "confirm_sigma_v_ms": cfg.confirm_sigma_v_ms, "min_speed_ms": cfg.min_speed_ms,
                "delete_probability": cfg.delete_probability,
                "delete_sigma_km": cfg.delete_sigma_km,
                "gate_probability": cfg.gate_probability}
    return TrackRuns(scenario=world.scenario.name, settings=settings, runs=runs, seed=seed, false_alarms=fa,
                     false_alarm_rates=rates, quality=quality, hours=hours,
                     timings=timings,
                     tracks={k: np.concatenate([r[k] for r in rows]) for k in rows[0]} if rows else None)
