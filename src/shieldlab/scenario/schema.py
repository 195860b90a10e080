"""Scenario schema: what a scenario YAML file may say, validated by pydantic.

Degrees, kilometres and km/s appear here only, at the edge, with the unit in the
field name; :mod:`shieldlab.scenario.compile` turns them into SI and ECEF.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shieldlab.catalog.models import Interceptor, Missile, Sensor


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GeoPoint(_Strict):
    """A geodetic point on WGS84: degrees and metres above the ellipsoid."""

    lat: float = Field(ge=-90.0, le=90.0, description="geodetic latitude [deg]")
    lon: float = Field(ge=-180.0, le=180.0, description="longitude [deg east]")
    alt_m: float = Field(0.0, ge=-500.0, le=100_000.0, description="height above the ellipsoid [m]")


#: A place: the name of an entry under ``sites:`` or an inline point.
Place = Union[str, GeoPoint]


class SensorCfg(_Strict):
    name: str
    type: str = Field(description="catalogue sensor id, e.g. an-tpy-2")
    site: Place
    boresight_az_deg: float = Field(0.0, ge=0.0, lt=360.0)
    elevation_mask_deg: float = Field(0.0, ge=0.0, le=90.0)
    system: str = Field("defence", description="the network whose tracks this sensor feeds")


class BatteryCfg(_Strict):
    name: str
    interceptor: str = Field(description="catalogue interceptor id, e.g. sm-3-block-ia")
    site: Place
    rounds: int = Field(ge=0, description="interceptors ready to fire (magazine)")
    reaction_time_s: float | None = Field(None, ge=0.0, description="cue-to-launch delay; default from the catalogue")
    burnout_speed_kms: float | None = Field(None, gt=0.0, le=12.0, description="override of the catalogue value")
    system: str = "defence"
    cue: Literal["own", "launch-on-remote", "engage-on-remote"] = Field(
        "engage-on-remote",
        description="own: launch on the battery's own radar track (and guide on it); launch-on-remote: launch on "
                    "the system track, the own radar must hold the threat by the handover; engage-on-remote: "
                    "launch and guide on the system track")
    radar: str | None = Field(None, description="the battery's own sensor (a sensors[].name); needed unless "
                                                "cue is engage-on-remote")
    reserve: int | None = Field(None, ge=0, description="rounds never fired; default doctrine.reserve")
    salvo: int | None = Field(None, ge=1, le=4, description="interceptors per engagement; default doctrine.salvo")
    look_time_s: float | None = Field(None, ge=0.0, description="kill assessment time; default doctrine.look_time_s")


class DispersionCfg(_Strict):
    """One-sigma Monte Carlo dispersions of a threat's flight, drawn per run."""

    thrust_pct: float = Field(0.0, ge=0.0, le=20.0)
    isp_pct: float = Field(0.0, ge=0.0, le=20.0)
    burn_time_pct: float = Field(0.0, ge=0.0, le=20.0)
    drag_pct: float = Field(0.0, ge=0.0, le=50.0)
    azimuth_mrad: float = Field(0.0, ge=0.0, le=50.0)


class ThreatCfg(_Strict):
    name: str
    missile: str = Field(description="catalogue missile id, e.g. shahab-3")
    launch: Place
    aim: Place = Field(description="an asset name, a site name or an inline point")
    launch_time_s: float = Field(0.0, ge=0.0, description="seconds after the epoch")
    count: int = Field(1, ge=1, le=100, description="identical missiles in this salvo")
    spacing_s: float = Field(0.0, ge=0.0, description="time between successive launches of the salvo")
    profile: Literal["min-energy", "lofted", "depressed"] = "min-energy"
    apogee_km: float | None = Field(None, gt=0.0, le=5000.0, description="shape a lofted/depressed shot by its apogee")
    flight_time_s: float | None = Field(None, gt=0.0, le=5000.0, description="... or by its flight time")
    dispersion: DispersionCfg | None = Field(None, description="overrides the scenario's dispersion")


class AssetCfg(_Strict):
    name: str
    site: Place
    radius_km: float = Field(gt=0.0, le=1000.0, description="a warhead landing inside this radius hits the asset")


class DoctrineCfg(_Strict):
    engage: Literal["threatening", "all"] = Field(
        "threatening", description="engage only threats predicted to land on a defended asset, or all")
    salvo: int = Field(1, ge=1, le=4, description="interceptors fired per engagement (shoot-shoot)")
    shoot_look_shoot: bool = True
    max_engagements: int = Field(2, ge=1, le=5, description="engagements per threat (with shoot-look-shoot)")
    look_time_s: float = Field(8.0, ge=0.0, description="kill assessment time after an intercept")
    reserve: int = Field(0, ge=0, description="rounds each battery keeps back (never fires)")
    planning_interval_s: float = Field(4.0, gt=0.0, le=60.0, description="how often fire control re-plans")
    handover_s: float = Field(20.0, ge=0.0, description="last in-flight target update before intercept")
    track_quality_sigma: float | None = Field(
        None, ge=0.0, le=10.0,
        description="launch gate: commit only when this many sigmas of the predicted intercept point's position "
                    "uncertainty at launch fit inside the kill vehicle's divert (3: a shot with no in-flight "
                    "target update); 0 or null (the default): no gate, the handover error decides")


class TrackingCfg(_Strict):
    init_hits: int = Field(3, ge=1, le=20, description="detections before a track is confirmed")


class CatalogAdditions(_Strict):
    """Entries a scenario adds to (or overrides in) the built-in catalogue."""

    missiles: list[Missile] = []
    interceptors: list[Interceptor] = []
    sensors: list[Sensor] = []


class Scenario(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    epoch: datetime = Field(description="UTC instant of t = 0")
    time_step_s: float = Field(1.0, ge=0.1, le=10.0)
    duration_s: float | None = Field(None, gt=0.0, le=20_000.0,
                                     description="simulated time; default: until the last threat has landed")
    sites: dict[str, GeoPoint] = {}
    sensors: list[SensorCfg] = []
    batteries: list[BatteryCfg] = []
    threats: list[ThreatCfg] = Field(min_length=1)
    assets: list[AssetCfg] = []
    dispersion: DispersionCfg = Field(DispersionCfg(), description="flight dispersions of every threat")
    doctrine: DoctrineCfg = DoctrineCfg()
    tracking: TrackingCfg = TrackingCfg()
    catalog: CatalogAdditions = CatalogAdditions()

    @field_validator("epoch")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return v.replace(tzinfo=timezone.utc) if v.tzinfo is None else v.astimezone(timezone.utc)

    @model_validator(mode="after")
    def _unique_names(self) -> "Scenario":
        for group in ("sensors", "batteries", "threats", "assets"):
            seen: set[str] = set()
            for i, item in enumerate(getattr(self, group)):
                if item.name in seen:
                    raise ValueError(f"{group}[{i}].name: duplicate name {item.name!r}")
                seen.add(item.name)
        return self
