"""Snap-rounding noder for road lines, in numpy: the network GEOS's ``union_all(lines, grid_size)`` gives, faster.

GEOS nodes lines on a fixed grid by *snap rounding* (Hobby; Hershberger): every vertex and every proper
crossing of two segments is rounded to the centre of its grid cell (a *hot pixel*), and every segment is
split at the centre of each hot pixel it passes through.  The pieces, with rounded end points, are the noded
network; pieces that collapse to one pixel are dropped and duplicates are merged.  :func:`snap_round`
does the same steps with vectorised numpy on the candidate pairs an STR tree finds, and returns the pieces
as pairs of pixel indices.

It differs from GEOS only where a point sits exactly on the boundary of a pixel (GEOS keeps the top and
right sides open, here all sides are closed) or where two hot pixels project onto a segment at the same
point; both have measure zero for real coordinates.  ``tests/geo/test_noding.py`` compares the two on
crossings without a shared vertex, T-junctions, duplicate and overlapping segments, closed rings, and near
misses within a pixel.
"""

from __future__ import annotations

import numpy as np
import shapely


def pixel_index(xy: np.ndarray, scale: float) -> np.ndarray:
    """The grid cell of each coordinate: round half up of ``xy * scale``, as GEOS rounds (``java_math_round``)."""
    return np.floor(np.asarray(xy, dtype=float) * scale + 0.5).astype(np.int64)


def segments_of(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The straight segments of LineStrings as (start, end) coordinate arrays; repeated points dropped."""
    coords, index = shapely.get_coordinates(lines, return_index=True)
    same_line = index[1:] == index[:-1]
    a, b = coords[:-1][same_line], coords[1:][same_line]
    moved = np.any(a != b, axis=1)
    return a[moved], b[moved]


def _orientation(ax, ay, bx, by, px, py) -> np.ndarray:
    return np.sign((bx - ax) * (py - ay) - (by - ay) * (px - ax))


def proper_crossings(a: np.ndarray, b: np.ndarray, tree: shapely.STRtree) -> np.ndarray:
    """Points where two segments cross in both interiors (not at an end of either), one row per crossing pair."""
    i, j = tree.query(tree.geometries, predicate=None)
    keep = i < j
    i, j = i[keep], j[keep]
    ax, ay, bx, by = a[i, 0], a[i, 1], b[i, 0], b[i, 1]
    cx, cy, dx, dy = a[j, 0], a[j, 1], b[j, 0], b[j, 1]
    o1 = _orientation(ax, ay, bx, by, cx, cy)
    o2 = _orientation(ax, ay, bx, by, dx, dy)
    o3 = _orientation(cx, cy, dx, dy, ax, ay)
    o4 = _orientation(cx, cy, dx, dy, bx, by)
    proper = (o1 * o2 < 0) & (o3 * o4 < 0)
    ax, ay, bx, by, cx, cy, dx, dy = (v[proper] for v in (ax, ay, bx, by, cx, cy, dx, dy))
    rx, ry, sx, sy = bx - ax, by - ay, dx - cx, dy - cy
    t = ((cx - ax) * sy - (cy - ay) * sx) / (rx * sy - ry * sx)
    return np.column_stack([ax + t * rx, ay + t * ry])


def _hits_pixel(p: np.ndarray, q: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Whether segment p→q (scaled coordinates) meets the closed unit square around ``centre`` (Liang–Barsky)."""
    d = q - p
    lo, hi = centre - 0.5 - p, centre + 0.5 - p
    t0 = np.zeros(len(p))
    t1 = np.ones(len(p))
    ok = np.ones(len(p), dtype=bool)
    for k in (0, 1):
        dk = d[:, k]
        flat = dk == 0
        ok &= ~flat | ((lo[:, k] <= 0) & (hi[:, k] >= 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            ta, tb = lo[:, k] / dk, hi[:, k] / dk
        t0 = np.where(flat, t0, np.maximum(t0, np.minimum(ta, tb)))
        t1 = np.where(flat, t1, np.minimum(t1, np.maximum(ta, tb)))
    return ok & (t0 <= t1)


def snap_round(lines: np.ndarray, grid_size: float) -> tuple[np.ndarray, np.ndarray]:
    """Noded straight pieces of ``lines`` on a ``grid_size`` grid, as (start, end) pixel indices (n × 2 int64).

    Every piece appears once (undirected, start < end in (x, y) order); no piece has zero length.
    Coordinates of a pixel index ``k`` are ``k / (1 / grid_size)``, as GEOS makes them precise.
    """
    scale = 1.0 / grid_size
    a, b = segments_of(np.asarray(lines, dtype=object))
    if len(a) == 0:
        empty = np.zeros((0, 2), dtype=np.int64)
        return empty, empty
    tree = shapely.STRtree(shapely.linestrings(np.stack([a, b], axis=1)))
    hot = np.concatenate(
        [pixel_index(a, scale), pixel_index(b, scale), pixel_index(proper_crossings(a, b, tree), scale)]
    )
    hot = hot[np.unique(_key(hot), return_index=True)[1]]
    half = 0.5 / scale
    centre_xy = hot / scale
    pix, seg = tree.query(shapely.box(*(centre_xy - half).T, *(centre_xy + half).T))
    sa, sb = a[seg] * scale, b[seg] * scale
    hit = _hits_pixel(sa, sb, hot[pix].astype(float))
    pix, seg, sa, sb = pix[hit], seg[hit], sa[hit], sb[hit]
    d = sb - sa
    t = ((hot[pix] - sa) * d).sum(axis=1) / (d * d).sum(axis=1)
    # each segment's own end pixels bound its chain, whatever the box test says at a pixel's edge
    n = len(a)
    seg = np.concatenate([np.arange(n), seg, np.arange(n)])
    t = np.concatenate([np.full(n, -np.inf), t, np.full(n, np.inf)])
    point = np.concatenate([pixel_index(a, scale), hot[pix], pixel_index(b, scale)])
    order = np.lexsort((t, seg))
    seg, point = seg[order], point[order]
    same = seg[1:] == seg[:-1]
    start, end = point[:-1][same], point[1:][same]
    moved = np.any(start != end, axis=1)
    start, end = start[moved], end[moved]
    flip = (start[:, 0] > end[:, 0]) | ((start[:, 0] == end[:, 0]) & (start[:, 1] > end[:, 1]))
    start[flip], end[flip] = end[flip], start[flip].copy()
    order = np.lexsort((_key(end), _key(start)))
    start, end = start[order], end[order]
    new = np.r_[True, np.any(start[1:] != start[:-1], axis=1) | np.any(end[1:] != end[:-1], axis=1)]
    return start[new], end[new]


def _key(q: np.ndarray) -> np.ndarray:
    """One int64 per pixel index pair (x in the high half, y in the low half)."""
    return (q[:, 0] << 32) ^ (q[:, 1] & 0xFFFFFFFF)
