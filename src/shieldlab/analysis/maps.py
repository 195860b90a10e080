"""Maps for the footprint analyses: Matplotlib (Agg, no network) over Natural Earth borders.

Borders are the Natural Earth 1:50m admin-0 countries shipped in
``shieldlab/data/naturalearth`` (public domain; see the README there).  Maps are drawn in
plate carrée (longitude, latitude in degrees) with the aspect ratio set so that a degree of
longitude has its true length at the middle latitude of the map.

Every map names the countries and the largest cities in its frame (:func:`label_map`, run
last, when everything else is on the axes): a country's name in small grey capitals where it
fits inside the country's visible part, the cities (GeoNames places shipped in
``shieldlab/data/places``, CC BY 4.0; :mod:`shieldlab.analysis.places`) as a dot and a dark
name with a white halo, the most populous first, each label put in the first of eight places
around its dot that overlaps no label or marker already drawn (for the largest, further out
with a leader line if need be), a city left out where none is free.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from shieldlab.io.atomic import atomic_path

_NE = "data/naturalearth/countries_50m.npz"


@functools.lru_cache(maxsize=1)
def _borders():
    with resources.as_file(resources.files("shieldlab") / _NE) as p:
        d = np.load(p)
        return {k: d[k] for k in d.files}


def country_rings(name: str | None = None) -> list[tuple[str, int, np.ndarray]]:
    """(country, polygon index, ring (n, 2) lon/lat [deg]) for every ring (of one country)."""
    d = _borders()
    names = d["names"]
    out = []
    for r in range(d["ring_polygon"].size):
        p = int(d["ring_polygon"][r])
        c = str(names[d["polygon_country"][p]])
        if name is not None and c != name:
            continue
        out.append((c, p, d["lonlat"][d["ring_start"][r]:d["ring_start"][r + 1]].astype(float)))
    return out


def country_names() -> list[str]:
    return [str(n) for n in _borders()["names"]]


def close_countries(name, n: int = 5) -> list[str]:
    """Up to ``n`` Natural Earth country names close to ``name``: the same name in another case
    first (``syria`` → ``Syria``), then those that begin as it does and are alike
    (``Estland`` → ``Estonia``, which difflib ranked below Åland, Poland, Ireland and Iceland),
    then difflib's close matches, then names containing it."""
    import difflib

    names = sorted(set(country_names()))
    text = str(name)
    low = text.lower()
    same_case = [c for c in names if c.lower() == low]
    ratio = {c: difflib.SequenceMatcher(None, low, c.lower()).ratio() for c in names}
    same_start = sorted((c for c in names if len(low) >= 3 and c.lower()[:3] == low[:3] and ratio[c] >= 0.5),
                        key=lambda c: -ratio[c])
    close = difflib.get_close_matches(text, names, n=n, cutoff=0.5)
    more = [c for c in names if low in c.lower()]
    return list(dict.fromkeys(same_case + same_start + close + more))[:n]


def require_country(name, field: str) -> None:
    """Raise :class:`~shieldlab.errors.InputError` on ``field`` unless ``name`` is a Natural
    Earth country name, suggesting the close ones (:func:`close_countries`)."""
    from shieldlab.errors import InputError

    if name in set(country_names()):
        return
    hint = ", ".join(close_countries(name)) or "e.g. Turkey, Syria, Iran"
    raise InputError(f"unknown country {name!r} (Natural Earth names; close: {hint})", field=field)


def country_shape(name: str):
    """The country as a shapely (Multi)Polygon in lon/lat degrees."""
    from shapely.geometry import MultiPolygon, Polygon

    rings = country_rings(name)
    if not rings:
        require_country(name, "country")
    polys: dict[int, list[np.ndarray]] = {}
    for _, p, ring in rings:
        polys.setdefault(p, []).append(ring)
    shapes = [Polygon(r[0], r[1:]).buffer(0) for r in polys.values()]
    return shapes[0] if len(shapes) == 1 else MultiPolygon([g for s in shapes for g in getattr(s, "geoms", [s])])


@functools.lru_cache(maxsize=1)
def _country_parts() -> tuple[tuple[str, Any, tuple[float, float, float, float]], ...]:
    """(country, shapely Polygon, its bounds) of every polygon of every country, built once.
    A polygon across the antimeridian (Russia's, Fiji's) is made continuous and given twice,
    on both sides, as :func:`draw_base` draws it."""
    from shapely import affinity
    from shapely.geometry import Polygon

    d = _borders()
    names = d["names"]
    rings: dict[int, list[np.ndarray]] = {}
    for r in range(d["ring_polygon"].size):
        rings.setdefault(int(d["ring_polygon"][r]), []).append(
            d["lonlat"][d["ring_start"][r]:d["ring_start"][r + 1]].astype(float))
    out = []
    for p, rs in rings.items():
        rs = [r for r in rs if r.shape[0] >= 3]
        if not rs:
            continue
        across = any(np.abs(np.diff(r[:, 0])).max() > 180.0 for r in rs)
        if across:
            rs = [np.column_stack([np.degrees(np.unwrap(np.radians(r[:, 0]))), r[:, 1]]) for r in rs]
            mid = rs[0][:, 0].mean()
            rs = [r + [360.0 * np.round((mid - r[:, 0].mean()) / 360.0), 0.0] for r in rs]
        g = Polygon(rs[0], rs[1:]).buffer(0)
        if g.is_empty:
            continue
        parts = [g]
        if across:
            parts.append(affinity.translate(g, xoff=-360.0 if g.bounds[2] > 180.0 else 360.0))
        for q in parts:
            out.append((str(names[d["polygon_country"][p]]), q, tuple(q.bounds)))
    return tuple(out)


#: Cities named on a map panel (the most populous in its frame that find room).
MAP_CITIES = 12
_CITY = dict(fontsize=7, color="#1f1f1f")
_COUNTRY = dict(fontsize=7, color="#8c8c8c")


def _occupied(fig, ax, renderer, texts_only: bool = False) -> list[tuple[float, float, float, float]]:
    """Display boxes (x0, y0, x1, y1) [px] of the texts and the markers already on ``ax`` (the
    texts alone: ``texts_only``)."""
    boxes = []
    for t in ax.texts:
        if t.get_visible() and t.get_text():
            b = t.get_window_extent(renderer)
            # a text's box (its bbox patch is laid out only when drawn): its pad, ~0.3 em
            e = 0.3 * t.get_fontsize() * fig.dpi / 72.0 if t.get_bbox_patch() is not None else 0.0
            boxes.append((b.x0 - e, b.y0 - e, b.x1 + e, b.y1 + e))
    if texts_only:
        return boxes
    for child in ax.child_axes:  # an inset map: nothing of the map under it
        b = child.get_window_extent(renderer)
        boxes.append((b.x0, b.y0, b.x1, b.y1))
    for ln in ax.lines:
        if ln.get_marker() in (None, "None", "", " ") or not ln.get_visible():
            continue
        xy = np.column_stack([np.atleast_1d(ln.get_xdata()), np.atleast_1d(ln.get_ydata())]).astype(float)
        if xy.shape[0] > 50:
            continue
        r = 0.5 * ln.get_markersize() * fig.dpi / 72.0 + 1.0
        for x, y in ax.transData.transform(xy):
            boxes.append((x - r, y - r, x + r, y + r))
    legend = ax.get_legend()
    if legend is not None and legend.get_visible():  # a legend inside the map: nothing goes under it
        b = legend.get_window_extent(renderer)
        boxes.append((b.x0, b.y0, b.x1, b.y1))
    return boxes


class _ManyBoxes:
    """Many display boxes (x0, y0, x1, y1) [px] (the points along a map's lines: 10⁵ of them
    on a map of 26 routes), sorted by their left edge, so that a box is tested against only
    those whose left edge could lie under it; and a few more (``extra``: the texts and markers
    of the moment) tested one by one.  The answer is that of testing every box."""

    def __init__(self, boxes, extra: list | tuple = ()) -> None:
        b = np.asarray(boxes, float).reshape(-1, 4)
        b = b[np.isfinite(b).all(axis=1)]  # (a box with a nan meets nothing: leaving it out changes no answer)
        self.b = b[np.argsort(b[:, 0], kind="stable")]
        # a box reaching under x0 begins no further left than x0 less the widest (a hair over)
        self.widest = float((self.b[:, 2] - self.b[:, 0]).max()) * (1 + 1e-9) + 1e-6 if b.size else 0.0
        self.extra = extra

    def plus(self, extra: list) -> _ManyBoxes:
        """The same boxes with ``extra`` (a list, read as it stands at each test) besides."""
        out = _ManyBoxes.__new__(_ManyBoxes)
        out.b, out.widest, out.extra = self.b, self.widest, extra
        return out

    def meets(self, box) -> bool:
        """Whether ``box`` overlaps any of them."""
        if any(_meets(box, e) for e in self.extra):
            return True
        x0, y0, x1, y1 = box
        lo, hi = np.searchsorted(self.b[:, 0], (x0 - self.widest, x1))
        b = self.b[lo:hi]
        return bool(np.any((x0 < b[:, 2]) & (b[:, 0] < x1) & (y0 < b[:, 3]) & (b[:, 1] < y1)))


def _free(box, boxes, frame) -> bool:
    x0, y0, x1, y1 = box
    if x0 < frame.x0 + 2 or x1 > frame.x1 - 2 or y0 < frame.y0 + 2 or y1 > frame.y1 - 2:
        return False
    if isinstance(boxes, _ManyBoxes):
        return not boxes.meets(box)
    return not any(_meets(box, b) for b in boxes)


def _renderer(fig):
    """The figure's renderer, to lay text out on the page (Agg's where the canvas has none)."""
    get = getattr(fig.canvas, "get_renderer", None)
    if get is not None:
        return get()
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(int(fig.bbox.width), int(fig.bbox.height), fig.dpi)


def _text_size(ax, text: str, renderer, **kw) -> tuple[float, float]:
    t = ax.text(0.0, 0.0, text, **kw)
    b = t.get_window_extent(renderer)
    t.remove()
    return b.width, b.height


#: The eight places of a label around its point, in order of preference: the offset's
#: direction (its length set by the caller) and the text's alignment there.
_SPOTS = (((1.0, 0.0), "left", "center"), ((-1.0, 0.0), "right", "center"), ((0.0, 1.0), "center", "bottom"),
          ((0.0, -1.0), "center", "top"), ((0.7, 0.7), "left", "bottom"), ((-0.7, 0.7), "right", "bottom"),
          ((-0.7, -0.7), "right", "top"), ((0.7, -0.7), "left", "top"))


def _free_spot(x: float, y: float, w: float, h: float, d: float, px: float, boxes, frame, rings, labels=None,
               ok=None):
    """The first free place for a ``w`` x ``h`` [px] label of the point (``x``, ``y``) [px],
    ``d`` [pt] from it times each of ``rings`` in turn (``px``: pixels a point), clear of
    ``boxes`` and inside ``frame``, and beyond the first ring its leader line (from the point
    to the label) clear of the boxes ``labels`` (default ``boxes``: a line may pass over a
    marker, not through a name) and where given ``ok(box, ring, ox, oy)`` (the label's box, its
    ring and the leader's end [px]) true; or where no such place is, with a line through a
    name rather than none: ``(box, (dx, dy) [pt], ha, va, ring)``, or None."""
    labels = boxes if labels is None else labels
    for strict in (True, False):
        for box, (dx, dy), ha, va, ring, ox, oy in _spots(x, y, w, h, d, px, rings):
            if not _free(box, boxes, frame):
                continue
            if not strict or ((ring == rings[0] or _line_clear(x, y, ox, oy, d * px, labels))
                              and (ok is None or ok(box, ring, ox, oy))):
                return box, (dx, dy), ha, va, ring
        if len(rings) == 1:
            break
    return None


