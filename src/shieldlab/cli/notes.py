"""The notes printed under a scenario's results: what its settings leave out or mean (``validate``,
``run``, ``compare``)."""

from __future__ import annotations

from shieldlab.cli.common import _setting
from shieldlab.errors import InputError
from shieldlab.scenario.notes import MTT_ONLY, _air_notes


def _unread_settings_note(settings: list, only: str | None) -> str | None:
    """A note on ``--set`` fields of the ballistic kill chain (doctrine, sensing, tracking but
    tracking.init_hits, which the air picture confirms its tracks on) given to a scenario of
    ``only`` (flights, shelling: :func:`_without_threats`), which never reads them."""
    unread = [st.field for st in settings if st.path[0] in ("doctrine", "sensing")
              or (st.path[0] == "tracking" and st.path[1:2] != ("init_hits",))]
    if not (only and unread):
        return None
    return (f"note: --set {', '.join(unread)}: this scenario has {only} only, and the doctrine, sensing and "
            "tracking fields are the ballistic kill chain's (but tracking.init_hits, which the air picture "
            "reads): the results are as without it")


def _without_threats(scenario: str, settings: list | None = None) -> str | None:
    """What a scenario without ballistic threats holds ("flights", "shelling" or "flights and
    shelling"); None where it has threats (or does not load): the validated file (``settings``
    applied), not yet compiled (its errors, and the compilation, wait for the full load)."""
    from shieldlab.engine import sweep
    from shieldlab.scenario import load
    from shieldlab.scenario.loader import parse

    try:
        if settings:
            source, raw = sweep.load(scenario)
            scn = parse(sweep.applied(raw, settings, [st.values[0] for st in settings]), source)
        else:
            scn = load(scenario)
    except InputError:
        return None
    if scn.threats:
        return None
    parts = [name for name, has in (("flights", bool(scn.flights)), ("shelling", scn.shelling is not None)) if has]
    return " and ".join(parts) or None


def _rate(v: float) -> str:
    """A mean number of false alarms per frame as the tables show it: three figures, whole
    numbers from 1,000 up (not 1e+03)."""
    return f"{v:,.0f}" if v >= 1000 else f"{v:.3g}"


def _false_alarm_text(setting, rates: dict[str, float]) -> str:
    """The false-alarm setting and each radar's mean false alarms per search frame, in one
    line (tracks, validate and run with association gnn)."""
    return f"false alarms ({_setting(setting)}) per search frame: " + ", ".join(f"{k} {_rate(v)}"
                                                                                for k, v in rates.items())


def _management_text(tr: dict) -> str:
    """The multi-target tracker's management settings (``tracking`` of a summary, or
    :func:`~shieldlab.io.summary.tracking_settings`) in one line, for the tables' footers."""
    reports = "report" if tr["init_hits"] == 1 else "reports"
    looks = "look" if tr["confirm_looks"] == 1 else "looks"
    slow = tr.get("min_speed_ms")  # (None: a summary written before the setting)
    speed = ("" if slow is None else f"; a one-point track's second report at least {slow:g} m/s away, and a track "
             f"confirmed only at {slow:g} m/s or faster" if slow > 0
             else "; a one-point track's second report at any distance (no minimum speed)")
    return (f"track management: confirmed on {tr['init_hits']} {reports} in {tr['confirm_looks']} {looks} once the "
            f"velocity is known to {tr['confirm_sigma_v_ms']:g} m/s{speed}; deleted when its silent looks had less "
            f"than {tr['delete_probability']:g} chance were the object there or, confirmed, its position RMS radius "
            f"passes {tr['delete_sigma_km']:g} km; gate {tr['gate_probability']:g} (tracking.init_hits, "
            f"confirm_looks, confirm_sigma_v_ms,{'' if slow is None else ' min_speed_ms,'} delete_probability, "
            "delete_sigma_km, gate_probability)")


def _unread_sweep_note(scenario: str, parsed: list) -> str | None:
    """A note where a sweep varies the multi-target tracker's settings (:data:`MTT_ONLY`) and
    every point tracks by labels (the scenario's association, not swept to gnn): ``run`` reads
    none of them, so the points come out the same."""
    from shieldlab.engine.sweep import load

    swept = [p.field for p in parsed if p.field in MTT_ONLY]
    if not swept:
        return None
    _, raw = load(scenario)
    tracking = raw.get("tracking")
    base = tracking.get("association", "labels") if isinstance(tracking, dict) else "labels"
    assoc = next((p.values for p in parsed if p.field == "tracking.association"), (base,))
    if "gnn" in assoc:
        return None
    return (f"note: --set {', '.join(swept)}: tracking.association is labels at every point, and the kill chain "
            f"tracks each threat by its labelled reports without reading {'it' if len(swept) == 1 else 'them'}: "
            "the points will come out the same (set tracking.association: gnn in the scenario, or sweep it)")


def _air_and_shelling_notes(world, info: dict) -> list[str]:
    """Notes on an air picture or a shelling that validates but that nothing can see: the
    world's own (:func:`shieldlab.scenario.notes._air_notes`), and a fire mission no
    weapon-locating radar reaches (``info``: validate's checks)."""
    from shieldlab.engine.shelling import in_view

    notes = _air_notes(world)
    for m in (info.get("shelling") or {}).get("missions", []):
        if m["radars"] and not any(in_view(r) for r in m["radars"]):
            notes.append(f"note: no weapon-locating radar reaches fire mission {m['mission']}'s weapon "
                         f"({_radars_text(m['radars'])}): nothing locates it")
    return notes


def _radars_text(radars: list[dict]) -> str:
    """A fire mission's weapon-locating radars as :func:`shieldlab.engine.shelling.check` lists
    them: each one's range to the weapon, its reach and whether the weapon is in its sector."""
    return ", ".join(f"{r['radar']} at {r['range_km']:.1f} km (reach {r['reach_km']:g} km"
                     + ("" if r["in_sector"] else ", outside its sector") + ")" for r in radars)


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.2f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.0f} MiB"
