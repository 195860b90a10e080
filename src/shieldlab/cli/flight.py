"""``shieldlab flyout`` and ``shieldlab reach``: one missile's flight, and whether an interceptor can catch it."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import typer
from rich.table import Table
from rich.text import Text

from shieldlab import MAX_RUNS
from shieldlab.catalog.models import MAX_BURNOUT_SPEED_KMS
from shieldlab.cli.common import (
    _AT_EPOCH,
    _EXPORT,
    _EXPORT_TO,
    FLYOUT_SPREAD,
    PROFILE_HELP,
    _catalog_get,
    _check_profile,
    _Command,
    _compile_note,
    _export,
    _export_targets,
    _float_option,
    _guard,
    _heo_names,
    _json_option,
    _labelled_cue_note,
    _latlon,
    _load_world,
    _print_line,
    _print_table,
    app,
)
from shieldlab.errors import InputError

#: Dynamic pressure in boost [kPa] past which flyout notes it: five times the ~100 kPa the
#: model gives this catalogue's ballistic missiles on their minimum-energy shots (Scud-B at
#: 268 km 103, Sejjil-2 at 1,971 km 107, Minuteman III at 7,821 km 115; an Iskander-M's
#: gliding shot at 182 km 384); a Sejjil-2's depressed full burn to 300 km bears 854.
BOOST_Q_NOTE_KPA = 500.0


@app.command(cls=_Command)
@_guard
def flyout(
    missile: str = typer.Argument(..., help="catalogue missile id (see `shieldlab catalog missiles`)",
                                  metavar="MISSILE"),
    src: str = typer.Option(..., "--from", help="launch point LAT,LON [deg]"),
    dst: str = typer.Option(..., "--to", help="aim point LAT,LON [deg]"),
    profile: str = typer.Option("min-energy", "--profile", help=PROFILE_HELP),
    apogee_km: float | None = _float_option(None, "--apogee-km", "shape a lofted/depressed shot by its apogee [km]",
                                               1.0, 5000.0, "km"),
    flight_time_s: float | None = _float_option(None, "--flight-time-s",
                                                   "shape a lofted/depressed shot by its flight time [s]",
                                                   1.0, 5000.0, "s"),
    runs: int = typer.Option(0, "--runs", min=0, max=MAX_RUNS, help="dispersed shots for a CEP (0: nominal only)"),
    # the dispersions default to None so that one given without --runs can be refused (they would
    # do nothing); their values apply below
    seed: int | None = typer.Option(None, "--seed", min=0,
                                    help=f"random seed of the dispersed shots [default: {FLYOUT_SPREAD['--seed']}]"),
    thrust_pct: float | None = _float_option(None, "--thrust-pct", "1-sigma thrust dispersion [%] (default "
                                             f"{FLYOUT_SPREAD['--thrust-pct']:g})", 0.0, 20.0),
    isp_pct: float | None = _float_option(None, "--isp-pct", "1-sigma specific impulse dispersion [%] (default "
                                          f"{FLYOUT_SPREAD['--isp-pct']:g})", 0.0, 20.0),
    burn_pct: float | None = _float_option(None, "--burn-pct", "1-sigma burn time dispersion [%] (default "
                                           f"{FLYOUT_SPREAD['--burn-pct']:g})", 0.0, 20.0),
    drag_pct: float | None = _float_option(None, "--drag-pct", "1-sigma drag dispersion [%] (default "
                                           f"{FLYOUT_SPREAD['--drag-pct']:g})", 0.0, 50.0),
    azimuth_mrad: float | None = _float_option(None, "--azimuth-mrad", "1-sigma azimuth error [mrad] (default "
                                               f"{FLYOUT_SPREAD['--azimuth-mrad']:g})", 0.0, 50.0),
    as_json: bool = _json_option(),
    export: str | None = _EXPORT,
    export_to: Path | None = _EXPORT_TO,
    force: bool = typer.Option(False, "--force", help="replace existing --export-to files"),
) -> None:
    """Fly one missile from a launch point to an aim point (rotating Earth, J2, drag);
    with --runs, also the CEP of dispersed shots about the aim point.  The burnout speed is
    inertial (the Earth's rotation included: up to ~0.4 km/s more than the speed over the
    ground for an eastward shot)."""
    from shieldlab import catalog
    from shieldlab.flyout import aim
    from shieldlab.flyout.shot import fly_shot, profile_advice

    lat0, lon0 = _latlon(src, "--from")
    lat1, lon1 = _latlon(dst, "--to")
    _check_profile(profile)
    given = {"--seed": seed, "--thrust-pct": thrust_pct, "--isp-pct": isp_pct, "--burn-pct": burn_pct,
             "--drag-pct": drag_pct, "--azimuth-mrad": azimuth_mrad}
    if not runs:  # a dispersion shapes dispersed shots only: given without them it would do nothing
        for opt in (k for k, v in given.items() if v is not None):
            raise InputError("applies to dispersed shots only: give --runs N (N >= 1) with it", field=opt)
    spread = {k: FLYOUT_SPREAD[k] if v is None else v for k, v in given.items()}
    m = _catalog_get(catalog.get_missile, missile, "MISSILE")
    target = _export_targets(export, export_to, force)
    _compile_note("flyout", False)
    la0, lo0, la1, lo1 = np.radians([lat0, lon0, lat1, lon1])
    try:
        shot = fly_shot(m, lat0, lon0, lat1, lon1, profile, apogee_km=apogee_km, flight_time_s=flight_time_s)
    except aim.ShapeError as e:
        raise InputError(str(e), field="--apogee-km" if apogee_km is not None else "--flight-time-s") from None
    except aim.NoSolutionError as e:
        raise InputError(profile_advice(e, m, lat0, lon0, lat1, lon1, profile, apogee_km, flight_time_s),
                         field="--to") from None
    except aim.AimError as e:
        raise InputError(str(e), field="--to") from None
    tr = shot.trajectory
    res = {
        "missile": m.id,
        "profile": profile,
        "launch_lat_deg": lat0, "launch_lon_deg": lon0, "aim_lat_deg": lat1, "aim_lon_deg": lon1,
        "burnout_time_s": round(shot.burnout_time_s, 3),
        "burnout_speed_kms": round(shot.burnout_speed_kms, 4),
        "boost_max_q_kpa": round(shot.boost_max_q_kpa, 1),
        "apogee_km": round(shot.apogee_km, 3),
        "time_of_flight_s": round(shot.time_of_flight_s, 3),
        "ground_range_km": round(shot.ground_range_km, 3),
        "impact_lat_deg": round(shot.impact_lat_deg, 5),
        "impact_lon_deg": round(shot.impact_lon_deg, 5),
        "aim_error_km": round(shot.aim_error_km, 3),
        "launch_azimuth_deg": round(shot.launch_azimuth_deg, 4),
        "pitch_over_deg": round(shot.pitch_over_deg, 4),
        "thrust_cutoff_s": None if shot.thrust_cutoff_s is None else round(shot.thrust_cutoff_s, 3),
        "max_range_km": round(shot.max_range_km, 1),
        # which shot the solver chose: a missile that cannot trim flies a full-burn branch even
        # on a minimum-energy shot, and its table would otherwise read like a depressed one's
        "steering": shot.steering,
        # the same for a script: trimmed (to the minimum-energy shot), shaped (to the asked apogee
        # or flight time), lofted or depressed (a full-burn branch); `profile` is what was asked
        "branch": shot.branch,
    }
    # how a solid under general energy management or a quasi-ballistic missile trimmed its shot
    if shot.upper_stage_thrust_along_path < 1.0:
        res["upper_stage_thrust_along_path"] = round(shot.upper_stage_thrust_along_path, 4)
    if shot.dive_time_s is not None:
        res["dive_time_s"] = round(shot.dive_time_s, 3)
    if runs:
        from shieldlab.flyout.dispersion import Dispersion, impact_scatter

        d = Dispersion(thrust=spread["--thrust-pct"] / 100, isp=spread["--isp-pct"] / 100,
                       burn_time=spread["--burn-pct"] / 100, drag=spread["--drag-pct"] / 100,
                       azimuth=spread["--azimuth-mrad"] / 1e3)
        seed = int(spread["--seed"])
        scat_lat, scat_lon, c = impact_scatter(m, la0, lo0, la1, lo1, d, runs, seed, profile,
                                               apogee=None if apogee_km is None else 1e3 * apogee_km,
                                               flight_time=flight_time_s)
        res.update(runs=runs, seed=seed)
        # the circular error probable is a median over shots: one shot has only its miss
        res.update({"cep_km" if runs > 1 else "miss_km": round(c / 1e3, 4)})
    if as_json:
        sys.stdout.write(json.dumps(res, indent=2) + "\n")
    else:
        title = f"{m.name}, {profile}"  # (the points are rows; a table as wide as its title does not wrap it)
        t = Table(title=title, show_header=False, min_width=len(title) + 4)
        for k, v in res.items():  # (JSON's null, a thrust that is never cut, as the tables write a missing value)
            t.add_row(k, "–" if v is None else str(v))
        _print_table(t)
    if shot.boost_max_q_kpa > BOOST_Q_NOTE_KPA and not as_json:
        _print_line(f"note: the airframe bears {shot.boost_max_q_kpa:,.0f} kPa of dynamic pressure in boost "
                    f"(boost_max_q_kpa), {shot.boost_max_q_kpa / 100:.0f} times the ~100 kPa of this catalogue's "
                    "ballistic missiles on their minimum-energy shots: the model sets no structural limit, and a "
                    "real missile may not survive this shot")
    if target is not None:  # after the table: the files' lines close the printout
        from shieldlab.io import export as X

        _export(target, X.flyout_features(tr, missile=m.id, launch_deg=(lat0, lon0), aim_deg=(lat1, lon1),
                                          profile=profile, impacts_rad=(scat_lat, scat_lon) if runs else None,
                                          cep_m=c if runs > 1 else None), stderr=as_json)


def _print_sensor_cue(cue, t_ready: float, alerted: bool) -> None:
    """The cue line of `reach --sensors`: each system's expected track, the first radar alone."""
    alone = {k: v for k, v in cue.per_radar.items() if k in cue.radars and np.isfinite(v)}
    best = min(alone, key=alone.__getitem__, default=None)
    others = {k: v for k, v in cue.per_system.items() if k != cue.system}
    _print_line(f"cue: {cue.system}'s track ({', '.join(cue.radars)}) expected {cue.time_s:.1f} s after launch"
                + (f" (its first radar alone, {best}: {alone[best]:.1f} s)" if best is not None else "")
                + "".join(f"; {k}'s: " + (f"{v:.1f} s" if np.isfinite(v) else "none") for k, v in others.items())
                + f"; ready at {t_ready:.1f} s (cued by the first system's track, {cue.system}'s, whatever system "
                  f"the battery belongs to"
                + (f"; its batteries alerted by the launch report at {cue.alert_s:.1f} s, their reaction "
                   f"running from then" if alerted else "") + ")")


