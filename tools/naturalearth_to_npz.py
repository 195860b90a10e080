"""Convert Natural Earth admin-0 countries (1:50m) from the world-atlas TopoJSON to the
compact ``.npz`` that shieldlab ships for its maps and border polygons.

Source: the npm package ``world-atlas`` 2.0.2 (M. Bostock, ISC licence), file
``countries-50m.json``: Natural Earth 4.1.0 "Admin 0 - Countries" at 1:50m, public domain.

Usage (once, by a maintainer; needs npm, no other network access)::

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python tools/naturalearth_to_npz.py package/countries-50m.json \
        src/shieldlab/data/naturalearth/countries_50m.npz

Output arrays (lon/lat in degrees, float32, rounded to 1e-4 deg ~ 11 m):

``lonlat`` (V, 2)    every ring's vertices, rings concatenated (first vertex not repeated)
``ring_start`` (R+1,) offsets of ring r in ``lonlat``: ``lonlat[ring_start[r]:ring_start[r+1]]``
``ring_polygon`` (R,) index of the polygon a ring belongs to; its first ring is the shell
``polygon_country`` (P,) index of the country a polygon belongs to
``names`` (C,)        country names as Natural Earth spells them (``NAME`` field)
"""

from __future__ import annotations

import json
import sys

import numpy as np


def decode(topo: dict) -> list[tuple[str, list[list[np.ndarray]]]]:
    """Countries as (name, [polygon = [shell, hole, ...] rings of (n, 2) lon/lat])."""
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:  # quantised, delta-encoded positions
        q = np.cumsum(np.asarray(arc, dtype=np.int64), axis=0)
        arcs.append(np.column_stack([q[:, 0] * sx + tx, q[:, 1] * sy + ty]))

    def ring(indices):
        pts = []
        for i in indices:
            a = arcs[i] if i >= 0 else arcs[~i][::-1]
            pts.append(a if not pts else a[1:])  # consecutive arcs share an end point
        r = np.concatenate(pts)
        return r[:-1] if np.allclose(r[0], r[-1]) else r

    out = []
    for g in topo["objects"]["countries"]["geometries"]:
        name = g.get("properties", {}).get("name", "")
        if g["type"] == "Polygon":
            polys = [g["arcs"]]
        elif g["type"] == "MultiPolygon":
            polys = g["arcs"]
        else:
            continue
        out.append((name, [[ring(r) for r in poly] for poly in polys]))
    return out


def main(src: str, dst: str) -> None:
    with open(src, encoding="utf-8") as f:
        countries = decode(json.load(f))
    lonlat, starts, ring_poly, poly_country, names = [], [0], [], [], []
    for c, (name, polys) in enumerate(countries):
        names.append(name)
        for poly in polys:
            p = len(poly_country)
            poly_country.append(c)
            for r in poly:
                lonlat.append(np.round(r, 4).astype(np.float32))
                starts.append(starts[-1] + len(r))
                ring_poly.append(p)
    np.savez_compressed(dst, lonlat=np.concatenate(lonlat), ring_start=np.array(starts, np.int32),
                        ring_polygon=np.array(ring_poly, np.int32), polygon_country=np.array(poly_country, np.int32),
                        names=np.array(names))
    print(f"{len(names)} countries, {len(poly_country)} polygons, {len(ring_poly)} rings, "
          f"{sum(len(r) for r in lonlat)} vertices -> {dst}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
