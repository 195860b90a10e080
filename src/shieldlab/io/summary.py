"""The summary of a Monte Carlo run: per-threat probabilities and per-raid means."""

from __future__ import annotations

import numpy as np


def summarise(world, outcomes: dict[str, np.ndarray], runs: int, seed: int) -> dict:
    """Per threat: probability of intercept; overall: mean leakers and interceptors fired per run."""
    per = []
    for t in world.threats:
        m = outcomes["threat"] == t.name
        per.append({
            "threat": t.name,
            "missile": t.missile.id,
            "p_intercept": round(float(np.mean(outcomes["outcome"][m] == "intercepted")), 6),
            "p_leak": round(float(np.mean(outcomes["outcome"][m] == "leaked")), 6),
            "mean_interceptors": round(float(np.mean(outcomes["interceptors_fired"][m])), 6),
            # circular error probable of the unopposed flight about the aim point
            "cep_km": round(float(np.nanmedian(outcomes["aim_miss_km"][m])), 6)
            if np.isfinite(outcomes["aim_miss_km"][m]).any() else None,
        })
    leak = (outcomes["outcome"] == "leaked").reshape(runs, -1)
    hit = np.array([a is not None for a in outcomes["asset_hit"]]).reshape(runs, -1)
    fired = outcomes["interceptors_fired"].reshape(runs, -1)
    return {
        "scenario": world.scenario.name,
        "runs": runs,
        "seed": seed,
        "threats": len(world.threats),
        "mean_leakers": round(float(leak.sum(axis=1).mean()), 6),
        "mean_interceptors_fired": round(float(fired.sum(axis=1).mean()), 6),
        "p_no_leaker": round(float((leak.sum(axis=1) == 0).mean()), 6),
        "mean_assets_hit": round(float(hit.sum(axis=1).mean()), 6),
        "per_threat": per,
    }
