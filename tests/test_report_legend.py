"""A map's legend names only what shows in its frame (shieldlab.io.report.in_frame)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from shieldlab.io.report import in_frame  # noqa: E402


def test_only_what_shows_in_the_frame_is_named():
    fig, ax = plt.subplots()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    inside = ax.plot([0.5], [0.5], "o", label="inside")[0]
    outside = ax.plot([2.0, 3.0], [2.0, 3.0], label="outside")[0]
    across = ax.plot([-1.0, 2.0], [0.5, 0.5], label="across")[0]  # both ends out, through the frame
    a = np.linspace(0, 2 * np.pi, 181)
    ring = ax.plot(0.5 + 5 * np.cos(a), 0.5 + 5 * np.sin(a), label="around")[0]  # encloses the frame
    dots = ax.scatter([5.0], [5.0], label="dots off")
    box = ax.add_patch(plt.Rectangle((0.9, 0.9), 0.5, 0.5, label="box at the corner"))
    far = ax.add_patch(plt.Rectangle((4.0, 4.0), 0.5, 0.5, label="box far"))
    proxy = Line2D([], [], marker="x", ls="none", label="key")
    empty = ax.plot([], [], ".", label="a radar's estimates: none")[0]  # drawn on the axes, holding nothing
    handles = [inside, outside, across, ring, dots, box, far, proxy, empty]
    h, labels = in_frame(ax, handles, [x.get_label() for x in handles])
    assert labels == ["inside", "across", "box at the corner", "key"]
    assert h == [inside, across, box, proxy]
    assert in_frame(ax)[1] == ["inside", "across", "box at the corner"]  # the axes' own entries
    plt.close(fig)


def test_the_report_lists_the_c2_nodes_and_links_where_there_are_several():
    """Nodes and links were on the run map only as sites and outlines: the report lists each
    node's side, sensors, batteries and sector, and each link's latency, interval, capacity and
    loss; a single node gets no such section."""
    from shieldlab.io import report
    from shieldlab.scenario import load_world

    w = load_world("nato-russia-2011")
    text = "".join(report._c2_section(w))
    assert "Architecture: coordinated (sectors drawn, not enforced)." in text
    for nd in w.nodes:
        assert f"<td>{nd.name}</td><td>{nd.side}</td>" in text
    assert text.count("<td>nato → russia</td>") == 1 and "<td>5</td><td>12</td><td>unlimited</td><td>0%</td>" in text
    assert "<td>nato → russia</td><td>tracks and status, launch reports</td>" in text
    assert report._c2_section(load_world("epaa-phase-1")) == []


def test_the_c2_table_names_each_nodes_satellites_and_says_sectors_only_where_drawn():
    import yaml

    from shieldlab.io import report
    from shieldlab.scenario import compile_world, locate
    from shieldlab.scenario.loader import parse

    data = yaml.safe_load(locate("nato-russia-2011")[0].read_text())
    data["early_warning"] = [{"name": "sbirs-1", "type": "sbirs-geo", "lon_deg": 57.0, "system": "russia"}]
    text = "".join(report._c2_section(compile_world(parse(data, "x"))))
    assert "<td>armavir-voronezh, gabala-daryal</td><td>sbirs-1</td>" in text
    assert "<td>kurecik-tpy2, ship-spy1, black-sea-spy1</td><td>—</td>" in text
    for nd in data["nodes"]:
        nd.pop("sector", None)
    text = "".join(report._c2_section(compile_world(parse(data, "x"))))
    assert "Architecture: coordinated." in text and "not enforced" not in text
    data["links"][0]["tracks"] = False  # an exchange of early warning alone
    text = "".join(report._c2_section(compile_world(parse(data, "x"))))
    assert text.count("<td>launch reports</td>") == 2  # both ways


def test_the_report_says_what_the_satellites_and_links_reported():
    from shieldlab.io import report

    summary = {"launch_reports": [
        {"source": "sbirs-1", "via": "satellite", "share_of_launches": 1.0, "median_s_after_launch": 52.0,
         "p10_s_after_launch": 51.0, "p90_s_after_launch": 59.0},
        {"source": "sbirs-2", "via": "satellite", "share_of_launches": 0.0, "median_s_after_launch": None,
         "p10_s_after_launch": None, "p90_s_after_launch": None},
        {"source": "russia->nato", "via": "link", "share_of_launches": 0.5, "median_s_after_launch": 65.0,
         "p10_s_after_launch": 57.0, "p90_s_after_launch": 72.0}], "launch_report_alert": False}
    text = "".join(report._early_warning_section(summary))
    assert "<h2>Early warning</h2>" in text
    assert "<td>sbirs-1</td><td>100%</td><td>52</td><td>51–59</td>" in text
    assert "<td>sbirs-2</td><td>0%</td><td>—</td><td>—</td>" in text
    assert "<td>the link russia-&gt;nato</td><td>50%</td><td>65</td><td>57–72</td>" in text
    assert "cue the radars only" in text
    assert report._early_warning_section({"launch_reports": []}) == []


def test_a_round_at_a_spent_booster_or_a_false_track_is_drawn_apart_from_a_miss():
    """Under gnn a salvo may go at a threat's spent booster (target N + n) or a false track
    (target -1): there was no warhead to kill, and the map and timeline drew it as a plain
    miss, the reason only in the events table."""
    from types import SimpleNamespace

    from shieldlab.io.report import _SHOT_ENDS, _shot_end

    eng = SimpleNamespace(killed=np.array([True, False, False, False]), target=np.array([0, 1, 3, -1]))
    assert [_shot_end(eng, e, 2) for e in range(4)] == ["kill", "miss", "booster", "false track"]
    assert _shot_end(SimpleNamespace(killed=np.array([False]), target=None), 0, 2) == "miss"  # labels
    assert len({(m, c) for m, c, _ in _SHOT_ENDS.values()}) == 4  # four looks
    assert "booster" in _SHOT_ENDS["booster"][2] and "false track" in _SHOT_ENDS["false track"][2]


def test_things_at_one_place_are_named_once_on_the_ground_map():
    """A battery and its radar on one ship were named apart and written end to end across the
    marker ("aegis-ship-sm3ship-spy1"); things at one place get one label, in the first one's
    ink; things a little apart keep their own."""
    from shieldlab.io.report import _one_name_a_place

    named = [("ship-spy1", 27.6, 36.2, "#6c3483"), ("kurecik-tpy2", 37.8, 38.3, "#6c3483"),
             ("aegis-ship-sm3", 27.6, 36.2, "#1f618d"), ("near", 27.61, 36.2, "#1f618d")]
    assert _one_name_a_place(named) == [("ship-spy1 / aegis-ship-sm3", 27.6, 36.2, "#6c3483"),
                                        ("kurecik-tpy2", 37.8, 38.3, "#6c3483"), ("near", 27.61, 36.2, "#1f618d")]


def test_a_threats_name_keeps_off_where_another_track_ends(monkeypatch):
    """epaa-phase-1 with a Shahab-3 at eastern Turkey from the Ghadr-1s' launch point: its
    short track lies over the Ghadrs' (at Istanbul), and the name
    'ghadr-istanbul#1' was put right beside the Shahab's end dot, where the Ghadr's track comes
    out from under it (read as that dot's name; 14.8 px away). No threat's name now stands
    within two of its line heights of another track's end."""
    import shieldlab
    from shieldlab.analysis import maps
    from shieldlab.engine.chain import preflight, replay_run
    from shieldlab.io import report
    from shieldlab.io.scene import threat_rows
    from shieldlab.scenario import load
    from shieldlab.scenario.schema import ThreatCfg

    sc = load("epaa-phase-1")
    shahab = ThreatCfg(name="shahab-ankara", missile="shahab-3", launch="tabriz", aim={"lat": 39.5, "lon": 38.5},
                       launch_time_s=60)
    battery = sc.batteries[0].model_copy(update={"rounds": 5})
    athens = sc.assets[0].model_copy(update={"value": 5})
    w = shieldlab.load_world(sc.model_copy(update={"threats": [*sc.threats[:3], shahab, *sc.threats[3:]],
                                                   "batteries": [battery], "assets": [athens, *sc.assets[1:]]}))
    chunk = replay_run(w, preflight(w, 48), 3, 1)
    seen = []
    real = maps.name_markers

    def keep(fig, ax, marks, avoid=(), shapes=None, **kw):
        real(fig, ax, marks, avoid, shapes, **kw)
        if shapes is not None:  # the threats' names by their tracks, as placed
            names = [m[2] for m in marks]
            r = fig.canvas.get_renderer()
            seen.append(({n: ax.transData.transform(np.asarray(s, float)[-1]) for n, s in zip(names, shapes)},
                         {t.get_text(): _text_box(t, r) for t in ax.texts if t.get_text() in names}))

    monkeypatch.setattr(maps, "name_markers", keep)
    report._ground_map(w, chunk, 0, threat_rows(w, chunk, 0))
    (ends, texts), = seen
    assert "ghadr-istanbul#1" in texts
    for name, b in texts.items():
        for other, (x, y) in ends.items():
            if other == name or np.hypot(*(ends[name] - (x, y))) <= 2.0:
                continue
            gap = np.hypot(max(b.x0 - x, 0, x - b.x1), max(b.y0 - y, 0, y - b.y1))
            assert gap >= 1.9 * b.height, (name, other, gap)


def _text_box(t, renderer):
    """The display box of text ``t`` alone (an annotation's own extent takes in its leader line)."""
    from matplotlib.text import Annotation, Text

    if isinstance(t, Annotation):
        t.update_positions(renderer)
    return Text.get_window_extent(t, renderer)
