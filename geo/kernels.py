"""Compiled inner loops (numba) for point-to-grid assignment.

Two kernels: an open-addressing hash table from cover cell to cover row, and
the per-point lookup with an exact crossing-number test for points in cells
that straddle grid boundaries.  A point that lies within ``NEAR_DEG`` of a
candidate's boundary is flagged instead of decided, and the caller settles it
with GEOS (shapely), so results match shapely exactly, ties included.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

NEAR_DEG = 1e-9
"""About 0.1 mm: closer than this to a boundary, the point is left to GEOS."""

MISSING = np.iinfo(np.int64).min
"""Lookup result for a cell that is not in the cover.  No H3 cell is 0, so key 0 marks a free slot."""

MAX_CANDIDATES = 255
"""Grids one cover cell can list; a cell value packs (first cover row << 8) | candidate count."""

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, inline="always")
def _slot(key, shift):
    return (key * _GOLDEN) >> shift


@njit(cache=True)
def build_table(keys: np.ndarray, values: np.ndarray, bits: int) -> np.ndarray:
    """Hash table of 2**bits slots, each (key, value) side by side so a lookup touches one cache line.

    ``keys`` must be unique and non-zero.
    """
    size = 1 << bits
    mask = np.uint64(size - 1)
    shift = np.uint64(64 - bits)
    table = np.zeros((size, 2), dtype=np.int64)
    for i in range(len(keys)):
        slot = _slot(keys[i], shift)
        while table[slot, 0] != 0:
            slot = (slot + np.uint64(1)) & mask
        table[slot, 0] = np.int64(keys[i])
        table[slot, 1] = values[i]
    return table


@njit(cache=True, inline="always")
def _lookup(table, key, shift, mask):
    """The value stored for ``key``; MISSING when absent."""
    slot = _slot(key, shift)
    wanted = np.int64(key)
    while True:
        found = table[slot, 0]
        if found == wanted:
            return table[slot, 1]
        if found == 0:
            return MISSING
        slot = (slot + np.uint64(1)) & mask


@njit(cache=True, inline="always")
def _crossing(x, y, edges, start, stop):
    """(inside by even-odd crossing number, point within NEAR_DEG of an edge)."""
    inside = False
    near = False
    for e in range(start, stop):
        x1 = edges[e, 0]
        y1 = edges[e, 1]
        x2 = edges[e, 2]
        y2 = edges[e, 3]
        if (
            min(x1, x2) - NEAR_DEG <= x <= max(x1, x2) + NEAR_DEG
            and min(y1, y2) - NEAR_DEG <= y <= max(y1, y2) + NEAR_DEG
        ):
            cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)
            if abs(cross) <= NEAR_DEG * (abs(x2 - x1) + abs(y2 - y1)):
                near = True
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside, near


def pack_cells(first_row: np.ndarray, row_count: np.ndarray, row_grid: np.ndarray, row_inside: np.ndarray):
    """Value per cover cell: the grid index when the cell is wholly inside one grid, else -1 - (row << 8 | count)."""
    if len(row_count) and row_count.max() > MAX_CANDIDATES:
        raise ValueError(f"a cover cell touches more than {MAX_CANDIDATES} grids; the grids overlap too much")
    resolved = (row_count == 1) & row_inside[first_row]
    return np.where(resolved, row_grid[first_row], -1 - ((first_row << 8) | row_count)).astype(np.int64)


@njit(cache=True, parallel=True)
def assign_kernel(lng, lat, cover_keys, table, bits, row_grid, edges, edge_offsets):
    """Grid index per point (-1 outside every grid, -2 undecided: too near a boundary)."""
    n = len(lng)
    out = np.full(n, -1, dtype=np.int64)
    mask = np.uint64((1 << bits) - 1)
    shift = np.uint64(64 - bits)
    for i in prange(n):
        key = cover_keys[i]
        if key == 0:
            continue
        value = _lookup(table, key, shift, mask)
        if value >= 0:
            out[i] = value
            continue
        if value == MISSING:
            continue
        packed = -1 - value
        row = packed >> 8
        count = packed & 255
        x = lng[i]
        y = lat[i]
        for r in range(row, row + count):
            g = row_grid[r]
            inside, near = _crossing(x, y, edges, edge_offsets[g], edge_offsets[g + 1])
            if near:
                out[i] = -2
                break
            if inside:
                out[i] = g
                break
    return out


assign_kernel_serial = njit(cache=True)(assign_kernel.py_func)
"""The same kernel on the calling thread: for a few points (one intake request) waking the parallel pool
costs more than the work, and far more on a loaded machine."""

SERIAL_BELOW = 4096
"""Fewer points than this are assigned by :data:`assign_kernel_serial`."""
