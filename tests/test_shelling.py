"""The shelling engine: determinism, independence of chunks and missions, the scoring, and the
scenario section's errors naming their field."""

import textwrap

import numpy as np
import pytest

from shieldlab.engine import shelling as eng
from shieldlab.errors import InputError
from shieldlab.scenario import load_world

SHELL = textwrap.dedent("""\
    name: shell-mini
    epoch: 2012-10-03T13:30:00Z
    sites:
      town: {lat: 36.711, lon: 38.948, alt_m: 390}
      radar: {lat: 36.775, lon: 38.960, alt_m: 395}
    shelling:
      missions:
        - {name: m1, round: mortar-120mm-he, origin: {lat: 36.660, lon: 38.955, alt_m: 390}, aim: town, rounds: 2}
      radars:
        - {name: r1, type: an-tpq-36, site: radar, facing_az_deg: 180}
    """)


def _world(tmp_path, text=SHELL):
    p = tmp_path / "s.yaml"
    p.write_text(text)
    return load_world(str(p))


def _same(a: dict, b: dict, close=()) -> None:
    assert a.keys() == b.keys()
    for k in a:
        x, y = np.asarray(a[k]), np.asarray(b[k])
        if x.dtype == object:
            assert list(x) == list(y), k
        elif k in close:
            assert np.allclose(x, y, rtol=1e-6, equal_nan=True), k
        else:
            assert np.array_equal(x, y, equal_nan=True), k


def test_the_country_defaults_to_the_first_radar_s(tmp_path):
    w = _world(tmp_path)
    assert w.shelling.country == "Turkey" and w.shelling.radars[0].ground_alt == 395.0


def test_runs_do_not_depend_on_chunks_or_on_later_missions(tmp_path, monkeypatch):
    w = _world(tmp_path)
    a = eng.simulate_shelling(w, 4, seed=5, scene_run=None)
    monkeypatch.setattr(eng, "CHUNK_ROUNDS", 2)  # one run a chunk
    b = eng.simulate_shelling(w, 4, seed=5, scene_run=None)
    _same(a.rounds, b.rounds)
    c = eng.simulate_shelling(w, 2, seed=5, scene_run=None)
    first = {k: v[: c.rounds["run"].size] for k, v in a.rounds.items()}
    _same(first, c.rounds)
    more = SHELL.replace("  radars:", "    - {name: m2, round: m107-155mm-he, origin: {lat: 36.60, lon: 38.9},"
                                    " aim: town}\n  radars:")
    d = eng.simulate_shelling(_world(tmp_path, more), 4, seed=5, scene_run=None)
    # the same rounds; only the plane the border is measured in moves with the missions' middle
    _same({k: v[d.rounds["mission"] == "m1"] for k, v in d.rounds.items()}, a.rounds, close=("true_border_km",))
    assert not np.array_equal(eng.simulate_shelling(w, 4, seed=6, scene_run=None).rounds["est_lat_deg"],
                              a.rounds["est_lat_deg"], equal_nan=True)


