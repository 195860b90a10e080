"""C2 nodes, data links and the architecture: every bad value is named by its field, all at once;
compile gives one node per system (with its sensor and battery indices) and one-way SI links."""

import copy
import math

import pytest
from shapely.geometry import Point as ShapelyPoint

from shieldlab.c2.links import Link
from shieldlab.errors import InputError
from shieldlab.scenario import compile_world, load, load_world
from shieldlab.scenario.compile import Node, World
from shieldlab.scenario.loader import parse
from shieldlab.scenario.schema import ARCHITECTURES, with_architecture

#: Two systems: "blue" (a radar, a battery) and "red" (a radar, two batteries); red's radar comes
#: first, so the node order (first appearance, sensors then batteries) is red, blue.
BASE = {
    "name": "nodes",
    "epoch": "2012-03-01T00:00:00Z",
    "sites": {"pad": {"lat": 38.0, "lon": 46.0}, "radar": {"lat": 38.3, "lon": 37.8, "alt_m": 2000},
              "hq": {"lat": 49.44, "lon": 7.60}},
    "sensors": [{"name": "red-ew", "type": "voronezh-dm", "site": {"lat": 44.93, "lon": 40.98},
                 "boresight_az_deg": 160, "system": "red"},
                {"name": "blue-r", "type": "an-tpy-2", "site": "radar", "boresight_az_deg": 90, "system": "blue"}],
    "batteries": [{"name": "blue-b", "interceptor": "sm-3-block-ia", "site": {"lat": 36.2, "lon": 27.6},
                   "rounds": 4, "system": "blue"},
                  {"name": "red-b1", "interceptor": "s-400", "site": {"lat": 45.1, "lon": 38.85}, "rounds": 8,
                   "system": "red"},
                  {"name": "red-b2", "interceptor": "s-400", "site": {"lat": 47.3, "lon": 39.55}, "rounds": 8,
                   "system": "red"}],
    "assets": [{"name": "city", "site": {"lat": 41.0, "lon": 29.0}, "radius_km": 20}],
    "threats": [{"name": "t", "missile": "ghadr-1", "launch": "pad", "aim": "city"}],
}
SQUARE = [[40.0, 25.0], [40.0, 30.0], [44.0, 30.0], [44.0, 25.0]]
EAST = [[44.0, 37.0], [44.0, 42.0], [48.0, 42.0], [48.0, 37.0]]


def link(a, b, **kw):
    return {"from": a, "to": b, "latency_s": 2.0, "update_period_s": 10.0, **kw}


def data(**fields):
    d = copy.deepcopy(BASE)
    d.update(copy.deepcopy(fields))
    return d


def compiled(**fields) -> World:
    return compile_world(parse(data(**fields), "s"), "s")


def problems(**fields) -> list[tuple[str, str]]:
    with pytest.raises(InputError) as e:
        compiled(**fields)
    return e.value.problems


def fields_of(**fields) -> list[str]:
    return [f for f, _ in problems(**fields)]


# --- compile ---------------------------------------------------------------------------------

def test_default_architecture_and_default_nodes():
    w = compiled()
    assert w.architecture == "integrated" and w.links == ()
    assert [n.name for n in w.nodes] == ["red", "blue"]
    red, blue = w.nodes
    assert red == Node(name="red", side="red", site=None, sector=None, sensors=(0,), batteries=(1, 2))
    assert blue == Node(name="blue", side="blue", site=None, sector=None, sensors=(1,), batteries=(0,))
    assert set(w.systems) == {n.name for n in w.nodes}  # the existing view stays consistent


def test_node_indices_point_at_their_systems():
    w = compiled()
    for n in w.nodes:
        assert all(w.sensors[k].system == n.name for k in n.sensors)
        assert all(w.batteries[k].system == n.name for k in n.batteries)
    assert sorted(k for n in w.nodes for k in n.sensors) == list(range(len(w.sensors)))
    assert sorted(k for n in w.nodes for k in n.batteries) == list(range(len(w.batteries)))


def test_node_entry_gives_side_site_and_sector_in_radians():
    w = compiled(nodes=[{"name": "blue", "side": "NATO", "site": "hq", "sector": SQUARE},
                        {"name": "red", "site": {"lat": 55.75, "lon": 37.62}}])
    blue = w.node("blue")
    assert blue.side == "NATO"
    assert blue.site.lat == pytest.approx(math.radians(49.44)) and blue.site.lon == pytest.approx(math.radians(7.60))
    assert blue.sector.bounds == pytest.approx(tuple(math.radians(x) for x in (25.0, 40.0, 30.0, 44.0)))
    bucharest = (math.radians(44.43 - 1), math.radians(26.10))  # lat, lon [rad], inside
    assert blue.sector.contains(ShapelyPoint(bucharest[1], bucharest[0]))
    red = w.node("red")
    assert red.side == "red" and red.sector is None and red.site.lat_deg == pytest.approx(55.75)
    assert [n.name for n in w.nodes] == ["red", "blue"]  # order of first appearance, not of nodes:


def test_two_way_link_becomes_two_links_in_si():
    w = compiled(architecture="coordinated",
                 links=[link("blue", "red", latency_s=1.5, update_period_s=12, capacity_tracks_per_s=20,
                             loss=0.05)])
    assert w.architecture == "coordinated"
    assert w.links == (Link("blue", "red", 1.5, 12.0, 20.0, 0.05), Link("red", "blue", 1.5, 12.0, 20.0, 0.05))


def test_one_way_link_and_unlimited_capacity():
    w = compiled(links=[link("red", "blue", two_way=False)])
    assert w.links == (Link(source="red", target="blue", latency=2.0, period=10.0, capacity=math.inf, loss=0.0),)


def test_world_built_without_nodes_still_works():
    w = compiled()
    bare = World(scenario=w.scenario, sensors=w.sensors, batteries=w.batteries, threats=w.threats,
                 assets=w.assets, dt=w.dt, duration=w.duration)
    assert bare.nodes == () and bare.links == () and bare.architecture == "integrated"


# --- schema checks, each naming its field --------------------------------------------------------

def test_node_names_unique_and_used():
    got = problems(nodes=[{"name": "blue"}, {"name": "green"}, {"name": "blue"}])
    assert got[0][0] == "nodes[1].name" and "no sensor or battery names system 'green'" in got[0][1]
    assert got[1] == ("nodes[2].name", "duplicate name 'blue' (also nodes[0])")


def test_link_ends_must_be_nodes_and_differ():
    got = problems(links=[link("blue", "green"), link("pink", "red"), link("red", "red")])
    assert [f for f, _ in got] == ["links[0].to", "links[1].from", "links[2].to"]
    assert "'green' is no C2 node" in got[0][1] and "'red', 'blue'" in got[0][1]
    assert got[2][1] == "a link from 'red' to itself"


def test_a_system_without_a_nodes_entry_is_a_link_end():
    w = compiled(nodes=[{"name": "blue", "side": "NATO"}], links=[link("blue", "red")])
    assert len(w.links) == 2


@pytest.mark.parametrize("links, words", [
    ([link("blue", "red", two_way=False), link("blue", "red", two_way=False)], "'blue' -> 'red' (also links[0])"),
    ([link("blue", "red"), link("red", "blue", two_way=False)], "'red' -> 'blue' (also links[0], two_way)"),
    ([link("blue", "red"), link("red", "blue")], "(also links[0], two_way) and 'blue' -> 'red' (also links[0])"),
])
def test_a_direction_may_be_linked_once(links, words):
    got = problems(links=links)
    assert len(got) == 1 and got[0][0] == "links[1]" and words in got[0][1]


@pytest.mark.parametrize("field, value, where, words", [
    ("latency_s", -1, "links[0].latency_s", "greater than or equal to 0"),
    ("latency_s", 3601, "links[0].latency_s", "less than or equal to 3600"),
    ("update_period_s", 0.05, "links[0].update_period_s", "greater than or equal to 0.1"),
    ("update_period_s", 601, "links[0].update_period_s", "less than or equal to 600"),
    ("capacity_tracks_per_s", 0, "links[0].capacity_tracks_per_s", "greater than 0"),
    ("loss", 1.0, "links[0].loss", "less than 1"),
    ("loss", -0.1, "links[0].loss", "greater than or equal to 0"),
    ("colour", "red", "links[0].colour", "unknown field"),
])
def test_link_values_are_bounded(field, value, where, words):
    got = problems(links=[link("blue", "red", **{field: value})])
    assert got[0][0] == where and words in got[0][1]


def test_link_needs_latency_and_period():
    assert fields_of(links=[{"from": "blue", "to": "red"}]) == ["links[0].latency_s", "links[0].update_period_s"]


@pytest.mark.parametrize("sector, where, words", [
    ([[95.0, 20.0], [40.0, 30.0], [44.0, 30.0]], "nodes[0].sector[0]", "latitude 95 is outside -90 .. 90"),
    ([[40.0, 20.0], [40.0, 190.0], [44.0, 30.0]], "nodes[0].sector[1]", "longitude 190 is outside -180 .. 180"),
    ([[40.0, 20.0], [40.0, 30.0]], "nodes[0].sector", "needs at least 3 entries, got 2"),
    ([[40.0, 20.0], [40.0, 30.0], [40.0, 20.0]], "nodes[0].sector", "at least 3 distinct points, got 2"),
    ([[40.0, 25.0], [44.0, 30.0], [40.0, 30.0], [44.0, 25.0]], "nodes[0].sector",
     "not a valid polygon (self-intersection at [42, 27.5])"),
    ([[40.0, 20.0], [41.0, 21.0], [42.0, 22.0]], "nodes[0].sector", "the points lie on one line"),
    ([[40.0, 20.0], [41.0], [42.0, 22.0]], "nodes[0].sector[1]", "needs at least 2 entries, got 1"),
    # a name read as "expected a number, got the text 'balkans'"
    ("balkans", "nodes[0].sector", "a sector is a list of [lat, lon] points"),
    (42.0, "nodes[0].sector", "a sector is a list of [lat, lon] points"),
])
def test_bad_sector_is_named(sector, where, words):
    got = problems(nodes=[{"name": "blue", "sector": sector}])
    assert got[0][0] == where and words in got[0][1], got


