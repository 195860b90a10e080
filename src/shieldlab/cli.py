"""The ``shieldlab`` command: Typer front end over the library.

Bad input of any kind (file, field, flag) ends with one line on stderr naming
the file and field, exit code 2, and no output file written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import functools

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from shieldlab.errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="shieldlab: simulate integrated air and missile defence, threat to outcome.")
out = Console()
DEMO_PRESET = "epaa-phase-1"


def _guard(fn):
    """Turn bad input into one line on stderr and exit code 2 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from shieldlab.catalog import CatalogError

        try:
            return fn(*args, **kwargs)
        except (InputError, CatalogError) as e:
            Console(stderr=True).print(f"[red]error:[/] {e}", highlight=False, soft_wrap=True, markup=True)
            raise typer.Exit(2) from None

    return wrapper


def _latlon(text: str, flag: str) -> tuple[float, float]:
    try:
        lat, lon = (float(x) for x in text.split(","))
    except ValueError:
        raise InputError(f"expected LAT,LON in degrees, got {text!r}", field=flag) from None
    if not -90.0 <= lat <= 90.0:
        raise InputError(f"latitude {lat} is outside [-90, 90] degrees", field=flag)
    if not -180.0 <= lon <= 180.0:
        raise InputError(f"longitude {lon} is outside [-180, 180] degrees", field=flag)
    return lat, lon


def _check_profile(profile: str) -> None:
    from shieldlab.flyout import aim

    if profile not in aim.PROFILES:
        raise InputError(f"must be one of {', '.join(aim.PROFILES)}, not {profile!r}", field="--profile")


def _load_world(scenario: str):
    from shieldlab.scenario import load_world

    return load_world(scenario)


def _print_summary(summary: dict, elapsed: float | None = None) -> None:
    t = Table(title=f"{summary['scenario']} — {summary['runs']} runs, seed {summary['seed']}")
    for col, just in (("threat", "left"), ("missile", "left"), ("P(intercept)", "right"), ("P(leak)", "right"),
                      ("interceptors", "right")):
        t.add_column(col, justify=just)
    for row in summary["per_threat"]:
        t.add_row(row["threat"], row["missile"], f"{row['p_intercept']:.3f}", f"{row['p_leak']:.3f}",
                  f"{row['mean_interceptors']:.2f}")
    out.print(t)
    out.print(f"mean leakers per raid [bold]{summary['mean_leakers']:.2f}[/]  ·  "
              f"mean interceptors fired [bold]{summary['mean_interceptors_fired']:.2f}[/]  ·  "
              f"P(no leaker) [bold]{summary['p_no_leaker']:.3f}[/]  ·  "
              f"mean assets hit [bold]{summary['mean_assets_hit']:.2f}[/]"
              + (f"  ·  {elapsed:.1f} s" if elapsed is not None else ""))


def _print_timeline(events: dict, run: int = 0, limit: int = 80) -> None:
    m = events["run"] == run
    t = Table(title=f"timeline of run {run}")
    for col in ("t [s]", "threat", "event", "by", "detail"):
        t.add_column(col)
    idx = np.flatnonzero(m)[:limit]
    for i in idx:
        t.add_row(f"{events['t_s'][i]:8.1f}", events["threat"][i], events["kind"][i], events["actor"][i],
                  events["detail"][i])
    out.print(t)


def _simulate(scenario: str, runs: int, seed: int, out_dir: Optional[Path], as_json: bool, timeline: bool) -> None:
    import time

    from shieldlab.engine.montecarlo import simulate
    from shieldlab.io.output import write_results

    world = _load_world(scenario)
    t0 = time.perf_counter()
    res = simulate(world, runs=runs, seed=seed)
    elapsed = time.perf_counter() - t0
    if out_dir is not None:
        write_results(out_dir, res.summary, res.outcomes, res.events)
    if as_json:
        sys.stdout.write(json.dumps(res.summary, indent=2) + "\n")
        return
    _print_summary(res.summary, elapsed)
    if timeline:
        _print_timeline(res.events)
    if out_dir is not None:
        out.print(f"wrote {out_dir}/summary.json, outcomes.parquet, events.parquet")


@app.command()
@_guard
def run(
    scenario: str = typer.Argument(..., help="scenario YAML file or preset name"),
    runs: int = typer.Option(100, "--runs", min=1, max=1_000_000, help="Monte Carlo runs"),
    seed: int = typer.Option(1, "--seed", min=0, help="random seed: same seed, same numbers"),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="write summary.json, outcomes.parquet, events.parquet here"),
    as_json: bool = typer.Option(False, "--json", help="print summary.json instead of a table"),
) -> None:
    """Run a scenario's kill chain over Monte Carlo runs."""
    _simulate(scenario, runs, seed, out_dir, as_json, timeline=False)