def test_the_scoring_of_the_preset():
    w = load_world("akcakale-2012")
    res = eng.simulate_shelling(w, 20, seed=1)
    t = res.rounds
    assert t["run"].size == 20 * 6
    assert set(t["true_country"]) == {"Syria"} and not t["true_in_country"].any()
    assert set(t["impact_country"]) == {"Turkey"}
    ok = t["located"]
    assert 0.8 < ok.mean() <= 1.0 and set(t["why"][~ok]) <= {"not detected"}
    assert np.all(t["error_m"][ok] < 100.0) and np.all(t["side_correct"][ok])
    assert np.allclose(t["error_m"][ok], np.hypot(t["error_east_m"][ok], t["error_north_m"][ok]))
    assert np.all((t["ellipse_major_m"][ok] >= t["ellipse_minor_m"][ok]) & (t["ellipse_minor_m"][ok] > 0))
    assert set(t["ellipse_side"][ok]) == {"outside"} and np.all(t["p_true_side"][ok] > 0.99)
    m = res.summary["missions"][0]
    r = m["radars"]["tpq-36-akcakale"]
    assert m["origin_country"] == "Syria" and 3.0 < m["origin_border_km"] < 4.0
    assert r["located"]["n"] == 60 and r["error_m"]["median"] < 40.0 and r["fused"]["runs"] == 20
    assert r["nees"]["band"][0] < 2.0 < r["nees"]["band"][1]
    # the two interval methods are named (a P(true side) of 1 in every round has 0.735-1, P(estimate
    # on the true side) Wilson's 0.758-1: unnamed, they read as a mistake)
    assert "Wilson" in res.summary["interval"] and "bounded mean" in res.summary["interval_means"]
    # its own words: the run summary's spoke of leakers, of which shelling has none
    assert "leakers" not in res.summary["interval_means"] and "P(true side)" in res.summary["interval_means"]
    from shieldlab.io import shelling_report

    assert f"Intervals of probabilities: {res.summary['interval']}." in "".join(shelling_report._sections(w, res, 0))
    kinds = set(res.events["kind"])
    assert {"fire", "detect", "located", "impact"} <= kinds
    assert res.scene is not None and res.scene.volley.n == 6 and len(res.scene.origins) == 1


def test_a_side_is_judged_against_the_defended_country(tmp_path):
    """The same fire judged against Syria's border: the weapon is inside, the estimates too."""
    w = _world(tmp_path, SHELL.replace("shelling:\n", "shelling:\n  country: Syria\n"))
    res = eng.simulate_shelling(w, 2, seed=1, scene_run=None)
    t = res.rounds
    assert t["true_in_country"].all() and t["est_in_country"][t["located"]].all()
    assert res.summary["country"] == "Syria"


@pytest.mark.parametrize("edit, field, words", [
    (("lat: 36.660", "lat: 95"), "shelling.missions[0].origin.lat", "less than or equal to 90"),
    (("rounds: 2}", "rounds: 2, muzzle_velocity_ms: -5}"), "shelling.missions[0].muzzle_velocity_ms",
     "greater than 0"),
    (("round: mortar-120mm-he", "round: mortar-82mm"), "shelling.missions[0].round",
     "unknown round 'mortar-82mm'"),
    (("type: an-tpq-36", "type: cobra"), "shelling.radars[0].type", "unknown weapon-locating radar 'cobra'"),
    (("facing_az_deg: 180", "facing_az_deg: 360"), "shelling.radars[0].facing_az_deg", "less than 360"),
    (("rounds: 2}", "rounds: 3, bursts: 2, round_interval_s: 60, burst_interval_s: 100}"),
     "shelling.missions[0].burst_interval_s", "bursts would overlap"),
    (("aim: town", "aim: nowhere"), "shelling.missions[0].aim", "unknown site or asset 'nowhere'"),
    (("aim: town", "aim: {lat: 36.660, lon: 38.955, alt_m: 390}"), "shelling.missions[0].aim",
     "the same point as the origin"),
    (("shelling:\n", "shelling:\n  country: Turky\n"), "shelling.country", "Turkey"),
    (("shelling:\n", "shelling:\n  country: turkey\n"), "shelling.country", "e.g. Turkey"),
    (("    - {name: r1", "    - {name: r1, type: arthur, site: radar, facing_az_deg: 0}\n    - {name: r1"),
     "shelling.radars[1].name", "duplicate name 'r1'"),
    (("rounds: 2}", "rounds: 25}"), "shelling.missions[0].rounds", "less than or equal to 24"),
    (("shelling:\n", "shelling:\n  landmarks: [town, nowhere]\n"), "shelling.landmarks[1]",
     "unknown site 'nowhere'"),
])
def test_bad_shelling_fields_are_named(tmp_path, edit, field, words):
    assert edit[0] in SHELL, edit[0]
    with pytest.raises(InputError) as e:
        _world(tmp_path, SHELL.replace(*edit, 1))
    assert e.value.field == field, e.value.message
    assert words in e.value.message


