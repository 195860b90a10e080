"""Notes on a scenario that validates but may not do what a user meant: a defence that can
do nothing (no sensors, a battery with no round above its reserve), settings the chosen
tracking does not read, a C2 sector holding none of its node's batteries, a weapon standing
off the ground its locating radar assumes, a fighter base abroad.  Each note is one line of
text beginning ``note:``; :func:`notes` gives a world's, and the command line prints them
under ``validate`` and before ``run``."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["notes"]


def notes(world, *, own_architecture: bool = True) -> list[str]:
    """The notes on a loaded world (:func:`shieldlab.load_scenario`): what ``shieldlab
    validate`` prints, less the notes that need its flights flown first (an early-warning
    satellite that sees no launch burn) or its checks' figures (a fire mission no radar
    reaches).  ``own_architecture`` False: the world will run under other architectures than
    its own (as ``compare`` runs it), and the notes on what its own does with its links and
    sectors are left out."""
    return _scenario_notes(world, own_architecture) + _air_notes(world)


#: Settings only the multi-target tracker reads: ``shieldlab tracks`` always, ``shieldlab run``
#: only with ``tracking.association: gnn``.
MTT_ONLY = ("tracking.confirm_looks", "tracking.confirm_sigma_v_ms", "tracking.min_speed_ms",
            "tracking.delete_probability",
            "tracking.delete_sigma_km", "tracking.gate_probability", "sensing.false_alarms")


def _scenario_notes(world, own_architecture: bool = True) -> list[str]:
    """The notes on a scenario that validates but may not do what a user meant (``validate``
    prints them; ``run`` too, on stderr, before it runs).  ``own_architecture`` False: the
    scenario runs under other architectures than its own (``compare``), and the notes on what
    its own does with its links and sectors are left out."""
    return [n for n in (_engage_note(world), *_unread_doctrine_notes(world), *_battery_notes(world),
                        *_c2_notes(world, own_architecture),
                        _tracking_note(world),
                        _min_speed_note(world), _discrimination_note(world), *_ground_height_notes(world),
                        *_charge_notes(world)) if n]


#: A weapon standing further than this above or below the ground a locating radar assumes is
#: worth a note [m]: its origins are placed ``Δh / tan γ`` downrange, a bias their ellipses do not hold.
GROUND_HEIGHT_NOTE_M = 20.0


def _ground_mismatches(world) -> list[tuple[int, Any, Any, Any, float]]:
    """``(i, radar config, locating radar, mission, Δh)`` for each fire mission whose weapon
    stands more than :data:`GROUND_HEIGHT_NOTE_M` above (Δh > 0) or below the ground locating
    radar ``i`` assumes (``ground_alt_m``, by default the radar's own site's) [m], where that
    radar can see it (in its sector and reach: a radar facing away places none of its origins)."""
    if world.shelling is None:
        return []
    from shieldlab.engine.shelling import sees

    return [(i, cfg, lr, m, dh)
            for i, (cfg, lr) in enumerate(zip(world.scenario.shelling.radars, world.shelling.radars, strict=True))
            for m in world.shelling.missions
            if abs(dh := float(m.origin[2]) - lr.ground_alt) > GROUND_HEIGHT_NOTE_M and sees(lr, m)]


#: A charge this many times the catalogue's muzzle velocity (its charge for its range) or more
#: is worth a note: the model flies it, the weapon could not fire it.
CHARGE_NOTE_FACTOR = 1.1


def _charge_notes(world) -> list[str]:
    """A note per fire mission whose ``muzzle_velocity_ms`` passes the catalogue round's by
    :data:`CHARGE_NOTE_FACTOR` (a 120 mm mortar at 900 m/s, 2.8 times its full charge's 325,
    was flown for 103 s without a word)."""
    sh = getattr(world, "shelling", None)
    if sh is None:
        return []
    return [f"note: shelling.missions[{i}] ({m.name}): muzzle_velocity_ms {m.speed:,.0f} m/s is "
            f"{m.speed / m.round.muzzle_velocity_ms:.1f} times the {m.round.id}'s catalogue charge "
            f"({m.round.muzzle_velocity_ms:,.0f} m/s, the one its range refers to): no charge of that weapon "
            "fires it, though the model flies it"
            for i, m in enumerate(sh.missions) if m.speed > CHARGE_NOTE_FACTOR * m.round.muzzle_velocity_ms]


def _ground_height_notes(world) -> list[str]:
    """A note per :func:`_ground_mismatches` entry: with no terrain model the origin is placed
    where the backward flight meets the height the radar assumes, and its ellipse holds no
    error for it."""
    notes = []
    for i, cfg, lr, m, dh in _ground_mismatches(world):
        assumed = "its own site's height" if cfg.ground_alt_m is None else "its ground_alt_m"
        notes.append(f"note: {m.name}'s weapon stands {abs(dh):,.0f} m {'above' if dh > 0 else 'below'} the "
                     f"ground {lr.name} assumes ({lr.ground_alt:,.0f} m, {assumed}; no terrain model): "
                     f"its origins will be placed {abs(dh):,.0f} m / tan γ "
                     f"{'behind the weapon' if dh > 0 else 'towards its target'} (γ the round's angle at "
                     f"the ground: tens of metres for a steep mortar, hundreds for a flat gun shot), a bias "
                     f"their ellipses do not account for; set shelling.radars[{i}].ground_alt_m to the "
                     "weapons' ground")
    return notes


def _one_report_note(setting: str) -> str:
    """The note on a multi-target tracker confirming on one report (``tracks`` and ``validate``
    say it alike; ``setting`` names how the scenario asked for it)."""
    return (f"note: {setting}: every report, a false alarm's too, starts a track that M-of-N can no longer "
            "drop, and only the miss product deletes it (dozens of silent looks for a track of one report): "
            "with false alarms, expect many false tracks, and `run` slow (fire control plans on every confirmed "
            "one: minutes a run at hundreds of false alarms a frame); 2 or more asks for a second report first")


def _tracking_note(world) -> str | None:
    """A note where a scenario sets the multi-target tracker's settings (:data:`MTT_ONLY`)
    and tracks by labels, so that ``run`` would not read them."""
    scn = world.scenario
    if scn.tracking.association == "gnn" and scn.tracking.init_hits == 1:
        return _one_report_note("tracking.init_hits 1 under association gnn")
    if scn.tracking.association != "labels":
        return None
    given = [f for f in MTT_ONLY
             if f.split(".")[1] in getattr(scn, f.split(".")[0]).model_fields_set]
    if not given:
        return None
    return (f"note: {', '.join(given)} {'is' if len(given) == 1 else 'are'} set, but tracking.association is "
            "labels: `shieldlab run` tracks each threat by its labelled reports and reads "
            f"{'it' if len(given) == 1 else 'them'} not at all (`shieldlab tracks` does); set "
            "tracking.association: gnn to run the kill chain on the multi-target tracker")


def _discrimination_note(world) -> str | None:
    """A note where, under ``tracking.association: gnn``, a system's radars make no
    discrimination calls: every track of its picture is taken for a warhead, a spent
    booster's too, by whatever battery fires on it (its own system's, or another node's
    over links that share tracks)."""
    if world.scenario.tracking.association != "gnn" or not world.batteries:
        return None
    from shieldlab.c2.network import one_picture

    if one_picture(world):
        # one picture of every radar, whatever their systems (it named a misspelt "natto" as if
        # it had a picture of its own): judged as one system's, its tracks have calls where any
        # radar of it makes them
        if any(getattr(s.radar.spec, "discrimination_error", None) is not None for s in world.sensors):
            return None
        return ("note: no radar of the scenario makes discrimination calls (catalogue discrimination_error): "
                "under association gnn every track of its one picture is taken for a warhead, a spent "
                "booster's too, by the batteries that fire on it")
    calls = {s.system for s in world.sensors if getattr(s.radar.spec, "discrimination_error", None) is not None}
    blind = sorted({s.system for s in world.sensors if s.system is not None} - calls)
    if not blind:
        return None
    names = ", ".join(blind)
    return (f"note: the radars of {names} make no discrimination calls (catalogue discrimination_error): under "
            f"association gnn every track of {'its' if len(blind) == 1 else 'their'} picture is taken for a "
            "warhead, a spent booster's too, by the batteries that fire on it (the system's own, and other "
            "nodes' where links share tracks)")


#: Fastest ``tracking.min_speed_ms`` given without a note: about a Scud-class missile's speed
#: 30 s after launch, when a radar near it may first see it (a Sejjil 40 s after launch: 700 m/s).
MIN_SPEED_NOTE_MS = 500.0


def _min_speed_note(world) -> str | None:
    """A note where the multi-target tracker's minimum-speed gate is set faster than a
    ballistic missile may fly where a radar first sees it (its own second report refused)."""
    v = world.scenario.tracking.min_speed_ms
    if v <= MIN_SPEED_NOTE_MS:
        return None
    return (f"note: tracking.min_speed_ms {v:g} m/s: a track started from one report takes no second report nearer "
            f"than {v:g} m/s of travel, faster than a ballistic missile may fly where a radar first sees it (a "
            f"Scud-class missile 30 s after launch: ~500 m/s), so its own reports may start track after track; "
            f"the default is 300, 0 turns the gate off")


def _unread_doctrine_notes(world) -> list[str]:
    """Notes on doctrine fields given that this scenario never reads: a threat probability
    under ``engage: all`` (every confirmed threat is engaged), a launch-report alert with no
    early-warning satellite to report a launch."""
    doc = world.scenario.doctrine
    given = doc.model_fields_set
    notes = []
    if "threat_probability" in given and doc.engage == "all" and world.threats:
        notes.append(f"note: doctrine.threat_probability {doc.threat_probability:g} is read under engage: threatening "
                     "only; under engage: all every confirmed threat is engaged")
    if "launch_report_alert" in given and not world.early_warning and world.threats:
        notes.append(f"note: doctrine.launch_report_alert {str(doc.launch_report_alert).lower()} has nothing to act "
                     "on: the scenario has no early_warning satellite to report a launch")
    return notes


def _engage_note(world) -> str | None:
    """A note where ``doctrine.engage: threatening`` has no defended asset to judge a threat by
    (fire control then engages every confirmed threat, as with ``engage: all``)."""
    if world.threats and world.batteries and not world.assets and world.scenario.doctrine.engage == "threatening":
        return ("note: no defended assets, so doctrine.engage threatening has nothing to judge a threat by: "
                "every confirmed threat is engaged, as with engage: all (give assets to engage only the threats "
                "aimed at them)")
    return None


#: Distance [km] between a battery and its own radar (``batteries[].radar``) past which
#: ``validate`` notes it: a battery's own radar stands at its site (a few km at most).
OWN_RADAR_NOTE_KM = 50.0


def _battery_notes(world) -> list[str]:
    """Notes on a defence that validates but would do nothing a user meant: threats and no
    sensor or no battery, a battery with no round to fire above the reserve, or its own radar
    far from its site or in another system."""
    from shieldlab import earth

    notes = []
    if world.threats and not world.sensors:
        notes.append("note: no sensors: no threat is detected or tracked, so none is engaged (every one leaks); "
                     "give sensors (radars) to see them")
    elif world.threats and not world.batteries:
        notes.append("note: no batteries: no threat is engaged (every one leaks): the run measures detection "
                     "and tracking only")
    placed = {s.radar.name: s for s in world.sensors}
    for b in world.batteries:
        if b.rounds - b.reserve <= 0:
            notes.append(f"note: battery {b.name} has no round to fire (rounds {b.rounds}, reserve {b.reserve}): "
                         "it engages nothing")
        own = placed.get(b.radar) if b.radar is not None else None
        if own is not None:
            r = own.radar
            d_km = float(earth.great_circle_distance(b.site.lat, b.site.lon, r.lat, r.lon)) / 1e3
            if d_km > OWN_RADAR_NOTE_KM:
                notes.append(f"note: battery {b.name} is {d_km:,.0f} km from its own radar {r.name} "
                             "(batteries[].radar), which usually stands at the battery's site")
            if own.system != b.system:
                notes.append(f"note: battery {b.name}'s own radar {r.name} feeds system {own.system!r}, not the "
                             f"battery's {b.system!r} (sensors[].system): a battery's own radar is usually part of "
                             "its system")
            if b.cue == "own" and world.scenario.tracking.association == "gnn" \
                    and getattr(r.spec, "discrimination_error", None) is None:
                notes.append(f"note: battery {b.name} plans on {r.name}'s own tracks (cue own), and an "
                             f"{r.spec.id} makes no discrimination calls (catalogue discrimination_error): "
                             "without labels it takes every track for a warhead, a spent booster's too")
    return notes


def _c2_notes(world, own_architecture: bool = True) -> list[str]:
    """Notes on C2 settings that validate but may not be what a user meant: a sector that holds
    none of its node's batteries (moved away by mistake, or drawn as [lon, lat]), or, for a node
    without batteries, no defended asset; an
    early-warning satellite of a system no radar feeds (accepted under the integrated
    architecture, where every satellite cues every radar, and refused under the others); a
    link for launch reports alone from a node without satellites; links under an architecture
    that uses none."""
    import shapely

    notes = []
    for nd in getattr(world, "nodes", ()):
        if nd.sector is None:
            continue
        # its own batteries: an asset inside says nothing (another node's may be: a NATO sector
        # drawn as [lon, lat] lay over Iraq and Iran and held Russia's Novorossiysk)
        pts = [(world.batteries[i].site.lon, world.batteries[i].site.lat) for i in nd.batteries]
        what = "none of its batteries' sites"
        if not pts:
            pts, what = [(a.site.lon, a.site.lat) for a in world.assets], "no defended asset (it has no battery)"
        if pts and not shapely.contains_xy(nd.sector, *np.array(pts).T).any():
            arch = world.architecture
            notes.append(f"note: node {nd.name}'s sector holds {what} "
                         f"(nodes[].sector, lat, lon in degrees)" + ("" if arch == "sectoral" or not own_architecture
                                                                     else f": it is not enforced under {arch}"))
    systems = {s.system for s in world.sensors}
    for i, sat in enumerate(world.early_warning):
        if sat.system not in systems:
            notes.append(f"note: early_warning[{i}] ({sat.name}) belongs to system {sat.system!r}, which no radar "
                         "feeds: under the integrated architecture it cues every radar, under the others the "
                         "scenario is refused")
    # a link for launch reports alone, where no node it leaves has a satellite, carries nothing
    from shieldlab.c2.network import shares_tracks

    if shares_tracks(world):
        for lk in world.links:
            if not lk.tracks and not world.satellites_cueing(lk.source):
                notes.append(f"note: link {lk.name} carries launch reports only (tracks: false) and node "
                             f"{lk.source} has no early-warning satellite: it carries nothing")
    elif world.links and own_architecture:  # independent nodes share nothing; integrated, one picture needs no links
        notes.append(f"note: architecture {world.architecture} uses no links, so "
                     f"{', '.join(lk.name for lk in world.links)} carr{'ies' if len(world.links) == 1 else 'y'} "
                     "nothing: only coordinated and sectoral nodes send each other tracks, engagement status "
                     "and launch reports over them")
    # a system named by one entry, near another's name: a misspelt system is a node of its own
    # (not under integrated: one C2 over every sensor and battery, whatever their systems)
    from shieldlab.scenario.schema import lone_systems

    if world.architecture != "integrated":
        notes += [f"note: {field}: {name!r} is named by this entry alone, so it is a C2 node of its own, whose "
                  f"tracks reach only its own batteries and links: did you mean {near!r}?"
                  for field, name, near in lone_systems(world.scenario)]
    return notes


def _blind_satellite_notes(world, truth) -> list[str]:
    """A note for each early-warning satellite that can report none of the nominal flights'
    launches (``truth``): too few frames see them burn (out of its view, below its plume
    floor, or, on a highly elliptical orbit, elsewhere at the launch times)."""
    from shieldlab.sensors.infrared import candidate_frames

    notes = []
    for i, sat in enumerate(world.early_warning):
        if not (candidate_frames(sat, truth) >= int(sat.spec.init_frames)).any():
            notes.append(f"note: early_warning[{i}] ({sat.name}) sees none of the threats' launches burn in enough "
                         f"frames ({sat.spec.init_frames}) to report them: it reports nothing")
    return notes


def _air_notes(world) -> list[str]:
    """Notes on an air picture that validates but may not do what its author meant: fliers and
    no radar to report them, batteries beside flights (they engage ballistic threats only),
    air policing's own side's flights, its fighters' bases and stations."""
    notes = []
    if world.flights and not world.sensors:
        notes.append("note: no sensors: nothing reports the flights (P(seen) 0"
                     + (", no warning, no shot" if world.scenario.air_policing is not None else "")
                     + "); give sensors (radars or AEW aircraft) to see them")
    if world.flights and world.batteries:  # (the air picture's shots are the policing's fighters')
        what = "the ballistic threats, not the flights" if world.threats else "nothing here"
        who = ("air_policing's fighters alone engage the flights (aircraft, cruise missiles)"
               if world.scenario.air_policing is not None else
               "with no air_policing nothing engages the flights (aircraft, cruise missiles)")
        notes.append(f"note: batteries engage ballistic threats only, so they engage {what}: {who}")
    notes += _policing_notes(world)
    ap = world.scenario.air_policing
    if ap is not None:
        own = ap.side or ap.country
        mine = sorted({f.group for f in world.flights if f.side == own})
        if mine:
            notes.append(f"note: {', '.join(mine)} fl{'ies' if len(mine) == 1 else 'y'} for {own}, the policing side: "
                         "not warned or engaged (give the flight another side to police it)")
    return notes


