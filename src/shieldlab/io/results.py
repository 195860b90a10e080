"""Results of a Monte Carlo run as tables: outcomes (one row per run x threat) and
the event log.  Units appear in column names (SI is converted here, at the edge:
degrees, km)."""

from __future__ import annotations

import numpy as np

from shieldlab import earth
from shieldlab.c2.records import REASONS

EVENT_KINDS = ("launch", "burnout", "launch-report", "detect", "track", "hold", "fire", "intercept", "miss", "no-fire",
               "impact")


def _file_track(file, number, i: int) -> tuple[int, str]:
    """Row ``i``'s track as its track file numbers it, ``(number, file)``, from a record's
    ``file`` and ``file_track``; :data:`_NO_TRACK` where the record has none, or the row no track."""
    if file is None or number is None or file[i] is None:
        return _NO_TRACK
    return int(number[i]), str(file[i])


def _track_end(chunk, trk: tuple[int, str], c: int) -> float | None:
    """The last update time [s] at which run ``c`` of the chunk held track ``trk`` (its number,
    its track file's name); None where no such file or track is found."""
    tf = chunk.track_files.get(trk[1], (None,))[0]
    if tf is None:
        return None
    held = (np.asarray(tf.track_id[c]) == trk[0]).any(axis=0)  # (K,) the times some slot held it
    return float(tf.t[np.flatnonzero(held)[-1]]) if held.any() else None


def _geo(p):
    lat, lon, alt = earth.ecef_to_geodetic(np.where(np.isfinite(p), p, earth.WGS84_A))
    bad = ~np.isfinite(p).all(axis=-1)
    return (np.where(bad, np.nan, np.degrees(lat)), np.where(bad, np.nan, np.degrees(lon)),
            np.where(bad, np.nan, alt / 1e3))


def first_detection(d) -> np.ndarray:
    """Time of a sensor's first report of each (run, threat) [s]; ``inf`` if never."""
    return np.where(d.detected, d.t, np.inf).min(axis=-1)


def before_destroyed(chunk, times) -> np.ndarray:
    """``times`` (C, N) [s] of the chunk's threats where they come no later than the threat's
    destruction, ``inf`` after it.  The sensors and trackers ran before the fight, on the
    whole flights: a first report or a track confirmed after the intercept is of nothing."""
    o = chunk.outcomes
    gone = np.where(o.intercepted, o.intercept_time, np.inf)
    return np.where(np.asarray(times, float) <= gone, times, np.inf)


def outcome_columns(world, chunk) -> dict[str, np.ndarray]:
    """One row per (run, threat) of a chunk."""
    o = chunk.outcomes
    C, N = o.intercepted.shape
    run = np.repeat(np.arange(chunk.first_run, chunk.first_run + C), N)
    names = np.array([t.name for t in world.threats], dtype=object)
    missile = np.array([t.missile.id for t in world.threats], dtype=object)
    bnames = np.array([b.name for b in world.batteries] + [None], dtype=object)
    anames = np.array([a.name for a in world.assets] + [None], dtype=object)
    ilat, ilon, ialt = _geo(o.intercept_pos)
    plat, plon, _ = _geo(o.impact_pos)
    status = np.where(o.intercepted, "intercepted", np.where(o.leaked, "leaked", "airborne")).astype(object)
    first_det = np.full((C, N), np.inf)
    for d in chunk.detections:
        first_det = np.minimum(first_det, before_destroyed(chunk, first_detection(d)))
    # where the warhead would have landed, intercepted or not: the threat's accuracy
    blat, blon, _ = _geo(np.broadcast_to(chunk.truth.impact_pos, (C, N, 3)))
    aim_lat = np.array([t.aim.lat_deg for t in world.threats])
    aim_lon = np.array([t.aim.lon_deg for t in world.threats])
    aim_miss = earth.great_circle_distance(np.radians(blat), np.radians(blon), np.radians(aim_lat),
                                           np.radians(aim_lon)) / 1e3
    track_t = np.full((C, N), np.inf)
    for system in chunk.tracks:
        track_t = np.minimum(track_t, before_destroyed(chunk, first_track(chunk, system)))

    def f(a):
        a = np.asarray(a, float).reshape(-1)
        return np.where(np.isfinite(a), a, np.nan)

    return {
        "run": run.astype(np.int32),
        "threat": np.tile(names, C),
        "missile": np.tile(missile, C),
        # (the flights' own: a salvo's members apart; with intercept_time_s or impact_time_s a
        # time of flight without a join to the events)
        "launch_time_s": f(np.broadcast_to(chunk.truth.launch_time, (C, N))),
        "outcome": status.reshape(-1),
        "intercepted_by": bnames[o.battery].reshape(-1),
        "intercept_time_s": f(o.intercept_time),
        "intercept_lat_deg": f(ilat), "intercept_lon_deg": f(ilon), "intercept_alt_km": f(ialt),
        "engagements": o.engagements.reshape(-1).astype(np.int32),
        "interceptors_fired": o.interceptors.reshape(-1).astype(np.int32),
        "interceptors_at_booster": o.interceptors_at_booster.reshape(-1).astype(np.int32),
        "impact_time_s": f(o.impact_time),
        "impact_lat_deg": f(plat), "impact_lon_deg": f(plon),
        "asset_hit": anames[o.asset_hit].reshape(-1),
        "aim_miss_km": f(aim_miss),
        "first_detection_s": f(first_det),
        "track_confirmed_s": f(track_t),
    }