def test_node_site_is_checked_like_any_place():
    assert problems(nodes=[{"name": "blue", "site": "atlantis"}])[0] == \
        ("nodes[0].site", "unknown site 'atlantis' (known: hq, pad, radar)")
    assert fields_of(nodes=[{"name": "blue", "site": {"lat": 91, "lon": 0}}]) == ["nodes[0].site.lat"]


def test_unknown_architecture_is_named():
    assert fields_of(architecture="federated") == ["architecture"]


def test_sectoral_needs_a_sector_on_every_node_with_batteries():
    got = problems(architecture="sectoral", links=[link("blue", "red")], nodes=[{"name": "blue"}])
    assert got[0] == ("nodes", "architecture sectoral needs a sector for node 'red', which has batteries: "
                               "add {name: red, sector: [[lat, lon], ...]} under nodes")
    assert got[1] == ("nodes[0].sector", "architecture sectoral needs a sector for node 'blue', which has batteries")
    w = compiled(architecture="sectoral", links=[link("blue", "red")],
                 nodes=[{"name": "blue", "sector": SQUARE}, {"name": "red", "sector": EAST}])
    assert w.architecture == "sectoral" and all(n.sector is not None for n in w.nodes)


@pytest.mark.parametrize("architecture", ["coordinated", "sectoral"])
def test_cooperating_architectures_need_a_link_into_each_node_with_batteries(architecture):
    nodes = [{"name": "blue", "sector": SQUARE}, {"name": "red", "sector": EAST}]
    got = problems(architecture=architecture, nodes=nodes)
    assert [f for f, _ in got] == ["links", "links"]
    assert got[0][1].startswith(f"architecture {architecture} needs a link into node 'red' (it has batteries) "
                                f"from another node with sensors ('blue'): add {{from: blue, to: red,")
    one_way = problems(architecture=architecture, nodes=nodes, links=[link("red", "blue", two_way=False)])
    assert len(one_way) == 1 and "into node 'red'" in one_way[0][1]
    assert compiled(architecture=architecture, nodes=nodes, links=[link("red", "blue")]).architecture == architecture
    # a misspelt end is the one error: the links it leaves missing are not reported besides
    misspelt = problems(architecture=architecture, nodes=nodes, links=[link("red", "bleu")])
    assert [f for f, _ in misspelt] == ["links[0].to"] and "'bleu' is no C2 node" in misspelt[0][1]


def test_a_link_path_through_a_third_node_counts():
    d = data(architecture="coordinated",
             links=[link("blue", "relay", two_way=False), link("relay", "red", two_way=False),
                    link("red", "blue", two_way=False)])
    d["sensors"].append({"name": "relay-r", "type": "an-tpy-2", "site": "radar", "system": "relay"})
    w = compile_world(parse(d, "s"), "s")
    assert [n.name for n in w.nodes] == ["red", "blue", "relay"] and len(w.links) == 3


@pytest.mark.parametrize("architecture", ["independent", "integrated"])
def test_independent_and_integrated_need_no_links(architecture):
    assert compiled(architecture=architecture).links == ()
    assert len(compiled(architecture=architecture, links=[link("blue", "red")]).links) == 2  # allowed


def test_one_node_needs_no_link_under_coordinated():
    d = data(architecture="coordinated")
    for item in d["sensors"] + d["batteries"]:
        item["system"] = "solo"
    w = compile_world(parse(d, "s"), "s")
    assert [n.name for n in w.nodes] == ["solo"] and w.nodes[0].batteries == (0, 1, 2)


def test_all_node_and_link_problems_come_together_with_name_problems():
    d = data(nodes=[{"name": "nobody"}], links=[link("blue", "blue")], architecture="coordinated")
    d["assets"].append(dict(d["assets"][0]))
    got = [f for f, _ in problems(nodes=d["nodes"], links=d["links"], architecture="coordinated",
                                  assets=d["assets"])]
    assert got == ["assets[1].name", "nodes[0].name", "links[0].to", "links", "links"]


# --- with_architecture -----------------------------------------------------------------------------

