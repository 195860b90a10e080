"""``shieldlab footprint``, ``coverage`` and ``tracks``: the maps of where a defence reaches, sees and tracks."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from shieldlab import MAX_RUNS
from shieldlab.cli.common import (
    _AT_EPOCH,
    _EXPORT,
    _EXPORT_TO_MAP,
    _QUIET,
    _SET,
    _catalog_get,
    _Command,
    _compile_note,
    _cue_words,
    _err,
    _export_targets,
    _float_option,
    _guard,
    _heo_names,
    _json_option,
    _labelled_cue_note,
    _load_world,
    _one_json_target,
    _one_value_settings,
    _path,
    _plural,
    _print_line,
    _print_table,
    _progress,
    _set_text,
    _share_pct,
    _with_set,
    app,
    out,
)
from shieldlab.cli.notes import _false_alarm_text, _management_text
from shieldlab.cli.summary import _nees_note
from shieldlab.errors import InputError
from shieldlab.scenario.notes import _one_report_note

AIRCRAFT_ALT_KM = 10.0


AIRCRAFT_COUNTRY = "Syria"


# the map commands' files (footprint, coverage)
_MAP_OUT = typer.Option(None, "--out", parser=_path, metavar="MAP", help="write the map here: .png, .svg or .pdf")
_JSON_OUT = typer.Option(None, "--json-out", parser=_path, metavar="FILE", help="write the JSON here instead of stdout")
_MAP_FORCE = typer.Option(False, "--force", help="replace existing --out / --json-out files")

# the grid options of the map commands
_REGION = typer.Option(None, "--region", metavar="NAME", help="named grid region: europe (lat 34..72, lon -12..45)")


_BBOX = typer.Option(None, "--bbox", metavar="BOX", help="grid box LAT_MIN,LAT_MAX,LON_MIN,LON_MAX [deg]")


_STEP_DEG = _float_option(None, "--step-deg", "grid step [deg] (default 0.25 with --region, else about 160 nodes "
                                              "along the box's longer side, the command's own box or --bbox's: "
                                              "the step rounded up to a multiple of 0.05 (coverage: of 0.01 on a "
                                              "box under 8 deg), so 80 to 162 nodes on most boxes, fewer on a "
                                              "small one)", 0.01, 10.0, "deg")


def _map_targets_and_grid(scenario: str, out_png, json_out, force: bool, region, bbox, step_deg,
                          box_step: Callable[[tuple[float, float, float, float]], float]):
    """Check a map command's output files (``--out``, ``--json-out``: formats, existing files,
    not the scenario, not each other) and build its grid from ``--region`` or ``--bbox`` (None:
    the command's own default grid).  ``box_step``: the command's automatic step of a box
    (lat0, lat1, lon0, lon1) [deg], a ``--bbox``'s where no ``--step-deg`` is given, as its own
    box's (a 1-degree box at 0.25 deg was 5 x 5 nodes for a 135 km radar)."""
    from shieldlab.analysis import footprint as fpm
    from shieldlab.analysis import maps
    from shieldlab.io.atomic import check_target

    scenario_file = Path(scenario).resolve() if Path(scenario).is_file() else None
    targets = {}
    if out_png is not None:
        maps.map_format(out_png, "--out")
        targets["--out"] = out_png
    if json_out is not None:
        targets["--json-out"] = json_out
    for flag, path in targets.items():
        check_target(path, flag, force=force, keep=[p for p in (scenario_file,) if p is not None])
    if len(targets) == 2 and Path(out_png).resolve() == Path(json_out).resolve():
        raise InputError("is the same file as --out: give two files", field="--json-out")
    if region is not None and bbox is not None:
        raise InputError("give --region or --bbox, not both", field="--bbox")
    if region is not None:
        return _two_a_side(fpm.region_grid(region, step_deg or _BOX_STEP_DEG), "--region", step_deg)
    if bbox is not None:
        box = _bbox(bbox)
        return _two_a_side(fpm.make_grid(*box, step_deg or box_step(box)), "--bbox", step_deg)
    return None


def _box_edge_note(what: str, figures: str, given: bool) -> str:
    """The line a map command prints where ``what`` it maps reaches the edge of its box: its
    ``figures`` are then of the box alone; ``given``: the box was the user's (``--bbox``,
    ``--region``), not the command's own."""
    wider = "a wider --bbox or --region, or none, maps it whole" if given else \
        "a --bbox or --region round all of it maps it whole"
    return f"the {what} reaches the edge of the map's box: the {figures} above are of the box alone ({wider})"


#: The step of a --region grid where no --step-deg is given [deg].
_BOX_STEP_DEG = 0.25


def _two_a_side(grid, box: str, step_deg: float | None):
    """``grid`` if it has at least two nodes along each side (a map of one node has no step);
    the error names ``--step-deg`` where one was given, else the box (``box``: its option)."""
    if min(grid.shape) < 2:
        if step_deg is not None:
            raise InputError(f"leaves {grid.shape[0]} x {grid.shape[1]} grid nodes in the {box} box: at least 2 a "
                             "side are needed; give a smaller step", field="--step-deg")
        raise InputError(f"holds {grid.shape[0]} x {grid.shape[1]} grid nodes at the default step of "
                         f"{_BOX_STEP_DEG:g}°: at least 2 a side are needed; give a larger box or a smaller "
                         "--step-deg", field=box)
    return grid


def _bbox(text: str) -> tuple[float, float, float, float]:
    try:
        lat0, lat1, lon0, lon1 = (float(x) for x in text.split(","))
    except ValueError:
        raise InputError(f"expected LAT_MIN,LAT_MAX,LON_MIN,LON_MAX in degrees, got {text!r}", field="--bbox") from None
    return lat0, lat1, lon0, lon1


@app.command(cls=_Command)
@_guard
def footprint(
    scenario: str = typer.Argument(..., help="scenario YAML file or preset name", metavar="SCENARIO"),
    out_png: Path | None = _MAP_OUT,
    as_json: bool = _json_option("the grid and summary as JSON"),
    json_out: Path | None = _JSON_OUT,
    force: bool = _MAP_FORCE,
    site: list[str] | None = typer.Option(None, "--site", metavar="NAME",
                                             help="only this launch site (name, launch place or missile id); "
                                                  "repeatable"),
    region: str | None = _REGION,
    bbox: str | None = _BBOX,
    step_deg: float | None = _STEP_DEG,
    cue_delay_s: float | None = _float_option(None, "--cue-delay-s", "fixed launch-to-cue delay [s] instead of "
                                                                        "the scenario's sensors", 0.0, 3600.0, "s"),
    aircraft: bool = typer.Option(False, "--aircraft", help="map the batteries' reach against aircraft instead"),
    alt_km: float | None = _float_option(None, "--alt-km", f"with --aircraft: aircraft altitude [km] "
                                                              f"[default: {AIRCRAFT_ALT_KM:g}]", 0.0, 30.0, "km",
                                            lo_open=True),
    country: str | None = typer.Option(None, "--country", metavar="NAME",
                                          help="with --aircraft: report the reach past the border into this country "
                                               f"(Natural Earth name) [default: {AIRCRAFT_COUNTRY}]"),
    export: str | None = _EXPORT,
    export_to: Path | None = _EXPORT_TO_MAP,
    quiet: bool = _QUIET,
) -> None:
    """Map the ground a scenario's batteries defend against each launch site (probability of
    intercept under its doctrine), or with --aircraft their reach against aircraft."""
    from shieldlab.analysis import footprint as fpm
    from shieldlab.analysis import maps

    if as_json and quiet:
        raise InputError("give --json or --quiet, not both", field="--quiet")
    _one_json_target(as_json, json_out)
    if aircraft:
        # `is not None`, not truth: --cue-delay-s 0 is given too
        for flag, given in (("--site", bool(site)), ("--cue-delay-s", cue_delay_s is not None)):
            if given:
                raise InputError("applies to the ballistic footprint, not with --aircraft", field=flag)
        if step_deg is not None and region is None and bbox is None:
            raise InputError("with --aircraft sets the step of a --region or --bbox grid: give one",
                             field="--step-deg")
    else:
        for flag, opt in (("--alt-km", alt_km), ("--country", country)):
            if opt is not None:
                raise InputError("applies only with --aircraft", field=flag)
    grid = _map_targets_and_grid(scenario, out_png, json_out, force, region, bbox, step_deg, fpm.auto_step)
    target = _export_targets(export, export_to, force, default=None if out_png is None else out_png.with_suffix(""),
                             taken={"--out": out_png, "--json-out": json_out})
    world = _load_world(scenario)
    _compile_note("footprint", quiet)
    if aircraft:
        alt_km = AIRCRAFT_ALT_KM if alt_km is None else alt_km
        boxed = region is not None or bbox is not None  # (the areas are then the box's part alone)
        res = fpm.aircraft_reach(world, alt_km, grid=grid, focus=AIRCRAFT_COUNTRY if country is None else country,
                                 clip_to_grid=boxed)
        payload = fpm.aircraft_json(res)
        if out_png is not None:
            maps.aircraft_map(res, out_png)
        # the files first, their "wrote" lines after the table (as the ballistic footprint's)
        wrote = _write_map_files(target, "aircraft_features", res, lambda: payload, as_json, json_out, quiet)
        if not (as_json or quiet):
            t = Table(title=f"{res.scenario}: reach against aircraft at {alt_km:g} km"
                            + (f" into {res.focus}" if res.focus else ""))
            for col in ("battery", "interceptor", "reach km", "limited by", f"area in {res.focus} km²",
                        "past border km"):
                t.add_column(col, justify="left" if col in ("battery", "interceptor", "limited by") else "right")
            for b in res.batteries:
                lim = min(b["limits"], key=b["limits"].get)
                t.add_row(b["name"], b["interceptor"], f"{b['reach_km']:.0f}", lim.replace("_km", "").replace("_", " "),
                          f"{b.get('area_in_focus_km2', 0):,.0f}",
                          "—" if b.get("depth_km") is None else f"{b['depth_km']:.0f}")
            _print_table(t)
            if res.left_out:
                _print_line("left out: " + ", ".join(f"{n} ({i})" for n, i in res.left_out)
                            + ": no range against aircraft in the catalogue (aircraft_max_range_km): "
                            + ("it engages" if len(res.left_out) == 1 else "they engage") + " ballistic missiles only")
            if res.focus and not res.focus_area_km2:
                # the default country is the 2013 question's: elsewhere say so, not "0 km² of Syria"
                _print_line(f"no battery reaches into {res.focus}" + (" inside the box (areas are the box's alone)"
                                                                       if boxed else "") + (
                    " (the default --country): give --country NAME for the reach past another border"
                    if country is None and not boxed else ""))
            elif res.focus:
                _print_line(f"together: {res.focus_area_km2:,.0f} km² of {res.focus} within reach, up to "
                            f"{payload['max_depth_km'] or 0:.0f} km past the {res.home or '?'}–{res.focus} border")
            _say_wrote(wrote + ([out_png] if out_png is not None else []))
        return
    automatic = grid is None  # the box the scenario's batteries and missiles set, grown to what they defend
    if grid is None and step_deg is not None:  # the automatic box at this step: two nodes a side at least
        _two_a_side(fpm.auto_grid(world, step_deg, sites=fpm.launch_sites(world, site or None)), "automatic",
                    step_deg)
    fp = fpm.compute(world, grid=grid, site_names=site or None, cue_delay_s=cue_delay_s, step_deg=step_deg)
    if out_png is not None:
        maps.footprint_map(fp, out_png)

    note = _labelled_cue_note(world) if fp.cue == "sensors" else None
    wrote = _write_map_files(target, "footprint_features", fp,
                             lambda: {**fpm.to_json(fp), **({"note": note} if note else {})}, as_json, json_out, quiet)
    if not (as_json or quiet):
        cell = fp.grid.cell_area_km2()
        t = Table(title=f"{fp.scenario}: defended footprint ({fp.grid.shape[0]} x {fp.grid.shape[1]} grid, "
                        f"step {fp.grid.step_deg:g}°, cue: {_cue_words(fp.cue)})")
        for col in ("launch site", "threats", "in reach km²", "defended km²", "share", "mean P(intercept)"):
            t.add_column(col, justify="left" if col in ("launch site", "threats") else "right")
        for s in fp.sites:
            thr, dfd = cell[s.threatened].sum(), cell[s.defended].sum()
            # a mean over no defended cell is no number (it printed 0.00)
            p = f"{float(np.nanmean(s.p_intercept[s.defended])):.2f}" if s.defended.any() else "—"
            t.add_row(s.site.name, ", ".join(s.site.threats), f"{thr:,.0f}", f"{dfd:,.0f}",
                      f"{dfd / thr:.0%}" if thr else "—", p)
        _print_table(t)
        if automatic and any(s.threatened.any() for s in fp.sites):
            # the share is of the map's cells: a wider box adds reached, undefended ground
            _print_line("in reach: of the map's cells (the batteries' reach inside the missiles' range, grown to "
                        "take in all the ground they defend); --region or --bbox for another box")
        if any(s.defended.any() for s in fp.sites):
            # (a Redzikowo patch at 0.96 beside run's 0.000 at the same shots read as a contradiction)
            _print_line("mean P(intercept): over the defended cells, the kinematic best case (one threat, a "
                        "perfect track once one is confirmed, engaged without threat evaluation); `shieldlab "
                        "run` flies the whole chain")
        if fp.cut_at_box_edge():
            _print_line(_box_edge_note("defended ground", "areas", fp.grid_given))
        if not any(s.threatened.any() for s in fp.sites):
            _print_line("no launch site's threats reach any cell of the map: the grid lies beyond their range "
                        "(give a --region or --bbox around their targets, or none for the scenario's own)")
        for k, s in enumerate(fp.sites):
            ft = fp.first_track(k)
            if ft is not None:
                # two shares of two sets of cells: of those with a track (a choice only among two
                # systems or more), of those the threats reach
                among = "" if len({r["system"] for r in fp.sensors}) < 2 else \
                    f", first in {ft['share_of_cells']:.0%} of the cells where any system confirms a track"
                radars = ft["radars"]
                if ft["first_radar"] is None:  # only their detections together confirm it
                    by = f" (its radars together, none alone: {', '.join(radars)})"
                elif len(radars) == 1:
                    by = f" (its radar {ft['first_radar']})"
                else:  # which radar gives the track: the one that alone would confirm it first
                    by = (f", led by its radar {ft['first_radar']} (alone, the first to confirm in "
                          f"{ft['first_radar_share']:.0%} of the system's cells; its radars: {', '.join(radars)})")
                # (the JSON's tenths as they are: a median of 74.5 s read "74 s")
                _print_line(f"first track against {s.site.name}: the system {ft['system']}{by}{among}, "
                            f"{ft['median_s']:g} s after launch "
                            f"(median; 10–90 %: {ft['p10_s']:g}–{ft['p90_s']:g} s)"
                            + ("" if ft["cued_share_of_threatened"] >= 0.995 else
                               f"; no system is expected to confirm a track in "
                               f"{_share_pct(1 - ft['cued_share_of_threatened'])} of the cells the site's threats "
                               "reach"))
            elif fp.cue == "sensors" and s.threatened.any():
                _print_line(f"first track against {s.site.name}: no system is expected to confirm one")
        if note is not None:
            _print_line("note: " + note)
        heo_names = _heo_names(world)
        for sat in fp.early_warning:  # where the alerts come from (their reports cue and alert)
            whose = "every node's radars and batteries" if sat["system"] == "every" else \
                f"node {sat['system']}'s radars and batteries"
            to = sat["passed_to"]
            over = f", and over the link{'s' if len(to) > 1 else ''} those of {', '.join(to)}" if to else ""
            seen = sat.get("reports_sites", [])
            if not seen:
                _print_line(f"launch reports of {sat['name']}: none expected (it sees no launch of "
                            f"{', '.join(s.site.name for s in fp.sites)} in time to report it)")
                continue
            missed = [s.site.name for s in fp.sites if s.site.name not in seen]
            _print_line(f"launch reports of {sat['name']}: they cue and alert {whose}{over}"
                        + (f" (none expected from {', '.join(missed)})" if missed else "")
                        + (_AT_EPOCH if sat["name"] in heo_names else ""))
        _print_line(f"defended against every launch site that reaches it: {fp.defended_area_km2():,.0f} km²  ·  "
                    f"took {fp.timing_s['total']:.1f} s")
        pop = fpm.defended_population(fp)
        _print_line(f"in the towns and cities inside it: {pop.text(5)}")
        _print_line(f"  (GeoNames places of 15,000+ whose point is in a defended cell, of {fp.grid.step_deg:g}° "
                    f"(~{111.2 * fp.grid.step_deg:,.0f} km): a place near the defended edge counts as its cell does "
                    "(a finer --step-deg settles it); rural people and smaller "
                    "places not counted; figures mix city, municipality and metropolitan counts, and a section of a "
                    "city that GeoNames lists apart (and the list of sections misses) counts again: an upper "
                    "bound on the towns' people, not a census)")
        _say_wrote(wrote + ([out_png] if out_png is not None else []))


@app.command(cls=_Command)
@_guard
def coverage(
    scenario: str = typer.Argument(..., help="scenario YAML file or preset name", metavar="SCENARIO"),
    alt_km: float | None = _float_option(None, "--alt-km", "target altitude above the WGS84 ellipsoid [km] "
                                         "(default: the threats' lowest apogee, at most 100 km, as the run's "
                                         "report maps it; 100 km without threats)", 0.0, 5000.0, "km"),
    rcs_m2: float | None = _float_option(None, "--rcs-m2", "target radar cross-section [m²] (default: the "
                                                              "smallest among the scenario's threats, else each "
                                                              "radar's reference RCS)", 0.0, 1e6, "m²",
                                            lo_open=True),
    missile: str | None = typer.Option(None, "--missile", metavar="ID",
                                          help="take the RCS of this catalogue missile instead"),
    region: str | None = _REGION,
    bbox: str | None = _BBOX,
    step_deg: float | None = _STEP_DEG,
    out_png: Path | None = _MAP_OUT,
    as_json: bool = _json_option("the grid and summary as JSON"),
    json_out: Path | None = _JSON_OUT,
    force: bool = _MAP_FORCE,
    export: str | None = _EXPORT,
    export_to: Path | None = _EXPORT_TO_MAP,
    quiet: bool = _QUIET,
    settings: list[str] | None = _SET,
) -> None:
    """Map where each of a scenario's radars detects a target at one altitude (field of
    regard through the scenario's refraction, Pd = 0.5 range for the target's RCS), over country borders."""
    from shieldlab import catalog
    from shieldlab.analysis import coverage as cvm
    from shieldlab.analysis import maps

    if as_json and quiet:
        raise InputError("give --json or --quiet, not both", field="--quiet")
    _one_json_target(as_json, json_out)
    if rcs_m2 is not None and missile is not None:
        raise InputError("give --rcs-m2 or --missile, not both", field="--missile")
    m = _catalog_get(catalog.get_missile, missile, "--missile") if missile is not None else None
    grid = _map_targets_and_grid(scenario, out_png, json_out, force, region, bbox, step_deg,
                                 lambda b: cvm.step_for(max(b[1] - b[0], b[3] - b[2])))
    target = _export_targets(export, export_to, force, default=None if out_png is None else out_png.with_suffix(""),
                             taken={"--out": out_png, "--json-out": json_out})
    parsed = _one_value_settings(settings or [])
    world = _load_world(scenario, parsed)
    _compile_note("coverage", quiet)
    chosen, unflown, lowest_km = alt_km is None, None, np.inf
    if alt_km is None:  # the height the run's report maps: where the threats fly (a Scud's top is 73 km)
        from shieldlab.engine.chain import fly_threats

        try:
            apogees = fly_threats(world).truth.apogee_alt if world.threats else None
            alt_km = cvm.threat_alt_km(apogees)
            lowest_km = cvm.lowest_apogee_km(apogees) or np.inf
        except InputError as e:  # a threat that cannot be flown: the map needs no flight
            alt_km, unflown = cvm.DEFAULT_ALT_KM, e.message
    cov = cvm.compute(world, alt_km, rcs_m2=rcs_m2, missile=m, grid=grid, step_deg=step_deg)
    shown = _set_text(_with_set({"scenario": cov.scenario}, parsed, world))  # " (set field=value)" or ""
    if out_png is not None:
        maps.coverage_map(dataclasses.replace(cov, scenario=cov.scenario + shown), out_png)

    wrote = _write_map_files(target, "coverage_features", cov,
                             lambda: _with_set(cvm.to_json(cov), parsed, world), as_json, json_out, quiet)
    if as_json or quiet:
        return
    g = cov.grid
    t = Table(title=f"{cov.scenario}{shown}: radar coverage of a target at {cov.alt_km:g} km "
                    f"({g.shape[0]} x {g.shape[1]} grid, step {g.step_deg:.4g}°)")
    per_radar_rcs = cov.rcs_m2 is None
    cols = ["radar", "type", "system"] + (["RCS m²"] if per_radar_rcs else []) + ["detection km", "farthest km",
                                                                                 "covered km²"]
    for col in cols:
        # every column folds (rich folds a column whose overflow is None: the numbers always did)
        t.add_column(col, justify="left" if col in ("radar", "type", "system") else "right", overflow="fold")
    for r in cov.radars:
        t.add_row(r.name, r.sensor, r.system, *([f"{r.rcs_m2:g}"] if per_radar_rcs else []),
                  f"{r.detection_range_km:,.0f}", f"{r.farthest_km:,.0f}", f"{r.area_km2:,.0f}")
    _print_table(t)
    _print_line(f"target: {cvm.rcs_text(cov)}  ·  Pd = 0.5 single look, {cvm.propagation_text(cov)}")
    if chosen:
        why = f"the threats' lowest apogee ({lowest_km:,.1f} km) rounded down to the whole km" \
            if lowest_km < cvm.DEFAULT_ALT_KM + 1.0 else \
            f"the default (the threats could not be flown: {unflown})" if unflown else \
            "the default, below every threat's apogee" if world.threats else "the default, with no threats"
        _print_line(f"at {cov.alt_km:g} km: {why} (--alt-km for another height)")
    _print_line(f"seen by at least one radar: {cov.union_area_km2:,.0f} km²  ·  took {cov.timing_s['total']:.1f} s")
    if cov.grid.at_edge(cov.union):
        _print_line(_box_edge_note("coverage", "areas and farthest ranges", grid is not None))
    blind = [r for r in cov.radars if r.area_km2 < 0.5]  # rows that print 0 km², where others see the target
    if blind and cov.union_area_km2 >= 0.5:
        short = [r.name for r in blind if r.detection_range_km < cov.alt_km]
        other = [r.name for r in blind if r.detection_range_km >= cov.alt_km]
        if short:
            _print_line(f"{', '.join(short)}: nothing covered: the detection range is short of the target's "
                        f"{cov.alt_km:g} km height")
        if other:
            _print_line(f"{', '.join(other)}: nothing covered in this map (the field of regard, the horizon or the "
                        "grid's spacing)")
    if cov.union_area_km2 < 0.5 and cov.radars:  # prints as 0 km²
        reach = max(r.detection_range_km for r in cov.radars)
        if reach < cov.alt_km:
            _print_line(f"no radar sees a target at {cov.alt_km:g} km: the longest detection range, {reach:,.0f} "
                        "km, is short of the target's height; a lower --alt-km maps aircraft, cruise missiles and "
                        "a missile's last seconds")
        elif _seen_between_nodes(world, cov, rcs_m2, m):
            _print_line(f"no grid node is seen: the nodes, {cov.grid.step_deg * 111.2:,.0f} km apart, are too "
                        f"sparse for a coverage reaching {reach:,.0f} km at most; a finer --step-deg maps it")
        else:
            # each radar's own reason: a range short of the height, or a field of regard (or the
            # horizon) that misses the map (at 5,000 km the SPY-1s' 598 km were said to miss it)
            short = [r.name for r in cov.radars if r.detection_range_km < cov.alt_km]
            why = "their fields of regard miss it" if not short else (
                f"{', '.join(short)}: the detection range is short of its height; the others' fields of regard "
                "miss it")
            _print_line(f"no radar sees a target at {cov.alt_km:g} km inside this map: {why}"
                        + (" (a wider --bbox or --region, or none, maps where they reach)" if grid is not None else ""))
    _say_wrote(wrote + ([out_png] if out_png is not None else []))


def _seen_between_nodes(world, cov, rcs_m2, missile) -> bool:
    """Whether a radar of ``cov`` sees the target somewhere in the map's box between its nodes:
    the coverage again on a grid up to eight times finer (at most ~2 million nodes), through
    the radars' own fields of regard and ranges."""
    from shieldlab.analysis import coverage as cvm
    from shieldlab.analysis.footprint import Grid

    g = cov.grid
    f = int(max(2, min(8, math.sqrt(2e6 / max(g.lat_deg.size * g.lon_deg.size, 1)))))
    step = g.step_deg / f if g.lat_deg.size > 1 else float(g.lon_deg[1] - g.lon_deg[0]) / f
    fine = Grid(np.arange(g.lat_deg[0], g.lat_deg[-1] + 1e-9, step),
                np.arange(g.lon_deg[0], g.lon_deg[-1] + 1e-9, step))
    return bool(cvm.compute(world, cov.alt_km, rcs_m2=rcs_m2, missile=missile, grid=fine).union.any())


def _false_alarms(text: str | None):
    if text is None:
        return None
    if text in ("confirmed", "raw"):
        return text
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    from shieldlab.scenario.schema import MAX_FALSE_ALARMS

    if not (0.0 <= v <= MAX_FALSE_ALARMS):
        raise InputError(f"must be confirmed, raw or a number of false alarms per search frame in "
                         f"[0, {MAX_FALSE_ALARMS:g}], "
                         f"not {text!r}", field="--false-alarms")
    return v


@app.command(cls=_Command)
@_guard
def tracks(
    scenario: str = typer.Argument(..., help="scenario YAML file or preset name", metavar="SCENARIO"),
    runs: int = typer.Option(16, "--runs", min=1, max=MAX_RUNS, help="Monte Carlo runs"),
    seed: int = typer.Option(1, "--seed", min=0, help="random seed: same seed, same numbers (and the same "
                                                       "threat reports as shieldlab run)"),
    false_alarms: str | None = typer.Option(None, "--false-alarms", metavar="MODE",
                                               help="confirmed, raw or a mean number per search frame "
                                                    "[default: the scenario's sensing.false_alarms]"),
    as_json: bool = _json_option("the summary as JSON"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors"),
    out: Path | None = typer.Option(None, "--out", parser=_path, metavar="FILE.parquet",
                                   help="write one row per confirmed track (run, picture, track number, the object "
                                        "it followed, when it started, was confirmed, took its last report and "
                                        "ended, its reports, purity and radars) to this Parquet file"),
    force: bool = typer.Option(False, "--force", help="replace an existing --out file"),
    settings: list[str] | None = _SET,
) -> None:
    """Track a scenario's objects from reports without labels (threats, spent boosters, false
    alarms): gating, global-nearest-neighbour association, M-of-N confirmation, deletion;
    print the track quality of each picture (no engagements are fought)."""
    from shieldlab.engine.tracks import track_runs
    from shieldlab.io.atomic import check_target

    if as_json and quiet:
        raise InputError("give --json or --quiet, not both", field="--quiet")
    if force and out is None:
        raise InputError("replaces the --out file: give --out", field="--force")
    fa = _false_alarms(false_alarms)  # (the options' own problems before the file's: --force hid them)
    if out is not None:
        # the name's kind first: --force would only have led to this refusal
        if out.suffix.lower() != ".parquet":  # (".parquet" alone is a hidden file without a suffix)
            raise InputError(f"{out}: the track table is Parquet; give a file name ending in .parquet", field="--out")
        check_target(out, "--out", force=force)
    parsed = _one_value_settings(settings)
    world = _load_world(scenario, parsed)
    from shieldlab.engine.chain import require_threats

    require_threats(world)
    if not world.sensors:  # nothing would report: an empty table said nothing of why
        raise InputError("the scenario has no radars, so nothing reports to be tracked", source=world.source,
                         field="sensors")
    from shieldlab.tracking.mtt import unsupported_filter

    why = unsupported_filter(world.scenario.tracking.filter)  # before the compile note, naming the file
    if why is not None:
        raise InputError(why, source=world.source, field="tracking.filter")
    _compile_note("tracks", quiet or as_json)
    with _progress(runs, enabled=not (quiet or as_json)) as progress:
        res = track_runs(world, runs, seed, fa, progress=progress, keep_tracks=out is not None)
    summ = _with_set(res.summary(), parsed, world)
    if out is not None:
        from shieldlab import __version__
        from shieldlab.io.output import write_parquet
        from shieldlab.outcome.track_table import DESCRIPTIONS, empty_rows

        # (the tracker's own settings: the multi-target tracker's, whatever the scenario's)
        made = _with_set({"scenario": world.scenario.name}, parsed, world) | {
            "runs": runs, "seed": seed, "tracking": summ.get("tracking"), "false_alarms": summ.get("false_alarms"),
            "false_alarms_per_search_frame": summ.get("false_alarms_per_search_frame"), "shieldlab": __version__}
        # what made the file and what its columns hold, in the file itself (a query of it has no summary)
        write_parquet(res.tracks if res.tracks is not None else empty_rows(), out,
                      metadata={"shieldlab.made_by": json.dumps(made, default=str),
                                "shieldlab.columns": json.dumps(DESCRIPTIONS)}, descriptions=DESCRIPTIONS)
    if as_json:
        if out is not None:  # (as the map commands: stdout holds the JSON alone)
            _err().print(f"wrote {out} (one row per confirmed track)", soft_wrap=True)
        sys.stdout.write(json.dumps(summ, separators=(",", ":")) + "\n")
        return
    if quiet:
        return

    def f(v, scale=1.0, fmt="{:,.0f}"):
        return "—" if v is None else fmt.format(v / scale)

    t = Table(title=f"{world.scenario.name}{_set_text(summ)}: multi-target track quality "
                    f"({summ['tracking']['filter'].upper()} "
                    f"tracks), {_plural(runs, 'run')} "
                    f"(means over runs; GOSPA c = 5 km over threats and boosters)")
    for col in ("picture", "GOSPA km", "localisation m", "missed", "false/surplus", "position RMSE m",
                "velocity RMSE m/s", "NEES", "NEES > χ² 99 %", "breaks/run", "false tracks/h", "booster tracks/run",
                "purity", "first firm track s"):
        t.add_column(col, justify="left" if col == "picture" else "right", overflow="fold")
    for name, q in summ["pictures"].items():
        t.add_row(name, f(q["gospa_m"], 1e3, "{:.2f}"), f(q["localisation_m"]), f(q["missed_targets"], fmt="{:.2f}"),
                  f(q["false_tracks"], fmt="{:.2f}"), f(q["position_rmse_m"]), f(q["velocity_rmse_ms"]),
                  f(q["mean_nees"], fmt="{:,.1f}"), f(q["nees_over_99"], fmt="{:.2%}"),
                  f(q["track_breaks"], fmt="{:.1f}"), f(q["false_tracks_per_hour"], fmt="{:.1f}"),
                  f(q["booster_tracks"], fmt="{:.1f}"), f(q["purity"], fmt="{:.1%}"),
                  f(q["median_time_to_firm_track_s"], fmt="{:.0f}"))
    _print_table(t)
    cfg = world.scenario.tracking
    for name, q in summ["pictures"].items():
        if not q["threats_tracked"]:  # a firm track is the whole point: say what withholds it
            _print_line(f"{name}: no threat got a firm track in any run. A track is confirmed on "
                        f"{cfg.init_hits} reports in its first {cfg.confirm_looks} looks once its velocity "
                        f"is known to {cfg.confirm_sigma_v_ms:g} m/s (tracking.init_hits, confirm_looks, "
                        f"confirm_sigma_v_ms); its radars may not see the threats either (shieldlab coverage)")
    note = _nees_note(summ["pictures"])
    if note:
        _print_line(note)
    _print_line(_false_alarm_text(summ["false_alarms"], summ["false_alarms_per_search_frame"]))
    _print_line(_management_text(summ["tracking"]))
    if summ["tracking"]["init_hits"] == 1:
        _print_line(_one_report_note("tracking.init_hits 1"))
    _print_line(f"took {res.timings['total_s']:.1f} s")
    if out is not None:  # after the table, as run and the map commands say what they wrote
        _say_wrote([f"{out} (one row per confirmed track)"])


def _write_map_files(target, features: str, result, payload, as_json: bool, json_out: Path | None,
                     quiet: bool) -> list:
    """A map command's exports (``shieldlab.io.export.<features>(result)`` where ``target``
    asks) and its JSON (``payload()``: to ``json_out``, or stdout with ``as_json``), written
    before the table is printed (a closed stdout then loses no file); returns the paths
    written, for :func:`_say_wrote` after the table (at once on stderr with ``as_json``)."""
    from shieldlab.io.atomic import write_text

    written: list = []
    if target is not None:
        from shieldlab.io import export as X

        written += list(X.write(getattr(X, features)(result), target[1], target[0]))
    if json_out is not None:
        write_text(json_out, json.dumps(payload(), separators=(",", ":")) + "\n")
        written.append(json_out)
    elif as_json:
        sys.stdout.write(json.dumps(payload(), separators=(",", ":")) + "\n")
    if as_json and not quiet:
        for p in written:
            _err().print(f"wrote {p}", soft_wrap=True)
    return written


def _say_wrote(paths) -> None:
    for p in paths:  # (a path is never wrapped)
        out.print(f"wrote {p}", soft_wrap=True)