_NO_GEOM = (np.nan, np.nan, np.nan, np.nan)
#: The track columns of an event row that is no salvo at a track of reports without labels.
_NO_TRACK = (-1, "")
#: The threat the event log names for a salvo at a false track (no threat's).
FALSE_TRACK = "(false track)"
#: The detail of a ``too-late`` row where a salvo had been fired at the threat before it (the
#: look at it left no time for another), and where none had (its track or alert came late).
_TOO_LATE_AFTER_SHOT = ("the fly-out reaches the path, but only launching before the battery is ready (a salvo had "
                        "gone at it: the look at its result, or the battery's own readiness, left no time for "
                        "another)")
_TOO_LATE_NO_SHOT = ("the fly-out reaches the path, but only launching before the battery is ready (no salvo had "
                     "gone at it: its track or alert came too late for the battery's reaction)")
#: Plain words for the decision log's reason codes (the ``reason`` column keeps the code).
REASON_TEXT = {
    "no-track": "no fire-control track",
    "not-threatening": "not judged a threat to a defended asset",
    "out-of-envelope": "no point of the predicted path inside the envelope and the fly-out reach",
    "too-late": "the fly-out reaches the path, but only launching before the battery is ready (its track "
                "or alert came too late for its reaction; or a shot's look left no time for another)",
    "judged-late": "judged a threat only when no window was left: at earlier looks, while the fly-out had a "
                   "window, the track did not show it hitting a defended asset (doctrine threat_probability)",
    "judged-booster": "its warhead's track was confirmed, but the radars' calls judged it a spent booster",
    "held-last-chance": "a track that may still be under thrust (too young to show whether it thrusts, or its "
                        "thrust measured): holding fire to the last chance",
    "track-quality": "launch gate: intercept point too uncertain for the divert",
    "magazine-empty": "no rounds above the reserve",
    "no-battery": "no battery can take it",
    "threat-gone": "the threat landed or the time ran out before the shot",
    # (a no-fire row is of a threat that was not destroyed: this judgement was wrong)
    "assessed-killed": "the look after the shot saw no new detection on its track: judged destroyed, wrongly "
                       "(it flew on)",
    "outside-sector": "its predicted path does not cross this node's sector",
    "engaged-elsewhere": "another node reported engaging it",
    "same-object": "another track this node has a salvo at is the same object by their states and "
                   "covariances, and no less certain: waiting for that shot's look",
    "kept-for-higher-value": "the last rounds are kept for threats with more value at stake",
}


def first_track(chunk, system: str) -> np.ndarray:
    """(C, N) when ``system`` first held a confirmed track of each threat [s] (``inf``: never):
    its track's confirmation, or where its tracks came from reports without labels, the
    first time a track of the threat (lineage) is firm and has taken one of its reports."""
    return first_track_numbered(chunk, system)[0]


