"""Nearest segment to many points, by bucketing the segments in a uniform grid (numba).

:func:`build_segment_grid` lists, for every square cell of side ``cell_m``, the segments that pass through it
(per column of cells, the rows the segment's span in that column covers, widened by a millimetre, so a segment is
never missed).  :func:`nearest_segments` then searches outwards from each point's cell, ring by ring, until every
segment not yet looked at is provably farther than the best one found, or farther than ``reach_m`` (then the point
gets -1 and the caller searches otherwise).  The answer is exact: the nearest segment by the point-to-segment
distance of :func:`segment_parts`, ties to the lowest segment number — what an envelope query around the point
followed by the same distance in numpy gives, without building a box or a candidate pair per point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

PAD_M = 1e-3
"""Cells within this of a segment's span also list it (guards the edges of cells against rounding)."""


@dataclass(frozen=True)
class SegmentGrid:
    """Segments by cell: cell (i, j) lists ``items[start[i * ny + j]:start[i * ny + j + 1]]``."""

    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int
    start: np.ndarray
    items: np.ndarray


def segment_parts(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
    """(ax, ay, abx, aby, squared length floored at 1e-12) of segments a→b, as the distance below uses them."""
    ab = b - a
    return a[:, 0].copy(), a[:, 1].copy(), ab[:, 0].copy(), ab[:, 1].copy(), np.maximum((ab**2).sum(axis=1), 1e-12)


@njit(cache=True)
def _fill(ax, ay, bx, by, x0, y0, cell, nx, ny, pad, counts, items, fill):
    """Count (``fill`` False) or list (``fill`` True, ``counts`` = next free slot per cell) each segment's cells."""
    for s in range(len(ax)):
        xa, ya, xb, yb = ax[s], ay[s], bx[s], by[s]
        if xb < xa:
            xa, ya, xb, yb = xb, yb, xa, ya
        i0 = max(int(np.floor((xa - pad - x0) / cell)), 0)
        i1 = min(int(np.floor((xb + pad - x0) / cell)), nx - 1)
        for i in range(i0, i1 + 1):
            lo_x = max(xa, x0 + i * cell - pad)
            hi_x = min(xb, x0 + (i + 1) * cell + pad)
            if xb > xa:
                y_lo = ya + (yb - ya) * ((lo_x - xa) / (xb - xa))
                y_hi = ya + (yb - ya) * ((hi_x - xa) / (xb - xa))
            else:
                y_lo, y_hi = ya, yb
            j0 = max(int(np.floor((min(y_lo, y_hi) - pad - y0) / cell)), 0)
            j1 = min(int(np.floor((max(y_lo, y_hi) + pad - y0) / cell)), ny - 1)
            for j in range(j0, j1 + 1):
                c = i * ny + j
                if fill:
                    items[counts[c]] = s
                counts[c] += 1


def build_segment_grid(a: np.ndarray, b: np.ndarray, cell_m: float) -> SegmentGrid:
    """The grid of segments a→b (n × 2 arrays of end points, metres)."""
    ends = np.concatenate([a, b]) if len(a) else np.zeros((1, 2))
    x0, y0 = float(ends[:, 0].min()) - cell_m, float(ends[:, 1].min()) - cell_m
    nx = int((ends[:, 0].max() - x0) // cell_m) + 2
    ny = int((ends[:, 1].max() - y0) // cell_m) + 2
    args = (a[:, 0], a[:, 1], b[:, 0], b[:, 1], x0, y0, float(cell_m), nx, ny, PAD_M)
    counts = np.zeros(nx * ny, dtype=np.int64)
    _fill(*args, counts, np.zeros(0, dtype=np.int64), False)
    start = np.zeros(nx * ny + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    items = np.empty(start[-1], dtype=np.int64)
    _fill(*args, start[:-1].copy(), items, True)
    return SegmentGrid(x0, y0, float(cell_m), nx, ny, start, items)


@njit(cache=True, parallel=True)
def _nearest(px, py, x0, y0, cell, nx, ny, start, items, ax, ay, abx, aby, den, reach):
    out = np.full(len(px), -1, dtype=np.int64)
    for p in prange(len(px)):
        x, y = px[p], py[p]
        ci = int(np.floor((x - x0) / cell))
        cj = int(np.floor((y - y0) / cell))
        best, best_s = np.inf, -1
        k = 0
        while True:
            for i in range(max(ci - k, 0), min(ci + k, nx - 1) + 1):
                edge_column = i == ci - k or i == ci + k
                step = 1 if edge_column else 2 * k
                j = cj - k
                while j <= cj + k:
                    if 0 <= j < ny:
                        c = i * ny + j
                        for e in range(start[c], start[c + 1]):
                            s = items[e]
                            t = ((x - ax[s]) * abx[s] + (y - ay[s]) * aby[s]) / den[s]
                            t = min(max(t, 0.0), 1.0)
                            gap = np.hypot(x - ax[s] - abx[s] * t, y - ay[s] - aby[s] * t)
                            if gap < best or (gap == best and s < best_s):
                                best, best_s = gap, s
                    j += step
            bound = min(
                x - (x0 + (ci - k) * cell),
                x0 + (ci + k + 1) * cell - x,
                y - (y0 + (cj - k) * cell),
                y0 + (cj + k + 1) * cell - y,
            )
            if best < bound or bound > reach:
                break
            k += 1
        if best <= reach:
            out[p] = best_s
    return out


def nearest_segments(grid: SegmentGrid, parts: tuple[np.ndarray, ...], x: np.ndarray, y: np.ndarray, reach_m: float):
    """Index of the nearest segment to each point (ties: the lowest), -1 where none lies within ``reach_m``."""
    return _nearest(
        np.asarray(x, dtype=np.float64),
        np.asarray(y, dtype=np.float64),
        grid.x0,
        grid.y0,
        grid.cell_m,
        grid.nx,
        grid.ny,
        grid.start,
        grid.items,
        *parts,
        float(reach_m),
    )
