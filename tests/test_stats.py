"""Binomial and mean intervals (shieldlab.stats) against published values and closed forms."""

import numpy as np
import pytest
from scipy import stats as st

from shieldlab.stats import (
    clopper_pearson_interval,
    mean_interval,
    ratio_interval,
    runs_for_half_width,
    wilson_interval,
)

# R. G. Newcombe, "Two-sided confidence intervals for the single proportion: comparison of
# seven methods", Statistics in Medicine 17 (1998) 857-872, Table II, 95 % intervals to 4
# decimals: method 3 (Wilson score) and method 5 (exact, Clopper-Pearson).
NEWCOMBE = [
    # k, n, Wilson, Clopper-Pearson
    (81, 263, (0.2553, 0.3662), (0.2527, 0.3676)),
    (15, 148, (0.0624, 0.1605), (0.0578, 0.1617)),
    (0, 20, (0.0000, 0.1611), (0.0000, 0.1684)),
    (1, 29, (0.0061, 0.1718), (0.0009, 0.1776)),
]


@pytest.mark.parametrize("k, n, wilson, exact", NEWCOMBE)
def test_published_intervals(k, n, wilson, exact):
    np.testing.assert_allclose(wilson_interval(k, n), wilson, atol=5e-5)
    np.testing.assert_allclose(clopper_pearson_interval(k, n), exact, atol=5e-5)


def test_vectorised_and_equal_to_scipy_binomtest():
    k = np.array([0, 1, 7, 30, 49, 50])
    lo, hi = wilson_interval(k, 50)
    clo, chi = clopper_pearson_interval(k, np.full(k.shape, 50))
    assert lo.shape == hi.shape == clo.shape == (6,)
    for i, kk in enumerate(k):
        w = st.binomtest(int(kk), 50).proportion_ci(0.9, method="wilson")
        e = st.binomtest(int(kk), 50).proportion_ci(0.9, method="exact")
        np.testing.assert_allclose(wilson_interval(kk, 50, 0.9), (w.low, w.high), atol=1e-12)
        np.testing.assert_allclose(clopper_pearson_interval(kk, 50, 0.9), (e.low, e.high), atol=1e-10)
        assert lo[i] <= kk / 50 <= hi[i] and clo[i] <= kk / 50 <= chi[i]
    # 2-D broadcasting
    lo2, hi2 = wilson_interval(np.array([[0], [5]]), np.array([10, 20, 40]))
    assert lo2.shape == (2, 3)


def test_edges_k_zero_and_k_n():
    n = np.array([1, 5, 20, 100, 1000])
    alpha = 0.05
    lo, hi = clopper_pearson_interval(0, n)
    # closed form: P(0 successes | p) = (1 - p)^n = alpha / 2  =>  p = 1 - (alpha / 2)^(1 / n)
    np.testing.assert_allclose(hi, 1 - (alpha / 2) ** (1 / n), rtol=1e-10)
    assert np.all(lo == 0)
    lo, hi = clopper_pearson_interval(n, n)
    np.testing.assert_allclose(lo, (alpha / 2) ** (1 / n), rtol=1e-10)
    assert np.all(hi == 1)
    # Wilson at k = 0: lo = 0, hi = z^2 / (n + z^2) (the formula with p = 0)
    z = st.norm.ppf(0.975)
    lo, hi = wilson_interval(0, n)
    assert np.all(lo == 0)
    np.testing.assert_allclose(hi, z**2 / (n + z**2), rtol=1e-12)
    lo, hi = wilson_interval(n, n)
    np.testing.assert_allclose(lo, n / (n + z**2), rtol=1e-12)
    assert np.all(hi == 1)
    assert wilson_interval(0, 0) == (0.0, 1.0) and clopper_pearson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize("k, n", [(-1, 10), (11, 10), (1, -1)])
def test_bad_counts(k, n):
    with pytest.raises(ValueError):
        wilson_interval(k, n)
    with pytest.raises(ValueError):
        clopper_pearson_interval(k, n)