LOW = ("{id: low-radar, name: Low, origin: test, band: X, mortar_range_km: 18, artillery_range_km: 14, "
       "rocket_range_km: 24, sector_deg: 90, fence_elevation_deg: 1, max_elevation_deg: 10, sigma_range_m: 15, "
       "sigma_azimuth_mrad: 2, sigma_elevation_mrad: 2, update_s: 0.05, track_s: 2, source: test}")


def test_a_scenario_s_own_radar_and_its_fence(tmp_path):
    text = SHELL.replace("name: shell-mini", f"name: shell-mini\ncatalog:\n  locating_radars:\n    - {LOW}")
    w = _world(tmp_path, text.replace("type: an-tpq-36", "type: low-radar"))
    assert w.shelling.radars[0].spec.id == "low-radar"
    with pytest.raises(InputError) as e:
        _world(tmp_path, text.replace("type: an-tpq-36, site: radar, facing_az_deg: 180",
                                      "type: low-radar, site: radar, facing_az_deg: 180, fence_elevation_deg: 12"))
    assert e.value.field == "shelling.radars[0].fence_elevation_deg"
    assert "not below the low-radar's highest elevation" in e.value.message


def test_an_aim_out_of_reach_is_named_before_anything_runs(tmp_path):
    w = _world(tmp_path, SHELL.replace("lat: 36.660", "lat: 36.60"))
    with pytest.raises(InputError) as e:
        eng.check(w)
    assert e.value.field == "shelling.missions[0].aim" and "beyond the mortar-120mm-he's reach" in e.value.message


def test_the_maps_legends_name_every_radar_and_only_what_they_show(tmp_path, monkeypatch):
    """Two radars (a TPQ-36 and a TPQ-37): the overview's legend named the first radar's sectors
    only; the close-up's wide panel listed an aim point it did not show (5.6 km off, the panel
    held 1.5-4.8 km).  Every radar's sectors are named; the wide panel holds the aim; a legend
    names only what is in its frame (the border is not in the 79 m close-up)."""
    from shieldlab.io import shelling_report as rep
    from shieldlab.io.report import plt

    text = SHELL.replace("  radar: {lat: 36.775, lon: 38.960, alt_m: 395}\n",
                         "  radar: {lat: 36.775, lon: 38.960, alt_m: 395}\n"
                         "  radar2: {lat: 36.80, lon: 38.90, alt_m: 400}\n")
    text += "    - {name: r2, type: an-tpq-37, site: radar2, facing_az_deg: 170}\n"
    w = _world(tmp_path, text)
    res = eng.simulate_shelling(w, 4, seed=1, scene_run=0)
    seen: list[list[tuple[str, tuple, tuple]]] = []

    def keep(fig):
        seen.append([(t.get_text(), ax.get_xlim(), ax.get_ylim()) for ax in fig.axes if ax.get_legend()
                     for t in ax.get_legend().get_texts()])
        plt.close(fig)
        return ""

    monkeypatch.setattr(rep, "_png", keep)
    rep._overview(w, res)
    rep._close_up(w, res, 0)
    overview, close_up = seen
    names = [n for n, _, _ in overview]
    assert any(n.startswith("r1: sector and reach") for n in names)
    assert any(n.startswith("r2: sector and reach") for n in names)
    assert names.count("weapon-locating radars") == 1  # the squares too, once (they had no key)
    wide = [(n, xl, yl) for n, xl, yl in close_up if xl[1] - xl[0] > 0.01]
    near = [n for n, xl, _ in close_up if xl[1] - xl[0] <= 0.01]
    assert "aim point" in [n for n, _, _ in wide]
    _, (x0, x1), (y0, y1) = wide[0]
    m = w.shelling.missions[0]
    assert x0 < np.degrees(m.aim[1]) < x1 and y0 < np.degrees(m.aim[0]) < y1
    assert "the weapon (truth)" in near and not any("border" in n for n in near)
    # estimates within ~2 % of the wide panel lie under the weapon's triangle there: drawn, not
    # named in its legend (it listed dots no one could see); the close panel names them
    ratio = (close_up[-1][1][1] - close_up[-1][1][0]) / (wide[0][1][1] - wide[0][1][0])
    assert any("estimates" in n for n in near)
    assert any("estimates" in n for n, _, _ in wide) == (ratio > 0.02), ratio
    # akcakale-2012: the close view is ~1.2 % of the wide one; its wide legend names no estimates
    ak = load_world("akcakale-2012")
    seen.clear()
    rep._close_up(ak, eng.simulate_shelling(ak, 16, seed=1, scene_run=0), 0)
    names_by_width: dict = {}
    for n, xl, _ in seen[0]:
        names_by_width.setdefault(round(xl[1] - xl[0], 6), []).append(n)
    (w_narrow, narrow), (w_wide, wide_names) = sorted(names_by_width.items())
    assert w_narrow / w_wide < 0.02
    assert not any("estimates" in n for n in wide_names) and any("estimates" in n for n in narrow)


