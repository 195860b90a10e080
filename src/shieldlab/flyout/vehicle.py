"""Vehicle description for the flyout integrators, as batched arrays.

Turns catalogue :class:`~shieldlab.catalog.models.Missile` entries into per-batch
element arrays (SI) that both integrators read.  One batch may mix missile
types: stages are padded with empty (zero-burn) stages and drag tables with
their last value.

Mass model: stage ``s`` ignites when stage ``s-1`` burns out (no coast between
stages), burns its propellant at a constant rate, and its dry mass drops at its
burnout.  Thrust falls linearly with ambient pressure from the vacuum value to
the sea-level value, ``F = F_vac - (F_vac - F_sl) p / p0``, which is the nozzle
relation ``F = F_vac - p A_e`` with ``A_e = (F_vac - F_sl)/p0``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from shieldlab.earth import G0

#: Columns of :attr:`Vehicle.aero` (see :class:`shieldlab.catalog.models.Aero`), SI: greatest
#: lift-to-drag ratio, glide height [m], speed that ends the glide [m/s], dive angle [rad],
#: weave amplitude [m/s^2], weave period [s], greatest lift acceleration [m/s^2], and the time after
#: launch at which the dive begins whatever the speed [s] (inf: when the glide has bled the speed;
#: the steering's trim of a shaped quasi-ballistic shot, :meth:`Vehicle.diving_at`).
AERO_LD, AERO_GLIDE_ALT, AERO_V_TERM, AERO_DIVE, AERO_WEAVE, AERO_WEAVE_T, AERO_MAX_ACC, AERO_DIVE_T = range(8)
NAERO = 8

#: Seconds of pitch-over (the "kick") after the vertical rise.  Fixed for all
#: missiles: the range is steered by the kick angle, not by its duration.
PITCH_OVER_S = 10.0


@dataclass(frozen=True)
class Vehicle:
    """Per batch element arrays, shapes ``(B, S)`` for stages and ``(B, M)`` for tables."""

    stage_burn: np.ndarray  # (B,S) burn time [s]; 0 for padding
    stage_mdot: np.ndarray  # (B,S) propellant mass flow [kg/s]
    stage_thrust_vac: np.ndarray  # (B,S) [N]
    stage_thrust_sl: np.ndarray  # (B,S) [N]
    stage_m0: np.ndarray  # (B,S) total vehicle mass at ignition of the stage [kg] (earlier stages' dry mass dropped)
    boost_area: np.ndarray  # (B,) reference area while the missile is whole [m^2]
    boost_mach: np.ndarray  # (B,M) Mach breakpoints of the boost drag table
    boost_cd: np.ndarray  # (B,M)
    rv_separates: np.ndarray  # (B,) bool: after powered flight only the RV flies on
    rv_mass: np.ndarray  # (B,) [kg] (used when rv_separates)
    rv_area: np.ndarray  # (B,) [m^2] reference area after powered flight
    rv_mach: np.ndarray  # (B,M2)
    rv_cd: np.ndarray  # (B,M2)
    vertical_rise: np.ndarray  # (B,) [s]
    pitch_over: np.ndarray  # (B,) [s]
    stage_pitch: np.ndarray  # (B,S) thrust angle above the flight path after the pitch-over [rad]
    aero: np.ndarray  # (B, NAERO) lift programme after burnout (columns AERO_*); lift_to_drag 0: none

    @property
    def batch_size(self) -> int:
        return self.stage_burn.shape[0]

    @property
    def total_burn(self) -> np.ndarray:
        return self.stage_burn.sum(axis=1)

    def take(self, index: np.ndarray) -> Vehicle:
        """Select / repeat batch elements (``index`` into axis 0)."""
        return Vehicle(**{k: np.ascontiguousarray(getattr(self, k)[index]) for k in self.__dataclass_fields__})

    def throttled(self, upper_thrust: np.ndarray | float) -> Vehicle:
        """Copy with the upper stages' (all but the first) thrust along the flight path multiplied
        by ``upper_thrust`` (per element, 0-1): general energy management, the thrust yawed off the
        path by arccos(upper_thrust) one way and the other, so the sideways parts cancel and the
        propellant burns as before.  Elements with 1 are unchanged, to the bit."""
        f = np.asarray(upper_thrust, float).reshape(-1, 1)
        if np.all(f == 1.0):
            return self
        keep = np.ones(self.stage_burn.shape[1], bool)
        keep[1:] = False
        g = np.where(keep, 1.0, f)
        return replace(self, stage_thrust_vac=self.stage_thrust_vac * g, stage_thrust_sl=self.stage_thrust_sl * g)

    def diving_at(self, dive_time: np.ndarray | float) -> Vehicle:
        """Copy whose lifting elements begin their terminal dive ``dive_time`` seconds after
        launch (per element; inf: when the glide has bled the speed).  Elements with inf, and
        elements without lift, are unchanged."""
        t = np.broadcast_to(np.asarray(dive_time, float), (self.batch_size,))
        if np.all(np.isinf(t)):
            return self
        aero = self.aero.copy()
        aero[:, AERO_DIVE_T] = t
        return replace(self, aero=aero)

    def scaled(self, thrust: np.ndarray | float = 1.0, isp: np.ndarray | float = 1.0,
               burn: np.ndarray | float = 1.0, drag: np.ndarray | float = 1.0) -> Vehicle:
        """Dispersed copy: multiply thrust, specific impulse, burn time and drag by per-element factors.

        Propellant mass is kept: a longer burn means a lower mass flow.  Thrust
        scales as mdot * Isp, so ``thrust`` and ``isp`` factors both scale it.
        """
        b = np.asarray(burn, float).reshape(-1, 1)
        f = np.asarray(thrust, float).reshape(-1, 1) * np.asarray(isp, float).reshape(-1, 1) / b
        d = np.asarray(drag, float).reshape(-1, 1)
        return replace(
            self,
            stage_burn=self.stage_burn * b,
            stage_mdot=self.stage_mdot / b,
            stage_thrust_vac=self.stage_thrust_vac * f,
            stage_thrust_sl=self.stage_thrust_sl * f,
            boost_cd=self.boost_cd * d,
            rv_cd=self.rv_cd * d,
        )


def _pad(rows: Sequence[Sequence[float]], width: int, edge: bool) -> np.ndarray:
    out = np.zeros((len(rows), width))
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
        if edge and len(r) < width:
            out[i, len(r):] = r[-1]
    return out


def _mach_pad(rows: Sequence[Sequence[float]], width: int) -> np.ndarray:
    """Pad Mach breakpoints with strictly increasing large values (flat extrapolation)."""
    out = np.zeros((len(rows), width))
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
        out[i, len(r):] = r[-1] + 1e3 * np.arange(1, width - len(r) + 1)
    return out


def vehicle_from_missiles(missiles: Sequence) -> Vehicle:
    """Build a :class:`Vehicle` batch, one element per catalogue missile in ``missiles``."""
    # a batch repeats a few missile objects (a footprint family: thousands of members, three
    # missiles): each distinct one is built once and repeated.  A row depends only on its own
    # missile and the padding widths, the same over the distinct ones, so the arrays are
    # those built row by row, to the bit.
    first: dict[int, int] = {}
    which = [first.setdefault(id(m), len(first)) for m in missiles]
    if len(first) < len(which):
        distinct = list({id(m): m for m in missiles}.values())
        return _vehicle_rows(distinct).take(np.array(which))
    return _vehicle_rows(missiles)


def _vehicle_rows(missiles: Sequence) -> Vehicle:
    """:func:`vehicle_from_missiles`, one row built per element."""
    S = max(len(m.stages) for m in missiles)
    # one row of per-stage figures per missile
    burn: list[list[float]] = []
    mdot: list[list[float]] = []
    fvac: list[list[float]] = []
    fsl: list[list[float]] = []
    m0: list[list[float]] = []
    for m in missiles:
        mass = sum(s.propellant_kg + s.dry_mass_kg for s in m.stages) + m.payload_kg
        b, q, fv, fs, mm = [], [], [], [], []
        for s in m.stages:
            rate = s.propellant_kg / s.burn_time_s
            thrust_vac = s.isp_vac_s * G0 * rate
            thrust_sl = (s.isp_sl_s if s.isp_sl_s is not None else s.isp_vac_s) * G0 * rate
            b.append(s.burn_time_s)
            q.append(rate)
            fv.append(thrust_vac)
            fs.append(thrust_sl)
            mm.append(mass)
            mass -= s.propellant_kg + s.dry_mass_kg
        for lst, row in zip((burn, mdot, fvac, fsl, m0), (b, q, fv, fs, mm)):
            lst.append(row)
    boost_tables = [m.drag for m in missiles]
    rv_tables = [m.reentry_vehicle.drag if m.reentry_vehicle else m.drag for m in missiles]
    M = max(len(t.mach) for t in boost_tables)
    M2 = max(len(t.mach) for t in rv_tables)

    def area(d: float) -> float:
        return np.pi * d * d / 4.0

    aero = np.zeros((len(missiles), NAERO))
    aero[:, AERO_DIVE_T] = np.inf
    for i, m in enumerate(missiles):
        a = getattr(m, "aero", None)
        if a is not None:
            aero[i] = (a.lift_to_drag, a.glide_alt_km * 1e3, a.terminal_speed_ms, np.radians(a.dive_angle_deg),
                       a.weave_g * G0, a.weave_period_s, a.max_load_g * G0, np.inf)
    return Vehicle(
        stage_burn=_pad(burn, S, False),
        stage_mdot=_pad(mdot, S, False),
        stage_thrust_vac=_pad(fvac, S, False),
        stage_thrust_sl=_pad(fsl, S, False),
        stage_m0=_pad(m0, S, False),
        boost_area=np.array([area(m.diameter_m) for m in missiles]),
        boost_mach=_mach_pad([t.mach for t in boost_tables], M),
        boost_cd=_pad([t.cd for t in boost_tables], M, True),
        rv_separates=np.array([m.reentry_vehicle is not None for m in missiles]),
        rv_mass=np.array([m.reentry_vehicle.mass_kg if m.reentry_vehicle else 0.0 for m in missiles]),
        rv_area=np.array([area(m.reentry_vehicle.diameter_m if m.reentry_vehicle else m.diameter_m) for m in missiles]),
        rv_mach=_mach_pad([t.mach for t in rv_tables], M2),
        rv_cd=_pad([t.cd for t in rv_tables], M2, True),
        vertical_rise=np.array([m.vertical_rise_s for m in missiles], float),
        pitch_over=np.full(len(missiles), PITCH_OVER_S),
        stage_pitch=_pad([[np.radians(getattr(s, "pitch_deg", 0.0)) for s in m.stages] for m in missiles], S, False),
        aero=aero,
    )


def ballistic_vehicle(batch: int, mass_kg: float = 1000.0, area_m2: float = 0.0) -> Vehicle:
    """An unpowered body (no stages): for coasting a given state, e.g. from a Kepler burnout state."""
    z = np.zeros((batch, 1))
    table = np.tile([[0.0, 1.0]], (batch, 1))
    return Vehicle(
        stage_burn=z, stage_mdot=z.copy(), stage_thrust_vac=z.copy(), stage_thrust_sl=z.copy(),
        stage_m0=np.full((batch, 1), mass_kg),
        boost_area=np.full(batch, area_m2), boost_mach=table.copy(), boost_cd=np.full((batch, 2), 0.0),
        rv_separates=np.ones(batch, bool), rv_mass=np.full(batch, mass_kg),
        rv_area=np.full(batch, area_m2), rv_mach=table.copy(), rv_cd=np.full((batch, 2), 0.0),
        vertical_rise=np.zeros(batch), pitch_over=np.zeros(batch), stage_pitch=z.copy(),
        aero=np.tile(np.where(np.arange(NAERO) == AERO_DIVE_T, np.inf, 0.0), (batch, 1)),
    )