def test_monotone_in_k_and_n_and_confidence():
    k = np.arange(0, 101)
    for f in (wilson_interval, clopper_pearson_interval):
        lo, hi = f(k, 100)
        assert np.all(np.diff(lo) > 0) and np.all(np.diff(hi) > 0)
        # more runs at the same proportion: a narrower interval
        n = np.array([10, 40, 160, 640, 2560])
        lo, hi = f(n // 10, n)
        assert np.all(np.diff(hi - lo) < 0)
        # higher confidence: a wider interval, nested
        a, b = f(30, 100, 0.9), f(30, 100, 0.99)
        assert b[0] < a[0] and a[1] < b[1]
    # the exact interval is the wider one (it is conservative)
    wl, wh = wilson_interval(k[1:-1], 100)
    cl, ch = clopper_pearson_interval(k[1:-1], 100)
    assert np.all(ch - cl > wh - wl)  # (not at k = 0 or n, where Wilson is a little wider)



def test_coverage_by_simulation():
    """2,000 binomial draws at p = 0.1, n = 50: the Wilson interval covers p at the rate
    the binomial law gives (summed exactly over k: 0.9703 here; the coverage of a discrete
    interval oscillates about the nominal 95 % with p and n, Brown, Cai & DasGupta 2001, Fig. 4)."""
    p, n = 0.1, 50
    k_all = np.arange(n + 1)
    lo, hi = wilson_interval(k_all, n)
    exact = float(st.binom.pmf(k_all, n, p)[(lo <= p) & (p <= hi)].sum())
    assert exact == pytest.approx(0.9703, abs=1e-4)  # k = 1..9 covered
    assert np.array_equal(k_all[(lo <= p) & (p <= hi)], np.arange(1, 10))
    k = np.random.default_rng(7).binomial(n, p, 2000)
    lo, hi = wilson_interval(k, n)
    cover = float(np.mean((lo <= p) & (p <= hi)))
    assert 0.92 <= cover <= 0.98
    assert abs(cover - exact) < 3 * np.sqrt(exact * (1 - exact) / 2000)
    clo, chi = clopper_pearson_interval(k, n)
    assert np.mean((clo <= p) & (p <= chi)) >= 0.95  # Clopper-Pearson never undercovers


def test_runs_for_half_width_closed_form():
    z = st.norm.ppf(0.975)
    # p = 1/2: half-width z / (2 sqrt(n + z^2)) <= h  <=>  n >= z^2 (1 / (4 h^2) - 1) = 380.3
    assert z**2 * (1 / (4 * 0.05**2) - 1) == pytest.approx(380.30, abs=0.01)
    assert runs_for_half_width(0.05) == 381
    assert runs_for_half_width(0.01) == int(np.ceil(z**2 * (1 / (4 * 0.01**2) - 1)))  # 9,600
    for h, p in [(0.05, 0.5), (0.02, 0.1), (0.05, 0.0), (0.1, 0.9), (0.005, 0.3)]:
        n = runs_for_half_width(h, p)
        for m, ok in ((n, True), (n - 1, False)):
            lo, hi = wilson_interval(p * m, m)  # fractional k: the proportion p exactly
            if p in (0.0, 1.0):  # the edges are clipped: use the formula's own half-width
                half = z * np.sqrt(0.25 * z**2) / (m + z**2)
            else:
                half = 0.5 * (hi - lo)
            assert (half <= h) == ok, (h, p, m, half)
    # p = 1/2 is the worst case
    assert all(runs_for_half_width(0.03, p) <= runs_for_half_width(0.03) for p in np.linspace(0, 1, 21))
    assert runs_for_half_width(0.05, confidence=0.99) > runs_for_half_width(0.05)


@pytest.mark.parametrize("h, p", [(0.0, 0.5), (0.5, 0.5), (-0.1, 0.5), (0.05, -0.01), (0.05, 1.01)])
def test_runs_for_half_width_rejects_bad_input(h, p):
    with pytest.raises(ValueError):
        runs_for_half_width(h, p)


def test_mean_interval():
    x = np.array([2.0, 4.0, 4.0, 5.0, 7.0, 9.0])
    m, lo, hi = mean_interval(x)
    # closed form: mean 5.1667, s = 2.4833, t_{5, 0.975} = 2.5706
    s = np.sqrt(np.sum((x - x.mean()) ** 2) / 5)
    assert m == pytest.approx(31 / 6)
    assert hi - m == pytest.approx(2.570582 * s / np.sqrt(6), rel=1e-6)
    assert m - lo == pytest.approx(hi - m)
    ref = st.t.interval(0.95, 5, loc=x.mean(), scale=st.sem(x))
    np.testing.assert_allclose((lo, hi), ref, rtol=1e-12)
    # large n: the t quantile is the normal one to 0.1 %
    y = np.random.default_rng(3).normal(1.0, 2.0, 4000)
    m, lo, hi = mean_interval(y)
    assert (hi - m) == pytest.approx(1.959964 * y.std(ddof=1) / np.sqrt(4000), rel=1e-3)
    assert mean_interval(np.full(10, 3.0)) == (3.0, 3.0, 3.0)
    m, lo, hi = mean_interval([4.0])
    assert m == 4.0 and np.isnan(lo) and np.isnan(hi)
    m, lo, hi = mean_interval(np.stack([x, 2 * x], axis=1))  # per column
    np.testing.assert_allclose(m, [31 / 6, 31 / 3])


def test_mean_interval_coverage():
    """Per-run leaker counts (Poisson, mean 1.2), 100 runs, 1,000 replications: ~95 % cover."""
    rng = np.random.default_rng(11)
    x = rng.poisson(1.2, (1000, 100))
    _, lo, hi = mean_interval(x, axis=1)
    cover = np.mean((lo <= 1.2) & (1.2 <= hi))
    assert 0.93 <= cover <= 0.97


@pytest.mark.parametrize("h", [1e-300, 5e-324, 1e-160, 1e-9])
def test_runs_for_half_width_refuses_a_count_past_exact_floats(h):
    from shieldlab.stats import MAX_COUNT

    with pytest.raises(ValueError, match="needs more than"):
        runs_for_half_width(h)
    with pytest.raises(ValueError, match="needs more than"):
        runs_for_half_width(max(h * 1e-7, 5e-324), p=0.0)
    assert MAX_COUNT == 2**53


def test_runs_for_half_width_small_but_countable():
    z = st.norm.ppf(0.975)
    n = runs_for_half_width(1e-7)  # about 9.6e13 runs: still exact
    assert n == pytest.approx(z**2 * (1 / (4 * 1e-14) - 1), rel=1e-9)
    assert runs_for_half_width(1e-3, p=0.0) < runs_for_half_width(1e-3)


def test_mean_interval_is_cut_at_the_bounds_no_value_can_pass():
    # two runs with 0 and 9 leakers of 9: the t interval (t_1 = 12.7) runs far past both ends
    m, lo, hi = mean_interval([0.0, 9.0])
    assert m == 4.5 and lo < -50.0 and hi > 50.0
    m, lo, hi = mean_interval([0.0, 9.0], lower=0.0, upper=9.0)
    assert (m, lo, hi) == (4.5, 0.0, 9.0)
    # bounds the interval does not reach change nothing
    x = np.random.default_rng(3).poisson(4.0, 200).astype(float)
    assert mean_interval(x, lower=0.0, upper=100.0) == mean_interval(x)
    # per column, and nan for a single value stays nan
    _, lo, _ = mean_interval(np.array([[0.0, 5.0], [1.0, 5.0]]), lower=0.0)
    assert lo[0] == 0.0 and lo[1] == 5.0
    assert np.isnan(mean_interval([3.0], lower=0.0)[1])


def test_runs_all_alike_give_the_exact_interval_of_a_bounded_mean():
    """32 runs without a leaker of 2 threats: the t interval is the point 0-0, beside a P(no
    leaker) of 0.89-1.00 (Clopper-Pearson, 0 of 32).  At most a share 1 - 0.025^(1/32) of runs
    could have leaked, each at most 2 leakers: 0 to 0.218."""
    m, lo, hi = mean_interval(np.zeros(32), lower=0.0, upper=2.0)
    p_lo, _ = clopper_pearson_interval(32, 32)
    assert (m, lo) == (0.0, 0.0)
    assert hi == pytest.approx(2.0 * (1.0 - p_lo), rel=1e-12) and hi == pytest.approx(0.2178, abs=1e-4)
    # every run at the top: the mirror image; in between, both sides open
    assert mean_interval(np.full(32, 2.0), lower=0.0, upper=2.0)[1] == pytest.approx(2.0 - 0.2178, abs=1e-4)
    m, lo, hi = mean_interval(np.ones(32), lower=0.0, upper=2.0)
    assert lo == pytest.approx(1.0 - 0.1089, abs=1e-4) and hi == pytest.approx(1.0 + 0.1089, abs=1e-4)
    # per column: only the alike column widens; without both bounds the point stays
    m, lo, hi = mean_interval(np.stack([np.zeros(32), np.arange(32.0) % 2], axis=1), lower=0.0, upper=2.0)
    assert hi[0] == pytest.approx(0.2178, abs=1e-4)
    assert hi[1] == pytest.approx(mean_interval(np.arange(32.0) % 2)[2])
    assert mean_interval(np.zeros(32), lower=0.0) == (0.0, 0.0, 0.0)


def test_the_ratio_interval_of_equal_counts_is_the_t_interval_of_the_runs_means():
    """With the same number of items in every run the pooled mean is the mean of the runs'
    means, and the linearised standard error is their sample standard error, exactly."""
    rng = np.random.default_rng(4)
    items = rng.gamma(2.0, 30.0, size=(25, 3))  # 25 runs, 3 items each
    got = ratio_interval(items.sum(axis=1), np.full(25, 3))
    want = mean_interval(items.mean(axis=1))
    assert got == pytest.approx(tuple(want), rel=1e-12)


def test_the_ratio_interval_by_hand_and_its_edges():
    """A small case by hand: runs (sum, count) (10, 2), (9, 3), (0, 0), (20, 3): R = 39/8,
    mbar = 2, residuals 0.25, -5.625, 0, 5.375; se^2 = 60.5 / (4 * 3 * 4)."""
    r, lo, hi = ratio_interval([10, 9, 0, 20], [2, 3, 0, 3])
    se = np.sqrt((0.25**2 + 5.625**2 + 5.375**2) / (4 * 3 * 4.0))
    t = st.t.ppf(0.975, 3)
    assert r == 39 / 8 and (lo, hi) == pytest.approx((r - t * se, r + t * se), rel=1e-12)
    assert all(np.isnan(v) for v in ratio_interval([0, 0], [0, 0]))
    one = ratio_interval([12.0, 0.0], [2, 0])  # items in one run alone: no spread between runs seen
    assert one.mean == 6.0 and np.isnan(one.lo) and np.isnan(one.hi)
    with pytest.raises(ValueError):
        ratio_interval([1.0, 2.0], [1, -1])


def test_the_ratio_interval_covers_the_pooled_mean_as_it_says():
    """Runs holding 0 to 6 items whose values share a run effect (so pooling them as if
    independent would be too narrow): over 4,000 samples of 40 runs the 95 % interval holds
    the true mean 100 in 93-97 % of them (the linearisation is asymptotic), where the naive
    interval over the pooled items covers it far less often."""
    rng = np.random.default_rng(11)
    hits = naive = 0
    reps = 4000
    for _ in range(reps):
        m = rng.integers(0, 7, size=40)
        effect = rng.normal(0.0, 20.0, size=40)
        vals = [100.0 + effect[i] + rng.normal(0.0, 5.0, size=k) for i, k in enumerate(m)]
        _, lo, hi = ratio_interval([v.sum() for v in vals], m)
        hits += lo <= 100.0 <= hi
        pooled = np.concatenate(vals)
        _, nlo, nhi = mean_interval(pooled)
        naive += nlo <= 100.0 <= nhi
    assert 0.93 <= hits / reps <= 0.97
    assert naive / reps < 0.8