def test_with_architecture_round_trips():
    scn = parse(data(architecture="coordinated", links=[link("blue", "red")],
                     nodes=[{"name": "blue", "sector": SQUARE}, {"name": "red", "sector": EAST}]), "s")
    for a in ARCHITECTURES:
        other = with_architecture(scn, a)
        assert other.architecture == a
        assert other.model_dump(exclude={"architecture"}) == scn.model_dump(exclude={"architecture"})
        assert with_architecture(other, "coordinated") == scn
    assert scn.architecture == "coordinated"  # the original is untouched


def test_with_architecture_rejects_unknown_and_unsupported():
    scn = parse(data(), "s")
    with pytest.raises(InputError) as e:
        with_architecture(scn, "federated")
    assert e.value.field == "architecture" and "unknown architecture 'federated'" in e.value.message
    with pytest.raises(InputError) as e:
        with_architecture(scn, "sectoral")  # no sectors, no links
    assert [f for f, _ in e.value.problems] == ["nodes", "nodes", "links", "links"]


# --- the preset ------------------------------------------------------------------------------------

def test_nato_russia_preset_validates_and_compiles():
    scn = load("nato-russia-2011")
    assert scn.name == "nato-russia-2011" and scn.architecture == "coordinated"
    w = load_world("nato-russia-2011")
    assert [n.name for n in w.nodes] == ["nato", "russia"]
    assert {n.side for n in w.nodes} == {"NATO", "Russia"}
    for n in w.nodes:
        assert n.batteries and n.sensors and n.site is not None
        assert n.sector is not None and n.sector.is_valid
    assert not w.node("nato").sector.intersects(w.node("russia").sector)
    assert {(link.source, link.target) for link in w.links} == {("nato", "russia"), ("russia", "nato")}
    assert {w.sensors[k].radar.spec.id for k in w.node("russia").sensors} == {"voronezh-dm", "daryal"}
    assert {w.batteries[k].spec.id for k in w.node("russia").batteries} == {"s-400"}
    assert "an-tpy-2" in {w.sensors[k].radar.spec.id for k in w.node("nato").sensors}
    for a in ARCHITECTURES:  # the compare command's four runs all validate
        assert compile_world(with_architecture(scn, a)).architecture == a


def test_nato_russia_preset_defends_what_it_aims_at():
    w = load_world("nato-russia-2011")
    for t in w.threats:
        assert t.aim in {a.site for a in w.assets}
    # each side's sector holds the assets the raid aims at on that side
    for a in w.assets:
        inside = [n.name for n in w.nodes if n.sector.contains(ShapelyPoint(a.site.lon, a.site.lat))]
        assert len(inside) == 1, a.name


def test_a_sector_across_the_antimeridian_or_on_a_line_is_refused():
    from pydantic import ValidationError

    from shieldlab.scenario.schema import NodeCfg

    with pytest.raises(ValidationError, match="antimeridian"):
        NodeCfg(name="n", sector=[[36.7, 179.0], [37.3, -179.0], [36.7, -179.0]])
    with pytest.raises(ValidationError, match="one line"):
        NodeCfg(name="n", sector=[[36.0, 35.0], [37.0, 35.0], [38.0, 35.0]])


def test_a_battery_of_a_system_without_sensors_fires_only_under_one_picture():
    """A battery whose system has no sensor was refused whatever the architecture; under
    integrated (one picture of every sensor) system names do not part the tracks: it fires.
    Elsewhere the refusal says what a node fires on and what to do."""
    bats = copy.deepcopy(BASE["batteries"])
    bats[0]["system"] = "green"
    w = compiled(batteries=bats, architecture="integrated")
    assert [b.system for b in w.batteries][0] == "green"
    for arch in ("independent", "coordinated"):
        extra = {"links": [link("blue", "green"), link("red", "green")]} if arch == "coordinated" else {}
        found = dict(problems(batteries=bats, architecture=arch, **extra))
        assert "no sensor feeds system 'green'" in found["batteries[0].system"]
        assert "choose architecture integrated" in found["batteries[0].system"]


@pytest.mark.parametrize("value, words", [(None, "got null"), ([False], "got a list"), ({"a": 1}, "got a mapping")])
def test_a_flag_that_is_no_flag_says_what_it_got(value, words):
    """links[].tracks (and every true-or-false field): null, a list or a mapping is named as such,
    not in pydantic's words ("Input should be a valid boolean")."""
    import yaml

    from shieldlab.errors import InputError
    from shieldlab.scenario import locate
    from shieldlab.scenario.loader import parse

    data = yaml.safe_load(locate("nato-russia-2011")[0].read_text())
    data["links"][0]["tracks"] = value
    with pytest.raises(InputError) as e:
        parse(data, "x")
    assert e.value.field == "links[0].tracks" and f"expected true or false, {words}" in str(e.value)
