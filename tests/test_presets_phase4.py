"""EPAA phase 4 preset and the growth of the defended area phase by phase."""

import numpy as np
import pytest

from shieldlab.analysis import footprint as F
from shieldlab.scenario import compile_world, load, load_world

EUROPE = F.region_grid("europe", 2.0)
US_NORTH_EAST = F.make_grid(30.0, 56.0, -90.0, -52.0, 2.0)


def test_phase4_preset_has_the_iib_and_the_icbm():
    w = load_world("epaa-phase-4")
    assert {b.spec.id for b in w.batteries} >= {"sm-3-block-iib", "sm-3-block-iia", "sm-3-block-ib"}
    assert {t.missile.id for t in w.threats} >= {"notional-iran-icbm", "sejjil-2", "generic-irbm"}
    icbm = next(t for t in w.threats if t.missile.id == "notional-iran-icbm")
    assert icbm.missile.category == "ICBM" and icbm.aim.lon_deg < -60  # aimed at the United States


@pytest.fixture(scope="module")
def phases():
    return {n: F.compute(load_world(f"epaa-phase-{n}"), EUROPE, site_names=["sejjil-2"])
            for n in (1, 2, 3, 4)}


def test_each_phase_defends_at_least_the_previous_area(phases):
    for n in (1, 2, 3):
        a, b = phases[n], phases[n + 1]
        for sa, sb in zip(a.sites, b.sites):
            assert sa.site.name == sb.site.name
            lost = sa.defended & ~sb.defended
            assert not lost.any(), f"phase {n + 1} loses {lost.sum()} cells against {sa.site.name}"
        assert b.defended_area_km2() >= a.defended_area_km2()
    # phase 2 (Deveselu) and phase 3 (Redzikowo) each add ground against the Sejjil-2
    assert phases[2].defended_area_km2(0) > 1.2 * phases[1].defended_area_km2(0)
    assert phases[3].defended_area_km2(0) > 1.1 * phases[2].defended_area_km2(0)


def test_phase4_adds_defence_of_the_us_against_icbms():
    scn = load("epaa-phase-4")
    iib = [i for i, b in enumerate(scn.batteries) if b.interceptor == "sm-3-block-iib"]
    without = compile_world(scn.model_copy(update={"batteries": [b for i, b in enumerate(scn.batteries)
                                                                 if i not in iib]}))
    p3 = F.compute(without, US_NORTH_EAST, site_names=["notional-iran-icbm"]).sites[0]
    fp4 = F.compute(load_world("epaa-phase-4"), US_NORTH_EAST, site_names=["notional-iran-icbm"])
    p4 = fp4.sites[0]
    cell = US_NORTH_EAST.cell_area_km2()
    assert p4.threatened.sum() > 50  # the ICBM reaches the north-east of the US from Tabriz
    assert not (p3.defended & ~p4.defended).any()
    a3, a4 = cell[p3.defended].sum(), cell[p4.defended].sum()
    assert a4 > 3 * max(a3, 1.0) and a4 > 0.9 * cell[p4.threatened].sum()
    # the IIB does it from Redzikowo, in the ICBM's midcourse, high above the IIA's ceiling
    k = [b["interceptor"] for b in fp4.batteries].index("sm-3-block-iib")
    assert p4.by_battery[k][p4.threatened].all()
    assert np.nanmedian(p4.first_intercept_alt_km[p4.defended]) > 500


def test_phase4_iib_engages_the_icbms_in_the_kill_chain():
    # Early intercept: the IIB must launch about when the ICBM burns out.  A ballistic
    # extrapolation of a boosting track falls short of the US, so the threat is judged by its
    # impact corridor (shieldlab.c2.threat_eval), and fire control holds to its last chance.
    from shieldlab import load_world
    from shieldlab.engine.montecarlo import simulate

    r = simulate(load_world("epaa-phase-4"), runs=4, seed=2)
    ev = r.events
    fires = (ev["kind"] == "fire") & np.char.startswith(np.asarray(ev["threat"], str), "icbm")
    assert load_world("epaa-phase-4").scenario.doctrine.engage == "threatening"
    assert fires.sum() >= 3  # of 8 ICBMs (2 a run)
    assert set(np.asarray(ev["actor"], str)[fires]) == {"redzikowo-sm3-iib"}
    rows = {row["threat"]: row for row in r.summary["per_threat"]}
    assert rows["icbm-new-york"]["p_intercept"] + rows["icbm-boston"]["p_intercept"] > 0.0
