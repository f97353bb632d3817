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

from geo import kernels
from geo.h3cells import COVER_RES, latlng_to_cells, parent

FEW_POINTS = 16
"""Up to this many points are assigned by GEOS over their candidate grids instead of the compiled kernel."""
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
    centred = _flat(_h3v.wkb_to_cells(shapely.to_wkb(geoms), res, _h3v.ContainmentMode.ContainsCentroid, flatten=True))
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


class Locator:
    """A cover and its grid polygons, compiled for fast repeated assignment."""

    def __init__(self, cover: GridCover, grid_geoms: np.ndarray):
        self.cover = cover
        self.geoms = np.asarray(grid_geoms, dtype=object)
        shapely.prepare(self.geoms)
        keys, first, count = np.unique(cover.cells, return_index=True, return_counts=True)
        self.keys = keys.astype(np.uint64)
        self.first_row = first.astype(np.int64)
        self.row_count = count.astype(np.int64)
        self.bits = max(4, int(np.ceil(np.log2(max(len(keys), 1) * 2))))
        values = kernels.pack_cells(self.first_row, self.row_count, cover.grid, cover.inside)
        self.table = kernels.build_table(self.keys, values, self.bits)
        self.edges, self.edge_offsets = polygon_edges(self.geoms)

    def assign(self, lng: np.ndarray, lat: np.ndarray, point_cells: np.ndarray) -> np.ndarray:
        """Index of the grid holding each point, or -1 (see :func:`assign_points`)."""
        lng = np.ascontiguousarray(lng, dtype=np.float64)
        lat = np.ascontiguousarray(lat, dtype=np.float64)
        if len(lng) == 0 or len(self.cover.cells) == 0:
            return np.full(len(lng), -1, dtype=np.int64)
        point_cells = np.asarray(point_cells, dtype=np.uint64)
        keys = np.where(point_cells != 0, parent(point_cells, self.cover.res), np.uint64(0))
        if len(lng) <= FEW_POINTS:
            return self._few(lng, lat, keys)
        kernel = kernels.assign_kernel_serial if len(lng) < kernels.SERIAL_BELOW else kernels.assign_kernel
        result = kernel(lng, lat, keys, self.table, self.bits, self.cover.grid, self.edges, self.edge_offsets)
        undecided = np.flatnonzero(result == -2)
        if len(undecided):
            result[undecided] = self._exact(lng[undecided], lat[undecided], keys[undecided])
        return result

    def _few(self, lng: np.ndarray, lat: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """A few points (one intake request): GEOS over each point's candidate grids.  Calling the compiled
        kernel with the city's tables costs ~6-19 ms per call whatever the number of points; this ~0.1 ms."""
        u = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        known = (keys != 0) & (self.keys[u] == keys)
        result = np.full(len(lng), -1, dtype=np.int64)
        if known.any():
            result[known] = self._exact(lng[known], lat[known], keys[known])
        return result

    def _exact(self, lng: np.ndarray, lat: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """GEOS point-in-polygon over every candidate grid of each point; the first hit wins."""
        result = np.full(len(lng), -1, dtype=np.int64)
        u = np.searchsorted(self.keys, keys)
        left, count = self.first_row[u], self.row_count[u]
        point_of = np.repeat(np.arange(len(lng)), count)
        starts = np.repeat(np.cumsum(count) - count, count)
        rows = np.repeat(left, count) + (np.arange(len(point_of)) - starts)
        candidate = self.cover.grid[rows]
        hit = shapely.intersects_xy(self.geoms[candidate], lng[point_of], lat[point_of])
        winners, first_hit = np.unique(point_of[hit], return_index=True)
        result[winners] = candidate[hit][first_hit]
        return result


def polygon_edges(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every ring segment (x1, y1, x2, y2) of each polygon, grouped by polygon, and the group offsets."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of_part = shapely.get_rings(parts, return_index=True)
    coords, ring_index = shapely.get_coordinates(rings, return_index=True)
    same = ring_index[1:] == ring_index[:-1]
    edges = np.ascontiguousarray(np.column_stack([coords[:-1][same], coords[1:][same]]))
    edge_grid = part_of[ring_of_part][ring_index[:-1][same]]
    offsets = np.searchsorted(edge_grid, np.arange(len(geoms) + 1)).astype(np.int64)
    return edges, offsets


def assign_points(
    lng: np.ndarray,
    lat: np.ndarray,
    point_cells: np.ndarray,
    cover: GridCover,
    grid_geoms: np.ndarray,
) -> np.ndarray:
    """Index into ``grid_geoms`` of the grid holding each point, or -1 if none.

    ``point_cells`` are the points' H3 cells at the cover resolution or finer
    (0 for points without valid coordinates).  For repeated calls on the same
    grids build a :class:`Locator` once instead.
    """
    return Locator(cover, grid_geoms).assign(lng, lat, point_cells)
