"""Scenario schema: what a scenario YAML file may say, validated by pydantic.

Degrees, kilometres and km/s appear here only, at the edge, with the unit in the
field name; :mod:`shieldlab.scenario.compile` turns them into SI and ECEF.

Every number must be finite (``.inf`` and ``.nan`` are rejected) and inside the range its
field's description gives.  Problems that involve several fields (duplicate names, the last
launch of a salvo) are raised as an :class:`~shieldlab.errors.InputError` carrying each
problem's field path, relative to the model that found it; the loader joins the paths.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from shapely.geometry import Polygon
from shapely.validation import explain_validity

from shieldlab.catalog.artillery import LocatingRadar, Round
from shieldlab.catalog.models import (
    MAX_BURNOUT_SPEED_KMS,
    Aircraft,
    Interceptor,
    Missile,
    Satellite,
    Sensor,
    numbers_as_numbers,
)
from shieldlab.errors import InputError

#: Latest launch a threat may have [s after the epoch]: one day.
MAX_LAUNCH_TIME_S = 86_400.0
#: Latest start of an air-breathing flight [s after the epoch]: about three years, so one
#: scenario may hold incidents weeks apart (each flight is simulated on its own clock).
MAX_FLIGHT_START_S = 1.0e8
#: The years an epoch may lie in (a scenario's times are written as dates years past it).
EPOCH_FIRST_YEAR, EPOCH_LAST_YEAR = 1900, 2199
#: Shortest update period of a data link [s]: the finest time step.
MIN_LINK_PERIOD_S = 0.1
#: Most interceptors one engagement fires [rounds] and most engagements of a threat: the
#: kill draws are dealt for these whatever a scenario sets, so that changing the salvo or
#: the engagements per threat leaves every other shot's draw as it was.
MAX_SALVO = 4
MAX_ENGAGEMENTS = 5


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    _numbers_as_numbers = field_validator("*", mode="before")(classmethod(numbers_as_numbers))


class GeoPoint(_Strict):
    """A geodetic point on WGS84: degrees and metres above the ellipsoid."""

    lat: float = Field(ge=-90.0, le=90.0, description="geodetic latitude [deg]")
    lon: float = Field(ge=-180.0, le=180.0, description="longitude [deg east]")
    alt_m: float = Field(0.0, ge=-500.0, le=100_000.0, description="height above the ellipsoid [m]")


#: Tags of the two kinds of :data:`Place`; they appear in pydantic's error locations
#: (after a ``site``, ``launch`` or ``aim`` field) and the loader drops them.
PLACE_TAGS = ("site-name", "point")


def _duplicate_names(owner, groups: tuple[str, ...], also: str = "") -> list[tuple[str, str]]:
    """(field, message) of every entry of ``owner``'s lists ``groups`` whose name an earlier entry
    of the same list already has; ``also`` prefixes the earlier entry's path in the message."""
    problems: list[tuple[str, str]] = []
    for group in groups:
        seen: dict[str, int] = {}
        for i, item in enumerate(getattr(owner, group)):
            if item.name in seen:
                problems.append((f"{group}[{i}].name",
                                 f"duplicate name {item.name!r} (also {also}{group}[{seen[item.name]}])"))
            else:
                seen[item.name] = i
    return problems


def _place_kind(value: object) -> str | None:
    if isinstance(value, str):
        return "site-name"
    if isinstance(value, (dict, GeoPoint, WaypointCfg)):  # (a model: when dumped)
        return "point"
    return None


#: A place: the name of an entry under ``sites:`` (or, for ``aim``, of an asset) or an inline
#: point.  A mapping is always read as a point, so a bad key or value in it is reported at
#: its own field.
Place = Annotated[
    Annotated[str, Tag("site-name")] | Annotated[GeoPoint, Tag("point")],
    Discriminator(_place_kind, custom_error_type="place_type",
                  custom_error_message="expected a site name or a point {lat, lon, alt_m}"),
]

def control_character(text: str) -> str | None:
    """The first control character (Unicode category Cc: an escape, a tab, a newline ...) in
    ``text``, or None."""
    return next((c for c in text if unicodedata.category(c) == "Cc"), None)


def _printable(text: str) -> str:
    """A name as it is printed in tables, maps and logs: no control characters (an escape
    sequence would recolour or drive the user's terminal; a newline or tab breaks a table)."""
    bad = control_character(text)
    if bad is not None:
        raise ValueError(f"a name must not hold control characters (found {bad!r} in {text!r})")
    return text


#: The longest name [characters]: tables, map labels and file names must hold it.
MAX_NAME_LENGTH = 200
#: A name: not empty, printable, at most MAX_NAME_LENGTH characters.
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH), AfterValidator(_printable)]


class SensorCfg(_Strict):
    """A radar placed in the scenario."""

    name: Name = Field(description="unique among the sensors; batteries name their own radar by it")
    type: str = Field(description="catalogue sensor id, e.g. an-tpy-2")
    site: Place = Field(description="a site name or an inline point")
    boresight_az_deg: float = Field(0.0, ge=0.0, lt=360.0, description="azimuth the radar faces [deg from north]")
    elevation_mask_deg: float | None = Field(
        None, ge=-90.0, le=90.0,
        description="lowest elevation the radar sees at this site (terrain, operator) [deg]; null: the "
                    "catalogue's el_min_deg alone (an airborne radar looks down)")
    system: Name = Field("defence", description="the C2 node (system) whose tracks this sensor feeds; its "
                                                "properties, if any, are the nodes[] entry of that name")


class SatelliteCfg(_Strict):
    """An early-warning satellite placed in the scenario: a geostationary one (catalogue orbit geo) by the
    longitude it hangs over, one on a highly elliptical orbit (catalogue orbit heo) by its apogee."""

    name: Name = Field(description="unique among the early-warning satellites")
    type: str = Field(description="catalogue satellite id, e.g. sbirs-geo or sbirs-heo")
    lon_deg: float | None = Field(None, ge=-180.0, le=180.0,
                                  description="geostationary satellites only, and required for them: "
                                              "longitude of the equator it hangs over [deg]")
    apogee_lon_deg: float | None = Field(
        None, ge=-180.0, le=180.0,
        description="highly elliptical orbits only, and required for them: longitude of the apogee's "
                    "ground point at the apogee passage apogee_time_s [deg]")
    apogee_time_s: float = Field(
        0.0, ge=-MAX_LAUNCH_TIME_S, le=MAX_LAUNCH_TIME_S,
        description="highly elliptical orbits only: time of that apogee passage [s after the epoch; "
                    "negative: before it]")
    system: Name = Field("defence", description="the C2 node whose radars and batteries its launch reports cue "
                                                "and alert (every one under architecture integrated; coordinated "
                                                "or sectoral, the nodes linked from it as well, over the link)")


class BatteryCfg(_Strict):
    """A launcher of one interceptor type with its magazine."""

    name: Name = Field(description="unique among the batteries, and no sensor's or satellite's name (the event "
                                   "log names them all)")
    interceptor: str = Field(description="catalogue interceptor id, e.g. sm-3-block-ia")
    site: Place = Field(description="a site name or an inline point")
    rounds: int = Field(ge=0, le=10_000, description="interceptors ready to fire (magazine) [rounds]")
    reaction_time_s: float | None = Field(None, ge=0.0, le=3600.0,
                                          description="cue-to-launch delay [s]; default from the catalogue")
    burnout_speed_kms: float | None = Field(None, ge=0.01, le=MAX_BURNOUT_SPEED_KMS,
                                            description="override of the catalogue burnout speed [km/s]")
    system: Name = Field("defence", description="the C2 node (system) whose tracks this battery engages on; "
                                                "its properties, if any, are the nodes[] entry of that name")
    cue: Literal["own", "launch-on-remote", "engage-on-remote"] = Field(
        "engage-on-remote",
        description="own: launch on the battery's own radar track (and guide on it); launch-on-remote: launch on "
                    "the system track, the own radar must hold the threat by the handover; engage-on-remote: "
                    "launch and guide on the system track")
    radar: str | None = Field(None, description="the battery's own sensor (a sensors[].name); needed unless "
                                                "cue is engage-on-remote")
    reserve: int | None = Field(None, ge=0, description="rounds never fired [rounds]; default doctrine.reserve")
    salvo: int | None = Field(None, ge=1, le=MAX_SALVO,
                              description="interceptors per engagement [rounds]; default doctrine.salvo")
    look_time_s: float | None = Field(
        None, ge=0.0, le=600.0,
        description="kill assessment time after an intercept [s]; default doctrine.look_time_s, then the "
                    "interceptor's catalogue look_time_s")
    handover_s: float | None = Field(
        None, ge=0.0, le=600.0,
        description="last in-flight target update before intercept [s]; default doctrine.handover_s, then the "
                    "interceptor's catalogue handover_s")


