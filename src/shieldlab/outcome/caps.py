"""The most interceptors a run of a scenario can fire: the upper bounds of the interceptor
counts' intervals.

A count alike in every run (8 interceptors fired in each of 20 runs) gets the exact interval
of a bounded mean (:func:`shieldlab.stats.mean_interval`): up to the Clopper-Pearson share of
runs could have differed, each at worst at a bound.  The interval is only as tight as the
bound is: every battery's rounds (96 at Patriot's 2013 deployment) gave "8.00 (6.65-22.82)"
where the doctrine allows 16.  The bounds here follow from how fire control works, never from
the runs' values:

* a run fires at most every battery's rounds less what it keeps in reserve;
* at one threat, each fire control engages at most ``doctrine.max_engagements`` times (once
  without shoot-look-shoot), each engagement a salvo of at most the largest battery's salvo;
  this holds where tracks carry their threat's label (``tracking.association: labels``); under
  ``gnn`` one threat can be held by several tracks, each engaged on its own, so the run's
  rounds bound it;
* labelled tracks follow threats only: no interceptor is fired at a spent booster or a false
  track (0), which ``gnn``'s tracks can draw (the run's rounds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shieldlab.c2.doctrine import compile_doctrine
from shieldlab.c2.network import n_fire_controls


@dataclass(frozen=True)
class InterceptorCaps:
    """Upper bounds of interceptor counts [rounds]."""

    per_run: float  # every interceptor one run fires
    per_threat: float  # at one threat (and its booster)
    at_threats: float  # at all the threats of one run
    at_boosters: float  # at spent boosters, in one run
    at_false_tracks: float  # at false tracks, in one run

    @property
    def fired(self) -> float:
        """Every interceptor one run can fire at what it tracks: at threats and at false tracks."""
        return self.at_threats + self.at_false_tracks


def interceptor_caps(world) -> InterceptorCaps:
    """The :class:`InterceptorCaps` of a compiled world."""
    bats = list(getattr(world, "batteries", ()))
    per_run = float(sum(max(b.rounds - b.reserve, 0) for b in bats))
    labelled = world.scenario.tracking.association != "gnn"
    if labelled and bats:
        doc = compile_doctrine(world.scenario.doctrine)
        per_threat = min(per_run, float(n_fire_controls(world) * doc.max_engagements * max(b.salvo for b in bats)))
    else:
        per_threat = per_run
    n = len(getattr(world, "threats", ()))
    return InterceptorCaps(per_run=per_run, per_threat=per_threat, at_threats=min(per_run, n * per_threat),
                           at_boosters=0.0 if labelled else per_run, at_false_tracks=0.0 if labelled else per_run)


def cap_of(values, cap: float, fallback: float) -> float:
    """``cap``, or ``fallback`` where a value passes it: a bound the runs break is none (a guard,
    should fire control ever fire more than its doctrine allows; a test holds that it does not)."""
    v = np.asarray(values, float)
    return cap if not v.size or float(np.max(v)) <= cap else fallback