def _spots(x: float, y: float, w: float, h: float, d: float, px: float, rings):
    """The places of a ``w`` x ``h`` [px] label of the point (``x``, ``y``) [px], ring by ring
    (``d`` [pt] times each of ``rings``), each of :data:`_SPOTS` in turn: ``(box, (dx, dy) [pt],
    ha, va, ring, ox, oy)``, ``(ox, oy)`` [px] the end of its leader line."""
    for ring in rings:
        for (ux, uy), ha, va in _SPOTS:
            dx, dy = ring * d * ux, ring * d * uy
            ox, oy = x + dx * px, y + dy * px
            bx0 = ox if ha == "left" else ox - w if ha == "right" else ox - w / 2
            by0 = oy if va == "bottom" else oy - h if va == "top" else oy - h / 2
            yield (bx0 - 1, by0 - 1, bx0 + w + 1, by0 + h + 1), (dx, dy), ha, va, ring, ox, oy


def _best_spot(x: float, y: float, w: float, h: float, d: float, px: float, boxes, frame, own: np.ndarray,
               other: np.ndarray, line_ok):
    """Of every free place on :data:`_MARK_RINGS` (as :func:`_free_spot`), the best for a name
    that has no place of its own: nearer its ``own`` points than the ``other`` marks' [px] and
    with a leader line ``line_ok(box, ring, ox, oy)`` accepts, the nearest such; else one nearer
    its own, its line as it may be; else the nearest to its own points; None where none is free.
    Where no place was a name's own, the first free one had put Sofia's name west of Istanbul's
    circle and Istanbul's over Greece."""
    best, key = None, None
    for box, shift, ha, va, ring, ox, oy in _spots(x, y, w, h, d, px, _MARK_RINGS):
        if not _free(box, boxes, frame):
            continue
        mine = _box_distance(box, own).min() if own.size else 0.0
        theirs = _box_distance(box, other).min() if other.size else np.inf
        nearer = mine + 1.0 <= theirs and not _beside_another(box, own, other)
        k = (not nearer, not (nearer and line_ok(box, ring, ox, oy)), mine, ring)
        if key is None or k < key:
            best, key = (box, shift, ha, va, ring), k
    return best


def _box_distance(box, pts: np.ndarray) -> np.ndarray:
    """Distance [px] from the box (x0, y0, x1, y1) to each point of ``pts`` (n, 2) [px] (0 inside)."""
    dx = np.maximum(np.maximum(box[0] - pts[:, 0], pts[:, 0] - box[2]), 0.0)
    dy = np.maximum(np.maximum(box[1] - pts[:, 1], pts[:, 1] - box[3]), 0.0)
    return np.hypot(dx, dy)


def _crosses(a, b) -> bool:
    """Whether segments ``a`` and ``b`` ((x0, y0, x1, y1) each) cross (touching ends do not)."""
    def side(p, q, r) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    p1, p2, q1, q2 = a[:2], a[2:], b[:2], b[2:]
    return side(p1, p2, q1) * side(p1, p2, q2) < 0 and side(q1, q2, p1) * side(q1, q2, p2) < 0


def _apart(k: int, pts: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mark ``k``'s own points of ``pts`` (n, 2) [px] (``owner`` says whose each is), and the
    other marks' points, less those where this one is (a battery on its radar's site, a
    salvo's twin on its ground track): ``(own, other)``."""
    from scipy.spatial import cKDTree

    mine = owner == k
    own, other = pts[mine], pts[~mine]
    if other.size and own.size:
        # (a tree: all pairs of a long track's points and the others' took ~0.3 s a map)
        gap, _ = cKDTree(own).query(other, distance_upper_bound=2.0)
        other = other[~np.isfinite(gap)]
    return own, other


def _beside_another(box, own: np.ndarray, other: np.ndarray) -> bool:
    """Whether the name in ``box`` (x0, y0, x1, y1) [px] stands in line with another mark's
    point (``other``, (n, 2) [px]) just past either end, and with none of its ``own``: there
    it reads as that mark's ("sofia ◎ istanbul", Istanbul's name above its circle, level with
    Sofia's)."""
    if not other.size:
        return False
    h = box[3] - box[1]

    def level(pts: np.ndarray) -> np.ndarray:
        return (pts[:, 1] > box[1] - 0.25 * h) & (pts[:, 1] < box[3] + 0.25 * h)

    ends = (((other[:, 0] < box[0]) & (other[:, 0] > box[0] - 3.0 * h))
            | ((other[:, 0] > box[2]) & (other[:, 0] < box[2] + 3.0 * h)))
    return bool((level(other) & ends).any()) and not (own.size and level(own).any())


def _owned(own: np.ndarray, other: np.ndarray, x: float, y: float, leaders: list, near: bool = True,
           lines: bool = True):
    """The test a place for a mark's name (anchored at (``x``, ``y``) [px]) passes before any
    other (:func:`_free_spot`'s ``ok``): the name is no nearer another mark's points ``other``
    than its ``own`` (:func:`_apart`), and a leader line crosses no other leader and passes
    by no other mark's point (a name to the west of its neighbour's marker, its line across
    that one's, read as the neighbour's); without ``lines``, the nearness alone."""

    def ok(box, ring, ox, oy) -> bool:
        if near and other.size and own.size:
            # nearer its own than any other, at its edge and, by a margin, at its middle (a name
            # between two tracks, its end by its own, read as the other's)
            if _box_distance(box, other).min() < _box_distance(box, own).min() + 1.0:
                return False
            cx, cy = 0.5 * (box[0] + box[2]), 0.5 * (box[1] + box[3])
            if np.hypot(own[:, 0] - cx, own[:, 1] - cy).min() > 0.8 * np.hypot(other[:, 0] - cx,
                                                                                 other[:, 1] - cy).min():
                return False
            if _beside_another(box, own, other):
                return False
        if ring <= 1 or not lines:
            return True
        seg = (x, y, ox, oy)
        if any(_crosses(seg, s) for s in leaders):
            return False
        if other.size:  # the line's samples past the anchor: no other mark's point within 3 px
            t = np.linspace(0.0, 1.0, max(int(np.hypot(ox - x, oy - y) / 3.0), 2) + 1)[1:]
            line = np.column_stack([x + t * (ox - x), y + t * (oy - y)])
            by = np.hypot(line[:, None, 0] - other[None, :, 0], line[:, None, 1] - other[None, :, 1]).min(axis=1)
            if (by < 3.0).any():
                return False
        return True

    return ok


def _off_ends(ok, ends: np.ndarray, margin: float):
    """``ok`` (a place's test, as :func:`_owned` makes it), and the name's box at least
    ``margin`` [px] from each of ``ends`` (other lines' end points, (n, 2) [px])."""
    if not ends.size:
        return ok

    def test(box, ring, ox, oy) -> bool:
        return ok(box, ring, ox, oy) and bool(_box_distance(box, ends).min() >= margin)

    return test


def _plain(name: str) -> str:
    """A name without case, accents, punctuation or a closing "city": the asset
    ``kahramanmaras`` is the place ``Kahramanmaraş``, ``new-york`` is ``New York City``."""
    import unicodedata

    letters = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in letters if c.isalnum())
    return plain[:-4] if plain.endswith("city") and len(plain) > 4 else plain


def _line_clear(x0: float, y0: float, x1: float, y1: float, skip: float, boxes) -> bool:
    """Whether the segment from (``x0``, ``y0``) to (``x1``, ``y1``) [px], its first ``skip``
    [px] left out (the marker it starts at), crosses none of ``boxes``: a leader line drawn
    through another label reads as that label's."""
    n = max(int(np.hypot(x1 - x0, y1 - y0) / 3.0), 2)  # a sample every ~3 px
    for t in np.linspace(0.0, 1.0, n + 1):
        x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
        if np.hypot(x - x0, y - y0) < skip:
            continue
        if any(b[0] < x < b[2] and b[1] < y < b[3] for b in boxes):
            return False
    return True


#: How far out a marker's name may go, in steps of its offset: a cluster on a world map
#: (Europe's batteries, radars and assets on epaa-phase-4's) needs the outer rings, where a
#: name written over another ("berlin" over "warsaw") is the worse.
_MARK_RINGS = (1.0, 2.5, 4.0, 5.5, 7.0, 9.0, 11.0)


def _merged_marks(ax, marks, within_px: float) -> list:
    """``marks`` (as :func:`name_markers` takes them) with those of one point each whose
    markers lie within ``within_px`` [px] of an earlier one's on ``ax`` joined into that one's
    name, "a / b", in its style: two radars 1.5 km apart on a map 700 km across drew one marker
    over the other, and the hidden one's name stood by the other's marker as if it were its own."""
    ax.apply_aspect()
    out: list[list] = []
    at: list[np.ndarray] = []
    for mk in marks:
        lon, lat = mk[0], mk[1]
        if np.ndim(lon) or np.ndim(lat):  # a line's name: its own
            out.append(list(mk))
            at.append(np.array([np.nan, np.nan]))
            continue
        xy = ax.transData.transform((float(lon), float(lat)))
        near = [k for k, p in enumerate(at) if np.hypot(*(p - xy)) <= within_px]
        if near:
            out[near[0]][2] = f"{out[near[0]][2]} / {mk[2]}"
            out[near[0]][3] = max(out[near[0]][3], mk[3])
            continue
        out.append(list(mk))
        at.append(xy)
    return [tuple(m) for m in out]