class DispersionCfg(_Strict):
    """One-sigma Monte Carlo dispersions of a threat's flight, drawn per run."""

    thrust_pct: float = Field(0.0, ge=0.0, le=20.0, description="one-sigma thrust error [% of nominal]")
    isp_pct: float = Field(0.0, ge=0.0, le=20.0, description="one-sigma specific-impulse error [% of nominal]")
    burn_time_pct: float = Field(0.0, ge=0.0, le=20.0, description="one-sigma burn-time error [% of nominal]")
    drag_pct: float = Field(0.0, ge=0.0, le=50.0, description="one-sigma drag-coefficient error [% of nominal]")
    azimuth_mrad: float = Field(0.0, ge=0.0, le=50.0, description="one-sigma launch-azimuth error [mrad]")


class ThreatCfg(_Strict):
    """One missile, or a salvo of identical missiles fired from one place at one aim point."""

    name: Name = Field(
        description="unique among the threats after salvo expansion: a salvo 'x' of count k > 1 becomes "
                    "the missiles 'x#1' .. 'x#k', and no other threat may take one of those names; nor may "
                    "an asset, a sensor, a battery or a fighter")
    missile: str = Field(description="catalogue missile id, e.g. shahab-3")
    launch: Place = Field(description="a site name or an inline point")
    aim: Place = Field(description="an asset name, a site name or an inline point")
    launch_time_s: float = Field(0.0, ge=0.0, le=MAX_LAUNCH_TIME_S,
                                 description="launch of the first missile [s after the epoch]")
    count: int = Field(1, ge=1, le=100, description="identical missiles in this salvo")
    spacing_s: float = Field(
        0.0, ge=0.0, le=MAX_LAUNCH_TIME_S,
        description="time between successive launches of the salvo [s]; the last launch, launch_time_s + "
                    "(count - 1) x spacing_s, must be at most 86,400 s after the epoch")
    profile: Literal["min-energy", "lofted", "depressed"] = Field(
        "min-energy", description="trajectory shape: minimum-energy, or lofted / depressed by apogee_km or "
                                  "flight_time_s")
    apogee_km: float | None = Field(None, gt=0.0, le=5000.0,
                                    description="shape a lofted/depressed shot by its apogee [km]")
    flight_time_s: float | None = Field(None, gt=0.0, le=5000.0,
                                        description="... or by its flight time [s]")
    dispersion: DispersionCfg | None = Field(None, description="overrides the scenario's dispersion")

    @model_validator(mode="after")
    def _last_launch(self) -> ThreatCfg:
        last = self.launch_time_s + (self.count - 1) * self.spacing_s
        if last > MAX_LAUNCH_TIME_S:
            why = (f"the last of {self.count} launches would be {last:,.0f} s after the epoch "
                   f"(launch_time_s + (count - 1) x spacing_s); at most {MAX_LAUNCH_TIME_S:,.0f} s is allowed")
            # each field that adds to it is named (the launch time alone had been blamed on the spacing)
            fields = [f for f, part in (("launch_time_s", self.launch_time_s),
                                        ("spacing_s", (self.count - 1) * self.spacing_s)) if part > 0]
            raise InputError(problems=[(f, why) for f in fields])
        return self

    @model_validator(mode="after")
    def _shape(self) -> ThreatCfg:
        # (found at steering before: a scenario that loads and validates, refused by run)
        given = [f for f in ("apogee_km", "flight_time_s") if getattr(self, f) is not None]
        if len(given) == 2:
            raise InputError(problems=[(f, "give an apogee or a flight time, not both") for f in given])
        if given and self.profile == "min-energy":
            raise InputError(f"{given[0]} shapes a lofted or depressed shot, not min-energy: set profile: lofted or "
                             "depressed", field=given[0])
        return self


class WaypointCfg(_Strict):
    """A point of an air-breathing flight's route: where, and optionally how high and how fast
    to fly toward it."""

    lat: float = Field(ge=-90.0, le=90.0, description="geodetic latitude [deg]")
    lon: float = Field(ge=-180.0, le=180.0, description="longitude [deg east]")
    alt_m: float | None = Field(None, ge=0.0, le=30_000.0,
                                description="height above the ellipsoid to fly toward this point (the first "
                                            "point: the start height) and on until a later point sets another "
                                            "[m]; null: the height set before, or the flier's cruise height (a "
                                            "cruise missile: its height over land or sea) where none was")
    speed_kmh: float | None = Field(None, gt=0.0, le=4000.0,
                                    description="true airspeed toward this point and on until a later point sets "
                                                "another [km/h]; null: the speed set before, or the cruise speed "
                                                "where none was; a speed above the flier's `max_speed_kmh`, or "
                                                "below the least speed it holds in level flight at the leg's "
                                                "height, is refused (each run's drawn speed factor is clipped "
                                                "to those limits)")


#: A route point: the name of an entry under ``sites:`` (flown at the flier's defaults) or an
#: inline :class:`WaypointCfg`.
Waypoint = Annotated[
    Annotated[str, Tag("site-name")] | Annotated[WaypointCfg, Tag("point")],
    Discriminator(_place_kind, custom_error_type="place_type",
                  custom_error_message="expected a site name or a point {lat, lon, alt_m, speed_kmh}"),
]


class ClaimCfg(_Strict):
    """What someone stated about a flight, checked against the flier's envelope and the model."""

    by: Name = Field(description="who stated it, e.g. Turkey (letter to the UN Security Council)")
    time_inside_s: float | None = Field(None, ge=0.0, le=86_400.0,
                                        description="time inside the policed airspace [s]; 0: it never entered")
    distance_inside_km: float | None = Field(None, ge=0.0, le=5000.0,
                                             description="distance flown inside the airspace [km]")
    max_depth_km: float | None = Field(None, ge=0.0, le=5000.0, description="deepest point inside [km]")
    alt_m: float | None = Field(None, ge=0.0, le=30_000.0, description="flight height [m]")
    speed_kmh: float | None = Field(None, gt=0.0, le=4000.0, description="true airspeed [km/h]")
    source: str = Field("", description="where the statement was published")

    @model_validator(mode="after")
    def _states_something(self) -> ClaimCfg:
        if all(getattr(self, k) is None for k in ("time_inside_s", "distance_inside_km", "max_depth_km", "alt_m",
                                                  "speed_kmh")):
            raise ValueError("a claim states at least one of time_inside_s, distance_inside_km, max_depth_km, "
                             "alt_m, speed_kmh")
        return self


