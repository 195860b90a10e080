"""The summary of a Monte Carlo run (``summary.json``): per-threat probabilities, per-raid
means, their 95 % intervals, and why threats were not engaged.

Intervals (:mod:`shieldlab.stats`)
----------------------------------
* A probability estimated from ``k`` of ``n`` runs (``p_intercept``, ``p_leak``,
  ``p_no_leaker``, and every reason fraction) carries its Wilson score interval,
  ``[lo, hi]`` under ``<key>_ci95`` (Wilson 1927; Brown, Cai & DasGupta 2001).
* A per-raid mean (``mean_leakers``, ``mean_interceptors_fired``, ``mean_assets_hit``,
  ``mean_value_lost`` — the defended assets' ``value`` summed over the warheads that hit them,
  per threat ``mean_interceptors``) carries ``mean -/+ t_{n-1} s / sqrt(n)`` over the
  per-run values, ``s`` their sample standard deviation (Student t; ``null`` with one run),
  cut to the range the per-run values can take: at 0 (none is negative), and for
  ``mean_leakers`` and ``mean_assets_hit`` also at the number of threats (a run cannot
  have more); so an interval of few runs may be narrower on one side.

The top-level ``interval`` and ``interval_means`` name the two methods.

Track quality
-------------
``track_quality``: per system (C2 node picture), the mean over runs (and its Student t
interval) of the per-run GOSPA [m], its localisation RMS error [m], missed targets and
false tracks per instant, each threat's own-track position [m] and velocity [m/s] RMSE,
and the median time from launch to first firm (confirmed) track [s]; method in
``track_quality_method`` and :mod:`shieldlab.outcome.track_quality`.

Reasons
-------
Fire control writes two kinds of event rows with a ``reason`` code: ``hold`` (a battery,
the row's ``actor``, chose to wait) and ``no-fire`` (at the end of a run a threat had not
been engaged, or not re-engaged after a miss; ``actor`` is the battery whose reason it is,
or ``""`` when none applies).  Codes: ``no-track``, ``not-threatening``,
``out-of-envelope``, ``held-last-chance``, ``track-quality``, ``magazine-empty``,
``no-battery``, ``threat-gone``, ``assessed-killed`` (the look after a shot saw no
detection), ``outside-sector``, ``engaged-elsewhere`` (architectures with several C2
nodes), ``kept-for-higher-value``; a row with an empty ``reason`` counts as
``unspecified``.  Per threat the summary gives, over the ``runs`` runs:

* ``no_fire``: ``{reason: fraction of runs with a no-fire row of that reason}``,
* ``holds``: ``{reason: fraction of runs with a hold row of that reason}``,
* ``by_battery``: ``{battery: {reason: fraction of runs in which that battery gave that
  reason, on a hold or a no-fire row}}`` (rows with no battery are left out),

only the reasons that occurred, most frequent first; ``no_fire_ci95`` and ``holds_ci95``
hold their Wilson intervals.  An event log without a ``reason`` column (or without hold
and no-fire rows) gives empty maps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shieldlab.io.results import FALSE_TRACK
from shieldlab.outcome.caps import cap_of, interceptor_caps
from shieldlab.stats import mean_interval, wilson_interval

#: Event kinds that carry a reason, and the per-threat keys they are summarised under.
REASON_KINDS = {"no-fire": "no_fire", "hold": "holds"}
#: The name an empty reason is summarised under.
UNSPECIFIED = "unspecified"

INTERVAL = "Wilson score, 95 %"
INTERVAL_MEANS = ("Student t on the per-run values (sample standard deviation), 95 %, cut to the range the "
                  "values can take (at 0; leakers and assets hit also at the number of threats, interceptors "
                  "at the most the doctrine and the rounds allow); where every run gave the same leakers, "
                  "assets hit or interceptors, the exact interval of a bounded mean (a share of runs up to the "
                  "Clopper-Pearson bound for 0 of n could differ, each at worst on a bound: 6 leakers of 6 in "
                  "50 runs, 5.57-6.00); another mean alike in every run: the point")

_ND = 6

#: Track-quality columns summarised per system (means over runs, Student t intervals).
TRACK_QUALITY_KEYS = ("gospa_m", "localisation_m", "missed_targets", "false_tracks", "position_rmse_m",
                      "velocity_rmse_ms", "mean_nees", "nees_over_99", "nees_updates", "threats_tracked",
                      "median_time_to_firm_track_s")
#: Track-quality keys of tracks from reports without labels (``tracking.association: gnn``).
TRACK_QUALITY_FILE_KEYS = ("track_breaks", "false_tracks_per_hour", "booster_tracks", "purity", "own_booster_share")
#: How the consistency columns are scored (both methods end with it).
_NEES_METHOD = ("; NEES over the 6 state numbers of each threat's track at the updates that took a detection (gnn: "
                "a report, of the confirmed tracks judged a warhead), per run its mean (mean_nees, 6 for a "
                "consistent filter), its share above chi-square(6)'s 99 % point 16.81 (nees_over_99, 0.01) and "
                "the updates scored (nees_updates); the summary holds their means over runs")
TRACK_QUALITY_METHOD = ("GOSPA (alpha 2, p 2, c 5 km) on a 4 s clock, mean per run; tracks present from "
                        "confirmation to their last detection or the threat's destruction" + _NEES_METHOD)


#: ``track_quality_method`` where the tracks come from reports without labels.
TRACK_QUALITY_FILE_METHOD = ("GOSPA (alpha 2, p 2, c 5 km) on a 4 s clock, mean per run, against every object in "
                             "the air (threats in flight and spent boosters present): missed_targets counts missed "
                             "objects, false_tracks false or surplus tracks; tracks present from confirmation to "
                             "their last report or their threat's destruction; a track's threat (for the RMSE, the "
                             "first firm track and the breaks) is the object behind most of its reports"
                             + _NEES_METHOD)


def tracking_settings(world) -> dict:
    """How the scenario tracked: filter and confirmation, and under association gnn the
    multi-target tracker's settings, the false alarms and each radar's mean false alarms per
    search frame."""
    from shieldlab.sensors.scans import radar_false_alarm_rate

    t = world.scenario.tracking
    out: dict[str, Any] = {"filter": t.filter, "init_hits": t.init_hits, "association": t.association}
    if t.association == "gnn":
        fa = world.scenario.sensing.false_alarms
        out.update(confirm_looks=t.confirm_looks, confirm_sigma_v_ms=t.confirm_sigma_v_ms, min_speed_ms=t.min_speed_ms,
                   delete_probability=t.delete_probability, delete_sigma_km=t.delete_sigma_km,
                   gate_probability=t.gate_probability, false_alarms=fa,
                   false_alarms_per_search_frame={s.radar.name: radar_false_alarm_rate(s.radar, fa)
                                                  for s in world.sensors})
    return out


def _r(x: float) -> float | None:
    x = float(x)
    return round(x, _ND) if np.isfinite(x) else None


def _ci(lo, hi) -> list:
    return [_r(lo), _r(hi)]


def _proportion(k: int, n: int) -> tuple[float | None, list]:
    return _r(k / n), _ci(*wilson_interval(k, n))


def _mean(x, upper: float | None = None) -> tuple[float | None, list]:
    """Mean and 95 % interval of per-run values that are never negative (counts, values,
    errors), the interval cut at 0 and at ``upper``."""
    m, lo, hi = mean_interval(np.asarray(x, float), lower=0.0, upper=upper)
    return _r(m), _ci(lo, hi)


def _distinct_runs(events: dict | None, group: tuple[str, ...]) -> dict[tuple, int]:
    """Over the hold and no-fire rows: ``{values of the ``group`` columns: distinct runs}``.

    ``group`` names columns among ``kind``, ``threat``, ``actor`` and ``reason`` (a missing
    ``reason`` column, or an empty reason, reads as :data:`UNSPECIFIED`).  Runs are counted
    once per group however many rows they have.
    """
    if not events or "kind" not in events or len(events["kind"]) == 0:
        return {}
    m = np.isin(np.asarray(events["kind"], dtype=object), list(REASON_KINDS))
    n = int(m.sum())
    if n == 0:
        return {}

    def column(name):
        if name == "reason" and events.get("reason") is None:
            return np.full(n, UNSPECIFIED, dtype=object)
        a = np.asarray(events[name], dtype=object)[m]
        a = np.array(["" if v is None else str(v) for v in a], dtype=object)
        if name == "reason":
            a[a == ""] = UNSPECIFIED
        return a

    codes = [np.unique(column(c).astype(str), return_inverse=True) for c in group]
    _, run = np.unique(np.asarray(events["run"], np.int64)[m], return_inverse=True)
    n_run = int(run.max()) + 1
    key = np.zeros(n, np.int64)
    for names, inv in codes:
        key = key * len(names) + inv.reshape(-1)
    groups, counts = np.unique(np.unique(key * n_run + run.reshape(-1)) // n_run, return_counts=True)
    out = {}
    for g, c in zip(groups.tolist(), counts.tolist()):
        parts = []
        for names, _ in reversed(codes):
            parts.append(str(names[g % len(names)]))
            g //= len(names)
        out[tuple(reversed(parts))] = int(c)
    return out


def _ordered(d: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))


def _track_quality(quality: dict[str, np.ndarray] | None) -> dict:
    """Per system: the mean over runs of each track-quality column, with its interval."""
    if not quality:
        return {}
    from shieldlab.outcome import file_quality
    out = {}
    for name in sorted(set(quality["system"])):
        m = quality["system"] == name
        row: dict[str, Any] = {}
        for key in TRACK_QUALITY_KEYS + tuple(k for k in TRACK_QUALITY_FILE_KEYS if k in quality):
            v = np.asarray(quality[key][m], float)
            v = v[np.isfinite(v)]
            mean, ci = _mean(v, upper=1.0 if key in file_quality.SHARES else None) if v.size else (None, [None, None])
            row[key], row[f"{key}_ci95"] = mean, ci
        row["runs"] = int(m.sum())
        out[name] = row
    return out


#: The outcome columns the summary reads.
OUTCOME_COLUMNS = ("run", "threat", "outcome", "interceptors_fired", "interceptors_at_booster", "aim_miss_km",
                   "asset_hit")
#: The event columns it reads, of the rows whose ``kind`` is one of :data:`EVENT_KINDS_READ`.
EVENT_COLUMNS = ("run", "threat", "kind", "actor", "reason", "rounds", "t_s")
#: The launches and their launch reports (when each satellite, and each link, brought one).
REPORT_KINDS = ("launch", "launch-report")
#: The event kinds it reads: the reasons', the salvos (those at false tracks count as fired),
#: and :data:`REPORT_KINDS`.
EVENT_KINDS_READ = (*REASON_KINDS, "fire", *REPORT_KINDS)


def event_kinds_read(world) -> tuple[str, ...]:
    """The event kinds a :class:`Summariser` of ``world`` needs: :data:`EVENT_KINDS_READ`, less
    :data:`REPORT_KINDS` where no early-warning satellite made a report."""
    if getattr(world, "early_warning", ()):
        return EVENT_KINDS_READ
    return tuple(k for k in EVENT_KINDS_READ if k not in REPORT_KINDS)


class Summariser:
    """``summary.json`` built a piece at a time, so that a long run's tables need not be held
    at once: the outcome, event and track-quality rows of disjoint sets of whole runs, added
    in run order (each with its own ``add_*``), then :meth:`summary`.

    What is kept between pieces is what the summary cannot add up as it goes: a few numbers
    per run (leakers, interceptors fired, assets hit, value lost; and per threat the
    interceptors fired at it and its aim miss), the counts of distinct runs per reason (runs
    are in one piece only, so those counts add up), and the track-quality rows (one per run
    and system).  The result is the same, to the bit, as from the whole tables at once.
    """

    def __init__(self, world):
        self.world = world
        self._names = [t.name for t in world.threats]
        self._by_kind: dict[tuple, int] = {}
        self._by_battery: dict[tuple, int] = {}
        self._status = {n: [0, 0, 0] for n in self._names}  # rows, intercepted, leaked
        self._fired: dict[str, list] = {n: [] for n in self._names}
        self._miss: dict[str, list] = {n: [] for n in self._names}
        self._per_run: dict[str, list] = {"run": [], "leak": [], "fired": [], "booster": [], "hit": [], "lost": []}
        self._at_booster: dict[str, list] = {n: [] for n in self._names}
        self._false_rounds: dict[int, int] = {}  # run -> interceptors fired at false tracks
        self._quality: list[dict] = []
        self._worth = {a.name: float(a.value) for a in getattr(world, "assets", ())}
        self._reports: dict[str, list] = {}  # satellite or link -> its launch reports' times after launch [s]

    def add_outcomes(self, outcomes: dict[str, np.ndarray]) -> None:
        """Outcome rows (:data:`OUTCOME_COLUMNS` at least) of whole runs: one row per run x
        threat, run-major, threats in ``world.threats`` order."""
        N = len(self._names)
        if N == 0:
            return
        for name in self._names:
            m = outcomes["threat"] == name
            status = outcomes["outcome"][m]
            row = self._status[name]
            row[0] += int(m.sum())
            row[1] += int(np.sum(status == "intercepted"))
            row[2] += int(np.sum(status == "leaked"))
            self._fired[name].append(outcomes["interceptors_fired"][m])
            self._at_booster[name].append(outcomes["interceptors_at_booster"][m])
            self._miss[name].append(outcomes["aim_miss_km"][m])
        hit_asset = outcomes["asset_hit"]
        self._per_run["leak"].append((outcomes["outcome"] == "leaked").reshape(-1, N).sum(axis=1))
        self._per_run["hit"].append(np.array([a is not None for a in hit_asset]).reshape(-1, N).sum(axis=1))
        self._per_run["run"].append(np.asarray(outcomes["run"]).reshape(-1, N)[:, 0])
        self._per_run["fired"].append(outcomes["interceptors_fired"].reshape(-1, N).sum(axis=1))
        self._per_run["booster"].append(outcomes["interceptors_at_booster"].reshape(-1, N).sum(axis=1))
        lost = np.array([self._worth.get(a, 0.0) if a is not None else 0.0 for a in hit_asset])
        self._per_run["lost"].append(lost.reshape(-1, N).sum(axis=1))

    def add_events(self, events: dict[str, np.ndarray] | None) -> None:
        """Event rows of whole runs (:data:`EVENT_COLUMNS`; rows of kinds not in
        :data:`EVENT_KINDS_READ` are skipped)."""
        if events and len(events.get("kind", ())) and "t_s" in events:
            self._add_reports(events)
        if events and len(events.get("kind", ())) and "rounds" in events:
            fire = (events["kind"] == "fire") & (events["threat"] == FALSE_TRACK)
            for r, n in zip(events["run"][fire].tolist(), events["rounds"][fire].tolist()):
                self._false_rounds[r] = self._false_rounds.get(r, 0) + int(n)
        for counts, group in ((self._by_kind, ("kind", "threat", "reason")),
                              (self._by_battery, ("threat", "actor", "reason"))):
            for key, n in _distinct_runs(events, group).items():
                counts[key] = counts.get(key, 0) + n

    def _add_reports(self, events: dict[str, np.ndarray]) -> None:
        """Each launch report's time after its threat's launch, by who brought it (the
        satellite, or the link that passed it on)."""
        kind = events["kind"]
        rep = np.flatnonzero(kind == "launch-report")
        if rep.size == 0:
            return
        launch = np.flatnonzero(kind == "launch")
        when = {(r, th): t for r, th, t in zip(events["run"][launch].tolist(), events["threat"][launch].tolist(),
                                               events["t_s"][launch].tolist())}
        for r, th, actor, t in zip(events["run"][rep].tolist(), events["threat"][rep].tolist(),
                                   events["actor"][rep].tolist(), events["t_s"][rep].tolist()):
            if (r, th) in when:
                self._reports.setdefault(actor, []).append(t - when[(r, th)])

    def add_quality(self, quality: dict[str, np.ndarray] | None) -> None:
        """Track-quality rows (one per run x system, :func:`shieldlab.outcome.track_quality.columns`)."""
        if quality:
            self._quality.append(quality)

    def summary(self, runs: int, seed: int) -> dict:
        """``summary.json`` of the ``runs`` runs added (module docstring)."""
        world = self.world
        by_kind, by_battery = self._by_kind, self._by_battery
        # the most a run can fire (outcome.caps): the bounds of the interceptor counts, so that a
        # count alike in every run gets the exact bound, not the point ("5.00 (5.00-5.00)")
        caps = interceptor_caps(world)
        per = []
        for t in world.threats:
            n, n_int, n_leak = self._status[t.name]
            p_int, p_int_ci = _proportion(n_int, n)
            p_leak, p_leak_ci = _proportion(n_leak, n)
            n_fired, n_booster = _joined(self._fired[t.name]), _joined(self._at_booster[t.name])
            fired, fired_ci = _mean(n_fired, upper=cap_of(n_fired, caps.per_threat, caps.per_run))
            at_booster, at_booster_ci = _mean(n_booster, upper=cap_of(n_booster, min(caps.at_boosters, caps.per_threat),
                                                                       caps.per_run))
            miss = _joined(self._miss[t.name], float)
            row = {
                "threat": t.name,
                "missile": t.missile.id,
                "p_intercept": p_int,
                "p_intercept_ci95": p_int_ci,
                "p_leak": p_leak,
                "p_leak_ci95": p_leak_ci,
                "mean_interceptors": fired,
                "mean_interceptors_ci95": fired_ci,
                # of those, at its spent booster (tracks of reports without labels)
                "mean_interceptors_at_booster": at_booster,
                "mean_interceptors_at_booster_ci95": at_booster_ci,
                # circular error probable of the unopposed flight about the aim point
                "cep_km": round(float(np.nanmedian(miss)), _ND) if np.isfinite(miss).any() else None,
            }
            for kind, key in REASON_KINDS.items():
                got = _ordered({r: c for (k, th, r), c in by_kind.items() if k == kind and th == t.name})
                row[key] = {r: _r(c / runs) for r, c in got}
                row[f"{key}_ci95"] = {r: _ci(*wilson_interval(c, runs)) for r, c in got}
            bats: dict[str, dict[str, int]] = {}
            for (th, actor, r), c in by_battery.items():
                if th == t.name and actor != "":
                    bats.setdefault(actor, {})[r] = c
            row["by_battery"] = {b: {r: _r(c / runs) for r, c in _ordered(bats[b])} for b in sorted(bats)}
            per.append(row)
        N = len(world.threats)
        per_run = {k: _joined(v) if N else np.zeros(runs, int) for k, v in self._per_run.items()}
        if per_run["leak"].size != runs:  # a stored chunk's table gone missing, say
            raise ValueError(f"the outcomes added hold {per_run['leak'].size} runs, not {runs}")
        leakers, leakers_ci = _mean(per_run["leak"], upper=N)
        # every interceptor fired: at threats and their boosters, and at false tracks
        false = np.array([self._false_rounds.get(r, 0) for r in per_run["run"].tolist()], int) if N \
            else np.zeros(runs, int)
        every = per_run["fired"] + false
        fired_all, fired_all_ci = _mean(every, upper=cap_of(every, caps.fired, caps.per_run))
        at_boosters, at_boosters_ci = _mean(per_run["booster"], upper=cap_of(per_run["booster"], caps.at_boosters,
                                                                             caps.per_run))
        at_false, at_false_ci = _mean(false, upper=cap_of(false, caps.at_false_tracks, caps.per_run))
        hits, hits_ci = _mean(per_run["hit"], upper=N)
        # each warhead hits one asset at most: a run loses at most N times the dearest asset's value
        value_lost, value_lost_ci = _mean(per_run["lost"] if N else np.zeros(runs),
                                          upper=N * max(self._worth.values(), default=0.0))
        p_none, p_none_ci = _proportion(int((per_run["leak"] == 0).sum()), runs)
        quality = _concat(self._quality) if self._quality else None
        return {
            "scenario": world.scenario.name,
            "runs": runs,
            "seed": seed,
            "architecture": getattr(world, "architecture", "integrated"),
            "nodes": [n.name for n in getattr(world, "nodes", ())],
            # what each link carries, and whether a launch report alerts batteries (runs that differ
            # only in these are told apart)
            "links": [{"link": lk.name, "tracks": bool(getattr(lk, "tracks", True)),
                       "launch_reports": bool(getattr(lk, "launch_reports", True))}
                      for lk in getattr(world, "links", ())],
            "launch_report_alert": bool(getattr(world.scenario.doctrine, "launch_report_alert", True)),
            "tracking": tracking_settings(world),
            # the doctrine and the sensing the run used, every field (defaults filled in): a
            # reader had to read them back from the events and the report
            "doctrine": world.scenario.doctrine.model_dump(mode="json"),
            "sensing": world.scenario.sensing.model_dump(mode="json"),
            "threats": len(world.threats),
            "interval": INTERVAL,
            "interval_means": INTERVAL_MEANS,
            "mean_leakers": leakers,
            "mean_leakers_ci95": leakers_ci,
            "mean_interceptors_fired": fired_all,
            "mean_interceptors_fired_ci95": fired_all_ci,
            "mean_interceptors_at_boosters": at_boosters,
            "mean_interceptors_at_boosters_ci95": at_boosters_ci,
            "mean_interceptors_at_false_tracks": at_false,
            "mean_interceptors_at_false_tracks_ci95": at_false_ci,
            "p_no_leaker": p_none,
            "p_no_leaker_ci95": p_none_ci,
            "mean_assets_hit": hits,
            "mean_assets_hit_ci95": hits_ci,
            "mean_value_lost": value_lost,
            "mean_value_lost_ci95": value_lost_ci,
            "per_threat": per,
            "launch_reports": _launch_reports_of(world, self._reports, runs),
            "track_quality": _track_quality(quality),
            "track_quality_method": (TRACK_QUALITY_FILE_METHOD if world.scenario.tracking.association == "gnn"
                                     else TRACK_QUALITY_METHOD),
        }


def _launch_reports_of(world, reports: dict[str, list], runs: int) -> list[dict]:
    """Per early-warning satellite, then per link that passed reports on: the share of the
    launches (runs x threats) it brought a report of within the simulated time, and when
    (median, 10th and 90th percentiles, s after launch)."""
    launches = runs * len(world.threats)
    sources = [(s.name, "satellite") for s in getattr(world, "early_warning", ())]
    sources += [(lk.name, "link") for lk in getattr(world, "links", ()) if lk.name in reports]
    out = []
    for name, via in sources:
        t = np.asarray(reports.get(name, []), float)
        row = {"source": name, "via": via, "share_of_launches": _r(t.size / launches) if launches else None}
        row.update({k: (round(float(np.percentile(t, q)), 1) if t.size else None)
                    for k, q in (("median_s_after_launch", 50), ("p10_s_after_launch", 10),
                                 ("p90_s_after_launch", 90))})
        out.append(row)
    return out


def _joined(parts: list, dtype=None) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype or int)


def _concat(parts: list[dict]) -> dict:
    return parts[0] if len(parts) == 1 else {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def summarise(world, outcomes: dict[str, np.ndarray], events: dict[str, np.ndarray] | None, runs: int,
              seed: int, track_quality: dict[str, np.ndarray] | None = None) -> dict:
    """``summary.json`` of ``runs`` runs of ``world`` (module docstring), from whole tables.

    ``outcomes``: the outcome columns (one row per run x threat, run-major, threats in
    ``world.threats`` order); ``events``: the event log columns (``run``, ``threat``,
    ``kind``, ``actor`` and, when fire control writes it, ``reason``); ``track_quality``:
    the track-quality columns (one row per run x system,
    :func:`shieldlab.outcome.track_quality.columns`).  :class:`Summariser` takes them a
    piece at a time.
    """
    s = Summariser(world)
    s.add_outcomes(outcomes)
    s.add_events(events)
    s.add_quality(track_quality)
    return s.summary(runs, seed)
