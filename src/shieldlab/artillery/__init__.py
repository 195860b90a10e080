"""Unguided rounds, weapon-locating radars and the point of origin of fire.

The stages, each a module over named records of arrays with a leading round axis (``N``):

- :mod:`~shieldlab.artillery.motion`: the point-mass equations of motion of a shell, mortar bomb or
  rocket in WGS84 ECEF (J2 gravity, Earth rotation, US-1976 drag by Mach number, a rocket's
  motor) and their batched RK4 integration, to the ground or over a grid of times.
- :mod:`~shieldlab.artillery.laying`: the quadrant elevation and azimuth that put a round on an
  aim point (low or high angle), by root finding on the flight itself.
- :mod:`~shieldlab.artillery.fire`: fire missions as bursts of rounds with laying and
  round-to-round dispersion, flown to the ground.
- :mod:`~shieldlab.artillery.locating`: a weapon-locating radar: the search fence a round
  crosses, then noisy (range, azimuth, elevation) track reports over part of its rising arc.
- :mod:`~shieldlab.artillery.origin`: the point of origin from those reports alone: a batched
  Levenberg-Marquardt fit of a ballistic state (and drag) with the same drag model, integrated back
  to the ground, and its covariance carried there.
- :mod:`~shieldlab.artillery.ellipse`: error ellipses, and the probability that an estimate lies
  on the true side of a border.

SI and ECEF inside; degrees, kilometres and mils only at the edges.  Model notes, equations and
sources: ``docs/counter-battery.md``.
"""
