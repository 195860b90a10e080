"""Stated figures about a flight, checked against physics and against the model.

A claim (who said it, and any of: time inside the airspace, distance inside, deepest point,
height, speed) is checked two ways:

* **Against geometry.**  The distance to the border changes by at most the distance flown, so
  a path that enters and leaves flies at least twice its greatest depth inside, whatever the
  shapes: a stated depth above half the stated length inside is inconsistent with it.
* **Against the flier's envelope.**  A distance flown in a time implies a true airspeed; the
  flier can hold it only between its least true airspeed at that height (its catalogue least
  equivalent airspeed over ``sqrt(rho / rho0)``, :func:`shieldlab.airspace.flight.min_true_airspeed`)
  and its greatest.  A stated speed is checked the same way, and at the stated speed the
  stated distance takes ``distance / speed``.
* **Against the model.**  The Monte Carlo's true crossing of the border (time and distance
  inside, deepest point) beside the claim's figures, and the share of runs in which the
  flier entered at all (a claim of 0 s inside says it never did).

The envelope is the catalogue's; where its least speed is an estimate (the Su-24M's is), the
verdict inherits that estimate, and the report says so through the catalogue's source.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from shieldlab.airspace.flight import KMH, min_true_airspeed

__all__ = ["check", "BORDER_ERROR_KM"]

#: The scale of Natural Earth 1:50m's border error [km]: its land borders have vertices ~5-10 km
#: apart; a crossing shallower than this is inside the data's own uncertainty.
BORDER_ERROR_KM = 2.0


def check(claim, spec, modelled: dict, route_alt_m=None) -> dict:
    """One claim (:class:`~shieldlab.scenario.schema.ClaimCfg`) of a flight of catalogue entry
    ``spec``, against the flight's summary row ``modelled`` (its ``entered``, ``time_inside_s``,
    ``distance_inside_km``, ``max_depth_km`` figures).  Returns a JSON-ready dict: the claim,
    the implied speed and the envelope at the height, a verdict, and the model's figures.

    The heights [m] the envelope is taken at (``alt_m`` to ``alt_max_m``; ``alt_from`` says
    whence): the claim's own; else those the model's true path flew inside the airspace
    (``modelled["alt_inside_m"]``, lowest and highest over the runs that entered); else the
    heights the scenario's route flies (``route_alt_m``, one a leg, ``nan`` where a leg holds
    the cruise height); else the catalogue's cruise height.  The least true airspeed grows
    with height, so over a span of heights a speed is "not flyable" only if below it at the
    lowest, "within" only if above it at the highest, and in between flyable only below the
    height where the two meet, which the verdict names."""
    lo, hi, alt_from = _heights(claim, spec, modelled, route_alt_m)
    v_min, v_min_hi = (float(min_true_airspeed(spec.min_speed_eas_kmh * KMH, h)) for h in (lo, hi))
    v_max = spec.max_speed_kmh * KMH
    band = _Band(lo, hi, v_min, v_min_hi, alt_from)
    out: dict = {"by": claim.by, "source": claim.source,
                 "stated": {k: getattr(claim, k) for k in ("time_inside_s", "distance_inside_km", "max_depth_km",
                                                            "alt_m", "speed_kmh") if getattr(claim, k) is not None},
                 "alt_m": lo, "alt_max_m": hi, "alt_from": alt_from, "min_speed_kmh": v_min / KMH,
                 "min_speed_at_alt_max_kmh": v_min_hi / KMH, "max_speed_kmh": spec.max_speed_kmh,
                 "cruise_speed_kmh": spec.cruise_speed_kmh}
    notes = []
    if hi > spec.ceiling_m:
        notes.append(f"{hi:,.0f} m is above the {spec.id}'s ceiling ({spec.ceiling_m:,.0f} m): it cannot fly there")
    d, t = claim.distance_inside_km, claim.time_inside_s
    if d is not None and t is not None and t > 0:
        v = 1e3 * d / t
        out["implied_speed_kmh"] = v / KMH
        notes.append(_verdict(f"{d:g} km in {t:g} s is {v / KMH:,.0f} km/h", v, v_max, spec, band))
        out["time_at_cruise_s"] = 1e3 * d / (spec.cruise_speed_kmh * KMH)
        out["time_at_least_speed_s"] = 1e3 * d / v_min
    if claim.speed_kmh is not None:
        v = claim.speed_kmh * KMH
        notes.append(_verdict(f"{claim.speed_kmh:,.0f} km/h", v, v_max, spec, band))
        if d is not None:
            out["time_at_stated_speed_s"] = 1e3 * d / v
            notes.append(f"at {claim.speed_kmh:,.0f} km/h, {d:g} km takes {1e3 * d / v:.1f} s")
    if claim.max_depth_km is not None and d is not None and claim.max_depth_km > d / 2:
        # the distance to the border changes by at most the distance flown: in and out again is at
        # least twice the deepest point, whatever the shapes of the path and the border
        notes.append(f"a path that enters and leaves flies at least twice its greatest depth inside: "
                     f"{claim.max_depth_km:g} km deep needs at least {2 * claim.max_depth_km:g} km inside, not "
                     f"{d:g} km; the two figures cannot describe the same crossing")
    ti = modelled.get("time_inside_s") or {}
    # a flier shot down inside ends its crossing there: the route's figures are then of the
    # crossing as far as the kill, not of the route (a claim of 180 s was set beside 170 s
    # of a route cut short in every run)
    killed = float((modelled.get("killed_inside") or {}).get("p") or 0.0)
    cut = f" (cut short by a kill inside in {killed:.0%} of the runs that entered)" if killed > 0 else ""
    if t is not None and t > 0 and ti.get("mean") is not None:
        notes.append(f"stated {t:g} s inside; the model's route: {ti['mean']:.0f} s{cut}")
    ent = modelled.get("entered")
    depth = (modelled.get("max_depth_km") or {}).get("mean")
    # the stated distance and depth beside the model's, as the time inside (they were kept in
    # "stated" and never set against the route)
    dist = (modelled.get("distance_inside_km") or {}).get("mean")
    if d is not None and d > 0 and dist is not None:
        notes.append(f"stated {d:g} km inside; the model's route: {dist:.1f} km{cut}")
    if claim.max_depth_km is not None and claim.max_depth_km > 0 and depth is not None:
        notes.append(f"stated {claim.max_depth_km:g} km deep; the model's route: {depth:.2f} km{cut}")
    if t == 0 and ent is not None:
        note = f"says it never entered; the scenario's route (an assumption) enters in {ent['p']:.0%} of the runs"
        if ent["p"] > 0 and depth is not None:
            note += f", {depth:.2f} km deep on average: a path that much further out would not have entered"
            if depth < BORDER_ERROR_KM:
                note += (" (less than the border data's own error, kilometres for Natural Earth 1:50m: the "
                         "account turns on where exactly the border and the path run)")
        notes.append(note)
    out["model"] = {k: modelled.get(k) for k in ("entered", "time_inside_s", "distance_inside_km", "max_depth_km")}
    out["notes"] = notes
    return out


class _Band(NamedTuple):
    """The heights a claim is judged over [m] and the least true airspeed at each end [m/s]."""

    lo: float
    hi: float
    v_min_lo: float
    v_min_hi: float
    alt_from: str


def _heights(claim, spec, modelled: dict, route_alt_m) -> tuple[float, float, str]:
    """The lowest and highest height [m] a claim is judged at and whence they come (see :func:`check`)."""
    if claim.alt_m is not None:
        return float(claim.alt_m), float(claim.alt_m), "claim"
    inside = modelled.get("alt_inside_m")
    if inside is not None:
        return float(inside["lo"]), float(inside["hi"]), "model-inside"
    if route_alt_m is not None and np.size(route_alt_m):
        h = np.where(np.isnan(np.asarray(route_alt_m, float)), spec.cruise_alt_m, route_alt_m)
        return float(np.min(h)), float(np.max(h)), "route"
    return float(spec.cruise_alt_m), float(spec.cruise_alt_m), "cruise"


_WHENCE = {"claim": "", "model-inside": " inside the airspace (the model's path)",
           "route": " (the route's height)", "cruise": " (the catalogue's cruise height)"}


def _whence(b: _Band) -> str:
    """Where the band's heights come from, in the verdict's words (plural over a span)."""
    return _WHENCE[b.alt_from] if b.hi == b.lo else _WHENCE[b.alt_from].replace("height", "heights")


def _at(b: _Band) -> str:
    return (f"at {b.lo:,.0f} m{_whence(b)}" if b.hi == b.lo else
            f"at every height from {b.lo:,.0f} to {b.hi:,.0f} m{_whence(b)}")


def _verdict(what: str, v: float, v_max: float, spec, b: _Band) -> str:
    if v < b.v_min_lo:
        least = (f"{b.v_min_lo / KMH:,.0f} km/h true" if b.hi == b.lo else
                 f"{b.v_min_lo / KMH:,.0f} to {b.v_min_hi / KMH:,.0f} km/h true")
        return (f"{what}: below the least speed the {spec.id} holds in level flight {_at(b)} "
                f"({least}; {spec.min_speed_eas_kmh:g} km/h equivalent): not flyable clean")
    if v > v_max:
        return f"{what}: above the {spec.id}'s greatest speed ({spec.max_speed_kmh:,.0f} km/h)"
    if v < b.v_min_hi:
        # between the least speeds at the two ends: flyable below the height where v is the least speed
        h = np.linspace(b.lo, b.hi, 4001)
        top = float(np.interp(v, min_true_airspeed(spec.min_speed_eas_kmh * KMH, h), h))
        return (f"{what}: within the {spec.id}'s envelope only below {top:,.0f} m, and the path flies "
                f"{b.lo:,.0f} to {b.hi:,.0f} m{_whence(b)} (least speed "
                f"{b.v_min_lo / KMH:,.0f} to {b.v_min_hi / KMH:,.0f} km/h true): not flyable clean above it")
    margin = (v - b.v_min_hi) / b.v_min_hi
    return (f"{what}: within the {spec.id}'s envelope {_at(b)} ({b.v_min_hi / KMH:,.0f} to "
            f"{spec.max_speed_kmh:,.0f} km/h)" + (f", {margin:.0%} above its least speed" if margin < 0.25 else ""))