def test_two_radars_at_one_place_are_both_named_on_the_overview(tmp_path, monkeypatch):
    """A TPQ-36 and a TPQ-37 at one site: their names were written at one offset from the one
    marker, over each other, and the first was lost. Each now has a line of its own."""
    from shieldlab.io import shelling_report as rep
    from shieldlab.io.report import plt

    w = _world(tmp_path, SHELL + "    - {name: r2, type: an-tpq-37, site: radar, facing_az_deg: 180}\n")
    res = eng.simulate_shelling(w, 2, seed=1, scene_run=0)
    seen = []

    def keep(fig):
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        seen.extend((t.get_text(), t.get_window_extent(r)) for t in fig.axes[0].texts
                    if t.get_text().startswith(("r1 ", "r2 ")))
        plt.close(fig)
        return ""

    monkeypatch.setattr(rep, "_png", keep)
    rep._overview(w, res)
    (n1, b1), (n2, b2) = sorted(seen, key=lambda x: x[0])
    assert n1.startswith("r1 (an-tpq-36)") and n2.startswith("r2 (an-tpq-37)")
    assert b1.y1 <= b2.y0 + 1.0 or b2.y1 <= b1.y0 + 1.0  # one above the other, not over it


def test_the_maps_name_the_scenarios_landmarks_where_they_show(monkeypatch):
    """akcakale-2012: Tell Abyad, the town across the border the fire came from, was on no map
    (the gazetteer holds places of 15,000 people or more); the preset names it a landmark, and
    the overview and the second weapon's setting mark it, at its place, on the Turkish side of
    Natural Earth's generalised line, which the overview's legend says."""
    from shieldlab.io import shelling_report as rep
    from shieldlab.io.report import plt

    ak = load_world("akcakale-2012")
    (name, lat, lon), = ak.shelling.landmarks
    assert name == "Tell Abyad" and np.degrees([lat, lon]) == pytest.approx([36.6975, 38.9567])
    res = eng.simulate_shelling(ak, 2, seed=1, scene_run=0)
    seen: list[list] = []

    def keep(fig):
        seen.append([({t.get_text(): t.xy for t in ax.texts if hasattr(t, "xy")},
                      [t.get_text() for t in ax.get_legend().get_texts()]) for ax in fig.axes if ax.get_legend()])
        plt.close(fig)
        return ""

    monkeypatch.setattr(rep, "_png", keep)
    rep._overview(ak, res)
    rep._close_up(ak, res, 1)  # mortar-at-the-border: its 2.5 km setting holds the town
    (over_texts, over_legend), = seen[0]
    (wide_texts, wide_legend), (near_texts, _) = seen[1]
    for texts, legend in ((over_texts, over_legend), (wide_texts, wide_legend)):
        assert texts["Tell Abyad"] == pytest.approx((38.9567, 36.6975))
        assert "landmarks (named in the scenario)" in legend
    assert "Tell Abyad" not in near_texts  # (not in the 60 m close panel)
    assert any("generalised" in t for t in over_legend)
    from shieldlab.airspace import borders

    assert borders.contains(res.territory, 36.6975, 38.9567)  # (the line's error, now on the map)


