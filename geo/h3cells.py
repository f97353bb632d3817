"""H3 helpers: vectorised point indexing and SQL-compatible parent derivation.

Cells are stored as unsigned 64-bit integers.  The H3 bit layout keeps the
resolution in bits 52-55 and one 3-bit digit per resolution below it, with the
digits of resolutions finer than the cell's own set to 0b111.  A parent at any
coarser resolution is therefore a pure bit operation (see :func:`parent`), and
the same expression is installed as a DuckDB macro by the pipelines.
"""

from __future__ import annotations

import mmap
import multiprocessing
import os

import numpy as np
from h3ronpy import vector as _h3v

POINT_RES = 12
"""Resolution stored for every point (edge about 9.4 m)."""

COVER_RES = 11
"""Resolution of the cells that cover grid polygons (edge about 25 m)."""

PARALLEL_MIN_POINTS = 2_000_000
"""Below this many points indexing runs in-process; above it, one forked worker per core."""

_RES_SHIFT = np.uint64(52)
_RES_MASK = np.uint64(0xF) << _RES_SHIFT


def resolution(cells: np.ndarray) -> np.ndarray:
    """Resolution of each cell."""
    return ((np.asarray(cells, dtype=np.uint64) & _RES_MASK) >> _RES_SHIFT).astype(np.int8)


def parent(cells: np.ndarray, res: int) -> np.ndarray:
    """Parent cells at resolution ``res`` (cells must be at ``res`` or finer)."""
    cells = np.asarray(cells, dtype=np.uint64)
    unused = np.uint64((1 << ((15 - res) * 3)) - 1)
    return (cells & ~_RES_MASK) | (np.uint64(res) << _RES_SHIFT) | unused


def parent_sql_macro() -> str:
    """DuckDB macro equivalent of :func:`parent` (``h3_parent(cell, res)``)."""
    return (
        "CREATE OR REPLACE MACRO h3_parent(cell, res) AS "
        "(((cell::UBIGINT & ~(15::UBIGINT << 52)) | (res::UBIGINT << 52) "
        "| ((1::UBIGINT << ((15 - res::UBIGINT) * 3::UBIGINT)) - 1::UBIGINT))::UBIGINT)"
    )


def _index_chunk(lat: np.ndarray, lng: np.ndarray, res: int) -> np.ndarray:
    return np.asarray(_h3v.coordinates_to_cells(lat, lng, res), dtype=np.uint64)


_FORK_STATE: dict = {}


def _fork_worker(bounds: tuple[int, int]) -> None:
    start, stop = bounds
    state = _FORK_STATE
    out = np.frombuffer(state["out"], dtype=np.uint64)
    out[start:stop] = _index_chunk(state["lat"][start:stop], state["lng"][start:stop], state["res"])


def latlng_to_cells(lat: np.ndarray, lng: np.ndarray, res: int = POINT_RES) -> np.ndarray:
    """H3 cells of WGS84 points, as ``uint64``; invalid coordinates give 0.

    Large inputs are split across one forked process per core writing into a
    shared buffer (h3ronpy holds the GIL, so threads would not help).
    """
    lat = np.ascontiguousarray(lat, dtype=np.float64)
    lng = np.ascontiguousarray(lng, dtype=np.float64)
    n = len(lat)
    bad = ~(np.isfinite(lat) & np.isfinite(lng) & (np.abs(lat) <= 90) & (np.abs(lng) <= 180))
    if bad.any():
        lat = np.where(bad, 0.0, lat)
        lng = np.where(bad, 0.0, lng)
    workers = os.cpu_count() or 1
    if n < PARALLEL_MIN_POINTS or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        cells = _index_chunk(lat, lng, res)
    else:
        buf = mmap.mmap(-1, n * 8)
        _FORK_STATE.update(lat=lat, lng=lng, res=res, out=buf)
        try:
            step = -(-n // (workers * 4))
            chunks = [(i, min(i + step, n)) for i in range(0, n, step)]
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                pool.map(_fork_worker, chunks)
            cells = np.frombuffer(buf, dtype=np.uint64).copy()
        finally:
            _FORK_STATE.clear()
            buf.close()
    if bad.any():
        cells[bad] = 0
    return cells


def cells_to_latlng(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre (lat, lng) of each cell."""
    coords = _h3v.cells_to_coordinates(np.asarray(cells, dtype=np.uint64))
    return (
        np.asarray(coords.column("lat"), dtype=np.float64),
        np.asarray(coords.column("lng"), dtype=np.float64),
    )
