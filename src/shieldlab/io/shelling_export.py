"""One run of the shelling for GIS tools and Google Earth (``run --export geojson,kml``), as the
format-independent features of :mod:`shieldlab.io.export`.

Layers: ``Rounds`` (each round's true flight, z above the ellipsoid [m], ``times_s`` per vertex),
``Weapons`` (the true firing points), ``Estimated origins`` (each radar's estimate, with its error
and side), ``Error ellipses`` (95 %, on the ground), ``Weapon-locating radars`` (sites and sectors)
and ``Border`` (the country's territory the sides are judged against).
"""

from __future__ import annotations

import math

import numpy as np
from shapely.geometry import Point, Polygon

from shieldlab import earth
from shieldlab.artillery import ellipse as ell
from shieldlab.engine.shelling import located_time, round_name
from shieldlab.io.export import Feature, FeatureSet, _line, _num, _timed, territory_clip
from shieldlab.io.shelling_scene import round_paths

__all__ = ["features", "joined", "STEP_S"]

#: Spacing of a round's drawn vertices [s].
STEP_S = 1.0


def features(world, res, run: int) -> FeatureSet:
    """The scene's run ``run`` of :class:`~shieldlab.engine.shelling.ShellingResult` ``res`` as features."""
    epoch = world.scenario.epoch
    sh = world.shelling
    feats: list[Feature] = []
    sc = res.scene
    terr = res.territory
    sides: dict[tuple[int, str, str], tuple[bool, str]] = {}
    if sc is not None and terr is not None:  # the scene run's rows of the rounds table, not every run's
        r = res.rounds
        k = np.flatnonzero(np.isin(r["run"], np.unique(sc.volley.run)))
        sides = {(int(r["run"][i]), str(r["round_name"][i]), str(r["radar"][i])):
                 (bool(r["est_in_country"][i]), str(r["ellipse_side"][i])) for i in k.tolist()}
    if sc is not None:
        v = sc.volley
        for i, name, t0, t1, ts, pos in round_paths(world, v, STEP_S):
            la, lo, al = earth.ecef_to_geodetic(pos)
            feats.append(Feature("Rounds", name, _line(np.degrees(lo), np.degrees(la), al), "threat-nominal",
                                 _timed({"kind": "round", "round": v.rounds[i].id,
                                         "mission": sh.missions[v.mission[i]].name}, epoch, fire_time=t0,
                                        impact_time=t1), tuple(float(x) for x in ts), t0, t1))
        for loc, o, rep in zip(sh.radars, sc.origins, sc.reports, strict=True):
            k = np.flatnonzero(o.located)
            if not k.size:
                continue
            bla, blo = ell.boundary(o.lat[k], o.lon[k], o.alt[k], o.cov[k], 0.95, 48)
            for q, i in enumerate(k.tolist()):
                name = round_name(sh.missions[v.mission[i]].name, int(v.number[i]))
                en = earth.enu_matrix(o.lat[i], o.lon[i])[:2] @ (o.pos[i] - v.origin[i])
                # the estimate exists from the radar's last report of the round (the event log's "located")
                t = located_time(rep, i)
                # which side of the border the estimate, and its ellipse, put the weapon: the rounds
                # table's own verdict (est_in_country, ellipse_side), the question the layer answers
                inside, side = sides.get((int(v.run[i]), name, loc.name), (None, None))
                props = _timed({"kind": "estimated-origin", "radar": loc.name, "round": name,
                                "lat_deg": _num(math.degrees(o.lat[i]), 7), "lon_deg": _num(math.degrees(o.lon[i]), 7),
                                "error_m": _num(float(np.hypot(*en)), 2),
                                **({} if terr is None else {"country": terr.name, "in_country": inside,
                                                            "ellipse_side": side})}, epoch, located_time=t)
                feats.append(Feature("Estimated origins", f"{name} by {loc.name}",
                                     Point(math.degrees(o.lon[i]), math.degrees(o.lat[i]), float(o.alt[i])),
                                     "dispersed-impact", props, None, t, t, altitude="clampToGround"))
                ring = Polygon(list(zip(np.degrees(blo[q]), np.degrees(bla[q]), strict=True)))
                e = ell.ellipse(o.cov[i][None])
                feats.append(Feature("Error ellipses", f"{name} by {loc.name}: 95 %", ring, "cep",
                                     _timed({"kind": "ellipse-95", "radar": loc.name, "round": name,
                                             # (semi-axes: the polygon's area is pi major minor)
                                             "major_m": _num(float(e.major[0]) * ell.scale(0.95), 2),
                                             "minor_m": _num(float(e.minor[0]) * ell.scale(0.95), 2),
                                             **({} if terr is None else {"country": terr.name, "side": side})},
                                            epoch,
                                            located_time=t), None, t, t, altitude="clampToGround"))
    for m in sh.missions:
        feats.append(Feature("Weapons", m.name, Point(math.degrees(m.origin[1]), math.degrees(m.origin[0]),
                                                      float(m.origin[2])), "launch",
                             {"kind": "weapon", "round": m.round.id, "rounds": m.n_rounds}, altitude="clampToGround"))
    classes = sorted({m.round.locating_class for m in sh.missions})
    for r in sh.radars:
        feats.append(Feature("Weapon-locating radars", r.name, Point(math.degrees(r.lon), math.degrees(r.lat),
                                                                     float(r.alt)), "radar",
                             {"kind": "radar", "type": r.spec.id, "facing_deg": _num(math.degrees(r.facing), 2),
                              "fence_deg": _num(math.degrees(r.fence), 3)}, altitude="clampToGround"))
        reach = max(r.spec.range_km(c) for c in classes)
        half = math.radians(r.spec.sector_deg) / 2.0
        la, lo = earth.destination(r.lat, r.lon, r.facing + np.linspace(-half, half, 48), 1e3 * reach)
        ring = Polygon([(math.degrees(r.lon), math.degrees(r.lat))] + list(zip(np.degrees(lo), np.degrees(la),
                                                                               strict=True)))
        feats.append(Feature("Weapon-locating radars", f"{r.name} sector", ring, "radar",
                             {"kind": "sector", "radar": r.name, "reach_km": reach}, altitude="clampToGround"))
    if terr is not None:
        feats.append(Feature("Border", terr.name, terr.lonlat, "airspace",
                             {"kind": "territory", "country": terr.name, "waters_nmi": terr.waters_nmi,
                              **territory_clip(terr)},
                             altitude="clampToGround"))
    meta = {"command": "run", "scenario": world.scenario.name, "run": int(run), "step_s": STEP_S}
    return FeatureSet(f"{world.scenario.name}: run {run}", tuple(feats), epoch,
                      f"shieldlab run {run}: shelling and the estimated points of origin", meta)


def joined(fs: FeatureSet, world, res, run: int) -> FeatureSet:
    """Another picture's features ``fs`` (the ballistic run's, the air picture's) with the shelling's added."""
    more = features(world, res, run)
    return FeatureSet(fs.name, fs.features + more.features, fs.epoch, fs.description, fs.properties)