def test_a_round_that_never_rises_through_the_fence_says_so(tmp_path):
    """A weapon 900 m above the radar, 10.6 km off: it stands ~4.9 deg up, above the AN/TPQ-36's
    fence, so its rounds never rise through it; every round read a plain 'not detected', as a
    missed look (P 0.05) does.  The rounds now name the fence; the same weapon at the radar's
    height is located."""
    old = "origin: {lat: 36.660, lon: 38.955, alt_m: 390}"
    high = SHELL.replace(old, "origin: {lat: 36.680, lon: 38.955, alt_m: 1300}")
    res = eng.simulate_shelling(_world(tmp_path, high), 2, seed=1, scene_run=None)
    assert set(res.rounds["why"]) == {"not detected: the round never rose through the radar's search fence (the "
                                      "weapon stands above it, or the round flies under it)"}
    low = SHELL.replace(old, "origin: {lat: 36.680, lon: 38.955, alt_m: 395}")
    res = eng.simulate_shelling(_world(tmp_path, low), 2, seed=1, scene_run=None)
    assert "never rose through" not in " ".join(str(w) for w in res.rounds["why"])


def test_a_round_never_seen_says_why_where_the_geometry_does(tmp_path, monkeypatch):
    """A radar facing away from the weapon, and one too far from it: every round read 'not
    detected', where validate says outside the sector or beyond reach.  The rounds say so."""
    away = _world(tmp_path, SHELL.replace("facing_az_deg: 180", "facing_az_deg: 0"))
    res = eng.simulate_shelling(away, 2, seed=1, scene_run=None)
    assert set(res.rounds["why"]) == {"not detected: the weapon lies outside the radar's sector"}
    # the event log has a not-located row for each (it held fire and impact rows only), and the
    # tables and the report say why under the table (they showed P(located) 0 and dashes)
    ev = res.events
    n = len(res.rounds["why"])
    not_loc = [d for k, d in zip(ev["kind"], ev["detail"], strict=True) if k == "not-located"]
    assert len(not_loc) == n and set(not_loc) == {"not detected: the weapon lies outside the radar's sector"}
    from shieldlab.io.shelling_tables import not_located_lines, tables

    lines = not_located_lines(res.summary)
    assert lines and all(ln.startswith("not located by r1: ") and ln.endswith("outside the radar's sector "
                                                                              f"({n // len(lines)})") for ln in lines)
    assert lines[0] in tables(res.summary)
    from shieldlab.io import shelling_report

    monkeypatch.setattr(shelling_report, "_close_up", lambda *a, **k: "")  # (no map to draw for the captions)
    page = shelling_report.build(away, res)
    assert "no radar located a round of it in any run" in page and "the estimates of every run" not in page
    assert "not located by r1: " in page
    far = _world(tmp_path, SHELL.replace("radar: {lat: 36.775, lon: 38.960, alt_m: 395}",
                                         "radar: {lat: 37.05, lon: 38.960, alt_m: 395}"))
    why = set(eng.simulate_shelling(far, 2, seed=1, scene_run=None).rounds["why"])
    assert len(why) == 1 and "beyond the radar's" in why.pop()


