"""Fire missions: bursts of rounds from one weapon at one aim point, with dispersion, flown to the ground.

Frames and units: geodetic points (lat, lon [rad], alt [m above the ellipsoid]), ECEF [m], times
[s after the scenario's epoch], SI inside.

A mission fires ``bursts`` bursts of ``rounds_per_burst`` rounds, ``round_interval`` apart within a
burst and ``burst_interval`` apart from the start of one burst to the next, from ``start_time``.
The weapon is laid by :func:`shieldlab.artillery.laying.lay` for its nominal round; each round
then draws, from the mission's generator, one-sigma errors (normal, independent):

- range: an error of the quadrant elevation, ``range_sigma / |d range / d elevation|``;
- deflection: an error of the azimuth, ``deflection_sigma / range``;
- muzzle velocity: ``muzzle_velocity_sigma`` [m/s];
- drag: the round's own, its catalogue ``drag_sigma_pct``;
- a rocket's total impulse: its motor's ``impulse_sigma_pct``.

Every round draws all five (unused ones included), so a round's draws do not depend on the
round type.  Launch and impact heights: the mission's origin and aim heights (no terrain).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from shieldlab import earth
from shieldlab.artillery.laying import STEP_S, Laying, max_steps
from shieldlab.artillery.motion import Airframe, Path, fly, launch_velocity
from shieldlab.catalog.artillery import Round

__all__ = ["FireMission", "Volley", "fire", "DRAWS_PER_ROUND"]

#: Standard-normal draws per round (elevation, azimuth, muzzle velocity, drag, impulse).
DRAWS_PER_ROUND = 5


@dataclass(frozen=True)
class FireMission:
    """One weapon's fire at one aim point, SI.

    ``origin``, ``aim``: (lat, lon [rad], alt [m]); ``speed`` [m/s] the muzzle (rocket: tube-exit)
    speed; the sigmas are one-sigma laying errors at the aim point [m] and round-to-round muzzle
    velocity [m/s]; ``angle``: the branch, "low" or "high".
    """

    name: str
    round: Round
    origin: tuple[float, float, float]
    aim: tuple[float, float, float]
    rounds_per_burst: int = 1
    bursts: int = 1
    round_interval: float = 0.0
    burst_interval: float = 0.0
    start_time: float = 0.0
    speed: float = 0.0
    range_sigma: float = 0.0
    deflection_sigma: float = 0.0
    muzzle_velocity_sigma: float = 0.0
    angle: str = "low"

    @property
    def n_rounds(self) -> int:
        return self.rounds_per_burst * self.bursts

    def fire_times(self) -> np.ndarray:
        """(n_rounds,) firing time of each round [s after the epoch], burst by burst."""
        b, k = np.divmod(np.arange(self.n_rounds), self.rounds_per_burst)
        return self.start_time + b * self.burst_interval + k * self.round_interval


@dataclass(frozen=True)
class Volley:
    """``N`` rounds fired and flown (the truth); every field (N,) unless said otherwise.

    ``mission`` index into the missions, ``number`` the round's place in its mission, ``run`` the
    Monte Carlo run, ``rounds`` the catalogue entry of each; ``origin`` (N, 3) ECEF and
    ``origin_geo`` (N, 3) lat, lon [rad], alt [m]; ``fire_time`` [s]; the laying actually used,
    ``elevation``, ``azimuth`` [rad], ``speed`` [m/s]; ``drag_error``, ``impulse_error`` the round's
    relative errors; ``path`` the flight on per-round grids from the firing time (truth);
    ``impact`` (N, 3) ECEF and ``impact_time`` [s].
    """

    mission: np.ndarray
    number: np.ndarray
    run: np.ndarray
    rounds: list
    origin: np.ndarray
    origin_geo: np.ndarray
    fire_time: np.ndarray
    elevation: np.ndarray
    azimuth: np.ndarray
    speed: np.ndarray
    drag_error: np.ndarray
    impulse_error: np.ndarray
    path: Path
    impact: np.ndarray
    impact_time: np.ndarray

    @property
    def n(self) -> int:
        return int(self.mission.size)


def fire(missions: list[FireMission], laying: Laying, draws: list[tuple[int, int, np.random.Generator]],
         *, keep: bool = True) -> Volley:
    """Fire and fly every round of ``draws``: one (mission index, run, generator) per mission and run,
    the generator drawing that mission's rounds of that run (:data:`DRAWS_PER_ROUND` each, in
    order); ``laying`` the missions' (:func:`~shieldlab.artillery.laying.lay`).  ``keep``: keep the
    flight's states at every step (the radars need them)."""
    cols: dict[str, list] = {k: [] for k in ("mission", "number", "run", "q", "a", "v", "de", "ie", "t")}
    rounds = []
    for m, run, g in draws:
        ms = missions[m]
        n = ms.n_rounds
        z = g.standard_normal((n, DRAWS_PER_ROUND))
        rd = ms.round
        slope = abs(float(laying.range_slope[m]))
        cols["mission"].append(np.full(n, m))
        cols["number"].append(np.arange(n))
        cols["run"].append(np.full(n, run))
        cols["q"].append(laying.elevation[m] + z[:, 0] * (ms.range_sigma / slope if slope > 0.0 else 0.0))
        cols["a"].append(laying.azimuth[m] + z[:, 1] * ms.deflection_sigma / max(float(laying.range[m]), 1.0))
        cols["v"].append(np.maximum(ms.speed + z[:, 2] * ms.muzzle_velocity_sigma, 1.0))
        cols["de"].append(np.maximum(z[:, 3] * rd.drag_sigma_pct / 100.0, -0.9))
        isig = rd.motor.impulse_sigma_pct / 100.0 if rd.motor is not None else 0.0
        cols["ie"].append(np.maximum(z[:, 4] * isig, -0.9))
        cols["t"].append(ms.fire_times())
        rounds += [rd] * n
    c = {k: np.concatenate(v) if v else np.zeros(0) for k, v in cols.items()}
    mission = c["mission"].astype(np.int64)
    geo = np.array([missions[m].origin for m in mission], float).reshape(-1, 3)
    ground = np.array([missions[m].aim[2] for m in mission], float)
    q = np.clip(c["q"], math.radians(0.1), math.radians(89.9))
    if mission.size == 0:
        empty = np.zeros((0, 3))
        path = Path(t0=np.zeros(0), tau0=np.zeros(0), h=np.zeros(0), pos=np.zeros((0, 1, 3)), vel=np.zeros((0, 1, 3)),
                    landed=np.zeros(0, bool), end_t=np.zeros(0), end_pos=empty, end_vel=empty,
                    end_step=np.zeros(0, np.int64))
        return Volley(mission=mission, number=np.zeros(0, np.int64), run=np.zeros(0, np.int64), rounds=[],
                      origin=empty, origin_geo=empty, fire_time=np.zeros(0), elevation=q, azimuth=np.zeros(0),
                      speed=np.zeros(0), drag_error=np.zeros(0), impulse_error=np.zeros(0), path=path,
                      impact=empty, impact_time=np.zeros(0))
    r0 = earth.geodetic_to_ecef(geo[:, 0], geo[:, 1], geo[:, 2])
    v0 = launch_velocity(geo[:, 0], geo[:, 1], c["v"], q, c["a"])
    af = Airframe.of(rounds, drag_error=c["de"], impulse_error=c["ie"])
    path = fly(r0, v0, af, af.step(STEP_S), max_steps(rounds, c["v"]), t0=c["t"], ground=ground, keep=keep)
    return Volley(mission=mission, number=c["number"].astype(np.int64), run=c["run"].astype(np.int64), rounds=rounds,
                  origin=r0, origin_geo=geo, fire_time=c["t"], elevation=q, azimuth=c["a"], speed=c["v"],
                  drag_error=c["de"], impulse_error=c["ie"], path=path,
                  impact=np.where(path.landed[:, None], path.end_pos, np.nan),
                  impact_time=np.where(path.landed, path.end_t, np.nan))
