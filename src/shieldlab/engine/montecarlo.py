"""Monte Carlo over runs: chunks of :data:`~shieldlab.engine.chain.CHUNK` runs,
each with a child of ``SeedSequence(seed)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from shieldlab.engine.chain import CHUNK, ChunkResult, fly_threats, run_chunk
from shieldlab.io.results import concat, event_columns, outcome_columns, summarise


@dataclass(frozen=True)
class Results:
    summary: dict
    outcomes: dict[str, np.ndarray]  # columns, one row per run x threat
    events: dict[str, np.ndarray]  # columns, one row per event
    last_chunk: ChunkResult  # for inspection (records of the final chunk)


def simulate(world, runs: int, seed: int, progress: Callable[[int], None] | None = None) -> Results:
    """Run ``runs`` Monte Carlo replications of ``world``; ``progress(n_done)`` is called after each chunk."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    flights = fly_threats(world)
    n_chunks = (runs + CHUNK - 1) // CHUNK
    seeds = np.random.SeedSequence(seed).spawn(n_chunks)
    outs, evs = [], []
    chunk = None
    for i in range(n_chunks):
        first = i * CHUNK
        C = min(CHUNK, runs - first)
        chunk = run_chunk(world, flights, first, C, seeds[i])
        outs.append(outcome_columns(world, chunk))
        evs.append(event_columns(world, chunk))
        if progress:
            progress(first + C)
    outcomes = concat(outs)
    return Results(summarise(world, outcomes, runs, seed), outcomes, concat(evs), chunk)
