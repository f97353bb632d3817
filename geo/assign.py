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
import pyarrow as pa
import shapely
from h3ronpy import grid_disk
from h3ronpy import vector as _h3v

from geo.h3cells import COVER_RES, latlng_to_cells, parent

REACH_SCALE = 1.5
"""A cover cell's reach: its hexagon scaled by this about its centre.

H3 is not exactly nested: the points whose fine cell has parent C fill C's
children, which stick out of C's hexagon by less than one child edge
(0.378 of C's edge).  Scaling by 1.5 pushes every edge out by 0.43 of C's
edge, so the scaled hexagon holds every point that is looked up as C.
"""

BOUNDARY_STEP_DEG = 1e-4
"""Spacing (about 10 m) of the points sampled along grid boundaries to find the cells they cross."""


@dataclass(frozen=True)
class GridCover:
    """Cover rows sorted by (cell, grid): ``grid`` indexes the grid array."""

    cells: np.ndarray
    grid: np.ndarray
    inside: np.ndarray
    res: int = COVER_RES


def _flat(cells) -> np.ndarray:
    listed = pa.array(cells)
    values = listed.values if pa.types.is_list(listed.type) else listed
    return np.asarray(values, dtype=np.uint64)


def reach_polygons(cells: np.ndarray) -> np.ndarray:
    """Each cell's hexagon scaled by :data:`REACH_SCALE` about its centre."""
    hexes = shapely.from_wkb(np.asarray(_h3v.cells_to_wkb_polygons(cells), dtype=object))
    coords, owner = shapely.get_coordinates(hexes, return_index=True)
    counts = np.bincount(owner, minlength=len(hexes))
    centre = np.column_stack([np.bincount(owner, coords[:, i], len(hexes)) / counts for i in (0, 1)])
    scaled = centre[owner] + REACH_SCALE * (coords - centre[owner])
    return shapely.polygons(shapely.linearrings(scaled, indices=owner))


def candidate_cells(geoms: np.ndarray, res: int) -> np.ndarray:
    """Every cell at ``res`` whose reach may touch one of ``geoms`` (a superset; filtered later)."""
    centred = _flat(_h3v.wkb_to_cells(shapely.to_wkb(geoms), res, _h3v.ContainmentMode.ContainsCentroid,
                                      flatten=True))
    boundary = shapely.segmentize(shapely.boundary(geoms), BOUNDARY_STEP_DEG)
    coords = shapely.get_coordinates(boundary)
    edge = np.unique(latlng_to_cells(coords[:, 1], coords[:, 0], res))
    ring = _flat(grid_disk(edge, 1, flatten=True))
    return np.unique(np.concatenate([centred, ring]))


def build_cover(geoms: np.ndarray, res: int = COVER_RES) -> GridCover:
    """Cover polygons with H3 cells at ``res``; a cell is inside a polygon when its whole reach is."""
    geoms = np.asarray(geoms, dtype=object)
    cells = candidate_cells(geoms, res)
    reach = reach_polygons(cells)
    shapely.prepare(geoms)
    cell_index, grid_index = shapely.STRtree(geoms).query(reach, predicate="intersects")
    order = np.lexsort((grid_index, cell_index))
    cell_index, grid_index = cell_index[order], grid_index[order]
    single = np.bincount(cell_index, minlength=len(cells))[cell_index] == 1
    inside = np.zeros(len(cell_index), dtype=bool)
    inside[single] = shapely.contains_properly(geoms[grid_index[single]], reach[cell_index[single]])
    return GridCover(cells=cells[cell_index], grid=grid_index.astype(np.int64), inside=inside, res=res)


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
