"""Outcome stage: what happened to each threat in each run."""

from shieldlab.outcome.score import Outcomes, score

__all__ = ["Outcomes", "score"]
