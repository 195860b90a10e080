"""Shelling over Monte Carlo runs: fire the missions, see the rounds with the weapon-locating radars,
estimate each round's point of origin from the reports alone, and judge it against the truth and
the border.

Runs x missions: run ``r`` of mission ``m`` draws from the children of
``SeedSequence(seed, spawn_key=(SHELL_KEY, m, r))``: the first fires the mission's rounds of that run
(:func:`shieldlab.artillery.fire.fire`), the next one per radar its detection draws and noise
(:func:`shieldlab.artillery.locating.observe`).  So a run's numbers do not depend on how the runs
are chunked, nor a mission's on the others.  Truth flows one way: the estimator
(:func:`shieldlab.artillery.origin.locate`) reads the radar's reports only; the truth returns in the
scoring (errors, sides of the border, NEES).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from shieldlab import earth
from shieldlab.airspace import borders
from shieldlab.artillery import ellipse as ell
from shieldlab.artillery.fire import Volley, fire
from shieldlab.artillery.laying import Laying, LayingError, lay
from shieldlab.artillery.locating import Reports, observe, rises_through_fence, truth_at
from shieldlab.artillery.origin import Origins, locate
from shieldlab.engine.eventlog import TableResult, event_table, plain, probability, result_line
from shieldlab.errors import InputError
from shieldlab.stats import mean_interval

__all__ = ["SHELL_KEY", "ShellingResult", "SceneRun", "simulate_shelling", "check", "lay_missions", "territory",
           "round_name", "volley_rows", "ROUND_COLUMNS"]

#: First element of every shelling stream's spawn key (the air picture's is 0xA1, the ballistic
#: chain's are run numbers).
SHELL_KEY = 0xA2
#: Most rounds flown together (memory: a round's kept flight is ~100 kB).
CHUNK_ROUNDS = 512
#: Probability of the error ellipses reported.
ELLIPSE_P = 0.95


def round_name(mission: str, k: int) -> str:
    """The name of round ``k`` (0-based) of fire mission ``mission``."""
    return f"{mission}#{k + 1}"


@dataclass
class SceneRun:
    """The scene's run, for the report and the 3-D scene: the rounds flown (truth), and per radar
    its reports and estimates."""

    run: int
    volley: Volley
    reports: list[Reports]
    origins: list[Origins]


@dataclass
class ShellingResult(TableResult):
    TABLES = ("rounds", "events")
    summary: dict
    rounds: dict[str, np.ndarray]
    events: dict[str, np.ndarray]
    scene: SceneRun | None = None
    laying: Laying | None = None
    territory: borders.Territory | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        """A line a notebook can show (the whole record was 67,000 characters)."""
        return result_line("ShellingResult", self.summary, {"rounds": self.rounds, "events": self.events})


def _missions(world):
    sh = world.shelling
    return [] if sh is None else list(sh.missions)


def lay_missions(world) -> Laying:
    """Lay every fire mission of ``world``; an aim out of reach raises :class:`InputError` naming it."""
    ms = _missions(world)
    try:
        return lay([m.round for m in ms], tuple(np.array([m.origin[k] for m in ms]) for k in range(3)),
                   tuple(np.array([m.aim[k] for m in ms]) for k in range(3)),
                   speed=np.array([m.speed for m in ms]), angle=[m.angle for m in ms])
    except LayingError as e:
        raise InputError(f"{ms[e.index].name}: {e.message}", source=world.source,
                         field=f"shelling.missions[{e.index}].aim") from None


def territory(world) -> borders.Territory:
    """The territory of the shelling's country, projected about the middle of its missions and radars,
    wide enough for them all."""
    sh = world.shelling
    assert sh is not None
    lat = np.array([m.origin[0] for m in sh.missions] + [m.aim[0] for m in sh.missions] + [r.lat for r in sh.radars])
    lon = np.array([m.origin[1] for m in sh.missions] + [m.aim[1] for m in sh.missions] + [r.lon for r in sh.radars])
    lat0, lon0, far = borders.spread(lat, lon)
    try:
        return borders.territory(sh.country, waters_nmi=sh.waters_nmi, around_deg=(round(lat0, 6), round(lon0, 6)),
                                 radius_km=float(min(max(far + 150.0, 200.0), 3000.0)))
    except InputError as e:
        raise InputError(e.message, source=world.source, field="shelling.country") from None


def sighting(r, m) -> dict:
    """How locating radar ``r`` stands to fire mission ``m``'s weapon: ``radar`` (its name),
    ``range_km`` to the weapon, ``reach_km`` (the radar's for the round's class) and
    ``in_sector`` (the weapon's azimuth in the radar's sector)."""
    az, _, rng = earth.ecef_to_aer(earth.geodetic_to_ecef(*m.origin), r.lat, r.lon, r.alt)
    reach = 1e3 * r.spec.range_km(m.round.locating_class)
    return {"radar": r.name, "range_km": float(rng) / 1e3, "reach_km": reach / 1e3, "in_sector": bool(r.in_sector(az))}


def in_view(s: dict) -> bool:
    """Whether a :func:`sighting` sees the weapon: in the radar's sector and reach."""
    return bool(s["in_sector"]) and s["range_km"] <= s["reach_km"]