def name_markers(fig, ax, marks, avoid=(), shapes=None, merge_within_px: float = 0.0) -> None:
    """Name the markers ``marks``, ``(lon, lat, text, marker size [pt], text style)`` each,
    already drawn on ``ax`` (``lon`` and ``lat`` may be arrays: points along a line, in order
    of preference, the first where the name finds room): each name in the first free of eight
    places around its marker, further out with a leader line where none is free, clear of one
    another, of the texts and markers already there, and inside the frame (at its marker's
    right, clipped, where no place is).  A place is first sought where the name is no nearer
    another mark than its own and its leader line crosses no other leader or mark
    (:func:`_owned`); where a crowd leaves no free place, one off the other names alone (over a
    marker); ``shapes``: per mark, the (n, 2) lon, lat [deg] points that are it (a
    threat's ground track; default its anchor points).  ``avoid``: display boxes (x0, y0,
    x1, y1) [px] a name keeps clear of where one of the first five rings allows (the lines of
    a map: :func:`line_boxes`).  A style's ``leader_color`` colours the leader line (else its
    text colour).  Run it once the figure's layout is final (colour bars and legends placed),
    before :func:`label_map`, whose cities then keep clear of these names.  ``merge_within_px``
    (with ``shapes`` None): marks whose markers lie that close [px] get one name between them
    (:func:`_merged_marks`)."""
    ax.apply_aspect()
    if merge_within_px > 0.0 and shapes is None:
        marks = _merged_marks(ax, marks, merge_within_px)
    renderer = _renderer(fig)
    frame = ax.get_window_extent(renderer)
    boxes = _occupied(fig, ax, renderer)
    names = _occupied(fig, ax, renderer, texts_only=True)
    lines = _ManyBoxes(avoid) if len(avoid) else None
    px = fig.dpi / 72.0
    (x_lo, x_hi), (y_lo, y_hi) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    given_shapes = shapes is not None
    if shapes is None:
        shapes = [np.column_stack([np.atleast_1d(m[0]), np.atleast_1d(m[1])]) for m in marks]
    pts = [ax.transData.transform(np.asarray(sh, float).reshape(-1, 2)) for sh in shapes]
    # where each line ends (a threat's impact dot or kill star): another's name keeps a line's
    # height off it, or "ghadr-istanbul#1 ●" read as naming the orange track that ends there
    ends = np.array([p[-1] for p in pts]) if given_shapes and pts else np.zeros((0, 2))
    owner = np.concatenate([np.full(len(p), k) for k, p in enumerate(pts)]) if pts else np.zeros(0, int)
    every = np.concatenate(pts) if pts else np.zeros((0, 2))
    leaders: list[tuple[float, float, float, float]] = []
    for k, (lon, lat, text, size, style) in enumerate(marks):
        # a line's name may stand by any of several points along it (in order of preference)
        cands = [(float(a), float(b)) for a, b in zip(np.atleast_1d(lon), np.atleast_1d(lat))
                 if x_lo <= a <= x_hi and y_lo <= b <= y_hi]
        if not cands:
            continue
        style = dict(style)
        ink = style.pop("leader_color", style.get("color", "#1f1f1f"))
        w, h = _text_size(ax, text, renderer, **style)
        # (a boxed text's patch reaches ~0.3 em past its text)
        e = 0.3 * style.get("fontsize", 7) * px if "bbox" in style else 0.0
        d = 0.5 * size + 2.5
        spot = None
        tries: list[tuple] = []
        clear = lines.plus(boxes) if lines is not None else boxes
        if lines is not None:
            tries += [(c, clear, _MARK_RINGS[:5]) for c in cands]
        tries += [(c, boxes, _MARK_RINGS) for c in cands[:1]]
        # owned places first, everywhere the name may stand; then one nearer its own mark than
        # any other, whatever its line crosses; then (below) the free one nearest its own mark
        # against the others (a place whose line crossed none, wherever it stood, had swapped
        # Sofia's and Istanbul's names)
        tries += [(c, clear, _MARK_RINGS, True, False) for c in cands]
        own, other = _apart(k, every, owner)
        # the other lines' ends, but where this one ends too (a salvo's twins)
        far = ends[np.arange(len(ends)) != k] if len(ends) else ends
        if far.size and len(pts[k]):
            far = far[np.hypot(*(far - pts[k][-1]).T) > 2.0]
        for (lon, lat), obstacles, rings, *tier in tries:
            x, y = ax.transData.transform((lon, lat))
            ok = _off_ends(_owned(own, other, x, y, leaders, *tier), far, 2.0 * h)
            spot = _free_spot(x, y, w + 2 * e, h + 2 * e, d, px, obstacles, frame, rings, names, ok=ok)
            if spot is not None and ok(spot[0], spot[4], x + spot[1][0] * px, y + spot[1][1] * px):
                break
            spot = None
        if spot is None:  # the free place nearest its own mark against the others, off the lines
            lon, lat = cands[0]  # to avoid where one is; then off the names alone, over a marker (a
            x, y = ax.transData.transform((lon, lat))  # name cut at the frame read as "ghadr-ist")
            for obstacles in ([clear] if lines is not None else []) + [boxes, names]:
                spot = _best_spot(x, y, w + 2 * e, h + 2 * e, d, px, obstacles, frame, own, other,
                                  _owned(own, other, x, y, leaders, near=False))
                if spot is not None:
                    break
        if spot is None:
            ax.annotate(text, (lon, lat), xytext=(d, 0), textcoords="offset points", ha="left",
                        va="center", annotation_clip=True, clip_on=True, **style)
            continue
        box, (dx, dy), ha, va, ring = spot
        if ring > 1:
            leaders.append((x, y, x + dx * px, y + dy * px))
        # (the box is the text's with its patch: the text sits ``e`` inside it)
        dx += e / px * (1 if ha == "left" else -1 if ha == "right" else 0)
        dy += e / px * (1 if va == "bottom" else -1 if va == "top" else 0)
        leader = dict(arrowstyle="-", color=ink, lw=0.5, shrinkA=1.0, shrinkB=0.5 * size) if ring > 1 else None
        ax.annotate(text, (lon, lat), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                    arrowprops=leader, **style)
        boxes.append(box)
        names.append(box)


def line_boxes(ax, lines, every_px: float = 4.0) -> np.ndarray:
    """Small display boxes (n, 4) (x0, y0, x1, y1) [px] every ``every_px`` along each line of
    ``lines`` ((n, 2) lon, lat [deg]) on ``ax``, segment by segment, both its ends included:
    what :func:`name_markers` keeps its names off (a name written over another threat's ground
    track read as that track's).  One pass of array operations over all segments (a Python
    loop over 10⁵ points took 2.8 s of kalibr-caspian-2015's run map)."""
    ax.apply_aspect()  # (the page's positions as drawn: the aspect may still move the axes)
    r = 1.5
    segs = [ax.transData.transform(np.asarray(ln, float).reshape(-1, 2)) for ln in lines]
    segs = [np.concatenate([xy[:-1], xy[1:]], axis=1) for xy in segs if len(xy) > 1]
    if not segs:
        return np.zeros((0, 4))
    s = np.concatenate(segs)  # (S, 4): x0, y0, x1, y1 of every segment
    n = np.maximum((np.hypot(s[:, 2] - s[:, 0], s[:, 3] - s[:, 1]) / every_px).astype(np.int64), 1)
    seg = np.repeat(np.arange(s.shape[0]), n + 1)
    j = np.arange(seg.size) - np.repeat(np.cumsum(n + 1) - (n + 1), n + 1)
    # np.linspace(0, 1, n + 1) as NumPy computes it: j (1 / n), the last exactly 1
    t = j * (1.0 / n[seg]) + 0.0
    t = np.where(j == n[seg], 1.0, t)
    x0, y0, x1, y1 = s[seg].T
    x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
    return np.column_stack([x - r, y - r, x + r, y + r])


#: A place this near [km] a larger place a map names is not named: GeoNames lists a city's
#: districts apart (Çankaya by Ankara, a district municipality of its own), and a suburb so
#: near its city says nothing the city's name does not.
SECTION_KM = 15.0