#: Below this height [m above the ellipsoid] a patrol's station reads as one given no height.
LOW_PATROL_M = 300.0


def _policing_notes(world) -> list[str]:
    """Notes on air policing's fighters that validate but may not be what a user meant: a base
    or a patrol station outside the policed airspace (its fighters start abroad, and
    ``pursuit: own-airspace`` holds only a fighter that starts inside), and a patrol station
    with no height (a site's ``alt_m`` is the patrol height; 0 unless given)."""
    pol = world.policing
    if pol is None or not world.flights:
        return []
    import shapely

    from shieldlab.engine.air import air_territory, country_at

    terr = air_territory(world)
    notes = []
    for group, units in (("bases", pol.bases), ("patrols", pol.patrols)):
        for i, u in enumerate(units):
            where = f"air_policing.{group}[{i}].site ({u.name})"
            lat, lon = u.site.lat_deg, u.site.lon_deg
            if terr is not None and not shapely.contains_xy(terr.lonlat, lon, lat):
                over = str(country_at(lat, lon)) or "the sea"
                notes.append(f"note: {where} lies outside {pol.country}'s airspace, over {over}: its fighters start "
                             f"abroad" + (", and pursuit: own-airspace holds at the border only a fighter that "
                                          "starts inside" if pol.pursuit == "own-airspace" else ""))
            if group == "patrols" and u.site.alt < LOW_PATROL_M:
                notes.append(f"note: {where} is at {u.site.alt:,.0f} m: the station's alt_m is the patrol "
                             "height (give it, e.g. alt_m: 6000)")
    return notes
