"""Catalogue records of unguided rounds and weapon-locating radars, and their loader.

The figures live in ``artillery.yaml`` beside this module: a top-level ``rounds:`` list (shells,
mortar bombs, unguided rockets) and a ``locating_radars:`` list (counter-battery radars), each
entry with a unique lower-case kebab-case ``id`` and a ``source:`` for every figure, assumptions
marked ``assumption:`` as in ``missiles.yaml``.  Units are in the field names; the simulation
converts to SI at the point of use (:mod:`shieldlab.artillery`).  Model notes:
``docs/counter-battery.md``.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from shieldlab.catalog.models import DragTable, Id, Positive, Text, _Record

__all__ = ["Motor", "Round", "LocatingRadar", "rounds", "locating_radars", "get_round", "get_locating_radar",
           "ROUND_CLASSES"]

#: The classes a weapon-locating radar sorts rounds into (each has its own detection range).
ROUND_CLASSES = ("mortar", "artillery", "rocket")


class Motor(_Record):
    """The rocket motor of an unguided rocket: constant mass flow for ``burn_time_s``, thrust along
    the velocity (a gravity turn from the launch tube), the same specific impulse at every height."""

    propellant_kg: Positive = Field(description="propellant burnt [kg]")
    burn_time_s: float = Field(gt=0.0, le=30.0, description="burn time [s]")
    isp_s: float = Field(gt=0.0, le=400.0, description="specific impulse [s]")
    impulse_sigma_pct: float = Field(0.0, ge=0.0, le=10.0,
                                     description="round-to-round one-sigma error of the total impulse [%]")
    source: Text = Field(description="where the figures come from")


class Round(_Record):
    """An unguided round reduced to a point mass: a shell, a mortar bomb or a rocket."""

    id: Id = Field(description="lower-case kebab-case identifier, e.g. m107-155mm-he")
    name: Text = Field(description="display name")
    origin: Text = Field(description="country or maker")
    kind: Literal["gun", "mortar", "rocket"] = Field(description="how it is fired")
    diameter_m: float = Field(gt=0.0, le=1.0, description="reference diameter of the drag coefficient [m]")
    mass_kg: float = Field(gt=0.0, le=2000.0, description="mass at launch (a rocket: with its propellant) [kg]")
    muzzle_velocity_ms: float = Field(gt=0.0, le=2000.0,
                                      description="speed leaving the barrel (a rocket: leaving its launch tube) "
                                                  "with the charge the catalogue's range refers to [m/s]")
    drag: DragTable = Field(description="zero-yaw drag coefficient against Mach number")
    form_factor: float = Field(1.0, gt=0.0, le=5.0,
                               description="multiplies the drag table (the form factor i of the ballistic "
                                           "coefficient); its source says how it was set")
    form_factor_source: Text = Field("the table as it is", description="how form_factor was set")
    drag_sigma_pct: float = Field(0.0, ge=0.0, le=20.0,
                                  description="round-to-round one-sigma error of the drag [%]")
    motor: Motor | None = Field(None, description="rockets only: the motor")
    angle: Literal["low", "high"] = Field(description="the branch it is fired on: low (below the elevation of "
                                                      "greatest range: guns, rockets) or high (above: mortars)")
    min_elevation_deg: float = Field(ge=0.0, le=89.0, description="least quadrant elevation it is fired at [deg]")
    max_elevation_deg: float = Field(gt=0.0, le=89.0, description="greatest quadrant elevation [deg]")
    range_sigma_pct: float = Field(0.0, ge=0.0, le=10.0,
                                   description="default one-sigma range error of laying, of the range fired [%]")
    deflection_sigma_mrad: float = Field(0.0, ge=0.0, le=50.0,
                                         description="default one-sigma deflection (azimuth) error of laying [mrad]")
    muzzle_velocity_sigma_ms: float = Field(0.0, ge=0.0, le=50.0,
                                            description="default round-to-round one-sigma muzzle-velocity error "
                                                        "[m/s]")
    max_range_km: Positive = Field(description="published greatest range with this charge [km]")
    range_source: Text = Field(description="where max_range_km comes from")
    source: Text = Field(description="where the other figures come from; assumptions marked as such")

    @model_validator(mode="after")
    def _check(self) -> Round:
        if self.max_elevation_deg <= self.min_elevation_deg:
            raise ValueError(f"max_elevation_deg ({self.max_elevation_deg}) must exceed min_elevation_deg "
                             f"({self.min_elevation_deg})")
        if (self.kind == "rocket") != (self.motor is not None):
            raise ValueError("a rocket needs a motor, and only a rocket has one")
        if self.motor is not None and self.motor.propellant_kg >= self.mass_kg:
            raise ValueError(f"motor.propellant_kg ({self.motor.propellant_kg}) must be less than mass_kg "
                             f"({self.mass_kg})")
        return self

    @property
    def locating_class(self) -> str:
        """The class a weapon-locating radar puts it in: mortar, artillery or rocket."""
        return {"gun": "artillery", "mortar": "mortar", "rocket": "rocket"}[self.kind]

    @property
    def area_m2(self) -> float:
        """Reference area of the drag coefficient [m²]."""
        return float(np.pi * 0.25 * self.diameter_m**2)

    @property
    def burnt_mass_kg(self) -> float:
        """Mass in free flight (after the motor's burn) [kg]."""
        return self.mass_kg - (self.motor.propellant_kg if self.motor is not None else 0.0)


class LocatingRadar(_Record):
    """A weapon-locating (counter-battery) radar reduced to its search fence, its ranges by class of
    round and the noise of its track reports."""

    id: Id = Field(description="lower-case kebab-case identifier, e.g. an-tpq-36")
    name: Text = Field(description="display name")
    origin: Text = Field(description="country or maker")
    band: Text = Field(description="radar frequency band")
    mortar_range_km: Positive = Field(description="greatest range at which it locates mortar bombs [km]")
    artillery_range_km: Positive = Field(description="greatest range at which it locates shells [km]")
    rocket_range_km: Positive = Field(description="greatest range at which it locates rockets [km]")
    min_range_km: float = Field(0.5, ge=0.0, le=50.0, description="least range of a report [km]")
    sector_deg: float = Field(gt=0.0, le=360.0,
                              description="azimuth sector searched, full width, centred on where it faces [deg]")
    fence_elevation_deg: float = Field(ge=0.0, le=20.0,
                                       description="elevation of the search fence above the site's horizontal "
                                                   "[deg]; a scenario may set its own")
    max_elevation_deg: float = Field(gt=0.0, le=90.0, description="highest elevation it tracks at [deg]")
    sigma_range_m: float = Field(gt=0.0, le=1000.0, description="one-sigma range noise of a report [m]")
    sigma_azimuth_mrad: float = Field(gt=0.0, le=50.0, description="one-sigma azimuth noise of a report [mrad]")
    sigma_elevation_mrad: float = Field(gt=0.0, le=50.0, description="one-sigma elevation noise of a report [mrad]")
    update_s: float = Field(ge=0.005, le=2.0, description="time between track reports on one round [s]")
    track_s: float = Field(gt=0.0, le=60.0, description="how long it tracks a round after the first report [s]")
    verify_s: float = Field(0.0, ge=0.0, le=10.0,
                            description="from the crossing of the fence to the first track report [s]")
    pd: float = Field(1.0, gt=0.0, le=1.0,
                      description="probability that a round crossing the fence in range is detected and tracked")
    source: Text = Field(description="where the figures come from; assumptions marked as such")

    @model_validator(mode="after")
    def _check(self) -> LocatingRadar:
        if self.max_elevation_deg <= self.fence_elevation_deg:
            raise ValueError(f"max_elevation_deg ({self.max_elevation_deg}) must exceed fence_elevation_deg "
                             f"({self.fence_elevation_deg})")
        if self.track_s < self.update_s:
            raise ValueError(f"track_s ({self.track_s}) must be at least update_s ({self.update_s})")
        return self

    def range_km(self, locating_class: str) -> float:
        """Greatest range [km] against a round of class ``mortar``, ``artillery`` or ``rocket``."""
        return float(getattr(self, f"{locating_class}_range_km"))


def _file():
    return resources.files("shieldlab.catalog") / "artillery.yaml"


@functools.cache
def _rounds() -> dict[str, Round]:
    from shieldlab.catalog import load_yaml_entries

    return load_yaml_entries(_file(), Round, key="rounds")


@functools.cache
def _radars() -> dict[str, LocatingRadar]:
    from shieldlab.catalog import load_yaml_entries

    return load_yaml_entries(_file(), LocatingRadar, key="locating_radars")


def rounds() -> dict[str, Round]:
    """Built-in unguided rounds by id (a fresh dict of the shared frozen records)."""
    return dict(_rounds())


def locating_radars() -> dict[str, LocatingRadar]:
    """Built-in weapon-locating radars by id."""
    return dict(_radars())


def get_round(ident: str) -> Round:
    """The built-in round ``ident``; :class:`~shieldlab.catalog.CatalogError` listing the known ids otherwise."""
    from shieldlab.catalog import CatalogError

    table = _rounds()
    if ident not in table:
        raise CatalogError(f"unknown round {ident!r} (known: {', '.join(table)})")
    return table[ident]


def get_locating_radar(ident: str) -> LocatingRadar:
    """The built-in weapon-locating radar ``ident``; :class:`~shieldlab.catalog.CatalogError` otherwise."""
    from shieldlab.catalog import CatalogError

    table = _radars()
    if ident not in table:
        raise CatalogError(f"unknown weapon-locating radar {ident!r} (known: {', '.join(table)})")
    return table[ident]