def sees(r, m) -> bool:
    """Whether locating radar ``r`` can see fire mission ``m``'s weapon (:func:`in_view`)."""
    return in_view(sighting(r, m))


def check(world) -> dict:
    """Every check a simulation of the shelling hits before it starts: each mission laid (an aim out of
    reach raises :class:`InputError` naming it), and what ``shieldlab validate`` prints: per mission
    its range, elevation and time of flight, and which radars could see its rounds."""
    sh = world.shelling
    assert sh is not None
    laying = lay_missions(world)
    territory(world)
    out = []
    for i, m in enumerate(sh.missions):
        seen = [sighting(r, m) for r in sh.radars]
        out.append({"mission": m.name, "round": m.round.id, "rounds": m.n_rounds,
                    "range_km": float(laying.range[i]) / 1e3, "elevation_deg": math.degrees(laying.elevation[i]),
                    "time_of_flight_s": float(laying.time_of_flight[i]), "radars": seen})
    return {"missions": out, "radars": len(sh.radars), "country": sh.country}


#: Reports under thrust worth a note [s]: a rocket first reported this long or longer before its
#: motor burns out (a Grad seen 1 s before burnout fitted at chi-square 2.6 a degree of freedom;
#: one seen 0.1 s before, 0.99).
BURN_NOTE_S = 0.5


def _unseen_reasons(loc, missions) -> list[str]:
    """Per mission, why weapon-locating radar ``loc`` would not see its rounds as the geometry
    says: the weapon outside the radar's sector, or farther than its reach against the round's
    class; plain "not detected" where neither (the engine then tells a round that never rose
    through the fence from a missed look)."""
    out = []
    for m in missions:
        az, _, rng = earth.ecef_to_aer(earth.geodetic_to_ecef(*m.origin), loc.lat, loc.lon, loc.alt)
        reach = 1e3 * loc.spec.range_km(m.round.locating_class)
        if not loc.in_sector(az):
            out.append("not detected: the weapon lies outside the radar's sector")
        elif rng > reach:
            out.append(f"not detected: the weapon lies {float(rng) / 1e3:.1f} km away, beyond the radar's "
                       f"{reach / 1e3:g} km against {m.round.locating_class} rounds")
        else:
            out.append("not detected")
    return out


def _streams(seed: int, mission: int, run: int, n: int) -> list[np.random.Generator]:
    ss = np.random.SeedSequence(seed, spawn_key=(SHELL_KEY, mission, run))
    return [np.random.default_rng(c) for c in ss.spawn(n)]


