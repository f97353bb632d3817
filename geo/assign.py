"""Point-to-grid assignment through an H3 cover of the grid polygons.

Every grid polygon is covered by H3 cells at :data:`~geo.h3cells.COVER_RES`,
and a point is looked up by the parent of its stored fine cell.
A cell that lies wholly inside exactly one grid resolves every point in it by
a lookup; only points whose cell straddles a boundary (or lies at the edge of
the area) are checked exactly with a point-in-polygon test.

Tie rule: a point on a boundary shared by several grids (or inside several
overlapping grids) goes to the grid that comes first in the caller's order;
the pipelines pass grids sorted by ``grid_code``, so the smallest code wins.
Points on the outer boundary of a grid count as inside it (closed polygons).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from h3ronpy import vector as _h3v

from geo.h3cells import COVER_RES, POINT_RES, latlng_to_cells, parent

EDGE_EPS_DEG = 1e-7
"""Margin (about 1 cm) that keeps "inside" cells clear of the boundary."""


@dataclass(frozen=True)
class GridCover:
    """Cover rows sorted by (cell, grid): ``grid`` indexes the grid array."""

    cells: np.ndarray
    grid: np.ndarray
    inside: np.ndarray
    res: int = COVER_RES


def _cells_per_geometry(geoms: np.ndarray, res: int, mode) -> tuple[np.ndarray, np.ndarray]:
    listed = pa.array(_h3v.wkb_to_cells(shapely.to_wkb(geoms), res, mode))
    offsets = np.asarray(listed.offsets)
    cells = np.asarray(listed.values, dtype=np.uint64)
    owner = np.repeat(np.arange(len(geoms), dtype=np.int64), np.diff(offsets))
    return cells, owner


def build_cover(geoms: np.ndarray, res: int = COVER_RES, point_res: int = POINT_RES) -> GridCover:
    """Cover polygons with H3 cells at ``res``, marking the cells wholly inside one polygon.

    H3 is not exactly nested: the points whose ``point_res`` cell has parent C
    fill C's children, which stick out of C's own hexagon.  Points are looked
    up by that parent, so a cell counts as inside a polygon only when all of
    its children are, and lists as candidates every polygon touching a child.
    """
    geoms = np.asarray(geoms, dtype=object)
    inner = shapely.buffer(geoms, -EDGE_EPS_DEG, join_style="mitre")
    outer = shapely.buffer(geoms, EDGE_EPS_DEG, join_style="mitre")
    in_cells, in_owner = _cells_per_geometry(inner, point_res, _h3v.ContainmentMode.ContainsBoundary)
    out_cells, out_owner = _cells_per_geometry(outer, point_res, _h3v.ContainmentMode.IntersectsBoundary)
    coords, vertex_owner = shapely.get_coordinates(geoms, return_index=True)
    vertex_cells = latlng_to_cells(coords[:, 1], coords[:, 0], point_res)
    rows = pd.DataFrame(
        {
            "cell": parent(np.concatenate([out_cells, vertex_cells]), res),
            "grid": np.concatenate([out_owner, vertex_owner]),
        }
    ).drop_duplicates()
    children_inside = pd.DataFrame({"cell": parent(in_cells, res), "grid": in_owner}).value_counts().rename("children")
    full = children_inside[children_inside == 7 ** (point_res - res)].index
    rows["inside"] = pd.MultiIndex.from_frame(rows[["cell", "grid"]]).isin(full)
    rows = rows.sort_values(["cell", "grid"], kind="stable")
    return GridCover(
        cells=rows["cell"].to_numpy(np.uint64),
        grid=rows["grid"].to_numpy(np.int64),
        inside=rows["inside"].to_numpy(bool),
        res=res,
    )


def assign_points(
    lng: np.ndarray,
    lat: np.ndarray,
    point_cells: np.ndarray,
    cover: GridCover,
    grid_geoms: np.ndarray,
) -> np.ndarray:
    """Index into ``grid_geoms`` of the grid holding each point, or -1 if none.

    ``point_cells`` are the points' H3 cells at the cover resolution or finer
    (0 for points without valid coordinates).  ``grid_geoms`` should be
    prepared (``shapely.prepare``) for speed; they are prepared here if not.
    """
    lng = np.asarray(lng, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    n = len(lng)
    result = np.full(n, -1, dtype=np.int64)
    if n == 0 or len(cover.cells) == 0:
        return result
    valid = np.asarray(point_cells) != 0
    cover_parent = parent(point_cells, cover.res)
    left = np.searchsorted(cover.cells, cover_parent, side="left")
    count = np.searchsorted(cover.cells, cover_parent, side="right") - left
    count[~valid] = 0

    first = np.minimum(left, len(cover.cells) - 1)
    resolved = (count == 1) & cover.inside[first]
    result[resolved] = cover.grid[first[resolved]]

    pending = np.flatnonzero((count > 0) & ~resolved)
    if len(pending) == 0:
        return result
    per_point = count[pending]
    point_of = np.repeat(pending, per_point)
    starts = np.repeat(np.cumsum(per_point) - per_point, per_point)
    rows = np.repeat(left[pending], per_point) + (np.arange(len(point_of)) - starts)
    candidate = cover.grid[rows]
    geoms = np.asarray(grid_geoms, dtype=object)
    shapely.prepare(geoms)
    hit = shapely.intersects_xy(geoms[candidate], lng[point_of], lat[point_of])
    hit_points = point_of[hit]
    hit_grids = candidate[hit]
    # Candidates are ordered by grid index within each point: the first hit wins.
    winners, first_hit = np.unique(hit_points, return_index=True)
    result[winners] = hit_grids[first_hit]
    return result