def first_track_numbered(chunk, system: str) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`first_track`, and where ``system``'s tracks are a track file of reports without
    labels, the number there of that first track of each threat ((C, N), -1 where none; the
    numbers ``shieldlab tracks`` lists); None for tracks by label."""
    trk = chunk.tracks[system]
    tg = chunk.targets.get(system)
    if tg is None:
        return trk.confirm_time, None
    C, N = chunk.outcomes.intercepted.shape
    own = _report_file(chunk, system)
    if own is not None:
        tf, reports, origin = own
        return _first_firm_track_of_reports(tf, reports, C, N, origin)
    return earliest_by_object(trk.confirm_time, tg, N), None


def earliest_by_object(times, obj, N: int) -> np.ndarray:
    """(C, N): per run and threat the earliest of ``times`` (C, T) [s] over the tracks whose
    object ``obj`` (C, T) is that threat (a booster's ``N + n``, a false alarm's -1 left out);
    ``inf`` where none."""
    first = np.full((obj.shape[0], N), np.inf)
    c_, t_ = np.nonzero((obj >= 0) & (obj < N))
    np.minimum.at(first, (c_, obj[c_, t_]), np.asarray(times)[c_, t_])
    return first


def _report_file(chunk, system: str):
    """``(track file, reports, origin)`` of ``system``'s own tracks of reports without labels,
    or None: tracks by label, or a picture of tracks received (no file of its own)."""
    if chunk.targets.get(system) is None or system not in chunk.files:
        return None
    tf, reports = chunk.files[system]
    return tf, reports, chunk.origins.get(system)


def _first_firm_track_of_reports(tf, reports, C: int, N: int, origin=None, held=None) -> tuple[np.ndarray, np.ndarray]:
    """(C, N) from a track file of reports without labels: per threat, over the tracks its
    reports label (lineage, :func:`shieldlab.outcome.file_quality.label_of`), the earliest
    time at which such a track is firm for fire control (confirmed, judged a warhead) and has
    taken a report of the threat, and that track's number (-1: none; of two at one time, the
    lower).  A track may be confirmed on the threat's spent booster (it flies beside the
    warhead and may be reported first) and take the warhead's reports later: it is a track
    of the threat from then on, not from its confirmation."""
    from shieldlab.tracking.mtt import CONFIRMED

    held = _labelled_updates(tf, reports, origin) if held is None else held
    if not held:
        return np.full((C, N), np.inf), np.full((C, N), -1, np.int64)
    (cc, ss, kk), uniq, inv, span, label, origin = held
    truth = origin[cc, ss, kk]
    t = tf.t[kk]
    firm = tf.status[cc, ss, kk] == CONFIRMED
    if tf.warhead is not None:
        firm &= tf.warhead[cc, ss, kk]
    firm_at = np.full(uniq.size, np.inf)
    np.minimum.at(firm_at, inv[firm], t[firm])
    own = truth == label[inv]
    taken_at = np.full(uniq.size, np.inf)
    np.minimum.at(taken_at, inv[own], t[own])
    when = np.maximum(firm_at, taken_at)
    return _earliest_per_threat(uniq, span, label, when, (label >= 0) & (label < N), C, N)


def _earliest_per_threat(uniq, span: int, threat, when, ok, C: int, N: int) -> tuple[np.ndarray, np.ndarray]:
    """Of the tracks ``uniq`` (keys ``run * span + number``) where ``ok``, per (run, threat
    ``threat``) the earliest finite ``when`` [s] and that track's number (the lower of equals):
    ``(first (C, N), inf where none; number (C, N), -1 where none)``."""
    first = np.full((C, N), np.inf)
    number = np.full((C, N), -1, np.int64)
    ok = np.flatnonzero(ok & np.isfinite(when))
    if ok.size:
        run_, lab_, tid_, w_ = (uniq // span)[ok], threat[ok], (uniq % span)[ok], when[ok]
        order = np.lexsort((tid_, w_, lab_, run_))
        group = (run_ * N + lab_)[order]
        head = order[np.r_[True, group[1:] != group[:-1]]]
        first[run_[head], lab_[head]] = w_[head]
        number[run_[head], lab_[head]] = tid_[head]
    return first, number


def _labelled_updates(tf, reports, origin=None):
    """The held updates of a track file of reports without labels, ``((cc, ss, kk), uniq, inv,
    span, label, origin)``: their indices, the (run, track number) keys ``run * span + number``
    (``uniq``; ``inv`` maps each update to its key) and each track's label (lineage:
    :func:`shieldlab.outcome.file_quality.label_of`); ``()`` where no track was held."""
    from shieldlab.outcome.file_quality import label_of, report_origin

    cc, ss, kk = np.nonzero(tf.track_id >= 0)
    if cc.size == 0:
        return ()
    tid = tf.track_id[cc, ss, kk]
    span = int(tid.max()) + 1
    uniq, inv = np.unique(cc * span + tid, return_inverse=True)
    # the object behind each update's report (-2: no report), where the chunk has not made it
    origin = report_origin(tf, reports) if origin is None else origin
    label = label_of(tf, reports, uniq // span, uniq % span, origin)  # per track
    return (cc, ss, kk), uniq, inv, span, label, origin


def first_booster_track(tf, reports, C: int, N: int, origin=None, held=None) -> tuple[np.ndarray, np.ndarray]:
    """(C, N) per threat, from a track file of reports without labels: when a track whose
    reports were mostly its spent booster's was first confirmed [s] (``inf``: never), and
    that track's number (-1: none).  A threat's first firm track may come well after its
    detection because the first track confirmed on it followed the booster."""
    from shieldlab.tracking.mtt import CONFIRMED

    held = _labelled_updates(tf, reports, origin) if held is None else held
    if not held:
        return np.full((C, N), np.inf), np.full((C, N), -1, np.int64)
    (cc, ss, kk), uniq, inv, span, label, _ = held
    conf = tf.status[cc, ss, kk] == CONFIRMED
    at = np.full(uniq.size, np.inf)
    np.minimum.at(at, inv[conf], tf.t[kk][conf])
    return _earliest_per_threat(uniq, span, label - N, at, (label >= N) & (label < 2 * N), C, N)


def event_columns(world, chunk) -> dict[str, np.ndarray]:
    """The event log rows of a chunk (run, time, threat, kind, actor, detail).

    Engagement rows (fire, intercept, miss) also carry the planned end-game geometry:
    ``closing_speed_kms``, ``crossing_angle_deg`` and the kill probability ``pk`` of one
    interceptor (see :mod:`shieldlab.engage.records`), and ``pip_sigma_m``, the 1-sigma
    position uncertainty of the predicted intercept point when the salvo was committed
    (the launch gate's figure); ``nan`` on the other rows.  ``hold`` and ``no-fire`` rows
    come from fire control's decision log (:class:`shieldlab.engage.records.Decisions`):
    their ``reason`` column holds the code (:data:`shieldlab.engage.records.REASONS`),
    ``""`` on every other row, and their detail says it in words.  Where fire control engaged
    tracks of reports without labels, a salvo's rows (fire, intercept, miss) carry the track
    it was planned on: ``picture`` (its track file: the picture's name, or ``radar NAME``) and
    ``track`` (its number there, as :mod:`shieldlab.outcome.track_table` numbers it); ``-1``
    and ``""`` on every other row; a ``hold`` or ``no-fire`` row there carries the track it is
    of (fire control gives its reasons per track), ``-1`` and ``""`` for a threat no track
    followed; a ``track`` row (the picture's, or a battery's own radar's file's, first firm
    track of the threat) that track.
    """
    C, N = chunk.outcomes.intercepted.shape
    tr = chunk.truth
    names = [t.name for t in world.threats]
    rows: list[tuple] = []
    cc, nn = (g.reshape(-1) for g in np.meshgrid(np.arange(C), np.arange(N), indexing="ij"))

    def add(times, kind, actor, detail="", numbers=None):
        t = np.asarray(times, float).reshape(-1)
        num = None if numbers is None else np.asarray(numbers).reshape(-1)
        said = np.broadcast_to(np.asarray(detail, dtype=object), (C, N)).reshape(-1)  # one, or one per row
        for i, (c, n, tt) in enumerate(zip(cc, nn, t)):
            if np.isfinite(tt):
                trk = _NO_TRACK if num is None or num[i] < 0 else (int(num[i]), actor)
                rows.append((c, tt, n, kind, actor if isinstance(actor, str) else actor[n], said[i], *_NO_GEOM, "",
                             0, *trk))

    def firm_and_booster(tf, reports, origin):
        """The first firm track of each threat in a track file of reports without labels, its
        number, and per (run, threat), where a track that followed its spent booster was
        confirmed before it, a detail that says so (the gap from detection to track otherwise
        unexplained)."""
        held = _labelled_updates(tf, reports, origin)  # (once for both)
        t_first, numbers = _first_firm_track_of_reports(tf, reports, C, N, held=held)
        t_b, n_b = first_booster_track(tf, reports, C, N, held=held)
        said = [f"earlier, track {k} (confirmed at {tb:.1f} s) followed its spent booster"
                for k, tb in zip(n_b.reshape(-1).tolist(), t_b.reshape(-1).tolist(), strict=True)]
        return t_first, numbers, np.where(t_b < t_first, np.array(said, dtype=object).reshape(C, N), "")

    add(tr.launch_time, "launch", [t.missile.id for t in world.threats])
    add(tr.burnout_time, "burnout", [t.missile.id for t in world.threats])
    for d in chunk.detections:  # (nothing is detected, or tracked, after its destruction)
        add(before_destroyed(chunk, first_detection(d)), "detect", d.sensor)
    for rep in chunk.launch_reports:  # those issued within the simulated time
        add(np.where(rep.report_time <= tr.t[-1], rep.report_time, np.inf), "launch-report", rep.sensor)
    for link, t in chunk.warnings.passed.items():  # passed on to another node over a link
        add(np.where(t <= tr.t[-1], t, np.inf), "launch-report", link, "passed on over the link")
    for system in chunk.tracks:  # (tracks of reports without labels: which track, by its file's number)
        own = _report_file(chunk, system)
        if own is not None:
            t_first, numbers, detail = firm_and_booster(own[0], own[1], own[2])
        else:  # (by labels, or a picture of tracks received: first_track_numbered's other cases)
            (t_first, numbers), detail = first_track_numbered(chunk, system), ""
        add(before_destroyed(chunk, t_first), "track", system, detail, numbers=numbers)
    for key in sorted(chunk.own_files):  # a battery's own radar's track file ("radar NAME"), likewise
        tf, reports = chunk.own_files[key]
        t_first, numbers, detail = firm_and_booster(tf, reports, None)
        add(before_destroyed(chunk, t_first), "track", key, detail, numbers=numbers)
    e = chunk.engagements
    # where fire control engaged tracks of reports without labels, a salvo may go at a spent
    # booster (named by its threat) or a false track (named by the last entry of names)
    names = names + [FALSE_TRACK]
    owner = e.owner(N)
    o_ = chunk.outcomes
    landing = np.broadcast_to(np.where(np.isfinite(tr.impact_time), tr.impact_time, np.inf), (C, N))
    for i in range(e.run.size):
        bat = world.batteries[e.battery[i]]
        geom = (e.closing_speed[i] / 1e3, np.degrees(e.crossing_angle[i]), e.pk[i], e.pip_sigma[i])
        on = " on a boost-phase track" if e.boost_track[i] else ""
        at = "" if e.threat[i] >= 0 else (" at its spent booster" if owner[i] >= 0 else " at a false track")
        # tracks of reports without labels: the track fire control engaged, by its number in its
        # track file (as `shieldlab tracks --out` lists it)
        trk = _file_track(e.file, e.file_track, i)
        num = "" if e.track is None else (f", track {e.track[i]}" if trk == _NO_TRACK
                                          else f", track {trk[0]} of {trk[1]}")
        # when fire control decided it: two nodes' shots at one threat decided at one tick (before
        # either heard of the other's) launch a reaction time apart, and only this says so
        rows.append((e.run[i], e.launch_time[i], owner[i], "fire", bat.name,
                     f"{e.rounds[i]} x {bat.spec.id}{on}{at}{num}; decided at {e.decision_time[i]:.1f} s",
                     *geom, "", e.rounds[i], *trk))
        err, short = e.prediction_error[i], e.reach_shortfall[i]
        if e.threat[i] < 0:
            detail = "no warhead there" + at.replace(" at", ":", 1)
        elif not np.isfinite(err) or not np.isfinite(short):
            # gone (destroyed before, or landed), or still flying and the guidance track did
            # not hold it (a launch on remote whose own radar never saw the threat)
            t_i, ci, ni = e.intercept_time[i], e.run[i], e.threat[i]
            gone = (o_.intercepted[ci, ni] and o_.intercept_time[ci, ni] <= t_i) or not (landing[ci, ni] > t_i)
            detail = "target gone" if gone else \
                "no guidance: its guidance track did not hold the threat by the handover"
        elif short > bat.spec.divert_m:
            detail = f"out of reach: threat {short / 1e3:.1f} km from the planned point"
        elif err > bat.spec.divert_m:
            detail = f"handover error {err:.0f} m, beyond the {bat.spec.divert_m:.0f} m divert"
        elif e.killed[i]:
            detail = f"handover error {err:.0f} m"
        else:
            detail = f"handover error {err:.0f} m; the kill draw failed (pk {e.pk[i]:.2f} x {e.rounds[i]})"
        rows.append((e.run[i], e.intercept_time[i], owner[i], "intercept" if e.killed[i] else "miss", bat.name,
                     detail, *geom, "", 0, *trk))
    dec = chunk.decisions
    # the first salvo's launch at each (run, threat): a too-late after it may be its look's doing
    shot_at: dict[tuple[int, int], float] = {}
    for c_, n_, t_ in zip(e.run.tolist(), owner.tolist(), e.launch_time.tolist()):
        if n_ >= 0:
            shot_at[(c_, n_)] = min(t_, shot_at.get((c_, n_), np.inf))
    for i in range(dec.run.size):
        code = REASONS[dec.reason[i]]
        actor = world.batteries[dec.battery[i]].name if dec.battery[i] >= 0 else ""
        # tracks of reports without labels: the reasons are per track, so a threat may have a row per track
        trk = _file_track(dec.file, dec.file_track, i)
        on = "" if trk == _NO_TRACK else f" (track {trk[0]} of {trk[1]})"
        if code == "assessed-killed" and trk != _NO_TRACK:
            # the look found no detection because the tracker had already dropped the track (a
            # new track of the same threat is another object to fire control): said, or the row
            # read as a look at a track that no longer was
            end = _track_end(chunk, trk, int(dec.run[i]))
            if end is not None and end < dec.time[i]:
                on += f"; the tracker had dropped that track at {end:.0f} s, before the look"
        text = REASON_TEXT[code]
        if code == "too-late":  # which of its two causes: a salvo at the threat before, or none
            text = _TOO_LATE_AFTER_SHOT if shot_at.get((int(dec.run[i]), int(dec.threat[i])), np.inf) <= dec.time[i] \
                else _TOO_LATE_NO_SHOT
        rows.append((dec.run[i], dec.time[i], dec.threat[i], "hold" if dec.kind[i] == 0 else "no-fire", actor,
                     text + on, *_NO_GEOM, code, 0, *trk))
    o = chunk.outcomes
    anames = [a.name for a in world.assets]
    for c, n in zip(*np.nonzero(o.leaked)):
        rows.append((c, o.impact_time[c, n], n, "impact", anames[o.asset_hit[c, n]] if o.asset_hit[c, n] >= 0 else "",
                     "", *_NO_GEOM, "", 0, *_NO_TRACK))
    order = {k: i for i, k in enumerate(EVENT_KINDS)}
    rows.sort(key=lambda r: (r[0], r[1], order[r[3]], r[2], r[4]))
    return {
        "run": np.array([r[0] + chunk.first_run for r in rows], np.int32),
        "t_s": np.array([r[1] for r in rows], float),
        "threat": np.array([names[r[2]] for r in rows], dtype=object),
        "kind": np.array([r[3] for r in rows], dtype=object),
        "actor": np.array([r[4] for r in rows], dtype=object),
        "detail": np.array([r[5] for r in rows], dtype=object),
        "closing_speed_kms": np.array([r[6] for r in rows], float),
        "crossing_angle_deg": np.array([r[7] for r in rows], float),
        "pk": np.array([r[8] for r in rows], float),
        "pip_sigma_m": np.array([r[9] for r in rows], float),
        "reason": np.array([r[10] for r in rows], dtype=object),
        "rounds": np.array([r[11] for r in rows], np.int32),  # interceptors of a fire row; 0 otherwise
        # a salvo's track of reports without labels, as `shieldlab tracks` numbers it; -1 and "" otherwise
        "track": np.array([r[12] for r in rows], np.int32),
        "picture": np.array([r[13] for r in rows], dtype=object),
    }


def concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
