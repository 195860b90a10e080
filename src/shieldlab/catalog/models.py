"""Catalogue records: missiles, interceptors and sensors as validated, frozen pydantic models.

Units are the ones in each field's name (kg, m, s, km, km/s, m², mrad, deg); the rest of
shieldlab converts to SI at the point of use.  Every record and every drag table carries a
non-empty ``source`` naming where its figures come from, and an "assumption: ..." note where
no public figure exists.  The figures themselves live in the package YAML files
(``missiles.yaml``, ``interceptors.yaml``, ``sensors.yaml``), not here.

Conventions a consumer relies on
--------------------------------
* A :class:`Stage`'s ``dry_mass_kg`` (structure + engine) is dropped when the next stage
  ignites.  Its mass flow is constant, ``propellant_kg / burn_time_s``; its thrust varies
  linearly with ambient pressure ``p`` between ``isp_sl_s`` at sea level and ``isp_vac_s`` in
  vacuum, ``F(p) = mdot * g0 * (isp_vac - (isp_vac - isp_sl) * p / p0)`` (``isp_sl_s`` absent:
  vacuum value everywhere, for upper stages).
* ``Missile.drag`` is the whole missile in boost (reference area from ``diameter_m``).  If a
  :class:`ReentryVehicle` is given it separates from the last stage at burnout and is what
  re-enters; otherwise the whole last stage plus payload re-enters with ``Missile.drag``.
* ``Interceptor`` ranges are ground ranges from the launcher to the intercept point, altitudes
  are above the ellipsoid.
* ``Sensor.max_range_km`` is the single-look detection range against ``ref_rcs_m2`` at
  Pd = 0.5 and the sensor's ``pfa``; it scales with RCS**(1/4) (:meth:`Sensor.detection_range_km`).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

#: Standard gravity [m/s²] (defines the second as the unit of specific impulse).
G0 = 9.80665

#: Lower-case kebab-case identifier, e.g. ``scud-b``, ``sm-3-block-ia``, ``an-tpy-2``.
Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
#: A non-blank string (surrounding whitespace is stripped first).
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Positive = Annotated[float, Field(gt=0)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DragTable(_Record):
    """Zero-lift drag coefficient against Mach number, linearly interpolated (held flat outside).

    The coefficient refers to the cross-section of the body's ``diameter_m``.
    """

    mach: list[Annotated[float, Field(ge=0)]]
    cd: list[Positive]
    source: Text

    @model_validator(mode="after")
    def _check(self) -> DragTable:
        if len(self.mach) < 2:
            raise ValueError(f"mach needs at least 2 points, got {len(self.mach)}")
        if len(self.cd) != len(self.mach):
            raise ValueError(f"cd has {len(self.cd)} values but mach has {len(self.mach)}")
        if any(b <= a for a, b in zip(self.mach, self.mach[1:])):
            raise ValueError(f"mach must be strictly increasing, got {self.mach}")
        return self

    def __call__(self, mach: np.ndarray | float) -> np.ndarray:
        """Cd at ``mach`` (any shape ``(...)``), linear interpolation, flat extrapolation."""
        return np.interp(mach, self.mach, self.cd)


class Stage(_Record):
    """One propulsive stage (for a single-stage missile, the whole airframe without payload)."""

    propellant_kg: Positive
    dry_mass_kg: Positive  # structure + engine, dropped at staging
    isp_vac_s: Positive
    isp_sl_s: Positive | None = None  # None: vacuum Isp at all altitudes (upper stages)
    burn_time_s: Positive
    diameter_m: Positive
    source: Text

    @model_validator(mode="after")
    def _check(self) -> Stage:
        if self.isp_sl_s is not None and self.isp_sl_s > self.isp_vac_s:
            raise ValueError(
                f"isp_sl_s ({self.isp_sl_s} s) must not exceed isp_vac_s ({self.isp_vac_s} s)"
            )
        return self

    @property
    def wet_mass_kg(self) -> float:
        return self.propellant_kg + self.dry_mass_kg

    @property
    def mass_flow_kg_s(self) -> float:
        return self.propellant_kg / self.burn_time_s

    @property
    def thrust_vac_n(self) -> float:
        return self.mass_flow_kg_s * G0 * self.isp_vac_s

    @property
    def thrust_sl_n(self) -> float:
        return self.mass_flow_kg_s * G0 * (self.isp_sl_s if self.isp_sl_s is not None else self.isp_vac_s)


class ReentryVehicle(_Record):
    """The body that separates at burnout and re-enters."""

    mass_kg: Positive
    diameter_m: Positive
    drag: DragTable
    source: Text

    @property
    def area_m2(self) -> float:
        return math.pi * self.diameter_m**2 / 4

    @property
    def beta_kg_m2(self) -> float:
        """Ballistic coefficient m / (Cd A) with the table's highest-Mach Cd [kg/m²]."""
        return self.mass_kg / (self.drag.cd[-1] * self.area_m2)