class FlightCfg(_Strict):
    """An aircraft or cruise missile flying a route, or a salvo of them one after another."""

    name: Name = Field(description="unique among the flights and the threats, as given and after salvo expansion "
                                   "('x' of count k > 1 becomes 'x#1' .. 'x#k'), and no sensor's, "
                                   "satellite's, battery's or fighter's (the event log names them all)")
    type: str = Field(description="catalogue aircraft or cruise-missile id, e.g. su-24m or kalibr-3m-14")
    side: Name | None = Field(None, description="who flies it, a free label (e.g. Russia); air policing warns "
                                                "and engages fliers of other sides than its own; default: "
                                                "the name")
    route: list[Waypoint] = Field(min_length=2, description="waypoints flown in order: the first is where it "
                                                            "starts, the last where its flight ends (a cruise "
                                                            "missile's target)")
    start_time_s: float = Field(0.0, ge=0.0, le=MAX_FLIGHT_START_S,
                                description="when it leaves the first waypoint [s after the epoch]")
    count: int = Field(1, ge=1, le=100, description="identical fliers on this route")
    spacing_s: float = Field(0.0, ge=0.0, le=86_400.0, description="time between successive starts [s]")
    speed_pct: float = Field(0.0, ge=0.0, le=20.0,
                             description="one-sigma error of its speeds, drawn per run [% of the commanded speed]")
    start_sigma_s: float = Field(0.0, ge=0.0, le=3600.0, description="one-sigma error of its start time, drawn "
                                                                     "per run [s]")
    failure_probability: float = Field(
        0.0, ge=0.0, le=1.0,
        description="chance that it comes down before its last waypoint, drawn per run and flier, at a point "
                    "drawn uniformly along the route [probability]")
    claims: list[ClaimCfg] = Field([], description="stated figures about this flight, checked against the "
                                                   "flier's envelope and the model's results")


class AirBaseCfg(_Strict):
    """Fighters on quick-reaction alert (QRA) at an airbase."""

    name: Name = Field(description="unique among the bases and patrols")
    type: str = Field(description="catalogue aircraft id of its fighters, e.g. f-16c")
    site: Place = Field(description="a site name or an inline point")
    readiness_s: float = Field(900.0, ge=0.0, le=86_400.0,
                               description="from the scramble order to airborne [s] (NATO QRA: 15 minutes)")
    climb_s: float = Field(120.0, ge=0.0, le=3600.0, description="from airborne to patrol height and speed [s] "
                                                                 "(flown at the base, a stated assumption)")


class PatrolCfg(_Strict):
    """A combat air patrol: fighters already airborne on station."""

    name: Name = Field(description="unique among the bases and patrols")
    type: str = Field(description="catalogue aircraft id, e.g. f-16c")
    site: Place = Field(description="the station: a site name or an inline point (its alt_m: the patrol height)")
    start_time_s: float = Field(0.0, ge=0.0, le=MAX_FLIGHT_START_S, description="on station from [s after epoch]")
    end_time_s: float = Field(MAX_FLIGHT_START_S + 86_400.0, ge=0.0, le=MAX_FLIGHT_START_S + 86_400.0,
                              description="on station until [s after epoch]")


class AirPolicingCfg(_Strict):
    """Air policing of one country's airspace: who watches, warns, scrambles and, by the rules of
    engagement, fires."""

    country: Name = Field(description="the defended airspace: a country by its Natural Earth name, e.g. Turkey")
    side: Name | None = Field(None, description="the defender's side label; fliers of other sides are policed; "
                                                "default: the country")
    waters_nmi: float = Field(12.0, ge=0.0, le=24.0,
                              description="territorial sea counted as airspace beyond the coast [nmi] (12: "
                                          "UNCLOS art. 3; baselines and agreed boundaries not modelled)")
    warn_within_km: float = Field(30.0, ge=0.0, le=500.0,
                                  description="warnings are called to a policed track this close to the border, "
                                              "or inside [km]")
    warning_interval_s: float = Field(30.0, gt=0.0, le=3600.0, description="time between warnings [s]")
    scramble: Literal["on-warning", "on-entry", "never"] = Field(
        "on-warning", description="when fighters are ordered against a policed track (the QRA bases up, the "
                                  "patrols vectored): at the first warning, at the first declared entry, or "
                                  "never")
    engage: Literal["never", "inside"] = Field(
        "inside", description="rules of engagement: never fire, or fire at a policed flier while its track is "
                              "inside the airspace, after min_warnings warnings, from within weapon range")
    min_warnings: int = Field(1, ge=0, le=100, description="warnings given before a shot is allowed")
    engage_from_s: float = Field(0.0, ge=0.0, le=MAX_FLIGHT_START_S,
                                 description="fire is authorised from this time on [s after the epoch]; before "
                                             "it fighters intercept and escort only")
    reaction_s: float = Field(5.0, ge=0.0, le=600.0,
                              description="from the fire decision to the weapon's release [s]")
    max_shots: int = Field(2, ge=1, le=10,
                           description="weapons fired at one flier: after a miss (seen when the weapon's flight "
                                       "ends), the next goes as soon as the rules allow, up to this many [rounds]")
    pursuit: Literal["own-airspace", "international", "across"] = Field(
        "own-airspace", description="where a vectored fighter may fly: own-airspace: it does not leave the "
                                    "defended airspace (a fighter inside stops at the border while the track "
                                    "is beyond it, its weapon still reaching across); international: it flies "
                                    "in its own and in international airspace, never into another country's "
                                    "(land and territorial sea, as air_policing.waters_nmi draws them); across: "
                                    "it follows the track anywhere")
    bases: list[AirBaseCfg] = Field([], description="quick-reaction-alert bases")
    patrols: list[PatrolCfg] = Field([], description="combat air patrols on station")


class FireDispersionCfg(_Strict):
    """One-sigma errors of a fire mission's rounds, drawn per round (null: the round's catalogue
    figures)."""

    range_sigma_m: float | None = Field(None, ge=0.0, le=5000.0,
                                        description="laying error in range at the aim point [m]; null: the "
                                                    "catalogue's range_sigma_pct of the range fired")
    deflection_sigma_m: float | None = Field(None, ge=0.0, le=5000.0,
                                             description="laying error across the line of fire at the aim point "
                                                         "[m]; null: the catalogue's deflection_sigma_mrad times "
                                                         "the range")
    muzzle_velocity_sigma_ms: float | None = Field(None, ge=0.0, le=100.0,
                                                   description="round-to-round muzzle-velocity error [m/s]; null: "
                                                               "the catalogue's")


class FireMissionCfg(_Strict):
    """One weapon firing bursts of unguided rounds from one place at one aim point."""

    name: Name = Field(description="unique among the fire missions; its rounds are 'name#1', 'name#2' ...")
    round: str = Field(description="catalogue round id (shieldlab catalog artillery), e.g. mortar-120mm-he")
    origin: Place = Field(description="where the weapon stands: a site name or an inline point (its alt_m: the "
                                      "ground there)")
    aim: Place = Field(description="what it fires at: an asset name, a site name or an inline point (its "
                                   "alt_m: the ground there)")
    rounds: int = Field(1, ge=1, le=24, description="rounds in a burst")
    bursts: int = Field(1, ge=1, le=20, description="bursts fired")
    round_interval_s: float = Field(10.0, ge=0.0, le=600.0, description="time between rounds of a burst [s]")
    burst_interval_s: float = Field(
        300.0, ge=0.0, le=86_400.0,
        description="time from the start of one burst to the start of the next [s]; at least a burst's length, "
                    "(rounds - 1) x round_interval_s")
    start_time_s: float = Field(0.0, ge=0.0, le=MAX_FLIGHT_START_S, description="first round fired [s after "
                                                                                "the epoch]")
    muzzle_velocity_ms: float | None = Field(None, gt=0.0, le=2000.0,
                                             description="the charge fired, as its muzzle velocity [m/s]; null: "
                                                         "the catalogue's (a rocket: its tube-exit speed)")
    angle: Literal["low", "high"] | None = Field(None, description="the branch laid on: low (below the elevation "
                                                                   "of greatest range) or high; null: the "
                                                                   "round's (mortars high, guns and rockets low)")
    dispersion: FireDispersionCfg = Field(FireDispersionCfg(), description="one-sigma errors of the rounds")

    @model_validator(mode="after")
    def _bursts_apart(self) -> FireMissionCfg:
        length = (self.rounds - 1) * self.round_interval_s
        if self.bursts > 1 and self.burst_interval_s < length:
            raise InputError(problems=[(
                "burst_interval_s", f"{self.burst_interval_s:g} s is shorter than a burst ({self.rounds} rounds "
                                    f"{self.round_interval_s:g} s apart last {length:g} s): bursts would overlap")])
        return self