def _chunks(world, runs: int) -> list[list[int]]:
    per_run = max(sum(m.n_rounds for m in _missions(world)), 1)
    size = max(1, CHUNK_ROUNDS // per_run)
    return [list(range(a, min(a + size, runs))) for a in range(0, runs, size)]


def simulate_shelling(world, runs: int, seed: int = 1, *, scene_run: int | None = 0,
                      progress: Callable[[int], None] | None = None) -> ShellingResult:
    """The shelling of ``world`` over ``runs`` Monte Carlo runs (see the module's docstring).
    ``progress(n)`` is told the runs done so far."""
    sh = world.shelling
    assert sh is not None
    laying = lay_missions(world)
    terr = territory(world)
    missions = list(sh.missions)
    radars = list(sh.radars)
    cols: dict[str, list] = {k: [] for k in ROUND_COLUMNS}
    events: list[tuple] = []
    scene: SceneRun | None = None
    done = 0
    for chunk in _chunks(world, runs):
        draws: list[tuple[int, int, np.random.Generator]] = []
        radar_rngs: list[list[np.random.Generator]] = [[] for _ in radars]
        for run in chunk:
            for m in range(len(missions)):
                s = _streams(seed, m, run, 1 + len(radars))
                draws.append((m, run, s[0]))
                for j in range(len(radars)):
                    radar_rngs[j].append(s[1 + j])
        volley = fire(missions, laying, draws)
        groups, start = [], 0
        for m, _, _ in draws:
            groups.append(np.arange(start, start + missions[m].n_rounds))
            start += missions[m].n_rounds
        reps, origins = [], []
        for j, loc in enumerate(radars):
            rep = observe(loc, volley, radar_rngs[j], groups)
            reps.append(rep)
            o = locate(rep)
            # a round the radar never saw: why, where the geometry says (the weapon outside its
            # sector or beyond its reach: what validate prints); "not detected" alone otherwise
            unseen = o.why == "not detected"
            if unseen.any():
                o.why[unseen] = np.array(_unseen_reasons(loc, missions), dtype=object)[volley.mission[unseen]]
                # (of the rest) a round that never rose through the fence: the geometry, not a missed look
                rest = np.flatnonzero(o.why == "not detected")
                under = rest[~rises_through_fence(loc, volley, rest)] if rest.size else rest
                o.why[under] = ("not detected: the round never rose through the radar's search fence (the weapon "
                                "stands above it, or the round flies under it)")
            origins.append(o)
        _score(world, terr, volley, reps, origins, cols, events)
        if scene_run is not None and scene_run in chunk:
            sel = np.flatnonzero(volley.run == scene_run)
            scene = SceneRun(run=scene_run, volley=volley_rows(volley, sel), reports=[r.rows(sel) for r in reps],
                             origins=[_origin_rows(o, sel) for o in origins])
        done += len(chunk)
        if progress is not None:
            progress(done)
    table = {k: np.array(v, dtype=ROUND_COLUMNS[k]) for k, v in cols.items()}  # type: ignore[call-overload]
    summary = plain(_summary(world, runs, seed, table, laying, terr))
    return ShellingResult(summary=summary, rounds=table, events=event_table(events, _KIND_ORDER, by_actor=True),
                          scene=scene, laying=laying, territory=terr)


#: Columns of the per-round table (shelling_rounds.parquet): one row per run, round and radar.
ROUND_COLUMNS: dict[str, object] = {
    "run": np.int32, "mission": object, "round_name": object, "round": object, "radar": object,
    "fire_s": float, "impact_s": float,
    "true_lat_deg": float, "true_lon_deg": float, "true_alt_m": float, "true_country": object, "true_in_country": bool,
    "true_border_km": float, "impact_lat_deg": float, "impact_lon_deg": float, "impact_country": object,
    "radar_range_km": float, "detected": bool, "fence_s": float, "fence_alt_m": float, "reports": np.int32,
    "located": bool, "why": object,
    "est_lat_deg": float, "est_lon_deg": float, "est_launch_s": float, "est_elevation_deg": float,
    "est_drag_factor": float, "fit_chi2_dof": float,
    "error_m": float, "error_east_m": float, "error_north_m": float, "error_pct_of_range": float, "nees": float,
    "sigma_east_m": float, "sigma_north_m": float, "corr_en": float,
    "ellipse_major_m": float, "ellipse_minor_m": float, "ellipse_azimuth_deg": float,
    "est_country": object, "est_in_country": bool, "side_correct": bool, "ellipse_side": object,
    "p_true_side": float,
}


def volley_rows(v: Volley, sel: np.ndarray) -> Volley:
    """The rounds ``sel`` (an index array) of ``v``."""
    from dataclasses import replace

    from shieldlab.artillery.motion import Path

    p = v.path
    assert p.pos is not None and p.vel is not None
    path = Path(t0=p.t0[sel], tau0=p.tau0[sel], h=p.h[sel], pos=p.pos[sel], vel=p.vel[sel], landed=p.landed[sel],
                end_t=p.end_t[sel], end_pos=p.end_pos[sel], end_vel=p.end_vel[sel], end_step=p.end_step[sel])
    return replace(v, mission=v.mission[sel], number=v.number[sel], run=v.run[sel], rounds=[v.rounds[i] for i in sel],
                   origin=v.origin[sel], origin_geo=v.origin_geo[sel], fire_time=v.fire_time[sel],
                   elevation=v.elevation[sel], azimuth=v.azimuth[sel], speed=v.speed[sel],
                   drag_error=v.drag_error[sel], impulse_error=v.impulse_error[sel], path=path,
                   impact=v.impact[sel], impact_time=v.impact_time[sel])


def _origin_rows(o: Origins, sel: np.ndarray) -> Origins:
    from dataclasses import fields

    return Origins(**{f.name: getattr(o, f.name)[sel] for f in fields(o)})


def _country(lat_deg, lon_deg) -> np.ndarray:
    from shieldlab.engine.air import country_at

    c = country_at(lat_deg, lon_deg)
    return np.where(c == "", "sea", c).astype(object)


def _score(world, terr, v: Volley, reps: list[Reports], origins: list[Origins], cols: dict, events: list) -> None:
    """The per-round rows of one chunk (every radar), and its events."""
    sh = world.shelling
    missions = sh.missions
    n = v.n
    names = np.array([round_name(missions[m].name, int(k)) for m, k in zip(v.mission, v.number, strict=True)],
                     dtype=object)
    tlat, tlon = np.degrees(v.origin_geo[:, 0]), np.degrees(v.origin_geo[:, 1])
    t_in = borders.contains(terr, tlat, tlon)
    t_border = borders.border_distance(terr, tlat, tlon) / 1e3
    t_country = _country(tlat, tlon)
    ila, ilo, _ = earth.ecef_to_geodetic(np.where(np.isfinite(v.impact), v.impact, 0.0))
    ila = np.where(np.isfinite(v.impact[:, 0]), np.degrees(ila), np.nan)
    ilo = np.where(np.isfinite(v.impact[:, 0]), np.degrees(ilo), np.nan)
    i_country = _country(ila, ilo)
    for i in range(n):
        events.append((int(v.run[i]), float(v.fire_time[i]), names[i], "fire", missions[v.mission[i]].name,
                       f"{v.rounds[i].id} from {t_country[i]}, elevation {math.degrees(v.elevation[i]):.1f} deg"))
        if np.isfinite(v.impact_time[i]):
            events.append((int(v.run[i]), float(v.impact_time[i]), names[i], "impact", v.rounds[i].id,
                           f"in {i_country[i]}"))
    for loc, rep, o in zip(sh.radars, reps, origins, strict=True):
        _, _, rng = earth.ecef_to_aer(v.origin, loc.lat, loc.lon, loc.alt)
        fence_pos = truth_at(v, rep.fence_time[:, None])[:, 0]
        fence_alt = np.where(rep.detected, earth.ecef_to_geodetic(np.where(np.isfinite(fence_pos), fence_pos, 0.0))[2],
                             np.nan)
        ok = o.located
        err_en = np.full((n, 2), np.nan)
        if ok.any():
            m_en = earth.enu_matrix(o.lat[ok], o.lon[ok])[:, :2, :]
            err_en[ok] = np.einsum("nij,nj->ni", m_en, o.pos[ok] - v.origin[ok])
        err = np.hypot(err_en[:, 0], err_en[:, 1])
        nees = np.full(n, np.nan)
        el = ell.Ellipse(major=np.full(n, np.nan), minor=np.full(n, np.nan), azimuth=np.full(n, np.nan))
        e_in = np.zeros(n, bool)
        e_country = np.full(n, "", dtype=object)
        side = np.full(n, "", dtype=object)
        p_side = np.full(n, np.nan)
        if ok.any():
            nees[ok] = ell.nees(err_en[ok], o.cov[ok])
            e1 = ell.ellipse(o.cov[ok])
            k95 = ell.scale(ELLIPSE_P)
            for name in ("major", "minor", "azimuth"):
                getattr(el, name)[ok] = getattr(e1, name) * (k95 if name != "azimuth" else 1.0)
            elat, elon = np.degrees(o.lat[ok]), np.degrees(o.lon[ok])
            e_in[ok] = borders.contains(terr, elat, elon)
            e_country[ok] = _country(elat, elon)
            bla, blo = ell.boundary(o.lat[ok], o.lon[ok], o.alt[ok], o.cov[ok], ELLIPSE_P, 36)
            b_in = borders.contains(terr, np.degrees(bla), np.degrees(blo))
            inside_all = b_in.all(axis=1) & e_in[ok]
            outside_all = ~b_in.any(axis=1) & ~e_in[ok]
            side[ok] = np.where(inside_all, "inside", np.where(outside_all, "outside", "across"))
            sla, slo = ell.offsets(o.lat[ok], o.lon[ok], o.alt[ok], o.cov[ok])
            s_in = borders.contains(terr, np.degrees(sla), np.degrees(slo))
            p_side[ok] = (s_in == t_in[ok][:, None]).mean(axis=1)
        sig_e = np.sqrt(o.cov[:, 0, 0])
        sig_n = np.sqrt(o.cov[:, 1, 1])
        corr = o.cov[:, 0, 1] / np.where(sig_e * sig_n > 0, sig_e * sig_n, np.nan)
        dof = 3 * o.n_reports - 7
        rows = {
            "run": v.run, "mission": np.array([missions[m].name for m in v.mission], dtype=object),
            "round_name": names, "round": np.array([r.id for r in v.rounds], dtype=object),
            "radar": np.full(n, loc.name, dtype=object), "fire_s": v.fire_time, "impact_s": v.impact_time,
            "true_lat_deg": tlat, "true_lon_deg": tlon, "true_alt_m": v.origin_geo[:, 2], "true_country": t_country,
            "true_in_country": t_in, "true_border_km": t_border, "impact_lat_deg": ila, "impact_lon_deg": ilo,
            "impact_country": i_country, "radar_range_km": rng / 1e3, "detected": rep.detected,
            "fence_s": rep.fence_time, "fence_alt_m": fence_alt, "reports": o.n_reports, "located": ok,
            "why": o.why, "est_lat_deg": np.degrees(o.lat), "est_lon_deg": np.degrees(o.lon),
            "est_launch_s": o.launch_time, "est_elevation_deg": np.degrees(o.elevation),
            "est_drag_factor": np.where(ok, o.drag_factor, np.nan),
            "fit_chi2_dof": np.where(ok, o.chi2 / np.maximum(dof, 1), np.nan),
            "error_m": err, "error_east_m": err_en[:, 0], "error_north_m": err_en[:, 1],
            "error_pct_of_range": 100.0 * err / rng, "nees": nees, "sigma_east_m": sig_e, "sigma_north_m": sig_n,
            "corr_en": corr, "ellipse_major_m": el.major, "ellipse_minor_m": el.minor,
            "ellipse_azimuth_deg": np.degrees(el.azimuth), "est_country": e_country, "est_in_country": e_in,
            "side_correct": ok & (e_in == t_in), "ellipse_side": side, "p_true_side": p_side,
        }
        for k, col in rows.items():
            cols[k].extend(np.asarray(col).tolist())
        for i in np.flatnonzero(rep.detected).tolist():
            events.append((int(v.run[i]), float(rep.fence_time[i]), names[i], "detect", loc.name,
                           f"through the fence at {fence_alt[i]:,.0f} m, {rng[i] / 1e3:.1f} km away"))
            last = located_time(rep, i)
            if ok[i]:
                events.append((int(v.run[i]), last, names[i], "located", loc.name,
                               f"origin in {e_country[i]}, {err[i]:,.0f} m from the truth, 95 % ellipse "
                               f"{el.major[i]:,.0f} x {el.minor[i]:,.0f} m, P(true side) {p_side[i]:.3f}"))
            else:
                events.append((int(v.run[i]), last, names[i], "not-located", loc.name, str(o.why[i])))
        # a round the radar never saw is not located either: said when it lands (or when fired,
        # one that never does), with why (out of its sector, under its fence, too far)
        for i in np.flatnonzero(~rep.detected).tolist():
            when = float(v.impact_time[i]) if np.isfinite(v.impact_time[i]) else float(v.fire_time[i])
            events.append((int(v.run[i]), when, names[i], "not-located", loc.name, str(o.why[i])))


_KIND_ORDER = ("fire", "detect", "located", "not-located", "impact")


def located_time(rep, i: int) -> float:
    """When radar reports ``rep`` (:class:`~shieldlab.artillery.locating.Reports`) give round
    ``i``'s estimate [s]: its last report (the fence crossing where it has none)."""
    return float(np.nanmax(rep.t[i])) if np.isfinite(rep.t[i]).any() else float(rep.fence_time[i])



# --------------------------------------------------------------------------- summary


def _m(x, lower: float | None = None, upper: float | None = None) -> dict:
    """Mean and 95 % t interval, and the median and 95th percentile, of the finite values of ``x``."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return {"mean": None, "ci": None, "median": None, "p95": None, "n": 0}
    med, p95 = float(np.median(x)), float(np.percentile(x, 95))
    if x.size == 1:
        return {"mean": float(x[0]), "ci": None, "median": med, "p95": p95, "n": 1}
    mean, lo, hi = mean_interval(x, lower=lower, upper=upper)
    return {"mean": mean, "ci": [lo, hi], "median": med, "p95": p95, "n": int(x.size)}


def _nees(x) -> dict:
    """Mean NEES of the located rounds and its chi-square 95 % band (2 degrees of freedom each)."""
    from scipy.stats import chi2

    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return {"mean": None, "band": None, "n": 0}
    band = chi2.ppf([0.025, 0.975], 2 * x.size) / x.size
    return {"mean": float(x.mean()), "band": [float(band[0]), float(band[1])], "n": int(x.size)}


def _fused(t: dict, sel: np.ndarray, runs: int, terr) -> dict:
    """Per run, the mission's located rounds (one weapon, one place) fused by their information:
    x = (sum P_i^-1)^-1 sum P_i^-1 x_i in the east-north plane; its error, side and ellipse."""
    errs, sides, p_side, major = [], [], [], []
    for r in range(runs):
        s = sel & (t["run"] == r) & t["located"]
        if not s.any():
            continue
        e = np.stack([t["error_east_m"][s], t["error_north_m"][s]], -1)
        cov = np.empty((int(s.sum()), 2, 2))
        se, sn, c = t["sigma_east_m"][s], t["sigma_north_m"][s], t["corr_en"][s]
        cov[:, 0, 0], cov[:, 1, 1] = se * se, sn * sn
        cov[:, 0, 1] = cov[:, 1, 0] = c * se * sn
        info = np.linalg.inv(cov)
        pf = np.linalg.inv(info.sum(axis=0))
        ef = pf @ np.einsum("nij,nj->i", info, e)
        errs.append(float(np.hypot(*ef)))
        k = np.flatnonzero(s)[0]
        lat0, lon0 = math.radians(t["true_lat_deg"][k]), math.radians(t["true_lon_deg"][k])
        # the fused estimate: the truth moved by the fused error, on the ground
        m = earth.enu_matrix(lat0, lon0)
        p = earth.geodetic_to_ecef(lat0, lon0, t["true_alt_m"][k]) + ef[0] * m[0] + ef[1] * m[1]
        fla, flo, fal = earth.ecef_to_geodetic(p[None])
        f_in = bool(borders.contains(terr, np.degrees(fla), np.degrees(flo))[0])
        t_in = bool(t["true_in_country"][k])
        sides.append(f_in == t_in)
        sla, slo = ell.offsets(fla, flo, fal, pf[None])
        p_side.append(float((borders.contains(terr, np.degrees(sla), np.degrees(slo)) == t_in).mean()))
        major.append(float(ell.ellipse(pf[None]).major[0] * ell.scale(ELLIPSE_P)))
    return {"runs": len(errs), "error_m": _m(errs, lower=0.0),
            "side_correct": probability(int(np.sum(sides)), len(sides)),
            "p_true_side": _m(p_side, lower=0.0, upper=1.0), "ellipse95_major_m": _m(major, lower=0.0)}


#: How the shelling summary's means are bounded (the run summary's words spoke of leakers).
INTERVAL_MEANS_SHELLING = (
    "Student t on the located rounds' values (fused: on the runs'), sample standard deviation, 95 %, cut "
    "to the range the values can take (errors, ellipses and NEES at 0; P(true side) at 0 and 1); where "
    "every value of P(true side) is the same, the exact interval of a bounded mean (a share of them up to "
    "the Clopper-Pearson bound for 0 of n could differ, each at worst on a bound: 0.735-1.000 for 12 of 12 "
    "at 1.0); another mean alike in every value: the point")


def _summary(world, runs: int, seed: int, t: dict, laying: Laying, terr) -> dict:
    sh = world.shelling
    from shieldlab.io.summary import INTERVAL

    # the two interval methods named, as the run summary names them: a P(true side) alike in every
    # round has the bounded mean's interval (0.735-1 for 12 of 12), P(estimate on the true side)
    # Wilson's (0.758-1), and without the names the two read as a mistake
    out: dict = {"scenario": world.scenario.name, "runs": runs, "seed": seed, "country": sh.country,
                 "waters_nmi": sh.waters_nmi, "ellipse_probability": ELLIPSE_P, "interval": INTERVAL,
                 "interval_means": INTERVAL_MEANS_SHELLING, "missions": []}
    for i, m in enumerate(sh.missions):
        mine = t["mission"] == m.name
        first = np.flatnonzero(mine)
        k0 = first[0] if first.size else None
        row: dict = {
            "mission": m.name, "round": m.round.id, "kind": m.round.kind, "rounds_per_run": m.n_rounds,
            "range_km": float(laying.range[i]) / 1e3, "elevation_deg": math.degrees(laying.elevation[i]),
            "azimuth_deg": math.degrees(laying.azimuth[i]), "time_of_flight_s": float(laying.time_of_flight[i]),
            "origin": {"lat": math.degrees(m.origin[0]), "lon": math.degrees(m.origin[1]), "alt_m": m.origin[2]},
            "aim": {"lat": math.degrees(m.aim[0]), "lon": math.degrees(m.aim[1]), "alt_m": m.aim[2]},
            "origin_country": None if k0 is None else str(t["true_country"][k0]),
            "origin_in_country": None if k0 is None else bool(t["true_in_country"][k0]),
            "origin_border_km": None if k0 is None else float(t["true_border_km"][k0]),
            "radars": {}}
        for loc in sh.radars:
            sel = mine & (t["radar"] == loc.name)
            n = int(sel.sum())
            located = sel & t["located"]
            nl = int(located.sum())
            why = t["why"][sel & ~t["located"]]
            row["radars"][loc.name] = {
                "type": loc.spec.id,
                "range_km": _m(t["radar_range_km"][sel]).get("median"),
                "detected": probability(int((sel & t["detected"]).sum()), n),
                "located": probability(nl, n),
                "not_located": {str(k): int(c) for k, c in zip(*np.unique(why.astype(str), return_counts=True),
                                                                 strict=True)},
                "error_m": _m(t["error_m"][located], lower=0.0),
                "error_pct_of_range": _m(t["error_pct_of_range"][located], lower=0.0),
                "ellipse95_major_m": _m(t["ellipse_major_m"][located], lower=0.0),
                "ellipse95_minor_m": _m(t["ellipse_minor_m"][located], lower=0.0),
                "side_correct": probability(int((located & t["side_correct"]).sum()), nl),
                "ellipse_across_border": probability(int((located & (t["ellipse_side"] == "across")).sum()), nl),
                "p_true_side": _m(t["p_true_side"][located], lower=0.0, upper=1.0),
                "nees": _nees(t["nees"][located]),
                "fence_alt_m": _m(t["fence_alt_m"][sel & t["detected"]]),
                "fence_after_fire_s": _m((t["fence_s"] - t["fire_s"])[sel & t["detected"]], lower=0.0),
                # a rocket reported for BURN_NOTE_S or more before its motor burnt out (its first
                # report: the fence crossing and the verification dwell): the estimator fits an
                # unpowered flight, so its reports under thrust bias the origin (None: no motor)
                "fence_in_burn": None if m.round.motor is None else probability(
                    int((sel & t["detected"] & (t["fence_s"] - t["fire_s"] + loc.spec.verify_s + BURN_NOTE_S
                                                <= m.round.motor.burn_time_s)).sum()),
                    int((sel & t["detected"]).sum())),
                "fused": _fused(t, sel, runs, terr),
            }
        out["missions"].append(row)
    return out

