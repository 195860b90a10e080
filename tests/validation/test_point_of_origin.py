"""The point-of-origin estimator over Monte Carlo trials (:func:`shieldlab.artillery.trials.trial`):
its covariance is consistent with its errors, and its accuracy against range is what the radar's
noise and the geometry give.

Consistency: over 200 rounds, the mean NEES (each round's 2-D origin error against its own east-north
covariance) lies inside its chi-square 95 % band (2 degrees of freedom a round); the same errors
against half the covariance fall outside it (the test can fail).  Accuracy: the median radial error
(the empirical CEP) grows with the range from the radar and stays within 0.05-0.6 % of it for the
AN/TPQ-36 class against mortars and the AN/TPQ-37 class against shells (docs/counter-battery.md
tabulates all of them: bench/locating_accuracy.py).
"""

import numpy as np
import pytest
from scipy.stats import chi2

from shieldlab.artillery.ellipse import nees
from shieldlab.artillery.trials import trial
from shieldlab.catalog.artillery import get_locating_radar, get_round

CASES = [("mortar-120mm-he", "an-tpq-36", 10_000.0), ("m107-155mm-he", "an-tpq-37", 15_000.0),
         ("grad-9m22u-122mm", "arthur", 30_000.0)]


def band(n: int) -> tuple[float, float]:
    lo, hi = chi2.ppf([0.025, 0.975], 2 * n) / n
    return float(lo), float(hi)


@pytest.mark.parametrize("rid, radar, distance", CASES)
def test_nees_is_inside_its_chi_square_band(rid, radar, distance):
    t = trial(get_round(rid), get_locating_radar(radar), distance, n=200, seed=7)
    ok = t.located
    assert ok.sum() >= 180  # P(detect and track) 0.95
    lo, hi = band(int(ok.sum()))
    mean = float(np.mean(t.nees[ok]))
    assert lo <= mean <= hi, (mean, lo, hi)
    # the same errors against a covariance half as large: far outside the band
    assert float(np.mean(nees(t.error_en[ok], 0.5 * t.cov[ok]))) > hi
    # and the errors are unbiased: the mean error is within 3 standard errors of zero
    e = t.error_en[ok]
    assert np.all(np.abs(e.mean(axis=0)) < 3.0 * e.std(axis=0) / np.sqrt(ok.sum()))


@pytest.mark.parametrize("rid, radar", [("mortar-120mm-he", "an-tpq-36"), ("m107-155mm-he", "an-tpq-37")])
def test_accuracy_against_range(rid, radar):
    rnd, spec = get_round(rid), get_locating_radar(radar)
    reach = 1e3 * spec.range_km(rnd.locating_class)
    ceps = []
    for f in (0.5, 0.75, 0.95):
        t = trial(rnd, spec, f * reach, n=120, seed=11)
        ceps.append(t.cep)
        assert 0.0005 < t.cep / (f * reach) < 0.006, (f, t.cep)
    assert ceps[0] < ceps[1] < ceps[2]


def test_the_consistency_bench_finds_akcakales_estimator_honest():
    """``bench/locating_consistency.py`` (the docs' 100-seed figure) on a few seeds: the pooled
    NEES of each mission inside its chi-square band, a round's NEES spread as chi-square's (a
    covariance half the true one doubles the mean and fails this), and the bench's own
    bookkeeping: every seed counted, rounds told apart by run."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from locating_consistency import band, measure

    res = measure("akcakale-2012", runs=8, seeds=4)
    assert set(res["missions"]) == {"mortar-3-oct", "mortar-at-the-border"}
    for m in res["missions"].values():
        assert m["rounds"] > 60 and m["inside"], m
        assert 2.5 < m["nees_variance"] < 6.0 and 0 <= m["seeds_outside_band"] <= 4
        assert m["band"] == [round(x, 3) for x in band(m["rounds"])]
