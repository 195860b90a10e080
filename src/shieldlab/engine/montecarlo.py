"""Monte Carlo over runs: chunks of :data:`~shieldlab.engine.chain.CHUNK` runs,
each with a child of ``SeedSequence(seed)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from shieldlab.engine.chain import CHUNK, ChunkResult, Flights, fly_threats, run_chunk, timed
from shieldlab.io.results import concat, event_columns, outcome_columns
from shieldlab.io.summary import summarise
from shieldlab.outcome import track_quality


@dataclass(frozen=True)
class Results:
    summary: dict
    outcomes: dict[str, np.ndarray]  # columns, one row per run x threat
    events: dict[str, np.ndarray]  # columns, one row per event
    last_chunk: ChunkResult  # for inspection (records of the final chunk)
    track_quality: dict[str, np.ndarray]  # columns, one row per run x system (outcome.track_quality)


def simulate(world, runs: int, seed: int, progress: Callable[[int], None] | None = None,
             timings: dict | None = None, flights: Flights | None = None,
             on_chunk: Callable[[ChunkResult], None] | None = None) -> Results:
    """Run ``runs`` Monte Carlo replications of ``world``; ``progress(n_done)`` is called after each chunk.

    ``timings``, if given, accumulates wall-clock seconds per stage
    (:data:`shieldlab.engine.chain.STAGES`); the results do not depend on it.  ``flights``:
    the nominal flights from :func:`~shieldlab.engine.chain.preflight` (flown here if None).
    ``on_chunk(chunk)`` is called with each chunk's records (tracks, pictures, engagements,
    decisions) before they are dropped: analyses that need more than the result tables.
    """
    if runs < 1:
        raise ValueError("runs must be at least 1")
    with timed(timings, "flyout_and_steering_s"):
        if flights is None:
            flights = fly_threats(world)
    n_chunks = (runs + CHUNK - 1) // CHUNK
    root = np.random.SeedSequence(seed)
    outs, evs, tqs = [], [], []
    chunk = None
    for i in range(n_chunks):
        first = i * CHUNK
        C = min(CHUNK, runs - first)
        chunk = run_chunk(world, flights, first, C, root, timings)
        if on_chunk is not None:
            on_chunk(chunk)
        with timed(timings, "tables_s"):
            outs.append(outcome_columns(world, chunk))
            evs.append(event_columns(world, chunk))
            tqs.append(track_quality.columns(world, chunk))
        if progress:
            progress(first + C)
    with timed(timings, "tables_s"):
        outcomes = concat(outs)
        events = concat(evs)
        quality = concat([q for q in tqs if q]) if any(tqs) else {}
        summary = summarise(world, outcomes, events, runs, seed, quality)
    assert chunk is not None  # runs >= 1: at least one chunk ran
    return Results(summary, outcomes, events, chunk, quality)