def _km_apart(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    """Great-circle distance [km] on the mean sphere between two points [deg]."""
    from shieldlab import earth

    return float(earth.great_circle_distance(*np.radians([lat0, lon0, lat1, lon1]))) / 1e3


def label_map(fig, ax, extent, n_cities: int = MAP_CITIES, first=(), keep_out=()) -> None:
    """Name the countries and the ``n_cities`` largest cities in ``extent`` (lon0, lon1,
    lat0, lat1) [deg] on ``ax``, clear of the texts and markers already there: run it when
    the figure is otherwise complete (colour bars and legends placed), as the labels are
    laid out on the page.  ``first``: places (:class:`shieldlab.analysis.places.Place`) named
    before the others, such as the largest in a defended area; ``keep_out``: boxes (lon0, lon1,
    lat0, lat1) [deg] where no city is named (an inset's close view names what is there)."""
    from matplotlib import patheffects
    from shapely.geometry import box as sbox
    from shapely.ops import polylabel

    from shieldlab.analysis import places

    ax.apply_aspect()
    renderer = _renderer(fig)
    frame = ax.get_window_extent(renderer)
    boxes = _occupied(fig, ax, renderer)
    texts = _occupied(fig, ax, renderer, texts_only=True)  # (a leader line may cross a marker, not a name)
    legend = ax.get_legend()
    under = legend.get_window_extent(renderer) if legend is not None and legend.get_visible() else None
    insets = [child.get_window_extent(renderer) for child in ax.child_axes]
    px = fig.dpi / 72.0
    halo = [_halo(2.2)]
    lon0, lon1, lat0, lat1 = extent
    # cities: a dot and the name in the first free place of eight around it
    d = 3.5  # label offset from the dot [pt]
    placed = 0
    first = [p for p in first if lon0 <= p.lon_deg <= lon1 and lat0 <= p.lat_deg <= lat1]
    ids = {p.geonameid for p in first}
    found = places.places_in(lon0, min(lon1, 180.0), lat0, lat1, limit=8 * n_cities)
    if lon1 > 180.0:  # across the antimeridian: the places east of it, at their longitudes past 180
        found += [dataclasses.replace(p, lon_deg=p.lon_deg + 360.0)
                  for p in places.places_in(-180.0, lon1 - 360.0, lat0, lat1, limit=8 * n_cities)]
        found.sort(key=lambda p: -p.population)
    # a place the map already names by a marker of its own (a defended asset "istanbul") is not
    # named twice
    named = [(_plain(t.get_text()), *t.xy) for t in ax.texts if hasattr(t, "xy") and t.get_text()]
    cands = [p for p in first + [p for p in found if p.geonameid not in ids]
             if not any(n == _plain(p.name) and abs(lo - p.lon_deg) < 0.5 and abs(la - p.lat_deg) < 0.5
                        for n, lo, la in named) and not any(_within(b, p.lon_deg, p.lat_deg) for b in keep_out)]
    n_top = len(first) + max(1, n_cities // 4)
    named_at: list[tuple[float, float, int]] = []  # (lat, lon, population) of the places named
    for k, pl in enumerate(cands):
        if placed >= n_cities:
            break
        if any(p > pl.population and _km_apart(la, lo, pl.lat_deg, pl.lon_deg) < SECTION_KM
               for la, lo, p in named_at):
            continue  # a section of a city named already (GeoNames lists Ankara's Çankaya apart)
        x, y = ax.transData.transform((pl.lon_deg, pl.lat_deg))
        r = 2.0 * px
        dot = (x - r, y - r, x + r, y + r)
        # the places of ``first`` and the largest few others are named even where a marker or
        # a label of the map sits on them, further out if need be; the others only with room
        # next to their dot
        top = k < n_top
        if not (top or _free(dot, boxes, frame)):
            continue
        if under is not None and under.x0 <= x <= under.x1 and under.y0 <= y <= under.y1:
            continue  # a place under the legend is not named, however large
        if any(_within((b.x0, b.x1, b.y0, b.y1), x, y) for b in insets):
            continue  # nor one under an inset map (its name had stood by the inset's edge)
        w, h = _text_size(ax, pl.name, renderer, **_CITY)
        spot = _free_spot(x, y, w, h, d, px, boxes + [dot], frame, (1.0, 3.0, 5.0) if top else (1.0,), texts)
        if spot is None:
            continue
        lab, (dx, dy), ha, va, ring = spot
        ax.plot(pl.lon_deg, pl.lat_deg, marker="o", ms=3.2, mfc="#1f1f1f", mec="white", mew=0.6, ls="none",
                zorder=5)
        # a name put further out than next to its dot: a thin leader line to the dot
        leader = dict(arrowstyle="-", color="#1f1f1f", lw=0.5, shrinkA=1.0, shrinkB=2.0) if ring > 1 else None
        ax.annotate(pl.name, (pl.lon_deg, pl.lat_deg), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                    zorder=5.5, path_effects=halo, annotation_clip=True, arrowprops=leader, **_CITY)
        boxes += [dot, lab]
        texts.append(lab)
        named_at.append((pl.lat_deg, pl.lon_deg, pl.population))
        placed += 1
    # countries: the name at the visible part's pole of inaccessibility, where it fits inside
    view = sbox(lon0, lat0, lon1, lat1)
    inv = ax.transData.inverted()
    span = max(lon1 - lon0, lat1 - lat0)
    seen: dict[str, tuple[float, Any]] = {}
    parts = list(_country_parts())
    if lon1 > 180.0:  # across the antimeridian: the countries east of it, moved past 180
        from shapely import affinity

        parts += [(name, affinity.translate(g, 360.0), (b0 + 360.0, b1, b2 + 360.0, b3))
                  for name, g, (b0, b1, b2, b3) in parts if b0 < lon1 - 360.0]
    for name, g, (b0, b1, b2, b3) in parts:
        if b2 < lon0 or b0 > lon1 or b3 < lat0 or b1 > lat1:
            continue
        part = g.intersection(view)
        for q in getattr(part, "geoms", [part]):
            if q.geom_type == "Polygon" and q.area > seen.get(name, (0.0, None))[0]:
                seen[name] = (q.area, q)
    for name, (area, q) in sorted(seen.items(), key=lambda kv: -kv[1][0]):
        if area < 1e-3 * span * span:
            continue
        text = name.upper()
        w, h = _text_size(ax, text, renderer, **_COUNTRY)
        c = polylabel(q, tolerance=span / 400.0)
        cx, cy = ax.transData.transform((c.x, c.y))
        for oy in (0.0, 1.3 * h, -1.3 * h, 2.6 * h, -2.6 * h):
            lab = (cx - w / 2 - 1, cy + oy - h / 2 - 1, cx + w / 2 + 1, cy + oy + h / 2 + 1)
            centre = inv.transform((cx, cy + oy))
            if _free(lab, boxes, frame) and _inside_at_corners(lab, inv, q) and q.contains(_point(*centre)):
                ax.text(*centre, text, ha="center", va="center", zorder=3.5, clip_on=True,
                        path_effects=[patheffects.withStroke(linewidth=1.6, foreground="white", alpha=0.7)],
                        **_COUNTRY)
                boxes.append(lab)
                break


def _inside_at_corners(lab, inv, area) -> bool:
    """Whether the display box ``lab`` (x0, y0, x1, y1) [px] lies inside ``area`` (a shapely
    geometry in lon/lat [deg]) at its four corners, read through ``inv`` (display to data)."""
    corners = inv.transform([(lab[0], lab[1]), (lab[2], lab[1]), (lab[0], lab[3]), (lab[2], lab[3])])
    return all(area.contains(_point(*xy)) for xy in corners)


def _point(x: float, y: float):
    from shapely.geometry import Point

    return Point(x, y)


def asset_ring(ax, lat_deg: float, lon_deg: float, radius_km: float, colour: str, **kw):
    """A defended asset's own radius on ``ax`` [deg axes]: a thin dotted circle of
    ``radius_km`` about it (a marker of one size drew Bucharest's 20 km and Constanța's 12 km
    alike); on a map too wide to show it the marker alone says where it is."""
    from shieldlab import earth

    az = np.linspace(0.0, 2.0 * np.pi, 73)
    la, lo = earth.destination(math.radians(lat_deg), math.radians(lon_deg), az, 1e3 * radius_km)
    # dotted: a dashed outline is a C2 node's sector on the run map
    return ax.plot(np.degrees(np.unwrap(lo)), np.degrees(la), color=colour, lw=1.0, ls=":", **kw)[0]


def lon_tick_text(lon_deg: float) -> str:
    """A longitude tick's label, east of Greenwich positive, wrapped into (-180, 180]: a map
    across the antimeridian (``--bbox`` 170 to 200) read "185" for 175° W."""
    w = (float(lon_deg) + 180.0) % 360.0 - 180.0
    w = 180.0 if w == -180.0 else w
    return f"{w:g}".replace("-", "−")


def _axes_box(ax, lon0, lon1, lat0, lat1):
    from matplotlib.ticker import FuncFormatter

    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_aspect(1.0 / np.cos(np.radians(0.5 * (lat0 + lat1))))
    if lon0 < -180.0 or lon1 > 180.0:  # (else matplotlib's own labels, as every other axis)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: lon_tick_text(v)))
    ax.set_xlabel("longitude [deg E]")
    ax.set_ylabel("latitude [deg N]")
    ax.tick_params(labelsize=8)


def draw_base(ax, lon0, lon1, lat0, lat1, land="#efece4", sea="#d9e6ee", border="#8a8a8a"):
    """Sea background, land fill and country borders inside the box."""
    from matplotlib.collections import LineCollection, PolyCollection

    ax.set_facecolor(sea)
    pad = 5.0
    rings = []
    for _, _, r in country_rings():
        if r.shape[0] > 1 and np.abs(np.diff(r[:, 0])).max() > 180.0:
            # a ring across the antimeridian (Russia's Chukotka, Fiji): make it continuous and
            # draw it on both sides
            r = r.copy()
            r[:, 0] = np.degrees(np.unwrap(np.radians(r[:, 0])))
            rings += [r, r - [360.0, 0.0]] if r[:, 0].max() > 180 else [r, r + [360.0, 0.0]]
        else:
            rings.append(r)
    if lon1 > 180.0:  # a box across the antimeridian, its longitudes past 180: the land east of it
        rings += [r + [360.0, 0.0] for r in rings if r[:, 0].min() < lon1 - 360.0 + pad]
    rings = [r for r in rings
             if r[:, 0].max() >= lon0 - pad and r[:, 0].min() <= lon1 + pad
             and r[:, 1].max() >= lat0 - pad and r[:, 1].min() <= lat1 + pad]
    ax.add_collection(PolyCollection(rings, facecolors=land, edgecolors="none", zorder=0))
    ax.add_collection(LineCollection([np.vstack([r, r[:1]]) for r in rings], colors=border, linewidths=0.45,
                                     zorder=3))
    _axes_box(ax, lon0, lon1, lat0, lat1)


#: Map file formats by file extension.
MAP_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
# no creation dates, fixed SVG ids: the same map, the same bytes
_METADATA = {"png": {}, "svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None}}


def map_format(path: str | Path, field: str = "--out") -> str:
    """The format a map at ``path`` is written in, from its extension; anything but
    ``.png``, ``.svg`` or ``.pdf`` raises :class:`InputError` naming ``field``."""
    from shieldlab.errors import InputError

    suffix = Path(path).suffix.lower()
    if suffix not in MAP_FORMATS:
        got = f"{suffix!r}" if suffix else "no extension"
        raise InputError(f"a map is written as {', '.join(MAP_FORMATS)}; {str(path)!r} has {got}", field=field)
    return MAP_FORMATS[suffix]


def _under_the_axes(fig, axes, footer: str, legend=None) -> None:
    """Place ``legend`` (a figure legend, upper centre) and then the ``footer`` line under the
    lowest of ``axes`` with their tick and axis labels, measured on the drawn page, so that
    nothing overlaps whatever the figure's shape (a wide, short map leaves little room)."""
    renderer = _renderer(fig)
    h = fig.bbox.height
    px = fig.dpi / 72.0
    y = min(ax.get_tightbbox(renderer).y0 for ax in axes) - 4.0 * px
    if legend is not None:
        legend.set_bbox_to_anchor((0.5, y / h), transform=fig.transFigure)
        y = legend.get_window_extent(renderer).y0 - 3.0 * px
    # wrapped at the figure's edge: a one-line footer wider than a one-map figure widened the
    # saved page (a tight bounding box) and left a third of it blank
    fig.text(0.01, y / h, footer, va="top", fontsize=6.5, color="#555555", wrap=True)


def _save(fig, path: str | Path, dpi: int = 120) -> None:
    """Write ``fig`` atomically in the format its extension names."""
    import matplotlib

    fmt = map_format(path)
    with matplotlib.rc_context({"svg.hashsalt": "shieldlab"}), atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", metadata=_METADATA[fmt])


def _aspect(view) -> float:
    """Height over width of a map of ``view`` (lon0, lon1, lat0, lat1) [deg], true to scale at its middle."""
    lon0, lon1, lat0, lat1 = view
    return (lat1 - lat0) / max((lon1 - lon0) * np.cos(np.radians(0.5 * (lat0 + lat1))), 1e-6)


def plain_text_figures() -> None:
    """Draw with matplotlib's Agg backend, every text as written: mathtext off (a name is free
    text, and a ``$`` in it was read as TeX, which crashed the drawing of a map or a report:
    ``a$\\x$``, or set two words in italics).  The maps and reports use no mathtext of their
    own; the setting is the process's, as the backend is."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    matplotlib.rcParams["text.parse_math"] = False


def _figure_views(views):
    """A figure of one panel per view (lon0, lon1, lat0, lat1) [deg], in order: up to three
    to a row, each row as tall as its tallest map needs; among several, a wide map (a world
    map beside regional ones) takes a row of its own, two columns wide or more, and alone,
    it is twice a column's width.  Returns ``(figure, axes)``."""
    plain_text_figures()
    import matplotlib.pyplot as plt

    n = len(views)
    wide = [n > 1 and _aspect(v) < 0.75 for v in views]
    cols = 1 if n == 1 else max(min(max(n - sum(wide), 1), 3), 2 if any(wide) else 1)
    rows: list[list[tuple[int, int]]] = []  # (panel, columns it spans) by row
    row: list[tuple[int, int]] = []
    for k in range(n):
        if wide[k]:
            rows += ([row] if row else []) + [[(k, cols)]]
            row = []
            continue
        row.append((k, 1))
        if len(row) == cols:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    w = 12.8 if n == 1 and _aspect(views[0]) < 0.75 else 6.4  # a column [in] (a world map alone: two wide)
    heights = [max(min(w * span * _aspect(views[k]), 9.0) for k, span in r) for r in rows]
    gap = 1.5  # between rows: a panel's title of up to four lines and the axis labels above it [in]
    fig = plt.figure(figsize=(w * cols, sum(heights) + gap * (len(rows) - 1) + 0.6))
    gs = fig.add_gridspec(len(rows), cols, height_ratios=heights,
                          hspace=gap / float(np.mean(heights)) if len(rows) > 1 else None)
    axes: list = [None] * n
    for i, r in enumerate(rows):
        c = 0
        for k, span in r:
            axes[k] = fig.add_subplot(gs[i, c:c + span])
            c += span
    return fig, axes


def _close_row_gaps(fig, axes, bar=None) -> None:
    """Take out of ``fig`` the height its rows of true-to-scale ``axes`` leave blank: a row's
    maps are narrower than :func:`_figure_views` allows for (the colour bar and the gaps between
    columns take their share), so, true to scale, they are shorter than their row, and a band
    was left blank under each row.  Each row becomes as tall as its tallest map, the rows keep
    their gaps, the figure loses the rest; the colour bar ``bar`` spans the maps as before."""
    H = fig.get_figheight()
    cells, boxes = [], []
    for ax in axes:
        cells.append(ax.get_position(original=True))
        ax.apply_aspect()
        boxes.append(ax.get_position())
    tops = sorted({round(c.y1, 6) for c in cells}, reverse=True)
    row = [tops.index(round(c.y1, 6)) for c in cells]
    slack = [min((cells[k].height - boxes[k].height) * H for k in range(len(axes)) if row[k] == i) for i in
             range(len(tops))]
    cut = sum(slack)
    if cut < 0.05:  # [in]
        return
    H2 = H - cut
    low, high = np.inf, -np.inf
    for k, ax in enumerate(axes):
        # from the figure's top down to the cell, less the slack of the rows above it [in]
        top = H2 - (H - cells[k].y1 * H - sum(slack[:row[k]]))
        h = cells[k].height * H - slack[row[k]]
        ax.set_position([cells[k].x0, (top - h) / H2, cells[k].width, h / H2])
        low, high = min(low, (top - h) / H2), max(high, top / H2)
    fig.set_figheight(H2)
    for ax in axes:
        ax.apply_aspect()
    if bar is not None:
        b = bar.get_position()
        mid, span = 0.5 * (low + high), (b.height * H / H2)
        span = min(span, 0.75 * (high - low)) if high > low else span
        bar.set_position([b.x0, mid - 0.5 * span, b.width, span])


def _one_panel(g):
    """A one-panel map of grid ``g`` with its base drawn: ``(figure, axes, extent)``, the
    extent (lon0, lon1, lat0, lat1) [deg] reaching half a step past the outer nodes."""
    plain_text_figures()
    import matplotlib.pyplot as plt

    lat0, lat1 = float(g.lat_deg[0]), float(g.lat_deg[-1])
    lon0, lon1 = float(g.lon_deg[0]), float(g.lon_deg[-1])
    w = 6.4  # [in]
    fig, ax = plt.subplots(figsize=(w, min(w * _aspect((lon0, lon1, lat0, lat1)), 9.0) + 0.6))
    half = 0.5 * g.step_deg
    extent = (lon0 - half, lon1 + half, lat0 - half, lat1 + half)
    draw_base(ax, *extent)
    return fig, ax, extent


def area_pair_text(part_km2: float, whole_km2: float) -> str:
    """``"<part> of <whole>"`` in one unit chosen by the larger: M km² from 1 M km² up, else km²;
    a part under 0.1 M km² in km² whatever the whole (a lofted shot's 74,496 km² read
    "0.07 M km²", its table beside it 74,496)."""
    if max(part_km2, whole_km2) < 1e6:
        return f"{part_km2:,.0f} km² of {whole_km2:,.0f} km²"
    part = f"{part_km2 / 1e6:.2f} M km²" if part_km2 >= 1e5 else f"{part_km2:,.0f} km²"
    return f"{part} of {whole_km2 / 1e6:.2f} M km²"


def _people_note(step_deg: float) -> str:
    """What the people on a footprint map are, in the map's footer: a place counts as its
    cell does, so one near the defended edge of a coarse grid can fall either side."""
    return (f"the populations of the GeoNames places of 15,000+ whose point is in a defended cell ({step_deg:g}° "
            f"cells, ~{111.2 * step_deg:,.0f} km: a place near the defended edge counts as its cell does; a city's "
            "sections GeoNames lists apart, where not left out, count again)")


def _people_line(pop) -> str:
    """``"3.42 M people in 57 places (Gaziantep, Adana, Kahramanmaraş, ...)"``."""
    from shieldlab.analysis.places import people_text

    if not pop.n_places:
        return "no town of 15,000+ inside"
    names = ", ".join(name for name, _ in pop.largest[:3]) + (", ..." if pop.n_places > 3 else "")
    return f"{people_text(pop.population)} people in {pop.n_places:,} place{'s' if pop.n_places > 1 else ''} ({names})"


#: A panel that shows a site's part of the map: only where that part is at most this share of
#: the map's area (a map of sites of one reach shows the whole map on every panel).
CLOSE_VIEW_SHARE = 0.5

#: Grid nodes along a close view's longer side below which its panel says its cells are coarse.
COARSE_NODES = 40


def _nodes_across(view, step_deg: float) -> float:
    lon0, lon1, lat0, lat1 = view
    return max((lon1 - lon0) * np.cos(np.radians(0.5 * (lat0 + lat1))), lat1 - lat0) / step_deg


def site_view(fp, k: int, extent) -> tuple[float, float, float, float]:
    """The part of the map ``extent`` (lon0, lon1, lat0, lat1) [deg] that site ``k``'s panel
    shows: the cells its threats reach or a battery defends, its launch point and the batteries
    that engage its threats, with a margin of a twentieth of the span (at least a cell); the
    whole map where that part is more than :data:`CLOSE_VIEW_SHARE` of it; and room round the
    launch point (a twentieth of the span, at least 1.5°), past the grid's edge if need be.  A map made for an
    ICBM's reach otherwise drew a short-range missile's few cells in one corner of a world map,
    its Europe's names spread over the world on leader lines."""
    g, s = fp.grid, fp.sites[k]
    rows, cols = np.nonzero(s.threatened | s.defended)
    if rows.size == 0:
        return extent
    half = 0.5 * g.step_deg
    lons = [float(g.lon_deg[cols.min()]) - half, float(g.lon_deg[cols.max()]) + half, s.site.lon_deg]
    lats = [float(g.lat_deg[rows.min()]) - half, float(g.lat_deg[rows.max()]) + half, s.site.lat_deg]
    for b, bat in enumerate(fp.batteries):
        if b < s.by_battery.shape[0] and s.by_battery[b].any():
            lons.append(bat["lon_deg"])
            lats.append(bat["lat_deg"])
    lon0, lon1, lat0, lat1 = min(lons), max(lons), min(lats), max(lats)
    mx, my = max(0.05 * (lon1 - lon0), g.step_deg), max(0.05 * (lat1 - lat0), g.step_deg)
    view = (max(lon0 - mx, extent[0]), min(lon1 + mx, extent[1]), max(lat0 - my, extent[2]),
            min(lat1 + my, extent[3]))
    share = (view[1] - view[0]) * (view[3] - view[2]) / ((extent[1] - extent[0]) * (extent[3] - extent[2]))
    view = view if share <= CLOSE_VIEW_SHARE else extent
    # room round the launch point, past the grid's edge if need be (the grid's box keeps a margin
    # of its span, and epaa-phase-2's Tabriz stood on the frame, its ring of minimum range cut)
    m = max(0.05 * max(view[1] - view[0], view[3] - view[2]), 1.5)
    return (min(view[0], s.site.lon_deg - m), max(view[1], s.site.lon_deg + m),
            max(min(view[2], s.site.lat_deg - m), -90.0), min(max(view[3], s.site.lat_deg + m), 90.0))


def _zoomed(view, extent) -> bool:
    """Whether ``view`` shows less of the map ``extent`` than all of it (a site's close view)."""
    w = min(view[1], extent[1]) - max(view[0], extent[0])
    h = min(view[3], extent[3]) - max(view[2], extent[2])
    return w * h < 0.99 * (extent[1] - extent[0]) * (extent[3] - extent[2])


def _untracked(s) -> np.ndarray:
    """Site footprint ``s``'s cells in reach and not defended where no system is expected to
    confirm a track (n_lat, n_lon) bool: none under a fixed cue.  They had looked like those
    out of every battery's envelope, though there the sensors, not the batteries, fall short."""
    if s.cue_system is None:
        return np.zeros(s.threatened.shape, bool)
    return s.threatened & ~s.defended & ~(np.isfinite(s.cue_s) & (s.cue_system >= 0))


def _threatened_in_view(g, s, view, carry: bool = True):
    """Site footprint ``s``'s threatened nodes on grid ``g`` carried past the grid's edge over
    ``view`` (lon0, lon1, lat0, lat1) [deg], on nodes of the grid's step: ``(lon (n_lon,),
    lat (n_lat,), threatened (n_lat, n_lon), extent)``.  The grid's own nodes keep their
    answer; past them a node is threatened where its distance from the launch point lies
    between the nearest and the farthest threatened node's (the missile's reach, 1.05 × its
    range as the footprint aims, where the grid holds no ground past its threatened nodes).
    Nothing there is defended: the grid's box holds all the ground defended.  A panel that
    keeps room round a launch point past the grid's edge otherwise showed that ground as out
    of reach, and the reach's line ended at the edge.  ``carry`` False (a box the user gave,
    which need not hold all the ground defended): nothing is carried past the grid."""
    step = g.step_deg or 1.0
    lon0, lon1, lat0, lat1 = float(g.lon_deg[0]), float(g.lon_deg[-1]), float(g.lat_deg[0]), float(g.lat_deg[-1])

    def nodes(first, last, lo, hi):  # the grid's nodes, and more of its step out to the view's edges
        before = max(int(np.ceil((first - lo) / step - 0.5)), 0)
        after = max(int(np.ceil((hi - last) / step - 0.5)), 0)
        return before, after

    wb, wa = nodes(lon0, lon1, view[0], view[1])
    sb, sa = nodes(lat0, lat1, max(view[2], -90.0), min(view[3], 90.0))
    sb, sa = min(sb, int((lat0 + 90.0) / step)), min(sa, int((90.0 - lat1) / step))  # no node past a pole
    lon = np.concatenate([lon0 - step * np.arange(wb, 0, -1), g.lon_deg, lon1 + step * np.arange(1, wa + 1)])
    lat = np.concatenate([lat0 - step * np.arange(sb, 0, -1), g.lat_deg, lat1 + step * np.arange(1, sa + 1)])
    threatened = np.zeros((lat.size, lon.size), bool)
    inner = _inner(lat, lon, g)
    threatened[inner] = s.threatened.ravel()
    if (wb or wa or sb or sa) and s.threatened.any() and carry:
        from shieldlab import earth

        site = s.site
        R = earth.great_circle_distance(np.radians(site.lat_deg), np.radians(site.lon_deg), np.radians(lat)[:, None],
                                        np.radians(lon)[None, :])
        R = np.broadcast_to(R, threatened.shape)
        r = R[inner].reshape(s.threatened.shape)[s.threatened]
        near, far = float(r.min()), float(r.max())
        # the reach as the grid found it where the grid holds ground past it, else as aimed
        if not (R[inner] > far + np.radians(step) * earth.R_EARTH_MEAN).any():
            far = 1.05e3 * site.missile.max_range_km
        rule = (R >= near) & (R <= far)
        threatened = np.where(inner, threatened, rule)
    half = 0.5 * step
    return lon, lat, threatened, (lon[0] - half, lon[-1] + half, lat[0] - half, lat[-1] + half)


def _inner(lat, lon, g) -> np.ndarray:
    """(n_lat, n_lon) mask of the nodes ``lat`` x ``lon`` that are grid ``g``'s own (a block,
    in ``g``'s order)."""
    i = np.searchsorted(lat, g.lat_deg[0])
    j = np.searchsorted(lon, g.lon_deg[0])
    m = np.zeros((lat.size, lon.size), bool)
    m[i:i + g.lat_deg.size, j:j + g.lon_deg.size] = True
    return m


def _site_layers(ax, fp, s, extent, view, cmap, norm):
    """Draw site ``s``'s footprint of ``fp`` on ``ax`` within ``view`` (lon0, lon1, lat0, lat1)
    [deg]: the base map, the threatened cells' veil, P(intercept) over the defended cells
    (``cmap``, ``norm``), the missile's reach, the batteries, sensors and assets, and the
    launch point, named where it is in the view.  The grid's images span ``extent``.  Returns
    the P(intercept) image (for a colour bar)."""
    from matplotlib.colors import ListedColormap

    g = fp.grid
    draw_base(ax, *view)
    # threatened but not defended: a red veil (and the reach's line), over the view's part past
    # the grid too; defended: P(intercept) colour scale
    given = getattr(fp, "grid_given", False)  # a box the user gave (--bbox, --region)
    lon, lat, threatened, ext = _threatened_in_view(g, s, view, carry=not given)
    undefended = np.where(threatened, 1.0, np.nan)
    undefended[_inner(lat, lon, g)] = np.where(s.threatened & ~s.defended, 1.0, np.nan).ravel()
    ax.imshow(undefended, origin="lower", extent=ext, cmap=ListedColormap(["#d7301f"]), alpha=0.18,
              interpolation="nearest", zorder=1, aspect="auto")
    p = np.where(s.defended, s.p_intercept, np.nan)
    mesh = ax.imshow(p, origin="lower", extent=extent, cmap=cmap, norm=norm, alpha=0.8,
                     interpolation="nearest", zorder=2, aspect="auto")
    inside = extent[0] <= view[0] and view[1] <= extent[1] and extent[2] <= view[2] and view[3] <= extent[3]
    untracked = _untracked(s)
    if untracked.any():  # in reach, and no system expected to give a track there: hatched
        import matplotlib

        with matplotlib.rc_context({"hatch.color": "#8b1a1a", "hatch.linewidth": 0.6}):
            ax.contourf(g.lon_deg, g.lat_deg, untracked.astype(float), levels=[0.5, 1.5], colors="none",
                        hatches=["////"], zorder=1.5)
        if not given and not inside:
            # the veil runs on past the grid, the hatching (the grid's answer) stops at its edge: a
            # straight edge of hatching read as the radars' coverage ending there
            ax.plot([extent[0], extent[1], extent[1], extent[0], extent[0]],
                    [extent[2], extent[2], extent[3], extent[3], extent[2]], color="#8b1a1a", lw=0.7, ls=":",
                    zorder=3.5, label="grid's edge: no hatching computed past it")
    _axes_box(ax, *view)  # (the images' own aspect and limits undone: the panel's view, true to scale)
    if given and not inside:
        # the panel runs past a box the user gave: what lies past it was not computed, veiled (a
        # blank ground there read as "not threatened"), its edge dark enough to show over the cells
        from matplotlib.patches import Rectangle

        v0, v1, v2, v3 = view
        e0, e1, e2, e3 = extent
        for x, y, w, h in ((v0, v2, e0 - v0, v3 - v2), (e1, v2, v1 - e1, v3 - v2),
                           (e0, v2, e1 - e0, e2 - v2), (e0, e3, e1 - e0, v3 - e3)):
            if w > 0 and h > 0:
                ax.add_patch(Rectangle((x, y), w, h, fc="#9e9e9e", ec="none", alpha=0.35, zorder=3.4))
        ax.plot([e0, e1, e1, e0, e0], [e2, e2, e3, e3, e2], color="#222222", lw=1.1, ls=":",
                zorder=3.5, label="computed box (past it, veiled: nothing computed)")
    if threatened.any() and not threatened.all():
        reach = threatened.astype(float)
        if given:  # past a box the user gave nothing was computed: no reach's line along its edge
            reach[~_inner(lat, lon, g)] = np.nan
        ax.contour(lon, lat, reach, levels=[0.5], colors="#b2182b", linewidths=1.0, linestyles="--", zorder=4)
    for b in fp.batteries:
        ax.plot(b["lon_deg"], b["lat_deg"], marker="D", ms=6, mfc="#1a1a1a", mec="white", mew=0.8, zorder=6)
    for sn in fp.sensors:
        ax.plot(sn["lon_deg"], sn["lat_deg"], marker="s", ms=4, mfc="#6a3d9a", mec="white", mew=0.5, zorder=6)
    for a in fp.assets:  # what the scenario defends (named with the rest: city names then keep clear)
        if view[0] <= a["lon_deg"] <= view[1] and view[2] <= a["lat_deg"] <= view[3]:
            ax.plot(a["lon_deg"], a["lat_deg"], marker="o", ms=8, mfc="none", mec="#9a7d0a", mew=1.6, zorder=6)
            if a.get("radius_km"):
                asset_ring(ax, a["lat_deg"], a["lon_deg"], a["radius_km"], "#9a7d0a", zorder=6)
    ax.plot(s.site.lon_deg, s.site.lat_deg, marker="*", ms=14, mfc="#b2182b", mec="white", mew=0.8, zorder=6)
    if view[0] <= s.site.lon_deg <= view[1] and view[2] <= s.site.lat_deg <= view[3]:
        right = s.site.lon_deg > view[0] + 0.7 * (view[1] - view[0])  # name it inwards, inside the panel
        # beside its ring of minimum range, not over it (the nearest threatened node's distance)
        ring = _ring_deg(lon, lat, threatened, s.site) / max(np.cos(np.radians(s.site.lat_deg)), 0.1)
        if ring > 0.2 * (view[1] - view[0]):  # no ring near the star: a far grid's nearest cell put the
            ring = 0.0                          # name 85 deg of longitude from its star
        ax.annotate(s.site.name.split("/")[0], (s.site.lon_deg + (-ring if right else ring), s.site.lat_deg),
                    xytext=(-4 if right else 4, 0), textcoords="offset points", fontsize=8, color="#b2182b",
                    zorder=7, fontweight="bold", ha="right" if right else "left", va="center",
                    # (red on the red hatching of ground no track is expected over: a halo keeps it read)
                    path_effects=[_halo(2.2)])
    return mesh


def _halo(width: float) -> Any:
    """A white outline that keeps a label read over hatching, paths and fills."""
    from matplotlib import patheffects

    return patheffects.withStroke(linewidth=width, foreground="white")


def _ring_deg(lon, lat, threatened, site) -> float:
    """The radius [deg of arc] of a launch point's ring of minimum range: the distance of the
    nearest ``threatened`` node (n_lat, n_lon) on nodes ``lat`` x ``lon`` [deg]; 0 where the
    nearest is within two nodes' step (no ring drawn to keep clear of)."""
    if not threatened.any():
        return 0.0
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    d = np.hypot((lo[threatened] - site.lon_deg) * np.cos(np.radians(site.lat_deg)), la[threatened] - site.lat_deg)
    r = float(d.min())
    return r if r > 2.0 * abs(float(lat[1] - lat[0]) if lat.size > 1 else 0.0) else 0.0


#: A view this wide [deg, true to scale at its middle] or wider (a continent's) may name a
#: cluster of markers in an inset (:func:`_cluster_view`), where a corner of the map has room
#: for one; a regional map names them where they are.
INSET_MIN_SPAN_DEG = 45.0


def _within(view, lon: float, lat: float) -> bool:
    return view[0] <= lon <= view[1] and view[2] <= lat <= view[3]


def _cluster_view(view, marks) -> tuple[float, float, float, float] | None:
    """The close view (lon0, lon1, lat0, lat1) [deg] of the largest cluster of ``marks``
    (lon, lat, ...) in ``view``, where the view is continental or wider
    (:data:`INSET_MIN_SPAN_DEG`) and four markers or more lie within a twentieth of its
    span of one another, in a small part of it; else None.  On a world map Europe's
    batteries, radars and assets are a few millimetres apart: named there, their names went
    out on leader lines across the continent."""
    lon0, lon1, lat0, lat1 = view
    c = np.cos(np.radians(0.5 * (lat0 + lat1)))
    W, H = (lon1 - lon0) * c, lat1 - lat0
    if max(W, H) < INSET_MIN_SPAN_DEG:
        return None
    pts = np.array([(m[0] * c, m[1]) for m in marks if _within(view, m[0], m[1])]).reshape(-1, 2)
    if len(pts) < 4:
        return None
    # single-linkage clusters: markers closer than the link belong together
    link = 0.05 * max(W, H)
    group = list(range(len(pts)))

    def root(i: int) -> int:
        while group[i] != i:
            i = group[i]
        return i

    for i in range(len(pts)):
        for j in range(i + 1, len(pts)):
            if np.hypot(*(pts[i] - pts[j])) < link:
                group[root(i)] = root(j)
    roots = [root(i) for i in range(len(pts))]
    best = max(set(roots), key=roots.count)
    members = pts[[r == best for r in roots]]
    if len(members) < 4:
        return None
    (x0, y0), (x1, y1) = members.min(axis=0), members.max(axis=0)
    if x1 - x0 > 0.25 * W or y1 - y0 > 0.35 * H:
        return None  # spread over the view: named where they are
    # a margin round, and a shape between 0.6 and 1 as tall as wide (true to scale)
    pad = max(0.3 * max(x1 - x0, y1 - y0), 2.0)
    x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
    w, h = x1 - x0, y1 - y0
    if h < 0.6 * w:
        y0, y1 = y0 - 0.5 * (0.6 * w - h), y1 + 0.5 * (0.6 * w - h)
    elif h > w:
        x0, x1 = x0 - 0.5 * (h - w), x1 + 0.5 * (h - w)
    return (max(x0 / c, lon0), min(x1 / c, lon1), max(y0, lat0), min(y1, lat1))


def _meets(a, b) -> bool:
    """Whether boxes ``a`` and ``b`` (x0, y0, x1, y1) overlap."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inset_axes(fig, ax, close, marks, s, g):
    """An inset of ``ax`` for the close view ``close`` (lon0, lon1, lat0, lat1) [deg]: in the
    first corner of the map (lower left, lower right, upper left, upper right) that covers no
    marker, launch point, text or the close view itself, and no cell of site footprint ``s``
    (on grid ``g``) in reach, else none defended; None where every corner covers one."""
    ax.apply_aspect()
    renderer = _renderer(fig)
    frame = ax.get_window_extent(renderer)
    fw = 0.4
    fh = fw * frame.width * _aspect(close) / frame.height
    if fh > 0.7:
        fw, fh = fw * 0.7 / fh, 0.7
    to_axes = ax.transAxes.inverted()
    pts = to_axes.transform(ax.transData.transform([(m[0], m[1]) for m in marks] + [(s.site.lon_deg, s.site.lat_deg)]))
    to_data = ax.transData.inverted()
    lat, lon = np.meshgrid(g.lat_deg, g.lon_deg, indexing="ij")
    (cx0, cy0), (cx1, cy1) = to_axes.transform(ax.transData.transform([(close[0], close[2]), (close[1], close[3])]))
    texts = [to_axes.transform([(b[0], b[1]), (b[2], b[3])]).ravel()
             for b in _occupied(fig, ax, renderer, texts_only=True)]
    m = 0.012
    for hidden in (s.threatened | s.defended, s.defended):
        for x0, y0 in ((m, m), (1 - fw - m, m), (m, 1 - fh - m), (1 - fw - m, 1 - fh - m)):
            x1, y1 = x0 + fw, y0 + fh
            if any(x0 - m < px < x1 + m and y0 - m < py < y1 + m for px, py in pts):
                continue
            if any(_meets((x0, y0, x1, y1), b) for b in [(cx0, cy0, cx1, cy1), *texts]):
                continue
            (lo0, la0), (lo1, la1) = to_data.transform(ax.transAxes.transform([(x0, y0), (x1, y1)]))
            if (hidden & (lon >= lo0) & (lon <= lo1) & (lat >= la0) & (lat <= la1)).any():
                continue
            inset = ax.inset_axes([x0, y0, fw, fh])
            # placed now, not when drawn: its names are laid out on the page before that
            inset.set_position(inset.get_axes_locator()(inset, renderer))
            inset.set_axes_locator(None)
            return inset
    return None


def _shot_words(site) -> str:
    """``"flown depressed, apogee 35 km\\n"``: how a launch site's missile is flown, a line of
    its panel's title, where not on its minimum-energy path at its own apogee (two sites of
    one missile and place that differ only so had panels of one title:
    iskander-kaliningrad); else nothing."""
    words = [] if getattr(site, "profile", "min-energy") == "min-energy" else [site.profile]
    if getattr(site, "apogee", None) is not None:
        words.append(f"apogee {site.apogee / 1e3:g} km")
    if getattr(site, "flight_time", None) is not None:
        words.append(f"{site.flight_time:g} s flight")
    if getattr(site, "shaped", False):
        # a shaped family is flown at anchors a twentieth of the maximum range apart, and its
        # reach ends at the last that flies: an aim point up to a step past an edge of the
        # map's reach can be flown (iskander-kaliningrad's Malbork, ~20 km inside the hole)
        words[-1] += f" (its reach's edges good to ~{site.missile.max_range_km / 20:.0f} km)"
    return f"flown {', '.join(words)}\n" if words else ""


def footprint_map(fp, path: str | Path, dpi: int = 120) -> None:
    """One panel per launch site: P(intercept) over the defended cells, the missile's reach,
    batteries, sensors and the launch point; each panel shows its site's part of the map
    (:func:`site_view`)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import BoundaryNorm, ListedColormap

    from shieldlab.analysis import places

    g = fp.grid
    lat0, lat1 = float(g.lat_deg[0]), float(g.lat_deg[-1])
    lon0, lon1 = float(g.lon_deg[0]), float(g.lon_deg[-1])
    half = 0.5 * g.step_deg
    extent = (lon0 - half, lon1 + half, lat0 - half, lat1 + half)
    views = [site_view(fp, k, extent) for k in range(len(fp.sites))] or [extent]
    fig, axes = _figure_views(views)
    levels = np.array([0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0])
    cmap = ListedColormap(plt.get_cmap("YlGnBu")(np.linspace(0.25, 1.0, levels.size - 1)))
    norm = BoundaryNorm(levels, cmap.N)
    mesh = None
    halo = [_halo(2.0)]
    # what the markers are called, named once the layout is final (name_markers)
    marks = [(b["lon_deg"], b["lat_deg"], b["name"], 6.0,
              dict(fontsize=7, zorder=7, bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.7)))
             for b in fp.batteries]
    marks += [(sn["lon_deg"], sn["lat_deg"], sn["name"], 4.0,
               dict(fontsize=6.5, color="#4a2a6a", zorder=7, path_effects=halo)) for sn in fp.sensors]
    marks += [(a["lon_deg"], a["lat_deg"], a["name"], 8.0,
               dict(fontsize=7.5, color="#7d6608", fontweight="bold", zorder=7, path_effects=halo))
              for a in fp.assets]
    for ax, s, view in zip(axes, fp.sites, views):
        mesh = _site_layers(ax, fp, s, extent, view, cmap, norm)
        if not (view[0] <= s.site.lon_deg <= view[1] and view[2] <= s.site.lat_deg <= view[3]):
            ax.text(0.98, 0.02, f"launch site {s.site.name.split('/')[0]} ({s.site.lat_deg:.1f}°N, "
                    f"{s.site.lon_deg:.1f}°E) off the map", transform=ax.transAxes, ha="right", va="bottom",
                    fontsize=7, color="#b2182b", zorder=8,
                    bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.8))
        cell = g.cell_area_km2()
        area = cell[s.defended].sum()
        thr = cell[s.threatened].sum()
        people = ""
        if s.defended.any():
            pop = places.population_in_grid(g, s.defended)
            people = (f"\nwith {places.people_text(pop.population)} people in {pop.n_places:,} place"
                      f"{'s' if pop.n_places != 1 else ''} of 15,000+")  # the footer says whose and how
        ax.set_title(f"{fp.scenario}: vs {s.site.missile.id} from {s.site.name.split('/')[0]}\n{_shot_words(s.site)}"
                     f"defended {area_pair_text(area, thr)} in reach{people}", fontsize=9.5)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    # a battery is a diamond on every map (as on the report's run map, where a triangle is a
    # launch); black here, over the blue cells
    handles = [Line2D([], [], marker="D", ls="none", mfc="#1a1a1a", mec="white", ms=6, label="battery"),
               Line2D([], [], marker="s", ls="none", mfc="#6a3d9a", mec="white", ms=5, label="sensor"),
               *([Line2D([], [], marker="o", ls="none", mfc="none", mec="#9a7d0a", mew=1.6, ms=8,
                         label="defended asset")] if fp.assets else []),
               Line2D([], [], marker="*", ls="none", mfc="#b2182b", mec="white", ms=11, label="launch site"),
               Line2D([], [], color="#b2182b", ls="--", lw=1.0, label="missile's reach"),
               Patch(fc="#d7301f", alpha=0.25, label="in reach, not defended"),
               *([Patch(fc="#f4c9c0", ec="#8b1a1a", hatch="////", lw=0.0, label="of it, no track expected")]
                 if any(_untracked(s).any() for s in fp.sites) else []),
               *[h for ax in axes for h in ax.get_legend_handles_labels()[0]
                 if h.get_label().startswith("computed box")][:1],
               *[h for ax in axes for h in ax.get_legend_handles_labels()[0]
                 if h.get_label().startswith("grid's edge")][:1]]
    title = None
    every = fp.defended_all()
    if len(fp.sites) > 1 and every.any():
        title = (f"defended against every launch site (launch point and missile) that reaches it: "
                 f"{_short_area(fp.defended_area_km2())}, "
                 + _people_line(places.population_in_grid(g, every)))
    # one row under two maps or more; two under one (one row is wider than a single map)
    ncol = len(handles) if len(fp.sites) > 1 else -(-len(handles) // 2)
    legend = fig.legend(handles=handles, loc="upper center", ncol=ncol, fontsize=8, frameon=False, title=title,
                        title_fontsize=8.5)
    if mesh is not None:
        cb = fig.colorbar(mesh, ax=list(axes), shrink=0.75, pad=0.02)
        # (the bands are drawn alike, their steps are not: 0.5, 0.7 ... 0.99 tell the high end apart)
        cb.set_label("probability of intercept, in uneven steps (doctrine: "
                     f"salvo {fp.doctrine['salvo']}, {fp.doctrine['engagements']} engagement"
                     f"{'s' if fp.doctrine['engagements'] > 1 else ''})", fontsize=8)
        cb.ax.tick_params(labelsize=7)
        _close_row_gaps(fig, axes, cb.ax)
    for ax, s, view in zip(axes, fp.sites, views):
        if _zoomed(view, extent) and _nodes_across(view, g.step_deg) < COARSE_NODES:
            # a close view of a map made for farther sites: its cells are few across
            ax.text(0.02, 0.02, f"{g.step_deg:g}° cells, the grid of every site: a map of this site alone is finer",
                    transform=ax.transAxes, ha="left", va="bottom", fontsize=6.5, color="#444444", zorder=8,
                    bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.8))
        outside, keep_out = marks, []
        close = _cluster_view(view, marks)
        inset = _inset_axes(fig, ax, close, marks, s, g) if close is not None else None
        if inset is not None:  # a cluster of markers too close to name at this scale: named in a close view
            _site_layers(inset, fp, s, extent, close, cmap, norm)
            inset.set_xticks([])
            inset.set_yticks([])
            inset.set_xlabel("")
            inset.set_ylabel("")
            ax.indicate_inset_zoom(inset, edgecolor="#333333", alpha=0.9)
            name_markers(fig, inset, [m for m in marks if _within(close, m[0], m[1])])
            outside, keep_out = [m for m in marks if not _within(close, m[0], m[1])], [close]
        name_markers(fig, ax, outside)
        label_map(fig, ax, view, first=places.places_in_grid(g, s.defended, limit=4), keep_out=keep_out)
    # two lines: one would widen a two-panel page past its maps
    _under_the_axes(fig, axes, "shieldlab footprint · kinematic best case for one threat (a perfect track once "
                    "one is confirmed, engaged without threat evaluation) · borders: Natural Earth "
                    f"(public domain) · {places.CREDIT}\npeople: {_people_note(g.step_deg)}", legend)
    _save(fig, path, dpi)
    plt.close(fig)