GRAD = """
name: grad-north
epoch: 2006-07-20T10:00:00Z
sites:
  kiryat-shmona: {lat: 33.207, lon: 35.570, alt_m: 150}
  grad-site: {lat: 33.35, lon: 35.50, alt_m: 500}
  hula-radar: {lat: 33.05, lon: 35.58, alt_m: 100}
shelling:
  country: Israel
  missions:
    - {name: grad, round: grad-9m22u-122mm, origin: grad-site, aim: kiryat-shmona, rounds: 4, round_interval_s: 0.5}
  radars:
    - {name: tpq37, type: an-tpq-37, site: hula-radar, facing_az_deg: 0, ground_alt_m: 500}
"""


def test_the_close_panel_holds_the_scene_runs_ellipses(tmp_path, monkeypatch):
    """The close panel was sized to the estimates' cloud: run 0's 95 % ellipses ran off its top
    (a Grad 34 km from a TPQ-37).  Every ellipse lies inside it."""
    from shieldlab.io import shelling_report as rep
    from shieldlab.io.report import plt

    w = _world(tmp_path, GRAD)
    res = eng.simulate_shelling(w, 10, seed=1, scene_run=0)
    figs = []
    monkeypatch.setattr(rep, "_png", lambda fig: figs.append(fig) or "")
    rep._close_up(w, res, 0)
    close = min(figs[0].axes, key=lambda a: np.ptp(a.get_xlim()))
    (x0, x1), (y0, y1) = close.get_xlim(), close.get_ylim()
    rings = [ln for ln in close.get_lines() if len(ln.get_xdata()) == 91]  # the boundary: 90 points, closed
    assert rings
    for ln in rings:
        x, y = np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float)
        assert x.min() >= x0 and x.max() <= x1 and y.min() >= y0 and y.max() <= y1
    # metres from the weapon on the opposite edges (ticks of 38.9546° said nothing of a size)
    labels = {c.get_xlabel() or c.get_ylabel() for c in close.child_axes}
    assert labels == {"east of the weapon [m]", "north of the weapon [m]"}
    (sx,) = [c for c in close.child_axes if c.get_xlabel()]
    m0, m1 = sx.get_xlim()
    assert m1 - m0 == pytest.approx((x1 - x0) * 111_000.0 * np.cos(w.shelling.missions[0].origin[0]), rel=1e-6)
    assert close.get_title().startswith("close: ") and "each way from the weapon" in close.get_title()
    plt.close(figs[0])


GRAD = textwrap.dedent("""\
    name: grad-burn
    epoch: 2024-06-01T10:00:00Z
    sites:
      houla: {lat: 33.2105, lon: 35.5164, alt_m: 720}
      target: {lat: 33.05, lon: 35.55, alt_m: 720}
      radar: {lat: 33.15, lon: 35.58, alt_m: 720}
    shelling:
      country: Israel
      missions:
        - {name: grad, round: grad-9m22u-122mm, origin: houla, aim: target, rounds: 2, round_interval_s: 0.5}
      radars:
        - {name: tpq36, type: an-tpq-36, site: radar, facing_az_deg: 315}
    """)


def test_rockets_reported_under_thrust_are_noted(tmp_path):
    """A Grad seen through a 0.3 deg fence 0.76 s after firing, inside its 2 s burn: the
    estimator fits an unpowered flight to reports under thrust (NEES above its band, with no
    word why).  The summary counts such rounds and the tables name them; at the default fence
    (first report 0.1 s before burnout) nothing is said."""
    from shieldlab.io.shelling_tables import burning_note

    low = GRAD.replace("facing_az_deg: 315}", "facing_az_deg: 315, fence_elevation_deg: 0.3}")
    res = eng.simulate_shelling(_world(tmp_path, low), 4, seed=2, scene_run=None)
    d_low = res.summary["missions"][0]["radars"]["tpq36"]["fence_in_burn"]
    assert d_low["k"] == d_low["n"] > 0 and "grad by tpq36" in burning_note(res.summary)
    res = eng.simulate_shelling(_world(tmp_path, GRAD), 4, seed=2, scene_run=None)
    assert res.summary["missions"][0]["radars"]["tpq36"]["fence_in_burn"]["k"] == 0
    assert burning_note(res.summary) is None