@app.command()
@_guard
def demo(
    runs: int = typer.Option(100, "--runs", min=1, max=1_000_000),
    seed: int = typer.Option(1, "--seed", min=0),
    out_dir: Path = typer.Option(Path("out/demo"), "--out"),
) -> None:
    """The flagship preset (EPAA phase 1) end to end: summary, timeline and files."""
    out.print(f"[bold]shieldlab demo[/]: preset {DEMO_PRESET}, {runs} runs")
    _simulate(DEMO_PRESET, runs, seed, out_dir, as_json=False, timeline=True)


@app.command()
@_guard
def flyout(
    missile: str = typer.Argument(..., help="catalogue missile id (see `shieldlab catalog missiles`)"),
    src: str = typer.Option(..., "--from", help="launch point LAT,LON [deg]"),
    dst: str = typer.Option(..., "--to", help="aim point LAT,LON [deg]"),
    profile: str = typer.Option("min-energy", "--profile", help="min-energy, lofted or depressed"),
    apogee_km: Optional[float] = typer.Option(None, "--apogee-km", min=1.0, max=5000.0,
                                              help="shape a lofted/depressed shot by its apogee"),
    flight_time_s: Optional[float] = typer.Option(None, "--flight-time-s", min=1.0, max=5000.0,
                                                  help="shape a lofted/depressed shot by its flight time"),
    runs: int = typer.Option(0, "--runs", min=0, max=1_000_000, help="dispersed shots for a CEP (0: nominal only)"),
    seed: int = typer.Option(1, "--seed", min=0),
    thrust_pct: float = typer.Option(0.1, "--thrust-pct", min=0.0, max=20.0, help="1-sigma thrust dispersion [%]"),
    isp_pct: float = typer.Option(0.1, "--isp-pct", min=0.0, max=20.0, help="1-sigma specific impulse dispersion [%]"),
    burn_pct: float = typer.Option(0.1, "--burn-pct", min=0.0, max=20.0, help="1-sigma burn time dispersion [%]"),
    drag_pct: float = typer.Option(3.0, "--drag-pct", min=0.0, max=50.0, help="1-sigma drag dispersion [%]"),
    azimuth_mrad: float = typer.Option(0.5, "--azimuth-mrad", min=0.0, max=50.0, help="1-sigma azimuth error"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Fly one missile from a launch point to an aim point (rotating Earth, J2, drag);
    with --runs, also the CEP of dispersed shots about the aim point."""
    from shieldlab import catalog, earth
    from shieldlab.flyout import aim
    from shieldlab.flyout.integrate import fly
    from shieldlab.flyout.vehicle import vehicle_from_missiles

    lat0, lon0 = _latlon(src, "--from")
    lat1, lon1 = _latlon(dst, "--to")
    _check_profile(profile)
    m = catalog.get_missile(missile)
    la0, lo0, la1, lo1 = np.radians([lat0, lon0, lat1, lon1])
    try:
        st = aim.solve([m], la0, lo0, 0.0, la1, lo1, profile,
                       apogee=None if apogee_km is None else 1e3 * apogee_km, flight_time=flight_time_s)
    except aim.ShapeError as e:
        raise InputError(str(e), field="--apogee-km" if apogee_km is not None else "--flight-time-s") from None
    except aim.AimError as e:
        raise InputError(str(e), field="--to") from None
    tr = fly(vehicle_from_missiles([m]), earth.geodetic_to_ecef(la0, lo0, 0.0)[None], np.zeros(1), st.kick,
             st.azimuth, st.cutoff, t0=0.0, dt=0.5, T=int(6000 / 0.5))
    ilat, ilon, _ = earth.ecef_to_geodetic(tr.impact_pos[0])
    res = {
        "missile": m.id,
        "profile": profile,
        "launch_lat_deg": lat0, "launch_lon_deg": lon0, "aim_lat_deg": lat1, "aim_lon_deg": lon1,
        "burnout_time_s": round(float(tr.burnout_time[0]), 3),
        "burnout_speed_kms": round(float(tr.burnout_speed[0]) / 1e3, 4),
        "apogee_km": round(float(tr.apogee_alt[0]) / 1e3, 3),
        "time_of_flight_s": round(float(tr.impact_time[0]), 3),
        "ground_range_km": round(float(earth.great_circle_distance(la0, lo0, ilat, ilon)) / 1e3, 3),
        "impact_lat_deg": round(float(np.degrees(ilat)), 5),
        "impact_lon_deg": round(float(np.degrees(ilon)), 5),
        "aim_error_km": round(float(earth.great_circle_distance(ilat, ilon, la1, lo1)) / 1e3, 3),
        "launch_azimuth_deg": round(float(np.degrees(st.azimuth[0])), 4),
        "pitch_over_deg": round(float(np.degrees(st.kick[0])), 4),
        "thrust_cutoff_s": None if not np.isfinite(st.cutoff[0]) else round(float(st.cutoff[0]), 3),
        "max_range_km": round(float(st.max_range[0]) / 1e3, 1),
    }
    if runs:
        from shieldlab.flyout.dispersion import Dispersion, impact_scatter

        d = Dispersion(thrust=thrust_pct / 100, isp=isp_pct / 100, burn_time=burn_pct / 100, drag=drag_pct / 100,
                       azimuth=azimuth_mrad / 1e3)
        _, _, c = impact_scatter(m, la0, lo0, la1, lo1, d, runs, seed, profile,
                                 apogee=None if apogee_km is None else 1e3 * apogee_km, flight_time=flight_time_s)
        res.update(runs=runs, seed=seed, cep_km=round(c / 1e3, 4))
    if as_json:
        sys.stdout.write(json.dumps(res, indent=2) + "\n")
        return
    t = Table(title=f"{m.name}: {lat0:.2f},{lon0:.2f} → {lat1:.2f},{lon1:.2f} ({profile})", show_header=False)
    for k, v in res.items():
        t.add_row(k, str(v))
    out.print(t)


@app.command()
@_guard
def reach(
    interceptor: str = typer.Argument(..., help="catalogue interceptor id (see `shieldlab catalog interceptors`)"),
    site: str = typer.Option(..., "--site", help="interceptor site LAT,LON [deg]"),
    missile: str = typer.Option(..., "--missile", help="catalogue missile id"),
    src: str = typer.Option(..., "--from", help="threat launch point LAT,LON [deg]"),
    dst: str = typer.Option(..., "--to", help="threat aim point LAT,LON [deg]"),
    cue_delay_s: float = typer.Option(60.0, "--cue-delay-s", min=0.0, max=3600.0,
                                      help="seconds from the threat's launch until the battery is cued"),
    profile: str = typer.Option("min-energy", "--profile"),
    burnout_speed_kms: Optional[float] = typer.Option(None, "--burnout-speed-kms", min=0.01, max=20.0,
                                                      help="override the catalogue burnout speed"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Can INTERCEPTOR at --site catch that trajectory? The window, altitudes and closing
    speed — or the burnout speed it would need."""
    from shieldlab import catalog
    from shieldlab.analysis.reach import analyse
    from shieldlab.flyout import aim

    slat, slon = _latlon(site, "--site")
    lat0, lon0 = _latlon(src, "--from")
    lat1, lon1 = _latlon(dst, "--to")
    _check_profile(profile)
    spec = catalog.get_interceptor(interceptor)
    m = catalog.get_missile(missile)
    r = np.radians
    try:
        res = analyse(spec, r(slat), r(slon), m, r(lat0), r(lon0), r(lat1), r(lon1), cue_delay_s, profile,
                      None if burnout_speed_kms is None else 1e3 * burnout_speed_kms)
    except aim.AimError as e:
        raise InputError(str(e), field="--to") from None
    out_d = {"interceptor": spec.id, "missile": m.id, "site_lat_deg": slat, "site_lon_deg": slon,
             "burnout_speed_kms": burnout_speed_kms or spec.burnout_speed_kms, "cue_delay_s": cue_delay_s,
             "ready_s": res.t_ready, "feasible": res.feasible, "earliest": res.earliest, "latest": res.latest,
             "needed_burnout_speed_kms": res.needed_burnout_speed_kms, "threat": res.threat}
    if as_json:
        sys.stdout.write(json.dumps(out_d, indent=2) + "\n")
        return
    if res.feasible:
        e, l_ = res.earliest, res.latest
        out.print(f"[green]{spec.name} can catch it[/]: window {e['time_s']:.0f}–{l_['time_s']:.0f} s after launch, "
                  f"earliest at {e['alt_km']:.0f} km altitude, closing at {e['closing_speed_kms']:.1f} km/s")
    else:
        need = res.needed_burnout_speed_kms
        out.print(f"[red]{spec.name} cannot catch it[/]"
                  + (f": it would need a burnout speed of {need:.2f} km/s" if need else ": its envelope never meets "
                     "the trajectory"))


def _bbox(text: str) -> tuple[float, float, float, float]:
    try:
        lat0, lat1, lon0, lon1 = (float(x) for x in text.split(","))
    except ValueError:
        raise InputError(f"expected LAT_MIN,LAT_MAX,LON_MIN,LON_MAX in degrees, got {text!r}", field="--bbox") from None
    return lat0, lat1, lon0, lon1


@app.command()
@_guard
def footprint(
    scenario: str = typer.Argument(..., help="scenario YAML file or preset name"),
    out_png: Optional[Path] = typer.Option(None, "--out", help="write the map (PNG) here"),
    as_json: bool = typer.Option(False, "--json", help="print the grid and summary as JSON"),
    json_out: Optional[Path] = typer.Option(None, "--json-out", help="write the JSON here instead of stdout"),
    site: Optional[list[str]] = typer.Option(None, "--site",
                                             help="only this launch site (name, launch place or missile id); repeatable"),
    region: Optional[str] = typer.Option(None, "--region", help="named grid region: europe (lat 34..72, lon -12..45)"),
    bbox: Optional[str] = typer.Option(None, "--bbox", help="grid box LAT_MIN,LAT_MAX,LON_MIN,LON_MAX [deg]"),
    step_deg: Optional[float] = typer.Option(None, "--step-deg", help="grid step [deg] (default 0.25 with --region, "
                                                                       "else about 160 nodes across)"),
    cue_delay_s: Optional[float] = typer.Option(None, "--cue-delay-s",
                                                help="fixed launch-to-cue delay [s] instead of the scenario's sensors"),
    aircraft: bool = typer.Option(False, "--aircraft", help="map the batteries' reach against aircraft instead"),
    alt_km: float = typer.Option(10.0, "--alt-km", help="aircraft altitude for --aircraft [km]"),
    country: str = typer.Option("Syria", "--country", help="with --aircraft: report the reach past the border into "
                                                            "this country (Natural Earth name)"),
) -> None:
    """Map the ground a scenario's batteries defend against each launch site (probability of
    intercept under its doctrine), or with --aircraft their reach against aircraft."""
    from shieldlab.analysis import footprint as fpm
    from shieldlab.io.atomic import write_text

    if step_deg is not None and not 0.01 <= step_deg <= 10.0:
        raise InputError(f"must be in [0.01, 10] degrees, got {step_deg}", field="--step-deg")
    if region is not None and bbox is not None:
        raise InputError("give --region or --bbox, not both", field="--bbox")
    if region is not None:
        grid = fpm.region_grid(region, step_deg or 0.25)
    elif bbox is not None:
        grid = fpm.make_grid(*_bbox(bbox), step_deg or 0.25)
    else:
        grid = None
    world = _load_world(scenario)
    from shieldlab.analysis import maps

    if aircraft:
        res = fpm.aircraft_reach(world, alt_km, grid=grid, focus=country)
        payload = fpm.aircraft_json(res)
        if out_png is not None:
            maps.aircraft_map(res, out_png)
        _emit_json(payload, as_json, json_out, write_text)
        if not as_json:
            t = Table(title=f"{res.scenario}: reach against aircraft at {alt_km:g} km"
                            + (f" into {res.focus}" if res.focus else ""))
            for col in ("battery", "interceptor", "reach km", "limited by", f"area in {res.focus} km²",
                        "past border km"):
                t.add_column(col, justify="left" if col in ("battery", "interceptor", "limited by") else "right")
            for b in res.batteries:
                lim = min(b["limits"], key=b["limits"].get)
                t.add_row(b["name"], b["interceptor"], f"{b['reach_km']:.0f}", lim.replace("_km", ""),
                          f"{b.get('area_in_focus_km2', 0):,.0f}",
                          "—" if b.get("depth_km") is None else f"{b['depth_km']:.0f}")
            out.print(t)
            if res.focus:
                out.print(f"together: {res.focus_area_km2:,.0f} km² of {res.focus} within reach, up to "
                          f"{payload['max_depth_km'] or 0:.0f} km past the {res.home or '?'}–{res.focus} border")
            if out_png is not None:
                out.print(f"wrote {out_png}")
        return
    fp = fpm.compute(world, grid=grid, site_names=site or None, cue_delay_s=cue_delay_s)
    if grid is None and step_deg is not None:
        g = fp.grid
        grid = fpm.make_grid(g.lat_deg[0], g.lat_deg[-1], g.lon_deg[0], g.lon_deg[-1], step_deg)
        fp = fpm.compute(world, grid=grid, site_names=site or None, cue_delay_s=cue_delay_s)
    if out_png is not None:
        maps.footprint_map(fp, out_png)
    _emit_json(fpm.to_json(fp) if (as_json or json_out) else None, as_json, json_out, write_text)
    if not as_json:
        cell = fp.grid.cell_area_km2()
        t = Table(title=f"{fp.scenario}: defended footprint ({fp.grid.shape[0]} x {fp.grid.shape[1]} grid, "
                        f"step {fp.grid.step_deg:g}°, cue: {fp.cue})")
        for col in ("launch site", "threats", "in reach km²", "defended km²", "share", "mean P(intercept)"):
            t.add_column(col, justify="left" if col in ("launch site", "threats") else "right")
        for s in fp.sites:
            thr, dfd = cell[s.threatened].sum(), cell[s.defended].sum()
            p = float(np.nanmean(s.p_intercept[s.defended])) if s.defended.any() else 0.0
            t.add_row(s.site.name, ", ".join(s.site.threats), f"{thr:,.0f}", f"{dfd:,.0f}",
                      f"{dfd / thr:.0%}" if thr else "—", f"{p:.2f}")
        out.print(t)
        out.print(f"defended against every launch site that reaches it: {fp.defended_area_km2():,.0f} km²  ·  "
                  f"{fp.timing_s['total']:.1f} s")
        if out_png is not None:
            out.print(f"wrote {out_png}")


def _emit_json(payload, as_json: bool, json_out: Optional[Path], write_text) -> None:
    if payload is None:
        return
    text = json.dumps(payload, separators=(",", ":")) + "\n"
    if json_out is not None:
        write_text(json_out, text)
    elif as_json:
        sys.stdout.write(text)


@app.command()
@_guard
def presets(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the built-in scenarios."""
    from shieldlab.scenario.loader import load, preset_names

    rows = [{"name": n, "description": load(n).description.strip().split("\n")[0]} for n in preset_names()]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    t = Table(title="presets")
    t.add_column("name")
    t.add_column("description")
    for r in rows:
        t.add_row(r["name"], r["description"])
    out.print(t)


@app.command()
@_guard
def validate(scenario: str = typer.Argument(..., help="scenario YAML file or preset name"),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Check a scenario: schema, references, catalogue ids.  Exit 0 if valid, 2 if not."""
    world = _load_world(scenario)
    info = {"scenario": world.scenario.name, "valid": True, "sensors": len(world.sensors),
            "batteries": len(world.batteries), "threats": len(world.threats), "assets": len(world.assets)}
    if as_json:
        sys.stdout.write(json.dumps(info, indent=2) + "\n")
    else:
        out.print(f"[green]valid[/]: {info['scenario']} — {info['sensors']} sensors, {info['batteries']} batteries, "
                  f"{info['threats']} threats, {info['assets']} assets")


@app.command("catalog")
@_guard
def catalog_cmd(kind: str = typer.Argument("missiles", help="missiles, interceptors or sensors"),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """List the built-in catalogue with sources."""
    from shieldlab import catalog

    tables = {"missiles": catalog.missiles, "interceptors": catalog.interceptors, "sensors": catalog.sensors}
    if kind not in tables:
        raise InputError(f"must be one of {', '.join(tables)}, not {kind!r}", field="KIND")
    entries = tables[kind]()
    if as_json:
        sys.stdout.write(json.dumps([e.model_dump() for e in entries.values()], indent=2) + "\n")
        return
    t = Table(title=f"{kind} ({len(entries)})")
    key = {"missiles": "max_range_km", "interceptors": "burnout_speed_kms", "sensors": "max_range_km"}[kind]
    for col in ("id", "name", key, "source"):
        t.add_column(col, overflow="fold")
    for e in entries.values():
        t.add_row(e.id, e.name, f"{getattr(e, key):g}", e.source[:90])
    out.print(t)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad input or usage)."""
    try:
        app(args=argv, prog_name="shieldlab")
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())


def entry() -> None:
    """Console-script entry: exit with :func:`main`'s code."""
    sys.exit(main())