class LocatingRadarCfg(_Strict):
    """A weapon-locating (counter-battery) radar placed in the scenario."""

    name: Name = Field(description="unique among the weapon-locating radars")
    type: str = Field(description="catalogue weapon-locating radar id (shieldlab catalog locating-radars), "
                                  "e.g. an-tpq-36")
    site: Place = Field(description="a site name or an inline point (the antenna)")
    facing_az_deg: float = Field(ge=0.0, lt=360.0, description="centre of its azimuth sector [deg from north]")
    fence_elevation_deg: float | None = Field(None, ge=0.0, le=20.0,
                                              description="elevation of its search fence above the horizontal "
                                                          "[deg]; null: the catalogue's")
    ground_alt_m: float | None = Field(
        None, ge=-500.0, le=9000.0,
        description="height above the ellipsoid it takes for the ground the weapons stand on (no terrain "
                    "model) [m]; null: the radar site's alt_m")


class ShellingCfg(_Strict):
    """Unguided fire (shells, mortar bombs, rockets) and the weapon-locating radars that place its origin."""

    country: Name | None = Field(
        None, description="the country whose border the estimated origins are judged against (Natural Earth "
                          "name, e.g. Turkey); null: the country the first radar stands in")
    waters_nmi: float = Field(12.0, ge=0.0, le=24.0,
                              description="territorial sea counted with that country beyond its coast [nmi]")
    missions: list[FireMissionCfg] = Field(min_length=1, description="fire missions")
    radars: list[LocatingRadarCfg] = Field(min_length=1, description="weapon-locating radars")
    landmarks: list[Name] = Field(
        [], max_length=20,
        description="site names to mark and name on the shelling's maps: a town the map's gazetteer (places of "
                    "15,000 people or more) leaves out, such as the one across the border the fire came from")

    @model_validator(mode="after")
    def _unique(self) -> ShellingCfg:
        problems = _duplicate_names(self, ("missions", "radars"), also="shelling.")
        if problems:
            raise InputError(problems=problems)
        return self


class AssetCfg(_Strict):
    """A defended place: a warhead landing within radius_km of it hits it."""

    name: Name = Field(description="unique among the assets; threats may aim at it by name (a site's name only "
                                   "if it stands at that site)")
    site: Place = Field(description="a site name or an inline point")
    radius_km: float = Field(gt=0.0, le=1000.0, description="a warhead landing inside this radius hits the asset [km]")
    value: float = Field(1.0, ge=0.0, le=1e6,
                         description="what the asset is worth relative to the others: fire control serves the "
                                     "threats with the most value at stake first when rounds run short")


class DoctrineCfg(_Strict):
    """How every battery fights, unless the battery overrides it."""

    engage: Literal["threatening", "all"] = Field(
        "threatening", description="engage only threats predicted to land on a defended asset, or all (with no "
                                   "assets, threatening engages all: there is nothing to judge a threat by)")
    threat_probability: float = Field(
        0.1, gt=0.0, le=1.0,
        description="with engage: threatening, a track is engaged when the probability that its predicted "
                    "impact (with the track's uncertainty) lands inside a defended asset's radius reaches this "
                    "[probability]")
    salvo: int = Field(1, ge=1, le=MAX_SALVO,
                       description="interceptors fired per engagement (shoot-shoot) [rounds]")
    shoot_look_shoot: bool = Field(True, description="look at the result of an engagement before the next")
    max_engagements: int = Field(2, ge=1, le=MAX_ENGAGEMENTS,
                                 description="engagements per threat (with shoot-look-shoot)")
    look_time_s: float | None = Field(
        None, ge=0.0, le=600.0,
        description="kill assessment time after an intercept [s]; null: each interceptor's catalogue "
                    "look_time_s")
    reserve: int = Field(0, ge=0, description="rounds each battery keeps back (never fires) [rounds]")
    planning_interval_s: float = Field(4.0, ge=0.1, le=60.0, description="how often fire control re-plans [s]")
    handover_s: float | None = Field(
        None, ge=0.0, le=600.0,
        description="last in-flight target update before intercept [s]; null: each interceptor's catalogue "
                    "handover_s")
    track_quality_sigma: float | None = Field(
        None, ge=0.0, le=10.0,
        description="launch gate: commit only when this many sigmas of the predicted intercept point's position "
                    "uncertainty at launch fit inside the kill vehicle's divert (3: a shot with no in-flight "
                    "target update); 0 or null (the default): no gate, the handover error decides")
    assignment: Literal["earliest", "greedy", "exact"] = Field(
        "earliest",
        description="how fire control shares rounds among threats: earliest (each threat, most value at stake "
                    "first, to the battery that intercepts it earliest, keeping rounds for more valuable threats "
                    "it can also reach), greedy (a weapon-target assignment maximising the expected value saved, "
                    "maximum marginal return) or exact (the same, solved exactly as a MILP; greedy where it is "
                    "too large)")
    launch_report_alert: bool = Field(
        True, description="true: an early-warning launch report that reaches a battery's node starts the battery's "
                          "preparation (its reaction time runs from the report); false: the report cues the radars "
                          "only")