@app.command(cls=_Command)
@_guard
def reach(
    interceptor: str = typer.Argument(..., help="catalogue interceptor id (see `shieldlab catalog interceptors`)",
                                      metavar="INTERCEPTOR"),
    site: str = typer.Option(..., "--site", help="interceptor site LAT,LON [deg]"),
    missile: str = typer.Option(..., "--missile", help="catalogue missile id"),
    src: str = typer.Option(..., "--from", help="threat launch point LAT,LON [deg]"),
    dst: str = typer.Option(..., "--to", help="threat aim point LAT,LON [deg]"),
    cue_delay_s: float | None = _float_option(None, "--cue-delay-s",
                                                 "fixed delay from the threat's launch until the battery is cued "
                                                 "[s] instead of sensors", 0.0, 3600.0, "s"),
    sensors: str | None = typer.Option(None, "--sensors", metavar="SCENARIO",
                                          help="take the cue from this scenario's (or preset's) sensors: the first "
                                               "system expected to confirm a track on the trajectory, its "
                                               "satellites' launch reports alerting the battery (its own "
                                               "catalog entries stand for the built-in ones of the same id)"),
    profile: str = typer.Option("min-energy", "--profile", help=PROFILE_HELP),
    burnout_speed_kms: float | None = _float_option(None, "--burnout-speed-kms",
                                                       "override the catalogue burnout speed [km/s]", 0.01,
                                                       MAX_BURNOUT_SPEED_KMS,
                                                       "km/s"),  # the catalogue's and the scenario's bound
    as_json: bool = _json_option(),
    export: str | None = _EXPORT,
    export_to: Path | None = _EXPORT_TO,
    force: bool = typer.Option(False, "--force", help="replace existing --export-to files"),
) -> None:
    """Can INTERCEPTOR at --site catch that trajectory? The window, altitudes and closing
    speed — or the burnout speed it would need. The cue, by default: the battery's own
    radar (the interceptor's catalogue `radar`) at --site, facing the launch point, alerted
    by a geostationary early-warning satellite; or a scenario's sensors (--sensors), or a
    fixed delay (--cue-delay-s; 60 s where the interceptor has no radar of its own)."""
    from shieldlab import catalog
    from shieldlab.analysis.reach import DEFAULT_CUE_DELAY_S, analyse, cue_laydown
    from shieldlab.flyout import aim

    slat, slon = _latlon(site, "--site")
    lat0, lon0 = _latlon(src, "--from")
    lat1, lon1 = _latlon(dst, "--to")
    _check_profile(profile)
    if sensors is not None and cue_delay_s is not None:
        raise InputError("give --cue-delay-s or --sensors, not both: each sets the cue", field="--sensors")
    world = None
    if sensors is not None:
        try:
            world = _load_world(sensors)
        except InputError as e:
            if e.field is None and len(e.problems) == 1:  # not found, unreadable: say which option
                raise InputError(f"{sensors}: {e.message}" if sensors.strip() else e.message,
                                 field="--sensors") from None
            raise
        if not world.sensors:
            raise InputError(f"scenario {world.scenario.name!r} has no sensors to give the cue", field="--sensors")
    # the --sensors scenario's own catalogue entries take precedence, as in its runs
    own_i = {} if world is None else {e.id: e for e in world.scenario.catalog.interceptors}
    own_m = {} if world is None else {e.id: e for e in world.scenario.catalog.missiles}
    spec = own_i.get(interceptor) or _catalog_get(catalog.get_interceptor, interceptor, "INTERCEPTOR")
    m = own_m.get(missile) or _catalog_get(catalog.get_missile, missile, "--missile")
    target = _export_targets(export, export_to, force)
    _compile_note("reach", False)
    r = np.radians
    # by default the battery's own radar gives the cue, where the catalogue names one
    world, cue_source = cue_laydown(spec, r(slat), r(slon), m, r(lat0), r(lon0), r(lat1), r(lon1), cue_delay_s, world)
    try:
        res = analyse(spec, r(slat), r(slon), m, r(lat0), r(lon0), r(lat1), r(lon1),
                      DEFAULT_CUE_DELAY_S if cue_delay_s is None else cue_delay_s, profile,
                      None if burnout_speed_kms is None else 1e3 * burnout_speed_kms, sensors=world)
    except aim.AimError as e:
        raise InputError(str(e), field="--to") from None
    cue = res.cue
    untracked = cue is not None and cue.system is None  # no system expected to confirm a track to fire on
    cue_scenario = world.scenario.name if cue_source == "scenario" and world is not None else None
    out_d = {"interceptor": spec.id, "missile": m.id, "site_lat_deg": slat, "site_lon_deg": slon,
             "burnout_speed_kms": burnout_speed_kms or spec.burnout_speed_kms,
             "cue_source": cue_source,
             "cue_delay_s": None if cue is not None else (DEFAULT_CUE_DELAY_S if cue_delay_s is None else cue_delay_s),
             "cue": None if cue is None else {
                 "scenario": cue_scenario, "radar": spec.radar if cue_source == "own-radar" else None,
                 "satellite_lon_deg": lon0 if cue_source == "own-radar" else None,
                 "system": cue.system,
                 "time_s": None if not np.isfinite(cue.time_s) else round(cue.time_s, 1), "radars": list(cue.radars),
                 "per_system_s": {k: (None if not np.isfinite(v) else round(v, 1)) for k, v in cue.per_system.items()},
                 "per_radar_alone_s": {k: (None if not np.isfinite(v) else round(v, 1))
                                       for k, v in cue.per_radar.items()},
                 "launch_report_s": {k: (None if not np.isfinite(v) else round(v, 1))
                                     for k, v in cue.launch_reports.items()},
                 "launch_report_cues": cue.report_system,
                 "launch_report_passed_s": {k: (None if not np.isfinite(v) else round(v, 1))
                                            for k, v in cue.passed_s.items()},
                 "batteries_alerted_s": None if not np.isfinite(cue.alert_s) else round(cue.alert_s, 1)},
             "ready_s": None if not np.isfinite(res.t_ready) else res.t_ready, "feasible": res.feasible,
             "earliest": res.earliest, "latest": res.latest,
             "needed_burnout_speed_kms": res.needed_burnout_speed_kms,
             # where only the readiness is late: the latest it could be ready and still catch it
             "latest_ready_s": res.latest_ready_s,
             # breaks in the window: no intercept from one time to the other [s after launch]
             "gaps": [{"from_s": g.from_s, "to_s": g.to_s, "why": g.why} for g in res.gaps],
             # why it cannot catch it: no track to fire on, ready too late, too slow (the speed it
             # would need), or no point of the path within its envelope at any speed
             "why_not": res.why_not,
             "threat": res.threat}
    note = _labelled_cue_note(world) if cue_source == "scenario" else None
    if note is not None:
        out_d["note"] = note
    if as_json:
        sys.stdout.write(json.dumps(out_d, indent=2) + "\n")
    else:
        _print_reach(spec, res, cue_source, lon0, cue_scenario, untracked, _heo_names(world),
                     out_d["cue_delay_s"])
        if note is not None:
            _print_line("note: " + note)
    if target is not None:  # after the verdict: the files' lines close the printout
        from shieldlab.io import export as X

        _export(target, X.reach_features(res, spec, r(slat), r(slon), m, r(lat0), r(lon0), r(lat1), r(lon1), profile,
                                         None if burnout_speed_kms is None else 1e3 * burnout_speed_kms),
                stderr=as_json)


