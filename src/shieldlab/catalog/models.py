"""Catalogue records: missiles, interceptors and sensors as validated, frozen pydantic models.

Units are the ones in each field's name (kg, m, s, km, km/s, m², mrad, deg); the rest of
shieldlab converts to SI at the point of use.  Every number must be finite (``.inf`` and
``.nan`` are rejected) and inside the range its field's description gives.  Every record and every drag table carries a
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
import re
from typing import Annotated, Literal, NamedTuple, get_args, get_origin

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from shieldlab.earth import GM, OMEGA_EARTH, WGS84_A
from shieldlab.errors import InputError

#: Standard gravity [m/s²] (defines the second as the unit of specific impulse).
G0 = 9.80665

#: Equatorial radius [km] and the lowest perigee [km above it] of a satellite's orbit (lower: the
#: atmosphere would bring it down within days).
WGS84_A_KM = WGS84_A / 1e3
MIN_PERIGEE_ALT_KM = 200.0

#: Lower-case kebab-case identifier, e.g. ``scud-b``, ``sm-3-block-ia``, ``an-tpy-2``.
ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
#: A non-blank string (surrounding whitespace is stripped first).
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Positive = Annotated[float, Field(gt=0)]


def _leaf_types(annotation) -> set:
    """The types a field's annotation is made of, through Annotated, unions, Optional and
    lists (a Literal counts as the types of its values)."""
    origin = get_origin(annotation)
    if origin is Literal:
        return {type(a) for a in get_args(annotation)}
    if origin is None:
        return {annotation}
    args = get_args(annotation)
    if origin is Annotated:
        return _leaf_types(args[0])
    out: set = set()
    for a in args:
        out |= _leaf_types(a)
    return out


#: A number as YAML 1.2 writes one (``8``, ``-0.5``, ``1e3``): text that reads so was quoted.
PLAIN_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _finite_or_not_a_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return True


def numbers_as_numbers(cls, value, info):
    """A ``true`` or ``false``, or text, where only a number is allowed, and text or a number
    where only ``true`` or ``false`` is: refused (pydantic's lax mode would read ``true`` as 1,
    so ``lat: true`` put a site at 1 degree, the quoted ``"8"`` as 8, and the quoted ``"yes"``
    or ``"off"`` and the number 1 as a flag).  A whole number written as a float (``2.0``,
    YAML 1.2's ``1e1``) is taken where an integer goes."""
    field = cls.model_fields.get(info.field_name)
    if field is None:
        return value
    kinds = _leaf_types(field.annotation)
    if bool in kinds and kinds <= {bool, type(None)}:
        if value is None and type(None) not in kinds:  # (pydantic: "Input should be a valid boolean")
            raise ValueError("expected true or false, got null (an empty value)")
        if isinstance(value, (list, tuple, dict)):
            raise ValueError(f"expected true or false, got a {'mapping' if isinstance(value, dict) else 'list'}")
        for x in (value,):
            if isinstance(x, str):
                # (yes, no, on, off are text: the loader reads booleans as YAML 1.2 does)
                hint = " (write true or false without quotes)" if x.strip().lower() in ("true", "false") else ""
                raise ValueError(f"expected true or false, got the text {x!r}{hint}")
            if isinstance(x, (int, float)) and not isinstance(x, bool):
                # (pydantic's lax mode read 1 as true and refused 3 in words of its own)
                raise ValueError(f"expected true or false, got the number {x!r}")
        return value
    if bool in kinds or not kinds & {int, float}:
        return value
    numbers_only = kinds <= {int, float, type(None)}
    number = "a number" if float in kinds else "a whole number"  # (a count: rounds, a salvo)
    for x in value if isinstance(value, (list, tuple)) else (value,):
        if x is None and type(None) not in kinds:  # (pydantic: "Input should be a valid number")
            raise ValueError(f"expected {number}, got null (an empty value)")
        if isinstance(x, bool):
            raise ValueError(f"expected {number}, got {str(x).lower()}")
        if numbers_only and isinstance(x, str) and _finite_or_not_a_number(x):
            # (nan and inf spelt as text are left to the finite-number check, which names them)
            # the hint only for a number in quotes: "0:03" or "2_0" (text to YAML 1.2) is no number
            hint = " (write a number without quotes)" if PLAIN_NUMBER.fullmatch(x.strip()) else ""
            raise ValueError(f"expected {number}, got the text {x!r}{hint}")
    return value


#: The fastest interceptor burnout speed [km/s] the catalogue, a scenario and ``reach`` take.
MAX_BURNOUT_SPEED_KMS = 12.0


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    _numbers_as_numbers = field_validator("*", mode="before")(classmethod(numbers_as_numbers))


class DragTable(_Record):
    """Zero-lift drag coefficient against Mach number, linearly interpolated (held flat outside).

    The coefficient refers to the cross-section of the body's ``diameter_m``.
    """

    mach: list[Annotated[float, Field(ge=0)]] = Field(description="Mach numbers, strictly increasing [-]")
    cd: list[Positive] = Field(description="zero-lift drag coefficient at each Mach number [-]")
    source: Text = Field(description="where the table comes from")

    @model_validator(mode="after")
    def _check(self) -> DragTable:
        if len(self.mach) < 2:
            raise ValueError(f"mach needs at least 2 points, got {len(self.mach)}")
        if len(self.cd) != len(self.mach):
            raise ValueError(f"cd has {len(self.cd)} values but mach has {len(self.mach)}")
        if any(b <= a for a, b in zip(self.mach, self.mach[1:])):
            raise ValueError(f"mach must be strictly increasing, got {self.mach}")
        return self

    def __call__(self, mach: np.ndarray | float) -> np.ndarray | float:
        """Cd at ``mach`` (any shape ``(...)``), linear interpolation, flat extrapolation."""
        return np.interp(mach, self.mach, self.cd)


class Stage(_Record):
    """One propulsive stage (for a single-stage missile, the whole airframe without payload)."""

    propellant_kg: Positive = Field(description="propellant mass [kg]")
    dry_mass_kg: Positive = Field(description="structure + engine, dropped at staging [kg]")
    isp_vac_s: Positive = Field(description="vacuum specific impulse [s]")
    isp_sl_s: Positive | None = Field(
        None, description="sea-level specific impulse [s]; null: the vacuum value at all altitudes (upper stages)")
    burn_time_s: Positive = Field(description="burn time at constant mass flow [s]")
    diameter_m: Positive = Field(description="stage diameter [m]")
    pitch_deg: float = Field(
        0.0, ge=-30, le=30,
        description="pitch programme: the thrust's angle above the flight path while this stage burns after the "
                    "pitch-over, in the vertical plane of the velocity (0: a gravity turn) [deg]")
    source: Text = Field(description="where the stage's figures come from")

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

    mass_kg: Positive = Field(description="re-entering mass [kg]")
    diameter_m: Positive = Field(description="base diameter, the drag reference [m]")
    drag: DragTable = Field(description="drag coefficient against Mach number")
    source: Text = Field(description="where the figures come from")

    @property
    def area_m2(self) -> float:
        return math.pi * self.diameter_m**2 / 4

    @property
    def beta_kg_m2(self) -> float:
        """Ballistic coefficient m / (Cd A) with the table's highest-Mach Cd [kg/m²]."""
        return self.mass_kg / (self.drag.cd[-1] * self.area_m2)


class Aero(_Record):
    """Lift of a quasi-ballistic missile after burnout, and the programme that uses it.

    The drag polar is parabolic, ``C_D = C_D0(M) + C_L^2 / (4 C_D0 (L/D)^2)``, so the
    lift-to-drag ratio peaks at ``lift_to_drag`` where ``C_L = 2 C_D0 lift_to_drag``, the
    most lift the programme asks for.  Programme: ballistic until it falls below
    ``glide_alt_km``; then lift holds that height (a glide, the lift limited by the polar and
    ``max_load_g``) until the speed falls to ``terminal_speed_ms``; then a dive at
    ``dive_angle_deg`` with a sideways weave of ``weave_g`` over ``weave_period_s``.
    """

    lift_to_drag: Positive = Field(le=10, description="greatest lift-to-drag ratio [-]")
    glide_alt_km: Positive = Field(le=80, description="height the descending missile pulls up to and holds [km]")
    # bounds: a glide faster than orbital speed is no glide; a "dive" shallower than 5 deg is a
    # glide that may never come down
    terminal_speed_ms: Positive = Field(le=8000, description="speed at which the glide ends and the dive begins "
                                                             "[m/s]")
    dive_angle_deg: float = Field(ge=5, le=90, description="flight-path angle below the horizontal of the dive "
                                                           "[deg]")
    weave_g: float = Field(0.0, ge=0, le=60, description="amplitude of the terminal weave's sideways "
                                                         "acceleration (0: none) [g]")
    weave_period_s: float = Field(6.0, ge=0.5, le=120, description="period of the terminal weave [s]")
    max_load_g: Positive = Field(le=100, description="greatest lift acceleration the airframe takes [g]")
    source: Text = Field(description="where the figures come from; assumptions marked as such")


class Missile(_Record):
    """A ballistic missile: stages burned in order, then a ballistic re-entering body (or, with
    ``aero``, a quasi-ballistic one that uses lift after burnout)."""

    id: Id = Field(description="lower-case kebab-case identifier, e.g. scud-b")
    name: Text = Field(description="display name")
    origin: Text = Field(description="country or countries")
    category: Literal["SRBM", "MRBM", "IRBM", "ICBM"] = Field(description="range class")
    stages: list[Stage] = Field(min_length=1, description="propulsive stages, burned in order")
    payload_kg: Positive = Field(description="everything above the last stage (RV, bus, warhead section) [kg]")
    diameter_m: Positive = Field(description="largest body diameter: the drag reference in boost [m]")
    drag: DragTable = Field(description="drag of the whole missile in boost")
    reentry_vehicle: ReentryVehicle | None = Field(
        None, description="the body that separates at burnout and re-enters; null: the last stage re-enters")
    thrust_termination: bool = Field(description="can cut thrust to shorten range (liquids: yes, solids: no)")
    energy_management: Literal["none", "gem"] = Field(
        "none", description="how a missile that cannot cut thrust flies a short shot at minimum energy: gem "
                            "(general energy management: the upper stages' thrust is yawed off the flight path to "
                            "waste what is not needed; two stages or more) or none (the full-burn branch nearest "
                            "the minimum-energy apogee)")
    aero: Aero | None = Field(None, description="lift after burnout (quasi-ballistic); null: a ballistic body")
    vertical_rise_s: Positive = Field(description="vertical flight before pitch-over [s]")
    rcs_m2: Positive = Field(description="head-on radar cross-section of what re-enters [m²]")
    rcs_broadside_m2: Positive | None = Field(
        None, description="radar cross-section of what re-enters seen side-on [m²]; null: rcs_m2 at every aspect")
    booster_rcs_m2: Positive | None = Field(
        None, description="radar cross-section of the whole missile while its engines burn [m²]; null: rcs_m2")
    max_range_km: Positive = Field(description="published maximum range with the nominal payload [km]: the "
                                               "source's figure, on no stated bearing (flyout's max_range_km is "
                                               "this model's on the shot's bearing, the Earth's rotation "
                                               "included: less westward, more eastward)")
    range_source: Text = Field(description="where max_range_km comes from")
    source: Text = Field(description="where the figures come from; assumptions marked as such")

    @model_validator(mode="after")
    def _check(self) -> Missile:
        if self.energy_management == "gem" and len(self.stages) < 2:
            raise ValueError("energy_management gem needs an upper stage (two stages or more)")
        if self.energy_management == "gem" and self.thrust_termination:
            raise ValueError("energy_management gem is for a missile that cannot cut thrust "
                             "(thrust_termination: false)")
        if self.aero is not None and self.reentry_vehicle is not None:
            raise ValueError("aero (lift after burnout) is for a missile that flies to its target whole "
                             "(reentry_vehicle: null)")
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

    id: Id = Field(description="lower-case kebab-case identifier, e.g. sm-3-block-ia")
    name: Text = Field(description="display name")
    origin: Text = Field(description="country or maker")
    burnout_speed_kms: float = Field(ge=0.01, le=MAX_BURNOUT_SPEED_KMS,
                                     description="speed at burnout [km/s]; 0.01 to 12, as a battery's override and "
                                                 "reach's (escape: 11.2)")
    # the fly-out fan follows each trajectory for an hour (shieldlab.engage.fan.T_MAX); the
    # longest boost catalogued, the GBI's three stages, takes ~200 s
    burn_time_s: Positive = Field(le=600.0, description="total powered time [s]; at most 600")
    min_intercept_alt_km: float = Field(ge=0, description="lowest intercept altitude above the ellipsoid [km]")
    max_intercept_alt_km: Positive = Field(description="highest intercept altitude above the ellipsoid [km]")
    min_range_km: float = Field(ge=0, description="least ground range, launcher to intercept point [km]")
    max_range_km: Positive = Field(description="greatest ground range, launcher to intercept point [km]")
    sspk: float = Field(ge=0, le=1, description="single-shot kill probability [-]")
    divert_m: Positive = Field(
        description="largest predicted-intercept-point error the kill vehicle can correct [m]")
    reaction_time_s: float = Field(ge=0, le=3600, description="cue to launch [s]")
    handover_s: float | None = Field(
        None, ge=0, le=600,
        description="time before intercept of the last in-flight target update, after which the interceptor "
                    "homes on its own (or flies blind) [s]; the default of doctrine.handover_s; null: "
                    "shieldlab.scenario.compile.DEFAULT_HANDOVER_S")
    look_time_s: float | None = Field(
        None, ge=0, le=600,
        description="kill assessment time after an intercept before a second shot [s]; the default of "
                    "doctrine.look_time_s; null: shieldlab.scenario.compile.DEFAULT_LOOK_TIME_S")
    aircraft_max_range_km: Positive | None = Field(
        None, description="greatest ground range against an aircraft target [km]; null: no air-target role")
    radar: Id | None = Field(
        None, description="catalogue sensor id of the radar that fires and guides it from its own site (the default "
                          "cue of `shieldlab reach`); null: none catalogued, it fires on other sensors' tracks")
    # the floor: a supersonic interceptor's is thousands of kg/m²; near 100 the fly-out fan's
    # table takes minutes to build (shieldlab.engage.fan)
    ballistic_coefficient_kgm2: Annotated[float, Field(ge=1000)] | None = Field(
        None, description="m / (C_D A) of the coasting interceptor for the fly-out fan's drag [kg/m²]; null: "
                          "shieldlab.engage.fan.DEFAULT_BETA_KGM2 (an assumption, see docs/interceptors.md)")
    # the floor keeps the fall-off's width (a tenth of it) from underflowing
    max_closing_speed_kms: Annotated[float, Field(ge=0.1)] | None = Field(
        None, description="end-game envelope (no design figure is public: a demonstrated one): kill "
                          "probability is sspk up to this closing speed and falls off beyond it [km/s]; null: no limit")
    max_crossing_angle_deg: float | None = Field(
        None, gt=0, le=180, description="end-game envelope: the same for the crossing angle [deg]; "
                                        "null: no limit")
    flyout_model: Id = Field(
        "point-mass", description="the fly-out model that tabulates its reach in time (its fan): point-mass, "
                                  "the one built in (a point under thrust, gravity and drag)")
    source: Text = Field(description="where the figures come from; assumptions marked as such")

    @field_validator("flyout_model")
    @classmethod
    def _known_model(cls, v: str) -> str:
        from shieldlab.engage.fan import FLYOUT_MODELS  # (the catalogue is read before the engagement code)

        if v not in FLYOUT_MODELS:
            raise ValueError(f"unknown fly-out model {v!r}; the models: {', '.join(FLYOUT_MODELS)}")
        return v

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

    id: Id = Field(description="lower-case kebab-case identifier, e.g. an-tpy-2")
    name: Text = Field(description="display name")
    origin: Text = Field(description="country or maker")
    band: Text = Field(description="radar frequency band, e.g. X")
    max_range_km: Positive = Field(description="single-look detection range against ref_rcs_m2 at Pd = 0.5 [km]")
    ref_rcs_m2: Positive = Field(description="radar cross-section max_range_km refers to [m²]")
    az_fov_deg: float = Field(gt=0, le=360, description="azimuth field of view, full width, centred on the "
                                                        "boresight [deg]")
    array_faces: int | None = Field(
        None, ge=0, le=8,
        description="fixed antenna faces that steer their beams electronically in azimuth, each losing gain off "
                    "its normal (scan loss): 1, one face centred on the boresight; k, faces tiling the field "
                    "(of 360 deg: their normals k-th parts of a turn apart, one at the boresight); 0, an antenna "
                    "turned mechanically in azimuth (no scan loss); null: 1 where the field is under 180 deg, "
                    "else 0")
    el_min_deg: float = Field(ge=-90, le=90, description="lowest elevation of the field of view [deg]")
    el_max_deg: float = Field(ge=-90, le=90, description="highest elevation of the field of view [deg]")
    scan_period_s: float = Field(ge=0.01, le=600, description="revisit time on a track [s]")
    search_period_s: float | None = Field(
        None, ge=0.01, le=600,
        description="frame time of the search over the field of regard [s]: how often an object the radar does "
                    "not yet hold is looked at (rounded to a whole number of scan_period_s); null: every "
                    "scan_period_s")
    # a noise far below or above any radar's leaves the tracker's covariances singular or overflowing
    sigma_range_m: float = Field(ge=0.1, le=10_000, description="one-sigma range noise of a measurement [m]")
    sigma_angle_mrad: float = Field(ge=0.01, le=100,
                                    description="one-sigma angle noise, an angle in space (in elevation; in azimuth "
                                                "it is this over cos(el)) [mrad]")
    pfa: float = Field(1e-6, gt=0, lt=1, description="false-alarm probability per look [-]")
    discrimination_error: float | None = Field(
        None, ge=0, lt=0.5,
        description="probability that the radar calls an object it sees the wrong way, warhead or not (the "
                    "missile in boost and its re-entry vehicle are warheads; the spent booster and false alarms "
                    "are not); the call is the same on every report of that object; null: the radar does not "
                    "discriminate")
    source: Text = Field(description="where the figures come from; assumptions marked as such")

    @model_validator(mode="after")
    def _check(self) -> Sensor:
        if self.el_max_deg <= self.el_min_deg:
            raise ValueError(
                f"el_max_deg ({self.el_max_deg}) must exceed el_min_deg ({self.el_min_deg})"
            )
        if self.faces > 0 and self.face_width_deg >= 180.0:
            raise ValueError(f"array_faces ({self.faces}) over an azimuth field of {self.az_fov_deg:g} deg: each "
                             f"face would have to steer {self.face_width_deg / 2:g} deg off its normal, and a face "
                             f"sees nothing at 90 deg or more; give more faces, or 0 for an antenna turned "
                             f"mechanically")
        if self.search_period_s is not None and self.search_period_s < self.scan_period_s:
            raise ValueError(f"search_period_s ({self.search_period_s}) must not be shorter than scan_period_s "
                             f"({self.scan_period_s}): a search frame holds whole track revisits")
        return self

    @property
    def faces(self) -> int:
        """``array_faces`` with its default: 1 for a field under 180 deg, else 0."""
        if self.array_faces is not None:
            return self.array_faces
        return 1 if self.az_fov_deg < 180.0 else 0

    @property
    def face_width_deg(self) -> float:
        """Azimuth each face covers [deg]: the field shared among the faces (0: no faces)."""
        return self.az_fov_deg / self.faces if self.faces else 0.0

    def detection_range_km(self, rcs_m2: np.ndarray | float) -> np.ndarray:
        """Pd = 0.5 range against ``rcs_m2`` [m²] (any shape, >= 0), radar equation R ∝ RCS**(1/4)
        [km]; a negative cross-section is refused (it gave NumPy's warning and nan)."""
        rcs = np.asarray(rcs_m2, dtype=float)
        if np.any(rcs < 0.0):
            from shieldlab.errors import InputError

            raise InputError(f"must be >= 0 m², got {np.nanmin(rcs):g}", field="rcs_m2")
        return self.max_range_km * (rcs / self.ref_rcs_m2) ** 0.25


class OrbitElements(NamedTuple):
    """The classical elements of a satellite's orbit, SI: semi-major axis [m], eccentricity [-],
    inclination and argument of perigee [rad]."""

    semi_major_axis: float
    eccentricity: float
    inclination: float
    arg_perigee: float


#: Height of the geostationary orbit above the equator [km].
GEO_ALT_KM = 35_786.0


class Satellite(_Record):
    """An early-warning satellite's infrared sensor: it sees the plume of a burning missile.

    On orbit geo it is geostationary: it hangs over one longitude of the equator (the
    scenario places it) and looks at the whole disc of the Earth below it.  On orbit heo it
    flies the highly elliptical orbit of its elements (semi_major_axis_km, eccentricity,
    inclination_deg, arg_perigee_deg; a Molniya orbit for SBIRS HEO and Tundra): the scenario
    places it by its apogee (longitude and time), and it sees what its line of sight reaches
    from where it is at each frame.
    """

    id: Id = Field(description="lower-case kebab-case identifier, e.g. sbirs-geo")
    name: Text = Field(description="display name")
    origin: Text = Field(description="country or maker")
    orbit: Literal["geo", "heo"] = Field(
        "geo", description="geo: geostationary (a scenario places it with lon_deg); heo: a highly elliptical orbit "
                           "of the elements below (a scenario places it with apogee_lon_deg and apogee_time_s)")
    orbit_alt_km: float | None = Field(None, ge=35_700.0, le=35_900.0,
                                       description="orbit height above the equator of a geostationary satellite "
                                                   "[km] (default 35,786); not for orbit heo")
    semi_major_axis_km: float | None = Field(
        None, ge=6_600.0, le=100_000.0,
        description="orbit heo: semi-major axis [km]; the period is 2 pi sqrt(a^3 / GM) (26,562 km: half a "
                    "sidereal day, a Molniya orbit)")
    eccentricity: float | None = Field(None, ge=0.0, lt=1.0,
                                       description="orbit heo: eccentricity [-] (below 1: a closed orbit)")
    inclination_deg: float | None = Field(None, ge=0.0, le=180.0,
                                          description="orbit heo: inclination to the equator [deg]")
    arg_perigee_deg: float | None = Field(
        None, ge=0.0, lt=360.0,
        description="orbit heo: argument of perigee, from the ascending node [deg]; 270 puts the apogee at the "
                    "orbit's northernmost point, at latitude inclination_deg")
    frame_s: float = Field(ge=0.1, le=600.0, description="revisit time of any point of the disc [s]")
    pd: float = Field(gt=0.0, le=1.0, description="probability of detecting a plume in view in one frame")
    min_plume_alt_km: float = Field(ge=0.0, le=100.0, description="a burning missile is seen above this altitude "
                                                                  "(cloud and water vapour hide it below) [km]")
    init_frames: int = Field(ge=1, le=20, description="frames with a detection before a launch is reported")
    report_latency_s: float = Field(ge=0.0, le=600.0, description="from that frame to the launch report [s]")
    sigma_los_mrad: float = Field(gt=0.0, le=10.0, description="line-of-sight noise of one detection [mrad]")
    sigma_launch_time_s: float = Field(ge=0.0, le=600.0, description="one-sigma error of the reported launch time [s]")
    sigma_launch_km: float = Field(ge=0.0, le=500.0,
                                   description="one-sigma error of the reported launch point, east and north [km]")
    sigma_heading_deg: float = Field(ge=0.0, le=90.0, description="one-sigma error of the reported heading [deg]")
    source: Text = Field(description="where the figures come from; assumptions marked as such")

    @model_validator(mode="after")
    def _orbit(self) -> Satellite:
        # the problems name their fields (InputError's paths are relative to this entry)
        heo = ("semi_major_axis_km", "eccentricity", "inclination_deg", "arg_perigee_deg")
        if self.orbit == "geo":
            given = [f for f in heo if getattr(self, f) is not None]
            if given:
                raise InputError(problems=[(f, "for orbit heo only (this satellite is geostationary, orbit geo); "
                                               "set orbit: heo or leave it out") for f in given])
            return self
        missing = [f for f in heo if getattr(self, f) is None]
        if missing:
            raise InputError(problems=[(f, "required for orbit heo") for f in missing])
        if self.orbit_alt_km is not None:
            raise InputError(problems=[("orbit_alt_km", "for a geostationary satellite (orbit geo) only; orbit heo "
                                                        "takes semi_major_axis_km and eccentricity")])
        el = self.elements()
        rp_km = el.semi_major_axis * (1.0 - el.eccentricity) / 1e3
        h = rp_km - WGS84_A_KM
        if h < MIN_PERIGEE_ALT_KM:
            raise InputError(problems=[("eccentricity",
                                        f"{self.eccentricity:g} with semi_major_axis_km {self.semi_major_axis_km:g} "
                                        f"puts the perigee, a (1 - e) = {rp_km:,.0f} km from the Earth's centre, "
                                        f"{abs(h):,.0f} km {'above' if h >= 0 else 'below'} the equator's surface; it "
                                        f"must be at least {MIN_PERIGEE_ALT_KM:g} km above it (lower: in the "
                                        "atmosphere or the Earth)")])
        return self

    @property
    def geo_alt_km(self) -> float:
        """Height above the equator [km] of a geostationary satellite (``orbit_alt_km``, default
        35,786)."""
        return GEO_ALT_KM if self.orbit_alt_km is None else float(self.orbit_alt_km)

    def elements(self) -> OrbitElements:
        """The orbit's elements in SI (orbit heo); ValueError for a geostationary satellite."""
        a, e, i, w = self.semi_major_axis_km, self.eccentricity, self.inclination_deg, self.arg_perigee_deg
        if a is None or e is None or i is None or w is None:
            raise ValueError(f"satellite {self.id!r} is geostationary (orbit geo): it has no orbital elements")
        return OrbitElements(1e3 * a, e, math.radians(i), math.radians(w))

    @property
    def period_s(self) -> float:
        """Orbital period [s]: ``2 pi sqrt(a^3 / GM)`` (orbit heo), one sidereal day (geo)."""
        if self.orbit == "geo":
            return 2.0 * math.pi / OMEGA_EARTH
        return 2.0 * math.pi * math.sqrt(self.elements().semi_major_axis ** 3 / GM)


class AirWeapon(_Record):
    """An air-to-air missile an interceptor aircraft carries, reduced to its reach and speed."""

    name: Text = Field(description="display name, e.g. AIM-9X")
    max_range_km: Positive = Field(le=300, description="greatest distance it flies to meet a non-manoeuvring "
                                                       "target at medium altitude [km] (at mean_speed_kms: a "
                                                       "receding target must be closer at launch, an approaching "
                                                       "one may be farther)")
    min_range_km: float = Field(ge=0, description="least launch range [km]")
    mean_speed_kms: Positive = Field(le=5, description="average speed over its flight, for the time of flight "
                                                       "[km/s]")
    pk: float = Field(gt=0, le=1, description="single-shot kill probability [-]")
    source: Text = Field(description="where the figures come from; assumptions marked as such")

    @model_validator(mode="after")
    def _ranges(self) -> AirWeapon:
        if self.min_range_km >= self.max_range_km:
            raise ValueError(f"min_range_km ({self.min_range_km}) must be below max_range_km ({self.max_range_km})")
        return self


class Aircraft(_Record):
    """An air-breathing flier (an aircraft or a cruise missile) reduced to a point mass with limits.

    Speeds are true airspeeds unless the name says otherwise.  ``min_speed_eas_kmh`` is an
    equivalent airspeed: the true airspeed it needs grows with altitude as ``1 / sqrt(rho /
    rho0)`` (:mod:`shieldlab.airspace.flight`).  Turns are coordinated level turns at up to
    ``max_bank_deg`` (turn rate ``g tan(bank) / v``); climbs and descents at up to
    ``max_climb_ms``; speed changes at up to ``max_accel_ms2``.
    """

    id: Id = Field(description="lower-case kebab-case identifier, e.g. su-24m")
    name: Text = Field(description="display name")
    origin: Text = Field(description="country or maker")
    kind: Literal["aircraft", "cruise-missile"] = Field(description="a piloted aircraft or a cruise missile")
    cruise_speed_kmh: Positive = Field(le=4000, description="usual cruising true airspeed [km/h]")
    max_speed_kmh: Positive = Field(le=4000, description="greatest true airspeed [km/h]")
    min_speed_eas_kmh: Positive = Field(le=1000, description="least equivalent airspeed it can hold in level "
                                                             "flight (about 1.2 x the stall in clean "
                                                             "configuration) [km/h]")
    ceiling_m: Positive = Field(le=30_000, description="service ceiling [m]")
    cruise_alt_m: float = Field(ge=0, le=30_000, description="usual cruising height above sea level [m]; for a "
                                                             "cruise missile, its height above the sea")
    land_height_m: float | None = Field(None, ge=0, le=5000,
                                        description="cruise missiles: height above the ground over land [m] "
                                                    "(terrain is not modelled: above the ellipsoid)")
    max_climb_ms: Positive = Field(le=400, description="greatest rate of climb or descent [m/s]")
    max_bank_deg: float = Field(gt=0, lt=90, description="greatest bank angle in a level turn [deg]")
    max_accel_ms2: Positive = Field(le=100, description="greatest change of airspeed per second [m/s²]")
    range_km: Positive = Field(le=20_000, description="range on internal fuel (aircraft: ferry range, no "
                                                      "combat) [km]")
    rcs_m2: Positive = Field(le=1000, description="radar cross-section, nose-on, for the radar model [m²]")
    weapon: AirWeapon | None = Field(None, description="air-to-air missile it carries for air policing; null: "
                                                       "none")
    source: Text = Field(description="where the figures come from; assumptions marked as such")

    @model_validator(mode="after")
    def _check(self) -> Aircraft:
        if self.max_speed_kmh < self.cruise_speed_kmh:
            raise ValueError(f"max_speed_kmh ({self.max_speed_kmh}) must be at least cruise_speed_kmh "
                             f"({self.cruise_speed_kmh})")
        if self.cruise_speed_kmh <= self.min_speed_eas_kmh:
            raise ValueError(f"cruise_speed_kmh ({self.cruise_speed_kmh}) must exceed min_speed_eas_kmh "
                             f"({self.min_speed_eas_kmh})")
        if self.cruise_alt_m > self.ceiling_m:
            raise ValueError(f"cruise_alt_m ({self.cruise_alt_m}) must not exceed ceiling_m ({self.ceiling_m})")
        if self.kind == "cruise-missile" and self.land_height_m is None:
            raise ValueError("land_height_m: a cruise missile needs its height above the ground over land")
        if self.cruise_alt_m <= 11_000.0:
            # the least true airspeed at cruise height (ISA troposphere) must leave room below the greatest
            sigma = (1.0 - 2.25577e-5 * self.cruise_alt_m) ** 4.25588
            least = self.min_speed_eas_kmh / math.sqrt(sigma)
            if least >= self.max_speed_kmh:
                raise ValueError(f"no level flight at cruise_alt_m {self.cruise_alt_m:g}: the least true airspeed "
                                 f"there ({least:,.0f} km/h from min_speed_eas_kmh) is not below max_speed_kmh "
                                 f"({self.max_speed_kmh:g})")
        if self.kind == "aircraft" and self.land_height_m is not None:
            raise ValueError("land_height_m: for cruise missiles only (an aircraft flies the heights its route sets)")
        return self