class TrackingCfg(_Strict):
    """Track management of every system."""

    init_hits: int = Field(3, ge=1, le=20, description="detections before a track is confirmed (with association "
                                                       "gnn: the M of M-of-N, reports among its first "
                                                       "confirm_looks looks)")
    filter: Literal["ekf", "ukf", "imm"] = Field(
        "ekf", description="the track filter: extended (ekf, by Jacobians, its update iterated where the "
                           "linearisation does not hold) or unscented (ukf, by sigma points) "
                           "Kalman filter with adapted process noise, on the same ballistic motion and radar "
                           "measurement models, or an interacting multiple model (imm: one EKF per motion regime "
                           "- ballistic, re-entry, boost noise levels - mixed by their odds); the multi-target "
                           "tracker (shieldlab tracks, association gnn) runs each of them")
    association: Literal["labels", "gnn"] = Field(
        "labels",
        description="what fire control reads. labels: one track per threat, each radar report paired with its "
                    "threat by the truth (a shortcut: association is perfect and boosters and false alarms "
                    "are not seen); gnn: the multi-target tracker over reports without labels (spent boosters "
                    "and false alarms among them; gating, global nearest neighbour, M-of-N confirmation, "
                    "deletion) - fire control then engages tracks, which may hold a booster; several nodes' "
                    "tracks, and a battery's own radar's, share network track numbers")
    gate_probability: float = Field(
        0.9999, gt=0.5, lt=1.0,
        description="multi-target tracking (shieldlab tracks, and run with association gnn): probability that "
                    "a track's own report falls in its gate (chi-square, 3 degrees of freedom)")
    confirm_looks: int = Field(
        5, ge=1, le=50,
        description="multi-target tracking (at least init_hits): a tentative track is dropped when it can no "
                    "longer have init_hits reports in its first confirm_looks looks (M-of-N); once it has them it is "
                    "confirmed as soon as its velocity is known to confirm_sigma_v_ms, and deleted, confirmed or "
                    "not, by delete_probability (confirmed, also by delete_sigma_km)")
    confirm_sigma_v_ms: float = Field(
        300.0, ge=1.0, le=1e5,
        description="multi-target tracking: a track with its init_hits reports is confirmed only once its "
                    "velocity is known this well (the RMS over the axes of its standard deviation, m/s); until "
                    "then it stays tentative (fire control does not see it). Keeps a track fed by two objects "
                    "(a warhead and its booster alternately) from being passed on with a velocity wrong by "
                    "kilometres a second. 100000 in effect turns the test off; a few m/s or less is reached "
                    "late or never")
    min_speed_ms: float = Field(
        300.0, ge=0.0, le=1e4,
        description="multi-target tracking: a track started from one report takes as its second only a report "
                    "at least this far from it per second since the first (m/s; the minimum-velocity gate of "
                    "two-point initiation): where missiles rise one after another from one launch area, a radar "
                    "that revisits slowly would otherwise pair each one's first report with the next one's, "
                    "a track of no object, standing still; and a track is confirmed only once its estimated "
                    "speed is at least this (three missiles' first reports can pass the pairwise test and "
                    "make a slow track). Keep it below the slowest object tracked (a "
                    "ballistic missile above a radar's horizon flies at 500 m/s and more); 0 turns it off")
    delete_probability: float = Field(
        1e-3, gt=0.0, lt=0.5,
        description="multi-target tracking: a track with its init_hits reports, confirmed or not, is deleted "
                    "when the looks since its last report, each with the detection probability estimated from "
                    "that radar's record on the track (its reports over its looks, Laplace's rule, recent looks "
                    "weighing more), would all have missed the object with less than this probability (the "
                    "product of 1 - Pd: the chance of those silent looks were the object there, not a "
                    "probability that it is). Under either association fire control drops a destroyed "
                    "threat's track by the same rule, at the look that would have brought its report "
                    "(5 silent looks for a long-held track at the default)")
    delete_sigma_km: float = Field(
        10.0, ge=1.0, le=1e4,
        description="multi-target tracking: a confirmed track is also deleted when its predicted position is "
                    "known no better than this (its RMS radius, the square root of the trace of its position "
                    "covariance, km; about 1.7 times the per-axis sigma): a track coasting where no radar looks "
                    "(below a radar's horizon, in the dense air where its ballistic model no longer holds) "
                    "grows a gate wide enough to take another object's report. It matters only where confirmed "
                    "tracks coast unseen (of the presets, only nato-russia-2011's Russian picture); 10000 all "
                    "but turns it off, and below a few km it ends good long-range tracks. An assumption, "
                    "chosen by its effect on nato-russia-2011 (docs/models.md)")

    @model_validator(mode="after")
    def _m_of_n(self) -> TrackingCfg:
        if self.confirm_looks < self.init_hits:
            raise ValueError(f"confirm_looks ({self.confirm_looks}) must be at least init_hits ({self.init_hits}): "
                             f"a track is confirmed by init_hits reports in its first confirm_looks looks")
        return self


#: Most false alarms per search frame a scenario may ask for: about AN/TPY-2's raw rate (each
#: starts a tentative track; a run of epaa-phase-1 at ~1,000 a frame takes ~5 s on 2 cores).
MAX_FALSE_ALARMS = 1000.0


class SensingCfg(_Strict):
    """How every radar sees and measures."""

    refraction_k: float | None = Field(
        None, ge=0.5, le=4.0,
        description="the atmosphere the radars look through. null: the standard exponential atmosphere (ITU-R "
                    "P.453), rays bent as a ray trace says, strongly near the ground and not at all above it; a "
                    "number: one effective-Earth radius factor for every ray (4/3 the classic near-ground value, "
                    "1 a geometric line of sight, larger in super-refraction, smaller in sub-refraction)")
    snr_noise: bool = Field(
        True, description="measurement noise grows as the signal-to-noise ratio falls (sigma as 1/sqrt(SNR); the "
                          "catalogue's figures hold at 20 dB); false: the catalogue's figures at every SNR")
    scan_loss: bool = Field(
        False, description="true: a radar's fixed array faces lose signal as their beams steer off the face's normal "
                           "(two-way cos^2.5 of the azimuth off it: 7.5 dB, a range 35 % shorter, 60 deg off; the "
                           "catalogue's array_faces); false (the default, which the documented figures use): the "
                           "catalogue range in every direction of the field")
    false_alarms: Literal["confirmed", "raw"] | float = Field(
        "confirmed",
        description="false alarms among each radar's reports to the multi-target tracker (shieldlab tracks, "
                    "and shieldlab run with tracking.association gnn): confirmed (each threshold crossing "
                    "re-examined by a second dwell before it is reported: cells x Pfa^2 per search frame), raw "
                    "(every crossing: cells x Pfa), or a number from 0 to 1000: the mean per search frame (each "
                    "false alarm starts a tentative track: ~1000 a frame costs ~5 s a run of epaa-phase-1 on 2 cores)")

    @field_validator("false_alarms", mode="before")
    @classmethod
    def _false_alarms(cls, v):
        if isinstance(v, str) and v in ("confirmed", "raw"):
            return v
        shown = "true" if v is True else "false" if v is False else "null" if v is None else repr(v)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            # a number in quotes: say so, as a number field does
            hint = " (write a number without quotes)" if isinstance(v, str) and _is_number(v.strip()) else ""
            raise ValueError(f"must be confirmed, raw or a number of false alarms per search frame, not {shown}"
                             + hint)
        if not 0.0 <= v <= MAX_FALSE_ALARMS:
            raise ValueError(f"must be greater than or equal to 0 and at most {MAX_FALSE_ALARMS:g} false alarms "
                             f"per search frame, not {shown}")
        return float(v)


class CatalogAdditions(_Strict):
    """Entries a scenario adds to (or overrides in) the built-in catalogue."""

    missiles: list[Missile] = Field([], description="missile entries in the format of catalog/missiles.yaml")
    interceptors: list[Interceptor] = Field(
        [], description="interceptor entries in the format of catalog/interceptors.yaml")
    sensors: list[Sensor] = Field([], description="sensor entries in the format of catalog/sensors.yaml")
    satellites: list[Satellite] = Field(
        [], description="early-warning satellite entries in the format of catalog/satellites.yaml")
    aircraft: list[Aircraft] = Field(
        [], description="aircraft and cruise-missile entries in the format of catalog/aircraft.yaml")
    rounds: list[Round] = Field([], description="unguided rounds in the format of catalog/artillery.yaml's rounds")
    locating_radars: list[LocatingRadar] = Field(
        [], description="weapon-locating radars in the format of catalog/artillery.yaml's locating_radars")

    @model_validator(mode="after")
    def _unique_ids(self) -> CatalogAdditions:
        problems: list[tuple[str, str]] = []
        for section in ("missiles", "interceptors", "sensors", "satellites", "aircraft", "rounds", "locating_radars"):
            seen: dict[str, int] = {}
            for i, e in enumerate(getattr(self, section)):
                if e.id in seen:
                    problems.append((f"{section}[{i}].id",
                                     f"duplicate id {e.id!r} (also catalog.{section}[{seen[e.id]}])"))
                seen.setdefault(e.id, i)
        if problems:
            raise InputError(problems=problems)
        return self

#: How the C2 nodes (systems) cooperate; see :attr:`Scenario.architecture`.
ARCHITECTURES = ("independent", "coordinated", "sectoral", "integrated")
Architecture = Literal["independent", "coordinated", "sectoral", "integrated"]


