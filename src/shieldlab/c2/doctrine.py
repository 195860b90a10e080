"""Fire doctrine, compiled once from the scenario into SI values fire control reads.

The scenario's ``doctrine:`` block (:class:`shieldlab.scenario.schema.DoctrineCfg`) is
validated user input with units in its names; :class:`Doctrine` is what fire control
uses: plain floats and ints in seconds and metres, every default already resolved.
Per-battery values (salvo, reserve, look time, handover) are resolved by the scenario
compiler onto each battery; the doctrine keeps the scenario-wide ones.
"""

from __future__ import annotations

from dataclasses import dataclass

#: How fire control shares rounds among threats (see :mod:`shieldlab.c2.firecontrol`).
ASSIGNMENTS = ("earliest", "greedy", "exact")


@dataclass(frozen=True)
class Doctrine:
    """Scenario-wide fire doctrine (SI)."""

    engage_all: bool  # engage every confirmed track (False: only those threatening a defended asset)
    threat_probability: float  # engage when P(impact on a defended asset) >= this
    salvo: int  # interceptors per engagement where a battery does not say
    max_engagements: int  # engagements per threat (1 without shoot-look-shoot)
    planning_interval: float  # s, fire control's planning clock
    gate_k: float  # launch gate: k sigma of the intercept point must fit the divert (0: no gate)
    assignment: str = "earliest"  # how rounds are shared among threats: earliest, greedy or exact
    launch_report_alert: bool = True  # a launch report starts a battery's preparation (False: it cues radars only)

    def __post_init__(self):
        if not 0.0 < self.threat_probability <= 1.0:
            raise ValueError(f"threat_probability must be in (0, 1], not {self.threat_probability}")
        if self.planning_interval <= 0.0:
            raise ValueError(f"planning_interval must be positive, not {self.planning_interval}")
        if self.max_engagements < 1 or self.salvo < 1:
            raise ValueError("max_engagements and salvo must be at least 1")
        if self.gate_k < 0.0:
            raise ValueError(f"gate_k must not be negative, not {self.gate_k}")
        if self.assignment not in ASSIGNMENTS:
            raise ValueError(f"assignment must be one of {', '.join(ASSIGNMENTS)}, not {self.assignment!r}")


def compile_doctrine(cfg) -> Doctrine:
    """The :class:`Doctrine` of a scenario's validated ``doctrine:`` block."""
    return Doctrine(
        engage_all=cfg.engage == "all",
        threat_probability=float(cfg.threat_probability),
        salvo=int(cfg.salvo),
        max_engagements=int(cfg.max_engagements) if cfg.shoot_look_shoot else 1,
        planning_interval=float(cfg.planning_interval_s),
        gate_k=float(cfg.track_quality_sigma or 0.0),
        assignment=str(cfg.assignment),
        launch_report_alert=bool(cfg.launch_report_alert),
    )