def aircraft_map(res, path: str | Path, dpi: int = 120) -> None:
    """Batteries' reach against an aircraft at one altitude (:func:`footprint.aircraft_reach`)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import BoundaryNorm, ListedColormap

    g = res.grid
    fig, ax, extent = _one_panel(g)
    n = _reach_count(res.batteries, extent)
    top = max(1, int(n.max()))
    cmap = ListedColormap(plt.get_cmap("OrRd")(np.linspace(0.3, 0.95, top)))
    norm = BoundaryNorm(np.arange(0.5, top + 1.5), cmap.N)
    im = ax.imshow(np.where(n > 0, n, np.nan), origin="lower", extent=extent, cmap=cmap, norm=norm, alpha=0.55,
                   interpolation="nearest", zorder=1, aspect="auto")
    if res.focus is not None:
        from matplotlib.collections import PolyCollection

        ax.add_collection(PolyCollection([r for _, _, r in country_rings(res.focus)], facecolors="#e2d6c2",
                                         edgecolors="none", zorder=0.5))
        for _, _, ring in country_rings(res.focus):
            ax.plot(np.append(ring[:, 0], ring[0, 0]), np.append(ring[:, 1], ring[0, 1]), color="#222222", lw=1.2,
                    zorder=4)
    for i, b in enumerate(res.batteries):
        circ = b["circle_lonlat"]
        ax.plot(circ[:, 0], circ[:, 1], color="#7f0000", lw=0.8, zorder=5.6)  # over the place names' halos
        ax.plot(b["lon_deg"], b["lat_deg"], marker="D", ms=6, mfc="#1a1a1a", mec="white", mew=0.8, zorder=6)
        left = any(np.hypot(o["lon_deg"] - b["lon_deg"], o["lat_deg"] - b["lat_deg"]) < 0.3
                   for o in res.batteries[:i])
        ax.annotate(f"{b['name']} ({b['reach_km']:.0f} km)", (b["lon_deg"], b["lat_deg"]),
                    xytext=(-6, -10) if left else (4, 4), ha="right" if left else "left",
                    textcoords="offset points", fontsize=7, zorder=7,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.7))
        if b.get("deepest_lonlat") is not None:
            x, y = b["deepest_lonlat"]
            ax.plot(x, y, marker="x", color="#7f0000", ms=6, zorder=7)
            if b.get("depth_km") is not None:  # (four bare crosses said not which was the 113 km)
                ax.annotate(f"{b['name']}: {b['depth_km']:.0f} km", (x, y), xytext=(4, -9),
                            textcoords="offset points", fontsize=6.5, color="#7f0000", zorder=7,
                            path_effects=[_halo(2.0)])
    cb = fig.colorbar(im, ax=ax, shrink=0.75, pad=0.02, ticks=np.arange(1, top + 1))
    cb.set_label(f"batteries that can engage an aircraft at {res.alt_km:g} km", fontsize=8)
    deep = max((b["depth_km"] for b in res.batteries if b.get("depth_km") is not None), default=None)
    sub = (f"\nreach into {res.focus}: up to {deep:.0f} km past the border, {res.focus_area_km2:,.0f} km² in all"
           if res.focus and deep is not None else
           # (said where the map is read: the country asked about may lie off it altogether)
           f"\nno battery reaches into {res.focus}" if res.focus and not res.focus_area_km2 > 0 else "")
    ax.set_title(f"{res.scenario}: reach against aircraft at {res.alt_km:g} km{sub}", fontsize=9.5)
    label_map(fig, ax, extent)
    # the footer names only what the map shows: the country measured into and the crosses of the
    # deepest points may lie off it (a battery far from any border), and the country, where it
    # is on it, is named on it (the map is about it; the place names may leave it unnamed)
    x0, x1, y0, y1 = extent
    shown_focus = None
    if res.focus is not None:
        import shapely

        # (country_shape: its holes, an enclave, are holes)
        inside = country_shape(res.focus).intersection(shapely.box(x0, y0, x1, y1))
        if not inside.is_empty and inside.area > 0:
            shown_focus = res.focus
            if not any(t.get_text() == res.focus.upper() for t in ax.texts):  # (label_map may have)
                _name_country(fig, ax, inside, res.focus.upper())
    deep_shown = any(b.get("deepest_lonlat") is not None and x0 <= b["deepest_lonlat"][0] <= x1
                     and y0 <= b["deepest_lonlat"][1] <= y1 for b in res.batteries)
    # (the bold outline is the country measured into: along a coast it read as an unnamed line)
    parts = ["shaded: interceptor range against aircraft inside each battery's radar field of view and detection "
             "range, above its radio horizon", *(["x: deepest point past the border"] if deep_shown else []),
             *([f"bold line: {shown_focus}'s outline, its border and coast"] if shown_focus else []),
             "borders: Natural Earth · places: GeoNames (CC BY 4.0)"]
    scale_bar(ax, x0, x1, y0, y1)
    _under_the_axes(fig, [ax], " · ".join(parts))
    _save(fig, path, dpi)
    plt.close(fig)


def _reach_count(batteries, extent, px: int = 800) -> np.ndarray:
    """How many of ``batteries`` reach each pixel of a raster over ``extent`` (lon0, lon1,
    lat0, lat1) [deg], at most ``px`` pixels a side: counted in each battery's own outline
    (``circle_lonlat``), so that the shading ends where the outline drawn over it does (on
    the analysis's 0.05 deg grid it had spilled past the outlines in blocks)."""
    import shapely

    x0, x1, y0, y1 = extent
    step = max(x1 - x0, y1 - y0) / px
    xs = np.arange(x0 + 0.5 * step, x1, step)
    ys = np.arange(y0 + 0.5 * step, y1, step)
    X, Y = np.meshgrid(xs, ys)
    n = np.zeros(X.shape, np.int16)
    for b in batteries:
        n += shapely.contains_xy(shapely.Polygon(np.asarray(b["circle_lonlat"], float)).buffer(0), X, Y)
    return n


def _name_country(fig, ax, area, text: str) -> bool:
    """Write ``text`` (a country's name) inside ``area`` (its part in the frame, a shapely
    geometry in lon/lat [deg]) where it meets no text or marker already on ``ax``: the free
    place deepest inside it, on a grid of candidates (label_map names a country at one place
    or not at all, and the map's own labels had taken Syria's).  Returns whether it found one."""
    import shapely

    renderer = fig.canvas.get_renderer()
    style = dict(_COUNTRY, fontsize=9, fontweight="bold", color="#6e6e6e")
    w, h = _text_size(ax, text, renderer, **style)
    boxes, frame = _occupied(fig, ax, renderer), ax.get_window_extent(renderer)
    inv = ax.transData.inverted()
    bx0, by0, bx1, by1 = area.bounds
    best = None
    for gx in np.linspace(bx0, bx1, 24):
        for gy in np.linspace(by0, by1, 24):
            cx, cy = ax.transData.transform((gx, gy))
            lab = (cx - w / 2 - 2, cy - h / 2 - 2, cx + w / 2 + 2, cy + h / 2 + 2)
            if not (_free(lab, boxes, frame) and _inside_at_corners(lab, inv, area)):
                continue
            depth = shapely.boundary(area).distance(shapely.Point(gx, gy))  # (holes' edges too)
            if best is None or depth > best[0]:
                best = (depth, gx, gy)
    if best is None:
        return False
    ax.text(best[1], best[2], text, ha="center", va="center", zorder=3.5, clip_on=True,
            path_effects=[_halo(1.6)], **style)
    return True


def scale_bar(ax, lon0: float, lon1: float, lat0: float, lat1: float) -> float | None:
    """A bar of a round number of km at the lower right of a map in degrees, labelled; returns
    its length [km] (the maps' axes are in degrees, which measure no distance).  The length is
    read at the map's middle latitude, which the label names where the map's degrees of
    longitude differ by more than a tenth from south to north.  None, and no bar, on a map 300 degrees across or more:
    a world map's degrees of longitude are no one length."""
    if lon1 - lon0 >= 300.0:
        return None
    lat = 0.5 * (lat0 + lat1)
    km_per_deg = 111.32 * math.cos(math.radians(lat))
    width_km = (lon1 - lon0) * km_per_deg
    step = 10 ** math.floor(math.log10(width_km / 5.0))
    length = max(n * step for n in (1, 2, 5) if n * step <= width_km / 4.0)
    x1 = lon1 - 0.04 * (lon1 - lon0)
    x0 = x1 - length / km_per_deg
    y = lat0 + 0.05 * (lat1 - lat0)
    ax.plot([x0, x1], [y, y], color="#1d2128", lw=2.5, solid_capstyle="butt", zorder=8)
    # a degree of longitude shrinks northwards: where it differs by more than a tenth over the
    # map, the bar says the latitude it holds at
    spread = math.cos(math.radians(min(abs(lat0), abs(lat1)) if lat0 * lat1 > 0 else 0.0)) / \
        max(math.cos(math.radians(max(abs(lat0), abs(lat1)))), 1e-9)
    at = f" at {abs(lat):.0f}° {'N' if lat >= 0 else 'S'}" if spread > 1.1 else ""
    ax.annotate(f"{length:g} km{at}", (0.5 * (x0 + x1), y), xytext=(0, 4), textcoords="offset points", ha="center",
                va="bottom", fontsize=8, color="#1d2128", path_effects=[_halo(2.0)], zorder=8)
    return float(length)


def _short_area(km2: float, largest: float | None = None) -> str:
    """An area in M km² from 1 M km² up, else in km²; the unit chosen by ``largest`` where
    given, so that the areas of one legend share it, but an area under 0.01 M km² beside it
    in km² (a radar's 3,100 km² had read "0.00 M km²", then "0.0031 M km²"; a Patriot
    radar's 220 km² at 100 km "0.00022 M km²")."""
    if (km2 if largest is None else largest) < 1e6:
        return f"{km2:,.0f} km²"
    m = km2 / 1e6
    return f"{m:.2f} M km²" if m >= 0.01 or m == 0 else f"{km2:,.0f} km²"


def coverage_map(cov, path: str | Path, dpi: int = 120) -> None:
    """Radar coverage of a target at one altitude (:func:`shieldlab.analysis.coverage.compute`):
    the union lightly shaded, each radar's coverage outlined in its own colour, its site
    marked and labelled."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from shieldlab.analysis.coverage import propagation_text, rcs_text

    largest = max([cov.union_area_km2] + [r.area_km2 for r in cov.radars])  # one unit for the legend's areas
    g = cov.grid
    fig, ax, extent = _one_panel(g)
    # a grey, darker than land and sea alike (a blue read as sea over the sea) and apart from the
    # radars' own colours
    shade = "#4d4d4d"
    if cov.union.any() and not cov.union.all() and min(g.shape) > 1:
        # shaded on the same geometry the radars' outlines are drawn on (contours between the
        # nodes): whole cells stuck out past the outlines
        ax.contourf(g.lon_deg, g.lat_deg, cov.union.astype(float), levels=[0.5, 1.5], colors=[shade], alpha=0.16,
                    zorder=1)
    else:
        ax.imshow(np.where(cov.union, 1.0, np.nan), origin="lower", extent=extent, cmap=ListedColormap([shade]),
                  alpha=0.16, interpolation="nearest", zorder=1, aspect="auto")
    colours = plt.get_cmap("tab10").colors  # type: ignore[attr-defined]  # tab10 is a ListedColormap
    handles: list[Line2D | Patch] = []
    # a site east of the antimeridian on a box that runs past 180: at its longitude + 360
    x_of = {r.name: r.lon_deg + 360.0 if r.lon_deg < g.lon_deg[0] - 1e-9 else r.lon_deg for r in cov.radars}
    marks = []
    cut = False  # some radar's coverage ends short of its range's ground
    for i, r in enumerate(cov.radars):
        c = colours[i % len(colours)]
        cells = r.covered
        if cells.any() and not cells.all() and min(g.shape) > 1:
            # over the place names' halos (5.5): a city's name had cut the outline it sits on
            ax.contour(g.lon_deg, g.lat_deg, cells.astype(float), levels=[0.5], colors=[c], linewidths=1.3,
                       zorder=5.6)
        ax.plot(x_of[r.name], r.lat_deg, marker="s", ms=6, mfc=c, mec="white", mew=0.8, zorder=8)
        marks.append((x_of[r.name], r.lat_deg, r.name, 6.0,
                      dict(fontsize=7, color="#1a1a1a", zorder=7, leader_color=c,
                           bbox=dict(boxstyle="round,pad=0.15", fc="white", ec=c, lw=0.6, alpha=0.8))))
        # the drawn coverage ends short of the Pd = 0.5 range where the horizon or the elevation
        # floor cuts it (AN/TPY-2 at 1,495 km drawn to 1,097 at 100 km altitude): say how far.
        # The range is slant: against the ground distance it reaches at the target's height (a
        # 135 km Patriot at 63 km reaches 118 km over the ground, no horizon involved)
        short = 0.0 < r.farthest_km < 0.97 * r.range_ground_km(cov.alt_km)
        cut |= short
        reach = f" (covered to {r.farthest_km:,.0f} km)" if short else ""
        area = _short_area(r.area_km2, largest) if r.area_km2 >= 0.5 else "nothing covered"
        handles.append(Line2D([], [], color=c, lw=1.3, marker="s", ms=5, mfc=c, mec="white",
                              label=f"{r.name}: {r.sensor_name.split(' (')[0]}, {r.detection_range_km:,.0f} km"
                                    f"{reach}, {area}"))
    handles.append(Patch(fc=shade, alpha=0.3,
                         label=f"seen by at least one radar: {_short_area(cov.union_area_km2, largest)}"))
    # the key explains "covered to" only where an entry uses it
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False,
              title="radar: type, Pd = 0.5 slant range " + (
                  "(covered to: the ground\ndistance where the horizon or the elevation floor\nends it short of "
                  "that range), area covered" if cut else "and area covered"), title_fontsize=7.5,
              alignment="left")
    if cov.union_area_km2 < 0.5:  # an empty map says so on itself, not only in the command's words
        ax.text(0.5, 0.5, f"no radar covers a target at {cov.alt_km:g} km in this map", transform=ax.transAxes,
                ha="center", va="center", fontsize=10, color="#444444",
                bbox=dict(boxstyle="round,pad=0.4", fc="white", ec="#999999", alpha=0.9), zorder=9)
    ax.set_title(f"{cov.scenario}: radar coverage of a target at {cov.alt_km:g} km altitude\n{rcs_text(cov)}",
                 fontsize=9.5)
    # each radar's name by its own marker (a stack of names beside a cluster had left the Black
    # Sea ship's by Armavir's marker), clear of the others and of the frame
    # (markers nearer than their own size drawn one over the other: one name for them both)
    name_markers(fig, ax, marks, merge_within_px=6.0 * fig.dpi / 72.0)
    label_map(fig, ax, extent)
    scale_bar(ax, *extent)
    # (as the command says it: a map passed on without the command's words says it too)
    edge = " · the coverage reaches the box's edge: its areas are of the box alone" if cov.grid.at_edge(cov.union) \
        else ""
    _under_the_axes(fig, [ax], f"shieldlab coverage · {propagation_text(cov)}{edge} · borders: Natural Earth "
                               "(public domain) · places: GeoNames (CC BY 4.0)")
    _save(fig, path, dpi)
    plt.close(fig)