class NodeCfg(_Strict):
    """A C2 node: the properties of one system named by the `system` of sensors and batteries.

    A system with no entry here is still a node, with the defaults."""

    name: Name = Field(description="the system this entry describes: a `system` named by at least one sensor "
                                   "or battery")
    side: Name | None = Field(None, description="who runs the node, a free label (e.g. NATO), used to report "
                                                "what each side sees of the other; default: the name")
    site: Place | None = Field(None, description="where the node's C2 sits (a site name or an inline point), "
                                                 "marked in the 3-D scene (scene.czml); default: none")
    sector: list[Annotated[list[float], Field(min_length=2, max_length=2)]] | None = Field(
        None, min_length=3,
        description="the node's area of responsibility under architecture: sectoral: a polygon of [lat, lon] "
                    "points [deg], at least 3 distinct, not self-intersecting, not crossing the antimeridian "
                    "(the closing point may be left out)")

    @field_validator("sector", mode="before")
    @classmethod
    def _sector_is_a_list(cls, v):
        # a name or a number here read as "expected a number, got the text 'balkans'"
        if v is not None and not isinstance(v, (list, tuple)):
            raise ValueError(f"a sector is a list of [lat, lon] points, e.g. [[40, 20], [41, 21], [40, 22]], "
                             f"not {v!r}")
        return v

    @model_validator(mode="after")
    def _valid_sector(self) -> NodeCfg:
        if self.sector is None:
            return self
        problems: list[tuple[str, str]] = []
        for k, (lat, lon) in enumerate(self.sector):
            if not -90.0 <= lat <= 90.0:
                problems.append((f"sector[{k}]", f"latitude {lat:g} is outside -90 .. 90 [deg] "
                                                 f"(a point is [lat, lon])"))
            if not -180.0 <= lon <= 180.0:
                problems.append((f"sector[{k}]", f"longitude {lon:g} is outside -180 .. 180 [deg]"))
        if problems:
            raise InputError(problems=problems)
        distinct = {(lat, lon) for lat, lon in self.sector}
        if len(distinct) < 3:
            raise InputError(problems=[("sector", f"a polygon needs at least 3 distinct points, got "
                                                  f"{len(distinct)}")])
        lons = [lon for _, lon in self.sector]
        for k in range(len(lons)):
            if abs(lons[k] - lons[k - 1]) > 180.0:  # the short way between them crosses 180 deg
                raise InputError(problems=[(f"sector[{k}]", f"the edge from longitude {lons[k - 1]:g} to "
                                                          f"{lons[k]:g} crosses the antimeridian: split the sector "
                                                          f"or keep it to one side of 180 deg")])
        pts = np.array(self.sector, float)
        if np.linalg.matrix_rank(pts - pts.mean(axis=0), tol=1e-9) < 2:
            raise InputError(problems=[("sector", "the points lie on one line: a polygon needs an area")])
        poly = sector_polygon(self.sector)
        if not poly.is_valid or poly.area <= 0.0:
            raise InputError(problems=[("sector", f"not a valid polygon ({_why_invalid(poly)}): the edges must "
                                                  f"not cross, touch or fold back")])
        return self


def _why_invalid(poly: Polygon) -> str:
    """Shapely's reason, with its point ``[x y]`` (lon, lat) given as ``[lat, lon]``."""
    if poly.is_valid:
        return "its points are all on one line"
    why = explain_validity(poly)
    m = re.fullmatch(r"(.*?)\[\s*(\S+)\s+(\S+)\s*\]", why)
    if m is None:
        return why
    reason, lon, lat = m.groups()
    return f"{reason.lower()} at [{float(lat):g}, {float(lon):g}]"


def sector_polygon(points: list[list[float]], scale: float = 1.0) -> Polygon:
    """A sector's ``[[lat, lon], ...]`` as a shapely polygon with x = lon, y = lat, each times ``scale``."""
    return Polygon([(lon * scale, lat * scale) for lat, lon in points])