class Missile(_Record):
    """A ballistic missile: stages burned in order, then a ballistic re-entering body."""

    id: Id
    name: Text
    origin: Text  # country or countries
    category: Literal["SRBM", "MRBM", "IRBM", "ICBM"]
    stages: list[Stage] = Field(min_length=1)
    payload_kg: Positive  # everything above the last stage (RV, bus, warhead section)
    diameter_m: Positive  # largest body diameter: drag reference in boost
    drag: DragTable  # whole missile in boost
    reentry_vehicle: ReentryVehicle | None = None
    thrust_termination: bool  # can cut thrust to shorten range (liquids: yes, solids: no)
    vertical_rise_s: Positive  # vertical flight before pitch-over
    rcs_m2: Positive  # head-on RCS of what re-enters
    max_range_km: Positive  # published maximum range with the nominal payload
    range_source: Text
    source: Text

    @model_validator(mode="after")
    def _check(self) -> Missile:
        for i, stage in enumerate(self.stages):
            if stage.diameter_m > self.diameter_m + 1e-9:
                raise ValueError(
                    f"stages[{i}].diameter_m ({stage.diameter_m} m) exceeds the missile "
                    f"diameter_m ({self.diameter_m} m)"
                )
        rv = self.reentry_vehicle
        if rv is not None:
            if rv.mass_kg > self.payload_kg + 1e-9:
                raise ValueError(
                    f"reentry_vehicle.mass_kg ({rv.mass_kg} kg) exceeds payload_kg "
                    f"({self.payload_kg} kg): the RV is part of the payload"
                )
            if rv.diameter_m > self.diameter_m + 1e-9:
                raise ValueError(
                    f"reentry_vehicle.diameter_m ({rv.diameter_m} m) exceeds the missile "
                    f"diameter_m ({self.diameter_m} m)"
                )
        return self

    @property
    def launch_mass_kg(self) -> float:
        """Propellant and dry mass of every stage plus payload [kg]."""
        return sum(s.wet_mass_kg for s in self.stages) + self.payload_kg

    @property
    def burn_time_s(self) -> float:
        """Total powered time, stages back to back [s]."""
        return sum(s.burn_time_s for s in self.stages)

    @property
    def ideal_delta_v_ms(self) -> float:
        """Tsiolkovsky velocity with vacuum Isp, summed over stages, no losses [m/s]."""
        dv, mass = 0.0, self.launch_mass_kg
        for s in self.stages:
            dv += G0 * s.isp_vac_s * math.log(mass / (mass - s.propellant_kg))
            mass -= s.wet_mass_kg
        return dv


class Interceptor(_Record):
    """A hit-to-kill or blast-fragmentation interceptor, reduced to its kinematic envelope."""

    id: Id
    name: Text
    origin: Text
    burnout_speed_kms: Positive
    burn_time_s: Positive
    min_intercept_alt_km: Annotated[float, Field(ge=0)]
    max_intercept_alt_km: Positive
    min_range_km: Annotated[float, Field(ge=0)]  # ground range, launcher to intercept point
    max_range_km: Positive
    sspk: Annotated[float, Field(ge=0, le=1)]  # single-shot kill probability
    divert_m: Positive  # largest predicted-intercept-point error the kill vehicle can correct
    reaction_time_s: Annotated[float, Field(ge=0)]  # cue to launch
    # Greatest ground range against an aircraft target (SAMs that also engage aircraft);
    # None: the interceptor has no air-target role in shieldlab.
    aircraft_max_range_km: Positive | None = None
    # m / (C_D A) of the coasting interceptor [kg/m²] for the fly-out fan's drag;
    # None: shieldlab.engage.fan.DEFAULT_BETA_KGM2 (an assumption, see docs/interceptors.md).
    ballistic_coefficient_kgm2: Positive | None = None
    # Design end-game envelope (shieldlab.engage.pk): kill probability is sspk up to these
    # and falls off beyond them; None: no limit.
    max_closing_speed_kms: Positive | None = None
    max_crossing_angle_deg: Annotated[float, Field(gt=0, le=180)] | None = None
    source: Text

    @model_validator(mode="after")
    def _check(self) -> Interceptor:
        if self.max_intercept_alt_km <= self.min_intercept_alt_km:
            raise ValueError(
                f"max_intercept_alt_km ({self.max_intercept_alt_km}) must exceed "
                f"min_intercept_alt_km ({self.min_intercept_alt_km})"
            )
        if self.max_range_km <= self.min_range_km:
            raise ValueError(
                f"max_range_km ({self.max_range_km}) must exceed min_range_km ({self.min_range_km})"
            )
        return self


class Sensor(_Record):
    """A radar reduced to coverage, detection range and measurement noise."""

    id: Id
    name: Text
    origin: Text
    band: Text
    max_range_km: Positive  # detection range against ref_rcs_m2 at Pd = 0.5
    ref_rcs_m2: Positive
    az_fov_deg: Annotated[float, Field(gt=0, le=360)]  # full width, centred on the boresight
    el_min_deg: Annotated[float, Field(ge=-90, le=90)]
    el_max_deg: Annotated[float, Field(ge=-90, le=90)]
    scan_period_s: Positive  # revisit time on a track
    sigma_range_m: Positive
    sigma_angle_mrad: Positive  # az and el
    pfa: Annotated[float, Field(gt=0, lt=1)] = 1e-6
    source: Text

    @model_validator(mode="after")
    def _check(self) -> Sensor:
        if self.el_max_deg <= self.el_min_deg:
            raise ValueError(
                f"el_max_deg ({self.el_max_deg}) must exceed el_min_deg ({self.el_min_deg})"
            )
        return self

    def detection_range_km(self, rcs_m2: np.ndarray | float) -> np.ndarray:
        """Pd = 0.5 range against ``rcs_m2`` (any shape), radar equation R ∝ RCS**(1/4) [km]."""
        return self.max_range_km * (np.asarray(rcs_m2, dtype=float) / self.ref_rcs_m2) ** 0.25