def _print_reach(spec, res, cue_source: str, lon0: float, cue_scenario: str | None, untracked: bool,
                 heo: set[str] | None = None, cue_delay_s: float | None = None) -> None:
    """The printed verdict of ``reach``: the cue, the launch reports, and whether it can catch it
    (``cue_delay_s``: the fixed cue [s after launch] where there is no sensors' cue)."""
    from shieldlab.analysis.reach import DEFAULT_SATELLITE, OWN_SYSTEM

    cue = res.cue
    if cue_source == "own-radar":
        _print_line(f"cue (the default): {spec.id}'s own {spec.radar} at the site, facing the launch point, alerted "
                    f"by a {DEFAULT_SATELLITE} over {abs(lon0):.1f}° {'E' if lon0 >= 0 else 'W'} "
                    "(--sensors SCENARIO or --cue-delay-s S to change)")
    elif cue_source == "fixed-no-radar":
        _print_line(f"cue: {spec.id} has no radar of its own in the catalogue, so a fixed 60 s after launch "
                    "(--sensors SCENARIO to take it from a scenario's sensors, --cue-delay-s S to set it)")
    if cue is None and cue_delay_s is not None:  # a fixed cue: when the battery is ready, as the others say
        ready = f"ready at {res.t_ready:.1f} s (its reaction time, {spec.reaction_time_s:g} s, after the cue)"
        _print_line(ready if cue_source == "fixed-no-radar" else f"cue: {cue_delay_s:g} s after launch (fixed); "
                    + ready)
    if cue is not None:
        for sat, t_rep in cue.launch_reports.items():
            whose = cue.report_system.get(sat)
            whose = "the radars" if whose in (None, OWN_SYSTEM) else \
                "every system's radars" if whose == "every system" else f"{whose}'s radars"
            _print_line(f"launch report: {sat} " + (f"expected {t_rep:.1f} s after launch (it cues {whose})"
                                                    if np.isfinite(t_rep) else "does not see this launch")
                        + (_AT_EPOCH if sat in (heo or ()) else ""))
        for link, t_pass in cue.passed_s.items():
            if np.isfinite(t_pass):
                _print_line(f"launch report passed on over the link {link}: expected {t_pass:.1f} s after launch")
        if untracked:
            _print_line(Text.assemble((f"{spec.name} cannot catch it", "red"),
                                      (f": its own {spec.radar} is not" if cue_source == "own-radar" else
                                       f": no system of {cue_scenario!r} is")
                                      + " expected to confirm a track on this trajectory"))
            return
        alerted = np.isfinite(cue.alert_s) and cue.alert_s < cue.time_s
        if cue_source == "own-radar":
            _print_line(f"cue: its own radar's track expected {cue.time_s:.1f} s after launch; ready at "
                        f"{res.t_ready:.1f} s" + (f" (alerted by the launch report at {cue.alert_s:.1f} s, its "
                                                  "reaction running from then)" if alerted else ""))
        else:
            _print_sensor_cue(cue, res.t_ready, alerted)
    if res.feasible:
        first, last = res.earliest, res.latest
        assert first is not None and last is not None  # a feasible Reach has its window
        _print_line(Text.assemble((f"{spec.name} can catch it", "green"),
                                  f": window {first['time_s']:.0f}–{last['time_s']:.0f} s after launch, earliest "
                                  f"at {first['alt_km']:.0f} km altitude, closing at "
                                  f"{first['closing_speed_kms']:.1f} km/s"))
        for g in res.gaps:
            why = (f"the path passes within its {spec.min_range_km:g} km minimum range" if g.why == "minimum-range"
                   else "the path is out of its reach")
            _print_line(f"no intercept from {g.from_s:.0f} to {g.to_s:.0f} s after launch: {why}")
        _print_line(_reach_pk_text(spec, first, last))
    elif res.why_not == "too-late" and res.latest_ready_s is None:
        _print_line(Text.assemble((f"{spec.name} cannot catch it", "red"),
                                  f": the battery is ready {res.t_ready:.0f} s after launch, once the missile has "
                                  f"landed ({res.threat['time_of_flight_s']:.0f} s)"))
    elif res.why_not == "too-late":
        _print_line(Text.assemble((f"{spec.name} cannot catch it", "red"),
                                  f": the battery is ready {_secs(res.t_ready)} s after launch, too late: ready by "
                                  f"{_secs(res.latest_ready_s)} s it could"))
    else:
        need = res.needed_burnout_speed_kms
        # where its own speed would do, ready earlier: said too (a late cue read as a slow interceptor)
        sooner = (f" (or, at its own speed, to be ready by {_secs(res.latest_ready_s)} s after launch: it is ready at "
                  f"{_secs(res.t_ready)} s)" if res.latest_ready_s is not None else "")
        apogee = float(res.threat.get("apogee_km", np.inf))
        if need:
            why = f": it would need a burnout speed of {math.ceil(need * 100 - 1e-9) / 100:.2f} km/s{sooner}"
        elif apogee < spec.min_intercept_alt_km:  # (readiness had been blamed: the path never rises into it)
            why = (f": the missile tops out at {apogee:,.0f} km, below the lowest altitude it intercepts at "
                   f"({spec.min_intercept_alt_km:g} km)")
        else:
            why = (": no point of the path after the battery is ready is within its envelope at any burnout speed "
                   f"up to {MAX_BURNOUT_SPEED_KMS:g} km/s")
        _print_line(Text.assemble((f"{spec.name} cannot catch it", "red"), why))


def _secs(t: float) -> str:
    """A time [s] as reach's latest ready time is found, to 0.01 s: ``95.82``, ``150.0``
    (to 0.1 s, a battery accepted at 275.41 s and one refused at 275.42 s both read 275.4)."""
    text = f"{t:.2f}"
    return text[:-1] if text.endswith("0") else text


def _reach_pk_text(spec, first: dict, last: dict) -> str:
    """The kill probability of one interceptor at the ends of a reach's window, and why it is
    below the single-shot figure where it is (the end game beyond the catalogue's envelope)."""
    text = (f"kill probability (one interceptor): {first['pk']:.2f} at the earliest point, "
            f"{last['pk']:.2f} at the latest")
    if min(first["pk"], last["pk"]) < spec.sspk - 5e-4:
        why = [f"closing speed beyond {spec.max_closing_speed_kms:g} km/s"] if spec.max_closing_speed_kms else []
        why += [f"crossing angle beyond {spec.max_crossing_angle_deg:g}°"] if spec.max_crossing_angle_deg else []
        text += f" (sspk {spec.sspk:g}, less where the end game is outside its envelope: {' or '.join(why)})"
    return text