class LinkCfg(_Strict):
    """A data link that carries one node's tracks, engagement status and launch reports to another
    (architectures coordinated and sectoral), or only some of them (``tracks``, ``launch_reports``;
    both false is refused; a two-way link's flags hold both ways): messages leave at whole
    multiples of the period from the epoch."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)

    from_: Name = Field(alias="from", description="the node (system) that sends its tracks, status and launch "
                                                   "reports (what the link carries of them)")
    to: Name = Field(description="the node (system) that receives them")
    two_way: bool = Field(True, description="true: the same link the other way too (to -> from)")
    latency_s: float = Field(ge=0.0, le=3600.0,
                             description="delay from a message's sending to its use at the receiver [s]")
    update_period_s: float = Field(ge=MIN_LINK_PERIOD_S, le=600.0,
                                   description=f"a message (a batch of tracks) is sent this often, "
                                               f"{MIN_LINK_PERIOD_S:g} s at the shortest [s]")
    capacity_tracks_per_s: float | None = Field(None, gt=0.0, le=1e6,
                                                description="most tracks the link carries per second "
                                                            "[tracks/s], over time: a message carries the whole "
                                                            "tracks the capacity has added up to since the last "
                                                            "(0.1 a message: one every tenth); null: unlimited. "
                                                            "Status and launch reports are small: no limit")
    loss: float = Field(0.0, ge=0.0, lt=1.0, description="probability that one track report, status message or "
                                                         "launch report is lost; a lost status or launch report "
                                                         "is sent again with the next message [probability]")
    launch_reports: bool = Field(True, description="true: the link also passes the sending node's early-warning "
                                                   "launch reports on (false: tracks and status only)")
    tracks: bool = Field(True, description="true: the link carries the sending node's tracks and engagement status "
                                           "(false: launch reports only, an exchange of early warning such as the "
                                           "US-Russian Joint Data Exchange Center of 2000; its nodes learn no "
                                           "tracks or engagements of each other over it)")

    @model_validator(mode="after")
    def _carries_something(self) -> LinkCfg:
        if not (self.tracks or self.launch_reports):
            raise ValueError("tracks and launch_reports are both false: the link would carry nothing")
        return self


def _is_number(text: str) -> bool:
    """Whether ``text`` reads as a plain number (``8``, ``1e3``; not ``2_0``, which Python's
    float takes and YAML 1.2 does not)."""
    from shieldlab.catalog.models import PLAIN_NUMBER

    return PLAIN_NUMBER.fullmatch(text) is not None


def salvo_member(name: str, count: int, k: int) -> str:
    """The name of the ``k``-th missile (0-based) of threat entry ``name`` fired ``count`` at a time."""
    return name if count == 1 else f"{name}#{k + 1}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class Scenario(_Strict):
    """A scenario file: places, sensors, batteries, assets, threats and how they fight."""

    name: Name = Field(description="the scenario's name, shown in results")
    description: str = Field("", description="one line shown by `shieldlab presets`")
    epoch: datetime = Field(description="UTC instant of t = 0 (ISO 8601; no zone: UTC), in the years 1900 to 2199")
    time_step_s: float = Field(1.0, ge=0.1, le=10.0, description="flyout sampling step [s]")
    duration_s: float | None = Field(None, gt=0.0, le=20_000.0,
                                     description="simulated time [s]: at least the last threat's landing plus 30 s "
                                                 "(180 s where it is dispersed); default: until then")
    sites: dict[Name, GeoPoint] = Field({}, description="named points, referred to by name below")
    sensors: list[SensorCfg] = Field([], description="radars")
    early_warning: list[SatelliteCfg] = Field(
        [], description="early-warning satellites: they see burning missiles and their launch reports cue radars")
    batteries: list[BatteryCfg] = Field([], description="interceptor batteries")
    architecture: Architecture = Field(
        "integrated",
        description="how the C2 nodes (the systems named by sensors and batteries) cooperate. independent: each "
                    "node fires its batteries on its own sensors' tracks alone, links ignored; coordinated: each "
                    "node fires its own batteries on its own tracks and on those its links bring in; sectoral: as "
                    "coordinated, each node answering for its sector (nodes[].sector) only; integrated: one C2 "
                    "over every sensor and battery, links ignored")
    nodes: list[NodeCfg] = Field(
        [], description="properties of the C2 nodes; every system named by a sensor or battery is a node, with "
                        "defaults where it has no entry here")
    links: list[LinkCfg] = Field(
        [], description="data links between nodes, used by architectures coordinated and sectoral (which need "
                        "a link into every node with batteries from another node with sensors, when there are "
                        "several nodes)")
    threats: list[ThreatCfg] = Field([], description="ballistic missiles and salvos (a scenario needs threats, "
                                                     "flights or shelling, or several of them)")
    flights: list[FlightCfg] = Field([], description="aircraft and cruise missiles (air-breathing flight)")
    air_policing: AirPolicingCfg | None = Field(None, description="air policing of one country's airspace "
                                                                  "against the flights")
    shelling: ShellingCfg | None = Field(None, description="unguided fire and the weapon-locating radars that "
                                                           "place its origin")
    assets: list[AssetCfg] = Field([], description="defended places")
    dispersion: DispersionCfg = Field(DispersionCfg(), description="flight dispersions of every threat")
    doctrine: DoctrineCfg = Field(DoctrineCfg(), description="fire doctrine of every battery")
    tracking: TrackingCfg = Field(TrackingCfg(), description="track management")
    sensing: SensingCfg = Field(SensingCfg(), description="refraction and measurement noise of every radar")
    catalog: CatalogAdditions = Field(CatalogAdditions(),
                                      description="catalogue entries added or overridden by this scenario")

    @field_validator("epoch", mode="before")
    @classmethod
    def _not_a_number(cls, v: object) -> object:
        # pydantic reads a number as Unix seconds (or milliseconds, by its size): `epoch: 2012`
        # would be 33 minutes after 1970
        if (isinstance(v, (int, float)) and not isinstance(v, bool)) or (isinstance(v, str) and _is_number(v)):
            raise ValueError(f"a date-time such as 2024-01-15T00:00:00Z is needed, not a number ({v!r})")
        return v

    @field_validator("epoch")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        try:
            v = v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:00:00-14:00 is in year 10000 in UTC
            raise ValueError(f"{v.isoformat()} is outside the years {EPOCH_FIRST_YEAR} to {EPOCH_LAST_YEAR} "
                             "in UTC") from None
        # the scenario's clock runs up to MAX_FLIGHT_START_S (~3 years) past it, and its times are
        # written as dates (events, the scene): an epoch near year 9999 ran and then failed writing
        if not EPOCH_FIRST_YEAR <= v.year <= EPOCH_LAST_YEAR:
            raise ValueError(f"{v.isoformat()} is outside the years {EPOCH_FIRST_YEAR} to {EPOCH_LAST_YEAR}")
        return v

    def node_names(self) -> list[str]:
        """The systems (C2 nodes) in the order they first appear: sensors, then batteries."""
        return list(dict.fromkeys([s.system for s in self.sensors] + [b.system for b in self.batteries]))

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> Scenario:
        if isinstance(info.context, dict) and info.context.get(NO_CROSS_CHECKS):
            return self  # (the loader's second look at a refused file: loader.reference_problems)
        problems = self._name_problems() + self._node_problems() + self._air_problems()
        if problems:
            raise InputError(problems=with_lone_system_hints(self, problems))
        return self

    def _name_problems(self) -> list[tuple[str, str]]:
        problems = _duplicate_names(self, ("sensors", "early_warning", "batteries", "assets"))
        # radars and satellites are the event log's actors, beside the links ("from->to"); one
        # actor's name taken by another is told with the flights (_air_problems_of)
        for group in ("sensors", "early_warning"):
            for i, item in enumerate(getattr(self, group)):
                if "->" in item.name:
                    problems.append((f"{group}[{i}].name", f"{item.name!r}: '->' names a link in the event log "
                                                           "(from->to); choose another name"))
        # an aim names a site or an asset, the site first: an asset named as a site elsewhere
        # would be aimed at the site (195 km off, silently, where the names crossed)
        for i, a in enumerate(self.assets):
            where = self.sites.get(a.site) if isinstance(a.site, str) else a.site  # (None: an unknown site)
            if a.name in self.sites and where is not None and where != self.sites[a.name]:
                problems.append((f"assets[{i}].name", f"{a.name!r} is also the name of a site at another place "
                                                      "(an aim at that name would mean the site): rename one"))
        # threats: entry names unique, and unique after salvo expansion
        entry_of: dict[str, int] = {}
        owner: dict[str, tuple[int, int]] = {}  # expanded name -> (entry, k)
        for i, t in enumerate(self.threats):
            if t.name in entry_of:
                problems.append((f"threats[{i}].name",
                                 f"duplicate name {t.name!r} (also threats[{entry_of[t.name]}])"))
                continue
            entry_of[t.name] = i
            members = [salvo_member(t.name, t.count, k) for k in range(t.count)]
            if t.name in owner:
                j, k = owner[t.name]
                problems.append((f"threats[{i}].name",
                                 f"{t.name!r} is also the name of the {_ordinal(k + 1)} missile of salvo "
                                 f"{self.threats[j].name!r} (threats[{j}])"))
                continue
            clash = next((n for n in members if n in owner), None)
            if clash is not None:
                j, _ = owner[clash]
                problems.append((f"threats[{i}].name",
                                 f"salvo {t.name!r} names its missiles {members[0]!r} .. {members[-1]!r}, "
                                 f"and {clash!r} is already the name of threats[{j}]"))
                continue
            owner.update({n: (i, k) for k, n in enumerate(members)})
        # a threat and an asset of one name: the log, the maps and --explain would name both by it
        asset_of = {a.name: i for i, a in enumerate(self.assets)}
        for name, (i, _) in owner.items():
            if name in asset_of:
                problems.append((f"threats[{i}].name", f"{name!r} is also the name of assets[{asset_of[name]}]: "
                                                       "the event log and the maps name both by it; rename one"))
        return problems

    def _air_problems(self) -> list[tuple[str, str]]:
        """At least one threat or flight; flight names unique after salvo expansion; base and patrol
        names unique; air policing only with flights; one name per actor of the event log, and
        no threat or flight named as one."""
        return _air_problems_of(self)

    def _node_problems(self) -> list[tuple[str, str]]:
        """Nodes name used systems once; links join two different nodes, each direction once; the
        architecture has what it needs (sectors; links into every node with batteries)."""
        problems: list[tuple[str, str]] = []
        systems = self.node_names()
        listing = ", ".join(repr(x) for x in systems) or "none"
        entry: dict[str, int] = {}
        for i, n in enumerate(self.nodes):
            if n.name in entry:
                problems.append((f"nodes[{i}].name", f"duplicate name {n.name!r} (also nodes[{entry[n.name]}])"))
                continue
            entry[n.name] = i
            if n.name not in systems:
                problems.append((f"nodes[{i}].name", f"no sensor or battery names system {n.name!r}, so it is no "
                                                     f"C2 node (systems: {listing})"))
        edges: dict[tuple[str, str], int] = {}  # (from, to) -> the link that carries it
        misnamed = False  # a link with an end that names no node: the links meant cannot be judged
        for i, link in enumerate(self.links):
            ok = True
            for field, end in (("from", link.from_), ("to", link.to)):
                if end not in systems:
                    problems.append((f"links[{i}].{field}", f"{end!r} is no C2 node: no sensor or battery names "
                                                            f"system {end!r} (systems: {listing})"))
                    ok = False
                    misnamed = True
            if link.from_ == link.to:
                problems.append((f"links[{i}].to", f"a link from {link.from_!r} to itself"))
                continue
            if not ok:
                continue
            pairs = [(link.from_, link.to)] + ([(link.to, link.from_)] if link.two_way else [])
            dups = []
            for a, b in pairs:
                if (a, b) in edges:
                    j = edges[(a, b)]
                    way = "" if (a, b) == (self.links[j].from_, self.links[j].to) else ", two_way"
                    dups.append(f"{a!r} -> {b!r} (also links[{j}]{way})")
            if dups:
                problems.append((f"links[{i}]", f"a second link {' and '.join(dups)}: keep one link per "
                                                f"direction (a two_way link counts for both)"))
            edges.update({p: i for p in pairs if p not in edges})
        with_batteries = [x for x in systems if x in {b.system for b in self.batteries}]
        if self.architecture == "sectoral":
            for name in with_batteries:
                if name in entry and self.nodes[entry[name]].sector is None:
                    problems.append((f"nodes[{entry[name]}].sector",
                                     f"architecture sectoral needs a sector for node {name!r}, which has batteries"))
                elif name not in entry:
                    problems.append(("nodes", f"architecture sectoral needs a sector for node {name!r}, which has "
                                              f"batteries: add {{name: {name}, sector: [[lat, lon], ...]}} under "
                                              f"nodes"))
        # (a misspelt end is the error to report: the links it leaves missing would only repeat it)
        if self.architecture in ("coordinated", "sectoral") and len(systems) > 1 and not misnamed:
            with_sensors = {s.system for s in self.sensors}
            for name in with_batteries:
                sources = [x for x in systems if x != name and x in with_sensors]
                if sources and not any(_reaches(edges, x, name) for x in sources):
                    problems.append(("links", f"architecture {self.architecture} needs a link into node {name!r} "
                                              f"(it has batteries) from another node with sensors "
                                              f"({', '.join(repr(x) for x in sources)}): add "
                                              f"{{from: {sources[0]}, to: {name}, latency_s: ..., "
                                              f"update_period_s: ...}} under links, or choose architecture "
                                              f"independent or integrated"))
        return problems


#: A validation context key: with it true, a scenario's cross-checks between fields (duplicate
#: names, nodes, air policing) are left out, its fields validated one by one only.
NO_CROSS_CHECKS = "no_cross_checks"


def with_lone_system_hints(scn: Scenario, problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``problems`` of a refused scenario with a hint for each ``system`` that one sensor or
    battery alone names and that is near another system's name (``usfkk`` beside ``usfk``):
    a system named once is a C2 node of its own, so a misspelt one is refused for what it
    leaves out (a node with no sensor, a link missing), not for the spelling.  The hint ends
    that field's own problem where it has one ("no sensor feeds system 'natto'"), else is a
    problem of its own.  (Two systems of near names may be meant: of an accepted scenario,
    ``validate`` and ``run`` say these as notes.)"""
    hints = {field: f"{name!r} is named by this entry alone, so it is a C2 node of its own: did you mean {near!r}?"
             for field, name, near in lone_systems(scn)}
    out = [(f, f"{m} ({hints.pop(f)})" if f in hints else m) for f, m in problems]
    return out + list(hints.items())


