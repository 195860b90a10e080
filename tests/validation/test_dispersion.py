"""Flight dispersions and the circular error probable (CEP).

For small dispersions the impact error is linear in the perturbations, so the
CEP scales in proportion to the dispersion (Zarchan, *Tactical and Strategic
Missile Guidance*, 6th ed., ch. 35 on ballistic error budgets: miss = sum of
partial derivatives x errors); with no dispersion the CEP collapses to the
steering's aim error.  Magnitude: at ~270 km a Scud-B's range moves by about
2R/V = 350 m per m/s of burnout speed, so sub-percent propulsion scatter under
an open-loop cut-off time gives kilometre-class CEPs (the published Scud-B CEP
of 450-1,000 m, CSIS Missile Threat "Scud-B", needs the guidance's velocity
cut-off, which this model does not have).
"""

import numpy as np
import pytest

from shieldlab import catalog
from shieldlab.flyout.dispersion import Dispersion, cep, draw, impact_scatter

LAUNCH = np.radians([35.0, 38.0])
AIM = np.radians([37.4, 38.3])  # ~270 km north


@pytest.fixture(scope="module")
def scud():
    return catalog.get_missile("scud-b")


BASE = Dispersion(thrust=0.004, isp=0.002, burn_time=0.003, drag=0.05, azimuth=0.5e-3)


def scatter(m, d, runs=400, seed=3):
    return impact_scatter(m, LAUNCH[0], LAUNCH[1], AIM[0], AIM[1], d, runs, seed)


def test_no_dispersion_no_scatter(scud):
    _, _, c = scatter(scud, Dispersion(), runs=8)
    assert c < 50.0


def test_cep_scales_with_dispersion(scud):
    c1 = scatter(scud, BASE)[2]
    c2 = scatter(scud, BASE.scaled(2.0))[2]
    c4 = scatter(scud, BASE.scaled(4.0))[2]
    assert 500.0 < c1 < 6000.0, c1  # kilometre class, see the module docstring
    assert c2 / c1 == pytest.approx(2.0, rel=0.15)
    assert c4 / c1 == pytest.approx(4.0, rel=0.2)


def test_azimuth_error_gives_cross_range_scatter(scud):
    # 1 mrad of azimuth at ~270 km is ~270 m of cross-range; the CEP of a 1-D normal is 0.674 sigma
    lat, lon, c = scatter(scud, Dispersion(azimuth=1e-3), runs=600)
    rng_km = 270.0
    assert c == pytest.approx(0.674 * rng_km, rel=0.15)


def test_draws_are_deterministic_and_clipped():
    d = Dispersion(thrust=0.9, isp=0.01)
    a = draw(d, (1000,), np.random.default_rng(1))
    b = draw(d, (1000,), np.random.default_rng(1))
    np.testing.assert_array_equal(a.thrust, b.thrust)
    assert a.thrust.min() >= 0.5 and a.thrust.max() <= 1.5
    assert np.std(a.isp) == pytest.approx(0.01, rel=0.1)


def test_cep_is_the_median_miss():
    lat0, lon0 = np.radians(10.0), np.radians(20.0)
    miss = np.array([1.0, 2.0, 3.0, 4.0, 5.0]) * 1e3
    lat = lat0 + miss / 6371008.8
    assert cep(lat, np.full(5, lon0), lat0, lon0) == pytest.approx(3e3, rel=1e-3)