def lone_systems(scn: Scenario) -> list[tuple[str, str, str]]:
    """``(field, system, near)`` for each ``system`` that one sensor or battery alone names,
    that no node entry or link names, and that is near another system's name (``usfkk``
    beside ``usfk``)."""
    import difflib

    named = [(f"sensors[{i}].system", s.system) for i, s in enumerate(scn.sensors)] + \
        [(f"batteries[{i}].system", b.system) for i, b in enumerate(scn.batteries)]
    count: dict[str, int] = {}
    for _, name in named:
        count[name] = count.get(name, 0) + 1
    known = {n.name for n in scn.nodes} | {x for link in scn.links for x in (link.from_, link.to)}
    out = []
    for field, name in named:
        near = difflib.get_close_matches(name, sorted(x for x in count if x != name), n=1, cutoff=0.75)
        if count[name] == 1 and name not in known and near:
            out.append((field, name, near[0]))
    return out


def _air_problems_of(scn: Scenario) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not scn.threats and not scn.flights and scn.shelling is None:
        problems.append(("threats", "a scenario needs at least one threat (ballistic) or flight (air-breathing), "
                                    "or shelling"))
    owner: dict[str, str] = {}
    # the threats' names, entries and salvo members: one event log and outcome table name both
    for j, t in enumerate(scn.threats):
        for n in {t.name, *(salvo_member(t.name, t.count, k) for k in range(t.count))}:
            owner.setdefault(n, f"threats[{j}]")
    entry: dict[str, int] = {}
    for i, f in enumerate(scn.flights):
        if f.name in entry:  # their figures are summed by entry name
            problems.append((f"flights[{i}].name", f"duplicate name {f.name!r} (also flights[{entry[f.name]}])"))
            continue
        entry[f.name] = i
        if f.name in owner and owner[f.name].startswith("threats"):
            problems.append((f"flights[{i}].name", f"{f.name!r} is also the name of {owner[f.name]}"))
            continue
        for k in range(f.count):
            n = salvo_member(f.name, f.count, k)
            if n in owner:
                problems.append((f"flights[{i}].name", f"{n!r} is also the name of {owner[n]}"))
                break
            owner[n] = f"flights[{i}]"
    if scn.air_policing is not None:
        seen: dict[str, str] = {}
        for group in ("bases", "patrols"):
            for i, b in enumerate(getattr(scn.air_policing, group)):
                if b.name in seen:
                    problems.append((f"air_policing.{group}[{i}].name",
                                     f"duplicate name {b.name!r} (also air_policing.{seen[b.name]})"))
                seen[b.name] = f"{group}[{i}]"
        if not scn.flights:
            problems.append(("air_policing", "polices flights: the scenario has none"))
    # the event log's actors (sensors, satellites, batteries, fighters) and its objects (threats,
    # flights) by one name each: a battery named as its radar read "detect X", "fire X"; a flight
    # named as the patrol "fire / kill by f-16-patrol".  A name taken twice within one kind (the
    # bases and patrols are one) is told as a duplicate above and by _duplicate_names.
    groups = [(group, group, getattr(scn, group)) for group in ("sensors", "early_warning", "batteries")]
    if scn.air_policing is not None:
        groups += [(f"air_policing.{group}", "fighters", getattr(scn.air_policing, group))
                   for group in ("bases", "patrols")]
    actors: dict[str, str] = {}
    kind_of: dict[str, str] = {}
    for path, kind, items in groups:
        for i, a in enumerate(items):
            if a.name in actors and kind_of[a.name] != kind:
                problems.append((f"{path}[{i}].name", f"{a.name!r} is also the name of {actors[a.name]}: the "
                                                      "event log names both by it; rename one"))
            actors.setdefault(a.name, f"{path}[{i}]")
            kind_of.setdefault(a.name, kind)
    told: set[str] = set()
    for name, where in owner.items():
        if name in actors and where not in told:
            told.add(where)
            problems.append((f"{where}.name", f"{name!r} is also the name of {actors[name]}: the event log "
                                              "names both by it; rename one"))
    return problems


def _reaches(edges: dict[tuple[str, str], int], start: str, goal: str) -> bool:
    """Whether the directed links ``edges`` lead from node ``start`` to node ``goal``."""
    seen, todo = {start}, [start]
    while todo:
        here = todo.pop()
        for a, b in edges:
            if a == here and b not in seen:
                if b == goal:
                    return True
                seen.add(b)
                todo.append(b)
    return False


def with_architecture(scn: Scenario, architecture: str, source: str | None = None) -> Scenario:
    """A validated copy of ``scn`` under another ``architecture`` (one of :data:`ARCHITECTURES`).

    Raises :class:`~shieldlab.errors.InputError` for an unknown architecture, or one the scenario
    does not support (``sectoral`` without sectors, ``coordinated`` without the links it needs);
    the error names ``source`` (the file or preset; default the scenario's name).
    """
    where = source or scn.name
    if architecture not in ARCHITECTURES:
        raise InputError(f"unknown architecture {architecture!r} (known: {', '.join(ARCHITECTURES)})",
                         source=where, field="architecture")
    from shieldlab.scenario.loader import _problems  # the loader imports this module

    try:
        return Scenario.model_validate({**dict(scn), "architecture": architecture})
    except ValidationError as e:
        raise InputError(problems=_problems(e), source=f"{where} (architecture {architecture})") from None
